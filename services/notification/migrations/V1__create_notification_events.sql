-- notification_db (new; spec data-model.md §6 recommends persisting notifications with a unique
-- event_id). The original keeps the same data in memory; the HTTP shape (http-api.md §7) is unchanged.
CREATE TABLE notification_events (
  -- Insertion order: breaks receivedAt ties, so "newest first" and the trim agree exactly.
  seq         BIGINT       GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id    UUID         NOT NULL,             -- envelope event_id (synthetic: a new random one)
  event_type  VARCHAR(80)  NOT NULL,
  order_id    UUID         NOT NULL,
  payment_id  UUID         NOT NULL,
  reason      TEXT,                              -- null for PaymentSucceeded
  trace_id    UUID,                              -- envelope trace_id (readers accept null)
  user_id     TEXT,                              -- identity.user_id; null without identity
  roles       TEXT[]       NOT NULL DEFAULT '{}',
  occurred_at TIMESTAMPTZ  NOT NULL,
  received_at TIMESTAMPTZ  NOT NULL,
  -- The same event re-published under another message_id is stored once.
  CONSTRAINT uk_notification_events_event_id UNIQUE (event_id),
  CONSTRAINT ck_notification_events_event_type CHECK (event_type IN ('PaymentSucceeded', 'PaymentFailed')),
  CONSTRAINT ck_notification_events_reason CHECK (event_type = 'PaymentFailed' OR reason IS NULL)
);
-- The listing (newest first, optionally for one order) and the trim read these in index order.
CREATE INDEX idx_notification_events_received ON notification_events (received_at DESC, seq DESC);
CREATE INDEX idx_notification_events_order_received ON notification_events (order_id, received_at DESC, seq DESC);

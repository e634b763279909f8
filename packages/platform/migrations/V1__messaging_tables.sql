-- Kernel tables of every service that publishes or consumes events (spec data-model.md §2).
-- Written with IF NOT EXISTS so a database the original already migrated (Flyway V1/V2 of
-- order_db hold outbox_events and consumed_messages) is adopted, never re-created.

CREATE TABLE IF NOT EXISTS outbox_events (
  id          UUID         PRIMARY KEY,          -- = envelope event_id = AMQP message_id
  event_type  VARCHAR(80)  NOT NULL,
  routing_key VARCHAR(120) NOT NULL,
  payload     TEXT         NOT NULL,             -- the envelope JSON, published byte for byte
  status      VARCHAR(20)  NOT NULL,             -- PENDING | SENT
  created_at  TIMESTAMPTZ  NOT NULL,
  sent_at     TIMESTAMPTZ,
  last_error  TEXT
);
-- Recommended additions: attempts + back-off instead of retrying a poison row on every poll.
ALTER TABLE outbox_events ADD COLUMN IF NOT EXISTS attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox_events ADD COLUMN IF NOT EXISTS next_attempt_at TIMESTAMPTZ;
CREATE INDEX IF NOT EXISTS idx_outbox_status_created_at ON outbox_events (status, created_at);
-- The relay's claim query reads only pending rows, oldest first.
CREATE INDEX IF NOT EXISTS idx_outbox_pending_created_at ON outbox_events (created_at) WHERE status = 'PENDING';
DO $$ BEGIN
  ALTER TABLE outbox_events ADD CONSTRAINT ck_outbox_events_status CHECK (status IN ('PENDING', 'SENT'));
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;

CREATE TABLE IF NOT EXISTS consumed_messages (
  id           UUID         PRIMARY KEY,
  message_id   VARCHAR(128) NOT NULL,
  consumer     VARCHAR(80)  NOT NULL,
  processed_at TIMESTAMPTZ  NOT NULL,
  CONSTRAINT uk_consumed_messages_message_consumer UNIQUE (message_id, consumer)
);

-- Every operator action on a dead-letter queue (replay, discard), with who and why.
CREATE TABLE IF NOT EXISTS dlq_audit (
  id              UUID         PRIMARY KEY,
  queue           VARCHAR(200) NOT NULL,
  action          VARCHAR(20)  NOT NULL CHECK (action IN ('REPLAYED', 'DISCARDED')),
  message_id      VARCHAR(128),
  event_type      VARCHAR(80),
  dlq_reason      TEXT,
  reason          TEXT,
  actor           VARCHAR(128) NOT NULL,
  target          VARCHAR(200),
  created_at      TIMESTAMPTZ  NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_dlq_audit_created_at ON dlq_audit (created_at DESC);

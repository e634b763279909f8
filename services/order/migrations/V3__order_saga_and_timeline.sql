-- The saga's order side: what the deadline sweeper and the timeline need, plus the spec's
-- recommended CHECK constraints (data-model.md §1). All additive: the original's columns keep
-- their names and types. CHECKs are NOT VALID so that adopting a database the original filled
-- never fails on old rows; they are enforced for every row written from now on.

-- Saga context of each order: the envelope trace_id and the buyer's roles, copied into the
-- InventoryReleaseRequested the deadline sweeper writes (events.md §5: one trace per saga);
-- why and by what the status last changed (the late-result rule reads status_cause).
ALTER TABLE orders ADD COLUMN IF NOT EXISTS trace_id UUID;
ALTER TABLE orders ADD COLUMN IF NOT EXISTS identity_roles JSONB;
ALTER TABLE orders ADD COLUMN IF NOT EXISTS status_reason VARCHAR(255);
ALTER TABLE orders ADD COLUMN IF NOT EXISTS status_cause VARCHAR(40);
ALTER TABLE orders ADD COLUMN IF NOT EXISTS status_changed_at TIMESTAMPTZ;

ALTER TABLE orders ADD CONSTRAINT ck_orders_status
  CHECK (status IN ('NEW', 'RESERVED', 'CONFIRMED', 'FAILED')) NOT VALID;
ALTER TABLE orders ADD CONSTRAINT ck_orders_total_amount
  CHECK (total_amount >= 0) NOT VALID;

-- The deadline sweeper looks only at orders still in flight, oldest first.
CREATE INDEX IF NOT EXISTS idx_orders_in_flight_created_at ON orders (created_at)
  WHERE status IN ('NEW', 'RESERVED');

-- Items come back in request order (http-api.md §2.1 recommendation). The original's rows have
-- no position and keep 0 (their order was undefined there too).
ALTER TABLE order_items ADD COLUMN IF NOT EXISTS line_no INTEGER NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS idx_order_items_order_id_line_no ON order_items (order_id, line_no);
ALTER TABLE order_items ADD CONSTRAINT ck_order_items_quantity CHECK (quantity >= 1) NOT VALID;
ALTER TABLE order_items ADD CONSTRAINT ck_order_items_price CHECK (price >= 0.01) NOT VALID;

-- The order timeline: every status change, and every result that changed nothing (ignored),
-- so "what happened to order X?" is one query. Rows of one order are written under that
-- order's row lock, so the identity column orders them causally.
CREATE TABLE IF NOT EXISTS order_status_history (
  id          BIGINT       GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  order_id    UUID         NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  from_status VARCHAR(20),                        -- NULL for the creation
  to_status   VARCHAR(20)  NOT NULL,              -- = from_status when ignored
  at          TIMESTAMPTZ  NOT NULL,              -- millisecond precision (a JS Date)
  cause       VARCHAR(40)  NOT NULL,              -- HTTP | DEADLINE | the consumed event_type
  message_id  VARCHAR(128),                       -- the consumed message's dedupe key
  reason      VARCHAR(255),                       -- failure / release reason, when there is one
  ignored     BOOLEAN      NOT NULL DEFAULT FALSE,
  note        VARCHAR(40),                        -- why ignored: AUDIT_ONLY | NOT_APPLICABLE | LATE
  emitted     VARCHAR(80),                        -- event written to the outbox in the same transaction
  CONSTRAINT ck_order_status_history_to CHECK (to_status IN ('NEW', 'RESERVED', 'CONFIRMED', 'FAILED')),
  CONSTRAINT ck_order_status_history_from CHECK (from_status IS NULL OR from_status IN ('NEW', 'RESERVED', 'CONFIRMED', 'FAILED')),
  CONSTRAINT ck_order_status_history_cause CHECK (cause IN ('HTTP', 'DEADLINE', 'InventoryReserved', 'InventoryFailed',
    'InventoryReleased', 'PaymentSucceeded', 'PaymentFailed')),
  CONSTRAINT ck_order_status_history_note CHECK (note IS NULL OR note IN ('AUDIT_ONLY', 'NOT_APPLICABLE', 'LATE')),
  CONSTRAINT ck_order_status_history_ignored CHECK (ignored = (note IS NOT NULL))
);
CREATE INDEX IF NOT EXISTS idx_order_status_history_order_id ON order_status_history (order_id, id);

-- order_db as the original's Flyway V1 created it (spec data-model.md §2), exactly.
-- IF NOT EXISTS: a database the original already migrated is adopted, never re-created
-- (data-model.md §1). outbox_events and consumed_messages are the kernel's
-- (packages/platform/migrations), applied before this file.

CREATE TABLE IF NOT EXISTS orders (
  id           UUID           PRIMARY KEY,
  user_id      VARCHAR(64)    NOT NULL,
  total_amount NUMERIC(12, 2) NOT NULL,
  status       VARCHAR(20)    NOT NULL,
  created_at   TIMESTAMPTZ    NOT NULL
);

CREATE TABLE IF NOT EXISTS order_items (
  id       UUID           PRIMARY KEY,
  order_id UUID           NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  sku_id   VARCHAR(64)    NOT NULL,
  quantity INTEGER        NOT NULL,
  price    NUMERIC(12, 2) NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_order_items_order_id ON order_items (order_id);

CREATE TABLE IF NOT EXISTS idempotency_keys (
  idempotency_key VARCHAR(128) PRIMARY KEY,
  order_id        UUID         NOT NULL,
  status          VARCHAR(20)  NOT NULL,
  created_at      TIMESTAMPTZ  NOT NULL,
  expires_at      TIMESTAMPTZ  NOT NULL
);

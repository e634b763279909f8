-- payment_db (spec data-model.md §4), as the original's Flyway V1 lays it out. IF NOT EXISTS:
-- a payment_db the original already migrated is adopted, never re-created (data-model §1).
-- consumed_messages (the original's V2) is the kernel's table (platform/V1__messaging_tables.sql).
CREATE TABLE IF NOT EXISTS payment_records (
  id         UUID         PRIMARY KEY,   -- payment_id in PaymentSucceeded / PaymentFailed
  order_id   UUID         NOT NULL,
  status     VARCHAR(20)  NOT NULL,      -- SUCCEEDED | FAILED
  reason     VARCHAR(255),               -- failure reason; null on success
  created_at TIMESTAMPTZ  NOT NULL
);

-- Reservations (spec data-model.md §3). consumed_messages, which the original creates in this
-- migration, is the kernel's table (platform/V1__messaging_tables.sql) and is not repeated here.
CREATE TABLE inventory_reservations (
  id         UUID         PRIMARY KEY,
  order_id   UUID         NOT NULL,
  status     VARCHAR(20)  NOT NULL,
  reason     VARCHAR(255),
  created_at TIMESTAMPTZ  NOT NULL,
  -- One reservation per order: a concurrent duplicate hits this and reuses the winner's row.
  CONSTRAINT uk_inventory_reservations_order_id UNIQUE (order_id),
  CONSTRAINT ck_inventory_reservations_status CHECK (status IN ('RESERVED', 'FAILED', 'RELEASED'))
);

CREATE TABLE inventory_reservation_items (
  id             UUID         PRIMARY KEY,
  reservation_id UUID         NOT NULL REFERENCES inventory_reservations (id) ON DELETE CASCADE,
  sku_id         VARCHAR(64)  NOT NULL,
  quantity       INTEGER      NOT NULL,
  CONSTRAINT ck_inventory_reservation_items_quantity_positive CHECK (quantity >= 1)
);
CREATE INDEX idx_inventory_reservation_items_reservation_id ON inventory_reservation_items (reservation_id);

-- Release audit (spec data-model.md §3). created_at is written with millisecond precision by
-- the application, so the millisecond cursor of http-api.md §3.5 is exact.
CREATE TABLE inventory_release_events (
  id             UUID         PRIMARY KEY,
  order_id       UUID         NOT NULL,
  reservation_id UUID         NOT NULL,
  reason         VARCHAR(255) NOT NULL,
  created_at     TIMESTAMPTZ  NOT NULL,
  CONSTRAINT uk_inventory_release_events_order_id UNIQUE (order_id)
);
CREATE INDEX idx_inventory_release_events_created_at ON inventory_release_events (created_at);

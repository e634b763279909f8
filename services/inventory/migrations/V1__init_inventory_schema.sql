-- inventory_db (spec data-model.md §3), as the original's Flyway V1..V4 lay it out, plus the
-- recommended CHECK constraints (additive): quantities never go below zero, so even a bug in
-- the reservation code cannot oversell — the database refuses the write.
CREATE TABLE sku_stocks (
  sku_id        VARCHAR(64)  PRIMARY KEY,
  available_qty INTEGER      NOT NULL,
  reserved_qty  INTEGER      NOT NULL DEFAULT 0,
  updated_at    TIMESTAMPTZ  NOT NULL,
  CONSTRAINT ck_sku_stocks_available_non_negative CHECK (available_qty >= 0),
  CONSTRAINT ck_sku_stocks_reserved_non_negative CHECK (reserved_qty >= 0)
);

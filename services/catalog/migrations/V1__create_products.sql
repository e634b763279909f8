-- catalog_db (spec data-model.md §6, "Recommended: a small catalog_db").
-- price is an unconstrained NUMERIC: the contract stores the price "as sent (not rounded)".
CREATE TABLE products (
  sku_id      VARCHAR(64)  PRIMARY KEY,
  name        TEXT         NOT NULL,
  description TEXT         NOT NULL DEFAULT '',
  price       NUMERIC      NOT NULL CHECK (price > 0),
  active      BOOLEAN      NOT NULL DEFAULT TRUE,
  updated_at  TIMESTAMPTZ  NOT NULL
);
-- The list endpoint filters on active and sorts by sku_id (C collation = simple string order).
CREATE INDEX idx_products_active_sku ON products (active, sku_id COLLATE "C");

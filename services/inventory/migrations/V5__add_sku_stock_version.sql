-- New (additive): a per-SKU version, incremented by every statement that changes the row. The
-- stock cache stores it with each value and refuses to replace a newer entry with an older one
-- (see README "Cache consistency"). Starts at 1 for existing rows.
ALTER TABLE sku_stocks ADD COLUMN version BIGINT NOT NULL DEFAULT 1;

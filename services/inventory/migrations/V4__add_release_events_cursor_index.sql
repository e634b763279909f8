-- Backs the keyset pagination, the sorted offset listing and the CSV export
-- (ORDER BY created_at DESC, id DESC).
CREATE INDEX IF NOT EXISTS idx_inventory_release_events_created_at_id_desc
  ON inventory_release_events (created_at DESC, id DESC);

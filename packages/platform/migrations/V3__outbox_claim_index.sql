-- The relay's claim (`status = 'PENDING' … ORDER BY created_at, id LIMIT n FOR UPDATE SKIP LOCKED`)
-- reads this index in its own order and stops after n rows. Its entries for rows already SENT stay
-- in the index until VACUUM; an index scan marks them dead as it passes (so the next claim skips
-- them), while the bitmap scan the planner preferred over the old (created_at) index visited every
-- one of them and their heap pages on every claim: 0.5–1.5 ms per claim after 8,000 sent rows with
-- autovacuum off, growing (bench/README.md, session 2). The relay also turns bitmap scans off for
-- its claim (messaging/outbox.ts).
CREATE INDEX IF NOT EXISTS idx_outbox_pending_created_at_id ON outbox_events (created_at, id) WHERE status = 'PENDING';
DROP INDEX IF EXISTS idx_outbox_pending_created_at;

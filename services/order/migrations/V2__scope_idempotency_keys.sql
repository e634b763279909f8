-- Strict idempotency (spec http-api.md §2.1 "recommended hardening", data-model.md §2):
-- the key is scoped to the user, remembers a fingerprint of the request body, and expires.

ALTER TABLE idempotency_keys ADD COLUMN IF NOT EXISTS user_id VARCHAR(64);
-- SHA-256 hex of the normalized body. NULL only on rows the original wrote: such a key replays
-- without a body comparison (the original never compared bodies), until it expires.
ALTER TABLE idempotency_keys ADD COLUMN IF NOT EXISTS request_hash VARCHAR(64);

-- Adoption of the original's rows: the key's owner is its order's buyer. A key whose order is
-- gone can never be replayed correctly, so it is dropped.
UPDATE idempotency_keys k SET user_id = o.user_id FROM orders o WHERE o.id = k.order_id AND k.user_id IS NULL;
DELETE FROM idempotency_keys WHERE user_id IS NULL;
ALTER TABLE idempotency_keys ALTER COLUMN user_id SET NOT NULL;

-- The original's global primary key (Flyway/PostgreSQL default name) becomes (user_id, key):
-- another user's key never matches, so it can never disclose their order.
ALTER TABLE idempotency_keys DROP CONSTRAINT IF EXISTS idempotency_keys_pkey;
ALTER TABLE idempotency_keys ADD CONSTRAINT pk_idempotency_keys PRIMARY KEY (user_id, idempotency_key);
ALTER TABLE idempotency_keys ADD CONSTRAINT ck_idempotency_keys_status CHECK (status IN ('COMPLETED'));
ALTER TABLE idempotency_keys ADD CONSTRAINT ck_idempotency_keys_expiry CHECK (expires_at > created_at);

-- The purge job deletes by expiry.
CREATE INDEX IF NOT EXISTS idx_idempotency_keys_expires_at ON idempotency_keys (expires_at);

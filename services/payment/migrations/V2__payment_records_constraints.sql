-- Recommended additions (data-model.md §1 and §4), additive to the original's schema.
-- Adopting a database the original wrote: duplicates per order_id must be removed first, or this
-- file fails and the service refuses to boot (loudly, with nothing half-applied).

-- At most one payment per order: the outcome is decided ONCE and a concurrent second decision
-- for the same order waits on this index and then reuses the winner's row (never a 500).
CREATE UNIQUE INDEX IF NOT EXISTS uk_payment_records_order_id ON payment_records (order_id);

DO $$ BEGIN
  ALTER TABLE payment_records ADD CONSTRAINT ck_payment_records_status CHECK (status IN ('SUCCEEDED', 'FAILED'));
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;

-- A failure always says why; a success never carries a reason (events.md §4.6–4.7).
DO $$ BEGIN
  ALTER TABLE payment_records ADD CONSTRAINT ck_payment_records_reason CHECK (
    (status = 'SUCCEEDED' AND reason IS NULL) OR (status = 'FAILED' AND reason IS NOT NULL)
  );
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;

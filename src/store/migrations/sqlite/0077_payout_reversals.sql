-- Payout reversals (POST /v1/payouts/{id}/reverse, api/payouts.c): a reversal is a payout of
-- its own with a negative amount that names the payout it reverses (original_payout); the
-- reversed payout names it (reversed_by), and is reversed at most once.
ALTER TABLE payouts ADD COLUMN original_payout TEXT;
ALTER TABLE payouts ADD COLUMN reversed_by TEXT;

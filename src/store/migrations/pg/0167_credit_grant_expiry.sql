-- A credit grant's natural expiry (api/billing_credits.c, credit_grants_expire_tick): when its
-- expires_at passes by itself, the scheduler appends a credits_expired debit of what was left
-- and sets expiry_recorded_at in the same write, guarded by "IS NULL", so that the debit is
-- written once however often (or on however many nodes) the job runs. POST …/expire sets it
-- too. NULL: not recorded yet.
ALTER TABLE billing_credit_grants ADD COLUMN expiry_recorded_at BIGINT;
CREATE INDEX billing_credit_grants_expiry_due ON billing_credit_grants (expires_at)
  WHERE expires_at IS NOT NULL AND expiry_recorded_at IS NULL AND voided_at IS NULL;

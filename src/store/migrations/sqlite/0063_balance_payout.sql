-- The automatic payout that paid a balance transaction out (GET /v1/balance_transactions?payout=,
-- Stripe's reconciliation of an automatic payout): set by the payout's own write on every
-- available transaction of its currency that no earlier automatic payout took, and on the
-- payout's own (so each payout's transactions sum to zero). NULL for the rest: pending funds,
-- and every transaction of a merchant whose payouts are manual (Stripe filters only automatic
-- payouts). Transactions made before this carry none.
ALTER TABLE balance_transactions ADD COLUMN payout TEXT;
CREATE INDEX balance_transactions_payout ON balance_transactions (merchant_id, payout, id)
  WHERE payout IS NOT NULL;

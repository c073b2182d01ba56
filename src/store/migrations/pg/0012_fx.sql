-- PostgreSQL port of migrations/sqlite/0012_fx.sql: the same columns; INTEGER is BIGINT.
-- Multi-currency settlement (issue 7): what a converted balance transaction records, so that later
-- movements of the same charge (refunds, refund failures, disputes) convert at the charge's rate
-- and `tender verify` can recompute the fx account from the rows alone.
--   presentment_amount / presentment_currency: the amount in the currency the cardholder paid,
--     signed like `amount` (a refund's is negative); NULL when no conversion happened.
--   fx_base / fx_quote / fx_rate_e12 / fx_valid_from: the rate used (src/money/fx.h struct fx_rate:
--     1 major base = fx_rate_e12 / 10^12 major quote; base = presentment, quote = settlement).
--     exchange_rate (0004) keeps the same rate as decimal text for the API.
--   charge_id: the charge a charge/refund/refund_failure balance transaction belongs to, so the
--     refunds of one charge can be summed (the refund remainder rule in src/ledger/ledger.h).
ALTER TABLE balance_transactions ADD COLUMN presentment_amount BIGINT;
ALTER TABLE balance_transactions ADD COLUMN presentment_currency TEXT;
ALTER TABLE balance_transactions ADD COLUMN fx_base TEXT;
ALTER TABLE balance_transactions ADD COLUMN fx_quote TEXT;
ALTER TABLE balance_transactions ADD COLUMN fx_rate_e12 BIGINT;
ALTER TABLE balance_transactions ADD COLUMN fx_valid_from BIGINT;
ALTER TABLE balance_transactions ADD COLUMN charge_id TEXT;
CREATE INDEX balance_transactions_charge ON balance_transactions (merchant_id, charge_id);

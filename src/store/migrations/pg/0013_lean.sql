-- Leaner writes per payment (issue 10), the PostgreSQL twin of sqlite/0013_lean.sql. The SQLite
-- file also turns events and idempotency_keys from WITHOUT ROWID into rowid tables; PostgreSQL
-- tables are heaps already (large values go to TOAST), so only the index changes apply here.
-- journal_entries_account: no query reads journal entries by account.
DROP INDEX journal_entries_account;

-- Partial customer indexes: a payment without a customer costs nothing there, and a list
-- filtered by customer (customer = $n) can still use them.
DROP INDEX payment_intents_customer;
CREATE INDEX payment_intents_customer ON payment_intents (merchant_id, customer)
  WHERE customer IS NOT NULL;
DROP INDEX charges_customer;
CREATE INDEX charges_customer ON charges (merchant_id, customer, created)
  WHERE customer IS NOT NULL;
DROP INDEX payment_methods_customer;
CREATE INDEX payment_methods_customer ON payment_methods (merchant_id, customer)
  WHERE customer IS NOT NULL;

-- charges_intent and balance_transactions_source served only the list filters
-- "($n IS NULL OR payment_intent = $n)" and "($n IS NULL OR source = $n)". SQLite never answers
-- those from them (EXPLAIN QUERY PLAN: it walks the merchant's list index and filters) and
-- PostgreSQL only in a custom plan for one value; each payment paid one insert into each.
DROP INDEX charges_intent;
-- balance_transactions_source stays: refunds, refund failures and disputes look up the
-- balance transaction of their charge or refund by source (ledger.c bt_fx_load, dispute.c).

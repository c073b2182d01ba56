-- Leaner writes per payment (issue 10; measured in bench/results.md, "Profile (session 12)").
--
-- 1. events and idempotency_keys become rowid tables. A WITHOUT ROWID table keeps its rows in
--    an index b-tree, where SQLite stores at most ~1,000 bytes of a row on a 4 KiB page and
--    spills the rest to an overflow page: every event (1.1–1.7 KB of object JSON) and every
--    saved response took a leaf slot plus a mostly empty overflow page, ~4.5 KiB on disk and
--    two WAL frames each. In a rowid table the row stays on its (append-only) leaf, two or
--    three per page; the primary key becomes a small separate unique index.
-- 2. journal_entries_account is dropped: no query reads journal entries by account (the
--    verifier scans and groups), and each payment put eight entries into it.
-- 3. The customer indexes are partial (customer IS NOT NULL): a list filtered by customer
--    (customer = $n) can still use them, and a payment without a customer costs nothing there.
-- 4. charges_intent is dropped (below).

CREATE TABLE events_0013 (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
  type TEXT NOT NULL,
  object_id TEXT NOT NULL,
  data_object TEXT NOT NULL,
  previous_attributes TEXT,
  request_id TEXT,
  idempotency_key TEXT,
  pending_webhooks INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (merchant_id, id)
);
INSERT INTO events_0013 (merchant_id, id, created, type, object_id, data_object,
  previous_attributes, request_id, idempotency_key, pending_webhooks)
  SELECT merchant_id, id, created, type, object_id, data_object, previous_attributes, request_id,
  idempotency_key, pending_webhooks FROM events ORDER BY created, id;
DROP TABLE events;
ALTER TABLE events_0013 RENAME TO events;
CREATE INDEX events_list ON events (merchant_id, created DESC, id DESC);
CREATE INDEX events_object ON events (merchant_id, object_id);

CREATE TABLE idempotency_keys_0013 (
  merchant_id TEXT NOT NULL,
  livemode INTEGER NOT NULL,
  idem_key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  request_id TEXT NOT NULL,
  status INTEGER NOT NULL,
  body TEXT NOT NULL,
  object_id TEXT,
  created INTEGER NOT NULL,
  PRIMARY KEY (merchant_id, livemode, idem_key)
);
INSERT INTO idempotency_keys_0013 (merchant_id, livemode, idem_key, request_hash, request_id,
  status, body, object_id, created)
  SELECT merchant_id, livemode, idem_key, request_hash, request_id, status, body, object_id,
  created FROM idempotency_keys ORDER BY created;
DROP TABLE idempotency_keys;
ALTER TABLE idempotency_keys_0013 RENAME TO idempotency_keys;
CREATE INDEX idempotency_keys_created ON idempotency_keys (created);

DROP INDEX journal_entries_account;

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

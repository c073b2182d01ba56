-- PostgreSQL port of migrations/sqlite/0016_holds_by_charge.sql: the test acquirer's holds are
-- keyed by charge (time-ordered ids, appended to the index's right edge) instead of by the random
-- six-character approval code, which need not be unique.
ALTER TABLE acquirer_holds DROP CONSTRAINT acquirer_holds_pkey;
ALTER TABLE acquirer_holds ADD PRIMARY KEY (merchant_id, charge_id);

-- Rolling reserves (ledger/ledger_reserve.h). reserve_settings is the operator's history of a
-- merchant's reserve (tender merchant reserve): append-only, one row per change, the newest
-- (highest seq) in force; percent_bps 0 and days 0: off. reserve_holds has one row per charge a
-- reserve withheld from: id is the hold's "reserved_funds" balance transaction (−amount),
-- release_at when the scheduler gives it back, released_balance_transaction the release's
-- (+amount), set once by the write that releases it (the guard that makes a release happen once).
CREATE TABLE reserve_settings (
  merchant_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  created INTEGER NOT NULL,
  percent_bps INTEGER NOT NULL,
  days INTEGER NOT NULL,
  PRIMARY KEY (merchant_id, seq)
) WITHOUT ROWID;
CREATE TABLE reserve_holds (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
  charge TEXT NOT NULL,
  charge_balance_transaction TEXT NOT NULL,
  currency TEXT NOT NULL,
  amount INTEGER NOT NULL,
  percent_bps INTEGER NOT NULL,
  release_at INTEGER NOT NULL,
  released_balance_transaction TEXT,
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
CREATE INDEX reserve_holds_due ON reserve_holds (release_at)
  WHERE released_balance_transaction IS NULL;
CREATE INDEX reserve_holds_charge ON reserve_holds (merchant_id, charge_balance_transaction);

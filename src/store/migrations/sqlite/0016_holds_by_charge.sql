-- The test acquirer's books are keyed by charge, not by approval code (issue 10).
--
-- Approval codes are six random characters, so holds keyed by (merchant_id, auth_code) went into
-- random places of their b-tree: every payment dirtied its own leaf page, ~28 of the ~170 WAL
-- frames of a group commit of ~21 confirms (bench/results.md). Charge ids are time-ordered, so
-- holds keyed by them are appended where the last one went. A charge has exactly one hold, and the
-- capture, release and refund of a hold all start from the charge; an approval code is only what
-- the issuer answered and, as on a real network, need not be unique.
CREATE TABLE acquirer_holds_0016 (
  merchant_id TEXT NOT NULL,
  auth_code TEXT NOT NULL,
  charge_id TEXT NOT NULL,
  amount INTEGER NOT NULL,
  currency TEXT NOT NULL,
  captured INTEGER NOT NULL DEFAULT 0,
  refunded INTEGER NOT NULL DEFAULT 0,
  released INTEGER NOT NULL DEFAULT 0,
  card_behavior INTEGER NOT NULL DEFAULT 0,
  created INTEGER NOT NULL,
  CHECK (captured <= amount AND refunded <= captured),
  PRIMARY KEY (merchant_id, charge_id)
) WITHOUT ROWID;
INSERT INTO acquirer_holds_0016 (merchant_id, auth_code, charge_id, amount, currency, captured,
  refunded, released, card_behavior, created)
  SELECT merchant_id, auth_code, charge_id, amount, currency, captured, refunded, released,
  card_behavior, created FROM acquirer_holds;
DROP TABLE acquirer_holds;
ALTER TABLE acquirer_holds_0016 RENAME TO acquirer_holds;

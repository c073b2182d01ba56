-- Refunds to the customer's bank account (api/refunds.c, api/cash_balance.c): a refund of a
-- customer's cash balance itself has no charge, so `charge` may be NULL; it names its
-- `customer` instead. `instructions_email` is where the request for the customer's bank details
-- went (a refund waiting in requires_action until then; its settle_at is when it expires).
-- SQLite cannot drop a NOT NULL: the table is rebuilt with every column and index it had.
CREATE TABLE refunds_new (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
  charge TEXT,
  payment_intent TEXT,
  amount INTEGER NOT NULL CHECK (amount > 0),
  currency TEXT NOT NULL,
  status TEXT NOT NULL,
  reason TEXT,
  description TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  balance_transaction TEXT,
  failure_balance_transaction TEXT,
  failure_reason TEXT,
  settle_at INTEGER,
  transfer_reversal TEXT,
  customer TEXT,
  instructions_email TEXT,
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
INSERT INTO refunds_new (merchant_id, id, created, charge, payment_intent, amount, currency,
  status, reason, description, metadata, balance_transaction, failure_balance_transaction,
  failure_reason, settle_at, transfer_reversal)
  SELECT merchant_id, id, created, charge, payment_intent, amount, currency, status, reason,
  description, metadata, balance_transaction, failure_balance_transaction, failure_reason,
  settle_at, transfer_reversal FROM refunds;
DROP TABLE refunds;
ALTER TABLE refunds_new RENAME TO refunds;
CREATE INDEX refunds_charge ON refunds (merchant_id, charge);
CREATE INDEX refunds_settle ON refunds (settle_at) WHERE settle_at IS NOT NULL;

-- Quotes (api/quotes.c): Stripe's quote, a price offered to a customer that becomes an invoice
-- (one-time lines) or a subscription (recurring lines) when it is accepted. line_items: the
-- JSON array of its lines as priced when last written ({id, price, quantity, unit_amount,
-- description, product, interval, interval_count}); discounts_spec: the discounts asked for
-- ([{coupon} | {promotion_code}]), redeemed by the invoice or subscription made on acceptance
-- (their ids then in discounts). number: QT-{customer's invoice prefix}-{count}-1, once open.
CREATE TABLE quotes (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
  status TEXT NOT NULL,
  customer TEXT NOT NULL,
  currency TEXT NOT NULL,
  description TEXT,
  header TEXT,
  footer TEXT,
  expires_at INTEGER NOT NULL,
  number TEXT,
  line_items TEXT NOT NULL,
  discounts_spec TEXT NOT NULL DEFAULT '[]',
  discounts TEXT NOT NULL DEFAULT '[]',
  sub_description TEXT,
  sub_trial_days INTEGER,
  sub_metadata TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  amount_subtotal INTEGER NOT NULL,
  amount_total INTEGER NOT NULL,
  computed TEXT NOT NULL,
  finalized_at INTEGER,
  accepted_at INTEGER,
  canceled_at INTEGER,
  invoice TEXT,
  subscription TEXT,
  test_clock TEXT,
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
CREATE INDEX quotes_customer ON quotes (merchant_id, customer, id);
CREATE INDEX quotes_expiry ON quotes (status, expires_at);
-- a test-clock customer's quotes expire on the clock's time (api/quotes.c)
CREATE INDEX quotes_clock ON quotes (status, test_clock) WHERE test_clock IS NOT NULL;

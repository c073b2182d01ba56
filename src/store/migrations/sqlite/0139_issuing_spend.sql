-- Stripe Issuing, what spends the Issuing balance (api/issuing_authorizations.c): authorizations
-- made by the test helper and decided at once, and the transactions their captures (or a force
-- capture, a refund) make, each a merchant's row. The JSON columns hold what the objects show
-- (merchant_data, verification_data, network_data, amount_details, purchase_details,
-- request_history). An authorization's `held` is what it still holds of the Issuing balance (the
-- ledger's issuing_held for it), and `category` its merchant's, kept apart for the spending
-- limits' sums. A transaction's amount is signed as Stripe's: a capture negative, a refund
-- positive. Neither row is ever deleted.
CREATE TABLE issuing_authorizations (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
  card TEXT NOT NULL,
  cardholder TEXT,
  category TEXT NOT NULL,
  amount INTEGER NOT NULL,
  currency TEXT NOT NULL,
  amount_details TEXT,
  approved INTEGER NOT NULL,
  authorization_method TEXT NOT NULL,
  merchant_data TEXT NOT NULL,
  network_data TEXT,
  verification_data TEXT NOT NULL,
  wallet TEXT,
  status TEXT NOT NULL,
  held INTEGER NOT NULL,
  request_history TEXT NOT NULL,
  metadata TEXT NOT NULL,
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
CREATE INDEX issuing_authorizations_by_card ON issuing_authorizations (merchant_id, card, id);
CREATE INDEX issuing_authorizations_by_cardholder
  ON issuing_authorizations (merchant_id, cardholder, id);
CREATE TABLE issuing_transactions (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
  type TEXT NOT NULL,
  authorization_id TEXT,
  card TEXT NOT NULL,
  cardholder TEXT,
  category TEXT NOT NULL,
  amount INTEGER NOT NULL,
  currency TEXT NOT NULL,
  amount_details TEXT,
  merchant_data TEXT NOT NULL,
  purchase_details TEXT,
  balance_transaction TEXT NOT NULL,
  wallet TEXT,
  refunded INTEGER NOT NULL DEFAULT 0,
  metadata TEXT NOT NULL,
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
CREATE INDEX issuing_transactions_by_authorization
  ON issuing_transactions (merchant_id, authorization_id, id);
CREATE INDEX issuing_transactions_by_card ON issuing_transactions (merchant_id, card, id);
CREATE INDEX issuing_transactions_by_cardholder
  ON issuing_transactions (merchant_id, cardholder, id);

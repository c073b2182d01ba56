-- SEPA Direct Debit (sepa_debit), the first PaymentMethod type that is not a card.
-- payment_methods.type: NULL for a card (every row before this), 'sepa_debit' for a bank account
-- whose IBAN is sealed in vault_ibans (card_id names that row; the card columns hold what Stripe
-- shows of the account: last4, country, fingerprint; brand/funding empty, expiry 0).
-- sepa_behavior: the test outcome its IBAN stands for (Stripe's test IBANs, payments/sepa.h),
-- decided when the IBAN was in hand, so that settling never needs the IBAN again.
ALTER TABLE payment_methods ADD COLUMN type TEXT;
ALTER TABLE payment_methods ADD COLUMN sepa_bank_code TEXT;
ALTER TABLE payment_methods ADD COLUMN sepa_branch_code TEXT;
ALTER TABLE payment_methods ADD COLUMN sepa_behavior BIGINT;

-- a PaymentIntent's or SetupIntent's payment_method_types as a JSON array; NULL: ["card"]
ALTER TABLE payment_intents ADD COLUMN payment_method_types TEXT;
ALTER TABLE setup_intents ADD COLUMN payment_method_types TEXT;
-- the multi-use mandate a sepa_debit SetupIntent made
ALTER TABLE setup_intents ADD COLUMN mandate TEXT;

-- IBANs sealed as card numbers are (AES-256-GCM under a data key, the AAD binding merchant and id)
CREATE TABLE vault_ibans (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  data_key_id TEXT NOT NULL,
  sealed BYTEA NOT NULL,
  fingerprint TEXT NOT NULL,
  created BIGINT NOT NULL,
  PRIMARY KEY (merchant_id, id)
);

-- Mandates (/v1/mandates/{id}): the customer's acceptance of debits from a sepa_debit
-- PaymentMethod. type multi_use (a SetupIntent, setup_future_usage) or single_use (amount and
-- currency of the one payment).
CREATE TABLE mandates (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
  payment_method TEXT NOT NULL,
  type TEXT NOT NULL,
  status TEXT NOT NULL,
  acceptance_type TEXT NOT NULL,
  ip_address TEXT,
  user_agent TEXT,
  amount BIGINT,
  currency TEXT,
  reference TEXT NOT NULL,
  PRIMARY KEY (merchant_id, id)
);
CREATE INDEX mandates_pm ON mandates (merchant_id, payment_method);

-- A SEPA debit waiting for the bank's answer: the scheduler settles it at due_at (once: status
-- goes pending -> done in the settling transaction).
CREATE TABLE sepa_debits (
  merchant_id TEXT NOT NULL,
  charge TEXT NOT NULL,
  payment_intent TEXT NOT NULL,
  behavior BIGINT NOT NULL,
  due_at BIGINT NOT NULL,
  status TEXT NOT NULL,
  PRIMARY KEY (merchant_id, charge)
);
CREATE INDEX sepa_debits_due ON sepa_debits (status, due_at);

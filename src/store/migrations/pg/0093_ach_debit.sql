-- ACH Direct Debit (us_bank_account), the second bank debit after SEPA (0096).
-- payment_methods.type 'us_bank_account': the account number is sealed in vault_ibans (card_id
-- names that row; the vault's bank account table, whatever the account's form); last4 and
-- fingerprint are the account's, sepa_behavior its test outcome (vault/ach.h); these columns hold
-- the rest of what Stripe shows. set_up: its microdeposits were verified.
ALTER TABLE payment_methods ADD COLUMN ach_routing_number TEXT;
ALTER TABLE payment_methods ADD COLUMN ach_account_holder_type TEXT;
ALTER TABLE payment_methods ADD COLUMN ach_account_type TEXT;

-- A PaymentIntent or SetupIntent waiting for its customer to verify the microdeposits Stripe
-- sends to a us_bank_account (next_action verify_with_microdeposits): the mandate accepted at
-- confirm, and the failed attempts (three allowed). status pending -> verified | failed.
CREATE TABLE ach_verifications (
  merchant_id TEXT NOT NULL,
  intent TEXT NOT NULL,
  payment_method TEXT NOT NULL,
  mandate TEXT NOT NULL,
  attempts BIGINT NOT NULL,
  status TEXT NOT NULL,
  created BIGINT NOT NULL,
  PRIMARY KEY (merchant_id, intent)
);

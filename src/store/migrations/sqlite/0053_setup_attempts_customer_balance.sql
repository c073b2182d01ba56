-- SetupAttempts (api/setup_attempts.c): one row per confirmation of a SetupIntent that reached
-- the card (a check by the issuer, 3-D Secure). status is requires_action until the challenge is
-- answered, then succeeded or failed (abandoned when the intent moves on without it); card is
-- payment_method_details.card as JSON (three_d_secure once one ran), setup_error the error hash
-- of a failure. The intent names its newest in latest_attempt. Lists page by id (0021), filtered
-- by setup_intent.
CREATE TABLE setup_attempts (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
  setup_intent TEXT NOT NULL,
  status TEXT NOT NULL,
  customer TEXT,
  payment_method TEXT NOT NULL,
  usage TEXT NOT NULL,
  card TEXT NOT NULL,
  setup_error TEXT,
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
CREATE INDEX setup_attempts_intent ON setup_attempts (merchant_id, setup_intent, id);
ALTER TABLE setup_intents ADD COLUMN latest_attempt TEXT;

-- A customer's credit balance (api/customer_balance.c): every change of customers.balance is a
-- row here, appended in the write that changes it and never rewritten but for description and
-- metadata (Stripe lets those change): amount (negative: a credit), the balance after it
-- (ending_balance), in the customer's one currency. type is Stripe's: adjustment (the API),
-- applied_to_invoice (customer_balance_apply, naming the invoice: one per invoice, which the
-- unique index holds).
CREATE TABLE customer_balance_transactions (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
  customer TEXT NOT NULL,
  type TEXT NOT NULL,
  amount INTEGER NOT NULL,
  currency TEXT NOT NULL,
  ending_balance INTEGER NOT NULL,
  description TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  invoice TEXT,
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
CREATE INDEX customer_balance_transactions_customer
  ON customer_balance_transactions (merchant_id, customer, id);
CREATE UNIQUE INDEX customer_balance_transactions_applied
  ON customer_balance_transactions (merchant_id, invoice) WHERE type = 'applied_to_invoice';

-- A customer's tax ids (api/tax_ids.c): type and value as given (the format checked), the
-- country they imply, and the verification Stripe reports (NULL status: none for the type).
-- Deleting keeps the row (deleted = 1), out of every list.
CREATE TABLE tax_ids (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
  customer TEXT NOT NULL,
  type TEXT NOT NULL,
  value TEXT NOT NULL,
  country TEXT,
  verification_status TEXT,
  verified_name TEXT,
  verified_address TEXT,
  deleted INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
CREATE INDEX tax_ids_customer ON tax_ids (merchant_id, customer, id);

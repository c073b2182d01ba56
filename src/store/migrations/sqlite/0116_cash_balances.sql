-- Customers' cash balances (bank transfers, Stripe's customer_balance): money a customer pushed
-- by bank transfer that Tender holds for them until it pays one of their PaymentIntents.
--
-- A customer's reconciliation mode: 'automatic' or 'manual' as set, NULL for the merchant's
-- default (settings[reconciliation_mode]=merchant_default).
ALTER TABLE customers ADD COLUMN cash_reconciliation_mode TEXT;

-- What a customer holds, per currency: the ending_balance of its newest cash balance
-- transaction in that currency, kept here for the guarded move (a move is computed from the
-- amount it replaces); the transactions are the append-only record.
CREATE TABLE customer_cash_balances (
  merchant_id TEXT NOT NULL,
  customer TEXT NOT NULL,
  currency TEXT NOT NULL,
  available INTEGER NOT NULL,
  PRIMARY KEY (merchant_id, customer, currency)
) WITHOUT ROWID;

-- Every change of a cash balance (ccsbtxn_…), append-only.
CREATE TABLE customer_cash_balance_transactions (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
  customer TEXT NOT NULL,
  type TEXT NOT NULL,
  currency TEXT NOT NULL,
  net_amount INTEGER NOT NULL,
  ending_balance INTEGER NOT NULL,
  bank_transfer_type TEXT,
  reference TEXT,
  payment_intent TEXT,
  refund TEXT,
  journal_txn TEXT NOT NULL,
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
CREATE INDEX customer_cash_balance_transactions_customer
  ON customer_cash_balance_transactions (merchant_id, customer, id);
-- what was applied to an intent (applied_to_payment, unapplied_from_payment)
CREATE INDEX customer_cash_balance_transactions_intent
  ON customer_cash_balance_transactions (merchant_id, payment_intent)
  WHERE payment_intent IS NOT NULL;

-- A PaymentIntent's payment_method_options[customer_balance] as the intent shows it (JSON).
ALTER TABLE payment_intents ADD COLUMN pmo_customer_balance TEXT;

-- The customer_balance PaymentIntents waiting for cash (requires_action with
-- display_bank_transfer_instructions): what automatic reconciliation funds, the one whose
-- reference a transfer names first, then the oldest. A row goes when its intent succeeds or is
-- canceled; the money itself is in customer_cash_balance_transactions.
CREATE TABLE cash_balance_waiting (
  merchant_id TEXT NOT NULL,
  payment_intent TEXT NOT NULL,
  customer TEXT NOT NULL,
  currency TEXT NOT NULL,
  reference TEXT NOT NULL,
  created INTEGER NOT NULL,
  PRIMARY KEY (merchant_id, payment_intent)
) WITHOUT ROWID;
CREATE INDEX cash_balance_waiting_customer
  ON cash_balance_waiting (merchant_id, customer, currency, created);

-- A customer's virtual bank account for one bank transfer type (and, for eu_bank_transfer,
-- one country; '' otherwise), made the first time funding instructions are asked for and kept:
-- test-mode numbers Tender makes up, not anybody's bank data. address: the financial address
-- as Stripe renders it (JSON).
CREATE TABLE customer_funding_accounts (
  merchant_id TEXT NOT NULL,
  customer TEXT NOT NULL,
  type TEXT NOT NULL,
  country TEXT NOT NULL,
  created INTEGER NOT NULL,
  address TEXT NOT NULL,
  PRIMARY KEY (merchant_id, customer, type, country)
) WITHOUT ROWID;

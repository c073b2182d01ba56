-- Billing credit grants (/v1/billing/credit_grants, api/billing_credits.c): a monetary amount a
-- customer may spend on invoice lines in scope (metered prices, or the listed prices), from
-- effective_at until expires_at (NULL: never), unless voided. What a grant holds is never stored
-- here: it is the sum of its credit balance transactions below.
CREATE TABLE billing_credit_grants (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
  updated BIGINT NOT NULL,
  customer TEXT NOT NULL,
  test_clock TEXT,
  currency TEXT NOT NULL,
  value BIGINT NOT NULL,
  category TEXT NOT NULL,
  scope_metered BIGINT NOT NULL,
  scope_prices TEXT,
  effective_at BIGINT NOT NULL,
  expires_at BIGINT,
  name TEXT,
  priority BIGINT NOT NULL,
  metadata TEXT NOT NULL,
  voided_at BIGINT,
  PRIMARY KEY (merchant_id, id)
);
CREATE INDEX billing_credit_grants_customer ON billing_credit_grants (merchant_id, customer);

-- The append-only ledger of every grant: kind credit (credits_granted, or
-- credits_application_invoice_voided) or debit (credits_applied, credits_expired,
-- credits_voided), amount > 0 in the grant's currency; invoice and invoice_line_item name the
-- invoice line a credit application (or its return) concerns.
CREATE TABLE billing_credit_txns (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
  effective_at BIGINT NOT NULL,
  credit_grant TEXT NOT NULL,
  customer TEXT NOT NULL,
  test_clock TEXT,
  kind TEXT NOT NULL,
  type TEXT NOT NULL,
  currency TEXT NOT NULL,
  amount BIGINT NOT NULL,
  invoice TEXT,
  invoice_line_item TEXT,
  PRIMARY KEY (merchant_id, id)
);
CREATE INDEX billing_credit_txns_grant ON billing_credit_txns (merchant_id, credit_grant);
CREATE INDEX billing_credit_txns_customer ON billing_credit_txns (merchant_id, customer);
CREATE INDEX billing_credit_txns_invoice ON billing_credit_txns (merchant_id, invoice);

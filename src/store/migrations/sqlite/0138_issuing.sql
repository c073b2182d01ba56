-- Stripe Issuing (api/issuing.c): cardholders and the cards issued to them, each a merchant's
-- row. A card's number is made by the vault and sealed in vault_cards under card_ref (never here,
-- never in clear); its CVC is derived by the vault from key material and the card's id, so it is
-- stored nowhere. The JSON columns hold what the objects show (billing, individual, company,
-- spending_controls, shipping, requirements), as Stripe renders them. A canceled card keeps its row.
CREATE TABLE issuing_cardholders (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
  type TEXT NOT NULL,
  name TEXT NOT NULL,
  email TEXT,
  phone_number TEXT,
  billing TEXT NOT NULL,
  individual TEXT,
  company TEXT,
  preferred_locales TEXT,
  spending_controls TEXT NOT NULL,
  requirements TEXT NOT NULL,
  status TEXT NOT NULL,
  metadata TEXT NOT NULL,
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
CREATE TABLE issuing_cards (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
  cardholder TEXT NOT NULL,
  type TEXT NOT NULL,
  currency TEXT NOT NULL,
  card_ref TEXT NOT NULL,
  last4 TEXT NOT NULL,
  exp_month INTEGER NOT NULL,
  exp_year INTEGER NOT NULL,
  status TEXT NOT NULL,
  cancellation_reason TEXT,
  replacement_for TEXT,
  replacement_reason TEXT,
  replaced_by TEXT,
  shipping TEXT,
  spending_controls TEXT NOT NULL,
  metadata TEXT NOT NULL,
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
CREATE INDEX issuing_cards_by_cardholder ON issuing_cards (merchant_id, cardholder, id);
-- The Issuing balance (ledger/ledger_issuing.h): a top-up may fund it instead of the payments
-- balance (destination_balance 'issuing'; NULL: payments), and each balance transaction says
-- which balance it moves ('payments', the default for every existing row, or 'issuing').
ALTER TABLE topups ADD COLUMN destination_balance TEXT;
ALTER TABLE balance_transactions ADD COLUMN balance_type TEXT NOT NULL DEFAULT 'payments';

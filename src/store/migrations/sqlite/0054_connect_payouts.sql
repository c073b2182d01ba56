-- Payouts to a chosen external account, debit cards as external accounts, instant payouts
-- (src/api/external_accounts.c, payouts.c, src/ledger/ledger_payout.c).
--
-- A debit card as an external account (object 'card', id card_…): its public facts only, as a
-- token shows them (brand, funding, expiry, last4, country, the fingerprint); the number stays
-- sealed in vault_cards where the token or test alias put it, and no row here points at it (a
-- payout to a card in test mode needs no number). instant: 1 when the external account takes
-- instant payouts (a debit card), what available_payout_methods lists. seq: the id's
-- time-ordered body (without its ba_ / card_ prefix), so that a list mixing bank accounts and
-- cards pages in creation order.
ALTER TABLE external_accounts ADD COLUMN object TEXT NOT NULL DEFAULT 'bank_account';
ALTER TABLE external_accounts ADD COLUMN brand TEXT;
ALTER TABLE external_accounts ADD COLUMN funding TEXT;
ALTER TABLE external_accounts ADD COLUMN exp_month INTEGER;
ALTER TABLE external_accounts ADD COLUMN exp_year INTEGER;
ALTER TABLE external_accounts ADD COLUMN instant INTEGER NOT NULL DEFAULT 0;
ALTER TABLE external_accounts ADD COLUMN seq TEXT;
UPDATE external_accounts SET seq = substr(id, 4) WHERE seq IS NULL AND id LIKE 'ba\_%' ESCAPE '\';
CREATE INDEX external_accounts_seq ON external_accounts (merchant_id, seq);

-- A payout's method (standard, instant), what it goes to (type: bank_account or card), whether
-- the account's schedule made it (automatic), and the balance transaction of the instant
-- payout's fee (a stripe_fee of its own, ledger_payout.h; NULL when none was charged).
ALTER TABLE payouts ADD COLUMN method TEXT NOT NULL DEFAULT 'standard';
ALTER TABLE payouts ADD COLUMN type TEXT NOT NULL DEFAULT 'bank_account';
ALTER TABLE payouts ADD COLUMN automatic INTEGER NOT NULL DEFAULT 0;
ALTER TABLE payouts ADD COLUMN fee_balance_transaction TEXT;

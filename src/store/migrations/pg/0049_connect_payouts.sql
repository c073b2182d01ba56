-- PostgreSQL port of migrations/sqlite/0054_connect_payouts.sql.
ALTER TABLE external_accounts ADD COLUMN object TEXT NOT NULL DEFAULT 'bank_account';
ALTER TABLE external_accounts ADD COLUMN brand TEXT;
ALTER TABLE external_accounts ADD COLUMN funding TEXT;
ALTER TABLE external_accounts ADD COLUMN exp_month BIGINT;
ALTER TABLE external_accounts ADD COLUMN exp_year BIGINT;
ALTER TABLE external_accounts ADD COLUMN instant BIGINT NOT NULL DEFAULT 0;
ALTER TABLE external_accounts ADD COLUMN seq TEXT;
UPDATE external_accounts SET seq = substr(id, 4) WHERE seq IS NULL AND id LIKE 'ba\_%' ESCAPE '\';
CREATE INDEX external_accounts_seq ON external_accounts (merchant_id, seq);
ALTER TABLE payouts ADD COLUMN method TEXT NOT NULL DEFAULT 'standard';
ALTER TABLE payouts ADD COLUMN type TEXT NOT NULL DEFAULT 'bank_account';
ALTER TABLE payouts ADD COLUMN automatic BIGINT NOT NULL DEFAULT 0;
ALTER TABLE payouts ADD COLUMN fee_balance_transaction TEXT;

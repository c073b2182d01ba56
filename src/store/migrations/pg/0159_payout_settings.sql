-- PostgreSQL port of migrations/sqlite/0164_payout_settings.sql: a connected account's payout
-- statement descriptor and debit_negative_balances (NULL: Stripe's default for its type).
ALTER TABLE connected_accounts ADD COLUMN po_statement_descriptor TEXT;
ALTER TABLE connected_accounts ADD COLUMN po_debit_negative BIGINT;

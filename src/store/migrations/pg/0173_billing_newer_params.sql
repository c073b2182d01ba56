-- PostgreSQL port of migrations/sqlite/0178_billing_newer_params.sql: an invoice item's
-- quantity_decimal (text; NULL: its whole quantity), a credit note's refunds[] linked (JSON
-- text; NULL: only its `refund`), and a payout's payout_method (NULL: none given).
ALTER TABLE invoice_items ADD COLUMN quantity_decimal TEXT;
ALTER TABLE credit_notes ADD COLUMN refunds TEXT;
ALTER TABLE payouts ADD COLUMN payout_method TEXT;

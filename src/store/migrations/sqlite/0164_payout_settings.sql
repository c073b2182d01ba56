-- A connected account's other payout settings (api/accounts.c, api/balance_settings.c), beside
-- its schedule (0055): po_statement_descriptor, the text of its automatic payouts' bank
-- statement line (settings.payouts.statement_descriptor; NULL: none), and po_debit_negative,
-- settings.payouts.debit_negative_balances as the platform set it (0 or 1; NULL: Stripe's
-- default, false for a Custom account, else true). The account object and balance settings are
-- two views of these same columns.
ALTER TABLE connected_accounts ADD COLUMN po_statement_descriptor TEXT;
ALTER TABLE connected_accounts ADD COLUMN po_debit_negative INTEGER;

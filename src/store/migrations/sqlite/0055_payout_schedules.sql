-- Automatic payouts (src/api/accounts.c, payouts.c): a connected account's
-- settings.payouts.schedule. po_interval: manual (the default: Tender's accounts were always paid
-- out on request), daily, weekly or monthly; po_weekly_anchor a weekday ('monday' …) when weekly;
-- po_monthly_anchor 1 … 31 when monthly; po_delay_days as shown (Tender's funds always become
-- available 2 days after a charge). po_next_due: the next due date (00:00 UTC; NULL when manual),
-- which the scheduler moves on with a guarded update in the same write as the payouts it makes,
-- so each due date pays out once.
ALTER TABLE connected_accounts ADD COLUMN po_interval TEXT NOT NULL DEFAULT 'manual';
ALTER TABLE connected_accounts ADD COLUMN po_delay_days INTEGER NOT NULL DEFAULT 2;
ALTER TABLE connected_accounts ADD COLUMN po_weekly_anchor TEXT;
ALTER TABLE connected_accounts ADD COLUMN po_monthly_anchor INTEGER;
ALTER TABLE connected_accounts ADD COLUMN po_next_due INTEGER;
CREATE INDEX connected_accounts_po_due ON connected_accounts (po_next_due)
  WHERE po_next_due IS NOT NULL;

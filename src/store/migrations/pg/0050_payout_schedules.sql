-- PostgreSQL port of migrations/sqlite/0055_payout_schedules.sql.
ALTER TABLE connected_accounts ADD COLUMN po_interval TEXT NOT NULL DEFAULT 'manual';
ALTER TABLE connected_accounts ADD COLUMN po_delay_days BIGINT NOT NULL DEFAULT 2;
ALTER TABLE connected_accounts ADD COLUMN po_weekly_anchor TEXT;
ALTER TABLE connected_accounts ADD COLUMN po_monthly_anchor BIGINT;
ALTER TABLE connected_accounts ADD COLUMN po_next_due BIGINT;
CREATE INDEX connected_accounts_po_due ON connected_accounts (po_next_due)
  WHERE po_next_due IS NOT NULL;

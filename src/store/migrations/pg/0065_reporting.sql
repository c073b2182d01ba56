-- PostgreSQL port of migrations/sqlite/0070_reporting.sql.
-- Stripe's Reporting API (src/api/reporting.c, src/reporting/): report runs. A run is made
-- `pending`; the scheduler computes its CSV from the balance transactions and, in one write,
-- stores it as a file (purpose finance_report_run), sets result / succeeded_at and status
-- `succeeded` (or `failed` with error). The parameters are kept as given; `columns` is the
-- comma-separated list asked for (NULL: the type's defaults; column names hold no comma).
-- `host` is the address the run was asked through, for the result file's url.
CREATE TABLE report_runs (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
  livemode BIGINT NOT NULL DEFAULT 0,
  report_type TEXT NOT NULL,
  interval_start BIGINT NOT NULL,
  interval_end BIGINT NOT NULL,
  currency TEXT,
  reporting_category TEXT,
  timezone TEXT,
  columns TEXT,
  status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
  result TEXT,
  succeeded_at BIGINT,
  error TEXT,
  host TEXT,
  PRIMARY KEY (merchant_id, id)
);
CREATE INDEX report_runs_pending ON report_runs (created) WHERE status = 'pending';

-- Billing alerts (/v1/billing/alerts, api/billing_alerts.c): a usage threshold on one billing
-- meter (usage_threshold[gte], recurrence one_time), for every customer or, with a customer
-- filter, for one. status is active, inactive or archived (archiving is for good). Stripe counts
-- only usage reported after the alert was made: created bounds the meter events' own created.
CREATE TABLE billing_alerts (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
  title TEXT NOT NULL,
  meter TEXT NOT NULL,
  gte BIGINT NOT NULL,
  customer TEXT,
  status TEXT NOT NULL,
  PRIMARY KEY (merchant_id, id)
);
CREATE INDEX billing_alerts_meter ON billing_alerts (merchant_id, meter, status);

-- The append-only record of each one_time alert's firing, one row a customer: a customer in it
-- has triggered that alert, which never fires for it again (billing.alert.triggered once).
CREATE TABLE billing_alert_triggers (
  merchant_id TEXT NOT NULL,
  alert TEXT NOT NULL,
  customer TEXT NOT NULL,
  created BIGINT NOT NULL,
  value BIGINT NOT NULL,
  PRIMARY KEY (merchant_id, alert, customer)
);

-- The running usage of each active billing alert not yet fired for a customer
-- (api/billing_alerts.c, billing/running_usage.h): what the customer's meter events recorded since
-- the alert was made add up to, so that each new event is added to one row instead of every
-- event being summed again. It is derived, not financial: the events themselves stay the record,
-- and a missing row is made from them at the customer's next report (so after this migration,
-- and after the alert is activated again: any status change drops its rows; its firing for a
-- customer drops that customer's, which it never counts again).
-- events: their count; pos / neg: the sums of their positive and negative values; inexact: one
-- of those went past int64, so the events are summed again instead; last_*: the value, ts,
-- created and identifier of the latest event in (ts, created, identifier) order (NULL: none).
CREATE TABLE billing_alert_usage (
  merchant_id TEXT NOT NULL,
  alert TEXT NOT NULL,
  customer TEXT NOT NULL,
  events BIGINT NOT NULL,
  pos BIGINT NOT NULL,
  neg BIGINT NOT NULL,
  inexact BIGINT NOT NULL,
  last_value BIGINT,
  last_ts BIGINT,
  last_created BIGINT,
  last_identifier TEXT,
  PRIMARY KEY (merchant_id, alert, customer)
);

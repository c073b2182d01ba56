-- Billing meters (/v1/billing/meters) and the usage recorded against them
-- (/v1/billing/meter_events, /v1/billing/meter_event_adjustments).
-- A meter's event_name is its own among the merchant's meters, active or not: Stripe lets one
-- event name feed one meter.
CREATE TABLE billing_meters (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
  updated INTEGER NOT NULL,
  display_name TEXT NOT NULL,
  event_name TEXT NOT NULL,
  event_time_window TEXT,
  formula TEXT NOT NULL,
  customer_key TEXT NOT NULL,
  value_key TEXT NOT NULL,
  active INTEGER NOT NULL,
  deactivated_at INTEGER,
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX billing_meters_event ON billing_meters (merchant_id, event_name);

-- One row a meter event, keyed by its identifier (unique for the merchant, for good: Stripe
-- promises at least 24 hours). customer and value are what the meter's payload keys named when
-- the event came; payload is the whole payload as given (a JSON object of strings). canceled
-- is set by an adjustment, which leaves its own row below.
CREATE TABLE billing_meter_events (
  merchant_id TEXT NOT NULL,
  identifier TEXT NOT NULL,
  event_name TEXT NOT NULL,
  created INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  customer TEXT NOT NULL,
  value INTEGER NOT NULL,
  payload TEXT NOT NULL,
  canceled INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (merchant_id, identifier)
) WITHOUT ROWID;
CREATE INDEX billing_meter_events_usage
  ON billing_meter_events (merchant_id, event_name, customer, ts);

-- The append-only record of each cancellation (a meter event adjustment).
CREATE TABLE billing_meter_event_adjustments (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
  event_name TEXT NOT NULL,
  identifier TEXT NOT NULL,
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;

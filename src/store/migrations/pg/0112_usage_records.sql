-- Legacy metered billing (Stripe API 2023-08-16): a metered price without a billing meter is
-- billed from usage records reported on each subscription item.
-- A metered price's recurring[aggregate_usage] (sum, last_during_period, last_ever, max); NULL
-- for a licensed price, one backed by a meter, and a legacy metered price made before it was
-- taken (read as sum, Stripe's default). Written and read by api/products.c and api/plans.c.
ALTER TABLE prices ADD COLUMN recurring_aggregate_usage TEXT;

-- One row a usage record (POST /v1/subscription_items/{id}/usage_records), never updated:
-- `set` overwrites the usage at its timestamp by coming after the rows before it (seq: the
-- item's records in the order they were written), it does not change them.
-- Written and read by api/usage_records.c.
CREATE TABLE usage_records (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  subscription_item TEXT NOT NULL,
  seq BIGINT NOT NULL,
  created BIGINT NOT NULL,
  ts BIGINT NOT NULL,
  quantity BIGINT NOT NULL,
  action TEXT NOT NULL,
  PRIMARY KEY (merchant_id, id)
);
CREATE UNIQUE INDEX usage_records_item ON usage_records (merchant_id, subscription_item, seq);
CREATE INDEX usage_records_ts ON usage_records (merchant_id, subscription_item, ts, seq);

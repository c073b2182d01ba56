-- Refunds to the customer's bank account (api/refunds.c, api/cash_balance.c): a refund of a
-- customer's cash balance itself has no charge, so `charge` may be NULL; it names its
-- `customer` instead. `instructions_email` is where the request for the customer's bank details
-- went (a refund waiting in requires_action until then; its settle_at is when it expires).
ALTER TABLE refunds ALTER COLUMN charge DROP NOT NULL;
ALTER TABLE refunds ADD COLUMN customer TEXT;
ALTER TABLE refunds ADD COLUMN instructions_email TEXT;

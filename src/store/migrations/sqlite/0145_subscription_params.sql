-- Parameters of POST /v1/subscriptions[/{id}] Tender took no earlier (api/subscriptions.c).
-- cancel_at: when the subscription cancels (NULL: not set), and whether the scheduler's
-- cancellation then credits the unused rest of the period it billed (0: proration_behavior=none
-- asked it not to). billing_thresholds, pending_invoice_item_interval and transfer_data are the
-- objects as the subscription shows them (JSON; NULL: none); application_fee_percent is kept in
-- ten-thousandths of a percent (billing/billing.h's percent_e4; NULL: none); on_behalf_of and
-- default_source name a connected account and one of the customer's sources.
-- subscription_items.billing_thresholds is an item's {usage_gte} (JSON; NULL: none).
ALTER TABLE subscriptions ADD COLUMN cancel_at INTEGER;
ALTER TABLE subscriptions ADD COLUMN cancel_at_prorate INTEGER NOT NULL DEFAULT 1;
ALTER TABLE subscriptions ADD COLUMN billing_thresholds TEXT;
ALTER TABLE subscriptions ADD COLUMN pending_invoice_item_interval TEXT;
ALTER TABLE subscriptions ADD COLUMN application_fee_percent INTEGER;
ALTER TABLE subscriptions ADD COLUMN transfer_data TEXT;
ALTER TABLE subscriptions ADD COLUMN on_behalf_of TEXT;
ALTER TABLE subscriptions ADD COLUMN default_source TEXT;
ALTER TABLE subscription_items ADD COLUMN billing_thresholds TEXT;

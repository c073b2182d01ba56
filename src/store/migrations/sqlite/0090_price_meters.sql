-- Metered prices backed by a billing meter (recurring[meter], Stripe's usage-based billing):
-- the id of one of the merchant's billing_meters, NULL for a licensed price and for a legacy
-- metered one (usage records, which subscriptions refuse). Written and read by api/products.c.
ALTER TABLE prices ADD COLUMN recurring_meter TEXT;

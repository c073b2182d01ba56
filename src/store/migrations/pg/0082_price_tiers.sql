-- Tiered prices and plans (billing_scheme=tiered). billing_scheme is per_unit or tiered;
-- tiers_mode graduated or volume (NULL for per_unit); tiers the price's tiers as the JSON array
-- the API shows (price_tier objects, up_to null for the last), written and read by
-- api/products.c only. A tiered price has no unit_amount: unit_amount is NULL and
-- unit_amount_decimal '' (rendered null).
ALTER TABLE prices ADD COLUMN billing_scheme TEXT NOT NULL DEFAULT 'per_unit';
ALTER TABLE prices ADD COLUMN tiers_mode TEXT;
ALTER TABLE prices ADD COLUMN tiers TEXT;

-- A discount of one subscription item (items[n][discounts] of a subscription, discounts of
-- /v1/subscription_items; src/api/discounts.c): it names its subscription too (the discount
-- object shows both) and takes something off that item's invoice lines only. NULL on every
-- other discount; a subscription's own discounts are those with it NULL.
ALTER TABLE discounts ADD COLUMN subscription_item TEXT;
CREATE INDEX discounts_subscription_item ON discounts (merchant_id, subscription_item, pos)
  WHERE subscription_item IS NOT NULL;

-- PostgreSQL port of migrations/sqlite/0181_item_discounts.sql: a subscription item's own
-- discounts (NULL on every other discount).
ALTER TABLE discounts ADD COLUMN subscription_item TEXT;
CREATE INDEX discounts_subscription_item ON discounts (merchant_id, subscription_item, pos)
  WHERE subscription_item IS NOT NULL;

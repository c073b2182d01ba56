-- Stripe's Radar API (src/api/radar.c): value lists and their items, which the fraud rules read
-- by alias (risk/value_lists.h); early fraud warnings; reviews.
CREATE TABLE radar_value_lists (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
  alias TEXT NOT NULL,
  name TEXT NOT NULL,
  item_type TEXT NOT NULL,
  created_by TEXT NOT NULL,
  metadata TEXT NOT NULL,
  item_count INTEGER NOT NULL DEFAULT 0 CHECK (item_count >= 0),
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX radar_value_lists_alias ON radar_value_lists (merchant_id, alias);

-- match_value: the value as the list's type compares it (lowercase for the case-insensitive
-- types), what the scorer looks up: one value once per list, and the scorer's lookup of a
-- payment's values in every list of the merchant is a search of the unique index's prefix.
CREATE TABLE radar_value_list_items (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
  value_list TEXT NOT NULL,
  value TEXT NOT NULL,
  match_value TEXT NOT NULL,
  created_by TEXT NOT NULL,
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX radar_value_list_items_value
  ON radar_value_list_items (merchant_id, match_value, value_list);
CREATE INDEX radar_value_list_items_list_id ON radar_value_list_items (merchant_id, value_list, id, value);

CREATE TABLE radar_early_fraud_warnings (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
  charge TEXT NOT NULL,
  payment_intent TEXT,
  fraud_type TEXT NOT NULL,
  actionable INTEGER NOT NULL,
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX radar_early_fraud_warnings_charge
  ON radar_early_fraud_warnings (merchant_id, charge);

-- reviews (risk/review.h): one per charge a manual_review rule placed in review
CREATE TABLE radar_reviews (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
  charge TEXT NOT NULL,
  payment_intent TEXT,
  open INTEGER NOT NULL,
  opened_reason TEXT NOT NULL,
  reason TEXT NOT NULL,
  closed_reason TEXT,
  ip_address TEXT,
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX radar_reviews_charge ON radar_reviews (merchant_id, charge);

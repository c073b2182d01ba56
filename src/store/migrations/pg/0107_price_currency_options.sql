-- A price's currency_options: the same price in other currencies (never the price's own), one
-- row per currency, written and read by api/products.c only. A per-unit price's option has
-- unit_amount (NULL for a sub-cent decimal) and unit_amount_decimal (its text); a tiered
-- price's option has tiers (the JSON array the API shows, in the price's tiers_mode),
-- unit_amount NULL and unit_amount_decimal ''. A price update replaces the rows of the
-- currencies it gives (its price.updated event keeps the old ones in previous_attributes).
CREATE TABLE price_currency_options (
  merchant_id TEXT NOT NULL,
  price TEXT NOT NULL,
  currency TEXT NOT NULL,
  unit_amount BIGINT,
  unit_amount_decimal TEXT NOT NULL,
  tax_behavior TEXT NOT NULL,
  tiers TEXT,
  created BIGINT NOT NULL,
  PRIMARY KEY (merchant_id, price, currency)
);

-- An amount_off coupon's currency_options: the amount it takes off in other currencies (never
-- the coupon's own), one row per currency. Created with the coupon; an update adds currencies
-- and never changes or removes one (the discounts made from the coupon read these rows).
-- Written and read by api/coupons.c only.
CREATE TABLE coupon_currency_options (
  merchant_id TEXT NOT NULL,
  coupon TEXT NOT NULL,
  currency TEXT NOT NULL,
  amount_off INTEGER NOT NULL,
  created INTEGER NOT NULL,
  PRIMARY KEY (merchant_id, coupon, currency)
) WITHOUT ROWID;

-- A promotion code's restrictions[currency_options]: its minimum_amount in other currencies than
-- minimum_amount_currency, one row per currency, added by create and update, never changed.
-- Written and read by api/promotion_codes.c only.
CREATE TABLE promotion_code_currency_options (
  merchant_id TEXT NOT NULL,
  promotion_code TEXT NOT NULL,
  currency TEXT NOT NULL,
  minimum_amount INTEGER NOT NULL,
  created INTEGER NOT NULL,
  PRIMARY KEY (merchant_id, promotion_code, currency)
) WITHOUT ROWID;

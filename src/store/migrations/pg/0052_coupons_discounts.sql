-- Coupons, promotion codes and discounts (src/api/coupons.c, promotion_codes.c, discounts.c).
-- A coupon's id may be the merchant's own ("SUMMER25"), so coupons list by list_key, a
-- time-ordered key of their creation, instead of by id. percent_off_e4 is percent_off × 10,000
-- (an integer: 25.5 % is 255000); amount_off coupons have a currency. applies_to is the JSON
-- array of the products it is limited to (NULL: every product). A deleted coupon keeps its row
-- (deleted = 1): the discounts made from it still apply, and its id is not taken again.
-- A promotion code is a customer-facing code for a coupon; code_lower makes codes unique
-- whatever their case among active ones.
-- A discount is one application of a coupon (through a promotion code or not) to a
-- subscription, an invoice or an invoice item, in position pos among that object's discounts;
-- ended = 1 once it no longer applies (removed, its duration run out, or a `once` discount
-- used); end_at is when a repeating one runs out. An invoice names the discounts it takes
-- (invoices.discounts, a JSON array of ids: its own, or its subscription's at the time) and
-- keeps, once computed, what each took from each of its lines (invoice_discount_amounts: the
-- lines of a draft are computed again as the draft changes; a finalized invoice's are fixed)
-- and their sums per discount (invoices.total_discount_amounts, JSON).
CREATE TABLE coupons (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  list_key TEXT NOT NULL,
  created BIGINT NOT NULL,
  name TEXT,
  percent_off_e4 BIGINT,
  amount_off BIGINT,
  currency TEXT,
  duration TEXT NOT NULL,
  duration_in_months BIGINT,
  max_redemptions BIGINT,
  redeem_by BIGINT,
  times_redeemed BIGINT NOT NULL DEFAULT 0,
  applies_to TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  deleted BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (merchant_id, id)
);
CREATE UNIQUE INDEX coupons_by_list_key ON coupons (merchant_id, list_key);
CREATE TABLE promotion_codes (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
  code TEXT NOT NULL,
  code_lower TEXT NOT NULL,
  coupon TEXT NOT NULL,
  active BIGINT NOT NULL DEFAULT 1,
  customer TEXT,
  expires_at BIGINT,
  max_redemptions BIGINT,
  times_redeemed BIGINT NOT NULL DEFAULT 0,
  first_time_transaction BIGINT NOT NULL DEFAULT 0,
  minimum_amount BIGINT,
  minimum_amount_currency TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  PRIMARY KEY (merchant_id, id)
);
CREATE INDEX promotion_codes_code ON promotion_codes (merchant_id, code_lower);
CREATE INDEX promotion_codes_coupon ON promotion_codes (merchant_id, coupon, id);
CREATE TABLE discounts (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
  coupon TEXT NOT NULL,
  promotion_code TEXT,
  customer TEXT,
  subscription TEXT,
  invoice TEXT,
  invoice_item TEXT,
  checkout_session TEXT,
  pos BIGINT NOT NULL,
  start_at BIGINT NOT NULL,
  end_at BIGINT,
  ended BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (merchant_id, id)
);
CREATE INDEX discounts_subscription ON discounts (merchant_id, subscription, pos)
  WHERE subscription IS NOT NULL;
CREATE INDEX discounts_invoice ON discounts (merchant_id, invoice, pos) WHERE invoice IS NOT NULL;
CREATE INDEX discounts_invoice_item ON discounts (merchant_id, invoice_item, pos)
  WHERE invoice_item IS NOT NULL;
CREATE INDEX discounts_checkout ON discounts (merchant_id, checkout_session, pos)
  WHERE checkout_session IS NOT NULL;
CREATE TABLE invoice_discount_amounts (
  merchant_id TEXT NOT NULL,
  invoice TEXT NOT NULL,
  line TEXT NOT NULL,
  pos BIGINT NOT NULL,
  discount TEXT NOT NULL,
  amount BIGINT NOT NULL,
  PRIMARY KEY (merchant_id, invoice, line, pos)
);
ALTER TABLE invoices ADD COLUMN discounts TEXT NOT NULL DEFAULT '[]';
ALTER TABLE invoices ADD COLUMN total_discount_amounts TEXT NOT NULL DEFAULT '[]';
-- A Checkout Session's discount (checkout.c): the coupon (and the promotion code that brought
-- it, when the buyer typed one: allow_promotion_codes) and what the session costs before it
-- (amount_subtotal; amount_total is after it).
ALTER TABLE checkout_sessions ADD COLUMN allow_promotion_codes BIGINT NOT NULL DEFAULT 0;
ALTER TABLE checkout_sessions ADD COLUMN amount_subtotal BIGINT;
ALTER TABLE checkout_sessions ADD COLUMN discount_coupon TEXT;
ALTER TABLE checkout_sessions ADD COLUMN discount_promotion_code TEXT;

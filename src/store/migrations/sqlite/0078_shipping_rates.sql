-- Shipping rates (/v1/shipping_rates, api/shipping_rates.c) and shipping on Checkout Sessions
-- (api/checkout.c). A rate is a fixed amount in one currency; delivery_estimate is its JSON
-- ({minimum, maximum} bounds) or NULL.
CREATE TABLE shipping_rates (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
  active INTEGER NOT NULL DEFAULT 1,
  display_name TEXT NOT NULL,
  amount INTEGER NOT NULL CHECK (amount >= 0),
  currency TEXT NOT NULL,
  delivery_estimate TEXT,
  tax_behavior TEXT NOT NULL,
  metadata TEXT NOT NULL,
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
CREATE INDEX shipping_rates_created ON shipping_rates (merchant_id, created DESC, id DESC);

-- A session's shipping: its options as JSON ([{shipping_rate, shipping_amount, display_name}],
-- NULL: none), the chosen one (the first until the buyer picks another) and its amount, which
-- amount_total includes; the countries an address may be in (JSON array, NULL: no address
-- asked for); the address given (Stripe's shipping hash as JSON), recorded with the attempt.
ALTER TABLE checkout_sessions ADD COLUMN shipping_options TEXT;
ALTER TABLE checkout_sessions ADD COLUMN shipping_rate TEXT;
ALTER TABLE checkout_sessions ADD COLUMN amount_shipping INTEGER NOT NULL DEFAULT 0;
ALTER TABLE checkout_sessions ADD COLUMN shipping_countries TEXT;
ALTER TABLE checkout_sessions ADD COLUMN shipping_details TEXT;

-- A payment link's shipping, passed to the session each payment opens (api/payment_links.c):
-- the same options JSON, first option and countries as a session's.
ALTER TABLE payment_links ADD COLUMN shipping_options TEXT;
ALTER TABLE payment_links ADD COLUMN shipping_rate TEXT;
ALTER TABLE payment_links ADD COLUMN shipping_amount INTEGER NOT NULL DEFAULT 0;
ALTER TABLE payment_links ADD COLUMN shipping_countries TEXT;

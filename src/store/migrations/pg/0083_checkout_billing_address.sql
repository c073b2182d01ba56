-- A Checkout Session's billing address (Stripe's address hash as JSON: city, country, line1,
-- line2, postal_code, state), given on the checkout page when a line item has
-- dynamic_tax_rates: its country (and state) choose each such line's rate. Shown as
-- customer_details.address. NULL: none given.
ALTER TABLE checkout_sessions ADD COLUMN billing_address TEXT;

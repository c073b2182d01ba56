-- PostgreSQL port of migrations/sqlite/0080_charge_shipping.sql.
-- A charge's shipping (Stripe copies its PaymentIntent's, or takes POST /v1/charges' own):
-- JSON, NULL when none.
ALTER TABLE charges ADD COLUMN shipping TEXT;

-- PostgreSQL port of migrations/sqlite/0174_newer_params.sql: a PaymentMethod's allow_redisplay
-- (always | limited | unspecified, Stripe's default for older rows), an account link's
-- collection_options[future_requirements] (include | omit), and a customer's business_name and
-- individual_name.
ALTER TABLE payment_methods ADD COLUMN allow_redisplay TEXT NOT NULL DEFAULT 'unspecified';
ALTER TABLE account_links ADD COLUMN future_requirements TEXT NOT NULL DEFAULT 'omit';
-- A customer's business_name and individual_name (NULL: not set).
ALTER TABLE customers ADD COLUMN business_name TEXT;
ALTER TABLE customers ADD COLUMN individual_name TEXT;
-- An invoice's number looked up for its uniqueness (custom numbers, generated ones).
CREATE INDEX invoices_number ON invoices (merchant_id, number) WHERE number IS NOT NULL;

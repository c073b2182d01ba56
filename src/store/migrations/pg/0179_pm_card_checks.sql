-- PostgreSQL port of migrations/sqlite/0184_pm_card_checks.sql: a card PaymentMethod's checks
-- as the issuer last answered them (NULL: not checked yet).
ALTER TABLE payment_methods ADD COLUMN check_cvc TEXT;
ALTER TABLE payment_methods ADD COLUMN check_address_line1 TEXT;
ALTER TABLE payment_methods ADD COLUMN check_address_postal_code TEXT;

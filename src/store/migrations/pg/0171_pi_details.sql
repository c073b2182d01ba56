-- PostgreSQL port of migrations/sqlite/0176_pi_details.sql: a PaymentIntent's amount_details,
-- payment_details, excluded_payment_method_types and hooks as one JSON object, NULL when none.
ALTER TABLE payment_intents ADD COLUMN details TEXT;

-- PostgreSQL port of migrations/sqlite/0144_billing_params.sql.
-- What the billing resources' newer parameters keep (none of it an amount):
-- a product's tax_code (a Stripe tax code, txcd_…), package_dimensions and marketing_features (the
-- JSON Stripe shows; NULL: none); an invoice item's own tax_behavior and tax_code, which Stripe
-- Tax uses for its line instead of the merchant's default behaviour and its product's code (NULL:
-- those); a customer's invoice_sequence_offset, how far next_invoice_sequence was moved past one
-- more than its numbered invoices (NULL: not; invoices.c numbers with it), and its
-- tax[ip_address] (NULL: none); a credit note's shipping_cost, the invoice's shipping it credits
-- (the JSON Stripe shows; NULL: none).
ALTER TABLE products ADD COLUMN tax_code TEXT;
ALTER TABLE products ADD COLUMN package_dimensions TEXT;
ALTER TABLE products ADD COLUMN marketing_features TEXT;
ALTER TABLE invoice_items ADD COLUMN tax_behavior TEXT;
ALTER TABLE invoice_items ADD COLUMN tax_code TEXT;
ALTER TABLE customers ADD COLUMN invoice_sequence_offset BIGINT;
ALTER TABLE customers ADD COLUMN tax_ip_address TEXT;
ALTER TABLE credit_notes ADD COLUMN shipping_cost TEXT;

-- PostgreSQL port of migrations/sqlite/0143_invoice_settings.sql.
-- An invoice's own settings that Stripe's create and update take and its object shows, as one JSON
-- object (api/invoices.c, invoice_settings): footer, custom_fields, statement_descriptor,
-- shipping_details, account_tax_ids, rendering, default_payment_method, default_source and
-- effective_at. NULL (every existing row): none set. Nothing in it is an amount.
ALTER TABLE invoices ADD COLUMN settings TEXT;

-- automatic_tax (Stripe Tax) on invoices and subscriptions: the flag each carries. An invoice's
-- taxes are then the engine's (tax/engine.h) for its customer's location, stored as every other
-- tax in invoice_tax_amounts against tax rates Tender makes for the jurisdiction (tax_rates rows
-- with automatic = 1: Stripe's own rates, which are not listed as the merchant's).
ALTER TABLE invoices ADD COLUMN automatic_tax BIGINT NOT NULL DEFAULT 0;
ALTER TABLE subscriptions ADD COLUMN automatic_tax BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tax_rates ADD COLUMN automatic BIGINT NOT NULL DEFAULT 0;

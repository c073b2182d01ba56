-- automatic_tax (Stripe Tax) on Checkout Sessions, payment links and quotes: the flag each
-- carries (the sessions a link opens take its flag; a quote's invoice or subscription takes
-- the quote's). A session's taxes are then the engine's for the address the buyer gives (or
-- its customer's), kept on its stored line items as fixed rates' are.
ALTER TABLE checkout_sessions ADD COLUMN automatic_tax BIGINT NOT NULL DEFAULT 0;
ALTER TABLE payment_links ADD COLUMN automatic_tax BIGINT NOT NULL DEFAULT 0;
ALTER TABLE quotes ADD COLUMN automatic_tax BIGINT NOT NULL DEFAULT 0;

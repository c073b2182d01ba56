-- Connect terms of quotes and payment links (api/quotes.c, api/payment_links.c), passed to
-- what they make: application_fee_amount (minor units; NULL: none), application_fee_percent
-- (ten-thousandths of a percent, billing/billing.h's percent_e4; NULL: none), on_behalf_of (a
-- connected account), transfer_data (JSON {amount, amount_percent, destination} for quotes,
-- {amount, destination} for links, as they show it; NULL: none). quotes.from_quote is the
-- quote it was cloned or revised from, as shown ({is_revision, quote}; NULL: none). An
-- accepted one-time quote's invoice finds its quote by quotes_invoice when it is paid.
ALTER TABLE quotes ADD COLUMN application_fee_amount BIGINT;
ALTER TABLE quotes ADD COLUMN application_fee_percent BIGINT;
ALTER TABLE quotes ADD COLUMN on_behalf_of TEXT;
ALTER TABLE quotes ADD COLUMN transfer_data TEXT;
ALTER TABLE quotes ADD COLUMN from_quote TEXT;
CREATE INDEX quotes_invoice ON quotes (merchant_id, invoice) WHERE invoice IS NOT NULL;
ALTER TABLE payment_links ADD COLUMN application_fee_amount BIGINT;
ALTER TABLE payment_links ADD COLUMN application_fee_percent BIGINT;
ALTER TABLE payment_links ADD COLUMN on_behalf_of TEXT;
ALTER TABLE payment_links ADD COLUMN transfer_data TEXT;

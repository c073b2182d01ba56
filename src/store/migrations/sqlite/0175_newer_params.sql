-- Parameters of newer API versions (stripe-node 23) that Tender now keeps.
--
-- A PaymentMethod's allow_redisplay (always | limited | unspecified): whether Checkout and
-- Elements may show it again to its customer. Set on create/update, and to `limited` when a
-- PaymentIntent or SetupIntent saves it with setup_future_usage (unless already chosen). Rows
-- from before keep Stripe's default.
ALTER TABLE payment_methods ADD COLUMN allow_redisplay TEXT NOT NULL DEFAULT 'unspecified';
-- An account link's collection_options[future_requirements] (include | omit; its [fields]
-- goes in the existing collect column, which the older `collect` parameter also fills).
ALTER TABLE account_links ADD COLUMN future_requirements TEXT NOT NULL DEFAULT 'omit';
-- A customer's business_name and individual_name (each up to 150 characters, NULL: not set),
-- the newer API versions' names beside `name`.
ALTER TABLE customers ADD COLUMN business_name TEXT;
ALTER TABLE customers ADD COLUMN individual_name TEXT;
-- An invoice's number is unique among the merchant's invoices: a custom one (`number` on a
-- draft) is checked against the others, and a generated one moves past a custom one it meets;
-- both look the number up here.
CREATE INDEX invoices_number ON invoices (merchant_id, number) WHERE number IS NOT NULL;

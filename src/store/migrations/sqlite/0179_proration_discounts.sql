-- What a subscription's discounts took from a proration (src/api/subscriptions.c,
-- proration_add), as Stripe shows it: the billing mode it was made under (classic, included:
-- its amount is net of the discounts; itemized: its amount is gross and its line's
-- discount_amounts take them off on the invoice) and the discounts' shares of it (a JSON array
-- of {amount, discount}). NULL on every other item, and on a proration no discount applied to.
ALTER TABLE invoice_items ADD COLUMN proration_discount_mode TEXT;
ALTER TABLE invoice_items ADD COLUMN proration_discount_amounts TEXT;
-- billing_mode[flexible][proration_discounts] ('included' | 'itemized'; NULL: classic, or made
-- before) of what makes a subscription later: a schedule (api/subscription_schedules.c, its
-- subscription's mode), a quote's and a Checkout Session's subscription_data (api/quotes.c,
-- api/checkout.c).
ALTER TABLE subscription_schedules ADD COLUMN billing_mode_proration_discounts TEXT;
ALTER TABLE quotes ADD COLUMN sub_proration_discounts TEXT;
ALTER TABLE checkout_sessions ADD COLUMN sub_proration_discounts TEXT;

-- PostgreSQL port of migrations/sqlite/0179_proration_discounts.sql: a proration's billing mode
-- (classic | included | itemized) and what the subscription's discounts took from it (a JSON
-- array of {amount, discount}); NULL on every other item.
ALTER TABLE invoice_items ADD COLUMN proration_discount_mode TEXT;
ALTER TABLE invoice_items ADD COLUMN proration_discount_amounts TEXT;
-- billing_mode[flexible][proration_discounts] of a schedule, and of a quote's and a Checkout
-- Session's subscription_data (NULL: classic, or made before).
ALTER TABLE subscription_schedules ADD COLUMN billing_mode_proration_discounts TEXT;
ALTER TABLE quotes ADD COLUMN sub_proration_discounts TEXT;
ALTER TABLE checkout_sessions ADD COLUMN sub_proration_discounts TEXT;

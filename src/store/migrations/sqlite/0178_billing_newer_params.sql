-- Billing parameters of newer API versions (stripe-node 23) that Tender now keeps.
--
-- An invoice item's quantity_decimal (up to 12 decimal places, as text; NULL: its whole
-- `quantity` is the quantity): its amount is the unit amount times it, rounded once.
ALTER TABLE invoice_items ADD COLUMN quantity_decimal TEXT;
-- A credit note's refunds[] linked (a JSON array of {refund, amount_refunded}, in the order
-- given; NULL: only the `refund` column, made by it or linked whole by `refund`).
ALTER TABLE credit_notes ADD COLUMN refunds TEXT;
-- A payout's payout_method (the external account it was asked to go to by that name; NULL:
-- none given, `destination` or the default account).
ALTER TABLE payouts ADD COLUMN payout_method TEXT;

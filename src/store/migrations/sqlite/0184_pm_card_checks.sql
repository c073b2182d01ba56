-- A card PaymentMethod's card.checks once the issuer has checked the card (a payment or a
-- SetupIntent's verification: src/api/payments_common.c): pass, fail or unavailable, the latest
-- answer for each part. NULL until then, when the part given shows `unchecked` (and a part not
-- given null).
ALTER TABLE payment_methods ADD COLUMN check_cvc TEXT;
ALTER TABLE payment_methods ADD COLUMN check_address_line1 TEXT;
ALTER TABLE payment_methods ADD COLUMN check_address_postal_code TEXT;

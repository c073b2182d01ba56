-- A charge names the invoice its PaymentIntent pays (Stripe's charge.invoice), copied from the
-- intent when the charge is made; NULL for every other charge.
ALTER TABLE charges ADD COLUMN invoice TEXT;

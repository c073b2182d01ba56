-- A PaymentIntent's newer parameters (stripe-node 23): amount_details (line items, shipping, tax,
-- discount and the arithmetic check's error), payment_details, excluded_payment_method_types and
-- hooks, kept together as one JSON object (api/pi_details.c). NULL for an intent that was given
-- none of them, which is nearly every one: the confirm path reads and writes one NULL more.
ALTER TABLE payment_intents ADD COLUMN details TEXT;

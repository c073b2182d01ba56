-- The Radar review (prv_…) a PaymentIntent's charge was placed in, shown as the intent's
-- `review`; set by the write that approves the charge and opens the review, NULL otherwise.
ALTER TABLE payment_intents ADD COLUMN review TEXT;

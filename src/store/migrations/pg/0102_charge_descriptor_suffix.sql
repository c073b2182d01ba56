-- A card charge's statement_descriptor_suffix (its PaymentIntent's, e.g. a Checkout Session's
-- payment_intent_data[statement_descriptor_suffix]), which its calculated_statement_descriptor
-- appends to the account's prefix; NULL when none (and for every non-card charge).
ALTER TABLE charges ADD COLUMN statement_descriptor_suffix TEXT;

-- iDEAL and Bancontact on SetupIntents: a SetupIntent waiting at the bank keeps its row of
-- redirect_authorizations too (payment_intent then holds its seti_ id: intent ids never collide).
-- acceptance_type (online | offline), acceptance_ip and acceptance_ua: the customer_acceptance
-- of the confirmation's mandate_data, which the multi-use mandate generated on authorization
-- records; NULL for a PaymentIntent's row (its mandate is accepted online on the page).
ALTER TABLE redirect_authorizations ADD COLUMN acceptance_type TEXT;
ALTER TABLE redirect_authorizations ADD COLUMN acceptance_ip TEXT;
ALTER TABLE redirect_authorizations ADD COLUMN acceptance_ua TEXT;

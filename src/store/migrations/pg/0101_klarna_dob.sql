-- Klarna (klarna): a PaymentMethod's klarna[dob], the customer's date of birth as Stripe takes
-- it, kept as the JSON its object shows ({"day":1,"month":2,"year":1990}); NULL when not given
-- (and for every other type).
ALTER TABLE payment_methods ADD COLUMN klarna_dob TEXT;

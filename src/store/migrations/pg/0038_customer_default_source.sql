-- A customer's legacy default source (Stripe's Cards API, api/sources.c): the card_… that a
-- charge naming only the customer pays with. The cards themselves are payment_methods rows with
-- card_… ids (their numbers stay sealed in vault_cards), so that a card source is also a
-- PaymentMethod, as on Stripe. NULL: the customer has no card source.
ALTER TABLE customers ADD COLUMN default_source TEXT;

-- What a Checkout Session asks of the buyer beyond the card, as given on create (one JSON
-- object: billing_address_collection, phone_number_collection, customer_creation,
-- customer_update, locale, custom_text, after_expiration; NULL: none of them, as sessions
-- made before), the phone number the buyer typed (customer_details.phone), and the session's
-- custom_fields as it shows them (JSON array; the attempt fills in the buyer's values), the
-- buyer's consent (JSON {promotions, terms_of_service}) and tax ids (JSON [{type, value}]).
ALTER TABLE checkout_sessions ADD COLUMN collect TEXT;
ALTER TABLE checkout_sessions ADD COLUMN details_phone TEXT;
ALTER TABLE checkout_sessions ADD COLUMN custom_fields TEXT;
ALTER TABLE checkout_sessions ADD COLUMN consent TEXT;
ALTER TABLE checkout_sessions ADD COLUMN details_tax_ids TEXT;

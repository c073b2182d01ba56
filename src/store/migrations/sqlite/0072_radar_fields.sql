-- Radar's card_bin rule field (risk/rules.h): the card's first six digits, which the vault
-- computes when it seals a number (vault_card_info.iin) and which Stripe lets rules read but
-- shows nowhere in the API. Kept beside the other public facts of a PaymentMethod and of a
-- token; NULL for rows made before this migration (their BIN matches no rule).
ALTER TABLE payment_methods ADD COLUMN bin TEXT;
ALTER TABLE tokens ADD COLUMN bin TEXT;

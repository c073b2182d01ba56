-- A PaymentMethod detached from its customer (POST /v1/payment_methods/{id}/detach, or its
-- customer deleted) can never pay or be attached again, as on Stripe; one never attached
-- (customer NULL, detached 0) still can. A card source (card_…) without a customer was deleted
-- and is refused for that already; it is marked too. 0 for every PaymentMethod made before.
ALTER TABLE payment_methods ADD COLUMN detached BIGINT NOT NULL DEFAULT 0;

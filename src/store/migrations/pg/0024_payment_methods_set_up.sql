-- A PaymentMethod set up for later payments with the cardholder authenticated (a SetupIntent,
-- or a payment with setup_future_usage=off_session, through 3-D Secure). Issuers let
-- off-session payments of such a card through without asking again; Stripe's test card
-- 4000002500003155 behaves that way. 0 for every PaymentMethod made before.
ALTER TABLE payment_methods ADD COLUMN set_up BIGINT NOT NULL DEFAULT 0;

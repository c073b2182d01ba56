-- A merchant's category code (ISO 18245 MCC, Stripe's business_profile.mcc): one of the fraud
-- model's features (a card tester's favourite categories differ from a grocer's). 0 = unknown.
ALTER TABLE merchants ADD COLUMN mcc INTEGER NOT NULL DEFAULT 0 CHECK (mcc BETWEEN 0 AND 9999);

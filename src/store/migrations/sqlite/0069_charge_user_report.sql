-- A charge's fraud_details[user_report] (POST /v1/charges/{id}: the merchant's own report,
-- "fraudulent" or "safe"; NULL until it makes one). Stripe's fraud_details.stripe_report is not
-- kept: Tender's Radar decisions are in the charge's outcome.
ALTER TABLE charges ADD COLUMN user_report TEXT;

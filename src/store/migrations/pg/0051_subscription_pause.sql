-- Pausing (src/api/subscriptions.c). pause_behavior and pause_resumes_at are a subscription's
-- pause_collection (NULL: collecting): its renewal invoices are made but kept as drafts,
-- voided or marked uncollectible instead of charged, until resumes_at, when the scheduler
-- unsets it. trial_missing_pm is trial_settings.end_behavior.missing_payment_method: what a
-- trial ending without a payment method does (create_invoice, cancel, or pause: status
-- paused since paused_at, until POST /v1/subscriptions/{id}/resume). trial_notice_for is the
-- trial_end that customer.subscription.trial_will_end was sent for, so that each trial is
-- announced once. An invoice marked uncollectible records when (invoices.marked_uncollectible_at).
ALTER TABLE subscriptions ADD COLUMN pause_behavior TEXT;
ALTER TABLE subscriptions ADD COLUMN pause_resumes_at BIGINT;
ALTER TABLE subscriptions ADD COLUMN trial_missing_pm TEXT NOT NULL DEFAULT 'create_invoice';
ALTER TABLE subscriptions ADD COLUMN trial_notice_for BIGINT;
ALTER TABLE subscriptions ADD COLUMN paused_at BIGINT;
ALTER TABLE invoices ADD COLUMN marked_uncollectible_at BIGINT;

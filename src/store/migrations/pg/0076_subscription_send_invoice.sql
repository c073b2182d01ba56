-- Subscriptions with collection_method=send_invoice (subscriptions.c): their invoices are
-- finalized without being charged, each due days_until_due days after its finalization, and
-- are paid by the customer (the hosted invoice page, POST /v1/invoices/{id}/pay) or marked paid.
-- days_until_due is NULL for charge_automatically. An invoice keeps the method it was made with.
ALTER TABLE subscriptions ADD COLUMN collection_method TEXT NOT NULL DEFAULT 'charge_automatically';
ALTER TABLE subscriptions ADD COLUMN days_until_due BIGINT;
-- A subscription's open send_invoice invoices, whose next_payment_attempt is their overdue
-- notice (the scheduler's invoice step, as for one-off invoices): found by their time.
CREATE INDEX invoices_overdue_step ON invoices (next_payment_attempt)
  WHERE subscription IS NOT NULL AND collection_method = 'send_invoice' AND status = 'open'
  AND next_payment_attempt IS NOT NULL;

-- Subscriptions with collection_method=send_invoice (subscriptions.c): their invoices are
-- finalized without being charged, each due days_until_due days after its finalization, and
-- are paid by the customer (the hosted invoice page, POST /v1/invoices/{id}/pay) or marked paid.
-- days_until_due is NULL for charge_automatically. An invoice keeps the method it was made with.
ALTER TABLE subscriptions ADD COLUMN collection_method TEXT NOT NULL DEFAULT 'charge_automatically';
ALTER TABLE subscriptions ADD COLUMN days_until_due INTEGER;

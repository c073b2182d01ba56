-- Invoices with collection_method=send_invoice (invoices.c): the customer pays them through the
-- hosted invoice page (invoice_page.c) or the merchant marks them paid. days_until_due or
-- due_date says when they are due; while open, next_payment_attempt holds the time of their
-- overdue notice (invoice.overdue, once) and is rendered null, as Stripe shows it for them.
ALTER TABLE invoices ADD COLUMN collection_method TEXT NOT NULL DEFAULT 'charge_automatically';
ALTER TABLE invoices ADD COLUMN days_until_due BIGINT;
ALTER TABLE invoices ADD COLUMN due_date BIGINT;
-- SHA-256 of the hosted page's secret (vault_page_token): the page finds its invoice by it.
ALTER TABLE invoices ADD COLUMN hosted_token_hash TEXT;
ALTER TABLE invoices ADD COLUMN paid_out_of_band BIGINT NOT NULL DEFAULT 0;
CREATE INDEX invoices_hosted_token ON invoices (merchant_id, hosted_token_hash)
  WHERE hosted_token_hash IS NOT NULL;

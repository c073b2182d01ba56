-- next_pending_invoice_item_invoice (api/subscriptions.c): when the scheduler next invoices a
-- subscription's pending invoice items by its pending_invoice_item_interval (NULL: no interval).
-- A subscription given an interval before this column existed has none due (NULL) until its
-- interval is set again.
ALTER TABLE subscriptions ADD COLUMN next_pending_invoice_at BIGINT;

-- Payment links (/v1/payment_links): a page Tender serves where anyone can pay for fixed line
-- items. line_items holds the items as they were priced when the link was made (prices never
-- change their amount), amount_total their sum. A payment through the link is an ordinary
-- PaymentIntent (metadata.payment_link names the link). Lists page by id (0021).
CREATE TABLE payment_links (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
  active BIGINT NOT NULL,
  currency TEXT NOT NULL,
  amount_total BIGINT NOT NULL,
  line_items TEXT NOT NULL,
  after_completion_type TEXT NOT NULL,
  redirect_url TEXT,
  confirmation_message TEXT,
  submit_type TEXT NOT NULL,
  pi_capture_method TEXT,
  pi_description TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  PRIMARY KEY (merchant_id, id)
);

-- balance_transactions_source leaves charges' balance transactions out (issue 10): a charge's is
-- found from the charge row (charges.balance_transaction, two primary-key reads), and only
-- refunds and disputes look theirs up by source. One B-tree insert fewer for every payment.
DROP INDEX balance_transactions_source;
CREATE INDEX balance_transactions_source ON balance_transactions (merchant_id, source)
  WHERE type <> 'charge';

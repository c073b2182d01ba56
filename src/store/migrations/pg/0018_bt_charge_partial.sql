-- balance_transactions_charge serves one lookup: the refunds and refund failures of a charge
-- (ledger.c SQL_REFUNDED and verify's check of converted charges' refunds, both filtering
-- type IN ('refund', 'refund_failure'), which PostgreSQL matches to the index's predicate). A
-- charge's own balance transaction is found by source, so the index holds only those two types
-- (issue 10): a captured payment no longer pays an insert into it.
DROP INDEX balance_transactions_charge;
CREATE INDEX balance_transactions_charge ON balance_transactions (merchant_id, charge_id)
  WHERE type IN ('refund', 'refund_failure');

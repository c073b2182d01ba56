-- The list indexes are kept in ascending order (issue 10). Declared (merchant_id, created DESC,
-- id DESC), every new object went in at the *left* end of its merchant's range, and SQLite's
-- b-tree balancing packs cells to the left: after each rebalance the leftmost leaf is full
-- again, so every insert into these indexes rebalanced three leaves and their parent (~14 K
-- instructions and four WAL frames each time; seven such inserts per confirmed payment, a fifth
-- of the writer's work). Ascending, a new object goes in at the right end of its merchant's
-- range, where a rebalance leaves room for the next ones. The lists still read newest first:
-- SQLite walks an index backwards for ORDER BY created DESC, id DESC, with no sort step.
DROP INDEX payment_intents_list;
CREATE INDEX payment_intents_list ON payment_intents (merchant_id, created, id);
DROP INDEX charges_list;
CREATE INDEX charges_list ON charges (merchant_id, created, id);
DROP INDEX payment_methods_list;
CREATE INDEX payment_methods_list ON payment_methods (merchant_id, created, id);
DROP INDEX balance_transactions_list;
CREATE INDEX balance_transactions_list ON balance_transactions (merchant_id, created, id);
DROP INDEX events_list;
CREATE INDEX events_list ON events (merchant_id, created, id);
DROP INDEX refunds_list;
CREATE INDEX refunds_list ON refunds (merchant_id, created, id);
DROP INDEX customers_list;
CREATE INDEX customers_list ON customers (merchant_id, created, id);
DROP INDEX disputes_list;
CREATE INDEX disputes_list ON disputes (merchant_id, created, id);
DROP INDEX webhook_endpoints_list;
CREATE INDEX webhook_endpoints_list ON webhook_endpoints (merchant_id, created, id);

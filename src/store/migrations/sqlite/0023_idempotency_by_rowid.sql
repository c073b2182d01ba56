-- Expired idempotency records are pruned from the front of the table, in rowid order, the order
-- they were first saved (src/http/idempotency.c), so their `created` index goes (issue 10): one
-- B-tree insert fewer for every keyed request. PostgreSQL keeps it (its rows have no such order).
DROP INDEX idempotency_keys_created;

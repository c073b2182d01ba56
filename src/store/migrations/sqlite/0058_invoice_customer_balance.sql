-- An invoice takes its customer's credit balance when it is finalized (src/api/invoices.c,
-- customer_balance_apply): starting_balance and ending_balance are the customer's balance
-- before and after, amount_due what is left to charge (total + starting_balance, never below
-- zero). Invoices finalized before this took no balance: their amount_due is their total (a
-- total below zero charged nothing).
ALTER TABLE invoices ADD COLUMN starting_balance INTEGER NOT NULL DEFAULT 0;
ALTER TABLE invoices ADD COLUMN ending_balance INTEGER NOT NULL DEFAULT 0;
ALTER TABLE invoices ADD COLUMN amount_due INTEGER NOT NULL DEFAULT 0;
UPDATE invoices SET amount_due = CASE WHEN total > 0 THEN total ELSE 0 END;

-- PostgreSQL port of migrations/sqlite/0149_treasury.sql.
-- Stripe Treasury (api/treasury.c): financial accounts (fa_) of a merchant (on Stripe, of a
-- connected account, reached with Stripe-Account), the money received into and taken out of them
-- (received credits rc_ and received debits rd_, one table, kind telling which), and the Treasury
-- transactions (trxn_) and their entries (trxne_) that moved each account's balance.
-- A financial account's ABA account number is made and sealed by the vault (vault_ibans, under
-- the account's id); only its last four digits are here. Its balance is never stored: it is the
-- sum of its transaction entries (cash, inbound_pending, outbound_pending), which are insert-only,
-- and each transaction is also a journal transaction of the ledger (ledger/ledger_treasury.h),
-- which tender verify checks against them. Outbound transfers (obt_), outbound payments (obp_)
-- and inbound transfers (ibt_) are one table, kind telling which: their status moves forward only
-- (processing, then posted / succeeded, failed, canceled or returned), each move with the entries
-- it books; an outbound payment's own bank account number is sealed by the vault under its id.
-- Credit reversals (credrev_) and debit reversals (debrev_) send a received credit back or get a
-- received debit back, once each (treasury_received.reversal names it). A returned inbound
-- transfer takes its money back as a received debit (treasury_flows.received_debit names it, and
-- it names the transfer in treasury_received.inbound_transfer).
-- `movements` is bumped by every movement of an account so that two concurrent debits of one
-- account serialize on its row (PostgreSQL).
CREATE TABLE treasury_financial_accounts (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
  status TEXT NOT NULL,
  supported_currencies TEXT NOT NULL,
  features TEXT NOT NULL,
  platform_restrictions TEXT,
  metadata TEXT NOT NULL,
  holder_name TEXT NOT NULL,
  routing_number TEXT NOT NULL,
  account_last4 TEXT NOT NULL,
  movements BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (merchant_id, id)
);
CREATE TABLE treasury_received (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  kind TEXT NOT NULL,
  created BIGINT NOT NULL,
  financial_account TEXT NOT NULL,
  amount BIGINT NOT NULL,
  currency TEXT NOT NULL,
  network TEXT NOT NULL,
  description TEXT NOT NULL,
  status TEXT NOT NULL,
  failure_code TEXT,
  initiating TEXT NOT NULL,
  transaction_id TEXT,
  reversal TEXT,
  inbound_transfer TEXT,
  PRIMARY KEY (merchant_id, id)
);
CREATE INDEX treasury_received_by_fa ON treasury_received (merchant_id, financial_account, kind, id);
CREATE TABLE treasury_transactions (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
  financial_account TEXT NOT NULL,
  amount BIGINT NOT NULL,
  currency TEXT NOT NULL,
  description TEXT NOT NULL,
  flow TEXT,
  flow_type TEXT NOT NULL,
  status TEXT NOT NULL,
  posted_at BIGINT,
  void_at BIGINT,
  PRIMARY KEY (merchant_id, id)
);
CREATE INDEX treasury_transactions_by_fa ON treasury_transactions (merchant_id, financial_account, id);
CREATE TABLE treasury_transaction_entries (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
  effective_at BIGINT NOT NULL,
  transaction_id TEXT NOT NULL,
  financial_account TEXT NOT NULL,
  currency TEXT NOT NULL,
  flow TEXT,
  flow_type TEXT NOT NULL,
  type TEXT NOT NULL,
  cash BIGINT NOT NULL,
  inbound_pending BIGINT NOT NULL,
  outbound_pending BIGINT NOT NULL,
  PRIMARY KEY (merchant_id, id)
);
CREATE INDEX treasury_entries_by_fa ON treasury_transaction_entries (merchant_id, financial_account, id);
CREATE INDEX treasury_entries_by_txn ON treasury_transaction_entries (merchant_id, transaction_id, id);
CREATE TABLE treasury_flows (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  kind TEXT NOT NULL,
  created BIGINT NOT NULL,
  financial_account TEXT NOT NULL,
  amount BIGINT NOT NULL,
  currency TEXT NOT NULL,
  description TEXT,
  statement_descriptor TEXT NOT NULL,
  payment_method TEXT,
  method_details TEXT NOT NULL,
  customer TEXT,
  end_user_details TEXT,
  metadata TEXT NOT NULL,
  status TEXT NOT NULL,
  expected_arrival_date BIGINT,
  canceled_at BIGINT,
  failed_at BIGINT,
  posted_at BIGINT,
  returned_at BIGINT,
  transaction_id TEXT NOT NULL,
  failure_code TEXT,
  returned_code TEXT,
  return_transaction TEXT,
  received_debit TEXT,
  PRIMARY KEY (merchant_id, id)
);
CREATE INDEX treasury_flows_by_fa ON treasury_flows (merchant_id, financial_account, kind, id);
CREATE TABLE treasury_reversals (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  kind TEXT NOT NULL,
  created BIGINT NOT NULL,
  financial_account TEXT NOT NULL,
  amount BIGINT NOT NULL,
  currency TEXT NOT NULL,
  network TEXT NOT NULL,
  received TEXT NOT NULL,
  metadata TEXT NOT NULL,
  status TEXT NOT NULL,
  settled_at BIGINT,
  transaction_id TEXT NOT NULL,
  PRIMARY KEY (merchant_id, id)
);
CREATE INDEX treasury_reversals_by_fa ON treasury_reversals (merchant_id, financial_account, kind, id);

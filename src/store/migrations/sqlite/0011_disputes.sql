-- Disputes (chargebacks and inquiries) and the card network's notifications still to arrive.
-- A charge is disputed at most once: the unique index on (merchant_id, charge) refuses a second
-- dispute even if two openers race. Status changes are conditional updates on the old status;
-- every money movement of a dispute is a journal transaction plus an "adjustment" balance
-- transaction whose source is the dispute (0004_ledger.sql).

CREATE TABLE disputes (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
  charge TEXT NOT NULL,
  payment_intent TEXT,
  amount INTEGER NOT NULL CHECK (amount > 0),
  currency TEXT NOT NULL,
  reason TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('warning_needs_response', 'warning_under_review',
    'warning_closed', 'needs_response', 'under_review', 'won', 'lost')),
  evidence TEXT NOT NULL DEFAULT '{}',
  metadata TEXT NOT NULL DEFAULT '{}',
  due_by INTEGER NOT NULL,
  past_due INTEGER NOT NULL DEFAULT 0,
  submission_count INTEGER NOT NULL DEFAULT 0,
  -- test mode: when the card network decides a submitted dispute (NULL: nothing pending)
  decide_at INTEGER,
  brand TEXT,
  network_reason_code TEXT,
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX disputes_charge ON disputes (merchant_id, charge);
CREATE INDEX disputes_list ON disputes (merchant_id, created DESC, id DESC);
CREATE INDEX disputes_intent ON disputes (merchant_id, payment_intent);
CREATE INDEX disputes_decide ON disputes (decide_at) WHERE decide_at IS NOT NULL;
CREATE INDEX disputes_due ON disputes (status, due_by);

-- A dispute the card network will open (test cards 0259, 2685, 1976): written in the charge's
-- transaction, opened by the scheduler once due_at has passed (status pending → done, guarded).
CREATE TABLE dispute_jobs (
  merchant_id TEXT NOT NULL,
  charge TEXT NOT NULL,
  reason TEXT NOT NULL,
  amount INTEGER NOT NULL CHECK (amount > 0),
  created INTEGER NOT NULL,
  due_at INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'done')),
  dispute TEXT,
  PRIMARY KEY (merchant_id, charge)
) WITHOUT ROWID;
CREATE INDEX dispute_jobs_due ON dispute_jobs (status, due_at);

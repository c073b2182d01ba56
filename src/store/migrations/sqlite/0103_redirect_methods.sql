-- iDEAL and Bancontact (ideal, bancontact): PaymentMethods paid by redirecting the customer to
-- their bank. payment_methods.type 'ideal' or 'bancontact': nothing is sealed in the vault (the
-- customer authorizes at the bank; card_id is empty). ideal_bank: an iDEAL PaymentMethod's
-- ideal[bank] (Stripe's bank code, e.g. 'ing'), NULL when the customer chooses it at the bank.
ALTER TABLE payment_methods ADD COLUMN ideal_bank TEXT;

-- The hosted test page of a PaymentIntent waiting in requires_action for a redirect
-- (/redirect/{merchant}/{intent}/{token}): one row per intent, replaced when the intent is
-- confirmed again. token: the page's unguessable secret. status pending -> succeeded | failed,
-- by a guarded update in the same write that moves the intent, so that a second click or a
-- replayed POST changes nothing more.
CREATE TABLE redirect_authorizations (
  merchant_id TEXT NOT NULL,
  payment_intent TEXT NOT NULL,
  token TEXT NOT NULL,
  payment_method TEXT NOT NULL,
  status TEXT NOT NULL,
  created INTEGER NOT NULL,
  PRIMARY KEY (merchant_id, payment_intent)
) WITHOUT ROWID;

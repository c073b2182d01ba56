/*
 * The Issuing balance: the money a merchant's issued cards (api/issuing.c) spend, kept apart
 * from its payments balance, as Stripe keeps it.
 *
 * Accounts (per merchant and currency, added to ledger.h's):
 *   issuing_available  the merchant's Issuing balance (credit = the merchant's funds)
 *   issuing_held       what approved, still pending authorizations hold of it (credit = held)
 *   issuing_network    what the merchant owes the card networks for its cards' purchases
 *                      (credit = owed), less what they gave back (refunds, won disputes)
 *
 * Movements (each one balanced journal transaction, in the caller's write transaction, and one
 * balance transaction of balance_type "issuing", fee 0, available at once):
 *   issuing_topup    a top-up with destination_balance=issuing that the bank has paid:
 *                    DR topup_funding / CR issuing_available; type "topup", +a
 *   issuing_hold     an approved authorization (or increment) holds a of the balance:
 *                    DR issuing_available / CR issuing_held; type
 *                    "issuing_authorization_hold", −a, source the authorization
 *   issuing_release  a capture, reversal or expiry gives the hold back:
 *                    DR issuing_held / CR issuing_available; type
 *                    "issuing_authorization_release", +a, source the authorization
 *   issuing_spend    a capture (or force capture) takes a from the balance for the network:
 *                    DR issuing_available / CR issuing_network; type "issuing_transaction", −a,
 *                    source the transaction
 *   issuing_credit   a refund transaction (or a won dispute: type "issuing_dispute") brings a back:
 *                    DR issuing_network / CR issuing_available; +a, source the transaction
 *                    (the dispute)
 *
 * Balance transactions of the Issuing balance have balance_type 'issuing'; everything that reads
 * the payments balance (GET /v1/balance's available and pending, payouts, reports) selects
 * balance_type 'payments', and GET /v1/balance shows issuing.available from these. tender verify
 * checks them against issuing_available as it checks the others against the merchant's accounts,
 * and that no authorization released more than it held (issuing_held per source never debited
 * past zero).
 */
#ifndef TENDER_LEDGER_LEDGER_ISSUING_H
#define TENDER_LEDGER_LEDGER_ISSUING_H

#include <stdint.h>

#include "core/id.h"
#include "store/db.h"

#define LEDGER_ACCT_ISSUING_AVAILABLE "issuing_available"
#define LEDGER_ACCT_ISSUING_HELD "issuing_held"
#define LEDGER_ACCT_ISSUING_NETWORK "issuing_network"

/* As ledger_topup (ledger_topup.h), into the Issuing balance. */
int ledger_issuing_topup(struct db *db, const char *merchant_id, const char *topup_id,
			 int64_t amount, const char *currency, const char *description, int64_t now,
			 char ret_balance_txn_id[ID_MAX]);

/* The movements above, amount 1 … LEDGER_AMOUNT_MAX (else LEDGER_ERR_INVALID / _OVERFLOW);
 * ret_balance_txn_id (may be NULL) gets the balance transaction's id. DB_OK or < 0. */
int ledger_issuing_hold(struct db *db, const char *merchant_id, const char *authorization_id,
			int64_t amount, const char *currency, int64_t now,
			char ret_balance_txn_id[ID_MAX]);
int ledger_issuing_release(struct db *db, const char *merchant_id, const char *authorization_id,
			   int64_t amount, const char *currency, int64_t now,
			   char ret_balance_txn_id[ID_MAX]);
int ledger_issuing_spend(struct db *db, const char *merchant_id, const char *transaction_id,
			 int64_t amount, const char *currency, int64_t now,
			 char ret_balance_txn_id[ID_MAX]);
/* bt_type: "issuing_transaction" (a refund) or "issuing_dispute" (a won dispute) */
int ledger_issuing_credit(struct db *db, const char *merchant_id, const char *source_id,
			  const char *bt_type, int64_t amount, const char *currency, int64_t now,
			  char ret_balance_txn_id[ID_MAX]);

/* The merchant's Issuing balance in currency (Σ net of its balance transactions), into *ret.
 * DB_OK or < 0 (a sum that overflows fails). */
int ledger_issuing_available(struct db *db, const char *merchant_id, const char *currency,
			     int64_t *ret);

#endif

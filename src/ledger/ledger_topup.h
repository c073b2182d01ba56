/*
 * Top-ups: money the merchant sends from its own bank account into its Tender balance.
 *
 * Account (per merchant and currency, added to ledger.h's):
 *   topup_funding  what merchants' banks paid in: Tender holds it for them (debit = received)
 *
 * Movement (one balanced journal transaction, in the caller's write transaction), made when the
 * bank has paid (the top-up succeeds); nothing is posted while it is pending, canceled or failed:
 *   topup   DR topup_funding / CR merchant_available; balance txn type "topup", amount +a,
 *           fee 0, status available at once (as Stripe's test mode makes top-ups available;
 *           the top-up's expected_availability_date is its success)
 *
 * So for every merchant and currency topup_funding holds exactly the succeeded top-ups
 * (ledger_verify checks it against the topups table).
 */
#ifndef TENDER_LEDGER_LEDGER_TOPUP_H
#define TENDER_LEDGER_LEDGER_TOPUP_H

#include <stdint.h>

#include "core/id.h"
#include "store/db.h"

#define LEDGER_ACCT_TOPUP_FUNDING "topup_funding"

/* amount: 1 … LEDGER_AMOUNT_MAX minor units of currency; description: the balance
 * transaction's (NULL: none). ret_balance_txn_id gets the balance transaction's id. */
int ledger_topup(struct db *db, const char *merchant_id, const char *topup_id, int64_t amount,
		 const char *currency, const char *description, int64_t now,
		 char ret_balance_txn_id[ID_MAX]);

#endif

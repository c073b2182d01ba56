/*
 * The Issuing balance: the money a merchant's issued cards (api/issuing.c) spend, kept apart
 * from its payments balance, as Stripe keeps it.
 *
 * Account (per merchant and currency, added to ledger.h's):
 *   issuing_available  the merchant's Issuing balance (credit = the merchant's funds)
 *
 * Movement (one balanced journal transaction, in the caller's write transaction):
 *   issuing_topup  a top-up with destination_balance=issuing that the bank has paid:
 *                  DR topup_funding / CR issuing_available; balance txn type "topup",
 *                  balance_type "issuing", amount +a, fee 0, available at once
 *
 * Balance transactions of the Issuing balance have balance_type 'issuing'; everything that reads
 * the payments balance (GET /v1/balance's available and pending, payouts, reports) selects
 * balance_type 'payments', and GET /v1/balance shows issuing.available from these. tender verify
 * checks them against issuing_available as it checks the others against the merchant's accounts.
 */
#ifndef TENDER_LEDGER_LEDGER_ISSUING_H
#define TENDER_LEDGER_LEDGER_ISSUING_H

#include <stdint.h>

#include "core/id.h"
#include "store/db.h"

#define LEDGER_ACCT_ISSUING_AVAILABLE "issuing_available"

/* As ledger_topup (ledger_topup.h), into the Issuing balance. */
int ledger_issuing_topup(struct db *db, const char *merchant_id, const char *topup_id,
			 int64_t amount, const char *currency, const char *description, int64_t now,
			 char ret_balance_txn_id[ID_MAX]);

#endif

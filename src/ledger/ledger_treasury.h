/*
 * Stripe Treasury's money (api/treasury.c): each financial account's balance is its own, apart
 * from the merchant's payments balance (and from its Issuing balance), as Stripe keeps it.
 *
 * Accounts (per merchant and currency, added to ledger.h's; credit = held for the financial
 * account's owner):
 *   treasury_cash              money in the merchant's financial accounts, spendable
 *   treasury_inbound_pending   money on its way in, not yet spendable
 *   treasury_outbound_pending  money on its way out, no longer spendable
 *   treasury_network           the other side: the banks and networks (ACH, wires) that money
 *                              arrives from and leaves to (debit = owed in by the networks)
 *
 * Movement: every Treasury transaction (trxn_) is one balanced journal transaction of kind
 * "treasury" whose source is the Treasury transaction's id, posted in the caller's write
 * transaction together with the transaction entries (trxne_) it books. Its entries are the
 * balance impact of those entries (cash, inbound_pending, outbound_pending; positive raises the
 * financial account's balance, so it is a credit of that bucket) and, across treasury_network,
 * the money that crossed the account's edge (their sum). A received credit of a: CR
 * treasury_cash a / DR treasury_network a; a received debit the reverse.
 *
 * Which financial account a journal entry belongs to is its transaction's (journal_txns.source =
 * treasury_transactions.id); tender verify (ledger_verify.c) checks, per financial account,
 * currency and bucket, that the transaction entries the API shows and sums as the balance equal
 * the journal, and that no Treasury journal entry lacks its Treasury transaction.
 */
#ifndef TENDER_LEDGER_LEDGER_TREASURY_H
#define TENDER_LEDGER_LEDGER_TREASURY_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger.h"
#include "store/db.h"

#define LEDGER_ACCT_TREASURY_CASH "treasury_cash"
#define LEDGER_ACCT_TREASURY_INBOUND_PENDING "treasury_inbound_pending"
#define LEDGER_ACCT_TREASURY_OUTBOUND_PENDING "treasury_outbound_pending"
#define LEDGER_ACCT_TREASURY_NETWORK "treasury_network"

/* A financial account's balance impact (or balance): signed minor units of one currency. */
struct treasury_impact {
	int64_t cash, inbound_pending, outbound_pending;
};

/* Pure: the journal entries of impact in currency (at most 4, the zero ones left out) into
 * out; *ret_n their number. 0, LEDGER_ERR_OVERFLOW when a part or their sum is beyond
 * ±LEDGER_AMOUNT_MAX, LEDGER_ERR_INVALID when nothing moves. */
int ledger_treasury_entries(const struct treasury_impact *impact, const char *currency,
			    struct ledger_entry out[4], size_t *ret_n);

/* Pure: *acc += add, bucket by bucket, overflow-checked. 0, or LEDGER_ERR_OVERFLOW (acc
 * unchanged). */
int ledger_treasury_add(struct treasury_impact *acc, const struct treasury_impact *add);

/* Posts Treasury transaction trxn_id's impact (above) in the caller's write transaction. 0, or a
 * LEDGER_ERR_* / DB_* code (the caller rolls back). */
int ledger_treasury_post(struct db *db, const char *merchant_id, const char *trxn_id,
			 const struct treasury_impact *impact, const char *currency, int64_t now);

#endif

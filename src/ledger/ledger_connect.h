/*
 * Connect: money moved between a platform and its connected accounts (Stripe's transfers,
 * transfer reversals and application fees).
 *
 * A connected account is a merchant of its own (its journal, its balance transactions), living
 * on its platform's shard, so every movement here is one write transaction that posts a journal
 * transaction for each of the two merchants. Each of those is balanced on its own (the journal's
 * per-merchant checks hold as before) through one more account:
 *   connect_clearing  per merchant and currency: what left a merchant for another merchant of
 *                     the same shard (credit) or came in from one (debit). Over a shard it sums
 *                     to zero in every currency: ledger_verify checks it, and that every
 *                     transfer, reversal and application fee has its balance transactions.
 *
 * Movements (a is the amount, f an application fee; "bucket" is merchant_pending when the
 * funds come from a charge whose own funds are still pending, so they become available on the
 * same day, else merchant_available):
 *   transfer         platform:     DR bucket a / CR connect_clearing a; balance txn "transfer"
 *                                  −a (source tr_…)
 *                    destination:  DR connect_clearing a / CR bucket a; and, with an application
 *                                  fee, DR bucket f / CR connect_clearing f; balance txn
 *                                  "payment" a, fee f, net a − f (source py_…), as Stripe shows a
 *                                  destination charge's payment with its application fee
 *   application fee  platform:     DR connect_clearing f / CR bucket f; balance txn
 *                                  "application_fee" +f (source fee_…)
 *   direct charge's fee  (a charge made on the connected account through Stripe-Account)
 *                    account:      DR bucket f / CR connect_clearing f; balance txn
 *                                  "application_fee" −f (source fee_…). Stripe counts this fee
 *                                  in the charge's own balance transaction instead; Tender keeps
 *                                  the charge's as the sale booked it and shows the fee beside
 *                                  it, so the sale's path is untouched
 *                    platform:     as for an application fee above
 *   transfer reversal  the reverse of a transfer's a (no fee), from both available balances:
 *                    destination "payment_refund" −r (source pyr_…), platform "transfer_refund"
 *                    +r (source trr_…)
 *   application fee refund  the reverse of a fee's f, from both available balances: platform
 *                    "application_fee_refund" −f, connected account "application_fee_refund" +f
 *                    (source fr_… on both)
 * Balance transactions made pending carry the charge's available_on, and the scheduler makes
 * them available like any other (ledger_make_available moves a negative net the other way).
 */
#ifndef TENDER_LEDGER_LEDGER_CONNECT_H
#define TENDER_LEDGER_LEDGER_CONNECT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/id.h"
#include "money/fx.h"
#include "store/db.h"

#define LEDGER_ACCT_CONNECT_CLEARING "connect_clearing"

/* Where a movement's funds are: pending until available_on, or available now. */
struct ledger_bucket {
	bool pending;
	int64_t available_on; /* when pending */
	char currency[8];     /* the funds' currency (ledger_bt_bucket fills it; not an input) */
	/* ledger_bt_bucket fills these too (not inputs): the balance transaction's amount, and
	 * for a charge converted at capture (presentment currency other than `currency`) the
	 * rate it recorded, which later conversions of that charge's amounts reuse */
	int64_t amount;
	bool converted;
	struct fx_rate rate;
};

/* The bucket of a charge's funds: its capture balance transaction's status and available_on.
 * DB_NOTFOUND when the merchant has no such balance transaction. */
int ledger_bt_bucket(struct db *db, const char *merchant_id, const char *balance_txn_id,
		     struct ledger_bucket *ret);

/* amount, in the currency of a charge that captured `captured` (that currency's minor units),
 * in its funds' currency (b from ledger_bt_bucket on the capture's balance transaction): the
 * same when nothing was converted; else at the rate the capture recorded, rounded once (money.h),
 * the whole capture being exactly what the capture booked. LEDGER_ERR_INVALID for a converted
 * bucket without a usable rate or an amount outside 0 … captured. */
int ledger_bucket_amount(const struct ledger_bucket *b, const char *charge_currency,
			 int64_t captured, int64_t amount, int64_t *ret);

struct ledger_transfer {
	const char *platform, *destination;
	const char *transfer_id;	 /* tr_… */
	const char *destination_payment; /* py_… */
	const char *currency;
	int64_t amount;
	int64_t fee;	    /* an application fee the destination pays out of it, 0: none */
	const char *fee_id; /* fee_… when fee > 0 */
	struct ledger_bucket bucket;
	int64_t now;
};

/* The transfer (and its application fee): fills the three balance transactions' ids (the fee's
 * "" when there is none). LEDGER_ERR_INVALID for a fee above the amount. */
int ledger_transfer(struct db *db, const struct ledger_transfer *t, char ret_platform_bt[ID_MAX],
		    char ret_destination_bt[ID_MAX], char ret_fee_bt[ID_MAX]);

/* A direct charge's application fee f, paid by `account` to its platform from the charge's
 * bucket. */
int ledger_application_fee_direct(struct db *db, const char *platform, const char *account,
				  const char *fee_id, int64_t f, const char *currency,
				  const struct ledger_bucket *bucket, int64_t now,
				  char ret_platform_bt[ID_MAX], char ret_account_bt[ID_MAX]);

/* A reversal of r of a transfer, from both available balances. */
int ledger_transfer_reversal(struct db *db, const char *platform, const char *destination,
			     const char *reversal_id, const char *payment_refund_id, int64_t r,
			     const char *currency, int64_t now, char ret_platform_bt[ID_MAX],
			     char ret_destination_bt[ID_MAX]);

/* An application fee's refund of f, from both available balances. */
int ledger_application_fee_refund(struct db *db, const char *platform, const char *account,
				  const char *refund_id, int64_t f, const char *currency,
				  int64_t now, char ret_platform_bt[ID_MAX],
				  char ret_account_bt[ID_MAX]);

#endif

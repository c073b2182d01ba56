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
 *                    and, for a destination charge's payment, the destination's rolling
 *                    reserve holds its share (ledger_reserve.h)
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
 *
 * A connected account's own settlement currency (S, connect_settlement_currency in
 * payments/connect.h). A transfer stays in the platform's currency P (its amount a, the
 * platform's balance transaction, the platform's and connect_clearing's entries); when the
 * destination settles in another currency, its payment arrives converted at the rate valid at
 * the transfer (fx_convert: the rate source and rounding rule of a charge's capture, ledger.h),
 * crossing the destination's fx account as a capture's conversion does:
 *     DR connect_clearing a P / CR fx a P;  DR fx a_S S / CR bucket a_S S      a_S = round(a ×
 * rate) and its application fee f (an object in P, the platform's) is paid at the same rate: DR
 * bucket f_S S / CR fx f_S S;  DR fx f P / CR connect_clearing f P     f_S = round(f × rate) (at
 * least 1 when f is, at most a_S). The "payment" balance transaction is in S: amount a_S, fee f_S,
 * exchange_rate the rate, presentment_amount a (P), charge_id its py_… (ledger_verify explains the
 * fee's legs on fx by the application fee the platform holds for that payment). A reversal of r (P)
 * of such a transfer takes back, at the payment's recorded rate, with the cumulative rule of
 * refunds (ledger.h): r_S = round(R × rate) − what earlier reversals took, R being the transfer's
 * amount reversed so far with this one, clamped to 0 … a_S − taken; so the reversals never take
 * more than arrived, and a full reversal takes exactly a_S: DR merchant_available r_S S / CR fx r_S
 * S;  DR fx r P / CR connect_clearing r P
 *   ("payment_refund" −r_S in S, presentment_amount −r; the platform's "transfer_refund" +r P).
 * A refund of the application fee gives the account f' (P) at the same rate, cumulatively as
 * well: "application_fee_refund" +f'_S in S, presentment_amount f'.
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
	int64_t fee;
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
	/* the destination's settlement currency for it: NULL or `currency`, nothing is converted;
	 * otherwise its payment arrives converted with fx at the rate valid at now (above) */
	const char *settle_currency;
	const struct fx_table *fx;
	/* a destination charge's payment: the destination's rolling reserve in force holds its
	 * share of it (ledger_reserve_hold) as it does of the account's own charges */
	bool reserve;
};

/* The currency merchant_id's funds in `currency` settle in: a connected account (one with a
 * platform) settles in `currency` itself when it has an external account (bank account or debit
 * card) in it, whose balance is then paid out there (Stripe's multi-currency settlement), else
 * in its settlement currency (its default currency), into which they are converted; any other
 * merchant (a platform, a lone merchant) in its one settlement currency. Either way `currency`
 * when the merchant has none. The one rule for the transfers to an account (connect.h) and the
 * account's own charges (ledger_capture). DB_OK, DB_NOTFOUND for an unknown merchant, or < 0. */
int ledger_settlement_currency(struct db *db, const char *merchant_id, const char *currency,
			       char ret[8]);

/* How many days merchant_id's own charges take to become available: a connected account's
 * payout schedule's delay_days (settings[payouts][schedule], at least
 * LEDGER_AVAILABLE_DELAY_DAYS), anyone else's LEDGER_AVAILABLE_DELAY_DAYS (an unknown merchant's
 * too: unit tests' ledgers). DB_OK or < 0. */
int ledger_delay_days(struct db *db, const char *merchant_id, int *ret);

/* A transfer whose conversion gives the destination nothing (1 jpy into usd): refused. */
#define LEDGER_ERR_CONVERTS_TO_ZERO (-210)

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

/* What a transfer's earlier movements back (reversals, or its fee's refunds) recorded, for the
 * cumulative conversion of the next one: the destination payment's balance transaction (whose
 * recorded rate converts them; unconverted: nothing is) and how much of the transfer (or fee)
 * in P went back before, with what that took in S. */
struct ledger_back {
	const char *payment_bt; /* the destination's "payment" balance transaction */
	const char *payment_id; /* its py_… (charge_id of the converted ones) */
	int64_t total;		/* the transfer's amount (or the fee's), P */
	int64_t before;		/* of it returned before this one, P */
	int64_t before_settled; /* what those took in S (ledger_back_settled) */
};

/* A reversal of r of a transfer, from both available balances; b: its transfer's conversion;
 * description (NULL: none): the platform's transfer_refund balance transaction's. */
int ledger_transfer_reversal(struct db *db, const char *platform, const char *destination,
			     const char *reversal_id, const char *payment_refund_id, int64_t r,
			     const char *currency, const struct ledger_back *b,
			     const char *description, int64_t now, char ret_platform_bt[ID_MAX],
			     char ret_destination_bt[ID_MAX]);

/* An application fee's refund of f, from both available balances; b (NULL: not converted): the
 * transfer the fee was paid from. */
int ledger_application_fee_refund(struct db *db, const char *platform, const char *account,
				  const char *refund_id, int64_t f, const char *currency,
				  const struct ledger_back *b, int64_t now,
				  char ret_platform_bt[ID_MAX], char ret_account_bt[ID_MAX]);

#endif

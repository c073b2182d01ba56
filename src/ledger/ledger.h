/*
 * The ledger: an append-only double-entry journal, and Stripe's balance transactions on top of it.
 *
 * Every money movement is one journal transaction: a set of entries (account, amount, currency)
 * whose amounts sum to zero per currency; entries are only ever inserted. Debits are positive,
 * credits negative. Balances are derived from entries (and, for the merchant-facing view, from
 * balance transactions), never stored and edited.
 *
 * Accounts, per merchant and currency (the account names are stable strings stored in rows):
 *   cardholder_holds     money reserved on cardholders' cards by authorizations (debit = held)
 *   authorized           the merchant's claim on those holds (credit side of a hold)
 *   acquirer_receivable  money the acquirer owes Tender for captured charges
 *   acquirer_payable     money Tender owes the acquirer/cardholders for refunds and disputes
 *   merchant_pending     the merchant's funds not yet available (credit = merchant owed)
 *   merchant_available   the merchant's available funds
 *   fees                 Tender's fee revenue
 *   fx                   absorbs rounding differences of currency conversions, visibly
 *
 * Movements (each function posts one balanced journal transaction, and where Stripe shows one,
 * creates the balance transaction, all inside the caller's write transaction):
 *   authorize   DR cardholder_holds / CR authorized                        (no balance txn)
 *   release     the reverse, for the uncaptured or canceled remainder        (no balance txn)
 *   capture     release the captured part of the hold; DR acquirer_receivable amount /
 *               CR merchant_pending amount; DR merchant_pending fee / CR fees fee;
 *               balance txn type "charge": amount, fee, net, status pending, available_on
 *   refund      DR merchant_available amount / CR acquirer_payable; balance txn type "refund"
 *               with a negative amount, status "available" at once (see below)
 *   refund_failure  the reverse of a refund: DR acquirer_payable / CR merchant_available;
 *               balance txn type "refund_failure", status "available" at once
 *   make_available  due pending balance txns: DR merchant_pending net / CR merchant_available
 *
 * Rules the numbers follow:
 * - Fee: round_half_up(amount × percent_bps / 10000) + fixed_minor, capped at the amount, so a
 *   tiny charge nets 0 and never a negative amount (20 at 2.9 % + 30 → fee 20, net 0).
 * - available_on of a charge: created + 2 days (172800 s), rounded up to the next 00:00 UTC, so a
 *   day's charges become available together, as Stripe's do. The scheduler then moves the net.
 * - Refunds and refund failures are debited/credited to the available balance at once (Stripe
 *   takes refunds from the balance immediately; available may go negative, as Stripe's can).
 *   So the balance the API shows always equals the journal: for every merchant and currency,
 *   Σ net of pending balance txns = −merchant_pending, Σ net of available = −merchant_available.
 * - Every amount a movement takes is 1 … LEDGER_AMOUNT_MAX; every sum is overflow-checked.
 * Amounts in a presentment currency other than the merchant's settlement currency are converted
 * at capture (issue 7); until then presentment == settlement and exchange_rate is null (see the
 * hook in ledger_capture).
 *
 * Every function returns 0 (DB_OK) or a negative code: LEDGER_ERR_* or DB_* from the store. On an
 * error the caller must roll its write transaction back (the posting may be half-written).
 */
#ifndef TENDER_LEDGER_LEDGER_H
#define TENDER_LEDGER_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include "core/id.h"
#include "core/json.h"
#include "store/db.h"

#define LEDGER_ERR_UNBALANCED (-200) /* entries do not sum to zero in some currency */
#define LEDGER_ERR_OVERFLOW (-201)   /* an amount above LEDGER_AMOUNT_MAX, or a sum overflowed */
#define LEDGER_ERR_INVALID (-202)    /* amount <= 0, unknown account or currency, bad pricing */

/* The largest amount one movement or entry may carry: 10^12 minor units, 10,000 × Stripe's own
 * largest charge (99,999,999). Keeps every account's int64 sum 9 million maximal movements away
 * from overflowing; beyond that SUM() fails loudly (SQLite raises "integer overflow"). */
#define LEDGER_AMOUNT_MAX INT64_C(1000000000000)
/* At most this many entries in one journal transaction. */
#define LEDGER_ENTRIES_MAX 16
/* Charges become available 2 days after capture, rounded up to the next 00:00 UTC. */
#define LEDGER_AVAILABLE_DELAY_S 172800

#define LEDGER_ACCT_CARDHOLDER_HOLDS "cardholder_holds"
#define LEDGER_ACCT_AUTHORIZED "authorized"
#define LEDGER_ACCT_ACQUIRER_RECEIVABLE "acquirer_receivable"
#define LEDGER_ACCT_ACQUIRER_PAYABLE "acquirer_payable"
#define LEDGER_ACCT_MERCHANT_PENDING "merchant_pending"
#define LEDGER_ACCT_MERCHANT_AVAILABLE "merchant_available"
#define LEDGER_ACCT_FEES "fees"
#define LEDGER_ACCT_FX "fx"

/* Pricing of one merchant: fee = round_half_up(amount × percent_bps / 10000) + fixed. */
struct ledger_pricing {
	int64_t percent_bps; /* default 290 (2.9 %); 0 … 10000 */
	int64_t fixed_minor; /* default 30; 0 … LEDGER_AMOUNT_MAX */
	const char *settlement_currency;
};

/* Loads the merchant's pricing (merchants table). DB_NOTFOUND for an unknown merchant. */
int ledger_pricing_get(struct db *db, const char *merchant_id, struct ledger_pricing *ret,
		       char currency_buf[8]);

/* The fee of a charge of amount_minor under pricing (rule above). LEDGER_ERR_INVALID for an
 * amount <= 0 or pricing out of range, LEDGER_ERR_OVERFLOW above LEDGER_AMOUNT_MAX. */
int ledger_fee(int64_t amount_minor, const struct ledger_pricing *pricing, int64_t *ret_fee_minor);

/* available_on of a charge captured at created (rule above). LEDGER_ERR_OVERFLOW for absurd
 * times. */
int ledger_available_on(int64_t created, int64_t *ret_available_on);

/* One journal entry: debit > 0, credit < 0. Zero-amount entries are dropped (a zero fee). */
struct ledger_entry {
	const char *account;  /* a LEDGER_ACCT_* name */
	const char *currency; /* lowercase ISO 4217 */
	int64_t amount_minor;
};

/* Posts one journal transaction of kind ("capture", "refund", … a short word) for source (the
 * charge, refund or balance transaction id) inside the caller's write transaction. Refuses,
 * before writing anything: fewer than 2 or more than LEDGER_ENTRIES_MAX non-zero entries, an
 * unknown account or currency (LEDGER_ERR_INVALID), |amount| > LEDGER_AMOUNT_MAX
 * (LEDGER_ERR_OVERFLOW), entries that do not sum to zero per currency (LEDGER_ERR_UNBALANCED).
 * ret_txn_id (may be NULL) gets the journal transaction id ("jtx_…"). */
int ledger_post(struct db *db, const char *merchant_id, const char *kind, const char *source,
		const struct ledger_entry *entries, size_t n, int64_t now, char ret_txn_id[ID_MAX]);

int ledger_authorize(struct db *db, const char *merchant_id, const char *charge_id, int64_t amount,
		     const char *currency, int64_t now);
int ledger_release(struct db *db, const char *merchant_id, const char *charge_id, int64_t amount,
		   const char *currency, int64_t now);
/* Captures `amount` of the hold of charge_id; creates the "charge" balance transaction
 * (status pending, available_on by ledger_available_on). */
int ledger_capture(struct db *db, const char *merchant_id, const char *charge_id, int64_t amount,
		   const char *currency, const struct ledger_pricing *pricing, int64_t now,
		   char ret_balance_txn_id[ID_MAX]);
/* Creates the "refund" balance transaction (source = refund_id, amount = −amount). */
int ledger_refund(struct db *db, const char *merchant_id, const char *refund_id,
		  const char *charge_id, int64_t amount, const char *currency, int64_t now,
		  char ret_balance_txn_id[ID_MAX]);
/* Creates the "refund_failure" balance transaction (source = refund_id, amount = +amount). */
int ledger_refund_failure(struct db *db, const char *merchant_id, const char *refund_id,
			  int64_t amount, const char *currency, int64_t now,
			  char ret_balance_txn_id[ID_MAX]);

/* Scheduler: makes up to `limit` (at most 512) due balance transactions available, across all
 * merchants of the shard. Each is switched by a conditional update (status = 'pending'), so two
 * runners never move one twice. Returns how many it switched, or < 0. */
int ledger_make_available(struct db *db, int64_t now, int limit);

/* Makes one balance transaction available now, whatever its available_on: switches its status by
 * the conditional update and, only when that update changed the row, posts DR merchant_pending /
 * CR merchant_available of its net. Returns 1 when this call moved it, 0 when it was not pending
 * (another runner moved it first) or does not exist, < 0 on error. */
int ledger_make_available_one(struct db *db, const char *merchant_id, const char *balance_txn_id,
			      int64_t now);

struct store;
/* The scheduler's job: ledger_make_available in bounded batches (one write transaction each) on
 * every shard, until nothing is due or the per-tick bound is reached. Returns how many moved. */
int ledger_scheduler_tick(struct store *s, int64_t now);

struct verify_report;
/* Every ledger invariant, one verify_fail per violation: journal balanced per transaction and
 * per currency; balance = Σ balance transactions = the journal's merchant accounts; every balance
 * transaction has its journal transaction; net = amount − fee; no zero, absurd or unknown
 * entries; funds moved to available at most once; holds never over-released. Returns 0, or -1
 * when a check could not run (reported too). */
int ledger_verify(struct db *db, struct verify_report *rep);

/* Renders GET /v1/balance for the merchant: per currency the merchant has balance transactions
 * in, available = Σ net of available ones and pending = Σ net of pending ones; empty lists when
 * it has none. */
int ledger_balance_render(struct db *db, const char *merchant_id, int livemode, struct json *j);
/* Renders one balance transaction; DB_NOTFOUND when absent. */
int ledger_balance_txn_render(struct db *db, const char *merchant_id, const char *id,
			      struct json *j);

#endif

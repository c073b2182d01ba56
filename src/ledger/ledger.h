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
 * (and the movements' own files add theirs: ledger_payout.h, ledger_topup.h, ledger_cash.h,
 * ledger_connect.h, ledger_reserve.h's merchant_reserve, which a capture's rolling reserve hold
 * credits in the same write as the capture)
 *
 * Movements (each function posts one balanced journal transaction, and where Stripe shows one,
 * creates the balance transaction, all inside the caller's write transaction):
 *   authorize   DR cardholder_holds / CR authorized                        (no balance txn)
 *   release     the reverse, for the uncaptured or canceled remainder        (no balance txn)
 *   capture     release the captured part of the hold; DR acquirer_receivable amount /
 *               CR merchant_pending amount; DR merchant_pending fee / CR fees fee;
 *               balance txn type "charge": amount, fee, net, status pending, available_on
 *   sale        a capture without its hold: an automatically captured payment is authorized
 *               and captured in the same write transaction, so a hold posted by authorize would
 *               be released by the capture before anyone could see it. The sale posts the
 *               capture's other entries as one journal transaction (kind "sale"), with the same
 *               balance transaction; nothing reads holds but the checks that none goes negative.
 *   refund      DR merchant_available amount / CR acquirer_payable; balance txn type "refund"
 *               with a negative amount, status "available" at once (see below)
 *   refund_failure  the reverse of a refund: DR acquirer_payable / CR merchant_available;
 *               balance txn type "refund_failure", status "available" at once
 *   make_available  due pending balance txns: DR merchant_pending net / CR merchant_available
 *
 * Rules the numbers follow:
 * - Fee: Stripe's standard (US account) price of the payment's method, from the fee table in
 *   ledger.c (ledger_fee): a card pays the merchant's pricing (percent_bps, fixed_minor: 2.9 % +
 *   30 unless the merchant has its own), +1.5 % when the card's country is not the merchant's,
 *   +1 % when the charge is converted into the settlement currency; other methods their own
 *   line (Terminal 2.7 % + 5, ACH 0.8 % capped at 500, …). One rounding:
 *   round_half_up(amount × Σ percent_bps / 10000) + fixed, then the method's cap, then never
 *   more than the amount, so a tiny charge nets 0 and never a negative amount (20 at 2.9 % + 30
 *   → fee 20, net 0). Refunds never give the fee back (Stripe keeps it).
 * - available_on of a charge: created + 2 days (172800 s), rounded up to the next 00:00 UTC, so a
 *   day's charges become available together, as Stripe's do. The scheduler then moves the net.
 * - Refunds and refund failures are debited/credited to the available balance at once (Stripe
 *   takes refunds from the balance immediately; available may go negative, as Stripe's can).
 *   So the balance the API shows always equals the journal: for every merchant and currency,
 *   Σ net of pending balance txns = −merchant_pending, Σ net of available = −merchant_available.
 * - Every amount a movement takes is 1 … LEDGER_AMOUNT_MAX; every sum is overflow-checked.
 *
 * Currency conversion (issue 7). A charge is presented in the currency the cardholder pays
 * (presentment, P); the merchant is paid in its settlement currency (S, merchants table). When
 * P == S nothing is converted and exchange_rate is null. When they differ:
 * - Capture converts the captured amount a_P at the rate valid at capture time (fx_convert: the
 *   direct, inverse or cross rate of the loaded table, one rounding, half away from zero):
 *   a_S = round(a_P × rate). The hold and the acquirer's receivable stay in P; the merchant's
 *   side (amount, fee computed on a_S, net) is in S; the conversion crosses the fx account, so
 *   every currency balances on its own:
 *       DR authorized a_P P / CR cardholder_holds a_P P          (the hold is released)
 *       DR acquirer_receivable a_P P / CR fx a_P P
 *       DR fx a_S S / CR merchant_pending a_S S
 *       DR merchant_pending fee S / CR fees fee S
 *   The "charge" balance transaction is in S with exchange_rate = the rate (Stripe's meaning:
 *   P major × exchange_rate = S major) and records the rate durably (fx_base = P, fx_quote = S,
 *   fx_rate_e12, fx_valid_from) and presentment_amount/presentment_currency = a_P, P.
 * - Refunds (and refund failures) of that charge never look at today's rates: they use the rate
 *   recorded on the charge's balance transaction. REFUND RULE (cumulative rounding): with C_P the
 *   charge's presentment amount refunded so far including this refund (net of failed refunds),
 *   and R_S the settlement amount already refunded (net of failures),
 *       this refund's settlement amount r_S = round(C_P × rate) − R_S,
 *   clamped to 0 … (charge's a_S − R_S). So each refund is rounded once (within one minor unit
 *   of its own conversion), the refunds of a charge always add up to the conversion of the total
 *   refunded, never more than the charge's a_S, and a full refund returns exactly a_S: the
 *   merchant's settlement balance for a fully refunded charge nets to exactly −fee (Stripe keeps
 *   the fee). r_S may be 0 (a 1 krw refund of a usd-settled charge): the balance transaction then
 *   has amount 0 and only the P side is journaled. A refund failure reverses exactly what its
 *   refund booked, in both currencies.
 *       refund:          DR merchant_available r_S S / CR fx r_S S;
 *                        DR fx r_P P / CR acquirer_payable r_P P
 *       refund_failure:  the reverse
 * - The fx account's balance per currency is the open conversion position: −Σ a_P in each P
 *   (credited at capture, debited back by refunds) and +Σ a_S in each S. It absorbs the rounding
 *   visibly: after a charge is fully refunded its contribution is exactly 0 in both currencies.
 *   ledger_verify recomputes it from the recorded rates (see ledger_verify.c).
 * - Disputes: ledger_convert_like_charge converts any amount of a charge's presentment currency
 *   at the charge's recorded rate. A movement that crosses the fx account must record
 *   presentment_amount/presentment_currency and the fx_* columns on its balance transaction (as
 *   refunds do), or ledger_verify reports the fx account as unexplained.
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
#include "money/fx.h"
#include "store/db.h"

#define LEDGER_ERR_UNBALANCED (-200) /* entries do not sum to zero in some currency */
#define LEDGER_ERR_OVERFLOW (-201)   /* an amount above LEDGER_AMOUNT_MAX, or a sum overflowed */
#define LEDGER_ERR_INVALID (-202)    /* amount <= 0, unknown account or currency, bad pricing */
#define LEDGER_ERR_NO_RATE (-203)    /* no exchange rate from presentment to settlement currency */

/* The largest amount one movement or entry may carry: 10^12 minor units, 10,000 × Stripe's own
 * largest charge (99,999,999). Keeps every account's int64 sum 9 million maximal movements away
 * from overflowing; beyond that SUM() fails loudly (SQLite raises "integer overflow"). */
#define LEDGER_AMOUNT_MAX INT64_C(1000000000000)
/* At most this many entries in one journal transaction. */
#define LEDGER_ENTRIES_MAX 16
/* Charges become available 2 days after capture, rounded up to the next 00:00 UTC; a
 * connected account's own charges after its payout schedule's delay_days when that is longer
 * (ledger_delay_days, ledger_connect.h). */
#define LEDGER_AVAILABLE_DELAY_S 172800
#define LEDGER_AVAILABLE_DELAY_DAYS 2
/* the longest delay_days an account may ask for (Stripe's limit) */
#define LEDGER_AVAILABLE_DELAY_DAYS_MAX 31

#define LEDGER_ACCT_CARDHOLDER_HOLDS "cardholder_holds"
#define LEDGER_ACCT_AUTHORIZED "authorized"
#define LEDGER_ACCT_ACQUIRER_RECEIVABLE "acquirer_receivable"
#define LEDGER_ACCT_ACQUIRER_PAYABLE "acquirer_payable"
#define LEDGER_ACCT_MERCHANT_PENDING "merchant_pending"
#define LEDGER_ACCT_MERCHANT_AVAILABLE "merchant_available"
#define LEDGER_ACCT_FEES "fees"
#define LEDGER_ACCT_FX "fx"

/* Pricing of one merchant: its card price (fee = round_half_up(amount × percent_bps / 10000) +
 * fixed for a domestic card), and what the fee table (ledger_fee) needs to know of the payment
 * being priced beside its amount: its method and its card's country. */
struct ledger_pricing {
	int64_t percent_bps; /* default 290 (2.9 %); 0 … 10000 */
	int64_t fixed_minor; /* default 30; 0 … LEDGER_AMOUNT_MAX */
	const char *settlement_currency;
	/* the rates a capture in another currency converts with (the caller's reference, see
	 * app_fx_acquire); NULL: a capture that needs a conversion fails with LEDGER_ERR_NO_RATE */
	const struct fx_table *fx;
	/* the payment's method type as Stripe names it ("card", "card_present",
	 * "us_bank_account", "ach_debit", "sepa_debit", "ideal", "bancontact", "klarna", "affirm",
	 * "afterpay_clearpay", "customer_balance"); NULL: "card". Set by whoever books the charge
	 * (payments/charge.h, charge_fee_facts); ledger_pricing_get leaves it NULL. */
	const char *method;
	/* the card's issuing country (two letters), NULL or "" when unknown (then domestic) */
	const char *card_country;
};

/* Loads the merchant's pricing (its terms, merchant_terms_get: read once per process); sets fx
 * to NULL (the caller supplies the rates). DB_NOTFOUND for an unknown merchant. */
int ledger_pricing_get(struct db *db, const char *merchant_id, struct ledger_pricing *ret,
		       char currency_buf[8]);
/* The same from terms the caller has already read (a payment's read also wants their category
 * code), without looking the merchant up again. */
struct merchant_terms;
void ledger_pricing_from_terms(const struct merchant_terms *t, struct ledger_pricing *ret,
			       char currency_buf[8]);

/* The fee of a charge of amount_minor (settlement currency, not converted) under pricing (rule
 * above). LEDGER_ERR_INVALID for an amount <= 0, pricing out of range or a method the table does
 * not price, LEDGER_ERR_OVERFLOW above LEDGER_AMOUNT_MAX. */
int ledger_fee(int64_t amount_minor, const struct ledger_pricing *pricing, int64_t *ret_fee_minor);
/* The same for a charge converted into the settlement currency (amount_minor is the converted
 * amount): the conversion's 1 % is added, and a method priced in another currency (a euro fixed
 * fee) has its fixed part converted with rate (presentment → settlement, the charge's own;
 * NULL: not converted). LEDGER_ERR_NO_RATE when a fixed part cannot be converted. */
int ledger_fee_converted(int64_t amount_minor, const struct ledger_pricing *pricing, bool converted,
			 const struct fx_rate *rate, int64_t *ret_fee_minor);

/* available_on of a charge captured at created (rule above). LEDGER_ERR_OVERFLOW for absurd
 * times. */
int ledger_available_on(int64_t created, int64_t *ret_available_on);
/* The same with a delay of `days` (LEDGER_AVAILABLE_DELAY_DAYS … _MAX) instead of 2. */
int ledger_available_after(int64_t created, int days, int64_t *ret_available_on);

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
 * (status pending, available_on by ledger_available_on). currency is the presentment currency;
 * when it is not pricing->settlement_currency the capture is converted (above; not for a
 * connected account in a currency it keeps, ledger_settlement_currency in ledger_connect.h) with
 * pricing->fx at the rate valid at `now`: LEDGER_ERR_NO_RATE when no rate reaches the
 * settlement currency, LEDGER_ERR_INVALID when the converted amount is 0. */
int ledger_capture(struct db *db, const char *merchant_id, const char *charge_id, int64_t amount,
		   const char *currency, const struct ledger_pricing *pricing, int64_t now,
		   char ret_balance_txn_id[ID_MAX]);
/* The same with the balance transaction's id chosen by the caller (balance_txn_id; NULL: a new
 * one), who rendered the captured charge before the write. */
int ledger_capture_as(struct db *db, const char *merchant_id, const char *charge_id, int64_t amount,
		      const char *currency, const struct ledger_pricing *pricing, int64_t now,
		      const char *balance_txn_id, char ret_balance_txn_id[ID_MAX]);
/* A sale: authorization and capture of the whole amount in one movement (automatic capture),
 * so no hold is posted; otherwise exactly ledger_capture_as, balance transaction included. */
int ledger_sale_as(struct db *db, const char *merchant_id, const char *charge_id, int64_t amount,
		   const char *currency, const struct ledger_pricing *pricing, int64_t now,
		   const char *balance_txn_id, char ret_balance_txn_id[ID_MAX]);
/* Creates the "refund" balance transaction (source = refund_id, amount = −amount, in the
 * presentment currency `currency`). A refund of a converted charge is converted at the charge's
 * recorded rate with the refund rule above; the charge's balance transaction is the one its
 * charges row names (charges.balance_transaction). */
int ledger_refund(struct db *db, const char *merchant_id, const char *refund_id,
		  const char *charge_id, int64_t amount, const char *currency, int64_t now,
		  char ret_balance_txn_id[ID_MAX]);
/* Creates the "refund_failure" balance transaction (source = refund_id, amount = +amount); for a
 * converted refund it reverses exactly the settlement and presentment amounts the refund booked. */
int ledger_refund_failure(struct db *db, const char *merchant_id, const char *refund_id,
			  int64_t amount, const char *currency, int64_t now,
			  char ret_balance_txn_id[ID_MAX]);

/*
 * For the disputes module: converts amount_presentment (minor units of the charge's presentment
 * currency, any sign, |amount| <= LEDGER_AMOUNT_MAX) at the rate recorded when charge_id was
 * captured, rounded once (half away from zero, so f(−x) = −f(x)), into the merchant's settlement
 * currency. For a charge captured without conversion the amount comes back unchanged, in the
 * charge's currency, with the identity rate. Outputs (set only on success): the converted
 * amount, the settlement currency (NUL-terminated), and the rate (base = presentment, quote =
 * settlement; record it, e.g. fx_rate_to_decimal_string for exchange_rate). DB_NOTFOUND when the
 * charge has no capture balance transaction (its charges row names none: not captured, or not
 * this merchant's),
 * LEDGER_ERR_OVERFLOW / LEDGER_ERR_INVALID for amounts out of range or a corrupt stored rate.
 */
int ledger_convert_like_charge(struct db *db, const char *merchant_id, const char *charge_id,
			       int64_t amount_presentment, int64_t *ret_amount_settlement,
			       char ret_currency[8], struct fx_rate *ret_rate);

/* Scheduler: makes up to `limit` (at most 512) due balance transactions available, across all
 * merchants of the shard. Each is switched by a conditional update (status = 'pending'), so two
 * runners never move one twice. Returns how many it switched, or < 0. */
int ledger_make_available(struct db *db, int64_t now, int limit);

/* Makes one balance transaction available now, whatever its available_on: switches its status by
 * the conditional update (an available_on still ahead becomes now) and, only when that update
 * changed the row, posts DR merchant_pending /
 * CR merchant_available of its net, and makes the rolling reserve hold withheld from it (if any,
 * ledger_reserve.h) available with it. Returns 1 when this call moved it, 0 when it was not pending
 * (another runner moved it first) or does not exist, < 0 on error. */
int ledger_make_available_one(struct db *db, const char *merchant_id, const char *balance_txn_id,
			      int64_t now);

struct store;
/* The scheduler's job: ledger_make_available in bounded batches (one write transaction each) on
 * every shard, until nothing is due or the per-tick bound is reached. Returns how many moved. */
int ledger_scheduler_tick(struct store *s, int64_t now);
/* Its probe for the scheduler (scheduler.h): a row when some balance transaction is due. */
extern const char LEDGER_DUE_SQL[];

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
/* The same, with its `source` rendered by source_fn (Stripe's expand[]=source): it writes one
 * JSON value for the source id (the object, or the id itself when it has none) and returns
 * DB_OK or < 0. */
typedef int (*ledger_source_fn)(void *ctx, struct db *db, const char *source_id, struct json *j);
int ledger_balance_txn_render_ex(struct db *db, const char *merchant_id, const char *id,
				 ledger_source_fn source_fn, void *ctx, struct json *j);

#endif

/*
 * Connect movements (ledger_connect.h). Each merchant's half is one journal transaction posted
 * through ledger_post(), which refuses an unbalanced or absurd set before it writes, and each
 * balance transaction names the journal transaction of its own merchant.
 */
#include "ledger/ledger_connect.h"

#include <stdio.h>
#include <string.h>

#include "core/str.h"
#include "ledger/ledger.h"
#include "ledger/ledger_internal.h"
#include "ledger/ledger_reserve.h"
#include "merchant/merchant.h"

static int amount_ok(int64_t amount)
{
	return amount >= 1 && amount <= LEDGER_AMOUNT_MAX ? DB_OK
	       : amount < 1				  ? LEDGER_ERR_INVALID
							  : LEDGER_ERR_OVERFLOW;
}

static const char SQL_BUCKET[] =
    "SELECT status, available_on, currency, amount, fx_base, fx_quote, fx_rate_e12, fx_valid_from,"
    " fee FROM balance_transactions WHERE merchant_id = $1 AND id = $2";

int ledger_bt_bucket(struct db *db, const char *merchant_id, const char *balance_txn_id,
		     struct ledger_bucket *ret)
{
	if (!balance_txn_id)
		return DB_NOTFOUND;
	struct db_stmt *st = db_prepare(db, SQL_BUCKET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, balance_txn_id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		const char *status = db_col_text(st, 0, NULL);
		ret->pending = status && strcmp(status, "pending") == 0;
		ret->available_on = db_col_int64(st, 1);
		const char *cur = db_col_text(st, 2, NULL);
		snprintf(ret->currency, sizeof(ret->currency), "%s", cur ? cur : "");
		ret->amount = db_col_int64(st, 3);
		ret->fee = db_col_int64(st, 8);
		memset(&ret->rate, 0, sizeof(ret->rate));
		const char *base = db_col_text(st, 4, NULL), *quote = db_col_text(st, 5, NULL);
		/* a rate that does not validate leaves converted false: ledger_bucket_amount then
		 * refuses to convert rather than guess */
		ret->converted = !db_col_is_null(st, 6) && base && quote &&
				 fx_rate_init(&ret->rate, base, quote, db_col_int64(st, 6),
					      db_col_int64(st, 7)) == 0;
	}
	db_reset(st);
	return rc == DB_ROW ? DB_OK : rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
}

int ledger_bucket_amount(const struct ledger_bucket *b, const char *charge_currency,
			 int64_t captured, int64_t amount, int64_t *ret)
{
	if (amount < 0 || amount > captured)
		return LEDGER_ERR_INVALID;
	if (strcmp(b->currency, charge_currency) == 0) {
		*ret = amount;
		return DB_OK;
	}
	if (!b->converted || strcmp(b->rate.base, charge_currency) != 0 ||
	    strcmp(b->rate.quote, b->currency) != 0)
		return LEDGER_ERR_INVALID;
	if (amount == captured) { /* what the capture booked, not a second rounding of it */
		*ret = b->amount;
		return DB_OK;
	}
	return fx_convert_with_rate(&b->rate, amount, charge_currency, b->currency, ret) == 0
		   ? DB_OK
		   : LEDGER_ERR_INVALID;
}

static const char *bucket_account(const struct ledger_bucket *b)
{
	return b->pending ? LEDGER_ACCT_MERCHANT_PENDING : LEDGER_ACCT_MERCHANT_AVAILABLE;
}

/* The platform's side of an application fee: it comes in from connect_clearing. */
static int collect_fee(struct db *db, const char *platform, const char *fee_id, int64_t fee,
		       const char *currency, const struct ledger_bucket *bucket, int64_t now,
		       char ret_bt[ID_MAX])
{
	const struct ledger_entry e[] = {
	    {LEDGER_ACCT_CONNECT_CLEARING, currency, fee},
	    {bucket_account(bucket), currency, -fee},
	};
	char jtx[ID_MAX];
	int rc = ledger_post(db, platform, "application_fee", fee_id, e, 2, now, jtx);
	if (rc != DB_OK)
		return rc;
	const struct bt b = {
	    .type = "application_fee",
	    .source = fee_id,
	    .currency = currency,
	    .status = bucket->pending ? "pending" : "available",
	    .journal_txn = jtx,
	    .amount = fee,
	    .created = now,
	    .available_on = bucket->pending ? bucket->available_on : now,
	};
	return bt_insert(db, platform, &b, ret_bt);
}

int ledger_application_fee_direct(struct db *db, const char *platform, const char *account,
				  const char *fee_id, int64_t f, const char *currency,
				  const struct ledger_bucket *bucket, int64_t now,
				  char ret_platform_bt[ID_MAX], char ret_account_bt[ID_MAX])
{
	int rc = amount_ok(f);
	if (rc != DB_OK)
		return rc;
	if (!strcmp(platform, account))
		return LEDGER_ERR_INVALID;
	const struct ledger_entry e[] = {
	    {bucket_account(bucket), currency, f},
	    {LEDGER_ACCT_CONNECT_CLEARING, currency, -f},
	};
	char jtx[ID_MAX];
	rc = ledger_post(db, account, "application_fee", fee_id, e, 2, now, jtx);
	if (rc != DB_OK)
		return rc;
	const struct bt b = {
	    .type = "application_fee",
	    .source = fee_id,
	    .currency = currency,
	    .status = bucket->pending ? "pending" : "available",
	    .journal_txn = jtx,
	    .amount = -f,
	    .created = now,
	    .available_on = bucket->pending ? bucket->available_on : now,
	};
	rc = bt_insert(db, account, &b, ret_account_bt);
	if (rc != DB_OK)
		return rc;
	return collect_fee(db, platform, fee_id, f, currency, bucket, now, ret_platform_bt);
}

static const char SQL_EA_IN[] = "SELECT 1 FROM external_accounts WHERE merchant_id = $1"
				" AND currency = $2 AND deleted = 0 LIMIT 1";

static const char SQL_DELAY[] = "SELECT po_delay_days FROM connected_accounts"
				" WHERE merchant_id = $1 AND id = $2";

int ledger_delay_days(struct db *db, const char *merchant_id, int *ret)
{
	*ret = LEDGER_AVAILABLE_DELAY_DAYS;
	struct merchant_terms terms; /* cached per process */
	int rc = merchant_terms_get(db, merchant_id, &terms);
	if (rc == DB_NOTFOUND || (rc == DB_OK && !terms.platform[0]))
		return DB_OK;
	if (rc != DB_OK)
		return rc;
	struct db_stmt *st = db_prepare(db, SQL_DELAY);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, terms.platform, -1);
	db_bind_text(st, 2, merchant_id, -1);
	rc = db_step(st);
	int64_t days = rc == DB_ROW ? db_col_int64(st, 0) : LEDGER_AVAILABLE_DELAY_DAYS;
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	/* a value Tender did not write counts as the shortest delay it keeps */
	if (days > LEDGER_AVAILABLE_DELAY_DAYS && days <= LEDGER_AVAILABLE_DELAY_DAYS_MAX)
		*ret = (int)days;
	return DB_OK;
}

int ledger_settlement_currency(struct db *db, const char *merchant_id, const char *currency,
			       char ret[8])
{
	struct merchant_terms terms; /* never changes once made: cached per process */
	int rc = merchant_terms_get(db, merchant_id, &terms);
	if (rc != DB_OK)
		return rc;
	if (!terms.settlement_currency[0] || strcmp(terms.settlement_currency, currency) == 0) {
		str_copy(ret, 8, currency);
		return DB_OK;
	}
	if (!terms.platform[0]) { /* not a connected account: one settlement currency */
		str_copy(ret, 8, terms.settlement_currency);
		return DB_OK;
	}
	struct db_stmt *st = db_prepare(db, SQL_EA_IN);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, currency, -1);
	rc = db_step(st);
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	str_copy(ret, 8, rc == DB_ROW ? currency : terms.settlement_currency);
	return DB_OK;
}

int ledger_transfer(struct db *db, const struct ledger_transfer *t, char ret_platform_bt[ID_MAX],
		    char ret_destination_bt[ID_MAX], char ret_fee_bt[ID_MAX])
{
	int rc = amount_ok(t->amount);
	if (rc != DB_OK)
		return rc;
	if (t->fee < 0 || t->fee > t->amount || (t->fee > 0 && !t->fee_id))
		return LEDGER_ERR_INVALID;
	if (!strcmp(t->platform, t->destination))
		return LEDGER_ERR_INVALID; /* a transfer to itself would clear nothing */
	const char *bucket = bucket_account(&t->bucket);
	const char *status = t->bucket.pending ? "pending" : "available";
	int64_t available_on = t->bucket.pending ? t->bucket.available_on : t->now;
	/* the destination's side in its settlement currency (the header's conversion), computed
	 * before anything is written */
	bool conv = t->settle_currency && t->settle_currency[0] &&
		    strcmp(t->settle_currency, t->currency) != 0;
	const char *settle = conv ? t->settle_currency : t->currency;
	int64_t a_s = t->amount, f_s = t->fee;
	struct fx_rate rate;
	if (conv) {
		if (!t->fx)
			return LEDGER_ERR_NO_RATE;
		rc = fx_convert(t->fx, t->amount, t->currency, settle, t->now, &a_s, &rate);
		if (rc != 0)
			return rc == MONEY_ERR_NO_RATE	  ? LEDGER_ERR_NO_RATE
			       : rc == MONEY_ERR_OVERFLOW ? LEDGER_ERR_OVERFLOW
							  : LEDGER_ERR_INVALID;
		if (a_s < 1)
			return LEDGER_ERR_CONVERTS_TO_ZERO;
		if (t->fee > 0) {
			if (fx_convert_with_rate(&rate, t->fee, t->currency, settle, &f_s) != 0)
				return LEDGER_ERR_INVALID;
			/* the fee the platform collects exists: the account pays at least a minor
			 * unit of it, and never more than arrived */
			if (f_s < 1)
				f_s = 1;
			if (f_s > a_s)
				f_s = a_s;
		}
	}

	/* the platform's half: the funds leave it */
	const struct ledger_entry out[] = {
	    {bucket, t->currency, t->amount},
	    {LEDGER_ACCT_CONNECT_CLEARING, t->currency, -t->amount},
	};
	char jtx[ID_MAX];
	rc = ledger_post(db, t->platform, "transfer", t->transfer_id, out, 2, t->now, jtx);
	if (rc != DB_OK)
		return rc;
	const struct bt pb = {
	    .type = "transfer",
	    .source = t->transfer_id,
	    .currency = t->currency,
	    .status = status,
	    .description = NULL,
	    .journal_txn = jtx,
	    .amount = -t->amount,
	    .fee = 0,
	    .created = t->now,
	    .available_on = available_on,
	};
	rc = bt_insert(db, t->platform, &pb, ret_platform_bt);
	if (rc != DB_OK)
		return rc;

	/* the destination's half: the payment comes in, and pays the application fee out of it
	 * in the same journal transaction (its balance transaction shows the fee) */
	const struct ledger_entry in[] = {
	    {LEDGER_ACCT_CONNECT_CLEARING, t->currency, t->amount},
	    {LEDGER_ACCT_FX, t->currency, conv ? -t->amount : 0},
	    {LEDGER_ACCT_FX, settle, conv ? a_s : 0},
	    {bucket, settle, -a_s},
	    {bucket, settle, f_s},
	    {LEDGER_ACCT_FX, settle, conv ? -f_s : 0},
	    {LEDGER_ACCT_FX, t->currency, conv ? t->fee : 0},
	    {LEDGER_ACCT_CONNECT_CLEARING, t->currency, -t->fee},
	};
	/* zero entries are dropped: unconverted, the fx legs cancel into nothing */
	rc = ledger_post(db, t->destination, "payment", t->destination_payment, in,
			 sizeof(in) / sizeof(in[0]), t->now, jtx);
	if (rc != DB_OK)
		return rc;
	const struct bt db_ = {
	    .type = "payment",
	    .source = t->destination_payment,
	    .currency = settle,
	    .status = status,
	    .description = NULL,
	    .journal_txn = jtx,
	    .amount = a_s,
	    .fee = f_s,
	    .created = t->now,
	    .available_on = available_on,
	    .charge_id = conv ? t->destination_payment : NULL,
	    .rate = conv ? &rate : NULL,
	    .presentment_amount = t->amount,
	};
	rc = bt_insert(db, t->destination, &db_, ret_destination_bt);
	if (rc != DB_OK)
		return rc;
	if (t->reserve) {
		/* held from the payment's net in the destination's currency, as from a charge's; a
		 * payment available at once (its charge's funds were) makes its hold available too,
		 * as ledger_make_available_one does when it moves a charge */
		rc = ledger_reserve_hold(db, t->destination, t->destination_payment,
					 ret_destination_bt, settle, a_s, a_s - f_s, available_on,
					 t->now);
		if (rc == DB_OK && !t->bucket.pending)
			rc = ledger_reserve_follow(db, t->destination, ret_destination_bt, t->now);
		if (rc != DB_OK)
			return rc;
	}
	ret_fee_bt[0] = '\0';
	if (t->fee == 0)
		return DB_OK;
	return collect_fee(db, t->platform, t->fee_id, t->fee, t->currency, &t->bucket, t->now,
			   ret_fee_bt);
}

/* One merchant's half of money going back the other way than a transfer: it pays (sign −1) or
 * receives (sign +1) r of currency out of or into its available balance, at once, as Stripe does
 * (it may go below zero, like a refund's). A converted half (rate non-NULL) moves r_s of its
 * settlement currency instead, across its fx account (ledger_connect.h). */
struct half {
	const char *merchant, *type, *source;
	int sign;
	const char *settle; /* == currency when not converted */
	int64_t r_s;
	const struct fx_rate *rate;
	const char *charge_id;
	const char *description; /* its balance transaction's, or NULL */
};

static int back_half(struct db *db, const struct half *h, int64_t r, const char *currency,
		     int64_t now, char ret_bt[ID_MAX])
{
	bool conv = h->rate != NULL;
	const struct ledger_entry e[] = {
	    {LEDGER_ACCT_MERCHANT_AVAILABLE, h->settle, -h->sign * h->r_s},
	    {LEDGER_ACCT_FX, h->settle, conv ? h->sign * h->r_s : 0},
	    {LEDGER_ACCT_FX, currency, conv ? -h->sign * r : 0},
	    {LEDGER_ACCT_CONNECT_CLEARING, currency, h->sign * r},
	};
	char jtx[ID_MAX];
	int rc =
	    ledger_post(db, h->merchant, h->type, h->source, e, sizeof(e) / sizeof(e[0]), now, jtx);
	if (rc != DB_OK)
		return rc;
	const struct bt b = {
	    .type = h->type,
	    .source = h->source,
	    .currency = h->settle,
	    .status = "available",
	    .description = h->description,
	    .journal_txn = jtx,
	    .amount = h->sign * h->r_s,
	    .created = now,
	    .available_on = now,
	    .charge_id = conv ? h->charge_id : NULL,
	    .rate = h->rate,
	    .presentment_amount = h->sign * r,
	};
	return bt_insert(db, h->merchant, &b, ret_bt);
}

/* What x more (P) of b->total going back takes in the connected account's settlement currency,
 * at the payment's recorded rate (pay, from ledger_bt_bucket), cumulatively: round(all returned
 * so far × rate) − what earlier ones took, within 0 … cap − that; all of it returns exactly cap
 * (what arrived). */
static int back_settled(const struct ledger_bucket *pay, const char *currency, int64_t cap,
			const struct ledger_back *b, int64_t x, int64_t *ret)
{
	int64_t all_p, all_s, room, s;
	if (__builtin_add_overflow(b->before, x, &all_p))
		return LEDGER_ERR_OVERFLOW;
	if (all_p > b->total || b->before_settled < 0 || b->before_settled > cap)
		return LEDGER_ERR_INVALID;
	if (all_p == b->total)
		all_s = cap;
	else if (fx_convert_with_rate(&pay->rate, all_p, currency, pay->currency, &all_s) != 0)
		return LEDGER_ERR_INVALID;
	if (__builtin_sub_overflow(all_s, b->before_settled, &s) ||
	    __builtin_sub_overflow(cap, b->before_settled, &room))
		return LEDGER_ERR_OVERFLOW;
	*ret = s > room ? room : s < 0 ? 0 : s;
	return DB_OK;
}

/* The connected account's half of a movement back of r: converted when its payment was
 * (fee: of the payment's fee rather than its amount). */
static int account_half(struct db *db, struct half *h, const char *currency, int64_t r,
			const struct ledger_back *b, bool fee, struct ledger_bucket *pay)
{
	h->settle = currency;
	h->r_s = r;
	h->rate = NULL;
	if (!b)
		return DB_OK;
	int rc = ledger_bt_bucket(db, h->merchant, b->payment_bt, pay);
	if (rc != DB_OK)
		return rc == DB_NOTFOUND ? LEDGER_ERR_INVALID : rc;
	if (strcmp(pay->currency, currency) == 0)
		return DB_OK; /* it arrived unconverted */
	if (!pay->converted || strcmp(pay->rate.base, currency) != 0 ||
	    strcmp(pay->rate.quote, pay->currency) != 0)
		return LEDGER_ERR_INVALID;
	rc = back_settled(pay, currency, fee ? pay->fee : pay->amount, b, r, &h->r_s);
	if (rc != DB_OK)
		return rc;
	h->settle = pay->currency;
	h->rate = &pay->rate;
	h->charge_id = b->payment_id;
	return DB_OK;
}

int ledger_application_fee_refund(struct db *db, const char *platform, const char *account,
				  const char *refund_id, int64_t f, const char *currency,
				  const struct ledger_back *b, int64_t now,
				  char ret_platform_bt[ID_MAX], char ret_account_bt[ID_MAX])
{
	int rc = amount_ok(f);
	if (rc != DB_OK)
		return rc;
	if (!strcmp(platform, account))
		return LEDGER_ERR_INVALID;
	struct ledger_bucket pay;
	struct half to = {
	    .merchant = account, .type = "application_fee_refund", .source = refund_id, .sign = 1};
	rc = account_half(db, &to, currency, f, b, true, &pay);
	if (rc != DB_OK)
		return rc;
	const struct half from = {.merchant = platform,
				  .type = "application_fee_refund",
				  .source = refund_id,
				  .sign = -1,
				  .settle = currency,
				  .r_s = f};
	rc = back_half(db, &from, f, currency, now, ret_platform_bt);
	return rc != DB_OK ? rc : back_half(db, &to, f, currency, now, ret_account_bt);
}

int ledger_transfer_reversal(struct db *db, const char *platform, const char *destination,
			     const char *reversal_id, const char *payment_refund_id, int64_t r,
			     const char *currency, const struct ledger_back *b,
			     const char *description, int64_t now, char ret_platform_bt[ID_MAX],
			     char ret_destination_bt[ID_MAX])
{
	int rc = amount_ok(r);
	if (rc != DB_OK)
		return rc;
	if (!strcmp(platform, destination))
		return LEDGER_ERR_INVALID;
	struct ledger_bucket pay;
	struct half from = {.merchant = destination,
			    .type = "payment_refund",
			    .source = payment_refund_id,
			    .sign = -1};
	rc = account_half(db, &from, currency, r, b, false, &pay);
	if (rc != DB_OK)
		return rc;
	rc = back_half(db, &from, r, currency, now, ret_destination_bt);
	if (rc != DB_OK)
		return rc;
	const struct half to = {.merchant = platform,
				.type = "transfer_refund",
				.source = reversal_id,
				.sign = 1,
				.settle = currency,
				.r_s = r,
				.description = description};
	return back_half(db, &to, r, currency, now, ret_platform_bt);
}

/*
 * /v1/invoices: create (one-off drafts), update, delete (drafts), retrieve, list, pay, finalize,
 * void, mark_uncollectible, lines — the invoices subscriptions make (subscriptions.c) and
 * one-off ones. A one-off invoice is a draft of invoice items (invoice_items.c) until it is
 * finalized; its lines are its items' (rendered from their rows, so a draft's follow them) and
 * its total moves with them. An invoice is made finalized (open) with its lines and total
 * fixed, and is paid by one PaymentIntent of its amount, confirmed again for each attempt
 * (Stripe's newer model: the intent is found through `payments`, expand[]=payments). Whichever
 * confirmation settles that intent — the scheduler's, POST /v1/invoices/{id}/pay, the API's own
 * confirm, or the 3-D Secure page — settles the invoice in the same transaction
 * (invoice_payment_settled), so an invoice is paid exactly when its payment's charge is
 * recorded, never apart from it. An uncollectible invoice (written off) is still payable and
 * voidable, as on Stripe; only its automatic attempts stop.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/billing_internal.h"
#include "api/common.h"
#include "api/customer_balance.h"
#include "api/tax_ids.h"
#include "api/list.h"
#include "api/mandates.h"
#include "api/payments_common.h"
#include "api/sources.h"
#include "payments/pm_types.h"
#include "app.h"
#include "core/digest.h"
#include "core/str.h"
#include "documents/answer.h"
#include "events/events.h"
#include "http/form.h"
#include "money/currency.h"
#include "payments/payments.h"
#include "payments/sepa.h"
#include "tax/engine.h"
#include "tax/merchant.h"
#include "vault/vault.h"

static const char SQL_GET[] =
    "SELECT id, created, version, customer, subscription, status, billing_reason, currency,"
    " subtotal, total, amount_paid, attempt_count, next_payment_attempt, auto_advance,"
    " period_start, period_end, number, payment_intent, customer_email, customer_name,"
    " description, metadata, lines, test_clock, finalized_at, paid_at, voided_at,"
    " marked_uncollectible_at, discounts, total_discount_amounts, starting_balance,"
    " ending_balance, amount_due, collection_method, days_until_due, due_date,"
    " hosted_token_hash, paid_out_of_band, automatic_tax, payment_method_types,"
    " pmo_customer_balance, settings FROM invoices"
    " WHERE merchant_id = $1 AND id = $2";
static const char SQL_INSERT[] =
    "INSERT INTO invoices (merchant_id, id, created, version, customer, subscription, status,"
    " billing_reason, currency, subtotal, total, amount_paid, attempt_count,"
    " next_payment_attempt, auto_advance, period_start, period_end, number, payment_intent,"
    " customer_email, customer_name, description, metadata, lines, test_clock, finalized_at,"
    " paid_at, voided_at, marked_uncollectible_at, discounts, total_discount_amounts,"
    " starting_balance, ending_balance, amount_due, collection_method, days_until_due,"
    " due_date, hosted_token_hash, paid_out_of_band, automatic_tax, payment_method_types,"
    " pmo_customer_balance, settings)"
    " VALUES ($1, $2, $3, 1, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,"
    " $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34,"
    " $35, $36, $37, $38, $39, $40, $41, $42)";
static const char SQL_UPDATE[] =
    "UPDATE invoices SET version = version + 1, status = $4, amount_paid = $5,"
    " attempt_count = $6, next_payment_attempt = $7, auto_advance = $8, number = $9,"
    " payment_intent = $10, metadata = $11, finalized_at = $12, paid_at = $13, voided_at = $14,"
    " subtotal = $15, total = $16, description = $17, marked_uncollectible_at = $18,"
    " discounts = $19, total_discount_amounts = $20, starting_balance = $21,"
    " ending_balance = $22, amount_due = $23, collection_method = $24, days_until_due = $25,"
    " due_date = $26, hosted_token_hash = $27, paid_out_of_band = $28, automatic_tax = $29,"
    " payment_method_types = $30, pmo_customer_balance = $31,"
    /* a caller that did not load the row (settings NULL) leaves them as they are */
    " settings = COALESCE($32, settings)"
    " WHERE merchant_id = $1 AND id = $2 AND version = $3";
static const char SQL_LINES_UPDATE[] = "UPDATE invoices SET lines = $4"
				       " WHERE merchant_id = $1 AND id = $2 AND version = $3";
/* numbers are given at finalization: drafts (which may be deleted) do not count */
static const char SQL_COUNT_FOR_CUSTOMER[] =
    "SELECT COUNT(*) FROM invoices WHERE merchant_id = $1 AND customer = $2"
    " AND number IS NOT NULL AND status <> 'draft'" /* a draft's number is a custom one */
    /* a revision is numbered after the invoice it revises, not in the sequence */
    " AND (settings IS NULL OR settings NOT LIKE '%\"from_invoice\":{%')";
static const char SQL_BILLING_CUSTOMER[] =
    "SELECT email, name, default_payment_method, test_clock, deleted, currency, default_source"
    " FROM customers WHERE merchant_id = $1 AND id = $2";

int billing_customer_get(struct req *r, struct db *db, const char *id, struct billing_customer *c)
{
	memset(c, 0, sizeof(*c));
	struct db_stmt *st = db_prepare(db, SQL_BILLING_CUSTOMER);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW && db_col_int64(st, 4) == 0) {
		c->found = true;
		c->email = col_text_dup(&r->arena, st, 0);
		c->name = col_text_dup(&r->arena, st, 1);
		c->default_pm = col_text_dup(&r->arena, st, 2);
		c->test_clock = col_text_dup(&r->arena, st, 3);
		c->currency = col_text_dup(&r->arena, st, 5);
		c->default_source = col_text_dup(&r->arena, st, 6);
	}
	db_reset(st);
	return rc == DB_ROW || rc == DB_DONE ? DB_OK : rc;
}
static const char SQL_CUSTOMER_PREFIX[] =
    "SELECT invoice_prefix FROM customers WHERE merchant_id = $1 AND id = $2";

int invoice_load(struct req *r, struct db *db, const char *id, struct invoice *in)
{
	struct db_stmt *st = db_prepare(db, SQL_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		struct arena *a = &r->arena;
		memset(in, 0, sizeof(*in));
		str_copy(in->id, sizeof(in->id), db_col_text(st, 0, NULL));
		in->created = db_col_int64(st, 1);
		in->version = db_col_int64(st, 2);
		in->customer = col_text_dup(a, st, 3);
		in->subscription = col_text_dup(a, st, 4);
		in->status = col_text_dup(a, st, 5);
		in->billing_reason = col_text_dup(a, st, 6);
		str_copy(in->currency, sizeof(in->currency), db_col_text(st, 7, NULL));
		in->subtotal = db_col_int64(st, 8);
		in->total = db_col_int64(st, 9);
		in->amount_paid = db_col_int64(st, 10);
		in->attempt_count = db_col_int64(st, 11);
		in->next_payment_attempt = db_col_int64_or0(st, 12);
		in->auto_advance = db_col_int64(st, 13) != 0;
		in->period_start = db_col_int64(st, 14);
		in->period_end = db_col_int64(st, 15);
		in->number = col_text_dup(a, st, 16);
		in->payment_intent = col_text_dup(a, st, 17);
		in->customer_email = col_text_dup(a, st, 18);
		in->customer_name = col_text_dup(a, st, 19);
		in->description = col_text_dup(a, st, 20);
		in->metadata = col_text_dup(a, st, 21);
		in->lines = col_text_dup(a, st, 22);
		in->test_clock = col_text_dup(a, st, 23);
		in->finalized_at = db_col_int64_or0(st, 24);
		in->paid_at = db_col_int64_or0(st, 25);
		in->voided_at = db_col_int64_or0(st, 26);
		in->marked_uncollectible_at = db_col_int64_or0(st, 27);
		in->discounts = col_text_dup(a, st, 28);
		in->total_discount_amounts = col_text_dup(a, st, 29);
		in->starting_balance = db_col_int64(st, 30);
		in->ending_balance = db_col_int64(st, 31);
		in->amount_due = db_col_int64(st, 32);
		in->collection_method = col_text_dup(a, st, 33);
		in->has_days_until_due = !db_col_is_null(st, 34);
		in->days_until_due = db_col_int64_or0(st, 34);
		in->due_date = db_col_int64_or0(st, 35);
		in->hosted_token_hash = col_text_dup(a, st, 36);
		in->paid_out_of_band = db_col_int64(st, 37) != 0;
		in->automatic_tax = db_col_int64(st, 38) != 0;
		in->payment_method_types = col_text_dup(a, st, 39);
		in->pmo_customer_balance = col_text_dup(a, st, 40);
		in->settings = col_text_dup(a, st, 41);
		if (!in->customer || !in->status || !in->billing_reason || !in->metadata ||
		    !in->lines || !in->discounts || !in->total_discount_amounts)
			rc = DB_ERR;
	}
	db_reset(st);
	if (rc == DB_ROW)
		return DB_OK;
	return rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
}

/* the send_invoice columns, from parameter `first` on */
static void invoice_bind_send(struct db_stmt *st, int first, const struct invoice *in)
{
	db_bind_text(st, first,
		     in->collection_method ? in->collection_method : "charge_automatically", -1);
	if (in->has_days_until_due)
		db_bind_int64(st, first + 1, in->days_until_due);
	else
		db_bind_null(st, first + 1);
	db_bind_int64_or_null(st, first + 2, in->due_date);
	db_bind_text(st, first + 3, in->hosted_token_hash, -1);
	db_bind_int64(st, first + 4, in->paid_out_of_band ? 1 : 0);
}

bool invoice_sends(const struct invoice *in)
{
	return in->collection_method && strcmp(in->collection_method, "send_invoice") == 0;
}

const char *invoice_hosted_url(struct req *r, const char *id, char ret_hash[65])
{
	char tok[VAULT_PAGE_TOKEN_LEN + 1];
	if (!r->app || !r->app->vault ||
	    vault_page_token(r->app->vault, r->merchant_id, id, tok) != 0)
		return NULL;
	if (ret_hash && digest_sha256_hex(tok, VAULT_PAGE_TOKEN_LEN, ret_hash) != 0)
		return NULL;
	const char *base = req_url_base(r);
	return arena_printf(&r->arena, "%s/invoice/%s/%s", base, r->merchant_id, tok);
}

int invoice_insert(struct req *r, struct db *db, const struct invoice *in)
{
	struct db_stmt *st = db_prepare(db, SQL_INSERT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, in->id, -1);
	db_bind_int64(st, 3, in->created);
	db_bind_text(st, 4, in->customer, -1);
	db_bind_text(st, 5, in->subscription, -1);
	db_bind_text(st, 6, in->status, -1);
	db_bind_text(st, 7, in->billing_reason, -1);
	db_bind_text(st, 8, in->currency, -1);
	db_bind_int64(st, 9, in->subtotal);
	db_bind_int64(st, 10, in->total);
	db_bind_int64(st, 11, in->amount_paid);
	db_bind_int64(st, 12, in->attempt_count);
	db_bind_int64_or_null(st, 13, in->next_payment_attempt);
	db_bind_int64(st, 14, in->auto_advance ? 1 : 0);
	db_bind_int64(st, 15, in->period_start);
	db_bind_int64(st, 16, in->period_end);
	db_bind_text(st, 17, in->number, -1);
	db_bind_text(st, 18, in->payment_intent, -1);
	db_bind_text(st, 19, in->customer_email, -1);
	db_bind_text(st, 20, in->customer_name, -1);
	db_bind_text(st, 21, in->description, -1);
	db_bind_text(st, 22, in->metadata ? in->metadata : "{}", -1);
	db_bind_text(st, 23, in->lines, -1);
	db_bind_text(st, 24, in->test_clock, -1);
	db_bind_int64_or_null(st, 25, in->finalized_at);
	db_bind_int64_or_null(st, 26, in->paid_at);
	db_bind_int64_or_null(st, 27, in->voided_at);
	db_bind_int64_or_null(st, 28, in->marked_uncollectible_at);
	db_bind_text(st, 29, in->discounts ? in->discounts : "[]", -1);
	db_bind_text(st, 30, in->total_discount_amounts ? in->total_discount_amounts : "[]", -1);
	db_bind_int64(st, 31, in->starting_balance);
	db_bind_int64(st, 32, in->ending_balance);
	db_bind_int64(st, 33, in->amount_due);
	invoice_bind_send(st, 34, in);
	db_bind_int64(st, 39, in->automatic_tax ? 1 : 0);
	db_bind_text(st, 40, in->payment_method_types, -1);
	db_bind_text(st, 41, in->pmo_customer_balance, -1);
	db_bind_text(st, 42, in->settings, -1);
	return db_step_done(st);
}

int invoice_update(struct req *r, struct db *db, struct invoice *in)
{
	struct db_stmt *st = db_prepare(db, SQL_UPDATE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, in->id, -1);
	db_bind_int64(st, 3, in->version);
	db_bind_text(st, 4, in->status, -1);
	db_bind_int64(st, 5, in->amount_paid);
	db_bind_int64(st, 6, in->attempt_count);
	db_bind_int64_or_null(st, 7, in->next_payment_attempt);
	db_bind_int64(st, 8, in->auto_advance ? 1 : 0);
	db_bind_text(st, 9, in->number, -1);
	db_bind_text(st, 10, in->payment_intent, -1);
	db_bind_text(st, 11, in->metadata ? in->metadata : "{}", -1);
	db_bind_int64_or_null(st, 12, in->finalized_at);
	db_bind_int64_or_null(st, 13, in->paid_at);
	db_bind_int64_or_null(st, 14, in->voided_at);
	db_bind_int64(st, 15, in->subtotal);
	db_bind_int64(st, 16, in->total);
	db_bind_text(st, 17, in->description, -1);
	db_bind_int64_or_null(st, 18, in->marked_uncollectible_at);
	db_bind_text(st, 19, in->discounts ? in->discounts : "[]", -1);
	db_bind_text(st, 20, in->total_discount_amounts ? in->total_discount_amounts : "[]", -1);
	db_bind_int64(st, 21, in->starting_balance);
	db_bind_int64(st, 22, in->ending_balance);
	db_bind_int64(st, 23, in->amount_due);
	invoice_bind_send(st, 24, in);
	db_bind_int64(st, 29, in->automatic_tax ? 1 : 0);
	db_bind_text(st, 30, in->payment_method_types, -1);
	db_bind_text(st, 31, in->pmo_customer_balance, -1);
	db_bind_text(st, 32, in->settings, -1);
	int64_t n;
	int rc = db_step_changes(st, &n);
	if (rc != DB_OK)
		return rc;
	if (n != 1)
		return DB_CONFLICT;
	in->version++;
	return DB_OK;
}

int invoice_lines_update(struct req *r, struct db *db, const struct invoice *in)
{
	struct db_stmt *st = db_prepare(db, SQL_LINES_UPDATE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, in->id, -1);
	db_bind_int64(st, 3, in->version);
	db_bind_text(st, 4, in->lines, -1);
	int64_t n;
	int rc = db_step_changes(st, &n);
	if (rc != DB_OK)
		return rc;
	return n == 1 ? DB_OK : DB_CONFLICT;
}

static void invoice_origin(struct req *r, struct event_origin *o)
{
	*o = (struct event_origin){r->request_id[0] ? r->request_id : NULL, r->idempotency_key,
				   r->livemode};
}

int64_t invoice_next_step(const struct invoice *in)
{
	if (str_eq(in->status, "open") || (str_eq(in->status, "draft") && in->auto_advance))
		return in->next_payment_attempt;
	return 0;
}

static const char SQL_CUSTOMER_CURRENCY[] =
    "SELECT currency FROM customers WHERE merchant_id = $1 AND id = $2 AND deleted = 0";

/* Is an amount due of `amount` (> 0) in currency below what a card can be charged (Stripe's
 * minimum charge amount, payments_check_minimum's rule)? 1 or 0; another refusal of the check
 * (a currency the rates cannot convert) is not this one: the payment meets it. */
static int amount_too_small(struct req *r, struct db *db, int64_t amount, const char *currency)
{
	const struct currency *c = currency_find(currency);
	if (c && currency_min_documented(currency) && amount < c->min_charge_minor)
		return 1;
	if (payments_check_minimum_db(r, db, amount, currency, "currency", "amount") == 0)
		return 0;
	bool small = r->err.code == ERR_AMOUNT_TOO_SMALL;
	r->err.set = false;
	return small ? 1 : 0;
}

/* Would an invoice of customer in currency with amount due `due` be too small (its balance
 * able to take the debit: the customer exists and its balance is in that currency or none)? */
static int due_too_small(struct req *r, struct db *db, const char *customer, const char *currency,
			 int64_t due)
{
	if (due <= 0)
		return 0;
	struct db_stmt *st = db_prepare(db, SQL_CUSTOMER_CURRENCY);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, customer, -1);
	int rc = db_step(st);
	const char *cur = rc == DB_ROW ? db_col_text(st, 0, NULL) : NULL;
	bool takes = rc == DB_ROW && (!cur || !*cur || strcmp(cur, currency) == 0);
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	return takes ? amount_too_small(r, db, due, currency) : 0;
}

int invoice_balance_apply(struct req *r, struct db *db, struct invoice *in, int64_t planned_due)
{
	int64_t now;
	if (billing_now(r, db, in->test_clock, &now) != 0)
		return -1;
	/* billing credits come off its lines first (pretax), when the amount due was planned with
	 * them (or is not planned: a hand finalization's) */
	int64_t credited;
	if ((planned_due < 0 || in->credits_planned) &&
	    invoice_credits_apply(r, db, in, now, true, &credited) != 0)
		return -1;
	struct event_origin o;
	invoice_origin(r, &o);
	int64_t starting = 0, applied = 0;
	int rc = in->balance_untouched
		     ? CUSTOMER_BALANCE_NO_CUSTOMER
		     : customer_balance_apply(db, r->merchant_id, in->customer, in->currency,
					      in->id, in->total, now, &o, &starting, &applied);
	bool carry = false;
	if (rc == CUSTOMER_BALANCE_OTHER_CURRENCY || rc == CUSTOMER_BALANCE_NO_CUSTOMER) {
		/* no balance it can take: it charges its total; a credit stays a credit of the
		 * customer's in the invoice's currency, as its next invoice's item */
		carry = rc == CUSTOMER_BALANCE_OTHER_CURRENCY && in->total < 0;
		starting = applied = 0;
	} else if (rc != 0) {
		return req_fail(r, ERR_API, NULL, NULL);
	}
	int64_t due; /* bounded: |total| and |applied| are far below int64's limits */
	if (__builtin_sub_overflow(in->total, applied, &due))
		return req_fail(r, ERR_API, NULL, NULL);
	in->starting_balance = starting;
	in->ending_balance = starting + applied;
	in->amount_due = due > 0 ? due : 0;
	/* below the minimum charge (Stripe's invoice_too_small): not charged; paid, the amount
	 * a debit on the customer's balance for its next invoice */
	in->too_small = false;
	int small = rc == 0 ? due_too_small(r, db, in->customer, in->currency, in->amount_due) : 0;
	if (small < 0)
		return req_fail(r, ERR_API, NULL, NULL);
	if (small) {
		int k = customer_balance_too_small(db, r->merchant_id, in->customer, in->currency,
						   in->id, in->amount_due, now, &o);
		if (k < 0)
			return req_fail(r, ERR_API, NULL, NULL);
		if (k == 0) {
			in->too_small = true;
			in->amount_paid = in->amount_due;
		}
	}
	int64_t charged = in->too_small ? 0 : in->amount_due;
	if (planned_due >= 0 && charged != planned_due)
		return req_fail(r, ERR_INVALID_STATE, "customer",
				"The customer's balance changed while invoice %s was made; try "
				"again.",
				in->id);
	return carry ? invoice_credit_carry(r, db, in, now) : 0;
}

int invoice_planned_due(struct req *r, struct db *db, const char *customer, const char *currency,
			int64_t total, int64_t *ret_due)
{
	int64_t starting;
	int64_t due;
	if (customer_balance_preview(db, r->merchant_id, customer, currency, total, &starting,
				     &due) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	int small = due_too_small(r, db, customer, currency, due);
	if (small < 0)
		return req_fail(r, ERR_API, NULL, NULL);
	*ret_due = small ? 0 : due;
	return 0;
}

int invoice_balance_return(struct req *r, struct db *db, const struct invoice *in)
{
	int64_t now, returned;
	if (billing_now(r, db, in->test_clock, &now) != 0)
		return -1;
	struct event_origin o;
	invoice_origin(r, &o);
	if (customer_balance_unapply(db, r->merchant_id, in->customer, in->id, now, &o,
				     &returned) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	/* the billing credits it took go back to their grants too */
	return invoice_credits_return(r, db, in, now);
}

static const char SQL_SEQUENCE_OFFSET[] =
    "SELECT invoice_sequence_offset FROM customers WHERE merchant_id = $1 AND id = $2";

int invoice_sequence_next(struct db *db, const char *merchant_id, const char *customer,
			  int64_t offset, int64_t *ret)
{
	struct db_stmt *st = db_prepare(db, SQL_COUNT_FOR_CUSTOMER);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, customer, -1);
	int64_t n = db_step(st) == DB_ROW ? db_col_int64(st, 0) : -1;
	db_reset(st);
	if (n < 0 || __builtin_add_overflow(n + 1, offset, ret))
		return DB_ERR;
	return DB_OK;
}

static const char SQL_NUMBER_TAKEN[] =
    "SELECT 1 FROM invoices WHERE merchant_id = $1 AND number = $2 AND id <> $3 LIMIT 1";

/* Whether another invoice of r's merchant than self (NULL: none) has number: 1, 0, or < 0. */
static int number_taken(struct req *r, struct db *db, const char *number, const char *self)
{
	struct db_stmt *st = db_prepare(db, SQL_NUMBER_TAKEN);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, number, -1);
	db_bind_text(st, 3, self ? self : "", -1);
	int rc = db_step(st);
	db_reset(st);
	return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : rc;
}

/* A create's or a draft update's `number` (inside the write): unique among the merchant's
 * invoices, finalization then keeping it instead of generating one. *ret unchanged when absent,
 * NULL when emptied (a generated one again). 0, or -1 with r->err. */
static int number_param(struct req *r, struct db *db, const char *self, const char **ret)
{
	const char *n = param_str(r, "number");
	if (!n)
		return 0;
	if (!*n) {
		*ret = NULL;
		return 0;
	}
	int rc = number_taken(r, db, n, self);
	if (rc < 0)
		return req_fail(r, ERR_API, NULL, NULL);
	if (rc)
		return req_fail(r, ERR_PARAM_BAD, "number",
				"Invoice number `%s` is already in use by another invoice: invoice "
				"numbers must be unique.",
				n);
	*ret = n;
	return 0;
}

/* How many later sequence numbers are tried when a generated number is taken by a custom one */
#define NUMBER_SKIP_MAX 1000

int invoice_number_next(struct req *r, struct db *db, const char *customer, const char **ret)
{
	struct db_stmt *st = db_prepare(db, SQL_CUSTOMER_PREFIX);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, customer, -1);
	const char *prefix = NULL;
	if (db_step(st) == DB_ROW)
		prefix = col_text_dup(&r->arena, st, 0);
	db_reset(st);
	/* the customer's next_invoice_sequence: one more than its numbered invoices, moved on
	 * by what the API set (customers.c) */
	st = db_prepare(db, SQL_SEQUENCE_OFFSET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, customer, -1);
	int64_t offset = db_step(st) == DB_ROW ? db_col_int64_or0(st, 0) : 0;
	db_reset(st);
	int64_t n;
	if (invoice_sequence_next(db, r->merchant_id, customer, offset, &n) != DB_OK)
		return DB_ERR;
	/* a custom number (number_param) may already be the one the sequence comes to: the
	 * sequence moves past it, so numbers stay unique */
	for (int i = 0; i < NUMBER_SKIP_MAX; i++) {
		*ret = arena_printf(&r->arena, "%s-%04lld", prefix ? prefix : "INV", (long long)n);
		if (!*ret)
			return DB_ERR;
		int rc = number_taken(r, db, *ret, NULL);
		if (rc < 0)
			return rc;
		if (rc == 0)
			return DB_OK;
		if (__builtin_add_overflow(n, 1, &n))
			return DB_ERR;
	}
	return DB_ERR;
}

/* ---- rendering ---- */

static void time_or_null(struct json *j, const char *key, int64_t t)
{
	if (t)
		json_kv_int(j, key, t);
	else
		json_kv_null(j, key);
}

/* ---- automatic tax ----
 * Stripe Tax on an invoice: each line is taxed by the engine (tax/engine.h) at the customer's
 * location with the merchant's registrations, and what it levies becomes tax rates the invoice
 * computation (discounts.c) takes like any manual rate: after discounts, billing_tax_line's
 * arithmetic, one rounding rule. The rates are Tender's own rows (tax_rates.automatic = 1), one
 * per jurisdiction, rate and behaviour, named by a fixed id so that a computation that only
 * reads (a preview, the amount before a payment's write) and the write that stores the invoice
 * name the same rate; the write makes the row (tax_rate_auto_store). */

static const char SQL_AUTO_CUSTOMER[] =
    "SELECT address, shipping, tax_exempt FROM customers WHERE merchant_id = $1 AND id = $2";
static const char SQL_AUTO_TAX_IDS[] =
    "SELECT type, value FROM tax_ids WHERE merchant_id = $1 AND customer = $2 AND deleted = 0"
    " ORDER BY id LIMIT $3";
static const char SQL_AUTO_RATE_PUT[] =
    "INSERT INTO tax_rates (merchant_id, id, created, display_name, percent_e4, inclusive,"
    " active, country, state, jurisdiction, description, tax_type, metadata, automatic)"
    " VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8, $9, NULL, $10, '{}', 1)"
    " ON CONFLICT (merchant_id, id) DO NOTHING";
/* the most tax ids of a customer read for its VAT id (tax_ids.c allows 25) */
#define AUTO_TAX_IDS_MAX 25

/* The country and state of an address object (upper-cased; a US or Canadian one without its
 * state: the one its postal code is in). false when it has no country. */
static bool auto_addr(json_t *a, char country[3], char state[3])
{
	const char *c = json_string_value(json_object_get(a, "country"));
	if (!c || strlen(c) != 2)
		return false;
	for (int i = 0; i < 2; i++)
		country[i] = (char)(c[i] >= 'a' && c[i] <= 'z' ? c[i] - 32 : c[i]);
	country[2] = 0;
	state[0] = 0;
	const char *st = json_string_value(json_object_get(a, "state"));
	const char *zip = json_string_value(json_object_get(a, "postal_code"));
	if (st && strlen(st) == 2) {
		for (int i = 0; i < 2; i++)
			state[i] = (char)(st[i] >= 'a' && st[i] <= 'z' ? st[i] - 32 : st[i]);
		state[2] = 0;
	} else if (strcmp(country, "US") == 0 && zip && tax_us_state_of_zip(zip)) {
		str_copy(state, 3, tax_us_state_of_zip(zip));
	} else if (strcmp(country, "CA") == 0 && zip && tax_ca_province_of_postal_code(zip)) {
		str_copy(state, 3, tax_ca_province_of_postal_code(zip));
	}
	return true;
}

int invoice_auto_tax_place(struct req *r, struct db *db, const char *customer, int64_t t,
			   struct tax_context *ret_ctx, bool *ret_located,
			   const char **ret_behavior)
{
	return invoice_auto_tax_place_at(r, db, customer, NULL, t, ret_ctx, ret_located,
					 ret_behavior);
}

int invoice_auto_tax_place_at(struct req *r, struct db *db, const char *customer,
			      const char *address, int64_t t, struct tax_context *ret_ctx,
			      bool *ret_located, const char **ret_behavior)
{
	const char *addr = NULL, *ship = NULL, *exempt = NULL;
	int rc = DB_DONE;
	struct db_stmt *st;
	if (customer) {
		st = db_prepare(db, SQL_AUTO_CUSTOMER);
		if (!st)
			return req_fail(r, ERR_API, NULL, NULL);
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, customer, -1);
		rc = db_step(st);
		if (rc == DB_ROW) {
			addr = col_text_dup(&r->arena, st, 0);
			ship = col_text_dup(&r->arena, st, 1);
			exempt = col_text_dup(&r->arena, st, 2);
		}
		db_reset(st);
		if (rc != DB_ROW && rc != DB_DONE)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	/* the address given (a Checkout Session's), else the customer's address, else its
	 * shipping address */
	char country[3] = "", state[3] = "";
	bool have = false;
	if (address) {
		json_t *g = json_loads(address, 0, NULL);
		have = auto_addr(g, country, state);
		json_decref(g);
	} else {
		json_t *a = addr ? json_loads(addr, 0, NULL) : NULL;
		json_t *s = ship ? json_loads(ship, 0, NULL) : NULL;
		have = auto_addr(a, country, state) ||
		       auto_addr(json_object_get(s, "address"), country, state);
		json_decref(a);
		json_decref(s);
	}
	struct tax_merchant *m = arena_alloc(&r->arena, sizeof(*m));
	if (!m || tax_merchant_load(db, r->merchant_id, t, m) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	tax_merchant_context(m, country, state, ret_ctx);
	if (ret_behavior)
		*ret_behavior = m->default_behavior;
	if (exempt && strcmp(exempt, "exempt") == 0)
		ret_ctx->override = TAX_OVERRIDE_CUSTOMER_EXEMPT;
	else if (exempt && strcmp(exempt, "reverse") == 0)
		ret_ctx->override = TAX_OVERRIDE_REVERSE_CHARGE;
	if (customer) {
		st = db_prepare(db, SQL_AUTO_TAX_IDS);
		if (!st)
			return req_fail(r, ERR_API, NULL, NULL);
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, customer, -1);
		db_bind_int64(st, 3, AUTO_TAX_IDS_MAX);
		int n = 0;
		while (n++ < AUTO_TAX_IDS_MAX && (rc = db_step(st)) == DB_ROW) {
			const char *type = db_col_text(st, 0, NULL);
			const char *value = db_col_text(st, 1, NULL);
			char cc[3];
			if (!ret_ctx->vat_id_country[0] && type && value &&
			    strcmp(type, "eu_vat") == 0 && tax_id_check("eu_vat", value, cc) == 0)
				str_copy(ret_ctx->vat_id_country, sizeof(ret_ctx->vat_id_country),
					 cc);
		}
		db_reset(st);
		if (rc < 0)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	*ret_located = have && tax_engine_location_valid(ret_ctx);
	return 0;
}

static const char SQL_PRODUCT_TAX_CODE[] =
    "SELECT tax_code FROM products WHERE merchant_id = $1 AND id = $2";

int product_tax_code(struct req *r, struct db *db, const char *product, const char **ret)
{
	struct db_stmt *st = db_prepare(db, SQL_PRODUCT_TAX_CODE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, product, -1);
	int rc = db_step(st);
	*ret = rc == DB_ROW ? col_text_dup(&r->arena, st, 0) : NULL;
	db_reset(st);
	return rc == DB_ROW || rc == DB_DONE ? DB_OK : rc < 0 ? rc : DB_ERR;
}

/* The rates Stripe Tax applies at ctx's place to a line of tax code `code` (NULL: goods),
 * inclusive or not: *ret_rates (r's arena) and how many (*ret_k, 0: none). 0, or -1. */
static int auto_line_rates(struct req *r, const struct tax_context *ctx, int64_t t, bool inclusive,
			   const char *code, struct tax_rate **ret_rates, int *ret_k)
{
	struct tax_line_result res;
	if (tax_engine_line(ctx, 0, inclusive, code, &res) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	struct tax_rate *rates = arena_alloc(&r->arena, TAX_COMPONENTS_MAX * sizeof(*rates));
	if (!rates)
		return req_fail(r, ERR_API, NULL, NULL);
	int k = 0;
	for (int p = 0; p < res.n && k < BILLING_TAX_RATES_MAX; p++) {
		const struct tax_part *tp = &res.parts[p];
		/* a tax that owes nothing (reverse charge, an exempt customer or product, no
		 * registration, a jurisdiction without the tax) is still shown, as Stripe shows
		 * it: an entry of 0 at a 0 % rate of its own, whose id names the reason
		 * (tax_rate_id_reason); Tender has no rates where the engine says not_supported,
		 * so nothing then */
		const char *why = tax_reason_code(tp->reason);
		bool zero = tp->reason != TAX_REASON_STANDARD_RATED || tp->percent_e4 <= 0;
		if (zero && !why)
			continue;
		struct tax_rate *x = &rates[k++];
		memset(x, 0, sizeof(*x));
		const char *cst = tp->c.state ? tp->c.state : "";
		snprintf(x->id, sizeof(x->id), "txr_auto%s%s%s_%lld%s%s%s", tp->c.country,
			 tp->c.state_level ? cst : "", tp->c.tax_type ? tp->c.tax_type : "",
			 (long long)(zero ? 0 : tp->percent_e4), inclusive ? "i" : "e",
			 zero ? "_" : "", zero ? why : "");
		x->created = t;
		x->percent_e4 = zero ? 0 : tp->percent_e4;
		x->inclusive = inclusive;
		x->active = true;
		x->display_name = tp->c.rate_name ? tp->c.rate_name : "Tax";
		x->country = tp->c.country;
		x->state = tp->c.state_level ? tp->c.state : NULL;
		x->jurisdiction = tp->c.jurisdiction_name;
		x->tax_type = tp->c.tax_type;
		x->metadata = "{}";
		x->automatic = true;
	}
	*ret_rates = rates;
	*ret_k = k;
	return 0;
}

int invoice_lines_auto_tax(struct req *r, struct db *db, const char *customer, int64_t t,
			   struct inv_line *lines, int n, bool *ret_located)
{
	return invoice_lines_auto_tax_at(r, db, customer, NULL, t, lines, n, ret_located);
}

int invoice_lines_auto_tax_at(struct req *r, struct db *db, const char *customer,
			      const char *address, int64_t t, struct inv_line *lines, int n,
			      bool *ret_located)
{
	for (int i = 0; i < n; i++)
		if (lines[i].n_tax > 0)
			return req_fail(r, ERR_PARAM_BAD, "automatic_tax[enabled]",
					"You cannot use tax rates (tax_rates or default_tax_rates) "
					"together with automatic tax.");
	struct tax_context ctx;
	bool located;
	const char *behavior;
	if (invoice_auto_tax_place_at(r, db, customer, address, t, &ctx, &located, &behavior) != 0)
		return -1;
	if (ret_located)
		*ret_located = located;
	if (!located || n == 0)
		return 0;
	/* per line, as Stripe Tax: its own tax_behavior (an invoice item's), else the merchant's
	 * default (Tender's prices carry none of their own, so every price is `unspecified`;
	 * inferred_by_currency is exclusive: Stripe's for usd and cad, Tender's only reading);
	 * its own tax_code, else its product's, else txcd_99999999. Lines alike share their
	 * rates. */
	struct auto_rates {
		bool inclusive;
		const char *code;
		const struct tax_rate *rates;
		int k;
	} seen[8];
	int n_seen = 0;
	for (int i = 0; i < n; i++) {
		const char *lb = lines[i].tax_behavior;
		if (!lb || !*lb || strcmp(lb, "unspecified") == 0)
			lb = behavior;
		if (!lb || !*lb)
			return req_fail(
			    r, ERR_PARAM_BAD, "automatic_tax[enabled]",
			    "A tax behavior must be specified on the price or as a "
			    "default in the tax settings (defaults[tax_behavior]) to use "
			    "automatic tax.");
		bool inclusive = strcmp(lb, "inclusive") == 0;
		const char *code = lines[i].tax_code;
		if (!code && lines[i].product &&
		    product_tax_code(r, db, lines[i].product, &code) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		struct auto_rates *a = NULL;
		for (int s = 0; s < n_seen && !a; s++)
			if (seen[s].inclusive == inclusive &&
			    (seen[s].code == code ||
			     (seen[s].code && code && strcmp(seen[s].code, code) == 0)))
				a = &seen[s];
		struct auto_rates one;
		if (!a) {
			a = n_seen < (int)(sizeof(seen) / sizeof(seen[0])) ? &seen[n_seen++] : &one;
			a->inclusive = inclusive;
			a->code = code;
			struct tax_rate *rates = NULL;
			if (auto_line_rates(r, &ctx, t, inclusive, code, &rates, &a->k) != 0)
				return -1;
			a->rates = rates;
		}
		if (a->k) {
			lines[i].tax = a->rates;
			lines[i].n_tax = a->k;
			lines[i].tax_own = false;
		}
	}
	return 0;
}

int tax_rate_auto_store(struct req *r, struct db *db, const struct tax_rate *t)
{
	struct db_stmt *st = db_prepare(db, SQL_AUTO_RATE_PUT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, t->id, -1);
	db_bind_int64(st, 3, t->created);
	db_bind_text(st, 4, t->display_name, -1);
	db_bind_int64(st, 5, t->percent_e4);
	db_bind_int64(st, 6, t->inclusive ? 1 : 0);
	db_bind_text(st, 7, t->country, -1);
	db_bind_text(st, 8, t->state, -1);
	db_bind_text(st, 9, t->jurisdiction, -1);
	db_bind_text(st, 10, t->tax_type, -1);
	return db_step_done(st) == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

void billing_automatic_tax_render(bool enabled, const char *status, struct json *j)
{
	json_key(j, "automatic_tax");
	json_obj_open(j);
	json_kv_null(j, "disabled_reason");
	json_kv_bool(j, "enabled", enabled);
	if (enabled) {
		json_key(j, "liability");
		json_obj_open(j);
		json_kv_str(j, "type", "self");
		json_obj_close(j);
		json_kv_str(j, "provider", "stripe");
	} else {
		json_kv_null(j, "liability");
		json_kv_null(j, "provider");
	}
	json_kv_str_or_null(j, "status", enabled ? status : NULL);
	json_obj_close(j);
}

int invoice_payment_id(const struct invoice *in, char out[ID_MAX + 8])
{
	if (!in->payment_intent || strncmp(in->id, "in_", 3) != 0)
		return -1;
	snprintf(out, ID_MAX + 8, "inpay_%s", in->id + 3);
	return 0;
}

/* The invoice's payment; pi_path (NULL: none) is where its payment.payment_intent sits in the
 * answer, expanded when expand[] names it (r and db given). 0, or -1. */
static int payment_render(struct req *r, struct db *db, const struct invoice *in,
			  const char *pi_path, struct json *j)
{
	char id[ID_MAX + 8];
	if (invoice_payment_id(in, id) != 0)
		return 0;
	json_obj_open(j);
	json_kv_str(j, "id", id);
	json_kv_str(j, "object", "invoice_payment");
	bool paid = strcmp(in->status, "paid") == 0, voided = strcmp(in->status, "void") == 0;
	/* what the payment paid, null until it has (Stripe's) */
	if (paid)
		json_kv_int(j, "amount_paid", in->amount_paid);
	else
		json_kv_null(j, "amount_paid");
	json_kv_int(j, "amount_requested", in->amount_due);
	json_kv_int(j, "created", in->finalized_at ? in->finalized_at : in->created);
	json_kv_str(j, "currency", in->currency);
	json_kv_str(j, "invoice", in->id);
	json_kv_bool(j, "is_default", true);
	json_kv_bool(j, "livemode", false);
	json_key(j, "payment");
	json_obj_open(j);
	json_key(j, "payment_intent");
	if (r && db && pi_path && req_expand_has(r, pi_path)) {
		struct expand_set ex;
		payments_expand_from_req(r, &ex, pi_path);
		if (pi_render_by_id(db, &r->arena, r->merchant_id, r->livemode, in->payment_intent,
				    &ex, j) != DB_OK)
			return -1;
	} else {
		json_str(j, in->payment_intent);
	}
	json_kv_str(j, "type", "payment_intent");
	json_obj_close(j);
	json_kv_str(j, "status", paid ? "paid" : voided ? "canceled" : "open");
	json_key(j, "status_transitions");
	json_obj_open(j);
	time_or_null(j, "canceled_at", voided ? in->voided_at : 0);
	time_or_null(j, "paid_at", paid ? in->paid_at : 0);
	json_obj_close(j);
	json_obj_close(j);
	return 0;
}

void invoice_payment_render(const struct invoice *in, struct json *j)
{
	(void)payment_render(NULL, NULL, in, NULL, j);
}

/* The invoice's payments (expand[]=payments): its one PaymentIntent, named by the invoice,
 * expandable as payments.data.payment.payment_intent (under prefix). 0, or -1. */
static int render_payments(struct req *r, struct db *db, const struct invoice *in,
			   const char *prefix, struct json *j)
{
	char path[160];
	snprintf(path, sizeof(path), "%spayments.data.payment.payment_intent", prefix);
	json_key(j, "payments");
	json_obj_open(j);
	json_kv_str(j, "object", "list");
	json_key(j, "data");
	json_arr_open(j);
	if (payment_render(r, db, in, path, j) != 0)
		return -1;
	json_arr_close(j);
	json_kv_bool(j, "has_more", false);
	json_kv_str(j, "url", "/v1/invoice_payments");
	json_obj_close(j);
	return 0;
}

static const char SQL_PI_SECRET[] =
    "SELECT client_secret FROM payment_intents WHERE merchant_id = $1 AND id = $2";

/* confirmation_secret (includable): the client_secret of the PaymentIntent a finalized invoice
 * is paid by, for the client to confirm (Stripe.js confirmPayment); null while a draft, without
 * an intent (nothing due, a send_invoice invoice not yet paid by one), or paid out of band.
 * 0, or -1. */
static int render_confirmation_secret(struct req *r, struct db *db, const struct invoice *in,
				      struct json *j)
{
	json_key(j, "confirmation_secret");
	if (str_eq(in->status, "draft") || !in->payment_intent || in->paid_out_of_band ||
	    in->preview_lines) {
		json_nil(j);
		return 0;
	}
	struct db_stmt *st = db_prepare(db, SQL_PI_SECRET);
	if (!st)
		return -1;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, in->payment_intent, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		json_obj_open(j);
		json_kv_str(j, "client_secret", db_col_text(st, 0, NULL));
		json_kv_str(j, "type", "payment_intent");
		json_obj_close(j);
	} else if (rc == DB_DONE) {
		json_nil(j);
	}
	db_reset(st);
	return rc == DB_ROW || rc == DB_DONE ? 0 : -1;
}

int invoice_lines_split(const char *s, const char **items, size_t *lens, int max)
{
	int n = 0, depth = 0;
	bool in_str = false;
	const char *start = NULL;
	for (const char *c = s; *c; c++) {
		if (in_str) {
			if (*c == '\\' && c[1])
				c++;
			else if (*c == '"')
				in_str = false;
			continue;
		}
		if (*c == '"') {
			in_str = true;
		} else if (*c == '{') {
			if (depth++ == 0)
				start = c;
		} else if (*c == '}' && depth > 0 && --depth == 0 && n < max) {
			items[n] = start;
			lens[n++] = (size_t)(c - start + 1);
		}
	}
	return n;
}

int invoice_line_render_with_amounts(const char *line, size_t len, const char *amounts,
				     struct json *j)
{
	static const char KEY[] = "\"discount_amounts\":[]";
	const char *at = memmem(line, len, KEY, sizeof(KEY) - 1);
	if (!at || !amounts) {
		json_raw(j, line, len);
		return 0;
	}
	/* the line up to the array, the array, the rest (one raw value in three pieces) */
	struct buf out;
	buf_init(&out, 1u << 20);
	size_t head = (size_t)(at - line) + strlen("\"discount_amounts\":");
	buf_append(&out, line, head);
	buf_append(&out, amounts, strlen(amounts));
	buf_append(&out, at + sizeof(KEY) - 1, len - (size_t)(at + sizeof(KEY) - 1 - line));
	int rc = out.failed ? -1 : 0;
	if (rc == 0)
		json_raw(j, out.data, out.len);
	buf_release(&out);
	return rc;
}

/* The value of "key":"…" in a stored line (its first occurrence), into out; "" when absent. */
static void line_str(const char *line, size_t len, const char *key, char *out, size_t size)
{
	char pat[64];
	out[0] = '\0';
	int k = snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	if (k < 0 || (size_t)k >= sizeof(pat))
		return;
	const char *p = memmem(line, len, pat, (size_t)k);
	if (!p)
		return;
	p += k;
	const char *q = memchr(p, '"', len - (size_t)(p - line));
	if (!q || (size_t)(q - p) >= size)
		return;
	memcpy(out, p, (size_t)(q - p));
	out[q - p] = '\0';
}

int invoice_line_render_spliced(struct req *r, struct db *db, const char *line, size_t len,
				const char *amounts, const struct invoice_tax_entry *e, int n,
				struct json *j)
{
	static const char KEY[] = "\"taxes\":[]";
	char si[ID_MAX];
	line_str(line, len, "subscription_item", si, sizeof(si));
	const char *frag = invoice_line_taxes_json(r, db, e, n, si[0] ? si : NULL);
	const char *at = memmem(line, len, KEY, sizeof(KEY) - 1);
	if (!frag)
		return -1;
	if (!at)
		return invoice_line_render_with_amounts(line, len, amounts, j);
	/* the line with its taxes spliced in, then its discounts' amounts */
	struct buf out;
	buf_init(&out, 1u << 20);
	buf_append(&out, line, (size_t)(at - line));
	buf_append(&out, frag, strlen(frag));
	buf_append(&out, at + sizeof(KEY) - 1, len - (size_t)(at + sizeof(KEY) - 1 - line));
	int rc = out.failed ? -1 : invoice_line_render_with_amounts(out.data, out.len, amounts, j);
	buf_release(&out);
	return rc;
}

/* A subscription line of the invoice (stored JSON, written with "discount_amounts":[] and
 * "taxes":[] by invoice_for_period) with what the discounts and taxes took from it: the stored
 * shares replace those empty arrays, so a draft's lines follow its discounts as they are
 * computed again. */
static int sub_line_render(struct req *r, struct db *db, const struct invoice *in, const char *line,
			   size_t len, struct json *j)
{
	char lid[ID_MAX];
	line_str(line, len, "id", lid, sizeof(lid));
	if (!lid[0])
		return -1;
	struct invoice_tax_entry e[BILLING_TAX_RATES_MAX];
	int n = 0;
	bool own;
	if (invoice_line_taxes_load(r, db, in->id, lid, e, &n, &own) != DB_OK)
		return -1;
	if (!in->total_discount_amounts || strcmp(in->total_discount_amounts, "[]") == 0)
		return invoice_line_render_spliced(r, db, line, len, NULL, e, n, j);
	struct buf b;
	struct json dj;
	buf_init(&b, 64 * 1024);
	json_init(&dj, &b);
	int rc = -1;
	if (invoice_line_discounts_render(r, db, in->id, lid, &dj) == DB_OK) {
		buf_append(&b, "", 1); /* a string for the splice */
		if (!b.failed)
			rc = invoice_line_render_spliced(r, db, line, len, b.data, e, n, j);
	}
	buf_release(&b);
	return rc;
}

/* The invoice's lines as one JSON array in b: its invoice items' (rendered from their rows, so a
 * draft's follow its items), then its subscription's (stored with it). 0 or -1. */
static int lines_array(struct req *r, struct db *db, const struct invoice *in, struct buf *b)
{
	if (in->preview_lines) {
		buf_append(b, in->preview_lines, strlen(in->preview_lines));
		return b->failed ? -1 : 0;
	}
	size_t from = b->len;
	struct json j;
	json_init(&j, b);
	json_arr_open(&j);
	bool discounted =
	    in->total_discount_amounts && strcmp(in->total_discount_amounts, "[]") != 0;
	if (invoice_items_lines(r, db, in->id, discounted, &j) != DB_OK)
		return -1;
	const char *items[SUB_ITEMS_MAX];
	size_t lens[SUB_ITEMS_MAX];
	int n = invoice_lines_split(in->lines, items, lens, SUB_ITEMS_MAX);
	for (int i = 0; i < n; i++)
		if (sub_line_render(r, db, in, items[i], lens[i], &j) != 0)
			return -1;
	json_arr_close(&j);
	if (b->failed)
		return -1;
	/* the billing credits each line took */
	return invoice_credits_lines_patch(r, db, in->id, b, from) == DB_OK ? 0 : -1;
}

int invoice_lines_json(struct req *r, struct db *db, const struct invoice *in, struct buf *b)
{
	return lines_array(r, db, in, b);
}

int invoice_render(struct req *r, struct db *db, const struct invoice *in, const char *prefix,
		   struct json *j)
{
	bool draft = strcmp(in->status, "draft") == 0;
	char path[128];
	/* an uncollectible invoice can still be paid: what it lacks stays shown */
	bool collectible =
	    strcmp(in->status, "open") == 0 || strcmp(in->status, "uncollectible") == 0;
	int64_t remaining = collectible ? in->amount_due - in->amount_paid : 0;
	int64_t due = in->amount_due, starting = in->starting_balance;
	if (draft) {
		/* not finalized: Stripe shows the customer's balance as it is now, and what the
		 * invoice would charge with it (what finalizing it applies) */
		if (customer_balance_preview(db, r->merchant_id, in->customer, in->currency,
					     in->total, &starting, &due) != DB_OK)
			return -1;
	}
	json_obj_open(j);
	json_kv_str(j, "id", in->id);
	json_kv_str(j, "object", "invoice");
	json_kv_str(j, "account_country", "US");
	json_kv_null(j, "account_name");
	/* the merchant's own tax ids it names (invoice_settings.c), expandable */
	json_key(j, "account_tax_ids");
	snprintf(path, sizeof(path), "%saccount_tax_ids", prefix ? prefix : "");
	if (tax_ids_render_account(r, db, invoice_setting(r, in, "account_tax_ids"),
				   prefix && req_expand_has(r, path), j) != DB_OK)
		return -1;
	json_kv_int(j, "amount_due", due);
	json_kv_int(j, "amount_overpaid", 0);
	json_kv_int(j, "amount_paid", in->amount_paid);
	json_kv_int(j, "amount_remaining", remaining);
	json_kv_int(j, "amount_shipping", invoice_shipping_amount(in));
	json_kv_null(j, "application");
	/* Connect (invoice_settings.c): what its PaymentIntent carries */
	json_kv_raw_or_null(j, "application_fee_amount",
			    invoice_setting(r, in, "application_fee_amount"));
	json_kv_int(j, "attempt_count", in->attempt_count);
	json_kv_bool(j, "attempted", in->attempt_count > 0);
	json_kv_bool(j, "auto_advance", in->auto_advance);
	/* a draft that cannot be located waits for its customer's address (finalizing it is
	 * refused); a finalized invoice's taxes are computed */
	const char *at_status = "complete";
	if (in->automatic_tax && strcmp(in->status, "draft") == 0) {
		struct tax_context actx;
		bool located = false;
		if (invoice_auto_tax_place_at(r, db, in->customer, in->auto_tax_address, r->now,
					      &actx, &located, NULL) != 0)
			return -1;
		if (!located)
			at_status = "requires_location_inputs";
	}
	billing_automatic_tax_render(in->automatic_tax, at_status, j);
	/* a draft the scheduler will finalize: its next step's time (invoice_next_step) */
	time_or_null(j, "automatically_finalizes_at",
		     draft && !in->preview_lines ? invoice_next_step(in) : 0);
	json_kv_str(j, "billing_reason", in->billing_reason);
	json_kv_str(j, "collection_method",
		    invoice_sends(in) ? "send_invoice" : "charge_automatically");
	snprintf(path, sizeof(path), "%sconfirmation_secret", prefix ? prefix : "");
	if (prefix && req_expand_has(r, path) && render_confirmation_secret(r, db, in, j) != 0)
		return -1;
	json_kv_int(j, "created", in->created);
	json_kv_str(j, "currency", in->currency);
	invoice_settings_render(r, in, "custom_fields", j);
	json_kv_str(j, "customer", in->customer);
	json_kv_null(j, "customer_account");
	json_kv_null(j, "customer_address");
	json_kv_str_or_null(j, "customer_email", in->customer_email);
	json_kv_str_or_null(j, "customer_name", in->customer_name);
	json_kv_null(j, "customer_phone");
	json_kv_null(j, "customer_shipping");
	json_kv_str(j, "customer_tax_exempt", "none");
	json_kv_raw(j, "customer_tax_ids", "[]", 2);
	invoice_settings_render(r, in, "default_payment_method", j);
	invoice_settings_render(r, in, "default_source", j);
	/* a preview shows its subscription's, which it would take */
	json_key(j, "default_tax_rates");
	if (tax_links_render(r, db,
			     in->preview_lines && in->subscription ? in->subscription : in->id,
			     j) != DB_OK)
		return -1;
	json_kv_str_or_null(j, "description", in->description);
	json_key(j, "discounts");
	snprintf(path, sizeof(path), "%sdiscounts", prefix ? prefix : "");
	if (discounts_render_ids(r, db, in->discounts, prefix && req_expand_has(r, path), j) != 0)
		return -1;
	/* a draft due some days after it was made shows when that would be (its finalization
	 * counts them again from then) */
	int64_t due_at = in->due_date;
	if (!due_at && draft && invoice_sends(in) && in->has_days_until_due)
		due_at = in->created + in->days_until_due * 86400;
	time_or_null(j, "due_date", invoice_sends(in) ? due_at : 0);
	time_or_null(j, "effective_at", invoice_effective_at(in));
	if (draft)
		json_kv_null(j, "ending_balance");
	else
		json_kv_int(j, "ending_balance", in->ending_balance);
	invoice_settings_render(r, in, "footer", j);
	invoice_settings_render(r, in, "from_invoice", j);
	const char *hosted = !draft && in->hosted_token_hash && !in->preview_lines
				 ? invoice_hosted_url(r, in->id, NULL)
				 : NULL;
	json_kv_str_or_null(j, "hosted_invoice_url", hosted);
	json_kv_str_or_null(j, "invoice_pdf", documents_invoice_pdf_url(r, in));
	/* issuer (invoice_settings.c): the merchant itself unless a connected account was named */
	const char *issuer = invoice_setting(r, in, "issuer");
	if (issuer) {
		json_kv_raw(j, "issuer", issuer, strlen(issuer));
	} else {
		json_key(j, "issuer");
		json_obj_open(j);
		json_kv_str(j, "type", "self");
		json_obj_close(j);
	}
	json_kv_null(j, "last_finalization_error");
	invoice_settings_render(r, in, "latest_revision", j);
	json_key(j, "lines");
	json_obj_open(j);
	json_kv_str(j, "object", "list");
	struct buf lb;
	buf_init(&lb, 8u << 20);
	int lrc = lines_array(r, db, in, &lb);
	if (lrc == 0)
		json_kv_raw(j, "data", lb.data, lb.len);
	buf_release(&lb);
	if (lrc != 0)
		return -1;
	json_kv_bool(j, "has_more", false);
	char url[96];
	if (in->preview_lines)
		snprintf(url, sizeof(url), "/v1/invoices/upcoming/lines");
	else
		snprintf(url, sizeof(url), "/v1/invoices/%s/lines", in->id);
	json_kv_str(j, "url", url);
	json_obj_close(j);
	json_kv_bool(j, "livemode", false);
	json_kv_raw(j, "metadata", in->metadata, strlen(in->metadata));
	/* a send_invoice invoice is never attempted: its column holds its overdue notice's time */
	time_or_null(j, "next_payment_attempt", invoice_sends(in) ? 0 : in->next_payment_attempt);
	json_kv_str_or_null(j, "number", in->number);
	invoice_settings_render(r, in, "on_behalf_of", j);
	json_kv_bool(j, "paid_out_of_band", in->paid_out_of_band);
	json_key(j, "parent");
	if (in->subscription) {
		json_obj_open(j);
		json_kv_null(j, "quote_details");
		json_key(j, "subscription_details");
		json_obj_open(j);
		json_kv_null(j, "metadata");
		json_kv_str(j, "subscription", in->subscription);
		json_obj_close(j);
		json_kv_str(j, "type", "subscription_details");
		json_obj_close(j);
	} else {
		json_nil(j);
	}
	json_key(j, "payment_settings");
	json_obj_open(j);
	json_kv_null(j, "default_mandate");
	if (in->pmo_customer_balance) {
		/* the bank transfer it is paid by (api/cash_balance.c); Tender keeps no other
		 * type's options */
		json_key(j, "payment_method_options");
		json_obj_open(j);
		json_kv_null(j, "acss_debit");
		json_kv_null(j, "bancontact");
		json_kv_null(j, "card");
		json_kv_raw(j, "customer_balance", in->pmo_customer_balance,
			    strlen(in->pmo_customer_balance));
		json_kv_null(j, "konbini");
		json_kv_null(j, "us_bank_account");
		json_obj_close(j);
	} else {
		json_kv_null(j, "payment_method_options");
	}
	if (in->payment_method_types)
		json_kv_raw(j, "payment_method_types", in->payment_method_types,
			    strlen(in->payment_method_types));
	else
		json_kv_null(j, "payment_method_types");
	json_obj_close(j);
	snprintf(path, sizeof(path), "%spayments", prefix ? prefix : "");
	if (prefix && req_expand_has(r, path) && render_payments(r, db, in, prefix, j) != 0)
		return -1;
	json_kv_int(j, "period_end", in->period_end);
	json_kv_int(j, "period_start", in->period_start);
	int64_t cn_pre = 0, cn_post = 0; /* its credit notes' (credit_notes.c) */
	if (!draft && credit_notes_invoice_amounts(r, db, in->id, &cn_pre, &cn_post) != DB_OK)
		return -1;
	json_kv_int(j, "post_payment_credit_notes_amount", cn_post);
	json_kv_int(j, "pre_payment_credit_notes_amount", cn_pre);
	json_kv_null(j, "receipt_number");
	invoice_settings_render(r, in, "rendering", j);
	invoice_settings_render(r, in, "shipping_cost", j);
	invoice_settings_render(r, in, "shipping_details", j);
	json_kv_int(j, "starting_balance", starting);
	invoice_settings_render(r, in, "statement_descriptor", j);
	json_kv_str(j, "status", in->status);
	json_key(j, "status_transitions");
	json_obj_open(j);
	time_or_null(j, "finalized_at", in->finalized_at);
	time_or_null(j, "marked_uncollectible_at", in->marked_uncollectible_at);
	time_or_null(j, "paid_at", in->paid_at);
	time_or_null(j, "voided_at", in->voided_at);
	json_obj_close(j);
	json_kv_str_or_null(j, "subscription", in->subscription);
	/* its taxes (tax_rates.c): a preview's as computed, else as stored with its lines */
	struct invoice_tax_totals *tt = arena_alloc(&r->arena, sizeof(*tt));
	if (!tt)
		return -1;
	if (in->preview_taxes)
		*tt = *in->preview_taxes;
	else if (invoice_tax_totals_load(r, db, in->id, tt) != DB_OK)
		return -1;
	json_kv_int(j, "subtotal", in->subtotal);
	json_kv_int(j, "subtotal_excluding_tax", in->subtotal - tt->pre_discount_inclusive);
	if (tt->n ||
	    in->automatic_tax) /* null without tax rates or Stripe Tax, as Stripe shows it */
		json_kv_int(j, "tax", tt->exclusive + tt->inclusive);
	else
		json_kv_null(j, "tax");
	json_kv_str_or_null(j, "test_clock", in->test_clock);
	json_kv_int(j, "total", in->total);
	invoice_settings_render(r, in, "transfer_data", j);
	const char *tda = in->total_discount_amounts ? in->total_discount_amounts : "[]";
	json_kv_raw(j, "total_discount_amounts", tda, strlen(tda));
	json_kv_int(j, "total_excluding_tax", in->total - tt->exclusive - tt->inclusive);
	json_key(j, "total_pretax_credit_amounts");
	if (in->preview_lines) {
		const char *pc = in->preview_credits ? in->preview_credits : "[]";
		json_raw(j, pc, strlen(pc));
	} else if (invoice_credits_render(r, db, in->id, j) != DB_OK)
		return -1;
	json_key(j, "total_tax_amounts");
	invoice_tax_entries_render(tt->e, tt->n, false, j);
	json_key(j, "total_taxes");
	invoice_tax_entries_render(tt->e, tt->n, true, j);
	json_kv_int(j, "webhooks_delivered_at", in->created);
	json_obj_close(j);
	return 0;
}

int invoice_emit(struct req *r, struct db *db, const struct invoice *in, const char *type)
{
	struct buf b;
	struct json j;
	buf_init(&b, 4u << 20);
	json_init(&j, &b);
	/* events expand nothing */
	int rc = invoice_render(r, db, in, NULL, &j);
	if (rc == 0 && !b.failed) {
		struct event_origin o = {r->request_id[0] ? r->request_id : NULL,
					 r->idempotency_key, r->livemode};
		/* on a test clock, at the clock's time: its events sort with the clock's */
		int64_t now;
		rc = billing_now(r, db, in->test_clock, &now) == 0 &&
			     event_append(db, r->merchant_id, &o, type, in->id, b.data, b.len, NULL,
					  now, NULL) == DB_OK
			 ? 0
			 : -1;
	}
	buf_release(&b);
	return rc == 0 ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* ---- payment_settings[payment_method_types] ---- */

#define PM_TYPES_PARAM "payment_settings.payment_method_types"
#define PM_TYPES_SHOWN "payment_settings[payment_method_types]"

int billing_pm_types_param(struct req *r, const char *param, const char *shown,
			   const char *currency, const char **ret)
{
	unsigned types;
	int got = pm_types_param(
	    r, param, shown, PMT_CARD | PMT_SEPA_DEBIT | PMT_US_BANK_ACCOUNT | PMT_CUSTOMER_BALANCE,
	    "Tender's invoices support", true, &types);
	if (got <= 0)
		return got;
	if (!types) {
		*ret = NULL; /* '': none, Stripe's null */
		return 1;
	}
	if (pm_types_check_currency(r, types, currency, shown) != 0 ||
	    !(*ret = pm_types_arena_json(r, types)))
		return -1;
	return 1;
}

bool billing_pm_types_allow(const char *types, const char *type)
{
	return pm_types_allows(types, PMT_ALL, type);
}

#define PM_OPTIONS_PARAM "payment_settings.payment_method_options"
#define PMO_CASH_PARAM "payment_settings.payment_method_options.customer_balance"
#define PMO_CASH_SHOWN "payment_settings[payment_method_options][customer_balance]"

/* payment_settings[payment_method_options][customer_balance] of a create or a draft's update
 * ('' unsets it), then whether its types and options can be paid (an eur bank transfer's
 * country). 0, or -1 with r->err. */
static int invoice_pmo_params(struct req *r, struct invoice *in)
{
	const char *v = param_str(r, PMO_CASH_PARAM);
	if (v && !*v)
		in->pmo_customer_balance = NULL;
	else if (cash_invoice_pmo_param(r, PMO_CASH_PARAM, PMO_CASH_SHOWN, in->currency,
					&in->pmo_customer_balance) < 0)
		return -1;
	return cash_invoice_pmo_check(r, in->payment_method_types, in->pmo_customer_balance,
				      in->currency, "payment_settings");
}

bool billing_pm_types_cash_only(const char *types)
{
	return types && strcmp(types, "[\"customer_balance\"]") == 0;
}

/* A charge_automatically invoice paid by bank transfer is collected from the customer's cash
 * balance when it is finalized, never charged with a saved payment method: customer_balance
 * must then be its only type (Tender would not know which of the two pays it). 0, or -1 with
 * r->err. */
static int invoice_cash_check(struct req *r, const struct invoice *in)
{
	if (!in->payment_method_types ||
	    !strstr(in->payment_method_types, "\"customer_balance\"") || invoice_sends(in) ||
	    billing_pm_types_cash_only(in->payment_method_types))
		return 0;
	return req_fail(r, ERR_PARAM_BAD, PM_TYPES_SHOWN,
			"Tender takes customer_balance with collection_method="
			"charge_automatically as the only payment method type: such an invoice "
			"is paid from the customer's cash balance, not charged.");
}

static const char SQL_PI_STATUS[] =
    "SELECT status FROM payment_intents WHERE merchant_id = $1 AND id = $2";

static int payment_outcome(struct req *r, struct db *db, const struct payment_intent *pi,
			   bool settled_later);

int invoice_cash_collect(struct req *r, struct db *db, struct invoice *in)
{
	if (!str_eq(in->status, "open") || !in->payment_method_types ||
	    !strstr(in->payment_method_types, "\"customer_balance\"") ||
	    in->amount_due - in->amount_paid <= 0)
		return 0;
	bool sends = invoice_sends(in);
	if (!sends && !billing_pm_types_cash_only(in->payment_method_types))
		return 0;
	if (in->payment_intent) {
		/* only an intent that was given up (a credit note changed what is due) is made
		 * again: any other still pays it, or is the customer's own attempt */
		struct db_stmt *st = db_prepare(db, SQL_PI_STATUS);
		if (!st)
			return req_fail(r, ERR_API, NULL, NULL);
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, in->payment_intent, -1);
		bool canceled =
		    db_step(st) == DB_ROW && str_eq(db_col_text(st, 0, NULL), "canceled");
		db_reset(st);
		if (!canceled)
			return 0;
	}
	const struct cash_invoice ci = {
	    .invoice = in->id,
	    .customer = in->customer,
	    .currency = in->currency,
	    .pmo = in->pmo_customer_balance,
	    .description = in->subscription ? "Subscription update" : NULL,
	    .amount = in->amount_due - in->amount_paid,
	};
	char pi_id[ID_MAX];
	if (cash_invoice_pay(r, db, &ci, pi_id) != 0)
		return -1;
	/* paid at once (invoice_payment_settled named the intent), or waiting for transfers:
	 * the invoice names its intent from now on */
	if (invoice_load(r, db, in->id, in) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!sends && str_eq(in->status, "open")) {
		/* charge_automatically: this intent is its attempt, waiting for the customer's
		 * transfer as a card payment waits for 3-D Secure (payment_outcome: the intent
		 * named, invoice.payment_action_required, a renewal's subscription past_due; no
		 * automatic retry, since only a transfer can pay it) */
		struct payment_intent pi;
		if (pi_load(db, &r->arena, r->merchant_id, pi_id, &pi) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (payment_outcome(r, db, &pi, false) != 0)
			return -1;
		return invoice_load(r, db, in->id, in) == DB_OK ? 0
								: req_fail(r, ERR_API, NULL, NULL);
	}
	if (in->payment_intent && str_eq(in->payment_intent, pi_id))
		return 0;
	in->payment_intent = arena_strdup(&r->arena, pi_id);
	if (!in->payment_intent || invoice_update(r, db, in) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

/* ---- the payment's outcome ---- */

/*
 * A bank debit (SEPA or ACH Direct Debit) pays an invoice in two steps: its confirmation leaves the
 * intent `processing` (the attempt counted, the invoice still open with nothing paid, no
 * automatic attempt while the bank has it; a subscription's first invoice activates the
 * subscription, as Stripe treats a processing SEPA payment), then the scheduler's settlement
 * (payments/sepa.c) tells the invoice in its own write (invoice_debit_settled): paid, or a failed
 * attempt as a declined card's. settled_later: that settlement, whose attempt was counted at
 * the confirmation; a debit settling for an invoice no longer owed (voided meanwhile) changes
 * nothing of it, since the bank's answer cannot be refused.
 */
static int payment_outcome(struct req *r, struct db *db, const struct payment_intent *pi,
			   bool settled_later)
{
	struct invoice in;
	int rc = invoice_load(r, db, pi->invoice, &in);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	bool succeeded = strcmp(pi->status, "succeeded") == 0;
	/* an uncollectible invoice can still be paid (Stripe: it is only written off) */
	if (strcmp(in.status, "open") != 0 && strcmp(in.status, "uncollectible") != 0) {
		/* a voided (or paid) invoice takes no more money: the payment is rolled back */
		if (succeeded && !settled_later)
			return req_fail(
			    r, ERR_INVALID_STATE, NULL,
			    "This PaymentIntent pays invoice %s, which is %s: it can no "
			    "longer be paid.",
			    in.id, in.status);
		return 0;
	}
	int64_t now;
	if (billing_now(r, db, in.test_clock, &now) != 0)
		return -1;
	if (!settled_later)
		in.attempt_count++;
	in.payment_intent = pi->id;
	if (strcmp(pi->status, "processing") == 0) {
		/* the debit is with the bank: nothing is attempted again until it answers (a send
		 * invoice's overdue notice stays due) */
		if (!invoice_sends(&in))
			in.next_payment_attempt = 0;
		if (invoice_update(r, db, &in) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (in.subscription && str_eq(in.billing_reason, "subscription_create"))
			return subscription_invoice_paid(r, db, &in);
		return 0;
	}
	if (succeeded) {
		in.status = "paid";
		in.amount_paid = in.amount_due;
		in.paid_at = now;
		in.next_payment_attempt = 0;
		in.auto_advance = false; /* Stripe: a paid invoice has nothing left to advance */
		if (invoice_update(r, db, &in) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (invoice_emit(r, db, &in, "invoice.paid") != 0 ||
		    invoice_emit(r, db, &in, "invoice.payment_succeeded") != 0)
			return -1;
		/* the PaymentMethod that paid, which a subscription saving it takes as its
		 * default (its intent's setup_future_usage saved it to the customer); a customer's
		 * cash is no payment method to charge again */
		const char *pm = billing_pm_types_cash_only(pi->payment_method_types)
				     ? NULL
				     : pi->payment_method;
		return subscription_invoice_paid_by(r, db, &in, pm);
	}
	if (strcmp(pi->status, "requires_payment_method") != 0 &&
	    strcmp(pi->status, "requires_action") != 0)
		return 0;
	/* Automatic retries follow billing_next_attempt, counted from the invoice's
	 * finalization; a subscription's first invoice is never retried by itself (Stripe: the
	 * subscription stays incomplete for 23 h, waiting for the customer). */
	bool give_up = false;
	int64_t overdue_at = in.next_payment_attempt;
	in.next_payment_attempt = 0;
	if (invoice_sends(&in)) {
		/* the customer's own attempt (the hosted page): nothing is retried by itself, and
		 * its overdue notice stays due */
		in.next_payment_attempt = overdue_at;
	} else if (strcmp(pi->status, "requires_action") == 0 &&
		   billing_pm_types_cash_only(pi->payment_method_types)) {
		/* waiting for a bank transfer (invoice_cash_collect): nothing to retry, no
		 * dunning gives it up; the transfer that covers it pays it */
	} else if ((strcmp(in.billing_reason, "subscription_create") != 0 || settled_later) &&
		   in.auto_advance) {
		int64_t next = 0;
		int k = in.attempt_count >= BILLING_ATTEMPTS_MAX
			    ? 0
			    : billing_next_attempt(in.finalized_at, (int)in.attempt_count, &next);
		if (k < 0)
			return req_fail(r, ERR_API, NULL, NULL);
		if (k == 1)
			in.next_payment_attempt = next;
		else
			give_up = true;
	}
	in.debit_returned = settled_later;
	if (invoice_update(r, db, &in) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (invoice_emit(r, db, &in,
			 strcmp(pi->status, "requires_action") == 0
			     ? "invoice.payment_action_required"
			     : "invoice.payment_failed") != 0)
		return -1;
	return subscription_invoice_failed(r, db, &in, give_up);
}

int invoice_payment_settled(struct req *r, struct db *db, const struct payment_intent *pi)
{
	return payment_outcome(r, db, pi, false);
}

int invoice_debit_settled(struct db *db, struct app *app, struct arena *a, const char *merchant_id,
			  const struct payment_intent *pi, int64_t now)
{
	(void)a;
	if (!pi->invoice)
		return DB_OK;
	struct req r;
	/* the app (its vault and address) makes the invoice's hosted_invoice_url in the events */
	req_internal_init(&r, app, merchant_id, now, NULL);
	int rc = payment_outcome(&r, db, pi, true) == 0 ? DB_OK : DB_ERR;
	req_internal_release(&r);
	return rc;
}

/* ---- handlers ---- */

struct inv_ctx {
	struct req *r;
	const char *id;
	struct invoice in;
	const char *pm;
	/* pay: pm is the request's `source` (it must be the customer's), and the `mandate` the
	 * payment must be made under (NULL: none named) */
	bool pm_is_source;
	const char *mandate;
};

static int load_fn(struct db *db, void *p)
{
	struct inv_ctx *x = p;
	int rc = invoice_load(x->r, db, x->id, &x->in);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "invoice", x->id, "id");
	return rc == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

static int answer_invoice(struct req *r, struct db *db, const char *id)
{
	struct invoice in;
	if (invoice_load(r, db, id, &in) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	r->answer_event[0] = '\0';
	return invoice_render(r, db, &in, "", req_json(r));
}

static int retrieve_fn(struct db *db, void *p)
{
	struct inv_ctx *x = p;
	if (load_fn(db, p) != 0)
		return -1;
	return invoice_render(x->r, db, &x->in, "", req_json(x->r));
}

static int h_retrieve(struct req *r)
{
	struct inv_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, retrieve_fn, &x);
}

static const char SQL_CURSOR[] = "SELECT created FROM invoices WHERE merchant_id = $1 AND id = $2";
/* the due_date an invoice shows (invoice_render): a send_invoice invoice's, or for its draft
 * with days_until_due the day that would be; NULL for any other invoice */
#define DUE_SHOWN                                                                                  \
	"(CASE WHEN collection_method = 'send_invoice' THEN COALESCE(due_date, CASE WHEN"          \
	" status = 'draft' THEN created + days_until_due * 86400 END) END)"
/* CUSTOMER and SUBSCRIPTION: the two filters' terms; each is also a list_narrow (list.h) with
 * the plain `col = $n`, answered from invoices_customer / invoices_subscription */
#define LIST_WHERE(CUSTOMER, SUBSCRIPTION)                                                         \
	"SELECT id FROM invoices WHERE merchant_id = $1 AND " CUSTOMER " AND " SUBSCRIPTION        \
	" AND id > $2 AND id < $3"                                                                 \
	" AND ($7 IS NULL OR status = $7) AND ($8 IS NULL OR collection_method = $8)"              \
	" AND ($9 IS NULL OR (" DUE_SHOWN " >= $9 AND " DUE_SHOWN " <= $10))"
#define ANY_CUSTOMER "($5 IS NULL OR customer = $5)"
#define ANY_SUBSCRIPTION "($6 IS NULL OR subscription = $6)"
static const char SQL_DESC[] =
    LIST_WHERE(ANY_CUSTOMER, ANY_SUBSCRIPTION) " ORDER BY id DESC LIMIT $4";
static const char SQL_ASC[] =
    LIST_WHERE(ANY_CUSTOMER, ANY_SUBSCRIPTION) " ORDER BY id ASC LIMIT $4";
static const char SQL_CUSTOMER_DESC[] =
    LIST_WHERE("customer = $5", ANY_SUBSCRIPTION) " ORDER BY id DESC LIMIT $4";
static const char SQL_CUSTOMER_ASC[] =
    LIST_WHERE("customer = $5", ANY_SUBSCRIPTION) " ORDER BY id ASC LIMIT $4";
static const char SQL_SUBSCRIPTION_DESC[] =
    LIST_WHERE(ANY_CUSTOMER, "subscription = $6") " ORDER BY id DESC LIMIT $4";
static const char SQL_SUBSCRIPTION_ASC[] =
    LIST_WHERE(ANY_CUSTOMER, "subscription = $6") " ORDER BY id ASC LIMIT $4";

static int list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	static const char *const names[] = {"customer", "subscription", "status",
					    "collection_method"};
	for (int i = 0; i < 4; i++)
		list_bind_filter(r, st, first + i, names[i]);
	/* an invoice without a due date (charge_automatically) is never in a due_date range */
	list_bind_range(r, st, first + 4, "due_date");
	return 0;
}

int invoice_render_by_id(struct req *r, struct db *db, const char *id, const char *prefix,
			 struct json *j)
{
	struct invoice in;
	int rc = invoice_load(r, db, id, &in);
	if (rc != DB_OK)
		return rc;
	return invoice_render(r, db, &in, prefix, j) == 0 ? DB_OK : DB_ERR;
}

static int list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	return invoice_render_by_id(r, db, id, "data.", j);
}

static int h_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/invoices",
	    .object_name = "invoice",
	    .id_prefix = "in_",
	    .sql_cursor = SQL_CURSOR,
	    .sql_desc = SQL_DESC,
	    .sql_asc = SQL_ASC,
	    .narrow = {{"customer", SQL_CUSTOMER_DESC, SQL_CUSTOMER_ASC},
		       {"subscription", SQL_SUBSCRIPTION_DESC, SQL_SUBSCRIPTION_ASC}},
	    .bind_filters = list_bind,
	    .render = list_render,
	};
	return list_respond(r, &spec);
}

/* GET …/lines: the invoice's lines (at most SUB_ITEMS_MAX), paged by limit and
 * starting_after / ending_before over their order on the invoice. */
static int lines_fn(struct db *db, void *p)
{
	struct inv_ctx *x = p;
	struct req *r = x->r;
	if (load_fn(db, p) != 0)
		return -1;
	int64_t limit = 10;
	if (param_int(r, "limit", &limit) == 1 && (limit < 1 || limit > 100))
		return req_fail(r, ERR_LIST_LIMIT, "limit", "%lld", (long long)limit);
	const char *after = param_str(r, "starting_after");
	const char *before = param_str(r, "ending_before");
	/* all its lines, split at the array's top level */
	struct buf lb;
	buf_init(&lb, 8u << 20);
	const char **items = arena_alloc(&r->arena, INVOICE_LINES_MAX * sizeof(*items));
	size_t *lens = arena_alloc(&r->arena, INVOICE_LINES_MAX * sizeof(*lens));
	if (!items || !lens || lines_array(r, db, &x->in, &lb) != 0) {
		buf_release(&lb);
		return req_fail(r, ERR_API, NULL, NULL);
	}
	/* the buffer is NUL-terminated for the splitter: copied into the arena */
	const char *s = arena_strndup(&r->arena, lb.data, lb.len);
	buf_release(&lb);
	if (!s)
		return req_fail(r, ERR_API, NULL, NULL);
	int n = invoice_lines_split(s, items, lens, INVOICE_LINES_MAX);
	int from = 0, to = n;
	for (int i = 0; i < n; i++) {
		char needle[ID_MAX + 12];
		snprintf(needle, sizeof(needle), "\"id\":\"%s\"",
			 after	  ? after
			 : before ? before
				  : "");
		if ((after || before) && memmem(items[i], lens[i], needle, strlen(needle))) {
			if (after)
				from = i + 1;
			else
				to = i;
		}
	}
	if (before && to - from > limit)
		from = to - (int)limit;
	bool more = to - from > limit;
	if (more)
		to = from + (int)limit;
	struct json *j = req_json(r);
	json_obj_open(j);
	json_kv_str(j, "object", "list");
	json_key(j, "data");
	json_arr_open(j);
	for (int i = from; i < to; i++)
		json_raw(j, items[i], lens[i]);
	json_arr_close(j);
	json_kv_bool(j, "has_more", more);
	char url[96];
	snprintf(url, sizeof(url), "/v1/invoices/%s/lines", x->in.id);
	json_kv_str(j, "url", url);
	json_obj_close(j);
	return 0;
}

static int h_lines(struct req *r)
{
	struct inv_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, lines_fn, &x);
}

/* ---- pay ---- */

static const char SQL_SUB_PM[] =
    "SELECT s.default_payment_method, s.default_source, c.default_payment_method,"
    " c.default_source FROM customers c"
    " LEFT JOIN subscriptions s ON s.merchant_id = c.merchant_id AND s.id = $3"
    " WHERE c.merchant_id = $1 AND c.id = $2";

const char *invoice_pay_with(struct req *r, const struct invoice *in, const char *sub_pm,
			     const char *sub_source, const struct billing_customer *cf)
{
	struct billing_pay_levels l = {
	    .invoice_pm = in ? invoice_setting_str(r, in, "default_payment_method") : NULL,
	    .invoice_source = in ? invoice_setting_str(r, in, "default_source") : NULL,
	    .subscription_pm = sub_pm,
	    .subscription_source = sub_source,
	    .customer_pm = cf->default_pm,
	    .customer_source = cf->default_source,
	};
	return billing_pay_with(&l);
}

/* The payment method (or source) an invoice is paid with by default, in Stripe's order
 * (billing_pay_with): its own default_payment_method and default_source (invoice_settings.c),
 * its subscription's, its customer's invoice_settings.default_payment_method, then the
 * customer's default_source (NULL: none). */
static const char *default_pm(struct req *r, struct db *db, const struct invoice *in)
{
	struct db_stmt *st = db_prepare(db, SQL_SUB_PM);
	if (!st)
		return NULL;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, in->customer, -1);
	db_bind_text(st, 3, in->subscription ? in->subscription : "", -1);
	const char *sub_pm = NULL, *sub_source = NULL;
	struct billing_customer cf;
	memset(&cf, 0, sizeof(cf));
	if (db_step(st) == DB_ROW) {
		sub_pm = col_text_dup(&r->arena, st, 0);
		sub_source = col_text_dup(&r->arena, st, 1);
		cf.default_pm = col_text_dup(&r->arena, st, 2);
		cf.default_source = col_text_dup(&r->arena, st, 3);
	}
	db_reset(st);
	return invoice_pay_with(r, in, sub_pm, sub_source, &cf);
}

static int pay_load_fn(struct db *db, void *p)
{
	struct inv_ctx *x = p;
	struct req *r = x->r;
	if (load_fn(db, p) != 0)
		return -1;
	if (x->pm_is_source) {
		/* Stripe: the source must belong to the invoice's customer */
		int own = source_owned(r, db, x->in.customer, x->pm);
		if (own < 0)
			return req_fail(r, ERR_API, NULL, NULL);
		if (own == 0)
			return req_fail(r, ERR_PARAM_BAD, "source",
					"The customer %s does not have a source with the ID %s.",
					x->in.customer, x->pm);
	}
	if (!x->pm)
		x->pm = default_pm(r, db, &x->in);
	if (x->mandate) {
		/* Stripe: the mandate must be the one of the payment method that pays (the
		 * request's, or the invoice's default); the debit is then made under it */
		struct mandate m;
		int rc = sepa_mandate_load(db, &r->arena, r->merchant_id, x->mandate, &m);
		if (rc == DB_NOTFOUND)
			return req_fail_missing(r, "mandate", x->mandate, "mandate");
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (!x->pm || !m.payment_method || strcmp(m.payment_method, x->pm) != 0)
			return req_fail(r, ERR_PARAM_BAD, "mandate",
					"The mandate %s does not belong to the payment method that "
					"pays this invoice.",
					x->mandate);
		if (!m.status || strcmp(m.status, "active") != 0)
			return req_fail(r, ERR_PARAM_BAD, "mandate",
					"The mandate %s is not active.", x->mandate);
	}
	return 0;
}

struct pay_ctx {
	struct inv_ctx x;
	char pi_id[ID_MAX];
	bool new_intent;
	/* the invoice's intent waits for a bank transfer: paid otherwise, it is abandoned in the
	 * payment's write and a new intent pays (Stripe lets a customer_balance invoice be paid
	 * by another of its types) */
	const char *replaces;
};

/* inside the payment's write: the invoice has not changed since it was read, and names the
 * intent that pays it */
static int pay_before(struct req *r, struct db *db, void *p)
{
	struct pay_ctx *c = p;
	struct invoice cur;
	if (invoice_load(r, db, c->x.in.id, &cur) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (cur.version != c->x.in.version ||
	    (strcmp(cur.status, "open") != 0 && strcmp(cur.status, "uncollectible") != 0))
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"Invoice %s changed while it was being paid; try again.", cur.id);
	if (c->replaces && payment_intent_abandon(r, db, c->replaces) != 0)
		return -1;
	if (c->new_intent) {
		cur.payment_intent = c->pi_id;
		if (invoice_update(r, db, &cur) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	return 0;
}

static int pay_answer(struct req *r, struct db *db, void *p, int rc)
{
	struct pay_ctx *c = p;
	if (rc == REQ_COMMIT_ERR)
		return rc; /* a declined card: Stripe answers pay with its card error */
	return answer_invoice(r, db, c->x.in.id);
}

static int pi_status_fn(struct db *db, void *p)
{
	struct pay_ctx *c = p;
	struct db_stmt *st = db_prepare(db, SQL_PI_STATUS);
	if (!st)
		return req_fail(c->x.r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, c->x.r->merchant_id, -1);
	db_bind_text(st, 2, c->x.in.payment_intent, -1);
	const char *status = db_step(st) == DB_ROW ? db_col_text(st, 0, NULL) : NULL;
	/* only an intent that can still be confirmed is tried again */
	c->new_intent = !status || strcmp(status, "canceled") == 0 ||
			strcmp(status, "succeeded") == 0 || strcmp(status, "processing") == 0;
	bool processing = status && strcmp(status, "processing") == 0;
	bool waiting = status && strcmp(status, "requires_action") == 0;
	db_reset(st);
	bool cash = false;
	if (waiting && cash_pi_waiting(c->x.r, db, c->x.in.payment_intent, &cash) != 0)
		return -1;
	if (cash) {
		c->new_intent = true;
		c->replaces = c->x.in.payment_intent;
	}
	/* a bank debit under way may still pay it: a second payment could book it twice */
	if (processing)
		return req_fail(
		    c->x.r, ERR_INVALID_STATE, NULL,
		    "Invoice %s is being paid by a bank debit that is still processing; "
		    "it can be paid again only if that payment fails.",
		    c->x.in.id);
	return 0;
}

/* An invoice that can still be paid or voided: open, or written off (uncollectible), as on
 * Stripe. 0, or -1 with r->err naming the verb refused. */
static int invoice_still_owed(struct req *r, const struct invoice *in, const char *verb)
{
	if (strcmp(in->status, "open") == 0 || strcmp(in->status, "uncollectible") == 0)
		return 0;
	return req_fail(r, ERR_INVALID_STATE, NULL,
			"You can only %s an open or uncollectible invoice; this one is %s.", verb,
			in->status);
}

/* The same for a payment (POST …/pay, by card or out of band), with Stripe's own message for
 * one already paid. */
static int invoice_payable(struct req *r, const struct invoice *in)
{
	if (strcmp(in->status, "paid") == 0)
		return req_fail(r, ERR_INVALID_STATE, NULL, "Invoice is already paid.");
	return invoice_still_owed(r, in, "pay");
}

static int finalize_rows(struct req *r, struct db *db, struct invoice *in, int64_t now,
			 int64_t planned_due);
static int revision_finalize_check(struct req *r, struct db *db, struct invoice *in,
				   struct invoice *orig, bool *ret_revises);
static int revision_supersede(struct req *r, struct db *db, const struct invoice *in,
			      struct invoice *orig);

/* Paying a draft finalizes it first, as Stripe does (numbered, its customer's balance and a
 * once discount applied, invoice.finalized), in the write of its own below (a card payment's
 * write is the payment's) or in the out-of-band payment's own write. 0, or -1 with r->err. */
static int finalize_for_payment(struct req *r, struct db *db, struct invoice *in)
{
	if (strcmp(in->status, "draft") != 0)
		return 0;
	int64_t now;
	if (billing_now(r, db, in->test_clock, &now) != 0)
		return -1;
	return finalize_rows(r, db, in, now, -1);
}

static int finalize_draft_fn(struct db *db, void *p)
{
	struct inv_ctx *x = p;
	if (load_fn(db, p) != 0)
		return -1;
	return finalize_for_payment(x->r, db, &x->in);
}

/* paid_out_of_band=true: marked paid, no money moves (Stripe: paid_out_of_band true, its amount
 * due counted as paid); a 3-D Secure challenge still open is abandoned so it cannot pay twice. */
static int oob_fn(struct db *db, void *p)
{
	struct inv_ctx *x = p;
	struct req *r = x->r;
	if (load_fn(db, p) != 0)
		return -1;
	struct invoice *in = &x->in;
	if (finalize_for_payment(r, db, in) != 0 || invoice_payable(r, in) != 0)
		return -1;
	int64_t now;
	if (billing_now(r, db, in->test_clock, &now) != 0)
		return -1;
	in->status = "paid";
	in->paid_out_of_band = true;
	in->amount_paid = in->amount_due;
	in->paid_at = now;
	in->next_payment_attempt = 0;
	in->auto_advance = false;
	if (invoice_update(r, db, in) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (in->payment_intent && payment_intent_abandon(r, db, in->payment_intent) != 0)
		return -1;
	if (invoice_emit(r, db, in, "invoice.paid") != 0 ||
	    subscription_invoice_paid(r, db, in) != 0)
		return -1;
	return answer_invoice(r, db, in->id);
}

static int h_pay(struct req *r)
{
	bool oob = false;
	if (param_bool(r, "paid_out_of_band", &oob) == 1 && oob) {
		static const char *const paying[] = {"payment_method", "source", "mandate", NULL};
		for (const char *const *k = paying; *k; k++) {
			const char *v = param_str(r, *k);
			if (v && *v)
				return req_fail(r, ERR_PARAM_BAD, "paid_out_of_band",
						"You cannot pass %s with paid_out_of_band.", *k);
		}
		struct inv_ctx x = {.r = r, .id = r->args[0]};
		return req_write(r, oob_fn, &x);
	}
	struct pay_ctx c;
	memset(&c, 0, sizeof(c));
	c.x.r = r;
	c.x.id = r->args[0];
	c.x.pm = param_str(r, "payment_method");
	if (c.x.pm && !*c.x.pm)
		c.x.pm = NULL;
	const char *source = param_str(r, "source");
	if (source && *source) {
		if (c.x.pm)
			return req_fail(r, ERR_PARAM_BAD, "source",
					"You cannot pass both payment_method and source.");
		/* a card, bank account or Sources API source of the customer pays as a
		 * PaymentMethod does (the PaymentIntent names it) */
		c.x.pm = source;
		c.x.pm_is_source = true;
	}
	c.x.mandate = param_str(r, "mandate");
	if (c.x.mandate && !*c.x.mandate)
		c.x.mandate = NULL;
	/* forgive: Stripe's partial charge of a source that holds less than the amount due.
	 * Tender's payment methods are charged the whole amount or declined, so there is never a
	 * difference to forgive: accepted, and the payment is the same with it or without. */
	if (req_read(r, pay_load_fn, &c.x) != 0)
		return -1;
	struct invoice *in = &c.x.in;
	if (strcmp(in->status, "draft") == 0) {
		/* a write of its own, not req_write: the request's idempotent answer is the
		 * payment's (a retry finds the invoice open and pays it) */
		struct inv_ctx f = {.r = r, .id = in->id};
		int wrc = store_write(r->app->store, r->merchant_id, finalize_draft_fn, &f);
		buf_reset(&r->out);
		if (r->err.set)
			return -1;
		if (wrc != 0)
			return req_fail(r, wrc == STORE_OVERLOADED ? ERR_OVERLOADED : ERR_API, NULL,
					NULL);
		if (req_read(r, pay_load_fn, &c.x) != 0)
			return -1;
		/* nothing left to charge: finalizing paid it (its balance, a 100 % discount) */
		if (strcmp(in->status, "paid") == 0)
			return req_read(r, retrieve_fn, &c.x);
	}
	if (invoice_payable(r, in) != 0)
		return -1;
	if (!c.x.pm)
		return req_fail(r, ERR_PARAM_BAD, "payment_method",
				"This customer has no attached payment source or default payment "
				"method. Please consider adding a default payment method.");
	if (in->payment_method_types) {
		/* the types its payment_settings allow */
		int kind = sepa_pm_is_sepa(r, c.x.pm);
		if (kind < 0)
			return -1;
		const char *type = kind == 1   ? "sepa_debit"
				   : kind == 2 ? "us_bank_account"
					       : "card";
		if (!billing_pm_types_allow(in->payment_method_types, type))
			return req_fail(r, ERR_PARAM_BAD, "payment_method",
					"The PaymentMethod provided (%s) is not allowed by this "
					"invoice's payment_settings[payment_method_types].",
					type);
	}
	c.new_intent = in->payment_intent == NULL;
	if (!c.new_intent && req_read(r, pi_status_fn, &c) != 0)
		return -1;
	struct pi_invoice pv = {
	    .existing = c.new_intent ? NULL : in->payment_intent,
	    .amount = in->amount_due - in->amount_paid,
	    .currency = in->currency,
	    .description = in->subscription ? "Subscription update" : NULL,
	    .customer = in->customer,
	    .pm_id = c.x.pm,
	    .invoice = in->id,
	    .confirm = true,
	    .before = pay_before,
	    .answer = pay_answer,
	    .ctx = &c,
	};
	if (c.new_intent) {
		id_new_at(c.pi_id, "pi_", r->now);
		str_copy(pv.id, sizeof(pv.id), c.pi_id);
	}
	if (invoice_pi_terms(r, in, &pv) != 0)
		return -1;
	return payment_intents_invoice(r, &pv);
}

int invoice_pay_on_page(struct req *r, const struct invoice *in, const char *pm,
			const char *return_url, const char **ret_challenge_url)
{
	struct pay_ctx c;
	memset(&c, 0, sizeof(c));
	c.x.r = r;
	c.x.id = in->id;
	c.x.in = *in;
	c.x.pm = pm;
	c.new_intent = in->payment_intent == NULL;
	if (!c.new_intent && req_read(r, pi_status_fn, &c) != 0)
		return -1;
	struct pi_invoice pv = {
	    .existing = c.new_intent ? NULL : in->payment_intent,
	    .amount = in->amount_due - in->amount_paid,
	    .currency = in->currency,
	    .description = in->subscription ? "Subscription update" : NULL,
	    .customer = in->customer,
	    .pm_id = pm,
	    .invoice = in->id,
	    .return_url = return_url,
	    .confirm = true,
	    .before = pay_before,
	    .ctx = &c,
	};
	if (c.new_intent) {
		id_new_at(c.pi_id, "pi_", r->now);
		str_copy(pv.id, sizeof(pv.id), c.pi_id);
	}
	if (invoice_pi_terms(r, in, &pv) != 0)
		return -1;
	int rc = payment_intents_invoice(r, &pv);
	if (rc == 0)
		*ret_challenge_url = pv.challenge_url;
	return rc;
}

/* ---- finalize, void ---- */

int invoice_finalize_terms(struct req *r, struct invoice *in, int64_t now)
{
	if (invoice_sends(in)) {
		/* never charged by Tender: due days_until_due days from its finalization (or on its
		 * due_date), and its scheduler step is then the overdue notice */
		if (in->has_days_until_due)
			in->due_date = now + in->days_until_due * 86400; /* bounded by the params */
		in->next_payment_attempt = in->due_date;
	}
	/* its hosted page, made in the finalizing write whatever the invoice's origin or collection
	 * method (Stripe gives every finalized invoice one: a subscription's charged ones too, to
	 * pay one whose charge failed, or to see one paid); the row keeps only the secret's hash,
	 * to find it. Every finalization (invoices.c, subscriptions.c, the scheduler's) comes
	 * through here. */
	char hash[65];
	if (!invoice_hosted_url(r, in->id, hash) ||
	    !(in->hosted_token_hash = arena_strdup(&r->arena, hash)))
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

/* Finalizes draft in at now, inside the caller's write: numbered, a `once` discount of its
 * customer's used up, the customer's balance applied (planned_due: what the scheduler's attempt
 * will charge, or -1 for a hand finalize), paid at once when there is nothing (or too little)
 * to charge; else, when it advances by itself, its first attempt is due now (its
 * subscription's step or invoice_advance_step makes it). 0, or -1 with r->err. */
static int finalize_rows(struct req *r, struct db *db, struct invoice *in, int64_t now,
			 int64_t planned_due)
{
	in->status = "open";
	in->finalized_at = now;
	in->next_payment_attempt = in->auto_advance ? now : 0;
	if (invoice_finalize_terms(r, in, now) != 0)
		return -1;
	/* a revision: numbered after the invoice it revises, which it then replaces */
	struct invoice *orig = arena_alloc(&r->arena, sizeof(*orig));
	bool revises = false;
	if (!orig || revision_finalize_check(r, db, in, orig, &revises) != 0)
		return r->err.set ? -1 : req_fail(r, ERR_API, NULL, NULL);
	if (!in->number && invoice_number_next(r, db, in->customer, &in->number) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* a `once` discount of its customer's that took something is used up */
	if (invoice_discounts_used(r, db, in, now) != 0)
		return -1;
	/* the customer's balance, applied as it is now (the invoice is charged afterwards for
	 * its amount due) */
	if (invoice_balance_apply(r, db, in, planned_due) != 0)
		return -1;
	/* its Connect terms must fit what it charges (Stripe refuses the finalization) */
	if (in->amount_due > 0 && !in->too_small &&
	    invoice_connect_fits(r, in, in->amount_due) != 0)
		return -1;
	/* nothing to charge (Stripe marks an invoice with nothing due paid when it is finalized;
	 * a credit went to the customer's balance), or too little (invoice_too_small: the amount
	 * went to the customer's balance) */
	bool nothing_due = in->amount_due <= 0 || in->too_small;
	if (nothing_due) {
		in->status = "paid";
		in->paid_at = now;
		in->auto_advance = false;
		in->next_payment_attempt = 0;
	}
	if (invoice_update(r, db, in) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (invoice_emit(r, db, in, "invoice.finalized") != 0)
		return -1;
	if (revises && revision_supersede(r, db, in, orig) != 0)
		return -1;
	if (nothing_due && (invoice_emit(r, db, in, "invoice.paid") != 0 ||
			    invoice_emit(r, db, in, "invoice.payment_succeeded") != 0 ||
			    subscription_invoice_paid(r, db, in) != 0))
		return -1;
	/* paid by bank transfer: its intent, paid now from the customer's cash when it covers it */
	return invoice_cash_collect(r, db, in);
}

int invoice_finalize_rows(struct req *r, struct db *db, struct invoice *in, int64_t now,
			  int64_t planned_due)
{
	return finalize_rows(r, db, in, now, planned_due);
}

static int finalize_fn(struct db *db, void *p)
{
	struct inv_ctx *x = p;
	struct req *r = x->r;
	if (load_fn(db, p) != 0)
		return -1;
	struct invoice *in = &x->in;
	if (strcmp(in->status, "draft") != 0)
		return req_fail(r, ERR_INVALID_STATE, NULL, "This invoice is already finalized.");
	int64_t now;
	if (billing_now(r, db, in->test_clock, &now) != 0)
		return -1;
	bool aa;
	if (param_bool(r, "auto_advance", &aa) == 1)
		in->auto_advance = aa;
	/* Stripe Tax: the customer must be located now; its taxes are computed again (its address
	 * may have changed since the draft's last change) */
	if (in->automatic_tax) {
		struct tax_context actx;
		bool located = false;
		if (invoice_auto_tax_place(r, db, in->customer, r->now, &actx, &located, NULL) != 0)
			return -1;
		if (!located)
			return req_fail(
			    r, ERR_TAX_LOCATION_INVALID, "customer",
			    "We could not determine the customer's tax location based on "
			    "the provided customer address.");
		if (invoice_discounts_apply(r, db, in) != 0)
			return -1;
	}
	/* finalized before its hour: with auto_advance it is attempted at once by the scheduler
	 * (a subscription's by its subscription's step, at the latest when its hour would have
	 * ended); else it waits for POST …/pay */
	if (finalize_rows(r, db, in, now, -1) != 0)
		return -1;
	return answer_invoice(r, db, in->id);
}

static int h_finalize(struct req *r)
{
	struct inv_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, finalize_fn, &x);
}

/* POST …/send: a send_invoice invoice (a draft is finalized first) is sent to its customer.
 * Tender sends no email (as Stripe in test mode): invoice.sent says it was asked for. */
static int send_fn(struct db *db, void *p)
{
	struct inv_ctx *x = p;
	struct req *r = x->r;
	if (load_fn(db, p) != 0)
		return -1;
	struct invoice *in = &x->in;
	if (!invoice_sends(in))
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"You can only manually send an invoice if its collection method is "
				"'send_invoice'.");
	if (strcmp(in->status, "void") == 0)
		return req_fail(r, ERR_INVALID_STATE, NULL, "You cannot send a void invoice.");
	if (strcmp(in->status, "draft") == 0) {
		int64_t now;
		if (billing_now(r, db, in->test_clock, &now) != 0 ||
		    finalize_rows(r, db, in, now, -1) != 0)
			return -1;
	}
	if (invoice_emit(r, db, in, "invoice.sent") != 0)
		return -1;
	return answer_invoice(r, db, in->id);
}

static int h_send(struct req *r)
{
	struct inv_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, send_fn, &x);
}

/* Is PaymentIntent id (of r's merchant) processing (a bank debit under way)? 0, or -1 with
 * r->err. */
static int pi_processing(struct req *r, struct db *db, const char *id, bool *ret)
{
	struct db_stmt *st = db_prepare(db, SQL_PI_STATUS);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	*ret = rc == DB_ROW && str_eq(db_col_text(st, 0, NULL), "processing");
	db_reset(st);
	return rc == DB_ROW || rc == DB_DONE ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* Voids open or uncollectible invoice in (POST …/void, or the finalization of its revision),
 * with invoice.voided. 0, or -1 with r->err. */
static int void_rows(struct req *r, struct db *db, struct invoice *in)
{
	if (invoice_still_owed(r, in, "void") != 0)
		return -1;
	/* a bank debit under way will move its money whatever the invoice says: Stripe waits for
	 * it too */
	bool processing = false;
	if (in->payment_intent && pi_processing(r, db, in->payment_intent, &processing) != 0)
		return -1;
	if (processing)
		return req_fail(
		    r, ERR_INVALID_STATE, NULL,
		    "Invoice %s is being paid by a bank debit that is still processing; "
		    "it cannot be voided until that payment settles.",
		    in->id);
	int64_t now;
	if (billing_now(r, db, in->test_clock, &now) != 0)
		return -1;
	in->status = "void";
	in->voided_at = now;
	in->next_payment_attempt = 0;
	in->auto_advance = false;
	if (invoice_update(r, db, in) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* a challenge still open could otherwise pay it; a confirmation of its intent in any
	 * other state is refused by invoice_payment_settled */
	if (in->payment_intent && payment_intent_abandon(r, db, in->payment_intent) != 0)
		return -1;
	if (invoice_emit(r, db, in, "invoice.voided") != 0 ||
	    invoice_balance_return(r, db, in) != 0)
		return -1;
	return subscription_invoice_failed(r, db, in, false);
}

static int void_fn(struct db *db, void *p)
{
	struct inv_ctx *x = p;
	struct req *r = x->r;
	if (load_fn(db, p) != 0 || void_rows(r, db, &x->in) != 0)
		return -1;
	return answer_invoice(r, db, x->in.id);
}

static int h_void(struct req *r)
{
	struct inv_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, void_fn, &x);
}

/* Written off: no more automatic attempts (a 3-D Secure challenge still open is abandoned),
 * but it can still be paid or voided, as on Stripe. Its subscription keeps its status (an
 * invoice marked uncollectible is not a payment); only its retries stop. */
static int uncollectible_fn(struct db *db, void *p)
{
	struct inv_ctx *x = p;
	struct req *r = x->r;
	if (load_fn(db, p) != 0)
		return -1;
	struct invoice *in = &x->in;
	if (strcmp(in->status, "open") != 0)
		return req_fail(
		    r, ERR_INVALID_STATE, NULL,
		    "You can only mark an open invoice as uncollectible; this one is %s.",
		    in->status);
	int64_t now;
	if (billing_now(r, db, in->test_clock, &now) != 0)
		return -1;
	in->status = "uncollectible";
	in->marked_uncollectible_at = now;
	in->next_payment_attempt = 0;
	in->auto_advance = false;
	if (invoice_update(r, db, in) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (in->payment_intent && payment_intent_abandon(r, db, in->payment_intent) != 0)
		return -1;
	if (invoice_emit(r, db, in, "invoice.marked_uncollectible") != 0 ||
	    subscription_invoice_failed(r, db, in, false) != 0)
		return -1;
	return answer_invoice(r, db, in->id);
}

static int h_mark_uncollectible(struct req *r)
{
	struct inv_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, uncollectible_fn, &x);
}

/* ---- create (one-off invoices), update, delete (drafts) ---- */

static const char SQL_FIRST_PENDING_CURRENCY[] =
    "SELECT currency FROM invoice_items WHERE merchant_id = $1 AND customer = $2"
    " AND invoice IS NULL AND deleted = 0 AND subscription IS NULL ORDER BY id LIMIT 1";

static const char SQL_SUB_OF[] =
    "SELECT customer, currency, status FROM subscriptions WHERE merchant_id = $1 AND id = $2";

/* Whether in is an invoice its subscription made (its cycle's, its creation's, an update's),
 * which the subscription's own step advances, not a manual invoice of the subscription's
 * pending items (POST /v1/invoices with subscription), which is a one-off invoice naming it. */
static bool sub_made(const struct invoice *in)
{
	return in->subscription && !str_eq(in->billing_reason, "manual");
}

/* POST /v1/invoices with subscription: the subscription, of in's customer and not ended, whose
 * pending items the invoice takes (only those, as on Stripe); its currency is the invoice's.
 * *ret_currency: the currency to make it in. 0, or -1 with r->err. */
static int manual_sub_check(struct req *r, struct db *db, struct invoice *in, const char **currency)
{
	struct db_stmt *st = db_prepare(db, SQL_SUB_OF);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, in->subscription, -1);
	int rc = db_step(st);
	const char *customer = rc == DB_ROW ? col_text_dup(&r->arena, st, 0) : NULL;
	const char *cur = rc == DB_ROW ? col_text_dup(&r->arena, st, 1) : NULL;
	const char *status = rc == DB_ROW ? col_text_dup(&r->arena, st, 2) : NULL;
	db_reset(st);
	if (rc == DB_DONE)
		return req_fail_missing(r, "subscription", in->subscription, "subscription");
	if (rc != DB_ROW || !customer || !cur)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!str_eq(customer, in->customer))
		return req_fail(r, ERR_PARAM_BAD, "subscription",
				"The subscription %s belongs to another customer.",
				in->subscription);
	if (str_eq(status, "canceled") || str_eq(status, "incomplete_expired"))
		return req_fail(r, ERR_INVALID_STATE, "subscription", "The subscription %s is %s.",
				in->subscription, status);
	if (*currency && **currency && strcasecmp(*currency, cur) != 0)
		return req_fail(r, ERR_PARAM_BAD, "currency",
				"The invoice's currency must be its subscription's (%s).", cur);
	*currency = cur;
	return 0;
}

/* from_invoice[invoice] of a create (inside its write): a finalized invoice that can still be
 * revised (open or uncollectible, nothing paid, not a subscription's, not being paid by a bank
 * debit), of the customer named if one is; in takes its customer and, where the request does
 * not say, its description, metadata, collection terms, automatic tax and payment types, and
 * its settings (from_invoice naming it). 0, or -1 with r->err. */
static int revision_base(struct req *r, struct db *db, const char *id, struct invoice *orig,
			 struct invoice *in)
{
	int rc = invoice_load(r, db, id, orig);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "invoice", id, "from_invoice[invoice]");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!str_eq(orig->status, "open") && !str_eq(orig->status, "uncollectible"))
		return req_fail(r, ERR_INVALID_STATE, "from_invoice[invoice]",
				"You can only revise an open or uncollectible invoice; %s is %s.",
				id, orig->status);
	if (orig->subscription)
		return req_fail(r, ERR_INVALID_STATE, "from_invoice[invoice]",
				"Invoices of a subscription cannot be revised.");
	bool processing = false;
	if (orig->payment_intent && pi_processing(r, db, orig->payment_intent, &processing) != 0)
		return -1;
	if (orig->amount_paid > 0 || processing)
		return req_fail(r, ERR_INVALID_STATE, "from_invoice[invoice]",
				"Invoice %s has been paid, or is being paid: it cannot be revised.",
				id);
	if (in->customer && *in->customer && !str_eq(in->customer, orig->customer))
		return req_fail(r, ERR_PARAM_BAD, "customer",
				"A revision is its invoice's customer's (%s).", orig->customer);
	in->customer = orig->customer;
	if (!param_present(r, "description"))
		in->description = orig->description;
	if (!param_present(r, "metadata"))
		in->metadata = orig->metadata;
	if (!param_present(r, "collection_method") && !param_present(r, "days_until_due") &&
	    !param_present(r, "due_date")) {
		in->collection_method = orig->collection_method;
		in->has_days_until_due = orig->has_days_until_due;
		in->days_until_due = orig->days_until_due;
		/* a due date passed already: due at once, once the revision is finalized */
		in->due_date = orig->due_date > r->now ? orig->due_date : 0;
		if (invoice_sends(in) && !in->has_days_until_due && !in->due_date) {
			in->has_days_until_due = true;
			in->days_until_due = 0;
		}
	}
	if (!param_present(r, "automatic_tax"))
		in->automatic_tax = orig->automatic_tax;
	if (!param_present(r, PM_TYPES_PARAM))
		in->payment_method_types = orig->payment_method_types;
	json_t *o = orig->settings ? json_loads(orig->settings, 0, NULL) : json_object();
	if (!o)
		return req_fail(r, ERR_API, NULL, NULL);
	json_object_del(o, "latest_revision");
	json_object_set_new(o, "from_invoice",
			    json_pack("{s:s, s:s}", "action", "revision", "invoice", orig->id));
	char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	in->settings = text ? arena_strdup(&r->arena, text) : NULL;
	free(text);
	in->revises = orig;
	return in->settings ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* The number of a revision of orig: orig's with -1, or a revision's next (-2, …). */
static const char *revision_number(struct req *r, struct db *db, const struct invoice *orig)
{
	const char *num = orig->number ? orig->number : orig->id;
	const char *dash = strrchr(num, '-');
	if (invoice_setting(r, orig, "from_invoice") && dash && dash[1]) {
		long long n = 0;
		for (const char *p = dash + 1; *p; p++) {
			if (*p < '0' || *p > '9' || n > 100000)
				return arena_printf(&r->arena, "%s-1", num);
			n = n * 10 + (*p - '0');
		}
		return arena_printf(&r->arena, "%.*s-%lld", (int)(dash - num), num, n + 1);
	}
	(void)db;
	return arena_printf(&r->arena, "%s-1", num);
}

/* Finalizing a revision (settings' from_invoice): it is numbered after the invoice it revises,
 * which must still be open or uncollectible (*orig loaded, *ret_revises set). 0, or -1. */
static int revision_finalize_check(struct req *r, struct db *db, struct invoice *in,
				   struct invoice *orig, bool *ret_revises)
{
	*ret_revises = false;
	const char *from = invoice_setting(r, in, "from_invoice");
	if (!from)
		return 0;
	json_t *f = json_loads(from, 0, NULL);
	const char *id = json_string_value(json_object_get(f, "invoice"));
	char oid[ID_MAX];
	str_copy(oid, sizeof(oid), id ? id : "");
	json_decref(f);
	if (invoice_load(r, db, oid, orig) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!str_eq(orig->status, "open") && !str_eq(orig->status, "uncollectible"))
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"The invoice this revises, %s, is %s: the revision cannot be "
				"finalized.",
				orig->id, orig->status);
	if (!in->number)
		in->number = revision_number(r, db, orig);
	*ret_revises = true;
	return in->number ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* ...then the invoice it revises is voided, its latest_revision naming the revision (Stripe). */
static int revision_supersede(struct req *r, struct db *db, const struct invoice *in,
			      struct invoice *orig)
{
	json_t *o = orig->settings ? json_loads(orig->settings, 0, NULL) : json_object();
	if (!o)
		return req_fail(r, ERR_API, NULL, NULL);
	json_object_set_new(o, "latest_revision", json_string(in->id));
	char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	orig->settings = text ? arena_strdup(&r->arena, text) : NULL;
	free(text);
	if (!orig->settings)
		return req_fail(r, ERR_API, NULL, NULL);
	return void_rows(r, db, orig);
}

struct create_ctx {
	struct req *r;
	struct invoice in;
	bool include;
	struct discount_spec spec;
	struct tax_rate_spec tax; /* its default_tax_rates */
};

int invoice_oneoff_head(struct req *r, struct db *db, const char *cur, struct invoice *in,
			int64_t *ret_now)
{
	struct billing_customer bc;
	if (billing_customer_get(r, db, in->customer, &bc) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!bc.found)
		return req_fail_missing(r, "customer", in->customer, "customer");
	int64_t now;
	if (billing_now(r, db, bc.test_clock, &now) != 0)
		return -1;
	if (!cur || !*cur)
		cur = bc.currency;
	if (!cur || !*cur) {
		struct db_stmt *st = db_prepare(db, SQL_FIRST_PENDING_CURRENCY);
		if (!st)
			return req_fail(r, ERR_API, NULL, NULL);
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, in->customer, -1);
		cur = db_step(st) == DB_ROW ? col_text_dup(&r->arena, st, 0) : NULL;
		db_reset(st);
	}
	str_copy(in->currency, sizeof(in->currency), cur && *cur ? cur : "usd");
	if (!in->id[0]) /* a quote's acceptance names its invoice before making it */
		id_new_at(in->id, "in_", now);
	in->created = now;
	in->version = 1;
	in->status = "draft";
	in->billing_reason = "manual";
	in->period_start = in->period_end = now;
	in->customer_email = bc.email;
	in->customer_name = bc.name;
	in->test_clock = bc.test_clock;
	in->lines = "[]";
	in->discounts = in->total_discount_amounts = "[]";
	in->subtotal = in->total = 0;
	*ret_now = now;
	return 0;
}

/* A draft's own discounts[] (invoice-level), redeemed for it inside the write, replacing the
 * ones it had; its amounts computed again. in's row is saved by the caller. 0, or -1 with
 * r->err. */
static int draft_discounts_set(struct req *r, struct db *db, struct invoice *in,
			       const struct discount_spec *spec, int64_t t)
{
	if (spec->present) {
		struct discount *ds = arena_alloc(&r->arena, DISCOUNTS_MAX * sizeof(*ds));
		int n = 0;
		if (!ds)
			return req_fail(r, ERR_API, NULL, NULL);
		/* a promotion code's minimum is checked against the invoice as it stands */
		if (invoice_discounts_apply(r, db, in) != 0 ||
		    discounts_resolve(r, db, spec, in->customer, in->currency, in->subtotal, NULL,
				      t, ds, &n) != 0 ||
		    discounts_attach(r, db, DISCOUNT_INVOICE, in->id, in->customer, t, ds, n,
				     &in->discounts) != 0)
			return -1;
	}
	return invoice_discounts_apply(r, db, in);
}

/* Stripe's rules for collection_method, days_until_due and due_date (a create's, or a draft's
 * update over in's values): send_invoice needs exactly one of the two, charge_automatically
 * neither. Sets in's fields. 0, or -1 with r->err. */
static int collection_params(struct req *r, struct invoice *in, bool create)
{
	const char *cm = param_str(r, "collection_method");
	int64_t days = 0, due = 0;
	bool has_days = param_int(r, "days_until_due", &days) == 1;
	bool has_due = param_int(r, "due_date", &due) == 1;
	if (has_days && has_due)
		return req_fail(r, ERR_PARAM_BAD, "due_date",
				"You can not pass both due_date and days_until_due.");
	if (has_days && (days < 0 || days > INVOICE_DAYS_UNTIL_DUE_MAX))
		return req_fail(r, ERR_PARAM_BAD, "days_until_due",
				"days_until_due must be between 0 and %d.",
				INVOICE_DAYS_UNTIL_DUE_MAX);
	if (has_due && due <= 0)
		return req_fail(r, ERR_PARAM_BAD, "due_date", "Invalid due_date: %lld.",
				(long long)due);
	if (cm && *cm)
		in->collection_method = cm;
	bool sends = invoice_sends(in);
	if (!sends && (has_days || has_due))
		return req_fail(
		    r, ERR_PARAM_BAD, has_days ? "days_until_due" : "due_date",
		    "%s can only be set on invoices with collection_method=send_invoice.",
		    has_days ? "days_until_due" : "due_date");
	if (!sends) {
		in->has_days_until_due = false;
		in->days_until_due = in->due_date = 0;
		return 0;
	}
	if (has_days || has_due) {
		in->has_days_until_due = has_days;
		in->days_until_due = has_days ? days : 0;
		in->due_date = has_due ? due : 0;
	}
	if (!in->has_days_until_due && !in->due_date)
		return req_fail(r, ERR_PARAM_BAD, create ? "collection_method" : "days_until_due",
				"Invoices with collection_method=send_invoice need either "
				"days_until_due or due_date.");
	return 0;
}

/* automatically_finalizes_at (POST /v1/invoices and its update): when the scheduler finalizes
 * a one-off draft instead of an hour after it was made, kept as its next step's time (its
 * next_payment_attempt while a draft). As on Stripe it needs auto_advance, is in the future
 * and at most five years away; turning auto_advance off (or on again without it) drops it.
 * 0, or -1 with r->err. */
#define FINALIZES_AT_MAX_S (5 * 366 * 86400LL)
static int finalizes_at_param(struct req *r, struct invoice *in, int64_t now)
{
	int64_t t;
	if (param_int(r, "automatically_finalizes_at", &t) != 1)
		return 0;
	if (in->subscription)
		return req_fail(r, ERR_PARAM_BAD, "automatically_finalizes_at",
				"automatically_finalizes_at applies to one-off invoices; a "
				"subscription's are finalized on its own schedule.");
	if (!in->auto_advance)
		return req_fail(r, ERR_PARAM_BAD, "automatically_finalizes_at",
				"automatically_finalizes_at can only be set on an invoice with "
				"auto_advance=true.");
	if (t <= now || t > now + FINALIZES_AT_MAX_S)
		return req_fail(r, ERR_PARAM_BAD, "automatically_finalizes_at",
				"automatically_finalizes_at must be in the future and at most 5 "
				"years away.");
	in->next_payment_attempt = t;
	return 0;
}

/* A one-off invoice: a draft of the customer's pending items (include) or of none (exclude,
 * Stripe's default), in the currency asked for, else the customer's, else its oldest pending
 * item's, else usd. It is charged once finalized and paid (POST …/finalize, …/pay). */
int invoice_draft_create(struct req *r, struct db *db, struct invoice *in, const char *currency,
			 bool include, const struct discount_spec *spec)
{
	int64_t now;
	/* assigned again: a re-run of the write starts from the request's values */
	const char *cm = in->collection_method;
	bool has_days = in->has_days_until_due;
	int64_t days = in->days_until_due, due = in->due_date;
	if (in->subscription && manual_sub_check(r, db, in, &currency) != 0)
		return -1;
	if (invoice_oneoff_head(r, db, currency, in, &now) != 0)
		return -1;
	in->collection_method = cm;
	in->has_days_until_due = has_days;
	in->days_until_due = days;
	in->due_date = due;
	if (in->due_date && in->due_date <= now)
		return req_fail(r, ERR_PARAM_BAD, "due_date",
				"The due_date must be in the future.");
	/* auto_advance: finalized (then attempted) an hour after it is made, as on Stripe, or at
	 * the automatically_finalizes_at given */
	in->next_payment_attempt = in->auto_advance ? now + INVOICE_DRAFT_WINDOW_S : 0;
	if (finalizes_at_param(r, in, now) != 0)
		return -1;
	if (include) {
		struct pending_items pi;
		if ((in->subscription ? invoice_items_pending_of(r, db, in->customer, in->currency,
								 in->subscription, &pi)
				      : invoice_items_pending(r, db, in->customer, in->currency,
							      NULL, &pi)) != 0 ||
		    invoice_items_claim(r, db, &pi, in->id) != 0)
			return -1;
	}
	/* a revision: its invoice's lines, and its default_tax_rates unless new ones are given */
	if (in->revises && (invoice_items_copy(r, db, in->revises->id, in->id, now) != 0 ||
			    ((!in->default_tax_spec || !in->default_tax_spec->present) &&
			     tax_links_copy(r, db, in->revises->id, in->id) != 0)))
		return -1;
	/* its default_tax_rates (tax_rates.c), before its amounts are computed */
	if (in->default_tax_spec && tax_links_set(r, db, in->id, in->default_tax_spec) != 0)
		return -1;
	/* POST /v1/invoices' settings (invoice_settings.c): its shipping_cost counts in its
	 * total, computed below */
	if (in->settings_params && invoice_settings_apply(r, db, in) != 0)
		return -1;
	if (!spec->present) {
		/* none asked for: it inherits its customer's discount (Stripe: `discounts` not
		 * specified; '' avoids it) */
		struct discount d;
		int rc = customer_discount_get(r, db, in->customer, now, &d);
		if (rc != DB_OK && rc != DB_NOTFOUND)
			return req_fail(r, ERR_API, NULL, NULL);
		if (rc == DB_OK)
			in->discounts = arena_printf(&r->arena, "[%s]", json_quote(r, d.id));
		if (!in->discounts)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	if (draft_discounts_set(r, db, in, spec, now) != 0)
		return -1;
	if (billing_pm_types_param(r, PM_TYPES_PARAM, PM_TYPES_SHOWN, in->currency,
				   &in->payment_method_types) < 0 ||
	    invoice_pmo_params(r, in) != 0 || invoice_cash_check(r, in) != 0)
		return -1;
	if (invoice_insert(r, db, in) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return invoice_emit(r, db, in, "invoice.created");
}

static int create_fn(struct db *db, void *p)
{
	struct create_ctx *c = p;
	struct req *r = c->r;
	const char *from = param_str(r, "from_invoice.invoice");
	const char *cur = param_str(r, "currency");
	if (from && *from) {
		/* a revision: its invoice's customer, currency, lines and settings */
		struct invoice *orig = arena_alloc(&r->arena, sizeof(*orig));
		if (!orig)
			return req_fail(r, ERR_API, NULL, NULL);
		c->in.customer = param_str(r, "customer");
		c->in.metadata = "{}";
		if (metadata_apply(r, NULL, "metadata", &c->in.metadata) != 0 ||
		    revision_base(r, db, from, orig, &c->in) != 0)
			return -1;
		if (cur && *cur && strcasecmp(cur, orig->currency) != 0)
			return req_fail(r, ERR_PARAM_BAD, "currency",
					"A revision is in its invoice's currency (%s).",
					orig->currency);
		c->in.settings_params = true;
		c->in.number = NULL;
		if (number_param(r, db, NULL, &c->in.number) != 0 ||
		    invoice_draft_create(r, db, &c->in, orig->currency, c->include, &c->spec) != 0)
			return -1;
		return answer_invoice(r, db, c->in.id);
	}
	/* its settings (footer, default_payment_method, shipping_cost, …), taken by
	 * invoice_draft_create once its customer and currency are known; a re-run of the write
	 * starts from none again */
	c->in.settings = NULL;
	c->in.settings_params = true;
	c->in.number = NULL;
	if (number_param(r, db, NULL, &c->in.number) != 0)
		return -1;
	if (invoice_draft_create(c->r, db, &c->in, param_str(c->r, "currency"), c->include,
				 &c->spec) != 0)
		return -1;
	return answer_invoice(c->r, db, c->in.id);
}

static int h_create(struct req *r)
{
	struct create_ctx c;
	memset(&c, 0, sizeof(c));
	c.r = r;
	c.in.collection_method = "charge_automatically";
	if (collection_params(r, &c.in, true) != 0)
		return -1;
	const char *cur = param_str(r, "currency");
	if (cur && *cur && !currency_find(cur))
		return req_fail(r, ERR_INVALID_CURRENCY, "currency", "Invalid currency: %s.", cur);
	c.in.customer = param_str(r, "customer");
	if ((!c.in.customer || !*c.in.customer) && !param_present(r, "from_invoice"))
		return req_fail(r, ERR_PARAM_MISSING, "customer", "customer");
	if (param_present(r, "from_invoice") && param_present(r, "subscription"))
		return req_fail(r, ERR_PARAM_BAD, "from_invoice",
				"A revision cannot be of a subscription's pending items.");
	const char *b = param_str(r, "pending_invoice_items_behavior");
	c.include = b && strcmp(b, "include") == 0;
	c.in.auto_advance = false;
	param_bool(r, "auto_advance", &c.in.auto_advance);
	/* subscription: an invoice of that subscription's pending items alone (Stripe: its
	 * billing cycle is untouched); Tender's scheduler advances only one-off invoices and the
	 * ones subscriptions make, so it is finalized and paid by the API */
	const char *sub = param_str(r, "subscription");
	if (sub && *sub) {
		c.in.subscription = sub;
		c.include = !b || strcmp(b, "exclude") != 0;
		if (c.in.auto_advance)
			return req_fail(r, ERR_PARAM_BAD, "auto_advance",
					"Tender does not advance an invoice of a subscription's "
					"pending items automatically: finalize and pay it through "
					"the API.");
	}
	const char *desc = param_str(r, "description");
	c.in.description = desc && *desc ? desc : NULL;
	c.in.metadata = "{}";
	if (metadata_apply(r, NULL, "metadata", &c.in.metadata) != 0 ||
	    discount_spec_parse(r, "discounts", false, &c.spec) != 0 ||
	    tax_rate_spec_parse(r, "default_tax_rates", "default_tax_rates", &c.tax) != 0)
		return -1;
	c.in.default_tax_spec = &c.tax;
	param_bool(r, "automatic_tax.enabled", &c.in.automatic_tax);
	if (c.in.automatic_tax && c.tax.present && c.tax.n > 0)
		return req_fail(r, ERR_PARAM_BAD, "default_tax_rates",
				"You cannot use default_tax_rates together with automatic tax.");
	return req_write(r, create_fn, &c);
}

/* A draft's description, metadata and auto_advance; an invoice of any status its metadata. */
static int update_fn(struct db *db, void *p)
{
	struct inv_ctx *x = p;
	struct req *r = x->r;
	if (load_fn(db, p) != 0)
		return -1;
	struct invoice *in = &x->in;
	bool draft = strcmp(in->status, "draft") == 0;
	if (!draft &&
	    (param_present(r, "description") || param_present(r, "number") ||
	     param_present(r, "auto_advance") || param_present(r, "discounts") ||
	     param_present(r, "default_tax_rates") || param_present(r, "automatic_tax") ||
	     param_present(r, "collection_method") || param_present(r, "days_until_due") ||
	     param_present(r, "due_date") || param_present(r, "automatically_finalizes_at")))
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"Only a draft invoice's description, number, auto_advance, "
				"automatically_finalizes_at, discounts, collection_method, "
				"days_until_due and due_date can change; this one is %s.",
				in->status);
	if (param_present(r, PM_TYPES_PARAM)) {
		if (!draft)
			return req_fail(r, ERR_PARAM_BAD, PM_TYPES_SHOWN,
					"Only a draft invoice's payment_settings can be updated.");
		if (billing_pm_types_param(r, PM_TYPES_PARAM, PM_TYPES_SHOWN, in->currency,
					   &in->payment_method_types) < 0)
			return -1;
	}
	if (param_present(r, PM_OPTIONS_PARAM) && !draft)
		return req_fail(r, ERR_PARAM_BAD, PM_TYPES_SHOWN,
				"Only a draft invoice's payment_settings can be updated.");
	if (draft && invoice_pmo_params(r, in) != 0)
		return -1;
	if (draft && (param_present(r, "collection_method") || param_present(r, "days_until_due") ||
		      param_present(r, "due_date"))) {
		if (sub_made(in))
			return req_fail(r, ERR_PARAM_BAD, "collection_method",
					"A subscription's invoices are collected automatically.");
		int64_t t;
		if (collection_params(r, in, false) != 0 ||
		    billing_now(r, db, in->test_clock, &t) != 0)
			return -1;
		if (param_present(r, "due_date") && in->due_date <= t)
			return req_fail(r, ERR_PARAM_BAD, "due_date",
					"The due_date must be in the future.");
	}
	struct discount_spec spec;
	struct tax_rate_spec tax;
	int64_t now;
	if (discount_spec_parse(r, "discounts", false, &spec) != 0 ||
	    tax_rate_spec_parse(r, "default_tax_rates", "default_tax_rates", &tax) != 0 ||
	    billing_now(r, db, in->test_clock, &now) != 0)
		return -1;
	/* new default_tax_rates: its amounts computed again (draft_discounts_set does it) */
	if (tax.present && tax_links_set(r, db, in->id, &tax) != 0)
		return -1;
	/* automatic_tax[enabled]: the draft's taxes computed again, by Stripe Tax or not */
	bool auto_tax = in->automatic_tax;
	param_bool(r, "automatic_tax.enabled", &auto_tax);
	if (auto_tax && tax.present && tax.n > 0)
		return req_fail(r, ERR_PARAM_BAD, "default_tax_rates",
				"You cannot use default_tax_rates together with automatic tax.");
	if (param_present(r, "automatic_tax.enabled") && auto_tax != in->automatic_tax) {
		in->automatic_tax = auto_tax;
		tax.present = true;
	}
	if ((spec.present || tax.present) && draft_discounts_set(r, db, in, &spec, now) != 0)
		return -1;
	/* default_tax_rates or automatic tax beside lines' own tax_amounts: Stripe refuses it */
	if (tax.present && invoice_tax_amounts_allowed(r, db, in,
						       param_present(r, "default_tax_rates")
							   ? "default_tax_rates"
							   : "automatic_tax[enabled]") != 0)
		return -1;
	const char *desc = param_str(r, "description");
	if (desc)
		in->description = *desc ? desc : NULL;
	if (draft && number_param(r, db, in->id, &in->number) != 0)
		return -1;
	bool was_aa = in->auto_advance;
	param_bool(r, "auto_advance", &in->auto_advance);
	if (draft && in->subscription && !sub_made(in) && in->auto_advance && !was_aa)
		return req_fail(r, ERR_PARAM_BAD, "auto_advance",
				"Tender does not advance an invoice of a subscription's pending "
				"items automatically: finalize and pay it through the API.");
	if (draft && !in->subscription && in->auto_advance != was_aa) {
		/* a one-off draft: finalized an hour after it was made (now, when that is past), or
		 * not at all */
		int64_t at = in->created + INVOICE_DRAFT_WINDOW_S;
		in->next_payment_attempt = !in->auto_advance ? 0 : at > now ? at : now;
	}
	if (draft && finalizes_at_param(r, in, now) != 0)
		return -1;
	if (param_present(r, "metadata") &&
	    metadata_apply(r, in->metadata, "metadata", &in->metadata) != 0)
		return -1;
	if (invoice_settings_apply(r, db, in) != 0)
		return -1;
	/* a new shipping_cost: its total computed again with it */
	if (param_present(r, "shipping_cost") && invoice_discounts_apply(r, db, in) != 0)
		return -1;
	if (draft && invoice_cash_check(r, in) != 0)
		return -1;
	if (invoice_update(r, db, in) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (invoice_emit(r, db, in, "invoice.updated") != 0)
		return -1;
	return answer_invoice(r, db, in->id);
}

static int h_update(struct req *r)
{
	struct inv_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, update_fn, &x);
}

static const char SQL_DELETE_AMOUNTS[] =
    "DELETE FROM invoice_discount_amounts WHERE merchant_id = $1 AND invoice = $2";
static const char SQL_DELETE_TAXES[] =
    "DELETE FROM invoice_tax_amounts WHERE merchant_id = $1 AND invoice = $2";
static const char SQL_DELETE_DRAFT[] =
    "DELETE FROM invoices WHERE merchant_id = $1 AND id = $2 AND status = 'draft'"
    " AND version = $3";

/* A draft holds no money: it goes, and its items are pending again (Stripe deletes only
 * drafts, and not those of a subscription). */
static int delete_fn(struct db *db, void *p)
{
	struct inv_ctx *x = p;
	struct req *r = x->r;
	if (load_fn(db, p) != 0)
		return -1;
	struct invoice *in = &x->in;
	if (strcmp(in->status, "draft") != 0 || sub_made(in))
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"You can only delete draft invoices that are not part of a "
				"subscription; %s is %s.",
				in->id, in->status);
	/* the event's object is the invoice as it was */
	if (invoice_emit(r, db, in, "invoice.deleted") != 0 ||
	    invoice_items_release(r, db, in->id) != 0)
		return -1;
	/* its own discounts end with it (their redemptions stay counted, as on Stripe); the
	 * shares it computed go */
	int64_t now;
	if (billing_now(r, db, in->test_clock, &now) != 0 ||
	    discounts_attach(r, db, DISCOUNT_INVOICE, in->id, in->customer, now, NULL, 0, NULL) !=
		0)
		return -1;
	struct db_stmt *da = db_prepare(db, SQL_DELETE_AMOUNTS);
	if (!da)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(da, 1, r->merchant_id, -1);
	db_bind_text(da, 2, in->id, -1);
	if (db_step_done(da) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* and its taxes' (its default_tax_rates go with it too) */
	struct tax_rate_spec none = {.present = true, .shown = "default_tax_rates"};
	da = db_prepare(db, SQL_DELETE_TAXES);
	if (!da)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(da, 1, r->merchant_id, -1);
	db_bind_text(da, 2, in->id, -1);
	if (db_step_done(da) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (tax_links_set(r, db, in->id, &none) != 0)
		return -1;
	struct db_stmt *st = db_prepare(db, SQL_DELETE_DRAFT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, in->id, -1);
	db_bind_int64(st, 3, in->version);
	int64_t n;
	if (db_step_changes(st, &n) != DB_OK || n != 1)
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"Invoice %s changed while it was being deleted; try again.",
				in->id);
	struct json *j = req_json(r);
	json_obj_open(j);
	json_kv_str(j, "id", in->id);
	json_kv_str(j, "object", "invoice");
	json_kv_bool(j, "deleted", true);
	json_obj_close(j);
	return 0;
}

static int h_delete(struct req *r)
{
	struct inv_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, delete_fn, &x);
}

/* ---- the scheduler's step for a one-off invoice ----
 *
 * A one-off invoice with auto_advance is finalized an hour after it was made (its
 * next_payment_attempt while a draft), then its payment is attempted with its customer's default
 * PaymentMethod, and a failed attempt is tried again on the renewals' schedule (3 and 7 days
 * after its finalization), as Stripe's automatic collection does. subscriptions_tick calls it
 * for the invoices due, in real time or during a test clock's advance (at the clock's time). */

struct advance_ctx {
	struct req *r;
	const char *id;
	int64_t t;
	struct invoice in;
	const char *pm;
	int64_t due;	 /* when its next step is due (0: none) */
	int64_t planned; /* a draft: what its first attempt will charge */
	char pi_id[ID_MAX];
	bool new_intent;
};

static int advance_read_fn(struct db *db, void *p)
{
	struct advance_ctx *x = p;
	struct req *r = x->r;
	x->due = x->planned = 0;
	x->pm = NULL;
	x->new_intent = true;
	int rc = invoice_load(r, db, x->id, &x->in);
	if (rc == DB_NOTFOUND)
		return 0;
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* its subscription's step does it; but a send_invoice invoice's overdue notice is this
	 * step's, whether or not it is its subscription's latest */
	if (x->in.subscription && !(invoice_sends(&x->in) && str_eq(x->in.status, "open")))
		return 0;
	x->due = invoice_next_step(&x->in);
	x->pm = default_pm(r, db, &x->in);
	if (str_eq(x->in.status, "draft")) {
		/* its customer's billing credits come off first, as its finalization applies
		 * them */
		int64_t credited;
		if (invoice_credits_apply(r, db, &x->in, x->t, false, &credited) != 0)
			return -1;
		return invoice_planned_due(r, db, x->in.customer, x->in.currency,
					   x->in.total - credited, &x->planned);
	}
	if (x->in.payment_intent) {
		/* an intent is confirmed again while it can be; else the attempt gets a new one */
		struct db_stmt *st = db_prepare(db, SQL_PI_STATUS);
		if (!st)
			return req_fail(r, ERR_API, NULL, NULL);
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, x->in.payment_intent, -1);
		const char *status = db_step(st) == DB_ROW ? db_col_text(st, 0, NULL) : NULL;
		x->new_intent = !status || !(str_eq(status, "requires_payment_method") ||
					     str_eq(status, "requires_confirmation") ||
					     str_eq(status, "requires_action"));
		/* a bank debit under way: nothing to attempt until it settles */
		if (status && str_eq(status, "processing"))
			x->due = 0;
		db_reset(st);
	}
	return 0;
}

/* the draft, its hour over: finalized at the step's time */
static int advance_finalize_fn(struct db *db, void *p)
{
	struct advance_ctx *x = p;
	struct req *r = x->r;
	struct invoice cur;
	if (invoice_load(r, db, x->id, &cur) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (cur.version != x->in.version || !str_eq(cur.status, "draft"))
		return req_fail(r, ERR_INVALID_STATE, NULL, "Invoice %s changed meanwhile.",
				cur.id);
	cur.credits_planned = true; /* x->planned took them off */
	if (finalize_rows(r, db, &cur, x->t, x->planned) != 0)
		return -1;
	x->in = cur; /* assigned: a re-run of the write gives the same */
	return 0;
}

/* inside the attempt's write: the invoice is still the one read; this attempt is its own */
static int advance_before(struct req *r, struct db *db, void *p)
{
	struct advance_ctx *x = p;
	struct invoice cur;
	if (invoice_load(r, db, x->id, &cur) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (cur.version != x->in.version || !str_eq(cur.status, "open"))
		return req_fail(r, ERR_INVALID_STATE, NULL, "Invoice %s changed meanwhile.",
				cur.id);
	cur.next_payment_attempt = 0; /* the outcome sets the next one */
	if (x->new_intent)
		cur.payment_intent = x->pi_id;
	return invoice_update(r, db, &cur) == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* an attempt that could not reach a card (none, or one that is gone): a failed attempt */
static int advance_no_card_fn(struct db *db, void *p)
{
	struct advance_ctx *x = p;
	struct req *r = x->r;
	struct invoice cur;
	if (invoice_load(r, db, x->id, &cur) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (cur.version != x->in.version || !str_eq(cur.status, "open"))
		return req_fail(r, ERR_INVALID_STATE, NULL, "Invoice %s changed meanwhile.",
				cur.id);
	cur.attempt_count++;
	cur.next_payment_attempt = 0;
	int64_t next = 0;
	int k = cur.attempt_count >= BILLING_ATTEMPTS_MAX
		    ? 0
		    : billing_next_attempt(cur.finalized_at, (int)cur.attempt_count, &next);
	if (k < 0)
		return req_fail(r, ERR_API, NULL, NULL);
	if (k == 1)
		cur.next_payment_attempt = next;
	if (invoice_update(r, db, &cur) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return invoice_emit(r, db, &cur, "invoice.payment_failed");
}

/* an open charge_automatically invoice paid by bank transfer with an attempt due: its intent
 * (made again if it was given up) waits for the transfer, nothing is charged */
static int advance_cash_fn(struct db *db, void *p)
{
	struct advance_ctx *x = p;
	struct req *r = x->r;
	struct invoice cur;
	if (invoice_load(r, db, x->id, &cur) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (cur.version != x->in.version || !str_eq(cur.status, "open"))
		return req_fail(r, ERR_INVALID_STATE, NULL, "Invoice %s changed meanwhile.",
				cur.id);
	cur.next_payment_attempt = 0;
	if (invoice_update(r, db, &cur) != DB_OK || invoice_load(r, db, x->id, &cur) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return invoice_cash_collect(r, db, &cur);
}

/* a send_invoice invoice still open at its due date: invoice.overdue, once (its step is then
 * none) */
static int overdue_fn(struct db *db, void *p)
{
	struct advance_ctx *x = p;
	struct req *r = x->r;
	struct invoice cur;
	if (invoice_load(r, db, x->id, &cur) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (cur.version != x->in.version || !str_eq(cur.status, "open") || !invoice_sends(&cur))
		return req_fail(r, ERR_INVALID_STATE, NULL, "Invoice %s changed meanwhile.",
				cur.id);
	cur.next_payment_attempt = 0;
	if (invoice_update(r, db, &cur) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (invoice_emit(r, db, &cur, "invoice.overdue") != 0)
		return -1;
	return cur.subscription ? subscription_invoice_overdue(r, db, &cur) : 0;
}

int invoice_advance_step(struct app *app, const char *host, const char *merchant, const char *id,
			 int64_t t)
{
	struct req r;
	req_internal_init(&r, app, merchant, t, host);
	struct advance_ctx *x = arena_alloc(&r.arena, sizeof(*x));
	int rc = -1;
	if (!x)
		goto out;
	memset(x, 0, sizeof(*x));
	x->r = &r;
	x->id = id;
	x->t = t;
	if (req_read(&r, advance_read_fn, x) != 0)
		goto out;
	if (!x->due || x->due > t) {
		rc = 0;
		goto out;
	}
	if (invoice_sends(&x->in) || billing_pm_types_cash_only(x->in.payment_method_types)) {
		/* never charged: a draft's hour over, it is finalized (and waits for its customer,
		 * or is paid from the cash balance: finalize_rows); an open send_invoice one's due
		 * date passed, its overdue notice; an open one paid by bank transfer has no
		 * attempt left to make */
		rc = req_write(&r,
			       str_eq(x->in.status, "draft") ? advance_finalize_fn
			       : invoice_sends(&x->in)	     ? overdue_fn
							     : advance_cash_fn,
			       x) == 0
			 ? 1
			 : -1;
		goto out;
	}
	if (str_eq(x->in.status, "draft")) {
		if (req_write(&r, advance_finalize_fn, x) != 0)
			goto out;
		if (!str_eq(x->in.status, "open")) {
			rc = 1; /* nothing (or too little) to charge: paid */
			goto out;
		}
	}
	if (x->pm) {
		if (x->new_intent)
			id_new_at(x->pi_id, "pi_", t);
		struct pi_invoice pv = {
		    .existing = x->new_intent ? NULL : x->in.payment_intent,
		    .amount = x->in.amount_due - x->in.amount_paid,
		    .currency = x->in.currency,
		    .customer = x->in.customer,
		    .pm_id = x->pm,
		    .invoice = x->in.id,
		    .confirm = true,
		    .before = advance_before,
		    .ctx = x,
		};
		str_copy(pv.id, sizeof(pv.id), x->pi_id);
		rc = invoice_pi_terms(&r, &x->in, &pv) == 0 ? payment_intents_invoice(&r, &pv) : -1;
		if (rc == 0) {
			rc = 1;
			goto out;
		}
		/* the store failed: nothing is known of the card; done again later */
		if (api_error_info(r.err.code)->status >= 500)
			goto out;
		r.err.set = false; /* nothing was recorded: a failed attempt, below */
	}
	rc = req_write(&r, advance_no_card_fn, x) == 0 ? 1 : -1;
out:
	if (rc < 0 && r.err.set && r.err.code == ERR_OVERLOADED)
		rc = SUBSCRIPTION_STEP_AGAIN;
	req_internal_release(&r);
	return rc;
}

static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};
static const struct param_spec discount_children[] = {
    {"coupon", PT_STRING, 0, COUPON_ID_MAX, NULL, NULL},
    {"promotion_code", PT_STRING, 0, 255, NULL, NULL},
    {"discount", PT_STRING, 0, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec automatic_tax_children[] = {
    {"enabled", PT_BOOL, PF_REQUIRED, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec payment_method_options_children[] = {
    {"customer_balance", PT_OBJECT, PF_EMPTYABLE, 0, NULL, cash_invoice_pmo_params},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec payment_settings_children[] = {
    {"payment_method_options", PT_OBJECT, 0, 0, NULL, payment_method_options_children},
    {"payment_method_types", PT_STRING_ARRAY, PF_EMPTYABLE, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
/* invoice_settings.c's: the same on create and update */
#define INVOICE_SETTINGS_PARAMS                                                                      \
	{"footer", PT_STRING, PF_EMPTYABLE, 5000, NULL, NULL},                                       \
	    {"account_tax_ids", PT_STRING_ARRAY, PF_EMPTYABLE, 0, NULL, NULL},                       \
	    {"custom_fields",                                                                        \
	     PT_OBJECT_ARRAY,                                                                        \
	     PF_EMPTYABLE,                                                                           \
	     INVOICE_CUSTOM_FIELDS_MAX,                                                              \
	     NULL,                                                                                   \
	     invoice_custom_field_params},                                                           \
	    {"statement_descriptor", PT_STRING, PF_EMPTYABLE, 22, NULL, NULL},                       \
	    {"shipping_details", PT_OBJECT, PF_EMPTYABLE, 0, NULL, invoice_shipping_details_params}, \
	    {"rendering_options",                                                                    \
	     PT_OBJECT,                                                                              \
	     PF_EMPTYABLE,                                                                           \
	     0,                                                                                      \
	     NULL,                                                                                   \
	     invoice_rendering_options_params},                                                      \
	    {"rendering", PT_OBJECT, 0, 0, NULL, invoice_rendering_params},                          \
	    {"default_payment_method", PT_STRING, PF_EMPTYABLE, 255, NULL, NULL},                    \
	    {"default_source", PT_STRING, PF_EMPTYABLE, 255, NULL, NULL},                            \
	    {"effective_at", PT_INT, PF_EMPTYABLE, 0, NULL, NULL},                                   \
	    {"on_behalf_of", PT_STRING, PF_EMPTYABLE, 255, NULL, NULL},                              \
	    {"transfer_data", PT_OBJECT, PF_EMPTYABLE, 0, NULL, invoice_transfer_data_params},       \
	    {"application_fee_amount", PT_INT, PF_EMPTYABLE, 0, NULL, NULL},                         \
	    {"issuer", PT_OBJECT, 0, 0, NULL, invoice_issuer_params},                                \
	    {"automatically_finalizes_at", PT_INT, 0, 0, NULL, NULL},                                \
	{                                                                                            \
		"shipping_cost", PT_OBJECT, PF_EMPTYABLE, 0, NULL, invoice_shipping_cost_params      \
	}
static const struct param_spec from_invoice_children[] = {
    {"action", PT_ENUM, PF_REQUIRED, 0, (const char *const[]){"revision", NULL}, NULL},
    {"invoice", PT_STRING, PF_REQUIRED, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
#define INVOICE_NUMBER_MAX 26 /* Stripe's maxLength for an invoice's number */
static const struct param_spec create_params[] = {
    /* required unless from_invoice names the invoice revised (h_create) */
    {"customer", PT_STRING, 0, 255, NULL, NULL},
    {"from_invoice", PT_OBJECT, 0, 0, NULL, from_invoice_children},
    {"automatic_tax", PT_OBJECT, 0, 0, NULL, automatic_tax_children},
    {"days_until_due", PT_INT, 0, 0, NULL, NULL},
    {"due_date", PT_INT, 0, 0, NULL, NULL},
    {"discounts", PT_OBJECT_ARRAY, PF_EMPTYABLE, DISCOUNTS_MAX, NULL, discount_children},
    {"auto_advance", PT_BOOL, 0, 0, NULL, NULL},
    {"collection_method", PT_ENUM, 0, 0,
     (const char *const[]){"charge_automatically", "send_invoice", NULL}, NULL},
    {"currency", PT_CURRENCY, 0, 0, NULL, NULL},
    {"description", PT_STRING, PF_EMPTYABLE, 1500, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"number", PT_STRING, 0, INVOICE_NUMBER_MAX, NULL, NULL},
    {"pending_invoice_items_behavior", PT_ENUM, 0, 0,
     (const char *const[]){"exclude", "include", NULL}, NULL},
    {"default_tax_rates", PT_STRING_ARRAY, PF_EMPTYABLE, 0, NULL, NULL},
    {"payment_settings", PT_OBJECT, 0, 0, NULL, payment_settings_children},
    {"subscription", PT_STRING, 0, 255, NULL, NULL},
    INVOICE_SETTINGS_PARAMS,
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec update_params[] = {
    {"automatic_tax", PT_OBJECT, 0, 0, NULL, automatic_tax_children},
    {"discounts", PT_OBJECT_ARRAY, PF_EMPTYABLE, DISCOUNTS_MAX, NULL, discount_children},
    {"collection_method", PT_ENUM, 0, 0,
     (const char *const[]){"charge_automatically", "send_invoice", NULL}, NULL},
    {"days_until_due", PT_INT, 0, 0, NULL, NULL},
    {"due_date", PT_INT, 0, 0, NULL, NULL},
    {"auto_advance", PT_BOOL, 0, 0, NULL, NULL},
    {"description", PT_STRING, PF_EMPTYABLE, 1500, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"number", PT_STRING, PF_EMPTYABLE, INVOICE_NUMBER_MAX, NULL, NULL},
    {"default_tax_rates", PT_STRING_ARRAY, PF_EMPTYABLE, 0, NULL, NULL},
    {"payment_settings", PT_OBJECT, 0, 0, NULL, payment_settings_children},
    INVOICE_SETTINGS_PARAMS,
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec list_params[] = {
    {"customer", PT_STRING, 0, 255, NULL, NULL},
    {"subscription", PT_STRING, 0, 255, NULL, NULL},
    {"status", PT_ENUM, 0, 0,
     (const char *const[]){"draft", "open", "paid", "uncollectible", "void", NULL}, NULL},
    {"collection_method", PT_ENUM, 0, 0,
     (const char *const[]){"charge_automatically", "send_invoice", NULL}, NULL},
    {"due_date", PT_RANGE, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec pay_params[] = {
    {"payment_method", PT_STRING, PF_EMPTYABLE, 255, NULL, NULL},
    {"off_session", PT_BOOL, 0, 0, NULL, NULL},
    {"paid_out_of_band", PT_BOOL, 0, 0, NULL, NULL},
    {"source", PT_STRING, PF_EMPTYABLE, 255, NULL, NULL},
    {"mandate", PT_STRING, PF_EMPTYABLE, 255, NULL, NULL},
    {"forgive", PT_BOOL, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec finalize_params[] = {
    {"auto_advance", PT_BOOL, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

const struct route invoices_routes[] = {
    {"POST", "/v1/invoices", h_create, create_params, 0},
    {"GET", "/v1/invoices", h_list, list_params, ROUTE_LIST},
    {"GET", "/v1/invoices/{id}", h_retrieve, no_params, 0},
    {"POST", "/v1/invoices/{id}", h_update, update_params, 0},
    {"DELETE", "/v1/invoices/{id}", h_delete, no_params, 0},
    {"GET", "/v1/invoices/{id}/lines", h_lines, no_params, ROUTE_LIST},
    {"POST", "/v1/invoices/{id}/pay", h_pay, pay_params, 0},
    {"POST", "/v1/invoices/{id}/finalize", h_finalize, finalize_params, 0},
    {"POST", "/v1/invoices/{id}/void", h_void, no_params, 0},
    {"POST", "/v1/invoices/{id}/mark_uncollectible", h_mark_uncollectible, no_params, 0},
    {"POST", "/v1/invoices/{id}/send", h_send, no_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};

/*
 * /v1/credit_notes: Stripe's credit notes, which adjust a finalized invoice without voiding it.
 * create, retrieve, update (memo, metadata), list (invoice, customer), void, lines, and the
 * preview and its lines (computed exactly as create computes them, in a read transaction: they
 * write nothing).
 *
 * A credit note's total comes from its lines (an invoice line credited by quantity or amount, or
 * a custom line of unit_amount × quantity) or a plain `amount`. It is split once, when it is
 * issued, as Stripe splits it: first what the invoice still asks for is lowered
 * (pre_payment_amount: the invoice's amount_due, and so amount_remaining and the amount of its
 * PaymentIntent while that is unpaid; an invoice left with nothing to pay is paid, as on Stripe),
 * and the rest (post_payment_amount: only what was paid, less earlier credit notes' post-payment
 * amounts) goes back as refund_amount (a Refund of the invoice's charge, through POST
 * /v1/refunds' own path: the journal moves exactly as for any refund), credit_amount (a
 * `credit_note` customer balance transaction) and out_of_band_amount, which must add up to it.
 * The invoice's pre/post_payment_credit_notes_amount are sums over its issued credit notes
 * (credit_notes_invoice_amounts), so voiding one takes its part out of them; a voided
 * pre-payment credit note gives the invoice back what it lowered (while it is still unpaid), a
 * voided credit takes the customer's balance credit back; a credit note that refunded cannot be
 * voided (the money is gone), as on Stripe.
 *
 * Taxes: a line of type invoice_line_item credits its share of each tax its invoice line took
 * (invoice_tax_amounts): the line's tax for the rate × credited amount / line amount, rounded
 * half away from zero to the minor unit (billing_tax_share), the share that completes the line
 * taking exactly what is left of that tax after the invoice's other issued credit notes, so no
 * line is ever credited more tax than it had. The shares are kept per line
 * (credit_note_line_taxes) and render the same later; a void takes them out of what was credited,
 * as it does the amounts. Exclusive taxes add to the total (and so to amount, the split and the
 * caps); inclusive ones are inside the line's amount. A plain `amount` and custom lines are
 * untaxed, as on Stripe.
 *
 * Discounts: such a line also credits its share of each discount its invoice line took
 * (invoice_discount_amounts), shared as the taxes are (billing_tax_share, the share completing
 * the line taking what is left of the discount; kept in credit_note_line_discounts). The line's
 * amount is Stripe's gross amount, before discounts; the credit note's total is the lines'
 * amounts less their discounts plus their exclusive taxes, so crediting every line of a
 * discounted invoice credits exactly what it charged. The taxes were taken after the discounts,
 * so their shares need no adjustment.
 *
 * Every write is one store write (its idempotency record commits with the refund, the balance
 * move, the invoice's change and the events), and re-runnable: the plan is computed again inside
 * it from what the store holds.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/billing_internal.h"
#include "api/common.h"
#include "api/customer_balance.h"
#include "api/list.h"
#include "api/payments_common.h"
#include "api/resources.h"
#include "billing/credit_note.h"
#include "billing/tax.h"
#include "core/str.h"
#include "documents/answer.h"
#include "events/events.h"
#include "http/form.h"
#include "payments/payments.h"

/* The most lines one credit note takes (an invoice has at most INVOICE_LINES_MAX). */
#define CN_LINES_MAX 100
#define CN_REFUNDS_MAX 50 /* refunds[] linked by one credit note */
/* The most distinct discounts one credit note's lines credit (summed per discount). */
#define CN_DISCOUNT_TOTALS_MAX 128
/* A credit note's amounts stay within this (far below int64's limits: sums of a few of them
 * never overflow, and they are checked anyway). */
#define CN_AMOUNT_MAX INT64_C(99999999999)

struct cn_line {
	char id[ID_MAX];
	const char *type; /* invoice_line_item, custom_line_item */
	const char *invoice_line_item;
	int64_t amount;
	int64_t quantity;    /* 0: null */
	int64_t unit_amount; /* with has_unit */
	bool has_unit;
	const char *description;
	/* a line of type invoice_line_item: its share of each tax of the invoice line, in the
	 * line's order (tax[k] is the line's k-th tax); NULL when n_tax is 0 */
	int n_tax;
	struct invoice_tax_entry *tax;
	/* its share of each discount the invoice line took, in the line's order; NULL when n_disc
	 * is 0. The line's amount is before them (Stripe's gross amount), the total after. */
	int n_disc;
	struct discount_amount *disc;
};

struct credit_note {
	char id[ID_MAX];
	int64_t created;
	const char *invoice, *customer, *number, *type, *status, *reason, *memo, *metadata;
	char currency[8];
	int64_t total, pre, post, refund_amount, credit_amount, out_of_band;
	bool has_out_of_band;
	const char *refund, *cbt;
	/* refunds[] linked (JSON array of {refund, amount_refunded}); NULL: only `refund` */
	const char *refunds;
	int64_t effective_at, voided_at; /* voided_at 0: null */
	/* shipping_cost[shipping_rate]: the invoice's shipping credited, as Stripe shows it (JSON),
	 * and its amount (in total); NULL / 0: none */
	const char *shipping_cost;
	int64_t shipping;
	bool preview; /* made up by …/preview: its ids are not stored, so it has no PDF */
	int n_lines;
	struct cn_line *lines;
};

static const char SQL_GET[] =
    "SELECT id, created, invoice, customer, currency, number, type, status, total,"
    " pre_payment_amount, post_payment_amount, refund_amount, credit_amount, out_of_band_amount,"
    " refund, customer_balance_transaction, reason, memo, metadata, effective_at, voided_at,"
    " shipping_cost, refunds FROM credit_notes WHERE merchant_id = $1 AND id = $2";
static const char SQL_LINES[] =
    "SELECT id, type, invoice_line_item, amount, quantity, unit_amount, description"
    " FROM credit_note_lines WHERE merchant_id = $1 AND credit_note = $2 ORDER BY idx LIMIT $3";
static const char SQL_INSERT[] =
    "INSERT INTO credit_notes (merchant_id, id, created, invoice, customer, currency, number,"
    " type, status, total, pre_payment_amount, post_payment_amount, refund_amount,"
    " credit_amount, out_of_band_amount, refund, customer_balance_transaction, reason, memo,"
    " metadata, effective_at, voided_at, shipping_cost, refunds)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,"
    " $19, $20, $21, $22, $23, $24)";
/* the invoice's shipping is credited once (an issued credit note has it) */
static const char SQL_SHIPPING_CREDITED[] =
    "SELECT id FROM credit_notes WHERE merchant_id = $1 AND invoice = $2 AND status = 'issued'"
    " AND shipping_cost IS NOT NULL LIMIT 1";
static const char SQL_INSERT_LINE[] =
    "INSERT INTO credit_note_lines (merchant_id, credit_note, idx, id, type, invoice_line_item,"
    " amount, quantity, unit_amount, description) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
    " $10)";
static const char SQL_SUMS[] =
    "SELECT COALESCE(SUM(pre_payment_amount), 0), COALESCE(SUM(post_payment_amount), 0)"
    " FROM credit_notes WHERE merchant_id = $1 AND invoice = $2 AND status = 'issued'";
static const char SQL_REFUNDED[] =
    "SELECT COALESCE(SUM(refund_amount), 0) FROM credit_notes WHERE merchant_id = $1"
    " AND invoice = $2";
static const char SQL_COUNT[] =
    "SELECT COUNT(*) FROM credit_notes WHERE merchant_id = $1 AND invoice = $2";
static const char SQL_LINE_CREDITED[] =
    "SELECT COALESCE(SUM(l.amount), 0) FROM credit_note_lines l JOIN credit_notes c"
    " ON c.merchant_id = l.merchant_id AND c.id = l.credit_note"
    " WHERE l.merchant_id = $1 AND l.invoice_line_item = $2 AND c.invoice = $3"
    " AND c.status = 'issued'";
static const char SQL_LINE_TAXES_OF[] =
    "SELECT idx, pos, tax_rate, inclusive, amount, taxable_amount FROM credit_note_line_taxes"
    " WHERE merchant_id = $1 AND credit_note = $2 ORDER BY idx, pos LIMIT $3";
static const char SQL_LINE_TAX_CREDITED[] =
    "SELECT COALESCE(SUM(t.amount), 0), COALESCE(SUM(t.taxable_amount), 0)"
    " FROM credit_note_line_taxes t JOIN credit_notes c"
    " ON c.merchant_id = t.merchant_id AND c.id = t.credit_note"
    " WHERE t.merchant_id = $1 AND t.invoice_line_item = $2 AND t.pos = $3 AND c.invoice = $4"
    " AND c.status = 'issued'";
static const char SQL_INSERT_LINE_TAX[] =
    "INSERT INTO credit_note_line_taxes (merchant_id, credit_note, idx, pos, invoice_line_item,"
    " tax_rate, inclusive, amount, taxable_amount) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
static const char SQL_LINE_DISCOUNTS_OF[] =
    "SELECT idx, pos, discount, amount FROM credit_note_line_discounts"
    " WHERE merchant_id = $1 AND credit_note = $2 ORDER BY idx, pos LIMIT $3";
static const char SQL_LINE_DISCOUNT_CREDITED[] =
    "SELECT COALESCE(SUM(d.amount), 0) FROM credit_note_line_discounts d JOIN credit_notes c"
    " ON c.merchant_id = d.merchant_id AND c.id = d.credit_note"
    " WHERE d.merchant_id = $1 AND d.invoice_line_item = $2 AND d.discount = $3"
    " AND c.invoice = $4 AND c.status = 'issued'";
static const char SQL_INSERT_LINE_DISCOUNT[] =
    "INSERT INTO credit_note_line_discounts (merchant_id, credit_note, idx, pos,"
    " invoice_line_item, discount, amount) VALUES ($1, $2, $3, $4, $5, $6, $7)";
static const char SQL_UPDATE[] = "UPDATE credit_notes SET memo = $3, metadata = $4"
				 " WHERE merchant_id = $1 AND id = $2";
static const char SQL_VOID[] = "UPDATE credit_notes SET status = 'void', voided_at = $3"
			       " WHERE merchant_id = $1 AND id = $2 AND status = 'issued'";

int credit_notes_invoice_amounts(struct req *r, struct db *db, const char *invoice,
				 int64_t *ret_pre, int64_t *ret_post)
{
	struct db_stmt *st = db_prepare(db, SQL_SUMS);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, invoice, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		*ret_pre = db_col_int64(st, 0);
		*ret_post = db_col_int64(st, 1);
	}
	db_reset(st);
	return rc == DB_ROW ? DB_OK : rc < 0 ? rc : DB_ERR;
}

/* One stored share row of line l (its pos-th): taken into l. 0, or -1 (out of order, no memory). */
typedef int (*cn_share_take)(struct req *r, struct cn_line *l, int64_t pos, struct db_stmt *st);

/* The stored shares of cn's lines (taxes or discounts: rows of idx, pos, …, in idx and pos
 * order, idx a line's index), each handed to take. DB_OK or < 0. */
static int cn_shares_load(struct req *r, struct db *db, struct credit_note *cn, const char *sql,
			  int per_line, cn_share_take take)
{
	struct db_stmt *st = db_prepare(db, sql);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, cn->id, -1);
	db_bind_int64(st, 3, (int64_t)CN_LINES_MAX * per_line);
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		int64_t idx = db_col_int64(st, 0), pos = db_col_int64(st, 1);
		if (idx < 0 || idx >= cn->n_lines || pos < 0 || pos >= per_line ||
		    take(r, &cn->lines[idx], pos, st) != 0) {
			rc = DB_ERR;
			break;
		}
	}
	db_reset(st);
	return rc == DB_DONE ? DB_OK : rc < 0 ? rc : DB_ERR;
}

/* a tax share: idx, pos, tax_rate, inclusive, amount, taxable_amount */
static int take_tax(struct req *r, struct cn_line *l, int64_t pos, struct db_stmt *st)
{
	if (pos != l->n_tax)
		return -1;
	if (!l->tax)
		l->tax = arena_alloc(&r->arena, BILLING_TAX_RATES_MAX * sizeof(*l->tax));
	if (!l->tax)
		return -1;
	struct invoice_tax_entry *e = &l->tax[l->n_tax++];
	memset(e, 0, sizeof(*e));
	str_copy(e->rate, sizeof(e->rate), db_col_text(st, 2, NULL));
	e->inclusive = db_col_int64(st, 3) != 0;
	e->amount = db_col_int64(st, 4);
	e->taxable = db_col_int64(st, 5);
	return 0;
}

/* a discount share: idx, pos, discount, amount */
static int take_discount(struct req *r, struct cn_line *l, int64_t pos, struct db_stmt *st)
{
	if (pos != l->n_disc)
		return -1;
	if (!l->disc)
		l->disc = arena_alloc(&r->arena, LINE_DISCOUNTS_MAX * sizeof(*l->disc));
	if (!l->disc)
		return -1;
	struct discount_amount *e = &l->disc[l->n_disc++];
	str_copy(e->discount, sizeof(e->discount), db_col_text(st, 2, NULL));
	e->amount = db_col_int64(st, 3);
	return 0;
}

/* what a credit note's shipping_cost JSON credits (0: none) */
static int64_t cn_shipping_amount(const char *shipping_cost)
{
	json_t *o = shipping_cost ? json_loads(shipping_cost, 0, NULL) : NULL;
	int64_t a = json_integer_value(json_object_get(o, "amount_total"));
	json_decref(o);
	return a;
}

static int cn_load(struct req *r, struct db *db, const char *id, struct credit_note *cn)
{
	struct db_stmt *st = db_prepare(db, SQL_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	struct arena *a = &r->arena;
	if (rc == DB_ROW) {
		memset(cn, 0, sizeof(*cn));
		str_copy(cn->id, sizeof(cn->id), db_col_text(st, 0, NULL));
		cn->created = db_col_int64(st, 1);
		cn->invoice = col_text_dup(a, st, 2);
		cn->customer = col_text_dup(a, st, 3);
		str_copy(cn->currency, sizeof(cn->currency), db_col_text(st, 4, NULL));
		cn->number = col_text_dup(a, st, 5);
		cn->type = col_text_dup(a, st, 6);
		cn->status = col_text_dup(a, st, 7);
		cn->total = db_col_int64(st, 8);
		cn->pre = db_col_int64(st, 9);
		cn->post = db_col_int64(st, 10);
		cn->refund_amount = db_col_int64(st, 11);
		cn->credit_amount = db_col_int64(st, 12);
		cn->has_out_of_band = !db_col_is_null(st, 13);
		cn->out_of_band = cn->has_out_of_band ? db_col_int64(st, 13) : 0;
		cn->refund = col_text_dup(a, st, 14);
		cn->cbt = col_text_dup(a, st, 15);
		cn->reason = col_text_dup(a, st, 16);
		cn->memo = col_text_dup(a, st, 17);
		cn->metadata = col_text_dup(a, st, 18);
		cn->effective_at = db_col_int64(st, 19);
		cn->voided_at = db_col_int64_or0(st, 20);
		cn->shipping_cost = col_text_dup(a, st, 21);
		cn->shipping = cn_shipping_amount(cn->shipping_cost);
		cn->refunds = col_text_dup(a, st, 22);
		if (!cn->invoice || !cn->customer || !cn->number || !cn->type || !cn->status ||
		    !cn->metadata)
			rc = DB_ERR;
	}
	db_reset(st);
	if (rc != DB_ROW)
		return rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
	cn->lines = arena_alloc(a, CN_LINES_MAX * sizeof(*cn->lines));
	st = db_prepare(db, SQL_LINES);
	if (!cn->lines || !st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	db_bind_int64(st, 3, CN_LINES_MAX);
	cn->n_lines = 0;
	while (cn->n_lines < CN_LINES_MAX && (rc = db_step(st)) == DB_ROW) {
		struct cn_line *l = &cn->lines[cn->n_lines++];
		memset(l, 0, sizeof(*l));
		str_copy(l->id, sizeof(l->id), db_col_text(st, 0, NULL));
		l->type = col_text_dup(a, st, 1);
		l->invoice_line_item = col_text_dup(a, st, 2);
		l->amount = db_col_int64(st, 3);
		l->quantity = db_col_int64_or0(st, 4);
		l->has_unit = !db_col_is_null(st, 5);
		l->unit_amount = l->has_unit ? db_col_int64(st, 5) : 0;
		l->description = col_text_dup(a, st, 6);
		if (!l->type)
			rc = DB_ERR;
	}
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	rc = cn_shares_load(r, db, cn, SQL_LINE_TAXES_OF, BILLING_TAX_RATES_MAX, take_tax);
	return rc == DB_OK ? cn_shares_load(r, db, cn, SQL_LINE_DISCOUNTS_OF, LINE_DISCOUNTS_MAX,
					    take_discount)
			   : rc;
}

/* ---- rendering ---- */

/* x / d as Stripe's decimal strings print it: at most 12 decimals, rounded half away from zero,
 * no trailing zeros ("909.0909090909", "1000"). d >= 1. */
static void decimal_div(int64_t x, int64_t d, char *out, size_t size)
{
	__int128 scaled = (__int128)x * 1000000000000LL, q = scaled / d, rem = scaled % d;
	if (2 * (rem < 0 ? -rem : rem) >= d)
		q += scaled < 0 ? -1 : 1;
	bool neg = q < 0;
	if (neg)
		q = -q;
	long long whole = (long long)(q / 1000000000000LL);
	long long frac = (long long)(q % 1000000000000LL);
	if (frac == 0) {
		snprintf(out, size, "%s%lld", neg ? "-" : "", whole);
		return;
	}
	int digits = 12;
	while (frac % 10 == 0) {
		frac /= 10;
		digits--;
	}
	snprintf(out, size, "%s%lld.%0*lld", neg ? "-" : "", whole, digits, frac);
}

/* the tax shares of line l: *ret_exclusive (added to the credit note's total) and
 * *ret_inclusive (inside l's amount). 0, or -1 on an overflow. */
static int line_tax_sums(const struct cn_line *l, int64_t *ret_exclusive, int64_t *ret_inclusive)
{
	int64_t exc = 0, inc = 0;
	for (int k = 0; k < l->n_tax; k++)
		if (__builtin_add_overflow(l->tax[k].inclusive ? inc : exc, l->tax[k].amount,
					   l->tax[k].inclusive ? &inc : &exc))
			return -1;
	*ret_exclusive = exc;
	*ret_inclusive = inc;
	return 0;
}

/* the sum of line l's discount shares into *ret. 0, or -1 on an overflow. */
static int line_discount_sum(const struct cn_line *l, int64_t *ret)
{
	int64_t sum = 0;
	for (int k = 0; k < l->n_disc; k++)
		if (__builtin_add_overflow(sum, l->disc[k].amount, &sum))
			return -1;
	*ret = sum;
	return 0;
}

static int line_render(struct req *r, struct db *db, const struct cn_line *l, struct json *j)
{
	int64_t exc, inc, net, disc; /* net: the amount excluding tax */
	if (line_tax_sums(l, &exc, &inc) != 0 || __builtin_sub_overflow(l->amount, inc, &net) ||
	    line_discount_sum(l, &disc) != 0)
		return DB_ERR;
	json_obj_open(j);
	json_kv_str(j, "id", l->id);
	json_kv_str(j, "object", "credit_note_line_item");
	json_kv_int(j, "amount", l->amount);
	json_kv_int(j, "amount_excluding_tax", net);
	json_kv_str_or_null(j, "description", l->description);
	json_kv_int(j, "discount_amount", disc);
	json_key(j, "discount_amounts");
	discount_amounts_render(l->disc, l->n_disc, j);
	if (l->invoice_line_item)
		json_kv_str(j, "invoice_line_item", l->invoice_line_item);
	json_kv_bool(j, "livemode", r->livemode);
	json_kv_raw(j, "pretax_credit_amounts", "[]", 2);
	if (l->quantity)
		json_kv_int(j, "quantity", l->quantity);
	else
		json_kv_null(j, "quantity");
	json_key(j, "tax_amounts");
	invoice_tax_entries_render(l->tax, l->n_tax, false, j);
	/* the rates its taxes were taken at (each once, in the line's order) */
	json_key(j, "tax_rates");
	json_arr_open(j);
	for (int k = 0; k < l->n_tax; k++) {
		bool seen = false;
		for (int m = 0; m < k && !seen; m++)
			seen = strcmp(l->tax[m].rate, l->tax[k].rate) == 0;
		if (seen)
			continue;
		struct tax_rate t;
		if (tax_rate_load(r, db, l->tax[k].rate, &t) != DB_OK)
			return DB_ERR;
		tax_rate_render(&t, j);
	}
	json_arr_close(j);
	json_key(j, "taxes");
	invoice_tax_entries_render(l->tax, l->n_tax, true, j);
	json_kv_str(j, "type", l->type);
	if (l->has_unit) {
		char dec[32], exdec[48];
		snprintf(dec, sizeof(dec), "%lld", (long long)l->unit_amount);
		if (inc && l->quantity > 0)
			decimal_div(net, l->quantity, exdec, sizeof(exdec));
		else
			snprintf(exdec, sizeof(exdec), "%s", dec);
		json_kv_int(j, "unit_amount", l->unit_amount);
		json_kv_str(j, "unit_amount_decimal", dec);
		json_kv_str(j, "unit_amount_excluding_tax", exdec);
	} else {
		json_kv_null(j, "unit_amount");
		json_kv_null(j, "unit_amount_decimal");
		json_kv_null(j, "unit_amount_excluding_tax");
	}
	json_obj_close(j);
	return 0;
}

/* The lines' discount shares summed per discount, in the order the lines take them, into an
 * array of the arena (*ret_n entries). 0, or -1 (an overflow, too many, no memory). */
static int cn_discount_totals(struct req *r, const struct credit_note *cn,
			      struct discount_amount **ret, int *ret_n, int64_t *ret_sum)
{
	struct discount_amount *sums = NULL;
	int n = 0;
	int64_t all = 0;
	for (int i = 0; i < cn->n_lines; i++) {
		const struct cn_line *l = &cn->lines[i];
		for (int k = 0; k < l->n_disc; k++) {
			const struct discount_amount *e = &l->disc[k];
			if (!sums)
				sums =
				    arena_alloc(&r->arena, CN_DISCOUNT_TOTALS_MAX * sizeof(*sums));
			if (!sums)
				return -1;
			int m = 0;
			while (m < n && strcmp(sums[m].discount, e->discount) != 0)
				m++;
			if (m == n) {
				if (n == CN_DISCOUNT_TOTALS_MAX)
					return -1;
				sums[n++] = *e;
			} else if (__builtin_add_overflow(sums[m].amount, e->amount,
							  &sums[m].amount)) {
				return -1;
			}
			if (__builtin_add_overflow(all, e->amount, &all))
				return -1;
		}
	}
	*ret = sums;
	*ret_n = n;
	*ret_sum = all;
	return 0;
}

/* expand[] of `field` at prefix (NULL: an event's object, which expands nothing) */
static bool expands(struct req *r, const char *prefix, const char *field)
{
	char path[64];
	if (!prefix)
		return false;
	snprintf(path, sizeof(path), "%s%s", prefix, field);
	return req_expand_has(r, path);
}

/* Renders it; prefix: where it sits in the answer for expand[] (customer, invoice, refund): ""
 * at the top, "data." in a list, NULL for an event's object. 0, or < 0. */
static int cn_render(struct req *r, struct db *db, const struct credit_note *cn, const char *prefix,
		     struct json *j)
{
	json_obj_open(j);
	json_kv_str(j, "id", cn->id);
	json_kv_str(j, "object", "credit_note");
	json_kv_int(j, "amount", cn->total);
	json_kv_int(j, "amount_shipping", cn->shipping);
	json_kv_int(j, "created", cn->created);
	json_kv_str(j, "currency", cn->currency);
	json_key(j, "customer");
	if (expands(r, prefix, "customer")) {
		if (customer_render_by_id(r, db, cn->customer, j) != DB_OK)
			return DB_ERR;
	} else {
		json_str(j, cn->customer);
	}
	json_kv_null(j, "customer_account");
	json_kv_str_or_null(j, "customer_balance_transaction", cn->cbt);
	struct discount_amount *dsums;
	int n_dsums;
	int64_t discounted;
	if (cn_discount_totals(r, cn, &dsums, &n_dsums, &discounted) != 0)
		return DB_ERR;
	json_kv_int(j, "discount_amount", discounted);
	json_key(j, "discount_amounts");
	discount_amounts_render(dsums, n_dsums, j);
	json_kv_int(j, "effective_at", cn->effective_at);
	json_key(j, "invoice");
	if (expands(r, prefix, "invoice")) {
		struct invoice in;
		char sub[32];
		snprintf(sub, sizeof(sub), "%sinvoice.", prefix);
		if (invoice_load(r, db, cn->invoice, &in) != DB_OK ||
		    invoice_render(r, db, &in, sub, j) != 0)
			return DB_ERR;
	} else {
		json_str(j, cn->invoice);
	}
	json_key(j, "lines");
	json_obj_open(j);
	json_kv_str(j, "object", "list");
	json_key(j, "data");
	json_arr_open(j);
	for (int i = 0; i < cn->n_lines; i++)
		if (line_render(r, db, &cn->lines[i], j) != 0)
			return DB_ERR;
	json_arr_close(j);
	json_kv_bool(j, "has_more", false);
	char url[96];
	if (cn->id[0])
		snprintf(url, sizeof(url), "/v1/credit_notes/%s/lines", cn->id);
	else
		snprintf(url, sizeof(url), "/v1/credit_notes/preview/lines");
	json_kv_str(j, "url", url);
	json_obj_close(j);
	json_kv_bool(j, "livemode", r->livemode);
	json_kv_str_or_null(j, "memo", cn->memo);
	json_kv_raw(j, "metadata", cn->metadata, strlen(cn->metadata));
	json_kv_str(j, "number", cn->number);
	if (cn->has_out_of_band)
		json_kv_int(j, "out_of_band_amount", cn->out_of_band);
	else
		json_kv_null(j, "out_of_band_amount");
	/* its PDF (documents/answer.h); a preview has none: "" (the spec's pdf is a string) */
	json_kv_str(j, "pdf", cn->preview ? "" : documents_credit_note_pdf_url(r, cn->id));
	json_kv_int(j, "post_payment_amount", cn->post);
	json_kv_int(j, "pre_payment_amount", cn->pre);
	json_kv_raw(j, "pretax_credit_amounts", "[]", 2);
	json_kv_str_or_null(j, "reason", cn->reason);
	json_key(j, "refund");
	if (cn->refund && expands(r, prefix, "refund")) {
		if (refund_render_id(r, db, cn->refund, j) != DB_OK)
			return DB_ERR;
	} else if (cn->refund) {
		json_str(j, cn->refund);
	} else {
		json_nil(j);
	}
	json_key(j, "refunds");
	json_arr_open(j);
	if (cn->refunds) {
		/* the refunds linked, each with the part of it this credit note accounts for */
		json_t *arr = json_loads(cn->refunds, 0, NULL);
		size_t i;
		json_t *e;
		json_array_foreach(arr, i, e)
		{
			json_obj_open(j);
			json_kv_int(j, "amount_refunded",
				    json_integer_value(json_object_get(e, "amount_refunded")));
			json_kv_null(j, "payment_record_refund");
			json_kv_str(j, "refund", json_string_value(json_object_get(e, "refund")));
			json_kv_str(j, "type", "refund");
			json_obj_close(j);
		}
		json_decref(arr);
		if (!arr) {
			json_arr_close(j);
			return DB_ERR;
		}
	} else if (cn->refund) {
		json_obj_open(j);
		json_kv_int(j, "amount_refunded", cn->refund_amount);
		json_kv_null(j, "payment_record_refund");
		json_kv_str(j, "refund", cn->refund);
		json_kv_str(j, "type", "refund");
		json_obj_close(j);
	}
	json_arr_close(j);
	json_kv_raw_or_null(j, "shipping_cost", cn->shipping_cost);
	json_kv_str(j, "status", cn->status);
	/* the lines' taxes: summed per rate (and inclusiveness), in the order the lines take them;
	 * subtotal is the lines' amounts (exclusive taxes come on top, inclusive ones are inside)
	 */
	struct invoice_tax_entry sums[INVOICE_TAX_TOTALS_MAX];
	int n_sums = 0;
	/* shipping is in the total, not the subtotal (as an invoice's) */
	int64_t exc = 0, inc = 0, subtotal = cn->n_lines ? 0 : cn->total - cn->shipping;
	for (int i = 0; i < cn->n_lines; i++) {
		const struct cn_line *l = &cn->lines[i];
		if (__builtin_add_overflow(subtotal, l->amount, &subtotal))
			return DB_ERR;
		for (int k = 0; k < l->n_tax; k++) {
			const struct invoice_tax_entry *e = &l->tax[k];
			int m = 0;
			while (m < n_sums && (strcmp(sums[m].rate, e->rate) != 0 ||
					      sums[m].inclusive != e->inclusive))
				m++;
			if (m == n_sums) {
				if (n_sums == INVOICE_TAX_TOTALS_MAX)
					return DB_ERR;
				sums[n_sums++] =
				    (struct invoice_tax_entry){.inclusive = e->inclusive};
				str_copy(sums[m].rate, sizeof(sums[m].rate), e->rate);
			}
			if (__builtin_add_overflow(sums[m].amount, e->amount, &sums[m].amount) ||
			    __builtin_add_overflow(sums[m].taxable, e->taxable, &sums[m].taxable) ||
			    __builtin_add_overflow(e->inclusive ? inc : exc, e->amount,
						   e->inclusive ? &inc : &exc))
				return DB_ERR;
		}
	}
	int64_t sub_ex, total_ex;
	if (__builtin_sub_overflow(subtotal, inc, &sub_ex) ||
	    __builtin_sub_overflow(cn->total, exc, &total_ex) ||
	    __builtin_sub_overflow(total_ex, inc, &total_ex))
		return DB_ERR;
	json_kv_int(j, "subtotal", subtotal);
	json_kv_int(j, "subtotal_excluding_tax", sub_ex);
	json_key(j, "tax_amounts");
	invoice_tax_entries_render(sums, n_sums, false, j);
	json_kv_int(j, "total", cn->total);
	json_kv_int(j, "total_excluding_tax", total_ex);
	json_key(j, "total_taxes");
	invoice_tax_entries_render(sums, n_sums, true, j);
	json_kv_str(j, "type", cn->type);
	if (cn->voided_at)
		json_kv_int(j, "voided_at", cn->voided_at);
	else
		json_kv_null(j, "voided_at");
	json_obj_close(j);
	return 0;
}

static int cn_emit(struct req *r, struct db *db, const struct credit_note *cn, const char *type,
		   const char *prev, int64_t now)
{
	struct buf b;
	struct json j;
	buf_init(&b, 4u << 20);
	json_init(&j, &b);
	int rendered = cn_render(r, db, cn, NULL, &j);
	struct event_origin o = {r->request_id[0] ? r->request_id : NULL, r->idempotency_key,
				 r->livemode};
	int rc = rendered == 0 && !b.failed &&
			 event_append(db, r->merchant_id, &o, type, cn->id, b.data, b.len, prev,
				      now, NULL) == DB_OK
		     ? 0
		     : -1;
	buf_release(&b);
	return rc == 0 ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* ---- the plan: what a credit note of these parameters is, against the store as it is ---- */

/* One line of the invoice as a credit note sees it. */
struct inv_line_info {
	const char *id, *description;
	int64_t amount, quantity;
};

/* The invoice's lines (rendered as its own GET …/lines renders them). 0, or -1 with r->err. */
static int invoice_lines_read(struct req *r, struct db *db, const struct invoice *in,
			      struct inv_line_info *out, int *ret_n)
{
	struct buf b;
	buf_init(&b, 8u << 20);
	if (invoice_lines_json(r, db, in, &b) != 0 || b.failed) {
		buf_release(&b);
		return req_fail(r, ERR_API, NULL, NULL);
	}
	json_error_t err;
	json_t *arr = json_loadb(b.data, b.len, 0, &err);
	buf_release(&b);
	if (!arr || !json_is_array(arr)) {
		json_decref(arr);
		return req_fail(r, ERR_API, NULL, NULL);
	}
	int n = 0;
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
	{
		if (n == INVOICE_LINES_MAX)
			break;
		const char *id = json_string_value(json_object_get(v, "id"));
		const char *desc = json_string_value(json_object_get(v, "description"));
		json_t *q = json_object_get(v, "quantity");
		if (!id)
			continue;
		out[n].id = arena_strdup(&r->arena, id);
		out[n].description = desc ? arena_strdup(&r->arena, desc) : NULL;
		out[n].amount = json_integer_value(json_object_get(v, "amount"));
		out[n].quantity = json_is_integer(q) ? json_integer_value(q) : 1;
		/* a decimal quantity (an invoice item's quantity_decimal) has no whole unit to
		 * credit by quantity: such a line is credited by amount */
		const char *qd = json_string_value(json_object_get(v, "quantity_decimal"));
		if (qd && strchr(qd, '.'))
			out[n].quantity = 0;
		if (!out[n].id)
			break;
		n++;
	}
	json_decref(arr);
	*ret_n = n;
	return 0;
}

static int64_t line_credited(struct req *r, struct db *db, const char *invoice, const char *line)
{
	struct db_stmt *st = db_prepare(db, SQL_LINE_CREDITED);
	if (!st)
		return -1;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, line, -1);
	db_bind_text(st, 3, invoice, -1);
	int64_t v = db_step(st) == DB_ROW ? db_col_int64(st, 0) : -1;
	db_reset(st);
	return v;
}

/* Line i of cn credits `amount` of invoice line src, of which `done` was credited before (by
 * issued credit notes and earlier lines of this one): its share of each of the line's taxes
 * (billing_tax_share: the line's tax × amount / the line's amount, halves away from zero, the
 * share completing the line taking what is left of the tax), and as much of each tax's taxable
 * amount. 0, or -1 with r->err. */
static int line_taxes_plan(struct req *r, struct db *db, const struct invoice *in,
			   struct credit_note *cn, int i, const struct inv_line_info *src,
			   int64_t done, int64_t amount)
{
	struct cn_line *l = &cn->lines[i];
	struct invoice_tax_entry e[BILLING_TAX_RATES_MAX];
	int n = 0;
	bool own = false;
	l->n_tax = 0;
	l->tax = NULL;
	if (invoice_line_taxes_load(r, db, in->id, src->id, e, &n, &own) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (n == 0)
		return 0;
	l->tax = arena_alloc(&r->arena, (size_t)n * sizeof(*l->tax));
	struct db_stmt *st = NULL;
	if (!l->tax)
		return req_fail(r, ERR_API, NULL, NULL);
	for (int k = 0; k < n; k++) {
		st = db_prepare(db, SQL_LINE_TAX_CREDITED);
		if (!st)
			return req_fail(r, ERR_API, NULL, NULL);
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, src->id, -1);
		db_bind_int64(st, 3, k);
		db_bind_text(st, 4, in->id, -1);
		int rc = db_step(st);
		int64_t tax_before = rc == DB_ROW ? db_col_int64(st, 0) : 0;
		int64_t taxable_before = rc == DB_ROW ? db_col_int64(st, 1) : 0;
		db_reset(st);
		if (rc != DB_ROW)
			return req_fail(r, ERR_API, NULL, NULL);
		for (int m = 0; m < i; m++) {
			const struct cn_line *o = &cn->lines[m];
			if (!o->invoice_line_item || strcmp(o->invoice_line_item, src->id) != 0 ||
			    o->n_tax <= k)
				continue;
			if (__builtin_add_overflow(tax_before, o->tax[k].amount, &tax_before) ||
			    __builtin_add_overflow(taxable_before, o->tax[k].taxable,
						   &taxable_before))
				return req_fail(r, ERR_API, NULL, NULL);
		}
		struct invoice_tax_entry *t = &l->tax[k];
		*t = e[k];
		t->amount = t->taxable = 0;
		if (amount > 0 && (billing_tax_share(e[k].amount, amount, src->amount, done,
						     tax_before, &t->amount) != 0 ||
				   billing_tax_share(e[k].taxable, amount, src->amount, done,
						     taxable_before, &t->taxable) != 0))
			return req_fail(r, ERR_PARAM_BAD, "lines",
					"The taxes of invoice line item %s cannot be credited.",
					src->id);
	}
	l->n_tax = n;
	return 0;
}

/* Line i of cn credits `amount` of invoice line src, of which `done` was credited before: its
 * share of each discount the line took, as its taxes are shared (billing_tax_share: the
 * discount × amount / the line's amount, halves away from zero, the share completing the line
 * taking what is left of the discount after the issued credit notes and earlier lines of this
 * one), so a line credited whole credits exactly what it was discounted. 0, or -1 with r->err. */
static int line_discounts_plan(struct req *r, struct db *db, const struct invoice *in,
			       struct credit_note *cn, int i, const struct inv_line_info *src,
			       int64_t done, int64_t amount)
{
	struct cn_line *l = &cn->lines[i];
	struct discount_amount e[LINE_DISCOUNTS_MAX];
	int n = 0;
	l->n_disc = 0;
	l->disc = NULL;
	if (invoice_line_discounts_load(r, db, in->id, src->id, e, &n) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (n == 0 || amount <= 0)
		return 0;
	l->disc = arena_alloc(&r->arena, (size_t)n * sizeof(*l->disc));
	if (!l->disc)
		return req_fail(r, ERR_API, NULL, NULL);
	for (int k = 0; k < n; k++) {
		struct db_stmt *st = db_prepare(db, SQL_LINE_DISCOUNT_CREDITED);
		if (!st)
			return req_fail(r, ERR_API, NULL, NULL);
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, src->id, -1);
		db_bind_text(st, 3, e[k].discount, -1);
		db_bind_text(st, 4, in->id, -1);
		int rc = db_step(st);
		int64_t before = rc == DB_ROW ? db_col_int64(st, 0) : 0;
		db_reset(st);
		if (rc != DB_ROW)
			return req_fail(r, ERR_API, NULL, NULL);
		for (int m = 0; m < i; m++) {
			const struct cn_line *o = &cn->lines[m];
			if (!o->invoice_line_item || strcmp(o->invoice_line_item, src->id) != 0)
				continue;
			for (int q = 0; q < o->n_disc; q++)
				if (strcmp(o->disc[q].discount, e[k].discount) == 0 &&
				    __builtin_add_overflow(before, o->disc[q].amount, &before))
					return req_fail(r, ERR_API, NULL, NULL);
		}
		l->disc[k] = e[k];
		if (billing_tax_share(e[k].amount, amount, src->amount, done, before,
				      &l->disc[k].amount) != 0)
			return req_fail(r, ERR_PARAM_BAD, "lines",
					"The discounts of invoice line item %s cannot be credited.",
					src->id);
	}
	l->n_disc = n;
	return 0;
}

/* an amount parameter (absent: 0, not given) within 0..CN_AMOUNT_MAX; 0 or -1 with r->err */
static int amount_param(struct req *r, const char *name, int64_t *ret, bool *ret_given)
{
	int64_t v = 0;
	bool given = param_int(r, name, &v) == 1;
	if (given && (v < 0 || v > CN_AMOUNT_MAX))
		return req_fail(r, ERR_PARAM_BAD, name,
				"Invalid %s: it must be an integer from 0 to %lld.", name,
				(long long)CN_AMOUNT_MAX);
	*ret = given ? v : 0;
	if (ret_given)
		*ret_given = given;
	return 0;
}

/* Line i (`shown`) of type invoice_line_item: a line `ili` of the invoice credited by quantity
 * (has_qty: its unit amount × qty) or by *ret_amount, never beyond what is left of the line
 * after its issued credit notes. il / n_il: the invoice's lines, read on first use. Sets l; 0, or
 * -1 with r->err. */
static int invoice_line_plan(struct req *r, struct db *db, const struct invoice *in,
			     struct credit_note *cn, int i, const char *shown, const char *ili,
			     bool has_qty, int64_t qty, bool has_amount, bool custom_fields,
			     struct inv_line_info **il, int *n_il, int64_t *ret_amount)
{
	struct cn_line *l = &cn->lines[i];
	int64_t unit;
	if (!ili || !*ili)
		return req_fail(r, ERR_PARAM_MISSING, "lines", "%s[invoice_line_item]", shown);
	if (has_qty == has_amount)
		return req_fail(r, ERR_PARAM_BAD, "lines",
				"%s takes exactly one of quantity and amount.", shown);
	if (custom_fields)
		return req_fail(r, ERR_PARAM_BAD, "lines",
				"unit_amount and description are only valid for "
				"lines of type custom_line_item (%s).",
				shown);
	if (!*il) {
		*il = arena_alloc(&r->arena, INVOICE_LINES_MAX * sizeof(**il));
		if (!*il || invoice_lines_read(r, db, in, *il, n_il) != 0)
			return *il ? -1 : req_fail(r, ERR_API, NULL, NULL);
	}
	const struct inv_line_info *src = NULL;
	for (int k = 0; k < *n_il && !src; k++)
		if (strcmp((*il)[k].id, ili) == 0)
			src = &(*il)[k];
	if (!src)
		return req_fail(r, ERR_PARAM_BAD, "lines",
				"Invoice line item %s (%s) is not a line of invoice "
				"%s.",
				ili, shown, in->id);
	if (src->amount <= 0)
		return req_fail(r, ERR_PARAM_BAD, "lines",
				"Invoice line item %s is a credit of %lld: there is "
				"nothing on it to credit.",
				ili, (long long)src->amount);
	l->invoice_line_item = src->id;
	l->description = src->description;
	l->quantity = 1;
	if (has_qty) {
		/* by quantity: the line's unit amount times the quantity */
		int k = credit_note_line_by_quantity(src->amount, src->quantity, qty, &unit,
						     ret_amount);
		if (k == CREDIT_NOTE_NO_UNIT)
			return req_fail(r, ERR_PARAM_BAD, "lines",
					"Invoice line item %s has no whole unit amount: credit it "
					"by amount (%s).",
					ili, shown);
		if (k == CREDIT_NOTE_TOO_MUCH)
			return req_fail(r, ERR_PARAM_BAD, "lines",
					"%s[quantity] (%lld) is more than the quantity of invoice "
					"line item %s (%lld).",
					shown, (long long)qty, ili, (long long)src->quantity);
		if (k != 0)
			return req_fail(r, ERR_PARAM_BAD, "lines", "%s is too large.", shown);
		l->quantity = qty;
		l->unit_amount = unit;
		l->has_unit = true;
	}
	int64_t done = line_credited(r, db, in->id, src->id);
	int64_t after;
	if (done < 0)
		return req_fail(r, ERR_API, NULL, NULL);
	/* an earlier line of this credit note on the same line counts too */
	for (int k = 0; k < i; k++)
		if (cn->lines[k].invoice_line_item &&
		    strcmp(cn->lines[k].invoice_line_item, src->id) == 0 &&
		    __builtin_add_overflow(done, cn->lines[k].amount, &done))
			return req_fail(r, ERR_API, NULL, NULL);
	if (__builtin_add_overflow(done, *ret_amount, &after) || after > src->amount)
		return req_fail(r, ERR_PARAM_BAD, "lines",
				"The amount credited on invoice line item %s (%lld, "
				"with %lld credited before) cannot exceed the line's "
				"amount (%lld).",
				src->id, (long long)*ret_amount, (long long)done,
				(long long)src->amount);
	if (line_taxes_plan(r, db, in, cn, i, src, done, *ret_amount) != 0)
		return -1;
	return line_discounts_plan(r, db, in, cn, i, src, done, *ret_amount);
}

/* The lines[] of the request; sum their amounts and exclusive taxes into *ret_sum. 0, or -1 with
 * r->err. */
static int lines_plan(struct req *r, struct db *db, const struct invoice *in,
		      struct credit_note *cn, int64_t *ret_sum)
{
	*ret_sum = 0;
	cn->n_lines = 0;
	const struct form_node *node = param_node(r, "lines");
	if (!node)
		return 0;
	struct inv_line_info *il = NULL;
	int n_il = 0;
	int64_t sum = 0;
	for (const struct form_node *x = node->first_child; x; x = x->next) {
		int i = cn->n_lines;
		if (i == CN_LINES_MAX)
			return req_fail(r, ERR_PARAM_BAD, "lines",
					"A credit note takes at most %d lines.", CN_LINES_MAX);
		char path[64], shown[48];
		snprintf(shown, sizeof(shown), "lines[%d]", i);
#define P(k) (snprintf(path, sizeof(path), "lines.%d." k, i), path)
		const char *type = param_str(r, P("type"));
		if (!type || !*type)
			return req_fail(r, ERR_PARAM_MISSING, "lines", "%s[type]", shown);
		struct cn_line *l = &cn->lines[i];
		memset(l, 0, sizeof(*l));
		int64_t qty = 0, amount = 0, unit = 0;
		bool has_qty = param_int(r, P("quantity"), &qty) == 1;
		bool has_amount = param_int(r, P("amount"), &amount) == 1;
		bool has_unit = param_int(r, P("unit_amount"), &unit) == 1;
		const char *desc = param_str(r, P("description"));
		const char *ili = param_str(r, P("invoice_line_item"));
#undef P
		if (has_qty && (qty < 1 || qty > BILLING_QUANTITY_MAX))
			return req_fail(r, ERR_PARAM_BAD, "lines",
					"Invalid %s[quantity]: it must be from 1 to %d.", shown,
					BILLING_QUANTITY_MAX);
		if ((has_amount && (amount < 0 || amount > CN_AMOUNT_MAX)) ||
		    (has_unit && (unit < 0 || unit > CN_AMOUNT_MAX)))
			return req_fail(r, ERR_PARAM_BAD, "lines",
					"Invalid amount in %s: it must be from 0 to %lld.", shown,
					(long long)CN_AMOUNT_MAX);
		if (strcmp(type, "invoice_line_item") == 0) {
			if (invoice_line_plan(r, db, in, cn, i, shown, ili, has_qty, qty,
					      has_amount, has_unit || (desc && *desc), &il, &n_il,
					      &amount) != 0)
				return -1;
		} else if (strcmp(type, "custom_line_item") == 0) {
			if (!has_unit)
				return req_fail(r, ERR_PARAM_MISSING, "lines", "%s[unit_amount]",
						shown);
			if (has_amount || (ili && *ili))
				return req_fail(
				    r, ERR_PARAM_BAD, "lines",
				    "A custom_line_item takes unit_amount, quantity and "
				    "description (%s).",
				    shown);
			l->quantity = has_qty ? qty : 1;
			l->unit_amount = unit;
			l->has_unit = true;
			l->description = desc && *desc ? desc : NULL;
			if (__builtin_mul_overflow(unit, l->quantity, &amount) ||
			    amount > CN_AMOUNT_MAX)
				return req_fail(r, ERR_PARAM_BAD, "lines", "%s is too large.",
						shown);
		} else {
			return req_fail(r, ERR_PARAM_INVALID_ENUM, "lines",
					"Invalid %s[type]: must be one of invoice_line_item or "
					"custom_line_item.",
					shown);
		}
		l->type = strcmp(type, "invoice_line_item") == 0 ? "invoice_line_item"
								 : "custom_line_item";
		l->amount = amount;
		/* a line's exclusive taxes add to the total, its discounts are taken from it; its
		 * inclusive taxes are in its amount */
		int64_t exc = 0, inc = 0, disc = 0;
		if (line_tax_sums(l, &exc, &inc) != 0 || line_discount_sum(l, &disc) != 0 ||
		    __builtin_add_overflow(sum, amount, &sum) ||
		    __builtin_add_overflow(sum, exc, &sum) ||
		    __builtin_sub_overflow(sum, disc, &sum) || sum > CN_AMOUNT_MAX)
			return req_fail(r, ERR_PARAM_BAD, "lines",
					"The lines' total is too large.");
		cn->n_lines++;
	}
	*ret_sum = sum;
	return 0;
}

struct plan_ctx {
	struct req *r;
	struct credit_note cn;
	struct invoice in;
	const char *charge; /* the invoice's charge, for refund_amount */
	/* `refund`: an existing refund of that charge the credit note is linked to (its amount
	 * the refund_amount; no refund is made); NULL: none */
	const char *linked_refund;
	int64_t now;
};

static const char SQL_REFUND_FACTS[] =
    "SELECT charge, amount, status FROM refunds WHERE merchant_id = $1 AND id = $2";
/* the invoice's credit notes' links to refunds: refunds[] (JSON), else `refund` whole */
static const char SQL_REFUND_LINKS[] =
    "SELECT id, refund, refund_amount, refunds FROM credit_notes WHERE merchant_id = $1"
    " AND invoice = $2 ORDER BY id";

/* How much of refund `id` the invoice's credit notes already account for (a refund of its
 * charge can only be linked to its credit notes), and the first of them (NULL: none). A
 * credit note's own refund counts whole. DB_OK or < 0. */
static int refund_linked(struct req *r, struct db *db, const char *invoice, const char *id,
			 int64_t *ret_sum, const char **ret_first)
{
	struct db_stmt *st = db_prepare(db, SQL_REFUND_LINKS);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, invoice, -1);
	int64_t sum = 0;
	*ret_first = NULL;
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		int64_t part = 0;
		const char *links = db_col_text(st, 3, NULL);
		if (links) {
			json_t *arr = json_loads(links, 0, NULL);
			size_t i;
			json_t *e;
			json_array_foreach(arr, i, e)
			{
				if (str_eq(json_string_value(json_object_get(e, "refund")), id))
					part += json_integer_value(
					    json_object_get(e, "amount_refunded"));
			}
			json_decref(arr);
		} else if (str_eq(db_col_text(st, 1, NULL), id)) {
			part = db_col_int64(st, 2);
		}
		if (part > 0 && !*ret_first)
			*ret_first = col_text_dup(&r->arena, st, 0);
		/* each part is at most the refund's amount, and so the sum at most the charge */
		sum += part;
	}
	db_reset(st);
	*ret_sum = sum;
	return rc == DB_DONE ? DB_OK : rc < 0 ? rc : DB_ERR;
}

/* A refund of the invoice's charge ch_id, not failed or canceled (param: its name in errors).
 * *ret_amount its amount, *ret_left what the invoice's credit notes do not account for yet.
 * 0, or -1 with r->err. */
static int linked_refund_check(struct req *r, struct db *db, const char *id, const char *ch_id,
			       const char *invoice, const char *param, int64_t *ret_amount,
			       int64_t *ret_left)
{
	struct db_stmt *st = db_prepare(db, SQL_REFUND_FACTS);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	const char *charge = rc == DB_ROW ? col_text_dup(&r->arena, st, 0) : NULL;
	int64_t amount = rc == DB_ROW ? db_col_int64(st, 1) : 0;
	const char *status = rc == DB_ROW ? col_text_dup(&r->arena, st, 2) : NULL;
	db_reset(st);
	if (rc == DB_DONE)
		return req_fail_missing(r, "refund", id, param);
	if (rc != DB_ROW)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!ch_id || !charge || strcmp(charge, ch_id) != 0)
		return req_fail(r, ERR_PARAM_BAD, param,
				"The refund %s is not a refund of this invoice's charge.", id);
	if (str_eq(status, "failed") || str_eq(status, "canceled"))
		return req_fail(r, ERR_PARAM_BAD, param, "The refund %s is %s.", id, status);
	int64_t linked = 0;
	const char *other = NULL;
	if (refund_linked(r, db, invoice, id, &linked, &other) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (linked >= amount)
		return req_fail(r, ERR_PARAM_BAD, param,
				"The refund %s is already linked to credit note %s.", id,
				other ? other : "");
	*ret_amount = amount;
	*ret_left = amount - linked;
	return 0;
}

/* refunds[]: existing refunds of the invoice's charge ch_id linked to the credit note, each for
 * amount_refunded (by default what the invoice's other credit notes leave of it), instead of a
 * new refund. Into cn->refunds (JSON), *ret_total their sum, *ret_first the first one's id.
 * 0, or -1 with r->err. */
static int refunds_plan(struct req *r, struct db *db, const char *invoice, const char *ch_id,
			struct credit_note *cn, int64_t *ret_total, const char **ret_first)
{
	const struct form_node *node = param_node(r, "refunds");
	json_t *arr = json_array();
	int64_t total = 0;
	int i = 0, rc = 0;
	*ret_first = NULL;
	if (!arr)
		return req_fail(r, ERR_API, NULL, NULL);
	for (const struct form_node *x = node ? node->first_child : NULL; x; x = x->next, i++) {
		char path[64], shown[48];
#define P(k) (snprintf(path, sizeof(path), "refunds.%d." k, i), path)
		const char *type = param_str(r, P("type"));
		const char *id = param_str(r, P("refund"));
		int64_t amt = 0;
		bool has_amt = param_int(r, P("amount_refunded"), &amt) == 1;
#undef P
		snprintf(shown, sizeof(shown), "refunds[%d][refund]", i);
		if (type && !str_eq(type, "refund")) {
			rc = req_fail(r, ERR_PARAM_BAD, "refunds",
				      "Tender has no PaymentRecords: refunds[%d][type] can only "
				      "be refund.",
				      i);
			break;
		}
		if (!id || !*id) {
			rc = req_fail(r, ERR_PARAM_MISSING, shown, "%s", shown);
			break;
		}
		for (size_t k = 0; k < json_array_size(arr); k++)
			if (str_eq(json_string_value(
				       json_object_get(json_array_get(arr, k), "refund")),
				   id))
				rc = req_fail(r, ERR_PARAM_BAD, shown,
					      "The refund %s is named twice.", id);
		int64_t whole = 0, left = 0;
		if (rc != 0 || (rc = linked_refund_check(r, db, id, ch_id, invoice, shown, &whole,
							 &left)) != 0)
			break;
		if (!has_amt)
			amt = left;
		if (amt <= 0 || amt > left) {
			rc = req_fail(r, ERR_PARAM_BAD, "refunds",
				      "refunds[%d][amount_refunded] (%lld) must be more than 0 and "
				      "at most what is left of refund %s to link (%lld).",
				      i, (long long)amt, id, (long long)left);
			break;
		}
		if (__builtin_add_overflow(total, amt, &total)) {
			rc = req_fail(r, ERR_PARAM_BAD, "refunds", "The amounts are too large.");
			break;
		}
		if (!*ret_first)
			*ret_first = id;
		json_array_append_new(
		    arr, json_pack("{s:I, s:s}", "amount_refunded", (json_int_t)amt, "refund", id));
	}
	if (rc == 0) {
		char *text = json_dumps(arr, JSON_COMPACT);
		cn->refunds = text ? arena_strdup(&r->arena, text) : NULL;
		free(text);
		if (!cn->refunds)
			rc = req_fail(r, ERR_API, NULL, NULL);
	}
	json_decref(arr);
	*ret_total = total;
	return rc;
}

/* Fills x->cn (no ids) and x->in from the request and the store, refusing as Stripe refuses.
 * Reads only. 0, or -1 with r->err. */
static int plan(struct db *db, struct plan_ctx *x)
{
	struct req *r = x->r;
	struct credit_note *cn = &x->cn;
	struct invoice *in = &x->in;
	const char *inv_id = param_str(r, "invoice");
	memset(cn, 0, sizeof(*cn));
	x->charge = NULL;
	int rc = invoice_load(r, db, inv_id, in);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "invoice", inv_id, "invoice");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	bool unpaid = str_eq(in->status, "open") || str_eq(in->status, "uncollectible");
	if (!unpaid && !str_eq(in->status, "paid"))
		return req_fail(
		    r, ERR_INVALID_STATE, "invoice",
		    "Credit notes can only be issued for finalized invoices that are open "
		    "or paid; invoice %s is %s.",
		    in->id, in->status);
	if (billing_now(r, db, in->test_clock, &x->now) != 0)
		return -1;
	cn->lines = arena_alloc(&r->arena, CN_LINES_MAX * sizeof(*cn->lines));
	if (!cn->lines)
		return req_fail(r, ERR_API, NULL, NULL);
	int64_t sum = 0, amount = 0, refund_amount, credit_amount, oob;
	bool amount_given, oob_given;
	bool refund_given = false;
	x->linked_refund = NULL;
	if (lines_plan(r, db, in, cn, &sum) != 0 ||
	    amount_param(r, "amount", &amount, &amount_given) != 0 ||
	    amount_param(r, "refund_amount", &refund_amount, &refund_given) != 0 ||
	    amount_param(r, "credit_amount", &credit_amount, NULL) != 0 ||
	    amount_param(r, "out_of_band_amount", &oob, &oob_given) != 0)
		return -1;
	/* shipping_cost[shipping_rate]: the invoice's shipping, credited whole and once */
	int64_t ship = 0;
	if (param_present(r, "shipping_cost")) {
		const char *rate = param_str(r, "shipping_cost.shipping_rate");
		const char *sc = invoice_setting(r, in, "shipping_cost");
		json_t *o = sc ? json_loads(sc, 0, NULL) : NULL;
		const char *own = json_string_value(json_object_get(o, "shipping_rate"));
		bool same = own && rate && strcmp(own, rate) == 0;
		json_decref(o);
		if (!same)
			return req_fail(r, ERR_PARAM_BAD, "shipping_cost[shipping_rate]",
					"The shipping rate must be invoice %s's own shipping "
					"rate.",
					in->id);
		struct db_stmt *sst = db_prepare(db, SQL_SHIPPING_CREDITED);
		if (!sst)
			return req_fail(r, ERR_API, NULL, NULL);
		db_bind_text(sst, 1, r->merchant_id, -1);
		db_bind_text(sst, 2, in->id, -1);
		int src = db_step(sst);
		const char *earlier = src == DB_ROW ? col_text_dup(&r->arena, sst, 0) : NULL;
		db_reset(sst);
		if (src != DB_ROW && src != DB_DONE)
			return req_fail(r, ERR_API, NULL, NULL);
		if (earlier)
			return req_fail(r, ERR_PARAM_BAD, "shipping_cost",
					"Invoice %s's shipping was credited already, by credit "
					"note %s.",
					in->id, earlier);
		ship = invoice_shipping_amount(in);
		cn->shipping_cost = sc;
		cn->shipping = ship;
	}
	if (!param_node(r, "lines") && !amount_given && !cn->shipping_cost)
		return req_fail(r, ERR_PARAM_MISSING, "amount",
				"amount or lines (one of amount, lines or shipping_cost must be "
				"provided)");
	if (param_node(r, "lines") && amount_given && amount != sum + ship)
		return req_fail(
		    r, ERR_PARAM_BAD, "amount",
		    "The amount (%lld) must equal the credit note's total: the sum of the lines' "
		    "amounts less their discounts, with their exclusive taxes and the shipping "
		    "credited (%lld).",
		    (long long)amount, (long long)(sum + ship));
	if (!param_node(r, "lines") && amount_given && amount < ship)
		return req_fail(r, ERR_PARAM_BAD, "amount",
				"The amount (%lld) must include the shipping credited (%lld).",
				(long long)amount, (long long)ship);
	int64_t total = param_node(r, "lines") ? sum + ship : amount_given ? amount : ship;
	if (total <= 0)
		return req_fail(r, ERR_PARAM_BAD, "amount",
				"A credit note's total must be greater than 0.");
	/* the invoice's charge (none: paid without one, or not paid) */
	struct charge ch;
	bool has_charge = false;
	if (in->payment_intent && in->amount_paid > 0) {
		struct payment_intent pi;
		rc = pi_load(db, &r->arena, r->merchant_id, in->payment_intent, &pi);
		if (rc != DB_OK && rc != DB_NOTFOUND)
			return req_fail(r, ERR_API, NULL, NULL);
		if (rc == DB_OK && str_eq(pi.status, "succeeded") && pi.latest_charge) {
			if (charge_load(db, &r->arena, r->merchant_id, pi.latest_charge, &ch) !=
			    DB_OK)
				return req_fail(r, ERR_API, NULL, NULL);
			has_charge = true;
		}
	}
	/* first what is still due, then (only) what was paid and not yet credited: earlier credit
	 * notes' post-payment amounts, and (as Stripe counts them) refunds of the invoice's charge
	 * made through POST /v1/refunds rather than by its credit notes */
	int64_t pre_before = 0, post_before = 0, max = 0;
	if (credit_notes_invoice_amounts(r, db, in->id, &pre_before, &post_before) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (has_charge) {
		struct db_stmt *st = db_prepare(db, SQL_REFUNDED);
		if (!st)
			return req_fail(r, ERR_API, NULL, NULL);
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, in->id, -1);
		int64_t by_notes = db_step(st) == DB_ROW ? db_col_int64(st, 0) : -1;
		db_reset(st);
		if (by_notes < 0)
			return req_fail(r, ERR_API, NULL, NULL);
		int64_t outside = ch.amount_refunded - by_notes; /* both bounded by the charge */
		const char *link = param_str(r, "refund");
		if (param_node(r, "refunds")) {
			/* as `refund`, for several refunds or parts of them */
			int64_t linked = 0;
			const char *first = NULL;
			if (refunds_plan(r, db, in->id, ch.id, cn, &linked, &first) != 0)
				return -1;
			if (refund_given && refund_amount != linked)
				return req_fail(r, ERR_PARAM_BAD, "refund_amount",
						"refund_amount (%lld) must be the sum of the "
						"refunds linked (%lld).",
						(long long)refund_amount, (long long)linked);
			refund_amount = linked;
			outside -= linked;
			x->linked_refund = first;
		} else if (link && *link) {
			/* the refund linked is this credit note's: what it refunded is its
			 * refund_amount, no longer a refund made outside the credit notes */
			int64_t linked = 0, left = 0;
			if (linked_refund_check(r, db, link, ch.id, in->id, "refund", &linked,
						&left) != 0)
				return -1;
			/* `refund` links a refund whole: none of it may be linked already */
			if (left != linked)
				return req_fail(
				    r, ERR_PARAM_BAD, "refund",
				    "Part of refund %s is linked to another credit note "
				    "already: link the rest with refunds[].",
				    link);
			if (refund_given && refund_amount != linked)
				return req_fail(r, ERR_PARAM_BAD, "refund_amount",
						"refund_amount (%lld) must be the amount of the "
						"refund linked, %s (%lld).",
						(long long)refund_amount, link, (long long)linked);
			refund_amount = linked;
			outside -= linked;
			x->linked_refund = link;
		}
		if (outside > 0 && __builtin_add_overflow(post_before, outside, &post_before))
			return req_fail(r, ERR_API, NULL, NULL);
	}
	const char *link = param_str(r, "refund");
	if (link && *link && param_node(r, "refunds"))
		return req_fail(r, ERR_PARAM_BAD, "refunds",
				"You may only specify one of these parameters: refund, refunds.");
	if (((link && *link) || param_node(r, "refunds")) && !has_charge)
		return req_fail(r, ERR_PARAM_BAD, link && *link ? "refund" : "refunds",
				"Invoice %s was paid without a charge: it has no refund to link.",
				in->id);
	rc = credit_note_split(total, unpaid, in->amount_due, in->amount_paid, post_before,
			       &cn->pre, &cn->post, &max);
	if (rc == CREDIT_NOTE_TOO_MUCH)
		return req_fail(r, ERR_PARAM_BAD, param_node(r, "lines") ? "lines" : "amount",
				"The credit note's total (%lld) is greater than what invoice %s "
				"can still be credited (%lld): what it still asks for, and what "
				"was paid less earlier credit notes and refunds.",
				(long long)total, in->id, (long long)max);
	if (rc != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	rc = credit_note_parts_check(cn->post, refund_amount, credit_amount, oob);
	if (rc == CREDIT_NOTE_MISMATCH && cn->post)
		return req_fail(r, ERR_PARAM_BAD, "refund_amount",
				"The sum of refund_amount (%lld), credit_amount (%lld) and "
				"out_of_band_amount (%lld) must equal the credit note's "
				"post-payment amount (%lld).",
				(long long)refund_amount, (long long)credit_amount, (long long)oob,
				(long long)cn->post);
	if (rc == CREDIT_NOTE_MISMATCH)
		return req_fail(r, ERR_PARAM_BAD, "credit_amount",
				"refund_amount, credit_amount and out_of_band_amount apply to what "
				"was paid; this credit note only lowers what invoice %s still asks "
				"for.",
				in->id);
	if (rc != 0)
		return req_fail(r, ERR_PARAM_BAD, "refund_amount", "The amounts are too large.");
	if (refund_amount > 0 && !x->linked_refund) {
		if (!has_charge)
			return req_fail(r, ERR_PARAM_BAD, "refund_amount",
					"Invoice %s was paid without a charge: there is nothing to "
					"refund. Use credit_amount or out_of_band_amount.",
					in->id);
		int64_t left = ch.amount_captured - ch.amount_refunded;
		if (refund_amount > left)
			return req_fail(
			    r, ERR_REFUND_EXCEEDS, "refund_amount",
			    "Refund amount (%lld %s) is greater than unrefunded amount on "
			    "charge (%lld %s)",
			    (long long)refund_amount, ch.currency, (long long)left, ch.currency);
		x->charge = arena_strdup(&r->arena, ch.id);
		if (!x->charge)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	/* the number: the invoice's, then its count of credit notes */
	struct db_stmt *st = db_prepare(db, SQL_COUNT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, in->id, -1);
	int64_t count = db_step(st) == DB_ROW ? db_col_int64(st, 0) : -1;
	db_reset(st);
	if (count < 0)
		return req_fail(r, ERR_API, NULL, NULL);
	cn->number = arena_printf(&r->arena, "%s-CN-%02lld", in->number ? in->number : in->id,
				  (long long)count + 1);
	cn->created = cn->effective_at = x->now;
	/* Stripe: the same as created unless given; it replaces the PDF's date of issue */
	int64_t eff;
	if (param_int(r, "effective_at", &eff) == 1) {
		if (eff <= 0)
			return req_fail(r, ERR_PARAM_BAD, "effective_at",
					"Invalid effective_at: %lld.", (long long)eff);
		cn->effective_at = eff;
	}
	cn->invoice = in->id;
	cn->customer = in->customer;
	str_copy(cn->currency, sizeof(cn->currency), in->currency);
	cn->type = cn->post > 0 ? "post_payment" : "pre_payment";
	cn->status = "issued";
	cn->total = total;
	cn->refund_amount = refund_amount;
	cn->credit_amount = credit_amount;
	cn->out_of_band = oob;
	cn->has_out_of_band = oob_given;
	const char *reason = param_str(r, "reason");
	const char *memo = param_str(r, "memo");
	cn->reason = reason && *reason ? reason : NULL;
	cn->memo = memo && *memo ? memo : NULL;
	cn->metadata = "{}";
	if (!cn->number || metadata_apply(r, NULL, "metadata", &cn->metadata) != 0)
		return r->err.set ? -1 : req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

/* ---- create ---- */

/* Inside the write: invoice in's unpaid PaymentIntent follows what it still asks for (`due`):
 * an intent that can still be confirmed takes the new amount; one waiting for 3-D Secure (for
 * the old amount) is abandoned, the next attempt makes a new one; nothing left to pay cancels
 * it. 0, or -1 with r->err. */
static int intent_follow(struct req *r, struct db *db, const struct invoice *in, int64_t due)
{
	if (!in->payment_intent)
		return 0;
	struct payment_intent pi;
	int rc = pi_load(db, &r->arena, r->merchant_id, in->payment_intent, &pi);
	if (rc == DB_NOTFOUND)
		return 0;
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (str_eq(pi.status, "processing"))
		return req_fail(r, ERR_INVALID_STATE, "invoice",
				"A payment of invoice %s is being processed; try again when it is "
				"done.",
				in->id);
	if (str_eq(pi.status, "requires_action"))
		return payment_intent_abandon(r, db, pi.id);
	if (!str_eq(pi.status, "requires_payment_method") &&
	    !str_eq(pi.status, "requires_confirmation"))
		return 0;
	if (due > 0) {
		pi.amount = due;
		return pi_update(db, r->merchant_id, &pi) == DB_OK
			   ? 0
			   : req_fail(r, ERR_API, NULL, NULL);
	}
	pi.status = "canceled";
	pi.cancellation_reason = "void_invoice";
	pi.canceled_at = r->now;
	if (pi_update(db, r->merchant_id, &pi) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	size_t len = 0;
	const char *js = pi_json(db, &r->arena, r->merchant_id, r->livemode, &pi, &len);
	if (!js)
		return req_fail(r, ERR_API, NULL, NULL);
	return payments_event(r, db, "payment_intent.canceled", pi.id, js, len, NULL);
}

static int cn_insert(struct req *r, struct db *db, const struct credit_note *cn)
{
	struct db_stmt *st = db_prepare(db, SQL_INSERT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, cn->id, -1);
	db_bind_int64(st, 3, cn->created);
	db_bind_text(st, 4, cn->invoice, -1);
	db_bind_text(st, 5, cn->customer, -1);
	db_bind_text(st, 6, cn->currency, -1);
	db_bind_text(st, 7, cn->number, -1);
	db_bind_text(st, 8, cn->type, -1);
	db_bind_text(st, 9, cn->status, -1);
	db_bind_int64(st, 10, cn->total);
	db_bind_int64(st, 11, cn->pre);
	db_bind_int64(st, 12, cn->post);
	db_bind_int64(st, 13, cn->refund_amount);
	db_bind_int64(st, 14, cn->credit_amount);
	if (cn->has_out_of_band)
		db_bind_int64(st, 15, cn->out_of_band);
	else
		db_bind_null(st, 15);
	db_bind_text(st, 16, cn->refund, -1);
	db_bind_text(st, 17, cn->cbt, -1);
	db_bind_text(st, 18, cn->reason, -1);
	db_bind_text(st, 19, cn->memo, -1);
	db_bind_text(st, 20, cn->metadata, -1);
	db_bind_int64(st, 21, cn->effective_at);
	db_bind_int64_or_null(st, 22, cn->voided_at);
	db_bind_text(st, 23, cn->shipping_cost, -1);
	db_bind_text(st, 24, cn->refunds, -1);
	int rc = db_step_done(st);
	for (int i = 0; rc == DB_OK && i < cn->n_lines; i++) {
		const struct cn_line *l = &cn->lines[i];
		st = db_prepare(db, SQL_INSERT_LINE);
		if (!st)
			return DB_ERR;
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, cn->id, -1);
		db_bind_int64(st, 3, i);
		db_bind_text(st, 4, l->id, -1);
		db_bind_text(st, 5, l->type, -1);
		db_bind_text(st, 6, l->invoice_line_item, -1);
		db_bind_int64(st, 7, l->amount);
		db_bind_int64_or_null(st, 8, l->quantity);
		if (l->has_unit)
			db_bind_int64(st, 9, l->unit_amount);
		else
			db_bind_null(st, 9);
		db_bind_text(st, 10, l->description, -1);
		rc = db_step_done(st);
		for (int k = 0; rc == DB_OK && k < l->n_tax; k++) {
			const struct invoice_tax_entry *e = &l->tax[k];
			st = db_prepare(db, SQL_INSERT_LINE_TAX);
			if (!st)
				return DB_ERR;
			db_bind_text(st, 1, r->merchant_id, -1);
			db_bind_text(st, 2, cn->id, -1);
			db_bind_int64(st, 3, i);
			db_bind_int64(st, 4, k);
			db_bind_text(st, 5, l->invoice_line_item, -1);
			db_bind_text(st, 6, e->rate, -1);
			db_bind_int64(st, 7, e->inclusive);
			db_bind_int64(st, 8, e->amount);
			db_bind_int64(st, 9, e->taxable);
			rc = db_step_done(st);
		}
		for (int k = 0; rc == DB_OK && k < l->n_disc; k++) {
			st = db_prepare(db, SQL_INSERT_LINE_DISCOUNT);
			if (!st)
				return DB_ERR;
			db_bind_text(st, 1, r->merchant_id, -1);
			db_bind_text(st, 2, cn->id, -1);
			db_bind_int64(st, 3, i);
			db_bind_int64(st, 4, k);
			db_bind_text(st, 5, l->invoice_line_item, -1);
			db_bind_text(st, 6, l->disc[k].discount, -1);
			db_bind_int64(st, 7, l->disc[k].amount);
			rc = db_step_done(st);
		}
	}
	return rc;
}

/* a credit note's reason as a refund's (Stripe's refund reasons are fewer) */
static const char *refund_reason(const char *reason)
{
	if (str_eq(reason, "duplicate") || str_eq(reason, "fraudulent"))
		return reason;
	return reason ? "requested_by_customer" : NULL;
}

static int create_fn(struct db *db, void *p)
{
	struct plan_ctx *x = p;
	struct req *r = x->r;
	if (plan(db, x) != 0)
		return -1;
	struct credit_note *cn = &x->cn;
	struct invoice *in = &x->in;
	id_new_at(cn->id, "cn_", x->now);
	for (int i = 0; i < cn->n_lines; i++)
		id_new_at(cn->lines[i].id, "cnli_", x->now);
	struct event_origin o = {r->request_id[0] ? r->request_id : NULL, r->idempotency_key,
				 r->livemode};
	bool paid_now = false;
	if (cn->pre > 0) {
		/* what the invoice still asks for is lowered (its amount_due: amount_remaining is
		 * amount_due − amount_paid); nothing left to pay: it is paid, as on Stripe */
		in->amount_due -= cn->pre; /* pre ≤ amount_due − amount_paid */
		int64_t due = in->amount_due - in->amount_paid;
		if (intent_follow(r, db, in, due) != 0)
			return -1;
		if (due == 0) {
			paid_now = true;
			in->status = "paid";
			in->paid_at = x->now;
			in->next_payment_attempt = 0;
			in->auto_advance = false;
		}
	}
	if (x->linked_refund) {
		cn->refund = x->linked_refund; /* made already: linked, not made again */
	} else if (cn->refund_amount > 0) {
		char re[ID_MAX];
		if (refund_for_credit_note(r, db, x->charge, cn->refund_amount,
					   refund_reason(cn->reason), re) != 0)
			return -1;
		cn->refund = arena_strdup(&r->arena, re);
	}
	if (cn->credit_amount > 0) {
		char cbt[ID_MAX];
		int rc = customer_balance_credit_note(db, r->merchant_id, in->customer,
						      in->currency, cn->id, in->id,
						      -cn->credit_amount, x->now, &o, cbt);
		if (rc == CUSTOMER_BALANCE_OTHER_CURRENCY)
			return req_fail(
			    r, ERR_INVALID_CURRENCY, "credit_amount",
			    "The customer's balance is in another currency than invoice "
			    "%s (%s): it cannot take this credit.",
			    in->id, in->currency);
		if (rc == CUSTOMER_BALANCE_NO_CUSTOMER)
			return req_fail(r, ERR_PARAM_BAD, "credit_amount",
					"The invoice's customer %s was deleted: its balance cannot "
					"be credited.",
					in->customer);
		if (rc != 0)
			return req_fail(r, ERR_API, NULL, NULL);
		cn->cbt = arena_strdup(&r->arena, cbt);
	}
	if ((cn->refund_amount > 0 && !cn->refund) || (cn->credit_amount > 0 && !cn->cbt))
		return req_fail(r, ERR_API, NULL, NULL);
	if (cn_insert(r, db, cn) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (invoice_update(r, db, in) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (cn_emit(r, db, cn, "credit_note.created", NULL, x->now) != 0 ||
	    invoice_emit(r, db, in, "invoice.updated") != 0)
		return -1;
	if (paid_now && (invoice_emit(r, db, in, "invoice.paid") != 0 ||
			 subscription_invoice_paid(r, db, in) != 0))
		return -1;
	/* one paid by bank transfer: a new intent for what it now asks for (invoices.c) */
	if (!paid_now && invoice_cash_collect(r, db, in) != 0)
		return -1;
	return cn_render(r, db, cn, "", req_json(r)) == 0 ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static int h_create(struct req *r)
{
	struct plan_ctx x;
	memset(&x, 0, sizeof(x));
	x.r = r;
	return req_write(r, create_fn, &x);
}

/* ---- preview: the same plan, in a read: nothing is written ---- */

static int preview_fn(struct db *db, void *p)
{
	struct plan_ctx *x = p;
	if (plan(db, x) != 0)
		return -1;
	struct credit_note *cn = &x->cn;
	/* ids as create would make them; none of them is stored */
	cn->preview = true;
	id_new_at(cn->id, "cn_", x->now);
	for (int i = 0; i < cn->n_lines; i++)
		id_new_at(cn->lines[i].id, "cnli_", x->now);
	/* the refund and balance transaction it would make do not exist yet; a refund linked
	 * does */
	cn->refund = x->linked_refund;
	return cn_render(x->r, db, cn, "", req_json(x->r)) == 0
		   ? 0
		   : req_fail(x->r, ERR_API, NULL, NULL);
}

static int h_preview(struct req *r)
{
	struct plan_ctx x;
	memset(&x, 0, sizeof(x));
	x.r = r;
	return req_read(r, preview_fn, &x);
}

/* Lines paged by limit and starting_after / ending_before over their order. */
static int lines_respond(struct req *r, struct db *db, const struct credit_note *cn,
			 const char *url)
{
	int64_t limit = 10;
	if (param_int(r, "limit", &limit) == 1 && (limit < 1 || limit > 100))
		return req_fail(r, ERR_LIST_LIMIT, "limit", "%lld", (long long)limit);
	const char *after = param_str(r, "starting_after");
	const char *before = param_str(r, "ending_before");
	int from = 0, to = cn->n_lines;
	for (int i = 0; i < cn->n_lines; i++) {
		if (after && strcmp(cn->lines[i].id, after) == 0)
			from = i + 1;
		if (before && strcmp(cn->lines[i].id, before) == 0)
			to = i;
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
		if (line_render(r, db, &cn->lines[i], j) != 0)
			return req_fail(r, ERR_API, NULL, NULL);
	json_arr_close(j);
	json_kv_bool(j, "has_more", more);
	json_kv_str(j, "url", url);
	json_obj_close(j);
	return 0;
}

static int preview_lines_fn(struct db *db, void *p)
{
	struct plan_ctx *x = p;
	if (plan(db, x) != 0)
		return -1;
	for (int i = 0; i < x->cn.n_lines; i++)
		id_new_at(x->cn.lines[i].id, "cnli_", x->now);
	return lines_respond(x->r, db, &x->cn, "/v1/credit_notes/preview/lines");
}

static int h_preview_lines(struct req *r)
{
	struct plan_ctx x;
	memset(&x, 0, sizeof(x));
	x.r = r;
	return req_read(r, preview_lines_fn, &x);
}

/* ---- retrieve, update, void, lines ---- */

struct id_ctx {
	struct req *r;
	const char *id;
	struct credit_note cn;
};

static int load_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	int rc = cn_load(x->r, db, x->id, &x->cn);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "credit_note", x->id, "id");
	return rc == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

static int retrieve_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	if (load_fn(db, p) != 0)
		return -1;
	return cn_render(x->r, db, &x->cn, "", req_json(x->r)) == 0
		   ? 0
		   : req_fail(x->r, ERR_API, NULL, NULL);
}

static int h_retrieve(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, retrieve_fn, &x);
}

static int lines_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	if (load_fn(db, p) != 0)
		return -1;
	char url[96];
	snprintf(url, sizeof(url), "/v1/credit_notes/%s/lines", x->cn.id);
	return lines_respond(x->r, db, &x->cn, url);
}

static int h_lines(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, lines_fn, &x);
}

static int update_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	struct req *r = x->r;
	if (load_fn(db, p) != 0)
		return -1;
	struct credit_note *cn = &x->cn;
	struct json_prev {
		const char *memo, *metadata;
	} old = {cn->memo, cn->metadata};
	cn->memo = str_update(r, "memo", cn->memo);
	if (metadata_apply(r, cn->metadata, "metadata", &cn->metadata) != 0)
		return -1;
	struct db_stmt *st = db_prepare(db, SQL_UPDATE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, cn->id, -1);
	db_bind_text(st, 3, cn->memo, -1);
	db_bind_text(st, 4, cn->metadata, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* previous_attributes: the fields that changed, as they were */
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 20);
	json_init(&j, &b);
	json_obj_open(&j);
	if (!(old.memo == cn->memo || str_eq(old.memo, cn->memo)))
		json_kv_str_or_null(&j, "memo", old.memo);
	if (strcmp(old.metadata, cn->metadata) != 0)
		json_kv_raw(&j, "metadata", old.metadata, strlen(old.metadata));
	json_obj_close(&j);
	const char *prev = b.failed ? NULL : arena_strndup(&r->arena, b.data, b.len);
	buf_release(&b);
	struct invoice in;
	int64_t now;
	if (!prev || invoice_load(r, db, cn->invoice, &in) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (billing_now(r, db, in.test_clock, &now) != 0 ||
	    cn_emit(r, db, cn, "credit_note.updated", prev, now) != 0)
		return -1;
	return cn_render(r, db, cn, "", req_json(r)) == 0 ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static int h_update(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, update_fn, &x);
}

static int void_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	struct req *r = x->r;
	if (load_fn(db, p) != 0)
		return -1;
	struct credit_note *cn = &x->cn;
	if (!str_eq(cn->status, "issued"))
		return req_fail(r, ERR_INVALID_STATE, NULL, "Credit note %s is already void.",
				cn->id);
	if (cn->refund)
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"Credit note %s refunded %lld through refund %s: a credit note "
				"with a refund cannot be voided.",
				cn->id, (long long)cn->refund_amount, cn->refund);
	struct invoice in;
	if (invoice_load(r, db, cn->invoice, &in) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	int64_t now;
	if (billing_now(r, db, in.test_clock, &now) != 0)
		return -1;
	if (cn->pre > 0) {
		/* what it lowered is asked for again: only while the invoice is still unpaid */
		if (!str_eq(in.status, "open") && !str_eq(in.status, "uncollectible"))
			return req_fail(
			    r, ERR_INVALID_STATE, NULL,
			    "Credit note %s lowered what invoice %s asked for, which is "
			    "now %s: it can only be voided while the invoice is open.",
			    cn->id, in.id, in.status);
		if (__builtin_add_overflow(in.amount_due, cn->pre, &in.amount_due))
			return req_fail(r, ERR_API, NULL, NULL);
		if (intent_follow(r, db, &in, in.amount_due - in.amount_paid) != 0)
			return -1;
	}
	if (cn->credit_amount > 0) {
		struct event_origin o = {r->request_id[0] ? r->request_id : NULL,
					 r->idempotency_key, r->livemode};
		char cbt[ID_MAX];
		int rc =
		    customer_balance_credit_note(db, r->merchant_id, in.customer, cn->currency,
						 cn->id, in.id, cn->credit_amount, now, &o, cbt);
		if (rc == CUSTOMER_BALANCE_OTHER_CURRENCY)
			return req_fail(r, ERR_INVALID_STATE, NULL,
					"The customer's balance cannot take back the credit of "
					"credit note %s.",
					cn->id);
		if (rc != 0 && rc != CUSTOMER_BALANCE_NO_CUSTOMER)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	struct db_stmt *st = db_prepare(db, SQL_VOID);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, cn->id, -1);
	db_bind_int64(st, 3, now);
	int64_t n = 0;
	if (db_step_changes(st, &n) != DB_OK || n != 1)
		return req_fail(r, ERR_API, NULL, NULL);
	cn->status = "void";
	cn->voided_at = now;
	if (invoice_update(r, db, &in) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (cn_emit(r, db, cn, "credit_note.voided", "{\"status\":\"issued\",\"voided_at\":null}",
		    now) != 0 ||
	    invoice_emit(r, db, &in, "invoice.updated") != 0)
		return -1;
	/* one paid by bank transfer: a new intent for what it asks for again (invoices.c) */
	if (cn->pre > 0 && invoice_cash_collect(r, db, &in) != 0)
		return -1;
	return cn_render(r, db, cn, "", req_json(r)) == 0 ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static int h_void(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, void_fn, &x);
}

/* ---- list ---- */

static const char SQL_CURSOR[] =
    "SELECT created FROM credit_notes WHERE merchant_id = $1 AND id = $2";
/* INVOICE and CUSTOMER: the two filters' terms; each is also a list_narrow (list.h) with the
 * plain `col = $n`, answered from credit_notes_invoice / credit_notes_customer */
#define LIST_WHERE(INVOICE, CUSTOMER)                                                              \
	"SELECT id FROM credit_notes WHERE merchant_id = $1 AND " INVOICE " AND " CUSTOMER         \
	" AND id > $2 AND id < $3"
#define ANY_INVOICE "($5 IS NULL OR invoice = $5)"
#define ANY_CUSTOMER "($6 IS NULL OR customer = $6)"
static const char SQL_DESC[] = LIST_WHERE(ANY_INVOICE, ANY_CUSTOMER) " ORDER BY id DESC LIMIT $4";
static const char SQL_ASC[] = LIST_WHERE(ANY_INVOICE, ANY_CUSTOMER) " ORDER BY id ASC LIMIT $4";
static const char SQL_INVOICE_DESC[] =
    LIST_WHERE("invoice = $5", ANY_CUSTOMER) " ORDER BY id DESC LIMIT $4";
static const char SQL_INVOICE_ASC[] =
    LIST_WHERE("invoice = $5", ANY_CUSTOMER) " ORDER BY id ASC LIMIT $4";
static const char SQL_CUSTOMER_DESC[] =
    LIST_WHERE(ANY_INVOICE, "customer = $6") " ORDER BY id DESC LIMIT $4";
static const char SQL_CUSTOMER_ASC[] =
    LIST_WHERE(ANY_INVOICE, "customer = $6") " ORDER BY id ASC LIMIT $4";

static int list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	list_bind_filter(r, st, first, "invoice");
	list_bind_filter(r, st, first + 1, "customer");
	return 0;
}

static int list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	struct credit_note cn;
	int rc = cn_load(r, db, id, &cn);
	if (rc != DB_OK)
		return rc;
	return cn_render(r, db, &cn, "data.", j) == 0 ? DB_OK : DB_ERR;
}

static int h_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/credit_notes",
	    .object_name = "credit_note",
	    .id_prefix = "cn_",
	    .sql_cursor = SQL_CURSOR,
	    .sql_desc = SQL_DESC,
	    .sql_asc = SQL_ASC,
	    .narrow = {{"invoice", SQL_INVOICE_DESC, SQL_INVOICE_ASC},
		       {"customer", SQL_CUSTOMER_DESC, SQL_CUSTOMER_ASC}},
	    .bind_filters = list_bind,
	    .render = list_render,
	};
	return list_respond(r, &spec);
}

/* ---- routes ---- */

static const char *const reasons[] = {"duplicate", "fraudulent", "order_change",
				      "product_unsatisfactory", NULL};
static const struct param_spec line_children[] = {
    {"type", PT_ENUM, 0, 0, (const char *const[]){"invoice_line_item", "custom_line_item", NULL},
     NULL},
    {"invoice_line_item", PT_STRING, 0, 255, NULL, NULL},
    {"quantity", PT_INT, 0, 0, NULL, NULL},
    {"amount", PT_INT, 0, 0, NULL, NULL},
    {"unit_amount", PT_INT, 0, 0, NULL, NULL},
    {"description", PT_STRING, PF_EMPTYABLE, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
/* Stripe's email_type chooses the email its credit note sends (credit_note) or none; Tender
 * sends no email, so either is taken and nothing else follows from it. */
static const struct param_spec refund_children[] = {
    {"refund", PT_STRING, 0, 255, NULL, NULL},
    {"amount_refunded", PT_INT, 0, 0, NULL, NULL},
    {"type", PT_ENUM, 0, 0, (const char *const[]){"refund", "payment_record_refund", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec shipping_cost_children[] = {
    {"shipping_rate", PT_STRING, PF_REQUIRED, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
#define CN_PARAMS                                                                                    \
	{"invoice", PT_STRING, PF_REQUIRED, 255, NULL, NULL},                                        \
	    {"lines", PT_OBJECT_ARRAY, 0, CN_LINES_MAX, NULL, line_children},                        \
	    {"amount", PT_INT, 0, 0, NULL, NULL}, {"refund_amount", PT_INT, 0, 0, NULL, NULL},       \
	    {"credit_amount", PT_INT, 0, 0, NULL, NULL},                                             \
	    {"out_of_band_amount", PT_INT, 0, 0, NULL, NULL},                                        \
	    {"reason", PT_ENUM, PF_EMPTYABLE, 0, reasons, NULL},                                     \
	    {"memo", PT_STRING, PF_EMPTYABLE, 5000, NULL, NULL},                                     \
	    {"effective_at", PT_INT, 0, 0, NULL, NULL}, {"refund", PT_STRING, 0, 255, NULL, NULL},   \
	    {"shipping_cost", PT_OBJECT, 0, 0, NULL, shipping_cost_children},                        \
	    {"refunds", PT_OBJECT_ARRAY, 0, CN_REFUNDS_MAX, NULL, refund_children},                  \
	    {"email_type", PT_ENUM, 0, 0, (const char *const[]){"credit_note", "none", NULL}, NULL}, \
	{                                                                                            \
		"metadata", PT_METADATA, 0, 0, NULL, NULL                                            \
	}
static const struct param_spec create_params[] = {
    CN_PARAMS,
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec preview_params[] = {
    CN_PARAMS,
    {"limit", PT_INT, 0, 0, NULL, NULL},
    {"starting_after", PT_STRING, 0, 255, NULL, NULL},
    {"ending_before", PT_STRING, 0, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec update_params[] = {
    {"memo", PT_STRING, PF_EMPTYABLE, 5000, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec list_params[] = {
    {"invoice", PT_STRING, 0, 255, NULL, NULL},
    {"customer", PT_STRING, 0, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

const struct route credit_notes_routes[] = {
    {"POST", "/v1/credit_notes", h_create, create_params, 0},
    {"GET", "/v1/credit_notes", h_list, list_params, ROUTE_LIST},
    {"GET", "/v1/credit_notes/preview", h_preview, preview_params, 0},
    {"GET", "/v1/credit_notes/preview/lines", h_preview_lines, preview_params, 0},
    {"GET", "/v1/credit_notes/{id}", h_retrieve, no_params, 0},
    {"POST", "/v1/credit_notes/{id}", h_update, update_params, 0},
    {"POST", "/v1/credit_notes/{id}/void", h_void, no_params, 0},
    {"GET", "/v1/credit_notes/{id}/lines", h_lines, no_params, ROUTE_LIST},
    {NULL, NULL, NULL, NULL, 0},
};

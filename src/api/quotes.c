/*
 * /v1/quotes — Stripe's quotes: a price offered to a customer (draft, editable), finalized
 * (open, numbered, until expires_at), then accepted or canceled.
 *
 * A quote is priced when it is written (create, update, finalize): its lines' prices are read
 * and its discounts checked as a redemption would check them (discounts_resolve), and what
 * they come to is stored with it (its lines with their amounts, `computed`, the totals), so a
 * read shows what was offered even when a price or coupon changes later. Nothing is redeemed
 * until it is accepted.
 *
 * Acceptance makes what the quote offered through the same functions the API's own creates
 * use, in the write that accepts it (the quote is guarded on `open` there, so two accepts make
 * one thing):
 * - one-time lines only: a one-off invoice (invoice_draft_create, as POST /v1/invoices), its
 *   lines invoice items of the quote's prices, the quote's discounts the invoice's; a draft
 *   with auto_advance, finalized and charged to the customer's default card an hour later by
 *   the scheduler (or by POST /v1/invoices/{id}/finalize and …/pay at once), as Stripe does;
 *   collection_method=send_invoice makes it a send_invoice draft with the quote's
 *   invoice_settings[days_until_due], finalized for the customer to pay, never charged;
 * - recurring lines only: a subscription (subscription_create_for_schedule, the create behind
 *   POST /v1/subscriptions), its first invoice paid by the subscription's own payment; the
 *   quote's write is that payment's write (the before / answer hooks). A send_invoice quote
 *   makes a send_invoice subscription (no card needed, active at once, its invoices due
 *   days_until_due days after they are finalized).
 * Stripe bills a quote's one-time lines next to recurring ones on the subscription's first
 * invoice; Tender's subscription create takes recurring prices only, so such a mix is refused
 * when the quote is written (README, Not covered).
 *
 * A metered price backed by a billing meter is a recurring line without a quantity, worth 0 in
 * every total (its usage is billed in arrears by the subscription's metered item); its stored
 * line says "metered" and its line item shows quantity null, as Stripe's.
 *
 * Currency: `currency` (create, update) prices each line in it, the price's own amounts or its
 * currency_options entry for it (price_facts_in); without it the lines' prices share their own
 * currency. The quote keeps it: an update's new lines are priced in it, and a new `currency`
 * prices the lines again (lines_reprice). The stored lines hold those amounts, so totals, the
 * PDF (whose item prices show their own unit_amount: pdf_unit_amounts gives the line's) and
 * what acceptance makes (invoice items at the stored amounts; a subscription made with the
 * quote's currency) agree.
 *
 * Discounts: a percentage is taken off each line, rounded (halves up); an amount off is spread
 * over the lines in proportion (billing_discount_lines, as invoices do), coupons in order, each
 * on what the previous left, only lines of products a coupon applies to. `computed.recurring`
 * takes only `forever` coupons, as Stripe's does (a `once` or `repeating` one ends).
 *
 * Tax rates: default_tax_rates (tax_rate_links of the quote, as an invoice's) and each line's own
 * tax_rates (kept in its stored line; they replace the defaults) are taken on what the discounts
 * left of each line with the invoices' arithmetic (billing_tax_line), for the quote's amounts,
 * computed.upfront and computed.recurring, and stored per line. Acceptance passes them to what
 * it makes (the invoice's default_tax_rates and its items' tax_rates; the subscription's and its
 * items'), so the invoice's total is the quote's.
 *
 * Automatic tax (automatic_tax[enabled]; not with tax rates): Stripe Tax's rates for the
 * customer's location (invoices.c's invoice_lines_auto_tax: its address, else shipping
 * address, its tax_exempt and eu_vat id; Tender's txr_auto… rates, stored by the quote's write)
 * take the place of the lines' rates in the same arithmetic, so `computed` and total_details
 * carry the engine's tax; a customer that cannot be located leaves the quote untaxed, status
 * requires_location_inputs, and it cannot be finalized (400 customer_tax_location_invalid, as
 * an invoice). The invoice or subscription an accepted quote makes has automatic_tax enabled,
 * so its own computation taxes it the same way.
 *
 * Connect (application_fee_amount, application_fee_percent, on_behalf_of, transfer_data[amount,
 * amount_percent, destination]): checked as a subscription's or a PaymentIntent's terms are
 * (billing_connect_check), with Stripe's rules on the lines: an amount (the fee's, the
 * transfer's) only without recurring lines, a percentage only with them. Acceptance gives them
 * to what it makes: the subscription's application_fee_percent, transfer_data and
 * on_behalf_of (its invoices' PaymentIntents carry them), or, for a one-time quote, the
 * PaymentIntent that pays its invoice (quote_invoice_connect, found by the invoice when it is
 * paid).
 *
 * test_clock (create): the customer's test clock, named; another clock is refused. from_quote
 * [quote, is_revision] (create): the new draft starts as a copy of that quote (lines,
 * discounts, texts, tax rates, collection, subscription_data, Connect terms; this request's
 * parameters on top), of the same customer unless `customer` names another. A revision is of
 * an open quote: finalizing it numbers it after that quote (…-2, -3) and cancels that one, in
 * the same write.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/billing_internal.h"
#include "api/challenge.h"
#include "api/common.h"
#include "api/list.h"
#include "api/resources.h"
#include "api/subscription_schedules.h"
#include "core/parse.h"
#include "core/str.h"
#include "documents/answer.h"
#include "documents/documents.h"
#include "documents/pdf.h"
#include "events/events.h"
#include "http/form.h"
#include "money/currency.h"
#include "payments/payments.h"
#include "scheduler/scheduler.h"
#include "store/store.h"

#define QUOTE_LINES_MAX 20		     /* Stripe's bound on a quote's line items */
#define QUOTE_EXPIRES_DEFAULT_S (30 * 86400) /* Stripe's default: 30 days */
#define QUOTE_EXPIRES_MAX_S (5LL * 365 * 86400)
#define QUOTE_QUANTITY_MAX 999999
#define QUOTE_TRIAL_DAYS_MAX 730
#define QUOTE_EXPIRE_BATCH 64

struct quote {
	char id[ID_MAX];
	int64_t created, expires_at;
	int64_t finalized_at, accepted_at, canceled_at; /* 0: not */
	const char *status, *customer, *description, *header, *footer, *number;
	char currency[8];
	const char *line_items, *discounts_spec, *discounts, *computed, *metadata;
	const char *sub_description, *sub_metadata;
	int64_t sub_trial_days; /* -1: none */
	/* subscription_data[billing_mode][type] flexible (else classic: a quote made before it
	 * was stored is), set by its create: the subscription its acceptance makes takes it */
	bool sub_flexible;
	const char *sub_pd; /* its [flexible][proration_discounts]: "itemized"; NULL: included */
	int64_t amount_subtotal, amount_total;
	const char *invoice, *subscription, *test_clock;
	/* collection_method send_invoice (else charge_automatically) and its
	 * invoice_settings[days_until_due] */
	bool sends;
	int64_t days_until_due;
	/* automatic_tax[enabled] (Stripe Tax prices it, see "Automatic tax" above) and, when it
	 * is, whether its customer was located when it was last priced (stored as 0 off, 1
	 * complete, 2 requires_location_inputs) */
	bool automatic_tax, auto_tax_located;
	/* Connect (see "Connect"): application_fee_amount and application_fee_percent
	 * (percent_e4), -1 when none; on_behalf_of; transfer_data and from_quote as shown (JSON;
	 * NULL: none) */
	int64_t fee_amount, fee_e4;
	const char *on_behalf_of, *transfer_data, *from_quote;
};

/* ---- the discount arithmetic (pure) ---- */

int quote_discount_lines(const int64_t *amounts, const char *const *products, int n,
			 const struct coupon *coupons, int n_coupons, int64_t *ret_line_discounts,
			 int64_t *ret_total_discount)
{
	if (n < 0 || n > QUOTE_LINES_MAX || n_coupons < 0 || n_coupons > DISCOUNTS_MAX)
		return -1;
	int64_t remaining[QUOTE_LINES_MAX], took[QUOTE_LINES_MAX], line_disc[QUOTE_LINES_MAX];
	bool eligible[QUOTE_LINES_MAX];
	int64_t total = 0;
	for (int i = 0; i < n; i++) {
		if (amounts[i] < 0 || amounts[i] > BILLING_AMOUNT_MAX)
			return -1;
		remaining[i] = amounts[i];
		line_disc[i] = 0;
	}
	for (int k = 0; k < n_coupons; k++) {
		for (int i = 0; i < n; i++)
			eligible[i] = coupon_applies_to(&coupons[k], products[i]);
		int64_t t;
		if (billing_discount_lines(coupons[k].percent_e4, coupons[k].amount_off, remaining,
					   eligible, n, took, &t) != 0)
			return -1;
		for (int i = 0; i < n; i++)
			if (__builtin_add_overflow(line_disc[i], took[i], &line_disc[i]))
				return -1;
		if (__builtin_add_overflow(total, t, &total))
			return -1;
	}
	for (int i = 0; i < n; i++)
		ret_line_discounts[i] = line_disc[i];
	*ret_total_discount = total;
	return 0;
}

/* ---- rows ---- */

static const char SQL_COLS[] =
    "id, created, status, customer, currency, description, header, footer, expires_at, number,"
    " line_items, discounts_spec, discounts, sub_description, sub_trial_days, sub_metadata,"
    " metadata, amount_subtotal, amount_total, computed, finalized_at, accepted_at, canceled_at,"
    " invoice, subscription, test_clock, collection_method, days_until_due, automatic_tax";
#define QUOTE_SELECT                                                                               \
	"SELECT id, created, status, customer, currency, description, header, footer, expires_at," \
	" number, line_items, discounts_spec, discounts, sub_description, sub_trial_days,"         \
	" sub_metadata, metadata, amount_subtotal, amount_total, computed, finalized_at,"          \
	" accepted_at, canceled_at, invoice, subscription, test_clock, collection_method,"         \
	" days_until_due, automatic_tax, application_fee_amount, application_fee_percent,"         \
	" on_behalf_of, transfer_data, from_quote, sub_billing_mode, sub_proration_discounts"      \
	" FROM quotes"
static const char SQL_GET[] = QUOTE_SELECT " WHERE merchant_id = $1 AND id = $2";
static const char SQL_INSERT[] =
    "INSERT INTO quotes (merchant_id, id, created, status, customer, currency, description,"
    " header, footer, expires_at, number, line_items, discounts_spec, discounts, sub_description,"
    " sub_trial_days, sub_metadata, metadata, amount_subtotal, amount_total, computed,"
    " finalized_at, accepted_at, canceled_at, invoice, subscription, test_clock,"
    " collection_method, days_until_due, automatic_tax, application_fee_amount,"
    " application_fee_percent, on_behalf_of, transfer_data, from_quote, sub_billing_mode,"
    " sub_proration_discounts) VALUES ($1, $2, $3, $4,"
    " $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23,"
    " $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35, $36, $37)";
/* every mutable column, where the row is still in the status it was read in ($31) */
static const char SQL_UPDATE[] =
    "UPDATE quotes SET status = $4, customer = $5, currency = $6, description = $7, header = $8,"
    " footer = $9, expires_at = $10, number = $11, line_items = $12, discounts_spec = $13,"
    " discounts = $14, sub_description = $15, sub_trial_days = $16, sub_metadata = $17,"
    " metadata = $18, amount_subtotal = $19, amount_total = $20, computed = $21,"
    " finalized_at = $22, accepted_at = $23, canceled_at = $24, invoice = $25,"
    " subscription = $26, test_clock = $27, collection_method = $28, days_until_due = $29,"
    " automatic_tax = $30, application_fee_amount = $32, application_fee_percent = $33,"
    " on_behalf_of = $34, transfer_data = $35, from_quote = $36"
    " WHERE merchant_id = $1 AND id = $2 AND status = $31 AND created = $3";

static int64_t col_or0(struct db_stmt *st, int c)
{
	return db_col_is_null(st, c) ? 0 : db_col_int64(st, c);
}

static int quote_load(struct req *r, struct db *db, const char *merchant, const char *id,
		      struct quote *q)
{
	(void)SQL_COLS;
	struct db_stmt *st = db_prepare(db, SQL_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	if (rc != DB_ROW) {
		db_reset(st);
		return rc == DB_DONE ? DB_NOTFOUND : DB_ERR;
	}
	struct arena *a = &r->arena;
	memset(q, 0, sizeof(*q));
	const char *s = db_col_text(st, 0, NULL);
	str_copy(q->id, sizeof(q->id), s ? s : "");
	q->created = db_col_int64(st, 1);
	q->status = col_text_dup(a, st, 2);
	q->customer = col_text_dup(a, st, 3);
	s = db_col_text(st, 4, NULL);
	str_copy(q->currency, sizeof(q->currency), s ? s : "");
	q->description = col_text_dup(a, st, 5);
	q->header = col_text_dup(a, st, 6);
	q->footer = col_text_dup(a, st, 7);
	q->expires_at = db_col_int64(st, 8);
	q->number = col_text_dup(a, st, 9);
	q->line_items = col_text_dup(a, st, 10);
	q->discounts_spec = col_text_dup(a, st, 11);
	q->discounts = col_text_dup(a, st, 12);
	q->sub_description = col_text_dup(a, st, 13);
	q->sub_trial_days = db_col_is_null(st, 14) ? -1 : db_col_int64(st, 14);
	q->sub_metadata = col_text_dup(a, st, 15);
	q->metadata = col_text_dup(a, st, 16);
	q->amount_subtotal = db_col_int64(st, 17);
	q->amount_total = db_col_int64(st, 18);
	q->computed = col_text_dup(a, st, 19);
	q->finalized_at = col_or0(st, 20);
	q->accepted_at = col_or0(st, 21);
	q->canceled_at = col_or0(st, 22);
	q->invoice = col_text_dup(a, st, 23);
	q->subscription = col_text_dup(a, st, 24);
	q->test_clock = col_text_dup(a, st, 25);
	s = db_col_text(st, 26, NULL);
	q->sends = s && str_eq(s, "send_invoice");
	q->days_until_due = col_or0(st, 27);
	int64_t at = col_or0(st, 28);
	q->automatic_tax = at != 0;
	q->auto_tax_located = at == 1;
	q->fee_amount = db_col_is_null(st, 29) ? -1 : db_col_int64(st, 29);
	q->fee_e4 = db_col_is_null(st, 30) ? -1 : db_col_int64(st, 30);
	q->on_behalf_of = col_text_dup(a, st, 31);
	q->transfer_data = col_text_dup(a, st, 32);
	q->from_quote = col_text_dup(a, st, 33);
	q->sub_flexible = str_eq(db_col_text(st, 34, NULL), "flexible");
	q->sub_pd = str_eq(db_col_text(st, 35, NULL), "itemized") ? "itemized" : NULL;
	db_reset(st);
	if (!q->status || !q->customer || !q->line_items || !q->discounts_spec || !q->discounts ||
	    !q->metadata || !q->computed)
		return DB_ERR;
	return DB_OK;
}

static void bind_row(const char *merchant, struct db_stmt *st, const struct quote *q)
{
	db_bind_text(st, 1, merchant, -1);
	db_bind_text(st, 2, q->id, -1);
	db_bind_int64(st, 3, q->created);
	db_bind_text(st, 4, q->status, -1);
	db_bind_text(st, 5, q->customer, -1);
	db_bind_text(st, 6, q->currency, -1);
	db_bind_text(st, 7, q->description, -1);
	db_bind_text(st, 8, q->header, -1);
	db_bind_text(st, 9, q->footer, -1);
	db_bind_int64(st, 10, q->expires_at);
	db_bind_text(st, 11, q->number, -1);
	db_bind_text(st, 12, q->line_items, -1);
	db_bind_text(st, 13, q->discounts_spec, -1);
	db_bind_text(st, 14, q->discounts, -1);
	db_bind_text(st, 15, q->sub_description, -1);
	if (q->sub_trial_days >= 0)
		db_bind_int64(st, 16, q->sub_trial_days);
	else
		db_bind_null(st, 16);
	db_bind_text(st, 17, q->sub_metadata, -1);
	db_bind_text(st, 18, q->metadata, -1);
	db_bind_int64(st, 19, q->amount_subtotal);
	db_bind_int64(st, 20, q->amount_total);
	db_bind_text(st, 21, q->computed, -1);
	db_bind_int64_or_null(st, 22, q->finalized_at);
	db_bind_int64_or_null(st, 23, q->accepted_at);
	db_bind_int64_or_null(st, 24, q->canceled_at);
	db_bind_text(st, 25, q->invoice, -1);
	db_bind_text(st, 26, q->subscription, -1);
	db_bind_text(st, 27, q->test_clock, -1);
	db_bind_text(st, 28, q->sends ? "send_invoice" : "charge_automatically", -1);
	if (q->sends)
		db_bind_int64(st, 29, q->days_until_due);
	else
		db_bind_null(st, 29);
	db_bind_int64(st, 30, !q->automatic_tax ? 0 : q->auto_tax_located ? 1 : 2);
}

/* the Connect and from_quote columns, from parameter `first` on (an insert's 31, an update's
 * 32: its $31 is the status guard; PostgreSQL takes no gaps) */
static void bind_connect(struct db_stmt *st, int first, const struct quote *q)
{
	if (q->fee_amount >= 0)
		db_bind_int64(st, first, q->fee_amount);
	else
		db_bind_null(st, first);
	if (q->fee_e4 >= 0)
		db_bind_int64(st, first + 1, q->fee_e4);
	else
		db_bind_null(st, first + 1);
	db_bind_text(st, first + 2, q->on_behalf_of, -1);
	db_bind_text(st, first + 3, q->transfer_data, -1);
	db_bind_text(st, first + 4, q->from_quote, -1);
}

static int quote_insert(struct req *r, struct db *db, const struct quote *q)
{
	struct db_stmt *st = db_prepare(db, SQL_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	bind_row(r->merchant_id, st, q);
	bind_connect(st, 31, q);
	db_bind_text(st, 36, q->sub_flexible ? "flexible" : "classic", -1);
	db_bind_text(st, 37, !q->sub_flexible ? NULL : q->sub_pd ? q->sub_pd : "included", -1);
	return db_step_done(st) == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* Saves q where it is still in status `was`: 0, or -1 with r->err (a change meanwhile is a
 * 400 on the quote's state). */
static int quote_save(struct req *r, struct db *db, const char *merchant, const struct quote *q,
		      const char *was)
{
	struct db_stmt *st = db_prepare(db, SQL_UPDATE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	bind_row(merchant, st, q);
	db_bind_text(st, 31, was, -1);
	bind_connect(st, 32, q);
	int64_t n;
	if (db_step_changes(st, &n) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return n == 1 ? 0
		      : req_fail(r, ERR_INVALID_STATE, NULL,
				 "The quote %s changed while this request ran; try again.", q->id);
}

/* ---- rendering ---- */

static void total_details(struct json *j, int64_t discount, int64_t tax)
{
	json_obj_open(j);
	json_kv_int(j, "amount_discount", discount);
	json_kv_int(j, "amount_shipping", 0);
	json_kv_int(j, "amount_tax", tax);
	json_obj_close(j);
}

/* What a stored line's taxes came to (key: "taxes", or "upfront_taxes" as its first invoice
 * charges it): all of them, and the exclusive ones (added to its amount). */
static void line_tax_sums(json_t *v, const char *key, int64_t *ret_tax, int64_t *ret_exclusive)
{
	*ret_tax = *ret_exclusive = 0;
	size_t k;
	json_t *e;
	json_array_foreach(json_object_get(v, key), k, e)
	{
		int64_t a = json_integer_value(json_object_get(e, "amount"));
		*ret_tax += a; /* each at most its line's amount (rates are at most 100 %) */
		if (!json_is_true(json_object_get(e, "inclusive")))
			*ret_exclusive += a;
	}
}

/* The quote's taxes from its stored lines: all, and the exclusive ones (in amount_total). */
static void quote_tax_sums(const struct quote *q, int64_t *ret_tax, int64_t *ret_exclusive)
{
	*ret_tax = *ret_exclusive = 0;
	json_t *arr = q->line_items ? json_loads(q->line_items, 0, NULL) : NULL;
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
	{
		int64_t t, x;
		line_tax_sums(v, "taxes", &t, &x);
		*ret_tax += t;
		*ret_exclusive += x;
	}
	json_decref(arr);
}

/* ---- total_details.breakdown (includable: expand[]=total_details.breakdown,
 * computed.upfront.total_details.breakdown, computed.recurring.total_details.breakdown; after
 * the lines' parsing below) ---- */
/* Which of a quote's totals: its own, its first invoice's (computed.upfront) or each period's
 * (computed.recurring: forever coupons only, as quote_price prices it). */
enum qtotals { QT_QUOTE, QT_UPFRONT, QT_RECURRING };
static int quote_breakdown(struct req *r, struct db *db, const struct quote *q, enum qtotals which,
			   struct json *j);
static const char *computed_breakdowns(struct req *r, struct db *db, const struct quote *q);
/* Does expand[] ask for one of the breakdowns? */
static bool quote_expands_breakdown(struct req *r)
{
	return req_expand_has(r, "total_details.breakdown") ||
	       req_expand_has(r, "computed.upfront.total_details.breakdown") ||
	       req_expand_has(r, "computed.recurring.total_details.breakdown");
}

/* Renders q; with expand, the includable line_items and computed.upfront.line_items that the
 * request's expand[] asks for (events expand nothing). 0, or -1 with r->err. */
static int lines_list(struct req *r, struct db *db, const struct quote *q, bool upfront, bool paged,
		      struct json *j);
static int computed_render(struct req *r, struct db *db, const struct quote *q, struct json *j)
{
	if (!req_expand_has(r, "computed.upfront.line_items")) {
		json_kv_raw_or_null(j, "computed", q->computed);
		return 0;
	}
	json_error_t e;
	json_t *c = json_loads(q->computed, 0, &e);
	json_t *up = json_object_get(c, "upfront");
	char *rec = c ? json_dumps(json_object_get(c, "recurring"), JSON_ENCODE_ANY) : NULL;
	char *td = up ? json_dumps(json_object_get(up, "total_details"), 0) : NULL;
	int rc = 0;
	if (!rec || !td) {
		rc = req_fail(r, ERR_API, NULL, NULL);
		goto out;
	}
	json_key(j, "computed");
	json_obj_open(j);
	json_kv_raw(j, "recurring", rec, strlen(rec));
	json_key(j, "upfront");
	json_obj_open(j);
	json_kv_int(j, "amount_subtotal",
		    json_integer_value(json_object_get(up, "amount_subtotal")));
	json_kv_int(j, "amount_total", json_integer_value(json_object_get(up, "amount_total")));
	json_key(j, "line_items");
	rc = lines_list(r, db, q, true, false, j);
	json_kv_raw(j, "total_details", td, strlen(td));
	json_obj_close(j);
	json_obj_close(j);
out:
	free(rec);
	free(td);
	json_decref(c);
	return rc;
}

static int quote_render(struct req *r, struct db *db, const struct quote *q, bool expand,
			struct json *j)
{
	json_obj_open(j);
	json_kv_str(j, "id", q->id);
	json_kv_str(j, "object", "quote");
	json_kv_int(j, "amount_subtotal", q->amount_subtotal);
	json_kv_int(j, "amount_total", q->amount_total);
	json_kv_null(j, "application");
	if (q->fee_amount >= 0)
		json_kv_int(j, "application_fee_amount", q->fee_amount);
	else
		json_kv_null(j, "application_fee_amount");
	if (q->fee_e4 >= 0) {
		char pct[16];
		billing_percent_format(q->fee_e4, pct, sizeof(pct));
		json_kv_raw(j, "application_fee_percent", pct, strlen(pct));
	} else {
		json_kv_null(j, "application_fee_percent");
	}
	json_key(j, "automatic_tax");
	json_obj_open(j);
	json_kv_bool(j, "enabled", q->automatic_tax);
	if (q->automatic_tax) {
		json_key(j, "liability");
		json_obj_open(j);
		json_kv_str(j, "type", "self");
		json_obj_close(j);
		json_kv_str(j, "provider", "stripe");
		json_kv_str(j, "status",
			    q->auto_tax_located ? "complete" : "requires_location_inputs");
	} else {
		json_kv_null(j, "liability");
		json_kv_null(j, "provider");
		json_kv_null(j, "status");
	}
	json_obj_close(j);
	json_kv_str(j, "collection_method", q->sends ? "send_invoice" : "charge_automatically");
	if (expand) {
		struct quote qb = *q; /* computed with what expand[] asks of its breakdowns */
		qb.computed = computed_breakdowns(r, db, q);
		if (!qb.computed || computed_render(r, db, &qb, j) != 0)
			return qb.computed ? -1 : req_fail(r, ERR_API, NULL, NULL);
	} else {
		json_kv_raw_or_null(j, "computed", q->computed);
	}
	json_kv_int(j, "created", q->created);
	json_kv_str(j, "currency", q->currency);
	json_kv_str(j, "customer", q->customer);
	json_key(j, "default_tax_rates");
	if (!db || tax_links_render(r, db, q->id, j) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	json_kv_str_or_null(j, "description", q->description);
	json_kv_raw_or_null(j, "discounts", q->discounts);
	json_kv_int(j, "expires_at", q->expires_at);
	json_kv_str_or_null(j, "footer", q->footer);
	json_kv_raw_or_null(j, "from_quote", q->from_quote);
	json_kv_str_or_null(j, "header", q->header);
	json_kv_str_or_null(j, "invoice", q->invoice);
	json_key(j, "invoice_settings");
	json_obj_open(j);
	if (q->sends)
		json_kv_int(j, "days_until_due", q->days_until_due);
	else
		json_kv_null(j, "days_until_due");
	json_obj_close(j);
	if (expand && req_expand_has(r, "line_items")) {
		json_key(j, "line_items");
		if (lines_list(r, db, q, false, false, j) != 0)
			return -1;
	}
	json_kv_bool(j, "livemode", r->livemode);
	json_kv_raw_or_null(j, "metadata", q->metadata);
	json_kv_str_or_null(j, "number", q->number);
	json_kv_str_or_null(j, "on_behalf_of", q->on_behalf_of);
	json_kv_str(j, "status", q->status);
	json_key(j, "status_transitions");
	json_obj_open(j);
	if (q->accepted_at)
		json_kv_int(j, "accepted_at", q->accepted_at);
	else
		json_kv_null(j, "accepted_at");
	if (q->canceled_at)
		json_kv_int(j, "canceled_at", q->canceled_at);
	else
		json_kv_null(j, "canceled_at");
	if (q->finalized_at)
		json_kv_int(j, "finalized_at", q->finalized_at);
	else
		json_kv_null(j, "finalized_at");
	json_obj_close(j);
	json_kv_str_or_null(j, "subscription", q->subscription);
	json_key(j, "subscription_data");
	json_obj_open(j);
	/* Quote.SubscriptionData.BillingMode: {flexible (flexible only), type} */
	json_key(j, "billing_mode");
	json_obj_open(j);
	if (q->sub_flexible) {
		json_key(j, "flexible");
		json_obj_open(j);
		json_kv_str(j, "proration_discounts", q->sub_pd ? q->sub_pd : "included");
		json_obj_close(j);
	}
	json_kv_str(j, "type", q->sub_flexible ? "flexible" : "classic");
	json_obj_close(j);
	json_kv_str_or_null(j, "description", q->sub_description);
	json_kv_null(j, "effective_date");
	json_kv_raw_or_null(j, "metadata", q->sub_metadata ? q->sub_metadata : "{}");
	if (q->sub_trial_days >= 0)
		json_kv_int(j, "trial_period_days", q->sub_trial_days);
	else
		json_kv_null(j, "trial_period_days");
	json_obj_close(j);
	json_kv_null(j, "subscription_schedule");
	json_kv_str_or_null(j, "test_clock", q->test_clock);
	int64_t tax, tax_exclusive;
	quote_tax_sums(q, &tax, &tax_exclusive);
	json_key(j, "total_details");
	json_obj_open(j);
	json_kv_int(j, "amount_discount", q->amount_subtotal + tax_exclusive - q->amount_total);
	json_kv_int(j, "amount_shipping", 0);
	json_kv_int(j, "amount_tax", tax);
	if (expand && db && req_expand_has(r, "total_details.breakdown") &&
	    quote_breakdown(r, db, q, QT_QUOTE, j) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	json_obj_close(j);
	json_kv_raw_or_null(j, "transfer_data", q->transfer_data);
	json_obj_close(j);
	return 0;
}

/* Appends event `type` with q as its object; with answer, that JSON is the request's answer
 * too. 0, or -1 with r->err. */
static int quote_emit(struct req *r, struct db *db, const struct quote *q, const char *type,
		      bool answer)
{
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 20);
	json_init(&j, &b);
	if (quote_render(r, db, q, false, &j) != 0) {
		buf_release(&b);
		return -1;
	}
	char ev[ID_MAX];
	const char *js = b.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&b));
	size_t len = b.len;
	buf_release(&b);
	if (!js)
		return req_fail(r, ERR_API, NULL, NULL);
	struct event_origin o = {r->request_id[0] ? r->request_id : NULL, r->idempotency_key,
				 r->livemode};
	int64_t now;
	if (billing_now(r, db, q->test_clock, &now) != 0)
		return -1;
	if (event_append(db, r->merchant_id, &o, type, q->id, js, len, NULL, now, ev) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!answer)
		return 0;
	/* the event's object is the answer, unless expand[] asks for more of it */
	if (req_expand_has(r, "line_items") || req_expand_has(r, "computed.upfront.line_items") ||
	    quote_expands_breakdown(r))
		return quote_render(r, db, q, true, req_json(r));
	return req_answer_event(r, ev, js, len);
}

/* ---- pricing ---- */

/* One line as a quote prices it. */
struct qline {
	char id[ID_MAX];
	const char *price, *description, *product;
	const char *unit_amount_decimal; /* a sub-cent price's (amount: rounded once), or NULL */
	int64_t quantity, unit_amount, amount, discount;
	bool recurring;
	bool metered; /* its price's meter bills its usage later: no quantity, 0 now */
	char interval[8];
	int64_t interval_count;
	/* its own tax_rates (ids; n_tax 0: the quote's default_tax_rates) */
	int n_tax;
	const char *tax[BILLING_TAX_RATES_MAX];
};

static int lines_parse(struct req *r, const char *js, struct qline *out, int *ret_n)
{
	json_error_t e;
	json_t *arr = json_loads(js, 0, &e);
	if (!json_is_array(arr) || json_array_size(arr) > QUOTE_LINES_MAX) {
		json_decref(arr);
		return -1;
	}
	size_t i;
	json_t *v;
	int n = 0;
	json_array_foreach(arr, i, v)
	{
		struct qline *l = &out[n++];
		memset(l, 0, sizeof(*l));
		const char *s = json_string_value(json_object_get(v, "id"));
		str_copy(l->id, sizeof(l->id), s ? s : "");
		s = json_string_value(json_object_get(v, "price"));
		l->price = s ? arena_strdup(&r->arena, s) : NULL;
		s = json_string_value(json_object_get(v, "description"));
		l->description = arena_strdup(&r->arena, s ? s : "");
		s = json_string_value(json_object_get(v, "product"));
		l->product = s ? arena_strdup(&r->arena, s) : NULL;
		l->quantity = json_integer_value(json_object_get(v, "quantity"));
		l->unit_amount = json_integer_value(json_object_get(v, "unit_amount"));
		s = json_string_value(json_object_get(v, "unit_amount_decimal"));
		l->unit_amount_decimal = s ? arena_strdup(&r->arena, s) : NULL;
		l->amount = json_integer_value(json_object_get(v, "amount"));
		l->discount = json_integer_value(json_object_get(v, "amount_discount"));
		l->metered = json_is_true(json_object_get(v, "metered"));
		s = json_string_value(json_object_get(v, "interval"));
		l->recurring = s != NULL;
		str_copy(l->interval, sizeof(l->interval), s ? s : "");
		l->interval_count = json_integer_value(json_object_get(v, "interval_count"));
		json_t *tr = json_object_get(v, "tax_rates");
		size_t k;
		json_t *x;
		json_array_foreach(tr, k, x)
		{
			if (l->n_tax == BILLING_TAX_RATES_MAX || !json_string_value(x))
				break;
			l->tax[l->n_tax++] = arena_strdup(&r->arena, json_string_value(x));
		}
		for (int t = 0; t < l->n_tax; t++)
			if (!l->tax[t])
				l->n_tax = -1;
		if (l->n_tax < 0 || (size_t)l->n_tax != json_array_size(tr)) {
			json_decref(arr);
			return -1;
		}
	}
	json_decref(arr);
	*ret_n = n;
	return 0;
}

/* The discount_spec stored as [{coupon} | {promotion_code}]. */
static int spec_from_json(struct req *r, const char *js, struct discount_spec *spec)
{
	memset(spec, 0, sizeof(*spec));
	json_error_t e;
	json_t *arr = json_loads(js, 0, &e);
	if (!json_is_array(arr) || json_array_size(arr) > DISCOUNTS_MAX) {
		json_decref(arr);
		return -1;
	}
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
	{
		const char *c = json_string_value(json_object_get(v, "coupon"));
		const char *p = json_string_value(json_object_get(v, "promotion_code"));
		spec->e[spec->n].coupon = c ? arena_strdup(&r->arena, c) : NULL;
		spec->e[spec->n].promotion_code = p ? arena_strdup(&r->arena, p) : NULL;
		spec->e[spec->n].shown = arena_printf(&r->arena, "discounts[%d]", spec->n);
		spec->n++;
	}
	spec->present = spec->n > 0;
	json_decref(arr);
	return 0;
}

/* ---- total_details.breakdown (declared above) ---- */

/* The "breakdown" key of one of q's total_details into the open object j: each discount with
 * what it took of those totals' lines (billing_discount_lines in order, as quote_price takes
 * them, so the amounts add up to amount_discount), and the lines' stored taxes per rate. The
 * discount objects: those acceptance made (q->discounts, in order), else the ones it will make,
 * named after the quote ("di_", the quote id's body and the discount's position: Tender makes
 * discounts only when a quote is accepted). DB_OK, or < 0 with nothing written. */
static int quote_breakdown(struct req *r, struct db *db, const struct quote *q, enum qtotals which,
			   struct json *j)
{
	struct qline *lines = arena_alloc(&r->arena, QUOTE_LINES_MAX * sizeof(*lines));
	struct discount *ds = arena_alloc(&r->arena, DISCOUNTS_MAX * sizeof(*ds));
	struct discount_spec *spec = arena_alloc(&r->arena, sizeof(*spec));
	int n = 0, nd = 0;
	if (!lines || !ds || !spec || lines_parse(r, q->line_items, lines, &n) != 0 ||
	    spec_from_json(r, q->discounts_spec, spec) != 0)
		return DB_ERR;
	json_t *stored = json_loads(q->line_items, 0, NULL);
	json_t *made = q->discounts ? json_loads(q->discounts, 0, NULL) : NULL;
	int64_t remaining[QUOTE_LINES_MAX], took[QUOTE_LINES_MAX], amounts[DISCOUNTS_MAX];
	bool eligible[QUOTE_LINES_MAX];
	for (int i = 0; i < n; i++) {
		json_t *v = json_array_get(stored, (size_t)i);
		remaining[i] = which == QT_UPFRONT
				   ? json_integer_value(json_object_get(v, "upfront_amount"))
				   : lines[i].amount;
	}
	int rc = json_is_array(stored) ? DB_OK : DB_ERR;
	const char *body = strncmp(q->id, "qt_", 3) == 0 ? q->id + 3 : q->id;
	for (int k = 0; k < spec->n && rc == DB_OK; k++) {
		struct discount *d = &ds[nd];
		memset(d, 0, sizeof(*d));
		const char *coupon = spec->e[k].coupon;
		struct promotion_code pc;
		if (spec->e[k].promotion_code) {
			rc = promotion_code_load(r, db, spec->e[k].promotion_code, &pc);
			coupon = rc == DB_OK ? pc.coupon : NULL;
			if (rc == DB_OK)
				str_copy(d->promotion_code, sizeof(d->promotion_code), pc.id);
		}
		if (rc == DB_OK)
			rc = coupon ? coupon_load(r, db, coupon, &d->coupon) : DB_ERR;
		if (rc != DB_OK)
			break;
		if (which == QT_RECURRING && !str_eq(d->coupon.duration, "forever"))
			continue;
		const char *id = json_string_value(json_array_get(made, (size_t)k));
		if (!(id && discount_load(r, db, id, d) == DB_OK)) {
			snprintf(d->id, sizeof(d->id), "di_%.48s_%d", body, k);
			d->customer = q->customer;
			d->start = q->created;
		}
		for (int i = 0; i < n; i++)
			eligible[i] = coupon_applies_to(&d->coupon, lines[i].product);
		int64_t off; /* an amount off in the quote's currency: its own or an option's */
		coupon_amount_in(&d->coupon, q->currency, &off);
		if (billing_discount_lines(d->coupon.percent_e4, off, remaining, eligible, n, took,
					   &amounts[nd]) != 0)
			rc = DB_ERR;
		nd++;
	}
	static const char *const keys[] = {"taxes", "upfront_taxes", "recurring_taxes"};
	if (rc == DB_OK)
		rc = checkout_breakdown_render(r, db, ds, amounts, nd, stored, keys[which], j);
	json_decref(stored);
	json_decref(made);
	return rc < 0 ? rc : rc == DB_OK ? DB_OK : DB_ERR;
}

/* q->computed with the breakdowns expand[] asks for spliced into its total_details (r's arena),
 * or NULL on an error. */
static const char *computed_breakdowns(struct req *r, struct db *db, const struct quote *q)
{
	static const char *const paths[] = {"computed.upfront.total_details.breakdown",
					    "computed.recurring.total_details.breakdown"};
	static const char *const parts[] = {"upfront", "recurring"};
	bool any = false;
	for (int k = 0; k < 2; k++)
		any = any || req_expand_has(r, paths[k]);
	if (!any || !db || !q->computed)
		return q->computed;
	json_t *c = json_loads(q->computed, 0, NULL);
	bool ok = json_is_object(c);
	for (int k = 0; k < 2 && ok; k++) {
		json_t *td = json_object_get(json_object_get(c, parts[k]), "total_details");
		if (!req_expand_has(r, paths[k]) || !json_is_object(td))
			continue; /* no recurring part: null */
		struct buf b;
		struct json j;
		buf_init(&b, 1u << 20);
		json_init(&j, &b);
		json_obj_open(&j);
		ok = quote_breakdown(r, db, q, k == 0 ? QT_UPFRONT : QT_RECURRING, &j) == DB_OK;
		json_obj_close(&j);
		json_t *o = ok && !b.failed ? json_loads(buf_cstr(&b), 0, NULL) : NULL;
		ok = json_is_object(json_object_get(o, "breakdown"));
		if (ok)
			json_object_set(td, "breakdown", json_object_get(o, "breakdown"));
		json_decref(o);
		buf_release(&b);
	}
	char *out = ok ? json_dumps(c, JSON_COMPACT) : NULL;
	json_decref(c);
	const char *ret = out ? arena_strdup(&r->arena, out) : NULL;
	free(out);
	return ret;
}

static int spec_to_json(struct req *r, const struct discount_spec *spec, const char **ret)
{
	struct buf b;
	struct json j;
	buf_init(&b, 64 * 1024);
	json_init(&j, &b);
	json_arr_open(&j);
	for (int i = 0; i < spec->n; i++) {
		json_obj_open(&j);
		if (spec->e[i].coupon)
			json_kv_str(&j, "coupon", spec->e[i].coupon);
		if (spec->e[i].promotion_code)
			json_kv_str(&j, "promotion_code", spec->e[i].promotion_code);
		json_obj_close(&j);
	}
	json_arr_close(&j);
	*ret = b.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&b));
	buf_release(&b);
	return *ret ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* Inside a transaction: the line_items[n] parameters (price or price_data, quantity) priced
 * into q->line_items (price_data makes an inactive price, as Stripe does; a write only). */
static int lines_from_params(struct req *r, struct db *db, struct quote *q, bool write)
{
	const struct form_node *items = param_node(r, "line_items");
	struct buf b;
	struct json j;
	buf_init(&b, 256 * 1024);
	json_init(&j, &b);
	json_arr_open(&j);
	int n = 0, rc = 0;
	bool any_recurring = false, any_once = false;
	char interval[8] = "";
	int64_t interval_count = 0;
	/* the quote's currency when it has one (given, or kept by an update): each price in it,
	 * its own or a currency_options entry for it; none: the first line's price's */
	char want[8];
	str_copy(want, sizeof(want), q->currency);
	for (const struct form_node *it = items ? items->first_child : NULL; it && rc == 0;
	     it = it->next, n++) {
		if (n == QUOTE_LINES_MAX) {
			rc = req_fail(r, ERR_PARAM_BAD, "line_items",
				      "A quote can have at most %d line items.", QUOTE_LINES_MAX);
			break;
		}
		const char *shown = arena_printf(&r->arena, "line_items[%d][price]", n);
		const struct form_node *pn = form_get(it, "price");
		const char *price = pn && pn->value && *pn->value ? pn->value : NULL;
		bool inline_price = form_get(it, "price_data") != NULL;
		if ((price != NULL) == inline_price) {
			rc =
			    req_fail(r, ERR_PARAM_BAD, arena_printf(&r->arena, "line_items[%d]", n),
				     "Each line item needs exactly one of price and price_data.");
			break;
		}
		int64_t qty = 1;
		const struct form_node *qn = form_get(it, "quantity");
		if (qn &&
		    (parse_i64(qn->value, &qty) != 0 || qty < 1 || qty > QUOTE_QUANTITY_MAX)) {
			rc = req_fail(r, ERR_PARAM_BAD,
				      arena_printf(&r->arena, "line_items[%d][quantity]", n),
				      "Invalid quantity: must be between 1 and %d.",
				      QUOTE_QUANTITY_MAX);
			break;
		}
		struct price_facts pf;
		char made[ID_MAX];
		if (inline_price) {
			shown = arena_printf(&r->arena, "line_items[%d][price_data]", n);
			if (form_get(form_get(it, "price_data"), "recurring")) {
				/* the subscription create takes active prices only */
				rc = req_fail(r, ERR_PARAM_BAD, shown,
					      "Tender quotes take recurring prices by id only "
					      "(line_items[n][price]); price_data makes one-time "
					      "prices.");
				break;
			}
			if (!write) {
				rc = req_fail(r, ERR_API, NULL, NULL);
				break;
			}
			char prefix[64];
			snprintf(prefix, sizeof(prefix), "line_items.%d.price_data.", n);
			if (price_create_inline(r, db, prefix, shown, &pf, made) != 0) {
				rc = -1;
				break;
			}
			price = made;
			if (price_facts_get(r, db, price, &pf) != DB_OK) {
				rc = req_fail(r, ERR_API, NULL, NULL);
				break;
			}
		} else {
			int prc = price_facts_in(r, db, price, want, &pf);
			if (prc == DB_NOTFOUND) {
				rc = req_fail_missing(r, "price", price, shown);
				break;
			}
			if (prc != DB_OK) {
				rc = req_fail(r, ERR_API, NULL, NULL);
				break;
			}
			if (!pf.active || !pf.product_active) {
				rc = req_fail(r, ERR_PARAM_BAD, shown,
					      "The price specified (%s) is inactive. This field "
					      "only accepts active prices.",
					      price);
				break;
			}
		}
		if (price_facts_fixed(r, &pf, price, shown) != 0) {
			rc = -1;
			break;
		}
		if (pf.recurring && !pf.meter &&
		    (!pf.usage_type || !str_eq(pf.usage_type, "licensed"))) {
			rc = req_fail(r, ERR_PARAM_BAD, shown,
				      "The price %s is metered without a meter: Tender's quotes "
				      "do not take prices billed from usage records. Use a metered "
				      "price backed by a billing meter (recurring[meter]).",
				      price);
			break;
		}
		/* a metered line: its meter's usage is billed by the subscription, later */
		bool metered = pf.meter != NULL;
		if (metered && qn) {
			rc = req_fail(r, ERR_PARAM_BAD,
				      arena_printf(&r->arena, "line_items[%d][quantity]", n),
				      "Quantity should not be specified where usage_type is "
				      "`metered`. Remove quantity from `line_items[%d]`.",
				      n);
			break;
		}
		if (want[0] && !str_eq(want, pf.currency)) {
			if (inline_price)
				rc = req_fail(r, ERR_PARAM_BAD,
					      arena_printf(&r->arena,
							   "line_items[%d][price_data][currency]",
							   n),
					      "The price_data's currency (%s) must be the quote's "
					      "currency (%s).",
					      pf.currency, want);
			else
				rc =
				    req_fail(r, ERR_PARAM_BAD, shown,
					     "The price specified (%s) is in %s and has no "
					     "currency_options entry for %s, the quote's currency.",
					     price, pf.currency, want);
			break;
		}
		if (q->currency[0] && !str_eq(q->currency, pf.currency)) {
			rc = req_fail(r, ERR_PARAM_BAD, shown,
				      "All of a quote's prices must be in the same currency (%s); "
				      "%s is in %s.",
				      q->currency, price, pf.currency);
			break;
		}
		str_copy(q->currency, sizeof(q->currency), pf.currency);
		if (pf.recurring) {
			if (interval[0] && (!str_eq(interval, pf.interval) ||
					    interval_count != pf.interval_count)) {
				rc = req_fail(r, ERR_PARAM_BAD, shown,
					      "All of a quote's recurring prices must have the "
					      "same billing interval (every %lld %s).",
					      (long long)interval_count, interval);
				break;
			}
			str_copy(interval, sizeof(interval), pf.interval);
			interval_count = pf.interval_count;
			any_recurring = true;
		} else {
			any_once = true;
		}
		if (any_recurring && any_once) {
			rc = req_fail(r, ERR_PARAM_BAD, "line_items",
				      "Tender quotes take either one-time prices (an invoice) or "
				      "recurring prices (a subscription), not both.");
			break;
		}
		int64_t amount = 0;
		if (metered)
			qty = 0;
		else if (price_facts_amount(&pf, qty, &amount) != 0 ||
			 amount > BILLING_AMOUNT_MAX) {
			rc = req_fail(r, ERR_AMOUNT_TOO_LARGE, shown,
				      "The line's amount must be at most %lld.",
				      (long long)BILLING_AMOUNT_MAX);
			break;
		}
		/* its own tax rates (they replace the quote's default_tax_rates) */
		struct tax_rate_spec ts;
		const char *tshown = arena_printf(&r->arena, "line_items[%d][tax_rates]", n);
		if (tax_rate_spec_parse(r, arena_printf(&r->arena, "line_items.%d.tax_rates", n),
					tshown, &ts) != 0 ||
		    checkout_tax_rates_check(r, db, ts.ids, ts.n, tshown) != 0) {
			rc = -1;
			break;
		}
		char li[ID_MAX];
		id_new_at(li, "li_", r->now);
		json_obj_open(&j);
		json_kv_str(&j, "id", li);
		json_kv_str(&j, "price", price);
		json_kv_int(&j, "quantity", qty);
		json_kv_int(&j, "unit_amount", pf.unit_amount);
		if (!pf.tiers && !pf.has_unit_amount)
			json_kv_str(&j, "unit_amount_decimal", pf.unit_amount_decimal);
		json_kv_int(&j, "amount", amount);
		json_kv_str(&j, "description", pf.product_name ? pf.product_name : "");
		json_kv_str_or_null(&j, "product", pf.product);
		if (metered)
			json_kv_bool(&j, "metered", true);
		if (pf.recurring) {
			json_kv_str(&j, "interval", pf.interval);
			json_kv_int(&j, "interval_count", pf.interval_count);
		}
		if (ts.n) {
			json_key(&j, "tax_rates");
			json_arr_open(&j);
			for (int k = 0; k < ts.n; k++)
				json_str(&j, ts.ids[k]);
			json_arr_close(&j);
		}
		json_obj_close(&j);
	}
	json_arr_close(&j);
	if (rc == 0 && n == 0)
		rc = req_fail(r, ERR_PARAM_MISSING, "line_items", "line_items");
	if (rc == 0) {
		q->line_items = b.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&b));
		if (!q->line_items)
			rc = req_fail(r, ERR_API, NULL, NULL);
	}
	buf_release(&b);
	return rc;
}

/* Inside a write: the quote's stored lines priced again in q->currency (an update's new
 * `currency` without line_items): each price's own amounts or its currency_options entry for it,
 * else Stripe's 400 on `currency`. 0, or -1 with r->err. */
static int lines_reprice(struct req *r, struct db *db, struct quote *q)
{
	json_error_t e;
	json_t *arr = json_loads(q->line_items, 0, &e);
	if (!json_is_array(arr)) {
		json_decref(arr);
		return req_fail(r, ERR_API, NULL, NULL);
	}
	size_t i;
	json_t *v;
	int rc = 0;
	json_array_foreach(arr, i, v)
	{
		const char *price = json_string_value(json_object_get(v, "price"));
		struct price_facts pf;
		if (!price || price_facts_in(r, db, price, q->currency, &pf) != DB_OK) {
			rc = req_fail(r, ERR_API, NULL, NULL);
			break;
		}
		if (!str_eq(pf.currency, q->currency)) {
			rc = req_fail(r, ERR_PARAM_BAD, "currency",
				      "The price %s of line_items[%d] is in %s and has no "
				      "currency_options entry for %s.",
				      price, (int)i, pf.currency, q->currency);
			break;
		}
		if (price_facts_fixed(r, &pf, price, "currency") != 0) {
			rc = -1;
			break;
		}
		int64_t qty = json_integer_value(json_object_get(v, "quantity")), amount = 0;
		if (!json_is_true(json_object_get(v, "metered")) &&
		    (price_facts_amount(&pf, qty, &amount) != 0 || amount > BILLING_AMOUNT_MAX)) {
			rc = req_fail(r, ERR_AMOUNT_TOO_LARGE, "currency",
				      "The line's amount must be at most %lld.",
				      (long long)BILLING_AMOUNT_MAX);
			break;
		}
		json_object_set_new(v, "unit_amount", json_integer(pf.unit_amount));
		if (!pf.tiers && !pf.has_unit_amount)
			json_object_set_new(v, "unit_amount_decimal",
					    json_string(pf.unit_amount_decimal));
		else
			json_object_del(v, "unit_amount_decimal");
		json_object_set_new(v, "amount", json_integer(amount));
	}
	char *js = rc == 0 ? json_dumps(arr, JSON_COMPACT) : NULL;
	json_decref(arr);
	if (rc != 0)
		return rc;
	q->line_items = js ? arena_strdup(&r->arena, js) : NULL;
	free(js);
	return q->line_items ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* The taxes of one line: each rate's on what its discounts left of it (billing_tax_line, the
 * invoice computation's arithmetic, so the invoice or subscription the quote makes comes to the
 * same), all of them and the exclusive ones. */
struct qtax {
	int n;
	struct invoice_tax_entry e[BILLING_TAX_RATES_MAX];
	int64_t all, exclusive;
};

static int qtax_compute(const struct tax_rate *t, int n, int64_t taxable, struct qtax *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (n <= 0)
		return 0;
	int64_t pct[BILLING_TAX_RATES_MAX], amounts[BILLING_TAX_RATES_MAX], net, exc, incl;
	bool inc[BILLING_TAX_RATES_MAX];
	if (n > BILLING_TAX_RATES_MAX)
		return -1;
	for (int k = 0; k < n; k++) {
		pct[k] = t[k].percent_e4;
		inc[k] = t[k].inclusive;
	}
	if (billing_tax_line(taxable, pct, inc, n, amounts, &net, &exc, &incl) != 0)
		return -1;
	for (int k = 0; k < n; k++) {
		str_copy(ret->e[k].rate, sizeof(ret->e[k].rate), t[k].id);
		ret->e[k].inclusive = inc[k];
		ret->e[k].amount = amounts[k];
		ret->e[k].taxable = net;
	}
	ret->n = n;
	ret->exclusive = exc;
	return __builtin_add_overflow(exc, incl, &ret->all) ? -1 : 0;
}

static void qtax_json(struct json *j, const char *key, const struct qtax *t)
{
	json_key(j, key);
	json_arr_open(j);
	for (int k = 0; k < t->n; k++) {
		json_obj_open(j);
		json_kv_str(j, "rate", t->e[k].rate);
		json_kv_bool(j, "inclusive", t->e[k].inclusive);
		json_kv_int(j, "amount", t->e[k].amount);
		json_kv_int(j, "taxable", t->e[k].taxable);
		json_obj_close(j);
	}
	json_arr_close(j);
}

/* The rates line l takes: its own, else the quote's default_tax_rates (dflt, n_dflt), as they
 * are now (an archived rate keeps working where it was applied); in r's arena. 0, or -1 with
 * r->err. */
static int qline_rates(struct req *r, struct db *db, const struct qline *l,
		       const struct tax_rate *dflt, int n_dflt, const struct tax_rate **ret,
		       int *ret_n)
{
	*ret = dflt;
	*ret_n = n_dflt;
	if (l->n_tax == 0)
		return 0;
	struct tax_rate *t = arena_alloc(&r->arena, (size_t)l->n_tax * sizeof(*t));
	if (!t)
		return req_fail(r, ERR_API, NULL, NULL);
	for (int k = 0; k < l->n_tax; k++)
		if (tax_rate_load(r, db, l->tax[k], &t[k]) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
	*ret = t;
	*ret_n = l->n_tax;
	return 0;
}

/* Inside a transaction: q's discounts checked (as a redemption at q's time would check them)
 * and its totals, its lines' discounts and `computed` set from its lines. 0, or -1 with r->err. */
static int quote_price(struct req *r, struct db *db, struct quote *q, int64_t t)
{
	struct qline *lines = arena_alloc(&r->arena, QUOTE_LINES_MAX * sizeof(*lines));
	struct discount *ds = arena_alloc(&r->arena, DISCOUNTS_MAX * sizeof(*ds));
	struct coupon *cs = arena_alloc(&r->arena, DISCOUNTS_MAX * sizeof(*cs));
	struct discount_spec *spec = arena_alloc(&r->arena, sizeof(*spec));
	int n = 0, n_ds = 0;
	if (!lines || !ds || !cs || !spec || lines_parse(r, q->line_items, lines, &n) != 0 ||
	    spec_from_json(r, q->discounts_spec, spec) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	int64_t amounts[QUOTE_LINES_MAX], up_amounts[QUOTE_LINES_MAX];
	int64_t disc[QUOTE_LINES_MAX], up_disc[QUOTE_LINES_MAX], rec_disc[QUOTE_LINES_MAX];
	const char *products[QUOTE_LINES_MAX];
	int64_t subtotal = 0, up_subtotal = 0;
	bool recurring = false, trial = q->sub_trial_days > 0;
	for (int i = 0; i < n; i++) {
		amounts[i] = lines[i].amount;
		products[i] = lines[i].product;
		recurring = recurring || lines[i].recurring;
		/* a trial's first invoice charges nothing for the recurring lines */
		up_amounts[i] = lines[i].recurring && trial ? 0 : lines[i].amount;
		if (__builtin_add_overflow(subtotal, amounts[i], &subtotal) ||
		    __builtin_add_overflow(up_subtotal, up_amounts[i], &up_subtotal) ||
		    subtotal > BILLING_AMOUNT_MAX)
			return req_fail(r, ERR_AMOUNT_TOO_LARGE, "line_items",
					"The quote's lines add up to more than %lld.",
					(long long)BILLING_AMOUNT_MAX);
	}
	if (spec->n && discounts_resolve(r, db, spec, q->customer, q->currency, subtotal, NULL, t,
					 ds, &n_ds) != 0)
		return -1;
	int n_forever = 0;
	struct coupon *forever = arena_alloc(&r->arena, DISCOUNTS_MAX * sizeof(*forever));
	if (!forever)
		return req_fail(r, ERR_API, NULL, NULL);
	for (int k = 0; k < n_ds; k++) {
		cs[k] = ds[k].coupon;
		/* an amount off in the quote's currency (discounts_resolve checked it has one): the
		 * coupon's own or its currency option's */
		coupon_amount_in(&ds[k].coupon, q->currency, &cs[k].amount_off);
		if (str_eq(ds[k].coupon.duration, "forever"))
			forever[n_forever++] = cs[k];
	}
	int64_t td, up_td, rec_td = 0;
	if (quote_discount_lines(amounts, products, n, cs, n_ds, disc, &td) != 0 ||
	    quote_discount_lines(up_amounts, products, n, cs, n_ds, up_disc, &up_td) != 0 ||
	    quote_discount_lines(amounts, products, n, forever, n_forever, rec_disc, &rec_td) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	/* then each line's taxes on what the discounts left of it: as offered (the quote's
	 * amounts), as its first invoice charges it (upfront) and as each period does (recurring,
	 * after the forever discounts only) */
	struct tax_rate *dflt = arena_alloc(&r->arena, BILLING_TAX_RATES_MAX * sizeof(*dflt));
	struct qtax *tx = arena_alloc(&r->arena, 3 * (size_t)(n ? n : 1) * sizeof(*tx));
	int n_dflt = 0;
	if (!dflt || !tx || tax_links_load(r, db, q->id, dflt, &n_dflt) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	struct qtax *up_tx = tx + n, *rec_tx = tx + 2 * n;
	int64_t tax_exc = 0, tax_all = 0, up_exc = 0, up_all = 0, rec_exc = 0, rec_all = 0;
	/* automatic tax: Stripe Tax's rates at the customer's location, for every line */
	struct inv_line auto_line;
	memset(&auto_line, 0, sizeof(auto_line));
	if (q->automatic_tax) {
		bool own = n_dflt > 0;
		for (int i = 0; i < n; i++)
			own = own || lines[i].n_tax > 0;
		if (own)
			return req_fail(r, ERR_PARAM_BAD, "automatic_tax[enabled]",
					"You cannot use tax rates (tax_rates or default_tax_rates) "
					"together with automatic tax.");
		if (invoice_lines_auto_tax(r, db, q->customer, t, &auto_line, 1,
					   &q->auto_tax_located) != 0)
			return -1;
		for (int k = 0; k < auto_line.n_tax; k++)
			if (tax_rate_auto_store(r, db, &auto_line.tax[k]) != 0)
				return -1;
	}
	for (int i = 0; i < n; i++) {
		const struct tax_rate *rt = auto_line.tax;
		int nr = auto_line.n_tax;
		if (!q->automatic_tax && qline_rates(r, db, &lines[i], dflt, n_dflt, &rt, &nr) != 0)
			return -1;
		if (qtax_compute(rt, nr, amounts[i] - disc[i], &tx[i]) != 0 ||
		    qtax_compute(rt, nr, up_amounts[i] - up_disc[i], &up_tx[i]) != 0 ||
		    qtax_compute(rt, lines[i].recurring ? nr : 0, amounts[i] - rec_disc[i],
				 &rec_tx[i]) != 0 ||
		    __builtin_add_overflow(tax_exc, tx[i].exclusive, &tax_exc) ||
		    __builtin_add_overflow(tax_all, tx[i].all, &tax_all) ||
		    __builtin_add_overflow(up_exc, up_tx[i].exclusive, &up_exc) ||
		    __builtin_add_overflow(up_all, up_tx[i].all, &up_all) ||
		    __builtin_add_overflow(rec_exc, rec_tx[i].exclusive, &rec_exc) ||
		    __builtin_add_overflow(rec_all, rec_tx[i].all, &rec_all))
			return req_fail(r, ERR_AMOUNT_TOO_LARGE, "line_items",
					"The quote's taxes would exceed %lld.",
					(long long)BILLING_AMOUNT_MAX);
	}
	if (subtotal - td + tax_exc > BILLING_AMOUNT_MAX)
		return req_fail(r, ERR_AMOUNT_TOO_LARGE, "line_items",
				"The quote's total with tax would exceed %lld.",
				(long long)BILLING_AMOUNT_MAX);
	q->amount_subtotal = subtotal;
	q->amount_total = subtotal - td + tax_exc;
	/* the lines again, with what the discounts and taxes take from each */
	struct buf b;
	struct json j;
	buf_init(&b, 256 * 1024);
	json_init(&j, &b);
	json_arr_open(&j);
	for (int i = 0; i < n; i++) {
		const struct qline *l = &lines[i];
		json_obj_open(&j);
		json_kv_str(&j, "id", l->id);
		json_kv_str(&j, "price", l->price);
		json_kv_int(&j, "quantity", l->quantity);
		json_kv_int(&j, "unit_amount", l->unit_amount);
		if (l->unit_amount_decimal)
			json_kv_str(&j, "unit_amount_decimal", l->unit_amount_decimal);
		json_kv_int(&j, "amount", l->amount);
		json_kv_int(&j, "amount_discount", disc[i]);
		json_kv_int(&j, "upfront_amount", up_amounts[i]);
		json_kv_int(&j, "upfront_discount", up_disc[i]);
		json_kv_str(&j, "description", l->description);
		json_kv_str_or_null(&j, "product", l->product);
		if (l->metered)
			json_kv_bool(&j, "metered", true);
		if (l->recurring) {
			json_kv_str(&j, "interval", l->interval);
			json_kv_int(&j, "interval_count", l->interval_count);
		}
		if (l->n_tax) {
			json_key(&j, "tax_rates");
			json_arr_open(&j);
			for (int k = 0; k < l->n_tax; k++)
				json_str(&j, l->tax[k]);
			json_arr_close(&j);
		}
		qtax_json(&j, "taxes", &tx[i]);
		qtax_json(&j, "upfront_taxes", &up_tx[i]);
		qtax_json(&j, "recurring_taxes", &rec_tx[i]); /* computed.recurring's breakdown */
		json_obj_close(&j);
	}
	json_arr_close(&j);
	q->line_items = b.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&b));
	buf_reset(&b);
	json_init(&j, &b);
	json_obj_open(&j);
	json_key(&j, "recurring");
	if (recurring) {
		int64_t rec_sub = 0;
		for (int i = 0; i < n; i++)
			if (lines[i].recurring)
				rec_sub += amounts[i]; /* at most subtotal: checked above */
		json_obj_open(&j);
		json_kv_int(&j, "amount_subtotal", rec_sub);
		json_kv_int(&j, "amount_total", rec_sub - rec_td + rec_exc);
		json_kv_str(&j, "interval", lines[0].interval);
		json_kv_int(&j, "interval_count", lines[0].interval_count);
		json_key(&j, "total_details");
		total_details(&j, rec_td, rec_all);
		json_obj_close(&j);
	} else {
		json_nil(&j);
	}
	json_key(&j, "upfront");
	json_obj_open(&j);
	json_kv_int(&j, "amount_subtotal", up_subtotal);
	json_kv_int(&j, "amount_total", up_subtotal - up_td + up_exc);
	json_key(&j, "total_details");
	total_details(&j, up_td, up_all);
	json_obj_close(&j);
	json_obj_close(&j);
	q->computed = b.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&b));
	buf_release(&b);
	if (!q->line_items || !q->computed)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

/* ---- parameters shared by create and update ---- */

/* description, header, footer, expires_at, metadata, discounts, subscription_data: what the
 * request sets of them on q (a draft). 0, or -1 with r->err. */
static int connect_params(struct req *r, struct quote *q);

static int common_params(struct req *r, struct quote *q, int64_t now)
{
	/* the collection method, by a subscription's rules: send_invoice needs days_until_due
	 * (an update of a send_invoice quote keeps its own), which charge_automatically refuses */
	const char *cm = param_str(r, "collection_method");
	bool sends = cm ? str_eq(cm, "send_invoice") : q->sends;
	int64_t days = 0;
	bool has_days = param_int(r, "invoice_settings.days_until_due", &days) == 1;
	if (has_days && !sends)
		return req_fail(r, ERR_PARAM_BAD, "invoice_settings[days_until_due]",
				"Invalid days_until_due: it can only be set when collection_method "
				"is send_invoice.");
	if (has_days && (days < 0 || days > INVOICE_DAYS_UNTIL_DUE_MAX))
		return req_fail(r, ERR_PARAM_BAD, "invoice_settings[days_until_due]",
				"days_until_due must be between 0 and %d.",
				INVOICE_DAYS_UNTIL_DUE_MAX);
	if (sends && !has_days) {
		if (!q->sends)
			return req_fail(r, ERR_PARAM_MISSING, "invoice_settings[days_until_due]",
					"invoice_settings[days_until_due]");
		days = q->days_until_due;
	}
	q->sends = sends;
	q->days_until_due = sends ? days : 0;
	param_bool(r, "automatic_tax.enabled", &q->automatic_tax);
	q->description = str_update(r, "description", q->description);
	q->header = str_update(r, "header", q->header);
	q->footer = str_update(r, "footer", q->footer);
	int64_t v;
	if (param_int(r, "expires_at", &v) == 1) {
		if (v <= now || v > now + QUOTE_EXPIRES_MAX_S)
			return req_fail(r, ERR_PARAM_BAD, "expires_at",
					"Invalid timestamp: must be in the future and at most 5 "
					"years from now.");
		q->expires_at = v;
	}
	if (metadata_apply(r, q->metadata, "metadata", &q->metadata) != 0)
		return -1;
	if (param_present(r, "discounts")) {
		struct discount_spec spec;
		if (discount_spec_parse(r, "discounts", false, &spec) != 0)
			return -1;
		for (int i = 0; i < spec.n; i++)
			if (spec.e[i].discount)
				return req_fail(r, ERR_PARAM_BAD, spec.e[i].shown,
						"A quote takes coupons and promotion codes, not "
						"existing discounts.");
		if (spec_to_json(r, &spec, &q->discounts_spec) != 0)
			return -1;
	}
	q->sub_description = str_update(r, "subscription_data.description", q->sub_description);
	if (param_present(r, "subscription_data.effective_date"))
		return req_fail(r, ERR_PARAM_BAD, "subscription_data[effective_date]",
				"Tender quotes start their subscription when they are accepted "
				"(subscription_data[effective_date] is not supported).");
	const char *td = param_str(r, "subscription_data.trial_period_days");
	if (td && !*td) {
		q->sub_trial_days = -1;
	} else if (param_int(r, "subscription_data.trial_period_days", &v) == 1) {
		if (v < 1 || v > QUOTE_TRIAL_DAYS_MAX)
			return req_fail(r, ERR_PARAM_BAD, "subscription_data[trial_period_days]",
					"trial_period_days must be between 1 and %d.",
					QUOTE_TRIAL_DAYS_MAX);
		q->sub_trial_days = v;
	}
	const char *old = q->sub_metadata ? q->sub_metadata : "{}";
	if (metadata_apply(r, old, "subscription_data.metadata", &q->sub_metadata) != 0)
		return -1;
	return connect_params(r, q);
}

/* ---- Connect ---- */

/* transfer_data's fields, from the JSON connect_params writes: destination (NULL: none),
 * amount (-1: none), amount_percent in percent_e4 (-1: none; read as text, no floating point) */
struct qtransfer {
	const char *destination;
	int64_t amount, percent_e4;
};

static void transfer_parse(struct req *r, const char *js, struct qtransfer *t)
{
	t->destination = NULL;
	t->amount = t->percent_e4 = -1;
	json_t *o = js ? json_loads(js, 0, NULL) : NULL;
	if (!o)
		return;
	const char *d = json_string_value(json_object_get(o, "destination"));
	t->destination = d ? arena_strdup(&r->arena, d) : NULL;
	json_t *a = json_object_get(o, "amount");
	if (json_is_integer(a))
		t->amount = json_integer_value(a);
	json_decref(o);
	const char *k = strstr(js, "\"amount_percent\":");
	if (!k)
		return;
	k += strlen("\"amount_percent\":");
	char v[16];
	size_t n = strcspn(k, ",}");
	if (n == 0 || n >= sizeof(v) || strncmp(k, "null", 4) == 0)
		return;
	memcpy(v, k, n);
	v[n] = '\0';
	int64_t e4 = 0;
	if (str_eq(v, "0") || billing_percent_parse(v, &e4) == 0)
		t->percent_e4 = e4;
}

/* application_fee_amount, application_fee_percent, on_behalf_of, transfer_data ("" unsets
 * each) onto q; checked against its lines and the store by connect_check. 0, or -1. */
static int connect_params(struct req *r, struct quote *q)
{
	const char *v = param_str(r, "application_fee_amount");
	if (v) {
		int64_t a = -1;
		if (*v && (param_int(r, "application_fee_amount", &a) != 1 || a < 0 ||
			   a > BILLING_AMOUNT_MAX))
			return req_fail(r, ERR_PARAM_BAD, "application_fee_amount",
					"application_fee_amount must be between 0 and %lld.",
					(long long)BILLING_AMOUNT_MAX);
		q->fee_amount = a;
	}
	v = param_str(r, "application_fee_percent");
	if (v) {
		q->fee_e4 = -1;
		if (*v && billing_percent2_parse(r, "application_fee_percent", v, &q->fee_e4) != 0)
			return -1;
	}
	v = param_str(r, "on_behalf_of");
	if (v)
		q->on_behalf_of = *v ? v : NULL;
	if (!param_present(r, "transfer_data"))
		return 0;
	v = param_str(r, "transfer_data");
	if (v && !*v) {
		q->transfer_data = NULL;
		return 0;
	}
	const char *dest = param_str(r, "transfer_data.destination");
	const char *pct = param_str(r, "transfer_data.amount_percent");
	int64_t amount = -1, e4 = -1;
	if (param_int(r, "transfer_data.amount", &amount) == 1 &&
	    (amount < 1 || amount > BILLING_AMOUNT_MAX))
		return req_fail(r, ERR_PARAM_BAD, "transfer_data[amount]",
				"transfer_data[amount] must be between 1 and %lld.",
				(long long)BILLING_AMOUNT_MAX);
	if (pct && billing_percent2_parse(r, "transfer_data[amount_percent]", pct, &e4) != 0)
		return -1;
	if (amount >= 0 && e4 >= 0)
		return req_fail(
		    r, ERR_PARAM_BAD, "transfer_data[amount_percent]",
		    "You may only specify one of these parameters: transfer_data[amount], "
		    "transfer_data[amount_percent].");
	struct buf b;
	struct json j;
	buf_init(&b, 512);
	json_init(&j, &b);
	json_obj_open(&j);
	if (amount >= 0)
		json_kv_int(&j, "amount", amount);
	else
		json_kv_null(&j, "amount");
	if (e4 >= 0) {
		char shown[16];
		billing_percent_format(e4, shown, sizeof(shown));
		json_kv_raw(&j, "amount_percent", shown, strlen(shown));
	} else {
		json_kv_null(&j, "amount_percent");
	}
	json_kv_str(&j, "destination", dest);
	json_obj_close(&j);
	q->transfer_data = b.failed ? NULL : arena_strndup(&r->arena, b.data, b.len);
	buf_release(&b);
	return q->transfer_data ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* Inside a write, q priced: its Connect terms fit its lines (Stripe: amounts only without
 * recurring lines, percentages only with them; an amount at most the quote's total) and name
 * usable accounts; a fee needs a destination or the Stripe-Account header. 0, or -1. */
static int connect_check(struct req *r, struct db *db, const struct quote *q)
{
	if (q->fee_amount < 0 && q->fee_e4 < 0 && !q->on_behalf_of && !q->transfer_data)
		return 0;
	struct qline *lines = arena_alloc(&r->arena, QUOTE_LINES_MAX * sizeof(*lines));
	int n = 0;
	if (!lines || lines_parse(r, q->line_items, lines, &n) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	bool recurring = n > 0 && lines[0].recurring;
	struct qtransfer t;
	transfer_parse(r, q->transfer_data, &t);
	if (recurring && q->fee_amount >= 0)
		return req_fail(r, ERR_PARAM_BAD, "application_fee_amount",
				"There cannot be any line items with recurring prices when using "
				"application_fee_amount.");
	if (recurring && t.amount >= 0)
		return req_fail(r, ERR_PARAM_BAD, "transfer_data[amount]",
				"There cannot be any line items with recurring prices when using "
				"transfer_data[amount].");
	if (!recurring && q->fee_e4 >= 0)
		return req_fail(r, ERR_PARAM_BAD, "application_fee_percent",
				"There must be at least 1 line item with a recurring price to use "
				"application_fee_percent.");
	if (!recurring && t.percent_e4 >= 0)
		return req_fail(r, ERR_PARAM_BAD, "transfer_data[amount_percent]",
				"There must be at least 1 line item with a recurring price to use "
				"transfer_data[amount_percent].");
	/* as a subscription's (subscriptions.c, settings_check) */
	if (q->fee_e4 >= 0 && t.percent_e4 >= 0)
		return req_fail(r, ERR_PARAM_BAD, "application_fee_percent",
				"You may only specify one of these parameters: "
				"application_fee_percent, transfer_data[amount_percent].");
	if (q->fee_amount > q->amount_total)
		return req_fail(
		    r, ERR_PARAM_BAD, "application_fee_amount",
		    "application_fee_amount cannot be more than the quote's total (%lld).",
		    (long long)q->amount_total);
	if (t.amount > q->amount_total)
		return req_fail(
		    r, ERR_PARAM_BAD, "transfer_data[amount]",
		    "transfer_data[amount] cannot be more than the quote's total (%lld).",
		    (long long)q->amount_total);
	if ((q->fee_amount >= 0 || q->fee_e4 >= 0) && !t.destination && !r->platform_id[0])
		return req_fail(
		    r, ERR_PARAM_BAD,
		    q->fee_amount >= 0 ? "application_fee_amount" : "application_fee_percent",
		    "Can only apply an application fee when the request is made on behalf "
		    "of another account (using an OAuth key or the Stripe-Account header) "
		    "or with transfer_data[destination].");
	return billing_connect_check(r, db, t.destination, q->on_behalf_of);
}

static const char SQL_BY_INVOICE[] =
    "SELECT id FROM quotes WHERE merchant_id = $1 AND invoice = $2 AND status = 'accepted'";

int quote_invoice_connect(struct req *r, struct db *db, const char *invoice, int64_t amount,
			  struct payment_connect *ret)
{
	struct db_stmt *st = db_prepare(db, SQL_BY_INVOICE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, invoice, -1);
	int rc = db_step(st);
	const char *id = rc == DB_ROW ? col_text_dup(&r->arena, st, 0) : NULL;
	db_reset(st);
	if (rc == DB_DONE)
		return 0;
	struct quote q;
	if (!id || quote_load(r, db, r->merchant_id, id, &q) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	struct qtransfer t;
	transfer_parse(r, q.transfer_data, &t);
	if (q.fee_amount < 0 && !t.destination && !q.on_behalf_of)
		return 0;
	memset(ret, 0, sizeof(*ret));
	ret->destination = t.destination;
	ret->on_behalf_of = q.on_behalf_of;
	/* the quote's amounts, at most what the payment asks for (a credit balance or a credit
	 * note may have lowered it since) */
	if (q.fee_amount > 0)
		ret->application_fee_amount = q.fee_amount < amount ? q.fee_amount : amount;
	if (t.destination && t.amount >= 0)
		ret->transfer_amount = t.amount < amount ? t.amount : amount;
	return 1;
}

/* Inside a write: the request's default_tax_rates[] become q's (kept as tax_rate_links of the
 * quote, tax_rates.c: each of r's merchant and active unless q had it; '' removes them); the
 * lines without rates of their own take them. 0, or -1 with r->err. */
static int default_tax_rates_set(struct req *r, struct db *db, const struct quote *q)
{
	struct tax_rate_spec s;
	if (tax_rate_spec_parse(r, "default_tax_rates", "default_tax_rates", &s) != 0)
		return -1;
	return tax_links_set(r, db, q->id, &s);
}

/* ---- create ---- */

struct write_ctx {
	struct req *r;
	const char *id;
	struct quote q;
};

/* from_quote[quote, is_revision] of a create: q starts as a copy of that quote (see "from_quote"
 * above), its lines with new ids; *ts its default_tax_rates, for the new quote. 0, or -1 with
 * r->err. */
static int from_quote_copy(struct req *r, struct db *db, struct quote *q, struct tax_rate_spec *ts)
{
	const char *src_id = param_str(r, "from_quote.quote");
	bool revision = false;
	param_bool(r, "from_quote.is_revision", &revision);
	struct quote src;
	int rc = quote_load(r, db, r->merchant_id, src_id, &src);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "quote", src_id, "from_quote[quote]");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (revision && !str_eq(src.status, "open"))
		return req_fail(r, ERR_PARAM_BAD, "from_quote[quote]",
				"Only an open quote can be revised; %s is %s.", src.id, src.status);
	str_copy(q->currency, sizeof(q->currency), src.currency);
	q->customer = src.customer;
	q->description = src.description;
	q->header = src.header;
	q->footer = src.footer;
	q->discounts_spec = src.discounts_spec;
	q->sub_description = src.sub_description;
	q->sub_trial_days = src.sub_trial_days;
	q->sub_metadata = src.sub_metadata;
	q->sub_flexible = src.sub_flexible;
	q->sub_pd = src.sub_pd;
	q->metadata = src.metadata;
	q->sends = src.sends;
	q->days_until_due = src.days_until_due;
	q->automatic_tax = src.automatic_tax;
	q->fee_amount = src.fee_amount;
	q->fee_e4 = src.fee_e4;
	q->on_behalf_of = src.on_behalf_of;
	q->transfer_data = src.transfer_data;
	/* its lines, each with an id of its own */
	json_t *arr = json_loads(src.line_items, 0, NULL);
	if (!json_is_array(arr)) {
		json_decref(arr);
		return req_fail(r, ERR_API, NULL, NULL);
	}
	for (size_t i = 0; i < json_array_size(arr); i++) {
		char lid[ID_MAX];
		id_new_at(lid, "li_", r->now);
		json_object_set_new(json_array_get(arr, i), "id", json_string(lid));
	}
	char *dump = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	q->line_items = dump ? arena_strdup(&r->arena, dump) : NULL;
	free(dump);
	if (!q->line_items)
		return req_fail(r, ERR_API, NULL, NULL);
	q->from_quote = arena_printf(&r->arena, "{\"is_revision\":%s,\"quote\":%s}",
				     revision ? "true" : "false", json_quote(r, src.id));
	/* its default_tax_rates (the request's, if any, replace them after) */
	struct tax_rate rates[BILLING_TAX_RATES_MAX];
	int n = 0;
	if (!q->from_quote || tax_links_load(r, db, src.id, rates, &n) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	*ts = (struct tax_rate_spec){
	    .present = n > 0, .n = n, .shown = "default_tax_rates", .carried = true};
	for (int k = 0; k < n; k++)
		ts->ids[k] = arena_strdup(&r->arena, rates[k].id);
	return 0;
}

static int create_fn(struct db *db, void *p)
{
	struct write_ctx *w = p;
	struct req *r = w->r;
	struct quote *q = &w->q;
	memset(q, 0, sizeof(*q));
	q->metadata = "{}";
	q->discounts_spec = q->discounts = "[]";
	q->sub_trial_days = -1;
	q->fee_amount = q->fee_e4 = -1;
	bool from = param_present(r, "from_quote");
	/* from_quote: a copy of that quote, of its customer unless `customer` names another
	 * (checked below); its id and times are this quote's */
	struct tax_rate_spec from_tax = {0};
	if (from && from_quote_copy(r, db, q, &from_tax) != 0)
		return -1;
	if (param_str(r, "customer"))
		q->customer = param_str(r, "customer");
	if (!q->customer)
		return req_fail(r, ERR_PARAM_MISSING, "customer", "customer");
	struct billing_customer bc;
	if (billing_customer_get(r, db, q->customer, &bc) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!bc.found)
		return req_fail_missing(r, "customer", q->customer, "customer");
	/* test_clock: the customer's (a quote runs on its customer's time) */
	const char *tc = param_str(r, "test_clock");
	if (tc) {
		struct test_clock clk;
		int rc = test_clock_load(r, db, tc, &clk);
		if (rc == DB_NOTFOUND)
			return req_fail_missing(r, "test_clock", tc, "test_clock");
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (!bc.test_clock || !str_eq(bc.test_clock, tc))
			return req_fail(
			    r, ERR_PARAM_BAD, "test_clock",
			    "The quote's test clock must be its customer's (%s has %s).",
			    q->customer, bc.test_clock ? bc.test_clock : "none");
	}
	int64_t now;
	if (billing_now(r, db, bc.test_clock, &now) != 0)
		return -1;
	q->test_clock = bc.test_clock;
	id_new_at(q->id, "qt_", now);
	q->created = now;
	if (tax_links_set(r, db, q->id, &from_tax) != 0)
		return -1;
	q->status = "draft";
	q->expires_at = now + QUOTE_EXPIRES_DEFAULT_S;
	/* `currency`: the lines priced in it (own or currency_options); else their prices' own */
	bool new_currency = false;
	if (param_present(r, "currency")) {
		char cur[8];
		if (param_currency(r, "currency", NULL, cur) != 0)
			return -1;
		new_currency = from && !str_eq(cur, q->currency);
		str_copy(q->currency, sizeof(q->currency), cur);
	}
	/* subscription_data[billing_mode]: given, or a copy's, or the API version's default */
	const char *pd = q->sub_pd;
	if ((!from || param_present(r, "subscription_data.billing_mode")) &&
	    subscription_billing_mode_param_pd(r, "subscription_data.billing_mode",
					       "subscription_data[billing_mode]", &q->sub_flexible,
					       &pd) != 0)
		return -1;
	q->sub_pd = str_eq(pd, "itemized") ? "itemized" : NULL;
	if (common_params(r, q, now) != 0 || default_tax_rates_set(r, db, q) != 0)
		return -1;
	/* a copy's lines stay unless line_items replaces them (priced again in a new currency) */
	if ((!from || param_present(r, "line_items")) && lines_from_params(r, db, q, true) != 0)
		return -1;
	if (from && !param_present(r, "line_items") && new_currency && lines_reprice(r, db, q) != 0)
		return -1;
	if (quote_price(r, db, q, now) != 0 || connect_check(r, db, q) != 0 ||
	    quote_insert(r, db, q) != 0)
		return -1;
	return quote_emit(r, db, q, "quote.created", true);
}

static int h_create(struct req *r)
{
	struct write_ctx w = {.r = r};
	return req_write(r, create_fn, &w);
}

/* ---- retrieve, update, finalize, cancel ---- */

static int load_or_404(struct req *r, struct db *db, const char *id, struct quote *q)
{
	int rc = quote_load(r, db, r->merchant_id, id, q);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "quote", id, "id");
	return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static int retrieve_fn(struct db *db, void *p)
{
	struct write_ctx *w = p;
	if (load_or_404(w->r, db, w->id, &w->q) != 0)
		return -1;
	return quote_render(w->r, db, &w->q, true, req_json(w->r));
}

static int h_retrieve(struct req *r)
{
	struct write_ctx w = {.r = r, .id = r->args[0]};
	return req_read(r, retrieve_fn, &w);
}

static int update_fn(struct db *db, void *p)
{
	struct write_ctx *w = p;
	struct req *r = w->r;
	struct quote *q = &w->q;
	if (load_or_404(r, db, w->id, q) != 0)
		return -1;
	if (!str_eq(q->status, "draft"))
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"You can only update a quote in the draft status; %s is %s.", q->id,
				q->status);
	if (param_present(r, "customer") && !str_eq(param_str(r, "customer"), q->customer)) {
		struct billing_customer bc;
		const char *c = param_str(r, "customer");
		if (billing_customer_get(r, db, c, &bc) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (!bc.found)
			return req_fail_missing(r, "customer", c, "customer");
		q->customer = c;
		q->test_clock = bc.test_clock;
	}
	int64_t now;
	if (billing_now(r, db, q->test_clock, &now) != 0 || common_params(r, q, now) != 0 ||
	    default_tax_rates_set(r, db, q) != 0)
		return -1;
	/* the quote keeps its currency: new lines are priced in it, and a new `currency` prices
	 * the lines (given, or the ones it has) in that one */
	bool new_currency = false;
	if (param_present(r, "currency")) {
		char cur[8];
		if (param_currency(r, "currency", NULL, cur) != 0)
			return -1;
		new_currency = !str_eq(cur, q->currency);
		str_copy(q->currency, sizeof(q->currency), cur);
	}
	if (param_present(r, "line_items")) {
		if (lines_from_params(r, db, q, true) != 0)
			return -1;
	} else if (new_currency && lines_reprice(r, db, q) != 0) {
		return -1;
	}
	if (quote_price(r, db, q, now) != 0 || connect_check(r, db, q) != 0 ||
	    quote_save(r, db, r->merchant_id, q, "draft") != 0)
		return -1;
	return quote_render(r, db, q, true, req_json(r));
}

static int h_update(struct req *r)
{
	struct write_ctx w = {.r = r, .id = r->args[0]};
	return req_write(r, update_fn, &w);
}

static const char SQL_CUSTOMER_PREFIX[] =
    "SELECT invoice_prefix FROM customers WHERE merchant_id = $1 AND id = $2";
static const char SQL_COUNT_NUMBERED[] =
    "SELECT COUNT(*) FROM quotes WHERE merchant_id = $1 AND customer = $2 AND number IS NOT NULL";

/* Stripe's quote number: QT-{the customer's invoice prefix}-{its count of numbered quotes,
 * four digits}-1 (the last part counts revisions: finalize_fn numbers a revision after the quote
 * it revises). */
static int quote_number(struct req *r, struct db *db, const char *customer, const char **ret)
{
	struct db_stmt *st = db_prepare(db, SQL_CUSTOMER_PREFIX);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, customer, -1);
	const char *prefix = db_step(st) == DB_ROW ? col_text_dup(&r->arena, st, 0) : NULL;
	db_reset(st);
	st = db_prepare(db, SQL_COUNT_NUMBERED);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, customer, -1);
	int64_t count = db_step(st) == DB_ROW ? db_col_int64(st, 0) : -1;
	db_reset(st);
	if (count < 0)
		return req_fail(r, ERR_API, NULL, NULL);
	*ret = arena_printf(&r->arena, "QT-%s-%04lld-1", prefix && *prefix ? prefix : "TENDER",
			    (long long)(count + 1));
	return *ret ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static int quote_cancel(struct req *r, struct db *db, struct quote *q, int64_t t, bool answer);

static int finalize_fn(struct db *db, void *p)
{
	struct write_ctx *w = p;
	struct req *r = w->r;
	struct quote *q = &w->q;
	if (load_or_404(r, db, w->id, q) != 0)
		return -1;
	if (!str_eq(q->status, "draft"))
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"This quote is %s; only a draft quote can be finalized.",
				q->status);
	int64_t now, v;
	if (billing_now(r, db, q->test_clock, &now) != 0)
		return -1;
	if (param_int(r, "expires_at", &v) == 1) {
		if (v <= now || v > now + QUOTE_EXPIRES_MAX_S)
			return req_fail(r, ERR_PARAM_BAD, "expires_at",
					"Invalid timestamp: must be in the future and at most 5 "
					"years from now.");
		q->expires_at = v;
	}
	if (q->expires_at <= now)
		return req_fail(r, ERR_INVALID_STATE, "expires_at",
				"The quote's expires_at has passed; set a later one to finalize "
				"it.");
	/* priced again: what is offered is what can be redeemed now */
	if (quote_price(r, db, q, now) != 0)
		return -1;
	if (q->automatic_tax && !q->auto_tax_located)
		return req_fail(r, ERR_TAX_LOCATION_INVALID, NULL,
				"The customer's location isn't recognized: add an address to "
				"customer %s to finalize a quote with automatic tax.",
				q->customer);
	/* a revision: numbered after the quote it revises, which it replaces (canceled) */
	struct quote src;
	bool revises = false;
	if (q->from_quote && strstr(q->from_quote, "\"is_revision\":true")) {
		json_t *o = json_loads(q->from_quote, 0, NULL);
		const char *sid = json_string_value(json_object_get(o, "quote"));
		int rc = sid ? quote_load(r, db, r->merchant_id, sid, &src) : DB_ERR;
		json_decref(o);
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		revises = true;
	}
	if (revises && src.number) {
		/* QT-…-{n}: the last part counts the revisions */
		const char *dash = strrchr(src.number, '-');
		int64_t rev = 0;
		if (!dash || parse_i64(dash + 1, &rev) != 0 || rev < 1)
			return req_fail(r, ERR_API, NULL, NULL);
		q->number = arena_printf(&r->arena, "%.*s-%lld", (int)(dash - src.number),
					 src.number, (long long)(rev + 1));
		if (!q->number)
			return req_fail(r, ERR_API, NULL, NULL);
	} else if (quote_number(r, db, q->customer, &q->number) != 0) {
		return -1;
	}
	if (revises && (str_eq(src.status, "open") || str_eq(src.status, "draft"))) {
		int64_t src_now;
		if (billing_now(r, db, src.test_clock, &src_now) != 0 ||
		    quote_cancel(r, db, &src, src_now, false) != 0)
			return -1;
	}
	q->status = "open";
	q->finalized_at = now;
	if (quote_save(r, db, r->merchant_id, q, "draft") != 0)
		return -1;
	return quote_emit(r, db, q, "quote.finalized", true);
}

static int h_finalize(struct req *r)
{
	struct write_ctx w = {.r = r, .id = r->args[0]};
	return req_write(r, finalize_fn, &w);
}

/* Inside a write: q (draft or open) canceled at t, quote.canceled. */
static int quote_cancel(struct req *r, struct db *db, struct quote *q, int64_t t, bool answer)
{
	const char *was = q->status;
	q->status = "canceled";
	q->canceled_at = t;
	if (quote_save(r, db, r->merchant_id, q, was) != 0)
		return -1;
	return quote_emit(r, db, q, "quote.canceled", answer);
}

static int cancel_fn(struct db *db, void *p)
{
	struct write_ctx *w = p;
	struct req *r = w->r;
	struct quote *q = &w->q;
	if (load_or_404(r, db, w->id, q) != 0)
		return -1;
	if (!str_eq(q->status, "draft") && !str_eq(q->status, "open"))
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"This quote is %s; only a draft or open quote can be canceled.",
				q->status);
	int64_t now;
	if (billing_now(r, db, q->test_clock, &now) != 0)
		return -1;
	return quote_cancel(r, db, q, now, true);
}

static int h_cancel(struct req *r)
{
	struct write_ctx w = {.r = r, .id = r->args[0]};
	return req_write(r, cancel_fn, &w);
}

/* ---- accept ---- */

struct accept_ctx {
	struct req *r;
	const char *id;
	struct quote q;
	bool recurring;
	int n;
	struct qline lines[QUOTE_LINES_MAX];
	char invoice_id[ID_MAX];
	int64_t now; /* the quote's time (its customer's test clock's) when it was read */
	struct sub_for_schedule sx;
	/* its default_tax_rates, for what it makes */
	int n_dflt;
	struct tax_rate dflt[BILLING_TAX_RATES_MAX];
	const char *dflt_ids[BILLING_TAX_RATES_MAX];
};

static int accept_check(struct req *r, struct quote *q, int64_t now)
{
	if (!str_eq(q->status, "open"))
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"This quote is %s; only an open quote can be accepted.", q->status);
	if (q->expires_at <= now)
		return req_fail(r, ERR_INVALID_STATE, NULL, "This quote expired at %lld.",
				(long long)q->expires_at);
	return 0;
}

static int accept_read_fn(struct db *db, void *p)
{
	struct accept_ctx *c = p;
	struct req *r = c->r;
	int64_t now;
	if (load_or_404(r, db, c->id, &c->q) != 0 ||
	    billing_now(r, db, c->q.test_clock, &now) != 0 || accept_check(r, &c->q, now) != 0)
		return -1;
	c->now = now;
	if (lines_parse(r, c->q.line_items, c->lines, &c->n) != 0 ||
	    tax_links_load(r, db, c->q.id, c->dflt, &c->n_dflt) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	for (int k = 0; k < c->n_dflt; k++)
		c->dflt_ids[k] = c->dflt[k].id;
	c->recurring = c->n > 0 && c->lines[0].recurring;
	return 0;
}

/* The quote's side of its acceptance, inside the write that made the invoice or subscription:
 * guarded on `open`, quote.accepted, and the answer. */
static int accept_finish(struct req *r, struct db *db, struct accept_ctx *c, const char *discounts)
{
	struct quote *q = &c->q;
	struct quote cur;
	int64_t now;
	if (load_or_404(r, db, c->id, &cur) != 0 || billing_now(r, db, cur.test_clock, &now) != 0 ||
	    accept_check(r, &cur, now) != 0)
		return -1;
	*q = cur;
	q->status = "accepted";
	q->accepted_at = now;
	q->invoice = c->invoice_id[0] ? c->invoice_id : NULL;
	q->subscription = c->sx.id[0] ? c->sx.id : NULL;
	q->discounts = discounts ? discounts : "[]";
	if (quote_save(r, db, r->merchant_id, q, "open") != 0)
		return -1;
	return quote_emit(r, db, q, "quote.accepted", true);
}

static int accept_invoice_fn(struct db *db, void *p)
{
	struct accept_ctx *c = p;
	struct req *r = c->r;
	struct quote *q = &c->q;
	struct invoice in;
	memset(&in, 0, sizeof(in));
	str_copy(in.id, sizeof(in.id), c->invoice_id);
	in.customer = q->customer;
	in.description = q->description;
	in.metadata = "{}";
	in.auto_advance = true;
	/* send_invoice: the draft is finalized for the customer to pay, due days_until_due days
	 * later (invoices.c), never charged */
	in.collection_method = q->sends ? "send_invoice" : "charge_automatically";
	in.has_days_until_due = q->sends;
	in.days_until_due = q->sends ? q->days_until_due : 0;
	in.automatic_tax = q->automatic_tax; /* Stripe Tax taxes it as it taxed the quote */
	int64_t now;
	if (billing_now(r, db, q->test_clock, &now) != 0)
		return -1;
	for (int i = 0; i < c->n; i++) {
		const struct qline *l = &c->lines[i];
		struct invoice_item ii;
		memset(&ii, 0, sizeof(ii));
		id_new_at(ii.id, "ii_", now);
		ii.created = now;
		ii.customer = q->customer;
		str_copy(ii.currency, sizeof(ii.currency), q->currency);
		ii.amount = l->amount;
		ii.unit_amount = l->unit_amount;
		ii.unit_amount_decimal = l->unit_amount_decimal;
		ii.quantity = l->quantity;
		ii.price = l->price;
		ii.description = l->description;
		ii.metadata = "{}";
		ii.invoice = c->invoice_id;
		ii.test_clock = q->test_clock;
		ii.period_start = ii.period_end = now;
		ii.discountable = true;
		/* its own tax rates, before its invoiceitem.created shows them */
		struct tax_rate_spec ts = {.present = l->n_tax > 0,
					   .n = l->n_tax,
					   .shown = "line_items[tax_rates]",
					   .carried = true};
		for (int k = 0; k < l->n_tax; k++)
			ts.ids[k] = l->tax[k];
		if (tax_links_set(r, db, ii.id, &ts) != 0 || invoice_item_insert(r, db, &ii) != 0)
			return -1;
	}
	/* the quote's default_tax_rates are the invoice's */
	struct tax_rate_spec dts = {.present = c->n_dflt > 0,
				    .n = c->n_dflt,
				    .shown = "default_tax_rates",
				    .carried = true};
	for (int k = 0; k < c->n_dflt; k++)
		dts.ids[k] = c->dflt_ids[k];
	in.default_tax_spec = &dts;
	struct discount_spec spec;
	if (spec_from_json(r, q->discounts_spec, &spec) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	/* the quote's discounts are the invoice's (none: none, not the customer's) */
	spec.present = true;
	if (invoice_draft_create(r, db, &in, q->currency, false, &spec) != 0)
		return -1;
	return accept_finish(r, db, c, in.discounts);
}

static const char SQL_SUB_INVOICE[] =
    "SELECT latest_invoice FROM subscriptions WHERE merchant_id = $1 AND id = $2";
static const char SQL_SUB_DISCOUNTS[] =
    "SELECT id FROM discounts WHERE merchant_id = $1 AND subscription = $2"
    " AND subscription_item IS NULL ORDER BY pos";

static int accept_sub_before(struct req *r, struct db *db, void *p)
{
	(void)r;
	(void)db;
	(void)p;
	return 0;
}

/* After the subscription's rows, in its write: its first invoice and discounts named by the
 * quote. */
static int accept_sub_answer(struct req *r, struct db *db, void *p)
{
	struct accept_ctx *c = p;
	struct db_stmt *st = db_prepare(db, SQL_SUB_INVOICE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, c->sx.id, -1);
	const char *inv = db_step(st) == DB_ROW ? col_text_dup(&r->arena, st, 0) : NULL;
	db_reset(st);
	str_copy(c->invoice_id, sizeof(c->invoice_id), inv ? inv : "");
	st = db_prepare(db, SQL_SUB_DISCOUNTS);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, c->sx.id, -1);
	struct buf b;
	struct json j;
	buf_init(&b, 64 * 1024);
	json_init(&j, &b);
	json_arr_open(&j);
	int rc;
	for (int k = 0; (rc = db_step(st)) == DB_ROW && k < DISCOUNTS_MAX; k++)
		json_str(&j, db_col_text(st, 0, NULL));
	db_reset(st);
	json_arr_close(&j);
	const char *ids = b.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&b));
	buf_release(&b);
	if (!ids || (rc != DB_DONE && rc != DB_ROW))
		return req_fail(r, ERR_API, NULL, NULL);
	return accept_finish(r, db, c, ids);
}

static int h_accept(struct req *r)
{
	struct accept_ctx *c = arena_alloc(&r->arena, sizeof(*c));
	if (!c)
		return req_fail(r, ERR_API, NULL, NULL);
	memset(c, 0, sizeof(*c));
	c->r = r;
	c->id = r->args[0];
	if (req_read(r, accept_read_fn, c) != 0)
		return -1;
	struct quote *q = &c->q;
	if (!c->recurring) {
		id_new_at(c->invoice_id, "in_", r->now);
		return req_write(r, accept_invoice_fn, c);
	}
	/* the subscription, through the create behind POST /v1/subscriptions */
	struct sub_for_schedule *x = &c->sx;
	x->customer = q->customer;
	x->metadata = q->sub_metadata;
	x->description = q->sub_description;
	x->flexible = q->sub_flexible;
	x->proration_discounts = q->sub_pd;
	x->n_items = c->n;
	for (int i = 0; i < c->n && i < SUB_ITEMS_MAX; i++) {
		x->items[i].price = c->lines[i].price;
		x->items[i].quantity = c->lines[i].quantity;
		x->items[i].tax_rates = c->lines[i].tax;
		x->items[i].n_tax_rates = c->lines[i].n_tax;
	}
	x->sends = q->sends;
	x->days_until_due = q->days_until_due;
	x->automatic_tax = q->automatic_tax;
	/* its Connect terms are the subscription's (its invoices' PaymentIntents carry them) */
	struct qtransfer t;
	transfer_parse(r, q->transfer_data, &t);
	x->fee_set = q->fee_e4 >= 0;
	x->fee_e4 = q->fee_e4;
	x->transfer_destination = t.destination;
	x->transfer_percent_set = t.percent_e4 >= 0;
	x->transfer_percent_e4 = t.percent_e4;
	x->on_behalf_of = q->on_behalf_of;
	x->currency = q->currency; /* its lines were priced in it (currency_options too) */
	x->default_tax_rates = c->dflt_ids;
	x->n_default_tax_rates = c->n_dflt;
	if (q->sub_trial_days > 0)
		x->trial_end = c->now + q->sub_trial_days * 86400;
	if (spec_from_json(r, q->discounts_spec, &x->discounts) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	x->before = accept_sub_before;
	x->answer = accept_sub_answer;
	x->ctx = c;
	return subscription_create_for_schedule(r, x);
}

/* ---- line items, list ---- */

/* The quote's lines as a list of Stripe's `item` objects (upfront: as its first invoice
 * charges them); paged by limit and starting_after / ending_before (a line's id) when the
 * request is the list itself (paged). 0, or -1 with r->err. */
static int lines_list(struct req *r, struct db *db, const struct quote *q, bool upfront, bool paged,
		      struct json *j)
{
	json_error_t e;
	json_t *arr = json_loads(q->line_items, 0, &e);
	if (!json_is_array(arr)) {
		json_decref(arr);
		return req_fail(r, ERR_API, NULL, NULL);
	}
	int64_t limit = 10;
	const char *after = paged ? param_str(r, "starting_after") : NULL;
	const char *before = paged ? param_str(r, "ending_before") : NULL;
	if (!paged || param_int(r, "limit", &limit) != 1)
		limit = paged ? 10 : QUOTE_LINES_MAX;
	/* the window [from, to) of the lines, in their order */
	size_t n = json_array_size(arr), from = 0, to = n;
	for (size_t k = 0; k < n; k++) {
		const char *id = json_string_value(json_object_get(json_array_get(arr, k), "id"));
		if (after && *after && id && str_eq(id, after))
			from = k + 1;
		if (before && *before && id && str_eq(id, before))
			to = k;
	}
	if (before && *before && to - from > (size_t)limit && to >= from)
		from = to - (size_t)limit;
	bool has_more = false;
	if (to > from && to - from > (size_t)limit) {
		to = from + (size_t)limit;
		has_more = true;
	}
	json_obj_open(j);
	json_kv_str(j, "object", "list");
	json_key(j, "data");
	json_arr_open(j);
	int rc = DB_OK;
	for (size_t k = from; k < to && rc == DB_OK; k++) {
		json_t *v = json_array_get(arr, k);
		int64_t amount =
		    json_integer_value(json_object_get(v, upfront ? "upfront_amount" : "amount"));
		int64_t disc = json_integer_value(
		    json_object_get(v, upfront ? "upfront_discount" : "amount_discount"));
		const char *tkey = upfront ? "upfront_taxes" : "taxes";
		int64_t tax, tax_exclusive;
		line_tax_sums(v, tkey, &tax, &tax_exclusive);
		json_obj_open(j);
		json_kv_str(j, "id", json_string_value(json_object_get(v, "id")));
		json_kv_str(j, "object", "item");
		json_kv_int(j, "amount_discount", disc);
		json_kv_int(j, "amount_subtotal", amount);
		json_kv_int(j, "amount_tax", tax);
		json_kv_int(j, "amount_total", amount - disc + tax_exclusive);
		json_kv_str(j, "currency", q->currency);
		json_kv_str(j, "description", json_string_value(json_object_get(v, "description")));
		json_key(j, "price");
		rc = price_render_id(r, db, json_string_value(json_object_get(v, "price")), j);
		if (json_is_true(json_object_get(v, "metered")))
			json_kv_null(j, "quantity"); /* Stripe's metered line: usage, later */
		else
			json_kv_int(j, "quantity",
				    json_integer_value(json_object_get(v, "quantity")));
		/* includable, as on Stripe (expand[]=…data.taxes) */
		const char *want = paged     ? "data.taxes"
				   : upfront ? "computed.upfront.line_items.data.taxes"
					     : "line_items.data.taxes";
		if (rc == DB_OK && req_expand_has(r, want)) {
			json_key(j, "taxes");
			rc = checkout_item_taxes_render(r, db, json_object_get(v, tkey), j);
		}
		json_obj_close(j);
	}
	json_decref(arr);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	json_arr_close(j);
	json_kv_bool(j, "has_more", has_more);
	json_kv_str(j, "url",
		    arena_printf(&r->arena, "/v1/quotes/%s/%s", q->id,
				 upfront ? "computed_upfront_line_items" : "line_items"));
	json_obj_close(j);
	return 0;
}

static int line_items_fn(struct db *db, void *p)
{
	struct write_ctx *w = p;
	struct req *r = w->r;
	if (load_or_404(r, db, w->id, &w->q) != 0)
		return -1;
	bool upfront = str_eq(r->route->pattern, "/v1/quotes/{id}/computed_upfront_line_items");
	return lines_list(r, db, &w->q, upfront, true, req_json(r));
}

static int h_line_items(struct req *r)
{
	struct write_ctx w = {.r = r, .id = r->args[0]};
	return req_read(r, line_items_fn, &w);
}

/* The PDF of a finalized quote (documents/): its JSON, its line items and its customer as
 * the API renders them, read here; drawn after the read. A draft has none (Stripe's 400). */
struct pdf_ctx {
	struct write_ctx w;
	const char *quote_json, *lines_json, *customer_json;
	char merchant_name[256];
};

static const char *pdf_json_of(struct req *r, struct buf *b, int rc)
{
	const char *s = rc == 0 && !b->failed ? arena_strndup(&r->arena, b->data, b->len) : NULL;
	buf_release(b);
	return s;
}

/* The PDF's lines (lines_json, a list of items) with each line's unit amount as the quote
 * priced it: an item shows its price, whose unit_amount is in the price's own currency, while
 * a line priced through a currency_options entry bills that entry's (tiered lines show none,
 * as before). The new JSON in r's arena, or NULL. */
static const char *pdf_unit_amounts(struct req *r, struct db *db, const struct quote *q,
				    const char *lines_json)
{
	json_error_t e;
	json_t *list = json_loads(lines_json, 0, &e);
	json_t *stored = json_loads(q->line_items, 0, &e);
	json_t *data = json_object_get(list, "data");
	const char *out = NULL;
	if (!json_is_array(data) || !json_is_array(stored))
		goto done;
	size_t i, k;
	json_t *it, *v;
	json_array_foreach(data, i, it)
	{
		const char *id = json_string_value(json_object_get(it, "id"));
		json_array_foreach(stored, k, v)
		{
			const char *sid = json_string_value(json_object_get(v, "id"));
			const char *price = json_string_value(json_object_get(v, "price"));
			if (!id || !sid || !price || !str_eq(id, sid))
				continue;
			struct price_facts pf;
			if (price_facts_in(r, db, price, q->currency, &pf) != DB_OK)
				goto done;
			if (pf.tiers)
				break;
			json_t *dec = json_object_get(v, "unit_amount_decimal");
			if (json_is_string(dec))
				json_object_set(it, "unit_amount_decimal", dec);
			else
				json_object_set(it, "unit_amount",
						json_object_get(v, "unit_amount"));
			break;
		}
	}
	char *js = json_dumps(list, JSON_COMPACT);
	out = js ? arena_strdup(&r->arena, js) : NULL;
	free(js);
done:
	json_decref(list);
	json_decref(stored);
	return out;
}

static int pdf_fn(struct db *db, void *p)
{
	struct pdf_ctx *x = p;
	struct req *r = x->w.r;
	x->quote_json = x->lines_json = x->customer_json = NULL;
	if (load_or_404(r, db, x->w.id, &x->w.q) != 0)
		return -1;
	if (str_eq(x->w.q.status, "draft"))
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"The quote %s is a draft: only a finalized quote has a PDF. "
				"Finalize it first.",
				x->w.id);
	struct buf b;
	struct json j;
	buf_init(&b, 8u << 20);
	json_init(&j, &b);
	x->quote_json = pdf_json_of(r, &b, quote_render(r, db, &x->w.q, false, &j));
	buf_init(&b, 8u << 20);
	json_init(&j, &b);
	x->lines_json = pdf_json_of(r, &b, lines_list(r, db, &x->w.q, false, false, &j));
	if (x->lines_json)
		x->lines_json = pdf_unit_amounts(r, db, &x->w.q, x->lines_json);
	if (!x->quote_json || !x->lines_json ||
	    challenge_merchant_name(db, r->merchant_id, x->merchant_name,
				    sizeof(x->merchant_name)) != 0)
		return r->err.set ? -1 : req_fail(r, ERR_API, NULL, NULL);
	if (x->w.q.customer) {
		buf_init(&b, 8u << 20);
		json_init(&j, &b);
		int rc = customer_render_by_id(r, db, x->w.q.customer, &j);
		if (rc != DB_OK && rc != DB_NOTFOUND) {
			buf_release(&b);
			return req_fail(r, ERR_API, NULL, NULL);
		}
		x->customer_json = pdf_json_of(r, &b, rc == DB_OK ? 0 : -1);
	}
	return 0;
}

static int h_pdf(struct req *r)
{
	struct pdf_ctx x = {.w = {.r = r, .id = r->args[0]}};
	if (req_read(r, pdf_fn, &x) != 0)
		return -1;
	struct documents_context c = {
	    .merchant_name = x.merchant_name[0] ? x.merchant_name : NULL,
	    .customer_json = x.customer_json,
	};
	struct buf pdf;
	buf_init(&pdf, PDF_BYTES_MAX);
	int rc = documents_quote_pdf(x.quote_json, x.lines_json, &c, &pdf) == 0
		     ? documents_answer_pdf(r, &pdf, "Quote", x.w.q.number, x.w.q.id)
		     : req_fail(r, ERR_API, NULL, NULL);
	buf_release(&pdf);
	return rc;
}

static const char SQL_CURSOR[] = "SELECT created FROM quotes WHERE merchant_id = $1 AND id = $2";
/* CUSTOMER: the customer filter's term; it is also a list_narrow (list.h) with the plain
 * `customer = $5`, answered from quotes_customer */
#define LIST_WHERE(CUSTOMER)                                                                       \
	"SELECT id FROM quotes WHERE merchant_id = $1 AND " CUSTOMER " AND id > $2 AND id < $3"    \
	" AND ($6 IS NULL OR status = $6) AND ($7 IS NULL OR test_clock = $7)"
#define ANY_CUSTOMER "($5 IS NULL OR customer = $5)"
static const char SQL_DESC[] = LIST_WHERE(ANY_CUSTOMER) " ORDER BY id DESC LIMIT $4";
static const char SQL_ASC[] = LIST_WHERE(ANY_CUSTOMER) " ORDER BY id ASC LIMIT $4";
static const char SQL_CUSTOMER_DESC[] = LIST_WHERE("customer = $5") " ORDER BY id DESC LIMIT $4";
static const char SQL_CUSTOMER_ASC[] = LIST_WHERE("customer = $5") " ORDER BY id ASC LIMIT $4";

static int list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	list_bind_filter(r, st, first, "customer");
	list_bind_filter(r, st, first + 1, "status");
	list_bind_filter(r, st, first + 2, "test_clock");
	return 0;
}

static int list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	struct quote q;
	int rc = quote_load(r, db, r->merchant_id, id, &q);
	if (rc == DB_OK && quote_render(r, db, &q, true, j) != 0)
		return DB_ERR;
	return rc;
}

static int h_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/quotes",
	    .object_name = "quote",
	    .id_prefix = "qt_",
	    .sql_cursor = SQL_CURSOR,
	    .sql_desc = SQL_DESC,
	    .sql_asc = SQL_ASC,
	    .narrow = {{"customer", SQL_CUSTOMER_DESC, SQL_CUSTOMER_ASC}},
	    .bind_filters = list_bind,
	    .render = list_render,
	};
	return list_respond(r, &spec);
}

/* ---- the scheduler: draft and open quotes past expires_at are canceled ---- */

/* a test-clock customer's quote expires on the clock's time: once an advance has taken the
 * clock's frozen_time to its expires_at */
#define QUOTES_DUE_REAL                                                                            \
	"SELECT merchant_id, id, expires_at FROM quotes WHERE status IN ('draft', 'open')"         \
	" AND test_clock IS NULL AND expires_at <= $1"
#define QUOTES_DUE_CLOCK                                                                           \
	"SELECT q.merchant_id, q.id, q.expires_at FROM quotes q JOIN test_clocks c"                \
	" ON c.merchant_id = q.merchant_id AND c.id = q.test_clock"                                \
	" WHERE q.status IN ('draft', 'open') AND q.test_clock IS NOT NULL"                        \
	" AND q.expires_at <= c.frozen_time"
const char QUOTES_EXPIRE_DUE_SQL[] =
    "SELECT 1 FROM (" QUOTES_DUE_REAL " UNION ALL " QUOTES_DUE_CLOCK ") AS x LIMIT 1";
static const char SQL_DUE[] = "SELECT merchant_id, id FROM (" QUOTES_DUE_REAL
			      " UNION ALL " QUOTES_DUE_CLOCK ") AS x ORDER BY expires_at LIMIT $2";

struct expire_ctx {
	int64_t now;
	int done;
	struct shard_share share;
};

static int expire_due_fn(struct db *db, void *arg)
{
	struct expire_ctx *c = arg;
	struct scheduler_due due[QUOTE_EXPIRE_BATCH];
	int n = 0, done = 0, rc = DB_OK;
	if (scheduler_due_read(db, SQL_DUE, c->now, due, &n, scheduler_batch(QUOTE_EXPIRE_BATCH)) !=
	    DB_OK)
		return DB_ERR;
	for (int i = 0; i < n && rc == DB_OK; i++) {
		struct req r;
		req_internal_init(&r, NULL, due[i].merchant, c->now, NULL);
		struct quote q;
		int lrc = quote_load(&r, db, due[i].merchant, due[i].id, &q);
		if (lrc == DB_OK && (str_eq(q.status, "draft") || str_eq(q.status, "open"))) {
			/* canceled at its expiry, as Stripe's quote shows it */
			if (quote_cancel(&r, db, &q, q.expires_at, false) == 0)
				done++;
			else
				rc = DB_ERR;
		} else if (lrc != DB_OK) {
			rc = DB_ERR;
		}
		req_internal_release(&r);
	}
	if (rc != DB_OK)
		return rc;
	c->done += (int)shard_share_add(&c->share, db, done);
	return 0;
}

int quotes_expire_tick(struct store *s, int64_t now)
{
	struct expire_ctx c = {.now = now};
	int rc = store_each_shard_write(s, expire_due_fn, &c);
	return rc == 0 ? c.done : rc;
}

/* ---- routes ---- */

static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};
static const struct param_spec discount_children[] = {
    {"coupon", PT_STRING, 0, COUPON_ID_MAX, NULL, NULL},
    {"promotion_code", PT_STRING, 0, 255, NULL, NULL},
    {"discount", PT_STRING, 0, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec recurring_children[] = {
    {"interval", PT_ENUM, PF_REQUIRED, 0,
     (const char *const[]){"day", "week", "month", "year", NULL}, NULL},
    {"interval_count", PT_INT, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec price_data_children[] = {
    {"currency", PT_CURRENCY, PF_REQUIRED, 0, NULL, NULL},
    {"product", PT_STRING, PF_REQUIRED, 255, NULL, NULL},
    {"unit_amount", PT_INT, 0, 0, NULL, NULL},
    {"unit_amount_decimal", PT_STRING, 0, 40, NULL, NULL},
    {"tax_behavior", PT_ENUM, 0, 0,
     (const char *const[]){"exclusive", "inclusive", "unspecified", NULL}, NULL},
    {"recurring", PT_OBJECT, 0, 0, NULL, recurring_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec line_children[] = {
    {"price", PT_STRING, 0, 255, NULL, NULL},
    {"price_data", PT_OBJECT, 0, 0, NULL, price_data_children},
    {"quantity", PT_INT, 0, 0, NULL, NULL},
    {"tax_rates", PT_STRING_ARRAY, PF_EMPTYABLE, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec sub_data_children[] = {
    {"description", PT_STRING, PF_EMPTYABLE, 500, NULL, NULL},
    {"effective_date", PT_STRING, PF_EMPTYABLE, 32, NULL, NULL},
    {"trial_period_days", PT_INT, PF_EMPTYABLE, 0, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
/* a create's: billing_mode is set once (POST /v1/quotes/{id} does not take it) */
static const struct param_spec sub_data_create_children[] = {
    {"billing_mode", PT_OBJECT, 0, 0, NULL, subscription_billing_mode_params},
    {"description", PT_STRING, PF_EMPTYABLE, 500, NULL, NULL},
    {"effective_date", PT_STRING, PF_EMPTYABLE, 32, NULL, NULL},
    {"trial_period_days", PT_INT, PF_EMPTYABLE, 0, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec invoice_settings_children[] = {
    {"days_until_due", PT_INT, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec transfer_data_children[] = {
    {"destination", PT_STRING, PF_REQUIRED, 255, NULL, NULL},
    {"amount", PT_INT, 0, 0, NULL, NULL},
    {"amount_percent", PT_STRING, 0, 16, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec qliability_children[] = {
    {"type", PT_ENUM, PF_REQUIRED, 0, (const char *const[]){"self", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec qautomatic_tax_children[] = {
    {"enabled", PT_BOOL, PF_REQUIRED, 0, NULL, NULL},
    {"liability", PT_OBJECT, 0, 0, NULL, qliability_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
#define QUOTE_COMMON_PARAMS(sub_children)                                                          \
	{"automatic_tax", PT_OBJECT, 0, 0, NULL, qautomatic_tax_children},                         \
	    {"currency", PT_CURRENCY, 0, 0, NULL, NULL},                                           \
	    {"line_items", PT_OBJECT_ARRAY, 0, QUOTE_LINES_MAX, NULL, line_children},              \
	    {"collection_method",                                                                  \
	     PT_ENUM,                                                                              \
	     0,                                                                                    \
	     0,                                                                                    \
	     (const char *const[]){"charge_automatically", "send_invoice", NULL},                  \
	     NULL},                                                                                \
	    {"description", PT_STRING, PF_EMPTYABLE, 500, NULL, NULL},                             \
	    {"header", PT_STRING, PF_EMPTYABLE, 50, NULL, NULL},                                   \
	    {"footer", PT_STRING, PF_EMPTYABLE, 500, NULL, NULL},                                  \
	    {"expires_at", PT_INT, 0, 0, NULL, NULL},                                              \
	    {"discounts", PT_OBJECT_ARRAY, PF_EMPTYABLE, DISCOUNTS_MAX, NULL, discount_children},  \
	    {"subscription_data", PT_OBJECT, 0, 0, NULL, (sub_children)},                          \
	    {"application_fee_amount", PT_INT, PF_EMPTYABLE, 0, NULL, NULL},                       \
	    {"application_fee_percent", PT_STRING, PF_EMPTYABLE, 16, NULL, NULL},                  \
	    {"on_behalf_of", PT_STRING, PF_EMPTYABLE, 255, NULL, NULL},                            \
	    {"transfer_data", PT_OBJECT, PF_EMPTYABLE, 0, NULL, transfer_data_children},           \
	{                                                                                          \
		"metadata", PT_METADATA, 0, 0, NULL, NULL                                          \
	}
static const struct param_spec from_quote_children[] = {
    {"quote", PT_STRING, PF_REQUIRED, 255, NULL, NULL},
    {"is_revision", PT_BOOL, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec create_params[] = {
    {"invoice_settings", PT_OBJECT, 0, 0, NULL, invoice_settings_children},
    /* required, unless from_quote gives it (create_fn) */
    {"customer", PT_STRING, 0, 255, NULL, NULL},
    {"test_clock", PT_STRING, 0, 255, NULL, NULL},
    {"from_quote", PT_OBJECT, 0, 0, NULL, from_quote_children},
    {"default_tax_rates", PT_STRING_ARRAY, PF_EMPTYABLE, 0, NULL, NULL},
    QUOTE_COMMON_PARAMS(sub_data_create_children),
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec update_params[] = {
    {"invoice_settings", PT_OBJECT, 0, 0, NULL, invoice_settings_children},
    {"customer", PT_STRING, 0, 255, NULL, NULL},
    {"default_tax_rates", PT_STRING_ARRAY, PF_EMPTYABLE, 0, NULL, NULL},
    QUOTE_COMMON_PARAMS(sub_data_children),
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec finalize_params[] = {
    {"expires_at", PT_INT, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec list_params[] = {
    {"customer", PT_STRING, 0, 255, NULL, NULL},
    {"test_clock", PT_STRING, 0, 255, NULL, NULL},
    {"status", PT_ENUM, 0, 0, (const char *const[]){"accepted", "canceled", "draft", "open", NULL},
     NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

const struct route quotes_routes[] = {
    {"POST", "/v1/quotes", h_create, create_params, ROUTE_STRIPE_VERSION},
    {"GET", "/v1/quotes", h_list, list_params, ROUTE_LIST},
    {"GET", "/v1/quotes/{id}", h_retrieve, no_params, 0},
    {"POST", "/v1/quotes/{id}", h_update, update_params, 0},
    {"POST", "/v1/quotes/{id}/finalize", h_finalize, finalize_params, 0},
    {"POST", "/v1/quotes/{id}/accept", h_accept, no_params, 0},
    {"POST", "/v1/quotes/{id}/cancel", h_cancel, no_params, 0},
    {"GET", "/v1/quotes/{id}/line_items", h_line_items, no_params, ROUTE_LIST},
    {"GET", "/v1/quotes/{id}/computed_upfront_line_items", h_line_items, no_params, ROUTE_LIST},
    {"GET", "/v1/quotes/{id}/pdf", h_pdf, no_params, ROUTE_RAW},
    {NULL, NULL, NULL, NULL, 0},
};

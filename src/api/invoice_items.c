/*
 * /v1/invoiceitems: create, retrieve, update, delete, list — amounts billed on a customer's
 * next invoice.
 *
 * An invoice item is pending until an invoice takes it: the renewal invoice of its
 * subscription (or, for an item of no subscription, of any of the customer's subscriptions),
 * or a one-off invoice made by POST /v1/invoices with pending_invoice_items_behavior=include;
 * or it is put on a draft invoice directly (invoice=in_…). The invoice names itself on the item
 * (invoice_items.invoice) in the write that makes it, and shows the item as a line
 * (invoice_items_lines, rendered from these rows: a draft's lines follow its items). While the
 * item is pending or on a draft it can be changed or deleted, and a draft's total follows
 * (the change and the total in one write); once its invoice is finalized it is fixed, as the
 * invoice is.
 *
 * Prorations (subscriptions.c) are invoice items too, made with proration=true by a change of
 * a subscription's items.
 *
 * Money: amount = unit_amount × quantity, or for a sub-cent unit_amount_decimal that product
 * computed exactly and rounded once to the nearest minor unit, halves up (billing/tiers.h, as
 * Stripe rounds each line after multiplying); a proration's amount is its line rounded, its
 * unit_amount the unit's share rounded on its own), overflow-checked, at most BILLING_AMOUNT_MAX
 * either way; a negative amount is a credit. An invoice whose total ends below zero charges
 * nothing; its credit goes to the customer's credit balance (invoice_balance_apply), which the
 * next invoice takes, as on Stripe. Only when that balance is in another currency is the credit
 * carried to the customer's next invoice as a new pending item (invoice_credit_carry).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "api/billing_internal.h"
#include "api/catalog.h"
#include "api/common.h"
#include "api/list.h"
#include "billing/tiers.h"
#include "core/str.h"
#include "events/events.h"
#include "http/form.h"
#include "money/currency.h"
#include "tax/rates.h"

static const char SQL_GET[] =
    "SELECT id, created, customer, currency, amount, unit_amount, quantity, price, description,"
    " period_start, period_end, metadata, subscription, subscription_item, invoice, proration,"
    " discountable, test_clock, deleted, unit_amount_decimal, tax_behavior, tax_code,"
    " quantity_decimal, proration_discount_mode, proration_discount_amounts"
    " FROM invoice_items WHERE merchant_id = $1 AND id = $2";
static const char SQL_INSERT[] =
    "INSERT INTO invoice_items (merchant_id, id, created, customer, currency, amount,"
    " unit_amount, quantity, price, description, period_start, period_end, metadata,"
    " subscription, subscription_item, invoice, proration, discountable, test_clock, deleted,"
    " unit_amount_decimal, tax_behavior, tax_code, quantity_decimal, proration_discount_mode,"
    " proration_discount_amounts) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,"
    " $13, $14, $15, $16, $17, $18, $19, 0, $20, $21, $22, $23, $24, $25)";
/* the mutable columns, where the item is still pending or on the invoice it was read on */
static const char SQL_UPDATE[] =
    "UPDATE invoice_items SET amount = $3, unit_amount = $4, quantity = $5, description = $6,"
    " period_start = $7, period_end = $8, metadata = $9, discountable = $10, deleted = $11,"
    " unit_amount_decimal = $13, tax_behavior = $14, tax_code = $15, price = $16,"
    " currency = $17, quantity_decimal = $18"
    " WHERE merchant_id = $1 AND id = $2 AND deleted = 0 AND COALESCE(invoice, '') = $12";
static const char SQL_PENDING[] =
    "SELECT id, amount FROM invoice_items WHERE merchant_id = $1 AND customer = $2"
    " AND currency = $3 AND invoice IS NULL AND deleted = 0"
    " AND (subscription IS NULL OR subscription = $4) ORDER BY id LIMIT $5";
static const char SQL_CLAIM[] =
    "UPDATE invoice_items SET invoice = $3 WHERE merchant_id = $1 AND id = $2"
    " AND invoice IS NULL AND deleted = 0 AND amount = $4";
static const char SQL_ON_INVOICE[] =
    "SELECT id FROM invoice_items WHERE merchant_id = $1 AND invoice = $2 AND deleted = 0"
    " ORDER BY id LIMIT $3";
static const char SQL_RELEASE[] =
    "UPDATE invoice_items SET invoice = NULL WHERE merchant_id = $1 AND invoice = $2";
static const char SQL_SUB[] =
    "SELECT customer, currency, status FROM subscriptions WHERE merchant_id = $1 AND id = $2";

int invoice_item_load(struct req *r, struct db *db, const char *id, struct invoice_item *ii)
{
	struct db_stmt *st = db_prepare(db, SQL_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		struct arena *a = &r->arena;
		memset(ii, 0, sizeof(*ii));
		str_copy(ii->id, sizeof(ii->id), db_col_text(st, 0, NULL));
		ii->created = db_col_int64(st, 1);
		ii->customer = col_text_dup(a, st, 2);
		str_copy(ii->currency, sizeof(ii->currency), db_col_text(st, 3, NULL));
		ii->amount = db_col_int64(st, 4);
		ii->unit_amount = db_col_int64(st, 5);
		ii->quantity = db_col_int64(st, 6);
		ii->price = col_text_dup(a, st, 7);
		ii->description = col_text_dup(a, st, 8);
		ii->period_start = db_col_int64(st, 9);
		ii->period_end = db_col_int64(st, 10);
		ii->metadata = col_text_dup(a, st, 11);
		ii->subscription = col_text_dup(a, st, 12);
		ii->subscription_item = col_text_dup(a, st, 13);
		ii->invoice = col_text_dup(a, st, 14);
		ii->proration = db_col_int64(st, 15) != 0;
		ii->discountable = db_col_int64(st, 16) != 0;
		ii->test_clock = col_text_dup(a, st, 17);
		ii->deleted = db_col_int64(st, 18) != 0;
		ii->unit_amount_decimal = col_text_dup(a, st, 19);
		ii->tax_behavior = col_text_dup(a, st, 20);
		ii->tax_code = col_text_dup(a, st, 21);
		ii->quantity_decimal = col_text_dup(a, st, 22);
		ii->pd_mode = col_text_dup(a, st, 23);
		ii->pd_amounts = col_text_dup(a, st, 24);
		if (!ii->customer || !ii->metadata)
			rc = DB_ERR;
	}
	db_reset(st);
	if (rc == DB_ROW)
		return DB_OK;
	return rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
}

static const char SQL_OWN_DISCOUNTS[] =
    "SELECT id FROM discounts WHERE merchant_id = $1 AND invoice_item = $2 AND ended = 0"
    " ORDER BY pos LIMIT $3";

/* ---- rendering ---- */

/* A proration's discounts (ii->pd_amounts, made by proration_add) as its `discounts` (ids_only)
 * or as amounts: the amounts they took, or each 0 (zero: what Stripe shows on an included
 * proration's line, whose amount already has them taken off). */
static void pd_render(const struct invoice_item *ii, bool ids_only, bool zero, struct json *j)
{
	json_t *a = ii->pd_amounts ? json_loads(ii->pd_amounts, 0, NULL) : NULL;
	json_arr_open(j);
	for (size_t i = 0; json_is_array(a) && i < json_array_size(a); i++) {
		json_t *e = json_array_get(a, i);
		const char *d = json_string_value(json_object_get(e, "discount"));
		if (!d)
			continue;
		if (ids_only) {
			json_str(j, d);
			continue;
		}
		json_obj_open(j);
		json_kv_int(j, "amount",
			    zero ? 0 : json_integer_value(json_object_get(e, "amount")));
		json_kv_str(j, "discount", d);
		json_obj_close(j);
	}
	json_arr_close(j);
	json_decref(a);
}

/* The item's own discounts (their ids, in order): its `discounts`, and its line's. */
static int own_discounts_render(struct req *r, struct db *db, const char *id, struct json *j)
{
	struct db_stmt *st = db_prepare(db, SQL_OWN_DISCOUNTS);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	db_bind_int64(st, 3, DISCOUNTS_MAX);
	json_arr_open(j);
	int rc;
	while ((rc = db_step(st)) == DB_ROW)
		json_str(j, db_col_text(st, 0, NULL));
	db_reset(st);
	json_arr_close(j);
	return rc < 0 ? rc : DB_OK;
}

/* "pricing" of an item or its line: its price (and the price's product) when it has one */
static void render_pricing(const struct invoice_item *ii, const char *product, struct json *j)
{
	json_key(j, "pricing");
	json_obj_open(j);
	json_key(j, "price_details");
	if (ii->price) {
		json_obj_open(j);
		json_kv_str(j, "price", ii->price);
		json_kv_str_or_null(j, "product", product);
		json_obj_close(j);
	} else {
		json_nil(j);
	}
	json_kv_str(j, "type", "price_details");
	char dec[32];
	snprintf(dec, sizeof(dec), "%lld", (long long)ii->unit_amount);
	json_kv_str(j, "unit_amount_decimal",
		    ii->unit_amount_decimal ? ii->unit_amount_decimal : dec);
	json_obj_close(j);
}

static void render_period(const struct invoice_item *ii, struct json *j)
{
	json_key(j, "period");
	json_obj_open(j);
	json_kv_int(j, "end", ii->period_end);
	json_kv_int(j, "start", ii->period_start);
	json_obj_close(j);
}

static const char *price_product(struct req *r, struct db *db, const struct invoice_item *ii)
{
	struct price_facts pf;
	if (!ii->price || price_facts_get(r, db, ii->price, &pf) != DB_OK)
		return NULL;
	return pf.product;
}

/* quantity_decimal: the decimal quantity given, else the whole one as text */
static void quantity_decimal_render(const struct invoice_item *ii, struct json *j)
{
	char qd[32];
	snprintf(qd, sizeof(qd), "%lld", (long long)ii->quantity);
	json_kv_str(j, "quantity_decimal", ii->quantity_decimal ? ii->quantity_decimal : qd);
}

static int ii_render(struct req *r, struct db *db, const struct invoice_item *ii, struct json *j)
{
	json_obj_open(j);
	json_kv_str(j, "id", ii->id);
	json_kv_str(j, "object", "invoiceitem");
	if (ii->deleted) {
		json_kv_bool(j, "deleted", true);
		json_obj_close(j);
		return 0;
	}
	json_kv_int(j, "amount", ii->amount);
	json_kv_str(j, "currency", ii->currency);
	json_kv_str(j, "customer", ii->customer);
	json_kv_null(j, "customer_account");
	json_kv_int(j, "date", ii->created);
	json_kv_str_or_null(j, "description", ii->description);
	json_kv_bool(j, "discountable", ii->discountable);
	json_key(j, "discounts");
	if (ii->pd_mode)
		pd_render(ii, true, false, j);
	else if (own_discounts_render(r, db, ii->id, j) != DB_OK)
		return -1;
	json_kv_str_or_null(j, "invoice", ii->invoice);
	json_kv_bool(j, "livemode", false);
	json_kv_raw(j, "metadata", ii->metadata, strlen(ii->metadata));
	json_kv_int(j, "net_amount", ii->amount);
	json_key(j, "parent");
	if (ii->subscription) {
		json_obj_open(j);
		json_key(j, "subscription_details");
		json_obj_open(j);
		json_kv_str(j, "subscription", ii->subscription);
		if (ii->subscription_item)
			json_kv_str(j, "subscription_item", ii->subscription_item);
		json_obj_close(j);
		json_kv_str(j, "type", "subscription_details");
		json_obj_close(j);
	} else {
		json_nil(j);
	}
	render_period(ii, j);
	json_key(j, "price");
	if (!ii->price || price_render_id(r, db, ii->price, j) != DB_OK)
		json_nil(j);
	render_pricing(ii, price_product(r, db, ii), j);
	json_kv_bool(j, "proration", ii->proration);
	if (ii->pd_mode) {
		/* what the discounts took when it was made: Stripe fills it for flexible billing
		 * mode's prorations only, and leaves it empty for classic's */
		json_key(j, "proration_details");
		json_obj_open(j);
		json_kv_null(j, "credited_items");
		json_key(j, "discount_amounts");
		if (str_eq(ii->pd_mode, "classic"))
			json_raw(j, "[]", 2);
		else
			pd_render(ii, false, false, j);
		json_obj_close(j);
	}
	json_kv_int(j, "quantity", ii->quantity);
	quantity_decimal_render(ii, j);
	json_kv_str_or_null(j, "subscription", ii->subscription);
	if (ii->subscription_item)
		json_kv_str(j, "subscription_item", ii->subscription_item);
	json_key(j, "tax_rates");
	if (tax_links_render(r, db, ii->id, j) != DB_OK)
		return -1;
	json_kv_str_or_null(j, "test_clock", ii->test_clock);
	char dec[32];
	snprintf(dec, sizeof(dec), "%lld", (long long)ii->unit_amount);
	if (ii->unit_amount_decimal) { /* sub-cent: no integer unit amount, as on Stripe */
		json_kv_null(j, "unit_amount");
		json_kv_str(j, "unit_amount_decimal", ii->unit_amount_decimal);
	} else {
		json_kv_int(j, "unit_amount", ii->unit_amount);
		json_kv_str(j, "unit_amount_decimal", dec);
	}
	json_obj_close(j);
	return 0;
}

/* An invoice's line for item ii: its id follows from the item's, so it is the same on every
 * rendering. */
int invoice_item_line_render(struct req *r, struct db *db, const struct invoice_item *ii,
			     bool discounted, const char *amounts, struct json *j)
{
	return invoice_item_line_render_taxed(r, db, ii, discounted, amounts, NULL, 0, j);
}

int invoice_item_line_render_taxed(struct req *r, struct db *db, const struct invoice_item *ii,
				   bool discounted, const char *amounts,
				   const struct invoice_tax_entry *e, int n, struct json *j)
{
	return invoice_item_line_render_own(r, db, ii, discounted, amounts, e, n, NULL, j);
}

int invoice_item_line_render_own(struct req *r, struct db *db, const struct invoice_item *ii,
				 bool discounted, const char *amounts,
				 const struct invoice_tax_entry *e, int n, const char *own_ids,
				 struct json *j)
{
	char lid[ID_MAX + 4];
	snprintf(lid, sizeof(lid), "il_%s", ii->id + 3);
	json_obj_open(j);
	json_kv_str(j, "id", lid);
	json_kv_str(j, "object", "line_item");
	json_kv_int(j, "amount", ii->amount);
	json_kv_str(j, "currency", ii->currency);
	json_kv_str_or_null(j, "description", ii->description);
	/* an invoice without any discount has none on its lines: no lookups */
	json_key(j, "discount_amounts");
	bool itemized = ii->pd_mode && str_eq(ii->pd_mode, "itemized");
	if (ii->pd_mode && !itemized) /* its amount is net: the discounts named, at 0 */
		pd_render(ii, false, true, j);
	else if (!discounted && !itemized)
		json_raw(j, "[]", 2);
	else if (amounts)
		json_raw(j, amounts, strlen(amounts));
	else if (invoice_line_discounts_render(r, db, ii->invoice, lid, j) != DB_OK)
		return -1;
	json_kv_bool(j, "discountable", ii->discountable);
	json_key(j, "discounts");
	if (ii->pd_mode)
		pd_render(ii, true, false, j);
	else if (own_ids)
		json_raw(j, own_ids, strlen(own_ids));
	else if (!discounted)
		json_raw(j, "[]", 2);
	else if (own_discounts_render(r, db, ii->id, j) != DB_OK)
		return -1;
	json_kv_str(j, "invoice", ii->invoice);
	json_kv_bool(j, "livemode", false);
	json_kv_raw(j, "metadata", ii->metadata, strlen(ii->metadata));
	json_key(j, "parent");
	json_obj_open(j);
	json_key(j, "invoice_item_details");
	json_obj_open(j);
	json_kv_str(j, "invoice_item", ii->id);
	json_kv_bool(j, "proration", ii->proration);
	json_key(j, "proration_details");
	json_obj_open(j);
	json_kv_null(j, "credited_items");
	json_obj_close(j);
	json_kv_str_or_null(j, "subscription", ii->subscription);
	json_obj_close(j);
	json_kv_null(j, "subscription_item_details");
	json_kv_str(j, "type", "invoice_item_details");
	json_obj_close(j);
	render_period(ii, j);
	json_kv_raw(j, "pretax_credit_amounts", "[]", 2);
	render_pricing(ii, price_product(r, db, ii), j);
	json_kv_int(j, "quantity", ii->quantity);
	quantity_decimal_render(ii, j);
	json_kv_str_or_null(j, "subscription", ii->subscription);
	json_kv_int(j, "subtotal", ii->amount);
	/* its taxes (tax_rates.c): tax_amounts, tax_rates (the item's own), taxes */
	if (e)
		invoice_line_taxes_keys(r, db, e, n, ii->id, j);
	else if (invoice_line_taxes_render(r, db, ii->invoice, lid, ii->id, j) != DB_OK)
		return -1;
	json_obj_close(j);
	return 0;
}

int invoice_items_lines(struct req *r, struct db *db, const char *invoice, bool discounted,
			struct json *j)
{
	char(*ids)[ID_MAX] = arena_alloc(&r->arena, INVOICE_ITEMS_MAX * ID_MAX);
	if (!ids)
		return DB_ERR;
	struct db_stmt *st = db_prepare(db, SQL_ON_INVOICE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, invoice, -1);
	db_bind_int64(st, 3, INVOICE_ITEMS_MAX);
	int n = 0, rc;
	while (n < INVOICE_ITEMS_MAX && (rc = db_step(st)) == DB_ROW)
		str_copy(ids[n++], ID_MAX, db_col_text(st, 0, NULL));
	db_reset(st);
	if (rc < 0)
		return rc;
	for (int i = 0; i < n; i++) {
		struct invoice_item ii;
		rc = invoice_item_load(r, db, ids[i], &ii);
		if (rc != DB_OK)
			return rc < 0 ? rc : DB_ERR;
		if (invoice_item_line_render(r, db, &ii, discounted, NULL, j) != 0)
			return DB_ERR;
	}
	return DB_OK;
}

/* Appends event `type` with ii as its object (previous_attributes prev or NULL), at the
 * customer's clock's time when it has one. */
static int ii_emit(struct req *r, struct db *db, const struct invoice_item *ii, const char *type,
		   const char *prev)
{
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 20);
	json_init(&j, &b);
	int rc = ii_render(r, db, ii, &j);
	int64_t now = 0;
	if (rc == 0 && !b.failed && billing_now(r, db, ii->test_clock, &now) == 0) {
		struct event_origin o = {r->request_id[0] ? r->request_id : NULL,
					 r->idempotency_key, r->livemode};
		rc = event_append(db, r->merchant_id, &o, type, ii->id, b.data, b.len, prev, now,
				  NULL) == DB_OK
			 ? 0
			 : -1;
	} else {
		rc = -1;
	}
	buf_release(&b);
	return rc == 0 ? 0 : r->err.set ? -1 : req_fail(r, ERR_API, NULL, NULL);
}

/* The row alone (its event is the caller's). 0, or -1 with r->err. */
static int ii_insert_row(struct req *r, struct db *db, const struct invoice_item *ii)
{
	struct db_stmt *st = db_prepare(db, SQL_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, ii->id, -1);
	db_bind_int64(st, 3, ii->created);
	db_bind_text(st, 4, ii->customer, -1);
	db_bind_text(st, 5, ii->currency, -1);
	db_bind_int64(st, 6, ii->amount);
	db_bind_int64(st, 7, ii->unit_amount);
	db_bind_int64(st, 8, ii->quantity);
	db_bind_text(st, 9, ii->price, -1);
	db_bind_text(st, 10, ii->description, -1);
	db_bind_int64(st, 11, ii->period_start);
	db_bind_int64(st, 12, ii->period_end);
	db_bind_text(st, 13, ii->metadata ? ii->metadata : "{}", -1);
	db_bind_text(st, 14, ii->subscription, -1);
	db_bind_text(st, 15, ii->subscription_item, -1);
	db_bind_text(st, 16, ii->invoice, -1);
	db_bind_int64(st, 17, ii->proration ? 1 : 0);
	db_bind_int64(st, 18, ii->discountable ? 1 : 0);
	db_bind_text(st, 19, ii->test_clock, -1);
	db_bind_text(st, 20, ii->unit_amount_decimal, -1);
	db_bind_text(st, 21, ii->tax_behavior, -1);
	db_bind_text(st, 22, ii->tax_code, -1);
	db_bind_text(st, 23, ii->quantity_decimal, -1);
	db_bind_text(st, 24, ii->pd_mode, -1);
	db_bind_text(st, 25, ii->pd_mode ? ii->pd_amounts : NULL, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

int invoice_item_insert(struct req *r, struct db *db, const struct invoice_item *ii)
{
	if (ii_insert_row(r, db, ii) != 0)
		return -1;
	return ii_emit(r, db, ii, "invoiceitem.created", NULL);
}

/* Writes ii's mutable columns where it is still live on invoice `on` (NULL: pending). */
static int ii_save(struct req *r, struct db *db, const struct invoice_item *ii, const char *on)
{
	struct db_stmt *st = db_prepare(db, SQL_UPDATE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, ii->id, -1);
	db_bind_int64(st, 3, ii->amount);
	db_bind_int64(st, 4, ii->unit_amount);
	db_bind_int64(st, 5, ii->quantity);
	db_bind_text(st, 6, ii->description, -1);
	db_bind_int64(st, 7, ii->period_start);
	db_bind_int64(st, 8, ii->period_end);
	db_bind_text(st, 9, ii->metadata, -1);
	db_bind_int64(st, 10, ii->discountable ? 1 : 0);
	db_bind_int64(st, 11, ii->deleted ? 1 : 0);
	db_bind_text(st, 12, on ? on : "", -1);
	db_bind_text(st, 13, ii->unit_amount_decimal, -1);
	db_bind_text(st, 14, ii->tax_behavior, -1);
	db_bind_text(st, 15, ii->tax_code, -1);
	db_bind_text(st, 16, ii->price, -1);
	db_bind_text(st, 17, ii->currency, -1);
	db_bind_text(st, 18, ii->quantity_decimal, -1);
	int64_t n;
	if (db_step_changes(st, &n) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return n == 1
		   ? 0
		   : req_fail(r, ERR_INVALID_STATE, NULL,
			      "Invoice item %s changed while this request ran; try again.", ii->id);
}

/* ---- what invoices take ---- */

static const char SQL_PENDING_OF_SUB[] =
    "SELECT id, amount FROM invoice_items WHERE merchant_id = $1 AND customer = $2"
    " AND currency = $3 AND invoice IS NULL AND deleted = 0 AND subscription = $4"
    " ORDER BY id LIMIT $5";

static int pending_read(struct req *r, struct db *db, const char *sql, const char *customer,
			const char *currency, const char *sub, struct pending_items *p);

int invoice_items_pending(struct req *r, struct db *db, const char *customer, const char *currency,
			  const char *sub, struct pending_items *p)
{
	return pending_read(r, db, SQL_PENDING, customer, currency, sub, p);
}

int invoice_items_pending_of(struct req *r, struct db *db, const char *customer,
			     const char *currency, const char *sub, struct pending_items *p)
{
	return pending_read(r, db, SQL_PENDING_OF_SUB, customer, currency, sub, p);
}

static int pending_read(struct req *r, struct db *db, const char *sql, const char *customer,
			const char *currency, const char *sub, struct pending_items *p)
{
	memset(p, 0, sizeof(*p));
	p->ids = arena_alloc(&r->arena, INVOICE_ITEMS_MAX * ID_MAX);
	p->amounts = arena_alloc(&r->arena, INVOICE_ITEMS_MAX * sizeof(int64_t));
	if (!p->ids || !p->amounts)
		return req_fail(r, ERR_API, NULL, NULL);
	struct db_stmt *st = db_prepare(db, sql);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, customer, -1);
	db_bind_text(st, 3, currency, -1);
	db_bind_text(st, 4, sub ? sub : "", -1);
	db_bind_int64(st, 5, INVOICE_ITEMS_MAX);
	int rc;
	bool overflow = false;
	while (p->n < INVOICE_ITEMS_MAX && (rc = db_step(st)) == DB_ROW) {
		str_copy(p->ids[p->n], ID_MAX, db_col_text(st, 0, NULL));
		p->amounts[p->n] = db_col_int64(st, 1);
		overflow = overflow || __builtin_add_overflow(p->sum, p->amounts[p->n], &p->sum);
		p->n++;
	}
	db_reset(st);
	if (rc < 0)
		return req_fail(r, ERR_API, NULL, NULL);
	if (overflow || p->sum > BILLING_AMOUNT_MAX || p->sum < -BILLING_AMOUNT_MAX)
		return req_fail(r, ERR_AMOUNT_TOO_LARGE, "customer",
				"The customer's pending invoice items add up to more than %lld.",
				(long long)BILLING_AMOUNT_MAX);
	return 0;
}

int invoice_items_claim(struct req *r, struct db *db, const struct pending_items *p,
			const char *invoice)
{
	for (int i = 0; i < p->n; i++) {
		struct db_stmt *st = db_prepare(db, SQL_CLAIM);
		if (!st)
			return req_fail(r, ERR_API, NULL, NULL);
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, p->ids[i], -1);
		db_bind_text(st, 3, invoice, -1);
		db_bind_int64(st, 4, p->amounts[i]);
		int64_t n;
		if (db_step_changes(st, &n) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (n != 1)
			return req_fail(r, ERR_INVALID_STATE, NULL,
					"Invoice item %s changed while invoice %s was made; try "
					"again.",
					p->ids[i], invoice);
	}
	return 0;
}

int invoice_items_copy(struct req *r, struct db *db, const char *from, const char *to, int64_t now)
{
	char(*ids)[ID_MAX] = arena_alloc(&r->arena, INVOICE_ITEMS_MAX * ID_MAX);
	if (!ids)
		return req_fail(r, ERR_API, NULL, NULL);
	struct db_stmt *st = db_prepare(db, SQL_ON_INVOICE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, from, -1);
	db_bind_int64(st, 3, INVOICE_ITEMS_MAX);
	int n = 0, rc;
	while (n < INVOICE_ITEMS_MAX && (rc = db_step(st)) == DB_ROW)
		str_copy(ids[n++], ID_MAX, db_col_text(st, 0, NULL));
	db_reset(st);
	if (rc < 0)
		return req_fail(r, ERR_API, NULL, NULL);
	for (int i = 0; i < n; i++) {
		struct invoice_item ii;
		if (invoice_item_load(r, db, ids[i], &ii) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		id_new_at(ii.id, "ii_", now);
		ii.created = now;
		ii.invoice = to;
		if (ii_insert_row(r, db, &ii) != 0 || tax_links_copy(r, db, ids[i], ii.id) != 0 ||
		    ii_emit(r, db, &ii, "invoiceitem.created", NULL) != 0)
			return -1;
	}
	return 0;
}

int invoice_items_release(struct req *r, struct db *db, const char *invoice)
{
	struct db_stmt *st = db_prepare(db, SQL_RELEASE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, invoice, -1);
	return db_step_done(st) == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

int invoice_credit_carry(struct req *r, struct db *db, const struct invoice *in, int64_t now)
{
	if (in->total >= 0)
		return 0;
	struct invoice_item ii;
	memset(&ii, 0, sizeof(ii));
	id_new_at(ii.id, "ii_", now);
	ii.created = now;
	ii.customer = in->customer;
	str_copy(ii.currency, sizeof(ii.currency), in->currency);
	ii.amount = ii.unit_amount = in->total;
	ii.quantity = 1;
	ii.description = arena_printf(&r->arena, "Credit carried over from invoice %s",
				      in->number ? in->number : in->id);
	ii.period_start = ii.period_end = now;
	ii.metadata = "{}";
	ii.subscription = in->subscription;
	ii.discountable = false;
	ii.test_clock = in->test_clock;
	return invoice_item_insert(r, db, &ii);
}

/* A draft invoice after one of its items was added, changed or removed, in the same write:
 * its subtotal, discounts and total computed again from its lines as they now are. 0, or -1
 * with r->err (a total out of range is a 400 on `param`). */
static int draft_adjust(struct req *r, struct db *db, const char *invoice, const char *param)
{
	if (!invoice)
		return 0;
	struct invoice in;
	if (invoice_load(r, db, invoice, &in) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!str_eq(in.status, "draft"))
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"Invoice %s is %s: its items can no longer change.", in.id,
				in.status);
	/* a line given tax rates beside another's own tax_amounts: Stripe refuses it */
	if (invoice_tax_amounts_allowed(r, db, &in, "tax_rates") != 0)
		return -1;
	int64_t was_total = in.total, was_subtotal = in.subtotal;
	const char *was_tda = in.total_discount_amounts;
	if (invoice_discounts_apply(r, db, &in) != 0) {
		if (r->err.code == ERR_AMOUNT_TOO_LARGE)
			str_copy(r->err.param, sizeof(r->err.param), param);
		return -1;
	}
	if (in.total == was_total && in.subtotal == was_subtotal &&
	    str_eq(in.total_discount_amounts, was_tda))
		return 0; /* nothing the invoice shows of its total moved */
	if (invoice_update(r, db, &in) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return invoice_emit(r, db, &in, "invoice.updated");
}

/* ---- create ---- */

struct ii_ctx {
	struct req *r;
	const char *id;
	struct invoice_item ii;
	bool price_data;
	const char *pname;	   /* "price" or "pricing[price]", as the request spelled it */
	struct discount_spec spec; /* its own discounts[] */
	struct tax_rate_spec tax;  /* its own tax_rates[] (tax_rates.c) */
};

/* The item's price: `price`, or `pricing[price]` (the newer API versions' spelling of the same
 * thing); *pname is the parameter errors name. Both: Stripe's 400. 0, or -1 with r->err. */
static int price_param(struct req *r, const char **price, const char **pname)
{
	const char *a = param_str(r, "price"), *b = param_str(r, "pricing.price");
	if (param_present(r, "price") && param_present(r, "pricing"))
		return req_fail(r, ERR_PARAM_BAD, "pricing",
				"You may only specify one of these parameters: price, pricing.");
	*price = param_present(r, "pricing") ? b : a;
	*pname = param_present(r, "pricing") ? "pricing[price]" : "price";
	return 0;
}

/* The item's own discounts[], redeemed for it (inside the write, the row stored). A line-level
 * discount needs a line that discounts apply to. 0, or -1 with r->err. */
static int own_discounts_set(struct req *r, struct db *db, struct ii_ctx *x)
{
	struct invoice_item *ii = &x->ii;
	if (!x->spec.present)
		return 0;
	if (x->spec.n && (!ii->discountable || ii->amount <= 0))
		return req_fail(r, ERR_PARAM_BAD, "discounts",
				"Discounts apply to a discountable item of a positive amount.");
	struct discount *ds = arena_alloc(&r->arena, DISCOUNTS_MAX * sizeof(*ds));
	int n = 0;
	if (!ds)
		return req_fail(r, ERR_API, NULL, NULL);
	if (discounts_resolve(r, db, &x->spec, ii->customer, ii->currency, ii->amount, NULL,
			      ii->created, ds, &n) != 0)
		return -1;
	return discounts_attach(r, db, DISCOUNT_INVOICE_ITEM, ii->id, ii->customer, ii->created, ds,
				n, NULL);
}

/* amount = unit × quantity within Stripe's bound; a sub-cent unit's product rounded once. t:
 * the price's transform_quantity (NULL: none): the quantity is divided and rounded first, as
 * Stripe bills it, while the item keeps showing the quantity given. */
static int amount_of(struct req *r, struct invoice_item *ii, const char *param,
		     const struct qty_transform *t)
{
	int64_t whole, frac, q;
	if (ii->quantity_decimal) {
		/* unit × the decimal quantity, exact, rounded once; a price that divides its
		 * quantity rounds a whole one, which a decimal quantity is not (Stripe refuses
		 * quantity_decimal with transform_quantity) */
		int64_t qw, qf;
		if (t && qty_transform_set(t))
			return req_fail(r, ERR_PARAM_BAD, "quantity_decimal",
					"quantity_decimal cannot be used with a price that has "
					"transform_quantity.");
		if (ii->unit_amount_decimal) {
			if (tiers_decimal_parse(ii->unit_amount_decimal, &whole, &frac) != 0)
				whole = -1;
		} else {
			whole = ii->unit_amount;
			frac = 0;
		}
		if (whole < 0)
			return req_fail(r, ERR_PARAM_BAD, "quantity_decimal",
					"quantity_decimal multiplies a unit amount; this item is a "
					"credit of a negative amount.");
		if (tiers_decimal_parse(ii->quantity_decimal, &qw, &qf) != 0 ||
		    tiers_decimal_product(whole, frac, qw, qf, &ii->amount) != 0 ||
		    ii->amount > BILLING_AMOUNT_MAX)
			return req_fail(r, ERR_AMOUNT_TOO_LARGE, "quantity_decimal",
					"An invoice item's amount must be at most %lld either way.",
					(long long)BILLING_AMOUNT_MAX);
		return 0;
	}
	bool bad = qty_transform_apply(t, ii->quantity, &q) != 0 ||
		   (ii->unit_amount_decimal
			? tiers_decimal_parse(ii->unit_amount_decimal, &whole, &frac) != 0 ||
			      tiers_decimal_amount(whole, frac, q, &ii->amount) != 0
			: __builtin_mul_overflow(ii->unit_amount, q, &ii->amount));
	if (bad || ii->amount > BILLING_AMOUNT_MAX || ii->amount < -BILLING_AMOUNT_MAX)
		return req_fail(r, ERR_AMOUNT_TOO_LARGE, param,
				"An invoice item's amount must be at most %lld either way.",
				(long long)BILLING_AMOUNT_MAX);
	return 0;
}

/* quantity_decimal (create, update): a quantity with up to 12 decimals, more than 0 and at most
 * BILLING_QUANTITY_MAX, in place of `quantity` (Stripe takes one of them). A whole one is
 * `quantity`; another is kept as its text without trailing zeros, `quantity` its whole part.
 * 1 when given, 0 when not, -1 with r->err. */
static int quantity_decimal_param(struct req *r, struct invoice_item *ii)
{
	const char *s = param_str(r, "quantity_decimal");
	if (!s)
		return 0;
	if (param_present(r, "quantity"))
		return req_fail(r, ERR_PARAM_BAD, "quantity_decimal",
				"You may only specify one of these parameters: quantity, "
				"quantity_decimal.");
	int64_t w, f;
	if (tiers_decimal_parse(s, &w, &f) != 0 || (w == 0 && f == 0) || w > BILLING_QUANTITY_MAX ||
	    (w == BILLING_QUANTITY_MAX && f > 0))
		return req_fail(r, ERR_PARAM_BAD, "quantity_decimal",
				"Invalid quantity_decimal: a decimal number with at most 12 "
				"decimal places, more than 0 and at most %d.",
				BILLING_QUANTITY_MAX);
	ii->quantity = w;
	ii->quantity_decimal = NULL;
	if (f) {
		char digits[16];
		int len = snprintf(digits, sizeof(digits), "%012lld", (long long)f);
		while (len > 0 && digits[len - 1] == '0')
			len--;
		ii->quantity_decimal =
		    arena_printf(&r->arena, "%lld.%.*s", (long long)w, len, digits);
		if (!ii->quantity_decimal)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	return 1;
}

static int period_params(struct req *r, struct invoice_item *ii)
{
	if (!param_present(r, "period"))
		return 0;
	int64_t s, e;
	if (param_int(r, "period.start", &s) != 1)
		return req_fail(r, ERR_PARAM_MISSING, "period[start]", "period[start]");
	if (param_int(r, "period.end", &e) != 1)
		return req_fail(r, ERR_PARAM_MISSING, "period[end]", "period[end]");
	if (e < s)
		return req_fail(r, ERR_PARAM_BAD, "period[end]",
				"The period's end must not be before its start.");
	ii->period_start = s;
	ii->period_end = e;
	return 0;
}

/* The currency a create's price is wanted in: `currency`, else its draft invoice's, else its
 * subscription's ("" when none says), into out: a price with a currency_options entry for it is
 * billed at that entry's amount. Unknown ids are left to the checks after. DB_OK or < 0. */
static int wanted_currency(struct req *r, struct db *db, char out[8])
{
	memset(out, 0, 8);
	const char *cur = param_str(r, "currency");
	const char *inv = param_str(r, "invoice");
	const char *sub = param_str(r, "subscription");
	if (cur && *cur) {
		for (int i = 0; cur[i] && i < 7; i++)
			out[i] =
			    (char)(cur[i] >= 'A' && cur[i] <= 'Z' ? cur[i] - 'A' + 'a' : cur[i]);
		return DB_OK;
	}
	if (inv && *inv) {
		struct invoice in;
		int rc = invoice_load(r, db, inv, &in);
		if (rc == DB_OK)
			str_copy(out, 8, in.currency);
		return rc == DB_NOTFOUND ? DB_OK : rc;
	}
	if (!sub || !*sub)
		return DB_OK;
	struct db_stmt *st = db_prepare(db, SQL_SUB);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, sub, -1);
	int rc = db_step(st);
	if (rc == DB_ROW)
		str_copy(out, 8, db_col_text(st, 1, NULL));
	db_reset(st);
	return rc == DB_ROW || rc == DB_DONE ? DB_OK : rc < 0 ? rc : DB_ERR;
}

/* The create inside its write (x read by create_parse): the item stored with its discounts and
 * tax rates, invoiceitem.created; its draft's totals are the caller's. */
static int create_core(struct db *db, struct ii_ctx *x)
{
	struct req *r = x->r;
	struct invoice_item *ii = &x->ii;
	struct billing_customer bc;
	if (billing_customer_get(r, db, ii->customer, &bc) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!bc.found)
		return req_fail_missing(r, "customer", ii->customer, "customer");
	ii->test_clock = bc.test_clock;
	if (billing_now(r, db, bc.test_clock, &ii->created) != 0)
		return -1;
	if (!param_present(r, "period"))
		ii->period_start = ii->period_end = ii->created;
	const char *cur = param_str(r, "currency");
	struct qty_transform t = {0, false}; /* the price's transform_quantity */
	if (x->price_data) {
		struct price_facts pf;
		char pid[ID_MAX];
		if (price_create_inline(r, db, "price_data.", "price_data", &pf, pid) != 0)
			return -1;
		ii->price = arena_strdup(&r->arena, pid);
		str_copy(ii->currency, sizeof(ii->currency), pf.currency);
		ii->unit_amount = pf.unit_amount;
		ii->unit_amount_decimal = pf.has_unit_amount ? NULL : pf.unit_amount_decimal;
	} else if (ii->price) {
		struct price_facts pf;
		char want[8];
		int rc = wanted_currency(r, db, want);
		if (rc == DB_OK)
			rc = price_facts_in(r, db, ii->price, want, &pf);
		if (rc == DB_NOTFOUND)
			return req_fail_missing(r, x->pname, ii->price, x->pname);
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (!pf.active || !pf.product_active)
			return req_fail(r, ERR_PARAM_BAD, x->pname,
					"The price specified (%s) is inactive. This field only "
					"accepts active prices.",
					ii->price);
		if (pf.recurring)
			return req_fail(r, ERR_PARAM_BAD, x->pname,
					"The price specified is set to `type=recurring` but this "
					"field only accepts prices with `type=one_time`.");
		if (price_facts_fixed(r, &pf, ii->price, x->pname) != 0)
			return -1;
		if (pf.tiers)
			return req_fail(r, ERR_PARAM_BAD, x->pname,
					"Tender invoice items take per-unit prices; %s is tiered.",
					ii->price);
		if (cur && *cur && !str_eq(want, pf.currency))
			return req_fail(r, ERR_PARAM_BAD, "currency",
					"The currency (%s) must be the price's (%s) or one of its "
					"currency_options.",
					cur, pf.currency);
		str_copy(ii->currency, sizeof(ii->currency), pf.currency);
		ii->unit_amount = pf.unit_amount;
		ii->unit_amount_decimal = pf.has_unit_amount ? NULL : pf.unit_amount_decimal;
		t = pf.transform;
	}
	if (amount_of(r, ii, ii->price ? "quantity" : "amount", &t) != 0)
		return -1;
	const char *sub = param_str(r, "subscription");
	if (sub && *sub) {
		struct db_stmt *st = db_prepare(db, SQL_SUB);
		if (!st)
			return req_fail(r, ERR_API, NULL, NULL);
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, sub, -1);
		int rc = db_step(st);
		bool mine = rc == DB_ROW && str_eq(db_col_text(st, 0, NULL), ii->customer);
		bool same_cur = rc == DB_ROW && str_eq(db_col_text(st, 1, NULL), ii->currency);
		const char *status = rc == DB_ROW ? col_text_dup(&r->arena, st, 2) : NULL;
		db_reset(st);
		if (rc != DB_ROW)
			return req_fail_missing(r, "subscription", sub, "subscription");
		if (!mine)
			return req_fail(r, ERR_PARAM_BAD, "subscription",
					"The subscription %s belongs to another customer.", sub);
		if (!same_cur)
			return req_fail(r, ERR_PARAM_BAD, "currency",
					"The invoice item's currency must be its subscription's.");
		if (str_eq(status, "canceled") || str_eq(status, "incomplete_expired"))
			return req_fail(r, ERR_INVALID_STATE, "subscription",
					"The subscription %s is %s: it makes no more invoices.",
					sub, status);
		ii->subscription = sub;
	}
	const char *inv = param_str(r, "invoice");
	if (inv && *inv) {
		struct invoice in;
		int rc = invoice_load(r, db, inv, &in);
		if (rc == DB_NOTFOUND)
			return req_fail_missing(r, "invoice", inv, "invoice");
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (!str_eq(in.customer, ii->customer))
			return req_fail(r, ERR_PARAM_BAD, "invoice",
					"The invoice %s belongs to another customer.", inv);
		if (!str_eq(in.status, "draft"))
			return req_fail(r, ERR_INVALID_STATE, "invoice",
					"Invoice items can only be added to draft invoices; %s is "
					"%s.",
					inv, in.status);
		if (strcmp(in.currency, ii->currency) != 0)
			return req_fail(r, ERR_PARAM_BAD, "currency",
					"The invoice item's currency (%s) must be the invoice's "
					"(%s).",
					ii->currency, in.currency);
		ii->invoice = inv;
	}
	id_new_at(ii->id, "ii_", ii->created);
	if (ii_insert_row(r, db, ii) != 0 || own_discounts_set(r, db, x) != 0 ||
	    tax_links_set(r, db, ii->id, &x->tax) != 0 ||
	    ii_emit(r, db, ii, "invoiceitem.created", NULL) != 0)
		return -1;
	return 0;
}

static int create_fn(struct db *db, void *p)
{
	struct ii_ctx *x = p;
	struct req *r = x->r;
	if (create_core(db, x) != 0 || draft_adjust(r, db, x->ii.invoice, "amount") != 0)
		return -1;
	r->answer_event[0] = '\0';
	return ii_render(r, db, &x->ii, req_json(r));
}

/* tax_behavior and tax_code, for Stripe Tax (invoice_lines_auto_tax_at): a code must be one of
 * Stripe's, a behaviour once inclusive or exclusive stays so (Stripe: it cannot be changed).
 * "" clears the code. 0, or -1 with r->err. */
static int tax_params(struct req *r, struct invoice_item *ii)
{
	const char *tb = param_str(r, "tax_behavior");
	if (tb) {
		if (ii->tax_behavior && !str_eq(ii->tax_behavior, "unspecified") &&
		    !str_eq(ii->tax_behavior, tb))
			return req_fail(r, ERR_PARAM_BAD, "tax_behavior",
					"tax_behavior cannot be changed once it is %s.",
					ii->tax_behavior);
		ii->tax_behavior = tb;
	}
	const char *tc = param_str(r, "tax_code");
	if (tc) {
		if (*tc && !tax_code_find(tc))
			return req_fail_missing(r, "tax_code", tc, "tax_code");
		ii->tax_code = *tc ? tc : NULL;
	}
	return 0;
}

/* The create's parameters (at r->params) read and checked into x. 0, or -1 with r->err. */
static int create_parse(struct req *r, struct ii_ctx *x)
{
	memset(x, 0, sizeof(*x));
	x->r = r;
	struct invoice_item *ii = &x->ii;
	ii->customer = param_str(r, "customer");
	ii->quantity = 1;
	ii->discountable = true;
	ii->metadata = "{}";
	bool has_amount = param_present(r, "amount"), has_unit = param_present(r, "unit_amount");
	const char *dec = param_str(r, "unit_amount_decimal");
	if (has_unit && dec)
		return req_fail(r, ERR_PARAM_BAD, "unit_amount",
				"You may only specify one of these parameters: unit_amount, "
				"unit_amount_decimal.");
	if (dec) { /* checked as a price's is; kept as its text (a whole one as unit_amount) */
		struct price p = {0};
		if (price_amount_decimal(r, "unit_amount_decimal", dec, &p) != 0)
			return -1;
		has_unit = true;
		ii->unit_amount = p.unit_amount;
		ii->unit_amount_decimal = p.has_unit_amount ? NULL : p.unit_amount_decimal;
	}
	const char *price;
	if (price_param(r, &price, &x->pname) != 0)
		return -1;
	x->price_data = param_present(r, "price_data");
	int kinds = has_amount + has_unit + (price && *price) + x->price_data;
	if (kinds != 1)
		return req_fail(r, kinds ? ERR_PARAM_BAD : ERR_PARAM_MISSING, "amount",
				kinds ? "Pass exactly one of amount, unit_amount (or "
					"unit_amount_decimal), price and price_data."
				      : "amount");
	const char *cur = param_str(r, "currency");
	if ((has_amount || has_unit) && !cur)
		return req_fail(r, ERR_PARAM_MISSING, "currency", "currency");
	if (cur) {
		if (!currency_find(cur))
			return req_fail(r, ERR_INVALID_CURRENCY, "currency",
					"Invalid currency: %s.", cur);
		str_copy(ii->currency, sizeof(ii->currency), cur);
	}
	if (param_present(r, "quantity_decimal")) {
		if (has_amount)
			return req_fail(r, ERR_PARAM_BAD, "quantity_decimal",
					"quantity_decimal goes with unit_amount, price or "
					"price_data, not with amount.");
		if (quantity_decimal_param(r, ii) < 0)
			return -1;
	}
	if (param_present(r, "quantity")) {
		if (has_amount)
			return req_fail(r, ERR_PARAM_BAD, "quantity",
					"quantity goes with unit_amount, price or price_data, not "
					"with amount.");
		param_int(r, "quantity", &ii->quantity);
		if (ii->quantity < 1 || ii->quantity > BILLING_QUANTITY_MAX)
			return req_fail(r, ERR_PARAM_BAD, "quantity",
					"Invalid quantity: must be between 1 and %d.",
					BILLING_QUANTITY_MAX);
	}
	if (has_amount)
		param_int(r, "amount", &ii->unit_amount);
	if (has_unit && !dec) {
		param_int(r, "unit_amount", &ii->unit_amount);
		if (ii->unit_amount < 0)
			return req_fail(r, ERR_PARAM_BAD, "unit_amount",
					"unit_amount must not be negative (use amount for a "
					"credit).");
	}
	if ((has_amount || has_unit) &&
	    amount_of(r, ii, has_amount ? "amount" : "quantity", NULL) != 0)
		return -1;
	ii->price = price && *price ? price : NULL;
	if (x->price_data && !param_present(r, "price_data.unit_amount") &&
	    !param_present(r, "price_data.unit_amount_decimal"))
		return req_fail(r, ERR_PARAM_MISSING, "price_data[unit_amount]",
				"price_data[unit_amount]");
	const char *desc = param_str(r, "description");
	ii->description = desc && *desc ? desc : NULL;
	param_bool(r, "discountable", &ii->discountable);
	if (tax_params(r, ii) != 0)
		return -1;
	if (metadata_apply(r, NULL, "metadata", &ii->metadata) != 0 || period_params(r, ii) != 0 ||
	    discount_spec_parse(r, "discounts", false, &x->spec) != 0 ||
	    tax_rate_spec_parse(r, "tax_rates", "tax_rates", &x->tax) != 0)
		return -1;
	return 0;
}

static int h_create(struct req *r)
{
	struct ii_ctx x;
	if (create_parse(r, &x) != 0)
		return -1;
	return req_write(r, create_fn, &x);
}

/* ---- retrieve, update, delete, list ---- */

static int one_load(struct db *db, struct ii_ctx *x)
{
	int rc = invoice_item_load(x->r, db, x->id, &x->ii);
	if (rc == DB_NOTFOUND || (rc == DB_OK && x->ii.deleted))
		return req_fail_missing(x->r, "invoiceitem", x->id, "id");
	return rc == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

static int retrieve_fn(struct db *db, void *p)
{
	struct ii_ctx *x = p;
	if (one_load(db, x) != 0)
		return -1;
	return ii_render(x->r, db, &x->ii, req_json(x->r));
}

static int h_retrieve(struct req *r)
{
	struct ii_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, retrieve_fn, &x);
}

/* Only an item still pending or on a draft can change (Stripe: a finalized invoice's items
 * are fixed). */
static int changeable(struct req *r, struct db *db, const struct invoice_item *ii)
{
	if (!ii->invoice)
		return 0;
	struct invoice in;
	if (invoice_load(r, db, ii->invoice, &in) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!str_eq(in.status, "draft"))
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"The invoice item %s is on invoice %s, which is %s: it can no "
				"longer be changed or deleted.",
				ii->id, in.id, in.status);
	return 0;
}

/* An update's price or price_data (inside its write): ii takes the price and its unit amount,
 * in ii's currency (its own, or one of its currency_options). Refused for a proration and
 * with an amount of its own. 0, or -1 with r->err. */
static int new_price(struct req *r, struct db *db, struct invoice_item *ii)
{
	const char *price, *pname;
	if (price_param(r, &price, &pname) != 0)
		return -1;
	bool data = param_present(r, "price_data");
	const char *shown = data ? "price_data" : pname;
	if (data && price && *price)
		return req_fail(r, ERR_PARAM_BAD, pname,
				"You may only specify one of these parameters: %s, price_data.",
				pname);
	if (ii->proration)
		return req_fail(r, ERR_PARAM_BAD, shown,
				"A proration's price cannot change; delete it instead.");
	if (param_present(r, "amount") || param_present(r, "unit_amount") ||
	    param_present(r, "unit_amount_decimal"))
		return req_fail(r, ERR_PARAM_BAD, shown,
				"Pass exactly one of amount, unit_amount (or unit_amount_decimal), "
				"price and price_data.");
	struct price_facts pf;
	if (data) {
		char pid[ID_MAX];
		if (!param_present(r, "price_data.unit_amount") &&
		    !param_present(r, "price_data.unit_amount_decimal"))
			return req_fail(r, ERR_PARAM_MISSING, "price_data[unit_amount]",
					"price_data[unit_amount]");
		const char *cur = param_str(r, "price_data.currency");
		if (!cur || strcasecmp(cur, ii->currency) != 0)
			return req_fail(r, ERR_PARAM_BAD, "price_data[currency]",
					"The price's currency must be the invoice item's (%s).",
					ii->currency);
		if (price_create_inline(r, db, "price_data.", "price_data", &pf, pid) != 0)
			return -1;
		ii->price = arena_strdup(&r->arena, pid);
	} else {
		if (!price || !*price)
			return req_fail(r, ERR_PARAM_BAD, pname,
					"An invoice item's price can be replaced, not removed.");
		int rc = price_facts_in(r, db, price, ii->currency, &pf);
		if (rc == DB_NOTFOUND)
			return req_fail_missing(r, pname, price, pname);
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (!pf.active || !pf.product_active)
			return req_fail(
			    r, ERR_PARAM_BAD, pname,
			    "The price specified (%s) is inactive. This field only accepts "
			    "active prices.",
			    price);
		if (pf.recurring)
			return req_fail(
			    r, ERR_PARAM_BAD, pname,
			    "The price specified is set to `type=recurring` but this field "
			    "only accepts prices with `type=one_time`.");
		if (price_facts_fixed(r, &pf, price, pname) != 0)
			return -1;
		if (pf.tiers)
			return req_fail(r, ERR_PARAM_BAD, pname,
					"Tender invoice items take per-unit prices; %s is tiered.",
					price);
		if (!str_eq(pf.currency, ii->currency))
			return req_fail(
			    r, ERR_PARAM_BAD, pname,
			    "The price's currency (%s) must be the invoice item's (%s), "
			    "its own or one of its currency_options.",
			    pf.currency, ii->currency);
		ii->price = price;
	}
	ii->unit_amount = pf.unit_amount;
	ii->unit_amount_decimal = pf.has_unit_amount ? NULL : pf.unit_amount_decimal;
	return 0;
}

/* The update inside its write (x->id, x->spec and x->tax read): the item changed as the request
 * says, invoiceitem.updated; its draft's totals are the caller's. */
static int update_core(struct db *db, struct ii_ctx *x)
{
	struct req *r = x->r;
	if (one_load(db, x) != 0 || changeable(r, db, &x->ii) != 0)
		return -1;
	struct invoice_item *ii = &x->ii;
	int64_t old_amount = ii->amount;
	struct buf pb;
	struct json pj;
	buf_init(&pb, 64 * 1024);
	json_init(&pj, &pb);
	json_obj_open(&pj);
	bool amounts = false;
	int64_t v;
	/* a proration's amount is its subscription change's arithmetic */
	if (ii->proration &&
	    (param_present(r, "amount") || param_present(r, "unit_amount") ||
	     param_present(r, "unit_amount_decimal") || param_present(r, "quantity") ||
	     param_present(r, "quantity_decimal"))) {
		buf_release(&pb);
		return req_fail(r, ERR_PARAM_BAD, "amount",
				"A proration's amount and quantity cannot change; delete it "
				"instead.");
	}
	/* a new price (or price_data, a price made for it): its unit amount in the item's
	 * currency, times the item's quantity (or the one given) */
	if (param_present(r, "price") || param_present(r, "pricing") ||
	    param_present(r, "price_data")) {
		int prc = new_price(r, db, ii);
		if (prc != 0) {
			buf_release(&pb);
			return -1;
		}
		amounts = true;
	}
	if (param_int(r, "amount", &v) == 1) {
		if (ii->price || param_present(r, "unit_amount") ||
		    param_present(r, "unit_amount_decimal") || param_present(r, "quantity") ||
		    param_present(r, "quantity_decimal")) {
			buf_release(&pb);
			return req_fail(r, ERR_PARAM_BAD, "amount",
					"amount replaces unit_amount × quantity of an item without "
					"a price; pass it alone.");
		}
		ii->unit_amount = v;
		ii->unit_amount_decimal = NULL;
		ii->quantity = 1;
		ii->quantity_decimal = NULL;
		amounts = true;
	}
	if (param_int(r, "unit_amount", &v) == 1) {
		if (ii->price || v < 0) {
			buf_release(&pb);
			return req_fail(r, ERR_PARAM_BAD, "unit_amount",
					ii->price ? "This item's unit amount is its price's."
						  : "unit_amount must not be negative.");
		}
		ii->unit_amount = v;
		ii->unit_amount_decimal = NULL;
		amounts = true;
	}
	/* as on create: exactly one of unit_amount / unit_amount_decimal, checked as a price's
	 * is, a sub-cent one kept as its text for amount_of's exact product */
	const char *dec = param_str(r, "unit_amount_decimal");
	if (dec) {
		struct price pd = {0};
		if (param_present(r, "unit_amount")) {
			buf_release(&pb);
			return req_fail(
			    r, ERR_PARAM_BAD, "unit_amount",
			    "You may only specify one of these parameters: unit_amount, "
			    "unit_amount_decimal.");
		}
		if (ii->price) {
			buf_release(&pb);
			return req_fail(r, ERR_PARAM_BAD, "unit_amount_decimal",
					"This item's unit amount is its price's.");
		}
		if (price_amount_decimal(r, "unit_amount_decimal", dec, &pd) != 0) {
			buf_release(&pb);
			return -1;
		}
		ii->unit_amount = pd.unit_amount;
		ii->unit_amount_decimal = pd.has_unit_amount ? NULL : pd.unit_amount_decimal;
		amounts = true;
	}
	if (param_int(r, "quantity", &v) == 1) {
		if (v < 1 || v > BILLING_QUANTITY_MAX) {
			buf_release(&pb);
			return req_fail(r, ERR_PARAM_BAD, "quantity",
					"Invalid quantity: must be between 1 and %d.",
					BILLING_QUANTITY_MAX);
		}
		ii->quantity = v;
		ii->quantity_decimal = NULL;
		amounts = true;
	}
	int qd = quantity_decimal_param(r, ii);
	if (qd < 0) {
		buf_release(&pb);
		return -1;
	}
	if (qd > 0)
		amounts = true;
	if (amounts) {
		json_kv_int(&pj, "amount", old_amount);
		/* an item of a price keeps billing the price's transformed quantity (set at the
		 * price's creation, never changed) */
		struct price pr;
		int prc = ii->price ? price_load(r, db, ii->price, &pr) : DB_NOTFOUND;
		if (prc != DB_OK && prc != DB_NOTFOUND) {
			buf_release(&pb);
			return req_fail(r, ERR_API, NULL, NULL);
		}
		if (amount_of(r, ii, "amount", prc == DB_OK ? &pr.transform : NULL) != 0) {
			buf_release(&pb);
			return -1;
		}
	}
	const char *desc = param_str(r, "description");
	if (desc) {
		json_kv_str_or_null(&pj, "description", ii->description);
		ii->description = *desc ? desc : NULL;
	}
	param_bool(r, "discountable", &ii->discountable);
	if (tax_params(r, ii) != 0) {
		buf_release(&pb);
		return -1;
	}
	if (param_present(r, "period")) {
		if (period_params(r, ii) != 0) {
			buf_release(&pb);
			return -1;
		}
	}
	if (param_present(r, "metadata")) {
		json_kv_raw(&pj, "metadata", ii->metadata, strlen(ii->metadata));
		if (metadata_apply(r, ii->metadata, "metadata", &ii->metadata) != 0) {
			buf_release(&pb);
			return -1;
		}
	}
	json_obj_close(&pj);
	const char *prev = pb.failed ? NULL : arena_strndup(&r->arena, pb.data, pb.len);
	buf_release(&pb);
	if (!prev)
		return req_fail(r, ERR_API, NULL, NULL);
	if (ii_save(r, db, ii, ii->invoice) != 0 || own_discounts_set(r, db, x) != 0 ||
	    tax_links_set(r, db, ii->id, &x->tax) != 0 ||
	    ii_emit(r, db, ii, "invoiceitem.updated", prev) != 0)
		return -1;
	return 0;
}

static int update_fn(struct db *db, void *p)
{
	struct ii_ctx *x = p;
	struct req *r = x->r;
	if (update_core(db, x) != 0 || draft_adjust(r, db, x->ii.invoice, "amount") != 0)
		return -1;
	r->answer_event[0] = '\0';
	return ii_render(r, db, &x->ii, req_json(r));
}

static int h_update(struct req *r)
{
	struct ii_ctx x = {.r = r, .id = r->args[0]};
	if (discount_spec_parse(r, "discounts", false, &x.spec) != 0 ||
	    tax_rate_spec_parse(r, "tax_rates", "tax_rates", &x.tax) != 0)
		return -1;
	return req_write(r, update_fn, &x);
}

static int delete_fn(struct db *db, void *p)
{
	struct ii_ctx *x = p;
	struct req *r = x->r;
	if (one_load(db, x) != 0 || changeable(r, db, &x->ii) != 0)
		return -1;
	struct invoice_item *ii = &x->ii;
	ii->deleted = true;
	if (ii_save(r, db, ii, ii->invoice) != 0 ||
	    ii_emit(r, db, ii, "invoiceitem.deleted", NULL) != 0 ||
	    draft_adjust(r, db, ii->invoice, "id") != 0)
		return -1;
	r->answer_event[0] = '\0';
	return ii_render(r, db, ii, req_json(r));
}

static int h_delete(struct req *r)
{
	struct ii_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, delete_fn, &x);
}

/* ---- one line of a draft's bulk edit (invoice_lines_edit.c), inside its write ---- */

int invoice_item_create_step(struct req *r, struct db *db, struct invoice_item *ret)
{
	struct ii_ctx *x = arena_alloc(&r->arena, sizeof(*x));
	if (!x)
		return req_fail(r, ERR_API, NULL, NULL);
	if (create_parse(r, x) != 0 || create_core(db, x) != 0)
		return -1;
	*ret = x->ii;
	return 0;
}

int invoice_item_update_step(struct req *r, struct db *db, const char *id, struct invoice_item *ret)
{
	struct ii_ctx *x = arena_alloc(&r->arena, sizeof(*x));
	if (!x)
		return req_fail(r, ERR_API, NULL, NULL);
	memset(x, 0, sizeof(*x));
	x->r = r;
	x->id = id;
	if (discount_spec_parse(r, "discounts", false, &x->spec) != 0 ||
	    tax_rate_spec_parse(r, "tax_rates", "tax_rates", &x->tax) != 0 ||
	    update_core(db, x) != 0)
		return -1;
	*ret = x->ii;
	return 0;
}

/* back to pending: off the draft it was on (the guard: still there, live) */
static const char SQL_UNASSIGN[] =
    "UPDATE invoice_items SET invoice = NULL WHERE merchant_id = $1 AND id = $2 AND invoice = $3"
    " AND deleted = 0";

int invoice_item_remove_step(struct req *r, struct db *db, const char *id, bool unassign)
{
	struct ii_ctx x = {.r = r, .id = id};
	if (one_load(db, &x) != 0 || changeable(r, db, &x.ii) != 0)
		return -1;
	struct invoice_item *ii = &x.ii;
	if (!unassign) {
		ii->deleted = true;
		if (ii_save(r, db, ii, ii->invoice) != 0)
			return -1;
		return ii_emit(r, db, ii, "invoiceitem.deleted", NULL);
	}
	if (!ii->invoice)
		return 0; /* pending already */
	struct db_stmt *st = db_prepare(db, SQL_UNASSIGN);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, ii->id, -1);
	db_bind_text(st, 3, ii->invoice, -1);
	int64_t n;
	if (db_step_changes(st, &n) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (n != 1)
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"Invoice item %s changed while this request ran; try again.",
				ii->id);
	const char *prev = arena_printf(&r->arena, "{\"invoice\":%s}", json_quote(r, ii->invoice));
	if (!prev)
		return req_fail(r, ERR_API, NULL, NULL);
	ii->invoice = NULL;
	return ii_emit(r, db, ii, "invoiceitem.updated", prev);
}

int invoice_item_assign_step(struct req *r, struct db *db, const char *id, const struct invoice *in,
			     struct invoice_item *ret)
{
	struct ii_ctx x = {.r = r, .id = id};
	int rc = invoice_item_load(r, db, id, &x.ii);
	if (rc == DB_NOTFOUND || (rc == DB_OK && x.ii.deleted))
		return req_fail_missing(r, "invoiceitem", id, "invoice_item");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	struct invoice_item *ii = &x.ii;
	if (ii->invoice)
		return req_fail(r, ERR_PARAM_BAD, "invoice_item",
				"The invoice item %s is already on invoice %s: only an unassigned "
				"(pending) invoice item can be added.",
				id, ii->invoice);
	if (!str_eq(ii->customer, in->customer))
		return req_fail(r, ERR_PARAM_BAD, "invoice_item",
				"The invoice item %s belongs to another customer.", id);
	if (!str_eq(ii->currency, in->currency))
		return req_fail(r, ERR_PARAM_BAD, "invoice_item",
				"The invoice item's currency (%s) must be the invoice's (%s).",
				ii->currency, in->currency);
	/* an item of a subscription waits for that subscription's invoices, as it does when
	 * invoices take pending items */
	if (ii->subscription && !str_eq(ii->subscription, in->subscription))
		return req_fail(r, ERR_PARAM_BAD, "invoice_item",
				"The invoice item %s is of subscription %s: it goes on that "
				"subscription's invoices only.",
				id, ii->subscription);
	char one[1][ID_MAX];
	int64_t amount = ii->amount;
	str_copy(one[0], ID_MAX, ii->id);
	struct pending_items p = {.n = 1, .sum = amount, .ids = one, .amounts = &amount};
	if (invoice_items_claim(r, db, &p, in->id) != 0)
		return -1;
	ii->invoice = in->id;
	if (ii_emit(r, db, ii, "invoiceitem.updated", "{\"invoice\":null}") != 0)
		return -1;
	*ret = *ii;
	return 0;
}

static const char SQL_CURSOR[] =
    "SELECT created FROM invoice_items WHERE merchant_id = $1 AND id = $2";
/* $7: 'true' only pending ones, 'false' only invoiced ones, NULL both */
/* CUSTOMER and INVOICE: those two filters' terms; each is also a list_narrow (list.h) with the
 * plain `col = $n`, answered from invoice_items_customer / invoice_items_invoice */
#define LIST_SQL(CUSTOMER, INVOICE)                                                                \
	"SELECT id FROM invoice_items WHERE merchant_id = $1 AND " CUSTOMER " AND " INVOICE        \
	" AND id > $2 AND id < $3 AND deleted = 0"                                                 \
	" AND ($7 IS NULL OR ($7 = 'true' AND invoice IS NULL)"                                    \
	" OR ($7 = 'false' AND invoice IS NOT NULL))"
#define ANY_CUSTOMER "($5 IS NULL OR customer = $5)"
#define ANY_INVOICE "($6 IS NULL OR invoice = $6)"
static const char SQL_DESC[] = LIST_SQL(ANY_CUSTOMER, ANY_INVOICE) " ORDER BY id DESC LIMIT $4";
static const char SQL_ASC[] = LIST_SQL(ANY_CUSTOMER, ANY_INVOICE) " ORDER BY id ASC LIMIT $4";
static const char SQL_CUSTOMER_DESC[] =
    LIST_SQL("customer = $5", ANY_INVOICE) " ORDER BY id DESC LIMIT $4";
static const char SQL_CUSTOMER_ASC[] =
    LIST_SQL("customer = $5", ANY_INVOICE) " ORDER BY id ASC LIMIT $4";
static const char SQL_INVOICE_DESC[] =
    LIST_SQL(ANY_CUSTOMER, "invoice = $6") " ORDER BY id DESC LIMIT $4";
static const char SQL_INVOICE_ASC[] =
    LIST_SQL(ANY_CUSTOMER, "invoice = $6") " ORDER BY id ASC LIMIT $4";

static int list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	const char *c = param_str(r, "customer"), *i = param_str(r, "invoice");
	db_bind_text(st, first, c && *c ? c : NULL, -1);
	db_bind_text(st, first + 1, i && *i ? i : NULL, -1);
	bool pending;
	if (param_bool(r, "pending", &pending) == 1)
		db_bind_text(st, first + 2, pending ? "true" : "false", -1);
	else
		db_bind_text(st, first + 2, NULL, -1);
	return 0;
}

static int list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	struct invoice_item ii;
	int rc = invoice_item_load(r, db, id, &ii);
	if (rc != DB_OK)
		return rc;
	return ii_render(r, db, &ii, j) == 0 ? DB_OK : DB_ERR;
}

static int h_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/invoiceitems",
	    .object_name = "invoiceitem",
	    .id_prefix = "ii_",
	    .sql_cursor = SQL_CURSOR,
	    .sql_desc = SQL_DESC,
	    .sql_asc = SQL_ASC,
	    .narrow = {{"customer", SQL_CUSTOMER_DESC, SQL_CUSTOMER_ASC},
		       {"invoice", SQL_INVOICE_DESC, SQL_INVOICE_ASC}},
	    .bind_filters = list_bind,
	    .render = list_render,
	};
	return list_respond(r, &spec);
}

static const struct param_spec period_children[] = {
    {"start", PT_INT, 0, 0, NULL, NULL},
    {"end", PT_INT, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
const struct param_spec invoice_item_price_data_params[] = {
    {"currency", PT_CURRENCY, PF_REQUIRED, 0, NULL, NULL},
    {"product", PT_STRING, PF_REQUIRED, 255, NULL, NULL},
    {"unit_amount", PT_INT, 0, 0, NULL, NULL},
    {"unit_amount_decimal", PT_STRING, 0, 40, NULL, NULL},
    {"tax_behavior", PT_ENUM, 0, 0,
     (const char *const[]){"exclusive", "inclusive", "unspecified", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const char *const tax_behaviors[] = {"exclusive", "inclusive", "unspecified", NULL};
static const struct param_spec discount_children[] = {
    {"coupon", PT_STRING, 0, COUPON_ID_MAX, NULL, NULL},
    {"promotion_code", PT_STRING, 0, 255, NULL, NULL},
    {"discount", PT_STRING, 0, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec pricing_children[] = {
    {"price", PT_STRING, 0, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec create_params[] = {
    {"customer", PT_STRING, PF_REQUIRED, 255, NULL, NULL},
    {"discounts", PT_OBJECT_ARRAY, PF_EMPTYABLE, DISCOUNTS_MAX, NULL, discount_children},
    {"amount", PT_INT, 0, 0, NULL, NULL},
    {"unit_amount", PT_INT, 0, 0, NULL, NULL},
    {"unit_amount_decimal", PT_STRING, 0, 40, NULL, NULL},
    {"currency", PT_CURRENCY, 0, 0, NULL, NULL},
    {"price", PT_STRING, 0, 255, NULL, NULL},
    {"pricing", PT_OBJECT, 0, 0, NULL, pricing_children},
    {"price_data", PT_OBJECT, 0, 0, NULL, invoice_item_price_data_params},
    {"quantity", PT_INT, 0, 0, NULL, NULL},
    {"quantity_decimal", PT_STRING, 0, 40, NULL, NULL},
    {"description", PT_STRING, PF_EMPTYABLE, 500, NULL, NULL},
    {"discountable", PT_BOOL, 0, 0, NULL, NULL},
    {"period", PT_OBJECT, 0, 0, NULL, period_children},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"subscription", PT_STRING, 0, 255, NULL, NULL},
    {"invoice", PT_STRING, 0, 255, NULL, NULL},
    {"tax_rates", PT_STRING_ARRAY, PF_EMPTYABLE, 0, NULL, NULL},
    {"tax_behavior", PT_ENUM, 0, 0, tax_behaviors, NULL},
    {"tax_code", PT_STRING, PF_EMPTYABLE, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec update_params[] = {
    {"discounts", PT_OBJECT_ARRAY, PF_EMPTYABLE, DISCOUNTS_MAX, NULL, discount_children},
    {"price", PT_STRING, 0, 255, NULL, NULL},
    {"pricing", PT_OBJECT, 0, 0, NULL, pricing_children},
    {"price_data", PT_OBJECT, 0, 0, NULL, invoice_item_price_data_params},
    {"amount", PT_INT, 0, 0, NULL, NULL},
    {"unit_amount", PT_INT, 0, 0, NULL, NULL},
    {"unit_amount_decimal", PT_STRING, 0, 40, NULL, NULL},
    {"quantity", PT_INT, 0, 0, NULL, NULL},
    {"quantity_decimal", PT_STRING, 0, 40, NULL, NULL},
    {"description", PT_STRING, PF_EMPTYABLE, 500, NULL, NULL},
    {"discountable", PT_BOOL, 0, 0, NULL, NULL},
    {"period", PT_OBJECT, 0, 0, NULL, period_children},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"tax_rates", PT_STRING_ARRAY, PF_EMPTYABLE, 0, NULL, NULL},
    {"tax_behavior", PT_ENUM, 0, 0, tax_behaviors, NULL},
    {"tax_code", PT_STRING, PF_EMPTYABLE, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec list_params[] = {
    {"customer", PT_STRING, 0, 255, NULL, NULL},
    {"invoice", PT_STRING, 0, 255, NULL, NULL},
    {"pending", PT_BOOL, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

const struct route invoice_items_routes[] = {
    {"POST", "/v1/invoiceitems", h_create, create_params, 0},
    {"GET", "/v1/invoiceitems", h_list, list_params, ROUTE_LIST},
    {"GET", "/v1/invoiceitems/{id}", h_retrieve, no_params, 0},
    {"POST", "/v1/invoiceitems/{id}", h_update, update_params, 0},
    {"DELETE", "/v1/invoiceitems/{id}", h_delete, no_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};

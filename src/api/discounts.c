/*
 * Discounts: a coupon (coupons.c) applied, directly or through a promotion code
 * (promotion_codes.c), to a subscription, an invoice or an invoice item, and what that takes off
 * an invoice.
 *
 * Redeeming. A request names its discounts (discount_spec_parse: discounts[n][coupon |
 * promotion_code | discount], or the older coupon / promotion_code); discounts_resolve checks
 * them before the write, and discounts_attach, inside the write, makes the discount rows and
 * counts each redemption with a guarded UPDATE (times_redeemed below max_redemptions, before
 * redeem_by or expires_at), so two requests racing for a coupon's last redemption cannot both
 * get it: the one that comes second fails whole.
 *
 * What a discount takes. An invoice's lines are its invoice items (by id) and then its
 * subscription's lines; each line is discounted first by its own discounts (an invoice item's),
 * then by the invoice's (its own, or its subscription's at the time the invoice was made), in
 * order, each on what the previous ones left, by billing_discount_lines: a percentage off each
 * line rounded to the nearest minor unit, an amount off spread over the lines in proportion,
 * never below zero. A line takes a discount when it is discountable (prorations are not, as on
 * Stripe), positive, of a product the coupon applies to, and (for an amount off) in the coupon's
 * currency or one of its currency_options (whose amount it then takes). The same computation serves
 * twice: before an invoice's write, over the lines it will have (its total decides the payment's
 * amount), and inside it over the lines as stored (invoice_discounts_apply); both see the same
 * lines in the same order, so both give the same total, and the write checks that they did.
 *
 * Taxes (tax_rates.c). After its discounts, each line's rates (its own, else the invoice's
 * default_tax_rates) are taken on what is left of it, by billing_tax_line (billing/tax.h: each
 * line's tax per rate rounded on its own, halves away from zero): exclusive taxes add to the
 * total, inclusive ones are inside it. This is the one place an invoice's total is computed, so
 * the payment's amount, the stored invoice and a preview carry the same taxes.
 *
 * What an invoice keeps. Each line's share of each discount (invoice_discount_amounts), the sum
 * per discount (invoices.total_discount_amounts), each line's tax per rate (invoice_tax_amounts)
 * and subtotal / total (total = subtotal − the discounts + exclusive taxes). A draft's are computed
 * again whenever it changes; once finalized they are fixed.
 *
 * Durations (a subscription's discounts). once: used up by the first invoice it takes something
 * from (so a trial's zero invoice leaves it for the first paid one); repeating: until start +
 * duration_in_months (an invoice made at or after that does not take it); forever. A discount
 * that ends — used, run out, removed — keeps its row (ended = 1) and is announced by
 * customer.discount.deleted.
 *
 * A customer's own discount (coupon / promotion_code on customers) is a row naming the customer
 * and nothing else; a customer has at most one. It is what a subscription without discounts of
 * its own gives its invoices (subscription_discounts falls back to it), and what a one-off
 * invoice created without `discounts` names (invoices.c), with the same durations: `once` is
 * used up by the first invoice it takes something from, `repeating` ends at start +
 * duration_in_months, `forever` stays. Its events are customer.discount.created, .updated
 * (another coupon replaced it) and .deleted.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/billing_internal.h"
#include "api/common.h"
#include "core/str.h"
#include "events/events.h"
#include "http/form.h"

static const char SQL_GET[] =
    "SELECT id, created, coupon, promotion_code, customer, subscription, invoice, invoice_item,"
    " checkout_session, start_at, end_at, ended, subscription_item FROM discounts"
    " WHERE merchant_id = $1 AND id = $2";
static const char SQL_INSERT[] =
    "INSERT INTO discounts (merchant_id, id, created, coupon, promotion_code, customer,"
    " subscription, invoice, invoice_item, checkout_session, pos, start_at, end_at, ended,"
    " subscription_item) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 0,"
    " $14)";
static const char SQL_POS[] = "UPDATE discounts SET pos = $3 WHERE merchant_id = $1 AND id = $2";
static const char SQL_END[] =
    "UPDATE discounts SET ended = 1, end_at = $3 WHERE merchant_id = $1 AND id = $2"
    " AND ended = 0";
/* a subscription's own: its items' name it too, and are not among them */
static const char SQL_LIVE_SUB[] =
    "SELECT id FROM discounts WHERE merchant_id = $1 AND subscription = $2"
    " AND subscription_item IS NULL AND ended = 0 ORDER BY pos LIMIT $3";
static const char SQL_LIVE_SUB_ITEM[] =
    "SELECT id FROM discounts WHERE merchant_id = $1 AND subscription_item = $2 AND ended = 0"
    " ORDER BY pos LIMIT $3";
static const char SQL_LIVE_INVOICE[] =
    "SELECT id FROM discounts WHERE merchant_id = $1 AND invoice = $2 AND ended = 0"
    " ORDER BY pos LIMIT $3";
static const char SQL_LIVE_ITEM[] =
    "SELECT id FROM discounts WHERE merchant_id = $1 AND invoice_item = $2 AND ended = 0"
    " ORDER BY pos LIMIT $3";
static const char SQL_LIVE_CHECKOUT[] =
    "SELECT id FROM discounts WHERE merchant_id = $1 AND checkout_session = $2 AND ended = 0"
    " ORDER BY pos LIMIT $3";
static const char SQL_LIVE_CUSTOMER[] =
    "SELECT id FROM discounts WHERE merchant_id = $1 AND customer = $2 AND subscription IS NULL"
    " AND invoice IS NULL AND invoice_item IS NULL AND checkout_session IS NULL AND ended = 0"
    " ORDER BY pos LIMIT $3";
static const char SQL_CUSTOMER_ROW[] =
    "SELECT id, coupon, promotion_code, start_at, end_at FROM discounts WHERE merchant_id = $1"
    " AND customer = $2 AND subscription IS NULL AND invoice IS NULL AND invoice_item IS NULL"
    " AND checkout_session IS NULL AND ended = 0 ORDER BY pos LIMIT 1";
static const char SQL_SUB_CUSTOMER[] =
    "SELECT customer FROM subscriptions WHERE merchant_id = $1 AND id = $2";
static const char SQL_EXPIRED_SUB[] =
    "SELECT id FROM discounts WHERE merchant_id = $1 AND subscription = $2 AND ended = 0"
    " AND end_at IS NOT NULL AND end_at <= $3 ORDER BY pos LIMIT $4";
static const char SQL_REDEEM_COUPON[] =
    "UPDATE coupons SET times_redeemed = times_redeemed + 1 WHERE merchant_id = $1 AND id = $2"
    " AND deleted = 0 AND (max_redemptions IS NULL OR times_redeemed < max_redemptions)"
    " AND (redeem_by IS NULL OR redeem_by > $3)";
static const char SQL_REDEEM_PROMO[] =
    "UPDATE promotion_codes SET times_redeemed = times_redeemed + 1 WHERE merchant_id = $1"
    " AND id = $2 AND active = 1 AND (max_redemptions IS NULL OR times_redeemed < max_redemptions)"
    " AND (expires_at IS NULL OR expires_at > $3)";
static const char SQL_PAID_BEFORE[] =
    "SELECT 1 FROM charges WHERE merchant_id = $1 AND customer = $2 AND status = 'succeeded'"
    " LIMIT 1";
static const char SQL_ITEMS_ON[] =
    "SELECT id FROM invoice_items WHERE merchant_id = $1 AND invoice = $2 AND deleted = 0"
    " ORDER BY id LIMIT $3";
static const char SQL_AMOUNTS_DELETE[] =
    "DELETE FROM invoice_discount_amounts WHERE merchant_id = $1 AND invoice = $2";
static const char SQL_AMOUNTS_INSERT[] =
    "INSERT INTO invoice_discount_amounts (merchant_id, invoice, line, pos, discount, amount)"
    " VALUES ($1, $2, $3, $4, $5, $6)";
static const char SQL_AMOUNTS_LINE[] =
    "SELECT discount, amount FROM invoice_discount_amounts WHERE merchant_id = $1"
    " AND invoice = $2 AND line = $3 ORDER BY pos LIMIT $4";
static const char SQL_AMOUNT_OF[] =
    "SELECT COALESCE(SUM(amount), 0) FROM invoice_discount_amounts WHERE merchant_id = $1"
    " AND invoice = $2 AND discount = $3";

int discount_load(struct req *r, struct db *db, const char *id, struct discount *d)
{
	struct db_stmt *st = db_prepare(db, SQL_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	const char *coupon = NULL;
	if (rc == DB_ROW) {
		struct arena *a = &r->arena;
		memset(d, 0, sizeof(*d));
		str_copy(d->id, sizeof(d->id), db_col_text(st, 0, NULL));
		coupon = col_text_dup(a, st, 2);
		const char *promo = db_col_text(st, 3, NULL);
		str_copy(d->promotion_code, sizeof(d->promotion_code), promo ? promo : "");
		d->customer = col_text_dup(a, st, 4);
		d->subscription = col_text_dup(a, st, 5);
		d->invoice = col_text_dup(a, st, 6);
		d->invoice_item = col_text_dup(a, st, 7);
		d->checkout_session = col_text_dup(a, st, 8);
		d->start = db_col_int64(st, 9);
		d->end = db_col_int64_or0(st, 10);
		d->ended = db_col_int64(st, 11) != 0;
		d->subscription_item = col_text_dup(a, st, 12);
		if (!coupon)
			rc = DB_ERR;
	}
	db_reset(st);
	if (rc != DB_ROW)
		return rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
	/* its coupon may have been deleted since: the discount still applies */
	rc = coupon_load(r, db, coupon, &d->coupon);
	return rc == DB_OK ? DB_OK : rc == DB_NOTFOUND ? DB_ERR : rc;
}

static void render_discount(const struct discount *d, bool deleted, struct json *j)
{
	json_obj_open(j);
	json_kv_str(j, "id", d->id);
	json_kv_str(j, "object", "discount");
	json_kv_str_or_null(j, "checkout_session", d->checkout_session);
	json_kv_str_or_null(j, "customer", d->customer);
	json_kv_null(j, "customer_account");
	if (deleted)
		json_kv_bool(j, "deleted", true);
	else if (d->end)
		json_kv_int(j, "end", d->end);
	else
		json_kv_null(j, "end");
	json_kv_str_or_null(j, "invoice", d->invoice);
	json_kv_str_or_null(j, "invoice_item", d->invoice_item);
	json_kv_str_or_null(j, "promotion_code", d->promotion_code[0] ? d->promotion_code : NULL);
	json_key(j, "source");
	json_obj_open(j);
	json_kv_str(j, "coupon", d->coupon.id);
	json_kv_str(j, "type", "coupon");
	json_obj_close(j);
	json_kv_int(j, "start", d->start);
	json_kv_str_or_null(j, "subscription", d->subscription);
	json_kv_str_or_null(j, "subscription_item", d->subscription_item);
	json_obj_close(j);
}

void discount_render(struct req *r, const struct discount *d, bool deleted, struct json *j)
{
	(void)r;
	render_discount(d, deleted, j);
}

int discounts_render_ids(struct req *r, struct db *db, const char *ids_json, bool expand,
			 struct json *j)
{
	if (!expand || !ids_json || strcmp(ids_json, "[]") == 0) {
		json_raw(j, ids_json ? ids_json : "[]", ids_json ? strlen(ids_json) : 2);
		return 0;
	}
	json_error_t e;
	json_t *ids = json_loads(ids_json, 0, &e);
	if (!json_is_array(ids)) {
		json_decref(ids);
		return -1;
	}
	json_arr_open(j);
	size_t i;
	json_t *v;
	int rc = 0;
	json_array_foreach(ids, i, v)
	{
		struct discount d;
		if (!json_is_string(v) || discount_load(r, db, json_string_value(v), &d) != DB_OK) {
			rc = -1;
			break;
		}
		discount_render(r, &d, false, j);
	}
	json_decref(ids);
	json_arr_close(j);
	return rc;
}

/* ---- a request's discounts ---- */

int discount_spec_parse(struct req *r, const char *param, bool legacy, struct discount_spec *s)
{
	memset(s, 0, sizeof(*s));
	const char *whole = param_str(r, param);
	const struct form_node *node = param_node(r, param);
	if (node) {
		s->present = true;
		if (whole && !*whole)
			return 0; /* "": none */
		int n = 0;
		for (const struct form_node *x = node->first_child; x; x = x->next) {
			if (n == DISCOUNTS_MAX)
				return req_fail(r, ERR_PARAM_BAD, param,
						"At most %d discounts can be applied.",
						DISCOUNTS_MAX);
			char path[96];
			const char *shown = arena_printf(&r->arena, "%s[%d]", param, n);
			snprintf(path, sizeof(path), "%s.%d.coupon", param, n);
			const char *c = param_str(r, path);
			snprintf(path, sizeof(path), "%s.%d.promotion_code", param, n);
			const char *p = param_str(r, path);
			snprintf(path, sizeof(path), "%s.%d.discount", param, n);
			const char *d = param_str(r, path);
			int kinds = (c && *c) + (p && *p) + (d && *d);
			if (kinds != 1)
				return req_fail(r, kinds ? ERR_PARAM_BAD : ERR_PARAM_MISSING, shown,
						kinds
						    ? "Each discount takes exactly one of coupon, "
						      "promotion_code and discount."
						    : "%s[coupon]",
						shown);
			s->e[n].coupon = c && *c ? c : NULL;
			s->e[n].promotion_code = p && *p ? p : NULL;
			s->e[n].discount = d && *d ? d : NULL;
			s->e[n].shown = arena_printf(&r->arena, "%s[%s]", shown,
						     c && *c   ? "coupon"
						     : p && *p ? "promotion_code"
							       : "discount");
			n++;
		}
		s->n = n;
	}
	if (!legacy)
		return 0;
	const char *c = param_str(r, "coupon"), *p = param_str(r, "promotion_code");
	if (!c && !p)
		return 0;
	if (s->present || (c && p))
		return req_fail(r, ERR_PARAM_BAD, c ? "coupon" : "promotion_code",
				"Pass discounts, coupon or promotion_code: only one of them.");
	s->present = true;
	const char *v = c ? c : p;
	if (!*v)
		return 0; /* "": none */
	s->n = 1;
	s->e[0].coupon = c ? c : NULL;
	s->e[0].promotion_code = p ? p : NULL;
	s->e[0].shown = c ? "coupon" : "promotion_code";
	return 0;
}

/* Has the customer ever paid? (first_time_transaction) 1, 0, or < 0. */
static int paid_before(struct req *r, struct db *db, const char *customer)
{
	if (!customer)
		return 0;
	struct db_stmt *st = db_prepare(db, SQL_PAID_BEFORE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, customer, -1);
	int rc = db_step(st);
	db_reset(st);
	return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : rc;
}

/* A promotion code redeemable for this purchase: its limits and restrictions. */
static int promo_check(struct req *r, struct db *db, const char *id, const char *shown,
		       const char *customer, const char *currency, int64_t amount,
		       struct promotion_code *p)
{
	int rc = promotion_code_load(r, db, id, p);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "promotion_code", id, shown);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!p->active)
		return req_fail(r, ERR_PARAM_BAD, shown, "The promotion code %s is inactive.",
				p->code);
	if (p->expires_at && r->now >= p->expires_at)
		return req_fail(r, ERR_PARAM_BAD, shown, "The promotion code %s has expired.",
				p->code);
	if (p->max_redemptions && p->times_redeemed >= p->max_redemptions)
		return req_fail(r, ERR_PARAM_BAD, shown,
				"The promotion code %s has reached its maximum number of "
				"redemptions.",
				p->code);
	if (p->customer && !str_eq(p->customer, customer))
		return req_fail(r, ERR_PARAM_BAD, shown,
				"The promotion code %s cannot be redeemed by this customer.",
				p->code);
	if (p->first_time_transaction) {
		rc = paid_before(r, db, customer);
		if (rc < 0)
			return req_fail(r, ERR_API, NULL, NULL);
		if (rc > 0)
			return req_fail(r, ERR_PARAM_BAD, shown,
					"The promotion code %s is only for customers who have "
					"never paid before.",
					p->code);
	}
	/* the minimum in the purchase's currency: minimum_amount's own, or a currency option's */
	int64_t min = 0;
	if (p->has_minimum && (!promotion_code_minimum_in(p, currency, &min) || amount < min))
		return req_fail(r, ERR_PARAM_BAD, shown,
				"The promotion code %s needs a purchase of at least %lld %s.",
				p->code, (long long)(min ? min : p->minimum_amount),
				min ? currency : p->minimum_amount_currency);
	return 0;
}

int discounts_resolve(struct req *r, struct db *db, const struct discount_spec *spec,
		      const char *customer, const char *currency, int64_t amount,
		      const char *keep_sub, int64_t t, struct discount *ret, int *ret_n)
{
	*ret_n = 0;
	for (int i = 0; i < spec->n; i++) {
		const char *shown = spec->e[i].shown;
		struct discount *d = &ret[i];
		memset(d, 0, sizeof(*d));
		if (spec->e[i].discount) {
			int rc = discount_load(r, db, spec->e[i].discount, d);
			if (rc == DB_NOTFOUND)
				return req_fail_missing(r, "discount", spec->e[i].discount, shown);
			if (rc != DB_OK)
				return req_fail(r, ERR_API, NULL, NULL);
			/* an item's discount is its item's, not its subscription's */
			const char *owner =
			    d->subscription_item ? d->subscription_item : d->subscription;
			if (d->ended || !keep_sub || !str_eq(owner, keep_sub))
				return req_fail(r, ERR_PARAM_BAD, shown,
						"The discount %s is not one of this object's.",
						d->id);
			if (d->end && d->end <= t)
				return req_fail(r, ERR_PARAM_BAD, shown,
						"The discount %s has run out.", d->id);
		} else {
			const char *coupon = spec->e[i].coupon;
			if (spec->e[i].promotion_code) {
				struct promotion_code p;
				if (promo_check(r, db, spec->e[i].promotion_code, shown, customer,
						currency, amount, &p) != 0)
					return -1;
				str_copy(d->promotion_code, sizeof(d->promotion_code), p.id);
				coupon = p.coupon;
			}
			int rc = coupon_load(r, db, coupon, &d->coupon);
			if (rc == DB_NOTFOUND || (rc == DB_OK && d->coupon.deleted))
				return req_fail_missing(r, "coupon", coupon, shown);
			if (rc != DB_OK)
				return req_fail(r, ERR_API, NULL, NULL);
			/* validity by real time: a coupon is not on a test clock */
			if (!coupon_valid(&d->coupon, r->now))
				return req_fail(r, ERR_COUPON_EXPIRED, shown, "Coupon expired: %s.",
						d->coupon.id);
			d->customer = customer;
			d->start = t;
		}
		/* currency NULL: a customer's discount, for invoices in any currency (an amount
		 * off takes something only from those in its own or its currency_options') */
		if (currency && !coupon_amount_in(&d->coupon, currency, NULL))
			return req_fail(r, ERR_PARAM_BAD, shown,
					"The coupon %s takes an amount off in %s; this is in %s.",
					d->coupon.id, d->coupon.currency, currency);
		for (int k = 0; k < i; k++)
			if (strcmp(ret[k].coupon.id, d->coupon.id) == 0)
				return req_fail(r, ERR_PARAM_BAD, shown,
						"The coupon %s is applied twice.", d->coupon.id);
	}
	*ret_n = spec->n;
	return 0;
}

/* ---- attaching ---- */

static const char *live_sql(enum discount_parent kind)
{
	return kind == DISCOUNT_SUBSCRIPTION	    ? SQL_LIVE_SUB
	       : kind == DISCOUNT_SUBSCRIPTION_ITEM ? SQL_LIVE_SUB_ITEM
	       : kind == DISCOUNT_INVOICE	    ? SQL_LIVE_INVOICE
	       : kind == DISCOUNT_INVOICE_ITEM	    ? SQL_LIVE_ITEM
	       : kind == DISCOUNT_CUSTOMER	    ? SQL_LIVE_CUSTOMER
						    : SQL_LIVE_CHECKOUT;
}

/* The ids of the discounts of parent not ended, in order (at most DISCOUNTS_MAX). */
static int live_ids(struct req *r, struct db *db, const char *sql, const char *parent,
		    char (*ids)[ID_MAX], int *ret_n)
{
	struct db_stmt *st = db_prepare(db, sql);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, parent, -1);
	db_bind_int64(st, 3, DISCOUNTS_MAX);
	int n = 0, rc;
	while (n < DISCOUNTS_MAX && (rc = db_step(st)) == DB_ROW)
		str_copy(ids[n++], ID_MAX, db_col_text(st, 0, NULL));
	db_reset(st);
	*ret_n = n;
	return rc < 0 ? rc : DB_OK;
}

/* Appends customer.discount.<what> with d as its object, at t. */
static int discount_emit(struct req *r, struct db *db, const struct discount *d, const char *type,
			 int64_t t)
{
	struct buf b;
	struct json j;
	buf_init(&b, 64 * 1024);
	json_init(&j, &b);
	discount_render(r, d, false, &j);
	int rc = -1;
	if (!b.failed) {
		struct event_origin o = {r->request_id[0] ? r->request_id : NULL,
					 r->idempotency_key, r->livemode};
		rc = event_append(db, r->merchant_id, &o, type, d->id, b.data, b.len, NULL, t,
				  NULL) == DB_OK
			 ? 0
			 : -1;
	}
	buf_release(&b);
	return rc == 0 ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* Ends discount id at t; a subscription's is announced. */
static int end_one(struct req *r, struct db *db, const char *id, int64_t t, bool announce)
{
	struct db_stmt *st = db_prepare(db, SQL_END);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	db_bind_int64(st, 3, t);
	int64_t n;
	if (db_step_changes(st, &n) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (n != 1 || !announce)
		return 0;
	struct discount d;
	if (discount_load(r, db, id, &d) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return discount_emit(r, db, &d, "customer.discount.deleted", t);
}

static int redeem(struct req *r, struct db *db, const char *sql, const char *id)
{
	struct db_stmt *st = db_prepare(db, sql);
	if (!st)
		return -1;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	db_bind_int64(st, 3, r->now);
	int64_t n;
	if (db_step_changes(st, &n) != DB_OK)
		return -1;
	return n == 1 ? 0 : 1;
}

/* discounts_attach; announce: its discounts' customer.discount.created / .deleted are sent (a
 * subscription's; a customer's are sent by customer_discount_params, which knows an update) */
static int attach(struct req *r, struct db *db, enum discount_parent kind, const char *parent,
		  const char *customer, int64_t t, struct discount *ds, int n, bool announce,
		  const char **ret_ids)
{
	bool sub = announce;
	/* a subscription's (or its item's) or a customer's: how long it lasts counts (repeating:
	 * its end) */
	bool timed = kind == DISCOUNT_SUBSCRIPTION || kind == DISCOUNT_SUBSCRIPTION_ITEM ||
		     kind == DISCOUNT_CUSTOMER;
	char old[DISCOUNTS_MAX][ID_MAX];
	int n_old = 0;
	if (live_ids(r, db, live_sql(kind), parent, old, &n_old) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* the ones it had that are not kept end */
	for (int k = 0; k < n_old; k++) {
		bool kept = false;
		for (int i = 0; i < n; i++)
			kept = kept || strcmp(ds[i].id, old[k]) == 0;
		if (!kept && end_one(r, db, old[k], t, sub) != 0)
			return -1;
	}
	struct buf b;
	struct json j;
	buf_init(&b, 64 * 1024);
	json_init(&j, &b);
	json_arr_open(&j);
	int rc = 0;
	for (int i = 0; rc == 0 && i < n; i++) {
		struct discount *d = &ds[i];
		if (d->id[0]) {
			/* kept: only its place changes */
			struct db_stmt *st = db_prepare(db, SQL_POS);
			if (!st) {
				rc = req_fail(r, ERR_API, NULL, NULL);
				break;
			}
			db_bind_text(st, 1, r->merchant_id, -1);
			db_bind_text(st, 2, d->id, -1);
			db_bind_int64(st, 3, i);
			if (db_step_done(st) != DB_OK)
				rc = req_fail(r, ERR_API, NULL, NULL);
			json_str(&j, d->id);
			continue;
		}
		int k = redeem(r, db, SQL_REDEEM_COUPON, d->coupon.id);
		if (k == 0 && d->promotion_code[0])
			k = redeem(r, db, SQL_REDEEM_PROMO, d->promotion_code);
		if (k != 0) {
			rc = k < 0 ? req_fail(r, ERR_API, NULL, NULL)
				   : req_fail(r, ERR_COUPON_EXPIRED, NULL,
					      "Coupon %s can no longer be redeemed: it reached its "
					      "limits while this request ran.",
					      d->coupon.id);
			break;
		}
		id_new_at(d->id, "di_", t);
		d->customer = customer;
		d->start = t;
		d->end = 0;
		if (timed && str_eq(d->coupon.duration, "repeating") &&
		    billing_add(t, BILLING_MONTH, d->coupon.duration_in_months, &d->end) != 0) {
			rc = req_fail(r, ERR_PARAM_BAD, NULL,
				      "The coupon's duration is out of range.");
			break;
		}
		/* an item's names its subscription, set by subscription_item_discounts_set */
		d->subscription = kind == DISCOUNT_SUBSCRIPTION	       ? parent
				  : kind == DISCOUNT_SUBSCRIPTION_ITEM ? d->subscription
								       : NULL;
		d->subscription_item = kind == DISCOUNT_SUBSCRIPTION_ITEM ? parent : NULL;
		d->invoice = kind == DISCOUNT_INVOICE ? parent : NULL;
		d->invoice_item = kind == DISCOUNT_INVOICE_ITEM ? parent : NULL;
		d->checkout_session = kind == DISCOUNT_CHECKOUT_SESSION ? parent : NULL;
		struct db_stmt *st = db_prepare(db, SQL_INSERT);
		if (!st) {
			rc = req_fail(r, ERR_API, NULL, NULL);
			break;
		}
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, d->id, -1);
		db_bind_int64(st, 3, t);
		db_bind_text(st, 4, d->coupon.id, -1);
		db_bind_text(st, 5, d->promotion_code[0] ? d->promotion_code : NULL, -1);
		db_bind_text(st, 6, customer, -1);
		db_bind_text(st, 7, d->subscription, -1);
		db_bind_text(st, 8, d->invoice, -1);
		db_bind_text(st, 9, d->invoice_item, -1);
		db_bind_text(st, 10, d->checkout_session, -1);
		db_bind_int64(st, 11, i);
		db_bind_int64(st, 12, t);
		db_bind_int64_or_null(st, 13, d->end);
		db_bind_text(st, 14, d->subscription_item, -1);
		if (db_step_done(st) != DB_OK) {
			rc = req_fail(r, ERR_API, NULL, NULL);
			break;
		}
		/* the coupon as redeemed */
		d->coupon.times_redeemed++;
		if (sub && discount_emit(r, db, d, "customer.discount.created", t) != 0)
			rc = -1;
		json_str(&j, d->id);
	}
	json_arr_close(&j);
	const char *ids = rc == 0 && !b.failed ? arena_strndup(&r->arena, b.data, b.len) : NULL;
	buf_release(&b);
	if (rc != 0)
		return -1;
	if (!ids)
		return req_fail(r, ERR_API, NULL, NULL);
	if (ret_ids)
		*ret_ids = ids;
	return 0;
}

int discounts_attach(struct req *r, struct db *db, enum discount_parent kind, const char *parent,
		     const char *customer, int64_t t, struct discount *ds, int n,
		     const char **ret_ids)
{
	return attach(r, db, kind, parent, customer, t, ds, n, kind == DISCOUNT_SUBSCRIPTION,
		      ret_ids);
}

/* ---- a subscription's ---- */

/* The customer of subscription sub (r's arena), or NULL. */
static const char *sub_customer(struct req *r, struct db *db, const char *sub)
{
	struct db_stmt *st = db_prepare(db, SQL_SUB_CUSTOMER);
	if (!st)
		return NULL;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, sub, -1);
	const char *c = db_step(st) == DB_ROW ? col_text_dup(&r->arena, st, 0) : NULL;
	db_reset(st);
	return c;
}

/* The discounts of owner (a subscription's or a subscription item's, by sql) still in force at
 * t, loaded into ret; *ret_n how many. DB_OK or an error. */
static int live_loaded(struct req *r, struct db *db, const char *sql, const char *owner, int64_t t,
		       struct discount *ret, int *ret_n)
{
	char ids[DISCOUNTS_MAX][ID_MAX];
	int n = 0, k = 0;
	int rc = live_ids(r, db, sql, owner, ids, &n);
	if (rc != DB_OK)
		return rc;
	for (int i = 0; i < n; i++) {
		rc = discount_load(r, db, ids[i], &ret[k]);
		if (rc != DB_OK)
			return rc < 0 ? rc : DB_ERR;
		if (!ret[k].end || t < ret[k].end)
			k++;
	}
	*ret_n = k;
	return DB_OK;
}

int subscription_discounts(struct req *r, struct db *db, const char *sub, int64_t t,
			   struct discount *ret, int *ret_n)
{
	int k = 0;
	int rc = live_loaded(r, db, SQL_LIVE_SUB, sub, t, ret, &k);
	if (rc != DB_OK)
		return rc;
	if (k == 0) {
		/* none of its own: its customer's (Stripe's precedence) */
		const char *customer = sub_customer(r, db, sub);
		rc = customer ? customer_discount_get(r, db, customer, t, &ret[0]) : DB_NOTFOUND;
		if (rc == DB_OK)
			k = 1;
		else if (rc != DB_NOTFOUND)
			return rc;
	}
	*ret_n = k;
	return DB_OK;
}

int subscription_discounts_expire(struct req *r, struct db *db, const char *sub, int64_t t)
{
	struct db_stmt *st = db_prepare(db, SQL_EXPIRED_SUB);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, sub, -1);
	db_bind_int64(st, 3, t);
	db_bind_int64(st, 4, DISCOUNTS_MAX);
	char ids[DISCOUNTS_MAX][ID_MAX];
	int n = 0;
	while (n < DISCOUNTS_MAX && db_step(st) == DB_ROW)
		str_copy(ids[n++], ID_MAX, db_col_text(st, 0, NULL));
	db_reset(st);
	for (int i = 0; i < n; i++)
		if (end_one(r, db, ids[i], t, true) != 0)
			return -1;
	/* the customer's, which its invoices may take, too */
	const char *customer = sub_customer(r, db, sub);
	char cid[DISCOUNTS_MAX][ID_MAX];
	int nc = 0;
	if (customer && live_ids(r, db, SQL_LIVE_CUSTOMER, customer, cid, &nc) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	for (int i = 0; i < nc; i++) {
		struct discount d;
		if (discount_load(r, db, cid[i], &d) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (d.end && d.end <= t && end_one(r, db, d.id, t, true) != 0)
			return -1;
	}
	return 0;
}

/* ---- a subscription item's ---- */

int subscription_item_discounts(struct req *r, struct db *db, const char *item, int64_t t,
				struct discount *ret, int *ret_n)
{
	return live_loaded(r, db, SQL_LIVE_SUB_ITEM, item, t, ret, ret_n);
}

int subscription_item_discounts_set(struct req *r, struct db *db, const char *sub, const char *item,
				    const char *customer, int64_t t, struct discount *ds, int n,
				    const char **ret_ids)
{
	for (int i = 0; i < n; i++)
		if (!ds[i].id[0])
			ds[i].subscription = sub;
	return attach(r, db, DISCOUNT_SUBSCRIPTION_ITEM, item, customer, t, ds, n, true, ret_ids);
}

int subscription_item_discount_ids(struct req *r, struct db *db, const char *item, const char **ret)
{
	char ids[DISCOUNTS_MAX][ID_MAX];
	int n = 0;
	int rc = live_ids(r, db, SQL_LIVE_SUB_ITEM, item, ids, &n);
	if (rc != DB_OK)
		return rc;
	struct buf b;
	struct json j;
	buf_init(&b, 4096);
	json_init(&j, &b);
	json_arr_open(&j);
	for (int i = 0; i < n; i++)
		json_str(&j, ids[i]);
	json_arr_close(&j);
	*ret = b.failed ? NULL : arena_strndup(&r->arena, b.data, b.len);
	buf_release(&b);
	return *ret ? DB_OK : DB_ERR;
}

/* ---- a customer's ---- */

/* Is d a customer's own discount (attached to nothing else)? */
static bool customer_level(const struct discount *d)
{
	return d->customer && !d->subscription && !d->invoice && !d->invoice_item &&
	       !d->checkout_session;
}

int customer_discount_get(struct req *r, struct db *db, const char *customer, int64_t t,
			  struct discount *ret)
{
	char ids[DISCOUNTS_MAX][ID_MAX];
	int n = 0;
	int rc = live_ids(r, db, SQL_LIVE_CUSTOMER, customer, ids, &n);
	if (rc != DB_OK)
		return rc;
	if (n == 0)
		return DB_NOTFOUND;
	rc = discount_load(r, db, ids[0], ret);
	if (rc != DB_OK)
		return rc < 0 ? rc : DB_ERR;
	return !ret->end || t < ret->end ? DB_OK : DB_NOTFOUND;
}

int customer_discount_json(struct arena *a, const char *merchant_id, struct db *db,
			   const char *customer, const char **ret)
{
	*ret = NULL;
	struct db_stmt *st = db_prepare(db, SQL_CUSTOMER_ROW);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, customer, -1);
	int rc = db_step(st);
	struct discount d;
	if (rc == DB_ROW) {
		memset(&d, 0, sizeof(d));
		str_copy(d.id, sizeof(d.id), db_col_text(st, 0, NULL));
		const char *c = db_col_text(st, 1, NULL);
		str_copy(d.coupon.id, sizeof(d.coupon.id), c ? c : "");
		const char *promo = db_col_text(st, 2, NULL);
		str_copy(d.promotion_code, sizeof(d.promotion_code), promo ? promo : "");
		d.customer = customer;
		d.start = db_col_int64(st, 3);
		d.end = db_col_int64_or0(st, 4);
	}
	db_reset(st);
	if (rc == DB_DONE)
		return DB_OK;
	if (rc != DB_ROW)
		return rc < 0 ? rc : DB_ERR;
	struct buf b;
	struct json j;
	buf_init(&b, 16 * 1024);
	json_init(&j, &b);
	render_discount(&d, false, &j);
	*ret = b.failed ? NULL : arena_strndup(a, b.data, b.len);
	buf_release(&b);
	return *ret ? DB_OK : DB_ERR;
}

int customer_discount_params(struct req *r, struct db *db, const char *customer, int64_t t,
			     bool *ret_changed)
{
	if (ret_changed)
		*ret_changed = false;
	struct discount_spec spec;
	/* only the customer's own parameters (no discounts[] on customers) */
	if (discount_spec_parse(r, "customer_discounts_none", true, &spec) != 0)
		return -1;
	if (!spec.present)
		return 0;
	char old[DISCOUNTS_MAX][ID_MAX];
	int n_old = 0;
	if (live_ids(r, db, SQL_LIVE_CUSTOMER, customer, old, &n_old) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (spec.n == 0) {
		/* "": removed */
		for (int k = 0; k < n_old; k++)
			if (end_one(r, db, old[k], t, true) != 0)
				return -1;
		if (ret_changed)
			*ret_changed = n_old > 0;
		return 0;
	}
	struct discount *ds = arena_alloc(&r->arena, DISCOUNTS_MAX * sizeof(*ds));
	int n = 0;
	if (!ds)
		return req_fail(r, ERR_API, NULL, NULL);
	/* no currency (it serves invoices in any) and no purchase: a promotion code with a
	 * minimum amount cannot be checked against one, and is refused */
	if (discounts_resolve(r, db, &spec, customer, NULL, -1, NULL, t, ds, &n) != 0)
		return -1;
	/* the one it had ends quietly: the new one is an update of the customer's discount */
	for (int k = 0; k < n_old; k++)
		if (end_one(r, db, old[k], t, false) != 0)
			return -1;
	if (attach(r, db, DISCOUNT_CUSTOMER, customer, customer, t, ds, n, false, NULL) != 0)
		return -1;
	if (ret_changed)
		*ret_changed = true;
	return discount_emit(r, db, &ds[0],
			     n_old ? "customer.discount.updated" : "customer.discount.created", t);
}

int customer_discount_remove(struct req *r, struct db *db, const char *customer, int64_t t)
{
	char ids[DISCOUNTS_MAX][ID_MAX];
	int n = 0;
	if (live_ids(r, db, SQL_LIVE_CUSTOMER, customer, ids, &n) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (n == 0)
		return req_fail(r, ERR_RESOURCE_MISSING, NULL,
				"No active discount for customer: '%s'", customer);
	struct discount first;
	if (discount_load(r, db, ids[0], &first) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	for (int i = 0; i < n; i++)
		if (end_one(r, db, ids[i], t, true) != 0)
			return -1;
	r->answer_event[0] = '\0';
	discount_render(r, &first, true, req_json(r));
	return 0;
}

int subscription_discounts_remove(struct req *r, struct db *db, const char *sub, int64_t t)
{
	char ids[DISCOUNTS_MAX][ID_MAX];
	int n = 0;
	if (live_ids(r, db, SQL_LIVE_SUB, sub, ids, &n) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (n == 0)
		return req_fail(r, ERR_RESOURCE_MISSING, NULL,
				"No active discount for subscription: '%s'", sub);
	struct discount first;
	if (discount_load(r, db, ids[0], &first) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	for (int i = 0; i < n; i++)
		if (end_one(r, db, ids[i], t, true) != 0)
			return -1;
	r->answer_event[0] = '\0';
	discount_render(r, &first, true, req_json(r));
	return 0;
}

/* ---- lines ---- */

int inv_line_proration_discounts(struct req *r, struct db *db, const struct invoice_item *ii,
				 struct inv_line *l)
{
	l->n_pd = 0;
	if (!ii->pd_mode || !str_eq(ii->pd_mode, "itemized"))
		return 0;
	json_t *a = ii->pd_amounts ? json_loads(ii->pd_amounts, 0, NULL) : NULL;
	size_t n = json_is_array(a) ? json_array_size(a) : 0;
	struct discount *d = arena_alloc(&r->arena, (n ? n : 1) * sizeof(*d));
	int64_t *amt = arena_alloc(&r->arena, (n ? n : 1) * sizeof(*amt));
	int rc = d && amt && n <= DISCOUNTS_MAX ? 0 : -1;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		json_t *e = json_array_get(a, i);
		const char *id = json_string_value(json_object_get(e, "discount"));
		amt[i] = json_integer_value(json_object_get(e, "amount"));
		if (!id || discount_load(r, db, id, &d[i]) != DB_OK)
			rc = -1;
	}
	json_decref(a);
	if (rc == 0) {
		l->pd = d;
		l->pd_amount = amt;
		l->n_pd = (int)n;
	}
	return rc;
}

int invoice_item_lines_load(struct req *r, struct db *db, char (*ids)[ID_MAX], int n,
			    struct inv_line *out)
{
	for (int i = 0; i < n; i++) {
		struct invoice_item ii;
		struct inv_line *l = &out[i];
		memset(l, 0, sizeof(*l));
		int rc = invoice_item_load(r, db, ids[i], &ii);
		if (rc != DB_OK)
			return rc < 0 ? rc : DB_ERR;
		/* an item's line has the item's id with il_ for ii_ (invoice_items.c) */
		memcpy(l->id, "il_", 3);
		str_copy(l->id + 3, sizeof(l->id) - 3, ii.id + 3);
		l->amount = ii.amount;
		l->discountable = ii.discountable;
		l->tax_behavior = ii.tax_behavior;
		l->tax_code = ii.tax_code;
		struct price_facts pf;
		if (ii.price && price_facts_get(r, db, ii.price, &pf) == DB_OK)
			l->product = pf.product;
		if (invoice_line_tax_own(r, db, ii.id, NULL, l) != 0)
			return DB_ERR;
		if (ii.invoice &&
		    invoice_item_tax_amounts_load(r, db, ii.id, ii.invoice, l) != DB_OK)
			return DB_ERR;
		if (inv_line_proration_discounts(r, db, &ii, l) != 0)
			return DB_ERR;
		char own[DISCOUNTS_MAX][ID_MAX];
		int n_own = 0;
		if (live_ids(r, db, SQL_LIVE_ITEM, ii.id, own, &n_own) != DB_OK)
			return DB_ERR;
		if (n_own) {
			l->own = arena_alloc(&r->arena, (size_t)n_own * sizeof(*l->own));
			if (!l->own)
				return DB_ERR;
			for (int k = 0; k < n_own; k++)
				if (discount_load(r, db, own[k], &l->own[k]) != DB_OK)
					return DB_ERR;
			l->n_own = n_own;
		}
	}
	return DB_OK;
}

static int line_cmp(const void *a, const void *b)
{
	return strcmp(((const struct inv_line *)a)->id, ((const struct inv_line *)b)->id);
}

int invoice_lines_plan(struct req *r, struct db *db, const struct pending_items *p,
		       const struct invoice_item *pr, int n_pr, const struct inv_line *period,
		       int n_period, struct inv_line **ret, int *ret_n)
{
	int n_p = p ? p->n : 0;
	int n = n_p + n_pr + n_period;
	struct inv_line *lines = arena_alloc(&r->arena, (size_t)(n ? n : 1) * sizeof(*lines));
	if (!lines || (n_p && invoice_item_lines_load(r, db, p->ids, n_p, lines) != DB_OK))
		return req_fail(r, ERR_API, NULL, NULL);
	for (int i = 0; i < n_pr; i++) {
		struct inv_line *l = &lines[n_p + i];
		memset(l, 0, sizeof(*l));
		memcpy(l->id, "il_", 3);
		str_copy(l->id + 3, sizeof(l->id) - 3, pr[i].id + 3);
		l->amount = pr[i].amount;
		l->discountable = pr[i].discountable;
		l->tax_behavior = pr[i].tax_behavior;
		l->tax_code = pr[i].tax_code;
		/* a proration is taxed at its item's own rates as they are (the write copies
		 * them onto the proration before it stores the change's) */
		if (pr[i].subscription_item &&
		    invoice_line_tax_own(r, db, pr[i].subscription_item, NULL, l) != 0)
			return -1;
		if (inv_line_proration_discounts(r, db, &pr[i], l) != 0)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	qsort(lines, (size_t)(n_p + n_pr), sizeof(*lines), line_cmp);
	if (n_period)
		memcpy(&lines[n_p + n_pr], period, (size_t)n_period * sizeof(*lines));
	*ret = lines;
	*ret_n = n;
	return 0;
}

/* What the discounts took: per line, one entry per discount it was eligible for. */
struct calc_entry {
	const struct discount *d;
	int64_t amount;
};
struct calc {
	int n;
	int *n_entries;
	struct calc_entry (*entries)[2 * DISCOUNTS_MAX];
	int64_t subtotal, discounted;
	/* the discounts in order (the invoice's, then the lines' own) with their sums */
	int n_disc, max_disc;
	const struct discount **disc;
	int64_t *disc_total;
	/* each line's taxes (one entry per rate, as its rates are ordered), the invoice's sums */
	int *n_tax;
	struct invoice_tax_entry (*tax)[BILLING_TAX_RATES_MAX];
	int64_t *tax_pre; /* per line: the inclusive tax inside its amount before discounts */
	struct invoice_tax_totals *totals;
	/* the billing credits taken off its lines after their discounts (before their taxes) */
	int64_t credited;
	int64_t *left; /* per line: what its discounts left of it (before credits) */
};

/* The invoice's total once c has run: subtotal − discounts − credits + exclusive taxes (each
 * term within bounds checked by calc_run). */
static int64_t calc_total(const struct calc *c)
{
	return c->subtotal - c->discounted - c->credited + c->totals->exclusive;
}

/* Adds one line's entry to the invoice's sums, per rate and inclusiveness in first-seen order. */
static int totals_add(struct invoice_tax_totals *t, const struct invoice_tax_entry *e, int64_t pre)
{
	int k = 0;
	while (k < t->n &&
	       !(strcmp(t->e[k].rate, e->rate) == 0 && t->e[k].inclusive == e->inclusive))
		k++;
	if (k == t->n) {
		if (t->n == INVOICE_TAX_TOTALS_MAX)
			return -1;
		t->e[t->n] = *e;
		t->e[t->n].amount = t->e[t->n].taxable = 0;
		t->n++;
	}
	int64_t *sum = e->inclusive ? &t->inclusive : &t->exclusive;
	if (__builtin_add_overflow(t->e[k].amount, e->amount, &t->e[k].amount) ||
	    __builtin_add_overflow(t->e[k].taxable, e->taxable, &t->e[k].taxable) ||
	    __builtin_add_overflow(*sum, e->amount, sum) ||
	    __builtin_add_overflow(t->pre_discount_inclusive, pre, &t->pre_discount_inclusive))
		return -1;
	return 0;
}

/* Line l's taxes on `taxable` (what its discounts left) into c's entries for line i. */
static int calc_line_tax(struct calc *c, int i, const struct inv_line *l, int64_t taxable)
{
	int n = l->n_tax;
	c->n_tax[i] = 0;
	if (l->n_fixed > 0) {
		/* the line's own tax_amounts: the merchant's figures, as they are */
		if (l->n_fixed > BILLING_TAX_RATES_MAX)
			return -1;
		int64_t pre = 0;
		for (int k = 0; k < l->n_fixed; k++) {
			const struct invoice_tax_entry *e = &l->fixed[k];
			c->tax[i][k] = *e;
			if ((e->inclusive && __builtin_add_overflow(pre, e->amount, &pre)) ||
			    totals_add(c->totals, e, e->inclusive ? e->amount : 0) != 0)
				return -1;
		}
		c->tax_pre[i] = pre;
		c->n_tax[i] = l->n_fixed;
		return 0;
	}
	if (n == 0)
		return 0;
	if (n > BILLING_TAX_RATES_MAX)
		return -1;
	int64_t pct[BILLING_TAX_RATES_MAX], amounts[BILLING_TAX_RATES_MAX],
	    pre_amounts[BILLING_TAX_RATES_MAX];
	bool inc[BILLING_TAX_RATES_MAX];
	for (int k = 0; k < n; k++) {
		pct[k] = l->tax[k].percent_e4;
		inc[k] = l->tax[k].inclusive;
	}
	int64_t net, exc, incl, pre_net, pre_exc, pre_incl;
	if (billing_tax_line(taxable, pct, inc, n, amounts, &net, &exc, &incl) != 0 ||
	    billing_tax_line(l->amount, pct, inc, n, pre_amounts, &pre_net, &pre_exc, &pre_incl) !=
		0)
		return -1;
	for (int k = 0; k < n; k++) {
		struct invoice_tax_entry *e = &c->tax[i][k];
		memset(e, 0, sizeof(*e));
		str_copy(e->rate, sizeof(e->rate), l->tax[k].id);
		e->inclusive = inc[k];
		e->amount = amounts[k];
		e->taxable = net;
		if (totals_add(c->totals, e, inc[k] ? pre_amounts[k] : 0) != 0)
			return -1;
	}
	c->tax_pre[i] = pre_incl;
	c->n_tax[i] = n;
	return 0;
}

static bool line_takes(const struct inv_line *l, const struct discount *d, const char *currency)
{
	return l->discountable && coupon_applies_to(&d->coupon, l->product) &&
	       coupon_amount_in(&d->coupon, currency, NULL);
}

static int calc_add_disc(struct calc *c, const struct discount *d, int64_t amount)
{
	/* one discount loaded twice (an itemized proration's copy of its subscription's) is one
	 * sum; a discount about to be made has no id yet and is only itself */
	for (int k = 0; k < c->n_disc; k++)
		if (c->disc[k] == d || (d->id[0] && str_eq(c->disc[k]->id, d->id))) {
			c->disc_total[k] += amount;
			return 0;
		}
	if (c->n_disc == c->max_disc)
		return -1;
	c->disc[c->n_disc] = d;
	c->disc_total[c->n_disc++] = amount;
	return 0;
}

/* credits: NULL, or per line the billing credits it takes after its discounts (at most what
 * they leave of it): Stripe's pretax credits, so its taxes are on what is left after them. */
static int calc_run(struct req *r, const char *currency, struct inv_line *lines, int n,
		    const struct discount *inv, int n_inv, const int64_t *credits, struct calc *c)
{
	if (n > INVOICE_LINES_MAX || n_inv > DISCOUNTS_MAX)
		return req_fail(r, ERR_API, NULL, NULL);
	memset(c, 0, sizeof(*c));
	c->n = n;
	c->n_entries = arena_alloc(&r->arena, (size_t)(n ? n : 1) * sizeof(int));
	c->entries = arena_alloc(&r->arena, (size_t)(n ? n : 1) * sizeof(*c->entries));
	int64_t *rem = arena_alloc(&r->arena, (size_t)(n ? n : 1) * sizeof(int64_t));
	int64_t *out = arena_alloc(&r->arena, (size_t)(n ? n : 1) * sizeof(int64_t));
	bool *el = arena_alloc(&r->arena, (size_t)(n ? n : 1) * sizeof(bool));
	c->max_disc = n_inv;
	for (int i = 0; i < n; i++)
		c->max_disc += (lines[i].n_own < DISCOUNTS_MAX ? lines[i].n_own : DISCOUNTS_MAX) +
			       (lines[i].n_pd < DISCOUNTS_MAX ? lines[i].n_pd : DISCOUNTS_MAX);
	c->disc = arena_alloc(&r->arena, (size_t)(c->max_disc + 1) * sizeof(*c->disc));
	c->disc_total = arena_alloc(&r->arena, (size_t)(c->max_disc + 1) * sizeof(int64_t));
	c->n_tax = arena_alloc(&r->arena, (size_t)(n ? n : 1) * sizeof(int));
	c->tax = arena_alloc(&r->arena, (size_t)(n ? n : 1) * sizeof(*c->tax));
	c->tax_pre = arena_alloc(&r->arena, (size_t)(n ? n : 1) * sizeof(int64_t));
	c->totals = arena_alloc(&r->arena, sizeof(*c->totals));
	if (!c->n_entries || !c->entries || !rem || !out || !el || !c->disc || !c->disc_total ||
	    !c->n_tax || !c->tax || !c->tax_pre || !c->totals)
		return req_fail(r, ERR_API, NULL, NULL);
	memset(c->totals, 0, sizeof(*c->totals));
	for (int i = 0; i < n; i++) {
		c->n_entries[i] = 0;
		rem[i] = lines[i].amount;
		c->subtotal += lines[i].amount; /* each within BILLING_AMOUNT_MAX: no overflow */
	}
	/* the invoice's discounts come first in the sums (Stripe lists them so) */
	for (int k = 0; k < n_inv; k++)
		if (calc_add_disc(c, &inv[k], 0) != 0)
			return req_fail(r, ERR_API, NULL, NULL);
	/* an itemized proration's discounts first: the shares its subscription's discounts took
	 * of it when it was made (proration_add), as they are (a credit's negative); the line is
	 * not discountable, so nothing else comes off it */
	for (int i = 0; i < n; i++)
		for (int k = 0; k < lines[i].n_pd && k < DISCOUNTS_MAX; k++) {
			int64_t got = lines[i].pd_amount[k];
			if (got > BILLING_AMOUNT_MAX || got < -BILLING_AMOUNT_MAX ||
			    calc_add_disc(c, &lines[i].pd[k], got) != 0 ||
			    __builtin_sub_overflow(rem[i], got, &rem[i]))
				return req_fail(r, ERR_API, NULL, NULL);
			if (c->n_entries[i] < 2 * DISCOUNTS_MAX)
				c->entries[i][c->n_entries[i]++] =
				    (struct calc_entry){&lines[i].pd[k], got};
			c->discounted += got;
		}
	/* each line's own first, on that line alone */
	for (int i = 0; i < n; i++) {
		for (int k = 0; k < lines[i].n_own && k < DISCOUNTS_MAX; k++) {
			const struct discount *d = &lines[i].own[k];
			bool e = line_takes(&lines[i], d, currency) && rem[i] > 0;
			int64_t got = 0, sum, off;
			/* an amount off in the invoice's currency: its own or an option's */
			coupon_amount_in(&d->coupon, currency, &off);
			if (billing_discount_lines(d->coupon.percent_e4, off, &rem[i], &e, 1, &got,
						   &sum) != 0 ||
			    calc_add_disc(c, d, got) != 0)
				return req_fail(r, ERR_API, NULL, NULL);
			if (e)
				c->entries[i][c->n_entries[i]++] = (struct calc_entry){d, got};
			c->discounted += got;
		}
	}
	/* then the invoice's, in order, each over every line it applies to */
	for (int k = 0; k < n_inv; k++) {
		const struct discount *d = &inv[k];
		for (int i = 0; i < n; i++)
			el[i] = line_takes(&lines[i], d, currency) && rem[i] > 0;
		int64_t sum = 0;
		bool *was = arena_alloc(&r->arena, (size_t)(n ? n : 1) * sizeof(bool));
		if (!was)
			return req_fail(r, ERR_API, NULL, NULL);
		memcpy(was, el, (size_t)n * sizeof(bool));
		int64_t off;
		coupon_amount_in(&d->coupon, currency, &off);
		if (billing_discount_lines(d->coupon.percent_e4, off, rem, el, n, out, &sum) != 0 ||
		    calc_add_disc(c, d, sum) != 0)
			return req_fail(r, ERR_API, NULL, NULL);
		for (int i = 0; i < n; i++)
			if (was[i] && c->n_entries[i] < 2 * DISCOUNTS_MAX)
				c->entries[i][c->n_entries[i]++] = (struct calc_entry){d, out[i]};
		c->discounted += sum;
	}
	/* what the discounts left of each line (what billing credits may take of it) */
	c->left = arena_alloc(&r->arena, (size_t)(n ? n : 1) * sizeof(int64_t));
	if (!c->left)
		return req_fail(r, ERR_API, NULL, NULL);
	memcpy(c->left, rem, (size_t)n * sizeof(int64_t));
	/* then the billing credits (pretax: before the taxes), never more than what is left */
	for (int i = 0; credits && i < n; i++) {
		if (credits[i] < 0 || credits[i] > rem[i] ||
		    __builtin_add_overflow(c->credited, credits[i], &c->credited))
			return req_fail(r, ERR_API, NULL, NULL);
		rem[i] -= credits[i];
	}
	/* then each line's taxes on what the discounts and credits left of it */
	for (int i = 0; i < n; i++) {
		c->tax_pre[i] = 0;
		if (calc_line_tax(c, i, &lines[i], rem[i]) != 0)
			return req_fail(r, ERR_AMOUNT_TOO_LARGE, NULL,
					"The invoice's taxes would exceed %lld.",
					(long long)BILLING_AMOUNT_MAX);
	}
	if (c->totals->exclusive > BILLING_AMOUNT_MAX || c->totals->exclusive < -BILLING_AMOUNT_MAX)
		return req_fail(r, ERR_AMOUNT_TOO_LARGE, NULL,
				"The invoice's total would exceed %lld.",
				(long long)BILLING_AMOUNT_MAX);
	return 0;
}

int invoice_discount_total(struct req *r, const char *currency, struct inv_line *lines, int n,
			   const struct discount *inv, int n_inv, const int64_t *credits,
			   int64_t *ret_left, int64_t *ret_subtotal, int64_t *ret_total)
{
	struct calc *c = arena_alloc(&r->arena, sizeof(*c));
	if (!c)
		return req_fail(r, ERR_API, NULL, NULL);
	if (calc_run(r, currency, lines, n, inv, n_inv, credits, c) != 0)
		return -1;
	if (ret_left)
		memcpy(ret_left, c->left, (size_t)n * sizeof(int64_t));
	int64_t total = calc_total(c);
	if (total > BILLING_AMOUNT_MAX || total < -BILLING_AMOUNT_MAX)
		return req_fail(r, ERR_AMOUNT_TOO_LARGE, NULL,
				"The invoice's total would exceed %lld.",
				(long long)BILLING_AMOUNT_MAX);
	*ret_subtotal = c->subtotal;
	*ret_total = total;
	return 0;
}

/* What c's discounts took, as a JSON array of {amount, discount} in r's arena: line `line`'s,
 * or (line -1) the invoice's sums. NULL when out of memory. */
static const char *calc_json(struct req *r, const struct calc *c, int line)
{
	struct buf b;
	struct json j;
	buf_init(&b, 64 * 1024);
	json_init(&j, &b);
	json_arr_open(&j);
	int n = line < 0 ? c->n_disc : c->n_entries[line];
	for (int k = 0; k < n; k++) {
		json_obj_open(&j);
		json_kv_int(&j, "amount", line < 0 ? c->disc_total[k] : c->entries[line][k].amount);
		json_kv_str(&j, "discount", line < 0 ? c->disc[k]->id : c->entries[line][k].d->id);
		json_obj_close(&j);
	}
	json_arr_close(&j);
	const char *out = b.failed ? NULL : arena_strndup(&r->arena, b.data, b.len);
	buf_release(&b);
	return out;
}

int invoice_discounts_compute(struct req *r, const char *currency, struct inv_line *lines, int n,
			      const struct discount *inv, int n_inv,
			      struct invoice_discounts_result *ret)
{
	return invoice_discounts_compute_credited(r, currency, lines, n, inv, n_inv, NULL, ret);
}

int invoice_discounts_compute_credited(struct req *r, const char *currency, struct inv_line *lines,
				       int n, const struct discount *inv, int n_inv,
				       const int64_t *credits, struct invoice_discounts_result *ret)
{
	struct calc *c = arena_alloc(&r->arena, sizeof(*c));
	const char **amounts = arena_alloc(&r->arena, (size_t)(n ? n : 1) * sizeof(*amounts));
	if (!c || !amounts)
		return req_fail(r, ERR_API, NULL, NULL);
	if (calc_run(r, currency, lines, n, inv, n_inv, credits, c) != 0)
		return -1;
	for (int i = 0; i < n; i++)
		if (!(amounts[i] = calc_json(r, c, i)))
			return req_fail(r, ERR_API, NULL, NULL);
	ret->line_amounts = amounts;
	ret->total_discount_amounts = calc_json(r, c, -1);
	ret->subtotal = c->subtotal;
	ret->total = calc_total(c);
	ret->line_taxes = c->tax;
	ret->n_line_taxes = c->n_tax;
	ret->taxes = c->totals;
	if (!ret->total_discount_amounts)
		return req_fail(r, ERR_API, NULL, NULL);
	if (c->subtotal > BILLING_AMOUNT_MAX || c->subtotal < -BILLING_AMOUNT_MAX ||
	    ret->total > BILLING_AMOUNT_MAX || ret->total < -BILLING_AMOUNT_MAX)
		return req_fail(r, ERR_AMOUNT_TOO_LARGE, NULL,
				"The invoice's total would exceed %lld.",
				(long long)BILLING_AMOUNT_MAX);
	return 0;
}

/* The subscription lines stored with an invoice (in->lines) as discounts see them. */
static int stored_lines(struct req *r, struct db *db, const char *lines_json, struct inv_line *out,
			int max, int *ret_n)
{
	*ret_n = 0;
	json_error_t e;
	json_t *arr = json_loads(lines_json, 0, &e);
	if (!json_is_array(arr)) {
		json_decref(arr);
		return -1;
	}
	size_t i;
	json_t *v;
	int n = 0, rc = 0;
	json_array_foreach(arr, i, v)
	{
		if (n == max) {
			rc = -1;
			break;
		}
		struct inv_line *l = &out[n++];
		memset(l, 0, sizeof(*l));
		const char *id = json_string_value(json_object_get(v, "id"));
		str_copy(l->id, sizeof(l->id), id ? id : "");
		l->amount = json_integer_value(json_object_get(v, "amount"));
		l->discountable = json_is_true(json_object_get(v, "discountable"));
		const char *product = json_string_value(json_object_get(
		    json_object_get(json_object_get(v, "pricing"), "price_details"), "product"));
		l->product = product ? arena_strdup(&r->arena, product) : NULL;
		if (!id || (product && !l->product))
			rc = -1;
		/* its subscription item's own rates (else the invoice's defaults) */
		const char *si = json_string_value(json_object_get(
		    json_object_get(json_object_get(v, "parent"), "subscription_item_details"),
		    "subscription_item"));
		if (si && invoice_line_tax_own(r, db, si, NULL, l) != 0)
			rc = -1;
		/* its own discounts (its subscription item's when the invoice was made), taken
		 * before the invoice's */
		json_t *own = json_object_get(v, "discounts");
		size_t n_own = json_is_array(own) ? json_array_size(own) : 0;
		if (n_own > DISCOUNTS_MAX ||
		    (n_own && !(l->own = arena_alloc(&r->arena, n_own * sizeof(*l->own)))))
			rc = -1;
		for (size_t k = 0; rc == 0 && k < n_own; k++) {
			const char *did = json_string_value(json_array_get(own, k));
			if (!did || discount_load(r, db, did, &l->own[k]) != DB_OK)
				rc = -1;
		}
		if (rc == 0)
			l->n_own = (int)n_own;
	}
	json_decref(arr);
	*ret_n = n;
	return rc;
}

/* The invoice-level discounts an invoice names (in->discounts). */
static int named_discounts(struct req *r, struct db *db, const char *ids_json, struct discount *ret,
			   int *ret_n)
{
	*ret_n = 0;
	json_error_t e;
	json_t *arr = json_loads(ids_json ? ids_json : "[]", 0, &e);
	if (!json_is_array(arr)) {
		json_decref(arr);
		return -1;
	}
	size_t i;
	json_t *v;
	int n = 0, rc = 0;
	json_array_foreach(arr, i, v)
	{
		if (n == DISCOUNTS_MAX || !json_is_string(v) ||
		    discount_load(r, db, json_string_value(v), &ret[n]) != DB_OK) {
			rc = -1;
			break;
		}
		n++;
	}
	json_decref(arr);
	*ret_n = n;
	return rc;
}

static const char SQL_TAXES_DELETE[] =
    "DELETE FROM invoice_tax_amounts WHERE merchant_id = $1 AND invoice = $2";
static const char SQL_TAX_INSERT[] =
    "INSERT INTO invoice_tax_amounts (merchant_id, invoice, line, pos, tax_rate, inclusive,"
    " amount, taxable_amount, pre_discount, own) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
    " $10)";

/* Inside the invoice's write: its lines' taxes as c computed them replace a draft's earlier
 * ones. The pre-discount inclusive tax of a line is kept on its first inclusive entry. */
static int taxes_store(struct req *r, struct db *db, const char *invoice,
		       const struct inv_line *lines, int n, const struct calc *c)
{
	struct db_stmt *st = db_prepare(db, SQL_TAXES_DELETE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, invoice, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	for (int i = 0; i < n; i++) {
		bool pre_done = false;
		for (int k = 0; k < c->n_tax[i]; k++) {
			const struct invoice_tax_entry *e = &c->tax[i][k];
			/* a Stripe Tax rate is made by the first write that takes it */
			if (k < lines[i].n_tax && lines[i].tax[k].automatic &&
			    tax_rate_auto_store(r, db, &lines[i].tax[k]) != 0)
				return -1;
			st = db_prepare(db, SQL_TAX_INSERT);
			if (!st)
				return req_fail(r, ERR_API, NULL, NULL);
			db_bind_text(st, 1, r->merchant_id, -1);
			db_bind_text(st, 2, invoice, -1);
			db_bind_text(st, 3, lines[i].id, -1);
			db_bind_int64(st, 4, k);
			db_bind_text(st, 5, e->rate, -1);
			db_bind_int64(st, 6, e->inclusive);
			db_bind_int64(st, 7, e->amount);
			db_bind_int64(st, 8, e->taxable);
			db_bind_int64(st, 9, e->inclusive && !pre_done ? c->tax_pre[i] : 0);
			db_bind_int64(st, 10, lines[i].tax_own);
			pre_done = pre_done || e->inclusive;
			if (db_step_done(st) != DB_OK)
				return req_fail(r, ERR_API, NULL, NULL);
		}
	}
	return 0;
}

/* Invoice in's lines as it holds them (its items', then its stored subscription lines) and
 * what its discounts (and billing credits: cr, NULL for none) take of them, into *ret_lines (n
 * of them) and c; the total into *ret_total. Reads only. 0, or -1 with r->err. */
static int invoice_calc(struct req *r, struct db *db, const struct invoice *in,
			const struct invoice_line_credits *cr, struct inv_line **ret_lines,
			int *ret_n, struct calc **ret_c, int64_t *ret_total)
{
	struct inv_line *lines = arena_alloc(&r->arena, INVOICE_LINES_MAX * sizeof(*lines));
	char(*ids)[ID_MAX] = arena_alloc(&r->arena, INVOICE_ITEMS_MAX * ID_MAX);
	struct discount *inv = arena_alloc(&r->arena, DISCOUNTS_MAX * sizeof(*inv));
	struct calc *c = arena_alloc(&r->arena, sizeof(*c));
	if (!lines || !ids || !inv || !c)
		return req_fail(r, ERR_API, NULL, NULL);
	/* its items by id, then its subscription's lines: the order lines_array shows */
	struct db_stmt *st = db_prepare(db, SQL_ITEMS_ON);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, in->id, -1);
	db_bind_int64(st, 3, INVOICE_ITEMS_MAX);
	int n_items = 0, rc;
	while (n_items < INVOICE_ITEMS_MAX && (rc = db_step(st)) == DB_ROW)
		str_copy(ids[n_items++], ID_MAX, db_col_text(st, 0, NULL));
	db_reset(st);
	if (rc < 0 || invoice_item_lines_load(r, db, ids, n_items, lines) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	int n_sub = 0, n_inv = 0;
	if (stored_lines(r, db, in->lines, lines + n_items, INVOICE_LINES_MAX - n_items, &n_sub) !=
		0 ||
	    named_discounts(r, db, in->discounts, inv, &n_inv) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	int n = n_items + n_sub;
	if (invoice_lines_tax_defaults(r, db, in->id, NULL, lines, n) != 0 ||
	    (in->automatic_tax &&
	     invoice_lines_auto_tax(r, db, in->customer, r->now, lines, n, NULL) != 0))
		return -1;
	/* the credits by line: each names one of its lines (what credit_lines read) */
	int64_t *credits = NULL;
	if (cr && cr->n) {
		credits = arena_alloc(&r->arena, (size_t)(n ? n : 1) * sizeof(int64_t));
		if (!credits)
			return req_fail(r, ERR_API, NULL, NULL);
		memset(credits, 0, (size_t)(n ? n : 1) * sizeof(int64_t));
		for (int k = 0; k < cr->n; k++) {
			int i = 0;
			while (i < n && strcmp(lines[i].id, cr->line[k]) != 0)
				i++;
			if (i == n ||
			    __builtin_add_overflow(credits[i], cr->amount[k], &credits[i]))
				return req_fail(r, ERR_API, NULL, NULL);
		}
	}
	if (calc_run(r, in->currency, lines, n, inv, n_inv, credits, c) != 0)
		return -1;
	int64_t total = calc_total(c);
	if (c->subtotal > BILLING_AMOUNT_MAX || c->subtotal < -BILLING_AMOUNT_MAX ||
	    total > BILLING_AMOUNT_MAX || total < -BILLING_AMOUNT_MAX)
		return req_fail(r, ERR_AMOUNT_TOO_LARGE, NULL,
				"The invoice's total would exceed %lld.",
				(long long)BILLING_AMOUNT_MAX);
	*ret_lines = lines;
	*ret_n = n;
	*ret_c = c;
	*ret_total = total;
	return 0;
}

int invoice_discounts_total(struct req *r, struct db *db, const struct invoice *in,
			    int64_t *ret_total)
{
	struct inv_line *lines;
	struct calc *c;
	int n;
	return invoice_calc(r, db, in, NULL, &lines, &n, &c, ret_total);
}

int invoice_pretax_total(struct req *r, struct db *db, const struct invoice *in, int64_t *ret)
{
	struct inv_line *lines;
	struct calc *c;
	int n;
	int64_t total;
	if (invoice_calc(r, db, in, NULL, &lines, &n, &c, &total) != 0)
		return -1;
	*ret = c->subtotal - c->discounted; /* each bounded by calc_run */
	return 0;
}

int invoice_credits_taxes(struct req *r, struct db *db, struct invoice *in,
			  const struct invoice_line_credits *cr, bool write, int64_t *ret_drop)
{
	struct inv_line *lines;
	struct calc *c;
	int n;
	int64_t before, after;
	if (invoice_calc(r, db, in, NULL, &lines, &n, &c, &before) != 0 ||
	    invoice_calc(r, db, in, cr, &lines, &n, &c, &after) != 0)
		return -1;
	/* the credits, and the taxes they spare: never below zero, nor above the total */
	int64_t drop;
	if (__builtin_sub_overflow(before, after, &drop) || drop < 0)
		return req_fail(r, ERR_API, NULL, NULL);
	/* its lines' taxes as they are after the credits replace those before them */
	if (write && taxes_store(r, db, in->id, lines, n, c) != 0)
		return -1;
	*ret_drop = drop;
	return 0;
}

int invoice_discounts_apply(struct req *r, struct db *db, struct invoice *in)
{
	struct inv_line *lines;
	struct calc *c;
	int n;
	int64_t total;
	if (invoice_calc(r, db, in, NULL, &lines, &n, &c, &total) != 0)
		return -1;
	/* a draft's earlier shares go; the new ones are stored */
	struct db_stmt *st = db_prepare(db, SQL_AMOUNTS_DELETE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, in->id, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	for (int i = 0; i < n; i++)
		for (int k = 0; k < c->n_entries[i]; k++) {
			st = db_prepare(db, SQL_AMOUNTS_INSERT);
			if (!st)
				return req_fail(r, ERR_API, NULL, NULL);
			db_bind_text(st, 1, r->merchant_id, -1);
			db_bind_text(st, 2, in->id, -1);
			db_bind_text(st, 3, lines[i].id, -1);
			db_bind_int64(st, 4, k);
			db_bind_text(st, 5, c->entries[i][k].d->id, -1);
			db_bind_int64(st, 6, c->entries[i][k].amount);
			if (db_step_done(st) != DB_OK)
				return req_fail(r, ERR_API, NULL, NULL);
		}
	if (taxes_store(r, db, in->id, lines, n, c) != 0)
		return -1;
	in->total_discount_amounts = calc_json(r, c, -1);
	if (!in->total_discount_amounts)
		return req_fail(r, ERR_API, NULL, NULL);
	in->subtotal = c->subtotal;
	/* its shipping_cost (invoice_settings.c), untaxed as Checkout's shipping is */
	if (__builtin_add_overflow(total, invoice_shipping_amount(in), &in->total))
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

/* invoice_discounts_used for its subscription lines' own discounts (their items'): a `once` one
 * that took something from its line is used up. */
static int item_discounts_used(struct req *r, struct db *db, const struct invoice *in, int64_t t)
{
	json_t *arr = in->lines ? json_loads(in->lines, 0, NULL) : NULL;
	size_t i;
	json_t *v;
	int rc = 0;
	json_array_foreach(arr, i, v)
	{
		size_t k;
		json_t *id;
		json_array_foreach(json_object_get(v, "discounts"), k, id)
		{
			struct discount d;
			if (rc != 0)
				break;
			if (!json_is_string(id) ||
			    discount_load(r, db, json_string_value(id), &d) != DB_OK) {
				rc = req_fail(r, ERR_API, NULL, NULL);
				break;
			}
			if (!d.subscription_item || d.ended || !str_eq(d.coupon.duration, "once"))
				continue;
			struct db_stmt *st = db_prepare(db, SQL_AMOUNT_OF);
			if (!st) {
				rc = req_fail(r, ERR_API, NULL, NULL);
				break;
			}
			db_bind_text(st, 1, r->merchant_id, -1);
			db_bind_text(st, 2, in->id, -1);
			db_bind_text(st, 3, d.id, -1);
			int64_t took = db_step(st) == DB_ROW ? db_col_int64(st, 0) : -1;
			db_reset(st);
			if (took < 0)
				rc = req_fail(r, ERR_API, NULL, NULL);
			else if (took > 0 && end_one(r, db, d.id, t, true) != 0)
				rc = -1;
		}
	}
	json_decref(arr);
	return rc;
}

int invoice_discounts_used(struct req *r, struct db *db, const struct invoice *in, int64_t t)
{
	struct discount *inv = arena_alloc(&r->arena, DISCOUNTS_MAX * sizeof(*inv));
	int n = 0;
	if (!inv || named_discounts(r, db, in->discounts, inv, &n) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	for (int k = 0; k < n; k++) {
		const struct discount *d = &inv[k];
		if (!(d->subscription || customer_level(d)) || d->ended ||
		    !str_eq(d->coupon.duration, "once"))
			continue;
		struct db_stmt *st = db_prepare(db, SQL_AMOUNT_OF);
		if (!st)
			return req_fail(r, ERR_API, NULL, NULL);
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, in->id, -1);
		db_bind_text(st, 3, d->id, -1);
		int64_t took = db_step(st) == DB_ROW ? db_col_int64(st, 0) : -1;
		db_reset(st);
		if (took < 0)
			return req_fail(r, ERR_API, NULL, NULL);
		if (took > 0 && end_one(r, db, d->id, t, true) != 0)
			return -1;
	}
	return item_discounts_used(r, db, in, t);
}

int invoice_line_discounts_load(struct req *r, struct db *db, const char *invoice, const char *line,
				struct discount_amount *out, int *ret_n)
{
	struct db_stmt *st = db_prepare(db, SQL_AMOUNTS_LINE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, invoice, -1);
	db_bind_text(st, 3, line, -1);
	db_bind_int64(st, 4, LINE_DISCOUNTS_MAX);
	int rc, n = 0;
	while ((rc = db_step(st)) == DB_ROW && n < LINE_DISCOUNTS_MAX) {
		str_copy(out[n].discount, sizeof(out[n].discount), db_col_text(st, 0, NULL));
		out[n].amount = db_col_int64(st, 1);
		n++;
	}
	db_reset(st);
	if (rc < 0)
		return rc;
	*ret_n = n;
	return DB_OK;
}

void discount_amounts_render(const struct discount_amount *e, int n, struct json *j)
{
	json_arr_open(j);
	for (int i = 0; i < n; i++) {
		json_obj_open(j);
		json_kv_int(j, "amount", e[i].amount);
		json_kv_str(j, "discount", e[i].discount);
		json_obj_close(j);
	}
	json_arr_close(j);
}

int invoice_line_discounts_render(struct req *r, struct db *db, const char *invoice,
				  const char *line, struct json *j)
{
	struct discount_amount e[LINE_DISCOUNTS_MAX];
	int n = 0;
	int rc = invoice_line_discounts_load(r, db, invoice, line, e, &n);
	if (rc != DB_OK)
		return rc;
	discount_amounts_render(e, n, j);
	return DB_OK;
}

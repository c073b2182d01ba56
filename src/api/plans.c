/*
 * /v1/plans: Stripe's legacy Plans API, for the merchant code written before Prices. On Stripe a
 * plan is a recurring price seen through an older shape, and so it is here: a plan is a row of
 * the prices table (api/catalog.h), retrievable as a price and as a plan under one id, and a
 * recurring price made through /v1/prices is a plan too. What the two shapes name differently:
 * a plan's `amount` / `amount_decimal` are the price's unit_amount / unit_amount_decimal, its
 * `interval`, `interval_count`, `usage_type` and `trial_period_days` the price's `recurring`.
 *
 * A plan's id may be the merchant's own ("gold-monthly"), as a product's may; lists page by the
 * price's time-ordered list_key either way. Every write appends both shapes' events (plan.* and
 * price.*), as Stripe sends both. DELETE keeps the row as an inactive price (subscriptions that
 * bill it go on, and its charges still name it); as a plan it is gone (404, not listed).
 */
#include <stdio.h>
#include <string.h>

#include "api/catalog.h"
#include "api/common.h"
#include "api/list.h"
#include "api/payments_common.h"
#include "api/resources.h"
#include "core/str.h"
#include "http/form.h"
#include "money/currency.h"
#include "payments/payments.h"
#include "billing/tiers.h"

#define TRIAL_DAYS_MAX 730 /* Stripe's bound on a trial */

static const char *const intervals[] = {"day", "week", "month", "year", NULL};
static const char *const usage_types[] = {"licensed", "metered", NULL};
static const char *const aggregate_usages[] = {"last_during_period", "last_ever", "max", "sum",
					       NULL};

static const struct param_spec product_children[] = {
    {"id", PT_STRING, 0, ID_MAX - 1, NULL, NULL},
    {"name", PT_STRING, PF_REQUIRED, 250, NULL, NULL},
    {"active", PT_BOOL, 0, 0, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"statement_descriptor", PT_STRING, 0, 22, NULL, NULL},
    {"unit_label", PT_STRING, 0, 12, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec create_params[] = {
    {"id", PT_STRING, 0, ID_MAX - 1, NULL, NULL},
    {"currency", PT_CURRENCY, PF_REQUIRED, 0, NULL, NULL},
    {"interval", PT_ENUM, PF_REQUIRED, 0, intervals, NULL},
    /* a product's id, or the hash of a product made with the plan */
    {"product", PT_OBJECT, PF_REQUIRED | PF_SCALAR_OK, 255, NULL, product_children},
    {"amount", PT_INT, 0, 0, NULL, NULL},
    {"amount_decimal", PT_STRING, 0, 40, NULL, NULL},
    {"active", PT_BOOL, 0, 0, NULL, NULL},
    {"billing_scheme", PT_ENUM, 0, 0, price_billing_schemes, NULL},
    {"tiers_mode", PT_ENUM, 0, 0, price_tiers_modes, NULL},
    {"tiers", PT_OBJECT_ARRAY, 0, TIERS_MAX, NULL, price_tier_params},
    {"transform_usage", PT_OBJECT, 0, 0, NULL, price_transform_params},
    {"interval_count", PT_INT, 0, 0, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"nickname", PT_STRING, 0, 5000, NULL, NULL},
    {"trial_period_days", PT_INT, 0, 0, NULL, NULL},
    {"usage_type", PT_ENUM, 0, 0, usage_types, NULL},
    {"meter", PT_STRING, 0, ID_MAX - 1, NULL, NULL},
    {"aggregate_usage", PT_ENUM, 0, 0, aggregate_usages, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec update_params[] = {
    {"active", PT_BOOL, 0, 0, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"nickname", PT_STRING, PF_EMPTYABLE, 5000, NULL, NULL},
    {"trial_period_days", PT_INT, 0, 0, NULL, NULL},
    {"product", PT_STRING, 0, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec list_params[] = {
    {"active", PT_BOOL, 0, 0, NULL, NULL},
    {"product", PT_STRING, 0, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

/* ---- the plan's shape ---- */

static bool is_plan(const struct price *p)
{
	return p->interval && !p->plan_deleted;
}

static bool plan_tiered(const struct price *p)
{
	return p->billing_scheme && str_eq(p->billing_scheme, "tiered") && p->tiers;
}

/* expand_tiers: tiers is includable, as a price's (absent unless expand[] asks for it) */
static int plan_render(struct req *r, struct db *db, const struct price *p, bool expand_product,
		       bool expand_tiers, struct json *j)
{
	json_obj_open(j);
	json_kv_str(j, "id", p->id);
	json_kv_str(j, "object", "plan");
	json_kv_bool(j, "active", p->active);
	json_kv_str_or_null(j, "aggregate_usage", price_aggregate_usage(p));
	if (p->has_unit_amount)
		json_kv_int(j, "amount", p->unit_amount);
	else
		json_kv_null(j, "amount");
	json_kv_str_or_null(j, "amount_decimal", plan_tiered(p) ? NULL : p->unit_amount_decimal);
	json_kv_str(j, "billing_scheme", plan_tiered(p) ? "tiered" : "per_unit");
	json_kv_int(j, "created", p->created);
	json_kv_str(j, "currency", p->currency);
	json_kv_str(j, "interval", p->interval);
	json_kv_int(j, "interval_count", p->interval_count);
	json_kv_bool(j, "livemode", r->livemode);
	json_kv_raw(j, "metadata", p->metadata, strlen(p->metadata));
	json_kv_str_or_null(j, "meter", p->meter);
	json_kv_str_or_null(j, "nickname", p->nickname);
	int rc = payments_expandable(j, db, "product", p->product, expand_product && db,
				     product_render_cb, r);
	if (rc != DB_OK)
		return rc;
	if (plan_tiered(p) && expand_tiers)
		json_kv_raw(j, "tiers", p->tiers, strlen(p->tiers));
	json_kv_str_or_null(j, "tiers_mode", plan_tiered(p) ? p->tiers_mode : NULL);
	price_transform_render(j, "transform_usage", &p->transform);
	if (p->has_trial)
		json_kv_int(j, "trial_period_days", p->trial_period_days);
	else
		json_kv_null(j, "trial_period_days");
	json_kv_str(j, "usage_type", p->usage_type ? p->usage_type : "licensed");
	json_obj_close(j);
	return DB_OK;
}

/* plan.* (and price.*, the same row's other shape) for p. prev: previous_attributes, the same
 * for both (the fields they share are named alike but for the amounts, which never change). */
static int emit_both(struct req *r, struct db *db, const struct price *p, const char *plan_type,
		     const char *price_type, const char *prev)
{
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 20);
	json_init(&j, &b);
	int rc = plan_render(r, NULL, p, false, false, &j);
	rc = rc == DB_OK && !b.failed ? payments_event(r, db, plan_type, p->id, b.data, b.len, prev)
				      : req_fail(r, ERR_API, NULL, NULL);
	buf_release(&b);
	if (rc != 0 || !price_type)
		return rc;
	return price_emit(r, db, p, price_type, prev);
}

static int respond(struct req *r, struct db *db, const struct price *p)
{
	return plan_render(r, db, p, req_expand_has(r, "product"), req_expand_has(r, "tiers"),
			   req_json(r)) == DB_OK
		   ? 0
		   : req_fail(r, ERR_API, NULL, NULL);
}

/* The plan id, loaded: 0, or -1 with r->err (404 when it is no plan: a one-time price, a
 * deleted plan, nothing). */
static int plan_load(struct req *r, struct db *db, const char *id, struct price *p)
{
	int rc = price_load(r, db, id, p);
	if (rc == DB_NOTFOUND || (rc == DB_OK && !is_plan(p)))
		return req_fail_missing(r, "plan", id, "plan");
	return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* ---- create ---- */

struct plan_ctx {
	struct req *r;
	const char *id;
	struct price p;
	struct product np; /* product[…]: the product made with the plan */
	bool has_np;
};

static int create_fn(struct db *db, void *arg)
{
	struct plan_ctx *c = arg;
	struct req *r = c->r;
	struct price *p = &c->p;
	if (c->has_np) {
		int wrc = product_write(r, db, &c->np, true);
		if (wrc == DB_CONSTRAINT)
			return req_fail(r, ERR_RESOURCE_EXISTS, "product[id]",
					"Product already exists.");
		if (wrc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (product_emit(r, db, &c->np, "product.created", NULL) != 0)
			return -1;
	} else {
		struct product prod;
		int rc = product_load(r, db, p->product, &prod);
		if (rc == DB_NOTFOUND || (rc == DB_OK && prod.deleted))
			return req_fail_missing(r, "product", p->product, "product");
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	if (p->meter) {
		int rc = billing_meter_find(db, r->merchant_id, p->meter);
		if (rc == DB_NOTFOUND)
			return req_fail_missing(r, "billing.meter", p->meter, "meter");
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	int wrc = price_insert(r, db, p);
	if (wrc == DB_CONSTRAINT) /* the merchant's own id, taken by a plan or a price */
		return req_fail(r, ERR_RESOURCE_EXISTS, "id", "Plan already exists.");
	if (wrc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (emit_both(r, db, p, "plan.created", "price.created", NULL) != 0)
		return -1;
	return respond(r, db, p);
}

/* amount / amount_decimal: exactly one, as a price's unit_amount / unit_amount_decimal */
static int plan_amount(struct req *r, struct price *p)
{
	int64_t amount;
	bool has_int = param_int(r, "amount", &amount) == 1;
	const char *dec = param_str(r, "amount_decimal");
	if (has_int && dec)
		return req_fail(r, ERR_PARAM_BAD, "amount",
				"You may only specify one of these parameters: amount, "
				"amount_decimal.");
	if (dec)
		return price_amount_decimal(r, "amount_decimal", dec, p);
	if (!has_int)
		return req_fail(r, ERR_PARAM_MISSING, "amount", "%s", "amount");
	if (amount < 0 || amount > 99999999)
		return req_fail(r, ERR_PARAM_BAD, "amount",
				"Invalid integer: %lld. amount must be between 0 and 99999999.",
				(long long)amount);
	p->has_unit_amount = true;
	p->unit_amount = amount;
	p->unit_amount_decimal = arena_printf(&r->arena, "%lld", (long long)amount);
	return p->unit_amount_decimal ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static int trial_days(struct req *r, struct price *p)
{
	int64_t days;
	if (param_int(r, "trial_period_days", &days) != 1)
		return 0;
	if (days < 0 || days > TRIAL_DAYS_MAX)
		return req_fail(r, ERR_PARAM_BAD, "trial_period_days",
				"Invalid trial_period_days: must be between 0 and %d days.",
				TRIAL_DAYS_MAX);
	p->has_trial = true;
	p->trial_period_days = days;
	return 0;
}

/* product[…]: the product made with the plan (its own id if product[id] names one) */
static int new_product(struct req *r, struct product *np)
{
	if (own_id_or_key(r, "product.id", "product[id]", "product", "prod_", np->id,
			  np->list_key) != 0)
		return -1;
	np->created = np->updated = r->now;
	np->active = true;
	param_bool(r, "product.active", &np->active);
	np->shippable = -1;
	np->images = "[]";
	np->name = param_str(r, "product.name");
	if (!np->name || !*np->name)
		return req_fail(r, ERR_PARAM_BAD, "product[name]", "%s",
				"A product's name cannot be empty.");
	np->statement_descriptor = param_str(r, "product.statement_descriptor");
	np->unit_label = param_str(r, "product.unit_label");
	np->metadata = "{}";
	return metadata_apply(r, NULL, "product.metadata", &np->metadata);
}

static int h_create(struct req *r)
{
	struct plan_ctx c = {.r = r};
	struct price *p = &c.p;
	if (own_id_or_key(r, "id", "id", "plan", "price_", p->id, p->list_key) != 0)
		return -1;
	if (param_currency(r, "currency", NULL, p->currency) != 0)
		return -1;
	int tiered = price_tiers_terms(r, "amount", p);
	if (tiered < 0 || (!tiered && plan_amount(r, p) != 0) || trial_days(r, p) != 0 ||
	    price_transform_terms(r, "transform_usage", p) != 0)
		return -1;
	p->type = "recurring";
	p->interval = param_str(r, "interval");
	p->interval_count = 1;
	param_int(r, "interval_count", &p->interval_count);
	/* Stripe's bound, as for a price: at most three years between two billings */
	int64_t max = strcmp(p->interval, "year") == 0	  ? 3
		      : strcmp(p->interval, "month") == 0 ? 36
		      : strcmp(p->interval, "week") == 0  ? 156
							  : 1095;
	if (p->interval_count < 1 || p->interval_count > max)
		return req_fail(r, ERR_PARAM_BAD, "interval_count",
				"Invalid interval_count: the maximum billing interval is three "
				"years (%s).",
				p->interval);
	p->usage_type = param_str(r, "usage_type");
	if (!p->usage_type)
		p->usage_type = "licensed";
	/* a metered plan's billing meter (checked to be the merchant's in the write) */
	p->meter = param_str(r, "meter");
	if (p->meter && !*p->meter)
		p->meter = NULL;
	if (p->meter && !str_eq(p->usage_type, "metered"))
		return req_fail(r, ERR_PARAM_BAD, "meter",
				"A meter can only be set on a plan with usage_type=metered.");
	if (price_aggregate_usage_param(r, "aggregate_usage", "aggregate_usage", p) != 0)
		return -1;
	p->tax_behavior = "unspecified";
	p->created = r->now;
	p->active = true;
	param_bool(r, "active", &p->active);
	p->nickname = param_str(r, "nickname");
	p->metadata = "{}";
	if (metadata_apply(r, NULL, "metadata", &p->metadata) != 0)
		return -1;
	const struct form_node *prod = param_node(r, "product");
	if (prod && prod->kind == FORM_SCALAR) {
		if (!*prod->value)
			return req_fail(r, ERR_PARAM_MISSING, "product", "%s", "product");
		p->product = prod->value;
	} else {
		if (new_product(r, &c.np) != 0)
			return -1;
		c.has_np = true;
		p->product = c.np.id;
	}
	return req_write(r, create_fn, &c);
}

/* ---- retrieve, update, delete ---- */

static int retrieve_fn(struct db *db, void *arg)
{
	struct plan_ctx *c = arg;
	if (plan_load(c->r, db, c->id, &c->p) != 0)
		return -1;
	return respond(c->r, db, &c->p);
}

static int h_retrieve(struct req *r)
{
	struct plan_ctx c = {.r = r, .id = r->args[0]};
	return req_read(r, retrieve_fn, &c) == 0 ? 0 : -1;
}

/* previous_attributes of an update, in the plan's shape or the price's (whose trial is inside
 * `recurring`, given whole as it was). NULL when out of memory. */
static const char *previous(struct req *r, const struct price *old, const struct price *p,
			    bool price_shape)
{
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 16);
	json_init(&j, &b);
	json_obj_open(&j);
	if (old->active != p->active)
		json_kv_bool(&j, "active", old->active);
	if (strcmp(old->metadata, p->metadata) != 0)
		json_kv_raw(&j, "metadata", old->metadata, strlen(old->metadata));
	if (strcmp(old->product, p->product) != 0)
		json_kv_str(&j, "product", old->product);
	if ((old->nickname == NULL) != (p->nickname == NULL) ||
	    (old->nickname && p->nickname && strcmp(old->nickname, p->nickname) != 0))
		json_kv_str_or_null(&j, "nickname", old->nickname);
	if (old->has_trial != p->has_trial || old->trial_period_days != p->trial_period_days) {
		if (price_shape) {
			json_key(&j, "recurring");
			json_obj_open(&j);
			json_kv_str_or_null(&j, "aggregate_usage", price_aggregate_usage(old));
			json_kv_str(&j, "interval", old->interval);
			json_kv_int(&j, "interval_count", old->interval_count);
			json_kv_str_or_null(&j, "meter", old->meter);
		}
		if (old->has_trial)
			json_kv_int(&j, "trial_period_days", old->trial_period_days);
		else
			json_kv_null(&j, "trial_period_days");
		if (price_shape) {
			json_kv_str(&j, "usage_type",
				    old->usage_type ? old->usage_type : "licensed");
			json_obj_close(&j);
		}
	}
	json_obj_close(&j);
	const char *prev = b.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&b));
	buf_release(&b);
	return prev;
}

/* Stripe: a plan's product "cannot be changed once it has been used in a subscription or
 * subscription schedule": any subscription item of it (canceled subscriptions keep their items)
 * or a schedule phase naming it (phases are JSON in Tender's own shape, each item's price as
 * "p":"<id>" (subscription_schedules.c's phases_store); $3 is that member, matched with
 * replace() as charges.c's transfer_group; a price id needs no JSON escaping). */
static const char SQL_PLAN_USED[] =
    "SELECT 1 FROM subscription_items WHERE merchant_id = $1 AND price = $2"
    " UNION ALL SELECT 1 FROM subscription_schedules WHERE merchant_id = $1"
    " AND replace(phases, $3, '') <> phases LIMIT 1";
static const char SQL_PLAN_PRODUCT[] =
    "UPDATE prices SET product = $3 WHERE merchant_id = $1 AND id = $2";

/* product=prod_…: the plan moves to another of the merchant's products. 0, or -1 with r->err. */
static int move_product(struct req *r, struct db *db, struct price *p)
{
	const char *np = param_str(r, "product");
	if (!np || !*np || strcmp(np, p->product) == 0)
		return 0;
	struct product prod;
	int rc = product_load(r, db, np, &prod);
	if (rc == DB_NOTFOUND || (rc == DB_OK && prod.deleted))
		return req_fail_missing(r, "product", np, "product");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	struct product cur;
	rc = product_load(r, db, p->product, &cur);
	if (rc != DB_OK && rc != DB_NOTFOUND)
		return req_fail(r, ERR_API, NULL, NULL);
	/* a product's default_price is one of its own prices (products.c checks it there) */
	if (rc == DB_OK && cur.default_price && strcmp(cur.default_price, p->id) == 0)
		return req_fail(r, ERR_PARAM_BAD, "product",
				"This plan is the default price of product %s: set another "
				"default_price on that product before moving the plan.",
				p->product);
	char *needle = arena_printf(&r->arena, "\"p\":\"%s\"", p->id);
	struct db_stmt *st = db_prepare(db, SQL_PLAN_USED);
	if (!needle || !st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, p->id, -1);
	db_bind_text(st, 3, needle, -1);
	rc = db_step(st);
	db_reset(st);
	if (rc == DB_ROW)
		return req_fail(r, ERR_PARAM_BAD, "product",
				"The product of plan %s cannot be changed: it has been used in a "
				"subscription or subscription schedule.",
				p->id);
	if (rc != DB_DONE)
		return req_fail(r, ERR_API, NULL, NULL);
	st = db_prepare(db, SQL_PLAN_PRODUCT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, p->id, -1);
	db_bind_text(st, 3, prod.id, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	p->product = arena_strdup(&r->arena, prod.id);
	return p->product ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static int update_fn(struct db *db, void *arg)
{
	struct plan_ctx *c = arg;
	struct req *r = c->r;
	struct price old;
	if (plan_load(r, db, c->id, &old) != 0)
		return -1;
	struct price *p = &c->p;
	*p = old;
	param_bool(r, "active", &p->active);
	p->nickname = str_update(r, "nickname", p->nickname);
	if (trial_days(r, p) != 0 ||
	    metadata_apply(r, p->metadata, "metadata", &p->metadata) != 0 ||
	    move_product(r, db, p) != 0)
		return -1;
	if (price_update(r, db, p) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	const char *plan_prev = previous(r, &old, p, false);
	const char *price_prev = previous(r, &old, p, true);
	if (!plan_prev || !price_prev)
		return req_fail(r, ERR_API, NULL, NULL);
	if (emit_both(r, db, p, "plan.updated", NULL, plan_prev) != 0 ||
	    price_emit(r, db, p, "price.updated", price_prev) != 0)
		return -1;
	return respond(r, db, p);
}

static int h_update(struct req *r)
{
	struct plan_ctx c = {.r = r, .id = r->args[0]};
	return req_write(r, update_fn, &c);
}

static int delete_fn(struct db *db, void *arg)
{
	struct plan_ctx *c = arg;
	struct req *r = c->r;
	struct price old;
	if (plan_load(r, db, c->id, &old) != 0)
		return -1;
	struct price *p = &c->p;
	*p = old;
	p->plan_deleted = true;
	p->active = false;
	if (price_update(r, db, p) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* plan.deleted carries the plan as it was; the price, now inactive, says so */
	if (emit_both(r, db, &old, "plan.deleted", NULL, NULL) != 0)
		return -1;
	if (old.active && price_emit(r, db, p, "price.updated", "{\"active\":true}") != 0)
		return -1;
	struct json *j = req_json(r);
	json_obj_open(j);
	json_kv_str(j, "id", p->id);
	json_kv_str(j, "object", "plan");
	json_kv_bool(j, "deleted", true);
	json_obj_close(j);
	return 0;
}

static int h_delete(struct req *r)
{
	struct plan_ctx c = {.r = r, .id = r->args[0]};
	return req_write(r, delete_fn, &c);
}

/* ---- list ---- */

static const char SQL_CURSOR[] = "SELECT list_key FROM prices WHERE merchant_id = $1 AND id = $2"
				 " AND recurring_interval IS NOT NULL AND plan_deleted = 0";
#define LIST_WHERE                                                                                 \
	"SELECT id FROM prices WHERE merchant_id = $1 AND list_key > $2 AND list_key < $3"         \
	" AND recurring_interval IS NOT NULL AND plan_deleted = 0"                                 \
	" AND ($5 IS NULL OR active = $5) AND ($6 IS NULL OR product = $6)"
static const char SQL_DESC[] = LIST_WHERE " ORDER BY list_key DESC LIMIT $4";
static const char SQL_ASC[] = LIST_WHERE " ORDER BY list_key ASC LIMIT $4";

static int list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	list_bind_bool(r, st, first, "active");
	list_bind_filter(r, st, first + 1, "product");
	return 0;
}

static int list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	struct price p;
	int rc = price_load(r, db, id, &p);
	if (rc != DB_OK)
		return rc;
	return plan_render(r, db, &p, req_expand_has(r, "data.product"),
			   req_expand_has(r, "data.tiers"), j);
}

static int h_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/plans",
	    .object_name = "plan",
	    .id_prefix = "price_",
	    .sql_cursor = SQL_CURSOR,
	    .sql_desc = SQL_DESC,
	    .sql_asc = SQL_ASC,
	    .keyed = true,
	    .bind_filters = list_bind,
	    .render = list_render,
	};
	return list_respond(r, &spec);
}

const struct route plans_routes[] = {
    {"POST", "/v1/plans", h_create, create_params, 0},
    {"GET", "/v1/plans", h_list, list_params, ROUTE_LIST},
    {"GET", "/v1/plans/{id}", h_retrieve, no_params, 0},
    {"POST", "/v1/plans/{id}", h_update, update_params, 0},
    {"DELETE", "/v1/plans/{id}", h_delete, no_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};

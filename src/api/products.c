/*
 * /v1/products and /v1/prices: what a merchant sells and at what price, one-time or recurring.
 * Products: create (with default_price_data), retrieve, update, delete (only without prices),
 * list, search. Prices: create (for a product, or with product_data), retrieve, update (active,
 * nickname, lookup_key, metadata, tax_behavior), list, search; a price's amount and currency
 * never change once made, as on Stripe. Every write appends its product.* / price.* event.
 *
 * A price's amount is unit_amount (integer minor units) or unit_amount_decimal (a decimal
 * string of minor units with up to 12 decimals, for sub-cent prices), kept as the text it was
 * given: no floating point touches it. lookup_key is unique among a merchant's prices
 * (transfer_lookup_key moves it from the price that has it). A pay-what-you-want price
 * (custom_unit_amount) has neither: the customer chooses the amount in Checkout (checkout.c),
 * and what needs a fixed amount refuses it (price_facts_fixed).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/catalog.h"
#include "api/common.h"
#include "api/list.h"
#include "api/payments_common.h"
#include "api/resources.h"
#include "api/search.h"
#include "billing/tiers.h"
#include "core/parse.h"
#include "core/str.h"
#include "http/form.h"
#include "money/currency.h"
#include "tax/rates.h"

#define UNIT_AMOUNT_MAX 99999999 /* Stripe's eight digits */
#define PRICE_TRIAL_DAYS_MAX 730 /* Stripe's bound on a trial (subscriptions.c's) */

/* One currency option of a price: the price's terms in another currency. A per-unit price's
 * option has an amount (unit_amount when whole, unit_amount_decimal its text, as the price's
 * own); a tiered price's option has its own tiers (the JSON array the API shows, in the price's
 * tiers_mode) and unit_amount_decimal "". */
struct currency_option {
	char currency[8];
	bool has_unit_amount;
	int64_t unit_amount;
	const char *unit_amount_decimal, *tax_behavior, *tiers;
	const char *custom_unit_amount; /* the price's own option of a pay-what-you-want price */
};

/* Stripe presents prices in up to 135 currencies */
#define CURRENCY_OPTIONS_MAX 135

struct currency_options {
	int n;
	struct currency_option *o; /* r's arena, sorted by currency when loaded */
	bool clear;		   /* an update's currency_options="": every option removed */
};

/* ---- rows (struct product, struct price: api/catalog.h) ---- */

static const char SQL_PRODUCT_GET[] =
    "SELECT id, created, updated, active, deleted, shippable, name, description, images,"
    " metadata, url, unit_label, statement_descriptor, default_price, tax_code,"
    " package_dimensions, marketing_features FROM products"
    " WHERE merchant_id = $1 AND id = $2";
static const char SQL_PRODUCT_INSERT[] =
    "INSERT INTO products (merchant_id, id, created, updated, active, deleted, shippable, name,"
    " description, images, metadata, url, unit_label, statement_descriptor, default_price,"
    " tax_code, package_dimensions, marketing_features, list_key)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,"
    " $19)";
/* $3 (created) never changes: both statements bind the same numbers */
static const char SQL_PRODUCT_UPDATE[] =
    "UPDATE products SET updated = $4, active = $5, deleted = $6, shippable = $7, name = $8,"
    " description = $9, images = $10, metadata = $11, url = $12, unit_label = $13,"
    " statement_descriptor = $14, default_price = $15, tax_code = $16,"
    " package_dimensions = $17, marketing_features = $18"
    " WHERE merchant_id = $1 AND id = $2 AND created = $3";

int product_load(struct req *r, struct db *db, const char *id, struct product *p)
{
	struct db_stmt *st = db_prepare(db, SQL_PRODUCT_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		memset(p, 0, sizeof(*p));
		str_copy(p->id, sizeof(p->id), db_col_text(st, 0, NULL));
		p->created = db_col_int64(st, 1);
		p->updated = db_col_int64(st, 2);
		p->active = db_col_int64(st, 3) != 0;
		p->deleted = db_col_int64(st, 4) != 0;
		p->shippable = db_col_is_null(st, 5) ? -1 : (int)db_col_int64(st, 5);
		p->name = col_text_dup(&r->arena, st, 6);
		p->description = col_text_dup(&r->arena, st, 7);
		p->images = col_text_dup(&r->arena, st, 8);
		p->metadata = col_text_dup(&r->arena, st, 9);
		p->url = col_text_dup(&r->arena, st, 10);
		p->unit_label = col_text_dup(&r->arena, st, 11);
		p->statement_descriptor = col_text_dup(&r->arena, st, 12);
		p->default_price = col_text_dup(&r->arena, st, 13);
		p->tax_code = col_text_dup(&r->arena, st, 14);
		p->package_dimensions = col_text_dup(&r->arena, st, 15);
		p->marketing_features = col_text_dup(&r->arena, st, 16);
		if (!p->name || !p->images || !p->metadata)
			rc = DB_ERR;
	}
	db_reset(st);
	if (rc == DB_ROW)
		return DB_OK;
	return rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
}

int product_write(struct req *r, struct db *db, const struct product *p, bool first)
{
	struct db_stmt *st = db_prepare(db, first ? SQL_PRODUCT_INSERT : SQL_PRODUCT_UPDATE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, p->id, -1);
	db_bind_int64(st, 3, p->created);
	db_bind_int64(st, 4, p->updated);
	db_bind_int64(st, 5, p->active);
	db_bind_int64(st, 6, p->deleted);
	if (p->shippable < 0)
		db_bind_null(st, 7);
	else
		db_bind_int64(st, 7, p->shippable);
	db_bind_text(st, 8, p->name, -1);
	db_bind_text(st, 9, p->description, -1);
	db_bind_text(st, 10, p->images, -1);
	db_bind_text(st, 11, p->metadata, -1);
	db_bind_text(st, 12, p->url, -1);
	db_bind_text(st, 13, p->unit_label, -1);
	db_bind_text(st, 14, p->statement_descriptor, -1);
	db_bind_text(st, 15, p->default_price, -1);
	db_bind_text(st, 16, p->tax_code, -1);
	db_bind_text(st, 17, p->package_dimensions, -1);
	db_bind_text(st, 18, p->marketing_features, -1);
	if (first)
		db_bind_text(st, 19, p->list_key[0] ? p->list_key : p->id, -1);
	return db_step_done(st);
}

static const char SQL_PRICE_GET[] =
    "SELECT id, created, active, currency, unit_amount, unit_amount_decimal, product, nickname,"
    " lookup_key, metadata, type, recurring_interval, recurring_interval_count,"
    " recurring_usage_type, tax_behavior, trial_period_days, plan_deleted, billing_scheme,"
    " tiers_mode, tiers, recurring_meter, custom_unit_amount, recurring_aggregate_usage,"
    " transform_divide_by, transform_round"
    " FROM prices"
    " WHERE merchant_id = $1 AND id = $2";
static const char SQL_PRICE_INSERT[] =
    "INSERT INTO prices (merchant_id, id, created, active, currency, unit_amount,"
    " unit_amount_decimal, product, nickname, lookup_key, metadata, type, recurring_interval,"
    " recurring_interval_count, recurring_usage_type, tax_behavior, list_key, trial_period_days,"
    " billing_scheme, tiers_mode, tiers, recurring_meter, custom_unit_amount,"
    " recurring_aggregate_usage, transform_divide_by, transform_round) VALUES ($1, $2, $3, $4,"
    " $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23,"
    " $24, $25, $26)";
/* only what an update may change; the amount, currency, product and recurrence never do */
static const char SQL_PRICE_UPDATE[] =
    "UPDATE prices SET active = $3, nickname = $4, lookup_key = $5, metadata = $6,"
    " tax_behavior = $7, trial_period_days = $8, plan_deleted = $9"
    " WHERE merchant_id = $1 AND id = $2";

const char *price_aggregate_usage(const struct price *p)
{
	if (!p->interval || !p->usage_type || !str_eq(p->usage_type, "metered") || p->meter)
		return NULL;
	return p->aggregate_usage ? p->aggregate_usage : "sum";
}

int price_aggregate_usage_param(struct req *r, const char *path, const char *shown, struct price *p)
{
	const char *a = path ? param_str(r, path) : NULL;
	bool legacy = p->usage_type && str_eq(p->usage_type, "metered") && !p->meter;
	p->aggregate_usage = legacy ? "sum" : NULL;
	if (!a)
		return 0;
	if (!p->usage_type || !str_eq(p->usage_type, "metered"))
		return req_fail(r, ERR_PARAM_BAD, shown,
				"aggregate_usage can only be set when usage_type is `metered`.");
	if (p->meter)
		return req_fail(r, ERR_PARAM_BAD, shown,
				"aggregate_usage cannot be set on a price with a meter: the "
				"meter's default_aggregation aggregates its usage.");
	p->aggregate_usage = a;
	return 0;
}

int price_load(struct req *r, struct db *db, const char *id, struct price *p)
{
	struct db_stmt *st = db_prepare(db, SQL_PRICE_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		memset(p, 0, sizeof(*p));
		str_copy(p->id, sizeof(p->id), db_col_text(st, 0, NULL));
		p->created = db_col_int64(st, 1);
		p->active = db_col_int64(st, 2) != 0;
		str_copy(p->currency, sizeof(p->currency), db_col_text(st, 3, NULL));
		p->has_unit_amount = !db_col_is_null(st, 4);
		p->unit_amount = db_col_int64(st, 4);
		p->unit_amount_decimal = col_text_dup(&r->arena, st, 5);
		p->product = col_text_dup(&r->arena, st, 6);
		p->nickname = col_text_dup(&r->arena, st, 7);
		p->lookup_key = col_text_dup(&r->arena, st, 8);
		p->metadata = col_text_dup(&r->arena, st, 9);
		p->type = col_text_dup(&r->arena, st, 10);
		p->interval = col_text_dup(&r->arena, st, 11);
		p->interval_count = db_col_int64(st, 12);
		p->usage_type = col_text_dup(&r->arena, st, 13);
		p->tax_behavior = col_text_dup(&r->arena, st, 14);
		p->has_trial = !db_col_is_null(st, 15);
		p->trial_period_days = db_col_int64(st, 15);
		p->plan_deleted = db_col_int64(st, 16) != 0;
		p->billing_scheme = col_text_dup(&r->arena, st, 17);
		p->tiers_mode = col_text_dup(&r->arena, st, 18);
		p->tiers = col_text_dup(&r->arena, st, 19);
		p->meter = col_text_dup(&r->arena, st, 20);
		p->custom_unit_amount = col_text_dup(&r->arena, st, 21);
		p->aggregate_usage = col_text_dup(&r->arena, st, 22);
		if (!db_col_is_null(st, 23)) {
			const char *round = db_col_text(st, 24, NULL);
			p->transform.divide_by = db_col_int64(st, 23);
			p->transform.round_up = round && str_eq(round, "up");
			if (p->transform.divide_by < 1 || !round)
				rc = DB_ERR;
		}
		if (!p->unit_amount_decimal || !p->product || !p->metadata || !p->type ||
		    !p->tax_behavior || !p->billing_scheme ||
		    (str_eq(p->billing_scheme, "tiered") && (!p->tiers_mode || !p->tiers)))
			rc = DB_ERR;
	}
	db_reset(st);
	if (rc == DB_ROW)
		return DB_OK;
	return rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
}

int price_insert(struct req *r, struct db *db, const struct price *p)
{
	struct db_stmt *st = db_prepare(db, SQL_PRICE_INSERT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, p->id, -1);
	db_bind_int64(st, 3, p->created);
	db_bind_int64(st, 4, p->active);
	db_bind_text(st, 5, p->currency, -1);
	if (p->has_unit_amount)
		db_bind_int64(st, 6, p->unit_amount);
	else
		db_bind_null(st, 6);
	db_bind_text(st, 7, p->unit_amount_decimal, -1);
	db_bind_text(st, 8, p->product, -1);
	db_bind_text(st, 9, p->nickname, -1);
	db_bind_text(st, 10, p->lookup_key, -1);
	db_bind_text(st, 11, p->metadata, -1);
	db_bind_text(st, 12, p->type, -1);
	db_bind_text(st, 13, p->interval, -1);
	if (p->interval)
		db_bind_int64(st, 14, p->interval_count);
	else
		db_bind_null(st, 14);
	db_bind_text(st, 15, p->usage_type, -1);
	db_bind_text(st, 16, p->tax_behavior, -1);
	db_bind_text(st, 17, p->list_key[0] ? p->list_key : p->id, -1);
	if (p->has_trial)
		db_bind_int64(st, 18, p->trial_period_days);
	else
		db_bind_null(st, 18);
	db_bind_text(st, 19, p->billing_scheme ? p->billing_scheme : "per_unit", -1);
	db_bind_text(st, 20, p->tiers_mode, -1);
	db_bind_text(st, 21, p->tiers, -1);
	db_bind_text(st, 22, p->meter, -1);
	db_bind_text(st, 23, p->custom_unit_amount, -1);
	db_bind_text(st, 24, p->aggregate_usage, -1);
	if (qty_transform_set(&p->transform)) {
		db_bind_int64(st, 25, p->transform.divide_by);
		db_bind_text(st, 26, p->transform.round_up ? "up" : "down", -1);
	} else {
		db_bind_null(st, 25);
		db_bind_null(st, 26);
	}
	return db_step_done(st);
}

int price_update(struct req *r, struct db *db, const struct price *p)
{
	struct db_stmt *st = db_prepare(db, SQL_PRICE_UPDATE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, p->id, -1);
	db_bind_int64(st, 3, p->active);
	db_bind_text(st, 4, p->nickname, -1);
	db_bind_text(st, 5, p->lookup_key, -1);
	db_bind_text(st, 6, p->metadata, -1);
	db_bind_text(st, 7, p->tax_behavior, -1);
	if (p->has_trial)
		db_bind_int64(st, 8, p->trial_period_days);
	else
		db_bind_null(st, 8);
	db_bind_int64(st, 9, p->plan_deleted);
	return db_step_done(st);
}

/* ---- rendering ---- */

static void product_render(struct req *r, const struct product *p, struct json *j)
{
	json_obj_open(j);
	json_kv_str(j, "id", p->id);
	json_kv_str(j, "object", "product");
	if (p->deleted) {
		json_kv_bool(j, "deleted", true);
		json_obj_close(j);
		return;
	}
	json_kv_bool(j, "active", p->active);
	json_kv_int(j, "created", p->created);
	json_kv_str_or_null(j, "default_price", p->default_price);
	json_kv_str_or_null(j, "description", p->description);
	/* the spec's older name of marketing_features: the same list */
	const char *mf = p->marketing_features ? p->marketing_features : "[]";
	json_kv_raw(j, "features", mf, strlen(mf));
	json_kv_raw(j, "images", p->images, strlen(p->images));
	json_kv_bool(j, "livemode", r->livemode);
	json_kv_raw(j, "marketing_features", mf, strlen(mf));
	json_kv_raw(j, "metadata", p->metadata, strlen(p->metadata));
	json_kv_str(j, "name", p->name);
	json_kv_raw_or_null(j, "package_dimensions", p->package_dimensions);
	if (p->shippable < 0)
		json_kv_null(j, "shippable");
	else
		json_kv_bool(j, "shippable", p->shippable != 0);
	json_kv_str_or_null(j, "statement_descriptor", p->statement_descriptor);
	json_kv_str_or_null(j, "tax_code", p->tax_code);
	json_kv_str_or_null(j, "unit_label", p->unit_label);
	json_kv_int(j, "updated", p->updated);
	json_kv_str_or_null(j, "url", p->url);
	json_obj_close(j);
}

int product_render_cb(void *ctx, struct db *db, const char *id, struct json *j)
{
	struct req *r = ctx;
	struct product p;
	int rc = product_load(r, db, id, &p);
	if (rc == DB_OK)
		product_render(r, &p, j);
	return rc;
}

static bool price_tiered(const struct price *p)
{
	return p->billing_scheme && str_eq(p->billing_scheme, "tiered") && p->tiers;
}

/* expand: bit 0 the product, bit 1 the tiers, bit 2 currency_options (includable fields:
 * absent unless asked for) */
#define EXPAND_PRODUCT 1u
#define EXPAND_TIERS 2u
#define EXPAND_CURRENCY_OPTIONS 4u

static int price_render_currency_options(struct req *r, struct db *db, const struct price *p,
					 struct json *j);

static int price_render(struct req *r, struct db *db, const struct price *p, unsigned expand,
			struct json *j)
{
	bool expand_product = (expand & EXPAND_PRODUCT) != 0;
	json_obj_open(j);
	json_kv_str(j, "id", p->id);
	json_kv_str(j, "object", "price");
	json_kv_bool(j, "active", p->active);
	json_kv_str(j, "billing_scheme", price_tiered(p) ? "tiered" : "per_unit");
	json_kv_int(j, "created", p->created);
	json_kv_str(j, "currency", p->currency);
	if ((expand & EXPAND_CURRENCY_OPTIONS) &&
	    price_render_currency_options(r, db, p, j) != DB_OK)
		return DB_ERR;
	if (p->custom_unit_amount)
		json_kv_raw(j, "custom_unit_amount", p->custom_unit_amount,
			    strlen(p->custom_unit_amount));
	else
		json_kv_null(j, "custom_unit_amount");
	json_kv_bool(j, "livemode", r->livemode);
	json_kv_str_or_null(j, "lookup_key", p->lookup_key);
	json_kv_raw(j, "metadata", p->metadata, strlen(p->metadata));
	json_kv_str_or_null(j, "nickname", p->nickname);
	int rc = payments_expandable(j, db, "product", p->product, expand_product && db,
				     product_render_cb, r);
	if (rc != DB_OK)
		return rc;
	json_key(j, "recurring");
	if (p->interval) {
		json_obj_open(j);
		json_kv_str_or_null(j, "aggregate_usage", price_aggregate_usage(p));
		json_kv_str(j, "interval", p->interval);
		json_kv_int(j, "interval_count", p->interval_count);
		json_kv_str_or_null(j, "meter", p->meter);
		if (p->has_trial)
			json_kv_int(j, "trial_period_days", p->trial_period_days);
		else
			json_kv_null(j, "trial_period_days");
		json_kv_str(j, "usage_type", p->usage_type ? p->usage_type : "licensed");
		json_obj_close(j);
	} else {
		json_nil(j);
	}
	json_kv_str(j, "tax_behavior", p->tax_behavior);
	if (price_tiered(p) && (expand & EXPAND_TIERS))
		json_kv_raw(j, "tiers", p->tiers, strlen(p->tiers));
	json_kv_str_or_null(j, "tiers_mode", price_tiered(p) ? p->tiers_mode : NULL);
	price_transform_render(j, "transform_quantity", &p->transform);
	json_kv_str(j, "type", p->type);
	if (p->has_unit_amount)
		json_kv_int(j, "unit_amount", p->unit_amount);
	else
		json_kv_null(j, "unit_amount");
	json_kv_str_or_null(j, "unit_amount_decimal",
			    price_tiered(p) || p->custom_unit_amount ? NULL
								     : p->unit_amount_decimal);
	json_obj_close(j);
	return DB_OK;
}

/* Appends an event whose object is rendered by the caller's renderer into a fresh buffer. */
static int emit_json(struct req *r, struct db *db, const char *type, const char *id,
		     const struct buf *b, const char *prev)
{
	return b->failed ? req_fail(r, ERR_API, NULL, NULL)
			 : payments_event(r, db, type, id, b->data, b->len, prev);
}

int product_emit(struct req *r, struct db *db, const struct product *p, const char *type,
		 const char *prev)
{
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 20);
	json_init(&j, &b);
	product_render(r, p, &j);
	int rc = emit_json(r, db, type, p->id, &b, prev);
	buf_release(&b);
	return rc;
}

int price_emit(struct req *r, struct db *db, const struct price *p, const char *type,
	       const char *prev)
{
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 20);
	json_init(&j, &b);
	int rc = price_render(r, NULL, p, p->currency_options ? EXPAND_CURRENCY_OPTIONS : 0, &j);
	rc = rc == DB_OK ? emit_json(r, db, type, p->id, &b, prev)
			 : req_fail(r, ERR_API, NULL, NULL);
	buf_release(&b);
	return rc;
}

static int price_respond(struct req *r, struct db *db, const struct price *p)
{
	unsigned expand = (req_expand_has(r, "product") ? EXPAND_PRODUCT : 0) |
			  (req_expand_has(r, "tiers") ? EXPAND_TIERS : 0) |
			  (req_expand_has(r, "currency_options") ? EXPAND_CURRENCY_OPTIONS : 0);
	return price_render(r, db, p, expand, req_json(r)) == DB_OK
		   ? 0
		   : req_fail(r, ERR_API, NULL, NULL);
}

/* ---- parameters ---- */

static const char *const intervals[] = {"day", "week", "month", "year", NULL};
static const char *const usage_types[] = {"licensed", "metered", NULL};
static const char *const aggregate_usages[] = {"last_during_period", "last_ever", "max", "sum",
					       NULL};
static const char *const tax_behaviors[] = {"exclusive", "inclusive", "unspecified", NULL};
static const char *const price_types[] = {"one_time", "recurring", NULL};

static const struct param_spec recurring_children[] = {
    {"interval", PT_ENUM, PF_REQUIRED, 0, intervals, NULL},
    {"interval_count", PT_INT, 0, 0, NULL, NULL},
    {"usage_type", PT_ENUM, 0, 0, usage_types, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
/* POST /v1/prices' recurring: a metered price may be backed by a billing meter */
static const struct param_spec price_recurring_children[] = {
    {"interval", PT_ENUM, PF_REQUIRED, 0, intervals, NULL},
    {"interval_count", PT_INT, 0, 0, NULL, NULL},
    {"usage_type", PT_ENUM, 0, 0, usage_types, NULL},
    {"meter", PT_STRING, 0, ID_MAX - 1, NULL, NULL},
    {"aggregate_usage", PT_ENUM, 0, 0, aggregate_usages, NULL},
    {"trial_period_days", PT_INT, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec product_data_children[] = {
    {"name", PT_STRING, PF_REQUIRED, 250, NULL, NULL},
    {"active", PT_BOOL, 0, 0, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"statement_descriptor", PT_STRING, 0, 22, NULL, NULL},
    {"unit_label", PT_STRING, 0, 12, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
/* a pay-what-you-want price: the customer chooses the amount in Checkout */
/* transform_quantity (a plan's transform_usage takes the same) */
static const char *const transform_rounds[] = {"down", "up", NULL};
const struct param_spec price_transform_params[] = {
    {"divide_by", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {"round", PT_ENUM, PF_REQUIRED, 0, transform_rounds, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec custom_unit_amount_children[] = {
    {"enabled", PT_BOOL, PF_REQUIRED, 0, NULL, NULL},
    {"maximum", PT_INT, 0, 0, NULL, NULL},
    {"minimum", PT_INT, 0, 0, NULL, NULL},
    {"preset", PT_INT, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
const char *const price_billing_schemes[] = {"per_unit", "tiered", NULL};
const char *const price_tiers_modes[] = {"graduated", "volume", NULL};
const struct param_spec price_tier_params[] = {
    {"up_to", PT_STRING, PF_REQUIRED, 20, NULL, NULL},
    {"unit_amount", PT_INT, 0, 0, NULL, NULL},
    {"unit_amount_decimal", PT_STRING, 0, 40, NULL, NULL},
    {"flat_amount", PT_INT, 0, 0, NULL, NULL},
    {"flat_amount_decimal", PT_STRING, 0, 40, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
/* currency_options[<currency>]: custom_unit_amount is not taken (parameter_unknown) */
static const struct param_spec currency_option_children[] = {
    {"unit_amount", PT_INT, 0, 0, NULL, NULL},
    {"unit_amount_decimal", PT_STRING, 0, 40, NULL, NULL},
    {"tiers", PT_OBJECT_ARRAY, 0, TIERS_MAX, NULL, price_tier_params},
    {"tax_behavior", PT_ENUM, 0, 0, tax_behaviors, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec default_price_children[] = {
    {"currency", PT_CURRENCY, PF_REQUIRED, 0, NULL, NULL},
    {"custom_unit_amount", PT_OBJECT, 0, 0, NULL, custom_unit_amount_children},
    {"unit_amount", PT_INT, 0, 0, NULL, NULL},
    {"unit_amount_decimal", PT_STRING, 0, 40, NULL, NULL},
    {"recurring", PT_OBJECT, 0, 0, NULL, recurring_children},
    {"tax_behavior", PT_ENUM, 0, 0, tax_behaviors, NULL},
    {"currency_options", PT_OBJECT_MAP, 0, CURRENCY_OPTIONS_MAX, NULL, currency_option_children},
    {NULL, 0, 0, 0, NULL, NULL},
};

/* Stripe's bound on a product's marketing features */
#define MARKETING_FEATURES_MAX 15
static const struct param_spec package_dimensions_children[] = {
    {"height", PT_STRING, PF_REQUIRED, 24, NULL, NULL},
    {"length", PT_STRING, PF_REQUIRED, 24, NULL, NULL},
    {"weight", PT_STRING, PF_REQUIRED, 24, NULL, NULL},
    {"width", PT_STRING, PF_REQUIRED, 24, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec marketing_feature_children[] = {
    {"name", PT_STRING, PF_REQUIRED, 80, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

#define PRODUCT_WRITABLE_PARAMS                                                                      \
	{"active", PT_BOOL, 0, 0, NULL, NULL},                                                       \
	    {"description", PT_STRING, PF_EMPTYABLE, 40000, NULL, NULL},                             \
	    {"images", PT_STRING_ARRAY, PF_EMPTYABLE, 0, NULL, NULL},                                \
	    {"metadata", PT_METADATA, 0, 0, NULL, NULL}, {"shippable", PT_BOOL, 0, 0, NULL, NULL},   \
	    {"statement_descriptor", PT_STRING, PF_EMPTYABLE, 22, NULL, NULL},                       \
	    {"unit_label", PT_STRING, PF_EMPTYABLE, 12, NULL, NULL},                                 \
	    {"tax_code", PT_STRING, PF_EMPTYABLE, 255, NULL, NULL},                                  \
	    {"package_dimensions", PT_OBJECT, PF_EMPTYABLE, 0, NULL, package_dimensions_children},   \
	    {"marketing_features",	PT_OBJECT_ARRAY, PF_EMPTYABLE, MARKETING_FEATURES_MAX, NULL, \
	     marketing_feature_children},                                                            \
	    {"features", PT_OBJECT_ARRAY,	    PF_EMPTYABLE, MARKETING_FEATURES_MAX,            \
	     NULL,	 marketing_feature_children},                                                \
	{                                                                                            \
		"url", PT_STRING, PF_EMPTYABLE, 5000, NULL, NULL                                     \
	}

static const struct param_spec product_create_params[] = {
    {"id", PT_STRING, 0, ID_MAX - 1, NULL, NULL},
    {"name", PT_STRING, PF_REQUIRED, 250, NULL, NULL},
    PRODUCT_WRITABLE_PARAMS,
    {"default_price_data", PT_OBJECT, 0, 0, NULL, default_price_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec product_update_params[] = {
    {"name", PT_STRING, 0, 250, NULL, NULL},
    PRODUCT_WRITABLE_PARAMS,
    {"default_price", PT_STRING, PF_EMPTYABLE, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec product_list_params[] = {
    {"active", PT_BOOL, 0, 0, NULL, NULL},
    {"shippable", PT_BOOL, 0, 0, NULL, NULL},
    {"url", PT_STRING, 0, 5000, NULL, NULL},
    {"ids", PT_STRING_ARRAY, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec price_create_params[] = {
    {"currency", PT_CURRENCY, PF_REQUIRED, 0, NULL, NULL},
    {"product", PT_STRING, 0, 255, NULL, NULL},
    {"product_data", PT_OBJECT, 0, 0, NULL, product_data_children},
    {"custom_unit_amount", PT_OBJECT, 0, 0, NULL, custom_unit_amount_children},
    {"unit_amount", PT_INT, 0, 0, NULL, NULL},
    {"unit_amount_decimal", PT_STRING, 0, 40, NULL, NULL},
    {"recurring", PT_OBJECT, 0, 0, NULL, price_recurring_children},
    {"active", PT_BOOL, 0, 0, NULL, NULL},
    {"billing_scheme", PT_ENUM, 0, 0, price_billing_schemes, NULL},
    {"tiers_mode", PT_ENUM, 0, 0, price_tiers_modes, NULL},
    {"tiers", PT_OBJECT_ARRAY, 0, TIERS_MAX, NULL, price_tier_params},
    {"transform_quantity", PT_OBJECT, 0, 0, NULL, price_transform_params},
    {"lookup_key", PT_STRING, 0, 200, NULL, NULL},
    {"transfer_lookup_key", PT_BOOL, 0, 0, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"nickname", PT_STRING, 0, 5000, NULL, NULL},
    {"tax_behavior", PT_ENUM, 0, 0, tax_behaviors, NULL},
    {"currency_options", PT_OBJECT_MAP, 0, CURRENCY_OPTIONS_MAX, NULL, currency_option_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec price_update_params[] = {
    {"active", PT_BOOL, 0, 0, NULL, NULL},
    {"lookup_key", PT_STRING, PF_EMPTYABLE, 200, NULL, NULL},
    {"transfer_lookup_key", PT_BOOL, 0, 0, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"nickname", PT_STRING, PF_EMPTYABLE, 5000, NULL, NULL},
    {"tax_behavior", PT_ENUM, 0, 0, tax_behaviors, NULL},
    {"currency_options", PT_OBJECT_MAP, PF_EMPTYABLE, CURRENCY_OPTIONS_MAX, NULL,
     currency_option_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec recurring_filter_children[] = {
    {"interval", PT_ENUM, 0, 0, intervals, NULL},
    {"usage_type", PT_ENUM, 0, 0, usage_types, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec price_list_params[] = {
    {"active", PT_BOOL, 0, 0, NULL, NULL},
    {"currency", PT_CURRENCY, 0, 0, NULL, NULL},
    {"product", PT_STRING, 0, 255, NULL, NULL},
    {"type", PT_ENUM, 0, 0, price_types, NULL},
    {"lookup_keys", PT_STRING_ARRAY, 0, 0, NULL, NULL},
    {"recurring", PT_OBJECT, 0, 0, NULL, recurring_filter_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

/* ---- prices: what create takes ---- */

/* A decimal count of minor units: digits, then optionally '.' and 1–12 digits; the integer part
 * at most UNIT_AMOUNT_MAX. A whole number (any zero decimals) also sets unit_amount and is kept
 * as its digits. No floating point: the text is checked and kept as it is. */
int price_amount_decimal(struct req *r, const char *param, const char *s, struct price *p)
{
	const char *dot = strchr(s, '.');
	size_t int_len = dot ? (size_t)(dot - s) : strlen(s);
	size_t frac_len = dot ? strlen(dot + 1) : 0;
	bool ok = int_len >= 1 && int_len <= 8 && (!dot || (frac_len >= 1 && frac_len <= 12));
	bool frac_zero = true;
	int64_t v = 0;
	for (size_t i = 0; ok && i < int_len; i++) {
		ok = s[i] >= '0' && s[i] <= '9';
		v = v * 10 + (s[i] - '0');
	}
	for (size_t i = 0; ok && i < frac_len; i++) {
		ok = dot[1 + i] >= '0' && dot[1 + i] <= '9';
		frac_zero = frac_zero && dot[1 + i] == '0';
	}
	if (!ok || v > UNIT_AMOUNT_MAX)
		return req_fail(r, ERR_PARAM_BAD, param,
				"Invalid decimal: %s. It must be a non-negative number of the "
				"currency's smallest unit with at most 8 digits before the decimal "
				"point and 12 after it.",
				s);
	if (frac_zero) {
		p->has_unit_amount = true;
		p->unit_amount = v;
		p->unit_amount_decimal = arena_printf(&r->arena, "%lld", (long long)v);
	} else {
		p->has_unit_amount = false;
		p->unit_amount_decimal = arena_strdup(&r->arena, s);
	}
	return p->unit_amount_decimal ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* A parameter's name as errors show it: "unit_amount" under "default_price_data" is
 * "default_price_data[unit_amount]", "recurring[interval]" is
 * "default_price_data[recurring][interval]". */
static const char *shown_name(char *out, size_t n, const char *object, const char *name)
{
	if (!*object) {
		snprintf(out, n, "%s", name);
		return out;
	}
	size_t head = strcspn(name, "[");
	snprintf(out, n, "%s[%.*s]%s", object, (int)head, name, name + head);
	return out;
}

/* custom_unit_amount[enabled, maximum, minimum, preset] under `prefix` into p (Stripe's rules:
 * enabled must be true; each bound an integer of at most eight digits; minimum ≤ maximum; the
 * preset between them). The price then has no unit amount. 0, or -1 with r->err. */
static int custom_unit_amount_terms(struct req *r, const char *prefix, const char *shown_prefix,
				    struct price *p)
{
	char path[128], shown[128];
#define PARAM(name) (snprintf(path, sizeof(path), "%scustom_unit_amount.%s", prefix, name), path)
#define SHOWN(name)                                                                                \
	(snprintf(path, sizeof(path), "custom_unit_amount[%s]", name),                             \
	 shown_name(shown, sizeof(shown), shown_prefix, path))
	bool enabled = false;
	param_bool(r, PARAM("enabled"), &enabled);
	if (!enabled)
		return req_fail(r, ERR_PARAM_BAD, SHOWN("enabled"),
				"Pass in `true` to enable custom_unit_amount, otherwise omit "
				"custom_unit_amount.");
	static const char *const names[3] = {"maximum", "minimum", "preset"};
	int64_t v[3] = {-1, -1, -1};
	for (int i = 0; i < 3; i++) {
		int64_t x;
		if (param_int(r, PARAM(names[i]), &x) != 1)
			continue;
		if (x < 0 || x > UNIT_AMOUNT_MAX)
			return req_fail(r, ERR_PARAM_BAD, SHOWN(names[i]),
					"Invalid integer: %lld. custom_unit_amount[%s] must be "
					"between 0 and %d.",
					(long long)x, names[i], UNIT_AMOUNT_MAX);
		v[i] = x;
	}
	int64_t max = v[0], min = v[1], preset = v[2];
	if (min >= 0 && max >= 0 && min > max)
		return req_fail(r, ERR_PARAM_BAD, SHOWN("minimum"),
				"custom_unit_amount[minimum] (%lld) must be less than or equal to "
				"custom_unit_amount[maximum] (%lld).",
				(long long)min, (long long)max);
	if (preset >= 0 && min >= 0 && preset < min)
		return req_fail(r, ERR_PARAM_BAD, SHOWN("preset"),
				"custom_unit_amount[preset] (%lld) must be greater than or equal "
				"to custom_unit_amount[minimum] (%lld).",
				(long long)preset, (long long)min);
	if (preset >= 0 && max >= 0 && preset > max)
		return req_fail(r, ERR_PARAM_BAD, SHOWN("preset"),
				"custom_unit_amount[preset] (%lld) must be less than or equal to "
				"custom_unit_amount[maximum] (%lld).",
				(long long)preset, (long long)max);
#undef PARAM
#undef SHOWN
	struct buf b;
	struct json j;
	buf_init(&b, 256);
	json_init(&j, &b);
	json_obj_open(&j);
	for (int i = 0; i < 3; i++) {
		if (v[i] >= 0)
			json_kv_int(&j, names[i], v[i]);
		else
			json_kv_null(&j, names[i]);
	}
	json_obj_close(&j);
	p->custom_unit_amount = b.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&b));
	buf_release(&b);
	p->has_unit_amount = false;
	p->unit_amount = 0;
	p->unit_amount_decimal = "";
	return p->custom_unit_amount ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* The price's amount, currency and recurrence from the parameters under `prefix` ("" for a
 * price create, "default_price_data." for a product's). 0, or -1 with r->err. */
static int price_terms(struct req *r, const char *prefix, const char *shown_prefix, struct price *p)
{
	char path[96], shown[96];
#define PARAM(name) (snprintf(path, sizeof(path), "%s%s", prefix, name), path)
#define SHOWN(name) shown_name(shown, sizeof(shown), shown_prefix, name)
	if (param_currency(r, PARAM("currency"), SHOWN("currency"), p->currency) != 0)
		return -1;
	/* only POST /v1/prices takes tiers (price_data and default_price_data do not) */
	int tiered = *prefix ? 0 : price_tiers_terms(r, "unit_amount", p);
	if (tiered < 0)
		return -1;
	int64_t amount;
	bool has_int = param_int(r, PARAM("unit_amount"), &amount) == 1;
	const char *dec = param_str(r, PARAM("unit_amount_decimal"));
	if (has_int && dec)
		return req_fail(r, ERR_PARAM_BAD, SHOWN("unit_amount"),
				"You may only specify one of these parameters: unit_amount, "
				"unit_amount_decimal.");
	bool custom = param_present(r, PARAM("custom_unit_amount"));
	if (custom && (has_int || dec))
		return req_fail(r, ERR_PARAM_BAD, SHOWN("custom_unit_amount"),
				"You may only specify one of these parameters: custom_unit_amount, "
				"%s.",
				has_int ? "unit_amount" : "unit_amount_decimal");
	if (custom && tiered)
		return req_fail(r, ERR_PARAM_BAD, SHOWN("custom_unit_amount"),
				"custom_unit_amount cannot be used with billing_scheme=tiered.");
	if (custom) {
		if (custom_unit_amount_terms(r, prefix, shown_prefix, p) != 0)
			return -1;
	} else if (tiered) {
		/* the amounts are the tiers' (price_tiers_terms refused unit_amount) */
	} else if (has_int) {
		if (amount < 0 || amount > UNIT_AMOUNT_MAX)
			return req_fail(r, ERR_PARAM_BAD, SHOWN("unit_amount"),
					"Invalid integer: %lld. unit_amount must be between 0 and "
					"99999999.",
					(long long)amount);
		p->has_unit_amount = true;
		p->unit_amount = amount;
		p->unit_amount_decimal = arena_printf(&r->arena, "%lld", (long long)amount);
	} else if (dec) {
		if (price_amount_decimal(r, SHOWN("unit_amount_decimal"), dec, p) != 0)
			return -1;
	} else {
		return req_fail(r, ERR_PARAM_MISSING, SHOWN("unit_amount"), "%s",
				SHOWN("unit_amount"));
	}
	p->type = "one_time";
	if (param_present(r, PARAM("recurring"))) {
		p->type = "recurring";
		p->interval = param_str(r, PARAM("recurring.interval"));
		p->usage_type = param_str(r, PARAM("recurring.usage_type"));
		if (!p->usage_type)
			p->usage_type = "licensed";
		/* only POST /v1/prices takes a meter (checked to be the merchant's in its write) */
		p->meter = *prefix ? NULL : param_str(r, "recurring.meter");
		if (p->meter && !*p->meter)
			p->meter = NULL;
		if (p->meter && !str_eq(p->usage_type, "metered"))
			return req_fail(r, ERR_PARAM_BAD, "recurring[meter]",
					"A meter can only be set on a price with "
					"recurring[usage_type]=metered.");
		if (price_aggregate_usage_param(r, *prefix ? NULL : "recurring.aggregate_usage",
						"recurring[aggregate_usage]", p) != 0)
			return -1;
		/* only POST /v1/prices takes a default trial (what a subscription's
		 * trial_from_plan=true gives it), kept as a plan's trial_period_days */
		int64_t days;
		if (!*prefix && param_int(r, "recurring.trial_period_days", &days) == 1) {
			if (days < 0 || days > PRICE_TRIAL_DAYS_MAX)
				return req_fail(r, ERR_PARAM_BAD, "recurring[trial_period_days]",
						"Invalid recurring[trial_period_days]: must be "
						"between 0 and %d days.",
						PRICE_TRIAL_DAYS_MAX);
			p->has_trial = true;
			p->trial_period_days = days;
		}
		p->interval_count = 1;
		param_int(r, PARAM("recurring.interval_count"), &p->interval_count);
		/* Stripe's bound: at most three years between two billings */
		int64_t max = strcmp(p->interval, "year") == 0	  ? 3
			      : strcmp(p->interval, "month") == 0 ? 36
			      : strcmp(p->interval, "week") == 0  ? 156
								  : 1095;
		if (p->interval_count < 1 || p->interval_count > max)
			return req_fail(r, ERR_PARAM_BAD, SHOWN("recurring[interval_count]"),
					"Invalid recurring[interval_count]: the maximum billing "
					"interval is three years (%s).",
					p->interval);
	}
	/* the customer chooses the amount of a one-time payment (Checkout, payment links) */
	if (custom && p->interval)
		return req_fail(r, ERR_PARAM_BAD, SHOWN("custom_unit_amount"),
				"custom_unit_amount is not supported for recurring prices: it is "
				"only available for one-time prices (omit `recurring`).");
	if (tiered && !p->interval)
		return req_fail(r, ERR_PARAM_BAD, "billing_scheme",
				"Tiered pricing is only available for recurring prices: set "
				"`recurring` or use `billing_scheme=per_unit`.");
	/* only POST /v1/prices takes transform_quantity (price_data and default_price_data do
	 * not, as Stripe's spec has it) */
	if (!*prefix && price_transform_terms(r, "transform_quantity", p) != 0)
		return -1;
	const char *tb = param_str(r, PARAM("tax_behavior"));
	p->tax_behavior = tb ? tb : "unspecified";
#undef PARAM
#undef SHOWN
	return 0;
}

/* One amount of tier `i` (unit or flat): the integer or the decimal (exactly one), into the
 * tier's whole and fraction; shown in the JSON as `<name>` (null when not whole) and
 * `<name>_decimal`. Neither given: both null, 0. 0, or -1 with r->err. */
static int tier_amount(struct req *r, const struct form_node *t, const char *tiers_shown, int i,
		       const char *name, int64_t *ret_whole, int64_t *ret_frac, struct json *j)
{
	char dname[32], shown[128];
	snprintf(dname, sizeof(dname), "%s_decimal", name);
	const struct form_node *in = form_get(t, name), *dn = form_get(t, dname);
	const char *iv = in && *in->value ? in->value : NULL;
	const char *dv = dn && *dn->value ? dn->value : NULL;
	*ret_whole = *ret_frac = 0;
	if (iv && dv) {
		snprintf(shown, sizeof(shown), "%s[%d][%s]", tiers_shown, i, name);
		return req_fail(r, ERR_PARAM_BAD, arena_strdup(&r->arena, shown),
				"You may only specify one of these parameters: %s, %s.", name,
				dname);
	}
	if (iv) {
		int64_t v;
		if (parse_i64(iv, &v) != 0 || v < 0 || v > UNIT_AMOUNT_MAX) {
			snprintf(shown, sizeof(shown), "%s[%d][%s]", tiers_shown, i, name);
			return req_fail(r, ERR_PARAM_BAD, arena_strdup(&r->arena, shown),
					"Invalid integer: %s. %s must be between 0 and 99999999.",
					iv, shown);
		}
		*ret_whole = v;
	} else if (dv && tiers_decimal_parse(dv, ret_whole, ret_frac) != 0) {
		snprintf(shown, sizeof(shown), "%s[%d][%s]", tiers_shown, i, dname);
		return req_fail(r, ERR_PARAM_BAD, arena_strdup(&r->arena, shown),
				"Invalid decimal: %s. It must be a non-negative number of the "
				"currency's smallest unit with at most 8 digits before the decimal "
				"point and 12 after it.",
				dv);
	}
	if (!iv && !dv) {
		json_kv_null(j, name);
		json_kv_null(j, dname);
	} else if (*ret_frac == 0) {
		json_kv_int(j, name, *ret_whole);
		json_kv_str(j, dname, arena_printf(&r->arena, "%lld", (long long)*ret_whole));
	} else {
		/* the decimal's digits, without the zeros that end it ("01.50" is "1.5") */
		char text[40];
		int len = snprintf(text, sizeof(text), "%lld.%012lld", (long long)*ret_whole,
				   (long long)*ret_frac);
		while (len > 0 && text[len - 1] == '0')
			len--;
		json_kv_null(j, name);
		json_key(j, dname);
		json_strn(j, text, (size_t)(len > 0 ? len : 0));
	}
	return 0;
}

static int tiers_parse(struct req *r, const struct form_node *tn, const char *shown_tiers,
		       enum tiers_mode m, const char **ret_text);

int price_tiers_terms(struct req *r, const char *amount_name, struct price *p)
{
	const char *scheme = param_str(r, "billing_scheme");
	const char *mode = param_str(r, "tiers_mode");
	const struct form_node *tn = param_node(r, "tiers");
	p->billing_scheme = "per_unit";
	if (!scheme || !str_eq(scheme, "tiered")) {
		if (tn || mode)
			return req_fail(r, ERR_PARAM_BAD, tn ? "tiers" : "tiers_mode",
					"`%s` can only be set when `billing_scheme` is `tiered`.",
					tn ? "tiers" : "tiers_mode");
		return 0;
	}
	char dname[32];
	snprintf(dname, sizeof(dname), "%s_decimal", amount_name);
	if (param_present(r, amount_name) || param_present(r, dname))
		return req_fail(r, ERR_PARAM_BAD,
				param_present(r, amount_name) ? amount_name : dname,
				"You may not set `%s` when `billing_scheme` is `tiered`: the "
				"amounts are the tiers'.",
				param_present(r, amount_name) ? amount_name : dname);
	enum tiers_mode m;
	if (!mode || tiers_mode_parse(mode, &m) != 0)
		return req_fail(r, ERR_PARAM_MISSING, "tiers_mode", "%s", "tiers_mode");
	const char *text;
	if (tiers_parse(r, tn, "tiers", m, &text) != 0)
		return -1;
	p->billing_scheme = "tiered";
	p->tiers_mode = mode;
	p->tiers = text;
	p->has_unit_amount = false;
	p->unit_amount = 0;
	p->unit_amount_decimal = "";
	return 1;
}

int price_transform_terms(struct req *r, const char *name, struct price *p)
{
	memset(&p->transform, 0, sizeof(p->transform));
	if (!param_present(r, name))
		return 0;
	/* Stripe's refusals: a transformation is for a per-unit price's fixed unit amount */
	if (price_tiered(p))
		return req_fail(r, ERR_PARAM_BAD, "tiers",
				"You may only specify one of these parameters: tiers, %s.", name);
	if (p->custom_unit_amount)
		return req_fail(r, ERR_PARAM_BAD, "custom_unit_amount",
				"You may only specify one of these parameters: custom_unit_amount, "
				"%s.",
				name);
	char path[64];
	snprintf(path, sizeof(path), "%s.divide_by", name);
	int64_t d = 0;
	const char *round = param_str(r, arena_printf(&r->arena, "%s.round", name));
	if (param_int(r, path, &d) != 1 || !round || !*round) {
		const char *missing = arena_printf(
		    &r->arena, "%s[%s]", name, param_int(r, path, &d) != 1 ? "divide_by" : "round");
		return req_fail(r, ERR_PARAM_MISSING, missing, "%s", missing);
	}
	if (d < 1)
		return req_fail(r, ERR_PARAM_BAD, arena_printf(&r->arena, "%s[divide_by]", name),
				"Invalid positive integer: %lld. %s[divide_by] must be at least 1.",
				(long long)d, name);
	p->transform.divide_by = d;
	p->transform.round_up = str_eq(round, "up");
	return 0;
}

void price_transform_render(struct json *j, const char *key, const struct qty_transform *t)
{
	if (!qty_transform_set(t)) {
		json_kv_null(j, key);
		return;
	}
	json_key(j, key);
	json_obj_open(j);
	json_kv_int(j, "divide_by", t->divide_by);
	json_kv_str(j, "round", t->round_up ? "up" : "down");
	json_obj_close(j);
}

/* The tiers array at form node tn (shown in errors as `shown`: "tiers",
 * "currency_options[eur][tiers]"), checked in mode m, into the JSON array the API shows. 0, or
 * -1 with r->err. */
static int tiers_parse(struct req *r, const struct form_node *tn, const char *shown_tiers,
		       enum tiers_mode m, const char **ret_text)
{
	if (!tn || tn->kind != FORM_ARRAY || !tn->first_child)
		return req_fail(r, ERR_PARAM_MISSING, shown_tiers, "%s", shown_tiers);
	struct tier *t = arena_alloc(&r->arena, TIERS_MAX * sizeof(*t));
	if (!t)
		return req_fail(r, ERR_API, NULL, NULL);
	struct buf b;
	struct json j;
	buf_init(&b, 64 * 1024);
	json_init(&j, &b);
	json_arr_open(&j);
	int n = 0, rc = 0;
	char shown[128];
	for (const struct form_node *x = tn->first_child; x && rc == 0 && n < TIERS_MAX;
	     x = x->next, n++) {
		struct tier *ti = &t[n];
		const struct form_node *up = form_get(x, "up_to");
		snprintf(shown, sizeof(shown), "%s[%d][up_to]", shown_tiers, n);
		if (!up || !*up->value) {
			rc = req_fail(r, ERR_PARAM_MISSING, arena_strdup(&r->arena, shown), "%s",
				      shown);
			break;
		}
		if (str_eq(up->value, "inf")) {
			ti->up_to = TIER_UP_TO_INF;
		} else if (parse_i64(up->value, &ti->up_to) != 0 || ti->up_to < 1) {
			rc = req_fail(r, ERR_PARAM_BAD, arena_strdup(&r->arena, shown),
				      "Invalid %s: must be a positive integer or `inf`.", shown);
			break;
		}
		static const char *const amounts[] = {"unit_amount", "unit_amount_decimal",
						      "flat_amount", "flat_amount_decimal"};
		bool has_amount = false;
		for (size_t k = 0; k < sizeof(amounts) / sizeof(amounts[0]); k++) {
			const struct form_node *an = form_get(x, amounts[k]);
			has_amount = has_amount || (an && an->value && *an->value);
		}
		if (!has_amount) {
			snprintf(shown, sizeof(shown), "%s[%d]", shown_tiers, n);
			rc = req_fail(r, ERR_PARAM_MISSING, arena_strdup(&r->arena, shown),
				      "Each tier needs an amount: set %s[unit_amount] or "
				      "%s[flat_amount] (or their _decimal forms).",
				      shown, shown);
			break;
		}
		json_obj_open(&j);
		if (tier_amount(r, x, shown_tiers, n, "flat_amount", &ti->flat_whole,
				&ti->flat_frac, &j) != 0 ||
		    tier_amount(r, x, shown_tiers, n, "unit_amount", &ti->unit_whole,
				&ti->unit_frac, &j) != 0) {
			rc = -1;
			break;
		}
		if (ti->up_to == TIER_UP_TO_INF)
			json_kv_null(&j, "up_to");
		else
			json_kv_int(&j, "up_to", ti->up_to);
		json_obj_close(&j);
	}
	json_arr_close(&j);
	const char *text = b.failed ? NULL : arena_strndup(&r->arena, b.data, b.len);
	buf_release(&b);
	if (rc != 0)
		return -1;
	if (!text)
		return req_fail(r, ERR_API, NULL, NULL);
	struct tiers ts = {m, n, t};
	int idx, why;
	if (tiers_check(&ts, &idx, &why) != 0) {
		snprintf(shown, sizeof(shown), "%s[%d][up_to]", shown_tiers, idx);
		const char *param = arena_strdup(&r->arena, shown);
		switch (why) {
		case 1:
			return req_fail(r, ERR_PARAM_BAD, param,
					"Invalid %s: the tiers' `up_to` must increase from one "
					"tier to the next.",
					shown);
		case 2:
			return req_fail(r, ERR_PARAM_BAD, param,
					"Invalid %s: the last tier's `up_to` must be `inf`.",
					shown);
		case 3:
			return req_fail(r, ERR_PARAM_BAD, param,
					"Invalid %s: only the last tier's `up_to` may be `inf`.",
					shown);
		default:
			return req_fail(r, ERR_PARAM_BAD, shown_tiers, "%s", "Invalid tiers.");
		}
	}
	*ret_text = text;
	return 0;
}

static const char SQL_LOOKUP_OWNER[] =
    "SELECT id FROM prices WHERE merchant_id = $1 AND lookup_key = $2";

/* Makes lookup_key p's: refused when another price has it, unless transfer_lookup_key moves it
 * (that price gets price.updated). 0, or -1 with r->err. */
static int claim_lookup_key(struct req *r, struct db *db, const struct price *p)
{
	if (!p->lookup_key)
		return 0;
	struct db_stmt *st = db_prepare(db, SQL_LOOKUP_OWNER);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, p->lookup_key, -1);
	char owner[ID_MAX] = "";
	if (db_step(st) == DB_ROW)
		str_copy(owner, sizeof(owner), db_col_text(st, 0, NULL));
	db_reset(st);
	if (!owner[0] || strcmp(owner, p->id) == 0)
		return 0;
	bool transfer = false;
	param_bool(r, "transfer_lookup_key", &transfer);
	if (!transfer)
		return req_fail(r, ERR_PARAM_BAD, "lookup_key",
				"A price (`%s`) already uses that lookup key. Set "
				"transfer_lookup_key to move it to this price.",
				owner);
	struct price old;
	if (price_load(r, db, owner, &old) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	struct price moved = old;
	moved.lookup_key = NULL;
	if (price_update(r, db, &moved) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return price_emit(
	    r, db, &moved, "price.updated",
	    arena_printf(&r->arena, "{\"lookup_key\":%s}", json_quote(r, old.lookup_key)));
}

/* ---- currency_options: the same price in other currencies ---- */

static const char SQL_CO_LIST[] =
    "SELECT currency, unit_amount, unit_amount_decimal, tax_behavior, tiers"
    " FROM price_currency_options WHERE merchant_id = $1 AND price = $2 ORDER BY currency";
static const char SQL_CO_GET[] =
    "SELECT currency, unit_amount, unit_amount_decimal, tax_behavior, tiers"
    " FROM price_currency_options WHERE merchant_id = $1 AND price = $2 AND currency = $3";
static const char SQL_CO_DELETE[] =
    "DELETE FROM price_currency_options WHERE merchant_id = $1 AND price = $2"
    " AND ($3 IS NULL OR currency = $3)";
static const char SQL_CO_INSERT[] =
    "INSERT INTO price_currency_options (merchant_id, price, currency, unit_amount,"
    " unit_amount_decimal, tax_behavior, tiers, created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

static int co_row(struct req *r, struct db_stmt *st, struct currency_option *o)
{
	memset(o, 0, sizeof(*o));
	str_copy(o->currency, sizeof(o->currency), db_col_text(st, 0, NULL));
	o->has_unit_amount = !db_col_is_null(st, 1);
	o->unit_amount = db_col_int64(st, 1);
	o->unit_amount_decimal = col_text_dup(&r->arena, st, 2);
	o->tax_behavior = col_text_dup(&r->arena, st, 3);
	o->tiers = col_text_dup(&r->arena, st, 4);
	return o->unit_amount_decimal && o->tax_behavior ? DB_OK : DB_ERR;
}

/* Price `id`'s options, sorted by currency. DB_OK or < 0. */
static int currency_options_load(struct req *r, struct db *db, const char *id,
				 struct currency_options *out)
{
	memset(out, 0, sizeof(*out));
	struct db_stmt *st = db_prepare(db, SQL_CO_LIST);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	out->o = arena_alloc(&r->arena, CURRENCY_OPTIONS_MAX * sizeof(*out->o));
	int rc = out->o ? DB_ROW : DB_ERR;
	while (rc == DB_ROW && (rc = db_step(st)) == DB_ROW && out->n < CURRENCY_OPTIONS_MAX)
		if (co_row(r, st, &out->o[out->n++]) != DB_OK)
			rc = DB_ERR;
	db_reset(st);
	return rc == DB_DONE || rc == DB_ROW ? DB_OK : rc < 0 ? rc : DB_ERR;
}

/* Price `id`'s option in `currency`: DB_OK, DB_NOTFOUND, or < 0. */
static int currency_option_get(struct req *r, struct db *db, const char *id, const char *currency,
			       struct currency_option *o)
{
	struct db_stmt *st = db_prepare(db, SQL_CO_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	db_bind_text(st, 3, currency, -1);
	int rc = db_step(st);
	if (rc == DB_ROW)
		rc = co_row(r, st, o) == DB_OK ? DB_ROW : DB_ERR;
	db_reset(st);
	if (rc == DB_ROW)
		return DB_OK;
	return rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
}

/* Writes co for price `id` inside the caller's transaction: an update's options replace those
 * of the same currencies (all of them first when co->clear). DB_OK or < 0. */
static int currency_options_write(struct req *r, struct db *db, const char *id,
				  const struct currency_options *co)
{
	for (int i = -1; i < co->n; i++) {
		if (i < 0 && !co->clear)
			continue;
		struct db_stmt *st = db_prepare(db, SQL_CO_DELETE);
		if (!st)
			return DB_ERR;
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, id, -1);
		db_bind_text(st, 3, i < 0 ? NULL : co->o[i].currency, -1);
		int rc = db_step_done(st);
		if (rc != DB_OK)
			return rc;
	}
	for (int i = 0; i < co->n; i++) {
		const struct currency_option *o = &co->o[i];
		struct db_stmt *st = db_prepare(db, SQL_CO_INSERT);
		if (!st)
			return DB_ERR;
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, id, -1);
		db_bind_text(st, 3, o->currency, -1);
		if (o->has_unit_amount)
			db_bind_int64(st, 4, o->unit_amount);
		else
			db_bind_null(st, 4);
		db_bind_text(st, 5, o->unit_amount_decimal, -1);
		db_bind_text(st, 6, o->tax_behavior, -1);
		db_bind_text(st, 7, o->tiers, -1);
		db_bind_int64(st, 8, r->now);
		int rc = db_step_done(st);
		if (rc != DB_OK)
			return rc;
	}
	return DB_OK;
}

/* One option as the API shows it (a tiered price's with its tiers). */
static void currency_option_render(const struct currency_option *o, struct json *j)
{
	json_obj_open(j);
	if (o->custom_unit_amount) /* only the price's own: options take no custom amounts */
		json_kv_raw(j, "custom_unit_amount", o->custom_unit_amount,
			    strlen(o->custom_unit_amount));
	else
		json_kv_null(j, "custom_unit_amount");
	json_kv_str(j, "tax_behavior", o->tax_behavior);
	if (o->tiers)
		json_kv_raw(j, "tiers", o->tiers, strlen(o->tiers));
	if (o->has_unit_amount)
		json_kv_int(j, "unit_amount", o->unit_amount);
	else
		json_kv_null(j, "unit_amount");
	json_kv_str_or_null(j, "unit_amount_decimal",
			    o->tiers || !*o->unit_amount_decimal ? NULL : o->unit_amount_decimal);
	json_obj_close(j);
}

/* The price's own terms as its option in its own currency (Stripe lists that one too). */
static struct currency_option price_own_option(const struct price *p, bool tiered)
{
	struct currency_option o;
	memset(&o, 0, sizeof(o));
	str_copy(o.currency, sizeof(o.currency), p->currency);
	o.has_unit_amount = p->has_unit_amount;
	o.unit_amount = p->unit_amount;
	o.unit_amount_decimal = p->unit_amount_decimal ? p->unit_amount_decimal : "";
	o.tax_behavior = p->tax_behavior;
	o.tiers = tiered ? p->tiers : NULL;
	o.custom_unit_amount = p->custom_unit_amount;
	return o;
}

/* currency_options: {<currency>: option}, the price's own currency among them, by currency. */
static void currency_options_render(const struct price *p, bool tiered,
				    const struct currency_options *co, struct json *j)
{
	struct currency_option own = price_own_option(p, tiered);
	bool own_done = false;
	json_key(j, "currency_options");
	json_obj_open(j);
	for (int i = 0; i <= co->n; i++) {
		const struct currency_option *o = i < co->n ? &co->o[i] : NULL;
		if (!own_done && (!o || strcmp(own.currency, o->currency) < 0)) {
			json_key_n(j, own.currency, strlen(own.currency), false);
			currency_option_render(&own, j);
			own_done = true;
		}
		if (o) {
			json_key_n(j, o->currency, strlen(o->currency), false);
			currency_option_render(o, j);
		}
	}
	json_obj_close(j);
}

static int co_cmp(const void *a, const void *b)
{
	return strcmp(((const struct currency_option *)a)->currency,
		      ((const struct currency_option *)b)->currency);
}

/* The request's currency_options at `path` (dotted: "currency_options",
 * "default_price_data.currency_options"; `shown` its name in errors) for price p, whose
 * currency, billing_scheme, tiers_mode and tax_behavior are set: each key a currency other than
 * the price's own, with the price's kind of amount (unit_amount or unit_amount_decimal for a
 * per-unit price, tiers for a tiered one). old: the price's options before an update (NULL at
 * creation), whose tax_behavior, once inclusive or exclusive, stays. 0, or -1 with r->err. */
static int currency_options_terms(struct req *r, const char *path, const char *shown,
				  const struct price *p, const struct currency_options *old,
				  struct currency_options *out)
{
	memset(out, 0, sizeof(*out));
	const struct form_node *n = param_node(r, path);
	if (!n)
		return 0;
	if (n->kind == FORM_SCALAR) { /* "" (the params table allows it on update only) */
		out->clear = true;
		return 0;
	}
	out->o = arena_alloc(&r->arena, CURRENCY_OPTIONS_MAX * sizeof(*out->o));
	if (!out->o)
		return req_fail(r, ERR_API, NULL, NULL);
	/* a pay-what-you-want price's options would need custom amounts of their own, which
	 * Tender does not take (currency_option_children) */
	if (p->custom_unit_amount)
		return req_fail(r, ERR_PARAM_BAD, shown,
				"currency_options cannot be used with a price that has "
				"`custom_unit_amount`: Tender sells it in its own currency only.");
	bool tiered = price_tiered(p);
	enum tiers_mode m = TIERS_GRADUATED;
	if (tiered && tiers_mode_parse(p->tiers_mode, &m) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	for (const struct form_node *c = n->first_child; c && out->n < CURRENCY_OPTIONS_MAX;
	     c = c->next) {
		struct currency_option *o = &out->o[out->n];
		memset(o, 0, sizeof(*o));
		const char *at = arena_printf(&r->arena, "%s[%s]", shown, c->key);
		if (!at)
			return req_fail(r, ERR_API, NULL, NULL);
		for (size_t i = 0; i < c->key_len && i < sizeof(o->currency) - 1; i++)
			o->currency[i] =
			    (char)(c->key[i] >= 'A' && c->key[i] <= 'Z' ? c->key[i] - 'A' + 'a'
									: c->key[i]);
		if (c->key_len != 3 || !currency_find(o->currency))
			return req_fail(r, ERR_INVALID_CURRENCY, at, "Invalid currency: %s.",
					c->key);
		if (str_eq(o->currency, p->currency))
			return req_fail(r, ERR_PARAM_BAD, at,
					"`%s` is the price's own currency: currency_options takes "
					"the price's amounts in other currencies only.",
					o->currency);
		for (int k = 0; k < out->n; k++)
			if (str_eq(out->o[k].currency, o->currency))
				return req_fail(r, ERR_PARAM_BAD, at,
						"The currency `%s` is given more than once in %s.",
						o->currency, shown);
		const struct form_node *ua = form_get(c, "unit_amount");
		const struct form_node *ud = form_get(c, "unit_amount_decimal");
		const struct form_node *tn = form_get(c, "tiers");
		const char *sub = NULL;
		if (tiered) {
			if (ua || ud)
				return req_fail(
				    r, ERR_PARAM_BAD,
				    arena_printf(&r->arena, "%s[%s]", at,
						 ua ? "unit_amount" : "unit_amount_decimal"),
				    "A tiered price's currency options take `tiers`, not "
				    "a unit amount.");
			sub = arena_printf(&r->arena, "%s[tiers]", at);
			if (!sub || tiers_parse(r, tn, sub, m, &o->tiers) != 0)
				return r->err.set ? -1 : req_fail(r, ERR_API, NULL, NULL);
			o->unit_amount_decimal = "";
		} else if (tn) {
			return req_fail(r, ERR_PARAM_BAD, arena_printf(&r->arena, "%s[tiers]", at),
					"`tiers` can only be set when `billing_scheme` is "
					"`tiered`.");
		} else if (ua && ud) {
			return req_fail(
			    r, ERR_PARAM_BAD, arena_printf(&r->arena, "%s[unit_amount]", at),
			    "You may only specify one of these parameters: unit_amount, "
			    "unit_amount_decimal.");
		} else if (ua) {
			int64_t v;
			if (parse_i64(ua->value, &v) != 0 || v < 0 || v > UNIT_AMOUNT_MAX)
				return req_fail(
				    r, ERR_PARAM_BAD,
				    arena_printf(&r->arena, "%s[unit_amount]", at),
				    "Invalid integer: %s. unit_amount must be between 0 "
				    "and 99999999.",
				    ua->value);
			o->has_unit_amount = true;
			o->unit_amount = v;
			o->unit_amount_decimal = arena_printf(&r->arena, "%lld", (long long)v);
		} else if (ud) {
			struct price tmp;
			memset(&tmp, 0, sizeof(tmp));
			if (price_amount_decimal(
				r, arena_printf(&r->arena, "%s[unit_amount_decimal]", at),
				ud->value, &tmp) != 0)
				return -1;
			o->has_unit_amount = tmp.has_unit_amount;
			o->unit_amount = tmp.unit_amount;
			o->unit_amount_decimal = tmp.unit_amount_decimal;
		} else {
			sub = arena_printf(&r->arena, "%s[unit_amount]", at);
			return req_fail(r, ERR_PARAM_MISSING, sub, "%s", sub ? sub : "unit_amount");
		}
		if (!o->unit_amount_decimal)
			return req_fail(r, ERR_API, NULL, NULL);
		const struct form_node *tb = form_get(c, "tax_behavior");
		o->tax_behavior = tb ? tb->value : p->tax_behavior;
		for (int k = 0; old && k < old->n; k++) {
			const struct currency_option *was = &old->o[k];
			if (str_eq(was->currency, o->currency) && !tb)
				o->tax_behavior = was->tax_behavior;
			else if (str_eq(was->currency, o->currency) &&
				 !str_eq(was->tax_behavior, "unspecified") &&
				 !str_eq(was->tax_behavior, o->tax_behavior))
				return req_fail(r, ERR_PARAM_BAD,
						arena_printf(&r->arena, "%s[tax_behavior]", at),
						"tax_behavior cannot be changed once it is %s.",
						was->tax_behavior);
		}
		out->n++;
	}
	qsort(out->o, (size_t)out->n, sizeof(*out->o), co_cmp);
	return 0;
}

/* currency_options of p as the API shows it: the write's own (p->currency_options), else the
 * stored ones (nothing without a db: an event of a write that did not touch them). */
static int price_render_currency_options(struct req *r, struct db *db, const struct price *p,
					 struct json *j)
{
	struct currency_options loaded;
	const struct currency_options *co = p->currency_options;
	if (!co) {
		if (!db)
			return DB_OK;
		int rc = currency_options_load(r, db, p->id, &loaded);
		if (rc != DB_OK)
			return rc;
		co = &loaded;
	}
	currency_options_render(p, price_tiered(p), co, j);
	return DB_OK;
}

/* ---- products ---- */

/* A package dimension: a positive decimal number (inches, ounces) of at most 4 decimals, kept
 * as the text of a JSON number ("10", "2.5"; no exponent, no leading zeros). */
static bool dimension_ok(const char *s)
{
	const char *p = s;
	if (*p == '0' && p[1] != '.' && p[1] != '\0')
		return false;
	int whole = 0, frac = -1;
	bool nonzero = false;
	for (; *p; p++) {
		if (*p == '.') {
			if (frac >= 0 || whole == 0)
				return false;
			frac = 0;
		} else if (*p >= '0' && *p <= '9') {
			nonzero = nonzero || *p != '0';
			if (frac >= 0)
				frac++;
			else
				whole++;
		} else {
			return false;
		}
	}
	return whole > 0 && whole <= 12 && frac != 0 && frac <= 4 && nonzero;
}

/* tax_code, package_dimensions and marketing_features (or `features`, the spec's older name)
 * of a product create or update onto p ("" clears each). 0, or -1 with r->err. */
static int product_tax_params(struct req *r, struct product *p)
{
	const char *tc = param_str(r, "tax_code");
	if (tc) {
		if (*tc && !tax_code_find(tc))
			return req_fail_missing(r, "tax_code", tc, "tax_code");
		p->tax_code = *tc ? tc : NULL;
	}
	const struct form_node *pd = param_node(r, "package_dimensions");
	if (pd && pd->kind == FORM_SCALAR) {
		p->package_dimensions = NULL;
	} else if (pd) {
		static const char *const dims[] = {"height", "length", "weight", "width", NULL};
		struct buf b;
		struct json j;
		buf_init(&b, 4096);
		json_init(&j, &b);
		json_obj_open(&j);
		for (const char *const *d = dims; *d; d++) {
			const char *v =
			    param_str(r, arena_printf(&r->arena, "package_dimensions.%s", *d));
			if (!v || !dimension_ok(v)) {
				buf_release(&b);
				return req_fail(
				    r, ERR_PARAM_BAD,
				    arena_printf(&r->arena, "package_dimensions[%s]", *d),
				    "Invalid package_dimensions[%s]: a positive number of "
				    "at most 4 decimals.",
				    *d);
			}
			json_kv_raw(&j, *d, v, strlen(v));
		}
		json_obj_close(&j);
		p->package_dimensions = b.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&b));
		buf_release(&b);
		if (!p->package_dimensions)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	if (param_present(r, "marketing_features") && param_present(r, "features"))
		return req_fail(r, ERR_PARAM_BAD, "features",
				"You cannot pass both features and marketing_features.");
	const char *mname = param_present(r, "features") ? "features" : "marketing_features";
	const struct form_node *mf = param_node(r, mname);
	if (mf && mf->kind == FORM_SCALAR) {
		p->marketing_features = NULL;
	} else if (mf) {
		struct buf b;
		struct json j;
		buf_init(&b, 64 * 1024);
		json_init(&j, &b);
		json_arr_open(&j);
		for (const struct form_node *it = mf->first_child; it; it = it->next) {
			const char *name =
			    param_str(r, arena_printf(&r->arena, "%s.%s.name", mname, it->key));
			json_obj_open(&j);
			json_kv_str(&j, "name", name ? name : "");
			json_obj_close(&j);
		}
		json_arr_close(&j);
		p->marketing_features = b.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&b));
		buf_release(&b);
		if (!p->marketing_features)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	return 0;
}

static int apply_product(struct req *r, struct product *p)
{
	const char *name = param_str(r, "name");
	if (name) {
		if (!*name)
			return req_fail(r, ERR_PARAM_BAD, "name", "%s",
					"A product's name cannot be empty.");
		p->name = name;
	}
	param_bool(r, "active", &p->active);
	bool ship;
	if (param_bool(r, "shippable", &ship) == 1)
		p->shippable = ship;
	p->description = str_update(r, "description", p->description);
	p->url = str_update(r, "url", p->url);
	p->unit_label = str_update(r, "unit_label", p->unit_label);
	p->statement_descriptor = str_update(r, "statement_descriptor", p->statement_descriptor);
	if (string_array_json(r, "images", &p->images) != 0 || product_tax_params(r, p) != 0)
		return -1;
	const struct form_node *im = param_node(r, "images");
	if (im && im->kind != FORM_SCALAR) {
		int n = 0;
		for (const struct form_node *x = im->first_child; x; x = x->next)
			n++;
		if (n > 8)
			return req_fail(r, ERR_PARAM_BAD, "images", "%s",
					"A product can have at most 8 images.");
	}
	return metadata_apply(r, p->metadata, "metadata", &p->metadata);
}

struct product_ctx {
	struct req *r;
	struct product p;
	const char *id;
	struct price dp; /* default_price_data */
	bool has_dp;
	struct currency_options dp_co; /* default_price_data[currency_options] */
};

static int product_create_fn(struct db *db, void *arg)
{
	struct product_ctx *c = arg;
	struct req *r = c->r;
	int wrc = product_write(r, db, &c->p, true);
	if (wrc == DB_CONSTRAINT) /* the merchant's own id, taken (a deleted product's too) */
		return req_fail(r, ERR_RESOURCE_EXISTS, "id", "Product already exists.");
	if (wrc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (product_emit(r, db, &c->p, "product.created", NULL) != 0)
		return -1;
	if (c->has_dp && (price_insert(r, db, &c->dp) != DB_OK ||
			  currency_options_write(r, db, c->dp.id, &c->dp_co) != DB_OK ||
			  price_emit(r, db, &c->dp, "price.created", NULL) != 0))
		return r->err.set ? -1 : req_fail(r, ERR_API, NULL, NULL);
	product_render(r, &c->p, req_json(r));
	return 0;
}

static int h_product_create(struct req *r)
{
	struct product_ctx c = {.r = r};
	struct product *p = &c.p;
	/* Stripe lets the merchant choose a product's id ("gold-plan"): letters, digits, '-', '_'
	 * (it appears in URLs). Lists page by list_key, which is time-ordered either way. */
	if (own_id_or_key(r, "id", "id", "product", "prod_", p->id, p->list_key) != 0)
		return -1;
	p->created = p->updated = r->now;
	p->active = true;
	p->shippable = -1;
	p->images = "[]";
	p->metadata = "{}";
	if (apply_product(r, p) != 0)
		return -1;
	if (param_present(r, "default_price_data")) {
		struct price *dp = &c.dp;
		if (price_terms(r, "default_price_data.", "default_price_data", dp) != 0)
			return -1;
		id_new_at(dp->id, "price_", r->now);
		dp->created = r->now;
		dp->active = true;
		dp->product = p->id;
		dp->metadata = "{}";
		if (currency_options_terms(r, "default_price_data.currency_options",
					   "default_price_data[currency_options]", dp, NULL,
					   &c.dp_co) != 0)
			return -1;
		if (c.dp_co.n > 0)
			dp->currency_options = &c.dp_co;
		p->default_price = dp->id;
		c.has_dp = true;
	}
	return req_write(r, product_create_fn, &c);
}

static int product_missing(struct req *r, const char *id)
{
	return req_fail_missing(r, "product", id, "id");
}

static int product_retrieve_fn(struct db *db, void *arg)
{
	struct product_ctx *c = arg;
	struct req *r = c->r;
	int rc = product_load(r, db, c->id, &c->p);
	if (rc == DB_NOTFOUND || (rc == DB_OK && c->p.deleted))
		return product_missing(r, c->id);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	product_render(r, &c->p, req_json(r));
	return 0;
}

static int h_product_retrieve(struct req *r)
{
	struct product_ctx c = {.r = r, .id = r->args[0]};
	return req_read(r, product_retrieve_fn, &c) == 0 ? 0 : -1;
}

/* previous_attributes of a product update: the old value of each field that changed. */
static const char *product_prev(struct req *r, const struct product *o, const struct product *n)
{
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 20);
	json_init(&j, &b);
	json_obj_open(&j);
#define CHANGED(f) ((o->f == NULL) != (n->f == NULL) || (o->f && n->f && strcmp(o->f, n->f) != 0))
	if (o->active != n->active)
		json_kv_bool(&j, "active", o->active);
	if (CHANGED(default_price))
		json_kv_str_or_null(&j, "default_price", o->default_price);
	if (CHANGED(description))
		json_kv_str_or_null(&j, "description", o->description);
	if (CHANGED(images))
		json_kv_raw(&j, "images", o->images, strlen(o->images));
	if (CHANGED(metadata))
		json_kv_raw(&j, "metadata", o->metadata, strlen(o->metadata));
	if (CHANGED(name))
		json_kv_str(&j, "name", o->name);
	if (o->shippable != n->shippable) {
		if (o->shippable < 0)
			json_kv_null(&j, "shippable");
		else
			json_kv_bool(&j, "shippable", o->shippable != 0);
	}
	if (CHANGED(statement_descriptor))
		json_kv_str_or_null(&j, "statement_descriptor", o->statement_descriptor);
	if (CHANGED(tax_code))
		json_kv_str_or_null(&j, "tax_code", o->tax_code);
	if (CHANGED(package_dimensions))
		json_kv_raw_or_null(&j, "package_dimensions", o->package_dimensions);
	if (CHANGED(marketing_features)) {
		const char *mf = o->marketing_features ? o->marketing_features : "[]";
		json_kv_raw(&j, "features", mf, strlen(mf));
		json_kv_raw(&j, "marketing_features", mf, strlen(mf));
	}
	if (CHANGED(unit_label))
		json_kv_str_or_null(&j, "unit_label", o->unit_label);
	if (CHANGED(url))
		json_kv_str_or_null(&j, "url", o->url);
#undef CHANGED
	json_obj_close(&j);
	const char *s = b.failed ? "{}" : arena_strdup(&r->arena, buf_cstr(&b));
	buf_release(&b);
	return s ? s : "{}";
}

static int product_update_fn(struct db *db, void *arg)
{
	struct product_ctx *c = arg;
	struct req *r = c->r;
	struct product old;
	int rc = product_load(r, db, c->id, &old);
	if (rc == DB_NOTFOUND || (rc == DB_OK && old.deleted))
		return product_missing(r, c->id);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	struct product *p = &c->p;
	*p = old;
	if (apply_product(r, p) != 0)
		return -1;
	const char *dp = param_str(r, "default_price");
	if (dp) {
		if (*dp) {
			struct price pr;
			rc = price_load(r, db, dp, &pr);
			if (rc == DB_NOTFOUND)
				return req_fail_missing(r, "price", dp, "default_price");
			if (rc != DB_OK)
				return req_fail(r, ERR_API, NULL, NULL);
			if (strcmp(pr.product, p->id) != 0)
				return req_fail(r, ERR_PARAM_BAD, "default_price",
						"The price `%s` belongs to another product; a "
						"product's default price must be one of its own.",
						dp);
			if (!pr.active)
				return req_fail(r, ERR_PARAM_BAD, "default_price",
						"The price `%s` is not active.", dp);
		}
		p->default_price = *dp ? dp : NULL;
	}
	p->updated = r->now;
	if (product_write(r, db, p, false) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (product_emit(r, db, p, "product.updated", product_prev(r, &old, p)) != 0)
		return -1;
	product_render(r, p, req_json(r));
	return 0;
}

static int h_product_update(struct req *r)
{
	struct product_ctx c = {.r = r, .id = r->args[0]};
	return req_write(r, product_update_fn, &c);
}

static const char SQL_PRODUCT_HAS_PRICE[] =
    "SELECT 1 FROM prices WHERE merchant_id = $1 AND product = $2 LIMIT 1";

static int product_delete_fn(struct db *db, void *arg)
{
	struct product_ctx *c = arg;
	struct req *r = c->r;
	struct product *p = &c->p;
	int rc = product_load(r, db, c->id, p);
	if (rc == DB_NOTFOUND || (rc == DB_OK && p->deleted))
		return product_missing(r, c->id);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	struct db_stmt *st = db_prepare(db, SQL_PRODUCT_HAS_PRICE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, p->id, -1);
	bool has_price = db_step(st) == DB_ROW;
	db_reset(st);
	if (has_price)
		return req_fail(r, ERR_PARAM_BAD, NULL, "%s",
				"This product cannot be deleted because it has one or more prices. "
				"Archive it instead (active=false).");
	/* the event carries the product as it was; the response is the deleted stub */
	if (product_emit(r, db, p, "product.deleted", NULL) != 0)
		return -1;
	p->deleted = true;
	p->updated = r->now;
	if (product_write(r, db, p, false) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	product_render(r, p, req_json(r));
	return 0;
}

static int h_product_delete(struct req *r)
{
	struct product_ctx c = {.r = r, .id = r->args[0]};
	return req_write(r, product_delete_fn, &c);
}

/* by list_key (list.h): a product's id may be the merchant's own */
static const char SQL_PRODUCT_CURSOR[] =
    "SELECT list_key FROM products WHERE merchant_id = $1 AND id = $2";
static const char SQL_PRODUCT_DESC[] =
    "SELECT id FROM products WHERE merchant_id = $1 AND deleted = 0 AND list_key > $2"
    " AND list_key < $3 AND ($5 IS NULL OR active = $5) AND ($6 IS NULL OR shippable = $6)"
    " AND ($7 IS NULL OR url = $7) AND ($8 IS NULL OR replace($8, ',' || id || ',', '') <> $8)"
    " ORDER BY list_key DESC LIMIT $4";
static const char SQL_PRODUCT_ASC[] =
    "SELECT id FROM products WHERE merchant_id = $1 AND deleted = 0 AND list_key > $2"
    " AND list_key < $3 AND ($5 IS NULL OR active = $5) AND ($6 IS NULL OR shippable = $6)"
    " AND ($7 IS NULL OR url = $7) AND ($8 IS NULL OR replace($8, ',' || id || ',', '') <> $8)"
    " ORDER BY list_key ASC LIMIT $4";

static int product_list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	list_bind_bool(r, st, first, "active");
	list_bind_bool(r, st, first + 1, "shippable");
	list_bind_filter(r, st, first + 2, "url");
	/* ids[]: ",id1,id2," (a product's id is letters, digits, '-' and '_': an id with any
	 * other byte names no product and is left out, so the list never matches across it) */
	const struct form_node *ids = param_node(r, "ids");
	if (!ids || ids->kind != FORM_ARRAY)
		return db_bind_null(st, first + 3) == DB_OK ? 0 : -1;
	struct buf b;
	buf_init(&b, 1u << 20);
	buf_putc(&b, ',');
	for (const struct form_node *c = ids->first_child; c; c = c->next) {
		if (c->kind == FORM_SCALAR && c->value_len && str_is_own_id(c->value)) {
			buf_puts(&b, c->value);
			buf_putc(&b, ',');
		}
	}
	int rc = b.failed							  ? -1
		 : db_bind_text(st, first + 3, b.data, (ptrdiff_t)b.len) == DB_OK ? 0
										  : -1;
	buf_release(&b);
	return rc;
}

static int product_render_by_id(struct req *r, struct db *db, const char *id, struct json *j)
{
	struct product p;
	int rc = product_load(r, db, id, &p);
	if (rc == DB_OK && p.deleted)
		return DB_NOTFOUND;
	if (rc == DB_OK)
		product_render(r, &p, j);
	return rc;
}

static int product_list_render(struct req *r, struct db *db, const char *id, struct json *j,
			       void *ctx)
{
	(void)ctx;
	return product_render_by_id(r, db, id, j);
}

static int h_product_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/products",
	    .object_name = "product",
	    .id_prefix = "prod_",
	    .sql_cursor = SQL_PRODUCT_CURSOR,
	    .sql_desc = SQL_PRODUCT_DESC,
	    .sql_asc = SQL_PRODUCT_ASC,
	    .keyed = true,
	    .bind_filters = product_list_bind,
	    .render = product_list_render,
	};
	/* Stripe: ids "cannot be used with starting_after or ending_before" */
	if (param_node(r, "ids")) {
		const char *cursor = param_str(r, "starting_after");
		const char *cursor_param = "starting_after";
		if (!cursor || !*cursor) {
			cursor = param_str(r, "ending_before");
			cursor_param = "ending_before";
		}
		if (cursor && *cursor)
			return req_fail(
			    r, ERR_PARAM_BAD, cursor_param, "%s",
			    "You cannot use `ids` with `starting_after` or `ending_before`.");
	}
	return list_respond(r, &spec);
}

/* Stripe's search fields for products: active, created, description, metadata, name,
 * shippable, url. */
static const char SQL_PRODUCT_SEARCH[] =
    "SELECT list_key, active, created, description, metadata, name, shippable, url, id"
    " FROM products WHERE merchant_id = $1 AND deleted = 0 AND list_key > $2"
    " AND list_key < $3 AND ($5 IS NULL OR name = $5) ORDER BY list_key DESC LIMIT $4";
static const struct search_field product_search_fields[] = {
    {"active", SEARCH_BOOL, false, 1, NULL},	   {"created", SEARCH_NUMBER, false, 2, NULL},
    {"description", SEARCH_STRING, true, 3, NULL}, {"metadata", SEARCH_METADATA, false, 4, NULL},
    {"name", SEARCH_STRING, true, 5, NULL},	   {"shippable", SEARCH_BOOL, false, 6, NULL},
    {"url", SEARCH_STRING, false, 7, NULL},	   {NULL, 0, false, 0, NULL},
};

static int h_product_search(struct req *r)
{
	static const struct search_spec spec = {
	    .url = "/v1/products/search",
	    .resource = "products",
	    .id_prefix = "prod_",
	    .fields = product_search_fields,
	    .sql_scan = SQL_PRODUCT_SEARCH,
	    .prefilter = NULL,
	    .render = product_render_by_id,
	    .id_col = 8,
	};
	return search_respond(r, &spec);
}

/* ---- prices ---- */

struct price_ctx {
	struct req *r;
	struct price p;
	const char *id;
	struct product np; /* product_data: the product made with the price */
	bool has_np;
	struct currency_options co, old_co; /* currency_options given; an update's before */
};

static int price_create_fn(struct db *db, void *arg)
{
	struct price_ctx *c = arg;
	struct req *r = c->r;
	struct price *p = &c->p;
	if (c->has_np) {
		if (product_write(r, db, &c->np, true) != DB_OK)
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
			return req_fail_missing(r, "billing.meter", p->meter, "recurring[meter]");
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	if (claim_lookup_key(r, db, p) != 0)
		return -1;
	if (price_insert(r, db, p) != DB_OK ||
	    currency_options_write(r, db, p->id, &c->co) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (price_emit(r, db, p, "price.created", NULL) != 0)
		return -1;
	return price_respond(r, db, p);
}

static int h_price_create(struct req *r)
{
	struct price_ctx c = {.r = r};
	struct price *p = &c.p;
	const char *product = param_str(r, "product");
	bool has_data = param_present(r, "product_data");
	if ((product && *product) == has_data)
		return req_fail(r, ERR_PARAM_BAD, has_data ? "product_data" : "product",
				"Exactly one of product and product_data is required.");
	if (price_terms(r, "", "", p) != 0)
		return -1;
	id_new_at(p->id, "price_", r->now);
	p->created = r->now;
	p->active = true;
	param_bool(r, "active", &p->active);
	p->nickname = param_str(r, "nickname");
	p->lookup_key = param_str(r, "lookup_key");
	if (p->lookup_key && !*p->lookup_key)
		p->lookup_key = NULL;
	p->metadata = "{}";
	if (metadata_apply(r, NULL, "metadata", &p->metadata) != 0)
		return -1;
	if (currency_options_terms(r, "currency_options", "currency_options", p, NULL, &c.co) != 0)
		return -1;
	if (c.co.n > 0)
		p->currency_options = &c.co;
	if (has_data) {
		struct product *np = &c.np;
		id_new_at(np->id, "prod_", r->now);
		np->created = np->updated = r->now;
		np->active = true;
		param_bool(r, "product_data.active", &np->active);
		np->shippable = -1;
		np->images = "[]";
		np->name = param_str(r, "product_data.name");
		np->statement_descriptor = param_str(r, "product_data.statement_descriptor");
		np->unit_label = param_str(r, "product_data.unit_label");
		np->metadata = "{}";
		if (metadata_apply(r, NULL, "product_data.metadata", &np->metadata) != 0)
			return -1;
		c.has_np = true;
		p->product = np->id;
	} else {
		p->product = product;
	}
	return req_write(r, price_create_fn, &c);
}

static int price_retrieve_fn(struct db *db, void *arg)
{
	struct price_ctx *c = arg;
	struct req *r = c->r;
	int rc = price_load(r, db, c->id, &c->p);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "price", c->id, "price");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return price_respond(r, db, &c->p);
}

static int h_price_retrieve(struct req *r)
{
	struct price_ctx c = {.r = r, .id = r->args[0]};
	return req_read(r, price_retrieve_fn, &c) == 0 ? 0 : -1;
}

static int price_update_fn(struct db *db, void *arg)
{
	struct price_ctx *c = arg;
	struct req *r = c->r;
	struct price old;
	int rc = price_load(r, db, c->id, &old);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "price", c->id, "price");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	struct price *p = &c->p;
	*p = old;
	param_bool(r, "active", &p->active);
	p->nickname = str_update(r, "nickname", p->nickname);
	p->lookup_key = str_update(r, "lookup_key", p->lookup_key);
	const char *tb = param_str(r, "tax_behavior");
	if (tb && strcmp(tb, old.tax_behavior) != 0) {
		/* as on Stripe: set once, from unspecified */
		if (strcmp(old.tax_behavior, "unspecified") != 0)
			return req_fail(r, ERR_PARAM_BAD, "tax_behavior",
					"tax_behavior cannot be changed once it is %s.",
					old.tax_behavior);
		p->tax_behavior = tb;
	}
	if (metadata_apply(r, p->metadata, "metadata", &p->metadata) != 0)
		return -1;
	bool co_given = param_present(r, "currency_options");
	if (co_given) {
		/* the options given replace those of their currencies; "" removes them all */
		if (currency_options_load(r, db, p->id, &c->old_co) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (currency_options_terms(r, "currency_options", "currency_options", p, &c->old_co,
					   &c->co) != 0)
			return -1;
	}
	if (claim_lookup_key(r, db, p) != 0)
		return -1;
	if (price_update(r, db, p) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	struct currency_options now_co;
	if (co_given) {
		if (currency_options_write(r, db, p->id, &c->co) != DB_OK ||
		    currency_options_load(r, db, p->id, &now_co) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		p->currency_options = &now_co;
	}
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 20);
	json_init(&j, &b);
	json_obj_open(&j);
#define CHANGED(f)                                                                                 \
	((old.f == NULL) != (p->f == NULL) || (old.f && p->f && strcmp(old.f, p->f) != 0))
	if (old.active != p->active)
		json_kv_bool(&j, "active", old.active);
	if (CHANGED(lookup_key))
		json_kv_str_or_null(&j, "lookup_key", old.lookup_key);
	if (CHANGED(metadata))
		json_kv_raw(&j, "metadata", old.metadata, strlen(old.metadata));
	if (CHANGED(nickname))
		json_kv_str_or_null(&j, "nickname", old.nickname);
	if (CHANGED(tax_behavior))
		json_kv_str(&j, "tax_behavior", old.tax_behavior);
	if (co_given)
		currency_options_render(&old, price_tiered(&old), &c->old_co, &j);
#undef CHANGED
	json_obj_close(&j);
	const char *prev = b.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&b));
	buf_release(&b);
	if (!prev || price_emit(r, db, p, "price.updated", prev) != 0)
		return r->err.set ? -1 : req_fail(r, ERR_API, NULL, NULL);
	return price_respond(r, db, p);
}

static int h_price_update(struct req *r)
{
	struct price_ctx c = {.r = r, .id = r->args[0]};
	return req_write(r, price_update_fn, &c);
}

#define LOOKUP_KEYS_MAX 10
/* by list_key (list.h): a plan's id, and so its price's, may be the merchant's own */
static const char SQL_PRICE_CURSOR[] =
    "SELECT list_key FROM prices WHERE merchant_id = $1 AND id = $2";
#define PRICE_LIST_WHERE                                                                           \
	"SELECT id FROM prices WHERE merchant_id = $1 AND list_key > $2 AND list_key < $3"         \
	" AND ($5 IS NULL OR active = $5) AND ($6 IS NULL OR currency = $6)"                       \
	" AND ($7 IS NULL OR product = $7) AND ($8 IS NULL OR type = $8)"                          \
	" AND ($9 IS NULL OR recurring_interval = $9) AND ($10 IS NULL OR recurring_usage_type = " \
	"$10) AND ($11 IS NULL OR lookup_key IN ($11, $12, $13, $14, $15, $16, $17, $18, $19,"     \
	" $20))"
static const char SQL_PRICE_DESC[] = PRICE_LIST_WHERE " ORDER BY list_key DESC LIMIT $4";
static const char SQL_PRICE_ASC[] = PRICE_LIST_WHERE " ORDER BY list_key ASC LIMIT $4";

static int price_list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	list_bind_bool(r, st, first, "active");
	char cur[8] = "";
	const char *c = param_str(r, "currency");
	for (int i = 0; c && c[i] && i < 7; i++)
		cur[i] = (char)(c[i] >= 'A' && c[i] <= 'Z' ? c[i] - 'A' + 'a' : c[i]);
	db_bind_text(st, first + 1, cur[0] ? cur : NULL, -1);
	list_bind_filter(r, st, first + 2, "product");
	db_bind_text(st, first + 3, param_str(r, "type"), -1);
	db_bind_text(st, first + 4, param_str(r, "recurring.interval"), -1);
	db_bind_text(st, first + 5, param_str(r, "recurring.usage_type"), -1);
	/* lookup_keys[]: up to ten, in the ten slots of the IN list (the unused ones NULL) */
	const struct form_node *lk = param_node(r, "lookup_keys");
	int n = 0;
	if (lk) {
		for (const struct form_node *x = lk->kind == FORM_SCALAR ? lk : lk->first_child; x;
		     x = lk->kind == FORM_SCALAR ? NULL : x->next) {
			if (n == LOOKUP_KEYS_MAX)
				return req_fail(r, ERR_PARAM_BAD, "lookup_keys",
						"At most %d lookup_keys can be given.",
						LOOKUP_KEYS_MAX);
			db_bind_text(st, first + 6 + n, x->value, -1);
			n++;
		}
	}
	for (; n < LOOKUP_KEYS_MAX; n++)
		db_bind_null(st, first + 6 + n);
	return 0;
}

/* The recurring terms and the plan fields of price_facts (strings stay p's, in r's arena). */
static void price_facts_terms(const struct price *p, struct price_facts *out)
{
	str_copy(out->interval, sizeof(out->interval), p->interval);
	out->interval_count = p->interval ? p->interval_count : 0;
	out->usage_type = p->usage_type;
	out->meter = p->meter;
	out->aggregate_usage = price_aggregate_usage(p);
	out->created = p->created;
	out->product = p->product;
	out->nickname = p->nickname;
	out->unit_amount_decimal = p->unit_amount_decimal;
	out->trial_period_days = p->has_trial ? p->trial_period_days : -1;
	out->transform = p->transform;
}

/* A stored tiers array (price_tiers_terms wrote it) into r's arena. 0, or -1. */
static int tiers_from_json(struct req *r, const char *mode, const char *text,
			   const struct tiers **ret)
{
	enum tiers_mode m;
	if (tiers_mode_parse(mode, &m) != 0)
		return -1;
	json_t *a = json_loads(text, 0, NULL);
	size_t n = a && json_is_array(a) ? json_array_size(a) : 0;
	struct tier *t = n >= 1 && n <= TIERS_MAX ? arena_alloc(&r->arena, n * sizeof(*t)) : NULL;
	struct tiers *ts = t ? arena_alloc(&r->arena, sizeof(*ts)) : NULL;
	int rc = ts ? 0 : -1;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		json_t *x = json_array_get(a, i);
		json_t *up = json_object_get(x, "up_to");
		const char *ud = json_string_value(json_object_get(x, "unit_amount_decimal"));
		const char *fd = json_string_value(json_object_get(x, "flat_amount_decimal"));
		memset(&t[i], 0, sizeof(t[i]));
		t[i].up_to = json_is_integer(up) ? json_integer_value(up) : TIER_UP_TO_INF;
		if ((ud && tiers_decimal_parse(ud, &t[i].unit_whole, &t[i].unit_frac) != 0) ||
		    (fd && tiers_decimal_parse(fd, &t[i].flat_whole, &t[i].flat_frac) != 0))
			rc = -1;
	}
	json_decref(a);
	if (rc != 0)
		return -1;
	*ts = (struct tiers){m, (int)n, t};
	int idx, why;
	if (tiers_check(ts, &idx, &why) != 0)
		return -1;
	*ret = ts;
	return 0;
}

/* A stored custom_unit_amount (custom_unit_amount_terms wrote it) into out's custom fields
 * (none: not custom). 0, or -1. */
static int price_custom_facts(const struct price *p, struct price_facts *out)
{
	out->custom = false;
	out->custom_minimum = out->custom_maximum = out->custom_preset = -1;
	if (!p->custom_unit_amount)
		return 0;
	json_t *o = json_loads(p->custom_unit_amount, 0, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return -1;
	}
	json_t *mn = json_object_get(o, "minimum"), *mx = json_object_get(o, "maximum");
	json_t *ps = json_object_get(o, "preset");
	out->custom = true;
	out->custom_minimum = json_is_integer(mn) ? json_integer_value(mn) : -1;
	out->custom_maximum = json_is_integer(mx) ? json_integer_value(mx) : -1;
	out->custom_preset = json_is_integer(ps) ? json_integer_value(ps) : -1;
	json_decref(o);
	return 0;
}

int price_facts_fixed(struct req *r, const struct price_facts *pf, const char *price,
		      const char *param)
{
	if (!pf->custom)
		return 0;
	return req_fail(
	    r, ERR_PARAM_BAD, param,
	    "The price specified (%s) has a `custom_unit_amount`: the customer chooses "
	    "its amount, so it can only be used in Checkout Sessions and Payment Links, "
	    "not where a fixed amount is needed.",
	    price);
}

int price_facts_amount(const struct price_facts *pf, int64_t quantity, int64_t *ret)
{
	if (pf->custom) /* the customer's to choose: no amount here (price_facts_fixed) */
		return -1;
	/* a transformed price bills the quantity divided and rounded (billing/transform.h) */
	if (qty_transform_apply(&pf->transform, quantity, &quantity) != 0)
		return -1;
	if (pf->tiers)
		return tiers_amount(pf->tiers, quantity, ret);
	if (!pf->has_unit_amount) { /* a sub-cent decimal: exact, rounded once (tiers.h) */
		int64_t whole, frac;
		if (tiers_decimal_parse(pf->unit_amount_decimal, &whole, &frac) != 0)
			return -1;
		return tiers_decimal_amount(whole, frac, quantity, ret);
	}
	int64_t v;
	if (quantity < 0 || __builtin_mul_overflow(pf->unit_amount, quantity, &v))
		return -1;
	*ret = v;
	return 0;
}

int price_facts_get(struct req *r, struct db *db, const char *id, struct price_facts *out)
{
	struct price p;
	int rc = price_load(r, db, id, &p);
	if (rc != DB_OK)
		return rc;
	memset(out, 0, sizeof(*out));
	out->active = p.active;
	out->has_unit_amount = p.has_unit_amount;
	out->unit_amount = p.unit_amount;
	str_copy(out->currency, sizeof(out->currency), p.currency);
	out->recurring = p.interval != NULL;
	price_facts_terms(&p, out);
	if (price_tiered(&p) && tiers_from_json(r, p.tiers_mode, p.tiers, &out->tiers) != 0)
		return DB_ERR;
	if (price_custom_facts(&p, out) != 0)
		return DB_ERR;
	struct product prod;
	rc = product_load(r, db, p.product, &prod);
	if (rc != DB_OK)
		return rc == DB_NOTFOUND ? DB_ERR : rc;
	out->product_name = prod.name;
	out->product_active = prod.active && !prod.deleted;
	return DB_OK;
}

int price_facts_in(struct req *r, struct db *db, const char *id, const char *currency,
		   struct price_facts *out)
{
	int rc = price_facts_get(r, db, id, out);
	if (rc != DB_OK || !currency || !*currency || str_eq(currency, out->currency))
		return rc;
	struct currency_option o;
	rc = currency_option_get(r, db, id, currency, &o);
	if (rc == DB_NOTFOUND)
		return DB_OK; /* out stays in the price's own currency: the caller refuses it */
	if (rc != DB_OK)
		return rc;
	str_copy(out->currency, sizeof(out->currency), o.currency);
	out->has_unit_amount = o.has_unit_amount;
	out->unit_amount = o.unit_amount;
	out->unit_amount_decimal = o.unit_amount_decimal;
	out->tiers = NULL;
	if (o.tiers) {
		struct price p;
		if (price_load(r, db, id, &p) != DB_OK ||
		    tiers_from_json(r, p.tiers_mode, o.tiers, &out->tiers) != 0)
			return DB_ERR;
	}
	return DB_OK;
}

int price_create_inline(struct req *r, struct db *db, const char *prefix, const char *shown,
			struct price_facts *out, char ret_id[ID_MAX])
{
	struct price p;
	memset(&p, 0, sizeof(p));
	if (price_terms(r, prefix, shown, &p) != 0)
		return -1;
	char path[160], shown_path[160];
	snprintf(path, sizeof(path), "%sproduct", prefix);
	const char *product = param_str(r, path);
	snprintf(path, sizeof(path), "%sproduct_data.name", prefix);
	const char *name = param_str(r, path);
	if ((product && *product) == (name != NULL))
		return req_fail(r, ERR_PARAM_BAD,
				shown_name(shown_path, sizeof(shown_path), shown,
					   name ? "product_data" : "product"),
				"Exactly one of product and product_data is required.");
	struct product prod;
	if (product && *product) {
		int rc = product_load(r, db, product, &prod);
		if (rc == DB_NOTFOUND || (rc == DB_OK && prod.deleted))
			return req_fail_missing(
			    r, "product", product,
			    shown_name(shown_path, sizeof(shown_path), shown, "product"));
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
	} else {
		memset(&prod, 0, sizeof(prod));
		id_new_at(prod.id, "prod_", r->now);
		prod.created = prod.updated = r->now;
		prod.active = true;
		prod.shippable = -1;
		prod.images = "[]";
		prod.name = name;
		snprintf(path, sizeof(path), "%sproduct_data.description", prefix);
		prod.description = param_str(r, path);
		prod.metadata = "{}";
		snprintf(path, sizeof(path), "%sproduct_data.metadata", prefix);
		if (metadata_apply(r, NULL, path, &prod.metadata) != 0)
			return -1;
		if (product_write(r, db, &prod, true) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (product_emit(r, db, &prod, "product.created", NULL) != 0)
			return -1;
	}
	/* Stripe keeps a price made from price_data out of the way: inactive, used where made */
	id_new_at(p.id, "price_", r->now);
	p.created = r->now;
	p.active = false;
	p.product = arena_strdup(&r->arena, prod.id);
	p.metadata = "{}";
	if (!p.product || price_insert(r, db, &p) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (price_emit(r, db, &p, "price.created", NULL) != 0)
		return -1;
	memset(out, 0, sizeof(*out));
	out->active = true;
	out->product_active = prod.active;
	out->has_unit_amount = p.has_unit_amount;
	out->unit_amount = p.unit_amount;
	str_copy(out->currency, sizeof(out->currency), p.currency);
	out->recurring = p.interval != NULL;
	price_facts_terms(&p, out);
	out->product_name = prod.name ? arena_strdup(&r->arena, prod.name) : NULL;
	str_copy(ret_id, ID_MAX, p.id);
	return 0;
}

int price_render_id(struct req *r, struct db *db, const char *id, struct json *j)
{
	struct price p;
	int rc = price_load(r, db, id, &p);
	if (rc != DB_OK)
		return rc;
	return price_render(r, db, &p, 0, j);
}

static int price_render_by_id(struct req *r, struct db *db, const char *id, struct json *j)
{
	struct price p;
	int rc = price_load(r, db, id, &p);
	if (rc != DB_OK)
		return rc;
	unsigned expand =
	    (req_expand_has(r, "data.product") ? EXPAND_PRODUCT : 0) |
	    (req_expand_has(r, "data.tiers") ? EXPAND_TIERS : 0) |
	    (req_expand_has(r, "data.currency_options") ? EXPAND_CURRENCY_OPTIONS : 0);
	return price_render(r, db, &p, expand, j);
}

static int price_list_render(struct req *r, struct db *db, const char *id, struct json *j,
			     void *ctx)
{
	(void)ctx;
	return price_render_by_id(r, db, id, j);
}

static int h_price_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/prices",
	    .object_name = "price",
	    .id_prefix = "price_",
	    .sql_cursor = SQL_PRICE_CURSOR,
	    .sql_desc = SQL_PRICE_DESC,
	    .sql_asc = SQL_PRICE_ASC,
	    .bind_filters = price_list_bind,
	    .keyed = true,
	    .render = price_list_render,
	};
	return list_respond(r, &spec);
}

/* Stripe's search fields for prices: active, currency, lookup_key, metadata, product, type. An
 * exact product narrows the scan to that product's prices. */
static const char SQL_PRICE_SEARCH[] =
    "SELECT list_key, active, currency, lookup_key, metadata, product, type, id FROM prices"
    " WHERE merchant_id = $1 AND list_key > $2 AND list_key < $3"
    " AND ($5 IS NULL OR product = $5) ORDER BY list_key DESC LIMIT $4";
static const struct search_field price_search_fields[] = {
    {"active", SEARCH_BOOL, false, 1, NULL},
    {"currency", SEARCH_STRING, false, 2, NULL},
    {"lookup_key", SEARCH_STRING, false, 3, NULL},
    {"metadata", SEARCH_METADATA, false, 4, NULL},
    {"product", SEARCH_STRING, false, 5, NULL},
    {"type", SEARCH_STRING, false, 6, NULL},
    {NULL, 0, false, 0, NULL},
};

static int h_price_search(struct req *r)
{
	static const struct search_spec spec = {
	    .url = "/v1/prices/search",
	    .resource = "prices",
	    .id_prefix = "price_",
	    .fields = price_search_fields,
	    .sql_scan = SQL_PRICE_SEARCH,
	    .prefilter = "product",
	    .render = price_render_by_id,
	    .id_col = 7,
	};
	return search_respond(r, &spec);
}

const struct route products_routes[] = {
    {"POST", "/v1/products", h_product_create, product_create_params, 0},
    {"GET", "/v1/products", h_product_list, product_list_params, ROUTE_LIST},
    {"GET", "/v1/products/search", h_product_search, search_params, 0},
    {"GET", "/v1/products/{id}", h_product_retrieve, no_params, 0},
    {"POST", "/v1/products/{id}", h_product_update, product_update_params, 0},
    {"DELETE", "/v1/products/{id}", h_product_delete, no_params, 0},
    {"POST", "/v1/prices", h_price_create, price_create_params, 0},
    {"GET", "/v1/prices", h_price_list, price_list_params, ROUTE_LIST},
    {"GET", "/v1/prices/search", h_price_search, search_params, 0},
    {"GET", "/v1/prices/{id}", h_price_retrieve, no_params, 0},
    {"POST", "/v1/prices/{id}", h_price_update, price_update_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};

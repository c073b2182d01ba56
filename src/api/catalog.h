/*
 * The catalog's rows (products and prices, api/products.c) for the resources that are other
 * views of them: the legacy Plans API (api/plans.c) shows a recurring price as a plan. Only
 * those files include this; the rest of the API reads prices through resources.h's
 * price_facts.
 */
#ifndef TENDER_API_CATALOG_H
#define TENDER_API_CATALOG_H

#include <stdbool.h>
#include <stdint.h>

#include "billing/transform.h"
#include "core/id.h"
#include "core/json.h"
#include "http/req.h"
#include "store/db.h"

/* The parameters of a tiered price (products.c), which plans take too: billing_scheme,
 * tiers_mode and each of tiers[n]. */
struct param_spec;
extern const char *const price_billing_schemes[];
extern const char *const price_tiers_modes[];
extern const struct param_spec price_tier_params[];
/* transform_quantity / transform_usage: divide_by, round (price_transform_terms) */
extern const struct param_spec price_transform_params[];

struct product {
	char id[ID_MAX];
	char list_key[ID_MAX]; /* its creation's time-ordered key (list.h); set when it is made */
	int64_t created, updated;
	bool active, deleted;
	int shippable; /* -1: null */
	const char *name, *description, *images, *metadata, *url, *unit_label;
	const char *statement_descriptor, *default_price;
	/* tax_code (txcd_…), package_dimensions ({height, length, weight, width}, JSON) and
	 * marketing_features ([{name}], JSON): NULL when not set */
	const char *tax_code, *package_dimensions, *marketing_features;
};

struct currency_options;

struct price {
	char id[ID_MAX];
	int64_t created;
	bool active;
	char currency[8];
	bool has_unit_amount;
	int64_t unit_amount;
	const char *unit_amount_decimal, *product, *nickname, *lookup_key, *metadata, *type;
	const char *interval, *usage_type, *tax_behavior;
	int64_t interval_count;
	/* its creation's time-ordered key (list.h), set when it is made (empty: the id is the
	 * key): a plan's id, and so its price's, may be the merchant's own */
	char list_key[ID_MAX];
	/* a plan's default trial (recurring.trial_period_days), when it has one */
	bool has_trial;
	int64_t trial_period_days;
	/* DELETE /v1/plans/{id}: gone as a plan (404), kept as an inactive price for what uses it
	 */
	bool plan_deleted;
	/* billing_scheme "per_unit" or "tiered"; a tiered price's tiers_mode ("graduated",
	 * "volume") and tiers (the JSON array the API shows); NULL for per_unit */
	const char *billing_scheme, *tiers_mode, *tiers;
	/* a metered price's billing meter (recurring.meter; NULL: none, a legacy metered price
	 * or a licensed one) */
	const char *meter;
	/* a legacy metered price's (no meter) recurring.aggregate_usage: "sum",
	 * "last_during_period", "last_ever" or "max" (billing/usage_records.h); NULL otherwise
	 * (and for one made before Tender took it: read as sum) */
	const char *aggregate_usage;
	/* a pay-what-you-want price's custom_unit_amount, the JSON object the API shows
	 * ({maximum, minimum, preset}); NULL for a fixed amount. It then has no unit amount
	 * (has_unit_amount false, unit_amount_decimal "") */
	const char *custom_unit_amount;
	/* a per-unit price's transform_quantity (a plan's transform_usage): the quantity or usage
	 * divided and rounded before it is multiplied by the unit amount (billing/transform.h);
	 * divide_by 0: none. Set at creation only. */
	struct qty_transform transform;
	/* its currency_options (products.c) when the caller has them at hand: shown in the
	 * response and the event of the write that set them; NULL: loaded when expanded */
	const struct currency_options *currency_options;
};

/* Rows, inside the caller's transaction: DB_OK, DB_NOTFOUND (loads), DB_CONSTRAINT (an insert
 * whose id is taken), or < 0. Strings land in r's arena. */
int product_load(struct req *r, struct db *db, const char *id, struct product *p);
/* first: insert, else update */
int product_write(struct req *r, struct db *db, const struct product *p, bool first);
int price_load(struct req *r, struct db *db, const char *id, struct price *p);
/* A price's recurring.aggregate_usage as Stripe shows it: a legacy metered price's (no meter;
 * "sum" when none was given), NULL for any other. */
const char *price_aggregate_usage(const struct price *p);
/* p->aggregate_usage from the request's parameter `path` (NULL: not taken; `shown` its name in
 * errors), once p's usage_type and meter are set: only a metered price without a meter takes
 * one (else Stripe's 400); such a price without it is "sum". 0, or -1 with r->err. */
int price_aggregate_usage_param(struct req *r, const char *path, const char *shown,
				struct price *p);
int price_insert(struct req *r, struct db *db, const struct price *p);
/* what may change after creation: active, nickname, lookup_key, metadata, tax_behavior, the
 * trial and plan_deleted */
int price_update(struct req *r, struct db *db, const struct price *p);

/* A product rendered by id, for payments_expandable (ctx: the struct req). */
int product_render_cb(void *ctx, struct db *db, const char *id, struct json *j);

/* product.* / price.* events (prev: previous_attributes JSON or NULL). 0, or -1 with r->err. */
int product_emit(struct req *r, struct db *db, const struct product *p, const char *type,
		 const char *prev);
int price_emit(struct req *r, struct db *db, const struct price *p, const char *type,
	       const char *prev);

/* A decimal count of minor units (unit_amount_decimal, a plan's amount_decimal) checked into p's
 * unit_amount_decimal (and unit_amount when whole). 0, or -1 with r->err on param. */
int price_amount_decimal(struct req *r, const char *param, const char *s, struct price *p);

/* A price or plan create's billing_scheme, tiers_mode and tiers[] into p (amount_name: the
 * create's own amount parameter, "unit_amount" or "amount", which tiered prices refuse). 1 when
 * tiered (p's tiers set, no unit amount), 0 for per_unit, -1 with r->err. */
int price_tiers_terms(struct req *r, const char *amount_name, struct price *p);

/* A price or plan create's `name` (transform_quantity, transform_usage: {divide_by, round},
 * both required by the create's parameter spec) into p->transform, once p's tiers and
 * custom_unit_amount are set: Stripe refuses it on a tiered or pay-what-you-want price, and a
 * divide_by below 1. 0, or -1 with r->err. */
int price_transform_terms(struct req *r, const char *name, struct price *p);
/* The transform_quantity / transform_usage object of t as the API shows it (null: none). */
void price_transform_render(struct json *j, const char *key, const struct qty_transform *t);

#endif

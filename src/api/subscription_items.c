/*
 * /v1/subscription_items: create, retrieve, update, delete, list — one item of a subscription
 * at a time. Each write is a change of its subscription's items through the same path as
 * POST /v1/subscriptions/{id} items[] (subscription_change in subscriptions.c): the same
 * checks, prorations (proration_behavior, proration_date), invoice for always_invoice and
 * customer.subscription.updated, and payment_behavior (pending_if_incomplete keeps the change as
 * the subscription's pending update until its invoice is paid); only the answer differs (the
 * item). price_data (a new inactive price) is taken as items[n][price_data] is.
 */
#include <string.h>

#include "api/billing_internal.h"
#include "api/common.h"
#include "api/list.h"
#include "core/str.h"

static struct sub_change *change_new(struct req *r)
{
	struct sub_change *c = arena_alloc(&r->arena, sizeof(*c));
	if (!c) {
		req_fail(r, ERR_API, NULL, NULL);
		return NULL;
	}
	memset(c, 0, sizeof(*c));
	c->proration_behavior = param_str(r, "proration_behavior");
	c->payment_behavior = param_str(r, "payment_behavior");
	param_int(r, "proration_date", &c->proration_date);
	c->n = 1;
	c->ch[0].shown = "";
	if (param_price_or_plan(r, "", "", &c->ch[0].price) != 0)
		return NULL;
	if (param_present(r, "metadata"))
		c->ch[0].metadata_path = "metadata";
	if (param_present(r, "price_data"))
		c->ch[0].price_data = "price_data";
	/* billing_thresholds[usage_gte] ("" unsets): kept on the item and shown */
	if (subscription_item_thresholds_param(r, "billing_thresholds", "billing_thresholds",
					       &c->ch[0].thresholds, &c->ch[0].thresholds_set) != 0)
		return NULL;
	/* discounts[] ("" removes them): the item's own, taken first on its lines */
	if (param_present(r, "discounts")) {
		struct discount_spec *spec = arena_alloc(&r->arena, sizeof(*spec));
		if (!spec) {
			req_fail(r, ERR_API, NULL, NULL);
			return NULL;
		}
		if (discount_spec_parse(r, "discounts", false, spec) != 0)
			return NULL;
		c->ch[0].dspec = spec;
	}
	return c;
}

static int quantity_param(struct req *r, struct sub_change *c)
{
	/* and its tax_rates[] (tax_rates.c) */
	if (tax_rate_spec_parse(r, "tax_rates", "tax_rates", &c->ch[0].tax) != 0)
		return -1;
	if (param_int(r, "quantity", &c->ch[0].quantity) == 1 &&
	    (c->ch[0].quantity < 1 || c->ch[0].quantity > BILLING_QUANTITY_MAX))
		return req_fail(r, ERR_PARAM_BAD, "quantity",
				"Invalid quantity: must be between 1 and %d.",
				BILLING_QUANTITY_MAX);
	return 0;
}

static int h_create(struct req *r)
{
	struct sub_change *c = change_new(r);
	if (!c || quantity_param(r, c) != 0)
		return -1;
	c->subscription = param_str(r, "subscription");
	c->answer = SUB_ANSWER_ITEM;
	return subscription_change(r, c);
}

struct one_ctx {
	struct req *r;
	const char *id, *sub;
};

static int retrieve_fn(struct db *db, void *p)
{
	struct one_ctx *x = p;
	int rc = subscription_item_render_by_id(x->r, db, x->id, "", req_json(x->r), &x->sub);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "subscription_item", x->id, "id");
	return rc == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

static int h_retrieve(struct req *r)
{
	struct one_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, retrieve_fn, &x);
}

/* the item's subscription (its rendering, discarded, is the existence check) */
static int find_sub(struct req *r, const char *id, const char **ret_sub)
{
	struct one_ctx x = {.r = r, .id = id};
	if (req_read(r, retrieve_fn, &x) != 0)
		return -1;
	buf_reset(&r->out); /* only the subscription was wanted */
	*ret_sub = x.sub;
	return 0;
}

static int h_update(struct req *r)
{
	struct sub_change *c = change_new(r);
	if (!c || quantity_param(r, c) != 0 || find_sub(r, r->args[0], &c->subscription) != 0)
		return -1;
	c->ch[0].id = r->args[0];
	c->answer = SUB_ANSWER_ITEM;
	str_copy(c->item, sizeof(c->item), r->args[0]);
	return subscription_change(r, c);
}

static int h_delete(struct req *r)
{
	struct sub_change *c = change_new(r);
	if (!c || find_sub(r, r->args[0], &c->subscription) != 0)
		return -1;
	c->ch[0].id = r->args[0];
	c->ch[0].deleted = true;
	bool clear = false;
	if (param_bool(r, "clear_usage", &clear) == 1)
		c->ch[0].clear_usage = clear;
	c->answer = SUB_ANSWER_ITEM_DELETED;
	str_copy(c->item, sizeof(c->item), r->args[0]);
	return subscription_change(r, c);
}

static const char SQL_CURSOR[] =
    "SELECT created FROM subscription_items WHERE merchant_id = $1 AND id = $2";
#define LIST_SQL                                                                                   \
	"SELECT id FROM subscription_items WHERE merchant_id = $1 AND id > $2 AND id < $3"         \
	" AND subscription = $5"
static const char SQL_DESC[] = LIST_SQL " ORDER BY id DESC LIMIT $4";
static const char SQL_ASC[] = LIST_SQL " ORDER BY id ASC LIMIT $4";

static int list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	db_bind_text(st, first, param_str(r, "subscription"), -1);
	return 0;
}

static int list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	return subscription_item_render_by_id(r, db, id, "data.", j, NULL);
}

static int h_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/subscription_items",
	    .object_name = "subscription_item",
	    .id_prefix = "si_",
	    .sql_cursor = SQL_CURSOR,
	    .sql_desc = SQL_DESC,
	    .sql_asc = SQL_ASC,
	    .bind_filters = list_bind,
	    .render = list_render,
	};
	return list_respond(r, &spec);
}

static const char *const proration_behaviors[] = {"always_invoice", "create_prorations", "none",
						  NULL};
static const char *const payment_behaviors[] = {
    "allow_incomplete", "error_if_incomplete", "default_incomplete", "pending_if_incomplete", NULL};

static const struct param_spec thresholds_children[] = {
    {"usage_gte", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

static const struct param_spec create_params[] = {
    {"subscription", PT_STRING, PF_REQUIRED, 255, NULL, NULL},
    /* one of the two: plan is the legacy name of a recurring price */
    {"price", PT_STRING, 0, 255, NULL, NULL},
    {"plan", PT_STRING, 0, 255, NULL, NULL},
    {"price_data", PT_OBJECT, 0, 0, NULL, subscription_item_price_data_params},
    {"quantity", PT_INT, 0, 0, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"proration_behavior", PT_ENUM, 0, 0, proration_behaviors, NULL},
    {"proration_date", PT_INT, 0, 0, NULL, NULL},
    {"payment_behavior", PT_ENUM, 0, 0, payment_behaviors, NULL},
    {"tax_rates", PT_STRING_ARRAY, PF_EMPTYABLE, 0, NULL, NULL},
    {"billing_thresholds", PT_OBJECT, PF_EMPTYABLE, 0, NULL, thresholds_children},
    {"discounts", PT_OBJECT_ARRAY, PF_EMPTYABLE, DISCOUNTS_MAX, NULL, subscription_discount_params},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec update_params[] = {
    {"price", PT_STRING, 0, 255, NULL, NULL},
    {"plan", PT_STRING, 0, 255, NULL, NULL},
    {"price_data", PT_OBJECT, 0, 0, NULL, subscription_item_price_data_params},
    {"quantity", PT_INT, 0, 0, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"proration_behavior", PT_ENUM, 0, 0, proration_behaviors, NULL},
    {"proration_date", PT_INT, 0, 0, NULL, NULL},
    {"payment_behavior", PT_ENUM, 0, 0, payment_behaviors, NULL},
    {"tax_rates", PT_STRING_ARRAY, PF_EMPTYABLE, 0, NULL, NULL},
    {"billing_thresholds", PT_OBJECT, PF_EMPTYABLE, 0, NULL, thresholds_children},
    {"discounts", PT_OBJECT_ARRAY, PF_EMPTYABLE, DISCOUNTS_MAX, NULL, subscription_discount_params},
    /* Tender pays every invoice off session (payment_intents_invoice): taken as given */
    {"off_session", PT_BOOL, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec delete_params[] = {
    {"clear_usage", PT_BOOL, 0, 0, NULL, NULL},
    {"proration_behavior", PT_ENUM, 0, 0, proration_behaviors, NULL},
    {"proration_date", PT_INT, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec list_params[] = {
    {"subscription", PT_STRING, PF_REQUIRED, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

const struct route subscription_items_routes[] = {
    {"POST", "/v1/subscription_items", h_create, create_params, 0},
    {"GET", "/v1/subscription_items", h_list, list_params, ROUTE_LIST},
    {"GET", "/v1/subscription_items/{id}", h_retrieve, no_params, 0},
    {"POST", "/v1/subscription_items/{id}", h_update, update_params, 0},
    {"DELETE", "/v1/subscription_items/{id}", h_delete, delete_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};

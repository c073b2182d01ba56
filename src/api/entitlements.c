/*
 * Stripe's Entitlements API:
 *  - /v1/entitlements/features: the merchant's features (entitlements.feature): create (name,
 *    lookup_key unique among its active features, metadata), retrieve, update (name, active,
 *    metadata), list (lookup_key, archived). Never deleted: active=false archives one (it is
 *    then listed only with archived=true, and cannot be attached to a product).
 *  - /v1/products/{id}/features: the features attached to a product (product_feature):
 *    attach, list, retrieve, detach (Stripe's deleted object). A feature once per product.
 *  - /v1/entitlements/active_entitlements: a customer's active entitlements, the features of
 *    the products of its active or trialing subscriptions (billing/entitlements.h keeps them).
 *
 * Attaching or detaching a feature changes the entitlements of the product's subscribers, in
 * the same write (entitlements_sync_product, each with its summary event). Stripe sends no
 * events for features or product features themselves (webhooks/event_types.def), so those
 * writes append only the summaries.
 */
#include <stdio.h>
#include <string.h>

#include "api/common.h"
#include "api/list.h"
#include "api/resources.h"
#include "billing/entitlements.h"
#include "core/str.h"
#include "events/events.h"

#define FEATURE_NAME_MAX 80
#define PRODUCT_FEATURES_MAX 100 /* features attached to one product, at most */

struct feature {
	char id[ID_MAX];
	int64_t created;
	bool active;
	const char *name, *lookup_key, *metadata;
};

static const char SQL_FEATURE_GET[] =
    "SELECT id, created, name, lookup_key, active, metadata FROM entitlement_features"
    " WHERE merchant_id = $1 AND id = $2";
static const char SQL_FEATURE_KEY_TAKEN[] =
    "SELECT id FROM entitlement_features WHERE merchant_id = $1 AND lookup_key = $2"
    " AND active = 1 LIMIT 1";
static const char SQL_FEATURE_INSERT[] =
    "INSERT INTO entitlement_features (merchant_id, id, created, name, lookup_key, active,"
    " metadata) VALUES ($1, $2, $3, $4, $5, 1, $6) ON CONFLICT DO NOTHING";
static const char SQL_FEATURE_UPDATE[] =
    "UPDATE entitlement_features SET name = $3, active = $4, metadata = $5"
    " WHERE merchant_id = $1 AND id = $2";

static int feature_load(struct req *r, struct db *db, const char *id, struct feature *f)
{
	struct db_stmt *st = NULL;
	int rc = db_row_by_id(db, SQL_FEATURE_GET, r->merchant_id, id, &st);
	if (rc != DB_OK)
		return rc;
	memset(f, 0, sizeof(*f));
	str_copy(f->id, sizeof(f->id), db_col_text(st, 0, NULL));
	f->created = db_col_int64(st, 1);
	f->name = col_text_dup(&r->arena, st, 2);
	f->lookup_key = col_text_dup(&r->arena, st, 3);
	f->active = db_col_int64(st, 4) != 0;
	f->metadata = col_text_dup(&r->arena, st, 5);
	db_reset(st);
	return f->name && f->lookup_key && f->metadata ? DB_OK : DB_ERR;
}

static void feature_render(struct req *r, const struct feature *f, struct json *j)
{
	json_obj_open(j);
	json_kv_str(j, "id", f->id);
	json_kv_str(j, "object", "entitlements.feature");
	json_kv_bool(j, "active", f->active);
	json_kv_bool(j, "livemode", r->livemode);
	json_kv_str(j, "lookup_key", f->lookup_key);
	json_kv_raw(j, "metadata", f->metadata, strlen(f->metadata));
	json_kv_str(j, "name", f->name);
	json_obj_close(j);
}

/* Is lookup_key another active feature's? 1 yes, 0 no, < 0. */
static int key_taken(struct req *r, struct db *db, const char *key, const char *except)
{
	struct db_stmt *st = NULL;
	int rc = db_row_by_id(db, SQL_FEATURE_KEY_TAKEN, r->merchant_id, key, &st);
	if (rc == DB_NOTFOUND)
		return 0;
	if (rc != DB_OK)
		return rc;
	bool other = !except || strcmp(db_col_text(st, 0, NULL), except) != 0;
	db_reset(st);
	return other ? 1 : 0;
}

static int fail_key_taken(struct req *r, const char *key)
{
	return req_fail(r, ERR_PARAM_BAD, "lookup_key",
			"A feature with the lookup_key '%s' already exists.", key);
}

/* ---- parameters ---- */

static const struct param_spec feature_create_params[] = {
    {"name", PT_STRING, PF_REQUIRED, FEATURE_NAME_MAX, NULL, NULL},
    {"lookup_key", PT_STRING, PF_REQUIRED, ENTITLEMENT_LOOKUP_KEY_MAX, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec feature_update_params[] = {
    {"name", PT_STRING, 0, FEATURE_NAME_MAX, NULL, NULL},
    {"active", PT_BOOL, 0, 0, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec feature_list_params[] = {
    {"lookup_key", PT_STRING, 0, ENTITLEMENT_LOOKUP_KEY_MAX, NULL, NULL},
    {"archived", PT_BOOL, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec attach_params[] = {
    {"entitlement_feature", PT_STRING, PF_REQUIRED, ID_MAX - 1, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec active_list_params[] = {
    {"customer", PT_STRING, PF_REQUIRED, ID_MAX - 1, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

/* ---- features ---- */

struct feature_ctx {
	struct req *r;
	const char *id;
	struct feature f;
};

static int feature_create_fn(struct db *db, void *arg)
{
	struct feature_ctx *c = arg;
	struct req *r = c->r;
	struct feature *f = &c->f;
	int rc = key_taken(r, db, f->lookup_key, NULL);
	if (rc != 0)
		return rc > 0 ? fail_key_taken(r, f->lookup_key) : req_fail(r, ERR_API, NULL, NULL);
	struct db_stmt *st = db_prepare(db, SQL_FEATURE_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, f->id, -1);
	db_bind_int64(st, 3, f->created);
	db_bind_text(st, 4, f->name, -1);
	db_bind_text(st, 5, f->lookup_key, -1);
	db_bind_text(st, 6, f->metadata, -1);
	int64_t n = 0;
	if (db_step_changes(st, &n) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (n == 0)
		return fail_key_taken(r, f->lookup_key);
	feature_render(r, f, req_json(r));
	return 0;
}

static int h_feature_create(struct req *r)
{
	struct feature_ctx c = {.r = r};
	struct feature *f = &c.f;
	id_new_at(f->id, "feat_", r->now);
	f->created = r->now;
	f->active = true;
	f->name = param_str(r, "name");
	f->lookup_key = param_str(r, "lookup_key");
	if (!f->name || !*f->name)
		return req_fail(r, ERR_PARAM_MISSING, "name", "name");
	if (!f->lookup_key || !*f->lookup_key)
		return req_fail(r, ERR_PARAM_MISSING, "lookup_key", "lookup_key");
	f->metadata = "{}";
	if (metadata_apply(r, NULL, "metadata", &f->metadata) != 0)
		return -1;
	return req_write(r, feature_create_fn, &c);
}

static int feature_load_fn(struct db *db, void *arg)
{
	struct feature_ctx *x = arg;
	int rc = feature_load(x->r, db, x->id, &x->f);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "feature", x->id, "id");
	return rc == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

static int feature_retrieve_fn(struct db *db, void *arg)
{
	struct feature_ctx *x = arg;
	if (feature_load_fn(db, arg) != 0)
		return -1;
	feature_render(x->r, &x->f, req_json(x->r));
	return 0;
}

static int h_feature_retrieve(struct req *r)
{
	struct feature_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, feature_retrieve_fn, &x) == 0 ? 0 : -1;
}

static int feature_update_fn(struct db *db, void *arg)
{
	struct feature_ctx *x = arg;
	struct req *r = x->r;
	if (feature_load_fn(db, arg) != 0)
		return -1;
	struct feature *f = &x->f;
	const char *name = param_str(r, "name");
	if (name) {
		if (!*name)
			return req_fail(
			    r, ERR_PARAM_INVALID_STRING, "name",
			    "You passed an empty string for 'name'. We assume empty "
			    "values are an attempt to unset a parameter; however 'name' "
			    "cannot be unset. You should remove 'name' from your request "
			    "or supply a non-empty value.");
		f->name = name;
	}
	bool was = f->active;
	param_bool(r, "active", &f->active);
	if (f->active && !was) {
		/* made active again: its lookup_key must not be another active feature's */
		int rc = key_taken(r, db, f->lookup_key, f->id);
		if (rc != 0)
			return rc > 0 ? fail_key_taken(r, f->lookup_key)
				      : req_fail(r, ERR_API, NULL, NULL);
	}
	if (metadata_apply(r, f->metadata, "metadata", &f->metadata) != 0)
		return -1;
	struct db_stmt *st = db_prepare(db, SQL_FEATURE_UPDATE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, f->id, -1);
	db_bind_text(st, 3, f->name, -1);
	db_bind_int64(st, 4, f->active ? 1 : 0);
	db_bind_text(st, 5, f->metadata, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	feature_render(r, f, req_json(r));
	return 0;
}

static int h_feature_update(struct req *r)
{
	struct feature_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, feature_update_fn, &x);
}

static const char SQL_FEATURE_CURSOR[] =
    "SELECT created FROM entitlement_features WHERE merchant_id = $1 AND id = $2";
#define FEATURE_LIST_WHERE                                                                         \
	"SELECT id FROM entitlement_features WHERE merchant_id = $1 AND id > $2 AND id < $3"       \
	" AND ($5 IS NULL OR lookup_key = $5) AND active = $6"
static const char SQL_FEATURE_DESC[] = FEATURE_LIST_WHERE " ORDER BY id DESC LIMIT $4";
static const char SQL_FEATURE_ASC[] = FEATURE_LIST_WHERE " ORDER BY id ASC LIMIT $4";

static int feature_list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	list_bind_filter(r, st, first, "lookup_key");
	bool archived = false;
	param_bool(r, "archived", &archived);
	db_bind_int64(st, first + 1, archived ? 0 : 1);
	return 0;
}

static int feature_list_render(struct req *r, struct db *db, const char *id, struct json *j,
			       void *ctx)
{
	(void)ctx;
	struct feature f;
	int rc = feature_load(r, db, id, &f);
	if (rc == DB_OK)
		feature_render(r, &f, j);
	return rc;
}

static int h_feature_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/entitlements/features",
	    .object_name = "feature",
	    .id_prefix = "feat_",
	    .sql_cursor = SQL_FEATURE_CURSOR,
	    .sql_desc = SQL_FEATURE_DESC,
	    .sql_asc = SQL_FEATURE_ASC,
	    .bind_filters = feature_list_bind,
	    .render = feature_list_render,
	};
	return list_respond(r, &spec);
}

/* ---- product features ---- */

static const char SQL_PRODUCT_LIVE[] =
    "SELECT id FROM products WHERE merchant_id = $1 AND id = $2 AND deleted = 0";
static const char SQL_PF_GET[] =
    "SELECT feature FROM product_features WHERE merchant_id = $1 AND id = $2 AND product = $3";
static const char SQL_PF_COUNT[] =
    "SELECT COUNT(*) FROM product_features WHERE merchant_id = $1 AND product = $2";
static const char SQL_PF_INSERT[] =
    "INSERT INTO product_features (merchant_id, id, created, product, feature)"
    " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING";
static const char SQL_PF_DELETE[] =
    "DELETE FROM product_features WHERE merchant_id = $1 AND id = $2 AND product = $3";

struct pf_ctx {
	struct req *r;
	const char *product, *id, *feature_id;
	char new_id[ID_MAX];
};

/* The product exists (not deleted) for r's merchant, else 404 on `id`. 0, or -1 with r->err. */
static int product_check(struct req *r, struct db *db, const char *product)
{
	struct db_stmt *st = NULL;
	int rc = db_row_by_id(db, SQL_PRODUCT_LIVE, r->merchant_id, product, &st);
	if (rc == DB_OK) {
		db_reset(st);
		return 0;
	}
	return rc == DB_NOTFOUND ? req_fail_missing(r, "product", product, "id")
				 : req_fail(r, ERR_API, NULL, NULL);
}

/* product_feature `id` of product, with its feature; DB_OK, DB_NOTFOUND or < 0. */
static int pf_render(struct req *r, struct db *db, const char *product, const char *id,
		     struct json *j)
{
	struct db_stmt *st = db_prepare(db, SQL_PF_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	db_bind_text(st, 3, product, -1);
	int rc = db_step(st);
	char feature_id[ID_MAX] = "";
	if (rc == DB_ROW)
		str_copy(feature_id, sizeof(feature_id), db_col_text(st, 0, NULL));
	db_reset(st);
	if (rc != DB_ROW)
		return rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
	struct feature f;
	rc = feature_load(r, db, feature_id, &f);
	if (rc != DB_OK)
		return rc == DB_NOTFOUND ? DB_ERR : rc;
	json_obj_open(j);
	json_kv_str(j, "id", id);
	json_kv_str(j, "object", "product_feature");
	json_key(j, "entitlement_feature");
	feature_render(r, &f, j);
	json_kv_bool(j, "livemode", r->livemode);
	json_obj_close(j);
	return DB_OK;
}

static struct event_origin origin_of(const struct req *r)
{
	struct event_origin o = {r->request_id[0] ? r->request_id : NULL, r->idempotency_key,
				 r->livemode};
	return o;
}

/* after an attach or detach: the subscribers' entitlements. 0, or -1 with r->err. */
static int subscribers_sync(struct req *r, struct db *db, const char *product)
{
	struct event_origin o = origin_of(r);
	int rc = entitlements_sync_product(db, r->merchant_id, product, &o, r->now);
	if (rc == 1)
		return req_fail(r, ERR_PARAM_BAD, NULL,
				"More than %d customers are subscribed to %s: Tender cannot change "
				"its features in one request.",
				ENTITLEMENTS_FANOUT_MAX, product);
	return rc == 0 ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static int attach_fn(struct db *db, void *arg)
{
	struct pf_ctx *x = arg;
	struct req *r = x->r;
	if (product_check(r, db, x->product) != 0)
		return -1;
	struct feature f;
	int rc = feature_load(r, db, x->feature_id, &f);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "feature", x->feature_id, "entitlement_feature");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!f.active)
		return req_fail(r, ERR_PARAM_BAD, "entitlement_feature",
				"The feature %s is archived and cannot be attached to a product.",
				f.id);
	struct db_stmt *st = db_prepare(db, SQL_PF_COUNT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, x->product, -1);
	rc = db_step(st);
	int64_t n = rc == DB_ROW ? db_col_int64(st, 0) : -1;
	db_reset(st);
	if (n < 0)
		return req_fail(r, ERR_API, NULL, NULL);
	if (n >= PRODUCT_FEATURES_MAX)
		return req_fail(r, ERR_PARAM_BAD, "entitlement_feature",
				"A product can have at most %d features.", PRODUCT_FEATURES_MAX);
	id_new_at(x->new_id, "prodft_", r->now);
	st = db_prepare(db, SQL_PF_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, x->new_id, -1);
	db_bind_int64(st, 3, r->now);
	db_bind_text(st, 4, x->product, -1);
	db_bind_text(st, 5, f.id, -1);
	if (db_step_changes(st, &n) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (n == 0)
		return req_fail(r, ERR_PARAM_BAD, "entitlement_feature",
				"The feature %s is already attached to the product %s.", f.id,
				x->product);
	if (subscribers_sync(r, db, x->product) != 0)
		return -1;
	return pf_render(r, db, x->product, x->new_id, req_json(r)) == DB_OK
		   ? 0
		   : req_fail(r, ERR_API, NULL, NULL);
}

static int h_attach(struct req *r)
{
	struct pf_ctx x = {
	    .r = r, .product = r->args[0], .feature_id = param_str(r, "entitlement_feature")};
	if (!x.feature_id || !*x.feature_id)
		return req_fail(r, ERR_PARAM_MISSING, "entitlement_feature", "entitlement_feature");
	return req_write(r, attach_fn, &x);
}

static int pf_retrieve_fn(struct db *db, void *arg)
{
	struct pf_ctx *x = arg;
	struct req *r = x->r;
	if (product_check(r, db, x->product) != 0)
		return -1;
	int rc = pf_render(r, db, x->product, x->id, req_json(r));
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "product_feature", x->id, "id");
	return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static int h_pf_retrieve(struct req *r)
{
	struct pf_ctx x = {.r = r, .product = r->args[0], .id = r->args[1]};
	return req_read(r, pf_retrieve_fn, &x) == 0 ? 0 : -1;
}

static int detach_fn(struct db *db, void *arg)
{
	struct pf_ctx *x = arg;
	struct req *r = x->r;
	if (product_check(r, db, x->product) != 0)
		return -1;
	struct db_stmt *st = db_prepare(db, SQL_PF_DELETE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, x->id, -1);
	db_bind_text(st, 3, x->product, -1);
	int64_t n = 0;
	if (db_step_changes(st, &n) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (n == 0)
		return req_fail_missing(r, "product_feature", x->id, "id");
	if (subscribers_sync(r, db, x->product) != 0)
		return -1;
	struct json *j = req_json(r);
	json_obj_open(j);
	json_kv_str(j, "id", x->id);
	json_kv_str(j, "object", "product_feature");
	json_kv_bool(j, "deleted", true);
	json_obj_close(j);
	return 0;
}

static int h_detach(struct req *r)
{
	struct pf_ctx x = {.r = r, .product = r->args[0], .id = r->args[1]};
	return req_write(r, detach_fn, &x);
}

static const char SQL_PF_CURSOR[] =
    "SELECT created FROM product_features WHERE merchant_id = $1 AND id = $2";
#define PF_LIST_WHERE                                                                              \
	"SELECT id FROM product_features WHERE merchant_id = $1 AND id > $2 AND id < $3"           \
	" AND product = $5"
static const char SQL_PF_DESC[] = PF_LIST_WHERE " ORDER BY id DESC LIMIT $4";
static const char SQL_PF_ASC[] = PF_LIST_WHERE " ORDER BY id ASC LIMIT $4";

static int pf_list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	db_bind_text(st, first, r->args[0], -1);
	return 0;
}

static int pf_list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	return pf_render(r, db, r->args[0], id, j);
}

static int product_fn(struct db *db, void *arg)
{
	struct pf_ctx *x = arg;
	return product_check(x->r, db, x->product);
}

static int h_pf_list(struct req *r)
{
	struct pf_ctx x = {.r = r, .product = r->args[0]};
	if (req_read(r, product_fn, &x) != 0)
		return -1;
	const char *url = arena_printf(&r->arena, "/v1/products/%s/features", r->args[0]);
	if (!url)
		return req_fail(r, ERR_API, NULL, NULL);
	const struct list_spec spec = {
	    .url = url,
	    .object_name = "product_feature",
	    .id_prefix = "prodft_",
	    .sql_cursor = SQL_PF_CURSOR,
	    .sql_desc = SQL_PF_DESC,
	    .sql_asc = SQL_PF_ASC,
	    .bind_filters = pf_list_bind,
	    .render = pf_list_render,
	};
	return list_respond(r, &spec);
}

/* ---- active entitlements ---- */

static const char SQL_ENT_GET[] =
    "SELECT ae.id, ae.feature, f.lookup_key FROM active_entitlements ae"
    " JOIN entitlement_features f ON f.merchant_id = ae.merchant_id AND f.id = ae.feature"
    " WHERE ae.merchant_id = $1 AND ae.id = $2";

/* ctx: a bool, expand the feature (expand[]=feature, or data.feature on a list) */
static int ent_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	bool expand = ctx && *(const bool *)ctx;
	struct db_stmt *st = NULL;
	int rc = db_row_by_id(db, SQL_ENT_GET, r->merchant_id, id, &st);
	if (rc != DB_OK)
		return rc;
	struct entitlement e;
	memset(&e, 0, sizeof(e));
	str_copy(e.id, sizeof(e.id), db_col_text(st, 0, NULL));
	str_copy(e.feature, sizeof(e.feature), db_col_text(st, 1, NULL));
	str_copy(e.lookup_key, sizeof(e.lookup_key), db_col_text(st, 2, NULL));
	db_reset(st);
	if (!expand) {
		entitlement_render(j, &e, r->livemode);
		return DB_OK;
	}
	struct feature f;
	rc = feature_load(r, db, e.feature, &f);
	if (rc != DB_OK)
		return rc == DB_NOTFOUND ? DB_ERR : rc;
	json_obj_open(j);
	json_kv_str(j, "id", e.id);
	json_kv_str(j, "object", "entitlements.active_entitlement");
	json_key(j, "feature");
	feature_render(r, &f, j);
	json_kv_bool(j, "livemode", r->livemode);
	json_kv_str(j, "lookup_key", e.lookup_key);
	json_obj_close(j);
	return DB_OK;
}

struct ent_ctx {
	struct req *r;
	const char *id;
};

static int ent_retrieve_fn(struct db *db, void *arg)
{
	struct ent_ctx *x = arg;
	bool expand = req_expand_has(x->r, "feature");
	int rc = ent_render(x->r, db, x->id, req_json(x->r), &expand);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "active_entitlement", x->id, "id");
	return rc == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

static int h_ent_retrieve(struct req *r)
{
	struct ent_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, ent_retrieve_fn, &x) == 0 ? 0 : -1;
}

static const char SQL_ENT_CURSOR[] =
    "SELECT created FROM active_entitlements WHERE merchant_id = $1 AND id = $2";
#define ENT_LIST_WHERE                                                                             \
	"SELECT id FROM active_entitlements WHERE merchant_id = $1 AND id > $2 AND id < $3"        \
	" AND customer = $5"
static const char SQL_ENT_DESC[] = ENT_LIST_WHERE " ORDER BY id DESC LIMIT $4";
static const char SQL_ENT_ASC[] = ENT_LIST_WHERE " ORDER BY id ASC LIMIT $4";

static int ent_list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	db_bind_text(st, first, param_str(r, "customer"), -1);
	return 0;
}

static int h_ent_list(struct req *r)
{
	struct ent_ctx x = {.r = r, .id = param_str(r, "customer")};
	if (!x.id || !*x.id)
		return req_fail(r, ERR_PARAM_MISSING, "customer", "customer");
	if (customer_check_read(r, x.id) != 0)
		return -1;
	bool expand = req_expand_has(r, "data.feature");
	const struct list_spec spec = {
	    .url = "/v1/entitlements/active_entitlements",
	    .object_name = "active_entitlement",
	    .id_prefix = "ent_",
	    .sql_cursor = SQL_ENT_CURSOR,
	    .sql_desc = SQL_ENT_DESC,
	    .sql_asc = SQL_ENT_ASC,
	    .bind_filters = ent_list_bind,
	    .render = ent_render,
	    .ctx = &expand,
	};
	return list_respond(r, &spec);
}

const struct route entitlements_routes[] = {
    {"POST", "/v1/entitlements/features", h_feature_create, feature_create_params, 0},
    {"GET", "/v1/entitlements/features", h_feature_list, feature_list_params, ROUTE_LIST},
    {"GET", "/v1/entitlements/features/{id}", h_feature_retrieve, no_params, 0},
    {"POST", "/v1/entitlements/features/{id}", h_feature_update, feature_update_params, 0},
    {"GET", "/v1/entitlements/active_entitlements", h_ent_list, active_list_params, ROUTE_LIST},
    {"GET", "/v1/entitlements/active_entitlements/{id}", h_ent_retrieve, no_params, 0},
    {"POST", "/v1/products/{product}/features", h_attach, attach_params, 0},
    {"GET", "/v1/products/{product}/features", h_pf_list, no_params, ROUTE_LIST},
    {"GET", "/v1/products/{product}/features/{id}", h_pf_retrieve, no_params, 0},
    {"DELETE", "/v1/products/{product}/features/{id}", h_detach, no_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};

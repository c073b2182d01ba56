/*
 * Stripe's Radar API: value lists (/v1/radar/value_lists), their items
 * (/v1/radar/value_list_items), early fraud warnings (/v1/radar/early_fraud_warnings) and reviews
 * (/v1/reviews: list, retrieve, approve; risk/review.h).
 *
 * Value lists are per merchant (another merchant's list or item is 404) and are what the fraud
 * rules' `in @alias` reads when the rules file defines no list of that name (risk/rules.h,
 * risk/value_lists.h): an item added here is in force for the next payment scored, a deleted
 * item no longer. Bounds: RADAR_VALUE_LISTS_MAX lists per merchant, RADAR_VALUE_LIST_ITEMS_MAX
 * items per list (a guarded count on the list's row), values of up to
 * RISK_VALUE_LIST_VALUE_MAX bytes checked for the list's item_type. An alias is unique per
 * merchant and is a rules word (letters, digits, '_'; up to 63 bytes); a list the rules name
 * cannot be deleted (Stripe: "a value list must not be referenced in any rules"). Stripe sends
 * no events for value lists, so neither does Tender. created_by is the account's id (an API
 * key has no user name or email).
 *
 * Deleting a list deletes its items in the same write; both answer Stripe's
 * {id, object, deleted: true}.
 */
#include <stdio.h>
#include <string.h>

#include "api/common.h"
#include "api/list.h"
#include "api/resources.h"
#include "app.h"
#include "core/str.h"
#include "disputes/early_fraud_warning.h"
#include "risk/review.h"
#include "risk/rules.h"
#include "risk/value_lists.h"

#define RADAR_VALUE_LISTS_MAX 200
#define RADAR_VALUE_LIST_ITEMS_MAX 10000
#define RADAR_ALIAS_MAX 63
#define RADAR_NAME_MAX 100
#define EMBEDDED_ITEMS 10

static const char *const item_types[] = {"card_bin",
					 "card_fingerprint",
					 "case_sensitive_string",
					 "country",
					 "customer_id",
					 "email",
					 "ip_address",
					 "sepa_debit_fingerprint",
					 "string",
					 "us_bank_account_fingerprint",
					 NULL};

static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

/* ---- value list items ---- */

static const char SQL_ITEM_GET[] =
    "SELECT id, created, value_list, value, created_by FROM radar_value_list_items"
    " WHERE merchant_id = $1 AND id = $2";
static const char SQL_ITEM_INSERT[] =
    "INSERT INTO radar_value_list_items (merchant_id, id, created, value_list, value,"
    " match_value, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7)"
    " ON CONFLICT (merchant_id, value_list, match_value) DO NOTHING";
static const char SQL_ITEM_DELETE[] =
    "DELETE FROM radar_value_list_items WHERE merchant_id = $1 AND id = $2";
static const char SQL_LIST_COUNT_UP[] = "UPDATE radar_value_lists SET item_count = item_count + 1"
					" WHERE merchant_id = $1 AND id = $2 AND item_count < $3";
static const char SQL_LIST_COUNT_DOWN[] = "UPDATE radar_value_lists SET item_count = item_count - 1"
					  " WHERE merchant_id = $1 AND id = $2 AND item_count > 0";

struct item {
	const char *id, *value_list, *value, *created_by;
	int64_t created;
};

static int item_load(struct req *r, struct db *db, const char *id, struct item *ret)
{
	struct db_stmt *st;
	int rc = db_row_by_id(db, SQL_ITEM_GET, r->merchant_id, id, &st);
	if (rc != DB_OK)
		return rc;
	struct item it = {
	    .id = col_text_dup(&r->arena, st, 0),
	    .created = db_col_int64(st, 1),
	    .value_list = col_text_dup(&r->arena, st, 2),
	    .value = col_text_dup(&r->arena, st, 3),
	    .created_by = col_text_dup(&r->arena, st, 4),
	};
	db_reset(st);
	if (!it.id || !it.value_list || !it.value || !it.created_by)
		return DB_ERR;
	*ret = it;
	return DB_OK;
}

static void item_render(struct req *r, const struct item *it, struct json *j)
{
	json_obj_open(j);
	json_kv_str(j, "id", it->id);
	json_kv_str(j, "object", "radar.value_list_item");
	json_kv_int(j, "created", it->created);
	json_kv_str(j, "created_by", it->created_by);
	json_kv_bool(j, "livemode", r->livemode);
	json_kv_str(j, "value", it->value);
	json_kv_str(j, "value_list", it->value_list);
	json_obj_close(j);
}

static int item_render_by_id(struct req *r, struct db *db, const char *id, struct json *j,
			     void *ctx)
{
	(void)ctx;
	struct item it;
	int rc = item_load(r, db, id, &it);
	if (rc == DB_OK)
		item_render(r, &it, j);
	return rc;
}

/* ---- value lists ---- */

static const char SQL_LIST_GET[] =
    "SELECT id, created, alias, name, item_type, created_by, metadata, item_count"
    " FROM radar_value_lists WHERE merchant_id = $1 AND id = $2";
static const char SQL_LIST_BY_ALIAS[] =
    "SELECT id FROM radar_value_lists WHERE merchant_id = $1 AND alias = $2";
static const char SQL_LIST_INSERT[] =
    "INSERT INTO radar_value_lists (merchant_id, id, created, alias, name, item_type,"
    " created_by, metadata, item_count) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0)"
    " ON CONFLICT (merchant_id, alias) DO NOTHING";
static const char SQL_LIST_UPDATE[] =
    "UPDATE radar_value_lists SET alias = $3, name = $4, metadata = $5"
    " WHERE merchant_id = $1 AND id = $2";
static const char SQL_LIST_DELETE_ITEMS[] =
    "DELETE FROM radar_value_list_items WHERE merchant_id = $1 AND value_list = $2";
static const char SQL_LIST_DELETE[] =
    "DELETE FROM radar_value_lists WHERE merchant_id = $1 AND id = $2";
static const char SQL_LISTS_COUNT[] = "SELECT COUNT(*) FROM (SELECT 1 FROM radar_value_lists"
				      " WHERE merchant_id = $1 LIMIT $2) AS x";
static const char SQL_EMBEDDED_ITEMS[] =
    "SELECT id FROM radar_value_list_items WHERE merchant_id = $1 AND value_list = $2"
    " ORDER BY id DESC LIMIT $3";

struct vlist {
	const char *id, *alias, *name, *item_type, *created_by, *metadata;
	int64_t created, item_count;
};

static int vlist_load(struct req *r, struct db *db, const char *id, struct vlist *ret)
{
	struct db_stmt *st;
	int rc = db_row_by_id(db, SQL_LIST_GET, r->merchant_id, id, &st);
	if (rc != DB_OK)
		return rc;
	struct vlist l = {
	    .id = col_text_dup(&r->arena, st, 0),
	    .created = db_col_int64(st, 1),
	    .alias = col_text_dup(&r->arena, st, 2),
	    .name = col_text_dup(&r->arena, st, 3),
	    .item_type = col_text_dup(&r->arena, st, 4),
	    .created_by = col_text_dup(&r->arena, st, 5),
	    .metadata = col_text_dup(&r->arena, st, 6),
	    .item_count = db_col_int64(st, 7),
	};
	db_reset(st);
	if (!l.id || !l.alias || !l.name || !l.item_type || !l.created_by || !l.metadata)
		return DB_ERR;
	*ret = l;
	return DB_OK;
}

static int vlist_render(struct req *r, struct db *db, const struct vlist *l, struct json *j)
{
	struct db_stmt *st = db_prepare(db, SQL_EMBEDDED_ITEMS);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, l->id, -1);
	db_bind_int64(st, 3, EMBEDDED_ITEMS + 1);
	const char *ids[EMBEDDED_ITEMS + 1];
	size_t n = 0;
	int rc = DB_DONE;
	while (n < EMBEDDED_ITEMS + 1 && (rc = db_step(st)) == DB_ROW)
		if (!(ids[n++] = col_text_dup(&r->arena, st, 0))) {
			db_reset(st);
			return DB_ERR;
		}
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	bool has_more = n > EMBEDDED_ITEMS;
	if (has_more)
		n = EMBEDDED_ITEMS;
	json_obj_open(j);
	json_kv_str(j, "id", l->id);
	json_kv_str(j, "object", "radar.value_list");
	json_kv_str(j, "alias", l->alias);
	json_kv_int(j, "created", l->created);
	json_kv_str(j, "created_by", l->created_by);
	json_kv_str(j, "item_type", l->item_type);
	json_key(j, "list_items");
	json_obj_open(j);
	json_kv_str(j, "object", "list");
	json_key(j, "data");
	json_arr_open(j);
	for (size_t i = 0; i < n; i++) {
		rc = item_render_by_id(r, db, ids[i], j, NULL);
		if (rc != DB_OK)
			return rc == DB_NOTFOUND ? DB_ERR : rc;
	}
	json_arr_close(j);
	json_kv_bool(j, "has_more", has_more);
	const char *url =
	    arena_printf(&r->arena, "/v1/radar/value_list_items?value_list=%s", l->id);
	if (!url)
		return DB_ERR;
	json_kv_str(j, "url", url);
	json_obj_close(j);
	json_kv_bool(j, "livemode", r->livemode);
	json_kv_raw(j, "metadata", l->metadata, strlen(l->metadata));
	json_kv_str(j, "name", l->name);
	json_obj_close(j);
	return DB_OK;
}

static int vlist_render_by_id(struct req *r, struct db *db, const char *id, struct json *j,
			      void *ctx)
{
	(void)ctx;
	struct vlist l;
	int rc = vlist_load(r, db, id, &l);
	return rc == DB_OK ? vlist_render(r, db, &l, j) : rc;
}

static bool alias_ok(const char *a)
{
	size_t n = strlen(a);
	if (n < 1 || n > RADAR_ALIAS_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = a[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_'))
			return false;
	}
	return true;
}

/* 1 when another list of the merchant (not except_id) has alias, 0 when not, < 0 on error */
static int alias_taken(struct req *r, struct db *db, const char *alias, const char *except_id)
{
	struct db_stmt *st = db_prepare(db, SQL_LIST_BY_ALIAS);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, alias, -1);
	int rc = db_step(st);
	int taken =
	    rc == DB_ROW && (!except_id || strcmp(db_col_text(st, 0, NULL), except_id) != 0);
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	return taken;
}

struct list_ctx {
	struct req *r;
	const char *id;
	const char *alias, *name, *item_type, *metadata;
	struct vlist l;
};

static int respond_list(struct req *r, struct db *db, const char *id)
{
	struct vlist l;
	int rc = vlist_load(r, db, id, &l);
	if (rc == DB_OK)
		rc = vlist_render(r, db, &l, req_json(r));
	return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static int list_create_fn(struct db *db, void *p)
{
	struct list_ctx *x = p;
	struct req *r = x->r;
	struct db_stmt *st = db_prepare(db, SQL_LISTS_COUNT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_int64(st, 2, RADAR_VALUE_LISTS_MAX);
	int64_t n = db_step(st) == DB_ROW ? db_col_int64(st, 0) : -1;
	db_reset(st);
	if (n < 0)
		return req_fail(r, ERR_API, NULL, NULL);
	if (n >= RADAR_VALUE_LISTS_MAX)
		return req_fail(r, ERR_PARAM_BAD, NULL,
				"You have reached the maximum of %d value lists.",
				RADAR_VALUE_LISTS_MAX);
	st = db_prepare(db, SQL_LIST_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, x->id, -1);
	db_bind_int64(st, 3, r->now);
	db_bind_text(st, 4, x->alias, -1);
	db_bind_text(st, 5, x->name, -1);
	db_bind_text(st, 6, x->item_type, -1);
	db_bind_text(st, 7, r->merchant_id, -1);
	db_bind_text(st, 8, x->metadata, -1);
	int64_t changed = 0;
	if (db_step_changes(st, &changed) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (changed != 1)
		return req_fail(r, ERR_PARAM_BAD, "alias",
				"A value list with the alias '%s' already exists.", x->alias);
	return respond_list(r, db, x->id);
}

static int h_list_create(struct req *r)
{
	struct list_ctx x = {.r = r};
	x.alias = param_str(r, "alias");
	x.name = param_str(r, "name");
	x.item_type = param_str(r, "item_type");
	if (!x.item_type || !*x.item_type)
		x.item_type = "string";
	if (!alias_ok(x.alias))
		return req_fail(r, ERR_PARAM_BAD, "alias",
				"Invalid alias: use 1 to %d letters, digits or underscores.",
				RADAR_ALIAS_MAX);
	if (!*x.name)
		return req_fail(
		    r, ERR_PARAM_INVALID_STRING, "name",
		    "You passed an empty string for 'name'. We assume empty values are an "
		    "attempt to unset a parameter; however 'name' cannot be unset. You "
		    "should remove 'name' from your request or supply a non-empty value.");
	x.metadata = "{}";
	if (metadata_apply(r, NULL, "metadata", &x.metadata) != 0)
		return -1;
	char *id = arena_zalloc(&r->arena, ID_MAX);
	if (!id)
		return req_fail(r, ERR_API, NULL, NULL);
	id_new_at(id, "rsl_", r->now);
	x.id = id;
	/* before the write commits and once it did: a payment scored after the answer looks the
	 * lists up (a "no list" read racing the commit is not kept: risk/value_lists.c) */
	risk_value_lists_note_created(r->merchant_id);
	int rc = req_write(r, list_create_fn, &x);
	risk_value_lists_note_created(r->merchant_id);
	return rc;
}

static int list_load_or_404(struct db *db, struct list_ctx *x)
{
	int rc = vlist_load(x->r, db, x->id, &x->l);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "value_list", x->id, "value_list");
	return rc == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

static int list_retrieve_fn(struct db *db, void *p)
{
	struct list_ctx *x = p;
	if (list_load_or_404(db, x) != 0)
		return -1;
	return vlist_render(x->r, db, &x->l, req_json(x->r)) == DB_OK
		   ? 0
		   : req_fail(x->r, ERR_API, NULL, NULL);
}

static int h_list_retrieve(struct req *r)
{
	struct list_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, list_retrieve_fn, &x);
}

static int list_update_fn(struct db *db, void *p)
{
	struct list_ctx *x = p;
	struct req *r = x->r;
	if (list_load_or_404(db, x) != 0)
		return -1;
	const char *alias = x->alias ? x->alias : x->l.alias;
	const char *name = x->name ? x->name : x->l.name;
	const char *metadata = x->l.metadata;
	if (metadata_apply(r, x->l.metadata, "metadata", &metadata) != 0)
		return -1;
	if (strcmp(alias, x->l.alias) != 0) {
		int taken = alias_taken(r, db, alias, x->l.id);
		if (taken < 0)
			return req_fail(r, ERR_API, NULL, NULL);
		if (taken)
			return req_fail(r, ERR_PARAM_BAD, "alias",
					"A value list with the alias '%s' already exists.", alias);
	}
	struct db_stmt *st = db_prepare(db, SQL_LIST_UPDATE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, x->l.id, -1);
	db_bind_text(st, 3, alias, -1);
	db_bind_text(st, 4, name, -1);
	db_bind_text(st, 5, metadata, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return respond_list(r, db, x->l.id);
}

static int h_list_update(struct req *r)
{
	struct list_ctx x = {.r = r, .id = r->args[0]};
	x.alias = param_str(r, "alias");
	x.name = param_str(r, "name");
	if (x.alias && !alias_ok(x.alias))
		return req_fail(r, ERR_PARAM_BAD, "alias",
				"Invalid alias: use 1 to %d letters, digits or underscores.",
				RADAR_ALIAS_MAX);
	if (x.name && !*x.name)
		return req_fail(r, ERR_PARAM_INVALID_STRING, "name",
				"You passed an empty string for 'name'. 'name' cannot be unset.");
	/* a list renamed to an alias the rules name is in force at once, as a new one is */
	risk_value_lists_note_created(r->merchant_id);
	int rc = req_write(r, list_update_fn, &x);
	risk_value_lists_note_created(r->merchant_id);
	return rc;
}

static int deleted_answer(struct req *r, const char *id, const char *object)
{
	struct json *j = req_json(r);
	json_obj_open(j);
	json_kv_str(j, "id", id);
	json_kv_str(j, "object", object);
	json_kv_bool(j, "deleted", true);
	json_obj_close(j);
	return 0;
}

static int list_delete_fn(struct db *db, void *p)
{
	struct list_ctx *x = p;
	struct req *r = x->r;
	if (list_load_or_404(db, x) != 0)
		return -1;
	if (risk_rules_uses_value_list(r->app->rules, x->l.alias))
		return req_fail(
		    r, ERR_PARAM_BAD, NULL,
		    "The value list '%s' is referenced in a rule and cannot be deleted.",
		    x->l.alias);
	if (db_run_by_id(db, SQL_LIST_DELETE_ITEMS, r->merchant_id, x->l.id) != DB_OK ||
	    db_run_by_id(db, SQL_LIST_DELETE, r->merchant_id, x->l.id) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return deleted_answer(r, x->l.id, "radar.value_list");
}

static int h_list_delete(struct req *r)
{
	struct list_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, list_delete_fn, &x);
}

static const char SQL_LISTS_CURSOR[] =
    "SELECT created FROM radar_value_lists WHERE merchant_id = $1 AND id = $2";
#define LISTS_WHERE                                                                                \
	"SELECT id FROM radar_value_lists l WHERE merchant_id = $1 AND id > $2 AND id < $3"        \
	" AND ($5 IS NULL OR alias = $5) AND ($6 IS NULL OR EXISTS (SELECT 1 FROM"                 \
	" radar_value_list_items i WHERE i.merchant_id = $1 AND i.match_value IN ($6, $7)"         \
	" AND i.value_list = l.id AND (i.match_value = $6 OR l.item_type IN ('email', 'string',"   \
	" 'country', 'ip_address', 'card_bin'))))"
static const char SQL_LISTS_DESC[] = LISTS_WHERE " ORDER BY id DESC LIMIT $4";
static const char SQL_LISTS_ASC[] = LISTS_WHERE " ORDER BY id ASC LIMIT $4";

static int lists_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	list_bind_filter(r, st, first, "alias");
	/* the value as the list's type compares it (risk_value_list_normalize): as given for an
	 * exact type, lowercased for the others (the SQL's list), so that the unique index's
	 * prefix finds it */
	const char *contains = param_str(r, "contains");
	list_bind_filter(r, st, first + 1, "contains");
	char low[RISK_VALUE_LIST_VALUE_MAX + 1];
	if (contains && *contains &&
	    risk_value_list_normalize("string", contains, low, sizeof(low)) == 0)
		db_bind_text(st, first + 2, low, -1);
	else
		db_bind_null(st, first + 2);
	return 0;
}

static int h_lists_list(struct req *r)
{
	const struct list_spec spec = {
	    .url = "/v1/radar/value_lists",
	    .object_name = "value_list",
	    .id_prefix = "rsl_",
	    .sql_cursor = SQL_LISTS_CURSOR,
	    .sql_desc = SQL_LISTS_DESC,
	    .sql_asc = SQL_LISTS_ASC,
	    .bind_filters = lists_bind,
	    .render = vlist_render_by_id,
	};
	return list_respond(r, &spec);
}

/* ---- item routes ---- */

struct item_ctx {
	struct req *r;
	const char *id, *value_list, *value;
	struct vlist l;
	struct item it;
};

static int item_create_fn(struct db *db, void *p)
{
	struct item_ctx *x = p;
	struct req *r = x->r;
	int rc = vlist_load(r, db, x->value_list, &x->l);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "value_list", x->value_list, "value_list");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (risk_value_list_check_value(x->l.item_type, x->value) != 0)
		return req_fail(r, ERR_PARAM_BAD, "value", "Invalid %s value: '%s'.",
				x->l.item_type, x->value);
	char match[RISK_VALUE_LIST_VALUE_MAX + 1];
	if (risk_value_list_normalize(x->l.item_type, x->value, match, sizeof(match)) != 0)
		return req_fail(r, ERR_PARAM_BAD, "value", "The value is too long.");
	struct db_stmt *st = db_prepare(db, SQL_ITEM_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, x->id, -1);
	db_bind_int64(st, 3, r->now);
	db_bind_text(st, 4, x->l.id, -1);
	db_bind_text(st, 5, x->value, -1);
	db_bind_text(st, 6, match, -1);
	db_bind_text(st, 7, r->merchant_id, -1);
	int64_t changed = 0;
	if (db_step_changes(st, &changed) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (changed != 1)
		return req_fail(r, ERR_PARAM_BAD, "value",
				"The value '%s' already exists in the value list %s.", x->value,
				x->l.id);
	st = db_prepare(db, SQL_LIST_COUNT_UP);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, x->l.id, -1);
	db_bind_int64(st, 3, RADAR_VALUE_LIST_ITEMS_MAX);
	if (db_step_changes(st, &changed) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (changed != 1) /* rolls the insert back */
		return req_fail(r, ERR_PARAM_BAD, "value_list",
				"The value list %s already has the maximum of %d items.", x->l.id,
				RADAR_VALUE_LIST_ITEMS_MAX);
	rc = item_load(r, db, x->id, &x->it);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	item_render(r, &x->it, req_json(r));
	return 0;
}

static int h_item_create(struct req *r)
{
	struct item_ctx x = {.r = r};
	x.value_list = param_str(r, "value_list");
	x.value = param_str(r, "value");
	char *id = arena_zalloc(&r->arena, ID_MAX);
	if (!id)
		return req_fail(r, ERR_API, NULL, NULL);
	id_new_at(id, "rsli_", r->now);
	x.id = id;
	return req_write(r, item_create_fn, &x);
}

static int item_load_or_404(struct db *db, struct item_ctx *x)
{
	int rc = item_load(x->r, db, x->id, &x->it);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "value_list_item", x->id, "item");
	return rc == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

static int item_retrieve_fn(struct db *db, void *p)
{
	struct item_ctx *x = p;
	if (item_load_or_404(db, x) != 0)
		return -1;
	item_render(x->r, &x->it, req_json(x->r));
	return 0;
}

static int h_item_retrieve(struct req *r)
{
	struct item_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, item_retrieve_fn, &x);
}

static int item_delete_fn(struct db *db, void *p)
{
	struct item_ctx *x = p;
	struct req *r = x->r;
	if (item_load_or_404(db, x) != 0)
		return -1;
	struct db_stmt *st = db_prepare(db, SQL_ITEM_DELETE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, x->it.id, -1);
	int64_t changed = 0;
	if (db_step_changes(st, &changed) != DB_OK || changed != 1)
		return req_fail(r, ERR_API, NULL, NULL);
	if (db_run_by_id(db, SQL_LIST_COUNT_DOWN, r->merchant_id, x->it.value_list) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return deleted_answer(r, x->it.id, "radar.value_list_item");
}

static int h_item_delete(struct req *r)
{
	struct item_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, item_delete_fn, &x);
}

static const char SQL_ITEMS_CURSOR[] =
    "SELECT created FROM radar_value_list_items WHERE merchant_id = $1 AND id = $2";
#define ITEMS_WHERE                                                                                \
	"SELECT id FROM radar_value_list_items WHERE merchant_id = $1 AND id > $2 AND id < $3"     \
	" AND value_list = $5 AND ($6 IS NULL OR value = $6)"
static const char SQL_ITEMS_DESC[] = ITEMS_WHERE " ORDER BY id DESC LIMIT $4";
static const char SQL_ITEMS_ASC[] = ITEMS_WHERE " ORDER BY id ASC LIMIT $4";

static int items_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	db_bind_text(st, first, param_str(r, "value_list"), -1);
	list_bind_filter(r, st, first + 1, "value");
	return 0;
}

static int items_list_check_fn(struct db *db, void *p)
{
	struct item_ctx *x = p;
	int rc = vlist_load(x->r, db, x->value_list, &x->l);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "value_list", x->value_list, "value_list");
	return rc == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

static int h_items_list(struct req *r)
{
	struct item_ctx x = {.r = r, .value_list = param_str(r, "value_list")};
	if (req_read(r, items_list_check_fn, &x) != 0)
		return -1;
	const struct list_spec spec = {
	    .url = "/v1/radar/value_list_items",
	    .object_name = "value_list_item",
	    .id_prefix = "rsli_",
	    .sql_cursor = SQL_ITEMS_CURSOR,
	    .sql_desc = SQL_ITEMS_DESC,
	    .sql_asc = SQL_ITEMS_ASC,
	    .bind_filters = items_bind,
	    .render = item_render_by_id,
	};
	return list_respond(r, &spec);
}

/* ---- early fraud warnings ---- */

static int efw_render_by_id(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	return efw_render(db, r->merchant_id, r->livemode, id, j);
}

static int efw_retrieve_fn(struct db *db, void *p)
{
	struct req *r = p;
	int rc = efw_render(db, r->merchant_id, r->livemode, r->args[0], req_json(r));
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "early_fraud_warning", r->args[0],
					"early_fraud_warning");
	return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static int h_efw_retrieve(struct req *r)
{
	return req_read(r, efw_retrieve_fn, r);
}

static const char SQL_EFW_CURSOR[] =
    "SELECT created FROM radar_early_fraud_warnings WHERE merchant_id = $1 AND id = $2";
static const char SQL_EFW_DESC[] =
    "SELECT id FROM radar_early_fraud_warnings WHERE merchant_id = $1 AND id > $2 AND id < $3"
    " AND ($5 IS NULL OR charge = $5) AND ($6 IS NULL OR payment_intent = $6)"
    " ORDER BY id DESC LIMIT $4";
static const char SQL_EFW_ASC[] =
    "SELECT id FROM radar_early_fraud_warnings WHERE merchant_id = $1 AND id > $2 AND id < $3"
    " AND ($5 IS NULL OR charge = $5) AND ($6 IS NULL OR payment_intent = $6)"
    " ORDER BY id ASC LIMIT $4";

static int efw_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	list_bind_filter(r, st, first, "charge");
	list_bind_filter(r, st, first + 1, "payment_intent");
	return 0;
}

static int h_efw_list(struct req *r)
{
	const struct list_spec spec = {
	    .url = "/v1/radar/early_fraud_warnings",
	    .object_name = "early_fraud_warning",
	    .id_prefix = "issfr_",
	    .sql_cursor = SQL_EFW_CURSOR,
	    .sql_desc = SQL_EFW_DESC,
	    .sql_asc = SQL_EFW_ASC,
	    .bind_filters = efw_bind,
	    .render = efw_render_by_id,
	};
	return list_respond(r, &spec);
}

/* ---- reviews ---- */

static int review_render_by_id(struct req *r, struct db *db, const char *id, struct json *j,
			       void *ctx)
{
	(void)ctx;
	return review_render(db, r->merchant_id, r->livemode, id, j, NULL);
}

static int review_retrieve_fn(struct db *db, void *p)
{
	struct req *r = p;
	int rc = review_render(db, r->merchant_id, r->livemode, r->args[0], req_json(r), NULL);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "review", r->args[0], "review");
	return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static int h_review_retrieve(struct req *r)
{
	return req_read(r, review_retrieve_fn, r);
}

static int review_approve_fn(struct db *db, void *p)
{
	struct req *r = p;
	bool open = false;
	int rc = review_render(db, r->merchant_id, r->livemode, r->args[0], NULL, &open);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "review", r->args[0], "review");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!open)
		return req_fail(r, ERR_INVALID_STATE, NULL, "This review is already closed.");
	struct event_origin o = {r->request_id[0] ? r->request_id : NULL, r->idempotency_key,
				 r->livemode};
	rc = review_close(db, r->merchant_id, &o, r->args[0], "approved", r->now);
	if (rc == DB_OK)
		rc = review_render(db, r->merchant_id, r->livemode, r->args[0], req_json(r), NULL);
	return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static int h_review_approve(struct req *r)
{
	return req_write(r, review_approve_fn, r);
}

static const char SQL_REVIEWS_CURSOR[] =
    "SELECT created FROM radar_reviews WHERE merchant_id = $1 AND id = $2";
static const char SQL_REVIEWS_DESC[] =
    "SELECT id FROM radar_reviews WHERE merchant_id = $1 AND id > $2 AND id < $3"
    " ORDER BY id DESC LIMIT $4";
static const char SQL_REVIEWS_ASC[] =
    "SELECT id FROM radar_reviews WHERE merchant_id = $1 AND id > $2 AND id < $3"
    " ORDER BY id ASC LIMIT $4";

static int h_reviews_list(struct req *r)
{
	const struct list_spec spec = {
	    .url = "/v1/reviews",
	    .object_name = "review",
	    .id_prefix = "prv_",
	    .sql_cursor = SQL_REVIEWS_CURSOR,
	    .sql_desc = SQL_REVIEWS_DESC,
	    .sql_asc = SQL_REVIEWS_ASC,
	    .render = review_render_by_id,
	};
	return list_respond(r, &spec);
}

/* ---- routes ---- */

static const struct param_spec list_create_params[] = {
    {"alias", PT_STRING, PF_REQUIRED, 100, NULL, NULL},
    {"name", PT_STRING, PF_REQUIRED, RADAR_NAME_MAX, NULL, NULL},
    {"item_type", PT_ENUM, 0, 0, item_types, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec list_update_params[] = {
    {"alias", PT_STRING, 0, 100, NULL, NULL},
    {"name", PT_STRING, 0, RADAR_NAME_MAX, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec lists_list_params[] = {
    {"alias", PT_STRING, 0, 100, NULL, NULL},
    {"contains", PT_STRING, 0, RISK_VALUE_LIST_VALUE_MAX, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec item_create_params[] = {
    {"value_list", PT_STRING, PF_REQUIRED, 100, NULL, NULL},
    {"value", PT_STRING, PF_REQUIRED, RISK_VALUE_LIST_VALUE_MAX, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec items_list_params[] = {
    {"value_list", PT_STRING, PF_REQUIRED, 100, NULL, NULL},
    {"value", PT_STRING, 0, RISK_VALUE_LIST_VALUE_MAX, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec efw_list_params[] = {
    {"charge", PT_STRING, 0, 100, NULL, NULL},
    {"payment_intent", PT_STRING, 0, 100, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

/* ---- the default block lists a fraudulent refund feeds ---- */

static const char SQL_LIST_FOR_BLOCK[] =
    "SELECT id, item_type, item_count FROM radar_value_lists WHERE merchant_id = $1"
    " AND alias = $2";

int radar_block_default(struct req *r, struct db *db, const char *item_type, const char *value)
{
	bool card = strcmp(item_type, "card_fingerprint") == 0;
	const char *alias = card ? "card_fingerprint_blocklist" : "email_blocklist";
	char match[RISK_VALUE_LIST_VALUE_MAX + 1];
	if (!value || !*value || risk_value_list_check_value(item_type, value) != 0 ||
	    risk_value_list_normalize(item_type, value, match, sizeof(match)) != 0)
		return 0; /* nothing usable to list */
	char list_id[ID_MAX] = "";
	int64_t count = 0;
	struct db_stmt *st;
	int rc = db_row_by_id(db, SQL_LIST_FOR_BLOCK, r->merchant_id, alias, &st);
	if (rc == DB_OK) {
		const char *type = db_col_text(st, 1, NULL);
		bool same = type && strcmp(type, item_type) == 0;
		str_copy(list_id, sizeof(list_id), db_col_text(st, 0, NULL));
		count = db_col_int64(st, 2);
		db_reset(st);
		if (!same)
			return 0; /* the merchant's own list of that alias, of another type */
	} else if (rc == DB_NOTFOUND) {
		/* Stripe's accounts have their default lists from the start; Tender makes one the
		 * first time it is needed (within the bound on lists) */
		st = db_prepare(db, SQL_LISTS_COUNT);
		if (!st)
			return req_fail(r, ERR_API, NULL, NULL);
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_int64(st, 2, RADAR_VALUE_LISTS_MAX);
		int64_t n = db_step(st) == DB_ROW ? db_col_int64(st, 0) : -1;
		db_reset(st);
		if (n < 0)
			return req_fail(r, ERR_API, NULL, NULL);
		if (n >= RADAR_VALUE_LISTS_MAX)
			return 0;
		id_new_at(list_id, "rsl_", r->now);
		risk_value_lists_note_created(r->merchant_id);
		st = db_prepare(db, SQL_LIST_INSERT);
		if (!st)
			return req_fail(r, ERR_API, NULL, NULL);
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, list_id, -1);
		db_bind_int64(st, 3, r->now);
		db_bind_text(st, 4, alias, -1);
		db_bind_text(
		    st, 5,
		    card ? "Default card fingerprint block list" : "Default email block list", -1);
		db_bind_text(st, 6, item_type, -1);
		db_bind_text(st, 7, r->merchant_id, -1);
		db_bind_text(st, 8, "{}", -1);
		if (db_step_done(st) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
	} else {
		return req_fail(r, ERR_API, NULL, NULL);
	}
	if (count >= RADAR_VALUE_LIST_ITEMS_MAX)
		return 0;
	char item_id[ID_MAX];
	id_new_at(item_id, "rsli_", r->now);
	st = db_prepare(db, SQL_ITEM_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, item_id, -1);
	db_bind_int64(st, 3, r->now);
	db_bind_text(st, 4, list_id, -1);
	db_bind_text(st, 5, value, -1);
	db_bind_text(st, 6, match, -1);
	db_bind_text(st, 7, r->merchant_id, -1);
	int64_t changed = 0;
	if (db_step_changes(st, &changed) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (changed == 0)
		return 0; /* listed already */
	st = db_prepare(db, SQL_LIST_COUNT_UP);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, list_id, -1);
	db_bind_int64(st, 3, RADAR_VALUE_LIST_ITEMS_MAX);
	return db_step_done(st) == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

const struct route radar_routes[] = {
    {"POST", "/v1/radar/value_lists", h_list_create, list_create_params, 0},
    {"GET", "/v1/radar/value_lists", h_lists_list, lists_list_params, ROUTE_LIST},
    {"GET", "/v1/radar/value_lists/{id}", h_list_retrieve, no_params, 0},
    {"POST", "/v1/radar/value_lists/{id}", h_list_update, list_update_params, 0},
    {"DELETE", "/v1/radar/value_lists/{id}", h_list_delete, no_params, 0},
    {"POST", "/v1/radar/value_list_items", h_item_create, item_create_params, 0},
    {"GET", "/v1/radar/value_list_items", h_items_list, items_list_params, ROUTE_LIST},
    {"GET", "/v1/radar/value_list_items/{id}", h_item_retrieve, no_params, 0},
    {"DELETE", "/v1/radar/value_list_items/{id}", h_item_delete, no_params, 0},
    {"GET", "/v1/radar/early_fraud_warnings", h_efw_list, efw_list_params, ROUTE_LIST},
    {"GET", "/v1/radar/early_fraud_warnings/{id}", h_efw_retrieve, no_params, 0},
    {"GET", "/v1/reviews", h_reviews_list, no_params, ROUTE_LIST},
    {"GET", "/v1/reviews/{id}", h_review_retrieve, no_params, 0},
    {"POST", "/v1/reviews/{id}/approve", h_review_approve, no_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};

/*
 * Stripe Terminal's account-side objects: /v1/terminal/locations (tml_…),
 * /v1/terminal/configurations (tmc_…) and /v1/terminal/connection_tokens. Readers, their
 * actions and the simulated reader are in api/terminal_readers.c.
 *
 * Locations and configurations are created, retrieved, updated, listed and deleted; a deleted
 * one keeps its row (deleted = 1): retrieving it answers Stripe's deleted object, and nothing
 * else sees it. Stripe sends no events for either (src/webhooks/event_types.def has none), so
 * these writes append none.
 *
 * A connection token's secret (pst_test_…) is random and handed out once. Nothing is stored:
 * Tender has no Terminal SDK that would redeem it, so no record of it (not even a hash) has a
 * use, and, as for account sessions, the route keeps no Idempotency-Key record, which would hold
 * the secret in clear (ROUTE_READ_ONLY: a retried create makes a second token, which is
 * harmless). Its `location`, when given, must be one of the merchant's locations.
 */
#include <stdio.h>
#include <string.h>

#include "api/common.h"
#include "api/list.h"
#include "api/resources.h"
#include "api/terminal.h"
#include "core/str.h"
#include "http/form.h"

#define TOKEN_RANDOM_LEN 32

/* ---- the declines of Stripe's Terminal test amounts ---- */

const char *terminal_test_amount_decline(long long amount)
{
	if (amount < 0)
		return NULL;
	switch (amount % 100) {
	case 1:
		return "call_issuer";
	case 5:
		return "generic_decline";
	case 55:
		return "incorrect_pin";
	case 65:
		return "withdrawal_count_limit_exceeded";
	case 75:
		return "pin_try_exceeded";
	default:
		return NULL;
	}
}

void terminal_decline(struct processor_decision *d, const char *code)
{
	d->approved = false;
	d->auth_code[0] = '\0';
	d->err = ERR_CARD_DECLINED;
	str_copy(d->decline_code, sizeof(d->decline_code), code);
	d->network_status = "declined_by_network";
	d->outcome_type = "issuer_declined";
	d->reason = code;
	d->seller_message = "The bank returned a decline code for this Terminal test amount.";
}

/* ---- locations ---- */

struct location {
	char id[ID_MAX];
	int64_t created;
	bool deleted;
	const char *display_name, *address, *configuration_overrides, *metadata;
};

static const char SQL_LOC_GET[] =
    "SELECT id, created, deleted, display_name, address, configuration_overrides, metadata"
    " FROM terminal_locations WHERE merchant_id = $1 AND id = $2";
static const char SQL_LOC_INSERT[] =
    "INSERT INTO terminal_locations (merchant_id, id, created, display_name, address,"
    " configuration_overrides, metadata) VALUES ($1, $2, $3, $4, $5, $6, $7)";
static const char SQL_LOC_UPDATE[] =
    "UPDATE terminal_locations SET display_name = $3, address = $4, configuration_overrides = $5,"
    " metadata = $6 WHERE merchant_id = $1 AND id = $2";
static const char SQL_LOC_DELETE[] =
    "UPDATE terminal_locations SET deleted = 1 WHERE merchant_id = $1 AND id = $2";

static int location_load(struct req *r, struct db *db, const char *id, struct location *l)
{
	struct db_stmt *st = db_prepare(db, SQL_LOC_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		memset(l, 0, sizeof(*l));
		str_copy(l->id, sizeof(l->id), db_col_text(st, 0, NULL));
		l->created = db_col_int64(st, 1);
		l->deleted = db_col_int64(st, 2) != 0;
		l->display_name = col_text_dup(&r->arena, st, 3);
		l->address = col_text_dup(&r->arena, st, 4);
		l->configuration_overrides = col_text_dup(&r->arena, st, 5);
		l->metadata = col_text_dup(&r->arena, st, 6);
		if (!l->display_name || !l->address || !l->metadata)
			rc = DB_ERR;
	}
	db_reset(st);
	if (rc == DB_ROW)
		return DB_OK;
	return rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
}

int terminal_location_live(struct req *r, struct db *db, const char *id)
{
	struct location l;
	int rc = location_load(r, db, id, &l);
	if (rc == DB_OK && l.deleted)
		return DB_NOTFOUND;
	return rc;
}

/* Stripe's deleted object of a Terminal resource. */
static void render_deleted(struct json *j, const char *id, const char *object)
{
	json_obj_open(j);
	json_kv_str(j, "id", id);
	json_kv_str(j, "object", object);
	json_kv_bool(j, "deleted", true);
	json_obj_close(j);
}

static void location_render(struct req *r, const struct location *l, struct json *j)
{
	if (l->deleted) {
		render_deleted(j, l->id, "terminal.location");
		return;
	}
	json_obj_open(j);
	json_kv_str(j, "id", l->id);
	json_kv_str(j, "object", "terminal.location");
	json_kv_raw(j, "address", l->address, strlen(l->address));
	/* present only when set (the spec's field is neither required nor nullable) */
	if (l->configuration_overrides)
		json_kv_str(j, "configuration_overrides", l->configuration_overrides);
	json_kv_str(j, "display_name", l->display_name);
	json_kv_bool(j, "livemode", r->livemode);
	json_kv_raw(j, "metadata", l->metadata, strlen(l->metadata));
	json_obj_close(j);
}

static const struct param_spec location_create_params[] = {
    {"address", PT_OBJECT, PF_REQUIRED, 0, NULL, address_params},
    {"configuration_overrides", PT_STRING, 0, 1000, NULL, NULL},
    {"display_name", PT_STRING, PF_REQUIRED, 1000, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec location_update_params[] = {
    {"address", PT_OBJECT, 0, 0, NULL, address_params},
    {"configuration_overrides", PT_STRING, PF_EMPTYABLE, 1000, NULL, NULL},
    {"display_name", PT_STRING, 0, 1000, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

/* address (required on create: its country at least, as on Stripe). 0, or -1 with r->err. */
static int location_address(struct req *r, const char **ret)
{
	if (!param_present(r, "address"))
		return 0;
	const char *country = param_str(r, "address.country");
	if (!country || !*country)
		return req_fail(r, ERR_PARAM_MISSING, "address[country]", "address[country]");
	if (strlen(country) != 2 || country[0] < 'A' || country[0] > 'Z' || country[1] < 'A' ||
	    country[1] > 'Z')
		return req_fail(r, ERR_PARAM_BAD, "address[country]",
				"Invalid address[country]: a two-letter ISO 3166-1 country code in "
				"capitals is required.");
	const char *a = NULL;
	if (address_from_params(r, "address", &a) != 0)
		return -1;
	if (!a)
		return req_fail(r, ERR_API, NULL, NULL);
	*ret = a;
	return 0;
}

/* configuration_overrides: one of the merchant's configurations (inside the write). */
static int configuration_live(struct req *r, struct db *db, const char *id);

struct loc_ctx {
	struct req *r;
	const char *id;
	struct location l;
};

static int location_create_fn(struct db *db, void *p)
{
	struct loc_ctx *x = p;
	struct req *r = x->r;
	struct location *l = &x->l;
	if (l->configuration_overrides &&
	    configuration_live(r, db, l->configuration_overrides) != 0)
		return -1;
	struct db_stmt *st = db_prepare(db, SQL_LOC_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, l->id, -1);
	db_bind_int64(st, 3, l->created);
	db_bind_text(st, 4, l->display_name, -1);
	db_bind_text(st, 5, l->address, -1);
	db_bind_text(st, 6, l->configuration_overrides, -1);
	db_bind_text(st, 7, l->metadata, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	location_render(r, l, req_json(r));
	return 0;
}

static int h_location_create(struct req *r)
{
	struct loc_ctx x = {.r = r};
	struct location *l = &x.l;
	id_new_at(l->id, "tml_", r->now);
	l->created = r->now;
	l->display_name = param_str(r, "display_name");
	if (!l->display_name || !*l->display_name)
		return req_fail(r, ERR_PARAM_MISSING, "display_name", "display_name");
	if (location_address(r, &l->address) != 0)
		return -1;
	const char *co = param_str(r, "configuration_overrides");
	l->configuration_overrides = co && *co ? co : NULL;
	l->metadata = "{}";
	if (metadata_apply(r, NULL, "metadata", &l->metadata) != 0)
		return -1;
	return req_write(r, location_create_fn, &x);
}

/* The location of the path, not deleted (retrieve answers a deleted one: deleted_ok). */
static int location_of_path(struct loc_ctx *x, struct db *db, bool deleted_ok)
{
	int rc = location_load(x->r, db, x->id, &x->l);
	if (rc == DB_OK && x->l.deleted && !deleted_ok)
		rc = DB_NOTFOUND;
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "terminal.location", x->id, "location");
	return rc == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

static int location_retrieve_fn(struct db *db, void *p)
{
	struct loc_ctx *x = p;
	if (location_of_path(x, db, true) != 0)
		return -1;
	location_render(x->r, &x->l, req_json(x->r));
	return 0;
}

static int h_location_retrieve(struct req *r)
{
	struct loc_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, location_retrieve_fn, &x) == 0 ? 0 : -1;
}

static int location_update_fn(struct db *db, void *p)
{
	struct loc_ctx *x = p;
	struct req *r = x->r;
	if (location_of_path(x, db, false) != 0)
		return -1;
	struct location *l = &x->l;
	const char *dn = param_str(r, "display_name");
	if (dn) {
		if (!*dn)
			return req_fail(r, ERR_PARAM_INVALID, "display_name",
					"You passed an empty string for 'display_name'. We assume "
					"empty values are an attempt to unset a parameter; however "
					"'display_name' cannot be unset. You should remove "
					"'display_name' from your request or supply a non-empty "
					"value.");
		l->display_name = dn;
	}
	if (location_address(r, &l->address) != 0)
		return -1;
	l->configuration_overrides =
	    str_update(r, "configuration_overrides", l->configuration_overrides);
	if (param_present(r, "configuration_overrides") && l->configuration_overrides &&
	    configuration_live(r, db, l->configuration_overrides) != 0)
		return -1;
	if (metadata_apply(r, l->metadata, "metadata", &l->metadata) != 0)
		return -1;
	struct db_stmt *st = db_prepare(db, SQL_LOC_UPDATE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, l->id, -1);
	db_bind_text(st, 3, l->display_name, -1);
	db_bind_text(st, 4, l->address, -1);
	db_bind_text(st, 5, l->configuration_overrides, -1);
	db_bind_text(st, 6, l->metadata, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	location_render(r, l, req_json(r));
	return 0;
}

static int h_location_update(struct req *r)
{
	struct loc_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, location_update_fn, &x);
}

static int location_delete_fn(struct db *db, void *p)
{
	struct loc_ctx *x = p;
	struct req *r = x->r;
	if (location_of_path(x, db, false) != 0)
		return -1;
	struct db_stmt *st = db_prepare(db, SQL_LOC_DELETE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, x->id, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	render_deleted(req_json(r), x->id, "terminal.location");
	return 0;
}

static int h_location_delete(struct req *r)
{
	struct loc_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, location_delete_fn, &x);
}

static const char SQL_LOC_CURSOR[] =
    "SELECT created FROM terminal_locations WHERE merchant_id = $1 AND id = $2";
#define LOC_LIST_WHERE                                                                             \
	"SELECT id FROM terminal_locations WHERE merchant_id = $1 AND id > $2 AND id < $3"         \
	" AND deleted = 0"
static const char SQL_LOC_DESC[] = LOC_LIST_WHERE " ORDER BY id DESC LIMIT $4";
static const char SQL_LOC_ASC[] = LOC_LIST_WHERE " ORDER BY id ASC LIMIT $4";

static int location_list_render(struct req *r, struct db *db, const char *id, struct json *j,
				void *ctx)
{
	(void)ctx;
	struct location l;
	int rc = location_load(r, db, id, &l);
	if (rc == DB_OK)
		location_render(r, &l, j);
	return rc;
}

static int h_location_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/terminal/locations",
	    .object_name = "terminal.location",
	    .id_prefix = "tml_",
	    .sql_cursor = SQL_LOC_CURSOR,
	    .sql_desc = SQL_LOC_DESC,
	    .sql_asc = SQL_LOC_ASC,
	    .render = location_list_render,
	};
	return list_respond(r, &spec);
}

/* ---- configurations ---- */

struct configuration {
	char id[ID_MAX];
	int64_t created;
	bool deleted;
	const char *bbpos_wisepos_e, *verifone_p400, *tipping; /* JSON, or NULL */
};

static const char SQL_CFG_GET[] =
    "SELECT id, created, deleted, bbpos_wisepos_e, verifone_p400, tipping"
    " FROM terminal_configurations WHERE merchant_id = $1 AND id = $2";
static const char SQL_CFG_INSERT[] =
    "INSERT INTO terminal_configurations (merchant_id, id, created, bbpos_wisepos_e,"
    " verifone_p400, tipping) VALUES ($1, $2, $3, $4, $5, $6)";
static const char SQL_CFG_UPDATE[] =
    "UPDATE terminal_configurations SET bbpos_wisepos_e = $3, verifone_p400 = $4, tipping = $5"
    " WHERE merchant_id = $1 AND id = $2";
static const char SQL_CFG_DELETE[] =
    "UPDATE terminal_configurations SET deleted = 1 WHERE merchant_id = $1 AND id = $2";

static int configuration_load(struct req *r, struct db *db, const char *id, struct configuration *c)
{
	struct db_stmt *st = db_prepare(db, SQL_CFG_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		memset(c, 0, sizeof(*c));
		str_copy(c->id, sizeof(c->id), db_col_text(st, 0, NULL));
		c->created = db_col_int64(st, 1);
		c->deleted = db_col_int64(st, 2) != 0;
		c->bbpos_wisepos_e = col_text_dup(&r->arena, st, 3);
		c->verifone_p400 = col_text_dup(&r->arena, st, 4);
		c->tipping = col_text_dup(&r->arena, st, 5);
	}
	db_reset(st);
	if (rc == DB_ROW)
		return DB_OK;
	return rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
}

static int configuration_live(struct req *r, struct db *db, const char *id)
{
	struct configuration c;
	int rc = configuration_load(r, db, id, &c);
	if (rc == DB_OK && c.deleted)
		rc = DB_NOTFOUND;
	if (rc == DB_NOTFOUND)
		return req_fail(r, ERR_PARAM_RESOURCE_MISSING, "configuration_overrides",
				"No such terminal.configuration: '%s'", id);
	return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* The sub-objects are absent until set, as the spec has them (neither required nor nullable);
 * is_account_default is false: a configuration made through the API is never the account's
 * default, which Stripe makes itself. */
static void configuration_render(struct req *r, const struct configuration *c, struct json *j)
{
	if (c->deleted) {
		render_deleted(j, c->id, "terminal.configuration");
		return;
	}
	json_obj_open(j);
	json_kv_str(j, "id", c->id);
	json_kv_str(j, "object", "terminal.configuration");
	if (c->bbpos_wisepos_e)
		json_kv_raw(j, "bbpos_wisepos_e", c->bbpos_wisepos_e, strlen(c->bbpos_wisepos_e));
	json_kv_bool(j, "is_account_default", false);
	json_kv_bool(j, "livemode", r->livemode);
	if (c->tipping)
		json_kv_raw(j, "tipping", c->tipping, strlen(c->tipping));
	if (c->verifone_p400)
		json_kv_raw(j, "verifone_p400", c->verifone_p400, strlen(c->verifone_p400));
	json_obj_close(j);
}

static const struct param_spec splashscreen_children[] = {
    {"splashscreen", PT_STRING, PF_EMPTYABLE, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec tip_currency_children[] = {
    {"fixed_amounts", PT_STRING_ARRAY, 0, 0, NULL, NULL},
    {"percentages", PT_STRING_ARRAY, 0, 0, NULL, NULL},
    {"smart_tip_threshold", PT_INT, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
/* Stripe's tipping currencies (the spec's terminal_configuration tipping hash) */
static const char *const tip_currencies[] = {"aud", "cad", "chf", "czk", "dkk", "eur", "gbp",
					     "hkd", "myr", "nok", "nzd", "sek", "sgd", "usd"};
#define N_TIP_CURRENCIES (sizeof(tip_currencies) / sizeof(tip_currencies[0]))
static const struct param_spec tipping_children[] = {
    {"aud", PT_OBJECT, 0, 0, NULL, tip_currency_children},
    {"cad", PT_OBJECT, 0, 0, NULL, tip_currency_children},
    {"chf", PT_OBJECT, 0, 0, NULL, tip_currency_children},
    {"czk", PT_OBJECT, 0, 0, NULL, tip_currency_children},
    {"dkk", PT_OBJECT, 0, 0, NULL, tip_currency_children},
    {"eur", PT_OBJECT, 0, 0, NULL, tip_currency_children},
    {"gbp", PT_OBJECT, 0, 0, NULL, tip_currency_children},
    {"hkd", PT_OBJECT, 0, 0, NULL, tip_currency_children},
    {"myr", PT_OBJECT, 0, 0, NULL, tip_currency_children},
    {"nok", PT_OBJECT, 0, 0, NULL, tip_currency_children},
    {"nzd", PT_OBJECT, 0, 0, NULL, tip_currency_children},
    {"sek", PT_OBJECT, 0, 0, NULL, tip_currency_children},
    {"sgd", PT_OBJECT, 0, 0, NULL, tip_currency_children},
    {"usd", PT_OBJECT, 0, 0, NULL, tip_currency_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec configuration_params[] = {
    {"bbpos_wisepos_e", PT_OBJECT, PF_EMPTYABLE, 0, NULL, splashscreen_children},
    {"tipping", PT_OBJECT, PF_EMPTYABLE, 0, NULL, tipping_children},
    {"verifone_p400", PT_OBJECT, PF_EMPTYABLE, 0, NULL, splashscreen_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec configuration_list_params[] = {
    {"is_account_default", PT_BOOL, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

static const char SQL_SPLASH_FILE[] =
    "SELECT purpose FROM files WHERE merchant_id = $1 AND id = $2";

/* A device's hash ({splashscreen}: a file of the merchant uploaded with purpose
 * terminal_reader_splashscreen, or null). *ret: unchanged when the parameter is absent, NULL
 * when it is "". 0, or -1 with r->err. */
static int device_param(struct req *r, struct db *db, const char *name, const char **ret)
{
	const struct form_node *n = param_node(r, name);
	if (!n)
		return 0;
	if (n->kind == FORM_SCALAR) {
		*ret = NULL;
		return 0;
	}
	char path[64], shown[64];
	snprintf(path, sizeof(path), "%s.splashscreen", name);
	snprintf(shown, sizeof(shown), "%s[splashscreen]", name);
	const char *file = param_str(r, path);
	if (!file || !*file) {
		*ret = "{\"splashscreen\":null}";
		return 0;
	}
	struct db_stmt *st = db_prepare(db, SQL_SPLASH_FILE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, file, -1);
	int rc = db_step(st);
	bool ok = rc == DB_ROW && str_eq(db_col_text(st, 0, NULL), "terminal_reader_splashscreen");
	db_reset(st);
	if (rc < 0)
		return req_fail(r, ERR_API, NULL, NULL);
	if (rc != DB_ROW)
		return req_fail(r, ERR_PARAM_RESOURCE_MISSING, shown, "No such file upload: '%s'",
				file);
	if (!ok)
		return req_fail(r, ERR_PARAM_BAD, shown,
				"Invalid %s: the file must be uploaded with purpose "
				"`terminal_reader_splashscreen`.",
				shown);
	*ret = arena_printf(&r->arena, "{\"splashscreen\":\"%s\"}", file);
	return *ret ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* One array of non-negative integers (fixed_amounts: minor units, percentages: whole percent up
 * to 100) at path as JSON, or "null" when absent. 0, or -1 with r->err. */
static int int_array(struct req *r, struct json *j, const char *path, const char *shown,
		     int64_t max, int max_items)
{
	const struct form_node *n = param_node(r, path);
	if (!n) {
		json_nil(j);
		return 0;
	}
	json_arr_open(j);
	int count = 0;
	const struct form_node *it = n->kind == FORM_SCALAR ? n : n->first_child;
	for (; it; it = n->kind == FORM_SCALAR ? NULL : it->next) {
		if (it->kind != FORM_SCALAR || (n->kind == FORM_SCALAR && !*it->value))
			continue;
		int64_t v = 0;
		if (++count > max_items || parse_i64(it->value, &v) != 0 || v < 0 || v > max)
			return req_fail(r, ERR_PARAM_BAD, shown,
					"Invalid %s: at most %d integers from 0 to %lld.", shown,
					max_items, (long long)max);
		json_int(j, v);
	}
	json_arr_close(j);
	return 0;
}

/* tipping: {<currency>: {fixed_amounts, percentages, smart_tip_threshold}} for the currencies
 * given, each as Stripe shows it. *ret unchanged when absent, NULL when "". */
static int tipping_param(struct req *r, const char **ret)
{
	const struct form_node *n = param_node(r, "tipping");
	if (!n)
		return 0;
	if (n->kind == FORM_SCALAR) {
		*ret = NULL;
		return 0;
	}
	struct buf b;
	struct json j;
	buf_init(&b, 16 * 1024);
	json_init(&j, &b);
	json_obj_open(&j);
	int rc = 0;
	for (size_t i = 0; i < N_TIP_CURRENCIES && rc == 0; i++) {
		const char *cur = tip_currencies[i];
		char path[64], shown[64];
		snprintf(path, sizeof(path), "tipping.%s", cur);
		if (!param_present(r, path))
			continue;
		json_key(&j, cur);
		json_obj_open(&j);
		snprintf(path, sizeof(path), "tipping.%s.fixed_amounts", cur);
		snprintf(shown, sizeof(shown), "tipping[%s][fixed_amounts]", cur);
		json_key(&j, "fixed_amounts");
		rc = int_array(r, &j, path, shown, 99999999, 3);
		if (rc == 0) {
			snprintf(path, sizeof(path), "tipping.%s.percentages", cur);
			snprintf(shown, sizeof(shown), "tipping[%s][percentages]", cur);
			json_key(&j, "percentages");
			rc = int_array(r, &j, path, shown, 100, 3);
		}
		snprintf(path, sizeof(path), "tipping.%s.smart_tip_threshold", cur);
		int64_t t = 0;
		if (rc == 0 && param_int(r, path, &t) == 1) {
			if (t < 0)
				rc = req_fail(r, ERR_PARAM_BAD, path,
					      "Invalid tipping[%s][smart_tip_threshold]: it must "
					      "not be negative.",
					      cur);
			else
				json_kv_int(&j, "smart_tip_threshold", t);
		}
		json_obj_close(&j);
	}
	json_obj_close(&j);
	if (rc == 0) {
		*ret = b.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&b));
		if (!*ret)
			rc = req_fail(r, ERR_API, NULL, NULL);
	}
	buf_release(&b);
	return rc;
}

struct cfg_ctx {
	struct req *r;
	const char *id;
	struct configuration c;
};

static int configuration_apply(struct req *r, struct db *db, struct configuration *c)
{
	if (device_param(r, db, "bbpos_wisepos_e", &c->bbpos_wisepos_e) != 0 ||
	    device_param(r, db, "verifone_p400", &c->verifone_p400) != 0 ||
	    tipping_param(r, &c->tipping) != 0)
		return -1;
	return 0;
}

static int configuration_create_fn(struct db *db, void *p)
{
	struct cfg_ctx *x = p;
	struct req *r = x->r;
	struct configuration *c = &x->c;
	if (configuration_apply(r, db, c) != 0)
		return -1;
	struct db_stmt *st = db_prepare(db, SQL_CFG_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, c->id, -1);
	db_bind_int64(st, 3, c->created);
	db_bind_text(st, 4, c->bbpos_wisepos_e, -1);
	db_bind_text(st, 5, c->verifone_p400, -1);
	db_bind_text(st, 6, c->tipping, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	configuration_render(r, c, req_json(r));
	return 0;
}

static int h_configuration_create(struct req *r)
{
	struct cfg_ctx x = {.r = r};
	id_new_at(x.c.id, "tmc_", r->now);
	x.c.created = r->now;
	return req_write(r, configuration_create_fn, &x);
}

static int configuration_of_path(struct cfg_ctx *x, struct db *db, bool deleted_ok)
{
	int rc = configuration_load(x->r, db, x->id, &x->c);
	if (rc == DB_OK && x->c.deleted && !deleted_ok)
		rc = DB_NOTFOUND;
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "terminal.configuration", x->id, "configuration");
	return rc == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

static int configuration_retrieve_fn(struct db *db, void *p)
{
	struct cfg_ctx *x = p;
	if (configuration_of_path(x, db, true) != 0)
		return -1;
	configuration_render(x->r, &x->c, req_json(x->r));
	return 0;
}

static int h_configuration_retrieve(struct req *r)
{
	struct cfg_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, configuration_retrieve_fn, &x) == 0 ? 0 : -1;
}

static int configuration_update_fn(struct db *db, void *p)
{
	struct cfg_ctx *x = p;
	struct req *r = x->r;
	struct configuration *c = &x->c;
	if (configuration_of_path(x, db, false) != 0 || configuration_apply(r, db, c) != 0)
		return -1;
	struct db_stmt *st = db_prepare(db, SQL_CFG_UPDATE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, c->id, -1);
	db_bind_text(st, 3, c->bbpos_wisepos_e, -1);
	db_bind_text(st, 4, c->verifone_p400, -1);
	db_bind_text(st, 5, c->tipping, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	configuration_render(r, c, req_json(r));
	return 0;
}

static int h_configuration_update(struct req *r)
{
	struct cfg_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, configuration_update_fn, &x);
}

static int configuration_delete_fn(struct db *db, void *p)
{
	struct cfg_ctx *x = p;
	struct req *r = x->r;
	if (configuration_of_path(x, db, false) != 0)
		return -1;
	struct db_stmt *st = db_prepare(db, SQL_CFG_DELETE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, x->id, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	render_deleted(req_json(r), x->id, "terminal.configuration");
	return 0;
}

static int h_configuration_delete(struct req *r)
{
	struct cfg_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, configuration_delete_fn, &x);
}

static const char SQL_CFG_CURSOR[] =
    "SELECT created FROM terminal_configurations WHERE merchant_id = $1 AND id = $2";
/* is_account_default=true lists none: no configuration made through the API is the default */
#define CFG_LIST_WHERE                                                                             \
	"SELECT id FROM terminal_configurations WHERE merchant_id = $1 AND id > $2 AND id < $3"    \
	" AND deleted = 0 AND ($5 IS NULL OR $5 = 0)"
static const char SQL_CFG_DESC[] = CFG_LIST_WHERE " ORDER BY id DESC LIMIT $4";
static const char SQL_CFG_ASC[] = CFG_LIST_WHERE " ORDER BY id ASC LIMIT $4";

static int configuration_list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	list_bind_bool(r, st, first, "is_account_default");
	return 0;
}

static int configuration_list_render(struct req *r, struct db *db, const char *id, struct json *j,
				     void *ctx)
{
	(void)ctx;
	struct configuration c;
	int rc = configuration_load(r, db, id, &c);
	if (rc == DB_OK)
		configuration_render(r, &c, j);
	return rc;
}

static int h_configuration_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/terminal/configurations",
	    .object_name = "terminal.configuration",
	    .id_prefix = "tmc_",
	    .sql_cursor = SQL_CFG_CURSOR,
	    .sql_desc = SQL_CFG_DESC,
	    .sql_asc = SQL_CFG_ASC,
	    .bind_filters = configuration_list_bind,
	    .render = configuration_list_render,
	};
	return list_respond(r, &spec);
}

/* ---- connection tokens ---- */

static const struct param_spec token_params[] = {
    {"location", PT_STRING, 0, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

static int token_location_fn(struct db *db, void *p)
{
	struct req *r = p;
	const char *loc = param_str(r, "location");
	int rc = terminal_location_live(r, db, loc);
	if (rc == DB_NOTFOUND)
		return req_fail(r, ERR_PARAM_RESOURCE_MISSING, "location", "No such location: '%s'",
				loc);
	return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static int h_token_create(struct req *r)
{
	const char *loc = param_str(r, "location");
	if (loc && !*loc)
		loc = NULL;
	if (loc && req_read(r, token_location_fn, r) != 0)
		return -1;
	char rnd[TOKEN_RANDOM_LEN + 1];
	id_random_base62(rnd, TOKEN_RANDOM_LEN);
	struct json *j = req_json(r);
	json_obj_open(j);
	json_kv_str(j, "object", "terminal.connection_token");
	if (loc)
		json_kv_str(j, "location", loc);
	char secret[64];
	snprintf(secret, sizeof(secret), "pst_%s_%s", r->livemode ? "live" : "test", rnd);
	json_kv_str(j, "secret", secret);
	json_obj_close(j);
	explicit_bzero(secret, sizeof(secret));
	explicit_bzero(rnd, sizeof(rnd));
	return 0;
}

const struct route terminal_routes[] = {
    {"POST", "/v1/terminal/locations", h_location_create, location_create_params, 0},
    {"GET", "/v1/terminal/locations", h_location_list, no_params, ROUTE_LIST},
    {"GET", "/v1/terminal/locations/{id}", h_location_retrieve, no_params, 0},
    {"POST", "/v1/terminal/locations/{id}", h_location_update, location_update_params, 0},
    {"DELETE", "/v1/terminal/locations/{id}", h_location_delete, no_params, 0},
    {"POST", "/v1/terminal/configurations", h_configuration_create, configuration_params, 0},
    {"GET", "/v1/terminal/configurations", h_configuration_list, configuration_list_params,
     ROUTE_LIST},
    {"GET", "/v1/terminal/configurations/{id}", h_configuration_retrieve, no_params, 0},
    {"POST", "/v1/terminal/configurations/{id}", h_configuration_update, configuration_params, 0},
    {"DELETE", "/v1/terminal/configurations/{id}", h_configuration_delete, no_params, 0},
    /* ROUTE_READ_ONLY: no Idempotency-Key record, which would keep the secret (see above) */
    {"POST", "/v1/terminal/connection_tokens", h_token_create, token_params, ROUTE_READ_ONLY},
    {NULL, NULL, NULL, NULL, 0},
};

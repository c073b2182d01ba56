/*
 * /v1/payment_method_configurations: which payment method types a merchant's checkout surfaces
 * offer (Stripe's payment_method_configuration, pmc_…).
 *
 * Every type Tender takes (payments/pm_types.c) is `available`, its display value following its
 * preference; every other type of Stripe's list is shown with `available: false` and a display
 * value of `off` whatever its preference. What is on is what a PaymentIntent or SetupIntent with
 * automatic_payment_methods offers (payment_method_configuration_types). A configuration keeps
 * one preference per type (on, off, or none: no preference, which takes the default: on for
 * card, off for the rest), stored as one character per type in the order of the
 * table below ('1', '0', 'n'; a stored string shorter than the table reads 'n' past its end, so
 * types can be appended to the table without a migration).
 *
 * Every merchant has a default configuration (`is_default`, named "Default", card on, the rest
 * off) from the start: it is made by the first request that reads or writes configurations (a
 * write of its own before a read, inside the write for create and update), as Tender's customer
 * portal makes its default configuration; the unique index on (merchant_id, is_default) keeps it
 * one (is_default is 1 or NULL). The default cannot be deactivated.
 *
 * `parent` (create) is for a connected account's configuration: the platform's configuration it
 * derives from, one of the platform's own (looked up under the platform's merchant id, on the
 * same shard as its Connect family); without Stripe-Account it is refused. The child keeps its own
 * preferences (a `none` shows the default, not the parent's value). `application` is always null
 * (no Connect application makes configurations here), so listing with `application` finds none.
 *
 * Stripe sends no payment_method_configuration.* events (not in its webhook event list), so
 * these writes append none.
 */
#include <stdio.h>
#include <string.h>

#include "api/common.h"
#include "api/list.h"
#include "api/payments_common.h"
#include "api/resources.h"
#include "app.h"
#include "core/str.h"
#include "payments/pm_types.h"

static const char *const types[] = {
    "acss_debit",
    "affirm",
    "afterpay_clearpay",
    "alipay",
    "amazon_pay",
    "apple_pay",
    "bacs_debit",
    "bancontact",
    "blik",
    "card",
    "cartes_bancaires",
    "cashapp",
    "customer_balance",
    "eps",
    "giropay",
    "google_pay",
    "ideal",
    "klarna",
    "link",
    "multibanco",
    "p24",
    "sepa_debit",
    "sofort",
    "us_bank_account",
    "wechat_pay",
    "zip",
};
#define N_TYPES (sizeof(types) / sizeof(types[0]))
#define NAME_MAX_LEN 100

static bool type_available(const char *type)
{
	/* customer_balance (bank transfers) is taken only when a PaymentIntent names it: no
	 * automatic choice offers it, so a configuration does not show it on */
	return (pm_type_bit(type) & PMT_ALL) != 0;
}

/* The display value of types[i] under preference p ('1', '0' or 'n'). */
static bool type_on(size_t i, char p)
{
	return type_available(types[i]) &&
	       (p == '1' || (p == 'n' && strcmp(types[i], "card") == 0));
}

struct pmc {
	char id[ID_MAX];
	int64_t created;
	const char *name;
	bool active, is_default;
	char parent[ID_MAX];
	char prefs[N_TYPES + 1]; /* '1', '0' or 'n' per type */
};

#define PMC_COLS "id, created, name, active, is_default, parent, prefs"
static const char SQL_GET[] = "SELECT " PMC_COLS " FROM payment_method_configurations"
			      " WHERE merchant_id = $1 AND id = $2";
static const char SQL_DEFAULT[] = "SELECT id FROM payment_method_configurations"
				  " WHERE merchant_id = $1 AND is_default = 1";
static const char SQL_INSERT[] =
    "INSERT INTO payment_method_configurations (merchant_id, " PMC_COLS ")"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
static const char SQL_INSERT_DEFAULT[] =
    "INSERT INTO payment_method_configurations (merchant_id, " PMC_COLS ")"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (merchant_id, is_default) DO NOTHING";
static const char SQL_UPDATE[] = "UPDATE payment_method_configurations SET name = $3, active = $4,"
				 " prefs = $5 WHERE merchant_id = $1 AND id = $2";

static int pmc_load(struct req *r, struct db *db, const char *merchant_id, const char *id,
		    struct pmc *c)
{
	struct db_stmt *st;
	int rc = db_row_by_id(db, SQL_GET, merchant_id, id, &st);
	if (rc != DB_OK)
		return rc;
	memset(c, 0, sizeof(*c));
	str_copy(c->id, sizeof(c->id), db_col_text(st, 0, NULL));
	c->created = db_col_int64(st, 1);
	c->name = col_text_dup(&r->arena, st, 2);
	c->active = db_col_int64(st, 3) != 0;
	c->is_default = db_col_int64_or0(st, 4) != 0;
	const char *parent = db_col_text(st, 5, NULL);
	str_copy(c->parent, sizeof(c->parent), parent ? parent : "");
	const char *prefs = db_col_text(st, 6, NULL);
	memset(c->prefs, 'n', N_TYPES);
	c->prefs[N_TYPES] = '\0';
	for (size_t i = 0; prefs && prefs[i] && i < N_TYPES; i++)
		c->prefs[i] = prefs[i];
	db_reset(st);
	return c->name ? DB_OK : DB_ERR;
}

static int pmc_insert(struct req *r, struct db *db, const char *sql, const struct pmc *c,
		      int64_t *ret_n)
{
	struct db_stmt *st = db_prepare(db, sql);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, c->id, -1);
	db_bind_int64(st, 3, c->created);
	db_bind_text(st, 4, c->name, -1);
	db_bind_int64(st, 5, c->active ? 1 : 0);
	if (c->is_default)
		db_bind_int64(st, 6, 1);
	else
		db_bind_null(st, 6);
	db_bind_text(st, 7, c->parent[0] ? c->parent : NULL, -1);
	db_bind_text(st, 8, c->prefs, -1);
	return db_step_changes(st, ret_n);
}

static void pmc_render(struct req *r, const struct pmc *c, struct json *j)
{
	json_obj_open(j);
	json_kv_str(j, "id", c->id);
	json_kv_str(j, "object", "payment_method_configuration");
	json_kv_bool(j, "active", c->active);
	json_kv_null(j, "application");
	json_kv_bool(j, "is_default", c->is_default);
	json_kv_bool(j, "livemode", r->livemode);
	json_kv_str(j, "name", c->name);
	json_kv_str_or_null(j, "parent", c->parent[0] ? c->parent : NULL);
	for (size_t i = 0; i < N_TYPES; i++) {
		bool avail = type_available(types[i]);
		char p = c->prefs[i];
		bool on = type_on(i, p);
		json_key(j, types[i]);
		json_obj_open(j);
		json_kv_bool(j, "available", avail);
		json_key(j, "display_preference");
		json_obj_open(j);
		json_kv_null(j, "overridable");
		json_kv_str(j, "preference", p == '1' ? "on" : p == '0' ? "off" : "none");
		json_kv_str(j, "value", on ? "on" : "off");
		json_obj_close(j);
		json_obj_close(j);
	}
	json_obj_close(j);
}

/* Inside a write: the merchant's default configuration, made when it has none. */
static int default_ensure(struct req *r, struct db *db)
{
	struct db_stmt *st = db_prepare(db, SQL_DEFAULT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	int rc = db_step(st);
	db_reset(st);
	if (rc == DB_ROW)
		return DB_OK;
	if (rc != DB_DONE)
		return DB_ERR;
	struct pmc c;
	memset(&c, 0, sizeof(c));
	id_new_at(c.id, "pmc_", r->now);
	c.created = r->now;
	c.name = "Default";
	c.active = c.is_default = true;
	for (size_t i = 0; i < N_TYPES; i++)
		c.prefs[i] = strcmp(types[i], "card") == 0 ? '1' : '0';
	int64_t n;
	return pmc_insert(r, db, SQL_INSERT_DEFAULT, &c, &n);
}

static int has_default_fn(struct db *db, void *arg)
{
	struct req *r = arg;
	struct db_stmt *st = db_prepare(db, SQL_DEFAULT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	int rc = db_step(st);
	db_reset(st);
	return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : DB_ERR;
}

static int ensure_fn(struct db *db, void *arg)
{
	return default_ensure(arg, db);
}

/* Before a read: makes the default configuration in a write of its own when there is none yet
 * (not req_write: the request's answer is the read's, and a GET saves no idempotent answer). */
static int default_before_read(struct req *r)
{
	int rc = store_read(r->app->store, r->merchant_id, has_default_fn, r);
	if (rc == 1)
		return 0;
	if (rc == 0)
		rc = store_write(r->app->store, r->merchant_id, ensure_fn, r);
	if (rc == DB_OK)
		return 0;
	return req_fail(r, rc == STORE_OVERLOADED ? ERR_OVERLOADED : ERR_API, NULL, NULL);
}

/* ---- parameters ---- */

static const char *const preferences[] = {"none", "off", "on", NULL};
static const struct param_spec pref_children[] = {
    {"preference", PT_ENUM, 0, 0, preferences, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec type_children[] = {
    {"display_preference", PT_OBJECT, 0, 0, NULL, pref_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
#define TYPE_PARAM(t)                                                                              \
	{                                                                                          \
		t, PT_OBJECT, 0, 0, NULL, type_children                                            \
	}
#define TYPE_PARAMS                                                                                \
	TYPE_PARAM("acss_debit"), TYPE_PARAM("affirm"), TYPE_PARAM("afterpay_clearpay"),           \
	    TYPE_PARAM("alipay"), TYPE_PARAM("amazon_pay"), TYPE_PARAM("apple_pay"),               \
	    TYPE_PARAM("bacs_debit"), TYPE_PARAM("bancontact"), TYPE_PARAM("blik"),                \
	    TYPE_PARAM("card"), TYPE_PARAM("cartes_bancaires"), TYPE_PARAM("cashapp"),             \
	    TYPE_PARAM("customer_balance"), TYPE_PARAM("eps"), TYPE_PARAM("giropay"),              \
	    TYPE_PARAM("google_pay"), TYPE_PARAM("ideal"), TYPE_PARAM("klarna"),                   \
	    TYPE_PARAM("link"), TYPE_PARAM("multibanco"), TYPE_PARAM("p24"),                       \
	    TYPE_PARAM("sepa_debit"), TYPE_PARAM("sofort"), TYPE_PARAM("us_bank_account"),         \
	    TYPE_PARAM("wechat_pay"), TYPE_PARAM("zip")

static const struct param_spec create_params[] = {
    {"name", PT_STRING, 0, NAME_MAX_LEN, NULL, NULL},
    {"parent", PT_STRING, 0, 255, NULL, NULL},
    TYPE_PARAMS,
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec update_params[] = {
    {"active", PT_BOOL, 0, 0, NULL, NULL},
    {"name", PT_STRING, 0, NAME_MAX_LEN, NULL, NULL},
    TYPE_PARAMS,
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec list_params[] = {
    {"application", PT_STRING, PF_EMPTYABLE, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

/* The preferences sent ([type][display_preference][preference]) into c->prefs. */
static void prefs_apply(struct req *r, struct pmc *c)
{
	char path[96];
	for (size_t i = 0; i < N_TYPES; i++) {
		snprintf(path, sizeof(path), "%s.display_preference.preference", types[i]);
		const char *p = param_str(r, path);
		if (!p || !*p)
			continue;
		c->prefs[i] = strcmp(p, "on") == 0 ? '1' : strcmp(p, "off") == 0 ? '0' : 'n';
	}
}

/* ---- create, retrieve, update ---- */

struct pmc_ctx {
	struct req *r;
	const char *id;
	struct pmc c;
};

static int create_fn(struct db *db, void *arg)
{
	struct pmc_ctx *x = arg;
	struct req *r = x->r;
	if (default_ensure(r, db) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (x->c.parent[0]) {
		struct pmc parent;
		int rc = pmc_load(r, db, r->platform_id, x->c.parent, &parent);
		if (rc == DB_NOTFOUND)
			return req_fail_missing(r, "payment_method_configuration", x->c.parent,
						"parent");
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	int64_t n;
	if (pmc_insert(r, db, SQL_INSERT, &x->c, &n) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	pmc_render(r, &x->c, req_json(r));
	return 0;
}

static int h_create(struct req *r)
{
	struct pmc_ctx x = {.r = r};
	struct pmc *c = &x.c;
	id_new_at(c->id, "pmc_", r->now);
	c->created = r->now;
	c->active = true;
	const char *name = param_str(r, "name");
	c->name = name && *name ? name : "Payment method configuration";
	memset(c->prefs, 'n', N_TYPES);
	c->prefs[N_TYPES] = '\0';
	prefs_apply(r, c);
	const char *parent = param_str(r, "parent");
	if (parent && *parent) {
		if (!r->platform_id[0])
			return req_fail(
			    r, ERR_PARAM_BAD, "parent",
			    "A parent configuration can only be given for a connected "
			    "account's configuration (with the Stripe-Account header).");
		str_copy(c->parent, sizeof(c->parent), parent);
	}
	return req_write(r, create_fn, &x);
}

static int load_fn(struct db *db, void *arg)
{
	struct pmc_ctx *x = arg;
	int rc = pmc_load(x->r, db, x->r->merchant_id, x->id, &x->c);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "payment_method_configuration", x->id,
					"configuration");
	return rc == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

static int retrieve_fn(struct db *db, void *arg)
{
	struct pmc_ctx *x = arg;
	if (load_fn(db, arg) != 0)
		return -1;
	pmc_render(x->r, &x->c, req_json(x->r));
	return 0;
}

static int h_retrieve(struct req *r)
{
	struct pmc_ctx x = {.r = r, .id = r->args[0]};
	if (default_before_read(r) != 0)
		return -1;
	return req_read(r, retrieve_fn, &x) == 0 ? 0 : -1;
}

static int update_fn(struct db *db, void *arg)
{
	struct pmc_ctx *x = arg;
	struct req *r = x->r;
	if (default_ensure(r, db) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (load_fn(db, arg) != 0)
		return -1;
	struct pmc *c = &x->c;
	bool active = c->active;
	if (param_bool(r, "active", &active) == 1 && !active && c->is_default)
		return req_fail(r, ERR_PARAM_BAD, "active",
				"The default payment method configuration cannot be deactivated.");
	c->active = active;
	const char *name = param_str(r, "name");
	if (name && *name)
		c->name = name;
	prefs_apply(r, c);
	struct db_stmt *st = db_prepare(db, SQL_UPDATE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, c->id, -1);
	db_bind_text(st, 3, c->name, -1);
	db_bind_int64(st, 4, c->active ? 1 : 0);
	db_bind_text(st, 5, c->prefs, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	pmc_render(r, c, req_json(r));
	return 0;
}

static int h_update(struct req *r)
{
	struct pmc_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, update_fn, &x);
}

/* ---- list ---- */

static const char SQL_CURSOR[] =
    "SELECT created FROM payment_method_configurations WHERE merchant_id = $1 AND id = $2";
/* application: no configuration has one, so a filter by it matches none */
#define LIST_WHERE                                                                                 \
	"SELECT id FROM payment_method_configurations WHERE merchant_id = $1 AND id > $2"          \
	" AND id < $3 AND $5 = 0"
static const char SQL_DESC[] = LIST_WHERE " ORDER BY id DESC LIMIT $4";
static const char SQL_ASC[] = LIST_WHERE " ORDER BY id ASC LIMIT $4";

static int list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	const char *app = param_str(r, "application");
	db_bind_int64(st, first, app && *app ? 1 : 0);
	return 0;
}

static int list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	struct pmc c;
	int rc = pmc_load(r, db, r->merchant_id, id, &c);
	if (rc == DB_OK)
		pmc_render(r, &c, j);
	return rc;
}

static int h_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/payment_method_configurations",
	    .object_name = "payment_method_configuration",
	    .id_prefix = "pmc_",
	    .sql_cursor = SQL_CURSOR,
	    .sql_desc = SQL_DESC,
	    .sql_asc = SQL_ASC,
	    .bind_filters = list_bind,
	    .render = list_render,
	};
	if (default_before_read(r) != 0)
		return -1;
	return list_respond(r, &spec);
}

/* ---- for PaymentIntents, SetupIntents and Checkout Sessions ---- */

struct known_ctx {
	struct req *r;
	const char *id;
};

static int known_fn(struct db *db, void *arg)
{
	struct known_ctx *k = arg;
	struct req *r = k->r;
	struct pmc c;
	int rc = pmc_load(r, db, r->merchant_id, k->id, &c);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "payment_method_configuration", k->id,
					"payment_method_configuration");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!c.active)
		return req_fail(r, ERR_PARAM_BAD, "payment_method_configuration",
				"The payment method configuration %s is not active.", k->id);
	return 0;
}

/* A read of its own before the caller's write: a configuration is never deleted, and one
 * deactivated in between still names a configuration of the merchant (the id is only checked,
 * not kept). The default needs no making here: an id the merchant has seen exists. */
int payment_method_configuration_known(struct req *r, const char *id)
{
	struct known_ctx k = {.r = r, .id = id};
	return req_read(r, known_fn, &k) == 0 ? 0 : -1;
}

struct types_ctx {
	struct req *r;
	const char *id;
	unsigned *on;
	char *id_out, *parent_out;
};

static int types_fn(struct db *db, void *arg)
{
	struct types_ctx *x = arg;
	struct req *r = x->r;
	struct pmc c;
	const char *id = x->id;
	char def[ID_MAX] = "";
	if (!id) {
		struct db_stmt *st = db_prepare(db, SQL_DEFAULT);
		if (!st)
			return req_fail(r, ERR_API, NULL, NULL);
		db_bind_text(st, 1, r->merchant_id, -1);
		int rc = db_step(st);
		if (rc == DB_ROW)
			str_copy(def, sizeof(def), db_col_text(st, 0, NULL));
		db_reset(st);
		if (rc != DB_ROW)
			return req_fail(r, ERR_API, NULL, NULL);
		id = def;
	}
	int rc = pmc_load(r, db, r->merchant_id, id, &c);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "payment_method_configuration", id,
					"payment_method_configuration");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!c.active)
		return req_fail(r, ERR_PARAM_BAD, "payment_method_configuration",
				"The payment method configuration %s is not active.", id);
	*x->on = 0;
	for (size_t i = 0; i < N_TYPES; i++)
		if (type_on(i, c.prefs[i]))
			*x->on |= pm_type_bit(types[i]);
	str_copy(x->id_out, ID_MAX, c.id);
	str_copy(x->parent_out, ID_MAX, c.parent);
	return 0;
}

int payment_method_configuration_types(struct req *r, struct db *db, const char *id, unsigned *on,
				       char id_out[ID_MAX], char parent_out[ID_MAX])
{
	struct types_ctx x = {r, id, on, id_out, parent_out};
	if (db) {
		if (!id && default_ensure(r, db) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		return types_fn(db, &x);
	}
	/* the default is made first, in a write of its own, as a read of configurations does */
	if (!id && default_before_read(r) != 0)
		return -1;
	return req_read(r, types_fn, &x) == 0 ? 0 : -1;
}

const struct route payment_method_configurations_routes[] = {
    {"POST", "/v1/payment_method_configurations", h_create, create_params, 0},
    {"GET", "/v1/payment_method_configurations", h_list, list_params, ROUTE_LIST},
    {"GET", "/v1/payment_method_configurations/{id}", h_retrieve, no_params, 0},
    {"POST", "/v1/payment_method_configurations/{id}", h_update, update_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};

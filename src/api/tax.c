/*
 * Stripe Tax: /v1/tax/settings, /v1/tax/registrations, /v1/tax/calculations,
 * /v1/tax/transactions and /v1/tax_codes.
 *
 * The merchant's settings (defaults[tax_behavior, tax_code], head_office) and registrations
 * (where it collects tax, from active_from until expires_at) are rows of its own. A calculation
 * reads them with the customer's location and computes each line with the pure engine
 * (tax/engine.h: destination-based, the built-in standard rates of tax/rates.c, one rounding
 * rule); what it computed is kept as it was answered (a calculation never changes: its
 * breakdowns are stored as the JSON rendered then) and it expires after 90 days. A transaction
 * records a calculation once (create_from_calculation: the calculation is claimed by a guarded
 * update, so a second transaction from it is refused); a reversal records negative amounts
 * against a transaction's lines (mode=full: whatever is left of them; partial: given lines, or
 * a flat_amount spread over the lines in proportion to what is left), never more than is left,
 * which the reversal's own write checks against the sums of the earlier reversals.
 *
 * Events: only tax.settings.updated, as Stripe sends (registrations, calculations and
 * transactions send none there).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/common.h"
#include "api/list.h"
#include "api/resources.h"
#include "api/tax_ids.h"
#include "billing/billing.h"
#include "billing/tax.h"
#include "core/str.h"
#include "http/form.h"
#include "tax/engine.h"
#include "tax/merchant.h"

#define TAX_LINES_MAX 100
#define TAX_BREAKDOWN_MAX 32
#define TAX_CUSTOMER_IDS_MAX 25
#define TAX_EXPIRY_S (90 * 86400)
#define TAX_DATE_WINDOW_S (48 * 3600)

static const char *const behaviors[] = {"exclusive", "inclusive", NULL};
static const char *const default_behaviors[] = {"exclusive", "inclusive", "inferred_by_currency",
						NULL};

/* A tax code parameter: txcd_ and 8 digits (a code Tender does not list is taxed as goods). */
static bool tax_code_valid(const char *s)
{
	if (!s || strncmp(s, "txcd_", 5) != 0 || strlen(s) != 13)
		return false;
	for (int i = 5; i < 13; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* ---- addresses ---- */

struct tax_addr {
	const char *city, *country, *line1, *line2, *postal_code, *state;
};

static void addr_render(const struct tax_addr *a, struct json *j)
{
	json_obj_open(j);
	json_kv_str_or_null(j, "city", a->city);
	json_kv_str_or_null(j, "country", a->country);
	json_kv_str_or_null(j, "line1", a->line1);
	json_kv_str_or_null(j, "line2", a->line2);
	json_kv_str_or_null(j, "postal_code", a->postal_code);
	json_kv_str_or_null(j, "state", a->state);
	json_obj_close(j);
}

static const char *upper_dup(struct req *r, const char *s)
{
	if (!s || !*s)
		return NULL;
	char *o = arena_strdup(&r->arena, s);
	for (char *p = o; p && *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	return o;
}

static const char *nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

/* The address hash at path (dotted) into a; false when absent. */
static bool addr_from_params(struct req *r, const char *path, struct tax_addr *a)
{
	memset(a, 0, sizeof(*a));
	const struct form_node *n = param_node(r, path);
	if (!n || n->kind == FORM_SCALAR)
		return false;
	const char *p = arena_printf(&r->arena, "%s.", path);
#define FIELD(f) nonempty(param_str(r, arena_printf(&r->arena, "%s" #f, p)))
	a->city = FIELD(city);
	a->country = upper_dup(r, FIELD(country));
	a->line1 = FIELD(line1);
	a->line2 = FIELD(line2);
	a->postal_code = FIELD(postal_code);
	a->state = upper_dup(r, FIELD(state));
#undef FIELD
	return true;
}

static const char *jstr(struct req *r, json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s && *s ? arena_strdup(&r->arena, s) : NULL;
}

/* An address stored as JSON text (a customer's) into a; false when none or no country. */
static bool addr_from_json(struct req *r, json_t *o, struct tax_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (!json_is_object(o))
		return false;
	a->city = jstr(r, o, "city");
	a->country = upper_dup(r, jstr(r, o, "country"));
	a->line1 = jstr(r, o, "line1");
	a->line2 = jstr(r, o, "line2");
	a->postal_code = jstr(r, o, "postal_code");
	a->state = upper_dup(r, jstr(r, o, "state"));
	return a->country != NULL;
}

/* Both unset, or equal. */
static bool same(const char *a, const char *b)
{
	return (!a && !b) || str_eq(a, b);
}

static const char *json_done(struct req *r, struct buf *b)
{
	const char *s = b->failed ? NULL : arena_strndup(&r->arena, b->data, b->len);
	buf_release(b);
	return s;
}

/* ---- settings ---- */

struct settings {
	const char *tax_behavior, *tax_code, *head_office; /* head_office: address JSON */
};

static const char SQL_SETTINGS_GET[] =
    "SELECT tax_behavior, tax_code, head_office FROM tax_settings WHERE merchant_id = $1";
static const char SQL_SETTINGS_PUT[] =
    "INSERT INTO tax_settings (merchant_id, tax_behavior, tax_code, head_office, updated)"
    " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (merchant_id) DO UPDATE SET tax_behavior = $2,"
    " tax_code = $3, head_office = $4, updated = $5";

static int settings_load(struct req *r, struct db *db, struct settings *s)
{
	memset(s, 0, sizeof(*s));
	struct db_stmt *st = db_prepare(db, SQL_SETTINGS_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		s->tax_behavior = col_text_dup(&r->arena, st, 0);
		s->tax_code = col_text_dup(&r->arena, st, 1);
		s->head_office = col_text_dup(&r->arena, st, 2);
	}
	db_reset(st);
	return rc == DB_ROW || rc == DB_DONE ? DB_OK : rc < 0 ? rc : DB_ERR;
}

static void settings_render(const struct settings *s, struct json *j)
{
	json_obj_open(j);
	json_key(j, "defaults");
	json_obj_open(j);
	json_kv_str_or_null(j, "tax_behavior", s->tax_behavior);
	json_kv_str_or_null(j, "tax_code", s->tax_code);
	json_obj_close(j);
	json_key(j, "head_office");
	if (s->head_office) {
		json_obj_open(j);
		json_kv_raw(j, "address", s->head_office, strlen(s->head_office));
		json_obj_close(j);
	} else {
		json_nil(j);
	}
	json_kv_bool(j, "livemode", false);
	json_kv_str(j, "object", "tax.settings");
	/* Stripe's rule: active once the head office address is known */
	json_kv_str(j, "status", s->head_office ? "active" : "pending");
	json_key(j, "status_details");
	json_obj_open(j);
	if (s->head_office) {
		json_key(j, "active");
		json_obj_open(j);
		json_obj_close(j);
	} else {
		json_key(j, "pending");
		json_obj_open(j);
		json_key(j, "missing_fields");
		json_arr_open(j);
		json_str(j, "head_office");
		json_arr_close(j);
		json_obj_close(j);
	}
	json_obj_close(j);
	json_obj_close(j);
}

static int settings_get_fn(struct db *db, void *p)
{
	struct req *r = p;
	struct settings s;
	if (settings_load(r, db, &s) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	settings_render(&s, req_json(r));
	return 0;
}

static int h_settings_get(struct req *r)
{
	return req_read(r, settings_get_fn, r);
}

struct settings_ctx {
	struct req *r;
	const char *head_office; /* NULL: unchanged */
};

static int settings_post_fn(struct db *db, void *p)
{
	struct settings_ctx *x = p;
	struct req *r = x->r;
	struct settings s;
	if (settings_load(r, db, &s) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	struct settings old = s;
	const char *v = param_str(r, "defaults.tax_behavior");
	if (v)
		s.tax_behavior = nonempty(v);
	v = param_str(r, "defaults.tax_code");
	if (v)
		s.tax_code = nonempty(v);
	if (x->head_office)
		s.head_office = x->head_office;
	struct db_stmt *st = db_prepare(db, SQL_SETTINGS_PUT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, s.tax_behavior, -1);
	db_bind_text(st, 3, s.tax_code, -1);
	db_bind_text(st, 4, s.head_office, -1);
	db_bind_int64(st, 5, r->now);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* previous_attributes: the parts that changed, as they were */
	struct buf pb;
	struct json pj;
	buf_init(&pb, 64 * 1024);
	json_init(&pj, &pb);
	json_obj_open(&pj);
	if (!same(old.tax_behavior, s.tax_behavior) || !same(old.tax_code, s.tax_code)) {
		json_key(&pj, "defaults");
		json_obj_open(&pj);
		json_kv_str_or_null(&pj, "tax_behavior", old.tax_behavior);
		json_kv_str_or_null(&pj, "tax_code", old.tax_code);
		json_obj_close(&pj);
	}
	if (!same(old.head_office, s.head_office)) {
		json_key(&pj, "head_office");
		if (old.head_office) {
			json_obj_open(&pj);
			json_kv_raw(&pj, "address", old.head_office, strlen(old.head_office));
			json_obj_close(&pj);
		} else {
			json_nil(&pj);
		}
	}
	if (!old.head_office && s.head_office)
		json_kv_str(&pj, "status", "pending");
	json_obj_close(&pj);
	const char *prev = json_done(r, &pb);
	if (!prev)
		return req_fail(r, ERR_API, NULL, NULL);
	struct buf b;
	struct json j;
	buf_init(&b, 64 * 1024);
	json_init(&j, &b);
	settings_render(&s, &j);
	const char *js;
	size_t len;
	char ev[ID_MAX];
	if (api_event_append(r, db, "tax.settings.updated", r->merchant_id, &b, prev, &js, &len,
			     ev) != 0)
		return -1;
	return req_answer_event(r, ev, js, len);
}

static int h_settings_post(struct req *r)
{
	struct settings_ctx x = {.r = r};
	const char *tc = param_str(r, "defaults.tax_code");
	if (tc && *tc && !tax_code_valid(tc))
		return req_fail(r, ERR_PARAM_BAD, "defaults[tax_code]", "Invalid tax code: %s", tc);
	struct tax_addr a;
	if (addr_from_params(r, "head_office.address", &a)) {
		if (!a.country)
			return req_fail(r, ERR_PARAM_MISSING, "head_office[address][country]",
					"head_office[address][country]");
		if (strlen(a.country) != 2)
			return req_fail(r, ERR_PARAM_BAD, "head_office[address][country]",
					"Invalid country: %s", a.country);
		struct buf b;
		struct json j;
		buf_init(&b, 8 * 1024);
		json_init(&j, &b);
		addr_render(&a, &j);
		x.head_office = json_done(r, &b);
		if (!x.head_office)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	return req_write(r, settings_post_fn, &x);
}

/* ---- registrations ---- */

struct reg {
	char id[ID_MAX];
	int64_t created, active_from, expires_at; /* expires_at 0: none */
	char country[3], state[3], type[32];
};

#define REG_COLS "id, created, country, state, type, active_from, expires_at"
static const char SQL_REG_GET[] =
    "SELECT " REG_COLS " FROM tax_registrations WHERE merchant_id = $1 AND id = $2";
static const char SQL_REG_INSERT[] = "INSERT INTO tax_registrations (merchant_id, " REG_COLS
				     ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
static const char SQL_REG_UPDATE[] =
    "UPDATE tax_registrations SET active_from = $3, expires_at = $4"
    " WHERE merchant_id = $1 AND id = $2";
/* a registration for the same jurisdiction still in force or to come */
static const char SQL_REG_CLASH[] =
    "SELECT id FROM tax_registrations WHERE merchant_id = $1 AND country = $2 AND state = $3"
    " AND type = $4 AND (expires_at IS NULL OR expires_at > $5) LIMIT 1";

static void reg_from_row(struct db_stmt *st, struct reg *g)
{
	memset(g, 0, sizeof(*g));
	str_copy(g->id, sizeof(g->id), db_col_text(st, 0, NULL));
	g->created = db_col_int64(st, 1);
	str_copy(g->country, sizeof(g->country), db_col_text(st, 2, NULL));
	const char *s = db_col_text(st, 3, NULL);
	str_copy(g->state, sizeof(g->state), s ? s : "");
	str_copy(g->type, sizeof(g->type), db_col_text(st, 4, NULL));
	g->active_from = db_col_int64(st, 5);
	g->expires_at = db_col_is_null(st, 6) ? 0 : db_col_int64(st, 6);
}

static int reg_load(struct req *r, struct db *db, const char *id, struct reg *g)
{
	struct db_stmt *st = db_prepare(db, SQL_REG_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW)
		reg_from_row(st, g);
	db_reset(st);
	if (rc == DB_ROW)
		return DB_OK;
	return rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
}

static const char *reg_status(const struct reg *g, int64_t now)
{
	if (g->expires_at && g->expires_at <= now)
		return "expired";
	return g->active_from > now ? "scheduled" : "active";
}

static void reg_render(const struct reg *g, int64_t now, struct json *j)
{
	json_obj_open(j);
	json_kv_int(j, "active_from", g->active_from);
	json_kv_str(j, "country", g->country);
	json_key(j, "country_options");
	json_obj_open(j);
	char lc[3] = {(char)(g->country[0] - 'A' + 'a'), (char)(g->country[1] - 'A' + 'a'), 0};
	json_key_n(j, lc, 2, false);
	json_obj_open(j);
	if (strcmp(g->type, "province_standard") == 0) {
		json_key(j, "province_standard");
		json_obj_open(j);
		json_kv_str(j, "province", g->state);
		json_obj_close(j);
	} else if (strcmp(g->country, "US") == 0) {
		json_kv_str(j, "state", g->state);
	} else if (tax_country_is_eu(g->country) && strcmp(g->type, "standard") == 0) {
		json_key(j, "standard");
		json_obj_open(j);
		json_kv_str(j, "place_of_supply_scheme", "standard");
		json_obj_close(j);
	}
	json_kv_str(j, "type", g->type);
	json_obj_close(j);
	json_obj_close(j);
	json_kv_int(j, "created", g->created);
	if (g->expires_at)
		json_kv_int(j, "expires_at", g->expires_at);
	else
		json_kv_null(j, "expires_at");
	json_kv_str(j, "id", g->id);
	json_kv_bool(j, "livemode", false);
	json_kv_str(j, "object", "tax.registration");
	json_kv_str(j, "status", reg_status(g, now));
	json_obj_close(j);
}

/* "now" or a timestamp at param; *ret set. 1 when present, 0 absent, -1 with r->err. */
static int time_param(struct req *r, const char *param, int64_t *ret)
{
	const char *v = param_str(r, param);
	if (!v || !*v)
		return 0;
	if (strcmp(v, "now") == 0) {
		*ret = r->now;
		return 1;
	}
	int64_t t;
	if (parse_i64(v, &t) != 0 || t < 0)
		return req_fail(r, ERR_PARAM_INVALID_INTEGER, param, "%s", param);
	*ret = t;
	return 1;
}

struct reg_ctx {
	struct req *r;
	const char *id;
	struct reg g;
};

static int reg_create_fn(struct db *db, void *p)
{
	struct reg_ctx *x = p;
	struct req *r = x->r;
	struct reg *g = &x->g;
	struct db_stmt *st = db_prepare(db, SQL_REG_CLASH);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, g->country, -1);
	db_bind_text(st, 3, g->state, -1);
	db_bind_text(st, 4, g->type, -1);
	db_bind_int64(st, 5, r->now);
	int rc = db_step(st);
	db_reset(st);
	if (rc == DB_ROW)
		return req_fail(r, ERR_PARAM_BAD, "country",
				"A registration for this jurisdiction already exists and is "
				"active or scheduled.");
	if (rc != DB_DONE)
		return req_fail(r, ERR_API, NULL, NULL);
	st = db_prepare(db, SQL_REG_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, g->id, -1);
	db_bind_int64(st, 3, g->created);
	db_bind_text(st, 4, g->country, -1);
	db_bind_text(st, 5, g->state, -1);
	db_bind_text(st, 6, g->type, -1);
	db_bind_int64(st, 7, g->active_from);
	if (g->expires_at)
		db_bind_int64(st, 8, g->expires_at);
	else
		db_bind_null(st, 8);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	reg_render(g, r->now, req_json(r));
	return 0;
}

static int h_reg_create(struct req *r)
{
	struct reg_ctx x = {.r = r};
	struct reg *g = &x.g;
	id_new_at(g->id, "taxreg_", r->now);
	g->created = r->now;
	const char *country = upper_dup(r, param_str(r, "country"));
	if (!country || strlen(country) != 2 || !tax_country_supported(country))
		return req_fail(r, ERR_PARAM_BAD, "country",
				"Tender does not support tax registrations in %s.",
				country ? country : "");
	memcpy(g->country, country, 3);
	char lc[3] = {(char)(country[0] - 'A' + 'a'), (char)(country[1] - 'A' + 'a'), 0};
	const struct form_node *opts = param_node(r, "country_options");
	for (const struct form_node *c = opts ? opts->first_child : NULL; c; c = c->next)
		if (strcmp(c->key, lc) != 0)
			return req_fail(r, ERR_PARAM_BAD, "country_options",
					"country_options[%s] does not match country %s.", c->key,
					country);
	const char *type = param_str(r, arena_printf(&r->arena, "country_options.%s.type", lc));
	if (!type)
		return req_fail(r, ERR_PARAM_MISSING, "country_options",
				"country_options[%s][type]", lc);
	str_copy(g->type, sizeof(g->type), type);
	if (strcmp(country, "US") == 0) {
		const char *state = upper_dup(r, param_str(r, "country_options.us.state"));
		if (!state)
			return req_fail(r, ERR_PARAM_MISSING, "country_options[us][state]",
					"country_options[us][state]");
		if (!tax_us_state_valid(state))
			return req_fail(r, ERR_PARAM_BAD, "country_options[us][state]",
					"Invalid US state: %s", state);
		if (strcmp(type, "state_sales_tax") != 0)
			return req_fail(r, ERR_PARAM_BAD, "country_options[us][type]",
					"Tender supports only state_sales_tax registrations in the "
					"US.");
		memcpy(g->state, state, 3);
	} else if (strcmp(country, "CA") == 0 && strcmp(type, "province_standard") == 0) {
		const char *prov =
		    upper_dup(r, param_str(r, "country_options.ca.province_standard.province"));
		if (!prov)
			return req_fail(r, ERR_PARAM_MISSING,
					"country_options[ca][province_standard][province]",
					"country_options[ca][province_standard][province]");
		if (!tax_ca_province_has_pst(prov))
			return req_fail(r, ERR_PARAM_BAD,
					"country_options[ca][province_standard][province]",
					"Invalid province: %s (QC, BC, SK or MB).", prov);
		memcpy(g->state, prov, 3);
	} else if (strcmp(country, "CA") == 0) {
		if (strcmp(type, "standard") != 0 && strcmp(type, "simplified") != 0)
			return req_fail(r, ERR_PARAM_BAD, "country_options[ca][type]",
					"Invalid type: %s", type);
	} else if (tax_country_is_eu(country)) {
		if (strcmp(type, "standard") != 0 && strcmp(type, "oss_union") != 0 &&
		    strcmp(type, "oss_non_union") != 0 && strcmp(type, "ioss") != 0)
			return req_fail(r, ERR_PARAM_BAD, "country_options[type]",
					"Invalid type: %s", type);
	} else if (strcmp(type, "standard") != 0 && strcmp(type, "simplified") != 0) {
		return req_fail(r, ERR_PARAM_BAD, "country_options[type]", "Invalid type: %s",
				type);
	}
	int rc = time_param(r, "active_from", &g->active_from);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return req_fail(r, ERR_PARAM_MISSING, "active_from", "active_from");
	if (g->active_from < r->now)
		return req_fail(r, ERR_PARAM_BAD, "active_from",
				"active_from must be `now` or a time in the future.");
	rc = time_param(r, "expires_at", &g->expires_at);
	if (rc < 0)
		return -1;
	if (rc == 1 && g->expires_at < g->active_from)
		return req_fail(r, ERR_PARAM_BAD, "expires_at",
				"expires_at must not be before active_from.");
	return req_write(r, reg_create_fn, &x);
}

static int reg_one(struct db *db, struct reg_ctx *x)
{
	int rc = reg_load(x->r, db, x->id, &x->g);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "tax.registration", x->id, "id");
	return rc == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

static int reg_retrieve_fn(struct db *db, void *p)
{
	struct reg_ctx *x = p;
	if (reg_one(db, x) != 0)
		return -1;
	reg_render(&x->g, x->r->now, req_json(x->r));
	return 0;
}

static int h_reg_retrieve(struct req *r)
{
	struct reg_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, reg_retrieve_fn, &x);
}

static int reg_update_fn(struct db *db, void *p)
{
	struct reg_ctx *x = p;
	struct req *r = x->r;
	if (reg_one(db, x) != 0)
		return -1;
	struct reg *g = &x->g;
	if (g->expires_at && g->expires_at <= r->now)
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"This registration has expired and cannot be updated.");
	int64_t t;
	int rc = time_param(r, "active_from", &t);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		if (g->active_from <= r->now)
			return req_fail(r, ERR_PARAM_BAD, "active_from",
					"active_from can only be changed while the registration "
					"is scheduled.");
		if (t < r->now)
			return req_fail(r, ERR_PARAM_BAD, "active_from",
					"active_from must be `now` or a time in the future.");
		g->active_from = t;
	}
	const char *e = param_str(r, "expires_at");
	if (e && !*e) {
		g->expires_at = 0;
	} else {
		rc = time_param(r, "expires_at", &t);
		if (rc < 0)
			return -1;
		if (rc == 1) {
			if (t < r->now)
				return req_fail(r, ERR_PARAM_BAD, "expires_at",
						"expires_at must be `now` or a time in the "
						"future.");
			g->expires_at = t;
		}
	}
	if (g->expires_at && g->expires_at < g->active_from)
		return req_fail(r, ERR_PARAM_BAD, "expires_at",
				"expires_at must not be before active_from.");
	struct db_stmt *st = db_prepare(db, SQL_REG_UPDATE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, g->id, -1);
	db_bind_int64(st, 3, g->active_from);
	if (g->expires_at)
		db_bind_int64(st, 4, g->expires_at);
	else
		db_bind_null(st, 4);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	reg_render(g, r->now, req_json(r));
	return 0;
}

static int h_reg_update(struct req *r)
{
	struct reg_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, reg_update_fn, &x);
}

static const char SQL_REG_LIST_CURSOR[] =
    "SELECT created FROM tax_registrations WHERE merchant_id = $1 AND id = $2";
#define REG_LIST_WHERE                                                                             \
	"SELECT id FROM tax_registrations WHERE merchant_id = $1 AND id > $2 AND id < $3"          \
	" AND ($5 IS NULL OR ($5 = 'active' AND active_from <= $6 AND (expires_at IS NULL OR"      \
	" expires_at > $6)) OR ($5 = 'expired' AND expires_at IS NOT NULL AND expires_at <= $6)"   \
	" OR ($5 = 'scheduled' AND active_from > $6 AND (expires_at IS NULL OR expires_at > $6)))"
static const char SQL_REG_LIST_DESC[] = REG_LIST_WHERE " ORDER BY id DESC LIMIT $4";
static const char SQL_REG_LIST_ASC[] = REG_LIST_WHERE " ORDER BY id ASC LIMIT $4";

static int reg_list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	const char *s = param_str(r, "status");
	if (!s || !*s || strcmp(s, "all") == 0)
		db_bind_null(st, first);
	else
		db_bind_text(st, first, s, -1);
	db_bind_int64(st, first + 1, r->now);
	return 0;
}

static int reg_list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	struct reg g;
	int rc = reg_load(r, db, id, &g);
	if (rc == DB_OK)
		reg_render(&g, r->now, j);
	return rc;
}

static int h_reg_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/tax/registrations",
	    .object_name = "tax.registration",
	    .id_prefix = "taxreg_",
	    .sql_cursor = SQL_REG_LIST_CURSOR,
	    .sql_desc = SQL_REG_LIST_DESC,
	    .sql_asc = SQL_REG_LIST_ASC,
	    .bind_filters = reg_list_bind,
	    .render = reg_list_render,
	};
	return list_respond(r, &spec);
}

/* ---- calculations ---- */

struct calc_line {
	char id[ID_MAX];
	int64_t amount, amount_tax, quantity;
	const char *product, *reference, *tax_code, *metadata; /* metadata: JSON or NULL */
	bool inclusive;
	const char *breakdown; /* JSON array */
};

struct calc {
	char id[ID_MAX];
	int64_t created, tax_date, expires_at, amount_total, tax_exclusive, tax_inclusive;
	char currency[8];
	const char *customer, *customer_details, *breakdown, *shipping; /* shipping NULL: none */
	const char *txn;      /* the transaction made from it, NULL while none */
	bool line_breakdowns; /* render the lines' tax_breakdown (expanded; else null) */
	int n_lines;
	struct calc_line *lines;
};

#define CALC_COLS                                                                                  \
	"id, created, currency, customer, customer_details, amount_total, tax_amount_exclusive,"   \
	" tax_amount_inclusive, tax_breakdown, shipping_cost, tax_date, expires_at,"               \
	" tax_transaction"
static const char SQL_CALC_GET[] =
    "SELECT " CALC_COLS " FROM tax_calculations WHERE merchant_id = $1 AND id = $2";
static const char SQL_CALC_INSERT[] =
    "INSERT INTO tax_calculations (merchant_id, " CALC_COLS ")"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";
#define CALC_LINE_COLS                                                                             \
	"id, amount, amount_tax, quantity, product, reference, tax_behavior, tax_code,"            \
	" tax_breakdown, metadata"
static const char SQL_CALC_LINES[] = "SELECT " CALC_LINE_COLS " FROM tax_calculation_lines"
				     " WHERE merchant_id = $1 AND calculation = $2 ORDER BY idx"
				     " LIMIT $3";
static const char SQL_CALC_LINE_INSERT[] =
    "INSERT INTO tax_calculation_lines (merchant_id, calculation, idx, " CALC_LINE_COLS ")"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";
static const char SQL_CUSTOMER[] = "SELECT address, shipping, tax_exempt FROM customers"
				   " WHERE merchant_id = $1 AND id = $2 AND deleted = 0";
static const char SQL_CUSTOMER_TAX_IDS[] =
    "SELECT type, value FROM tax_ids WHERE merchant_id = $1 AND customer = $2 AND deleted = 0"
    " ORDER BY id LIMIT $3";
static const char SQL_PRODUCT[] = "SELECT id FROM products WHERE merchant_id = $1 AND id = $2";

static int calc_lines_load(struct req *r, struct db *db, struct calc *c)
{
	c->n_lines = 0;
	c->lines = arena_alloc(&r->arena, TAX_LINES_MAX * sizeof(*c->lines));
	struct db_stmt *st = db_prepare(db, SQL_CALC_LINES);
	if (!c->lines || !st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, c->id, -1);
	db_bind_int64(st, 3, TAX_LINES_MAX);
	int rc = DB_DONE;
	bool bad = false;
	struct arena *a = &r->arena;
	while (c->n_lines < TAX_LINES_MAX && (rc = db_step(st)) == DB_ROW) {
		struct calc_line *l = &c->lines[c->n_lines++];
		memset(l, 0, sizeof(*l));
		str_copy(l->id, sizeof(l->id), db_col_text(st, 0, NULL));
		l->amount = db_col_int64(st, 1);
		l->amount_tax = db_col_int64(st, 2);
		l->quantity = db_col_int64(st, 3);
		l->product = col_text_dup(a, st, 4);
		l->reference = col_text_dup(a, st, 5);
		const char *b = db_col_text(st, 6, NULL);
		l->inclusive = b && strcmp(b, "inclusive") == 0;
		l->tax_code = col_text_dup(a, st, 7);
		l->breakdown = col_text_dup(a, st, 8);
		l->metadata = col_text_dup(a, st, 9);
		bad = bad || !l->tax_code || !l->breakdown;
	}
	db_reset(st);
	return rc < 0 ? rc : bad ? DB_ERR : DB_OK;
}

static int calc_load(struct req *r, struct db *db, const char *id, struct calc *c)
{
	struct db_stmt *st = db_prepare(db, SQL_CALC_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		struct arena *a = &r->arena;
		memset(c, 0, sizeof(*c));
		str_copy(c->id, sizeof(c->id), db_col_text(st, 0, NULL));
		c->created = db_col_int64(st, 1);
		str_copy(c->currency, sizeof(c->currency), db_col_text(st, 2, NULL));
		c->customer = col_text_dup(a, st, 3);
		c->customer_details = col_text_dup(a, st, 4);
		c->amount_total = db_col_int64(st, 5);
		c->tax_exclusive = db_col_int64(st, 6);
		c->tax_inclusive = db_col_int64(st, 7);
		c->breakdown = col_text_dup(a, st, 8);
		c->shipping = col_text_dup(a, st, 9);
		c->tax_date = db_col_int64(st, 10);
		c->expires_at = db_col_int64(st, 11);
		c->txn = col_text_dup(a, st, 12);
		if (!c->customer_details || !c->breakdown)
			rc = DB_ERR;
	}
	db_reset(st);
	if (rc != DB_ROW)
		return rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
	return calc_lines_load(r, db, c);
}

static void calc_line_render(const struct calc_line *l, bool breakdown, struct json *j)
{
	json_obj_open(j);
	json_kv_int(j, "amount", l->amount);
	json_kv_int(j, "amount_tax", l->amount_tax);
	json_kv_str(j, "id", l->id);
	json_kv_bool(j, "livemode", false);
	json_kv_raw_or_null(j, "metadata", l->metadata);
	json_kv_str(j, "object", "tax.calculation_line_item");
	json_kv_str_or_null(j, "product", l->product);
	json_kv_int(j, "quantity", l->quantity);
	json_kv_str_or_null(j, "reference", l->reference);
	json_kv_str(j, "tax_behavior", l->inclusive ? "inclusive" : "exclusive");
	/* includable, as on Stripe (expand[]=…tax_breakdown) */
	if (breakdown)
		json_kv_raw(j, "tax_breakdown", l->breakdown, strlen(l->breakdown));
	else
		json_kv_null(j, "tax_breakdown");
	json_kv_str(j, "tax_code", l->tax_code);
	json_obj_close(j);
}

/* A page of lines (limit, starting_after, ending_before over their order), as a list. */
static int lines_page(struct req *r, const char *url, int n, const char *(*id_of)(void *, int),
		      void (*render)(void *, int, struct json *), void *ctx, bool params,
		      struct json *j)
{
	int64_t limit = 10;
	const char *after = NULL, *before = NULL;
	if (params) {
		if (param_int(r, "limit", &limit) == 1 && (limit < 1 || limit > 100))
			return req_fail(r, ERR_LIST_LIMIT, "limit", "%lld", (long long)limit);
		after = param_str(r, "starting_after");
		before = param_str(r, "ending_before");
	}
	int from = 0, to = n;
	for (int i = 0; i < n; i++) {
		if (after && strcmp(id_of(ctx, i), after) == 0)
			from = i + 1;
		if (before && strcmp(id_of(ctx, i), before) == 0)
			to = i;
	}
	if (from > to)
		from = to;
	if (before && to - from > limit)
		from = to - (int)limit;
	bool more = to - from > limit;
	if (more)
		to = from + (int)limit;
	json_obj_open(j);
	json_kv_str(j, "object", "list");
	json_key(j, "data");
	json_arr_open(j);
	for (int i = from; i < to; i++)
		render(ctx, i, j);
	json_arr_close(j);
	json_kv_bool(j, "has_more", more);
	json_kv_str(j, "url", url);
	json_obj_close(j);
	return 0;
}

static const char *calc_line_id(void *ctx, int i)
{
	return ((struct calc *)ctx)->lines[i].id;
}

static void calc_line_render_at(void *ctx, int i, struct json *j)
{
	struct calc *c = ctx;
	calc_line_render(&c->lines[i], c->line_breakdowns, j);
}

/* A calculation's stored shipping_cost; its tax_breakdown only when expanded, as on Stripe. */
static void shipping_render(struct req *r, const char *shipping, struct json *j)
{
	if (!shipping) {
		json_nil(j);
		return;
	}
	if (req_expand_has(r, "shipping_cost.tax_breakdown")) {
		json_raw(j, shipping, strlen(shipping));
		return;
	}
	json_t *o = json_loads(shipping, 0, NULL);
	json_object_del(o, "tax_breakdown");
	char *out = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	if (out)
		json_raw(j, out, strlen(out));
	else
		j->b->failed = true;
	free(out);
}

static void calc_render(struct req *r, struct calc *c, bool with_lines, struct json *j)
{
	c->line_breakdowns = req_expand_has(r, "line_items.data.tax_breakdown");
	json_obj_open(j);
	json_kv_int(j, "amount_total", c->amount_total);
	json_kv_str(j, "currency", c->currency);
	json_kv_str_or_null(j, "customer", c->customer);
	json_kv_raw(j, "customer_details", c->customer_details, strlen(c->customer_details));
	json_kv_int(j, "expires_at", c->expires_at);
	json_kv_str(j, "id", c->id);
	json_key(j, "line_items");
	if (with_lines) {
		char url[128];
		snprintf(url, sizeof(url), "/v1/tax/calculations/%s/line_items", c->id);
		lines_page(r, url, c->n_lines, calc_line_id, calc_line_render_at, c, false, j);
	} else {
		json_nil(j);
	}
	json_kv_bool(j, "livemode", false);
	json_kv_str(j, "object", "tax.calculation");
	json_key(j, "shipping_cost");
	shipping_render(r, c->shipping, j);
	json_kv_int(j, "tax_amount_exclusive", c->tax_exclusive);
	json_kv_int(j, "tax_amount_inclusive", c->tax_inclusive);
	json_kv_raw(j, "tax_breakdown", c->breakdown, strlen(c->breakdown));
	json_kv_int(j, "tax_date", c->tax_date);
	json_obj_close(j);
}

/* What a create asked for, parsed before the write. */
struct calc_item {
	int64_t amount, quantity;
	const char *reference, *product, *behavior, *tax_code, *metadata;
};

struct calc_ctx {
	struct req *r;
	char currency[8];
	int n;
	struct calc_item items[TAX_LINES_MAX];
	bool ship;
	int64_t ship_amount;
	const char *ship_behavior, *ship_code;
	const char *customer;
	bool has_addr;
	struct tax_addr addr;
	const char *addr_source, *ip, *override;
	int n_ids;
	struct {
		const char *type, *value;
	} ids[TAX_CUSTOMER_IDS_MAX];
	int64_t tax_date;
	/* what the request gave, before the write filled in the customer's (restored at the
	 * write's start: it may run again) */
	struct {
		bool has_addr;
		struct tax_addr addr;
		const char *addr_source, *override;
		int n_ids;
	} given;
	struct calc c;
};

/* One entry of a calculation's tax_breakdown: the line parts summed by rate and reason. */
struct agg {
	const char *country, *state, *tax_type;
	int64_t percent_e4;
	enum tax_reason reason;
	bool inclusive;
	int64_t amount, taxable;
};

static bool rated(enum tax_reason reason)
{
	return reason != TAX_REASON_NOT_COLLECTING && reason != TAX_REASON_NOT_SUPPORTED;
}

static void part_render(const struct tax_part *p, struct json *j)
{
	char pct[24];
	json_obj_open(j);
	json_kv_int(j, "amount", p->amount);
	json_key(j, "jurisdiction");
	json_obj_open(j);
	json_kv_str(j, "country", p->c.country);
	json_kv_str(j, "display_name", p->c.jurisdiction_name);
	json_kv_str(j, "level", p->c.state_level ? "state" : "country");
	json_kv_str_or_null(j, "state", p->c.state_level ? p->c.state : NULL);
	json_obj_close(j);
	json_kv_str(j, "sourcing", "destination");
	json_key(j, "tax_rate_details");
	if (rated(p->reason) && tax_percent_decimal(p->percent_e4, pct, sizeof(pct)) == 0) {
		json_obj_open(j);
		json_kv_str(j, "display_name", p->c.rate_name);
		json_kv_str(j, "percentage_decimal", pct);
		json_kv_str(j, "tax_type", p->c.tax_type);
		json_obj_close(j);
	} else {
		json_nil(j);
	}
	json_kv_str(j, "taxability_reason", tax_reason_name(p->reason));
	json_kv_int(j, "taxable_amount", p->taxable);
	json_obj_close(j);
}

/* Adds a line's parts to the breakdown. 0, or -1 on an overflow or too many entries. */
static int agg_add(struct agg *ag, int *n, const struct tax_line_result *res, bool inclusive)
{
	for (int i = 0; i < res->n; i++) {
		const struct tax_part *p = &res->parts[i];
		const char *state = p->c.state_level ? p->c.state : NULL;
		const char *type = p->reason == TAX_REASON_NOT_SUPPORTED ? NULL : p->c.tax_type;
		struct agg *e = NULL;
		for (int k = 0; k < *n && !e; k++)
			if (same(ag[k].country, p->c.country) && same(ag[k].state, state) &&
			    same(ag[k].tax_type, type) && ag[k].percent_e4 == p->percent_e4 &&
			    ag[k].reason == p->reason && ag[k].inclusive == inclusive)
				e = &ag[k];
		if (!e) {
			if (*n == TAX_BREAKDOWN_MAX)
				return -1;
			e = &ag[(*n)++];
			*e = (struct agg){p->c.country, state,	   type, p->percent_e4,
					  p->reason,	inclusive, 0,	 0};
		}
		if (__builtin_add_overflow(e->amount, p->amount, &e->amount) ||
		    __builtin_add_overflow(e->taxable, p->taxable, &e->taxable))
			return -1;
	}
	return 0;
}

static void agg_render(const struct agg *ag, int n, struct json *j)
{
	char pct[24];
	json_arr_open(j);
	for (int i = 0; i < n; i++) {
		json_obj_open(j);
		json_kv_int(j, "amount", ag[i].amount);
		json_kv_bool(j, "inclusive", ag[i].inclusive);
		json_key(j, "tax_rate_details");
		json_obj_open(j);
		json_kv_str(j, "country", ag[i].country);
		if (tax_percent_decimal(ag[i].percent_e4, pct, sizeof(pct)) != 0)
			j->b->failed = true;
		json_kv_str(j, "percentage_decimal", pct);
		json_kv_str_or_null(j, "state", ag[i].state);
		json_kv_str_or_null(j, "tax_type", ag[i].tax_type);
		json_obj_close(j);
		json_kv_str(j, "taxability_reason", tax_reason_name(ag[i].reason));
		json_kv_int(j, "taxable_amount", ag[i].taxable);
		json_obj_close(j);
	}
	json_arr_close(j);
}

/* The line's parts as its tax_breakdown JSON (arena), NULL on failure. */
static const char *parts_json(struct req *r, const struct tax_line_result *res)
{
	struct buf b;
	struct json j;
	buf_init(&b, 64 * 1024);
	json_init(&j, &b);
	json_arr_open(&j);
	for (int i = 0; i < res->n; i++)
		part_render(&res->parts[i], &j);
	json_arr_close(&j);
	return json_done(r, &b);
}

/* The customer's row: fills what customer_details left out. 0, or -1 with r->err. */
static int customer_apply(struct db *db, struct calc_ctx *x)
{
	struct req *r = x->r;
	struct db_stmt *st = db_prepare(db, SQL_CUSTOMER);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, x->customer, -1);
	int rc = db_step(st);
	const char *addr = NULL, *ship = NULL, *exempt = NULL;
	if (rc == DB_ROW) {
		addr = col_text_dup(&r->arena, st, 0);
		ship = col_text_dup(&r->arena, st, 1);
		exempt = col_text_dup(&r->arena, st, 2);
	}
	db_reset(st);
	if (rc == DB_DONE)
		return req_fail_missing(r, "customer", x->customer, "customer");
	if (rc != DB_ROW)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!x->has_addr) {
		json_t *s = ship ? json_loads(ship, 0, NULL) : NULL;
		json_t *a = addr ? json_loads(addr, 0, NULL) : NULL;
		if (addr_from_json(r, json_object_get(s, "address"), &x->addr)) {
			x->has_addr = true;
			x->addr_source = "shipping";
		} else if (addr_from_json(r, a, &x->addr)) {
			x->has_addr = true;
			x->addr_source = "billing";
		}
		json_decref(s);
		json_decref(a);
	}
	if (!x->override && exempt) {
		if (strcmp(exempt, "exempt") == 0)
			x->override = "customer_exempt";
		else if (strcmp(exempt, "reverse") == 0)
			x->override = "reverse_charge";
	}
	if (x->n_ids == 0) {
		st = db_prepare(db, SQL_CUSTOMER_TAX_IDS);
		if (!st)
			return req_fail(r, ERR_API, NULL, NULL);
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, x->customer, -1);
		db_bind_int64(st, 3, TAX_CUSTOMER_IDS_MAX);
		while (x->n_ids < TAX_CUSTOMER_IDS_MAX && (rc = db_step(st)) == DB_ROW) {
			x->ids[x->n_ids].type = col_text_dup(&r->arena, st, 0);
			x->ids[x->n_ids].value = col_text_dup(&r->arena, st, 1);
			x->n_ids++;
		}
		db_reset(st);
		if (rc < 0)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	return 0;
}

static int location_invalid(struct req *r)
{
	return req_fail(r, ERR_TAX_LOCATION_INVALID, "customer_details[address]",
			"We could not determine the customer's tax location based on the "
			"provided customer address.");
}

static const char *customer_details_json(struct req *r, const struct calc_ctx *x)
{
	struct buf b;
	struct json j;
	buf_init(&b, 64 * 1024);
	json_init(&j, &b);
	json_obj_open(&j);
	json_key(&j, "address");
	if (x->has_addr)
		addr_render(&x->addr, &j);
	else
		json_nil(&j);
	json_kv_str_or_null(&j, "address_source", x->addr_source);
	json_kv_str_or_null(&j, "ip_address", x->ip);
	json_key(&j, "tax_ids");
	json_arr_open(&j);
	for (int i = 0; i < x->n_ids; i++) {
		json_obj_open(&j);
		json_kv_str(&j, "type", x->ids[i].type);
		json_kv_str(&j, "value", x->ids[i].value);
		json_obj_close(&j);
	}
	json_arr_close(&j);
	json_kv_str(&j, "taxability_override", x->override ? x->override : "none");
	json_obj_close(&j);
	return json_done(r, &b);
}

/* The behavior of a line that names none: the settings' default (inferred_by_currency:
 * exclusive in usd and cad, inclusive elsewhere, as Stripe infers it), else exclusive. */
static bool default_inclusive(const struct settings *s, const char *currency)
{
	if (!s->tax_behavior)
		return false;
	if (strcmp(s->tax_behavior, "inferred_by_currency") == 0)
		return strcmp(currency, "usd") != 0 && strcmp(currency, "cad") != 0;
	return strcmp(s->tax_behavior, "inclusive") == 0;
}

static int calc_insert(struct req *r, struct db *db, const struct calc *c)
{
	struct db_stmt *st = db_prepare(db, SQL_CALC_INSERT);
	if (!st)
		return -1;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, c->id, -1);
	db_bind_int64(st, 3, c->created);
	db_bind_text(st, 4, c->currency, -1);
	db_bind_text(st, 5, c->customer, -1);
	db_bind_text(st, 6, c->customer_details, -1);
	db_bind_int64(st, 7, c->amount_total);
	db_bind_int64(st, 8, c->tax_exclusive);
	db_bind_int64(st, 9, c->tax_inclusive);
	db_bind_text(st, 10, c->breakdown, -1);
	db_bind_text(st, 11, c->shipping, -1);
	db_bind_int64(st, 12, c->tax_date);
	db_bind_int64(st, 13, c->expires_at);
	db_bind_null(st, 14);
	if (db_step_done(st) != DB_OK)
		return -1;
	for (int i = 0; i < c->n_lines; i++) {
		const struct calc_line *l = &c->lines[i];
		st = db_prepare(db, SQL_CALC_LINE_INSERT);
		if (!st)
			return -1;
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, c->id, -1);
		db_bind_int64(st, 3, i);
		db_bind_text(st, 4, l->id, -1);
		db_bind_int64(st, 5, l->amount);
		db_bind_int64(st, 6, l->amount_tax);
		db_bind_int64(st, 7, l->quantity);
		db_bind_text(st, 8, l->product, -1);
		db_bind_text(st, 9, l->reference, -1);
		db_bind_text(st, 10, l->inclusive ? "inclusive" : "exclusive", -1);
		db_bind_text(st, 11, l->tax_code, -1);
		db_bind_text(st, 12, l->breakdown, -1);
		db_bind_text(st, 13, l->metadata, -1);
		if (db_step_done(st) != DB_OK)
			return -1;
	}
	return 0;
}

static int calc_create_fn(struct db *db, void *p)
{
	struct calc_ctx *x = p;
	struct req *r = x->r;
	struct calc *c = &x->c;
	x->has_addr = x->given.has_addr;
	x->addr = x->given.addr;
	x->addr_source = x->given.addr_source;
	x->override = x->given.override;
	x->n_ids = x->given.n_ids;
	struct settings s;
	if (settings_load(r, db, &s) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (x->customer && customer_apply(db, x) != 0)
		return -1;
	if (!x->has_addr || !x->addr.country)
		return location_invalid(r);
	if (strlen(x->addr.country) != 2)
		return location_invalid(r);
	/* the engine's view: destination, head office, registrations, override, VAT id */
	struct tax_merchant *m = arena_alloc(&r->arena, sizeof(*m));
	if (!m || tax_merchant_load(db, r->merchant_id, x->tax_date, m) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* a US or Canadian address without its state: the one its postal code is in */
	const char *state = x->addr.state;
	if (!state && strcmp(x->addr.country, "US") == 0)
		state = tax_us_state_of_zip(x->addr.postal_code);
	else if (!state && strcmp(x->addr.country, "CA") == 0)
		state = tax_ca_province_of_postal_code(x->addr.postal_code);
	struct tax_context ctx;
	tax_merchant_context(m, x->addr.country, state, &ctx);
	if (x->override && strcmp(x->override, "customer_exempt") == 0)
		ctx.override = TAX_OVERRIDE_CUSTOMER_EXEMPT;
	else if (x->override && strcmp(x->override, "reverse_charge") == 0)
		ctx.override = TAX_OVERRIDE_REVERSE_CHARGE;
	for (int i = 0; i < x->n_ids && !ctx.vat_id_country[0]; i++) {
		char cc[3];
		if (strcmp(x->ids[i].type, "eu_vat") == 0 &&
		    tax_id_check("eu_vat", x->ids[i].value, cc) == 0)
			str_copy(ctx.vat_id_country, sizeof(ctx.vat_id_country), cc);
	}
	if (!tax_engine_location_valid(&ctx))
		return location_invalid(r);
	/* the lines */
	memset(c, 0, sizeof(*c));
	id_new_at(c->id, "taxcalc_", r->now);
	c->created = r->now;
	c->tax_date = x->tax_date;
	c->expires_at = r->now + TAX_EXPIRY_S;
	memcpy(c->currency, x->currency, sizeof(c->currency));
	c->customer = x->customer;
	c->n_lines = x->n;
	c->lines = arena_alloc(&r->arena, (size_t)(x->n ? x->n : 1) * sizeof(*c->lines));
	if (!c->lines)
		return req_fail(r, ERR_API, NULL, NULL);
	struct agg ag[TAX_BREAKDOWN_MAX];
	int n_ag = 0;
	int64_t subtotal = 0;
	for (int i = 0; i < x->n; i++) {
		const struct calc_item *it = &x->items[i];
		struct calc_line *l = &c->lines[i];
		memset(l, 0, sizeof(*l));
		id_new_at(l->id, "tax_li_", r->now);
		l->amount = it->amount;
		l->quantity = it->quantity;
		l->product = it->product;
		l->reference = it->reference;
		l->metadata = it->metadata;
		l->inclusive = it->behavior ? strcmp(it->behavior, "inclusive") == 0
					    : default_inclusive(&s, x->currency);
		l->tax_code = it->tax_code ? it->tax_code : s.tax_code ? s.tax_code : TAX_CODE_ESS;
		if (it->product) {
			struct db_stmt *st = db_prepare(db, SQL_PRODUCT);
			if (!st)
				return req_fail(r, ERR_API, NULL, NULL);
			db_bind_text(st, 1, r->merchant_id, -1);
			db_bind_text(st, 2, it->product, -1);
			int rc = db_step(st);
			db_reset(st);
			if (rc == DB_DONE)
				return req_fail_missing(
				    r, "product", it->product,
				    arena_printf(&r->arena, "line_items[%d][product]", i));
			if (rc != DB_ROW)
				return req_fail(r, ERR_API, NULL, NULL);
		}
		struct tax_line_result res;
		int rc = tax_engine_line(&ctx, l->amount, l->inclusive, l->tax_code, &res);
		if (rc == TAX_ERR_LOCATION)
			return location_invalid(r);
		if (rc != 0 || agg_add(ag, &n_ag, &res, l->inclusive) != 0)
			return req_fail(r, ERR_AMOUNT_TOO_LARGE, "line_items",
					"The calculation's amounts are too large.");
		l->amount_tax = res.amount_tax;
		l->breakdown = parts_json(r, &res);
		if (!l->breakdown)
			return req_fail(r, ERR_API, NULL, NULL);
		int64_t *sum = l->inclusive ? &c->tax_inclusive : &c->tax_exclusive;
		if (__builtin_add_overflow(*sum, res.amount_tax, sum) ||
		    __builtin_add_overflow(subtotal, l->amount, &subtotal))
			return req_fail(r, ERR_AMOUNT_TOO_LARGE, "line_items",
					"The calculation's amounts are too large.");
	}
	if (x->ship) {
		bool inc = x->ship_behavior ? strcmp(x->ship_behavior, "inclusive") == 0
					    : default_inclusive(&s, x->currency);
		const char *code = x->ship_code ? x->ship_code : TAX_CODE_SHIPPING;
		struct tax_line_result res;
		if (tax_engine_line(&ctx, x->ship_amount, inc, code, &res) != 0 ||
		    agg_add(ag, &n_ag, &res, inc) != 0)
			return req_fail(r, ERR_AMOUNT_TOO_LARGE, "shipping_cost[amount]",
					"The shipping cost is too large.");
		int64_t *sum = inc ? &c->tax_inclusive : &c->tax_exclusive;
		if (__builtin_add_overflow(*sum, res.amount_tax, sum) ||
		    __builtin_add_overflow(subtotal, x->ship_amount, &subtotal))
			return req_fail(r, ERR_AMOUNT_TOO_LARGE, "shipping_cost[amount]",
					"The shipping cost is too large.");
		const char *bd = parts_json(r, &res);
		struct buf b;
		struct json j;
		buf_init(&b, 64 * 1024);
		json_init(&j, &b);
		json_obj_open(&j);
		json_kv_int(&j, "amount", x->ship_amount);
		json_kv_int(&j, "amount_tax", res.amount_tax);
		json_kv_str(&j, "tax_behavior", inc ? "inclusive" : "exclusive");
		if (bd)
			json_kv_raw(&j, "tax_breakdown", bd, strlen(bd));
		json_kv_str(&j, "tax_code", code);
		json_obj_close(&j);
		c->shipping = json_done(r, &b);
		if (!bd || !c->shipping)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	if (__builtin_add_overflow(subtotal, c->tax_exclusive, &c->amount_total))
		return req_fail(r, ERR_AMOUNT_TOO_LARGE, "line_items",
				"The calculation's amounts are too large.");
	struct buf b;
	struct json j;
	buf_init(&b, 256 * 1024);
	json_init(&j, &b);
	agg_render(ag, n_ag, &j);
	c->breakdown = json_done(r, &b);
	c->customer_details = customer_details_json(r, x);
	if (!c->breakdown || !c->customer_details)
		return req_fail(r, ERR_API, NULL, NULL);
	if (calc_insert(r, db, c) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	calc_render(r, c, req_expand_has(r, "line_items"), req_json(r));
	return 0;
}

static int h_calc_create(struct req *r)
{
	struct calc_ctx *x = arena_alloc(&r->arena, sizeof(*x));
	if (!x)
		return req_fail(r, ERR_API, NULL, NULL);
	memset(x, 0, sizeof(*x));
	x->r = r;
	if (param_currency(r, "currency", "currency", x->currency) != 0)
		return -1;
	const struct form_node *items = param_node(r, "line_items");
	int i = 0;
	for (const struct form_node *it = items ? items->first_child : NULL; it;
	     it = it->next, i++) {
		if (i == TAX_LINES_MAX)
			return req_fail(r, ERR_PARAM_BAD, "line_items",
					"A calculation takes at most %d line items.",
					TAX_LINES_MAX);
		struct calc_item *ci = &x->items[i];
		const char *p = arena_printf(&r->arena, "line_items.%s.", it->key);
#define LP(f) arena_printf(&r->arena, "%s" f, p)
		if (param_int(r, LP("amount"), &ci->amount) != 1)
			return req_fail(r, ERR_PARAM_MISSING, "line_items",
					"line_items[%d][amount]", i);
		if (ci->amount < 0 || ci->amount > BILLING_AMOUNT_MAX)
			return req_fail(
			    r, ERR_PARAM_BAD, arena_printf(&r->arena, "line_items[%d][amount]", i),
			    "Invalid amount: from 0 to %lld.", (long long)BILLING_AMOUNT_MAX);
		ci->quantity = 1;
		if (param_int(r, LP("quantity"), &ci->quantity) == 1 && ci->quantity < 1)
			return req_fail(r, ERR_PARAM_BAD,
					arena_printf(&r->arena, "line_items[%d][quantity]", i),
					"quantity must be a positive integer.");
		ci->reference = nonempty(param_str(r, LP("reference")));
		ci->product = nonempty(param_str(r, LP("product")));
		ci->behavior = nonempty(param_str(r, LP("tax_behavior")));
		ci->tax_code = nonempty(param_str(r, LP("tax_code")));
		if (ci->tax_code && !tax_code_valid(ci->tax_code))
			return req_fail(r, ERR_PARAM_BAD,
					arena_printf(&r->arena, "line_items[%d][tax_code]", i),
					"Invalid tax code: %s", ci->tax_code);
		if (param_present(r, LP("metadata")) &&
		    metadata_apply(r, NULL, LP("metadata"), &ci->metadata) != 0)
			return -1;
#undef LP
		for (int k = 0; ci->reference && k < i; k++)
			if (str_eq(x->items[k].reference, ci->reference))
				return req_fail(
				    r, ERR_PARAM_BAD,
				    arena_printf(&r->arena, "line_items[%d][reference]", i),
				    "Line item references must be unique: %s.", ci->reference);
	}
	x->n = i;
	if (x->n == 0)
		return req_fail(r, ERR_PARAM_MISSING, "line_items", "line_items");
	if (param_int(r, "shipping_cost.amount", &x->ship_amount) == 1) {
		if (x->ship_amount < 0 || x->ship_amount > BILLING_AMOUNT_MAX)
			return req_fail(r, ERR_PARAM_BAD, "shipping_cost[amount]",
					"Invalid amount: from 0 to %lld.",
					(long long)BILLING_AMOUNT_MAX);
		x->ship = true;
		x->ship_behavior = nonempty(param_str(r, "shipping_cost.tax_behavior"));
		x->ship_code = nonempty(param_str(r, "shipping_cost.tax_code"));
		if (x->ship_code && !tax_code_valid(x->ship_code))
			return req_fail(r, ERR_PARAM_BAD, "shipping_cost[tax_code]",
					"Invalid tax code: %s", x->ship_code);
	} else if (param_present(r, "shipping_cost")) {
		return req_fail(r, ERR_PARAM_MISSING, "shipping_cost[amount]",
				"shipping_cost[amount]");
	}
	x->customer = nonempty(param_str(r, "customer"));
	if (addr_from_params(r, "customer_details.address", &x->addr)) {
		x->has_addr = true;
		x->addr_source = nonempty(param_str(r, "customer_details.address_source"));
		if (!x->addr_source)
			return req_fail(r, ERR_PARAM_MISSING, "customer_details[address_source]",
					"customer_details[address_source]");
		if (!x->addr.country)
			return location_invalid(r);
	}
	x->ip = nonempty(param_str(r, "customer_details.ip_address"));
	const char *ov = nonempty(param_str(r, "customer_details.taxability_override"));
	if (ov && strcmp(ov, "none") != 0)
		x->override = ov;
	const struct form_node *ids = param_node(r, "customer_details.tax_ids");
	for (const struct form_node *t = ids ? ids->first_child : NULL; t; t = t->next) {
		if (x->n_ids == TAX_CUSTOMER_IDS_MAX)
			return req_fail(r, ERR_PARAM_BAD, "customer_details[tax_ids]",
					"At most %d tax ids.", TAX_CUSTOMER_IDS_MAX);
		const char *type = param_str(
		    r, arena_printf(&r->arena, "customer_details.tax_ids.%s.type", t->key));
		const char *value = param_str(
		    r, arena_printf(&r->arena, "customer_details.tax_ids.%s.value", t->key));
		char cc[3];
		if (!type || !value || tax_id_check(type, value, cc) != 0)
			return req_fail(r, ERR_TAX_ID_INVALID,
					arena_printf(&r->arena,
						     "customer_details[tax_ids][%d][value]",
						     x->n_ids),
					"Invalid value for %s.", type ? type : "tax id");
		x->ids[x->n_ids].type = type;
		x->ids[x->n_ids].value = value;
		x->n_ids++;
	}
	if (!x->customer && !x->has_addr && !x->ip)
		return req_fail(r, ERR_PARAM_MISSING, "customer_details", "customer_details");
	x->tax_date = r->now;
	if (param_int(r, "tax_date", &x->tax_date) == 1 &&
	    (x->tax_date < r->now - TAX_DATE_WINDOW_S || x->tax_date > r->now + TAX_DATE_WINDOW_S))
		return req_fail(r, ERR_PARAM_BAD, "tax_date",
				"tax_date must be within 48 hours of the current time.");
	x->given.has_addr = x->has_addr;
	x->given.addr = x->addr;
	x->given.addr_source = x->addr_source;
	x->given.override = x->override;
	x->given.n_ids = x->n_ids;
	return req_write(r, calc_create_fn, x);
}

struct calc_one {
	struct req *r;
	const char *id;
	struct calc c;
};

static int calc_one_load(struct db *db, struct calc_one *x)
{
	int rc = calc_load(x->r, db, x->id, &x->c);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "tax.calculation", x->id, "calculation");
	return rc == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

static int calc_retrieve_fn(struct db *db, void *p)
{
	struct calc_one *x = p;
	if (calc_one_load(db, x) != 0)
		return -1;
	calc_render(x->r, &x->c, req_expand_has(x->r, "line_items"), req_json(x->r));
	return 0;
}

static int h_calc_retrieve(struct req *r)
{
	struct calc_one x = {.r = r, .id = r->args[0]};
	return req_read(r, calc_retrieve_fn, &x);
}

static int calc_lines_fn(struct db *db, void *p)
{
	struct calc_one *x = p;
	if (calc_one_load(db, x) != 0)
		return -1;
	char url[128];
	snprintf(url, sizeof(url), "/v1/tax/calculations/%s/line_items", x->c.id);
	x->c.line_breakdowns = req_expand_has(x->r, "data.tax_breakdown");
	return lines_page(x->r, url, x->c.n_lines, calc_line_id, calc_line_render_at, &x->c, true,
			  req_json(x->r));
}

static int h_calc_lines(struct req *r)
{
	struct calc_one x = {.r = r, .id = r->args[0]};
	return req_read(r, calc_lines_fn, &x);
}

/* ---- transactions ---- */

struct txn_line {
	char id[ID_MAX];
	int64_t amount, amount_tax, quantity;
	const char *product, *reference, *tax_code, *metadata, *original_line_item;
	bool inclusive;
};

struct txn {
	char id[ID_MAX];
	int64_t created, tax_date;
	bool reversal;
	char currency[8];
	const char *reference, *calculation, *original, *customer, *customer_details, *metadata;
	bool ship;
	int64_t ship_amount, ship_tax;
	bool ship_inclusive;
	const char *ship_code;
	int n_lines;
	struct txn_line *lines;
};

#define TXN_COLS                                                                                   \
	"id, created, type, reference, calculation, original_transaction, currency, customer,"     \
	" customer_details, ship_amount, ship_amount_tax, ship_tax_behavior, ship_tax_code,"       \
	" tax_date, metadata"
static const char SQL_TXN_GET[] =
    "SELECT " TXN_COLS " FROM tax_transactions WHERE merchant_id = $1 AND id = $2";
/* a reference is the merchant's, once: a second one is refused (no row written) */
static const char SQL_TXN_INSERT[] =
    "INSERT INTO tax_transactions (merchant_id, " TXN_COLS ") VALUES ($1, $2, $3, $4, $5, $6,"
    " $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) ON CONFLICT (merchant_id, reference)"
    " DO NOTHING";
#define TXN_LINE_COLS                                                                              \
	"id, original_line_item, amount, amount_tax, quantity, product, reference, tax_behavior,"  \
	" tax_code, metadata"
static const char SQL_TXN_LINES[] = "SELECT " TXN_LINE_COLS " FROM tax_transaction_lines"
				    " WHERE merchant_id = $1 AND tax_transaction = $2 ORDER BY idx"
				    " LIMIT $3";
static const char SQL_TXN_LINE_INSERT[] =
    "INSERT INTO tax_transaction_lines (merchant_id, tax_transaction, idx, original_transaction,"
    " " TXN_LINE_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";
/* a calculation makes one transaction: claimed by the first */
static const char SQL_CALC_CLAIM[] =
    "UPDATE tax_calculations SET tax_transaction = $3"
    " WHERE merchant_id = $1 AND id = $2 AND tax_transaction IS NULL";
/* what the earlier reversals of a transaction took, per line and from its shipping */
static const char SQL_REVERSED_LINES[] =
    "SELECT original_line_item, SUM(amount), SUM(amount_tax) FROM tax_transaction_lines"
    " WHERE merchant_id = $1 AND original_transaction = $2 GROUP BY original_line_item LIMIT $3";
static const char SQL_REVERSED_SHIP[] =
    "SELECT COALESCE(SUM(ship_amount), 0), COALESCE(SUM(ship_amount_tax), 0) FROM"
    " tax_transactions WHERE merchant_id = $1 AND original_transaction = $2";

static int txn_load(struct req *r, struct db *db, const char *id, struct txn *t)
{
	struct db_stmt *st = db_prepare(db, SQL_TXN_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	struct arena *a = &r->arena;
	if (rc == DB_ROW) {
		memset(t, 0, sizeof(*t));
		str_copy(t->id, sizeof(t->id), db_col_text(st, 0, NULL));
		t->created = db_col_int64(st, 1);
		const char *type = db_col_text(st, 2, NULL);
		t->reversal = type && strcmp(type, "reversal") == 0;
		t->reference = col_text_dup(a, st, 3);
		t->calculation = col_text_dup(a, st, 4);
		t->original = col_text_dup(a, st, 5);
		str_copy(t->currency, sizeof(t->currency), db_col_text(st, 6, NULL));
		t->customer = col_text_dup(a, st, 7);
		t->customer_details = col_text_dup(a, st, 8);
		t->ship = !db_col_is_null(st, 9);
		t->ship_amount = db_col_int64_or0(st, 9);
		t->ship_tax = db_col_int64_or0(st, 10);
		const char *b = db_col_text(st, 11, NULL);
		t->ship_inclusive = b && strcmp(b, "inclusive") == 0;
		t->ship_code = col_text_dup(a, st, 12);
		t->tax_date = db_col_int64(st, 13);
		t->metadata = col_text_dup(a, st, 14);
		if (!t->reference || !t->customer_details || !t->metadata)
			rc = DB_ERR;
	}
	db_reset(st);
	if (rc != DB_ROW)
		return rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
	t->n_lines = 0;
	t->lines = arena_alloc(a, TAX_LINES_MAX * sizeof(*t->lines));
	st = db_prepare(db, SQL_TXN_LINES);
	if (!t->lines || !st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, t->id, -1);
	db_bind_int64(st, 3, TAX_LINES_MAX);
	bool bad = false;
	while (t->n_lines < TAX_LINES_MAX && (rc = db_step(st)) == DB_ROW) {
		struct txn_line *l = &t->lines[t->n_lines++];
		memset(l, 0, sizeof(*l));
		str_copy(l->id, sizeof(l->id), db_col_text(st, 0, NULL));
		l->original_line_item = col_text_dup(a, st, 1);
		l->amount = db_col_int64(st, 2);
		l->amount_tax = db_col_int64(st, 3);
		l->quantity = db_col_int64(st, 4);
		l->product = col_text_dup(a, st, 5);
		l->reference = col_text_dup(a, st, 6);
		const char *b = db_col_text(st, 7, NULL);
		l->inclusive = b && strcmp(b, "inclusive") == 0;
		l->tax_code = col_text_dup(a, st, 8);
		l->metadata = col_text_dup(a, st, 9);
		bad = bad || !l->reference || !l->tax_code || !l->metadata;
	}
	db_reset(st);
	return rc < 0 ? rc : bad ? DB_ERR : DB_OK;
}

static void txn_line_render(const struct txn *t, const struct txn_line *l, struct json *j)
{
	json_obj_open(j);
	json_kv_int(j, "amount", l->amount);
	json_kv_int(j, "amount_tax", l->amount_tax);
	json_kv_str(j, "id", l->id);
	json_kv_bool(j, "livemode", false);
	json_kv_raw(j, "metadata", l->metadata, strlen(l->metadata));
	json_kv_str(j, "object", "tax.transaction_line_item");
	json_kv_str_or_null(j, "product", l->product);
	json_kv_int(j, "quantity", l->quantity);
	json_kv_str(j, "reference", l->reference);
	json_key(j, "reversal");
	if (t->reversal) {
		json_obj_open(j);
		json_kv_str_or_null(j, "original_line_item", l->original_line_item);
		json_obj_close(j);
	} else {
		json_nil(j);
	}
	json_kv_str(j, "tax_behavior", l->inclusive ? "inclusive" : "exclusive");
	json_kv_str(j, "tax_code", l->tax_code);
	json_kv_str(j, "type", t->reversal ? "reversal" : "transaction");
	json_obj_close(j);
}

static const char *txn_line_id(void *ctx, int i)
{
	return ((struct txn *)ctx)->lines[i].id;
}

static void txn_line_render_at(void *ctx, int i, struct json *j)
{
	struct txn *t = ctx;
	txn_line_render(t, &t->lines[i], j);
}

static void txn_render(struct req *r, struct txn *t, bool with_lines, struct json *j)
{
	json_obj_open(j);
	json_kv_int(j, "created", t->created);
	json_kv_str(j, "currency", t->currency);
	json_kv_str_or_null(j, "customer", t->customer);
	json_kv_raw(j, "customer_details", t->customer_details, strlen(t->customer_details));
	json_kv_str(j, "id", t->id);
	json_key(j, "line_items");
	if (with_lines) {
		char url[128];
		snprintf(url, sizeof(url), "/v1/tax/transactions/%s/line_items", t->id);
		lines_page(r, url, t->n_lines, txn_line_id, txn_line_render_at, t, false, j);
	} else {
		json_nil(j);
	}
	json_kv_bool(j, "livemode", false);
	json_kv_raw(j, "metadata", t->metadata, strlen(t->metadata));
	json_kv_str(j, "object", "tax.transaction");
	json_kv_int(j, "posted_at", t->created);
	json_kv_str(j, "reference", t->reference);
	json_key(j, "reversal");
	if (t->reversal) {
		json_obj_open(j);
		json_kv_str_or_null(j, "original_transaction", t->original);
		json_obj_close(j);
	} else {
		json_nil(j);
	}
	json_key(j, "shipping_cost");
	if (t->ship) {
		json_obj_open(j);
		json_kv_int(j, "amount", t->ship_amount);
		json_kv_int(j, "amount_tax", t->ship_tax);
		json_kv_str(j, "tax_behavior", t->ship_inclusive ? "inclusive" : "exclusive");
		json_kv_str(j, "tax_code", t->ship_code ? t->ship_code : TAX_CODE_SHIPPING);
		json_obj_close(j);
	} else {
		json_nil(j);
	}
	json_kv_int(j, "tax_date", t->tax_date);
	json_kv_str(j, "type", t->reversal ? "reversal" : "transaction");
	json_obj_close(j);
}

/* Writes t and its lines. 0, 1 when its reference is taken (nothing written), -1. */
static int txn_insert(struct req *r, struct db *db, const struct txn *t)
{
	struct db_stmt *st = db_prepare(db, SQL_TXN_INSERT);
	if (!st)
		return -1;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, t->id, -1);
	db_bind_int64(st, 3, t->created);
	db_bind_text(st, 4, t->reversal ? "reversal" : "transaction", -1);
	db_bind_text(st, 5, t->reference, -1);
	db_bind_text(st, 6, t->calculation, -1);
	db_bind_text(st, 7, t->original, -1);
	db_bind_text(st, 8, t->currency, -1);
	db_bind_text(st, 9, t->customer, -1);
	db_bind_text(st, 10, t->customer_details, -1);
	if (t->ship) {
		db_bind_int64(st, 11, t->ship_amount);
		db_bind_int64(st, 12, t->ship_tax);
		db_bind_text(st, 13, t->ship_inclusive ? "inclusive" : "exclusive", -1);
		db_bind_text(st, 14, t->ship_code, -1);
	} else {
		db_bind_null(st, 11);
		db_bind_null(st, 12);
		db_bind_null(st, 13);
		db_bind_null(st, 14);
	}
	db_bind_int64(st, 15, t->tax_date);
	db_bind_text(st, 16, t->metadata, -1);
	if (db_step(st) != DB_DONE) {
		db_reset(st);
		return -1;
	}
	int64_t changed = db_changes(st);
	db_reset(st);
	if (changed == 0)
		return 1;
	for (int i = 0; i < t->n_lines; i++) {
		const struct txn_line *l = &t->lines[i];
		st = db_prepare(db, SQL_TXN_LINE_INSERT);
		if (!st)
			return -1;
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, t->id, -1);
		db_bind_int64(st, 3, i);
		db_bind_text(st, 4, t->original, -1);
		db_bind_text(st, 5, l->id, -1);
		db_bind_text(st, 6, l->original_line_item, -1);
		db_bind_int64(st, 7, l->amount);
		db_bind_int64(st, 8, l->amount_tax);
		db_bind_int64(st, 9, l->quantity);
		db_bind_text(st, 10, l->product, -1);
		db_bind_text(st, 11, l->reference, -1);
		db_bind_text(st, 12, l->inclusive ? "inclusive" : "exclusive", -1);
		db_bind_text(st, 13, l->tax_code, -1);
		db_bind_text(st, 14, l->metadata, -1);
		if (db_step_done(st) != DB_OK)
			return -1;
	}
	return 0;
}

static int reference_taken(struct req *r)
{
	return req_fail(r, ERR_PARAM_BAD, "reference",
			"A transaction with this reference already exists: %s.",
			param_str(r, "reference"));
}

struct txn_ctx {
	struct req *r;
	const char *id;
	const char *metadata;
	bool lines; /* the retrieve is the line_items route */
	struct txn t;
};

static int from_calc_fn(struct db *db, void *p)
{
	struct txn_ctx *x = p;
	struct req *r = x->r;
	const char *cid = param_str(r, "calculation");
	struct calc c;
	int rc = calc_load(r, db, cid, &c);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "tax.calculation", cid, "calculation");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (c.txn)
		return req_fail(r, ERR_PARAM_BAD, "calculation",
				"The calculation %s has already been used to create a "
				"transaction (%s).",
				c.id, c.txn);
	if (c.expires_at <= r->now)
		return req_fail(r, ERR_PARAM_BAD, "calculation", "The calculation %s has expired.",
				c.id);
	struct txn *t = &x->t;
	memset(t, 0, sizeof(*t));
	id_new_at(t->id, "tax_", r->now);
	struct db_stmt *st = db_prepare(db, SQL_CALC_CLAIM);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, c.id, -1);
	db_bind_text(st, 3, t->id, -1);
	if (db_step(st) != DB_DONE) {
		db_reset(st);
		return req_fail(r, ERR_API, NULL, NULL);
	}
	int64_t claimed = db_changes(st);
	db_reset(st);
	if (claimed != 1)
		return req_fail(r, ERR_PARAM_BAD, "calculation",
				"The calculation %s has already been used to create a transaction.",
				c.id);
	t->created = r->now;
	t->tax_date = c.tax_date;
	memcpy(t->currency, c.currency, sizeof(t->currency));
	t->reference = param_str(r, "reference");
	t->calculation = c.id;
	t->customer = c.customer;
	t->customer_details = c.customer_details;
	t->metadata = x->metadata;
	if (c.shipping) {
		json_t *s = json_loads(c.shipping, 0, NULL);
		t->ship = s != NULL;
		t->ship_amount = json_integer_value(json_object_get(s, "amount"));
		t->ship_tax = json_integer_value(json_object_get(s, "amount_tax"));
		const char *b = json_string_value(json_object_get(s, "tax_behavior"));
		t->ship_inclusive = b && strcmp(b, "inclusive") == 0;
		t->ship_code = jstr(r, s, "tax_code");
		json_decref(s);
		if (!t->ship)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	t->n_lines = c.n_lines;
	t->lines = arena_alloc(&r->arena, (size_t)(c.n_lines ? c.n_lines : 1) * sizeof(*t->lines));
	if (!t->lines)
		return req_fail(r, ERR_API, NULL, NULL);
	for (int i = 0; i < c.n_lines; i++) {
		const struct calc_line *cl = &c.lines[i];
		struct txn_line *l = &t->lines[i];
		memset(l, 0, sizeof(*l));
		id_new_at(l->id, "tax_li_", r->now);
		l->amount = cl->amount;
		l->amount_tax = cl->amount_tax;
		l->quantity = cl->quantity;
		l->product = cl->product;
		/* a line without a reference of its own is known by its calculation line's id */
		l->reference = cl->reference ? cl->reference : cl->id;
		l->tax_code = cl->tax_code;
		l->metadata = cl->metadata ? cl->metadata : "{}";
		l->inclusive = cl->inclusive;
	}
	rc = txn_insert(r, db, t);
	if (rc == 1)
		return reference_taken(r);
	if (rc != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	txn_render(r, t, req_expand_has(r, "line_items"), req_json(r));
	return 0;
}

static int txn_metadata(struct req *r, struct txn_ctx *x)
{
	x->metadata = "{}";
	return param_present(r, "metadata") ? metadata_apply(r, NULL, "metadata", &x->metadata) : 0;
}

static int h_from_calc(struct req *r)
{
	struct txn_ctx *x = arena_alloc(&r->arena, sizeof(*x));
	if (!x)
		return req_fail(r, ERR_API, NULL, NULL);
	memset(x, 0, sizeof(*x));
	x->r = r;
	if (txn_metadata(r, x) != 0)
		return -1;
	return req_write(r, from_calc_fn, x);
}

/* What is left of each line of o (rem_amount[i], rem_tax[i]) and of its shipping. */
static int remaining(struct req *r, struct db *db, const struct txn *o, int64_t *rem_amount,
		     int64_t *rem_tax, int64_t *ship_amount, int64_t *ship_tax)
{
	for (int i = 0; i < o->n_lines; i++) {
		rem_amount[i] = o->lines[i].amount;
		rem_tax[i] = o->lines[i].amount_tax;
	}
	struct db_stmt *st = db_prepare(db, SQL_REVERSED_LINES);
	if (!st)
		return -1;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, o->id, -1);
	db_bind_int64(st, 3, TAX_LINES_MAX);
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		const char *li = db_col_text(st, 0, NULL);
		for (int i = 0; li && i < o->n_lines; i++)
			if (strcmp(o->lines[i].id, li) == 0) {
				/* reversals are negative: what is left is the sum */
				if (__builtin_add_overflow(rem_amount[i], db_col_int64(st, 1),
							   &rem_amount[i]) ||
				    __builtin_add_overflow(rem_tax[i], db_col_int64(st, 2),
							   &rem_tax[i]))
					rc = DB_ERR;
			}
		if (rc == DB_ERR)
			break;
	}
	db_reset(st);
	if (rc < 0)
		return -1;
	*ship_amount = o->ship_amount;
	*ship_tax = o->ship_tax;
	st = db_prepare(db, SQL_REVERSED_SHIP);
	if (!st)
		return -1;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, o->id, -1);
	rc = db_step(st);
	if (rc == DB_ROW) {
		*ship_amount += db_col_int64(st, 0);
		*ship_tax += db_col_int64(st, 1);
	}
	db_reset(st);
	return rc == DB_ROW ? 0 : -1;
}

/* A reversal line of o's line i taking amount and tax (both <= 0). */
static void rev_line(struct req *r, const struct txn *o, int i, int64_t amount, int64_t tax,
		     const char *reference, int64_t quantity, const char *metadata,
		     struct txn_line *l)
{
	memset(l, 0, sizeof(*l));
	id_new_at(l->id, "tax_li_", r->now);
	const struct txn_line *ol = &o->lines[i];
	l->original_line_item = ol->id;
	l->amount = amount;
	l->amount_tax = tax;
	l->quantity = quantity;
	l->product = ol->product;
	l->reference = reference;
	l->tax_code = ol->tax_code;
	l->metadata = metadata ? metadata : "{}";
	l->inclusive = ol->inclusive;
}

/* flat_amount spread over what is left of the lines and the shipping (tax_engine_spread). 0,
 * or -1 with r->err. */
static int flat_spread(struct req *r, const struct txn *o, int64_t flat, const int64_t *ra,
		       const int64_t *rt, int64_t sa, int64_t st_, struct txn *t)
{
	int n = o->n_lines;
	int64_t amount[TAX_LINES_MAX + 1], tax[TAX_LINES_MAX + 1];
	int64_t out_a[TAX_LINES_MAX + 1], out_t[TAX_LINES_MAX + 1];
	bool inc[TAX_LINES_MAX + 1];
	for (int i = 0; i < n; i++) {
		amount[i] = ra[i];
		tax[i] = rt[i];
		inc[i] = o->lines[i].inclusive;
	}
	amount[n] = sa;
	tax[n] = st_;
	inc[n] = o->ship_inclusive;
	int rc = tax_engine_spread(flat, n + 1, amount, tax, inc, out_a, out_t);
	if (rc == TAX_ERR_EXCEEDS)
		return req_fail(r, ERR_PARAM_BAD, "flat_amount",
				"flat_amount is more than is left of the transaction.");
	if (rc != 0)
		return req_fail(r, ERR_AMOUNT_TOO_LARGE, "flat_amount",
				"flat_amount is too large.");
	for (int i = 0; i < n; i++)
		if (out_a[i] || out_t[i])
			rev_line(r, o, i, out_a[i], out_t[i], o->lines[i].reference,
				 o->lines[i].quantity, NULL, &t->lines[t->n_lines++]);
	if (out_a[n] || out_t[n]) {
		t->ship = true;
		t->ship_amount = out_a[n];
		t->ship_tax = out_t[n];
	}
	return 0;
}

static int reversal_fn(struct db *db, void *p)
{
	struct txn_ctx *x = p;
	struct req *r = x->r;
	const char *oid = param_str(r, "original_transaction");
	struct txn *o = arena_alloc(&r->arena, sizeof(*o));
	if (!o)
		return req_fail(r, ERR_API, NULL, NULL);
	int rc = txn_load(r, db, oid, o);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "tax.transaction", oid, "original_transaction");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (o->reversal)
		return req_fail(r, ERR_PARAM_BAD, "original_transaction",
				"A reversal cannot be reversed.");
	int64_t ra[TAX_LINES_MAX], rt[TAX_LINES_MAX], sa = 0, st_ = 0;
	if (remaining(r, db, o, ra, rt, &sa, &st_) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	struct txn *t = &x->t;
	memset(t, 0, sizeof(*t));
	id_new_at(t->id, "tax_", r->now);
	t->created = r->now;
	t->reversal = true;
	t->tax_date = o->tax_date;
	memcpy(t->currency, o->currency, sizeof(t->currency));
	t->reference = param_str(r, "reference");
	t->original = o->id;
	t->customer = o->customer;
	t->customer_details = o->customer_details;
	t->metadata = x->metadata;
	t->ship_inclusive = o->ship_inclusive;
	t->ship_code = o->ship_code;
	t->lines = arena_alloc(&r->arena, (TAX_LINES_MAX + 1) * sizeof(*t->lines));
	if (!t->lines)
		return req_fail(r, ERR_API, NULL, NULL);
	const char *mode = param_str(r, "mode");
	bool any = false;
	if (strcmp(mode, "full") == 0) {
		for (int i = 0; i < o->n_lines; i++)
			if (ra[i] || rt[i])
				rev_line(r, o, i, -ra[i], -rt[i], o->lines[i].reference,
					 o->lines[i].quantity, NULL, &t->lines[t->n_lines++]);
		if (o->ship && (sa || st_)) {
			t->ship = true;
			t->ship_amount = -sa;
			t->ship_tax = -st_;
		}
	} else if (param_present(r, "flat_amount")) {
		int64_t flat = 0;
		param_int(r, "flat_amount", &flat);
		if (flat >= 0)
			return req_fail(r, ERR_PARAM_BAD, "flat_amount",
					"flat_amount must be a negative integer.");
		if (flat_spread(r, o, flat, ra, rt, o->ship ? sa : 0, o->ship ? st_ : 0, t) != 0)
			return -1;
	} else {
		const struct form_node *items = param_node(r, "line_items");
		int k = 0;
		bool used[TAX_LINES_MAX] = {false};
		for (const struct form_node *it = items ? items->first_child : NULL; it;
		     it = it->next, k++) {
			const char *pfx = arena_printf(&r->arena, "line_items.%s.", it->key);
			const char *oli =
			    param_str(r, arena_printf(&r->arena, "%soriginal_line_item", pfx));
			int i = 0;
			while (oli && i < o->n_lines && strcmp(o->lines[i].id, oli) != 0)
				i++;
			if (!oli || i == o->n_lines)
				return req_fail(r, ERR_PARAM_BAD,
						arena_printf(&r->arena,
							     "line_items[%d][original_line_item]",
							     k),
						"No such line item of transaction %s: %s", o->id,
						oli ? oli : "");
			if (used[i])
				return req_fail(r, ERR_PARAM_BAD,
						arena_printf(&r->arena,
							     "line_items[%d][original_line_item]",
							     k),
						"Line item %s is reversed twice.", oli);
			used[i] = true;
			int64_t amount = 0, tax = 0, qty = o->lines[i].quantity;
			param_int(r, arena_printf(&r->arena, "%samount", pfx), &amount);
			param_int(r, arena_printf(&r->arena, "%samount_tax", pfx), &tax);
			param_int(r, arena_printf(&r->arena, "%squantity", pfx), &qty);
			if (amount > 0 || tax > 0 || amount < -ra[i] || tax < -rt[i] || qty < 0)
				return req_fail(
				    r, ERR_PARAM_BAD, arena_printf(&r->arena, "line_items[%d]", k),
				    "A reversal takes negative amounts of at most what is left of "
				    "the line: %lld and %lld of tax.",
				    (long long)ra[i], (long long)rt[i]);
			const char *md = NULL;
			const char *mp = arena_printf(&r->arena, "%smetadata", pfx);
			if (param_present(r, mp) && metadata_apply(r, NULL, mp, &md) != 0)
				return -1;
			const char *ref = param_str(r, arena_printf(&r->arena, "%sreference", pfx));
			rev_line(r, o, i, amount, tax, ref, qty, md, &t->lines[t->n_lines++]);
		}
		int64_t sam = 0, stx = 0;
		if (param_int(r, "shipping_cost.amount", &sam) == 1 ||
		    param_present(r, "shipping_cost")) {
			param_int(r, "shipping_cost.amount_tax", &stx);
			if (!o->ship || sam > 0 || stx > 0 || sam < -sa || stx < -st_)
				return req_fail(
				    r, ERR_PARAM_BAD, "shipping_cost",
				    "A reversal takes negative amounts of at most what "
				    "is left of the shipping cost: %lld and %lld of tax.",
				    (long long)sa, (long long)st_);
			t->ship = true;
			t->ship_amount = sam;
			t->ship_tax = stx;
		}
	}
	for (int i = 0; i < t->n_lines; i++)
		any = any || t->lines[i].amount || t->lines[i].amount_tax;
	any = any || (t->ship && (t->ship_amount || t->ship_tax));
	if (!any)
		return req_fail(r, ERR_PARAM_BAD, "mode",
				"Nothing to reverse: the transaction %s has nothing left, or the "
				"reversal takes nothing.",
				o->id);
	rc = txn_insert(r, db, t);
	if (rc == 1)
		return reference_taken(r);
	if (rc != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	txn_render(r, t, req_expand_has(r, "line_items"), req_json(r));
	return 0;
}

static int h_reversal(struct req *r)
{
	struct txn_ctx *x = arena_alloc(&r->arena, sizeof(*x));
	if (!x)
		return req_fail(r, ERR_API, NULL, NULL);
	memset(x, 0, sizeof(*x));
	x->r = r;
	if (txn_metadata(r, x) != 0)
		return -1;
	const char *mode = param_str(r, "mode");
	bool lines = param_present(r, "line_items"), flat = param_present(r, "flat_amount"),
	     ship = param_present(r, "shipping_cost");
	if (strcmp(mode, "full") == 0 && (lines || flat || ship))
		return req_fail(
		    r, ERR_PARAM_BAD, "mode",
		    "mode=full takes neither line_items, shipping_cost nor flat_amount.");
	if (strcmp(mode, "partial") == 0) {
		if (flat && (lines || ship))
			return req_fail(r, ERR_PARAM_BAD, "flat_amount",
					"flat_amount cannot be combined with line_items or "
					"shipping_cost.");
		if (!flat && !lines && !ship)
			return req_fail(r, ERR_PARAM_MISSING, "line_items",
					"mode=partial needs line_items, shipping_cost or "
					"flat_amount.");
		const struct form_node *items = param_node(r, "line_items");
		int k = 0;
		for (const struct form_node *it = items ? items->first_child : NULL; it;
		     it = it->next, k++) {
			const char *pfx = arena_printf(&r->arena, "line_items.%s.", it->key);
			const char *ref = param_str(r, arena_printf(&r->arena, "%sreference", pfx));
			if (!ref || !*ref)
				return req_fail(
				    r, ERR_PARAM_MISSING,
				    arena_printf(&r->arena, "line_items[%d][reference]", k),
				    "line_items[%d][reference]", k);
			if (k == TAX_LINES_MAX)
				return req_fail(r, ERR_PARAM_BAD, "line_items",
						"At most %d line items.", TAX_LINES_MAX);
		}
	}
	return req_write(r, reversal_fn, x);
}

static int txn_retrieve_fn(struct db *db, void *p)
{
	struct txn_ctx *x = p;
	int rc = txn_load(x->r, db, x->id, &x->t);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "tax.transaction", x->id, "transaction");
	if (rc != DB_OK)
		return req_fail(x->r, ERR_API, NULL, NULL);
	if (x->lines) {
		char url[128];
		snprintf(url, sizeof(url), "/v1/tax/transactions/%s/line_items", x->t.id);
		return lines_page(x->r, url, x->t.n_lines, txn_line_id, txn_line_render_at, &x->t,
				  true, req_json(x->r));
	}
	txn_render(x->r, &x->t, req_expand_has(x->r, "line_items"), req_json(x->r));
	return 0;
}

static int h_txn_retrieve(struct req *r)
{
	struct txn_ctx *x = arena_alloc(&r->arena, sizeof(*x));
	if (!x)
		return req_fail(r, ERR_API, NULL, NULL);
	memset(x, 0, sizeof(*x));
	x->r = r;
	x->id = r->args[0];
	return req_read(r, txn_retrieve_fn, x);
}

static int h_txn_lines(struct req *r)
{
	struct txn_ctx *x = arena_alloc(&r->arena, sizeof(*x));
	if (!x)
		return req_fail(r, ERR_API, NULL, NULL);
	memset(x, 0, sizeof(*x));
	x->r = r;
	x->id = r->args[0];
	x->lines = true;
	return req_read(r, txn_retrieve_fn, x);
}

/* ---- tax codes ---- */

static void code_render(const struct tax_code_info *c, struct json *j)
{
	json_obj_open(j);
	json_kv_str(j, "description", c->description);
	json_kv_str(j, "id", c->id);
	json_kv_str(j, "name", c->name);
	json_kv_str(j, "object", "tax_code");
	json_obj_close(j);
}

static const char *code_id(void *ctx, int i)
{
	(void)ctx;
	int n;
	return tax_codes(&n)[i].id;
}

static void code_render_at(void *ctx, int i, struct json *j)
{
	(void)ctx;
	int n;
	code_render(&tax_codes(&n)[i], j);
}

static int h_codes_list(struct req *r)
{
	int n;
	tax_codes(&n);
	return lines_page(r, "/v1/tax_codes", n, code_id, code_render_at, NULL, true, req_json(r));
}

static int h_code_retrieve(struct req *r)
{
	const struct tax_code_info *c = tax_code_find(r->args[0]);
	if (!c)
		return req_fail_missing(r, "tax_code", r->args[0], "id");
	code_render(c, req_json(r));
	return 0;
}

/* ---- parameters and routes ---- */

static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

static const struct param_spec defaults_children[] = {
    {"tax_behavior", PT_ENUM, PF_EMPTYABLE, 0, default_behaviors, NULL},
    {"tax_code", PT_STRING, PF_EMPTYABLE, 20, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec head_office_children[] = {
    {"address", PT_OBJECT, PF_REQUIRED, 0, NULL, address_params},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec settings_params[] = {
    {"defaults", PT_OBJECT, 0, 0, NULL, defaults_children},
    {"head_office", PT_OBJECT, 0, 0, NULL, head_office_children},
    {NULL, 0, 0, 0, NULL, NULL},
};

static const char *const eu_types[] = {"ioss", "oss_non_union", "oss_union", "standard", NULL};
static const char *const supply_schemes[] = {"small_seller", "standard", NULL};
static const struct param_spec eu_standard_children[] = {
    {"place_of_supply_scheme", PT_ENUM, 0, 0, supply_schemes, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec eu_options[] = {
    {"type", PT_ENUM, PF_REQUIRED, 0, eu_types, NULL},
    {"standard", PT_OBJECT, 0, 0, NULL, eu_standard_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const char *const us_types[] = {"local_amusement_tax",	   "local_lease_tax",
				       "state_communications_tax", "state_retail_delivery_fee",
				       "state_sales_tax",	   NULL};
static const struct param_spec us_options[] = {
    {"state", PT_STRING, PF_REQUIRED, 2, NULL, NULL},
    {"type", PT_ENUM, PF_REQUIRED, 0, us_types, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const char *const ca_types[] = {"province_standard", "simplified", "standard", NULL};
static const struct param_spec province_children[] = {
    {"province", PT_STRING, PF_REQUIRED, 2, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec ca_options[] = {
    {"type", PT_ENUM, PF_REQUIRED, 0, ca_types, NULL},
    {"province_standard", PT_OBJECT, 0, 0, NULL, province_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const char *const std_types[] = {"standard", NULL};
static const struct param_spec std_options[] = {
    {"type", PT_ENUM, PF_REQUIRED, 0, std_types, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
/* clang-format off */
#define EU(cc) {cc, PT_OBJECT, 0, 0, NULL, eu_options}
#define STD(cc) {cc, PT_OBJECT, 0, 0, NULL, std_options}
static const struct param_spec country_options_children[] = {
    EU("at"), EU("be"), EU("bg"), EU("hr"), EU("cy"), EU("cz"), EU("dk"), EU("ee"), EU("fi"),
    EU("fr"), EU("de"), EU("gr"), EU("hu"), EU("ie"), EU("it"), EU("lv"), EU("lt"), EU("lu"),
    EU("mt"), EU("nl"), EU("pl"), EU("pt"), EU("ro"), EU("sk"), EU("si"), EU("es"), EU("se"),
    STD("gb"), STD("no"), STD("ch"), STD("au"), STD("nz"), STD("jp"), STD("sg"),
    {"us", PT_OBJECT, 0, 0, NULL, us_options},
    {"ca", PT_OBJECT, 0, 0, NULL, ca_options},
    {NULL, 0, 0, 0, NULL, NULL},
};
#undef EU
#undef STD
/* clang-format on */
static const struct param_spec reg_create_params[] = {
    {"active_from", PT_STRING, PF_REQUIRED, 20, NULL, NULL},
    {"country", PT_STRING, PF_REQUIRED, 2, NULL, NULL},
    {"country_options", PT_OBJECT, PF_REQUIRED, 0, NULL, country_options_children},
    {"expires_at", PT_STRING, 0, 20, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec reg_update_params[] = {
    {"active_from", PT_STRING, 0, 20, NULL, NULL},
    {"expires_at", PT_STRING, PF_EMPTYABLE, 20, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const char *const reg_statuses[] = {"active", "all", "expired", "scheduled", NULL};
static const struct param_spec reg_list_params[] = {
    {"status", PT_ENUM, 0, 0, reg_statuses, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

static const struct param_spec calc_item_children[] = {
    {"amount", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"product", PT_STRING, 0, 255, NULL, NULL},
    {"quantity", PT_INT, 0, 0, NULL, NULL},
    {"reference", PT_STRING, 0, 500, NULL, NULL},
    {"tax_behavior", PT_ENUM, 0, 0, behaviors, NULL},
    {"tax_code", PT_STRING, 0, 20, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec calc_ship_children[] = {
    {"amount", PT_INT, 0, 0, NULL, NULL},
    {"tax_behavior", PT_ENUM, 0, 0, behaviors, NULL},
    {"tax_code", PT_STRING, 0, 20, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec tax_id_children[] = {
    {"type", PT_STRING, PF_REQUIRED, 40, NULL, NULL},
    {"value", PT_STRING, PF_REQUIRED, 100, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const char *const address_sources[] = {"billing", "shipping", NULL};
static const char *const overrides[] = {"customer_exempt", "none", "reverse_charge", NULL};
static const struct param_spec customer_details_children[] = {
    {"address", PT_OBJECT, 0, 0, NULL, address_params},
    {"address_source", PT_ENUM, 0, 0, address_sources, NULL},
    {"ip_address", PT_STRING, 0, 64, NULL, NULL},
    {"tax_ids", PT_OBJECT_ARRAY, 0, TAX_CUSTOMER_IDS_MAX, NULL, tax_id_children},
    {"taxability_override", PT_ENUM, 0, 0, overrides, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec calc_params[] = {
    {"currency", PT_CURRENCY, PF_REQUIRED, 0, NULL, NULL},
    {"customer", PT_STRING, 0, 255, NULL, NULL},
    {"customer_details", PT_OBJECT, 0, 0, NULL, customer_details_children},
    {"line_items", PT_OBJECT_ARRAY, PF_REQUIRED, TAX_LINES_MAX, NULL, calc_item_children},
    {"shipping_cost", PT_OBJECT, 0, 0, NULL, calc_ship_children},
    {"tax_date", PT_INT, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

static const struct param_spec from_calc_params[] = {
    {"calculation", PT_STRING, PF_REQUIRED, 255, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"reference", PT_STRING, PF_REQUIRED, 500, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec rev_item_children[] = {
    {"amount", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {"amount_tax", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"original_line_item", PT_STRING, PF_REQUIRED, 255, NULL, NULL},
    {"quantity", PT_INT, 0, 0, NULL, NULL},
    {"reference", PT_STRING, PF_REQUIRED, 500, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec rev_ship_children[] = {
    {"amount", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {"amount_tax", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const char *const modes[] = {"full", "partial", NULL};
static const struct param_spec reversal_params[] = {
    {"flat_amount", PT_INT, 0, 0, NULL, NULL},
    {"line_items", PT_OBJECT_ARRAY, 0, TAX_LINES_MAX, NULL, rev_item_children},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"mode", PT_ENUM, PF_REQUIRED, 0, modes, NULL},
    {"original_transaction", PT_STRING, PF_REQUIRED, 255, NULL, NULL},
    {"reference", PT_STRING, PF_REQUIRED, 500, NULL, NULL},
    {"shipping_cost", PT_OBJECT, 0, 0, NULL, rev_ship_children},
    {NULL, 0, 0, 0, NULL, NULL},
};

const struct route tax_routes[] = {
    {"GET", "/v1/tax/settings", h_settings_get, no_params, 0},
    {"POST", "/v1/tax/settings", h_settings_post, settings_params, 0},
    {"POST", "/v1/tax/registrations", h_reg_create, reg_create_params, 0},
    {"GET", "/v1/tax/registrations", h_reg_list, reg_list_params, ROUTE_LIST},
    {"GET", "/v1/tax/registrations/{id}", h_reg_retrieve, no_params, 0},
    {"POST", "/v1/tax/registrations/{id}", h_reg_update, reg_update_params, 0},
    {"POST", "/v1/tax/calculations", h_calc_create, calc_params, 0},
    {"GET", "/v1/tax/calculations/{id}/line_items", h_calc_lines, no_params, ROUTE_LIST},
    {"GET", "/v1/tax/calculations/{id}", h_calc_retrieve, no_params, 0},
    {"POST", "/v1/tax/transactions/create_from_calculation", h_from_calc, from_calc_params, 0},
    {"POST", "/v1/tax/transactions/create_reversal", h_reversal, reversal_params, 0},
    {"GET", "/v1/tax/transactions/{id}/line_items", h_txn_lines, no_params, ROUTE_LIST},
    {"GET", "/v1/tax/transactions/{id}", h_txn_retrieve, no_params, 0},
    {"GET", "/v1/tax_codes", h_codes_list, no_params, ROUTE_LIST},
    {"GET", "/v1/tax_codes/{id}", h_code_retrieve, no_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};

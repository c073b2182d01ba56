/*
 * /v1/shipping_rates: Stripe's shipping_rate, a fixed amount in one currency (type
 * fixed_amount, the only type Stripe has) that Checkout Sessions offer as shipping options
 * (checkout.c). Created, retrieved, updated (active, metadata, and tax_behavior while it is
 * unspecified: Stripe does not let a rate's inclusive or exclusive behaviour change) and listed;
 * never deleted (Stripe archives them with active=false). A session's shipping_rate_data makes
 * one too, through the same parsing and insert (shipping_rate_create_inline).
 *
 * tax_code (a tax code Tender knows, tax/rates.h) and fixed_amount[currency_options] (the rate's
 * amount in other currencies, each {amount, tax_behavior}: added or changed by an update, a
 * tax_behavior fixed once inclusive or exclusive as the rate's own) are kept and shown.
 *
 * Stripe sends no shipping_rate.* events (src/webhooks/event_types.def has none), so these
 * writes append none.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "api/common.h"
#include "api/list.h"
#include "api/resources.h"
#include "core/str.h"
#include "http/form.h"
#include "money/currency.h"
#include "tax/rates.h"

#define AMOUNT_MAX 99999999 /* a PaymentIntent's most */
#define ESTIMATE_MAX 10000  /* a delivery estimate's bound, in its units */

struct rate {
	char id[ID_MAX];
	int64_t created, amount;
	bool active;
	char currency[8];
	const char *display_name, *delivery_estimate, *tax_behavior, *metadata;
	/* NULL: none; currency_options: {"eur":{"amount":…,"tax_behavior":…},…} sorted by key */
	const char *tax_code, *currency_options;
};

static const char SQL_GET[] =
    "SELECT id, created, active, display_name, amount, currency, delivery_estimate,"
    " tax_behavior, metadata, tax_code, currency_options FROM shipping_rates"
    " WHERE merchant_id = $1 AND id = $2";
static const char SQL_INSERT[] =
    "INSERT INTO shipping_rates (merchant_id, id, created, active, display_name, amount,"
    " currency, delivery_estimate, tax_behavior, metadata, tax_code, currency_options)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
static const char SQL_UPDATE[] =
    "UPDATE shipping_rates SET active = $3, tax_behavior = $4, metadata = $5,"
    " currency_options = $6 WHERE merchant_id = $1 AND id = $2";

static int rate_load(struct req *r, struct db *db, const char *id, struct rate *s)
{
	struct db_stmt *st = db_prepare(db, SQL_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		memset(s, 0, sizeof(*s));
		str_copy(s->id, sizeof(s->id), db_col_text(st, 0, NULL));
		s->created = db_col_int64(st, 1);
		s->active = db_col_int64(st, 2) != 0;
		s->display_name = col_text_dup(&r->arena, st, 3);
		s->amount = db_col_int64(st, 4);
		str_copy(s->currency, sizeof(s->currency), db_col_text(st, 5, NULL));
		s->delivery_estimate = col_text_dup(&r->arena, st, 6);
		s->tax_behavior = col_text_dup(&r->arena, st, 7);
		s->metadata = col_text_dup(&r->arena, st, 8);
		s->tax_code = col_text_dup(&r->arena, st, 9);
		s->currency_options = col_text_dup(&r->arena, st, 10);
		if (!s->display_name || !s->tax_behavior || !s->metadata)
			rc = DB_ERR;
	}
	db_reset(st);
	if (rc == DB_ROW)
		return DB_OK;
	return rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
}

static int rate_insert(struct req *r, struct db *db, const struct rate *s)
{
	struct db_stmt *st = db_prepare(db, SQL_INSERT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, s->id, -1);
	db_bind_int64(st, 3, s->created);
	db_bind_int64(st, 4, s->active ? 1 : 0);
	db_bind_text(st, 5, s->display_name, -1);
	db_bind_int64(st, 6, s->amount);
	db_bind_text(st, 7, s->currency, -1);
	db_bind_text(st, 8, s->delivery_estimate, -1);
	db_bind_text(st, 9, s->tax_behavior, -1);
	db_bind_text(st, 10, s->metadata, -1);
	db_bind_text(st, 11, s->tax_code, -1);
	db_bind_text(st, 12, s->currency_options, -1);
	return db_step_done(st);
}

static void rate_render(struct req *r, const struct rate *s, struct json *j)
{
	json_obj_open(j);
	json_kv_str(j, "id", s->id);
	json_kv_str(j, "object", "shipping_rate");
	json_kv_bool(j, "active", s->active);
	json_kv_int(j, "created", s->created);
	if (s->delivery_estimate)
		json_kv_raw(j, "delivery_estimate", s->delivery_estimate,
			    strlen(s->delivery_estimate));
	else
		json_kv_null(j, "delivery_estimate");
	json_kv_str(j, "display_name", s->display_name);
	json_key(j, "fixed_amount");
	json_obj_open(j);
	json_kv_int(j, "amount", s->amount);
	json_kv_str(j, "currency", s->currency);
	if (s->currency_options)
		json_kv_raw(j, "currency_options", s->currency_options,
			    strlen(s->currency_options));
	json_obj_close(j);
	json_kv_bool(j, "livemode", r->livemode);
	json_kv_raw(j, "metadata", s->metadata, strlen(s->metadata));
	json_kv_str(j, "tax_behavior", s->tax_behavior);
	json_kv_str_or_null(j, "tax_code", s->tax_code);
	json_kv_str(j, "type", "fixed_amount");
	json_obj_close(j);
}

/* ---- parameters ---- */

static const char *const tax_behaviors[] = {"exclusive", "inclusive", "unspecified", NULL};
static const struct param_spec bound_children[] = {
    {"unit", PT_ENUM, PF_REQUIRED, 0,
     (const char *const[]){"business_day", "day", "hour", "month", "week", NULL}, NULL},
    {"value", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec estimate_children[] = {
    {"minimum", PT_OBJECT, 0, 0, NULL, bound_children},
    {"maximum", PT_OBJECT, 0, 0, NULL, bound_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
#define CURRENCY_OPTIONS_MAX 135 /* Stripe's supported currencies, at most one option each */
static const struct param_spec currency_option_children[] = {
    {"amount", PT_INT, 0, 0, NULL, NULL},
    {"tax_behavior", PT_ENUM, 0, 0, tax_behaviors, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec fixed_amount_children[] = {
    {"amount", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {"currency", PT_CURRENCY, PF_REQUIRED, 0, NULL, NULL},
    {"currency_options", PT_OBJECT_MAP, 0, CURRENCY_OPTIONS_MAX, NULL, currency_option_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec fixed_amount_update_children[] = {
    {"currency_options", PT_OBJECT_MAP, 0, CURRENCY_OPTIONS_MAX, NULL, currency_option_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
const struct param_spec shipping_rate_data_params[] = {
    {"display_name", PT_STRING, PF_REQUIRED, 100, NULL, NULL},
    {"type", PT_ENUM, 0, 0, (const char *const[]){"fixed_amount", NULL}, NULL},
    {"fixed_amount", PT_OBJECT, 0, 0, NULL, fixed_amount_children},
    {"delivery_estimate", PT_OBJECT, 0, 0, NULL, estimate_children},
    {"tax_behavior", PT_ENUM, 0, 0, tax_behaviors, NULL},
    {"tax_code", PT_STRING, 0, 5000, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec update_params[] = {
    {"active", PT_BOOL, 0, 0, NULL, NULL},
    {"fixed_amount", PT_OBJECT, 0, 0, NULL, fixed_amount_update_children},
    {"tax_behavior", PT_ENUM, 0, 0, tax_behaviors, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec list_params[] = {
    {"active", PT_BOOL, 0, 0, NULL, NULL},
    {"currency", PT_CURRENCY, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

/* fixed_amount[currency_options] at path (dotted; `shown` its name in errors) merged into the
 * rate's options (s->currency_options, NULL at creation): each key a currency other than the
 * rate's own; a new option needs its amount (0 to AMOUNT_MAX), a given one replaces the old;
 * an option's tax_behavior defaults to unspecified and, once inclusive or exclusive, stays (as
 * the rate's own). Sets s->currency_options. 0, or -1 with r->err. */
static int currency_options_apply(struct req *r, const char *path, const char *shown,
				  struct rate *s)
{
	const struct form_node *n = param_node(r, path);
	if (!n || n->kind != FORM_OBJECT)
		return 0;
	json_t *all =
	    s->currency_options ? json_loads(s->currency_options, 0, NULL) : json_object();
	if (!all || !json_is_object(all)) {
		json_decref(all);
		return req_fail(r, ERR_API, NULL, NULL);
	}
	int rc = 0;
	for (const struct form_node *c = n->first_child; c && rc == 0; c = c->next) {
		char cur[8] = {0};
		for (size_t i = 0; i < c->key_len && i < sizeof(cur) - 1; i++)
			cur[i] = (char)(c->key[i] >= 'A' && c->key[i] <= 'Z' ? c->key[i] - 'A' + 'a'
									     : c->key[i]);
		char at[96], sub[128];
		snprintf(at, sizeof(at), "%s[%s]", shown, c->key);
		if (c->key_len != 3 || !currency_find(cur)) {
			rc = req_fail(r, ERR_INVALID_CURRENCY, at, "Invalid currency: %s.", c->key);
			break;
		}
		if (str_eq(cur, s->currency)) {
			rc = req_fail(r, ERR_PARAM_BAD, at,
				      "`%s` is the shipping rate's own currency: currency_options "
				      "takes its amount in other currencies only.",
				      cur);
			break;
		}
		json_t *old = json_object_get(all, cur);
		const struct form_node *an = form_get(c, "amount");
		const struct form_node *tn = form_get(c, "tax_behavior");
		int64_t amount = old ? json_integer_value(json_object_get(old, "amount")) : 0;
		snprintf(sub, sizeof(sub), "%s[amount]", at);
		if (an &&
		    (parse_i64(an->value, &amount) != 0 || amount < 0 || amount > AMOUNT_MAX)) {
			rc = req_fail(
			    r, ERR_PARAM_BAD, sub,
			    "Invalid %s: an amount from 0 to %d (in the currency's smallest "
			    "unit) is required.",
			    sub, AMOUNT_MAX);
			break;
		}
		if (!an && !old) {
			rc = req_fail(r, ERR_PARAM_MISSING, sub, "%s", sub);
			break;
		}
		const char *oldtb =
		    old ? json_string_value(json_object_get(old, "tax_behavior")) : NULL;
		const char *tb = oldtb ? oldtb : "unspecified";
		if (tn && tn->value_len && !str_eq(tn->value, tb)) {
			if (!str_eq(tb, "unspecified")) {
				snprintf(sub, sizeof(sub), "%s[tax_behavior]", at);
				rc = req_fail(
				    r, ERR_PARAM_BAD, sub,
				    "The tax_behavior of a currency option cannot be changed "
				    "once it is `%s`.",
				    tb);
				break;
			}
			tb = tn->value;
		}
		json_t *o =
		    json_pack("{s:I,s:s}", "amount", (json_int_t)amount, "tax_behavior", tb);
		if (!o || json_object_set_new(all, cur, o) != 0)
			rc = req_fail(r, ERR_API, NULL, NULL);
	}
	if (rc == 0) {
		char *js = json_dumps(all, JSON_COMPACT | JSON_SORT_KEYS);
		s->currency_options = js ? arena_strdup(&r->arena, js) : NULL;
		free(js);
		if (!s->currency_options)
			rc = req_fail(r, ERR_API, NULL, NULL);
	}
	json_decref(all);
	return rc;
}

/* A rate from the parameters at prefix (dotted: "" or "shipping_options.0.shipping_rate_data.";
 * shown: how errors name it, "" or "shipping_options[0][shipping_rate_data]"). 0, or -1 with
 * r->err. */
static int rate_from_params(struct req *r, const char *prefix, const char *shown, struct rate *s)
{
	char p[160], q[160];
	memset(s, 0, sizeof(*s));
	id_new_at(s->id, "shr_", r->now);
	s->created = r->now;
	s->active = true;
	snprintf(p, sizeof(p), "%sdisplay_name", prefix);
	s->display_name = param_str(r, p);
	if (!s->display_name || !*s->display_name) {
		snprintf(q, sizeof(q), "%s%sdisplay_name%s", shown, *shown ? "[" : "",
			 *shown ? "]" : "");
		return req_fail(r, ERR_PARAM_MISSING, q, "%s", q);
	}
	snprintf(p, sizeof(p), "%sfixed_amount", prefix);
	snprintf(q, sizeof(q), "%s%sfixed_amount%s", shown, *shown ? "[" : "", *shown ? "]" : "");
	if (!param_present(r, p))
		return req_fail(r, ERR_PARAM_MISSING, q, "%s", q);
	char pa[160], qa[176];
	snprintf(pa, sizeof(pa), "%sfixed_amount.amount", prefix);
	snprintf(qa, sizeof(qa), "%s[amount]", q);
	if (param_int(r, pa, &s->amount) != 1 || s->amount < 0 || s->amount > AMOUNT_MAX)
		return req_fail(r, ERR_PARAM_BAD, qa,
				"Invalid %s: an amount from 0 to %d (in the currency's smallest "
				"unit) is required.",
				qa, AMOUNT_MAX);
	snprintf(pa, sizeof(pa), "%sfixed_amount.currency", prefix);
	snprintf(qa, sizeof(qa), "%s[currency]", q);
	if (param_currency(r, pa, qa, s->currency) != 0)
		return -1;
	snprintf(p, sizeof(p), "%stax_behavior", prefix);
	const char *tb = param_str(r, p);
	s->tax_behavior = tb && *tb ? tb : "unspecified";
	snprintf(p, sizeof(p), "%stax_code", prefix);
	const char *tc = param_str(r, p);
	if (tc && *tc) {
		if (!tax_code_find(tc)) {
			snprintf(qa, sizeof(qa), "%s%stax_code%s", shown, *shown ? "[" : "",
				 *shown ? "]" : "");
			return req_fail_missing(r, "tax_code", tc, qa);
		}
		s->tax_code = tc;
	}
	snprintf(pa, sizeof(pa), "%sfixed_amount.currency_options", prefix);
	char qo[200];
	snprintf(qo, sizeof(qo), "%s[currency_options]", q);
	if (currency_options_apply(r, pa, qo, s) != 0)
		return -1;
	s->metadata = "{}";
	snprintf(p, sizeof(p), "%smetadata", prefix);
	if (metadata_apply(r, NULL, p, &s->metadata) != 0)
		return -1;
	snprintf(p, sizeof(p), "%sdelivery_estimate", prefix);
	if (!param_present(r, p))
		return 0;
	/* {maximum, minimum}: each bound {unit, value} or null */
	struct buf b;
	struct json j;
	buf_init(&b, 1024);
	json_init(&j, &b);
	json_obj_open(&j);
	static const char *const bounds[] = {"maximum", "minimum"};
	int rc = 0;
	for (int i = 0; i < 2 && rc == 0; i++) {
		snprintf(pa, sizeof(pa), "%sdelivery_estimate.%s.unit", prefix, bounds[i]);
		const char *unit = param_str(r, pa);
		json_key(&j, bounds[i]);
		if (!unit) {
			json_nil(&j);
			continue;
		}
		int64_t v = 0;
		snprintf(pa, sizeof(pa), "%sdelivery_estimate.%s.value", prefix, bounds[i]);
		if (param_int(r, pa, &v) != 1 || v < 1 || v > ESTIMATE_MAX) {
			snprintf(qa, sizeof(qa), "%s%sdelivery_estimate%s[%s][value]", shown,
				 *shown ? "[" : "", *shown ? "]" : "", bounds[i]);
			rc = req_fail(r, ERR_PARAM_BAD, qa,
				      "Invalid %s: it must be greater than 0 (at most %d).", qa,
				      ESTIMATE_MAX);
			break;
		}
		json_obj_open(&j);
		json_kv_str(&j, "unit", unit);
		json_kv_int(&j, "value", v);
		json_obj_close(&j);
	}
	json_obj_close(&j);
	if (rc == 0) {
		s->delivery_estimate = b.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&b));
		if (!s->delivery_estimate)
			rc = req_fail(r, ERR_API, NULL, NULL);
	}
	buf_release(&b);
	return rc;
}

static void facts_of(const struct rate *s, struct shipping_rate_facts *f)
{
	memset(f, 0, sizeof(*f));
	str_copy(f->id, sizeof(f->id), s->id);
	f->active = s->active;
	f->amount = s->amount;
	str_copy(f->currency, sizeof(f->currency), s->currency);
	f->display_name = s->display_name;
}

int shipping_rate_get(struct req *r, struct db *db, const char *id, struct shipping_rate_facts *ret)
{
	struct rate s;
	int rc = rate_load(r, db, id, &s);
	if (rc == DB_OK)
		facts_of(&s, ret);
	return rc;
}

int shipping_rate_create_inline(struct req *r, struct db *db, const char *prefix, const char *shown,
				struct shipping_rate_facts *ret)
{
	struct rate s;
	if (rate_from_params(r, prefix, shown, &s) != 0)
		return -1;
	if (rate_insert(r, db, &s) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	facts_of(&s, ret);
	return 0;
}

/* ---- create, retrieve, update ---- */

struct create_ctx {
	struct req *r;
	struct rate s;
};

static int create_fn(struct db *db, void *arg)
{
	struct create_ctx *c = arg;
	if (rate_insert(c->r, db, &c->s) != DB_OK)
		return req_fail(c->r, ERR_API, NULL, NULL);
	rate_render(c->r, &c->s, req_json(c->r));
	return 0;
}

static int h_create(struct req *r)
{
	struct create_ctx c = {.r = r};
	if (rate_from_params(r, "", "", &c.s) != 0)
		return -1;
	return req_write(r, create_fn, &c);
}

struct id_ctx {
	struct req *r;
	const char *id;
	struct rate s;
};

static int load_fn(struct db *db, void *arg)
{
	struct id_ctx *x = arg;
	int rc = rate_load(x->r, db, x->id, &x->s);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "shipping_rate", x->id, "shipping_rate");
	return rc == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

static int retrieve_fn(struct db *db, void *arg)
{
	struct id_ctx *x = arg;
	if (load_fn(db, arg) != 0)
		return -1;
	rate_render(x->r, &x->s, req_json(x->r));
	return 0;
}

static int h_retrieve(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, retrieve_fn, &x) == 0 ? 0 : -1;
}

static int update_fn(struct db *db, void *arg)
{
	struct id_ctx *x = arg;
	struct req *r = x->r;
	if (load_fn(db, arg) != 0)
		return -1;
	struct rate *s = &x->s;
	param_bool(r, "active", &s->active);
	const char *tb = param_str(r, "tax_behavior");
	if (tb && strcmp(tb, s->tax_behavior) != 0) {
		/* Stripe: once inclusive or exclusive, a rate's tax behaviour is fixed */
		if (strcmp(s->tax_behavior, "unspecified") != 0)
			return req_fail(r, ERR_PARAM_BAD, "tax_behavior",
					"The tax_behavior of a shipping rate cannot be changed "
					"once it is `%s`.",
					s->tax_behavior);
		s->tax_behavior = tb;
	}
	if (metadata_apply(r, s->metadata, "metadata", &s->metadata) != 0)
		return -1;
	if (currency_options_apply(r, "fixed_amount.currency_options",
				   "fixed_amount[currency_options]", s) != 0)
		return -1;
	struct db_stmt *st = db_prepare(db, SQL_UPDATE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, s->id, -1);
	db_bind_int64(st, 3, s->active ? 1 : 0);
	db_bind_text(st, 4, s->tax_behavior, -1);
	db_bind_text(st, 5, s->metadata, -1);
	db_bind_text(st, 6, s->currency_options, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	rate_render(r, s, req_json(r));
	return 0;
}

static int h_update(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, update_fn, &x);
}

/* ---- list ---- */

static const char SQL_CURSOR[] =
    "SELECT created FROM shipping_rates WHERE merchant_id = $1 AND id = $2";
#define LIST_WHERE                                                                                 \
	"SELECT id FROM shipping_rates WHERE merchant_id = $1 AND id > $2 AND id < $3"             \
	" AND ($5 IS NULL OR active = $5) AND ($6 IS NULL OR currency = $6)"
static const char SQL_DESC[] = LIST_WHERE " ORDER BY id DESC LIMIT $4";
static const char SQL_ASC[] = LIST_WHERE " ORDER BY id ASC LIMIT $4";

static int list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	list_bind_bool(r, st, first, "active");
	char cur[8];
	if (param_present(r, "currency") && param_currency(r, "currency", NULL, cur) == 0)
		db_bind_text(st, first + 1, cur, -1);
	else
		db_bind_null(st, first + 1);
	return 0;
}

static int list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	struct rate s;
	int rc = rate_load(r, db, id, &s);
	if (rc == DB_OK)
		rate_render(r, &s, j);
	return rc;
}

static int h_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/shipping_rates",
	    .object_name = "shipping_rate",
	    .id_prefix = "shr_",
	    .sql_cursor = SQL_CURSOR,
	    .sql_desc = SQL_DESC,
	    .sql_asc = SQL_ASC,
	    .bind_filters = list_bind,
	    .render = list_render,
	};
	return list_respond(r, &spec);
}

const struct route shipping_rates_routes[] = {
    {"POST", "/v1/shipping_rates", h_create, shipping_rate_data_params, 0},
    {"GET", "/v1/shipping_rates", h_list, list_params, ROUTE_LIST},
    {"GET", "/v1/shipping_rates/{id}", h_retrieve, no_params, 0},
    {"POST", "/v1/shipping_rates/{id}", h_update, update_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};

/*
 * /v1/payment_methods (type=card): create (publishable keys may), retrieve, update, list
 * (customer, type), attach, detach; and /v1/tokens: create (publishable keys may), retrieve.
 * The card number goes straight from the request to the vault; only its public facts come back.
 */
#include <stdio.h>
#include <string.h>

#include "api/common.h"
#include "api/list.h"
#include "api/resources.h"
#include "app.h"
#include "events/events.h"
#include "http/form.h"
#include "vault/payment_method.h"
#include "vault/vault.h"

static const char *const pm_types[] = {"card", NULL};

static const struct param_spec card_children[] = {
    {"number", PT_STRING, 0, 64, NULL, NULL},
    {"exp_month", PT_STRING, 0, 4, NULL, NULL},
    {"exp_year", PT_STRING, 0, 4, NULL, NULL},
    {"cvc", PT_STRING, 0, 8, NULL, NULL},
    {"token", PT_STRING, 0, 255, NULL, NULL},
    {"name", PT_STRING, 0, 200, NULL, NULL},
    {"address_line1", PT_STRING, 0, 200, NULL, NULL},
    {"address_line2", PT_STRING, 0, 200, NULL, NULL},
    {"address_city", PT_STRING, 0, 200, NULL, NULL},
    {"address_state", PT_STRING, 0, 200, NULL, NULL},
    {"address_zip", PT_STRING, 0, 20, NULL, NULL},
    {"address_country", PT_STRING, 0, 2, NULL, NULL},
    {"currency", PT_STRING, 0, 3, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec address_children[] = {
    {"city", PT_STRING, PF_EMPTYABLE, 200, NULL, NULL},
    {"country", PT_STRING, PF_EMPTYABLE, 2, NULL, NULL},
    {"line1", PT_STRING, PF_EMPTYABLE, 200, NULL, NULL},
    {"line2", PT_STRING, PF_EMPTYABLE, 200, NULL, NULL},
    {"postal_code", PT_STRING, PF_EMPTYABLE, 20, NULL, NULL},
    {"state", PT_STRING, PF_EMPTYABLE, 200, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec billing_children[] = {
    {"address", PT_OBJECT, PF_EMPTYABLE, 0, NULL, address_children},
    {"email", PT_STRING, PF_EMPTYABLE, 512, NULL, NULL},
    {"name", PT_STRING, PF_EMPTYABLE, 256, NULL, NULL},
    {"phone", PT_STRING, PF_EMPTYABLE, 50, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec create_params[] = {
    {"type", PT_ENUM, PF_REQUIRED, 0, pm_types, NULL},
    {"card", PT_OBJECT, 0, 0, NULL, card_children},
    {"billing_details", PT_OBJECT, 0, 0, NULL, billing_children},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"customer", PT_STRING, 0, 255, NULL, NULL},
    {"payment_method", PT_STRING, 0, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec card_update_children[] = {
    {"exp_month", PT_STRING, 0, 4, NULL, NULL},
    {"exp_year", PT_STRING, 0, 4, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec update_params[] = {
    {"billing_details", PT_OBJECT, 0, 0, NULL, billing_children},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"card", PT_OBJECT, 0, 0, NULL, card_update_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec list_params[] = {
    {"customer", PT_STRING, 0, 255, NULL, NULL},
    {"type", PT_ENUM, 0, 0, pm_types, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec attach_params[] = {
    {"customer", PT_STRING, PF_REQUIRED, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};
static const struct param_spec token_params[] = {
    {"card", PT_OBJECT, PF_REQUIRED, 0, NULL, card_children},
    {"customer", PT_STRING, 0, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

/* billing_details JSON from params (absent → old). */
static int billing_from_params(struct req *r, const char *old, const char **ret)
{
	const struct form_node *n = param_node(r, "billing_details");
	*ret = old;
	if (!n)
		return 0;
	const char *addr = NULL;
	if (address_from_params(r, "billing_details.address", &addr) != 0)
		return -1;
	struct buf b;
	struct json j;
	buf_init(&b, 64 * 1024);
	json_init(&j, &b);
	json_obj_open(&j);
	json_kv_raw(&j, "address",
	            addr ? addr
	                 : "{\"city\":null,\"country\":null,\"line1\":null,\"line2\":null,"
	                   "\"postal_code\":null,\"state\":null}",
	            strlen(addr ? addr
	                        : "{\"city\":null,\"country\":null,\"line1\":null,\"line2\":null,"
	                          "\"postal_code\":null,\"state\":null}"));
	static const char *const fields[] = {"email", "name", "phone", NULL};
	for (const char *const *f = fields; *f; f++) {
		char path[64];
		snprintf(path, sizeof(path), "billing_details.%s", *f);
		const char *v = param_str(r, path);
		json_kv_str_or_null(&j, *f, v && *v ? v : NULL);
	}
	json_obj_close(&j);
	*ret = b.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&b));
	buf_release(&b);
	return 0;
}

/* Validates card[…] into info; on error answers 402 card_error naming the parameter. */
static int card_from_params(struct req *r, struct vault_card_info *info)
{
	const char *number = param_str(r, "card.number");
	if (!number)
		return req_fail(r, ERR_PARAM_MISSING, "card[number]", "%s", "card[number]");
	const char *em = param_str(r, "card.exp_month");
	const char *ey = param_str(r, "card.exp_year");
	if (!em)
		return req_fail(r, ERR_PARAM_MISSING, "card[exp_month]", "%s", "card[exp_month]");
	if (!ey)
		return req_fail(r, ERR_PARAM_MISSING, "card[exp_year]", "%s", "card[exp_year]");
	int e = vault_card_validate(number, em, ey, param_str(r, "card.cvc"), r->now, info);
	if (e == 0)
		return 0;
	const char *param = e == ERR_CARD_INVALID_EXPIRY_MONTH  ? "exp_month"
	                    : e == ERR_CARD_INVALID_EXPIRY_YEAR ? "exp_year"
	                    : e == ERR_CARD_INVALID_CVC         ? "cvc"
	                                                        : "number";
	return req_fail(r, (enum api_err)e, param, NULL);
}

struct create_ctx {
	struct req *r;
	struct vault_card_info info;
	char pm_id[ID_MAX];
	char card_id[ID_MAX];
	const char *billing;
	const char *metadata;
	const char *customer;
};

static int create_fn(struct db *db, void *p)
{
	struct create_ctx *c = p;
	struct req *r = c->r;
	char fp[24];
	int rc = vault_card_store(r->app->vault, db, r->merchant_id, c->card_id,
	                          param_str(r, "card.number"), &c->info, r->now, fp);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (pm_insert(db, r->merchant_id, c->pm_id, c->card_id, &c->info, fp, c->billing,
	              c->metadata, c->customer, r->now) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return pm_render(db, r->merchant_id, c->pm_id, req_json(r)) == DB_OK
	           ? 0
	           : req_fail(r, ERR_API, NULL, NULL);
}

static int h_create(struct req *r)
{
	struct create_ctx c;
	memset(&c, 0, sizeof(c));
	c.r = r;
	if (param_present(r, "payment_method"))
		return req_fail(r, ERR_PARAM_BAD, "payment_method",
		                "Cloning PaymentMethods requires Connect, which Tender does not "
		                "offer.");
	if (!param_present(r, "card"))
		return req_fail(r, ERR_PARAM_MISSING, "card", "%s", "card");
	if (card_from_params(r, &c.info) != 0)
		return -1;
	if (billing_from_params(r, NULL, &c.billing) != 0)
		return -1;
	c.metadata = "{}";
	if (metadata_apply(r, NULL, "metadata", &c.metadata) != 0)
		return -1;
	const char *cus = param_str(r, "customer");
	c.customer = cus && *cus ? cus : NULL;
	id_new(c.pm_id, "pm_");
	id_new(c.card_id, "card_");
	return req_write(r, create_fn, &c);
}

struct id_ctx {
	struct req *r;
	const char *id;
};

static int retrieve_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	int rc = pm_render(db, x->r->merchant_id, x->id, req_json(x->r));
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "payment_method", x->id, "payment_method");
	return rc == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

static int h_retrieve(struct req *r)
{
	struct id_ctx x = {r, r->args[0]};
	return req_read(r, retrieve_fn, &x) == 0 ? 0 : -1;
}

static const char SQL_PM_UPDATE[] =
    "UPDATE payment_methods SET billing_details = $3, metadata = $4, exp_month = $5,"
    " exp_year = $6 WHERE merchant_id = $1 AND id = $2";
static const char SQL_PM_META[] = "SELECT billing_details, metadata, exp_month, exp_year"
                                  " FROM payment_methods WHERE merchant_id = $1 AND id = $2";
static const char SQL_PM_CUSTOMER[] =
    "UPDATE payment_methods SET customer = $3 WHERE merchant_id = $1 AND id = $2";
static const char SQL_CUSTOMER_EXISTS[] =
    "SELECT 1 FROM customers WHERE merchant_id = $1 AND id = $2 AND deleted = 0";

static int pm_event(struct req *r, struct db *db, const char *id, const char *type)
{
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 20);
	json_init(&j, &b);
	int rc = pm_render(db, r->merchant_id, id, &j);
	struct event_origin o = {r->request_id, r->idempotency_key, r->livemode};
	if (rc == DB_OK && !b.failed)
		rc = event_append(db, r->merchant_id, &o, type, id, b.data, b.len, NULL, r->now, NULL);
	buf_release(&b);
	return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static int update_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	struct req *r = x->r;
	struct db_stmt *st = db_prepare(db, SQL_PM_META);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, x->id, -1);
	if (db_step(st) != DB_ROW) {
		db_reset(st);
		return req_fail_missing(r, "payment_method", x->id, "payment_method");
	}
	const char *t = db_col_text(st, 0, NULL);
	const char *billing = t ? arena_strdup(&r->arena, t) : NULL;
	t = db_col_text(st, 1, NULL);
	const char *meta = t ? arena_strdup(&r->arena, t) : "{}";
	int64_t em = db_col_int64(st, 2), ey = db_col_int64(st, 3);
	db_reset(st);
	if (billing_from_params(r, billing, &billing) != 0)
		return -1;
	if (metadata_apply(r, meta, "metadata", &meta) != 0)
		return -1;
	const char *ems = param_str(r, "card.exp_month"), *eys = param_str(r, "card.exp_year");
	if (ems || eys) {
		int64_t m = em, y = ey;
		if ((ems && (parse_i64(ems, &m) != 0 || m < 1 || m > 12)))
			return req_fail(r, ERR_CARD_INVALID_EXPIRY_MONTH, "exp_month", NULL);
		if (eys && (parse_i64(eys, &y) != 0 || y < 2000 || y > 2100))
			return req_fail(r, ERR_CARD_INVALID_EXPIRY_YEAR, "exp_year", NULL);
		em = m;
		ey = y;
	}
	st = db_prepare(db, SQL_PM_UPDATE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, x->id, -1);
	db_bind_text(st, 3, billing, -1);
	db_bind_text(st, 4, meta, -1);
	db_bind_int64(st, 5, em);
	db_bind_int64(st, 6, ey);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (pm_event(r, db, x->id, "payment_method.updated") != 0)
		return -1;
	return retrieve_fn(db, x);
}

static int h_update(struct req *r)
{
	struct id_ctx x = {r, r->args[0]};
	return req_write(r, update_fn, &x);
}

static int set_customer(struct req *r, struct db *db, const char *id, const char *customer)
{
	struct db_stmt *st = db_prepare(db, SQL_PM_CUSTOMER);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	db_bind_text(st, 3, customer, -1);
	return db_step_done(st) == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static int attach_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	struct req *r = x->r;
	struct pm_card pm;
	if (pm_load(db, r->merchant_id, x->id, &pm) != DB_OK)
		return req_fail_missing(r, "payment_method", x->id, "payment_method");
	const char *customer = param_str(r, "customer");
	struct db_stmt *st = db_prepare(db, SQL_CUSTOMER_EXISTS);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, customer, -1);
	int found = db_step(st) == DB_ROW;
	db_reset(st);
	if (!found)
		return req_fail_missing(r, "customer", customer, "customer");
	if (pm.customer[0] && strcmp(pm.customer, customer) != 0)
		return req_fail(r, ERR_PAYMENT_METHOD_UNEXPECTED_STATE, NULL,
		                "The payment method you provided has already been attached to a "
		                "customer.");
	if (set_customer(r, db, x->id, customer) != 0 ||
	    pm_event(r, db, x->id, "payment_method.attached") != 0)
		return -1;
	return retrieve_fn(db, x);
}

static int h_attach(struct req *r)
{
	struct id_ctx x = {r, r->args[0]};
	return req_write(r, attach_fn, &x);
}

static int detach_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	struct req *r = x->r;
	struct pm_card pm;
	if (pm_load(db, r->merchant_id, x->id, &pm) != DB_OK)
		return req_fail_missing(r, "payment_method", x->id, "payment_method");
	if (!pm.customer[0])
		return req_fail(r, ERR_PAYMENT_METHOD_UNEXPECTED_STATE, NULL,
		                "The payment method you provided is not attached to a customer so "
		                "detachment is impossible.");
	if (set_customer(r, db, x->id, NULL) != 0 ||
	    pm_event(r, db, x->id, "payment_method.detached") != 0)
		return -1;
	return retrieve_fn(db, x);
}

static int h_detach(struct req *r)
{
	struct id_ctx x = {r, r->args[0]};
	return req_write(r, detach_fn, &x);
}

static const char SQL_CURSOR[] =
    "SELECT created FROM payment_methods WHERE merchant_id = $1 AND id = $2";
static const char SQL_DESC[] =
    "SELECT id FROM payment_methods WHERE merchant_id = $1 AND created >= $2 AND created <= $3"
    " AND (created < $4 OR (created = $4 AND id < $5)) AND ($7 IS NULL OR customer = $7)"
    " ORDER BY created DESC, id DESC LIMIT $6";
static const char SQL_ASC[] =
    "SELECT id FROM payment_methods WHERE merchant_id = $1 AND created >= $2 AND created <= $3"
    " AND (created > $4 OR (created = $4 AND id > $5)) AND ($7 IS NULL OR customer = $7)"
    " ORDER BY created ASC, id ASC LIMIT $6";

static int list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	const char *c = param_str(r, "customer");
	db_bind_text(st, first, c && *c ? c : NULL, -1);
	return 0;
}

static int list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	return pm_render(db, r->merchant_id, id, j);
}

static int h_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/payment_methods",
	    .object_name = "payment_method",
	    .sql_cursor = SQL_CURSOR,
	    .sql_desc = SQL_DESC,
	    .sql_asc = SQL_ASC,
	    .bind_filters = list_bind,
	    .render = list_render,
	};
	return list_respond(r, &spec);
}

/* ---- tokens ---- */

static const char SQL_TOKEN_PUT[] =
    "INSERT INTO tokens (merchant_id, id, created, card_id, brand, last4, exp_month, exp_year,"
    " funding, country, fingerprint, cvc_provided, client_ip) VALUES ($1, $2, $3, $4, $5, $6,"
    " $7, $8, $9, $10, $11, $12, $13)";
static const char SQL_TOKEN_GET[] =
    "SELECT id, created, card_id, brand, last4, exp_month, exp_year, funding, country,"
    " fingerprint, cvc_provided, client_ip, used FROM tokens WHERE merchant_id = $1 AND id = $2";

/* Stripe's card objects (inside tokens) name brands the old way. */
static const char *card_brand_title(const char *b)
{
	static const char *const map[][2] = {
	    {"visa", "Visa"},          {"mastercard", "MasterCard"}, {"amex", "American Express"},
	    {"discover", "Discover"},  {"diners", "Diners Club"},    {"jcb", "JCB"},
	    {"unionpay", "UnionPay"},
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i][0], b) == 0)
			return map[i][1];
	return "Unknown";
}

static int token_render(struct req *r, struct db *db, const char *id)
{
	struct db_stmt *st = db_prepare(db, SQL_TOKEN_GET);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	if (db_step(st) != DB_ROW) {
		db_reset(st);
		return req_fail_missing(r, "token", id, "token");
	}
	struct json *j = req_json(r);
	json_obj_open(j);
	json_kv_str(j, "id", db_col_text(st, 0, NULL));
	json_kv_str(j, "object", "token");
	json_key(j, "card");
	json_obj_open(j);
	json_kv_str(j, "id", db_col_text(st, 2, NULL));
	json_kv_str(j, "object", "card");
	static const char *const nulls[] = {"address_city",  "address_country", "address_line1",
	                                    "address_line1_check", "address_line2",
	                                    "address_state", "address_zip", "address_zip_check",
	                                    NULL};
	for (const char *const *n = nulls; *n; n++)
		json_kv_null(j, *n);
	json_kv_null(j, "available_payout_methods");
	json_kv_str(j, "brand", card_brand_title(db_col_text(st, 3, NULL)));
	json_kv_str_or_null(j, "country", db_col_text(st, 8, NULL));
	json_kv_null(j, "currency");
	json_kv_null(j, "customer");
	if (db_col_int64(st, 10))
		json_kv_str(j, "cvc_check", "unchecked");
	else
		json_kv_null(j, "cvc_check");
	json_kv_null(j, "default_for_currency");
	json_kv_null(j, "dynamic_last4");
	json_kv_int(j, "exp_month", db_col_int64(st, 5));
	json_kv_int(j, "exp_year", db_col_int64(st, 6));
	json_kv_str(j, "fingerprint", db_col_text(st, 9, NULL));
	json_kv_str(j, "funding", db_col_text(st, 7, NULL));
	json_kv_str(j, "last4", db_col_text(st, 4, NULL));
	json_kv_raw(j, "metadata", "{}", 2);
	json_kv_null(j, "name");
	json_kv_null(j, "status");
	json_kv_null(j, "tokenization_method");
	json_kv_null(j, "wallet");
	json_obj_close(j);
	json_kv_str_or_null(j, "client_ip", db_col_text(st, 11, NULL));
	json_kv_int(j, "created", db_col_int64(st, 1));
	json_kv_bool(j, "livemode", false);
	json_kv_str(j, "type", "card");
	json_kv_bool(j, "used", db_col_int64(st, 12) != 0);
	json_obj_close(j);
	db_reset(st);
	return 0;
}

struct token_ctx {
	struct req *r;
	struct vault_card_info info;
	char id[ID_MAX], card_id[ID_MAX];
};

static int token_fn(struct db *db, void *p)
{
	struct token_ctx *t = p;
	struct req *r = t->r;
	char fp[24];
	if (vault_card_store(r->app->vault, db, r->merchant_id, t->card_id,
	                     param_str(r, "card.number"), &t->info, r->now, fp) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	struct db_stmt *st = db_prepare(db, SQL_TOKEN_PUT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, t->id, -1);
	db_bind_int64(st, 3, r->now);
	db_bind_text(st, 4, t->card_id, -1);
	db_bind_text(st, 5, t->info.brand, -1);
	db_bind_text(st, 6, t->info.last4, -1);
	db_bind_int64(st, 7, t->info.exp_month);
	db_bind_int64(st, 8, t->info.exp_year);
	db_bind_text(st, 9, t->info.funding, -1);
	db_bind_text(st, 10, t->info.country, -1);
	db_bind_text(st, 11, fp, -1);
	db_bind_int64(st, 12, t->info.cvc_provided);
	db_bind_text(st, 13, r->client_ip[0] ? r->client_ip : NULL, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return token_render(r, db, t->id);
}

static int h_token_create(struct req *r)
{
	struct token_ctx t;
	memset(&t, 0, sizeof(t));
	t.r = r;
	if (card_from_params(r, &t.info) != 0)
		return -1;
	id_new(t.id, "tok_");
	id_new(t.card_id, "card_");
	return req_write(r, token_fn, &t);
}

static int token_retrieve_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	return token_render(x->r, db, x->id);
}

static int h_token_retrieve(struct req *r)
{
	struct id_ctx x = {r, r->args[0]};
	return req_read(r, token_retrieve_fn, &x) == 0 ? 0 : -1;
}

const struct route payment_methods_routes[] = {
    {"POST", "/v1/payment_methods", h_create, create_params, ROUTE_PUBLISHABLE},
    {"GET", "/v1/payment_methods", h_list, list_params, ROUTE_LIST},
    {"GET", "/v1/payment_methods/{id}", h_retrieve, no_params, 0},
    {"POST", "/v1/payment_methods/{id}", h_update, update_params, 0},
    {"POST", "/v1/payment_methods/{id}/attach", h_attach, attach_params, 0},
    {"POST", "/v1/payment_methods/{id}/detach", h_detach, no_params, 0},
    {"POST", "/v1/tokens", h_token_create, token_params, ROUTE_PUBLISHABLE},
    {"GET", "/v1/tokens/{id}", h_token_retrieve, no_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};

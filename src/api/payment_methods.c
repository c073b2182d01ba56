/*
 * /v1/payment_methods (type=card): create (publishable keys may), retrieve, update, list
 * (customer, type), attach, detach. The card number goes straight from the request to the vault;
 * only its public facts come back. card[token] (a tok_… or a test alias) and the pm_card_*
 * aliases Stripe accepts in test mode become stored PaymentMethods like any card. The /v1/tokens
 * handlers live in tokens.c and are routed from this file's table.
 */
#include <stdio.h>
#include <string.h>

#include "api/common.h"
#include "api/list.h"
#include "api/resources.h"
#include "api/tokens.h"
#include "app.h"
#include "core/str.h"
#include "events/events.h"
#include "http/form.h"
#include "vault/payment_method.h"
#include "vault/vault.h"

static const char *const pm_types[] = {"card", NULL};

static const struct param_spec card_children[] = {
    {"number", PT_STRING, 0, 64, NULL, NULL},  {"exp_month", PT_STRING, 0, 4, NULL, NULL},
    {"exp_year", PT_STRING, 0, 4, NULL, NULL}, {"cvc", PT_STRING, 0, 8, NULL, NULL},
    {"token", PT_STRING, 0, 255, NULL, NULL},  {NULL, 0, 0, 0, NULL, NULL},
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
	json_kv_null(&j, "tax_id");
	json_obj_close(&j);
	*ret = b.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&b));
	buf_release(&b);
	return 0;
}

struct create_ctx {
	struct req *r;
	struct vault_card_info info;
	struct vault_sealed_card sealed;
	const char *number; /* card[number], for the write when the card was not presealed */
	const char *token;  /* card[token]: tok_… or a test alias, instead of a number */
	char pm_id[ID_MAX];
	char card_id[ID_MAX];
	const char *billing;
	const char *metadata;
};

static int create_fn(struct db *db, void *p)
{
	struct create_ctx *c = p;
	struct req *r = c->r;
	if (c->token) {
		int rc = pm_create_from_ref(db, r->app->vault, r->merchant_id, c->token, c->pm_id,
					    c->billing, c->metadata, r->now);
		if (rc == DB_NOTFOUND)
			return req_fail_missing(r, "token", c->token, "card[token]");
		if (rc == VAULT_ERR_TOKEN_USED)
			return req_fail(r, ERR_TOKEN_USED, "card[token]", "%s", c->token);
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
	} else {
		char fp[24];
		int rc = vault_card_store(r->app->vault, db, r->merchant_id, c->card_id, c->number,
					  &c->sealed, &c->info, r->now, fp);
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (pm_insert(db, r->merchant_id, c->pm_id, c->card_id, &c->info, fp, c->billing,
			      c->metadata, NULL, r->now) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		pm_render_new(req_json(r), c->pm_id, &c->info, fp, c->billing, c->metadata, NULL,
			      r->now);
		return 0;
	}
	return pm_render(db, r->merchant_id, c->pm_id, req_json(r)) == DB_OK
		   ? 0
		   : req_fail(r, ERR_API, NULL, NULL);
}

/* Validates a create's card, billing details and metadata (at the paths of r->params) and seals
 * the card, before the write. 0, or -1 with r->err. */
static int create_prepare(struct req *r, struct create_ctx *c)
{
	memset(c, 0, sizeof(*c));
	c->r = r;
	if (!param_present(r, "card"))
		return req_fail(r, ERR_PARAM_MISSING, "card", "%s", "card");
	const char *token = param_str(r, "card.token");
	if (token && *token) {
		if (param_present(r, "card.number") || param_present(r, "card.exp_month") ||
		    param_present(r, "card.exp_year") || param_present(r, "card.cvc"))
			return req_fail(
			    r, ERR_PARAM_BAD, "card[token]",
			    "You cannot provide card details together with card[token].");
		if (!vault_is_test_alias(token) && strncmp(token, "tok_", 4) != 0)
			return req_fail_missing(r, "token", token, "card[token]");
		c->token = token;
	} else if (tokens_card_params(r, &c->info) != 0) {
		return -1;
	}
	if (billing_from_params(r, NULL, &c->billing) != 0)
		return -1;
	c->metadata = "{}";
	if (metadata_apply(r, NULL, "metadata", &c->metadata) != 0)
		return -1;
	id_new_at(c->pm_id, "pm_", r->now);
	id_new(c->card_id, "card_");
	if (!c->token)
		c->number = tokens_card_preseal(r, c->card_id, &c->sealed);
	return 0;
}

static int h_create(struct req *r)
{
	if (param_present(r, "payment_method"))
		return req_fail(r, ERR_PARAM_BAD, "payment_method",
				"Cloning PaymentMethods requires Connect, which Tender does not "
				"offer.");
	/* Stripe takes customer here only to clone (with payment_method); attaching goes through
	 * /attach, which checks the customer. Accepting it would let a publishable key attach a
	 * card to any customer id. */
	if (param_present(r, "customer"))
		return req_fail(
		    r, ERR_PARAM_BAD, "customer",
		    "customer can only be set together with payment_method (cloning, "
		    "which requires Connect). Use POST /v1/payment_methods/{id}/attach.");
	struct create_ctx c;
	if (create_prepare(r, &c) != 0)
		return -1;
	return req_write(r, create_fn, &c);
}

const struct param_spec pm_data_params[] = {
    {"type", PT_ENUM, PF_REQUIRED, 0, pm_types, NULL},
    {"card", PT_OBJECT, 0, 0, NULL, card_children},
    {"billing_details", PT_OBJECT, 0, 0, NULL, billing_children},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

/* "card[token]" under "payment_method_data" → "payment_method_data[card][token]" */
static void err_param_under(struct req *r, const char *parent)
{
	if (!r->err.set || !r->err.param[0] ||
	    strcmp(api_error_info(r->err.code)->type, "invalid_request_error") != 0)
		return; /* card errors name the card's field itself, as on /v1/payment_methods */
	char old[sizeof(r->err.param)];
	str_copy(old, sizeof(old), r->err.param);
	size_t head = strcspn(old, "[");
	snprintf(r->err.param, sizeof(r->err.param), "%s[%.*s]%s", parent, (int)head, old,
		 old + head);
	/* "Missing required param: card." names the parameter in the message too */
	if (strcmp(r->err.detail, old) == 0)
		str_copy(r->err.detail, sizeof(r->err.detail), r->err.param);
}

struct data_ctx {
	struct create_ctx c;
	int rc;
};

static int data_fn(struct db *db, void *p)
{
	struct data_ctx *d = p;
	d->rc = create_fn(db, &d->c);
	return d->rc;
}

int pm_create_from_data(struct req *r, const char *param, char ret_id[ID_MAX])
{
	const struct form_node *node = param_node(r, param);
	if (!node)
		return req_fail(r, ERR_PARAM_MISSING, param, "%s", param);
	/* the PaymentMethod create's own reading of card, billing_details and metadata, at the
	 * object's paths: r->params points at the object meanwhile */
	const struct form_node *saved = r->params;
	r->params = node;
	struct data_ctx d;
	int rc = create_prepare(r, &d.c);
	r->params = saved;
	if (rc != 0) {
		err_param_under(r, param);
		return -1;
	}
	/* A write of its own, not req_write: the request's idempotent answer is the payment's,
	 * saved with the payment's write (as for a token that becomes a PaymentMethod,
	 * payments_card_authorize). */
	d.rc = 0;
	int wrc = store_write(r->app->store, r->merchant_id, data_fn, &d);
	buf_reset(&r->out); /* create_fn rendered the PaymentMethod: not this request's answer */
	if (d.rc != 0) {
		err_param_under(r, param);
		return -1;
	}
	if (wrc != 0)
		return req_fail(r, wrc == STORE_OVERLOADED ? ERR_OVERLOADED : ERR_API, NULL, NULL);
	str_copy(ret_id, ID_MAX, d.c.pm_id);
	return 0;
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

/* A test alias (pm_card_visa …) stands for a new PaymentMethod each time it is used, as in
 * Stripe's test mode: store one (inside the caller's transaction) and continue with its id. */
static int alias_materialize(struct req *r, struct db *db, struct id_ctx *x)
{
	char *id = arena_zalloc(&r->arena, ID_MAX);
	if (!id)
		return req_fail(r, ERR_API, NULL, NULL);
	id_new_at(id, "pm_", r->now);
	if (pm_create_from_ref(db, r->app->vault, r->merchant_id, x->id, id, NULL, NULL, r->now) !=
	    DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	x->id = id;
	return 0;
}

static int retrieve_alias_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	if (alias_materialize(x->r, db, x) != 0)
		return -1;
	return retrieve_fn(db, x);
}

static int h_retrieve(struct req *r)
{
	struct id_ctx x = {r, r->args[0]};
	if (vault_is_test_alias(x.id))
		return req_write(r, retrieve_alias_fn, &x);
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
		rc = event_append(db, r->merchant_id, &o, type, id, b.data, b.len, NULL, r->now,
				  NULL);
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
	if ((ems && *ems) || (eys && *eys)) {
		/* the new expiry (a side not given keeps its stored value) must not be past */
		char mbuf[24], ybuf[24];
		snprintf(mbuf, sizeof(mbuf), "%lld", (long long)em);
		snprintf(ybuf, sizeof(ybuf), "%lld", (long long)ey);
		int m = 0, y = 0;
		int e = vault_card_validate_expiry(ems && *ems ? ems : mbuf,
						   eys && *eys ? eys : ybuf, r->now, &m, &y);
		if (e != 0)
			return req_fail(r, vault_card_err_api(e), vault_card_err_param(e), NULL);
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

int pm_attach_resolve(struct req *r, struct db *db, const char *pm_ref, const char *param,
		      const char **ret_id, char ret_customer[ID_MAX])
{
	struct id_ctx x = {r, pm_ref};
	if (vault_is_test_alias(x.id) && alias_materialize(r, db, &x) != 0)
		return -1;
	struct pm_card pm;
	if (pm_load(db, r->merchant_id, x.id, &pm) != DB_OK)
		return req_fail_missing(r, "payment_method", x.id, param);
	*ret_id = x.id;
	str_copy(ret_customer, ID_MAX, pm.customer);
	return 0;
}

int pm_attach_finish(struct req *r, struct db *db, const char *id, const char *owner,
		     const char *customer)
{
	if (owner[0] && strcmp(owner, customer) != 0)
		return req_fail(r, ERR_PAYMENT_METHOD_UNEXPECTED_STATE, NULL,
				"The payment method you provided has already been attached to a "
				"customer.");
	if (set_customer(r, db, id, customer) != 0 ||
	    pm_event(r, db, id, "payment_method.attached") != 0)
		return -1;
	return 0;
}

int customer_check(struct req *r, struct db *db, const char *customer)
{
	struct db_stmt *st = db_prepare(db, SQL_CUSTOMER_EXISTS);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, customer, -1);
	int found = db_step(st) == DB_ROW;
	db_reset(st);
	return found ? 0 : req_fail_missing(r, "customer", customer, "customer");
}

static int attach_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	struct req *r = x->r;
	char owner[ID_MAX];
	if (pm_attach_resolve(r, db, x->id, "payment_method", &x->id, owner) != 0)
		return -1;
	const char *customer = param_str(r, "customer");
	if (customer_check(r, db, customer) != 0)
		return -1;
	if (pm_attach_finish(r, db, x->id, owner, customer) != 0)
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
	    pm_event(r, db, x->id, "payment_method.detached") != 0 ||
	    customer_unset_default_pm(r, db, pm.customer, x->id) != 0)
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
    "SELECT id FROM payment_methods WHERE merchant_id = $1 AND id > $2 AND id < $3"
    " AND ($5 IS NULL OR customer = $5) ORDER BY id DESC LIMIT $4";
static const char SQL_ASC[] =
    "SELECT id FROM payment_methods WHERE merchant_id = $1 AND id > $2 AND id < $3"
    " AND ($5 IS NULL OR customer = $5) ORDER BY id ASC LIMIT $4";

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

/* PaymentMethods newest first, filtered by bind (the customer param, or the path's customer). */
static int list_pms(struct req *r, const char *url,
		    int (*bind)(struct req *, struct db_stmt *, int, void *))
{
	const struct list_spec spec = {
	    .url = url,
	    .object_name = "payment_method",
	    .id_prefix = "pm_",
	    .sql_cursor = SQL_CURSOR,
	    .sql_desc = SQL_DESC,
	    .sql_asc = SQL_ASC,
	    .bind_filters = bind,
	    .render = list_render,
	};
	return list_respond(r, &spec);
}

static int h_list(struct req *r)
{
	return list_pms(r, "/v1/payment_methods", list_bind);
}

/* ---- a customer's PaymentMethods: /v1/customers/{customer}/payment_methods[/{id}] ---- */

static const struct param_spec customer_list_params[] = {
    {"type", PT_ENUM, 0, 0, pm_types, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

/* The customer in the path exists for r's merchant. */
static int customer_exists_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	return customer_check(x->r, db, x->id);
}

static int customer_list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	db_bind_text(st, first, r->args[0], -1);
	return 0;
}

static int h_customer_list(struct req *r)
{
	struct id_ctx x = {r, r->args[0]};
	if (req_read(r, customer_exists_fn, &x) != 0)
		return -1;
	const char *url = arena_printf(&r->arena, "/v1/customers/%s/payment_methods", r->args[0]);
	if (!url)
		return req_fail(r, ERR_API, NULL, NULL);
	return list_pms(r, url, customer_list_bind);
}

/* A PaymentMethod of the customer's: one attached to another customer, or to none, is missing
 * here, as on Stripe. */
static int customer_retrieve_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	struct req *r = x->r;
	if (customer_exists_fn(db, p) != 0)
		return -1;
	const char *id = r->args[1];
	struct pm_card pm;
	if (pm_load(db, r->merchant_id, id, &pm) != DB_OK || strcmp(pm.customer, x->id) != 0)
		return req_fail_missing(r, "PaymentMethod", id, "payment_method");
	struct id_ctx y = {r, id};
	return retrieve_fn(db, &y);
}

static int h_customer_retrieve(struct req *r)
{
	struct id_ctx x = {r, r->args[0]};
	return req_read(r, customer_retrieve_fn, &x) == 0 ? 0 : -1;
}

const struct route payment_methods_routes[] = {
    {"POST", "/v1/payment_methods", h_create, create_params, ROUTE_PUBLISHABLE},
    {"GET", "/v1/payment_methods", h_list, list_params, ROUTE_LIST},
    {"GET", "/v1/payment_methods/{id}", h_retrieve, no_params, 0},
    {"POST", "/v1/payment_methods/{id}", h_update, update_params, 0},
    {"POST", "/v1/payment_methods/{id}/attach", h_attach, attach_params, 0},
    {"POST", "/v1/payment_methods/{id}/detach", h_detach, no_params, 0},
    {"POST", "/v1/tokens", tokens_h_create, tokens_create_params, ROUTE_PUBLISHABLE},
    {"GET", "/v1/tokens/{id}", tokens_h_retrieve, no_params, 0},
    {"GET", "/v1/customers/{customer}/payment_methods", h_customer_list, customer_list_params,
     ROUTE_LIST},
    {"GET", "/v1/customers/{customer}/payment_methods/{id}", h_customer_retrieve, no_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};

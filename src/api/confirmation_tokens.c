/*
 * ConfirmationTokens (ctoken_…): Stripe's deferred-intent flow. A client collects the payment
 * details (Stripe.js's createConfirmationToken, or here the test helper
 * POST /v1/test_helpers/confirmation_tokens, as Stripe offers it server side), and the server
 * then creates or confirms a PaymentIntent or SetupIntent with confirmation_token=ctoken_…
 * (payment_intents.c, setup_intents.c). GET /v1/confirmation_tokens/{id} reads one back.
 * Stripe's POST /v1/confirmation_tokens is Stripe.js's own endpoint and not in its public API,
 * so Tender does not offer it.
 *
 * What a token pays with (pm_ref) is one of:
 *   - an existing PaymentMethod (payment_method=pm_…), which the intent then names;
 *   - a test alias (payment_method=pm_card_visa, or payment_method_data[card][token]=tok_visa),
 *     stored as a new PaymentMethod by the payment's own write, as a confirm with the alias
 *     would;
 *   - a single-use card token (tok_…): the merchant's own (payment_method_data[card][token]),
 *     or one made here for payment_method_data[card][number…], its number sealed in the vault
 *     in the token's write. The row keeps only that reference: the number never reaches this
 *     table, and the token id is never shown. The payment's write uses the token up and stores
 *     its PaymentMethod with the ConfirmationToken's billing_details (payments_card_commit).
 * So the confirmation goes through the ordinary card path (payments_card_authorize / _verify,
 * payments_card_commit) with pm_ref in place of a payment_method parameter; a confirmation
 * without a confirmation_token does no work of this file's.
 *
 * A token is used once: the intent's write marks it (payment_intent or setup_intent) with a
 * conditional update, before it stores the card, so two racing confirmations make one payment
 * and the other is refused. It expires 12 hours after it is made (expires_at), as Stripe's do.
 * payment_method_preview is rendered once when the token is made: the PaymentMethod's public
 * shape (brand, last4, expiry, fingerprint …) without its id. Stripe sends no events for
 * ConfirmationTokens; using one shows in the intent's own events.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/common.h"
#include "api/payments_common.h"
#include "api/resources.h"
#include "api/tokens.h"
#include "app.h"
#include "core/str.h"
#include "http/form.h"
#include "store/store.h"
#include "vault/card_source.h"
#include "vault/payment_method.h"
#include "vault/vault.h"

#define CTOKEN_TTL_S (12 * 3600)

static const char *const sfu_values[] = {"off_session", "on_session", NULL};

static const struct param_spec create_params[] = {
    {"payment_method", PT_STRING, 0, 255, NULL, NULL},
    {"payment_method_data", PT_OBJECT, 0, 0, NULL, pm_data_params},
    {"return_url", PT_STRING, 0, 2048, NULL, NULL},
    {"setup_future_usage", PT_ENUM, 0, 0, sfu_values, NULL},
    {"shipping", PT_OBJECT, 0, 0, NULL, shipping_params},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

static const char SQL_INSERT[] =
    "INSERT INTO confirmation_tokens (merchant_id, id, created, expires_at, pm_ref, preview,"
    " billing_details, pm_metadata, return_url, setup_future_usage, shipping)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
static const char SQL_GET[] =
    "SELECT id, created, expires_at, pm_ref, preview, billing_details, pm_metadata, return_url,"
    " setup_future_usage, shipping, payment_intent, setup_intent FROM confirmation_tokens"
    " WHERE merchant_id = $1 AND id = $2";
/* single use: the first intent to use it while it is valid takes it */
static const char SQL_USE[] =
    "UPDATE confirmation_tokens SET payment_intent = $3, setup_intent = $4"
    " WHERE merchant_id = $1 AND id = $2 AND payment_intent IS NULL AND setup_intent IS NULL"
    " AND expires_at > $5";
struct ctoken {
	const char *id, *pm_ref, *preview, *billing_details, *pm_metadata, *return_url;
	const char *setup_future_usage, *shipping, *payment_intent, *setup_intent;
	int64_t created, expires_at;
};

static int ctoken_load(struct req *r, struct db *db, const char *id, struct ctoken *ret)
{
	struct db_stmt *st;
	int rc = db_row_by_id(db, SQL_GET, r->merchant_id, id, &st);
	if (rc != DB_OK)
		return rc;
	struct arena *a = &r->arena;
	struct ctoken t = {
	    .id = col_text_dup(a, st, 0),
	    .created = db_col_int64(st, 1),
	    .expires_at = db_col_int64(st, 2),
	    .pm_ref = col_text_dup(a, st, 3),
	    .preview = col_text_dup(a, st, 4),
	    .billing_details = col_text_dup(a, st, 5),
	    .pm_metadata = col_text_dup(a, st, 6),
	    .return_url = col_text_dup(a, st, 7),
	    .setup_future_usage = col_text_dup(a, st, 8),
	    .shipping = col_text_dup(a, st, 9),
	    .payment_intent = col_text_dup(a, st, 10),
	    .setup_intent = col_text_dup(a, st, 11),
	};
	db_reset(st);
	if (!t.id || !t.pm_ref || !t.preview)
		return DB_ERR;
	*ret = t;
	return DB_OK;
}

static void ctoken_render(struct req *r, const struct ctoken *t)
{
	struct json *j = req_json(r);
	json_obj_open(j);
	json_kv_str(j, "id", t->id);
	json_kv_str(j, "object", "confirmation_token");
	json_kv_int(j, "created", t->created);
	json_kv_int(j, "expires_at", t->expires_at);
	json_kv_bool(j, "livemode", r->livemode);
	json_kv_null(j, "mandate_data");
	json_kv_str_or_null(j, "payment_intent", t->payment_intent);
	json_kv_null(j, "payment_method_options");
	json_kv_raw(j, "payment_method_preview", t->preview, strlen(t->preview));
	json_kv_str_or_null(j, "return_url", t->return_url);
	json_kv_str_or_null(j, "setup_future_usage", t->setup_future_usage);
	json_kv_str_or_null(j, "setup_intent", t->setup_intent);
	json_kv_raw_or_null(j, "shipping", t->shipping);
	json_kv_bool(j, "use_stripe_sdk", true);
	json_obj_close(j);
}

/* ---- create (test helper) ---- */

enum ctoken_kind {
	CT_PM,	   /* an existing PaymentMethod */
	CT_ALIAS,  /* a test alias */
	CT_TOKEN,  /* the merchant's own single-use token */
	CT_NUMBER, /* card data: sealed now under a token of its own */
};

struct create_ctx {
	struct req *r;
	enum ctoken_kind kind;
	const char *ref; /* CT_PM, CT_ALIAS, CT_TOKEN: as given */
	struct ctoken t;
	/* CT_NUMBER */
	struct vault_card_info info;
	struct vault_sealed_card sealed;
	const char *number;
	char tok_id[ID_MAX], card_id[ID_MAX];
};

const char *confirmation_token_preview(struct arena *a, const char *pm_json)
{
	json_error_t e;
	json_t *o = json_loads(pm_json, 0, &e);
	if (!o || !json_is_object(o)) {
		json_decref(o);
		return NULL;
	}
	static const char *const drop[] = {"id", "object", "created", "livemode", "metadata", NULL};
	for (const char *const *k = drop; *k; k++)
		json_object_del(o, *k);
	if (!json_object_get(o, "allow_redisplay"))
		json_object_set_new(o, "allow_redisplay", json_string("unspecified"));
	if (!json_object_get(o, "customer_account"))
		json_object_set_new(o, "customer_account", json_null());
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	const char *out = s ? arena_strdup(a, s) : NULL;
	free(s);
	return out;
}

/* The preview of a card not stored as a PaymentMethod yet. */
static const char *preview_from_info(struct req *r, const struct vault_card_info *info,
				     const char *fp, const char *billing)
{
	struct buf b;
	struct json j;
	buf_init(&b, 64 * 1024);
	json_init(&j, &b);
	pm_render_new(&j, "pm_preview", info, fp, billing, NULL, NULL, r->now);
	const char *out = b.failed ? NULL : confirmation_token_preview(&r->arena, buf_cstr(&b));
	buf_release(&b);
	return out;
}

/* The PaymentMethod a token names: loaded and rendered in the token's write. */
static const char *preview_of_pm(struct req *r, struct db *db, const char *id)
{
	struct pm_card pm;
	int rc = pm_load(db, r->merchant_id, id, &pm);
	if (rc == DB_OK && card_source_id(id) && !pm.customer[0])
		rc = DB_NOTFOUND; /* a deleted card source */
	if (rc == DB_NOTFOUND) {
		req_fail(r, ERR_RESOURCE_MISSING, "payment_method", "No such PaymentMethod: '%s'",
			 id);
		return NULL;
	}
	if (rc != DB_OK) {
		req_fail(r, ERR_API, NULL, NULL);
		return NULL;
	}
	if (pm.detached) {
		req_fail(r, ERR_PARAM_BAD, "payment_method", "%s", PM_DETACHED_MESSAGE);
		return NULL;
	}
	struct buf b;
	struct json j;
	buf_init(&b, 64 * 1024);
	json_init(&j, &b);
	rc = pm_render(db, r->merchant_id, id, &j);
	const char *out =
	    rc == DB_OK && !b.failed ? confirmation_token_preview(&r->arena, buf_cstr(&b)) : NULL;
	buf_release(&b);
	if (!out)
		req_fail(r, ERR_API, NULL, NULL);
	return out;
}

static int create_fn(struct db *db, void *p)
{
	struct create_ctx *c = p;
	struct req *r = c->r;
	struct ctoken *t = &c->t;
	struct vault_card_info info;
	char fp[24];
	t->preview = NULL;
	switch (c->kind) {
	case CT_PM:
		t->preview = preview_of_pm(r, db, c->ref);
		if (!t->preview)
			return -1;
		break;
	case CT_ALIAS:
		if (vault_alias_info(r->app->vault, r->merchant_id, c->ref, r->now, &info, fp) != 0)
			return req_fail(r, ERR_RESOURCE_MISSING, "payment_method",
					"No such PaymentMethod: '%s'", c->ref);
		t->preview = preview_from_info(r, &info, fp, t->billing_details);
		break;
	case CT_TOKEN: {
		struct pm_card pm;
		int rc = pm_token_peek(db, r->merchant_id, c->ref, &pm);
		if (rc == DB_NOTFOUND)
			return req_fail_missing(r, "token", c->ref,
						"payment_method_data[card][token]");
		if (rc == VAULT_ERR_TOKEN_USED)
			return req_fail(r, ERR_TOKEN_USED, "payment_method_data[card][token]", "%s",
					c->ref);
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		memset(&info, 0, sizeof(info));
		str_copy(info.brand, sizeof(info.brand), pm.brand);
		str_copy(info.last4, sizeof(info.last4), pm.last4);
		str_copy(info.funding, sizeof(info.funding), pm.funding);
		str_copy(info.country, sizeof(info.country), pm.country);
		str_copy(info.iin, sizeof(info.iin), pm.bin);
		info.exp_month = pm.exp_month;
		info.exp_year = pm.exp_year;
		info.cvc_provided = pm.cvc_provided;
		t->preview = preview_from_info(r, &info, pm.fingerprint, t->billing_details);
		break;
	}
	case CT_NUMBER:
		if (vault_card_store(r->app->vault, db, r->merchant_id, c->card_id, c->number,
				     &c->sealed, &c->info, r->now, fp) != DB_OK ||
		    tokens_row_insert(r, db, c->tok_id, c->card_id, &c->info, fp) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		t->preview = preview_from_info(r, &c->info, fp, t->billing_details);
		break;
	}
	if (!t->preview)
		return req_fail(r, ERR_API, NULL, NULL);
	struct db_stmt *st = db_prepare(db, SQL_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, t->id, -1);
	db_bind_int64(st, 3, t->created);
	db_bind_int64(st, 4, t->expires_at);
	db_bind_text(st, 5, t->pm_ref, -1);
	db_bind_text(st, 6, t->preview, -1);
	db_bind_text(st, 7, t->billing_details, -1);
	db_bind_text(st, 8, t->pm_metadata, -1);
	db_bind_text(st, 9, t->return_url, -1);
	db_bind_text(st, 10, t->setup_future_usage, -1);
	db_bind_text(st, 11, t->shipping, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	ctoken_render(r, t);
	return 0;
}

/* billing_details JSON (the PaymentMethod's shape) from payment_method_data[billing_details],
 * NULL when not given. 0, or -1 with r->err. */
static int billing_from_params(struct req *r, const char **ret)
{
	*ret = NULL;
	if (!param_present(r, "payment_method_data.billing_details"))
		return 0;
	const char *addr = NULL;
	if (address_from_params(r, "payment_method_data.billing_details.address", &addr) != 0)
		return -1;
	static const char empty_addr[] = "{\"city\":null,\"country\":null,\"line1\":null,"
					 "\"line2\":null,\"postal_code\":null,\"state\":null}";
	struct buf b;
	struct json j;
	buf_init(&b, 64 * 1024);
	json_init(&j, &b);
	json_obj_open(&j);
	json_kv_raw(&j, "address", addr ? addr : empty_addr, strlen(addr ? addr : empty_addr));
	static const char *const fields[] = {"email", "name", "phone", NULL};
	for (const char *const *f = fields; *f; f++) {
		char path[64];
		snprintf(path, sizeof(path), "payment_method_data.billing_details.%s", *f);
		const char *v = param_str(r, path);
		json_kv_str_or_null(&j, *f, v && *v ? v : NULL);
	}
	json_kv_null(&j, "tax_id");
	json_obj_close(&j);
	*ret = b.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&b));
	buf_release(&b);
	return *ret ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* An error about card[…] read under payment_method_data names its full path, as Stripe does
 * (card errors name the card's own field). */
static void err_under_pmd(struct req *r)
{
	if (!r->err.set || !r->err.param[0] ||
	    strcmp(api_error_info(r->err.code)->type, "invalid_request_error") != 0)
		return;
	char old[sizeof(r->err.param)];
	str_copy(old, sizeof(old), r->err.param);
	size_t head = strcspn(old, "[");
	snprintf(r->err.param, sizeof(r->err.param), "payment_method_data[%.*s]%s", (int)head, old,
		 old + head);
	if (strcmp(r->err.detail, old) == 0)
		str_copy(r->err.detail, sizeof(r->err.detail), r->err.param);
}

/* payment_method_data[card]: a token or alias (card[token]) or card data, read at the object's
 * paths (r->params points at it meanwhile, as the PaymentMethod create reads it). */
static int card_from_data(struct req *r, struct create_ctx *c)
{
	const struct form_node *node = param_node(r, "payment_method_data");
	const struct form_node *saved = r->params;
	r->params = node;
	int rc = 0;
	const char *token = param_str(r, "card.token");
	if (!param_present(r, "card")) {
		rc = req_fail(r, ERR_PARAM_MISSING, "card", "%s", "card");
	} else if (token && *token) {
		if (param_present(r, "card.number") || param_present(r, "card.exp_month") ||
		    param_present(r, "card.exp_year") || param_present(r, "card.cvc"))
			rc = req_fail(r, ERR_PARAM_BAD, "card[token]",
				      "You cannot provide card details together with card[token].");
		else if (vault_is_test_alias(token))
			c->kind = CT_ALIAS;
		else if (strncmp(token, "tok_", 4) == 0)
			c->kind = CT_TOKEN;
		else
			rc = req_fail_missing(r, "token", token, "card[token]");
		c->ref = token;
	} else if (tokens_card_params(r, &c->info) == 0) {
		c->kind = CT_NUMBER;
		id_new_at(c->tok_id, "tok_", r->now);
		id_new(c->card_id, "card_");
		c->number = tokens_card_preseal(r, c->card_id, &c->sealed);
		c->ref = c->tok_id;
	} else {
		rc = -1;
	}
	r->params = saved;
	if (rc != 0)
		err_under_pmd(r);
	return rc;
}

static int h_create(struct req *r)
{
	struct create_ctx c;
	memset(&c, 0, sizeof(c));
	c.r = r;
	struct ctoken *t = &c.t;
	const char *pm = param_str(r, "payment_method");
	bool pmd = param_present(r, "payment_method_data");
	if (pm && *pm && pmd)
		return req_fail(r, ERR_PARAM_BAD, "payment_method_data",
				"You may only specify one of these parameters: payment_method, "
				"payment_method_data.");
	if ((!pm || !*pm) && !pmd)
		return req_fail(r, ERR_PARAM_MISSING, "payment_method_data", "payment_method_data");
	if (pmd) {
		if (card_from_data(r, &c) != 0 || billing_from_params(r, &t->billing_details) != 0)
			return -1;
		if (param_present(r, "payment_method_data.metadata") &&
		    metadata_apply(r, NULL, "payment_method_data.metadata", &t->pm_metadata) != 0)
			return -1;
	} else if (vault_is_test_alias(pm)) {
		c.kind = CT_ALIAS;
		c.ref = pm;
	} else if (strncmp(pm, "pm_", 3) == 0 || card_source_id(pm)) {
		c.kind = CT_PM;
		c.ref = pm;
	} else {
		return req_fail(r, ERR_RESOURCE_MISSING, "payment_method",
				"No such PaymentMethod: '%s'", pm);
	}
	t->return_url = param_str(r, "return_url");
	if (t->return_url && strncmp(t->return_url, "https://", 8) != 0 &&
	    strncmp(t->return_url, "http://", 7) != 0)
		return req_fail(r, ERR_URL_INVALID, "return_url",
				"Invalid URL: the return_url must be an absolute http(s) URL.");
	t->setup_future_usage = param_str(r, "setup_future_usage");
	if (shipping_from_params(r, "shipping", &t->shipping) != 0)
		return -1;
	char *id = arena_zalloc(&r->arena, ID_MAX);
	if (!id)
		return req_fail(r, ERR_API, NULL, NULL);
	id_new_at(id, "ctoken_", r->now);
	t->id = id;
	t->created = r->now;
	t->expires_at = r->now + CTOKEN_TTL_S;
	t->pm_ref = c.ref;
	return req_write(r, create_fn, &c);
}

/* ---- retrieve ---- */

static int retrieve_fn(struct db *db, void *p)
{
	struct req *r = p;
	struct ctoken t;
	int rc = ctoken_load(r, db, r->args[0], &t);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "confirmation_token", r->args[0], "confirmation_token");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	ctoken_render(r, &t);
	return 0;
}

static int h_retrieve(struct req *r)
{
	return req_read(r, retrieve_fn, r) == 0 ? 0 : -1;
}

/* ---- use by an intent ---- */

struct resolve_ctx {
	struct req *r;
	const char *id;
	struct ctoken t;
};

static int resolve_fn(struct db *db, void *p)
{
	struct resolve_ctx *x = p;
	struct req *r = x->r;
	int rc = ctoken_load(r, db, x->id, &x->t);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "confirmation_token", x->id, "confirmation_token");
	return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

int confirmation_token_resolve(struct req *r, const char *id, struct ctoken_use *ret)
{
	struct resolve_ctx x = {.r = r, .id = id};
	if (strncmp(id, "ctoken_", 7) != 0)
		return req_fail_missing(r, "confirmation_token", id, "confirmation_token");
	if (req_read(r, resolve_fn, &x) != 0)
		return -1;
	const struct ctoken *t = &x.t;
	if (t->payment_intent || t->setup_intent)
		return req_fail(r, ERR_PARAM_BAD, "confirmation_token",
				"This ConfirmationToken (%s) has already been used to confirm %s. "
				"A ConfirmationToken can be used only once: create a new one.",
				t->id, t->payment_intent ? t->payment_intent : t->setup_intent);
	if (t->expires_at <= r->now)
		return req_fail(r, ERR_PARAM_BAD, "confirmation_token",
				"This ConfirmationToken (%s) has expired: create a new one.",
				t->id);
	memset(ret, 0, sizeof(*ret));
	str_copy(ret->id, sizeof(ret->id), t->id);
	ret->pm_ref = t->pm_ref;
	ret->billing_details = t->billing_details;
	ret->pm_metadata = t->pm_metadata;
	ret->return_url = t->return_url;
	ret->setup_future_usage = t->setup_future_usage;
	ret->shipping = t->shipping;
	return 0;
}

void confirmation_token_card(const struct ctoken_use *ct, struct card_auth *ca)
{
	/* an existing PaymentMethod keeps its own billing details; so does a payment method the
	 * request gave itself (confirmation_token_resolve's caller cleared them) */
	if ((!ca->alias && !ca->token) || (!ct->billing_details && !ct->pm_metadata))
		return;
	ca->pm_billing_details = ct->billing_details;
	ca->pm_metadata = ct->pm_metadata;
	ca->card.billing_details = ct->billing_details;
}

int confirmation_token_consume(struct req *r, struct db *db, const struct ctoken_use *ct,
			       const char *payment_intent, const char *setup_intent)
{
	struct db_stmt *st = db_prepare(db, SQL_USE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, ct->id, -1);
	db_bind_text(st, 3, payment_intent, -1);
	db_bind_text(st, 4, setup_intent, -1);
	db_bind_int64(st, 5, r->now);
	int64_t n = 0;
	if (db_step_changes(st, &n) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* another confirmation used it since it was read (or it expired meanwhile) */
	if (n != 1)
		return req_fail(r, ERR_PARAM_BAD, "confirmation_token",
				"This ConfirmationToken (%s) has already been used or has expired. "
				"A ConfirmationToken can be used only once: create a new one.",
				ct->id);
	return 0;
}

const struct route confirmation_tokens_routes[] = {
    {"GET", "/v1/confirmation_tokens/{id}", h_retrieve, no_params, 0},
    {"POST", "/v1/test_helpers/confirmation_tokens", h_create, create_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};

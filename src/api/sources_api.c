/*
 * Stripe's Sources API (src_…): POST /v1/sources for type=card (from token=tok_… or a test
 * alias, or from card[number] … as Stripe.js sends it) and type=three_d_secure (a card
 * source's 3-D Secure authentication through a redirect), GET and POST /v1/sources/{id},
 * /verify (Stripe's refusal: no covered type is verified), /source_transactions (none for a
 * card) and /mandate_notifications (none). Other source types answer Stripe's 400.
 *
 * Storage: a card source's card is a payment_methods row under the source's own src_… id, its
 * number sealed in vault_cards like any other card (vault_card_store / pm_create_from_ref, as
 * tokens and PaymentMethods do), so that it pays through the one payment path
 * (payments_card_authorize loads it like a pm_…); the `sources` row keeps what a source has
 * beyond its card: type, status, usage, flow, owner, the card's 3-D Secure support, a 3-D
 * Secure source's card, amount, currency and redirect. A 3-D Secure source has no card of its
 * own: it pays with its card source's, authenticated.
 *
 * Secrets: a source's client_secret and its redirect page's secret are derived
 * (vault_page_token of the source's id), never stored, and compared in constant time.
 *
 * card.three_d_secure is what Stripe's test cards say: required for the cards that always ask
 * for 3-D Secure (4000000000003063, 4000000000003220, 4000002760003184, …), not_supported for
 * American Express (378282246310005), optional for the others. The vault reveals the card in
 * the create's write to learn it (recorded as any reveal is); nothing else reads the number.
 *
 * Lifecycle: a card source is chargeable from the start (source.chargeable); a 3-D Secure
 * source is pending until the cardholder completes (chargeable, source.chargeable) or fails
 * (failed, source.failed) the test page; a card not_supported makes it failed at once. A
 * single_use source, and a reusable one charged without being attached to a customer, is
 * consumed by its first paid charge. A reusable card source attached to a customer
 * (customers.createSource) pays again and again; detached, it is consumed (customer.source.*).
 */
#include "api/sources_api.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/challenge.h"
#include "api/common.h"
#include "api/list.h"
#include "api/resources.h"
#include "api/sources.h"
#include "api/tokens.h"
#include "app.h"
#include "core/str.h"
#include "events/events.h"
#include "http/form.h"
#include "store/store.h"
#include "vault/card_source.h"
#include "vault/payment_method.h"
#include "vault/vault.h"

/* the vault of this process, which derives client secrets (sources_api_init) */
static struct vault *secret_vault;

void sources_api_init(struct app *app)
{
	secret_vault = app ? app->vault : NULL;
}

bool source_api_id(const char *id)
{
	return id && strncmp(id, SOURCE_API_PREFIX, 4) == 0 && id[4];
}

/* The source's client secret ("src_client_secret_…"), derived. 0, or -1 without a vault. */
static int client_secret(struct vault *v, const char *merchant_id, const char *id, char *out,
			 size_t n)
{
	char tok[VAULT_PAGE_TOKEN_LEN + 1], obj[ID_MAX];
	int k = snprintf(obj, sizeof(obj), "%s#client_secret", id);
	if (!v || k < 0 || (size_t)k >= sizeof(obj) ||
	    vault_page_token(v, merchant_id, obj, tok) != 0)
		return -1;
	snprintf(out, n, "src_client_secret_%s", tok);
	return 0;
}

/* The secret of a 3-D Secure source's redirect page, derived. 0, or -1. */
static int page_secret(struct vault *v, const char *merchant_id, const char *id,
		       char tok[VAULT_PAGE_TOKEN_LEN + 1])
{
	char obj[ID_MAX];
	int k = snprintf(obj, sizeof(obj), "%s#redirect", id);
	if (!v || k < 0 || (size_t)k >= sizeof(obj) ||
	    vault_page_token(v, merchant_id, obj, tok) != 0)
		return -1;
	return 0;
}

/* ---- the row ---- */

struct source_row {
	const char *id, *type, *status, *usage, *flow, *currency, *customer, *card;
	const char *three_d_secure, *cvc_check, *redirect_status, *redirect_failure_reason;
	const char *redirect_return_url, *redirect_base, *owner, *statement_descriptor, *metadata;
	int64_t created, amount;
	bool has_amount;
	/* the card's (a 3-D Secure source's: its card source's) public facts */
	const char *brand, *last4, *funding, *country, *fingerprint;
	int64_t exp_month, exp_year;
};

static const char SQL_GET[] =
    "SELECT s.id, s.created, s.type, s.status, s.usage, s.flow, s.amount, s.currency,"
    " s.customer, s.card, s.three_d_secure, s.cvc_check, s.redirect_status,"
    " s.redirect_failure_reason, s.redirect_return_url, s.redirect_base, s.owner,"
    " s.statement_descriptor, s.metadata, p.brand, p.last4, p.funding, p.country,"
    " p.fingerprint, p.exp_month, p.exp_year FROM sources s JOIN payment_methods p"
    " ON p.merchant_id = s.merchant_id AND p.id = COALESCE(s.card, s.id)"
    " WHERE s.merchant_id = $1 AND s.id = $2";

/* Loads source id into *s (strings in arena a). DB_OK, DB_NOTFOUND, or < 0. */
static int source_load(struct db *db, struct arena *a, const char *merchant_id, const char *id,
		       struct source_row *s)
{
	memset(s, 0, sizeof(*s));
	if (!source_api_id(id))
		return DB_NOTFOUND;
	struct db_stmt *st = db_prepare(db, SQL_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	if (rc != DB_ROW) {
		db_reset(st);
		return rc == DB_DONE ? DB_NOTFOUND : rc;
	}
	const char **str[] = {&s->id,
			      NULL,
			      &s->type,
			      &s->status,
			      &s->usage,
			      &s->flow,
			      NULL,
			      &s->currency,
			      &s->customer,
			      &s->card,
			      &s->three_d_secure,
			      &s->cvc_check,
			      &s->redirect_status,
			      &s->redirect_failure_reason,
			      &s->redirect_return_url,
			      &s->redirect_base,
			      &s->owner,
			      &s->statement_descriptor,
			      &s->metadata,
			      &s->brand,
			      &s->last4,
			      &s->funding,
			      &s->country,
			      &s->fingerprint};
	for (int i = 0; i < (int)(sizeof(str) / sizeof(str[0])); i++)
		if (str[i])
			*str[i] = col_text_dup(a, st, i);
	s->created = db_col_int64(st, 1);
	s->has_amount = !db_col_is_null(st, 6);
	s->amount = db_col_int64(st, 6);
	s->exp_month = db_col_int64(st, 24);
	s->exp_year = db_col_int64(st, 25);
	db_reset(st);
	if (!s->id || !s->type || !s->status || !s->usage || !s->flow || !s->owner ||
	    !s->metadata || !s->three_d_secure || !s->brand || !s->last4 || !s->fingerprint)
		return DB_ERR;
	return DB_OK;
}

/* ---- rendering ---- */

int source_api_render(struct db *db, const char *merchant_id, int livemode, const char *id,
		      struct json *j)
{
	struct arena a;
	arena_init(&a, 256 * 1024);
	struct source_row s;
	int rc = source_load(db, &a, merchant_id, id, &s);
	char secret[VAULT_PAGE_TOKEN_LEN + 32];
	if (rc == DB_OK &&
	    client_secret(secret_vault, merchant_id, s.id, secret, sizeof(secret)) != 0)
		rc = DB_ERR;
	json_t *owner = rc == DB_OK ? json_loads(s.owner, 0, NULL) : NULL;
	if (rc == DB_OK && !owner)
		rc = DB_ERR;
	if (rc != DB_OK) {
		arena_release(&a);
		return rc;
	}
	const char *name = json_string_value(json_object_get(owner, "name"));
	json_t *addr = json_object_get(owner, "address");
	bool line1 = json_string_value(json_object_get(addr, "line1")) != NULL;
	bool zip = json_string_value(json_object_get(addr, "postal_code")) != NULL;
	bool tds = strcmp(s.type, "three_d_secure") == 0;
	json_obj_open(j);
	json_kv_str(j, "id", s.id);
	json_kv_str(j, "object", "source");
	if (s.has_amount)
		json_kv_int(j, "amount", s.amount);
	else
		json_kv_null(j, "amount");
	/* a card's hash, or a 3-D Secure source's (its card's facts, authenticated, the card
	 * source and customer), in Stripe's order; an address given is not checked until a
	 * payment sends it */
	json_key(j, tds ? "three_d_secure" : "card");
	json_obj_open(j);
	json_kv_str_or_null(j, "address_line1_check", line1 ? "unchecked" : NULL);
	json_kv_str_or_null(j, "address_zip_check", zip ? "unchecked" : NULL);
	if (tds)
		json_kv_bool(j, "authenticated",
			     strcmp(s.status, "chargeable") == 0 ||
				 strcmp(s.status, "consumed") == 0);
	json_kv_str(j, "brand", card_brand_title(s.brand));
	if (tds)
		json_kv_str_or_null(j, "card", s.card);
	json_kv_str_or_null(j, "country", s.country && *s.country ? s.country : NULL);
	if (tds)
		json_kv_str_or_null(j, "customer", s.customer);
	json_kv_str_or_null(j, "cvc_check", s.cvc_check);
	json_kv_null(j, "dynamic_last4");
	json_kv_int(j, "exp_month", s.exp_month);
	json_kv_int(j, "exp_year", s.exp_year);
	json_kv_str(j, "fingerprint", s.fingerprint);
	json_kv_str_or_null(j, "funding", s.funding);
	json_kv_str(j, "last4", s.last4);
	json_kv_str_or_null(j, "name", name);
	json_kv_str(j, "three_d_secure", s.three_d_secure);
	json_kv_null(j, "tokenization_method");
	json_obj_close(j);
	json_kv_str(j, "client_secret", secret);
	json_kv_int(j, "created", s.created);
	json_kv_str_or_null(j, "currency", s.currency);
	/* only while attached (Stripe leaves it out otherwise); a 3-D Secure source names its
	 * customer in its own hash */
	if (!tds && s.customer)
		json_kv_str(j, "customer", s.customer);
	json_kv_str(j, "flow", s.flow);
	json_kv_bool(j, "livemode", livemode != 0);
	json_kv_raw(j, "metadata", s.metadata, strlen(s.metadata));
	json_kv_raw(j, "owner", s.owner, strlen(s.owner));
	if (strcmp(s.flow, "redirect") == 0) {
		char tok[VAULT_PAGE_TOKEN_LEN + 1];
		char url[1024];
		/* a Host header too long for the buffer names no page rather than a cut one */
		bool have = s.redirect_base &&
			    page_secret(secret_vault, merchant_id, s.id, tok) == 0 &&
			    (size_t)snprintf(url, sizeof(url), "%s/source-redirect/%s/%s/%s",
					     s.redirect_base, merchant_id, s.id, tok) < sizeof(url);
		json_key(j, "redirect");
		json_obj_open(j);
		json_kv_str_or_null(j, "failure_reason", s.redirect_failure_reason);
		json_kv_str(j, "return_url", s.redirect_return_url ? s.redirect_return_url : "");
		json_kv_str(j, "status", s.redirect_status ? s.redirect_status : "pending");
		json_kv_str(j, "url", have ? url : "");
		json_obj_close(j);
	}
	json_kv_str_or_null(j, "statement_descriptor", s.statement_descriptor);
	json_kv_str(j, "status", s.status);
	json_kv_str(j, "type", s.type);
	json_kv_str(j, "usage", s.usage);
	json_obj_close(j);
	json_decref(owner);
	arena_release(&a);
	return DB_OK;
}

/* The source's JSON (r's arena) as it is now, for an answer and its event. */
static const char *source_json(struct req *r, struct db *db, const char *id, size_t *ret_len)
{
	struct buf b;
	struct json j;
	buf_init(&b, 64 * 1024);
	json_init(&j, &b);
	int rc = source_api_render(db, r->merchant_id, r->livemode, id, &j);
	const char *s = rc == DB_OK && !b.failed ? arena_strndup(&r->arena, b.data, b.len) : NULL;
	*ret_len = b.len;
	buf_release(&b);
	return s;
}

static int source_event(struct req *r, struct db *db, const char *type, const char *id,
			const char *js, size_t len)
{
	struct event_origin o = {r->request_id[0] ? r->request_id : NULL, r->idempotency_key,
				 r->livemode};
	if (event_append(db, r->merchant_id, &o, type, id, js, len, NULL, r->now, NULL) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

/* Answers with the source as it is now; with an event of it first when type is not NULL. */
static int answer(struct req *r, struct db *db, const char *id, const char *event_type)
{
	size_t len = 0;
	const char *js = source_json(r, db, id, &len);
	if (!js)
		return req_fail(r, ERR_API, NULL, NULL);
	if (event_type && source_event(r, db, event_type, id, js, len) != 0)
		return -1;
	req_json(r);
	buf_append(&r->out, js, len);
	return r->out.failed ? req_fail(r, ERR_API, NULL, NULL) : 0;
}

/* ---- create ---- */

static const struct param_spec card_params[] = {
    {"number", PT_STRING, 0, 64, NULL, NULL},
    {"exp_month", PT_STRING, 0, 4, NULL, NULL},
    {"exp_year", PT_STRING, 0, 4, NULL, NULL},
    {"cvc", PT_STRING, 0, 8, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

static const struct param_spec owner_params[] = {
    {"address", PT_OBJECT, 0, 0, NULL, address_params},
    {"email", PT_STRING, PF_EMPTYABLE, 800, NULL, NULL},
    {"name", PT_STRING, PF_EMPTYABLE, 256, NULL, NULL},
    {"phone", PT_STRING, PF_EMPTYABLE, 50, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

static const struct param_spec redirect_params[] = {
    {"return_url", PT_STRING, 0, 2048, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

static const struct param_spec tds_params[] = {
    {"card", PT_STRING, 0, 255, NULL, NULL},
    {"customer", PT_STRING, 0, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

static const char *const usages[] = {"reusable", "single_use", NULL};
static const char *const flows[] = {"code_verification", "none", "receiver", "redirect", NULL};

static const struct param_spec create_params[] = {
    {"type", PT_STRING, 0, 64, NULL, NULL},
    {"token", PT_STRING, 0, 255, NULL, NULL},
    {"card", PT_OBJECT, 0, 0, NULL, card_params},
    {"three_d_secure", PT_OBJECT, 0, 0, NULL, tds_params},
    {"amount", PT_INT, 0, 0, NULL, NULL},
    {"currency", PT_CURRENCY, 0, 0, NULL, NULL},
    {"usage", PT_ENUM, 0, 0, usages, NULL},
    {"flow", PT_ENUM, 0, 0, flows, NULL},
    {"owner", PT_OBJECT, 0, 0, NULL, owner_params},
    {"redirect", PT_OBJECT, 0, 0, NULL, redirect_params},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"statement_descriptor", PT_STRING, PF_EMPTYABLE, 22, NULL, NULL},
    /* Stripe's, for what Tender does not cover (refused below) */
    {"customer", PT_STRING, 0, 255, NULL, NULL},
    {"original_source", PT_STRING, 0, 255, NULL, NULL},
    {"mandate", PT_HASH, 0, 0, NULL, NULL},
    {"receiver", PT_HASH, 0, 0, NULL, NULL},
    {"source_order", PT_HASH, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

/* Every type Stripe's Sources API names; Tender makes card and three_d_secure ones. */
static const char *const stripe_types[] = {"ach_credit_transfer",
					   "ach_debit",
					   "acss_debit",
					   "alipay",
					   "au_becs_debit",
					   "bancontact",
					   "card",
					   "card_present",
					   "eps",
					   "giropay",
					   "ideal",
					   "klarna",
					   "multibanco",
					   "p24",
					   "sepa_debit",
					   "sofort",
					   "three_d_secure",
					   "wechat",
					   NULL};

struct create_ctx {
	struct req *r;
	bool tds;
	char id[ID_MAX];
	/* type=card */
	const char *ref; /* token=tok_… or a test alias */
	struct vault_card_info info;
	struct vault_sealed_card sealed;
	const char *number;
	char card_id[ID_MAX];
	const char *billing; /* the owner as the card's billing_details */
	/* type=three_d_secure */
	const char *card, *customer, *return_url;
	/* both */
	const char *owner, *metadata, *usage, *statement_descriptor;
	char currency[8];
	int64_t amount;
	bool has_amount;
};

/* owner[…] as Stripe's owner hash (JSON, r's arena) and as billing_details. 0 or -1. */
static int owner_from_params(struct req *r, const char *old_owner, const char **ret_owner,
			     const char **ret_billing)
{
	json_t *old = old_owner ? json_loads(old_owner, 0, NULL) : NULL;
	const char *addr = NULL;
	bool addr_given = param_present(r, "owner.address");
	if (addr_given && address_from_params(r, "owner.address", &addr) != 0) {
		json_decref(old);
		return -1;
	}
	const char *vals[3];
	static const char *const fields[] = {"email", "name", "phone"};
	for (int i = 0; i < 3; i++) {
		char path[32];
		snprintf(path, sizeof(path), "owner.%s", fields[i]);
		const char *oldv = json_string_value(json_object_get(old, fields[i]));
		vals[i] = str_update(r, path, oldv ? arena_strdup(&r->arena, oldv) : NULL);
	}
	if (!addr_given) {
		json_t *oa = json_object_get(old, "address");
		char *s = oa && !json_is_null(oa) ? json_dumps(oa, JSON_COMPACT) : NULL;
		addr = s ? arena_strdup(&r->arena, s) : NULL;
		free(s);
	}
	json_decref(old);
	for (int pass = 0; pass < 2; pass++) {
		struct buf b;
		struct json j;
		buf_init(&b, 64 * 1024);
		json_init(&j, &b);
		json_obj_open(&j);
		static const char NULL_ADDR[] =
		    "{\"city\":null,\"country\":null,\"line1\":null,"
		    "\"line2\":null,\"postal_code\":null,\"state\":null}";
		if (addr)
			json_kv_raw(&j, "address", addr, strlen(addr));
		else if (pass == 1)
			json_kv_raw(&j, "address", NULL_ADDR, strlen(NULL_ADDR));
		else
			json_kv_null(&j, "address");
		for (int i = 0; i < 3; i++)
			json_kv_str_or_null(&j, fields[i], vals[i]);
		if (pass == 0) {
			static const char *const verified[] = {"verified_address", "verified_email",
							       "verified_name", "verified_phone"};
			for (int i = 0; i < 4; i++)
				json_kv_null(&j, verified[i]);
		} else {
			json_kv_null(&j, "tax_id");
		}
		json_obj_close(&j);
		const char *s = b.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&b));
		buf_release(&b);
		if (!s)
			return req_fail(r, ERR_API, NULL, NULL);
		*(pass == 0 ? ret_owner : ret_billing) = s;
	}
	return 0;
}

static const char SQL_INSERT[] =
    "INSERT INTO sources (merchant_id, id, created, type, status, usage, flow, amount, currency,"
    " customer, card, three_d_secure, cvc_check, redirect_status, redirect_return_url,"
    " redirect_base, owner, statement_descriptor, metadata) VALUES ($1, $2, $3, $4, $5, $6, $7,"
    " $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)";

struct reveal_ctx {
	enum acq_behavior behavior;
};

static int behavior_fn(const struct vault_secret *s, void *p)
{
	((struct reveal_ctx *)p)->behavior = vault_secret_behavior(s);
	return 0;
}

const char *source_api_three_d_secure(enum acq_behavior b, const char *brand)
{
	if (b == ACQ_3DS_REQUIRED || b == ACQ_3DS_UNLESS_SET_UP || b == ACQ_3DS_ON_SESSION ||
	    b == ACQ_3DS_THEN_INSUFFICIENT_FUNDS || b == ACQ_3DS_THEN_DECLINE ||
	    b == ACQ_3DS_REQUIRED_LOOKUP_ERROR)
		return "required";
	if (brand && strcmp(brand, "amex") == 0)
		return "not_supported";
	return "optional";
}

static int insert_row(struct req *r, struct db *db, const struct create_ctx *c, const char *type,
		      const char *status, const char *flow, const char *customer, const char *card,
		      const char *tds, const char *cvc_check)
{
	struct db_stmt *st = db_prepare(db, SQL_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, c->id, -1);
	db_bind_int64(st, 3, r->now);
	db_bind_text(st, 4, type, -1);
	db_bind_text(st, 5, status, -1);
	db_bind_text(st, 6, c->usage, -1);
	db_bind_text(st, 7, flow, -1);
	if (c->has_amount)
		db_bind_int64(st, 8, c->amount);
	else
		db_bind_null(st, 8);
	db_bind_text(st, 9, c->currency[0] ? c->currency : NULL, -1);
	db_bind_text(st, 10, customer, -1);
	db_bind_text(st, 11, card, -1);
	db_bind_text(st, 12, tds, -1);
	db_bind_text(st, 13, cvc_check, -1);
	bool redirect = strcmp(flow, "redirect") == 0;
	db_bind_text(st, 14,
		     redirect ? (strcmp(status, "failed") == 0 ? "failed" : "pending") : NULL, -1);
	db_bind_text(st, 15, redirect ? c->return_url : NULL, -1);
	db_bind_text(st, 16, redirect ? req_url_base(r) : NULL, -1);
	db_bind_text(st, 17, c->owner, -1);
	db_bind_text(st, 18, c->statement_descriptor, -1);
	db_bind_text(st, 19, c->metadata, -1);
	return db_step_done(st) == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static int create_card_fn(struct db *db, void *p)
{
	struct create_ctx *c = p;
	struct req *r = c->r;
	int rc;
	/* the card, stored under the source's id as tokens and PaymentMethods store theirs */
	if (c->ref) {
		rc = pm_create_from_ref(db, r->app->vault, r->merchant_id, c->ref, c->id,
					c->billing, NULL, r->now);
		if (rc == DB_NOTFOUND)
			return req_fail_missing(r, "token", c->ref, "token");
		if (rc == VAULT_ERR_TOKEN_USED)
			return req_fail(r, ERR_TOKEN_USED, "token", "%s", c->ref);
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
	} else {
		char fp[24];
		if (vault_card_store(r->app->vault, db, r->merchant_id, c->card_id, c->number,
				     &c->sealed, &c->info, r->now, fp) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (pm_insert(db, r->merchant_id, c->id, c->card_id, &c->info, fp, c->billing, NULL,
			      NULL, r->now) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	struct pm_card pm;
	if (pm_load(db, r->merchant_id, c->id, &pm) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* what the card says of 3-D Secure: the vault reveals it here, on the record */
	struct reveal_ctx rv = {ACQ_SUCCEED};
	struct vault_access acc;
	memset(&acc, 0, sizeof(acc));
	if (vault_card_reveal(r->app->vault, db, r->merchant_id, pm.card_id, "source", behavior_fn,
			      &rv, &acc) != 0 ||
	    vault_access_record(db, &acc) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	if (insert_row(r, db, c, "card", "chargeable", "none", NULL, NULL,
		       source_api_three_d_secure(rv.behavior, pm.brand),
		       pm.cvc_provided ? "unchecked" : NULL) != 0)
		return -1;
	return answer(r, db, c->id, "source.chargeable");
}

static int create_tds_fn(struct db *db, void *p)
{
	struct create_ctx *c = p;
	struct req *r = c->r;
	struct source_row card;
	int rc = source_load(db, &r->arena, r->merchant_id, c->card, &card);
	if (rc == DB_OK && strcmp(card.type, "card") != 0)
		rc = DB_NOTFOUND;
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "source", c->card, "three_d_secure[card]");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (strcmp(card.status, "chargeable") != 0)
		return req_fail(r, ERR_PARAM_BAD, "three_d_secure[card]",
				"The source %s has a status of %s: only a chargeable card source "
				"can be authenticated.",
				card.id, card.status);
	/* a card of a customer is authenticated for that customer (Stripe asks for it) */
	if (card.customer && (!c->customer || strcmp(c->customer, card.customer) != 0))
		return req_fail(r, ERR_PARAM_BAD, "three_d_secure[customer]",
				"The source %s is attached to customer %s: pass that customer as "
				"three_d_secure[customer].",
				card.id, card.customer);
	if (c->customer && !card.customer) {
		if (customer_check(r, db, c->customer) != 0)
			return -1;
		return req_fail(r, ERR_PARAM_BAD, "three_d_secure[customer]",
				"The source %s is not attached to customer %s.", card.id,
				c->customer);
	}
	/* a card without 3-D Secure cannot be authenticated: the source fails at once */
	bool unsupported = strcmp(card.three_d_secure, "not_supported") == 0;
	const char *status = unsupported ? "failed" : "pending";
	if (!c->owner || strcmp(c->owner, "{}") == 0)
		c->owner = card.owner;
	if (insert_row(r, db, c, "three_d_secure", status, "redirect", c->customer, card.id,
		       card.three_d_secure, card.cvc_check) != 0)
		return -1;
	return answer(r, db, c->id, unsupported ? "source.failed" : NULL);
}

static int h_create(struct req *r)
{
	const char *type = param_str(r, "type");
	if (!type || !*type)
		return req_fail(r, ERR_PARAM_MISSING, "type", "%s", "type");
	bool known = false;
	for (const char *const *t = stripe_types; *t; t++)
		known = known || strcmp(*t, type) == 0;
	if (!known)
		return req_fail(r, ERR_PARAM_BAD, "type",
				"Invalid source type: must be one of ach_credit_transfer, "
				"ach_debit, acss_debit, alipay, au_becs_debit, bancontact, card, "
				"card_present, eps, giropay, ideal, klarna, multibanco, p24, "
				"sepa_debit, sofort, three_d_secure, or wechat.");
	struct create_ctx c;
	memset(&c, 0, sizeof(c));
	c.r = r;
	c.tds = strcmp(type, "three_d_secure") == 0;
	if (!c.tds && strcmp(type, "card") != 0)
		return req_fail(r, ERR_PAYMENT_METHOD_UNACTIVATED, "type",
				"The payment method `%s` is not activated for your account: "
				"Tender's Sources API makes card and three_d_secure sources only.",
				type);
	static const char *const refused[] = {"customer", "original_source", "mandate",
					      "receiver", "source_order",    NULL};
	for (const char *const *p = refused; *p; p++)
		if (param_present(r, *p))
			return req_fail(r, ERR_PARAM_BAD, *p,
					"%s is not covered for %s sources by Tender.", *p, type);
	const char *flow = param_str(r, "flow");
	const char *want_flow = c.tds ? "redirect" : "none";
	if (flow && *flow && strcmp(flow, want_flow) != 0)
		return req_fail(r, ERR_PARAM_BAD, "flow", "The flow of a %s source is %s, not %s.",
				type, want_flow, flow);
	c.has_amount = param_int(r, "amount", &c.amount) == 1;
	if (c.has_amount || param_present(r, "currency")) {
		if (!c.has_amount)
			return req_fail(r, ERR_PARAM_MISSING, "amount", "%s", "amount");
		if (payments_check_amount(r, c.amount, "currency", c.currency, "amount") != 0)
			return -1;
	}
	const char *sd = param_str(r, "statement_descriptor");
	c.statement_descriptor = sd && *sd ? sd : NULL;
	c.metadata = "{}";
	if (metadata_apply(r, NULL, "metadata", &c.metadata) != 0)
		return -1;
	if (owner_from_params(r, NULL, &c.owner, &c.billing) != 0)
		return -1;
	const char *usage = param_str(r, "usage");
	id_new_at(c.id, SOURCE_API_PREFIX, r->now);
	if (c.tds) {
		if (param_present(r, "token") || param_present(r, "card"))
			return req_fail(r, ERR_PARAM_BAD,
					param_present(r, "token") ? "token" : "card",
					"A three_d_secure source authenticates a card source: "
					"pass it as three_d_secure[card].");
		const char *card = param_str(r, "three_d_secure.card");
		if (!card || !*card)
			return req_fail(r, ERR_PARAM_MISSING, "three_d_secure[card]", "%s",
					"three_d_secure[card]");
		if (!c.has_amount)
			return req_fail(r, ERR_PARAM_MISSING, "amount", "%s", "amount");
		const char *ret = param_str(r, "redirect.return_url");
		if (!ret || !*ret)
			return req_fail(r, ERR_PARAM_MISSING, "redirect[return_url]", "%s",
					"redirect[return_url]");
		if (usage && strcmp(usage, "single_use") != 0)
			return req_fail(r, ERR_PARAM_BAD, "usage",
					"A three_d_secure source is single_use.");
		const char *cus = param_str(r, "three_d_secure.customer");
		c.card = card;
		c.customer = cus && *cus ? cus : NULL;
		c.return_url = ret;
		c.usage = "single_use";
		/* the owner the card source has, unless given */
		if (!param_present(r, "owner"))
			c.owner = NULL;
		return req_write(r, create_tds_fn, &c);
	}
	if (param_present(r, "three_d_secure"))
		return req_fail(r, ERR_PARAM_BAD, "three_d_secure",
				"three_d_secure[…] is for sources of type three_d_secure.");
	if (param_present(r, "redirect"))
		return req_fail(r, ERR_PARAM_BAD, "redirect",
				"A card source has no redirect: its flow is none.");
	c.usage = usage && *usage ? usage : "reusable";
	const char *token = param_str(r, "token");
	if (token && *token) {
		if (param_present(r, "card"))
			return req_fail(r, ERR_PARAM_BAD, "card",
					"You cannot provide card details together with token.");
		if (strncmp(token, "tok_", 4) != 0)
			return req_fail_missing(r, "token", token, "token");
		c.ref = token;
	} else if (!param_present(r, "card")) {
		return req_fail(r, ERR_PARAM_MISSING, "card", "%s", "card");
	} else {
		if (tokens_card_params(r, &c.info) != 0)
			return -1;
		id_new(c.card_id, "card_");
		c.number = tokens_card_preseal(r, c.card_id, &c.sealed);
	}
	return req_write(r, create_card_fn, &c);
}

/* ---- retrieve, update ---- */

struct id_ctx {
	struct req *r;
	const char *id;
	const char *customer; /* the path's customer (…/customers/{customer}/sources/{id}) */
};

static int retrieve_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	struct req *r = x->r;
	int rc = source_api_render(db, r->merchant_id, r->livemode, x->id, req_json(r));
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "source", x->id, "source");
	return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static int h_retrieve(struct req *r)
{
	struct id_ctx x = {r, r->args[0], NULL};
	if (r->publishable) {
		/* a publishable key sees a source only with its client secret, as on Stripe */
		const char *given = param_str(r, "client_secret");
		char secret[VAULT_PAGE_TOKEN_LEN + 32];
		if (!given || !*given)
			return req_fail(r, ERR_PARAM_MISSING, "client_secret", "%s",
					"client_secret");
		if (!source_api_id(x.id) ||
		    client_secret(r->app->vault, r->merchant_id, x.id, secret, sizeof(secret)) !=
			0 ||
		    !challenge_token_eq(secret, given))
			return req_fail_missing(r, "source", x.id, "source");
	}
	return req_read(r, retrieve_fn, &x) == 0 ? 0 : -1;
}

static const char SQL_UPDATE[] =
    "UPDATE sources SET owner = $3, metadata = $4 WHERE merchant_id = $1 AND id = $2";
static const char SQL_PM_BILLING[] =
    "UPDATE payment_methods SET billing_details = $3 WHERE merchant_id = $1 AND id = $2";

static int update_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	struct req *r = x->r;
	struct source_row s;
	int rc = source_load(db, &r->arena, r->merchant_id, x->id, &s);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "source", x->id, "source");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	const char *meta = s.metadata, *owner = s.owner, *billing = NULL;
	if (metadata_apply(r, s.metadata, "metadata", &meta) != 0)
		return -1;
	if (param_present(r, "owner") && owner_from_params(r, s.owner, &owner, &billing) != 0)
		return -1;
	struct db_stmt *st = db_prepare(db, SQL_UPDATE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, x->id, -1);
	db_bind_text(st, 3, owner, -1);
	db_bind_text(st, 4, meta, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* a card source's owner is its card's billing details (a charge copies them) */
	if (billing && strcmp(s.type, "card") == 0) {
		st = db_prepare(db, SQL_PM_BILLING);
		if (!st)
			return req_fail(r, ERR_API, NULL, NULL);
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, x->id, -1);
		db_bind_text(st, 3, billing, -1);
		if (db_step_done(st) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	/* Stripe has no source.updated event: the answer is the record */
	return answer(r, db, x->id, NULL);
}

static const struct param_spec update_params[] = {
    {"metadata", PT_METADATA, 0, 0, NULL, NULL}, {"owner", PT_OBJECT, 0, 0, NULL, owner_params},
    {"amount", PT_INT, 0, 0, NULL, NULL},	 {"mandate", PT_HASH, 0, 0, NULL, NULL},
    {"source_order", PT_HASH, 0, 0, NULL, NULL}, {NULL, 0, 0, 0, NULL, NULL},
};

static int h_update(struct req *r)
{
	/* Stripe's, for flows and types Tender does not make (receiver, mandates, orders) */
	static const char *const refused[] = {"amount", "mandate", "source_order", NULL};
	for (const char *const *p = refused; *p; p++)
		if (param_present(r, *p))
			return req_fail(r, ERR_PARAM_BAD, *p,
					"%s can only be updated on a source of a type Tender does "
					"not make (a receiver or mandate flow).",
					*p);
	struct id_ctx x = {r, r->args[0], NULL};
	return req_write(r, update_fn, &x);
}

/* ---- verify, source transactions, mandate notifications ---- */

static int exists_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	struct req *r = x->r;
	struct source_row s;
	int rc = source_load(db, &r->arena, r->merchant_id, x->id, &s);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "source", x->id, "source");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	x->customer = arena_strdup(&r->arena, s.type); /* the type, for the callers */
	return x->customer ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static int h_verify(struct req *r)
{
	struct id_ctx x = {r, r->args[0], NULL};
	if (req_read(r, exists_fn, &x) != 0)
		return -1;
	/* only a code_verification flow is verified (ach_debit …), which no covered type has */
	return req_fail(r, ERR_PARAM_BAD, NULL,
			"The source %s of type %s cannot be verified: only sources whose flow is "
			"code_verification are.",
			x.id, x.customer);
}

static int h_transactions(struct req *r)
{
	struct id_ctx x = {r, r->args[0], NULL};
	if (req_read(r, exists_fn, &x) != 0)
		return -1;
	/* a card or 3-D Secure source has no source transactions (a receiver's have) */
	const char *url = arena_printf(&r->arena, "/v1/sources/%s/source_transactions", x.id);
	if (!url)
		return req_fail(r, ERR_API, NULL, NULL);
	struct json *j = req_json(r);
	json_obj_open(j);
	json_kv_str(j, "object", "list");
	json_key(j, "data");
	json_arr_open(j);
	json_arr_close(j);
	json_kv_bool(j, "has_more", false);
	json_kv_str(j, "url", url);
	json_obj_close(j);
	return 0;
}

static int h_transaction(struct req *r)
{
	struct id_ctx x = {r, r->args[0], NULL};
	if (req_read(r, exists_fn, &x) != 0)
		return -1;
	return req_fail_missing(r, "source_transaction", r->args[1], "id");
}

static int h_mandate_notification(struct req *r)
{
	struct id_ctx x = {r, r->args[0], NULL};
	if (req_read(r, exists_fn, &x) != 0)
		return -1;
	return req_fail_missing(r, "mandate_notification", r->args[1], "mandate_notification");
}

/* ---- a customer's sources ---- */

static const char SQL_OWNED[] =
    "SELECT 1 FROM sources WHERE merchant_id = $1 AND id = $2 AND customer = $3";
static const char SQL_NEWEST[] =
    "SELECT id FROM sources WHERE merchant_id = $1 AND customer = $2 AND type = 'card'"
    " AND id <> $3 ORDER BY id DESC LIMIT 1";

int source_api_owned(struct req *r, struct db *db, const char *customer, const char *id)
{
	if (!source_api_id(id))
		return 0;
	struct db_stmt *st = db_prepare(db, SQL_OWNED);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	db_bind_text(st, 3, customer, -1);
	int rc = db_step(st);
	db_reset(st);
	if (rc == DB_ROW)
		return 1;
	return rc == DB_DONE ? 0 : rc;
}

int source_api_newest(struct req *r, struct db *db, const char *customer, const char *except,
		      char ret[ID_MAX])
{
	ret[0] = '\0';
	struct db_stmt *st = db_prepare(db, SQL_NEWEST);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, customer, -1);
	db_bind_text(st, 3, except ? except : "", -1);
	int rc = db_step(st);
	if (rc == DB_ROW)
		str_copy(ret, ID_MAX, db_col_text(st, 0, NULL));
	db_reset(st);
	return rc == DB_ROW || rc == DB_DONE ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static const char SQL_ATTACH[] = "UPDATE sources SET customer = $3 WHERE merchant_id = $1"
				 " AND id = $2 AND customer IS NULL AND status = 'chargeable'";
static const char SQL_PM_CUSTOMER[] = "UPDATE payment_methods SET customer = $3, detached = $4"
				      " WHERE merchant_id = $1 AND id = $2";

static int pm_customer(struct req *r, struct db *db, const char *id, const char *customer,
		       bool detached)
{
	struct db_stmt *st = db_prepare(db, SQL_PM_CUSTOMER);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	db_bind_text(st, 3, customer, -1);
	db_bind_int64(st, 4, detached ? 1 : 0);
	return db_step_done(st) == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

int source_api_attach(struct req *r, struct db *db, const char *customer, const char *id,
		      const char *param, bool *ret_added)
{
	*ret_added = false;
	struct source_row s;
	int rc = source_load(db, &r->arena, r->merchant_id, id, &s);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "source", id, param);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (s.customer && strcmp(s.customer, customer) == 0 && strcmp(s.type, "card") == 0)
		return 0; /* attached already: as it is */
	if (strcmp(s.type, "card") != 0 || strcmp(s.usage, "reusable") != 0)
		return req_fail(r, ERR_PARAM_BAD, param,
				"The source %s is single_use (%s): only a reusable source can be "
				"attached to a customer.",
				s.id, s.type);
	if (s.customer)
		return req_fail(r, ERR_PARAM_BAD, param,
				"The source %s is already attached to customer %s.", s.id,
				s.customer);
	if (strcmp(s.status, "chargeable") != 0)
		return req_fail(r, ERR_PARAM_BAD, param,
				"The source %s has a status of %s and cannot be attached to a "
				"customer.",
				s.id, s.status);
	struct db_stmt *st = db_prepare(db, SQL_ATTACH);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	db_bind_text(st, 3, customer, -1);
	int64_t changed = 0;
	if (db_step_changes(st, &changed) != DB_OK || changed != 1)
		return req_fail(r, ERR_API, NULL, NULL);
	if (pm_customer(r, db, id, customer, false) != 0)
		return -1;
	size_t len = 0;
	const char *js = source_json(r, db, id, &len);
	if (!js)
		return req_fail(r, ERR_API, NULL, NULL);
	if (source_event(r, db, "customer.source.created", id, js, len) != 0)
		return -1;
	*ret_added = true;
	return 0;
}

static int attach_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	struct req *r = x->r;
	if (customer_check(r, db, x->customer) != 0)
		return -1;
	bool added;
	if (source_api_attach(r, db, x->customer, x->id, "source", &added) != 0)
		return -1;
	if (!added)
		return answer(r, db, x->id, NULL);
	/* a customer's first source becomes its default source */
	char ds[ID_MAX];
	if (customer_default_source(r, db, x->customer, "customer", ds) != 0)
		return -1;
	if (!ds[0] && customer_set_default_source(r, db, x->customer, x->id) != 0)
		return -1;
	return answer(r, db, x->id, NULL);
}

int sources_api_h_attach(struct req *r, const char *id)
{
	if (param_present(r, "metadata"))
		return req_fail(r, ERR_PARAM_BAD, "metadata",
				"A source's metadata is updated at /v1/sources/%s.", id);
	struct id_ctx x = {r, id, r->args[0]};
	return req_write(r, attach_fn, &x);
}

static int customer_retrieve_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	struct req *r = x->r;
	if (customer_check(r, db, x->customer) != 0)
		return -1;
	int own = source_api_owned(r, db, x->customer, x->id);
	if (own < 0)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!own)
		return req_fail_missing(r, "source", x->id, "id");
	return retrieve_fn(db, p);
}

int sources_api_h_customer_retrieve(struct req *r)
{
	struct id_ctx x = {r, r->args[1], r->args[0]};
	return req_read(r, customer_retrieve_fn, &x) == 0 ? 0 : -1;
}

static const char SQL_DETACH[] =
    "UPDATE sources SET customer = NULL, status = 'consumed' WHERE merchant_id = $1"
    " AND id = $2 AND customer = $3 AND type = 'card'";

int source_api_detach(struct req *r, struct db *db, const char *customer, const char *id)
{
	struct db_stmt *st = db_prepare(db, SQL_DETACH);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	db_bind_text(st, 3, customer, -1);
	int64_t changed = 0;
	if (db_step_changes(st, &changed) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (changed != 1)
		return req_fail_missing(r, "source", id, "id");
	/* its card can never pay again, as a detached PaymentMethod's */
	if (pm_customer(r, db, id, NULL, true) != 0)
		return -1;
	size_t len = 0;
	const char *js = source_json(r, db, id, &len);
	if (!js)
		return req_fail(r, ERR_API, NULL, NULL);
	return source_event(r, db, "customer.source.deleted", id, js, len);
}

static int detach_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	struct req *r = x->r;
	if (customer_check(r, db, x->customer) != 0)
		return -1;
	if (source_api_detach(r, db, x->customer, x->id) != 0)
		return -1;
	char ds[ID_MAX], next[ID_MAX];
	if (customer_default_source(r, db, x->customer, "customer", ds) != 0)
		return -1;
	if (strcmp(ds, x->id) == 0) {
		if (source_newest(r, db, x->customer, x->id, next) != 0)
			return -1;
		if (customer_set_default_source(r, db, x->customer, next[0] ? next : NULL) != 0)
			return -1;
	}
	/* Stripe answers the source (consumed), not a deleted stub */
	return answer(r, db, x->id, NULL);
}

int sources_api_h_detach(struct req *r)
{
	struct id_ctx x = {r, r->args[1], r->args[0]};
	return req_write(r, detach_fn, &x);
}

/* ---- charging ---- */

struct charge_ctx {
	struct req *r;
	const char *id, *customer, *currency;
	int64_t amount;
	struct source_charge *sc;
};

static int charge_prepare_fn(struct db *db, void *p)
{
	struct charge_ctx *x = p;
	struct req *r = x->r;
	struct source_row s;
	int rc = source_load(db, &r->arena, r->merchant_id, x->id, &s);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "source", x->id, "source");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (strcmp(s.status, "chargeable") != 0)
		return req_fail(r, ERR_PARAM_BAD, "source",
				"The source you provided is not in a chargeable state: %s has a "
				"status of %s.",
				s.id, s.status);
	bool tds = strcmp(s.type, "three_d_secure") == 0;
	if (!tds && s.customer && !x->customer)
		return req_fail(r, ERR_PARAM_BAD, "source",
				"The source %s belongs to customer %s: pass that customer too "
				"(customer=cus_…).",
				s.id, s.customer);
	/* the cardholder authenticated this amount in this currency */
	if (tds &&
	    (strcmp(s.currency ? s.currency : "", x->currency) != 0 || s.amount != x->amount))
		return req_fail(
		    r, ERR_PARAM_BAD, "amount",
		    "The source %s was authenticated for %lld %s: charge that amount in "
		    "that currency.",
		    s.id, (long long)s.amount, s.currency ? s.currency : "");
	struct source_charge *sc = x->sc;
	sc->set = true;
	str_copy(sc->id, sizeof(sc->id), s.id);
	str_copy(sc->card, sizeof(sc->card), tds ? s.card : s.id);
	sc->authenticated = tds;
	sc->consume = strcmp(s.usage, "single_use") == 0 || !s.customer;
	return 0;
}

int source_api_charge_prepare(struct req *r, const char *id, const char *customer, int64_t amount,
			      const char *currency, struct source_charge *sc)
{
	memset(sc, 0, sizeof(*sc));
	struct charge_ctx x = {r, id, customer, currency, amount, sc};
	return req_read(r, charge_prepare_fn, &x) == 0 ? 0 : -1;
}

static const char SQL_STILL[] = "SELECT status FROM sources WHERE merchant_id = $1 AND id = $2";
static const char SQL_CONSUME[] =
    "UPDATE sources SET status = 'consumed' WHERE merchant_id = $1 AND id = $2"
    " AND status = 'chargeable'";

int source_api_exists(struct db *db, const char *merchant_id, const char *id)
{
	struct db_stmt *st;
	int rc = db_row_by_id(db, SQL_STILL, merchant_id, id, &st);
	if (rc == DB_OK)
		db_reset(st);
	return rc;
}

int source_api_charge_commit(struct req *r, struct db *db, const struct source_charge *sc,
			     bool approved)
{
	if (!sc || !sc->set)
		return 0;
	struct db_stmt *st = db_prepare(db, SQL_STILL);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, sc->id, -1);
	int rc = db_step(st);
	bool chargeable = rc == DB_ROW && strcmp(db_col_text(st, 0, NULL), "chargeable") == 0;
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return req_fail(r, ERR_API, NULL, NULL);
	/* another charge consumed it (or it was detached) since this one read it */
	if (!chargeable)
		return req_fail(r, ERR_PARAM_BAD, "source",
				"The source you provided is not in a chargeable state: %s.",
				sc->id);
	if (!approved || !sc->consume)
		return 0;
	st = db_prepare(db, SQL_CONSUME);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, sc->id, -1);
	int64_t changed = 0;
	if (db_step_changes(st, &changed) != DB_OK || changed != 1)
		return req_fail(r, ERR_API, NULL, NULL);
	/* Stripe has no event for a consumed source: the charge's own event records it */
	return 0;
}

static int pi_source_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	struct req *r = x->r;
	struct source_row s;
	int rc = source_load(db, &r->arena, r->merchant_id, x->id, &s);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "source", x->id, "source");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (strcmp(s.type, "card") != 0)
		return req_fail(r, ERR_PARAM_BAD, "source",
				"A PaymentIntent takes a card source only: %s is of type %s.", s.id,
				s.type);
	return 0;
}

int source_api_pi_source(struct req *r, const char **pm)
{
	const char *src = param_str(r, "source");
	if (!src || !*src)
		return 0;
	if (*pm && **pm)
		return req_fail(r, ERR_PARAM_BAD, "source",
				"You cannot provide both payment_method and source.");
	if (!source_api_id(src))
		return req_fail_missing(r, "source", src, "source");
	struct id_ctx x = {r, src, NULL};
	if (req_read(r, pi_source_fn, &x) != 0)
		return -1;
	*pm = src;
	return 0;
}

/* ---- the 3-D Secure test page (no API key: the secret in the URL) ---- */

struct page_ctx {
	struct req *r;
	const char *acct, *id, *token;
	struct source_row s;
	char merchant_name[256];
	bool ok;
	bool done; /* complete / fail: the write changed it */
};

static int page_load_fn(struct db *db, void *p)
{
	struct page_ctx *x = p;
	struct req *r = x->r;
	if (source_load(db, &r->arena, x->acct, x->id, &x->s) != DB_OK)
		return 0;
	if (strcmp(x->s.type, "three_d_secure") != 0 || strcmp(x->s.status, "pending") != 0)
		return 0;
	if (challenge_merchant_name(db, x->acct, x->merchant_name, sizeof(x->merchant_name)) != 0)
		return -1;
	x->ok = true;
	return 0;
}

/* 0: found (x filled), 1: answered with the not-found page, -1: error. */
static int page_lookup(struct req *r, struct page_ctx *x)
{
	memset(x, 0, sizeof(*x));
	x->r = r;
	x->acct = r->args[0];
	x->id = r->args[1];
	x->token = r->args[2];
	char tok[VAULT_PAGE_TOKEN_LEN + 1];
	if (!invoice_page_account_ok(x->acct) || !source_api_id(x->id) ||
	    !invoice_page_token_ok(x->token) || !r->app || !r->app->vault ||
	    page_secret(r->app->vault, x->acct, x->id, tok) != 0 ||
	    !challenge_token_eq(tok, x->token)) {
		challenge_not_found(r);
		return 1;
	}
	str_copy(r->merchant_id, sizeof(r->merchant_id), x->acct);
	if (req_read(r, page_load_fn, x) != 0)
		return -1;
	if (!x->ok) {
		r->err.set = false;
		challenge_not_found(r);
		return 1;
	}
	return 0;
}

static int h_page(struct req *r)
{
	struct page_ctx x;
	int rc = page_lookup(r, &x);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	struct buf b;
	buf_init(&b, 64 * 1024);
	buf_puts(&b, "<h1>Authenticate your payment</h1><p>Your bank asks you to confirm this "
		     "payment (3-D Secure test mode).</p><dl><dt>Merchant</dt><dd>");
	html_escape(&b, x.merchant_name);
	buf_puts(&b, "</dd><dt>Amount</dt><dd>");
	html_amount(&b, x.s.amount, x.s.currency ? x.s.currency : "usd");
	buf_puts(&b, "</dd><dt>Card</dt><dd>");
	html_escape(&b, card_brand_title(x.s.brand));
	buf_puts(&b, " ending in ");
	html_escape(&b, x.s.last4);
	buf_puts(&b, "</dd></dl>");
	challenge_forms(
	    &b, arena_printf(&r->arena, "/source-redirect/%s/%s/%s", x.acct, x.id, x.token));
	rc = challenge_page(r, 200, "Authenticate your payment", buf_cstr(&b));
	buf_release(&b);
	return rc;
}

static const char SQL_FINISH[] =
    "UPDATE sources SET status = $3, redirect_status = $4, redirect_failure_reason = $5"
    " WHERE merchant_id = $1 AND id = $2 AND status = 'pending'";

struct finish_ctx {
	struct page_ctx *x;
	bool ok;
};

static int finish_fn(struct db *db, void *p)
{
	struct finish_ctx *f = p;
	struct req *r = f->x->r;
	struct db_stmt *st = db_prepare(db, SQL_FINISH);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, f->x->id, -1);
	db_bind_text(st, 3, f->ok ? "chargeable" : "failed", -1);
	db_bind_text(st, 4, f->ok ? "succeeded" : "failed", -1);
	db_bind_text(st, 5, f->ok ? NULL : "declined", -1);
	int64_t changed = 0;
	if (db_step_changes(st, &changed) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (changed != 1) /* finished already (another tab) */
		return req_fail(r, ERR_INVALID_STATE, NULL, "%s", "finished already");
	f->x->done = true;
	size_t len = 0;
	const char *js = source_json(r, db, f->x->id, &len);
	if (!js)
		return req_fail(r, ERR_API, NULL, NULL);
	return source_event(r, db, f->ok ? "source.chargeable" : "source.failed", f->x->id, js,
			    len);
}

/* After the page: the return_url with Stripe's query parameters (source, livemode,
 * client_secret), or a page of its own when the write did not happen. */
static int page_finish(struct req *r, bool ok)
{
	struct page_ctx x;
	int rc = page_lookup(r, &x);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	struct finish_ctx f = {&x, ok};
	if (req_write(r, finish_fn, &f) != 0 || !x.done) {
		r->err.set = false;
		return challenge_not_found(r);
	}
	char secret[VAULT_PAGE_TOKEN_LEN + 32];
	if (client_secret(r->app->vault, r->merchant_id, x.id, secret, sizeof(secret)) != 0 ||
	    !x.s.redirect_return_url)
		return challenge_done(r, ok);
	const char *ret = x.s.redirect_return_url;
	r->location = arena_printf(&r->arena, "%s%sclient_secret=%s&livemode=%s&source=%s", ret,
				   strchr(ret, '?') ? "&" : "?", secret,
				   r->livemode ? "true" : "false", x.id);
	if (!r->location)
		return challenge_done(r, ok);
	return challenge_redirect(r);
}

static int h_page_complete(struct req *r)
{
	return page_finish(r, true);
}

static int h_page_fail(struct req *r)
{
	return page_finish(r, false);
}

/* ---- routes ---- */

static const struct param_spec retrieve_params[] = {
    {"client_secret", PT_STRING, 0, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec verify_params[] = {
    {"values", PT_STRING_ARRAY, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

const struct route sources_api_routes[] = {
    {"POST", "/v1/sources", h_create, create_params, ROUTE_PUBLISHABLE},
    {"GET", "/v1/sources/{id}/source_transactions", h_transactions, no_params, ROUTE_LIST},
    {"GET", "/v1/sources/{id}/source_transactions/{txn}", h_transaction, no_params, 0},
    {"GET", "/v1/sources/{id}/mandate_notifications/{mn}", h_mandate_notification, no_params, 0},
    {"POST", "/v1/sources/{id}/verify", h_verify, verify_params, 0},
    {"GET", "/v1/sources/{id}", h_retrieve, retrieve_params, ROUTE_PUBLISHABLE},
    {"POST", "/v1/sources/{id}", h_update, update_params, 0},
    {"GET", "/source-redirect/{acct}/{id}/{token}", h_page, no_params, ROUTE_NO_AUTH | ROUTE_RAW},
    {"POST", "/source-redirect/{acct}/{id}/{token}/complete", h_page_complete, no_params,
     ROUTE_NO_AUTH | ROUTE_RAW},
    {"POST", "/source-redirect/{acct}/{id}/{token}/fail", h_page_fail, no_params,
     ROUTE_NO_AUTH | ROUTE_RAW},
    {NULL, NULL, NULL, NULL, 0},
};

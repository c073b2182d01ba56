/*
 * POST /v1/tokens (card[…]; publishable keys may) and GET /v1/tokens/{id}. A token is a sealed
 * card (vault_cards) plus its public facts (tokens); the first PaymentMethod or payment that
 * uses it marks it used (pm_create_from_ref), and a second use answers token_already_used.
 * Tokens carry Stripe's legacy card object: brand in title case ("Visa", "American Express").
 *
 * cvc_update[cvc] makes a cvc_update token (cvctok_…): Stripe's CVC recollection for a saved
 * card, used once by a PaymentIntent's confirmation (payment_method_options[card][cvc_token]).
 * The CVC is checked by the vault's rule and then forgotten (never stored, logged, echoed, nor
 * in the idempotency hash, which leaves out every `cvc`): the token keeps only that one was
 * given, which is all Tender's acquirer is told of a CVC (processor.h: cvc_provided).
 */
#include "api/tokens.h"

#include <stdio.h>
#include <string.h>

#include "api/connect_tokens.h"
#include "api/external_accounts.h"
#include "api/persons.h"
#include "api/pm_clone.h"
#include "api/sources.h"
#include "core/str.h"
#include "app.h"
#include "http/form.h"
#include "store/store.h"
#include "vault/card_source.h"

static const struct param_spec card_children[] = {
    {"number", PT_STRING, 0, 64, NULL, NULL},
    {"exp_month", PT_STRING, 0, 4, NULL, NULL},
    {"exp_year", PT_STRING, 0, 4, NULL, NULL},
    {"cvc", PT_STRING, 0, 8, NULL, NULL},
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

static const struct param_spec cvc_update_children[] = {
    {"cvc", PT_STRING, PF_REQUIRED, 8, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

const struct param_spec tokens_create_params[] = {
    /* a card hash, or with customer (Connect) one of that customer's cards by id */
    {"card", PT_OBJECT, PF_SCALAR_OK, 255, NULL, card_children},
    {"cvc_update", PT_OBJECT, 0, 0, NULL, cvc_update_children},
    {"bank_account", PT_OBJECT, 0, 0, NULL, bank_token_params},
    {"customer", PT_STRING, 0, 255, NULL, NULL},
    {"account", PT_OBJECT, 0, 0, NULL, connect_token_account_params},
    {"person", PT_OBJECT, 0, 0, NULL, person_params},
    {"pii", PT_OBJECT, 0, 0, NULL, connect_token_pii_params},
    {NULL, 0, 0, 0, NULL, NULL},
};

int tokens_card_params(struct req *r, struct vault_card_info *ret_info)
{
	static const char *const required[][2] = {
	    {"card.number", "card[number]"},
	    {"card.exp_month", "card[exp_month]"},
	    {"card.exp_year", "card[exp_year]"},
	};
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		const char *v = param_str(r, required[i][0]);
		if (!v || !*v)
			return req_fail(r, ERR_PARAM_MISSING, required[i][1], "%s", required[i][1]);
	}
	int e = vault_card_validate(param_str(r, "card.number"), param_str(r, "card.exp_month"),
				    param_str(r, "card.exp_year"), param_str(r, "card.cvc"), r->now,
				    ret_info);
	if (e == 0)
		return 0;
	return req_fail(r, vault_card_err_api(e), vault_card_err_param(e), NULL);
}

static const char SQL_TOKEN_PUT[] =
    "INSERT INTO tokens (merchant_id, id, created, card_id, brand, last4, exp_month, exp_year,"
    " funding, country, fingerprint, cvc_provided, client_ip, bin) VALUES ($1, $2, $3, $4, $5,"
    " $6, $7, $8, $9, $10, $11, $12, $13, $14)";
static const char SQL_TOKEN_GET[] =
    "SELECT id, created, card_id, brand, last4, exp_month, exp_year, funding, country,"
    " fingerprint, cvc_provided, client_ip, used FROM tokens WHERE merchant_id = $1 AND id = $2";

/* What a token object shows, whether read back (token_render) or just inserted (token_fn). */
struct token_view {
	const char *id, *card_id, *brand, *country, *fingerprint, *funding, *last4, *client_ip;
	int64_t created, exp_month, exp_year;
	bool cvc_provided, used;
};

static void render_view(struct req *r, const struct token_view *v)
{
	struct json *j = req_json(r);
	json_obj_open(j);
	json_kv_str(j, "id", v->id);
	json_kv_str(j, "object", "token");
	json_key(j, "card");
	json_obj_open(j);
	json_kv_str(j, "id", v->card_id);
	json_kv_str(j, "object", "card");
	static const char *const nulls[] = {"address_city",
					    "address_country",
					    "address_line1",
					    "address_line1_check",
					    "address_line2",
					    "address_state",
					    "address_zip",
					    "address_zip_check",
					    "available_payout_methods",
					    NULL};
	for (const char *const *n = nulls; *n; n++)
		json_kv_null(j, *n);
	json_kv_str(j, "brand", card_brand_title(v->brand));
	json_kv_str_or_null(j, "country", v->country);
	json_kv_null(j, "currency");
	json_kv_null(j, "customer");
	/* a CVC was given and not yet checked by an authorization */
	if (v->cvc_provided)
		json_kv_str(j, "cvc_check", "unchecked");
	else
		json_kv_null(j, "cvc_check");
	json_kv_null(j, "default_for_currency");
	json_kv_null(j, "dynamic_last4");
	json_kv_int(j, "exp_month", v->exp_month);
	json_kv_int(j, "exp_year", v->exp_year);
	json_kv_str(j, "fingerprint", v->fingerprint);
	json_kv_str(j, "funding", v->funding);
	json_kv_str(j, "last4", v->last4);
	json_kv_raw(j, "metadata", "{}", 2);
	json_kv_null(j, "name");
	json_key(j, "networks");
	json_obj_open(j);
	json_kv_null(j, "preferred");
	json_obj_close(j);
	json_kv_null(j, "regulated_status");
	json_kv_null(j, "status");
	json_kv_null(j, "tokenization_method");
	json_kv_null(j, "wallet");
	json_obj_close(j);
	json_kv_str_or_null(j, "client_ip", v->client_ip);
	json_kv_int(j, "created", v->created);
	json_kv_bool(j, "livemode", r->livemode);
	json_kv_str(j, "type", "card");
	json_kv_bool(j, "used", v->used);
	json_obj_close(j);
}

static int token_render(struct req *r, struct db *db, const char *id)
{
	struct db_stmt *st = db_prepare(db, SQL_TOKEN_GET);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	if (rc != DB_ROW) {
		db_reset(st);
		return rc == DB_DONE ? req_fail_missing(r, "token", id, "token")
				     : req_fail(r, ERR_API, NULL, NULL);
	}
	struct token_view v = {
	    .id = db_col_text(st, 0, NULL),
	    .created = db_col_int64(st, 1),
	    .card_id = db_col_text(st, 2, NULL),
	    .brand = db_col_text(st, 3, NULL),
	    .last4 = db_col_text(st, 4, NULL),
	    .exp_month = db_col_int64(st, 5),
	    .exp_year = db_col_int64(st, 6),
	    .funding = db_col_text(st, 7, NULL),
	    .country = db_col_text(st, 8, NULL),
	    .fingerprint = db_col_text(st, 9, NULL),
	    .cvc_provided = db_col_int64(st, 10) != 0,
	    .client_ip = db_col_text(st, 11, NULL),
	    .used = db_col_int64(st, 12) != 0,
	};
	render_view(r, &v);
	db_reset(st);
	return 0;
}

struct token_ctx {
	struct req *r;
	struct vault_card_info info;
	struct vault_sealed_card sealed;
	const char *number;
	char id[ID_MAX], card_id[ID_MAX];
	bool quiet; /* made for a payment (tokens_create_for_payment): nothing rendered */
	int rc;
};

const char *tokens_card_preseal(struct req *r, const char *card_id, struct vault_sealed_card *ret)
{
	const char *number = param_str(r, "card.number");
	int shard = 0;
	if (store_shard_of(r->app->store, r->merchant_id, &shard) != 0 ||
	    vault_card_preseal(r->app->vault, shard, r->merchant_id, card_id, number, ret) != 0)
		ret->ok = false;
	return number;
}

int tokens_row_insert(struct req *r, struct db *db, const char *id, const char *card_id,
		      const struct vault_card_info *info, const char *fp)
{
	struct db_stmt *st = db_prepare(db, SQL_TOKEN_PUT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	db_bind_int64(st, 3, r->now);
	db_bind_text(st, 4, card_id, -1);
	db_bind_text(st, 5, info->brand, -1);
	db_bind_text(st, 6, info->last4, -1);
	db_bind_int64(st, 7, info->exp_month);
	db_bind_int64(st, 8, info->exp_year);
	db_bind_text(st, 9, info->funding, -1);
	db_bind_text(st, 10, info->country[0] ? info->country : NULL, -1);
	db_bind_text(st, 11, fp, -1);
	db_bind_int64(st, 12, info->cvc_provided ? 1 : 0);
	db_bind_text(st, 13, r->client_ip[0] ? r->client_ip : NULL, -1);
	db_bind_text(st, 14, info->iin[0] ? info->iin : NULL, -1); /* Radar's card_bin */
	return db_step_done(st);
}

static int token_fn(struct db *db, void *p)
{
	struct token_ctx *t = p;
	struct req *r = t->r;
	char fp[24];
	if (vault_card_store(r->app->vault, db, r->merchant_id, t->card_id, t->number, &t->sealed,
			     &t->info, r->now, fp) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (tokens_row_insert(r, db, t->id, t->card_id, &t->info, fp) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (t->quiet)
		return 0;
	/* rendered from the values just inserted, as token_render would read them back (the
	 * single writer does not read its own row again) */
	struct token_view v = {
	    .id = t->id,
	    .created = r->now,
	    .card_id = t->card_id,
	    .brand = t->info.brand,
	    .last4 = t->info.last4,
	    .exp_month = t->info.exp_month,
	    .exp_year = t->info.exp_year,
	    .funding = t->info.funding,
	    .country = t->info.country,
	    .fingerprint = fp,
	    .cvc_provided = t->info.cvc_provided,
	    .client_ip = r->client_ip[0] ? r->client_ip : NULL,
	    .used = false,
	};
	render_view(r, &v);
	return 0;
}

/* ---- a token of a platform customer's card, for a connected account (Connect's "shared
 * customers"): POST /v1/tokens with customer (and card, one of its cards; else its default
 * source) and Stripe-Account. The card is sealed again by the vault for the account
 * (pm_clone.c), and the token is the account's, for its own charges. ---- */

struct customer_token_ctx {
	struct req *r;
	const char *customer, *card;
	char id[ID_MAX], card_id[ID_MAX];
};

static int customer_token_fn(struct db *db, void *p)
{
	struct customer_token_ctx *c = p;
	struct req *r = c->r;
	char def[ID_MAX] = "";
	const char *src = c->card;
	if (!src) {
		/* the platform's customer: read in the platform's scope */
		char self[ID_MAX];
		str_copy(self, sizeof(self), r->merchant_id);
		str_copy(r->merchant_id, sizeof(r->merchant_id), r->platform_id);
		int rc = customer_default_source(r, db, c->customer, "customer", def);
		str_copy(r->merchant_id, sizeof(r->merchant_id), self);
		if (rc != 0)
			return -1;
		if (!def[0])
			return req_fail(r, ERR_PARAM_BAD, "customer",
					"The customer %s has no default source: name one of its "
					"cards with card.",
					c->customer);
		src = def;
	}
	if (strncmp(src, "card_", 5) != 0 && strncmp(src, "pm_", 3) != 0)
		return req_fail(r, ERR_PARAM_BAD, c->card ? "card" : "customer",
				"Only a card can be made into a token; %s is not one.", src);
	struct vault_card_info info;
	char fp[24];
	const char *billing = NULL;
	if (pm_clone_card(r, db, src, c->customer, c->card ? "card" : "customer", c->card_id, &info,
			  fp, &billing) != 0)
		return -1;
	if (tokens_row_insert(r, db, c->id, c->card_id, &info, fp) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	struct token_view v = {
	    .id = c->id,
	    .created = r->now,
	    .card_id = c->card_id,
	    .brand = info.brand,
	    .last4 = info.last4,
	    .exp_month = info.exp_month,
	    .exp_year = info.exp_year,
	    .funding = info.funding,
	    .country = info.country,
	    .fingerprint = fp,
	    .cvc_provided = false,
	    .client_ip = r->client_ip[0] ? r->client_ip : NULL,
	    .used = false,
	};
	render_view(r, &v);
	return 0;
}

static int customer_token_create(struct req *r)
{
	if (pm_clone_allowed(r, "customer") != 0)
		return -1;
	const struct form_node *card = param_node(r, "card");
	if (card && card->kind != FORM_SCALAR)
		return req_fail(r, ERR_PARAM_BAD, "card",
				"With customer, card is the id of one of the customer's cards, not "
				"card details.");
	struct customer_token_ctx c = {.r = r, .customer = param_str(r, "customer")};
	c.card = card && card->value[0] ? card->value : NULL;
	if (!c.customer || !*c.customer)
		return req_fail(r, ERR_PARAM_MISSING, "customer", "%s", "customer");
	id_new(c.id, "tok_");
	id_new(c.card_id, "card_");
	return req_write(r, customer_token_fn, &c);
}
static int cvc_h_create(struct req *r);

int tokens_h_create(struct req *r)
{
	/* account[…], person[…] and pii[…] make Connect's tokens (connect_tokens.c),
	 * bank_account[…] a bank account token (btok_, external_accounts.c) */
	if (param_present(r, "account") || param_present(r, "person") || param_present(r, "pii") ||
	    (param_present(r, "bank_account") && param_present(r, "card")))
		return connect_tokens_h_create(r);
	if (param_present(r, "cvc_update"))
		return cvc_h_create(r);
	if (param_present(r, "bank_account"))
		return bank_tokens_h_create(r);
	if (param_present(r, "customer"))
		return customer_token_create(r);
	if (!param_present(r, "card"))
		return req_fail(r, ERR_PARAM_MISSING, "card", "%s", "card");
	if (param_node(r, "card")->kind == FORM_SCALAR)
		return req_fail(r, ERR_PARAM_BAD, "card",
				"card may be a card's id only together with customer (a platform "
				"customer's card for a connected account); otherwise card[number], "
				"card[exp_month] and card[exp_year].");
	struct token_ctx t;
	memset(&t, 0, sizeof(t));
	t.r = r;
	if (tokens_card_params(r, &t.info) != 0)
		return -1;
	id_new(t.id, "tok_");
	id_new(t.card_id, "card_");
	t.number = tokens_card_preseal(r, t.card_id, &t.sealed);
	return req_write(r, token_fn, &t);
}

static int token_quiet_fn(struct db *db, void *p)
{
	struct token_ctx *t = p;
	t->rc = token_fn(db, p);
	return t->rc == 0 ? 0 : -1;
}

int tokens_create_for_payment(struct req *r, char ret_id[ID_MAX])
{
	struct token_ctx t;
	memset(&t, 0, sizeof(t));
	t.r = r;
	t.quiet = true;
	if (tokens_card_params(r, &t.info) != 0)
		return -1;
	id_new_at(t.id, "tok_", r->now);
	id_new(t.card_id, "card_");
	t.number = tokens_card_preseal(r, t.card_id, &t.sealed);
	/* A write of its own, not req_write: the request's idempotent answer is the payment's,
	 * saved with the payment's write (as payment_method_data's PaymentMethod is made) */
	int wrc = store_write(r->app->store, r->merchant_id, token_quiet_fn, &t);
	if (t.rc != 0)
		return -1;
	if (wrc != 0)
		return req_fail(r, wrc == STORE_OVERLOADED ? ERR_OVERLOADED : ERR_API, NULL, NULL);
	str_copy(ret_id, ID_MAX, t.id);
	return 0;
}

/* ---- cvc_update tokens ---- */

static const char SQL_CVC_PUT[] = "INSERT INTO cvc_tokens (merchant_id, id, created, client_ip)"
				  " VALUES ($1, $2, $3, $4)";
static const char SQL_CVC_GET[] = "SELECT created, client_ip, used FROM cvc_tokens"
				  " WHERE merchant_id = $1 AND id = $2";
static const char SQL_CVC_USE[] = "UPDATE cvc_tokens SET used = 1"
				  " WHERE merchant_id = $1 AND id = $2 AND used = 0";

static void cvc_render(struct req *r, const char *id, int64_t created, const char *client_ip,
		       bool used)
{
	struct json *j = req_json(r);
	json_obj_open(j);
	json_kv_str(j, "id", id);
	json_kv_str(j, "object", "token");
	json_kv_str_or_null(j, "client_ip", client_ip);
	json_kv_int(j, "created", created);
	json_kv_bool(j, "livemode", r->livemode);
	json_kv_str(j, "type", "cvc_update");
	json_kv_bool(j, "used", used);
	json_obj_close(j);
}

struct cvc_ctx {
	struct req *r;
	char id[ID_MAX];
};

static int cvc_fn(struct db *db, void *p)
{
	struct cvc_ctx *c = p;
	struct req *r = c->r;
	struct db_stmt *st = db_prepare(db, SQL_CVC_PUT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	const char *ip = r->client_ip[0] ? r->client_ip : NULL;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, c->id, -1);
	db_bind_int64(st, 3, r->now);
	db_bind_text(st, 4, ip, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	cvc_render(r, c->id, r->now, ip, false);
	return 0;
}

static int cvc_h_create(struct req *r)
{
	if (param_present(r, "card") || param_present(r, "bank_account") ||
	    param_present(r, "customer"))
		return req_fail(r, ERR_PARAM_BAD, "cvc_update",
				"cvc_update makes a token of a CVC alone: send it without card, "
				"bank_account or customer.");
	/* the vault's rule; the error names the parameter, never the value */
	if (vault_cvc_validate(param_str(r, "cvc_update.cvc")) != 0)
		return req_fail(r, ERR_CARD_INVALID_CVC, "cvc_update[cvc]", NULL);
	struct cvc_ctx c = {.r = r};
	id_new(c.id, "cvctok_");
	return req_write(r, cvc_fn, &c);
}

/* the token's row: DB_OK (used set), DB_NOTFOUND, or < 0 */
static int cvc_load(struct req *r, struct db *db, const char *id, int64_t *created,
		    const char **client_ip, bool *used)
{
	struct db_stmt *st = db_prepare(db, SQL_CVC_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		*created = db_col_int64(st, 0);
		const char *ip = db_col_text(st, 1, NULL);
		*client_ip = ip ? arena_strdup(&r->arena, ip) : NULL;
		*used = db_col_int64(st, 2) != 0;
	}
	db_reset(st);
	return rc == DB_ROW ? DB_OK : rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
}

int tokens_cvc_check(struct req *r, struct db *db, const char *id, const char *param)
{
	int64_t created;
	const char *ip;
	bool used = false;
	int rc = strncmp(id, "cvctok_", 7) == 0 ? cvc_load(r, db, id, &created, &ip, &used)
						: DB_NOTFOUND;
	if (rc == DB_NOTFOUND)
		return req_fail(r, ERR_RESOURCE_MISSING, param, "No such token: '%s'", id);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (used)
		return req_fail(r, ERR_TOKEN_USED, param, "%s", id);
	return 0;
}

int tokens_cvc_use(struct req *r, struct db *db, const char *id, const char *param)
{
	struct db_stmt *st = db_prepare(db, SQL_CVC_USE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int64_t n = 0;
	if (db_step_changes(st, &n) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (n == 1)
		return 0;
	/* used (or unknown) since the check: its error, or token_already_used */
	return tokens_cvc_check(r, db, id, param) != 0
		   ? -1
		   : req_fail(r, ERR_TOKEN_USED, param, "%s", id);
}

struct token_id_ctx {
	struct req *r;
	const char *id;
};

static int token_retrieve_fn(struct db *db, void *p)
{
	struct token_id_ctx *x = p;
	if (strncmp(x->id, "cvctok_", 7) == 0) {
		int64_t created;
		const char *ip;
		bool used;
		int rc = cvc_load(x->r, db, x->id, &created, &ip, &used);
		if (rc == DB_NOTFOUND)
			return req_fail_missing(x->r, "token", x->id, "token");
		if (rc != DB_OK)
			return req_fail(x->r, ERR_API, NULL, NULL);
		cvc_render(x->r, x->id, created, ip, used);
		return 0;
	}
	return token_render(x->r, db, x->id);
}

int tokens_h_retrieve(struct req *r)
{
	if (strncmp(r->args[0], "btok_", 5) == 0)
		return bank_tokens_h_retrieve(r);
	if (connect_token_id(r->args[0]))
		return connect_tokens_h_retrieve(r);
	struct token_id_ctx x = {r, r->args[0]};
	return req_read(r, token_retrieve_fn, &x) == 0 ? 0 : -1;
}

/*
 * Ephemeral keys (/v1/ephemeral_keys) and customer sessions (/v1/customer_sessions): the keys
 * Stripe's mobile PaymentSheet and Customer Sheet work with a customer through. The merchant's
 * server makes one for one customer and hands its secret to the app, which then calls the API
 * with it as its key. Such a request is scoped to that customer (r->scope_customer): the
 * framework lets it reach only the routes flagged ROUTE_EPHEMERAL (read the customer, list,
 * retrieve, attach, detach and update its PaymentMethods) and refuses every other route with
 * Stripe's 403 "does not have the required permissions"; those handlers answer 404 for another
 * customer's objects (req_scope_customer), as if they did not exist.
 *
 * The secret is shown once, in the create's answer, and kept only as its SHA-256 (as API keys
 * are: merchant_key_hash), so neither the store nor a log nor the idempotency record of a later
 * request holds it in clear. The create's own answer does hold it, as the answer to an
 * Idempotency-Key must replay byte for byte; so the create takes no Idempotency-Key
 * (ROUTE_READ_ONLY: a retried create makes a second key, which is harmless).
 *
 * The secret carries its merchant's id (base64url of "acct_…,random", the shape of Stripe's
 * own), so that authentication reads the right shard directly. An ephemeral key lives an hour,
 * a customer session 30 minutes; DELETE /v1/ephemeral_keys/{id} moves expires to now. A key of
 * a customer deleted since stops working. Stripe sends no events for either object, so
 * neither does Tender.
 *
 * Stripe refuses an ephemeral key create without a Stripe-Version header (the key's object
 * differs between versions and the mobile SDK names the version it speaks); stripe-node sends
 * the `apiVersion` its caller must pass for this call as that header.
 */
#include "api/ephemeral_keys.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "api/common.h"
#include "api/resources.h"
#include "app.h"
#include "core/str.h"
#include "http/form.h"
#include "merchant/merchant.h"
#include "store/db.h"
#include "store/store.h"

#define EPHKEY_RANDOM_CHARS 32

static const char PREFIX_TEST[] = "ek_test_";
static const char PREFIX_LIVE[] = "ek_live_";
static const char PREFIX_SESSION[] = "cuss_secret_";

/* ---- secrets ---- */

int ephkey_secret_new(const char *merchant_id, bool session, bool livemode, char *out,
		      size_t outlen)
{
	char raw[ID_MAX + 1 + EPHKEY_RANDOM_CHARS + 1];
	size_t ml = strnlen(merchant_id, ID_MAX);
	if (ml == 0 || ml >= ID_MAX || strchr(merchant_id, ',') || outlen < EPHKEY_SECRET_MAX)
		return -1;
	memcpy(raw, merchant_id, ml);
	raw[ml] = ',';
	id_random_base62(raw + ml + 1, EPHKEY_RANDOM_CHARS);
	size_t rl = ml + 1 + EPHKEY_RANDOM_CHARS;
	raw[rl] = '\0';
	unsigned char enc[4 * ((sizeof(raw) + 2) / 3) + 1];
	int el = EVP_EncodeBlock(enc, (const unsigned char *)raw, (int)rl);
	OPENSSL_cleanse(raw, sizeof(raw));
	if (el <= 0)
		return -1;
	while (el > 0 && enc[el - 1] == '=')
		el--;
	for (int i = 0; i < el; i++) {
		if (enc[i] == '+')
			enc[i] = '-';
		else if (enc[i] == '/')
			enc[i] = '_';
	}
	const char *prefix = session ? PREFIX_SESSION : livemode ? PREFIX_LIVE : PREFIX_TEST;
	int n = snprintf(out, outlen, "%s%.*s", prefix, el, (const char *)enc);
	OPENSSL_cleanse(enc, sizeof(enc));
	return n > 0 && (size_t)n < outlen ? 0 : -1;
}

bool ephkey_secret_shaped(const char *key)
{
	return strncmp(key, PREFIX_TEST, sizeof(PREFIX_TEST) - 1) == 0 ||
	       strncmp(key, PREFIX_LIVE, sizeof(PREFIX_LIVE) - 1) == 0 ||
	       strncmp(key, PREFIX_SESSION, sizeof(PREFIX_SESSION) - 1) == 0;
}

int ephkey_secret_parse(const char *secret, char ret_merchant[ID_MAX], bool *ret_session)
{
	bool session = strncmp(secret, PREFIX_SESSION, sizeof(PREFIX_SESSION) - 1) == 0;
	if (!session && !ephkey_secret_shaped(secret))
		return -1;
	const char *b = secret + (session ? sizeof(PREFIX_SESSION) - 1 : sizeof(PREFIX_TEST) - 1);
	size_t n = strnlen(b, EPHKEY_SECRET_MAX);
	if (n < 8 || n >= EPHKEY_SECRET_MAX)
		return -1;
	/* back to standard base64 with its padding, for EVP_DecodeBlock */
	unsigned char in[EPHKEY_SECRET_MAX + 4];
	for (size_t i = 0; i < n; i++) {
		char ch = b[i];
		if (ch == '-')
			ch = '+';
		else if (ch == '_')
			ch = '/';
		else if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
			   (ch >= '0' && ch <= '9')))
			return -1;
		in[i] = (unsigned char)ch;
	}
	if (n % 4 == 1)
		return -1;
	size_t pad = (4 - n % 4) % 4;
	for (size_t i = 0; i < pad; i++)
		in[n + i] = '=';
	unsigned char dec[EPHKEY_SECRET_MAX];
	int dl = EVP_DecodeBlock(dec, in, (int)(n + pad));
	int rc = -1;
	if (dl <= 0)
		goto out;
	dl -= (int)pad; /* EVP_DecodeBlock counts padding bytes as output */
	const unsigned char *comma = memchr(dec, ',', (size_t)dl);
	if (!comma)
		goto out;
	size_t ml = (size_t)(comma - dec);
	if (ml == 0 || ml >= ID_MAX || (size_t)dl - ml - 1 != EPHKEY_RANDOM_CHARS ||
	    memchr(dec, '\0', ml))
		goto out;
	char m[ID_MAX];
	memcpy(m, dec, ml);
	m[ml] = '\0';
	/* only an account id's shape reaches the store (a forged one is then merely unknown) */
	if (!id_valid(m, "acct_"))
		goto out;
	memcpy(ret_merchant, m, ml + 1);
	*ret_session = session;
	rc = 0;
out:
	OPENSSL_cleanse(in, sizeof(in));
	OPENSSL_cleanse(dec, sizeof(dec));
	return rc;
}

int64_t ephkey_expires_at(int64_t created, int64_t ttl_s)
{
	int64_t e;
	if (__builtin_add_overflow(created, ttl_s, &e))
		return INT64_MAX;
	return e;
}

bool ephkey_usable(int64_t expires, int64_t now)
{
	return now < expires;
}

/* ---- authentication ---- */

/* the key's object still there: its customer (not deleted), or the Issuing card (not canceled)
 * or Identity VerificationSession an ephemeral key may be for instead (their ids' prefixes tell
 * them apart: the `customer` column holds whichever it is) */
static const char SQL_AUTH[] =
    "SELECT k.customer, k.expires, k.livemode FROM ephemeral_keys k"
    " WHERE k.merchant_id = $1 AND k.secret_hash = $2 AND k.kind = $3"
    " AND (EXISTS (SELECT 1 FROM customers c WHERE c.merchant_id = $1 AND c.id = k.customer"
    " AND c.deleted = 0) OR EXISTS (SELECT 1 FROM issuing_cards i WHERE i.merchant_id = $1"
    " AND i.id = k.customer AND i.status <> 'canceled') OR EXISTS (SELECT 1 FROM"
    " identity_verification_sessions v WHERE v.merchant_id = $1 AND v.id = k.customer))";

struct auth_ctx {
	const char *merchant_id, *hash, *kind;
	int64_t now;
	struct ephkey_auth *out;
	int found;
};

static int auth_fn(struct db *db, void *p)
{
	struct auth_ctx *c = p;
	c->found = 0;
	struct db_stmt *st = db_prepare(db, SQL_AUTH);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, c->merchant_id, -1);
	db_bind_text(st, 2, c->hash, -1);
	db_bind_text(st, 3, c->kind, -1);
	int rc = db_step(st);
	if (rc == DB_ROW && ephkey_usable(db_col_int64(st, 1), c->now)) {
		const char *cus = db_col_text(st, 0, NULL);
		str_copy(c->out->customer, sizeof(c->out->customer), cus ? cus : "");
		c->out->livemode = db_col_int64(st, 2) != 0;
		c->found = c->out->customer[0] != '\0';
	}
	db_reset(st);
	return rc == DB_ROW || rc == DB_DONE ? 0 : rc;
}

/* merchants are authoritative on shard 0 (as api_keys are): an id that is not there is not
 * looked for on a shard (the PostgreSQL store would wait for an unknown merchant to arrive) */
static const char SQL_MERCHANT[] = "SELECT 1 FROM merchants WHERE id = $1";

struct merchant_ctx {
	const char *merchant_id;
	int found;
};

static int merchant_fn(struct db *db, void *p)
{
	struct merchant_ctx *c = p;
	c->found = 0;
	struct db_stmt *st = db_prepare(db, SQL_MERCHANT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, c->merchant_id, -1);
	int rc = db_step(st);
	c->found = rc == DB_ROW;
	db_reset(st);
	return rc == DB_ROW || rc == DB_DONE ? 0 : rc;
}

int ephkey_authenticate(struct store *s, const char *secret, int64_t now, struct ephkey_auth *ret)
{
	char merchant[ID_MAX];
	bool session = false;
	if (ephkey_secret_parse(secret, merchant, &session) != 0)
		return 1;
	struct merchant_ctx mc = {.merchant_id = merchant};
	int mrc = store_read(s, NULL, merchant_fn, &mc);
	if (mrc != 0)
		return mrc < 0 ? mrc : -1;
	if (!mc.found)
		return 1;
	char hash[65];
	merchant_key_hash(secret, hash);
	struct ephkey_auth a;
	memset(&a, 0, sizeof(a));
	struct auth_ctx c = {.merchant_id = merchant,
			     .hash = hash,
			     .kind = session ? "customer_session" : "ephemeral_key",
			     .now = now,
			     .out = &a};
	int rc = store_read(s, merchant, auth_fn, &c);
	if (rc != 0)
		return rc < 0 ? rc : -1;
	if (!c.found)
		return 1;
	str_copy(a.merchant_id, sizeof(a.merchant_id), merchant);
	*ret = a;
	return 0;
}

/* ---- the API ---- */

static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

static const struct param_spec create_params[] = {
    {"customer", PT_STRING, 0, 5000, NULL, NULL},
    {"issuing_card", PT_STRING, 0, 5000, NULL, NULL},
    {"verification_session", PT_STRING, 0, 5000, NULL, NULL},
    {"nonce", PT_STRING, 0, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

/* What an ephemeral key is for, by its object's id: Stripe's associated_objects type, the object
 * name of a 404 for it, and the query that finds it (live) among the merchant's. */
struct ek_object {
	const char *prefix, *type, *name, *param, *sql;
};
static const struct ek_object ek_objects[] = {
    {"cus_", "customer", "customer", "customer",
     "SELECT 1 FROM customers WHERE merchant_id = $1 AND id = $2 AND deleted = 0"},
    {"ic_", "issuing.card", "issuing.card", "issuing_card",
     "SELECT 1 FROM issuing_cards WHERE merchant_id = $1 AND id = $2 AND status <> 'canceled'"},
    {"vs_", "identity.verification_session", "verification_session", "verification_session",
     "SELECT 1 FROM identity_verification_sessions WHERE merchant_id = $1 AND id = $2"},
};

static const struct ek_object *ek_object_of(const char *id)
{
	for (size_t i = 1; i < sizeof(ek_objects) / sizeof(ek_objects[0]); i++)
		if (strncmp(id, ek_objects[i].prefix, strlen(ek_objects[i].prefix)) == 0)
			return &ek_objects[i];
	return &ek_objects[0]; /* a customer's (also any id not of the others: a 404 then) */
}

static const char SQL_INSERT[] =
    "INSERT INTO ephemeral_keys (merchant_id, id, kind, customer, secret_hash, created, expires,"
    " livemode, components) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
static const char SQL_GET[] = "SELECT customer, created, expires, livemode FROM ephemeral_keys"
			      " WHERE merchant_id = $1 AND id = $2 AND kind = 'ephemeral_key'";
static const char SQL_EXPIRE[] = "UPDATE ephemeral_keys SET expires = $3"
				 " WHERE merchant_id = $1 AND id = $2 AND kind = 'ephemeral_key'"
				 " AND expires > $3";

struct ek {
	char id[ID_MAX];
	char customer[ID_MAX];
	int64_t created, expires;
	bool livemode;
};

/* secret: shown in the create's answer only; NULL leaves the field out, as Stripe does. */
static void ek_render(struct json *j, const struct ek *k, const char *secret)
{
	json_obj_open(j);
	json_kv_str(j, "id", k->id);
	json_kv_str(j, "object", "ephemeral_key");
	json_key(j, "associated_objects");
	json_arr_open(j);
	json_obj_open(j);
	json_kv_str(j, "id", k->customer);
	json_kv_str(j, "type", ek_object_of(k->customer)->type);
	json_obj_close(j);
	json_arr_close(j);
	json_kv_int(j, "created", k->created);
	json_kv_int(j, "expires", k->expires);
	json_kv_bool(j, "livemode", k->livemode);
	if (secret)
		json_kv_str(j, "secret", secret);
	json_obj_close(j);
}

/* The key's object (a customer; for an ephemeral key, an Issuing card or an Identity
 * VerificationSession too) is one of the merchant's, live: else Stripe's 404 on its parameter. */
static int customer_exists(struct req *r, struct db *db, const char *customer,
			   const struct ek_object *o)
{
	struct db_stmt *st = db_prepare(db, o->sql);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, customer, -1);
	int rc = db_step(st);
	db_reset(st);
	if (rc == DB_DONE)
		return req_fail_missing(r, o->name, customer, o->param);
	return rc == DB_ROW ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

struct create_ctx {
	struct req *r;
	const char *kind;
	const char *customer;
	const char *components; /* customer sessions: the components object's JSON */
	struct ek k;
	char secret[EPHKEY_SECRET_MAX];
	char hash[65];
};

static int insert_fn(struct db *db, void *p)
{
	struct create_ctx *x = p;
	struct req *r = x->r;
	/* a customer session is always a customer's */
	if (customer_exists(r, db, x->customer,
			    x->components ? &ek_objects[0] : ek_object_of(x->customer)) != 0)
		return -1;
	struct db_stmt *st = db_prepare(db, SQL_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, x->k.id, -1);
	db_bind_text(st, 3, x->kind, -1);
	db_bind_text(st, 4, x->customer, -1);
	db_bind_text(st, 5, x->hash, -1);
	db_bind_int64(st, 6, x->k.created);
	db_bind_int64(st, 7, x->k.expires);
	db_bind_int64(st, 8, x->k.livemode ? 1 : 0);
	if (x->components)
		db_bind_text(st, 9, x->components, -1);
	else
		db_bind_null(st, 9);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	struct json *j = req_json(r);
	if (x->components) {
		json_obj_open(j);
		json_kv_str(j, "object", "customer_session");
		json_kv_str(j, "client_secret", x->secret);
		json_key(j, "components");
		json_raw(j, x->components, strlen(x->components));
		json_kv_int(j, "created", x->k.created);
		json_kv_str(j, "customer", x->customer);
		json_kv_null(j, "customer_account");
		json_kv_int(j, "expires_at", x->k.expires);
		json_kv_bool(j, "livemode", x->k.livemode);
		json_obj_close(j);
	} else {
		ek_render(j, &x->k, x->secret);
	}
	return 0;
}

/* Makes the key's id and secret and writes it; the secret is wiped from ctx afterwards (the
 * answer in r->out is its only copy). */
static int create_key(struct req *r, struct create_ctx *x, bool session, int64_t ttl_s)
{
	id_new_at(x->k.id, session ? "cuss_" : "ephkey_", r->now);
	str_copy(x->k.customer, sizeof(x->k.customer), x->customer);
	x->k.created = r->now;
	x->k.expires = ephkey_expires_at(r->now, ttl_s);
	x->k.livemode = r->livemode;
	if (ephkey_secret_new(r->merchant_id, session, r->livemode, x->secret, sizeof(x->secret)) !=
	    0)
		return req_fail(r, ERR_API, NULL, NULL);
	merchant_key_hash(x->secret, x->hash);
	int rc = req_write(r, insert_fn, x);
	OPENSSL_cleanse(x->secret, sizeof(x->secret));
	return rc;
}

static int h_create(struct req *r)
{
	if (!r->stripe_version || !*r->stripe_version)
		return req_fail(r, ERR_PARAM_BAD, NULL,
				"Stripe-Version header is required when creating ephemeral keys: "
				"pass the API version your mobile SDK uses (e.g. 'Stripe-Version: "
				"2020-08-27').");
	/* one object: a customer, an Issuing card (its app's card details, push provisioning) or
	 * an Identity VerificationSession (Stripe's Identity mobile SDK); the key reads it alone */
	static const char *const objects[] = {"customer", "issuing_card", "verification_session"};
	const char *object = NULL, *param = NULL;
	for (size_t i = 0; i < sizeof(objects) / sizeof(objects[0]); i++) {
		const char *v = param_str(r, objects[i]);
		if (!v || !*v)
			continue;
		if (object)
			return req_fail(r, ERR_PARAM_BAD, objects[i],
					"You may only specify one of these parameters: customer, "
					"issuing_card, verification_session.");
		object = v;
		param = objects[i];
	}
	/* a nonce is made by Stripe.js (createEphemeralKeyNonce) through an endpoint outside
	 * Stripe's public API, which Tender does not offer: none is one Tender knows */
	const char *nonce = param_str(r, "nonce");
	if (nonce)
		return req_fail(r, ERR_PARAM_RESOURCE_MISSING, "nonce",
				"No such ephemeral key nonce: '%s'", nonce);
	if (!object)
		return req_fail(r, ERR_PARAM_MISSING, "customer",
				"You must provide one of customer, issuing_card or "
				"verification_session.");
	/* the id names the object the parameter says (a card's id as customer= is not one) */
	const struct ek_object *o = ek_object_of(object);
	if (strcmp(o->param, param) != 0)
		return req_fail_missing(r,
					param[0] == 'c'	  ? "customer"
					: param[0] == 'i' ? "issuing.card"
							  : "verification_session",
					object, param);
	struct create_ctx x;
	memset(&x, 0, sizeof(x));
	x.r = r;
	x.kind = "ephemeral_key";
	x.customer = object;
	return create_key(r, &x, false, EPHKEY_TTL_S);
}

struct ek_ctx {
	struct req *r;
	const char *id;
};

static int ek_load(struct db *db, const char *merchant_id, const char *id, struct ek *k)
{
	struct db_stmt *st = db_prepare(db, SQL_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		str_copy(k->id, sizeof(k->id), id);
		const char *c = db_col_text(st, 0, NULL);
		str_copy(k->customer, sizeof(k->customer), c ? c : "");
		k->created = db_col_int64(st, 1);
		k->expires = db_col_int64(st, 2);
		k->livemode = db_col_int64(st, 3) != 0;
	}
	db_reset(st);
	return rc == DB_ROW ? DB_OK : rc == DB_DONE ? DB_NOTFOUND : rc;
}

/* DELETE: expires now (a key already expired keeps its time); the answer has no secret. */
static int delete_fn(struct db *db, void *p)
{
	struct ek_ctx *x = p;
	struct req *r = x->r;
	struct db_stmt *st = db_prepare(db, SQL_EXPIRE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, x->id, -1);
	db_bind_int64(st, 3, r->now);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	struct ek k;
	int rc = ek_load(db, r->merchant_id, x->id, &k);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "ephemeral_key", x->id, "key");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	ek_render(req_json(r), &k, NULL);
	return 0;
}

static int h_delete(struct req *r)
{
	struct ek_ctx x = {r, r->args[0]};
	return req_write(r, delete_fn, &x);
}

/* ---- customer sessions ---- */

static const struct param_spec enabled_children[] = {
    {"enabled", PT_BOOL, PF_REQUIRED, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

static const char *const components_names[] = {
    "buy_button",      "customer_sheet", "mobile_payment_element",
    "payment_element", "pricing_table",	 NULL,
};

/* components[…][features]: what Stripe's element does with the customer's saved payment
 * methods. Kept and shown as given (the defaults otherwise); Tender serves none of these
 * elements, so nothing else reads them. */
static const char *const enabled_disabled[] = {"disabled", "enabled", NULL};
static const char *const allow_redisplay[] = {"always", "limited", "unspecified", NULL};
static const struct param_spec sheet_features[] = {
    {"payment_method_allow_redisplay_filters", PT_STRING_ARRAY, 0, 0, NULL, NULL},
    {"payment_method_remove", PT_ENUM, 0, 0, enabled_disabled, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec mobile_features[] = {
    {"payment_method_allow_redisplay_filters", PT_STRING_ARRAY, 0, 0, NULL, NULL},
    {"payment_method_redisplay", PT_ENUM, 0, 0, enabled_disabled, NULL},
    {"payment_method_remove", PT_ENUM, 0, 0, enabled_disabled, NULL},
    {"payment_method_save", PT_ENUM, 0, 0, enabled_disabled, NULL},
    {"payment_method_save_allow_redisplay_override", PT_ENUM, 0, 0, allow_redisplay, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec element_features[] = {
    {"payment_method_allow_redisplay_filters", PT_STRING_ARRAY, 0, 0, NULL, NULL},
    {"payment_method_redisplay", PT_ENUM, 0, 0, enabled_disabled, NULL},
    {"payment_method_redisplay_limit", PT_INT, 0, 0, NULL, NULL},
    {"payment_method_remove", PT_ENUM, 0, 0, enabled_disabled, NULL},
    {"payment_method_save", PT_ENUM, 0, 0, enabled_disabled, NULL},
    {"payment_method_save_usage", PT_ENUM, 0, 0,
     (const char *const[]){"off_session", "on_session", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec sheet_children[] = {
    {"enabled", PT_BOOL, PF_REQUIRED, 0, NULL, NULL},
    {"features", PT_OBJECT, 0, 0, NULL, sheet_features},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec mobile_children[] = {
    {"enabled", PT_BOOL, PF_REQUIRED, 0, NULL, NULL},
    {"features", PT_OBJECT, 0, 0, NULL, mobile_features},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec element_children[] = {
    {"enabled", PT_BOOL, PF_REQUIRED, 0, NULL, NULL},
    {"features", PT_OBJECT, 0, 0, NULL, element_features},
    {NULL, 0, 0, 0, NULL, NULL},
};

static const struct param_spec components_children[] = {
    {"buy_button", PT_OBJECT, 0, 0, NULL, enabled_children},
    {"customer_sheet", PT_OBJECT, 0, 0, NULL, sheet_children},
    {"mobile_payment_element", PT_OBJECT, 0, 0, NULL, mobile_children},
    {"payment_element", PT_OBJECT, 0, 0, NULL, element_children},
    {"pricing_table", PT_OBJECT, 0, 0, NULL, enabled_children},
    {NULL, 0, 0, 0, NULL, NULL},
};

static const struct param_spec session_params[] = {
    {"customer", PT_STRING, PF_REQUIRED, 5000, NULL, NULL},
    {"components", PT_OBJECT, PF_REQUIRED, 0, NULL, components_children},
    {NULL, 0, 0, 0, NULL, NULL},
};

/* A feature's enum value as given, else dflt (NULL: null). */
static void feature_kv(struct req *r, struct json *j, const char *comp, const char *key,
		       const char *dflt)
{
	char path[160];
	snprintf(path, sizeof(path), "components.%s.features.%s", comp, key);
	const char *v = param_str(r, path);
	json_kv_str_or_null(j, key, v ? v : dflt);
}

/* payment_method_allow_redisplay_filters as given (each always, limited or unspecified, as
 * Stripe checks them), else dflt_always ? ["always"] : null. 0, or -1 with r->err. */
static int filters_kv(struct req *r, struct json *j, const char *comp, bool dflt_always)
{
	static const char key[] = "payment_method_allow_redisplay_filters";
	char path[160];
	snprintf(path, sizeof(path), "components.%s.features.%s", comp, key);
	const struct form_node *n = param_node(r, path);
	json_key(j, key);
	if (!n && !dflt_always) {
		json_nil(j);
		return 0;
	}
	json_arr_open(j);
	if (!n)
		json_str(j, "always");
	for (const struct form_node *c = n ? n->first_child : NULL; c; c = c->next) {
		const char *v = c->value;
		if (!v || (strcmp(v, "always") != 0 && strcmp(v, "limited") != 0 &&
			   strcmp(v, "unspecified") != 0))
			return req_fail(
			    r, ERR_PARAM_INVALID_ENUM,
			    arena_printf(&r->arena, "components[%s][features][%s]", comp, key),
			    "Invalid components[%s][features][%s][]: must be one of "
			    "always, limited, unspecified",
			    comp, key);
		json_str(j, v);
	}
	json_arr_close(j);
	return 0;
}

/* The features Stripe shows for a component: as given, else its defaults (the Payment
 * Element's: Stripe's documented ones; the others': null). 0, or -1 with r->err. */
static int component_features(struct req *r, struct json *j, const char *name)
{
	bool pe = strcmp(name, "payment_element") == 0;
	bool mobile = strcmp(name, "mobile_payment_element") == 0;
	if (!pe && !mobile && strcmp(name, "customer_sheet") != 0)
		return 0;
	json_key(j, "features");
	json_obj_open(j);
	if (filters_kv(r, j, name, pe) != 0)
		return -1;
	if (pe || mobile)
		feature_kv(r, j, name, "payment_method_redisplay", pe ? "disabled" : NULL);
	if (pe) {
		/* Stripe: at most 10 (its default, 3, applies when none is given: null) */
		char path[160];
		int64_t limit;
		snprintf(path, sizeof(path),
			 "components.%s.features.payment_method_redisplay_limit", name);
		int has = param_int(r, path, &limit);
		if (has == 1 && (limit < 1 || limit > 10))
			return req_fail(
			    r, ERR_PARAM_BAD,
			    "components[payment_element][features]"
			    "[payment_method_redisplay_limit]",
			    "Invalid components[payment_element][features]"
			    "[payment_method_redisplay_limit]: must be between 1 and 10.");
		if (has == 1)
			json_kv_int(j, "payment_method_redisplay_limit", limit);
		else
			json_kv_null(j, "payment_method_redisplay_limit");
	}
	feature_kv(r, j, name, "payment_method_remove", pe ? "disabled" : NULL);
	if (pe || mobile)
		feature_kv(r, j, name, "payment_method_save", pe ? "disabled" : NULL);
	if (mobile)
		feature_kv(r, j, name, "payment_method_save_allow_redisplay_override", NULL);
	if (pe)
		feature_kv(r, j, name, "payment_method_save_usage", NULL);
	json_obj_close(j);
	return 0;
}

/* The components object as Stripe answers it (every component, enabled or not) in arena
 * memory; -1 with r->err when none is enabled. */
static int components_json(struct req *r, const char **ret)
{
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 14);
	json_init(&j, &b);
	json_obj_open(&j);
	int enabled_count = 0;
	char path[64];
	for (const char *const *n = components_names; *n; n++) {
		bool on = false;
		snprintf(path, sizeof(path), "components.%s.enabled", *n);
		if (param_bool(r, path, &on) == 1 && on)
			enabled_count++;
		json_key_n(&j, *n, strlen(*n), false);
		json_obj_open(&j);
		json_kv_bool(&j, "enabled", on);
		if (component_features(r, &j, *n) != 0) {
			buf_release(&b);
			return -1;
		}
		json_obj_close(&j);
	}
	json_obj_close(&j);
	const char *s = b.failed ? NULL : arena_strdup(&r->arena, b.data);
	buf_release(&b);
	if (!s)
		return req_fail(r, ERR_API, NULL, NULL);
	if (enabled_count == 0)
		return req_fail(r, ERR_PARAM_BAD, "components",
				"At least one component must be enabled.");
	*ret = s;
	return 0;
}

static int h_session_create(struct req *r)
{
	struct create_ctx x;
	memset(&x, 0, sizeof(x));
	x.r = r;
	x.kind = "customer_session";
	x.customer = param_str(r, "customer");
	if (components_json(r, &x.components) != 0)
		return -1;
	return create_key(r, &x, true, CUSTOMER_SESSION_TTL_S);
}

const struct route ephemeral_keys_routes[] = {
    /* ROUTE_READ_ONLY: no Idempotency-Key record, which would keep the secret (see above) */
    {"POST", "/v1/ephemeral_keys", h_create, create_params, ROUTE_READ_ONLY | ROUTE_STRIPE_VERSION},
    {"DELETE", "/v1/ephemeral_keys/{id}", h_delete, no_params, 0},
    {"POST", "/v1/customer_sessions", h_session_create, session_params, ROUTE_READ_ONLY},
    {NULL, NULL, NULL, NULL, 0},
};

#include "http/idempotency.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/digest.h"
#include "core/str.h"
#include "events/pack.h"
#include "http/form.h"
#include "app.h"
#include "http/req.h"
#include "store/store.h"

/*
 * The request hash covers method, path and every parameter in order, except card numbers,
 * CVCs, bank account numbers, IBANs (SEPA), identity numbers (Connect) and Apps' secrets
 * (`payload` as a scalar; a billing meter event's payload is a hash, and stays): a hash of a
 * request that carries a PAN would be a way to test guesses of that PAN, so those values never
 * enter it (a retry that changes only the card number is therefore treated as the same request:
 * the first result replays, which is the safe direction).
 */
static void hash_node(EVP_MD_CTX *md, const struct form_node *n, int depth)
{
	for (const struct form_node *c = n->first_child; c; c = c->next) {
		EVP_DigestUpdate(md, "\x01", 1);
		EVP_DigestUpdate(md, c->key, c->key_len);
		if (c->kind == FORM_SCALAR) {
			if (strcmp(c->key, "number") == 0 || strcmp(c->key, "cvc") == 0 ||
			    strcmp(c->key, "account_number") == 0 || strcmp(c->key, "iban") == 0 ||
			    strcmp(c->key, "id_number") == 0 ||
			    strcmp(c->key, "id_number_secondary") == 0 ||
			    strcmp(c->key, "payload") == 0)
				continue;
			EVP_DigestUpdate(md, "\x02", 1);
			EVP_DigestUpdate(md, c->value, c->value_len);
		} else if (depth < 16) {
			EVP_DigestUpdate(md, c->kind == FORM_ARRAY ? "\x03" : "\x04", 1);
			hash_node(md, c, depth + 1);
			EVP_DigestUpdate(md, "\x05", 1);
		}
	}
}

void idem_hash_request(struct req *r)
{
	unsigned char d[32];
	unsigned int dl = 0;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_DigestInit_ex2(md, digest_sha256(), NULL);
	EVP_DigestUpdate(md, r->method, strlen(r->method));
	EVP_DigestUpdate(md, " ", 1);
	EVP_DigestUpdate(md, r->path, strlen(r->path));
	if (r->params)
		hash_node(md, r->params, 0);
	EVP_DigestFinal_ex(md, d, &dl);
	EVP_MD_CTX_free(md);
	digest_hex(d, sizeof(d), r->idem_hash);
}

static const char SQL_GET[] =
    "SELECT i.request_hash, i.request_id, i.status, " IDEM_ANSWER_SQL IDEM_ANSWER_JOIN
    " WHERE i.merchant_id = $1 AND i.livemode = $2 AND i.idem_key = $3 AND i.created > $4";

struct lookup_ctx {
	struct req *r;
	int found;
	int mismatch;
};

static int lookup_fn(struct db *db, void *p)
{
	struct lookup_ctx *c = p;
	struct req *r = c->r;
	struct db_stmt *st = db_prepare(db, SQL_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_int64(st, 2, r->livemode);
	db_bind_text(st, 3, r->idempotency_key, -1);
	db_bind_int64(st, 4, r->now - IDEMPOTENCY_TTL_S);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		const char *h = db_col_text(st, 0, NULL);
		if (!h || strcmp(h, r->idem_hash) != 0) {
			c->mismatch = 1;
		} else {
			c->found = 1;
			const char *rid = db_col_text(st, 1, NULL);
			str_copy(r->original_request, sizeof(r->original_request), rid);
			r->status = (int)db_col_int64(st, 2);
			size_t n = 0;
			const char *body = db_col_text(st, 3, &n);
			buf_reset(&r->out);
			/* an event's object may be packed (events/pack.h): unpacked straight into
			 * the answer */
			const char *json = NULL;
			size_t len = 0;
			if (body && event_is_packed(body, n))
				rc = event_unpack(body, n, &r->out, &json, &len) == 0 ? DB_OK
										      : DB_ERR;
			else
				buf_append(&r->out, body ? body : "", n);
			/* a named event that is not there: the store is damaged, say so */
			if (!body)
				rc = DB_ERR;
		}
		if (rc == DB_ROW)
			rc = DB_OK;
	} else if (rc == DB_DONE) {
		rc = DB_OK;
	}
	db_reset(st);
	return rc;
}

int idem_lookup(struct req *r)
{
	struct lookup_ctx c = {.r = r};
	int rc = req_read(r, lookup_fn, &c);
	if (rc < 0) {
		if (!r->err.set)
			req_fail(r, ERR_API, NULL, NULL);
		return -1;
	}
	if (c.mismatch)
		return req_fail(r, ERR_IDEMPOTENCY_MISMATCH, NULL, "%s", r->idempotency_key);
	if (c.found) {
		r->replayed = true;
		return 1;
	}
	return 0;
}

static const char SQL_SAVE[] =
    "INSERT INTO idempotency_keys (merchant_id, livemode, idem_key, request_hash, request_id,"
    " status, body, created, body_event) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $10)"
    " ON CONFLICT (merchant_id, livemode, idem_key) DO UPDATE SET request_hash = "
    "excluded.request_hash,"
    " request_id = excluded.request_id, status = excluded.status, body = excluded.body,"
    " created = excluded.created, body_event = excluded.body_event"
    " WHERE idempotency_keys.created <= $9";

int idem_save(struct db *db, struct req *r)
{
	struct db_stmt *st = db_prepare(db, SQL_SAVE);
	if (!st)
		return -1;
	db_bind_text_ref(st, 1, r->merchant_id, -1);
	db_bind_int64(st, 2, r->livemode);
	db_bind_text_ref(st, 3, r->idempotency_key, -1);
	db_bind_text_ref(st, 4, r->idem_hash, -1);
	db_bind_text_ref(st, 5, r->request_id, -1);
	db_bind_int64(st, 6, r->status);
	/* An answer that is, byte for byte, the object of an event this transaction appended (a
	 * confirmed PaymentIntent is payment_intent.succeeded's) is not stored a second time:
	 * the record names the event, ~1.1 KB less to write, checkpoint and sync per payment. */
	bool by_event = r->answer_event[0] && r->status == 200 && r->out.len == r->answer_len &&
			memcmp(r->out.data, r->answer_json, r->answer_len) == 0;
	if (by_event)
		db_bind_text_ref(st, 7, "", 0);
	else
		db_bind_text_ref(st, 7, r->out.data ? r->out.data : "", (ptrdiff_t)r->out.len);
	db_bind_int64(st, 8, r->now);
	db_bind_int64(st, 9, r->now - IDEMPOTENCY_TTL_S); /* an expired record may be reused */
	db_bind_text_ref(st, 10, by_event ? r->answer_event : NULL, -1);
	int rc = db_step(st);
	int64_t changed = rc == DB_DONE ? db_changes(st) : 0;
	db_reset(st);
	if (rc != DB_DONE)
		return -1;
	return changed == 0 ? 1 : 0;
}

bool idem_error_saved(enum api_err code)
{
	int status = api_error_info(code)->status;
	if (status >= 500 || status == 401 || status == 403 || status == 409 || status == 413 ||
	    status == 429)
		return false;
	switch (code) {
	/* the parameters' own validation (params.c and the forms the handlers parse) */
	case ERR_PARAM_UNKNOWN:
	case ERR_PARAM_MISSING:
	case ERR_PARAM_INVALID_INTEGER:
	case ERR_PARAM_INVALID_STRING:
	case ERR_PARAM_INVALID:
	case ERR_PARAM_INVALID_BOOL:
	case ERR_PARAM_INVALID_ENUM:
	case ERR_PARAM_DUPLICATE:
	case ERR_MALFORMED_BODY:
	case ERR_METADATA:
	case ERR_LIST_LIMIT:
	case ERR_NOT_FOUND_ROUTE:
	case ERR_IDEMPOTENCY_MISMATCH:
	case ERR_IDEMPOTENCY_KEY_TOO_LONG:
		return false;
	default:
		return true;
	}
}

struct save_error_ctx {
	struct req *r;
	bool taken; /* another node saved a result for the key first */
};

static int save_error_fn(struct db *db, void *p)
{
	struct save_error_ctx *x = p;
	int s = idem_save(db, x->r);
	x->taken = s == 1;
	return s < 0 ? -1 : 0;
}

int idem_save_error(struct req *r)
{
	req_render_error(r);
	struct save_error_ctx x = {.r = r};
	if (store_write(r->app->store, r->merchant_id, save_error_fn, &x) != 0)
		return -1;
	if (x.taken) /* theirs is the answer */
		return idem_lookup(r) == 1 ? 0 : -1;
	return 0;
}

/*
 * Pruning. PostgreSQL finds expired records through idempotency_keys_created. SQLite has no such
 * index (migration 0023: one B-tree insert fewer for every keyed request): its records sit in
 * rowid order, which is the order they were first saved, so the oldest are at the front; each
 * pass looks at the IDEM_PRUNE_WINDOW oldest and deletes the expired ones among them. A record
 * reused after it expired (idem_save's upsert) keeps its old rowid with a new `created`: it
 * stays, and the passes go on past it. Only IDEM_PRUNE_WINDOW such live records in a row at the
 * front would hold pruning back, until they expire in their turn. IDEM_PRUNE_WINDOW is the 1024
 * in the two SQLite statements below.
 */
static const char SQL_PRUNE_PG[] =
    "DELETE FROM idempotency_keys WHERE (merchant_id, livemode, idem_key) IN ("
    " SELECT merchant_id, livemode, idem_key FROM idempotency_keys WHERE created < $1"
    " LIMIT $2)";
static const char SQL_PRUNE_SQLITE[] =
    "DELETE FROM idempotency_keys WHERE rowid IN (SELECT rowid FROM (SELECT rowid, created"
    " FROM idempotency_keys ORDER BY rowid LIMIT 1024) WHERE created < $1 LIMIT $2)";
/* $1 = the expiry cut (now - TTL) */
static const char SQL_PRUNE_DUE_PG[] = "SELECT 1 FROM idempotency_keys WHERE created < $1 LIMIT 1";
static const char SQL_PRUNE_DUE_SQLITE[] = "SELECT 1 FROM (SELECT created FROM idempotency_keys"
					   " ORDER BY rowid LIMIT 1024) WHERE created < $1 LIMIT 1";

int idem_prune(struct db *db, int64_t now, int64_t batch_max)
{
	struct db_stmt *st =
	    db_prepare(db, db_kind(db) == DB_POSTGRES ? SQL_PRUNE_PG : SQL_PRUNE_SQLITE);
	if (!st)
		return -1;
	db_bind_int64(st, 1, now - IDEMPOTENCY_TTL_S);
	db_bind_int64(st, 2, batch_max);
	int rc = db_step(st);
	int64_t n = rc == DB_DONE ? db_changes(st) : -1;
	db_reset(st);
	return (int)n;
}

int idem_prune_due(struct db *db, int64_t now)
{
	struct db_stmt *st =
	    db_prepare(db, db_kind(db) == DB_POSTGRES ? SQL_PRUNE_DUE_PG : SQL_PRUNE_DUE_SQLITE);
	if (!st)
		return -1;
	db_bind_int64(st, 1, now - IDEMPOTENCY_TTL_S);
	int rc = db_step(st);
	db_reset(st);
	return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : -1;
}

/*
 * In-process claims: a small open-addressing set of "merchant|mode|key" strings. Bounded: when
 * full, new keyed requests get 409 and the SDK retries them.
 */
#define CLAIMS_MAX 8192

static pthread_mutex_t claims_mu = PTHREAD_MUTEX_INITIALIZER;
static char *claims[CLAIMS_MAX];
static size_t claims_len;

/*
 * Release generations: a keyed POST looks its key up before claiming it (on the epoll thread) and
 * must look again after the claim only if a request with the same key finished in between: its
 * result was saved after our first look. Every release bumps the generation of its key's bucket
 * (under claims_mu, before the claim goes), so "the bucket's generation did not move between our
 * first look and our claim" proves no such request finished, and the second read transaction is
 * skipped. Another key in the same bucket only costs that second look.
 */
#define GEN_BUCKETS 4096
static _Atomic uint32_t release_gen[GEN_BUCKETS];

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

/* The claim's name, built once per request: the generation note, the claim and the release all
 * use it (the merchant and the key do not change after authentication). */
static const char *claim_name(struct req *r)
{
	if (!r->idem_name)
		r->idem_name = arena_printf(&r->arena, "%s|%d|%s", r->merchant_id,
					    r->livemode ? 1 : 0, r->idempotency_key);
	return r->idem_name;
}

void idem_note_generation(struct req *r)
{
	const char *name = claim_name(r);
	r->idem_gen = name ? atomic_load(&release_gen[fnv1a(name) & (GEN_BUCKETS - 1)]) : 0;
}

int idem_claim(struct req *r)
{
	const char *name = claim_name(r);
	if (!name)
		return req_fail(r, ERR_API, NULL, NULL);
	uint64_t hash = fnv1a(name);
	pthread_mutex_lock(&claims_mu);
	r->idem_changed = atomic_load(&release_gen[hash & (GEN_BUCKETS - 1)]) != r->idem_gen;
	if (claims_len * 2 >= CLAIMS_MAX) {
		pthread_mutex_unlock(&claims_mu);
		return req_fail(r, ERR_IDEMPOTENCY_IN_USE, NULL, "%s", r->idempotency_key);
	}
	size_t h = hash & (CLAIMS_MAX - 1);
	while (claims[h]) {
		if (strcmp(claims[h], name) == 0) {
			pthread_mutex_unlock(&claims_mu);
			return req_fail(r, ERR_IDEMPOTENCY_IN_USE, NULL, "%s", r->idempotency_key);
		}
		h = (h + 1) & (CLAIMS_MAX - 1);
	}
	claims[h] = strdup(name);
	if (!claims[h]) {
		pthread_mutex_unlock(&claims_mu);
		return req_fail(r, ERR_API, NULL, NULL);
	}
	claims_len++;
	pthread_mutex_unlock(&claims_mu);
	r->idem_claimed = true;
	return 0;
}

void idem_release(struct req *r)
{
	if (!r->idem_claimed)
		return;
	const char *name = claim_name(r);
	if (!name)
		abort(); /* cannot leave a claim behind: it would block the key forever */
	uint64_t hash = fnv1a(name);
	pthread_mutex_lock(&claims_mu);
	atomic_fetch_add(&release_gen[hash & (GEN_BUCKETS - 1)], 1);
	size_t h = hash & (CLAIMS_MAX - 1);
	while (claims[h]) {
		if (strcmp(claims[h], name) == 0)
			break;
		h = (h + 1) & (CLAIMS_MAX - 1);
	}
	if (claims[h]) {
		free(claims[h]);
		claims[h] = NULL;
		claims_len--;
		/* re-insert the rest of the probe run so later lookups still find them */
		size_t k = (h + 1) & (CLAIMS_MAX - 1);
		while (claims[k]) {
			char *c = claims[k];
			claims[k] = NULL;
			size_t j = fnv1a(c) & (CLAIMS_MAX - 1);
			while (claims[j])
				j = (j + 1) & (CLAIMS_MAX - 1);
			claims[j] = c;
			k = (k + 1) & (CLAIMS_MAX - 1);
		}
	}
	pthread_mutex_unlock(&claims_mu);
	r->idem_claimed = false;
}

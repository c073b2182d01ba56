#include "merchant/merchant.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/digest.h"
#include "core/str.h"

void merchant_key_hash(const char *key, char out[65])
{
	/* on failure out is "", which matches no key: the request is refused */
	digest_sha256_hex(key, strlen(key), out);
}

struct create_ctx {
	const char *name;
	const char *currency;
	int mcc;
	struct merchant_keys *keys;
};

static const char SQL_INSERT_MERCHANT[] =
    "INSERT INTO merchants (id, name, settlement_currency, created, mcc)"
    " VALUES ($1, $2, $3, $4, $5)";
static const char SQL_INSERT_KEY[] =
    "INSERT INTO api_keys (key_hash, merchant_id, kind, livemode, display, created)"
    " VALUES ($1, $2, $3, 0, $4, $5)";

static int insert_key(struct db *db, const char *merchant_id, const char *key, const char *kind)
{
	char hash[65];
	char display[32];
	merchant_key_hash(key, hash);
	size_t n = strlen(key);
	/* shown in listings: the prefix and the last four characters, as Stripe's dashboard does */
	snprintf(display, sizeof(display), "%.8s...%s", key, key + (n > 4 ? n - 4 : 0));
	struct db_stmt *st = db_prepare(db, SQL_INSERT_KEY);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, hash, -1);
	db_bind_text(st, 2, merchant_id, -1);
	db_bind_text(st, 3, kind, -1);
	db_bind_text(st, 4, display, -1);
	db_bind_int64(st, 5, clock_now());
	return db_step_done(st);
}

static int create_fn(struct db *db, void *p)
{
	struct create_ctx *c = p;
	struct db_stmt *st = db_prepare(db, SQL_INSERT_MERCHANT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, c->keys->id, -1);
	db_bind_text(st, 2, c->name, -1);
	db_bind_text(st, 3, c->currency, -1);
	db_bind_int64(st, 4, clock_now());
	db_bind_int64(st, 5, c->mcc);
	int rc = db_step_done(st);
	if (rc != DB_OK)
		return rc;
	rc = insert_key(db, c->keys->id, c->keys->secret_key, "secret");
	if (rc != DB_OK)
		return rc;
	return insert_key(db, c->keys->id, c->keys->publishable_key, "publishable");
}

int merchant_create(struct store *s, const char *name, const char *settlement_currency, int mcc,
		    struct merchant_keys *ret, char *err, size_t errlen)
{
	if (mcc < 0 || mcc > 9999) {
		snprintf(err, errlen, "the merchant category code must be 0 … 9999");
		return -1;
	}
	struct merchant_keys k;
	char rnd[40];
	id_new(k.id, "acct_");
	id_random_base62(rnd, 32);
	snprintf(k.secret_key, sizeof(k.secret_key), "sk_test_%s", rnd);
	id_random_base62(rnd, 32);
	snprintf(k.publishable_key, sizeof(k.publishable_key), "pk_test_%s", rnd);
	struct create_ctx c = {
	    .name = name, .currency = settlement_currency, .mcc = mcc, .keys = &k};
	int rc = store_write(s, NULL, create_fn, &c);
	if (rc != 0) {
		snprintf(err, errlen, "cannot create merchant (store error %d)", rc);
		return -1;
	}
	*ret = k;
	return 0;
}

static const char SQL_INSERT_CONNECTED[] =
    "INSERT INTO merchants (id, name, settlement_currency, created, mcc, platform)"
    " VALUES ($1, $2, $3, $4, $5, $6)";

struct connected_ctx {
	const char *platform, *id, *name, *currency;
	int mcc;
	int64_t created;
};

static int connected_fn(struct db *db, void *p)
{
	struct connected_ctx *c = p;
	struct db_stmt *st = db_prepare(db, SQL_INSERT_CONNECTED);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, c->id, -1);
	db_bind_text(st, 2, c->name, -1);
	db_bind_text(st, 3, c->currency, -1);
	db_bind_int64(st, 4, c->created);
	db_bind_int64(st, 5, c->mcc);
	db_bind_text(st, 6, c->platform, -1);
	return db_step_done(st);
}

int merchant_create_connected(struct store *s, const char *platform_id, const char *id,
			      const char *name, const char *currency, int mcc, int64_t created)
{
	if (mcc < 0 || mcc > 9999 || !platform_id || !platform_id[0])
		return DB_ERR;
	struct connected_ctx c = {.platform = platform_id,
				  .id = id,
				  .name = name,
				  .currency = currency,
				  .mcc = mcc,
				  .created = created};
	return store_write(s, NULL, connected_fn, &c);
}

/*
 * The caches of what never changes once created (API keys are never revoked, merchants' rows
 * never updated): a string key to a fixed-size value, bounded at CACHE_SLOTS slots, and past
 * half full it simply stops caching (a miss reads the store, as without it). Open addressing;
 * entries are never removed, so a probe ends at the first empty slot.
 */
#define CACHE_SLOTS 4096
#define CACHE_KEY_MAX 65 /* a key's SHA-256 in hex and its NUL; merchant ids are shorter */

struct cache {
	pthread_rwlock_t mu;
	size_t count;
	size_t val_size;
	struct cache_slot {
		char key[CACHE_KEY_MAX];
		bool used;
		union {
			struct merchant_auth auth;
			struct merchant_terms terms;
		} val;
	} slots[CACHE_SLOTS];
};

static size_t cache_first(const char *key)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	return (size_t)h & (CACHE_SLOTS - 1);
}

static bool cache_get(struct cache *c, const char *key, void *ret)
{
	bool found = false;
	pthread_rwlock_rdlock(&c->mu);
	size_t h = cache_first(key);
	for (size_t n = 0; n < CACHE_SLOTS && c->slots[h].used; n++) {
		if (strcmp(c->slots[h].key, key) == 0) {
			memcpy(ret, &c->slots[h].val, c->val_size);
			found = true;
			break;
		}
		h = (h + 1) & (CACHE_SLOTS - 1);
	}
	pthread_rwlock_unlock(&c->mu);
	return found;
}

static void cache_put(struct cache *c, const char *key, const void *val)
{
	if (strlen(key) >= CACHE_KEY_MAX)
		return;
	pthread_rwlock_wrlock(&c->mu);
	if (c->count * 2 < CACHE_SLOTS) {
		size_t h = cache_first(key);
		while (c->slots[h].used && strcmp(c->slots[h].key, key) != 0)
			h = (h + 1) & (CACHE_SLOTS - 1);
		if (!c->slots[h].used) {
			str_copy(c->slots[h].key, CACHE_KEY_MAX, key);
			memcpy(&c->slots[h].val, val, c->val_size);
			c->slots[h].used = true;
			c->count++;
		}
	}
	pthread_rwlock_unlock(&c->mu);
}

/* key hash → the key's merchant and kind */
static struct cache auth_cache = {.mu = PTHREAD_RWLOCK_INITIALIZER,
				  .val_size = sizeof(struct merchant_auth)};
/* merchant id → its terms (merchant_terms_get) */
static struct cache terms_cache = {.mu = PTHREAD_RWLOCK_INITIALIZER,
				   .val_size = sizeof(struct merchant_terms)};

struct auth_ctx {
	const char *hash;
	struct merchant_auth *out;
	int found;
};

static const char SQL_AUTH[] =
    "SELECT merchant_id, kind, livemode FROM api_keys WHERE key_hash = $1 AND revoked IS NULL";

static int auth_fn(struct db *db, void *p)
{
	struct auth_ctx *c = p;
	struct db_stmt *st = db_prepare(db, SQL_AUTH);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, c->hash, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		const char *mid = db_col_text(st, 0, NULL);
		const char *kind = db_col_text(st, 1, NULL);
		str_copy(c->out->merchant_id, sizeof(c->out->merchant_id), mid ? mid : "");
		c->out->publishable = kind && strcmp(kind, "publishable") == 0;
		c->out->livemode = db_col_int64(st, 2) != 0;
		c->found = 1;
	}
	db_reset(st);
	return rc == DB_ROW || rc == DB_DONE ? 0 : rc;
}

int merchant_authenticate(struct store *s, const char *key, struct merchant_auth *ret)
{
	char hash[65];
	merchant_key_hash(key, hash);
	if (cache_get(&auth_cache, hash, ret))
		return 0;
	struct auth_ctx c = {.hash = hash, .out = ret};
	int rc = store_read(s, NULL, auth_fn, &c);
	if (rc != 0)
		return rc < 0 ? rc : -1;
	if (!c.found)
		return 1;
	cache_put(&auth_cache, hash, ret);
	return 0;
}

static const char SQL_GET[] = "SELECT id, name, settlement_currency, fee_percent_bps,"
			      " fee_fixed_minor, created, mcc FROM merchants WHERE id = $1";
static const char SQL_LIST[] = "SELECT id, name, settlement_currency, fee_percent_bps,"
			       " fee_fixed_minor, created, mcc FROM merchants ORDER BY created, id";

static void read_row(struct db_stmt *st, struct merchant_info *m)
{
	const char *t;
	t = db_col_text(st, 0, NULL);
	str_copy(m->id, sizeof(m->id), t ? t : "");
	t = db_col_text(st, 1, NULL);
	str_copy(m->name, sizeof(m->name), t ? t : "");
	t = db_col_text(st, 2, NULL);
	str_copy(m->settlement_currency, sizeof(m->settlement_currency), t ? t : "");
	m->fee_percent_bps = db_col_int64(st, 3);
	m->fee_fixed_minor = db_col_int64(st, 4);
	m->created = db_col_int64(st, 5);
	m->mcc = (int)db_col_int64(st, 6);
}

int merchant_get(struct db *db, const char *merchant_id, struct merchant_info *ret)
{
	struct db_stmt *st = db_prepare(db, SQL_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW)
		read_row(st, ret);
	db_reset(st);
	if (rc == DB_ROW)
		return 0;
	return rc == DB_DONE ? DB_NOTFOUND : rc;
}

static const char SQL_TERMS[] = "SELECT fee_percent_bps, fee_fixed_minor, settlement_currency, mcc,"
				" platform FROM merchants WHERE id = $1";

int merchant_terms_get(struct db *db, const char *merchant_id, struct merchant_terms *ret)
{
	if (cache_get(&terms_cache, merchant_id, ret))
		return DB_OK;
	struct db_stmt *st = db_prepare(db, SQL_TERMS);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		struct merchant_terms t = {0};
		t.fee_percent_bps = db_col_int64(st, 0);
		t.fee_fixed_minor = db_col_int64(st, 1);
		const char *cur = db_col_text(st, 2, NULL);
		str_copy(t.settlement_currency, sizeof(t.settlement_currency), cur ? cur : "");
		int64_t mcc = db_col_int64(st, 3);
		t.mcc = mcc >= 0 && mcc <= 9999 ? (int)mcc : 0;
		const char *platform = db_col_text(st, 4, NULL);
		str_copy(t.platform, sizeof(t.platform), platform ? platform : "");
		*ret = t;
	}
	db_reset(st);
	if (rc == DB_ROW) {
		cache_put(&terms_cache, merchant_id, ret);
		return DB_OK;
	}
	return rc == DB_DONE ? DB_NOTFOUND : rc;
}

struct list_ctx {
	merchant_each_fn fn;
	void *ctx;
};

static int list_fn(struct db *db, void *p)
{
	struct list_ctx *c = p;
	struct db_stmt *st = db_prepare(db, SQL_LIST);
	if (!st)
		return DB_ERR;
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		struct merchant_info m;
		read_row(st, &m);
		c->fn(&m, c->ctx);
	}
	db_reset(st);
	return rc == DB_DONE ? 0 : rc;
}

int merchant_list(struct store *s, merchant_each_fn fn, void *ctx)
{
	struct list_ctx c = {.fn = fn, .ctx = ctx};
	return store_read(s, NULL, list_fn, &c);
}

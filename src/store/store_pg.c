/*
 * The store's PostgreSQL backend: merchants sharded over N databases, any number of stateless
 * Tender nodes in front of them.
 *
 * Shards and the map. The --database-url flags list the shards, in the same order on every
 * node (each shard records its index at its first start and refuses a node that disagrees). A
 * merchant lives on one shard, chosen in the transaction that creates its merchants row on
 * shard 0 (a trigger writes shard_map: the accepting shard with the fewest merchants). Ids carry
 * no shard: moving a merchant changes one shard_map row. Shard 0 also holds the global tables
 * (merchants and api_keys, authoritative there; shards, shard_map); every shard holds its own
 * vault_meta and vault_data_keys (the vault attaches to each), and the merchant-owned tables.
 * A merchant's home shard keeps a copy of its merchants row so that payments read the fees in
 * their own transaction. store_write/read with merchant_id NULL run on shard 0.
 *
 * Routing. store_write(s, merchant, fn) looks the merchant's shard up in a bounded per-node
 * cache (filled from shard_map), takes a pooled connection to that shard, and runs fn inside
 * BEGIN ISOLATION LEVEL SERIALIZABLE … COMMIT. Serializable isolation gives callbacks the world
 * the SQLite backend gives them (one writer, transactions in some serial order), so module code
 * written against SQLite needs no extra locking; the price is that PostgreSQL may abort a
 * transaction (40001, or 40P01 for a deadlock), and then the whole callback is run again, a
 * bounded number of times with a jittered backoff, on a fresh transaction. A callback must
 * therefore be re-runnable (store.h says so). If the retries run out, the caller gets
 * STORE_OVERLOADED (HTTP 503, Stripe-Should-Retry: true) and nothing was committed. A lost
 * connection before COMMIT is retried on a new connection; one lost during COMMIT is
 * STORE_COMMIT_FAILED (the outcome is unknown; the idempotency key makes a client retry safe).
 *
 * Residency. The cache can be stale after `tender shards rebalance` moved a merchant, so every
 * merchant transaction first reads the merchant's row in shard_residents on the shard it runs
 * on (FOR KEY SHARE when writing). A move freezes the row ('moving': SELECT … FOR UPDATE waits
 * for the writers in flight, and later writers see the new state and wait), copies every row of
 * the merchant to the target in one transaction, switches shard_map, deletes the old rows and
 * leaves a 'moved' tombstone. A transaction that finds the merchant frozen, gone, or moved
 * drops the cache entry, waits a little, and routes again; readers may still read a frozen
 * shard (its rows are intact until the map has switched). Each step is idempotent, so a move
 * interrupted at any point is finished by running it again.
 *
 * Pools. Each shard has a bounded pool of connections (pool_max, default 16) opened lazily; a
 * caller that finds it exhausted waits up to pool_timeout_ms (default 5000) and then gets
 * STORE_OVERLOADED. Both are read from the URL's query (?pool_max=32&pool_timeout_ms=2000) and
 * removed before the URL reaches libpq; everything else in the URL (sslmode, sslrootcert,
 * connect_timeout, application_name …) is libpq's, so TLS is `?sslmode=verify-full`.
 *
 * Migrations run on every shard at start, each shard under pg_advisory_lock so that nodes
 * starting together apply each patch once.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/str.h"
#include "store/db_impl.h"
#include "store/store_impl.h"

#define PG_SHARDS_MAX 64
#define PG_POOL_MAX_DEFAULT 16
#define PG_POOL_MAX_LIMIT 1024
#define PG_POOL_TIMEOUT_MS_DEFAULT 5000
#define PG_WRITE_ATTEMPTS 16   /* serialization failures, lost connections */
#define PG_ROUTE_WAIT_MS 15000 /* how long a transaction waits for a merchant being moved */
#define PG_MAP_CACHE 16384     /* merchant -> shard entries per node (power of two) */
#define PG_MERCHANT_ID_MAX 64
#define PG_NEW_BATCH 64
#define PG_LIST_MAX 1000000
#define PG_MIGRATION_LOCK 0x74656e646572ll /* "tender" */

struct pg_shard {
	char *conninfo;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct db **idle;
	int n_idle;
	int n_open; /* idle + lent out + being opened */
	int max;
	int timeout_ms;
};

struct map_entry {
	char merchant_id[PG_MERCHANT_ID_MAX];
	int shard;
	int used;
};

struct pg_store {
	int n;
	int read_only;
	struct pg_shard shards[PG_SHARDS_MAX];
	pthread_mutex_t map_mu;
	struct map_entry *map;
};

static __thread int in_write_callback;

static const char SQL_BEGIN_W[] = "BEGIN ISOLATION LEVEL SERIALIZABLE";
static const char SQL_BEGIN_R[] = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
static const char SQL_BEGIN_RW[] = "BEGIN ISOLATION LEVEL READ COMMITTED";
static const char SQL_COMMIT[] = "COMMIT";
static const char SQL_ROLLBACK[] = "ROLLBACK";

static const char SQL_RESIDENT_W[] =
    "SELECT state FROM shard_residents WHERE merchant_id = $1 FOR KEY SHARE";
static const char SQL_RESIDENT_R[] = "SELECT state FROM shard_residents WHERE merchant_id = $1";
static const char SQL_MAP_GET[] = "SELECT shard, state FROM shard_map WHERE merchant_id = $1";
static const char SQL_MAP_NEW[] =
    "SELECT merchant_id FROM shard_map WHERE state = 'new' ORDER BY merchant_id LIMIT 64";
static const char SQL_MAP_READY[] = "UPDATE shard_map SET state = 'ready', updated = $2"
				    " WHERE merchant_id = $1 AND state = 'new'";
static const char SQL_MAP_SWITCH[] = "UPDATE shard_map SET shard = $2, updated = $3"
				     " WHERE merchant_id = $1 AND shard = $4";
static const char SQL_MAP_LIST[] = "SELECT merchant_id, shard, state FROM shard_map"
				   " ORDER BY merchant_id LIMIT 1000000";
static const char SQL_MERCHANT_JSON[] = "SELECT to_jsonb(m)::text FROM merchants m WHERE id = $1";
static const char SQL_MERCHANT_COPY[] =
    "INSERT INTO merchants SELECT * FROM jsonb_populate_record(NULL::merchants, $1::jsonb)"
    " ON CONFLICT (id) DO NOTHING";
static const char SQL_RESIDENT_ADD[] = "INSERT INTO shard_residents (merchant_id, state, updated)"
				       " VALUES ($1, 'resident', $2)"
				       " ON CONFLICT (merchant_id) DO NOTHING";
static const char SQL_RESIDENT_LOCK[] =
    "SELECT state, moving_to FROM shard_residents WHERE merchant_id = $1 FOR UPDATE";
static const char SQL_RESIDENT_FREEZE[] =
    "UPDATE shard_residents SET state = 'moving', moving_to = $2, updated = $3"
    " WHERE merchant_id = $1 AND state IN ('resident', 'moving')";
static const char SQL_RESIDENT_SET[] =
    "INSERT INTO shard_residents (merchant_id, state, moving_to, updated)"
    " VALUES ($1, 'resident', NULL, $2) ON CONFLICT (merchant_id)"
    " DO UPDATE SET state = 'resident', moving_to = NULL, updated = $2";
static const char SQL_RESIDENT_GONE[] =
    "UPDATE shard_residents SET state = 'moved', updated = $2 WHERE merchant_id = $1";
/* Connect (migration 0031): the merchant's platform, and how many accounts it is the platform of */
static const char SQL_FAMILY[] =
    "SELECT platform, (SELECT count(*) FROM merchants c WHERE c.platform = $1)"
    " FROM merchants WHERE id = $1";
static const char SQL_EXPORT[] = "SELECT tbl, data FROM tender_export_merchant($1)";
static const char SQL_IMPORT[] = "SELECT tender_import_row($1, $2)";
static const char SQL_DELETE[] = "SELECT tender_delete_merchant($1, $2)";

static const char SQL_COLLATE[] =
    "SELECT datcollate FROM pg_database WHERE datname = current_database()";
static const char SQL_LOCK[] = "SELECT pg_advisory_lock($1)";
static const char SQL_UNLOCK[] = "SELECT pg_advisory_unlock($1)";
static const char SQL_MIG_CREATE[] = "CREATE TABLE IF NOT EXISTS schema_migrations ("
				     " version BIGINT PRIMARY KEY, name TEXT NOT NULL,"
				     " applied BIGINT NOT NULL)";
static const char SQL_MIG_MAX[] = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";
static const char SQL_MIG_INSERT[] =
    "INSERT INTO schema_migrations (version, name, applied) VALUES ($1, $2, $3)";
static const char SQL_ID_GET[] = "SELECT idx FROM shard_identity WHERE id = 1";
static const char SQL_ID_PUT[] = "INSERT INTO shard_identity (id, idx, created) VALUES (1, $1, $2)"
				 " ON CONFLICT (id) DO NOTHING";
static const char SQL_SHARD_ADD[] = "INSERT INTO shards (idx, accepting, created)"
				    " VALUES ($1, 1, $2) ON CONFLICT (idx) DO NOTHING";
static const char SQL_SHARD_COUNT[] = "SELECT COALESCE(MAX(idx), -1) + 1 FROM shards";

/* ---- small helpers ---- */

static void sleep_ms(int64_t ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) != 0)
		;
}

/* Jittered exponential backoff: 2, 4, 8 … 128 ms, times a random factor in [0.5, 1.5). */
static void backoff(int attempt)
{
	static __thread unsigned seed;
	if (!seed)
		seed = (unsigned)clock_mono_us() ^ (unsigned)(uintptr_t)&seed;
	int64_t base = 2ll << (attempt < 6 ? attempt : 6);
	int64_t ms = base / 2 + (int64_t)(rand_r(&seed) % (unsigned)(base > 0 ? base : 1));
	sleep_ms(ms);
}

/* Runs a one-column query; copies the first row's text into out (may be NULL). Returns DB_ROW,
 * DB_DONE or < 0. */
static int query1(struct db *db, const char *sql, const char *p1, char *out, size_t outlen)
{
	struct db_stmt *st = db_prepare(db, sql);
	if (!st)
		return DB_ERR;
	if (p1)
		db_bind_text(st, 1, p1, -1);
	int rc = db_step(st);
	if (rc == DB_ROW && out) {
		const char *t = db_col_text(st, 0, NULL);
		str_copy(out, outlen, t ? t : "");
	}
	db_reset(st);
	return rc;
}

static int exec_i64(struct db *db, const char *sql, int64_t v)
{
	struct db_stmt *st = db_prepare(db, sql);
	if (!st)
		return DB_ERR;
	db_bind_int64(st, 1, v);
	return db_step_done(st);
}

/* Removes pool_max / pool_timeout_ms from a postgres:// URL's query; libpq would refuse them. */
static int parse_url(const char *url, char **ret_conninfo, int *ret_max, int *ret_timeout_ms,
		     char *err, size_t errlen)
{
	size_t len = strlen(url);
	char *out = malloc(len + 1);
	if (!out) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int max = PG_POOL_MAX_DEFAULT, timeout_ms = PG_POOL_TIMEOUT_MS_DEFAULT;
	const char *q = strchr(url, '?');
	bool is_url =
	    strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0;
	if (!is_url || !q) {
		memcpy(out, url, len + 1);
		*ret_conninfo = out;
		*ret_max = max;
		*ret_timeout_ms = timeout_ms;
		return 0;
	}
	size_t n = (size_t)(q - url);
	memcpy(out, url, n);
	size_t o = n;
	int kept = 0;
	const char *p = q + 1;
	while (*p) {
		const char *amp = strchr(p, '&');
		size_t plen = amp ? (size_t)(amp - p) : strlen(p);
		int *target = NULL;
		const char *val = NULL;
		if (plen > 9 && strncmp(p, "pool_max=", 9) == 0) {
			target = &max;
			val = p + 9;
		} else if (plen > 16 && strncmp(p, "pool_timeout_ms=", 16) == 0) {
			target = &timeout_ms;
			val = p + 16;
		}
		if (target) {
			char num[24];
			size_t vl = plen - (size_t)(val - p);
			char *end = NULL;
			if (vl >= sizeof(num)) {
				free(out);
				snprintf(err, errlen, "bad pool option in --database-url");
				return -1;
			}
			memcpy(num, val, vl);
			num[vl] = '\0';
			long long v = strtoll(num, &end, 10);
			if (!end || *end || v < 1 ||
			    v > (target == &max ? PG_POOL_MAX_LIMIT : 600000)) {
				free(out);
				snprintf(err, errlen,
					 "bad pool option in --database-url (pool_max 1..%d, "
					 "pool_timeout_ms 1..600000)",
					 PG_POOL_MAX_LIMIT);
				return -1;
			}
			*target = (int)v;
		} else if (plen > 0) {
			out[o++] = kept ? '&' : '?';
			memcpy(out + o, p, plen);
			o += plen;
			kept++;
		}
		p += plen;
		if (*p == '&')
			p++;
	}
	out[o] = '\0';
	*ret_conninfo = out;
	*ret_max = max;
	*ret_timeout_ms = timeout_ms;
	return 0;
}

/* ---- connection pools ---- */

/* A connection to shard i, or NULL when the pool stayed exhausted for its timeout or the server
 * is unreachable. */
static struct db *acquire(struct pg_store *s, int i)
{
	struct pg_shard *sh = &s->shards[i];
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += sh->timeout_ms / 1000;
	deadline.tv_nsec += (long)(sh->timeout_ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&sh->mu);
	while (sh->n_idle == 0 && sh->n_open >= sh->max) {
		if (pthread_cond_timedwait(&sh->cv, &sh->mu, &deadline) != 0 && sh->n_idle == 0 &&
		    sh->n_open >= sh->max) {
			pthread_mutex_unlock(&sh->mu);
			log_msg(LOG_WARN,
				"store: shard %d: connection pool exhausted (%d) for %d ms", i,
				sh->max, sh->timeout_ms);
			return NULL;
		}
	}
	if (sh->n_idle > 0) {
		struct db *db = sh->idle[--sh->n_idle];
		pthread_mutex_unlock(&sh->mu);
		return db;
	}
	sh->n_open++;
	pthread_mutex_unlock(&sh->mu);
	char err[512];
	struct db *db = pg_db_open(sh->conninfo, err, sizeof(err));
	if (!db) {
		log_msg(LOG_ERROR, "store: shard %d: %s", i, err);
		pthread_mutex_lock(&sh->mu);
		sh->n_open--;
		pthread_cond_signal(&sh->cv);
		pthread_mutex_unlock(&sh->mu);
	}
	return db;
}

/* Returns a connection; one that is broken or stuck in a transaction is closed instead. */
static void release(struct pg_store *s, int i, struct db *db)
{
	struct pg_shard *sh = &s->shards[i];
	int st = pg_db_tx_state(db);
	if (st == PG_TX_OPEN || st == PG_TX_FAILED) {
		db_exec(db, SQL_ROLLBACK);
		st = pg_db_tx_state(db);
	}
	pg_db_clear_error(db);
	pthread_mutex_lock(&sh->mu);
	if (st == PG_TX_IDLE && sh->n_idle < sh->max) {
		sh->idle[sh->n_idle++] = db;
		db = NULL;
	} else {
		sh->n_open--;
	}
	pthread_cond_signal(&sh->cv);
	pthread_mutex_unlock(&sh->mu);
	if (db)
		pg_db_close(db);
}

/* ---- the shard map ---- */

static size_t map_slot(const char *merchant_id)
{
	uint64_t h = 1469598103934665603ull;
	for (const char *p = merchant_id; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	return (size_t)(h & (PG_MAP_CACHE - 1));
}

static int map_cache_get(struct pg_store *s, const char *merchant_id)
{
	int shard = -1;
	size_t i = map_slot(merchant_id);
	pthread_mutex_lock(&s->map_mu);
	if (s->map[i].used && strcmp(s->map[i].merchant_id, merchant_id) == 0)
		shard = s->map[i].shard;
	pthread_mutex_unlock(&s->map_mu);
	return shard;
}

static void map_cache_put(struct pg_store *s, const char *merchant_id, int shard)
{
	if (strlen(merchant_id) >= PG_MERCHANT_ID_MAX)
		return;
	size_t i = map_slot(merchant_id);
	pthread_mutex_lock(&s->map_mu);
	str_copy(s->map[i].merchant_id, sizeof(s->map[i].merchant_id), merchant_id);
	s->map[i].shard = shard;
	s->map[i].used = 1;
	pthread_mutex_unlock(&s->map_mu);
}

static void map_cache_drop(struct pg_store *s, const char *merchant_id)
{
	size_t i = map_slot(merchant_id);
	pthread_mutex_lock(&s->map_mu);
	if (s->map[i].used && strcmp(s->map[i].merchant_id, merchant_id) == 0)
		s->map[i].used = 0;
	pthread_mutex_unlock(&s->map_mu);
}

/* Runs fn(db, ctx) in a transaction of the given kind on shard i, with the connection-loss and
 * serialization retries described above; no residency check. */
static int run_tx(struct pg_store *s, int i, const char *begin, store_fn fn, void *ctx);

struct ready_ctx {
	const char *merchant_id;
	const char *merchant_json;
};

static int ready_fn(struct db *db, void *p)
{
	struct ready_ctx *c = p;
	if (c->merchant_json) {
		struct db_stmt *st = db_prepare(db, SQL_MERCHANT_COPY);
		if (!st)
			return DB_ERR;
		db_bind_text(st, 1, c->merchant_json, -1);
		int rc = db_step_done(st);
		if (rc != DB_OK)
			return rc;
	}
	struct db_stmt *st = db_prepare(db, SQL_RESIDENT_ADD);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, c->merchant_id, -1);
	db_bind_int64(st, 2, clock_now());
	return db_step_done(st);
}

struct map_ctx {
	const char *merchant_id;
	int shard;
	int found;
	int ready;
	char json[8192];
	int have_json;
};

static int map_get_fn(struct db *db, void *p)
{
	struct map_ctx *c = p;
	struct db_stmt *st = db_prepare(db, SQL_MAP_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, c->merchant_id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		c->found = 1;
		c->shard = (int)db_col_int64(st, 0);
		const char *state = db_col_text(st, 1, NULL);
		c->ready = state && strcmp(state, "ready") == 0;
	}
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return rc;
	if (c->found && !c->ready) {
		rc = query1(db, SQL_MERCHANT_JSON, c->merchant_id, c->json, sizeof(c->json));
		if (rc < 0)
			return rc;
		c->have_json = rc == DB_ROW && strlen(c->json) + 1 < sizeof(c->json);
	}
	return 0;
}

static int map_ready_fn(struct db *db, void *p)
{
	struct map_ctx *c = p;
	struct db_stmt *st = db_prepare(db, SQL_MAP_READY);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, c->merchant_id, -1);
	db_bind_int64(st, 2, clock_now());
	return db_step_done(st);
}

/* Reads merchant_id's shard from shard_map (making a new merchant ready on its shard first).
 * A merchant missing from the map lives on shard 0 (nothing was created for it on others);
 * *ret_unmapped (when not NULL) then says so. */
static int map_lookup(struct pg_store *s, const char *merchant_id, int *ret_shard,
		      int *ret_unmapped)
{
	struct map_ctx c = {.merchant_id = merchant_id};
	int rc = run_tx(s, 0, SQL_BEGIN_R, map_get_fn, &c);
	if (rc != 0)
		return rc;
	if (ret_unmapped)
		*ret_unmapped = !c.found;
	if (!c.found) {
		*ret_shard = 0;
		return 0;
	}
	if (c.shard < 0 || c.shard >= s->n) {
		log_msg(LOG_ERROR,
			"store: merchant %s is mapped to shard %d, but only %d shards "
			"were given (--database-url)",
			merchant_id, c.shard, s->n);
		return STORE_COMMIT_FAILED;
	}
	if (!c.ready && !s->read_only) {
		struct ready_ctx r = {.merchant_id = merchant_id,
				      .merchant_json = c.shard != 0 && c.have_json ? c.json : NULL};
		if (c.shard != 0 && !c.have_json)
			return STORE_COMMIT_FAILED;
		rc = run_tx(s, c.shard, SQL_BEGIN_RW, ready_fn, &r);
		if (rc == 0)
			rc = run_tx(s, 0, SQL_BEGIN_RW, map_ready_fn, &c);
		if (rc != 0)
			return rc;
	}
	*ret_shard = c.shard;
	return 0;
}

static int route(struct pg_store *s, const char *merchant_id, int *ret_shard, int *ret_unmapped)
{
	*ret_unmapped = 0;
	if (!merchant_id || s->n == 1) {
		*ret_shard = 0;
		return 0;
	}
	int shard = map_cache_get(s, merchant_id);
	if (shard >= 0) {
		*ret_shard = shard;
		return 0;
	}
	int rc = map_lookup(s, merchant_id, &shard, ret_unmapped);
	if (rc != 0)
		return rc;
	/* an id in no map (a page's merchant segment as a client sent it) is not cached: the
	 * cache holds merchants, not whatever ids clients try */
	if (*ret_unmapped) {
		*ret_shard = shard;
		return 0;
	}
	map_cache_put(s, merchant_id, shard);
	*ret_shard = shard;
	return 0;
}

struct new_ctx {
	char ids[PG_NEW_BATCH][PG_MERCHANT_ID_MAX];
	int n;
};

static int new_fn(struct db *db, void *p)
{
	struct new_ctx *c = p;
	c->n = 0;
	struct db_stmt *st = db_prepare(db, SQL_MAP_NEW);
	if (!st)
		return DB_ERR;
	int rc;
	while ((rc = db_step(st)) == DB_ROW && c->n < PG_NEW_BATCH) {
		const char *id = db_col_text(st, 0, NULL);
		if (id && strlen(id) < PG_MERCHANT_ID_MAX)
			str_copy(c->ids[c->n++], PG_MERCHANT_ID_MAX, id);
	}
	db_reset(st);
	return rc == DB_ROW || rc == DB_DONE ? 0 : rc;
}

/* After a shard-0 write (merchant creation): make every new merchant ready on its home shard
 * now rather than at its first request. Failures are left for the first request to retry. */
static void make_new_ready(struct pg_store *s)
{
	struct new_ctx c;
	if (run_tx(s, 0, SQL_BEGIN_R, new_fn, &c) != 0)
		return;
	for (int i = 0; i < c.n; i++) {
		int shard;
		if (map_lookup(s, c.ids[i], &shard, NULL) == 0)
			map_cache_put(s, c.ids[i], shard);
	}
}

/* ---- transactions ---- */

enum residency { RES_HERE, RES_WAIT, RES_GONE };

struct tx {
	const char *merchant_id; /* NULL: no residency check */
	int writing;
	enum residency res;
	store_fn fn;
	void *ctx;
};

static int check_residency(struct db *db, struct tx *t)
{
	struct db_stmt *st = db_prepare(db, t->writing ? SQL_RESIDENT_W : SQL_RESIDENT_R);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, t->merchant_id, -1);
	int rc = db_step(st);
	t->res = RES_GONE;
	if (rc == DB_ROW) {
		const char *state = db_col_text(st, 0, NULL);
		if (state && strcmp(state, "resident") == 0)
			t->res = RES_HERE;
		else if (state && strcmp(state, "moving") == 0)
			t->res = t->writing ? RES_WAIT : RES_HERE;
	}
	db_reset(st);
	return rc == DB_ROW || rc == DB_DONE ? 0 : rc;
}

/* One attempt. Returns the callback's rc, or:
 *   1000 retry (serialization failure, deadlock, connection lost before COMMIT),
 *   1001 not resident here (re-route), STORE_COMMIT_FAILED, STORE_OVERLOADED. */
#define TRY_AGAIN 1000
#define TRY_REROUTE 1001

/*
 * Counters after the commit. Nearly every payment bumps the fraud model's velocity counters
 * (db_counter_add): one row per merchant, card and hour, and one per merchant, IP and hour, where
 * the IP is the API caller's, so a merchant's server makes every one of its payments bump the same
 * row. Bumped inside the payment's SERIALIZABLE transaction, any two concurrent payments of a
 * merchant wrote one row, and PostgreSQL aborted one of them (40001) every time: the payments of a
 * merchant ran one at a time, with retries and backoff (228 confirms/s at 32 connections on one
 * shard, 1 in 115 answered 503 after 16 attempts). So here a transaction's counter bumps are
 * collected (as the SQLite writer collects a group's) and written right after its COMMIT, in a
 * transaction of their own at READ COMMITTED, where concurrent bumps of one row wait for each
 * other's row lock and never abort (db_counters_flush writes them in key order, so two such
 * transactions cannot deadlock either). They are written before store_write returns, so the
 * payment's answer and the next fraud check see them. That transaction commits with
 * synchronous_commit off: it does not wait for its own WAL flush (the next durable commit
 * flushes it). The price: a process or server that dies between the payment's COMMIT and the
 * counters' flush, or a bump that fails, leaves that attempt out of the counters, which only
 * feed the fraud score (nothing financial, nothing a client reads back). A batch is at most
 * PG_COUNTERS_MAX bumps (a payment makes three); past it they run at once, inside the
 * transaction, as before.
 */
#define PG_COUNTERS_MAX 16
/* one round trip: PQexec runs both (db_exec), and stops at the first that fails */
static const char SQL_BEGIN_COUNTERS[] = "BEGIN ISOLATION LEVEL READ COMMITTED;"
					 " SET LOCAL synchronous_commit TO OFF";

#define PG_COUNTERS_ATTEMPTS 3

static void counters_after_commit(struct db *db, int i)
{
	int rc = DB_OK;
	for (int n = 0; n < PG_COUNTERS_ATTEMPTS && db_counters_pending(db); n++) {
		if (n > 0) {
			/* a retryable failure (its transaction is rolled back, the batch kept) */
			db_exec(db, SQL_ROLLBACK);
			pg_db_clear_error(db);
		}
		rc = db_exec(db, SQL_BEGIN_COUNTERS);
		if (rc == DB_OK)
			rc = db_counters_flush(db);
		if (rc == DB_OK)
			rc = db_exec(db, SQL_COMMIT);
		if (rc == DB_OK || !pg_db_retryable(db))
			break;
	}
	if (rc != DB_OK) {
		log_msg(LOG_WARN, "store: shard %d: velocity counters not written: %s", i,
			db_errmsg(db));
		db_counters_discard(db);
		/* release() rolls back what is left open */
	}
}

static int attempt(struct pg_store *s, int i, const char *begin, struct tx *t)
{
	struct db *db = acquire(s, i);
	if (!db)
		return STORE_OVERLOADED;
	pg_db_clear_error(db);
	/* best effort: a connection without the batch writes its counters at once */
	(void)db_counters_enable(db, PG_COUNTERS_MAX);
	db_counters_discard(db); /* what an earlier attempt left is not this one's */
	int rc = db_exec(db, begin);
	if (rc != DB_OK) {
		int broken = pg_db_tx_state(db) == PG_TX_BROKEN;
		release(s, i, db);
		return broken ? TRY_AGAIN : STORE_COMMIT_FAILED;
	}
	if (t->merchant_id) {
		rc = check_residency(db, t);
		if (rc == 0 && t->res != RES_HERE) {
			release(s, i, db);
			return TRY_REROUTE;
		}
	}
	if (rc == 0) {
		store_set_current_shard(i);
		if (t->writing)
			in_write_callback = 1;
		db_job_begin(db);
		rc = t->fn(db, t->ctx);
		db_job_end(db);
		in_write_callback = 0;
		store_set_current_shard(0);
	}
	int state = pg_db_tx_state(db);
	if (state == PG_TX_BROKEN || pg_db_retryable(db)) {
		release(s, i, db);
		return TRY_AGAIN;
	}
	if (rc != 0 || state == PG_TX_FAILED) {
		if (rc == 0) {
			/* the callback swallowed an error; PostgreSQL has aborted the transaction,
			 * so nothing of it can be committed */
			log_msg(LOG_ERROR, "store: shard %d: a callback ignored an error: %s", i,
				db_errmsg(db));
			rc = STORE_COMMIT_FAILED;
		} else if (pg_db_sqlstate(db)[0]) {
			/* an engine error (not the callback's own refusal): worth one line */
			log_msg(LOG_ERROR, "store: shard %d: %s", i, db_errmsg(db));
		}
		release(s, i, db);
		return rc;
	}
	rc = db_exec(db, SQL_COMMIT);
	if (rc != DB_OK) {
		int retry = pg_db_retryable(db);
		log_msg(retry ? LOG_DEBUG : LOG_ERROR, "store: shard %d: COMMIT failed: %s", i,
			db_errmsg(db));
		release(s, i, db);
		/* a serialization failure at COMMIT means nothing was committed; a lost
		 * connection during COMMIT leaves the outcome unknown */
		return retry ? TRY_AGAIN : STORE_COMMIT_FAILED;
	}
	db_tally_publish(db); /* its events, now committed, for the metrics */
	if (t->writing)
		counters_after_commit(db, i);
	db_counters_discard(db);
	release(s, i, db);
	return 0;
}

static int run_tx(struct pg_store *s, int i, const char *begin, store_fn fn, void *ctx)
{
	struct tx t = {.writing = begin != SQL_BEGIN_R, .fn = fn, .ctx = ctx};
	for (int n = 0; n < PG_WRITE_ATTEMPTS; n++) {
		int rc = attempt(s, i, begin, &t);
		if (rc != TRY_AGAIN)
			return rc;
		backoff(n);
	}
	return STORE_OVERLOADED;
}

/* A merchant's transaction: route, check residency, run, re-route when the merchant moved. */
static int run_merchant_tx(struct pg_store *s, const char *merchant_id, const char *begin,
			   store_fn fn, void *ctx)
{
	struct tx t = {
	    .merchant_id = merchant_id, .writing = begin != SQL_BEGIN_R, .fn = fn, .ctx = ctx};
	int64_t waited_ms = 0;
	int tries = 0;
	for (;;) {
		int shard, unmapped;
		int rc = route(s, merchant_id, &shard, &unmapped);
		if (rc != 0)
			return rc;
		/* one shard: nobody can move anything. A merchant in no shard map (an unknown id a
		 * page was sent) has no residency row anywhere: checking it found it "gone" and
		 * re-routed for PG_ROUTE_WAIT_MS, a worker held 15 s and a 503 for what is a 404;
		 * it has no rows to move, so its transaction runs on shard 0 and finds nothing */
		if (!merchant_id || s->n == 1 || unmapped)
			t.merchant_id = NULL;
		rc = attempt(s, shard, begin, &t);
		if (rc == TRY_AGAIN) {
			if (++tries >= PG_WRITE_ATTEMPTS)
				return STORE_OVERLOADED;
			backoff(tries);
			continue;
		}
		if (rc != TRY_REROUTE)
			return rc;
		/* moved, or being moved: the map will tell where once the move is done */
		map_cache_drop(s, merchant_id);
		if (waited_ms >= PG_ROUTE_WAIT_MS)
			return STORE_OVERLOADED;
		sleep_ms(20);
		waited_ms += 20;
	}
}

int pg_store_write(struct pg_store *s, const char *merchant_id, store_fn fn, void *ctx)
{
	if (s->read_only)
		return STORE_COMMIT_FAILED;
	if (in_write_callback)
		abort(); /* a write callback that writes again: programmer error (as on SQLite) */
	int rc = run_merchant_tx(s, merchant_id, SQL_BEGIN_W, fn, ctx);
	if (rc == 0 && !merchant_id && s->n > 1)
		make_new_ready(s);
	return rc;
}

int pg_store_read(struct pg_store *s, const char *merchant_id, store_fn fn, void *ctx)
{
	return run_merchant_tx(s, merchant_id, SQL_BEGIN_R, fn, ctx);
}

int pg_store_each_shard_write(struct pg_store *s, store_fn fn, void *ctx)
{
	if (s->read_only)
		return STORE_COMMIT_FAILED;
	if (in_write_callback)
		abort();
	int first = 0;
	for (int i = 0; i < s->n; i++) {
		int rc = run_tx(s, i, SQL_BEGIN_W, fn, ctx);
		if (rc != 0 && first == 0)
			first = rc;
	}
	return first;
}

int pg_store_each_shard_read(struct pg_store *s, store_fn fn, void *ctx)
{
	int first = 0;
	for (int i = 0; i < s->n; i++) {
		int rc = run_tx(s, i, SQL_BEGIN_R, fn, ctx);
		if (rc != 0 && first == 0)
			first = rc;
	}
	return first;
}

int pg_store_shard_count(const struct pg_store *s)
{
	return s->n;
}

int pg_store_shard_of(struct pg_store *s, const char *merchant_id, int *ret_shard)
{
	return map_lookup(s, merchant_id, ret_shard, NULL);
}

/* ---- opening: migrations, identity ---- */

/* Every pending patch in one transaction (the caller holds the shard's advisory lock): a shard
 * is upgraded whole or not at all, and a new one costs one commit, not one per patch. */
static int migrate_shard(struct db *db, char *err, size_t errlen)
{
	if (db_exec(db, SQL_MIG_CREATE) != DB_OK) {
		snprintf(err, errlen, "cannot create schema_migrations: %s", db_errmsg(db));
		return -1;
	}
	char cur[32];
	if (db_exec(db, "BEGIN") != DB_OK ||
	    query1(db, SQL_MIG_MAX, NULL, cur, sizeof(cur)) != DB_ROW) {
		snprintf(err, errlen, "cannot read the schema version: %s", db_errmsg(db));
		db_exec(db, SQL_ROLLBACK);
		return -1;
	}
	long long current = strtoll(cur, NULL, 10);
	for (const struct migration *m = migrations_pg; m->sql; m++) {
		if (m->version <= current)
			continue;
		if (db_exec(db, m->sql) != DB_OK) {
			snprintf(err, errlen, "migration %s failed: %s", m->name, db_errmsg(db));
			db_exec(db, SQL_ROLLBACK);
			return -1;
		}
		struct db_stmt *st = db_prepare(db, SQL_MIG_INSERT);
		if (!st) {
			snprintf(err, errlen, "migration %s failed: %s", m->name, db_errmsg(db));
			db_exec(db, SQL_ROLLBACK);
			return -1;
		}
		db_bind_int64(st, 1, m->version);
		db_bind_text(st, 2, m->name, -1);
		db_bind_int64(st, 3, clock_now());
		if (db_step_done(st) != DB_OK) {
			snprintf(err, errlen, "migration %s failed: %s", m->name, db_errmsg(db));
			db_exec(db, SQL_ROLLBACK);
			return -1;
		}
	}
	if (db_exec(db, SQL_COMMIT) != DB_OK) {
		snprintf(err, errlen, "migrations failed to commit: %s", db_errmsg(db));
		db_exec(db, SQL_ROLLBACK);
		return -1;
	}
	return 0;
}

static int setup_shard(struct pg_store *s, int i, struct db *db, char *err, size_t errlen)
{
	char coll[64] = "";
	if (query1(db, SQL_COLLATE, NULL, coll, sizeof(coll)) != DB_ROW) {
		snprintf(err, errlen, "shard %d: %s", i, db_errmsg(db));
		return -1;
	}
	/* ids are compared and ordered as bytes on SQLite; PostgreSQL must agree */
	if (strcmp(coll, "C") != 0 && strcmp(coll, "POSIX") != 0 && strncmp(coll, "C.", 2) != 0) {
		snprintf(err, errlen,
			 "shard %d: the database's collation is %s; Tender needs C (create it with "
			 "CREATE DATABASE … TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C')",
			 i, coll);
		return -1;
	}
	if (s->read_only) {
		char idx[32] = "";
		int rc = query1(db, SQL_ID_GET, NULL, idx, sizeof(idx));
		if (rc != DB_ROW) {
			snprintf(err, errlen, "shard %d holds no Tender store", i);
			return -1;
		}
		if (strtoll(idx, NULL, 10) != i) {
			snprintf(err, errlen,
				 "--database-url #%d points at shard %s: give the shards "
				 "in the same order on every node",
				 i + 1, idx);
			return -1;
		}
		return 0;
	}
	if (exec_i64(db, SQL_LOCK, PG_MIGRATION_LOCK) != DB_OK) {
		snprintf(err, errlen, "shard %d: cannot take the migration lock: %s", i,
			 db_errmsg(db));
		return -1;
	}
	int rc = migrate_shard(db, err, errlen);
	if (rc == 0) {
		struct db_stmt *st = db_prepare(db, SQL_ID_PUT);
		char idx[32] = "";
		if (st) {
			db_bind_int64(st, 1, i);
			db_bind_int64(st, 2, clock_now());
		}
		if (!st || db_step_done(st) != DB_OK ||
		    query1(db, SQL_ID_GET, NULL, idx, sizeof(idx)) != DB_ROW) {
			snprintf(err, errlen, "shard %d: cannot record its identity: %s", i,
				 db_errmsg(db));
			rc = -1;
		} else if (strtoll(idx, NULL, 10) != i) {
			snprintf(err, errlen,
				 "--database-url #%d points at shard %s: give the shards "
				 "in the same order on every node",
				 i + 1, idx);
			rc = -1;
		}
	}
	if (rc == 0 && i == 0) {
		for (int k = 0; k < s->n && rc == 0; k++) {
			struct db_stmt *st = db_prepare(db, SQL_SHARD_ADD);
			if (!st)
				rc = -1;
			else {
				db_bind_int64(st, 1, k);
				db_bind_int64(st, 2, clock_now());
				rc = db_step_done(st) == DB_OK ? 0 : -1;
			}
		}
		char cnt[32] = "";
		if (rc == 0 && query1(db, SQL_SHARD_COUNT, NULL, cnt, sizeof(cnt)) == DB_ROW &&
		    strtoll(cnt, NULL, 10) > s->n) {
			snprintf(err, errlen,
				 "this store has %s shards but %d --database-url flags "
				 "were given: give all of them",
				 cnt, s->n);
			rc = -1;
		} else if (rc != 0) {
			snprintf(err, errlen, "shard 0: cannot register the shards: %s",
				 db_errmsg(db));
		}
	}
	exec_i64(db, SQL_UNLOCK, PG_MIGRATION_LOCK);
	return rc;
}

int pg_store_open(struct pg_store **ret, const struct store_config *cfg, char *err, size_t errlen)
{
	int n = 0;
	while (cfg->database_urls[n])
		n++;
	if (n > PG_SHARDS_MAX) {
		snprintf(err, errlen, "at most %d --database-url shards", PG_SHARDS_MAX);
		return -1;
	}
	struct pg_store *s = calloc(1, sizeof(*s));
	struct map_entry *map = calloc(PG_MAP_CACHE, sizeof(*map));
	if (!s || !map) {
		free(s);
		free(map);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->map = map;
	s->read_only = cfg->read_only;
	pthread_mutex_init(&s->map_mu, NULL);
	for (int i = 0; i < n; i++) {
		struct pg_shard *sh = &s->shards[i];
		if (parse_url(cfg->database_urls[i], &sh->conninfo, &sh->max, &sh->timeout_ms, err,
			      errlen) != 0) {
			pg_store_close(s);
			return -1;
		}
		sh->idle = calloc((size_t)sh->max, sizeof(*sh->idle));
		if (!sh->idle) {
			free(sh->conninfo);
			snprintf(err, errlen, "out of memory");
			pg_store_close(s);
			return -1;
		}
		pthread_mutex_init(&sh->mu, NULL);
		pthread_cond_init(&sh->cv, NULL);
		s->n = i + 1;
	}
	for (int i = 0; i < n; i++) {
		char cerr[512];
		struct db *db = pg_db_open(s->shards[i].conninfo, cerr, sizeof(cerr));
		if (!db) {
			snprintf(err, errlen, "shard %d: %s", i, cerr);
			pg_store_close(s);
			return -1;
		}
		s->shards[i].n_open = 1;
		int rc = setup_shard(s, i, db, err, errlen);
		release(s, i, db);
		if (rc != 0) {
			pg_store_close(s);
			return -1;
		}
	}
	*ret = s;
	return 0;
}

void pg_store_close(struct pg_store *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->n; i++) {
		struct pg_shard *sh = &s->shards[i];
		for (int k = 0; k < sh->n_idle; k++)
			pg_db_close(sh->idle[k]);
		free(sh->idle);
		free(sh->conninfo);
		pthread_mutex_destroy(&sh->mu);
		pthread_cond_destroy(&sh->cv);
	}
	pthread_mutex_destroy(&s->map_mu);
	free(s->map);
	free(s);
}

/* ---- moving a merchant ---- */

struct move_ctx {
	const char *merchant_id;
	int from, to;
	char state[16];
	int moving_to;
	int found;
	int drop_merchant_row;
	struct db *src; /* export side, held open by the caller */
	int64_t rows;
	char *err;
	size_t errlen;
};

static int freeze_fn(struct db *db, void *p)
{
	struct move_ctx *c = p;
	struct db_stmt *st = db_prepare(db, SQL_RESIDENT_LOCK);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, c->merchant_id, -1);
	int rc = db_step(st);
	c->found = rc == DB_ROW;
	if (rc == DB_ROW) {
		const char *t = db_col_text(st, 0, NULL);
		str_copy(c->state, sizeof(c->state), t ? t : "");
	}
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return rc;
	if (!c->found || strcmp(c->state, "moved") == 0)
		return 0;
	st = db_prepare(db, SQL_RESIDENT_FREEZE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, c->merchant_id, -1);
	db_bind_int64(st, 2, c->to);
	db_bind_int64(st, 3, clock_now());
	return db_step_done(st);
}

static int state_fn(struct db *db, void *p)
{
	struct move_ctx *c = p;
	struct db_stmt *st = db_prepare(db, SQL_RESIDENT_R);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, c->merchant_id, -1);
	int rc = db_step(st);
	c->found = rc == DB_ROW;
	c->state[0] = '\0';
	if (rc == DB_ROW) {
		const char *t = db_col_text(st, 0, NULL);
		str_copy(c->state, sizeof(c->state), t ? t : "");
	}
	db_reset(st);
	return rc == DB_ROW || rc == DB_DONE ? 0 : rc;
}

static int unfreeze_fn(struct db *db, void *p)
{
	struct move_ctx *c = p;
	struct db_stmt *st = db_prepare(db, SQL_RESIDENT_SET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, c->merchant_id, -1);
	db_bind_int64(st, 2, clock_now());
	return db_step_done(st);
}

/* Runs on the target: clears any earlier partial copy, imports every exported row, marks the
 * merchant resident. The export runs on c->src, a connection held by the caller in a
 * REPEATABLE READ transaction (the source is frozen, so its snapshot is final). */
static int import_fn(struct db *db, void *p)
{
	struct move_ctx *c = p;
	c->rows = 0;
	struct db_stmt *del = db_prepare(db, SQL_DELETE);
	if (!del)
		return DB_ERR;
	db_bind_text(del, 1, c->merchant_id, -1);
	db_bind_int64(del, 2, 0);
	int rc = db_step_done(del);
	if (rc != DB_OK)
		return rc;
	struct db_stmt *ex = db_prepare(c->src, SQL_EXPORT);
	if (!ex)
		return DB_ERR;
	db_bind_text(ex, 1, c->merchant_id, -1);
	struct db_stmt *im = db_prepare(db, SQL_IMPORT);
	if (!im) {
		db_reset(ex);
		return DB_ERR;
	}
	while ((rc = db_step(ex)) == DB_ROW) {
		db_bind_text(im, 1, db_col_text(ex, 0, NULL), -1);
		db_bind_text(im, 2, db_col_text(ex, 1, NULL), -1);
		int irc = db_step_done(im);
		if (irc != DB_OK) {
			db_reset(ex);
			return irc;
		}
		c->rows++;
	}
	db_reset(ex);
	if (rc != DB_DONE)
		return rc == DB_BUSY ? DB_BUSY : DB_ERR;
	return unfreeze_fn(db, c);
}

static int switch_fn(struct db *db, void *p)
{
	struct move_ctx *c = p;
	struct db_stmt *st = db_prepare(db, SQL_MAP_SWITCH);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, c->merchant_id, -1);
	db_bind_int64(st, 2, c->to);
	db_bind_int64(st, 3, clock_now());
	db_bind_int64(st, 4, c->from);
	return db_step_done(st);
}

static int purge_fn(struct db *db, void *p)
{
	struct move_ctx *c = p;
	struct db_stmt *st = db_prepare(db, SQL_DELETE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, c->merchant_id, -1);
	db_bind_int64(st, 2, c->drop_merchant_row);
	int rc = db_step_done(st);
	if (rc != DB_OK)
		return rc;
	st = db_prepare(db, SQL_RESIDENT_GONE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, c->merchant_id, -1);
	db_bind_int64(st, 2, clock_now());
	return db_step_done(st);
}

/* Deletes what an interrupted move left on shards other than the merchant's (frozen rows the
 * map no longer points at). */
static int purge_leftovers(struct pg_store *s, const char *merchant_id, int home)
{
	for (int i = 0; i < s->n; i++) {
		if (i == home)
			continue;
		struct move_ctx c = {.merchant_id = merchant_id};
		int rc = run_tx(s, i, SQL_BEGIN_R, state_fn, &c);
		if (rc != 0)
			return rc;
		if (c.found && strcmp(c.state, "moving") == 0) {
			c.drop_merchant_row = i != 0;
			rc = run_tx(s, i, SQL_BEGIN_RW, purge_fn, &c);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

struct family_ctx {
	const char *merchant_id;
	char platform[PG_MERCHANT_ID_MAX];
	int64_t accounts;
};

static int family_fn(struct db *db, void *p)
{
	struct family_ctx *c = p;
	c->platform[0] = '\0';
	c->accounts = 0;
	struct db_stmt *st = db_prepare(db, SQL_FAMILY);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, c->merchant_id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		const char *pl = db_col_text(st, 0, NULL);
		str_copy(c->platform, sizeof(c->platform), pl ? pl : "");
		c->accounts = db_col_int64(st, 1);
	}
	db_reset(st);
	return rc == DB_ROW || rc == DB_DONE ? 0 : rc;
}

/*
 * A Connect family (a platform and its connected accounts) lives on one shard, so that money
 * moving between them is one transaction (migration 0031 assigns a new account its platform's
 * shard). Moving one member alone would split it, so a connected account, or a platform with
 * any, is refused before anything is frozen; moving a family together is future work. An
 * account created while its platform's move is already past this check could still be split:
 * the shard trigger reads the platform's map row FOR SHARE, so the account follows the map's
 * state at its creation, but the platform's rows being copied then may miss its new row.
 */
static int refuse_family(struct pg_store *s, const char *merchant_id, char *err, size_t errlen)
{
	struct family_ctx f = {.merchant_id = merchant_id};
	int rc = run_tx(s, 0, SQL_BEGIN_R, family_fn, &f);
	if (rc != 0) {
		snprintf(err, errlen,
			 "cannot read the merchant's Connect accounts (store error %d)", rc);
		return -1;
	}
	if (f.platform[0]) {
		snprintf(err, errlen,
			 "%s is a connected account of %s: a Connect family (a platform and its "
			 "connected accounts) stays on one shard, and moving it together is not "
			 "supported yet; nothing was moved",
			 merchant_id, f.platform);
		return -1;
	}
	if (f.accounts > 0) {
		snprintf(err, errlen,
			 "%s is the platform of %lld connected account(s): a Connect family stays "
			 "on one shard, and moving it together is not supported yet; nothing was "
			 "moved",
			 merchant_id, (long long)f.accounts);
		return -1;
	}
	return 0;
}

int pg_store_move(struct pg_store *s, const char *merchant_id, int to, char *err, size_t errlen)
{
	if (s->read_only) {
		snprintf(err, errlen, "the store was opened read-only");
		return STORE_COMMIT_FAILED;
	}
	if (to < 0 || to >= s->n) {
		snprintf(err, errlen, "no shard %d (shards are 0..%d)", to, s->n - 1);
		return -1;
	}
	struct map_ctx m = {.merchant_id = merchant_id};
	int rc = run_tx(s, 0, SQL_BEGIN_R, map_get_fn, &m);
	if (rc != 0 || !m.found) {
		if (rc == 0)
			snprintf(err, errlen, "no merchant %s in the shard map", merchant_id);
		else
			snprintf(err, errlen, "cannot read the shard map (store error %d)", rc);
		return -1;
	}
	if (refuse_family(s, merchant_id, err, errlen) != 0)
		return -1;
	int from;
	if ((rc = map_lookup(s, merchant_id, &from, NULL)) != 0) {
		snprintf(err, errlen,
			 "cannot make the merchant ready on its shard (store error %d)", rc);
		return -1;
	}
	struct move_ctx c = {
	    .merchant_id = merchant_id, .from = from, .to = to, .err = err, .errlen = errlen};
	if (from == to) {
		/* already there: finish an interrupted move, unfreeze an abandoned one */
		rc = purge_leftovers(s, merchant_id, to);
		if (rc == 0)
			rc = run_tx(s, to, SQL_BEGIN_RW, state_fn, &c);
		if (rc == 0 && (!c.found || strcmp(c.state, "resident") != 0))
			rc = run_tx(s, to, SQL_BEGIN_RW, unfreeze_fn, &c);
		if (rc != 0)
			snprintf(err, errlen,
				 "cannot settle merchant %s on shard %d (store error %d)",
				 merchant_id, to, rc);
		map_cache_drop(s, merchant_id);
		return rc == 0 ? 0 : -1;
	}
	/* 1. freeze on the source: waits for the writes in flight, stops new ones */
	rc = run_tx(s, from, SQL_BEGIN_RW, freeze_fn, &c);
	if (rc != 0 || !c.found || strcmp(c.state, "moved") == 0) {
		if (rc != 0)
			snprintf(err, errlen,
				 "cannot freeze the merchant on shard %d (store error %d)", from,
				 rc);
		else
			snprintf(err, errlen,
				 "shard %d does not hold the merchant the map says it holds", from);
		return -1;
	}
	/* 2. copy, in one transaction on the target, from a snapshot of the frozen source */
	struct db *src = acquire(s, from);
	if (!src) {
		snprintf(err, errlen, "no connection to shard %d", from);
		return -1;
	}
	rc = db_exec(src, SQL_BEGIN_R);
	c.src = src;
	if (rc == DB_OK)
		rc = run_tx(s, to, SQL_BEGIN_RW, import_fn, &c);
	else
		snprintf(err, errlen, "shard %d: %s", from, db_errmsg(src));
	db_exec(src, SQL_COMMIT);
	release(s, from, src);
	if (rc != 0) {
		if (!err[0])
			snprintf(err, errlen,
				 "copying to shard %d failed (store error %d); the "
				 "merchant stays frozen on shard %d: run the move again",
				 to, rc, from);
		return -1;
	}
	/* 3. switch the map: from here on every node routes to the target */
	rc = run_tx(s, 0, SQL_BEGIN_RW, switch_fn, &c);
	if (rc != 0) {
		snprintf(err, errlen,
			 "cannot switch the shard map (store error %d); run the move "
			 "again",
			 rc);
		return -1;
	}
	map_cache_drop(s, merchant_id);
	/* 4. delete the old rows, leaving the tombstone */
	c.drop_merchant_row = from != 0;
	rc = run_tx(s, from, SQL_BEGIN_RW, purge_fn, &c);
	if (rc != 0) {
		snprintf(err, errlen,
			 "moved, but the old rows on shard %d were not deleted (store "
			 "error %d); run the move again",
			 from, rc);
		return -1;
	}
	return 0;
}

struct list_ctx {
	store_shard_each_fn fn;
	void *ctx;
};

static int list_fn(struct db *db, void *p)
{
	struct list_ctx *c = p;
	struct db_stmt *st = db_prepare(db, SQL_MAP_LIST);
	if (!st)
		return DB_ERR;
	int rc;
	int n = 0;
	while ((rc = db_step(st)) == DB_ROW && n++ < PG_LIST_MAX) {
		const char *state = db_col_text(st, 2, NULL);
		c->fn(db_col_text(st, 0, NULL), (int)db_col_int64(st, 1),
		      state && strcmp(state, "ready") == 0, c->ctx);
	}
	db_reset(st);
	return rc == DB_ROW || rc == DB_DONE ? 0 : rc;
}

int pg_store_shards_list(struct pg_store *s, store_shard_each_fn fn, void *ctx)
{
	struct list_ctx c = {.fn = fn, .ctx = ctx};
	return run_tx(s, 0, SQL_BEGIN_R, list_fn, &c);
}

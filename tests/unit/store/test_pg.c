/*
 * The PostgreSQL backend against real servers: two throwaway clusters started by
 * scripts/pg.sh the first time a test needs them (or the ones in TENDER_TEST_PG_URLS,
 * space-separated). Every test gets fresh databases on both, dropped afterwards.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/id.h"
#include "store/store.h"

#define PG_DIR_FMT "/tmp/tender-unit-pg-%d"
#define SHARDS 2

/* The repository (for scripts/pg.sh): this file's path, which the build passes absolute. */
static void source_dir(char *out, size_t outlen)
{
	snprintf(out, outlen, "%s", __FILE__);
	char *t = strstr(out, "/tests/unit/store/");
	if (t)
		*t = '\0';
	else
		snprintf(out, outlen, ".");
}

static char base_urls[SHARDS][256]; /* postgres://…/tender of each cluster */
static char urls[SHARDS][320];	    /* this test's databases */
static char dbname[40];

/* The runner (not the test workers) stops the clusters it caused to be started. */
ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
	(void)stats;
	char dir[64], marker[96], cmd[600], src[400];
	source_dir(src, sizeof(src));
	snprintf(dir, sizeof(dir), PG_DIR_FMT, (int)getpid());
	snprintf(marker, sizeof(marker), "%s/urls", dir);
	struct stat sb;
	if (stat(marker, &sb) != 0)
		return;
	snprintf(cmd, sizeof(cmd), "%s/scripts/pg.sh stop %s >/dev/null 2>&1", src, dir);
	if (system(cmd) != 0)
		fprintf(stderr, "test_pg: could not stop the clusters in %s\n", dir);
	snprintf(marker, sizeof(marker), "/tmp/tender-unit-pg-%d.lock", (int)getpid());
	unlink(marker);
}

static void load_urls(void)
{
	const char *env = getenv("TENDER_TEST_PG_URLS");
	char list[1024] = "";
	if (env && env[0]) {
		snprintf(list, sizeof(list), "%s", env);
	} else {
		/* one set of clusters per test run, shared by its workers (the runner's pid) */
		char dir[64], lockp[96], path[96], cmd[600], src[400];
		source_dir(src, sizeof(src));
		int runner = (int)getppid();
		snprintf(dir, sizeof(dir), PG_DIR_FMT, runner);
		snprintf(lockp, sizeof(lockp), "/tmp/tender-unit-pg-%d.lock", runner);
		snprintf(path, sizeof(path), "%s/urls", dir);
		int fd = open(lockp, O_CREAT | O_RDWR, 0600);
		cr_assert(fd >= 0);
		cr_assert_eq(flock(fd, LOCK_EX), 0);
		struct stat sb;
		if (stat(path, &sb) != 0) {
			snprintf(cmd, sizeof(cmd), "%s/scripts/pg.sh start %s %d >/dev/null", src,
				 dir, SHARDS);
			cr_assert_eq(system(cmd), 0, "scripts/pg.sh could not start PostgreSQL");
		}
		FILE *f = fopen(path, "r");
		cr_assert_not_null(f);
		size_t n = fread(list, 1, sizeof(list) - 1, f);
		list[n] = '\0';
		fclose(f);
		flock(fd, LOCK_UN);
		close(fd);
	}
	int i = 0;
	for (char *p = list; *p && i < SHARDS;) {
		size_t n = strcspn(p, " \n");
		if (n > 0)
			snprintf(base_urls[i++], sizeof(base_urls[0]), "%.*s", (int)n, p);
		p += n;
		p += strspn(p, " \n");
	}
	cr_assert_eq(i, SHARDS, "need %d PostgreSQL URLs", SHARDS);
}

/* Runs one statement on the cluster of base url u, in its maintenance database. */
static void admin(const char *u, const char *sql)
{
	char conn[300];
	snprintf(conn, sizeof(conn), "%s", u);
	char *slash = strrchr(conn, '/');
	cr_assert_not_null(slash);
	snprintf(slash, sizeof(conn) - (size_t)(slash - conn), "/postgres");
	PGconn *c = PQconnectdb(conn);
	cr_assert_eq(PQstatus(c), CONNECTION_OK, "%s", PQerrorMessage(c));
	PGresult *r = PQexec(c, sql);
	cr_assert_eq(PQresultStatus(r), PGRES_COMMAND_OK, "%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
}

static void setup(void)
{
	load_urls();
	char rnd[17];
	id_random_base62(rnd, 16);
	for (char *p = rnd; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	snprintf(dbname, sizeof(dbname), "unit_%s", rnd);
	char sql[200];
	snprintf(
	    sql, sizeof(sql),
	    "CREATE DATABASE %s TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'",
	    dbname);
	for (int i = 0; i < SHARDS; i++) {
		admin(base_urls[i], sql);
		snprintf(urls[i], sizeof(urls[i]), "%.*s/%s",
			 (int)(strrchr(base_urls[i], '/') - base_urls[i]), base_urls[i], dbname);
	}
}

static void teardown(void)
{
	char sql[120];
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", dbname);
	for (int i = 0; i < SHARDS; i++)
		admin(base_urls[i], sql);
}

TestSuite(store_pg, .init = setup, .fini = teardown, .timeout = 120);

static struct store *open_with(const char *u0, const char *u1, char *err, size_t errlen)
{
	const char *list[3] = {u0, u1, NULL};
	struct store_config cfg = {.database_urls = list};
	struct store *s = NULL;
	if (store_open(&s, &cfg, err, errlen) != 0)
		return NULL;
	return s;
}

static struct store *open_store(void)
{
	char err[512] = "";
	struct store *s = open_with(urls[0], urls[1], err, sizeof(err));
	cr_assert_not_null(s, "%s", err);
	return s;
}

/* ---- callbacks ---- */

static const char SQL_MERCHANT[] =
    "INSERT INTO merchants (id, name, settlement_currency, created) VALUES ($1, $2, 'usd', $3)";

static int create_merchant_fn(struct db *db, void *p)
{
	struct db_stmt *st = db_prepare(db, SQL_MERCHANT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, p, -1);
	db_bind_text(st, 2, "Shop", -1);
	db_bind_int64(st, 3, 1700000000);
	return db_step_done(st);
}

static void new_merchant(struct store *s, char *id)
{
	id_new(id, "acct_");
	cr_assert_eq(store_write(s, NULL, create_merchant_fn, id), 0);
}

static const char SQL_CUST_PUT[] =
    "INSERT INTO customers (merchant_id, id, created, email, balance, invoice_prefix)"
    " VALUES ($1, $2, $3, $4, $5, 'ABC')";
static const char SQL_CUST_GET[] = "SELECT email, balance, name, created FROM customers"
				   " WHERE merchant_id = $1 AND id = $2";
static const char SQL_CUST_ADD[] =
    "UPDATE customers SET balance = $3 WHERE merchant_id = $1 AND id = $2";
static const char SQL_CUST_COUNT[] = "SELECT COUNT(*) FROM customers";

struct cust {
	const char *merchant;
	const char *id;
	const char *email;
	int64_t balance;
	int64_t created;
	char got_email[64];
	int name_null;
	int found;
	int fail_after;
};

static int cust_put_fn(struct db *db, void *p)
{
	struct cust *c = p;
	struct db_stmt *st = db_prepare(db, SQL_CUST_PUT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, c->merchant, -1);
	db_bind_text(st, 2, c->id, -1);
	db_bind_int64(st, 3, c->created);
	db_bind_text(st, 4, c->email, -1);
	db_bind_int64(st, 5, c->balance);
	int rc = db_step_done(st);
	if (rc == DB_OK && c->fail_after)
		return -7;
	return rc;
}

static int cust_get_fn(struct db *db, void *p)
{
	struct cust *c = p;
	struct db_stmt *st = db_prepare(db, SQL_CUST_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, c->merchant, -1);
	db_bind_text(st, 2, c->id, -1);
	int rc = db_step(st);
	c->found = rc == DB_ROW;
	if (rc == DB_ROW) {
		size_t n = 0;
		const char *e = db_col_text(st, 0, &n);
		snprintf(c->got_email, sizeof(c->got_email), "%s", e ? e : "(null)");
		cr_assert_eq(n, strlen(c->got_email));
		c->balance = db_col_int64(st, 1);
		c->name_null = db_col_is_null(st, 2) && db_col_text(st, 2, NULL) == NULL;
		c->created = db_col_int64(st, 3);
	}
	db_reset(st);
	return rc == DB_ROW || rc == DB_DONE ? 0 : rc;
}

struct count {
	int64_t per_shard[SHARDS];
};

static int count_fn(struct db *db, void *p)
{
	struct count *c = p;
	struct db_stmt *st = db_prepare(db, SQL_CUST_COUNT);
	if (!st)
		return DB_ERR;
	int rc = db_step(st);
	if (rc == DB_ROW)
		c->per_shard[store_current_shard()] = db_col_int64(st, 0);
	db_reset(st);
	return rc == DB_ROW ? 0 : -1;
}

/* ---- tests ---- */

Test(store_pg, values_round_trip)
{
	struct store *s = open_store();
	char m[40];
	new_merchant(s, m);
	struct cust c = {.merchant = m,
			 .id = "cus_1",
			 .email = "zoë@example.com",
			 .balance = INT64_MIN + 1,
			 .created = INT64_MAX};
	cr_assert_eq(store_write(s, m, cust_put_fn, &c), 0);
	struct cust r = {.merchant = m, .id = "cus_1"};
	cr_assert_eq(store_read(s, m, cust_get_fn, &r), 0);
	cr_assert(r.found);
	cr_assert_str_eq(r.got_email, "zoë@example.com");
	cr_assert_eq(r.balance, INT64_MIN + 1);
	cr_assert_eq(r.created, INT64_MAX);
	cr_assert(r.name_null);
	store_close(s);
}

static const char SQL_BLOB_PUT[] =
    "INSERT INTO vault_meta (id, master_key_id, check_value) VALUES (1, $2, $1)";
static const char SQL_BLOB_GET[] = "SELECT check_value, master_key_id = $1 FROM vault_meta"
				   " WHERE id = 1 AND ($2 IS NULL OR master_key_id = $2)";

static int blob_fn(struct db *db, void *p)
{
	(void)p;
	static const unsigned char bytes[] = {0, 1, 2, 0xff, 0, '\\', 'x', 0x80};
	struct db_stmt *st = db_prepare(db, SQL_BLOB_PUT);
	if (!st)
		return DB_ERR;
	db_bind_blob(st, 1, bytes, sizeof(bytes));
	db_bind_text(st, 2, "mk_1", -1);
	int rc = db_step(st);
	cr_assert_eq(rc, DB_DONE);
	cr_assert_eq(db_changes(st), 1);
	db_reset(st);
	st = db_prepare(db, SQL_BLOB_GET);
	db_bind_text(st, 1, "mk_1", -1); /* $2 left unbound: NULL, as on SQLite */
	cr_assert_eq(db_step(st), DB_ROW);
	size_t n = 0;
	const unsigned char *b = db_col_blob(st, 0, &n);
	cr_assert_eq(n, sizeof(bytes));
	cr_assert_eq(memcmp(b, bytes, n), 0);
	cr_assert_eq(db_col_int64(st, 1), 1, "a boolean reads as 1");
	cr_assert_eq(db_step(st), DB_DONE);
	db_reset(st);
	/* a second insert violates the primary key */
	st = db_prepare(db, SQL_BLOB_PUT);
	db_bind_blob(st, 1, bytes, 1);
	db_bind_text(st, 2, "mk_2", -1);
	cr_assert_eq(db_step_done(st), DB_CONSTRAINT);
	return -3;
}

Test(store_pg, blobs_nulls_constraints)
{
	struct store *s = open_store();
	cr_assert_eq(store_write(s, NULL, blob_fn, NULL), -3);
	store_close(s);
}

Test(store_pg, failed_callback_rolls_back)
{
	struct store *s = open_store();
	char m[40];
	new_merchant(s, m);
	struct cust c = {.merchant = m, .id = "cus_x", .email = "a@b.c", .fail_after = 1};
	cr_assert_eq(store_write(s, m, cust_put_fn, &c), -7);
	struct cust r = {.merchant = m, .id = "cus_x"};
	cr_assert_eq(store_read(s, m, cust_get_fn, &r), 0);
	cr_assert_not(r.found);
	store_close(s);
}

Test(store_pg, merchants_spread_and_route_to_their_shard)
{
	struct store *s = open_store();
	cr_assert_eq(store_shard_count(s), SHARDS);
	char m[4][40];
	int on[SHARDS] = {0};
	for (int i = 0; i < 4; i++) {
		new_merchant(s, m[i]);
		int sh = -1;
		cr_assert_eq(store_shard_of(s, m[i], &sh), 0);
		cr_assert(sh >= 0 && sh < SHARDS);
		on[sh]++;
		struct cust c = {.merchant = m[i], .id = "cus_1", .email = "x@y.z"};
		cr_assert_eq(store_write(s, m[i], cust_put_fn, &c), 0);
	}
	cr_assert_eq(on[0], 2, "the emptiest shard takes each new merchant");
	cr_assert_eq(on[1], 2);
	struct count n = {{0}};
	cr_assert_eq(store_each_shard_read(s, count_fn, &n), 0);
	cr_assert_eq(n.per_shard[0], 2);
	cr_assert_eq(n.per_shard[1], 2);
	store_close(s);
}

Test(store_pg, shard_order_is_checked)
{
	struct store *s = open_store();
	store_close(s);
	char err[512] = "";
	cr_assert_null(open_with(urls[1], urls[0], err, sizeof(err)));
	cr_assert(strstr(err, "same order"), "%s", err);
	cr_assert_null(open_with(urls[0], NULL, err, sizeof(err)));
	cr_assert(strstr(err, "give all of them"), "%s", err);
}

/* Read-modify-write without any guard: only serializable execution with retries keeps every
 * increment. */
struct inc {
	struct store *s;
	const char *merchant;
	int n;
};

static int inc_fn(struct db *db, void *p)
{
	struct inc *c = p;
	struct cust g = {.merchant = c->merchant, .id = "cus_c"};
	int rc = cust_get_fn(db, &g);
	if (rc != 0 || !g.found)
		return -1;
	struct db_stmt *st = db_prepare(db, SQL_CUST_ADD);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, c->merchant, -1);
	db_bind_text(st, 2, "cus_c", -1);
	db_bind_int64(st, 3, g.balance + 1);
	return db_step_done(st);
}

static void *inc_thread(void *p)
{
	struct inc *c = p;
	for (int i = 0; i < c->n; i++)
		cr_assert_eq(store_write(c->s, c->merchant, inc_fn, c), 0);
	return NULL;
}

Test(store_pg, serialization_failures_are_retried)
{
	struct store *a = open_store();
	struct store *b = open_store(); /* a second node */
	char m[40];
	new_merchant(a, m);
	struct cust c = {.merchant = m, .id = "cus_c", .email = "c@d.e"};
	cr_assert_eq(store_write(a, m, cust_put_fn, &c), 0);
	pthread_t t[4];
	struct inc ctx[4];
	for (int i = 0; i < 4; i++) {
		ctx[i] = (struct inc){.s = i % 2 ? b : a, .merchant = m, .n = 25};
		pthread_create(&t[i], NULL, inc_thread, &ctx[i]);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	struct cust r = {.merchant = m, .id = "cus_c"};
	cr_assert_eq(store_read(b, m, cust_get_fn, &r), 0);
	cr_assert_eq(r.balance, 100);
	store_close(a);
	store_close(b);
}

/* Counters after the commit (store_pg.c): every payment of a merchant bumps the same velocity
 * rows. Concurrent transactions that bump one row must not abort each other (each callback runs
 * once), every committed transaction's bump is counted once, and a rolled-back one's not at all. */
static const char SQL_HOT_BUMP[] =
    "INSERT INTO risk_velocity (merchant_id, kind, key, hour, attempts, amount, declines)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (merchant_id, kind, key, hour) DO UPDATE"
    " SET attempts = risk_velocity.attempts + $5, amount = risk_velocity.amount + $6,"
    " declines = risk_velocity.declines + $7";
static const char SQL_HOT_ADD[] =
    "UPDATE risk_velocity SET attempts = attempts + $5, amount = amount + $6,"
    " declines = declines + $7 WHERE merchant_id = $1 AND kind = $2 AND key = $3 AND hour = $4";
static const char SQL_HOT_GET[] = "SELECT attempts, amount FROM risk_velocity"
				  " WHERE merchant_id = $1 AND kind = 'card' AND key = 'hot'";

struct hot {
	struct store *s;
	const char *merchant;
	atomic_int *calls;
	int fail;
	int64_t attempts, amount;
};

static int hot_fn(struct db *db, void *p)
{
	struct hot *h = p;
	atomic_fetch_add(h->calls, 1);
	if (db_counter_add(db, SQL_HOT_BUMP, SQL_HOT_ADD, h->merchant, "card", "hot", 1, 1, 10,
			   0) != DB_OK)
		return -1;
	return h->fail ? -7 : 0;
}

static void *hot_thread(void *p)
{
	struct hot *h = p;
	for (int i = 0; i < 25; i++)
		cr_assert_eq(store_write(h->s, h->merchant, hot_fn, h), 0);
	return NULL;
}

static int hot_get_fn(struct db *db, void *p)
{
	struct hot *h = p;
	struct db_stmt *st = db_prepare(db, SQL_HOT_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, h->merchant, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		h->attempts = db_col_int64(st, 0);
		h->amount = db_col_int64(st, 1);
	}
	db_reset(st);
	return rc == DB_ROW ? 0 : -1;
}

Test(store_pg, hot_counters_do_not_abort_concurrent_writers)
{
	struct store *a = open_store();
	struct store *b = open_store(); /* a second node */
	char m[40];
	new_merchant(a, m);
	atomic_int calls = 0;
	pthread_t t[8];
	struct hot ctx[8];
	for (int i = 0; i < 8; i++) {
		ctx[i] = (struct hot){.s = i % 2 ? b : a, .merchant = m, .calls = &calls};
		pthread_create(&t[i], NULL, hot_thread, &ctx[i]);
	}
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	cr_assert_eq(atomic_load(&calls), 200, "callbacks run %d times for 200 writes",
		     atomic_load(&calls));
	struct hot rolled = {.s = a, .merchant = m, .calls = &calls, .fail = 1};
	cr_assert_eq(store_write(a, m, hot_fn, &rolled), -7);
	struct hot r = {.merchant = m};
	cr_assert_eq(store_read(b, m, hot_get_fn, &r), 0);
	cr_assert_eq(r.attempts, 200);
	cr_assert_eq(r.amount, 2000);
	store_close(a);
	store_close(b);
}

Test(store_pg, move_merchant_online)
{
	struct store *a = open_store();
	struct store *b = open_store(); /* another node, its cache about to go stale */
	char m[40];
	new_merchant(a, m);
	int from = -1;
	cr_assert_eq(store_shard_of(a, m, &from), 0);
	struct cust c = {.merchant = m, .id = "cus_m", .email = "m@n.o", .balance = 42};
	cr_assert_eq(store_write(b, m, cust_put_fn, &c), 0); /* b caches the old shard */
	char err[512] = "";
	int to = 1 - from;
	cr_assert_eq(store_move_merchant(a, m, to, err, sizeof(err)), 0, "%s", err);
	int now = -1;
	cr_assert_eq(store_shard_of(b, m, &now), 0);
	cr_assert_eq(now, to);
	struct count n = {{0}};
	cr_assert_eq(store_each_shard_read(a, count_fn, &n), 0);
	cr_assert_eq(n.per_shard[from], 0);
	cr_assert_eq(n.per_shard[to], 1);
	/* b still believes in the old shard: its write must land on the new one */
	struct cust c2 = {.merchant = m, .id = "cus_n", .email = "n@o.p"};
	cr_assert_eq(store_write(b, m, cust_put_fn, &c2), 0);
	struct cust r = {.merchant = m, .id = "cus_m"};
	cr_assert_eq(store_read(b, m, cust_get_fn, &r), 0);
	cr_assert(r.found);
	cr_assert_eq(r.balance, 42);
	memset(&n, 0, sizeof(n));
	cr_assert_eq(store_each_shard_read(a, count_fn, &n), 0);
	cr_assert_eq(n.per_shard[to], 2);
	cr_assert_eq(n.per_shard[from], 0);
	/* moving it where it is: a no-op; moving back: everything comes along */
	cr_assert_eq(store_move_merchant(b, m, to, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(store_move_merchant(b, m, from, err, sizeof(err)), 0, "%s", err);
	memset(&n, 0, sizeof(n));
	cr_assert_eq(store_each_shard_read(a, count_fn, &n), 0);
	cr_assert_eq(n.per_shard[from], 2);
	cr_assert_eq(n.per_shard[to], 0);
	store_close(a);
	store_close(b);
}

/* Pool exhaustion: with one connection held by a slow write, a read waits its timeout and is
 * refused with STORE_OVERLOADED. */
struct hold {
	sem_t entered, go;
};

static int hold_fn(struct db *db, void *p)
{
	(void)db;
	struct hold *h = p;
	sem_post(&h->entered);
	sem_wait(&h->go);
	return 0;
}

static void *hold_thread(void *p)
{
	struct store *s = ((void **)p)[0];
	struct hold *h = ((void **)p)[1];
	cr_assert_eq(store_write(s, NULL, hold_fn, h), 0);
	return NULL;
}

static int nop_fn(struct db *db, void *p)
{
	(void)db;
	(void)p;
	return 0;
}

Test(store_pg, exhausted_pool_is_overloaded)
{
	char u0[400], u1[400], err[512] = "";
	snprintf(u0, sizeof(u0), "%s?pool_max=1&pool_timeout_ms=50", urls[0]);
	snprintf(u1, sizeof(u1), "%s?pool_max=1&pool_timeout_ms=50&connect_timeout=5", urls[1]);
	struct store *s = open_with(u0, u1, err, sizeof(err));
	cr_assert_not_null(s, "%s", err);
	struct hold h;
	sem_init(&h.entered, 0, 0);
	sem_init(&h.go, 0, 0);
	void *args[2] = {s, &h};
	pthread_t t;
	pthread_create(&t, NULL, hold_thread, args);
	sem_wait(&h.entered);
	cr_assert_eq(store_read(s, NULL, nop_fn, NULL), STORE_OVERLOADED);
	sem_post(&h.go);
	pthread_join(t, NULL);
	cr_assert_eq(store_read(s, NULL, nop_fn, NULL), 0);
	store_close(s);
}

static void *open_thread(void *p)
{
	char err[512] = "";
	struct store *s = open_with(urls[0], urls[1], err, sizeof(err));
	*(int *)p = s ? 0 : -1;
	store_close(s);
	return NULL;
}

Test(store_pg, nodes_starting_together_migrate_once)
{
	pthread_t t[3];
	int rc[3];
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, open_thread, &rc[i]);
	for (int i = 0; i < 3; i++) {
		pthread_join(t[i], NULL);
		cr_assert_eq(rc[i], 0);
	}
}

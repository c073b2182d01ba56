/*
 * SQLite backend of struct db.
 *
 * Statements are cached per connection in a small open-addressing table keyed by the address of
 * the SQL text (callers pass string literals), so the hot path never re-parses SQL. SQLite treats
 * "$1" as a *named* parameter and numbers parameters in order of first appearance, which is not
 * PostgreSQL's meaning when a statement uses $2 before $1; at prepare time we therefore build a
 * map from the positional number N to SQLite's index of "$N", and bind through it.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "store/db_impl.h"
#include "store/walbuf.h"

#define SQLITE_PARAMS_MAX 64
#define STMT_CACHE_MIN 64

struct sqlite_stmt {
	struct db_stmt base;
	sqlite3_stmt *s;
	const char *sql;
	int nparams;
	int map[SQLITE_PARAMS_MAX + 1];
	int64_t changes;
};

struct sqlite_db {
	struct db base;
	sqlite3 *h;
	struct sqlite_stmt **cache;
	size_t cache_cap;
	size_t cache_len;
	int64_t steps;	    /* statements stepped (the writer's statistics) */
	int64_t wal_frames; /* WAL frames appended by this connection's commits */
	int wal_last;	    /* frames in the WAL after the previous commit */
};

static const struct db_ops sqlite_ops;

static int map_rc(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
		return DB_OK;
	case SQLITE_ROW:
		return DB_ROW;
	case SQLITE_DONE:
		return DB_DONE;
	case SQLITE_CONSTRAINT:
		return DB_CONSTRAINT;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return DB_BUSY;
	default:
		return DB_ERR;
	}
}

static size_t ptr_hash(const void *p, size_t cap)
{
	uintptr_t x = (uintptr_t)p;
	x ^= x >> 17;
	x *= 0x9E3779B97F4A7C15ull;
	return (size_t)(x >> 7) & (cap - 1);
}

static int cache_grow(struct sqlite_db *d)
{
	size_t ncap = d->cache_cap ? d->cache_cap * 2 : STMT_CACHE_MIN;
	struct sqlite_stmt **n = calloc(ncap, sizeof(*n));
	if (!n)
		return -1;
	for (size_t i = 0; i < d->cache_cap; i++) {
		struct sqlite_stmt *st = d->cache[i];
		if (!st)
			continue;
		size_t h = ptr_hash(st->sql, ncap);
		while (n[h])
			h = (h + 1) & (ncap - 1);
		n[h] = st;
	}
	free(d->cache);
	d->cache = n;
	d->cache_cap = ncap;
	return 0;
}

static struct db_stmt *s_prepare(struct db *db, const char *sql)
{
	struct sqlite_db *d = (struct sqlite_db *)db;
	if (d->cache_cap) {
		size_t h = ptr_hash(sql, d->cache_cap);
		while (d->cache[h]) {
			if (d->cache[h]->sql == sql)
				return &d->cache[h]->base;
			h = (h + 1) & (d->cache_cap - 1);
		}
	}
	if ((d->cache_len + 1) * 2 > d->cache_cap && cache_grow(d) != 0)
		return NULL;
	struct sqlite_stmt *st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	if (sqlite3_prepare_v3(d->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st->s, NULL) !=
	    SQLITE_OK) {
		log_msg(LOG_ERROR, "sqlite prepare failed: %s", sqlite3_errmsg(d->h));
		free(st);
		return NULL;
	}
	st->base.db = db;
	st->sql = sql;
	int n = sqlite3_bind_parameter_count(st->s);
	if (n > SQLITE_PARAMS_MAX) {
		sqlite3_finalize(st->s);
		free(st);
		return NULL;
	}
	st->nparams = n;
	/* every $N up to the limit, not only up to the count of parameters: a statement that
	 * leaves a number out ($1, $2, $4) has three parameters, and its $4 must still be found */
	for (int i = 1; i <= SQLITE_PARAMS_MAX; i++) {
		char name[8];
		snprintf(name, sizeof(name), "$%d", i);
		st->map[i] = n > 0 ? sqlite3_bind_parameter_index(st->s, name) : 0;
	}
	size_t h = ptr_hash(sql, d->cache_cap);
	while (d->cache[h])
		h = (h + 1) & (d->cache_cap - 1);
	d->cache[h] = st;
	d->cache_len++;
	return &st->base;
}

static int param_index(struct sqlite_stmt *st, int idx)
{
	if (idx < 1 || idx > SQLITE_PARAMS_MAX || st->map[idx] == 0)
		return -1;
	return st->map[idx];
}

static int s_bind_int64(struct db_stmt *base, int idx, int64_t v)
{
	struct sqlite_stmt *st = (struct sqlite_stmt *)base;
	int i = param_index(st, idx);
	if (i < 0)
		return DB_ERR;
	return map_rc(sqlite3_bind_int64(st->s, i, v));
}

static int bind_text_as(struct db_stmt *base, int idx, const char *s, size_t len,
			sqlite3_destructor_type how)
{
	struct sqlite_stmt *st = (struct sqlite_stmt *)base;
	int i = param_index(st, idx);
	if (i < 0)
		return DB_ERR;
	return map_rc(sqlite3_bind_text64(st->s, i, s, len, how, SQLITE_UTF8));
}

static int s_bind_text(struct db_stmt *base, int idx, const char *s, size_t len)
{
	return bind_text_as(base, idx, s, len, SQLITE_TRANSIENT);
}

/* SQLITE_STATIC: the caller keeps s until the reset (db.h); s_reset clears the bindings */
static int s_bind_text_ref(struct db_stmt *base, int idx, const char *s, size_t len)
{
	return bind_text_as(base, idx, s, len, SQLITE_STATIC);
}

static int s_bind_blob(struct db_stmt *base, int idx, const void *p, size_t len)
{
	struct sqlite_stmt *st = (struct sqlite_stmt *)base;
	int i = param_index(st, idx);
	if (i < 0)
		return DB_ERR;
	return map_rc(sqlite3_bind_blob64(st->s, i, p, len, SQLITE_TRANSIENT));
}

static int s_bind_null(struct db_stmt *base, int idx)
{
	struct sqlite_stmt *st = (struct sqlite_stmt *)base;
	int i = param_index(st, idx);
	if (i < 0)
		return DB_ERR;
	return map_rc(sqlite3_bind_null(st->s, i));
}

static int s_step(struct db_stmt *base)
{
	struct sqlite_stmt *st = (struct sqlite_stmt *)base;
	((struct sqlite_db *)base->db)->steps++;
	int rc = sqlite3_step(st->s);
	if (rc == SQLITE_DONE)
		st->changes = sqlite3_changes64(sqlite3_db_handle(st->s));
	return map_rc(rc);
}

static void s_reset(struct db_stmt *base)
{
	struct sqlite_stmt *st = (struct sqlite_stmt *)base;
	sqlite3_reset(st->s);
	sqlite3_clear_bindings(st->s);
}

static int s_col_count(struct db_stmt *base)
{
	return sqlite3_column_count(((struct sqlite_stmt *)base)->s);
}

static bool s_col_is_null(struct db_stmt *base, int col)
{
	return sqlite3_column_type(((struct sqlite_stmt *)base)->s, col) == SQLITE_NULL;
}

static int64_t s_col_int64(struct db_stmt *base, int col)
{
	return sqlite3_column_int64(((struct sqlite_stmt *)base)->s, col);
}

static const char *s_col_text(struct db_stmt *base, int col, size_t *ret_len)
{
	sqlite3_stmt *s = ((struct sqlite_stmt *)base)->s;
	if (sqlite3_column_type(s, col) == SQLITE_NULL) {
		if (ret_len)
			*ret_len = 0;
		return NULL;
	}
	const char *t = (const char *)sqlite3_column_text(s, col);
	if (ret_len)
		*ret_len = (size_t)sqlite3_column_bytes(s, col);
	return t;
}

static const void *s_col_blob(struct db_stmt *base, int col, size_t *ret_len)
{
	sqlite3_stmt *s = ((struct sqlite_stmt *)base)->s;
	if (sqlite3_column_type(s, col) == SQLITE_NULL) {
		if (ret_len)
			*ret_len = 0;
		return NULL;
	}
	const void *p = sqlite3_column_blob(s, col);
	if (ret_len)
		*ret_len = (size_t)sqlite3_column_bytes(s, col);
	return p;
}

static int64_t s_changes(struct db_stmt *base)
{
	return ((struct sqlite_stmt *)base)->changes;
}

static int s_exec(struct db *db, const char *sql)
{
	struct sqlite_db *d = (struct sqlite_db *)db;
	char *msg = NULL;
	int rc = sqlite3_exec(d->h, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		log_msg(LOG_ERROR, "sqlite exec failed: %s", msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
	}
	return rc == SQLITE_OK ? DB_OK : map_rc(rc);
}

static const char *s_errmsg(struct db *db)
{
	return sqlite3_errmsg(((struct sqlite_db *)db)->h);
}

static const struct db_ops sqlite_ops = {
    .kind = DB_SQLITE,
    .prepare = s_prepare,
    .bind_int64 = s_bind_int64,
    .bind_text = s_bind_text,
    .bind_text_ref = s_bind_text_ref,
    .bind_blob = s_bind_blob,
    .bind_null = s_bind_null,
    .step = s_step,
    .reset = s_reset,
    .col_count = s_col_count,
    .col_is_null = s_col_is_null,
    .col_int64 = s_col_int64,
    .col_text = s_col_text,
    .col_blob = s_col_blob,
    .changes = s_changes,
    .exec = s_exec,
    .errmsg = s_errmsg,
};

/*
 * Process-wide SQLite settings, made once before the library initializes (sqlite3_config refuses
 * them afterwards, harmlessly: the defaults then stay).
 * - MEMSTATUS off: with it on, every sqlite3_malloc and free takes one global mutex to keep
 *   statistics nobody here reads, and the writer and every reader allocate all the time.
 * - Statement journals in 1 MiB chunks. Each payment runs in its own SAVEPOINT, so the first
 *   change to a page inside it copies the page into the statement journal. Kept in memory (with
 *   temp_store=MEMORY) that journal grows in ~1 KiB chunks: five mallocs per 4 KiB page, ~35
 *   pages per payment, all freed again at RELEASE (perf: ~12 % of the writer's time in malloc,
 *   free and their copies). With a spill size the chunks are that size, one per payment; a
 *   journal larger than 1 MiB spills to a temporary file.
 */
static pthread_once_t sqlite_config_once = PTHREAD_ONCE_INIT;

static void sqlite_config(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, 1 << 20);
}

struct db *sqlite_db_open(const char *path, int readonly, char *err, size_t errlen)
{
	pthread_once(&sqlite_config_once, sqlite_config);
	struct sqlite_db *d = calloc(1, sizeof(*d));
	if (!d) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->base.ops = &sqlite_ops;
	int flags = SQLITE_OPEN_NOMUTEX |
		    (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	/* read-write connections gather each commit's WAL frames into one write (store/walbuf.h) */
	const char *vfs = !readonly && walbuf_register() == SQLITE_OK ? WALBUF_VFS : NULL;
	int rc = sqlite3_open_v2(path, &d->h, flags, vfs);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "cannot open %s: %s", path,
			 d->h ? sqlite3_errmsg(d->h) : sqlite3_errstr(rc));
		sqlite3_close(d->h);
		free(d);
		return NULL;
	}
	sqlite3_extended_result_codes(d->h, 1);
	/* The writer runs ~30 statements per payment: a larger lookaside (SQLite's per-connection
	 * bump allocator for small objects) keeps most of their allocations out of malloc. */
	if (!readonly)
		sqlite3_db_config(d->h, SQLITE_DBCONFIG_LOOKASIDE, NULL, 1024, 2048);
	sqlite3_busy_timeout(d->h, 10000);
	/* WAL + synchronous=FULL: a COMMIT returns only after the WAL is fsync'd, which is what
	 * "a response is sent only after its effects are durable" needs. */
	/* mmap for the writer only. A reader's first transaction after any commit finds the WAL
	 * changed, and SQLite then drops not only its page cache but its whole mapping of the file
	 * (pagerBeginReadTransaction → sqlite3OsUnfetch(fd, 0, 0)): under write load every reader
	 * munmapped ~120 MB several times a second, each a TLB shootdown across both cores plus
	 * page faults to map the pages again (perf: 5 % of all CPU, in the request workers). pread
	 * from the OS page cache costs a syscall and a 4 KiB copy per page instead. The writer
	 * never sees its own commits as a change, so its mapping lasts. Readers' page caches are 2
	 * MiB (SQLite's default): there are ~70 of them (one per HTTP thread), a commit empties
	 * them anyway, and at 8 MiB the ones that did fill grew the heap by ~7 MB over the first
	 * minutes of a soak (malloc_stats: one arena +5 MB in 95 s, none with 1 MiB caches) with no
	 * measurable gain for reads. */
	const char *pragmas = readonly ? "PRAGMA query_only=1; PRAGMA cache_size=-2000;"
					 "PRAGMA mmap_size=0;"
				       : "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
					 "PRAGMA cache_size=-32000;"
					 "PRAGMA mmap_size=1073741824;";
	char *msg = NULL;
	if (sqlite3_exec(d->h, pragmas, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "cannot configure %s: %s", path, msg ? msg : "?");
		sqlite3_free(msg);
		sqlite3_close(d->h);
		free(d);
		return NULL;
	}
	return &d->base;
}

void sqlite_db_close(struct db *db)
{
	if (!db)
		return;
	struct sqlite_db *d = (struct sqlite_db *)db;
	for (size_t i = 0; i < d->cache_cap; i++) {
		if (d->cache[i]) {
			sqlite3_finalize(d->cache[i]->s);
			free(d->cache[i]);
		}
	}
	free(d->cache);
	db_counters_free(db);
	sqlite3_close(d->h);
	free(d);
}

/* Called by SQLite after each commit with the number of frames now in the WAL (which restarts
 * from frame 1 after a checkpoint has copied everything back). */
static int wal_hook(void *p, sqlite3 *h, const char *name, int frames)
{
	(void)h;
	(void)name;
	struct sqlite_db *d = p;
	d->wal_frames += frames >= d->wal_last ? frames - d->wal_last : frames;
	d->wal_last = frames;
	return SQLITE_OK;
}

void sqlite_db_track_wal(struct db *db)
{
	struct sqlite_db *d = (struct sqlite_db *)db;
	sqlite3_wal_hook(d->h, wal_hook, d);
}

int64_t sqlite_db_cache_bytes(struct db *db)
{
	int cur = 0, hi = 0;
	sqlite3_db_status(((struct sqlite_db *)db)->h, SQLITE_DBSTATUS_CACHE_USED, &cur, &hi, 0);
	return cur;
}

int sqlite_db_wal_size(struct db *db)
{
	return ((struct sqlite_db *)db)->wal_last;
}

void sqlite_db_stats(struct db *db, int64_t *ret_steps, int64_t *ret_wal_frames)
{
	struct sqlite_db *d = (struct sqlite_db *)db;
	*ret_steps = d->steps;
	*ret_wal_frames = d->wal_frames;
}

int sqlite_db_in_tx(struct db *db)
{
	return !sqlite3_get_autocommit(((struct sqlite_db *)db)->h);
}

/*
 * PostgreSQL backend of struct db (libpq).
 *
 * One struct pg_db is one server connection. Statements are prepared once per connection with
 * PQprepare and cached in an open-addressing table keyed by the address of the SQL text, exactly
 * as sqlite_db.c does; the server-side name is "t<N>". Parameters travel in text format with
 * their types left to the server's inference (modules write `$7 IS NULL OR col = $7`, `LIMIT $3`,
 * which PostgreSQL types from context), except blobs, which travel in binary format so no bytea
 * escaping is involved. The number of parameters a statement takes is read from its SQL (the
 * highest $N outside string literals), so a caller may leave a parameter unbound: it is NULL, as
 * in SQLite.
 *
 * db_step executes the statement on its first call and fetches the whole result (every module
 * query is bounded by LIMIT or by a primary key), then walks its rows. Results are in text
 * format: libpq's values are NUL-terminated, bytea is decoded with PQunescapeBytea into a buffer
 * that lives until the next step or reset, and integers are parsed with strtoll ('t'/'f' booleans
 * read as 1/0 so `SELECT a = b` means the same on both engines).
 *
 * Errors are classified by SQLSTATE: class 23 is DB_CONSTRAINT; 40001 (serialization failure),
 * 40P01 (deadlock) and 55P03 (lock not available) are DB_BUSY and mark the connection so the
 * store retries the whole transaction; class 08 and 57P0x (connection lost, server shutting
 * down) mark it broken so the store reconnects. Error messages kept for db_errmsg carry the
 * SQLSTATE and PostgreSQL's primary message, never its DETAIL (which quotes key values), and for
 * data exceptions (class 22) not even the message, which may quote the offending input.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/str.h"
#include "store/db_impl.h"

#define PG_PARAMS_MAX 64
#define PG_STMT_CACHE_MIN 64
#define PG_INT_TEXT 24

struct pg_stmt {
	struct db_stmt base;
	const char *sql;
	char name[16];
	int nparams;
	char *vals[PG_PARAMS_MAX];
	int lens[PG_PARAMS_MAX];
	int fmts[PG_PARAMS_MAX];
	char ints[PG_PARAMS_MAX][PG_INT_TEXT];
	char *owned[PG_PARAMS_MAX];
	PGresult *res;
	int executed;
	int row;
	int nrows;
	int64_t changes;
	unsigned char *blobs[8]; /* decoded bytea of the current row, freed on step/reset */
	int nblobs;
};

struct pg_db {
	struct db base;
	PGconn *c;
	struct pg_stmt **cache;
	size_t cache_cap;
	size_t cache_len;
	unsigned next_name;
	int retryable; /* a serialization failure or deadlock happened since the last clear */
	int broken;    /* the connection was lost */
	char sqlstate[6];
	char err[512];
};

static const struct db_ops pg_ops;
static int p_exec(struct db *db, const char *sql);

static size_t ptr_hash(const void *p, size_t cap)
{
	uintptr_t x = (uintptr_t)p;
	x ^= x >> 17;
	x *= 0x9E3779B97F4A7C15ull;
	return (size_t)(x >> 7) & (cap - 1);
}

/* Records res's error (or the connection's) and classifies it. */
static int note_error(struct pg_db *d, const PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *constraint = res ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL;
	if (!state) {
		/* no result or no SQLSTATE: a client-side or connection failure */
		snprintf(d->sqlstate, sizeof(d->sqlstate), "08000");
		const char *m = PQerrorMessage(d->c);
		snprintf(d->err, sizeof(d->err), "connection error: %s", m && m[0] ? m : "unknown");
		size_t n = strlen(d->err);
		while (n > 0 && (d->err[n - 1] == '\n' || d->err[n - 1] == ' '))
			d->err[--n] = '\0';
		if (PQstatus(d->c) != CONNECTION_OK)
			d->broken = 1;
		return DB_ERR;
	}
	str_copy(d->sqlstate, sizeof(d->sqlstate), state);
	if (state[0] == '2' && state[1] == '2')
		snprintf(d->err, sizeof(d->err), "SQLSTATE %s: invalid value for a column type",
			 state);
	else if (state[0] == '2' && state[1] == '3')
		snprintf(d->err, sizeof(d->err), "SQLSTATE %s: constraint %s violated", state,
			 constraint ? constraint : "?");
	else
		snprintf(d->err, sizeof(d->err), "SQLSTATE %s: %s", state, primary ? primary : "?");
	if (state[0] == '2' && state[1] == '3')
		return DB_CONSTRAINT;
	if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
	    strcmp(state, "55P03") == 0) {
		d->retryable = 1;
		return DB_BUSY;
	}
	if ((state[0] == '0' && state[1] == '8') || strncmp(state, "57P0", 4) == 0 ||
	    PQstatus(d->c) != CONNECTION_OK)
		d->broken = 1;
	return DB_ERR;
}

static int cache_grow(struct pg_db *d)
{
	size_t ncap = d->cache_cap ? d->cache_cap * 2 : PG_STMT_CACHE_MIN;
	struct pg_stmt **n = calloc(ncap, sizeof(*n));
	if (!n)
		return -1;
	for (size_t i = 0; i < d->cache_cap; i++) {
		struct pg_stmt *st = d->cache[i];
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

/* The highest $N in sql outside quoted literals and identifiers; -1 if one is out of range. */
static int count_params(const char *sql)
{
	int max = 0;
	char quote = 0;
	for (const char *p = sql; *p; p++) {
		if (quote) {
			if (*p == quote)
				quote = 0;
			continue;
		}
		if (*p == '\'' || *p == '"') {
			quote = *p;
			continue;
		}
		if (*p != '$' || p[1] < '0' || p[1] > '9')
			continue;
		int n = 0;
		const char *q = p + 1;
		while (*q >= '0' && *q <= '9' && n <= PG_PARAMS_MAX)
			n = n * 10 + (*q++ - '0');
		if (n < 1 || n > PG_PARAMS_MAX)
			return -1;
		if (n > max)
			max = n;
		p = q - 1;
	}
	return max;
}

static void free_blobs(struct pg_stmt *st)
{
	for (int i = 0; i < st->nblobs; i++)
		PQfreemem(st->blobs[i]);
	st->nblobs = 0;
}

static void clear_params(struct pg_stmt *st)
{
	for (int i = 0; i < st->nparams; i++) {
		free(st->owned[i]);
		st->owned[i] = NULL;
		st->vals[i] = NULL;
		st->lens[i] = 0;
		st->fmts[i] = 0;
	}
}

static void stmt_free(struct pg_stmt *st)
{
	if (!st)
		return;
	free_blobs(st);
	clear_params(st);
	PQclear(st->res);
	free(st);
}

#define TEXT_OID 25
#define INT8_OID 20

/* The parameter number in "could not determine data type of parameter $N", or 0. */
static int undetermined_param(const PGresult *res)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	if (!state || strcmp(state, "42P08") != 0 || !m)
		return 0;
	const char *dollar = strrchr(m, '$');
	if (!dollar)
		return 0;
	char *end = NULL;
	long v = strtol(dollar + 1, &end, 10);
	return end != dollar + 1 && v >= 1 && v <= PG_PARAMS_MAX ? (int)v : 0;
}

/*
 * PQprepare with the server inferring every parameter's type. PostgreSQL types a parameter at
 * its first use, so `$2 IS NULL OR col = $2` (an optional filter) leaves $2 undetermined; such a
 * parameter is then declared text, and if text does not fit its later use (`$3 IS NULL OR
 * created >= $3` on a BIGINT column) bigint. Values are sent as text either way. Bounded: each
 * parameter is retyped at most twice, once per connection and statement.
 */
static PGresult *prepare_typed(struct pg_db *d, const char *name, const char *sql, int n, int in_tx)
{
	Oid types[PG_PARAMS_MAX] = {0};
	int last = 0;
	PGresult *res = PQprepare(d->c, name, sql, 0, NULL);
	for (int tries = 0; tries < 2 * PG_PARAMS_MAX && res; tries++) {
		if (PQresultStatus(res) == PGRES_COMMAND_OK)
			return res;
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		int p = undetermined_param(res);
		if (p > 0 && p <= n && types[p - 1] == 0) {
			types[p - 1] = TEXT_OID;
			last = p;
		} else if (last > 0 && types[last - 1] == TEXT_OID && state &&
			   (strcmp(state, "42883") == 0 || strcmp(state, "42804") == 0)) {
			types[last - 1] =
			    INT8_OID; /* operator does not exist / datatype mismatch */
		} else {
			return res;
		}
		PQclear(res);
		if (in_tx && p_exec(&d->base, "ROLLBACK TO SAVEPOINT tender_prepare") != DB_OK)
			return NULL;
		res = PQprepare(d->c, name, sql, n, types);
	}
	return res;
}

static struct db_stmt *p_prepare(struct db *db, const char *sql)
{
	struct pg_db *d = (struct pg_db *)db;
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
	int n = count_params(sql);
	if (n < 0) {
		snprintf(d->err, sizeof(d->err), "statement uses a parameter beyond $%d",
			 PG_PARAMS_MAX);
		return NULL;
	}
	struct pg_stmt *st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	st->base.db = db;
	st->sql = sql;
	st->nparams = n;
	snprintf(st->name, sizeof(st->name), "t%u", d->next_name++);
	/* A failed Parse aborts the transaction it runs in, and the typing above may need a few:
	 * inside a transaction they run under a savepoint (once per connection and statement;
	 * prepared statements themselves are not transactional and survive it). */
	int in_tx = PQtransactionStatus(d->c) == PQTRANS_INTRANS;
	if (in_tx && p_exec(db, "SAVEPOINT tender_prepare") != DB_OK) {
		free(st);
		return NULL;
	}
	PGresult *res = prepare_typed(d, st->name, sql, n, in_tx);
	int ok = res && PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok)
		note_error(d, res);
	if (in_tx) {
		char keep[sizeof(d->err)];
		memcpy(keep, d->err, sizeof(keep));
		p_exec(db, ok ? "RELEASE SAVEPOINT tender_prepare"
			      : "ROLLBACK TO SAVEPOINT tender_prepare");
		memcpy(d->err, keep, sizeof(keep));
	}
	if (!ok) {
		PQclear(res);
		/* SQL is a static literal: it may be logged, it carries no values */
		log_msg(LOG_ERROR, "postgres prepare failed: %s; sql: %.300s", d->err, sql);
		free(st);
		return NULL;
	}
	PQclear(res);
	size_t h = ptr_hash(sql, d->cache_cap);
	while (d->cache[h])
		h = (h + 1) & (d->cache_cap - 1);
	d->cache[h] = st;
	d->cache_len++;
	return &st->base;
}

static int check_idx(struct pg_stmt *st, int idx)
{
	if (idx < 1 || idx > st->nparams)
		return -1;
	free(st->owned[idx - 1]);
	st->owned[idx - 1] = NULL;
	return idx - 1;
}

static int p_bind_int64(struct db_stmt *base, int idx, int64_t v)
{
	struct pg_stmt *st = (struct pg_stmt *)base;
	int i = check_idx(st, idx);
	if (i < 0)
		return DB_ERR;
	snprintf(st->ints[i], PG_INT_TEXT, "%lld", (long long)v);
	st->vals[i] = st->ints[i];
	st->lens[i] = 0;
	st->fmts[i] = 0;
	return DB_OK;
}

static int p_bind_text(struct db_stmt *base, int idx, const char *s, size_t len)
{
	struct pg_stmt *st = (struct pg_stmt *)base;
	int i = check_idx(st, idx);
	if (i < 0 || len > 0x3fffffff)
		return DB_ERR;
	char *copy = malloc(len + 1);
	if (!copy)
		return DB_ERR;
	memcpy(copy, s, len);
	copy[len] = '\0';
	st->owned[i] = copy;
	st->vals[i] = copy;
	st->lens[i] = 0;
	st->fmts[i] = 0;
	return DB_OK;
}

static int p_bind_blob(struct db_stmt *base, int idx, const void *p, size_t len)
{
	struct pg_stmt *st = (struct pg_stmt *)base;
	int i = check_idx(st, idx);
	if (i < 0 || len > 0x3fffffff)
		return DB_ERR;
	char *copy = malloc(len ? len : 1);
	if (!copy)
		return DB_ERR;
	if (len)
		memcpy(copy, p, len);
	st->owned[i] = copy;
	st->vals[i] = copy;
	st->lens[i] = (int)len;
	st->fmts[i] = 1; /* binary: a bytea parameter's binary form is its bytes */
	return DB_OK;
}

static int p_bind_null(struct db_stmt *base, int idx)
{
	struct pg_stmt *st = (struct pg_stmt *)base;
	int i = check_idx(st, idx);
	if (i < 0)
		return DB_ERR;
	st->vals[i] = NULL;
	st->lens[i] = 0;
	st->fmts[i] = 0;
	return DB_OK;
}

static int p_step(struct db_stmt *base)
{
	struct pg_stmt *st = (struct pg_stmt *)base;
	struct pg_db *d = (struct pg_db *)base->db;
	free_blobs(st);
	if (!st->executed) {
		st->executed = 1;
		st->row = -1;
		st->nrows = 0;
		st->changes = 0;
		PQclear(st->res);
		st->res = PQexecPrepared(d->c, st->name, st->nparams, (const char *const *)st->vals,
					 st->lens, st->fmts, 0);
		ExecStatusType es = st->res ? PQresultStatus(st->res) : PGRES_FATAL_ERROR;
		if (es == PGRES_TUPLES_OK) {
			st->nrows = PQntuples(st->res);
		} else if (es != PGRES_COMMAND_OK) {
			int rc = note_error(d, st->res);
			PQclear(st->res);
			st->res = NULL;
			st->executed = 2; /* failed: further steps repeat the failure */
			return rc;
		}
		const char *ct = PQcmdTuples(st->res);
		if (ct && ct[0])
			st->changes = strtoll(ct, NULL, 10);
	} else if (st->executed == 2) {
		return DB_ERR;
	}
	if (st->row + 1 < st->nrows) {
		st->row++;
		return DB_ROW;
	}
	st->row = st->nrows;
	return DB_DONE;
}

static void p_reset(struct db_stmt *base)
{
	struct pg_stmt *st = (struct pg_stmt *)base;
	free_blobs(st);
	clear_params(st);
	PQclear(st->res);
	st->res = NULL;
	st->executed = 0;
	st->row = -1;
	st->nrows = 0;
}

static bool row_ok(struct pg_stmt *st, int col)
{
	return st->res && st->row >= 0 && st->row < st->nrows && col >= 0 &&
	       col < PQnfields(st->res);
}

static int p_col_count(struct db_stmt *base)
{
	struct pg_stmt *st = (struct pg_stmt *)base;
	return st->res ? PQnfields(st->res) : 0;
}

static bool p_col_is_null(struct db_stmt *base, int col)
{
	struct pg_stmt *st = (struct pg_stmt *)base;
	return !row_ok(st, col) || PQgetisnull(st->res, st->row, col);
}

static int64_t p_col_int64(struct db_stmt *base, int col)
{
	struct pg_stmt *st = (struct pg_stmt *)base;
	if (p_col_is_null(base, col))
		return 0;
	const char *v = PQgetvalue(st->res, st->row, col);
	if (v[0] == 't' && v[1] == '\0')
		return 1;
	if (v[0] == 'f' && v[1] == '\0')
		return 0;
	return strtoll(v, NULL, 10);
}

static const char *p_col_text(struct db_stmt *base, int col, size_t *ret_len)
{
	struct pg_stmt *st = (struct pg_stmt *)base;
	if (p_col_is_null(base, col)) {
		if (ret_len)
			*ret_len = 0;
		return NULL;
	}
	if (ret_len)
		*ret_len = (size_t)PQgetlength(st->res, st->row, col);
	return PQgetvalue(st->res, st->row, col);
}

#define BYTEA_OID 17

static const void *p_col_blob(struct db_stmt *base, int col, size_t *ret_len)
{
	struct pg_stmt *st = (struct pg_stmt *)base;
	if (p_col_is_null(base, col)) {
		if (ret_len)
			*ret_len = 0;
		return NULL;
	}
	const char *v = PQgetvalue(st->res, st->row, col);
	if (PQftype(st->res, col) != BYTEA_OID) {
		/* a text column read as bytes: its bytes */
		if (ret_len)
			*ret_len = (size_t)PQgetlength(st->res, st->row, col);
		return v;
	}
	if (st->nblobs >= (int)(sizeof(st->blobs) / sizeof(st->blobs[0])))
		return NULL;
	size_t n = 0;
	unsigned char *b = PQunescapeBytea((const unsigned char *)v, &n);
	if (!b)
		return NULL;
	st->blobs[st->nblobs++] = b;
	if (ret_len)
		*ret_len = n;
	return b;
}

static int64_t p_changes(struct db_stmt *base)
{
	return ((struct pg_stmt *)base)->changes;
}

static int p_exec(struct db *db, const char *sql)
{
	struct pg_db *d = (struct pg_db *)db;
	PGresult *res = PQexec(d->c, sql);
	ExecStatusType es = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	int rc = DB_OK;
	if (es != PGRES_COMMAND_OK && es != PGRES_TUPLES_OK && es != PGRES_EMPTY_QUERY)
		rc = note_error(d, res);
	PQclear(res);
	return rc;
}

static const char *p_errmsg(struct db *db)
{
	return ((struct pg_db *)db)->err;
}

static const struct db_ops pg_ops = {
    .kind = DB_POSTGRES,
    .prepare = p_prepare,
    .bind_int64 = p_bind_int64,
    .bind_text = p_bind_text,
    .bind_blob = p_bind_blob,
    .bind_null = p_bind_null,
    .step = p_step,
    .reset = p_reset,
    .col_count = p_col_count,
    .col_is_null = p_col_is_null,
    .col_int64 = p_col_int64,
    .col_text = p_col_text,
    .col_blob = p_col_blob,
    .changes = p_changes,
    .exec = p_exec,
    .errmsg = p_errmsg,
};

static void notice_quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message; /* "relation already exists, skipping" and the like: not worth a log line */
}

struct db *pg_db_open(const char *conninfo, char *err, size_t errlen)
{
	struct pg_db *d = calloc(1, sizeof(*d));
	if (!d) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->base.ops = &pg_ops;
	d->c = PQconnectdb(conninfo);
	if (!d->c || PQstatus(d->c) != CONNECTION_OK) {
		const char *m = d->c ? PQerrorMessage(d->c) : "out of memory";
		snprintf(err, errlen, "cannot connect to PostgreSQL: %s", m);
		size_t n = strlen(err);
		while (n > 0 && (err[n - 1] == '\n' || err[n - 1] == ' '))
			err[--n] = '\0';
		PQfinish(d->c);
		free(d);
		return NULL;
	}
	PQsetNoticeProcessor(d->c, notice_quiet, NULL);
	/* Integers and times are always bound as text and parsed back; pin the formats that the
	 * text depends on so no server default changes their meaning. */
	if (p_exec(&d->base,
		   "SET client_encoding = 'UTF8'; SET DateStyle = 'ISO';"
		   "SET standard_conforming_strings = on; SET bytea_output = 'hex'") != DB_OK) {
		snprintf(err, errlen, "cannot configure the PostgreSQL session: %s", d->err);
		PQfinish(d->c);
		free(d);
		return NULL;
	}
	return &d->base;
}

static void drop_cache(struct pg_db *d)
{
	for (size_t i = 0; i < d->cache_cap; i++) {
		stmt_free(d->cache[i]);
		d->cache[i] = NULL;
	}
	d->cache_len = 0;
}

void pg_db_close(struct db *db)
{
	if (!db)
		return;
	struct pg_db *d = (struct pg_db *)db;
	db_counters_free(db);
	drop_cache(d);
	free(d->cache);
	PQfinish(d->c);
	free(d);
}

int pg_db_tx_state(struct db *db)
{
	struct pg_db *d = (struct pg_db *)db;
	if (d->broken || PQstatus(d->c) != CONNECTION_OK)
		return PG_TX_BROKEN;
	switch (PQtransactionStatus(d->c)) {
	case PQTRANS_IDLE:
		return PG_TX_IDLE;
	case PQTRANS_INTRANS:
		return PG_TX_OPEN;
	case PQTRANS_INERROR:
		return PG_TX_FAILED;
	default:
		return PG_TX_BROKEN;
	}
}

int pg_db_retryable(struct db *db)
{
	return ((struct pg_db *)db)->retryable;
}

void pg_db_clear_error(struct db *db)
{
	struct pg_db *d = (struct pg_db *)db;
	d->retryable = 0;
	d->sqlstate[0] = '\0';
}

const char *pg_db_sqlstate(struct db *db)
{
	return ((struct pg_db *)db)->sqlstate;
}

int pg_db_reconnect(struct db *db)
{
	struct pg_db *d = (struct pg_db *)db;
	/* the server forgot every prepared statement along with the session */
	drop_cache(d);
	PQreset(d->c);
	if (PQstatus(d->c) != CONNECTION_OK)
		return DB_ERR;
	d->broken = 0;
	d->retryable = 0;
	PQsetNoticeProcessor(d->c, notice_quiet, NULL);
	if (p_exec(db, "SET client_encoding = 'UTF8'; SET DateStyle = 'ISO';"
		       "SET standard_conforming_strings = on; SET bytea_output = 'hex'") != DB_OK)
		return DB_ERR;
	return DB_OK;
}

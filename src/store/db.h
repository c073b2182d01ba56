/*
 * struct db: one database connection, SQLite or PostgreSQL, behind one small interface.
 *
 * Every module writes its SQL once, in the dialect both engines share: `$1, $2 …` placeholders
 * (SQLite accepts them too; the SQLite backend maps $N to its own index), `INSERT … ON CONFLICT
 * DO NOTHING`, `RETURNING`, row values `(a, b) < ($1, $2)`. Statements are prepared once per
 * connection and cached, keyed by the address of the SQL string, so SQL must be a string literal
 * (or otherwise live for the whole process). There is no way to run a formatted SQL string with
 * values in it: values only ever travel as bound parameters.
 *
 * Usage:
 *     static const char SQL_GET[] = "SELECT name, created FROM customers WHERE merchant_id = $1 AND
 * id = $2"; struct db_stmt *st = db_prepare(db, SQL_GET); if (!st) return DB_ERR; db_bind_text(st,
 * 1, merchant_id, -1); db_bind_text(st, 2, id, -1); int rc = db_step(st);   // DB_ROW, DB_DONE, or
 * < 0 if (rc == DB_ROW) { const char *name = db_col_text(st, 0, NULL); ... } db_reset(st); //
 * always: returns the statement to the cache, clears bindings
 *
 * Column text/blob pointers stay valid until the next db_step/db_reset on that statement.
 * Connections are not thread-safe; each is used by one thread at a time.
 */
#ifndef TENDER_STORE_DB_H
#define TENDER_STORE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct db;
struct db_stmt;

enum db_rc {
	DB_OK = 0,
	DB_ROW = 1,
	DB_DONE = 2,
	DB_ERR = -1,	    /* unexpected engine error (logged by the store layer) */
	DB_CONSTRAINT = -2, /* unique / foreign key / check violation */
	DB_BUSY = -3,	  /* lock timeout, serialization failure, deadlock: the tx may be retried */
	DB_NOTFOUND = -4, /* convenience code for helpers that look one row up */
	DB_CONFLICT = -5, /* a conditional update's guard did not hold (0 rows changed) */
};

enum db_kind { DB_SQLITE = 1, DB_POSTGRES = 2 };

enum db_kind db_kind(const struct db *db);

struct db_stmt *db_prepare(struct db *db, const char *sql);
int db_bind_int64(struct db_stmt *st, int idx, int64_t v);
/* len < 0 means strlen(s). s == NULL binds NULL. */
int db_bind_text(struct db_stmt *st, int idx, const char *s, ptrdiff_t len);
/* The same, without a copy: s must stay valid and unchanged until the statement has been stepped
 * to completion and reset (db_step_done). For large values bound right before the step (an
 * event's object JSON, a saved response). */
int db_bind_text_ref(struct db_stmt *st, int idx, const char *s, ptrdiff_t len);
int db_bind_blob(struct db_stmt *st, int idx, const void *p, size_t len);
int db_bind_null(struct db_stmt *st, int idx);
int db_step(struct db_stmt *st);
void db_reset(struct db_stmt *st);

int db_col_count(struct db_stmt *st);
bool db_col_is_null(struct db_stmt *st, int col);
int64_t db_col_int64(struct db_stmt *st, int col);
/* NULL when the column is NULL. ret_len may be NULL. */
const char *db_col_text(struct db_stmt *st, int col, size_t *ret_len);
const void *db_col_blob(struct db_stmt *st, int col, size_t *ret_len);

/* Rows changed by the last INSERT/UPDATE/DELETE executed through st. */
int64_t db_changes(struct db_stmt *st);

/* Runs SQL without parameters (DDL, BEGIN/COMMIT/SAVEPOINT). Never pass values in it. */
int db_exec(struct db *db, const char *sql);

/* Last engine error message for logging (never contains bound values). */
const char *db_errmsg(struct db *db);

/*
 * Counters that most transactions bump (the fraud model's velocity per card, IP, customer):
 * `sql` is an upsert taking the key as $1..$3 (text) and $4 (integer) and the deltas as $5..$7,
 * and `update` the same deltas as an UPDATE of the key's row, with the same parameters: it runs
 * first, and the upsert only when it changed no row. On a connection that gathers many
 * transactions into one (the SQLite group-commit writer) the deltas are summed in memory per key
 * and written once per group, just before its COMMIT, in the same transaction: thirty payments
 * with the same card cost one write instead of thirty. A transaction rolled back to its
 * savepoint takes its deltas with it. Everywhere else the counter is written at once, and so is
 * one with a text key of DB_COUNTER_KEY_MAX bytes or more.
 */
#define DB_COUNTER_KEY_MAX 128
int db_counter_add(struct db *db, const char *sql, const char *update, const char *k1,
		   const char *k2, const char *k3, int64_t k4, int64_t d1, int64_t d2, int64_t d3);

/* An event of `type` appended in the current transaction: the metrics count it once the
 * transaction commits (src/metrics/metrics.h), never for one rolled back or run again. */
void db_tally_event(struct db *db, const char *type);

/* The write callback running on this connection: a number no other run of a callback has had
 * (each rerun of a job gets a new one), 0 outside any (reads, the CLI's own transactions). What a
 * callback reads more than once and nothing else can change within that one transaction may be
 * kept for its duration under this number (webhooks_outbox's endpoints). */
uint64_t db_job(const struct db *db);

/* The shape of most single-object statements, $1 = merchant_id and $2 = id (or another key).
 * db_row_by_id steps sql to its first row: DB_OK with *ret_st on it (the caller reads its
 * columns, then db_reset), DB_NOTFOUND (no row; reset already), or < 0. db_run_by_id runs a
 * statement without result rows: DB_OK or < 0. */
int db_row_by_id(struct db *db, const char *sql, const char *merchant_id, const char *id,
		 struct db_stmt **ret_st);
int db_run_by_id(struct db *db, const char *sql, const char *merchant_id, const char *id);

/* One-shot helpers: run a statement with no result rows; returns DB_OK or < 0. */
int db_step_done(struct db_stmt *st);
/* The same for an INSERT/UPDATE/DELETE whose caller wants the number of rows it changed (a
 * conditional update that changed none lost its race): DB_OK with *ret_n, or < 0. */
int db_step_changes(struct db_stmt *st, int64_t *ret_n);
/* A nullable time or count column (NULL reads 0), and its bind (0 binds NULL). */
int64_t db_col_int64_or0(struct db_stmt *st, int col);
void db_bind_int64_or_null(struct db_stmt *st, int idx, int64_t v);

#endif

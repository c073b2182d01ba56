#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/db.h"
#include "store/db_impl.h"
#include "store/walbuf.h"

static char dir[256];
static char path[300];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/tender-unit-walbuf-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t.db", dir);
	cr_assert_eq(walbuf_register(), SQLITE_OK);
}

static void teardown(void)
{
	char cmd[320];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(walbuf, .init = setup, .fini = teardown);

/* A read-write connection through the shim, in WAL mode with synchronous=NORMAL (the store's
 * writer: nothing syncs inside a commit, so only the shim's own rule writes the frames). */
static sqlite3 *open_writer(void)
{
	sqlite3 *h = NULL;
	cr_assert_eq(
	    sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, WALBUF_VFS),
	    SQLITE_OK);
	cr_assert_eq(
	    sqlite3_exec(h,
			 "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
			 " PRAGMA wal_autocheckpoint=0;"
			 /* the numbers 1..2000 as a table (Debian's library has no
			  * generate_series) */
			 " CREATE TABLE IF NOT EXISTS nums (value INTEGER PRIMARY KEY);"
			 " INSERT OR IGNORE INTO nums WITH RECURSIVE s(v) AS (SELECT 1 UNION ALL"
			 " SELECT v + 1 FROM s WHERE v < 2000) SELECT v FROM s;",
			 NULL, NULL, NULL),
	    SQLITE_OK);
	return h;
}

/* A reader on the default VFS, as the store's readers and the checkpointer see the files */
static sqlite3 *open_reader(void)
{
	sqlite3 *h = NULL;
	cr_assert_eq(sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	return h;
}

static void exec(sqlite3 *h, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(h, sql, NULL, NULL, &msg);
	cr_assert_eq(rc, SQLITE_OK, "%s: %s", sql, msg ? msg : "?");
	sqlite3_free(msg);
}

static int64_t one(sqlite3 *h, const char *sql)
{
	sqlite3_stmt *st = NULL;
	cr_assert_eq(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(h));
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "%s: %s", sql, sqlite3_errmsg(h));
	int64_t v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int64_t wal_bytes(void)
{
	char wal[320];
	snprintf(wal, sizeof(wal), "%s-wal", path);
	struct stat sb;
	return stat(wal, &sb) == 0 ? (int64_t)sb.st_size : 0;
}

static void integrity_ok(sqlite3 *h)
{
	sqlite3_stmt *st = NULL;
	cr_assert_eq(sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_assert_str_eq((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
}

/* Every test ends here: the reader finds the file whole, then both connections close (w may be
 * NULL when the writer is closed already). */
static void finish(sqlite3 *r, sqlite3 *w)
{
	integrity_ok(r);
	sqlite3_close(r);
	sqlite3_close(w);
}

Test(walbuf, a_commit_reaches_the_wal_in_one_write_and_readers_see_it_at_once)
{
	sqlite3 *w = open_writer();
	exec(w,
	     "CREATE TABLE a (k INTEGER PRIMARY KEY, v TEXT); CREATE TABLE b (k TEXT PRIMARY KEY,"
	     " v BLOB) WITHOUT ROWID; CREATE INDEX a_v ON a (v)");
	sqlite3 *r = open_reader();
	int64_t writes0, bytes0, writes1, bytes1;
	int64_t size0 = wal_bytes();
	walbuf_stats(&writes0, &bytes0);
	/* a group commit's shape: rows in several b-trees, one transaction */
	exec(w, "BEGIN;"
		"INSERT INTO a (v) SELECT printf('row %d', value) FROM nums WHERE value <= 200;"
		"INSERT INTO b SELECT printf('k%04d', value), randomblob(300) FROM nums"
		" WHERE value <= 40;"
		"COMMIT");
	walbuf_stats(&writes1, &bytes1);
	int64_t frames = (wal_bytes() - size0) / (24 + 4096);
	cr_assert_gt(frames, 3, "the transaction wrote %lld frames", (long long)frames);
	/* every frame of it, header and page, in a single write (under 128 KiB: one piece) */
	cr_assert_eq(writes1 - writes0, 1);
	cr_assert_eq(bytes1 - bytes0, frames * (24 + 4096));
	/* nothing is left to write: a reader on its own descriptor sees the commit now */
	cr_assert_eq(one(r, "SELECT COUNT(*) FROM a"), 200);
	cr_assert_eq(one(r, "SELECT COUNT(*) FROM b"), 40);
	finish(r, w);
}

Test(walbuf, a_transaction_larger_than_the_buffer_goes_out_in_pieces_and_reads_back_whole)
{
	sqlite3 *w = open_writer();
	exec(w, "CREATE TABLE big (k INTEGER PRIMARY KEY, v BLOB, h TEXT)");
	int64_t writes0, bytes0, writes1, bytes1;
	walbuf_stats(&writes0, &bytes0);
	/* ~3 MiB of overflow pages: the buffer (1 MiB) fills three times within the commit */
	exec(w, "BEGIN;"
		"INSERT INTO big (v) SELECT randomblob(1 << 20) FROM nums WHERE value <= 3;"
		"UPDATE big SET h = hex(substr(v, 1, 16));"
		"COMMIT");
	walbuf_stats(&writes1, &bytes1);
	/* pieces under 128 KiB (SQLite's unix VFS cannot take a write of a multiple of it) */
	cr_assert_geq(writes1 - writes0, (bytes1 - bytes0) / (128 << 10));
	cr_assert_gt(bytes1 - bytes0, 3 << 20);
	sqlite3 *r = open_reader();
	cr_assert_eq(one(r, "SELECT COUNT(*) FROM big WHERE length(v) = 1048576 AND"
			    " h = hex(substr(v, 1, 16))"),
		     3);
	finish(r, w);
}

Test(walbuf, a_rollback_leaves_nothing_and_the_next_commit_is_whole)
{
	sqlite3 *w = open_writer();
	exec(w, "CREATE TABLE a (k INTEGER PRIMARY KEY, v TEXT)");
	exec(w, "BEGIN; INSERT INTO a (v) SELECT 'gone' FROM nums WHERE value <= 500; ROLLBACK");
	exec(w, "BEGIN; INSERT INTO a (v) SELECT 'kept' FROM nums WHERE value <= 50; COMMIT");
	sqlite3 *r = open_reader();
	cr_assert_eq(one(r, "SELECT COUNT(*) FROM a WHERE v = 'kept'"), 50);
	cr_assert_eq(one(r, "SELECT COUNT(*) FROM a WHERE v = 'gone'"), 0);
	finish(r, w);
}

Test(walbuf, frames_rewritten_within_a_transaction_keep_the_log_valid)
{
	/* A tiny cache with spilling on makes SQLite write frames before the commit and then
	 * rewrite some of them in place, reading them back to fix the checksums: writes that are
	 * not appends, and reads of the WAL in the middle of a transaction. */
	sqlite3 *w = open_writer();
	exec(w, "PRAGMA cache_size=10; PRAGMA cache_spill=ON;"
		" CREATE TABLE a (k INTEGER PRIMARY KEY, v TEXT)");
	exec(w, "BEGIN;"
		"INSERT INTO a (v) SELECT printf('%0500d', value) FROM nums;"
		"UPDATE a SET v = v || 'x' WHERE k % 7 = 0;"
		"UPDATE a SET v = v || 'y' WHERE k % 5 = 0;"
		"COMMIT");
	sqlite3_close(w);
	/* reopened: the WAL is read from disk and every frame's checksum chain must hold */
	sqlite3 *r = open_reader();
	cr_assert_eq(one(r, "SELECT COUNT(*) FROM a"), 2000);
	cr_assert_eq(one(r, "SELECT COUNT(*) FROM a WHERE v LIKE '%x'"), 2000 / 7 - 2000 / 35);
	cr_assert_eq(one(r, "SELECT COUNT(*) FROM a WHERE v LIKE '%xy'"), 2000 / 35);
	cr_assert_eq(one(r, "SELECT COUNT(*) FROM a WHERE v LIKE '%y'"), 2000 / 5);
	finish(r, NULL);
}

Test(walbuf, committed_frames_survive_a_close_without_checkpoint)
{
	sqlite3 *w = open_writer();
	exec(w, "CREATE TABLE a (k INTEGER PRIMARY KEY, v TEXT)");
	for (int i = 0; i < 20; i++)
		exec(w, "INSERT INTO a (v) VALUES ('one commit each')");
	/* another process's view: a second writer connection, opened before the first closes, so
	 * that the first close does not checkpoint the log away */
	sqlite3 *w2 = open_writer();
	sqlite3_close(w);
	cr_assert_gt(wal_bytes(), 20 * (24 + 4096));
	cr_assert_eq(one(w2, "SELECT COUNT(*) FROM a"), 20);
	exec(w2, "INSERT INTO a (v) VALUES ('after')");
	sqlite3_close(w2);
	sqlite3 *r = open_reader();
	cr_assert_eq(one(r, "SELECT COUNT(*) FROM a"), 21);
	finish(r, NULL);
}

/* ---- statement journals larger than their in-memory chunk (a writer opened as the store opens
 * it: sqlite_db_open configures SQLite first, statement journals in 1 MiB chunks) ---- */

static void big_setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/tender-unit-walbuf-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t.db", dir);
}

TestSuite(stmtjrnl, .init = big_setup, .fini = teardown);

static int64_t db_one(struct db *db, const char *sql)
{
	struct db_stmt *st = db_prepare(db, sql);
	cr_assert_not_null(st);
	cr_assert_eq(db_step(st), DB_ROW);
	int64_t v = db_col_int64(st, 0);
	db_reset(st);
	return v;
}

Test(stmtjrnl, a_savepoint_that_changes_more_than_a_chunk_of_pages_commits_and_rolls_back)
{
	char err[256];
	struct db *db = sqlite_db_open(path, 0, err, sizeof(err));
	cr_assert_not_null(db, "%s", err);
	/* 3,000 rows of ~1 KB: ~3 MB of pages that exist before the savepoints below */
	cr_assert_eq(db_exec(db, "CREATE TABLE a (k INTEGER PRIMARY KEY, v TEXT);"
				 " WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s"
				 " WHERE i < 3000) INSERT INTO a SELECT i, printf('%.1000c', 'a')"
				 " FROM s"),
		     DB_OK);
	/* every page changed inside a savepoint goes to its statement journal, which outgrows its
	 * 1 MiB in memory and is copied to a temporary file */
	cr_assert_eq(db_exec(db, "BEGIN; SAVEPOINT p; UPDATE a SET v = printf('%.1000c', 'b');"
				 " RELEASE p; COMMIT"),
		     DB_OK, "%s", db_errmsg(db));
	cr_assert_eq(db_one(db, "SELECT COUNT(*) FROM a WHERE v LIKE 'b%'"), 3000);
	cr_assert_eq(db_exec(db, "BEGIN; SAVEPOINT p; UPDATE a SET v = printf('%.1000c', 'c');"
				 " ROLLBACK TO p; RELEASE p; COMMIT"),
		     DB_OK, "%s", db_errmsg(db));
	cr_assert_eq(db_one(db, "SELECT COUNT(*) FROM a WHERE v LIKE 'b%'"), 3000);
	cr_assert_eq(db_one(db, "SELECT COUNT(*) FROM a WHERE v LIKE 'c%'"), 0);
	sqlite_db_close(db);
}

Test(stmtjrnl, a_temporary_table_that_changes_more_than_a_chunk_of_pages_commits)
{
	char err[256];
	struct db *db = sqlite_db_open(path, 0, err, sizeof(err));
	cr_assert_not_null(db, "%s", err);
	/* a temporary database's journal is kept like a statement journal (in 1 MiB chunks) */
	cr_assert_eq(
	    db_exec(db, "PRAGMA temp_store=FILE; CREATE TEMP TABLE t (k INTEGER PRIMARY KEY,"
			" v TEXT); WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1"
			" FROM s WHERE i < 3000) INSERT INTO t SELECT i, printf('%.1000c', 'a')"
			" FROM s"),
	    DB_OK, "%s", db_errmsg(db));
	cr_assert_eq(db_exec(db, "BEGIN; UPDATE t SET v = printf('%.1000c', 'b'); COMMIT"), DB_OK,
		     "%s", db_errmsg(db));
	cr_assert_eq(db_one(db, "SELECT COUNT(*) FROM t WHERE v LIKE 'b%'"), 3000);
	sqlite_db_close(db);
}

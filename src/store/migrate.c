#include "store/migrate.h"

#include <stdio.h>

#include "core/clock.h"

static const char SQL_CREATE[] = "CREATE TABLE IF NOT EXISTS schema_migrations ("
				 " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
				 " applied INTEGER NOT NULL)";
static const char SQL_MAX[] = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";
static const char SQL_INSERT[] =
    "INSERT INTO schema_migrations (version, name, applied) VALUES ($1, $2, $3)";

/*
 * Planner statistics (SQLite). Tender never runs ANALYZE: without sqlite_stat1 SQLite guesses
 * that an equality on an index's first column selects about 10 rows and each further column
 * about one fewer, so `merchant_id = $1` looks as narrow as `customer = $5`, and a filtered list
 * walked the merchant's whole primary key (merchant_id, id) and tested every row rather than
 * reading the filter's index and looking the few matches up. Real statistics would be taken from
 * whatever the store holds when ANALYZE runs (nothing, on a new store) and cost a pass over every
 * index; these are fixed and describe the store Tender is built for: a table holds 1,000,000
 * rows, an index's first column (a merchant, or a status in a global index) matches 100,000 of
 * them, each further key column 10, and a unique key 1. "noskipscan": with a first column that
 * repeats 100,000 times SQLite would otherwise consider skip-scans of an index over every
 * merchant. Every index that has no row yet gets one (after each run that applies patches, so
 * an index a later patch adds gets one too); rows already there, an operator's own ANALYZE
 * included, are kept. The last ANALYZE sqlite_schema loads them into this connection (the first
 * one creates sqlite_stat1 when it does not exist yet; sqlite_schema has no index to measure).
 */
static const char SQL_STAT_TABLE[] = "ANALYZE sqlite_schema";
static const char SQL_STATS[] =
    "INSERT INTO sqlite_stat1 (tbl, idx, stat)"
    " SELECT tbl, idx, '1000000 ' || CASE WHEN n = 1 AND uniq THEN '1' ELSE '100000' END"
    " || CASE WHEN n = 1 THEN '' ELSE substr(' 10 10 10 10 10 10 10 10 10 10', 1, 3 * (n - 2))"
    " || CASE WHEN uniq THEN ' 1' ELSE ' 10' END END || ' noskipscan'"
    " FROM (SELECT t.name AS tbl, l.name AS idx, l.\"unique\" AS uniq,"
    " (SELECT count(*) FROM pragma_index_info(l.name)) AS n"
    " FROM sqlite_schema t JOIN pragma_index_list(t.name) l"
    " WHERE t.type = 'table' AND t.name NOT LIKE 'sqlite\\_%' ESCAPE '\\') AS x"
    " WHERE NOT EXISTS (SELECT 1 FROM sqlite_stat1 s WHERE s.tbl = x.tbl AND s.idx = x.idx)";

static int planner_stats(struct db *db)
{
	if (db_exec(db, SQL_STAT_TABLE) != DB_OK)
		return -1;
	struct db_stmt *st = db_prepare(db, SQL_STATS);
	if (!st || db_step_done(st) != DB_OK)
		return -1;
	return db_exec(db, SQL_STAT_TABLE) == DB_OK ? 0 : -1;
}

/*
 * All pending patches apply in one transaction: a store is upgraded whole or not at all, and a
 * new store costs one durable commit instead of one per patch (~100 fsyncs were most of the time
 * a unit test spent opening a fresh store).
 */
int migrate_run(struct db *db, const struct migration *list, char *err, size_t errlen)
{
	if (db_exec(db, SQL_CREATE) != DB_OK) {
		snprintf(err, errlen, "cannot create schema_migrations: %s", db_errmsg(db));
		return -1;
	}
	if (db_exec(db, "BEGIN IMMEDIATE") != DB_OK) {
		snprintf(err, errlen, "cannot begin migration: %s", db_errmsg(db));
		return -1;
	}
	/* Read the version inside the write lock so two processes starting together cannot both
	 * apply the same patch. */
	struct db_stmt *st = db_prepare(db, SQL_MAX);
	int64_t current = 0;
	if (st && db_step(st) == DB_ROW)
		current = db_col_int64(st, 0);
	if (st)
		db_reset(st);
	int applied = 0;
	for (const struct migration *m = list; m->sql; m++) {
		if (m->version <= current)
			continue;
		applied++;
		if (db_exec(db, m->sql) != DB_OK) {
			snprintf(err, errlen, "migration %s failed: %s", m->name, db_errmsg(db));
			db_exec(db, "ROLLBACK");
			return -1;
		}
		st = db_prepare(db, SQL_INSERT);
		db_bind_int64(st, 1, m->version);
		db_bind_text(st, 2, m->name, -1);
		db_bind_int64(st, 3, clock_now());
		if (db_step_done(st) != DB_OK) {
			snprintf(err, errlen, "migration %s failed: %s", m->name, db_errmsg(db));
			db_exec(db, "ROLLBACK");
			return -1;
		}
	}
	/* only a patch adds an index (and 0173, the patch that came with this, runs on every store
	 * upgraded to it): a store already current has its rows, and opening it (every command,
	 * every server start) skips the two ANALYZEs and the scan of every table's indexes */
	if (applied > 0 && planner_stats(db) != 0) {
		snprintf(err, errlen, "cannot write the planner statistics: %s", db_errmsg(db));
		db_exec(db, "ROLLBACK");
		return -1;
	}
	if (db_exec(db, "COMMIT") != DB_OK) {
		snprintf(err, errlen, "migrations failed to commit: %s", db_errmsg(db));
		db_exec(db, "ROLLBACK");
		return -1;
	}
	return 0;
}

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
	for (const struct migration *m = list; m->sql; m++) {
		if (m->version <= current)
			continue;
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
	if (db_exec(db, "COMMIT") != DB_OK) {
		snprintf(err, errlen, "migrations failed to commit: %s", db_errmsg(db));
		db_exec(db, "ROLLBACK");
		return -1;
	}
	return 0;
}

/*
 * `tender verify`: every invariant the store must hold, checked from the data alone. Each check
 * is a function over a read transaction that reports what it found; the command exits non-zero
 * when any check reports a failure. Modules add their checks to the table in verify.c.
 */
#ifndef TENDER_VERIFY_VERIFY_H
#define TENDER_VERIFY_VERIFY_H

#include "core/buf.h"
#include "store/db.h"

struct vault;

struct verify_report {
	struct buf text;
	int failures;
	int checks;
	struct vault *vault; /* NULL unless --master-key-file was given */
};

__attribute__((format(printf, 3, 4))) void verify_fail(struct verify_report *rep, const char *check,
						       const char *fmt, ...);

/*
 * Objects without their event. There is no index on events (merchant_id, object_id): every event
 * would pay an insert into it for these checks alone (migration 0017). PostgreSQL plans NOT EXISTS
 * as a hash anti-join over events; SQLite would run the correlated subquery once per object through
 * the events' list index (quadratic: two minutes for 10,000 charges), so there the row-value
 * NOT IN reads the events once into a temporary index (40 ms for the same store).
 */
#define NO_EVENT_SQLITE(sel, cond, obj, types)                                                     \
	sel " WHERE " cond "(" obj                                                                 \
	    ") NOT IN (SELECT merchant_id, object_id FROM events WHERE type " types ")"
#define NO_EVENT_PG(sel, cond, mcol, icol, types)                                                  \
	sel " WHERE " cond "NOT EXISTS (SELECT 1 FROM events e WHERE e.merchant_id = " mcol        \
	    " AND e.object_id = " icol " AND e.type " types ")"
#define NO_EVENT(name, sel, cond, mcol, icol, types)                                               \
	static const char name##_SQLITE[] = NO_EVENT_SQLITE(sel, cond, mcol ", " icol, types);     \
	static const char name##_PG[] = NO_EVENT_PG(sel, cond, mcol, icol, types)

/* the SQLite or the PostgreSQL form of a NO_EVENT check */
#define FOR_DB(db, name) (db_kind(db) == DB_POSTGRES ? name##_PG : name##_SQLITE)

/* Runs every check on one shard's connection. */
int verify_run(struct db *db, struct verify_report *rep);

#endif

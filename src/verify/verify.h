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

__attribute__((format(printf, 3, 4))) void verify_fail(struct verify_report *rep,
                                                       const char *check, const char *fmt, ...);

/* Runs every check on one shard's connection. */
int verify_run(struct db *db, struct verify_report *rep);

#endif

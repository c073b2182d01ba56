#ifndef TENDER_STORE_MIGRATE_H
#define TENDER_STORE_MIGRATE_H

#include "store/db.h"

/* One numbered schema patch. Patches are never edited once landed; a new patch changes things. */
struct migration {
	int version;
	const char *name;
	const char *sql;
};

extern const struct migration migrations_sqlite[];

/* Applies every patch newer than the recorded version, all in one transaction, and gives every
 * index without one its fixed planner statistics (migrate.c). */
int migrate_run(struct db *db, const struct migration *list, char *err, size_t errlen);

#endif

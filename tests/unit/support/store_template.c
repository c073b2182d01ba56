/*
 * Unit tests open hundreds of fresh SQLite stores, and migrating one costs most of what such a
 * test costs: SQLite parses its whole schema again after each of ~150 ALTER TABLEs (0.6 s of
 * CPU each under ASan). The unit_tests binary is linked with --wrap=store_open (CMakeLists.txt):
 * a fresh SQLite store is given a copy of a template that holds only the migrated schema
 * (made once per run, by whichever test gets there first), so store_open finds nothing left
 * to migrate and does everything else as it always does. The template is made by migrate_run
 * itself from the same list, and is keyed by a hash of that list, so it is never stale.
 * TENDER_UNIT_NO_TEMPLATE=1 turns this off (the migrations then run in every test).
 */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/db_impl.h"
#include "store/migrate.h"
#include "store/store.h"

int __real_store_open(struct store **ret, const struct store_config *cfg, char *err, size_t errlen);
int __wrap_store_open(struct store **ret, const struct store_config *cfg, char *err, size_t errlen);

static void template_path(char *out, size_t n)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a over every patch's version and text */
	for (const struct migration *m = migrations_sqlite; m->sql; m++) {
		for (const char *p = m->sql; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ull;
		h = (h ^ (uint64_t)m->version) * 1099511628211ull;
	}
	const char *tmp = getenv("TMPDIR");
	snprintf(out, n, "%s/tender-unit-template-%u-%016llx.db", tmp && *tmp ? tmp : "/tmp",
		 (unsigned)getuid(), (unsigned long long)h);
}

static int copy_file(const char *from, const char *to)
{
	int in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -1;
	int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0) {
		close(in);
		return -1;
	}
	char buf[65536];
	ssize_t got;
	int rc = 0;
	while ((got = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)got) != got) {
			rc = -1;
			break;
		}
	if (got < 0)
		rc = -1;
	close(in);
	if (close(out) != 0)
		rc = -1;
	if (rc != 0)
		unlink(to);
	return rc;
}

/* Makes the template beside its final path and renames it there: tests racing to make it each
 * rename a complete file, and the last one wins. 0, or -1 (the caller migrates as usual). */
static int template_make(const char *path)
{
	char dir[540];
	snprintf(dir, sizeof(dir), "%s.XXXXXX", path);
	if (!mkdtemp(dir))
		return -1;
	char db_path[560], err[256];
	snprintf(db_path, sizeof(db_path), "%s/tender.db", dir);
	struct db *db = sqlite_db_open(db_path, 0, err, sizeof(err));
	int rc = -1;
	if (db) {
		/* one file, no WAL beside it, to copy */
		if (migrate_run(db, migrations_sqlite, err, sizeof(err)) == 0 &&
		    db_exec(db, "PRAGMA journal_mode=DELETE") == DB_OK)
			rc = 0;
		sqlite_db_close(db);
	}
	if (rc == 0)
		rc = rename(db_path, path);
	char side[580];
	snprintf(side, sizeof(side), "%s-wal", db_path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", db_path);
	unlink(side);
	unlink(db_path);
	rmdir(dir);
	return rc;
}

int __wrap_store_open(struct store **ret, const struct store_config *cfg, char *err, size_t errlen)
{
	const char *off = getenv("TENDER_UNIT_NO_TEMPLATE");
	if (cfg && cfg->data_dir && !cfg->database_urls && !cfg->read_only && !(off && *off)) {
		char db_path[600], tmpl[512];
		struct stat st;
		snprintf(db_path, sizeof(db_path), "%s/tender.db", cfg->data_dir);
		if (stat(cfg->data_dir, &st) == 0 && S_ISDIR(st.st_mode) &&
		    stat(db_path, &st) != 0 && errno == ENOENT) {
			template_path(tmpl, sizeof(tmpl));
			if (access(tmpl, R_OK) == 0 || template_make(tmpl) == 0)
				(void)copy_file(tmpl, db_path); /* if not, store_open migrates */
		}
	}
	return __real_store_open(ret, cfg, err, errlen);
}

/* the runner removes this run's template once every test has run */
ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
	(void)stats;
	char tmpl[512];
	template_path(tmpl, sizeof(tmpl));
	unlink(tmpl);
}

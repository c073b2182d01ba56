#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/id.h"
#include "store/store.h"

static char dir[256];
static struct store *s;

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/tender-unit-store-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	char err[256];
	struct store_config cfg = {.data_dir = dir};
	cr_assert_eq(store_open(&s, &cfg, err, sizeof(err)), 0, "%s", err);
}

static void teardown(void)
{
	store_close(s);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(store, .init = setup, .fini = teardown);

static const char SQL_INS[] =
    "INSERT INTO merchants (id, name, settlement_currency, created) VALUES ($1, $2, 'usd', $3)";
static const char SQL_COUNT[] = "SELECT COUNT(*) FROM merchants WHERE name = $1";

struct ins {
	const char *name;
	int fail;
};

static int ins_fn(struct db *db, void *p)
{
	struct ins *x = p;
	char id[ID_MAX];
	id_new(id, "acct_");
	struct db_stmt *st = db_prepare(db, SQL_INS);
	if (!st)
		return -1;
	/* bind out of order on purpose: $N must map by number, not by appearance */
	db_bind_int64(st, 3, 7);
	db_bind_text(st, 2, x->name, -1);
	db_bind_text(st, 1, id, -1);
	int rc = db_step_done(st);
	if (rc != DB_OK)
		return rc;
	return x->fail ? -7 : 0;
}

struct count {
	const char *name;
	int64_t n;
};

static int count_fn(struct db *db, void *p)
{
	struct count *c = p;
	struct db_stmt *st = db_prepare(db, SQL_COUNT);
	db_bind_text(st, 1, c->name, -1);
	cr_assert_eq(db_step(st), DB_ROW);
	c->n = db_col_int64(st, 0);
	db_reset(st);
	return 0;
}

Test(store, failing_callback_rolls_back_alone)
{
	struct ins ok = {"kept", 0}, bad = {"dropped", 1};
	cr_assert_eq(store_write(s, NULL, ins_fn, &ok), 0);
	cr_assert_eq(store_write(s, NULL, ins_fn, &bad), -7);
	struct count c1 = {"kept", 0}, c2 = {"dropped", 0};
	store_read(s, NULL, count_fn, &c1);
	store_read(s, NULL, count_fn, &c2);
	cr_assert_eq(c1.n, 1);
	cr_assert_eq(c2.n, 0);
}

static void *writer(void *p)
{
	long i = (long)p;
	for (int k = 0; k < 50; k++) {
		struct ins x = {"group", (i + k) % 7 == 0};
		int rc = store_write(s, NULL, ins_fn, &x);
		if ((i + k) % 7 == 0)
			cr_assert_eq(rc, -7);
		else
			cr_assert_eq(rc, 0);
	}
	return NULL;
}

Test(store, concurrent_writers_group_commit)
{
	pthread_t t[16];
	for (long i = 0; i < 16; i++)
		pthread_create(&t[i], NULL, writer, (void *)i);
	for (int i = 0; i < 16; i++)
		pthread_join(t[i], NULL);
	int expected = 0;
	for (long i = 0; i < 16; i++)
		for (int k = 0; k < 50; k++)
			expected += (i + k) % 7 != 0;
	struct count c = {"group", 0};
	store_read(s, NULL, count_fn, &c);
	cr_assert_eq(c.n, expected);
}

Test(store, reopen_keeps_data_and_migrations_are_idempotent)
{
	struct ins ok = {"durable", 0};
	cr_assert_eq(store_write(s, NULL, ins_fn, &ok), 0);
	store_close(s);
	char err[256];
	struct store_config cfg = {.data_dir = dir};
	cr_assert_eq(store_open(&s, &cfg, err, sizeof(err)), 0, "%s", err);
	struct count c = {"durable", 0};
	store_read(s, NULL, count_fn, &c);
	cr_assert_eq(c.n, 1);
}

Test(store, postgres_urls_are_refused_clearly_until_the_backend_exists)
{
	struct store *p = NULL;
	char err[256];
	const char *urls[] = {"postgres://x", NULL};
	struct store_config cfg = {.data_dir = dir, .database_urls = urls};
	cr_assert_neq(store_open(&p, &cfg, err, sizeof(err)), 0);
	cr_assert(strstr(err, "PostgreSQL") != NULL);
}

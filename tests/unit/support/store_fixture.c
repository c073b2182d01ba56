#include "store_fixture.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "store/store.h"

struct store *fixture_store_open(char *dir, size_t n, const char *tag)
{
	snprintf(dir, n, "/tmp/tender-unit-%s-XXXXXX", tag);
	cr_assert_not_null(mkdtemp(dir));
	char err[256];
	struct store_config cfg = {.data_dir = dir};
	struct store *s = NULL;
	cr_assert_eq(store_open(&s, &cfg, err, sizeof(err)), 0, "%s", err);
	return s;
}

void fixture_store_close(struct store *s, const char *dir)
{
	store_close(s);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

struct q {
	const char *sql, *a, *b;
	int64_t v;
	int rc;
};

static int q_fn(struct db *db, void *p)
{
	struct q *q = p;
	struct db_stmt *st = db_prepare(db, q->sql);
	if (!st)
		return q->rc = DB_ERR;
	if (q->a)
		db_bind_text(st, 1, q->a, -1);
	if (q->b)
		db_bind_text(st, 2, q->b, -1);
	q->rc = db_step(st);
	q->v = q->rc == DB_ROW ? db_col_int64(st, 0) : 0;
	db_reset(st);
	return 0;
}

int64_t fixture_q_int(struct store *s, const char *sql, const char *a, const char *b)
{
	struct q q = {sql, a, b, 0, 0};
	cr_assert_eq(store_read(s, NULL, q_fn, &q), 0);
	cr_assert_eq(q.rc, DB_ROW, "query failed: %s", sql);
	return q.v;
}

int fixture_exec(struct store *s, const char *merchant, const char *sql)
{
	struct q q = {sql, NULL, NULL, 0, 0};
	return store_write(s, merchant, q_fn, &q);
}

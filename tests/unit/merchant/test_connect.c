/*
 * Connect (merchant/connect.c, merchant_create_connected in merchant.c): an account is its
 * platform's only while it is not deleted, never another platform's; its currency comes with
 * it; a connected account's merchants row names its platform and has no API keys.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/id.h"
#include "merchant/connect.h"
#include "merchant/merchant.h"
#include "store/db.h"
#include "store/store.h"

static char dir[256];
static struct store *st_;

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/tender-unit-connect-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	char err[256];
	struct store_config cfg = {.data_dir = dir};
	cr_assert_eq(store_open(&st_, &cfg, err, sizeof(err)), 0, "%s", err);
}

static void teardown(void)
{
	store_close(st_);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(connect, .init = setup, .fini = teardown);

struct row {
	const char *platform, *id, *currency;
	int deleted;
};

static int insert_fn(struct db *db, void *p)
{
	const struct row *r = p;
	struct db_stmt *st = db_prepare(
	    db, "INSERT INTO connected_accounts (merchant_id, id, created, type, country,"
		" default_currency, deleted) VALUES ($1, $2, 1, 'custom', 'US', $3, $4)");
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->platform, -1);
	db_bind_text(st, 2, r->id, -1);
	db_bind_text(st, 3, r->currency, -1);
	db_bind_int64(st, 4, r->deleted);
	return db_step_done(st);
}

struct check_ctx {
	const char *platform, *account;
	bool want_currency;
	int rc;
	char cur[8];
};

static int check_fn(struct db *db, void *p)
{
	struct check_ctx *c = p;
	memcpy(c->cur, "unset", 6);
	c->rc =
	    connect_account_check(db, c->platform, c->account, c->want_currency ? c->cur : NULL);
	return 0;
}

static int check(const char *platform, const char *account, char cur[8])
{
	struct check_ctx c = {
	    .platform = platform, .account = account, .want_currency = cur != NULL};
	cr_assert_eq(store_read(st_, platform, check_fn, &c), 0);
	if (cur)
		memcpy(cur, c.cur, 8);
	return c.rc;
}

Test(connect, check_finds_only_the_platforms_live_accounts)
{
	const struct row rows[] = {
	    {"acct_platA", "acct_child1", "gbp", 0},
	    {"acct_platA", "acct_gone", "usd", 1},
	    {"acct_platB", "acct_child2", "eur", 0},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		cr_assert_eq(store_write(st_, NULL, insert_fn, (void *)&rows[i]), DB_OK);

	char cur[8];
	cr_assert_eq(check("acct_platA", "acct_child1", cur), DB_OK);
	cr_assert_str_eq(cur, "gbp");
	cr_assert_eq(check("acct_platA", "acct_child1", NULL), DB_OK);
	cr_assert_eq(check("acct_platB", "acct_child2", cur), DB_OK);
	cr_assert_str_eq(cur, "eur");

	/* another platform's account, a deleted one, an unknown one: not found, and the
	 * currency is left alone */
	cr_assert_eq(check("acct_platB", "acct_child1", cur), DB_NOTFOUND);
	cr_assert_str_eq(cur, "unset");
	cr_assert_eq(check("acct_platA", "acct_child2", NULL), DB_NOTFOUND);
	cr_assert_eq(check("acct_platA", "acct_gone", NULL), DB_NOTFOUND);
	cr_assert_eq(check("acct_platA", "acct_nobody", NULL), DB_NOTFOUND);
	/* an account is not its own platform, nor is the platform its own account */
	cr_assert_eq(check("acct_child1", "acct_child1", NULL), DB_NOTFOUND);
	cr_assert_eq(check("acct_platA", "acct_platA", NULL), DB_NOTFOUND);
	cr_assert_eq(check("acct_platA", "", NULL), DB_NOTFOUND);
	cr_assert_eq(check("", "acct_child1", NULL), DB_NOTFOUND);
}

struct merchant_ctx {
	const char *id;
	int rc;
	struct merchant_info m;
	char platform[64];
	int64_t keys;
};

static int merchant_fn(struct db *db, void *p)
{
	struct merchant_ctx *c = p;
	c->rc = merchant_get(db, c->id, &c->m);
	struct db_stmt *st =
	    db_prepare(db, "SELECT platform, (SELECT count(*) FROM api_keys k"
			   " WHERE k.merchant_id = $1) FROM merchants WHERE id = $1");
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, c->id, -1);
	c->platform[0] = '\0';
	c->keys = -1;
	if (db_step(st) == DB_ROW) {
		const char *pl = db_col_text(st, 0, NULL);
		snprintf(c->platform, sizeof(c->platform), "%s", pl ? pl : "(null)");
		c->keys = db_col_int64(st, 1);
	}
	db_reset(st);
	return 0;
}

Test(connect, connected_merchant_row_names_its_platform_and_has_no_keys)
{
	struct merchant_keys plat;
	char err[128];
	cr_assert_eq(merchant_create(st_, "Platform", "usd", 0, &plat, err, sizeof(err)), 0, "%s",
		     err);
	char id[ID_MAX];
	id_new_at(id, "acct_", 1800000000);
	cr_assert_eq(merchant_create_connected(st_, plat.id, id, "Shop", "gbp", 5734, 1800000000),
		     0);

	struct merchant_ctx c = {.id = id};
	cr_assert_eq(store_read(st_, NULL, merchant_fn, &c), 0);
	cr_assert_eq(c.rc, 0);
	cr_assert_str_eq(c.m.name, "Shop");
	cr_assert_str_eq(c.m.settlement_currency, "gbp");
	cr_assert_eq(c.m.mcc, 5734);
	cr_assert_eq(c.m.created, 1800000000);
	cr_assert_eq(c.m.fee_percent_bps, 290, "the default pricing");
	cr_assert_str_eq(c.platform, plat.id);
	cr_assert_eq(c.keys, 0);

	/* an ordinary merchant has no platform, and its keys */
	struct merchant_ctx p = {.id = plat.id};
	cr_assert_eq(store_read(st_, NULL, merchant_fn, &p), 0);
	cr_assert_str_eq(p.platform, "(null)");
	cr_assert_eq(p.keys, 2);

	/* refused: no platform, an impossible category code, an id taken */
	char id2[ID_MAX];
	id_new_at(id2, "acct_", 1800000001);
	cr_assert_neq(merchant_create_connected(st_, "", id2, "X", "usd", 0, 1800000001), 0);
	cr_assert_neq(merchant_create_connected(st_, plat.id, id2, "X", "usd", 10000, 1800000001),
		      0);
	cr_assert_neq(merchant_create_connected(st_, plat.id, id, "Again", "usd", 0, 1800000001),
		      0);
	struct merchant_ctx none = {.id = id2};
	cr_assert_eq(store_read(st_, NULL, merchant_fn, &none), 0);
	cr_assert_eq(none.rc, DB_NOTFOUND);
}

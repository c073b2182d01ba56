/*
 * A customer's active entitlements: the sorted-set difference, and entitlements_sync on a real
 * SQLite store (rows made as the API makes them): the set follows the statuses that grant
 * (active, trialing), the product features and the items, rows keep their ids while their
 * feature stays, and the summary event is appended only when the set changed.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "billing/entitlements.h"
#include "core/str.h"
#include "store/store.h"

static struct entitlement ent(const char *feature)
{
	struct entitlement e;
	memset(&e, 0, sizeof(e));
	str_copy(e.feature, sizeof(e.feature), feature);
	return e;
}

Test(entitlements, diff_of_sorted_sets)
{
	struct entitlement want[] = {ent("feat_a"), ent("feat_c"), ent("feat_d")};
	struct entitlement have[] = {ent("feat_b"), ent("feat_c"), ent("feat_e")};
	int add[3], del[3], na = -1, nd = -1;
	cr_assert_eq(entitlements_diff(want, 3, have, 3, add, &na, del, &nd), 4);
	cr_assert_eq(na, 2);
	cr_assert_eq(add[0], 0); /* feat_a */
	cr_assert_eq(add[1], 2); /* feat_d */
	cr_assert_eq(nd, 2);
	cr_assert_eq(del[0], 0); /* feat_b */
	cr_assert_eq(del[1], 2); /* feat_e */
	/* equal sets: nothing */
	cr_assert_eq(entitlements_diff(have, 3, have, 3, add, &na, del, &nd), 0);
	cr_assert_eq(na, 0);
	cr_assert_eq(nd, 0);
	/* from nothing, to nothing */
	cr_assert_eq(entitlements_diff(want, 3, NULL, 0, add, &na, del, &nd), 3);
	cr_assert_eq(na, 3);
	cr_assert_eq(entitlements_diff(NULL, 0, have, 3, add, &na, del, &nd), 3);
	cr_assert_eq(nd, 3);
}

Test(entitlements, sort_is_bytewise)
{
	/* strcmp order: upper case before lower case, whatever a store's collation says */
	struct entitlement e[] = {ent("feat_b"), ent("feat_B"), ent("feat_a"), ent("feat_A")};
	entitlements_sort(e, 4);
	cr_assert_str_eq(e[0].feature, "feat_A");
	cr_assert_str_eq(e[1].feature, "feat_B");
	cr_assert_str_eq(e[2].feature, "feat_a");
	cr_assert_str_eq(e[3].feature, "feat_b");
}

/* ---- on a store ---- */

static char dir[256];
static struct store *s;

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/tender-unit-entitlements-XXXXXX");
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

TestSuite(entitlements_store, .init = setup, .fini = teardown);

#define M "acct_unit"

static int exec_fn(struct db *db, void *ctx)
{
	return db_exec(db, ctx) == DB_OK ? 0 : -1;
}

static void exec(const char *sql)
{
	cr_assert_eq(store_write(s, M, exec_fn, (void *)sql), 0, "%s", sql);
}

struct sync_ctx {
	const char *customer;
	int rc;
};

static int sync_fn(struct db *db, void *ctx)
{
	struct sync_ctx *c = ctx;
	struct event_origin o = {NULL, NULL, 0};
	c->rc = entitlements_sync(db, M, c->customer, &o, 1700000000);
	return c->rc == 0 ? 0 : -1;
}

static void sync(const char *customer)
{
	struct sync_ctx c = {customer, -1};
	cr_assert_eq(store_write(s, M, sync_fn, &c), 0);
	cr_assert_eq(c.rc, 0);
}

struct count_ctx {
	const char *sql;
	int64_t n;
};

static int count_fn(struct db *db, void *ctx)
{
	struct count_ctx *c = ctx;
	struct db_stmt *st = db_prepare(db, c->sql);
	if (!st)
		return -1;
	db_bind_text(st, 1, M, -1);
	int rc = db_step(st);
	c->n = rc == DB_ROW ? db_col_int64(st, 0) : -1;
	db_reset(st);
	return 0;
}

static int64_t count(const char *sql)
{
	struct count_ctx c = {sql, -1};
	cr_assert_eq(store_read(s, M, count_fn, &c), 0);
	return c.n;
}

#define SUMMARIES                                                                                  \
	"SELECT COUNT(*) FROM events WHERE merchant_id = $1"                                       \
	" AND type = 'entitlements.active_entitlement_summary.updated'"
#define ROWS                                                                                       \
	"SELECT COUNT(*) FROM active_entitlements WHERE merchant_id = $1 AND customer = 'cus_1'"

static void subscription(const char *id, const char *status, const char *price)
{
	char sql[1024];
	snprintf(
	    sql, sizeof(sql),
	    "INSERT INTO subscriptions (merchant_id, id, created, version, customer, status,"
	    " currency, billing_interval, billing_interval_count, billing_cycle_anchor,"
	    " period_index, current_period_start, current_period_end, start_date)"
	    " VALUES ('" M "', '%s', 1, 1, 'cus_1', '%s', 'usd', 'month', 1, 1, 0, 1, 2, 1);"
	    "INSERT INTO subscription_items (merchant_id, id, subscription, pos, created, price,"
	    " quantity) VALUES ('" M "', 'si_%s', '%s', 0, 1, '%s', 1)",
	    id, status, id, id, price);
	exec(sql);
}

Test(entitlements_store, follows_statuses_features_and_items)
{
	exec("INSERT INTO entitlement_features (merchant_id, id, created, name, lookup_key)"
	     " VALUES ('" M "', 'feat_a', 1, 'A', 'a'), ('" M "', 'feat_b', 1, 'B', 'b');"
	     "INSERT INTO prices (merchant_id, id, created, active, currency, unit_amount,"
	     " unit_amount_decimal, product, type) VALUES"
	     " ('" M "', 'price_1', 1, 1, 'usd', 100, '100', 'prod_1', 'recurring'),"
	     " ('" M "', 'price_2', 1, 1, 'usd', 100, '100', 'prod_2', 'recurring');"
	     "INSERT INTO product_features (merchant_id, id, created, product, feature) VALUES"
	     " ('" M "', 'prodft_1', 1, 'prod_1', 'feat_a'),"
	     " ('" M "', 'prodft_2', 1, 'prod_2', 'feat_a'),"
	     " ('" M "', 'prodft_3', 1, 'prod_2', 'feat_b')");
	/* an incomplete subscription grants nothing, and nothing is announced */
	subscription("sub_1", "incomplete", "price_1");
	sync("cus_1");
	cr_assert_eq(count(ROWS), 0);
	cr_assert_eq(count(SUMMARIES), 0);
	/* active: feat_a */
	exec("UPDATE subscriptions SET status = 'active' WHERE id = 'sub_1'");
	sync("cus_1");
	cr_assert_eq(count(ROWS), 1);
	cr_assert_eq(count(SUMMARIES), 1);
	/* nothing changed: no second summary */
	sync("cus_1");
	cr_assert_eq(count(SUMMARIES), 1);
	/* a trialing one of prod_2 adds feat_b only (feat_a once, whatever gives it) */
	subscription("sub_2", "trialing", "price_2");
	sync("cus_1");
	cr_assert_eq(count(ROWS), 2);
	cr_assert_eq(count(SUMMARIES), 2);
	cr_assert_eq(count("SELECT COUNT(*) FROM active_entitlements WHERE merchant_id = $1"
			   " AND feature = 'feat_a' AND id LIKE 'ent_%'"),
		     1);
	/* past_due still grants (its payment is being retried); unpaid and canceled do not */
	exec("UPDATE subscriptions SET status = 'past_due' WHERE id = 'sub_2'");
	sync("cus_1");
	cr_assert_eq(count(ROWS), 2);
	cr_assert_eq(count(SUMMARIES), 2);
	exec("UPDATE subscriptions SET status = 'unpaid' WHERE id = 'sub_2'");
	sync("cus_1");
	cr_assert_eq(count(ROWS), 1);
	exec("UPDATE subscriptions SET status = 'canceled' WHERE id = 'sub_1'");
	sync("cus_1");
	cr_assert_eq(count(ROWS), 0);
	cr_assert_eq(count(SUMMARIES), 4);
	/* another merchant's rows are not this one's */
	cr_assert_eq(count("SELECT COUNT(*) FROM active_entitlements WHERE merchant_id <> $1"), 0);
}

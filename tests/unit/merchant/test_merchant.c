/*
 * A merchant's terms (merchant_terms_get, and ledger_pricing_get through it): the same pricing
 * and category the store holds, for each merchant its own, read from the cache once read, and
 * "not found" for an unknown merchant (which is not cached).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger.h"
#include "merchant/merchant.h"
#include "store/db.h"
#include "store/store.h"

static char dir[256];
static struct store *st_;

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/tender-unit-merchant-XXXXXX");
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

TestSuite(merchant, .init = setup, .fini = teardown);

struct terms_ctx {
	const char *id;
	int rc, pricing_rc, mcc_rc, mcc;
	int64_t stored_bps, stored_fixed; /* the row itself */
	struct merchant_terms t;
	struct ledger_pricing p;
	char cur[8];
};

static int terms_fn(struct db *db, void *p)
{
	struct terms_ctx *c = p;
	c->rc = merchant_terms_get(db, c->id, &c->t);
	c->pricing_rc = ledger_pricing_get(db, c->id, &c->p, c->cur);
	struct db_stmt *st = db_prepare(
	    db, "SELECT mcc, fee_percent_bps, fee_fixed_minor FROM merchants WHERE id = $1");
	db_bind_text(st, 1, c->id, -1);
	c->mcc_rc = db_step(st) == DB_ROW ? DB_OK : DB_NOTFOUND;
	c->mcc = c->mcc_rc == DB_OK ? (int)db_col_int64(st, 0) : 0;
	c->stored_bps = c->mcc_rc == DB_OK ? db_col_int64(st, 1) : -1;
	c->stored_fixed = c->mcc_rc == DB_OK ? db_col_int64(st, 2) : -1;
	db_reset(st);
	return 0;
}

static void same_as_the_store(const char *id, int mcc, const char *currency)
{
	for (int round = 0; round < 2; round++) { /* from the store, then from the cache */
		struct terms_ctx c = {.id = id};
		cr_assert_eq(store_read(st_, id, terms_fn, &c), 0);
		cr_assert_eq(c.rc, DB_OK);
		cr_assert_eq(c.pricing_rc, DB_OK);
		cr_assert_eq(c.mcc_rc, DB_OK);
		cr_assert_eq(c.t.fee_percent_bps, c.p.percent_bps);
		cr_assert_eq(c.t.fee_fixed_minor, c.p.fixed_minor);
		cr_assert_eq(c.t.fee_percent_bps, c.stored_bps);
		cr_assert_eq(c.t.fee_fixed_minor, c.stored_fixed);
		cr_assert_str_eq(c.t.settlement_currency, c.cur);
		cr_assert_str_eq(c.t.settlement_currency, currency);
		cr_assert_eq(c.t.mcc, c.mcc);
		cr_assert_eq(c.t.mcc, mcc);
	}
}

Test(merchant, terms_are_the_stored_ones_for_each_merchant)
{
	struct merchant_keys a, b;
	char err[256];
	cr_assert_eq(merchant_create(st_, "A", "usd", 5734, &a, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(merchant_create(st_, "B", "eur", 0, &b, err, sizeof(err)), 0, "%s", err);
	same_as_the_store(a.id, 5734, "usd");
	same_as_the_store(b.id, 0, "eur");
	struct terms_ctx c = {.id = "acct_nobody"};
	for (int round = 0; round < 2; round++) {
		cr_assert_eq(store_read(st_, NULL, terms_fn, &c), 0);
		cr_assert_eq(c.rc, DB_NOTFOUND);
	}
}

/*
 * tax_merchant_load on a real SQLite store: the settings' head office and defaults, and only the
 * registrations in force at the date asked (scheduled and expired ones left out, another
 * merchant's never seen).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "tax/merchant.h"

static char dir[256];
static struct store *s;

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/tender-unit-taxm-XXXXXX");
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

TestSuite(tax_merchant, .init = setup, .fini = teardown);

#define M "acct_unit"

static int exec_fn(struct db *db, void *ctx)
{
	return db_exec(db, ctx) == DB_OK ? 0 : -1;
}

static void exec(const char *sql)
{
	cr_assert_eq(store_write(s, M, exec_fn, (void *)sql), 0, "%s", sql);
}

struct load_ctx {
	const char *merchant;
	int64_t t;
	struct tax_merchant m;
	int rc;
};

static int load_fn(struct db *db, void *p)
{
	struct load_ctx *c = p;
	c->rc = tax_merchant_load(db, c->merchant, c->t, &c->m);
	return 0;
}

static void load(struct load_ctx *c)
{
	cr_assert_eq(store_read(s, c->merchant, load_fn, c), 0);
	cr_assert_eq(c->rc, DB_OK);
}

Test(tax_merchant, settings_and_registrations_in_force)
{
	struct load_ctx c = {.merchant = M, .t = 1000};
	load(&c);
	cr_assert_str_eq(c.m.head_office, "");
	cr_assert_eq(c.m.n_regs, 0);
	exec("INSERT INTO tax_settings (merchant_id, tax_behavior, tax_code, head_office, updated)"
	     " VALUES ('acct_unit', 'inclusive', 'txcd_99999999', "
	     "'{\"city\":null,\"country\":\"DE\"}',"
	     " 1)");
	/* active, expired at 1000, scheduled from 2000, another merchant's */
	exec("INSERT INTO tax_registrations (merchant_id, id, created, country, state, type,"
	     " active_from, expires_at) VALUES"
	     " ('acct_unit', 'taxreg_1', 1, 'DE', '', 'standard', 500, NULL),"
	     " ('acct_unit', 'taxreg_2', 1, 'US', 'CA', 'state_sales_tax', 500, 1000),"
	     " ('acct_unit', 'taxreg_3', 1, 'GB', '', 'standard', 2000, NULL),"
	     " ('acct_other', 'taxreg_4', 1, 'FR', '', 'standard', 0, NULL)");
	load(&c);
	cr_assert_str_eq(c.m.head_office, "DE");
	cr_assert_str_eq(c.m.default_behavior, "inclusive");
	cr_assert_str_eq(c.m.default_code, "txcd_99999999");
	cr_assert_eq(c.m.n_regs, 1);
	cr_assert_str_eq(c.m.regs[0].country, "DE");
	cr_assert_str_eq(c.m.regs[0].type, "standard");
	c.t = 999; /* the US one is still in force */
	load(&c);
	cr_assert_eq(c.m.n_regs, 2);
	cr_assert_str_eq(c.m.regs[1].state, "CA");
	c.t = 2000;
	load(&c);
	cr_assert_eq(c.m.n_regs, 2); /* DE and GB */
	cr_assert_str_eq(c.m.regs[1].country, "GB");

	/* through the engine: DE collected, GB (scheduled at 1000) not */
	c.t = 1000;
	load(&c);
	struct tax_context ctx;
	struct tax_line_result r;
	tax_merchant_context(&c.m, "GB", NULL, &ctx);
	cr_assert_eq(tax_engine_line(&ctx, 1000, false, NULL, &r), 0);
	cr_assert_eq(r.parts[0].reason, TAX_REASON_NOT_COLLECTING);
	tax_merchant_context(&c.m, "DE", NULL, &ctx);
	cr_assert_str_eq(ctx.head_office, "DE");
	cr_assert_eq(tax_engine_line(&ctx, 1000, false, NULL, &r), 0);
	cr_assert_eq(r.amount_tax, 190);
}

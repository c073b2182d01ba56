/*
 * The shared exchange-rate table of src/app.c: a reader's reference outlives a swap (SIGHUP), the
 * new table is what later readers get, and nothing leaks (run under ASan's leak checker).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "app.h"
#include "money/fx.h"

static struct fx_table *csv(const char *text)
{
	char err[256];
	struct fx_table *t = fx_table_load_csv(text, strlen(text), err, sizeof(err));
	cr_assert_not_null(t, "%s", err);
	return t;
}

static int64_t rate_of(const struct fx_table *t)
{
	struct fx_rate r;
	cr_assert_eq(fx_lookup(t, "eur", "usd", FX_LATEST, &r), 0);
	return r.rate_e12;
}

Test(app, a_reader_keeps_its_table_across_a_swap)
{
	struct app app;
	memset(&app, 0, sizeof(app));
	cr_assert_eq(app_fx_init(&app, csv("eur,usd,1.0823,2026-01-01\n")), 0);
	struct fx_table *held = app_fx_acquire(&app);
	cr_assert_eq(rate_of(held), INT64_C(1082300000000));
	app_fx_swap(&app, csv("eur,usd,1.1,2026-01-01\n"));
	cr_assert_eq(rate_of(held), INT64_C(1082300000000), "the old table is still valid");
	struct fx_table *now = app_fx_acquire(&app);
	cr_assert_eq(rate_of(now), INT64_C(1100000000000));
	fx_table_free(held); /* the last reference to the old table frees it */
	fx_table_free(now);
	app_fx_release(&app);
	cr_assert_null(app_fx_acquire(NULL));
}

Test(app, load_reports_a_bad_file_and_falls_back_to_the_bundled_snapshot)
{
	char err[256] = "";
	cr_assert_null(app_fx_load("/nonexistent/rates.csv", err, sizeof(err)));
	cr_assert_neq(err[0], '\0');
	struct fx_table *t = app_fx_load(NULL, err, sizeof(err));
	cr_assert_not_null(t);
	cr_assert_gt(fx_table_count(t), 0);
	fx_table_free(t);
}

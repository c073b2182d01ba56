#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "billing/billing.h"
#include "tax/engine.h"

static struct tax_context ctx_at(const char *country, const char *state,
				 const struct tax_registration_in *regs, int n)
{
	struct tax_context c;
	memset(&c, 0, sizeof(c));
	snprintf(c.country, sizeof(c.country), "%s", country);
	snprintf(c.state, sizeof(c.state), "%s", state ? state : "");
	c.regs = regs;
	c.n_regs = n;
	return c;
}

static const struct tax_registration_in regs[] = {
    {"DE", "", "standard"},
    {"US", "CA", "state_sales_tax"},
    {"GB", "", "standard"},
    {"CA", "", "standard"},
};

Test(tax_engine, exclusive_standard_rated)
{
	struct tax_context c = ctx_at("DE", NULL, regs, 4);
	struct tax_line_result r;
	cr_assert_eq(tax_engine_line(&c, 1000, false, NULL, &r), 0);
	cr_assert_eq(r.n, 1);
	cr_assert_eq(r.amount_tax, 190);
	cr_assert_eq(r.net, 1000);
	cr_assert_eq(r.parts[0].reason, TAX_REASON_STANDARD_RATED);
	cr_assert_eq(r.parts[0].taxable, 1000);
	cr_assert_eq(r.parts[0].percent_e4, 190000);
	/* California: 7.25 % of 1499 = 108.6775 → 109 */
	c = ctx_at("US", "CA", regs, 4);
	cr_assert_eq(tax_engine_line(&c, 1499, false, NULL, &r), 0);
	cr_assert_eq(r.amount_tax, 109);
	cr_assert(r.parts[0].c.state_level);
}

Test(tax_engine, rounding_halves_away_from_zero)
{
	struct tax_context c = ctx_at("GB", NULL, regs, 4);
	struct tax_line_result r;
	/* 20 % of 1.5 minor units… 20 % of 2.5 → 0.5 → 1; of -25 → -5 exactly; of 7 → 1.4 → 1 */
	cr_assert_eq(tax_engine_line(&c, 7, false, NULL, &r), 0);
	cr_assert_eq(r.amount_tax, 1);
	cr_assert_eq(tax_engine_line(&c, 8, false, NULL, &r), 0);
	cr_assert_eq(r.amount_tax, 2); /* 1.6 */
	/* California 7.25 % of 200 = 14.5 → 15, of -200 → -15 */
	c = ctx_at("US", "CA", regs, 4);
	cr_assert_eq(tax_engine_line(&c, 200, false, NULL, &r), 0);
	cr_assert_eq(r.amount_tax, 15);
	cr_assert_eq(tax_engine_line(&c, -200, false, NULL, &r), 0);
	cr_assert_eq(r.amount_tax, -15);
}

Test(tax_engine, inclusive_split)
{
	struct tax_context c = ctx_at("DE", NULL, regs, 4);
	struct tax_line_result r;
	/* 1190 inclusive of 19 %: 190 tax, 1000 net */
	cr_assert_eq(tax_engine_line(&c, 1190, true, NULL, &r), 0);
	cr_assert_eq(r.amount_tax, 190);
	cr_assert_eq(r.net, 1000);
	cr_assert_eq(r.parts[0].taxable, 1000);
	/* 1000 inclusive: 1000 × 19 / 119 = 159.66 → 160, net 840 */
	cr_assert_eq(tax_engine_line(&c, 1000, true, NULL, &r), 0);
	cr_assert_eq(r.amount_tax, 160);
	cr_assert_eq(r.net, 840);
}

Test(tax_engine, canada_two_components)
{
	static const struct tax_registration_in ca[] = {{"CA", "", "standard"},
							{"CA", "QC", "province_standard"}};
	struct tax_context c = ctx_at("CA", "QC", ca, 2);
	struct tax_line_result r;
	cr_assert_eq(tax_engine_line(&c, 10000, false, NULL, &r), 0);
	cr_assert_eq(r.n, 2);
	cr_assert_eq(r.parts[0].amount, 500);
	cr_assert_eq(r.parts[1].amount, 998); /* 997.5 → 998 */
	cr_assert_eq(r.amount_tax, 1498);
	/* only GST registered: QST not collected */
	c = ctx_at("CA", "QC", ca, 1);
	cr_assert_eq(tax_engine_line(&c, 10000, false, NULL, &r), 0);
	cr_assert_eq(r.parts[1].reason, TAX_REASON_NOT_COLLECTING);
	cr_assert_eq(r.amount_tax, 500);
	/* inclusive, both: 11497.5 → each its share of amount / 114.975 % */
	c = ctx_at("CA", "QC", ca, 2);
	cr_assert_eq(tax_engine_line(&c, 11498, true, NULL, &r), 0);
	cr_assert_eq(r.parts[0].amount, 500);
	cr_assert_eq(r.parts[1].amount, 998);
	cr_assert_eq(r.net, 10000);
}

Test(tax_engine, not_collecting_and_unsupported)
{
	struct tax_context c = ctx_at("FR", NULL, regs, 4);
	struct tax_line_result r;
	cr_assert_eq(tax_engine_line(&c, 1000, false, NULL, &r), 0);
	cr_assert_eq(r.parts[0].reason, TAX_REASON_NOT_COLLECTING);
	cr_assert_eq(r.amount_tax, 0);
	cr_assert_eq(r.parts[0].taxable, 0);
	c = ctx_at("US", "NY", regs, 4);
	cr_assert_eq(tax_engine_line(&c, 1000, false, NULL, &r), 0);
	cr_assert_eq(r.parts[0].reason, TAX_REASON_NOT_COLLECTING);
	c = ctx_at("BR", NULL, regs, 4);
	cr_assert_eq(tax_engine_line(&c, 1000, false, NULL, &r), 0);
	cr_assert_eq(r.parts[0].reason, TAX_REASON_NOT_SUPPORTED);
	cr_assert_str_eq(r.parts[0].c.country, "BR");
	c = ctx_at("US", NULL, regs, 4);
	cr_assert_eq(tax_engine_line(&c, 1000, false, NULL, &r), TAX_ERR_LOCATION);
	cr_assert(!tax_engine_location_valid(&c));
}

Test(tax_engine, oss_covers_the_union)
{
	static const struct tax_registration_in oss[] = {{"DE", "", "oss_union"}};
	struct tax_context c = ctx_at("FR", NULL, oss, 1);
	struct tax_line_result r;
	cr_assert_eq(tax_engine_line(&c, 1000, false, NULL, &r), 0);
	cr_assert_eq(r.parts[0].reason, TAX_REASON_STANDARD_RATED);
	cr_assert_eq(r.amount_tax, 200);
	c = ctx_at("GB", NULL, oss, 1);
	cr_assert_eq(tax_engine_line(&c, 1000, false, NULL, &r), 0);
	cr_assert_eq(r.parts[0].reason, TAX_REASON_NOT_COLLECTING);
}

Test(tax_engine, reverse_charge_and_exempt)
{
	struct tax_context c = ctx_at("FR", NULL, regs, 4);
	memcpy(c.vat_id_country, "FR", 3);
	memcpy(c.head_office, "DE", 3);
	struct tax_line_result r;
	cr_assert_eq(tax_engine_line(&c, 1000, false, NULL, &r), 0);
	cr_assert_eq(r.parts[0].reason, TAX_REASON_REVERSE_CHARGE);
	cr_assert_eq(r.amount_tax, 0);
	cr_assert_eq(r.parts[0].percent_e4, 0);
	/* domestic B2B is taxed */
	c = ctx_at("DE", NULL, regs, 4);
	memcpy(c.vat_id_country, "DE", 3);
	memcpy(c.head_office, "DE", 3);
	cr_assert_eq(tax_engine_line(&c, 1000, false, NULL, &r), 0);
	cr_assert_eq(r.parts[0].reason, TAX_REASON_STANDARD_RATED);
	/* a VAT id of another country than the address's: no reverse charge */
	c = ctx_at("FR", NULL, regs, 4);
	memcpy(c.vat_id_country, "IT", 3);
	memcpy(c.head_office, "DE", 3);
	cr_assert_eq(tax_engine_line(&c, 1000, false, NULL, &r), 0);
	cr_assert_eq(r.parts[0].reason, TAX_REASON_NOT_COLLECTING);
	/* exempt customer */
	c = ctx_at("DE", NULL, regs, 4);
	c.override = TAX_OVERRIDE_CUSTOMER_EXEMPT;
	cr_assert_eq(tax_engine_line(&c, 1000, false, NULL, &r), 0);
	cr_assert_eq(r.parts[0].reason, TAX_REASON_CUSTOMER_EXEMPT);
	cr_assert_eq(r.amount_tax, 0);
	/* nontaxable code */
	c = ctx_at("DE", NULL, regs, 4);
	cr_assert_eq(tax_engine_line(&c, 1000, false, TAX_CODE_NONTAXABLE, &r), 0);
	cr_assert_eq(r.parts[0].reason, TAX_REASON_PRODUCT_EXEMPT);
	cr_assert_eq(r.amount_tax, 0);
	/* an inclusive exempt line keeps its whole amount as net */
	cr_assert_eq(tax_engine_line(&c, 1000, true, TAX_CODE_NONTAXABLE, &r), 0);
	cr_assert_eq(r.net, 1000);
}

Test(tax_engine, overflow_and_bounds)
{
	struct tax_context c = ctx_at("HU", NULL, NULL, 0);
	static const struct tax_registration_in hu[] = {{"HU", "", "standard"}};
	c.regs = hu;
	c.n_regs = 1;
	struct tax_line_result r;
	memset(&r, 0x5a, sizeof(r));
	cr_assert_eq(tax_engine_line(&c, BILLING_AMOUNT_MAX + 1, false, NULL, &r), TAX_ERR_INPUT);
	cr_assert_eq(tax_engine_line(&c, INT64_MIN, false, NULL, &r), TAX_ERR_INPUT);
	cr_assert_eq(r.n, 0x5a5a5a5a, "nothing written on failure");
	cr_assert_eq(tax_engine_line(&c, BILLING_AMOUNT_MAX, false, NULL, &r), 0);
	/* 27 % of 99,999,999 = 26,999,999.73 → 27,000,000 */
	cr_assert_eq(r.amount_tax, 27000000);
	c.n_regs = -1;
	cr_assert_eq(tax_engine_line(&c, 1, false, NULL, &r), TAX_ERR_INPUT);
}

static int64_t sum(const int64_t *v, int n)
{
	int64_t s = 0;
	for (int i = 0; i < n; i++)
		s += v[i];
	return s;
}

Test(tax_engine, spread_adds_up_exactly)
{
	/* exclusive 1499 + 109, exclusive 1000 + 0, shipping 300 + 22: gross 2930 */
	int64_t a[] = {1499, 1000, 300}, t[] = {109, 0, 22}, ra[3], rt[3];
	bool inc[] = {false, false, false};
	cr_assert_eq(tax_engine_spread(-1000, 3, a, t, inc, ra, rt), 0);
	cr_assert_eq(sum(ra, 3) + sum(rt, 3), -1000);
	/* 1608 / 2930 of 1000 = 548.8 → 549; its tax 549 × 109 / 1608 = 37.2 → 37 */
	cr_assert_eq(ra[0] + rt[0], -549);
	cr_assert_eq(rt[0], -37);
	cr_assert_eq(rt[1], 0);
	for (int i = 0; i < 3; i++) {
		cr_assert_leq(ra[i], 0);
		cr_assert_leq(rt[i], 0);
		cr_assert_geq(ra[i], -a[i]);
		cr_assert_geq(rt[i], -t[i]);
	}
	/* all of it: exactly what is left */
	cr_assert_eq(tax_engine_spread(-2930, 3, a, t, inc, ra, rt), 0);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(ra[i], -a[i]);
		cr_assert_eq(rt[i], -t[i]);
	}
}

Test(tax_engine, spread_inclusive_and_every_amount)
{
	/* inclusive 1200 holding 200, exclusive 999 + 200 */
	int64_t a[] = {1200, 999}, t[] = {200, 200}, ra[2], rt[2];
	bool inc[] = {true, false};
	for (int64_t flat = -1; flat >= -2399; flat -= 7) {
		cr_assert_eq(tax_engine_spread(flat, 2, a, t, inc, ra, rt), 0, "%lld",
			     (long long)flat);
		/* an inclusive part's amount is its whole share (tax inside) */
		cr_assert_eq(ra[0] + (ra[1] + rt[1]), flat, "%lld", (long long)flat);
		cr_assert_geq(ra[0], -1200);
		cr_assert_geq(rt[0], -200);
		cr_assert_geq(ra[1], -999);
		cr_assert_geq(rt[1], -200);
	}
}

Test(tax_engine, spread_refuses)
{
	int64_t a[] = {100}, t[] = {10}, ra[1] = {7}, rt[1] = {7};
	bool inc[] = {false};
	cr_assert_eq(tax_engine_spread(-111, 1, a, t, inc, ra, rt), TAX_ERR_EXCEEDS);
	cr_assert_eq(tax_engine_spread(0, 1, a, t, inc, ra, rt), TAX_ERR_INPUT);
	cr_assert_eq(tax_engine_spread(5, 1, a, t, inc, ra, rt), TAX_ERR_INPUT);
	cr_assert_eq(ra[0], 7, "nothing written on failure");
	int64_t z[] = {0}, zt[] = {0};
	cr_assert_eq(tax_engine_spread(-1, 1, z, zt, inc, ra, rt), TAX_ERR_EXCEEDS);
	int64_t big[] = {INT64_MAX}, bt[] = {1};
	cr_assert_eq(tax_engine_spread(-1, 1, big, bt, inc, ra, rt), TAX_ERR_INPUT);
	int64_t neg[] = {-5};
	cr_assert_eq(tax_engine_spread(-1, 1, neg, t, inc, ra, rt), TAX_ERR_INPUT);
	cr_assert_eq(tax_engine_spread(-1, 0, a, t, inc, ra, rt), TAX_ERR_INPUT);
}

Test(tax_engine, reason_codes_round_trip)
{
	/* every reason owing nothing that is shown has a code, and a rate id ending in it names
	 * the reason back */
	enum tax_reason shown[] = {TAX_REASON_REVERSE_CHARGE, TAX_REASON_CUSTOMER_EXEMPT,
				   TAX_REASON_NOT_COLLECTING, TAX_REASON_NOT_SUBJECT_TO_TAX,
				   TAX_REASON_PRODUCT_EXEMPT};
	for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++) {
		const char *code = tax_reason_code(shown[i]);
		cr_assert_not_null(code);
		char id[64];
		snprintf(id, sizeof(id), "txr_autoDEvat_0e_%s", code);
		cr_assert_str_eq(tax_rate_id_reason(id), tax_reason_name(shown[i]));
	}
	cr_assert_null(tax_reason_code(TAX_REASON_STANDARD_RATED));
	cr_assert_null(tax_reason_code(TAX_REASON_NOT_SUPPORTED));
}

Test(tax_engine, rate_id_reason_defaults_to_standard_rated)
{
	cr_assert_str_eq(tax_rate_id_reason("txr_autoDEvat_190000e"), "standard_rated");
	cr_assert_str_eq(tax_rate_id_reason("txr_autoUSCAsales_tax_72500e"), "standard_rated");
	cr_assert_str_eq(tax_rate_id_reason("txr_1AbCdEf_rc"), "standard_rated"); /* manual */
	cr_assert_str_eq(tax_rate_id_reason("txr_auto_rc"), "standard_rated");
	cr_assert_str_eq(tax_rate_id_reason(NULL), "standard_rated");
	cr_assert_str_eq(tax_rate_id_reason("txr_autoFRvat_0e_rc"), "reverse_charge");
	cr_assert_str_eq(tax_rate_id_reason("txr_autoJPjct_0i_nc"), "not_collecting");
}

Test(tax_engine, entry_taxable_zero_for_entries_owing_nothing)
{
	/* Stripe shows a tax that owes nothing with taxable_amount 0; a levied one with the net */
	cr_assert_eq(tax_entry_taxable("txr_autoFRvat_0e_rc", 3000), 0);
	cr_assert_eq(tax_entry_taxable("txr_autoJPjct_0e_nc", 2000), 0);
	cr_assert_eq(tax_entry_taxable("txr_autoDEvat_0e_ce", 2000), 0);
	cr_assert_eq(tax_entry_taxable("txr_autoDEvat19", 2000), 2000);
	cr_assert_eq(tax_entry_taxable("txr_1Manual", -500), -500);
	cr_assert_eq(tax_entry_taxable(NULL, 7), 7);
}

#include <criterion/criterion.h>
#include <string.h>

#include "tax/rates.h"

Test(tax_rates, eu_and_others)
{
	struct tax_component c[TAX_COMPONENTS_MAX];
	cr_assert_eq(tax_rates_lookup("DE", NULL, c), 1);
	cr_assert_eq(c[0].percent_e4, 190000);
	cr_assert_str_eq(c[0].tax_type, "vat");
	cr_assert_str_eq(c[0].jurisdiction_name, "Germany");
	cr_assert(!c[0].state_level);
	cr_assert_eq(tax_rates_lookup("HU", "", c), 1);
	cr_assert_eq(c[0].percent_e4, 270000);
	cr_assert_eq(tax_rates_lookup("FI", NULL, c), 1);
	cr_assert_eq(c[0].percent_e4, 255000);
	cr_assert_eq(tax_rates_lookup("CH", NULL, c), 1);
	cr_assert_eq(c[0].percent_e4, 81000);
	cr_assert_eq(tax_rates_lookup("JP", NULL, c), 1);
	cr_assert_str_eq(c[0].tax_type, "jct");
	cr_assert_eq(tax_rates_lookup("GB", NULL, c), 1);
	cr_assert_eq(c[0].percent_e4, 200000);
	/* 27 member states */
	const char *eu[] = {"AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI",
			    "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU",
			    "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"};
	for (size_t i = 0; i < sizeof(eu) / sizeof(eu[0]); i++) {
		cr_assert(tax_country_is_eu(eu[i]), "%s", eu[i]);
		cr_assert_eq(tax_rates_lookup(eu[i], NULL, c), 1, "%s", eu[i]);
		cr_assert_gt(c[0].percent_e4, 0);
	}
	cr_assert(!tax_country_is_eu("GB"));
	cr_assert(!tax_country_is_eu("CH"));
	cr_assert_str_eq(tax_eu_vat_prefix("GR"), "EL");
	cr_assert_str_eq(tax_eu_vat_prefix("FR"), "FR");
}

Test(tax_rates, us_states)
{
	struct tax_component c[TAX_COMPONENTS_MAX];
	cr_assert_eq(tax_rates_lookup("US", "CA", c), 1);
	cr_assert_eq(c[0].percent_e4, 72500);
	cr_assert(c[0].state_level);
	cr_assert_str_eq(c[0].state, "CA");
	cr_assert_str_eq(c[0].jurisdiction_name, "California");
	cr_assert_str_eq(c[0].tax_type, "sales_tax");
	cr_assert_eq(tax_rates_lookup("US", "OR", c), 1);
	cr_assert_eq(c[0].percent_e4, 0);
	cr_assert_eq(tax_rates_lookup("US", "DC", c), 1);
	/* a US destination needs its state */
	cr_assert_eq(tax_rates_lookup("US", NULL, c), -1);
	cr_assert_eq(tax_rates_lookup("US", "ZZ", c), -1);
	int states = 0;
	const char *all = "AKALARAZCACOCTDCDEFLGAHIIAIDILINKSKYLAMAMDMEMIMNMOMSMTNCNDNENHNJNMNVNYOH"
			  "OKORPARISCSDTNTXUTVAVTWAWIWVWY";
	for (size_t i = 0; i + 1 < strlen(all); i += 2) {
		char s[3] = {all[i], all[i + 1], 0};
		cr_assert(tax_us_state_valid(s), "%s", s);
		states++;
	}
	cr_assert_eq(states, 51);
}

Test(tax_rates, canada)
{
	struct tax_component c[TAX_COMPONENTS_MAX];
	cr_assert_eq(tax_rates_lookup("CA", "QC", c), 2);
	cr_assert_str_eq(c[0].tax_type, "gst");
	cr_assert_eq(c[0].percent_e4, 50000);
	cr_assert_eq(c[0].cover, TAX_COVER_CA_FEDERAL);
	cr_assert_str_eq(c[1].tax_type, "qst");
	cr_assert_eq(c[1].percent_e4, 99750);
	cr_assert_eq(c[1].cover, TAX_COVER_CA_PROVINCE);
	cr_assert_eq(tax_rates_lookup("CA", "ON", c), 1);
	cr_assert_str_eq(c[0].tax_type, "hst");
	cr_assert_eq(c[0].percent_e4, 130000);
	cr_assert_eq(tax_rates_lookup("CA", "AB", c), 1);
	cr_assert_str_eq(c[0].tax_type, "gst");
	cr_assert_eq(tax_rates_lookup("CA", "BC", c), 2);
	cr_assert_str_eq(c[1].tax_type, "pst");
	cr_assert_eq(tax_rates_lookup("CA", "MB", c), 2);
	cr_assert_str_eq(c[1].tax_type, "rst");
	cr_assert_eq(tax_rates_lookup("CA", NULL, c), -1);
}

Test(tax_rates, unsupported_and_invalid)
{
	struct tax_component c[TAX_COMPONENTS_MAX];
	cr_assert_eq(tax_rates_lookup("BR", NULL, c), 0);
	cr_assert_eq(tax_rates_lookup("de", NULL, c), -1);
	cr_assert_eq(tax_rates_lookup("DEU", NULL, c), -1);
	cr_assert_eq(tax_rates_lookup("", NULL, c), -1);
	cr_assert_eq(tax_rates_lookup(NULL, NULL, c), -1);
}

Test(tax_rates, percent_decimal)
{
	char b[24];
	cr_assert_eq(tax_percent_decimal(190000, b, sizeof(b)), 0);
	cr_assert_str_eq(b, "19.0");
	cr_assert_eq(tax_percent_decimal(99750, b, sizeof(b)), 0);
	cr_assert_str_eq(b, "9.975");
	cr_assert_eq(tax_percent_decimal(72500, b, sizeof(b)), 0);
	cr_assert_str_eq(b, "7.25");
	cr_assert_eq(tax_percent_decimal(0, b, sizeof(b)), 0);
	cr_assert_str_eq(b, "0.0");
	cr_assert_eq(tax_percent_decimal(1, b, sizeof(b)), 0);
	cr_assert_str_eq(b, "0.0001");
	cr_assert_eq(tax_percent_decimal(190000, b, 4), -1);
	cr_assert_eq(tax_percent_decimal(-1, b, sizeof(b)), -1);
}

Test(tax_rates, codes)
{
	int n = 0;
	const struct tax_code_info *c = tax_codes(&n);
	cr_assert_geq(n, 4);
	for (int i = 1; i < n; i++)
		cr_assert_lt(strcmp(c[i - 1].id, c[i].id), 0, "codes in id order");
	cr_assert(tax_code_find(TAX_CODE_NONTAXABLE)->exempt);
	cr_assert(!tax_code_find(TAX_CODE_GOODS)->exempt);
	cr_assert_str_eq(tax_code_find(TAX_CODE_GOODS)->name, "General - Tangible Goods");
	cr_assert_null(tax_code_find("txcd_12345678"));
	cr_assert_null(tax_code_find(NULL));
}

Test(tax_rates, us_zip_to_state)
{
	struct {
		const char *zip, *state;
	} cases[] = {
	    {"94080", "CA"},  {"10001", "NY"},	  {"02108", "MA"}, {"05501", "MA"},
	    {"05401", "VT"},  {"73301", "TX"},	  {"73101", "OK"}, {"20500", "DC"},
	    {"20101", "VA"},  {"99501", "AK"},	  {"96813", "HI"}, {"60601", "IL"},
	    {"88510", "TX"},  {"89501", "NV"},	  {"00501", "NY"}, {"98104-1234", "WA"},
	    {"09012", NULL},  {"00901", NULL},	  {"96910", NULL}, {"9408", NULL},
	    {"940801", NULL}, {"94080-12", NULL}, {"ABCDE", NULL}, {NULL, NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = tax_us_state_of_zip(cases[i].zip);
		if (cases[i].state)
			cr_assert(got && strcmp(got, cases[i].state) == 0, "%s: %s", cases[i].zip,
				  got ? got : "NULL");
		else
			cr_assert_null(got, "%s", cases[i].zip ? cases[i].zip : "NULL");
	}
}

Test(tax_rates, ca_postal_code_to_province)
{
	cr_assert_str_eq(tax_ca_province_of_postal_code("H2X 1Y4"), "QC");
	cr_assert_str_eq(tax_ca_province_of_postal_code("m5v3l9"), "ON");
	cr_assert_str_eq(tax_ca_province_of_postal_code("V6B 1A1"), "BC");
	cr_assert_str_eq(tax_ca_province_of_postal_code("T2P 1J9"), "AB");
	cr_assert_str_eq(tax_ca_province_of_postal_code("A1C 5M2"), "NL");
	cr_assert_null(tax_ca_province_of_postal_code("X1A 2P7")); /* NT or NU */
	cr_assert_null(tax_ca_province_of_postal_code("H2X 1Y"));
	cr_assert_null(tax_ca_province_of_postal_code("H2X 1Y44"));
	cr_assert_null(tax_ca_province_of_postal_code("22X 1Y4"));
	cr_assert_null(tax_ca_province_of_postal_code(NULL));
}

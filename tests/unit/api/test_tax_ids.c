/* Tax id formats, the country they imply, and the verification Stripe's test mode reports. */
#include <criterion/criterion.h>

#include "api/tax_ids.h"

static void ok(const char *type, const char *value, const char *country)
{
	char c[3] = "??";
	cr_assert_eq(tax_id_check(type, value, c), 0, "%s %s", type, value);
	cr_assert_str_eq(c, country, "%s %s", type, value);
}

static void bad(const char *type, const char *value)
{
	char c[3];
	cr_assert_eq(tax_id_check(type, value, c), -1, "%s %s", type, value);
}

Test(tax_ids, eu_vat_per_member_state)
{
	ok("eu_vat", "DE123456789", "DE");
	ok("eu_vat", "ATU12345678", "AT");
	ok("eu_vat", "FRAB123456789", "FR");
	ok("eu_vat", "NL123456789B01", "NL");
	ok("eu_vat", "ESA1234567Z", "ES");
	ok("eu_vat", "EL123456789", "GR"); /* Greece's prefix */
	ok("eu_vat", "XI123456789", "GB"); /* Northern Ireland */
	ok("eu_vat", "RO12", "RO");
	ok("eu_vat", "RO1234567890", "RO");
	bad("eu_vat", "DE12345678");   /* a digit short */
	bad("eu_vat", "DE1234567890"); /* a digit more */
	bad("eu_vat", "AT12345678");   /* no U */
	bad("eu_vat", "de123456789");  /* prefixes are upper case */
	bad("eu_vat", "US123456789");  /* not a member state */
	bad("eu_vat", "GB123456789");  /* Great Britain left: gb_vat */
	bad("eu_vat", "RO1");
	bad("eu_vat", "");
}

Test(tax_ids, common_types)
{
	ok("gb_vat", "GB123456789", "GB");
	ok("gb_vat", "GB123456789012", "GB");
	ok("gb_vat", "GBGD123", "GB");
	bad("gb_vat", "GB12345678");
	ok("us_ein", "12-3456789", "US");
	ok("us_ein", "123456789", "US");
	bad("us_ein", "12-345678");
	bad("us_ein", "AB-3456789");
	ok("au_abn", "12345678912", "AU");
	bad("au_abn", "1234567891");
	ok("au_arn", "123456789123", "AU");
	ok("ca_bn", "123456789", "CA");
	bad("ca_bn", "12345678");
	ok("ca_gst_hst", "123456789RT0002", "CA");
	bad("ca_gst_hst", "123456789RX0002");
	ok("ca_qst", "1234567890TQ1234", "CA");
	ok("ch_vat", "CHE-123.456.789 MWST", "CH");
	bad("ch_vat", "CHE-123.456.789");
	ok("nz_gst", "123456789", "NZ");
	ok("in_gst", "12ABCDE1234F1Z5", "IN");
	bad("in_gst", "12ABCDE1234F1Y5");
	ok("jp_cn", "1234567891234", "JP");
	ok("no_vat", "123456789MVA", "NO");
	ok("za_vat", "4123456789", "ZA");
	bad("za_vat", "5123456789");
}

Test(tax_ids, other_types_and_unknown_ones)
{
	ok("br_cnpj", "01.234.456/5432-10", "BR");
	ok("mx_rfc", "ABC010203AB9", "MX");
	ok("eu_oss_vat", "EU123456789", "");
	bad("br_cnpj", "01,234"); /* a comma is not in any id */
	bad("mx_rfc", "");
	bad("xx_vat", "123");
	bad("unknown", "123"); /* not a type one can create */
	bad(NULL, "123");
	bad("eu_vat", NULL);
}

Test(tax_ids, test_mode_verification)
{
	cr_assert_str_eq(tax_id_verification_status("eu_vat", "DE000000000"), "verified");
	cr_assert_str_eq(tax_id_verification_status("gb_vat", "GB111111111"), "unverified");
	cr_assert_str_eq(tax_id_verification_status("au_abn", "12345678912"), "pending");
	cr_assert_str_eq(tax_id_verification_status("eu_vat", "DE123456789"), "pending");
	cr_assert_str_eq(tax_id_verification_status("us_ein", "000000000"), "unavailable");
	cr_assert_str_eq(tax_id_verification_status("ca_bn", "123456789"), "unavailable");
}

Test(tax_ids, document_labels)
{
	char out[64];
	tax_id_label("eu_vat", "DE123456789", out, sizeof(out));
	cr_assert_str_eq(out, "EU VAT DE123456789");
	tax_id_label("ca_gst_hst", "123456789RT0001", out, sizeof(out));
	cr_assert_str_eq(out, "CA GST HST 123456789RT0001");
	tax_id_label("us_ein", "12-3456789", out, 10); /* cut to fit, terminated */
	cr_assert_str_eq(out, "US EIN 12");
	tax_id_label("eu_vat", "DE1", out, 4);
	cr_assert_str_eq(out, "EU ");
}

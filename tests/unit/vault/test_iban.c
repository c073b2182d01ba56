/* IBAN checks: Stripe's test IBANs pass with the facts Stripe shows, a changed check digit, a
 * wrong length or an unknown country fail, and the test outcomes map as Stripe documents. */
#include <criterion/criterion.h>
#include <string.h>

#include "vault/iban.h"

Test(iban, stripe_test_ibans_are_valid_and_show_their_codes)
{
	char out[IBAN_MAX + 1];
	struct iban_info info;
	cr_assert_eq(iban_check("DE89 3704 0044 0532 0130 00", out, &info), 0);
	cr_assert_str_eq(out, "DE89370400440532013000");
	cr_assert_str_eq(info.country, "DE");
	cr_assert_str_eq(info.last4, "3000");
	cr_assert_str_eq(info.bank_code, "37040044");
	cr_assert_str_eq(info.branch_code, "");
	cr_assert_eq(iban_check("fr1420041010050500013m02606", out, &info), 0);
	cr_assert_str_eq(out, "FR1420041010050500013M02606");
	cr_assert_str_eq(info.bank_code, "20041");
	cr_assert_str_eq(info.branch_code, "01005");
	cr_assert_str_eq(info.last4, "2606");
	cr_assert_eq(iban_check("AT611904300234573201", out, &info), 0);
	cr_assert_str_eq(info.bank_code, "19043");
	cr_assert_eq(iban_check("NL39RABO0300065264", out, &info), 0);
	cr_assert_str_eq(info.bank_code, "RABO");
	cr_assert_eq(iban_check("IT40S0542811101000000123456", out, &info), 0);
	cr_assert_str_eq(info.bank_code, "05428");
	cr_assert_str_eq(info.branch_code, "11101");
	const char *ok[] = {"DE08370400440532013003",	"DE62370400440532013001",
			    "DE78370400440532013004",	"DE35370400440532013002",
			    "DE65370400440002222227",	"BE62510007547061",
			    "ES0700120345030000067890", "IE29AIBK93115212345678"};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		cr_assert_eq(iban_check(ok[i], out, &info), 0, "%s", ok[i]);
}

Test(iban, invalid_ibans_are_refused_and_wiped)
{
	char out[IBAN_MAX + 1];
	struct iban_info info;
	const char *bad[] = {
	    "DE89370400440532013001", /* check digits do not match */
	    "DE8937040044053201300",  /* one short for DE */
	    "DE893704004405320130000",
	    "XX89370400440532013000", /* unknown country */
	    "DE89-3704-0044-0532-0130-00",
	    "",
	    "DE",
	    "89DE370400440532013000",
	    "DE89370400440532013000DE89370400440532013000DE89370400440532013000",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(out, 'x', sizeof(out));
		cr_assert_eq(iban_check(bad[i], out, &info), -1, "%s", bad[i]);
		for (size_t k = 0; k < sizeof(out); k++)
			cr_assert_eq(out[k], 0, "left in out for %s", bad[i]);
	}
	cr_assert_eq(iban_check(NULL, out, &info), -1);
}

Test(iban, test_behaviors)
{
	cr_assert_eq(iban_test_behavior("DE89370400440532013000"), SEPA_SUCCEED);
	cr_assert_eq(iban_test_behavior("DE08370400440532013003"), SEPA_SUCCEED_DELAYED);
	cr_assert_eq(iban_test_behavior("DE62370400440532013001"), SEPA_FAIL);
	cr_assert_eq(iban_test_behavior("DE78370400440532013004"), SEPA_FAIL_DELAYED);
	cr_assert_eq(iban_test_behavior("DE35370400440532013002"), SEPA_DISPUTE);
	cr_assert_eq(iban_test_behavior("DE65370400440002222227"), SEPA_INSUFFICIENT_FUNDS);
	cr_assert_eq(iban_test_behavior("FR1420041010050500013M02606"), SEPA_SUCCEED);
	cr_assert_eq(iban_test_behavior("AT861904300235473202"), SEPA_FAIL);
	cr_assert_eq(iban_test_behavior("AT321904300235473204"), SEPA_SUCCEED_DELAYED);
	cr_assert_eq(iban_test_behavior("FR5720041010050500013M02608"), SEPA_DISPUTE);
	cr_assert_eq(iban_test_behavior("NL91ABNA0417164300"), SEPA_FAIL);
	cr_assert_eq(iban_test_behavior("IE10AIBK93115202222227"), SEPA_INSUFFICIENT_FUNDS);
	cr_assert_eq(iban_test_behavior("DE65370400440000343434"), SEPA_EXCEEDS_VOLUME_LIMIT);
	cr_assert_eq(iban_test_behavior("BE52510000121212"), SEPA_EXCEEDS_WEEKLY_LIMIT);
	cr_assert_eq(iban_test_behavior("ES9121000418450200051332"), SEPA_SUCCEED);
}

Test(iban, every_test_iban_is_a_valid_iban)
{
	/* a typo in the table would make its IBAN refused at create, never reaching its outcome */
	const char *some[] = {"AT981904300000343434",	     "BE08510007547063",
			      "FR9720041010050000002222227", "IE94AIBK93115212345672",
			      "NL82RABO0300065266",	     "DE27370400440000121212"};
	char out[IBAN_MAX + 1];
	struct iban_info info;
	for (size_t i = 0; i < sizeof(some) / sizeof(some[0]); i++)
		cr_assert_eq(iban_check(some[i], out, &info), 0, "%s", some[i]);
}

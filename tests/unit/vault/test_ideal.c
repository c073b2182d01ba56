/*
 * The redirect PaymentMethods' public facts: Stripe's iDEAL bank codes with the BIC each shows,
 * nothing for an unknown or absent code, and which types are redirect types.
 */
#include <criterion/criterion.h>

#include "vault/ideal.h"

Test(ideal, banks_and_bics)
{
	cr_assert_str_eq(redirect_ideal_bank("ing")->bic, "INGBNL2A");
	cr_assert_str_eq(redirect_ideal_bank("rabobank")->bic, "RABONL2U");
	cr_assert_str_eq(redirect_ideal_bank("abn_amro")->bic, "ABNANL2A");
	cr_assert_str_eq(redirect_ideal_bank("n26")->bic, "NTSBDEB1");
	cr_assert_str_eq(redirect_ideal_bank("van_lanschot")->bic, "FVLBNL22");
	cr_assert_str_eq(redirect_ideal_bank("yoursafe")->bic, "BITSNL2A");
	cr_assert_str_eq(redirect_ideal_bank("ing")->code, "ing");
	cr_assert_null(redirect_ideal_bank("in"));
	cr_assert_null(redirect_ideal_bank("ING"));
	cr_assert_null(redirect_ideal_bank(""));
	cr_assert_null(redirect_ideal_bank(NULL));
}

Test(ideal, redirect_types)
{
	cr_assert(redirect_type_known("ideal"));
	cr_assert(redirect_type_known("bancontact"));
	cr_assert_str_eq(redirect_type_known("afterpay_clearpay"), "afterpay_clearpay");
	cr_assert(redirect_type_known("affirm"));
	cr_assert(redirect_type_known("klarna"));
	cr_assert(redirect_type_bnpl("klarna"));
	cr_assert_not(redirect_type_bnpl("ideal"));
	cr_assert_not(redirect_type_bnpl(NULL));
	cr_assert_not(redirect_type_known("sepa_debit"));
	cr_assert_not(redirect_type_known("card"));
	cr_assert_not(redirect_type_known(""));
	cr_assert_not(redirect_type_known(NULL));
}

Test(ideal, test_ibans)
{
	/* the last four of Stripe's NL and BE test IBANs, the charges' iban_last4 */
	cr_assert_str_eq(redirect_test_iban_last4("ideal"), "5264");
	cr_assert_str_eq(redirect_test_iban_last4("bancontact"), "7061");
}

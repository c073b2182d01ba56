/*
 * A redirect payment's charge details: the whole payment_method_details Stripe shows for an
 * iDEAL (bank, BIC, test IBAN last4 and verified name) or Bancontact charge, headed by the type's
 * key so that charge_render recognises the column; and the recognition itself.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "core/arena.h"
#include "payments/redirect.h"
#include "vault/payment_method.h"

Test(redirect, ideal_details)
{
	struct arena a;
	arena_init(&a, 1 << 20);
	struct pm_card pm;
	memset(&pm, 0, sizeof(pm));
	strcpy(pm.type, "ideal");
	strcpy(pm.ideal_bank, "rabobank");
	const char *d = redirect_charge_details(&a, &pm, NULL, NULL);
	cr_assert_str_eq(d, "{\"ideal\":{\"bank\":\"rabobank\",\"bic\":\"RABONL2U\","
			    "\"generated_sepa_debit\":null,\"generated_sepa_debit_mandate\":null,"
			    "\"iban_last4\":\"5264\",\"verified_name\":\"Jenny Rosen\"},"
			    "\"type\":\"ideal\"}");
	cr_assert(redirect_details_is(d));
	/* no bank chosen: bank and bic null */
	pm.ideal_bank[0] = '\0';
	d = redirect_charge_details(&a, &pm, NULL, NULL);
	cr_assert_not_null(strstr(d, "\"bank\":null,\"bic\":null"));
	/* a payment that generated a sepa_debit PaymentMethod names it and its mandate */
	d = redirect_charge_details(&a, &pm, "pm_gen", "mandate_gen");
	cr_assert_not_null(strstr(d, "\"generated_sepa_debit\":\"pm_gen\","
				     "\"generated_sepa_debit_mandate\":\"mandate_gen\""));
	arena_release(&a);
}

Test(redirect, bancontact_details)
{
	struct arena a;
	arena_init(&a, 1 << 20);
	struct pm_card pm;
	memset(&pm, 0, sizeof(pm));
	strcpy(pm.type, "bancontact");
	const char *d = redirect_charge_details(&a, &pm, NULL, NULL);
	cr_assert_str_eq(d, "{\"bancontact\":{\"bank_code\":\"VAPE\",\"bank_name\":\"VAN DE PUT & "
			    "CO\",\"bic\":\"VAPEBE22\",\"generated_sepa_debit\":null,"
			    "\"generated_sepa_debit_mandate\":null,\"iban_last4\":\"7061\","
			    "\"preferred_language\":\"en\",\"verified_name\":\"Jenny Rosen\"},"
			    "\"type\":\"bancontact\"}");
	cr_assert(redirect_details_is(d));
	arena_release(&a);
}

Test(redirect, recognition)
{
	cr_assert_not(redirect_details_is(NULL));
	cr_assert_not(redirect_details_is("{\"brand\":\"visa\"}"));
	cr_assert_not(redirect_details_is("{\"sepa_debit\":{},\"type\":\"sepa_debit\"}"));
	cr_assert_not(redirect_details_is("{\"idealx\":{}}"));
}

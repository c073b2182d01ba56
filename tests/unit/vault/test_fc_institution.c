/* Financial Connections' test institution: every account's number is a valid ACH account
 * number whose last four are what the object shows, its debits behave as Stripe's test number
 * says (Insufficient Funds returns them), and unknown keys have no number. */
#include <criterion/criterion.h>
#include <string.h>

#include "api/financial_connections.h"
#include "vault/ach.h"
#include "vault/fc_institution.h"
#include "vault/iban.h"

Test(fc_institution, numbers_match_last4_and_are_ach_numbers)
{
	size_t n;
	const struct fc_test_account *t = fc_test_accounts(&n);
	cr_assert_geq(n, 6);
	for (size_t i = 0; i < n; i++) {
		char num[ACH_ACCOUNT_MAX + 1], checked[ACH_ACCOUNT_MAX + 1];
		cr_assert_eq(fc_test_account_number(t[i].key, num), 0);
		cr_assert_eq(ach_account_check(num, checked), 0, "%s", t[i].key);
		cr_assert_str_eq(num + strlen(num) - 4, t[i].last4, "%s", t[i].key);
		cr_assert_eq(fc_test_account(t[i].key), &t[i]);
		cr_assert(strcmp(t[i].subcategory, "checking") == 0 ||
			  strcmp(t[i].subcategory, "savings") == 0);
	}
	char num[ACH_ACCOUNT_MAX + 1];
	cr_assert_eq(fc_test_account_number("nope", num), -1);
	cr_assert_eq(fc_test_account_number(NULL, num), -1);
	cr_assert_null(fc_test_account("nope"));
}

Test(fc_institution, debits_behave_as_the_numbers_say)
{
	char num[ACH_ACCOUNT_MAX + 1];
	cr_assert_eq(fc_test_account_number("success", num), 0);
	cr_assert_eq(ach_test_behavior(FC_TEST_ROUTING, num), SEPA_SUCCEED);
	cr_assert_eq(fc_test_account_number("insufficient_funds", num), 0);
	cr_assert_eq(ach_test_behavior(FC_TEST_ROUTING, num), SEPA_INSUFFICIENT_FUNDS);
	cr_assert(fc_test_account("disconnected")->links_disconnected);
	cr_assert(fc_test_account("no_ownership")->no_ownership);
	cr_assert(!fc_test_account("success")->links_disconnected);
}

Test(fc_institution, client_secret_names_its_session)
{
	char id[ID_MAX];
	cr_assert_eq(fc_client_secret_session("fcsess_abc123_secret_XyZ-_9", id), 0);
	cr_assert_str_eq(id, "fcsess_abc123");
	cr_assert_eq(fc_client_secret_session("vs_abc123_secret_x", id), -1);
	cr_assert_eq(fc_client_secret_session("fcsess_abc123", id), -1);
	cr_assert_eq(fc_client_secret_session("fcsess__secret_x", id), -1);
	cr_assert_eq(fc_client_secret_session(NULL, id), -1);
}

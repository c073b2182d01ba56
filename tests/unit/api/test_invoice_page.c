/* The hosted invoice page's checks of what the URL carries (before anything is looked up) and
 * its due date's rendering. */
#include <criterion/criterion.h>
#include <string.h>

#include "api/resources.h"
#include "vault/vault.h"

Test(invoice_page, token_shape)
{
	char t[VAULT_PAGE_TOKEN_LEN + 2];
	memset(t, 'a', VAULT_PAGE_TOKEN_LEN);
	t[VAULT_PAGE_TOKEN_LEN] = '\0';
	cr_assert(invoice_page_token_ok(t));
	t[5] = 'Z';
	t[6] = '9';
	cr_assert(invoice_page_token_ok(t));
	t[7] = '-';
	cr_assert_not(invoice_page_token_ok(t), "base62 only");
	t[7] = 'a';
	t[VAULT_PAGE_TOKEN_LEN] = 'b';
	t[VAULT_PAGE_TOKEN_LEN + 1] = '\0';
	cr_assert_not(invoice_page_token_ok(t), "too long");
	t[VAULT_PAGE_TOKEN_LEN - 1] = '\0';
	cr_assert_not(invoice_page_token_ok(t), "too short");
	cr_assert_not(invoice_page_token_ok(""));
	cr_assert_not(invoice_page_token_ok(NULL));
	cr_assert_not(invoice_page_token_ok("%2e%2e"));
}

Test(invoice_page, account_shape)
{
	cr_assert(invoice_page_account_ok("acct_0VcypSEk00000rJvhP67PreR"));
	cr_assert_not(invoice_page_account_ok(""));
	cr_assert_not(invoice_page_account_ok(NULL));
	cr_assert_not(invoice_page_account_ok("acct_x'y"));
	cr_assert_not(invoice_page_account_ok("acct/../x"));
	char big[ID_MAX + 2];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cr_assert_not(invoice_page_account_ok(big), "bounded by ID_MAX");
	big[ID_MAX - 1] = '\0';
	cr_assert(invoice_page_account_ok(big));
}

Test(invoice_page, due_date_in_utc)
{
	char out[16];
	cr_assert_eq(invoice_page_date(1746057600, out, sizeof(out)), 0); /* 2025-05-01 00:00 */
	cr_assert_str_eq(out, "2025-05-01");
	cr_assert_eq(invoice_page_date(1746057599, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "2025-04-30");
	cr_assert_neq(invoice_page_date(-1, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "");
	char tiny[4];
	cr_assert_neq(invoice_page_date(1746057600, tiny, sizeof(tiny)), 0, "does not fit");
	cr_assert_str_eq(tiny, "");
}

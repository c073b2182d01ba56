/*
 * Stripe's Financial Connections test institution (fc_institution.h). The account numbers are
 * Stripe's ACH test numbers at routing 110000000 (vault/ach.c gives their debits' outcomes), so a
 * linked account pays as the same number entered by hand would: Success and Checking settle,
 * Insufficient Funds returns its debits with insufficient_funds.
 */
#include "vault/fc_institution.h"

#include <string.h>

#include "core/str.h"

static const struct fc_test_account ACCOUNTS[] = {
    {"success", "Success", "checking", "6789", 1000000, false, false},
    {"checking", "Checking", "checking", "1116", 250000, false, false},
    {"savings", "Savings", "savings", "4321", 5000000, false, false},
    {"insufficient_funds", "Insufficient Funds", "checking", "2227", 0, false, false},
    {"no_ownership", "No Ownership Data", "checking", "5559", 120000, false, true},
    {"disconnected", "Disconnected", "checking", "3335", 75000, true, false},
};

/* index for index with ACCOUNTS */
static const char *const NUMBERS[] = {
    "000123456789", "000000001116", "000000004321", "000222222227", "000000005559", "000000003335",
};

const struct fc_test_account *fc_test_accounts(size_t *n)
{
	*n = sizeof(ACCOUNTS) / sizeof(ACCOUNTS[0]);
	return ACCOUNTS;
}

static int index_of(const char *key)
{
	for (size_t i = 0; key && i < sizeof(ACCOUNTS) / sizeof(ACCOUNTS[0]); i++)
		if (strcmp(ACCOUNTS[i].key, key) == 0)
			return (int)i;
	return -1;
}

const struct fc_test_account *fc_test_account(const char *key)
{
	int i = index_of(key);
	return i < 0 ? NULL : &ACCOUNTS[i];
}

int fc_test_account_number(const char *key, char out[ACH_ACCOUNT_MAX + 1])
{
	int i = index_of(key);
	if (i < 0)
		return -1;
	str_copy(out, ACH_ACCOUNT_MAX + 1, NUMBERS[i]);
	return 0;
}

#include "vault/ach.h"

#include <string.h>

#include <openssl/crypto.h>

static int all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

int ach_routing_check(const char *in, char out[ACH_ROUTING_LEN + 1])
{
	if (!in || strnlen(in, ACH_ROUTING_LEN + 1) != ACH_ROUTING_LEN ||
	    !all_digits(in, ACH_ROUTING_LEN))
		return -1;
	static const int WEIGHTS[ACH_ROUTING_LEN] = {3, 7, 1, 3, 7, 1, 3, 7, 1};
	int sum = 0;
	for (int i = 0; i < ACH_ROUTING_LEN; i++)
		sum += WEIGHTS[i] * (in[i] - '0');
	if (sum % 10 != 0)
		return -1;
	memcpy(out, in, ACH_ROUTING_LEN);
	out[ACH_ROUTING_LEN] = '\0';
	return 0;
}

int ach_account_check(const char *in, char out[ACH_ACCOUNT_MAX + 1])
{
	size_t n = in ? strnlen(in, ACH_ACCOUNT_MAX + 1) : 0;
	if (n < ACH_ACCOUNT_MIN || n > ACH_ACCOUNT_MAX || !all_digits(in, n)) {
		OPENSSL_cleanse(out, ACH_ACCOUNT_MAX + 1);
		return -1;
	}
	memcpy(out, in, n);
	out[n] = '\0';
	return 0;
}

#define TEST_ROUTING "110000000"

const char *ach_bank_name(const char *routing)
{
	return routing && strcmp(routing, TEST_ROUTING) == 0 ? "STRIPE TEST BANK" : NULL;
}

enum sepa_behavior ach_test_behavior(const char *routing, const char *account)
{
	static const struct {
		const char *account;
		enum sepa_behavior behavior;
	} TESTS[] = {
	    {"000123456789", SEPA_SUCCEED},
	    {"000111111116", BANK_NO_ACCOUNT},
	    {"000111111113", BANK_ACCOUNT_CLOSED},
	    {"000222222227", SEPA_INSUFFICIENT_FUNDS},
	    {"000333333335", BANK_DEBIT_NOT_AUTHORIZED},
	    {"000444444440", BANK_INVALID_CURRENCY},
	    {"000999999991", SEPA_DISPUTE},
	};
	if (!routing || !account || strcmp(routing, TEST_ROUTING) != 0)
		return SEPA_SUCCEED;
	for (size_t i = 0; i < sizeof(TESTS) / sizeof(TESTS[0]); i++)
		if (strcmp(account, TESTS[i].account) == 0)
			return TESTS[i].behavior;
	return SEPA_SUCCEED;
}

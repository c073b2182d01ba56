/*
 * Stripe's Financial Connections "Test Institution": the accounts its hosted test page offers
 * (api/financial_connections_page.c) and what each one does. Only the vault knows their account
 * numbers (fc_test_account_number): the API keeps the account's key and public facts, and a
 * PaymentMethod made from a linked account has its number sealed like any other.
 */
#ifndef TENDER_VAULT_FC_INSTITUTION_H
#define TENDER_VAULT_FC_INSTITUTION_H

#include <stdbool.h>
#include <stddef.h>

#include "vault/ach.h"

#define FC_TEST_INSTITUTION "Test Institution"
#define FC_TEST_ROUTING "110000000"

struct fc_test_account {
	const char *key;	  /* what the page posts and fc_accounts.test_account keeps */
	const char *display_name; /* as the page and the object show it */
	const char *subcategory;  /* checking or savings (category cash) */
	const char *last4;
	long long balance;	 /* the test cash balance in USD cents */
	bool links_disconnected; /* linked, but access already gone: status disconnected */
	bool no_ownership;	 /* the institution gives no ownership data: refreshes fail */
};

/* The test accounts, in the page's order; *n their count. */
const struct fc_test_account *fc_test_accounts(size_t *n);
/* The test account of key, or NULL. */
const struct fc_test_account *fc_test_account(const char *key);
/* The account number of test account key into out. 0, or -1 for an unknown key. */
int fc_test_account_number(const char *key, char out[ACH_ACCOUNT_MAX + 1]);

#endif

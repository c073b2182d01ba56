/* What the onboarding page (account_links.c) needs of a connected account (accounts.c). */
#ifndef TENDER_API_ACCOUNTS_H
#define TENDER_API_ACCOUNTS_H

#include "http/req.h"

struct db;

#define ACCOUNT_DUE_MAX 24

struct account_due {
	char id[ID_MAX];
	const char *type, *country, *business_type;
	char default_currency[8];
	const char *items[ACCOUNT_DUE_MAX]; /* requirements.currently_due */
	int n;
};

/* Connected account acct of platform, with what it still has to give: DB_OK, DB_NOTFOUND
 * (none, or deleted), < 0. Strings in r's arena. */
int accounts_due(struct req *r, struct db *db, const char *platform, const char *acct,
		 struct account_due *ret);
/* Inside the caller's write: the onboarding form's answers (business_type, individual[…],
 * company[…], external_account[…], tos_acceptance=accept: accepted now from the request's
 * address) applied to acct as the platform's update would, with its events. 0 with ret (the
 * requirements after), or -1 with r->err. */
int accounts_onboarding_submit(struct req *r, struct db *db, const char *platform, const char *acct,
			       struct account_due *ret);

/* The children of company[…] and the business types, which account tokens (connect_tokens.c)
 * take as the account create and update do. */
extern const struct param_spec accounts_company_params[];
extern const char *const accounts_business_types[];

#endif

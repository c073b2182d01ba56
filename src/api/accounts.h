/* What the onboarding page (account_links.c) needs of a connected account (accounts.c). */
#ifndef TENDER_API_ACCOUNTS_H
#define TENDER_API_ACCOUNTS_H

#include <stdbool.h>

#include "api/payout_schedule.h"
#include "http/req.h"

struct db;
struct json;

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

/* A connected account's payout settings, as balance settings (balance_settings.c) show them:
 * the same columns the account object's settings.payouts shows (strings in r's arena). */
struct payout_settings {
	bool own; /* the caller's own account: paid out on request only, not changeable */
	bool payouts_enabled;
	bool debit_negative_balances;
	struct payout_schedule sched;
	const char *statement_descriptor; /* NULL: none */
};
/* What a balance settings update changes; the rest stays. */
struct payout_settings_change {
	const struct payout_schedule *sched; /* NULL: unchanged */
	const char *statement_descriptor;    /* NULL: unchanged */
	int debit_negative_balances;	     /* 0, 1, or -1: unchanged */
};
/* The settings of the account r acts as (its connected account with Stripe-Account, else its
 * own). 0, or -1 with r->err. */
int accounts_payout_settings(struct req *r, struct db *db, struct payout_settings *ret);
/* Inside the caller's write: changes the connected account r acts as, through the account
 * update's own code (the platform's row, account.updated, balance_settings.updated). A
 * merchant's own account is refused. 0 with ret (the settings after), or -1 with r->err. */
int accounts_payout_settings_change(struct req *r, struct db *db,
				    const struct payout_settings_change *c,
				    struct payout_settings *ret);

/* balance_settings.c: the balance_settings object of s; the previous_attributes of a change
 * from o to n; whether the two show anything different. */
void balance_settings_render(struct json *j, const struct payout_settings *s);
void balance_settings_render_previous(struct json *j, const struct payout_settings *o,
				      const struct payout_settings *n);
bool payout_settings_differ(const struct payout_settings *o, const struct payout_settings *n);

#endif

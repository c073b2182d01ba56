/*
 * Stripe Connect: a platform (an ordinary merchant) and its connected accounts. A connected
 * account is a merchant whose merchants row names its platform (merchants.platform) and which
 * the platform sees in connected_accounts (merchant_id = the platform). It has no API keys:
 * the platform's secret key reaches it with the Stripe-Account header (http/server.c), and
 * r->platform_id then names the platform. On PostgreSQL both live on the platform's shard, so
 * whatever moves money between them is one transaction.
 */
#ifndef TENDER_MERCHANT_CONNECT_H
#define TENDER_MERCHANT_CONNECT_H

#include "store/db.h"

/* DB_OK when account_id is a connected account of platform_id that is not deleted (its
 * default currency copied to ret_currency when non-NULL), DB_NOTFOUND otherwise, < 0 on a
 * store error. Runs inside the caller's read or write transaction on the platform's shard. */
int connect_account_check(struct db *db, const char *platform_id, const char *account_id,
			  char ret_currency[8]);
/* The same, and *ret_flags (when non-NULL): CONNECT_REJECTED_FLAG when the platform rejected it
 * (POST /v1/accounts/{id}/reject: it takes no transfers and makes no payments),
 * CONNECT_PAYOUTS_PAUSED when that rejection paused its payouts. */
#define CONNECT_REJECTED_FLAG 1u
#define CONNECT_PAYOUTS_PAUSED 2u
int connect_account_state(struct db *db, const char *platform_id, const char *account_id,
			  char ret_currency[8], unsigned *ret_flags);
/* For money sent to it (transfers, destination charges, on_behalf_of): DB_OK, DB_NOTFOUND,
 * CONNECT_REJECTED (positive) for a rejected account, or < 0. */
#define CONNECT_REJECTED 100
int connect_account_usable(struct db *db, const char *platform_id, const char *account_id);

#endif

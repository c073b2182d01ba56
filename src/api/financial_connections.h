/*
 * Stripe Financial Connections: sessions and linked accounts at the API
 * (api/financial_connections.c), their transactions (api/financial_connections_txns.c) and the
 * hosted test page that links them
 * (api/financial_connections_page.c), plus the small hooks ACH Direct Debit uses
 * (api/payment_methods.c): a us_bank_account PaymentMethod made from a linked account.
 */
#ifndef TENDER_API_FINANCIAL_CONNECTIONS_H
#define TENDER_API_FINANCIAL_CONNECTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/id.h"
#include "http/params.h"
#include "http/req.h"

struct db;

struct fc_session {
	char id[ID_MAX];
	int64_t created;
	const char *holder_type, *holder_customer, *holder_account;
	const char *permissions, *prefetch, *filters, *return_url, *form_hash;
	int64_t form_opened_at, completed_at;
};

/* Session id of merchant_id: DB_OK, DB_NOTFOUND or < 0. */
int fc_session_load(struct db *db, struct arena *a, const char *merchant_id, const char *id,
		    struct fc_session *s);
/* Session id's client_secret ("fcsess_…_secret_…", derived by the vault, never stored) in r's
 * arena, or NULL (no vault key). */
const char *fc_client_secret(struct req *r, const char *merchant_id, const char *id);
/* The session id a client secret names, into out; 0, or -1 when it is not shaped as one. */
int fc_client_secret_session(const char *secret, char out[ID_MAX]);
/* Hands the page's form the one-time value whose SHA-256 is form_hash, while the session has
 * not linked its accounts. DB_OK, DB_CONFLICT (completed meanwhile) or < 0. */
int fc_session_form_open(struct db *db, const char *merchant_id, const char *id,
			 const char *form_hash, int64_t now);
/* Inside the page's write: session s links test accounts keys[0..n) (fc_test_account keys):
 * a financial_connections.account for each (with the balance and ownership its prefetch asks
 * for), financial_connections.account.created (and .refreshed_*) appended, the session
 * completed. 0, or -1 with r->err. */
int fc_session_link(struct req *r, struct db *db, const struct fc_session *s,
		    const char *const keys[], int n);

/* For a us_bank_account PaymentMethod made from linked account fca (the
 * us_bank_account[financial_connections_account] at param), inside the write: the account is
 * r's merchant's, active, with the payment_method permission. Its test account's key (for the
 * vault's number) and subcategory (checking / savings) into ret_key / *ret_subcategory.
 * 0, or -1 with r->err. */
int fc_payment_method_account(struct req *r, struct db *db, const char *fca, const char *param,
			      char ret_key[32], const char **ret_subcategory);
/* payment_method_options[us_bank_account][financial_connections] of a PaymentIntent or
 * SetupIntent (at path, a dotted parameter path): permissions (payment_method among them;
 * ["payment_method"] when not given), prefetch ([] when not given) and return_url, as the JSON
 * the intent shows; *ret untouched when absent. 0, or -1 with r->err. */
int fc_intent_options(struct req *r, const char *path, const char **ret);
extern const struct param_spec fc_intent_option_params[];

/* The Checkout page's link (api/checkout.c), inside its write: a session for customer (NULL: a
 * guest, account_holder null) with the Checkout Session's financial_connections options (JSON
 * text: permissions, prefetch; NULL: payment_method only) that links test account key at once,
 * as the hosted test page would; the account's id into ret_fca. 0, or -1 with r->err. */
int fc_checkout_link(struct req *r, struct db *db, const char *customer, const char *options,
		     const char *key, char ret_fca[ID_MAX]);

/* Attaching PaymentMethod pm_id to customer, inside the write: a PaymentMethod made from a
 * linked account attaches only to the customer that account belongs to. 0, or -1 with r->err. */
int fc_payment_method_attach_check(struct req *r, struct db *db, const char *pm_id,
				   const char *customer);

/* ---- transactions (api/financial_connections_txns.c) ---- */

/* The test institution's transaction generator: an account's history is a pure function of its
 * id. Day d (unix day) has up to FC_TXN_PER_DAY transactions, numbered seq = d * FC_TXN_PER_DAY
 * + k in time order. */
#define FC_TXN_PER_DAY 3
#define FC_TXN_HISTORY_DAYS 90		/* a refresh reads back this far before the link */
#define FC_TXN_POST_AFTER (2 * 86400)	/* a pending transaction posts after this */
#define FC_TXN_VOID_AFTER 86400		/* a released authorization turns void after this */
#define FC_TXN_SUBSCRIPTION_EVERY 86400 /* a subscribed account refreshes this often */

struct fc_txn {
	int64_t seq, transacted_at;
	int64_t amount; /* cents of usd: negative out of the account, positive into it */
	const char *description;
	bool voids; /* a card authorization the merchant releases: void, never posted */
};

/* The generator's seed of account id (FNV-1a of the id). */
uint64_t fc_txn_seed(const char *account_id);
/* The transactions of day (unix day number) of the account of seed into out, in time order;
 * their count, or -1. */
int fc_txn_day(uint64_t seed, int64_t day, struct fc_txn out[FC_TXN_PER_DAY]);
/* t's status at time now (pending, posted or void) and its status_transitions (0: null). */
const char *fc_txn_status_at(const struct fc_txn *t, int64_t now, int64_t *posted_at,
			     int64_t *void_at);
/* Inside the write: a transaction refresh of linked account (created at account_created) at
 * r->now: stores the transactions it has not stored yet, posts or voids the stored pending ones
 * whose time has come, appends the refresh; the account's transaction_refresh (JSON text) into
 * *ret_json. DB_OK or < 0. */
int fc_transactions_refresh(struct req *r, struct db *db, const char *account,
			    int64_t account_created, const char **ret_json);

/* Scheduler step (financial_connections.c): refreshes the transactions of subscribed active
 * accounts whose daily refresh is due, with financial_connections.account.refreshed_transactions.
 * How many it refreshed, or < 0. */
struct store;
int fc_subscriptions_tick(struct store *s, int64_t now);
extern const char FC_SUBSCRIPTIONS_DUE_SQL[];

#endif

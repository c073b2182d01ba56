/*
 * Connect external accounts: the bank accounts and debit cards an account's payouts go to
 * (/v1/accounts/{id}/external_accounts), and bank account tokens (POST /v1/tokens with
 * bank_account[…], btok_…). What other resources use: the account object lists them, onboarding
 * adds one, a payout goes to the one it names or its currency's default one, and the scheduler
 * fails a payout to a Stripe test number that fails (and marks that bank account errored).
 */
#ifndef TENDER_API_EXTERNAL_ACCOUNTS_H
#define TENDER_API_EXTERNAL_ACCOUNTS_H

#include <stdbool.h>

#include "core/id.h"
#include "core/json.h"
#include "http/req.h"
#include "http/router.h"

struct db;

/* A bank account's public facts: nothing the account number can be read back from. */
struct bank_facts {
	char country[3];
	char currency[8];
	char last4[5];
	char routing_number[24]; /* "" when none (outside the US) */
	char fingerprint[24];
	const char *bank_name;	    /* static or arena; NULL when unknown */
	const char *holder_name;    /* arena, or NULL */
	const char *holder_type;    /* "individual", "company", or NULL */
	const char *payout_failure; /* static: what the bank answers a payout to it, NULL: paid */
};

/* Validates the bank account hash at `prefix` (country, currency, account_number,
 * routing_number, account_holder_name, account_holder_type) and fingerprints it for merchant_id
 * (the account that will hold it). The number is not kept. 0, or -1 with r->err (Stripe's
 * routing_number_invalid / account_number_invalid, which never echo the numbers). */
int bank_facts_from_params(struct req *r, const char *prefix, const char *merchant_id,
			   struct bank_facts *ret);

/* Inside the caller's write: adds the external account `ref` names to account `owner` — a bank
 * token of the caller (btok_…, consumed), a Stripe test token (btok_us_verified…), a debit card
 * (a card token tok_… of the caller, consumed, or a test card such as tok_visa_debit; in the
 * owner's default currency), or, when ref is NULL, the facts f. It becomes its currency's default
 * when the owner has none there, or when make_default. Appends account.external_account.created
 * (and .updated for a default it replaced) to r's events. 0 with ret_id, or -1 with r->err (unknown
 * or used token: 400). */
int external_account_add(struct req *r, struct db *db, const char *owner, const char *ref,
			 const struct bank_facts *f, bool make_default, const char *metadata,
			 char ret_id[ID_MAX]);

/* Inside the caller's write: the bank account `ref` (the request's `param`) names — a bank
 * token of the caller (btok_…, used up here: the write rolls back on a later refusal) or one of
 * Stripe's test tokens (btok_us_verified…, never used up) — as its public facts (fingerprinted
 * for owner) and the ba_… id it becomes (a token's own bank_account.id; a new one for a test
 * token). 0, or -1 with r->err (unknown token: resource_missing; used: token_already_used). */
int bank_token_take(struct req *r, struct db *db, const char *owner, const char *ref,
		    const char *param, struct bank_facts *ret, char ret_id[ID_MAX]);

/* The owner's default external account in currency: DB_OK with its id and the failure code
 * Stripe's test number makes a payout to it end with (ret_failure "" for none), DB_NOTFOUND
 * when it has none, < 0 on a store error. */
int external_account_default(struct db *db, const char *owner, const char *currency,
			     char ret_id[ID_MAX], char ret_failure[32]);
/* The failure code a payout to external account id of owner ends with ("" for none). */
int external_account_payout_failure(struct db *db, const char *owner, const char *id,
				    char ret_failure[32]);
/* What a page shows of an external account (the Express dashboard): never a number. */
struct ea_brief {
	char id[ID_MAX];
	char object[16]; /* "bank_account" or "card" */
	char currency[8];
	char last4[5];
	char label[64];	 /* the bank's name or the card's brand; "" when unknown */
	char status[16]; /* "new", or "errored" after a payout to it failed */
	bool instant;	 /* takes instant payouts (a debit card) */
	bool deleted;
};
/* External account id of owner (deleted ones too: a payout still names it). DB_OK, DB_NOTFOUND,
 * < 0. */
int external_account_brief(struct db *db, const char *owner, const char *id, struct ea_brief *ret);
/* The owner's default external account of each currency, in currency order, at most max. */
int external_account_defaults(struct db *db, const char *owner, struct ea_brief *ret, int max,
			      int *ret_n);
/* Inside the caller's write (the payout scheduler's): a payout to external account id of owner
 * failed, so it is `errored` (from new; account.external_account.updated, no request). DB_OK
 * also when it was errored already. */
int external_account_set_errored(struct db *db, const char *owner, const char *id, int64_t now);
/* Renders external account id of owner (a payout's expanded destination): the bank_account or
 * card, or Stripe's deleted_bank_account / deleted_card. DB_OK, DB_NOTFOUND, < 0. */
int external_account_render(struct db *db, const char *owner, const char *id, struct json *j);
/* How many external accounts the owner has (not deleted). */
int external_accounts_count(struct db *db, const char *owner, int64_t *ret);
/* The account object's external_accounts list (its first 10, has_more, url). */
int external_accounts_list_render(struct db *db, const char *owner, struct json *j);

/* The message Stripe gives a payout's failure_code. */
const char *external_account_failure_message(const char *code);
/* Stripe's test bank tokens (btok_us_verified, btok_us_verified_noAccount, …): *ret_known says
 * whether token is one, and the answer is what its bank does to a debit or a payout (a failure
 * code), NULL when it pays. */
const char *bank_test_token_failure(const char *token, bool *ret_known);

/* POST /v1/tokens with bank_account[…], and GET /v1/tokens/btok_… (tokens.c dispatches). */
int bank_tokens_h_create(struct req *r);
int bank_tokens_h_retrieve(struct req *r);
extern const struct param_spec bank_token_params[]; /* bank_account's children */
/* external_account[…]'s children (a bank account hash), for the account's own parameters */
extern const struct param_spec external_account_hash_params[];

#endif

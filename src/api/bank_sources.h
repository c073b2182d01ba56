/*
 * A customer's legacy bank account sources (ACH through Stripe's Sources / Bank Accounts API,
 * api/bank_sources.c), as sources.c, customers.c and charges.c use them: a ba_… row of
 * customer_bank_accounts holding the account's public facts only (never its number).
 */
#ifndef TENDER_API_BANK_SOURCES_H
#define TENDER_API_BANK_SOURCES_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/id.h"
#include "core/json.h"
#include "http/req.h"
#include "http/router.h"
#include "store/db.h"

#define BANK_SOURCE_PREFIX "ba_"
/* bank_source.failure of Stripe's test account whose debits are disputed (bank_sources.c) */
#define BANK_SOURCE_DISPUTED "disputed"

struct bank_source {
	char id[ID_MAX], customer[ID_MAX];
	int64_t created;
	char country[3], currency[8], last4[5], routing_number[24], fingerprint[24];
	const char *bank_name, *holder_name, *holder_type; /* NULL when none */
	char failure[32]; /* the return code a debit from it ends with, "" when it pays,
			     BANK_SOURCE_DISPUTED when it pays and is disputed at once */
	char status[24];  /* new, verified, verification_failed */
	int64_t verify_failures;
	const char *metadata; /* JSON */
	bool deleted;
};

/* Whether id names a bank account source (ba_…). */
bool bank_source_id(const char *id);
/* Bank account id of merchant_id (deleted ones too: a charge still names it), strings in a.
 * DB_OK, DB_NOTFOUND or < 0. */
int bank_source_load(struct db *db, struct arena *a, const char *merchant_id, const char *id,
		     struct bank_source *ret);
/* Stripe's bank_account object of a customer. */
void bank_source_render_loaded(const struct bank_source *b, struct json *j);
/* The same by id: DB_OK, DB_NOTFOUND or < 0. */
int bank_source_render(struct db *db, const char *merchant_id, const char *id, struct json *j);
/* Inside the write: attaches the bank account ref (the request's `param`: a btok_… of the
 * caller, used up, or one of Stripe's test tokens) to customer with status new, appending
 * customer.source.created; ret is the new account. Does not touch the customer's
 * default_source. 0, or -1 with r->err. */
int bank_source_attach(struct req *r, struct db *db, const char *customer, const char *ref,
		       const char *param, const char *metadata, struct bank_source *ret);
/* Inside a write: bank account id of customer is deleted, with customer.source.deleted. Does
 * not touch the customer's default_source. 0, or -1 with r->err. */
int bank_source_detach(struct req *r, struct db *db, const char *customer, const char *id);
/* Inside a transaction: 1 when bank account id is customer's (not deleted), 0 when not, < 0 on
 * a store error. */
int bank_source_owned(struct req *r, struct db *db, const char *customer, const char *id);
/* Inside a transaction: the customer's newest bank account other than except (may be NULL)
 * into ret, "" when none. 0, or -1 with r->err. */
int bank_source_newest(struct req *r, struct db *db, const char *customer, const char *except,
		       char ret[ID_MAX]);

/* sources.c's /sources routes for a ba_… (args[0] the customer, args[1] the account): create
 * from ref at param, retrieve, update (account_holder_name, account_holder_type, metadata; a
 * card's fields are parameter_unknown), delete, verify (amounts[]). */
int bank_source_h_create(struct req *r, const char *ref, const char *param);
int bank_source_h_retrieve(struct req *r);
int bank_source_h_update(struct req *r);
int bank_source_h_delete(struct req *r);
int bank_source_h_verify(struct req *r);
extern const struct param_spec bank_source_update_params[];

/* /v1/customers/{customer}/bank_accounts… and /sources/{id}/verify */
extern const struct route bank_sources_routes[];

#endif

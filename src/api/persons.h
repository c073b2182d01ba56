/*
 * Connect persons: the people of a connected account (/v1/accounts/{id}/persons), and the
 * account's `individual` (the person an individual account is), which accounts.c keeps as a
 * person row of its own. No identity number is ever kept: id_number and ssn_last_4 only set
 * id_number_provided / ssn_last_4_provided.
 */
#ifndef TENDER_API_PERSONS_H
#define TENDER_API_PERSONS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/id.h"
#include "core/json.h"
#include "http/req.h"
#include "http/router.h"

struct db;

#define PERSON_DUE_MAX 12

struct person {
	char id[ID_MAX];
	const char *account; /* the account it belongs to (rows are scoped by it) */
	int64_t created;
	const char *first_name, *last_name, *email, *phone, *address;	/* address: JSON or NULL */
	int dob_day, dob_month, dob_year;				/* 0: not given */
	int rel_director, rel_executive, rel_owner, rel_representative; /* -1 unset, 0, 1 */
	const char *rel_title, *rel_percent; /* percent: a decimal string, rendered as a number */
	bool id_number_provided, ssn_last_4_provided, individual, deleted;
	const char *metadata;
	/* the rest of what a person is, as one JSON object (persons_extra.c): the kana and kanji
	 * names and addresses, gender, maiden_name, nationality, political_exposure,
	 * registered_address, full_name_aliases, id_number_secondary_provided, the verification
	 * documents' files and the documents[…] files; "{}" or NULL when none */
	const char *extra;
};

/* The person's parameters (first_name, last_name, email, phone, dob[…], address[…], id_number,
 * ssn_last_4, relationship[…], metadata) as the request gives them under prefix ("" for the
 * persons API, "individual" for an account's): absent keeps, "" unsets. 0, or -1 with r->err. */
int person_apply(struct req *r, const char *prefix, struct person *p);
extern const struct param_spec person_params[]; /* the children of individual[…] */

/* persons_extra.c: the parameters kept in person.extra, for PERSON_PARAMS (persons.c) */
extern const struct param_spec person_extra_address_params[];
extern const struct param_spec person_extra_verification_params[];
extern const struct param_spec person_extra_documents_params[];
/* Applies those parameters under prefix to p->extra (as person_apply, which calls it). */
int person_extra_apply(struct req *r, const char *prefix, struct person *p);
/* Inside a write: every file p->extra names is one of the merchant's (the caller, or the
 * account acting, with Stripe-Account) with the purpose its place asks for; else 400 naming
 * the parameter under prefix. 0, or -1 with r->err. */
int person_extra_files_check(struct req *r, struct db *db, const char *prefix,
			     const struct person *p);
/* Renders p's extra fields as members of the person object being written, and the
 * verification's document and additional_document (their files). */
void person_extra_render(struct json *j, const struct person *p);
void person_extra_render_documents(struct json *j, const struct person *p);
/* The members of previous_attributes for what changed between o's extra and n's. */
void person_extra_previous(struct json *j, const struct person *o, const struct person *n);

/* What is still missing of p (first_name, dob.day, address.line1, …), each prefixed with
 * prefix ("individual." for an account's individual, "" for a person), into items (static
 * strings or arena a). Returns how many. */
int person_due(struct arena *a, const struct person *p, const char *prefix,
	       const char *items[PERSON_DUE_MAX]);

/* The account's individual: DB_OK, DB_NOTFOUND (none yet) or < 0. */
int person_individual_load(struct db *db, struct arena *a, const char *account, struct person *ret);
/* Inserts or updates p (inside the caller's write). */
int person_save(struct db *db, const struct person *p);
/* Stripe's person object (a: for what person_due builds). */
void person_render(struct arena *a, const struct person *p, struct json *j);

extern const struct route persons_routes[];

#endif

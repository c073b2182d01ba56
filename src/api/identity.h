/*
 * Stripe Identity: verification sessions and reports (api/identity.c) and the hosted test page
 * a session's url opens (api/identity_page.c). What the two share: the session row, its
 * rendering, its links, and the outcome a page submission records.
 */
#ifndef TENDER_API_IDENTITY_H
#define TENDER_API_IDENTITY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/id.h"
#include "http/req.h"

struct db;

struct vsession {
	char id[ID_MAX];
	int64_t created;
	const char *type, *status, *client_reference_id, *return_url, *options, *provided_details;
	const char *related_customer;
	const char *metadata, *last_error_code, *last_error_reason, *last_report, *verified_outputs;
	const char *redaction_status, *form_hash;
	int64_t link_gen, form_opened_at;
};

/* Session id of merchant_id: DB_OK, DB_NOTFOUND or < 0. */
int identity_session_load(struct db *db, struct arena *a, const char *merchant_id, const char *id,
			  struct vsession *s);

/* The hosted page's secret for link number gen of session id (vault_page_token of "id.gen"):
 * the last segment of its url. 0, or -1 (no vault key). */
int identity_link_token(struct req *r, const char *merchant_id, const char *id, int64_t gen,
			char out[64]);

/* Moves the page's link on (link_gen from gen to gen + 1; the next link is made now) and hands its
 * form the one-time value whose SHA-256 is form_hash (NULL: no form, an expired link), if the
 * session is still at link gen (a guarded update).
 * DB_OK, DB_CONFLICT (moved meanwhile) or < 0. */
int identity_link_open(struct db *db, const char *merchant_id, const char *id, int64_t gen,
		       const char *form_hash, int64_t now);

/* The test outcomes the hosted page offers a session (by its type and options), as
 * {code, label}; code "verified" succeeds, any other is the last_error code it ends with. */
struct identity_outcome {
	const char *code, *label;
};
/* Fills out (room for 8) with the outcomes for s; returns how many. */
int identity_outcomes(const struct vsession *s, struct identity_outcome out[8]);
/* Whether a submission of s asks for an id number (type id_number, or a document check with
 * require_id_number). */
bool identity_wants_id_number(const struct vsession *s);
/* A US social security number as the page takes it (9 digits; spaces and dashes ignored) into
 * out (10 bytes). 0, or -1 when it is not one. */
int identity_ssn_normalize(const char *in, char out[10]);

/* Inside the page's write, its form checked: session s (requires_input) is submitted with test
 * outcome `outcome` (one identity_outcomes offers) and id number id_number (normalized, or
 * NULL): a verification report is made (its personal data sealed by the vault), the session
 * goes through processing to verified or back to requires_input with last_error, its form is
 * used up, and identity.verification_session.processing then .verified or .requires_input are
 * appended. 0, or -1 with r->err. */
int identity_submit(struct req *r, struct db *db, struct vsession *s, const char *outcome,
		    const char *id_number);

#endif

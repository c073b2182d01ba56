/*
 * SetupAttempts (setatt_…): the record of each confirmation of a SetupIntent that reached the
 * card, as Stripe keeps them (GET /v1/setup_attempts?setup_intent=…, a SetupIntent's
 * latest_attempt). setup_intents.c records them inside the write that records the confirmation's
 * outcome; this module stores, renders and lists them.
 */
#ifndef TENDER_API_SETUP_ATTEMPTS_H
#define TENDER_API_SETUP_ATTEMPTS_H

#include <stdbool.h>

#include "http/req.h"
#include "payments/flow.h"

#define SETUP_ATTEMPT_PREFIX "setatt_"

/* A confirmation's attempt, as the write that records its outcome knows it. */
struct setup_attempt_new {
	const char *id; /* setatt_…, chosen before the write (a retried write makes the same) */
	const char *setup_intent, *customer, *payment_method, *usage;
	const struct payment_card *card; /* the card's public facts */
	const char *cvc_check;		 /* the issuer's answer (pass, fail, unchecked) or NULL */
	const char *status;		 /* succeeded, failed or requires_action */
	/* 3-D Secure ran: its result (authenticated or failed), else NULL */
	const char *three_d_secure_result;
	const char *setup_error; /* a failure's error hash (JSON), else NULL */
	/* a sepa_debit / ideal / bancontact setup: its whole payment_method_details JSON (card is
	 * then NULL) */
	const char *sepa_details;
};

/* Inside the write: stores attempt a (created now). 0, or -1 with r->err. */
int setup_attempt_insert(struct req *r, struct db *db, const struct setup_attempt_new *a);

/* Inside the write: attempt id of r's merchant, waiting for 3-D Secure (requires_action), gets
 * its outcome: status succeeded or failed, the challenge's result (authenticated or failed) in
 * payment_method_details.card.three_d_secure, and setup_error (JSON or NULL). 0 (also when the
 * attempt no longer waits: nothing changes), or -1 with r->err. */
int setup_attempt_finish(struct req *r, struct db *db, const char *id, const char *status,
			 const char *three_d_secure_result, const char *setup_error);

/* Inside the write: attempt id of r's merchant, waiting at the customer's bank (an ideal /
 * bancontact setup, requires_action), gets its outcome: status succeeded or failed, its whole
 * payment_method_details JSON (details) and setup_error (JSON or NULL). 0 (also when the
 * attempt no longer waits: nothing changes), or -1 with r->err. */
int setup_attempt_finish_details(struct req *r, struct db *db, const char *id, const char *status,
				 const char *details, const char *setup_error);

/* Inside the write: attempt id (may be NULL: nothing), if still waiting for 3-D Secure, is
 * abandoned: its SetupIntent moved on without the challenge (canceled, confirmed again,
 * another payment method). 0, or -1 with r->err. */
int setup_attempt_abandon(struct req *r, struct db *db, const char *id);

/* Renders attempt id of r's merchant; prefix: where it sits in the answer ("data" in a list,
 * "latest_attempt" in a SetupIntent, NULL for the answer itself), for expand[] of its customer,
 * payment_method and setup_intent. DB_OK, DB_NOTFOUND or < 0. */
int setup_attempt_render(struct req *r, struct db *db, const char *id, const char *prefix,
			 struct json *j);

/* setup_intents.c's side: renders SetupIntent id of r's merchant, nothing expanded. DB_OK,
 * DB_NOTFOUND or < 0. */
int setup_intent_render_by_id(struct req *r, struct db *db, const char *id, struct json *j);

#endif

/*
 * Redirect payment methods at the API (redirect_page.c): a PaymentIntent confirmed with an ideal,
 * bancontact, affirm, afterpay_clearpay or klarna PaymentMethod, and Tender's hosted test page
 * standing in for the customer's bank or lender
 * (/redirect/{merchant}/{intent}/{token}; no API key, the token is the secret), for
 * PaymentIntents and (ideal, bancontact) SetupIntents. payments/redirect.h
 * tells the design.
 */
#ifndef TENDER_API_REDIRECT_PAGE_H
#define TENDER_API_REDIRECT_PAGE_H

#include <stdbool.h>

#include "http/req.h"
#include "payments/payments.h"

/* Confirms pi (requires_payment_method / requires_confirmation / requires_action; insert_first:
 * created by this request and not stored yet) with redirect PaymentMethod pm_id of type: in a
 * currency the type takes (pm_types), automatic capture only for ideal / bancontact, within a
 * buy-now-pay-later lender's amount limits and with the details it requires, a return_url (the
 * request's or the intent's) required. Its one write leaves the intent requires_action with
 * next_action redirect_to_url (the hosted test page), records the page's token, appends
 * payment_intent.requires_action (after payment_intent.created when insert_first) and answers
 * with the intent. 0, or -1 with r->err. */
int redirect_pi_confirm(struct req *r, const struct payment_intent *pi, bool insert_first,
			const char *pm_id, const char *type);

/* A Checkout Session's payment (api/checkout.c): pi (made by the page, not stored yet, naming
 * its session and the session's own return URL) confirmed with redirect PaymentMethod pm_id of
 * type (ideal, bancontact, affirm, afterpay_clearpay or klarna) as redirect_pi_confirm confirms it;
 * *ret_url: the hosted test page the browser goes to. 0, or -1 with r->err. */
int redirect_pi_confirm_checkout(struct req *r, const struct payment_intent *pi, const char *pm_id,
				 const char *type, const char **ret_url);

/* The hosted test page of intent id (pi_… or seti_…) holding token: its absolute URL. */
const char *redirect_page_url(struct req *r, const char *id, const char *token);

/* ---- a SetupIntent's page: setup_intents.c's side ----
 *
 * A SetupIntent confirmed with an ideal / bancontact PaymentMethod waits on the same page
 * (/redirect/{merchant}/{seti_…}/{token}, told apart by the id's prefix) and the same
 * redirect_authorizations row. Authorizing generates the sepa_debit PaymentMethod and its
 * multi-use mandate on the intent's customer, then hands the outcome to the intent. */
struct pm_card;
struct db;
/* Reads SetupIntent id of merchant acct into view as the page needs it: id, status,
 * payment_method, customer, return_url and client_secret (amount 0, no currency). DB_OK,
 * DB_NOTFOUND or < 0. */
int setup_intent_redirect_view(struct req *r, struct db *db, const char *acct, const char *id,
			       struct payment_intent *view);
/* Inside the page's write, the authorization claimed: SetupIntent id of r's merchant, waiting
 * for redirect PaymentMethod pm at the bank, succeeds with generated_pm / generated_mandate (the
 * sepa_debit PaymentMethod and multi-use mandate the bank's account became), or fails when they
 * are NULL (back to requires_payment_method with last_setup_error); its attempt gets the same
 * outcome, and setup_intent.succeeded or setup_intent.setup_failed is appended. 0, or -1 with
 * r->err. */
int setup_intent_redirect_outcome(struct req *r, struct db *db, const char *id,
				  const struct pm_card *pm, const char *generated_pm,
				  const char *generated_mandate, const char **ret_subscribe);

/* ---- a Checkout Session's SetupIntent (api/checkout.c) ----
 *
 * Inside the write that succeeds a Checkout Session's SetupIntent (the bank's account saved),
 * for session id of r's merchant: setup mode completes the session (checkout_complete);
 * subscription mode (iDEAL, Bancontact) writes nothing and sets *ret_subscribe when the session,
 * still open, waits for its subscription. 0, or -1 with r->err. */
int checkout_setup_saved(struct req *r, struct db *db, const char *id, bool *ret_subscribe);
/* After that write: subscription-mode Checkout Session cs of merchant acct subscribes with the
 * saved sepa_debit PaymentMethod pm (its mandate made), as its SEPA form does, and answers
 * the browser (success_url, or the page with what went wrong). 0, or -1 with r->err. */
int checkout_subscribe_saved(struct req *r, const char *acct, const char *cs, const char *pm);

#endif

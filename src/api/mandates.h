/*
 * SEPA Direct Debit at the API (mandates.c): GET /v1/mandates/{id}, confirming a PaymentIntent
 * or a SetupIntent with a sepa_debit PaymentMethod, and the scheduler job that settles the
 * debits (payments/sepa.h says how).
 */
#ifndef TENDER_API_MANDATES_H
#define TENDER_API_MANDATES_H

#include <stdbool.h>
#include <stdint.h>

#include "http/req.h"
#include "payments/payments.h"
#include "store/db.h"

struct app;
struct store;

/* What kind of PaymentMethod pm_ref names, read once before a confirmation chooses its path:
 * PM_KIND_CARD (a card, an alias, a token, or no such PaymentMethod: the card path answers those),
 * PM_KIND_SEPA, PM_KIND_ACH, PM_KIND_CASH, or PM_KIND_REDIRECT with *ret_redirect_type ("ideal", …,
 * static); -1 with r->err. */
enum {
	PM_KIND_CARD = 0,
	PM_KIND_SEPA = 1,
	PM_KIND_ACH = 2,
	PM_KIND_REDIRECT = 3,
	PM_KIND_CASH = 4 /* customer_balance: the customer's cash balance (api/cash_balance.c) */
};
int pm_ref_kind(struct req *r, const char *pm_ref, const char **ret_redirect_type);
/* Whether pm_ref names a bank debit PaymentMethod of r's merchant (read): 1 sepa_debit,
 * 2 us_bank_account, 0 no (a card,
 * an alias, a token, or no such PaymentMethod: the card path answers those), -1 with r->err. */
int sepa_pm_is_sepa(struct req *r, const char *pm_ref);

/* Confirms pi (requires_payment_method / requires_confirmation; insert_first: created by this
 * request and not stored yet) with sepa_debit PaymentMethod pm_id: checks the mandate
 * (mandate_data, or off_session with a multi-use mandate), records the pending charge, the
 * mandate, the debit the scheduler settles, pi `processing`, charge.pending and
 * payment_intent.processing, and answers with the intent. An intent paying an invoice (pi->invoice)
 * tells the invoice in the same write (invoice_payment_settled); inv (Tender's own payment of an
 * invoice, payment_intents_invoice; else NULL) adds its before() and answer() and debits off
 * session with the multi-use mandate. 0, or -1 with r->err. */
struct pi_invoice;
int sepa_pi_confirm(struct req *r, const struct payment_intent *pi, bool insert_first,
		    const char *pm_id, const struct pi_invoice *inv);

/* A Checkout Session's SEPA payment (checkout.c): pi (naming its checkout_session; made by the
 * page and not stored yet when insert_first, else the session's own intent confirmed again
 * after a failed or abandoned attempt, as loaded by payment_intents_checkout_next) confirmed as
 * sepa_pi_confirm does under a mandate the buyer accepted online on the page (ip,
 * user_agent); the confirm's write also completes the session (checkout_complete). 0, or -1
 * with r->err. */
int sepa_pi_confirm_checkout(struct req *r, const struct payment_intent *pi, bool insert_first,
			     const char *pm_id, const char *ip, const char *user_agent);

/* The same for a us_bank_account PaymentMethod (usd only): an account not yet verified leaves
 * pi in requires_action with next_action verify_with_microdeposits (the mandate and the
 * verification recorded, payment_intent.requires_action); a verified one is debited at once.
 * An invoice's payment (pi->invoice, inv as for sepa_pi_confirm) needs a verified account
 * (else Stripe's bank_account_unverified) with a multi-use mandate. */
int ach_pi_confirm(struct req *r, const struct payment_intent *pi, bool insert_first,
		   const char *pm_id, const struct pi_invoice *inv);
/* A Checkout Session's ACH payment (checkout.c), as sepa_pi_confirm_checkout: an account typed
 * on the page is not verified, so pi waits for its microdeposits (requires_action) and its write
 * completes the session unpaid; verifying them debits it (processing). 0, or -1 with r->err. */
int ach_pi_confirm_checkout(struct req *r, const struct payment_intent *pi, bool insert_first,
			    const char *pm_id, const char *ip, const char *user_agent);

/* Microdeposit verifications (ach_verifications, one per intent; SetupIntents too). */
#define ACH_ATTEMPTS_MESSAGE "You have exceeded the number of allowed verification attempts."
int ach_verification_put(struct db *db, const char *merchant_id, const char *intent,
			 const char *pm_id, const char *mandate_id, int64_t now);
/* The pending verification of intent: DB_OK, DB_NOTFOUND or < 0. */
int ach_verification_get(struct db *db, const char *merchant_id, const char *intent,
			 char ret_pm[ID_MAX], char ret_mandate[ID_MAX], int *ret_attempts);
/* Records attempts and status (pending | verified | failed) of a pending verification. */
int ach_verification_set(struct db *db, const char *merchant_id, const char *intent, int attempts,
			 const char *status);
/* The status (pending | verified | failed) and PaymentMethod of intent's verification, the
 * latest one: DB_OK, DB_NOTFOUND or < 0. */
int ach_verification_status(struct db *db, const char *merchant_id, const char *intent,
			    char ret_status[16], char ret_pm[ID_MAX]);
/* The hosted verification page of intent_id of r's merchant (microdeposit_page.c):
 * http://host/microdeposits/{merchant}/{intent}/{secret}, the secret vault_page_token's (derived,
 * never looked up), in r's arena (NULL: no vault or out of memory). */
const char *ach_verification_url(struct req *r, const char *intent_id);
/* next_action verify_with_microdeposits of intent_id, in r's arena (NULL: out of memory). */
const char *ach_next_action(struct req *r, const char *intent_id);

/* What one verification attempt did (ach_pi_verify, ach_si_verify). */
enum ach_verify_outcome {
	ACH_VERIFY_NONE,
	ACH_VERIFY_OK,
	ACH_VERIFY_MISMATCH,
	ACH_VERIFY_EXCEEDED
};
struct ach_verify_result {
	enum ach_verify_outcome outcome;
	int left; /* attempts left after this one */
};
/* verify_microdeposits of PaymentIntent id (mandates.c) / SetupIntent id (setup_intents.c) of
 * r's merchant, with the answer already checked (ach_check_microdeposits: match), in one write:
 * the API's handlers and the hosted page both call these. As req_write: 0 with the answer in
 * r->out (the intent; a wrong answer's committed 400 or 402 error), -1 with r->err (not
 * waiting for microdeposits, unknown intent). *res tells what happened. */
int ach_pi_verify(struct req *r, const char *id, bool match, struct ach_verify_result *res);
int ach_si_verify(struct req *r, const char *id, bool match, struct ach_verify_result *res);
/* A SetupIntent's status and next_action (r's arena; next_action may be NULL); DB_NOTFOUND
 * when merchant_id has none (setup_intents.c). */
int setup_intent_next_action(struct req *r, struct db *db, const char *merchant_id, const char *id,
			     const char **ret_status, const char **ret_next_action);
/* The request's amounts[] / descriptor_code checked against Stripe's test microdeposits
 * (32 and 45, SM11AA): 0 with ret_match, or -1 with r->err (neither or both given, bad values). */
int ach_check_microdeposits(struct req *r, bool *ret_match);
extern const struct param_spec ach_verify_params[];
/* last_payment_error / last_setup_error after the last wrong microdeposits (r's arena). */
const char *ach_attempts_error(struct req *r, struct db *db, const char *pm_id);

/* The children of a mandate_data parameter (PaymentIntent create/confirm, SetupIntent). */
extern const struct param_spec sepa_mandate_data_params[];

/* mandate_data[customer_acceptance] of the request, checked: 1 given (ret_* set), 0 absent,
 * -1 with r->err. */
int sepa_mandate_data(struct req *r, const char **ret_type, const char **ret_ip,
		      const char **ret_ua);

/* payment_method_options[sepa_debit][mandate_options]'s children (PaymentIntents, SetupIntents) */
extern const struct param_spec sepa_mandate_options_params[];
/* payment_method_options[sepa_debit][mandate_options][reference_prefix] of the request, checked
 * by Stripe's rules: *field set when given ("" unsets: NULL). 0, or -1 with r->err. */
int sepa_reference_prefix(struct req *r, const char **field);

/* Inside a SetupIntent's confirm write: stores a multi-use mandate of pm_id accepted as given
 * (sepa_mandate_data), its reference beginning with prefix (NULL: none), its id into ret_id.
 * 0, or -1 with r->err. */
int sepa_setup_mandate(struct req *r, struct db *db, const char *pm_id, const char *type,
		       const char *ip, const char *ua, const char *prefix, char ret_id[ID_MAX]);
/* The same, single-use for one payment of amount in currency (a SetupIntent's single_use). */
int sepa_setup_mandate_single(struct req *r, struct db *db, const char *pm_id, const char *type,
			      const char *ip, const char *ua, const char *prefix, int64_t amount,
			      const char *currency, char ret_id[ID_MAX]);

/* The scheduler job (its probe: SEPA_SETTLE_DUE_SQL, payments/sepa.h); init gives it the app
 * (exchange rates). */
void sepa_scheduler_init(struct app *app);
int sepa_settle_tick(struct store *s, int64_t now);

#endif

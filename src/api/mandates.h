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

struct app;
struct store;

/* Whether pm_ref names a sepa_debit PaymentMethod of r's merchant (read): 1 yes, 0 no (a card,
 * an alias, a token, or no such PaymentMethod: the card path answers those), -1 with r->err. */
int sepa_pm_is_sepa(struct req *r, const char *pm_ref);

/* Confirms pi (requires_payment_method / requires_confirmation; insert_first: created by this
 * request and not stored yet) with sepa_debit PaymentMethod pm_id: checks the mandate
 * (mandate_data, or off_session with a multi-use mandate), records the pending charge, the
 * mandate, the debit the scheduler settles, pi `processing`, charge.pending and
 * payment_intent.processing, and answers with the intent. 0, or -1 with r->err. */
int sepa_pi_confirm(struct req *r, const struct payment_intent *pi, bool insert_first,
		    const char *pm_id);

/* The children of a mandate_data parameter (PaymentIntent create/confirm, SetupIntent). */
extern const struct param_spec sepa_mandate_data_params[];

/* mandate_data[customer_acceptance] of the request, checked: 1 given (ret_* set), 0 absent,
 * -1 with r->err. */
int sepa_mandate_data(struct req *r, const char **ret_type, const char **ret_ip,
		      const char **ret_ua);

/* Inside a SetupIntent's confirm write: stores a multi-use mandate of pm_id accepted as given
 * (sepa_mandate_data), its id into ret_id. 0, or -1 with r->err. */
int sepa_setup_mandate(struct req *r, struct db *db, const char *pm_id, const char *type,
		       const char *ip, const char *ua, char ret_id[ID_MAX]);

/* The scheduler job (its probe: SEPA_SETTLE_DUE_SQL, payments/sepa.h); init gives it the app
 * (exchange rates). */
void sepa_scheduler_init(struct app *app);
int sepa_settle_tick(struct store *s, int64_t now);

#endif

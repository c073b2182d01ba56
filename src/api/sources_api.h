/*
 * Stripe's Sources API (src_…, api/sources_api.c): card sources and the 3-D Secure sources made
 * from them, as the other resources see them: a charge's `source`, a customer's sources and
 * default_source, and the charge path (charges.c) paying with one.
 */
#ifndef TENDER_API_SOURCES_API_H
#define TENDER_API_SOURCES_API_H

#include <stdbool.h>

#include "core/id.h"
#include "core/json.h"
#include "http/req.h"
#include "processor/processor.h"
#include "store/db.h"

struct app;

#define SOURCE_API_PREFIX "src_"

/* Whether id names a source of the Sources API (src_…). */
bool source_api_id(const char *id);

/* A card's card.three_d_secure as Stripe's test cards show it: "required" for a card whose
 * issuer always asks (behavior), "not_supported" for American Express, else "optional". */
const char *source_api_three_d_secure(enum acq_behavior behavior, const char *brand);

/* The process's vault, which derives sources' client secrets (serve.c, once at start). */
void sources_api_init(struct app *app);

/* Renders source id of merchant_id as Stripe's source object. DB_OK, DB_NOTFOUND, or < 0. */
int source_api_render(struct db *db, const char *merchant_id, int livemode, const char *id,
		      struct json *j);

/* Inside a transaction: whether merchant_id has source id. DB_OK, DB_NOTFOUND, or < 0. */
int source_api_exists(struct db *db, const char *merchant_id, const char *id);

/* Inside a transaction: 1 when source id is attached to customer (a card source), or is a 3-D
 * Secure source made for that customer; 0 when not; < 0 on a store error. */
int source_api_owned(struct req *r, struct db *db, const char *customer, const char *id);

/* Inside a transaction: the customer's newest attached card source into ret ("" when none),
 * other than except (may be NULL). 0, or -1 with r->err. */
int source_api_newest(struct req *r, struct db *db, const char *customer, const char *except,
		      char ret[ID_MAX]);

/* A source being charged (POST /v1/charges source=src_…): prepared before the write. */
struct source_charge {
	bool set;
	char id[ID_MAX];   /* the source charged */
	char card[ID_MAX]; /* the card source whose card pays (id itself, or a 3DS source's card) */
	bool authenticated; /* a 3-D Secure source the cardholder authenticated */
	bool consume;	    /* single_use, or a card source not attached: consumed when it pays */
};
/* Before the write: source id (of r's merchant) may pay amount/currency for customer (NULL:
 * none): it is chargeable, attached to that customer when it is attached to one, and a 3-D
 * Secure source's amount and currency are the charge's. 0 with sc filled, or -1 with r->err. */
int source_api_charge_prepare(struct req *r, const char *id, const char *customer, int64_t amount,
			      const char *currency, struct source_charge *sc);
/* Inside the charge's write: the source is still chargeable (else the write is refused) and,
 * paid (approved), a consumable one is consumed. 0, or -1 with r->err. */
int source_api_charge_commit(struct req *r, struct db *db, const struct source_charge *sc,
			     bool approved);

/* Inside a write: card source id leaves customer and is consumed (its card can never pay
 * again), customer.source.deleted. Does not touch the customer's default_source. 0, or -1. */
int source_api_detach(struct req *r, struct db *db, const char *customer, const char *id);

/* A PaymentIntent's create with source=src_… (Stripe takes a card source there): *pm becomes
 * the source, which pays as a PaymentMethod; source with payment_method, or anything but a
 * card source of r's merchant, is Stripe's 400 (404). Nothing when source is absent. 0, or -1
 * with r->err. */
int source_api_pi_source(struct req *r, const char **pm);

/* Inside a write: attaches reusable card source id to customer (which the caller checked), with
 * customer.source.created; *ret_added false when it was attached to it already (nothing done).
 * Leaves the customer's default_source to the caller. param names the request's parameter in
 * errors (a source that cannot be attached: Stripe's 400s). 0, or -1 with r->err. */
int source_api_attach(struct req *r, struct db *db, const char *customer, const char *id,
		      const char *param, bool *ret_added);
/* POST /v1/customers/{customer}/sources with source=src_…: attaches a reusable card source. */
int sources_api_h_attach(struct req *r, const char *id);
/* GET /v1/customers/{customer}/sources/{src_…}. */
int sources_api_h_customer_retrieve(struct req *r);
/* DELETE /v1/customers/{customer}/sources/{src_…}: detaches it (it is consumed). */
int sources_api_h_detach(struct req *r);

#endif

/*
 * A customer's legacy card sources (Stripe's Cards API, api/sources.c), as customers.c and
 * charges.c use them. A card source is a payment_methods row with a card_… id attached to its
 * customer (vault/card_source.h renders it as Stripe's card object).
 */
#ifndef TENDER_API_SOURCES_H
#define TENDER_API_SOURCES_H

#include "api/payments_common.h"
#include "http/req.h"

/* At most this many cards per customer (Stripe bounds a customer's sources too). */
#define SOURCES_PER_CUSTOMER_MAX 200

/* A card being attached: prepared before the write, attached inside it. */
struct source_new {
	struct card_auth ca;  /* the issuer's verification of the card (payments_card_verify) */
	char id[ID_MAX];      /* the card_… it becomes */
	const char *metadata; /* the card's metadata JSON, or NULL for none */
	bool set;	      /* a source was given (and prepared) */
};

/*
 * Before the write: `ref` (the request's `param`, a tok_… token or a test alias such as
 * tok_visa) becomes card source sn->id for customer, verified by the issuer through the payment
 * path as Stripe does when a card is attached: a token's card is stored under the token's
 * card.id first (a write of its own, which uses the token up); an alias's is stored by the
 * attach. A declined card answers Stripe's card error (nothing attached). 0, or -1 with r->err.
 */
int source_prepare(struct req *r, const char *ref, const char *param, const char *customer,
		   struct source_new *sn);
/* Inside the write: attaches the prepared card to customer and appends
 * customer.source.created; the card's JSON (r's arena) in ret_json/ret_len when not NULL. Does
 * not touch the customer's default_source. 0, or -1 with r->err. */
int source_attach(struct req *r, struct db *db, struct source_new *sn, const char *customer,
		  const char **ret_json, size_t *ret_len);
/* Inside a write: card source id leaves customer (Stripe's delete: it can never pay or be
 * attached again), customer.source.deleted and payment_method.detached. Does not touch the
 * customer's default_source. 0, or -1 with r->err. */
int source_detach(struct req *r, struct db *db, const char *customer, const char *id);
/* Inside a transaction: 1 when card source id is attached to customer, 0 when not, < 0 on a
 * store error. */
int source_owned(struct req *r, struct db *db, const char *customer, const char *id);
/* Inside a transaction: the customer's newest card source other than `except` (may be NULL)
 * into ret, "" when none. 0, or -1 with r->err. */
int source_newest(struct req *r, struct db *db, const char *customer, const char *except,
		  char ret[ID_MAX]);
/* The customer's sources as the list Stripe embeds in a customer (expand[]=sources): the
 * newest 10 and has_more. DB_OK or < 0. */
int sources_render_embedded(struct req *r, struct db *db, const char *customer, struct json *j);

/* customers.c's side: a customer's default_source. */
/* Inside a transaction: customer id's default_source into ret ("" when none); a missing or
 * deleted customer is resource_missing on `param`. 0, or -1 with r->err. */
int customer_default_source(struct req *r, struct db *db, const char *id, const char *param,
			    char ret[ID_MAX]);
/* Inside a write: customer id's default_source becomes source (NULL: none), with
 * customer.updated; nothing when it already is. Nothing goes to r->out. 0, or -1 with r->err. */
int customer_set_default_source(struct req *r, struct db *db, const char *id, const char *source);

#endif

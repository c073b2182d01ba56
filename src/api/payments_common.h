/* Shared by the payment resources (payment_intents.c, charges.c, refunds.c). */
#ifndef TENDER_API_PAYMENTS_COMMON_H
#define TENDER_API_PAYMENTS_COMMON_H

#include "http/req.h"
#include "payments/flow.h"

/* Expansions requested by r (expand[]), wired to the renderers of other modules. */
void payments_expand_from_req(struct req *r, struct expand_set *ex, const char *prefix);

/* Validates amount (>= currency minimum, <= 99,999,999) and currency (known ISO 4217, lowered in
 * place into cur[8]). 0 or -1 with r->err. */
int payments_check_amount(struct req *r, int64_t amount, const char *currency_param, char cur[8],
			  const char *amount_param);

/*
 * Stripe's minimum charge in the merchant's terms (amount_too_small) and the possibility to
 * settle: a currency with a documented minimum (currency_min_documented) was checked by
 * payments_check_amount; for any other presentment currency the amount must convert (at the
 * current rate, the rounding of a capture) to at least the settlement currency's minimum
 * (fx_min_charge_minor). A presentment currency the loaded rates cannot convert into the
 * settlement currency is a 400 invalid currency. The _db form runs inside the caller's
 * transaction; the other opens a read transaction. 0, or -1 with r->err.
 */
int payments_check_minimum(struct req *r, int64_t amount, const char *currency,
			   const char *currency_param, const char *amount_param);
int payments_check_minimum_db(struct req *r, struct db *db, int64_t amount, const char *currency,
			      const char *currency_param, const char *amount_param);

/* Inside a transaction: a payment_method an intent is created or updated with, and keeps
 * unconfirmed, must be one of r's merchant's PaymentMethods, card sources (card_…) or sources
 * (src_…); a pm_card_* test alias or a token is checked where it is used. 0, or -1 with
 * r->err: 404 resource_missing naming param, as Stripe answers another account's
 * PaymentMethod. */
struct db;
int payments_pm_check_owned(struct req *r, struct db *db, const char *pm, const char *param);

/*
 * The card side of an authorization, before the write transaction: resolves the payment method
 * (a pm_… id, or a test alias / token that the payment's write stores: payments_card_commit),
 * has the vault reveal the card to the acquirer, and returns the acquirer's decision plus the
 * public card facts. The vault's access record is kept in out and must be persisted in the
 * write transaction (payments_card_commit). 0, or -1 with r->err.
 */
struct card_auth {
	struct payment_card card;
	struct processor_decision decision;
	char pm_id[ID_MAX];
	char customer[ID_MAX]; /* the PM's customer, "" if none */
	void *access;	       /* opaque vault access record */
	bool needs_3ds;	       /* the card or the risk model asks for 3-D Secure: not authorized */
	const char *alias;     /* a test alias still to be stored (payments_card_commit does) */
	const char *token;     /* a token still to be used up and stored (payments_card_commit) */
	const char *param;     /* the parameter that named the card (errors of the commit) */
	bool pm_id_chosen; /* alias or token: pm_id was chosen before the write (…_choose_pm) */
	/* alias or token: billing_details / metadata JSON for the PaymentMethod the commit
	 * stores (a ConfirmationToken's card); NULL for none */
	const char *pm_billing_details, *pm_metadata;
	double risk_probability;
	/* the merchant's pricing, read with the card (have_pricing); payments_pricing_for uses it
	 * instead of reading it again inside the write */
	bool have_pricing;
	struct ledger_pricing pricing;
	char pricing_currency[8];
};
/* customer: the paying customer (velocity features), or NULL. authenticated: 3-D Secure was
 * completed, so the card is authorized rather than challenged. off_session: the cardholder is
 * away (a card set up with authentication may then not be challenged: pm_card.set_up).
 * check_minimum: first apply payments_check_minimum to amount/currency (params
 * "amount"/"currency"), in the same read transaction as the card. */
int payments_card_authorize(struct req *r, const char *pm_ref, const char *param, int64_t amount,
			    const char *currency, const char *customer, bool authenticated,
			    bool off_session, bool check_minimum, struct card_auth *out);
/* payments_card_authorize for a payment whose receipt_email is known (a PaymentIntent's, NULL
 * for none): Radar's email rule fields read it before the card's billing email and the
 * customer's. payments_card_authorize takes the request's receipt_email parameter instead (a
 * charge's create). */
int payments_card_authorize_email(struct req *r, const char *pm_ref, const char *param,
				  int64_t amount, const char *currency, const char *customer,
				  const char *receipt_email, bool authenticated, bool off_session,
				  bool check_minimum, struct card_auth *out);
/* The same card side for a check without an amount (a SetupIntent's confirmation): the
 * acquirer verifies the card (processor_verify) instead of authorizing an amount; Radar and 3-D
 * Secure decide as for a payment. */
int payments_card_verify(struct req *r, const char *pm_ref, const char *param, const char *customer,
			 bool authenticated, struct card_auth *out);
/* Inside the write transaction, before the charge is recorded: stores a test alias's or a
 * token's PaymentMethod (filling pm_id and card.payment_method; the token is used up here, and
 * one used since it was read fails the request with token_already_used) and the vault's access
 * record. */
int payments_card_commit(struct req *r, struct db *db, struct card_auth *ca);
/* Before the write: for a test alias or a token, chooses the id its PaymentMethod will be stored
 * under (pm_id and card.payment_method), so that objects naming it can be rendered before the
 * write. 0, or -1 with the request failed. */
int payments_card_choose_pm(struct req *r, struct card_auth *ca);

/* The merchant's pricing (inside a transaction). */
int payments_pricing(struct req *r, struct db *db, struct ledger_pricing *ret, char cur[8]);
/* The same for a payment whose card was authorized with payments_card_authorize (a confirm, a
 * POST /v1/charges): the pricing read then, in the read transaction before the write (as the
 * exchange rates are taken before it), so that the single writer does not read the merchants
 * table again. Read again here only if that read did not get it. */
int payments_pricing_for(struct req *r, struct db *db, const struct card_auth *ca,
			 struct ledger_pricing *ret, char cur[8]);

/* Appends an event for an object rendered as JSON. */
int payments_event(struct req *r, struct db *db, const char *type, const char *object_id,
		   const char *json, size_t len, const char *prev);
/* payments_event with the JSON also packed before the write (payments_pack); packed may be
 * NULL or empty (then the event module packs it, if its store keeps objects packed). */
int payments_event_packed(struct req *r, struct db *db, const char *type, const char *object_id,
			  const char *json, size_t len, const struct buf *packed);
/* payments_event_packed, and the same JSON (in r->arena) is the answer (req_answer_event). */
int payments_event_answer(struct req *r, struct db *db, const char *type, const char *object_id,
			  const char *json, size_t len, const struct buf *packed);
/* Before the write, on the request's thread: packs an event object (events/pack.h) into out
 * when the store keeps objects packed, so that the single writer thread does not; otherwise
 * leaves out empty. Never fails the request: an object left unpacked is packed by the write. */
void payments_pack(struct req *r, const char *json, size_t len, struct buf *out);

/* An intent a debit's or a redirect's confirmation creates: *pi as payment_intent.created shows it
 * (status requires_confirmation; the write then moves it on), its JSON into *ret_json / *ret_len.
 * 0, or -1 with r->err. */
int payments_confirm_created(struct req *r, struct payment_intent *pi, const char **ret_json,
			     size_t *ret_len);
/* The start of a bank debit's or a redirect payment's confirmation write: an intent this request
 * creates appends its payment_intent.created (created_json), one confirmed again must still be
 * the version the request read (else Stripe's unexpected-state 400 naming its status now). 0, or
 * -1 with r->err. */
int payments_confirm_begin(struct req *r, struct db *db, const struct payment_intent *pi,
			   bool insert_first, const char *created_json, size_t created_len);

/*
 * payment_method_types at param (a list, or one value) into *set (payments/pm_types.h): each a
 * type Tender has and allowed holds (else a 400 on shown saying "<who>: <allowed types>"), at
 * most 8 (a payment's currency is checked against them by pm_types_check_currency; a
 * SetupIntent, which has none, may offer types of different currencies). An empty value ('')
 * is *set = 0 where empty_ok
 * (Stripe's null), else the 400 of an unknown type. 1 with *set, 0 when param is absent (*set
 * untouched), -1 with r->err.
 */
int pm_types_param(struct req *r, const char *param, const char *shown, unsigned allowed,
		   const char *who, bool empty_ok, unsigned *set);
/* Stripe's 400 on shown for the first type of set that takes one currency other than
 * currency. 0, or -1 with r->err. */
int pm_types_check_currency(struct req *r, unsigned set, const char *currency, const char *shown);
/* capture_method=manual (param) for a payment that set allows: Stripe's 400 naming the first type
 * that cannot be captured by hand. any_type: refused if any type of set cannot; otherwise only
 * when none can (the payment may still be made by card; the others are refused when chosen).
 * 0 (also for another capture_method or NULL), or -1 with r->err. */
int pm_types_check_manual(struct req *r, unsigned set, const char *capture_method,
			  const char *param, bool any_type);
/* The set as its JSON array, in r's arena (NULL when out of memory: r->err set). */
const char *pm_types_arena_json(struct req *r, unsigned set);

/*
 * automatic_payment_methods (PaymentIntents and SetupIntents). Stripe's create takes
 * [enabled] (required) and [allow_redirects] (always, the default, or never), not together with
 * payment_method_types. 1 with *allow_redirects ("always" or "never", or NULL for enabled=false:
 * the intent is as one that did not ask), 0 when absent, -1 with r->err.
 */
int apm_param(struct req *r, const char **allow_redirects);
/* What an automatic intent offers (pm_types_automatic) under the configuration *pmc (NULL: the
 * merchant's default, made if it has none) into *json (NULL for cards only, the stored form of
 * ["card"]); *pmc and *parent become the configuration's id and parent (NULL: none), in r's
 * arena. db: the caller's write, or NULL (reads in a read of its own). object ("PaymentIntent",
 * "SetupIntent") names it in Stripe's 400 when nothing is left. 0, or -1 with r->err. */
int apm_types(struct req *r, struct db *db, const char **pmc, const char **parent,
	      const char *allow_redirects, unsigned takes, const char *currency, bool manual,
	      const char *object, const char **json);
/* A confirmation of an intent whose automatic_payment_methods allow redirects needs a
 * return_url: Stripe's 400 (no param) when return_url is NULL. object: "Payment Intent" or
 * "Setup Intent", as Stripe's message writes it. 0, or -1 with r->err. */
int apm_check_return_url(struct req *r, const char *allow_redirects, const char *return_url,
			 const char *object);
/* Whether the PaymentMethod type (pm_types name) may be confirmed on an intent under
 * allow_redirects: a redirect method under never is Stripe's 400 on param. 0, or -1 with
 * r->err. */
int apm_check_redirect(struct req *r, const char *allow_redirects, const char *type,
		       const char *param);
/* The configuration's types that are on (payment_method_configurations.c) into *on, its id and
 * parent ("" for none) into id_out and parent_out: id, one of r's merchant's (404 or, inactive,
 * 400 on payment_method_configuration), or NULL for its default (made when it has none: in the
 * write db, or in a write of its own when db is NULL, the configuration then read in a read of
 * its own). 0, or -1 with r->err. */
int payment_method_configuration_types(struct req *r, struct db *db, const char *id, unsigned *on,
				       char id_out[ID_MAX], char parent_out[ID_MAX]);

/* radar_options[session] of a payment's create or confirm: a Radar Session (rse_…) that Stripe.js
 * makes through an endpoint outside Stripe's public API, which Tender does not offer; so no
 * session is one Tender knows, and any is Stripe's 400 resource_missing for an unknown one,
 * before anything changes (it is never ignored). 0 when none is given, else -1 with r->err. */
extern const struct param_spec radar_options_params[];
int payments_radar_options_check(struct req *r);

/* A confirmation's client_secret (Stripe.js confirms with a publishable key and the intent's
 * client_secret): required with a publishable key, and when sent it must be the intent's own
 * `own` (compared in time that does not depend on where they differ); object names the intent
 * ("PaymentIntent", "SetupIntent") in the message. 0, or -1 with Stripe's 400 in r->err. */
int payments_client_secret_check(struct req *r, const char *own, const char *object);

#endif

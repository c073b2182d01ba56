/*
 * /v1/payment_intents: create, retrieve, update, list, confirm, capture, cancel.
 *
 * Confirmation runs in two halves. Off the writer thread: resolve the payment method, let the
 * vault reveal the card to the acquirer, get its decision. Then one write transaction re-reads
 * the intent, checks it is still in the state the decision was made for (its version), and
 * records everything at once: charge, acquirer hold, journal, balance transaction, intent state,
 * events, the vault's access record and the idempotent response. A concurrent change in between
 * makes the transaction refuse (payment_intent_unexpected_state) and nothing is recorded.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "api/bank_sources.h"
#include "api/challenge.h"
#include "api/common.h"
#include "api/financial_connections.h"
#include "api/list.h"
#include "api/mandates.h"
#include "api/payments_common.h"
#include "api/payments_connect.h"
#include "api/pi_details.h"
#include "api/redirect_page.h"
#include "payments/pm_types.h"
#include "api/resources.h"
#include "api/search.h"
#include "api/sources_api.h"
#include "api/tokens.h"
#include "http/form.h"
#include "app.h"
#include "core/str.h"
#include "money/currency.h"
#include "money/fx.h"
#include "merchant/connect.h"
#include "merchant/merchant.h"
#include "payments/connect.h"
#include "vault/payment_method.h"

static const char *const capture_methods[] = {"automatic", "automatic_async", "manual", NULL};
static const char *const confirmation_methods[] = {"automatic", "manual", NULL};
static const char *const sfu_values[] = {"on_session", "off_session", NULL};
static const char *const cancel_reasons[] = {"duplicate", "fraudulent", "requested_by_customer",
					     "abandoned", NULL};

#define CVC_TOKEN_PARAM "payment_method_options[card][cvc_token]"

static const char *const pmo_sfu_values[] = {"none", "off_session", "on_session", NULL};
static const struct param_spec pmo_card_children[] = {
    {"capture_method", PT_ENUM, PF_EMPTYABLE, 0, (const char *const[]){"manual", NULL}, NULL},
    {"setup_future_usage", PT_ENUM, PF_EMPTYABLE, 0, pmo_sfu_values, NULL},
    {"request_three_d_secure", PT_ENUM, 0, 0, (const char *const[]){"any", "automatic", NULL},
     NULL},
    {"request_incremental_authorization", PT_ENUM, 0, 0,
     (const char *const[]){"if_available", "never", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec pmo_ach_children[] = {
    {"verification_method", PT_ENUM, 0, 0,
     (const char *const[]){"automatic", "instant", "microdeposits", NULL}, NULL},
    {"financial_connections", PT_OBJECT, 0, 0, NULL, fc_intent_option_params},
    {"setup_future_usage", PT_ENUM, PF_EMPTYABLE, 0, pmo_sfu_values, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec pmo_sepa_children[] = {
    {"mandate_options", PT_OBJECT, 0, 0, NULL, sepa_mandate_options_params},
    {"setup_future_usage", PT_ENUM, PF_EMPTYABLE, 0, pmo_sfu_values, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
/* the redirect methods' (Stripe's values: a bank's setup_future_usage is off_session only, the
 * generated sepa_debit PaymentMethod paying off session) */
static const char *const pmo_manual[] = {"manual", NULL};
static const char *const pmo_bank_sfu_values[] = {"none", "off_session", NULL};
static const struct param_spec pmo_ideal_children[] = {
    {"setup_future_usage", PT_ENUM, PF_EMPTYABLE, 0, pmo_bank_sfu_values, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec pmo_bancontact_children[] = {
    {"preferred_language", PT_ENUM, 0, 0, (const char *const[]){"de", "en", "fr", "nl", NULL},
     NULL},
    {"setup_future_usage", PT_ENUM, PF_EMPTYABLE, 0, pmo_bank_sfu_values, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec pmo_affirm_children[] = {
    {"capture_method", PT_ENUM, PF_EMPTYABLE, 0, pmo_manual, NULL},
    {"preferred_locale", PT_STRING, 0, 30, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec pmo_afterpay_children[] = {
    {"capture_method", PT_ENUM, PF_EMPTYABLE, 0, pmo_manual, NULL},
    {"reference", PT_STRING, PF_EMPTYABLE, 128, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const char *const klarna_locales[] = {
    "cs-CZ", "da-DK", "de-AT", "de-CH", "de-DE", "el-GR", "en-AT", "en-AU", "en-BE",
    "en-CA", "en-CH", "en-CZ", "en-DE", "en-DK", "en-ES", "en-FI", "en-FR", "en-GB",
    "en-GR", "en-IE", "en-IT", "en-NL", "en-NO", "en-NZ", "en-PL", "en-PT", "en-SE",
    "en-US", "es-ES", "es-US", "fi-FI", "fr-BE", "fr-CA", "fr-CH", "fr-FR", "it-CH",
    "it-IT", "nb-NO", "nl-BE", "nl-NL", "pl-PL", "pt-PT", "sv-FI", "sv-SE", NULL};
static const struct param_spec pmo_klarna_children[] = {
    {"capture_method", PT_ENUM, PF_EMPTYABLE, 0, pmo_manual, NULL},
    {"preferred_locale", PT_ENUM, 0, 0, klarna_locales, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
/* confirm's card options: create's and update's, and cvc_token (a cvc_update token, tokens.c),
 * which Stripe takes "only during confirmation" */
static const struct param_spec pmo_card_confirm_children[] = {
    {"capture_method", PT_ENUM, PF_EMPTYABLE, 0, (const char *const[]){"manual", NULL}, NULL},
    {"setup_future_usage", PT_ENUM, PF_EMPTYABLE, 0, pmo_sfu_values, NULL},
    {"request_three_d_secure", PT_ENUM, 0, 0, (const char *const[]){"any", "automatic", NULL},
     NULL},
    {"request_incremental_authorization", PT_ENUM, 0, 0,
     (const char *const[]){"if_available", "never", NULL}, NULL},
    {"cvc_token", PT_STRING, 0, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec pmo_confirm_children[] = {
    {"affirm", PT_OBJECT, 0, 0, NULL, pmo_affirm_children},
    {"afterpay_clearpay", PT_OBJECT, 0, 0, NULL, pmo_afterpay_children},
    {"bancontact", PT_OBJECT, 0, 0, NULL, pmo_bancontact_children},
    {"card", PT_OBJECT, 0, 0, NULL, pmo_card_confirm_children},
    {"customer_balance", PT_OBJECT, 0, 0, NULL, cash_pmo_params},
    {"ideal", PT_OBJECT, 0, 0, NULL, pmo_ideal_children},
    {"klarna", PT_OBJECT, 0, 0, NULL, pmo_klarna_children},
    {"sepa_debit", PT_OBJECT, 0, 0, NULL, pmo_sepa_children},
    {"us_bank_account", PT_OBJECT, 0, 0, NULL, pmo_ach_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec pmo_children[] = {
    {"affirm", PT_OBJECT, 0, 0, NULL, pmo_affirm_children},
    {"afterpay_clearpay", PT_OBJECT, 0, 0, NULL, pmo_afterpay_children},
    {"bancontact", PT_OBJECT, 0, 0, NULL, pmo_bancontact_children},
    {"card", PT_OBJECT, 0, 0, NULL, pmo_card_children},
    {"customer_balance", PT_OBJECT, 0, 0, NULL, cash_pmo_params},
    {"ideal", PT_OBJECT, 0, 0, NULL, pmo_ideal_children},
    {"klarna", PT_OBJECT, 0, 0, NULL, pmo_klarna_children},
    {"sepa_debit", PT_OBJECT, 0, 0, NULL, pmo_sepa_children},
    {"us_bank_account", PT_OBJECT, 0, 0, NULL, pmo_ach_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec apm_children[] = {
    {"enabled", PT_BOOL, PF_REQUIRED, 0, NULL, NULL},
    {"allow_redirects", PT_ENUM, 0, 0, (const char *const[]){"always", "never", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

#define PI_COMMON_PARAMS                                                                           \
	{"customer", PT_STRING, PF_EMPTYABLE, 255, NULL, NULL},                                    \
	    {"description", PT_STRING, PF_EMPTYABLE, 1000, NULL, NULL},                            \
	    {"metadata", PT_METADATA, 0, 0, NULL, NULL},                                           \
	    {"payment_method", PT_STRING, PF_EMPTYABLE, 255, NULL, NULL},                          \
	    {"receipt_email", PT_STRING, PF_EMPTYABLE, 800, NULL, NULL},                           \
	    {"setup_future_usage", PT_ENUM, PF_EMPTYABLE, 0, sfu_values, NULL},                    \
	    {"shipping", PT_OBJECT, PF_EMPTYABLE, 0, NULL, payment_shipping_params},               \
	    {"statement_descriptor", PT_STRING, PF_EMPTYABLE, 22, NULL, NULL},                     \
	    {"statement_descriptor_suffix", PT_STRING, PF_EMPTYABLE, 22, NULL, NULL},              \
	    {"capture_method", PT_ENUM, 0, 0, capture_methods, NULL},                              \
	    {"payment_method_options", PT_OBJECT, 0, 0, NULL, pmo_children},                       \
	{                                                                                          \
		"payment_method_types", PT_STRING_ARRAY, 0, 0, NULL, NULL                          \
	}

static const struct param_spec transfer_data_create[] = {
    {"destination", PT_STRING, PF_REQUIRED, 255, NULL, NULL},
    {"amount", PT_INT, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec transfer_data_update[] = {
    {"amount", PT_INT, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

static const struct param_spec create_params[] = {
    {"amount", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {"currency", PT_CURRENCY, PF_REQUIRED, 0, NULL, NULL},
    PI_COMMON_PARAMS,
    {"application_fee_amount", PT_INT, 0, 0, NULL, NULL},
    {"transfer_data", PT_OBJECT, 0, 0, NULL, transfer_data_create},
    {"transfer_group", PT_STRING, 0, 5000, NULL, NULL},
    {"on_behalf_of", PT_STRING, 0, 255, NULL, NULL},
    {"confirm", PT_BOOL, 0, 0, NULL, NULL},
    {"confirmation_method", PT_ENUM, 0, 0, confirmation_methods, NULL},
    {"return_url", PT_STRING, 0, 2048, NULL, NULL},
    {"off_session", PT_STRING, 0, 20, NULL, NULL},
    {"error_on_requires_action", PT_BOOL, 0, 0, NULL, NULL},
    {"source", PT_STRING, 0, 255, NULL, NULL}, /* a card source (api/sources_api.c) */
    {"automatic_payment_methods", PT_OBJECT, 0, 0, NULL, apm_children},
    {"use_stripe_sdk", PT_BOOL, 0, 0, NULL, NULL},
    {"payment_method_data", PT_OBJECT, 0, 0, NULL, pm_data_params_pi},
    {"confirmation_token", PT_STRING, 0, 255, NULL, NULL},
    {"payment_method_configuration", PT_STRING, 0, 100, NULL, NULL},
    {"mandate_data", PT_OBJECT, 0, 0, NULL, sepa_mandate_data_params},
    {"mandate", PT_STRING, 0, 5000, NULL, NULL},
    {"radar_options", PT_OBJECT, 0, 0, NULL, radar_options_params},
    PI_DETAILS_PARAMS(0, 0),
    PI_EXCLUDED_PARAM(0),
    {NULL, 0, 0, 0, NULL, NULL},
};

static const struct param_spec update_params[] = {
    {"amount", PT_INT, 0, 0, NULL, NULL},
    {"currency", PT_CURRENCY, 0, 0, NULL, NULL},
    PI_COMMON_PARAMS,
    {"payment_method_data", PT_OBJECT, 0, 0, NULL, pm_data_params_pi},
    {"application_fee_amount", PT_INT, PF_EMPTYABLE, 0, NULL, NULL},
    {"transfer_data", PT_OBJECT, 0, 0, NULL, transfer_data_update},
    {"transfer_group", PT_STRING, PF_EMPTYABLE, 5000, NULL, NULL},
    PI_DETAILS_PARAMS(PF_EMPTYABLE, PF_EMPTYABLE),
    PI_EXCLUDED_PARAM(PF_EMPTYABLE),
    {NULL, 0, 0, 0, NULL, NULL},
};

static const struct param_spec confirm_params[] = {
    {"payment_method", PT_STRING, 0, 255, NULL, NULL},
    {"payment_method_options", PT_OBJECT, 0, 0, NULL, pmo_confirm_children},
    {"payment_method_data", PT_OBJECT, 0, 0, NULL, pm_data_params_pi},
    {"receipt_email", PT_STRING, PF_EMPTYABLE, 800, NULL, NULL},
    {"return_url", PT_STRING, 0, 2048, NULL, NULL},
    {"off_session", PT_STRING, 0, 20, NULL, NULL},
    {"setup_future_usage", PT_ENUM, PF_EMPTYABLE, 0, sfu_values, NULL},
    {"capture_method", PT_ENUM, 0, 0, capture_methods, NULL},
    {"error_on_requires_action", PT_BOOL, 0, 0, NULL, NULL},
    {"use_stripe_sdk", PT_BOOL, 0, 0, NULL, NULL},
    {"shipping", PT_OBJECT, PF_EMPTYABLE, 0, NULL, payment_shipping_params},
    {"confirmation_token", PT_STRING, 0, 255, NULL, NULL},
    {"mandate_data", PT_OBJECT, 0, 0, NULL, sepa_mandate_data_params},
    {"mandate", PT_STRING, 0, 5000, NULL, NULL},
    {"client_secret", PT_STRING, 0, 5000, NULL, NULL},
    {"payment_method_types", PT_STRING_ARRAY, 0, 0, NULL, NULL},
    {"radar_options", PT_OBJECT, 0, 0, NULL, radar_options_params},
    PI_DETAILS_PARAMS(PF_EMPTYABLE, PF_EMPTYABLE),
    PI_EXCLUDED_PARAM(PF_EMPTYABLE),
    {NULL, 0, 0, 0, NULL, NULL},
};

static const struct param_spec capture_params[] = {
    {"amount_to_capture", PT_INT, 0, 0, NULL, NULL},
    {"application_fee_amount", PT_INT, 0, 0, NULL, NULL},
    {"transfer_data", PT_OBJECT, 0, 0, NULL, transfer_data_update},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"statement_descriptor", PT_STRING, 0, 22, NULL, NULL},
    {"statement_descriptor_suffix", PT_STRING, 0, 22, NULL, NULL},
    PI_DETAILS_PARAMS(0, PF_EMPTYABLE),
    {NULL, 0, 0, 0, NULL, NULL},
};

static const struct param_spec cancel_params[] = {
    {"cancellation_reason", PT_ENUM, 0, 0, cancel_reasons, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

static const struct param_spec retrieve_params[] = {
    {"client_secret", PT_STRING, 0, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

static const struct param_spec list_params[] = {
    {"customer", PT_STRING, 0, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

/* ---- helpers ---- */

static int render_response(struct req *r, struct db *db, const struct payment_intent *pi)
{
	struct expand_set ex;
	payments_expand_from_req(r, &ex, NULL);
	int rc = pi_render(db, &r->arena, r->merchant_id, r->livemode, pi, &ex, req_json(r));
	return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static int emit_pi(struct req *r, struct db *db, const struct payment_intent *pi, const char *type)
{
	size_t len = 0;
	const char *js = pi_json(db, &r->arena, r->merchant_id, r->livemode, pi, &len);
	if (!js)
		return req_fail(r, ERR_API, NULL, NULL);
	return payments_event(r, db, type, pi->id, js, len, NULL);
}

/* The event's object and the response are the same JSON when nothing is expanded: the last
 * event's rendering answers the request too (one rendering per transaction, not two). */
static bool expands_any(struct req *r)
{
	struct expand_set ex;
	payments_expand_from_req(r, &ex, NULL);
	return ex.customer || ex.payment_method || ex.latest_charge || ex.balance_transaction ||
	       ex.payment_intent;
}

/* js/len: pi's JSON when it was rendered before the write (NULL: rendered here); packed: that
 * JSON packed for its event (payments_pack), or NULL. */
static int emit_pi_and_respond(struct req *r, struct db *db, const struct payment_intent *pi,
			       const char *type, const char *js, size_t len,
			       const struct buf *packed)
{
	if (expands_any(r)) {
		if (js ? payments_event_packed(r, db, type, pi->id, js, len, packed) != 0
		       : emit_pi(r, db, pi, type) != 0)
			return -1;
		return render_response(r, db, pi);
	}
	if (!js) {
		packed = NULL;
		js = pi_json(db, &r->arena, r->merchant_id, r->livemode, pi, &len);
	}
	if (!js)
		return req_fail(r, ERR_API, NULL, NULL);
	return payments_event_answer(r, db, type, pi->id, js, len, packed);
}

static int emit_charge(struct req *r, struct db *db, const struct charge *ch, const char *type)
{
	size_t len = 0;
	const char *js = charge_json(db, &r->arena, r->merchant_id, r->livemode, ch, &len);
	if (!js)
		return req_fail(r, ERR_API, NULL, NULL);
	return payments_event(r, db, type, ch->id, js, len, NULL);
}

static int unexpected_state(struct req *r, const char *verb, const struct payment_intent *pi,
			    const char *allowed)
{
	return req_fail(r, ERR_PAYMENT_INTENT_UNEXPECTED_STATE, NULL,
			"You cannot %s this PaymentIntent because it has a status of %s. Only a "
			"PaymentIntent with one of the following statuses may be %s: %s.",
			verb, pi->status,
			strcmp(verb, "confirm") == 0   ? "confirmed"
			: strcmp(verb, "capture") == 0 ? "captured"
						       : "canceled",
			allowed);
}

static bool status_is(const struct payment_intent *pi, const char *s)
{
	return strcmp(pi->status, s) == 0;
}

/* The customer must exist for this merchant (read, before the write). */
struct exists_ctx {
	struct req *r;
	const char *id;
	int found;
};

static const char SQL_CUSTOMER_EXISTS[] =
    "SELECT 1 FROM customers WHERE merchant_id = $1 AND id = $2 AND deleted = 0";

static int customer_exists_fn(struct db *db, void *p)
{
	struct exists_ctx *x = p;
	struct db_stmt *st = db_prepare(db, SQL_CUSTOMER_EXISTS);
	if (!st)
		return -1;
	db_bind_text(st, 1, x->r->merchant_id, -1);
	db_bind_text(st, 2, x->id, -1);
	x->found = db_step(st) == DB_ROW;
	db_reset(st);
	return 0;
}

static int require_customer(struct req *r, const char *id)
{
	if (!id || !*id)
		return 0;
	struct exists_ctx x = {r, id, 0};
	if (req_read(r, customer_exists_fn, &x) != 0)
		return -1;
	if (!x.found)
		return req_fail_missing(r, "customer", id, "customer");
	return 0;
}

/* last_payment_error as Stripe shows it on the intent: with the PaymentMethod that failed, which
 * Stripe's save-and-reuse guide reads back (the intent itself no longer names it). */
static const char *payment_error_json(struct req *r, struct db *db, const struct charge *ch,
				      const struct card_auth *ca)
{
	const struct api_error_info *info = api_error_info(ca->decision.err);
	struct buf b;
	struct json j;
	buf_init(&b, 64 * 1024);
	json_init(&j, &b);
	json_obj_open(&j);
	json_kv_str(&j, "charge", ch->id);
	json_kv_str(&j, "code", info->code);
	if (ca->decision.decline_code[0])
		json_kv_str(&j, "decline_code", ca->decision.decline_code);
	char url[160];
	snprintf(url, sizeof(url), "https://stripe.com/docs/error-codes/%s", info->code);
	json_kv_str(&j, "doc_url", url);
	json_kv_str(&j, "message", info->message);
	if (strncmp(ca->pm_id, "pm_", 3) == 0) {
		json_key(&j, "payment_method");
		if (pm_render(db, r->merchant_id, ca->pm_id, &j) != DB_OK) {
			buf_release(&b);
			return NULL;
		}
	}
	json_kv_str(&j, "type", info->type);
	json_obj_close(&j);
	const char *s = b.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&b));
	buf_release(&b);
	return s;
}

/* ---- 3-D Secure ---- */

/* The challenge page lives on Tender itself: /3ds/{merchant}/{intent}/{token}. */
static const char *challenge_url(struct req *r, const struct payment_intent *pi)
{
	const char *base = req_url_base(r);
	return arena_printf(&r->arena, "%s/3ds/%s/%s/%s", base, r->merchant_id, pi->id,
			    pi->three_d_secure_token);
}

struct confirm_ctx;
static int require_action(struct req *r, struct db *db, struct confirm_ctx *c);

/* ---- confirm (also used by create with confirm=true) ---- */

struct confirm_ctx {
	struct req *r;
	struct event_origin origin; /* the request, for the events a Connect capture appends */
	struct payment_intent pi;   /* the intent the decision was made for */
	struct payment_intent
	    pi0;	   /* pi as confirm_fn starts it: a retried transaction starts over */
	bool insert_first; /* create+confirm: the intent does not exist yet */
	/* the 3-D Secure the merchant asked for errored (test card 4000000000003097): the payment
	 * goes on without it */
	bool tds_error;
	/* insert_first: payment_intent.created's object, rendered before the write (it is pi0
	 * whatever the transaction does), so the single writer thread does not render it */
	const char *created_json;
	size_t created_len;
	bool inserted; /* this attempt of the transaction has stored its row */
	/* create+confirm of an approved card with automatic capture: the charge and the intent
	 * as the write will leave them, rendered before it under ids chosen ahead (charge,
	 * balance transaction, a test alias's PaymentMethod), for charge.succeeded,
	 * payment_intent.succeeded and the answer; so the single writer thread does not render
	 * them. NULL when the writer renders (any other confirmation). */
	char charge_id[ID_MAX], balance_txn_id[ID_MAX];
	struct charge prepared; /* the attempt's charge, made once, before the write */
	bool has_prepared;
	const char *succeeded_charge_json, *succeeded_pi_json;
	size_t succeeded_charge_len, succeeded_pi_len;
	/* those three renderings packed for their events (payments_pack), before the write too;
	 * empty when the store keeps JSON text or the write has to pack them */
	struct buf created_packed, succeeded_charge_packed, succeeded_pi_packed;
	struct buf prepared_packed; /* the prepared charge's outcome and card (charge_pack) */
	struct card_auth ca;
	/* payment_method_options[card][cvc_token]: a CVC recollected for this payment (tokens.c),
	 * checked before the card and used up in the write; NULL: none */
	const char *cvc_token;
	bool capture;
	bool require_3ds;    /* the card asks the cardholder to authenticate first */
	bool authenticated;  /* the cardholder completed the 3-D Secure challenge */
	struct fx_table *fx; /* the rates a capture converts with (held across the write) */
	/* paying with a src_… (api/sources_api.c); src.set false otherwise */
	struct source_charge src;
	/* an invoice's payment (payment_intents_invoice): its hooks inside the write */
	struct pi_invoice *inv;
	/* the cardholder is away (an invoice paid automatically) but may come back: a card that
	 * asks for 3-D Secure parks the intent in requires_action (Stripe's invoice payments do)
	 * instead of declining with authentication_required; a card set up for off-session use
	 * with authentication is not asked */
	bool action_off_session;
	/* confirmation_token: what the intent is confirmed with, used up by its write */
	const struct ctoken_use *ct;
	/* a card_present card read by a Terminal reader (pi_invoice.present) */
	bool present;
};

/* Stores the confirmed intent: its first row when create+confirm deferred the insert, otherwise
 * the next version of the existing one. */
static int pi_save(struct db *db, struct confirm_ctx *c)
{
	struct payment_intent *pi = &c->pi;
	if (!c->insert_first || c->inserted)
		return pi_update(db, c->r->merchant_id, pi);
	c->inserted = true;
	pi->version++; /* the version the insert + update of the created intent would have left */
	return pi_insert(db, c->r->merchant_id, pi);
}

/* The attempt confirm_fn records for c->pi as it starts (pi0). */
static void attempt_for(struct confirm_ctx *c, const struct payment_intent *pi,
			const struct ledger_pricing *pricing, struct attempt *at)
{
	struct req *r = c->r;
	c->origin = (struct event_origin){r->request_id[0] ? r->request_id : NULL,
					  r->idempotency_key, r->livemode};
	*at = (struct attempt){
	    .merchant_id = r->merchant_id,
	    .amount = pi->amount,
	    .currency = pi->currency,
	    .payment_intent = pi->id,
	    .invoice = pi->invoice,
	    .customer = pi->customer,
	    .description = pi->description,
	    .metadata = NULL,
	    .receipt_email = pi->receipt_email,
	    .statement_descriptor = pi->statement_descriptor,
	    .statement_descriptor_suffix = pi->statement_descriptor_suffix,
	    .shipping = pi->shipping,
	    .capture = c->capture,
	    .now = r->now,
	    .card = &c->ca.card,
	    .decision = &c->ca.decision,
	    .pricing = pricing,
	    .three_d_secure = c->authenticated,
	    .three_d_secure_error = c->tds_error,
	    .client_ip = r->client_ip[0] ? r->client_ip : NULL,
	    .three_d_secure_txn = c->authenticated ? pi->three_d_secure_token : NULL,
	    .charge_id = c->charge_id[0] ? c->charge_id : NULL,
	    .balance_txn_id = c->balance_txn_id[0] ? c->balance_txn_id : NULL,
	    .prepared = c->has_prepared ? &c->prepared : NULL,
	    /* a charge carries its intent's Connect terms, transfer_group alone included */
	    .connect = pi->connect.destination || pi->connect.application_fee_amount ||
			       pi->connect.transfer_group || pi->connect.on_behalf_of
			   ? &pi->connect
			   : NULL,
	    .origin = &c->origin,
	};
}

/* The intent after an approved attempt whose charge is charge_id (placed in review, when a
 * manual_review rule opened one: the intent names it too, as on Stripe). */
static void pi_approved(struct confirm_ctx *c, struct payment_intent *pi, const char *charge_id,
			const char *review)
{
	if (review)
		pi->review = review;
	pi->three_d_secure_token = NULL;
	pi->next_action = NULL;
	pi->latest_charge = charge_id;
	pi->last_payment_error = NULL;
	pi->payment_method = c->ca.pm_id;
	if (c->capture) {
		pi->status = "succeeded";
		pi->amount_received = pi->amount;
		pi->amount_capturable = 0;
	} else {
		pi->status = "requires_capture";
		pi->amount_capturable = pi->amount;
	}
}

/* Before the write, for create+confirm of an approved card with automatic capture (see
 * confirm_ctx): chooses the ids and renders the charge and the intent the write will leave. */
static int prerender_succeeded(struct confirm_ctx *c)
{
	struct req *r = c->r;
	if (!c->insert_first || !c->capture || !c->ca.decision.approved || c->require_3ds)
		return 0;
	if (payments_card_choose_pm(r, &c->ca) != 0)
		return -1;
	id_new_at(c->charge_id, "ch_", r->now);
	id_new_at(c->balance_txn_id, "txn_", r->now);
	struct attempt at;
	attempt_for(c, &c->pi0, NULL, &at);
	struct charge ch;
	if (payment_charge_prepare(&r->arena, &at, &c->prepared) != DB_OK ||
	    payment_charge_final(&r->arena, &at, &c->prepared, &ch) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	charge_pack(&c->prepared, store_kind(r->app->store), &c->prepared_packed);
	c->has_prepared = true;
	struct payment_intent pi = c->pi0;
	pi_approved(c, &pi, c->charge_id, ch.review);
	/* nothing expanded: neither rendering reads the store */
	c->succeeded_charge_json = charge_json(NULL, &r->arena, r->merchant_id, r->livemode, &ch,
					       &c->succeeded_charge_len);
	c->succeeded_pi_json =
	    pi_json(NULL, &r->arena, r->merchant_id, r->livemode, &pi, &c->succeeded_pi_len);
	if (!c->succeeded_charge_json || !c->succeeded_pi_json)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

/* setup_future_usage with a customer: once the payment is authorized, its PaymentMethod is
 * attached to that customer for later payments (payment_method.attached), as on Stripe. One
 * attached meanwhile to someone else stays theirs: the payment is not failed for it. Set up for
 * off-session use with the cardholder authenticated, the card is marked set up (pm_card.set_up).
 */
static int save_for_future(struct req *r, struct db *db, const struct payment_intent *pi,
			   const char *pm_id, bool authenticated)
{
	/* payment_method_options[card][setup_future_usage] replaces the intent's own */
	const char *sfu = pi_setup_future_usage(pi, "card");
	if (!pi->customer || !sfu || !pm_id || !*pm_id)
		return 0;
	const char *id;
	char owner[ID_MAX];
	if (pm_attach_resolve(r, db, pm_id, "payment_method", &id, owner) != 0)
		return -1;
	if (owner[0] && strcmp(owner, pi->customer) != 0)
		return 0;
	/* saved by setup_future_usage: `limited` (Stripe's default for it), unless the
	 * PaymentMethod's allow_redisplay was chosen; set before the attach's event shows it */
	if (!owner[0] && pm_set_allow_redisplay(db, r->merchant_id, id, "limited", true) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!owner[0] && pm_attach_finish(r, db, id, owner, pi->customer) != 0)
		return -1;
	if (authenticated && strcmp(sfu, "off_session") == 0 &&
	    pm_mark_set_up(db, r->merchant_id, id) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

static int confirm_body(struct db *db, void *p)
{
	struct confirm_ctx *c = p;
	struct req *r = c->r;
	struct payment_intent *pi = &c->pi;
	int rc;
	/* PostgreSQL may run this again after a serialization failure: start from the same intent
	 */
	c->pi = c->pi0;
	c->inserted = false;
	if (c->insert_first) {
		/* the created event shows the new intent; its row is inserted once, in the state
		 * this confirmation leaves it in (pi_save), not inserted and then updated */
		if (payments_event_packed(r, db, "payment_intent.created", pi->id, c->created_json,
					  c->created_len, &c->created_packed) != 0)
			return -1;
	} else {
		struct payment_intent cur;
		rc = pi_load(db, &r->arena, r->merchant_id, pi->id, &cur);
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (cur.version != pi->version)
			return unexpected_state(r, "confirm", &cur,
						"requires_payment_method, requires_confirmation, "
						"requires_action");
	}
	/* the ConfirmationToken before its card: of two confirmations racing with one token,
	 * the second is refused for the token */
	if (c->ct && confirmation_token_consume(r, db, c->ct, pi->id, NULL) != 0)
		return -1;
	if (payments_card_commit(r, db, &c->ca) != 0)
		return -1;
	if (c->cvc_token && tokens_cvc_use(r, db, c->cvc_token, CVC_TOKEN_PARAM) != 0)
		return -1;
	/* a src_… still chargeable, consumed by paying when it pays only once */
	if (!c->require_3ds &&
	    source_api_charge_commit(r, db, &c->src, c->ca.decision.approved) != 0)
		return -1;
	if (c->require_3ds)
		return require_action(r, db, c);
	struct ledger_pricing pricing;
	char cur_buf[8];
	if (payments_pricing_for(r, db, &c->ca, &pricing, cur_buf) != 0)
		return -1;
	pricing.fx = c->fx;
	struct attempt at;
	attempt_for(c, pi, &pricing, &at);
	pi->three_d_secure_token = NULL;
	pi->next_action = NULL;
	struct charge ch;
	rc = payment_record_attempt(db, &r->arena, &at, &ch);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	pi->latest_charge = ch.id;
	if (!c->ca.decision.approved) {
		pi->status = "requires_payment_method";
		pi->last_payment_error = payment_error_json(r, db, &ch, &c->ca);
		if (!pi->last_payment_error)
			return req_fail(r, ERR_API, NULL, NULL);
		pi->payment_method = NULL;
		if (pi_save(db, c) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (emit_charge(r, db, &ch, "charge.failed") != 0 ||
		    emit_pi(r, db, pi, "payment_intent.payment_failed") != 0)
			return -1;
		/* 402 card_error carrying the updated intent and the failed charge */
		req_fail(r, c->ca.decision.err, NULL, NULL);
		snprintf(r->err.decline_code, sizeof(r->err.decline_code), "%s",
			 c->ca.decision.decline_code);
		str_copy(r->err.charge_id, sizeof(r->err.charge_id), ch.id);
		struct json ej;
		json_init(&ej, &r->err.extra);
		json_key(&ej, "payment_intent");
		if (pi_render(db, &r->arena, r->merchant_id, r->livemode, pi, NULL, &ej) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		/* the card that was declined, as Stripe's error names it (error.payment_method) */
		if (strncmp(c->ca.pm_id, "pm_", 3) == 0) {
			json_key(&ej, "payment_method");
			if (pm_render(db, r->merchant_id, c->ca.pm_id, &ej) != DB_OK)
				return req_fail(r, ERR_API, NULL, NULL);
		}
		return REQ_COMMIT_ERR;
	}
	pi_approved(c, pi, ch.id, ch.review);
	if (pi_save(db, c) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* a reader's card_present card is never saved as it is (Stripe saves the card it
	 * generates, which Tender does not for a payment: see README) */
	if (!c->present && save_for_future(r, db, pi, c->ca.pm_id, c->authenticated) != 0)
		return -1;
	/* a checkout's payment completes its session in the same transaction */
	if (pi->checkout_session && checkout_complete(r, db, pi->checkout_session) != 0)
		return -1;
	/* the renderings made before the write are of this very charge (same ids, and the
	 * attempt that made it is payment_charge_final's), else they are not used */
	bool pre = c->succeeded_charge_json && c->succeeded_pi_json && ch.captured &&
		   ch.balance_transaction && strcmp(ch.id, c->charge_id) == 0 &&
		   strcmp(ch.balance_transaction, c->balance_txn_id) == 0;
	if (pre ? payments_event_packed(r, db, "charge.succeeded", ch.id, c->succeeded_charge_json,
					c->succeeded_charge_len, &c->succeeded_charge_packed) != 0
		: emit_charge(r, db, &ch, "charge.succeeded") != 0)
		return -1;
	return emit_pi_and_respond(r, db, pi,
				   c->capture ? "payment_intent.succeeded"
					      : "payment_intent.amount_capturable_updated",
				   pre ? c->succeeded_pi_json : NULL, pre ? c->succeeded_pi_len : 0,
				   pre ? &c->succeeded_pi_packed : NULL);
}

/* The card needs the cardholder: park the intent in requires_action with a challenge URL. */
static int require_action(struct req *r, struct db *db, struct confirm_ctx *c)
{
	struct payment_intent *pi = &c->pi;
	char token[40];
	id_random_base62(token, 32);
	pi->three_d_secure_token = arena_strdup(&r->arena, token);
	pi->status = "requires_action";
	pi->payment_method = c->ca.pm_id;
	pi->last_payment_error = NULL;
	pi->next_action = challenge_next_action(r, pi->return_url, challenge_url(r, pi));
	if (!pi->next_action || !pi->three_d_secure_token)
		return req_fail(r, ERR_API, NULL, NULL);
	if (pi_save(db, c) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (emit_pi(r, db, pi, "payment_intent.requires_action") != 0)
		return -1;
	return render_response(r, db, pi);
}

/* The write of a confirmation. An intent that pays an invoice settles it in the same
 * transaction, whatever the outcome (invoice_payment_settled: paid, failed, or waiting for the
 * cardholder); an invoice's payment made by Tender itself (payment_intents_invoice) stores what
 * it pays for first and answers with its own object last. */
static int confirm_fn(struct db *db, void *p)
{
	struct confirm_ctx *c = p;
	struct req *r = c->r;
	if (c->inv && c->inv->before && c->inv->before(r, db, c->inv->ctx) != 0)
		return -1;
	int rc = confirm_body(db, p);
	if (rc < 0)
		return rc;
	if (c->pi.invoice && invoice_payment_settled(r, db, &c->pi) != 0)
		return -1;
	if (c->inv && c->inv->answer)
		rc = c->inv->answer(r, db, c->inv->ctx, rc);
	return rc;
}

/* A payment_method_options[…] value of the request, kept in *field; "" unsets it (where the
 * parameter takes "": setup_future_usage, capture_method, reference, Affirm's locale). */
static void pmo_sfu(struct req *r, const char *name, const char **field)
{
	const char *v = param_str(r, name);
	if (v)
		*field = *v ? v : NULL;
}

/* payment_method_options from the request (create, update, confirm): the card's capture_method
 * ("manual", or "" to go back to the intent's own) and request_three_d_secure, and each type's
 * setup_future_usage, the SEPA mandate's reference_prefix and the ACH verification_method
 * (instant: only a Financial Connections account, checked at confirm, api/mandates.c). 0, or -1
 * with r->err. */
static int pmo_apply(struct req *r, struct payment_intent *pi)
{
	pmo_sfu(r, "payment_method_options.card.setup_future_usage",
		&pi->pmo_card_setup_future_usage);
	pmo_sfu(r, "payment_method_options.sepa_debit.setup_future_usage",
		&pi->pmo_sepa_setup_future_usage);
	pmo_sfu(r, "payment_method_options.us_bank_account.setup_future_usage",
		&pi->pmo_ach_setup_future_usage);
	pmo_sfu(r, "payment_method_options.ideal.setup_future_usage",
		&pi->pmo_ideal_setup_future_usage);
	pmo_sfu(r, "payment_method_options.bancontact.setup_future_usage",
		&pi->pmo_bancontact_setup_future_usage);
	/* the lenders' capture_method ("" goes back to the intent's own), as the card's */
	pmo_sfu(r, "payment_method_options.affirm.capture_method", &pi->pmo_affirm_capture_method);
	pmo_sfu(r, "payment_method_options.afterpay_clearpay.capture_method",
		&pi->pmo_afterpay_capture_method);
	pmo_sfu(r, "payment_method_options.klarna.capture_method", &pi->pmo_klarna_capture_method);
	pmo_sfu(r, "payment_method_options.afterpay_clearpay.reference",
		&pi->pmo_afterpay_reference);
	pmo_sfu(r, "payment_method_options.bancontact.preferred_language",
		&pi->pmo_bancontact_preferred_language);
	pmo_sfu(r, "payment_method_options.affirm.preferred_locale",
		&pi->pmo_affirm_preferred_locale);
	pmo_sfu(r, "payment_method_options.klarna.preferred_locale",
		&pi->pmo_klarna_preferred_locale);
	if (sepa_reference_prefix(r, &pi->pmo_sepa_reference_prefix) != 0 ||
	    cash_pmo_apply(r, &pi->pmo_customer_balance) != 0)
		return -1;
	const char *vm = param_str(r, "payment_method_options.us_bank_account.verification_method");
	if (vm)
		pi->pmo_ach_verification_method = vm;
	if (fc_intent_options(r, "payment_method_options.us_bank_account.financial_connections",
			      &pi->pmo_ach_financial_connections) != 0)
		return -1;
	pmo_sfu(r, "payment_method_options.card.capture_method", &pi->pmo_card_capture_method);
	pmo_sfu(r, "payment_method_options.card.request_three_d_secure",
		&pi->pmo_card_request_three_d_secure);
	pmo_sfu(r, "payment_method_options.card.request_incremental_authorization",
		&pi->pmo_card_request_incremental_authorization);
	return 0;
}

/* What a confirmation of a method paid away from the card path (a bank debit, a redirect) takes
 * of the request before its own write: capture_method, receipt_email, setup_future_usage. */
static void confirm_params_apply(struct req *r, struct payment_intent *pi)
{
	const char *cm = param_str(r, "capture_method");
	if (cm)
		pi->capture_method = cm;
	const char *email = param_str(r, "receipt_email");
	if (email)
		pi->receipt_email = *email ? email : NULL;
	const char *sfu = param_str(r, "setup_future_usage");
	if (sfu)
		pi->setup_future_usage = *sfu ? sfu : NULL;
}

struct cvc_check_ctx {
	struct req *r;
	const char *id;
};

static int cvc_check_fn(struct db *db, void *p)
{
	struct cvc_check_ctx *x = p;
	return tokens_cvc_check(x->r, db, x->id, CVC_TOKEN_PARAM);
}

/* Runs the card half and then the write half. pi must be in a confirmable state. */
static int confirm_intent(struct req *r, struct confirm_ctx *c, const char *pm_ref)
{
	struct payment_intent *pi = &c->pi;
	if (!pm_ref || !*pm_ref)
		return req_fail(
		    r, ERR_PAYMENT_INTENT_UNEXPECTED_STATE, "payment_method",
		    "You cannot confirm this PaymentIntent because it's missing a payment "
		    "method. To confirm the PaymentIntent with %s, you must provide a "
		    "payment method.",
		    pi->customer ? pi->customer : "this payment");
	/* one read of the PaymentMethod's kind chooses the path: a redirect one is authorized at
	 * the customer's bank or lender (api/redirect_page.c), a bank debit is debited later
	 * (api/mandates.c), anything else goes the card's way */
	const char *redirect_type;
	int kind = pm_ref_kind(r, pm_ref, &redirect_type);
	if (kind < 0)
		return -1;
	if (kind == PM_KIND_REDIRECT && apm_check_redirect(r, pi->automatic_payment_methods,
							   redirect_type, "payment_method") != 0)
		return -1;
	/* a mandate names the bank debit it authorizes (api/mandates.c checks it is this
	 * PaymentMethod's); Tender's cards and other methods have none */
	if (param_present(r, "mandate") && kind != PM_KIND_SEPA && kind != PM_KIND_ACH)
		return req_fail(r, ERR_PARAM_BAD, "mandate",
				"The mandate %s cannot be used with this PaymentMethod: a mandate "
				"authorizes sepa_debit and us_bank_account payments only.",
				param_str(r, "mandate"));
	const char *cvct = param_str(r, "payment_method_options.card.cvc_token");
	if (cvct && *cvct) {
		if (kind != PM_KIND_CARD || c->present)
			return req_fail(r, ERR_PARAM_BAD, CVC_TOKEN_PARAM,
					"A cvc_token can only be used to confirm a payment with a "
					"card.");
		struct cvc_check_ctx x = {r, cvct};
		if (req_read(r, cvc_check_fn, &x) != 0)
			return -1;
		c->cvc_token = cvct;
	}
	if (kind != PM_KIND_CARD)
		confirm_params_apply(r, pi);
	if (kind == PM_KIND_REDIRECT)
		return redirect_pi_confirm(r, pi, c->insert_first, pm_ref, redirect_type);
	if (kind == PM_KIND_ACH)
		return ach_pi_confirm(r, pi, c->insert_first, pm_ref, c->inv);
	if (kind == PM_KIND_SEPA)
		return sepa_pi_confirm(r, pi, c->insert_first, pm_ref, c->inv);
	if (kind == PM_KIND_CASH)
		return cash_pi_confirm(r, pi, c->insert_first, pm_ref);
	if (!c->insert_first && pi_allows_type(pi, "customer_balance") &&
	    cash_pi_locked(r, NULL, pi->id) != 0)
		return -1;
	if (c->present && !pi_allows_type(pi, "card_present"))
		return req_fail(r, ERR_PARAM_BAD, "payment_method",
				"The PaymentMethod provided (card_present) is not allowed for this "
				"PaymentIntent: its payment_method_types must include "
				"\"card_present\".");
	if (!c->present && !pi_allows_type(pi, "card"))
		return req_fail(r, ERR_PARAM_BAD, "payment_method",
				"The PaymentMethod provided (card) is not allowed for this "
				"PaymentIntent. Please attach a PaymentMethod of one of the "
				"following types: sepa_debit. Alternatively update the allowed "
				"payment_method_types for this PaymentIntent to include \"card\".");
	/* the minimum in the merchant's settlement terms is checked before the card is touched
	 * (the rates may have changed since the intent was created) */
	const char *off = param_str(r, "off_session");
	/* a reader's card is never sent to 3-D Secure: asked for, it declines as off session */
	bool off_session = c->action_off_session || c->present ||
			   (off && (strcasecmp(off, "true") == 0 || strcmp(off, "one_off") == 0 ||
				    strcmp(off, "recurring") == 0));
	if (source_api_id(pm_ref) && source_api_charge_prepare(r, pm_ref, pi->customer, pi->amount,
							       pi->currency, &c->src) != 0)
		return -1;
	if (payments_card_authorize_email(r, pm_ref, "payment_method", pi->amount, pi->currency,
					  pi->customer, pi->receipt_email, c->authenticated,
					  off_session, true, &c->ca) != 0)
		return -1;
	if (c->ct)
		confirmation_token_card(c->ct, &c->ca);
	/* the CVC recollected for this payment goes to the acquirer with the card, whose rule
	 * for a CVC given is `pass` unless its own answer was already `fail` (testacq.c) */
	if (c->cvc_token && !c->ca.decision.cvc_check)
		c->ca.decision.cvc_check = "pass";
	/* a card_present PaymentMethod pays only through a reader, and a reader only with one */
	if (c->ca.card.present != c->present)
		return req_fail(r, ERR_PARAM_BAD, "payment_method",
				c->present
				    ? "The PaymentMethod provided is not a card_present one."
				    : "A card_present PaymentMethod is confirmed by a Terminal "
				      "reader (POST /v1/terminal/readers/{id}/"
				      "process_payment_intent), not through the API.");
	if (pi->customer && c->ca.customer[0] && strcmp(pi->customer, c->ca.customer) != 0)
		return req_fail(r, ERR_PARAM_BAD, "payment_method",
				"The provided PaymentMethod belongs to another customer.");
	/* request_three_d_secure=any: the merchant asks for 3-D Secure whatever the card or the
	 * risk model would decide; a payment already authenticated goes on */
	bool needs_3ds =
	    c->ca.needs_3ds || (!c->authenticated && pi->pmo_card_request_three_d_secure &&
				strcmp(pi->pmo_card_request_three_d_secure, "any") == 0);
	/* a card whose 3-D Secure is optional and errors when attempted: Stripe does not hold a
	 * payment for an authentication that cannot run, it authorizes it without one */
	if (needs_3ds && !c->ca.needs_3ds && c->ca.card.behavior == ACQ_3DS_OPTIONAL_ERROR) {
		needs_3ds = false;
		c->tds_error = true;
	}
	if (needs_3ds && (!off_session || c->action_off_session) && c->ca.decision.approved) {
		bool error_on_action = false;
		param_bool(r, "error_on_requires_action", &error_on_action);
		if (!error_on_action)
			c->require_3ds = true;
		else
			off_session =
			    true; /* answer like an off-session payment: authentication_required */
	}
	if (needs_3ds && off_session && !c->require_3ds) {
		c->ca.decision.approved = false;
		c->ca.decision.err = ERR_AUTHENTICATION_REQUIRED;
		snprintf(c->ca.decision.decline_code, sizeof(c->ca.decision.decline_code), "%s",
			 "authentication_required");
		c->ca.decision.network_status = "declined_by_network";
		c->ca.decision.outcome_type = "issuer_declined";
		c->ca.decision.reason = "authentication_required";
	}
	const char *cm = param_str(r, "capture_method");
	if (cm)
		pi->capture_method = cm;
	/* the card's own capture_method, when set, overrides the intent's (Stripe's rule for a
	 * payment method type's options) */
	c->capture = strcmp(pi_capture_method(pi, "card"), "manual") != 0;
	const char *email = param_str(r, "receipt_email");
	if (email)
		pi->receipt_email = *email ? email : NULL;
	const char *ru = param_str(r, "return_url");
	if (ru)
		pi->return_url = ru;
	if (pi->return_url && strncmp(pi->return_url, "https://", 8) != 0 &&
	    strncmp(pi->return_url, "http://", 7) != 0)
		return req_fail(r, ERR_URL_INVALID, "return_url",
				"Invalid URL: the return_url must be an absolute http(s) URL.");
	c->fx = app_fx_acquire(r->app);
	c->pi0 = c->pi;
	buf_init(&c->created_packed, BUF_MAX_DEFAULT);
	buf_init(&c->succeeded_charge_packed, BUF_MAX_DEFAULT);
	buf_init(&c->succeeded_pi_packed, BUF_MAX_DEFAULT);
	buf_init(&c->prepared_packed, BUF_MAX_DEFAULT);
	int rc = 0;
	if (c->insert_first) {
		/* nothing expanded: the rendering reads nothing from the store */
		c->created_json =
		    pi_json(NULL, &r->arena, r->merchant_id, r->livemode, &c->pi0, &c->created_len);
		if (!c->created_json)
			rc = req_fail(r, ERR_API, NULL, NULL);
		else
			payments_pack(r, c->created_json, c->created_len, &c->created_packed);
	}
	if (rc == 0 && prerender_succeeded(c) != 0)
		rc = -1;
	if (rc == 0 && c->succeeded_charge_json && c->succeeded_pi_json) {
		payments_pack(r, c->succeeded_charge_json, c->succeeded_charge_len,
			      &c->succeeded_charge_packed);
		payments_pack(r, c->succeeded_pi_json, c->succeeded_pi_len,
			      &c->succeeded_pi_packed);
	}
	if (rc == 0)
		rc = req_write(r, confirm_fn, c);
	buf_release(&c->created_packed);
	buf_release(&c->succeeded_charge_packed);
	buf_release(&c->succeeded_pi_packed);
	buf_release(&c->prepared_packed);
	fx_table_free(c->fx);
	c->fx = NULL;
	return rc;
}

/* ---- handlers ---- */

/* The return_url a confirmation will have: the request's, else what the intent (or its
 * confirmation token) already holds. */
static const char *ru_or(struct req *r, const char *held)
{
	const char *ru = param_str(r, "return_url");
	return ru ? ru : held;
}

/* payment_method_types of a create, an update or a confirm: the types named replace the
 * intent's (computed ones too: it now offers what it was given). 0, or -1 with r->err. */
static int types_apply(struct req *r, struct payment_intent *pi)
{
	unsigned types;
	int got = pm_types_param(r, "payment_method_types", "payment_method_types",
				 PMT_ALL | PMT_CUSTOMER_BALANCE | PMT_CARD_PRESENT,
				 "Tender supports", false, &types);
	if (got <= 0)
		return got;
	/* NULL keeps the stored form of a card-only intent (["card"]) */
	pi->payment_method_types = NULL;
	if (types != PMT_CARD && !(pi->payment_method_types = pm_types_arena_json(r, types)))
		return -1;
	pi->automatic_payment_methods = NULL;
	pi->payment_method_configuration = pi->payment_method_configuration_parent = NULL;
	return 0;
}

/* An automatic intent's payment_method_types computed again from its configuration (recompute,
 * or excluded_payment_method_types given), leaving out the types excluded; an intent given its
 * types explicitly cannot also exclude one of them (Stripe's exclusion narrows what dynamic
 * payment methods choose). db as apply_common's. 0, or -1 with r->err. */
static int excluded_apply(struct req *r, struct db *db, struct payment_intent *pi, bool recompute)
{
	unsigned excluded = pi_details_excluded(pi->details);
	if (pi->automatic_payment_methods) {
		if (!recompute && !param_present(r, "excluded_payment_method_types"))
			return 0;
		return apm_types(r, db, &pi->payment_method_configuration,
				 &pi->payment_method_configuration_parent,
				 pi->automatic_payment_methods, PMT_ALL & ~excluded, pi->currency,
				 pi->capture_method && strcmp(pi->capture_method, "manual") == 0,
				 "PaymentIntent", &pi->payment_method_types);
	}
	if (!excluded)
		return 0;
	unsigned both = pm_types_from_json(pi->payment_method_types, PMT_CARD) & excluded;
	if (!both)
		return 0;
	char names[256];
	return req_fail(r, ERR_PARAM_BAD, "excluded_payment_method_types",
			"These payment method types are in both payment_method_types and "
			"excluded_payment_method_types: %s. Exclude types only with "
			"automatic_payment_methods, or leave them out of payment_method_types.",
			pm_types_list(both, names, sizeof(names)) ? names : "given");
}

/* create and update; db: the update's write (NULL on create: the configuration is read in a read
 * of its own) */
static int apply_common(struct req *r, struct db *db, struct payment_intent *pi)
{
	pi->customer = str_update(r, "customer", pi->customer);
	pi->description = str_update(r, "description", pi->description);
	pi->receipt_email = str_update(r, "receipt_email", pi->receipt_email);
	pi->setup_future_usage = str_update(r, "setup_future_usage", pi->setup_future_usage);
	pi->statement_descriptor = str_update(r, "statement_descriptor", pi->statement_descriptor);
	pi->statement_descriptor_suffix =
	    str_update(r, "statement_descriptor_suffix", pi->statement_descriptor_suffix);
	const char *cm = param_str(r, "capture_method");
	if (cm)
		pi->capture_method = cm;
	if (pmo_apply(r, pi) != 0)
		return -1;
	if (shipping_from_params(r, "shipping", &pi->shipping) != 0)
		return -1;
	/* automatic_payment_methods: create only (the update's parameters have none) */
	const char *allow_redirects;
	int got_apm = apm_param(r, &allow_redirects);
	if (got_apm < 0)
		return -1;
	if (got_apm) {
		pi->automatic_payment_methods = allow_redirects;
		const char *pmc = param_str(r, "payment_method_configuration");
		pi->payment_method_configuration = allow_redirects && pmc && *pmc ? pmc : NULL;
	}
	if (types_apply(r, pi) != 0)
		return -1;
	if (pi_details_apply(r, db, pi, pi->amount, param_present(r, "amount")) != 0)
		return -1;
	/* computed from the configuration on create, and again when the currency, the
	 * capture_method (manual keeps the types that can be captured later) or the types
	 * excluded change */
	if (excluded_apply(r, db, pi,
			   got_apm || param_present(r, "currency") ||
			       param_present(r, "capture_method")) != 0)
		return -1;
	unsigned types = pm_types_from_json(pi->payment_method_types, PMT_CARD);
	if (pm_types_check_currency(r, types, pi->currency, "payment_method_types") != 0 ||
	    pm_types_check_manual(r, types, pi->capture_method, "capture_method", false) != 0)
		return -1;
	return metadata_apply(r, pi->metadata, "metadata", &pi->metadata);
}

/*
 * Connect: a destination charge (transfer_data[destination], a connected account of this
 * merchant) transfers what it captures, or transfer_data[amount], to that account, which pays
 * application_fee_amount back out of it (payments/connect.h). Checked on create against the
 * merchant's connected accounts. A charge in a currency other than the platform's settlement
 * currency is converted at capture, and its transfer and fee with it, at the capture's rate
 * (payments/flow.c, connect_settle): they move the funds in the currency they are in.
 */
/* Whether the request names any Connect parameter: one pass over its top-level names, so that
 * the payments that have none (nearly all) skip the lookups below. */
static bool connect_params_present(const struct req *r)
{
	for (const struct form_node *n = r->params ? r->params->first_child : NULL; n; n = n->next)
		if ((n->key[0] == 'a' && strcmp(n->key, "application_fee_amount") == 0) ||
		    (n->key[0] == 't' && (strcmp(n->key, "transfer_data") == 0 ||
					  strcmp(n->key, "transfer_group") == 0)) ||
		    (n->key[0] == 'o' && strcmp(n->key, "on_behalf_of") == 0))
			return true;
	return false;
}

/* The Connect parameters of a create (create) or an update onto pi->connect, checked. */
static int connect_apply(struct req *r, struct payment_intent *pi, bool create)
{
	if (!connect_params_present(r))
		return 0;
	struct payment_connect *c = &pi->connect;
	if (create) {
		c->destination = param_str(r, "transfer_data.destination");
		c->on_behalf_of = param_str(r, "on_behalf_of");
		if (c->on_behalf_of && !*c->on_behalf_of)
			c->on_behalf_of = NULL;
	}
	if (param_present(r, "application_fee_amount") &&
	    !param_int(r, "application_fee_amount", &c->application_fee_amount))
		c->application_fee_amount = 0; /* "" unsets it */
	param_int(r, "transfer_data.amount", &c->transfer_amount);
	const char *group = param_str(r, "transfer_group");
	if (group)
		c->transfer_group = *group ? group : NULL;
	static const struct connect_params params = {"PaymentIntent", "transfer_data[destination]",
						     "application_fee_amount",
						     "transfer_data[amount]"};
	if (payments_connect_check_terms(r, c, pi->amount, &params) != 0)
		return -1;
	if (!create)
		return 0;
	return payments_connect_check_accounts(r, c, pi->currency, &params);
}

struct create_ctx {
	struct req *r;
	struct payment_intent pi;
};

static int create_fn(struct db *db, void *p)
{
	struct create_ctx *c = p;
	struct req *r = c->r;
	/* an unconfirmed intent keeps its payment_method as sent: it must be this merchant's */
	if (payments_pm_check_owned(r, db, c->pi.payment_method, "payment_method") != 0)
		return -1;
	if (pi_insert(db, r->merchant_id, &c->pi) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (emit_pi(r, db, &c->pi, "payment_intent.created") != 0)
		return -1;
	return render_response(r, db, &c->pi);
}

/*
 * payment_method_data: the card to pay with, given in the request instead of a PaymentMethod id.
 * Stripe makes a PaymentMethod of it and the intent names that one; so does this, in a durable
 * write of its own before the payment's (pm_create_from_data), and the payment then goes on as
 * with its id. Replays of the request answer from the payment's saved result and make nothing
 * again. *pm: the payment_method parameter, replaced by the new id. 0, or -1 with r->err.
 */
static int pm_from_data(struct req *r, const char **pm)
{
	if (!param_present(r, "payment_method_data"))
		return 0;
	if (*pm && **pm)
		return req_fail(r, ERR_PARAM_BAD, "payment_method_data",
				"You may only specify one of these parameters: payment_method, "
				"payment_method_data.");
	char id[ID_MAX];
	if (pm_create_from_data(r, "payment_method_data", id) != 0)
		return -1;
	*pm = arena_strdup(&r->arena, id);
	return *pm ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/*
 * confirmation_token (create with confirm=true, confirm): the token's card is the payment
 * method (confirmation_tokens.c), and its setup_future_usage, shipping and return_url apply to
 * the intent, unless the request gives its own; the intent's write uses the token up
 * (confirm_body). *pm: the payment method parameter, replaced by what the token pays with when
 * the request names none. 0, or -1 with r->err.
 */
static int ctoken_apply(struct req *r, struct confirm_ctx *c, const char **pm)
{
	const char *id = param_str(r, "confirmation_token");
	if (!id || !*id)
		return 0;
	struct ctoken_use *ct = arena_zalloc(&r->arena, sizeof(*ct));
	if (!ct)
		return req_fail(r, ERR_API, NULL, NULL);
	if (confirmation_token_resolve(r, id, ct) != 0)
		return -1;
	/* as on Stripe, what the request gives itself takes precedence over the token's */
	struct payment_intent *pi = &c->pi;
	if (ct->setup_future_usage && !param_present(r, "setup_future_usage"))
		pi->setup_future_usage = ct->setup_future_usage;
	if (ct->shipping && !param_present(r, "shipping"))
		pi->shipping = ct->shipping;
	if (ct->return_url && !param_str(r, "return_url"))
		pi->return_url = ct->return_url;
	c->ct = ct;
	if ((*pm && **pm) || param_present(r, "payment_method_data"))
		ct->billing_details = ct->pm_metadata = NULL; /* the token's card is not used */
	else
		*pm = ct->pm_ref;
	return 0;
}

static int h_create(struct req *r)
{
	struct confirm_ctx c;
	memset(&c, 0, sizeof(c));
	c.r = r;
	struct payment_intent *pi = &c.pi;
	int64_t amount = 0;
	param_int(r, "amount", &amount);
	if (payments_check_amount(r, amount, "currency", pi->currency, "amount") != 0)
		return -1;
	id_new_at(pi->id, "pi_", r->now);
	char secret[32];
	id_random_base62(secret, 24);
	pi->client_secret = arena_printf(&r->arena, "%s_secret_%s", pi->id, secret);
	pi->created = r->now;
	pi->version = 1;
	pi->amount = amount;
	pi->status = "requires_payment_method";
	pi->capture_method = "automatic";
	pi->confirmation_method =
	    param_str(r, "confirmation_method") ? param_str(r, "confirmation_method") : "automatic";
	pi->metadata = "{}";
	if (apply_common(r, NULL, pi) != 0)
		return -1;
	if (require_customer(r, pi->customer) != 0)
		return -1;
	if (connect_apply(r, pi, true) != 0)
		return -1;
	/* an automatic intent's configuration was read with its types (apm_types) */
	const char *pmc = param_str(r, "payment_method_configuration");
	if (pmc && *pmc && !pi->automatic_payment_methods &&
	    payment_method_configuration_known(r, pmc) != 0)
		return -1;
	const char *pm = param_str(r, "payment_method");
	if (source_api_pi_source(r, &pm) != 0)
		return -1;
	bool confirm = false;
	param_bool(r, "confirm", &confirm);
	if (param_present(r, "confirmation_token") && !confirm)
		return req_fail(r, ERR_PARAM_BAD, "confirmation_token",
				"confirmation_token can only be used when confirm=true.");
	if (param_present(r, "mandate") && !confirm)
		return req_fail(r, ERR_PARAM_BAD, "mandate",
				"mandate can only be used when confirm=true.");
	if (payments_radar_options_check(r) != 0)
		return -1;
	if (ctoken_apply(r, &c, &pm) != 0)
		return -1;
	/* before anything is made (payment_method_data's PaymentMethod) */
	if (confirm && apm_check_return_url(r, pi->automatic_payment_methods,
					    ru_or(r, pi->return_url), "Payment Intent") != 0)
		return -1;
	/* no card is stored for an amount the payment could not take */
	bool minimum_checked = param_present(r, "payment_method_data");
	if (minimum_checked &&
	    (payments_check_minimum(r, pi->amount, pi->currency, "currency", "amount") != 0 ||
	     pm_from_data(r, &pm) != 0))
		return -1;
	if (pm && *pm)
		pi->status = "requires_confirmation";
	const char *ru = param_str(r, "return_url");
	if (ru)
		pi->return_url = ru;
	if (confirm) {
		/* confirm_intent checks the minimum */
		c.insert_first = true;
		pi->status = "requires_confirmation";
		return confirm_intent(r, &c, pm);
	}
	if (!minimum_checked &&
	    payments_check_minimum(r, pi->amount, pi->currency, "currency", "amount") != 0)
		return -1;
	pi->payment_method = pm && *pm ? pm : NULL;
	/* a PaymentMethod, a customer's card source or a source, as update and confirm take
	 * (create_fn checks it is the merchant's own) */
	if (pi->payment_method && strncmp(pi->payment_method, "pm_", 3) != 0 &&
	    strncmp(pi->payment_method, "card_", 5) != 0 && !source_api_id(pi->payment_method))
		return req_fail(r, ERR_PARAM_BAD, "payment_method",
				"Invalid payment_method: expected a PaymentMethod id (pm_…).");
	struct create_ctx cc = {.r = r, .pi = *pi};
	return req_write(r, create_fn, &cc);
}

int payment_intents_checkout(struct req *r, struct pi_checkout *co)
{
	struct confirm_ctx c;
	memset(&c, 0, sizeof(c));
	c.r = r;
	struct payment_intent *pi = &c.pi;
	str_copy(pi->currency, sizeof(pi->currency), co->currency);
	if (payments_check_amount(r, co->amount, NULL, pi->currency, "amount") != 0)
		return -1;
	if (co->id[0])
		str_copy(pi->id, sizeof(pi->id), co->id);
	else
		id_new_at(pi->id, "pi_", r->now);
	char secret[32];
	id_random_base62(secret, 24);
	pi->client_secret = arena_printf(&r->arena, "%s_secret_%s", pi->id, secret);
	pi->created = r->now;
	pi->version = 1;
	pi->amount = co->amount;
	pi->status = "requires_confirmation";
	pi->capture_method = co->capture_method ? co->capture_method : "automatic";
	pi->confirmation_method = "automatic";
	pi->description = co->description;
	pi->metadata = co->metadata ? co->metadata : "{}";
	pi->return_url = co->return_url;
	pi->customer = co->customer;
	pi->checkout_session = co->checkout_session;
	pi->shipping = co->shipping;
	pi->pmo_card_request_three_d_secure = co->request_three_d_secure;
	pi->setup_future_usage = co->setup_future_usage;
	pi->statement_descriptor = co->statement_descriptor;
	pi->statement_descriptor_suffix = co->statement_descriptor_suffix;
	pi->receipt_email = co->receipt_email;
	if (co->connect) /* a payment link's terms, or its session's */
		pi->connect = *co->connect;
	if (!pi->client_secret)
		return req_fail(r, ERR_API, NULL, NULL);
	c.insert_first = true;
	int rc = confirm_intent(r, &c, co->pm_id);
	/* a decline commits the failed attempt and answers with its card error */
	if (rc == 0 && r->err.set)
		rc = -1;
	str_copy(co->id, sizeof(co->id), pi->id);
	co->status = c.pi.status;
	co->challenge_url =
	    rc == 0 && status_is(&c.pi, "requires_action") && c.pi.three_d_secure_token
		? challenge_url(r, &c.pi)
		: NULL;
	return rc;
}

struct load_ctx {
	struct req *r;
	const char *id;
	struct payment_intent pi;
};

static int load_fn(struct db *db, void *p)
{
	struct load_ctx *x = p;
	int rc = pi_load(db, &x->r->arena, x->r->merchant_id, x->id, &x->pi);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "payment_intent", x->id, "intent");
	return rc == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

/* Where the browser goes after a confirmation left pi in requires_action: the 3-D Secure page,
 * else the bank's or lender's page its next_action names (NULL: none). */
static const char *action_url(struct req *r, const struct payment_intent *pi)
{
	if (!status_is(pi, "requires_action"))
		return NULL;
	if (pi->three_d_secure_token)
		return challenge_url(r, pi);
	json_t *na = pi->next_action ? json_loads(pi->next_action, 0, NULL) : NULL;
	const char *u =
	    json_string_value(json_object_get(json_object_get(na, "redirect_to_url"), "url"));
	const char *out = u ? arena_strdup(&r->arena, u) : NULL;
	json_decref(na);
	return out;
}

int payment_intents_checkout_next(struct req *r, const struct payment_intent *next,
				  struct payment_intent *ret)
{
	struct load_ctx x = {.r = r, .id = next->id};
	if (req_read(r, load_fn, &x) != 0)
		return -1;
	*ret = x.pi;
	struct payment_intent *pi = ret;
	if (!pi->checkout_session || !next->checkout_session ||
	    strcmp(pi->checkout_session, next->checkout_session) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!status_is(pi, "requires_payment_method") && !status_is(pi, "requires_action"))
		return unexpected_state(r, "confirm", pi,
					"requires_payment_method, requires_action");
	/* what this attempt says (the total with the shipping chosen now, the customer the
	 * attempt made, the form's return URL and setup_future_usage); the rest is the
	 * session's, as when the intent was made */
	pi->amount = next->amount;
	pi->description = next->description;
	pi->metadata = next->metadata;
	pi->return_url = next->return_url;
	if (next->customer)
		pi->customer = next->customer;
	pi->shipping = next->shipping;
	pi->setup_future_usage = next->setup_future_usage;
	pi->statement_descriptor = next->statement_descriptor;
	pi->statement_descriptor_suffix = next->statement_descriptor_suffix;
	pi->receipt_email = next->receipt_email;
	pi->pmo_card_request_three_d_secure = next->pmo_card_request_three_d_secure;
	pi->pmo_sepa_setup_future_usage = next->pmo_sepa_setup_future_usage;
	pi->pmo_sepa_reference_prefix = next->pmo_sepa_reference_prefix;
	pi->pmo_ideal_setup_future_usage = next->pmo_ideal_setup_future_usage;
	pi->pmo_bancontact_setup_future_usage = next->pmo_bancontact_setup_future_usage;
	/* the session's types (an intent its card form made first names only card) */
	if (next->payment_method_types)
		pi->payment_method_types = next->payment_method_types;
	return 0;
}

int payment_intents_checkout_again(struct req *r, const struct payment_intent *next,
				   const char *pm_id, const char **ret_url)
{
	*ret_url = NULL;
	struct confirm_ctx c;
	memset(&c, 0, sizeof(c));
	c.r = r;
	if (payment_intents_checkout_next(r, next, &c.pi) != 0)
		return -1;
	c.insert_first = false;
	int rc = confirm_intent(r, &c, pm_id);
	/* a decline commits the failed attempt and answers with its card error */
	if (rc == 0 && r->err.set)
		rc = -1;
	if (rc != 0)
		return -1;
	struct load_ctx x = {.r = r, .id = next->id};
	if (req_read(r, load_fn, &x) != 0)
		return -1;
	*ret_url = action_url(r, &x.pi);
	return 0;
}

/*
 * An invoice's payment (subscriptions.c): an ordinary PaymentIntent for the invoice's amount,
 * off session, that names the invoice, confirmed through the same two halves as any other
 * (confirm_intent), so its charge, ledger entries and events are every payment's. The invoice's
 * own rows go in the same write (pv->before, then invoice_payment_settled, then pv->answer).
 */
struct invoice_create_ctx {
	struct req *r;
	struct pi_invoice *pv;
	struct payment_intent pi;
};

/* default_incomplete (or no payment method): the intent is made, not confirmed */
static int invoice_create_fn(struct db *db, void *p)
{
	struct invoice_create_ctx *x = p;
	struct req *r = x->r;
	if (x->pv->before && x->pv->before(r, db, x->pv->ctx) != 0)
		return -1;
	if (pi_insert(db, r->merchant_id, &x->pi) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (emit_pi(r, db, &x->pi, "payment_intent.created") != 0)
		return -1;
	return x->pv->answer ? x->pv->answer(r, db, x->pv->ctx, 0) : 0;
}

int payment_intents_invoice(struct req *r, struct pi_invoice *pv)
{
	/* a customer's bank account source (ba_…, a subscription's or customer's default_source,
	 * or pay's source): Stripe debits one through a PaymentIntent only under a mandate, which
	 * Tender's legacy bank accounts never have (their ACH debits are POST /v1/charges'), so
	 * its answer is Stripe's for a missing mandate; nothing is written */
	if (pv->pm_id && bank_source_id(pv->pm_id))
		return req_fail(r, ERR_PARAM_BAD, NULL,
				"This PaymentIntent requires a mandate, but no existing mandate "
				"was found. Collect mandate acceptance from the customer and try "
				"again, providing acceptance data in the mandate_data parameter.");
	struct confirm_ctx c;
	memset(&c, 0, sizeof(c));
	c.r = r;
	c.inv = pv;
	c.present = pv->present;
	c.action_off_session = !pv->present;
	struct payment_intent *pi = &c.pi;
	int rc;
	if (pv->existing) {
		struct load_ctx x = {.r = r, .id = pv->existing};
		if (req_read(r, load_fn, &x) != 0)
			return -1;
		c.pi = x.pi;
		if (!status_is(pi, "requires_payment_method") &&
		    !status_is(pi, "requires_confirmation") && !status_is(pi, "requires_action"))
			return unexpected_state(r, "confirm", pi,
						"requires_payment_method, requires_confirmation, "
						"requires_action");
		rc = confirm_intent(r, &c, pv->pm_id ? pv->pm_id : pi->payment_method);
	} else {
		str_copy(pi->currency, sizeof(pi->currency), pv->currency);
		if (payments_check_amount(r, pv->amount, NULL, pi->currency, "amount") != 0)
			return -1;
		if (pv->id[0])
			str_copy(pi->id, sizeof(pi->id), pv->id);
		else
			id_new_at(pi->id, "pi_", r->now);
		char secret[32];
		id_random_base62(secret, 24);
		pi->client_secret = arena_printf(&r->arena, "%s_secret_%s", pi->id, secret);
		pi->created = r->now;
		pi->version = 1;
		pi->amount = pv->amount;
		pi->payment_method = pv->pm_id;
		pi->status = pv->pm_id ? "requires_confirmation" : "requires_payment_method";
		pi->capture_method = "automatic";
		pi->confirmation_method = "automatic";
		pi->description = pv->description;
		pi->metadata = "{}";
		pi->customer = pv->customer;
		pi->invoice = pv->invoice;
		pi->return_url = pv->return_url;
		pi->checkout_session = pv->checkout_session;
		pi->statement_descriptor = pv->statement_descriptor;
		/* Stripe saves an invoice's card for the subscription's later payments */
		pi->setup_future_usage = "off_session";
		/* Connect terms: given by the invoice's maker, else its subscription's or
		 * quote's (an invoice paid by hand, or finalized and charged by the scheduler) */
		if (pv->connect)
			pi->connect = *pv->connect;
		else if (pv->invoice &&
			 invoice_connect_read(r, pv->invoice, pv->amount, &pi->connect) != 0)
			return -1;
		if (!pi->client_secret)
			return req_fail(r, ERR_API, NULL, NULL);
		if (!pv->confirm || !pv->pm_id) {
			struct invoice_create_ctx x = {.r = r, .pv = pv, .pi = *pi};
			rc = req_write(r, invoice_create_fn, &x);
		} else {
			c.insert_first = true;
			rc = confirm_intent(r, &c, pv->pm_id);
		}
	}
	str_copy(pv->id, sizeof(pv->id), pi->id);
	pv->status = c.pi.status;
	pv->challenge_url =
	    rc == 0 && status_is(&c.pi, "requires_action") && c.pi.three_d_secure_token
		? challenge_url(r, &c.pi)
		: NULL;
	return rc;
}

static int retrieve_fn(struct db *db, void *p)
{
	struct load_ctx *x = p;
	if (load_fn(db, p) != 0)
		return -1;
	return render_response(x->r, db, &x->pi);
}

static int h_retrieve(struct req *r)
{
	struct load_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, retrieve_fn, &x) == 0 ? 0 : -1;
}

static int line_items_fn(struct db *db, void *p)
{
	struct load_ctx *x = p;
	if (load_fn(db, p) != 0)
		return -1;
	return pi_details_line_items_page(x->r, x->pi.id, x->pi.details, req_json(x->r));
}

static int h_line_items(struct req *r)
{
	struct load_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, line_items_fn, &x) == 0 ? 0 : -1;
}

static int h_confirm(struct req *r)
{
	struct load_ctx x = {.r = r, .id = r->args[0]};
	if (req_read(r, load_fn, &x) != 0)
		return -1;
	struct confirm_ctx c;
	memset(&c, 0, sizeof(c));
	c.r = r;
	c.pi = x.pi;
	/* the browser's confirmation (Stripe.js, a publishable key) proves it holds the intent's
	 * client_secret; a secret key may send it too, and it must then be this intent's */
	if (payments_client_secret_check(r, x.pi.client_secret, "PaymentIntent") != 0)
		return -1;
	if (!status_is(&c.pi, "requires_payment_method") &&
	    !status_is(&c.pi, "requires_confirmation") && !status_is(&c.pi, "requires_action"))
		return unexpected_state(r, "confirm", &c.pi,
					"requires_payment_method, requires_confirmation, "
					"requires_action");
	if (payments_radar_options_check(r) != 0)
		return -1;
	/* the types the confirmation may use, as an update would set them */
	if (types_apply(r, &c.pi) != 0)
		return -1;
	if (pi_details_apply(r, NULL, &c.pi, c.pi.amount, false) != 0 ||
	    excluded_apply(r, NULL, &c.pi, false) != 0)
		return -1;
	if (param_present(r, "payment_method_types")) {
		unsigned types = pm_types_from_json(c.pi.payment_method_types, PMT_CARD);
		if (pm_types_check_currency(r, types, c.pi.currency, "payment_method_types") != 0 ||
		    pm_types_check_manual(r, types, c.pi.capture_method, "capture_method", false) !=
			0)
			return -1;
	}
	const char *pm = param_str(r, "payment_method");
	if (ctoken_apply(r, &c, &pm) != 0 ||
	    apm_check_return_url(r, c.pi.automatic_payment_methods, ru_or(r, c.pi.return_url),
				 "Payment Intent") != 0 ||
	    pm_from_data(r, &pm) != 0)
		return -1;
	if (!pm || !*pm)
		pm = c.pi.payment_method;
	/* create applies them with the rest (apply_common); the 3-D Secure completion's confirm
	 * keeps what the intent holds */
	if (pmo_apply(r, &c.pi) != 0)
		return -1;
	return confirm_intent(r, &c, pm);
}

struct update_ctx {
	struct req *r;
	const char *id;
	struct fx_table *fx; /* capture: the rates it converts with; NULL otherwise */
	const char *pm_data; /* update: payment_method_data's PaymentMethod, made before it */
};

static int update_fn(struct db *db, void *p)
{
	struct update_ctx *u = p;
	struct req *r = u->r;
	struct payment_intent pi;
	int rc = pi_load(db, &r->arena, r->merchant_id, u->id, &pi);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "payment_intent", u->id, "intent");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	bool editable = status_is(&pi, "requires_payment_method") ||
			status_is(&pi, "requires_confirmation") ||
			status_is(&pi, "requires_action");
	/* amount_details and the rest describe the payment to come: a capture takes its own */
	bool money_change = param_present(r, "amount") || param_present(r, "currency") ||
			    param_present(r, "payment_method") || param_present(r, "customer") ||
			    param_present(r, "capture_method") || u->pm_data ||
			    pi_details_present(r);
	if (money_change && !editable)
		return req_fail(
		    r, ERR_PAYMENT_INTENT_UNEXPECTED_STATE, NULL,
		    "You cannot update this PaymentIntent because it has a status of %s. "
		    "Only description, metadata, receipt_email and shipping can be "
		    "updated.",
		    pi.status);
	if ((money_change || param_present(r, "payment_method_types")) &&
	    pi_allows_type(&pi, "customer_balance") && cash_pi_locked(r, db, pi.id) != 0)
		return -1;
	bool connect_change = connect_params_present(r);
	if (connect_change && !editable)
		return req_fail(r, ERR_PAYMENT_INTENT_UNEXPECTED_STATE, NULL,
				"You cannot change the transfer of this PaymentIntent because it "
				"has a status of %s.",
				pi.status);
	int64_t amount;
	if (param_int(r, "amount", &amount) == 1 || param_present(r, "currency")) {
		if (!param_int(r, "amount", &amount))
			amount = pi.amount;
		char cur[8];
		str_copy(cur, sizeof(cur), pi.currency);
		if (payments_check_amount(r, amount,
					  param_present(r, "currency") ? "currency" : NULL, cur,
					  "amount") != 0 ||
		    payments_check_minimum_db(r, db, amount, cur, "currency", "amount") != 0)
			return -1;
		pi.amount = amount;
		memcpy(pi.currency, cur, sizeof(pi.currency));
	}
	if (apply_common(r, db, &pi) != 0)
		return -1;
	if (connect_change && connect_apply(r, &pi, false) != 0)
		return -1;
	const char *pm = u->pm_data ? u->pm_data : param_str(r, "payment_method");
	if (pm) {
		pi.payment_method = *pm ? pm : NULL;
		/* kept unconfirmed: it must be this merchant's (not another's pm_…) */
		if (payments_pm_check_owned(r, db, pi.payment_method, "payment_method") != 0)
			return -1;
		if (status_is(&pi, "requires_payment_method") && pi.payment_method)
			pi.status = "requires_confirmation";
	}
	if (pi.customer && param_present(r, "customer")) {
		struct db_stmt *st = db_prepare(db, SQL_CUSTOMER_EXISTS);
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, pi.customer, -1);
		int found = db_step(st) == DB_ROW;
		db_reset(st);
		if (!found)
			return req_fail_missing(r, "customer", pi.customer, "customer");
	}
	if (pi_update(db, r->merchant_id, &pi) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return render_response(r, db, &pi);
}

static int h_update(struct req *r)
{
	struct update_ctx u = {r, r->args[0], NULL, NULL};
	/* payment_method_data: the PaymentMethod is made (a write of its own, as on create) only
	 * for an intent that can still take one; the update then names it */
	if (param_present(r, "payment_method_data")) {
		struct load_ctx x = {.r = r, .id = r->args[0]};
		if (req_read(r, load_fn, &x) != 0)
			return -1;
		if (!status_is(&x.pi, "requires_payment_method") &&
		    !status_is(&x.pi, "requires_confirmation") &&
		    !status_is(&x.pi, "requires_action"))
			return req_fail(
			    r, ERR_PAYMENT_INTENT_UNEXPECTED_STATE, NULL,
			    "You cannot update this PaymentIntent because it has a "
			    "status of %s. Only description, metadata, receipt_email and "
			    "shipping can be updated.",
			    x.pi.status);
		const char *pm = param_str(r, "payment_method");
		if (pm && !*pm)
			pm = NULL;
		if (pm_from_data(r, &pm) != 0)
			return -1;
		u.pm_data = pm;
	}
	return req_write(r, update_fn, &u);
}

/* A capture's or an incremental authorization's application_fee_amount / transfer_data[amount]:
 * the charge's Connect terms (what its capture settles) replaced, checked against `amount`, and
 * the intent shows them too. Nothing given changes nothing. 0, or -1 with r->err. */
static int capture_terms(struct req *r, struct payment_intent *pi, struct charge *ch,
			 int64_t amount)
{
	if (!param_present(r, "application_fee_amount") && !param_present(r, "transfer_data"))
		return 0;
	if (payments_connect_at_capture(r, &ch->connect, amount, false, "PaymentIntent") != 0)
		return -1;
	pi->connect = ch->connect;
	return 0;
}

static int capture_fn(struct db *db, void *p)
{
	struct update_ctx *u = p;
	struct req *r = u->r;
	struct payment_intent pi;
	int rc = pi_load(db, &r->arena, r->merchant_id, u->id, &pi);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "payment_intent", u->id, "intent");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!status_is(&pi, "requires_capture"))
		return req_fail(
		    r, ERR_PAYMENT_INTENT_UNEXPECTED_STATE, NULL,
		    "This PaymentIntent could not be captured because it has a status of "
		    "%s. Only a PaymentIntent with one of the following statuses may be "
		    "captured: requires_capture.",
		    pi.status);
	int64_t amount = pi.amount_capturable;
	if (param_int(r, "amount_to_capture", &amount) == 1) {
		if (amount <= 0)
			return req_fail(r, ERR_PARAM_BAD, "amount_to_capture",
					"Invalid amount_to_capture: must be at least 1.");
		if (amount > pi.amount_capturable)
			return req_fail(r, ERR_AMOUNT_TOO_LARGE, "amount_to_capture",
					"The amount to capture (%lld) is greater than the amount "
					"capturable (%lld) of this PaymentIntent.",
					(long long)amount, (long long)pi.amount_capturable);
	}
	/* the details of what this capture takes (checked against it, when given) */
	if (pi_details_apply(r, db, &pi, amount, false) != 0)
		return -1;
	struct charge ch;
	if (!pi.latest_charge ||
	    charge_load(db, &r->arena, r->merchant_id, pi.latest_charge, &ch) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* application_fee_amount / transfer_data[amount] given now are the terms this capture
	 * settles (the charge and its intent keep them, as Stripe shows them after) */
	if (capture_terms(r, &pi, &ch, pi.amount) != 0)
		return -1;
	struct ledger_pricing pricing;
	char cur_buf[8];
	if (payments_pricing(r, db, &pricing, cur_buf) != 0)
		return -1;
	pricing.fx = u->fx;
	struct event_origin origin = {r->request_id, r->idempotency_key, r->livemode};
	rc = payment_capture(db, &r->arena, r->merchant_id, &ch, amount, &pricing, r->now, &origin);
	if (rc == DB_CONFLICT)
		return req_fail(r, ERR_CHARGE_ALREADY_CAPTURED, NULL,
				"Charge %s has already been captured.", ch.id);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* the rest, released, is refunded as Stripe shows it */
	if (ch.amount_released > 0 && refund_for_release(r, db, &ch, ch.amount_released) != 0)
		return -1;
	if (metadata_apply(r, pi.metadata, "metadata", &pi.metadata) != 0)
		return -1;
	pi.status = "succeeded";
	pi.amount_received = amount;
	pi.amount_capturable = 0;
	if (pi_update(db, r->merchant_id, &pi) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (emit_charge(r, db, &ch, "charge.captured") != 0 ||
	    emit_pi(r, db, &pi, "payment_intent.succeeded") != 0)
		return -1;
	return render_response(r, db, &pi);
}

static int h_capture(struct req *r)
{
	struct update_ctx u = {r, r->args[0], app_fx_acquire(r->app), NULL};
	int rc = req_write(r, capture_fn, &u);
	fx_table_free(u.fx);
	return rc;
}

/* POST …/increment_authorization: a larger hold on an authorized, uncaptured payment that
 * asked for it (payment_method_options[card][request_incremental_authorization]=if_available),
 * as a hotel or a restaurant adds to a bill; amount is the new total. */
static int increment_fn(struct db *db, void *p)
{
	struct update_ctx *u = p;
	struct req *r = u->r;
	struct payment_intent pi;
	int rc = pi_load(db, &r->arena, r->merchant_id, u->id, &pi);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "payment_intent", u->id, "intent");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!status_is(&pi, "requires_capture"))
		return req_fail(r, ERR_PAYMENT_INTENT_UNEXPECTED_STATE, NULL,
				"You cannot increment the authorization of this PaymentIntent "
				"because it has a status of %s. Only a PaymentIntent with a status "
				"of requires_capture can be incremented.",
				pi.status);
	if (!pi.pmo_card_request_incremental_authorization ||
	    strcmp(pi.pmo_card_request_incremental_authorization, "if_available") != 0)
		return req_fail(
		    r, ERR_PAYMENT_INTENT_UNEXPECTED_STATE, NULL, "%s",
		    "Incremental authorization was not requested for this "
		    "PaymentIntent: set payment_method_options[card]"
		    "[request_incremental_authorization]=if_available before confirming "
		    "it.");
	int64_t amount = 0;
	param_int(r, "amount", &amount);
	char cur[8];
	str_copy(cur, sizeof(cur), pi.currency);
	if (payments_check_amount(r, amount, NULL, cur, "amount") != 0)
		return -1;
	if (amount <= pi.amount)
		return req_fail(r, ERR_PARAM_BAD, "amount",
				"The amount to authorize (%lld) must be greater than the amount "
				"authorized now (%lld).",
				(long long)amount, (long long)pi.amount);
	/* the intent's amount changes: its amount_details must still add up to it */
	if (pi_details_apply(r, db, &pi, amount, true) != 0)
		return -1;
	struct charge ch;
	if (!pi.latest_charge ||
	    charge_load(db, &r->arena, r->merchant_id, pi.latest_charge, &ch) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* the larger hold may carry new terms for the capture to settle (checked against it) */
	if (capture_terms(r, &pi, &ch, amount) != 0)
		return -1;
	rc = payment_increment(db, r->merchant_id, &ch, amount, r->now);
	if (rc == DB_CONFLICT)
		return req_fail(r, ERR_PAYMENT_INTENT_UNEXPECTED_STATE, NULL, "%s",
				"The authorization of this PaymentIntent can no longer be "
				"incremented.");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* new Connect terms are kept on the charge its capture settles (the increment wrote
	 * only its amount) */
	if ((param_present(r, "application_fee_amount") ||
	     param_present(r, "transfer_data.amount")) &&
	    charge_update(db, r->merchant_id, &ch) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	pi.amount = amount;
	pi.amount_capturable = amount;
	pi.description = str_update(r, "description", pi.description);
	const char *sd = param_str(r, "statement_descriptor");
	if (sd)
		pi.statement_descriptor = sd;
	if (metadata_apply(r, pi.metadata, "metadata", &pi.metadata) != 0)
		return -1;
	if (pi_update(db, r->merchant_id, &pi) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (emit_pi(r, db, &pi, "payment_intent.amount_capturable_updated") != 0)
		return -1;
	return render_response(r, db, &pi);
}

static int h_increment(struct req *r)
{
	struct update_ctx u = {r, r->args[0], NULL, NULL};
	return req_write(r, increment_fn, &u);
}

static const struct param_spec increment_params[] = {
    {"amount", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {"application_fee_amount", PT_INT, 0, 0, NULL, NULL},
    {"transfer_data", PT_OBJECT, 0, 0, NULL, transfer_data_update},
    {"description", PT_STRING, PF_EMPTYABLE, 1000, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"statement_descriptor", PT_STRING, 0, 22, NULL, NULL},
    PI_DETAILS_PARAMS(0, 0),
    {NULL, 0, 0, 0, NULL, NULL},
};

static int cancel_fn(struct db *db, void *p)
{
	struct update_ctx *u = p;
	struct req *r = u->r;
	struct payment_intent pi;
	int rc = pi_load(db, &r->arena, r->merchant_id, u->id, &pi);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "payment_intent", u->id, "intent");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* a processing SEPA debit is with the bank: Stripe refuses to cancel it */
	if (status_is(&pi, "succeeded") || status_is(&pi, "canceled") ||
	    status_is(&pi, "processing"))
		return unexpected_state(r, "cancel", &pi,
					"requires_payment_method, requires_capture, "
					"requires_confirmation, requires_action, processing");
	/* an invoice's payment ends with its invoice (void it), as on Stripe: a canceled intent
	 * would leave the invoice open with nothing to pay it */
	if (pi.invoice)
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"You cannot cancel this PaymentIntent because it was created by an "
				"invoice. Void the invoice (%s) instead.",
				pi.invoice);
	if (status_is(&pi, "requires_capture") && pi.latest_charge) {
		struct charge ch;
		if (charge_load(db, &r->arena, r->merchant_id, pi.latest_charge, &ch) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		rc = payment_release(db, r->merchant_id, &ch, r->now);
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		/* "the remaining amount_capturable is automatically refunded" (Stripe) */
		if (refund_for_release(r, db, &ch, ch.amount) != 0)
			return -1;
	}
	const char *reason = param_str(r, "cancellation_reason");
	pi.status = "canceled";
	pi.cancellation_reason = reason && *reason ? reason : NULL;
	pi.canceled_at = r->now;
	pi.amount_capturable = 0;
	pi.next_action = NULL;
	/* a bank transfer's intent gives the cash applied to it back (api/cash_balance.c) */
	if (pi_allows_type(&pi, "customer_balance") && cash_pi_release(r, db, &pi) != 0)
		return -1;
	if (pi_update(db, r->merchant_id, &pi) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (emit_pi(r, db, &pi, "payment_intent.canceled") != 0)
		return -1;
	/* a Checkout Session completed unpaid while its intent waited for a bank transfer: the
	 * payment failed (checkout.session.async_payment_failed; the session stays complete and
	 * unpaid, as on Stripe) */
	if (pi.checkout_session &&
	    checkout_async_payment(db, r->merchant_id, pi.id, false, r->now) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return render_response(r, db, &pi);
}

int payment_intent_abandon(struct req *r, struct db *db, const char *id)
{
	struct payment_intent pi;
	int rc = pi_load(db, &r->arena, r->merchant_id, id, &pi);
	if (rc == DB_NOTFOUND)
		return 0;
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!status_is(&pi, "requires_action"))
		return 0;
	/* waiting for 3-D Secure: nothing was authorized, so nothing is released; waiting for a
	 * bank transfer (an invoice's, never partly funded): it waits no more */
	pi.status = "canceled";
	pi.cancellation_reason = "abandoned";
	pi.canceled_at = r->now;
	pi.next_action = NULL;
	pi.three_d_secure_token = NULL;
	if (pi_allows_type(&pi, "customer_balance") && cash_pi_release(r, db, &pi) != 0)
		return -1;
	if (pi_update(db, r->merchant_id, &pi) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return emit_pi(r, db, &pi, "payment_intent.canceled");
}

static int h_cancel(struct req *r)
{
	struct update_ctx u = {r, r->args[0], NULL, NULL};
	return req_write(r, cancel_fn, &u);
}

static const char SQL_CURSOR[] =
    "SELECT created FROM payment_intents WHERE merchant_id = $1 AND id = $2";
static const char SQL_DESC[] =
    "SELECT id FROM payment_intents WHERE merchant_id = $1 AND id > $2 AND id < $3"
    " AND ($5 IS NULL OR customer = $5) ORDER BY id DESC LIMIT $4";
static const char SQL_ASC[] =
    "SELECT id FROM payment_intents WHERE merchant_id = $1 AND id > $2 AND id < $3"
    " AND ($5 IS NULL OR customer = $5) ORDER BY id ASC LIMIT $4";
/* a customer's intents, from payment_intents_customer (list.h, list_narrow) */
static const char SQL_CUSTOMER_DESC[] =
    "SELECT id FROM payment_intents WHERE merchant_id = $1 AND customer = $5 AND id > $2"
    " AND id < $3 ORDER BY id DESC LIMIT $4";
static const char SQL_CUSTOMER_ASC[] =
    "SELECT id FROM payment_intents WHERE merchant_id = $1 AND customer = $5 AND id > $2"
    " AND id < $3 ORDER BY id ASC LIMIT $4";

static int list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	list_bind_filter(r, st, first, "customer");
	return 0;
}

static int list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	struct expand_set ex;
	payments_expand_from_req(r, &ex, "data");
	return pi_render_by_id(db, &r->arena, r->merchant_id, r->livemode, id, &ex, j);
}

static int h_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/payment_intents",
	    .object_name = "payment_intent",
	    .id_prefix = "pi_",
	    .sql_cursor = SQL_CURSOR,
	    .sql_desc = SQL_DESC,
	    .sql_asc = SQL_ASC,
	    .narrow = {{"customer", SQL_CUSTOMER_DESC, SQL_CUSTOMER_ASC}},
	    .bind_filters = list_bind,
	    .render = list_render,
	};
	return list_respond(r, &spec);
}

/* Stripe's search fields for PaymentIntents: amount, created, currency, customer, metadata,
 * status. An exact customer narrows the scan to that customer's intents. */
static const char SQL_SEARCH[] =
    "SELECT id, amount, created, currency, customer, metadata, status FROM payment_intents"
    " WHERE merchant_id = $1 AND id > $2 AND id < $3 AND ($5 IS NULL OR customer = $5)"
    " ORDER BY id DESC LIMIT $4";
static const char SQL_SEARCH_CUSTOMER[] =
    "SELECT id, amount, created, currency, customer, metadata, status FROM payment_intents"
    " WHERE merchant_id = $1 AND customer = $5 AND id > $2 AND id < $3 ORDER BY id DESC LIMIT $4";

static const struct search_field search_fields[] = {
    {"amount", SEARCH_NUMBER, false, 1, NULL},
    {"created", SEARCH_NUMBER, false, 2, NULL},
    {"currency", SEARCH_STRING, false, 3, NULL},
    {"customer", SEARCH_STRING, false, 4, NULL},
    {"metadata", SEARCH_METADATA, false, 5, NULL},
    {"status", SEARCH_STRING, false, 6, NULL},
    {NULL, 0, false, 0, NULL},
};

static int search_render(struct req *r, struct db *db, const char *id, struct json *j)
{
	return list_render(r, db, id, j, NULL);
}

static int h_search(struct req *r)
{
	static const struct search_spec spec = {
	    .url = "/v1/payment_intents/search",
	    .resource = "payment_intents",
	    .id_prefix = "pi_",
	    .fields = search_fields,
	    .sql_scan = SQL_SEARCH,
	    .sql_scan_narrow = SQL_SEARCH_CUSTOMER,
	    .prefilter = "customer",
	    .render = search_render,
	};
	return search_respond(r, &spec);
}

/* ---- the 3-D Secure challenge page (served by Tender, no API key: the token is the secret) ----
 */

struct challenge_ctx {
	struct req *r;
	const char *acct, *pi_id, *token;
	struct payment_intent pi;
	char merchant_name[256];
	bool ok;
};

static int challenge_load_fn(struct db *db, void *p)
{
	struct challenge_ctx *x = p;
	struct req *r = x->r;
	if (pi_load(db, &r->arena, x->acct, x->pi_id, &x->pi) != DB_OK)
		return 0;
	if (!challenge_token_eq(x->pi.three_d_secure_token, x->token) ||
	    strcmp(x->pi.status, "requires_action"))
		return 0;
	if (challenge_merchant_name(db, x->acct, x->merchant_name, sizeof(x->merchant_name)) != 0)
		return -1;
	x->ok = true;
	return 0;
}

static int challenge_lookup(struct req *r, struct challenge_ctx *x)
{
	x->r = r;
	x->acct = r->args[0];
	x->pi_id = r->args[1];
	x->token = r->args[2];
	str_copy(r->merchant_id, sizeof(r->merchant_id), x->acct);
	if (req_read(r, challenge_load_fn, x) != 0)
		return -1;
	if (!x->ok) {
		challenge_not_found(r);
		return 1;
	}
	return 0;
}

static int h_challenge_page(struct req *r)
{
	struct challenge_ctx x;
	memset(&x, 0, sizeof(x));
	int rc = challenge_lookup(r, &x);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	struct buf b;
	buf_init(&b, 64 * 1024);
	buf_puts(&b, "<h1>Confirm your payment</h1><p>Your bank asks you to confirm this "
		     "purchase (3-D Secure test mode).</p><dl><dt>Merchant</dt><dd>");
	html_escape(&b, x.merchant_name);
	buf_puts(&b, "</dd><dt>Amount</dt><dd>");
	html_amount(&b, x.pi.amount, x.pi.currency);
	buf_puts(&b, "</dd></dl>");
	challenge_forms(&b, arena_printf(&r->arena, "/3ds/%s/%s/%s", x.acct, x.pi_id, x.token));
	int ret = challenge_page(r, 200, "Confirm your payment", buf_cstr(&b));
	buf_release(&b);
	return ret;
}

/* Where the browser goes afterwards: return_url with Stripe's query parameters. */
static int finish_redirect(struct req *r, const struct payment_intent *pi, bool ok)
{
	return challenge_return(r, pi->return_url, "payment_intent", pi->id, pi->client_secret, ok);
}

static int h_challenge_complete(struct req *r)
{
	struct challenge_ctx x;
	memset(&x, 0, sizeof(x));
	int rc = challenge_lookup(r, &x);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	struct confirm_ctx c;
	memset(&c, 0, sizeof(c));
	c.r = r;
	c.pi = x.pi;
	c.authenticated = true;
	rc = confirm_intent(r, &c, x.pi.payment_method);
	/* the browser gets a page either way; the intent tells the merchant what happened */
	bool ok = rc == 0 && r->status == 200;
	r->err.set = false;
	return finish_redirect(r, &c.pi, ok);
}

static int fail_fn(struct db *db, void *p)
{
	struct challenge_ctx *x = p;
	struct req *r = x->r;
	/* a copy: run again (store.h), the write starts from the intent as the page read it, not
	 * from this run's changes (pi_update moves the version on) */
	struct payment_intent changed = x->pi;
	struct payment_intent *pi = &changed;
	struct payment_intent cur;
	if (pi_load(db, &r->arena, r->merchant_id, pi->id, &cur) != DB_OK ||
	    cur.version != pi->version)
		return req_fail(r, ERR_PAYMENT_INTENT_UNEXPECTED_STATE, NULL, "%s",
				"The PaymentIntent changed during authentication.");
	const struct api_error_info *info = api_error_info(ERR_PAYMENT_INTENT_AUTH_FAILURE);
	pi->last_payment_error =
	    arena_printf(&r->arena,
			 "{\"code\":\"%s\",\"doc_url\":\"https://stripe.com/docs/error-codes/%s\","
			 "\"message\":\"%s\",\"type\":\"%s\"}",
			 info->code, info->code, info->message, info->type);
	pi->status = "requires_payment_method";
	pi->payment_method = NULL;
	pi->next_action = NULL;
	pi->three_d_secure_token = NULL;
	if (!pi->last_payment_error || pi_update(db, r->merchant_id, pi) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return emit_pi(r, db, pi, "payment_intent.payment_failed");
}

static int h_challenge_fail(struct req *r)
{
	struct challenge_ctx x;
	memset(&x, 0, sizeof(x));
	int rc = challenge_lookup(r, &x);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	if (req_write(r, fail_fn, &x) != 0)
		r->err.set = false;
	return finish_redirect(r, &x.pi, false);
}

static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

const struct route payment_intents_routes[] = {
    {"POST", "/v1/payment_intents", h_create, create_params, 0},
    {"GET", "/v1/payment_intents", h_list, list_params, ROUTE_LIST},
    {"GET", "/v1/payment_intents/search", h_search, search_params, 0},
    {"GET", "/v1/payment_intents/{id}", h_retrieve, retrieve_params, 0},
    {"GET", "/v1/payment_intents/{id}/amount_details_line_items", h_line_items, no_params,
     ROUTE_LIST},
    {"POST", "/v1/payment_intents/{id}", h_update, update_params, 0},
    {"POST", "/v1/payment_intents/{id}/confirm", h_confirm, confirm_params, ROUTE_PUBLISHABLE},
    {"POST", "/v1/payment_intents/{id}/capture", h_capture, capture_params, 0},
    {"POST", "/v1/payment_intents/{id}/cancel", h_cancel, cancel_params, 0},
    {"POST", "/v1/payment_intents/{id}/increment_authorization", h_increment, increment_params, 0},
    {"GET", "/3ds/{acct}/{pi}/{token}", h_challenge_page, no_params, ROUTE_NO_AUTH | ROUTE_RAW},
    {"POST", "/3ds/{acct}/{pi}/{token}/complete", h_challenge_complete, no_params,
     ROUTE_NO_AUTH | ROUTE_RAW},
    {"POST", "/3ds/{acct}/{pi}/{token}/fail", h_challenge_fail, no_params,
     ROUTE_NO_AUTH | ROUTE_RAW},
    {NULL, NULL, NULL, NULL, 0},
};

/*
 * /v1/setup_intents: create, retrieve, update, list, confirm, cancel. A SetupIntent checks a
 * card for later payments without charging it, and saves it to its customer.
 *
 * Confirmation runs like a PaymentIntent's, in two halves. Off the writer thread: resolve the
 * payment method (a test alias or a token becomes a PaymentMethod), have the vault reveal the
 * card, let Radar score it and the acquirer verify it (payments_card_verify: no amount, nothing
 * held). Then one write re-reads the intent, refuses when its version moved meanwhile, and
 * records the outcome: succeeded (the PaymentMethod attached to the intent's customer,
 * payment_method.attached then setup_intent.succeeded), requires_action (3-D Secure, with a
 * challenge page Tender serves at /3ds-setup/…), or a failure kept in last_setup_error
 * (setup_intent.setup_failed, and a 402 card error carrying the intent). Each outcome is also a
 * SetupAttempt (setup_attempts.c) in the same write, which the intent names as latest_attempt;
 * a challenge's answer gives its outcome to the attempt that asked for it.
 *
 * iDEAL and Bancontact save a SEPA Direct Debit account through the bank: the confirmation waits
 * in requires_action on the redirect test page (api/redirect_page.c, which PaymentIntents use
 * too), whose authorization generates the sepa_debit PaymentMethod with its multi-use mandate on
 * the intent's customer and hands the outcome back here (setup_intent_redirect_outcome).
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "api/challenge.h"
#include "api/common.h"
#include "api/financial_connections.h"
#include "api/list.h"
#include "api/mandates.h"
#include "api/payments_common.h"
#include "api/payments_connect.h"
#include "api/redirect_page.h"
#include "api/resources.h"
#include "api/setup_attempts.h"
#include "payments/pm_types.h"
#include "core/str.h"
#include "http/form.h"
#include "payments/redirect.h"
#include "vault/ideal.h"
#include "vault/payment_method.h"

struct setup_intent {
	char id[ID_MAX];
	int64_t created;
	int64_t version;
	const char *status, *client_secret, *customer, *description, *metadata, *payment_method;
	const char *usage, *cancellation_reason, *last_setup_error, *next_action, *return_url;
	const char *three_d_secure_token, *request_three_d_secure;
	const char *checkout_session; /* the setup-mode Checkout Session it saves a card for */
	const char *latest_attempt;   /* its newest SetupAttempt (setup_attempts.c), or NULL */
	/* payment_method_types as a JSON array, or NULL: ["card"] */
	const char *payment_method_types;
	const char *mandate; /* a sepa_debit setup's multi-use mandate, or NULL */
	/* payment_method_options[sepa_debit][mandate_options][reference_prefix] and
	 * [us_bank_account][verification_method] (automatic | instant | microdeposits), or NULL */
	const char *pmo_sepa_reference_prefix, *pmo_ach_verification_method;
	/* [us_bank_account][financial_connections] as JSON (permissions, prefetch, return_url),
	 * or NULL */
	const char *pmo_ach_financial_connections;
	/* automatic_payment_methods[allow_redirects] ("always", "never") of an intent created with
	 * automatic_payment_methods[enabled]=true, or NULL (renders null); the configuration its
	 * payment_method_types come from (the one named, or the merchant's default) and that one's
	 * parent: payment_method_configuration_details, NULL when none */
	const char *automatic_payment_methods, *payment_method_configuration;
	const char *payment_method_configuration_parent;
	/* flow_directions (a JSON array, or NULL), attach_to_self (0: not given, 1: false, 2:
	 * true; zero-initialized intents made elsewhere have none), on_behalf_of (a
	 * connected account), single_use ({"amount","currency"} JSON: a bank debit's setup then
	 * makes a single-use mandate, single_use_mandate, instead of a multi-use one) */
	const char *flow_directions;
	int attach_to_self;
	const char *on_behalf_of, *single_use, *single_use_mandate;
};

/* ---- the row ---- */

static const char SQL_GET[] =
    "SELECT id, created, version, status, client_secret, customer, description, metadata,"
    " payment_method, usage, cancellation_reason, last_setup_error, next_action, return_url,"
    " three_d_secure_token, request_three_d_secure, checkout_session, latest_attempt,"
    " payment_method_types, mandate, pmo_sepa_reference_prefix, pmo_ach_verification_method,"
    " automatic_payment_methods, payment_method_configuration,"
    " payment_method_configuration_parent, pmo_ach_financial_connections, flow_directions,"
    " attach_to_self, on_behalf_of, single_use, single_use_mandate"
    " FROM setup_intents WHERE merchant_id = $1 AND id = $2";
static const char SQL_INSERT[] =
    "INSERT INTO setup_intents (merchant_id, id, created, version, status, client_secret,"
    " customer, description, metadata, payment_method, usage, cancellation_reason,"
    " last_setup_error, next_action, return_url, three_d_secure_token, request_three_d_secure,"
    " checkout_session, latest_attempt, payment_method_types, mandate, pmo_sepa_reference_prefix,"
    " pmo_ach_verification_method, automatic_payment_methods, payment_method_configuration,"
    " payment_method_configuration_parent, pmo_ach_financial_connections, flow_directions,"
    " attach_to_self, on_behalf_of, single_use, single_use_mandate)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,"
    " $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32)";
/* the next version of the row, only from the version it was read at ($3 is created, which
 * never changes: both statements bind the same numbers) */
static const char SQL_UPDATE[] =
    "UPDATE setup_intents SET version = $4 + 1, status = $5, client_secret = $6, customer = $7,"
    " description = $8, metadata = $9, payment_method = $10, usage = $11,"
    " cancellation_reason = $12, last_setup_error = $13, next_action = $14, return_url = $15,"
    " three_d_secure_token = $16, request_three_d_secure = $17, checkout_session = $18,"
    " latest_attempt = $19, payment_method_types = $20, mandate = $21,"
    " pmo_sepa_reference_prefix = $22, pmo_ach_verification_method = $23,"
    " automatic_payment_methods = $24, payment_method_configuration = $25,"
    " payment_method_configuration_parent = $26, pmo_ach_financial_connections = $27,"
    " flow_directions = $28, attach_to_self = $29, on_behalf_of = $30, single_use = $31,"
    " single_use_mandate = $32"
    " WHERE merchant_id = $1 AND id = $2 AND created = $3 AND version = $4";

static int si_load(struct req *r, struct db *db, const char *merchant_id, const char *id,
		   struct setup_intent *si)
{
	struct db_stmt *st = db_prepare(db, SQL_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		memset(si, 0, sizeof(*si));
		str_copy(si->id, sizeof(si->id), db_col_text(st, 0, NULL));
		si->created = db_col_int64(st, 1);
		si->version = db_col_int64(st, 2);
		si->status = col_text_dup(&r->arena, st, 3);
		si->client_secret = col_text_dup(&r->arena, st, 4);
		si->customer = col_text_dup(&r->arena, st, 5);
		si->description = col_text_dup(&r->arena, st, 6);
		si->metadata = col_text_dup(&r->arena, st, 7);
		si->payment_method = col_text_dup(&r->arena, st, 8);
		si->usage = col_text_dup(&r->arena, st, 9);
		si->cancellation_reason = col_text_dup(&r->arena, st, 10);
		si->last_setup_error = col_text_dup(&r->arena, st, 11);
		si->next_action = col_text_dup(&r->arena, st, 12);
		si->return_url = col_text_dup(&r->arena, st, 13);
		si->three_d_secure_token = col_text_dup(&r->arena, st, 14);
		si->request_three_d_secure = col_text_dup(&r->arena, st, 15);
		si->checkout_session = col_text_dup(&r->arena, st, 16);
		si->latest_attempt = col_text_dup(&r->arena, st, 17);
		si->payment_method_types = col_text_dup(&r->arena, st, 18);
		si->mandate = col_text_dup(&r->arena, st, 19);
		si->pmo_sepa_reference_prefix = col_text_dup(&r->arena, st, 20);
		si->pmo_ach_verification_method = col_text_dup(&r->arena, st, 21);
		si->automatic_payment_methods = col_text_dup(&r->arena, st, 22);
		si->payment_method_configuration = col_text_dup(&r->arena, st, 23);
		si->payment_method_configuration_parent = col_text_dup(&r->arena, st, 24);
		si->pmo_ach_financial_connections = col_text_dup(&r->arena, st, 25);
		si->flow_directions = col_text_dup(&r->arena, st, 26);
		si->attach_to_self = db_col_is_null(st, 27) ? 0 : db_col_int64(st, 27) != 0 ? 2 : 1;
		si->on_behalf_of = col_text_dup(&r->arena, st, 28);
		si->single_use = col_text_dup(&r->arena, st, 29);
		si->single_use_mandate = col_text_dup(&r->arena, st, 30);
		if (!si->status || !si->client_secret || !si->metadata || !si->usage)
			rc = DB_ERR;
	}
	db_reset(st);
	if (rc == DB_ROW)
		return DB_OK;
	return rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
}

/* Inserts si (first) or writes its next version; DB_CONFLICT when the row moved meanwhile. */
static int si_write(struct req *r, struct db *db, struct setup_intent *si, bool first)
{
	struct db_stmt *st = db_prepare(db, first ? SQL_INSERT : SQL_UPDATE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, si->id, -1);
	db_bind_int64(st, 3, si->created);
	db_bind_int64(st, 4, si->version);
	db_bind_text(st, 5, si->status, -1);
	db_bind_text(st, 6, si->client_secret, -1);
	db_bind_text(st, 7, si->customer, -1);
	db_bind_text(st, 8, si->description, -1);
	db_bind_text(st, 9, si->metadata, -1);
	db_bind_text(st, 10, si->payment_method, -1);
	db_bind_text(st, 11, si->usage, -1);
	db_bind_text(st, 12, si->cancellation_reason, -1);
	db_bind_text(st, 13, si->last_setup_error, -1);
	db_bind_text(st, 14, si->next_action, -1);
	db_bind_text(st, 15, si->return_url, -1);
	db_bind_text(st, 16, si->three_d_secure_token, -1);
	db_bind_text(st, 17, si->request_three_d_secure, -1);
	db_bind_text(st, 18, si->checkout_session, -1);
	db_bind_text(st, 19, si->latest_attempt, -1);
	db_bind_text(st, 20, si->payment_method_types, -1);
	db_bind_text(st, 21, si->mandate, -1);
	db_bind_text(st, 22, si->pmo_sepa_reference_prefix, -1);
	db_bind_text(st, 23, si->pmo_ach_verification_method, -1);
	db_bind_text(st, 24, si->automatic_payment_methods, -1);
	db_bind_text(st, 25, si->payment_method_configuration, -1);
	db_bind_text(st, 26, si->payment_method_configuration_parent, -1);
	db_bind_text(st, 27, si->pmo_ach_financial_connections, -1);
	db_bind_text(st, 28, si->flow_directions, -1);
	if (si->attach_to_self == 0)
		db_bind_null(st, 29);
	else
		db_bind_int64(st, 29, si->attach_to_self == 2);
	db_bind_text(st, 30, si->on_behalf_of, -1);
	db_bind_text(st, 31, si->single_use, -1);
	db_bind_text(st, 32, si->single_use_mandate, -1);
	int rc = db_step(st);
	int64_t n = rc == DB_DONE ? db_changes(st) : 0;
	db_reset(st);
	if (rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	if (first)
		return DB_OK;
	if (n != 1)
		return DB_CONFLICT;
	si->version++;
	return DB_OK;
}

/* ---- rendering ---- */

/* prefix: where the intent sits in the answer ("" the answer itself, "data" in a list), for
 * expand[]=latest_attempt; NULL expands nothing of it (events, errors). */
static int si_render(struct req *r, struct db *db, const struct setup_intent *si,
		     const struct expand_set *ex, const char *prefix, struct json *j)
{
	json_obj_open(j);
	json_kv_str(j, "id", si->id);
	json_kv_str(j, "object", "setup_intent");
	json_kv_null(j, "application");
	/* shown only once given (Stripe's field is neither required nor nullable) */
	if (si->attach_to_self)
		json_kv_bool(j, "attach_to_self", si->attach_to_self == 2);
	pm_types_render_automatic(j, si->automatic_payment_methods);
	json_kv_str_or_null(j, "cancellation_reason", si->cancellation_reason);
	json_kv_str(j, "client_secret", si->client_secret);
	json_kv_int(j, "created", si->created);
	int rc = payments_expandable(j, db, "customer", si->customer, ex && ex->customer,
				     ex ? ex->render_customer : NULL, ex ? ex->ctx : NULL);
	if (rc != DB_OK)
		return rc;
	json_kv_str_or_null(j, "description", si->description);
	json_kv_raw_or_null(j, "flow_directions", si->flow_directions);
	json_kv_raw_or_null(j, "last_setup_error", si->last_setup_error);
	json_key(j, "latest_attempt");
	char path[64];
	snprintf(path, sizeof(path), "%s%slatest_attempt", prefix && *prefix ? prefix : "",
		 prefix && *prefix ? "." : "");
	if (si->latest_attempt && db && prefix && req_expand_has(r, path)) {
		rc = setup_attempt_render(r, db, si->latest_attempt, path, j);
		if (rc != DB_OK)
			return rc;
	} else {
		json_str_or_null(j, si->latest_attempt);
	}
	json_kv_bool(j, "livemode", r->livemode);
	json_kv_str_or_null(j, "mandate", si->mandate);
	json_kv_raw(j, "metadata", si->metadata, strlen(si->metadata));
	json_kv_raw_or_null(j, "next_action", si->next_action);
	json_kv_str_or_null(j, "on_behalf_of", si->on_behalf_of);
	rc = payments_expandable(j, db, "payment_method", si->payment_method,
				 ex && ex->payment_method, ex ? ex->render_payment_method : NULL,
				 ex ? ex->ctx : NULL);
	if (rc != DB_OK)
		return rc;
	pm_types_render_configuration(j, si->payment_method_configuration,
				      si->payment_method_configuration_parent);
	json_key(j, "payment_method_options");
	json_obj_open(j);
	json_key(j, "card");
	json_obj_open(j);
	json_kv_null(j, "mandate_options");
	json_kv_null(j, "network");
	json_kv_str(j, "request_three_d_secure",
		    si->request_three_d_secure ? si->request_three_d_secure : "automatic");
	json_obj_close(j);
	if (si->payment_method_types && strstr(si->payment_method_types, "\"sepa_debit\"")) {
		json_key(j, "sepa_debit");
		json_obj_open(j);
		json_key(j, "mandate_options");
		json_obj_open(j);
		if (si->pmo_sepa_reference_prefix)
			json_kv_str(j, "reference_prefix", si->pmo_sepa_reference_prefix);
		json_obj_close(j);
		json_obj_close(j);
	}
	if (si->payment_method_types && strstr(si->payment_method_types, "\"us_bank_account\"")) {
		/* automatic (Stripe's default) falls back to microdeposits for an account typed by
		 * hand; instant takes only one linked through Financial Connections */
		json_key(j, "us_bank_account");
		json_obj_open(j);
		if (si->pmo_ach_financial_connections)
			json_kv_raw(j, "financial_connections", si->pmo_ach_financial_connections,
				    strlen(si->pmo_ach_financial_connections));
		json_kv_str(j, "verification_method",
			    si->pmo_ach_verification_method ? si->pmo_ach_verification_method
							    : "automatic");
		json_obj_close(j);
	}
	json_obj_close(j);
	if (si->payment_method_types) {
		json_kv_raw(j, "payment_method_types", si->payment_method_types,
			    strlen(si->payment_method_types));
	} else {
		json_key(j, "payment_method_types");
		json_arr_open(j);
		json_str(j, "card");
		json_arr_close(j);
	}
	json_kv_str_or_null(j, "single_use_mandate", si->single_use_mandate);
	json_kv_str(j, "status", si->status);
	json_kv_str(j, "usage", si->usage);
	json_obj_close(j);
	return DB_OK;
}

static int render_response(struct req *r, struct db *db, const struct setup_intent *si)
{
	struct expand_set ex;
	payments_expand_from_req(r, &ex, NULL);
	return si_render(r, db, si, &ex, "", req_json(r)) == DB_OK
		   ? 0
		   : req_fail(r, ERR_API, NULL, NULL);
}

int setup_intent_render_by_id(struct req *r, struct db *db, const char *id, struct json *j)
{
	struct setup_intent si;
	int rc = si_load(r, db, r->merchant_id, id, &si);
	if (rc != DB_OK)
		return rc;
	return si_render(r, db, &si, NULL, NULL, j);
}

/* Appends a setup_intent.* event with si as it is now (nothing expanded). */
static int emit(struct req *r, struct db *db, const struct setup_intent *si, const char *type)
{
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 20);
	json_init(&j, &b);
	int rc = si_render(r, NULL, si, NULL, NULL, &j) == DB_OK && !b.failed
		     ? payments_event(r, db, type, si->id, b.data, b.len, NULL)
		     : req_fail(r, ERR_API, NULL, NULL);
	buf_release(&b);
	return rc;
}

/* setup_intent.succeeded, and in the same write what waited on it: a subscription whose
 * pending_setup_intent it is (subscriptions.c) */
static int emit_succeeded(struct req *r, struct db *db, const struct setup_intent *si)
{
	if (emit(r, db, si, "setup_intent.succeeded") != 0)
		return -1;
	return subscription_setup_succeeded(r, db, si->id, si->payment_method);
}

static bool status_is(const struct setup_intent *si, const char *s)
{
	return strcmp(si->status, s) == 0;
}

static int unexpected_state(struct req *r, const char *verb, const struct setup_intent *si)
{
	return req_fail(r, ERR_SETUP_INTENT_UNEXPECTED_STATE, NULL,
			"You cannot %s this SetupIntent because it has a status of %s.", verb,
			si->status);
}

/* ---- parameters ---- */

static const char *const usages[] = {"off_session", "on_session", NULL};
static const char *const cancel_reasons[] = {"abandoned", "duplicate", "requested_by_customer",
					     NULL};
static const struct param_spec pmo_card_children[] = {
    {"request_three_d_secure", PT_ENUM, 0, 0, (const char *const[]){"any", "automatic", NULL},
     NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec pmo_ach_children[] = {
    {"verification_method", PT_ENUM, 0, 0,
     (const char *const[]){"automatic", "instant", "microdeposits", NULL}, NULL},
    {"financial_connections", PT_OBJECT, 0, 0, NULL, fc_intent_option_params},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec pmo_sepa_children[] = {
    {"mandate_options", PT_OBJECT, 0, 0, NULL, sepa_mandate_options_params},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec pmo_children[] = {
    {"card", PT_OBJECT, 0, 0, NULL, pmo_card_children},
    {"sepa_debit", PT_OBJECT, 0, 0, NULL, pmo_sepa_children},
    {"us_bank_account", PT_OBJECT, 0, 0, NULL, pmo_ach_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec apm_children[] = {
    {"enabled", PT_BOOL, PF_REQUIRED, 0, NULL, NULL},
    {"allow_redirects", PT_ENUM, 0, 0, (const char *const[]){"always", "never", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

#define SI_COMMON_PARAMS                                                                           \
	{"customer", PT_STRING, PF_EMPTYABLE, 255, NULL, NULL},                                    \
	    {"description", PT_STRING, PF_EMPTYABLE, 1000, NULL, NULL},                            \
	    {"metadata", PT_METADATA, 0, 0, NULL, NULL},                                           \
	    {"payment_method", PT_STRING, PF_EMPTYABLE, 255, NULL, NULL},                          \
	    {"payment_method_options", PT_OBJECT, 0, 0, NULL, pmo_children},                       \
	{                                                                                          \
		"payment_method_types", PT_STRING_ARRAY, 0, 0, NULL, NULL                          \
	}

static const struct param_spec single_use_children[] = {
    {"amount", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {"currency", PT_CURRENCY, PF_REQUIRED, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

static const struct param_spec create_params[] = {
    SI_COMMON_PARAMS,
    {"attach_to_self", PT_BOOL, 0, 0, NULL, NULL},
    {"flow_directions", PT_STRING_ARRAY, 0, 0, NULL, NULL},
    {"on_behalf_of", PT_STRING, 0, 5000, NULL, NULL},
    {"single_use", PT_OBJECT, 0, 0, NULL, single_use_children},
    {"confirm", PT_BOOL, 0, 0, NULL, NULL},
    {"usage", PT_ENUM, 0, 0, usages, NULL},
    {"return_url", PT_STRING, 0, 2048, NULL, NULL},
    {"automatic_payment_methods", PT_OBJECT, 0, 0, NULL, apm_children},
    {"use_stripe_sdk", PT_BOOL, 0, 0, NULL, NULL},
    {"payment_method_data", PT_OBJECT, 0, 0, NULL, pm_data_params},
    {"confirmation_token", PT_STRING, 0, 255, NULL, NULL},
    {"payment_method_configuration", PT_STRING, 0, 100, NULL, NULL},
    {"mandate_data", PT_OBJECT, 0, 0, NULL, sepa_mandate_data_params},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec update_params[] = {
    SI_COMMON_PARAMS,
    {"attach_to_self", PT_BOOL, 0, 0, NULL, NULL},
    {"flow_directions", PT_STRING_ARRAY, 0, 0, NULL, NULL},
    {"payment_method_data", PT_OBJECT, 0, 0, NULL, pm_data_params},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec confirm_params[] = {
    {"client_secret", PT_STRING, 0, 5000, NULL, NULL},
    {"payment_method", PT_STRING, 0, 255, NULL, NULL},
    {"payment_method_data", PT_OBJECT, 0, 0, NULL, pm_data_params},
    {"payment_method_options", PT_OBJECT, 0, 0, NULL, pmo_children},
    {"return_url", PT_STRING, 0, 2048, NULL, NULL},
    {"use_stripe_sdk", PT_BOOL, 0, 0, NULL, NULL},
    {"confirmation_token", PT_STRING, 0, 255, NULL, NULL},
    {"mandate_data", PT_OBJECT, 0, 0, NULL, sepa_mandate_data_params},
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
    {"payment_method", PT_STRING, 0, 255, NULL, NULL},
    {"attach_to_self", PT_BOOL, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

/* payment_method_options from the request (create, update, confirm): the card's
 * request_three_d_secure, the SEPA mandate's reference_prefix, the ACH verification_method
 * (instant: only a Financial Connections account, checked at confirm). 0, or -1 with r->err. */
static int pmo_apply(struct req *r, struct setup_intent *si)
{
	const char *tds = param_str(r, "payment_method_options.card.request_three_d_secure");
	if (tds)
		si->request_three_d_secure = tds;
	if (sepa_reference_prefix(r, &si->pmo_sepa_reference_prefix) != 0)
		return -1;
	const char *vm = param_str(r, "payment_method_options.us_bank_account.verification_method");
	if (vm)
		si->pmo_ach_verification_method = vm;
	return fc_intent_options(r, "payment_method_options.us_bank_account.financial_connections",
				 &si->pmo_ach_financial_connections);
}

/* flow_directions: "inbound" and/or "outbound", each once, kept as the JSON array shown. */
static int flow_directions_apply(struct req *r, struct setup_intent *si)
{
	const struct form_node *n = param_node(r, "flow_directions");
	if (!n)
		return 0;
	bool in = false, out = false;
	for (const struct form_node *x = n->kind != FORM_SCALAR ? n->first_child : n; x;
	     x = n->kind == FORM_SCALAR ? NULL : x->next) {
		const char *v = x->value ? x->value : "";
		if (strcmp(v, "inbound") == 0)
			in = true;
		else if (strcmp(v, "outbound") == 0)
			out = true;
		else
			return req_fail(r, ERR_PARAM_INVALID_ENUM, "flow_directions",
					"Invalid flow_directions[]: must be one of inbound, "
					"outbound");
	}
	if (!in && !out)
		return req_fail(r, ERR_PARAM_INVALID, "flow_directions",
				"flow_directions must name inbound, outbound or both.");
	si->flow_directions = in && out ? "[\"inbound\",\"outbound\"]"
			      : in	? "[\"inbound\"]"
					: "[\"outbound\"]";
	return 0;
}

/* What create and update share: customer, description, metadata, the payment method options,
 * the payment method types, flow_directions and attach_to_self. 0, or -1 with r->err. */
static int apply_common(struct req *r, struct setup_intent *si)
{
	si->customer = str_update(r, "customer", si->customer);
	si->description = str_update(r, "description", si->description);
	if (flow_directions_apply(r, si) != 0)
		return -1;
	bool self = false;
	if (param_bool(r, "attach_to_self", &self) == 1)
		si->attach_to_self = self ? 2 : 1;
	/* Stripe: attach_to_self "cannot be set to true when setting up a PaymentMethod for a
	 * Customer" (the account's own PaymentMethod is for its own money movements) */
	if (si->attach_to_self == 2 && si->customer)
		return req_fail(r, ERR_PARAM_BAD, "attach_to_self",
				"attach_to_self cannot be set to true when setting up a "
				"PaymentMethod for a Customer (customer %s).",
				si->customer);
	if (pmo_apply(r, si) != 0)
		return -1;
	unsigned types;
	/* ideal and bancontact save the account the bank reports as a sepa_debit PaymentMethod
	 * (redirect_confirm); a lender's types pay once, nothing to save */
	int got = pm_types_param(r, "payment_method_types", "payment_method_types",
				 (PMT_ALL & ~PMT_BNPL) | PMT_CARD_PRESENT, "Tender supports", false,
				 &types);
	if (got < 0)
		return -1;
	if (got) {
		si->payment_method_types = NULL; /* cards only: Stripe's default */
		if (types != PMT_CARD &&
		    !(si->payment_method_types = pm_types_arena_json(r, types)))
			return -1;
		/* the types named on an update replace the computed ones */
		si->automatic_payment_methods = si->payment_method_configuration = NULL;
		si->payment_method_configuration_parent = NULL;
	}
	return metadata_apply(r, si->metadata, "metadata", &si->metadata);
}

/* A payment_method given at create or update names a PaymentMethod (pm_…, or a pm_card_* test
 * alias, stored when the intent is confirmed). */
static int check_pm_ref(struct req *r, const char *pm)
{
	if (pm && strncmp(pm, "pm_", 3) != 0)
		return req_fail(r, ERR_PARAM_BAD, "payment_method",
				"Invalid payment_method: expected a PaymentMethod id (pm_…).");
	return 0;
}

/* payment_method_data: a PaymentMethod made from the request, in a durable write of its own
 * (as for a PaymentIntent); *pm becomes its id. 0, or -1 with r->err. */
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

static int check_return_url(struct req *r, const char *url)
{
	if (url && strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)
		return req_fail(r, ERR_URL_INVALID, "return_url",
				"Invalid URL: the return_url must be an absolute http(s) URL.");
	return 0;
}

/* ---- confirm (also create with confirm=true, and the challenge's completion) ---- */

struct confirm_ctx {
	struct req *r;
	struct setup_intent si;	 /* the intent the card check was made for */
	struct setup_intent si0; /* as confirm_fn starts it: a retried transaction starts over */
	bool insert_first;	 /* create+confirm: the row does not exist yet */
	struct card_auth ca;
	bool require_3ds;
	bool authenticated;	 /* the cardholder completed the challenge */
	bool tds_error;		 /* the 3-D Secure asked for errored (test card 4000000000003097) */
	char attempt_id[ID_MAX]; /* the SetupAttempt this confirmation makes (before the write) */
	/* confirmation_token: what the intent is confirmed with, used up by its write */
	const struct ctoken_use *ct;
	/* a sepa_debit PaymentMethod: no card to check, a mandate accepted as given */
	const char *sepa_pm;
	const char *acc_type, *acc_ip, *acc_ua;
	bool ach; /* sepa_pm is a us_bank_account */
	/* a setup-mode Checkout Session's page: the mandate was accepted there (acc_*), not by
	 * the request's mandate_data, and the intent's write completes the session */
	bool checkout;
	/* an ideal / bancontact confirmation: the bank's test page it waits on */
	const char *bank_url;
	/* a card read by a Terminal reader (setup_intents_present), or NULL */
	struct si_present *present;
};

/* last_setup_error: Stripe's error hash, with the PaymentMethod that failed. */
static const char *setup_error_json(struct req *r, struct db *db, enum api_err err,
				    const char *decline_code, const char *pm_id)
{
	const struct api_error_info *info = api_error_info(err);
	struct buf b;
	struct json j;
	buf_init(&b, 64 * 1024);
	json_init(&j, &b);
	json_obj_open(&j);
	json_kv_str(&j, "code", info->code);
	if (decline_code && *decline_code)
		json_kv_str(&j, "decline_code", decline_code);
	char url[160];
	snprintf(url, sizeof(url), "https://stripe.com/docs/error-codes/%s", info->code);
	json_kv_str(&j, "doc_url", url);
	json_kv_str(&j, "message", info->message);
	if (pm_id && db) {
		json_key(&j, "payment_method");
		if (pm_render(db, r->merchant_id, pm_id, &j) != DB_OK)
			b.failed = true;
	}
	json_kv_str(&j, "type", info->type);
	json_obj_close(&j);
	const char *s = b.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&b));
	buf_release(&b);
	return s;
}

static const char *challenge_url(struct req *r, const struct setup_intent *si)
{
	const char *base = req_url_base(r);
	return arena_printf(&r->arena, "%s/3ds-setup/%s/%s/%s", base, r->merchant_id, si->id,
			    si->three_d_secure_token);
}

/* This confirmation's new SetupAttempt a (its outcome and details set by the caller; its id,
 * intent, customer and usage the confirmation's), the intent's latest_attempt; an earlier one
 * still waiting (for 3-D Secure, the bank) is abandoned first. 0, or -1 with r->err. */
static int new_attempt(struct req *r, struct db *db, struct confirm_ctx *c,
		       struct setup_attempt_new *a)
{
	struct setup_intent *si = &c->si;
	if (setup_attempt_abandon(r, db, c->si0.latest_attempt) != 0)
		return -1;
	a->id = c->attempt_id;
	a->setup_intent = si->id;
	a->customer = si->customer;
	a->usage = si->usage;
	if (setup_attempt_insert(r, db, a) != 0)
		return -1;
	si->latest_attempt = c->attempt_id;
	return 0;
}

/* The SetupAttempt of this confirmation, whose outcome is status (succeeded, failed,
 * requires_action) with setup_error (JSON) for a failure; the intent names it as its
 * latest_attempt. A challenge's completion gives its outcome to the attempt that asked for it;
 * any other confirmation makes a new one, and an attempt still waiting for its challenge is
 * then abandoned. 0, or -1 with r->err. */
static int record_attempt(struct req *r, struct db *db, struct confirm_ctx *c, const char *status,
			  const char *setup_error)
{
	const char *prev = c->si0.latest_attempt;
	if (c->authenticated && prev && status_is(&c->si0, "requires_action"))
		return setup_attempt_finish(r, db, prev, status, "authenticated", setup_error);
	struct setup_attempt_new a = {
	    .payment_method = c->ca.pm_id,
	    .card = &c->ca.card,
	    .cvc_check = c->ca.decision.cvc_check,
	    .status = status,
	    .three_d_secure_result = c->authenticated ? "authenticated"
				     : c->tds_error   ? "processing_error"
						      : NULL,
	    .setup_error = setup_error,
	};
	/* a reader's card: the card it generated, if any (setup_attempt's card_present hash) */
	if (c->present) {
		bool ok = strcmp(status, "succeeded") == 0;
		a.sepa_details = arena_printf(
		    &r->arena,
		    "{\"card_present\":{\"generated_card\":%s%s%s},\"type\":\"card_present\"}",
		    ok ? "\"" : "", ok ? c->present->generated : "null", ok ? "\"" : "");
		if (!a.sepa_details)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	return new_attempt(r, db, c, &a);
}

/* The write of an intent that now waits for its customer (3-D Secure, the bank's page,
 * microdeposits): the row and setup_intent.requires_action. 0, or -1 with r->err. */
static int write_waiting(struct req *r, struct db *db, struct setup_intent *si)
{
	if (si_write(r, db, si, false) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return emit(r, db, si, "setup_intent.requires_action");
}

static int require_action(struct req *r, struct db *db, struct confirm_ctx *c)
{
	struct setup_intent *si = &c->si;
	char token[40];
	id_random_base62(token, 32);
	si->three_d_secure_token = arena_strdup(&r->arena, token);
	si->status = "requires_action";
	si->payment_method = c->ca.pm_id;
	si->last_setup_error = NULL;
	if (!si->three_d_secure_token)
		return req_fail(r, ERR_API, NULL, NULL);
	si->next_action = challenge_next_action(r, si->return_url, challenge_url(r, si));
	if (!si->next_action)
		return req_fail(r, ERR_API, NULL, NULL);
	if (record_attempt(r, db, c, "requires_action", NULL) != 0)
		return -1;
	if (write_waiting(r, db, si) != 0)
		return -1;
	return render_response(r, db, si);
}

/* The card failed its check: the intent goes back to requires_payment_method with the error,
 * and the answer is a 402 card error carrying it. */
static int setup_failed(struct req *r, struct db *db, struct confirm_ctx *c)
{
	struct setup_intent *si = &c->si;
	si->status = "requires_payment_method";
	si->last_setup_error =
	    setup_error_json(r, db, c->ca.decision.err, c->ca.decision.decline_code, c->ca.pm_id);
	si->payment_method = NULL;
	si->next_action = NULL;
	si->three_d_secure_token = NULL;
	if (!si->last_setup_error)
		return req_fail(r, ERR_API, NULL, NULL);
	if (record_attempt(r, db, c, "failed", si->last_setup_error) != 0)
		return -1;
	if (si_write(r, db, si, false) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (emit(r, db, si, "setup_intent.setup_failed") != 0)
		return -1;
	req_fail(r, c->ca.decision.err, NULL, NULL);
	snprintf(r->err.decline_code, sizeof(r->err.decline_code), "%s",
		 c->ca.decision.decline_code);
	struct json ej;
	json_init(&ej, &r->err.extra);
	/* Stripe's error names the card that failed too (error.payment_method) */
	json_key(&ej, "payment_method");
	if (pm_render(db, r->merchant_id, c->ca.pm_id, &ej) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	json_key(&ej, "setup_intent");
	if (si_render(r, db, si, NULL, NULL, &ej) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return REQ_COMMIT_ERR;
}

/* The start of a confirm's write, whatever the method: the intent as the request read it
 * (PostgreSQL may run the write again after a serialization failure), its customer checked,
 * and the intent written first when the request made it (setup_intent.created shows it as it
 * was made, before the outcome) or else found unchanged since the request read it. */
static int confirm_begin(struct db *db, struct confirm_ctx *c)
{
	struct req *r = c->r;
	struct setup_intent *si = &c->si;
	c->si = c->si0;
	if (si->customer && customer_check(r, db, si->customer) != 0)
		return -1;
	if (c->insert_first) {
		if (si_write(r, db, si, true) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		return emit(r, db, si, "setup_intent.created");
	}
	struct setup_intent cur;
	if (si_load(r, db, r->merchant_id, si->id, &cur) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (cur.version != si->version)
		return unexpected_state(r, "confirm", &cur);
	return 0;
}

static int confirm_fn(struct db *db, void *p)
{
	struct confirm_ctx *c = p;
	struct req *r = c->r;
	struct setup_intent *si = &c->si;
	if (confirm_begin(db, c) != 0)
		return -1;
	if (c->ct && confirmation_token_consume(r, db, c->ct, NULL, si->id) != 0)
		return -1;
	if (payments_card_commit(r, db, &c->ca) != 0)
		return -1;
	if (c->require_3ds)
		return require_action(r, db, c);
	if (!c->ca.decision.approved) {
		int frc = setup_failed(r, db, c);
		return c->present && frc >= 0
			   ? c->present->answer(r, db, c->present->ctx, frc, NULL)
			   : frc;
	}
	si->status = "succeeded";
	si->payment_method = c->ca.pm_id;
	if (c->present) {
		/* a reader's card is not saved as it is: the reusable card generated from it is
		 * (Stripe's generated_card), naming what the reader read and this attempt */
		const char *details = payment_card_present_details(&r->arena, &c->ca.card, -1,
								   c->ca.decision.auth_code);
		const char *gf =
		    details ? arena_printf(&r->arena,
					   "{\"charge\":null,\"payment_method_details\":%s,"
					   "\"setup_attempt\":\"%s\"}",
					   details, c->attempt_id)
			    : NULL;
		if (!gf || pm_insert_generated(db, r->merchant_id, c->ca.pm_id,
					       c->present->generated, gf, r->now) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		si->payment_method = c->present->generated;
		if (si->customer &&
		    pm_attach_finish(r, db, c->present->generated, "", si->customer) != 0)
			return -1;
	}
	si->last_setup_error = NULL;
	si->next_action = NULL;
	si->three_d_secure_token = NULL;
	/* the card is saved to the customer (Stripe attaches it), unless it already is */
	if (si->customer && !c->present) {
		const char *pm_id;
		char owner[ID_MAX];
		if (pm_attach_resolve(r, db, c->ca.pm_id, "payment_method", &pm_id, owner) != 0)
			return -1;
		/* saved for future use: `limited` (Stripe's default), unless allow_redisplay
		 * was chosen; set before the attach's event shows it */
		if (!owner[0] &&
		    pm_set_allow_redisplay(db, r->merchant_id, pm_id, "limited", true) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (strcmp(owner, si->customer) != 0 &&
		    pm_attach_finish(r, db, pm_id, owner, si->customer) != 0)
			return -1;
	}
	/* the cardholder authenticated this setup: the issuer will not ask again off session */
	if (c->authenticated && pm_mark_set_up(db, r->merchant_id, c->ca.pm_id) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (record_attempt(r, db, c, "succeeded", NULL) != 0)
		return -1;
	if (si_write(r, db, si, false) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (emit_succeeded(r, db, si) != 0)
		return -1;
	/* a setup-mode checkout completes with its card, in the same transaction */
	if (si->checkout_session && checkout_complete(r, db, si->checkout_session) != 0)
		return -1;
	if (c->present)
		return c->present->answer(r, db, c->present->ctx, 0, c->present->generated);
	return render_response(r, db, si);
}

static int bank_setup_succeed(struct req *r, struct db *db, struct confirm_ctx *c,
			      const struct pm_card *pm_in, const char *mandate, bool complete);

/* The amount and currency of si's single_use, or 0 and "" without one. 0, or -1 when the stored
 * JSON is not what create_only_apply wrote. */
static int single_use_terms(const struct setup_intent *si, int64_t *amount, char currency[8])
{
	*amount = 0;
	currency[0] = '\0';
	if (!si->single_use)
		return 0;
	json_t *o = json_loads(si->single_use, 0, NULL);
	const char *cur = json_string_value(json_object_get(o, "currency"));
	*amount = json_integer_value(json_object_get(o, "amount"));
	int rc = cur && strlen(cur) < 8 && *amount > 0 ? 0 : -1;
	if (rc == 0)
		str_copy(currency, 8, cur);
	json_decref(o);
	return rc;
}

/* The write of a sepa_debit setup: SEPA SetupIntents succeed at once in test mode, with a
 * multi-use mandate (api/mandates.c) and the PaymentMethod saved on the customer. */
static int sepa_confirm_fn(struct db *db, void *p)
{
	struct confirm_ctx *c = p;
	struct req *r = c->r;
	struct setup_intent *si = &c->si;
	if (confirm_begin(db, c) != 0)
		return -1;
	struct pm_card pm;
	int rc = pm_load(db, r->merchant_id, c->sepa_pm, &pm);
	if (rc != DB_OK || (c->ach ? !PM_IS_ACH(&pm) : !PM_IS_SEPA(&pm)))
		return req_fail_missing(r, "payment_method", c->sepa_pm, "payment_method");
	if (pm.detached)
		return req_fail(r, ERR_PARAM_BAD, "payment_method", "%s", PM_DETACHED_MESSAGE);
	if (si->customer && pm.customer[0] && strcmp(si->customer, pm.customer) != 0)
		return req_fail(r, ERR_PARAM_BAD, "payment_method",
				"The provided PaymentMethod belongs to another customer.");
	/* verification_method=instant: only an account linked through Financial Connections */
	if (c->ach && si->pmo_ach_verification_method &&
	    strcmp(si->pmo_ach_verification_method, "instant") == 0 && !pm.ach_fc_account[0])
		return req_fail(r, ERR_PARAM_BAD, "payment_method",
				"verification_method=instant needs a us_bank_account PaymentMethod "
				"made from a Financial Connections account "
				"(us_bank_account[financial_connections_account]).");
	char mandate[ID_MAX];
	/* a SEPA mandate's reference begins with the intent's reference_prefix; single_use makes
	 * it a single-use one, for that one payment */
	int64_t su_amount = 0;
	char su_currency[8] = "";
	if (single_use_terms(si, &su_amount, su_currency) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	if (sepa_setup_mandate_single(r, db, pm.id, c->acc_type, c->acc_ip, c->acc_ua,
				      c->ach ? NULL : si->pmo_sepa_reference_prefix, su_amount,
				      su_currency[0] ? su_currency : NULL, mandate) != 0)
		return -1;
	if (c->ach && !pm.set_up) {
		/* microdeposits first (api/mandates.c): the mandate waits with the verification */
		if (ach_verification_put(db, r->merchant_id, si->id, pm.id, mandate, r->now) !=
		    DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		si->status = "requires_action";
		si->payment_method = arena_strdup(&r->arena, pm.id);
		si->next_action = ach_next_action(r, si->id);
		si->last_setup_error = NULL;
		if (!si->payment_method || !si->next_action)
			return req_fail(r, ERR_API, NULL, NULL);
		if (write_waiting(r, db, si) != 0)
			return -1;
		/* as Stripe's Checkout does, a setup session completes while its account waits
		 * for the microdeposits; verify_microdeposits then succeeds the intent */
		if (c->checkout && si->checkout_session &&
		    checkout_complete(r, db, si->checkout_session) != 0)
			return -1;
		return render_response(r, db, si);
	}
	return bank_setup_succeed(r, db, c, &pm, mandate, c->checkout);
}

/* A bank debit setup's success (at confirm, or once its microdeposits are verified): the
 * multi-use mandate, the PaymentMethod saved on the customer, a succeeded attempt; complete:
 * the setup-mode Checkout Session whose page confirmed it completes in the same write (not at
 * a later verification: that session completed when the account began to wait). */
static int bank_setup_succeed(struct req *r, struct db *db, struct confirm_ctx *c,
			      const struct pm_card *pm_in, const char *mandate, bool complete)
{
	struct setup_intent *si = &c->si;
	struct pm_card pm = *pm_in;
	si->mandate = arena_strdup(&r->arena, mandate);
	/* Stripe shows a single-use mandate as single_use_mandate, mandate null */
	if (si->single_use) {
		si->single_use_mandate = si->mandate;
		si->mandate = NULL;
	}
	si->status = "succeeded";
	si->payment_method = arena_strdup(&r->arena, pm.id);
	si->last_setup_error = NULL;
	si->next_action = NULL;
	si->three_d_secure_token = NULL;
	if ((!si->mandate && !si->single_use_mandate) || !si->payment_method)
		return req_fail(r, ERR_API, NULL, NULL);
	if (si->customer && strcmp(pm.customer, si->customer) != 0) {
		const char *pm_id;
		char owner[ID_MAX];
		if (pm_attach_resolve(r, db, pm.id, "payment_method", &pm_id, owner) != 0 ||
		    pm_attach_finish(r, db, pm_id, owner, si->customer) != 0)
			return -1;
	}
	struct setup_attempt_new a = {
	    .payment_method = pm.id,
	    .status = "succeeded",
	    .sepa_details = PM_IS_ACH(&pm) ? "{\"us_bank_account\":{},\"type\":\"us_bank_account\"}"
					   : "{\"sepa_debit\":{},\"type\":\"sepa_debit\"}",
	};
	if (new_attempt(r, db, c, &a) != 0)
		return -1;
	if (si_write(r, db, si, false) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (emit_succeeded(r, db, si) != 0)
		return -1;
	if (complete && si->checkout_session && checkout_complete(r, db, si->checkout_session) != 0)
		return -1;
	return render_response(r, db, si);
}

static int sepa_confirm(struct req *r, struct confirm_ctx *c, const char *pm_ref, bool ach)
{
	struct setup_intent *si = &c->si;
	const char *type = ach ? "us_bank_account" : "sepa_debit";
	char quoted[24];
	snprintf(quoted, sizeof(quoted), "\"%s\"", type);
	if (!si->payment_method_types || !strstr(si->payment_method_types, quoted))
		return req_fail(r, ERR_PARAM_BAD, "payment_method",
				"The PaymentMethod provided (%s) is not allowed for this "
				"SetupIntent. Update its payment_method_types to include "
				"\"%s\".",
				type, type);
	c->ach = ach;
	/* only the session's page confirms its intent with a bank account (the API's confirm of
	 * a Checkout intent keeps to cards, as before) */
	if (si->checkout_session && !c->checkout)
		return req_fail(r, ERR_PARAM_BAD, "payment_method", "Checkout takes cards only.");
	int md = c->checkout ? 1 : sepa_mandate_data(r, &c->acc_type, &c->acc_ip, &c->acc_ua);
	if (md < 0)
		return -1;
	if (md == 0)
		return req_fail(r, ERR_PARAM_MISSING, "mandate_data",
				"A mandate is required to confirm a SetupIntent with a %s "
				"PaymentMethod: pass mandate_data[customer_acceptance].",
				type);
	c->sepa_pm = pm_ref;
	id_new_at(c->attempt_id, SETUP_ATTEMPT_PREFIX, r->now);
	c->si0 = c->si;
	return req_write(r, sepa_confirm_fn, c);
}

/* ---- ideal and bancontact: the customer authorizes at the bank (api/redirect_page.c) ---- */

struct redirect_ctx {
	struct confirm_ctx *c;
	const char *pm_id;
	char token[40];
};

/* The write of an ideal / bancontact setup: the intent waits at the bank (requires_action,
 * next_action redirect_to_url the hosted test page), its attempt too, and the page's token is
 * recorded (replacing an earlier confirmation's: its link then opens nothing). */
static int redirect_confirm_fn(struct db *db, void *p)
{
	struct redirect_ctx *x = p;
	struct confirm_ctx *c = x->c;
	struct req *r = c->r;
	struct setup_intent *si = &c->si;
	if (confirm_begin(db, c) != 0)
		return -1;
	struct pm_card pm;
	int rc = pm_load(db, r->merchant_id, x->pm_id, &pm);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "payment_method", x->pm_id, "payment_method");
	if (rc != DB_OK || !PM_IS_REDIRECT(&pm))
		return req_fail(r, ERR_API, NULL, NULL);
	if (pm.detached)
		return req_fail(r, ERR_PARAM_BAD, "payment_method", "%s", PM_DETACHED_MESSAGE);
	if (pm.customer[0] && strcmp(si->customer, pm.customer) != 0)
		return req_fail(r, ERR_PARAM_BAD, "payment_method",
				"The provided PaymentMethod belongs to another customer.");
	/* the page's token: the only secret of its URL; the mandate_data waits with it for the
	 * mandate the authorization generates */
	id_random_base62(x->token, 32);
	struct redirect_acceptance acc = {c->acc_type, c->acc_ip, c->acc_ua};
	if (redirect_auth_put(db, r->merchant_id, si->id, x->token, pm.id, &acc, r->now) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	si->status = "requires_action";
	si->payment_method = arena_strdup(&r->arena, pm.id);
	si->last_setup_error = NULL;
	si->three_d_secure_token = NULL;
	c->bank_url = redirect_page_url(r, si->id, x->token);
	si->next_action = challenge_next_action(r, si->return_url, c->bank_url);
	if (!si->payment_method || !si->next_action)
		return req_fail(r, ERR_API, NULL, NULL);
	/* a new attempt, waiting at the bank; one that still waited is abandoned */
	struct setup_attempt_new a = {
	    .payment_method = pm.id,
	    .status = "requires_action",
	    .sepa_details = redirect_setup_details(&r->arena, &pm, false, NULL, NULL),
	};
	if (!a.sepa_details)
		return req_fail(r, ERR_API, NULL, NULL);
	if (new_attempt(r, db, c, &a) != 0)
		return -1;
	if (write_waiting(r, db, si) != 0)
		return -1;
	return render_response(r, db, si);
}

/* What confirming with an ideal / bancontact PaymentMethod of type needs, as on Stripe: the
 * type among the intent's payment_method_types, a customer (the generated sepa_debit
 * PaymentMethod is attached to it), mandate_data (the SEPA mandate the customer accepts, into
 * c->acc_*) and a return_url (the request's, else the intent's). A Checkout Session's intent
 * (c->checkout: setup mode, or subscription mode's account saved first) has the mandate
 * accepted on its page (c->acc_* already) and saves for the session's customer when it has
 * one, as a card it saves. 0, or -1 with r->err. */
static int redirect_check(struct req *r, struct confirm_ctx *c, const char *type)
{
	struct setup_intent *si = &c->si;
	if (redirect_type_bnpl(type))
		return req_fail(r, ERR_PARAM_BAD, "payment_method",
				"The PaymentMethod provided (%s) cannot be set up for later "
				"payments: it pays once, through a PaymentIntent.",
				type);
	char quoted[24];
	snprintf(quoted, sizeof(quoted), "\"%s\"", type);
	if (!si->payment_method_types || !strstr(si->payment_method_types, quoted))
		return req_fail(r, ERR_PARAM_BAD, "payment_method",
				"The PaymentMethod provided (%s) is not allowed for this "
				"SetupIntent. Update its payment_method_types to include "
				"\"%s\".",
				type, type);
	if (si->checkout_session && !c->checkout)
		return req_fail(r, ERR_PARAM_BAD, "payment_method", "Checkout takes cards only.");
	if (!si->customer && !c->checkout)
		return req_fail(r, ERR_PARAM_MISSING, "customer",
				"A customer is required to set up a %s PaymentMethod: the "
				"sepa_debit PaymentMethod it generates is attached to the "
				"SetupIntent's customer. Set customer on the SetupIntent.",
				type);
	int md = c->checkout ? 1 : sepa_mandate_data(r, &c->acc_type, &c->acc_ip, &c->acc_ua);
	if (md < 0)
		return -1;
	if (md == 0)
		return req_fail(r, ERR_PARAM_MISSING, "mandate_data",
				"A mandate is required to confirm a SetupIntent with a %s "
				"PaymentMethod: pass mandate_data[customer_acceptance].",
				type);
	const char *ru = param_str(r, "return_url");
	if (ru && *ru)
		si->return_url = ru;
	if (!si->return_url || !*si->return_url)
		return req_fail(r, ERR_PARAM_BAD, "return_url",
				"You must provide a `return_url` when confirming a SetupIntent "
				"with the payment method type %s.",
				type);
	return check_return_url(r, si->return_url);
}

/* payment_method_data of an ideal / bancontact type: checked as redirect_check checks the
 * confirmation before its PaymentMethod is made, so that a refusal makes nothing. 0, or -1
 * with r->err. */
static int redirect_data_check(struct req *r, struct confirm_ctx *c)
{
	const char *type = redirect_type_known(param_str(r, "payment_method_data.type"));
	return type && param_present(r, "payment_method_data") ? redirect_check(r, c, type) : 0;
}

/* Confirms with ideal / bancontact PaymentMethod pm_ref of type (redirect_check). */
static int redirect_confirm(struct req *r, struct confirm_ctx *c, const char *pm_ref,
			    const char *type)
{
	if (redirect_check(r, c, type) != 0)
		return -1;
	struct redirect_ctx x = {.c = c, .pm_id = pm_ref};
	id_new_at(c->attempt_id, SETUP_ATTEMPT_PREFIX, r->now);
	c->si0 = c->si;
	return req_write(r, redirect_confirm_fn, &x);
}

int setup_intent_redirect_view(struct req *r, struct db *db, const char *acct, const char *id,
			       struct payment_intent *view)
{
	struct setup_intent si;
	int rc = si_load(r, db, acct, id, &si);
	if (rc != DB_OK)
		return rc;
	memset(view, 0, sizeof(*view));
	str_copy(view->id, sizeof(view->id), si.id);
	view->status = si.status;
	view->payment_method = si.payment_method;
	view->customer = si.customer;
	view->return_url = si.return_url;
	view->client_secret = si.client_secret;
	return DB_OK;
}

int setup_intent_redirect_outcome(struct req *r, struct db *db, const char *id,
				  const struct pm_card *pm, const char *generated_pm,
				  const char *generated_mandate, const char **ret_subscribe)
{
	*ret_subscribe = NULL;
	struct setup_intent si;
	if (si_load(r, db, r->merchant_id, id, &si) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	bool ok = generated_pm && generated_mandate;
	const char *details =
	    redirect_setup_details(&r->arena, pm, ok, generated_pm, generated_mandate);
	if (!details)
		return req_fail(r, ERR_API, NULL, NULL);
	si.next_action = NULL;
	si.three_d_secure_token = NULL;
	if (ok) {
		/* as on Stripe, payment_method stays the ideal / bancontact one; the mandate is the
		 * generated sepa_debit PaymentMethod's, which later payments use */
		si.status = "succeeded";
		si.last_setup_error = NULL;
		si.mandate = generated_mandate;
	} else {
		si.status = "requires_payment_method";
		si.last_setup_error =
		    setup_error_json(r, db, ERR_SETUP_INTENT_AUTH_FAILURE, NULL, pm->id);
		si.payment_method = NULL;
		if (!si.last_setup_error)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	if (si.latest_attempt &&
	    setup_attempt_finish_details(r, db, si.latest_attempt, ok ? "succeeded" : "failed",
					 details, si.last_setup_error) != 0)
		return -1;
	if (si_write(r, db, &si, false) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (emit(r, db, &si, ok ? "setup_intent.succeeded" : "setup_intent.setup_failed") != 0)
		return -1;
	/* a subscription waiting on it takes the generated sepa_debit PaymentMethod, which its
	 * payments use */
	if (ok && subscription_setup_succeeded(
		      r, db, si.id, generated_pm ? generated_pm : si.payment_method) != 0)
		return -1;
	/* a setup-mode Checkout Session saving the account completes in this same write, as a
	 * card's; a subscription-mode one subscribes with it next (a failure leaves either open
	 * for another attempt) */
	bool subscribe = false;
	if (ok && si.checkout_session &&
	    checkout_setup_saved(r, db, si.checkout_session, &subscribe) != 0)
		return -1;
	if (subscribe)
		*ret_subscribe = si.checkout_session;
	return 0;
}

/* Checks the card (outside the write), then records the outcome. si must be confirmable. */
static int confirm_setup(struct req *r, struct confirm_ctx *c, const char *pm_ref)
{
	struct setup_intent *si = &c->si;
	if (!pm_ref || !*pm_ref)
		return req_fail(
		    r, ERR_SETUP_INTENT_UNEXPECTED_STATE, "payment_method",
		    "You cannot confirm this SetupIntent because it's missing a payment "
		    "method. Update the SetupIntent with a payment method and then "
		    "confirm it again.");
	/* one read of the PaymentMethod's kind chooses the path, as for a PaymentIntent */
	const char *redirect_type;
	int kind = pm_ref_kind(r, pm_ref, &redirect_type);
	if (kind < 0)
		return -1;
	/* the bank generates a multi-use SEPA mandate (api/redirect_page.c): not a single-use
	 * one, so single_use cannot be honored there */
	if (kind == PM_KIND_REDIRECT && c->si.single_use)
		return req_fail(r, ERR_PARAM_BAD, "payment_method",
				"A SetupIntent with single_use cannot save a %s account: the bank "
				"authorizes a multi-use SEPA mandate.",
				redirect_type);
	if (kind == PM_KIND_REDIRECT)
		return redirect_confirm(r, c, pm_ref, redirect_type);
	if (kind == PM_KIND_CASH) /* a cash balance pays, it is not set up */
		return req_fail(r, ERR_PARAM_BAD, "payment_method",
				"A customer_balance PaymentMethod cannot be set up for future "
				"payments.");
	if (kind == PM_KIND_SEPA || kind == PM_KIND_ACH)
		return sepa_confirm(r, c, pm_ref, kind == PM_KIND_ACH);
	if (c->present &&
	    !(si->payment_method_types && strstr(si->payment_method_types, "\"card_present\"")))
		return req_fail(r, ERR_PARAM_BAD, "payment_method",
				"The PaymentMethod provided (card_present) is not allowed for this "
				"SetupIntent. Update its payment_method_types to include "
				"\"card_present\".");
	if (!c->present && si->payment_method_types &&
	    !strstr(si->payment_method_types, "\"card\""))
		return req_fail(
		    r, ERR_PARAM_BAD, "payment_method",
		    "The PaymentMethod provided (card) is not allowed for this "
		    "SetupIntent. Update its payment_method_types to include \"card\".");
	if (payments_card_verify(r, pm_ref, "payment_method", si->customer, c->authenticated,
				 &c->ca) != 0)
		return -1;
	if (c->ct)
		confirmation_token_card(c->ct, &c->ca);
	/* a card_present PaymentMethod is saved only through a reader, and a reader only with one
	 */
	if (c->ca.card.present != (c->present != NULL))
		return req_fail(r, ERR_PARAM_BAD, "payment_method",
				c->present ? "The PaymentMethod provided is not a card_present one."
					   : "A card_present PaymentMethod is saved by a Terminal "
					     "reader (POST /v1/terminal/readers/{id}/"
					     "process_setup_intent), not through the API.");
	/* a reader's card is never sent to 3-D Secure: asked for, it is declined */
	if (c->present && c->ca.needs_3ds) {
		c->ca.needs_3ds = false;
		c->ca.decision.approved = false;
		c->ca.decision.err = ERR_AUTHENTICATION_REQUIRED;
		snprintf(c->ca.decision.decline_code, sizeof(c->ca.decision.decline_code), "%s",
			 "authentication_required");
	}
	if (si->customer && c->ca.customer[0] && strcmp(si->customer, c->ca.customer) != 0)
		return req_fail(r, ERR_PARAM_BAD, "payment_method",
				"The provided PaymentMethod belongs to another customer.");
	/* request_three_d_secure=any: the merchant asks for 3-D Secure whatever the card says;
	 * a completed challenge goes on */
	bool needs_3ds = c->ca.needs_3ds || (!c->authenticated && si->request_three_d_secure &&
					     strcmp(si->request_three_d_secure, "any") == 0);
	/* optional 3-D Secure that errors when attempted: the card is checked without it */
	if (needs_3ds && !c->ca.needs_3ds && c->ca.card.behavior == ACQ_3DS_OPTIONAL_ERROR) {
		needs_3ds = false;
		c->tds_error = true;
	}
	c->require_3ds = needs_3ds && c->ca.decision.approved;
	const char *ru = param_str(r, "return_url");
	if (ru)
		si->return_url = ru;
	if (check_return_url(r, si->return_url) != 0)
		return -1;
	id_new_at(c->attempt_id, SETUP_ATTEMPT_PREFIX, r->now);
	c->si0 = c->si;
	return req_write(r, confirm_fn, c);
}

/* ---- handlers ---- */

struct create_ctx {
	struct req *r;
	struct setup_intent si;
};

static int create_fn(struct db *db, void *p)
{
	struct create_ctx *c = p;
	struct req *r = c->r;
	if (c->si.customer && customer_check(r, db, c->si.customer) != 0)
		return -1;
	/* an unconfirmed intent keeps its payment_method as sent: it must be this merchant's */
	if (payments_pm_check_owned(r, db, c->si.payment_method, "payment_method") != 0)
		return -1;
	if (si_write(r, db, &c->si, true) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (emit(r, db, &c->si, "setup_intent.created") != 0)
		return -1;
	return render_response(r, db, &c->si);
}

/* confirmation_token (create with confirm=true, confirm): the token's card is the payment
 * method (confirmation_tokens.c) and its return_url applies, unless the request gives its own;
 * the intent's write uses the token up (confirm_fn). *pm: replaced by what the token pays with
 * when the request names none. 0, or -1 with r->err. */
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
	if (ct->return_url && !param_str(r, "return_url"))
		c->si.return_url = ct->return_url;
	c->ct = ct;
	if ((*pm && **pm) || param_present(r, "payment_method_data"))
		ct->billing_details = ct->pm_metadata = NULL; /* the token's card is not used */
	else
		*pm = ct->pm_ref;
	return 0;
}

/* single_use[amount, currency] (the mandate a bank debit's setup makes is single-use, for that
 * payment) and on_behalf_of (a connected account of the merchant that can take payments; kept
 * and shown, as a PaymentIntent's). 0, or -1 with r->err. */
static int create_only_apply(struct req *r, struct setup_intent *si)
{
	if (param_present(r, "single_use")) {
		int64_t amount = 0;
		param_int(r, "single_use.amount", &amount);
		char cur[8];
		if (param_currency(r, "single_use.currency", "single_use[currency]", cur) != 0)
			return -1;
		if (amount < 1 || amount > LEDGER_AMOUNT_MAX)
			return req_fail(r, ERR_PARAM_BAD, "single_use[amount]",
					"Invalid single_use[amount]: it must be a positive integer "
					"of at most %lld.",
					(long long)LEDGER_AMOUNT_MAX);
		si->single_use = arena_printf(&r->arena, "{\"amount\":%lld,\"currency\":\"%s\"}",
					      (long long)amount, cur);
		if (!si->single_use)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	const char *obo = param_str(r, "on_behalf_of");
	if (!obo || !*obo)
		return 0;
	si->on_behalf_of = obo;
	static const struct connect_params p = {"SetupIntent", "on_behalf_of", "on_behalf_of",
						"on_behalf_of"};
	const struct payment_connect c = {.on_behalf_of = obo};
	return payments_connect_check_accounts(r, &c, NULL, &p);
}

static int h_create(struct req *r)
{
	struct confirm_ctx c;
	memset(&c, 0, sizeof(c));
	c.r = r;
	struct setup_intent *si = &c.si;
	id_new_at(si->id, "seti_", r->now);
	char secret[32];
	id_random_base62(secret, 24);
	si->client_secret = arena_printf(&r->arena, "%s_secret_%s", si->id, secret);
	si->created = r->now;
	si->version = 1;
	si->status = "requires_payment_method";
	si->metadata = "{}";
	const char *usage = param_str(r, "usage");
	si->usage = usage ? usage : "off_session";
	if (!si->client_secret || apply_common(r, si) != 0)
		return si->client_secret ? -1 : req_fail(r, ERR_API, NULL, NULL);
	if (create_only_apply(r, si) != 0)
		return -1;
	const char *pmc = param_str(r, "payment_method_configuration");
	if (pmc && !*pmc)
		pmc = NULL;
	const char *allow_redirects;
	int got_apm = apm_param(r, &allow_redirects);
	if (got_apm < 0)
		return -1;
	if (got_apm && allow_redirects) {
		/* the configuration's types that a SetupIntent can save (no currency to match) */
		si->automatic_payment_methods = allow_redirects;
		si->payment_method_configuration = pmc;
		if (apm_types(r, NULL, &si->payment_method_configuration,
			      &si->payment_method_configuration_parent, allow_redirects, PMT_SETUP,
			      NULL, false, "SetupIntent", &si->payment_method_types) != 0)
			return -1;
	} else if (pmc && payment_method_configuration_known(r, pmc) != 0) {
		return -1;
	}
	const char *pm = param_str(r, "payment_method");
	if (pm && !*pm)
		pm = NULL;
	bool confirm = false;
	param_bool(r, "confirm", &confirm);
	if (param_present(r, "confirmation_token") && !confirm)
		return req_fail(r, ERR_PARAM_BAD, "confirmation_token",
				"confirmation_token can only be used when confirm=true.");
	si->return_url = param_str(r, "return_url");
	if (ctoken_apply(r, &c, &pm) != 0)
		return -1;
	/* before anything is made (payment_method_data's PaymentMethod) */
	if (confirm && apm_check_return_url(r, si->automatic_payment_methods, si->return_url,
					    "Setup Intent") != 0)
		return -1;
	/* the request's own payment method is checked; the token's is the token's */
	bool from_token = c.ct && !param_present(r, "payment_method_data") && pm == c.ct->pm_ref;
	if (!from_token && check_pm_ref(r, pm) != 0)
		return -1;
	if (confirm && !from_token && redirect_data_check(r, &c) != 0)
		return -1;
	if (!from_token && pm_from_data(r, &pm) != 0)
		return -1;
	if (pm)
		si->status = "requires_confirmation";
	if (check_return_url(r, si->return_url) != 0)
		return -1;
	if (confirm) {
		c.insert_first = true;
		si->status = "requires_confirmation";
		return confirm_setup(r, &c, pm);
	}
	si->payment_method = pm;
	struct create_ctx cc = {.r = r, .si = *si};
	return req_write(r, create_fn, &cc);
}

int setup_intent_insert_pending(struct req *r, struct db *db, const char *id, const char *customer)
{
	struct setup_intent si;
	memset(&si, 0, sizeof(si));
	str_copy(si.id, sizeof(si.id), id);
	char secret[32];
	id_random_base62(secret, 24);
	si.client_secret = arena_printf(&r->arena, "%s_secret_%s", si.id, secret);
	si.created = r->now;
	si.version = 1;
	si.status = "requires_payment_method";
	si.metadata = "{}";
	si.usage = "off_session";
	si.customer = customer;
	if (!si.client_secret)
		return req_fail(r, ERR_API, NULL, NULL);
	if (si_write(r, db, &si, true) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return emit(r, db, &si, "setup_intent.created");
}

int setup_intent_status(struct req *r, struct db *db, const char *merchant_id, const char *id,
			const char **ret_status)
{
	struct setup_intent si;
	int rc = si_load(r, db, merchant_id, id, &si);
	if (rc == DB_OK)
		*ret_status = si.status;
	return rc;
}

int setup_intent_next_action(struct req *r, struct db *db, const char *merchant_id, const char *id,
			     const char **ret_status, const char **ret_next_action)
{
	struct setup_intent si;
	int rc = si_load(r, db, merchant_id, id, &si);
	if (rc == DB_OK) {
		*ret_status = si.status;
		*ret_next_action = si.next_action;
	}
	return rc;
}

int setup_intent_abandon(struct req *r, struct db *db, const char *id)
{
	struct setup_intent si;
	int rc = si_load(r, db, r->merchant_id, id, &si);
	if (rc == DB_NOTFOUND)
		return 0;
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!status_is(&si, "requires_action"))
		return 0;
	if (setup_attempt_abandon(r, db, si.latest_attempt) != 0)
		return -1;
	si.status = "canceled";
	si.cancellation_reason = "abandoned";
	si.next_action = NULL;
	si.three_d_secure_token = NULL;
	if (si_write(r, db, &si, false) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return emit(r, db, &si, "setup_intent.canceled");
}

int setup_intents_checkout(struct req *r, struct si_checkout *co)
{
	struct confirm_ctx c;
	memset(&c, 0, sizeof(c));
	c.r = r;
	struct setup_intent *si = &c.si;
	if (co->id[0])
		str_copy(si->id, sizeof(si->id), co->id);
	else
		id_new_at(si->id, "seti_", r->now);
	char secret[32];
	id_random_base62(secret, 24);
	si->client_secret = arena_printf(&r->arena, "%s_secret_%s", si->id, secret);
	si->created = r->now;
	si->version = 1;
	si->status = "requires_confirmation";
	si->usage = "off_session";
	si->metadata = co->metadata ? co->metadata : "{}";
	si->description = co->description;
	si->customer = co->customer;
	si->return_url = co->return_url;
	si->checkout_session = co->checkout_session;
	si->payment_method_types = co->payment_method_types;
	si->pmo_ach_verification_method = co->ach_verification_method;
	si->pmo_ach_financial_connections = co->ach_financial_connections;
	if (!si->client_secret)
		return req_fail(r, ERR_API, NULL, NULL);
	/* a bank account typed on the page: its mandate accepted there, online, now */
	c.checkout = true;
	c.acc_type = "online";
	c.acc_ip = co->acc_ip && *co->acc_ip ? co->acc_ip : "0.0.0.0";
	c.acc_ua = co->acc_ua && *co->acc_ua ? co->acc_ua : "unknown";
	c.insert_first = true;
	int rc = confirm_setup(r, &c, co->pm_id);
	/* a declined card commits the failed setup and answers with its card error */
	if (rc == 0 && r->err.set)
		rc = -1;
	str_copy(co->id, sizeof(co->id), si->id);
	co->status = c.si.status;
	/* where the browser goes next: the 3-D Secure page, or an iDEAL / Bancontact account's
	 * bank (the redirect test page) */
	co->challenge_url = rc != 0 || !status_is(&c.si, "requires_action") ? NULL
			    : c.si.three_d_secure_token ? challenge_url(r, &c.si)
							: c.bank_url;
	return rc;
}

struct load_ctx {
	struct req *r;
	const char *id;
	struct setup_intent si;
	const char *pm_data; /* update: payment_method_data's PaymentMethod, made before it */
};

static int load_fn(struct db *db, void *p)
{
	struct load_ctx *x = p;
	int rc = si_load(x->r, db, x->r->merchant_id, x->id, &x->si);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "setup_intent", x->id, "intent");
	return rc == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

int setup_intents_present(struct req *r, struct si_present *sp)
{
	struct confirm_ctx c;
	memset(&c, 0, sizeof(c));
	c.r = r;
	c.present = sp;
	struct load_ctx x = {.r = r, .id = sp->existing};
	if (req_read(r, load_fn, &x) != 0)
		return -1;
	c.si = x.si;
	if (!status_is(&c.si, "requires_payment_method"))
		return req_fail(r, ERR_SETUP_INTENT_UNEXPECTED_STATE, "setup_intent",
				"A reader can only process a SetupIntent whose status is "
				"requires_payment_method; this one's is %s.",
				c.si.status);
	id_new_at(sp->generated, "pm_", r->now);
	return confirm_setup(r, &c, sp->pm_id);
}

static int retrieve_fn(struct db *db, void *p)
{
	struct load_ctx *x = p;
	if (load_fn(db, p) != 0)
		return -1;
	return render_response(x->r, db, &x->si);
}

static int h_retrieve(struct req *r)
{
	struct load_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, retrieve_fn, &x) == 0 ? 0 : -1;
}

static bool confirmable(const struct setup_intent *si)
{
	return status_is(si, "requires_payment_method") || status_is(si, "requires_confirmation") ||
	       status_is(si, "requires_action");
}

static int h_confirm(struct req *r)
{
	struct load_ctx x = {.r = r, .id = r->args[0]};
	if (req_read(r, load_fn, &x) != 0)
		return -1;
	struct confirm_ctx c;
	memset(&c, 0, sizeof(c));
	c.r = r;
	c.si = x.si;
	/* Stripe.js's confirmSetup: a publishable key with the intent's client_secret */
	if (payments_client_secret_check(r, x.si.client_secret, "SetupIntent") != 0)
		return -1;
	if (!confirmable(&c.si))
		return unexpected_state(r, "confirm", &c.si);
	const char *pm = param_str(r, "payment_method");
	if (pm && !*pm)
		pm = NULL;
	const char *ru = param_str(r, "return_url");
	if (ctoken_apply(r, &c, &pm) != 0 ||
	    apm_check_return_url(r, c.si.automatic_payment_methods, ru ? ru : c.si.return_url,
				 "Setup Intent") != 0 ||
	    redirect_data_check(r, &c) != 0 || pm_from_data(r, &pm) != 0)
		return -1;
	if (!pm)
		pm = c.si.payment_method;
	if (pmo_apply(r, &c.si) != 0)
		return -1;
	return confirm_setup(r, &c, pm);
}

static int update_fn(struct db *db, void *p)
{
	struct load_ctx *x = p;
	struct req *r = x->r;
	if (load_fn(db, p) != 0)
		return -1;
	struct setup_intent *si = &x->si;
	bool setup_change =
	    param_present(r, "customer") || param_present(r, "payment_method") ||
	    param_present(r, "payment_method_options") ||
	    param_present(r, "payment_method_types") || param_present(r, "payment_method_data") ||
	    param_present(r, "attach_to_self") || param_present(r, "flow_directions");
	if (setup_change && !confirmable(si))
		return req_fail(r, ERR_SETUP_INTENT_UNEXPECTED_STATE, NULL,
				"You cannot update this SetupIntent because it has a status of %s. "
				"Only description and metadata can be updated.",
				si->status);
	if (apply_common(r, si) != 0)
		return -1;
	const char *pm = x->pm_data ? x->pm_data : param_str(r, "payment_method");
	if (pm) {
		if (check_pm_ref(r, *pm ? pm : NULL) != 0 ||
		    payments_pm_check_owned(r, db, *pm ? pm : NULL, "payment_method") != 0)
			return -1;
		/* a new payment method replaces the one a challenge was asked for */
		if (status_is(si, "requires_action") &&
		    setup_attempt_abandon(r, db, si->latest_attempt) != 0)
			return -1;
		si->payment_method = *pm ? pm : NULL;
		si->status =
		    si->payment_method ? "requires_confirmation" : "requires_payment_method";
		si->next_action = NULL;
		si->three_d_secure_token = NULL;
	}
	if (si->customer && param_present(r, "customer") &&
	    customer_check(r, db, si->customer) != 0)
		return -1;
	int rc = si_write(r, db, si, false);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return render_response(r, db, si);
}

static int h_update(struct req *r)
{
	struct load_ctx x = {.r = r, .id = r->args[0]};
	/* payment_method_data: the PaymentMethod is made (a write of its own, as on create) only
	 * for an intent that can still take it; the update then names it */
	if (param_present(r, "payment_method_data")) {
		if (req_read(r, load_fn, &x) != 0)
			return -1;
		if (!confirmable(&x.si))
			return req_fail(r, ERR_SETUP_INTENT_UNEXPECTED_STATE, NULL,
					"You cannot update this SetupIntent because it has a "
					"status of %s. Only description and metadata can be "
					"updated.",
					x.si.status);
		const char *pm = param_str(r, "payment_method");
		if (pm && !*pm)
			pm = NULL;
		if (pm_from_data(r, &pm) != 0)
			return -1;
		x.pm_data = pm;
	}
	return req_write(r, update_fn, &x);
}

static int cancel_fn(struct db *db, void *p)
{
	struct load_ctx *x = p;
	struct req *r = x->r;
	if (load_fn(db, p) != 0)
		return -1;
	struct setup_intent *si = &x->si;
	if (!confirmable(si))
		return unexpected_state(r, "cancel", si);
	const char *reason = param_str(r, "cancellation_reason");
	if (setup_attempt_abandon(r, db, si->latest_attempt) != 0)
		return -1;
	si->status = "canceled";
	si->cancellation_reason = reason && *reason ? reason : NULL;
	si->next_action = NULL;
	si->three_d_secure_token = NULL;
	if (si_write(r, db, si, false) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (emit(r, db, si, "setup_intent.canceled") != 0)
		return -1;
	return render_response(r, db, si);
}

static int h_cancel(struct req *r)
{
	struct load_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, cancel_fn, &x);
}

static const char SQL_CURSOR[] =
    "SELECT created FROM setup_intents WHERE merchant_id = $1 AND id = $2";
/* CUSTOMER and PM: those two filters' terms; each is also a list_narrow (list.h) with the plain
 * `col = $n`, answered from setup_intents_customer / setup_intents_payment_method */
#define LIST_SQL(CUSTOMER, PM, DIR)                                                                \
	"SELECT id FROM setup_intents WHERE merchant_id = $1 AND " CUSTOMER " AND " PM             \
	" AND id > $2 AND id < $3 AND ($7 IS NULL OR COALESCE(attach_to_self, 0) = $7)"            \
	" ORDER BY id " DIR " LIMIT $4"
#define ANY_CUSTOMER "($5 IS NULL OR customer = $5)"
#define ANY_PM "($6 IS NULL OR payment_method = $6)"
static const char SQL_DESC[] = LIST_SQL(ANY_CUSTOMER, ANY_PM, "DESC");
static const char SQL_ASC[] = LIST_SQL(ANY_CUSTOMER, ANY_PM, "ASC");
static const char SQL_CUSTOMER_DESC[] = LIST_SQL("customer = $5", ANY_PM, "DESC");
static const char SQL_CUSTOMER_ASC[] = LIST_SQL("customer = $5", ANY_PM, "ASC");
static const char SQL_PM_DESC[] = LIST_SQL(ANY_CUSTOMER, "payment_method = $6", "DESC");
static const char SQL_PM_ASC[] = LIST_SQL(ANY_CUSTOMER, "payment_method = $6", "ASC");

static int list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	list_bind_filter(r, st, first, "customer");
	list_bind_filter(r, st, first + 1, "payment_method");
	/* an intent made without attach_to_self has it false, as it is shown */
	list_bind_bool(r, st, first + 2, "attach_to_self");
	return 0;
}

static int list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	struct setup_intent si;
	int rc = si_load(r, db, r->merchant_id, id, &si);
	if (rc != DB_OK)
		return rc;
	struct expand_set ex;
	payments_expand_from_req(r, &ex, "data");
	return si_render(r, db, &si, &ex, "data", j);
}

static int h_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/setup_intents",
	    .object_name = "setup_intent",
	    .id_prefix = "seti_",
	    .sql_cursor = SQL_CURSOR,
	    .sql_desc = SQL_DESC,
	    .sql_asc = SQL_ASC,
	    .narrow = {{"customer", SQL_CUSTOMER_DESC, SQL_CUSTOMER_ASC},
		       {"payment_method", SQL_PM_DESC, SQL_PM_ASC}},
	    .bind_filters = list_bind,
	    .render = list_render,
	};
	return list_respond(r, &spec);
}

/* ---- the 3-D Secure challenge for a SetupIntent (no API key: the token is the secret) ---- */

struct challenge_ctx {
	struct req *r;
	const char *acct, *si_id, *token;
	struct setup_intent si;
	char merchant_name[256];
	bool ok;
};

static int challenge_load_fn(struct db *db, void *p)
{
	struct challenge_ctx *x = p;
	struct req *r = x->r;
	if (si_load(r, db, x->acct, x->si_id, &x->si) != DB_OK)
		return 0;
	if (!challenge_token_eq(x->si.three_d_secure_token, x->token) ||
	    !status_is(&x->si, "requires_action"))
		return 0;
	if (challenge_merchant_name(db, x->acct, x->merchant_name, sizeof(x->merchant_name)) != 0)
		return -1;
	x->ok = true;
	return 0;
}

/* 0: found (x filled), 1: answered with the not-found page, -1: error. */
static int challenge_lookup(struct req *r, struct challenge_ctx *x)
{
	memset(x, 0, sizeof(*x));
	x->r = r;
	x->acct = r->args[0];
	x->si_id = r->args[1];
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
	int rc = challenge_lookup(r, &x);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	struct buf b;
	buf_init(&b, 64 * 1024);
	buf_puts(&b, "<h1>Confirm your card</h1><p>Your bank asks you to confirm that this card "
		     "may be saved for later payments (3-D Secure test mode). Nothing is "
		     "charged now.</p><dl><dt>Merchant</dt><dd>");
	html_escape(&b, x.merchant_name);
	buf_puts(&b, "</dd></dl>");
	challenge_forms(&b,
			arena_printf(&r->arena, "/3ds-setup/%s/%s/%s", x.acct, x.si_id, x.token));
	int ret = challenge_page(r, 200, "Confirm your card", buf_cstr(&b));
	buf_release(&b);
	return ret;
}

/* Where the browser goes afterwards: return_url with Stripe's query parameters. */
static int finish_redirect(struct req *r, const struct setup_intent *si, bool ok)
{
	return challenge_return(r, si->return_url, "setup_intent", si->id, si->client_secret, ok);
}

static int h_challenge_complete(struct req *r)
{
	struct challenge_ctx x;
	int rc = challenge_lookup(r, &x);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	struct confirm_ctx c;
	memset(&c, 0, sizeof(c));
	c.r = r;
	c.si = x.si;
	c.authenticated = true;
	rc = confirm_setup(r, &c, x.si.payment_method);
	/* the browser gets a page either way; the intent tells the merchant what happened */
	bool ok = rc == 0 && r->status == 200;
	r->err.set = false;
	return finish_redirect(r, &c.si, ok);
}

static int fail_fn(struct db *db, void *p)
{
	struct challenge_ctx *x = p;
	struct req *r = x->r;
	/* a copy: run again (store.h), the write starts from the intent as the page read it, not
	 * from this run's changes (si_write moves the version on) */
	struct setup_intent changed = x->si;
	struct setup_intent *si = &changed;
	struct setup_intent cur;
	if (si_load(r, db, r->merchant_id, si->id, &cur) != DB_OK || cur.version != si->version)
		return req_fail(r, ERR_SETUP_INTENT_UNEXPECTED_STATE, NULL, "%s",
				"The SetupIntent changed during authentication.");
	si->last_setup_error =
	    setup_error_json(r, db, ERR_SETUP_INTENT_AUTH_FAILURE, NULL, si->payment_method);
	si->status = "requires_payment_method";
	si->payment_method = NULL;
	si->next_action = NULL;
	si->three_d_secure_token = NULL;
	if (!si->last_setup_error)
		return req_fail(r, ERR_API, NULL, NULL);
	/* the attempt that asked for the challenge fails with it */
	if (si->latest_attempt && setup_attempt_finish(r, db, si->latest_attempt, "failed",
						       "failed", si->last_setup_error) != 0)
		return -1;
	if (si_write(r, db, si, false) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return emit(r, db, si, "setup_intent.setup_failed");
}

static int h_challenge_fail(struct req *r)
{
	struct challenge_ctx x;
	int rc = challenge_lookup(r, &x);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	if (req_write(r, fail_fn, &x) != 0)
		r->err.set = false;
	return finish_redirect(r, &x.si, false);
}

/* ---- POST /v1/setup_intents/{id}/verify_microdeposits (us_bank_account) ---- */

struct verify_ctx {
	struct confirm_ctx c;
	const char *id;
	bool match;
	struct ach_verify_result *res;
};

static int verify_fn(struct db *db, void *p)
{
	struct verify_ctx *v = p;
	struct confirm_ctx *c = &v->c;
	struct req *r = c->r;
	struct setup_intent *si = &c->si;
	int rc = si_load(r, db, r->merchant_id, v->id, si);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "setup_intent", v->id, "intent");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	c->si0 = *si;
	char pm_id[ID_MAX], mandate[ID_MAX];
	int attempts = 0;
	rc = DB_NOTFOUND;
	if (strcmp(si->status, "requires_action") == 0 && si->next_action &&
	    strstr(si->next_action, "\"verify_with_microdeposits\""))
		rc = ach_verification_get(db, r->merchant_id, si->id, pm_id, mandate, &attempts);
	if (rc == DB_NOTFOUND)
		return req_fail(
		    r, ERR_SETUP_INTENT_UNEXPECTED_STATE, NULL,
		    "This SetupIntent's microdeposits cannot be verified: its status is "
		    "%s. Only a SetupIntent whose next_action is "
		    "verify_with_microdeposits can be verified.",
		    si->status);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!v->match) {
		attempts++;
		bool last = attempts >= 3;
		v->res->left = 3 - attempts;
		v->res->outcome = last ? ACH_VERIFY_EXCEEDED : ACH_VERIFY_MISMATCH;
		if (ach_verification_set(db, r->merchant_id, si->id, attempts,
					 last ? "failed" : "pending") != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (!last) {
			req_fail(r, ERR_MICRODEPOSIT_MISMATCH, "amounts",
				 "The amounts provided do not match the amounts that were sent to "
				 "the bank account. You have %d verification attempt%s remaining.",
				 3 - attempts, 3 - attempts == 1 ? "" : "s");
			return REQ_COMMIT_ERR;
		}
		si->status = "requires_payment_method";
		si->next_action = NULL;
		si->last_setup_error = ach_attempts_error(r, db, pm_id);
		si->payment_method = NULL;
		if (!si->last_setup_error || si_write(r, db, si, false) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (emit(r, db, si, "setup_intent.setup_failed") != 0)
			return -1;
		req_fail(r, ERR_MICRODEPOSIT_ATTEMPTS_EXCEEDED, NULL, "%s", ACH_ATTEMPTS_MESSAGE);
		return REQ_COMMIT_ERR;
	}
	v->res->outcome = ACH_VERIFY_OK;
	v->res->left = 3 - attempts;
	if (ach_verification_set(db, r->merchant_id, si->id, attempts, "verified") != DB_OK ||
	    pm_mark_set_up(db, r->merchant_id, pm_id) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	struct pm_card pm;
	if (pm_load(db, r->merchant_id, pm_id, &pm) != DB_OK || !PM_IS_ACH(&pm))
		return req_fail(r, ERR_API, NULL, NULL);
	si->next_action = NULL;
	return bank_setup_succeed(r, db, c, &pm, mandate, false);
}

int ach_si_verify(struct req *r, const char *id, bool match, struct ach_verify_result *res)
{
	memset(res, 0, sizeof(*res));
	struct verify_ctx v;
	memset(&v, 0, sizeof(v));
	v.c.r = r;
	v.id = id;
	v.match = match;
	v.res = res;
	id_new_at(v.c.attempt_id, SETUP_ATTEMPT_PREFIX, r->now);
	return req_write(r, verify_fn, &v);
}

static int h_verify(struct req *r)
{
	bool match = false;
	if (ach_check_microdeposits(r, &match) != 0)
		return -1;
	struct ach_verify_result res;
	return ach_si_verify(r, r->args[0], match, &res);
}

const struct route setup_intents_routes[] = {
    {"POST", "/v1/setup_intents", h_create, create_params, 0},
    {"GET", "/v1/setup_intents", h_list, list_params, ROUTE_LIST},
    {"GET", "/v1/setup_intents/{id}", h_retrieve, retrieve_params, 0},
    {"POST", "/v1/setup_intents/{id}", h_update, update_params, 0},
    {"POST", "/v1/setup_intents/{id}/confirm", h_confirm, confirm_params, ROUTE_PUBLISHABLE},
    {"POST", "/v1/setup_intents/{id}/cancel", h_cancel, cancel_params, 0},
    {"POST", "/v1/setup_intents/{id}/verify_microdeposits", h_verify, ach_verify_params, 0},
    {"GET", "/3ds-setup/{acct}/{seti}/{token}", h_challenge_page, no_params,
     ROUTE_NO_AUTH | ROUTE_RAW},
    {"POST", "/3ds-setup/{acct}/{seti}/{token}/complete", h_challenge_complete, no_params,
     ROUTE_NO_AUTH | ROUTE_RAW},
    {"POST", "/3ds-setup/{acct}/{seti}/{token}/fail", h_challenge_fail, no_params,
     ROUTE_NO_AUTH | ROUTE_RAW},
    {NULL, NULL, NULL, NULL, 0},
};

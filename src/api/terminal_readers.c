/*
 * /v1/terminal/readers (tmr_…): Stripe Terminal's readers, server-driven, and the simulated
 * reader's test helper.
 *
 * A reader is registered with Stripe's registration code for a simulated WisePOS E
 * (`simulated-wpe`: device_type simulated_wisepos_e, always `online`; Tender has no real
 * readers, so any other code is Stripe's 400 for a code it does not know), at one of the
 * merchant's locations; retrieved, updated (label, metadata), listed (device_type, location,
 * serial_number, status) and deleted (its row stays, deleted = 1, as a location's).
 *
 * Actions (the reader's `action`, null until one is set): process_payment_intent and
 * process_setup_intent put the reader `in_progress` waiting for a card; set_reader_display shows
 * a cart and succeeds at once; cancel_action clears an action in progress (action null, as
 * Stripe answers); refund_payment is Stripe's for Interac only, which Tender does not take, so
 * it answers Stripe's 400. A new action while one is in progress is Stripe's
 * terminal_reader_busy. Setting an action appends no event (Stripe sends none); its outcome
 * appends terminal.reader.action_succeeded or terminal.reader.action_failed.
 *
 * POST /v1/test_helpers/terminal/readers/{id}/present_payment_method (test keys only) is the
 * card tapped on the reader: a card_present PaymentMethod is made of card_present[number]
 * (default Stripe's Visa test card) through the vault like every card, in a write of its own
 * (as payment_method_data's: the request's idempotent answer is the payment's), then the
 * PaymentIntent the action names is confirmed with it through the confirm path every payment
 * takes (payment_intents_invoice with `present`: the charge, acquirer hold, journal, balance
 * transaction, fees, Radar and the intent's events), and the reader's action becomes succeeded
 * or failed (the decline's code and message) in that same write, with its event. A
 * process_setup_intent action's SetupIntent is confirmed the same way through the card setup
 * path (setup_intents_present): the reusable card generated from the reader's card is saved
 * (Stripe's generated_card, which the action then names).
 *
 * Stripe's two-step flow goes through the same code: collect_payment_method is the process step
 * without the confirm (the reader waits in_progress; the card presented is stored the same way
 * and attached to the PaymentIntent, which stays requires_confirmation with nothing authorized;
 * the action succeeds showing the PaymentMethod), and confirm_payment_intent confirms the intent
 * with the card the reader collected for it through the same confirm path, the simulated reader
 * confirming at once (the action succeeded, or failed with the decline). cancel_action clears a
 * collect still waiting for its card.
 *
 * collect_inputs shows forms (email, numeric, phone, selection, text, with toggles) and waits
 * in_progress until the simulated reader's test helpers complete it: succeed_input_collection
 * (the values Stripe's simulated reader collects; skip_non_required_inputs=all skips the
 * optional ones) or timeout_input_collection (failed, collect_inputs_timeout). Signature inputs
 * (a collected signature is a File) are refused. The amounts
 * Stripe's Terminal testing guide declines (ending in 01, 05, 55, 65, 75) are declined by the
 * card path (api/payments_common.c, terminal_test_amount_decline).
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "api/common.h"
#include "api/list.h"
#include "api/resources.h"
#include "api/terminal.h"
#include "app.h"
#include "core/str.h"
#include "http/form.h"
#include "payments/payments.h"
#include "vault/payment_method.h"
#include "vault/vault.h"

#define SIMULATED_CODE "simulated-wpe"
#define SIMULATED_DEVICE "simulated_wisepos_e"
/* the card a reader reads when the test helper names none: Stripe's Visa test card */
#define DEFAULT_TEST_CARD "visa"
#define CART_ITEMS_MAX 100
/* the most inputs, choices and toggles a collect_inputs action takes */
#define INPUTS_MAX 20
#define INPUT_CHOICES_MAX 20
#define INPUT_TOGGLES_MAX 20

struct reader {
	char id[ID_MAX];
	int64_t created;
	bool deleted;
	const char *device_type, *label, *location, *serial_number, *metadata;
	const char *action;	   /* JSON, or NULL */
	const char *action_object; /* the intent the action names, or NULL */
	/* a collect_inputs action's inputs as the test helper completes them: every value
	 * collected, or every optional input skipped (NULL for any other action) */
	const char *action_collected, *action_skipped;
	/* the action's own status and type, and a succeeded collect_payment_method's card: read
	 * from its JSON by action_facts (a search of the text could match a nested member) */
	const char *action_status, *action_type, *action_pm;
};

/* Sets rd's action facts from rd->action (all NULL without one). The action is Tender's own
 * JSON (action_json): one that does not parse is a store fault, -1. */
static int action_facts(struct req *r, struct reader *rd)
{
	rd->action_status = rd->action_type = rd->action_pm = NULL;
	if (!rd->action)
		return 0;
	json_t *a = json_loads(rd->action, 0, NULL);
	if (!json_is_object(a)) {
		json_decref(a);
		return -1;
	}
	const char *status = json_string_value(json_object_get(a, "status"));
	const char *type = json_string_value(json_object_get(a, "type"));
	const char *pm = NULL;
	if (type && strcmp(type, "collect_payment_method") == 0)
		pm = json_string_value(json_object_get(
		    json_object_get(json_object_get(a, type), "payment_method"), "id"));
	rd->action_status = status ? arena_strdup(&r->arena, status) : NULL;
	rd->action_type = type ? arena_strdup(&r->arena, type) : NULL;
	rd->action_pm = pm ? arena_strdup(&r->arena, pm) : NULL;
	bool ok =
	    (!status || rd->action_status) && (!type || rd->action_type) && (!pm || rd->action_pm);
	json_decref(a);
	return ok ? 0 : -1;
}

static const char SQL_GET[] =
    "SELECT id, created, deleted, device_type, label, location, serial_number, metadata, action,"
    " action_object, action_collected, action_skipped FROM terminal_readers"
    " WHERE merchant_id = $1 AND id = $2";
static const char SQL_INSERT[] =
    "INSERT INTO terminal_readers (merchant_id, id, created, device_type, label, location,"
    " serial_number, metadata) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
static const char SQL_UPDATE[] = "UPDATE terminal_readers SET label = $3, metadata = $4"
				 " WHERE merchant_id = $1 AND id = $2";
static const char SQL_ACTION[] =
    "UPDATE terminal_readers SET action = $3, action_object = $4, action_collected = $5,"
    " action_skipped = $6 WHERE merchant_id = $1 AND id = $2";
static const char SQL_DELETE[] =
    "UPDATE terminal_readers SET deleted = 1 WHERE merchant_id = $1 AND id = $2";

static int reader_load(struct req *r, struct db *db, const char *id, struct reader *rd)
{
	struct db_stmt *st = db_prepare(db, SQL_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		memset(rd, 0, sizeof(*rd));
		str_copy(rd->id, sizeof(rd->id), db_col_text(st, 0, NULL));
		rd->created = db_col_int64(st, 1);
		rd->deleted = db_col_int64(st, 2) != 0;
		rd->device_type = col_text_dup(&r->arena, st, 3);
		rd->label = col_text_dup(&r->arena, st, 4);
		rd->location = col_text_dup(&r->arena, st, 5);
		rd->serial_number = col_text_dup(&r->arena, st, 6);
		rd->metadata = col_text_dup(&r->arena, st, 7);
		rd->action = col_text_dup(&r->arena, st, 8);
		rd->action_object = col_text_dup(&r->arena, st, 9);
		rd->action_collected = col_text_dup(&r->arena, st, 10);
		rd->action_skipped = col_text_dup(&r->arena, st, 11);
		if (!rd->device_type || !rd->label || !rd->serial_number || !rd->metadata ||
		    action_facts(r, rd) != 0)
			rc = DB_ERR;
	}
	db_reset(st);
	if (rc == DB_ROW)
		return DB_OK;
	return rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
}

static void reader_render(struct req *r, const struct reader *rd, struct json *j)
{
	json_obj_open(j);
	json_kv_str(j, "id", rd->id);
	json_kv_str(j, "object", "terminal.reader");
	if (rd->deleted) {
		json_kv_bool(j, "deleted", true);
		json_obj_close(j);
		return;
	}
	/* an action with no API error shows api_error null (action_json): that member, then the
	 * stored action's own after its '{' (the writer took the value as written whole) */
	static const char with[] = "{\"api_error\":", none[] = "{\"api_error\":null,";
	if (rd->action && rd->action[0] == '{' && rd->action[1] != '}' &&
	    strncmp(rd->action, with, sizeof(with) - 1) != 0) {
		json_key(j, "action");
		json_raw(j, none, sizeof(none) - 1);
		buf_append(j->b, rd->action + 1, strlen(rd->action + 1));
	} else {
		json_kv_raw_or_null(j, "action", rd->action);
	}
	/* a simulated reader's, as Stripe shows them */
	json_kv_str(j, "device_sw_version", "");
	json_kv_str(j, "device_type", rd->device_type);
	json_kv_str(j, "ip_address", "0.0.0.0");
	json_kv_str(j, "label", rd->label);
	json_kv_bool(j, "livemode", r->livemode);
	json_kv_str_or_null(j, "location", rd->location);
	json_kv_raw(j, "metadata", rd->metadata, strlen(rd->metadata));
	json_kv_str(j, "serial_number", rd->serial_number);
	json_kv_str(j, "status", "online");
	json_obj_close(j);
}

/* The reader's `action`: {api_error, failure_code, failure_message, <type>: inner, status,
 * type} in the spec's key order (inner: the type's own hash as JSON). api_error (the error hash
 * of an action failed by an API error, as JSON) is written only when there is one: reader_render
 * shows null for an action without it (every other action, and those stored before it was
 * shown), and the in-progress actions read back here start as they always did. Arena memory,
 * or NULL. */
static const char *action_json(struct req *r, const char *type, const char *inner,
			       const char *status, const char *api_error, const char *failure_code,
			       const char *failure_message)
{
	struct buf b;
	struct json j;
	buf_init(&b, BUF_MAX_DEFAULT);
	json_init(&j, &b);
	json_obj_open(&j);
	if (api_error)
		json_kv_raw(&j, "api_error", api_error, strlen(api_error));
	json_kv_str_or_null(&j, "failure_code", failure_code);
	json_kv_str_or_null(&j, "failure_message", failure_message);
	json_kv_raw(&j, type, inner, strlen(inner));
	json_kv_str(&j, "status", status);
	json_kv_str(&j, "type", type);
	json_obj_close(&j);
	const char *s = b.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&b));
	buf_release(&b);
	return s;
}

/* collected, skipped: a collect_inputs action's outcomes (struct reader), else NULL */
static int action_save(struct req *r, struct db *db, struct reader *rd, const char *action,
		       const char *object, const char *collected, const char *skipped)
{
	rd->action = action;
	rd->action_object = object;
	rd->action_collected = collected;
	rd->action_skipped = skipped;
	if (action_facts(r, rd) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	struct db_stmt *st = db_prepare(db, SQL_ACTION);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, rd->id, -1);
	db_bind_text(st, 3, action, -1);
	db_bind_text(st, 4, object, -1);
	db_bind_text(st, 5, collected, -1);
	db_bind_text(st, 6, skipped, -1);
	return db_step_done(st) == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* The reader as its event's object and the answer (one rendering for both). */
static int emit_and_answer(struct req *r, struct db *db, const struct reader *rd, const char *type)
{
	struct buf b;
	struct json j;
	buf_init(&b, BUF_MAX_DEFAULT);
	json_init(&j, &b);
	reader_render(r, rd, &j);
	const char *js;
	size_t len;
	char ev[ID_MAX];
	if (api_event_append(r, db, type, rd->id, &b, NULL, &js, &len, ev) != 0)
		return -1;
	return req_answer_event(r, ev, js, len);
}

/* An action in progress, by its status */
static bool action_in_progress(const struct reader *rd)
{
	return rd->action_status && strcmp(rd->action_status, "in_progress") == 0;
}

/* Is the reader's action (any status) of type? */
static bool action_is(const struct reader *rd, const char *type)
{
	return rd->action_type && strcmp(rd->action_type, type) == 0;
}

/* ---- parameters ---- */

static const struct param_spec register_params[] = {
    {"label", PT_STRING, 0, 5000, NULL, NULL},
    {"location", PT_STRING, 0, 5000, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"registration_code", PT_STRING, PF_REQUIRED, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec update_params[] = {
    {"label", PT_STRING, PF_EMPTYABLE, 5000, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec list_params[] = {
    {"device_type", PT_ENUM, 0, 0,
     (const char *const[]){"bbpos_chipper2x", "bbpos_wisepad3", "bbpos_wisepos_e",
			   "simulated_wisepos_e", "stripe_m2", "verifone_P400", NULL},
     NULL},
    {"location", PT_STRING, 0, 5000, NULL, NULL},
    {"serial_number", PT_STRING, 0, 5000, NULL, NULL},
    {"status", PT_ENUM, 0, 0, (const char *const[]){"offline", "online", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};
static const struct param_spec tipping_config_children[] = {
    {"amount_eligible", PT_INT, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec process_config_children[] = {
    {"skip_tipping", PT_BOOL, 0, 0, NULL, NULL},
    {"tipping", PT_OBJECT, 0, 0, NULL, tipping_config_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec process_pi_params[] = {
    {"payment_intent", PT_STRING, PF_REQUIRED, 5000, NULL, NULL},
    {"process_config", PT_OBJECT, 0, 0, NULL, process_config_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec collect_config_children[] = {
    {"allow_redisplay", PT_ENUM, 0, 0,
     (const char *const[]){"always", "limited", "unspecified", NULL}, NULL},
    {"enable_customer_cancellation", PT_BOOL, 0, 0, NULL, NULL},
    {"skip_tipping", PT_BOOL, 0, 0, NULL, NULL},
    {"tipping", PT_OBJECT, 0, 0, NULL, tipping_config_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec collect_pm_params[] = {
    {"collect_config", PT_OBJECT, 0, 0, NULL, collect_config_children},
    {"payment_intent", PT_STRING, PF_REQUIRED, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec confirm_config_children[] = {
    {"return_url", PT_STRING, 0, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec confirm_pi_params[] = {
    {"confirm_config", PT_OBJECT, 0, 0, NULL, confirm_config_children},
    {"payment_intent", PT_STRING, PF_REQUIRED, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec custom_text_children[] = {
    {"description", PT_STRING, 0, 500, NULL, NULL},
    {"skip_button", PT_STRING, 0, 14, NULL, NULL},
    {"submit_button", PT_STRING, 0, 30, NULL, NULL},
    {"title", PT_STRING, PF_REQUIRED, 40, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec choice_children[] = {
    {"id", PT_STRING, PF_REQUIRED, 50, NULL, NULL},
    {"style", PT_ENUM, 0, 0, (const char *const[]){"primary", "secondary", NULL}, NULL},
    {"text", PT_STRING, PF_REQUIRED, 30, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec selection_children[] = {
    {"choices", PT_OBJECT_ARRAY, PF_REQUIRED, INPUT_CHOICES_MAX, NULL, choice_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec toggle_children[] = {
    {"default_value", PT_ENUM, 0, 0, (const char *const[]){"disabled", "enabled", NULL}, NULL},
    {"description", PT_STRING, 0, 50, NULL, NULL},
    {"title", PT_STRING, 0, 50, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec input_children[] = {
    {"custom_text", PT_OBJECT, PF_REQUIRED, 0, NULL, custom_text_children},
    {"required", PT_BOOL, 0, 0, NULL, NULL},
    {"selection", PT_OBJECT, 0, 0, NULL, selection_children},
    {"toggles", PT_OBJECT_ARRAY, 0, INPUT_TOGGLES_MAX, NULL, toggle_children},
    {"type", PT_ENUM, PF_REQUIRED, 0,
     (const char *const[]){"email", "numeric", "phone", "selection", "signature", "text", NULL},
     NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec collect_inputs_params[] = {
    {"inputs", PT_OBJECT_ARRAY, PF_REQUIRED, INPUTS_MAX, NULL, input_children},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec succeed_inputs_params[] = {
    {"skip_non_required_inputs", PT_ENUM, 0, 0, (const char *const[]){"all", "none", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec process_si_params[] = {
    {"customer_consent_collected", PT_BOOL, PF_REQUIRED, 0, NULL, NULL},
    {"process_config", PT_OBJECT, 0, 0, NULL, no_params},
    {"setup_intent", PT_STRING, PF_REQUIRED, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec line_item_children[] = {
    {"amount", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {"description", PT_STRING, PF_REQUIRED, 5000, NULL, NULL},
    {"quantity", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec cart_children[] = {
    {"currency", PT_CURRENCY, PF_REQUIRED, 0, NULL, NULL},
    {"line_items", PT_OBJECT_ARRAY, PF_REQUIRED, CART_ITEMS_MAX, NULL, line_item_children},
    {"tax", PT_INT, 0, 0, NULL, NULL},
    {"total", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec display_params[] = {
    {"cart", PT_OBJECT, 0, 0, NULL, cart_children},
    {"type", PT_ENUM, PF_REQUIRED, 0, (const char *const[]){"cart", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec refund_params[] = {
    {"amount", PT_INT, 0, 0, NULL, NULL},
    {"charge", PT_STRING, 0, 5000, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"payment_intent", PT_STRING, 0, 5000, NULL, NULL},
    {"refund_application_fee", PT_BOOL, 0, 0, NULL, NULL},
    {"reverse_transfer", PT_BOOL, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec card_present_children[] = {
    {"number", PT_STRING, 0, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec present_params[] = {
    {"amount_tip", PT_INT, 0, 0, NULL, NULL},
    {"card_present", PT_OBJECT, 0, 0, NULL, card_present_children},
    {"interac_present", PT_OBJECT, 0, 0, NULL, card_present_children},
    {"type", PT_ENUM, 0, 0, (const char *const[]){"card_present", "interac_present", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

/* ---- register, retrieve, update, delete ---- */

struct reg_ctx {
	struct req *r;
	struct reader rd;
};

static int register_fn(struct db *db, void *p)
{
	struct reg_ctx *x = p;
	struct req *r = x->r;
	struct reader *rd = &x->rd;
	int rc = terminal_location_live(r, db, rd->location);
	if (rc == DB_NOTFOUND)
		return req_fail(r, ERR_PARAM_RESOURCE_MISSING, "location", "No such location: '%s'",
				rd->location);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	struct db_stmt *st = db_prepare(db, SQL_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, rd->id, -1);
	db_bind_int64(st, 3, rd->created);
	db_bind_text(st, 4, rd->device_type, -1);
	db_bind_text(st, 5, rd->label, -1);
	db_bind_text(st, 6, rd->location, -1);
	db_bind_text(st, 7, rd->serial_number, -1);
	db_bind_text(st, 8, rd->metadata, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	reader_render(r, rd, req_json(r));
	return 0;
}

static int h_register(struct req *r)
{
	const char *code = param_str(r, "registration_code");
	if (!code || strcmp(code, SIMULATED_CODE) != 0)
		return req_fail(r, ERR_PARAM_BAD, "registration_code",
				"The registration code provided is invalid. Please try again, or "
				"use `%s` for a simulated reader.",
				SIMULATED_CODE);
	if (r->livemode)
		return req_fail(r, ERR_PARAM_BAD, "registration_code",
				"Simulated readers can only be registered with a test mode key.");
	struct reg_ctx x = {.r = r};
	struct reader *rd = &x.rd;
	rd->location = param_str(r, "location");
	if (!rd->location || !*rd->location)
		return req_fail(r, ERR_PARAM_MISSING, "location", "location");
	id_new_at(rd->id, "tmr_", r->now);
	rd->created = r->now;
	rd->device_type = SIMULATED_DEVICE;
	char rnd[24];
	id_random_base62(rnd, 20);
	rd->serial_number = arena_printf(&r->arena, "%s-%s", SIMULATED_CODE, rnd);
	const char *label = param_str(r, "label");
	/* Stripe: without a label, the registration code (a simulated reader's, its serial) */
	rd->label = label && *label ? label : rd->serial_number;
	rd->metadata = "{}";
	if (!rd->serial_number)
		return req_fail(r, ERR_API, NULL, NULL);
	if (metadata_apply(r, NULL, "metadata", &rd->metadata) != 0)
		return -1;
	return req_write(r, register_fn, &x);
}

struct id_ctx {
	struct req *r;
	const char *id;
	struct reader rd;
	/* the action to set (handlers below): its type, inner JSON, status and intent */
	const char *type, *inner, *status, *object;
	const char *collected, *skipped; /* collect_inputs' outcomes */
};

/* The reader of the path (not deleted unless deleted_ok). 0, or -1 with Stripe's 404. */
static int reader_of_path(struct id_ctx *x, struct db *db, bool deleted_ok)
{
	int rc = reader_load(x->r, db, x->id, &x->rd);
	if (rc == DB_OK && x->rd.deleted && !deleted_ok)
		rc = DB_NOTFOUND;
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "terminal.reader", x->id, "reader");
	return rc == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

static int retrieve_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	if (reader_of_path(x, db, true) != 0)
		return -1;
	reader_render(x->r, &x->rd, req_json(x->r));
	return 0;
}

static int h_retrieve(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, retrieve_fn, &x) == 0 ? 0 : -1;
}

static int update_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	struct req *r = x->r;
	if (reader_of_path(x, db, false) != 0)
		return -1;
	struct reader *rd = &x->rd;
	const char *label = param_str(r, "label");
	if (label)
		rd->label = *label ? label : rd->serial_number;
	if (metadata_apply(r, rd->metadata, "metadata", &rd->metadata) != 0)
		return -1;
	struct db_stmt *st = db_prepare(db, SQL_UPDATE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, rd->id, -1);
	db_bind_text(st, 3, rd->label, -1);
	db_bind_text(st, 4, rd->metadata, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	reader_render(r, rd, req_json(r));
	return 0;
}

static int h_update(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, update_fn, &x);
}

static int delete_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	struct req *r = x->r;
	if (reader_of_path(x, db, false) != 0)
		return -1;
	struct db_stmt *st = db_prepare(db, SQL_DELETE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, x->id, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	x->rd.deleted = true;
	reader_render(r, &x->rd, req_json(r));
	return 0;
}

static int h_delete(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, delete_fn, &x);
}

/* ---- list ---- */

static const char SQL_CURSOR[] =
    "SELECT created FROM terminal_readers WHERE merchant_id = $1 AND id = $2";
/* every reader is a simulated one, always online: status=offline lists none */
#define LIST_WHERE                                                                                 \
	"SELECT id FROM terminal_readers WHERE merchant_id = $1 AND id > $2 AND id < $3"           \
	" AND deleted = 0 AND ($5 IS NULL OR device_type = $5) AND ($6 IS NULL OR location = $6)"  \
	" AND ($7 IS NULL OR serial_number = $7) AND ($8 IS NULL OR $8 = 'online')"
static const char SQL_DESC[] = LIST_WHERE " ORDER BY id DESC LIMIT $4";
static const char SQL_ASC[] = LIST_WHERE " ORDER BY id ASC LIMIT $4";

static int list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	list_bind_filter(r, st, first, "device_type");
	list_bind_filter(r, st, first + 1, "location");
	list_bind_filter(r, st, first + 2, "serial_number");
	list_bind_filter(r, st, first + 3, "status");
	return 0;
}

static int list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	struct reader rd;
	int rc = reader_load(r, db, id, &rd);
	if (rc == DB_OK)
		reader_render(r, &rd, j);
	return rc;
}

static int h_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/terminal/readers",
	    .object_name = "terminal.reader",
	    .id_prefix = "tmr_",
	    .sql_cursor = SQL_CURSOR,
	    .sql_desc = SQL_DESC,
	    .sql_asc = SQL_ASC,
	    .bind_filters = list_bind,
	    .render = list_render,
	};
	return list_respond(r, &spec);
}

/* ---- actions ---- */

static int busy(struct req *r)
{
	return req_fail(r, ERR_TERMINAL_READER_BUSY, NULL,
			"Reader is currently busy processing another request. Please reference "
			"the integration guide at "
			"https://stripe.com/docs/terminal/payments/collect-payment?terminal-sdk-"
			"platform=server-driven#handle-errors for details on how to handle this "
			"error.");
}

/* Sets x's action on the reader of the path (none in progress), and answers the reader; an
 * action that is over at once (set_reader_display) appends its event. */
static int set_action_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	struct req *r = x->r;
	if (reader_of_path(x, db, false) != 0)
		return -1;
	if (action_in_progress(&x->rd))
		return busy(r);
	if (x->object && strcmp(x->type, "process_setup_intent") != 0) {
		struct payment_intent pi;
		int rc = pi_load(db, &r->arena, r->merchant_id, x->object, &pi);
		if (rc == DB_NOTFOUND)
			return req_fail(r, ERR_PARAM_RESOURCE_MISSING, "payment_intent",
					"No such payment_intent: '%s'", x->object);
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (!pi_allows_type(&pi, "card_present"))
			return req_fail(r, ERR_PARAM_BAD, "payment_intent",
					"The PaymentIntent %s cannot be processed by a reader: its "
					"payment_method_types must include `card_present`.",
					pi.id);
		if (strcmp(pi.status, "requires_payment_method") != 0 &&
		    strcmp(pi.status, "requires_confirmation") != 0)
			return req_fail(r, ERR_PAYMENT_INTENT_UNEXPECTED_STATE, "payment_intent",
					"This PaymentIntent's status is %s, but a reader can only "
					"process a PaymentIntent whose status is "
					"requires_payment_method or requires_confirmation.",
					pi.status);
	} else if (x->object) {
		const char *status = NULL;
		int rc = setup_intent_status(r, db, r->merchant_id, x->object, &status);
		if (rc == DB_NOTFOUND)
			return req_fail(r, ERR_PARAM_RESOURCE_MISSING, "setup_intent",
					"No such setupintent: '%s'", x->object);
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (strcmp(status, "requires_payment_method") != 0)
			return req_fail(r, ERR_SETUP_INTENT_UNEXPECTED_STATE, "setup_intent",
					"This SetupIntent's status is %s, but a reader can only "
					"process a SetupIntent whose status is "
					"requires_payment_method.",
					status);
	}
	const char *a = action_json(r, x->type, x->inner, x->status, NULL, NULL, NULL);
	if (!a)
		return req_fail(r, ERR_API, NULL, NULL);
	if (action_save(r, db, &x->rd, a, x->object, x->collected, x->skipped) != 0)
		return -1;
	if (strcmp(x->status, "succeeded") == 0)
		return emit_and_answer(r, db, &x->rd, "terminal.reader.action_succeeded");
	reader_render(r, &x->rd, req_json(r));
	return 0;
}

static int h_process_payment_intent(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->args[0], .type = "process_payment_intent"};
	x.object = param_str(r, "payment_intent");
	if (!x.object || !*x.object)
		return req_fail(r, ERR_PARAM_MISSING, "payment_intent", "payment_intent");
	bool skip = false;
	int64_t eligible = 0;
	bool has_skip = param_bool(r, "process_config.skip_tipping", &skip) == 1;
	bool has_eligible = param_int(r, "process_config.tipping.amount_eligible", &eligible) == 1;
	if (has_eligible && eligible < 0)
		return req_fail(r, ERR_PARAM_BAD, "process_config[tipping][amount_eligible]",
				"Invalid process_config[tipping][amount_eligible]: it must not be "
				"negative.");
	/* process_config as given (Stripe shows it when set) */
	const char *config = "";
	if (has_skip || has_eligible) {
		config = arena_printf(
		    &r->arena, ",\"process_config\":{%s%s%s}",
		    has_skip ? (skip ? "\"skip_tipping\":true" : "\"skip_tipping\":false") : "",
		    has_skip && has_eligible ? "," : "",
		    has_eligible ? arena_printf(&r->arena, "\"tipping\":{\"amount_eligible\":%lld}",
						(long long)eligible)
				 : "");
		if (!config)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	x.inner = arena_printf(&r->arena, "{\"payment_intent\":\"%s\"%s}", x.object, config);
	x.status = "in_progress";
	if (!x.inner)
		return req_fail(r, ERR_API, NULL, NULL);
	if (strchr(x.object, '"') || strchr(x.object, '\\'))
		return req_fail(r, ERR_PARAM_RESOURCE_MISSING, "payment_intent",
				"No such payment_intent: '%s'", x.object);
	return req_write(r, set_action_fn, &x);
}

/*
 * collect_payment_method: the first step of Stripe's two-step flow. The reader waits for a card
 * (in_progress) as process_payment_intent does; the card presented is stored the same way and
 * attached to the intent, which stays requires_confirmation (nothing is authorized), and the
 * action succeeds naming the collected PaymentMethod. confirm_payment_intent then confirms it.
 */
static int h_collect_payment_method(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->args[0], .type = "collect_payment_method"};
	x.object = param_str(r, "payment_intent");
	if (!x.object || !*x.object)
		return req_fail(r, ERR_PARAM_MISSING, "payment_intent", "payment_intent");
	if (strchr(x.object, '"') || strchr(x.object, '\\'))
		return req_fail(r, ERR_PARAM_RESOURCE_MISSING, "payment_intent",
				"No such payment_intent: '%s'", x.object);
	/* a reader's card_present PaymentMethod stays allow_redisplay unspecified (its
	 * collection does not set it yet): another value would be answered and not kept */
	const char *redisplay = param_str(r, "collect_config.allow_redisplay");
	if (redisplay && strcmp(redisplay, "unspecified") != 0)
		return req_fail(r, ERR_PARAM_BAD, "collect_config[allow_redisplay]",
				"collect_config[allow_redisplay] can only be `unspecified` on "
				"Tender: a card read by a reader is not offered for redisplay.");
	bool cancel = false, skip = false;
	int64_t eligible = 0;
	bool has_cancel =
	    param_bool(r, "collect_config.enable_customer_cancellation", &cancel) == 1;
	bool has_skip = param_bool(r, "collect_config.skip_tipping", &skip) == 1;
	bool has_eligible = param_int(r, "collect_config.tipping.amount_eligible", &eligible) == 1;
	if (has_eligible && eligible < 0)
		return req_fail(r, ERR_PARAM_BAD, "collect_config[tipping][amount_eligible]",
				"Invalid collect_config[tipping][amount_eligible]: it must not be "
				"negative.");
	/* collect_config as given, in the spec's key order (Stripe shows it when set) */
	struct buf b;
	struct json j;
	buf_init(&b, BUF_MAX_DEFAULT);
	json_init(&j, &b);
	json_obj_open(&j);
	if (has_cancel || has_skip || has_eligible) {
		json_key(&j, "collect_config");
		json_obj_open(&j);
		if (has_cancel)
			json_kv_bool(&j, "enable_customer_cancellation", cancel);
		if (has_skip)
			json_kv_bool(&j, "skip_tipping", skip);
		if (has_eligible) {
			json_key(&j, "tipping");
			json_obj_open(&j);
			json_kv_int(&j, "amount_eligible", eligible);
			json_obj_close(&j);
		}
		json_obj_close(&j);
	}
	json_kv_str(&j, "payment_intent", x.object);
	json_obj_close(&j);
	x.inner = b.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&b));
	buf_release(&b);
	if (!x.inner)
		return req_fail(r, ERR_API, NULL, NULL);
	x.status = "in_progress";
	return req_write(r, set_action_fn, &x);
}

static int h_process_setup_intent(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->args[0], .type = "process_setup_intent"};
	x.object = param_str(r, "setup_intent");
	if (!x.object || !*x.object)
		return req_fail(r, ERR_PARAM_MISSING, "setup_intent", "setup_intent");
	bool consent = false;
	param_bool(r, "customer_consent_collected", &consent);
	if (!consent)
		return req_fail(r, ERR_PARAM_BAD, "customer_consent_collected",
				"customer_consent_collected must be true: a card read by a reader "
				"is saved only with the customer's consent.");
	if (strchr(x.object, '"') || strchr(x.object, '\\'))
		return req_fail(r, ERR_PARAM_RESOURCE_MISSING, "setup_intent",
				"No such setupintent: '%s'", x.object);
	x.inner = arena_printf(&r->arena, "{\"setup_intent\":\"%s\"}", x.object);
	x.status = "in_progress";
	if (!x.inner)
		return req_fail(r, ERR_API, NULL, NULL);
	return req_write(r, set_action_fn, &x);
}

/* ---- collect_inputs: forms on the reader ---- */

/* What a simulated reader collects for each input type, as Stripe's Terminal SDKs document
 * their simulated reader's predefined values (a selection: its first choice; a toggle: its
 * default value). */
static const char *simulated_value(const char *type)
{
	if (strcmp(type, "email") == 0)
		return "someone@example.com";
	if (strcmp(type, "phone") == 0)
		return "+15555551234";
	if (strcmp(type, "numeric") == 0)
		return "2907981236";
	return "Jane Doe"; /* text */
}

enum inputs_mode { INPUTS_PENDING, INPUTS_COLLECTED, INPUTS_SKIPPED };

/* The request's inputs (checked by the parameter specs) as the action shows them, in Stripe's
 * key order: pending (every value null), collected (every value the simulated reader's), or
 * with every optional input skipped (value null, skipped true; required ones collected). */
static void inputs_render(struct req *r, enum inputs_mode mode, struct json *j)
{
	const struct form_node *inputs = param_node(r, "inputs");
	json_arr_open(j);
	for (const struct form_node *in = inputs ? inputs->first_child : NULL; in; in = in->next) {
		char p[96];
#define INPUT_PARAM(name) (snprintf(p, sizeof(p), "inputs.%s." name, in->key), p)
		const char *type = param_str(r, INPUT_PARAM("type"));
		bool required = false;
		bool has_required = param_bool(r, INPUT_PARAM("required"), &required) == 1;
		bool skipped = mode == INPUTS_SKIPPED && !required;
		bool collected = mode != INPUTS_PENDING && !skipped;
		json_obj_open(j);
		json_key(j, "custom_text");
		json_obj_open(j);
		json_kv_str_or_null(j, "description",
				    param_str(r, INPUT_PARAM("custom_text.description")));
		json_kv_str_or_null(j, "skip_button",
				    param_str(r, INPUT_PARAM("custom_text.skip_button")));
		json_kv_str_or_null(j, "submit_button",
				    param_str(r, INPUT_PARAM("custom_text.submit_button")));
		json_kv_str_or_null(j, "title", param_str(r, INPUT_PARAM("custom_text.title")));
		json_obj_close(j);
		bool sel = strcmp(type, "selection") == 0;
		/* email, numeric, phone sort before required; text after skipped */
		bool early = strcmp(type, "text") != 0 && !sel;
		if (early) {
			json_key(j, type);
			json_obj_open(j);
			json_kv_str_or_null(j, "value", collected ? simulated_value(type) : NULL);
			json_obj_close(j);
		}
		if (has_required)
			json_kv_bool(j, "required", required);
		else
			json_kv_null(j, "required");
		if (sel) {
			json_key(j, "selection");
			json_obj_open(j);
			json_key(j, "choices");
			json_arr_open(j);
			const struct form_node *choices =
			    param_node(r, INPUT_PARAM("selection.choices"));
			const char *first_id = NULL, *first_text = NULL;
			for (const struct form_node *c = choices ? choices->first_child : NULL; c;
			     c = c->next) {
				char q[160];
				snprintf(q, sizeof(q), "inputs.%s.selection.choices.%s.id", in->key,
					 c->key);
				const char *id = param_str(r, q);
				snprintf(q, sizeof(q), "inputs.%s.selection.choices.%s.style",
					 in->key, c->key);
				const char *style = param_str(r, q);
				snprintf(q, sizeof(q), "inputs.%s.selection.choices.%s.text",
					 in->key, c->key);
				const char *text = param_str(r, q);
				if (!first_id)
					first_id = id, first_text = text;
				json_obj_open(j);
				json_kv_str_or_null(j, "id", id);
				json_kv_str_or_null(j, "style", style);
				json_kv_str(j, "text", text ? text : "");
				json_obj_close(j);
			}
			json_arr_close(j);
			json_kv_str_or_null(j, "id", collected ? first_id : NULL);
			json_kv_str_or_null(j, "text", collected ? first_text : NULL);
			json_obj_close(j);
		}
		if (mode != INPUTS_PENDING)
			json_kv_bool(j, "skipped", skipped);
		if (!early && !sel) {
			json_key(j, "text");
			json_obj_open(j);
			json_kv_str_or_null(j, "value", collected ? simulated_value(type) : NULL);
			json_obj_close(j);
		}
		const struct form_node *toggles = param_node(r, INPUT_PARAM("toggles"));
		if (toggles && toggles->first_child) {
			json_key(j, "toggles");
			json_arr_open(j);
			for (const struct form_node *t = toggles->first_child; t; t = t->next) {
				char q[160];
				snprintf(q, sizeof(q), "inputs.%s.toggles.%s.default_value",
					 in->key, t->key);
				const char *dflt = param_str(r, q);
				json_obj_open(j);
				json_kv_str_or_null(j, "default_value", dflt);
				snprintf(q, sizeof(q), "inputs.%s.toggles.%s.description", in->key,
					 t->key);
				json_kv_str_or_null(j, "description", param_str(r, q));
				snprintf(q, sizeof(q), "inputs.%s.toggles.%s.title", in->key,
					 t->key);
				json_kv_str_or_null(j, "title", param_str(r, q));
				/* a toggle left as it was shown: its default (disabled unless set)
				 */
				json_kv_str_or_null(j, "value",
						    collected ? (dflt ? dflt : "disabled") : NULL);
				json_obj_close(j);
			}
			json_arr_close(j);
		} else {
			json_kv_null(j, "toggles");
		}
		json_kv_str(j, "type", type);
		json_obj_close(j);
#undef INPUT_PARAM
	}
	json_arr_close(j);
}

/* The collect_inputs action's hash: {inputs, metadata} (metadata null when none was given). */
static const char *inputs_inner(struct req *r, enum inputs_mode mode, const char *metadata)
{
	struct buf b;
	struct json j;
	buf_init(&b, BUF_MAX_DEFAULT);
	json_init(&j, &b);
	json_obj_open(&j);
	json_key(&j, "inputs");
	inputs_render(r, mode, &j);
	json_kv_raw_or_null(&j, "metadata", metadata);
	json_obj_close(&j);
	const char *s = b.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&b));
	buf_release(&b);
	return s;
}

/*
 * collect_inputs: forms shown on the reader (email, numeric, phone, selection, text), the
 * action in_progress until the simulated reader's test helpers complete it:
 * succeed_input_collection (every value collected, or with skip_non_required_inputs=all every
 * optional input skipped) or timeout_input_collection (failed, collect_inputs_timeout). Both
 * outcomes are rendered now, from the request, and kept with the action.
 */
static int h_collect_inputs(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->args[0], .type = "collect_inputs"};
	const struct form_node *inputs = param_node(r, "inputs");
	if (!inputs || !inputs->first_child)
		return req_fail(r, ERR_PARAM_MISSING, "inputs", "inputs");
	int n = 0;
	for (const struct form_node *in = inputs->first_child; in; in = in->next, n++) {
		char p[96], shown[64];
		snprintf(p, sizeof(p), "inputs.%s.type", in->key);
		const char *type = param_str(r, p);
		snprintf(p, sizeof(p), "inputs.%s.selection", in->key);
		bool has_sel = param_present(r, p);
		if (type && strcmp(type, "signature") == 0) {
			snprintf(shown, sizeof(shown), "inputs[%d][type]", n);
			return req_fail(
			    r, ERR_PARAM_BAD, shown,
			    "Signature inputs are not supported by Tender's simulated "
			    "readers: a collected signature is a File, which they do not "
			    "make.");
		}
		if (type && strcmp(type, "selection") == 0 && !has_sel) {
			snprintf(shown, sizeof(shown), "inputs[%d][selection]", n);
			return req_fail(r, ERR_PARAM_MISSING, shown, "%s", shown);
		}
		if (type && strcmp(type, "selection") != 0 && has_sel) {
			snprintf(shown, sizeof(shown), "inputs[%d][selection]", n);
			return req_fail(r, ERR_PARAM_BAD, shown,
					"%s can only be given for an input of type selection.",
					shown);
		}
	}
	const char *metadata = NULL;
	if (param_present(r, "metadata") && metadata_apply(r, NULL, "metadata", &metadata) != 0)
		return -1;
	x.inner = inputs_inner(r, INPUTS_PENDING, metadata);
	const char *collected = inputs_inner(r, INPUTS_COLLECTED, metadata);
	const char *skipped = inputs_inner(r, INPUTS_SKIPPED, metadata);
	x.collected = collected;
	x.skipped = skipped;
	if (!x.inner || !collected || !skipped)
		return req_fail(r, ERR_API, NULL, NULL);
	x.status = "in_progress";
	return req_write(r, set_action_fn, &x);
}

struct inputs_done {
	struct id_ctx x;
	bool timeout, skip;
};

static int inputs_done_fn(struct db *db, void *p)
{
	struct inputs_done *d = p;
	struct req *r = d->x.r;
	if (reader_of_path(&d->x, db, false) != 0)
		return -1;
	struct reader *rd = &d->x.rd;
	if (!action_in_progress(rd) || !action_is(rd, "collect_inputs") || !rd->action_collected ||
	    !rd->action_skipped)
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"This reader has no collect_inputs action in progress: start one "
				"with collect_inputs first.");
	const char *inner = d->timeout ? NULL : d->skip ? rd->action_skipped : rd->action_collected;
	const char *a;
	if (d->timeout) {
		/* the forms as they were shown, nothing collected */
		const char *pending = rd->action;
		static const char head[] =
		    "{\"failure_code\":null,\"failure_message\":null,\"collect_inputs\":";
		static const char tail[] =
		    ",\"status\":\"in_progress\",\"type\":\"collect_inputs\"}";
		size_t len = strlen(pending);
		if (len < sizeof(head) + sizeof(tail) - 2 ||
		    strncmp(pending, head, sizeof(head) - 1) != 0)
			return req_fail(r, ERR_API, NULL, NULL);
		inner = arena_strndup(&r->arena, pending + sizeof(head) - 1,
				      len - (sizeof(head) - 1) - (sizeof(tail) - 1));
		a = inner ? action_json(r, "collect_inputs", inner, "failed", NULL,
					"collect_inputs_timeout", "collect inputs was timed out")
			  : NULL;
	} else {
		a = action_json(r, "collect_inputs", inner, "succeeded", NULL, NULL, NULL);
	}
	if (!a)
		return req_fail(r, ERR_API, NULL, NULL);
	if (action_save(r, db, rd, a, NULL, NULL, NULL) != 0)
		return -1;
	return emit_and_answer(r, db, rd,
			       d->timeout ? "terminal.reader.action_failed"
					  : "terminal.reader.action_succeeded");
}

static int inputs_done(struct req *r, bool timeout)
{
	if (r->livemode)
		return req_fail(r, ERR_PARAM_BAD, NULL,
				"Test helpers can only be used with a test mode key.");
	struct inputs_done d = {.x = {.r = r, .id = r->args[0]}, .timeout = timeout};
	const char *skip = param_str(r, "skip_non_required_inputs");
	d.skip = skip && strcmp(skip, "all") == 0;
	return req_write(r, inputs_done_fn, &d);
}

static int h_succeed_inputs(struct req *r)
{
	return inputs_done(r, false);
}

static int h_timeout_inputs(struct req *r)
{
	return inputs_done(r, true);
}

/* set_reader_display: the cart {currency, line_items, tax, total} as the action shows it. */
static int h_set_reader_display(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->args[0], .type = "set_reader_display"};
	if (!param_present(r, "cart"))
		return req_fail(r, ERR_PARAM_MISSING, "cart", "cart");
	char cur[8];
	if (param_currency(r, "cart.currency", "cart[currency]", cur) != 0)
		return -1;
	int64_t total = 0, tax = 0;
	param_int(r, "cart.total", &total);
	bool has_tax = param_int(r, "cart.tax", &tax) == 1;
	if (total < 0 || tax < 0)
		return req_fail(r, ERR_PARAM_BAD, total < 0 ? "cart[total]" : "cart[tax]",
				"Invalid %s: it must not be negative.",
				total < 0 ? "cart[total]" : "cart[tax]");
	struct buf b;
	struct json j;
	buf_init(&b, 256 * 1024);
	json_init(&j, &b);
	json_obj_open(&j);
	json_key(&j, "cart");
	json_obj_open(&j);
	json_kv_str(&j, "currency", cur);
	json_key(&j, "line_items");
	json_arr_open(&j);
	const struct form_node *items = param_node(r, "cart.line_items");
	int rc = 0;
	int n = 0;
	for (const struct form_node *it = items ? items->first_child : NULL; it && rc == 0;
	     it = it->next, n++) {
		char p[64];
		int64_t amount = 0, qty = 0;
		snprintf(p, sizeof(p), "cart.line_items.%s.amount", it->key);
		param_int(r, p, &amount);
		snprintf(p, sizeof(p), "cart.line_items.%s.quantity", it->key);
		param_int(r, p, &qty);
		snprintf(p, sizeof(p), "cart.line_items.%s.description", it->key);
		const char *desc = param_str(r, p);
		if (amount < 0 || qty < 1) {
			rc = req_fail(r, ERR_PARAM_BAD, "cart[line_items]",
				      "Invalid cart[line_items][%d]: its amount must not be "
				      "negative and its quantity must be at least 1.",
				      n);
			break;
		}
		json_obj_open(&j);
		json_kv_int(&j, "amount", amount);
		json_kv_str(&j, "description", desc ? desc : "");
		json_kv_int(&j, "quantity", qty);
		json_obj_close(&j);
	}
	json_arr_close(&j);
	if (has_tax)
		json_kv_int(&j, "tax", tax);
	else
		json_kv_null(&j, "tax");
	json_kv_int(&j, "total", total);
	json_obj_close(&j);
	json_kv_str(&j, "type", "cart");
	json_obj_close(&j);
	if (rc == 0) {
		x.inner = b.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&b));
		if (!x.inner)
			rc = req_fail(r, ERR_API, NULL, NULL);
	}
	buf_release(&b);
	if (rc != 0)
		return -1;
	/* a simulated reader shows the cart at once */
	x.status = "succeeded";
	return req_write(r, set_action_fn, &x);
}

static int cancel_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	struct req *r = x->r;
	if (reader_of_path(x, db, false) != 0)
		return -1;
	if (!action_in_progress(&x->rd))
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"This reader has no action in progress to cancel.");
	if (action_save(r, db, &x->rd, NULL, NULL, NULL, NULL) != 0)
		return -1;
	reader_render(r, &x->rd, req_json(r));
	return 0;
}

static int h_cancel_action(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, cancel_fn, &x);
}

static int refund_check_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	return reader_of_path(x, db, false);
}

/* Stripe refunds through a reader only Interac payments (interac_present), which Tender does not
 * take: every payment a Tender reader processed is a card_present one, refunded with
 * POST /v1/refunds, as Stripe answers for those. */
static int h_refund_payment(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->args[0]};
	if (req_read(r, refund_check_fn, &x) != 0)
		return -1;
	const char *charge = param_str(r, "charge");
	const char *pi = param_str(r, "payment_intent");
	if ((!charge || !*charge) && (!pi || !*pi))
		return req_fail(r, ERR_PARAM_MISSING, "charge",
				"charge or payment_intent: one of them is required.");
	return req_fail(r, ERR_PARAM_BAD, charge && *charge ? "charge" : "payment_intent",
			"In-person refunds are only supported for Interac (interac_present) "
			"payments. Refund a card_present payment with POST /v1/refunds instead.");
}

/* ---- the simulated reader: a card presented ---- */

struct present_ctx {
	struct req *r;
	const char *reader;
	const char *pi_id; /* the intent the action names: a PaymentIntent or a SetupIntent */
	char pm_id[ID_MAX];
	char card_id[ID_MAX];
	struct vault_card_info info;
	const char *number;
	bool answered;
};

static int pm_store_fn(struct db *db, void *p)
{
	struct present_ctx *c = p;
	struct req *r = c->r;
	char fp[24];
	int rc = vault_card_store(r->app->vault, db, r->merchant_id, c->card_id, c->number, NULL,
				  &c->info, r->now, fp);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (pm_insert(db, r->merchant_id, c->pm_id, c->card_id, &c->info, fp, NULL, NULL, NULL,
		      r->now) != DB_OK ||
	    pm_mark_card_present(db, r->merchant_id, c->pm_id) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

/* The action's outcome saved on rd, inside the confirmation's write (rc: 0, or REQ_COMMIT_ERR
 * for a decline whose error r->err holds, which becomes the action's failure_code and
 * failure_message and no longer the request's answer), with its event; the reader answers. */
static int outcome_save(struct req *r, struct db *db, struct reader *rd, const char *type,
			const char *inner, const char *object, int rc)
{
	const char *code = NULL, *message = NULL, *api_error = NULL;
	if (rc == REQ_COMMIT_ERR) {
		/* the decline, as the action shows it: the error's code and message, and the error
		 * itself as api_error (its hash without the intent it carries as a response: the
		 * action names that intent already) */
		const struct api_error_info *info = api_error_info(r->err.code);
		code = info->code && *info->code ? info->code : "card_declined";
		message = req_error_message(r);
		struct buf b;
		struct json j;
		buf_init(&b, 16 * 1024);
		json_init(&j, &b);
		req_error_hash(r, &j);
		api_error = b.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&b));
		buf_release(&b);
		if (!api_error)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	const char *a =
	    action_json(r, type, inner, code ? "failed" : "succeeded", api_error, code, message);
	if (!a)
		return req_fail(r, ERR_API, NULL, NULL);
	/* the intent stays named until the next action: a retried presentment of a declined
	 * card is a new action (process_payment_intent again), as on Stripe */
	if (action_save(r, db, rd, a, object, NULL, NULL) != 0)
		return -1;
	r->err.set = false;
	buf_reset(&r->err.extra);
	return emit_and_answer(
	    r, db, rd, code ? "terminal.reader.action_failed" : "terminal.reader.action_succeeded");
}

/* Inside the confirmation's write, after the intent's outcome (rc: 0, or REQ_COMMIT_ERR for a
 * decline whose error r->err holds): the reader's action becomes succeeded or failed, with its
 * event, and the reader is the answer. A reader whose action changed since (canceled, another
 * intent) rolls the whole confirmation back. generated_card: a SetupIntent's saved card, or
 * NULL (a PaymentIntent's action, or a declined card). */
static int action_outcome(struct req *r, struct db *db, struct present_ctx *c, int rc,
			  const char *generated_card)
{
	struct id_ctx x = {.r = r, .id = c->reader};
	if (rc < 0)
		return rc;
	if (reader_of_path(&x, db, false) != 0)
		return -1;
	if (!action_in_progress(&x.rd) || !str_eq(x.rd.action_object, c->pi_id))
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"The reader's action changed while the card was presented.");
	bool setup = strncmp(c->pi_id, "seti_", 5) == 0;
	const char *inner =
	    !setup ? arena_printf(&r->arena, "{\"payment_intent\":\"%s\"}", c->pi_id)
	    : generated_card
		? arena_printf(&r->arena, "{\"generated_card\":\"%s\",\"setup_intent\":\"%s\"}",
			       generated_card, c->pi_id)
		: arena_printf(&r->arena, "{\"setup_intent\":\"%s\"}", c->pi_id);
	if (!inner)
		return req_fail(r, ERR_API, NULL, NULL);
	c->answered = true;
	return outcome_save(r, db, &x.rd, setup ? "process_setup_intent" : "process_payment_intent",
			    inner, c->pi_id, rc);
}

static int present_answer(struct req *r, struct db *db, void *ctx, int rc)
{
	return action_outcome(r, db, ctx, rc, NULL);
}

static int present_setup_answer(struct req *r, struct db *db, void *ctx, int rc,
				const char *generated_card)
{
	return action_outcome(r, db, ctx, rc, rc == 0 ? generated_card : NULL);
}

struct present_read {
	struct id_ctx x;
	const char *type;
};

static int present_read_fn(struct db *db, void *p)
{
	struct present_read *pr = p;
	if (reader_of_path(&pr->x, db, false) != 0)
		return -1;
	return 0;
}

/* The in-progress collect_payment_method action's own hash (its collect_config and
 * payment_intent), as action_json wrote it, in r's arena; NULL if the action is not one. */
static const char *collect_inner(struct req *r, const struct reader *rd)
{
	static const char head[] =
	    "{\"failure_code\":null,\"failure_message\":null,\"collect_payment_method\":";
	static const char tail[] =
	    ",\"status\":\"in_progress\",\"type\":\"collect_payment_method\"}";
	size_t len = rd->action ? strlen(rd->action) : 0;
	if (len < sizeof(head) + sizeof(tail) - 2 ||
	    strncmp(rd->action, head, sizeof(head) - 1) != 0 ||
	    strcmp(rd->action + len - (sizeof(tail) - 1), tail) != 0)
		return NULL;
	return arena_strndup(&r->arena, rd->action + sizeof(head) - 1,
			     len - (sizeof(head) - 1) - (sizeof(tail) - 1));
}

/* The card presented to a collect_payment_method action, in one write: the PaymentIntent gets
 * the card_present PaymentMethod and waits in requires_confirmation (nothing authorized), and
 * the action succeeds showing the PaymentMethod, with its event. */
static int collect_present_fn(struct db *db, void *p)
{
	struct present_ctx *c = p;
	struct req *r = c->r;
	struct id_ctx x = {.r = r, .id = c->reader};
	if (reader_of_path(&x, db, false) != 0)
		return -1;
	const char *inner = collect_inner(r, &x.rd);
	if (!inner || !action_in_progress(&x.rd) || !str_eq(x.rd.action_object, c->pi_id))
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"The reader's action changed while the card was presented.");
	struct payment_intent pi;
	int rc = pi_load(db, &r->arena, r->merchant_id, c->pi_id, &pi);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (strcmp(pi.status, "requires_payment_method") != 0 &&
	    strcmp(pi.status, "requires_confirmation") != 0)
		return req_fail(r, ERR_PAYMENT_INTENT_UNEXPECTED_STATE, NULL,
				"This PaymentIntent's status is %s: a payment method can only be "
				"collected for a PaymentIntent whose status is "
				"requires_payment_method or requires_confirmation.",
				pi.status);
	pi.payment_method = c->pm_id;
	pi.status = "requires_confirmation";
	if (pi_update(db, r->merchant_id, &pi) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* the action's hash: collect_config and payment_intent as set, and the PaymentMethod */
	struct buf b;
	struct json j;
	buf_init(&b, BUF_MAX_DEFAULT);
	json_init(&j, &b);
	buf_append(&b, inner, strlen(inner) - 1);
	buf_puts(&b, ",\"payment_method\":");
	rc = pm_render(db, r->merchant_id, c->pm_id, &j);
	buf_puts(&b, "}");
	const char *full = rc == DB_OK && !b.failed ? arena_strdup(&r->arena, buf_cstr(&b)) : NULL;
	buf_release(&b);
	if (!full)
		return req_fail(r, ERR_API, NULL, NULL);
	c->answered = true;
	return outcome_save(r, db, &x.rd, "collect_payment_method", full, c->pi_id, 0);
}

/* confirm_payment_intent: the second step, the intent confirmed with the card the reader
 * collected for it (the reader's last action, succeeded), through the confirm path every
 * reader payment takes (payment_intents_invoice with `present`). A simulated reader confirms at
 * once: the action is succeeded or failed (the decline) in the payment's own write. */
struct confirm_rd {
	struct present_ctx c;
	const char *inner;   /* the confirm_payment_intent action's hash */
	const char *collect; /* the collect action the confirmation started from */
};

static int confirm_answer(struct req *r, struct db *db, void *ctx, int rc)
{
	struct confirm_rd *cr = ctx;
	if (rc < 0)
		return rc;
	struct id_ctx x = {.r = r, .id = cr->c.reader};
	if (reader_of_path(&x, db, false) != 0)
		return -1;
	/* another action (or another confirmation) since the read: the payment rolls back */
	if (!str_eq(x.rd.action, cr->collect))
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"The reader's action changed while the payment was confirmed.");
	cr->c.answered = true;
	return outcome_save(r, db, &x.rd, "confirm_payment_intent", cr->inner, cr->c.pi_id, rc);
}

static int confirm_read_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	return reader_of_path(x, db, false);
}

static int h_confirm_payment_intent(struct req *r)
{
	const char *pi = param_str(r, "payment_intent");
	if (!pi || !*pi)
		return req_fail(r, ERR_PARAM_MISSING, "payment_intent", "payment_intent");
	if (strchr(pi, '"') || strchr(pi, '\\'))
		return req_fail(r, ERR_PARAM_RESOURCE_MISSING, "payment_intent",
				"No such payment_intent: '%s'", pi);
	const char *return_url = param_str(r, "confirm_config.return_url");
	if (return_url && *return_url && strncmp(return_url, "https://", 8) != 0 &&
	    strncmp(return_url, "http://", 7) != 0)
		return req_fail(r, ERR_PARAM_BAD, "confirm_config[return_url]",
				"Invalid URL: confirm_config[return_url] must be an http or https "
				"URL.");
	struct id_ctx x = {.r = r, .id = r->args[0]};
	if (req_read(r, confirm_read_fn, &x) != 0)
		return -1;
	struct reader *rd = &x.rd;
	if (action_in_progress(rd))
		return busy(r);
	/* the card collected for this intent: the reader's last action, a succeeded collect */
	const char *pm = NULL;
	if (action_is(rd, "collect_payment_method") && str_eq(rd->action_status, "succeeded") &&
	    str_eq(rd->action_object, pi))
		pm = rd->action_pm;
	if (!pm)
		return req_fail(r, ERR_INVALID_STATE, "payment_intent",
				"The reader has no payment method collected for PaymentIntent %s: "
				"collect one with collect_payment_method first.",
				pi);
	struct confirm_rd cr = {.c = {.r = r, .reader = rd->id, .pi_id = pi},
				.collect = rd->action};
	{
		/* the action's hash: confirm_config when given, and the intent */
		struct buf b;
		struct json j;
		buf_init(&b, BUF_MAX_DEFAULT);
		json_init(&j, &b);
		json_obj_open(&j);
		if (return_url && *return_url) {
			json_key(&j, "confirm_config");
			json_obj_open(&j);
			json_kv_str(&j, "return_url", return_url);
			json_obj_close(&j);
		}
		json_kv_str(&j, "payment_intent", pi);
		json_obj_close(&j);
		cr.inner = b.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&b));
		buf_release(&b);
		if (!cr.inner)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	struct pi_invoice pv = {
	    .existing = pi,
	    .pm_id = pm,
	    .present = true,
	    .answer = confirm_answer,
	    .ctx = &cr,
	};
	return payment_intents_invoice(r, &pv) == 0 ? 0 : -1;
}

/* Stripe's simulated card's expiry: a year that has not passed (December, two years on). */
static void simulated_expiry(int64_t now, char month[4], char year[24])
{
	int64_t y = 1970 + now / 31556952 + 2;
	snprintf(month, 4, "12");
	snprintf(year, 24, "%lld", (long long)y);
}

static int h_present(struct req *r)
{
	if (r->livemode)
		return req_fail(r, ERR_PARAM_BAD, NULL,
				"Test helpers can only be used with a test mode key.");
	const char *type = param_str(r, "type");
	if (type && strcmp(type, "interac_present") == 0)
		return req_fail(r, ERR_PARAM_BAD, "type",
				"Tender's simulated readers take card_present cards only: Interac "
				"(interac_present) is not supported.");
	if (param_present(r, "interac_present"))
		return req_fail(r, ERR_PARAM_BAD, "interac_present",
				"interac_present can only be given with type=interac_present.");
	if (param_present(r, "amount_tip"))
		return req_fail(
		    r, ERR_PARAM_BAD, "amount_tip",
		    "On-reader tipping is not supported by Tender's simulated readers.");
	struct present_read pr = {.x = {.r = r, .id = r->args[0]}};
	if (req_read(r, present_read_fn, &pr) != 0)
		return -1;
	struct reader *rd = &pr.x.rd;
	if (!action_in_progress(rd) || !rd->action_object || action_is(rd, "collect_inputs"))
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"This reader has no action in progress waiting for a payment "
				"method: start one with process_payment_intent first.");
	struct present_ctx c = {.r = r, .reader = rd->id, .pi_id = rd->action_object};
	const char *number = param_str(r, "card_present.number");
	c.number = number && *number ? number : testcard_alias_number(DEFAULT_TEST_CARD);
	char month[4], year[24];
	simulated_expiry(r->now, month, year);
	int vrc = vault_card_validate(c.number, month, year, NULL, r->now, &c.info);
	if (vrc != 0) {
		const char *field = vault_card_err_param(vrc);
		char param[48];
		snprintf(param, sizeof(param), "card_present[%s]", field ? field : "number");
		return req_fail(r, vault_card_err_api(vrc), param, NULL);
	}
	id_new_at(c.pm_id, "pm_", r->now);
	id_new(c.card_id, "card_");
	/* A write of its own, not req_write: the request's idempotent answer is the payment's,
	 * saved with the payment's write (as payment_method_data's PaymentMethod) */
	int wrc = store_write(r->app->store, r->merchant_id, pm_store_fn, &c);
	if (r->err.set)
		return -1;
	if (wrc != 0)
		return req_fail(r, wrc == STORE_OVERLOADED ? ERR_OVERLOADED : ERR_API, NULL, NULL);
	if (action_is(rd, "collect_payment_method"))
		return req_write(r, collect_present_fn, &c);
	if (strncmp(c.pi_id, "seti_", 5) == 0) {
		struct si_present sp = {
		    .existing = c.pi_id,
		    .pm_id = c.pm_id,
		    .answer = present_setup_answer,
		    .ctx = &c,
		};
		return setup_intents_present(r, &sp) == 0 ? 0 : -1;
	}
	struct pi_invoice pv = {
	    .existing = c.pi_id,
	    .pm_id = c.pm_id,
	    .present = true,
	    .answer = present_answer,
	    .ctx = &c,
	};
	int rc = payment_intents_invoice(r, &pv);
	if (rc != 0)
		return -1;
	return 0;
}

const struct route terminal_readers_routes[] = {
    {"POST", "/v1/terminal/readers", h_register, register_params, 0},
    {"GET", "/v1/terminal/readers", h_list, list_params, ROUTE_LIST},
    {"GET", "/v1/terminal/readers/{id}", h_retrieve, no_params, 0},
    {"POST", "/v1/terminal/readers/{id}", h_update, update_params, 0},
    {"DELETE", "/v1/terminal/readers/{id}", h_delete, no_params, 0},
    {"POST", "/v1/terminal/readers/{id}/process_payment_intent", h_process_payment_intent,
     process_pi_params, 0},
    {"POST", "/v1/terminal/readers/{id}/collect_payment_method", h_collect_payment_method,
     collect_pm_params, 0},
    {"POST", "/v1/terminal/readers/{id}/confirm_payment_intent", h_confirm_payment_intent,
     confirm_pi_params, 0},
    {"POST", "/v1/terminal/readers/{id}/collect_inputs", h_collect_inputs, collect_inputs_params,
     0},
    {"POST", "/v1/terminal/readers/{id}/process_setup_intent", h_process_setup_intent,
     process_si_params, 0},
    {"POST", "/v1/terminal/readers/{id}/set_reader_display", h_set_reader_display, display_params,
     0},
    {"POST", "/v1/terminal/readers/{id}/cancel_action", h_cancel_action, no_params, 0},
    {"POST", "/v1/terminal/readers/{id}/refund_payment", h_refund_payment, refund_params, 0},
    {"POST", "/v1/test_helpers/terminal/readers/{id}/present_payment_method", h_present,
     present_params, 0},
    {"POST", "/v1/test_helpers/terminal/readers/{id}/succeed_input_collection", h_succeed_inputs,
     succeed_inputs_params, 0},
    {"POST", "/v1/test_helpers/terminal/readers/{id}/timeout_input_collection", h_timeout_inputs,
     no_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};

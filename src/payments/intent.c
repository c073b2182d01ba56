#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "payments/payments.h"
#include "payments/pm_types.h"

static const char *dup(struct arena *a, struct db_stmt *st, int col)
{
	const char *t = db_col_text(st, col, NULL);
	return t ? arena_strdup(a, t) : NULL;
}

static const char SQL_GET[] =
    "SELECT id, created, version, amount, currency, status, capture_method, confirmation_method,"
    " client_secret, customer, payment_method, description, metadata, receipt_email,"
    " statement_descriptor, statement_descriptor_suffix, setup_future_usage, return_url, shipping,"
    " amount_capturable, amount_received, latest_charge, last_payment_error, next_action,"
    " cancellation_reason, canceled_at, three_d_secure_token, pmo_card_capture_method,"
    " pmo_card_request_three_d_secure, checkout_session,"
    " pmo_card_request_incremental_authorization, connect, invoice, payment_method_types,"
    " pmo_card_setup_future_usage, pmo_sepa_setup_future_usage, pmo_ach_setup_future_usage,"
    " pmo_sepa_reference_prefix, pmo_ach_verification_method, pmo_ideal_setup_future_usage,"
    " pmo_bancontact_setup_future_usage, pmo_bancontact_preferred_language,"
    " pmo_affirm_capture_method, pmo_affirm_preferred_locale, pmo_afterpay_capture_method,"
    " pmo_afterpay_reference, pmo_klarna_capture_method, pmo_klarna_preferred_locale,"
    " automatic_payment_methods, payment_method_configuration,"
    " payment_method_configuration_parent, review, pmo_customer_balance,"
    " pmo_ach_financial_connections, details FROM payment_intents"
    " WHERE merchant_id = $1 AND id = $2";

int pi_load(struct db *db, struct arena *a, const char *merchant_id, const char *id,
	    struct payment_intent *pi)
{
	struct db_stmt *st = db_prepare(db, SQL_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		memset(pi, 0, sizeof(*pi));
		str_copy(pi->id, sizeof(pi->id), db_col_text(st, 0, NULL));
		pi->created = db_col_int64(st, 1);
		pi->version = db_col_int64(st, 2);
		pi->amount = db_col_int64(st, 3);
		str_copy(pi->currency, sizeof(pi->currency), db_col_text(st, 4, NULL));
		pi->status = dup(a, st, 5);
		pi->capture_method = dup(a, st, 6);
		pi->confirmation_method = dup(a, st, 7);
		pi->client_secret = dup(a, st, 8);
		pi->customer = dup(a, st, 9);
		pi->payment_method = dup(a, st, 10);
		pi->description = dup(a, st, 11);
		pi->metadata = dup(a, st, 12);
		pi->receipt_email = dup(a, st, 13);
		pi->statement_descriptor = dup(a, st, 14);
		pi->statement_descriptor_suffix = dup(a, st, 15);
		pi->setup_future_usage = dup(a, st, 16);
		pi->return_url = dup(a, st, 17);
		pi->shipping = dup(a, st, 18);
		pi->amount_capturable = db_col_int64(st, 19);
		pi->amount_received = db_col_int64(st, 20);
		pi->latest_charge = dup(a, st, 21);
		pi->last_payment_error = dup(a, st, 22);
		pi->next_action = dup(a, st, 23);
		pi->cancellation_reason = dup(a, st, 24);
		pi->canceled_at = db_col_is_null(st, 25) ? 0 : db_col_int64(st, 25);
		pi->three_d_secure_token = dup(a, st, 26);
		pi->pmo_card_capture_method = dup(a, st, 27);
		pi->pmo_card_request_three_d_secure = dup(a, st, 28);
		pi->checkout_session = dup(a, st, 29);
		pi->pmo_card_request_incremental_authorization = dup(a, st, 30);
		pi->invoice = dup(a, st, 32);
		pi->payment_method_types = dup(a, st, 33);
		pi->pmo_card_setup_future_usage = dup(a, st, 34);
		pi->pmo_sepa_setup_future_usage = dup(a, st, 35);
		pi->pmo_ach_setup_future_usage = dup(a, st, 36);
		pi->pmo_sepa_reference_prefix = dup(a, st, 37);
		pi->pmo_ach_verification_method = dup(a, st, 38);
		pi->pmo_ideal_setup_future_usage = dup(a, st, 39);
		pi->pmo_bancontact_setup_future_usage = dup(a, st, 40);
		pi->pmo_bancontact_preferred_language = dup(a, st, 41);
		pi->pmo_affirm_capture_method = dup(a, st, 42);
		pi->pmo_affirm_preferred_locale = dup(a, st, 43);
		pi->pmo_afterpay_capture_method = dup(a, st, 44);
		pi->pmo_afterpay_reference = dup(a, st, 45);
		pi->pmo_klarna_capture_method = dup(a, st, 46);
		pi->pmo_klarna_preferred_locale = dup(a, st, 47);
		pi->automatic_payment_methods = dup(a, st, 48);
		pi->payment_method_configuration = dup(a, st, 49);
		pi->payment_method_configuration_parent = dup(a, st, 50);
		pi->review = dup(a, st, 51);
		pi->pmo_customer_balance = dup(a, st, 52);
		pi->pmo_ach_financial_connections = dup(a, st, 53);
		pi->details = dup(a, st, 54);
		if (payment_connect_decode(a, db_col_text(st, 31, NULL), &pi->connect, NULL,
					   NULL) != DB_OK)
			rc = DB_ERR;
	}
	db_reset(st);
	if (rc == DB_ROW)
		return DB_OK;
	return rc == DB_DONE ? DB_NOTFOUND : rc;
}

static const char SQL_INSERT[] =
    "INSERT INTO payment_intents (merchant_id, id, created, version, amount, currency, status,"
    " capture_method, confirmation_method, client_secret, customer, payment_method, description,"
    " metadata, receipt_email, statement_descriptor, statement_descriptor_suffix,"
    " setup_future_usage, return_url, shipping, amount_capturable, amount_received,"
    " latest_charge, last_payment_error, next_action, cancellation_reason, canceled_at,"
    " three_d_secure_token, pmo_card_capture_method, pmo_card_request_three_d_secure,"
    " checkout_session, pmo_card_request_incremental_authorization, connect, invoice,"
    " payment_method_types, pmo_card_setup_future_usage, pmo_sepa_setup_future_usage,"
    " pmo_ach_setup_future_usage, pmo_sepa_reference_prefix, pmo_ach_verification_method,"
    " pmo_ideal_setup_future_usage, pmo_bancontact_setup_future_usage,"
    " pmo_bancontact_preferred_language, pmo_affirm_capture_method, pmo_affirm_preferred_locale,"
    " pmo_afterpay_capture_method, pmo_afterpay_reference, pmo_klarna_capture_method,"
    " pmo_klarna_preferred_locale, automatic_payment_methods, payment_method_configuration,"
    " payment_method_configuration_parent, review, pmo_customer_balance,"
    " pmo_ach_financial_connections, details)"
    " VALUES ($1, $2, $3, 1, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,"
    " $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35, $36,"
    " $37, $38, $39, $40, $41, $42, $43, $44, $45, $46, $47, $48, $49, $50, $51, $52,"
    " $53, $54, $55)";

static const char SQL_UPDATE[] =
    "UPDATE payment_intents SET version = version + 1, amount = $4, currency = $5, status = $6,"
    " capture_method = $7, confirmation_method = $8, client_secret = $9, customer = $10,"
    " payment_method = $11, description = $12, metadata = $13, receipt_email = $14,"
    " statement_descriptor = $15, statement_descriptor_suffix = $16, setup_future_usage = $17,"
    " return_url = $18, shipping = $19, amount_capturable = $20, amount_received = $21,"
    " latest_charge = $22, last_payment_error = $23, next_action = $24,"
    " cancellation_reason = $25, canceled_at = $26, three_d_secure_token = $27,"
    " pmo_card_capture_method = $28, pmo_card_request_three_d_secure = $29,"
    " checkout_session = $30, pmo_card_request_incremental_authorization = $31, connect = $32,"
    " invoice = $33, payment_method_types = $34, pmo_card_setup_future_usage = $35,"
    " pmo_sepa_setup_future_usage = $36, pmo_ach_setup_future_usage = $37,"
    " pmo_sepa_reference_prefix = $38, pmo_ach_verification_method = $39,"
    " pmo_ideal_setup_future_usage = $40, pmo_bancontact_setup_future_usage = $41,"
    " pmo_bancontact_preferred_language = $42, pmo_affirm_capture_method = $43,"
    " pmo_affirm_preferred_locale = $44, pmo_afterpay_capture_method = $45,"
    " pmo_afterpay_reference = $46, pmo_klarna_capture_method = $47,"
    " pmo_klarna_preferred_locale = $48, automatic_payment_methods = $49,"
    " payment_method_configuration = $50, payment_method_configuration_parent = $51,"
    " review = $52, pmo_customer_balance = $53, pmo_ach_financial_connections = $54,"
    " details = $55"
    " WHERE merchant_id = $1 AND id = $2"
    " AND version = $3";

static void bind_mutable(struct db_stmt *st, const struct payment_intent *pi,
			 const char *connect_json)
{
	db_bind_int64(st, 4, pi->amount);
	db_bind_text_ref(st, 5, pi->currency, -1);
	db_bind_text_ref(st, 6, pi->status, -1);
	db_bind_text_ref(st, 7, pi->capture_method, -1);
	db_bind_text_ref(st, 8, pi->confirmation_method, -1);
	db_bind_text_ref(st, 9, pi->client_secret, -1);
	db_bind_text_ref(st, 10, pi->customer, -1);
	db_bind_text_ref(st, 11, pi->payment_method, -1);
	db_bind_text_ref(st, 12, pi->description, -1);
	db_bind_text_ref(st, 13, pi->metadata ? pi->metadata : "{}", -1);
	db_bind_text_ref(st, 14, pi->receipt_email, -1);
	db_bind_text_ref(st, 15, pi->statement_descriptor, -1);
	db_bind_text_ref(st, 16, pi->statement_descriptor_suffix, -1);
	db_bind_text_ref(st, 17, pi->setup_future_usage, -1);
	db_bind_text_ref(st, 18, pi->return_url, -1);
	db_bind_text_ref(st, 19, pi->shipping, -1);
	db_bind_int64(st, 20, pi->amount_capturable);
	db_bind_int64(st, 21, pi->amount_received);
	db_bind_text_ref(st, 22, pi->latest_charge, -1);
	db_bind_text_ref(st, 23, pi->last_payment_error, -1);
	db_bind_text_ref(st, 24, pi->next_action, -1);
	db_bind_text_ref(st, 25, pi->cancellation_reason, -1);
	if (pi->canceled_at)
		db_bind_int64(st, 26, pi->canceled_at);
	else
		db_bind_null(st, 26);
	db_bind_text_ref(st, 27, pi->three_d_secure_token, -1);
	db_bind_text_ref(st, 28, pi->pmo_card_capture_method, -1);
	db_bind_text_ref(st, 29, pi->pmo_card_request_three_d_secure, -1);
	db_bind_text_ref(st, 30, pi->checkout_session, -1);
	db_bind_text_ref(st, 31, pi->pmo_card_request_incremental_authorization, -1);
	/* NULL for every payment that is not a Connect one (no arena needed then) */
	db_bind_text(st, 32, connect_json, -1);
	db_bind_text_ref(st, 33, pi->invoice, -1);
	db_bind_text_ref(st, 34, pi->payment_method_types, -1);
	db_bind_text_ref(st, 35, pi->pmo_card_setup_future_usage, -1);
	db_bind_text_ref(st, 36, pi->pmo_sepa_setup_future_usage, -1);
	db_bind_text_ref(st, 37, pi->pmo_ach_setup_future_usage, -1);
	db_bind_text_ref(st, 38, pi->pmo_sepa_reference_prefix, -1);
	db_bind_text_ref(st, 39, pi->pmo_ach_verification_method, -1);
	db_bind_text_ref(st, 40, pi->pmo_ideal_setup_future_usage, -1);
	db_bind_text_ref(st, 41, pi->pmo_bancontact_setup_future_usage, -1);
	db_bind_text_ref(st, 42, pi->pmo_bancontact_preferred_language, -1);
	db_bind_text_ref(st, 43, pi->pmo_affirm_capture_method, -1);
	db_bind_text_ref(st, 44, pi->pmo_affirm_preferred_locale, -1);
	db_bind_text_ref(st, 45, pi->pmo_afterpay_capture_method, -1);
	db_bind_text_ref(st, 46, pi->pmo_afterpay_reference, -1);
	db_bind_text_ref(st, 47, pi->pmo_klarna_capture_method, -1);
	db_bind_text_ref(st, 48, pi->pmo_klarna_preferred_locale, -1);
	db_bind_text_ref(st, 49, pi->automatic_payment_methods, -1);
	db_bind_text_ref(st, 50, pi->payment_method_configuration, -1);
	db_bind_text_ref(st, 51, pi->payment_method_configuration_parent, -1);
	db_bind_text_ref(st, 52, pi->review, -1);
	db_bind_text_ref(st, 53, pi->pmo_customer_balance, -1);
	db_bind_text_ref(st, 54, pi->pmo_ach_financial_connections, -1);
	db_bind_text_ref(st, 55, pi->details, -1);
}

bool pi_allows_type(const struct payment_intent *pi, const char *type)
{
	return pm_types_allows(pi->payment_method_types, PMT_CARD, type);
}

const char *pi_setup_future_usage(const struct payment_intent *pi, const char *type)
{
	const char *own = strcmp(type, "sepa_debit") == 0	 ? pi->pmo_sepa_setup_future_usage
			  : strcmp(type, "us_bank_account") == 0 ? pi->pmo_ach_setup_future_usage
			  : strcmp(type, "ideal") == 0		 ? pi->pmo_ideal_setup_future_usage
			  : strcmp(type, "bancontact") == 0 ? pi->pmo_bancontact_setup_future_usage
			  : strcmp(type, "card") == 0	    ? pi->pmo_card_setup_future_usage
							    : NULL;
	if (!own)
		return pi->setup_future_usage;
	return strcmp(own, "none") == 0 ? NULL : own;
}

const char *pi_capture_method(const struct payment_intent *pi, const char *type)
{
	const char *own = strcmp(type, "card") == 0		   ? pi->pmo_card_capture_method
			  : strcmp(type, "affirm") == 0		   ? pi->pmo_affirm_capture_method
			  : strcmp(type, "afterpay_clearpay") == 0 ? pi->pmo_afterpay_capture_method
			  : strcmp(type, "klarna") == 0		   ? pi->pmo_klarna_capture_method
								   : NULL;
	return own ? own : pi->capture_method;
}

int pi_write_confirmed(struct db *db, const char *merchant_id, struct payment_intent *pi,
		       bool inserted_now)
{
	if (!inserted_now)
		return pi_update(db, merchant_id, pi);
	pi->version++;
	return pi_insert(db, merchant_id, pi);
}

int pi_insert(struct db *db, const char *merchant_id, const struct payment_intent *pi)
{
	struct db_stmt *st = db_prepare(db, SQL_INSERT);
	if (!st)
		return DB_ERR;
	db_bind_text_ref(st, 1, merchant_id, -1);
	db_bind_text_ref(st, 2, pi->id, -1);
	db_bind_int64(st, 3, pi->created);
	struct buf cj;
	buf_init(&cj, CONNECT_JSON_MAX);
	int enc = payment_connect_encode(&cj, &pi->connect, NULL, NULL);
	bind_mutable(st, pi, enc == 1 ? buf_cstr(&cj) : NULL);
	int rc = enc < 0 ? DB_ERR : db_step_done(st);
	if (enc < 0)
		db_reset(st);
	buf_release(&cj);
	return rc;
}

int pi_update(struct db *db, const char *merchant_id, struct payment_intent *pi)
{
	struct db_stmt *st = db_prepare(db, SQL_UPDATE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, pi->id, -1);
	db_bind_int64(st, 3, pi->version);
	struct buf cj;
	buf_init(&cj, CONNECT_JSON_MAX);
	int enc = payment_connect_encode(&cj, &pi->connect, NULL, NULL);
	bind_mutable(st, pi, enc == 1 ? buf_cstr(&cj) : NULL);
	int rc = enc < 0 ? DB_ERR : db_step(st);
	int64_t n = rc == DB_DONE ? db_changes(st) : 0;
	db_reset(st);
	buf_release(&cj);
	if (rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	if (n != 1)
		return DB_CONFLICT;
	pi->version++;
	return DB_OK;
}

static void kv_raw_or_null(struct json *j, const char *key, const char *raw)
{
	if (raw)
		json_kv_raw(j, key, raw, strlen(raw));
	else
		json_kv_null(j, key);
}

/* An expandable field: the id, the expanded object, or null. */

int payments_expandable(struct json *j, struct db *db, const char *key, const char *id, bool expand,
			int (*render)(void *, struct db *, const char *, struct json *), void *ctx)
{
	json_key(j, key);
	if (!id) {
		json_nil(j);
		return DB_OK;
	}
	if (expand && render) {
		int rc = render(ctx, db, id, j);
		if (rc == DB_OK)
			return DB_OK;
		if (rc != DB_NOTFOUND)
			return rc;
	}
	json_str(j, id);
	return DB_OK;
}

struct id_field_ctx {
	const struct expand_set *ex;
	const char *field;
};

static int render_id_field(void *p, struct db *db, const char *id, struct json *j)
{
	struct id_field_ctx *x = p;
	return x->ex->render_id(x->ex->ctx, db, id, x->field, j);
}

int payments_expandable_id(struct json *j, struct db *db, const char *key, const char *id,
			   bool expand, const struct expand_set *ex)
{
	struct id_field_ctx x = {ex, key};
	return payments_expandable(j, db, key, id, expand && ex && ex->render_id, render_id_field,
				   &x);
}

struct charge_ctx {
	struct arena *a;
	const char *merchant_id;
	int livemode;
	const struct expand_set *ex;
};

static int render_charge_cb(void *p, struct db *db, const char *id, struct json *j)
{
	struct charge_ctx *c = p;
	struct expand_set inner = *c->ex;
	inner.latest_charge = false;
	inner.payment_intent = false;	       /* no cycles */
	inner.invoice = c->ex->charge_invoice; /* latest_charge.invoice, not the intent's */
	inner.review = c->ex->charge_review;
	return charge_render_by_id(db, c->a, c->merchant_id, c->livemode, id, &inner, j);
}

/* A part of the details column as it is stored (compact JSON) under key; nothing when absent.
 * false when out of memory. */
static bool kv_jansson(struct json *j, const char *key, const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
	if (!s)
		return false;
	json_kv_raw(j, key, s, strlen(s));
	free(s);
	return true;
}

/* amount_details: what the details column holds (discount_amount, error, shipping, tax; the
 * line items only when expanded, as a list whose url lists them on their own) and the tip,
 * which Tender never takes (Terminal's tipping is not offered) */
static bool render_amount_details(struct json *j, const char *pi_id, const json_t *ad,
				  bool line_items)
{
	json_key(j, "amount_details");
	json_obj_open(j);
	static const char *const keys[] = {"discount_amount", "error", "line_items", "shipping",
					   "tax"};
	for (size_t i = 0; ad && i < sizeof(keys) / sizeof(keys[0]); i++) {
		const json_t *v = json_object_get(ad, keys[i]);
		if (!v)
			continue;
		if (strcmp(keys[i], "line_items") != 0) {
			if (!kv_jansson(j, keys[i], v))
				return false;
			continue;
		}
		if (!line_items)
			continue;
		json_key(j, "line_items");
		json_obj_open(j);
		json_kv_str(j, "object", "list");
		if (!kv_jansson(j, "data", v))
			return false;
		json_kv_bool(j, "has_more", false);
		char url[ID_MAX + 64];
		snprintf(url, sizeof(url), "/v1/payment_intents/%s/amount_details_line_items",
			 pi_id);
		json_kv_str(j, "url", url);
		json_obj_close(j);
	}
	json_key(j, "tip");
	json_obj_open(j);
	json_obj_close(j);
	json_obj_close(j);
	return true;
}

static int pi_render_parsed(struct db *db, struct arena *a, const char *merchant_id, int livemode,
			    const struct payment_intent *pi, const struct expand_set *ex,
			    json_t *details, struct json *j);

int pi_render(struct db *db, struct arena *a, const char *merchant_id, int livemode,
	      const struct payment_intent *pi, const struct expand_set *ex, struct json *j)
{
	/* parsed only for the few intents that have details: the others render as before */
	json_t *details = NULL;
	if (pi->details && !(details = json_loads(pi->details, 0, NULL)))
		return DB_ERR;
	int rc = pi_render_parsed(db, a, merchant_id, livemode, pi, ex, details, j);
	json_decref(details);
	return rc;
}

static int pi_render_parsed(struct db *db, struct arena *a, const char *merchant_id, int livemode,
			    const struct payment_intent *pi, const struct expand_set *ex,
			    json_t *details, struct json *j)
{
	static const struct expand_set none;
	if (!ex)
		ex = &none;
	int rc;
	json_obj_open(j);
	json_kv_str(j, "id", pi->id);
	json_kv_str(j, "object", "payment_intent");
	json_kv_int(j, "amount", pi->amount);
	json_kv_int(j, "amount_capturable", pi->amount_capturable);
	if (!render_amount_details(j, pi->id, json_object_get(details, "amount_details"),
				   ex->line_items))
		return DB_ERR;
	json_kv_int(j, "amount_received", pi->amount_received);
	json_kv_null(j, "application");
	payments_render_connect_fee(j, &pi->connect);
	pm_types_render_automatic(j, pi->automatic_payment_methods);
	if (pi->canceled_at)
		json_kv_int(j, "canceled_at", pi->canceled_at);
	else
		json_kv_null(j, "canceled_at");
	json_kv_str_or_null(j, "cancellation_reason", pi->cancellation_reason);
	json_kv_str(j, "capture_method", pi->capture_method);
	json_kv_str(j, "client_secret", pi->client_secret);
	json_kv_str(j, "confirmation_method", pi->confirmation_method);
	json_kv_int(j, "created", pi->created);
	json_kv_str(j, "currency", pi->currency);
	rc = payments_expandable(j, db, "customer", pi->customer, ex->customer, ex->render_customer,
				 ex->ctx);
	if (rc != DB_OK)
		return rc;
	json_kv_str_or_null(j, "description", pi->description);
	/* only when set (newer API versions show null): the objects every payment's events
	 * pack stay as the event dictionary knows them (events/pack_dict.c) */
	const json_t *excluded = json_object_get(details, "excluded_payment_method_types");
	if (excluded && !kv_jansson(j, "excluded_payment_method_types", excluded))
		return DB_ERR;
	const json_t *hooks = json_object_get(details, "hooks");
	if (hooks && !kv_jansson(j, "hooks", hooks))
		return DB_ERR;
	rc = payments_expandable_id(j, db, "invoice", pi->invoice, ex->invoice, ex);
	if (rc != DB_OK)
		return rc;
	kv_raw_or_null(j, "last_payment_error", pi->last_payment_error);
	struct charge_ctx cc = {a, merchant_id, livemode, ex};
	rc = payments_expandable(j, db, "latest_charge", pi->latest_charge, ex->latest_charge,
				 render_charge_cb, &cc);
	if (rc != DB_OK)
		return rc;
	json_kv_bool(j, "livemode", livemode != 0);
	kv_raw_or_null(j, "metadata", pi->metadata ? pi->metadata : "{}");
	kv_raw_or_null(j, "next_action", pi->next_action);
	payments_render_on_behalf_of(j, &pi->connect);
	const json_t *payment_details = json_object_get(details, "payment_details");
	if (payment_details && !kv_jansson(j, "payment_details", payment_details))
		return DB_ERR;
	rc = payments_expandable(j, db, "payment_method", pi->payment_method, ex->payment_method,
				 ex->render_payment_method, ex->ctx);
	if (rc != DB_OK)
		return rc;
	pm_types_render_configuration(j, pi->payment_method_configuration,
				      pi->payment_method_configuration_parent);
	/* payment_method_options: the card's, with Stripe's defaults; capture_method only when
	 * set (Stripe leaves it out otherwise) */
	json_key(j, "payment_method_options");
	json_obj_open(j);
	json_key(j, "card");
	json_obj_open(j);
	if (pi->pmo_card_capture_method)
		json_kv_str(j, "capture_method", pi->pmo_card_capture_method);
	json_kv_null(j, "installments");
	json_kv_null(j, "mandate_options");
	json_kv_null(j, "network");
	if (pi->pmo_card_request_incremental_authorization)
		json_kv_str(j, "request_incremental_authorization",
			    pi->pmo_card_request_incremental_authorization);
	json_kv_str(j, "request_three_d_secure",
		    pi->pmo_card_request_three_d_secure ? pi->pmo_card_request_three_d_secure
							: "automatic");
	/* each type's setup_future_usage only when set, as Stripe shows it */
	if (pi->pmo_card_setup_future_usage)
		json_kv_str(j, "setup_future_usage", pi->pmo_card_setup_future_usage);
	json_obj_close(j);
	/* the redirect types' options: capture_method, preferred_locale and setup_future_usage
	 * only when set, as Stripe shows them; Stripe's defaults otherwise */
	if (pi_allows_type(pi, "affirm")) {
		json_key(j, "affirm");
		json_obj_open(j);
		if (pi->pmo_affirm_capture_method)
			json_kv_str(j, "capture_method", pi->pmo_affirm_capture_method);
		if (pi->pmo_affirm_preferred_locale)
			json_kv_str(j, "preferred_locale", pi->pmo_affirm_preferred_locale);
		json_obj_close(j);
	}
	if (pi_allows_type(pi, "afterpay_clearpay")) {
		json_key(j, "afterpay_clearpay");
		json_obj_open(j);
		if (pi->pmo_afterpay_capture_method)
			json_kv_str(j, "capture_method", pi->pmo_afterpay_capture_method);
		json_kv_str_or_null(j, "reference", pi->pmo_afterpay_reference);
		json_obj_close(j);
	}
	if (pi_allows_type(pi, "bancontact")) {
		json_key(j, "bancontact");
		json_obj_open(j);
		json_kv_str(j, "preferred_language",
			    pi->pmo_bancontact_preferred_language
				? pi->pmo_bancontact_preferred_language
				: "en");
		if (pi->pmo_bancontact_setup_future_usage)
			json_kv_str(j, "setup_future_usage", pi->pmo_bancontact_setup_future_usage);
		json_obj_close(j);
	}
	if (pi_allows_type(pi, "card_present")) {
		/* Stripe's defaults: Tender's readers ask for neither */
		json_key(j, "card_present");
		json_obj_open(j);
		json_kv_null(j, "request_extended_authorization");
		json_kv_null(j, "request_incremental_authorization_support");
		json_obj_close(j);
	}
	if (pi_allows_type(pi, "customer_balance")) {
		/* stored as the intent shows it (api/cash_balance.c) */
		json_key(j, "customer_balance");
		if (pi->pmo_customer_balance)
			json_raw(j, pi->pmo_customer_balance, strlen(pi->pmo_customer_balance));
		else
			json_raw(j, PMO_CUSTOMER_BALANCE_NONE, strlen(PMO_CUSTOMER_BALANCE_NONE));
	}
	if (pi_allows_type(pi, "ideal")) {
		json_key(j, "ideal");
		json_obj_open(j);
		if (pi->pmo_ideal_setup_future_usage)
			json_kv_str(j, "setup_future_usage", pi->pmo_ideal_setup_future_usage);
		json_obj_close(j);
	}
	if (pi_allows_type(pi, "klarna")) {
		json_key(j, "klarna");
		json_obj_open(j);
		if (pi->pmo_klarna_capture_method)
			json_kv_str(j, "capture_method", pi->pmo_klarna_capture_method);
		json_kv_str_or_null(j, "preferred_locale", pi->pmo_klarna_preferred_locale);
		json_obj_close(j);
	}
	if (pi_allows_type(pi, "sepa_debit")) {
		json_key(j, "sepa_debit");
		json_obj_open(j);
		json_key(j, "mandate_options");
		json_obj_open(j);
		if (pi->pmo_sepa_reference_prefix)
			json_kv_str(j, "reference_prefix", pi->pmo_sepa_reference_prefix);
		json_obj_close(j);
		if (pi->pmo_sepa_setup_future_usage)
			json_kv_str(j, "setup_future_usage", pi->pmo_sepa_setup_future_usage);
		json_obj_close(j);
	}
	if (pi_allows_type(pi, "us_bank_account")) {
		/* automatic (Stripe's default) falls back to microdeposits for an account typed by
		 * hand; instant takes only one linked through Financial Connections */
		json_key(j, "us_bank_account");
		json_obj_open(j);
		if (pi->pmo_ach_financial_connections)
			json_kv_raw(j, "financial_connections", pi->pmo_ach_financial_connections,
				    strlen(pi->pmo_ach_financial_connections));
		if (pi->pmo_ach_setup_future_usage)
			json_kv_str(j, "setup_future_usage", pi->pmo_ach_setup_future_usage);
		json_kv_str(j, "verification_method",
			    pi->pmo_ach_verification_method ? pi->pmo_ach_verification_method
							    : "automatic");
		json_obj_close(j);
	}
	json_obj_close(j);
	if (pi->payment_method_types)
		json_kv_raw(j, "payment_method_types", pi->payment_method_types,
			    strlen(pi->payment_method_types));
	else
		json_kv_raw(j, "payment_method_types", "[\"card\"]", 8);
	json_kv_null(j, "processing");
	json_kv_str_or_null(j, "receipt_email", pi->receipt_email);
	rc = payments_expandable_id(j, db, "review", pi->review, ex->review, ex);
	if (rc != DB_OK)
		return rc;
	json_kv_str_or_null(j, "setup_future_usage", pi->setup_future_usage);
	kv_raw_or_null(j, "shipping", pi->shipping);
	/* a card source of the Sources API (src_…) paying as the intent's PaymentMethod */
	json_kv_str_or_null(j, "source",
			    pi->payment_method && strncmp(pi->payment_method, "src_", 4) == 0
				? pi->payment_method
				: NULL);
	json_kv_str_or_null(j, "statement_descriptor", pi->statement_descriptor);
	json_kv_str_or_null(j, "statement_descriptor_suffix", pi->statement_descriptor_suffix);
	json_kv_str(j, "status", pi->status);
	payments_render_transfer_data(j, &pi->connect, false);
	json_kv_str_or_null(j, "transfer_group", pi->connect.transfer_group);
	json_obj_close(j);
	return DB_OK;
}

int pi_render_by_id(struct db *db, struct arena *a, const char *merchant_id, int livemode,
		    const char *id, const struct expand_set *ex, struct json *j)
{
	struct payment_intent pi;
	int rc = pi_load(db, a, merchant_id, id, &pi);
	if (rc != DB_OK)
		return rc;
	return pi_render(db, a, merchant_id, livemode, &pi, ex, j);
}

const char *pi_json(struct db *db, struct arena *a, const char *merchant_id, int livemode,
		    const struct payment_intent *pi, size_t *ret_len)
{
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 20);
	json_init(&j, &b);
	int rc = pi_render(db, a, merchant_id, livemode, pi, NULL, &j);
	const char *s = rc == DB_OK && !b.failed ? arena_strndup(a, b.data, b.len) : NULL;
	*ret_len = b.len;
	buf_release(&b);
	return s;
}

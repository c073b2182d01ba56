/*
 * /v1/setup_attempts: every confirmation of a SetupIntent that reached the card leaves one, as
 * on Stripe (setup_intents.c records them in the write that records the confirmation): the
 * card's public facts and the issuer's checks, 3-D Secure's result when a challenge ran, the
 * error of a failure. An attempt that asked for 3-D Secure stays requires_action until the
 * cardholder answers the challenge; the same attempt then gets the outcome. A PaymentIntent's
 * setup_future_usage makes none (Stripe records those on the charge).
 *
 * Only GET /v1/setup_attempts?setup_intent=… exists (Stripe has no retrieve); the SetupIntent's
 * latest_attempt names the newest and expands to it.
 */
#include "api/setup_attempts.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/common.h"
#include "api/list.h"
#include "api/resources.h"
#include "core/str.h"
#include "http/form.h"
#include "payments/payments.h"
#include "payments/redirect.h"
#include "vault/payment_method.h"

static const char SQL_INSERT[] =
    "INSERT INTO setup_attempts (merchant_id, id, created, setup_intent, status, customer,"
    " payment_method, usage, card, setup_error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
static const char SQL_GET[] =
    "SELECT id, created, setup_intent, status, customer, payment_method, usage, card,"
    " setup_error FROM setup_attempts WHERE merchant_id = $1 AND id = $2";
/* only from requires_action: an attempt's outcome is given once */
static const char SQL_FINISH[] =
    "UPDATE setup_attempts SET status = $3, card = $4, setup_error = $5"
    " WHERE merchant_id = $1 AND id = $2 AND status = 'requires_action'";
static const char SQL_ABANDON[] =
    "UPDATE setup_attempts SET status = 'abandoned'"
    " WHERE merchant_id = $1 AND id = $2 AND status = 'requires_action'";

/* payment_method_details.card.three_d_secure for a challenge that ran with `result` */
static void three_d_secure_json(struct json *j, const char *result)
{
	json_obj_open(j);
	/* a processing_error means no challenge ever ran */
	json_kv_str_or_null(j, "authentication_flow",
			    strcmp(result, "processing_error") == 0 ? NULL : "challenge");
	/* liability shifts to the issuer once the cardholder authenticated (ECI 05) */
	json_kv_str_or_null(j, "electronic_commerce_indicator",
			    strcmp(result, "authenticated") == 0 ? "05" : NULL);
	json_kv_str(j, "result", result);
	json_kv_null(j, "result_reason");
	json_kv_null(j, "transaction_id");
	json_kv_str(j, "version", "2.2.0");
	json_obj_close(j);
}

/* payment_method_details.card, as Stripe renders it for an attempt (r's arena) */
static const char *card_json(struct req *r, const struct setup_attempt_new *a)
{
	const struct payment_card *c = a->card;
	struct buf b;
	struct json j;
	buf_init(&b, 16 * 1024);
	json_init(&j, &b);
	json_obj_open(&j);
	json_kv_str_or_null(&j, "brand", c->brand);
	json_key(&j, "checks");
	json_obj_open(&j);
	json_kv_null(&j, "address_line1_check");
	json_kv_null(&j, "address_postal_code_check");
	json_kv_str_or_null(&j, "cvc_check", a->cvc_check);
	json_obj_close(&j);
	json_kv_str_or_null(&j, "country", c->country && *c->country ? c->country : NULL);
	json_kv_int(&j, "exp_month", c->exp_month);
	json_kv_int(&j, "exp_year", c->exp_year);
	json_kv_str_or_null(&j, "fingerprint", c->fingerprint);
	json_kv_str_or_null(&j, "funding", c->funding);
	json_kv_str_or_null(&j, "last4", c->last4);
	json_kv_str_or_null(&j, "network", c->brand);
	json_key(&j, "three_d_secure");
	if (a->three_d_secure_result)
		three_d_secure_json(&j, a->three_d_secure_result);
	else
		json_nil(&j);
	json_kv_null(&j, "wallet");
	json_obj_close(&j);
	const char *s = b.failed ? NULL : arena_strndup(&r->arena, b.data, b.len);
	buf_release(&b);
	return s;
}

int setup_attempt_insert(struct req *r, struct db *db, const struct setup_attempt_new *a)
{
	/* a sepa_debit attempt keeps its whole payment_method_details in the card column */
	const char *card = a->sepa_details ? a->sepa_details : card_json(r, a);
	if (!card)
		return req_fail(r, ERR_API, NULL, NULL);
	struct db_stmt *st = db_prepare(db, SQL_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, a->id, -1);
	db_bind_int64(st, 3, r->now);
	db_bind_text(st, 4, a->setup_intent, -1);
	db_bind_text(st, 5, a->status, -1);
	db_bind_text(st, 6, a->customer, -1);
	db_bind_text(st, 7, a->payment_method, -1);
	db_bind_text(st, 8, a->usage, -1);
	db_bind_text(st, 9, card, -1);
	db_bind_text(st, 10, a->setup_error, -1);
	return db_step_done(st) == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* The stored card JSON with three_d_secure set to the challenge's result (r's arena). */
static const char *card_with_3ds(struct req *r, const char *card, const char *result)
{
	json_t *o = json_loads(card, 0, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return NULL;
	}
	struct buf b;
	struct json j;
	buf_init(&b, 4096);
	json_init(&j, &b);
	three_d_secure_json(&j, result);
	json_t *tds = b.failed ? NULL : json_loadb(b.data, b.len, 0, NULL);
	buf_release(&b);
	char *s = NULL;
	if (tds && json_object_set_new(o, "three_d_secure", tds) == 0)
		s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	else
		json_decref(tds);
	json_decref(o);
	const char *out = s ? arena_strdup(&r->arena, s) : NULL;
	free(s);
	return out;
}

/* details: the attempt's new payment_method_details column, or NULL (the stored one, with
 * three_d_secure_result when given) */
static int finish(struct req *r, struct db *db, const char *id, const char *status,
		  const char *three_d_secure_result, const char *details, const char *setup_error)
{
	struct db_stmt *st = db_prepare(db, SQL_GET);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	const char *card = rc == DB_ROW ? col_text_dup(&r->arena, st, 7) : NULL;
	bool waiting = rc == DB_ROW && strcmp(db_col_text(st, 3, NULL), "requires_action") == 0;
	db_reset(st);
	if (rc == DB_DONE || (rc == DB_ROW && !waiting))
		return 0;
	if (rc != DB_ROW || !card)
		return req_fail(r, ERR_API, NULL, NULL);
	if (details) {
		card = details;
	} else if (three_d_secure_result) {
		card = card_with_3ds(r, card, three_d_secure_result);
		if (!card)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	st = db_prepare(db, SQL_FINISH);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	db_bind_text(st, 3, status, -1);
	db_bind_text(st, 4, card, -1);
	db_bind_text(st, 5, setup_error, -1);
	return db_step_done(st) == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

int setup_attempt_finish(struct req *r, struct db *db, const char *id, const char *status,
			 const char *three_d_secure_result, const char *setup_error)
{
	return finish(r, db, id, status, three_d_secure_result, NULL, setup_error);
}

int setup_attempt_finish_details(struct req *r, struct db *db, const char *id, const char *status,
				 const char *details, const char *setup_error)
{
	return finish(r, db, id, status, NULL, details, setup_error);
}

int setup_attempt_abandon(struct req *r, struct db *db, const char *id)
{
	if (!id)
		return 0;
	struct db_stmt *st = db_prepare(db, SQL_ABANDON);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	return db_step_done(st) == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* ---- rendering ---- */

static bool wants(struct req *r, const char *prefix, const char *field)
{
	char path[128];
	snprintf(path, sizeof(path), "%s%s%s", prefix ? prefix : "", prefix ? "." : "", field);
	return req_expand_has(r, path);
}

static int render_customer(void *ctx, struct db *db, const char *id, struct json *j)
{
	return customer_render_by_id(ctx, db, id, j);
}

static int render_pm(void *ctx, struct db *db, const char *id, struct json *j)
{
	struct req *r = ctx;
	return pm_render(db, r->merchant_id, id, j);
}

static int render_si(void *ctx, struct db *db, const char *id, struct json *j)
{
	return setup_intent_render_by_id(ctx, db, id, j);
}

int setup_attempt_render(struct req *r, struct db *db, const char *id, const char *prefix,
			 struct json *j)
{
	struct db_stmt *st;
	int rc = db_row_by_id(db, SQL_GET, r->merchant_id, id, &st);
	if (rc != DB_OK)
		return rc;
	/* copied out: expanding renders other objects through the same connection */
	const char *aid = col_text_dup(&r->arena, st, 0);
	int64_t created = db_col_int64(st, 1);
	const char *si = col_text_dup(&r->arena, st, 2);
	const char *status = col_text_dup(&r->arena, st, 3);
	const char *customer = col_text_dup(&r->arena, st, 4);
	const char *pm = col_text_dup(&r->arena, st, 5);
	const char *usage = col_text_dup(&r->arena, st, 6);
	const char *card = col_text_dup(&r->arena, st, 7);
	const char *err = col_text_dup(&r->arena, st, 8);
	db_reset(st);
	if (!aid || !si || !status || !pm || !usage || !card)
		return DB_ERR;
	json_obj_open(j);
	json_kv_str(j, "id", aid);
	json_kv_str(j, "object", "setup_attempt");
	json_kv_null(j, "application");
	json_kv_bool(j, "attach_to_self", false);
	json_kv_int(j, "created", created);
	rc = payments_expandable(j, db, "customer", customer, wants(r, prefix, "customer"),
				 render_customer, r);
	if (rc != DB_OK)
		return rc;
	json_kv_null(j, "flow_directions");
	json_kv_bool(j, "livemode", r->livemode);
	json_kv_null(j, "on_behalf_of");
	rc = payments_expandable(j, db, "payment_method", pm, wants(r, prefix, "payment_method"),
				 render_pm, r);
	if (rc != DB_OK)
		return rc;
	json_key(j, "payment_method_details");
	if (strncmp(card, "{\"sepa_debit\":", 14) == 0 ||
	    strncmp(card, "{\"us_bank_account\":", 19) == 0 || redirect_details_is(card) ||
	    /* a Terminal reader's card (setup_intents_present) */
	    strncmp(card, "{\"card_present\":", 16) == 0) {
		json_raw(j, card, strlen(card));
	} else {
		json_obj_open(j);
		json_kv_raw(j, "card", card, strlen(card));
		json_kv_str(j, "type", "card");
		json_obj_close(j);
	}
	json_kv_raw_or_null(j, "setup_error", err);
	rc = payments_expandable(j, db, "setup_intent", si, wants(r, prefix, "setup_intent"),
				 render_si, r);
	if (rc != DB_OK)
		return rc;
	json_kv_str(j, "status", status);
	json_kv_str(j, "usage", usage);
	json_obj_close(j);
	return DB_OK;
}

/* ---- GET /v1/setup_attempts ---- */

static const struct param_spec list_params[] = {
    {"setup_intent", PT_STRING, PF_REQUIRED, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

static const char SQL_CURSOR[] =
    "SELECT created FROM setup_attempts WHERE merchant_id = $1 AND id = $2";
static const char SQL_DESC[] =
    "SELECT id FROM setup_attempts WHERE merchant_id = $1 AND id > $2 AND id < $3"
    " AND setup_intent = $5 ORDER BY id DESC LIMIT $4";
static const char SQL_ASC[] =
    "SELECT id FROM setup_attempts WHERE merchant_id = $1 AND id > $2 AND id < $3"
    " AND setup_intent = $5 ORDER BY id ASC LIMIT $4";
static const char SQL_SI_EXISTS[] =
    "SELECT 1 FROM setup_intents WHERE merchant_id = $1 AND id = $2";

static int list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	db_bind_text(st, first, param_str(r, "setup_intent"), -1);
	return 0;
}

static int list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	return setup_attempt_render(r, db, id, "data", j);
}

/* The SetupIntent named must be one of the merchant's, as on Stripe. */
static int si_exists_fn(struct db *db, void *p)
{
	struct req *r = p;
	const char *si = param_str(r, "setup_intent");
	struct db_stmt *st = db_prepare(db, SQL_SI_EXISTS);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, si, -1);
	int rc = db_step(st);
	db_reset(st);
	if (rc == DB_ROW)
		return 0;
	return rc == DB_DONE ? req_fail_missing(r, "setup_intent", si, "setup_intent")
			     : req_fail(r, ERR_API, NULL, NULL);
}

static int h_list(struct req *r)
{
	if (req_read(r, si_exists_fn, r) != 0)
		return -1;
	static const struct list_spec spec = {
	    .url = "/v1/setup_attempts",
	    .object_name = "setup_attempt",
	    .id_prefix = SETUP_ATTEMPT_PREFIX,
	    .sql_cursor = SQL_CURSOR,
	    .sql_desc = SQL_DESC,
	    .sql_asc = SQL_ASC,
	    .bind_filters = list_bind,
	    .render = list_render,
	};
	return list_respond(r, &spec);
}

const struct route setup_attempts_routes[] = {
    {"GET", "/v1/setup_attempts", h_list, list_params, ROUTE_LIST},
    {NULL, NULL, NULL, NULL, 0},
};

/*
 * /v1/disputes: list (charge, payment_intent, created), retrieve, update (evidence, metadata,
 * submit), close. Disputes are opened by the card network (test cards, the scheduler) or by
 * `tender dispute open`, never through the API, as on Stripe. The state machine, the money and
 * the events live in src/disputes/ (dispute.h); this file is the HTTP side.
 *
 * `submit` defaults to true when evidence is sent (Stripe's default); an update that sends only
 * metadata submits nothing. A closed dispute (won, lost, warning_closed) refuses every update;
 * under review, only metadata may change; evidence only while the dispute needs a response.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/common.h"
#include "api/files.h"
#include "api/list.h"
#include "api/payments_common.h"
#include "api/resources.h"
#include "disputes/dispute.h"
#include "store/store.h"

/* Stripe's maxLength of each evidence field: the free-text ones take 20,000 characters, the
 * short ones and the file ids 5,000. */
#define EVIDENCE_LONG 20000
#define EVIDENCE_SHORT 5000

static const struct param_spec evidence_params[] = {
    {"access_activity_log", PT_STRING, PF_EMPTYABLE, EVIDENCE_LONG, NULL, NULL},
    {"billing_address", PT_STRING, PF_EMPTYABLE, EVIDENCE_SHORT, NULL, NULL},
    {"cancellation_policy", PT_STRING, PF_EMPTYABLE, EVIDENCE_SHORT, NULL, NULL},
    {"cancellation_policy_disclosure", PT_STRING, PF_EMPTYABLE, EVIDENCE_LONG, NULL, NULL},
    {"cancellation_rebuttal", PT_STRING, PF_EMPTYABLE, EVIDENCE_LONG, NULL, NULL},
    {"customer_communication", PT_STRING, PF_EMPTYABLE, EVIDENCE_SHORT, NULL, NULL},
    {"customer_email_address", PT_STRING, PF_EMPTYABLE, EVIDENCE_SHORT, NULL, NULL},
    {"customer_name", PT_STRING, PF_EMPTYABLE, EVIDENCE_SHORT, NULL, NULL},
    {"customer_purchase_ip", PT_STRING, PF_EMPTYABLE, EVIDENCE_SHORT, NULL, NULL},
    {"customer_signature", PT_STRING, PF_EMPTYABLE, EVIDENCE_SHORT, NULL, NULL},
    {"duplicate_charge_documentation", PT_STRING, PF_EMPTYABLE, EVIDENCE_SHORT, NULL, NULL},
    {"duplicate_charge_explanation", PT_STRING, PF_EMPTYABLE, EVIDENCE_LONG, NULL, NULL},
    {"duplicate_charge_id", PT_STRING, PF_EMPTYABLE, EVIDENCE_SHORT, NULL, NULL},
    {"product_description", PT_STRING, PF_EMPTYABLE, EVIDENCE_LONG, NULL, NULL},
    {"receipt", PT_STRING, PF_EMPTYABLE, EVIDENCE_SHORT, NULL, NULL},
    {"refund_policy", PT_STRING, PF_EMPTYABLE, EVIDENCE_SHORT, NULL, NULL},
    {"refund_policy_disclosure", PT_STRING, PF_EMPTYABLE, EVIDENCE_LONG, NULL, NULL},
    {"refund_refusal_explanation", PT_STRING, PF_EMPTYABLE, EVIDENCE_LONG, NULL, NULL},
    {"service_date", PT_STRING, PF_EMPTYABLE, EVIDENCE_SHORT, NULL, NULL},
    {"service_documentation", PT_STRING, PF_EMPTYABLE, EVIDENCE_SHORT, NULL, NULL},
    {"shipping_address", PT_STRING, PF_EMPTYABLE, EVIDENCE_SHORT, NULL, NULL},
    {"shipping_carrier", PT_STRING, PF_EMPTYABLE, EVIDENCE_SHORT, NULL, NULL},
    {"shipping_date", PT_STRING, PF_EMPTYABLE, EVIDENCE_SHORT, NULL, NULL},
    {"shipping_documentation", PT_STRING, PF_EMPTYABLE, EVIDENCE_SHORT, NULL, NULL},
    {"shipping_tracking_number", PT_STRING, PF_EMPTYABLE, EVIDENCE_SHORT, NULL, NULL},
    {"uncategorized_file", PT_STRING, PF_EMPTYABLE, EVIDENCE_SHORT, NULL, NULL},
    {"uncategorized_text", PT_STRING, PF_EMPTYABLE, EVIDENCE_LONG, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec update_params[] = {
    {"evidence", PT_OBJECT, 0, 0, NULL, evidence_params},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"submit", PT_BOOL, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};
static const struct param_spec list_params[] = {
    {"charge", PT_STRING, 0, 5000, NULL, NULL},
    {"payment_intent", PT_STRING, 0, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

struct id_ctx {
	struct req *r;
	const char *id;
	const char
	    *charge; /* the legacy /v1/charges/{charge}/dispute: id is the charge's dispute */
};

static int fail_load(struct req *r, int rc, const char *id)
{
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "dispute", id, "dispute");
	return req_fail(r, ERR_API, NULL, NULL);
}

/* The evidence fields Stripe types as files: each names a file_… of this merchant uploaded with
 * purpose dispute_evidence (POST /v1/files), else Stripe's 400 "No such file upload". */
static const char *const evidence_file_fields[] = {
    "cancellation_policy",
    "customer_communication",
    "customer_signature",
    "duplicate_charge_documentation",
    "receipt",
    "refund_policy",
    "service_documentation",
    "shipping_documentation",
    "uncategorized_file",
    NULL,
};

struct expand_ctx {
	struct req *r;
	const char *prefix; /* "data" in lists, NULL otherwise */
};

/* expand[] paths are relative to the response; a list prefixes them with "data." */
static bool wants(struct req *r, const char *prefix, const char *field)
{
	char path[128];
	snprintf(path, sizeof(path), "%s%s%s", prefix ? prefix : "", prefix ? "." : "", field);
	return req_expand_has(r, path);
}

static int expand_render(void *p, struct db *db, const char *field, const char *id, struct json *j)
{
	struct expand_ctx *x = p;
	struct req *r = x->r;
	char nested[64];
	snprintf(nested, sizeof(nested), "%s%s%s", x->prefix ? x->prefix : "", x->prefix ? "." : "",
		 field);
	struct expand_set ex;
	payments_expand_from_req(r, &ex, nested); /* charge.balance_transaction etc. */
	if (strncmp(field, "evidence.", 9) == 0)  /* a file the merchant uploaded (api/files.h) */
		return file_render_by_id(r, db, id, j);
	if (strcmp(field, "charge") == 0)
		return charge_render_by_id(db, &r->arena, r->merchant_id, r->livemode, id, &ex, j);
	return pi_render_by_id(db, &r->arena, r->merchant_id, r->livemode, id, &ex, j);
}

static bool evidence_expanded(void *p, const char *field)
{
	struct expand_ctx *x = p;
	bool file = false;
	for (size_t i = 0; evidence_file_fields[i] && !file; i++)
		file = strcmp(evidence_file_fields[i], field) == 0;
	if (!file) /* only the fields Stripe types as files expand */
		return false;
	char path[96];
	snprintf(path, sizeof(path), "evidence.%s", field);
	return wants(x->r, x->prefix, path);
}

static int render_to(struct req *r, struct db *db, const struct dispute *d, const char *prefix,
		     struct json *j)
{
	struct expand_ctx x = {r, prefix};
	const struct dispute_expand ex = {
	    .charge = wants(r, prefix, "charge"),
	    .payment_intent = wants(r, prefix, "payment_intent"),
	    .render = expand_render,
	    .ctx = &x,
	    .evidence_expanded = evidence_expanded,
	};
	return dispute_render(db, r->merchant_id, r->livemode, d, &ex, j);
}

static int render(struct req *r, struct db *db, const struct dispute *d)
{
	if (render_to(r, db, d, NULL, req_json(r)) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

static const char SQL_OF_CHARGE[] =
    "SELECT id FROM disputes WHERE merchant_id = $1 AND charge = $2";

/* Inside a transaction: a legacy route names the dispute by its charge (a charge is disputed at
 * most once, disputes/dispute.h): x->id becomes its id, else Stripe's 404. 0, or -1. */
static int of_charge(struct db *db, struct id_ctx *x)
{
	struct req *r = x->r;
	if (!x->charge)
		return 0;
	struct charge ch;
	int rc = charge_load(db, &r->arena, r->merchant_id, x->charge, &ch);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "charge", x->charge, "charge");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	struct db_stmt *st = db_prepare(db, SQL_OF_CHARGE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, x->charge, -1);
	rc = db_step(st);
	x->id = rc == DB_ROW ? col_text_dup(&r->arena, st, 0) : NULL;
	db_reset(st);
	if (rc == DB_DONE)
		return req_fail(r, ERR_RESOURCE_MISSING, "charge", "Charge %s has no dispute.",
				x->charge);
	return rc == DB_ROW && x->id ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static int retrieve_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	if (of_charge(db, x) != 0)
		return -1;
	struct dispute d;
	int rc = dispute_load(db, &x->r->arena, x->r->merchant_id, x->id, &d);
	if (rc != DB_OK)
		return fail_load(x->r, rc, x->id);
	return render(x->r, db, &d);
}

static int h_retrieve(struct req *r)
{
	struct id_ctx x = {r, r->args[0], NULL};
	return req_read(r, retrieve_fn, &x) == 0 ? 0 : -1;
}

/* The evidence after this request: the stored fields with the sent ones set ("" removes one),
 * as compact JSON with sorted keys in arena memory; NULL with r->err set on failure. */
static const char *evidence_merge(struct req *r, const char *old_json)
{
	json_error_t e;
	json_t *doc = old_json ? json_loads(old_json, 0, &e) : NULL;
	if (!doc || !json_is_object(doc)) {
		json_decref(doc);
		doc = json_object();
	}
	if (!doc) {
		req_fail(r, ERR_API, NULL, NULL);
		return NULL;
	}
	char path[96];
	for (size_t i = 0; dispute_evidence_fields[i]; i++) {
		snprintf(path, sizeof(path), "evidence.%s", dispute_evidence_fields[i]);
		const char *v = param_str(r, path);
		if (!v)
			continue;
		if (!*v) {
			json_object_del(doc, dispute_evidence_fields[i]);
			continue;
		}
		json_t *sv = json_string(v); /* NULL for text that is not UTF-8 */
		if (!sv || json_object_set_new(doc, dispute_evidence_fields[i], sv) != 0) {
			json_decref(doc);
			req_fail(r, ERR_PARAM_BAD, path, "Invalid %s: it must be UTF-8 text.",
				 path);
			return NULL;
		}
	}
	size_t chars = 0;
	const char *k;
	json_t *v;
	json_object_foreach(doc, k, v)
	{
		if (json_is_string(v))
			chars += json_string_length(v);
	}
	if (chars > DISPUTE_EVIDENCE_CHARS_MAX) {
		json_decref(doc);
		req_fail(r, ERR_PARAM_BAD, "evidence",
			 "The combined character count of all evidence fields is limited to "
			 "150,000 (%zu given).",
			 chars);
		return NULL;
	}
	char *s = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(doc);
	const char *out = s ? arena_strdup(&r->arena, s) : NULL;
	free(s);
	if (!out)
		req_fail(r, ERR_API, NULL, NULL);
	return out;
}

/* Inside the update's transaction: every file the request names exists. 0, or -1 with r->err. */
static int evidence_files_check(struct req *r, struct db *db)
{
	char path[96];
	for (size_t i = 0; evidence_file_fields[i]; i++) {
		snprintf(path, sizeof(path), "evidence.%s", evidence_file_fields[i]);
		const char *v = param_str(r, path);
		if (!v || !*v)
			continue;
		int rc = file_check_purpose(db, r->merchant_id, v, "dispute_evidence");
		if (rc == DB_NOTFOUND)
			return req_fail(
			    r, ERR_PARAM_RESOURCE_MISSING,
			    arena_printf(&r->arena, "evidence[%s]", evidence_file_fields[i]),
			    "No such file upload: '%s'", v);
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	return 0;
}

static int state_error(struct req *r, const struct dispute *d)
{
	if (dispute_status_is_closed(d->status))
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"This dispute is already closed (status %s) and can no longer be "
				"updated.",
				d->status);
	return req_fail(r, ERR_INVALID_STATE, NULL,
			"This dispute is %s: its evidence has been submitted and can no longer be "
			"changed.",
			d->status);
}

static int update_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	struct req *r = x->r;
	if (of_charge(db, x) != 0)
		return -1;
	struct dispute d;
	int rc = dispute_load(db, &r->arena, r->merchant_id, x->id, &d);
	if (rc != DB_OK)
		return fail_load(r, rc, x->id);
	struct dispute_change change = {NULL, NULL, false};
	bool has_evidence = param_present(r, "evidence");
	bool submit = has_evidence; /* Stripe's default: submit what is sent */
	if (param_present(r, "submit") && param_bool(r, "submit", &submit) != 1)
		submit = has_evidence;
	change.submit = submit;
	if (has_evidence && evidence_files_check(r, db) != 0)
		return -1;
	if (has_evidence && !(change.evidence = evidence_merge(r, d.evidence)))
		return -1;
	if (param_present(r, "metadata")) {
		if (metadata_apply(r, d.metadata, "metadata", &change.metadata) != 0)
			return -1;
	}
	const struct event_origin o = {r->request_id, r->idempotency_key, r->livemode};
	rc = dispute_update(db, &r->arena, r->merchant_id, &o, &d, &change, r->now);
	if (rc == DISPUTE_ERR_STATE)
		return state_error(r, &d);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return render(r, db, &d);
}

static int h_update(struct req *r)
{
	struct id_ctx x = {r, r->args[0], NULL};
	return req_write(r, update_fn, &x);
}

static int close_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	struct req *r = x->r;
	if (of_charge(db, x) != 0)
		return -1;
	struct dispute d;
	int rc = dispute_load(db, &r->arena, r->merchant_id, x->id, &d);
	if (rc != DB_OK)
		return fail_load(r, rc, x->id);
	const struct event_origin o = {r->request_id, r->idempotency_key, r->livemode};
	rc = dispute_close(db, &r->arena, r->merchant_id, &o, &d, r->now);
	if (rc == DISPUTE_ERR_STATE)
		return state_error(r, &d);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return render(r, db, &d);
}

static int h_close(struct req *r)
{
	struct id_ctx x = {r, r->args[0], NULL};
	return req_write(r, close_fn, &x);
}

static const char SQL_CURSOR[] = "SELECT created FROM disputes WHERE merchant_id = $1 AND id = $2";
/* CHARGE and INTENT: the two filters' terms; each is also a list_narrow (list.h) with the plain
 * `col = $n`, answered from disputes_charge / disputes_intent */
#define LIST_SQL(CHARGE, INTENT, DIR)                                                              \
	"SELECT id FROM disputes WHERE merchant_id = $1 AND " CHARGE " AND " INTENT                \
	" AND id > $2 AND id < $3 ORDER BY id " DIR " LIMIT $4"
#define ANY_CHARGE "($5 IS NULL OR charge = $5)"
#define ANY_INTENT "($6 IS NULL OR payment_intent = $6)"
static const char SQL_DESC[] = LIST_SQL(ANY_CHARGE, ANY_INTENT, "DESC");
static const char SQL_ASC[] = LIST_SQL(ANY_CHARGE, ANY_INTENT, "ASC");
static const char SQL_CHARGE_DESC[] = LIST_SQL("charge = $5", ANY_INTENT, "DESC");
static const char SQL_CHARGE_ASC[] = LIST_SQL("charge = $5", ANY_INTENT, "ASC");
static const char SQL_INTENT_DESC[] = LIST_SQL(ANY_CHARGE, "payment_intent = $6", "DESC");
static const char SQL_INTENT_ASC[] = LIST_SQL(ANY_CHARGE, "payment_intent = $6", "ASC");

static int list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	const char *c = param_str(r, "charge");
	const char *pi = param_str(r, "payment_intent");
	db_bind_text(st, first, c && *c ? c : NULL, -1);
	db_bind_text(st, first + 1, pi && *pi ? pi : NULL, -1);
	return 0;
}

static int list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	struct dispute d;
	int rc = dispute_load(db, &r->arena, r->merchant_id, id, &d);
	if (rc != DB_OK)
		return rc;
	return render_to(r, db, &d, "data", j);
}

int dispute_render_id(struct req *r, struct db *db, const char *id, const char *expand_prefix,
		      struct json *j)
{
	struct dispute d;
	int rc = dispute_load(db, &r->arena, r->merchant_id, id, &d);
	if (rc != DB_OK)
		return rc;
	return render_to(r, db, &d, expand_prefix, j);
}

static int h_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/disputes",
	    .object_name = "dispute",
	    .id_prefix = "dp_",
	    .sql_cursor = SQL_CURSOR,
	    .sql_desc = SQL_DESC,
	    .sql_asc = SQL_ASC,
	    .narrow = {{"charge", SQL_CHARGE_DESC, SQL_CHARGE_ASC},
		       {"payment_intent", SQL_INTENT_DESC, SQL_INTENT_ASC}},
	    .bind_filters = list_bind,
	    .render = list_render,
	};
	return list_respond(r, &spec);
}

/* The Charges API's nested dispute routes (older SDKs): the same handlers, the dispute named by
 * its charge. A re-run write resolves it again (x->id is assigned, never accumulated). */
static int h_charge_retrieve(struct req *r)
{
	struct id_ctx x = {r, NULL, r->args[0]};
	return req_read(r, retrieve_fn, &x) == 0 ? 0 : -1;
}

static int h_charge_update(struct req *r)
{
	struct id_ctx x = {r, NULL, r->args[0]};
	return req_write(r, update_fn, &x);
}

static int h_charge_close(struct req *r)
{
	struct id_ctx x = {r, NULL, r->args[0]};
	return req_write(r, close_fn, &x);
}

const struct route disputes_routes[] = {
    {"GET", "/v1/disputes", h_list, list_params, ROUTE_LIST},
    {"GET", "/v1/disputes/{id}", h_retrieve, no_params, 0},
    {"POST", "/v1/disputes/{id}", h_update, update_params, 0},
    {"POST", "/v1/disputes/{id}/close", h_close, no_params, 0},
    {"GET", "/v1/charges/{charge}/dispute", h_charge_retrieve, no_params, 0},
    {"POST", "/v1/charges/{charge}/dispute", h_charge_update, update_params, 0},
    {"POST", "/v1/charges/{charge}/dispute/close", h_charge_close, no_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};

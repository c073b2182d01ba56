/*
 * Stripe Identity at the API: /v1/identity/verification_sessions (create, retrieve, list,
 * update, cancel, redact) and /v1/identity/verification_reports (retrieve, list).
 *
 * A session (vs_…) checks a document (type document: optionally with a matching selfie and an
 * id number) or an id number alone (type id_number). It starts in requires_input; its `url` opens
 * Tender's hosted test page (api/identity_page.c), where, as in Stripe's test mode, the user picks
 * the outcome instead of showing a camera an ID. Submitting makes a verification report (vr_…)
 * and moves the session through processing to verified, or back to requires_input with
 * last_error; every step appends its identity.verification_session.* event in the same write.
 *
 * The url and client_secret are short-lived secrets, as on Stripe: they are derived from the
 * vault's page key (vault_page_token), never stored, and shown only while the session is in
 * requires_input (never in an event). A url works once: opening it moves the session's link
 * number on, so the next retrieve shows a fresh one (Stripe: retrieve the session for a new url).
 *
 * Personal data. The date of birth, the document number and the id number a report read are
 * sealed by the vault (vault_identity_store), never stored in clear, logged, or put in an error
 * or an event; they appear in an answer only when asked for with expand
 * (verified_outputs.dob, verified_outputs.id_number, document.dob, document.number,
 * id_number.dob, id_number.id_number), as Stripe requires. Redacting a session erases them and
 * replaces the names and addresses with "[redacted]".
 */
#include "api/identity.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/common.h"
#include "api/list.h"
#include "api/resources.h"
#include "app.h"
#include "core/str.h"
#include "events/events.h"
#include "http/form.h"
#include "store/store.h"
#include "vault/vault.h"

#define REDACTED "[redacted]"

static const char SQL_GET[] =
    "SELECT id, created, type, status, client_reference_id, return_url, options,"
    " provided_details, metadata, last_error_code, last_error_reason, last_report,"
    " verified_outputs, redaction_status, form_hash, link_gen, form_opened_at, related_customer"
    " FROM identity_verification_sessions WHERE merchant_id = $1 AND id = $2";
static const char SQL_INSERT[] =
    "INSERT INTO identity_verification_sessions (merchant_id, id, created, type, status,"
    " client_reference_id, return_url, options, provided_details, metadata, related_customer)"
    " VALUES ($1, $2, $3, $4, 'requires_input', $5, $6, $7, $8, $9, $10)";
static const char SQL_UPDATE[] =
    "UPDATE identity_verification_sessions SET type = $3, options = $4, provided_details = $5,"
    " metadata = $6 WHERE merchant_id = $1 AND id = $2 AND status = 'requires_input'";
/* a status change only from the status it was read in */
static const char SQL_STATUS[] =
    "UPDATE identity_verification_sessions SET status = $4, form_hash = NULL"
    " WHERE merchant_id = $1 AND id = $2 AND status = $3";
static const char SQL_OUTCOME[] =
    "UPDATE identity_verification_sessions SET status = $3, last_error_code = $4,"
    " last_error_reason = $5, last_report = $6, verified_outputs = $7, form_hash = NULL"
    " WHERE merchant_id = $1 AND id = $2 AND status = 'requires_input'";
static const char SQL_LINK_OPEN[] =
    "UPDATE identity_verification_sessions SET link_gen = $3 + 1, form_hash = $4,"
    " form_opened_at = $5 WHERE merchant_id = $1 AND id = $2 AND link_gen = $3"
    " AND status = 'requires_input'";
static const char SQL_REDACT[] =
    "UPDATE identity_verification_sessions SET redaction_status = 'redacted', metadata = '{}',"
    " provided_details = $3, verified_outputs = $4, form_hash = NULL"
    " WHERE merchant_id = $1 AND id = $2 AND redaction_status IS NULL";
static const char SQL_REPORT_GET[] =
    "SELECT id, created, verification_session, type, client_reference_id, options, document,"
    " id_number, selfie, sealed FROM identity_verification_reports"
    " WHERE merchant_id = $1 AND id = $2";
static const char SQL_REPORT_INSERT[] =
    "INSERT INTO identity_verification_reports (merchant_id, id, created, verification_session,"
    " type, client_reference_id, options, document, id_number, selfie, sealed)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
static const char SQL_REPORTS_OF[] =
    "SELECT id, document, id_number FROM identity_verification_reports"
    " WHERE merchant_id = $1 AND verification_session = $2 ORDER BY id";
static const char SQL_REPORT_REDACT[] =
    "UPDATE identity_verification_reports SET document = $3, id_number = $4, sealed = 0"
    " WHERE merchant_id = $1 AND id = $2";

/* ---- the session row ---- */

int identity_session_load(struct db *db, struct arena *a, const char *merchant_id, const char *id,
			  struct vsession *s)
{
	struct db_stmt *st;
	int rc = db_row_by_id(db, SQL_GET, merchant_id, id, &st);
	if (rc != DB_OK)
		return rc;
	memset(s, 0, sizeof(*s));
	str_copy(s->id, sizeof(s->id), db_col_text(st, 0, NULL));
	s->created = db_col_int64(st, 1);
	s->type = col_text_dup(a, st, 2);
	s->status = col_text_dup(a, st, 3);
	s->client_reference_id = col_text_dup(a, st, 4);
	s->return_url = col_text_dup(a, st, 5);
	s->options = col_text_dup(a, st, 6);
	s->provided_details = col_text_dup(a, st, 7);
	s->metadata = col_text_dup(a, st, 8);
	s->last_error_code = col_text_dup(a, st, 9);
	s->last_error_reason = col_text_dup(a, st, 10);
	s->last_report = col_text_dup(a, st, 11);
	s->verified_outputs = col_text_dup(a, st, 12);
	s->redaction_status = col_text_dup(a, st, 13);
	s->form_hash = col_text_dup(a, st, 14);
	s->link_gen = db_col_int64_or0(st, 15);
	s->form_opened_at = db_col_int64_or0(st, 16);
	s->related_customer = col_text_dup(a, st, 17);
	db_reset(st);
	return s->type && s->status && s->options && s->metadata ? DB_OK : DB_ERR;
}

int identity_link_token(struct req *r, const char *merchant_id, const char *id, int64_t gen,
			char out[64])
{
	char obj[ID_MAX + 24];
	int n = snprintf(obj, sizeof(obj), "%s.%lld", id, (long long)gen);
	if (n < 0 || (size_t)n >= ID_MAX || !r->app || !r->app->vault)
		return -1;
	return vault_page_token(r->app->vault, merchant_id, obj, out) == 0 ? 0 : -1;
}

int identity_link_open(struct db *db, const char *merchant_id, const char *id, int64_t gen,
		       const char *form_hash, int64_t now)
{
	struct db_stmt *st = db_prepare(db, SQL_LINK_OPEN);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	db_bind_int64(st, 3, gen);
	db_bind_text(st, 4, form_hash, -1);
	db_bind_int64(st, 5, now);
	int64_t n = 0;
	int rc = db_step_changes(st, &n);
	if (rc != DB_OK)
		return rc;
	return n == 1 ? DB_OK : DB_CONFLICT;
}

/* JSON text of v (keys sorted, compact) in a's memory; v is released. NULL on failure. */
static const char *jdump(struct arena *a, json_t *v)
{
	if (!v)
		return NULL;
	char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(v);
	const char *out = s ? arena_strdup(a, s) : NULL;
	free(s);
	return out;
}

/* ---- the personal data a report sealed ---- */

/* The sealed data of report id as a JSON object ({"dob", "number", "id_number"}), or NULL when
 * it has none (or it was erased). *ret_err on a store or vault failure. */
static json_t *sealed_open(struct req *r, struct db *db, const char *id, bool *ret_err)
{
	*ret_err = false;
	if (!r->app || !r->app->vault) {
		*ret_err = true;
		return NULL;
	}
	char buf[VAULT_IDENTITY_MAX + 1];
	int rc = vault_identity_open(r->app->vault, db, r->merchant_id, id, buf);
	json_t *v = NULL;
	if (rc == DB_OK)
		v = json_loads(buf, 0, NULL);
	else if (rc != DB_NOTFOUND)
		*ret_err = true;
	OPENSSL_cleanse(buf, sizeof(buf));
	return v;
}

/* ---- rendering ---- */

/* expand[] names path under prefix ("" at the top, "data." in a list, …). */
static bool expand_has(const struct req *r, const char *prefix, const char *path)
{
	char full[256];
	int n = snprintf(full, sizeof(full), "%.100s%.100s", prefix, path);
	return n > 0 && (size_t)n < sizeof(full) && req_expand_has(r, full);
}

struct vreport {
	char id[ID_MAX];
	int64_t created;
	const char *session, *type, *client_reference_id, *options, *document, *id_number, *selfie;
	bool sealed;
};

static int report_load(struct db *db, struct arena *a, const char *merchant_id, const char *id,
		       struct vreport *v)
{
	struct db_stmt *st;
	int rc = db_row_by_id(db, SQL_REPORT_GET, merchant_id, id, &st);
	if (rc != DB_OK)
		return rc;
	memset(v, 0, sizeof(*v));
	str_copy(v->id, sizeof(v->id), db_col_text(st, 0, NULL));
	v->created = db_col_int64(st, 1);
	v->session = col_text_dup(a, st, 2);
	v->type = col_text_dup(a, st, 3);
	v->client_reference_id = col_text_dup(a, st, 4);
	v->options = col_text_dup(a, st, 5);
	v->document = col_text_dup(a, st, 6);
	v->id_number = col_text_dup(a, st, 7);
	v->selfie = col_text_dup(a, st, 8);
	v->sealed = db_col_int64_or0(st, 9) != 0;
	db_reset(st);
	return v->session && v->type && v->options ? DB_OK : DB_ERR;
}

/* One check's stored JSON with its personal fields put back, as member key of j (NULL: the value
 * alone, after the caller's json_key): each named in keys[] is the sealed value under skeys[]
 * when expanded (want[]), else null. */
static int render_check(struct json *j, const char *key, const char *stored, json_t *sealed,
			const char *const keys[], const char *const skeys[], const bool want[],
			int n)
{
	json_t *o = json_loads(stored, 0, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return DB_ERR;
	}
	for (int i = 0; i < n; i++) {
		json_t *v = want[i] ? json_object_get(sealed, skeys[i]) : NULL;
		json_object_set_new(o, keys[i], v ? json_incref(v) : json_null());
	}
	char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	if (!s)
		return DB_ERR;
	size_t len = strlen(s);
	if (key)
		json_kv_raw(j, key, s, len);
	else
		json_raw(j, s, len);
	OPENSSL_cleanse(s, len); /* it may hold what the vault revealed */
	free(s);
	return DB_OK;
}

static int report_render(struct req *r, struct db *db, const struct vreport *v, const char *prefix,
			 struct json *j)
{
	bool want_doc[2] = {expand_has(r, prefix, "document.dob"),
			    expand_has(r, prefix, "document.number")};
	bool want_id[2] = {expand_has(r, prefix, "id_number.dob"),
			   expand_has(r, prefix, "id_number.id_number")};
	json_t *sealed = NULL;
	if (v->sealed && (want_doc[0] || want_doc[1] || want_id[0] || want_id[1])) {
		bool err;
		sealed = sealed_open(r, db, v->id, &err);
		if (err)
			return DB_ERR;
	}
	int rc = DB_OK;
	json_obj_open(j);
	json_kv_str_or_null(j, "client_reference_id", v->client_reference_id);
	json_kv_int(j, "created", v->created);
	if (v->document) {
		static const char *const k[] = {"dob", "number"};
		rc = render_check(j, "document", v->document, json_object_get(sealed, "document"),
				  k, k, want_doc, 2);
	}
	json_kv_str(j, "id", v->id);
	if (rc == DB_OK && v->id_number) {
		static const char *const k[] = {"dob", "id_number"};
		rc = render_check(j, "id_number", v->id_number,
				  json_object_get(sealed, "id_number"), k, k, want_id, 2);
	}
	json_kv_bool(j, "livemode", r->livemode);
	json_kv_str(j, "object", "identity.verification_report");
	json_kv_raw(j, "options", v->options, strlen(v->options));
	if (v->selfie) /* as document and id_number: only when the check ran */
		json_kv_raw(j, "selfie", v->selfie, strlen(v->selfie));
	json_kv_str(j, "type", v->type);
	json_kv_str(j, "verification_session", v->session);
	json_obj_close(j);
	json_decref(sealed);
	return rc;
}

/* Stripe's url and client_secret: while the session waits for its user only. */
static bool shows_secrets(const struct vsession *s)
{
	return strcmp(s->status, "requires_input") == 0 && !s->redaction_status;
}

/* for_event: the object as an event carries it: no url or client_secret (short-lived secrets),
 * and no personal data (verified_outputs and provided_details null, as Stripe leaves them out of
 * events unless expanded), since an event is kept as it was appended and a redaction could not
 * erase it there; nothing expanded. */
static int session_render(struct req *r, struct db *db, const struct vsession *s,
			  const char *prefix, bool for_event, struct json *j)
{
	const char *url = NULL, *secret = NULL;
	if (!for_event && shows_secrets(s)) {
		char tok[64], sec[64];
		char obj[ID_MAX + 8];
		int on = snprintf(obj, sizeof(obj), "%s/secret", s->id);
		if (on < 0 || (size_t)on >= ID_MAX ||
		    identity_link_token(r, r->merchant_id, s->id, s->link_gen, tok) != 0 ||
		    vault_page_token(r->app->vault, r->merchant_id, obj, sec) != 0)
			return DB_ERR;
		url = arena_printf(&r->arena, "%s/verify/%s/%s/%s", req_url_base(r), r->merchant_id,
				   s->id, tok);
		secret = arena_printf(&r->arena, "%s_secret_%s", s->id, sec);
		OPENSSL_cleanse(sec, sizeof(sec));
		if (!url || !secret)
			return DB_ERR;
	}
	json_obj_open(j);
	json_kv_str(j, "id", s->id);
	json_kv_str(j, "object", "identity.verification_session");
	json_kv_str_or_null(j, "client_reference_id", s->client_reference_id);
	json_kv_str_or_null(j, "client_secret", secret);
	json_kv_int(j, "created", s->created);
	json_key(j, "last_error");
	if (s->last_error_code) {
		json_obj_open(j);
		json_kv_str(j, "code", s->last_error_code);
		json_kv_str_or_null(j, "reason", s->last_error_reason);
		json_obj_close(j);
	} else {
		json_nil(j);
	}
	json_key(j, "last_verification_report");
	char sub[160];
	snprintf(sub, sizeof(sub), "%.100slast_verification_report.", prefix);
	if (s->last_report && !for_event && expand_has(r, prefix, "last_verification_report")) {
		struct vreport v;
		int rc = report_load(db, &r->arena, r->merchant_id, s->last_report, &v);
		if (rc != DB_OK || report_render(r, db, &v, sub, j) != DB_OK)
			return DB_ERR;
	} else {
		json_str_or_null(j, s->last_report);
	}
	json_kv_bool(j, "livemode", r->livemode);
	json_kv_raw(j, "metadata", s->metadata, strlen(s->metadata));
	json_kv_raw(j, "options", s->options, strlen(s->options));
	json_kv_raw_or_null(j, "provided_details", for_event ? NULL : s->provided_details);
	json_key(j, "redaction");
	if (s->redaction_status) {
		json_obj_open(j);
		json_kv_str(j, "status", s->redaction_status);
		json_obj_close(j);
	} else {
		json_nil(j);
	}
	json_kv_str_or_null(j, "related_customer", s->related_customer);
	json_kv_str(j, "status", s->status);
	json_kv_str(j, "type", s->type);
	json_kv_str_or_null(j, "url", url);
	json_key(j, "verified_outputs");
	if (!s->verified_outputs || for_event) {
		json_nil(j);
	} else {
		bool want[2] = {!for_event && expand_has(r, prefix, "verified_outputs.dob"),
				!for_event && expand_has(r, prefix, "verified_outputs.id_number")};
		json_t *sealed = NULL;
		if ((want[0] || want[1]) && s->last_report) {
			bool err;
			sealed = sealed_open(r, db, s->last_report, &err);
			if (err)
				return DB_ERR;
		}
		/* the outputs are what the document (else the id number check) read */
		json_t *src = json_object_get(sealed, "document");
		if (!json_object_get(src, "dob"))
			src = json_object_get(sealed, "id_number");
		json_t *both = json_object();
		if (both) {
			json_t *d = json_object_get(src, "dob");
			json_object_set(both, "dob", d ? d : json_null());
			json_t *idn =
			    json_object_get(json_object_get(sealed, "id_number"), "id_number");
			json_object_set(both, "id_number", idn ? idn : json_null());
		}
		static const char *const k[] = {"dob", "id_number"};
		int rc =
		    both ? render_check(j, NULL, s->verified_outputs, both, k, k, want, 2) : DB_ERR;
		json_decref(both);
		json_decref(sealed);
		if (rc != DB_OK)
			return rc;
	}
	json_obj_close(j);
	return DB_OK;
}

static int respond(struct req *r, struct db *db, const struct vsession *s)
{
	return session_render(r, db, s, "", false, req_json(r)) == DB_OK
		   ? 0
		   : req_fail(r, ERR_API, NULL, NULL);
}

/* Appends identity.verification_session.<what> with s as it is now. */
static int emit(struct req *r, struct db *db, const struct vsession *s, const char *what)
{
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 16);
	json_init(&j, &b);
	int rc = session_render(r, db, s, "", true, &j);
	if (rc == DB_OK && b.failed)
		rc = DB_ERR;
	char type[96];
	snprintf(type, sizeof(type), "identity.verification_session.%.32s", what);
	struct event_origin o = {r->request_id[0] ? r->request_id : NULL, r->idempotency_key,
				 r->livemode};
	if (rc == DB_OK)
		rc = event_append(db, r->merchant_id, &o, type, s->id, b.data, b.len, NULL, r->now,
				  NULL);
	buf_release(&b);
	return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* ---- parameters ---- */

static const char *const DOC_TYPES[] = {"driving_license", "id_card", "passport", NULL};

static bool url_ok(const char *u)
{
	return u && (strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0) &&
	       strlen(u) > 8 && !strpbrk(u, " \t\r\n\"<>");
}

/* The options of a session of `type` from the request's options hash (absent: *ret
 * untouched). 0, or -1 with r->err. */
static int options_from_params(struct req *r, const char *type, const char **ret)
{
	if (!param_present(r, "options"))
		return 0;
	bool doc = strcmp(type, "document") == 0;
	if (!doc && param_present(r, "options.document"))
		return req_fail(
		    r, ERR_PARAM_BAD, "options[document]",
		    "options[document] can only be set on a VerificationSession of type "
		    "`document`; this one is of type `%s`.",
		    type);
	json_t *o = json_object(), *d = json_object();
	if (!o || !d) {
		json_decref(o);
		json_decref(d);
		return req_fail(r, ERR_API, NULL, NULL);
	}
	if (doc) {
		const struct form_node *n = param_node(r, "options.document.allowed_types");
		if (n) {
			json_t *arr = json_array();
			const struct form_node *first =
			    n->kind == FORM_SCALAR ? (n->value_len ? n : NULL) : n->first_child;
			int i = 0;
			for (const struct form_node *x = first; x;
			     x = n->kind == FORM_SCALAR ? NULL : x->next, i++) {
				bool known = false;
				for (int k = 0; DOC_TYPES[k]; k++)
					known = known || strcmp(DOC_TYPES[k], x->value) == 0;
				if (!known) {
					json_decref(arr);
					json_decref(o);
					json_decref(d);
					const char *p = arena_printf(
					    &r->arena, "options[document][allowed_types][%d]", i);
					return req_fail(
					    r, ERR_PARAM_BAD, p,
					    "Invalid %s: must be one of driving_license, "
					    "id_card, or passport",
					    p);
				}
				json_array_append_new(arr, json_string(x->value));
			}
			json_object_set_new(d, "allowed_types", arr);
		}
		static const char *const flags[] = {"require_id_number", "require_live_capture",
						    "require_matching_selfie"};
		for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
			char path[64];
			snprintf(path, sizeof(path), "options.document.%s", flags[i]);
			bool v;
			if (param_bool(r, path, &v) == 1)
				json_object_set_new(d, flags[i], json_boolean(v));
		}
	}
	json_object_set_new(o, doc ? "document" : "id_number", d);
	*ret = jdump(&r->arena, o);
	return *ret ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static const char *options_default(const char *type)
{
	return strcmp(type, "document") == 0 ? "{\"document\":{}}" : "{\"id_number\":{}}";
}

/* provided_details (email, phone): absent keeps old, "" clears. 0, or -1 with r->err. */
static int provided_from_params(struct req *r, const char *old, const char **ret)
{
	*ret = old;
	if (!param_present(r, "provided_details"))
		return 0;
	const char *all = param_str(r, "provided_details");
	if (all && !*all) {
		*ret = NULL;
		return 0;
	}
	json_t *o = old ? json_loads(old, 0, NULL) : json_object();
	if (!json_is_object(o)) {
		json_decref(o);
		o = json_object();
	}
	const char *email = param_str(r, "provided_details.email");
	if (email && *email && (!strchr(email, '@') || strpbrk(email, " \t\r\n<>\""))) {
		json_decref(o);
		return req_fail(r, ERR_PARAM_BAD, "provided_details[email]",
				"Invalid email address: %s", email);
	}
	static const char *const keys[] = {"email", "phone"};
	for (int i = 0; i < 2; i++) {
		char path[64];
		snprintf(path, sizeof(path), "provided_details.%s", keys[i]);
		if (!param_present(r, path))
			continue;
		const char *v = param_str(r, path);
		json_object_set_new(o, keys[i], v && *v ? json_string(v) : json_null());
	}
	*ret = jdump(&r->arena, o);
	return *ret ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* ---- create ---- */

struct create_ctx {
	struct req *r;
	struct vsession s;
};

static int create_fn(struct db *db, void *arg)
{
	struct create_ctx *c = arg;
	struct req *r = c->r;
	struct vsession *s = &c->s;
	if (s->related_customer && customer_check(r, db, s->related_customer) != 0) {
		if (r->err.code == ERR_RESOURCE_MISSING)
			str_copy(r->err.param, sizeof(r->err.param), "related_customer");
		return -1;
	}
	struct db_stmt *st = db_prepare(db, SQL_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, s->id, -1);
	db_bind_int64(st, 3, s->created);
	db_bind_text(st, 4, s->type, -1);
	db_bind_text(st, 5, s->client_reference_id, -1);
	db_bind_text(st, 6, s->return_url, -1);
	db_bind_text(st, 7, s->options, -1);
	db_bind_text(st, 8, s->provided_details, -1);
	db_bind_text(st, 9, s->metadata, -1);
	db_bind_text(st, 10, s->related_customer, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (emit(r, db, s, "created") != 0)
		return -1;
	return respond(r, db, s);
}

static int h_create(struct req *r)
{
	struct create_ctx c = {.r = r};
	struct vsession *s = &c.s;
	s->type = param_str(r, "type");
	if (!s->type || !*s->type)
		return req_fail(r, ERR_PARAM_MISSING, "type", "type");
	const char *ru = param_str(r, "return_url");
	if (ru && *ru) {
		if (!url_ok(ru))
			return req_fail(r, ERR_URL_INVALID, "return_url", "Not a valid URL");
		s->return_url = ru;
	}
	const char *cr = param_str(r, "client_reference_id");
	s->client_reference_id = cr && *cr ? cr : NULL;
	const char *rc = param_str(r, "related_customer");
	s->related_customer = rc && *rc ? rc : NULL;
	s->options = options_default(s->type);
	if (options_from_params(r, s->type, &s->options) != 0 ||
	    provided_from_params(r, NULL, &s->provided_details) != 0)
		return -1;
	s->metadata = "{}";
	if (metadata_apply(r, NULL, "metadata", &s->metadata) != 0)
		return -1;
	id_new_at(s->id, "vs_", r->now);
	s->created = r->now;
	s->status = "requires_input";
	return req_write(r, create_fn, &c);
}

/* ---- retrieve, update, cancel, redact ---- */

struct id_ctx {
	struct req *r;
	const char *id;
	struct vsession s;
};

static int load_fn(struct db *db, void *arg)
{
	struct id_ctx *x = arg;
	int rc = identity_session_load(db, &x->r->arena, x->r->merchant_id, x->id, &x->s);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "verification_session", x->id, "session");
	return rc == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

static int retrieve_fn(struct db *db, void *arg)
{
	struct id_ctx *x = arg;
	return load_fn(db, arg) != 0 ? -1 : respond(x->r, db, &x->s);
}

static int h_retrieve(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->args[0]};
	/* an ephemeral key made for this session (api/ephemeral_keys.c) reads it, and no other */
	if (req_scope_customer(r, r->args[0], "verification_session", r->args[0], "session") != 0)
		return -1;
	return req_read(r, retrieve_fn, &x) == 0 ? 0 : -1;
}

/* type, options, provided_details and metadata, while the session waits for its user (Stripe
 * refuses any update in another status, and of a redacted session). No event: Stripe has no
 * identity.verification_session.updated. */
static int update_fn(struct db *db, void *arg)
{
	struct id_ctx *x = arg;
	struct req *r = x->r;
	if (load_fn(db, arg) != 0)
		return -1;
	struct vsession *s = &x->s;
	if (strcmp(s->status, "requires_input") != 0 || s->redaction_status)
		return req_fail(
		    r, ERR_INVALID_STATE, NULL,
		    "You can only update VerificationSessions in requires_input status; "
		    "this one is %s.",
		    s->redaction_status ? "redacted" : s->status);
	const char *type = param_str(r, "type");
	if (type && *type && strcmp(type, s->type) != 0) {
		s->type = type;
		s->options = options_default(type);
	}
	if (options_from_params(r, s->type, &s->options) != 0 ||
	    provided_from_params(r, s->provided_details, &s->provided_details) != 0 ||
	    metadata_apply(r, s->metadata, "metadata", &s->metadata) != 0)
		return -1;
	struct db_stmt *st = db_prepare(db, SQL_UPDATE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, s->id, -1);
	db_bind_text(st, 3, s->type, -1);
	db_bind_text(st, 4, s->options, -1);
	db_bind_text(st, 5, s->provided_details, -1);
	db_bind_text(st, 6, s->metadata, -1);
	int64_t n = 0;
	if (db_step_changes(st, &n) != DB_OK || n != 1)
		return req_fail(r, ERR_API, NULL, NULL);
	return respond(r, db, s);
}

static int h_update(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, update_fn, &x);
}

/* requires_input -> canceled (its page's form no longer posts), with its event. */
static int do_cancel(struct req *r, struct db *db, struct vsession *s)
{
	struct db_stmt *st = db_prepare(db, SQL_STATUS);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, s->id, -1);
	db_bind_text(st, 3, "requires_input", -1);
	db_bind_text(st, 4, "canceled", -1);
	int64_t n = 0;
	if (db_step_changes(st, &n) != DB_OK || n != 1)
		return req_fail(r, ERR_API, NULL, NULL);
	s->status = "canceled";
	s->form_hash = NULL;
	return emit(r, db, s, "canceled");
}

static int cancel_fn(struct db *db, void *arg)
{
	struct id_ctx *x = arg;
	struct req *r = x->r;
	if (load_fn(db, arg) != 0)
		return -1;
	struct vsession *s = &x->s;
	if (strcmp(s->status, "requires_input") != 0)
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"This VerificationSession cannot be canceled because its status is "
				"%s: only a VerificationSession in requires_input can be canceled.",
				s->status);
	if (do_cancel(r, db, s) != 0)
		return -1;
	return respond(r, db, s);
}

static int h_cancel(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, cancel_fn, &x);
}

/* o's string members (and its address's) replaced by "[redacted]"; NULL stays NULL. */
static const char *redact_json(struct arena *a, const char *stored)
{
	if (!stored)
		return NULL;
	json_t *o = json_loads(stored, 0, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return NULL;
	}
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v)
	{
		if (json_is_string(v) && strcmp(k, "status") != 0 && strcmp(k, "type") != 0 &&
		    strcmp(k, "id_number_type") != 0)
			json_object_set_new(o, k, json_string(REDACTED));
		if (strcmp(k, "address") == 0 && json_is_object(v)) {
			const char *ak;
			json_t *av;
			json_object_foreach(v, ak, av)
			{
				if (json_is_string(av))
					json_object_set_new(v, ak, json_string(REDACTED));
			}
		}
	}
	return jdump(a, o);
}

/* Every report of session s: its names and addresses replaced, its sealed data erased. */
static int redact_reports(struct req *r, struct db *db, const struct vsession *s)
{
	struct db_stmt *st = db_prepare(db, SQL_REPORTS_OF);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, s->id, -1);
	struct item {
		const char *id, *doc, *idn;
	} items[64];
	int n = 0, rc;
	while ((rc = db_step(st)) == DB_ROW && n < 64) {
		items[n].id = col_text_dup(&r->arena, st, 0);
		items[n].doc = col_text_dup(&r->arena, st, 1);
		items[n].idn = col_text_dup(&r->arena, st, 2);
		if (!items[n].id) {
			db_reset(st);
			return DB_ERR;
		}
		n++;
	}
	db_reset(st);
	if (rc < 0)
		return rc;
	for (int i = 0; i < n; i++) {
		if (vault_identity_erase(db, r->merchant_id, items[i].id) != DB_OK)
			return DB_ERR;
		st = db_prepare(db, SQL_REPORT_REDACT);
		if (!st)
			return DB_ERR;
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, items[i].id, -1);
		db_bind_text(st, 3, redact_json(&r->arena, items[i].doc), -1);
		db_bind_text(st, 4, redact_json(&r->arena, items[i].idn), -1);
		if (db_step_done(st) != DB_OK)
			return DB_ERR;
	}
	return DB_OK;
}

/* Stripe: a session in requires_input (canceled first) or verified can be redacted; its
 * personal data is erased and identity.verification_session.redacted appended. Tender erases
 * in this same write, so redaction.status is redacted at once. Redacting again changes
 * nothing. */
static int redact_fn(struct db *db, void *arg)
{
	struct id_ctx *x = arg;
	struct req *r = x->r;
	if (load_fn(db, arg) != 0)
		return -1;
	struct vsession *s = &x->s;
	if (s->redaction_status)
		return respond(r, db, s);
	bool waiting = strcmp(s->status, "requires_input") == 0;
	if (!waiting && strcmp(s->status, "verified") != 0)
		return req_fail(
		    r, ERR_INVALID_STATE, NULL,
		    "This VerificationSession cannot be redacted because its status is "
		    "%s: only a VerificationSession in requires_input or verified can be "
		    "redacted.",
		    s->status);
	if (waiting && do_cancel(r, db, s) != 0)
		return -1;
	if (redact_reports(r, db, s) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	s->provided_details = redact_json(&r->arena, s->provided_details);
	s->verified_outputs = redact_json(&r->arena, s->verified_outputs);
	s->metadata = "{}";
	s->redaction_status = "redacted";
	s->form_hash = NULL;
	struct db_stmt *st = db_prepare(db, SQL_REDACT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, s->id, -1);
	db_bind_text(st, 3, s->provided_details, -1);
	db_bind_text(st, 4, s->verified_outputs, -1);
	int64_t n = 0;
	if (db_step_changes(st, &n) != DB_OK || n != 1)
		return req_fail(r, ERR_API, NULL, NULL);
	if (emit(r, db, s, "redacted") != 0)
		return -1;
	return respond(r, db, s);
}

static int h_redact(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, redact_fn, &x);
}

/* ---- lists ---- */

static const char SQL_CURSOR[] =
    "SELECT created FROM identity_verification_sessions WHERE merchant_id = $1 AND id = $2";
#define LIST_WHERE                                                                                 \
	"SELECT id FROM identity_verification_sessions WHERE merchant_id = $1 AND id > $2"         \
	" AND id < $3 AND ($5 IS NULL OR status = $5)"                                             \
	" AND ($6 IS NULL OR client_reference_id = $6) AND ($7 IS NULL OR related_customer = $7)"
static const char SQL_DESC[] = LIST_WHERE " ORDER BY id DESC LIMIT $4";
static const char SQL_ASC[] = LIST_WHERE " ORDER BY id ASC LIMIT $4";

static int list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	list_bind_filter(r, st, first, "status");
	list_bind_filter(r, st, first + 1, "client_reference_id");
	list_bind_filter(r, st, first + 2, "related_customer");
	return 0;
}

static int list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	struct vsession s;
	int rc = identity_session_load(db, &r->arena, r->merchant_id, id, &s);
	if (rc != DB_OK)
		return rc;
	return session_render(r, db, &s, "data.", false, j);
}

static int h_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/identity/verification_sessions",
	    .object_name = "verification_session",
	    .id_prefix = "vs_",
	    .sql_cursor = SQL_CURSOR,
	    .sql_desc = SQL_DESC,
	    .sql_asc = SQL_ASC,
	    .bind_filters = list_bind,
	    .render = list_render,
	};
	return list_respond(r, &spec);
}

struct report_ctx {
	struct req *r;
	const char *id;
};

static int report_fn(struct db *db, void *arg)
{
	struct report_ctx *x = arg;
	struct req *r = x->r;
	struct vreport v;
	int rc = report_load(db, &r->arena, r->merchant_id, x->id, &v);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "verification_report", x->id, "report");
	if (rc != DB_OK || report_render(r, db, &v, "", req_json(r)) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

static int h_report(struct req *r)
{
	struct report_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, report_fn, &x) == 0 ? 0 : -1;
}

static const char SQL_R_CURSOR[] =
    "SELECT created FROM identity_verification_reports WHERE merchant_id = $1 AND id = $2";
#define R_LIST_WHERE                                                                               \
	"SELECT id FROM identity_verification_reports WHERE merchant_id = $1 AND id > $2"          \
	" AND id < $3 AND ($5 IS NULL OR type = $5) AND ($6 IS NULL OR verification_session = $6)" \
	" AND ($7 IS NULL OR client_reference_id = $7)"
static const char SQL_R_DESC[] = R_LIST_WHERE " ORDER BY id DESC LIMIT $4";
static const char SQL_R_ASC[] = R_LIST_WHERE " ORDER BY id ASC LIMIT $4";

static int r_list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	list_bind_filter(r, st, first, "type");
	list_bind_filter(r, st, first + 1, "verification_session");
	list_bind_filter(r, st, first + 2, "client_reference_id");
	return 0;
}

static int r_list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	struct vreport v;
	int rc = report_load(db, &r->arena, r->merchant_id, id, &v);
	if (rc != DB_OK)
		return rc;
	return report_render(r, db, &v, "data.", j);
}

static int h_report_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/identity/verification_reports",
	    .object_name = "verification_report",
	    .id_prefix = "vr_",
	    .sql_cursor = SQL_R_CURSOR,
	    .sql_desc = SQL_R_DESC,
	    .sql_asc = SQL_R_ASC,
	    .bind_filters = r_list_bind,
	    .render = r_list_render,
	};
	return list_respond(r, &spec);
}

/* ---- the page's submission: outcomes and the report ---- */

static bool option_set(const struct vsession *s, const char *flag)
{
	json_t *o = json_loads(s->options, 0, NULL);
	bool v = json_is_true(json_object_get(json_object_get(o, "document"), flag));
	json_decref(o);
	return v;
}

bool identity_wants_id_number(const struct vsession *s)
{
	return strcmp(s->type, "id_number") == 0 || option_set(s, "require_id_number");
}

int identity_outcomes(const struct vsession *s, struct identity_outcome out[8])
{
	int n = 0;
	if (strcmp(s->type, "id_number") == 0) {
		out[n++] = (struct identity_outcome){"verified", "Verification succeeds"};
		out[n++] = (struct identity_outcome){"id_number_mismatch", "ID number mismatch"};
		out[n++] = (struct identity_outcome){"id_number_insufficient_document_data",
						     "Insufficient data to verify the ID number"};
		out[n++] =
		    (struct identity_outcome){"id_number_unverified_other", "ID number unverified"};
		return n;
	}
	out[n++] = (struct identity_outcome){"verified", "Verification succeeds"};
	out[n++] = (struct identity_outcome){"document_unverified_other", "Document unverified"};
	out[n++] = (struct identity_outcome){"document_expired", "Document expired"};
	out[n++] =
	    (struct identity_outcome){"document_type_not_supported", "Document type not supported"};
	if (option_set(s, "require_matching_selfie"))
		out[n++] = (struct identity_outcome){"selfie_face_mismatch",
						     "Selfie does not match the document"};
	if (option_set(s, "require_id_number"))
		out[n++] = (struct identity_outcome){"id_number_mismatch", "ID number mismatch"};
	return n;
}

int identity_ssn_normalize(const char *in, char out[10])
{
	size_t n = 0;
	for (; in && *in; in++) {
		if (*in == ' ' || *in == '-')
			continue;
		if (*in < '0' || *in > '9' || n >= 9)
			return -1;
		out[n++] = *in;
	}
	out[n] = '\0';
	return n == 9 ? 0 : -1;
}

/* Stripe's reasons for the last_error codes a test submission ends with. */
static const char *reason_of(const char *code)
{
	static const char *const reasons[][2] = {
	    {"document_unverified_other", "The document could not be verified."},
	    {"document_expired", "The document is expired."},
	    {"document_type_not_supported", "The document type is not supported."},
	    {"selfie_face_mismatch", "The captured face did not match the document's face."},
	    {"selfie_unverified_other", "The selfie could not be verified."},
	    {"id_number_mismatch", "The information provided could not be verified against the ID "
				   "number's records."},
	    {"id_number_insufficient_document_data",
	     "There was not enough data to verify the ID number."},
	    {"id_number_unverified_other", "The ID number could not be verified."},
	};
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (strcmp(reasons[i][0], code) == 0)
			return reasons[i][1];
	return "The verification check failed.";
}

static json_t *date_json(int day, int month, int year)
{
	return json_pack("{s:i,s:i,s:i}", "day", day, "month", month, "year", year);
}

static json_t *error_json(const char *code)
{
	if (!code)
		return json_null();
	return json_pack("{s:s,s:s}", "code", code, "reason", reason_of(code));
}

/* Stripe's test-mode person: what a test document reads. */
static json_t *test_address(void)
{
	return json_pack("{s:s,s:s,s:s,s:n,s:s,s:s}", "city", "San Francisco", "country", "US",
			 "line1", "1234 Main St.", "line2", "postal_code", "94111", "state", "CA");
}

int identity_submit(struct req *r, struct db *db, struct vsession *s, const char *outcome,
		    const char *id_number)
{
	bool doc = strcmp(s->type, "document") == 0;
	bool ok = strcmp(outcome, "verified") == 0;
	time_t now = (time_t)r->now;
	struct tm tm;
	gmtime_r(&now, &tm);
	int year = tm.tm_year + 1900;
	/* what failed: the document, the selfie, or the id number check */
	bool doc_failed = doc && strncmp(outcome, "document_", 9) == 0;
	bool doc_read = doc && strcmp(outcome, "document_unverified_other") != 0 &&
			strcmp(outcome, "document_type_not_supported") != 0;
	bool selfie = doc && option_set(s, "require_matching_selfie");
	bool wants_idn = identity_wants_id_number(s);
	json_t *opts = json_loads(s->options, 0, NULL);
	json_t *allowed = json_object_get(json_object_get(opts, "document"), "allowed_types");
	const char *doc_type = json_string_value(json_array_get(allowed, 0));
	char report_id[ID_MAX];
	id_new_at(report_id, "vr_", r->now);
	json_t *sealed = json_object();
	const char *document = NULL, *idn = NULL, *selfie_js = NULL;
	if (doc) {
		json_t *d = json_object();
		json_object_set_new(d, "status",
				    json_string(doc_failed ? "unverified" : "verified"));
		json_object_set_new(d, "error", error_json(doc_failed ? outcome : NULL));
		json_object_set_new(d, "files", json_null());
		json_object_set_new(d, "first_name", doc_read ? json_string("Jenny") : json_null());
		json_object_set_new(d, "last_name", doc_read ? json_string("Rosen") : json_null());
		json_object_set_new(d, "address", doc_read ? test_address() : json_null());
		json_object_set_new(d, "issuing_country",
				    doc_read ? json_string("US") : json_null());
		json_object_set_new(d, "type",
				    doc_read ? json_string(doc_type ? doc_type : "driving_license")
					     : json_null());
		bool expired = strcmp(outcome, "document_expired") == 0;
		json_object_set_new(d, "expiration_date",
				    doc_read ? date_json(1, 12, expired ? year - 1 : year + 5)
					     : json_null());
		json_object_set_new(d, "issued_date",
				    doc_read ? date_json(1, 12, expired ? year - 11 : year - 5)
					     : json_null());
		document = jdump(&r->arena, d);
		if (doc_read)
			json_object_set_new(sealed, "document",
					    json_pack("{s:o,s:s}", "dob", date_json(1, 1, 1901),
						      "number", "D1234567"));
	}
	if (selfie) {
		bool failed = strcmp(outcome, "selfie_face_mismatch") == 0;
		const char *code = failed ? outcome : doc_failed ? "selfie_unverified_other" : NULL;
		selfie_js = jdump(&r->arena, json_pack("{s:n,s:o,s:n,s:s}", "document", "error",
						       error_json(code), "selfie", "status",
						       code ? "unverified" : "verified"));
	}
	if (wants_idn) {
		bool failed = strncmp(outcome, "id_number_", 10) == 0;
		const char *code = failed	? outcome
				   : doc_failed ? "id_number_insufficient_document_data"
						: NULL;
		idn = jdump(&r->arena,
			    json_pack("{s:o,s:s,s:s,s:s,s:s}", "error", error_json(code),
				      "first_name", "Jenny", "last_name", "Rosen", "id_number_type",
				      "us_ssn", "status", code ? "unverified" : "verified"));
		json_object_set_new(
		    sealed, "id_number",
		    json_pack("{s:o,s:s?}", "dob", date_json(1, 1, 1901), "id_number", id_number));
	}
	/* every check verified: the outputs are what they read (the document's name and address,
	 * else the id number check's name) */
	const char *outputs = NULL;
	if (ok)
		outputs =
		    jdump(&r->arena, json_pack("{s:o,s:s,s:s,s:o}", "address",
					       doc ? test_address() : json_null(), "first_name",
					       "Jenny", "last_name", "Rosen", "id_number_type",
					       wants_idn ? json_string("us_ssn") : json_null()));
	json_t *ropts = json_deep_copy(opts);
	const char *report_opts = jdump(&r->arena, ropts ? ropts : json_object());
	json_decref(opts);
	bool has_sealed = json_object_size(sealed) > 0;
	const char *sealed_js =
	    has_sealed ? json_dumps(sealed, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(sealed);
	if ((doc && !document) || (selfie && !selfie_js) || (wants_idn && !idn) ||
	    (ok && !outputs) || !report_opts || (has_sealed && !sealed_js)) {
		if (sealed_js)
			OPENSSL_cleanse((char *)sealed_js, strlen(sealed_js));
		free((char *)sealed_js);
		return req_fail(r, ERR_API, NULL, NULL);
	}
	int rc = DB_OK;
	if (has_sealed) {
		rc = vault_identity_store(r->app->vault, db, r->merchant_id, report_id, sealed_js,
					  r->now);
		OPENSSL_cleanse((char *)sealed_js, strlen(sealed_js));
		free((char *)sealed_js);
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	/* processing first: the submission is in, the checks run */
	s->status = "processing";
	s->form_hash = NULL;
	if (emit(r, db, s, "processing") != 0)
		return -1;
	struct db_stmt *st = db_prepare(db, SQL_REPORT_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, report_id, -1);
	db_bind_int64(st, 3, r->now);
	db_bind_text(st, 4, s->id, -1);
	db_bind_text(st, 5, s->type, -1);
	db_bind_text(st, 6, s->client_reference_id, -1);
	db_bind_text(st, 7, report_opts, -1);
	db_bind_text(st, 8, document, -1);
	db_bind_text(st, 9, idn, -1);
	db_bind_text(st, 10, selfie_js, -1);
	db_bind_int64(st, 11, has_sealed ? 1 : 0);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	s->status = ok ? "verified" : "requires_input";
	s->last_error_code = ok ? NULL : outcome;
	s->last_error_reason = ok ? NULL : reason_of(outcome);
	s->last_report = arena_strdup(&r->arena, report_id);
	s->verified_outputs = outputs;
	if (!s->last_report)
		return req_fail(r, ERR_API, NULL, NULL);
	st = db_prepare(db, SQL_OUTCOME);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, s->id, -1);
	db_bind_text(st, 3, s->status, -1);
	db_bind_text(st, 4, s->last_error_code, -1);
	db_bind_text(st, 5, s->last_error_reason, -1);
	db_bind_text(st, 6, s->last_report, -1);
	db_bind_text(st, 7, s->verified_outputs, -1);
	int64_t n = 0;
	if (db_step_changes(st, &n) != DB_OK || n != 1)
		return req_fail(r, ERR_API, NULL, NULL);
	return emit(r, db, s, ok ? "verified" : "requires_input");
}

/* ---- routes ---- */

static const struct param_spec document_options[] = {
    {"allowed_types", PT_STRING_ARRAY, 0, 0, NULL, NULL},
    {"require_id_number", PT_BOOL, 0, 0, NULL, NULL},
    {"require_live_capture", PT_BOOL, 0, 0, NULL, NULL},
    {"require_matching_selfie", PT_BOOL, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};
static const struct param_spec options_params[] = {
    {"document", PT_OBJECT, PF_EMPTYABLE, 0, NULL, document_options},
    {"id_number", PT_OBJECT, PF_EMPTYABLE, 0, NULL, no_params},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec provided_params[] = {
    {"email", PT_STRING, PF_EMPTYABLE, 800, NULL, NULL},
    {"phone", PT_STRING, PF_EMPTYABLE, 40, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
#define TYPES                                                                                      \
	(const char *const[])                                                                      \
	{                                                                                          \
		"document", "id_number", NULL                                                      \
	}
static const struct param_spec create_params[] = {
    {"type", PT_ENUM, 0, 0, TYPES, NULL},
    {"options", PT_OBJECT, 0, 0, NULL, options_params},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"return_url", PT_STRING, 0, 2048, NULL, NULL},
    {"client_reference_id", PT_STRING, 0, 5000, NULL, NULL},
    {"provided_details", PT_OBJECT, PF_EMPTYABLE, 0, NULL, provided_params},
    {"related_customer", PT_STRING, 0, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec update_params[] = {
    {"type", PT_ENUM, 0, 0, TYPES, NULL},
    {"options", PT_OBJECT, 0, 0, NULL, options_params},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"provided_details", PT_OBJECT, PF_EMPTYABLE, 0, NULL, provided_params},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec list_params[] = {
    {"status", PT_ENUM, 0, 0,
     (const char *const[]){"canceled", "processing", "requires_input", "verified", NULL}, NULL},
    {"client_reference_id", PT_STRING, 0, 5000, NULL, NULL},
    {"related_customer", PT_STRING, 0, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec report_list_params[] = {
    {"type", PT_ENUM, 0, 0, TYPES, NULL},
    {"verification_session", PT_STRING, 0, 5000, NULL, NULL},
    {"client_reference_id", PT_STRING, 0, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

const struct route identity_routes[] = {
    {"POST", "/v1/identity/verification_sessions", h_create, create_params, 0},
    {"GET", "/v1/identity/verification_sessions", h_list, list_params, ROUTE_LIST},
    {"GET", "/v1/identity/verification_sessions/{id}", h_retrieve, no_params, ROUTE_EPHEMERAL},
    {"POST", "/v1/identity/verification_sessions/{id}", h_update, update_params, 0},
    {"POST", "/v1/identity/verification_sessions/{id}/cancel", h_cancel, no_params, 0},
    {"POST", "/v1/identity/verification_sessions/{id}/redact", h_redact, no_params, 0},
    {"GET", "/v1/identity/verification_reports", h_report_list, report_list_params, ROUTE_LIST},
    {"GET", "/v1/identity/verification_reports/{id}", h_report, no_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};

/*
 * Stripe Financial Connections at the API: /v1/financial_connections/sessions (create,
 * retrieve) and /v1/financial_connections/accounts (list, retrieve, disconnect, refresh, owners),
 * and Stripe's older names for the same handlers (/v1/link_account_sessions, /v1/linked_accounts).
 *
 * A session (fcsess_…) asks an account holder (the merchant's customer, or a connected account
 * it is the platform of) for access to bank accounts with some permissions. Stripe links them
 * through Stripe.js; Tender has no Stripe.js, so a session's accounts are linked on Tender's
 * hosted test page (api/financial_connections_page.c: /link_accounts/{merchant}/{client_secret}),
 * where, as in Stripe's test mode, the user picks accounts of the "Test Institution"
 * (vault/fc_institution.h). Linking makes a financial_connections.account (fca_…) for each, with
 * financial_connections.account.created in the same write; a session links once.
 *
 * The client_secret is derived from the vault's page key (vault_page_token of the session id),
 * never stored and compared in constant time; only the vault knows the test accounts' numbers,
 * which reach a PaymentMethod made from a linked account (api/payment_methods.c) sealed.
 *
 * Refreshes (balance, ownership, transactions) complete within the request's write, so a refresh
 * object is never seen pending: it shows succeeded (or failed, for an account whose institution
 * gives no ownership data) with last_attempted_at, and financial_connections.account.
 * refreshed_balance / .refreshed_ownership / .refreshed_transactions are appended with it. An
 * account subscribed to transactions (subscribe / unsubscribe) is refreshed at once and then
 * daily by the scheduler (fc_subscriptions_tick); the transactions themselves, their generator
 * and their routes are api/financial_connections_txns.c.
 */
#include "api/financial_connections.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "api/common.h"
#include "api/list.h"
#include "api/resources.h"
#include "app.h"
#include "core/str.h"
#include "events/events.h"
#include "http/form.h"
#include "merchant/connect.h"
#include "store/store.h"
#include "vault/fc_institution.h"
#include "scheduler/scheduler.h"
#include "vault/vault.h"

#define SESSION_ACCOUNTS_MAX 100 /* a session's accounts list shows this many at most */

static const char SQL_S_GET[] =
    "SELECT id, created, holder_type, holder_customer, holder_account, permissions, prefetch,"
    " filters, return_url, form_hash, form_opened_at, completed_at FROM fc_sessions"
    " WHERE merchant_id = $1 AND id = $2";
static const char SQL_S_INSERT[] =
    "INSERT INTO fc_sessions (merchant_id, id, created, holder_type, holder_customer,"
    " holder_account, permissions, prefetch, filters, return_url)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
static const char SQL_S_FORM[] = "UPDATE fc_sessions SET form_hash = $3, form_opened_at = $4"
				 " WHERE merchant_id = $1 AND id = $2 AND completed_at IS NULL";
static const char SQL_S_COMPLETE[] = "UPDATE fc_sessions SET completed_at = $3, form_hash = NULL"
				     " WHERE merchant_id = $1 AND id = $2 AND completed_at IS NULL";
static const char SQL_S_ACCOUNTS[] =
    "SELECT id FROM fc_accounts WHERE merchant_id = $1 AND session = $2 ORDER BY id DESC"
    " LIMIT $3";
static const char SQL_A_GET[] =
    "SELECT id, created, session, holder_type, holder_customer, holder_account, test_account,"
    " institution_name, display_name, last4, category, subcategory, status, permissions,"
    " balance, balance_refresh, ownership, ownership_refresh, subscriptions, transaction_refresh,"
    " next_transaction_refresh_at FROM fc_accounts WHERE merchant_id = $1 AND id = $2";
static const char SQL_A_INSERT[] =
    "INSERT INTO fc_accounts (merchant_id, id, created, session, holder_type, holder_customer,"
    " holder_account, test_account, institution_name, display_name, last4, category,"
    " subcategory, status, permissions, balance, balance_refresh, ownership, ownership_refresh)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,"
    " $19)";
/* a change only from the status it was read in (a disconnect racing a refresh loses) */
static const char SQL_A_UPDATE[] =
    "UPDATE fc_accounts SET status = $4, balance = $5, balance_refresh = $6, ownership = $7,"
    " ownership_refresh = $8, subscriptions = $9, transaction_refresh = $10,"
    " next_transaction_refresh_at = $11 WHERE merchant_id = $1 AND id = $2 AND status = $3";
static const char SQL_OWNERSHIP_INSERT[] =
    "INSERT INTO fc_ownerships (merchant_id, id, created, account) VALUES ($1, $2, $3, $4)";
static const char SQL_OWNERSHIP_GET[] =
    "SELECT created, account FROM fc_ownerships WHERE merchant_id = $1 AND id = $2";
static const char SQL_OWNER_INSERT[] =
    "INSERT INTO fc_owners (merchant_id, id, created, ownership, name, email, phone,"
    " raw_address, refreshed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
static const char SQL_OWNER_GET[] =
    "SELECT id, ownership, name, email, phone, raw_address, refreshed_at FROM fc_owners"
    " WHERE merchant_id = $1 AND id = $2";
static const char SQL_OWNERS_OF[] =
    "SELECT id FROM fc_owners WHERE merchant_id = $1 AND ownership = $2 ORDER BY id DESC"
    " LIMIT $3";

/* ---- the session row and its secret ---- */

int fc_session_load(struct db *db, struct arena *a, const char *merchant_id, const char *id,
		    struct fc_session *s)
{
	struct db_stmt *st;
	int rc = db_row_by_id(db, SQL_S_GET, merchant_id, id, &st);
	if (rc != DB_OK)
		return rc;
	memset(s, 0, sizeof(*s));
	str_copy(s->id, sizeof(s->id), db_col_text(st, 0, NULL));
	s->created = db_col_int64(st, 1);
	s->holder_type = col_text_dup(a, st, 2);
	s->holder_customer = col_text_dup(a, st, 3);
	s->holder_account = col_text_dup(a, st, 4);
	s->permissions = col_text_dup(a, st, 5);
	s->prefetch = col_text_dup(a, st, 6);
	s->filters = col_text_dup(a, st, 7);
	s->return_url = col_text_dup(a, st, 8);
	s->form_hash = col_text_dup(a, st, 9);
	s->form_opened_at = db_col_int64_or0(st, 10);
	s->completed_at = db_col_int64_or0(st, 11);
	db_reset(st);
	return s->holder_type && s->permissions ? DB_OK : DB_ERR;
}

const char *fc_client_secret(struct req *r, const char *merchant_id, const char *id)
{
	char obj[ID_MAX + 8], sec[VAULT_PAGE_TOKEN_LEN + 1];
	int n = snprintf(obj, sizeof(obj), "%s/secret", id);
	if (n < 0 || (size_t)n >= sizeof(obj) || !r->app || !r->app->vault ||
	    vault_page_token(r->app->vault, merchant_id, obj, sec) != 0)
		return NULL;
	const char *out = arena_printf(&r->arena, "%s_secret_%s", id, sec);
	OPENSSL_cleanse(sec, sizeof(sec));
	return out;
}

int fc_client_secret_session(const char *secret, char out[ID_MAX])
{
	const char *cut = secret ? strstr(secret, "_secret_") : NULL;
	size_t n = cut ? (size_t)(cut - secret) : 0;
	if (!cut || n < 8 || n >= ID_MAX || strncmp(secret, "fcsess_", 7) != 0)
		return -1;
	memcpy(out, secret, n);
	out[n] = '\0';
	return 0;
}

int fc_session_form_open(struct db *db, const char *merchant_id, const char *id,
			 const char *form_hash, int64_t now)
{
	struct db_stmt *st = db_prepare(db, SQL_S_FORM);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	db_bind_text(st, 3, form_hash, -1);
	db_bind_int64(st, 4, now);
	int64_t n = 0;
	int rc = db_step_changes(st, &n);
	if (rc != DB_OK)
		return rc;
	return n == 1 ? DB_OK : DB_CONFLICT;
}

/* JSON text of v (compact) in a's memory; v is released. NULL on failure. */
static const char *jdump(struct arena *a, json_t *v)
{
	if (!v)
		return NULL;
	char *s = json_dumps(v, JSON_COMPACT);
	json_decref(v);
	const char *out = s ? arena_strdup(a, s) : NULL;
	free(s);
	return out;
}

/* Whether JSON array text arr holds string v. */
static bool json_text_has(const char *arr, const char *v)
{
	json_t *a = arr ? json_loads(arr, 0, NULL) : NULL;
	bool found = false;
	size_t i;
	json_t *x;
	json_array_foreach(a, i, x) found =
	    found || (json_is_string(x) && strcmp(json_string_value(x), v) == 0);
	json_decref(a);
	return found;
}

/* ---- the account row ---- */

struct fc_account {
	char id[ID_MAX];
	int64_t created;
	const char *session, *holder_type, *holder_customer, *holder_account, *test_account;
	const char *institution_name, *display_name, *last4, *category, *subcategory, *status;
	const char *permissions, *balance, *balance_refresh, *ownership, *ownership_refresh;
	const char *subscriptions;	     /* JSON array text; NULL shows [] */
	const char *transaction_refresh;     /* JSON text, NULL before the first */
	int64_t next_transaction_refresh_at; /* while subscribed: the scheduler's next; 0: none */
};

static int account_load(struct db *db, struct arena *a, const char *merchant_id, const char *id,
			struct fc_account *x)
{
	struct db_stmt *st;
	int rc = db_row_by_id(db, SQL_A_GET, merchant_id, id, &st);
	if (rc != DB_OK)
		return rc;
	memset(x, 0, sizeof(*x));
	str_copy(x->id, sizeof(x->id), db_col_text(st, 0, NULL));
	x->created = db_col_int64(st, 1);
	const char **cols[] = {&x->session,	      &x->holder_type,	   &x->holder_customer,
			       &x->holder_account,    &x->test_account,	   &x->institution_name,
			       &x->display_name,      &x->last4,	   &x->category,
			       &x->subcategory,	      &x->status,	   &x->permissions,
			       &x->balance,	      &x->balance_refresh, &x->ownership,
			       &x->ownership_refresh, &x->subscriptions,   &x->transaction_refresh};
	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
		*cols[i] = col_text_dup(a, st, (int)i + 2);
	x->next_transaction_refresh_at = db_col_int64_or0(st, 20);
	db_reset(st);
	return x->session && x->holder_type && x->test_account && x->status && x->permissions
		   ? DB_OK
		   : DB_ERR;
}

/* ---- rendering ---- */

static void holder_render(struct json *j, const char *type, const char *customer,
			  const char *account)
{
	/* a Checkout page's guest (fc_checkout_link): nobody holds the account yet, as on Stripe */
	if (!customer && !account) {
		json_kv_null(j, "account_holder");
		return;
	}
	json_key(j, "account_holder");
	json_obj_open(j);
	if (strcmp(type, "account") == 0)
		json_kv_str(j, "account", account ? account : "");
	else
		json_kv_str(j, "customer", customer ? customer : "");
	json_kv_str(j, "type", type);
	json_obj_close(j);
}

static int owner_render(struct db *db, struct arena *a, const char *merchant_id, const char *id,
			struct json *j)
{
	struct db_stmt *st;
	int rc = db_row_by_id(db, SQL_OWNER_GET, merchant_id, id, &st);
	if (rc != DB_OK)
		return rc;
	json_obj_open(j);
	json_kv_str_or_null(j, "email", col_text_dup(a, st, 3));
	json_kv_str(j, "id", db_col_text(st, 0, NULL));
	json_kv_str(j, "name", db_col_text(st, 2, NULL));
	json_kv_str(j, "object", "financial_connections.account_owner");
	json_kv_str(j, "ownership", db_col_text(st, 1, NULL));
	json_kv_str_or_null(j, "phone", col_text_dup(a, st, 4));
	json_kv_str_or_null(j, "raw_address", col_text_dup(a, st, 5));
	json_key(j, "refreshed_at");
	if (db_col_is_null(st, 6))
		json_nil(j);
	else
		json_int(j, db_col_int64(st, 6));
	json_obj_close(j);
	db_reset(st);
	return DB_OK;
}

/* The ownership object (expand[]=ownership), its owners' first page inside. */
static int ownership_render(struct db *db, struct arena *a, const char *merchant_id,
			    const char *account, const char *id, struct json *j)
{
	struct db_stmt *st;
	int rc = db_row_by_id(db, SQL_OWNERSHIP_GET, merchant_id, id, &st);
	if (rc != DB_OK)
		return rc;
	int64_t created = db_col_int64(st, 0);
	db_reset(st);
	st = db_prepare(db, SQL_OWNERS_OF);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	db_bind_int64(st, 3, 11);
	const char *ids[11];
	int n = 0;
	while ((rc = db_step(st)) == DB_ROW && n < 11)
		ids[n++] = col_text_dup(a, st, 0);
	db_reset(st);
	if (rc < 0)
		return rc;
	json_obj_open(j);
	json_kv_int(j, "created", created);
	json_kv_str(j, "id", id);
	json_kv_str(j, "object", "financial_connections.account_ownership");
	json_key(j, "owners");
	json_obj_open(j);
	json_kv_str(j, "object", "list");
	json_key(j, "data");
	json_arr_open(j);
	for (int i = 0; i < n && i < 10; i++)
		if (!ids[i] || owner_render(db, a, merchant_id, ids[i], j) != DB_OK)
			return DB_ERR;
	json_arr_close(j);
	json_kv_bool(j, "has_more", n > 10);
	json_kv_str(j, "url",
		    arena_printf(a, "/v1/financial_connections/accounts/%s/owners", account));
	json_obj_close(j);
	json_obj_close(j);
	return DB_OK;
}

/* prefix: where the object sits in the answer ("" at the top, "data." in a list, …), for
 * expand[]=ownership; for_event: nothing expanded. */
static int account_render(struct req *r, struct db *db, const struct fc_account *x,
			  const char *prefix, bool for_event, struct json *j)
{
	json_obj_open(j);
	json_kv_str(j, "id", x->id);
	json_kv_str(j, "object", "financial_connections.account");
	holder_render(j, x->holder_type, x->holder_customer, x->holder_account);
	/* tokenized account numbers: none for the test institution's accounts */
	json_kv_null(j, "account_numbers");
	json_kv_raw_or_null(j, "balance", x->balance);
	json_kv_raw_or_null(j, "balance_refresh", x->balance_refresh);
	json_kv_str(j, "category", x->category);
	json_kv_int(j, "created", x->created);
	json_kv_str_or_null(j, "display_name", x->display_name);
	json_kv_str(j, "institution_name", x->institution_name);
	json_kv_str_or_null(j, "last4", x->last4);
	json_kv_bool(j, "livemode", r->livemode);
	json_key(j, "ownership");
	char path[160];
	snprintf(path, sizeof(path), "%.100sownership", prefix);
	if (x->ownership && !for_event && req_expand_has(r, path)) {
		if (ownership_render(db, &r->arena, r->merchant_id, x->id, x->ownership, j) !=
		    DB_OK)
			return DB_ERR;
	} else {
		json_str_or_null(j, x->ownership);
	}
	json_kv_raw_or_null(j, "ownership_refresh", x->ownership_refresh);
	json_kv_raw(j, "permissions", x->permissions, strlen(x->permissions));
	json_kv_str(j, "status", x->status);
	json_kv_str(j, "subcategory", x->subcategory);
	const char *subs = x->subscriptions ? x->subscriptions : "[]";
	json_kv_raw(j, "subscriptions", subs, strlen(subs));
	json_key(j, "supported_payment_method_types");
	json_arr_open(j);
	json_str(j, "link");
	json_str(j, "us_bank_account");
	json_arr_close(j);
	json_kv_raw_or_null(j, "transaction_refresh", x->transaction_refresh);
	json_obj_close(j);
	return DB_OK;
}

static int account_respond(struct req *r, struct db *db, const struct fc_account *x)
{
	return account_render(r, db, x, "", false, req_json(r)) == DB_OK
		   ? 0
		   : req_fail(r, ERR_API, NULL, NULL);
}

/* Appends financial_connections.account.<what> with x as it is now. */
static int account_emit(struct req *r, struct db *db, const struct fc_account *x, const char *what)
{
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 14);
	json_init(&j, &b);
	int rc = account_render(r, db, x, "", true, &j);
	if (rc == DB_OK && b.failed)
		rc = DB_ERR;
	char type[96];
	snprintf(type, sizeof(type), "financial_connections.account.%.32s", what);
	struct event_origin o = {r->request_id[0] ? r->request_id : NULL, r->idempotency_key,
				 r->livemode};
	if (rc == DB_OK)
		rc = event_append(db, r->merchant_id, &o, type, x->id, b.data, b.len, NULL, r->now,
				  NULL);
	buf_release(&b);
	return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static int session_render(struct req *r, struct db *db, const struct fc_session *s, struct json *j)
{
	const char *secret = fc_client_secret(r, r->merchant_id, s->id);
	if (!secret)
		return DB_ERR;
	struct db_stmt *st = db_prepare(db, SQL_S_ACCOUNTS);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, s->id, -1);
	db_bind_int64(st, 3, SESSION_ACCOUNTS_MAX + 1);
	const char *ids[SESSION_ACCOUNTS_MAX + 1];
	int n = 0, rc;
	while ((rc = db_step(st)) == DB_ROW && n < SESSION_ACCOUNTS_MAX + 1)
		ids[n++] = col_text_dup(&r->arena, st, 0);
	db_reset(st);
	if (rc < 0)
		return rc;
	json_obj_open(j);
	json_kv_str(j, "id", s->id);
	json_kv_str(j, "object", "financial_connections.session");
	holder_render(j, s->holder_type, s->holder_customer, s->holder_account);
	json_key(j, "accounts");
	json_obj_open(j);
	json_kv_str(j, "object", "list");
	json_key(j, "data");
	json_arr_open(j);
	for (int i = 0; i < n && i < SESSION_ACCOUNTS_MAX; i++) {
		struct fc_account x;
		if (!ids[i] || account_load(db, &r->arena, r->merchant_id, ids[i], &x) != DB_OK ||
		    account_render(r, db, &x, "accounts.data.", false, j) != DB_OK)
			return DB_ERR;
	}
	json_arr_close(j);
	json_kv_bool(j, "has_more", n > SESSION_ACCOUNTS_MAX);
	json_kv_str(j, "url", "/v1/financial_connections/accounts");
	json_obj_close(j);
	json_kv_str(j, "client_secret", secret);
	const char *filters = s->filters ? s->filters : "{\"countries\":[\"US\"]}";
	json_kv_raw(j, "filters", filters, strlen(filters));
	json_kv_bool(j, "livemode", r->livemode);
	json_kv_raw(j, "permissions", s->permissions, strlen(s->permissions));
	json_kv_raw_or_null(j, "prefetch", s->prefetch);
	if (s->return_url)
		json_kv_str(j, "return_url", s->return_url);
	json_obj_close(j);
	return DB_OK;
}

/* ---- create a session ---- */

static const char *const PERMISSIONS[] = {"balances", "ownership", "payment_method", "transactions",
					  NULL};
static const char *const PREFETCH[] = {"balances", "ownership", "transactions", NULL};

static bool one_of(const char *const *set, const char *v)
{
	for (int i = 0; set[i]; i++)
		if (strcmp(set[i], v) == 0)
			return true;
	return false;
}

/* Whether jansson array arr holds string v. */
static bool array_has(json_t *arr, const char *v)
{
	size_t i;
	json_t *x;
	json_array_foreach(arr, i, x) if (strcmp(json_string_value(x), v) == 0) return true;
	return false;
}

/* An array parameter (a[]=x or a[0]=x, or one scalar) of values in set (choices: them as the
 * error says them), as a JSON array text without repeats; *ret NULL when absent. 0, or -1 with
 * r->err. */
static int enum_array(struct req *r, const char *path, const char *wire, const char *const *set,
		      const char *choices, bool required, const char **ret)
{
	*ret = NULL;
	const struct form_node *n = param_node(r, path);
	if (!n) {
		if (required)
			return req_fail(r, ERR_PARAM_MISSING, wire, "%s", wire);
		return 0;
	}
	json_t *arr = json_array();
	if (!arr)
		return req_fail(r, ERR_API, NULL, NULL);
	const struct form_node *first =
	    n->kind == FORM_SCALAR ? (n->value_len ? n : NULL) : n->first_child;
	int i = 0;
	for (const struct form_node *x = first; x;
	     x = n->kind == FORM_SCALAR ? NULL : x->next, i++) {
		if (!x->value || !one_of(set, x->value)) {
			json_decref(arr);
			const char *p = arena_printf(&r->arena, "%s[%d]", wire, i);
			return req_fail(r, ERR_PARAM_BAD, p, "Invalid %s: must be one of %s", p,
					choices);
		}
		if (!array_has(arr, x->value))
			json_array_append_new(arr, json_string(x->value));
	}
	if (json_array_size(arr) == 0 && required) {
		json_decref(arr);
		return req_fail(r, ERR_PARAM_MISSING, wire, "%s", wire);
	}
	*ret = jdump(&r->arena, arr);
	return *ret ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static bool url_ok(const char *u)
{
	return u && (strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0) &&
	       strlen(u) > 8 && !strpbrk(u, " \t\r\n\"<>");
}

struct create_ctx {
	struct req *r;
	struct fc_session s;
};

static int create_fn(struct db *db, void *arg)
{
	struct create_ctx *c = arg;
	struct req *r = c->r;
	struct fc_session *s = &c->s;
	if (s->holder_customer && customer_check(r, db, s->holder_customer) != 0) {
		if (r->err.code == ERR_RESOURCE_MISSING)
			str_copy(r->err.param, sizeof(r->err.param), "account_holder[customer]");
		return -1;
	}
	if (s->holder_account) {
		int rc = connect_account_check(db, r->merchant_id, s->holder_account, NULL);
		if (rc == DB_NOTFOUND)
			return req_fail_missing(r, "account", s->holder_account,
						"account_holder[account]");
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	struct db_stmt *st = db_prepare(db, SQL_S_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, s->id, -1);
	db_bind_int64(st, 3, s->created);
	db_bind_text(st, 4, s->holder_type, -1);
	db_bind_text(st, 5, s->holder_customer, -1);
	db_bind_text(st, 6, s->holder_account, -1);
	db_bind_text(st, 7, s->permissions, -1);
	db_bind_text(st, 8, s->prefetch, -1);
	db_bind_text(st, 9, s->filters, -1);
	db_bind_text(st, 10, s->return_url, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* Stripe has no event for a new session */
	return session_render(r, db, s, req_json(r)) == DB_OK ? 0
							      : req_fail(r, ERR_API, NULL, NULL);
}

static int h_session_create(struct req *r)
{
	struct create_ctx c = {.r = r};
	struct fc_session *s = &c.s;
	s->holder_type = param_str(r, "account_holder.type");
	if (!param_present(r, "account_holder"))
		return req_fail(r, ERR_PARAM_MISSING, "account_holder", "account_holder");
	if (!s->holder_type || !*s->holder_type)
		return req_fail(r, ERR_PARAM_MISSING, "account_holder[type]",
				"account_holder[type]");
	const char *cus = param_str(r, "account_holder.customer");
	const char *acct = param_str(r, "account_holder.account");
	bool is_customer = strcmp(s->holder_type, "customer") == 0;
	const char *need = is_customer ? cus : acct;
	const char *other = is_customer ? acct : cus;
	if (!need || !*need)
		return req_fail(r, ERR_PARAM_MISSING,
				is_customer ? "account_holder[customer]"
					    : "account_holder[account]",
				"account_holder[%s] is required when account_holder[type] is %s.",
				is_customer ? "customer" : "account", s->holder_type);
	if (other && *other)
		return req_fail(
		    r, ERR_PARAM_BAD,
		    is_customer ? "account_holder[account]" : "account_holder[customer]",
		    "account_holder[%s] cannot be given when account_holder[type] is %s.",
		    is_customer ? "account" : "customer", s->holder_type);
	s->holder_customer = is_customer ? cus : NULL;
	s->holder_account = is_customer ? NULL : acct;
	if (enum_array(r, "permissions", "permissions", PERMISSIONS,
		       "balances, ownership, payment_method, or transactions", true,
		       &s->permissions) != 0 ||
	    enum_array(r, "prefetch", "prefetch", PREFETCH, "balances, ownership, or transactions",
		       false, &s->prefetch) != 0)
		return -1;
	/* a prefetch reads data only a permission gives */
	static const char *const need_perm[][2] = {
	    {"balances", "balances"}, {"ownership", "ownership"}, {"transactions", "transactions"}};
	for (size_t i = 0; s->prefetch && i < 3; i++)
		if (json_text_has(s->prefetch, need_perm[i][0]) &&
		    !json_text_has(s->permissions, need_perm[i][1]))
			return req_fail(r, ERR_PARAM_BAD, "prefetch",
					"prefetch %s needs the %s permission in permissions.",
					need_perm[i][0], need_perm[i][1]);
	if (param_present(r, "filters")) {
		const struct form_node *n = param_node(r, "filters.countries");
		if (!n)
			return req_fail(r, ERR_PARAM_MISSING, "filters[countries]",
					"filters[countries]");
		json_t *arr = json_array();
		const struct form_node *first =
		    n->kind == FORM_SCALAR ? (n->value_len ? n : NULL) : n->first_child;
		int i = 0;
		for (const struct form_node *x = first; x;
		     x = n->kind == FORM_SCALAR ? NULL : x->next, i++) {
			/* Financial Connections links US accounts only */
			if (!x->value || strcmp(x->value, "US") != 0) {
				json_decref(arr);
				const char *p =
				    arena_printf(&r->arena, "filters[countries][%d]", i);
				return req_fail(
				    r, ERR_PARAM_BAD, p,
				    "Invalid %s: Financial Connections supports only US.", p);
			}
			if (json_array_size(arr) == 0)
				json_array_append_new(arr, json_string("US"));
		}
		if (json_array_size(arr) == 0) {
			json_decref(arr);
			return req_fail(r, ERR_PARAM_MISSING, "filters[countries]",
					"filters[countries]");
		}
		s->filters = jdump(&r->arena, json_pack("{s:o}", "countries", arr));
	}
	const char *ru = param_str(r, "return_url");
	if (ru && *ru) {
		if (!url_ok(ru))
			return req_fail(r, ERR_URL_INVALID, "return_url", "Not a valid URL");
		s->return_url = ru;
	}
	id_new_at(s->id, "fcsess_", r->now);
	s->created = r->now;
	return req_write(r, create_fn, &c);
}

struct id_ctx {
	struct req *r;
	const char *id;
	struct fc_session s;
	struct fc_account a;
};

static int session_fn(struct db *db, void *arg)
{
	struct id_ctx *x = arg;
	struct req *r = x->r;
	int rc = fc_session_load(db, &r->arena, r->merchant_id, x->id, &x->s);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "session", x->id, "session");
	if (rc != DB_OK || session_render(r, db, &x->s, req_json(r)) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

static int h_session_retrieve(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, session_fn, &x) == 0 ? 0 : -1;
}

/* ---- linking (the page's write) ---- */

/* The test balance of t now, as the object's balance hash. */
static const char *balance_json(struct arena *a, const struct fc_test_account *t, int64_t now)
{
	return jdump(a, json_pack("{s:I,s:{s:{s:I}},s:{s:I},s:s}", "as_of", (json_int_t)now, "cash",
				  "available", "usd", (json_int_t)t->balance, "current", "usd",
				  (json_int_t)t->balance, "type", "cash"));
}

/* A balance or ownership refresh as the object shows it; Tender does not limit refreshes, so the
 * next may start at once (next_refresh_available_at: now). */
static const char *refresh_json(struct arena *a, const char *status, int64_t now)
{
	return jdump(a, json_pack("{s:I,s:I,s:s}", "last_attempted_at", (json_int_t)now,
				  "next_refresh_available_at", (json_int_t)now, "status", status));
}

/* A new ownership of account x with Stripe's test owner, its id in *ret. DB_OK or < 0. */
static int ownership_new(struct req *r, struct db *db, const struct fc_account *x, const char **ret)
{
	char oid[ID_MAX], wid[ID_MAX];
	id_new_at(oid, "fcaowns_", r->now);
	id_new_at(wid, "fcaown_", r->now);
	struct db_stmt *st = db_prepare(db, SQL_OWNERSHIP_INSERT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, oid, -1);
	db_bind_int64(st, 3, r->now);
	db_bind_text(st, 4, x->id, -1);
	int rc = db_step_done(st);
	if (rc != DB_OK)
		return rc;
	st = db_prepare(db, SQL_OWNER_INSERT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, wid, -1);
	db_bind_int64(st, 3, r->now);
	db_bind_text(st, 4, oid, -1);
	db_bind_text(st, 5, "Jenny Rosen", -1);
	db_bind_text(st, 6, "jenny.rosen@example.com", -1);
	db_bind_text(st, 7, "+15555555555", -1);
	db_bind_text(st, 8, "354 Oyster Point Blvd, South San Francisco, CA 94080, US", -1);
	db_bind_int64(st, 9, r->now);
	rc = db_step_done(st);
	*ret = arena_strdup(&r->arena, oid);
	return rc == DB_OK && *ret ? DB_OK : DB_ERR;
}

/* Refreshes feature ("balance", "ownership" or "transactions") of x in memory (and its
 * ownership or transaction rows), as the test institution answers: the balance and transactions
 * always, ownership unless the account gives none. */
static int refresh_feature(struct req *r, struct db *db, struct fc_account *x,
			   const struct fc_test_account *t, const char *feature)
{
	if (strcmp(feature, "transactions") == 0)
		return fc_transactions_refresh(r, db, x->id, x->created, &x->transaction_refresh);
	if (strcmp(feature, "balance") == 0) {
		x->balance = balance_json(&r->arena, t, r->now);
		x->balance_refresh = refresh_json(&r->arena, "succeeded", r->now);
		return x->balance && x->balance_refresh ? DB_OK : DB_ERR;
	}
	if (t->no_ownership) {
		x->ownership_refresh = refresh_json(&r->arena, "failed", r->now);
		return x->ownership_refresh ? DB_OK : DB_ERR;
	}
	if (ownership_new(r, db, x, &x->ownership) != DB_OK)
		return DB_ERR;
	x->ownership_refresh = refresh_json(&r->arena, "succeeded", r->now);
	return x->ownership_refresh ? DB_OK : DB_ERR;
}

static int account_store(struct db *db, const char *merchant_id, const struct fc_account *x,
			 const char *old_status)
{
	struct db_stmt *st = db_prepare(db, SQL_A_UPDATE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, x->id, -1);
	db_bind_text(st, 3, old_status, -1);
	db_bind_text(st, 4, x->status, -1);
	db_bind_text(st, 5, x->balance, -1);
	db_bind_text(st, 6, x->balance_refresh, -1);
	db_bind_text(st, 7, x->ownership, -1);
	db_bind_text(st, 8, x->ownership_refresh, -1);
	db_bind_text(st, 9, x->subscriptions, -1);
	db_bind_text(st, 10, x->transaction_refresh, -1);
	if (x->next_transaction_refresh_at)
		db_bind_int64(st, 11, x->next_transaction_refresh_at);
	else
		db_bind_null(st, 11);
	int64_t n = 0;
	int rc = db_step_changes(st, &n);
	if (rc != DB_OK)
		return rc;
	return n == 1 ? DB_OK : DB_CONFLICT;
}

int fc_session_link(struct req *r, struct db *db, const struct fc_session *s,
		    const char *const keys[], int n)
{
	struct db_stmt *st = db_prepare(db, SQL_S_COMPLETE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, s->id, -1);
	db_bind_int64(st, 3, r->now);
	int64_t done = 0;
	if (db_step_changes(st, &done) != DB_OK || done != 1)
		return req_fail(r, ERR_API, NULL, NULL);
	/* a prefetch reads only what a permission gives (an intent's or Checkout's options may ask
	 * for more) */
	bool want_balance =
	    json_text_has(s->prefetch, "balances") && json_text_has(s->permissions, "balances");
	bool want_ownership =
	    json_text_has(s->prefetch, "ownership") && json_text_has(s->permissions, "ownership");
	bool want_transactions = json_text_has(s->prefetch, "transactions") &&
				 json_text_has(s->permissions, "transactions");
	for (int i = 0; i < n; i++) {
		const struct fc_test_account *t = fc_test_account(keys[i]);
		if (!t)
			return req_fail(r, ERR_API, NULL, NULL);
		struct fc_account x;
		memset(&x, 0, sizeof(x));
		id_new_at(x.id, "fca_", r->now);
		x.created = r->now;
		x.session = s->id;
		x.holder_type = s->holder_type;
		x.holder_customer = s->holder_customer;
		x.holder_account = s->holder_account;
		x.test_account = t->key;
		x.institution_name = FC_TEST_INSTITUTION;
		x.display_name = t->display_name;
		x.last4 = t->last4;
		x.category = "cash";
		x.subcategory = t->subcategory;
		x.status = t->links_disconnected ? "disconnected" : "active";
		x.permissions = s->permissions;
		st = db_prepare(db, SQL_A_INSERT);
		if (!st)
			return req_fail(r, ERR_API, NULL, NULL);
		const char *vals[] = {x.session,
				      x.holder_type,
				      x.holder_customer,
				      x.holder_account,
				      x.test_account,
				      x.institution_name,
				      x.display_name,
				      x.last4,
				      x.category,
				      x.subcategory,
				      x.status,
				      x.permissions,
				      NULL,
				      NULL,
				      NULL,
				      NULL};
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, x.id, -1);
		db_bind_int64(st, 3, x.created);
		for (int k = 0; k < 16; k++)
			db_bind_text(st, 4 + k, vals[k], -1);
		if (db_step_done(st) != DB_OK || account_emit(r, db, &x, "created") != 0)
			return r->err.set ? -1 : req_fail(r, ERR_API, NULL, NULL);
		if (t->links_disconnected)
			continue; /* nothing can be read from it */
		/* prefetch: the data read at linking, each refresh with its event */
		const char *features[3] = {want_balance ? "balance" : NULL,
					   want_ownership ? "ownership" : NULL,
					   want_transactions ? "transactions" : NULL};
		static const char *const events[3] = {"refreshed_balance", "refreshed_ownership",
						      "refreshed_transactions"};
		for (int f = 0; f < 3; f++) {
			if (!features[f])
				continue;
			if (refresh_feature(r, db, &x, t, features[f]) != DB_OK ||
			    account_store(db, r->merchant_id, &x, "active") != DB_OK)
				return req_fail(r, ERR_API, NULL, NULL);
			if (account_emit(r, db, &x, events[f]) != 0)
				return -1;
		}
	}
	return 0;
}

/* ---- accounts ---- */

static int account_fn(struct db *db, void *arg)
{
	struct id_ctx *x = arg;
	struct req *r = x->r;
	int rc = account_load(db, &r->arena, r->merchant_id, x->id, &x->a);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "account", x->id, "account");
	return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static int account_retrieve_fn(struct db *db, void *arg)
{
	struct id_ctx *x = arg;
	return account_fn(db, arg) != 0 ? -1 : account_respond(x->r, db, &x->a);
}

static int h_account_retrieve(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, account_retrieve_fn, &x) == 0 ? 0 : -1;
}

/* Stripe: disconnecting an active (or inactive) account ends Tender's access for good; again,
 * it is unchanged. PaymentMethods made from it still pay (as on Stripe). */
static int disconnect_fn(struct db *db, void *arg)
{
	struct id_ctx *x = arg;
	struct req *r = x->r;
	if (account_fn(db, arg) != 0)
		return -1;
	struct fc_account *a = &x->a;
	if (strcmp(a->status, "disconnected") == 0)
		return account_respond(r, db, a);
	const char *old = a->status;
	a->status = "disconnected";
	/* no more refreshes: a subscription ends with the access */
	if (a->subscriptions)
		a->subscriptions = "[]";
	a->next_transaction_refresh_at = 0;
	if (account_store(db, r->merchant_id, a, old) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (account_emit(r, db, a, "disconnected") != 0)
		return -1;
	return account_respond(r, db, a);
}

static int h_account_disconnect(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, disconnect_fn, &x);
}

static int refresh_fn(struct db *db, void *arg)
{
	struct id_ctx *x = arg;
	struct req *r = x->r;
	if (account_fn(db, arg) != 0)
		return -1;
	struct fc_account *a = &x->a;
	if (strcmp(a->status, "active") != 0)
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"The account %s is %s: only an active account can be refreshed. "
				"Link it again through a new session.",
				a->id, a->status);
	const struct form_node *n = param_node(r, "features");
	bool want[3] = {false, false, false};
	static const char *const names[] = {"balance", "ownership", "transactions"};
	static const char *const perms[] = {"balances", "ownership", "transactions"};
	static const char *const events[] = {"refreshed_balance", "refreshed_ownership",
					     "refreshed_transactions"};
	const struct form_node *first = !n			 ? NULL
					: n->kind == FORM_SCALAR ? (n->value_len ? n : NULL)
								 : n->first_child;
	int i = 0;
	for (const struct form_node *f = first; f;
	     f = n->kind == FORM_SCALAR ? NULL : f->next, i++) {
		int k = -1;
		for (int m = 0; m < 3 && f->value; m++)
			if (strcmp(f->value, names[m]) == 0)
				k = m;
		if (k < 0)
			return req_fail(r, ERR_PARAM_BAD,
					arena_printf(&r->arena, "features[%d]", i),
					"Invalid features[%d]: must be one of balance, ownership, "
					"or transactions",
					i);
		if (!json_text_has(a->permissions, perms[k]))
			return req_fail(r, ERR_PARAM_BAD, "features",
					"The account %s was not linked with the %s permission, so "
					"its %s cannot be refreshed.",
					a->id, perms[k], names[k]);
		want[k] = true;
	}
	if (!want[0] && !want[1] && !want[2])
		return req_fail(r, ERR_PARAM_MISSING, "features", "features");
	const struct fc_test_account *t = fc_test_account(a->test_account);
	if (!t)
		return req_fail(r, ERR_API, NULL, NULL);
	for (int k = 0; k < 3; k++) {
		if (!want[k])
			continue;
		if (refresh_feature(r, db, a, t, names[k]) != DB_OK ||
		    account_store(db, r->merchant_id, a, "active") != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (account_emit(r, db, a, events[k]) != 0)
			return -1;
	}
	return account_respond(r, db, a);
}

static int h_account_refresh(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, refresh_fn, &x);
}

/* ---- subscriptions ---- */

/* features[] of subscribe / unsubscribe: required, transactions only (Stripe's one feature). */
static int sub_features_check(struct req *r)
{
	const struct form_node *n = param_node(r, "features");
	const struct form_node *first = !n			 ? NULL
					: n->kind == FORM_SCALAR ? (n->value_len ? n : NULL)
								 : n->first_child;
	if (!first)
		return req_fail(r, ERR_PARAM_MISSING, "features", "features");
	int i = 0;
	for (const struct form_node *f = first; f; f = n->kind == FORM_SCALAR ? NULL : f->next, i++)
		if (!f->value || strcmp(f->value, "transactions") != 0)
			return req_fail(r, ERR_PARAM_BAD,
					arena_printf(&r->arena, "features[%d]", i),
					"Invalid features[%d]: must be transactions", i);
	return 0;
}

/* Subscribing starts a transaction refresh at once (its event with it) and another every
 * FC_TXN_SUBSCRIPTION_EVERY by the scheduler while the account stays active; unsubscribing
 * stops them. Either again leaves the account as it is. Stripe sends no event of its own for
 * either: the subscription shows in the account's subscriptions and in the refresh events. */
static int subscription_change(struct db *db, struct id_ctx *x, bool subscribe)
{
	struct req *r = x->r;
	if (account_fn(db, x) != 0)
		return -1;
	struct fc_account *a = &x->a;
	if (strcmp(a->status, "active") != 0)
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"The account %s is %s: only an active account can be subscribed "
				"to or unsubscribed from data refreshes.",
				a->id, a->status);
	if (!json_text_has(a->permissions, "transactions"))
		return req_fail(
		    r, ERR_PARAM_BAD, "features",
		    "The account %s was not linked with the transactions permission, so "
		    "it cannot be subscribed to transaction refreshes.",
		    a->id);
	bool subscribed = json_text_has(a->subscriptions, "transactions");
	if (subscribed == subscribe)
		return account_respond(r, db, a);
	if (!subscribe) {
		a->subscriptions = "[]";
		a->next_transaction_refresh_at = 0;
		if (account_store(db, r->merchant_id, a, "active") != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		return account_respond(r, db, a);
	}
	a->subscriptions = "[\"transactions\"]";
	a->next_transaction_refresh_at = r->now + FC_TXN_SUBSCRIPTION_EVERY;
	if (fc_transactions_refresh(r, db, a->id, a->created, &a->transaction_refresh) != DB_OK ||
	    account_store(db, r->merchant_id, a, "active") != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (account_emit(r, db, a, "refreshed_transactions") != 0)
		return -1;
	return account_respond(r, db, a);
}

static int subscribe_fn(struct db *db, void *arg)
{
	return subscription_change(db, arg, true);
}

static int unsubscribe_fn(struct db *db, void *arg)
{
	return subscription_change(db, arg, false);
}

static int h_account_subscribe(struct req *r)
{
	if (sub_features_check(r) != 0)
		return -1;
	struct id_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, subscribe_fn, &x);
}

static int h_account_unsubscribe(struct req *r)
{
	if (sub_features_check(r) != 0)
		return -1;
	struct id_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, unsubscribe_fn, &x);
}

/* the scheduler's daily refreshes of subscribed accounts */
#define FC_SUB_BATCH 32
#define FC_SUB_DUE                                                                                 \
	"SELECT merchant_id, id FROM fc_accounts WHERE next_transaction_refresh_at IS NOT NULL"    \
	" AND next_transaction_refresh_at <= $1"
const char FC_SUBSCRIPTIONS_DUE_SQL[] = FC_SUB_DUE " LIMIT 1";
static const char SQL_SUB_DUE[] = FC_SUB_DUE " ORDER BY next_transaction_refresh_at LIMIT $2";

struct sub_tick_ctx {
	int64_t now;
	int done;
	struct shard_share share;
};

static int sub_due_fn(struct db *db, void *arg)
{
	struct sub_tick_ctx *c = arg;
	struct scheduler_due due[FC_SUB_BATCH];
	int n = 0, done = 0, rc = DB_OK;
	if (scheduler_due_read(db, SQL_SUB_DUE, c->now, due, &n, scheduler_batch(FC_SUB_BATCH)) !=
	    DB_OK)
		return DB_ERR;
	for (int i = 0; i < n && rc == DB_OK; i++) {
		/* livemode false: the test institution's accounts only */
		struct req r;
		req_internal_init(&r, NULL, due[i].merchant, c->now, NULL);
		struct fc_account a;
		rc = account_load(db, &r.arena, due[i].merchant, due[i].id, &a);
		if (rc == DB_OK && strcmp(a.status, "active") == 0) {
			a.next_transaction_refresh_at = c->now + FC_TXN_SUBSCRIPTION_EVERY;
			rc = fc_transactions_refresh(&r, db, a.id, a.created,
						     &a.transaction_refresh);
			if (rc == DB_OK)
				rc = account_store(db, due[i].merchant, &a, "active");
			if (rc == DB_OK && account_emit(&r, db, &a, "refreshed_transactions") != 0)
				rc = DB_ERR;
			done += rc == DB_OK;
		} else if (rc == DB_OK) {
			/* not active (disconnect clears it; kept for safety): no more refreshes */
			a.next_transaction_refresh_at = 0;
			rc = account_store(db, due[i].merchant, &a, a.status);
		}
		req_internal_release(&r);
	}
	if (rc != DB_OK)
		return rc;
	c->done += (int)shard_share_add(&c->share, db, done);
	return 0;
}

int fc_subscriptions_tick(struct store *s, int64_t now)
{
	struct sub_tick_ctx c = {.now = now};
	int rc = store_each_shard_write(s, sub_due_fn, &c);
	return rc == 0 ? c.done : rc;
}

static const char SQL_A_CURSOR[] =
    "SELECT created FROM fc_accounts WHERE merchant_id = $1 AND id = $2";
#define A_LIST_WHERE                                                                               \
	"SELECT id FROM fc_accounts WHERE merchant_id = $1 AND id > $2 AND id < $3"                \
	" AND ($5 IS NULL OR holder_customer = $5) AND ($6 IS NULL OR holder_account = $6)"        \
	" AND ($7 IS NULL OR session = $7)"
static const char SQL_A_DESC[] = A_LIST_WHERE " ORDER BY id DESC LIMIT $4";
static const char SQL_A_ASC[] = A_LIST_WHERE " ORDER BY id ASC LIMIT $4";

static int a_list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	list_bind_filter(r, st, first, "account_holder.customer");
	list_bind_filter(r, st, first + 1, "account_holder.account");
	list_bind_filter(r, st, first + 2, "session");
	return 0;
}

static int a_list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	struct fc_account x;
	int rc = account_load(db, &r->arena, r->merchant_id, id, &x);
	if (rc != DB_OK)
		return rc;
	return account_render(r, db, &x, "data.", false, j);
}

static int h_account_list(struct req *r)
{
	const char *cus = param_str(r, "account_holder.customer");
	const char *acct = param_str(r, "account_holder.account");
	if (cus && *cus && acct && *acct)
		return req_fail(
		    r, ERR_PARAM_BAD, "account_holder",
		    "Give account_holder[customer] or account_holder[account], not both.");
	static const struct list_spec spec = {
	    .url = "/v1/financial_connections/accounts",
	    .object_name = "account",
	    .id_prefix = "fca_",
	    .sql_cursor = SQL_A_CURSOR,
	    .sql_desc = SQL_A_DESC,
	    .sql_asc = SQL_A_ASC,
	    .bind_filters = a_list_bind,
	    .render = a_list_render,
	};
	return list_respond(r, &spec);
}

/* ---- owners ---- */

static const char SQL_O_CURSOR[] =
    "SELECT created FROM fc_owners WHERE merchant_id = $1 AND id = $2";
#define O_LIST_WHERE                                                                               \
	"SELECT id FROM fc_owners WHERE merchant_id = $1 AND id > $2 AND id < $3"                  \
	" AND ownership = $5"
static const char SQL_O_DESC[] = O_LIST_WHERE " ORDER BY id DESC LIMIT $4";
static const char SQL_O_ASC[] = O_LIST_WHERE " ORDER BY id ASC LIMIT $4";

static int o_list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	db_bind_text(st, first, param_str(r, "ownership"), -1);
	return 0;
}

static int o_list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	return owner_render(db, &r->arena, r->merchant_id, id, j);
}

/* The ownership belongs to the account (both the merchant's). */
static int owners_check_fn(struct db *db, void *arg)
{
	struct id_ctx *x = arg;
	struct req *r = x->r;
	if (account_fn(db, arg) != 0)
		return -1;
	const char *own = param_str(r, "ownership");
	struct db_stmt *st;
	int rc = db_row_by_id(db, SQL_OWNERSHIP_GET, r->merchant_id, own, &st);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "ownership", own, "ownership");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	bool mine = strcmp(db_col_text(st, 1, NULL) ? db_col_text(st, 1, NULL) : "", x->id) == 0;
	db_reset(st);
	return mine ? 0 : req_fail_missing(r, "ownership", own, "ownership");
}

static int h_account_owners(struct req *r)
{
	const char *own = param_str(r, "ownership");
	if (!own || !*own)
		return req_fail(r, ERR_PARAM_MISSING, "ownership", "ownership");
	struct id_ctx x = {.r = r, .id = r->args[0]};
	if (req_read(r, owners_check_fn, &x) != 0)
		return -1;
	struct list_spec spec = {
	    .url = arena_printf(&r->arena, "/v1/financial_connections/accounts/%s/owners", x.id),
	    .object_name = "account_owner",
	    .id_prefix = "fcaown_",
	    .sql_cursor = SQL_O_CURSOR,
	    .sql_desc = SQL_O_DESC,
	    .sql_asc = SQL_O_ASC,
	    .bind_filters = o_list_bind,
	    .render = o_list_render,
	};
	return list_respond(r, &spec);
}

/* ---- the ACH hooks ---- */

int fc_intent_options(struct req *r, const char *path, const char **ret)
{
	if (!param_present(r, path))
		return 0;
	static const char WIRE[] = "payment_method_options[us_bank_account][financial_connections]";
	char p[160];
	const char *perms = NULL, *prefetch = NULL;
	snprintf(p, sizeof(p), "%s.permissions", path);
	if (enum_array(
		r, p, "payment_method_options[us_bank_account][financial_connections][permissions]",
		PERMISSIONS, "balances, ownership, payment_method, or transactions", false,
		&perms) != 0)
		return -1;
	/* Stripe: the payment_method permission must be among those asked for */
	if (perms && !json_text_has(perms, "payment_method"))
		return req_fail(
		    r, ERR_PARAM_BAD,
		    "payment_method_options[us_bank_account][financial_connections][permissions]",
		    "The payment_method permission must be included in %s[permissions].", WIRE);
	snprintf(p, sizeof(p), "%s.prefetch", path);
	if (enum_array(r, p,
		       "payment_method_options[us_bank_account][financial_connections][prefetch]",
		       PREFETCH, "balances, ownership, or transactions", false, &prefetch) != 0)
		return -1;
	snprintf(p, sizeof(p), "%s.return_url", path);
	const char *ru = param_str(r, p);
	if (ru && *ru && !url_ok(ru))
		return req_fail(
		    r, ERR_URL_INVALID,
		    "payment_method_options[us_bank_account][financial_connections][return_url]",
		    "Not a valid URL");
	json_t *o = json_object();
	json_t *pa = json_loads(perms ? perms : "[\"payment_method\"]", 0, NULL);
	json_t *pf = json_loads(prefetch ? prefetch : "[]", 0, NULL);
	if (!o || !pa || !pf) {
		json_decref(o);
		json_decref(pa);
		json_decref(pf);
		return req_fail(r, ERR_API, NULL, NULL);
	}
	json_object_set_new(o, "permissions", pa);
	json_object_set_new(o, "prefetch", pf);
	if (ru && *ru)
		json_object_set_new(o, "return_url", json_string(ru));
	*ret = jdump(&r->arena, o);
	return *ret ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

const struct param_spec fc_intent_option_params[] = {
    {"permissions", PT_STRING_ARRAY, 0, 0, NULL, NULL},
    {"prefetch", PT_STRING_ARRAY, 0, 0, NULL, NULL},
    {"return_url", PT_STRING, 0, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

int fc_payment_method_account(struct req *r, struct db *db, const char *fca, const char *param,
			      char ret_key[32], const char **ret_subcategory)
{
	struct fc_account a;
	int rc = account_load(db, &r->arena, r->merchant_id, fca, &a);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "financial_connections_account", fca, param);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (strcmp(a.status, "active") != 0)
		return req_fail(
		    r, ERR_PARAM_BAD, param,
		    "The Financial Connections account %s is %s: a PaymentMethod can be "
		    "made only from an active account.",
		    fca, a.status);
	if (!json_text_has(a.permissions, "payment_method"))
		return req_fail(r, ERR_PARAM_BAD, param,
				"The Financial Connections account %s was not linked with the "
				"payment_method permission.",
				fca);
	str_copy(ret_key, 32, a.test_account);
	*ret_subcategory = a.subcategory;
	return 0;
}

int fc_checkout_link(struct req *r, struct db *db, const char *customer, const char *options,
		     const char *key, char ret_fca[ID_MAX])
{
	struct fc_session s;
	memset(&s, 0, sizeof(s));
	id_new_at(s.id, "fcsess_", r->now);
	s.created = r->now;
	s.holder_type = "customer";
	s.holder_customer = customer;
	/* the Checkout Session's payment_method_options[us_bank_account][financial_connections]
	 * (Stripe's defaults when it gave none) */
	json_t *o = options ? json_loads(options, 0, NULL) : NULL;
	json_t *perms = json_object_get(o, "permissions");
	json_t *prefetch = json_object_get(o, "prefetch");
	s.permissions =
	    json_array_size(perms) ? jdump(&r->arena, json_incref(perms)) : "[\"payment_method\"]";
	s.prefetch = json_array_size(prefetch) ? jdump(&r->arena, json_incref(prefetch)) : NULL;
	json_decref(o);
	if (!s.permissions || !fc_test_account(key))
		return req_fail(r, ERR_API, NULL, NULL);
	struct db_stmt *st = db_prepare(db, SQL_S_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, s.id, -1);
	db_bind_int64(st, 3, s.created);
	db_bind_text(st, 4, s.holder_type, -1);
	db_bind_text(st, 5, s.holder_customer, -1);
	db_bind_text(st, 6, NULL, -1);
	db_bind_text(st, 7, s.permissions, -1);
	db_bind_text(st, 8, s.prefetch, -1);
	db_bind_text(st, 9, NULL, -1);
	db_bind_text(st, 10, NULL, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	const char *keys[1] = {key};
	if (fc_session_link(r, db, &s, keys, 1) != 0)
		return -1;
	st = db_prepare(db, SQL_S_ACCOUNTS);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, s.id, -1);
	db_bind_int64(st, 3, 1);
	int rc = db_step(st);
	if (rc == DB_ROW)
		str_copy(ret_fca, ID_MAX, db_col_text(st, 0, NULL));
	db_reset(st);
	return rc == DB_ROW && ret_fca[0] ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static const char SQL_PM_FC[] =
    "SELECT ach_fc_account FROM payment_methods WHERE merchant_id = $1 AND id = $2";

int fc_payment_method_attach_check(struct req *r, struct db *db, const char *pm_id,
				   const char *customer)
{
	struct db_stmt *st;
	int rc = db_row_by_id(db, SQL_PM_FC, r->merchant_id, pm_id, &st);
	if (rc == DB_NOTFOUND)
		return 0;
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	const char *fca = col_text_dup(&r->arena, st, 0);
	db_reset(st);
	if (!fca)
		return 0;
	struct fc_account a;
	rc = account_load(db, &r->arena, r->merchant_id, fca, &a);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* a guest's account (holder_customer NULL, linked on a Checkout page) is nobody's yet */
	if (strcmp(a.holder_type, "customer") == 0 && a.holder_customer &&
	    strcmp(a.holder_customer, customer) != 0)
		return req_fail(r, ERR_PARAM_BAD, "customer",
				"The PaymentMethod %s was made from Financial Connections account "
				"%s, which belongs to another customer: it can be attached only to "
				"%s.",
				pm_id, fca, a.holder_customer ? a.holder_customer : "its own");
	return 0;
}

/* ---- routes ---- */

static const struct param_spec holder_params[] = {
    {"type", PT_ENUM, 0, 0, (const char *const[]){"account", "customer", NULL}, NULL},
    {"customer", PT_STRING, 0, 255, NULL, NULL},
    {"account", PT_STRING, 0, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec filters_params[] = {
    {"countries", PT_STRING_ARRAY, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec session_create_params[] = {
    {"account_holder", PT_OBJECT, 0, 0, NULL, holder_params},
    {"permissions", PT_STRING_ARRAY, 0, 0, NULL, NULL},
    {"prefetch", PT_STRING_ARRAY, 0, 0, NULL, NULL},
    {"filters", PT_OBJECT, 0, 0, NULL, filters_params},
    {"return_url", PT_STRING, 0, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec list_holder_params[] = {
    {"customer", PT_STRING, 0, 255, NULL, NULL},
    {"account", PT_STRING, 0, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec account_list_params[] = {
    {"account_holder", PT_OBJECT, 0, 0, NULL, list_holder_params},
    {"session", PT_STRING, 0, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec refresh_params[] = {
    {"features", PT_STRING_ARRAY, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec owners_params[] = {
    {"ownership", PT_STRING, 0, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

/* Each path twice: Stripe's current name and the older one (link_account_sessions,
 * linked_accounts), which its API still answers with the same objects. */
#define FC_ROUTES(SESS, ACCT)                                                                      \
	{"POST", SESS, h_session_create, session_create_params, 0},                                \
	    {"GET", SESS "/{id}", h_session_retrieve, no_params, 0},                               \
	    {"GET", ACCT, h_account_list, account_list_params, ROUTE_LIST},                        \
	    {"GET", ACCT "/{id}", h_account_retrieve, no_params, 0},                               \
	    {"POST", ACCT "/{id}/disconnect", h_account_disconnect, no_params, 0},                 \
	    {"POST", ACCT "/{id}/refresh", h_account_refresh, refresh_params, 0},                  \
	    {"POST", ACCT "/{id}/subscribe", h_account_subscribe, refresh_params, 0},              \
	    {"POST", ACCT "/{id}/unsubscribe", h_account_unsubscribe, refresh_params, 0},          \
	{                                                                                          \
		"GET", ACCT "/{id}/owners", h_account_owners, owners_params, ROUTE_LIST            \
	}

const struct route financial_connections_routes[] = {
    FC_ROUTES("/v1/financial_connections/sessions", "/v1/financial_connections/accounts"),
    FC_ROUTES("/v1/link_account_sessions", "/v1/linked_accounts"),
    {NULL, NULL, NULL, NULL, 0},
};

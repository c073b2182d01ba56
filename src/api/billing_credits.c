/*
 * Stripe's billing credits: credit grants (/v1/billing/credit_grants: create, retrieve,
 * update, list, expire, void), the credit balance summary
 * (/v1/billing/credit_balance_summary) and credit balance transactions
 * (/v1/billing/credit_balance_transactions: list, retrieve).
 *
 * A grant gives its customer amount[monetary][value] minor units of amount[monetary][currency]
 * to spend on invoice lines in its scope (applicability_config[scope]: price_type=metered, or
 * a list of prices), from effective_at (default: now) until expires_at (none: never), unless it
 * is voided. What it holds is never a stored number: it is the sum of its append-only credit
 * balance transactions (billing_credit_txns): a credit (credits_granted, written with the grant
 * and effective at its effective_at) and debits (credits_expired, credits_voided for what was
 * left when it was expired or voided by hand).
 *
 * The balance summary counts, per currency, the grants the filter names (one credit_grant, or
 * those whose scope matches applicability_scope) that are in effect at the customer's time:
 * what their effective transactions leave. Tender reserves nothing for draft invoices, so the
 * ledger balance is the available one.
 *
 * Events: billing.credit_grant.created, and billing.credit_grant.updated for an update, an
 * expiry and a void (the grant's expires_at / voided_at in previous_attributes).
 *
 * Invoices: invoice_balance_apply (invoices.c), where every finalization passes, calls
 * invoice_credits_apply first when the amount due was not planned before the write (a hand
 * finalization) or was planned with the credits taken off (an auto-advancing draft, a renewal
 * draft: their read calls it with write false). The grants in effect, in Stripe's order, pay the
 * lines in their scope after discounts (billing/credit_alloc.c): a credits_applied debit per
 * grant and line, the invoice's total lowered. Voiding gives them back (invoice_balance_return
 * → invoice_credits_return); the invoice and its lines show them as pretax credit amounts.
 *
 * A customer on a test clock has its grants at the clock's time (created, effective_at by
 * default, and the summary's "now").
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/billing_internal.h"
#include "api/common.h"
#include "api/list.h"
#include "api/resources.h"
#include "billing/credit_alloc.h"
#include "core/str.h"
#include "http/form.h"
#include "scheduler/scheduler.h"
#include "store/store.h"

#define GRANT_NAME_MAX 100
#define GRANT_PRICES_MAX 100
/* Stripe's bounds on a grant's priority: 0 (first) to 100 (last), 50 when not given */
#define PRIORITY_MAX 100
#define PRIORITY_DEFAULT 50

struct grant {
	char id[ID_MAX];
	int64_t created, updated, value, priority, effective_at;
	int64_t expires_at, voided_at; /* 0: none */
	const char *customer, *test_clock, *category, *name, *metadata;
	const char *prices; /* JSON array of price ids; NULL: scope is price_type=metered */
	char currency[8];
	bool metered;
};

#define GRANT_COLS                                                                                 \
	"id, created, updated, customer, test_clock, currency, value, category, scope_metered,"    \
	" scope_prices, effective_at, expires_at, name, priority, metadata, voided_at"
static const char SQL_GRANT_GET[] =
    "SELECT " GRANT_COLS " FROM billing_credit_grants WHERE merchant_id = $1 AND id = $2";
static const char SQL_GRANT_INSERT[] =
    "INSERT INTO billing_credit_grants (merchant_id, id, created, updated, customer, test_clock,"
    " currency, value, category, scope_metered, scope_prices, effective_at, expires_at, name,"
    " priority, metadata, voided_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,"
    " $13, $14, $15, $16, NULL)";
static const char SQL_GRANT_UPDATE[] =
    "UPDATE billing_credit_grants SET updated = $3, expires_at = $4, metadata = $5,"
    " voided_at = $6 WHERE merchant_id = $1 AND id = $2";
/* the grant's expiry recorded (its credits_expired debit written, or nothing left), once */
static const char SQL_GRANT_EXPIRY_RECORD[] =
    "UPDATE billing_credit_grants SET expiry_recorded_at = $3 WHERE merchant_id = $1 AND id = $2"
    " AND expiry_recorded_at IS NULL";
static const char SQL_CUSTOMER_CLOCK[] =
    "SELECT test_clock FROM customers WHERE merchant_id = $1 AND id = $2";

static int grant_from_row(struct req *r, struct db_stmt *st, struct grant *g)
{
	memset(g, 0, sizeof(*g));
	str_copy(g->id, sizeof(g->id), db_col_text(st, 0, NULL));
	g->created = db_col_int64(st, 1);
	g->updated = db_col_int64(st, 2);
	g->customer = col_text_dup(&r->arena, st, 3);
	g->test_clock = col_text_dup(&r->arena, st, 4);
	str_copy(g->currency, sizeof(g->currency), db_col_text(st, 5, NULL));
	g->value = db_col_int64(st, 6);
	g->category = col_text_dup(&r->arena, st, 7);
	g->metered = db_col_int64(st, 8) != 0;
	g->prices = col_text_dup(&r->arena, st, 9);
	g->effective_at = db_col_int64(st, 10);
	g->expires_at = db_col_int64_or0(st, 11);
	g->name = col_text_dup(&r->arena, st, 12);
	g->priority = db_col_int64(st, 13);
	g->metadata = col_text_dup(&r->arena, st, 14);
	g->voided_at = db_col_int64_or0(st, 15);
	return g->customer && g->category && g->metadata ? DB_OK : DB_ERR;
}

static int grant_load(struct req *r, struct db *db, const char *id, struct grant *g)
{
	struct db_stmt *st = NULL;
	int rc = db_row_by_id(db, SQL_GRANT_GET, r->merchant_id, id, &st);
	if (rc != DB_OK)
		return rc;
	rc = grant_from_row(r, st, g);
	db_reset(st);
	return rc;
}

static void monetary_render(struct json *j, const char *key, const char *currency, int64_t v)
{
	json_key(j, key);
	json_obj_open(j);
	json_key(j, "monetary");
	json_obj_open(j);
	json_kv_str(j, "currency", currency);
	json_kv_int(j, "value", v);
	json_obj_close(j);
	json_kv_str(j, "type", "monetary");
	json_obj_close(j);
}

static void time_or_null(struct json *j, const char *key, int64_t t)
{
	if (t)
		json_kv_int(j, key, t);
	else
		json_kv_null(j, key);
}

static void grant_render(struct req *r, const struct grant *g, struct json *j)
{
	json_obj_open(j);
	json_kv_str(j, "id", g->id);
	json_kv_str(j, "object", "billing.credit_grant");
	monetary_render(j, "amount", g->currency, g->value);
	json_key(j, "applicability_config");
	json_obj_open(j);
	json_key(j, "scope");
	json_obj_open(j);
	if (g->prices) {
		json_key(j, "prices");
		json_arr_open(j);
		json_t *arr = json_loads(g->prices, 0, NULL);
		size_t i;
		json_t *v;
		json_array_foreach(arr, i, v)
		{
			json_obj_open(j);
			json_kv_str(j, "id", json_string_value(v));
			json_obj_close(j);
		}
		json_decref(arr);
		json_arr_close(j);
	} else {
		json_kv_str(j, "price_type", "metered");
	}
	json_obj_close(j);
	json_obj_close(j);
	json_kv_str(j, "category", g->category);
	json_kv_int(j, "created", g->created);
	json_kv_str(j, "customer", g->customer);
	json_kv_null(j, "customer_account");
	json_kv_int(j, "effective_at", g->effective_at);
	time_or_null(j, "expires_at", g->expires_at);
	json_kv_bool(j, "livemode", r->livemode);
	json_kv_raw(j, "metadata", g->metadata, strlen(g->metadata));
	json_kv_str_or_null(j, "name", g->name);
	json_kv_int(j, "priority", g->priority);
	json_kv_str_or_null(j, "test_clock", g->test_clock);
	json_kv_int(j, "updated", g->updated);
	time_or_null(j, "voided_at", g->voided_at);
	json_obj_close(j);
}

/* Renders g, appends its event of type (prev: previous_attributes JSON or NULL) and answers
 * with it. 0, or -1 with r->err. */
static int grant_emit(struct req *r, struct db *db, const struct grant *g, const char *type,
		      const char *prev)
{
	struct buf b;
	struct json j;
	buf_init(&b, 16 * 1024);
	json_init(&j, &b);
	grant_render(r, g, &j);
	const char *js;
	size_t len;
	char ev[ID_MAX];
	if (api_event_append(r, db, type, g->id, &b, prev, &js, &len, ev) != 0)
		return -1;
	return req_answer_event(r, ev, js, len);
}

/* ---- the ledger ---- */

#define TXN_COLS                                                                                   \
	"id, created, effective_at, credit_grant, test_clock, kind, type, currency, amount,"       \
	" invoice, invoice_line_item"
static const char SQL_TXN_GET[] =
    "SELECT " TXN_COLS " FROM billing_credit_txns WHERE merchant_id = $1 AND id = $2";
static const char SQL_TXN_INSERT[] =
    "INSERT INTO billing_credit_txns (merchant_id, id, created, effective_at, credit_grant,"
    " customer, test_clock, kind, type, currency, amount, invoice, invoice_line_item)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";
/* the grant's transactions in effect at $3 */
static const char SQL_TXN_AMOUNTS[] =
    "SELECT kind, amount FROM billing_credit_txns WHERE merchant_id = $1 AND credit_grant = $2"
    " AND effective_at <= $3";

/* What grant id holds at t: its credits in effect then less its debits. DB_OK or < 0 (also
 * when the sum leaves int64). */
static int grant_remaining(struct db *db, const char *merchant_id, const char *id, int64_t t,
			   int64_t *ret)
{
	struct db_stmt *st = db_prepare(db, SQL_TXN_AMOUNTS);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	db_bind_int64(st, 3, t);
	int64_t sum = 0;
	int rc;
	bool ok = true;
	while ((rc = db_step(st)) == DB_ROW) {
		bool credit = str_eq(db_col_text(st, 0, NULL), "credit");
		int64_t a = db_col_int64(st, 1);
		if (credit ? __builtin_add_overflow(sum, a, &sum)
			   : __builtin_sub_overflow(sum, a, &sum))
			ok = false;
	}
	db_reset(st);
	if (rc != DB_DONE || !ok)
		return DB_ERR;
	*ret = sum;
	return DB_OK;
}

struct txn;
static void txn_render(struct req *r, const struct txn *t, struct json *j);
static int txn_emit(struct req *r, struct db *db, const struct grant *g, const char *id,
		    const char *kind, const char *type, int64_t amount, int64_t created,
		    int64_t effective_at, const char *invoice, const char *line);

/* Appends one transaction of grant g: kind credit or debit, of type, amount > 0, in effect from
 * effective_at, and its event (billing.credit_balance_transaction.created). 0, or -1 with
 * r->err. */
static int txn_append_on(struct req *r, struct db *db, const struct grant *g, const char *kind,
			 const char *type, int64_t amount, int64_t created, int64_t effective_at,
			 const char *invoice, const char *line)
{
	char id[ID_MAX];
	id_new_at(id, "cbtxn_", created);
	struct db_stmt *st = db_prepare(db, SQL_TXN_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	db_bind_int64(st, 3, created);
	db_bind_int64(st, 4, effective_at);
	db_bind_text(st, 5, g->id, -1);
	db_bind_text(st, 6, g->customer, -1);
	if (g->test_clock)
		db_bind_text(st, 7, g->test_clock, -1);
	else
		db_bind_null(st, 7);
	db_bind_text(st, 8, kind, -1);
	db_bind_text(st, 9, type, -1);
	db_bind_text(st, 10, g->currency, -1);
	db_bind_int64(st, 11, amount);
	if (invoice && line) {
		db_bind_text(st, 12, invoice, -1);
		db_bind_text(st, 13, line, -1);
	} else {
		db_bind_null(st, 12);
		db_bind_null(st, 13);
	}
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return txn_emit(r, db, g, id, kind, type, amount, created, effective_at, invoice, line);
}

static int txn_append(struct req *r, struct db *db, const struct grant *g, const char *kind,
		      const char *type, int64_t amount, int64_t created, int64_t effective_at)
{
	return txn_append_on(r, db, g, kind, type, amount, created, effective_at, NULL, NULL);
}

struct txn {
	char id[ID_MAX];
	int64_t created, effective_at, amount;
	const char *grant, *test_clock, *kind, *type, *invoice, *line;
	char currency[8];
};

static int txn_load(struct req *r, struct db *db, const char *id, struct txn *t)
{
	struct db_stmt *st = NULL;
	int rc = db_row_by_id(db, SQL_TXN_GET, r->merchant_id, id, &st);
	if (rc != DB_OK)
		return rc;
	memset(t, 0, sizeof(*t));
	str_copy(t->id, sizeof(t->id), db_col_text(st, 0, NULL));
	t->created = db_col_int64(st, 1);
	t->effective_at = db_col_int64(st, 2);
	t->grant = col_text_dup(&r->arena, st, 3);
	t->test_clock = col_text_dup(&r->arena, st, 4);
	t->kind = col_text_dup(&r->arena, st, 5);
	t->type = col_text_dup(&r->arena, st, 6);
	str_copy(t->currency, sizeof(t->currency), db_col_text(st, 7, NULL));
	t->amount = db_col_int64(st, 8);
	t->invoice = col_text_dup(&r->arena, st, 9);
	t->line = col_text_dup(&r->arena, st, 10);
	db_reset(st);
	return t->grant && t->kind && t->type ? DB_OK : DB_ERR;
}

static void txn_render(struct req *r, const struct txn *t, struct json *j)
{
	bool credit = str_eq(t->kind, "credit");
	json_obj_open(j);
	json_kv_str(j, "id", t->id);
	json_kv_str(j, "object", "billing.credit_balance_transaction");
	json_kv_int(j, "created", t->created);
	for (int side = 0; side < 2; side++) {
		bool this_side = side == 0 ? credit : !credit;
		json_key(j, side == 0 ? "credit" : "debit");
		if (!this_side) {
			json_nil(j);
			continue;
		}
		json_obj_open(j);
		monetary_render(j, "amount", t->currency, t->amount);
		/* the invoice line an application (or its return) concerns */
		json_key(j, credit ? "credits_application_invoice_voided" : "credits_applied");
		if (t->invoice && t->line) {
			json_obj_open(j);
			json_kv_str(j, "invoice", t->invoice);
			json_kv_str(j, "invoice_line_item", t->line);
			json_obj_close(j);
		} else {
			json_nil(j);
		}
		json_kv_str(j, "type", t->type);
		json_obj_close(j);
	}
	json_kv_str(j, "credit_grant", t->grant);
	json_kv_int(j, "effective_at", t->effective_at);
	json_kv_bool(j, "livemode", r->livemode);
	json_kv_str_or_null(j, "test_clock", t->test_clock);
	json_kv_str(j, "type", t->kind);
	json_obj_close(j);
}

static int txn_emit(struct req *r, struct db *db, const struct grant *g, const char *id,
		    const char *kind, const char *type, int64_t amount, int64_t created,
		    int64_t effective_at, const char *invoice, const char *line)
{
	struct txn t = {.created = created,
			.effective_at = effective_at,
			.amount = amount,
			.grant = g->id,
			.test_clock = g->test_clock,
			.kind = kind,
			.type = type,
			.invoice = invoice,
			.line = line};
	str_copy(t.id, sizeof(t.id), id);
	str_copy(t.currency, sizeof(t.currency), g->currency);
	struct buf b;
	struct json j;
	buf_init(&b, 16 * 1024);
	json_init(&j, &b);
	txn_render(r, &t, &j);
	const char *js;
	size_t len;
	char ev[ID_MAX];
	/* the event only: the request answers with its own object */
	return api_event_append(r, db, "billing.credit_balance_transaction.created", id, &b, NULL,
				&js, &len, ev);
}

/* ---- parameters ---- */

static const char *const amount_types[] = {"monetary", NULL};
static const char *const categories[] = {"paid", "promotional", NULL};
static const char *const price_types[] = {"metered", NULL};
static const char *const filter_types[] = {"applicability_scope", "credit_grant", NULL};

static const struct param_spec monetary_children[] = {
    {"currency", PT_CURRENCY, PF_REQUIRED, 0, NULL, NULL},
    {"value", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec amount_children[] = {
    {"type", PT_ENUM, PF_REQUIRED, 0, amount_types, NULL},
    {"monetary", PT_OBJECT, 0, 0, NULL, monetary_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec price_children[] = {
    {"id", PT_STRING, PF_REQUIRED, ID_MAX - 1, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec scope_children[] = {
    {"price_type", PT_ENUM, 0, 0, price_types, NULL},
    {"prices", PT_OBJECT_ARRAY, 0, GRANT_PRICES_MAX, NULL, price_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec config_children[] = {
    {"scope", PT_OBJECT, PF_REQUIRED, 0, NULL, scope_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec grant_create_params[] = {
    {"amount", PT_OBJECT, PF_REQUIRED, 0, NULL, amount_children},
    {"applicability_config", PT_OBJECT, PF_REQUIRED, 0, NULL, config_children},
    {"category", PT_ENUM, 0, 0, categories, NULL},
    {"customer", PT_STRING, 0, ID_MAX - 1, NULL, NULL},
    {"customer_account", PT_STRING, 0, ID_MAX - 1, NULL, NULL},
    {"effective_at", PT_INT, 0, 0, NULL, NULL},
    {"expires_at", PT_INT, 0, 0, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"name", PT_STRING, 0, GRANT_NAME_MAX, NULL, NULL},
    {"priority", PT_INT, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec grant_update_params[] = {
    {"expires_at", PT_INT, PF_EMPTYABLE, 0, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec grant_list_params[] = {
    {"customer", PT_STRING, 0, ID_MAX - 1, NULL, NULL},
    {"customer_account", PT_STRING, 0, ID_MAX - 1, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec filter_children[] = {
    {"type", PT_ENUM, PF_REQUIRED, 0, filter_types, NULL},
    {"applicability_scope", PT_OBJECT, 0, 0, NULL, scope_children},
    {"credit_grant", PT_STRING, 0, ID_MAX - 1, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec summary_params[] = {
    {"customer", PT_STRING, 0, ID_MAX - 1, NULL, NULL},
    {"customer_account", PT_STRING, 0, ID_MAX - 1, NULL, NULL},
    {"filter", PT_OBJECT, PF_REQUIRED, 0, NULL, filter_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec txn_list_params[] = {
    {"customer", PT_STRING, 0, ID_MAX - 1, NULL, NULL},
    {"customer_account", PT_STRING, 0, ID_MAX - 1, NULL, NULL},
    {"credit_grant", PT_STRING, 0, ID_MAX - 1, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

/* customer_account (Stripe's Accounts v2 customers) is not a thing Tender has: its customer is
 * then required. 0, or -1 with r->err. */
static int need_customer(struct req *r, const char **ret)
{
	if (param_present(r, "customer_account"))
		return req_fail(r, ERR_PARAM_BAD, "customer_account",
				"customer_account is not supported; pass customer instead.");
	const char *c = param_str(r, "customer");
	if (!c || !*c)
		return req_fail(r, ERR_PARAM_MISSING, "customer", "customer");
	*ret = c;
	return 0;
}

/* The scope parameter at path (price_type=metered, or prices[n][id]: exactly one of them) into
 * *metered and *prices (a JSON array of ids, NULL for metered). 0, or -1 with r->err. */
static int scope_parse(struct req *r, const char *path, const char *shown, bool *metered,
		       const char **prices)
{
	char p[96];
	snprintf(p, sizeof(p), "%s.price_type", path);
	bool has_type = param_present(r, p);
	snprintf(p, sizeof(p), "%s.prices", path);
	const struct form_node *ps = param_node(r, p);
	bool has_prices = ps && ps->first_child;
	if (has_type == has_prices)
		return req_fail(r, ERR_PARAM_BAD, shown,
				"%s must name exactly one of price_type or prices.", shown);
	*metered = has_type;
	*prices = NULL;
	if (has_type)
		return 0;
	struct buf b;
	struct json j;
	buf_init(&b, 8 * 1024);
	json_init(&j, &b);
	json_arr_open(&j);
	for (const struct form_node *c = ps->first_child; c; c = c->next) {
		const struct form_node *id = form_get(c, "id");
		if (!id || !id->value || !*id->value) {
			buf_release(&b);
			return req_fail(r, ERR_PARAM_MISSING, shown, "%s[prices][][id]", shown);
		}
		json_str(&j, id->value);
	}
	json_arr_close(&j);
	*prices = b.failed ? NULL : arena_strndup(&r->arena, b.data, b.len);
	buf_release(&b);
	return *prices ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static int customer_now(struct req *r, struct db *db, const char *customer, const char **clock,
			int64_t *now)
{
	struct db_stmt *st = NULL;
	int rc = db_row_by_id(db, SQL_CUSTOMER_CLOCK, r->merchant_id, customer, &st);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	*clock = col_text_dup(&r->arena, st, 0);
	db_reset(st);
	return billing_now(r, db, *clock, now);
}

/* ---- create ---- */

struct grant_ctx {
	struct req *r;
	const char *id;
	struct grant g;
	bool has_effective;
	int op; /* update: 0, expire: 1, void: 2 */
};

static const char SQL_PRICE_EXISTS[] = "SELECT 1 FROM prices WHERE merchant_id = $1 AND id = $2";

static int grant_create_fn(struct db *db, void *arg)
{
	struct grant_ctx *c = arg;
	struct req *r = c->r;
	struct grant *g = &c->g;
	if (customer_check(r, db, g->customer) != 0)
		return -1;
	int64_t now;
	if (customer_now(r, db, g->customer, &g->test_clock, &now) != 0)
		return -1;
	/* every listed price exists */
	if (g->prices) {
		json_t *arr = json_loads(g->prices, 0, NULL);
		size_t i;
		json_t *v;
		int bad = -1;
		json_array_foreach(arr, i, v)
		{
			struct db_stmt *st = NULL;
			int rc = db_row_by_id(db, SQL_PRICE_EXISTS, r->merchant_id,
					      json_string_value(v), &st);
			if (rc == DB_OK)
				db_reset(st);
			else if (bad < 0)
				bad = (int)i;
			if (rc != DB_OK && rc != DB_NOTFOUND) {
				json_decref(arr);
				return req_fail(r, ERR_API, NULL, NULL);
			}
		}
		if (bad >= 0) {
			char param[96];
			snprintf(param, sizeof(param),
				 "applicability_config[scope][prices][%d][id]", bad);
			const char *pid =
			    arena_strdup(&r->arena, json_string_value(json_array_get(arr, bad)));
			json_decref(arr);
			return req_fail_missing(r, "price", pid ? pid : "", param);
		}
		json_decref(arr);
	}
	g->created = g->updated = now;
	id_new_at(g->id, "credgr_", now);
	if (!c->has_effective)
		g->effective_at = now;
	if (g->expires_at && g->expires_at <= g->effective_at)
		return req_fail(r, ERR_PARAM_BAD, "expires_at",
				"expires_at must be after effective_at.");
	if (g->expires_at && g->expires_at <= now)
		return req_fail(r, ERR_PARAM_BAD, "expires_at",
				"expires_at must be in the future.");
	struct db_stmt *st = db_prepare(db, SQL_GRANT_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, g->id, -1);
	db_bind_int64(st, 3, g->created);
	db_bind_int64(st, 4, g->updated);
	db_bind_text(st, 5, g->customer, -1);
	if (g->test_clock)
		db_bind_text(st, 6, g->test_clock, -1);
	else
		db_bind_null(st, 6);
	db_bind_text(st, 7, g->currency, -1);
	db_bind_int64(st, 8, g->value);
	db_bind_text(st, 9, g->category, -1);
	db_bind_int64(st, 10, g->metered);
	if (g->prices)
		db_bind_text(st, 11, g->prices, -1);
	else
		db_bind_null(st, 11);
	db_bind_int64(st, 12, g->effective_at);
	db_bind_int64_or_null(st, 13, g->expires_at);
	if (g->name)
		db_bind_text(st, 14, g->name, -1);
	else
		db_bind_null(st, 14);
	db_bind_int64(st, 15, g->priority);
	db_bind_text(st, 16, g->metadata, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* the credit the grant is: in the customer's balance from its effective_at */
	if (txn_append(r, db, g, "credit", "credits_granted", g->value, now, g->effective_at) != 0)
		return -1;
	return grant_emit(r, db, g, "billing.credit_grant.created", NULL);
}

static int h_grant_create(struct req *r)
{
	struct grant_ctx c = {.r = r};
	struct grant *g = &c.g;
	if (need_customer(r, &g->customer) != 0)
		return -1;
	if (!param_present(r, "amount.monetary"))
		return req_fail(r, ERR_PARAM_MISSING, "amount[monetary]", "amount[monetary]");
	if (param_currency(r, "amount.monetary.currency", "amount[monetary][currency]",
			   g->currency) != 0)
		return -1;
	if (param_int(r, "amount.monetary.value", &g->value) != 1)
		return req_fail(r, ERR_PARAM_MISSING, "amount[monetary][value]",
				"amount[monetary][value]");
	if (g->value <= 0 || g->value > BILLING_AMOUNT_MAX)
		return req_fail(r, ERR_PARAM_BAD, "amount[monetary][value]",
				"amount[monetary][value] must be between 1 and %lld.",
				(long long)BILLING_AMOUNT_MAX);
	if (scope_parse(r, "applicability_config.scope", "applicability_config[scope]", &g->metered,
			&g->prices) != 0)
		return -1;
	const char *cat = param_str(r, "category");
	g->category = cat && *cat ? cat : "paid";
	g->priority = PRIORITY_DEFAULT;
	if (param_int(r, "priority", &g->priority) == 1 &&
	    (g->priority < 0 || g->priority > PRIORITY_MAX))
		return req_fail(r, ERR_PARAM_BAD, "priority", "priority must be between 0 and %d.",
				PRIORITY_MAX);
	c.has_effective = param_int(r, "effective_at", &g->effective_at) == 1;
	if (c.has_effective && g->effective_at <= 0)
		return req_fail(r, ERR_PARAM_BAD, "effective_at",
				"effective_at must be a Unix timestamp.");
	if (param_int(r, "expires_at", &g->expires_at) == 1 && g->expires_at <= 0)
		return req_fail(r, ERR_PARAM_BAD, "expires_at",
				"expires_at must be a Unix timestamp.");
	const char *name = param_str(r, "name");
	g->name = name && *name ? name : NULL;
	g->metadata = "{}";
	if (metadata_apply(r, NULL, "metadata", &g->metadata) != 0)
		return -1;
	return req_write(r, grant_create_fn, &c);
}

/* ---- retrieve, update, expire, void ---- */

static int grant_load_fn(struct db *db, void *arg)
{
	struct grant_ctx *x = arg;
	int rc = grant_load(x->r, db, x->id, &x->g);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "billing.credit_grant", x->id, "id");
	return rc == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

static int grant_retrieve_fn(struct db *db, void *arg)
{
	struct grant_ctx *x = arg;
	if (grant_load_fn(db, arg) != 0)
		return -1;
	grant_render(x->r, &x->g, req_json(x->r));
	return 0;
}

static int h_grant_retrieve(struct req *r)
{
	struct grant_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, grant_retrieve_fn, &x) == 0 ? 0 : -1;
}

static int grant_change_fn(struct db *db, void *arg)
{
	struct grant_ctx *x = arg;
	struct req *r = x->r;
	if (grant_load_fn(db, arg) != 0)
		return -1;
	struct grant *g = &x->g;
	int64_t now;
	if (billing_now(r, db, g->test_clock, &now) != 0)
		return -1;
	bool expired = g->expires_at && g->expires_at <= now;
	struct db_stmt *st_rec;
	struct buf pb;
	struct json pj;
	buf_init(&pb, 16 * 1024);
	json_init(&pj, &pb);
	json_obj_open(&pj);
	const char *fail = NULL;
	if (g->voided_at)
		fail = "voided";
	else if (expired)
		fail = "expired";
	if (x->op == 0) {
		if (param_present(r, "expires_at")) {
			if (fail) {
				buf_release(&pb);
				return req_fail(r, ERR_INVALID_STATE, "expires_at",
						"The credit grant %s is %s: its expires_at can no "
						"longer be changed.",
						g->id, fail);
			}
			int64_t e = 0;
			param_int(r, "expires_at", &e); /* "": no expiry */
			if (e && (e <= now || e <= g->effective_at)) {
				buf_release(&pb);
				return req_fail(r, ERR_PARAM_BAD, "expires_at",
						"expires_at must be in the future and after "
						"effective_at.");
			}
			time_or_null(&pj, "expires_at", g->expires_at);
			g->expires_at = e;
		}
		if (param_present(r, "metadata")) {
			json_kv_raw(&pj, "metadata", g->metadata, strlen(g->metadata));
			if (metadata_apply(r, g->metadata, "metadata", &g->metadata) != 0) {
				buf_release(&pb);
				return -1;
			}
		}
	} else {
		if (fail) {
			buf_release(&pb);
			return req_fail(r, ERR_INVALID_STATE, NULL,
					"The credit grant %s is already %s.", g->id, fail);
		}
		/* what is left goes at once, recorded as a debit of its own */
		int64_t left;
		if (grant_remaining(db, r->merchant_id, g->id, INT64_MAX, &left) != DB_OK) {
			buf_release(&pb);
			return req_fail(r, ERR_API, NULL, NULL);
		}
		if (x->op == 1) {
			time_or_null(&pj, "expires_at", g->expires_at);
			g->expires_at = now;
			/* its expiry is this debit: the scheduler has none left to record */
			int64_t changed;
			st_rec = db_prepare(db, SQL_GRANT_EXPIRY_RECORD);
			if (!st_rec) {
				buf_release(&pb);
				return req_fail(r, ERR_API, NULL, NULL);
			}
			db_bind_text(st_rec, 1, r->merchant_id, -1);
			db_bind_text(st_rec, 2, g->id, -1);
			db_bind_int64(st_rec, 3, now);
			if (db_step_changes(st_rec, &changed) != DB_OK) {
				buf_release(&pb);
				return req_fail(r, ERR_API, NULL, NULL);
			}
		} else {
			json_kv_null(&pj, "voided_at");
			g->voided_at = now;
		}
		if (left > 0 &&
		    txn_append(r, db, g, "debit", x->op == 1 ? "credits_expired" : "credits_voided",
			       left, now, now) != 0) {
			buf_release(&pb);
			return -1;
		}
	}
	json_kv_int(&pj, "updated", g->updated);
	json_obj_close(&pj);
	const char *prev = pb.failed ? NULL : arena_strndup(&r->arena, pb.data, pb.len);
	buf_release(&pb);
	if (!prev)
		return req_fail(r, ERR_API, NULL, NULL);
	g->updated = now;
	struct db_stmt *st = db_prepare(db, SQL_GRANT_UPDATE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, g->id, -1);
	db_bind_int64(st, 3, g->updated);
	db_bind_int64_or_null(st, 4, g->expires_at);
	db_bind_text(st, 5, g->metadata, -1);
	db_bind_int64_or_null(st, 6, g->voided_at);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return grant_emit(r, db, g, "billing.credit_grant.updated", prev);
}

static int h_grant_update(struct req *r)
{
	struct grant_ctx x = {.r = r, .id = r->args[0], .op = 0};
	return req_write(r, grant_change_fn, &x);
}

static int h_grant_expire(struct req *r)
{
	struct grant_ctx x = {.r = r, .id = r->args[0], .op = 1};
	return req_write(r, grant_change_fn, &x);
}

static int h_grant_void(struct req *r)
{
	struct grant_ctx x = {.r = r, .id = r->args[0], .op = 2};
	return req_write(r, grant_change_fn, &x);
}

/* ---- lists ---- */

static const char SQL_GRANT_CURSOR[] =
    "SELECT created FROM billing_credit_grants WHERE merchant_id = $1 AND id = $2";
#define GRANT_LIST_WHERE                                                                           \
	"SELECT id FROM billing_credit_grants WHERE merchant_id = $1 AND id > $2 AND id < $3"      \
	" AND ($5 IS NULL OR customer = $5)"
static const char SQL_GRANT_DESC[] = GRANT_LIST_WHERE " ORDER BY id DESC LIMIT $4";
static const char SQL_GRANT_ASC[] = GRANT_LIST_WHERE " ORDER BY id ASC LIMIT $4";

static int grant_list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	list_bind_filter(r, st, first, "customer");
	return 0;
}

static int grant_list_render(struct req *r, struct db *db, const char *id, struct json *j,
			     void *ctx)
{
	(void)ctx;
	struct grant g;
	int rc = grant_load(r, db, id, &g);
	if (rc == DB_OK)
		grant_render(r, &g, j);
	return rc;
}

static int h_grant_list(struct req *r)
{
	if (param_present(r, "customer_account"))
		return req_fail(r, ERR_PARAM_BAD, "customer_account",
				"customer_account is not supported; pass customer instead.");
	static const struct list_spec spec = {
	    .url = "/v1/billing/credit_grants",
	    .object_name = "billing.credit_grant",
	    .id_prefix = "credgr_",
	    .sql_cursor = SQL_GRANT_CURSOR,
	    .sql_desc = SQL_GRANT_DESC,
	    .sql_asc = SQL_GRANT_ASC,
	    .bind_filters = grant_list_bind,
	    .render = grant_list_render,
	};
	return list_respond(r, &spec);
}

static const char SQL_TXN_CURSOR[] =
    "SELECT created FROM billing_credit_txns WHERE merchant_id = $1 AND id = $2";
#define TXN_LIST_WHERE                                                                             \
	"SELECT id FROM billing_credit_txns WHERE merchant_id = $1 AND id > $2 AND id < $3"        \
	" AND customer = $5 AND ($6 IS NULL OR credit_grant = $6)"
static const char SQL_TXN_DESC[] = TXN_LIST_WHERE " ORDER BY id DESC LIMIT $4";
static const char SQL_TXN_ASC[] = TXN_LIST_WHERE " ORDER BY id ASC LIMIT $4";

static int txn_list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	list_bind_filter(r, st, first, "customer");
	list_bind_filter(r, st, first + 1, "credit_grant");
	return 0;
}

static int txn_list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	struct txn t;
	int rc = txn_load(r, db, id, &t);
	if (rc == DB_OK)
		txn_render(r, &t, j);
	return rc;
}

static int h_txn_list(struct req *r)
{
	const char *customer;
	if (need_customer(r, &customer) != 0 || customer_check_read(r, customer) != 0)
		return -1;
	static const struct list_spec spec = {
	    .url = "/v1/billing/credit_balance_transactions",
	    .object_name = "billing.credit_balance_transaction",
	    .id_prefix = "cbtxn_",
	    .sql_cursor = SQL_TXN_CURSOR,
	    .sql_desc = SQL_TXN_DESC,
	    .sql_asc = SQL_TXN_ASC,
	    .bind_filters = txn_list_bind,
	    .render = txn_list_render,
	};
	return list_respond(r, &spec);
}

struct txn_ctx {
	struct req *r;
	const char *id;
};

static int txn_retrieve_fn(struct db *db, void *arg)
{
	struct txn_ctx *x = arg;
	struct txn t;
	int rc = txn_load(x->r, db, x->id, &t);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "billing.credit_balance_transaction", x->id, "id");
	if (rc != DB_OK)
		return req_fail(x->r, ERR_API, NULL, NULL);
	txn_render(x->r, &t, req_json(x->r));
	return 0;
}

static int h_txn_retrieve(struct req *r)
{
	struct txn_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, txn_retrieve_fn, &x) == 0 ? 0 : -1;
}

/* ---- the balance summary ---- */

static const char SQL_GRANTS_OF[] = "SELECT " GRANT_COLS " FROM billing_credit_grants"
				    " WHERE merchant_id = $1 AND customer = $2 ORDER BY id";

/* Whether grant g's scope is the filter's: metered for metered, or a listed price in common. */
static bool scope_matches(const struct grant *g, bool metered, const char *prices)
{
	if (metered)
		return g->metered;
	if (!g->prices || !prices)
		return false;
	json_t *a = json_loads(g->prices, 0, NULL), *b = json_loads(prices, 0, NULL);
	bool hit = false;
	size_t i, k;
	json_t *v, *w;
	json_array_foreach(a, i, v) json_array_foreach(b, k, w) hit =
	    hit || str_eq(json_string_value(v), json_string_value(w));
	json_decref(a);
	json_decref(b);
	return hit;
}

struct summary_ctx {
	struct req *r;
	const char *customer, *grant, *prices;
	bool by_grant, metered;
};

#define SUMMARY_CURRENCIES_MAX 16

/* Every grant st selects (bound, not yet stepped), into an arena array; st is reset. 0, or -1
 * with r->err. */
static int grants_read(struct req *r, struct db_stmt *st, struct grant **ret, size_t *ret_n)
{
	struct grant *gs = NULL;
	size_t n = 0, cap = 0;
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		struct grant *ng = arena_grow(&r->arena, gs, n, &cap, sizeof(*ng));
		if (!ng || grant_from_row(r, st, &ng[n]) != DB_OK) {
			db_reset(st);
			return req_fail(r, ERR_API, NULL, NULL);
		}
		gs = ng;
		n++;
	}
	db_reset(st);
	if (rc != DB_DONE)
		return req_fail(r, ERR_API, NULL, NULL);
	*ret = gs;
	*ret_n = n;
	return 0;
}

static int summary_fn(struct db *db, void *arg)
{
	struct summary_ctx *x = arg;
	struct req *r = x->r;
	if (customer_check(r, db, x->customer) != 0)
		return -1;
	const char *clock;
	int64_t now;
	if (customer_now(r, db, x->customer, &clock, &now) != 0)
		return -1;
	if (x->by_grant) {
		struct grant g;
		int rc = grant_load(r, db, x->grant, &g);
		if (rc == DB_NOTFOUND || (rc == DB_OK && !str_eq(g.customer, x->customer)))
			return req_fail_missing(r, "billing.credit_grant", x->grant,
						"filter[credit_grant]");
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	struct db_stmt *st = db_prepare(db, SQL_GRANTS_OF);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, x->customer, -1);
	struct grant *gs = NULL;
	size_t n = 0;
	if (grants_read(r, st, &gs, &n) != 0)
		return -1;
	char cur[SUMMARY_CURRENCIES_MAX][8];
	int64_t sum[SUMMARY_CURRENCIES_MAX];
	int nc = 0;
	for (size_t i = 0; i < n; i++) {
		const struct grant *g = &gs[i];
		if (x->by_grant ? !str_eq(g->id, x->grant)
				: !scope_matches(g, x->metered, x->prices))
			continue;
		/* in effect now: begun, not expired, not voided */
		bool live = g->effective_at <= now && !g->voided_at &&
			    !(g->expires_at && g->expires_at <= now);
		int64_t left = 0;
		if (live && grant_remaining(db, r->merchant_id, g->id, now, &left) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		int k = 0;
		while (k < nc && !str_eq(cur[k], g->currency))
			k++;
		if (k == nc) {
			if (nc == SUMMARY_CURRENCIES_MAX)
				return req_fail(r, ERR_API, NULL, NULL);
			str_copy(cur[nc], sizeof(cur[nc]), g->currency);
			sum[nc++] = 0;
		}
		if (left > 0 && __builtin_add_overflow(sum[k], left, &sum[k]))
			return req_fail(r, ERR_API, NULL, NULL);
	}
	struct json *j = req_json(r);
	json_obj_open(j);
	json_kv_str(j, "object", "billing.credit_balance_summary");
	json_key(j, "balances");
	json_arr_open(j);
	for (int k = 0; k < nc; k++) {
		json_obj_open(j);
		monetary_render(j, "available_balance", cur[k], sum[k]);
		monetary_render(j, "ledger_balance", cur[k], sum[k]);
		json_obj_close(j);
	}
	json_arr_close(j);
	json_kv_str(j, "customer", x->customer);
	json_kv_null(j, "customer_account");
	json_kv_bool(j, "livemode", r->livemode);
	json_obj_close(j);
	return 0;
}

static int h_summary(struct req *r)
{
	struct summary_ctx x = {.r = r};
	if (need_customer(r, &x.customer) != 0)
		return -1;
	const char *type = param_str(r, "filter.type");
	x.by_grant = type && str_eq(type, "credit_grant");
	if (x.by_grant) {
		x.grant = param_str(r, "filter.credit_grant");
		if (!x.grant || !*x.grant)
			return req_fail(r, ERR_PARAM_MISSING, "filter[credit_grant]",
					"filter[credit_grant]");
	} else {
		if (!param_present(r, "filter.applicability_scope"))
			return req_fail(r, ERR_PARAM_MISSING, "filter[applicability_scope]",
					"filter[applicability_scope]");
		if (scope_parse(r, "filter.applicability_scope", "filter[applicability_scope]",
				&x.metered, &x.prices) != 0)
			return -1;
	}
	return req_read(r, summary_fn, &x) == 0 ? 0 : -1;
}

/* ---- credits on invoices ---- */

/* The grants of a customer in one currency, in Stripe's order of application: priority (lower
 * first), then expiring soonest (never last), then promotional before paid, then the earliest
 * effective, then the earliest made (ids sort by creation). */
static const char SQL_GRANTS_IN[] =
    "SELECT " GRANT_COLS " FROM billing_credit_grants WHERE merchant_id = $1 AND customer = $2"
    " AND currency = $3 AND voided_at IS NULL AND effective_at <= $4"
    " AND (expires_at IS NULL OR expires_at > $4)"
    " ORDER BY priority, CASE WHEN expires_at IS NULL THEN 1 ELSE 0 END, expires_at,"
    " CASE WHEN category = 'promotional' THEN 0 ELSE 1 END, effective_at, id";
static const char SQL_INVOICE_DEBITS[] =
    "SELECT id, credit_grant, amount, invoice_line_item FROM billing_credit_txns"
    " WHERE merchant_id = $1 AND invoice = $2 AND kind = 'debit' AND type = 'credits_applied'"
    " ORDER BY id";
static const char SQL_INVOICE_RETURNED[] =
    "SELECT 1 FROM billing_credit_txns WHERE merchant_id = $1 AND invoice = $2"
    " AND type = 'credits_application_invoice_voided'";
static const char SQL_PRICE_METERED[] =
    "SELECT recurring_usage_type FROM prices WHERE merchant_id = $1 AND id = $2";

/* Whether a row of sql (bound: merchant, id) exists. 1, 0, or < 0. */
static int row_exists(struct db *db, const char *sql, const char *merchant_id, const char *id)
{
	struct db_stmt *st = NULL;
	int rc = db_row_by_id(db, sql, merchant_id, id, &st);
	if (rc == DB_OK) {
		db_reset(st);
		return 1;
	}
	return rc == DB_NOTFOUND ? 0 : -1;
}

struct credit_line {
	const char *id, *price;
	int pos;      /* its place among the invoice's lines */
	int64_t left; /* what credits may still take of it */
	bool metered;
};

/* Invoice in's lines that credits can take: each one's amount after its discounts, its price
 * and whether that price is metered. *ret_n of them in r's arena. 0, or -1 with r->err. */
static int credit_lines(struct req *r, struct db *db, const struct invoice *in,
			struct credit_line **ret, int *ret_n)
{
	struct buf b;
	buf_init(&b, 4 * 1024 * 1024);
	json_t *arr = NULL;
	if (invoice_lines_json(r, db, in, &b) == 0 && !b.failed)
		arr = json_loadb(b.data, b.len, 0, NULL);
	buf_release(&b);
	if (!json_is_array(arr)) {
		json_decref(arr);
		return req_fail(r, ERR_API, NULL, NULL);
	}
	size_t n = json_array_size(arr);
	struct credit_line *ls = arena_alloc(&r->arena, (n ? n : 1) * sizeof(*ls));
	if (!ls) {
		json_decref(arr);
		return req_fail(r, ERR_API, NULL, NULL);
	}
	int k = 0;
	size_t i;
	json_t *l;
	json_array_foreach(arr, i, l)
	{
		int64_t left = json_integer_value(json_object_get(l, "amount"));
		size_t d;
		json_t *da;
		json_array_foreach(json_object_get(l, "discount_amounts"), d, da)
		{
			if (__builtin_sub_overflow(
				left, json_integer_value(json_object_get(da, "amount")), &left)) {
				json_decref(arr);
				return req_fail(r, ERR_API, NULL, NULL);
			}
		}
		const char *price = json_string_value(json_object_get(
		    json_object_get(json_object_get(l, "pricing"), "price_details"), "price"));
		const char *id = json_string_value(json_object_get(l, "id"));
		if (left <= 0 || !price || !id)
			continue;
		ls[k].pos = (int)i;
		ls[k].id = arena_strdup(&r->arena, id);
		ls[k].price = arena_strdup(&r->arena, price);
		ls[k].left = left;
		if (!ls[k].id || !ls[k].price) {
			json_decref(arr);
			return req_fail(r, ERR_API, NULL, NULL);
		}
		struct db_stmt *st = NULL;
		int rc = db_row_by_id(db, SQL_PRICE_METERED, r->merchant_id, price, &st);
		if (rc == DB_OK) {
			const char *u = db_col_text(st, 0, NULL);
			ls[k].metered = u && str_eq(u, "metered");
			db_reset(st);
		} else if (rc != DB_NOTFOUND) {
			json_decref(arr);
			return req_fail(r, ERR_API, NULL, NULL);
		}
		k++;
	}
	json_decref(arr);
	*ret = ls;
	*ret_n = k;
	return 0;
}

/* Whether grant g's scope covers a line of price (metered or not). */
static bool grant_covers(const struct grant *g, const struct credit_line *l)
{
	if (g->metered)
		return l->metered;
	json_t *a = json_loads(g->prices, 0, NULL);
	bool hit = false;
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v) hit = hit || str_eq(json_string_value(v), l->price);
	json_decref(a);
	return hit;
}

/* What one grant pays of one line. */
struct credit_take {
	const struct grant *g;
	int line; /* index in the credit lines */
	int64_t amount;
};

/* The credits the grants of in's customer in its currency in effect at now would pay of its
 * lines (ls, nl of them), in Stripe's order, never more than room in all: one take per grant
 * and line, *ret_n of them in r's arena. Reads only. 0, or -1 with r->err. */
static int credits_plan(struct req *r, struct db *db, const struct invoice *in, int64_t now,
			const struct credit_line *ls, int nl, int64_t room,
			struct credit_take **ret, int *ret_n)
{
	*ret = NULL;
	*ret_n = 0;
	if (nl == 0 || room <= 0)
		return 0;
	struct db_stmt *st = db_prepare(db, SQL_GRANTS_IN);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, in->customer, -1);
	db_bind_text(st, 3, in->currency, -1);
	db_bind_int64(st, 4, now);
	struct grant *gs = NULL;
	size_t n = 0;
	if (grants_read(r, st, &gs, &n) != 0)
		return -1;
	if (n == 0)
		return 0;
	int64_t *line_left = arena_alloc(&r->arena, (size_t)nl * sizeof(int64_t));
	int64_t *takes = arena_alloc(&r->arena, (size_t)nl * sizeof(int64_t));
	bool *covers = arena_alloc(&r->arena, (size_t)nl * sizeof(bool));
	struct credit_take *out = arena_alloc(&r->arena, n * (size_t)nl * sizeof(*out));
	if (!line_left || !takes || !covers || !out)
		return req_fail(r, ERR_API, NULL, NULL);
	for (int k = 0; k < nl; k++)
		line_left[k] = ls[k].left;
	int m = 0;
	for (size_t i = 0; i < n && room > 0; i++) {
		int64_t left;
		if (grant_remaining(db, r->merchant_id, gs[i].id, now, &left) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		for (int k = 0; k < nl; k++)
			covers[k] = grant_covers(&gs[i], &ls[k]);
		credit_alloc_grant(line_left, covers, nl, &left, &room, takes);
		for (int k = 0; k < nl; k++)
			if (takes[k] > 0)
				out[m++] = (struct credit_take){&gs[i], k, takes[k]};
	}
	*ret = out;
	*ret_n = m;
	return 0;
}

/* The takes as the lines' credits (one entry per take; r's arena). 0, or -1 with r->err. */
static int takes_by_line(struct req *r, const struct credit_line *ls, const struct credit_take *t,
			 int n, struct invoice_line_credits *ret)
{
	const char **line = arena_alloc(&r->arena, (size_t)(n ? n : 1) * sizeof(*line));
	int64_t *amount = arena_alloc(&r->arena, (size_t)(n ? n : 1) * sizeof(*amount));
	if (!line || !amount)
		return req_fail(r, ERR_API, NULL, NULL);
	for (int k = 0; k < n; k++) {
		line[k] = ls[t[k].line].id;
		amount[k] = t[k].amount;
	}
	ret->n = n;
	ret->line = line;
	ret->amount = amount;
	return 0;
}

int invoice_credits_apply(struct req *r, struct db *db, struct invoice *in, int64_t now, bool write,
			  int64_t *ret_applied)
{
	*ret_applied = 0;
	/* an invoice of a payment already made records that payment: nothing else pays it */
	if (!in->customer || in->balance_untouched || in->total <= 0)
		return 0;
	/* applied once: a second call in the same write (a paused renewal's) finds them */
	if (write) {
		struct db_stmt *st = db_prepare(db, SQL_INVOICE_DEBITS);
		if (!st)
			return req_fail(r, ERR_API, NULL, NULL);
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, in->id, -1);
		int rc = db_step(st);
		db_reset(st);
		if (rc == DB_ROW)
			return 0;
		if (rc != DB_DONE)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	/* no grant in effect: nothing to read of its lines */
	bool granted;
	if (invoice_credits_any(r, db, in->customer, in->currency, now, &granted) != 0)
		return -1;
	if (!granted)
		return 0;
	struct credit_line *ls = NULL;
	int nl = 0;
	if (credit_lines(r, db, in, &ls, &nl) != 0)
		return -1;
	/* never more than its lines after their discounts (pretax: the taxes come after them,
	 * and its shipping is not theirs to pay) */
	int64_t room = 0;
	if (nl && invoice_pretax_total(r, db, in, &room) != 0)
		return -1;
	struct credit_take *t = NULL;
	int n = 0;
	if (credits_plan(r, db, in, now, ls, nl, room, &t, &n) != 0)
		return -1;
	if (n == 0)
		return 0;
	for (int k = 0; k < n && write; k++)
		if (txn_append_on(r, db, t[k].g, "debit", "credits_applied", t[k].amount, now, now,
				  in->id, ls[t[k].line].id) != 0)
			return -1;
	/* what the total falls by: the credits and the taxes on what they paid (each line is
	 * taxed on what its discounts and credits leave, its stored taxes so when writing) */
	struct invoice_line_credits cr;
	int64_t drop;
	if (takes_by_line(r, ls, t, n, &cr) != 0 ||
	    invoice_credits_taxes(r, db, in, &cr, write, &drop) != 0)
		return -1;
	if (write)
		in->total -= drop; /* 0 <= drop <= total */
	*ret_applied = drop;
	return 0;
}

int invoice_credits_any(struct req *r, struct db *db, const char *customer, const char *currency,
			int64_t now, bool *ret)
{
	*ret = false;
	struct db_stmt *st = db_prepare(db, SQL_GRANTS_IN);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, customer, -1);
	db_bind_text(st, 3, currency, -1);
	db_bind_int64(st, 4, now);
	int rc = db_step(st);
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return req_fail(r, ERR_API, NULL, NULL);
	*ret = rc == DB_ROW;
	return 0;
}

int invoice_credits_plan(struct req *r, struct db *db, const char *customer, const char *currency,
			 int64_t now, int n, const char *const *prices, const int64_t *left,
			 int64_t room, int64_t *ret_credits)
{
	for (int i = 0; i < n; i++)
		ret_credits[i] = 0;
	struct credit_line *ls = arena_alloc(&r->arena, (size_t)(n ? n : 1) * sizeof(*ls));
	int *at = arena_alloc(&r->arena, (size_t)(n ? n : 1) * sizeof(int));
	if (!ls || !at)
		return req_fail(r, ERR_API, NULL, NULL);
	/* the lines credits can take, as credit_lines reads them from the invoice once made */
	int nl = 0;
	for (int i = 0; i < n; i++) {
		if (left[i] <= 0 || !prices[i])
			continue;
		ls[nl] = (struct credit_line){.id = "", .price = prices[i], .left = left[i]};
		struct db_stmt *st = NULL;
		int rc = db_row_by_id(db, SQL_PRICE_METERED, r->merchant_id, prices[i], &st);
		if (rc == DB_OK) {
			const char *u = db_col_text(st, 0, NULL);
			ls[nl].metered = u && str_eq(u, "metered");
			db_reset(st);
		} else if (rc != DB_NOTFOUND) {
			return req_fail(r, ERR_API, NULL, NULL);
		}
		at[nl++] = i;
	}
	struct invoice in = {.customer = customer};
	str_copy(in.currency, sizeof(in.currency), currency);
	struct credit_take *t = NULL;
	int m = 0;
	if (credits_plan(r, db, &in, now, ls, nl, room, &t, &m) != 0)
		return -1;
	for (int k = 0; k < m; k++)
		ret_credits[at[t[k].line]] += t[k].amount; /* at most the line: no overflow */
	return 0;
}

int invoice_credits_preview(struct req *r, struct db *db, struct invoice *in, int64_t now,
			    int64_t room, int n_lines, int64_t *ret_credits, bool *ret_any)
{
	*ret_any = false;
	for (int i = 0; i < n_lines; i++)
		ret_credits[i] = 0;
	in->preview_credits = in->preview_line_credits = NULL;
	bool granted = false;
	if (!in->customer || room <= 0 ||
	    invoice_credits_any(r, db, in->customer, in->currency, now, &granted) != 0 || !granted)
		return r->err.set ? -1 : 0;
	struct credit_line *ls = NULL;
	int nl = 0;
	struct credit_take *t = NULL;
	int n = 0;
	if (credit_lines(r, db, in, &ls, &nl) != 0 ||
	    credits_plan(r, db, in, now, ls, nl, room, &t, &n) != 0)
		return -1;
	if (n == 0)
		return 0;
	for (int k = 0; k < n; k++) {
		int pos = ls[t[k].line].pos;
		if (pos >= n_lines)
			return req_fail(r, ERR_API, NULL, NULL);
		ret_credits[pos] += t[k].amount; /* at most the line: no overflow */
	}
	*ret_any = true;
	/* what the invoice and its lines will show: no credit balance transaction yet (the
	 * finalization writes them) */
	json_t *by_line = json_object(), *all = json_array();
	bool ok = by_line && all;
	for (int k = 0; ok && k < n; k++) {
		json_t *e =
		    json_pack("{s:I, s:n, s:s}", "amount", (json_int_t)t[k].amount,
			      "credit_balance_transaction", "type", "credit_balance_transaction");
		const char *line = ls[t[k].line].id;
		json_t *a = json_object_get(by_line, line);
		if (!a && (!(a = json_array()) || json_object_set_new(by_line, line, a) != 0))
			ok = false;
		ok = ok && e && json_array_append(a, e) == 0 && json_array_append_new(all, e) == 0;
		if (!ok)
			json_decref(e);
	}
	char *bl = ok ? json_dumps(by_line, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	char *al = ok ? json_dumps(all, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(by_line);
	json_decref(all);
	in->preview_credits = al ? arena_strdup(&r->arena, al) : NULL;
	in->preview_line_credits = bl ? arena_strdup(&r->arena, bl) : NULL;
	free(bl);
	free(al);
	if (!in->preview_credits || !in->preview_line_credits)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

int invoice_credits_return(struct req *r, struct db *db, const struct invoice *in, int64_t now)
{
	int rc = row_exists(db, SQL_INVOICE_RETURNED, r->merchant_id, in->id);
	if (rc < 0)
		return req_fail(r, ERR_API, NULL, NULL);
	if (rc == 1) /* given back already */
		return 0;
	struct db_stmt *st = db_prepare(db, SQL_INVOICE_DEBITS);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, in->id, -1);
	struct ret {
		const char *grant, *line;
		int64_t amount;
	} *rs = NULL;
	size_t n = 0, cap = 0;
	while ((rc = db_step(st)) == DB_ROW) {
		struct ret *nr = arena_grow(&r->arena, rs, n, &cap, sizeof(*nr));
		if (!nr) {
			db_reset(st);
			return req_fail(r, ERR_API, NULL, NULL);
		}
		rs = nr;
		rs[n].grant = col_text_dup(&r->arena, st, 1);
		rs[n].amount = db_col_int64(st, 2);
		rs[n].line = col_text_dup(&r->arena, st, 3);
		if (!rs[n].grant || !rs[n].line) {
			db_reset(st);
			return req_fail(r, ERR_API, NULL, NULL);
		}
		n++;
	}
	db_reset(st);
	if (rc != DB_DONE)
		return req_fail(r, ERR_API, NULL, NULL);
	for (size_t i = 0; i < n; i++) {
		struct grant g;
		if (grant_load(r, db, rs[i].grant, &g) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (txn_append_on(r, db, &g, "credit", "credits_application_invoice_voided",
				  rs[i].amount, now, now, in->id, rs[i].line) != 0)
			return -1;
		/* a grant past its expiry (or voided) cannot be spent again: what came back goes
		 * at once, as Stripe expires reinstated credits of an expired grant */
		bool expired = g.expires_at && g.expires_at <= now;
		if ((expired || g.voided_at) &&
		    txn_append(r, db, &g, "debit",
			       g.voided_at ? "credits_voided" : "credits_expired", rs[i].amount,
			       now, now) != 0)
			return -1;
	}
	return 0;
}

/* Renders one {amount, credit_balance_transaction, type} entry. */
static void pretax_entry(struct json *j, const char *txn, int64_t amount)
{
	json_obj_open(j);
	json_kv_int(j, "amount", amount);
	json_kv_str(j, "credit_balance_transaction", txn);
	json_kv_str(j, "type", "credit_balance_transaction");
	json_obj_close(j);
}

int invoice_credits_render(struct req *r, struct db *db, const char *invoice, struct json *j)
{
	struct db_stmt *st = db_prepare(db, SQL_INVOICE_DEBITS);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, invoice, -1);
	json_arr_open(j);
	int rc;
	while ((rc = db_step(st)) == DB_ROW)
		pretax_entry(j, db_col_text(st, 0, NULL), db_col_int64(st, 2));
	db_reset(st);
	json_arr_close(j);
	return rc == DB_DONE ? DB_OK : DB_ERR;
}

static int lines_patch(json_t *by_line, struct buf *b, size_t from);

int invoice_credits_lines_patch(struct req *r, struct db *db, const char *invoice, struct buf *b,
				size_t from)
{
	struct db_stmt *st = db_prepare(db, SQL_INVOICE_DEBITS);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, invoice, -1);
	json_t *by_line = json_object();
	int rc;
	while (by_line && (rc = db_step(st)) == DB_ROW) {
		const char *line = db_col_text(st, 3, NULL);
		json_t *e = json_pack("{s:I, s:s, s:s}", "amount", (json_int_t)db_col_int64(st, 2),
				      "credit_balance_transaction", db_col_text(st, 0, NULL),
				      "type", "credit_balance_transaction");
		json_t *a = line ? json_object_get(by_line, line) : NULL;
		if (line && !a) {
			a = json_array();
			json_object_set_new(by_line, line, a);
		}
		if (!e || !a || json_array_append_new(a, e) != 0)
			rc = DB_ERR;
		if (rc == DB_ERR)
			break;
	}
	db_reset(st);
	if (!by_line || rc != DB_DONE) {
		json_decref(by_line);
		return DB_ERR;
	}
	return lines_patch(by_line, b, from);
}

int invoice_credits_preview_patch(struct req *r, struct invoice *in)
{
	if (!in->preview_line_credits || !in->preview_lines)
		return 0;
	json_t *by_line = json_loads(in->preview_line_credits, 0, NULL);
	struct buf b;
	buf_init(&b, 8u << 20);
	buf_puts(&b, in->preview_lines);
	int rc = by_line && !b.failed ? lines_patch(by_line, &b, 0) : DB_ERR;
	if (!by_line)
		rc = DB_ERR;
	if (rc == DB_OK && !(in->preview_lines = arena_strndup(&r->arena, b.data, b.len)))
		rc = DB_ERR;
	buf_release(&b);
	return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* The JSON array of lines in b from offset from, each named in by_line (line id: its
 * pretax_credit_amounts) given those; by_line is consumed. DB_OK or DB_ERR. */
static int lines_patch(json_t *by_line, struct buf *b, size_t from)
{
	if (json_object_size(by_line) == 0) { /* no credits: the lines as they are */
		json_decref(by_line);
		return DB_OK;
	}
	json_t *arr = json_loadb(b->data + from, b->len - from, 0, NULL);
	size_t i;
	json_t *l;
	json_array_foreach(arr, i, l)
	{
		json_t *a = json_object_get(by_line, json_string_value(json_object_get(l, "id")));
		if (a)
			json_object_set(l, "pretax_credit_amounts", a);
	}
	json_decref(by_line);
	char *s = arr ? json_dumps(arr, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(arr);
	if (!s)
		return DB_ERR;
	b->len = from;
	buf_puts(b, s);
	free(s);
	return b->failed ? DB_ERR : DB_OK;
}

/* ---- a grant's expiry by itself (the scheduler) ----
 * A grant whose expires_at passes (the real time, or its customer's test clock's frozen_time)
 * keeps nothing: what was left goes as a credits_expired debit, created and in effect at its
 * expires_at, with its billing.credit_balance_transaction.created event (its own attributes do
 * not change: no billing.credit_grant.updated). The write first sets expiry_recorded_at where
 * it is still NULL: a job run twice, or by two nodes at once, records it once (the second finds
 * the row taken and writes nothing). Already out of effect before that (SQL_GRANTS_IN, the
 * summary): the job only writes down what the ledger then says. */
#define GRANT_EXPIRE_BATCH 64
#define GRANTS_EXPIRING_WHERE                                                                      \
	" g.expires_at IS NOT NULL AND g.expiry_recorded_at IS NULL AND g.voided_at IS NULL"
#define GRANTS_EXPIRING_REAL                                                                       \
	"SELECT g.merchant_id, g.id, g.expires_at FROM billing_credit_grants g"                    \
	" WHERE" GRANTS_EXPIRING_WHERE " AND g.test_clock IS NULL AND g.expires_at <= $1"
#define GRANTS_EXPIRING_CLOCK                                                                      \
	"SELECT g.merchant_id, g.id, g.expires_at FROM billing_credit_grants g JOIN test_clocks c" \
	" ON c.merchant_id = g.merchant_id AND c.id = g.test_clock"                                \
	" WHERE" GRANTS_EXPIRING_WHERE " AND g.expires_at <= c.frozen_time"
const char CREDIT_GRANTS_EXPIRE_DUE_SQL[] =
    "SELECT 1 FROM (" GRANTS_EXPIRING_REAL " UNION ALL " GRANTS_EXPIRING_CLOCK ") AS x LIMIT 1";
static const char SQL_GRANTS_EXPIRING[] =
    "SELECT merchant_id, id FROM (" GRANTS_EXPIRING_REAL " UNION ALL " GRANTS_EXPIRING_CLOCK
    ") AS x ORDER BY expires_at, id LIMIT $2";

/* Inside the shard's write: grant id's expiry recorded, once. 1 done, 0 nothing to do, -1 on
 * error. */
static int grant_expire_due(struct req *r, struct db *db, const char *id)
{
	struct grant g;
	int rc = grant_load(r, db, id, &g);
	if (rc == DB_NOTFOUND)
		return 0;
	if (rc != DB_OK)
		return -1;
	if (!g.expires_at || g.voided_at)
		return 0;
	struct db_stmt *st = db_prepare(db, SQL_GRANT_EXPIRY_RECORD);
	if (!st)
		return -1;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, g.id, -1);
	db_bind_int64(st, 3, g.expires_at);
	int64_t changed;
	if (db_step_changes(st, &changed) != DB_OK)
		return -1;
	if (changed != 1) /* recorded meanwhile */
		return 0;
	int64_t left;
	if (grant_remaining(db, r->merchant_id, g.id, INT64_MAX, &left) != DB_OK)
		return -1;
	if (left > 0 && txn_append(r, db, &g, "debit", "credits_expired", left, g.expires_at,
				   g.expires_at) != 0)
		return -1;
	return 1;
}

struct expire_ctx {
	int64_t now;
	int done;
	struct shard_share share;
};

static int expire_due_fn(struct db *db, void *arg)
{
	struct expire_ctx *c = arg;
	struct scheduler_due due[GRANT_EXPIRE_BATCH];
	int n = 0, done = 0, rc = 0;
	if (scheduler_due_read(db, SQL_GRANTS_EXPIRING, c->now, due, &n,
			       scheduler_batch(GRANT_EXPIRE_BATCH)) != DB_OK)
		return DB_ERR;
	for (int i = 0; i < n && rc >= 0; i++) {
		struct req r;
		req_internal_init(&r, NULL, due[i].merchant, c->now, NULL);
		rc = grant_expire_due(&r, db, due[i].id);
		if (rc > 0)
			done++;
		req_internal_release(&r);
	}
	if (rc < 0)
		return DB_ERR;
	c->done += (int)shard_share_add(&c->share, db, done);
	return 0;
}

int credit_grants_expire_tick(struct store *s, int64_t now)
{
	struct expire_ctx c = {.now = now};
	int rc = store_each_shard_write(s, expire_due_fn, &c);
	return rc == 0 ? c.done : rc;
}

const struct route billing_credits_routes[] = {
    {"POST", "/v1/billing/credit_grants", h_grant_create, grant_create_params, 0},
    {"GET", "/v1/billing/credit_grants", h_grant_list, grant_list_params, ROUTE_LIST},
    {"GET", "/v1/billing/credit_grants/{id}", h_grant_retrieve, no_params, 0},
    {"POST", "/v1/billing/credit_grants/{id}", h_grant_update, grant_update_params, 0},
    {"POST", "/v1/billing/credit_grants/{id}/expire", h_grant_expire, no_params, 0},
    {"POST", "/v1/billing/credit_grants/{id}/void", h_grant_void, no_params, 0},
    {"GET", "/v1/billing/credit_balance_summary", h_summary, summary_params, 0},
    {"GET", "/v1/billing/credit_balance_transactions", h_txn_list, txn_list_params, ROUTE_LIST},
    {"GET", "/v1/billing/credit_balance_transactions/{id}", h_txn_retrieve, no_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};

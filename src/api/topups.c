/*
 * /v1/topups: money a merchant sends from its own bank account into its balance (Stripe's
 * top-ups, with which a Connect platform funds transfers and payouts beyond what it has taken).
 *
 * A top-up is made `pending`: the bank has been asked to debit the account, nothing has moved.
 * The scheduler hears the bank's answer at settle_at (a moment later, as Stripe's test mode
 * settles top-ups at once) and, in one write with the status change, either books the money
 * (ledger_topup: a "topup" balance transaction, available at once) and appends topup.succeeded,
 * or records the bank's failure_code (nothing was booked) and appends topup.failed. A pending
 * top-up can be canceled (topup.canceled); the status moves only from the one it was read in,
 * so a cancel and the scheduler never both move one top-up.
 *
 * `source` says which bank account is debited: one of Stripe's test bank tokens
 * (btok_us_verified, and the failing btok_us_verified_noAccount, …AccountClosed,
 * …InsufficientFunds, …DebitNotAuthorized, …InvalidCurrency: the same accounts as for payouts),
 * one of the merchant's own bank accounts (ba_…), or none (the account Stripe would take from
 * the dashboard: it pays). The object's `source` is Stripe's legacy Source object, which Tender
 * does not have: it is null.
 *
 * `destination_balance=issuing` (Stripe's way to fund Issuing) books the paid top-up into the
 * merchant's Issuing balance instead (ledger_issuing.h): it shows as balance.issuing.available,
 * and the payments balance (and so payouts) never sees it.
 */
#include <stdio.h>
#include <string.h>

#include "api/common.h"
#include "api/external_accounts.h"
#include "api/list.h"
#include "api/resources.h"
#include "core/str.h"
#include "events/events.h"
#include "http/form.h"
#include "ledger/ledger.h"
#include "ledger/ledger_issuing.h"
#include "ledger/ledger_topup.h"
#include "money/currency.h"
#include "scheduler/scheduler.h"
#include "store/store.h"

#define TOPUP_TEST_SETTLE_S 2 /* as a test payout's arrival: long enough to cancel one */
#define SETTLE_BATCH 64

struct topup {
	char id[ID_MAX];
	int64_t created, amount, expected_availability_date;
	char currency[8];
	const char *status, *description, *statement_descriptor, *transfer_group, *metadata;
	const char *source, *failure_code, *balance_transaction;
	const char *destination_balance; /* "issuing" (ledger_issuing.h), or NULL: payments */
};

static const char SQL_GET[] =
    "SELECT id, created, amount, currency, status, description, statement_descriptor,"
    " transfer_group, metadata, source, failure_code, balance_transaction,"
    " expected_availability_date, destination_balance FROM topups"
    " WHERE merchant_id = $1 AND id = $2";
static const char SQL_INSERT[] =
    "INSERT INTO topups (merchant_id, id, created, amount, currency, status, description,"
    " statement_descriptor, transfer_group, metadata, source, expected_availability_date,"
    " settle_at, destination_balance) VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8, $9,"
    " $10, $11, $11, $12)";
/* a status change only from the status it was read in */
static const char SQL_TRANSITION[] =
    "UPDATE topups SET status = $4, failure_code = $5, balance_transaction = $6,"
    " settle_at = NULL WHERE merchant_id = $1 AND id = $2 AND status = $3";
static const char SQL_UPDATE[] =
    "UPDATE topups SET description = $3, metadata = $4 WHERE merchant_id = $1 AND id = $2";

static int topup_load(struct db *db, struct arena *a, const char *merchant_id, const char *id,
		      struct topup *t)
{
	struct db_stmt *st;
	int rc = db_row_by_id(db, SQL_GET, merchant_id, id, &st);
	if (rc != DB_OK)
		return rc;
	memset(t, 0, sizeof(*t));
	str_copy(t->id, sizeof(t->id), db_col_text(st, 0, NULL));
	t->created = db_col_int64(st, 1);
	t->amount = db_col_int64(st, 2);
	str_copy(t->currency, sizeof(t->currency), db_col_text(st, 3, NULL));
	t->status = col_text_dup(a, st, 4);
	t->description = col_text_dup(a, st, 5);
	t->statement_descriptor = col_text_dup(a, st, 6);
	t->transfer_group = col_text_dup(a, st, 7);
	t->metadata = col_text_dup(a, st, 8);
	t->source = col_text_dup(a, st, 9);
	t->failure_code = col_text_dup(a, st, 10);
	t->balance_transaction = col_text_dup(a, st, 11);
	t->expected_availability_date = db_col_int64_or0(st, 12);
	t->destination_balance = col_text_dup(a, st, 13);
	db_reset(st);
	return t->status && t->metadata ? DB_OK : DB_ERR;
}

/* What the bank says when it refuses to be debited, by Stripe's failure codes. */
static const char *failure_message(const char *code)
{
	static const char *const msgs[][2] = {
	    {"no_account", "The bank account details on file are probably incorrect. No bank "
			   "account could be located with those details."},
	    {"account_closed", "The bank account has been closed."},
	    {"insufficient_funds", "The bank account has insufficient funds to cover the top-up."},
	    {"debit_not_authorized", "Debit transactions are not approved on the bank account."},
	    {"invalid_currency", "The bank was unable to process this top-up because of its "
				 "currency."},
	};
	for (size_t i = 0; code && i < sizeof(msgs) / sizeof(msgs[0]); i++)
		if (strcmp(msgs[i][0], code) == 0)
			return msgs[i][1];
	return code ? "The top-up could not be processed." : NULL;
}

static int topup_render(struct db *db, const char *merchant_id, bool livemode,
			const struct topup *t, bool expand_bt, struct json *j)
{
	json_obj_open(j);
	json_kv_str(j, "id", t->id);
	json_kv_str(j, "object", "topup");
	json_kv_int(j, "amount", t->amount);
	json_key(j, "balance_transaction");
	int rc = DB_NOTFOUND;
	if (t->balance_transaction && expand_bt && db)
		rc = ledger_balance_txn_render(db, merchant_id, t->balance_transaction, j);
	if (rc == DB_NOTFOUND)
		json_str_or_null(j, t->balance_transaction);
	else if (rc != DB_OK)
		return rc;
	json_kv_int(j, "created", t->created);
	json_kv_str(j, "currency", t->currency);
	json_kv_str_or_null(j, "description", t->description);
	json_kv_int(j, "expected_availability_date", t->expected_availability_date);
	json_kv_str_or_null(j, "failure_code", t->failure_code);
	json_kv_str_or_null(j, "failure_message", failure_message(t->failure_code));
	json_kv_bool(j, "livemode", livemode);
	json_kv_raw(j, "metadata", t->metadata, strlen(t->metadata));
	json_kv_null(j, "source");
	json_kv_str_or_null(j, "statement_descriptor", t->statement_descriptor);
	json_kv_str(j, "status", t->status);
	json_kv_str_or_null(j, "transfer_group", t->transfer_group);
	json_obj_close(j);
	return DB_OK;
}

/* Appends a topup.* event with t as it is now (nothing expanded). */
static int emit(struct db *db, const char *merchant_id, const struct event_origin *o,
		const struct topup *t, const char *type, const char *prev, int64_t now)
{
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 16);
	json_init(&j, &b);
	int rc = topup_render(NULL, merchant_id, o->livemode, t, false, &j);
	if (rc == DB_OK && b.failed)
		rc = DB_ERR;
	if (rc == DB_OK)
		rc = event_append(db, merchant_id, o, type, t->id, b.data, b.len, prev, now, NULL);
	buf_release(&b);
	return rc;
}

static int respond(struct req *r, struct db *db, const struct topup *t)
{
	return topup_render(db, r->merchant_id, r->livemode, t,
			    req_expand_has(r, "balance_transaction"), req_json(r)) == DB_OK
		   ? 0
		   : req_fail(r, ERR_API, NULL, NULL);
}

/* Moves t from `from` to `to` (conditionally); DB_CONFLICT when it had moved already. */
static int transition(struct db *db, const char *merchant_id, struct topup *t, const char *from,
		      const char *to)
{
	struct db_stmt *st = db_prepare(db, SQL_TRANSITION);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, t->id, -1);
	db_bind_text(st, 3, from, -1);
	db_bind_text(st, 4, to, -1);
	db_bind_text(st, 5, t->failure_code, -1);
	db_bind_text(st, 6, t->balance_transaction, -1);
	int64_t n = 0;
	int rc = db_step_changes(st, &n);
	if (rc != DB_OK)
		return rc;
	if (n != 1)
		return DB_CONFLICT;
	t->status = to;
	return DB_OK;
}

/* ---- create ---- */

static const struct param_spec create_params[] = {
    {"amount", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {"currency", PT_CURRENCY, PF_REQUIRED, 0, NULL, NULL},
    {"description", PT_STRING, 0, 5000, NULL, NULL},
    {"destination_balance", PT_ENUM, 0, 0, (const char *const[]){"issuing", "payments", NULL},
     NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"source", PT_STRING, 0, 255, NULL, NULL},
    {"statement_descriptor", PT_STRING, 0, 15, NULL, NULL},
    {"transfer_group", PT_STRING, 0, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

struct create_ctx {
	struct req *r;
	struct topup t;
};

static int create_fn(struct db *db, void *arg)
{
	struct create_ctx *c = arg;
	struct req *r = c->r;
	struct topup *t = &c->t;
	/* a bank account of the merchant's own: it must be one, in the top-up's currency */
	if (t->source && strncmp(t->source, "ba_", 3) == 0) {
		struct ea_brief b;
		int rc = external_account_brief(db, r->merchant_id, t->source, &b);
		if (rc != DB_OK && rc != DB_NOTFOUND)
			return req_fail(r, ERR_API, NULL, NULL);
		if (rc == DB_NOTFOUND || b.deleted || strcmp(b.object, "bank_account") != 0)
			return req_fail(r, ERR_RESOURCE_MISSING, "source", "No such source: '%s'",
					t->source);
		if (strcmp(b.currency, t->currency) != 0)
			return req_fail(r, ERR_PARAM_BAD, "source",
					"The bank account %s is in %s: it cannot fund a top-up in "
					"%s.",
					t->source, b.currency, t->currency);
	}
	struct db_stmt *st = db_prepare(db, SQL_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, t->id, -1);
	db_bind_int64(st, 3, t->created);
	db_bind_int64(st, 4, t->amount);
	db_bind_text(st, 5, t->currency, -1);
	db_bind_text(st, 6, t->description, -1);
	db_bind_text(st, 7, t->statement_descriptor, -1);
	db_bind_text(st, 8, t->transfer_group, -1);
	db_bind_text(st, 9, t->metadata, -1);
	db_bind_text(st, 10, t->source, -1);
	db_bind_int64(st, 11, t->expected_availability_date);
	db_bind_text(st, 12, t->destination_balance, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	struct event_origin o = {r->request_id, r->idempotency_key, r->livemode};
	if (emit(db, r->merchant_id, &o, t, "topup.created", NULL, r->now) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return respond(r, db, t);
}

static int h_create(struct req *r)
{
	struct create_ctx c = {.r = r};
	struct topup *t = &c.t;
	int64_t amount = 0;
	param_int(r, "amount", &amount);
	if (amount < 1 || amount > LEDGER_AMOUNT_MAX)
		return req_fail(r, ERR_PARAM_BAD, "amount",
				"Invalid amount: a top-up is 1 or more of the currency's smallest "
				"unit.");
	if (param_currency(r, "currency", NULL, t->currency) != 0)
		return -1;
	const char *source = param_str(r, "source");
	if (source && *source) {
		bool known = false;
		bank_test_token_failure(source, &known);
		if (!known && strncmp(source, "ba_", 3) != 0)
			return req_fail(r, ERR_RESOURCE_MISSING, "source", "No such source: '%s'",
					source);
		t->source = source;
	}
	id_new_at(t->id, "tu_", r->now);
	t->created = r->now;
	t->amount = amount;
	t->status = "pending";
	t->expected_availability_date = r->now + TOPUP_TEST_SETTLE_S;
	t->description = param_str(r, "description");
	t->statement_descriptor = param_str(r, "statement_descriptor");
	t->transfer_group = param_str(r, "transfer_group");
	/* Stripe's Issuing top-ups: destination_balance=issuing funds the Issuing balance */
	const char *dest = param_str(r, "destination_balance");
	t->destination_balance = dest && strcmp(dest, "issuing") == 0 ? "issuing" : NULL;
	t->metadata = "{}";
	if (metadata_apply(r, NULL, "metadata", &t->metadata) != 0)
		return -1;
	return req_write(r, create_fn, &c);
}

/* ---- retrieve, update, cancel, list ---- */

struct id_ctx {
	struct req *r;
	const char *id;
	struct topup t;
};

static int load_fn(struct db *db, void *arg)
{
	struct id_ctx *x = arg;
	int rc = topup_load(db, &x->r->arena, x->r->merchant_id, x->id, &x->t);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "topup", x->id, "topup");
	return rc == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

static int retrieve_fn(struct db *db, void *arg)
{
	struct id_ctx *x = arg;
	return load_fn(db, arg) != 0 ? -1 : respond(x->r, db, &x->t);
}

static int h_retrieve(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, retrieve_fn, &x) == 0 ? 0 : -1;
}

/* description and metadata. Stripe has no topup.updated event: neither moves money, and the
 * top-up's row is the record of them. */
static int update_fn(struct db *db, void *arg)
{
	struct id_ctx *x = arg;
	struct req *r = x->r;
	if (load_fn(db, arg) != 0)
		return -1;
	struct topup *t = &x->t;
	t->description = str_update(r, "description", t->description);
	if (metadata_apply(r, t->metadata, "metadata", &t->metadata) != 0)
		return -1;
	struct db_stmt *st = db_prepare(db, SQL_UPDATE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, t->id, -1);
	db_bind_text(st, 3, t->description, -1);
	db_bind_text(st, 4, t->metadata, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return respond(r, db, t);
}

static int h_update(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, update_fn, &x);
}

static int cancel_fn(struct db *db, void *arg)
{
	struct id_ctx *x = arg;
	struct req *r = x->r;
	if (load_fn(db, arg) != 0)
		return -1;
	struct topup *t = &x->t;
	if (strcmp(t->status, "pending") != 0)
		return req_fail(
		    r, ERR_INVALID_STATE, NULL,
		    "Top-ups can only be canceled while they are pending; this one is %s.",
		    t->status);
	/* nothing was booked while it was pending: there is nothing to give back */
	if (transition(db, r->merchant_id, t, "pending", "canceled") != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	struct event_origin o = {r->request_id, r->idempotency_key, r->livemode};
	if (emit(db, r->merchant_id, &o, t, "topup.canceled", NULL, r->now) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return respond(r, db, t);
}

static int h_cancel(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, cancel_fn, &x);
}

static const char SQL_CURSOR[] = "SELECT created FROM topups WHERE merchant_id = $1 AND id = $2";
#define LIST_WHERE                                                                                 \
	"SELECT id FROM topups WHERE merchant_id = $1 AND id > $2 AND id < $3"                     \
	" AND ($5 IS NULL OR status = $5) AND ($6 IS NULL OR amount = $6)"                         \
	" AND ($7 IS NULL OR amount > $7) AND ($8 IS NULL OR amount >= $8)"                        \
	" AND ($9 IS NULL OR amount < $9) AND ($10 IS NULL OR amount <= $10)"
static const char SQL_DESC[] = LIST_WHERE " ORDER BY id DESC LIMIT $4";
static const char SQL_ASC[] = LIST_WHERE " ORDER BY id ASC LIMIT $4";

static void bind_range(struct req *r, struct db_stmt *st, int idx, const char *path)
{
	int64_t v;
	if (param_int(r, path, &v) == 1)
		db_bind_int64(st, idx, v);
	else
		db_bind_null(st, idx);
}

static int list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	db_bind_text(st, first, param_str(r, "status"), -1);
	/* amount: an integer, or a hash of gt / gte / lt / lte */
	const struct form_node *n = param_node(r, "amount");
	if (n && n->kind == FORM_SCALAR)
		bind_range(r, st, first + 1, "amount");
	else
		db_bind_null(st, first + 1);
	bind_range(r, st, first + 2, "amount.gt");
	bind_range(r, st, first + 3, "amount.gte");
	bind_range(r, st, first + 4, "amount.lt");
	bind_range(r, st, first + 5, "amount.lte");
	return 0;
}

static int list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	struct topup t;
	int rc = topup_load(db, &r->arena, r->merchant_id, id, &t);
	if (rc != DB_OK)
		return rc;
	return topup_render(db, r->merchant_id, r->livemode, &t,
			    req_expand_has(r, "data.balance_transaction"), j);
}

static int h_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/topups",
	    .object_name = "topup",
	    .id_prefix = "tu_",
	    .sql_cursor = SQL_CURSOR,
	    .sql_desc = SQL_DESC,
	    .sql_asc = SQL_ASC,
	    .bind_filters = list_bind,
	    .render = list_render,
	};
	return list_respond(r, &spec);
}

/* ---- the scheduler: the bank's answer ---- */

const char TOPUPS_DUE_SQL[] =
    "SELECT 1 FROM topups WHERE settle_at IS NOT NULL AND settle_at <= $1 LIMIT 1";
static const char SQL_DUE[] =
    "SELECT merchant_id, id FROM topups WHERE settle_at IS NOT NULL AND settle_at <= $1"
    " ORDER BY settle_at LIMIT $2";

/* The bank's answer for t: the failure its source's test account gives, else paid. */
static int bank_answer(struct db *db, const char *merchant_id, const struct topup *t,
		       char failure[32])
{
	failure[0] = '\0';
	if (!t->source)
		return DB_OK;
	if (strncmp(t->source, "ba_", 3) == 0) {
		int rc = external_account_payout_failure(db, merchant_id, t->source, failure);
		return rc == DB_NOTFOUND ? DB_OK : rc;
	}
	bool known = false;
	const char *f = bank_test_token_failure(t->source, &known);
	if (f)
		str_copy(failure, 32, f);
	return DB_OK;
}

static int settle_one(struct db *db, struct arena *a, const char *merchant_id, struct topup *t,
		      int64_t now)
{
	char failure[32];
	int rc = bank_answer(db, merchant_id, t, failure);
	if (rc != DB_OK)
		return rc;
	struct event_origin o = {NULL, NULL, 0};
	if (failure[0]) {
		t->failure_code = arena_strdup(a, failure);
		if (!t->failure_code)
			return DB_ERR;
		/* DB_CONFLICT: canceled meanwhile, nothing done */
		if ((rc = transition(db, merchant_id, t, "pending", "failed")) != DB_OK)
			return rc;
		return emit(db, merchant_id, &o, t, "topup.failed", NULL, now);
	}
	char bt[ID_MAX];
	/* the balance transaction is made first for its id; a top-up canceled meanwhile rolls the
	 * whole tick back below (the transition's guard is checked before anything else moves) */
	if ((rc = transition(db, merchant_id, t, "pending", "pending")) != DB_OK)
		return rc;
	rc = t->destination_balance ? ledger_issuing_topup(db, merchant_id, t->id, t->amount,
							   t->currency, t->description, now, bt)
				    : ledger_topup(db, merchant_id, t->id, t->amount, t->currency,
						   t->description, now, bt);
	if (rc != DB_OK)
		return rc == DB_CONFLICT ? DB_ERR : rc;
	t->balance_transaction = arena_strdup(a, bt);
	if (!t->balance_transaction)
		return DB_ERR;
	if ((rc = transition(db, merchant_id, t, "pending", "succeeded")) != DB_OK)
		return rc == DB_CONFLICT ? DB_ERR : rc;
	return emit(db, merchant_id, &o, t, "topup.succeeded", NULL, now);
}

struct settle_ctx {
	int64_t now;
	int done;
	struct shard_share share;
};

static int settle_fn(struct db *db, void *arg)
{
	struct settle_ctx *c = arg;
	struct arena a;
	arena_init(&a, 1u << 20);
	struct scheduler_due due[SETTLE_BATCH];
	int n = 0, done = 0, rc = DB_OK;
	if (scheduler_due_read(db, SQL_DUE, c->now, due, &n, scheduler_batch(SETTLE_BATCH)) !=
	    DB_OK) {
		arena_release(&a);
		return DB_ERR;
	}
	for (int i = 0; i < n && rc == DB_OK; i++) {
		struct topup t;
		if (topup_load(db, &a, due[i].merchant, due[i].id, &t) != DB_OK)
			continue;
		rc = settle_one(db, &a, due[i].merchant, &t, c->now);
		if (rc == DB_OK)
			done++;
		else if (rc == DB_CONFLICT)
			rc = DB_OK;
	}
	arena_release(&a);
	if (rc != DB_OK)
		return rc;
	c->done += (int)shard_share_add(&c->share, db, done);
	return 0;
}

int topups_settle_tick(struct store *s, int64_t now)
{
	struct settle_ctx c = {.now = now};
	int rc = store_each_shard_write(s, settle_fn, &c);
	return rc == 0 ? c.done : rc;
}

static const struct param_spec update_params[] = {
    {"description", PT_STRING, PF_EMPTYABLE, 5000, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec list_params[] = {
    {"status", PT_ENUM, 0, 0,
     (const char *const[]){"canceled", "failed", "pending", "succeeded", NULL}, NULL},
    {"amount", PT_RANGE, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

const struct route topups_routes[] = {
    {"POST", "/v1/topups", h_create, create_params, 0},
    {"GET", "/v1/topups", h_list, list_params, ROUTE_LIST},
    {"GET", "/v1/topups/{id}", h_retrieve, no_params, 0},
    {"POST", "/v1/topups/{id}", h_update, update_params, 0},
    {"POST", "/v1/topups/{id}/cancel", h_cancel, no_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};

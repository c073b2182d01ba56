/*
 * A customer's credit balance: /v1/customers/{customer}/balance_transactions (create, retrieve,
 * update of description and metadata, list) and customer_balance_apply for invoices. See
 * customer_balance.h for the model.
 *
 * Every move goes through balance_move inside one write: the customer's balance and currency are
 * read, the transaction appended with the balance after it, the customer's row moved from the
 * balance read (a guarded update: it cannot move from any other) and customer.updated appended.
 * A customer's balance has one currency, as Stripe's single-currency balance: the first
 * transaction (or `balance` on the customer) sets it; a transaction in another is refused.
 */
#include "api/customer_balance.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "api/billing_internal.h"
#include "api/common.h"
#include "api/list.h"
#include "api/resources.h"
#include "core/str.h"
#include "http/form.h"
#include "ledger/ledger.h"
#include "money/currency.h"

/* balance_move's refusals (positive: apart from the store's negative codes) */
#define MOVE_CURRENCY 1 /* the customer's balance is in another currency */
#define MOVE_RANGE 2	/* the balance would leave ±CUSTOMER_BALANCE_ABS_MAX */

static const char SQL_CUSTOMER[] = "SELECT balance, currency FROM customers"
				   " WHERE merchant_id = $1 AND id = $2 AND deleted = 0";
/* from the balance read only ($5): a move is computed from what it replaces */
static const char SQL_SET_BALANCE[] =
    "UPDATE customers SET balance = $3, currency = $4"
    " WHERE merchant_id = $1 AND id = $2 AND deleted = 0 AND balance = $5";
static const char SQL_INSERT[] =
    "INSERT INTO customer_balance_transactions (merchant_id, id, created, customer, type,"
    " amount, currency, ending_balance, description, metadata, invoice, credit_note)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
static const char SQL_APPLIED[] =
    "SELECT amount, ending_balance FROM customer_balance_transactions WHERE merchant_id = $1"
    " AND invoice = $2 AND type = 'applied_to_invoice'";
static const char SQL_APPLIED_FULL[] =
    "SELECT amount, currency FROM customer_balance_transactions WHERE merchant_id = $1"
    " AND invoice = $2 AND type = 'applied_to_invoice'";
static const char SQL_GET[] =
    "SELECT id, created, customer, type, amount, currency, ending_balance, description,"
    " metadata, invoice, credit_note FROM customer_balance_transactions"
    " WHERE merchant_id = $1 AND id = $2";
static const char SQL_UPDATE[] =
    "UPDATE customer_balance_transactions SET description = $4, metadata = $5"
    " WHERE merchant_id = $1 AND id = $2 AND customer = $3";

struct move {
	const char *id; /* cbtxn_… */
	const char *customer, *type, *currency, *description, *metadata, *invoice;
	const char *credit_note; /* a credit note's credit (or its void), else NULL */
	int64_t amount;
};

static int txn_insert(struct db *db, const char *merchant_id, const struct move *m, int64_t ending,
		      int64_t now)
{
	struct db_stmt *st = db_prepare(db, SQL_INSERT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, m->id, -1);
	db_bind_int64(st, 3, now);
	db_bind_text(st, 4, m->customer, -1);
	db_bind_text(st, 5, m->type, -1);
	db_bind_int64(st, 6, m->amount);
	db_bind_text(st, 7, m->currency, -1);
	db_bind_int64(st, 8, ending);
	db_bind_text(st, 9, m->description, -1);
	db_bind_text(st, 10, m->metadata ? m->metadata : "{}", -1);
	db_bind_text(st, 11, m->invoice, -1);
	db_bind_text(st, 12, m->credit_note, -1);
	return db_step_done(st);
}

/* The customer's balance and currency ("" when it has none). DB_OK, DB_NOTFOUND (no such
 * customer, or deleted) or < 0. */
static int customer_balance_load(struct db *db, const char *merchant_id, const char *customer,
				 int64_t *ret_balance, char ret_currency[8])
{
	struct db_stmt *st = db_prepare(db, SQL_CUSTOMER);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, customer, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		*ret_balance = db_col_int64(st, 0);
		const char *c = db_col_text(st, 1, NULL);
		str_copy(ret_currency, 8, c ? c : "");
	}
	db_reset(st);
	if (rc == DB_ROW)
		return DB_OK;
	return rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
}

/* Moves the customer's balance by m->amount (see the file's comment). DB_OK, DB_NOTFOUND,
 * MOVE_CURRENCY, MOVE_RANGE or < 0; *ret_ending: the balance after it. */
static int balance_move(struct db *db, struct arena *a, const char *merchant_id,
			const struct move *m, int64_t now, const struct event_origin *o,
			int64_t *ret_ending)
{
	int64_t balance = 0, ending;
	char cur[8];
	int rc = customer_balance_load(db, merchant_id, m->customer, &balance, cur);
	if (rc != DB_OK)
		return rc;
	if (cur[0] && strcmp(cur, m->currency) != 0)
		return MOVE_CURRENCY;
	if (__builtin_add_overflow(balance, m->amount, &ending) ||
	    ending > CUSTOMER_BALANCE_ABS_MAX || ending < -CUSTOMER_BALANCE_ABS_MAX)
		return MOVE_RANGE;
	rc = txn_insert(db, merchant_id, m, ending, now);
	if (rc != DB_OK)
		return rc;
	struct db_stmt *st = db_prepare(db, SQL_SET_BALANCE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, m->customer, -1);
	db_bind_int64(st, 3, ending);
	db_bind_text(st, 4, m->currency, -1);
	db_bind_int64(st, 5, balance);
	int64_t changed = 0;
	rc = db_step_changes(st, &changed);
	if (rc != DB_OK)
		return rc;
	if (changed != 1)
		return DB_CONFLICT;
	char prev[96];
	if (cur[0])
		snprintf(prev, sizeof(prev), "{\"balance\":%lld}", (long long)balance);
	else
		snprintf(prev, sizeof(prev), "{\"balance\":%lld,\"currency\":null}",
			 (long long)balance);
	rc = customer_updated_event(db, a, merchant_id, m->customer, prev, now, o);
	if (rc != DB_OK)
		return rc;
	*ret_ending = ending;
	return DB_OK;
}

int customer_balance_default_currency(struct db *db, const char *merchant_id, char ret[8])
{
	struct ledger_pricing p;
	char cur[8];
	int rc = ledger_pricing_get(db, merchant_id, &p, cur);
	if (rc != DB_OK)
		return rc;
	str_copy(ret, 8, cur);
	return DB_OK;
}

int customer_balance_txn_record(struct db *db, const char *merchant_id, const char *customer,
				int64_t amount, const char *currency, int64_t ending_balance,
				int64_t now)
{
	char id[ID_MAX];
	id_new_at(id, CUSTOMER_BALANCE_TXN_PREFIX, now);
	struct move m = {.id = id,
			 .customer = customer,
			 .type = "adjustment",
			 .currency = currency,
			 .amount = amount};
	return txn_insert(db, merchant_id, &m, ending_balance, now);
}

/* What an invoice of `total` does to a balance it takes (same currency): the balance after it
 * and what the invoice then asks for. Both are bounded (±CUSTOMER_BALANCE_ABS_MAX and the
 * invoice's own bound), so the sum is checked only for form. DB_OK or DB_ERR. */
static int split(int64_t balance, int64_t total, int64_t *ret_ending, int64_t *ret_due)
{
	int64_t sum;
	if (total == 0) {
		/* an invoice of nothing (a trial's) is not one a balance is applied to: a debit
		 * waits for an invoice that charges, a credit for one it can pay */
		*ret_ending = balance;
		*ret_due = 0;
		return DB_OK;
	}
	if (__builtin_add_overflow(balance, total, &sum))
		return DB_ERR;
	*ret_ending = sum < 0 ? sum : 0;
	*ret_due = sum > 0 ? sum : 0;
	return DB_OK;
}

/* the balance is in the invoice's currency, or in none yet (it then takes the invoice's) */
static bool same_currency(const char *cur, const char *currency)
{
	return !cur[0] || strcmp(cur, currency) == 0;
}

int customer_balance_preview(struct db *db, const char *merchant_id, const char *customer,
			     const char *currency, int64_t total, int64_t *ret_starting,
			     int64_t *ret_amount_due)
{
	int64_t balance = 0, ending;
	char cur[8] = "";
	int rc = customer_balance_load(db, merchant_id, customer, &balance, cur);
	if (rc == DB_NOTFOUND || (rc == DB_OK && !same_currency(cur, currency)))
		balance = 0;
	else if (rc != DB_OK)
		return rc;
	int64_t due;
	if (split(balance, total, &ending, &due) != DB_OK)
		return DB_ERR;
	*ret_starting = balance;
	*ret_amount_due = due;
	return DB_OK;
}

int customer_balance_apply(struct db *db, const char *merchant_id, const char *customer,
			   const char *currency, const char *invoice, int64_t total, int64_t now,
			   const struct event_origin *origin, int64_t *ret_starting,
			   int64_t *ret_applied)
{
	/* once per invoice: a second call answers what the first applied */
	struct db_stmt *st = db_prepare(db, SQL_APPLIED);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, invoice, -1);
	int rc = db_step(st);
	int64_t done = rc == DB_ROW ? db_col_int64(st, 0) : 0;
	int64_t done_ending = rc == DB_ROW ? db_col_int64(st, 1) : 0;
	db_reset(st);
	if (rc == DB_ROW) {
		*ret_starting = done_ending - done; /* bounded: both within the balance's range */
		*ret_applied = done;
		return 0;
	}
	if (rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	int64_t balance = 0;
	char cur[8];
	rc = customer_balance_load(db, merchant_id, customer, &balance, cur);
	if (rc != DB_OK)
		return rc;
	if (!same_currency(cur, currency)) {
		*ret_starting = 0;
		*ret_applied = 0;
		return CUSTOMER_BALANCE_OTHER_CURRENCY;
	}
	int64_t ending, due;
	if (split(balance, total, &ending, &due) != DB_OK)
		return DB_ERR;
	int64_t applied = ending - balance; /* both within bounds */
	if (applied == 0) {
		*ret_starting = balance;
		*ret_applied = 0;
		return 0;
	}
	char id[ID_MAX];
	id_new_at(id, CUSTOMER_BALANCE_TXN_PREFIX, now);
	struct move m = {.id = id,
			 .customer = customer,
			 .type = "applied_to_invoice",
			 .currency = currency,
			 .invoice = invoice,
			 .amount = applied};
	struct arena a;
	arena_init(&a, 4u << 20);
	int64_t after = 0;
	rc = balance_move(db, &a, merchant_id, &m, now, origin, &after);
	arena_release(&a);
	/* a positive refusal: a credit invoice that would take the balance beyond its bound */
	if (rc != DB_OK)
		return rc > 0 ? DB_ERR : rc;
	*ret_starting = balance;
	*ret_applied = applied;
	return 0;
}

static const char SQL_TOO_SMALL_DONE[] =
    "SELECT 1 FROM customer_balance_transactions WHERE merchant_id = $1 AND invoice = $2"
    " AND type = 'invoice_too_small'";

int customer_balance_too_small(struct db *db, const char *merchant_id, const char *customer,
			       const char *currency, const char *invoice, int64_t amount,
			       int64_t now, const struct event_origin *origin)
{
	/* once per invoice */
	struct db_stmt *st = db_prepare(db, SQL_TOO_SMALL_DONE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, invoice, -1);
	int rc = db_step(st);
	db_reset(st);
	if (rc == DB_ROW)
		return 0;
	if (rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	char id[ID_MAX];
	id_new_at(id, CUSTOMER_BALANCE_TXN_PREFIX, now);
	struct move m = {.id = id,
			 .customer = customer,
			 .type = "invoice_too_small",
			 .currency = currency,
			 .invoice = invoice,
			 .amount = amount};
	struct arena a;
	arena_init(&a, 4u << 20);
	int64_t after = 0;
	rc = balance_move(db, &a, merchant_id, &m, now, origin, &after);
	arena_release(&a);
	if (rc == MOVE_CURRENCY || rc == MOVE_RANGE)
		return CUSTOMER_BALANCE_OTHER_CURRENCY;
	return rc == DB_OK ? 0 : rc > 0 ? DB_ERR : rc;
}

static const char SQL_UNAPPLIED[] =
    "SELECT COUNT(*) FROM customer_balance_transactions WHERE merchant_id = $1 AND invoice = $2"
    " AND type = 'unapplied_from_invoice'";

int customer_balance_unapply(struct db *db, const char *merchant_id, const char *customer,
			     const char *invoice, int64_t now, const struct event_origin *origin,
			     int64_t *ret_returned)
{
	*ret_returned = 0;
	int64_t applied = 0, returned = 0;
	char cur[8] = "";
	struct db_stmt *st = db_prepare(db, SQL_APPLIED_FULL);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, invoice, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		applied = db_col_int64(st, 0);
		const char *c = db_col_text(st, 1, NULL);
		str_copy(cur, sizeof(cur), c ? c : "");
	}
	db_reset(st);
	if (rc == DB_DONE)
		return 0; /* it took nothing */
	if (rc != DB_ROW)
		return rc < 0 ? rc : DB_ERR;
	st = db_prepare(db, SQL_UNAPPLIED);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, invoice, -1);
	rc = db_step(st);
	returned = rc == DB_ROW ? db_col_int64(st, 0) : -1;
	db_reset(st);
	if (returned < 0)
		return rc < 0 ? rc : DB_ERR;
	if (returned > 0 || applied == 0)
		return 0;
	char id[ID_MAX];
	id_new_at(id, CUSTOMER_BALANCE_TXN_PREFIX, now);
	struct move m = {.id = id,
			 .customer = customer,
			 .type = "unapplied_from_invoice",
			 .currency = cur,
			 .invoice = invoice,
			 .amount = -applied};
	struct arena a;
	arena_init(&a, 4u << 20);
	int64_t after = 0;
	rc = balance_move(db, &a, merchant_id, &m, now, origin, &after);
	arena_release(&a);
	if (rc == DB_NOTFOUND)
		return 0; /* the customer is gone, and its balance with it */
	if (rc != DB_OK)
		return rc > 0 ? DB_ERR : rc;
	*ret_returned = -applied;
	return 0;
}

int customer_balance_credit_note(struct db *db, const char *merchant_id, const char *customer,
				 const char *currency, const char *credit_note, const char *invoice,
				 int64_t amount, int64_t now, const struct event_origin *origin,
				 char ret_id[ID_MAX])
{
	char id[ID_MAX];
	id_new_at(id, CUSTOMER_BALANCE_TXN_PREFIX, now);
	struct move m = {.id = id,
			 .customer = customer,
			 .type = "credit_note",
			 .currency = currency,
			 .invoice = invoice,
			 .credit_note = credit_note,
			 .amount = amount};
	struct arena a;
	arena_init(&a, 4u << 20);
	int64_t after = 0;
	int rc = balance_move(db, &a, merchant_id, &m, now, origin, &after);
	arena_release(&a);
	if (rc == MOVE_CURRENCY || rc == MOVE_RANGE)
		return CUSTOMER_BALANCE_OTHER_CURRENCY;
	if (rc != DB_OK)
		return rc > 0 ? DB_ERR : rc;
	str_copy(ret_id, ID_MAX, id);
	return 0;
}

/* ---- rendering ---- */

struct txn {
	const char *id, *customer, *type, *currency, *description, *metadata, *invoice;
	const char *credit_note;
	int64_t created, amount, ending_balance;
};

static int txn_load(struct req *r, struct db *db, const char *id, struct txn *t)
{
	struct db_stmt *st = db_prepare(db, SQL_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		memset(t, 0, sizeof(*t));
		t->id = col_text_dup(&r->arena, st, 0);
		t->created = db_col_int64(st, 1);
		t->customer = col_text_dup(&r->arena, st, 2);
		t->type = col_text_dup(&r->arena, st, 3);
		t->amount = db_col_int64(st, 4);
		t->currency = col_text_dup(&r->arena, st, 5);
		t->ending_balance = db_col_int64(st, 6);
		t->description = col_text_dup(&r->arena, st, 7);
		t->metadata = col_text_dup(&r->arena, st, 8);
		t->invoice = col_text_dup(&r->arena, st, 9);
		t->credit_note = col_text_dup(&r->arena, st, 10);
		if (!t->id || !t->customer || !t->type || !t->currency || !t->metadata)
			rc = DB_ERR;
	}
	db_reset(st);
	if (rc == DB_ROW)
		return DB_OK;
	return rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
}

/* prefix: where the transaction sits in the answer (NULL: the answer, "data": a list), for
 * expand[]=customer. */
static int txn_render(struct req *r, struct db *db, const struct txn *t, const char *prefix,
		      struct json *j)
{
	char path[64];
	snprintf(path, sizeof(path), "%s%scustomer", prefix ? prefix : "", prefix ? "." : "");
	json_obj_open(j);
	json_kv_str(j, "id", t->id);
	json_kv_str(j, "object", "customer_balance_transaction");
	json_kv_int(j, "amount", t->amount);
	json_kv_null(j, "checkout_session");
	json_kv_int(j, "created", t->created);
	json_kv_str_or_null(j, "credit_note", t->credit_note);
	json_kv_str(j, "currency", t->currency);
	json_key(j, "customer");
	if (req_expand_has(r, path)) {
		int rc = customer_render_by_id(r, db, t->customer, j);
		if (rc != DB_OK)
			return rc;
	} else {
		json_str(j, t->customer);
	}
	json_kv_null(j, "customer_account");
	json_kv_str_or_null(j, "description", t->description);
	json_kv_int(j, "ending_balance", t->ending_balance);
	json_kv_str_or_null(j, "invoice", t->invoice);
	json_kv_bool(j, "livemode", r->livemode);
	json_kv_raw(j, "metadata", t->metadata, strlen(t->metadata));
	json_kv_str(j, "type", t->type);
	json_obj_close(j);
	return DB_OK;
}

/* ---- the routes ---- */

static const struct param_spec create_params[] = {
    {"amount", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {"currency", PT_CURRENCY, PF_REQUIRED, 0, NULL, NULL},
    {"description", PT_STRING, PF_EMPTYABLE, 350, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec update_params[] = {
    {"description", PT_STRING, PF_EMPTYABLE, 350, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

struct ctx {
	struct req *r;
	const char *customer, *id;
	struct move m;
	char *id_buf; /* create: m.id, made in the write (at the customer's time) */
};

/* The transaction in the path is one of the customer's (which exists). */
static int load_owned(struct db *db, struct ctx *x, struct txn *t)
{
	struct req *r = x->r;
	if (customer_check(r, db, x->customer) != 0)
		return -1;
	int rc = txn_load(r, db, x->id, t);
	if (rc == DB_NOTFOUND || (rc == DB_OK && strcmp(t->customer, x->customer) != 0))
		return req_fail_missing(r, "customer_balance_transaction", x->id, "transaction");
	return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static int answer(struct req *r, struct db *db, const char *id)
{
	struct txn t;
	if (txn_load(r, db, id, &t) != DB_OK || txn_render(r, db, &t, NULL, req_json(r)) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

static int create_fn(struct db *db, void *p)
{
	struct ctx *x = p;
	struct req *r = x->r;
	if (customer_check(r, db, x->customer) != 0)
		return -1;
	/* a customer on a test clock has its transactions at the clock's time, as its invoices'
	 * are: its balance's history sorts in the order it happened */
	struct billing_customer bc;
	int64_t now;
	if (billing_customer_get(r, db, x->customer, &bc) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (billing_now(r, db, bc.test_clock, &now) != 0)
		return -1;
	id_new_at(x->id_buf, CUSTOMER_BALANCE_TXN_PREFIX, now);
	struct event_origin o = {r->request_id, r->idempotency_key, r->livemode};
	int64_t ending = 0;
	int rc = balance_move(db, &r->arena, r->merchant_id, &x->m, now, &o, &ending);
	if (rc == MOVE_CURRENCY) {
		int64_t bal = 0;
		char cur[8] = "";
		customer_balance_load(db, r->merchant_id, x->customer, &bal, cur);
		return req_fail(
		    r, ERR_INVALID_CURRENCY, "currency",
		    "The customer's balance is in %s: a balance transaction in %s "
		    "cannot be added to it. A customer's balance has a single currency.",
		    cur, x->m.currency);
	}
	if (rc == MOVE_RANGE)
		return req_fail(r, ERR_PARAM_BAD, "amount",
				"This transaction would take the customer's balance beyond %lld "
				"(in either direction).",
				(long long)CUSTOMER_BALANCE_ABS_MAX);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return answer(r, db, x->m.id);
}

static int h_create(struct req *r)
{
	struct ctx x = {.r = r, .customer = r->args[0]};
	int64_t amount = 0;
	param_int(r, "amount", &amount);
	if (amount == 0 || amount > CUSTOMER_BALANCE_ABS_MAX || amount < -CUSTOMER_BALANCE_ABS_MAX)
		return req_fail(r, ERR_PARAM_BAD, "amount",
				"Invalid amount: a balance transaction's amount must be a non-zero "
				"integer of at most %lld in absolute value.",
				(long long)CUSTOMER_BALANCE_ABS_MAX);
	char *cur = arena_strdup(&r->arena, param_str(r, "currency"));
	if (!cur)
		return req_fail(r, ERR_API, NULL, NULL);
	for (char *c = cur; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	if (!currency_find(cur))
		return req_fail(r, ERR_INVALID_CURRENCY, "currency", "Invalid currency: %s.", cur);
	const char *md = "{}";
	if (metadata_apply(r, NULL, "metadata", &md) != 0)
		return -1;
	const char *desc = param_str(r, "description");
	char *id = arena_zalloc(&r->arena, ID_MAX);
	if (!id)
		return req_fail(r, ERR_API, NULL, NULL);
	x.id_buf = id;
	x.m = (struct move){.id = id,
			    .customer = x.customer,
			    .type = "adjustment",
			    .currency = cur,
			    .description = desc && *desc ? desc : NULL,
			    .metadata = md,
			    .amount = amount};
	return req_write(r, create_fn, &x);
}

static int retrieve_fn(struct db *db, void *p)
{
	struct ctx *x = p;
	struct txn t;
	if (load_owned(db, x, &t) != 0)
		return -1;
	return txn_render(x->r, db, &t, NULL, req_json(x->r)) == DB_OK
		   ? 0
		   : req_fail(x->r, ERR_API, NULL, NULL);
}

static int h_retrieve(struct req *r)
{
	struct ctx x = {.r = r, .customer = r->args[0], .id = r->args[1]};
	return req_read(r, retrieve_fn, &x) == 0 ? 0 : -1;
}

/* description and metadata only: the amounts are the balance's history */
static int update_fn(struct db *db, void *p)
{
	struct ctx *x = p;
	struct req *r = x->r;
	struct txn t;
	if (load_owned(db, x, &t) != 0)
		return -1;
	const char *desc = str_update(r, "description", t.description);
	const char *md = t.metadata;
	if (metadata_apply(r, t.metadata, "metadata", &md) != 0)
		return -1;
	struct db_stmt *st = db_prepare(db, SQL_UPDATE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, x->id, -1);
	db_bind_text(st, 3, x->customer, -1);
	db_bind_text(st, 4, desc, -1);
	db_bind_text(st, 5, md, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return answer(r, db, x->id);
}

static int h_update(struct req *r)
{
	struct ctx x = {.r = r, .customer = r->args[0], .id = r->args[1]};
	return req_write(r, update_fn, &x);
}

static const char SQL_CURSOR[] =
    "SELECT created FROM customer_balance_transactions WHERE merchant_id = $1 AND id = $2";
static const char SQL_DESC[] =
    "SELECT id FROM customer_balance_transactions WHERE merchant_id = $1 AND id > $2"
    " AND id < $3 AND customer = $5 ORDER BY id DESC LIMIT $4";
static const char SQL_ASC[] =
    "SELECT id FROM customer_balance_transactions WHERE merchant_id = $1 AND id > $2"
    " AND id < $3 AND customer = $5 ORDER BY id ASC LIMIT $4";

static int list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	db_bind_text(st, first, r->args[0], -1);
	return 0;
}

static int list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	struct txn t;
	int rc = txn_load(r, db, id, &t);
	return rc == DB_OK ? txn_render(r, db, &t, "data", j) : rc;
}

static int h_list(struct req *r)
{
	if (customer_check_read(r, r->args[0]) != 0)
		return -1;
	const char *url =
	    arena_printf(&r->arena, "/v1/customers/%s/balance_transactions", r->args[0]);
	if (!url)
		return req_fail(r, ERR_API, NULL, NULL);
	const struct list_spec spec = {
	    .url = url,
	    .object_name = "customer_balance_transaction",
	    .id_prefix = CUSTOMER_BALANCE_TXN_PREFIX,
	    .sql_cursor = SQL_CURSOR,
	    .sql_desc = SQL_DESC,
	    .sql_asc = SQL_ASC,
	    .bind_filters = list_bind,
	    .render = list_render,
	};
	return list_respond(r, &spec);
}

const struct route customer_balance_routes[] = {
    {"POST", "/v1/customers/{customer}/balance_transactions", h_create, create_params, 0},
    {"GET", "/v1/customers/{customer}/balance_transactions", h_list, no_params, ROUTE_LIST},
    {"GET", "/v1/customers/{customer}/balance_transactions/{transaction}", h_retrieve, no_params,
     0},
    {"POST", "/v1/customers/{customer}/balance_transactions/{transaction}", h_update, update_params,
     0},
    {NULL, NULL, NULL, NULL, 0},
};

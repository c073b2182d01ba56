/*
 * /v1/payouts: create, retrieve, update (metadata), list, cancel; the scheduler pays them.
 *
 * A payout takes its amount from the available balance at once (ledger_payout: a "payout"
 * balance transaction and DR merchant_available / CR payouts_in_transit), and is refused with
 * balance_insufficient when the available balance in its currency is smaller. In test mode the
 * bank answers PAYOUT_TEST_ARRIVAL_S seconds later: the scheduler moves the payout to paid
 * (DR payouts_in_transit / CR paid_out, payout.paid) at its arrival_date. A pending payout can be
 * canceled: its funds come back (a "payout_cancel" balance transaction, payout.canceled).
 *
 * The balance check and its guard against two draws spending one balance (payouts and
 * transfers share it) are api/draw.h's.
 *
 * A payout goes to the external account its `destination` names (a bank account ba_… or a debit
 * card card_… of the account, in the payout's currency), else to the default external account
 * of its currency (external_accounts.h); one made while the account has none there keeps
 * destination null (Tender still pays it, as it always has). When that account is one of
 * Stripe's test numbers that fail, the bank's answer at arrival_date is a failure instead:
 * status failed with Stripe's failure_code, the funds back in the available balance
 * ("payout_failure" balance transaction), payout.failed, and the bank account `errored`
 * (account.external_account.updated) until its details are updated, as on Stripe.
 *
 * method=instant goes to a debit card only (a bank account: instant_payouts_unsupported), in
 * usd, and arrives at once (arrival_date = created; the scheduler pays it at its next tick).
 * Stripe charges for it: 1.5 % of the amount, at least 0.50 (ledger_payout.h). The fee is a
 * balance transaction of its own (stripe_fee, source the payout), made with the payout, so the
 * balance check covers amount + fee. A card payout is never returned in Tender's test mode (no
 * failing test card), so an instant payout never fails; and it cannot be canceled once made,
 * nor can an automatic one (the account's schedule made it), as on Stripe.
 *
 * A connected account's paid standard payout to a bank account can be reversed (POST
 * /v1/payouts/{id}/reverse, within 90 days of its arrival, once): the bank account is debited
 * back. The reversal is a payout of its own with the negative amount, naming the payout it
 * reverses (original_payout; that one names it in reversed_by, with payout.updated). Its money
 * is back in the available balance at once (ledger_payout_reversal: a "payout" balance
 * transaction of +amount, reporting category payout_reversal), and the scheduler marks it paid at
 * its arrival_date like any payout (the account it debits has just been paid, so it pays).
 */
#include <stdio.h>
#include <string.h>

#include "api/common.h"
#include "api/draw.h"
#include "api/external_accounts.h"
#include "api/list.h"
#include "api/payout_schedule.h"
#include "api/resources.h"
#include "core/str.h"
#include "events/events.h"
#include "ledger/ledger.h"
#include "ledger/ledger_payout.h"
#include "money/currency.h"
#include "store/store.h"
#include "scheduler/scheduler.h"

#define PAYOUT_TEST_ARRIVAL_S 2
#define REVERSAL_WINDOW_S (90 * 86400) /* Stripe: arrived less than 90 days ago */
#define SETTLE_BATCH 64

struct payout {
	char id[ID_MAX];
	int64_t created, amount, arrival_date;
	char currency[8];
	const char *status, *description, *statement_descriptor, *metadata;
	const char *balance_transaction, *failure_balance_transaction;
	const char *destination, *failure_code;
	const char *method, *type;	     /* standard | instant; bank_account | card */
	bool automatic;			     /* made by the account's payout schedule */
	const char *fee_balance_transaction; /* an instant payout's fee (NULL: none) */
	/* a reversal names the payout it reverses; that one names its reversal */
	const char *original_payout, *reversed_by;
	const char *payout_method; /* the external account asked for by that name (NULL: none) */
};

static const char SQL_GET[] =
    "SELECT id, created, amount, currency, status, arrival_date, description,"
    " statement_descriptor, metadata, balance_transaction, failure_balance_transaction,"
    " destination, failure_code, method, type, automatic, fee_balance_transaction,"
    " original_payout, reversed_by, payout_method FROM payouts WHERE merchant_id = $1"
    " AND id = $2";
static const char SQL_INSERT[] =
    "INSERT INTO payouts (merchant_id, id, created, amount, currency, status, arrival_date,"
    " description, statement_descriptor, metadata, balance_transaction, settle_at,"
    " destination, method, type, automatic, fee_balance_transaction, original_payout,"
    " payout_method) VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8, $9, $10, $6, $11, $12,"
    " $13, $14, $15, $16, $17)";
/* a status change only from the status it was read in, so the scheduler and a cancel never
 * both move one payout */
static const char SQL_TRANSITION[] =
    "UPDATE payouts SET status = $4, failure_balance_transaction = $5, settle_at = NULL,"
    " failure_code = $6 WHERE merchant_id = $1 AND id = $2 AND status = $3";
static const char SQL_METADATA[] =
    "UPDATE payouts SET metadata = $3 WHERE merchant_id = $1 AND id = $2";

static int payout_load(struct db *db, struct arena *a, const char *merchant_id, const char *id,
		       struct payout *p)
{
	struct db_stmt *st = db_prepare(db, SQL_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		memset(p, 0, sizeof(*p));
		str_copy(p->id, sizeof(p->id), db_col_text(st, 0, NULL));
		p->created = db_col_int64(st, 1);
		p->amount = db_col_int64(st, 2);
		str_copy(p->currency, sizeof(p->currency), db_col_text(st, 3, NULL));
		p->status = col_text_dup(a, st, 4);
		p->arrival_date = db_col_int64(st, 5);
		p->description = col_text_dup(a, st, 6);
		p->statement_descriptor = col_text_dup(a, st, 7);
		p->metadata = col_text_dup(a, st, 8);
		p->balance_transaction = col_text_dup(a, st, 9);
		p->failure_balance_transaction = col_text_dup(a, st, 10);
		p->destination = col_text_dup(a, st, 11);
		p->failure_code = col_text_dup(a, st, 12);
		p->method = col_text_dup(a, st, 13);
		p->type = col_text_dup(a, st, 14);
		p->automatic = db_col_int64(st, 15) != 0;
		p->fee_balance_transaction = col_text_dup(a, st, 16);
		p->original_payout = col_text_dup(a, st, 17);
		p->reversed_by = col_text_dup(a, st, 18);
		p->payout_method = col_text_dup(a, st, 19);
		if (!p->status || !p->metadata || !p->balance_transaction || !p->method || !p->type)
			rc = DB_ERR;
	}
	db_reset(st);
	if (rc == DB_ROW)
		return DB_OK;
	return rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
}

static int render_bt_cb(void *ctx, struct db *db, const char *id, struct json *j)
{
	const char *merchant_id = ctx;
	return ledger_balance_txn_render(db, merchant_id, id, j);
}

/* A field that is a balance transaction id, or the transaction itself when expanded. */
static int bt_field(struct json *j, struct db *db, const char *merchant_id, const char *key,
		    const char *id, bool expand)
{
	json_key(j, key);
	if (!id) {
		json_nil(j);
		return DB_OK;
	}
	if (expand && db) {
		int rc = render_bt_cb((void *)merchant_id, db, id, j);
		if (rc != DB_NOTFOUND)
			return rc;
	}
	json_str(j, id);
	return DB_OK;
}

static int payout_render(struct db *db, const char *merchant_id, int livemode,
			 const struct payout *p, const char *expand_prefix, struct req *r,
			 struct json *j)
{
	char path[96];
	bool ex_bt = false, ex_fbt = false, ex_dest = false;
	if (r && db) {
		snprintf(path, sizeof(path), "%sbalance_transaction", expand_prefix);
		ex_bt = req_expand_has(r, path);
		snprintf(path, sizeof(path), "%sfailure_balance_transaction", expand_prefix);
		ex_fbt = req_expand_has(r, path);
		snprintf(path, sizeof(path), "%sdestination", expand_prefix);
		ex_dest = req_expand_has(r, path);
	}
	json_obj_open(j);
	json_kv_str(j, "id", p->id);
	json_kv_str(j, "object", "payout");
	json_kv_int(j, "amount", p->amount);
	json_kv_null(j, "application_fee");
	json_kv_null(j, "application_fee_amount");
	json_kv_int(j, "arrival_date", p->arrival_date);
	json_kv_bool(j, "automatic", p->automatic);
	int rc = bt_field(j, db, merchant_id, "balance_transaction", p->balance_transaction, ex_bt);
	if (rc != DB_OK)
		return rc;
	json_kv_int(j, "created", p->created);
	json_kv_str(j, "currency", p->currency);
	json_kv_str_or_null(j, "description", p->description);
	json_key(j, "destination");
	rc = DB_NOTFOUND;
	if (p->destination && ex_dest)
		rc = external_account_render(db, merchant_id, p->destination, j);
	if (rc == DB_NOTFOUND)
		json_str_or_null(j, p->destination);
	else if (rc != DB_OK)
		return rc;
	rc = bt_field(j, db, merchant_id, "failure_balance_transaction",
		      p->failure_balance_transaction, ex_fbt);
	if (rc != DB_OK)
		return rc;
	json_kv_str_or_null(j, "failure_code", p->failure_code);
	json_kv_str_or_null(j, "failure_message",
			    p->failure_code ? external_account_failure_message(p->failure_code)
					    : NULL);
	json_kv_bool(j, "livemode", livemode);
	json_kv_raw(j, "metadata", p->metadata, strlen(p->metadata));
	json_kv_str(j, "method", p->method);
	json_kv_str_or_null(j, "original_payout", p->original_payout);
	/* Stripe names a v2 FinancialAccount here; Tender has none, so it is the external account
	 * the payout was asked to go to under this name (its destination too) */
	json_kv_str_or_null(j, "payout_method", p->payout_method);
	json_kv_str(j, "reconciliation_status", "not_applicable");
	json_kv_str_or_null(j, "reversed_by", p->reversed_by);
	json_kv_str(j, "source_type", "card");
	json_kv_str_or_null(j, "statement_descriptor", p->statement_descriptor);
	json_kv_str(j, "status", p->status);
	json_kv_null(j, "trace_id"); /* no network trace ids: Tender's banks are simulated */
	json_kv_str(j, "type", p->type);
	json_obj_close(j);
	return DB_OK;
}

/* Appends a payout.* event with p as it is now (nothing expanded). */
static int emit(struct db *db, const char *merchant_id, const struct event_origin *o,
		const struct payout *p, const char *type, const char *prev, int64_t now)
{
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 20);
	json_init(&j, &b);
	int rc = payout_render(NULL, merchant_id, o->livemode, p, "", NULL, &j);
	if (rc == DB_OK && b.failed)
		rc = DB_ERR;
	if (rc == DB_OK)
		rc = event_append(db, merchant_id, o, type, p->id, b.data, b.len, prev, now, NULL);
	buf_release(&b);
	return rc;
}

static int respond(struct req *r, struct db *db, const struct payout *p)
{
	return payout_render(db, r->merchant_id, r->livemode, p, "", r, req_json(r)) == DB_OK
		   ? 0
		   : req_fail(r, ERR_API, NULL, NULL);
}

/* ---- create ---- */

/* The payouts row of p, pending until its arrival_date (settle_at). */
static int payout_insert(struct db *db, const char *merchant_id, const struct payout *p)
{
	struct db_stmt *st = db_prepare(db, SQL_INSERT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, p->id, -1);
	db_bind_int64(st, 3, p->created);
	db_bind_int64(st, 4, p->amount);
	db_bind_text(st, 5, p->currency, -1);
	db_bind_int64(st, 6, p->arrival_date);
	db_bind_text(st, 7, p->description, -1);
	db_bind_text(st, 8, p->statement_descriptor, -1);
	db_bind_text(st, 9, p->metadata, -1);
	db_bind_text(st, 10, p->balance_transaction, -1);
	db_bind_text(st, 11, p->destination, -1);
	db_bind_text(st, 12, p->method, -1);
	db_bind_text(st, 13, p->type, -1);
	db_bind_int64(st, 14, p->automatic);
	db_bind_text(st, 15, p->fee_balance_transaction, -1);
	db_bind_text(st, 16, p->original_payout, -1);
	db_bind_text(st, 17, p->payout_method, -1);
	return db_step_done(st);
}

static const struct param_spec create_params[] = {
    {"amount", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {"currency", PT_CURRENCY, PF_REQUIRED, 0, NULL, NULL},
    {"description", PT_STRING, 0, 5000, NULL, NULL},
    {"destination", PT_STRING, 0, 255, NULL, NULL},
    {"payout_method", PT_STRING, 0, 255, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"statement_descriptor", PT_STRING, 0, 22, NULL, NULL},
    {"method", PT_ENUM, 0, 0, (const char *const[]){"standard", "instant", NULL}, NULL},
    /* Tender keeps one balance per currency, from card payments */
    {"source_type", PT_ENUM, 0, 0, (const char *const[]){"card", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

struct create_ctx {
	struct req *r;
	struct payout p;
	int64_t fee; /* an instant payout's fee, else 0 */
	struct draw draw;
};

/* In the draw's read: the external account the payout goes to (the one `destination` or
 * `payout_method` names, else the currency's default, else none), and whether it takes the
 * payout's method. */
static int destination_fn(struct db *db, void *arg)
{
	struct create_ctx *c = arg;
	struct req *r = c->r;
	struct payout *p = &c->p;
	const char *named = param_str(r, "destination");
	const char *pm = param_str(r, "payout_method");
	const char *param = "destination";
	bool by_method = pm && *pm;
	if (by_method) {
		if (named && *named)
			return req_fail(
			    r, ERR_PARAM_BAD, "payout_method",
			    "You may only specify one of these parameters: destination, "
			    "payout_method.");
		named = pm;
		param = "payout_method";
	}
	p->payout_method = NULL;
	char id[ID_MAX] = "", failure[32];
	if (named && *named) {
		str_copy(id, sizeof(id), named);
	} else {
		int rc = external_account_default(db, r->merchant_id, p->currency, id, failure);
		if (rc != DB_OK && rc != DB_NOTFOUND)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	struct ea_brief b;
	bool found = false;
	if (id[0]) {
		int rc = external_account_brief(db, r->merchant_id, id, &b);
		if (rc != DB_OK && rc != DB_NOTFOUND)
			return req_fail(r, ERR_API, NULL, NULL);
		found = rc == DB_OK && !b.deleted;
		if (!found && by_method)
			return req_fail(r, ERR_RESOURCE_MISSING, param,
					"No such payout method: '%s': it must be one of this "
					"account's external accounts (a bank account or a card).",
					id);
		if (!found)
			return req_fail(r, ERR_RESOURCE_MISSING, "destination",
					"No such external account: '%s'", id);
		if (strcmp(b.currency, p->currency) != 0)
			return req_fail(r, ERR_PARAM_BAD, param,
					"The destination %s takes payouts in %s, not %s.", id,
					b.currency, p->currency);
	}
	p->destination = found ? arena_strdup(&r->arena, b.id) : NULL;
	if (by_method)
		p->payout_method = p->destination;
	p->type = found && strcmp(b.object, "card") == 0 ? "card" : "bank_account";
	if (strcmp(p->method, "instant") == 0 && !(found && b.instant))
		return req_fail(r, ERR_INSTANT_PAYOUTS_UNSUPPORTED, "method",
				found
				    ? "%s does not support instant payouts: they go to a debit "
				      "card. Provide a debit card, or use method=standard."
				    : "%sInstant payouts go to a debit card: this account has none "
				      "in this currency.",
				found ? b.id : "");
	return 0;
}

static int create_fn(struct db *db, void *arg)
{
	struct create_ctx *c = arg;
	struct req *r = c->r;
	struct payout *p = &c->p;
	if (draw_claim(db, &c->draw) != 0)
		return -1;
	char bt[ID_MAX], fee_bt[ID_MAX];
	int rc = ledger_payout(db, r->merchant_id, p->id, p->amount, p->currency, r->now, bt);
	if (rc == DB_OK && c->fee > 0)
		rc = ledger_payout_fee(db, r->merchant_id, p->id, c->fee, p->currency, r->now,
				       fee_bt);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	p->balance_transaction = arena_strdup(&r->arena, bt);
	p->fee_balance_transaction = c->fee > 0 ? arena_strdup(&r->arena, fee_bt) : NULL;
	if (!p->balance_transaction || (c->fee > 0 && !p->fee_balance_transaction) ||
	    payout_insert(db, r->merchant_id, p) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	struct event_origin o = {r->request_id, r->idempotency_key, r->livemode};
	if (emit(db, r->merchant_id, &o, p, "payout.created", NULL, r->now) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return respond(r, db, p);
}

static int h_create(struct req *r)
{
	struct create_ctx c = {.r = r};
	struct payout *p = &c.p;
	if (r->account_payouts_paused)
		return req_fail(r, ERR_PAYOUTS_NOT_ALLOWED, NULL,
				"Payouts have been disabled on this account: its platform "
				"rejected it.");
	int64_t amount = 0;
	param_int(r, "amount", &amount);
	if (amount < 1 || amount > LEDGER_AMOUNT_MAX)
		return req_fail(r, ERR_PARAM_BAD, "amount",
				"Invalid amount: a payout is 1 or more of the currency's smallest "
				"unit.");
	if (param_currency(r, "currency", NULL, p->currency) != 0)
		return -1;
	const char *method = param_str(r, "method");
	p->method = method && strcmp(method, "instant") == 0 ? "instant" : "standard";
	int64_t draw_amount = amount;
	if (strcmp(p->method, "instant") == 0) {
		/* the fee is Stripe's US price: Tender offers instant payouts in usd only */
		if (strcmp(p->currency, "usd") != 0)
			return req_fail(r, ERR_INSTANT_PAYOUTS_CURRENCY_DISABLED, "currency",
					"Instant payouts are not available in %s: Tender makes "
					"them in usd.",
					p->currency);
		if (ledger_instant_payout_fee(amount, &c.fee) != DB_OK ||
		    __builtin_add_overflow(amount, c.fee, &draw_amount) ||
		    draw_amount > LEDGER_AMOUNT_MAX)
			return req_fail(r, ERR_PARAM_BAD, "amount",
					"Invalid amount: too large for an instant payout.");
	}
	id_new_at(p->id, "po_", r->now);
	p->created = r->now;
	p->amount = amount;
	/* an instant payout arrives at once; a standard one when the test bank answers */
	p->arrival_date =
	    strcmp(p->method, "instant") == 0 ? r->now : r->now + PAYOUT_TEST_ARRIVAL_S;
	p->status = "pending";
	p->description = param_str(r, "description");
	p->statement_descriptor = param_str(r, "statement_descriptor");
	p->metadata = "{}";
	if (metadata_apply(r, NULL, "metadata", &p->metadata) != 0)
		return -1;
	/* the balance must cover the fee too */
	c.draw = (struct draw){.currency = p->currency,
			       .amount = draw_amount,
			       .check = destination_fn,
			       .write = create_fn,
			       .ctx = &c};
	return draw_run(r, &c.draw);
}

/* ---- retrieve, update, cancel, list ---- */

struct id_ctx {
	struct req *r;
	const char *id;
	struct payout p;
};

static int load_fn(struct db *db, void *arg)
{
	struct id_ctx *x = arg;
	int rc = payout_load(db, &x->r->arena, x->r->merchant_id, x->id, &x->p);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "payout", x->id, "payout");
	return rc == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

static int retrieve_fn(struct db *db, void *arg)
{
	struct id_ctx *x = arg;
	return load_fn(db, arg) != 0 ? -1 : respond(x->r, db, &x->p);
}

static int h_retrieve(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, retrieve_fn, &x) == 0 ? 0 : -1;
}

static int update_fn(struct db *db, void *arg)
{
	struct id_ctx *x = arg;
	struct req *r = x->r;
	if (load_fn(db, arg) != 0)
		return -1;
	const char *old = x->p.metadata;
	if (metadata_apply(r, old, "metadata", &x->p.metadata) != 0)
		return -1;
	struct db_stmt *st = db_prepare(db, SQL_METADATA);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, x->p.id, -1);
	db_bind_text(st, 3, x->p.metadata, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	struct event_origin o = {r->request_id, r->idempotency_key, r->livemode};
	const char *prev = arena_printf(&r->arena, "{\"metadata\":%s}", old);
	if (!prev || emit(db, r->merchant_id, &o, &x->p, "payout.updated", prev, r->now) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return respond(r, db, &x->p);
}

static int h_update(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, update_fn, &x);
}

/* Moves p from `from` to `to` (conditionally); DB_CONFLICT when it had moved already. */
static int transition(struct db *db, const char *merchant_id, struct payout *p, const char *from,
		      const char *to)
{
	struct db_stmt *st = db_prepare(db, SQL_TRANSITION);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, p->id, -1);
	db_bind_text(st, 3, from, -1);
	db_bind_text(st, 4, to, -1);
	db_bind_text(st, 5, p->failure_balance_transaction, -1);
	db_bind_text(st, 6, p->failure_code, -1);
	int rc = db_step(st);
	int64_t n = rc == DB_DONE ? db_changes(st) : 0;
	db_reset(st);
	if (rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	if (n != 1)
		return DB_CONFLICT;
	p->status = to;
	return DB_OK;
}

static int cancel_fn(struct db *db, void *arg)
{
	struct id_ctx *x = arg;
	struct req *r = x->r;
	if (load_fn(db, arg) != 0)
		return -1;
	struct payout *p = &x->p;
	/* what a payout is comes before where it is: an instant payout is never cancelable, and
	 * the scheduler may already have paid it by the time its cancel arrives */
	if (p->automatic)
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"You cannot cancel automatic payouts: %s was made by the account's "
				"payout schedule.",
				p->id);
	if (strcmp(p->method, "instant") == 0)
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"Instant payouts cannot be canceled: %s was sent at once.", p->id);
	if (strcmp(p->status, "pending") != 0)
		return req_fail(
		    r, ERR_INVALID_STATE, NULL,
		    "Payouts can only be canceled while they are pending; this one is %s.",
		    p->status);
	char bt[ID_MAX];
	if (ledger_payout_cancel(db, r->merchant_id, p->id, p->amount, p->currency, r->now, bt) !=
	    DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	p->failure_balance_transaction = arena_strdup(&r->arena, bt);
	if (!p->failure_balance_transaction ||
	    transition(db, r->merchant_id, p, "pending", "canceled") != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	struct event_origin o = {r->request_id, r->idempotency_key, r->livemode};
	if (emit(db, r->merchant_id, &o, p, "payout.canceled", NULL, r->now) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return respond(r, db, p);
}

static int h_cancel(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, cancel_fn, &x);
}

static const char SQL_REVERSED_BY[] =
    "UPDATE payouts SET reversed_by = $3 WHERE merchant_id = $1 AND id = $2"
    " AND reversed_by IS NULL AND status = 'paid'";

/* Why payout p cannot be reversed (Stripe's conditions), or NULL. */
static const char *unreversible(const struct req *r, const struct payout *p)
{
	if (!r->platform_id[0])
		return "Only a connected account's payouts can be reversed: send this request with "
		       "the Stripe-Account header of the account.";
	if (p->original_payout)
		return "A payout reversal cannot itself be reversed.";
	if (p->reversed_by)
		return "This payout has already been reversed.";
	if (strcmp(p->status, "pending") == 0)
		return "This payout is still pending: cancel it instead of reversing it.";
	if (strcmp(p->status, "paid") != 0)
		return "Only a paid payout can be reversed.";
	if (strcmp(p->method, "instant") == 0 || strcmp(p->type, "bank_account") != 0 ||
	    !p->destination)
		return "Only a standard payout to a bank account can be reversed.";
	if (r->now - p->arrival_date >= REVERSAL_WINDOW_S)
		return "A payout can be reversed only within 90 days of its arrival.";
	return NULL;
}

struct reverse_ctx {
	struct id_ctx x;
	struct payout rev; /* the reversal */
};

static int reverse_fn(struct db *db, void *arg)
{
	struct reverse_ctx *c = arg;
	struct req *r = c->x.r;
	if (load_fn(db, &c->x) != 0)
		return -1;
	struct payout *o = &c->x.p, *v = &c->rev;
	const char *why = unreversible(r, o);
	if (why)
		return req_fail(r, ERR_INVALID_STATE, NULL, "%s", why);
	id_new_at(v->id, "po_", r->now);
	v->created = r->now;
	v->amount = -o->amount;
	str_copy(v->currency, sizeof(v->currency), o->currency);
	v->arrival_date = r->now + PAYOUT_TEST_ARRIVAL_S;
	v->status = "pending";
	v->destination = o->destination;
	v->method = "standard";
	v->type = "bank_account";
	v->original_payout = o->id;
	v->metadata = "{}";
	if (metadata_apply(r, NULL, "metadata", &v->metadata) != 0)
		return -1;
	char bt[ID_MAX];
	struct db_stmt *st = db_prepare(db, SQL_REVERSED_BY);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, o->id, -1);
	db_bind_text(st, 3, v->id, -1);
	int64_t n = 0;
	if (db_step_changes(st, &n) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (n != 1) /* reversed or moved since it was read */
		return req_fail(r, ERR_INVALID_STATE, NULL, "%s",
				"This payout has already been reversed.");
	if (ledger_payout_reversal(db, r->merchant_id, v->id, o->amount, v->currency, r->now, bt) !=
	    DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	v->balance_transaction = arena_strdup(&r->arena, bt);
	if (!v->balance_transaction || payout_insert(db, r->merchant_id, v) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	o->reversed_by = v->id;
	struct event_origin eo = {r->request_id, r->idempotency_key, r->livemode};
	if (emit(db, r->merchant_id, &eo, o, "payout.updated", "{\"reversed_by\":null}", r->now) !=
		DB_OK ||
	    emit(db, r->merchant_id, &eo, v, "payout.created", NULL, r->now) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return respond(r, db, v);
}

static int h_reverse(struct req *r)
{
	struct reverse_ctx c = {.x = {.r = r, .id = r->args[0]}};
	return req_write(r, reverse_fn, &c);
}

static const char SQL_CURSOR[] = "SELECT created FROM payouts WHERE merchant_id = $1 AND id = $2";
static const char SQL_DESC[] =
    "SELECT id FROM payouts WHERE merchant_id = $1 AND id > $2 AND id < $3"
    " AND ($5 IS NULL OR status = $5) AND ($6 IS NULL OR destination = $6)"
    " AND ($7 IS NULL OR (arrival_date >= $7 AND arrival_date <= $8))"
    " ORDER BY id DESC LIMIT $4";
static const char SQL_ASC[] =
    "SELECT id FROM payouts WHERE merchant_id = $1 AND id > $2 AND id < $3"
    " AND ($5 IS NULL OR status = $5) AND ($6 IS NULL OR destination = $6)"
    " AND ($7 IS NULL OR (arrival_date >= $7 AND arrival_date <= $8))"
    " ORDER BY id ASC LIMIT $4";

static int list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	db_bind_text(st, first, param_str(r, "status"), -1);
	db_bind_text(st, first + 1, param_str(r, "destination"), -1);
	list_bind_range(r, st, first + 2, "arrival_date");
	return 0;
}

static int list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	struct payout p;
	int rc = payout_load(db, &r->arena, r->merchant_id, id, &p);
	if (rc != DB_OK)
		return rc;
	return payout_render(db, r->merchant_id, r->livemode, &p, "data.", r, j);
}

int payout_render_id(struct req *r, struct db *db, const char *id, const char *expand_prefix,
		     struct json *j)
{
	struct payout p;
	int rc = payout_load(db, &r->arena, r->merchant_id, id, &p);
	if (rc != DB_OK)
		return rc;
	return payout_render(db, r->merchant_id, r->livemode, &p, expand_prefix, r, j);
}

static int h_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/payouts",
	    .object_name = "payout",
	    .id_prefix = "po_",
	    .sql_cursor = SQL_CURSOR,
	    .sql_desc = SQL_DESC,
	    .sql_asc = SQL_ASC,
	    .bind_filters = list_bind,
	    .render = list_render,
	};
	return list_respond(r, &spec);
}

/* ---- the scheduler: the bank's answer at arrival_date ---- */

/* a payout whose bank answers, or an account whose payout schedule is due */
const char PAYOUTS_DUE_SQL[] =
    "SELECT 1 FROM payouts WHERE settle_at IS NOT NULL AND settle_at <= $1"
    " UNION ALL SELECT 1 FROM connected_accounts WHERE po_next_due IS NOT NULL"
    " AND po_next_due <= $1 AND deleted = 0 AND payouts_paused = 0 LIMIT 1";
static const char SQL_DUE[] =
    "SELECT merchant_id, id FROM payouts WHERE settle_at IS NOT NULL AND settle_at <= $1"
    " ORDER BY settle_at LIMIT $2";

/* The bank returned payout p (a Stripe test number that fails): its funds come back, and
 * payout.updated / payout.failed say why. A payout that moved meanwhile is left alone. */
static int fail_one(struct db *db, struct arena *a, const char *merchant_id, struct payout *p,
		    const char *failure, int64_t now)
{
	char bt[ID_MAX];
	p->failure_code = arena_strdup(a, failure);
	if (!p->failure_code)
		return DB_ERR;
	int rc = transition(db, merchant_id, p, "pending", "failed");
	if (rc != DB_OK)
		return rc;
	/* past the guard, any failure rolls the whole tick back (never DB_CONFLICT) */
	rc = ledger_payout_fail(db, merchant_id, p->id, p->amount, p->currency, now, bt);
	if (rc != DB_OK)
		return rc == DB_CONFLICT ? DB_ERR : rc;
	/* the transition recorded the code; the balance transaction is known only now */
	p->failure_balance_transaction = arena_strdup(a, bt);
	if (!p->failure_balance_transaction)
		return DB_ERR;
	if ((rc = transition(db, merchant_id, p, "failed", "failed")) != DB_OK)
		return rc == DB_CONFLICT ? DB_ERR : rc;
	/* the bank account is errored until its details are updated (external_accounts.c) */
	if (p->destination &&
	    (rc = external_account_set_errored(db, merchant_id, p->destination, now)) != DB_OK)
		return rc;
	struct event_origin o = {NULL, NULL, 0};
	rc = emit(db, merchant_id, &o, p, "payout.updated",
		  "{\"status\":\"pending\",\"failure_code\":null,\"failure_message\":null,"
		  "\"failure_balance_transaction\":null}",
		  now);
	if (rc == DB_OK)
		rc = emit(db, merchant_id, &o, p, "payout.failed", NULL, now);
	return rc;
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
	arena_init(&a, 4u << 20);
	struct scheduler_due due[SETTLE_BATCH];
	int n = 0, done = 0, rc = DB_OK;
	if (scheduler_due_read(db, SQL_DUE, c->now, due, &n, scheduler_batch(SETTLE_BATCH)) !=
	    DB_OK) {
		arena_release(&a);
		return DB_ERR;
	}
	for (int i = 0; i < n && rc == DB_OK; i++) {
		struct payout p;
		if (payout_load(db, &a, due[i].merchant, due[i].id, &p) != DB_OK)
			continue;
		struct event_origin o = {NULL, NULL, 0};
		char failure[32] = "";
		/* a reversal debits the account its payout was just paid to: it pays */
		if (p.destination && !p.original_payout) {
			rc = external_account_payout_failure(db, due[i].merchant, p.destination,
							     failure);
			if (rc != DB_OK && rc != DB_NOTFOUND)
				break;
			rc = DB_OK;
		}
		if (failure[0]) {
			/* DB_CONFLICT: it moved meanwhile (a cancel), nothing was done */
			rc = fail_one(db, &a, due[i].merchant, &p, failure, c->now);
			if (rc == DB_CONFLICT)
				rc = DB_OK;
			else if (rc == DB_OK)
				done++;
			continue;
		}
		if (transition(db, due[i].merchant, &p, "pending", "paid") != DB_OK)
			continue;
		rc = p.original_payout ? ledger_payout_reversal_paid(db, due[i].merchant, p.id,
								     -p.amount, p.currency, c->now)
				       : ledger_payout_paid(db, due[i].merchant, p.id, p.amount,
							    p.currency, c->now);
		if (rc == DB_OK)
			rc = emit(db, due[i].merchant, &o, &p, "payout.updated",
				  "{\"status\":\"pending\"}", c->now);
		if (rc == DB_OK)
			rc = emit(db, due[i].merchant, &o, &p, "payout.paid", NULL, c->now);
		if (rc == DB_OK)
			done++;
	}
	arena_release(&a);
	if (rc != DB_OK)
		return rc;
	c->done += (int)shard_share_add(&c->share, db, done);
	return 0;
}

/* ---- the scheduler: automatic payouts on the accounts' schedules ----
 *
 * A connected account whose payout schedule is due (connected_accounts.po_next_due, payout_
 * schedule.h) is paid out, in one write with the move of its due date to the next one (a guarded
 * update from the due date read: each due date pays out once, whichever node claims it). In
 * each currency with a positive available balance and a default external account that is not
 * errored, one automatic payout of the whole available balance (never more: it is summed in the
 * same transaction, which also moves the account's draw count, so a manual payout or transfer
 * checked against the older balance must read again, draw.h). A currency without a usable
 * external account keeps its balance for a later due date, as Stripe does. A scheduler that was
 * stopped over several due dates pays out once, and the next due date is the first after now.
 */

#define AUTO_BATCH 32
#define AUTO_CURRENCIES_MAX 16

static const char SQL_AUTO_DUE[] =
    "SELECT merchant_id, id, po_next_due, po_interval, po_weekly_anchor, po_monthly_anchor,"
    " po_statement_descriptor FROM connected_accounts WHERE po_next_due IS NOT NULL AND "
    "po_next_due <= $1"
    " AND deleted = 0 AND payouts_paused = 0 ORDER BY po_next_due LIMIT $2";
static const char SQL_AUTO_CLAIM[] =
    "UPDATE connected_accounts SET po_next_due = $4 WHERE merchant_id = $1 AND id = $2"
    " AND po_next_due = $3 AND deleted = 0 AND payouts_paused = 0";

struct auto_due {
	char platform[ID_MAX], account[ID_MAX];
	int64_t due;
	struct payout_schedule sched;
	char descriptor[32]; /* settings.payouts.statement_descriptor, "" when none */
};

/* One automatic payout of amount in currency to external account e of account, with the
 * account's payout statement descriptor (NULL: none). */
static int auto_payout(struct db *db, struct arena *a, const char *account, const char *currency,
		       int64_t amount, const struct ea_brief *e, const char *descriptor,
		       int64_t now)
{
	int64_t seen = 0;
	int rc = ledger_draws(db, account, currency, &seen);
	if (rc == DB_OK)
		rc = ledger_draw_next(db, account, currency, seen);
	if (rc != DB_OK)
		return rc == DB_CONFLICT ? DB_ERR : rc; /* read in this transaction: cannot move */
	struct payout p;
	memset(&p, 0, sizeof(p));
	id_new_at(p.id, "po_", now);
	p.created = now;
	p.amount = amount;
	str_copy(p.currency, sizeof(p.currency), currency);
	p.arrival_date = now + PAYOUT_TEST_ARRIVAL_S;
	p.status = "pending";
	p.description = "STRIPE PAYOUT";
	p.statement_descriptor = descriptor;
	p.metadata = "{}";
	p.destination = e->id;
	p.method = "standard";
	p.type = strcmp(e->object, "card") == 0 ? "card" : "bank_account";
	p.automatic = true;
	char bt[ID_MAX];
	rc = ledger_payout(db, account, p.id, amount, currency, now, bt);
	if (rc == DB_OK)
		rc = ledger_payout_take(db, account, currency, p.id);
	if (rc != DB_OK)
		return rc;
	p.balance_transaction = arena_strdup(a, bt);
	if (!p.balance_transaction)
		return DB_ERR;
	if ((rc = payout_insert(db, account, &p)) != DB_OK)
		return rc;
	struct event_origin o = {NULL, NULL, 0};
	return emit(db, account, &o, &p, "payout.created", NULL, now);
}

/* The due account's payouts; *ret_made: how many. */
static int auto_account(struct db *db, struct arena *a, const struct auto_due *d, int64_t now,
			int *ret_made)
{
	int64_t next = 0;
	bool valid = payout_schedule_next(&d->sched, now, &next) == 0;
	struct db_stmt *st = db_prepare(db, SQL_AUTO_CLAIM);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, d->platform, -1);
	db_bind_text(st, 2, d->account, -1);
	db_bind_int64(st, 3, d->due);
	if (valid)
		db_bind_int64(st, 4, next);
	else
		db_bind_null(st, 4);
	int64_t n = 0;
	int rc = db_step_changes(st, &n);
	if (rc != DB_OK || n != 1 || !valid)
		return rc; /* claimed meanwhile, or the schedule changed: nothing is due */
	struct ledger_balance_amount bal[AUTO_CURRENCIES_MAX];
	int nb = 0;
	if ((rc = ledger_balance_amounts(db, d->account, bal, AUTO_CURRENCIES_MAX, &nb)) != DB_OK)
		return rc;
	for (int i = 0; i < nb; i++) {
		if (bal[i].available <= 0)
			continue;
		char id[ID_MAX], failure[32];
		rc = external_account_default(db, d->account, bal[i].currency, id, failure);
		if (rc == DB_NOTFOUND)
			continue;
		struct ea_brief e;
		if (rc == DB_OK)
			rc = external_account_brief(db, d->account, id, &e);
		if (rc != DB_OK)
			return rc;
		/* an errored bank account gets no scheduled payouts until it is updated */
		if (strcmp(e.status, "errored") == 0)
			continue;
		int64_t amount =
		    bal[i].available > LEDGER_AMOUNT_MAX ? LEDGER_AMOUNT_MAX : bal[i].available;
		if ((rc = auto_payout(db, a, d->account, bal[i].currency, amount, &e,
				      d->descriptor[0] ? d->descriptor : NULL, now)) != DB_OK)
			return rc;
		(*ret_made)++;
	}
	return DB_OK;
}

struct auto_ctx {
	int64_t now;
	int made;
	struct shard_share share;
};

static int auto_fn(struct db *db, void *arg)
{
	struct auto_ctx *c = arg;
	struct auto_due due[AUTO_BATCH];
	int n = 0, rc = DB_DONE;
	struct db_stmt *st = db_prepare(db, SQL_AUTO_DUE);
	if (!st)
		return DB_ERR;
	db_bind_int64(st, 1, c->now);
	const int batch = scheduler_batch(AUTO_BATCH);
	db_bind_int64(st, 2, batch);
	while (n < batch && (rc = db_step(st)) == DB_ROW) {
		struct auto_due *d = &due[n];
		memset(d, 0, sizeof(*d));
		const char *plat = db_col_text(st, 0, NULL), *acct = db_col_text(st, 1, NULL);
		str_copy(d->platform, sizeof(d->platform), plat ? plat : "");
		str_copy(d->account, sizeof(d->account), acct ? acct : "");
		d->due = db_col_int64(st, 2);
		d->sched.delay_days = PAYOUT_DELAY_DAYS;
		d->sched.weekly_anchor = -1;
		/* a schedule Tender did not write (no such interval or weekday) has no next due
		 * date: auto_account clears it */
		if (payout_interval_parse(db_col_text(st, 3, NULL), &d->sched.interval) != 0)
			d->sched.interval = PAYOUT_MANUAL;
		const char *wa = db_col_text(st, 4, NULL);
		if (wa && payout_weekday_parse(wa, &d->sched.weekly_anchor) != 0)
			d->sched.interval = PAYOUT_MANUAL;
		d->sched.monthly_anchor = (int)db_col_int64_or0(st, 5);
		const char *sd = db_col_text(st, 6, NULL);
		str_copy(d->descriptor, sizeof(d->descriptor), sd ? sd : "");
		n++;
	}
	if (n == batch)
		rc = DB_DONE;
	db_reset(st);
	if (rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	struct arena a;
	arena_init(&a, 1u << 20);
	int made = 0;
	rc = DB_OK;
	for (int i = 0; i < n && rc == DB_OK; i++)
		rc = auto_account(db, &a, &due[i], c->now, &made);
	arena_release(&a);
	if (rc != DB_OK)
		return rc;
	c->made += (int)shard_share_add(&c->share, db, made);
	return 0;
}

int payouts_settle_tick(struct store *s, int64_t now)
{
	/* the two are independent: a failing one does not hold the other back */
	struct auto_ctx ac = {.now = now};
	int rc_auto = store_each_shard_write(s, auto_fn, &ac);
	struct settle_ctx c = {.now = now};
	int rc = store_each_shard_write(s, settle_fn, &c);
	if (rc_auto != 0)
		return rc_auto;
	return rc == 0 ? c.done + ac.made : rc;
}

static const struct param_spec update_params[] = {
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec list_params[] = {
    {"status", PT_ENUM, 0, 0, (const char *const[]){"pending", "paid", "failed", "canceled", NULL},
     NULL},
    {"destination", PT_STRING, 0, 255, NULL, NULL},
    {"arrival_date", PT_RANGE, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

const struct route payouts_routes[] = {
    {"POST", "/v1/payouts", h_create, create_params, 0},
    {"GET", "/v1/payouts", h_list, list_params, ROUTE_LIST},
    {"GET", "/v1/payouts/{id}", h_retrieve, no_params, 0},
    {"POST", "/v1/payouts/{id}", h_update, update_params, 0},
    {"POST", "/v1/payouts/{id}/cancel", h_cancel, no_params, 0},
    {"POST", "/v1/payouts/{id}/reverse", h_reverse, update_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};

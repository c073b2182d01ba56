/*
 * /v1/transfers (create, retrieve, update, list) and their reversals
 * (/v1/transfers/{id}/reversals: create, list, retrieve, update): a platform sends funds to one
 * of its connected accounts (Connect's "separate charges and transfers").
 *
 * A transfer is funded either by the platform's available balance (a draw, as a payout is:
 * api/draw.h, so that two transfers, or a transfer and a payout, cannot both spend one
 * balance), or by
 * one of its charges (source_transaction): then it moves the charge's funds where they are
 * (still pending: the connected account's become available the same day), and all the
 * transfers a charge funds add up to no more than what it captured less what was refunded.
 * A reversal takes money back from the connected account's available balance at once.
 * A destination that settles in another currency gets the transfer converted (payments/connect.h,
 * ledger/ledger_connect.h): the transfer, and the platform's side, stay in its own currency.
 */
#include <stdio.h>
#include <string.h>

#include "api/common.h"
#include "api/draw.h"
#include "api/list.h"
#include "api/resources.h"
#include "app.h"
#include "core/str.h"
#include "events/events.h"
#include "ledger/ledger.h"
#include "ledger/ledger_connect.h"
#include "ledger/ledger_payout.h"
#include "merchant/connect.h"
#include "money/currency.h"
#include "money/fx.h"
#include "money/rational.h"
#include "payments/connect.h"
#include "payments/payments.h"
#include "store/store.h"

struct payment_ctx {
	struct req *r;
	const char *destination;
};

/* expand[]=destination_payment: the Charge the connected account sees (payments/connect.h),
 * read in the destination's scope, which is where it lives */
static int render_payment(void *p, struct db *db, const char *id, struct json *j)
{
	struct payment_ctx *x = p;
	return charge_render_by_id(db, &x->r->arena, x->destination, x->r->livemode, id, NULL, j);
}

/* The transfer, its destination_payment expanded when `field` (NULL: none) is asked for. */
static int render(struct req *r, struct db *db, const struct transfer *t, const char *field,
		  struct json *j)
{
	struct payment_ctx x = {r, t->destination};
	return transfer_render_ex(db, &r->arena, r->merchant_id, r->livemode, t,
				  field && req_expand_has(r, field) ? render_payment : NULL, &x, j);
}

static int respond(struct req *r, struct db *db, const struct transfer *t)
{
	return render(r, db, t, "destination_payment", req_json(r)) == DB_OK
		   ? 0
		   : req_fail(r, ERR_API, NULL, NULL);
}

/* ---- create ---- */

static const struct param_spec create_params[] = {
    {"amount", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {"currency", PT_CURRENCY, PF_REQUIRED, 0, NULL, NULL},
    {"destination", PT_STRING, PF_REQUIRED, 255, NULL, NULL},
    {"description", PT_STRING, 0, 5000, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"source_transaction", PT_STRING, 0, 255, NULL, NULL},
    {"transfer_group", PT_STRING, 0, 5000, NULL, NULL},
    {"source_type", PT_ENUM, 0, 0, (const char *const[]){"card", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

struct create_ctx {
	struct req *r;
	struct transfer_new in;
	char currency[8];
	struct draw draw; /* without source_transaction */
	struct transfer t;
};

static int destination_ok(struct req *r, struct db *db, const char *destination)
{
	int rc = connect_account_usable(db, r->merchant_id, destination);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "destination", destination, "destination");
	if (rc == CONNECT_REJECTED)
		return req_fail(r, ERR_TRANSFER_CAPABILITIES, "destination",
				"Your destination account %s was rejected: it can receive no "
				"transfers.",
				destination);
	return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* the draw's read checks the destination too (a 404 before the balance's 400) */
static int destination_fn(struct db *db, void *arg)
{
	struct create_ctx *c = arg;
	return destination_ok(c->r, db, c->in.destination);
}

/* A transfer funded by the platform's charge: the charge must have captured funds in the
 * transfer's currency (its settlement currency when the capture converted them) that its other
 * transfers and refunds have not used, the refunds counted at the capture's rate. */
static int source_fn(struct db *db, struct create_ctx *c)
{
	struct req *r = c->r;
	const char *src = c->in.source_transaction;
	struct charge ch;
	int rc = charge_load(db, &r->arena, r->merchant_id, src, &ch);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "charge", src, "source_transaction");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!ch.captured || !ch.balance_transaction)
		return req_fail(r, ERR_PARAM_BAD, "source_transaction",
				"The charge %s has no captured funds to transfer.", src);
	rc = ledger_bt_bucket(db, r->merchant_id, ch.balance_transaction, &c->in.bucket);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (strcmp(c->in.bucket.currency, c->currency) != 0)
		return req_fail(
		    r, ERR_PARAM_BAD, "currency",
		    "The currency of a transfer funded by a charge must be the currency "
		    "the charge's funds are in (%s).",
		    c->in.bucket.currency);
	int64_t funded = 0;
	if (transfer_funded_by(db, r->merchant_id, src, &funded) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	int64_t settled = 0;
	if (ledger_bucket_amount(&c->in.bucket, ch.currency, ch.amount_captured,
				 ch.amount_captured - ch.amount_refunded, &settled) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	int64_t left = settled - funded;
	if (c->in.amount > left)
		return req_fail(
		    r, ERR_PARAM_BAD, "amount",
		    "Transfer amount exceeds what the source transaction %s has left to "
		    "transfer (%lld).",
		    src, (long long)(left > 0 ? left : 0));
	return 0;
}

static int create_fn(struct db *db, void *arg)
{
	struct create_ctx *c = arg;
	struct req *r = c->r;
	if (destination_ok(r, db, c->in.destination) != 0)
		return -1;
	if (c->in.source_transaction) {
		if (source_fn(db, c) != 0)
			return -1;
	} else {
		if (draw_claim(db, &c->draw) != 0)
			return -1;
		c->in.bucket = (struct ledger_bucket){.pending = false};
	}
	struct event_origin o = {r->request_id, r->idempotency_key, r->livemode};
	c->in.origin = &o;
	c->in.now = r->now;
	int rc = transfer_make(db, &r->arena, &c->in, &c->t, NULL);
	/* an account settling in another currency: the transfer arrives converted (connect.h) */
	if (rc == LEDGER_ERR_NO_RATE)
		return req_fail(r, ERR_PARAM_BAD, "currency",
				"Tender has no exchange rate from %s into the currency the "
				"destination account %s settles in.",
				c->in.currency, c->in.destination);
	if (rc == LEDGER_ERR_CONVERTS_TO_ZERO)
		return req_fail(r, ERR_PARAM_BAD, "amount",
				"Invalid amount: the transfer converts to less than the smallest "
				"unit of the currency the destination account %s settles in.",
				c->in.destination);
	if (rc == LEDGER_ERR_INVALID)
		return req_fail(r, ERR_PARAM_BAD, "destination",
				"A transfer's destination must be another account.");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return respond(r, db, &c->t);
}

static int h_create(struct req *r)
{
	struct create_ctx c = {.r = r};
	int64_t amount = 0;
	param_int(r, "amount", &amount);
	if (amount < 1 || amount > LEDGER_AMOUNT_MAX)
		return req_fail(
		    r, ERR_PARAM_BAD, "amount",
		    "Invalid amount: a transfer is 1 or more of the currency's smallest "
		    "unit.");
	if (param_currency(r, "currency", NULL, c.currency) != 0)
		return -1;
	c.in.platform = r->merchant_id;
	c.in.destination = param_str(r, "destination");
	c.in.amount = amount;
	c.in.currency = c.currency;
	c.in.source_transaction = param_str(r, "source_transaction");
	if (c.in.source_transaction && !*c.in.source_transaction)
		c.in.source_transaction = NULL;
	c.in.transfer_group = param_str(r, "transfer_group");
	c.in.description = param_str(r, "description");
	c.in.metadata = "{}";
	if (metadata_apply(r, NULL, "metadata", &c.in.metadata) != 0)
		return -1;
	struct fx_table *fx = app_fx_acquire(r->app);
	c.in.fx = fx;
	int rc;
	if (c.in.source_transaction) {
		rc = req_write(r, create_fn, &c);
	} else {
		c.draw = (struct draw){.currency = c.currency,
				       .amount = amount,
				       .check = destination_fn,
				       .write = create_fn,
				       .ctx = &c};
		rc = draw_run(r, &c.draw);
	}
	fx_table_free(fx);
	return rc;
}

/* ---- retrieve, update, list ---- */

struct id_ctx {
	struct req *r;
	const char *id;
	struct transfer t;
};

static int load_fn(struct db *db, void *arg)
{
	struct id_ctx *x = arg;
	int rc = transfer_load(db, &x->r->arena, x->r->merchant_id, x->id, &x->t);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "transfer", x->id, "transfer");
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

static int update_fn(struct db *db, void *arg)
{
	struct id_ctx *x = arg;
	struct req *r = x->r;
	if (load_fn(db, arg) != 0)
		return -1;
	struct transfer *t = &x->t;
	struct buf prev;
	buf_init(&prev, 1u << 20);
	struct json pj;
	json_init(&pj, &prev);
	json_obj_open(&pj);
	const char *old_meta = t->metadata;
	if (metadata_apply(r, old_meta, "metadata", &t->metadata) != 0) {
		buf_release(&prev);
		return -1;
	}
	if (strcmp(old_meta, t->metadata) != 0)
		json_kv_raw(&pj, "metadata", old_meta, strlen(old_meta));
	const char *desc = param_str(r, "description");
	if (desc) {
		const char *nd = *desc ? desc : NULL;
		if ((nd == NULL) != (t->description == NULL) ||
		    (nd && strcmp(nd, t->description) != 0))
			json_kv_str_or_null(&pj, "description", t->description);
		t->description = nd;
	}
	json_obj_close(&pj);
	const char *prev_json = prev.failed ? NULL : arena_strndup(&r->arena, prev.data, prev.len);
	buf_release(&prev);
	if (!prev_json || transfer_update(db, r->merchant_id, t) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 20);
	json_init(&j, &b);
	int rc = transfer_render(db, &r->arena, r->merchant_id, r->livemode, t, &j);
	struct event_origin o = {r->request_id, r->idempotency_key, r->livemode};
	if (rc == DB_OK && !b.failed)
		rc = event_append(db, r->merchant_id, &o, "transfer.updated", t->id, b.data, b.len,
				  prev_json, r->now, NULL);
	else
		rc = DB_ERR;
	buf_release(&b);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return respond(r, db, t);
}

static int h_update(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, update_fn, &x);
}

static const char SQL_CURSOR[] = "SELECT created FROM transfers WHERE merchant_id = $1 AND id = $2";
/* DEST: the destination filter's term; it is also a list_narrow (list.h) with the plain
 * `destination = $5`, answered from transfers_destination */
#define LIST_SQL(DEST, DIR)                                                                        \
	"SELECT id FROM transfers WHERE merchant_id = $1 AND " DEST " AND id > $2 AND id < $3"     \
	" AND ($6 IS NULL OR transfer_group = $6) ORDER BY id " DIR " LIMIT $4"
static const char SQL_DESC[] = LIST_SQL("($5 IS NULL OR destination = $5)", "DESC");
static const char SQL_ASC[] = LIST_SQL("($5 IS NULL OR destination = $5)", "ASC");
static const char SQL_DEST_DESC[] = LIST_SQL("destination = $5", "DESC");
static const char SQL_DEST_ASC[] = LIST_SQL("destination = $5", "ASC");

static int list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	db_bind_text(st, first, param_str(r, "destination"), -1);
	db_bind_text(st, first + 1, param_str(r, "transfer_group"), -1);
	return 0;
}

/* ctx: the expand path of destination_payment, or NULL (a transfer inside another object) */
static int list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	struct transfer t;
	int rc = transfer_load(db, &r->arena, r->merchant_id, id, &t);
	if (rc != DB_OK)
		return rc;
	return render(r, db, &t, ctx, j);
}

int transfer_render_id(struct req *r, struct db *db, const char *id, struct json *j)
{
	return list_render(r, db, id, j, NULL);
}

static int list_render_data(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	return list_render(r, db, id, j, "data.destination_payment");
}

int transfer_reversal_render_id(struct req *r, struct db *db, const char *id, struct json *j)
{
	struct transfer_reversal v;
	int rc = transfer_reversal_load(db, &r->arena, r->merchant_id, NULL, id, &v);
	if (rc == DB_OK)
		transfer_reversal_render(&v, j);
	return rc;
}

static int h_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/transfers",
	    .object_name = "transfer",
	    .id_prefix = "tr_",
	    .sql_cursor = SQL_CURSOR,
	    .sql_desc = SQL_DESC,
	    .sql_asc = SQL_ASC,
	    .narrow = {{"destination", SQL_DEST_DESC, SQL_DEST_ASC}},
	    .bind_filters = list_bind,
	    .render = list_render_data,
	};
	return list_respond(r, &spec);
}

/* ---- reversals ---- */

struct rev_ctx {
	struct req *r;
	const char *transfer_id, *id;
	struct transfer t;
	struct transfer_reversal v;
};

/* The application fee a destination charge's transfer t paid back to the platform (the charge
 * that funded it names it), for refund_application_fee; a transfer without one is a 400. */
static int fee_of_transfer(struct req *r, struct db *db, const struct transfer *t,
			   struct application_fee *ret)
{
	struct charge ch;
	int rc = t->source_transaction
		     ? charge_load(db, &r->arena, r->merchant_id, t->source_transaction, &ch)
		     : DB_NOTFOUND;
	if (rc != DB_OK && rc != DB_NOTFOUND)
		return req_fail(r, ERR_API, NULL, NULL);
	if (rc == DB_NOTFOUND || !ch.application_fee || !ch.transfer ||
	    strcmp(ch.transfer, t->id) != 0)
		return req_fail(r, ERR_PARAM_BAD, "refund_application_fee",
				"Transfer %s paid no application fee: it is not a destination "
				"charge's transfer.",
				t->id);
	if (application_fee_load(db, &r->arena, r->merchant_id, ch.application_fee, ret) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

static int rev_create_fn(struct db *db, void *arg)
{
	struct rev_ctx *x = arg;
	struct req *r = x->r;
	int rc = transfer_load(db, &r->arena, r->merchant_id, x->transfer_id, &x->t);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "transfer", x->transfer_id, "id");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	int64_t left = x->t.amount - x->t.amount_reversed;
	int64_t amount = left;
	if (param_int(r, "amount", &amount) && (amount < 1 || amount > left))
		return req_fail(r, ERR_PARAM_BAD, "amount",
				"You cannot reverse %lld of a transfer that has %lld left to "
				"reverse.",
				(long long)amount, (long long)left);
	if (left < 1)
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"Transfer %s has already been fully reversed.", x->t.id);
	const char *metadata = "{}";
	if (metadata_apply(r, NULL, "metadata", &metadata) != 0)
		return -1;
	const char *desc = param_str(r, "description");
	/* the fee the transfer's destination charge paid back out of it, checked before
	 * anything moves */
	bool refund_fee = false;
	param_bool(r, "refund_application_fee", &refund_fee);
	struct application_fee f;
	if (refund_fee && fee_of_transfer(r, db, &x->t, &f) != 0)
		return -1;
	struct event_origin o = {r->request_id, r->idempotency_key, r->livemode};
	rc = transfer_reverse(db, &r->arena, r->merchant_id, &x->t, amount, metadata,
			      desc && *desc ? desc : NULL, NULL, r->now, &o, &x->v);
	if (rc == DB_CONFLICT)
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"Transfer %s has less left to reverse than that.", x->t.id);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* Stripe's rule: all of the fee left for a full reversal, else the reversed share of it
	 * (rounded once, half away from zero), never more than is left of it */
	if (refund_fee) {
		int64_t left_fee = f.amount - f.amount_refunded, back = left_fee;
		if (x->t.amount_reversed < x->t.amount &&
		    money_div_round_i64((__int128)amount * f.amount, x->t.amount,
					MONEY_ROUND_HALF_AWAY, &back) != 0)
			return req_fail(r, ERR_API, NULL, NULL);
		if (back > left_fee)
			back = left_fee;
		struct fee_refund fr;
		if (back > 0 && application_fee_refund(db, &r->arena, r->merchant_id, &f, back,
						       NULL, r->now, &o, &fr) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	transfer_reversal_render(&x->v, req_json(r));
	return 0;
}

static int h_rev_create(struct req *r)
{
	struct rev_ctx x = {.r = r, .transfer_id = r->args[0]};
	return req_write(r, rev_create_fn, &x);
}

static int rev_load_fn(struct db *db, void *arg)
{
	struct rev_ctx *x = arg;
	struct req *r = x->r;
	int rc =
	    transfer_reversal_load(db, &r->arena, r->merchant_id, x->transfer_id, x->id, &x->v);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "transfer_reversal", x->id, "id");
	return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static int rev_retrieve_fn(struct db *db, void *arg)
{
	struct rev_ctx *x = arg;
	if (rev_load_fn(db, arg) != 0)
		return -1;
	transfer_reversal_render(&x->v, req_json(x->r));
	return 0;
}

static int h_rev_retrieve(struct req *r)
{
	struct rev_ctx x = {.r = r, .transfer_id = r->args[0], .id = r->args[1]};
	return req_read(r, rev_retrieve_fn, &x) == 0 ? 0 : -1;
}

static int rev_update_fn(struct db *db, void *arg)
{
	struct rev_ctx *x = arg;
	struct req *r = x->r;
	if (rev_load_fn(db, arg) != 0)
		return -1;
	if (metadata_apply(r, x->v.metadata, "metadata", &x->v.metadata) != 0)
		return -1;
	if (transfer_reversal_set_metadata(db, r->merchant_id, &x->v) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	transfer_reversal_render(&x->v, req_json(r));
	return 0;
}

static int h_rev_update(struct req *r)
{
	struct rev_ctx x = {.r = r, .transfer_id = r->args[0], .id = r->args[1]};
	return req_write(r, rev_update_fn, &x);
}

static const char SQL_REV_CURSOR[] =
    "SELECT created FROM transfer_reversals WHERE merchant_id = $1 AND id = $2";
static const char SQL_REV_DESC[] =
    "SELECT id FROM transfer_reversals WHERE merchant_id = $1 AND id > $2 AND id < $3"
    " AND transfer = $5 ORDER BY id DESC LIMIT $4";
static const char SQL_REV_ASC[] =
    "SELECT id FROM transfer_reversals WHERE merchant_id = $1 AND id > $2 AND id < $3"
    " AND transfer = $5 ORDER BY id ASC LIMIT $4";

static int rev_list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	db_bind_text(st, first, r->args[0], -1);
	return 0;
}

static int rev_list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	struct transfer_reversal v;
	int rc = transfer_reversal_load(db, &r->arena, r->merchant_id, r->args[0], id, &v);
	if (rc == DB_OK)
		transfer_reversal_render(&v, j);
	return rc;
}

static int rev_exists_fn(struct db *db, void *arg)
{
	struct rev_ctx *x = arg;
	int rc = transfer_load(db, &x->r->arena, x->r->merchant_id, x->transfer_id, &x->t);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "transfer", x->transfer_id, "id");
	return rc == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

static int h_rev_list(struct req *r)
{
	struct rev_ctx x = {.r = r, .transfer_id = r->args[0]};
	if (req_read(r, rev_exists_fn, &x) != 0)
		return -1;
	const char *url = arena_printf(&r->arena, "/v1/transfers/%s/reversals", r->args[0]);
	if (!url)
		return req_fail(r, ERR_API, NULL, NULL);
	const struct list_spec spec = {
	    .url = url,
	    .object_name = "transfer_reversal",
	    .id_prefix = "trr_",
	    .sql_cursor = SQL_REV_CURSOR,
	    .sql_desc = SQL_REV_DESC,
	    .sql_asc = SQL_REV_ASC,
	    .bind_filters = rev_list_bind,
	    .render = rev_list_render,
	};
	return list_respond(r, &spec);
}

static const struct param_spec update_params[] = {
    {"description", PT_STRING, 0, 5000, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec list_params[] = {
    {"destination", PT_STRING, 0, 255, NULL, NULL},
    {"transfer_group", PT_STRING, 0, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec rev_create_params[] = {
    {"amount", PT_INT, 0, 0, NULL, NULL},
    {"description", PT_STRING, PF_EMPTYABLE, 5000, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"refund_application_fee", PT_BOOL, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec metadata_params[] = {
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

const struct route transfers_routes[] = {
    {"POST", "/v1/transfers", h_create, create_params, 0},
    {"GET", "/v1/transfers", h_list, list_params, ROUTE_LIST},
    {"POST", "/v1/transfers/{id}/reversals", h_rev_create, rev_create_params, 0},
    {"GET", "/v1/transfers/{id}/reversals", h_rev_list, no_params, ROUTE_LIST},
    {"GET", "/v1/transfers/{id}/reversals/{id}", h_rev_retrieve, no_params, 0},
    {"POST", "/v1/transfers/{id}/reversals/{id}", h_rev_update, metadata_params, 0},
    {"GET", "/v1/transfers/{id}", h_retrieve, no_params, 0},
    {"POST", "/v1/transfers/{id}", h_update, update_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};

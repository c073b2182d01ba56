/*
 * GET /v1/balance_transactions and GET /v1/balance_transactions/{id}. The list takes the filters
 * the ledger can apply exactly: type, source, currency (plus created, limit and cursors from
 * list.h), and `payout`: the transactions an automatic payout took (balance_transactions.payout,
 * set by the payout's write: ledger_payout_take), its own included; as on Stripe, a manual
 * payout's id is refused (what a manual payout "took" is not defined).
 *
 * `source` expands (expand[]=source, expand[]=data.source on the list) to the object that made
 * the transaction, whatever its kind, found by its id's prefix: a charge, refund, payout,
 * dispute, transfer or its reversal, application fee or its refund. The connected account's side
 * of a transfer is its `py_…` payment, a Charge rendered from the transfer (payments/connect.h);
 * the `pyr_…` refunds of that payment have no object of their own in Tender, so their ids stay
 * ids.
 */
#include <stdio.h>
#include <string.h>

#include "api/list.h"
#include "api/payments_common.h"
#include "api/resources.h"
#include "ledger/ledger.h"
#include "money/currency.h"
#include "payments/payments.h"

static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};
static const struct param_spec list_params[] = {
    {"type", PT_STRING, 0, 64, NULL, NULL},
    {"source", PT_STRING, 0, 255, NULL, NULL},
    {"currency", PT_CURRENCY, 0, 0, NULL, NULL},
    {"payout", PT_STRING, 0, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

struct id_ctx {
	struct req *r;
	const char *id;
};

struct source_ctx {
	struct req *r;
	const char *field; /* "source" or "data.source": the expand path of the field */
};

/* The expanded source: the object its id names (see the top of this file). One the store does
 * not have (a payment's refund on a connected account, or a row that is gone) stays its id. */
static int render_source(void *p, struct db *db, const char *id, struct json *j)
{
	struct source_ctx *x = p;
	int rc = api_render_by_id(x->r, db, id, x->field, j);
	if (rc == DB_NOTFOUND) {
		json_str(j, id);
		return DB_OK;
	}
	return rc;
}

static int bt_render(struct req *r, struct db *db, const char *id, const char *field,
		     struct json *j)
{
	struct source_ctx x = {r, field};
	bool expand = req_expand_has(r, field);
	return ledger_balance_txn_render_ex(db, r->merchant_id, id, expand ? render_source : NULL,
					    &x, j);
}

static int retrieve_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	int rc = bt_render(x->r, db, x->id, "source", req_json(x->r));
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "balance transaction", x->id, "id");
	return rc == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

static int h_retrieve(struct req *r)
{
	struct id_ctx x = {r, r->args[0]};
	return req_read(r, retrieve_fn, &x) == 0 ? 0 : -1;
}

static const char SQL_CURSOR[] =
    "SELECT created FROM balance_transactions WHERE merchant_id = $1 AND id = $2";
static const char SQL_DESC[] =
    "SELECT id FROM balance_transactions WHERE merchant_id = $1 AND id > $2 AND id < $3"
    " AND ($5 IS NULL OR type = $5) AND ($6 IS NULL OR source = $6)"
    " AND ($7 IS NULL OR currency = $7) ORDER BY id DESC LIMIT $4";
static const char SQL_ASC[] =
    "SELECT id FROM balance_transactions WHERE merchant_id = $1 AND id > $2 AND id < $3"
    " AND ($5 IS NULL OR type = $5) AND ($6 IS NULL OR source = $6)"
    " AND ($7 IS NULL OR currency = $7) ORDER BY id ASC LIMIT $4";

/* by the payout's index (merchant_id, payout, id) */
static const char SQL_PAYOUT_DESC[] =
    "SELECT id FROM balance_transactions WHERE merchant_id = $1 AND payout = $5 AND id > $2"
    " AND id < $3 AND ($6 IS NULL OR type = $6) AND ($7 IS NULL OR source = $7)"
    " AND ($8 IS NULL OR currency = $8) ORDER BY id DESC LIMIT $4";
static const char SQL_PAYOUT_ASC[] =
    "SELECT id FROM balance_transactions WHERE merchant_id = $1 AND payout = $5 AND id > $2"
    " AND id < $3 AND ($6 IS NULL OR type = $6) AND ($7 IS NULL OR source = $7)"
    " AND ($8 IS NULL OR currency = $8) ORDER BY id ASC LIMIT $4";
static const char SQL_PAYOUT_KIND[] =
    "SELECT automatic FROM payouts WHERE merchant_id = $1 AND id = $2";

static const char *nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

/* The currency filter lowercased (Stripe accepts "USD"), or NULL when absent. */
static const char *currency_filter(struct req *r)
{
	const char *c = nonempty(param_str(r, "currency"));
	if (!c)
		return NULL;
	char *low = arena_strdup(&r->arena, c);
	for (char *p = low; p && *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return low;
}

static int bind_filters(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	db_bind_text(st, first, nonempty(param_str(r, "type")), -1);
	db_bind_text(st, first + 1, nonempty(param_str(r, "source")), -1);
	db_bind_text(st, first + 2, currency_filter(r), -1);
	return 0;
}

static int bind_payout_filters(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	db_bind_text(st, first, param_str(r, "payout"), -1);
	return bind_filters(r, st, first + 1, ctx);
}

/* The payout a list is filtered on: one of the merchant's, and automatic. */
static int payout_kind_fn(struct db *db, void *p)
{
	struct req *r = p;
	const char *id = param_str(r, "payout");
	struct db_stmt *st = db_prepare(db, SQL_PAYOUT_KIND);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	bool automatic = rc == DB_ROW && db_col_int64(st, 0) != 0;
	db_reset(st);
	if (rc == DB_DONE)
		return req_fail_missing(r, "payout", id, "payout");
	if (rc != DB_ROW)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!automatic)
		return req_fail(r, ERR_PARAM_BAD, "payout",
				"Balance transaction history can only be filtered on automatic "
				"transfers, not manual.");
	return 0;
}

static int render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	return bt_render(r, db, id, "data.source", j);
}

static int h_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/balance_transactions",
	    .object_name = "balance transaction",
	    .id_prefix = "txn_",
	    .sql_cursor = SQL_CURSOR,
	    .sql_desc = SQL_DESC,
	    .sql_asc = SQL_ASC,
	    .bind_filters = bind_filters,
	    .render = render,
	};
	static const struct list_spec by_payout = {
	    .url = "/v1/balance_transactions",
	    .object_name = "balance transaction",
	    .id_prefix = "txn_",
	    .sql_cursor = SQL_CURSOR,
	    .sql_desc = SQL_PAYOUT_DESC,
	    .sql_asc = SQL_PAYOUT_ASC,
	    .bind_filters = bind_payout_filters,
	    .render = render,
	};
	const char *cur = currency_filter(r);
	if (cur && !currency_find(cur))
		return req_fail(r, ERR_INVALID_CURRENCY, "currency", "Invalid currency: %s.", cur);
	if (nonempty(param_str(r, "payout"))) {
		if (req_read(r, payout_kind_fn, r) != 0)
			return -1;
		return list_respond(r, &by_payout);
	}
	return list_respond(r, &spec);
}

const struct route balance_transactions_routes[] = {
    {"GET", "/v1/balance_transactions", h_list, list_params, ROUTE_LIST},
    {"GET", "/v1/balance_transactions/{id}", h_retrieve, no_params, 0},
    /* the older path of the same resource, which Stripe still answers (older SDKs use it) */
    {"GET", "/v1/balance/history", h_list, list_params, ROUTE_LIST},
    {"GET", "/v1/balance/history/{id}", h_retrieve, no_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};

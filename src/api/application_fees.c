/*
 * /v1/application_fees (list, retrieve) and their refunds (/v1/application_fees/{id}/refunds:
 * create, list, retrieve, update): the fees a platform collected from its connected accounts on
 * destination charges, and what it gave back of them (payments/connect.h).
 */
#include <string.h>

#include "api/common.h"
#include "api/list.h"
#include "api/resources.h"
#include "ledger/ledger.h"
#include "payments/connect.h"

struct id_ctx {
	struct req *r;
	const char *id;
};

static int retrieve_fn(struct db *db, void *arg)
{
	struct id_ctx *x = arg;
	struct req *r = x->r;
	struct application_fee f;
	int rc = application_fee_load(db, &r->arena, r->merchant_id, x->id, &f);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "application_fee", x->id, "id");
	if (rc != DB_OK || application_fee_render(db, &r->arena, r->merchant_id, r->livemode, &f,
						  req_json(r)) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

static int h_retrieve(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, retrieve_fn, &x) == 0 ? 0 : -1;
}

static const char SQL_CURSOR[] =
    "SELECT created FROM application_fees WHERE merchant_id = $1 AND id = $2";
static const char SQL_DESC[] =
    "SELECT id FROM application_fees WHERE merchant_id = $1 AND id > $2 AND id < $3"
    " AND ($5 IS NULL OR charge = $5 OR originating_transaction = $5) ORDER BY id DESC LIMIT $4";
static const char SQL_ASC[] =
    "SELECT id FROM application_fees WHERE merchant_id = $1 AND id > $2 AND id < $3"
    " AND ($5 IS NULL OR charge = $5 OR originating_transaction = $5) ORDER BY id ASC LIMIT $4";

static int list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	db_bind_text(st, first, param_str(r, "charge"), -1);
	return 0;
}

static int list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	struct application_fee f;
	int rc = application_fee_load(db, &r->arena, r->merchant_id, id, &f);
	if (rc == DB_OK)
		rc = application_fee_render(db, &r->arena, r->merchant_id, r->livemode, &f, j);
	return rc;
}

int application_fee_render_id(struct req *r, struct db *db, const char *id, struct json *j)
{
	return list_render(r, db, id, j, NULL);
}

int fee_refund_render_id(struct req *r, struct db *db, const char *id, struct json *j)
{
	struct fee_refund v;
	int rc = fee_refund_load(db, &r->arena, r->merchant_id, NULL, id, &v);
	if (rc == DB_OK)
		fee_refund_render(&v, j);
	return rc;
}

static int h_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/application_fees",
	    .object_name = "application_fee",
	    .id_prefix = "fee_",
	    .sql_cursor = SQL_CURSOR,
	    .sql_desc = SQL_DESC,
	    .sql_asc = SQL_ASC,
	    .bind_filters = list_bind,
	    .render = list_render,
	};
	return list_respond(r, &spec);
}

/* ---- refunds ---- */

struct refund_ctx {
	struct req *r;
	const char *fee_id, *id;
	struct application_fee f;
	struct fee_refund v;
};

static int fee_fn(struct db *db, struct refund_ctx *x)
{
	struct req *r = x->r;
	int rc = application_fee_load(db, &r->arena, r->merchant_id, x->fee_id, &x->f);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "application_fee", x->fee_id, "id");
	return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static int refund_create_fn(struct db *db, void *arg)
{
	struct refund_ctx *x = arg;
	struct req *r = x->r;
	if (fee_fn(db, x) != 0)
		return -1;
	int64_t left = x->f.amount - x->f.amount_refunded;
	if (left < 1)
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"Application fee %s has already been refunded.", x->f.id);
	int64_t amount = left;
	if (param_int(r, "amount", &amount) && (amount < 1 || amount > left))
		return req_fail(r, ERR_PARAM_BAD, "amount",
				"Refund amount (%lld) is greater than the unrefunded amount of the "
				"application fee (%lld).",
				(long long)amount, (long long)left);
	const char *metadata = "{}";
	if (metadata_apply(r, NULL, "metadata", &metadata) != 0)
		return -1;
	struct event_origin o = {r->request_id, r->idempotency_key, r->livemode};
	int rc = application_fee_refund(db, &r->arena, r->merchant_id, &x->f, amount, metadata,
					r->now, &o, &x->v);
	if (rc == DB_CONFLICT)
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"Application fee %s has less left to refund than that.", x->f.id);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	fee_refund_render(&x->v, req_json(r));
	return 0;
}

static int h_refund_create(struct req *r)
{
	struct refund_ctx x = {.r = r, .fee_id = r->args[0]};
	return req_write(r, refund_create_fn, &x);
}

/* POST /v1/application_fees/{id}/refund (the older form): the same refund in the same write,
 * answered with the application fee as it is after it. */
static int legacy_refund_fn(struct db *db, void *arg)
{
	struct refund_ctx *x = arg;
	struct req *r = x->r;
	if (refund_create_fn(db, arg) != 0)
		return -1;
	if (application_fee_load(db, &r->arena, r->merchant_id, x->fee_id, &x->f) != DB_OK ||
	    application_fee_render(db, &r->arena, r->merchant_id, r->livemode, &x->f,
				   req_json(r)) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

static int h_legacy_refund(struct req *r)
{
	struct refund_ctx x = {.r = r, .fee_id = r->args[0]};
	return req_write(r, legacy_refund_fn, &x);
}

static int refund_load_fn(struct db *db, void *arg)
{
	struct refund_ctx *x = arg;
	struct req *r = x->r;
	int rc = fee_refund_load(db, &r->arena, r->merchant_id, x->fee_id, x->id, &x->v);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "fee_refund", x->id, "id");
	return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static int refund_retrieve_fn(struct db *db, void *arg)
{
	struct refund_ctx *x = arg;
	if (refund_load_fn(db, arg) != 0)
		return -1;
	fee_refund_render(&x->v, req_json(x->r));
	return 0;
}

static int h_refund_retrieve(struct req *r)
{
	struct refund_ctx x = {.r = r, .fee_id = r->args[0], .id = r->args[1]};
	return req_read(r, refund_retrieve_fn, &x) == 0 ? 0 : -1;
}

static int refund_update_fn(struct db *db, void *arg)
{
	struct refund_ctx *x = arg;
	struct req *r = x->r;
	if (refund_load_fn(db, arg) != 0)
		return -1;
	if (metadata_apply(r, x->v.metadata, "metadata", &x->v.metadata) != 0)
		return -1;
	if (fee_refund_set_metadata(db, r->merchant_id, &x->v) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	fee_refund_render(&x->v, req_json(r));
	return 0;
}

static int h_refund_update(struct req *r)
{
	struct refund_ctx x = {.r = r, .fee_id = r->args[0], .id = r->args[1]};
	return req_write(r, refund_update_fn, &x);
}

static const char SQL_FR_CURSOR[] =
    "SELECT created FROM application_fee_refunds WHERE merchant_id = $1 AND id = $2";
static const char SQL_FR_DESC[] =
    "SELECT id FROM application_fee_refunds WHERE merchant_id = $1 AND id > $2 AND id < $3"
    " AND fee = $5 ORDER BY id DESC LIMIT $4";
static const char SQL_FR_ASC[] =
    "SELECT id FROM application_fee_refunds WHERE merchant_id = $1 AND id > $2 AND id < $3"
    " AND fee = $5 ORDER BY id ASC LIMIT $4";

static int refund_list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	db_bind_text(st, first, r->args[0], -1);
	return 0;
}

static int refund_list_render(struct req *r, struct db *db, const char *id, struct json *j,
			      void *ctx)
{
	(void)ctx;
	struct fee_refund v;
	int rc = fee_refund_load(db, &r->arena, r->merchant_id, r->args[0], id, &v);
	if (rc == DB_OK)
		fee_refund_render(&v, j);
	return rc;
}

static int refund_exists_fn(struct db *db, void *arg)
{
	return fee_fn(db, arg);
}

static int h_refund_list(struct req *r)
{
	struct refund_ctx x = {.r = r, .fee_id = r->args[0]};
	if (req_read(r, refund_exists_fn, &x) != 0)
		return -1;
	const char *url = arena_printf(&r->arena, "/v1/application_fees/%s/refunds", r->args[0]);
	if (!url)
		return req_fail(r, ERR_API, NULL, NULL);
	const struct list_spec spec = {
	    .url = url,
	    .object_name = "fee_refund",
	    .id_prefix = "fr_",
	    .sql_cursor = SQL_FR_CURSOR,
	    .sql_desc = SQL_FR_DESC,
	    .sql_asc = SQL_FR_ASC,
	    .bind_filters = refund_list_bind,
	    .render = refund_list_render,
	};
	return list_respond(r, &spec);
}

static const struct param_spec refund_create_params[] = {
    {"amount", PT_INT, 0, 0, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec legacy_refund_params[] = {
    {"amount", PT_INT, 0, 0, NULL, NULL},
    /* Stripe's spec lists `directive` on this legacy route with no description and no effect
     * Stripe documents: taken (a string, as there) and changes nothing */
    {"directive", PT_STRING, 0, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec metadata_params[] = {
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec list_params[] = {
    {"charge", PT_STRING, 0, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

const struct route application_fees_routes[] = {
    {"GET", "/v1/application_fees", h_list, list_params, ROUTE_LIST},
    {"POST", "/v1/application_fees/{id}/refunds", h_refund_create, refund_create_params, 0},
    {"POST", "/v1/application_fees/{id}/refund", h_legacy_refund, legacy_refund_params, 0},
    {"GET", "/v1/application_fees/{id}/refunds", h_refund_list, no_params, ROUTE_LIST},
    {"GET", "/v1/application_fees/{id}/refunds/{id}", h_refund_retrieve, no_params, 0},
    {"POST", "/v1/application_fees/{id}/refunds/{id}", h_refund_update, metadata_params, 0},
    {"GET", "/v1/application_fees/{id}", h_retrieve, no_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};

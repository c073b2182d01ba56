/*
 * Invoice payments: GET /v1/invoice_payments and GET /v1/invoice_payments/{id} (stripe-node's
 * invoicePayments.list / retrieve). Stripe's invoice_payment records one payment of an invoice.
 * A Tender invoice is paid by one PaymentIntent (a new attempt confirms the same intent again),
 * so an invoice has at most one, shown by the invoice's `payments` (invoices.c,
 * invoice_payment_render) and read here from the invoice itself: its id is "inpay_" and the
 * invoice id's body, so nothing more is stored and the two can never disagree.
 *
 * The list walks invoices that have a PaymentIntent, newest first, paged by their ids (an
 * inpay_ id's body is its invoice's), with Stripe's filters: `invoice`, `payment[type]`
 * (`payment_intent`; `payment_record`, which Tender never makes, lists nothing),
 * `payment[payment_intent]`, `status` (`paid`, `open`, `canceled`) and `created`.
 */
#include <string.h>

#include "api/billing_internal.h"
#include "api/common.h"
#include "api/list.h"
#include "http/params.h"

#define INPAY_PREFIX "inpay_"

/* inpay_X → in_X, for the invoice behind an invoice payment's id; NULL when it is not one */
static const char *invoice_of(struct req *r, const char *id)
{
	size_t n = strlen(INPAY_PREFIX);
	if (strncmp(id, INPAY_PREFIX, n) != 0 || !id[n] || strlen(id) >= ID_MAX)
		return NULL;
	return arena_printf(&r->arena, "in_%s", id + n);
}

static int render_one(struct req *r, struct db *db, const char *invoice_id, struct json *j)
{
	struct invoice in;
	int rc = invoice_load(r, db, invoice_id, &in);
	if (rc != DB_OK)
		return rc;
	if (!in.payment_intent)
		return DB_NOTFOUND;
	invoice_payment_render(&in, j);
	return DB_OK;
}

struct one_ctx {
	struct req *r;
	const char *id;
};

static int retrieve_fn(struct db *db, void *p)
{
	struct one_ctx *c = p;
	struct req *r = c->r;
	const char *invoice = invoice_of(r, c->id);
	int rc = invoice ? render_one(r, db, invoice, req_json(r)) : DB_NOTFOUND;
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "invoice_payment", c->id, "id");
	return rc == DB_OK ? 0 : r->err.set ? -1 : req_fail(r, ERR_API, NULL, NULL);
}

static int h_retrieve(struct req *r)
{
	struct one_ctx c = {r, r->args[0]};
	return req_read(r, retrieve_fn, &c) == 0 ? 0 : -1;
}

/* The bounds list.c hands over are inpay_ ids (a cursor, or a created second's edge made with
 * the inpay_ prefix); the invoices' own ids have the same body after "in_". */
static const char SQL_CURSOR[] =
    "SELECT created FROM invoices WHERE merchant_id = $1 AND id = 'in_' || substr($2, 7)"
    " AND payment_intent IS NOT NULL";
#define LIST_WHERE                                                                                 \
	"SELECT id FROM invoices WHERE merchant_id = $1 AND id > 'in_' || substr($2, 7)"           \
	" AND id < 'in_' || substr($3, 7) AND payment_intent IS NOT NULL"                          \
	" AND ($5 IS NULL OR id = $5) AND ($6 IS NULL OR payment_intent = $6)"                     \
	" AND ($7 IS NULL OR ($7 = 'paid' AND status = 'paid') OR ($7 = 'canceled' AND"            \
	" status = 'void') OR ($7 = 'open' AND status NOT IN ('paid', 'void')))"                   \
	" AND $8 = 1"
static const char SQL_DESC[] = LIST_WHERE " ORDER BY id DESC LIMIT $4";
static const char SQL_ASC[] = LIST_WHERE " ORDER BY id ASC LIMIT $4";

static int list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	list_bind_filter(r, st, first, "invoice");
	list_bind_filter(r, st, first + 1, "payment.payment_intent");
	list_bind_filter(r, st, first + 2, "status");
	/* payment[type]=payment_record: Tender records none */
	const char *type = param_str(r, "payment.type");
	db_bind_int64(st, first + 3, type && strcmp(type, "payment_record") == 0 ? 0 : 1);
	return 0;
}

static int list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	return render_one(r, db, id, j);
}

static int h_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/invoice_payments",
	    .object_name = "invoice_payment",
	    .id_prefix = INPAY_PREFIX,
	    .sql_cursor = SQL_CURSOR,
	    .sql_desc = SQL_DESC,
	    .sql_asc = SQL_ASC,
	    .bind_filters = list_bind,
	    .render = list_render,
	};
	return list_respond(r, &spec);
}

static const struct param_spec payment_children[] = {
    {"type", PT_ENUM, PF_REQUIRED, 0,
     (const char *const[]){"payment_intent", "payment_record", NULL}, NULL},
    {"payment_intent", PT_STRING, 0, 255, NULL, NULL},
    {"payment_record", PT_STRING, 0, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec list_params[] = {
    {"invoice", PT_STRING, 0, 255, NULL, NULL},
    {"payment", PT_OBJECT, 0, 0, NULL, payment_children},
    {"status", PT_ENUM, 0, 0, (const char *const[]){"canceled", "open", "paid", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

const struct route invoice_payments_routes[] = {
    {"GET", "/v1/invoice_payments", h_list, list_params, ROUTE_LIST},
    {"GET", "/v1/invoice_payments/{id}", h_retrieve, no_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};

/*
 * Stripe's Search API for invoices and subscriptions (GET /v1/invoices/search,
 * GET /v1/subscriptions/search): the query language and paging of api/search.c over each table's
 * own scan, rendered by the resources' own renderers, so a result is exactly what a retrieve
 * answers.
 *
 * Invoices search by created, currency, customer, last_finalization_error_code and _type,
 * metadata, number, receipt_number, status, subscription and total, as Stripe's do. Tender never
 * records a finalization error or a receipt number (finalizing cannot fail here, and receipts are
 * not numbered), so those fields are always null and match only `null`. An exact customer narrows
 * the scan to the customer's index. Subscriptions search by created, metadata and status.
 *
 * The routes are a table of their own, ahead of the invoices' and subscriptions' tables, whose
 * /v1/…/{id} routes would otherwise take "search" for an id.
 */
#include <stddef.h>

#include "api/billing_internal.h"
#include "api/common.h"
#include "api/resources.h"
#include "api/search.h"

static const char SQL_INVOICE_SEARCH[] =
    "SELECT id, created, currency, customer, NULL, NULL, metadata, number, NULL, status,"
    " subscription, total FROM invoices WHERE merchant_id = $1 AND id > $2 AND id < $3"
    " AND ($5 IS NULL OR customer = $5) ORDER BY id DESC LIMIT $4";
/* the same for an exact customer (search.h), from invoices_customer */
static const char SQL_INVOICE_SEARCH_CUSTOMER[] =
    "SELECT id, created, currency, customer, NULL, NULL, metadata, number, NULL, status,"
    " subscription, total FROM invoices WHERE merchant_id = $1 AND customer = $5 AND id > $2"
    " AND id < $3 ORDER BY id DESC LIMIT $4";

static const struct search_field invoice_search_fields[] = {
    {"created", SEARCH_NUMBER, false, 1, NULL},
    {"currency", SEARCH_STRING, false, 2, NULL},
    {"customer", SEARCH_STRING, false, 3, NULL},
    {"last_finalization_error_code", SEARCH_STRING, false, 4, NULL},
    {"last_finalization_error_type", SEARCH_STRING, false, 5, NULL},
    {"metadata", SEARCH_METADATA, false, 6, NULL},
    {"number", SEARCH_STRING, false, 7, NULL},
    {"receipt_number", SEARCH_STRING, false, 8, NULL},
    {"status", SEARCH_STRING, false, 9, NULL},
    {"subscription", SEARCH_STRING, false, 10, NULL},
    {"total", SEARCH_NUMBER, false, 11, NULL},
    {NULL, 0, false, 0, NULL},
};

static int invoice_search_render(struct req *r, struct db *db, const char *id, struct json *j)
{
	return invoice_render_by_id(r, db, id, "data.", j);
}

static int h_invoice_search(struct req *r)
{
	static const struct search_spec spec = {
	    .url = "/v1/invoices/search",
	    .resource = "invoices",
	    .id_prefix = "in_",
	    .fields = invoice_search_fields,
	    .sql_scan = SQL_INVOICE_SEARCH,
	    .sql_scan_narrow = SQL_INVOICE_SEARCH_CUSTOMER,
	    .prefilter = "customer",
	    .render = invoice_search_render,
	};
	return search_respond(r, &spec);
}

static const char SQL_SUBSCRIPTION_SEARCH[] =
    "SELECT id, created, metadata, status FROM subscriptions WHERE merchant_id = $1 AND id > $2"
    " AND id < $3 AND ($5 IS NULL OR customer = $5) ORDER BY id DESC LIMIT $4";

static const struct search_field subscription_search_fields[] = {
    {"created", SEARCH_NUMBER, false, 1, NULL},
    {"metadata", SEARCH_METADATA, false, 2, NULL},
    {"status", SEARCH_STRING, false, 3, NULL},
    {NULL, 0, false, 0, NULL},
};

static int subscription_search_render(struct req *r, struct db *db, const char *id, struct json *j)
{
	return subscription_render_by_id(r, db, id, "data.", j);
}

static int h_subscription_search(struct req *r)
{
	static const struct search_spec spec = {
	    .url = "/v1/subscriptions/search",
	    .resource = "subscriptions",
	    .id_prefix = "sub_",
	    .fields = subscription_search_fields,
	    .sql_scan = SQL_SUBSCRIPTION_SEARCH,
	    .prefilter = NULL,
	    .render = subscription_search_render,
	};
	return search_respond(r, &spec);
}

const struct route billing_search_routes[] = {
    {"GET", "/v1/invoices/search", h_invoice_search, search_params, 0},
    {"GET", "/v1/subscriptions/search", h_subscription_search, search_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};

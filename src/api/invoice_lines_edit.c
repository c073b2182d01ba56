/*
 * Editing a draft invoice's lines (stripe-node's invoices.addLines, updateLines, removeLines and
 * updateLineItem): POST /v1/invoices/{id}/add_lines, …/update_lines, …/remove_lines and
 * POST /v1/invoices/{id}/lines/{line_id}.
 *
 * A line of a one-off draft is an invoice item on it (invoice_items.c), so each line's change is
 * POST /v1/invoiceitems' own create, update or delete, run as a step of this request's one write
 * (invoice_item_create_step, …) with r->params pointed at the line: the same checks, amounts,
 * discounts, tax rates and events (invoiceitem.created / updated / deleted). Once every line is
 * done the draft's subtotal, discounts, taxes and total are computed again from what it then
 * holds, by the computation every draft uses (invoice_discounts_apply), and invoice.updated is
 * appended, in the same write; one line refused refuses the request, and nothing changes.
 *
 * A line `add_lines` names by `invoice_item` is a pending item of the invoice's customer put on
 * the draft; `remove_lines` deletes a line's item (behavior=delete) or makes it pending again
 * (unassign). A subscription's line (its items' period lines, stored with the invoice) changes
 * only through its subscription: Tender refuses to change or remove it (400).
 */
#include <stdio.h>
#include <string.h>

#include "api/billing_internal.h"
#include "api/common.h"
#include "core/str.h"
#include "http/form.h"

struct lines_ctx {
	struct req *r;
	const char *id;	  /* the invoice */
	const char *line; /* a line's update: its id */
	enum { LINES_ADD, LINES_UPDATE, LINES_REMOVE, LINES_ONE } op;
};

static const char SQL_COUNT[] = "SELECT COUNT(*) FROM invoice_items WHERE merchant_id = $1"
				" AND invoice = $2 AND deleted = 0";

/* The invoice `id`, a draft (Stripe edits only a draft's lines). 0, or -1 with r->err. */
static int draft_load(struct req *r, struct db *db, const char *id, struct invoice *in)
{
	int rc = invoice_load(r, db, id, in);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "invoice", id, "id");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!str_eq(in->status, "draft"))
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"You can only edit the lines of a draft invoice; invoice %s is %s.",
				in->id, in->status);
	return 0;
}

/* The invoice item behind line `lid` of draft in (a line's id is its item's, "il_" for "ii_").
 * A subscription's line is refused; another id is 404. shown: the id's name in errors. 0, or -1
 * with r->err. */
static int line_item(struct req *r, struct db *db, const struct invoice *in, const char *lid,
		     const char *shown, struct invoice_item *ret)
{
	if (strncmp(lid, "il_", 3) == 0 && strlen(lid) < ID_MAX) {
		char iid[ID_MAX];
		snprintf(iid, sizeof(iid), "ii_%s", lid + 3);
		int rc = invoice_item_load(r, db, iid, ret);
		if (rc != DB_OK && rc != DB_NOTFOUND)
			return req_fail(r, ERR_API, NULL, NULL);
		if (rc == DB_OK && !ret->deleted && str_eq(ret->invoice, in->id))
			return 0;
	}
	char needle[ID_MAX + 16];
	snprintf(needle, sizeof(needle), "\"id\":\"%s\"", lid);
	if (in->lines && strstr(in->lines, needle))
		return req_fail(r, ERR_PARAM_BAD, shown,
				"The line %s is a line of subscription %s: it changes only through "
				"the subscription (its items, prices and quantities).",
				lid, in->subscription ? in->subscription : "");
	return req_fail_missing(r, "line_item", lid, shown);
}

/* A line's pricing[price] is read where the invoice item's code reads `price`. */
static int price_alias(struct req *r)
{
	const char *price = param_str(r, "pricing.price");
	if (!price)
		return 0;
	return req_param_set(r, "price", price);
}

/* r->err named under the line (lines[k][…]) its parameter is a part of; the invoice item's
 * names become the line's (price: pricing[price]; currency: the line's price or price_data). */
static void err_under_line(struct req *r, const char *key, const struct form_node *line)
{
	if (!r->err.set || r->err.param[0] == '\0')
		return;
	char old[sizeof(r->err.param)];
	str_copy(old, sizeof(old), r->err.param);
	const char *name = old;
	if (str_eq(old, "price"))
		name = "pricing[price]";
	else if (str_eq(old, "currency"))
		name = form_get(line, "price_data") ? "price_data[currency]" : "pricing[price]";
	else if (str_eq(old, "customer") || str_eq(old, "invoice"))
		name = "";
	char now[sizeof(r->err.param)];
	if (!key)
		str_copy(now, sizeof(now), name);
	else if (!*name)
		snprintf(now, sizeof(now), "lines[%s]", key);
	else {
		size_t head = strcspn(name, "[");
		snprintf(now, sizeof(now), "lines[%s][%.*s]%s", key, (int)head, name, name + head);
	}
	if (strcmp(r->err.detail, old) == 0) /* parameter_missing's detail is the name */
		str_copy(r->err.detail, sizeof(r->err.detail), now);
	str_copy(r->err.param, sizeof(r->err.param), now);
}

/* One line of add_lines (r->params at it): a new item on in, or the pending item it names put
 * on in (then changed as the line says, when it says more). */
static int add_one(struct req *r, struct db *db, const struct invoice *in)
{
	struct invoice_item ii;
	const char *assign = param_str(r, "invoice_item");
	bool more = r->params->child_count > 1; /* anything beside invoice_item */
	if (price_alias(r) != 0)
		return -1;
	if (assign && *assign) {
		if (invoice_item_assign_step(r, db, assign, in, &ii) != 0)
			return -1;
		return more ? invoice_item_update_step(r, db, ii.id, &ii) : 0;
	}
	/* the create of POST /v1/invoiceitems with invoice=…: the draft's customer and currency */
	if (req_param_set(r, "customer", in->customer) != 0 ||
	    req_param_set(r, "currency", in->currency) != 0 ||
	    req_param_set(r, "invoice", in->id) != 0)
		return -1;
	return invoice_item_create_step(r, db, &ii);
}

/* One line of update_lines or remove_lines (r->params at it). */
static int update_one(struct req *r, struct db *db, const struct invoice *in)
{
	struct invoice_item ii;
	if (line_item(r, db, in, param_str(r, "id"), "id", &ii) != 0 || price_alias(r) != 0)
		return -1;
	return invoice_item_update_step(r, db, ii.id, &ii);
}

static int remove_one(struct req *r, struct db *db, const struct invoice *in)
{
	struct invoice_item ii;
	if (line_item(r, db, in, param_str(r, "id"), "id", &ii) != 0)
		return -1;
	return invoice_item_remove_step(r, db, ii.id, str_eq(param_str(r, "behavior"), "unassign"));
}

/* Each line of `lines` through fn, r->params pointed at it meanwhile. 0, or -1 with r->err
 * named under the line. */
static int each_line(struct req *r, struct db *db, const struct invoice *in,
		     int (*fn)(struct req *, struct db *, const struct invoice *))
{
	const struct form_node *root = r->params;
	const struct form_node *lines = param_node(r, "lines");
	for (const struct form_node *c = lines ? lines->first_child : NULL; c; c = c->next) {
		r->params = c;
		int rc = fn(r, db, in);
		r->params = root;
		if (rc != 0) {
			err_under_line(r, c->key, c);
			return -1;
		}
	}
	return 0;
}

/* At most INVOICE_ITEMS_MAX items on one invoice (what it shows and finalizes). */
static int count_check(struct req *r, struct db *db, const char *invoice)
{
	struct db_stmt *st = db_prepare(db, SQL_COUNT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, invoice, -1);
	int rc = db_step(st);
	int64_t n = rc == DB_ROW ? db_col_int64(st, 0) : 0;
	db_reset(st);
	if (rc != DB_ROW)
		return req_fail(r, ERR_API, NULL, NULL);
	if (n > INVOICE_ITEMS_MAX)
		return req_fail(r, ERR_PARAM_BAD, "lines",
				"An invoice takes at most %d invoice items; this one would have "
				"%lld.",
				INVOICE_ITEMS_MAX, (long long)n);
	return 0;
}

static int edit_fn(struct db *db, void *p)
{
	struct lines_ctx *x = p;
	struct req *r = x->r;
	struct invoice in;
	if (draft_load(r, db, x->id, &in) != 0)
		return -1;
	struct invoice_item ii;
	switch (x->op) {
	case LINES_ADD:
		if (each_line(r, db, &in, add_one) != 0 || count_check(r, db, in.id) != 0)
			return -1;
		break;
	case LINES_UPDATE:
		if (each_line(r, db, &in, update_one) != 0)
			return -1;
		break;
	case LINES_REMOVE:
		if (each_line(r, db, &in, remove_one) != 0)
			return -1;
		break;
	case LINES_ONE:
		if (line_item(r, db, &in, x->line, "id", &ii) != 0 || price_alias(r) != 0)
			return -1;
		if (invoice_item_update_step(r, db, ii.id, &ii) != 0) {
			err_under_line(r, NULL, r->params);
			return -1;
		}
		break;
	}
	/* the draft after its lines changed: read again (the steps did not touch its row), its
	 * totals computed as every draft's are, invoice_metadata, invoice.updated */
	if (invoice_load(r, db, x->id, &in) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (param_present(r, "invoice_metadata") &&
	    metadata_apply(r, in.metadata, "invoice_metadata", &in.metadata) != 0)
		return -1;
	if (invoice_discounts_apply(r, db, &in) != 0) {
		if (r->err.code == ERR_AMOUNT_TOO_LARGE)
			str_copy(r->err.param, sizeof(r->err.param),
				 x->op == LINES_ONE ? "amount" : "lines");
		return -1;
	}
	if (invoice_update(r, db, &in) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (invoice_emit(r, db, &in, "invoice.updated") != 0)
		return -1;
	r->answer_event[0] = '\0';
	if (x->op != LINES_ONE)
		return invoice_render(r, db, &in, "", req_json(r));
	/* a line's update answers the line, as it now is on the invoice */
	if (invoice_item_load(r, db, ii.id, &ii) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	bool discounted = in.total_discount_amounts && strcmp(in.total_discount_amounts, "[]") != 0;
	return invoice_item_line_render(r, db, &ii, discounted, NULL, req_json(r)) == 0
		   ? 0
		   : req_fail(r, ERR_API, NULL, NULL);
}

static int h_add_lines(struct req *r)
{
	struct lines_ctx x = {.r = r, .id = r->args[0], .op = LINES_ADD};
	return req_write(r, edit_fn, &x);
}

static int h_update_lines(struct req *r)
{
	struct lines_ctx x = {.r = r, .id = r->args[0], .op = LINES_UPDATE};
	return req_write(r, edit_fn, &x);
}

static int h_remove_lines(struct req *r)
{
	struct lines_ctx x = {.r = r, .id = r->args[0], .op = LINES_REMOVE};
	return req_write(r, edit_fn, &x);
}

static int h_update_line(struct req *r)
{
	struct lines_ctx x = {.r = r, .id = r->args[0], .line = r->args[1], .op = LINES_ONE};
	return req_write(r, edit_fn, &x);
}

static const struct param_spec period_children[] = {
    {"start", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {"end", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec discount_children[] = {
    {"coupon", PT_STRING, 0, COUPON_ID_MAX, NULL, NULL},
    {"promotion_code", PT_STRING, 0, 255, NULL, NULL},
    {"discount", PT_STRING, 0, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec pricing_children[] = {
    {"price", PT_STRING, 0, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec product_data_children[] = {
    {"name", PT_STRING, PF_REQUIRED, 250, NULL, NULL},
    {"description", PT_STRING, 0, 40000, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec price_data_children[] = {
    {"currency", PT_CURRENCY, PF_REQUIRED, 0, NULL, NULL},
    {"product", PT_STRING, 0, 255, NULL, NULL},
    {"product_data", PT_OBJECT, 0, 0, NULL, product_data_children},
    {"unit_amount", PT_INT, 0, 0, NULL, NULL},
    {"unit_amount_decimal", PT_STRING, 0, 40, NULL, NULL},
    {"tax_behavior", PT_ENUM, 0, 0,
     (const char *const[]){"exclusive", "inclusive", "unspecified", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
/* what a line's item takes, on add and update (POST /v1/invoiceitems' names, the price as
 * pricing[price]) */
/* clang-format off */
#define LINE_ITEM_PARAMS                                                                           \
	{"amount", PT_INT, 0, 0, NULL, NULL},                                                      \
	{"description", PT_STRING, PF_EMPTYABLE, 500, NULL, NULL},                                 \
	{"discountable", PT_BOOL, 0, 0, NULL, NULL},                                               \
	{"discounts", PT_OBJECT_ARRAY, PF_EMPTYABLE, DISCOUNTS_MAX, NULL, discount_children},      \
	{"metadata", PT_METADATA, 0, 0, NULL, NULL},                                               \
	{"period", PT_OBJECT, 0, 0, NULL, period_children},                                        \
	{"price_data", PT_OBJECT, 0, 0, NULL, price_data_children},                                \
	{"pricing", PT_OBJECT, 0, 0, NULL, pricing_children},                                      \
	{"quantity", PT_INT, 0, 0, NULL, NULL},                                                    \
	{"tax_rates", PT_STRING_ARRAY, PF_EMPTYABLE, 0, NULL, NULL}
/* clang-format on */
static const struct param_spec add_line_children[] = {
    LINE_ITEM_PARAMS,
    {"invoice_item", PT_STRING, 0, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec update_line_children[] = {
    LINE_ITEM_PARAMS,
    {"id", PT_STRING, PF_REQUIRED, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec remove_line_children[] = {
    {"id", PT_STRING, PF_REQUIRED, 255, NULL, NULL},
    {"behavior", PT_ENUM, PF_REQUIRED, 0, (const char *const[]){"delete", "unassign", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec add_params[] = {
    {"lines", PT_OBJECT_ARRAY, PF_REQUIRED, INVOICE_ITEMS_MAX, NULL, add_line_children},
    {"invoice_metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec update_params[] = {
    {"lines", PT_OBJECT_ARRAY, PF_REQUIRED, INVOICE_ITEMS_MAX, NULL, update_line_children},
    {"invoice_metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec remove_params[] = {
    {"lines", PT_OBJECT_ARRAY, PF_REQUIRED, INVOICE_ITEMS_MAX, NULL, remove_line_children},
    {"invoice_metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec update_line_params[] = {
    LINE_ITEM_PARAMS,
    {NULL, 0, 0, 0, NULL, NULL},
};

const struct route invoice_lines_edit_routes[] = {
    {"POST", "/v1/invoices/{id}/add_lines", h_add_lines, add_params, 0},
    {"POST", "/v1/invoices/{id}/update_lines", h_update_lines, update_params, 0},
    {"POST", "/v1/invoices/{id}/remove_lines", h_remove_lines, remove_params, 0},
    {"POST", "/v1/invoices/{id}/lines/{line_id}", h_update_line, update_line_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};

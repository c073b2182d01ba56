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
 * A line's tax_amounts are the merchant's own figures for its taxes: kept for the line
 * (invoice_item_tax_amounts, while its item is on that invoice), each naming an archived tax rate
 * made once from its tax_rate_data, and taken by the invoice computation as they are instead of
 * computing them from rates. As on Stripe they are refused on an invoice whose lines have tax
 * rates or that has default_tax_rates or automatic tax.
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
#include "billing/billing.h"
#include "billing/tax.h"
#include "core/digest.h"
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

static const char SQL_AMOUNTS_LOAD[] =
    "SELECT tax_rate, inclusive, amount, taxable_amount FROM invoice_item_tax_amounts"
    " WHERE merchant_id = $1 AND invoice_item = $2 AND invoice = $3 ORDER BY pos LIMIT $4";
static const char SQL_AMOUNTS_DELETE[] =
    "DELETE FROM invoice_item_tax_amounts WHERE merchant_id = $1 AND invoice_item = $2";
static const char SQL_AMOUNT_INSERT[] =
    "INSERT INTO invoice_item_tax_amounts (merchant_id, invoice_item, pos, invoice, tax_rate,"
    " inclusive, amount, taxable_amount, taxability_reason)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
/* archived (active 0) and Tender's own (automatic 1: out of the merchant's lists), as Stripe
 * makes a rate of tax_rate_data; the same data names the same row */
static const char SQL_AMOUNT_RATE_PUT[] =
    "INSERT INTO tax_rates (merchant_id, id, created, display_name, percent_e4, inclusive,"
    " active, country, state, jurisdiction, description, tax_type, metadata, automatic)"
    " VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8, $9, $10, $11, '{}', 1)"
    " ON CONFLICT (merchant_id, id) DO NOTHING";
/* the live items on an invoice with tax amounts of their own there, and with tax rates */
static const char SQL_AMOUNTS_ON[] =
    "SELECT COUNT(*) FROM invoice_item_tax_amounts a JOIN invoice_items i"
    " ON i.merchant_id = a.merchant_id AND i.id = a.invoice_item AND i.invoice = a.invoice"
    " WHERE a.merchant_id = $1 AND a.invoice = $2 AND i.deleted = 0";
static const char SQL_RATED_ON[] = "SELECT COUNT(*) FROM tax_rate_links l JOIN invoice_items i"
				   " ON i.merchant_id = l.merchant_id AND i.id = l.owner"
				   " WHERE l.merchant_id = $1 AND i.invoice = $2 AND i.deleted = 0";

int invoice_item_tax_amounts_load(struct req *r, struct db *db, const char *item,
				  const char *invoice, struct inv_line *l)
{
	l->n_fixed = 0;
	l->fixed = NULL;
	struct db_stmt *st = db_prepare(db, SQL_AMOUNTS_LOAD);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, item, -1);
	db_bind_text(st, 3, invoice, -1);
	db_bind_int64(st, 4, BILLING_TAX_RATES_MAX);
	struct invoice_tax_entry e[BILLING_TAX_RATES_MAX];
	int n = 0, rc;
	while (n < BILLING_TAX_RATES_MAX && (rc = db_step(st)) == DB_ROW) {
		memset(&e[n], 0, sizeof(e[n]));
		str_copy(e[n].rate, sizeof(e[n].rate), db_col_text(st, 0, NULL));
		e[n].inclusive = db_col_int64(st, 1) != 0;
		e[n].amount = db_col_int64(st, 2);
		e[n].taxable = db_col_int64(st, 3);
		n++;
	}
	db_reset(st);
	if (rc < 0)
		return rc;
	if (n) {
		struct invoice_tax_entry *f = arena_alloc(&r->arena, (size_t)n * sizeof(*f));
		if (!f)
			return DB_ERR;
		memcpy(f, e, (size_t)n * sizeof(*f));
		l->fixed = f;
		l->n_fixed = n;
	}
	return DB_OK;
}

/* COUNT(*) of sql on (merchant, invoice) into *ret. 0, or -1 with r->err. */
static int count_of(struct req *r, struct db *db, const char *sql, const char *invoice,
		    int64_t *ret)
{
	struct db_stmt *st = db_prepare(db, sql);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, invoice, -1);
	int rc = db_step(st);
	*ret = rc == DB_ROW ? db_col_int64(st, 0) : 0;
	db_reset(st);
	return rc == DB_ROW ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* The archived rate of tax_amounts entry `p` (a dotted path ending in '.') at t: its id derived
 * from its data, so that the same data names the same rate. 0, or -1 with r->err. */
static int amount_rate(struct req *r, struct db *db, const char *p, const char *shown, int64_t t,
		       bool *ret_inclusive, char ret_id[ID_MAX])
{
	char path[160], err[160];
#define AT(k) (snprintf(path, sizeof(path), "%stax_rate_data.%s", p, k), path)
	const char *name = param_str(r, AT("display_name"));
	const char *pct = param_str(r, AT("percentage"));
	const char *country = param_str(r, AT("country"));
	const char *state = param_str(r, AT("state"));
	const char *juris = param_str(r, AT("jurisdiction"));
	const char *level = param_str(r, AT("jurisdiction_level"));
	const char *desc = param_str(r, AT("description"));
	const char *type = param_str(r, AT("tax_type"));
	bool inclusive = false;
	param_bool(r, AT("inclusive"), &inclusive);
#undef AT
	int64_t e4;
	if (!pct || billing_tax_percent_parse(pct, &e4) != 0) {
		snprintf(err, sizeof(err), "%s[tax_rate_data][percentage]", shown);
		return req_fail(r, ERR_PARAM_BAD, err,
				"The percentage must be between 0 and 100, with at most four "
				"decimals.");
	}
	char canon[2048], hex[65];
	int len =
	    snprintf(canon, sizeof(canon), "%s\x1f%lld\x1f%d\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s",
		     name ? name : "", (long long)e4, inclusive ? 1 : 0, country ? country : "",
		     state ? state : "", juris ? juris : "", level ? level : "", desc ? desc : "",
		     type ? type : "");
	if (len < 0 || (size_t)len >= sizeof(canon) ||
	    digest_sha256_hex(canon, (size_t)len, hex) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	snprintf(ret_id, ID_MAX, "txr_amt%.24s", hex);
	struct db_stmt *st = db_prepare(db, SQL_AMOUNT_RATE_PUT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, ret_id, -1);
	db_bind_int64(st, 3, t);
	db_bind_text(st, 4, name ? name : "", -1);
	db_bind_int64(st, 5, e4);
	db_bind_int64(st, 6, inclusive ? 1 : 0);
	db_bind_text(st, 7, country && *country ? country : NULL, -1);
	db_bind_text(st, 8, state && *state ? state : NULL, -1);
	db_bind_text(st, 9, juris && *juris ? juris : NULL, -1);
	db_bind_text(st, 10, desc && *desc ? desc : NULL, -1);
	db_bind_text(st, 11, type && *type ? type : NULL, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	*ret_inclusive = inclusive;
	return 0;
}

/* The line's tax_amounts (r->params at it), when given, replace item ii's on its invoice ("":
 * none). Refused beside the line's own tax rates. 0, or -1 with r->err. */
static int tax_amounts_set(struct req *r, struct db *db, const struct invoice_item *ii)
{
	const struct form_node *arr = param_node(r, "tax_amounts");
	if (!arr)
		return 0;
	int n = arr->kind == FORM_ARRAY ? (int)arr->child_count : 0;
	struct tax_rate *rates = arena_alloc(&r->arena, BILLING_TAX_RATES_MAX * sizeof(*rates));
	int n_rates = 0;
	if (!rates || tax_links_load(r, db, ii->id, rates, &n_rates) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (n && n_rates)
		return req_fail(r, ERR_PARAM_BAD, "tax_amounts",
				"You cannot set tax_amounts on a line item that has tax_rates.");
	struct db_stmt *st = db_prepare(db, SQL_AMOUNTS_DELETE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, ii->id, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	int64_t t;
	if (billing_now(r, db, ii->test_clock, &t) != 0)
		return -1;
	int k = 0;
	for (const struct form_node *c = n ? arr->first_child : NULL; c; c = c->next, k++) {
		char p[64], shown[64], path[96];
		snprintf(p, sizeof(p), "tax_amounts.%s.", c->key);
		snprintf(shown, sizeof(shown), "tax_amounts[%s]", c->key);
		int64_t amount = 0, taxable = 0;
		snprintf(path, sizeof(path), "%samount", p);
		param_int(r, path, &amount);
		snprintf(path, sizeof(path), "%staxable_amount", p);
		param_int(r, path, &taxable);
		if (amount < 0 || amount > BILLING_AMOUNT_MAX) {
			snprintf(path, sizeof(path), "%s[amount]", shown);
			return req_fail(r, ERR_PARAM_BAD, path,
					"A tax amount must be between 0 and %lld.",
					(long long)BILLING_AMOUNT_MAX);
		}
		if (taxable < -BILLING_AMOUNT_MAX || taxable > BILLING_AMOUNT_MAX) {
			snprintf(path, sizeof(path), "%s[taxable_amount]", shown);
			return req_fail(r, ERR_PARAM_BAD, path,
					"A taxable amount must be at most %lld either way.",
					(long long)BILLING_AMOUNT_MAX);
		}
		char rate[ID_MAX];
		bool inclusive = false;
		if (amount_rate(r, db, p, shown, t, &inclusive, rate) != 0)
			return -1;
		snprintf(path, sizeof(path), "%staxability_reason", p);
		const char *why = param_str(r, path);
		st = db_prepare(db, SQL_AMOUNT_INSERT);
		if (!st)
			return req_fail(r, ERR_API, NULL, NULL);
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, ii->id, -1);
		db_bind_int64(st, 3, k);
		db_bind_text(st, 4, ii->invoice, -1);
		db_bind_text(st, 5, rate, -1);
		db_bind_int64(st, 6, inclusive ? 1 : 0);
		db_bind_int64(st, 7, amount);
		db_bind_int64(st, 8, taxable);
		db_bind_text(st, 9, why && *why ? why : NULL, -1);
		if (db_step_done(st) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	return 0;
}

/* Stripe's rule for an invoice some of whose lines have tax_amounts: no line with tax rates, no
 * default_tax_rates, no automatic tax. shown: the parameter named. 0, or -1 with r->err. */
int invoice_tax_amounts_allowed(struct req *r, struct db *db, const struct invoice *in,
				const char *shown)
{
	int64_t fixed, rated;
	if (count_of(r, db, SQL_AMOUNTS_ON, in->id, &fixed) != 0)
		return -1;
	if (!fixed)
		return 0;
	struct tax_rate *rates = arena_alloc(&r->arena, BILLING_TAX_RATES_MAX * sizeof(*rates));
	int n_defaults = 0;
	if (!rates || tax_links_load(r, db, in->id, rates, &n_defaults) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (count_of(r, db, SQL_RATED_ON, in->id, &rated) != 0)
		return -1;
	if (rated || n_defaults || in->automatic_tax)
		return req_fail(
		    r, ERR_PARAM_BAD, shown,
		    "You cannot set tax amounts if any line item has tax_rates or if the "
		    "invoice has default_tax_rates or uses automatic tax.");
	return 0;
}

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
	/* anything the item itself takes, beside invoice_item (and the line's tax_amounts) */
	bool more = false;
	for (const struct form_node *c = r->params->first_child; c; c = c->next)
		more = more ||
		       (strcmp(c->key, "invoice_item") != 0 && strcmp(c->key, "tax_amounts") != 0);
	/* its pricing[price] is read by the invoice item's code itself */
	if (assign && *assign) {
		if (invoice_item_assign_step(r, db, assign, in, &ii) != 0 ||
		    (more && invoice_item_update_step(r, db, ii.id, &ii) != 0))
			return -1;
		return tax_amounts_set(r, db, &ii);
	}
	/* the create of POST /v1/invoiceitems with invoice=…: the draft's customer and currency */
	if (req_param_set(r, "customer", in->customer) != 0 ||
	    req_param_set(r, "currency", in->currency) != 0 ||
	    req_param_set(r, "invoice", in->id) != 0 || invoice_item_create_step(r, db, &ii) != 0)
		return -1;
	return tax_amounts_set(r, db, &ii);
}

/* One line of update_lines or remove_lines (r->params at it). */
static int update_one(struct req *r, struct db *db, const struct invoice *in)
{
	struct invoice_item ii;
	if (line_item(r, db, in, param_str(r, "id"), "id", &ii) != 0 ||
	    invoice_item_update_step(r, db, ii.id, &ii) != 0)
		return -1;
	return tax_amounts_set(r, db, &ii);
}

static int remove_one(struct req *r, struct db *db, const struct invoice *in)
{
	struct invoice_item ii;
	if (line_item(r, db, in, param_str(r, "id"), "id", &ii) != 0)
		return -1;
	if (invoice_item_remove_step(r, db, ii.id, str_eq(param_str(r, "behavior"), "unassign")) !=
	    0)
		return -1;
	/* its tax_amounts were the line's: they go with it (an unassigned item has none) */
	struct db_stmt *st = db_prepare(db, SQL_AMOUNTS_DELETE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, ii.id, -1);
	return db_step_done(st) == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
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
		if (line_item(r, db, &in, x->line, "id", &ii) != 0)
			return -1;
		if (invoice_item_update_step(r, db, ii.id, &ii) != 0 ||
		    tax_amounts_set(r, db, &ii) != 0) {
			err_under_line(r, NULL, r->params);
			return -1;
		}
		break;
	}
	if (invoice_tax_amounts_allowed(r, db, &in, x->op == LINES_ONE ? "tax_amounts" : "lines") !=
	    0)
		return -1;
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
static const struct param_spec tax_rate_data_children[] = {
    {"display_name", PT_STRING, PF_REQUIRED, 50, NULL, NULL},
    {"inclusive", PT_BOOL, PF_REQUIRED, 0, NULL, NULL},
    {"percentage", PT_STRING, PF_REQUIRED, 20, NULL, NULL},
    {"country", PT_STRING, 0, 2, NULL, NULL},
    {"state", PT_STRING, 0, 100, NULL, NULL},
    {"jurisdiction", PT_STRING, 0, 50, NULL, NULL},
    {"jurisdiction_level", PT_ENUM, 0, 0,
     (const char *const[]){"city", "country", "county", "district", "multiple", "state", NULL},
     NULL},
    {"description", PT_STRING, 0, 500, NULL, NULL},
    {"tax_type", PT_ENUM, 0, 0,
     (const char *const[]){"admissions_tax",
			   "amusement_tax",
			   "attendance_tax",
			   "communications_tax",
			   "digital_excise_tax",
			   "entertainment_tax",
			   "get_fund",
			   "gross_receipts_tax",
			   "gst",
			   "hospitality_tax",
			   "hst",
			   "igst",
			   "jct",
			   "lease_tax",
			   "luxury_tax",
			   "mass_transit_parking_tax",
			   "nhil",
			   "parking_tax",
			   "pst",
			   "qst",
			   "resort_tax",
			   "retail_delivery_fee",
			   "rst",
			   "sales_tax",
			   "service_tax",
			   "tourism_tax",
			   "utility_users_tax",
			   "vat",
			   NULL},
     NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec tax_amount_children[] = {
    {"amount", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {"taxable_amount", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {"tax_rate_data", PT_OBJECT, PF_REQUIRED, 0, NULL, tax_rate_data_children},
    {"taxability_reason", PT_ENUM, 0, 0,
     (const char *const[]){"customer_exempt", "not_collecting", "not_subject_to_tax",
			   "not_supported", "portion_product_exempt", "portion_reduced_rated",
			   "portion_standard_rated", "product_exempt", "product_exempt_holiday",
			   "proportionally_rated", "reduced_rated", "reverse_charge",
			   "standard_rated", "taxable_basis_reduced", "zero_rated", NULL},
     NULL},
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
	{"tax_rates", PT_STRING_ARRAY, PF_EMPTYABLE, 0, NULL, NULL},                                 \
	{"tax_amounts", PT_OBJECT_ARRAY, PF_EMPTYABLE, BILLING_TAX_RATES_MAX, NULL, tax_amount_children}
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

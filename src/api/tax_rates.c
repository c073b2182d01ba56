/*
 * /v1/tax_rates: create, retrieve, update, list; and the rates applied to billing objects.
 *
 * A tax rate is a percentage (kept exact as percent × 10,000, billing/tax.h; printed back as the
 * shortest decimal, a JSON number as Stripe's spec has it), inclusive or exclusive, with labels
 * (display_name, country, state, jurisdiction, tax_type, description) that change nothing in the
 * arithmetic. As on Stripe, percentage and inclusive are fixed once it is made; archiving it
 * (active=false) keeps it working where it is already applied, but it cannot be newly applied.
 *
 * Rates are applied to an object through tax_rate_links, one row per (object, position): an
 * invoice item's tax_rates, an invoice's and a subscription's default_tax_rates, a subscription
 * item's tax_rates. A subscription's invoice takes the subscription's defaults as its own when
 * it is made (tax_links_copy). What the rates take from an invoice is computed with its
 * discounts, in one place (api/discounts.c's invoice computation calls billing_tax_line), and
 * kept per line in invoice_tax_amounts; this file renders those amounts on lines and invoices.
 */
#include <stdio.h>
#include <string.h>

#include "api/billing_internal.h"
#include "api/common.h"
#include "api/list.h"
#include "core/str.h"
#include "events/events.h"
#include "http/form.h"
#include "tax/engine.h"

#define TAX_LABEL_MAX 50

static const char *const tax_types[] = {"amusement_tax", "communications_tax", "gst", "hst", "igst",
					"jct",		 "lease_tax",	       "pst", "qst", "rst",
					"sales_tax",	 "service_tax",	       "vat", NULL};

#define TAX_RATE_COLS                                                                              \
	"id, created, display_name, percent_e4, inclusive, active, country, state, jurisdiction,"  \
	" description, tax_type, metadata"
static const char SQL_GET[] =
    "SELECT " TAX_RATE_COLS " FROM tax_rates WHERE merchant_id = $1 AND id = $2";
static const char SQL_INSERT[] = "INSERT INTO tax_rates (merchant_id, " TAX_RATE_COLS ")"
				 " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";
static const char SQL_UPDATE[] =
    "UPDATE tax_rates SET display_name = $3, active = $4, country = $5, state = $6,"
    " jurisdiction = $7, description = $8, tax_type = $9, metadata = $10"
    " WHERE merchant_id = $1 AND id = $2";
static const char SQL_LINKS[] = "SELECT tax_rate FROM tax_rate_links WHERE merchant_id = $1"
				" AND owner = $2 ORDER BY pos LIMIT $3";
static const char SQL_LINKS_DELETE[] =
    "DELETE FROM tax_rate_links WHERE merchant_id = $1 AND owner = $2";
static const char SQL_LINK_INSERT[] =
    "INSERT INTO tax_rate_links (merchant_id, owner, pos, tax_rate) VALUES ($1, $2, $3, $4)";
static const char SQL_LINE_TAXES[] =
    "SELECT tax_rate, inclusive, amount, taxable_amount, own FROM invoice_tax_amounts"
    " WHERE merchant_id = $1 AND invoice = $2 AND line = $3 ORDER BY pos LIMIT $4";
static const char SQL_INVOICE_TAXES[] =
    "SELECT tax_rate, inclusive, SUM(amount), SUM(taxable_amount), SUM(pre_discount),"
    " MIN(line || '/' || pos) AS first FROM invoice_tax_amounts"
    " WHERE merchant_id = $1 AND invoice = $2 GROUP BY tax_rate, inclusive ORDER BY first"
    " LIMIT $3";

int tax_rate_load(struct req *r, struct db *db, const char *id, struct tax_rate *t)
{
	struct db_stmt *st = db_prepare(db, SQL_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		struct arena *a = &r->arena;
		memset(t, 0, sizeof(*t));
		str_copy(t->id, sizeof(t->id), db_col_text(st, 0, NULL));
		t->created = db_col_int64(st, 1);
		t->display_name = col_text_dup(a, st, 2);
		t->percent_e4 = db_col_int64(st, 3);
		t->inclusive = db_col_int64(st, 4) != 0;
		t->active = db_col_int64(st, 5) != 0;
		t->country = col_text_dup(a, st, 6);
		t->state = col_text_dup(a, st, 7);
		t->jurisdiction = col_text_dup(a, st, 8);
		t->description = col_text_dup(a, st, 9);
		t->tax_type = col_text_dup(a, st, 10);
		t->metadata = col_text_dup(a, st, 11);
		if (!t->display_name || !t->metadata)
			rc = DB_ERR;
	}
	db_reset(st);
	if (rc == DB_ROW)
		return DB_OK;
	return rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
}

void tax_rate_render(const struct tax_rate *t, struct json *j)
{
	json_obj_open(j);
	json_kv_str(j, "id", t->id);
	json_kv_str(j, "object", "tax_rate");
	json_kv_bool(j, "active", t->active);
	json_kv_str_or_null(j, "country", t->country);
	json_kv_int(j, "created", t->created);
	json_kv_str_or_null(j, "description", t->description);
	json_kv_str(j, "display_name", t->display_name);
	char pct[16];
	billing_percent_format(t->percent_e4, pct, sizeof(pct));
	/* a manual rate's effective percentage is its percentage */
	json_kv_raw(j, "effective_percentage", pct, strlen(pct));
	json_kv_null(j, "flat_amount");
	json_kv_bool(j, "inclusive", t->inclusive);
	json_kv_str_or_null(j, "jurisdiction", t->jurisdiction);
	json_kv_null(j, "jurisdiction_level");
	json_kv_bool(j, "livemode", false);
	json_kv_raw(j, "metadata", t->metadata, strlen(t->metadata));
	json_kv_raw(j, "percentage", pct, strlen(pct));
	json_kv_str(j, "rate_type", "percentage");
	json_kv_str_or_null(j, "state", t->state);
	json_kv_str_or_null(j, "tax_type", t->tax_type);
	json_obj_close(j);
}

/* ---- applied rates ---- */

int tax_rate_spec_parse(struct req *r, const char *param, const char *shown,
			struct tax_rate_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->shown = shown;
	const struct form_node *node = param_node(r, param);
	if (!node)
		return 0;
	s->present = true;
	if (node->kind == FORM_SCALAR) {
		if (node->value_len)
			s->ids[s->n++] = node->value;
		return 0; /* "": none */
	}
	for (const struct form_node *x = node->first_child; x; x = x->next) {
		if (s->n == BILLING_TAX_RATES_MAX)
			return req_fail(r, ERR_PARAM_BAD, shown,
					"At most %d tax rates can be applied.",
					BILLING_TAX_RATES_MAX);
		if (x->kind != FORM_SCALAR || !x->value_len)
			return req_fail(r, ERR_PARAM_BAD, shown, "Invalid tax rate id.");
		for (int k = 0; k < s->n; k++)
			if (strcmp(s->ids[k], x->value) == 0)
				return req_fail(r, ERR_PARAM_BAD, shown,
						"Tax rate %s is given twice.", x->value);
		s->ids[s->n++] = x->value;
	}
	return 0;
}

int tax_links_load(struct req *r, struct db *db, const char *owner, struct tax_rate *ret,
		   int *ret_n)
{
	char ids[BILLING_TAX_RATES_MAX][ID_MAX];
	int n = 0, rc;
	struct db_stmt *st = db_prepare(db, SQL_LINKS);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, owner, -1);
	db_bind_int64(st, 3, BILLING_TAX_RATES_MAX);
	while (n < BILLING_TAX_RATES_MAX && (rc = db_step(st)) == DB_ROW)
		str_copy(ids[n++], ID_MAX, db_col_text(st, 0, NULL));
	db_reset(st);
	if (rc < 0)
		return rc;
	for (int i = 0; i < n; i++) {
		rc = tax_rate_load(r, db, ids[i], &ret[i]);
		if (rc != DB_OK)
			return rc < 0 ? rc : DB_ERR;
	}
	*ret_n = n;
	return DB_OK;
}

int tax_links_set(struct req *r, struct db *db, const char *owner, const struct tax_rate_spec *s)
{
	if (!s->present)
		return 0;
	struct tax_rate had[BILLING_TAX_RATES_MAX];
	int n_had = 0;
	if (tax_links_load(r, db, owner, had, &n_had) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	for (int i = 0; i < s->n; i++) {
		struct tax_rate t;
		int rc = tax_rate_load(r, db, s->ids[i], &t);
		if (rc == DB_NOTFOUND)
			return req_fail_missing(r, "tax_rate", s->ids[i], s->shown);
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		bool kept = false;
		for (int k = 0; k < n_had; k++)
			kept = kept || strcmp(had[k].id, t.id) == 0;
		/* an archived rate keeps working where it is, and is not applied anew */
		if (!t.active && !kept && !s->carried)
			return req_fail(r, ERR_PARAM_BAD, s->shown,
					"Tax rate %s is archived (active=false) and cannot be "
					"applied.",
					t.id);
	}
	struct db_stmt *st = db_prepare(db, SQL_LINKS_DELETE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, owner, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	for (int i = 0; i < s->n; i++) {
		st = db_prepare(db, SQL_LINK_INSERT);
		if (!st)
			return req_fail(r, ERR_API, NULL, NULL);
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, owner, -1);
		db_bind_int64(st, 3, i);
		db_bind_text(st, 4, s->ids[i], -1);
		if (db_step_done(st) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	return 0;
}

int tax_links_copy(struct req *r, struct db *db, const char *from, const char *to)
{
	struct tax_rate had[BILLING_TAX_RATES_MAX];
	int n = 0;
	if (tax_links_load(r, db, from, had, &n) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	struct tax_rate_spec s = {.present = true, .n = n, .shown = "default_tax_rates"};
	for (int i = 0; i < n; i++)
		s.ids[i] = had[i].id;
	/* the copy may carry archived rates: they were applied before (the target has none yet,
	 * so it is written directly) */
	struct db_stmt *st = db_prepare(db, SQL_LINKS_DELETE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, to, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	for (int i = 0; i < s.n; i++) {
		st = db_prepare(db, SQL_LINK_INSERT);
		if (!st)
			return req_fail(r, ERR_API, NULL, NULL);
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, to, -1);
		db_bind_int64(st, 3, i);
		db_bind_text(st, 4, s.ids[i], -1);
		if (db_step_done(st) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	return 0;
}

int tax_links_render(struct req *r, struct db *db, const char *owner, struct json *j)
{
	struct tax_rate rates[BILLING_TAX_RATES_MAX];
	int n = 0;
	int rc = tax_links_load(r, db, owner, rates, &n);
	if (rc != DB_OK)
		return rc;
	json_arr_open(j);
	for (int i = 0; i < n; i++)
		tax_rate_render(&rates[i], j);
	json_arr_close(j);
	return DB_OK;
}

/* ---- what the rates took from an invoice ---- */

/* One tax amount in both of Stripe's shapes: the spec's invoice_tax_amount (tax_amounts,
 * total_tax_amounts) and the newer API's tax entry (taxes, total_taxes). */
static void amount_render(const char *rate, bool inclusive, int64_t amount, int64_t taxable,
			  bool newer, struct json *j)
{
	taxable = tax_entry_taxable(rate, taxable); /* an entry of 0: Stripe shows 0 */
	json_obj_open(j);
	json_kv_int(j, "amount", amount);
	if (newer) {
		json_kv_str(j, "tax_behavior", inclusive ? "inclusive" : "exclusive");
		json_key(j, "tax_rate_details");
		json_obj_open(j);
		json_kv_str(j, "tax_rate", rate);
		json_obj_close(j);
		json_kv_str(j, "taxability_reason", tax_rate_id_reason(rate));
		json_kv_int(j, "taxable_amount", taxable);
		json_kv_str(j, "type", "tax_rate_details");
	} else {
		json_kv_bool(j, "inclusive", inclusive);
		json_kv_str(j, "tax_rate", rate);
		json_kv_str(j, "taxability_reason", tax_rate_id_reason(rate));
		json_kv_int(j, "taxable_amount", taxable);
	}
	json_obj_close(j);
}

void invoice_tax_entries_render(const struct invoice_tax_entry *e, int n, bool newer,
				struct json *j)
{
	json_arr_open(j);
	for (int i = 0; i < n; i++)
		amount_render(e[i].rate, e[i].inclusive, e[i].amount, e[i].taxable, newer, j);
	json_arr_close(j);
}

int invoice_line_taxes_load(struct req *r, struct db *db, const char *invoice, const char *line,
			    struct invoice_tax_entry *ret, int *ret_n, bool *ret_own)
{
	*ret_n = 0;
	*ret_own = false;
	struct db_stmt *st = db_prepare(db, SQL_LINE_TAXES);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, invoice, -1);
	db_bind_text(st, 3, line, -1);
	db_bind_int64(st, 4, BILLING_TAX_RATES_MAX);
	int n = 0, rc;
	while (n < BILLING_TAX_RATES_MAX && (rc = db_step(st)) == DB_ROW) {
		struct invoice_tax_entry *e = &ret[n++];
		memset(e, 0, sizeof(*e));
		str_copy(e->rate, sizeof(e->rate), db_col_text(st, 0, NULL));
		e->inclusive = db_col_int64(st, 1) != 0;
		e->amount = db_col_int64(st, 2);
		e->taxable = db_col_int64(st, 3);
		*ret_own = db_col_int64(st, 4) != 0;
	}
	db_reset(st);
	*ret_n = n;
	return rc < 0 ? rc : DB_OK;
}

void invoice_line_taxes_keys(struct req *r, struct db *db, const struct invoice_tax_entry *e, int n,
			     const char *owner, struct json *j)
{
	json_key(j, "tax_amounts");
	invoice_tax_entries_render(e, n, false, j);
	/* the line's own rates (its invoice item's or subscription item's); the invoice's defaults
	 * show on the invoice */
	json_key(j, "tax_rates");
	if (!owner || tax_links_render(r, db, owner, j) != DB_OK) {
		if (owner)
			j->b->failed = true;
		else
			json_raw(j, "[]", 2);
	}
	json_key(j, "taxes");
	invoice_tax_entries_render(e, n, true, j);
}

int invoice_line_taxes_render(struct req *r, struct db *db, const char *invoice, const char *line,
			      const char *owner, struct json *j)
{
	struct invoice_tax_entry e[BILLING_TAX_RATES_MAX];
	int n = 0;
	bool own = false;
	int rc = invoice_line_taxes_load(r, db, invoice, line, e, &n, &own);
	if (rc != DB_OK)
		return rc;
	invoice_line_taxes_keys(r, db, e, n, owner, j);
	return DB_OK;
}

const char *invoice_line_taxes_json(struct req *r, struct db *db, const struct invoice_tax_entry *e,
				    int n, const char *owner)
{
	struct buf b;
	struct json j;
	buf_init(&b, 256 * 1024);
	json_init(&j, &b);
	json_obj_open(&j);
	invoice_line_taxes_keys(r, db, e, n, owner, &j);
	json_obj_close(&j);
	const char *out = NULL;
	/* the keys without the object's braces */
	if (!b.failed && b.len >= 2)
		out = arena_strndup(&r->arena, b.data + 1, b.len - 2);
	buf_release(&b);
	return out;
}

int invoice_tax_totals_load(struct req *r, struct db *db, const char *invoice,
			    struct invoice_tax_totals *ret)
{
	memset(ret, 0, sizeof(*ret));
	struct db_stmt *st = db_prepare(db, SQL_INVOICE_TAXES);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, invoice, -1);
	db_bind_int64(st, 3, INVOICE_TAX_TOTALS_MAX);
	int rc;
	while (ret->n < INVOICE_TAX_TOTALS_MAX && (rc = db_step(st)) == DB_ROW) {
		struct invoice_tax_entry *e = &ret->e[ret->n++];
		str_copy(e->rate, sizeof(e->rate), db_col_text(st, 0, NULL));
		e->inclusive = db_col_int64(st, 1) != 0;
		e->amount = db_col_int64(st, 2);
		e->taxable = db_col_int64(st, 3);
		int64_t pre = db_col_int64(st, 4);
		if (e->inclusive) {
			ret->inclusive += e->amount;
			ret->pre_discount_inclusive += pre;
		} else {
			ret->exclusive += e->amount;
		}
	}
	db_reset(st);
	return rc < 0 ? rc : DB_OK;
}

/* ---- the resource ---- */

static int tax_rate_emit(struct req *r, struct db *db, const struct tax_rate *t, const char *type,
			 const char *prev)
{
	struct buf b;
	struct json j;
	buf_init(&b, 64 * 1024);
	json_init(&j, &b);
	tax_rate_render(t, &j);
	const char *js;
	size_t len;
	char ev[ID_MAX];
	if (api_event_append(r, db, type, t->id, &b, prev, &js, &len, ev) != 0)
		return -1;
	return req_answer_event(r, ev, js, len);
}

/* The labels create and update take: set in t when sent ("" unsets); prev (may be NULL) gets
 * the old values of the ones that change (for previous_attributes). */
static int labels_apply(struct req *r, struct tax_rate *t, struct json *prev)
{
	static const char *const names[] = {"country", "state", "jurisdiction", "description",
					    "tax_type"};
	const char **fields[] = {&t->country, &t->state, &t->jurisdiction, &t->description,
				 &t->tax_type};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *v = param_str(r, names[i]);
		if (!v)
			continue;
		if (prev)
			json_kv_str_or_null(prev, names[i], *fields[i]);
		*fields[i] = *v ? v : NULL;
	}
	const char *dn = param_str(r, "display_name");
	if (dn) {
		if (!*dn)
			return req_fail(r, ERR_PARAM_INVALID_STRING, "display_name",
					"display_name cannot be empty.");
		if (prev)
			json_kv_str(prev, "display_name", t->display_name);
		t->display_name = dn;
	}
	bool active;
	if (param_bool(r, "active", &active) == 1) {
		if (prev)
			json_kv_bool(prev, "active", t->active);
		t->active = active;
	}
	return 0;
}

static int write_row(struct req *r, struct db *db, const struct tax_rate *t, bool insert)
{
	struct db_stmt *st = db_prepare(db, insert ? SQL_INSERT : SQL_UPDATE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, t->id, -1);
	int k = 3;
	if (insert) {
		db_bind_int64(st, k++, t->created);
		db_bind_text(st, k++, t->display_name, -1);
		db_bind_int64(st, k++, t->percent_e4);
		db_bind_int64(st, k++, t->inclusive);
		db_bind_int64(st, k++, t->active);
	} else {
		db_bind_text(st, k++, t->display_name, -1);
		db_bind_int64(st, k++, t->active);
	}
	db_bind_text(st, k++, t->country, -1);
	db_bind_text(st, k++, t->state, -1);
	db_bind_text(st, k++, t->jurisdiction, -1);
	db_bind_text(st, k++, t->description, -1);
	db_bind_text(st, k++, t->tax_type, -1);
	db_bind_text(st, k++, t->metadata, -1);
	return db_step_done(st) == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

struct one_ctx {
	struct req *r;
	const char *id;
	struct tax_rate t;
};

static int create_fn(struct db *db, void *p)
{
	struct one_ctx *x = p;
	if (write_row(x->r, db, &x->t, true) != 0)
		return -1;
	return tax_rate_emit(x->r, db, &x->t, "tax_rate.created", NULL);
}

static int h_create(struct req *r)
{
	struct one_ctx x = {.r = r};
	struct tax_rate *t = &x.t;
	id_new_at(t->id, "txr_", r->now);
	t->created = r->now;
	t->active = true;
	t->metadata = "{}";
	const char *pct = param_str(r, "percentage");
	if (billing_tax_percent_parse(pct, &t->percent_e4) != 0)
		return req_fail(r, ERR_PARAM_BAD, "percentage",
				"Invalid percentage: a number from 0 to 100 with at most four "
				"decimals.");
	param_bool(r, "inclusive", &t->inclusive);
	if (labels_apply(r, t, NULL) != 0 || metadata_apply(r, NULL, "metadata", &t->metadata) != 0)
		return -1;
	return req_write(r, create_fn, &x);
}

static int one_load(struct db *db, struct one_ctx *x)
{
	int rc = tax_rate_load(x->r, db, x->id, &x->t);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "tax_rate", x->id, "id");
	return rc == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

static int retrieve_fn(struct db *db, void *p)
{
	struct one_ctx *x = p;
	if (one_load(db, x) != 0)
		return -1;
	tax_rate_render(&x->t, req_json(x->r));
	return 0;
}

static int h_retrieve(struct req *r)
{
	struct one_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, retrieve_fn, &x);
}

static int update_fn(struct db *db, void *p)
{
	struct one_ctx *x = p;
	struct req *r = x->r;
	if (one_load(db, x) != 0)
		return -1;
	struct buf pb;
	struct json pj;
	buf_init(&pb, 64 * 1024);
	json_init(&pj, &pb);
	json_obj_open(&pj);
	int rc = labels_apply(r, &x->t, &pj);
	if (rc == 0 && param_present(r, "metadata")) {
		json_kv_raw(&pj, "metadata", x->t.metadata, strlen(x->t.metadata));
		rc = metadata_apply(r, x->t.metadata, "metadata", &x->t.metadata);
	}
	json_obj_close(&pj);
	const char *prev = rc == 0 && !pb.failed ? arena_strndup(&r->arena, pb.data, pb.len) : NULL;
	buf_release(&pb);
	if (rc != 0)
		return -1;
	if (!prev)
		return req_fail(r, ERR_API, NULL, NULL);
	if (write_row(r, db, &x->t, false) != 0)
		return -1;
	return tax_rate_emit(r, db, &x->t, "tax_rate.updated", prev);
}

static int h_update(struct req *r)
{
	struct one_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, update_fn, &x);
}

static const char SQL_LIST_CURSOR[] =
    "SELECT created FROM tax_rates WHERE merchant_id = $1 AND id = $2";
#define LIST_WHERE                                                                                 \
	"SELECT id FROM tax_rates WHERE merchant_id = $1 AND id > $2 AND id < $3"                  \
	" AND ($5 IS NULL OR active = $5) AND ($6 IS NULL OR inclusive = $6) AND automatic = 0"
static const char SQL_LIST_DESC[] = LIST_WHERE " ORDER BY id DESC LIMIT $4";
static const char SQL_LIST_ASC[] = LIST_WHERE " ORDER BY id ASC LIMIT $4";

static int list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	static const char *const names[] = {"active", "inclusive"};
	for (int i = 0; i < 2; i++)
		list_bind_bool(r, st, first + i, names[i]);
	return 0;
}

static int list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	struct tax_rate t;
	int rc = tax_rate_load(r, db, id, &t);
	if (rc == DB_OK)
		tax_rate_render(&t, j);
	return rc;
}

static int h_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/tax_rates",
	    .object_name = "tax_rate",
	    .id_prefix = "txr_",
	    .sql_cursor = SQL_LIST_CURSOR,
	    .sql_desc = SQL_LIST_DESC,
	    .sql_asc = SQL_LIST_ASC,
	    .bind_filters = list_bind,
	    .render = list_render,
	};
	return list_respond(r, &spec);
}

static const struct param_spec create_params[] = {
    {"display_name", PT_STRING, PF_REQUIRED, TAX_LABEL_MAX, NULL, NULL},
    {"percentage", PT_STRING, PF_REQUIRED, 20, NULL, NULL},
    {"inclusive", PT_BOOL, PF_REQUIRED, 0, NULL, NULL},
    {"active", PT_BOOL, 0, 0, NULL, NULL},
    {"country", PT_STRING, PF_EMPTYABLE, 2, NULL, NULL},
    {"state", PT_STRING, PF_EMPTYABLE, 10, NULL, NULL},
    {"jurisdiction", PT_STRING, PF_EMPTYABLE, TAX_LABEL_MAX, NULL, NULL},
    {"description", PT_STRING, PF_EMPTYABLE, 5000, NULL, NULL},
    {"tax_type", PT_ENUM, PF_EMPTYABLE, 0, tax_types, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
/* percentage and inclusive are fixed once made (Stripe refuses them on update) */
static const struct param_spec update_params[] = {
    {"display_name", PT_STRING, 0, TAX_LABEL_MAX, NULL, NULL},
    {"active", PT_BOOL, 0, 0, NULL, NULL},
    {"country", PT_STRING, PF_EMPTYABLE, 2, NULL, NULL},
    {"state", PT_STRING, PF_EMPTYABLE, 10, NULL, NULL},
    {"jurisdiction", PT_STRING, PF_EMPTYABLE, TAX_LABEL_MAX, NULL, NULL},
    {"description", PT_STRING, PF_EMPTYABLE, 5000, NULL, NULL},
    {"tax_type", PT_ENUM, PF_EMPTYABLE, 0, tax_types, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec list_params[] = {
    {"active", PT_BOOL, 0, 0, NULL, NULL},
    {"inclusive", PT_BOOL, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

const struct route tax_rates_routes[] = {
    {"POST", "/v1/tax_rates", h_create, create_params, 0},
    {"GET", "/v1/tax_rates", h_list, list_params, ROUTE_LIST},
    {"GET", "/v1/tax_rates/{id}", h_retrieve, no_params, 0},
    {"POST", "/v1/tax_rates/{id}", h_update, update_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};

/* ---- the rates an invoice's lines take (the invoice computation, discounts.c) ---- */

/* The rates s names (each of r's merchant, else 404) or, when s is NULL or not present, owner's
 * links (owner NULL: none); in r's arena. 0, or -1 with r->err. */
static int rates_of(struct req *r, struct db *db, const char *owner, const struct tax_rate_spec *s,
		    struct tax_rate **ret, int *ret_n)
{
	struct tax_rate rates[BILLING_TAX_RATES_MAX];
	int n = 0;
	*ret = NULL;
	*ret_n = 0;
	if (s && s->present) {
		for (int i = 0; i < s->n; i++) {
			int rc = tax_rate_load(r, db, s->ids[i], &rates[n]);
			if (rc == DB_NOTFOUND)
				return req_fail_missing(r, "tax_rate", s->ids[i], s->shown);
			if (rc != DB_OK)
				return req_fail(r, ERR_API, NULL, NULL);
			n++;
		}
	} else if (owner && tax_links_load(r, db, owner, rates, &n) != DB_OK) {
		return req_fail(r, ERR_API, NULL, NULL);
	}
	if (n == 0)
		return 0;
	struct tax_rate *t = arena_alloc(&r->arena, (size_t)n * sizeof(*t));
	if (!t)
		return req_fail(r, ERR_API, NULL, NULL);
	memcpy(t, rates, (size_t)n * sizeof(*t));
	*ret = t;
	*ret_n = n;
	return 0;
}

int invoice_line_tax_own(struct req *r, struct db *db, const char *owner,
			 const struct tax_rate_spec *s, struct inv_line *l)
{
	struct tax_rate *t;
	int n;
	if (rates_of(r, db, owner, s, &t, &n) != 0)
		return -1;
	if (n) {
		l->tax = t;
		l->n_tax = n;
		l->tax_own = true;
	}
	return 0;
}

int invoice_lines_tax_defaults(struct req *r, struct db *db, const char *owner,
			       const struct tax_rate_spec *s, struct inv_line *lines, int n)
{
	struct tax_rate *t;
	int n_rates;
	if (rates_of(r, db, owner, s, &t, &n_rates) != 0)
		return -1;
	for (int i = 0; n_rates && i < n; i++)
		if (!lines[i].tax_own) {
			lines[i].tax = t;
			lines[i].n_tax = n_rates;
		}
	return 0;
}

/*
 * Serving the documents' PDFs (see answer.h for the URLs and their secrets).
 *
 * Every answer renders the object's JSON as the API would (inside a read), then draws the PDF
 * outside the read: cairo's work holds no transaction. The credit note is rendered by its own
 * API route's handler (GET /v1/credit_notes/{id}, found in credit_notes_routes), so the PDF
 * shows exactly the credit note the API shows, without a second renderer of it.
 */
#include "documents/answer.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/billing_internal.h"
#include "api/challenge.h"
#include "api/common.h"
#include "api/resources.h"
#include "api/tax_ids.h"
#include "app.h"
#include "core/str.h"
#include "documents/documents.h"
#include "documents/pdf.h"
#include "vault/vault.h"

#define JSON_MAX (8u << 20)

/* The secret of object id of r's merchant, into tok. 0, or -1. */
static int secret_of(struct req *r, const char *merchant, const char *id,
		     char tok[VAULT_PAGE_TOKEN_LEN + 1])
{
	if (!r->app || !r->app->vault || vault_page_token(r->app->vault, merchant, id, tok) != 0)
		return -1;
	return 0;
}

const char *documents_invoice_pdf_url(struct req *r, const struct invoice *in)
{
	if (!in->id[0] || in->preview_lines || !in->status || strcmp(in->status, "draft") == 0)
		return NULL;
	if (in->hosted_token_hash) {
		const char *page = invoice_hosted_url(r, in->id, NULL);
		return page ? arena_printf(&r->arena, "%s/pdf", page) : NULL;
	}
	char tok[VAULT_PAGE_TOKEN_LEN + 1];
	if (secret_of(r, r->merchant_id, in->id, tok) != 0)
		return NULL;
	return arena_printf(&r->arena, "%s/invoice/%s/%s/%s/pdf", req_url_base(r), r->merchant_id,
			    in->id, tok);
}

const char *documents_credit_note_pdf_url(struct req *r, const char *id)
{
	char tok[VAULT_PAGE_TOKEN_LEN + 1];
	if (!id || !id[0] || secret_of(r, r->merchant_id, id, tok) != 0)
		return "";
	const char *url = arena_printf(&r->arena, "%s/credit_note/%s/%s/%s/pdf", req_url_base(r),
				       r->merchant_id, id, tok);
	return url ? url : "";
}

int documents_answer_pdf(struct req *r, struct buf *pdf, const char *kind, const char *number,
			 const char *fallback)
{
	char disp[160];
	if (pdf->failed || documents_disposition(kind, number, fallback, disp, sizeof(disp)) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	buf_reset(&r->out);
	buf_append(&r->out, pdf->data, pdf->len);
	if (r->out.failed)
		return req_fail(r, ERR_API, NULL, NULL);
	r->status = 200;
	r->content_type = "application/pdf";
	r->disposition = arena_strdup(&r->arena, disp);
	/* no Content-Security-Policy: under `sandbox` browsers refuse to show a PDF inline, and the
	 * bytes are Tender's own drawing (no script, no form, nothing loaded) */
	r->csp = NULL;
	return r->disposition ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* What a document needs from the store, rendered as JSON (in r's arena). */
struct render_ctx {
	struct req *r;
	const struct invoice *in; /* the invoice to render (invoice answers) */
	const char *invoice_id;	  /* a credit note's invoice */
	const char *customer_id;
	const char *tax_source; /* the document whose taxes are labeled (NULL: the invoice's) */
	const char *invoice_json, *customer_json, *tax_labels_json;
	const char *account_tax_ids_json; /* the invoice's account_tax_ids as lines (tax_ids.c) */
	char merchant_name[256];
};

#define TAX_LABELS_MAX 32

/* "VAT (20%)", "Sales tax (8.25%)": a rate's name and percentage (percent × 10,000), exactly. */
static void tax_label(const struct tax_rate *t, char *out, size_t n)
{
	int64_t e4 = t->percent_e4 < 0 ? 0 : t->percent_e4;
	char frac[8];
	snprintf(frac, sizeof(frac), "%04lld", (long long)(e4 % 10000));
	for (int k = 3; k >= 0 && frac[k] == '0'; k--)
		frac[k] = '\0';
	snprintf(out, n, "%.200s (%lld%s%s%%)", t->display_name ? t->display_name : "Tax",
		 (long long)(e4 / 10000), frac[0] ? "." : "", frac);
}

/* A JSON object of the labels of the tax rates doc_json's tax amounts name (total_tax_amounts
 * of an invoice, tax_amounts of a credit note), in r's arena; NULL when there are none. */
static int tax_labels(struct req *r, struct db *db, const char *doc_json, const char **ret)
{
	*ret = NULL;
	json_error_t e;
	json_t *doc = doc_json ? json_loads(doc_json, 0, &e) : NULL;
	json_t *labels = json_object();
	const char *keys[] = {"total_tax_amounts", "tax_amounts"};
	int rc = 0;
	for (size_t k = 0; k < 2 && rc == 0 && labels; k++) {
		size_t i;
		json_t *it;
		json_array_foreach(json_object_get(doc, keys[k]), i, it)
		{
			const char *id = json_string_value(json_object_get(it, "tax_rate"));
			if (!id || json_object_get(labels, id) ||
			    json_object_size(labels) >= TAX_LABELS_MAX)
				continue;
			struct tax_rate t;
			int lrc = tax_rate_load(r, db, id, &t);
			if (lrc == DB_NOTFOUND)
				continue;
			if (lrc != DB_OK) {
				rc = -1;
				break;
			}
			char label[256];
			tax_label(&t, label, sizeof(label));
			json_object_set_new(labels, id, json_string(label));
		}
	}
	if (rc == 0 && labels && json_object_size(labels)) {
		char *dump = json_dumps(labels, JSON_COMPACT);
		*ret = dump ? arena_strdup(&r->arena, dump) : NULL;
		free(dump);
		if (!*ret)
			rc = -1;
	}
	json_decref(labels);
	json_decref(doc);
	return rc;
}

static const char *json_of(struct req *r, struct buf *b)
{
	const char *s = b->failed ? NULL : arena_strndup(&r->arena, b->data, b->len);
	buf_release(b);
	return s;
}

static int render_fn(struct db *db, void *p)
{
	struct render_ctx *x = p;
	struct req *r = x->r;
	x->invoice_json = x->customer_json = x->tax_labels_json = x->account_tax_ids_json = NULL;
	if (challenge_merchant_name(db, r->merchant_id, x->merchant_name,
				    sizeof(x->merchant_name)) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	struct buf b;
	struct json j;
	struct invoice loaded;
	const struct invoice *in = x->in;
	if (!in && x->invoice_id) {
		int rc = invoice_load(r, db, x->invoice_id, &loaded);
		if (rc != DB_OK && rc != DB_NOTFOUND)
			return req_fail(r, ERR_API, NULL, NULL);
		in = rc == DB_OK ? &loaded : NULL;
	}
	if (in) {
		buf_init(&b, JSON_MAX);
		json_init(&j, &b);
		if (invoice_render(r, db, in, NULL, &j) != 0) {
			buf_release(&b);
			return req_fail(r, ERR_API, NULL, NULL);
		}
		if (!(x->invoice_json = json_of(r, &b)))
			return req_fail(r, ERR_API, NULL, NULL);
		/* the merchant's own tax ids it names, next to the issuer's name */
		if (tax_ids_labels(r, db, invoice_setting(r, in, "account_tax_ids"),
				   &x->account_tax_ids_json) != 0)
			return req_fail(r, ERR_API, NULL, NULL);
		if (!x->customer_id)
			x->customer_id = in->customer;
	}
	if (x->customer_id && x->customer_id[0]) {
		buf_init(&b, JSON_MAX);
		json_init(&j, &b);
		int rc = customer_render_by_id(r, db, x->customer_id, &j);
		if (rc != DB_OK && rc != DB_NOTFOUND) {
			buf_release(&b);
			return req_fail(r, ERR_API, NULL, NULL);
		}
		x->customer_json = rc == DB_OK ? json_of(r, &b) : (buf_release(&b), NULL);
	}
	if (tax_labels(r, db, x->tax_source ? x->tax_source : x->invoice_json,
		       &x->tax_labels_json) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

static int not_found(struct req *r)
{
	r->err.set = false;
	return challenge_page(r, 404, "Document not found",
			      "<h1>This document does not exist</h1>");
}

int documents_invoice_answer(struct req *r, const struct invoice *in)
{
	if (!in->status || strcmp(in->status, "draft") == 0)
		return not_found(r);
	struct render_ctx x = {.r = r, .in = in};
	if (req_read(r, render_fn, &x) != 0)
		return -1;
	struct documents_context c = {
	    .merchant_name = x.merchant_name[0] ? x.merchant_name : NULL,
	    .customer_json = x.customer_json,
	    .tax_labels_json = x.tax_labels_json,
	    .account_tax_ids_json = x.account_tax_ids_json,
	};
	struct buf pdf;
	buf_init(&pdf, PDF_BYTES_MAX);
	int rc = documents_invoice_pdf(x.invoice_json, &c, &pdf);
	if (rc == 0)
		rc = documents_answer_pdf(r, &pdf, "Invoice", in->number, in->id);
	else
		rc = req_fail(r, ERR_API, NULL, NULL);
	buf_release(&pdf);
	return rc;
}

/* r->args: acct, object id, secret. True when the secret is the object's (and r now acts as
 * acct). */
static bool secret_ok(struct req *r, const char *prefix)
{
	const char *acct = r->args[0], *id = r->args[1], *given = r->args[2];
	char tok[VAULT_PAGE_TOKEN_LEN + 1];
	if (!invoice_page_account_ok(acct) || !invoice_page_account_ok(id) ||
	    strncmp(id, prefix, strlen(prefix)) != 0 || !invoice_page_token_ok(given) ||
	    secret_of(r, acct, id, tok) != 0 || !challenge_token_eq(tok, given))
		return false;
	str_copy(r->merchant_id, sizeof(r->merchant_id), acct);
	return true;
}

struct load_ctx {
	struct req *r;
	const char *id;
	struct invoice in;
	bool found;
};

static int load_fn(struct db *db, void *p)
{
	struct load_ctx *x = p;
	int rc = invoice_load(x->r, db, x->id, &x->in);
	x->found = rc == DB_OK;
	return rc == DB_OK || rc == DB_NOTFOUND ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

int documents_h_invoice_pdf(struct req *r)
{
	if (!secret_ok(r, "in_"))
		return not_found(r);
	struct load_ctx x = {.r = r, .id = r->args[1]};
	if (req_read(r, load_fn, &x) != 0)
		return -1;
	if (!x.found)
		return not_found(r);
	return documents_invoice_answer(r, &x.in) == 0 ? 0 : -1;
}

static const struct route *credit_note_retrieve(void)
{
	for (const struct route *rt = credit_notes_routes; rt->method; rt++)
		if (strcmp(rt->method, "GET") == 0 &&
		    strcmp(rt->pattern, "/v1/credit_notes/{id}") == 0)
			return rt;
	return NULL;
}

int documents_h_credit_note_pdf(struct req *r)
{
	if (!secret_ok(r, "cn_"))
		return not_found(r);
	const char *id = r->args[1];
	const struct route *rt = credit_note_retrieve();
	if (!rt)
		return req_fail(r, ERR_API, NULL, NULL);
	/* the API's own answer for the credit note, into r->out */
	r->args[0] = id;
	r->args[1] = r->args[2] = NULL;
	if (rt->handler(r) != 0 || r->err.set) {
		if (r->err.set && r->err.code == ERR_RESOURCE_MISSING)
			return not_found(r);
		return -1;
	}
	const char *cn_json = arena_strndup(&r->arena, r->out.data, r->out.len);
	if (!cn_json || r->out.failed)
		return req_fail(r, ERR_API, NULL, NULL);
	json_error_t e;
	json_t *cn = json_loads(cn_json, 0, &e);
	const char *invoice = json_string_value(json_object_get(cn, "invoice"));
	const char *customer = json_string_value(json_object_get(cn, "customer"));
	const char *number = json_string_value(json_object_get(cn, "number"));
	struct render_ctx x = {
	    .r = r,
	    .invoice_id = invoice ? arena_strdup(&r->arena, invoice) : NULL,
	    .customer_id = customer ? arena_strdup(&r->arena, customer) : NULL,
	    .tax_source = cn_json,
	};
	const char *num = number ? arena_strdup(&r->arena, number) : NULL;
	json_decref(cn);
	if (req_read(r, render_fn, &x) != 0)
		return -1;
	struct documents_context c = {
	    .merchant_name = x.merchant_name[0] ? x.merchant_name : NULL,
	    .customer_json = x.customer_json,
	    .invoice_json = x.invoice_json,
	    .tax_labels_json = x.tax_labels_json,
	    .account_tax_ids_json = x.account_tax_ids_json, /* its invoice's */
	};
	struct buf pdf;
	buf_init(&pdf, PDF_BYTES_MAX);
	int rc = documents_credit_note_pdf(cn_json, &c, &pdf);
	if (rc == 0)
		rc = documents_answer_pdf(r, &pdf, "CreditNote", num, id);
	else
		rc = req_fail(r, ERR_API, NULL, NULL);
	buf_release(&pdf);
	return rc;
}

/*
 * An invoice's, a credit note's or a quote's JSON turned into a pdf_doc (see documents.h for why
 * from the JSON). Every field is read defensively: a field absent or of another type is left
 * out of the document, never a failure, except the few a document cannot do without (its
 * currency). Amounts are JSON integers (minor units) read as int64 by jansson; no float.
 */
#include "documents/documents.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "documents/pdf.h"

static const char *str_of(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s && s[0] ? s : NULL;
}

static bool int_of(json_t *o, const char *k, int64_t *ret)
{
	json_t *v = json_object_get(o, k);
	if (!json_is_integer(v))
		return false;
	*ret = (int64_t)json_integer_value(v);
	return true;
}

static int64_t int_or0(json_t *o, const char *k)
{
	int64_t v = 0;
	int_of(o, k, &v);
	return v;
}

/* A decimal amount ("1500", "1500.000") that is a whole number of minor units. */
static bool decimal_whole(const char *s, int64_t *ret)
{
	if (!s || !*s)
		return false;
	errno = 0;
	char *end = NULL;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s)
		return false;
	if (*end == '.') {
		for (end++; *end == '0'; end++)
			;
	}
	if (*end)
		return false;
	*ret = v;
	return true;
}

static void add_total(struct pdf_doc *d, const char *label, int64_t amount, bool strong)
{
	if (d->n_totals >= PDF_TOTALS_MAX)
		return;
	d->totals[d->n_totals++] = (struct pdf_total){label, amount, strong};
}

static void add_date(struct pdf_doc *d, const char *label, int64_t t, const char *text)
{
	if (d->n_dates >= PDF_DATES_MAX || (!text && t <= 0))
		return;
	d->dates[d->n_dates++] = (struct pdf_date){label, t, text};
}

/* The address rows of an address object (line1, line2, "postal_code city", state, country). */
static void address_rows(json_t *addr, struct pdf_party *p, char *scratch, size_t n)
{
	size_t k = 0;
	if (!json_is_object(addr))
		return;
	const char *l1 = str_of(addr, "line1"), *l2 = str_of(addr, "line2");
	const char *pc = str_of(addr, "postal_code"), *city = str_of(addr, "city");
	const char *state = str_of(addr, "state"), *country = str_of(addr, "country");
	if (l1)
		p->address[k++] = l1;
	if (l2)
		p->address[k++] = l2;
	if (pc || city) {
		snprintf(scratch, n, "%.200s%s%.200s", pc ? pc : "", pc && city ? " " : "",
			 city ? city : "");
		p->address[k++] = scratch;
	}
	if (state)
		p->address[k++] = state;
	if (country && k < PDF_ADDRESS_MAX)
		p->address[k++] = country;
}

/* The lines of a list's data array (invoice and credit note lines, quote items). */
static struct pdf_line *lines_of(json_t *arr, size_t *ret_n)
{
	size_t n = json_array_size(arr);
	*ret_n = 0;
	if (n == 0)
		return NULL;
	size_t take = n < PDF_LINES_MAX ? n : PDF_LINES_MAX;
	struct pdf_line *ls = calloc(take, sizeof(*ls));
	if (!ls)
		return NULL;
	for (size_t i = 0; i < take; i++) {
		json_t *it = json_array_get(arr, i);
		struct pdf_line *l = &ls[i];
		l->description = str_of(it, "description");
		l->has_quantity = int_of(it, "quantity", &l->quantity);
		const char *qd = str_of(it, "quantity_decimal");
		if (l->has_quantity && qd && strchr(qd, '.'))
			l->quantity_text = qd;
		/* an invoice line's and a credit note's amount; a quote item's before discounts */
		if (!int_of(it, "amount", &l->amount))
			l->amount = int_or0(it, "amount_subtotal");
		json_t *price = json_object_get(it, "price");
		json_t *pricing = json_object_get(it, "pricing");
		if (int_of(it, "unit_amount", &l->unit_amount) ||
		    decimal_whole(str_of(it, "unit_amount_decimal"), &l->unit_amount) ||
		    decimal_whole(str_of(pricing, "unit_amount_decimal"), &l->unit_amount) ||
		    int_of(price, "unit_amount", &l->unit_amount))
			l->has_unit_amount = true;
		if (!l->description)
			l->description = str_of(price, "nickname");
	}
	*ret_n = n; /* the lines past the first PDF_LINES_MAX are counted, not drawn */
	return ls;
}

/* Discount and tax rows from arrays of {amount, inclusive?}: discounts take off, exclusive
 * taxes add, inclusive ones are shown as included. */
static void discount_rows(struct pdf_doc *d, json_t *arr)
{
	size_t i;
	json_t *e;
	json_array_foreach(arr, i, e)
	{
		int64_t a = int_or0(e, "amount");
		if (a)
			add_total(d, "Discount", -a, false);
	}
}

/* labels: {"txr_…": "VAT (20%)"} (may be NULL); an included tax's label gets " included", in
 * scratch (PDF_TOTALS_MAX rows of 256 bytes: the rows' labels must outlive the call) */
static void tax_rows(struct pdf_doc *d, json_t *arr, json_t *labels, char (*scratch)[256])
{
	size_t i;
	json_t *e;
	json_array_foreach(arr, i, e)
	{
		if (d->n_totals >= PDF_TOTALS_MAX)
			break;
		int64_t a = int_or0(e, "amount");
		json_t *inc = json_object_get(e, "inclusive");
		const char *behavior = str_of(e, "tax_behavior");
		bool inclusive =
		    json_is_true(inc) || (behavior && strcmp(behavior, "inclusive") == 0);
		json_t *rate = json_object_get(e, "tax_rate");
		if (!json_is_string(rate))
			rate = json_object_get(json_object_get(e, "tax_rate_details"), "tax_rate");
		const char *name =
		    json_string_value(json_object_get(labels, json_string_value(rate)));
		/* Stripe Tax's entries of 0 (taxability_reason): a reverse charge is stated, as
		 * Stripe's invoice does (the customer accounts for the tax); an exempt customer's
		 * too; a tax not collected (no registration, none levied) is not a row */
		const char *reason = str_of(e, "taxability_reason");
		const char *note = NULL;
		if (reason && strcmp(reason, "reverse_charge") == 0)
			note = " - Reverse charge";
		else if (reason && strcmp(reason, "customer_exempt") == 0)
			note = " - Customer exempt";
		else if (a == 0 && reason && strcmp(reason, "standard_rated") != 0)
			continue;
		char *label = scratch[d->n_totals];
		snprintf(label, 256, "%.200s%s%s", name ? name : "Tax",
			 inclusive ? " included" : "", note ? note : "");
		add_total(d, label, a, false);
	}
}

static int render(struct pdf_doc *d, struct pdf_line *lines, struct buf *out)
{
	int rc = pdf_render(d, out);
	free(lines);
	return rc;
}

/* The invoice's account_tax_ids (atx: a JSON array of their lines), each a row under the
 * issuer's name, as Stripe's PDFs show them (as many as the issuer's rows hold). */
static void issuer_tax_ids(struct pdf_doc *d, json_t *atx)
{
	size_t n = 0;
	for (size_t k = 0; k < json_array_size(atx) && n + 1 < PDF_ADDRESS_MAX; k++)
		if (json_string_value(json_array_get(atx, k)))
			d->issuer.address[n++] = json_string_value(json_array_get(atx, k));
}

int documents_invoice_pdf(const char *invoice_json, const struct documents_context *c,
			  struct buf *out)
{
	json_error_t e;
	json_t *in = json_loads(invoice_json, 0, &e);
	json_t *cus = c && c->customer_json ? json_loads(c->customer_json, 0, &e) : NULL;
	json_t *labels = c && c->tax_labels_json ? json_loads(c->tax_labels_json, 0, &e) : NULL;
	json_t *atx =
	    c && c->account_tax_ids_json ? json_loads(c->account_tax_ids_json, 0, &e) : NULL;
	char(*scratch)[256] = calloc(PDF_TOTALS_MAX, 256);
	const char *status = str_of(in, "status");
	int rc = PDF_ERR_INVALID;
	if (!scratch || !json_is_object(in) || !status || strcmp(status, "draft") == 0 ||
	    !str_of(in, "currency"))
		goto done;
	struct pdf_doc d = {.title = "Invoice", .currency = str_of(in, "currency")};
	d.number = str_of(in, "number");
	json_t *tr = json_object_get(in, "status_transitions");
	/* Stripe: effective_at, when given, replaces the date of issue printed */
	int64_t issued = int_or0(in, "effective_at");
	if (issued <= 0)
		issued = int_or0(tr, "finalized_at");
	if (issued <= 0)
		issued = int_or0(in, "created");
	d.date = issued;
	add_date(&d, "Date of issue", issued, NULL);
	add_date(&d, "Date due", int_or0(in, "due_date"), NULL);
	/* its custom fields (at most 4), each a row of the header */
	size_t cf_i;
	json_t *cf;
	json_array_foreach(json_object_get(in, "custom_fields"), cf_i, cf)
	{
		if (str_of(cf, "name") && str_of(cf, "value"))
			add_date(&d, str_of(cf, "name"), 0, str_of(cf, "value"));
	}
	int64_t remaining = int_or0(in, "amount_remaining");
	if (strcmp(status, "paid") == 0) {
		d.status = "Paid";
		add_date(&d, "Date paid", int_or0(tr, "paid_at"), NULL);
	} else if (strcmp(status, "void") == 0) {
		d.status = "Void";
		add_date(&d, "Date voided", int_or0(tr, "voided_at"), NULL);
	} else if (strcmp(status, "uncollectible") == 0) {
		d.status = "Uncollectible";
	} else {
		d.status = "Open";
	}
	d.issuer.name = c ? c->merchant_name : NULL;
	if (!d.issuer.name)
		d.issuer.name = str_of(in, "account_name");
	issuer_tax_ids(&d, atx);
	d.customer.name = str_of(in, "customer_name");
	d.customer.email = str_of(in, "customer_email");
	if (!d.customer.name)
		d.customer.name = str_of(cus, "name");
	if (!d.customer.email)
		d.customer.email = str_of(cus, "email");
	char city[512];
	json_t *addr = json_object_get(in, "customer_address");
	address_rows(json_is_object(addr) ? addr : json_object_get(cus, "address"), &d.customer,
		     city, sizeof(city));
	/* Stripe: the invoice's shipping_details, else its customer's shipping address */
	char ship_city[512];
	json_t *ship = json_object_get(in, "shipping_details");
	if (!json_is_object(ship))
		ship = json_object_get(cus, "shipping");
	if (json_is_object(ship)) {
		d.ship_to.name = str_of(ship, "name");
		address_rows(json_object_get(ship, "address"), &d.ship_to, ship_city,
			     sizeof(ship_city));
	}
	struct pdf_line *lines =
	    lines_of(json_object_get(json_object_get(in, "lines"), "data"), &d.n_lines);
	d.lines = lines;
	if (d.n_lines && !lines)
		goto done;
	add_total(&d, "Subtotal", int_or0(in, "subtotal"), false);
	discount_rows(&d, json_object_get(in, "total_discount_amounts"));
	/* billing credits come off before the taxes (Stripe's pretax credits): one row for all */
	int64_t credits = 0;
	size_t ci;
	json_t *ce;
	json_array_foreach(json_object_get(in, "total_pretax_credit_amounts"), ci, ce)
	{
		if (__builtin_add_overflow(credits, int_or0(ce, "amount"), &credits)) {
			free(lines);
			goto done;
		}
	}
	if (credits)
		add_total(&d, "Credits applied", -credits, false);
	json_t *taxes = json_object_get(in, "total_tax_amounts");
	tax_rows(&d, json_array_size(taxes) ? taxes : json_object_get(in, "total_taxes"), labels,
		 scratch);
	/* its shipping_cost, in its total */
	if (int_or0(in, "amount_shipping"))
		add_total(&d, "Shipping", int_or0(in, "amount_shipping"), false);
	add_total(&d, "Total", int_or0(in, "total"), true);
	int64_t sb = int_or0(in, "starting_balance"), eb = int_or0(in, "ending_balance"), applied;
	if (json_is_integer(json_object_get(in, "ending_balance")) && sb != eb) {
		if (__builtin_sub_overflow(sb, eb, &applied)) {
			free(lines);
			goto done;
		}
		add_total(&d, "Applied balance", applied, false);
	}
	add_total(&d, "Amount due", int_or0(in, "amount_due"), false);
	add_total(&d, "Amount paid", int_or0(in, "amount_paid"), false);
	add_total(&d, "Amount remaining", strcmp(status, "void") == 0 ? 0 : remaining, true);
	d.memo = str_of(in, "description");
	d.footer = str_of(in, "footer");
	rc = render(&d, lines, out);
done:
	json_decref(atx);
	json_decref(in);
	json_decref(cus);
	json_decref(labels);
	free(scratch);
	return rc;
}

int documents_credit_note_pdf(const char *credit_note_json, const struct documents_context *c,
			      struct buf *out)
{
	json_error_t e;
	json_t *cn = json_loads(credit_note_json, 0, &e);
	json_t *in = c && c->invoice_json ? json_loads(c->invoice_json, 0, &e) : NULL;
	json_t *cus = c && c->customer_json ? json_loads(c->customer_json, 0, &e) : NULL;
	json_t *labels = c && c->tax_labels_json ? json_loads(c->tax_labels_json, 0, &e) : NULL;
	json_t *atx =
	    c && c->account_tax_ids_json ? json_loads(c->account_tax_ids_json, 0, &e) : NULL;
	char(*scratch)[256] = calloc(PDF_TOTALS_MAX, 256);
	int rc = PDF_ERR_INVALID;
	if (!scratch || !json_is_object(cn) || !str_of(cn, "currency"))
		goto done;
	struct pdf_doc d = {.title = "Credit note", .currency = str_of(cn, "currency")};
	d.number = str_of(cn, "number");
	int64_t issued = int_or0(cn, "effective_at");
	if (issued <= 0)
		issued = int_or0(cn, "created");
	d.date = issued;
	add_date(&d, "Date of issue", issued, NULL);
	add_date(&d, "Invoice", 0, str_of(in, "number"));
	const char *status = str_of(cn, "status");
	d.status = status && strcmp(status, "void") == 0 ? "Void" : "Issued";
	add_date(&d, "Date voided", int_or0(cn, "voided_at"), NULL);
	add_date(&d, "Reason", 0, str_of(cn, "reason"));
	d.issuer.name = c ? c->merchant_name : NULL;
	issuer_tax_ids(&d, atx);
	d.customer.name = str_of(in, "customer_name");
	d.customer.email = str_of(in, "customer_email");
	if (!d.customer.name)
		d.customer.name = str_of(cus, "name");
	if (!d.customer.email)
		d.customer.email = str_of(cus, "email");
	char city[512];
	address_rows(json_object_get(cus, "address"), &d.customer, city, sizeof(city));
	struct pdf_line *lines =
	    lines_of(json_object_get(json_object_get(cn, "lines"), "data"), &d.n_lines);
	d.lines = lines;
	if (d.n_lines && !lines)
		goto done;
	add_total(&d, "Subtotal", int_or0(cn, "subtotal"), false);
	discount_rows(&d, json_object_get(cn, "discount_amounts"));
	json_t *taxes = json_object_get(cn, "tax_amounts");
	tax_rows(&d, json_array_size(taxes) ? taxes : json_object_get(cn, "total_taxes"), labels,
		 scratch);
	if (int_or0(cn, "amount_shipping"))
		add_total(&d, "Shipping", int_or0(cn, "amount_shipping"), false);
	add_total(&d, "Total credited", int_or0(cn, "total"), true);
	int64_t refunded = 0, v;
	size_t i;
	json_t *it;
	json_array_foreach(json_object_get(cn, "refunds"), i, it)
	{
		if (__builtin_add_overflow(refunded, int_or0(it, "amount_refunded"), &refunded)) {
			free(lines);
			goto done;
		}
	}
	if (refunded)
		add_total(&d, "Refunded to the payment method", refunded, false);
	if (int_of(cn, "credit_amount", &v) && v)
		add_total(&d, "Credited to the customer's balance", v, false);
	if (int_of(cn, "out_of_band_amount", &v) && v)
		add_total(&d, "Credited outside Tender", v, false);
	d.memo = str_of(cn, "memo");
	rc = render(&d, lines, out);
done:
	json_decref(atx);
	json_decref(cn);
	json_decref(in);
	json_decref(cus);
	json_decref(labels);
	free(scratch);
	return rc;
}

int documents_quote_pdf(const char *quote_json, const char *line_items_json,
			const struct documents_context *c, struct buf *out)
{
	json_error_t e;
	json_t *q = json_loads(quote_json, 0, &e);
	json_t *items = line_items_json ? json_loads(line_items_json, 0, &e) : NULL;
	json_t *cus = c && c->customer_json ? json_loads(c->customer_json, 0, &e) : NULL;
	const char *status = str_of(q, "status");
	int rc = PDF_ERR_INVALID;
	if (!json_is_object(q) || !str_of(q, "currency") || !status || strcmp(status, "draft") == 0)
		goto done;
	struct pdf_doc d = {.title = "Quote", .currency = str_of(q, "currency")};
	d.number = str_of(q, "number");
	json_t *tr = json_object_get(q, "status_transitions");
	int64_t issued = int_or0(tr, "finalized_at");
	if (issued <= 0)
		issued = int_or0(q, "created");
	d.date = issued;
	add_date(&d, "Date of issue", issued, NULL);
	add_date(&d, "Expires", int_or0(q, "expires_at"), NULL);
	d.status = strcmp(status, "accepted") == 0   ? "Accepted"
		   : strcmp(status, "canceled") == 0 ? "Canceled"
						     : "Open";
	add_date(&d, "Date accepted", int_or0(tr, "accepted_at"), NULL);
	add_date(&d, "Date canceled", int_or0(tr, "canceled_at"), NULL);
	d.issuer.name = c ? c->merchant_name : NULL;
	d.customer.name = str_of(cus, "name");
	d.customer.email = str_of(cus, "email");
	char city[512];
	address_rows(json_object_get(cus, "address"), &d.customer, city, sizeof(city));
	json_t *arr = json_is_array(items) ? items : json_object_get(items, "data");
	struct pdf_line *lines = lines_of(arr, &d.n_lines);
	d.lines = lines;
	if (d.n_lines && !lines)
		goto done;
	json_t *td = json_object_get(q, "total_details");
	add_total(&d, "Subtotal", int_or0(q, "amount_subtotal"), false);
	if (int_or0(td, "amount_discount"))
		add_total(&d, "Discount", -int_or0(td, "amount_discount"), false);
	if (int_or0(td, "amount_tax"))
		add_total(&d, "Tax", int_or0(td, "amount_tax"), false);
	add_total(&d, "Total", int_or0(q, "amount_total"), true);
	d.memo = str_of(q, "description");
	if (!d.memo)
		d.memo = str_of(q, "header");
	d.footer = str_of(q, "footer");
	rc = render(&d, lines, out);
done:
	json_decref(q);
	json_decref(items);
	json_decref(cus);
	return rc;
}

int documents_disposition(const char *kind, const char *number, const char *fallback, char *out,
			  size_t n)
{
	char clean[64];
	size_t k = 0;
	const char *src = number && number[0] ? number : fallback ? fallback : "";
	for (const char *p = src; *p && k + 1 < sizeof(clean); p++) {
		char ch = *p;
		if ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= 'A' && ch <= 'Z') || ch == '-' || ch == '_')
			clean[k++] = ch;
	}
	clean[k] = '\0';
	int w = snprintf(out, n, "inline; filename=\"%s%s%s.pdf\"", kind, k ? "-" : "", clean);
	if (w < 0 || (size_t)w >= n) {
		if (n)
			out[0] = '\0';
		return -1;
	}
	return 0;
}

/*
 * The hosted invoice page (/invoice/{merchant}/{secret}): what an invoice's hosted_invoice_url
 * opens, without an API key. It shows the invoice (number, lines, total, amount paid and due,
 * due date, status) and, while it is open, a card form that pays what is due.
 *
 * The secret. The URL's last part is vault_page_token(merchant, invoice): derived from a key
 * only the vault holds, so it is the same every time the invoice is rendered (Stripe's URL is
 * stable) yet cannot be guessed; the invoice row keeps only its SHA-256, which is how the page
 * finds the invoice. (The URL itself travels in the invoice's API answers and events, as on
 * Stripe.) A secret of the wrong shape, or one that finds nothing, is a 404 that says nothing
 * of any invoice.
 *
 * The payment. The card goes from the form to the vault as a PaymentMethod
 * (pm_create_from_data, as on the checkout page), then invoice_pay_on_page pays the amount due
 * through the invoice's ordinary PaymentIntent, the same path as POST /v1/invoices/{id}/pay:
 * the charge, ledger entries, events (invoice.paid …) and the invoice's settlement are that
 * path's. A card that asks for 3-D Secure goes to the challenge, which comes back to
 * …/complete, and that page shows how it ended (the intent's confirmation settled the invoice
 * whether or not the browser came back). The form carries a one-time value, the invoice's
 * version when the page was read: a post whose value is no longer the invoice's (a second click
 * of the same form, or a form left open while the invoice changed) pays nothing and shows the
 * invoice as it is now; two posts at once are decided by the payment's own write, which
 * re-checks that version. Paid, void and uncollectible invoices show their state and no form.
 *
 * The page is plain HTML without scripts, under the checkout pages' content security policy
 * (challenge_page), every value escaped; its POST spends the merchant's page rate limit.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/billing_internal.h"
#include "api/challenge.h"
#include "api/common.h"
#include "api/resources.h"
#include "api/tax_ids.h"
#include "core/digest.h"
#include "core/str.h"
#include "documents/answer.h"
#include "payments/payments.h"
#include "vault/vault.h"

static const char SQL_BY_HASH[] =
    "SELECT id FROM invoices WHERE merchant_id = $1 AND hosted_token_hash = $2";

bool invoice_page_token_ok(const char *s)
{
	size_t n = 0;
	for (; s && s[n]; n++) {
		char c = s[n];
		if (n >= VAULT_PAGE_TOKEN_LEN ||
		    !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
			return false;
	}
	return n == VAULT_PAGE_TOKEN_LEN;
}

bool invoice_page_account_ok(const char *s)
{
	size_t n = 0;
	for (; s && s[n]; n++) {
		char c = s[n];
		if (n + 1 >= ID_MAX || !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
					 (c >= 'A' && c <= 'Z') || c == '_'))
			return false;
	}
	return n > 0;
}

int invoice_page_date(int64_t t, char *out, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (t < 0 || n == 0 || !gmtime_r(&tt, &tm) || strftime(out, n, "%Y-%m-%d", &tm) == 0) {
		if (n)
			out[0] = '\0';
		return -1;
	}
	return 0;
}

struct page_ctx {
	struct req *r;
	const char *acct, *token;
	char hash[65];
	bool found;
	struct invoice in;
	char merchant_name[256];
	const char *lines; /* JSON array of line_item objects */
	int64_t now;	   /* the invoice's time (its customer's test clock's, if any) */
	/* its PaymentIntent's next_action while it waits for a bank transfer (customer_balance),
	 * else NULL: the page shows the transfer's instructions instead of a card form */
	const char *transfer;
	/* ["EU VAT DE123456789", …]: the merchant's own tax ids it names (NULL: none) */
	const char *account_tax_ids;
};

static int load_fn(struct db *db, void *p)
{
	struct page_ctx *x = p;
	struct req *r = x->r;
	x->found = false;
	struct db_stmt *st = db_prepare(db, SQL_BY_HASH);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, x->acct, -1);
	db_bind_text(st, 2, x->hash, -1);
	int rc = db_step(st);
	const char *id = rc == DB_ROW ? col_text_dup(&r->arena, st, 0) : NULL;
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!id)
		return 0;
	if (invoice_load(r, db, id, &x->in) != DB_OK ||
	    challenge_merchant_name(db, x->acct, x->merchant_name, sizeof(x->merchant_name)) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	if (billing_now(r, db, x->in.test_clock, &x->now) != 0)
		return -1;
	if (tax_ids_labels(r, db, invoice_setting(r, &x->in, "account_tax_ids"),
			   &x->account_tax_ids) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	if (x->in.payment_intent) {
		struct payment_intent pi;
		int prc = pi_load(db, &r->arena, x->acct, x->in.payment_intent, &pi);
		if (prc != DB_OK && prc != DB_NOTFOUND)
			return req_fail(r, ERR_API, NULL, NULL);
		if (prc == DB_OK && strcmp(pi.status, "requires_action") == 0 && pi.next_action &&
		    strstr(pi.next_action, "\"display_bank_transfer_instructions\""))
			x->transfer = pi.next_action;
	}
	struct buf b;
	buf_init(&b, 8u << 20);
	int lrc = invoice_lines_json(r, db, &x->in, &b);
	x->lines = lrc == 0 && !b.failed ? arena_strndup(&r->arena, b.data, b.len) : NULL;
	buf_release(&b);
	if (!x->lines)
		return req_fail(r, ERR_API, NULL, NULL);
	x->found = true;
	return 0;
}

/* 0: found (x filled); 1: answered with the not-found page; -1: error. */
static int lookup(struct req *r, struct page_ctx *x)
{
	memset(x, 0, sizeof(*x));
	x->r = r;
	x->acct = r->args[0];
	x->token = r->args[1];
	if (!invoice_page_account_ok(x->acct) || !invoice_page_token_ok(x->token) ||
	    digest_sha256_hex(x->token, VAULT_PAGE_TOKEN_LEN, x->hash) != 0)
		goto missing;
	str_copy(r->merchant_id, sizeof(r->merchant_id), x->acct);
	if (req_read(r, load_fn, x) != 0)
		return -1;
	if (x->found)
		return 0;
missing:
	challenge_page(r, 404, "Invoice not found", "<h1>This invoice does not exist</h1>");
	return 1;
}

static const char *status_label(const char *status)
{
	if (strcmp(status, "open") == 0)
		return "Due";
	if (strcmp(status, "paid") == 0)
		return "Paid";
	if (strcmp(status, "void") == 0)
		return "Void";
	if (strcmp(status, "uncollectible") == 0)
		return "Uncollectible";
	return "Draft";
}

static void row(struct buf *b, const char *label, const char *id, int64_t amount,
		const char *currency)
{
	buf_puts(b, "<tr><td>");
	html_escape(b, label);
	buf_puts(b, "</td><td class=\"amt\" id=\"");
	buf_puts(b, id);
	buf_puts(b, "\">");
	html_amount(b, amount, currency);
	buf_puts(b, "</td></tr>");
}

/* what the invoice's settings (invoice_settings.c) show above its lines, as on Stripe's page:
 * its custom fields and where it is shipped */
static void settings_html(struct req *r, const struct invoice *in, struct buf *b)
{
	const char *cf = invoice_setting(r, in, "custom_fields");
	const char *ship = invoice_setting(r, in, "shipping_details");
	json_t *fields = cf ? json_loads(cf, 0, NULL) : NULL;
	if (json_array_size(fields)) {
		buf_puts(b, "<dl id=\"custom_fields\">");
		size_t i;
		json_t *f;
		json_array_foreach(fields, i, f)
		{
			buf_puts(b, "<dt>");
			html_escape(b, json_string_value(json_object_get(f, "name")));
			buf_puts(b, "</dt><dd>");
			html_escape(b, json_string_value(json_object_get(f, "value")));
			buf_puts(b, "</dd>");
		}
		buf_puts(b, "</dl>");
	}
	json_decref(fields);
	json_t *sh = ship ? json_loads(ship, 0, NULL) : NULL;
	if (json_is_object(sh)) {
		static const char *const keys[] = {"line1", "line2",   "postal_code", "city",
						   "state", "country", NULL};
		buf_puts(b, "<p id=\"shipping\">Ship to: ");
		html_escape(b, json_string_value(json_object_get(sh, "name")));
		json_t *a = json_object_get(sh, "address");
		for (const char *const *k = keys; *k; k++) {
			const char *v = json_string_value(json_object_get(a, *k));
			if (v && *v) {
				buf_puts(b, ", ");
				html_escape(b, v);
			}
		}
		buf_puts(b, "</p>");
	}
	json_decref(sh);
}

static int invoice_page(struct req *r, struct page_ctx *x, int status, const char *error)
{
	const struct invoice *in = &x->in;
	bool open = strcmp(in->status, "open") == 0;
	int64_t remaining = open ? in->amount_due - in->amount_paid : 0;
	struct buf b;
	buf_init(&b, 256 * 1024);
	buf_puts(&b, "<h1>");
	html_escape(&b, x->merchant_name[0] ? x->merchant_name : "Invoice");
	buf_puts(&b, "</h1>");
	/* the merchant's tax ids it names, under its name (as on the PDF) */
	json_t *atx = x->account_tax_ids ? json_loads(x->account_tax_ids, 0, NULL) : NULL;
	if (json_array_size(atx)) {
		buf_puts(&b, "<p id=\"account_tax_ids\">");
		for (size_t k = 0; k < json_array_size(atx); k++) {
			if (k)
				buf_puts(&b, "<br>");
			html_escape(&b, json_string_value(json_array_get(atx, k)));
		}
		buf_puts(&b, "</p>");
	}
	json_decref(atx);
	buf_puts(&b, "<p>Invoice <strong id=\"invoice_number\">");
	html_escape(&b, in->number ? in->number : "");
	buf_puts(&b, "</strong> · <span id=\"status\" data-status=\"");
	html_escape(&b, in->status);
	buf_puts(&b, "\">");
	bool overdue = open && in->due_date && x->now >= in->due_date;
	buf_puts(&b, overdue ? "Overdue" : status_label(in->status));
	buf_puts(&b, "</span></p>");
	char date[32];
	if (in->due_date && invoice_page_date(in->due_date, date, sizeof(date)) == 0) {
		buf_puts(&b, "<p>Due date: <span id=\"due_date\">");
		buf_puts(&b, date);
		buf_puts(&b, "</span></p>");
	}
	/* a paid one reads as a receipt: when it was paid (Stripe's page: "Paid on …") */
	if (strcmp(in->status, "paid") == 0 && in->paid_at &&
	    invoice_page_date(in->paid_at, date, sizeof(date)) == 0) {
		buf_puts(&b, "<p>Paid on: <span id=\"paid_at\">");
		buf_puts(&b, date);
		buf_puts(&b, "</span></p>");
	}
	if (in->description) {
		buf_puts(&b, "<p id=\"description\">");
		html_escape(&b, in->description);
		buf_puts(&b, "</p>");
	}
	settings_html(r, in, &b);
	buf_puts(&b, "<table id=\"lines\">");
	json_error_t e;
	json_t *lines = json_loads(x->lines, 0, &e);
	size_t i;
	json_t *it;
	bool reverse_charge = false; /* a line reverse charged by Stripe Tax (a tax entry of 0) */
	int64_t credits = 0;	     /* the billing credits its lines took (pretax) */
	json_array_foreach(lines, i, it)
	{
		size_t k;
		json_t *t;
		json_array_foreach(json_object_get(it, "pretax_credit_amounts"), k, t)
		{
			/* each at most its line's amount: no overflow */
			credits += json_integer_value(json_object_get(t, "amount"));
		}
		json_array_foreach(json_object_get(it, "tax_amounts"), k, t)
		{
			const char *why =
			    json_string_value(json_object_get(t, "taxability_reason"));
			reverse_charge =
			    reverse_charge || (why && strcmp(why, "reverse_charge") == 0);
		}
		const char *d = json_string_value(json_object_get(it, "description"));
		int64_t qty = json_integer_value(json_object_get(it, "quantity"));
		/* an invoice item's decimal quantity is shown as given */
		const char *qd = json_string_value(json_object_get(it, "quantity_decimal"));
		buf_puts(&b, "<tr class=\"line\"><td>");
		html_escape(&b, d ? d : "");
		if (qd && strchr(qd, '.')) {
			buf_puts(&b, " × ");
			html_escape(&b, qd);
		} else if (qty > 1) {
			buf_printf(&b, " × %lld", (long long)qty);
		}
		buf_puts(&b, "</td><td class=\"amt\">");
		html_amount(&b, json_integer_value(json_object_get(it, "amount")), in->currency);
		buf_puts(&b, "</td></tr>");
	}
	json_decref(lines);
	if (in->subtotal != in->total)
		row(&b, "Subtotal", "subtotal", in->subtotal, in->currency);
	if (credits)
		row(&b, "Credits applied", "credits_applied", -credits, in->currency);
	int64_t shipping = invoice_shipping_amount(in);
	if (shipping)
		row(&b, "Shipping", "shipping_amount", shipping, in->currency);
	buf_puts(&b, "<tr><th>Total</th><th class=\"amt\" id=\"total\">");
	html_amount(&b, in->total, in->currency);
	buf_puts(&b, "</th></tr>");
	/* what the customer's balance took off (a credit, below zero) or added (a debit) */
	if (in->starting_balance != in->ending_balance)
		row(&b, "Applied balance", "applied_balance",
		    in->starting_balance - in->ending_balance, in->currency);
	if (in->amount_paid)
		row(&b, "Amount paid", "amount_paid", in->amount_paid, in->currency);
	buf_puts(&b, "<tr><th>Amount due</th><th class=\"amt\" id=\"amount_due\">");
	html_amount(&b, remaining, in->currency);
	buf_puts(&b, "</th></tr></table>");
	if (reverse_charge) /* as Stripe's invoice states it */
		buf_puts(&b, "<p id=\"reverse-charge\">Reverse charge: the tax is to be accounted "
			     "for by the customer.</p>");
	if (error) {
		buf_puts(&b, "<p class=\"error\" role=\"alert\">");
		html_escape(&b, error);
		buf_puts(&b, "</p>");
	}
	if (open && remaining > 0 && x->transfer) {
		cash_instructions_html(&b, x->transfer,
				       x->merchant_name[0] ? x->merchant_name : x->acct);
	} else if (open && remaining > 0) {
		buf_puts(&b, "<form class=\"pay\" method=\"post\" autocomplete=\"on\" action=\"");
		html_escape(&b, arena_printf(&r->arena, "/invoice/%s/%s", x->acct, x->token));
		buf_printf(&b,
			   "\"><input type=\"hidden\" name=\"attempt\" value=\"%lld\">"
			   "<input type=\"hidden\" name=\"payment_method_data[type]\" "
			   "value=\"card\">",
			   (long long)in->version);
		buf_puts(
		    &b,
		    "<label for=\"name\">Name on card</label><input id=\"name\" "
		    "name=\"payment_method_data[billing_details][name]\" autocomplete=\"cc-name\">"
		    "<label for=\"number\">Card number</label><input id=\"number\" required "
		    "inputmode=\"numeric\" autocomplete=\"cc-number\" "
		    "name=\"payment_method_data[card][number]\">"
		    "<div class=\"row\"><div><label for=\"exp_month\">Month (MM)</label><input "
		    "id=\"exp_month\" required inputmode=\"numeric\" autocomplete=\"cc-exp-month\" "
		    "name=\"payment_method_data[card][exp_month]\"></div><div><label "
		    "for=\"exp_year\">Year (YYYY)</label><input id=\"exp_year\" required "
		    "inputmode=\"numeric\" autocomplete=\"cc-exp-year\" "
		    "name=\"payment_method_data[card][exp_year]\"></div><div><label "
		    "for=\"cvc\">CVC</label><input id=\"cvc\" required inputmode=\"numeric\" "
		    "autocomplete=\"cc-csc\" name=\"payment_method_data[card][cvc]\"></div></div>"
		    "<p><button type=\"submit\" class=\"complete\">Pay ");
		html_amount(&b, remaining, in->currency);
		buf_puts(&b, "</button></p></form>");
	} else if (strcmp(in->status, "paid") == 0) {
		buf_puts(&b, "<p id=\"done\">This invoice is paid. Thank you.</p>");
	} else if (!open) {
		buf_puts(&b, "<p id=\"closed\">This invoice cannot be paid here.</p>");
	}
	const char *footer = invoice_setting_str(r, in, "footer");
	if (footer) {
		buf_puts(&b, "<p id=\"footer\">");
		html_escape(&b, footer);
		buf_puts(&b, "</p>");
	}
	buf_puts(&b, "<p><a id=\"download\" href=\"");
	html_escape(&b, arena_printf(&r->arena, "/invoice/%s/%s/pdf", x->acct, x->token));
	buf_puts(&b, "\">Download invoice</a></p>");
	int rc = challenge_page(r, status, "Invoice", b.failed ? "" : buf_cstr(&b));
	buf_release(&b);
	return rc;
}

static int h_page(struct req *r)
{
	struct page_ctx x;
	int rc = lookup(r, &x);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	return invoice_page(r, &x, 200, NULL);
}

static int h_pay(struct req *r)
{
	struct page_ctx x;
	int rc = lookup(r, &x);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	if (strcmp(x.in.status, "open") != 0 || x.in.amount_due - x.in.amount_paid <= 0)
		return invoice_page(r, &x, 409, NULL);
	/* the form's one-time value: the invoice as the page showed it */
	const char *attempt = param_str(r, "attempt");
	char want[24];
	snprintf(want, sizeof(want), "%lld", (long long)x.in.version);
	if (!attempt || strcmp(attempt, want) != 0)
		return invoice_page(r, &x, 409,
				    "This invoice changed since the page was opened: check it "
				    "below before paying.");
	char pm[ID_MAX];
	if (pm_create_from_data(r, "payment_method_data", pm) != 0) {
		const char *msg = req_error_message(r);
		r->err.set = false;
		return invoice_page(r, &x, 400, msg);
	}
	const char *ret_url =
	    arena_printf(&r->arena, "%s/invoice/%s/%s/complete", req_url_base(r), x.acct, x.token);
	const char *challenge = NULL;
	rc = ret_url ? invoice_pay_on_page(r, &x.in, pm, ret_url, &challenge) : -1;
	/* a decline commits its failed attempt and answers with the card error (r->err) */
	if (rc != 0 || r->err.set) {
		const char *msg = r->err.set && r->err.code == ERR_INVALID_STATE
				      ? "This invoice changed while it was being paid: check it "
					"below."
				      : req_error_message(r);
		int status = r->err.set ? api_error_info(r->err.code)->status : 500;
		r->err.set = false;
		/* the page again, as it is now (a decline recorded a failed attempt) */
		struct page_ctx again;
		int k = lookup(r, &again);
		if (k != 0)
			return k < 0 ? -1 : 0;
		return invoice_page(r, &again, status >= 500 ? 500 : status, msg);
	}
	if (challenge) {
		r->location = challenge;
		return challenge_redirect(r);
	}
	struct page_ctx after;
	rc = lookup(r, &after);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	return invoice_page(r, &after, 200, NULL);
}

/* Where 3-D Secure comes back to: the invoice as its intent's confirmation left it. */
static int h_complete(struct req *r)
{
	struct page_ctx x;
	int rc = lookup(r, &x);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	bool paid = strcmp(x.in.status, "paid") == 0;
	return invoice_page(r, &x, paid ? 200 : 402,
			    paid ? NULL
				 : "Your bank did not confirm the payment. Try again, or use "
				   "another card.");
}

/* The invoice's PDF (documents/answer.h): the same secret as the page's. */
static int h_pdf(struct req *r)
{
	struct page_ctx x;
	int rc = lookup(r, &x);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	return documents_invoice_answer(r, &x.in) == 0 ? 0 : -1;
}

static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};
static const struct param_spec pay_params[] = {
    {"attempt", PT_STRING, 0, 24, NULL, NULL},
    {"payment_method_data", PT_OBJECT, PF_REQUIRED, 0, NULL, pm_data_params},
    {NULL, 0, 0, 0, NULL, NULL},
};
/* what the 3-D Secure page appends to the return URL */
static const struct param_spec complete_params[] = {
    {"payment_intent", PT_STRING, 0, 255, NULL, NULL},
    {"payment_intent_client_secret", PT_STRING, 0, 255, NULL, NULL},
    {"redirect_status", PT_STRING, 0, 32, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

const struct route invoice_page_routes[] = {
    {"GET", "/invoice/{acct}/{token}", h_page, no_params, ROUTE_NO_AUTH | ROUTE_RAW},
    {"POST", "/invoice/{acct}/{token}", h_pay, pay_params,
     ROUTE_NO_AUTH | ROUTE_RAW | ROUTE_PAGE_LIMIT},
    {"GET", "/invoice/{acct}/{token}/complete", h_complete, complete_params,
     ROUTE_NO_AUTH | ROUTE_RAW},
    {"GET", "/invoice/{acct}/{token}/pdf", h_pdf, no_params, ROUTE_NO_AUTH | ROUTE_RAW},
    /* the PDFs of invoices without a hosted page, and of credit notes */
    {"GET", "/invoice/{acct}/{id}/{token}/pdf", documents_h_invoice_pdf, no_params,
     ROUTE_NO_AUTH | ROUTE_RAW},
    {"GET", "/credit_note/{acct}/{id}/{token}/pdf", documents_h_credit_note_pdf, no_params,
     ROUTE_NO_AUTH | ROUTE_RAW},
    {NULL, NULL, NULL, NULL, 0},
};

/*
 * A SEPA mandate's hosted page (/mandate/{merchant}/{mandate}/{secret}): what
 * payment_method_details.sepa_debit.url of a Mandate opens, without an API key. It shows what
 * the debtor agreed to: the mandate's reference, the creditor (the merchant's name), the debtor
 * (the account holder's name), the last four characters of the IBAN (the IBAN itself is the
 * vault's: the page never sees it), the date it was accepted, whether it is for one payment or
 * for recurring ones, its status, and the SEPA mandate text.
 *
 * The secret is vault_page_token(merchant, mandate), as an invoice's PDF link's: derived from a
 * key only the vault holds, never stored, compared in constant time. A secret of the wrong shape
 * or that is not the mandate's, a mandate that is not a SEPA one, or none at all: a 404 that
 * says nothing of any mandate. The page only reads.
 */
#include <jansson.h>
#include <string.h>

#include "api/challenge.h"
#include "api/common.h"
#include "api/resources.h"
#include "app.h"
#include "core/str.h"
#include "payments/sepa.h"
#include "vault/payment_method.h"
#include "vault/vault.h"

struct page_ctx {
	struct req *r;
	const char *id;
	bool found;
	struct mandate m;
	char merchant_name[256];
	char last4[8];
	char country[4];
	const char *debtor; /* the account holder's name, or NULL */
};

static int load_fn(struct db *db, void *p)
{
	struct page_ctx *x = p;
	struct req *r = x->r;
	int rc = sepa_mandate_load(db, &r->arena, r->merchant_id, x->id, &x->m);
	if (rc == DB_NOTFOUND)
		return 0;
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (x->m.pm_type && strcmp(x->m.pm_type, "sepa_debit") != 0)
		return 0; /* an ACH mandate has no page (Stripe shows no url for one) */
	struct pm_card pm;
	rc = pm_load(db, r->merchant_id, x->m.payment_method, &pm);
	if (rc != DB_OK && rc != DB_NOTFOUND)
		return req_fail(r, ERR_API, NULL, NULL);
	if (rc == DB_OK) {
		str_copy(x->last4, sizeof(x->last4), pm.last4);
		str_copy(x->country, sizeof(x->country), pm.country);
		const char *billing = NULL;
		if (pm.has_billing &&
		    pm_billing_details(db, r->merchant_id, pm.id, &r->arena, &billing) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		json_t *bd = billing ? json_loads(billing, 0, NULL) : NULL;
		const char *name = json_string_value(json_object_get(bd, "name"));
		x->debtor = name ? arena_strdup(&r->arena, name) : NULL;
		json_decref(bd);
	}
	if (challenge_merchant_name(db, r->merchant_id, x->merchant_name,
				    sizeof(x->merchant_name)) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	x->found = true;
	return 0;
}

static int mandate_page(struct req *r, struct page_ctx *x)
{
	const struct mandate *m = &x->m;
	const char *creditor = x->merchant_name[0] ? x->merchant_name : r->merchant_id;
	bool multi = strcmp(m->type, "multi_use") == 0;
	bool active = strcmp(m->status, "active") == 0;
	char date[32];
	if (invoice_page_date(m->created, date, sizeof(date)) != 0)
		str_copy(date, sizeof(date), "");
	struct buf b;
	buf_init(&b, 64 * 1024);
	buf_puts(&b, "<h1>SEPA Direct Debit mandate</h1><table id=\"mandate\">");
	html_row(&b, "Mandate reference", "reference", m->reference);
	html_row(&b, "Creditor", "creditor", creditor);
	html_row(&b, "Debtor", "debtor", x->debtor ? x->debtor : "");
	buf_puts(&b, "<tr><th>Account</th><td id=\"account\">IBAN ");
	html_escape(&b, x->country);
	buf_puts(&b, " •••• ");
	html_escape(&b, x->last4);
	buf_puts(&b, "</td></tr>");
	html_row(&b, "Date accepted", "accepted", date);
	html_row(&b, "Accepted", "acceptance",
		 strcmp(m->acceptance_type, "online") == 0 ? "Online" : "Offline");
	buf_puts(&b, "<tr><th>Type</th><td id=\"type\" data-type=\"");
	html_escape(&b, m->type);
	buf_puts(&b, "\">");
	if (multi) {
		buf_puts(&b, "Recurring payments (multi-use)");
	} else {
		buf_puts(&b, "One payment of ");
		html_amount(&b, m->amount, m->currency ? m->currency : "eur");
		buf_puts(&b, " (single use)");
	}
	buf_puts(&b, "</td></tr><tr><th>Status</th><td id=\"status\" data-status=\"");
	html_escape(&b, m->status);
	buf_puts(&b, "\">");
	buf_puts(&b, active ? "Active" : "Inactive: it can no longer be used to debit the account");
	buf_puts(&b, "</td></tr></table><p class=\"mandate\" id=\"mandate-text\">By signing this "
		     "mandate, you authorise (A) ");
	html_escape(&b, creditor);
	buf_puts(&b,
		 " and Tender, the payment service provider it uses, to send instructions to "
		 "your bank to debit your account, and (B) your bank to debit your account as "
		 "those instructions say. You are entitled to a refund from your bank under the "
		 "terms and conditions of your agreement with it; a refund must be claimed "
		 "within 8 weeks of the date on which your account was debited. Your rights are "
		 "explained in a statement that you can obtain from your bank.</p>");
	int rc = challenge_page(r, 200, "SEPA Direct Debit mandate", b.failed ? "" : buf_cstr(&b));
	buf_release(&b);
	return rc;
}

static int not_found(struct req *r)
{
	r->err.set = false;
	return challenge_page(r, 404, "Mandate not found", "<h1>This mandate does not exist</h1>");
}

/* r->args: acct, mandate id, secret. */
static int h_page(struct req *r)
{
	const char *acct = r->args[0], *id = r->args[1], *given = r->args[2];
	char tok[VAULT_PAGE_TOKEN_LEN + 1];
	if (!invoice_page_account_ok(acct) || !invoice_page_account_ok(id) ||
	    strncmp(id, "mandate_", 8) != 0 || !invoice_page_token_ok(given) || !r->app ||
	    !r->app->vault || vault_page_token(r->app->vault, acct, id, tok) != 0 ||
	    !challenge_token_eq(tok, given))
		return not_found(r);
	str_copy(r->merchant_id, sizeof(r->merchant_id), acct);
	struct page_ctx x;
	memset(&x, 0, sizeof(x));
	x.r = r;
	x.id = id;
	if (req_read(r, load_fn, &x) != 0)
		return -1;
	return x.found ? mandate_page(r, &x) : not_found(r);
}

static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

const struct route mandate_page_routes[] = {
    {"GET", "/mandate/{acct}/{id}/{token}", h_page, no_params, ROUTE_NO_AUTH | ROUTE_RAW},
    {NULL, NULL, NULL, NULL, 0},
};

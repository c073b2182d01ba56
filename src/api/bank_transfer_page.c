/*
 * A bank transfer's hosted instructions page (/bank_transfer_instructions/{merchant}/{intent}/
 * {secret}): what next_action.display_bank_transfer_instructions.hosted_instructions_url of a
 * PaymentIntent waiting for a bank transfer (customer_balance, api/cash_balance.c) opens,
 * without an API key, as Stripe hosts one. It shows what the intent still needs, the reference
 * the transfer should name, the customer's virtual bank account (its financial addresses) and
 * the merchant's name: all read from the intent's own next_action, so the page says exactly
 * what the API says. GET only: it changes nothing. Plain HTML, no script, the checkout pages'
 * content security policy (challenge_page).
 *
 * The secret is vault_page_token(merchant, "{intent}#instructions"): derived from a key only
 * the vault holds (never stored), compared in constant time, and of another domain than the
 * same intent's other pages' secrets. A secret of the wrong shape or that is not the intent's,
 * another merchant's, an unknown intent, or one not paid by bank transfer: a 404 that says
 * nothing of any intent. A paid one says so.
 */
#include <jansson.h>
#include <string.h>

#include "api/challenge.h"
#include "api/common.h"
#include "api/resources.h"
#include "app.h"
#include "core/str.h"
#include "payments/payments.h"
#include "vault/vault.h"

#define PAGE_PATH "/bank_transfer_instructions"

/* the object the page's secret is derived for: the intent's id in a domain of its own */
static const char *token_object(struct req *r, const char *pi_id)
{
	return arena_printf(&r->arena, "%s#instructions", pi_id);
}

const char *cash_instructions_url(struct req *r, const char *pi_id)
{
	char tok[VAULT_PAGE_TOKEN_LEN + 1];
	const char *obj = token_object(r, pi_id);
	if (!obj || !r->app || !r->app->vault ||
	    vault_page_token(r->app->vault, r->merchant_id, obj, tok) != 0)
		return NULL;
	return arena_printf(&r->arena, "%s" PAGE_PATH "/%s/%s/%s", req_url_base(r), r->merchant_id,
			    pi_id, tok);
}

/* a financial address field's label */
static const char *field_label(const char *key)
{
	static const struct {
		const char *key, *label;
	} labels[] = {
	    {"account_holder_name", "Account holder"},
	    {"account_number", "Account number"},
	    {"account_type", "Account type"},
	    {"bank_code", "Bank code"},
	    {"bank_name", "Bank"},
	    {"bic", "BIC"},
	    {"branch_code", "Branch code"},
	    {"branch_name", "Branch"},
	    {"clabe", "CLABE"},
	    {"country", "Country"},
	    {"iban", "IBAN"},
	    {"routing_number", "Routing number"},
	    {"sort_code", "Sort code"},
	};
	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
		if (strcmp(labels[i].key, key) == 0)
			return labels[i].label;
	return key;
}

void cash_instructions_html(struct buf *b, const char *next_action, const char *merchant)
{
	json_t *na = json_loads(next_action ? next_action : "", 0, NULL);
	json_t *d = json_object_get(na, "display_bank_transfer_instructions");
	if (!d) {
		json_decref(na);
		return;
	}
	const char *currency = json_string_value(json_object_get(d, "currency"));
	buf_puts(b, "<section id=\"bank-transfer\"><h2>Pay by bank transfer</h2><p>Send ");
	buf_puts(b, "<strong id=\"amount_remaining\">");
	html_amount(b, json_integer_value(json_object_get(d, "amount_remaining")),
		    currency ? currency : "");
	buf_puts(b, "</strong> to the account below");
	if (merchant && *merchant) {
		buf_puts(b, " to pay <span id=\"merchant\">");
		html_escape(b, merchant);
		buf_puts(b, "</span>");
	}
	buf_puts(b, ", naming the reference: it tells us which payment it is for.</p>"
		    "<table id=\"instructions\">");
	const char *ref = json_string_value(json_object_get(d, "reference"));
	html_row(b, "Reference", "reference", ref ? ref : "");
	json_t *addrs = json_object_get(d, "financial_addresses");
	size_t i;
	json_t *a;
	json_array_foreach(addrs, i, a)
	{
		const char *type = json_string_value(json_object_get(a, "type"));
		json_t *fields = type ? json_object_get(a, type) : NULL;
		const char *key;
		json_t *v;
		json_object_foreach(fields, key, v)
		{
			if (!json_is_string(v))
				continue;
			char id[64];
			snprintf(id, sizeof(id), "%s", key);
			html_row(b, field_label(key), id, json_string_value(v));
		}
	}
	buf_puts(b, "</table></section>");
	json_decref(na);
}

enum page_state { PAGE_NONE, PAGE_WAITING, PAGE_PAID };

struct page_ctx {
	struct req *r;
	const char *acct, *id, *token;
	enum page_state state;
	char merchant_name[256];
	const char *next_action;
	int64_t amount;
	char currency[8];
};

static int load_fn(struct db *db, void *p)
{
	struct page_ctx *x = p;
	struct req *r = x->r;
	x->state = PAGE_NONE;
	struct payment_intent pi;
	int rc = pi_load(db, &r->arena, r->merchant_id, x->id, &pi);
	if (rc == DB_NOTFOUND)
		return 0;
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!pi_allows_type(&pi, "customer_balance"))
		return 0;
	x->amount = pi.amount;
	str_copy(x->currency, sizeof(x->currency), pi.currency);
	if (strcmp(pi.status, "succeeded") == 0 && pi.latest_charge) {
		x->state = PAGE_PAID;
	} else if (strcmp(pi.status, "requires_action") == 0 && pi.next_action &&
		   strstr(pi.next_action, "\"display_bank_transfer_instructions\"")) {
		x->next_action = pi.next_action;
		x->state = PAGE_WAITING;
	} else {
		return 0;
	}
	if (challenge_merchant_name(db, r->merchant_id, x->merchant_name,
				    sizeof(x->merchant_name)) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

static int h_page(struct req *r)
{
	struct page_ctx x;
	memset(&x, 0, sizeof(x));
	x.r = r;
	x.acct = r->args[0];
	x.id = r->args[1];
	x.token = r->args[2];
	char tok[VAULT_PAGE_TOKEN_LEN + 1];
	const char *obj = NULL;
	if (invoice_page_account_ok(x.acct) && invoice_page_account_ok(x.id) &&
	    strncmp(x.id, "pi_", 3) == 0 && invoice_page_token_ok(x.token) && r->app &&
	    r->app->vault && (obj = token_object(r, x.id)) != NULL &&
	    vault_page_token(r->app->vault, x.acct, obj, tok) == 0 &&
	    challenge_token_eq(tok, x.token)) {
		str_copy(r->merchant_id, sizeof(r->merchant_id), x.acct);
		if (req_read(r, load_fn, &x) != 0)
			return -1;
	}
	if (x.state == PAGE_NONE) {
		r->err.set = false;
		return challenge_page(r, 404, "Instructions not found",
				      "<h1>These instructions are not available</h1><p>The link is "
				      "wrong, or the payment no longer waits for a bank "
				      "transfer.</p>");
	}
	const char *merchant = x.merchant_name[0] ? x.merchant_name : x.acct;
	struct buf b;
	buf_init(&b, 64 * 1024);
	buf_puts(&b, "<h1>Bank transfer instructions</h1><table id=\"payment\">");
	html_row(&b, "Business", "business", merchant);
	buf_puts(&b, "<tr><th>Payment</th><td id=\"amount\">");
	html_amount(&b, x.amount, x.currency);
	buf_puts(&b, "</td></tr></table>");
	if (x.state == PAGE_PAID)
		buf_puts(&b, "<p id=\"done\">This payment is complete. Thank you.</p>");
	else
		cash_instructions_html(&b, x.next_action, merchant);
	int rc = challenge_page(r, 200, "Bank transfer instructions", b.failed ? "" : buf_cstr(&b));
	buf_release(&b);
	return rc;
}

static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

const struct route bank_transfer_page_routes[] = {
    {"GET", PAGE_PATH "/{acct}/{id}/{token}", h_page, no_params, ROUTE_NO_AUTH | ROUTE_RAW},
    {NULL, NULL, NULL, NULL, 0},
};

/*
 * An ACH Direct Debit account's hosted microdeposit verification page
 * (/microdeposits/{merchant}/{intent}/{secret}): what next_action.verify_with_microdeposits
 * .hosted_verification_url of a PaymentIntent or SetupIntent opens, without an API key, as
 * Stripe hosts one. GET shows the account (bank name and last four digits only: the account
 * number is the vault's, the page never sees it), the payment's amount, when the microdeposits
 * arrive, and a form for their two amounts in cents (or the descriptor code, when the intent's
 * microdeposit_type is descriptor_code). POST verifies through the API's own code
 * (ach_pi_verify / ach_si_verify, mandates.h): the same state changes and events in one write.
 *
 * The secret is vault_page_token(merchant, intent), as a SEPA mandate page's: derived from a key
 * only the vault holds, compared in constant time. A secret of the wrong shape or that is not
 * the intent's, another merchant's, an unknown or non-ACH intent, or one no longer waiting for
 * its microdeposits: a 404 that says nothing of any intent. An intent whose account was verified
 * says so (and a post changes nothing). GET only reads.
 */
#include <jansson.h>
#include <string.h>

#include "api/challenge.h"
#include "api/common.h"
#include "api/mandates.h"
#include "api/resources.h"
#include "app.h"
#include "core/str.h"
#include "vault/ach.h"
#include "vault/payment_method.h"
#include "vault/vault.h"

enum page_state { PAGE_NONE, PAGE_WAITING, PAGE_VERIFIED };

struct page_ctx {
	struct req *r;
	const char *acct, *id, *token;
	bool setup; /* a SetupIntent (else a PaymentIntent) */
	enum page_state state;
	char merchant_name[256];
	char bank_name[64];
	char last4[8];
	int64_t amount; /* a PaymentIntent's */
	char currency[4];
	int64_t arrival_date;
	bool descriptor_code; /* microdeposit_type descriptor_code (else amounts) */
};

static int load_fn(struct db *db, void *p)
{
	struct page_ctx *x = p;
	struct req *r = x->r;
	x->state = PAGE_NONE;
	char vstatus[16], pm_id[ID_MAX];
	int rc = ach_verification_status(db, r->merchant_id, x->id, vstatus, pm_id);
	if (rc == DB_NOTFOUND)
		return 0;
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	const char *status = NULL, *next_action = NULL;
	if (x->setup) {
		rc = setup_intent_next_action(r, db, r->merchant_id, x->id, &status, &next_action);
	} else {
		struct payment_intent pi;
		rc = pi_load(db, &r->arena, r->merchant_id, x->id, &pi);
		if (rc == DB_OK) {
			status = pi.status;
			next_action = pi.next_action;
			x->amount = pi.amount;
			str_copy(x->currency, sizeof(x->currency), pi.currency);
		}
	}
	if (rc == DB_NOTFOUND)
		return 0;
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	struct pm_card pm;
	rc = pm_load(db, r->merchant_id, pm_id, &pm);
	if (rc == DB_NOTFOUND || (rc == DB_OK && !PM_IS_ACH(&pm)))
		return 0;
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	const char *bank = ach_bank_name(pm.ach_routing);
	str_copy(x->bank_name, sizeof(x->bank_name), bank ? bank : "Bank account");
	str_copy(x->last4, sizeof(x->last4), pm.last4);
	if (challenge_merchant_name(db, r->merchant_id, x->merchant_name,
				    sizeof(x->merchant_name)) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	if (strcmp(vstatus, "verified") == 0) {
		x->state = PAGE_VERIFIED;
		return 0;
	}
	/* waiting: the intent's own next_action says so, as the API's verify checks it */
	if (strcmp(vstatus, "pending") != 0 || strcmp(status, "requires_action") != 0 ||
	    !next_action)
		return 0;
	json_t *na = json_loads(next_action, 0, NULL);
	json_t *v = json_object_get(na, "verify_with_microdeposits");
	if (v && json_is_integer(json_object_get(v, "arrival_date"))) {
		x->arrival_date = json_integer_value(json_object_get(v, "arrival_date"));
		const char *type = json_string_value(json_object_get(v, "microdeposit_type"));
		x->descriptor_code = type && strcmp(type, "descriptor_code") == 0;
		x->state = PAGE_WAITING;
	}
	json_decref(na);
	return 0;
}

static int not_found(struct req *r)
{
	r->err.set = false;
	return challenge_page(r, 404, "Verification not found",
			      "<h1>This verification is not available</h1><p>The link is wrong, "
			      "or the account no longer waits for its verification.</p>");
}

/* The page as x says; message (escaped) in a notice above the form, or NULL. */
static int page(struct req *r, struct page_ctx *x, int status, const char *message)
{
	const char *merchant = x->merchant_name[0] ? x->merchant_name : x->acct;
	struct buf b;
	buf_init(&b, 64 * 1024);
	buf_puts(&b, "<h1>Verify your bank account</h1><table id=\"verification\">");
	buf_puts(&b, "<tr><th>Account</th><td id=\"account\">");
	html_escape(&b, x->bank_name);
	buf_puts(&b, " •••• ");
	html_escape(&b, x->last4);
	buf_puts(&b, "</td></tr>");
	html_row(&b, "Business", "business", merchant);
	if (!x->setup) {
		buf_puts(&b, "<tr><th>Payment</th><td id=\"amount\">");
		html_amount(&b, x->amount, x->currency);
		buf_puts(&b, "</td></tr>");
	}
	if (x->state == PAGE_WAITING) {
		char date[32];
		if (invoice_page_date(x->arrival_date, date, sizeof(date)) != 0)
			str_copy(date, sizeof(date), "");
		html_row(&b, "Deposits arrive by", "arrival", date);
	}
	buf_puts(&b, "</table>");
	if (message) {
		buf_puts(&b, "<p class=\"notice\" id=\"message\">");
		html_escape(&b, message);
		buf_puts(&b, "</p>");
	}
	if (x->state == PAGE_VERIFIED) {
		buf_puts(&b, "<p id=\"verified\">Your bank account is verified. You can close this "
			     "page.</p>");
	} else {
		const char *action =
		    arena_printf(&r->arena, "/microdeposits/%s/%s/%s", x->acct, x->id, x->token);
		buf_puts(&b, "<form method=\"post\" id=\"verify\" action=\"");
		html_escape(&b, action ? action : "");
		if (x->descriptor_code) {
			buf_puts(&b, "\"><p>We sent one deposit of 0.01 USD to this account. Its "
				     "statement description begins with a six-character code that "
				     "starts with SM: enter it below.</p><label>Descriptor code "
				     "<input name=\"descriptor_code\" maxlength=\"6\" "
				     "autocomplete=\"off\" required></label>");
		} else {
			buf_puts(&b,
				 "\"><p>We sent two small deposits to this account, described "
				 "as ACCTVERIFY on your statement. Enter their amounts in "
				 "cents.</p><label>First deposit (cents) <input "
				 "name=\"amounts[0]\" inputmode=\"numeric\" pattern=\"[0-9]+\" "
				 "maxlength=\"2\" required></label><label>Second deposit (cents) "
				 "<input name=\"amounts[1]\" inputmode=\"numeric\" "
				 "pattern=\"[0-9]+\" maxlength=\"2\" required></label>");
		}
		buf_puts(&b, "<button type=\"submit\">Verify account</button></form>");
	}
	int rc =
	    challenge_page(r, status, "Verify your bank account", b.failed ? "" : buf_cstr(&b));
	buf_release(&b);
	return rc;
}

/* The link's checks and the read: 0 with x loaded (x->state PAGE_NONE: answer 404), -1 with
 * r->err. r->args: acct, intent id, secret. */
static int lookup(struct req *r, struct page_ctx *x)
{
	memset(x, 0, sizeof(*x));
	x->r = r;
	x->acct = r->args[0];
	x->id = r->args[1];
	x->token = r->args[2];
	x->setup = strncmp(x->id, "seti_", 5) == 0;
	char tok[VAULT_PAGE_TOKEN_LEN + 1];
	if (!invoice_page_account_ok(x->acct) || !invoice_page_account_ok(x->id) ||
	    (!x->setup && strncmp(x->id, "pi_", 3) != 0) || !invoice_page_token_ok(x->token) ||
	    !r->app || !r->app->vault ||
	    vault_page_token(r->app->vault, x->acct, x->id, tok) != 0 ||
	    !challenge_token_eq(tok, x->token))
		return 0;
	str_copy(r->merchant_id, sizeof(r->merchant_id), x->acct);
	return req_read(r, load_fn, x) != 0 ? -1 : 0;
}

static int h_page(struct req *r)
{
	struct page_ctx x;
	if (lookup(r, &x) != 0)
		return -1;
	if (x.state == PAGE_NONE)
		return not_found(r);
	return page(r, &x, 200,
		    x.state == PAGE_VERIFIED ? "This bank account is already verified." : NULL);
}

static int h_verify(struct req *r)
{
	struct page_ctx x;
	if (lookup(r, &x) != 0)
		return -1;
	if (x.state == PAGE_NONE)
		return not_found(r);
	if (x.state == PAGE_VERIFIED)
		return page(r, &x, 200, "This bank account is already verified.");
	bool match = false;
	if (ach_check_microdeposits(r, &match) != 0) {
		const char *msg = req_error_message(r);
		r->err.set = false;
		return page(r, &x, 400, msg);
	}
	struct ach_verify_result res;
	int rc =
	    x.setup ? ach_si_verify(r, x.id, match, &res) : ach_pi_verify(r, x.id, match, &res);
	if (rc != 0 && r->err.set && r->err.code == ERR_API)
		return -1;
	r->err.set = false;
	/* the page again, as the write left it (another request may have ended it meanwhile) */
	struct page_ctx after;
	if (lookup(r, &after) != 0)
		return -1;
	if (rc != 0 || res.outcome == ACH_VERIFY_NONE)
		return after.state == PAGE_NONE ? not_found(r) : page(r, &after, 409, NULL);
	switch (res.outcome) {
	case ACH_VERIFY_OK:
		return page(r, &after, 200, "Thank you: your bank account is verified.");
	case ACH_VERIFY_MISMATCH: {
		const char *msg = arena_printf(
		    &r->arena,
		    "The amounts you entered do not match the deposits sent to this account. You "
		    "have %d verification attempt%s remaining.",
		    res.left, res.left == 1 ? "" : "s");
		return page(r, &after, 400, msg);
	}
	default:
		break;
	}
	/* the last wrong answer ended the verification: the intent went back to
	 * requires_payment_method, as through the API */
	return challenge_page(r, 400, "Verification failed",
			      "<h1>Verification failed</h1><p id=\"message\">You have exceeded the "
			      "number of allowed verification attempts. Contact the business to "
			      "add your bank account again.</p>");
}

static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

const struct route microdeposit_page_routes[] = {
    {"GET", "/microdeposits/{acct}/{id}/{token}", h_page, no_params, ROUTE_NO_AUTH | ROUTE_RAW},
    /* a wrong answer can be tried: the merchant's page rate limit */
    {"POST", "/microdeposits/{acct}/{id}/{token}", h_verify, ach_verify_params,
     ROUTE_NO_AUTH | ROUTE_RAW | ROUTE_PAGE_LIMIT},
    {NULL, NULL, NULL, NULL, 0},
};

/*
 * A Financial Connections session's hosted test page (/link_accounts/{merchant}/{client_secret}):
 * what Stripe.js's authentication flow is on Stripe, without an API key. As in Stripe's test
 * mode, it offers the accounts of the "Test Institution" (vault/fc_institution.h: Success,
 * Checking, Savings, Insufficient Funds, No Ownership Data, Disconnected) instead of a bank
 * login; the user ticks one or more and links them. Linking goes through fc_session_link
 * (api/financial_connections.c: the accounts, their prefetched data and events, the session
 * completed, in one write), then the browser goes to the session's return_url (or the page says
 * it is done). A session links once.
 *
 * The client secret is derived from the vault's page key (fc_client_secret), never stored,
 * compared in constant time. The GET hands the form a one-time value, kept only as its SHA-256,
 * that the POST must bring back within FORM_SESSION_S (a new GET replaces it); the page's content
 * security policy allows no script, no framing and forms posting back to Tender only
 * (challenge.h). Anything else (a wrong secret, another merchant's session, a form posted twice)
 * gets a 404 page that says nothing of any session.
 */
#include <string.h>

#include "api/challenge.h"
#include "api/common.h"
#include "api/financial_connections.h"
#include "api/resources.h"
#include "core/digest.h"
#include "core/str.h"
#include "vault/fc_institution.h"

#define FORM_SESSION_S 3600 /* how long an opened page's form may still be posted */
#define NONCE_LEN 32
#define PICK_MAX 8

enum page_outcome { PAGE_NONE, PAGE_CLOSED, PAGE_FORM, PAGE_NOTHING_PICKED, PAGE_DONE };

struct page_ctx {
	struct req *r;
	const char *acct, *secret, *path;
	char id[ID_MAX];
	char nonce[NONCE_LEN + 1], nonce_hash[65];
	enum page_outcome outcome;
	struct fc_session s;
	char merchant_name[256];
	const char *picked[PICK_MAX]; /* a POST's test account keys */
	int npicked;
};

static int page_init(struct req *r, struct page_ctx *x)
{
	memset(x, 0, sizeof(*x));
	x->r = r;
	x->acct = r->args[0];
	x->secret = r->args[1];
	x->path = arena_printf(&r->arena, "/link_accounts/%s/%s", x->acct, x->secret);
	if (!x->path || !invoice_page_account_ok(x->acct) ||
	    fc_client_secret_session(x->secret, x->id) != 0 || strlen(x->secret) > 200)
		return 1;
	str_copy(r->merchant_id, sizeof(r->merchant_id), x->acct);
	return 0;
}

/* The session, when the URL's secret is its client secret. 1 when it is not (x->outcome
 * PAGE_NONE), or when it has linked its accounts already (PAGE_CLOSED). */
static int load(struct db *db, struct page_ctx *x)
{
	struct req *r = x->r;
	x->outcome = PAGE_NONE;
	int rc = fc_session_load(db, &r->arena, x->acct, x->id, &x->s);
	if (rc == DB_NOTFOUND)
		return 1;
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	const char *want = fc_client_secret(r, x->acct, x->id);
	if (!want || !challenge_token_eq(want, x->secret))
		return 1;
	if (challenge_merchant_name(db, x->acct, x->merchant_name, sizeof(x->merchant_name)) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	if (x->s.completed_at) {
		x->outcome = PAGE_CLOSED;
		return 1;
	}
	return 0;
}

/* GET: the form handed a one-time value. */
static int open_fn(struct db *db, void *p)
{
	struct page_ctx *x = p;
	int rc = load(db, x);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	rc = fc_session_form_open(db, x->acct, x->id, x->nonce_hash, x->r->now);
	if (rc == DB_CONFLICT)
		return 0;
	if (rc != DB_OK)
		return req_fail(x->r, ERR_API, NULL, NULL);
	x->outcome = PAGE_FORM;
	return 0;
}

/* POST: the opened form, with its one-time value, in time. */
static int submit_fn(struct db *db, void *p)
{
	struct page_ctx *x = p;
	struct req *r = x->r;
	int rc = load(db, x);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	const char *nonce = param_str(r, "nonce");
	char given[65];
	if (!x->s.form_hash || x->s.form_opened_at + FORM_SESSION_S <= r->now || !nonce ||
	    digest_sha256_hex(nonce, strlen(nonce), given) != 0 ||
	    !challenge_token_eq(x->s.form_hash, given))
		return 0;
	str_copy(x->nonce, sizeof(x->nonce), nonce);
	if (x->npicked == 0) {
		x->outcome = PAGE_NOTHING_PICKED;
		return 0;
	}
	if (fc_session_link(r, db, &x->s, x->picked, x->npicked) != 0)
		return -1;
	x->outcome = PAGE_DONE;
	return 0;
}

static int not_found(struct req *r)
{
	r->err.set = false;
	return challenge_page(r, 404, "Link not found",
			      "<h1>This link is not valid</h1><p>Go back to the site that sent you "
			      "here for a new one.</p>");
}

static int closed(struct req *r)
{
	return challenge_page(
	    r, 200, "Accounts linked",
	    "<h1>Link your bank account</h1><p id=\"closed\">The accounts of this "
	    "session are linked already. You can close this page.</p>");
}

static int form_page(struct req *r, struct page_ctx *x, int status, const char *error)
{
	const char *merchant = x->merchant_name[0] ? x->merchant_name : x->acct;
	struct buf b;
	buf_init(&b, 32 * 1024);
	buf_puts(&b, "<h1>Link your bank account</h1><p>");
	html_escape(&b, merchant);
	buf_puts(&b, " asks to connect to your bank account through Financial Connections.</p>"
		     "<p class=\"notice\" id=\"test-mode\">Test mode: no bank login is used. "
		     "Choose the accounts of the test institution to link.</p>");
	if (error) {
		buf_puts(&b, "<p class=\"error\" id=\"error\">");
		html_escape(&b, error);
		buf_puts(&b, "</p>");
	}
	buf_puts(&b, "<form class=\"pay\" method=\"post\" id=\"link\" action=\"");
	html_escape(&b, x->path);
	buf_puts(&b, "\"><input type=\"hidden\" name=\"nonce\" value=\"");
	html_escape(&b, x->nonce);
	buf_puts(&b, "\"><h2>" FC_TEST_INSTITUTION "</h2>");
	size_t n;
	const struct fc_test_account *t = fc_test_accounts(&n);
	for (size_t i = 0; i < n; i++) {
		buf_puts(&b, "<p><label><input type=\"checkbox\" name=\"account_");
		html_escape(&b, t[i].key);
		buf_puts(&b, "\" value=\"1\" id=\"account-");
		html_escape(&b, t[i].key);
		buf_puts(&b, "\"> ");
		html_escape(&b, t[i].display_name);
		buf_puts(&b, " (");
		html_escape(&b, t[i].subcategory);
		buf_puts(&b, " ····");
		html_escape(&b, t[i].last4);
		buf_puts(&b, ")</label></p>");
	}
	buf_puts(&b, "<p><button type=\"submit\" id=\"link-accounts\" class=\"complete\">Link "
		     "accounts</button></p></form>");
	int rc = challenge_page(r, status, "Link your bank account", b.failed ? "" : buf_cstr(&b));
	buf_release(&b);
	return rc;
}

static int h_page(struct req *r)
{
	struct page_ctx x;
	if (page_init(r, &x) != 0)
		return not_found(r);
	id_random_base62(x.nonce, NONCE_LEN);
	x.nonce[NONCE_LEN] = '\0';
	if (digest_sha256_hex(x.nonce, NONCE_LEN, x.nonce_hash) != 0 ||
	    req_write(r, open_fn, &x) != 0)
		return -1;
	switch (x.outcome) {
	case PAGE_FORM:
		return form_page(r, &x, 200, NULL);
	case PAGE_CLOSED:
		return closed(r);
	default:
		return not_found(r);
	}
}

static int h_submit(struct req *r)
{
	struct page_ctx x;
	if (page_init(r, &x) != 0)
		return not_found(r);
	size_t n;
	const struct fc_test_account *t = fc_test_accounts(&n);
	for (size_t i = 0; i < n && x.npicked < PICK_MAX; i++) {
		char name[64];
		snprintf(name, sizeof(name), "account_%s", t[i].key);
		const char *v = param_str(r, name);
		if (v && *v)
			x.picked[x.npicked++] = t[i].key;
	}
	if (req_write(r, submit_fn, &x) != 0)
		return -1;
	switch (x.outcome) {
	case PAGE_DONE:
		if (x.s.return_url) {
			r->location = x.s.return_url;
			return challenge_redirect(r);
		}
		return challenge_page(r, 200, "Accounts linked",
				      "<h1>Accounts linked</h1><p id=\"done\">Your accounts are "
				      "linked. You can close this page.</p>");
	case PAGE_NOTHING_PICKED:
		return form_page(r, &x, 400, "Choose at least one account to link.");
	case PAGE_CLOSED:
		return closed(r);
	default:
		return not_found(r);
	}
}

static const struct param_spec submit_params[] = {
    {"nonce", PT_STRING, 0, 64, NULL, NULL},
    {"account_success", PT_STRING, 0, 8, NULL, NULL},
    {"account_checking", PT_STRING, 0, 8, NULL, NULL},
    {"account_savings", PT_STRING, 0, 8, NULL, NULL},
    {"account_insufficient_funds", PT_STRING, 0, 8, NULL, NULL},
    {"account_no_ownership", PT_STRING, 0, 8, NULL, NULL},
    {"account_disconnected", PT_STRING, 0, 8, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

const struct route financial_connections_page_routes[] = {
    {"GET", "/link_accounts/{acct}/{secret}", h_page, no_params, ROUTE_NO_AUTH | ROUTE_RAW},
    {"POST", "/link_accounts/{acct}/{secret}", h_submit, submit_params,
     ROUTE_NO_AUTH | ROUTE_RAW | ROUTE_PAGE_LIMIT},
    {NULL, NULL, NULL, NULL, 0},
};

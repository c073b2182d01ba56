/*
 * A verification session's hosted page (/verify/{merchant}/{session}/{secret}): what its `url`
 * opens, without an API key. As Stripe's test mode does, it offers the outcomes a test
 * submission can have instead of a camera (for a document: verified, document unverified,
 * expired, or of a type not supported, and a selfie or id number mismatch when the session
 * requires those checks; for an id number: verified, mismatch, insufficient data, unverified),
 * and asks for the id number when the session's checks include one. Submitting records the
 * outcome through identity_submit (api/identity.c: the report, the status through processing,
 * the events, in one write), then sends the browser to the session's return_url (or says it is
 * done).
 *
 * The secret is vault_page_token of the session id and its link number: derived from a key only
 * the vault holds, never stored, compared in constant time. A link works once, as Stripe's url:
 * the GET that opens it moves the session's link number on (a guarded update, so two visits at
 * once open it once; the next retrieve of the session shows a new url) and hands the form a
 * one-time value, kept only as its SHA-256, that the POST must bring back within
 * FORM_SESSION_S, to the same link; a link not opened within LINK_TTL_S of being made is used up
 * by the visit that finds it expired; the page's content security policy allows no script, no
 * framing and forms posting back to Tender only (challenge.h). A submission uses the form up.
 * Anything else (a wrong or used link, another merchant's session, a form posted twice) gets a
 * 404 page that says nothing of any session.
 */
#include <string.h>

#include "api/challenge.h"
#include "api/common.h"
#include "api/identity.h"
#include "api/resources.h"
#include "core/digest.h"
#include "core/str.h"

#define FORM_SESSION_S 3600    /* how long an opened page's form may still be posted */
#define LINK_TTL_S (48 * 3600) /* Stripe's url expires 48 hours after it is made */
#define NONCE_LEN 32

enum page_outcome { PAGE_NONE, PAGE_CLOSED, PAGE_FORM, PAGE_BAD_ID, PAGE_DONE };

struct page_ctx {
	struct req *r;
	const char *acct, *id, *token, *path;
	char nonce[NONCE_LEN + 1], nonce_hash[65];
	enum page_outcome outcome;
	struct vsession s;
	char merchant_name[256];
	const char *choice, *id_number; /* a POST's */
};

static int page_init(struct req *r, struct page_ctx *x)
{
	memset(x, 0, sizeof(*x));
	x->r = r;
	x->acct = r->args[0];
	x->id = r->args[1];
	x->token = r->args[2];
	x->path = arena_printf(&r->arena, "/verify/%s/%s/%s", x->acct, x->id, x->token);
	if (!x->path || !invoice_page_account_ok(x->acct) || !invoice_page_account_ok(x->id) ||
	    strncmp(x->id, "vs_", 3) != 0 || !invoice_page_token_ok(x->token))
		return 1;
	str_copy(r->merchant_id, sizeof(r->merchant_id), x->acct);
	return 0;
}

/* The session, when the URL's secret is link number gen's (gen < 0: the one the GET would
 * open, else the one a form was handed by). 1 when it is not (x->outcome PAGE_NONE). */
static int load(struct db *db, struct page_ctx *x, bool opened)
{
	struct req *r = x->r;
	x->outcome = PAGE_NONE;
	int rc = identity_session_load(db, &r->arena, x->acct, x->id, &x->s);
	if (rc == DB_NOTFOUND)
		return 1;
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	int64_t gen = opened ? x->s.link_gen - 1 : x->s.link_gen;
	char tok[64];
	if (gen < 0 || identity_link_token(r, x->acct, x->id, gen, tok) != 0 ||
	    !challenge_token_eq(tok, x->token))
		return 1;
	if (challenge_merchant_name(db, x->acct, x->merchant_name, sizeof(x->merchant_name)) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	if (strcmp(x->s.status, "requires_input") != 0 || x->s.redaction_status) {
		x->outcome = PAGE_CLOSED;
		return 1;
	}
	return 0;
}

/* GET: the link opened (once), its form handed a one-time value. */
static int open_fn(struct db *db, void *p)
{
	struct page_ctx *x = p;
	int rc = load(db, x, false);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	/* a link is made with its session (the first) or when the one before it was opened */
	int64_t made = x->s.link_gen == 0 ? x->s.created : x->s.form_opened_at;
	bool expired = x->r->now - made >= LINK_TTL_S;
	rc = identity_link_open(db, x->acct, x->id, x->s.link_gen, expired ? NULL : x->nonce_hash,
				x->r->now);
	if (expired) {
		/* used up without a form: the session's next retrieve shows a new link */
		x->outcome = PAGE_NONE;
		return rc == DB_OK || rc == DB_CONFLICT ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
	}
	if (rc == DB_CONFLICT)
		return 0; /* another visit opened it first */
	if (rc != DB_OK)
		return req_fail(x->r, ERR_API, NULL, NULL);
	x->outcome = PAGE_FORM;
	return 0;
}

/* POST: the opened link's form, with its one-time value, within the session. */
static int submit_fn(struct db *db, void *p)
{
	struct page_ctx *x = p;
	struct req *r = x->r;
	int rc = load(db, x, true);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	const char *nonce = param_str(r, "nonce");
	char given[65];
	if (!x->s.form_hash || x->s.form_opened_at + FORM_SESSION_S <= r->now || !nonce ||
	    digest_sha256_hex(nonce, strlen(nonce), given) != 0 ||
	    !challenge_token_eq(x->s.form_hash, given))
		return 0;
	str_copy(x->nonce, sizeof(x->nonce), nonce);
	struct identity_outcome outs[8];
	int n = identity_outcomes(&x->s, outs);
	bool offered = false;
	for (int i = 0; i < n && x->choice; i++)
		offered = offered || strcmp(outs[i].code, x->choice) == 0;
	if (!offered) {
		x->outcome = PAGE_BAD_ID; /* the form again: nothing was chosen that it offers */
		return 0;
	}
	char ssn[10];
	const char *idn = NULL;
	if (identity_wants_id_number(&x->s)) {
		if (identity_ssn_normalize(x->id_number, ssn) != 0) {
			x->outcome = PAGE_BAD_ID;
			return 0;
		}
		idn = ssn;
	}
	rc = identity_submit(r, db, &x->s, x->choice, idn);
	memset(ssn, 0, sizeof(ssn));
	if (rc != 0)
		return -1;
	x->outcome = PAGE_DONE;
	return 0;
}

static int not_found(struct req *r)
{
	r->err.set = false;
	return challenge_page(r, 404, "Verification not found",
			      "<h1>This verification link is not valid</h1><p>It may have been "
			      "used already or have expired. Go back to the site that sent you "
			      "here for a new one.</p>");
}

static int closed(struct req *r, const struct vsession *s)
{
	const char *msg = strcmp(s->status, "verified") == 0 ? "This verification is complete."
			  : strcmp(s->status, "processing") == 0
			      ? "This verification is being processed."
			      : "This verification is no longer available.";
	struct buf b;
	buf_init(&b, 4096);
	buf_puts(&b, "<h1>Identity verification</h1><p id=\"closed\">");
	html_escape(&b, msg);
	buf_puts(&b, " You can close this page.</p>");
	int rc = challenge_page(r, 200, "Identity verification", b.failed ? "" : buf_cstr(&b));
	buf_release(&b);
	return rc;
}

static int form_page(struct req *r, struct page_ctx *x, int status, const char *error)
{
	const struct vsession *s = &x->s;
	const char *merchant = x->merchant_name[0] ? x->merchant_name : x->acct;
	bool doc = strcmp(s->type, "document") == 0;
	struct buf b;
	buf_init(&b, 64 * 1024);
	buf_puts(&b, "<h1>Verify your identity</h1><p>");
	html_escape(&b, merchant);
	buf_puts(&b, doc ? " asks you to verify your identity with a government-issued ID."
			 : " asks you to verify your identity with your ID number.");
	buf_puts(&b, "</p><p class=\"notice\" id=\"test-mode\">Test mode: no camera or document "
		     "is used. Choose the outcome of this test verification.</p>");
	if (error) {
		buf_puts(&b, "<p class=\"error\" id=\"error\">");
		html_escape(&b, error);
		buf_puts(&b, "</p>");
	}
	buf_puts(&b, "<form class=\"pay\" method=\"post\" id=\"verify\" action=\"");
	html_escape(&b, x->path);
	buf_puts(&b, "\"><input type=\"hidden\" name=\"nonce\" value=\"");
	html_escape(&b, x->nonce);
	buf_puts(&b, "\">");
	if (identity_wants_id_number(s))
		buf_puts(&b, "<label>ID number (US social security number)<input type=\"text\" "
			     "name=\"id_number\" id=\"id_number\" inputmode=\"numeric\" "
			     "autocomplete=\"off\" maxlength=\"11\" required></label>");
	struct identity_outcome outs[8];
	int n = identity_outcomes(s, outs);
	for (int i = 0; i < n; i++) {
		buf_puts(&b, "<p><button type=\"submit\" name=\"outcome\" value=\"");
		html_escape(&b, outs[i].code);
		buf_puts(&b, "\" id=\"outcome-");
		html_escape(&b, outs[i].code);
		buf_puts(&b, i == 0 ? "\" class=\"complete\">" : "\">");
		html_escape(&b, outs[i].label);
		buf_puts(&b, "</button></p>");
	}
	buf_puts(&b, "</form>");
	int rc = challenge_page(r, status, "Verify your identity", b.failed ? "" : buf_cstr(&b));
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
		return closed(r, &x.s);
	default:
		return not_found(r);
	}
}

static int h_submit(struct req *r)
{
	struct page_ctx x;
	if (page_init(r, &x) != 0)
		return not_found(r);
	x.choice = param_str(r, "outcome");
	x.id_number = param_str(r, "id_number");
	if (req_write(r, submit_fn, &x) != 0)
		return -1;
	switch (x.outcome) {
	case PAGE_DONE:
		if (x.s.return_url) {
			r->location = x.s.return_url;
			return challenge_redirect(r);
		}
		return challenge_page(r, 200, "Verification submitted",
				      "<h1>Verification submitted</h1><p id=\"done\">Thank you. "
				      "You can close this page.</p>");
	case PAGE_BAD_ID:
		return form_page(r, &x, 400,
				 identity_wants_id_number(&x.s)
				     ? "Enter a 9-digit ID number and choose an outcome."
				     : "Choose an outcome.");
	case PAGE_CLOSED:
		return closed(r, &x.s);
	default:
		return not_found(r);
	}
}

static const struct param_spec submit_params[] = {
    {"nonce", PT_STRING, 0, 64, NULL, NULL},
    {"outcome", PT_STRING, 0, 64, NULL, NULL},
    {"id_number", PT_STRING, 0, 32, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

const struct route identity_page_routes[] = {
    {"GET", "/verify/{acct}/{id}/{token}", h_page, no_params, ROUTE_NO_AUTH | ROUTE_RAW},
    {"POST", "/verify/{acct}/{id}/{token}", h_submit, submit_params,
     ROUTE_NO_AUTH | ROUTE_RAW | ROUTE_PAGE_LIMIT},
    {NULL, NULL, NULL, NULL, 0},
};

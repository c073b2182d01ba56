/*
 * POST /v1/account_links and the onboarding page it opens (/connect/onboarding/{platform}/{key}).
 *
 * An account link is a single-use URL, as on Stripe: the secret in it (24 random base62
 * characters) is kept only as its SHA-256, and it expires ACCOUNT_LINK_TTL_S after it is made.
 * Stripe consumes a link with its first visit, so the page's GET is a write here (the only page
 * of Tender's that writes on GET, for that reason): it moves the link from new to opened and
 * hands the form a one-time value (kept hashed too) that its POST must bring back. A second
 * visit, a link past its expiry, or a form posted after ONBOARDING_SESSION_S sends the browser
 * to refresh_url, where the platform makes a new link, as Stripe's flow has it.
 *
 * The page is a plain HTML form (no scripts; the 3-D Secure and checkout pages' layout, escaping
 * and content security policy, challenge.h) asking for exactly what the account's
 * requirements.currently_due lists: business_type first (the rest depends on it), then the
 * individual's name, date of birth and address or the company's name and address, a bank
 * account, and the acceptance of the terms. The form's fields carry the API's own parameter
 * names (individual[first_name], external_account[account_number], …), so its answers go
 * through the account update's own code (accounts_onboarding_submit): the same checks, the same
 * account.updated and capability.updated events (the platform's), the external account's event.
 * What was given is kept even when more is still due; once nothing is, the link is done and the
 * browser goes to return_url.
 *
 * type=account_update is refused for Express and Standard accounts (Stripe offers it to Custom
 * accounts only); collect=eventually_due (or collection_options[fields]=eventually_due, its
 * newer spelling) asks for the same fields, Tender's requirements having no later stage, and
 * collection_options[future_requirements]=include adds none, Tender's future_requirements
 * being always empty. Both are kept on the link.
 */
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "api/accounts.h"
#include "api/challenge.h"
#include "api/common.h"
#include "api/external_accounts.h"
#include "api/persons.h"
#include "api/resources.h"
#include "core/digest.h"
#include "core/str.h"
#include "store/store.h"

#define ACCOUNT_LINK_TTL_S 300	  /* Stripe's account links last about five minutes */
#define ONBOARDING_SESSION_S 3600 /* how long an opened page's form may still be posted */
#define LINK_KEY_LEN 24

static const char SQL_LINK_PUT[] =
    "INSERT INTO account_links (merchant_id, id, account, created, expires_at, type, collect,"
    " refresh_url, return_url, state, future_requirements)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'new', $10)";
static const char SQL_LINK_GET[] =
    "SELECT account, expires_at, refresh_url, return_url, state, opened_at, form_hash"
    " FROM account_links WHERE merchant_id = $1 AND id = $2";
static const char SQL_LINK_OPEN[] =
    "UPDATE account_links SET state = 'opened', opened_at = $3, form_hash = $4"
    " WHERE merchant_id = $1 AND id = $2 AND state = 'new' AND expires_at > $3";
static const char SQL_LINK_DONE[] = "UPDATE account_links SET state = 'done'"
				    " WHERE merchant_id = $1 AND id = $2 AND state = 'opened'";

static bool url_ok(const char *u)
{
	return u && (strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0) &&
	       strlen(u) > 8 && !strpbrk(u, " \t\r\n\"<>");
}

/* ---- POST /v1/account_links ---- */

struct create_ctx {
	struct req *r;
	char key[LINK_KEY_LEN + 1], hash[65];
	const char *account;
};

static int create_fn(struct db *db, void *p)
{
	struct create_ctx *c = p;
	struct req *r = c->r;
	struct account_due due;
	int rc = accounts_due(r, db, r->merchant_id, c->account, &due);
	if (rc == DB_NOTFOUND)
		return req_fail(r, ERR_RESOURCE_MISSING, "account", "No such account: '%s'",
				c->account);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	const char *type = param_str(r, "type");
	if (strcmp(type, "account_update") == 0 && strcmp(due.type, "custom") != 0)
		return req_fail(r, ERR_PARAM_BAD, "type",
				"You cannot create `account_update` type Account Links for %s "
				"accounts: use `account_onboarding`.",
				due.type);
	/* collection_options[fields] replaces the deprecated collect (h_create refuses both) */
	const char *collect = param_str(r, "collect");
	const char *fields = param_str(r, "collection_options.fields");
	const char *future = param_str(r, "collection_options.future_requirements");
	if (fields && *fields)
		collect = fields;
	struct db_stmt *st = db_prepare(db, SQL_LINK_PUT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	int64_t expires = r->now + ACCOUNT_LINK_TTL_S;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, c->hash, -1);
	db_bind_text(st, 3, c->account, -1);
	db_bind_int64(st, 4, r->now);
	db_bind_int64(st, 5, expires);
	db_bind_text(st, 6, type, -1);
	db_bind_text(st, 7, collect ? collect : "currently_due", -1);
	db_bind_text(st, 8, param_str(r, "refresh_url"), -1);
	db_bind_text(st, 9, param_str(r, "return_url"), -1);
	db_bind_text(st, 10, future && *future ? future : "omit", -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	const char *base = req_url_base(r);
	struct json *j = req_json(r);
	json_obj_open(j);
	json_kv_str(j, "object", "account_link");
	json_kv_int(j, "created", r->now);
	json_kv_int(j, "expires_at", expires);
	json_key(j, "url");
	json_str(j, arena_printf(&r->arena, "%s/connect/onboarding/%s/%s", base, r->merchant_id,
				 c->key));
	json_obj_close(j);
	return 0;
}

static int h_create(struct req *r)
{
	if (r->platform_id[0])
		return req_fail(r, ERR_PARAM_BAD, NULL,
				"Account links are made by the account's platform: send this "
				"request without the Stripe-Account header.");
	if (param_present(r, "collect") && param_present(r, "collection_options"))
		return req_fail(r, ERR_PARAM_BAD, "collection_options",
				"You may only specify one of these parameters: collect, "
				"collection_options.");
	static const char *const urls[] = {"refresh_url", "return_url"};
	for (int i = 0; i < 2; i++)
		if (!url_ok(param_str(r, urls[i])))
			return req_fail(r, ERR_URL_INVALID, urls[i], "Not a valid URL: %s.",
					urls[i]);
	struct create_ctx c = {.r = r, .account = param_str(r, "account")};
	id_random_base62(c.key, LINK_KEY_LEN);
	c.key[LINK_KEY_LEN] = '\0';
	if (digest_sha256_hex(c.key, LINK_KEY_LEN, c.hash) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	return req_write(r, create_fn, &c);
}

/* ---- the page ---- */

enum page_outcome { PAGE_NOT_FOUND, PAGE_REFRESH, PAGE_FORM, PAGE_DONE };

struct page_ctx {
	struct req *r;
	const char *platform, *path;
	char hash[65];
	char nonce[LINK_KEY_LEN + 1], nonce_hash[65]; /* GET: the form's new one-time value */
	enum page_outcome outcome;
	char account[ID_MAX];
	const char *refresh_url, *return_url;
	struct account_due due;
};

struct link {
	char account[ID_MAX];
	int64_t expires_at, opened_at;
	const char *refresh_url, *return_url, *state, *form_hash;
};

static int link_load(struct db *db, struct arena *a, const char *platform, const char *hash,
		     struct link *l)
{
	struct db_stmt *st = db_prepare(db, SQL_LINK_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, platform, -1);
	db_bind_text(st, 2, hash, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		memset(l, 0, sizeof(*l));
		const char *acct = db_col_text(st, 0, NULL);
		str_copy(l->account, sizeof(l->account), acct ? acct : "");
		l->expires_at = db_col_int64(st, 1);
		l->refresh_url = col_text_dup(a, st, 2);
		l->return_url = col_text_dup(a, st, 3);
		l->state = col_text_dup(a, st, 4);
		l->opened_at = db_col_int64_or0(st, 5);
		l->form_hash = col_text_dup(a, st, 6);
		if (!l->refresh_url || !l->return_url || !l->state)
			rc = DB_ERR;
	}
	db_reset(st);
	if (rc == DB_ROW)
		return DB_OK;
	return rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
}

/* GET: the first visit opens the link (a guarded update: two visits at once open it once). */
static int open_fn(struct db *db, void *p)
{
	struct page_ctx *x = p;
	struct req *r = x->r;
	x->outcome = PAGE_NOT_FOUND;
	struct link l;
	int rc = link_load(db, &r->arena, x->platform, x->hash, &l);
	if (rc == DB_NOTFOUND)
		return 0;
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	x->refresh_url = l.refresh_url;
	x->return_url = l.return_url;
	str_copy(x->account, sizeof(x->account), l.account);
	x->outcome = PAGE_REFRESH;
	if (strcmp(l.state, "new") != 0 || l.expires_at <= r->now)
		return 0;
	struct db_stmt *st = db_prepare(db, SQL_LINK_OPEN);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, x->platform, -1);
	db_bind_text(st, 2, x->hash, -1);
	db_bind_int64(st, 3, r->now);
	db_bind_text(st, 4, x->nonce_hash, -1);
	int64_t n = 0;
	if (db_step_changes(st, &n) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (n != 1)
		return 0;
	rc = accounts_due(r, db, x->platform, l.account, &x->due);
	if (rc == DB_NOTFOUND) { /* deleted since: nothing to onboard */
		x->outcome = PAGE_NOT_FOUND;
		return 0;
	}
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	x->outcome = x->due.n ? PAGE_FORM : PAGE_DONE;
	if (x->outcome == PAGE_DONE) {
		/* nothing to ask: the link is used, and the browser goes back at once */
		st = db_prepare(db, SQL_LINK_DONE);
		if (!st)
			return req_fail(r, ERR_API, NULL, NULL);
		db_bind_text(st, 1, x->platform, -1);
		db_bind_text(st, 2, x->hash, -1);
		if (db_step_done(st) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	return 0;
}

/* POST: the form of an opened link, with its one-time value, within the session. */
static int submit_fn(struct db *db, void *p)
{
	struct page_ctx *x = p;
	struct req *r = x->r;
	x->outcome = PAGE_NOT_FOUND;
	struct link l;
	int rc = link_load(db, &r->arena, x->platform, x->hash, &l);
	if (rc == DB_NOTFOUND)
		return 0;
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	x->refresh_url = l.refresh_url;
	x->return_url = l.return_url;
	str_copy(x->account, sizeof(x->account), l.account);
	x->outcome = PAGE_REFRESH;
	const char *nonce = param_str(r, "nonce");
	char given[65];
	if (strcmp(l.state, "opened") != 0 || l.opened_at + ONBOARDING_SESSION_S <= r->now ||
	    !nonce || digest_sha256_hex(nonce, strlen(nonce), given) != 0 ||
	    !challenge_token_eq(l.form_hash, given))
		return 0;
	str_copy(x->nonce, sizeof(x->nonce), nonce);
	/* the form's fields are the update's parameters; the page acts for the platform */
	if (accounts_onboarding_submit(r, db, x->platform, l.account, &x->due) != 0)
		return -1;
	x->outcome = x->due.n ? PAGE_FORM : PAGE_DONE;
	if (x->outcome == PAGE_DONE) {
		struct db_stmt *st = db_prepare(db, SQL_LINK_DONE);
		if (!st)
			return req_fail(r, ERR_API, NULL, NULL);
		db_bind_text(st, 1, x->platform, -1);
		db_bind_text(st, 2, x->hash, -1);
		if (db_step_done(st) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	return 0;
}

/* after a refused form: what is due, read again (the refused write changed nothing) */
static int due_fn(struct db *db, void *p)
{
	struct page_ctx *x = p;
	int rc = accounts_due(x->r, db, x->platform, x->account, &x->due);
	return rc == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

static bool due_has(const struct account_due *d, const char *prefix)
{
	size_t n = strlen(prefix);
	for (int i = 0; i < d->n; i++)
		if (strncmp(d->items[i], prefix, n) == 0)
			return true;
	return false;
}

/* One text input for a due item: its label, the API parameter it answers, required. */
static void field(struct buf *b, const char *label, const char *name, const char *autocomplete)
{
	buf_puts(b, "<label>");
	html_escape(b, label);
	buf_puts(b, "<input type=\"text\" required name=\"");
	html_escape(b, name);
	buf_puts(b, "\" autocomplete=\"");
	html_escape(b, autocomplete);
	buf_puts(b, "\"></label>");
}

static void address_fields(struct buf *b, const struct account_due *d, const char *who)
{
	static const char *const parts[][3] = {
	    {"line1", "Address", "address-line1"},
	    {"city", "City", "address-level2"},
	    {"postal_code", "Postal code", "postal-code"},
	};
	char item[64], name[64];
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		snprintf(item, sizeof(item), "%s.address.%s", who, parts[i][0]);
		if (!due_has(d, item))
			continue;
		snprintf(name, sizeof(name), "%s[address][%s]", who, parts[i][0]);
		field(b, parts[i][1], name, parts[i][2]);
	}
}

static int form_page(struct req *r, struct page_ctx *x, int status, const char *error)
{
	const struct account_due *d = &x->due;
	struct buf b;
	buf_init(&b, 64 * 1024);
	buf_puts(&b, "<h1>Set up your account</h1><p>Your platform uses Tender to pay you. Tell us "
		     "about your business to start receiving payments and payouts (test "
		     "mode).</p>");
	if (error) {
		buf_puts(&b, "<p class=\"error\" id=\"error\">");
		html_escape(&b, error);
		buf_puts(&b, "</p>");
	}
	buf_puts(&b, "<form class=\"pay\" method=\"post\" action=\"");
	html_escape(&b, x->path);
	buf_puts(&b, "\"><input type=\"hidden\" name=\"nonce\" value=\"");
	html_escape(&b, x->nonce);
	buf_puts(&b, "\">");
	if (due_has(d, "business_type")) {
		buf_puts(&b, "<label>Business type<select name=\"business_type\" required>"
			     "<option value=\"individual\">Individual or sole proprietor</option>"
			     "<option value=\"company\">Company</option>"
			     "<option value=\"non_profit\">Non-profit</option></select></label>");
	}
	if (due_has(d, "individual.")) {
		buf_puts(&b, "<h2>About you</h2>");
		if (due_has(d, "individual.first_name"))
			field(&b, "First name", "individual[first_name]", "given-name");
		if (due_has(d, "individual.last_name"))
			field(&b, "Last name", "individual[last_name]", "family-name");
		if (due_has(d, "individual.dob.")) {
			buf_puts(&b, "<div class=\"row\">");
			field(&b, "Day of birth", "individual[dob][day]", "bday-day");
			field(&b, "Month", "individual[dob][month]", "bday-month");
			field(&b, "Year", "individual[dob][year]", "bday-year");
			buf_puts(&b, "</div>");
		}
		address_fields(&b, d, "individual");
	}
	if (due_has(d, "company.")) {
		buf_puts(&b, "<h2>About your company</h2>");
		if (due_has(d, "company.name"))
			field(&b, "Legal name", "company[name]", "organization");
		address_fields(&b, d, "company");
	}
	if (due_has(d, "external_account")) {
		buf_puts(&b, "<h2>Where to send payouts</h2><input type=\"hidden\" "
			     "name=\"external_account[country]\" value=\"");
		html_escape(&b, d->country);
		buf_puts(&b, "\"><input type=\"hidden\" name=\"external_account[currency]\" "
			     "value=\"");
		html_escape(&b, d->default_currency);
		buf_puts(&b, "\">");
		field(&b, "Account holder name", "external_account[account_holder_name]", "name");
		if (strcmp(d->country, "US") == 0)
			field(&b, "Routing number", "external_account[routing_number]", "off");
		field(&b, "Account number", "external_account[account_number]", "off");
	}
	if (due_has(d, "tos_acceptance.")) {
		buf_puts(&b, "<label><input type=\"checkbox\" required name=\"tos_acceptance\" "
			     "value=\"accept\"> I agree to the services agreement</label>");
	}
	buf_puts(&b, "<p><button type=\"submit\" class=\"complete\">Continue</button></p></form>");
	int rc = challenge_page(r, status, "Set up your account", b.failed ? "" : buf_cstr(&b));
	buf_release(&b);
	return rc;
}

static int redirect_to(struct req *r, const char *url)
{
	r->location = url;
	return challenge_redirect(r);
}

static int not_found(struct req *r)
{
	return challenge_page(r, 404, "Link not found",
			      "<h1>This link is not valid</h1><p>Ask the platform that sent you "
			      "here for a new one.</p>");
}

static int page_init(struct req *r, struct page_ctx *x)
{
	memset(x, 0, sizeof(*x));
	x->r = r;
	x->platform = r->args[0];
	const char *key = r->args[1];
	x->path = arena_printf(&r->arena, "/connect/onboarding/%s/%s", x->platform, key);
	/* the page runs in the platform's scope (its shard, its rate limit) */
	str_copy(r->merchant_id, sizeof(r->merchant_id), x->platform);
	if (!x->path || strlen(key) != LINK_KEY_LEN ||
	    digest_sha256_hex(key, LINK_KEY_LEN, x->hash) != 0)
		return 1;
	return 0;
}

static int h_page(struct req *r)
{
	struct page_ctx x;
	if (page_init(r, &x) != 0)
		return not_found(r);
	id_random_base62(x.nonce, LINK_KEY_LEN);
	x.nonce[LINK_KEY_LEN] = '\0';
	if (digest_sha256_hex(x.nonce, LINK_KEY_LEN, x.nonce_hash) != 0 ||
	    req_write(r, open_fn, &x) != 0)
		return -1;
	switch (x.outcome) {
	case PAGE_NOT_FOUND:
		return not_found(r);
	case PAGE_REFRESH:
		return redirect_to(r, x.refresh_url);
	case PAGE_DONE:
		return redirect_to(r, x.return_url);
	case PAGE_FORM:
		break;
	}
	return form_page(r, &x, 200, NULL);
}

static int h_submit(struct req *r)
{
	struct page_ctx x;
	if (page_init(r, &x) != 0)
		return not_found(r);
	if (req_write(r, submit_fn, &x) != 0) {
		/* a refused answer (a bad number, a date that is not one): the form again, with
		 * Stripe's message, and nothing of it kept */
		const char *msg = req_error_message(r);
		r->err.set = false;
		if (req_read(r, due_fn, &x) != 0)
			return -1;
		return form_page(r, &x, 400, msg);
	}
	switch (x.outcome) {
	case PAGE_NOT_FOUND:
		return not_found(r);
	case PAGE_REFRESH:
		return redirect_to(r, x.refresh_url);
	case PAGE_DONE:
		return redirect_to(r, x.return_url);
	case PAGE_FORM:
		break;
	}
	return form_page(r, &x, 200, "Some of what your account needs is still missing.");
}

static const char *const collect_fields[] = {"currently_due", "eventually_due", NULL};
static const struct param_spec collection_children[] = {
    {"fields", PT_ENUM, 0, 0, collect_fields, NULL},
    {"future_requirements", PT_ENUM, 0, 0, (const char *const[]){"include", "omit", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec create_params[] = {
    {"account", PT_STRING, PF_REQUIRED, 255, NULL, NULL},
    {"refresh_url", PT_STRING, PF_REQUIRED, 2048, NULL, NULL},
    {"return_url", PT_STRING, PF_REQUIRED, 2048, NULL, NULL},
    {"type", PT_ENUM, PF_REQUIRED, 0,
     (const char *const[]){"account_onboarding", "account_update", NULL}, NULL},
    {"collect", PT_ENUM, 0, 0, collect_fields, NULL},
    {"collection_options", PT_OBJECT, 0, 0, NULL, collection_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec page_address_params[] = {
    {"line1", PT_STRING, 0, 200, NULL, NULL},
    {"city", PT_STRING, 0, 200, NULL, NULL},
    {"postal_code", PT_STRING, 0, 20, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec page_company_params[] = {
    {"name", PT_STRING, 0, 200, NULL, NULL},
    {"address", PT_OBJECT, 0, 0, NULL, page_address_params},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec submit_params[] = {
    {"nonce", PT_STRING, 0, 64, NULL, NULL},
    {"business_type", PT_ENUM, 0, 0,
     (const char *const[]){"individual", "company", "non_profit", NULL}, NULL},
    {"individual", PT_OBJECT, 0, 0, NULL, person_params},
    {"company", PT_OBJECT, 0, 0, NULL, page_company_params},
    {"external_account", PT_OBJECT, 0, 0, NULL, external_account_hash_params},
    {"tos_acceptance", PT_ENUM, 0, 0, (const char *const[]){"accept", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

const struct route account_links_routes[] = {
    {"POST", "/v1/account_links", h_create, create_params, 0},
    {"GET", "/connect/onboarding/{platform}/{key}", h_page, no_params, ROUTE_NO_AUTH | ROUTE_RAW},
    {"POST", "/connect/onboarding/{platform}/{key}", h_submit, submit_params,
     ROUTE_NO_AUTH | ROUTE_RAW | ROUTE_PAGE_LIMIT},
    {NULL, NULL, NULL, NULL, 0},
};

/*
 * POST /v1/accounts/{id}/login_links and the Express dashboard page it opens
 * (/connect/express/{platform}/{key}).
 *
 * A login link lets an Express account's holder see their account without a password, so it
 * is made as an account link is (account_links.c): a single-use URL whose secret (24 random
 * base62 characters) is kept only as its SHA-256 (login_links.id), made by the platform
 * (login_links.merchant_id, which also puts the page in the platform's scope and shard), and
 * short-lived: LOGIN_LINK_TTL_S after it is made it no longer opens. As on Stripe only an Express
 * account that has finished onboarding gets one. Its first visit uses it (the page's GET is a
 * write: a guarded update from unused to used, so two visits at once show the dashboard once);
 * a second visit, or one after the link expired, gets a page that says so and shows nothing of
 * the account.
 *
 * The dashboard is read after the link is used, in a read transaction of its own: the account's
 * available and pending balance per currency (its balance transactions, as GET /v1/balance sums
 * them), its recent payouts and payments (charges and the payments its platform sent it), and
 * the default external account of each currency (bank name or card brand and last four digits,
 * nothing more is kept). Amounts are formatted from minor units with the currency's exponent
 * (html_amount). The page is plain HTML without scripts under the challenge pages' content
 * security policy, every value escaped; it holds no link, so the URL's secret never leaves in a
 * Referer (and the server sends no-referrer and no-store anyway).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/accounts.h"
#include "api/challenge.h"
#include "api/common.h"
#include "api/external_accounts.h"
#include "api/resources.h"
#include "core/digest.h"
#include "core/str.h"
#include "ledger/ledger_payout.h"
#include "store/store.h"

#define LOGIN_LINK_TTL_S 300 /* a few minutes, as an account link */
#define LOGIN_KEY_LEN 24
#define DASH_CURRENCIES_MAX 16 /* currencies the page lists */
#define DASH_RECENT 10	       /* payouts and payments it lists */

static const char SQL_LINK_PUT[] =
    "INSERT INTO login_links (merchant_id, id, account, created, used)"
    " VALUES ($1, $2, $3, $4, 0)";
static const char SQL_LINK_GET[] =
    "SELECT account, created, used FROM login_links WHERE merchant_id = $1 AND id = $2";
/* the one visit: only an unused link made after $3 (now − the link's lifetime) */
static const char SQL_LINK_USE[] =
    "UPDATE login_links SET used = 1 WHERE merchant_id = $1 AND id = $2 AND used = 0"
    " AND created > $3";

/* ---- POST /v1/accounts/{id}/login_links ---- */

struct create_ctx {
	struct req *r;
	const char *account;
	char key[LOGIN_KEY_LEN + 1], hash[65];
};

static int create_fn(struct db *db, void *p)
{
	struct create_ctx *c = p;
	struct req *r = c->r;
	struct account_due due;
	int rc = accounts_due(r, db, r->merchant_id, c->account, &due);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "account", c->account, "account");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (strcmp(due.type, "express") != 0)
		return req_fail(r, ERR_PARAM_BAD, "account",
				"You may only create login links for Express accounts connected to "
				"your platform: %s is a %s account.",
				c->account, due.type);
	if (due.n > 0)
		return req_fail(r, ERR_PARAM_BAD, "account",
				"Cannot create a login link for an account that has not completed "
				"onboarding.");
	struct db_stmt *st = db_prepare(db, SQL_LINK_PUT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, c->hash, -1);
	db_bind_text(st, 3, c->account, -1);
	db_bind_int64(st, 4, r->now);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	const char *base = req_url_base(r);
	const char *url =
	    arena_printf(&r->arena, "%s/connect/express/%s/%s", base, r->merchant_id, c->key);
	if (!url)
		return req_fail(r, ERR_API, NULL, NULL);
	struct json *j = req_json(r);
	json_obj_open(j);
	json_kv_str(j, "object", "login_link");
	json_kv_int(j, "created", r->now);
	json_kv_str(j, "url", url);
	json_obj_close(j);
	return 0;
}

static int h_create(struct req *r)
{
	if (r->platform_id[0])
		return req_fail(r, ERR_PARAM_BAD, NULL,
				"Login links are made by the account's platform: send this request "
				"without the Stripe-Account header.");
	struct create_ctx c = {.r = r, .account = r->args[0]};
	id_random_base62(c.key, LOGIN_KEY_LEN);
	c.key[LOGIN_KEY_LEN] = '\0';
	if (digest_sha256_hex(c.key, LOGIN_KEY_LEN, c.hash) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	return req_write(r, create_fn, &c);
}

/* ---- the page ---- */

enum visit { VISIT_NOT_FOUND, VISIT_EXPIRED, VISIT_OK };

struct page_ctx {
	struct req *r;
	const char *platform;
	char hash[65];
	enum visit outcome;
	char account[ID_MAX];
	struct buf body; /* the dashboard's HTML */
};

/* The visit: uses the link when it is unused and young enough. */
static int use_fn(struct db *db, void *p)
{
	struct page_ctx *x = p;
	struct req *r = x->r;
	x->outcome = VISIT_NOT_FOUND;
	struct db_stmt *st = db_prepare(db, SQL_LINK_GET);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, x->platform, -1);
	db_bind_text(st, 2, x->hash, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		const char *acct = db_col_text(st, 0, NULL);
		str_copy(x->account, sizeof(x->account), acct ? acct : "");
	}
	db_reset(st);
	if (rc == DB_DONE)
		return 0;
	if (rc != DB_ROW)
		return req_fail(r, ERR_API, NULL, NULL);
	x->outcome = VISIT_EXPIRED;
	st = db_prepare(db, SQL_LINK_USE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, x->platform, -1);
	db_bind_text(st, 2, x->hash, -1);
	db_bind_int64(st, 3, r->now - LOGIN_LINK_TTL_S);
	int64_t n = 0;
	if (db_step_changes(st, &n) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (n != 1)
		return 0;
	/* an account deleted since the link was made has nothing to show */
	struct account_due due;
	rc = accounts_due(r, db, x->platform, x->account, &due);
	if (rc != DB_OK && rc != DB_NOTFOUND)
		return req_fail(r, ERR_API, NULL, NULL);
	if (rc == DB_OK)
		x->outcome = VISIT_OK;
	return 0;
}

/* "2024-05-01 13:45 UTC" */
static void html_time(struct buf *b, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm)) {
		buf_puts(b, "?");
		return;
	}
	buf_printf(b, "%04d-%02d-%02d %02d:%02d UTC", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		   tm.tm_hour, tm.tm_min);
}

/* "STRIPE TEST BANK ••••6789": what the account is paid out to */
static void html_destination(struct buf *b, const struct ea_brief *e)
{
	if (e->label[0]) {
		html_escape(b, e->label);
		buf_putc(b, ' ');
	} else {
		buf_puts(b, strcmp(e->object, "card") == 0 ? "Card " : "Bank account ");
	}
	buf_puts(b, "&bull;&bull;&bull;&bull;");
	html_escape(b, e->last4);
}

static int section_balance(struct db *db, struct page_ctx *x)
{
	struct buf *b = &x->body;
	struct ledger_balance_amount bal[DASH_CURRENCIES_MAX];
	int n = 0;
	int rc = ledger_balance_amounts(db, x->account, bal, DASH_CURRENCIES_MAX, &n);
	if (rc != DB_OK)
		return rc;
	buf_puts(b, "<h2>Balance</h2>");
	if (n == 0) {
		buf_puts(b, "<p id=\"no-balance\">No funds yet.</p>");
		return DB_OK;
	}
	buf_puts(b, "<table id=\"balance\"><tr><th>Currency</th><th class=\"amt\">Available</th>"
		    "<th class=\"amt\">Pending</th></tr>");
	for (int i = 0; i < n; i++) {
		buf_puts(b, "<tr><td>");
		html_escape(b, bal[i].currency);
		buf_puts(b, "</td><td class=\"amt\" id=\"available-");
		html_escape(b, bal[i].currency);
		buf_puts(b, "\">");
		html_amount(b, bal[i].available, bal[i].currency);
		buf_puts(b, "</td><td class=\"amt\" id=\"pending-");
		html_escape(b, bal[i].currency);
		buf_puts(b, "\">");
		html_amount(b, bal[i].pending, bal[i].currency);
		buf_puts(b, "</td></tr>");
	}
	buf_puts(b, "</table>");
	return DB_OK;
}

static int section_external(struct db *db, struct page_ctx *x)
{
	struct buf *b = &x->body;
	struct ea_brief defs[DASH_CURRENCIES_MAX];
	int n = 0;
	int rc = external_account_defaults(db, x->account, defs, DASH_CURRENCIES_MAX, &n);
	if (rc != DB_OK)
		return rc;
	buf_puts(b, "<h2>Payouts go to</h2>");
	if (n == 0) {
		buf_puts(b, "<p id=\"no-external\">No bank account or debit card yet.</p>");
		return DB_OK;
	}
	buf_puts(b, "<ul id=\"external\">");
	for (int i = 0; i < n; i++) {
		buf_puts(b, "<li id=\"external-");
		html_escape(b, defs[i].currency);
		buf_puts(b, "\">");
		html_destination(b, &defs[i]);
		buf_puts(b, " (");
		html_escape(b, defs[i].currency);
		buf_puts(b,
			 strcmp(defs[i].status, "errored") == 0 ? ", a payout to it failed)" : ")");
		buf_puts(b, "</li>");
	}
	buf_puts(b, "</ul>");
	return DB_OK;
}

static const char SQL_PAYOUTS[] =
    "SELECT id, created, amount, currency, status, arrival_date, destination FROM payouts"
    " WHERE merchant_id = $1 ORDER BY id DESC LIMIT $2";

struct payout_row {
	char id[ID_MAX], currency[8], status[16], destination[ID_MAX];
	int64_t created, amount, arrival_date;
};

static int section_payouts(struct db *db, struct page_ctx *x)
{
	struct buf *b = &x->body;
	struct payout_row rows[DASH_RECENT];
	int n = 0, rc = DB_DONE;
	struct db_stmt *st = db_prepare(db, SQL_PAYOUTS);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, x->account, -1);
	db_bind_int64(st, 2, DASH_RECENT);
	while (n < DASH_RECENT && (rc = db_step(st)) == DB_ROW) {
		struct payout_row *p = &rows[n++];
		memset(p, 0, sizeof(*p));
		const char *s = db_col_text(st, 0, NULL);
		str_copy(p->id, sizeof(p->id), s ? s : "");
		p->created = db_col_int64(st, 1);
		p->amount = db_col_int64(st, 2);
		s = db_col_text(st, 3, NULL);
		str_copy(p->currency, sizeof(p->currency), s ? s : "");
		s = db_col_text(st, 4, NULL);
		str_copy(p->status, sizeof(p->status), s ? s : "");
		p->arrival_date = db_col_int64(st, 5);
		s = db_col_text(st, 6, NULL);
		str_copy(p->destination, sizeof(p->destination), s ? s : "");
	}
	if (n == DASH_RECENT)
		rc = DB_DONE;
	db_reset(st);
	if (rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	buf_puts(b, "<h2>Recent payouts</h2>");
	if (n == 0) {
		buf_puts(b, "<p id=\"no-payouts\">No payouts yet.</p>");
		return DB_OK;
	}
	buf_puts(b, "<table id=\"payouts\"><tr><th>Date</th><th class=\"amt\">Amount</th>"
		    "<th>Status</th><th>To</th></tr>");
	for (int i = 0; i < n; i++) {
		const struct payout_row *p = &rows[i];
		buf_puts(b, "<tr id=\"");
		html_escape(b, p->id);
		buf_puts(b, "\"><td>");
		html_time(b, p->created);
		buf_puts(b, "</td><td class=\"amt\">");
		html_amount(b, p->amount, p->currency);
		buf_puts(b, "</td><td>");
		html_escape(b, p->status);
		buf_puts(b, "</td><td>");
		struct ea_brief e;
		rc = p->destination[0] ? external_account_brief(db, x->account, p->destination, &e)
				       : DB_NOTFOUND;
		if (rc == DB_OK)
			html_destination(b, &e);
		else if (rc != DB_NOTFOUND)
			return rc;
		buf_puts(b, "</td></tr>");
	}
	buf_puts(b, "</table>");
	return DB_OK;
}

/* the account's charges (direct) and the payments its platform sent it (destination charges,
 * transfers): its incoming balance transactions */
static const char SQL_PAYMENTS[] =
    "SELECT created, type, source, amount, net, currency FROM balance_transactions"
    " WHERE merchant_id = $1 AND type IN ('charge', 'payment')"
    " ORDER BY created DESC, id DESC LIMIT $2";

struct payment_row {
	char type[16], source[ID_MAX], currency[8];
	int64_t created, amount, net;
};

static int section_payments(struct db *db, struct page_ctx *x)
{
	struct buf *b = &x->body;
	struct payment_row rows[DASH_RECENT];
	int n = 0, rc = DB_DONE;
	struct db_stmt *st = db_prepare(db, SQL_PAYMENTS);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, x->account, -1);
	db_bind_int64(st, 2, DASH_RECENT);
	while (n < DASH_RECENT && (rc = db_step(st)) == DB_ROW) {
		struct payment_row *p = &rows[n++];
		memset(p, 0, sizeof(*p));
		p->created = db_col_int64(st, 0);
		const char *s = db_col_text(st, 1, NULL);
		str_copy(p->type, sizeof(p->type), s ? s : "");
		s = db_col_text(st, 2, NULL);
		str_copy(p->source, sizeof(p->source), s ? s : "");
		p->amount = db_col_int64(st, 3);
		p->net = db_col_int64(st, 4);
		s = db_col_text(st, 5, NULL);
		str_copy(p->currency, sizeof(p->currency), s ? s : "");
	}
	if (n == DASH_RECENT)
		rc = DB_DONE;
	db_reset(st);
	if (rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	buf_puts(b, "<h2>Recent payments</h2>");
	if (n == 0) {
		buf_puts(b, "<p id=\"no-payments\">No payments yet.</p>");
		return DB_OK;
	}
	buf_puts(b, "<table id=\"payments\"><tr><th>Date</th><th>Payment</th>"
		    "<th class=\"amt\">Amount</th><th class=\"amt\">Net</th></tr>");
	for (int i = 0; i < n; i++) {
		const struct payment_row *p = &rows[i];
		buf_puts(b, "<tr id=\"");
		html_escape(b, p->source);
		buf_puts(b, "\"><td>");
		html_time(b, p->created);
		buf_puts(b, "</td><td>");
		buf_puts(b,
			 strcmp(p->type, "payment") == 0 ? "From your platform" : "Card payment");
		buf_puts(b, "</td><td class=\"amt\">");
		html_amount(b, p->amount, p->currency);
		buf_puts(b, "</td><td class=\"amt\">");
		html_amount(b, p->net, p->currency);
		buf_puts(b, "</td></tr>");
	}
	buf_puts(b, "</table>");
	return DB_OK;
}

static int dashboard_fn(struct db *db, void *p)
{
	struct page_ctx *x = p;
	buf_reset(&x->body);
	char name[256];
	if (challenge_merchant_name(db, x->account, name, sizeof(name)) != 0)
		return req_fail(x->r, ERR_API, NULL, NULL);
	struct buf *b = &x->body;
	buf_puts(b, "<h1>");
	html_escape(b, name[0] ? name : x->account);
	buf_puts(b, "</h1><p>Your account <code id=\"account\">");
	html_escape(b, x->account);
	buf_puts(b, "</code> (test mode).</p>");
	int rc = section_balance(db, x);
	if (rc == DB_OK)
		rc = section_external(db, x);
	if (rc == DB_OK)
		rc = section_payouts(db, x);
	if (rc == DB_OK)
		rc = section_payments(db, x);
	if (rc != DB_OK || b->failed)
		return req_fail(x->r, ERR_API, NULL, NULL);
	return 0;
}

static int expired_page(struct req *r)
{
	return challenge_page(r, 410, "Link expired",
			      "<h1>This link has expired</h1><p>A login link opens once, within a "
			      "few minutes. Ask your platform for a new one.</p>");
}

static int not_found_page(struct req *r)
{
	return challenge_page(r, 404, "Link not found",
			      "<h1>This link is not valid</h1><p>Ask your platform for a new "
			      "one.</p>");
}

static int h_page(struct req *r)
{
	struct page_ctx x = {.r = r, .platform = r->args[0]};
	const char *key = r->args[1];
	/* the page runs in the platform's scope (its shard, its rate limit) */
	str_copy(r->merchant_id, sizeof(r->merchant_id), x.platform);
	if (strlen(key) != LOGIN_KEY_LEN || digest_sha256_hex(key, LOGIN_KEY_LEN, x.hash) != 0)
		return not_found_page(r);
	if (req_write(r, use_fn, &x) != 0)
		return -1;
	if (x.outcome == VISIT_NOT_FOUND)
		return not_found_page(r);
	if (x.outcome == VISIT_EXPIRED)
		return expired_page(r);
	buf_init(&x.body, 256 * 1024);
	int rc = req_read(r, dashboard_fn, &x);
	if (rc == 0)
		rc = challenge_page(r, 200, "Your account", buf_cstr(&x.body));
	buf_release(&x.body);
	return rc == 0 ? 0 : -1;
}

static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

const struct route login_links_routes[] = {
    {"POST", "/v1/accounts/{id}/login_links", h_create, no_params, 0},
    {"GET", "/connect/express/{platform}/{key}", h_page, no_params, ROUTE_NO_AUTH | ROUTE_RAW},
    {NULL, NULL, NULL, NULL, 0},
};

/*
 * iDEAL and Bancontact at the API: a PaymentIntent confirmed with an ideal or bancontact
 * PaymentMethod waits in requires_action with next_action redirect_to_url, and Tender's hosted
 * test page (/redirect/{merchant}/{intent}/{token}) stands in for the customer's bank, as
 * Stripe's test redirect page does: "Authorize test payment" books the charge and the intent
 * succeeds, "Fail test payment" sends the intent back to requires_payment_method; either then
 * redirects the browser to the intent's return_url with payment_intent,
 * payment_intent_client_secret and redirect_status. Affirm, Afterpay / Clearpay and Klarna use
 * the same page for the lender; with capture_method=manual their authorization is held
 * (requires_capture) and captured or canceled through payment_intents.c, as a card's.
 * A SetupIntent confirmed with ideal / bancontact (setup_intents.c) waits on the same page
 * (/redirect/{merchant}/{seti_…}/{token}): authorizing generates the sepa_debit PaymentMethod
 * and its mandate on the customer and succeeds the intent, failing sends it back to
 * requires_payment_method, in the page's one write; the browser returns with setup_intent,
 * setup_intent_client_secret and redirect_status.
 * payments/redirect.h tells the design.
 *
 * Like the 3-D Secure page (payment_intents.c), the page has no API key: the token in its URL
 * is the secret (32 random base62 characters, compared in constant time), and the merchant in
 * the URL scopes every read and write, so another merchant's intent is never reachable.
 */
#include <stdio.h>
#include <string.h>

#include "api/challenge.h"
#include "api/common.h"
#include "api/payments_common.h"
#include "api/redirect_page.h"
#include "api/resources.h"
#include "app.h"
#include "core/buf.h"
#include "core/str.h"
#include "money/fx.h"
#include "payments/pm_types.h"
#include "payments/redirect.h"
#include "payments/sepa.h"
#include "vault/ideal.h"
#include "vault/payment_method.h"

/* ---- is it a redirect PaymentMethod ---- */

/* ---- confirm ---- */

/* The hosted page of an intent (pi_… or seti_…): /redirect/{merchant}/{intent}/{token} on
 * Tender itself. */
const char *redirect_page_url(struct req *r, const char *pi_id, const char *token)
{
	const char *base = req_url_base(r);
	return arena_printf(&r->arena, "%s/redirect/%s/%s/%s", base, r->merchant_id, pi_id, token);
}

struct confirm {
	struct req *r;
	struct payment_intent pi0, pi;
	bool insert_first;
	const char *pm_id;
	const char *created_json;
	size_t created_len;
	char token[40];
};

/* The customer's details pm's lender requires (redirect_bnpl_missing): Stripe's 400 naming
 * what is missing, on payment_method_data when this request made the PaymentMethod, on
 * payment_method when it was made before, on shipping for the intent's. 0, or -1 with r->err. */
static int bnpl_check_details(struct req *r, struct db *db, const struct payment_intent *pi,
			      const struct pm_card *pm)
{
	const char *billing = NULL;
	if (pm->has_billing &&
	    pm_billing_details(db, r->merchant_id, pm->id, &r->arena, &billing) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	const char *missing = redirect_bnpl_missing(pm->type, billing, pi->shipping);
	if (!missing)
		return 0;
	if (strncmp(missing, "shipping", 8) == 0)
		return req_fail(r, ERR_PARAM_MISSING, missing, "%s", missing);
	if (param_present(r, "payment_method_data")) {
		const char *param = arena_printf(&r->arena, "payment_method_data[%.*s]%s",
						 (int)strcspn(missing, "["), missing,
						 missing + strcspn(missing, "["));
		return req_fail(r, ERR_PARAM_MISSING, param, "%s", param);
	}
	return req_fail(r, ERR_PARAM_BAD, "payment_method",
			"The PaymentMethod %s has no %s, which %s payments require: update its "
			"billing_details first.",
			pm->id, missing, pm->type);
}

static int confirm_fn(struct db *db, void *p)
{
	struct confirm *c = p;
	struct req *r = c->r;
	struct payment_intent *pi = &c->pi;
	*pi = c->pi0; /* a retried transaction starts over */
	int rc;
	if (payments_confirm_begin(r, db, pi, c->insert_first, c->created_json, c->created_len) !=
	    0)
		return -1;
	struct pm_card pm;
	rc = pm_load(db, r->merchant_id, c->pm_id, &pm);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "payment_method", c->pm_id, "payment_method");
	if (rc != DB_OK || !PM_IS_REDIRECT(&pm))
		return req_fail(r, ERR_API, NULL, NULL);
	if (pm.detached)
		return req_fail(r, ERR_PARAM_BAD, "payment_method", "%s", PM_DETACHED_MESSAGE);
	if (pi->customer && pm.customer[0] && strcmp(pi->customer, pm.customer) != 0)
		return req_fail(r, ERR_PARAM_BAD, "payment_method",
				"The provided PaymentMethod belongs to another customer.");
	if (redirect_type_bnpl(pm.type) && bnpl_check_details(r, db, pi, &pm) != 0)
		return -1;
	/* the page's token: the only secret of its URL */
	id_random_base62(c->token, 32);
	if (redirect_auth_put(db, r->merchant_id, pi->id, c->token, pm.id, NULL, r->now) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	pi->next_action =
	    challenge_next_action(r, pi->return_url, redirect_page_url(r, pi->id, c->token));
	pi->status = "requires_action";
	pi->payment_method = arena_strdup(&r->arena, pm.id);
	pi->last_payment_error = NULL;
	pi->three_d_secure_token = NULL;
	if (!pi->next_action || !pi->payment_method)
		return req_fail(r, ERR_API, NULL, NULL);
	rc = pi_write_confirmed(db, r->merchant_id, pi, c->insert_first);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	size_t len;
	const char *js = pi_json(db, &r->arena, r->merchant_id, r->livemode, pi, &len);
	if (!js)
		return req_fail(r, ERR_API, NULL, NULL);
	return payments_event_answer(r, db, "payment_intent.requires_action", pi->id, js, len,
				     NULL);
}

/* ret_url: where the test page of the confirmed intent is (NULL: not wanted). */
static int pi_confirm(struct req *r, const struct payment_intent *pi, bool insert_first,
		      const char *pm_id, const char *type, const char **ret_url)
{
	if (!pi_allows_type(pi, type))
		return req_fail(r, ERR_PARAM_BAD, "payment_method",
				"The PaymentMethod provided (%s) is not allowed for this "
				"PaymentIntent. Please attach a PaymentMethod of one of the "
				"types this PaymentIntent allows. Alternatively update the allowed "
				"payment_method_types for this PaymentIntent to include \"%s\".",
				type, type);
	unsigned bit = pm_type_bit(type);
	bool bnpl = redirect_type_bnpl(type);
	if (pm_types_check_currency(r, bit, pi->currency, "currency") != 0)
		return -1;
	/* a lender authorizes and captures apart (Affirm, Afterpay, Klarna), a bank does not */
	if (strcmp(pi_capture_method(pi, type), "manual") == 0 && !pm_type_manual_capture(bit))
		return req_fail(r, ERR_PARAM_BAD, "capture_method",
				"The payment method type %s does not support "
				"capture_method=manual.",
				type);
	int64_t min, max;
	if (bnpl && redirect_bnpl_limits(type, pi->currency, &min, &max) &&
	    (pi->amount < min || pi->amount > max))
		return req_fail(r, pi->amount < min ? ERR_AMOUNT_TOO_SMALL : ERR_AMOUNT_TOO_LARGE,
				"amount",
				"Amount must be between %lld.%02lld and %lld.%02lld %s for %s "
				"payments.",
				(long long)(min / 100), (long long)(min % 100),
				(long long)(max / 100), (long long)(max % 100), pi->currency, type);
	/* the type's own payment_method_options (its capture_method, its setup_future_usage)
	 * replace the intent's */
	const char *sfu = pi_setup_future_usage(pi, type);
	if (bnpl && sfu)
		return req_fail(r, ERR_PARAM_BAD, "setup_future_usage",
				"The payment method type %s does not support "
				"setup_future_usage: it pays once.",
				type);
	/* a Checkout Session's intent is the one its page makes (iDEAL, Bancontact or a lender;
	 * the authorization then completes the session, authorize_fn) */
	if (pi->connect.destination || pi->connect.on_behalf_of ||
	    pi->connect.application_fee_amount || pi->invoice)
		return req_fail(r, ERR_PARAM_BAD, "payment_method",
				"Tender takes %s for direct PaymentIntents only (no Connect "
				"destination or invoice payments).",
				type);
	/* saved for later payments, an authorized payment generates a sepa_debit PaymentMethod
	 * with a multi-use mandate, which pays off session (Stripe: off_session only) */
	if (sfu && strcmp(sfu, "off_session") != 0)
		return req_fail(r, ERR_PARAM_BAD, "setup_future_usage",
				"The payment method type %s does not support "
				"setup_future_usage=%s: use off_session.",
				type, sfu);
	struct confirm c;
	memset(&c, 0, sizeof(c));
	c.r = r;
	c.pi0 = *pi;
	c.insert_first = insert_first;
	c.pm_id = pm_id;
	const char *ru = param_str(r, "return_url");
	if (ru && *ru)
		c.pi0.return_url = ru;
	if (!c.pi0.return_url || !*c.pi0.return_url)
		return req_fail(r, ERR_PARAM_BAD, "return_url",
				"You must provide a `return_url` when confirming a PaymentIntent "
				"with the payment method type %s.",
				type);
	if (strncmp(c.pi0.return_url, "https://", 8) != 0 &&
	    strncmp(c.pi0.return_url, "http://", 7) != 0)
		return req_fail(r, ERR_URL_INVALID, "return_url",
				"Invalid URL: the return_url must be an absolute http(s) URL.");
	if (payments_check_minimum(r, pi->amount, pi->currency, "currency", "amount") != 0)
		return -1;
	if (insert_first &&
	    payments_confirm_created(r, &c.pi0, &c.created_json, &c.created_len) != 0)
		return -1;
	if (req_write(r, confirm_fn, &c) != 0)
		return -1;
	if (ret_url)
		*ret_url = redirect_page_url(r, pi->id, c.token);
	return 0;
}

int redirect_pi_confirm(struct req *r, const struct payment_intent *pi, bool insert_first,
			const char *pm_id, const char *type)
{
	return pi_confirm(r, pi, insert_first, pm_id, type, NULL);
}

int redirect_pi_confirm_checkout(struct req *r, const struct payment_intent *pi, const char *pm_id,
				 const char *type, const char **ret_url)
{
	*ret_url = NULL;
	return pi_confirm(r, pi, true, pm_id, type, ret_url);
}

/* ---- the hosted test page (no API key: the token in the URL is the secret) ---- */

struct page_ctx {
	struct req *r;
	const char *acct, *pi_id, *token;
	struct payment_intent pi;
	/* a SetupIntent's page (seti_…): pi holds what the page needs of it (setup_intents.c:
	 * id, status, payment_method, customer, return_url, client_secret), no amount */
	bool setup;
	const char *status; /* the authorization's: pending | succeeded | failed */
	/* the mandate_data a SetupIntent was confirmed with (type NULL for a PaymentIntent) */
	struct redirect_acceptance acceptance;
	const char *pm_id;
	char merchant_name[256];
	char type[24];	       /* the PaymentMethod's: ideal | bancontact | affirm | … */
	const char *bank_name; /* an iDEAL PaymentMethod's bank, or NULL */
	bool found;	       /* the token opens this intent's authorization */
	bool open;	       /* pending, and the intent still waits for it */
	struct fx_table *fx;   /* authorize: the rates the sale converts with */
	const char *outcome;   /* after a POST: succeeded | failed, or NULL (not open) */
	const char *claim;     /* a POST: the status it moves a pending authorization to */
	/* a subscription-mode Checkout Session's SetupIntent authorized: the session, which
	 * subscribes with the generated sepa_debit PaymentMethod after the write */
	const char *subscribe;
	char gen_pm[ID_MAX];
};

/* Reads the intent and its authorization; found only when the token is the one it holds. */
static int page_load(struct db *db, struct page_ctx *x)
{
	struct req *r = x->r;
	x->found = x->open = false;
	int rc = x->setup ? setup_intent_redirect_view(r, db, x->acct, x->pi_id, &x->pi)
			  : pi_load(db, &r->arena, x->acct, x->pi_id, &x->pi);
	if (rc == DB_NOTFOUND)
		return 0;
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	const char *token = NULL;
	rc = redirect_auth_get(db, &r->arena, x->acct, x->pi_id, &token, &x->pm_id, &x->status,
			       &x->acceptance);
	if (rc == DB_NOTFOUND)
		return 0;
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!challenge_token_eq(token, x->token))
		return 0;
	x->found = true;
	x->open = strcmp(x->status, "pending") == 0 &&
		  strcmp(x->pi.status, "requires_action") == 0 && x->pi.payment_method &&
		  strcmp(x->pi.payment_method, x->pm_id) == 0;
	return 0;
}

static int page_read_fn(struct db *db, void *p)
{
	struct page_ctx *x = p;
	if (page_load(db, x) != 0)
		return -1;
	if (!x->found || !x->open)
		return 0;
	struct pm_card pm;
	int rc = pm_load(db, x->acct, x->pm_id, &pm);
	if (rc != DB_OK)
		return req_fail(x->r, ERR_API, NULL, NULL);
	str_copy(x->type, sizeof(x->type), pm.type);
	const struct ideal_bank *b = redirect_ideal_bank(pm.ideal_bank);
	x->bank_name = b ? b->name : NULL;
	return challenge_merchant_name(db, x->acct, x->merchant_name, sizeof(x->merchant_name)) == 0
		   ? 0
		   : req_fail(x->r, ERR_API, NULL, NULL);
}

static void page_init(struct req *r, struct page_ctx *x)
{
	memset(x, 0, sizeof(*x));
	x->r = r;
	x->acct = r->args[0];
	x->pi_id = r->args[1];
	x->token = r->args[2];
	x->setup = strncmp(x->pi_id, "seti_", 5) == 0;
	str_copy(r->merchant_id, sizeof(r->merchant_id), x->acct);
}

/* After the page: the browser goes back to the intent's return_url with Stripe's query
 * parameters (redirect_status succeeded or failed). */
static int finish(struct req *r, const struct page_ctx *x, bool ok)
{
	return challenge_return(r, x->pi.return_url, x->setup ? "setup_intent" : "payment_intent",
				x->pi.id, x->pi.client_secret, ok);
}

/* The method's name as its customers know it (Afterpay is Clearpay in the UK). */
static const char *page_type_name(const char *type, const char *currency)
{
	static const char *const names[][2] = {
	    {"ideal", "iDEAL"},	  {"bancontact", "Bancontact"},
	    {"affirm", "Affirm"}, {"afterpay_clearpay", "Afterpay"},
	    {"klarna", "Klarna"},
	};
	if (strcmp(type, "afterpay_clearpay") == 0 && strcmp(currency, "gbp") == 0)
		return "Clearpay";
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(names[i][0], type) == 0)
			return names[i][1];
	return type;
}

static int h_page(struct req *r)
{
	struct page_ctx x;
	page_init(r, &x);
	if (req_read(r, page_read_fn, &x) != 0)
		return -1;
	if (!x.found)
		return challenge_not_found(r);
	if (!x.open) {
		/* already answered: the page says how, and sends nobody anywhere */
		if (strcmp(x.status, "pending") == 0)
			return challenge_not_found(r);
		return challenge_done(r, strcmp(x.status, "succeeded") == 0);
	}
	const char *name = page_type_name(x.type, x.pi.currency);
	bool bnpl = redirect_type_bnpl(x.type);
	struct buf b;
	buf_init(&b, 64 * 1024);
	buf_printf(&b,
		   "<h1>%s test payment page</h1><p>This page stands in for your %s in test "
		   "mode: authorize or fail the %s.</p><dl><dt>Merchant</dt><dd>",
		   name, bnpl ? "lender" : "bank",
		   x.setup ? "saving of your account for later SEPA Direct Debit payments"
			   : "payment");
	html_escape(&b, x.merchant_name);
	buf_puts(&b, "</dd>");
	if (!x.setup) {
		/* a SetupIntent charges nothing */
		buf_puts(&b, "<dt>Amount</dt><dd>");
		html_amount(&b, x.pi.amount, x.pi.currency);
		buf_puts(&b, "</dd>");
	}
	if (x.bank_name) {
		buf_puts(&b, "<dt>Bank</dt><dd>");
		html_escape(&b, x.bank_name);
		buf_puts(&b, "</dd>");
	}
	buf_puts(&b, "</dl>");
	const char *base = arena_printf(&r->arena, "/redirect/%s/%s/%s", x.acct, x.pi_id, x.token);
	buf_puts(&b, "<form method=\"post\" action=\"");
	html_escape(&b, base);
	buf_puts(&b, "/authorize\"><button type=\"submit\" class=\"complete\">Authorize test "
		     "payment</button></form><form method=\"post\" action=\"");
	html_escape(&b, base);
	buf_puts(&b, "/fail\"><button type=\"submit\" class=\"fail\">Fail test payment</button>"
		     "</form>");
	int ret = b.failed
		      ? req_fail(r, ERR_API, NULL, NULL)
		      : challenge_page(r, 200, arena_printf(&r->arena, "%s test payment", name),
				       buf_cstr(&b));
	buf_release(&b);
	return ret;
}

/* Inside a page's write: the intent and the authorization as they now are, and the
 * authorization claimed (pending -> x->claim). 1 when it is no longer open (x->outcome says how
 * it ended, or NULL), 0 when this write claimed it, -1. */
static int write_start(struct db *db, struct page_ctx *x)
{
	x->outcome = NULL;
	if (page_load(db, x) != 0)
		return -1;
	if (!x->found)
		return 1;
	if (!x->open) {
		if (strcmp(x->status, "pending") != 0)
			x->outcome = x->status;
		return 1;
	}
	/* claimed first, before anything else is written: of two clicks racing (two nodes on
	 * PostgreSQL), the one whose guarded update changes no row writes nothing and answers with
	 * the other's outcome */
	int rc = redirect_auth_finish(db, x->r->merchant_id, x->pi_id, x->token, x->claim);
	if (rc == DB_CONFLICT) {
		const char *token = NULL;
		rc = redirect_auth_get(db, &x->r->arena, x->acct, x->pi_id, &token, &x->pm_id,
				       &x->status, NULL);
		if (rc != DB_OK)
			return req_fail(x->r, ERR_API, NULL, NULL);
		if (strcmp(x->status, "pending") != 0)
			x->outcome = x->status;
		return 1;
	}
	return rc == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

/*
 * setup_future_usage=off_session: as on Stripe, the authorized payment generates a sepa_debit
 * PaymentMethod from the account the bank reports (Stripe's test IBAN of the type, sealed by the
 * vault), with a multi-use mandate accepted online by the customer who authorized on the page,
 * attached to the intent's customer (payment_method.attached); it then pays off session through
 * the SEPA path (api/mandates.c). A SetupIntent's authorization does the same, for the
 * SetupIntent's customer, its mandate accepted as the confirmation's mandate_data says (acc;
 * NULL or no type: online, on the page). Its ids into ret_pm and ret_mandate. 0, or -1 with
 * r->err.
 */
static int generate_sepa(struct req *r, struct db *db, const char *customer,
			 const struct pm_card *pm, const char *billing_details,
			 const struct redirect_acceptance *acc, char ret_pm[ID_MAX],
			 char ret_mandate[ID_MAX])
{
	char iban_id[ID_MAX];
	id_new_at(ret_pm, "pm_", r->now);
	id_new(iban_id, "iban_");
	if (redirect_generate_sepa(r->app->vault, db, r->merchant_id, pm->type, ret_pm, iban_id,
				   billing_details, r->now) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	struct mandate m = {
	    .payment_method = ret_pm,
	    .type = "multi_use",
	    .status = "active",
	    .acceptance_type = "online",
	    .ip_address = r->client_ip[0] ? r->client_ip : NULL,
	    .user_agent = r->user_agent && *r->user_agent ? r->user_agent : NULL,
	};
	if (acc && acc->type) {
		m.acceptance_type = acc->type;
		m.ip_address = acc->ip;
		m.user_agent = acc->user_agent;
	}
	sepa_mandate_new(&m, r->now);
	if (sepa_mandate_insert(db, r->merchant_id, &m) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	str_copy(ret_mandate, ID_MAX, m.id);
	if (!customer)
		return 0;
	const char *id;
	char owner[ID_MAX];
	if (pm_attach_resolve(r, db, ret_pm, "payment_method", &id, owner) != 0 ||
	    pm_attach_finish(r, db, id, owner, customer) != 0)
		return -1;
	return 0;
}

static int authorize_fn(struct db *db, void *p)
{
	struct page_ctx *x = p;
	struct req *r = x->r;
	int rc = write_start(db, x);
	if (rc != 0)
		return rc < 0 ? -1 : 0; /* a second click: nothing changes */
	struct pm_card pm;
	if (pm_load(db, r->merchant_id, x->pm_id, &pm) != DB_OK || !PM_IS_REDIRECT(&pm))
		return req_fail(r, ERR_API, NULL, NULL);
	if (x->setup) {
		/* a SetupIntent charges nothing: the account the bank reported becomes a sepa_debit
		 * PaymentMethod with its mandate, on the intent's customer, in this same write */
		const char *billing = NULL;
		char gen_pm[ID_MAX], gen_mandate[ID_MAX];
		if (pm.has_billing &&
		    pm_billing_details(db, r->merchant_id, pm.id, &r->arena, &billing) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (generate_sepa(r, db, x->pi.customer, &pm, billing, &x->acceptance, gen_pm,
				  gen_mandate) != 0 ||
		    setup_intent_redirect_outcome(r, db, x->pi_id, &pm, gen_pm, gen_mandate,
						  &x->subscribe) != 0)
			return -1;
		str_copy(x->gen_pm, sizeof(x->gen_pm), gen_pm);
		x->outcome = "succeeded";
		return 0;
	}
	struct payment_intent *pi = &x->pi;
	struct charge ch;
	memset(&ch, 0, sizeof(ch));
	id_new_at(ch.id, "py_", r->now);
	ch.created = r->now;
	ch.payment_intent = pi->id;
	ch.amount = pi->amount;
	str_copy(ch.currency, sizeof(ch.currency), pi->currency);
	ch.customer = pi->customer;
	ch.payment_method = pm.id;
	ch.description = pi->description;
	ch.metadata = "{}";
	ch.receipt_email = pi->receipt_email;
	ch.statement_descriptor = pi->statement_descriptor;
	ch.shipping = pi->shipping;
	ch.outcome = REDIRECT_OUTCOME;
	ch.client_ip = r->client_ip[0] ? r->client_ip : NULL;
	if (pm.has_billing &&
	    pm_billing_details(db, r->merchant_id, pm.id, &r->arena, &ch.billing_details) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	char gen_pm[ID_MAX] = "", gen_mandate[ID_MAX] = "";
	if (pi_setup_future_usage(pi, pm.type) &&
	    generate_sepa(r, db, pi->customer, &pm, ch.billing_details, NULL, gen_pm,
			  gen_mandate) != 0)
		return -1;
	ch.card = redirect_charge_details(&r->arena, &pm, pi, gen_pm[0] ? gen_pm : NULL,
					  gen_mandate[0] ? gen_mandate : NULL);
	if (!ch.card)
		return req_fail(r, ERR_API, NULL, NULL);
	struct ledger_pricing pricing;
	char cur[8];
	if (payments_pricing(r, db, &pricing, cur) != 0)
		return -1;
	pricing.fx = x->fx;
	/* capture_method=manual (a lender's authorization): held until captured, as a card's */
	bool capture = strcmp(pi_capture_method(pi, pm.type), "manual") != 0;
	if (redirect_charge_book(db, &r->arena, r->merchant_id, &ch, pm.type, capture, &pricing,
				 r->now) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	pi->status = capture ? "succeeded" : "requires_capture";
	pi->amount_received = capture ? pi->amount : 0;
	pi->amount_capturable = capture ? 0 : pi->amount;
	pi->latest_charge = arena_strdup(&r->arena, ch.id);
	pi->last_payment_error = NULL;
	pi->next_action = NULL;
	if (!pi->latest_charge || pi_update(db, r->merchant_id, pi) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	size_t len;
	const char *js = charge_json(db, &r->arena, r->merchant_id, r->livemode, &ch, &len);
	if (!js || payments_event(r, db, "charge.succeeded", ch.id, js, len, NULL) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	js = pi_json(db, &r->arena, r->merchant_id, r->livemode, pi, &len);
	if (!js || payments_event(r, db,
				  capture ? "payment_intent.succeeded"
					  : "payment_intent.amount_capturable_updated",
				  pi->id, js, len, NULL) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	/* a Checkout Session's payment completes its session in this same write, as a card's
	 * does in payment_intents.c (complete, paid, checkout.session.completed) */
	if (pi->checkout_session && checkout_complete(r, db, pi->checkout_session) != 0)
		return -1;
	x->outcome = "succeeded";
	return 0;
}

/* Stripe's last_payment_error when the customer fails a redirect authorization: the attempt
 * failed and the PaymentMethod is removed from the intent (which names it in the error). */
static const char *failure_json(struct req *r, struct db *db, const char *pm_id)
{
	static const char CODE[] = "payment_intent_payment_attempt_failed";
	struct buf b;
	struct json j;
	buf_init(&b, 64 * 1024);
	json_init(&j, &b);
	json_obj_open(&j);
	json_kv_str(&j, "code", CODE);
	json_kv_str(&j, "doc_url",
		    "https://stripe.com/docs/error-codes/payment_intent_payment_attempt_failed");
	json_kv_str(&j, "message",
		    "The latest payment attempt of this PaymentIntent has failed or been "
		    "canceled, and the attached payment method has been removed. You can try "
		    "confirming again with a new payment method.");
	json_key(&j, "payment_method");
	if (pm_render(db, r->merchant_id, pm_id, &j) != DB_OK)
		json_nil(&j);
	json_kv_str(&j, "type", "invalid_request_error");
	json_obj_close(&j);
	const char *s = b.failed ? NULL : arena_strndup(&r->arena, b.data, b.len);
	buf_release(&b);
	return s;
}

static int fail_fn(struct db *db, void *p)
{
	struct page_ctx *x = p;
	struct req *r = x->r;
	int rc = write_start(db, x);
	if (rc != 0)
		return rc < 0 ? -1 : 0; /* a second click: nothing changes */
	if (x->setup) {
		struct pm_card pm;
		const char *none;
		if (pm_load(db, r->merchant_id, x->pm_id, &pm) != DB_OK ||
		    setup_intent_redirect_outcome(r, db, x->pi_id, &pm, NULL, NULL, &none) != 0)
			return req_fail(r, ERR_API, NULL, NULL);
		x->outcome = "failed";
		return 0;
	}
	struct payment_intent *pi = &x->pi;
	pi->last_payment_error = failure_json(r, db, x->pm_id);
	pi->status = "requires_payment_method";
	pi->payment_method = NULL;
	pi->next_action = NULL;
	if (!pi->last_payment_error || pi_update(db, r->merchant_id, pi) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	size_t len;
	const char *js = pi_json(db, &r->arena, r->merchant_id, r->livemode, pi, &len);
	if (!js ||
	    payments_event(r, db, "payment_intent.payment_failed", pi->id, js, len, NULL) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	x->outcome = "failed";
	return 0;
}

/* A POST of the page: the write, then the browser back to the merchant. A link that opens
 * nothing (wrong token, intent canceled or confirmed again) gets the not-found page. */
static int page_post(struct req *r, store_fn fn, bool authorize)
{
	struct page_ctx x;
	page_init(r, &x);
	x.claim = authorize ? "succeeded" : "failed";
	if (authorize)
		x.fx = app_fx_acquire(r->app);
	int rc = req_write(r, fn, &x);
	fx_table_free(x.fx);
	if (rc != 0)
		return -1;
	if (!x.outcome)
		return challenge_not_found(r);
	/* the account saved for a subscription-mode Checkout Session: its subscription now */
	if (x.subscribe)
		return checkout_subscribe_saved(r, x.acct, x.subscribe, x.gen_pm);
	return finish(r, &x, strcmp(x.outcome, "succeeded") == 0);
}

static int h_authorize(struct req *r)
{
	return page_post(r, authorize_fn, true);
}

static int h_fail(struct req *r)
{
	return page_post(r, fail_fn, false);
}

static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

const struct route redirect_page_routes[] = {
    {"GET", "/redirect/{acct}/{pi}/{token}", h_page, no_params, ROUTE_NO_AUTH | ROUTE_RAW},
    {"POST", "/redirect/{acct}/{pi}/{token}/authorize", h_authorize, no_params,
     ROUTE_NO_AUTH | ROUTE_RAW},
    {"POST", "/redirect/{acct}/{pi}/{token}/fail", h_fail, no_params, ROUTE_NO_AUTH | ROUTE_RAW},
    {NULL, NULL, NULL, NULL, 0},
};

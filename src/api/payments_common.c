#include "api/payments_common.h"

#include <stdio.h>
#include <string.h>

#include "api/resources.h"
#include "app.h"
#include "events/events.h"
#include "money/currency.h"
#include "processor/processor.h"
#include "vault/payment_method.h"
#include "vault/vault.h"

#define AMOUNT_MAX 99999999 /* Stripe's limit: eight digits */

static int render_customer_cb(void *ctx, struct db *db, const char *id, struct json *j)
{
	return customer_render_by_id(ctx, db, id, j);
}

static int render_pm_cb(void *ctx, struct db *db, const char *id, struct json *j)
{
	struct req *r = ctx;
	return pm_render(db, r->merchant_id, id, j);
}

static int render_bt_cb(void *ctx, struct db *db, const char *id, struct json *j)
{
	struct req *r = ctx;
	return ledger_balance_txn_render(db, r->merchant_id, id, j);
}

/* expand[] entries are relative to the response object; list responses prefix them with
 * "data.". A nested path (latest_charge.balance_transaction) expands the outer field too. */
static bool wants(struct req *r, const char *prefix, const char *field)
{
	char path[128];
	if (prefix)
		snprintf(path, sizeof(path), "%s.%s", prefix, field);
	else
		snprintf(path, sizeof(path), "%s", field);
	return req_expand_has(r, path);
}

void payments_expand_from_req(struct req *r, struct expand_set *ex, const char *prefix)
{
	memset(ex, 0, sizeof(*ex));
	ex->customer = wants(r, prefix, "customer");
	ex->payment_method = wants(r, prefix, "payment_method");
	ex->latest_charge = wants(r, prefix, "latest_charge");
	ex->payment_intent = wants(r, prefix, "payment_intent");
	ex->balance_transaction = wants(r, prefix, "balance_transaction") ||
	                          wants(r, prefix, "latest_charge.balance_transaction");
	ex->render_customer = render_customer_cb;
	ex->render_payment_method = render_pm_cb;
	ex->render_balance_txn = render_bt_cb;
	ex->ctx = r;
}

int payments_check_amount(struct req *r, int64_t amount, const char *currency_param, char cur[8],
                          const char *amount_param)
{
	if (currency_param) {
		const char *c = param_str(r, currency_param);
		if (!c || strlen(c) != 3)
			return req_fail(r, ERR_INVALID_CURRENCY, currency_param,
			                "Invalid currency: %s.", c ? c : "");
		for (int i = 0; i < 3; i++)
			cur[i] = (char)(c[i] >= 'A' && c[i] <= 'Z' ? c[i] - 'A' + 'a' : c[i]);
		cur[3] = '\0';
	}
	const struct currency *cy = currency_find(cur);
	if (!cy) {
		struct buf b;
		buf_init(&b, 4096);
		currency_list_codes(&b);
		req_fail(r, ERR_INVALID_CURRENCY, currency_param ? currency_param : "currency",
		         "Invalid currency: %s. Tender supports these currencies: %s", cur,
		         buf_cstr(&b));
		buf_release(&b);
		return -1;
	}
	if (amount < 1)
		return req_fail(r, ERR_PARAM_BAD, amount_param,
		                "Invalid %s: must be a positive integer in the currency's smallest "
		                "unit.",
		                amount_param);
	if (amount > AMOUNT_MAX)
		return req_fail(r, ERR_AMOUNT_TOO_LARGE, amount_param,
		                "Amount must be no more than %d.", AMOUNT_MAX);
	if (cy->min_charge_minor > 0 && amount < cy->min_charge_minor)
		return req_fail(r, ERR_AMOUNT_TOO_SMALL, amount_param,
		                "Amount must be at least %lld %s.", (long long)cy->min_charge_minor,
		                cur);
	return 0;
}

/* ---- the card half of an authorization ---- */

struct materialize_ctx {
	struct req *r;
	const char *ref;
	struct pm_card pm;
	int rc;
};

static int materialize_fn(struct db *db, void *p)
{
	struct materialize_ctx *m = p;
	m->rc = pm_materialize(db, m->r->app->vault, m->r->merchant_id, m->ref, m->r->now, &m->pm);
	return m->rc == 0 ? 0 : -1;
}

struct reveal_ctx {
	int64_t amount;
	const char *currency;
	int64_t now;
	struct processor_decision *decision;
	enum acq_behavior *behavior;
};

struct read_card_ctx {
	struct materialize_ctx *m;
	bool loaded;
	struct reveal_ctx *rc;
	struct vault_access *acc;
	int vault_rc;
};

static int reveal_fn(const struct vault_secret *s, void *p)
{
	struct reveal_ctx *c = p;
	struct processor_card card = {
	    .exp_month = s->exp_month,
	    .exp_year = s->exp_year,
	    .cvc_provided = s->cvc_provided,
	    .behavior = vault_secret_behavior(s),
	};
	*c->behavior = card.behavior;
	processor_authorize(&card, c->amount, c->currency, c->now, c->decision);
	return 0;
}

/* Reads the PaymentMethod (unless materialized already) and has the vault reveal its card to
 * the acquirer, in one read transaction. */
static int read_card_fn(struct db *db, void *p)
{
	struct read_card_ctx *c = p;
	struct materialize_ctx *m = c->m;
	if (!c->loaded) {
		m->rc = pm_load(db, m->r->merchant_id, m->ref, &m->pm);
		if (m->rc != 0)
			return 0;
	}
	c->vault_rc = vault_card_reveal(m->r->app->vault, db, m->r->merchant_id, m->pm.card_id,
	                                "authorization", reveal_fn, c->rc, c->acc);
	return 0;
}

int payments_card_authorize(struct req *r, const char *pm_ref, const char *param, int64_t amount,
                            const char *currency, struct card_auth *out)
{
	memset(out, 0, sizeof(*out));
	struct materialize_ctx m = {.r = r, .ref = pm_ref};
	bool loaded = false;
	if (strncmp(pm_ref, "pm_", 3) != 0 || vault_is_test_alias(pm_ref)) {
		/* a test alias or a token becomes a stored PaymentMethod first */
		int wrc = req_write(r, materialize_fn, &m);
		if (wrc != 0 && m.rc == 0)
			return -1; /* store failure, r->err set */
		r->err.set = false;
		if (m.rc == DB_NOTFOUND)
			return req_fail(r, ERR_RESOURCE_MISSING, param, "No such PaymentMethod: '%s'",
			                pm_ref);
		if (m.rc != 0)
			return req_fail(r, m.rc == VAULT_ERR_TOKEN_USED ? ERR_TOKEN_USED : ERR_API,
			                param, "%s", pm_ref);
		loaded = true;
	}
	struct vault_access *acc = arena_zalloc(&r->arena, sizeof(*acc));
	if (!acc)
		return req_fail(r, ERR_API, NULL, NULL);
	enum acq_behavior behavior = ACQ_SUCCEED;
	struct reveal_ctx rc = {amount, currency, r->now, &out->decision, &behavior};
	struct read_card_ctx rcc = {.m = &m, .loaded = loaded, .rc = &rc, .acc = acc};
	if (req_read(r, read_card_fn, &rcc) != 0)
		return -1;
	if (m.rc == DB_NOTFOUND)
		return req_fail(r, ERR_RESOURCE_MISSING, param, "No such PaymentMethod: '%s'",
		                pm_ref);
	if (m.rc != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	if (rcc.vault_rc != 0) {
		/* tampered or undecryptable card: refuse the payment, decrypt nothing */
		memset(&out->decision, 0, sizeof(out->decision));
		out->decision.approved = false;
		out->decision.err = ERR_CARD_PROCESSING;
		snprintf(out->decision.decline_code, sizeof(out->decision.decline_code), "%s",
		         "processing_error");
		out->decision.network_status = "not_sent_to_network";
		out->decision.outcome_type = "invalid";
		out->decision.seller_message = "The card could not be read from the vault.";
		out->decision.risk_level = "not_assessed";
		acc = NULL;
	}
	out->access = acc;
	snprintf(out->pm_id, sizeof(out->pm_id), "%s", m.pm.id);
	snprintf(out->customer, sizeof(out->customer), "%s", m.pm.customer);
	struct payment_card *c = &out->card;
	c->payment_method = arena_strdup(&r->arena, m.pm.id);
	c->brand = arena_strdup(&r->arena, m.pm.brand);
	c->last4 = arena_strdup(&r->arena, m.pm.last4);
	c->funding = arena_strdup(&r->arena, m.pm.funding);
	c->country = arena_strdup(&r->arena, m.pm.country);
	c->fingerprint = arena_strdup(&r->arena, m.pm.fingerprint);
	c->exp_month = m.pm.exp_month;
	c->exp_year = m.pm.exp_year;
	c->behavior = behavior;
	return 0;
}

int payments_card_commit(struct req *r, struct db *db, const struct card_auth *ca)
{
	if (!ca->access)
		return 0;
	return vault_access_record(db, ca->access) == 0 ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

int payments_pricing(struct req *r, struct db *db, struct ledger_pricing *ret, char cur[8])
{
	return ledger_pricing_get(db, r->merchant_id, ret, cur) == DB_OK
	           ? 0
	           : req_fail(r, ERR_API, NULL, NULL);
}

int payments_event(struct req *r, struct db *db, const char *type, const char *object_id,
                   const char *json, size_t len, const char *prev)
{
	struct event_origin o = {r->request_id, r->idempotency_key, r->livemode};
	if (event_append(db, r->merchant_id, &o, type, object_id, json, len, prev, r->now, NULL) !=
	    DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

#include "api/payments_common.h"
#include "core/str.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "api/resources.h"
#include "api/sources_api.h"
#include "api/terminal.h"
#include "app.h"
#include "core/clock.h"
#include "metrics/metrics.h"
#include "events/events.h"
#include "events/pack.h"
#include "ledger/ledger_connect.h"
#include "http/form.h"
#include "merchant/merchant.h"
#include "money/currency.h"
#include "money/fx.h"
#include "money/money.h"
#include "payments/pm_types.h"
#include "processor/processor.h"
#include "risk/decision.h"
#include "risk/features.h"
#include "risk/batch.h"
#include "risk/model.h"
#include "risk/rules.h"
#include "risk/review.h"
#include "risk/value_lists.h"
#include "vault/card_source.h"
#include "vault/payment_method.h"
#include "core/redact.h"
#include "vault/vault.h"

/* A payment method reference as an error message may show it: a card number typed where an id
 * belongs (source=4242…, card=4242…) is never echoed. */
static const char *ref_shown(const char *ref)
{
	return ref && redact_pan_like(ref, strlen(ref)) ? "(a card number: send it as card[number])"
							: ref;
}

#define AMOUNT_MAX 99999999    /* Stripe's limit: eight digits */
#define CUSTOMER_EMAIL_MAX 256 /* a customer's email longer than this matches no email rule */

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

static int render_id_cb(void *ctx, struct db *db, const char *id, const char *field, struct json *j)
{
	return api_render_by_id(ctx, db, id, field, j);
}

/* expand[] entries are relative to the response object; list responses prefix them with
 * "data.". A nested path (latest_charge.balance_transaction) expands the outer field too. */
static bool wants(struct req *r, const char *prefix, const char *field)
{
	char path[128];
	if (prefix)
		snprintf(path, sizeof(path), "%s.%s", prefix, field);
	else
		str_copy(path, sizeof(path), field);
	return req_expand_has(r, path);
}

void payments_expand_from_req(struct req *r, struct expand_set *ex, const char *prefix)
{
	memset(ex, 0, sizeof(*ex));
	ex->render_id = render_id_cb;
	ex->render_customer = render_customer_cb;
	ex->render_payment_method = render_pm_cb;
	ex->render_balance_txn = render_bt_cb;
	ex->ctx = r;
	/* nearly every request asks for no expansion: one lookup instead of twelve */
	if (!r->params || !form_get(r->params, "expand"))
		return;
	ex->customer = wants(r, prefix, "customer");
	ex->payment_method = wants(r, prefix, "payment_method");
	ex->latest_charge = wants(r, prefix, "latest_charge");
	ex->payment_intent = wants(r, prefix, "payment_intent");
	ex->balance_transaction = wants(r, prefix, "balance_transaction") ||
				  wants(r, prefix, "latest_charge.balance_transaction");
	/* a charge's own fields, also through an intent's latest_charge */
	ex->transfer = wants(r, prefix, "transfer") || wants(r, prefix, "latest_charge.transfer");
	ex->application_fee = wants(r, prefix, "application_fee") ||
			      wants(r, prefix, "latest_charge.application_fee");
	ex->invoice = wants(r, prefix, "invoice");
	ex->review = wants(r, prefix, "review");
	ex->charge_invoice = wants(r, prefix, "latest_charge.invoice");
	ex->charge_review = wants(r, prefix, "latest_charge.review");
	ex->refunds = wants(r, prefix, "refunds") || wants(r, prefix, "latest_charge.refunds");
	ex->line_items = wants(r, prefix, "amount_details.line_items");
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
	if (amount < 1) /* Stripe's words for an amount of 0 (or less) */
		return req_fail(r, ERR_PARAM_INTEGER_RANGE, amount_param,
				"This value must be greater than or equal to 1.");
	if (amount > AMOUNT_MAX)
		return req_fail(r, ERR_AMOUNT_TOO_LARGE, amount_param,
				"Amount must be no more than %d.", AMOUNT_MAX);
	/* the documented minimums here; the others depend on the merchant's settlement currency
	 * (payments_check_minimum) */
	if (currency_min_documented(cur) && cy->min_charge_minor > 0 &&
	    amount < cy->min_charge_minor)
		return req_fail(r, ERR_AMOUNT_TOO_SMALL, amount_param,
				"Amount must be at least %lld %s.", (long long)cy->min_charge_minor,
				cur);
	return 0;
}

static int fail_too_small(struct req *r, const char *amount_param, int64_t min_minor,
			  const char *min_currency, int64_t amount, const char *currency,
			  int64_t converted, const char *settlement)
{
	struct buf a, b, c;
	buf_init(&a, 64);
	buf_init(&b, 64);
	buf_init(&c, 64);
	money_format(&a, min_minor, min_currency);
	money_format(&b, amount, currency);
	int rc;
	if (settlement) {
		money_format(&c, converted, settlement);
		rc =
		    req_fail(r, ERR_AMOUNT_TOO_SMALL, amount_param,
			     "Amount must convert to at least %s. %s converts to approximately %s.",
			     buf_cstr(&a), buf_cstr(&b), buf_cstr(&c));
	} else {
		rc = req_fail(r, ERR_AMOUNT_TOO_SMALL, amount_param, "Amount must be at least %s.",
			      buf_cstr(&a));
	}
	buf_release(&a);
	buf_release(&b);
	buf_release(&c);
	return rc;
}

/* payments_check_minimum_db once the merchant's settlement currency is read */
static int check_minimum_settle(struct req *r, int64_t amount, const char *currency,
				const char *settle, const char *currency_param,
				const char *amount_param)
{
	bool same = strcmp(settle, currency) == 0;
	if (same && currency_min_documented(currency))
		return 0; /* payments_check_amount's check is the whole rule */
	struct fx_table *fx = app_fx_acquire(r->app);
	int rc = 0;
	int64_t min = 0, converted = 0;
	if (same) {
		/* an undocumented settlement currency: 0.50 usd or its equivalent (the table's
		 * derived value, else from the loaded rates; none known: no minimum) */
		if (fx_min_charge_minor(fx, currency, r->now, &min) != 0)
			min = 0;
		if (amount < min)
			rc = fail_too_small(r, amount_param, min, currency, amount, currency, 0,
					    NULL);
		goto out;
	}
	int mrc = fx_convert(fx, amount, currency, settle, r->now, &converted, NULL);
	if (mrc == MONEY_ERR_OVERFLOW) {
		rc = req_fail(r, ERR_AMOUNT_TOO_LARGE, amount_param,
			      "Amount is too large to convert to %s.", settle);
		goto out;
	}
	if (mrc != 0) {
		rc = req_fail(r, ERR_INVALID_CURRENCY, currency_param,
			      "Invalid currency: %s. There is no exchange rate from %s to this "
			      "account's settlement currency (%s).",
			      currency, currency, settle);
		goto out;
	}
	if (currency_min_documented(currency))
		goto out; /* checked by payments_check_amount; the rate exists */
	if (fx_min_charge_minor(fx, settle, r->now, &min) != 0)
		min = 0;
	if (converted < min || converted < 1)
		rc = fail_too_small(r, amount_param, min > 0 ? min : 1, settle, amount, currency,
				    converted, settle);
out:
	fx_table_free(fx);
	return rc;
}

int payments_check_minimum_db(struct req *r, struct db *db, int64_t amount, const char *currency,
			      const char *currency_param, const char *amount_param)
{
	struct ledger_pricing pricing;
	char settle[8];
	char own[8];
	if (ledger_pricing_get(db, r->merchant_id, &pricing, settle) != DB_OK ||
	    ledger_settlement_currency(db, r->merchant_id, currency, own) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* a connected account's charge it keeps in its currency is checked in that currency */
	if (strcmp(own, currency) == 0)
		str_copy(settle, sizeof(settle), currency);
	return check_minimum_settle(r, amount, currency, settle, currency_param, amount_param);
}

struct minimum_ctx {
	struct req *r;
	int64_t amount;
	const char *currency, *currency_param, *amount_param;
};

static int minimum_fn(struct db *db, void *p)
{
	struct minimum_ctx *m = p;
	return payments_check_minimum_db(m->r, db, m->amount, m->currency, m->currency_param,
					 m->amount_param);
}

int payments_check_minimum(struct req *r, int64_t amount, const char *currency,
			   const char *currency_param, const char *amount_param)
{
	struct minimum_ctx m = {r, amount, currency, currency_param, amount_param};
	return req_read(r, minimum_fn, &m) == 0 ? 0 : -1;
}

/* ---- the card half of an authorization ---- */

/* The payment method as read before the write (read_card_fn). */
struct materialize_ctx {
	struct req *r;
	const char *ref;
	struct pm_card pm;
	const char *billing_details; /* the PaymentMethod's, for its charge (JSON or NULL) */
	int rc;
};

/*
 * Fraud scoring sits between the vault and the acquirer: the features are read from the store
 * (velocity per card fingerprint, customer and client IP, kept in the charges table so that a
 * restart or a second node sees them), the model scores them, and only a payment the score allows
 * reaches the processor. The decision bands (seed §5.2): p > 0.8 blocks, 0.5–0.8 asks for 3-D
 * Secure, below is allowed. Stripe's Radar test cards set the level themselves.
 */
struct risk_ctx {
	struct risk_features f;
	double p;
	bool scored;
	bool have_features;
	const struct risk_rules *rules;
	const char *fingerprint;
	const char *customer;	/* the payment's, else the PaymentMethod's (rules' `customer`) */
	const char *ip_address; /* the client's (rules' `ip_address`) */
	const char *card_bin;	/* the card's first six digits (rules' `card_bin`), "" unknown */
	/* the payment's receipt_email, else its card's billing email, else its customer's (rules'
	 * `email`, `email_domain`); NULL when none */
	const char *email;
	char *customer_email; /* the caller's buffer for the customer's (CUSTOMER_EMAIL_MAX) */
	/* which values are in the merchant's value lists the rules name (risk/value_lists.h) */
	uint16_t list_hits[RISK_RULE_MAX_LISTS];
	uint16_t
	    builtin_hits[RISK_RULE_MAX_LISTS]; /* the default rules' (Stripe's default lists) */
	bool builtin_any; /* a default list holds one of the payment's values */
};

/* A key's hourly rows since hour $4 (30 days back), summed in velocity_read rather than by six
 * SQL aggregates: a plain scan of the (merchant, kind, key, hour) key costs ~40 % less. */
static const char SQL_VELOCITY[] =
    "SELECT hour, attempts, amount, declines FROM risk_velocity"
    " WHERE merchant_id = $1 AND kind = $2 AND key = $3 AND hour >= $4";

struct velocity {
	int64_t count_1h, sum_1h, count_24h, sum_24h, count_30d, declines_30d;
};

/* Velocity counts are risk features, not money: a sum past INT64_MAX stays there. */
static void sat_add(int64_t *acc, int64_t n)
{
	if (__builtin_add_overflow(*acc, n, acc))
		*acc = n < 0 ? INT64_MIN : INT64_MAX;
}

static void velocity_read(struct db *db, const char *merchant_id, const char *kind, const char *key,
			  int64_t now, struct velocity *v)
{
	memset(v, 0, sizeof(*v));
	struct db_stmt *st = db_prepare(db, SQL_VELOCITY);
	if (!st || !key || !*key)
		return;
	int64_t h = now / 3600;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, kind, -1);
	db_bind_text(st, 3, key, -1);
	db_bind_int64(st, 4, h - 30 * 24);
	while (db_step(st) == DB_ROW) {
		int64_t hour = db_col_int64(st, 0), attempts = db_col_int64(st, 1);
		int64_t amount = db_col_int64(st, 2), declines = db_col_int64(st, 3);
		if (hour >= h) { /* this hour */
			sat_add(&v->count_1h, attempts);
			sat_add(&v->sum_1h, amount);
		}
		if (hour >= h - 23) {
			sat_add(&v->count_24h, attempts);
			sat_add(&v->sum_24h, amount);
		}
		sat_add(&v->count_30d, attempts);
		sat_add(&v->declines_30d, declines);
	}
	db_reset(st);
}

/* Minor units normalized to two decimals (the model's scale). Exact conversion to USD needs the
 * exchange rates (issue 7); the magnitude is what the trees use. */
static int64_t usd_scale(int64_t amount, const char *currency)
{
	const struct currency *cy = currency_find(currency);
	int exp = cy ? cy->exponent : 2;
	if (exp == 0)
		return amount > INT64_MAX / 100 ? INT64_MAX : amount * 100;
	if (exp == 3)
		return amount / 10;
	return amount;
}

static void read_velocity(struct db *db, struct req *r, const struct pm_card *pm,
			  const char *customer, struct risk_features *f, const char *currency)
{
	struct velocity v;
	velocity_read(db, r->merchant_id, "card", pm->fingerprint, r->now, &v);
	f->card_count_1h = (uint32_t)v.count_1h;
	f->card_sum_1h_usd_minor = usd_scale(v.sum_1h, currency);
	f->card_count_24h = (uint32_t)v.count_24h;
	f->card_sum_24h_usd_minor = usd_scale(v.sum_24h, currency);
	f->card_attempts_30d = (uint32_t)v.count_30d;
	f->card_declines_30d = (uint32_t)v.declines_30d;
	f->first_time_card = v.count_30d == 0;
	velocity_read(db, r->merchant_id, "customer", customer, r->now, &v);
	f->customer_count_1h = (uint32_t)v.count_1h;
	f->customer_sum_1h_usd_minor = usd_scale(v.sum_1h, currency);
	f->customer_count_24h = (uint32_t)v.count_24h;
	f->customer_sum_24h_usd_minor = usd_scale(v.sum_24h, currency);
	velocity_read(db, r->merchant_id, "ip", r->client_ip, r->now, &v);
	f->ip_count_1h = (uint32_t)v.count_1h;
}

struct reveal_ctx {
	int64_t amount;
	const char *currency;
	int64_t now;
	struct processor_decision *decision;
	enum acq_behavior *behavior;
	const struct risk_ctx *risk;
	bool authenticated;
	bool *needs_3ds;
	bool verify; /* a card check without an amount (processor_verify), not an authorization */
	bool off_session; /* the cardholder is away (PaymentIntents' off_session) */
	bool set_up;	  /* the PaymentMethod was set up with authentication (pm_card.set_up) */
	/* what the reveal leaves for decide(): the card's facts for the acquirer (no number) */
	struct processor_card card;
	bool test_card;
};

static void blocked(struct processor_decision *d, int score)
{
	memset(d, 0, sizeof(*d));
	d->approved = false;
	d->err = ERR_CARD_DECLINED;
	str_copy(d->decline_code, sizeof(d->decline_code), "fraudulent");
	d->network_status = "not_sent_to_network";
	d->outcome_type = "blocked";
	d->reason = "highest_risk_level";
	d->risk_level = "highest";
	d->risk_score = score;
	d->seller_message = "Tender blocked this payment as too risky.";
}

/* Inside the vault's reveal: keeps the facts the acquirer is given (expiry, whether a CVC was
 * given, the test card's behaviour), never the number. The decision (decide) is taken after the
 * read, once the fraud score is in: the score may wait for a batch (risk/batch.h), and the read
 * transaction is not held across that. */
static int reveal_fn(const struct vault_secret *s, void *p)
{
	struct reveal_ctx *c = p;
	c->card = (struct processor_card){
	    .exp_month = vault_secret_exp_month(s),
	    .exp_year = vault_secret_exp_year(s),
	    .cvc_provided = vault_secret_cvc_provided(s),
	    .behavior = vault_secret_behavior(s),
	};
	c->test_card = vault_secret_is_test_card(s);
	*c->behavior = c->card.behavior;
	return 0;
}

/* Which parts of the billing address the issuer is asked to check (Stripe's address_line1_check
 * and address_postal_code_check are null for a part that was not given). */
static void billing_address_given(const char *billing_details, struct processor_card *card)
{
	card->line1_provided = card->postal_code_provided = false;
	if (!billing_details)
		return;
	json_t *bd = json_loads(billing_details, 0, NULL);
	json_t *addr = json_object_get(bd, "address");
	const char *line1 = json_string_value(json_object_get(addr, "line1"));
	const char *postal = json_string_value(json_object_get(addr, "postal_code"));
	card->line1_provided = line1 && *line1;
	card->postal_code_provided = postal && *postal;
	json_decref(bd);
}

/* Radar and the acquirer: blocked, held for 3-D Secure, or authorized (c->decision). */
static void decide(struct reveal_ctx *c)
{
	const struct processor_card card = c->card;
	enum risk_decision dec = RISK_ALLOW;
	const char *level = "normal";
	int score = 0;
	if (c->risk->scored) {
		dec = risk_decide(NULL, c->risk->p);
		level = risk_level_name(risk_level_for(NULL, c->risk->p));
		score = risk_score_from_probability(c->risk->p);
	}
	if (c->test_card) {
		/* Stripe's published test cards define their own outcome, as in Stripe's test mode:
		 * the model's score is kept for the record but clamped into the card's band, and
		 * only the Radar test cards are blocked or elevated. Any other card is the model's.
		 */
		dec = RISK_ALLOW;
		level = "normal";
		score = score < 49 ? score : 49;
		if (card.behavior == ACQ_RISK_HIGHEST || card.behavior == ACQ_FRAUD_BLOCK) {
			dec = RISK_BLOCK;
			level = "highest";
			score = score > 90 ? score : 95;
		} else if (card.behavior == ACQ_RISK_ELEVATED) {
			level = "elevated";
			score = 65;
		} else if (card.behavior == ACQ_3DS_REQUIRED ||
			   card.behavior == ACQ_3DS_THEN_INSUFFICIENT_FUNDS ||
			   card.behavior == ACQ_3DS_THEN_DECLINE ||
			   (card.behavior == ACQ_3DS_ON_SESSION && !c->off_session) ||
			   (card.behavior == ACQ_3DS_UNLESS_SET_UP &&
			    !(c->off_session && c->set_up))) {
			dec = RISK_REVIEW_3DS;
		}
	}
	/* the merchant's rules, as Radar applies them: allow wins, then block, then review;
	 * nothing overrides a card that is always blocked */
	const char *rule_reason = NULL;
	bool manual_review = false; /* a manual_review rule: authorized, then placed in review */
	/* (the default rules read only the default lists: nothing to evaluate without a hit) */
	if (c->risk->have_features && (c->risk->rules || c->risk->builtin_any) &&
	    card.behavior != ACQ_FRAUD_BLOCK) {
		struct risk_rule_input in = {.f = &c->risk->f,
					     .fingerprint = c->risk->fingerprint,
					     .risk_score = c->risk->scored ? score : -1,
					     .ip_address = c->risk->ip_address,
					     .customer = c->risk->customer,
					     .card_bin = c->risk->card_bin,
					     .email = c->risk->email};
		memcpy(in.list_hits, c->risk->list_hits, sizeof(in.list_hits));
		struct risk_rule_match mt;
		risk_rules_eval_with_builtin(c->risk->rules, &in, c->risk->builtin_hits, &mt);
		if (mt.action == RISK_RULE_ALLOW) {
			dec = RISK_ALLOW;
		} else if (mt.action == RISK_RULE_BLOCK) {
			dec = RISK_BLOCK;
			rule_reason = "rule";
		} else if (mt.action == RISK_RULE_REVIEW && dec != RISK_BLOCK) {
			dec = RISK_REVIEW_3DS;
		} else if (mt.action == RISK_RULE_MANUAL_REVIEW && dec == RISK_ALLOW) {
			manual_review = !c->verify;
		}
	}
	if (dec == RISK_BLOCK) {
		blocked(c->decision, score);
		if (rule_reason) {
			c->decision->reason = rule_reason;
			c->decision->risk_level = level;
			c->decision->seller_message = "Blocked by one of your fraud rules.";
		}
		return;
	}
	if (dec == RISK_REVIEW_3DS && !c->authenticated) {
		/* not sent to the acquirer until the cardholder authenticated */
		*c->needs_3ds = true;
		memset(c->decision, 0, sizeof(*c->decision));
		c->decision->approved = true;
		c->decision->risk_level = level;
		c->decision->risk_score = score;
		return;
	}
	if (c->verify)
		processor_verify(&card, c->now, c->decision);
	else
		processor_authorize(&card, c->amount, c->currency, c->now, c->decision);
	if (c->decision->approved || strcmp(c->decision->outcome_type, "blocked") != 0) {
		c->decision->risk_level = level;
		c->decision->risk_score = score;
	}
	if (c->decision->approved && manual_review) {
		/* the payment's write opens the review (payment_record_attempt) */
		c->decision->outcome_type = REVIEW_OUTCOME_TYPE;
		c->decision->reason = "rule";
		c->decision->seller_message = "Placed in review by one of your fraud rules.";
	}
}

/* read_card_fn's answer for a detached PaymentMethod (apart from the store's codes) */
#define PM_RC_DETACHED 1
/* an ideal / bancontact PaymentMethod: no card to authorize (api/redirect_page.c pays it) */
#define PM_RC_REDIRECT 2

struct read_card_ctx {
	struct materialize_ctx *m;
	bool loaded;
	const char *alias; /* a pm_card_* / tok_* test alias, stored only by the payment's commit */
	const char *token; /* a single-use token, read here and used up by the payment's commit */
	struct reveal_ctx *rc;
	struct risk_ctx *risk;
	const char *customer;
	struct vault_access *acc;
	int vault_rc;
	bool check_minimum; /* payments_check_minimum first, in this transaction */
	int minimum_rc;
	struct card_auth *out; /* have_pricing, pricing: read here too */
};

/* Reads the PaymentMethod or the token (an alias's facts are known already) and has the vault
 * reveal its card to the acquirer, in one read transaction. */
static int read_card_fn(struct db *db, void *p)
{
	struct read_card_ctx *c = p;
	struct materialize_ctx *m = c->m;
	/* read here, beside the card, rather than by the writer (payments_pricing_for); the
	 * minimum check takes its settlement currency from it */
	struct merchant_terms terms; /* cached per process (merchant.h): pricing and category */
	c->out->have_pricing = merchant_terms_get(db, m->r->merchant_id, &terms) == DB_OK;
	if (c->out->have_pricing)
		ledger_pricing_from_terms(&terms, &c->out->pricing, c->out->pricing_currency);
	if (c->check_minimum) {
		c->minimum_rc =
		    c->out->have_pricing
			? check_minimum_settle(m->r, c->rc->amount, c->rc->currency,
					       c->out->pricing_currency, "currency", "amount")
			: req_fail(m->r, ERR_API, NULL, NULL);
		if (c->minimum_rc != 0)
			return 0; /* m->r->err is set; the card stays untouched */
	}
	if (c->token) {
		m->rc = pm_token_peek(db, m->r->merchant_id, m->ref, &m->pm);
		if (m->rc != 0)
			return 0;
	} else if (!c->loaded) {
		m->rc = pm_load(db, m->r->merchant_id, m->ref, &m->pm);
		if (m->rc != 0)
			return 0;
		/* a card source pays only while it is attached: deleting it from its customer
		 * (api/sources.c) leaves the row for the charges that name it. Its verification
		 * comes before it is attached. */
		if (!c->rc->verify && card_source_id(m->ref) && !m->pm.customer[0]) {
			m->rc = DB_NOTFOUND;
			return 0;
		}
		/* a PaymentMethod detached from its customer never pays again (Stripe) */
		if (m->pm.detached) {
			m->rc = PM_RC_DETACHED;
			return 0;
		}
		if (PM_IS_REDIRECT(&m->pm)) {
			m->rc = PM_RC_REDIRECT;
			return 0;
		}
		if (m->pm.has_billing) {
			m->rc = pm_billing_details(db, m->r->merchant_id, m->ref, &m->r->arena,
						   &m->billing_details);
			if (m->rc != 0)
				return 0;
		}
	}
	struct req *r = m->r;
	c->rc->set_up = m->pm.set_up;
	c->risk->rules = r->app->rules;
	c->risk->fingerprint = m->pm.fingerprint;
	if (r->app->risk || r->app->rules) {
		c->risk->have_features = true;
		struct risk_features *f = &c->risk->f;
		risk_features_init(f);
		risk_features_set_time(f, r->now);
		f->amount_usd_minor = usd_scale(c->rc->amount, c->rc->currency);
		f->currency_is_usd = strcmp(c->rc->currency, "usd") == 0;
		f->card_brand = risk_card_brand_from_name(m->pm.brand);
		f->funding = risk_funding_from_name(m->pm.funding);
		str_copy(f->card_country, sizeof(f->card_country), m->pm.country);
		str_copy(f->billing_country, sizeof(f->billing_country), m->pm.billing_country);
		if (c->out->have_pricing)
			f->mcc = terms.mcc;
		read_velocity(db, r, &m->pm, c->customer, f, c->rc->currency);
		c->risk->customer = c->customer && *c->customer ? c->customer : m->pm.customer;
		c->risk->ip_address = r->client_ip;
		c->risk->card_bin = m->pm.bin;
		if (!c->risk->email && m->pm.billing_email[0])
			c->risk->email = m->pm.billing_email;
		if (!c->risk->email && c->risk->customer && *c->risk->customer) {
			/* read only when a rule may compare it (risk/value_lists.h) */
			if (risk_value_lists_customer_email(
				db, r->merchant_id, r->app->rules, r->now, c->risk->customer,
				c->risk->customer_email, CUSTOMER_EMAIL_MAX) != 0) {
				m->rc = DB_ERR;
				return 0;
			}
			if (c->risk->customer_email[0])
				c->risk->email = c->risk->customer_email;
		}
		/* the rules file's value lists and Stripe's default ones: one indexed query,
		 * only for a merchant that has value lists (risk/value_lists.h) */
		struct risk_rule_input in = {.f = f,
					     .fingerprint = m->pm.fingerprint,
					     .risk_score = -1,
					     .ip_address = c->risk->ip_address,
					     .customer = c->risk->customer,
					     .card_bin = c->risk->card_bin,
					     .email = c->risk->email};
		if (risk_value_lists_lookup(db, r->merchant_id, r->app->rules, r->now, &in,
					    c->risk->builtin_hits) != 0) {
			m->rc = DB_ERR;
			return 0;
		}
		memcpy(c->risk->list_hits, in.list_hits, sizeof(in.list_hits));
		for (int k = 0; k < RISK_RULE_MAX_LISTS; k++)
			c->risk->builtin_any = c->risk->builtin_any || c->risk->builtin_hits[k];
	}
	if (c->alias)
		c->vault_rc = vault_alias_reveal(c->alias, reveal_fn, c->rc);
	else
		c->vault_rc = vault_card_reveal(
		    m->r->app->vault, db, m->r->merchant_id, m->pm.card_id,
		    c->rc->verify ? "verification" : "authorization", reveal_fn, c->rc, c->acc);
	return 0;
}

/* The acquirer's answer for the operators' metrics (metrics.h): what the cardholder's bank or
 * Radar said, and Radar's own decision when the model scored the payment. */
static void count_decision(const struct card_auth *out, const char *brand, bool scored)
{
	const struct processor_decision *d = &out->decision;
	bool blocked = d->outcome_type && strcmp(d->outcome_type, "blocked") == 0;
	const char *outcome = out->needs_3ds ? "requires_action"
			      : d->approved  ? "approved"
			      : blocked	     ? "blocked"
			      : d->outcome_type && strcmp(d->outcome_type, "invalid") == 0
				  ? "error"
				  : "declined";
	metrics_authorization(brand, outcome,
			      d->approved || out->needs_3ds ? NULL : d->decline_code);
	if (scored)
		metrics_fraud_decision(blocked ? "block" : out->needs_3ds ? "review" : "allow");
}

static int card_check(struct req *r, const char *pm_ref, const char *param, int64_t amount,
		      const char *currency, const char *customer, const char *receipt_email,
		      bool authenticated, bool off_session, bool check_minimum, bool verify,
		      struct card_auth *out)
{
	memset(out, 0, sizeof(*out));
	if (r->account_rejected && !verify)
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"Your account cannot currently make charges: its platform rejected "
				"it.");
	struct materialize_ctx m = {.r = r, .ref = pm_ref};
	bool loaded = false;
	const char *alias = NULL, *token = NULL;
	if (vault_is_test_alias(pm_ref)) {
		/* Stripe's test aliases: the card's facts are known without storing anything; the
		 * PaymentMethod is stored by the payment's own transaction (payments_card_commit),
		 * so a confirm with pm_card_visa costs one durable commit, not two. */
		struct vault_card_info info;
		char fp[24];
		if (vault_alias_info(r->app->vault, r->merchant_id, pm_ref, r->now, &info, fp) != 0)
			return req_fail(r, ERR_RESOURCE_MISSING, param,
					"No such PaymentMethod: '%s'", ref_shown(pm_ref));
		memset(&m.pm, 0, sizeof(m.pm));
		str_copy(m.pm.brand, sizeof(m.pm.brand), info.brand);
		str_copy(m.pm.last4, sizeof(m.pm.last4), info.last4);
		str_copy(m.pm.funding, sizeof(m.pm.funding), info.funding);
		str_copy(m.pm.country, sizeof(m.pm.country), info.country);
		str_copy(m.pm.fingerprint, sizeof(m.pm.fingerprint), fp);
		str_copy(m.pm.bin, sizeof(m.pm.bin), info.iin);
		m.pm.exp_month = info.exp_month;
		m.pm.exp_year = info.exp_year;
		m.pm.cvc_provided = info.cvc_provided;
		alias = pm_ref;
		loaded = true;
	} else if (strncmp(pm_ref, "tok_", 4) == 0) {
		/* A single-use token is read here and used up by the payment's own write
		 * (payments_card_commit), like an alias: were it used up by a write of its own, a
		 * crash (or a failed payment write) between the two would leave it used with no
		 * payment, and the client's retry with the same Idempotency-Key would be refused
		 * with token_already_used. */
		token = pm_ref;
	}
	struct vault_access *acc = arena_zalloc(&r->arena, sizeof(*acc));
	if (!acc)
		return req_fail(r, ERR_API, NULL, NULL);
	enum acq_behavior behavior = ACQ_SUCCEED;
	struct risk_ctx risk;
	memset(&risk, 0, sizeof(risk));
	char customer_email[CUSTOMER_EMAIL_MAX]; /* written only when read (read_card_fn) */
	customer_email[0] = '\0';
	risk.customer_email = customer_email;
	risk.email = receipt_email && *receipt_email ? receipt_email : NULL;
	struct reveal_ctx rc = {.amount = amount,
				.currency = currency,
				.now = r->now,
				.decision = &out->decision,
				.behavior = &behavior,
				.risk = &risk,
				.authenticated = authenticated,
				.needs_3ds = &out->needs_3ds,
				.verify = verify,
				.off_session = off_session};
	struct read_card_ctx rcc = {.m = &m,
				    .loaded = loaded,
				    .alias = alias,
				    .token = token,
				    .rc = &rc,
				    .risk = &risk,
				    .customer = customer,
				    .acc = acc,
				    .check_minimum = check_minimum,
				    .out = out};
	out->have_pricing = false;
	if (req_read(r, read_card_fn, &rcc) != 0)
		return -1;
	if (rcc.minimum_rc != 0)
		return -1;
	if (m.rc == DB_NOTFOUND)
		return req_fail(r, ERR_RESOURCE_MISSING, param, "No such PaymentMethod: '%s'",
				ref_shown(pm_ref));
	if (m.rc == PM_RC_DETACHED)
		return req_fail(r, ERR_PARAM_BAD, param, "%s", PM_DETACHED_MESSAGE);
	if (m.rc == PM_RC_REDIRECT)
		return req_fail(r, ERR_PARAM_BAD, param,
				"The PaymentMethod %s (%s) pays through a PaymentIntent with "
				"payment_method_types including %s, confirmed with a return_url.",
				m.ref, m.pm.type, m.pm.type);
	if (m.rc == VAULT_ERR_TOKEN_USED)
		return req_fail(r, ERR_TOKEN_USED, param, "%s", pm_ref);
	if (m.rc != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	if (rcc.vault_rc == 0) {
		if (r->app->risk && risk.have_features) {
			float v[RISK_FEATURE_COUNT];
			risk_features_to_vector(&risk.f, v, RISK_FEATURE_COUNT);
			int64_t t0 = clock_mono_ns();
			if (risk_score_batched(r->app->risk, v, &risk.p) == 0)
				risk.scored = true;
			metrics_fraud_score(clock_mono_ns() - t0);
		}
		billing_address_given(m.billing_details, &rc.card);
		decide(&rc);
		/* a reader's card: the amounts Stripe's Terminal testing guide declines */
		const char *tdc = !verify && strcmp(m.pm.type, "card_present") == 0
				      ? terminal_test_amount_decline(amount)
				      : NULL;
		if (tdc && out->decision.approved && !out->needs_3ds)
			terminal_decline(&out->decision, tdc);
	} else {
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
	if (alias)
		acc = NULL; /* nothing was decrypted */
	out->alias = alias;
	out->token = token;
	out->param = param;
	out->access = acc;
	out->risk_probability = risk.scored ? risk.p : -1;
	count_decision(out, m.pm.brand, risk.scored);
	if (!verify && out->decision.approved && !out->needs_3ds)
		metrics_payment_approved(currency, amount);
	str_copy(out->pm_id, sizeof(out->pm_id), m.pm.id);
	str_copy(out->customer, sizeof(out->customer), m.pm.customer);
	struct payment_card *c = &out->card;
	c->payment_method = arena_strdup(&r->arena, m.pm.id);
	c->brand = arena_strdup(&r->arena, m.pm.brand);
	c->last4 = arena_strdup(&r->arena, m.pm.last4);
	c->funding = arena_strdup(&r->arena, m.pm.funding);
	c->country = arena_strdup(&r->arena, m.pm.country);
	c->fingerprint = arena_strdup(&r->arena, m.pm.fingerprint);
	c->exp_month = m.pm.exp_month;
	c->exp_year = m.pm.exp_year;
	c->billing_details = m.billing_details;
	c->behavior = behavior;
	c->present = strcmp(m.pm.type, "card_present") == 0;
	return 0;
}

int payments_card_authorize(struct req *r, const char *pm_ref, const char *param, int64_t amount,
			    const char *currency, const char *customer, bool authenticated,
			    bool off_session, bool check_minimum, struct card_auth *out)
{
	return card_check(r, pm_ref, param, amount, currency, customer,
			  param_str(r, "receipt_email"), authenticated, off_session, check_minimum,
			  false, out);
}

int payments_card_authorize_email(struct req *r, const char *pm_ref, const char *param,
				  int64_t amount, const char *currency, const char *customer,
				  const char *receipt_email, bool authenticated, bool off_session,
				  bool check_minimum, struct card_auth *out)
{
	return card_check(r, pm_ref, param, amount, currency, customer, receipt_email,
			  authenticated, off_session, check_minimum, false, out);
}

int payments_card_verify(struct req *r, const char *pm_ref, const char *param, const char *customer,
			 bool authenticated, struct card_auth *out)
{
	/* Radar's features see a zero amount in the merchant's own terms */
	return card_check(r, pm_ref, param, 0, "usd", customer, NULL, authenticated, false, false,
			  true, out);
}

int payments_card_choose_pm(struct req *r, struct card_auth *ca)
{
	if (!ca->alias && !ca->token)
		return 0;
	id_new_at(ca->pm_id, "pm_", r->now);
	ca->card.payment_method = arena_strdup(&r->arena, ca->pm_id);
	if (!ca->card.payment_method)
		return req_fail(r, ERR_API, NULL, NULL);
	ca->pm_id_chosen = true;
	return 0;
}

int payments_card_commit(struct req *r, struct db *db, struct card_auth *ca)
{
	const char *ref = ca->alias ? ca->alias : ca->token;
	/* the PaymentMethod's card.checks show what the issuer answered, once it was asked: a
	 * PaymentMethod made here stores them in its insert, an existing one by an update */
	const struct processor_decision *d = &ca->decision;
	const struct pm_checks checks = {d->cvc_check, d->address_line1_check,
					 d->address_postal_code_check};
	bool checks_stored = false;
	if (ref) { /* once per transaction attempt: a retried attempt stores it again */
		struct pm_card pm;
		int rc;
		if (ca->pm_billing_details || ca->pm_metadata) {
			/* a ConfirmationToken's card: its billing details go on it */
			memset(&pm, 0, sizeof(pm));
			if (ca->pm_id_chosen)
				str_copy(pm.id, sizeof(pm.id), ca->pm_id);
			else
				id_new_at(pm.id, "pm_", r->now);
			rc = pm_create_from_ref(db, r->app->vault, r->merchant_id, ref, pm.id,
						ca->pm_billing_details, ca->pm_metadata, r->now);
		} else {
			rc = ca->pm_id_chosen
				 ? pm_materialize_as(db, r->app->vault, r->merchant_id, ref,
						     ca->pm_id, &checks, r->now, &pm)
				 : pm_materialize(db, r->app->vault, r->merchant_id, ref, &checks,
						  r->now, &pm);
			checks_stored = true;
		}
		/* another payment used the token since this one read it */
		if (rc == VAULT_ERR_TOKEN_USED)
			return req_fail(r, ERR_TOKEN_USED, ca->param, "%s", ref);
		if (rc != 0)
			return req_fail(r, ERR_API, NULL, NULL);
		str_copy(ca->pm_id, sizeof(ca->pm_id), pm.id);
		ca->card.payment_method = arena_strdup(&r->arena, pm.id);
		if (!ca->card.payment_method)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	if (!checks_stored && ca->pm_id[0] &&
	    pm_record_checks(db, r->merchant_id, ca->pm_id, checks.cvc, checks.line1,
			     checks.postal_code) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
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

int payments_pricing_for(struct req *r, struct db *db, const struct card_auth *ca,
			 struct ledger_pricing *ret, char cur[8])
{
	if (!ca->have_pricing)
		return payments_pricing(r, db, ret, cur);
	*ret = ca->pricing;
	str_copy(cur, 8, ca->pricing_currency);
	ret->settlement_currency = cur;
	return 0;
}

/* The event, made by this request; its id in ret_id when not NULL. */
static int append_event(struct req *r, struct db *db, const char *type, const char *object_id,
			const char *json, size_t len, const struct buf *packed, const char *prev,
			char *ret_id)
{
	/* a change Tender made by itself (an internal request: req_internal_init) has none */
	struct event_origin o = {r->request_id[0] ? r->request_id : NULL, r->idempotency_key,
				 r->livemode};
	if (event_append_packed(db, r->merchant_id, &o, type, object_id, json, len, packed, prev,
				r->now, ret_id) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

int payments_event(struct req *r, struct db *db, const char *type, const char *object_id,
		   const char *json, size_t len, const char *prev)
{
	return append_event(r, db, type, object_id, json, len, NULL, prev, NULL);
}

int payments_event_packed(struct req *r, struct db *db, const char *type, const char *object_id,
			  const char *json, size_t len, const struct buf *packed)
{
	return append_event(r, db, type, object_id, json, len, packed, NULL, NULL);
}

int payments_event_answer(struct req *r, struct db *db, const char *type, const char *object_id,
			  const char *json, size_t len, const struct buf *packed)
{
	char id[ID_MAX];
	if (append_event(r, db, type, object_id, json, len, packed, NULL, id) != 0)
		return -1;
	return req_answer_event(r, id, json, len);
}

void payments_pack(struct req *r, const char *json, size_t len, struct buf *out)
{
	buf_reset(out);
	if (!json || !event_packs(store_kind(r->app->store)))
		return;
	if (event_pack(json, len, out) != 0)
		buf_reset(out);
}

/* ---- payment_method_types ---- */

int pm_types_param(struct req *r, const char *param, const char *shown, unsigned allowed,
		   const char *who, bool empty_ok, unsigned *set)
{
	if (!param_present(r, param))
		return 0;
	const struct form_node *n = param_node(r, param);
	const char *one = param_str(r, param);
	if (empty_ok && (!n || (one && !*one))) {
		*set = 0;
		return 1;
	}
	char names[160];
	unsigned got = 0;
	int count = 0;
	for (const struct form_node *x = n && n->kind != FORM_SCALAR ? n->first_child : n; x;
	     x = n->kind == FORM_SCALAR ? NULL : x->next) {
		if (++count > 8)
			return req_fail(r, ERR_PARAM_BAD, shown, "Too many payment method types.");
		unsigned bit = pm_type_bit(x->value);
		if (!bit || !(bit & allowed))
			return req_fail(r, ERR_PARAM_BAD, shown,
					"The payment method type \"%s\" is invalid. %s: %s.",
					x->value ? x->value : "", who,
					pm_types_list(allowed, names, sizeof(names)));
		got |= bit;
	}
	*set = got;
	return 1;
}

int pm_types_check_currency(struct req *r, unsigned set, const char *currency, const char *shown)
{
	for (unsigned b = 1; b <= set && b && currency; b <<= 1) {
		if (!(set & b) || pm_type_takes_currency(b, currency))
			continue;
		/* the type's list, as Stripe names it in the message ("usd, cad") */
		char list[128];
		size_t used = 0;
		list[0] = '\0';
		for (const char *const *c = pm_type_currencies(b); c && *c; c++) {
			int w = snprintf(list + used, sizeof(list) - used, "%s%s", used ? ", " : "",
					 *c);
			if (w < 0 || (size_t)w >= sizeof(list) - used)
				break;
			used += (size_t)w;
		}
		return req_fail(r, ERR_PARAM_BAD, shown,
				"The currency provided (%s) is invalid. Payments with %s "
				"support the following currencies: %s.",
				currency, pm_type_name(b), list);
	}
	return 0;
}

int pm_types_check_manual(struct req *r, unsigned set, const char *capture_method,
			  const char *param, bool any_type)
{
	if (!capture_method || strcmp(capture_method, "manual") != 0)
		return 0;
	unsigned refusing = 0, taking = 0;
	for (unsigned b = 1; b <= set; b <<= 1)
		if (set & b)
			*(pm_type_manual_capture(b) ? &taking : &refusing) |= b;
	if (!refusing || (!any_type && taking))
		return 0;
	unsigned first = refusing & (~refusing + 1u); /* its lowest bit */
	return req_fail(r, ERR_PARAM_BAD, param,
			"The payment method type %s does not support capture_method=manual.",
			pm_type_name(first));
}

const char *pm_types_arena_json(struct req *r, unsigned set)
{
	char buf[160];
	const char *json = pm_types_json(set, buf, sizeof(buf));
	char *out = json ? arena_strdup(&r->arena, json) : NULL;
	if (!out)
		req_fail(r, ERR_API, NULL, NULL);
	return out;
}

int apm_param(struct req *r, const char **allow_redirects)
{
	*allow_redirects = NULL;
	if (!param_present(r, "automatic_payment_methods"))
		return 0;
	if (param_present(r, "payment_method_types"))
		return req_fail(r, ERR_PARAM_BAD, NULL,
				"You may only specify one of these parameters: "
				"automatic_payment_methods, payment_method_types.");
	bool enabled = false;
	param_bool(r, "automatic_payment_methods.enabled", &enabled);
	const char *ar = param_str(r, "automatic_payment_methods.allow_redirects");
	if (enabled)
		*allow_redirects = ar && strcmp(ar, "never") == 0 ? "never" : "always";
	return 1;
}

int apm_types(struct req *r, struct db *db, const char **pmc, const char **parent,
	      const char *allow_redirects, unsigned takes, const char *currency, bool manual,
	      const char *object, const char **json)
{
	unsigned on;
	char id[ID_MAX], par[ID_MAX];
	if (payment_method_configuration_types(r, db, *pmc, &on, id, par) != 0)
		return -1;
	bool redirects = !allow_redirects || strcmp(allow_redirects, "never") != 0;
	unsigned set = pm_types_automatic(on, takes, currency, manual, redirects);
	if (!set)
		return req_fail(r, ERR_PARAM_BAD, NULL,
				"No valid payment method types for this %s. Please ensure that "
				"you have activated payment method types compatible with your "
				"chosen currency in your payment method configuration.",
				object);
	*pmc = arena_strdup(&r->arena, id);
	*parent = par[0] ? arena_strdup(&r->arena, par) : NULL;
	*json = NULL;
	if (!*pmc || (par[0] && !*parent))
		return req_fail(r, ERR_API, NULL, NULL);
	if (set != PMT_CARD && !(*json = pm_types_arena_json(r, set)))
		return -1;
	return 0;
}

int apm_check_return_url(struct req *r, const char *allow_redirects, const char *return_url,
			 const char *object)
{
	if (!allow_redirects || strcmp(allow_redirects, "always") != 0 || return_url)
		return 0;
	return req_fail(
	    r, ERR_PARAM_BAD, NULL,
	    "A `return_url` must be specified because this %s is configured to "
	    "automatically accept the payment methods enabled in the Dashboard, some of "
	    "which may require a full page redirect to succeed. If you do not want to "
	    "accept redirect-based payment methods, set "
	    "`automatic_payment_methods[enabled]` to `true` and "
	    "`automatic_payment_methods[allow_redirects]` to `never` when creating Setup "
	    "Intents and Payment Intents.",
	    object);
}

int apm_check_redirect(struct req *r, const char *allow_redirects, const char *type,
		       const char *param)
{
	if (!allow_redirects || strcmp(allow_redirects, "never") != 0 ||
	    !(pm_type_bit(type) & PMT_REDIRECT))
		return 0;
	return req_fail(r, ERR_PARAM_BAD, param,
			"The PaymentMethod provided (%s) requires a redirect, which this intent "
			"does not allow: it was created with "
			"`automatic_payment_methods[allow_redirects]=never`. Confirm it with a "
			"PaymentMethod that needs no redirect, such as a card.",
			type ? type : "unknown");
}

int payments_confirm_begin(struct req *r, struct db *db, const struct payment_intent *pi,
			   bool insert_first, const char *created_json, size_t created_len)
{
	if (insert_first)
		return payments_event(r, db, "payment_intent.created", pi->id, created_json,
				      created_len, NULL);
	struct payment_intent cur;
	if (pi_load(db, &r->arena, r->merchant_id, pi->id, &cur) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (cur.version != pi->version)
		return req_fail(
		    r, ERR_PAYMENT_INTENT_UNEXPECTED_STATE, NULL,
		    "You cannot confirm this PaymentIntent because it has a status of %s. "
		    "Only a PaymentIntent with one of the following statuses may be "
		    "confirmed: requires_payment_method, requires_confirmation, "
		    "requires_action.",
		    cur.status);
	return 0;
}

int payments_confirm_created(struct req *r, struct payment_intent *pi, const char **ret_json,
			     size_t *ret_len)
{
	pi->status = "requires_confirmation";
	*ret_json = pi_json(NULL, &r->arena, r->merchant_id, r->livemode, pi, ret_len);
	return *ret_json ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

int payments_pm_check_owned(struct req *r, struct db *db, const char *pm, const char *param)
{
	/* a token is read (and used up) by the confirmation, from this merchant's vault */
	if (!pm || vault_is_test_alias(pm) || strncmp(pm, "tok_", 4) == 0)
		return 0;
	int rc;
	if (source_api_id(pm)) {
		/* the confirmation checks the source it is given; until then the intent must not
		 * hold (nor show) another merchant's */
		rc = source_api_exists(db, r->merchant_id, pm);
	} else {
		/* a PaymentMethod, or a customer's card source (card_…), which is one too */
		struct pm_card card;
		rc = pm_load(db, r->merchant_id, pm, &card);
		/* a card source deleted from its customer no longer exists, as on Stripe */
		if (rc == DB_OK && card_source_id(pm) && !card.customer[0])
			rc = DB_NOTFOUND;
	}
	if (rc == DB_NOTFOUND)
		return req_fail(r, ERR_RESOURCE_MISSING, param, "No such PaymentMethod: '%s'", pm);
	return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

const struct param_spec radar_options_params[] = {
    {"session", PT_STRING, 0, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

int payments_radar_options_check(struct req *r)
{
	const char *session = param_str(r, "radar_options.session");
	if (!session)
		return 0;
	return req_fail(r, ERR_PARAM_RESOURCE_MISSING, "radar_options[session]",
			"No such radar session: '%s'", session);
}

int payments_client_secret_check(struct req *r, const char *own, const char *object)
{
	const char *given = param_str(r, "client_secret");
	if (!given)
		return r->publishable
			   ? req_fail(r, ERR_PARAM_MISSING, "client_secret", "%s", "client_secret")
			   : 0;
	size_t n = own ? strlen(own) : 0;
	unsigned char d = own && strlen(given) == n ? 0 : 1;
	for (size_t i = 0; own && d == 0 && i < n; i++)
		d |= (unsigned char)(given[i] ^ own[i]);
	if (d == 0)
		return 0;
	return req_fail(r, ERR_PARAM_BAD, "client_secret",
			"The client_secret provided does not match the client_secret associated "
			"with the %s.",
			object);
}

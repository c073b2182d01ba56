/*
 * /v1/charges: retrieve, list, update, and the older direct flow: POST /v1/charges with
 * source=tok_… (capture=false to authorize only) and POST /v1/charges/{id}/capture.
 *
 * A charge of a customer (customer=cus_…) pays with one of its card sources (api/sources.c):
 * source=card_… names one, else its default_source; a customer without one is Stripe's 402
 * "Cannot charge a customer that has no active card". With a customer, the source must be one
 * of its cards (a token is not, as on Stripe). The card pays through the same path as any
 * other (payments_card_authorize loads a card_… like a pm_…).
 *
 * A customer's verified bank account source (ba_…, api/bank_sources.c) pays by ACH debit, as
 * Stripe's legacy ACH does: the charge (py_…) is `pending` (charge.pending) and the scheduler
 * settles it as it settles a us_bank_account debit (payments/sepa.h, without a PaymentIntent):
 * succeeded (charge.succeeded, the sale in the ledger) or failed with the return code Stripe's
 * test account stands for (charge.failed). An unverified account is Stripe's 400.
 */
#include <stdio.h>
#include <string.h>

#include "api/bank_sources.h"
#include "api/common.h"
#include "core/str.h"
#include "api/list.h"
#include "api/payments_common.h"
#include "api/payments_connect.h"
#include "api/tokens.h"
#include "api/resources.h"
#include "api/search.h"
#include "api/sources.h"
#include "api/sources_api.h"
#include "app.h"
#include "money/fx.h"
#include "payments/connect.h"
#include "api/mandates.h"
#include "payments/sepa.h"
#include "vault/card_source.h"
#include "vault/iban.h"

static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

static const struct param_spec transfer_data_params[] = {
    {"destination", PT_STRING, PF_REQUIRED, 5000, NULL, NULL},
    {"amount", PT_INT, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
/* the legacy destination[account, amount] (or destination=acct_… alone) */
static const struct param_spec destination_params[] = {
    {"account", PT_STRING, PF_REQUIRED, 5000, NULL, NULL},
    {"amount", PT_INT, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec transfer_data_capture_params[] = {
    {"amount", PT_INT, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
/* the legacy card hash (or a token's id): the vault seals the number (tokens.h) */
static const struct param_spec card_params[] = {
    {"number", PT_STRING, 0, 64, NULL, NULL},
    {"exp_month", PT_STRING, 0, 4, NULL, NULL},
    {"exp_year", PT_STRING, 0, 4, NULL, NULL},
    {"cvc", PT_STRING, 0, 8, NULL, NULL},
    {"name", PT_STRING, 0, 200, NULL, NULL},
    {"address_line1", PT_STRING, 0, 200, NULL, NULL},
    {"address_line2", PT_STRING, 0, 200, NULL, NULL},
    {"address_city", PT_STRING, 0, 200, NULL, NULL},
    {"address_state", PT_STRING, 0, 200, NULL, NULL},
    {"address_zip", PT_STRING, 0, 20, NULL, NULL},
    {"address_country", PT_STRING, 0, 2, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"object", PT_ENUM, 0, 0, (const char *const[]){"card", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

static const struct param_spec create_params[] = {
    {"amount", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {"currency", PT_CURRENCY, PF_REQUIRED, 0, NULL, NULL},
    {"source", PT_STRING, 0, 255, NULL, NULL},
    {"card", PT_OBJECT, PF_SCALAR_OK, 255, NULL, card_params},
    {"customer", PT_STRING, 0, 255, NULL, NULL},
    {"capture", PT_BOOL, 0, 0, NULL, NULL},
    {"description", PT_STRING, PF_EMPTYABLE, 1000, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"receipt_email", PT_STRING, PF_EMPTYABLE, 800, NULL, NULL},
    {"statement_descriptor", PT_STRING, PF_EMPTYABLE, 22, NULL, NULL},
    {"statement_descriptor_suffix", PT_STRING, PF_EMPTYABLE, 22, NULL, NULL},
    {"shipping", PT_OBJECT, 0, 0, NULL, payment_shipping_params},
    {"application_fee_amount", PT_INT, 0, 0, NULL, NULL},
    {"application_fee", PT_INT, 0, 0, NULL, NULL},
    {"transfer_data", PT_OBJECT, 0, 0, NULL, transfer_data_params},
    {"destination", PT_OBJECT, PF_SCALAR_OK, 5000, NULL, destination_params},
    {"on_behalf_of", PT_STRING, 0, 5000, NULL, NULL},
    {"transfer_group", PT_STRING, 0, 5000, NULL, NULL},
    {"radar_options", PT_OBJECT, 0, 0, NULL, radar_options_params},
    {NULL, 0, 0, 0, NULL, NULL},
};

static const char *const user_reports[] = {"fraudulent", "safe", NULL};
static const struct param_spec fraud_details_params[] = {
    {"user_report", PT_ENUM, 0, 0, user_reports, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec update_params[] = {
    {"customer", PT_STRING, 0, 5000, NULL, NULL},
    {"description", PT_STRING, PF_EMPTYABLE, 1000, NULL, NULL},
    {"fraud_details", PT_OBJECT, 0, 0, NULL, fraud_details_params},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"receipt_email", PT_STRING, PF_EMPTYABLE, 800, NULL, NULL},
    {"shipping", PT_OBJECT, 0, 0, NULL, payment_shipping_params},
    {"transfer_group", PT_STRING, 0, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

static const struct param_spec capture_params[] = {
    {"amount", PT_INT, 0, 0, NULL, NULL},
    {"application_fee", PT_INT, 0, 0, NULL, NULL},
    {"application_fee_amount", PT_INT, 0, 0, NULL, NULL},
    {"receipt_email", PT_STRING, 0, 800, NULL, NULL},
    {"statement_descriptor", PT_STRING, 0, 22, NULL, NULL},
    {"statement_descriptor_suffix", PT_STRING, 0, 22, NULL, NULL},
    {"transfer_data", PT_OBJECT, 0, 0, NULL, transfer_data_capture_params},
    {"transfer_group", PT_STRING, 0, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

static const struct param_spec list_params[] = {
    {"customer", PT_STRING, 0, 255, NULL, NULL},
    {"payment_intent", PT_STRING, 0, 255, NULL, NULL},
    {"transfer_group", PT_STRING, 0, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

static int render_response(struct req *r, struct db *db, const struct charge *ch)
{
	struct expand_set ex;
	payments_expand_from_req(r, &ex, NULL);
	int rc = charge_render(db, &r->arena, r->merchant_id, r->livemode, ch, &ex, req_json(r));
	return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static int emit_charge(struct req *r, struct db *db, const struct charge *ch, const char *type,
		       const char *prev)
{
	size_t len = 0;
	const char *js = charge_json(db, &r->arena, r->merchant_id, r->livemode, ch, &len);
	if (!js)
		return req_fail(r, ERR_API, NULL, NULL);
	return payments_event(r, db, type, ch->id, js, len, prev);
}

struct id_ctx {
	struct req *r;
	const char *id;
	struct fx_table *fx; /* capture: the rates it converts with; NULL otherwise */
};

static int retrieve_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	struct req *r = x->r;
	struct charge ch;
	int rc = charge_load(db, &r->arena, r->merchant_id, x->id, &ch);
	/* a transfer's payment on the connected account (payments/connect.h); py_… is also a bank
	 * debit's id, so the charges table answers first */
	if (rc == DB_NOTFOUND && strncmp(x->id, "py_", 3) == 0)
		rc = destination_payment_load(db, &r->arena, r->merchant_id, x->id, &ch, NULL);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "charge", x->id, "id");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return render_response(r, db, &ch);
}

static int h_retrieve(struct req *r)
{
	struct id_ctx x = {r, r->args[0], NULL};
	return req_read(r, retrieve_fn, &x) == 0 ? 0 : -1;
}

static int update_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	struct req *r = x->r;
	struct charge ch;
	int rc = charge_load(db, &r->arena, r->merchant_id, x->id, &ch);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "charge", x->id, "id");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	const char *old_desc = ch.description;
	const char *old_meta = ch.metadata;
	const char *old_report = ch.user_report;
	const char *old_customer = ch.customer, *old_shipping = ch.shipping;
	const char *old_group = ch.connect.transfer_group;
	/* customer and transfer_group are set once, as on Stripe: the same value again is no
	 * change, another one a 400 */
	const char *customer = param_str(r, "customer");
	if (customer && ch.customer && strcmp(customer, ch.customer) != 0)
		return req_fail(r, ERR_PARAM_BAD, "customer",
				"The customer of a charge can only be set when it has none: "
				"charge %s belongs to customer %s.",
				ch.id, ch.customer);
	if (customer && !ch.customer) {
		if (customer_check(r, db, customer) != 0)
			return -1;
		ch.customer = customer;
	}
	const char *group = param_str(r, "transfer_group");
	if (group && ch.connect.transfer_group && strcmp(group, ch.connect.transfer_group) != 0)
		return req_fail(r, ERR_PARAM_BAD, "transfer_group",
				"transfer_group may only be provided if it has not been set: "
				"charge %s has transfer_group %s.",
				ch.id, ch.connect.transfer_group);
	if (group && *group && !ch.connect.transfer_group)
		ch.connect.transfer_group = group;
	if (param_present(r, "shipping") && shipping_from_params(r, "shipping", &ch.shipping) != 0)
		return -1;
	/* the merchant's own report (Stripe keeps it to learn from; Tender records it) */
	const char *report = param_str(r, "fraud_details.user_report");
	if (report && *report)
		ch.user_report = report;
	ch.description = str_update(r, "description", ch.description);
	ch.receipt_email = str_update(r, "receipt_email", ch.receipt_email);
	if (metadata_apply(r, ch.metadata, "metadata", &ch.metadata) != 0)
		return -1;
	if (charge_update(db, r->merchant_id, &ch) != DB_OK ||
	    charge_update_details(db, r->merchant_id, &ch) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	const char *prev = arena_printf(
	    &r->arena, "{\"description\":%s,\"fraud_details\":%s,\"metadata\":%s",
	    json_quote(r, old_desc),
	    old_report ? arena_printf(&r->arena, "{\"user_report\":%s}", json_quote(r, old_report))
		       : "{}",
	    old_meta ? old_meta : "{}");
	/* what else changed, as it was */
	if (prev && ch.customer != old_customer)
		prev = arena_printf(&r->arena, "%s,\"customer\":null", prev);
	if (prev && ch.shipping != old_shipping)
		prev = arena_printf(&r->arena, "%s,\"shipping\":%s", prev,
				    old_shipping ? old_shipping : "null");
	if (prev && ch.connect.transfer_group != old_group)
		prev = arena_printf(&r->arena, "%s,\"transfer_group\":null", prev);
	prev = prev ? arena_printf(&r->arena, "%s}", prev) : NULL;
	if (!prev)
		return req_fail(r, ERR_API, NULL, NULL);
	if (emit_charge(r, db, &ch, "charge.updated", prev) != 0)
		return -1;
	return render_response(r, db, &ch);
}

static int h_update(struct req *r)
{
	struct id_ctx x = {r, r->args[0], NULL};
	return req_write(r, update_fn, &x);
}

struct create_ctx {
	struct req *r;
	int64_t amount;
	char currency[8];
	bool capture;
	struct card_auth ca;
	const char *customer;
	const char *metadata;
	const char *shipping; /* JSON or NULL */
	struct fx_table *fx;  /* the rates a capture converts with (held across the write) */
	/* source=src_… (api/sources_api.c); src.set false otherwise */
	struct source_charge src;
	/* Connect: a destination charge or a direct charge's application fee, settled by the
	 * capture as a PaymentIntent's (payments/flow.c) */
	struct payment_connect connect;
};

static int create_fn(struct db *db, void *p)
{
	struct create_ctx *c = p;
	struct req *r = c->r;
	if (payments_card_commit(r, db, &c->ca) != 0)
		return -1;
	/* a src_… is still chargeable, and one that pays only once is consumed by paying */
	bool paid = c->ca.decision.approved && !c->ca.needs_3ds;
	if (source_api_charge_commit(r, db, &c->src, paid) != 0)
		return -1;
	struct ledger_pricing pricing;
	char cur[8];
	if (payments_pricing_for(r, db, &c->ca, &pricing, cur) != 0)
		return -1;
	pricing.fx = c->fx;
	const char *desc = param_str(r, "description");
	const char *email = param_str(r, "receipt_email");
	const char *sd = param_str(r, "statement_descriptor");
	/* the transfer and fee a capture makes name this request, as the charge's events do */
	struct event_origin origin = {r->request_id[0] ? r->request_id : NULL, r->idempotency_key,
				      r->livemode};
	struct attempt at = {
	    .merchant_id = r->merchant_id,
	    .amount = c->amount,
	    .currency = c->currency,
	    .customer = c->customer,
	    .description = desc && *desc ? desc : NULL,
	    .metadata = c->metadata,
	    .receipt_email = email && *email ? email : NULL,
	    .statement_descriptor = sd && *sd ? sd : NULL,
	    .shipping = c->shipping,
	    .capture = c->capture,
	    .now = r->now,
	    .card = &c->ca.card,
	    .decision = &c->ca.decision,
	    .pricing = &pricing,
	    .client_ip = r->client_ip[0] ? r->client_ip : NULL,
	    .three_d_secure = c->src.authenticated,
	    /* the 3-D Secure source stands for the authentication */
	    .three_d_secure_txn = c->src.authenticated ? c->src.id : NULL,
	    .connect = c->connect.destination || c->connect.application_fee_amount ||
			       c->connect.transfer_group || c->connect.on_behalf_of
			   ? &c->connect
			   : NULL,
	    .origin = &origin,
	};
	struct charge ch;
	if (payment_record_attempt(db, &r->arena, &at, &ch) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!c->ca.decision.approved) {
		if (emit_charge(r, db, &ch, "charge.failed", NULL) != 0)
			return -1;
		req_fail(r, c->ca.decision.err, NULL, NULL);
		snprintf(r->err.decline_code, sizeof(r->err.decline_code), "%s",
			 c->ca.decision.decline_code);
		str_copy(r->err.charge_id, sizeof(r->err.charge_id), ch.id);
		return REQ_COMMIT_ERR;
	}
	if (emit_charge(r, db, &ch, "charge.succeeded", NULL) != 0)
		return -1;
	return render_response(r, db, &ch);
}

struct customer_card_ctx {
	struct req *r;
	const char *customer, *source; /* source: a card_… the request named, or NULL */
	char card[ID_MAX];	       /* out: the card to charge */
};

/* The customer's card to charge: the one named (one of its sources), or its default_source. */
static int customer_card_fn(struct db *db, void *p)
{
	struct customer_card_ctx *x = p;
	struct req *r = x->r;
	if (customer_default_source(r, db, x->customer, "customer", x->card) != 0)
		return -1;
	if (!x->source) {
		if (!x->card[0])
			return req_fail(r, ERR_CUSTOMER_NO_CARD, "card", NULL);
		return 0;
	}
	int own = source_owned(r, db, x->customer, x->source);
	if (own < 0)
		return req_fail(r, ERR_API, NULL, NULL);
	if (own == 0)
		return req_fail(r, ERR_SOURCE_MISSING, "source",
				"Customer %s does not have a linked source with ID %s.",
				x->customer, x->source);
	str_copy(x->card, sizeof(x->card), x->source);
	return 0;
}

/* ---- a customer's bank account source: an ACH debit ---- */

struct ach_ctx {
	struct req *r;
	int64_t amount;
	const char *currency, *customer, *source, *metadata, *shipping;
};

/* What the bank answers a debit from an account whose test number returns with `failure`
 * (bank_sources.h), as the settlement job reads it (vault/iban.h) */
static int ach_behavior(const char *failure)
{
	static const struct {
		const char *code;
		int behavior;
	} map[] = {
	    {"no_account", BANK_NO_ACCOUNT},
	    {"account_closed", BANK_ACCOUNT_CLOSED},
	    {"insufficient_funds", SEPA_INSUFFICIENT_FUNDS},
	    {"debit_not_authorized", BANK_DEBIT_NOT_AUTHORIZED},
	    {"invalid_currency", BANK_INVALID_CURRENCY},
	    {BANK_SOURCE_DISPUTED, SEPA_DISPUTE},
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i].code, failure) == 0)
			return map[i].behavior;
	return SEPA_SUCCEED;
}

/* payment_method_details of a legacy ACH charge, as Stripe shows them */
static const char *ach_details(struct req *r, const struct bank_source *b)
{
	struct buf buf;
	struct json j;
	buf_init(&buf, 8192);
	json_init(&j, &buf);
	json_obj_open(&j);
	/* the key first: payments/sepa.c knows the column by its head */
	json_key(&j, "ach_debit");
	json_obj_open(&j);
	json_kv_str_or_null(&j, "account_holder_type", b->holder_type);
	json_kv_str_or_null(&j, "bank_name", b->bank_name);
	json_kv_str(&j, "country", b->country);
	json_kv_str(&j, "fingerprint", b->fingerprint);
	json_kv_str(&j, "last4", b->last4);
	json_kv_str_or_null(&j, "routing_number", b->routing_number[0] ? b->routing_number : NULL);
	json_obj_close(&j);
	json_kv_str(&j, "type", "ach_debit");
	json_obj_close(&j);
	const char *s = buf.failed ? NULL : arena_strndup(&r->arena, buf.data, buf.len);
	buf_release(&buf);
	return s;
}

static int ach_create_fn(struct db *db, void *p)
{
	struct ach_ctx *c = p;
	struct req *r = c->r;
	struct bank_source b;
	int rc = bank_source_load(db, &r->arena, r->merchant_id, c->source, &b);
	if (rc == DB_OK && (b.deleted || strcmp(b.customer, c->customer) != 0))
		rc = DB_NOTFOUND;
	if (rc == DB_NOTFOUND)
		return req_fail(r, ERR_SOURCE_MISSING, "source",
				"Customer %s does not have a linked source with ID %s.",
				c->customer, c->source);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (strcmp(b.status, "verified") != 0)
		return req_fail(
		    r, ERR_BANK_ACCOUNT_UNVERIFIED, "source",
		    "The customer's bank account must be verified in order to create an "
		    "ACH payment.");
	if (strcmp(c->currency, b.currency) != 0)
		return req_fail(r, ERR_PARAM_BAD, "currency",
				"ACH payments from bank account %s must be in %s.", b.id,
				b.currency);
	const char *desc = param_str(r, "description");
	const char *email = param_str(r, "receipt_email");
	const char *sd = param_str(r, "statement_descriptor");
	struct charge ch;
	memset(&ch, 0, sizeof(ch));
	/* Stripe names the charges of payment methods other than cards py_… */
	id_new_at(ch.id, "py_", r->now);
	ch.created = r->now;
	ch.amount = c->amount;
	str_copy(ch.currency, sizeof(ch.currency), c->currency);
	ch.status = "pending";
	ch.customer = c->customer;
	ch.payment_method = c->source;
	ch.description = desc && *desc ? desc : NULL;
	ch.metadata = c->metadata;
	ch.receipt_email = email && *email ? email : NULL;
	ch.statement_descriptor = sd && *sd ? sd : NULL;
	ch.shipping = c->shipping;
	ch.outcome = SEPA_OUTCOME_PENDING;
	ch.card = ach_details(r, &b);
	ch.fingerprint = b.fingerprint;
	ch.client_ip = r->client_ip[0] ? r->client_ip : NULL;
	if (!ch.card)
		return req_fail(r, ERR_API, NULL, NULL);
	if (charge_insert(db, r->merchant_id, &ch) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* the bank answers on the settlement job's next run; no intent ('') */
	if (sepa_debit_schedule(db, r->merchant_id, ch.id, "", ach_behavior(b.failure), r->now) !=
	    DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (emit_charge(r, db, &ch, "charge.pending", NULL) != 0)
		return -1;
	return render_response(r, db, &ch);
}

static int ach_create(struct req *r, struct create_ctx *cc, const char *source)
{
	if (!cc->capture)
		return req_fail(r, ERR_PARAM_BAD, "capture",
				"An ACH payment cannot be authorized and captured later: "
				"capture must be true.");
	struct ach_ctx c = {
	    .r = r,
	    .amount = cc->amount,
	    .currency = cc->currency,
	    .customer = cc->customer,
	    .source = source,
	    .metadata = cc->metadata,
	    .shipping = cc->shipping,
	};
	return req_write(r, ach_create_fn, &c);
}

/*
 * The Connect terms of POST /v1/charges, Stripe's and their legacy forms: transfer_data[
 * destination, amount] or the older destination=acct_… / destination[account, amount] (which
 * also makes the charge on_behalf_of that account, as Stripe documents), on_behalf_of,
 * application_fee_amount or the older application_fee, transfer_group. Checked as a
 * PaymentIntent's are (api/payments_connect.h): the same path settles them at capture.
 */
static int connect_from_params(struct req *r, struct create_ctx *c)
{
	struct payment_connect *k = &c->connect;
	struct connect_params p = {"charge", "transfer_data[destination]", "application_fee_amount",
				   "transfer_data[amount]"};
	if (param_present(r, "destination")) {
		if (param_present(r, "transfer_data"))
			return req_fail(r, ERR_PARAM_BAD, "destination",
					"You may only specify one of these parameters: "
					"destination, transfer_data.");
		k->destination = param_str(r, "destination");
		p.destination_param = "destination";
		if (!k->destination) {
			k->destination = param_str(r, "destination.account");
			p.destination_param = "destination[account]";
			param_int(r, "destination.amount", &k->transfer_amount);
			p.transfer_amount_param = "destination[amount]";
		}
		if (!k->destination || !*k->destination)
			return req_fail(r, ERR_PARAM_MISSING, p.destination_param, "%s",
					p.destination_param);
		k->on_behalf_of = k->destination;
	} else {
		k->destination = param_str(r, "transfer_data.destination");
		param_int(r, "transfer_data.amount", &k->transfer_amount);
	}
	const char *obo = param_str(r, "on_behalf_of");
	if (obo && *obo) {
		if (k->on_behalf_of && strcmp(obo, k->on_behalf_of) != 0)
			return req_fail(r, ERR_PARAM_BAD, "on_behalf_of",
					"A charge with destination %s is made on behalf of that "
					"account: on_behalf_of cannot name another.",
					k->on_behalf_of);
		k->on_behalf_of = obo;
	}
	if (param_present(r, "application_fee")) {
		if (param_present(r, "application_fee_amount"))
			return req_fail(r, ERR_PARAM_BAD, "application_fee",
					"You may only specify one of these parameters: "
					"application_fee, application_fee_amount.");
		p.fee_param = "application_fee";
	}
	param_int(r, p.fee_param, &k->application_fee_amount);
	const char *group = param_str(r, "transfer_group");
	if (group && *group)
		k->transfer_group = group;
	if (payments_connect_check_terms(r, k, c->amount, &p) != 0)
		return -1;
	return payments_connect_check_accounts(r, k, c->currency, &p);
}

/* Whether c names a destination, an application fee or on_behalf_of: what a payment that is
 * not a card's (an ACH debit) cannot carry in Tender. */
static const char *connect_param_named(const struct req *r)
{
	static const char *const names[] = {"destination",     "transfer_data",
					    "on_behalf_of",    "application_fee_amount",
					    "application_fee", NULL};
	for (const char *const *n = names; *n; n++)
		if (param_present(r, *n))
			return *n;
	return NULL;
}

static int h_create(struct req *r)
{
	struct create_ctx c;
	memset(&c, 0, sizeof(c));
	c.r = r;
	param_int(r, "amount", &c.amount);
	if (payments_check_amount(r, c.amount, "currency", c.currency, "amount") != 0 ||
	    payments_check_minimum(r, c.amount, c.currency, "currency", "amount") != 0)
		return -1;
	c.capture = true;
	param_bool(r, "capture", &c.capture);
	if (shipping_from_params(r, "shipping", &c.shipping) != 0)
		return -1;
	if (payments_radar_options_check(r) != 0)
		return -1;
	const char *source = param_str(r, "source");
	if (param_present(r, "card")) {
		if (param_present(r, "source"))
			return req_fail(r, ERR_PARAM_BAD, "card",
					"You may only specify one of these parameters: card, "
					"source.");
		/* card=tok_… is the token itself; a card hash is sealed into one first (below) */
		source = param_str(r, "card");
	}
	bool card_hash = param_present(r, "card") && !source;
	const char *customer = param_str(r, "customer");
	c.customer = customer && *customer ? customer : NULL;
	if (card_hash && c.customer)
		return req_fail(r, ERR_PARAM_BAD, "card",
				"A customer's charge pays with one of its sources: add the card to "
				"customer %s first (POST /v1/customers/%s/sources).",
				c.customer, c.customer);
	struct customer_card_ctx cc = {.r = r, .customer = c.customer};
	if (c.customer) {
		cc.source = source && *source ? source : NULL;
		if (req_read(r, customer_card_fn, &cc) != 0)
			return -1;
		source = cc.card;
	} else if (card_hash) {
		source = NULL;
	} else if (!source || !*source) {
		return req_fail(r, ERR_PARAM_MISSING, "source", "%s", "source");
	} else if (card_source_id(source) || bank_source_id(source)) {
		return req_fail(r, ERR_PARAM_BAD, "source",
				"The %s %s belongs to a customer: pass that customer too "
				"(customer=cus_…).",
				bank_source_id(source) ? "bank account" : "card", source);
	}
	c.metadata = "{}";
	if (metadata_apply(r, NULL, "metadata", &c.metadata) != 0)
		return -1;
	if (connect_from_params(r, &c) != 0)
		return -1;
	if (c.customer && bank_source_id(source)) {
		const char *named = connect_param_named(r);
		if (named)
			return req_fail(r, ERR_PARAM_BAD, named,
					"Tender does not make ACH debits with Connect: %s needs a "
					"card payment.",
					named);
		return ach_create(r, &c, source);
	}
	/* everything else checked: only now is the card hash's number sealed, into a token the
	 * payment then uses up (nothing is kept of a request refused before this) */
	char token[ID_MAX];
	if (card_hash) {
		if (tokens_create_for_payment(r, token) != 0)
			return -1;
		source = token;
	}
	/* a bank debit (SEPA, ACH) pays through a PaymentIntent (api/mandates.c), never here */
	int sepa = sepa_pm_is_sepa(r, source);
	if (sepa != 0) {
		const char *type = sepa == 2 ? "us_bank_account" : "sepa_debit";
		return sepa < 0 ? -1
				: req_fail(r, ERR_PARAM_BAD, "source",
					   "A %s PaymentMethod pays through a PaymentIntent with "
					   "payment_method_types including %s.",
					   type, type);
	}
	/* a source of the Sources API pays with its card (a 3-D Secure source's card source's,
	 * authenticated), and the charge names the source */
	if (source_api_id(source) &&
	    source_api_charge_prepare(r, source, c.customer, c.amount, c.currency, &c.src) != 0)
		return -1;
	if (payments_card_authorize(
		r, c.src.set ? c.src.card : source, param_present(r, "card") ? "card" : "source",
		c.amount, c.currency, c.customer, c.src.authenticated, false, false, &c.ca) != 0)
		return -1;
	if (c.src.set)
		c.ca.card.payment_method = c.src.id;
	if (c.ca.needs_3ds) {
		/* charges cannot ask for 3-D Secure (Stripe: use PaymentIntents) */
		struct processor_decision *d = &c.ca.decision;
		d->approved = false;
		d->err = ERR_AUTHENTICATION_REQUIRED;
		str_copy(d->decline_code, sizeof(d->decline_code), "authentication_required");
		d->network_status = "declined_by_network";
		d->outcome_type = "issuer_declined";
		d->reason = "authentication_required";
		d->seller_message = "The card requires authentication.";
	}
	c.fx = app_fx_acquire(r->app);
	int rc = req_write(r, create_fn, &c);
	fx_table_free(c.fx);
	return rc;
}

static int capture_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	struct req *r = x->r;
	struct charge ch;
	int rc = charge_load(db, &r->arena, r->merchant_id, x->id, &ch);
	/* a transfer's payment arrives captured, as on Stripe: the same 400 as any captured
	 * charge's, and nothing is written */
	if (rc == DB_NOTFOUND && strncmp(x->id, "py_", 3) == 0)
		rc = destination_payment_load(db, &r->arena, r->merchant_id, x->id, &ch, NULL);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "charge", x->id, "id");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (ch.captured)
		return req_fail(r, ERR_CHARGE_ALREADY_CAPTURED, NULL,
				"Charge %s has already been captured.", ch.id);
	if (strcmp(ch.status, "succeeded") != 0)
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"Charge %s cannot be captured because it has a status of %s.",
				ch.id, ch.status);
	struct payment_intent pi;
	bool has_pi = ch.payment_intent != NULL;
	if (has_pi) {
		if (pi_load(db, &r->arena, r->merchant_id, ch.payment_intent, &pi) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (strcmp(pi.status, "requires_capture") != 0)
			return req_fail(r, ERR_PAYMENT_INTENT_UNEXPECTED_STATE, NULL,
					"This charge's PaymentIntent has a status of %s.",
					pi.status);
	}
	int64_t amount = ch.amount;
	if (param_int(r, "amount", &amount) == 1 && (amount <= 0 || amount > ch.amount))
		return req_fail(r, ERR_AMOUNT_TOO_LARGE, "amount",
				"The amount to capture must be between 1 and %lld.",
				(long long)ch.amount);
	struct ledger_pricing pricing;
	char cur[8];
	if (payments_pricing(r, db, &pricing, cur) != 0)
		return -1;
	pricing.fx = x->fx;
	const char *email = param_str(r, "receipt_email");
	if (email && *email)
		ch.receipt_email = email;
	/* the capture's own Connect terms (application_fee(_amount), transfer_data[amount]) are
	 * what it settles; transfer_group only where none was set (Stripe's rule) */
	if (payments_connect_at_capture(r, &ch.connect, ch.amount, true, "charge") != 0)
		return -1;
	const char *group = param_str(r, "transfer_group");
	if (group && *group) {
		if (ch.connect.transfer_group && strcmp(ch.connect.transfer_group, group) != 0)
			return req_fail(r, ERR_PARAM_BAD, "transfer_group",
					"transfer_group may only be provided if it has not been "
					"set: charge %s has transfer_group %s.",
					ch.id, ch.connect.transfer_group);
		ch.connect.transfer_group = group;
	}
	const char *sd = param_str(r, "statement_descriptor");
	const char *sds = param_str(r, "statement_descriptor_suffix");
	if (sd && *sd)
		ch.statement_descriptor = sd;
	if (sds && *sds)
		ch.statement_descriptor_suffix = sds;
	/* the intent shows the terms its charge settled */
	if (has_pi &&
	    (param_present(r, "application_fee_amount") || param_present(r, "application_fee") ||
	     param_present(r, "transfer_data") || (group && *group)))
		pi.connect = ch.connect;
	struct event_origin origin = {r->request_id, r->idempotency_key, r->livemode};
	rc = payment_capture(db, &r->arena, r->merchant_id, &ch, amount, &pricing, r->now, &origin);
	if (rc == DB_CONFLICT)
		return req_fail(r, ERR_CHARGE_ALREADY_CAPTURED, NULL,
				"Charge %s has already been captured.", ch.id);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if ((sd || sds) && charge_update_details(db, r->merchant_id, &ch) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* the rest, released, is refunded as Stripe shows it */
	if (ch.amount_released > 0 && refund_for_release(r, db, &ch, ch.amount_released) != 0)
		return -1;
	if (emit_charge(r, db, &ch, "charge.captured", NULL) != 0)
		return -1;
	if (has_pi) {
		pi.status = "succeeded";
		pi.amount_received = amount;
		pi.amount_capturable = 0;
		if (pi_update(db, r->merchant_id, &pi) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		size_t len = 0;
		const char *js = pi_json(db, &r->arena, r->merchant_id, r->livemode, &pi, &len);
		if (!js || payments_event(r, db, "payment_intent.succeeded", pi.id, js, len, NULL))
			return req_fail(r, ERR_API, NULL, NULL);
	}
	return render_response(r, db, &ch);
}

static int h_capture(struct req *r)
{
	struct id_ctx x = {r, r->args[0], app_fx_acquire(r->app)};
	int rc = req_write(r, capture_fn, &x);
	fx_table_free(x.fx);
	return rc;
}

/*
 * A charge's id is ch_… (a card's) or py_… (a bank debit's, as Stripe names the charges of
 * payment methods other than cards); both bodies come from id_new_at, so the body after the
 * three-character prefix orders every charge by (created, creation). Lists and searches page by
 * the key 'ch_' || body (keyed lists, list.h): each of the two prefixes' ranges is walked on the
 * primary key with the page's limit, and the two are merged by that key.
 */
static const char SQL_CURSOR[] =
    "SELECT 'ch_' || substr(id, 4) FROM charges WHERE merchant_id = $1 AND id = $2";
/* the ids of the charges of both prefixes in ($2, $3) (ch_ bounds), ordered by key in DIR */
#define CHARGES_BOTH(FILTER, DIR)                                                                  \
	"SELECT id FROM (SELECT 'ch_' || substr(id, 4) AS k, id FROM (SELECT id FROM charges"      \
	" WHERE merchant_id = $1 AND id > $2 AND id < $3" FILTER " ORDER BY id " DIR " LIMIT $4)"  \
	" AS c UNION ALL SELECT 'ch_' || substr(id, 4) AS k, id FROM (SELECT id FROM charges"      \
	" WHERE merchant_id = $1 AND id > 'py_' || substr($2, 4) AND id < 'py_' || substr($3, "    \
	"4)" FILTER " ORDER BY id " DIR " LIMIT $4) AS p) AS u ORDER BY k " DIR " LIMIT $4"
/* transfer_group lives in the charge's connect JSON (payment_connect_encode): $7 is the exact
 * member `"transfer_group":"<value>"` written by the same encoder, found with replace() (the
 * one case-sensitive substring test both engines share; LIKE ignores case on SQLite). The
 * encoded value ends at its first unescaped quote, so only that exact value matches. */
#define LIST_FILTER(CUSTOMER)                                                                      \
	" AND " CUSTOMER " AND ($6 IS NULL OR payment_intent = $6)"                                \
	" AND ($7 IS NULL OR (connect IS NOT NULL AND replace(connect, $7, '') <> connect))"
static const char SQL_DESC[] = CHARGES_BOTH(LIST_FILTER("($5 IS NULL OR customer = $5)"), "DESC");
static const char SQL_ASC[] = CHARGES_BOTH(LIST_FILTER("($5 IS NULL OR customer = $5)"), "ASC");
/* a customer's charges, from charges_customer (list.h, list_narrow). payment_intent has no
 * index of its own (migration 0013 dropped it: every payment paid for it). */
static const char SQL_CUSTOMER_DESC[] = CHARGES_BOTH(LIST_FILTER("customer = $5"), "DESC");
static const char SQL_CUSTOMER_ASC[] = CHARGES_BOTH(LIST_FILTER("customer = $5"), "ASC");

static int list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	list_bind_filter(r, st, first, "customer");
	list_bind_filter(r, st, first + 1, "payment_intent");
	const char *tg = param_str(r, "transfer_group");
	if (!tg || !*tg)
		return db_bind_null(st, first + 2) == DB_OK ? 0 : -1;
	struct buf b;
	buf_init(&b, 16384);
	struct json j;
	json_init(&j, &b);
	json_obj_open(&j);
	json_kv_str(&j, "transfer_group", tg);
	buf_cstr(&b);
	/* past the object's '{': the member as the charge's JSON has it */
	int rc = b.failed ? -1 : db_bind_text(st, first + 2, b.data + 1, -1) == DB_OK ? 0 : -1;
	buf_release(&b);
	return rc;
}

static int list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	struct expand_set ex;
	payments_expand_from_req(r, &ex, "data");
	return charge_render_by_id(db, &r->arena, r->merchant_id, r->livemode, id, &ex, j);
}

static int h_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/charges",
	    .object_name = "charge",
	    .id_prefix = "ch_",
	    .keyed = true,
	    .sql_cursor = SQL_CURSOR,
	    .sql_desc = SQL_DESC,
	    .sql_asc = SQL_ASC,
	    .narrow = {{"customer", SQL_CUSTOMER_DESC, SQL_CUSTOMER_ASC}},
	    .bind_filters = list_bind,
	    .render = list_render,
	};
	return list_respond(r, &spec);
}

/* Stripe's search fields for charges: amount, billing_details.address.postal_code, created,
 * currency, customer, disputed, metadata, payment_method_details.card.{brand, exp_month,
 * exp_year, fingerprint, last4}, refunded (in full, what was released uncaptured counted as
 * Stripe counts it: payments.h), status. The card's details and the billing
 * details are JSON objects read by path (the card's packed on SQLite); an exact customer narrows
 * the scan to that customer's charges. Column 0 is the charge's list key (above), the id is
 * column 12. */
#define SEARCH_COLS                                                                                \
	"id, amount, created, currency, customer, disputed, metadata,"                             \
	" CASE WHEN amount > 0 AND amount_refunded + amount_released = amount"                     \
	" THEN 1 ELSE 0 END AS refunded_all, status, card, billing_details, fingerprint"
/* CUSTOMER: the prefilter's term; the narrow scan's (search.h) is the plain `customer = $5` */
#define SQL_SEARCH_OF(CUSTOMER)                                                                    \
	"SELECT k, amount, created, currency, customer, disputed, metadata, refunded_all, status," \
	" card, billing_details, fingerprint, id FROM (SELECT * FROM (SELECT"                      \
	" 'ch_' || substr(id, 4) AS k, " SEARCH_COLS " FROM charges WHERE merchant_id = $1"        \
	" AND id > $2 AND id < $3 AND " CUSTOMER " ORDER BY id DESC LIMIT $4)"                     \
	" AS c UNION ALL SELECT * FROM (SELECT 'ch_' || substr(id, 4) AS k, " SEARCH_COLS          \
	" FROM charges WHERE merchant_id = $1 AND id > 'py_' || substr($2, 4)"                     \
	" AND id < 'py_' || substr($3, 4) AND " CUSTOMER " ORDER BY id DESC"                       \
	" LIMIT $4) AS p) AS u ORDER BY k DESC LIMIT $4"
static const char SQL_SEARCH[] = SQL_SEARCH_OF("($5 IS NULL OR customer = $5)");
static const char SQL_SEARCH_CUSTOMER[] = SQL_SEARCH_OF("customer = $5");

static const struct search_field search_fields[] = {
    {"amount", SEARCH_NUMBER, false, 1, NULL},
    {"billing_details.address.postal_code", SEARCH_STRING, false, 10, "address.postal_code"},
    {"created", SEARCH_NUMBER, false, 2, NULL},
    {"currency", SEARCH_STRING, false, 3, NULL},
    {"customer", SEARCH_STRING, false, 4, NULL},
    {"disputed", SEARCH_BOOL, false, 5, NULL},
    {"metadata", SEARCH_METADATA, false, 6, NULL},
    {"payment_method_details.card.brand", SEARCH_STRING, false, 9, "brand"},
    {"payment_method_details.card.exp_month", SEARCH_NUMBER, false, 9, "exp_month"},
    {"payment_method_details.card.exp_year", SEARCH_NUMBER, false, 9, "exp_year"},
    {"payment_method_details.card.fingerprint", SEARCH_STRING, false, 11, NULL},
    {"payment_method_details.card.last4", SEARCH_STRING, false, 9, "last4"},
    {"refunded", SEARCH_BOOL, false, 7, NULL},
    {"status", SEARCH_STRING, false, 8, NULL},
    {NULL, 0, false, 0, NULL},
};

static int search_render(struct req *r, struct db *db, const char *id, struct json *j)
{
	return list_render(r, db, id, j, NULL);
}

static int h_search(struct req *r)
{
	static const struct search_spec spec = {
	    .url = "/v1/charges/search",
	    .resource = "charges",
	    .id_prefix = "ch_",
	    .fields = search_fields,
	    .sql_scan = SQL_SEARCH,
	    .sql_scan_narrow = SQL_SEARCH_CUSTOMER,
	    .prefilter = "customer",
	    .render = search_render,
	    .id_col = 12,
	};
	return search_respond(r, &spec);
}

const struct route charges_routes[] = {
    {"POST", "/v1/charges", h_create, create_params, 0},
    {"GET", "/v1/charges", h_list, list_params, ROUTE_LIST},
    {"GET", "/v1/charges/search", h_search, search_params, 0},
    {"GET", "/v1/charges/{id}", h_retrieve, no_params, 0},
    {"POST", "/v1/charges/{id}", h_update, update_params, 0},
    {"POST", "/v1/charges/{id}/capture", h_capture, capture_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};

/*
 * SEPA Direct Debit at the API: GET /v1/mandates/{id}, a PaymentIntent confirmed with a
 * sepa_debit PaymentMethod, the multi-use mandate of a SetupIntent, and the scheduler job that
 * later settles each debit (payments/sepa.h tells the design).
 *
 * Confirming with a sepa_debit PaymentMethod needs the customer's acceptance of a mandate
 * (mandate_data[customer_acceptance], online with the browser's ip_address and user_agent, or
 * offline), unless the PaymentMethod already has an active multi-use mandate (a SetupIntent's,
 * or a payment's with setup_future_usage) and the payment is off_session. No card, no acquirer,
 * no 3-D Secure, no Radar: the bank answers later. The confirm's one write records the mandate,
 * the pending charge, the debit to settle, the intent `processing`, and charge.pending and
 * payment_intent.processing.
 */
#include <stdio.h>
#include <string.h>

#include "api/common.h"
#include "api/mandates.h"
#include "api/payments_common.h"
#include "api/resources.h"
#include "app.h"
#include "core/str.h"
#include "money/fx.h"
#include "payments/sepa.h"
#include "scheduler/scheduler.h"
#include "store/store.h"
#include "vault/iban.h"
#include "vault/payment_method.h"

/* ---- mandate_data ---- */

static const struct param_spec online_children[] = {
    {"ip_address", PT_STRING, 0, 100, NULL, NULL},
    {"user_agent", PT_STRING, 0, 1000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec offline_children[] = {{NULL, 0, 0, 0, NULL, NULL}};
static const struct param_spec acceptance_children[] = {
    {"type", PT_ENUM, PF_REQUIRED, 0, (const char *const[]){"online", "offline", NULL}, NULL},
    {"accepted_at", PT_INT, 0, 0, NULL, NULL},
    {"online", PT_OBJECT, 0, 0, NULL, online_children},
    {"offline", PT_OBJECT, 0, 0, NULL, offline_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
const struct param_spec sepa_mandate_data_params[] = {
    {"customer_acceptance", PT_OBJECT, PF_REQUIRED, 0, NULL, acceptance_children},
    {NULL, 0, 0, 0, NULL, NULL},
};

int sepa_mandate_data(struct req *r, const char **ret_type, const char **ret_ip,
		      const char **ret_ua)
{
	if (!param_present(r, "mandate_data"))
		return 0;
	const char *type = param_str(r, "mandate_data.customer_acceptance.type");
	if (!type || !*type)
		return req_fail(r, ERR_PARAM_MISSING, "mandate_data[customer_acceptance][type]",
				"%s", "mandate_data[customer_acceptance][type]");
	const char *ip = NULL, *ua = NULL;
	if (strcmp(type, "online") == 0) {
		ip = param_str(r, "mandate_data.customer_acceptance.online.ip_address");
		ua = param_str(r, "mandate_data.customer_acceptance.online.user_agent");
		if (!ip || !*ip)
			return req_fail(r, ERR_PARAM_MISSING,
					"mandate_data[customer_acceptance][online][ip_address]",
					"%s",
					"mandate_data[customer_acceptance][online][ip_address]");
		if (!ua || !*ua)
			return req_fail(r, ERR_PARAM_MISSING,
					"mandate_data[customer_acceptance][online][user_agent]",
					"%s",
					"mandate_data[customer_acceptance][online][user_agent]");
	} else if (param_present(r, "mandate_data.customer_acceptance.online")) {
		return req_fail(r, ERR_PARAM_BAD, "mandate_data[customer_acceptance][online]",
				"online can only be given with type=online.");
	}
	*ret_type = type;
	*ret_ip = ip;
	*ret_ua = ua;
	return 1;
}

int sepa_setup_mandate(struct req *r, struct db *db, const char *pm_id, const char *type,
		       const char *ip, const char *ua, char ret_id[ID_MAX])
{
	struct mandate m = {
	    .payment_method = pm_id,
	    .type = "multi_use",
	    .status = "active",
	    .acceptance_type = type,
	    .ip_address = ip,
	    .user_agent = ua,
	};
	sepa_mandate_new(&m, r->now);
	if (sepa_mandate_insert(db, r->merchant_id, &m) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	str_copy(ret_id, ID_MAX, m.id);
	return 0;
}

/* ---- is it a SEPA PaymentMethod ---- */

struct kind_ctx {
	struct req *r;
	const char *id;
	int sepa;
};

static int kind_fn(struct db *db, void *p)
{
	struct kind_ctx *k = p;
	struct pm_card pm;
	int rc = pm_load(db, k->r->merchant_id, k->id, &pm);
	k->sepa = rc == DB_OK && PM_IS_SEPA(&pm);
	return rc == DB_OK || rc == DB_NOTFOUND ? 0 : req_fail(k->r, ERR_API, NULL, NULL);
}

int sepa_pm_is_sepa(struct req *r, const char *pm_ref)
{
	if (!pm_ref || strncmp(pm_ref, "pm_", 3) != 0 || vault_is_test_alias(pm_ref))
		return 0;
	struct kind_ctx k = {r, pm_ref, 0};
	if (req_read(r, kind_fn, &k) != 0)
		return -1;
	return k.sepa;
}

/* ---- confirming a PaymentIntent ---- */

struct confirm {
	struct req *r;
	struct payment_intent pi0, pi;
	bool insert_first;
	const char *pm_id;
	bool off_session;
	bool has_mandate_data;
	const char *acc_type, *acc_ip, *acc_ua;
	const char *created_json;
	size_t created_len;
};

static int confirm_fn(struct db *db, void *p)
{
	struct confirm *c = p;
	struct req *r = c->r;
	struct payment_intent *pi = &c->pi;
	*pi = c->pi0; /* a retried transaction starts over */
	if (c->insert_first) {
		if (payments_event(r, db, "payment_intent.created", pi->id, c->created_json,
				   c->created_len, NULL) != 0)
			return -1;
	} else {
		struct payment_intent cur;
		int rc = pi_load(db, &r->arena, r->merchant_id, pi->id, &cur);
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (cur.version != pi->version)
			return req_fail(
			    r, ERR_PAYMENT_INTENT_UNEXPECTED_STATE, NULL,
			    "You cannot confirm this PaymentIntent because it has a status of %s. "
			    "Only a PaymentIntent with one of the following statuses may be "
			    "confirmed: requires_payment_method, requires_confirmation, "
			    "requires_action.",
			    cur.status);
	}
	struct pm_card pm;
	int rc = pm_load(db, r->merchant_id, c->pm_id, &pm);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "payment_method", c->pm_id, "payment_method");
	if (rc != DB_OK || !PM_IS_SEPA(&pm))
		return req_fail(r, ERR_API, NULL, NULL);
	if (pm.detached)
		return req_fail(r, ERR_PARAM_BAD, "payment_method", "%s", PM_DETACHED_MESSAGE);
	if (pi->customer && pm.customer[0] && strcmp(pi->customer, pm.customer) != 0)
		return req_fail(r, ERR_PARAM_BAD, "payment_method",
				"The provided PaymentMethod belongs to another customer.");
	if (!pi->customer && pm.customer[0])
		return req_fail(r, ERR_PARAM_BAD, "payment_method",
				"The provided PaymentMethod is attached to a customer: give the "
				"PaymentIntent that customer to use it.");
	/* the mandate: the one accepted now, or (off session) the PaymentMethod's multi-use one */
	char mandate_id[ID_MAX] = "";
	if (c->has_mandate_data) {
		struct mandate m = {
		    .payment_method = pm.id,
		    .type = pi->setup_future_usage ? "multi_use" : "single_use",
		    .status = "active",
		    .acceptance_type = c->acc_type,
		    .ip_address = c->acc_ip,
		    .user_agent = c->acc_ua,
		    .amount = pi->amount,
		    .currency = pi->setup_future_usage ? NULL : pi->currency,
		};
		sepa_mandate_new(&m, r->now);
		if (sepa_mandate_insert(db, r->merchant_id, &m) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		str_copy(mandate_id, sizeof(mandate_id), m.id);
	} else {
		rc = sepa_mandate_multi_use(db, r->merchant_id, pm.id, mandate_id);
		if (rc != DB_OK && rc != DB_NOTFOUND)
			return req_fail(r, ERR_API, NULL, NULL);
		if (rc == DB_NOTFOUND || !c->off_session)
			return req_fail(
			    r, ERR_PARAM_MISSING, "mandate_data",
			    "A mandate is required to confirm a PaymentIntent with a sepa_debit "
			    "PaymentMethod: pass mandate_data[customer_acceptance], or "
			    "off_session=true with a PaymentMethod that has a multi-use mandate "
			    "(set up by a SetupIntent).");
	}
	struct charge ch;
	memset(&ch, 0, sizeof(ch));
	id_new_at(ch.id, "ch_", r->now);
	ch.created = r->now;
	ch.payment_intent = pi->id;
	ch.invoice = pi->invoice;
	ch.amount = pi->amount;
	str_copy(ch.currency, sizeof(ch.currency), pi->currency);
	ch.status = "pending";
	ch.customer = pi->customer;
	ch.payment_method = pm.id;
	ch.description = pi->description;
	ch.metadata = "{}";
	ch.receipt_email = pi->receipt_email;
	ch.statement_descriptor = pi->statement_descriptor;
	ch.shipping = pi->shipping;
	ch.outcome = SEPA_OUTCOME_PENDING;
	ch.card = sepa_charge_details(&r->arena, &pm, mandate_id);
	ch.fingerprint = pm.fingerprint;
	ch.client_ip = r->client_ip[0] ? r->client_ip : NULL;
	if (!ch.card)
		return req_fail(r, ERR_API, NULL, NULL);
	if (pm.has_billing &&
	    pm_billing_details(db, r->merchant_id, pm.id, &r->arena, &ch.billing_details) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (charge_insert(db, r->merchant_id, &ch) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	bool delayed =
	    pm.sepa_behavior == SEPA_SUCCEED_DELAYED || pm.sepa_behavior == SEPA_FAIL_DELAYED;
	if (sepa_debit_schedule(db, r->merchant_id, ch.id, pi->id, pm.sepa_behavior,
				r->now + (delayed ? SEPA_DELAY_SECONDS : 0)) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	pi->status = "processing";
	pi->payment_method = arena_strdup(&r->arena, pm.id);
	pi->latest_charge = arena_strdup(&r->arena, ch.id);
	pi->last_payment_error = NULL;
	pi->next_action = NULL;
	pi->three_d_secure_token = NULL;
	if (!pi->payment_method || !pi->latest_charge)
		return req_fail(r, ERR_API, NULL, NULL);
	if (c->insert_first) {
		pi->version++; /* as the insert + update of the created intent would leave it */
		rc = pi_insert(db, r->merchant_id, pi);
	} else {
		rc = pi_update(db, r->merchant_id, pi);
	}
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* setup_future_usage with a customer: the PaymentMethod is saved on it, as for a card */
	if (pi->customer && pi->setup_future_usage && !pm.customer[0]) {
		const char *id;
		char owner[ID_MAX];
		if (pm_attach_resolve(r, db, pm.id, "payment_method", &id, owner) != 0 ||
		    pm_attach_finish(r, db, id, owner, pi->customer) != 0)
			return -1;
	}
	size_t len;
	const char *js = charge_json(db, &r->arena, r->merchant_id, r->livemode, &ch, &len);
	if (!js || payments_event(r, db, "charge.pending", ch.id, js, len, NULL) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	js = pi_json(db, &r->arena, r->merchant_id, r->livemode, pi, &len);
	if (!js)
		return req_fail(r, ERR_API, NULL, NULL);
	return payments_event_answer(r, db, "payment_intent.processing", pi->id, js, len, NULL);
}

int sepa_pi_confirm(struct req *r, const struct payment_intent *pi, bool insert_first,
		    const char *pm_id)
{
	if (!pi_allows_type(pi, "sepa_debit"))
		return req_fail(r, ERR_PARAM_BAD, "payment_method",
				"The PaymentMethod provided (sepa_debit) is not allowed for this "
				"PaymentIntent. Please attach a PaymentMethod of one of the "
				"following types: card. Alternatively update the allowed "
				"payment_method_types for this PaymentIntent to include "
				"\"sepa_debit\".");
	if (strcmp(pi->currency, "eur") != 0)
		return req_fail(r, ERR_PARAM_BAD, "currency",
				"The currency provided (%s) is invalid. Payments with sepa_debit "
				"support the following currencies: eur.",
				pi->currency);
	if (strcmp(pi->capture_method, "manual") == 0)
		return req_fail(r, ERR_PARAM_BAD, "capture_method",
				"The payment method type sepa_debit does not support "
				"capture_method=manual.");
	if (pi->connect.destination || pi->connect.on_behalf_of ||
	    pi->connect.application_fee_amount || pi->invoice || pi->checkout_session)
		return req_fail(
		    r, ERR_PARAM_BAD, "payment_method",
		    "Tender takes sepa_debit for direct PaymentIntents only (no Connect "
		    "destination, invoice or Checkout payments).");
	struct confirm c;
	memset(&c, 0, sizeof(c));
	c.r = r;
	c.pi0 = *pi;
	c.insert_first = insert_first;
	c.pm_id = pm_id;
	const char *off = param_str(r, "off_session");
	c.off_session = off && (strcasecmp(off, "true") == 0 || strcmp(off, "one_off") == 0 ||
				strcmp(off, "recurring") == 0);
	int md = sepa_mandate_data(r, &c.acc_type, &c.acc_ip, &c.acc_ua);
	if (md < 0)
		return -1;
	c.has_mandate_data = md == 1;
	if (payments_check_minimum(r, pi->amount, pi->currency, "currency", "amount") != 0)
		return -1;
	if (insert_first) {
		struct payment_intent created = *pi;
		created.status = "requires_confirmation";
		c.created_json =
		    pi_json(NULL, &r->arena, r->merchant_id, r->livemode, &created, &c.created_len);
		if (!c.created_json)
			return req_fail(r, ERR_API, NULL, NULL);
		c.pi0 = created;
	}
	return req_write(r, confirm_fn, &c);
}

/* ---- GET /v1/mandates/{id} ---- */

static int retrieve_fn(struct db *db, void *p)
{
	struct req *r = p;
	struct mandate m;
	int rc = sepa_mandate_load(db, &r->arena, r->merchant_id, r->args[0], &m);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "mandate", r->args[0], "mandate");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	sepa_mandate_render(&m, r->livemode, req_json(r));
	return 0;
}

static int h_retrieve(struct req *r)
{
	return req_read(r, retrieve_fn, r) == 0 ? 0 : -1;
}

static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

const struct route mandates_routes[] = {
    {"GET", "/v1/mandates/{id}", h_retrieve, no_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};

/* ---- the scheduler job ---- */

static struct app *tick_app;

void sepa_scheduler_init(struct app *app)
{
	tick_app = app;
}

struct tick_ctx {
	int64_t now;
	struct fx_table *fx;
	int done;
	struct shard_share share;
};

static int tick_fn(struct db *db, void *p)
{
	struct tick_ctx *c = p;
	int n = sepa_settle_db(db, c->fx, c->now, scheduler_batch(64));
	if (n < 0)
		return -1;
	c->done += (int)shard_share_add(&c->share, db, n);
	return 0;
}

int sepa_settle_tick(struct store *s, int64_t now)
{
	struct tick_ctx c;
	memset(&c, 0, sizeof(c));
	c.now = now;
	c.fx = tick_app ? app_fx_acquire(tick_app) : NULL;
	int rc = store_each_shard_write(s, tick_fn, &c);
	fx_table_free(c.fx);
	return rc == 0 ? c.done : rc;
}

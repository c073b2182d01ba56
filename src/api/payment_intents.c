/*
 * /v1/payment_intents: create, retrieve, update, list, confirm, capture, cancel.
 *
 * Confirmation runs in two halves. Off the writer thread: resolve the payment method, let the
 * vault reveal the card to the acquirer, get its decision. Then one write transaction re-reads
 * the intent, checks it is still in the state the decision was made for (its version), and
 * records everything at once: charge, acquirer hold, journal, balance transaction, intent state,
 * events, the vault's access record and the idempotent response. A concurrent change in between
 * makes the transaction refuse (payment_intent_unexpected_state) and nothing is recorded.
 */
#include <stdio.h>
#include <string.h>

#include "api/common.h"
#include "api/list.h"
#include "api/payments_common.h"
#include "api/resources.h"
#include "http/form.h"

static const char *const capture_methods[] = {"automatic", "automatic_async", "manual", NULL};
static const char *const confirmation_methods[] = {"automatic", "manual", NULL};
static const char *const sfu_values[] = {"on_session", "off_session", NULL};
static const char *const cancel_reasons[] = {"duplicate", "fraudulent", "requested_by_customer",
                                             "abandoned", NULL};

static const struct param_spec address_children[] = {
    {"city", PT_STRING, PF_EMPTYABLE, 200, NULL, NULL},
    {"country", PT_STRING, PF_EMPTYABLE, 2, NULL, NULL},
    {"line1", PT_STRING, PF_EMPTYABLE, 200, NULL, NULL},
    {"line2", PT_STRING, PF_EMPTYABLE, 200, NULL, NULL},
    {"postal_code", PT_STRING, PF_EMPTYABLE, 20, NULL, NULL},
    {"state", PT_STRING, PF_EMPTYABLE, 200, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec shipping_children[] = {
    {"address", PT_OBJECT, PF_REQUIRED, 0, NULL, address_children},
    {"name", PT_STRING, PF_REQUIRED, 500, NULL, NULL},
    {"phone", PT_STRING, PF_EMPTYABLE, 50, NULL, NULL},
    {"carrier", PT_STRING, PF_EMPTYABLE, 200, NULL, NULL},
    {"tracking_number", PT_STRING, PF_EMPTYABLE, 200, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec apm_children[] = {
    {"enabled", PT_BOOL, PF_REQUIRED, 0, NULL, NULL},
    {"allow_redirects", PT_ENUM, 0, 0, (const char *const[]){"always", "never", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

#define PI_COMMON_PARAMS                                                                           \
	{"customer", PT_STRING, PF_EMPTYABLE, 255, NULL, NULL},                                    \
	    {"description", PT_STRING, PF_EMPTYABLE, 1000, NULL, NULL},                             \
	    {"metadata", PT_METADATA, 0, 0, NULL, NULL},                                            \
	    {"payment_method", PT_STRING, PF_EMPTYABLE, 255, NULL, NULL},                           \
	    {"receipt_email", PT_STRING, PF_EMPTYABLE, 800, NULL, NULL},                            \
	    {"setup_future_usage", PT_ENUM, PF_EMPTYABLE, 0, sfu_values, NULL},                     \
	    {"shipping", PT_OBJECT, PF_EMPTYABLE, 0, NULL, shipping_children},                      \
	    {"statement_descriptor", PT_STRING, PF_EMPTYABLE, 22, NULL, NULL},                      \
	    {"statement_descriptor_suffix", PT_STRING, PF_EMPTYABLE, 22, NULL, NULL},               \
	    {"capture_method", PT_ENUM, 0, 0, capture_methods, NULL},                               \
	    {"payment_method_types", PT_STRING_ARRAY, 0, 0, NULL, NULL}

static const struct param_spec create_params[] = {
    {"amount", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {"currency", PT_CURRENCY, PF_REQUIRED, 0, NULL, NULL},
    PI_COMMON_PARAMS,
    {"confirm", PT_BOOL, 0, 0, NULL, NULL},
    {"confirmation_method", PT_ENUM, 0, 0, confirmation_methods, NULL},
    {"return_url", PT_STRING, 0, 2048, NULL, NULL},
    {"off_session", PT_STRING, 0, 20, NULL, NULL},
    {"error_on_requires_action", PT_BOOL, 0, 0, NULL, NULL},
    {"automatic_payment_methods", PT_OBJECT, 0, 0, NULL, apm_children},
    {"use_stripe_sdk", PT_BOOL, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

static const struct param_spec update_params[] = {
    {"amount", PT_INT, 0, 0, NULL, NULL},
    {"currency", PT_CURRENCY, 0, 0, NULL, NULL},
    PI_COMMON_PARAMS,
    {NULL, 0, 0, 0, NULL, NULL},
};

static const struct param_spec confirm_params[] = {
    {"payment_method", PT_STRING, 0, 255, NULL, NULL},
    {"receipt_email", PT_STRING, PF_EMPTYABLE, 800, NULL, NULL},
    {"return_url", PT_STRING, 0, 2048, NULL, NULL},
    {"off_session", PT_STRING, 0, 20, NULL, NULL},
    {"setup_future_usage", PT_ENUM, PF_EMPTYABLE, 0, sfu_values, NULL},
    {"capture_method", PT_ENUM, 0, 0, capture_methods, NULL},
    {"error_on_requires_action", PT_BOOL, 0, 0, NULL, NULL},
    {"use_stripe_sdk", PT_BOOL, 0, 0, NULL, NULL},
    {"shipping", PT_OBJECT, PF_EMPTYABLE, 0, NULL, shipping_children},
    {NULL, 0, 0, 0, NULL, NULL},
};

static const struct param_spec capture_params[] = {
    {"amount_to_capture", PT_INT, 0, 0, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"statement_descriptor", PT_STRING, 0, 22, NULL, NULL},
    {"statement_descriptor_suffix", PT_STRING, 0, 22, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

static const struct param_spec cancel_params[] = {
    {"cancellation_reason", PT_ENUM, 0, 0, cancel_reasons, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

static const struct param_spec retrieve_params[] = {
    {"client_secret", PT_STRING, 0, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

static const struct param_spec list_params[] = {
    {"customer", PT_STRING, 0, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

/* ---- helpers ---- */

static int render_response(struct req *r, struct db *db, const struct payment_intent *pi)
{
	struct expand_set ex;
	payments_expand_from_req(r, &ex, NULL);
	int rc = pi_render(db, &r->arena, r->merchant_id, r->livemode, pi, &ex, req_json(r));
	return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static int emit_pi(struct req *r, struct db *db, const struct payment_intent *pi, const char *type)
{
	size_t len = 0;
	const char *js = pi_json(db, &r->arena, r->merchant_id, r->livemode, pi, &len);
	if (!js)
		return req_fail(r, ERR_API, NULL, NULL);
	return payments_event(r, db, type, pi->id, js, len, NULL);
}

static int emit_charge(struct req *r, struct db *db, const struct charge *ch, const char *type)
{
	size_t len = 0;
	const char *js = charge_json(db, &r->arena, r->merchant_id, r->livemode, ch, &len);
	if (!js)
		return req_fail(r, ERR_API, NULL, NULL);
	return payments_event(r, db, type, ch->id, js, len, NULL);
}

static int unexpected_state(struct req *r, const char *verb, const struct payment_intent *pi,
                            const char *allowed)
{
	return req_fail(r, ERR_PAYMENT_INTENT_UNEXPECTED_STATE, NULL,
	                "You cannot %s this PaymentIntent because it has a status of %s. Only a "
	                "PaymentIntent with one of the following statuses may be %s: %s.",
	                verb, pi->status,
	                strcmp(verb, "confirm") == 0   ? "confirmed"
	                : strcmp(verb, "capture") == 0 ? "captured"
	                                               : "canceled",
	                allowed);
}

static bool status_is(const struct payment_intent *pi, const char *s)
{
	return strcmp(pi->status, s) == 0;
}

/* The customer must exist for this merchant (read, before the write). */
struct exists_ctx {
	struct req *r;
	const char *id;
	int found;
};

static const char SQL_CUSTOMER_EXISTS[] =
    "SELECT 1 FROM customers WHERE merchant_id = $1 AND id = $2 AND deleted = 0";

static int customer_exists_fn(struct db *db, void *p)
{
	struct exists_ctx *x = p;
	struct db_stmt *st = db_prepare(db, SQL_CUSTOMER_EXISTS);
	if (!st)
		return -1;
	db_bind_text(st, 1, x->r->merchant_id, -1);
	db_bind_text(st, 2, x->id, -1);
	x->found = db_step(st) == DB_ROW;
	db_reset(st);
	return 0;
}

static int require_customer(struct req *r, const char *id)
{
	if (!id || !*id)
		return 0;
	struct exists_ctx x = {r, id, 0};
	if (req_read(r, customer_exists_fn, &x) != 0)
		return -1;
	if (!x.found)
		return req_fail_missing(r, "customer", id, "customer");
	return 0;
}

/* last_payment_error as Stripe shows it on the intent. */
static const char *payment_error_json(struct req *r, const struct charge *ch,
                                      const struct card_auth *ca)
{
	const struct api_error_info *info = api_error_info(ca->decision.err);
	struct buf b;
	struct json j;
	buf_init(&b, 64 * 1024);
	json_init(&j, &b);
	json_obj_open(&j);
	json_kv_str(&j, "charge", ch->id);
	json_kv_str(&j, "code", info->code);
	if (ca->decision.decline_code[0])
		json_kv_str(&j, "decline_code", ca->decision.decline_code);
	char url[160];
	snprintf(url, sizeof(url), "https://stripe.com/docs/error-codes/%s", info->code);
	json_kv_str(&j, "doc_url", url);
	json_kv_str(&j, "message", info->message);
	json_kv_str(&j, "type", info->type);
	json_obj_close(&j);
	const char *s = b.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&b));
	buf_release(&b);
	return s;
}

/* ---- confirm (also used by create with confirm=true) ---- */

struct confirm_ctx {
	struct req *r;
	struct payment_intent pi; /* the intent the decision was made for */
	bool insert_first;        /* create+confirm: the intent does not exist yet */
	struct card_auth ca;
	bool capture;
};

static int confirm_fn(struct db *db, void *p)
{
	struct confirm_ctx *c = p;
	struct req *r = c->r;
	struct payment_intent *pi = &c->pi;
	int rc;
	if (c->insert_first) {
		if (pi_insert(db, r->merchant_id, pi) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (emit_pi(r, db, pi, "payment_intent.created") != 0)
			return -1;
	} else {
		struct payment_intent cur;
		rc = pi_load(db, &r->arena, r->merchant_id, pi->id, &cur);
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (cur.version != pi->version)
			return unexpected_state(r, "confirm", &cur,
			                        "requires_payment_method, requires_confirmation, "
			                        "requires_action");
	}
	struct ledger_pricing pricing;
	char cur_buf[8];
	if (payments_pricing(r, db, &pricing, cur_buf) != 0)
		return -1;
	struct attempt at = {
	    .merchant_id = r->merchant_id,
	    .amount = pi->amount,
	    .currency = pi->currency,
	    .payment_intent = pi->id,
	    .customer = pi->customer,
	    .description = pi->description,
	    .metadata = NULL,
	    .receipt_email = pi->receipt_email,
	    .statement_descriptor = pi->statement_descriptor,
	    .capture = c->capture,
	    .now = r->now,
	    .card = &c->ca.card,
	    .decision = &c->ca.decision,
	    .pricing = &pricing,
	};
	struct charge ch;
	rc = payment_record_attempt(db, &r->arena, &at, &ch);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (payments_card_commit(r, db, &c->ca) != 0)
		return -1;
	pi->latest_charge = ch.id;
	if (!c->ca.decision.approved) {
		pi->status = "requires_payment_method";
		pi->last_payment_error = payment_error_json(r, &ch, &c->ca);
		pi->payment_method = NULL;
		if (pi_update(db, r->merchant_id, pi) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (emit_charge(r, db, &ch, "charge.failed") != 0 ||
		    emit_pi(r, db, pi, "payment_intent.payment_failed") != 0)
			return -1;
		/* 402 card_error carrying the updated intent and the failed charge */
		req_fail(r, c->ca.decision.err, NULL, NULL);
		snprintf(r->err.decline_code, sizeof(r->err.decline_code), "%s",
		         c->ca.decision.decline_code);
		snprintf(r->err.charge_id, sizeof(r->err.charge_id), "%s", ch.id);
		struct json ej;
		json_init(&ej, &r->err.extra);
		json_key(&ej, "payment_intent");
		if (pi_render(db, &r->arena, r->merchant_id, r->livemode, pi, NULL, &ej) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		return REQ_COMMIT_ERR;
	}
	pi->last_payment_error = NULL;
	pi->payment_method = c->ca.pm_id;
	if (c->capture) {
		pi->status = "succeeded";
		pi->amount_received = pi->amount;
		pi->amount_capturable = 0;
	} else {
		pi->status = "requires_capture";
		pi->amount_capturable = pi->amount;
	}
	if (pi_update(db, r->merchant_id, pi) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (emit_charge(r, db, &ch, "charge.succeeded") != 0)
		return -1;
	if (emit_pi(r, db, pi,
	            c->capture ? "payment_intent.succeeded"
	                       : "payment_intent.amount_capturable_updated") != 0)
		return -1;
	return render_response(r, db, pi);
}

/* Runs the card half and then the write half. pi must be in a confirmable state. */
static int confirm_intent(struct req *r, struct confirm_ctx *c, const char *pm_ref)
{
	struct payment_intent *pi = &c->pi;
	if (!pm_ref || !*pm_ref)
		return req_fail(r, ERR_PAYMENT_INTENT_UNEXPECTED_STATE, "payment_method",
		                "You cannot confirm this PaymentIntent because it's missing a payment "
		                "method. To confirm the PaymentIntent with %s, you must provide a "
		                "payment method.",
		                pi->customer ? pi->customer : "this payment");
	if (payments_card_authorize(r, pm_ref, "payment_method", pi->amount, pi->currency,
	                            &c->ca) != 0)
		return -1;
	if (pi->customer && c->ca.customer[0] && strcmp(pi->customer, c->ca.customer) != 0)
		return req_fail(r, ERR_PARAM_BAD, "payment_method",
		                "The provided PaymentMethod belongs to another customer.");
	const char *off = param_str(r, "off_session");
	bool off_session = off && (strcmp(off, "true") == 0 || strcmp(off, "one_off") == 0 ||
	                           strcmp(off, "recurring") == 0);
	if (c->ca.card.behavior == ACQ_3DS_REQUIRED && off_session && c->ca.decision.approved) {
		c->ca.decision.approved = false;
		c->ca.decision.err = ERR_AUTHENTICATION_REQUIRED;
		snprintf(c->ca.decision.decline_code, sizeof(c->ca.decision.decline_code), "%s",
		         "authentication_required");
		c->ca.decision.network_status = "declined_by_network";
		c->ca.decision.outcome_type = "issuer_declined";
		c->ca.decision.reason = "authentication_required";
	}
	const char *cm = param_str(r, "capture_method");
	if (cm)
		pi->capture_method = cm;
	c->capture = strcmp(pi->capture_method, "manual") != 0;
	const char *email = param_str(r, "receipt_email");
	if (email)
		pi->receipt_email = *email ? email : NULL;
	const char *ru = param_str(r, "return_url");
	if (ru)
		pi->return_url = ru;
	return req_write(r, confirm_fn, c);
}

/* ---- handlers ---- */

static int apply_common(struct req *r, struct payment_intent *pi)
{
	pi->customer = str_update(r, "customer", pi->customer);
	pi->description = str_update(r, "description", pi->description);
	pi->receipt_email = str_update(r, "receipt_email", pi->receipt_email);
	pi->setup_future_usage = str_update(r, "setup_future_usage", pi->setup_future_usage);
	pi->statement_descriptor = str_update(r, "statement_descriptor", pi->statement_descriptor);
	pi->statement_descriptor_suffix =
	    str_update(r, "statement_descriptor_suffix", pi->statement_descriptor_suffix);
	const char *cm = param_str(r, "capture_method");
	if (cm)
		pi->capture_method = cm;
	if (shipping_from_params(r, "shipping", &pi->shipping) != 0)
		return -1;
	const struct form_node *pmt = param_node(r, "payment_method_types");
	if (pmt) {
		for (const struct form_node *x = pmt->kind == FORM_SCALAR ? pmt : pmt->first_child; x;
		     x = pmt->kind == FORM_SCALAR ? NULL : x->next)
			if (strcmp(x->value, "card") != 0)
				return req_fail(r, ERR_PARAM_BAD, "payment_method_types",
				                "The payment method type \"%s\" is invalid. Tender "
				                "supports: card.",
				                x->value);
	}
	return metadata_apply(r, pi->metadata, "metadata", &pi->metadata);
}

struct create_ctx {
	struct req *r;
	struct payment_intent pi;
};

static int create_fn(struct db *db, void *p)
{
	struct create_ctx *c = p;
	struct req *r = c->r;
	if (pi_insert(db, r->merchant_id, &c->pi) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (emit_pi(r, db, &c->pi, "payment_intent.created") != 0)
		return -1;
	return render_response(r, db, &c->pi);
}

static int h_create(struct req *r)
{
	struct confirm_ctx c;
	memset(&c, 0, sizeof(c));
	c.r = r;
	struct payment_intent *pi = &c.pi;
	int64_t amount = 0;
	param_int(r, "amount", &amount);
	if (payments_check_amount(r, amount, "currency", pi->currency, "amount") != 0)
		return -1;
	id_new(pi->id, "pi_");
	char secret[32];
	id_random_base62(secret, 24);
	pi->client_secret = arena_printf(&r->arena, "%s_secret_%s", pi->id, secret);
	pi->created = r->now;
	pi->version = 1;
	pi->amount = amount;
	pi->status = "requires_payment_method";
	pi->capture_method = "automatic";
	pi->confirmation_method = param_str(r, "confirmation_method")
	                              ? param_str(r, "confirmation_method")
	                              : "automatic";
	pi->metadata = "{}";
	if (apply_common(r, pi) != 0)
		return -1;
	if (require_customer(r, pi->customer) != 0)
		return -1;
	const char *pm = param_str(r, "payment_method");
	if (pm && *pm)
		pi->status = "requires_confirmation";
	const char *ru = param_str(r, "return_url");
	if (ru)
		pi->return_url = ru;
	bool confirm = false;
	param_bool(r, "confirm", &confirm);
	if (confirm) {
		c.insert_first = true;
		pi->status = "requires_confirmation";
		return confirm_intent(r, &c, pm);
	}
	pi->payment_method = pm && *pm ? pm : NULL;
	if (pi->payment_method && strncmp(pi->payment_method, "pm_", 3) != 0)
		return req_fail(r, ERR_PARAM_BAD, "payment_method",
		                "Invalid payment_method: expected a PaymentMethod id (pm_…).");
	struct create_ctx cc = {.r = r, .pi = *pi};
	return req_write(r, create_fn, &cc);
}

struct load_ctx {
	struct req *r;
	const char *id;
	struct payment_intent pi;
};

static int load_fn(struct db *db, void *p)
{
	struct load_ctx *x = p;
	int rc = pi_load(db, &x->r->arena, x->r->merchant_id, x->id, &x->pi);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "payment_intent", x->id, "intent");
	return rc == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

static int retrieve_fn(struct db *db, void *p)
{
	struct load_ctx *x = p;
	if (load_fn(db, p) != 0)
		return -1;
	return render_response(x->r, db, &x->pi);
}

static int h_retrieve(struct req *r)
{
	struct load_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, retrieve_fn, &x) == 0 ? 0 : -1;
}

static int h_confirm(struct req *r)
{
	struct load_ctx x = {.r = r, .id = r->args[0]};
	if (req_read(r, load_fn, &x) != 0)
		return -1;
	struct confirm_ctx c;
	memset(&c, 0, sizeof(c));
	c.r = r;
	c.pi = x.pi;
	if (!status_is(&c.pi, "requires_payment_method") &&
	    !status_is(&c.pi, "requires_confirmation") && !status_is(&c.pi, "requires_action"))
		return unexpected_state(r, "confirm", &c.pi,
		                        "requires_payment_method, requires_confirmation, "
		                        "requires_action");
	const char *pm = param_str(r, "payment_method");
	if (!pm || !*pm)
		pm = c.pi.payment_method;
	return confirm_intent(r, &c, pm);
}

struct update_ctx {
	struct req *r;
	const char *id;
};

static int update_fn(struct db *db, void *p)
{
	struct update_ctx *u = p;
	struct req *r = u->r;
	struct payment_intent pi;
	int rc = pi_load(db, &r->arena, r->merchant_id, u->id, &pi);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "payment_intent", u->id, "intent");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	bool editable = status_is(&pi, "requires_payment_method") ||
	                status_is(&pi, "requires_confirmation") ||
	                status_is(&pi, "requires_action");
	bool money_change = param_present(r, "amount") || param_present(r, "currency") ||
	                    param_present(r, "payment_method") || param_present(r, "customer") ||
	                    param_present(r, "capture_method");
	if (money_change && !editable)
		return req_fail(r, ERR_PAYMENT_INTENT_UNEXPECTED_STATE, NULL,
		                "You cannot update this PaymentIntent because it has a status of %s. "
		                "Only description, metadata, receipt_email and shipping can be "
		                "updated.",
		                pi.status);
	int64_t amount;
	if (param_int(r, "amount", &amount) == 1 || param_present(r, "currency")) {
		if (!param_int(r, "amount", &amount))
			amount = pi.amount;
		char cur[8];
		snprintf(cur, sizeof(cur), "%s", pi.currency);
		if (payments_check_amount(r, amount, param_present(r, "currency") ? "currency" : NULL,
		                          cur, "amount") != 0)
			return -1;
		pi.amount = amount;
		memcpy(pi.currency, cur, sizeof(pi.currency));
	}
	if (apply_common(r, &pi) != 0)
		return -1;
	const char *pm = param_str(r, "payment_method");
	if (pm) {
		pi.payment_method = *pm ? pm : NULL;
		if (status_is(&pi, "requires_payment_method") && pi.payment_method)
			pi.status = "requires_confirmation";
	}
	if (pi.customer && param_present(r, "customer")) {
		struct db_stmt *st = db_prepare(db, SQL_CUSTOMER_EXISTS);
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, pi.customer, -1);
		int found = db_step(st) == DB_ROW;
		db_reset(st);
		if (!found)
			return req_fail_missing(r, "customer", pi.customer, "customer");
	}
	if (pi_update(db, r->merchant_id, &pi) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return render_response(r, db, &pi);
}

static int h_update(struct req *r)
{
	struct update_ctx u = {r, r->args[0]};
	return req_write(r, update_fn, &u);
}

static int capture_fn(struct db *db, void *p)
{
	struct update_ctx *u = p;
	struct req *r = u->r;
	struct payment_intent pi;
	int rc = pi_load(db, &r->arena, r->merchant_id, u->id, &pi);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "payment_intent", u->id, "intent");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!status_is(&pi, "requires_capture"))
		return req_fail(r, ERR_PAYMENT_INTENT_UNEXPECTED_STATE, NULL,
		                "This PaymentIntent could not be captured because it has a status of "
		                "%s. Only a PaymentIntent with one of the following statuses may be "
		                "captured: requires_capture.",
		                pi.status);
	int64_t amount = pi.amount_capturable;
	if (param_int(r, "amount_to_capture", &amount) == 1) {
		if (amount <= 0)
			return req_fail(r, ERR_PARAM_BAD, "amount_to_capture",
			                "Invalid amount_to_capture: must be at least 1.");
		if (amount > pi.amount_capturable)
			return req_fail(r, ERR_AMOUNT_TOO_LARGE, "amount_to_capture",
			                "The amount to capture (%lld) is greater than the amount "
			                "capturable (%lld) of this PaymentIntent.",
			                (long long)amount, (long long)pi.amount_capturable);
	}
	struct charge ch;
	if (!pi.latest_charge ||
	    charge_load(db, &r->arena, r->merchant_id, pi.latest_charge, &ch) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	struct ledger_pricing pricing;
	char cur_buf[8];
	if (payments_pricing(r, db, &pricing, cur_buf) != 0)
		return -1;
	rc = payment_capture(db, &r->arena, r->merchant_id, &ch, amount, &pricing, r->now);
	if (rc == DB_CONFLICT)
		return req_fail(r, ERR_CHARGE_ALREADY_CAPTURED, NULL,
		                "Charge %s has already been captured.", ch.id);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (metadata_apply(r, pi.metadata, "metadata", &pi.metadata) != 0)
		return -1;
	pi.status = "succeeded";
	pi.amount_received = amount;
	pi.amount_capturable = 0;
	if (pi_update(db, r->merchant_id, &pi) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (emit_charge(r, db, &ch, "charge.captured") != 0 ||
	    emit_pi(r, db, &pi, "payment_intent.succeeded") != 0)
		return -1;
	return render_response(r, db, &pi);
}

static int h_capture(struct req *r)
{
	struct update_ctx u = {r, r->args[0]};
	return req_write(r, capture_fn, &u);
}

static int cancel_fn(struct db *db, void *p)
{
	struct update_ctx *u = p;
	struct req *r = u->r;
	struct payment_intent pi;
	int rc = pi_load(db, &r->arena, r->merchant_id, u->id, &pi);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "payment_intent", u->id, "intent");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (status_is(&pi, "succeeded") || status_is(&pi, "canceled"))
		return unexpected_state(r, "cancel", &pi,
		                        "requires_payment_method, requires_capture, "
		                        "requires_confirmation, requires_action, processing");
	if (status_is(&pi, "requires_capture") && pi.latest_charge) {
		struct charge ch;
		if (charge_load(db, &r->arena, r->merchant_id, pi.latest_charge, &ch) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		rc = payment_release(db, r->merchant_id, &ch, r->now);
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	const char *reason = param_str(r, "cancellation_reason");
	pi.status = "canceled";
	pi.cancellation_reason = reason && *reason ? reason : NULL;
	pi.canceled_at = r->now;
	pi.amount_capturable = 0;
	pi.next_action = NULL;
	if (pi_update(db, r->merchant_id, &pi) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (emit_pi(r, db, &pi, "payment_intent.canceled") != 0)
		return -1;
	return render_response(r, db, &pi);
}

static int h_cancel(struct req *r)
{
	struct update_ctx u = {r, r->args[0]};
	return req_write(r, cancel_fn, &u);
}

static const char SQL_CURSOR[] =
    "SELECT created FROM payment_intents WHERE merchant_id = $1 AND id = $2";
static const char SQL_DESC[] =
    "SELECT id FROM payment_intents WHERE merchant_id = $1 AND created >= $2 AND created <= $3"
    " AND (created < $4 OR (created = $4 AND id < $5)) AND ($7 IS NULL OR customer = $7)"
    " ORDER BY created DESC, id DESC LIMIT $6";
static const char SQL_ASC[] =
    "SELECT id FROM payment_intents WHERE merchant_id = $1 AND created >= $2 AND created <= $3"
    " AND (created > $4 OR (created = $4 AND id > $5)) AND ($7 IS NULL OR customer = $7)"
    " ORDER BY created ASC, id ASC LIMIT $6";

static int list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	const char *c = param_str(r, "customer");
	db_bind_text(st, first, c && *c ? c : NULL, -1);
	return 0;
}

static int list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	struct expand_set ex;
	payments_expand_from_req(r, &ex, "data");
	return pi_render_by_id(db, &r->arena, r->merchant_id, r->livemode, id, &ex, j);
}

static int h_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/payment_intents",
	    .object_name = "payment_intent",
	    .sql_cursor = SQL_CURSOR,
	    .sql_desc = SQL_DESC,
	    .sql_asc = SQL_ASC,
	    .bind_filters = list_bind,
	    .render = list_render,
	};
	return list_respond(r, &spec);
}

const struct route payment_intents_routes[] = {
    {"POST", "/v1/payment_intents", h_create, create_params, 0},
    {"GET", "/v1/payment_intents", h_list, list_params, ROUTE_LIST},
    {"GET", "/v1/payment_intents/{id}", h_retrieve, retrieve_params, 0},
    {"POST", "/v1/payment_intents/{id}", h_update, update_params, 0},
    {"POST", "/v1/payment_intents/{id}/confirm", h_confirm, confirm_params, 0},
    {"POST", "/v1/payment_intents/{id}/capture", h_capture, capture_params, 0},
    {"POST", "/v1/payment_intents/{id}/cancel", h_cancel, cancel_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};

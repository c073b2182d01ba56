/*
 * An invoice's own settings (invoices.settings, a JSON object; NULL: none set): what Stripe's
 * invoice create and update take that is not money and that the invoice shows as it was given —
 * footer, custom_fields, statement_descriptor, shipping_details, rendering (the API's
 * rendering_options and its newer name rendering), default_payment_method, default_source,
 * effective_at and account_tax_ids (the merchant's own tax ids, api/tax_ids.c; a draft's only,
 * as on Stripe). invoices.c renders them, pays with default_payment_method (else default_source)
 * before its subscription's or customer's defaults, and the hosted page (invoice_page.c) and
 * the PDF (documents/documents.c, from the rendered invoice) show the footer, custom fields,
 * shipping details, effective_at and the account tax ids (under the merchant's name).
 *
 * As on Stripe, a draft takes every one of them; a finalized invoice that can still be paid
 * (open, uncollectible) takes those that change neither its amounts nor the date it is in
 * effect; a paid or void one none.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/billing_internal.h"
#include "api/common.h"
#include "api/resources.h"
#include "api/sources.h"
#include "api/tax_ids.h"
#include "core/json.h"
#include "core/str.h"
#include "http/form.h"
#include "merchant/connect.h"
#include "payments/payments.h"
#include "vault/payment_method.h"

const struct param_spec invoice_custom_field_params[] = {
    {"name", PT_STRING, PF_REQUIRED, INVOICE_CUSTOM_FIELD_MAX, NULL, NULL},
    {"value", PT_STRING, PF_REQUIRED, INVOICE_CUSTOM_FIELD_MAX, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
const struct param_spec invoice_rendering_options_params[] = {
    {"amount_tax_display", PT_ENUM, PF_EMPTYABLE, 0,
     (const char *const[]){"exclude_tax", "include_inclusive_tax", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec rendering_pdf_children[] = {
    {"page_size", PT_ENUM, 0, 0, (const char *const[]){"a4", "auto", "letter", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
const struct param_spec invoice_rendering_params[] = {
    {"amount_tax_display", PT_ENUM, PF_EMPTYABLE, 0,
     (const char *const[]){"exclude_tax", "include_inclusive_tax", NULL}, NULL},
    {"pdf", PT_OBJECT, 0, 0, NULL, rendering_pdf_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
const struct param_spec invoice_shipping_details_params[] = {
    {"address", PT_OBJECT, PF_REQUIRED, 0, NULL, address_params},
    {"name", PT_STRING, PF_REQUIRED, 5000, NULL, NULL},
    {"phone", PT_STRING, PF_EMPTYABLE, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

const struct param_spec invoice_shipping_cost_params[] = {
    {"shipping_rate", PT_STRING, 0, 255, NULL, NULL},
    {"shipping_rate_data", PT_OBJECT, 0, 0, NULL, shipping_rate_data_params},
    {NULL, 0, 0, 0, NULL, NULL},
};

const struct param_spec invoice_issuer_params[] = {
    {"type", PT_ENUM, PF_REQUIRED, 0, (const char *const[]){"account", "self", NULL}, NULL},
    {"account", PT_STRING, 0, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

const struct param_spec invoice_transfer_data_params[] = {
    {"destination", PT_STRING, PF_REQUIRED, 255, NULL, NULL},
    {"amount", PT_INT, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

/* Stripe's statement descriptor: at least one letter, none of < > \ ' " * (the card networks
 * refuse them) */
static bool descriptor_ok(const char *s)
{
	bool letter = false;
	for (const char *p = s; *p; p++) {
		if (strchr("<>\\'\"*", *p))
			return false;
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
			letter = true;
	}
	return letter;
}

/* key set to a string ("" clears it: null) */
static void set_str(json_t *o, const char *key, const char *v)
{
	json_object_set_new(o, key, *v ? json_string(v) : json_null());
}

/* key set to the JSON text raw (NULL: null) */
static int set_raw(json_t *o, const char *key, const char *raw)
{
	json_t *v = raw ? json_loads(raw, 0, NULL) : json_null();
	if (!v)
		return -1;
	json_object_set_new(o, key, v);
	return 0;
}

static int custom_fields_set(struct req *r, json_t *o)
{
	const struct form_node *n = param_node(r, "custom_fields");
	if (n->kind == FORM_SCALAR) { /* "": none */
		json_object_set_new(o, "custom_fields", json_null());
		return 0;
	}
	json_t *a = json_array();
	int i = 0;
	for (const struct form_node *it = n->first_child; it; it = it->next, i++) {
		const char *name =
		    param_str(r, arena_printf(&r->arena, "custom_fields.%s.name", it->key));
		const char *value =
		    param_str(r, arena_printf(&r->arena, "custom_fields.%s.value", it->key));
		if (!name || !*name || !value || !*value) {
			json_decref(a);
			return req_fail(
			    r, ERR_PARAM_INVALID,
			    arena_printf(&r->arena, "custom_fields[%d][%s]", i,
					 name && *name ? "value" : "name"),
			    "You passed an empty string for 'custom_fields[%d][%s]'. "
			    "We assume empty values are an attempt to unset a parameter; "
			    "however 'custom_fields[%d][%s]' cannot be unset. You should "
			    "remove 'custom_fields[%d][%s]' from your request or supply a "
			    "non-empty value.",
			    i, name && *name ? "value" : "name", i,
			    name && *name ? "value" : "name", i, name && *name ? "value" : "name");
		}
		json_t *f = json_object();
		json_object_set_new(f, "name", json_string(name));
		json_object_set_new(f, "value", json_string(value));
		json_array_append_new(a, f);
	}
	json_object_set_new(o, "custom_fields", a);
	return 0;
}

/* rendering_options[amount_tax_display] or rendering[amount_tax_display, pdf[page_size]]: the
 * object Stripe shows as `rendering` (the template fields stay null: Tender has no templates) */
static int rendering_set(struct req *r, json_t *o)
{
	const char *param = param_present(r, "rendering") ? "rendering" : "rendering_options";
	const struct form_node *n = param_node(r, param);
	json_t *cur = json_object_get(o, "rendering");
	json_t *rd = json_is_object(cur) ? json_deep_copy(cur) : json_object();
	/* Stripe's whole shape, every field present */
	if (!json_object_get(rd, "amount_tax_display"))
		json_object_set_new(rd, "amount_tax_display", json_null());
	if (!json_object_get(rd, "pdf"))
		json_object_set_new(rd, "pdf", json_pack("{s:n}", "page_size"));
	json_object_set_new(rd, "template", json_null());
	json_object_set_new(rd, "template_version", json_null());
	if (n->kind == FORM_SCALAR) { /* "": back to no settings */
		json_decref(rd);
		json_object_set_new(o, "rendering", json_null());
		return 0;
	}
	char path[64];
	snprintf(path, sizeof(path), "%s.amount_tax_display", param);
	const char *atd = param_str(r, path);
	if (atd)
		set_str(rd, "amount_tax_display", atd);
	const char *ps = param_str(r, "rendering.pdf.page_size");
	if (ps) {
		json_t *pdf = json_object();
		json_object_set_new(pdf, "page_size", json_string(ps));
		json_object_set_new(rd, "pdf", pdf);
	}
	json_object_set_new(o, "rendering", rd);
	return 0;
}

/* default_payment_method: a PaymentMethod attached to the invoice's customer ("" clears it) */
static int pm_set(struct req *r, struct db *db, const struct invoice *in, json_t *o)
{
	const char *pm = param_str(r, "default_payment_method");
	if (*pm) {
		struct pm_card pc;
		int rc = pm_load(db, r->merchant_id, pm, &pc);
		if (rc == DB_NOTFOUND)
			return req_fail_missing(r, "payment_method", pm, "default_payment_method");
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (strcmp(pc.customer, in->customer) != 0 || pc.detached)
			return req_fail(r, ERR_PARAM_BAD, "default_payment_method",
					"The customer does not have a payment method with the ID "
					"%s. The payment method must be attached to the customer.",
					pm);
	}
	set_str(o, "default_payment_method", pm);
	return 0;
}

/* default_source: one of the customer's sources (a card, a bank account, a Sources API source;
 * "" clears it) */
static int source_set(struct req *r, struct db *db, const struct invoice *in, json_t *o)
{
	const char *src = param_str(r, "default_source");
	if (*src) {
		int own = source_owned(r, db, in->customer, src);
		if (own < 0)
			return req_fail(r, ERR_API, NULL, NULL);
		if (own == 0)
			return req_fail(r, ERR_PARAM_BAD, "default_source",
					"The customer %s does not have a source with the ID %s.",
					in->customer, src);
	}
	set_str(o, "default_source", src);
	return 0;
}

/* shipping_cost: an active shipping rate (shipping_rate), or one made from shipping_rate_data,
 * in the invoice's currency; what it costs is added to the invoice's total (untaxed, as
 * Checkout's shipping is); "" removes it. */
static int shipping_cost_set(struct req *r, struct db *db, const struct invoice *in, json_t *o)
{
	const struct form_node *n = param_node(r, "shipping_cost");
	if (n->kind == FORM_SCALAR) {
		json_object_set_new(o, "shipping_cost", json_null());
		return 0;
	}
	const char *id = param_str(r, "shipping_cost.shipping_rate");
	bool data = param_present(r, "shipping_cost.shipping_rate_data");
	if ((id && *id) == data)
		return req_fail(r, ERR_PARAM_BAD, "shipping_cost",
				"Pass exactly one of shipping_cost[shipping_rate] and "
				"shipping_cost[shipping_rate_data].");
	struct shipping_rate_facts f;
	if (data) {
		if (shipping_rate_create_inline(r, db, "shipping_cost.shipping_rate_data.",
						"shipping_cost[shipping_rate_data]", &f) != 0)
			return -1;
	} else {
		int rc = shipping_rate_get(r, db, id, &f);
		if (rc == DB_NOTFOUND)
			return req_fail_missing(r, "shipping_rate", id,
						"shipping_cost[shipping_rate]");
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (!f.active)
			return req_fail(r, ERR_PARAM_BAD, "shipping_cost[shipping_rate]",
					"The shipping rate %s is not active.", id);
	}
	if (strcmp(f.currency, in->currency) != 0)
		return req_fail(r, ERR_PARAM_BAD, "shipping_cost",
				"The shipping rate's currency (%s) must be the invoice's (%s).",
				f.currency, in->currency);
	json_t *sc = json_pack("{s:I, s:i, s:I, s:s, s:[]}", "amount_subtotal",
			       (json_int_t)f.amount, "amount_tax", 0, "amount_total",
			       (json_int_t)f.amount, "shipping_rate", f.id, "taxes");
	if (!sc)
		return req_fail(r, ERR_API, NULL, NULL);
	json_object_set_new(o, "shipping_cost", sc);
	return 0;
}

/* A connected account of the merchant's that can take money (param: its name in errors). */
static int account_check(struct req *r, struct db *db, const char *acct, const char *param)
{
	int rc = connect_account_usable(db, r->merchant_id, acct);
	if (rc == DB_NOTFOUND)
		return req_fail(
		    r, ERR_PARAM_BAD, param,
		    "No such destination: '%s': it is not a connected account of yours.", acct);
	if (rc == CONNECT_REJECTED)
		return req_fail(r, ERR_TRANSFER_CAPABILITIES, param,
				"The connected account %s was rejected: it can take no payments.",
				acct);
	return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* on_behalf_of, transfer_data[destination, amount] and application_fee_amount: Connect, as
 * PaymentIntents take them (the invoice's PaymentIntent carries them, invoice_pi_terms). Checked
 * together once merged: a fee needs a destination (or a platform's Stripe-Account request) and
 * not transfer_data[amount]. */
static int connect_set(struct req *r, struct db *db, json_t *o)
{
	const char *obo = param_str(r, "on_behalf_of");
	if (obo) {
		if (*obo && account_check(r, db, obo, "on_behalf_of") != 0)
			return -1;
		set_str(o, "on_behalf_of", obo);
	}
	const struct form_node *td = param_node(r, "transfer_data");
	if (td && td->kind == FORM_SCALAR) {
		json_object_set_new(o, "transfer_data", json_null());
	} else if (td) {
		const char *dest = param_str(r, "transfer_data.destination");
		if (account_check(r, db, dest, "transfer_data[destination]") != 0)
			return -1;
		int64_t amount = 0;
		bool has_amount = param_int(r, "transfer_data.amount", &amount) == 1;
		if (has_amount && amount < 0)
			return req_fail(r, ERR_PARAM_BAD, "transfer_data[amount]",
					"transfer_data[amount] must not be negative.");
		json_object_set_new(o, "transfer_data",
				    json_pack("{s:o, s:s}", "amount",
					      has_amount ? json_integer(amount) : json_null(),
					      "destination", dest));
	}
	if (param_present(r, "application_fee_amount")) {
		int64_t fee = 0;
		bool has_fee = param_int(r, "application_fee_amount", &fee) == 1;
		if (has_fee && fee < 0)
			return req_fail(r, ERR_PARAM_BAD, "application_fee_amount",
					"application_fee_amount must not be negative.");
		json_object_set_new(o, "application_fee_amount",
				    has_fee ? json_integer(fee) : json_null());
	}
	json_t *t = json_object_get(o, "transfer_data");
	bool dest = json_is_object(t);
	bool fee = json_is_integer(json_object_get(o, "application_fee_amount"));
	if (fee && !dest && !r->platform_id[0])
		return req_fail(r, ERR_PARAM_BAD, "application_fee_amount",
				"Can only apply an application_fee_amount when the invoice is a "
				"direct payment (using an OAuth key or Stripe-Account header) or a "
				"destination payment (using `transfer_data[destination]`).");
	if (fee && json_is_integer(json_object_get(t, "amount")))
		return req_fail(r, ERR_PARAM_BAD, "application_fee_amount",
				"You may only specify one of these parameters: "
				"application_fee_amount, transfer_data[amount].");
	return 0;
}

/* issuer: the account the invoice is presented as issued by. `self` (the merchant), or
 * `account` naming a connected account of its own, checked as on_behalf_of is (a platform's
 * account that can take payments); Stripe refuses an account with `self` and `account` without
 * one. */
static int issuer_set(struct req *r, struct db *db, json_t *o)
{
	const char *type = param_str(r, "issuer.type");
	const char *acct = param_str(r, "issuer.account");
	if (str_eq(type, "self")) {
		if (acct)
			return req_fail(r, ERR_PARAM_BAD, "issuer[account]",
					"issuer[account] can only be given with "
					"issuer[type]=account.");
		json_object_set_new(o, "issuer", json_pack("{s:s}", "type", "self"));
		return 0;
	}
	if (!acct || !*acct)
		return req_fail(r, ERR_PARAM_MISSING, "issuer[account]", "issuer[account]");
	if (account_check(r, db, acct, "issuer[account]") != 0)
		return -1;
	json_object_set_new(o, "issuer",
			    json_pack("{s:s, s:s}", "account", acct, "type", "account"));
	return 0;
}

int invoice_pi_terms(struct req *r, const struct invoice *in, struct pi_invoice *pv)
{
	if (!in->settings)
		return 0;
	json_t *o = json_loads(in->settings, 0, NULL);
	if (!o)
		return req_fail(r, ERR_API, NULL, NULL);
	int rc = 0;
	struct payment_connect *c = arena_alloc(&r->arena, sizeof(*c));
	if (!c) {
		json_decref(o);
		return req_fail(r, ERR_API, NULL, NULL);
	}
	memset(c, 0, sizeof(*c));
	pv->connect = c;
	const char *s = json_string_value(json_object_get(o, "on_behalf_of"));
	c->on_behalf_of = s ? arena_strdup(&r->arena, s) : NULL;
	json_t *t = json_object_get(o, "transfer_data");
	s = json_string_value(json_object_get(t, "destination"));
	c->destination = s ? arena_strdup(&r->arena, s) : NULL;
	c->transfer_amount = json_integer_value(json_object_get(t, "amount"));
	c->application_fee_amount =
	    json_integer_value(json_object_get(o, "application_fee_amount"));
	s = json_string_value(json_object_get(o, "statement_descriptor"));
	pv->statement_descriptor = s ? arena_strdup(&r->arena, s) : NULL;
	json_decref(o);
	/* no terms of its own: the intent takes its subscription's or quote's
	 * (payment_intents.c's invoice_connect_read), which a zeroed struct would hide */
	if (!c->on_behalf_of && !c->destination && !c->application_fee_amount &&
	    !c->transfer_amount)
		pv->connect = NULL;
	return rc != 0 ? rc : invoice_connect_fits(r, in, pv->amount);
}

int invoice_connect_fits(struct req *r, const struct invoice *in, int64_t amount)
{
	if (!in->settings)
		return 0;
	json_t *o = json_loads(in->settings, 0, NULL);
	int64_t fee = json_integer_value(json_object_get(o, "application_fee_amount"));
	int64_t moved =
	    json_integer_value(json_object_get(json_object_get(o, "transfer_data"), "amount"));
	json_decref(o);
	/* Stripe: neither can be more than the payment */
	if (fee > amount)
		return req_fail(r, ERR_PARAM_BAD, "application_fee_amount",
				"The invoice's application_fee_amount (%lld) is more than what it "
				"charges (%lld).",
				(long long)fee, (long long)amount);
	if (moved > amount)
		return req_fail(r, ERR_PARAM_BAD, "transfer_data[amount]",
				"The invoice's transfer_data[amount] (%lld) is more than what it "
				"charges (%lld).",
				(long long)moved, (long long)amount);
	return 0;
}

int64_t invoice_shipping_amount(const struct invoice *in)
{
	int64_t a = 0;
	if (in->settings) {
		json_t *o = json_loads(in->settings, 0, NULL);
		json_t *v = json_object_get(json_object_get(o, "shipping_cost"), "amount_total");
		if (json_is_integer(v))
			a = json_integer_value(v);
		json_decref(o);
	}
	return a;
}

int invoice_settings_apply(struct req *r, struct db *db, struct invoice *in)
{
	static const char *const draft_only[] = {
	    "effective_at",	      "shipping_cost",	 "on_behalf_of", "transfer_data",
	    "application_fee_amount", "account_tax_ids", "issuer",	 NULL};
	static const char *const any[] = {
	    "footer",	 "custom_fields",     "statement_descriptor",	"shipping_details",
	    "rendering", "rendering_options", "default_payment_method", "default_source",
	    NULL};
	bool draft = strcmp(in->status, "draft") == 0;
	bool owed = strcmp(in->status, "open") == 0 || strcmp(in->status, "uncollectible") == 0;
	bool asked = false;
	for (const char *const *k = any; *k; k++) {
		if (!param_present(r, *k))
			continue;
		asked = true;
		if (!draft && !owed)
			return req_fail(r, ERR_INVALID_STATE, NULL,
					"You can only update %s on a draft, open or uncollectible "
					"invoice; this one is %s.",
					*k, in->status);
	}
	for (const char *const *k = draft_only; *k; k++) {
		if (!param_present(r, *k))
			continue;
		asked = true;
		if (!draft)
			return req_fail(
			    r, ERR_INVALID_STATE, NULL,
			    "You can only update %s on a draft invoice; this one is %s.", *k,
			    in->status);
	}
	if (param_present(r, "rendering") && param_present(r, "rendering_options"))
		return req_fail(r, ERR_PARAM_BAD, "rendering",
				"You cannot pass both rendering and rendering_options.");
	if (!asked)
		return 0;
	json_t *o = in->settings ? json_loads(in->settings, 0, NULL) : json_object();
	if (!json_is_object(o)) {
		json_decref(o);
		return req_fail(r, ERR_API, NULL, NULL);
	}
	int rc = 0;
	const char *s;
	if ((s = param_str(r, "footer")))
		set_str(o, "footer", s);
	if ((s = param_str(r, "statement_descriptor"))) {
		if (*s && !descriptor_ok(s)) {
			rc = req_fail(r, ERR_PARAM_BAD, "statement_descriptor",
				      "The statement descriptor must contain at least one letter "
				      "and none of < > \\ ' \" *.");
			goto out;
		}
		set_str(o, "statement_descriptor", s);
	}
	if (param_present(r, "custom_fields") && (rc = custom_fields_set(r, o)) != 0)
		goto out;
	if (param_present(r, "shipping_details")) {
		const char *ship = NULL;
		if ((rc = shipping_from_params(r, "shipping_details", &ship)) != 0)
			goto out;
		if (set_raw(o, "shipping_details", ship) != 0) {
			rc = req_fail(r, ERR_API, NULL, NULL);
			goto out;
		}
	}
	if ((param_present(r, "rendering") || param_present(r, "rendering_options")) &&
	    (rc = rendering_set(r, o)) != 0)
		goto out;
	if (param_present(r, "default_payment_method") && (rc = pm_set(r, db, in, o)) != 0)
		goto out;
	if (param_present(r, "default_source") && (rc = source_set(r, db, in, o)) != 0)
		goto out;
	if (param_present(r, "shipping_cost") && (rc = shipping_cost_set(r, db, in, o)) != 0)
		goto out;
	if ((param_present(r, "on_behalf_of") || param_present(r, "transfer_data") ||
	     param_present(r, "application_fee_amount")) &&
	    (rc = connect_set(r, db, o)) != 0)
		goto out;
	if (param_present(r, "issuer") && (rc = issuer_set(r, db, o)) != 0)
		goto out;
	if (param_present(r, "account_tax_ids")) {
		/* the merchant's own tax ids (api/tax_ids.c), shown with its details */
		const char *ids = NULL;
		if ((rc = tax_ids_account_param(r, db, "account_tax_ids", "account_tax_ids",
						&ids)) != 0)
			goto out;
		if (set_raw(o, "account_tax_ids", ids && *ids ? ids : NULL) != 0) {
			rc = req_fail(r, ERR_API, NULL, NULL);
			goto out;
		}
	}
	int64_t t = 0;
	if (param_present(r, "effective_at")) {
		if (param_int(r, "effective_at", &t) == 1 && t <= 0) {
			rc = req_fail(r, ERR_PARAM_BAD, "effective_at",
				      "Invalid effective_at: %lld.", (long long)t);
			goto out;
		}
		json_object_set_new(o, "effective_at", t > 0 ? json_integer(t) : json_null());
	}
	char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text) {
		rc = req_fail(r, ERR_API, NULL, NULL);
		goto out;
	}
	in->settings = arena_strdup(&r->arena, text);
	free(text);
	if (!in->settings)
		rc = req_fail(r, ERR_API, NULL, NULL);
out:
	json_decref(o);
	return rc;
}

/* settings' key as JSON text in r's arena (NULL: absent or null) */
const char *invoice_setting(struct req *r, const struct invoice *in, const char *key)
{
	if (!in->settings)
		return NULL;
	json_t *o = json_loads(in->settings, 0, NULL);
	json_t *v = json_object_get(o, key);
	const char *ret = NULL;
	if (v && !json_is_null(v)) {
		char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		if (text)
			ret = arena_strdup(&r->arena, text);
		free(text);
	}
	json_decref(o);
	return ret;
}

/* settings' string key (NULL: none), in r's arena */
const char *invoice_setting_str(struct req *r, const struct invoice *in, const char *key)
{
	if (!in->settings)
		return NULL;
	json_t *o = json_loads(in->settings, 0, NULL);
	const char *v = json_string_value(json_object_get(o, key));
	const char *ret = v ? arena_strdup(&r->arena, v) : NULL;
	json_decref(o);
	return ret;
}

int64_t invoice_effective_at(const struct invoice *in)
{
	int64_t t = 0;
	if (in->settings) {
		json_t *o = json_loads(in->settings, 0, NULL);
		json_t *v = json_object_get(o, "effective_at");
		if (json_is_integer(v))
			t = json_integer_value(v);
		json_decref(o);
	}
	/* Stripe: the same as finalized_at unless it was given; a draft's is what was given */
	return t ? t : in->finalized_at;
}

void invoice_settings_render(struct req *r, const struct invoice *in, const char *key,
			     struct json *j)
{
	json_kv_raw_or_null(j, key, invoice_setting(r, in, key));
}

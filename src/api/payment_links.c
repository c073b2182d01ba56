/*
 * /v1/payment_links: fixed line items (prices of the merchant, one currency) that
 * anyone can pay at the link's url, a page Tender serves without an API key
 * (/pay/{acct}/{plink}). Each visit opens a Checkout Session for the link's items, as Stripe's
 * links do, and the browser goes on to that session's page (checkout.c): the card form, the
 * PaymentIntent for the total (metadata.payment_link names the link), 3-D Secure, then the
 * link's after_completion (its redirect URL as the session's success_url, or a confirmation on
 * Tender's page) and checkout.session.completed.
 *
 * Shipping: shipping_options (resolved when the link is made, checkout_shipping_options) and
 * shipping_address_collection are kept on the link and given to each payment's session; the
 * link's page offers them as the session's page does, and the session checks the buyer's
 * choice and address (checkout.c).
 *
 * automatic_tax[enabled] (create, update): each payment's session has it (checkout.c's
 * automatic tax), so the buyer gives the address the tax is worked out for before the card.
 * The link's page then takes no card itself: its form (POST …/start, with the page's one-time
 * value) opens the session and sends the browser to the session's own page, which asks for
 * the address, shows the tax and takes the card.
 *
 * allow_promotion_codes (create, update): each payment's session has it; the link's page then
 * goes on to the session's page the same way, whose promotion code field changes the total
 * before the card is taken (checkout.c's discounts).
 *
 * Update also takes payment_method_types and shipping_address_collection ('' clears either),
 * and line_items[n][id, quantity, adjustable_quantity] (the quantity of an item it has, its
 * range set or cleared), the link then held to create's rules.
 *
 * line_items[n][adjustable_quantity] (create, update): each payment's session inherits the
 * line's, and the link's page goes on to the session's page as with automatic tax, where the
 * buyer chooses the quantities (checkout.c) before the card. A change reaches the sessions opened
 * afterwards; a session already opened keeps what it was made with.
 *
 * What the page asks of the buyer and what the payment makes (billing_address_collection,
 * custom_fields, custom_text, customer_creation, invoice_creation, phone_number_collection,
 * payment_method_collection, consent_collection, tax_id_collection,
 * payment_intent_data[setup_future_usage]; update: those 2023-08-16 updates): checked by the
 * session's own code (checkout_link_settings, as a payment-mode session's), kept as the session's
 * `collect` JSON and custom_fields, and given to each payment's session, whose page asks for
 * them (the link's page goes on to it, as with automatic tax) and whose payment makes the
 * invoice and the customer.
 *
 * Recurring prices (create; priced as a subscription-mode session prices them): each payment's
 * session is in subscription mode with the link's subscription_data[trial_period_days,
 * description, metadata], and the link's page goes on to it, whose page takes the card and makes
 * the subscription. What only a payment takes (submit_type, payment_intent_data,
 * customer_creation, invoice_creation), shipping and types other than cards are refused.
 *
 * Connect (create): application_fee_amount and transfer_data[destination, amount] (one-time
 * prices), application_fee_percent (recurring prices), on_behalf_of, checked as a
 * PaymentIntent's (billing_connect_check; a fee needs a destination or the Stripe-Account
 * header). Each payment's session carries them (payment_link_connect): its PaymentIntent is a
 * destination charge with that fee and transfer (each at most what the buyer pays), or its
 * subscription takes application_fee_percent, transfer_data[destination] and on_behalf_of,
 * which its invoices' PaymentIntents carry (subscriptions.c).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/billing_internal.h"
#include "api/challenge.h"
#include "api/common.h"
#include "api/payments_common.h"
#include "payments/pm_types.h"
#include "api/list.h"
#include "api/resources.h"
#include "core/id.h"
#include "core/str.h"
#include "http/form.h"
#include "money/currency.h"
#include "payments/payments.h"
#include "tax/engine.h"

#define LINE_ITEMS_MAX 20
#define AMOUNT_TOTAL_MAX 99999999 /* a PaymentIntent's most (checkout.c's bound) */

struct link {
	char id[ID_MAX];
	int64_t created, amount_total;
	bool active;
	char currency[8];
	const char *line_items, *after_type, *redirect_url, *confirmation_message, *submit_type;
	const char *pi_capture_method, *pi_description, *metadata;
	struct checkout_shipping ship; /* passed to each payment's session */
	bool automatic_tax;	       /* automatic_tax[enabled], passed to each session too */
	/* payment_method_types (a JSON array), or NULL (Stripe's null: the account's default,
	 * cards); passed to each session too */
	const char *pm_types;
	/* allow_promotion_codes: each payment's session offers its promotion code field */
	bool allow_promo;
	/* what each payment's page asks of the buyer and what the payment makes
	 * (checkout_link_settings): a session's `collect` JSON and its custom_fields (NULL: none)
	 */
	const char *collect, *custom_fields;
	/* recurring prices: each payment's session is in subscription mode, with this
	 * subscription_data (sub.metadata JSON; trial_days 0: none) */
	bool recurring;
	struct checkout_link_sub sub;
	/* Connect (see "Connect"): application_fee_amount, application_fee_percent (percent_e4),
	 * -1 when none; on_behalf_of; transfer_data as shown ({amount, destination} JSON; NULL:
	 * none) and its fields */
	int64_t fee_amount, fee_e4;
	const char *on_behalf_of, *transfer_data, *transfer_destination;
	int64_t transfer_amount; /* -1: none (the whole payment) */
};

static const char SQL_GET[] =
    "SELECT id, created, active, currency, amount_total, line_items, after_completion_type,"
    " redirect_url, confirmation_message, submit_type, pi_capture_method, pi_description,"
    " metadata, shipping_options, shipping_rate, shipping_amount, shipping_countries,"
    " automatic_tax, payment_method_types, allow_promotion_codes, collect, custom_fields,"
    " recurring, sub_trial_days, sub_description, sub_metadata, application_fee_amount,"
    " application_fee_percent, on_behalf_of, transfer_data FROM payment_links"
    " WHERE merchant_id = $1 AND id = $2";
static const char SQL_INSERT[] =
    "INSERT INTO payment_links (merchant_id, id, created, active, currency, amount_total,"
    " line_items, after_completion_type, redirect_url, confirmation_message, submit_type,"
    " pi_capture_method, pi_description, metadata, shipping_options, shipping_rate,"
    " shipping_amount, shipping_countries, automatic_tax, payment_method_types,"
    " allow_promotion_codes, collect, custom_fields, recurring, sub_trial_days, sub_description,"
    " sub_metadata, application_fee_amount, application_fee_percent, on_behalf_of,"
    " transfer_data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,"
    " $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31)";
static const char SQL_UPDATE[] =
    "UPDATE payment_links SET active = $3, after_completion_type = $4, redirect_url = $5,"
    " confirmation_message = $6, metadata = $7, automatic_tax = $8,"
    " payment_method_types = $9, shipping_countries = $10, allow_promotion_codes = $11,"
    " line_items = $12, amount_total = $13, collect = $14, custom_fields = $15"
    " WHERE merchant_id = $1 AND id = $2";

static int link_load(struct req *r, struct db *db, const char *merchant_id, const char *id,
		     struct link *l)
{
	struct db_stmt *st = db_prepare(db, SQL_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		memset(l, 0, sizeof(*l));
		str_copy(l->id, sizeof(l->id), db_col_text(st, 0, NULL));
		l->created = db_col_int64(st, 1);
		l->active = db_col_int64(st, 2) != 0;
		str_copy(l->currency, sizeof(l->currency), db_col_text(st, 3, NULL));
		l->amount_total = db_col_int64(st, 4);
		l->line_items = col_text_dup(&r->arena, st, 5);
		l->after_type = col_text_dup(&r->arena, st, 6);
		l->redirect_url = col_text_dup(&r->arena, st, 7);
		l->confirmation_message = col_text_dup(&r->arena, st, 8);
		l->submit_type = col_text_dup(&r->arena, st, 9);
		l->pi_capture_method = col_text_dup(&r->arena, st, 10);
		l->pi_description = col_text_dup(&r->arena, st, 11);
		l->metadata = col_text_dup(&r->arena, st, 12);
		l->ship.options = col_text_dup(&r->arena, st, 13);
		l->ship.rate = col_text_dup(&r->arena, st, 14);
		l->ship.amount = db_col_int64(st, 15);
		l->ship.countries = col_text_dup(&r->arena, st, 16);
		l->automatic_tax = db_col_int64(st, 17) != 0;
		l->pm_types = col_text_dup(&r->arena, st, 18);
		l->allow_promo = db_col_int64(st, 19) != 0;
		l->collect = col_text_dup(&r->arena, st, 20);
		l->custom_fields = col_text_dup(&r->arena, st, 21);
		l->recurring = db_col_int64(st, 22) != 0;
		l->sub.trial_days = db_col_int64(st, 23);
		l->sub.description = col_text_dup(&r->arena, st, 24);
		l->sub.metadata = col_text_dup(&r->arena, st, 25);
		l->fee_amount = db_col_is_null(st, 26) ? -1 : db_col_int64(st, 26);
		l->fee_e4 = db_col_is_null(st, 27) ? -1 : db_col_int64(st, 27);
		l->on_behalf_of = col_text_dup(&r->arena, st, 28);
		l->transfer_data = col_text_dup(&r->arena, st, 29);
		l->transfer_amount = -1;
		if (l->transfer_data) {
			json_t *o = json_loads(l->transfer_data, 0, NULL);
			const char *d = json_string_value(json_object_get(o, "destination"));
			json_t *a = json_object_get(o, "amount");
			l->transfer_destination = d ? arena_strdup(&r->arena, d) : NULL;
			if (json_is_integer(a))
				l->transfer_amount = json_integer_value(a);
			json_decref(o);
			if (!l->transfer_destination)
				rc = DB_ERR;
		}
		if (!l->line_items || !l->after_type || !l->submit_type || !l->metadata)
			rc = DB_ERR;
	}
	db_reset(st);
	if (rc == DB_ROW)
		return DB_OK;
	return rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
}

/* ---- rendering ---- */

static const char *link_url(struct req *r, const char *merchant_id, const char *id)
{
	const char *base = req_url_base(r);
	return arena_printf(&r->arena, "%s/pay/%s/%s", base, merchant_id, id);
}

/* key of the link's settings c (its sessions' `collect` JSON), or Stripe's default for a link */
static void setting_kv(struct json *j, json_t *c, const char *key, const char *fallback)
{
	json_t *v = json_object_get(c, key);
	char *t = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS) : NULL;
	const char *out = t ? t : fallback;
	json_kv_raw(j, key, out, strlen(out));
	free(t);
}

/* custom_fields as a link shows them: each field's definition, without the `value` a session
 * fills in from its buyer's answer */
static void custom_fields_kv(struct json *j, const char *custom_fields)
{
	json_t *fs = custom_fields ? json_loads(custom_fields, 0, NULL) : NULL;
	size_t i;
	json_t *f;
	json_array_foreach(fs, i, f)
	{
		static const char *const kinds[] = {"dropdown", "numeric", "text"};
		for (size_t k = 0; k < 3; k++)
			if (json_is_object(json_object_get(f, kinds[k])))
				json_object_del(json_object_get(f, kinds[k]), "value");
	}
	char *t = json_is_array(fs) ? json_dumps(fs, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(fs);
	json_kv_raw(j, "custom_fields", t ? t : "[]", t ? strlen(t) : 2);
	free(t);
}

static void link_render(struct req *r, const struct link *l, struct json *j)
{
	json_t *c = l->collect ? json_loads(l->collect, 0, NULL) : NULL;
	/* payment_intent_data's that each session keeps in its collect (checkout.c's pi_data) */
	json_t *pid = json_object_get(c, "payment_intent_data");
	const char *sfu = json_string_value(json_object_get(pid, "setup_future_usage"));
	const char *sd = json_string_value(json_object_get(pid, "statement_descriptor"));
	const char *sds = json_string_value(json_object_get(pid, "statement_descriptor_suffix"));
	json_t *pmeta = json_object_get(pid, "metadata");
	json_obj_open(j);
	json_kv_str(j, "id", l->id);
	json_kv_str(j, "object", "payment_link");
	json_kv_bool(j, "active", l->active);
	json_key(j, "after_completion");
	json_obj_open(j);
	if (strcmp(l->after_type, "redirect") == 0) {
		json_key(j, "redirect");
		json_obj_open(j);
		json_kv_str_or_null(j, "url", l->redirect_url);
		json_obj_close(j);
	} else {
		json_key(j, "hosted_confirmation");
		json_obj_open(j);
		json_kv_str_or_null(j, "custom_message", l->confirmation_message);
		json_obj_close(j);
	}
	json_kv_str(j, "type", l->after_type);
	json_obj_close(j);
	json_kv_bool(j, "allow_promotion_codes", l->allow_promo);
	json_kv_null(j, "application");
	if (l->fee_amount >= 0)
		json_kv_int(j, "application_fee_amount", l->fee_amount);
	else
		json_kv_null(j, "application_fee_amount");
	if (l->fee_e4 >= 0) {
		char pct[16];
		billing_percent_format(l->fee_e4, pct, sizeof(pct));
		json_kv_raw(j, "application_fee_percent", pct, strlen(pct));
	} else {
		json_kv_null(j, "application_fee_percent");
	}
	json_key(j, "automatic_tax");
	json_obj_open(j);
	json_kv_bool(j, "enabled", l->automatic_tax);
	if (l->automatic_tax) {
		json_key(j, "liability");
		json_obj_open(j);
		json_kv_str(j, "type", "self");
		json_obj_close(j);
	} else {
		json_kv_null(j, "liability");
	}
	json_obj_close(j);
	/* billing_address_collection: a session's null is a link's auto */
	json_t *bac = json_object_get(c, "billing_address_collection");
	json_kv_str(j, "billing_address_collection",
		    json_is_string(bac) ? json_string_value(bac) : "auto");
	setting_kv(j, c, "consent_collection", "null");
	json_kv_str(j, "currency", l->currency);
	custom_fields_kv(j, l->custom_fields);
	setting_kv(j, c, "custom_text",
		   "{\"after_submit\":null,\"shipping_address\":null,\"submit\":null,"
		   "\"terms_of_service_acceptance\":null}");
	setting_kv(j, c, "customer_creation", "\"if_required\"");
	json_kv_null(j, "inactive_message");
	setting_kv(j, c, "invoice_creation", "{\"enabled\":false,\"invoice_data\":null}");
	json_kv_bool(j, "livemode", r->livemode);
	json_kv_raw(j, "metadata", l->metadata, strlen(l->metadata));
	json_kv_str_or_null(j, "on_behalf_of", l->on_behalf_of);
	json_key(j, "payment_intent_data");
	if (l->pi_capture_method || l->pi_description || pid) {
		json_obj_open(j);
		json_kv_str_or_null(j, "capture_method", l->pi_capture_method);
		json_kv_str_or_null(j, "description", l->pi_description);
		setting_kv(j, json_is_object(pmeta) ? pid : NULL, "metadata", "{}");
		json_kv_str_or_null(j, "setup_future_usage", sfu);
		json_kv_str_or_null(j, "statement_descriptor", sd);
		json_kv_str_or_null(j, "statement_descriptor_suffix", sds);
		json_kv_null(j, "transfer_group");
		json_obj_close(j);
	} else {
		json_nil(j);
	}
	setting_kv(j, c, "payment_method_collection", "\"always\"");
	if (l->pm_types)
		json_kv_raw(j, "payment_method_types", l->pm_types, strlen(l->pm_types));
	else
		json_kv_null(j, "payment_method_types");
	setting_kv(j, c, "phone_number_collection", "{\"enabled\":false}");
	json_kv_null(j, "restrictions");
	json_key(j, "shipping_address_collection");
	if (l->ship.countries) {
		json_obj_open(j);
		json_kv_raw(j, "allowed_countries", l->ship.countries, strlen(l->ship.countries));
		json_obj_close(j);
	} else {
		json_nil(j);
	}
	json_key(j, "shipping_options");
	json_arr_open(j);
	json_t *opts = l->ship.options ? json_loads(l->ship.options, 0, NULL) : NULL;
	size_t i;
	json_t *o;
	json_array_foreach(opts, i, o)
	{
		json_obj_open(j);
		json_kv_int(j, "shipping_amount",
			    json_integer_value(json_object_get(o, "shipping_amount")));
		json_kv_str(j, "shipping_rate",
			    json_string_value(json_object_get(o, "shipping_rate")));
		json_obj_close(j);
	}
	json_decref(opts);
	json_arr_close(j);
	json_kv_str(j, "submit_type", l->submit_type);
	json_key(j, "subscription_data");
	if (l->recurring) {
		json_obj_open(j);
		json_kv_str_or_null(j, "description", l->sub.description);
		json_kv_raw(j, "metadata", l->sub.metadata ? l->sub.metadata : "{}",
			    l->sub.metadata ? strlen(l->sub.metadata) : 2);
		if (l->sub.trial_days > 0)
			json_kv_int(j, "trial_period_days", l->sub.trial_days);
		else
			json_kv_null(j, "trial_period_days");
		json_obj_close(j);
	} else {
		json_nil(j);
	}
	setting_kv(j, c, "tax_id_collection", "{\"enabled\":false,\"required\":\"never\"}");
	json_kv_raw_or_null(j, "transfer_data", l->transfer_data);
	json_kv_str(j, "url", link_url(r, r->merchant_id, l->id));
	json_obj_close(j);
	json_decref(c);
}

static int emit(struct req *r, struct db *db, const struct link *l, const char *type,
		const char *prev)
{
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 20);
	json_init(&j, &b);
	link_render(r, l, &j);
	int rc = b.failed ? req_fail(r, ERR_API, NULL, NULL)
			  : payments_event(r, db, type, l->id, b.data, b.len, prev);
	buf_release(&b);
	return rc;
}

/* ---- parameters ---- */

static const char *const after_types[] = {"hosted_confirmation", "redirect", NULL};
static const struct param_spec line_item_children[] = {
    {"price", PT_STRING, PF_REQUIRED, 255, NULL, NULL},
    {"quantity", PT_INT, 0, 0, NULL, NULL},
    {"adjustable_quantity", PT_OBJECT, 0, 0, NULL, checkout_adjustable_params},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec redirect_children[] = {
    {"url", PT_STRING, PF_REQUIRED, 2048, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec confirmation_children[] = {
    {"custom_message", PT_STRING, PF_EMPTYABLE, 500, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec after_children[] = {
    {"type", PT_ENUM, PF_REQUIRED, 0, after_types, NULL},
    {"redirect", PT_OBJECT, 0, 0, NULL, redirect_children},
    {"hosted_confirmation", PT_OBJECT, 0, 0, NULL, confirmation_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec pi_data_children[] = {
    {"capture_method", PT_ENUM, 0, 0,
     (const char *const[]){"automatic", "automatic_async", "manual", NULL}, NULL},
    {"description", PT_STRING, 0, 1000, NULL, NULL},
    {"setup_future_usage", PT_ENUM, 0, 0, (const char *const[]){"off_session", "on_session", NULL},
     NULL},
    /* these three as a session's (checkout_link_settings) */
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"statement_descriptor", PT_STRING, 0, 22, NULL, NULL},
    {"statement_descriptor_suffix", PT_STRING, 0, 22, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const char *const bac_values[] = {"auto", "required", NULL};
static const struct param_spec sub_data_children[] = {
    {"description", PT_STRING, 0, 500, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"trial_period_days", PT_INT, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const char *const cc_values[] = {"always", "if_required", NULL};
static const char *const pmc_values[] = {"always", "if_required", NULL};
static const struct param_spec shipping_option_children[] = {
    {"shipping_rate", PT_STRING, 0, 255, NULL, NULL},
    {"shipping_rate_data", PT_OBJECT, 0, 0, NULL, shipping_rate_data_params},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec shipping_collection_children[] = {
    {"allowed_countries", PT_STRING_ARRAY, PF_REQUIRED, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec liability_children[] = {
    {"type", PT_ENUM, PF_REQUIRED, 0, (const char *const[]){"self", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec automatic_tax_children[] = {
    {"enabled", PT_BOOL, PF_REQUIRED, 0, NULL, NULL},
    {"liability", PT_OBJECT, 0, 0, NULL, liability_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec transfer_data_children[] = {
    {"destination", PT_STRING, PF_REQUIRED, 255, NULL, NULL},
    {"amount", PT_INT, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec create_params[] = {
    {"allow_promotion_codes", PT_BOOL, 0, 0, NULL, NULL},
    {"automatic_tax", PT_OBJECT, 0, 0, NULL, automatic_tax_children},
    {"line_items", PT_OBJECT_ARRAY, PF_REQUIRED, LINE_ITEMS_MAX, NULL, line_item_children},
    {"shipping_options", PT_OBJECT_ARRAY, 0, 5, NULL, shipping_option_children},
    {"shipping_address_collection", PT_OBJECT, 0, 0, NULL, shipping_collection_children},
    {"after_completion", PT_OBJECT, 0, 0, NULL, after_children},
    {"currency", PT_CURRENCY, 0, 0, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"payment_intent_data", PT_OBJECT, 0, 0, NULL, pi_data_children},
    {"payment_method_types", PT_STRING_ARRAY, 0, 0, NULL, NULL},
    {"submit_type", PT_ENUM, 0, 0, (const char *const[]){"auto", "book", "donate", "pay", NULL},
     NULL},
    /* what each payment's page asks and makes: a session's own parameters
     * (checkout_link_settings) */
    {"billing_address_collection", PT_ENUM, 0, 0, bac_values, NULL},
    {"consent_collection", PT_OBJECT, 0, 0, NULL, checkout_consent_collection_params},
    {"custom_fields", PT_OBJECT_ARRAY, 0, CHECKOUT_CUSTOM_FIELDS_MAX, NULL,
     checkout_custom_field_params},
    {"custom_text", PT_OBJECT, 0, 0, NULL, checkout_custom_text_params},
    {"customer_creation", PT_ENUM, 0, 0, cc_values, NULL},
    {"invoice_creation", PT_OBJECT, 0, 0, NULL, checkout_invoice_creation_params},
    {"payment_method_collection", PT_ENUM, 0, 0, pmc_values, NULL},
    {"phone_number_collection", PT_OBJECT, 0, 0, NULL, checkout_enabled_params},
    {"tax_id_collection", PT_OBJECT, 0, 0, NULL, checkout_tax_id_collection_params},
    {"subscription_data", PT_OBJECT, 0, 0, NULL, sub_data_children},
    {"application_fee_amount", PT_INT, 0, 0, NULL, NULL},
    {"application_fee_percent", PT_STRING, 0, 16, NULL, NULL},
    {"on_behalf_of", PT_STRING, 0, 255, NULL, NULL},
    {"transfer_data", PT_OBJECT, 0, 0, NULL, transfer_data_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec line_item_update_children[] = {
    {"id", PT_STRING, PF_REQUIRED, 255, NULL, NULL},
    {"quantity", PT_INT, 0, 0, NULL, NULL},
    {"adjustable_quantity", PT_OBJECT, 0, 0, NULL, checkout_adjustable_params},
    {NULL, 0, 0, 0, NULL, NULL},
};
/* 2023-08-16's update: of the collection settings, those below (not consent_collection,
 * phone_number_collection or tax_id_collection); custom_fields '' clears them. */
static const struct param_spec update_params[] = {
    {"billing_address_collection", PT_ENUM, 0, 0, bac_values, NULL},
    {"custom_fields", PT_OBJECT_ARRAY, PF_EMPTYABLE, CHECKOUT_CUSTOM_FIELDS_MAX, NULL,
     checkout_custom_field_params},
    {"custom_text", PT_OBJECT, 0, 0, NULL, checkout_custom_text_params},
    {"customer_creation", PT_ENUM, 0, 0, cc_values, NULL},
    {"invoice_creation", PT_OBJECT, 0, 0, NULL, checkout_invoice_creation_params},
    {"payment_method_collection", PT_ENUM, 0, 0, pmc_values, NULL},
    {"line_items", PT_OBJECT_ARRAY, 0, LINE_ITEMS_MAX, NULL, line_item_update_children},
    {"allow_promotion_codes", PT_BOOL, 0, 0, NULL, NULL},
    {"automatic_tax", PT_OBJECT, 0, 0, NULL, automatic_tax_children},
    {"payment_method_types", PT_STRING_ARRAY, PF_EMPTYABLE, 0, NULL, NULL},
    {"shipping_address_collection", PT_OBJECT, PF_EMPTYABLE, 0, NULL, shipping_collection_children},
    {"active", PT_BOOL, 0, 0, NULL, NULL},
    {"after_completion", PT_OBJECT, 0, 0, NULL, after_children},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec list_params[] = {
    {"active", PT_BOOL, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

/* after_completion from the request onto l. 0, or -1 with r->err. */
static int apply_after(struct req *r, struct link *l)
{
	const char *type = param_str(r, "after_completion.type");
	if (!type)
		return 0;
	l->after_type = type;
	l->redirect_url = NULL;
	l->confirmation_message = NULL;
	if (strcmp(type, "redirect") == 0) {
		const char *url = param_str(r, "after_completion.redirect.url");
		if (!url)
			return req_fail(r, ERR_PARAM_MISSING, "after_completion[redirect][url]",
					"%s", "after_completion[redirect][url]");
		if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)
			return req_fail(r, ERR_URL_INVALID, "after_completion[redirect][url]",
					"Invalid URL: %s must be an absolute http(s) URL.",
					"after_completion[redirect][url]");
		l->redirect_url = url;
	} else {
		const char *msg =
		    param_str(r, "after_completion.hosted_confirmation.custom_message");
		l->confirmation_message = msg && *msg ? msg : NULL;
	}
	return 0;
}

/* automatic tax needs the merchant's tax settings to give a tax behavior (the prices carry
 * none), as a session's or an invoice's does. 0, or -1 with r->err. */
static int auto_tax_ready(struct req *r, struct db *db)
{
	struct tax_context ctx;
	bool located;
	const char *behavior = NULL;
	if (invoice_auto_tax_place_at(r, db, NULL, NULL, r->now, &ctx, &located, &behavior) != 0)
		return -1;
	if (!behavior || !*behavior)
		return req_fail(r, ERR_PARAM_BAD, "automatic_tax[enabled]",
				"A tax behavior must be specified on the price or as a default in "
				"the tax settings (defaults[tax_behavior]) to use automatic tax.");
	return 0;
}

/* ---- create ---- */

struct create_ctx {
	struct req *r;
	struct link l;
};

/* ---- Connect ---- */

/* application_fee_amount, application_fee_percent, on_behalf_of, transfer_data[destination,
 * amount] of a create onto l. 0, or -1 with r->err. */
static int connect_params(struct req *r, struct link *l)
{
	l->fee_amount = l->fee_e4 = l->transfer_amount = -1;
	if (param_int(r, "application_fee_amount", &l->fee_amount) == 1 &&
	    (l->fee_amount < 0 || l->fee_amount > AMOUNT_TOTAL_MAX))
		return req_fail(r, ERR_PARAM_BAD, "application_fee_amount",
				"application_fee_amount must be between 0 and %d.",
				AMOUNT_TOTAL_MAX);
	const char *v = param_str(r, "application_fee_percent");
	if (v && billing_percent2_parse(r, "application_fee_percent", v, &l->fee_e4) != 0)
		return -1;
	v = param_str(r, "on_behalf_of");
	l->on_behalf_of = v && *v ? v : NULL;
	l->transfer_destination = param_str(r, "transfer_data.destination");
	if (!l->transfer_destination)
		return 0;
	if (param_int(r, "transfer_data.amount", &l->transfer_amount) == 1 &&
	    (l->transfer_amount < 1 || l->transfer_amount > AMOUNT_TOTAL_MAX))
		return req_fail(r, ERR_PARAM_BAD, "transfer_data[amount]",
				"transfer_data[amount] must be between 1 and %d.",
				AMOUNT_TOTAL_MAX);
	if (l->transfer_amount >= 0)
		l->transfer_data = arena_printf(&r->arena, "{\"amount\":%lld,\"destination\":%s}",
						(long long)l->transfer_amount,
						json_quote(r, l->transfer_destination));
	else
		l->transfer_data = arena_printf(&r->arena, "{\"amount\":null,\"destination\":%s}",
						json_quote(r, l->transfer_destination));
	return l->transfer_data ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* Inside the create's write, its prices read: Stripe's rules on the lines (amounts only
 * without recurring prices, a percentage only with them), the fee at most the link's total,
 * usable accounts. 0, or -1 with r->err. */
static int connect_check(struct req *r, struct db *db, const struct link *l)
{
	if (l->recurring && l->fee_amount >= 0)
		return req_fail(r, ERR_PARAM_BAD, "application_fee_amount",
				"application_fee_amount can only be applied when there are no line "
				"items with recurring prices.");
	if (l->recurring && l->transfer_amount >= 0)
		return req_fail(r, ERR_PARAM_BAD, "transfer_data[amount]",
				"transfer_data[amount] can only be applied when there are no line "
				"items with recurring prices.");
	if (!l->recurring && l->fee_e4 >= 0)
		return req_fail(r, ERR_PARAM_BAD, "application_fee_percent",
				"There must be at least 1 line item with a recurring price to use "
				"application_fee_percent.");
	if (l->fee_amount > l->amount_total)
		return req_fail(
		    r, ERR_PARAM_BAD, "application_fee_amount",
		    "application_fee_amount cannot be more than the link's total (%lld).",
		    (long long)l->amount_total);
	if ((l->fee_amount >= 0 || l->fee_e4 >= 0) && !l->transfer_destination &&
	    !r->platform_id[0])
		return req_fail(
		    r, ERR_PARAM_BAD,
		    l->fee_amount >= 0 ? "application_fee_amount" : "application_fee_percent",
		    "Can only apply an application fee when the request is made on behalf "
		    "of another account (using an OAuth key or the Stripe-Account header) "
		    "or with transfer_data[destination].");
	return billing_connect_check(r, db, l->transfer_destination, l->on_behalf_of);
}

int payment_link_connect(struct req *r, struct db *db, const char *link, int64_t amount,
			 struct payment_connect *ret, int64_t *ret_fee_e4)
{
	struct link l;
	int rc = link_load(r, db, r->merchant_id, link, &l);
	if (rc == DB_NOTFOUND)
		return 0;
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	*ret_fee_e4 = l.fee_e4;
	if (l.fee_amount < 0 && l.fee_e4 < 0 && !l.transfer_destination && !l.on_behalf_of)
		return 0;
	memset(ret, 0, sizeof(*ret));
	ret->destination = l.transfer_destination;
	ret->on_behalf_of = l.on_behalf_of;
	/* at most what the buyer pays (adjustable quantities, discounts may lower it) */
	if (l.fee_amount > 0)
		ret->application_fee_amount = l.fee_amount < amount ? l.fee_amount : amount;
	if (l.transfer_amount > 0)
		ret->transfer_amount = l.transfer_amount < amount ? l.transfer_amount : amount;
	return 1;
}

/* Whether the request's line items have a recurring price (a link that then makes
 * subscriptions, as on Stripe); a price that cannot be read is left to checkout_price_items. */
static bool items_recurring(struct req *r, struct db *db)
{
	const struct form_node *items = param_node(r, "line_items");
	for (const struct form_node *it = items ? items->first_child : NULL; it; it = it->next) {
		const struct form_node *pn = form_get(it, "price");
		struct price_facts pf;
		if (pn && pn->value && price_facts_in(r, db, pn->value, NULL, &pf) == DB_OK &&
		    pf.recurring)
			return true;
	}
	return false;
}

/* A link of recurring prices makes a subscription-mode session per payment: not what only a
 * payment takes (submit_type, payment_intent_data), nor what Tender's subscription-mode
 * sessions refuse (shipping) or its recurring links do not offer (types but cards); a link of
 * one-time prices takes no subscription_data. 0, or -1 with r->err. */
static int mode_check(struct req *r, const struct link *l)
{
	if (!l->recurring)
		return param_present(r, "subscription_data")
			   ? req_fail(r, ERR_PARAM_BAD, "subscription_data",
				      "There must be at least one line item with a recurring "
				      "price to use `subscription_data`.")
			   : 0;
	static const char *const payment_only[] = {"submit_type", "payment_intent_data"};
	for (size_t i = 0; i < 2; i++)
		if (param_present(r, payment_only[i]))
			return req_fail(r, ERR_PARAM_BAD, payment_only[i],
					"`%s` can only be used with one-time prices: this link "
					"has a recurring price.",
					payment_only[i]);
	static const char *const shipping[] = {"shipping_options", "shipping_address_collection"};
	for (size_t i = 0; i < 2; i++)
		if (param_present(r, shipping[i]))
			return req_fail(r, ERR_PARAM_BAD, shipping[i],
					"Tender's subscription checkouts take no shipping: `%s` "
					"cannot be used with a recurring price.",
					shipping[i]);
	if (l->pm_types && pm_types_from_json(l->pm_types, PMT_CARD) != PMT_CARD)
		return req_fail(r, ERR_PARAM_BAD, "payment_method_types",
				"Tender's payment links of recurring prices take cards only.");
	return 0;
}

static int create_fn(struct db *db, void *arg)
{
	struct create_ctx *c = arg;
	struct req *r = c->r;
	struct link *l = &c->l;
	l->recurring = items_recurring(r, db);
	if (mode_check(r, l) != 0)
		return -1;
	if (checkout_price_items(r, db, "line_items", param_str(r, "currency"), l->recurring,
				 &l->line_items, &l->amount_total, l->currency) != 0 ||
	    connect_check(r, db, l) != 0)
		return -1;
	if (l->recurring && checkout_sub_data_parse(r, &l->sub) != 0)
		return -1;
	/* what each payment's session asks and makes, checked as that session's (its mode
	 * known once the prices are) */
	struct checkout_shipping ship = l->ship;
	if (param_present(r, "shipping_options"))
		ship.options = "[]"; /* resolved below; the settings need only whether any */
	const struct checkout_link_in in = {.ship = &ship,
					    .sub = l->recurring,
					    .allow_promotion_codes = l->allow_promo,
					    .automatic_tax = l->automatic_tax,
					    .pm_types = l->pm_types};
	if (checkout_link_settings(r, &in, &l->collect, &l->custom_fields) != 0)
		return -1;
	/* its shipping options, in its currency; each payment's session offers them */
	l->ship.options = NULL;
	l->ship.rate = NULL;
	l->ship.amount = 0;
	if (checkout_shipping_options(r, db, l->currency, &l->ship) != 0 ||
	    (l->automatic_tax && auto_tax_ready(r, db) != 0))
		return -1;
	int64_t with_shipping;
	if (__builtin_add_overflow(l->amount_total, l->ship.amount, &with_shipping) ||
	    with_shipping > AMOUNT_TOTAL_MAX)
		return req_fail(r, ERR_AMOUNT_TOO_LARGE, "shipping_options",
				"The total with shipping must be at most %d.", AMOUNT_TOTAL_MAX);
	if (pm_types_check_currency(r, pm_types_from_json(l->pm_types, PMT_CARD), l->currency,
				    "payment_method_types") != 0)
		return -1;
	/* a lender the total does not fit is hidden on each session's page; none left: a 400 */
	if (checkout_bnpl_check_amount(r, pm_types_from_json(l->pm_types, PMT_CARD), with_shipping,
				       l->currency, "line_items") != 0)
		return -1;
	struct db_stmt *st = db_prepare(db, SQL_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, l->id, -1);
	db_bind_int64(st, 3, l->created);
	db_bind_int64(st, 4, l->active);
	db_bind_text(st, 5, l->currency, -1);
	db_bind_int64(st, 6, l->amount_total);
	db_bind_text(st, 7, l->line_items, -1);
	db_bind_text(st, 8, l->after_type, -1);
	db_bind_text(st, 9, l->redirect_url, -1);
	db_bind_text(st, 10, l->confirmation_message, -1);
	db_bind_text(st, 11, l->submit_type, -1);
	db_bind_text(st, 12, l->pi_capture_method, -1);
	db_bind_text(st, 13, l->pi_description, -1);
	db_bind_text(st, 14, l->metadata, -1);
	db_bind_text(st, 15, l->ship.options, -1);
	db_bind_text(st, 16, l->ship.rate, -1);
	db_bind_int64(st, 17, l->ship.amount);
	db_bind_text(st, 18, l->ship.countries, -1);
	db_bind_int64(st, 19, l->automatic_tax ? 1 : 0);
	db_bind_text(st, 20, l->pm_types, -1);
	db_bind_int64(st, 21, l->allow_promo ? 1 : 0);
	db_bind_text(st, 22, l->collect, -1);
	db_bind_text(st, 23, l->custom_fields, -1);
	db_bind_int64(st, 24, l->recurring ? 1 : 0);
	db_bind_int64(st, 25, l->sub.trial_days);
	db_bind_text(st, 26, l->sub.description, -1);
	db_bind_text(st, 27, l->sub.metadata, -1);
	if (l->fee_amount >= 0)
		db_bind_int64(st, 28, l->fee_amount);
	else
		db_bind_null(st, 28);
	if (l->fee_e4 >= 0)
		db_bind_int64(st, 29, l->fee_e4);
	else
		db_bind_null(st, 29);
	db_bind_text(st, 30, l->on_behalf_of, -1);
	db_bind_text(st, 31, l->transfer_data, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (emit(r, db, l, "payment_link.created", NULL) != 0)
		return -1;
	link_render(r, l, req_json(r));
	return 0;
}

/* payment_method_types: card, sepa_debit, us_bank_account, ideal, bancontact, affirm,
 * afterpay_clearpay and klarna, as a Checkout Session takes them (each payment's session gets
 * the list); with a bank debit, redirect or lender, what its form does not ask for (shipping,
 * except a lender's form; an address before the payment, automatic_tax) and what such a payment
 * cannot do (a manual capture, except a lender's) is refused. 0, or -1 with r->err. */
#define LINK_PM_TYPES                                                                              \
	(PMT_CARD | PMT_SEPA_DEBIT | PMT_US_BANK_ACCOUNT | PMT_IDEAL | PMT_BANCONTACT | PMT_BNPL)

static int pm_types_parse(struct req *r, struct link *l)
{
	unsigned types = 0;
	if (pm_types_param(r, "payment_method_types", "payment_method_types", LINK_PM_TYPES,
			   "Tender's Checkout supports", false, &types) < 0)
		return -1;
	l->pm_types = NULL; /* not given: Stripe's null */
	if (types && !(l->pm_types = pm_types_arena_json(r, types)))
		return -1;
	unsigned debits =
	    types & (PMT_SEPA_DEBIT | PMT_US_BANK_ACCOUNT | PMT_IDEAL | PMT_BANCONTACT | PMT_BNPL);
	if (!debits)
		return 0;
	/* a lender's form asks for the shipping address; a bank's form does not */
	unsigned banks = debits & ~PMT_BNPL;
	static const char *const refused[] = {"automatic_tax", "shipping_options",
					      "shipping_address_collection"};
	for (size_t i = 0; i < (banks ? 3 : 1); i++)
		if (param_present(r, refused[i]))
			return req_fail(r, ERR_PARAM_BAD, refused[i],
					"Tender's checkout page does not take `%s` with %s.",
					refused[i], pm_type_name(debits & (~debits + 1u)));
	/* nor, as a session, what those forms do not ask for */
	if (checkout_debit_refusals(r, pm_type_name(debits & (~debits + 1u))) != 0)
		return -1;
	return pm_types_check_manual(r, types, param_str(r, "payment_intent_data.capture_method"),
				     "payment_intent_data[capture_method]", true);
}

static int h_create(struct req *r)
{
	struct create_ctx c = {.r = r};
	struct link *l = &c.l;
	id_new_at(l->id, "plink_", r->now);
	l->created = r->now;
	l->active = true;
	l->after_type = "hosted_confirmation";
	const char *st = param_str(r, "submit_type");
	l->submit_type = st ? st : "auto";
	l->pi_capture_method = param_str(r, "payment_intent_data.capture_method");
	l->pi_description = param_str(r, "payment_intent_data.description");
	l->metadata = "{}";
	param_bool(r, "automatic_tax.enabled", &l->automatic_tax);
	param_bool(r, "allow_promotion_codes", &l->allow_promo);
	if (apply_after(r, l) != 0 || metadata_apply(r, NULL, "metadata", &l->metadata) != 0 ||
	    checkout_shipping_countries(r, &l->ship) != 0 || pm_types_parse(r, l) != 0 ||
	    connect_params(r, l) != 0)
		return -1;
	return req_write(r, create_fn, &c);
}

/* ---- retrieve, update, list, line items ---- */

struct id_ctx {
	struct req *r;
	const char *id;
	struct link l;
};

static int load_fn(struct db *db, void *arg)
{
	struct id_ctx *x = arg;
	int rc = link_load(x->r, db, x->r->merchant_id, x->id, &x->l);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "payment_link", x->id, "payment_link");
	return rc == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

static int retrieve_fn(struct db *db, void *arg)
{
	struct id_ctx *x = arg;
	if (load_fn(db, arg) != 0)
		return -1;
	link_render(x->r, &x->l, req_json(x->r));
	return 0;
}

static int h_retrieve(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, retrieve_fn, &x) == 0 ? 0 : -1;
}

/* An update's payment_method_types and shipping_address_collection ('' clears either: Stripe's
 * null) onto l, then the link as it would be held to create's rules: the types in its currency
 * and total, a bank's form asks for no shipping, no bank or lender with automatic tax, a
 * manual capture only where each type can. The refusal names what the request changed.
 * 0, or -1 with r->err. */
static int update_pm_shipping(struct req *r, struct link *l)
{
	bool pm_given = param_present(r, "payment_method_types");
	if (pm_given) {
		unsigned set = 0;
		if (pm_types_param(r, "payment_method_types", "payment_method_types", LINK_PM_TYPES,
				   "Tender's Checkout supports", true, &set) < 0)
			return -1;
		l->pm_types = NULL;
		if (set && !(l->pm_types = pm_types_arena_json(r, set)))
			return -1;
	}
	const struct form_node *sn = param_node(r, "shipping_address_collection");
	if (l->recurring && pm_given && l->pm_types &&
	    pm_types_from_json(l->pm_types, PMT_CARD) != PMT_CARD)
		return req_fail(r, ERR_PARAM_BAD, "payment_method_types",
				"Tender's payment links of recurring prices take cards only.");
	if (l->recurring && sn && sn->kind != FORM_SCALAR)
		return req_fail(r, ERR_PARAM_BAD, "shipping_address_collection",
				"Tender's subscription checkouts take no shipping: "
				"`shipping_address_collection` cannot be used with a recurring "
				"price.");
	if (sn && sn->kind == FORM_SCALAR)
		l->ship.countries = NULL;
	else if (sn && checkout_shipping_countries(r, &l->ship) != 0)
		return -1;
	bool items = param_present(r, "line_items");
	if (!pm_given && !sn && !items && !param_present(r, "automatic_tax"))
		return 0;
	unsigned types = pm_types_from_json(l->pm_types, PMT_CARD);
	unsigned debits =
	    types & (PMT_SEPA_DEBIT | PMT_US_BANK_ACCOUNT | PMT_IDEAL | PMT_BANCONTACT | PMT_BNPL);
	const char *refused = NULL;
	if (debits && l->automatic_tax)
		refused = "automatic_tax";
	else if ((debits & ~PMT_BNPL) && (l->ship.countries || l->ship.options))
		refused = l->ship.countries ? "shipping_address_collection" : "shipping_options";
	if (refused)
		return req_fail(r, ERR_PARAM_BAD,
				pm_given ? "payment_method_types"
				: sn	 ? "shipping_address_collection"
					 : "automatic_tax",
				"Tender's checkout page does not take `%s` with %s.", refused,
				pm_type_name(debits & (~debits + 1u)));
	if (!pm_given && !items)
		return 0;
	/* the total (with the first shipping option) as create checks it */
	const char *shown = pm_given ? "payment_method_types" : "line_items";
	int64_t total;
	if (__builtin_add_overflow(l->amount_total, l->ship.amount, &total) ||
	    total > AMOUNT_TOTAL_MAX)
		return req_fail(r, ERR_AMOUNT_TOO_LARGE, shown,
				"The total with shipping must be at most %d.", AMOUNT_TOTAL_MAX);
	if ((pm_given &&
	     pm_types_check_currency(r, types, l->currency, "payment_method_types") != 0) ||
	    checkout_bnpl_check_amount(r, types, total, l->currency, shown) != 0)
		return -1;
	return pm_given ? pm_types_check_manual(r, types, l->pi_capture_method,
						"payment_method_types", true)
			: 0;
}

/* update's line_items[n][id, quantity]: the quantity of the link's own line item id (1 to
 * 999, as on create; a pay-what-you-want line stays 1), its line priced again as create prices
 * it (a tiered or sub-cent price's amount from the whole quantity), and the link's total from
 * its lines, which must still be a payment the merchant can take. Items are not added or
 * removed. 0, or -1 with r->err naming the offending item. */
static int update_line_items(struct req *r, struct db *db, struct link *l)
{
	const struct form_node *items = param_node(r, "line_items");
	if (!items)
		return 0;
	json_t *arr = json_loads(l->line_items, 0, NULL);
	if (!json_is_array(arr)) {
		json_decref(arr);
		return req_fail(r, ERR_API, NULL, NULL);
	}
	bool seen[LINE_ITEMS_MAX + 1] = {false};
	int idx = 0, rc = 0;
	for (const struct form_node *it = items->first_child; it && rc == 0; it = it->next, idx++) {
		const struct form_node *in = form_get(it, "id");
		const struct form_node *qn = form_get(it, "quantity");
		const char *id = in && in->value ? in->value : "";
		size_t k, at = json_array_size(arr);
		json_t *o;
		json_array_foreach(arr, k, o)
		{
			const char *have = json_string_value(json_object_get(o, "id"));
			if (have && strcmp(have, id) == 0 && at == json_array_size(arr))
				at = k;
		}
		if (at == json_array_size(arr) || at > LINE_ITEMS_MAX) {
			rc = req_fail(r, ERR_PARAM_BAD,
				      arena_printf(&r->arena, "line_items[%d][id]", idx),
				      "The payment link has no line item `%s`.", id);
			break;
		}
		if (seen[at]) {
			rc = req_fail(r, ERR_PARAM_BAD,
				      arena_printf(&r->arena, "line_items[%d][id]", idx),
				      "The line item `%s` is given more than once.", id);
			break;
		}
		seen[at] = true;
		o = json_array_get(arr, at);
		const char *qp = arena_printf(&r->arena, "line_items[%d][quantity]", idx);
		int64_t qty = json_integer_value(json_object_get(o, "quantity"));
		if (qn && (parse_i64(qn->value, &qty) != 0 || qty < 1 || qty > 999)) {
			rc = req_fail(r, ERR_PARAM_BAD, qp,
				      "Invalid %s: a quantity is from 1 to 999.", qp);
			break;
		}
		/* its adjustable_quantity given now, or the one it has: the quantity within it */
		const char *why =
		    json_object_get(o, "custom")
			? "A price with `custom_unit_amount` is sold one at a time: its quantity "
			  "cannot be adjusted."
			: NULL;
		if (checkout_line_adjustable(r, "line_items", idx, it, qty, why, o) != 0) {
			rc = -1;
			break;
		}
		if (!qn)
			continue;
		if (json_is_true(json_object_get(o, "metered"))) {
			rc = req_fail(r, ERR_PARAM_BAD, qp,
				      "Quantity should not be specified where usage_type is "
				      "`metered`: its usage is billed.");
			break;
		}
		if (json_object_get(o, "custom") && qty != 1) {
			rc = req_fail(
			    r, ERR_PARAM_BAD, qp,
			    "The quantity must be 1 for a price with `custom_unit_amount`: "
			    "the customer chooses the amount.");
			break;
		}
		if (json_is_integer(json_object_get(o, "amount"))) {
			/* tiers or a sub-cent decimal: the line's amount from its whole quantity */
			struct price_facts pf;
			int64_t line;
			const char *price = json_string_value(json_object_get(o, "price"));
			int prc = price ? price_facts_in(r, db, price, l->currency, &pf) : DB_ERR;
			if (prc != DB_OK || price_facts_amount(&pf, qty, &line) != 0) {
				rc = prc == DB_OK ? req_fail(r, ERR_AMOUNT_TOO_LARGE, qp,
							     "The line items' total must be "
							     "at most %d.",
							     AMOUNT_TOTAL_MAX)
						  : req_fail(r, ERR_API, NULL, NULL);
				break;
			}
			json_object_set_new(o, "amount", json_integer(line));
		}
		json_object_set_new(o, "quantity", json_integer(qty));
	}
	int64_t total = 0;
	bool custom = false;
	size_t k;
	json_t *o;
	json_array_foreach(arr, k, o)
	{
		if (rc != 0)
			break;
		custom = custom || json_object_get(o, "custom") != NULL;
		json_t *a = json_object_get(o, "amount");
		int64_t line = json_integer_value(a);
		if (!json_is_integer(a) &&
		    __builtin_mul_overflow(json_integer_value(json_object_get(o, "unit_amount")),
					   json_integer_value(json_object_get(o, "quantity")),
					   &line))
			line = INT64_MAX;
		if (__builtin_add_overflow(total, line, &total) || total > AMOUNT_TOTAL_MAX)
			rc =
			    req_fail(r, ERR_AMOUNT_TOO_LARGE, "line_items",
				     "The line items' total must be at most %d.", AMOUNT_TOTAL_MAX);
	}
	char *dumped = rc == 0 ? json_dumps(arr, JSON_COMPACT) : NULL;
	json_decref(arr);
	if (rc != 0)
		return -1;
	l->line_items = dumped ? arena_strdup(&r->arena, dumped) : NULL;
	free(dumped);
	if (!l->line_items)
		return req_fail(r, ERR_API, NULL, NULL);
	l->amount_total = total;
	/* a pay-what-you-want line's amount is checked on the page */
	if (custom)
		return 0;
	return payments_check_minimum_db(r, db, total, l->currency, "line_items", "line_items");
}

/* An update's link paid by a bank debit, redirect or lender: as create
 * (checkout_debit_refusals), nothing those forms do not ask for (custom fields, phone, consent,
 * tax id, a full billing address) nor an invoice; the refusal names what the request changed.
 * 0, or -1 with r->err. */
static int debit_settings_check(struct req *r, const struct link *l)
{
	unsigned debits =
	    pm_types_from_json(l->pm_types, PMT_CARD) &
	    (PMT_SEPA_DEBIT | PMT_US_BANK_ACCOUNT | PMT_IDEAL | PMT_BANCONTACT | PMT_BNPL);
	if (!debits)
		return 0;
	json_t *c = l->collect ? json_loads(l->collect, 0, NULL) : NULL;
	const char *bac = json_string_value(json_object_get(c, "billing_address_collection"));
	const char *asks = NULL;
	if (l->custom_fields && strcmp(l->custom_fields, "[]") != 0)
		asks = "custom_fields";
	else if (json_is_true(
		     json_object_get(json_object_get(c, "phone_number_collection"), "enabled")))
		asks = "phone_number_collection";
	else if (json_is_object(json_object_get(c, "consent_collection")))
		asks = "consent_collection";
	else if (json_is_true(json_object_get(json_object_get(c, "tax_id_collection"), "enabled")))
		asks = "tax_id_collection";
	else if (json_is_true(json_object_get(json_object_get(c, "invoice_creation"), "enabled")))
		asks = "invoice_creation";
	else if (bac && strcmp(bac, "required") == 0)
		asks = "billing_address_collection";
	json_decref(c);
	if (!asks)
		return 0;
	return req_fail(r, ERR_PARAM_BAD,
			param_present(r, "payment_method_types") ? "payment_method_types" : asks,
			"Tender's checkout page does not take `%s` with %s.", asks,
			pm_type_name(debits & (~debits + 1u)));
}

/* previous_attributes of the settings an update names: the link's old values as it showed
 * them (link_render of old, each key taken from it). 0, or -1 with r->err. */
static int settings_previous(struct req *r, const struct link *old, struct json *j)
{
	static const char *const keys[] = {
	    "billing_address_collection", "custom_fields",    "custom_text",
	    "customer_creation",	  "invoice_creation", "payment_method_collection"};
	bool any = false;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		any = any || param_present(r, keys[i]);
	if (!any)
		return 0;
	struct buf b;
	struct json oj;
	buf_init(&b, 1u << 20);
	json_init(&oj, &b);
	link_render(r, old, &oj);
	json_t *o = b.failed ? NULL : json_loads(buf_cstr(&b), 0, NULL);
	buf_release(&b);
	if (!o)
		return req_fail(r, ERR_API, NULL, NULL);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (!param_present(r, keys[i]))
			continue;
		char *t = json_dumps(json_object_get(o, keys[i]),
				     JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
		if (t)
			json_kv_raw(j, keys[i], t, strlen(t));
		free(t);
	}
	json_decref(o);
	return 0;
}

static int update_fn(struct db *db, void *arg)
{
	struct id_ctx *x = arg;
	struct req *r = x->r;
	if (load_fn(db, arg) != 0)
		return -1;
	struct link old = x->l, *l = &x->l;
	param_bool(r, "active", &l->active);
	param_bool(r, "automatic_tax.enabled", &l->automatic_tax);
	param_bool(r, "allow_promotion_codes", &l->allow_promo);
	if (apply_after(r, l) != 0 ||
	    metadata_apply(r, l->metadata, "metadata", &l->metadata) != 0 ||
	    update_line_items(r, db, l) != 0 || update_pm_shipping(r, l) != 0)
		return -1;
	if (l->automatic_tax && !old.automatic_tax && auto_tax_ready(r, db) != 0)
		return -1;
	const struct checkout_link_in in = {.ship = &l->ship,
					    .sub = l->recurring,
					    .allow_promotion_codes = l->allow_promo,
					    .automatic_tax = l->automatic_tax,
					    .pm_types = l->pm_types,
					    .collect = old.collect,
					    .custom_fields = old.custom_fields};
	if (checkout_link_settings(r, &in, &l->collect, &l->custom_fields) != 0 ||
	    debit_settings_check(r, l) != 0)
		return -1;
	struct db_stmt *st = db_prepare(db, SQL_UPDATE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, l->id, -1);
	db_bind_int64(st, 3, l->active);
	db_bind_text(st, 4, l->after_type, -1);
	db_bind_text(st, 5, l->redirect_url, -1);
	db_bind_text(st, 6, l->confirmation_message, -1);
	db_bind_text(st, 7, l->metadata, -1);
	db_bind_int64(st, 8, l->automatic_tax ? 1 : 0);
	db_bind_text(st, 9, l->pm_types, -1);
	db_bind_text(st, 10, l->ship.countries, -1);
	db_bind_int64(st, 11, l->allow_promo ? 1 : 0);
	db_bind_text(st, 12, l->line_items, -1);
	db_bind_int64(st, 13, l->amount_total);
	db_bind_text(st, 14, l->collect, -1);
	db_bind_text(st, 15, l->custom_fields, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 20);
	json_init(&j, &b);
	json_obj_open(&j);
	if (old.active != l->active)
		json_kv_bool(&j, "active", old.active);
	if (old.allow_promo != l->allow_promo)
		json_kv_bool(&j, "allow_promotion_codes", old.allow_promo);
	if (old.automatic_tax != l->automatic_tax) {
		json_key(&j, "automatic_tax");
		json_obj_open(&j);
		json_kv_bool(&j, "enabled", old.automatic_tax);
		json_obj_close(&j);
	}
	if (strcmp(old.metadata, l->metadata) != 0)
		json_kv_raw(&j, "metadata", old.metadata, strlen(old.metadata));
	if (param_present(r, "payment_method_types")) {
		if (old.pm_types)
			json_kv_raw(&j, "payment_method_types", old.pm_types, strlen(old.pm_types));
		else
			json_kv_null(&j, "payment_method_types");
	}
	if (param_present(r, "shipping_address_collection")) {
		json_key(&j, "shipping_address_collection");
		if (old.ship.countries) {
			json_obj_open(&j);
			json_kv_raw(&j, "allowed_countries", old.ship.countries,
				    strlen(old.ship.countries));
			json_obj_close(&j);
		} else {
			json_nil(&j);
		}
	}
	if (settings_previous(r, &old, &j) != 0) {
		buf_release(&b);
		return -1;
	}
	if (param_present(r, "after_completion")) {
		json_key(&j, "after_completion");
		json_obj_open(&j);
		json_kv_str(&j, "type", old.after_type);
		json_obj_close(&j);
	}
	json_obj_close(&j);
	const char *prev = b.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&b));
	buf_release(&b);
	if (!prev || emit(r, db, l, "payment_link.updated", prev) != 0)
		return r->err.set ? -1 : req_fail(r, ERR_API, NULL, NULL);
	link_render(r, l, req_json(r));
	return 0;
}

static int h_update(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, update_fn, &x);
}

static int line_items_fn(struct db *db, void *arg)
{
	struct id_ctx *x = arg;
	struct req *r = x->r;
	if (load_fn(db, arg) != 0)
		return -1;
	return checkout_render_line_items(
	    r, db, x->l.line_items, x->l.currency,
	    arena_printf(&r->arena, "/v1/payment_links/%s/line_items", x->l.id));
}

static int h_line_items(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, line_items_fn, &x) == 0 ? 0 : -1;
}

static const char SQL_CURSOR[] =
    "SELECT created FROM payment_links WHERE merchant_id = $1 AND id = $2";
static const char SQL_DESC[] =
    "SELECT id FROM payment_links WHERE merchant_id = $1 AND id > $2 AND id < $3"
    " AND ($5 IS NULL OR active = $5) ORDER BY id DESC LIMIT $4";
static const char SQL_ASC[] =
    "SELECT id FROM payment_links WHERE merchant_id = $1 AND id > $2 AND id < $3"
    " AND ($5 IS NULL OR active = $5) ORDER BY id ASC LIMIT $4";

static int list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	bool v;
	if (param_bool(r, "active", &v) == 1)
		db_bind_int64(st, first, v);
	else
		db_bind_null(st, first);
	return 0;
}

static int list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	struct link l;
	int rc = link_load(r, db, r->merchant_id, id, &l);
	if (rc == DB_OK)
		link_render(r, &l, j);
	return rc;
}

static int h_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/payment_links",
	    .object_name = "payment_link",
	    .id_prefix = "plink_",
	    .sql_cursor = SQL_CURSOR,
	    .sql_desc = SQL_DESC,
	    .sql_asc = SQL_ASC,
	    .bind_filters = list_bind,
	    .render = list_render,
	};
	return list_respond(r, &spec);
}

/* ---- the link's page; a Checkout Session per payment ---- */

struct visit_ctx {
	struct req *r;
	const char *acct, *id;
	struct link l;
	bool found;
	char session[ID_MAX]; /* POST: the session made for this payment */
	const char *nonce;    /* POST: the form's one-time value */
};

static int visit_load(struct db *db, struct visit_ctx *x)
{
	int rc = link_load(x->r, db, x->acct, x->id, &x->l);
	if (rc == DB_NOTFOUND)
		return 0;
	if (rc != DB_OK)
		return req_fail(x->r, ERR_API, NULL, NULL);
	x->found = true;
	return 0;
}

static int visit_read_fn(struct db *db, void *arg)
{
	return visit_load(db, arg);
}

/* POST: a Checkout Session for this payment, as Stripe opens one per checkout of a link */
static int visit_write_fn(struct db *db, void *arg)
{
	struct visit_ctx *x = arg;
	struct req *r = x->r;
	if (visit_load(db, x) != 0)
		return -1;
	if (!x->found || !x->l.active)
		return 0;
	const char *success = strcmp(x->l.after_type, "redirect") == 0 ? x->l.redirect_url : NULL;
	if (checkout_session_for_link(
		r, db, x->l.id, x->l.line_items, x->l.amount_total, x->l.currency, success,
		x->l.confirmation_message, x->l.pi_capture_method, x->l.pi_description,
		x->l.submit_type, &x->l.ship, x->l.automatic_tax, x->l.allow_promo, x->l.pm_types,
		x->l.collect, x->l.custom_fields, x->l.recurring ? &x->l.sub : NULL, x->nonce,
		x->session) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

/* 0: the link is there and active; 1: answered with a page */
static int visit_gone(struct req *r, const struct visit_ctx *x)
{
	if (!x->found) {
		challenge_page(r, 404, "Payment link not found",
			       "<h1>This payment link does not exist</h1>");
		return 1;
	}
	if (!x->l.active) {
		challenge_page(r, 410, "Payment link inactive",
			       "<h1>This payment link is no longer active</h1>");
		return 1;
	}
	return 0;
}

/* Whether any of the link's lines (items_json) has a quantity the buyer chooses. */
static bool items_adjustable(const char *items_json)
{
	json_t *items = json_loads(items_json, 0, NULL);
	size_t i;
	json_t *it;
	bool any = false;
	json_array_foreach(items, i, it) any =
	    any || json_is_object(json_object_get(it, "adjustable_quantity"));
	json_decref(items);
	return any;
}

/* GET: the card form, written nowhere (a link's page may be fetched by anyone, robots too) */
static int h_page(struct req *r)
{
	struct visit_ctx x = {.r = r, .acct = r->args[0], .id = r->args[1]};
	str_copy(r->merchant_id, sizeof(r->merchant_id), x.acct);
	if (req_read(r, visit_read_fn, &x) != 0)
		return -1;
	if (visit_gone(r, &x))
		return 0;
	bool adjustable = items_adjustable(x.l.line_items);
	/* what the link asks of the buyer (custom fields, phone, consent, tax id, billing
	 * address) is asked by the session's own page, which checks it */
	bool asks = x.l.collect || x.l.custom_fields;
	/* a subscription: the session's page takes the card for it (the link's card form pays
	 * a PaymentIntent) */
	if (x.l.recurring || x.l.automatic_tax || x.l.allow_promo || adjustable || asks) {
		/* the tax needs the address first, and a promotion code or the quantities the
		 * buyer chooses change the total: the session's own page asks for them before
		 * the card */
		char nonce[32];
		id_random_base62(nonce, 24);
		const char *action = arena_printf(&r->arena, "/pay/%s/%s/start", x.acct, x.id);
		const char *body =
		    action ? arena_printf(
				 &r->arena,
				 "<h1>Checkout</h1><p id=\"address-next\">%s"
				 "</p><form "
				 "method=\"post\" action=\"%s\"><input "
				 "type=\"hidden\" name=\"link_nonce\" "
				 "value=\"%s\"><p><button "
				 "type=\"submit\">Continue</button></p></form>",
				 x.l.recurring	     ? "Continue to subscribe."
				 : x.l.automatic_tax ? "The tax depends on your address: continue "
						       "to give it, see the total and pay."
				 : adjustable	     ? "Continue to choose the quantities, see "
						       "the total and pay."
				 : x.l.allow_promo   ? "Continue to give a promotion code if you "
						       "have one, see the total and pay."
						     : "Continue to give your details and pay.",
				 action, nonce)
			   : NULL;
		return challenge_page(r, 200, "Checkout", body ? body : "");
	}
	return checkout_link_page(r, x.acct, x.l.line_items, x.l.amount_total, x.l.currency,
				  x.l.submit_type, &x.l.ship, x.l.pm_types,
				  arena_printf(&r->arena, "/pay/%s/%s", x.acct, x.id));
}

static int h_pay(struct req *r)
{
	struct visit_ctx x = {.r = r, .acct = r->args[0], .id = r->args[1]};
	const char *nonce = param_str(r, "link_nonce");
	x.nonce = nonce && *nonce ? nonce : NULL;
	str_copy(r->merchant_id, sizeof(r->merchant_id), x.acct);
	if (req_write(r, visit_write_fn, &x) != 0)
		return -1;
	if (visit_gone(r, &x))
		return 0;
	if (x.l.recurring) {
		/* no payment to take here: the session's page makes the subscription */
		r->location = arena_printf(&r->arena, "/checkout/%s/%s", x.acct, x.session);
		return r->location ? challenge_redirect(r) : req_fail(r, ERR_API, NULL, NULL);
	}
	return checkout_pay_session(r, x.acct, x.session);
}

/* POST …/start (a link with automatic tax): its session for this payment, then its page */
static int h_start(struct req *r)
{
	struct visit_ctx x = {.r = r, .acct = r->args[0], .id = r->args[1]};
	const char *nonce = param_str(r, "link_nonce");
	x.nonce = nonce && *nonce ? nonce : NULL;
	str_copy(r->merchant_id, sizeof(r->merchant_id), x.acct);
	if (req_write(r, visit_write_fn, &x) != 0)
		return -1;
	if (visit_gone(r, &x))
		return 0;
	r->location = arena_printf(&r->arena, "/checkout/%s/%s", x.acct, x.session);
	return r->location ? challenge_redirect(r) : req_fail(r, ERR_API, NULL, NULL);
}

static const struct param_spec start_params[] = {
    {"link_nonce", PT_STRING, 0, 64, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

static const struct param_spec pay_params[] = {
    {"shipping_rate", PT_STRING, PF_EMPTYABLE, 255, NULL, NULL},
    {"shipping", PT_OBJECT, 0, 0, NULL, checkout_ship_params},
    {"payment_method_data", PT_OBJECT, PF_REQUIRED, 0, NULL, pm_data_params},
    {"custom_amount", PT_STRING, PF_EMPTYABLE, 20, NULL, NULL}, /* pay what you want */
    {"link_nonce", PT_STRING, 0, 64, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

const struct route payment_links_routes[] = {
    {"POST", "/v1/payment_links", h_create, create_params, 0},
    {"GET", "/v1/payment_links", h_list, list_params, ROUTE_LIST},
    {"GET", "/v1/payment_links/{id}", h_retrieve, no_params, 0},
    {"POST", "/v1/payment_links/{id}", h_update, update_params, 0},
    {"GET", "/v1/payment_links/{id}/line_items", h_line_items, no_params, ROUTE_LIST},
    {"GET", "/pay/{acct}/{plink}", h_page, no_params, ROUTE_NO_AUTH | ROUTE_RAW},
    {"POST", "/pay/{acct}/{plink}", h_pay, pay_params,
     ROUTE_NO_AUTH | ROUTE_RAW | ROUTE_PAGE_LIMIT},
    {"POST", "/pay/{acct}/{plink}/start", h_start, start_params,
     ROUTE_NO_AUTH | ROUTE_RAW | ROUTE_PAGE_LIMIT},
    {NULL, NULL, NULL, NULL, 0},
};

/*
 * Checkout Sessions (/v1/checkout/sessions: mode=payment, setup or subscription) and the
 * checkout page they open (/checkout/{acct}/{cs}); payment links open one per visit
 * (payment_links.c).
 *
 * A session prices its line items when it is made (active one-time prices of the merchant, one
 * currency, checkout_price_items) and stays open until it is paid, expired (expires_at, by the
 * scheduler, or POST …/expire) or its payment link is gone. The page is plain HTML (no scripts,
 * the challenge pages' content security policy); the card goes from the form to the vault as a
 * PaymentMethod, and an ordinary PaymentIntent pays the total (payment_intents_checkout), so
 * every payment event, ledger movement and fraud check is the API's own.
 *
 * A payment is two durable writes: the session records the attempt's PaymentIntent id (chosen
 * before) and the buyer's email and name; then the PaymentIntent is made and confirmed, and the
 * confirmation that pays (at once, or after 3-D Secure, whether or not the browser comes back)
 * completes the session in the same transaction (payment_intents.checkout_session,
 * checkout_complete; setup mode: the SetupIntent's). Pages only read: GET never writes, so a
 * payment link's page opens its session when it is paid (POST), not when it is looked at. A
 * session takes a new attempt only when no other is under way (attempt_fn; one waiting for a
 * 3-D Secure challenge the buyer walked away from is canceled first), and a link's form carries
 * a one-time value that finds its session again: a form posted twice pays once.
 *
 * mode=subscription sells recurring prices (one currency, one interval) and buys a subscription
 * through subscriptions.c's own create (subscriptions_checkout), not a second billing path. The
 * attempt recorded first is the subscription's id (with the id of the PaymentIntent that will
 * pay its first invoice); then one write makes the customer (when the session names none, as
 * Stripe does), the subscription and its first invoice, pays it with the buyer's card (which
 * the payment attaches to the customer; it is the subscription's default_payment_method) and
 * completes the session, as a payment does in mode=payment. The SEPA form's sepa_debit
 * PaymentMethod instead gets a multi-use mandate (accepted online on the page) in that write
 * before the first invoice is debited off session under it, as any SEPA invoice is; the session
 * completes unpaid with the debit processing and settles as a payment-mode debit's does
 * (checkout_async_payment, found by the invoice's intent). The ACH form's account is the same
 * but unverified: the invoice's intent waits for its microdeposits (pi_invoice.verify_on_page),
 * the subscription incomplete and the session complete and unpaid; verifying debits it. The
 * iDEAL and Bancontact forms save the account the bank reports first, through a SetupIntent as
 * in setup mode, and the subscription then takes the generated sepa_debit PaymentMethod as the
 * SEPA form's (see "subscription mode's iDEAL / Bancontact" below).
 * An ACH account may instead be linked on the page through Financial Connections
 * (payment_method_options[us_bank_account][verification_method] automatic, Stripe's default, or
 * instant; ach_link_form): one write links the test institution's account the buyer picked and
 * makes its PaymentMethod, verified at once (ach_link), so in every mode it pays or is saved as
 * a verified account does: no microdeposits.
 * Decisions:
 *  - A decline keeps nothing (no customer, subscription, invoice or failed charge, as the API's
 *    payment_behavior=error_if_incomplete): the session stays open with the card error on the
 *    page, forgets the attempt, and takes another card at once.
 *  - A card asking for 3-D Secure leaves the subscription incomplete until the challenge ends;
 *    its confirmation (whether or not the browser comes back) pays the invoice and completes
 *    the session in one write. A new attempt after a failed or abandoned challenge ends that
 *    subscription first (incomplete_expired, its invoice void), so a session makes at most one
 *    live subscription.
 *  - With subscription_data[trial_period_days] nothing is charged: amount_total is 0 (the
 *    first invoice), payment_status no_payment_required, and one write attaches the card to
 *    the customer, makes the subscription (trialing) and completes the session. The card is not
 *    checked by a SetupIntent as Stripe's Checkout does; the first renewal is its first charge.
 *  - One-time prices in subscription mode (Stripe bills them once on the first invoice) are
 *    refused: Tender's invoices have no one-off items.
 *  - A metered price backed by a billing meter is a line without a quantity (Stripe refuses
 *    one) worth 0 now: its usage is billed in arrears by the subscription's metered item. The
 *    line is stored with "metered" (amount 0), shows quantity null and "Billed by usage" on the
 *    page; a session of only metered prices is 0 now (no_payment_required) and still takes the
 *    card, through the trial's path (nothing charged, the card attached).
 *  - subscription and invoice show once the session is complete (an attempt under way is not
 *    yet the session's); payment_intent stays null, the intent being the invoice's.
 *
 * Discounts. A session takes one (as on Stripe): discounts[0][coupon | promotion_code] when it
 * is made, or, with allow_promotion_codes, a code the buyer types on the page (its own small
 * form, POST …/promotion_code, then a redirect back: no scripts, GET never writes). Either is
 * checked as the API checks a redemption (discounts_resolve) and priced as an invoice's
 * discount is (invoice_discount_total over the line items): amount_subtotal before it,
 * amount_total after, which is what the payment (or the subscription's first invoice) asks
 * for. A code changes only while no attempt to pay is under way, and an attempt is refused if
 * the total moved since its page was read, so the buyer pays what the page showed. A payment's
 * discount is redeemed (counted, refused at its limits) in the payment's own write, as the
 * session completes; a subscription's by the subscription it makes. A payment-mode discount
 * must leave a payment the card networks take (Tender makes no free payment-mode sessions).
 *
 * Shipping (mode=payment only). shipping_options are shipping rates (shipping_rates.c) resolved
 * when the session is made (active, in its currency) and kept on the row with their amounts, so
 * a rate archived later does not change what the session offered; the first is chosen. The
 * page offers them as radio buttons inside the card form (no scripts: each shows the total it
 * makes), and asks for the address when shipping_address_collection is set. The choice and
 * the address are checked before anything is written (shipping_choice: one of the session's
 * options, a country of the allowed ones) and recorded by the attempt's own write with the
 * total they make, which is what the PaymentIntent charges (with the address as its
 * `shipping`): amount_total is always the items after their discount plus the chosen shipping
 * (session_discounted), so a coupon never takes anything off shipping, as on Stripe.
 *
 * Tax rates (mode=payment and subscription). line_items[n][tax_rates] names fixed rates (the
 * merchant's, active) kept with the line; the session's items are priced by the invoice
 * computation itself (invoice_discounts_compute: the discount first, then each rate on what it
 * left of its line, billing/tax.h), so a subscription's first invoice comes to the session's
 * amount_total exactly. What each line took (amount_discount, amount_tax, taxes) is written into
 * the stored items whenever the total is (create, a promotion code), and the session's
 * total_details and the page are read from them. A subscription-mode session passes each line's
 * rates to its subscription item, so renewals are taxed too. dynamic_tax_rates are candidates
 * the billing address the page asks for picks from (see "dynamic tax rates" below); the address
 * is recorded and the session priced again in one write (address_fn), under promo_fn's rule,
 * and total_details.breakdown (expand[]) is read from the same stored items.
 *
 * What the page asks of the buyer beyond the card (billing_address_collection,
 * phone_number_collection, custom_fields, consent_collection, tax_id_collection) is kept as
 * given in one JSON column (`collect`, with customer_creation, customer_update, locale,
 * custom_text, after_expiration, invoice_creation, setup_intent_data, payment_method_options,
 * payment_method_collection and payment_intent_data[setup_future_usage, metadata, shipping]),
 * shown on the page, and checked again on the server before
 * anything is written (buyer_details). The answers (phone, billing address, custom field values,
 * consent, tax ids) are recorded by the attempt's own write (attempt_details), which also makes
 * the customer customer_creation=always (or invoice_creation, or setup_future_usage) needs, or
 * applies customer_update=auto to the given one: so the PaymentIntent names that customer. The
 * post-payment invoice (invoice_creation) is made by invoices.c's own functions inside the
 * payment's write, just before the session completes (session_invoice), so
 * checkout.session.completed names it. A session that expires with after_expiration[recovery]
 * enabled gets a recovery URL for 30 days (recovery_open; see "the recovery URL" below).
 *
 * iDEAL and Bancontact (payment_method_types) are bank redirects: their form's POST makes the
 * attempt's PaymentIntent wait in requires_action (redirect_pay) and sends the browser to the
 * bank's test page (api/redirect_page.c), whose authorization completes the session in its own
 * write (checkout_complete, paid at once, unlike a debit); the bank sends the browser back to
 * …/return (h_return), which reads the intent, never its query string, to send it on to
 * success_url or show the page again after a failure. Another attempt on the page (after a
 * failure, or leaving an intent in requires_action at the bank or at 3-D Secure) confirms the
 * session's own intent again (payment_intents_checkout_again), as Stripe keeps one per session:
 * the intent's version lets one of two posts through, and the earlier bank or challenge page
 * opens nothing; a bank debit's form too (sepa_pay), its mandate accepted on it anew. Affirm,
 * Afterpay / Clearpay and Klarna take the same path (the lender's test page), with a form asking
 * what each lender requires (bnpl_form, checked again by bnpl_details); a manual capture is theirs
 * to hold (the authorization completes the session paid, the intent requires_capture, as a card's),
 * and a lender whose amount limits the total is outside of is not offered (bnpl_offered; alone, the
 * create is refused, checkout_bnpl_check_amount). In setup mode iDEAL and Bancontact save the
 * account the bank reports, as Stripe's Checkout does: the form confirms the session's
 * SetupIntent with the PaymentMethod (save_card, its SEPA mandate accepted on the page) and
 * sends the browser to the bank's page, whose authorization generates the sepa_debit
 * PaymentMethod with its multi-use mandate on the session's customer and completes the session
 * in its write (setup_intent_redirect_outcome); a failure sends the SetupIntent back to
 * requires_payment_method and the buyer to the page again (h_return), to try another.
 *
 * Pay what you want (a price with custom_unit_amount, sold alone with quantity 1): the line is
 * stored with the price's bounds ("custom") and stands at the preset (or 0) until the buyer types
 * an amount in the payment form. The form's POST checks it (custom_amount_choice: parsed exactly
 * in major units, the bounds or the minimum charge; a refusal writes nothing) and records it
 * (custom_amount_fn, promo_fn's rule: only while no attempt is under way) before the attempt, so
 * the attempt, its PaymentIntent and the session's totals all carry the same amount.
 *
 * Adjustable quantities (line_items[n][adjustable_quantity], checkout_line_adjustable): the line
 * keeps the bounds as given, and the page has a small form of its own (quantities_form: a number
 * field per such line, POST …/quantities, then a redirect back). Its POST checks each quantity
 * against its line's range before anything is written, and one write (quantities_fn, promo_fn's
 * rule) sets them and prices the session again as its creation did (session_reprice: the lines,
 * then session_discounted for the discount, taxes and shipping), so the page, line_items, the
 * totals and the payment (or the subscription's items) agree. A line set to 0 leaves the session
 * (Stripe's line_items no longer list it), never the last one. No event, as on Stripe. A
 * promotion code whose restrictions[minimum_amount] the new subtotal no longer reaches leaves
 * the session in that write (the page, shown in answer instead of the redirect, says why), as
 * Stripe's Checkout removes a code that no longer applies.
 */
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/billing_internal.h"
#include "api/challenge.h"
#include "api/common.h"
#include "api/financial_connections.h"
#include "api/list.h"
#include "api/mandates.h"
#include "api/payments_common.h"
#include "api/payments_connect.h"
#include "api/redirect_page.h"
#include "payments/pm_types.h"
#include "api/resources.h"
#include "api/setup_attempts.h"
#include "app.h"
#include "api/tax_ids.h"
#include "billing/tiers.h"
#include "core/parse.h"
#include "core/str.h"
#include "events/events.h"
#include "http/form.h"
#include "money/currency.h"
#include "money/money.h"
#include "payments/bank_transfer.h"
#include "payments/payments.h"
#include "store/store.h"
#include "tax/engine.h"
#include "payments/redirect.h"
#include "vault/fc_institution.h"
#include "vault/ideal.h"
#include "vault/vault.h"
#include "scheduler/scheduler.h"

#define QUANTITY_MAX 999
#define AMOUNT_TOTAL_MAX 99999999 /* a PaymentIntent's most */
#define EXPIRES_MIN 1800	  /* Stripe: 30 minutes … 24 hours */
#define EXPIRES_MAX 86400
#define EXPIRE_BATCH 64
#define ATTEMPT_STALE_S 120 /* an attempt whose intent is not there after this never will be */
#define TRIAL_DAYS_MAX 730  /* subscriptions.c's bound */
#define SHIP_COUNTRIES_MAX 250
#define CUSTOM_TEXT_MAX 1200 /* Stripe's limit on each custom_text message */
#define CUSTOM_FIELDS_MAX CHECKOUT_CUSTOM_FIELDS_MAX
#define CF_OPTIONS_MAX 200 /* a dropdown's options */
#define CF_LENGTH_MAX 255  /* a text or numeric field's longest value */

/* the buy-now-pay-later types (PMT_BNPL), in the order Stripe's objects show their keys */
static const char *const BNPL_NAMES[3] = {"affirm", "afterpay_clearpay", "klarna"};

/* payment_method_options[type] of a lender: setup_future_usage when given (`none`) */
static void pmo_bnpl_render(struct json *j, const char *type, json_t *o)
{
	json_key(j, type);
	json_obj_open(j);
	const char *sfu = json_string_value(json_object_get(o, "setup_future_usage"));
	if (sfu)
		json_kv_str(j, "setup_future_usage", sfu);
	json_obj_close(j);
}

/* ---- line items, shared with payment links ---- */

int checkout_item_taxes_render(struct req *r, struct db *db, const struct json_t *taxes,
			       struct json *j)
{
	json_arr_open(j);
	size_t k;
	json_t *te;
	json_array_foreach((json_t *)taxes, k, te)
	{
		const char *rate = json_string_value(json_object_get(te, "rate"));
		struct tax_rate t;
		int rc = rate ? tax_rate_load(r, db, rate, &t) : DB_ERR;
		if (rc != DB_OK)
			return rc < 0 ? rc : DB_ERR;
		json_obj_open(j);
		json_kv_int(j, "amount", json_integer_value(json_object_get(te, "amount")));
		json_key(j, "rate");
		tax_rate_render(&t, j);
		json_kv_str(j, "taxability_reason", tax_rate_id_reason(t.id));
		json_kv_int(
		    j, "taxable_amount",
		    tax_entry_taxable(t.id, json_integer_value(json_object_get(te, "taxable"))));
		json_obj_close(j);
	}
	json_arr_close(j);
	return DB_OK;
}

int checkout_breakdown_render(struct req *r, struct db *db, const struct discount *ds,
			      const int64_t *amounts, int n_ds, const struct json_t *lines,
			      const char *key, struct json *j)
{
	/* the taxes summed per rate, in the order the lines first take them (each line's at most
	 * its amount: the sums are bounded by the object's total) */
	json_t *sums = json_array();
	size_t i, k, q;
	json_t *l, *e, *x;
	json_array_foreach((json_t *)lines, i, l)
	{
		json_array_foreach(json_object_get(l, key), k, e)
		{
			const char *rate = json_string_value(json_object_get(e, "rate"));
			if (!rate)
				continue;
			json_t *sum = NULL;
			json_array_foreach(sums, q, x)
			{
				if (!sum && strcmp(json_string_value(json_object_get(x, "rate")),
						   rate) == 0)
					sum = x;
			}
			if (!sum) {
				sum = json_pack("{s:s, s:I, s:I}", "rate", rate, "amount",
						(json_int_t)0, "taxable", (json_int_t)0);
				json_array_append_new(sums, sum);
			}
			json_object_set_new(
			    sum, "amount",
			    json_integer(json_integer_value(json_object_get(sum, "amount")) +
					 json_integer_value(json_object_get(e, "amount"))));
			json_object_set_new(
			    sum, "taxable",
			    json_integer(json_integer_value(json_object_get(sum, "taxable")) +
					 json_integer_value(json_object_get(e, "taxable"))));
		}
	}
	/* rendered aside first: an error leaves nothing half written in j */
	struct buf b;
	struct json bj;
	buf_init(&b, 1u << 20);
	json_init(&bj, &b);
	json_obj_open(&bj);
	json_key(&bj, "discounts");
	json_arr_open(&bj);
	for (int d = 0; d < n_ds; d++) {
		json_obj_open(&bj);
		json_kv_int(&bj, "amount", amounts[d]);
		json_key(&bj, "discount");
		discount_render(r, &ds[d], false, &bj);
		json_obj_close(&bj);
	}
	json_arr_close(&bj);
	json_key(&bj, "taxes");
	int rc = checkout_item_taxes_render(r, db, sums, &bj);
	json_decref(sums);
	json_obj_close(&bj);
	if (rc == DB_OK && b.failed)
		rc = DB_ERR;
	if (rc == DB_OK)
		json_kv_raw(j, "breakdown", b.data, b.len);
	buf_release(&b);
	return rc;
}

int checkout_tax_rates_check(struct req *r, struct db *db, const char *const *ids, int n,
			     const char *shown)
{
	for (int k = 0; k < n; k++) {
		struct tax_rate t;
		int rc = tax_rate_load(r, db, ids[k], &t);
		if (rc == DB_NOTFOUND)
			return req_fail_missing(r, "tax_rate", ids[k], shown);
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (!t.active)
			return req_fail(r, ERR_PARAM_BAD, shown,
					"Tax rate %s is archived (active=false) and cannot be "
					"applied.",
					t.id);
	}
	return 0;
}

/* Line item idx's tax_rates[] (param[idx][tax_rates]: fixed rates, each one of r's merchant, else
 * 404, and active, as Stripe applies no archived rate anew) into *ts. A payment link's items take
 * none (its parameter table has no such key). 0, or -1 with r->err. */
static int line_tax_rates(struct req *r, struct db *db, const char *param, int idx,
			  const struct form_node *it, struct tax_rate_spec *ts)
{
	memset(ts, 0, sizeof(*ts));
	if (!form_get(it, "tax_rates"))
		return 0;
	const char *path = arena_printf(&r->arena, "%s.%d.tax_rates", param, idx);
	const char *shown = arena_printf(&r->arena, "%s[%d][tax_rates]", param, idx);
	if (!path || !shown)
		return req_fail(r, ERR_API, NULL, NULL);
	if (tax_rate_spec_parse(r, path, shown, ts) != 0)
		return -1;
	return checkout_tax_rates_check(r, db, ts->ids, ts->n, shown);
}

/* A stored line's amount before discounts and taxes: a tiered or sub-cent price's `amount` (its
 * tiers', or quantity × unit_amount_decimal rounded once: billing/tiers.h), else unit_amount ×
 * quantity (bounded when the line was priced). */
static int64_t line_subtotal(json_t *it)
{
	json_t *a = json_object_get(it, "amount");
	if (json_is_integer(a))
		return json_integer_value(a);
	return json_integer_value(json_object_get(it, "unit_amount")) *
	       json_integer_value(json_object_get(it, "quantity"));
}

/* A session's pay-what-you-want line (a price with custom_unit_amount; checkout_price_items
 * keeps it the only line): its bounds and preset as the price has them (-1: none) and the
 * amount it stands at (the preset, or 0, until the buyer chooses one on the page). */
struct custom_line {
	bool on;
	int64_t minimum, maximum, preset, amount;
};

static int64_t json_int_or(json_t *o, const char *key, int64_t dflt)
{
	json_t *v = json_object_get(o, key);
	return json_is_integer(v) ? json_integer_value(v) : dflt;
}

/* items_json's custom line, if it has one (c->on). */
static void items_custom_line(const char *items_json, struct custom_line *c)
{
	memset(c, 0, sizeof(*c));
	json_t *items = items_json ? json_loads(items_json, 0, NULL) : NULL;
	size_t i;
	json_t *it;
	json_array_foreach(items, i, it)
	{
		json_t *cu = json_object_get(it, "custom");
		if (!json_is_object(cu) || c->on)
			continue;
		c->on = true;
		c->minimum = json_int_or(cu, "minimum", -1);
		c->maximum = json_int_or(cu, "maximum", -1);
		c->preset = json_int_or(cu, "preset", -1);
		c->amount = line_subtotal(it);
	}
	json_decref(items);
}

/* What line item `it` (stored) took: its discount, all its taxes (inclusive ones are inside its
 * amount), and the exclusive ones (added to it). */
static void item_tax_amounts(json_t *it, int64_t *ret_discount, int64_t *ret_tax,
			     int64_t *ret_exclusive)
{
	*ret_discount = json_integer_value(json_object_get(it, "amount_discount"));
	*ret_tax = json_integer_value(json_object_get(it, "amount_tax"));
	*ret_exclusive = 0;
	size_t k;
	json_t *e;
	json_array_foreach(json_object_get(it, "taxes"), k, e)
	{
		if (!json_is_true(json_object_get(e, "inclusive")))
			*ret_exclusive += json_integer_value(json_object_get(e, "amount"));
	}
}

/* A session's taxes from its stored items: all of them, and the exclusive ones (in its total). */
static void items_tax_sums(const char *items_json, int64_t *ret_tax, int64_t *ret_exclusive)
{
	*ret_tax = *ret_exclusive = 0;
	json_t *items = items_json ? json_loads(items_json, 0, NULL) : NULL;
	size_t i;
	json_t *it;
	json_array_foreach(items, i, it)
	{
		int64_t disc, tax, exc;
		item_tax_amounts(it, &disc, &tax, &exc);
		*ret_tax += tax; /* each bounded by the session's total */
		*ret_exclusive += exc;
	}
	json_decref(items);
}

/* ---- dynamic tax rates (line_items[n][dynamic_tax_rates]) ----
 *
 * A line's dynamic rates are candidates: the buyer's billing address, given on the page, picks
 * one (dynamic_rate_pick), which then taxes the line as a fixed rate does (the same invoice
 * computation). Until an address is given the line is untaxed, as on Stripe, and the page asks
 * for the address before it takes a card, so the buyer pays the total the page showed. The rate
 * chosen is kept on the stored line ("dynamic_tax_rate") with what it took, and becomes the
 * subscription item's rate in subscription mode. */

/* Tender's bound on one line's candidates (Stripe documents none in its spec). */
#define DYNAMIC_TAX_RATES_MAX 100

/* Line item idx's dynamic_tax_rates[]: each one of r's merchant (else 404), active, with a
 * country (a rate without one could never match), none twice; not with fixed tax_rates (a
 * line's rates are either). *ret_json: the JSON array of their ids (r's arena), or NULL when
 * there are none. 0, or -1 with r->err. */
static int line_dynamic_rates(struct req *r, struct db *db, const char *param, int idx,
			      const struct form_node *it, bool fixed, const char **ret_json)
{
	*ret_json = NULL;
	const struct form_node *n = form_get(it, "dynamic_tax_rates");
	if (!n)
		return 0;
	const char *shown = arena_printf(&r->arena, "%s[%d][dynamic_tax_rates]", param, idx);
	if (!shown)
		return req_fail(r, ERR_API, NULL, NULL);
	bool scalar = n->kind == FORM_SCALAR;
	if (scalar && (!n->value || !*n->value))
		return 0; /* "": none */
	if (fixed)
		return req_fail(r, ERR_PARAM_BAD, shown,
				"You may only specify one of these parameters: tax_rates, "
				"dynamic_tax_rates.");
	json_t *ids = json_array();
	int rc = 0;
	for (const struct form_node *x = scalar ? n : n->first_child; x && rc == 0;
	     x = scalar ? NULL : x->next) {
		const char *id = x->kind == FORM_SCALAR ? x->value : NULL;
		if (!id || !*id) {
			rc = req_fail(r, ERR_PARAM_BAD, shown, "Invalid tax rate id.");
			break;
		}
		if (json_array_size(ids) == DYNAMIC_TAX_RATES_MAX) {
			rc = req_fail(r, ERR_PARAM_BAD, shown,
				      "At most %d dynamic tax rates can be given for a line item.",
				      DYNAMIC_TAX_RATES_MAX);
			break;
		}
		size_t k;
		json_t *v;
		json_array_foreach(ids, k, v)
		{
			if (strcmp(json_string_value(v), id) == 0)
				rc = req_fail(r, ERR_PARAM_BAD, shown,
					      "Tax rate %s is given twice.", id);
		}
		if (rc != 0)
			break;
		struct tax_rate t;
		int lrc = tax_rate_load(r, db, id, &t);
		if (lrc == DB_NOTFOUND)
			rc = req_fail_missing(r, "tax_rate", id, shown);
		else if (lrc != DB_OK)
			rc = req_fail(r, ERR_API, NULL, NULL);
		else if (!t.active)
			rc = req_fail(
			    r, ERR_PARAM_BAD, shown,
			    "Tax rate %s is archived (active=false) and cannot be applied.", t.id);
		else if (!t.country || !*t.country)
			rc =
			    req_fail(r, ERR_PARAM_BAD, shown,
				     "Tax rate %s has no country: dynamic tax rates are matched to "
				     "the customer's country (and state).",
				     t.id);
		else
			json_array_append_new(ids, json_string(id));
	}
	char *out = rc == 0 && json_array_size(ids) ? json_dumps(ids, JSON_COMPACT) : NULL;
	json_decref(ids);
	if (out) {
		*ret_json = arena_strdup(&r->arena, out);
		free(out);
		if (!*ret_json)
			rc = req_fail(r, ERR_API, NULL, NULL);
	}
	return rc;
}

static bool ascii_ieq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = *a >= 'a' && *a <= 'z' ? (char)(*a - 32) : *a;
		char y = *b >= 'a' && *b <= 'z' ? (char)(*b - 32) : *b;
		if (x != y)
			return false;
	}
	return *a == *b;
}

/* The rate stored line `it`'s dynamic_tax_rates take for billing address `address` (JSON, NULL:
 * none given): the first, in the order given, whose country is the address's and whose state,
 * when it has one, is the address's (Stripe: the first rate with a matching country/state);
 * none when nothing matches. The rates as they are now (one archived since the session was made
 * still applies, as an applied rate does). DB_OK (*ret_found), or < 0. */
static int dynamic_rate_pick(struct req *r, struct db *db, json_t *it, const char *address,
			     struct tax_rate *ret, bool *ret_found)
{
	*ret_found = false;
	json_t *ids = json_object_get(it, "dynamic_tax_rates");
	if (!json_is_array(ids) || !address)
		return DB_OK;
	json_t *addr = json_loads(address, 0, NULL);
	const char *country = json_string_value(json_object_get(addr, "country"));
	const char *state = json_string_value(json_object_get(addr, "state"));
	int rc = DB_OK;
	size_t k;
	json_t *v;
	json_array_foreach(ids, k, v)
	{
		if (*ret_found || rc != DB_OK || !country || !*country)
			break;
		const char *id = json_string_value(v);
		struct tax_rate t;
		rc = id ? tax_rate_load(r, db, id, &t) : DB_ERR;
		if (rc != DB_OK)
			break;
		if (!t.country || !ascii_ieq(t.country, country))
			continue;
		if (t.state && *t.state && !(state && ascii_ieq(t.state, state)))
			continue;
		*ret = t;
		*ret_found = true;
	}
	json_decref(addr);
	return rc;
}

/* ---- adjustable quantities (line_items[n][adjustable_quantity]) ---- */

#define ADJUSTABLE_MAX 999999	  /* Stripe's most for adjustable_quantity[maximum] */
#define ADJUSTABLE_DEFAULT_MAX 99 /* Stripe's defaults: from 0 to 99 */

/* The range a stored line's quantity may take on the page (adj: its "adjustable_quantity",
 * the bounds as given, null where not): Stripe's defaults where none was given. */
static void adjustable_range(const json_t *adj, int64_t *ret_min, int64_t *ret_max)
{
	json_t *mn = json_object_get(adj, "minimum"), *mx = json_object_get(adj, "maximum");
	*ret_min = json_is_integer(mn) ? json_integer_value(mn) : 0;
	*ret_max = json_is_integer(mx) ? json_integer_value(mx) : ADJUSTABLE_DEFAULT_MAX;
}

int checkout_line_adjustable(struct req *r, const char *param, int idx, const struct form_node *it,
			     int64_t qty, const char *refused, json_t *line)
{
	const char *base = arena_printf(&r->arena, "%s[%d][adjustable_quantity]", param, idx);
	const struct form_node *an = form_get(it, "adjustable_quantity");
	if (!base)
		return req_fail(r, ERR_API, NULL, NULL);
	if (an) {
		const char *dotted =
		    arena_printf(&r->arena, "%s.%d.adjustable_quantity", param, idx);
		bool enabled = false;
		int64_t mn = -1, mx = -1;
		if (!dotted)
			return req_fail(r, ERR_API, NULL, NULL);
		param_bool(r, arena_printf(&r->arena, "%s.enabled", dotted), &enabled);
		bool has_min =
		    param_int(r, arena_printf(&r->arena, "%s.minimum", dotted), &mn) == 1;
		bool has_max =
		    param_int(r, arena_printf(&r->arena, "%s.maximum", dotted), &mx) == 1;
		/* enabled=false: a quantity the buyer cannot change (Stripe drops the bounds) */
		if (!enabled) {
			json_object_del(line, "adjustable_quantity");
			return 0;
		}
		if (refused)
			return req_fail(r, ERR_PARAM_BAD, base, "%s", refused);
		if (has_min && mn < 0)
			return req_fail(r, ERR_PARAM_BAD,
					arena_printf(&r->arena, "%s[minimum]", base),
					"%s[minimum] must be at least 0.", base);
		if (has_max && (mx < 1 || mx > ADJUSTABLE_MAX))
			return req_fail(r, ERR_PARAM_BAD,
					arena_printf(&r->arena, "%s[maximum]", base),
					"%s[maximum] must be from 1 to %d.", base, ADJUSTABLE_MAX);
		int64_t lo = has_min ? mn : 0, hi = has_max ? mx : ADJUSTABLE_DEFAULT_MAX;
		if (lo > hi)
			return req_fail(r, ERR_PARAM_BAD,
					arena_printf(&r->arena, "%s[minimum]", base),
					"%s[minimum] (%lld) must be at most its maximum (%lld).",
					base, (long long)lo, (long long)hi);
		json_t *adj = json_pack("{s:b, s:o, s:o}", "enabled", 1, "maximum",
					has_max ? json_integer(mx) : json_null(), "minimum",
					has_min ? json_integer(mn) : json_null());
		if (!adj || json_object_set_new(line, "adjustable_quantity", adj) != 0)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	json_t *adj = json_object_get(line, "adjustable_quantity");
	if (!adj)
		return 0;
	/* the quantity the line starts at is one the buyer could choose (Stripe) */
	int64_t lo, hi;
	adjustable_range(adj, &lo, &hi);
	if (qty > hi)
		return req_fail(r, ERR_PARAM_BAD,
				an ? arena_printf(&r->arena, "%s[maximum]", base)
				   : arena_printf(&r->arena, "%s[%d][quantity]", param, idx),
				"The quantity of %s[%d] (%lld) must be at most its "
				"adjustable_quantity[maximum] (%lld).",
				param, idx, (long long)qty, (long long)hi);
	if (qty < lo)
		return req_fail(r, ERR_PARAM_BAD,
				an ? arena_printf(&r->arena, "%s[minimum]", base)
				   : arena_printf(&r->arena, "%s[%d][quantity]", param, idx),
				"The quantity of %s[%d] (%lld) must be at least its "
				"adjustable_quantity[minimum] (%lld).",
				param, idx, (long long)qty, (long long)lo);
	return 0;
}

int checkout_price_items(struct req *r, struct db *db, const char *param, const char *want,
			 bool recurring, const char **ret_json, int64_t *ret_total,
			 char ret_currency[8])
{
	/* subscription mode: every price recurring, with one interval (the subscription's) */
	char interval[8] = "";
	int64_t interval_count = 0;
	int onetime = -1; /* the first one-time price's line, when recurring */
	const char *onetime_price = NULL;
	bool any_recurring = false, any_metered = false, any_custom = false;
	const struct form_node *items = param_node(r, param);
	char cur[8] = "";
	for (int i = 0; want && want[i] && i < 7; i++)
		cur[i] = (char)(want[i] >= 'A' && want[i] <= 'Z' ? want[i] - 'A' + 'a' : want[i]);
	if (cur[0] && (strlen(want) != 3 || !currency_find(cur)))
		return req_fail(r, ERR_INVALID_CURRENCY, "currency", "Invalid currency: %s.", want);
	/* `currency` given: each price in it, its own or among its currency_options */
	const char *in_cur = cur[0] ? arena_strdup(&r->arena, cur) : NULL;
	struct buf b;
	struct json j;
	buf_init(&b, 256 * 1024);
	json_init(&j, &b);
	json_arr_open(&j);
	int64_t total = 0;
	int idx = 0, rc = 0;
	for (const struct form_node *it = items ? items->first_child : NULL; it && rc == 0;
	     it = it->next, idx++) {
		char pp[64];
		snprintf(pp, sizeof(pp), "%s[%d][price]", param, idx);
		const struct form_node *pn = form_get(it, "price");
		const struct form_node *qn = form_get(it, "quantity");
		const char *price = pn ? pn->value : NULL;
		bool inline_price = form_get(it, "price_data") != NULL;
		if ((price != NULL) == inline_price) {
			snprintf(pp, sizeof(pp), "%s[%d]", param, idx);
			rc = req_fail(r, ERR_PARAM_BAD, pp,
				      "Exactly one of price and price_data is required in %s.", pp);
			break;
		}
		int64_t qty = 1;
		if (qn && (parse_i64(qn->value, &qty) != 0 || qty < 1 || qty > QUANTITY_MAX)) {
			snprintf(pp, sizeof(pp), "%s[%d][quantity]", param, idx);
			rc = req_fail(r, ERR_PARAM_BAD, pp,
				      "Invalid %s: a quantity is from 1 to 999.", pp);
			break;
		}
		struct price_facts pf;
		char made[ID_MAX];
		if (inline_price) {
			char prefix[64], shown[64];
			snprintf(prefix, sizeof(prefix), "%s.%d.price_data.", param, idx);
			snprintf(shown, sizeof(shown), "%s[%d][price_data]", param, idx);
			if (price_create_inline(r, db, prefix, shown, &pf, made) != 0) {
				rc = -1;
				break;
			}
			price = made;
			snprintf(pp, sizeof(pp), "%s[%d][price_data]", param, idx);
		}
		int prc = inline_price ? DB_OK
			  : price      ? price_facts_in(r, db, price, in_cur, &pf)
				       : DB_NOTFOUND;
		if (prc == DB_NOTFOUND) {
			rc = req_fail_missing(r, "price", price ? price : "", pp);
			break;
		}
		if (prc != DB_OK) {
			rc = req_fail(r, ERR_API, NULL, NULL);
			break;
		}
		if (!pf.active || !pf.product_active)
			rc = req_fail(r, ERR_PARAM_BAD, pp,
				      "The price `%s` or its product is not active.", price);
		else if (pf.recurring && !recurring)
			rc = req_fail(r, ERR_PARAM_BAD, pp,
				      "You specified `payment` mode but passed a recurring price. "
				      "Either switch to `subscription` mode or use only one-time "
				      "prices.");
		else if (pf.recurring && !pf.meter &&
			 (!pf.usage_type || strcmp(pf.usage_type, "licensed") != 0))
			rc = req_fail(r, ERR_PARAM_BAD, pp,
				      "The price `%s` is metered without a meter: Checkout does "
				      "not take usage records. Use a metered price backed by a "
				      "billing meter (recurring[meter]).",
				      price);
		else if (pf.meter && qn)
			rc = req_fail(r, ERR_PARAM_BAD,
				      arena_printf(&r->arena, "%s[%d][quantity]", param, idx),
				      "Quantity should not be specified where usage_type is "
				      "`metered`. Remove quantity from `%s[%d]`.",
				      param, idx);
		else if (pf.recurring && interval[0] &&
			 (strcmp(interval, pf.interval) != 0 ||
			  interval_count != pf.interval_count))
			rc = req_fail(r, ERR_PARAM_BAD, pp,
				      "All of a subscription's prices must have the same billing "
				      "interval (every %lld %s); `%s` is not.",
				      (long long)interval_count, interval, price);
		else if (in_cur && strcmp(cur, pf.currency) != 0)
			rc = req_fail(r, ERR_PARAM_BAD, pp,
				      "The price `%s` is in %s and has no currency_options entry "
				      "for %s, the session's `currency`.",
				      price, pf.currency, cur);
		else if (cur[0] && strcmp(cur, pf.currency) != 0)
			rc = req_fail(r, ERR_PARAM_BAD, pp,
				      "The price `%s` is in %s; every line item must be in %s.",
				      price, pf.currency, cur);
		else if (pf.custom && qty != 1)
			/* the customer chooses the amount of one item (Stripe's rule) */
			rc =
			    req_fail(r, ERR_PARAM_BAD,
				     arena_printf(&r->arena, "%s[%d][quantity]", param, idx),
				     "The quantity must be 1 for a price with `custom_unit_amount` "
				     "(`%s`): the customer chooses the amount.",
				     price);
		if (rc != 0)
			break;
		struct tax_rate_spec ts;
		const char *dynamic = NULL;
		if (line_tax_rates(r, db, param, idx, it, &ts) != 0 ||
		    line_dynamic_rates(r, db, param, idx, it, ts.n > 0, &dynamic) != 0) {
			rc = -1;
			break;
		}
		/* the buyer may choose its quantity on the page (not a metered line's, which has
		 * none, nor a pay-what-you-want line's, which is one) */
		const char *adjustable = NULL;
		bool metered_line = pf.meter != NULL;
		if (form_get(it, "adjustable_quantity")) {
			json_t *line = json_object();
			const char *why =
			    metered_line ? "A metered price's line has no quantity to adjust."
			    : pf.custom	 ? "A price with `custom_unit_amount` is sold one at a "
					   "time: its quantity cannot be adjusted."
					 : NULL;
			if (!line ||
			    checkout_line_adjustable(r, param, idx, it, qty, why, line) != 0) {
				json_decref(line);
				rc = r->err.set ? -1 : req_fail(r, ERR_API, NULL, NULL);
				break;
			}
			json_t *adj = json_object_get(line, "adjustable_quantity");
			char *dumped = adj ? json_dumps(adj, JSON_COMPACT) : NULL;
			adjustable = dumped ? arena_strdup(&r->arena, dumped) : NULL;
			free(dumped);
			json_decref(line);
			if (adj && !adjustable) {
				rc = req_fail(r, ERR_API, NULL, NULL);
				break;
			}
		}
		if (recurring && !pf.recurring && onetime < 0) {
			/* refused after the loop (Stripe's message if none is recurring) */
			onetime = idx;
			onetime_price = arena_strdup(&r->arena, price);
		}
		if (pf.recurring) {
			any_recurring = true;
			str_copy(interval, sizeof(interval), pf.interval);
			interval_count = pf.interval_count;
		}
		if (!cur[0])
			str_copy(cur, sizeof(cur), pf.currency);
		/* a metered line is billed in arrears for its meter's usage: nothing now */
		bool metered = pf.meter != NULL;
		if (metered)
			any_metered = true;
		int64_t line = 0;
		/* pay what you want: the preset (or nothing) until the buyer chooses */
		if (pf.custom) {
			any_custom = true;
			line = pf.custom_preset > 0 ? pf.custom_preset : 0;
		}
		if ((!metered && !pf.custom && price_facts_amount(&pf, qty, &line) != 0) ||
		    __builtin_add_overflow(total, line, &total) || total > AMOUNT_TOTAL_MAX) {
			rc =
			    req_fail(r, ERR_AMOUNT_TOO_LARGE, param,
				     "The line items' total must be at most %d.", AMOUNT_TOTAL_MAX);
			break;
		}
		char li[ID_MAX];
		id_new(li, "li_");
		json_obj_open(&j);
		json_kv_str(&j, "id", li);
		json_kv_str(&j, "price", price);
		json_kv_int(&j, "quantity", metered ? 0 : qty);
		/* a pay-what-you-want line's unit amount is the amount it stands at (quantity 1) */
		json_kv_int(&j, "unit_amount", pf.custom ? line : pf.unit_amount);
		/* its tiers' amount, a sub-cent price's rounded once, or 0 (line_subtotal) */
		if (price_facts_lump(&pf) || metered)
			json_kv_int(&j, "amount", line);
		if (!pf.tiers && !pf.has_unit_amount && !pf.custom)
			json_kv_str(&j, "unit_amount_decimal", pf.unit_amount_decimal);
		if (pf.custom) { /* the price's bounds, as the page checks the buyer's amount */
			json_key(&j, "custom");
			json_obj_open(&j);
			const char *const ck[3] = {"maximum", "minimum", "preset"};
			const int64_t cv[3] = {pf.custom_maximum, pf.custom_minimum,
					       pf.custom_preset};
			for (int k = 0; k < 3; k++) {
				if (cv[k] >= 0)
					json_kv_int(&j, ck[k], cv[k]);
				else
					json_kv_null(&j, ck[k]);
			}
			json_obj_close(&j);
		}
		if (metered) { /* no quantity; the page says how its usage is priced */
			json_kv_bool(&j, "metered", true);
			json_kv_bool(&j, "tiered", pf.tiers != NULL);
			/* transform_quantity: its unit amount is per divide_by units */
			if (qty_transform_set(&pf.transform))
				json_kv_int(&j, "per_units", pf.transform.divide_by);
		}
		json_kv_str(&j, "description", pf.product_name ? pf.product_name : "");
		if (pf.recurring) {
			json_kv_str(&j, "interval", pf.interval);
			json_kv_int(&j, "interval_count", pf.interval_count);
		}
		if (ts.n) {
			json_key(&j, "tax_rates");
			json_arr_open(&j);
			for (int k = 0; k < ts.n; k++)
				json_str(&j, ts.ids[k]);
			json_arr_close(&j);
		}
		if (dynamic)
			json_kv_raw(&j, "dynamic_tax_rates", dynamic, strlen(dynamic));
		if (adjustable)
			json_kv_raw(&j, "adjustable_quantity", adjustable, strlen(adjustable));
		json_obj_close(&j);
	}
	json_arr_close(&j);
	if (rc == 0 && idx == 0)
		rc = req_fail(r, ERR_PARAM_MISSING, param, "%s", param);
	/* a pay-what-you-want price is sold alone: the buyer's amount is the whole payment */
	if (rc == 0 && any_custom && idx > 1)
		rc = req_fail(r, ERR_PARAM_BAD, param, "%s",
			      "A price with `custom_unit_amount` must be the only line item.");
	/* Stripe bills one-time prices of a subscription-mode session once, on the first
	 * invoice; Tender's subscriptions have no one-off invoice items, so it refuses them */
	if (rc == 0 && onetime >= 0)
		rc = req_fail(
		    r, ERR_PARAM_BAD, arena_printf(&r->arena, "%s[%d][price]", param, onetime),
		    any_recurring
			? "Tender's `subscription` mode takes recurring prices only (no "
			  "one-time items on the first invoice); `%s` is a one-time price."
			: "You must provide at least one recurring price in `subscription` "
			  "mode when using prices; `%s` is a one-time price.",
		    onetime_price);
	/* only metered prices: nothing is due now (the card is still collected, its first
	 * invoice is 0), as on Stripe */
	if (rc == 0 && total < 1 && !any_metered && !any_custom)
		rc = req_fail(r, ERR_PARAM_BAD, param, "%s",
			      "The line items' total must be more than zero.");
	if (rc == 0) {
		*ret_json = b.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&b));
		*ret_total = total;
		str_copy(ret_currency, 8, cur);
		if (!*ret_json)
			rc = req_fail(r, ERR_API, NULL, NULL);
	}
	buf_release(&b);
	if (rc != 0)
		return -1;
	if (total == 0 && any_metered)
		return 0;
	/* the buyer's amount is checked on the page (custom_amount_choice) */
	if (any_custom)
		return 0;
	/* the total must be a payment this merchant can take */
	return payments_check_minimum_db(r, db, total, ret_currency, param, param);
}

int checkout_render_line_items(struct req *r, struct db *db, const char *items_json,
			       const char *currency, const char *url)
{
	json_error_t e;
	json_t *items = json_loads(items_json, 0, &e);
	if (!json_is_array(items)) {
		json_decref(items);
		return req_fail(r, ERR_API, NULL, NULL);
	}
	struct json *j = req_json(r);
	json_obj_open(j);
	json_kv_str(j, "object", "list");
	json_key(j, "data");
	json_arr_open(j);
	size_t i;
	json_t *it;
	int rc = DB_OK;
	json_array_foreach(items, i, it)
	{
		int64_t qty = json_integer_value(json_object_get(it, "quantity"));
		int64_t subtotal = line_subtotal(it);
		int64_t disc, tax, exc;
		item_tax_amounts(it, &disc, &tax, &exc);
		json_obj_open(j);
		json_kv_str(j, "id", json_string_value(json_object_get(it, "id")));
		json_kv_str(j, "object", "item");
		/* newer than the 2023-08-16 spec, shown as today's API shows it: the bounds as
		 * given (null where not), or null for a quantity the buyer cannot change */
		json_t *adj = json_object_get(it, "adjustable_quantity");
		char *adj_s = json_is_object(adj) ? json_dumps(adj, JSON_COMPACT) : NULL;
		if (adj_s)
			json_kv_raw(j, "adjustable_quantity", adj_s, strlen(adj_s));
		else
			json_kv_null(j, "adjustable_quantity");
		free(adj_s);
		json_kv_int(j, "amount_discount", disc);
		json_kv_int(j, "amount_subtotal", subtotal);
		json_kv_int(j, "amount_tax", tax);
		json_kv_int(j, "amount_total", subtotal - disc + exc);
		json_kv_str(j, "currency", currency);
		json_kv_str(j, "description",
			    json_string_value(json_object_get(it, "description")));
		json_key(j, "price");
		rc = price_render_id(r, db, json_string_value(json_object_get(it, "price")), j);
		if (rc != DB_OK)
			break;
		if (json_is_true(json_object_get(it, "metered")))
			json_kv_null(j, "quantity"); /* Stripe's metered line: usage, later */
		else
			json_kv_int(j, "quantity", qty);
		/* includable, as on Stripe (expand[]=data.taxes) */
		if (req_expand_has(r, "data.taxes")) {
			json_key(j, "taxes");
			rc = checkout_item_taxes_render(r, db, json_object_get(it, "taxes"), j);
			if (rc != DB_OK)
				break;
		}
		json_obj_close(j);
	}
	json_decref(items);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	json_arr_close(j);
	json_kv_bool(j, "has_more", false);
	json_kv_str(j, "url", url);
	json_obj_close(j);
	return 0;
}

/* ---- the session row ---- */

struct session {
	char id[ID_MAX];
	int64_t created, expires_at, amount_total;
	char currency[8];
	const char *status, *payment_status, *line_items, *success_url, *cancel_url, *customer;
	const char *customer_email, *client_reference_id, *metadata, *payment_intent;
	const char *payment_link, *pi_capture_method, *pi_description, *submit_type;
	const char *confirmation_message, *details_email, *details_name;
	const char *mode, *setup_intent;
	const char *link_nonce; /* a payment link's form: the one-time value it was served with */
	int64_t attempt_at;	/* when the last attempt's intent was recorded */
	/* mode=subscription: the last attempt's subscription and its first invoice (shown once
	 * complete), and subscription_data */
	const char *subscription, *invoice;
	int64_t sub_trial_days;
	const char *sub_metadata, *sub_description;
	/* subscription_data[billing_mode][type] as the create asked it or defaulted it by its API
	 * version (NULL: a session made before, or a payment link's: classic) */
	const char *sub_billing_mode;
	/* its [flexible][proration_discounts] ("included", "itemized"; NULL: classic, or before) */
	const char *sub_pd;
	/* its discount (one, as on Stripe): a coupon, and the promotion code that brought it;
	 * amount_subtotal is before it, amount_total after */
	bool allow_promotion_codes;
	int64_t amount_subtotal;
	const char *discount_coupon, *discount_promotion_code;
	/* shipping (mode=payment): the options (JSON [{shipping_rate, shipping_amount,
	 * display_name}] or NULL), the chosen rate and its amount (amount_total includes it), the
	 * countries an address may be in (JSON array, NULL: none asked for), and the address the
	 * buyer gave (Stripe's shipping hash as JSON, recorded with the attempt) */
	const char *shipping_options, *shipping_rate, *shipping_countries, *shipping_details;
	int64_t amount_shipping;
	/* the buyer's billing address (Stripe's address hash as JSON; NULL: none given), which
	 * chooses the rate of lines with dynamic_tax_rates */
	const char *billing_address;
	/* what it asks of the buyer beyond the card (collect_parse: billing_address_collection,
	 * phone_number_collection, customer_creation, customer_update, locale, custom_text,
	 * after_expiration; NULL: none given), and the phone the buyer typed */
	const char *collect, *details_phone;
	/* custom_fields as the session shows them (JSON array; values filled in by the attempt
	 * that the buyer's form made; NULL: none) */
	const char *custom_fields;
	/* consent_collection's answers (JSON {promotions, terms_of_service}) and the tax ids the
	 * buyer gave (JSON [{type, value}]), recorded with the attempt; NULL: none */
	const char *consent, *details_tax_ids;
	/* automatic_tax[enabled]: Stripe Tax taxes its lines (see "automatic tax" below) */
	bool automatic_tax;
	/* after_expiration[recovery]: the expired session this one was recovered from (NULL:
	 * none), and, once this one expired with recovery enabled, until when its recovery URL
	 * opens a new session (0: no URL) */
	const char *recovered_from;
	int64_t recovery_expires_at;
	/* payment_method_types as a JSON array, or NULL: ["card"] */
	const char *pm_types;
	/* checkout_complete: the payment is a debit still processing (payment_status unpaid) */
	bool async_unpaid;
	/* ui_mode as given (NULL: a session made before it, or a payment link's: hosted), and an
	 * embedded or custom session's return_url and redirect_on_completion (see "ui_mode"
	 * below) */
	const char *ui_mode, *return_url, *redirect_on_completion;
};

/* whether session s takes payment method type `type` */
static bool takes_type(const struct session *s, const char *type)
{
	return pm_types_allows(s->pm_types, PMT_CARD, type);
}

static const char SQL_GET[] =
    "SELECT id, created, expires_at, amount_total, currency, status, payment_status, line_items,"
    " success_url, cancel_url, customer, customer_email, client_reference_id, metadata,"
    " payment_intent, payment_link, pi_capture_method, pi_description, submit_type,"
    " confirmation_message, details_email, details_name, mode, setup_intent, attempt_at,"
    " subscription, invoice, sub_trial_days, sub_metadata, sub_description,"
    " allow_promotion_codes, amount_subtotal, discount_coupon, discount_promotion_code,"
    " shipping_options, shipping_rate, amount_shipping, shipping_countries, shipping_details,"
    " billing_address, collect, details_phone, custom_fields, consent, details_tax_ids,"
    " automatic_tax, recovered_from, recovery_expires_at, payment_method_types, ui_mode,"
    " return_url, redirect_on_completion, sub_billing_mode, sub_proration_discounts"
    " FROM checkout_sessions"
    " WHERE merchant_id = $1 AND id = $2";
static const char SQL_INSERT[] =
    "INSERT INTO checkout_sessions (merchant_id, id, created, expires_at, amount_total,"
    " currency, status, payment_status, line_items, success_url, cancel_url, customer,"
    " customer_email, client_reference_id, metadata, payment_intent, payment_link,"
    " pi_capture_method, pi_description, submit_type, confirmation_message, details_email,"
    " details_name, mode, link_nonce, sub_trial_days, sub_metadata, sub_description,"
    " allow_promotion_codes, amount_subtotal, discount_coupon, discount_promotion_code,"
    " shipping_options, shipping_rate, amount_shipping, shipping_countries, collect,"
    " custom_fields, automatic_tax, recovered_from, payment_method_types, ui_mode, return_url,"
    " redirect_on_completion, sub_billing_mode, sub_proration_discounts)"
    " VALUES ($1, $2, $3, $4, $5, $6, 'open', $19, $7, $8, $9, $10, $11, $12, $13, NULL, $14,"
    " $15, $16, $17, $18, NULL, NULL, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30,"
    " $31, $32, $33, $34, $35, $36, $37, $38, $39, $40, $41, $42)";
/* the buyer's promotion code (or none), while the session is open and takes codes */
static const char SQL_SET_DISCOUNT[] =
    "UPDATE checkout_sessions SET discount_coupon = $3, discount_promotion_code = $4,"
    " amount_total = $5, line_items = $8 WHERE merchant_id = $1 AND id = $2 AND status = 'open'"
    " AND allow_promotion_codes = 1"
    " AND (payment_intent = $6 OR (payment_intent IS NULL AND $6 IS NULL))"
    " AND (subscription = $7 OR (subscription IS NULL AND $7 IS NULL))";
/* a promotion code a lowered quantity no longer reaches the minimum of (quantities_fn), off the
 * session however it came (allow_promotion_codes or discounts[0][promotion_code]) */
static const char SQL_DROP_DISCOUNT[] =
    "UPDATE checkout_sessions SET discount_coupon = NULL, discount_promotion_code = NULL,"
    " amount_total = $3, line_items = $4 WHERE merchant_id = $1 AND id = $2 AND status = 'open'"
    " AND (payment_intent = $5 OR (payment_intent IS NULL AND $5 IS NULL))"
    " AND (subscription = $6 OR (subscription IS NULL AND $6 IS NULL))";
static const char SQL_BY_NONCE[] =
    "SELECT id FROM checkout_sessions WHERE merchant_id = $1 AND link_nonce = $2";
/* the attempt's PaymentIntent, only while open */
/* The attempt's intent, set from the value read (a compare-and-set: of two attempts that read
 * the same value, one moves it; see attempt_fn). */
static const char SQL_ATTEMPT[] =
    "UPDATE checkout_sessions SET payment_intent = $3, details_email = $4, details_name = $5,"
    " attempt_at = $6, shipping_rate = $8, amount_shipping = $9, amount_total = $10,"
    " shipping_details = $11 WHERE merchant_id = $1 AND id = $2 AND status = 'open'"
    " AND (payment_intent = $7 OR (payment_intent IS NULL AND $7 IS NULL))";
/* mode=subscription: the attempt is its subscription (a trial has no intent); the intent paying
 * its first invoice, when there is one, is recorded with it */
static const char SQL_ATTEMPT_SUB[] =
    "UPDATE checkout_sessions SET subscription = $3, details_email = $4, details_name = $5,"
    " attempt_at = $6, payment_intent = $8 WHERE merchant_id = $1 AND id = $2"
    " AND status = 'open' AND (subscription = $7 OR (subscription IS NULL AND $7 IS NULL))";
/* inside the subscription's own write: its customer (made then, if the session named none) and
 * first invoice, while the attempt is still the session's */
static const char SQL_SUB_ROWS[] =
    "UPDATE checkout_sessions SET customer = $3, invoice = $4 WHERE merchant_id = $1"
    " AND id = $2 AND status = 'open' AND subscription = $5";
/* a declined attempt kept nothing: the session forgets it, so the buyer can try again now */
static const char SQL_ATTEMPT_CLEAR[] =
    "UPDATE checkout_sessions SET subscription = NULL, payment_intent = NULL, invoice = NULL"
    " WHERE merchant_id = $1 AND id = $2 AND status = 'open' AND subscription = $3";
static const char SQL_ATTEMPT_SETUP[] =
    "UPDATE checkout_sessions SET setup_intent = $3, details_email = $4, details_name = $5,"
    " attempt_at = $6 WHERE merchant_id = $1 AND id = $2 AND status = 'open'"
    " AND (setup_intent = $7 OR (setup_intent IS NULL AND $7 IS NULL))";
/* expire, only from open; complete, from open or (a challenge finished after the session's
 * expiry: the payment went through, and the session says so) from expired */
/* with the attempt: what the buyer gave beyond the card (phone, billing address) and the
 * customer made for them (customer_creation=always) */
static const char SQL_ATTEMPT_DETAILS[] =
    "UPDATE checkout_sessions SET details_phone = $3, custom_fields = COALESCE($6, custom_fields),"
    " consent = $7, details_tax_ids = $8,"
    " billing_address = COALESCE($4, billing_address), customer = COALESCE($5, customer)"
    " WHERE merchant_id = $1 AND id = $2 AND status = 'open'";
static const char SQL_EXPIRE[] =
    "UPDATE checkout_sessions SET status = 'expired' WHERE merchant_id = $1 AND id = $2"
    " AND status = 'open'";
static const char SQL_COMPLETE[] =
    "UPDATE checkout_sessions SET status = 'complete', payment_status = $3"
    " WHERE merchant_id = $1 AND id = $2 AND status IN ('open', 'expired')";

static int session_load(struct arena *a, struct db *db, const char *merchant_id, const char *id,
			struct session *s)
{
	struct db_stmt *st = db_prepare(db, SQL_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		memset(s, 0, sizeof(*s));
		str_copy(s->id, sizeof(s->id), db_col_text(st, 0, NULL));
		s->created = db_col_int64(st, 1);
		s->expires_at = db_col_int64(st, 2);
		s->amount_total = db_col_int64(st, 3);
		str_copy(s->currency, sizeof(s->currency), db_col_text(st, 4, NULL));
		s->status = col_text_dup(a, st, 5);
		s->payment_status = col_text_dup(a, st, 6);
		s->line_items = col_text_dup(a, st, 7);
		s->success_url = col_text_dup(a, st, 8);
		s->cancel_url = col_text_dup(a, st, 9);
		s->customer = col_text_dup(a, st, 10);
		s->customer_email = col_text_dup(a, st, 11);
		s->client_reference_id = col_text_dup(a, st, 12);
		s->metadata = col_text_dup(a, st, 13);
		s->payment_intent = col_text_dup(a, st, 14);
		s->payment_link = col_text_dup(a, st, 15);
		s->pi_capture_method = col_text_dup(a, st, 16);
		s->pi_description = col_text_dup(a, st, 17);
		s->submit_type = col_text_dup(a, st, 18);
		s->confirmation_message = col_text_dup(a, st, 19);
		s->details_email = col_text_dup(a, st, 20);
		s->details_name = col_text_dup(a, st, 21);
		s->mode = col_text_dup(a, st, 22);
		s->setup_intent = col_text_dup(a, st, 23);
		s->attempt_at = db_col_int64(st, 24);
		s->subscription = col_text_dup(a, st, 25);
		s->invoice = col_text_dup(a, st, 26);
		s->sub_trial_days = db_col_int64(st, 27);
		s->sub_metadata = col_text_dup(a, st, 28);
		s->sub_description = col_text_dup(a, st, 29);
		s->allow_promotion_codes = db_col_int64(st, 30) != 0;
		/* sessions made before discounts: nothing off */
		s->amount_subtotal =
		    db_col_text(st, 31, NULL) ? db_col_int64(st, 31) : s->amount_total;
		s->discount_coupon = col_text_dup(a, st, 32);
		s->discount_promotion_code = col_text_dup(a, st, 33);
		s->shipping_options = col_text_dup(a, st, 34);
		s->shipping_rate = col_text_dup(a, st, 35);
		s->amount_shipping = db_col_int64(st, 36);
		s->shipping_countries = col_text_dup(a, st, 37);
		s->shipping_details = col_text_dup(a, st, 38);
		s->billing_address = col_text_dup(a, st, 39);
		s->collect = col_text_dup(a, st, 40);
		s->details_phone = col_text_dup(a, st, 41);
		s->custom_fields = col_text_dup(a, st, 42);
		s->consent = col_text_dup(a, st, 43);
		s->details_tax_ids = col_text_dup(a, st, 44);
		s->automatic_tax = db_col_int64(st, 45) != 0;
		s->recovered_from = col_text_dup(a, st, 46);
		s->recovery_expires_at = db_col_int64(st, 47);
		s->pm_types = col_text_dup(a, st, 48);
		s->ui_mode = col_text_dup(a, st, 49);
		s->return_url = col_text_dup(a, st, 50);
		s->redirect_on_completion = col_text_dup(a, st, 51);
		s->sub_billing_mode = col_text_dup(a, st, 52);
		s->sub_pd = col_text_dup(a, st, 53);
		if (!s->mode || !s->status || !s->payment_status || !s->line_items ||
		    !s->metadata || !s->submit_type)
			rc = DB_ERR;
	}
	db_reset(st);
	if (rc == DB_ROW)
		return DB_OK;
	return rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
}

static int session_insert(struct req *r, struct db *db, const struct session *s)
{
	struct db_stmt *st = db_prepare(db, SQL_INSERT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, s->id, -1);
	db_bind_int64(st, 3, s->created);
	db_bind_int64(st, 4, s->expires_at);
	db_bind_int64(st, 5, s->amount_total);
	db_bind_text(st, 6, s->currency, -1);
	db_bind_text(st, 7, s->line_items, -1);
	db_bind_text(st, 8, s->success_url, -1);
	db_bind_text(st, 9, s->cancel_url, -1);
	db_bind_text(st, 10, s->customer, -1);
	db_bind_text(st, 11, s->customer_email, -1);
	db_bind_text(st, 12, s->client_reference_id, -1);
	db_bind_text(st, 13, s->metadata, -1);
	db_bind_text(st, 14, s->payment_link, -1);
	db_bind_text(st, 15, s->pi_capture_method, -1);
	db_bind_text(st, 16, s->pi_description, -1);
	db_bind_text(st, 17, s->submit_type, -1);
	db_bind_text(st, 18, s->confirmation_message, -1);
	db_bind_text(st, 19, s->payment_status, -1);
	db_bind_text(st, 20, s->mode, -1);
	db_bind_text(st, 21, s->link_nonce, -1);
	db_bind_int64(st, 22, s->sub_trial_days);
	db_bind_text(st, 23, s->sub_metadata, -1);
	db_bind_text(st, 24, s->sub_description, -1);
	db_bind_int64(st, 25, s->allow_promotion_codes ? 1 : 0);
	db_bind_int64(st, 26, s->amount_subtotal);
	db_bind_text(st, 27, s->discount_coupon, -1);
	db_bind_text(st, 28, s->discount_promotion_code, -1);
	db_bind_text(st, 29, s->shipping_options, -1);
	db_bind_text(st, 30, s->shipping_rate, -1);
	db_bind_int64(st, 31, s->amount_shipping);
	db_bind_text(st, 32, s->shipping_countries, -1);
	db_bind_text(st, 33, s->collect, -1);
	db_bind_text(st, 34, s->custom_fields, -1);
	db_bind_int64(st, 35, s->automatic_tax ? 1 : 0);
	db_bind_text(st, 36, s->recovered_from, -1);
	db_bind_text(st, 37, s->pm_types, -1);
	db_bind_text(st, 38, s->ui_mode, -1);
	db_bind_text(st, 39, s->return_url, -1);
	db_bind_text(st, 40, s->redirect_on_completion, -1);
	db_bind_text(st, 41, s->sub_billing_mode, -1);
	db_bind_text(st, 42, s->sub_pd, -1);
	return db_step_done(st);
}

/* ---- rendering ---- */

static const char *session_url(struct req *r, const char *merchant_id, const char *id)
{
	const char *base = req_url_base(r);
	return arena_printf(&r->arena, "%s/checkout/%s/%s", base, merchant_id, id);
}

/* Whether the merchant's own page shows a session of this ui_mode (embedded / embedded_page:
 * Stripe.js's embedded form; custom / elements: Checkout elements), with its client_secret;
 * NULL, hosted and hosted_page are Checkout's hosted page (`url`). */
static bool ui_client(const char *ui_mode)
{
	return ui_mode && strcmp(ui_mode, "hosted") != 0 && strcmp(ui_mode, "hosted_page") != 0;
}

static bool ui_custom(const char *ui_mode)
{
	return ui_mode && (strcmp(ui_mode, "custom") == 0 || strcmp(ui_mode, "elements") == 0);
}

/* An embedded or custom session's client_secret, Stripe's shape ("cs_test_…_secret_…"): the
 * vault's page token of "{id}#client_secret", derived, never stored, so neither the store nor
 * a log holds it. NULL without a vault. */
static const char *session_client_secret(struct req *r, const char *merchant_id, const char *id)
{
	char obj[ID_MAX + 16], tok[VAULT_PAGE_TOKEN_LEN + 1];
	int n = snprintf(obj, sizeof(obj), "%s#client_secret", id);
	if (n < 0 || (size_t)n >= sizeof(obj) || !r->app || !r->app->vault ||
	    vault_page_token(r->app->vault, merchant_id, obj, tok) != 0)
		return NULL;
	const char *out = arena_printf(&r->arena, "%s_secret_%s", id, tok);
	OPENSSL_cleanse(tok, sizeof(tok));
	return out;
}

/* shipping_address_collection, shipping_cost (the chosen option), shipping_details (the
 * address, once the session is complete) and shipping_options */
static void shipping_render(const struct session *s, bool complete, struct json *j)
{
	json_key(j, "shipping_address_collection");
	if (s->shipping_countries) {
		json_obj_open(j);
		json_kv_raw(j, "allowed_countries", s->shipping_countries,
			    strlen(s->shipping_countries));
		json_obj_close(j);
	} else {
		json_nil(j);
	}
	json_key(j, "shipping_cost");
	if (s->shipping_rate) {
		json_obj_open(j);
		json_kv_int(j, "amount_subtotal", s->amount_shipping);
		json_kv_int(j, "amount_tax", 0);
		json_kv_int(j, "amount_total", s->amount_shipping);
		json_kv_str(j, "shipping_rate", s->shipping_rate);
		json_obj_close(j);
	} else {
		json_nil(j);
	}
	if (complete && s->shipping_details)
		json_kv_raw(j, "shipping_details", s->shipping_details,
			    strlen(s->shipping_details));
	else
		json_kv_null(j, "shipping_details");
	json_key(j, "shipping_options");
	json_arr_open(j);
	json_t *opts = s->shipping_options ? json_loads(s->shipping_options, 0, NULL) : NULL;
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
}

static const char SQL_SESSION_DISCOUNT[] =
    "SELECT id FROM discounts WHERE merchant_id = $1 AND checkout_session = $2"
    " ORDER BY pos LIMIT 1";

/* total_details.breakdown of s (checkout_breakdown_render): its discount with what it took from
 * the items (amount_discount), and its items' taxes per rate. The discount object is the one
 * the session's payment redeemed once it is complete; before that (and in subscription mode,
 * whose discount becomes the subscription's) Tender has made none, and shows the one it will
 * be, named after the session ("di_" and the session id's body). Nothing is written when a
 * read fails (the key is then left out). */
static void session_breakdown(struct req *r, struct db *db, const struct session *s,
			      int64_t discount, struct json *j)
{
	struct discount d;
	memset(&d, 0, sizeof(d));
	int n = 0;
	if (s->discount_coupon) {
		n = 1;
		bool found = false;
		struct db_stmt *st = db_prepare(db, SQL_SESSION_DISCOUNT);
		if (!st)
			return;
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, s->id, -1);
		char id[ID_MAX] = "";
		int rc = db_step(st);
		if (rc == DB_ROW)
			str_copy(id, sizeof(id), db_col_text(st, 0, NULL));
		db_reset(st);
		if (rc != DB_ROW && rc != DB_DONE)
			return;
		if (id[0] && discount_load(r, db, id, &d) == DB_OK)
			found = true;
		if (!found) {
			memset(&d, 0, sizeof(d));
			const char *body = strncmp(s->id, "cs_", 3) == 0 ? s->id + 3 : s->id;
			snprintf(d.id, sizeof(d.id), "di_%.56s", body);
			if (coupon_load(r, db, s->discount_coupon, &d.coupon) != DB_OK)
				return;
			if (s->discount_promotion_code)
				str_copy(d.promotion_code, sizeof(d.promotion_code),
					 s->discount_promotion_code);
			d.customer = s->customer;
			d.checkout_session = s->id;
			d.start = s->created;
		}
	}
	json_t *items = json_loads(s->line_items, 0, NULL);
	if (json_is_array(items))
		(void)checkout_breakdown_render(r, db, &d, &discount, n, items, "taxes", j);
	json_decref(items);
}

/* Field `key` of the session's collect JSON (c), written as it is kept; fallback (raw JSON) when
 * the session was made without it. */
static void collect_kv(struct json *j, json_t *c, const char *key, const char *fallback)
{
	json_t *v = json_object_get(c, key);
	char *t = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS) : NULL;
	const char *out = t ? t : fallback;
	json_kv_raw(j, key, out, strlen(out));
	free(t);
}

/* The session's collect setting `key` as text (NULL: not given). */
static const char *collect_str(struct arena *a, const struct session *s, const char *key,
			       const char *sub)
{
	json_t *c = s->collect ? json_loads(s->collect, 0, NULL) : NULL;
	json_t *v = json_object_get(c, key);
	if (sub)
		v = json_object_get(v, sub);
	const char *out = json_is_string(v) ? arena_strdup(a, json_string_value(v))
			  : json_is_true(v) ? "true"
					    : NULL;
	json_decref(c);
	return out;
}

/* ---- automatic tax (automatic_tax[enabled]) ----
 *
 * Stripe Tax on a session: every line is taxed by the engine (tax/engine.h) through the same
 * code as an invoice's automatic tax (invoice_lines_auto_tax_at: the merchant's registrations,
 * head office and defaults[tax_behavior]; its rates are Tender's fixed-id txr_auto… rows), then
 * by the invoice computation after the discount, as fixed rates are (items_discounted), so the
 * session's totals, its line items, the page and the PaymentIntent (or the subscription's first
 * invoice, itself taxed by Stripe Tax) agree. Where the tax is taken, as Stripe's Checkout does:
 *  - a session of an existing customer, unless customer_update[address] (or [shipping]) is
 *    auto: the customer's own address (else shipping address), which must locate it when the
 *    session is made (400); its tax_exempt and eu_vat id count; the page asks for nothing;
 *  - otherwise the address the buyer types in the page's address form (the one
 *    dynamic_tax_rates use, before the card): untaxed, status requires_location_inputs, until
 *    then; it is the session's customer_details.address, becomes a new customer's address
 *    (subscription mode, customer_creation=always) or the given customer's (update auto).
 * A tax that owes nothing (reverse charge, an exempt customer, no registration) is an entry of
 * 0 with its taxability_reason, as on an invoice. */

/* Whether s is taxed at its customer's own address (see above). */
static bool auto_tax_by_customer(struct req *r, const struct session *s)
{
	if (!s->automatic_tax || !s->customer)
		return false;
	const char *ad = collect_str(&r->arena, s, "customer_update", "address");
	const char *sh = collect_str(&r->arena, s, "customer_update", "shipping");
	return !(ad && strcmp(ad, "auto") == 0) && !(sh && strcmp(sh, "auto") == 0);
}

/* Whether s's tax place is known (Stripe's automatic_tax.status complete). */
static bool auto_tax_located(struct req *r, const struct session *s)
{
	return auto_tax_by_customer(r, s) || s->billing_address != NULL;
}

/* Whether address (JSON) is a place Stripe Tax can tax at: a country, and in the United
 * States and Canada a state or province (given, or by its postal code). */
static bool auto_tax_address_ok(const char *address)
{
	json_t *a = address ? json_loads(address, 0, NULL) : NULL;
	const char *c = json_string_value(json_object_get(a, "country"));
	const char *st = json_string_value(json_object_get(a, "state"));
	const char *zip = json_string_value(json_object_get(a, "postal_code"));
	char state[3] = "";
	if (st && strlen(st) == 2) {
		for (int k = 0; k < 2; k++)
			state[k] = (char)(st[k] >= 'a' && st[k] <= 'z' ? st[k] - 32 : st[k]);
	} else if (c && strcmp(c, "US") == 0 && zip && tax_us_state_of_zip(zip)) {
		str_copy(state, sizeof(state), tax_us_state_of_zip(zip));
	} else if (c && strcmp(c, "CA") == 0 && zip && tax_ca_province_of_postal_code(zip)) {
		str_copy(state, sizeof(state), tax_ca_province_of_postal_code(zip));
	}
	struct tax_component comp[TAX_COMPONENTS_MAX];
	bool ok = c && strlen(c) == 2 && tax_rates_lookup(c, state, comp) >= 0;
	json_decref(a);
	return ok;
}

/* Inside a write: n lines of s (no rates of their own) take Stripe Tax's rates for s's tax
 * place, and those rates become rows (tax_rate_auto_store) that the stored items name.
 * Untaxed while the place is unknown. 0, or -1 with r->err. */
static int items_auto_tax(struct req *r, struct db *db, const struct session *s,
			  struct inv_line *lines, int n)
{
	bool by_customer = auto_tax_by_customer(r, s);
	if (!by_customer && !s->billing_address)
		return 0;
	bool located = false;
	if (invoice_lines_auto_tax_at(r, db, s->customer, by_customer ? NULL : s->billing_address,
				      r->now, lines, n, &located) != 0)
		return -1;
	for (int k = 0; located && n > 0 && k < lines[0].n_tax; k++)
		if (tax_rate_auto_store(r, db, &lines[0].tax[k]) != 0)
			return -1;
	return 0;
}

/* Expandable id fields of a session (Stripe's expand[]=customer, invoice, payment_intent,
 * setup_intent, subscription): the object in place of its id when expand[] names it at
 * prefix + key; else the id, or null. */
enum linked { LINKED_CUSTOMER, LINKED_INVOICE, LINKED_PI, LINKED_SETUP_INTENT, LINKED_SUB };

static void linked_kv(struct req *r, struct db *db, const char *prefix, const char *key,
		      enum linked kind, const char *id, struct json *j)
{
	json_key(j, key);
	if (!id) {
		json_nil(j);
		return;
	}
	const char *path = prefix && db ? arena_printf(&r->arena, "%s%s", prefix, key) : NULL;
	if (path && req_expand_has(r, path)) {
		const char *nested = arena_printf(&r->arena, "%s.", path);
		struct expand_set ex;
		int rc = DB_ERR;
		switch (kind) {
		case LINKED_CUSTOMER:
			rc = customer_render_by_id(r, db, id, j);
			break;
		case LINKED_INVOICE:
			rc = nested ? invoice_render_by_id(r, db, id, nested, j) : DB_ERR;
			break;
		case LINKED_PI:
			payments_expand_from_req(r, &ex, path);
			rc =
			    pi_render_by_id(db, &r->arena, r->merchant_id, r->livemode, id, &ex, j);
			break;
		case LINKED_SETUP_INTENT:
			rc = setup_intent_render_by_id(r, db, id, j);
			break;
		case LINKED_SUB:
			rc = nested ? subscription_render_by_id(r, db, id, nested, j) : DB_ERR;
			break;
		}
		if (rc == DB_OK)
			return;
	}
	json_str(j, id);
}

/* prefix: where the session sits in the answer, for expand[] ("" at the top); NULL expands
 * nothing (an event's object). */
static void session_render(struct req *r, struct db *db, const char *merchant_id,
			   const struct session *s, const char *prefix, struct json *j)
{
	json_t *cj = s->collect ? json_loads(s->collect, 0, NULL) : NULL;
	bool open = strcmp(s->status, "open") == 0;
	bool setup = strcmp(s->mode, "setup") == 0;
	bool sub = strcmp(s->mode, "subscription") == 0;
	bool complete = strcmp(s->status, "complete") == 0;
	json_obj_open(j);
	json_kv_str(j, "id", s->id);
	json_kv_str(j, "object", "checkout.session");
	if (s->recovery_expires_at > 0) {
		/* expired with recovery enabled: the URL that opens a new session, and until when
		 */
		json_t *rec = json_object_get(json_object_get(cj, "after_expiration"), "recovery");
		json_object_set_new(rec, "expires_at", json_integer(s->recovery_expires_at));
		json_object_set_new(rec, "url",
				    json_string(arena_printf(&r->arena, "%s/recover",
							     session_url(r, merchant_id, s->id))));
	}
	collect_kv(j, cj, "after_expiration", "null");
	if (s->allow_promotion_codes)
		json_kv_bool(j, "allow_promotion_codes", true);
	else
		json_kv_null(j, "allow_promotion_codes");
	if (setup) {
		json_kv_null(j, "amount_subtotal");
		json_kv_null(j, "amount_total");
	} else {
		json_kv_int(j, "amount_subtotal", s->amount_subtotal);
		json_kv_int(j, "amount_total", s->amount_total);
	}
	json_key(j, "automatic_tax");
	json_obj_open(j);
	json_kv_bool(j, "enabled", s->automatic_tax);
	if (s->automatic_tax) {
		json_key(j, "liability");
		json_obj_open(j);
		json_kv_str(j, "type", "self");
		json_obj_close(j);
		json_kv_str(j, "provider", "stripe");
		json_kv_str(j, "status",
			    auto_tax_located(r, s) ? "complete" : "requires_location_inputs");
	} else {
		json_kv_null(j, "liability");
		json_kv_null(j, "provider");
		json_kv_null(j, "status");
	}
	json_obj_close(j);
	collect_kv(j, cj, "billing_address_collection", "null");
	/* the newer API's home of the address given (Stripe 2025-03-31), with the spec's own
	 * shipping_details below */
	json_key(j, "collected_information");
	if (complete && s->shipping_details) {
		json_t *sd = json_loads(s->shipping_details, 0, NULL);
		json_obj_open(j);
		json_key(j, "shipping_details");
		json_obj_open(j);
		char *addr = json_is_object(sd)
				 ? json_dumps(json_object_get(sd, "address"), JSON_COMPACT)
				 : NULL;
		json_kv_raw(j, "address", addr ? addr : "null", addr ? strlen(addr) : 4);
		free(addr);
		json_kv_str_or_null(j, "name", json_string_value(json_object_get(sd, "name")));
		json_obj_close(j);
		json_obj_close(j);
		json_decref(sd);
	} else {
		json_nil(j);
	}
	json_kv_str_or_null(j, "cancel_url", s->cancel_url);
	json_kv_str_or_null(j, "client_reference_id", s->client_reference_id);
	/* in the API's answers (a secret key's), never in an event, which is kept as it was */
	json_kv_str_or_null(
	    j, "client_secret",
	    prefix && ui_client(s->ui_mode) ? session_client_secret(r, merchant_id, s->id) : NULL);
	json_kv_raw_or_null(j, "consent", s->consent);
	collect_kv(j, cj, "consent_collection", "null");
	json_kv_int(j, "created", s->created);
	json_kv_str_or_null(j, "currency", s->currency[0] ? s->currency : NULL);
	json_kv_null(j, "currency_conversion");
	json_kv_raw(j, "custom_fields", s->custom_fields ? s->custom_fields : "[]",
		    s->custom_fields ? strlen(s->custom_fields) : 2);
	collect_kv(j, cj, "custom_text",
		   "{\"after_submit\":null,\"shipping_address\":null,\"submit\":null,"
		   "\"terms_of_service_acceptance\":null}");
	linked_kv(r, db, prefix, "customer", LINKED_CUSTOMER, s->customer, j);
	collect_kv(j, cj, "customer_creation", "\"if_required\"");
	json_key(j, "customer_details");
	if (s->details_email || s->details_name || s->billing_address || s->details_phone ||
	    s->details_tax_ids) {
		json_obj_open(j);
		json_kv_raw_or_null(j, "address", s->billing_address);
		json_kv_str_or_null(j, "email", s->details_email);
		json_kv_str_or_null(j, "name", s->details_name);
		json_kv_str_or_null(j, "phone", s->details_phone);
		json_kv_str(j, "tax_exempt", "none");
		json_kv_raw(j, "tax_ids", s->details_tax_ids ? s->details_tax_ids : "[]",
			    s->details_tax_ids ? strlen(s->details_tax_ids) : 2);
		json_obj_close(j);
	} else {
		json_nil(j);
	}
	json_kv_str_or_null(j, "customer_email", s->customer_email);
	json_key(j, "discounts");
	json_arr_open(j);
	if (s->discount_coupon) {
		json_obj_open(j);
		json_kv_str(j, "coupon", s->discount_coupon);
		json_kv_str_or_null(j, "promotion_code", s->discount_promotion_code);
		json_obj_close(j);
	}
	json_arr_close(j);
	json_kv_int(j, "expires_at", s->expires_at);
	/* a subscription's first invoice and the subscription itself: what the completed
	 * session bought (an attempt under way is not yet the session's) */
	linked_kv(r, db, prefix, "invoice", LINKED_INVOICE, complete ? s->invoice : NULL, j);
	collect_kv(j, cj, "invoice_creation",
		   "{\"enabled\":false,\"invoice_data\":{\"account_tax_ids\":null,"
		   "\"custom_fields\":null,\"description\":null,\"footer\":null,\"issuer\":null,"
		   "\"metadata\":{},\"rendering_options\":null}}");
	json_kv_bool(j, "livemode", r->livemode);
	collect_kv(j, cj, "locale", "null");
	json_kv_raw(j, "metadata", s->metadata, strlen(s->metadata));
	json_kv_str(j, "mode", s->mode);
	/* subscription mode: the intent belongs to the first invoice, as on Stripe */
	linked_kv(r, db, prefix, "payment_intent", LINKED_PI, sub ? NULL : s->payment_intent, j);
	json_kv_str_or_null(j, "payment_link", s->payment_link);
	collect_kv(j, cj, "payment_method_collection", "\"always\"");
	/* what Stripe shows of it: card[request_three_d_secure, setup_future_usage],
	 * us_bank_account[financial_connections, setup_future_usage, verification_method] */
	json_t *pmo = json_object_get(cj, "payment_method_options");
	json_t *pmo_card = json_object_get(pmo, "card");
	json_t *pmo_ach = json_object_get(pmo, "us_bank_account");
	json_t *pmo_bnpl[3];
	bool any_typed = false;
	for (size_t i = 0; i < 3; i++)
		any_typed |= (pmo_bnpl[i] = json_object_get(pmo, BNPL_NAMES[i])) != NULL;
	json_t *pmo_bancontact = json_object_get(pmo, "bancontact");
	json_t *pmo_ideal = json_object_get(pmo, "ideal");
	json_t *pmo_sepa = json_object_get(pmo, "sepa_debit");
	json_t *pmo_cash = json_object_get(pmo, "customer_balance");
	any_typed |= pmo_bancontact || pmo_ideal || pmo_sepa || pmo_cash;
	if (pmo_card || pmo_ach || any_typed) {
		json_key(j, "payment_method_options");
		json_obj_open(j);
	}
	/* affirm, afterpay_clearpay (before card), klarna (after): setup_future_usage as given */
	for (size_t i = 0; i < 3; i++) {
		if (!pmo_bnpl[i] || i == 2)
			continue;
		pmo_bnpl_render(j, BNPL_NAMES[i], pmo_bnpl[i]);
	}
	/* bancontact, ideal: as a lender's (setup_future_usage `none` when given) */
	if (pmo_bancontact)
		pmo_bnpl_render(j, "bancontact", pmo_bancontact);
	if (pmo_card) {
		json_key(j, "card");
		json_obj_open(j);
		json_kv_str(
		    j, "request_three_d_secure",
		    json_string_value(json_object_get(pmo_card, "request_three_d_secure"))
			? json_string_value(json_object_get(pmo_card, "request_three_d_secure"))
			: "automatic");
		const char *sfu =
		    json_string_value(json_object_get(pmo_card, "setup_future_usage"));
		if (sfu)
			json_kv_str(j, "setup_future_usage", sfu);
		json_obj_close(j);
	}
	if (pmo_cash)
		collect_kv(j, pmo, "customer_balance", "null");
	if (pmo_ideal)
		pmo_bnpl_render(j, "ideal", pmo_ideal);
	if (pmo_bnpl[2])
		pmo_bnpl_render(j, BNPL_NAMES[2], pmo_bnpl[2]);
	if (pmo_sepa) {
		/* mandate_options (newer than the spec: Stripe's API shows it today) when a
		 * reference_prefix was given */
		json_key(j, "sepa_debit");
		json_obj_open(j);
		const char *ref_prefix = json_string_value(json_object_get(
		    json_object_get(pmo_sepa, "mandate_options"), "reference_prefix"));
		if (ref_prefix) {
			json_key(j, "mandate_options");
			json_obj_open(j);
			json_kv_str(j, "reference_prefix", ref_prefix);
			json_obj_close(j);
		}
		const char *sfu =
		    json_string_value(json_object_get(pmo_sepa, "setup_future_usage"));
		if (sfu)
			json_kv_str(j, "setup_future_usage", sfu);
		json_obj_close(j);
	}
	if (pmo_ach) {
		json_key(j, "us_bank_account");
		json_obj_open(j);
		/* what the page's linking asks for: as given, else Stripe's defaults */
		json_t *fco = json_object_get(pmo_ach, "financial_connections");
		char *fc = fco ? json_dumps(fco, JSON_COMPACT) : NULL;
		static const char FC_DEFAULT[] = "{\"permissions\":[\"payment_method\"],"
						 "\"prefetch\":[]}";
		json_kv_raw(j, "financial_connections", fc ? fc : FC_DEFAULT,
			    strlen(fc ? fc : FC_DEFAULT));
		free(fc);
		const char *sfu = json_string_value(json_object_get(pmo_ach, "setup_future_usage"));
		if (sfu)
			json_kv_str(j, "setup_future_usage", sfu);
		json_kv_str(j, "verification_method",
			    json_string_value(json_object_get(pmo_ach, "verification_method")));
		json_obj_close(j);
	}
	if (pmo_card || pmo_ach || any_typed) {
		json_obj_close(j);
	} else {
		json_kv_null(j, "payment_method_options");
	}
	if (s->pm_types) {
		json_kv_raw(j, "payment_method_types", s->pm_types, strlen(s->pm_types));
	} else {
		json_key(j, "payment_method_types");
		json_arr_open(j);
		json_str(j, "card");
		json_arr_close(j);
	}
	json_kv_str(j, "payment_status", s->payment_status);
	collect_kv(j, cj, "phone_number_collection", "{\"enabled\":false}");
	json_kv_str_or_null(j, "recovered_from", s->recovered_from);
	json_kv_str_or_null(j, "redirect_on_completion", s->redirect_on_completion);
	json_kv_str_or_null(j, "return_url", s->return_url);
	/* setup mode's (a subscription's iDEAL / Bancontact account is saved through one too,
	 * which Stripe does not show on the session) */
	linked_kv(r, db, prefix, "setup_intent", LINKED_SETUP_INTENT,
		  strcmp(s->mode, "setup") == 0 ? s->setup_intent : NULL, j);
	shipping_render(s, complete, j);
	json_kv_str(j, "status", s->status);
	if (setup || sub)
		json_kv_null(j, "submit_type");
	else
		json_kv_str(j, "submit_type", s->submit_type);
	linked_kv(r, db, prefix, "subscription", LINKED_SUB,
		  sub && complete ? s->subscription : NULL, j);
	json_kv_str_or_null(j, "success_url", s->success_url);
	collect_kv(j, cj, "tax_id_collection", "{\"enabled\":false,\"required\":\"never\"}");
	/* the items' taxes: the exclusive ones are in amount_total, the inclusive ones inside
	 * amount_subtotal; amount_tax is both */
	int64_t tax = 0, tax_exclusive = 0;
	if (!setup)
		items_tax_sums(s->line_items, &tax, &tax_exclusive);
	int64_t discount =
	    setup ? 0 : s->amount_subtotal + s->amount_shipping + tax_exclusive - s->amount_total;
	json_key(j, "total_details");
	json_obj_open(j);
	json_kv_int(j, "amount_discount", discount);
	json_kv_int(j, "amount_shipping", s->amount_shipping);
	json_kv_int(j, "amount_tax", tax);
	/* includable, as on Stripe (expand[]=total_details.breakdown) */
	const char *bd = arena_printf(&r->arena, "%stotal_details.breakdown", prefix ? prefix : "");
	if (!setup && prefix && db && bd && req_expand_has(r, bd))
		session_breakdown(r, db, s, discount, j);
	json_obj_close(j);
	json_kv_str(j, "ui_mode", s->ui_mode ? s->ui_mode : "hosted");
	/* the merchant's own page has no url: it opens the session with the client_secret */
	json_key(j, "url");
	if (open && !ui_client(s->ui_mode))
		json_str(j, session_url(r, merchant_id, s->id));
	else
		json_nil(j);
	json_obj_close(j);
	json_decref(cj);
}

static int emit(struct req *r, struct db *db, const char *merchant_id, const struct session *s,
		const char *type, int64_t now)
{
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 20);
	json_init(&j, &b);
	session_render(r, NULL, merchant_id, s, NULL, &j);
	/* the scheduler's expiries belong to no request */
	struct event_origin o = {r->request_id[0] ? r->request_id : NULL, r->idempotency_key,
				 r->livemode};
	int rc = b.failed ? DB_ERR
			  : event_append(db, merchant_id, &o, type, s->id, b.data, b.len, NULL, now,
					 NULL);
	buf_release(&b);
	return rc;
}

/* after_expiration[recovery][enabled] of the session */
static bool recovery_enabled(const struct session *s)
{
	json_t *c = s->collect ? json_loads(s->collect, 0, NULL) : NULL;
	bool en = json_is_true(json_object_get(
	    json_object_get(json_object_get(c, "after_expiration"), "recovery"), "enabled"));
	json_decref(c);
	return en;
}

/* Stripe's recovery URL stays valid for 30 days after the session expires */
#define RECOVERY_TTL_S (30LL * 24 * 3600)

static const char SQL_RECOVERY_OPEN[] =
    "UPDATE checkout_sessions SET recovery_expires_at = $3 WHERE merchant_id = $1 AND id = $2"
    " AND status = 'expired'";

/* the session just expired: its recovery URL is valid from now on (for RECOVERY_TTL_S) */
static int recovery_open(struct db *db, const char *merchant_id, struct session *s, int64_t now)
{
	struct db_stmt *st = db_prepare(db, SQL_RECOVERY_OPEN);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, s->id, -1);
	db_bind_int64(st, 3, now + RECOVERY_TTL_S);
	int rc = db_step_done(st);
	if (rc == DB_OK)
		s->recovery_expires_at = now + RECOVERY_TTL_S;
	return rc;
}

/* open → complete (done) or expired (see SQL_COMPLETE / SQL_EXPIRE); DB_CONFLICT when the
 * session could not move. Appends checkout.session.completed / .expired. */
static int session_close(struct req *r, struct db *db, const char *merchant_id, struct session *s,
			 bool done, int64_t now)
{
	struct db_stmt *st = db_prepare(db, done ? SQL_COMPLETE : SQL_EXPIRE);
	if (!st)
		return DB_ERR;
	/* nothing is charged to save a card, nor to start a trial (Stripe's payment_status) */
	bool free =
	    strcmp(s->mode, "setup") == 0 || (strcmp(s->mode, "subscription") == 0 &&
					      (s->sub_trial_days > 0 || s->amount_total == 0));
	const char *payment_status = free			? "no_payment_required"
				     : done && !s->async_unpaid ? "paid"
								: "unpaid";
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, s->id, -1);
	if (done)
		db_bind_text(st, 3, payment_status, -1);
	int rc = db_step(st);
	int64_t n = rc == DB_DONE ? db_changes(st) : 0;
	db_reset(st);
	if (rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	if (n != 1)
		return DB_CONFLICT;
	s->status = done ? "complete" : "expired";
	s->payment_status = payment_status;
	if (!done && recovery_enabled(s)) {
		rc = recovery_open(db, merchant_id, s, now);
		if (rc != DB_OK)
			return rc;
	}
	return emit(r, db, merchant_id, s,
		    done ? "checkout.session.completed" : "checkout.session.expired", now);
}

static const char SQL_SET_INVOICE[] =
    "UPDATE checkout_sessions SET invoice = $3 WHERE merchant_id = $1 AND id = $2"
    " AND status IN ('open', 'expired')";

/* invoice_creation, inside the payment's write as the session completes: a paid invoice of the
 * session's customer for its line items (invoices.c's own rows: its items, the invoice made,
 * finalized and paid by the session's PaymentIntent, with their events), named in the
 * session's `invoice`. 0, or -1 with r->err. */
static int session_invoice(struct req *r, struct db *db, struct session *s)
{
	json_t *c = json_loads(s->collect, 0, NULL);
	json_t *ic = json_object_get(c, "invoice_creation");
	json_t *idata = json_object_get(ic, "invoice_data");
	bool en = json_is_true(json_object_get(ic, "enabled"));
	if (!en || !s->customer || strcmp(s->mode, "payment") != 0) {
		json_decref(c);
		return 0;
	}
	struct invoice in;
	memset(&in, 0, sizeof(in));
	in.customer = s->customer;
	int64_t now;
	char *md = json_dumps(json_object_get(idata, "metadata"), JSON_COMPACT | JSON_SORT_KEYS);
	const char *desc = json_string_value(json_object_get(idata, "description"));
	in.metadata = md ? arena_strdup(&r->arena, md) : "{}";
	in.description = desc ? arena_strdup(&r->arena, desc) : NULL;
	free(md);
	/* its account_tax_ids: the invoice's own (invoice_settings.c) */
	json_t *atx = json_object_get(idata, "account_tax_ids");
	char *atxs = json_array_size(atx) ? json_dumps(atx, JSON_COMPACT) : NULL;
	const char *settings =
	    atxs ? arena_printf(&r->arena, "{\"account_tax_ids\":%s}", atxs) : NULL;
	free(atxs);
	json_decref(c);
	if (invoice_oneoff_head(r, db, s->currency, &in, &now) != 0)
		return -1;
	in.settings = settings;
	json_t *items = json_loads(s->line_items, 0, NULL);
	size_t i;
	json_t *it;
	int64_t sum = 0;
	int rc = 0;
	json_array_foreach(items, i, it)
	{
		struct invoice_item ii;
		memset(&ii, 0, sizeof(ii));
		id_new_at(ii.id, "ii_", now);
		ii.created = now;
		ii.customer = s->customer;
		str_copy(ii.currency, sizeof(ii.currency), s->currency);
		ii.amount = line_subtotal(it);
		ii.quantity = json_integer_value(json_object_get(it, "quantity"));
		ii.unit_amount = json_integer_value(json_object_get(it, "unit_amount"));
		const char *uad = json_string_value(json_object_get(it, "unit_amount_decimal"));
		ii.unit_amount_decimal = uad ? arena_strdup(&r->arena, uad) : NULL;
		const char *price = json_string_value(json_object_get(it, "price"));
		const char *d = json_string_value(json_object_get(it, "description"));
		ii.price = price ? arena_strdup(&r->arena, price) : NULL;
		ii.description = d ? arena_strdup(&r->arena, d) : NULL;
		ii.metadata = "{}";
		ii.invoice = in.id;
		ii.test_clock = in.test_clock;
		ii.period_start = ii.period_end = now;
		ii.discountable = true;
		if (__builtin_add_overflow(sum, ii.amount, &sum) ||
		    invoice_item_insert(r, db, &ii) != 0) {
			rc = r->err.set ? -1 : req_fail(r, ERR_API, NULL, NULL);
			break;
		}
	}
	json_decref(items);
	if (rc != 0)
		return -1;
	in.subtotal = in.total = sum;
	in.balance_untouched = true;
	if (invoice_insert(r, db, &in) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (invoice_emit(r, db, &in, "invoice.created") != 0 ||
	    invoice_finalize_rows(r, db, &in, now, -1) != 0)
		return -1;
	/* paid by the session's payment (its balance untouched, amount_due is what the payment
	 * charged) */
	if (strcmp(in.status, "paid") != 0) {
		in.status = "paid";
		in.amount_paid = in.amount_due;
		in.paid_at = now;
		in.payment_intent = s->payment_intent;
		in.attempt_count = 1;
		in.next_payment_attempt = 0;
		in.auto_advance = false;
		if (invoice_update(r, db, &in) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (invoice_emit(r, db, &in, "invoice.paid") != 0 ||
		    invoice_emit(r, db, &in, "invoice.payment_succeeded") != 0)
			return -1;
	}
	struct db_stmt *st = db_prepare(db, SQL_SET_INVOICE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, s->id, -1);
	db_bind_text(st, 3, in.id, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	s->invoice = arena_strdup(&r->arena, in.id);
	return 0;
}

int checkout_complete(struct req *r, struct db *db, const char *id)
{
	struct session s;
	int rc = session_load(&r->arena, db, r->merchant_id, id, &s);
	if (rc == DB_NOTFOUND)
		return 0;
	/* nothing of s is set: a failed read (PostgreSQL's serialization failure among concurrent
	 * page posts) fails the write, which the store runs again */
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* (a bank transfer, customer_balance: while its intent waits for the transfer) */
	/* a debit (sepa_debit, us_bank_account) completes the session while its bank has not
	 * answered (an ACH account typed on the page first waits for its microdeposits,
	 * requires_action): Stripe's payment_status stays unpaid until checkout_async_payment */
	/* (subscription mode's iDEAL / Bancontact: the first invoice debited by the generated
	 * sepa_debit, sub_bank) */
	bool bank_sub = strcmp(s.mode, "subscription") == 0 &&
			(takes_type(&s, "ideal") || takes_type(&s, "bancontact"));
	if (rc == DB_OK && s.payment_intent &&
	    (takes_type(&s, "sepa_debit") || takes_type(&s, "us_bank_account") || bank_sub ||
	     takes_type(&s, "customer_balance"))) {
		struct payment_intent pi;
		rc = pi_load(db, &r->arena, r->merchant_id, s.payment_intent, &pi);
		s.async_unpaid = rc == DB_OK && (strcmp(pi.status, "processing") == 0 ||
						 strcmp(pi.status, "requires_action") == 0);
	}
	/* the invoice first, so that checkout.session.completed names it */
	if (rc == DB_OK && s.collect && strcmp(s.mode, "payment") == 0 &&
	    (strcmp(s.status, "open") == 0 || strcmp(s.status, "expired") == 0) &&
	    session_invoice(r, db, &s) != 0)
		return -1;
	if (rc == DB_OK)
		rc = session_close(r, db, r->merchant_id, &s, true, r->now);
	if (rc == DB_CONFLICT)
		return 0;
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* a payment's discount is redeemed as the session completes, in the payment's write (a
	 * subscription's was, by the subscription); refused there, the payment is not taken */
	if (!s.discount_coupon || strcmp(s.mode, "payment") != 0)
		return 0;
	struct discount d;
	memset(&d, 0, sizeof(d));
	if (coupon_load(r, db, s.discount_coupon, &d.coupon) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (s.discount_promotion_code)
		str_copy(d.promotion_code, sizeof(d.promotion_code), s.discount_promotion_code);
	return discounts_attach(r, db, DISCOUNT_CHECKOUT_SESSION, s.id, s.customer, r->now, &d, 1,
				NULL);
}

static const char SQL_BY_PI[] =
    "SELECT id FROM checkout_sessions WHERE merchant_id = $1 AND payment_intent = $2"
    " AND status = 'complete' AND payment_status = 'unpaid'";
static const char SQL_ASYNC_PAID[] =
    "UPDATE checkout_sessions SET payment_status = 'paid' WHERE merchant_id = $1 AND id = $2"
    " AND status = 'complete' AND payment_status = 'unpaid'";

int checkout_async_payment(struct db *db, const char *merchant_id, const char *pi_id,
			   bool succeeded, int64_t now)
{
	struct db_stmt *st = db_prepare(db, SQL_BY_PI);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, pi_id, -1);
	char id[ID_MAX] = "";
	int rc = db_step(st);
	if (rc == DB_ROW)
		str_copy(id, sizeof(id), db_col_text(st, 0, NULL));
	db_reset(st);
	if (rc == DB_DONE)
		return DB_OK; /* no session's payment, or one settled before */
	if (rc != DB_ROW)
		return rc < 0 ? rc : DB_ERR;
	/* the scheduler's write belongs to no request: a request of its own for the rendering */
	struct req r;
	req_internal_init(&r, NULL, merchant_id, now, NULL);
	struct session s;
	rc = session_load(&r.arena, db, merchant_id, id, &s);
	if (rc == DB_OK && succeeded) {
		st = db_prepare(db, SQL_ASYNC_PAID);
		if (!st) {
			rc = DB_ERR;
		} else {
			db_bind_text(st, 1, merchant_id, -1);
			db_bind_text(st, 2, id, -1);
			int64_t changed = 0;
			rc = db_step_changes(st, &changed);
			if (rc == DB_OK && changed != 1)
				rc = DB_CONFLICT;
			s.payment_status = "paid";
		}
	}
	if (rc == DB_OK)
		rc = emit(&r, db, merchant_id, &s,
			  succeeded ? "checkout.session.async_payment_succeeded"
				    : "checkout.session.async_payment_failed",
			  now);
	req_internal_release(&r);
	return rc;
}

/* Line `it` of s with no fixed rates: the rate its dynamic_tax_rates take for s's billing address
 * (dynamic_rate_pick), recorded on the line ("dynamic_tax_rate"; removed when none). *ret_t: one
 * rate in r's arena and *ret_n 1, or untouched and 0. 0, or -1 with r->err. */
static int item_dynamic_rate(struct req *r, struct db *db, const struct session *s, json_t *it,
			     struct tax_rate **ret_t, size_t *ret_n)
{
	*ret_n = 0;
	json_object_del(it, "dynamic_tax_rate");
	struct tax_rate *t = arena_alloc(&r->arena, sizeof(*t));
	bool found = false;
	if (!t || dynamic_rate_pick(r, db, it, s->billing_address, t, &found) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!found)
		return 0;
	json_object_set_new(it, "dynamic_tax_rate", json_string(t->id));
	*ret_t = t;
	*ret_n = 1;
	return 0;
}

/* The session's amount_total from amount_subtotal: the first charge of its line items (nothing
 * during a trial) less its discount (coupon) plus their exclusive taxes, computed as an
 * invoice's is (discounts.c's invoice computation: a percentage off each line to the nearest
 * unit, an amount off spread over them, only lines of the products it applies to; then each
 * line's tax rates on what the discount left, rounded per line and rate, billing/tax.h), so a
 * subscription's first invoice comes to the same. What each line took (amount_discount,
 * amount_tax and taxes [{rate, inclusive, amount, taxable}]) is written into s->line_items. d
 * NULL: none. 0, or -1 with r->err. */
static int items_discounted(struct req *r, struct db *db, struct session *s,
			    const struct discount *d)
{
	s->amount_total = s->amount_subtotal;
	if (s->amount_subtotal == 0)
		return 0;
	json_error_t e;
	json_t *items = json_loads(s->line_items, 0, &e);
	size_t n = json_is_array(items) ? json_array_size(items) : 0;
	struct inv_line *lines = arena_alloc(&r->arena, (n ? n : 1) * sizeof(*lines));
	if (!json_is_array(items) || !lines || n > INVOICE_LINES_MAX) {
		json_decref(items);
		return req_fail(r, ERR_API, NULL, NULL);
	}
	size_t i;
	json_t *it;
	int rc = 0;
	json_array_foreach(items, i, it)
	{
		struct inv_line *l = &lines[i];
		memset(l, 0, sizeof(*l));
		const char *id = json_string_value(json_object_get(it, "id"));
		const char *price = json_string_value(json_object_get(it, "price"));
		str_copy(l->id, sizeof(l->id), id ? id : "");
		l->amount = line_subtotal(it); /* priced: bounded */
		l->discountable = true;
		struct price_facts pf;
		if (!price || price_facts_get(r, db, price, &pf) != DB_OK) {
			rc = req_fail(r, ERR_API, NULL, NULL);
			break;
		}
		l->product = pf.product;
		json_t *tr = json_object_get(it, "tax_rates");
		size_t nt = json_is_array(tr) ? json_array_size(tr) : 0;
		struct tax_rate *t = nt ? arena_alloc(&r->arena, nt * sizeof(*t)) : NULL;
		if (nt > BILLING_TAX_RATES_MAX || (nt && !t)) {
			rc = req_fail(r, ERR_API, NULL, NULL);
			break;
		}
		/* the rates as they are (an archived one keeps working where it was applied) */
		for (size_t k = 0; k < nt && rc == 0; k++) {
			const char *rid = json_string_value(json_array_get(tr, k));
			if (!rid || tax_rate_load(r, db, rid, &t[k]) != DB_OK)
				rc = req_fail(r, ERR_API, NULL, NULL);
		}
		if (rc != 0)
			break;
		if (nt == 0 && item_dynamic_rate(r, db, s, it, &t, &nt) != 0) {
			rc = -1;
			break;
		}
		l->tax = t;
		l->n_tax = (int)nt;
		l->tax_own = nt > 0;
	}
	if (rc == 0 && s->automatic_tax)
		rc = items_auto_tax(r, db, s, lines, (int)n);
	struct invoice_discounts_result res;
	memset(&res, 0, sizeof(res));
	if (rc == 0)
		rc = invoice_discounts_compute(r, s->currency, lines, (int)n, d, d ? 1 : 0, &res);
	json_array_foreach(items, i, it)
	{
		if (rc != 0)
			break;
		int64_t disc = 0, tax = 0;
		json_t *da = json_loads(res.line_amounts[i], 0, &e);
		size_t k;
		json_t *x;
		json_array_foreach(da, k, x) disc +=
		    json_integer_value(json_object_get(x, "amount"));
		json_decref(da);
		json_t *taxes = json_array();
		for (int q = 0; q < res.n_line_taxes[i]; q++) {
			const struct invoice_tax_entry *te = &res.line_taxes[i][q];
			json_array_append_new(taxes, json_pack("{s:s, s:b, s:I, s:I}", "rate",
							       te->rate, "inclusive", te->inclusive,
							       "amount", (json_int_t)te->amount,
							       "taxable", (json_int_t)te->taxable));
			tax += te->amount;
		}
		json_object_set_new(it, "amount_discount", json_integer(disc));
		json_object_set_new(it, "amount_tax", json_integer(tax));
		json_object_set_new(it, "taxes", taxes);
	}
	char *out = rc == 0 ? json_dumps(items, JSON_COMPACT) : NULL;
	json_decref(items);
	if (rc != 0)
		return -1;
	s->line_items = out ? arena_strdup(&r->arena, out) : NULL;
	free(out);
	if (!s->line_items)
		return req_fail(r, ERR_API, NULL, NULL);
	if (res.total > AMOUNT_TOTAL_MAX)
		return req_fail(r, ERR_AMOUNT_TOO_LARGE, "line_items",
				"The line items' total with tax must be at most %d.",
				AMOUNT_TOTAL_MAX);
	s->amount_total = res.total;
	return 0;
}

/* The session's amount_total: its items after their discount (items_discounted), plus the
 * chosen shipping option's amount, which no coupon touches (as on Stripe). 0, or -1 with
 * r->err. */
static int session_discounted(struct req *r, struct db *db, struct session *s,
			      const struct discount *d)
{
	if (items_discounted(r, db, s, d) != 0)
		return -1;
	if (__builtin_add_overflow(s->amount_total, s->amount_shipping, &s->amount_total) ||
	    s->amount_total > AMOUNT_TOTAL_MAX)
		return req_fail(r, ERR_AMOUNT_TOO_LARGE, "shipping_options",
				"The total with shipping must be at most %d.", AMOUNT_TOTAL_MAX);
	return 0;
}

/* Session s priced again from its stored lines, as its creation priced it: each line's amount
 * from its quantity (price_facts_amount, as checkout_price_items: a tiered or sub-cent price's
 * from the whole quantity; a metered line stays 0, a pay-what-you-want line at its amount), the
 * lines' sum a payment the merchant can take, amount_subtotal that sum (0 during a trial, the
 * first invoice being free), then its discount, taxes and shipping (session_discounted) and, in
 * payment mode, the total again a payment the merchant can take. `shown`: the parameter errors
 * name. 0, or -1 with r->err. */
static int session_reprice(struct req *r, struct db *db, struct session *s, const char *shown)
{
	json_t *items = json_loads(s->line_items, 0, NULL);
	if (!json_is_array(items)) {
		json_decref(items);
		return req_fail(r, ERR_API, NULL, NULL);
	}
	int64_t total = 0;
	bool any_metered = false, any_custom = false;
	size_t i;
	json_t *it;
	int rc = 0;
	json_array_foreach(items, i, it)
	{
		if (json_is_true(json_object_get(it, "metered"))) {
			any_metered = true;
			continue;
		}
		int64_t line = line_subtotal(it);
		if (json_object_get(it, "custom")) {
			any_custom = true;
		} else {
			const char *price = json_string_value(json_object_get(it, "price"));
			struct price_facts pf;
			if (!price || price_facts_in(r, db, price, s->currency, &pf) != DB_OK) {
				rc = req_fail(r, ERR_API, NULL, NULL);
				break;
			}
			int64_t qty = json_integer_value(json_object_get(it, "quantity"));
			if (price_facts_amount(&pf, qty, &line) != 0) {
				rc = req_fail(r, ERR_AMOUNT_TOO_LARGE, shown,
					      "The line items' total must be at most %d.",
					      AMOUNT_TOTAL_MAX);
				break;
			}
			if (price_facts_lump(&pf))
				json_object_set_new(it, "amount", json_integer(line));
		}
		if (__builtin_add_overflow(total, line, &total) || total > AMOUNT_TOTAL_MAX) {
			rc =
			    req_fail(r, ERR_AMOUNT_TOO_LARGE, shown,
				     "The line items' total must be at most %d.", AMOUNT_TOTAL_MAX);
			break;
		}
	}
	char *out = rc == 0 ? json_dumps(items, JSON_COMPACT) : NULL;
	json_decref(items);
	if (rc != 0)
		return -1;
	s->line_items = out ? arena_strdup(&r->arena, out) : NULL;
	free(out);
	if (!s->line_items)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!any_custom && !(total == 0 && any_metered) &&
	    payments_check_minimum_db(r, db, total, s->currency, shown, shown) != 0)
		return -1;
	bool sub = strcmp(s->mode, "subscription") == 0;
	s->amount_subtotal = sub && s->sub_trial_days > 0 ? 0 : total;
	struct discount d;
	memset(&d, 0, sizeof(d));
	if (s->discount_coupon) {
		if (coupon_load(r, db, s->discount_coupon, &d.coupon) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (s->discount_promotion_code)
			str_copy(d.promotion_code, sizeof(d.promotion_code),
				 s->discount_promotion_code);
	}
	if (session_discounted(r, db, s, s->discount_coupon ? &d : NULL) != 0)
		return -1;
	if (!sub && !any_custom &&
	    payments_check_minimum_db(r, db, s->amount_total, s->currency, shown, shown) != 0)
		return -1;
	return 0;
}

int checkout_shipping_options(struct req *r, struct db *db, const char *currency,
			      struct checkout_shipping *ship)
{
	const struct form_node *opts = param_node(r, "shipping_options");
	if (!opts)
		return 0;
	struct buf b;
	struct json j;
	buf_init(&b, 64 * 1024);
	json_init(&j, &b);
	json_arr_open(&j);
	int idx = 0, rc = 0;
	for (const struct form_node *it = opts->first_child; it && rc == 0; it = it->next, idx++) {
		char shown[80], prefix[80];
		const struct form_node *rn = form_get(it, "shipping_rate");
		bool inline_rate = form_get(it, "shipping_rate_data") != NULL;
		struct shipping_rate_facts f;
		if ((rn != NULL) == inline_rate) {
			snprintf(shown, sizeof(shown), "shipping_options[%d]", idx);
			rc = req_fail(r, ERR_PARAM_BAD, shown,
				      "Exactly one of shipping_rate and shipping_rate_data is "
				      "required in %s.",
				      shown);
			break;
		}
		if (inline_rate) {
			snprintf(prefix, sizeof(prefix), "shipping_options.%d.shipping_rate_data.",
				 idx);
			snprintf(shown, sizeof(shown), "shipping_options[%d][shipping_rate_data]",
				 idx);
			if (shipping_rate_create_inline(r, db, prefix, shown, &f) != 0) {
				rc = -1;
				break;
			}
		} else {
			snprintf(shown, sizeof(shown), "shipping_options[%d][shipping_rate]", idx);
			int grc = rn->value ? shipping_rate_get(r, db, rn->value, &f) : DB_NOTFOUND;
			if (grc == DB_NOTFOUND) {
				rc = req_fail_missing(r, "shipping_rate",
						      rn->value ? rn->value : "", shown);
				break;
			}
			if (grc != DB_OK) {
				rc = req_fail(r, ERR_API, NULL, NULL);
				break;
			}
			if (!f.active) {
				rc = req_fail(r, ERR_PARAM_BAD, shown,
					      "The shipping rate `%s` is not active.", f.id);
				break;
			}
		}
		if (strcmp(f.currency, currency) != 0) {
			rc =
			    req_fail(r, ERR_PARAM_BAD, shown,
				     "The shipping rate `%s` is in %s; shipping options must be in "
				     "the line items' currency, %s.",
				     f.id, f.currency, currency);
			break;
		}
		json_obj_open(&j);
		json_kv_str(&j, "shipping_rate", f.id);
		json_kv_int(&j, "shipping_amount", f.amount);
		json_kv_str(&j, "display_name", f.display_name ? f.display_name : "");
		json_obj_close(&j);
		if (idx == 0) {
			ship->rate = arena_strdup(&r->arena, f.id);
			ship->amount = f.amount;
		}
	}
	json_arr_close(&j);
	if (rc == 0 && idx > 0) {
		ship->options = b.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&b));
		if (!ship->options || !ship->rate)
			rc = req_fail(r, ERR_API, NULL, NULL);
	}
	buf_release(&b);
	return rc;
}

/* ---- the API ---- */

static const struct param_spec recurring_children[] = {
    {"interval", PT_ENUM, PF_REQUIRED, 0,
     (const char *const[]){"day", "week", "month", "year", NULL}, NULL},
    {"interval_count", PT_INT, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec product_data_children[] = {
    {"name", PT_STRING, PF_REQUIRED, 250, NULL, NULL},
    {"description", PT_STRING, 0, 40000, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec price_data_children[] = {
    {"currency", PT_CURRENCY, PF_REQUIRED, 0, NULL, NULL},
    {"product", PT_STRING, 0, 255, NULL, NULL},
    {"product_data", PT_OBJECT, 0, 0, NULL, product_data_children},
    {"unit_amount", PT_INT, 0, 0, NULL, NULL},
    {"unit_amount_decimal", PT_STRING, 0, 40, NULL, NULL},
    {"recurring", PT_OBJECT, 0, 0, NULL, recurring_children},
    {"tax_behavior", PT_ENUM, 0, 0,
     (const char *const[]){"exclusive", "inclusive", "unspecified", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
const struct param_spec checkout_adjustable_params[] = {
    {"enabled", PT_BOOL, PF_REQUIRED, 0, NULL, NULL},
    {"maximum", PT_INT, 0, 0, NULL, NULL},
    {"minimum", PT_INT, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec line_item_children[] = {
    {"price", PT_STRING, 0, 255, NULL, NULL},
    {"price_data", PT_OBJECT, 0, 0, NULL, price_data_children},
    {"quantity", PT_INT, 0, 0, NULL, NULL},
    {"tax_rates", PT_STRING_ARRAY, PF_EMPTYABLE, 0, NULL, NULL},
    {"dynamic_tax_rates", PT_STRING_ARRAY, 0, 0, NULL, NULL},
    {"adjustable_quantity", PT_OBJECT, 0, 0, NULL, checkout_adjustable_params},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec pi_data_transfer_children[] = {
    {"destination", PT_STRING, PF_REQUIRED, 255, NULL, NULL},
    {"amount", PT_INT, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec pi_data_children[] = {
    /* the PaymentIntent's Connect terms (Stripe's destination and direct charges guides make
     * their Checkout payments with them): kept as the rest, checked at create */
    {"application_fee_amount", PT_INT, 0, 0, NULL, NULL},
    {"on_behalf_of", PT_STRING, 0, 255, NULL, NULL},
    {"transfer_data", PT_OBJECT, 0, 0, NULL, pi_data_transfer_children},
    {"transfer_group", PT_STRING, 0, 5000, NULL, NULL},
    {"capture_method", PT_ENUM, 0, 0,
     (const char *const[]){"automatic", "automatic_async", "manual", NULL}, NULL},
    {"description", PT_STRING, 0, 1000, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"setup_future_usage", PT_ENUM, 0, 0, (const char *const[]){"off_session", "on_session", NULL},
     NULL},
    {"shipping", PT_OBJECT, 0, 0, NULL, payment_shipping_params},
    {"statement_descriptor", PT_STRING, 0, 22, NULL, NULL},
    {"statement_descriptor_suffix", PT_STRING, 0, 22, NULL, NULL},
    {"receipt_email", PT_STRING, 0, 800, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec subscription_data_children[] = {
    {"billing_mode", PT_OBJECT, 0, 0, NULL, subscription_billing_mode_params},
    {"trial_period_days", PT_INT, 0, 0, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"description", PT_STRING, 0, 500, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec discount_children[] = {
    {"coupon", PT_STRING, 0, COUPON_ID_MAX, NULL, NULL},
    {"promotion_code", PT_STRING, 0, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec shipping_option_children[] = {
    {"shipping_rate", PT_STRING, 0, 255, NULL, NULL},
    {"shipping_rate_data", PT_OBJECT, 0, 0, NULL, shipping_rate_data_params},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec shipping_collection_children[] = {
    {"allowed_countries", PT_STRING_ARRAY, PF_REQUIRED, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
const struct param_spec checkout_enabled_params[] = {
    {"enabled", PT_BOOL, PF_REQUIRED, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const char *const auto_never[] = {"auto", "never", NULL};
static const struct param_spec liability_children[] = {
    {"type", PT_ENUM, PF_REQUIRED, 0, (const char *const[]){"account", "self", NULL}, NULL},
    {"account", PT_STRING, 0, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec automatic_tax_children[] = {
    {"enabled", PT_BOOL, PF_REQUIRED, 0, NULL, NULL},
    {"liability", PT_OBJECT, 0, 0, NULL, liability_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec customer_update_children[] = {
    {"address", PT_ENUM, 0, 0, auto_never, NULL},
    {"name", PT_ENUM, 0, 0, auto_never, NULL},
    {"shipping", PT_ENUM, 0, 0, auto_never, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec custom_text_position_children[] = {
    {"message", PT_STRING, PF_REQUIRED, CUSTOM_TEXT_MAX, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
const struct param_spec checkout_custom_text_params[] = {
    {"after_submit", PT_OBJECT, 0, 0, NULL, custom_text_position_children},
    {"shipping_address", PT_OBJECT, 0, 0, NULL, custom_text_position_children},
    {"submit", PT_OBJECT, 0, 0, NULL, custom_text_position_children},
    {"terms_of_service_acceptance", PT_OBJECT, 0, 0, NULL, custom_text_position_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec recovery_children[] = {
    {"enabled", PT_BOOL, PF_REQUIRED, 0, NULL, NULL},
    {"allow_promotion_codes", PT_BOOL, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec after_expiration_children[] = {
    {"recovery", PT_OBJECT, 0, 0, NULL, recovery_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
/* Stripe's Checkout locales (the page itself stays English) */
static const char *const locales[] = {
    "auto", "bg",  "cs", "da",	  "de", "el", "en",    "en-GB", "es", "es-419", "et",
    "fi",   "fil", "fr", "fr-CA", "hr", "hu", "id",    "it",	"ja", "ko",	"lt",
    "lv",   "ms",  "mt", "nb",	  "nl", "pl", "pt",    "pt-BR", "ro", "ru",	"sk",
    "sl",   "sv",  "th", "tr",	  "vi", "zh", "zh-HK", "zh-TW", NULL};
static const struct param_spec cf_label_children[] = {
    {"type", PT_ENUM, PF_REQUIRED, 0, (const char *const[]){"custom", NULL}, NULL},
    {"custom", PT_STRING, PF_REQUIRED, 50, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec cf_option_children[] = {
    {"label", PT_STRING, PF_REQUIRED, 100, NULL, NULL},
    {"value", PT_STRING, PF_REQUIRED, 100, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec cf_dropdown_children[] = {
    {"options", PT_OBJECT_ARRAY, PF_REQUIRED, CF_OPTIONS_MAX, NULL, cf_option_children},
    {"default_value", PT_STRING, 0, 100, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec cf_length_children[] = {
    {"minimum_length", PT_INT, 0, 0, NULL, NULL},
    {"maximum_length", PT_INT, 0, 0, NULL, NULL},
    {"default_value", PT_STRING, 0, CF_LENGTH_MAX, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
const struct param_spec checkout_custom_field_params[] = {
    {"key", PT_STRING, PF_REQUIRED, 200, NULL, NULL},
    {"label", PT_OBJECT, PF_REQUIRED, 0, NULL, cf_label_children},
    {"type", PT_ENUM, PF_REQUIRED, 0, (const char *const[]){"dropdown", "numeric", "text", NULL},
     NULL},
    {"optional", PT_BOOL, 0, 0, NULL, NULL},
    {"dropdown", PT_OBJECT, 0, 0, NULL, cf_dropdown_children},
    {"numeric", PT_OBJECT, 0, 0, NULL, cf_length_children},
    {"text", PT_OBJECT, 0, 0, NULL, cf_length_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec reuse_agreement_children[] = {
    {"position", PT_ENUM, PF_REQUIRED, 0, (const char *const[]){"auto", "hidden", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
const struct param_spec checkout_tax_id_collection_params[] = {
    {"enabled", PT_BOOL, PF_REQUIRED, 0, NULL, NULL},
    {"required", PT_ENUM, 0, 0, (const char *const[]){"if_supported", "never", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
const struct param_spec checkout_consent_collection_params[] = {
    {"payment_method_reuse_agreement", PT_OBJECT, 0, 0, NULL, reuse_agreement_children},
    {"promotions", PT_ENUM, 0, 0, (const char *const[]){"auto", "none", NULL}, NULL},
    {"terms_of_service", PT_ENUM, 0, 0, (const char *const[]){"none", "required", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec inv_custom_field_children[] = {
    {"name", PT_STRING, PF_REQUIRED, 40, NULL, NULL},
    {"value", PT_STRING, PF_REQUIRED, 140, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec inv_rendering_children[] = {
    {"amount_tax_display", PT_ENUM, PF_EMPTYABLE, 0,
     (const char *const[]){"exclude_tax", "include_inclusive_tax", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec invoice_data_children[] = {
    {"description", PT_STRING, 0, 1500, NULL, NULL},
    {"footer", PT_STRING, 0, 5000, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"custom_fields", PT_OBJECT_ARRAY, 0, 4, NULL, inv_custom_field_children},
    {"rendering_options", PT_OBJECT, 0, 0, NULL, inv_rendering_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
const struct param_spec checkout_invoice_creation_params[] = {
    {"enabled", PT_BOOL, PF_REQUIRED, 0, NULL, NULL},
    {"invoice_data", PT_OBJECT, 0, 0, NULL, invoice_data_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
/* a session's own invoice_data also takes account_tax_ids: the merchant's own tax ids the
 * invoice names (api/tax_ids.c; checked in the create's write) */
static const struct param_spec session_invoice_data_children[] = {
    {"account_tax_ids", PT_STRING_ARRAY, PF_EMPTYABLE, 0, NULL, NULL},
    {"description", PT_STRING, 0, 1500, NULL, NULL},
    {"footer", PT_STRING, 0, 5000, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"custom_fields", PT_OBJECT_ARRAY, 0, 4, NULL, inv_custom_field_children},
    {"rendering_options", PT_OBJECT, 0, 0, NULL, inv_rendering_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec session_invoice_creation_params[] = {
    {"enabled", PT_BOOL, PF_REQUIRED, 0, NULL, NULL},
    {"invoice_data", PT_OBJECT, 0, 0, NULL, session_invoice_data_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec setup_intent_data_children[] = {
    {"description", PT_STRING, 0, 1000, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec pmo_card_children[] = {
    {"request_three_d_secure", PT_ENUM, 0, 0,
     (const char *const[]){"any", "automatic", "challenge", NULL}, NULL},
    {"setup_future_usage", PT_ENUM, 0, 0, (const char *const[]){"off_session", "on_session", NULL},
     NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
/* financial_connections: what the page's linking asks for (checked by fc_intent_options) */
static const struct param_spec pmo_ach_fc_children[] = {
    {"permissions", PT_STRING_ARRAY, 0, 0, NULL, NULL},
    {"prefetch", PT_STRING_ARRAY, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec pmo_ach_children[] = {
    {"financial_connections", PT_OBJECT, 0, 0, NULL, pmo_ach_fc_children},
    {"setup_future_usage", PT_ENUM, 0, 0,
     (const char *const[]){"none", "off_session", "on_session", NULL}, NULL},
    {"verification_method", PT_ENUM, 0, 0,
     (const char *const[]){"automatic", "instant", "microdeposits", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
/* affirm, afterpay_clearpay, klarna: what the spec's Checkout takes of them (a lender's payment
 * is not saved) */
static const struct param_spec pmo_bnpl_children[] = {
    {"setup_future_usage", PT_ENUM, 0, 0, (const char *const[]){"none", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
/* sepa_debit: the PaymentIntents' mandate_options (reference_prefix, checked by
 * sepa_reference_prefix as on a PaymentIntent) */
static const struct param_spec pmo_sepa_children[] = {
    {"mandate_options", PT_OBJECT, 0, 0, NULL, sepa_mandate_options_params},
    {"setup_future_usage", PT_ENUM, 0, 0,
     (const char *const[]){"none", "off_session", "on_session", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
/* ideal, bancontact: the spec's Checkout takes `none` only (payment_intent_data's
 * setup_future_usage kept off that type's payment) */
static const struct param_spec pmo_bank_redirect_children[] = {
    {"setup_future_usage", PT_ENUM, 0, 0, (const char *const[]){"none", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec pmo_children[] = {
    {"affirm", PT_OBJECT, 0, 0, NULL, pmo_bnpl_children},
    {"afterpay_clearpay", PT_OBJECT, 0, 0, NULL, pmo_bnpl_children},
    {"bancontact", PT_OBJECT, 0, 0, NULL, pmo_bank_redirect_children},
    {"card", PT_OBJECT, 0, 0, NULL, pmo_card_children},
    /* bank transfers: a PaymentIntent's (api/cash_balance.c) */
    {"customer_balance", PT_OBJECT, 0, 0, NULL, cash_pmo_params},
    {"ideal", PT_OBJECT, 0, 0, NULL, pmo_bank_redirect_children},
    {"klarna", PT_OBJECT, 0, 0, NULL, pmo_bnpl_children},
    {"sepa_debit", PT_OBJECT, 0, 0, NULL, pmo_sepa_children},
    {"us_bank_account", PT_OBJECT, 0, 0, NULL, pmo_ach_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec create_params[] = {
    {"automatic_tax", PT_OBJECT, 0, 0, NULL, automatic_tax_children},
    {"payment_method_collection", PT_ENUM, 0, 0,
     (const char *const[]){"always", "if_required", NULL}, NULL},
    {"payment_method_options", PT_OBJECT, 0, 0, NULL, pmo_children},
    {"setup_intent_data", PT_OBJECT, 0, 0, NULL, setup_intent_data_children},
    {"invoice_creation", PT_OBJECT, 0, 0, NULL, session_invoice_creation_params},
    {"consent_collection", PT_OBJECT, 0, 0, NULL, checkout_consent_collection_params},
    {"tax_id_collection", PT_OBJECT, 0, 0, NULL, checkout_tax_id_collection_params},
    {"custom_fields", PT_OBJECT_ARRAY, 0, CUSTOM_FIELDS_MAX, NULL, checkout_custom_field_params},
    {"billing_address_collection", PT_ENUM, 0, 0, (const char *const[]){"auto", "required", NULL},
     NULL},
    {"phone_number_collection", PT_OBJECT, 0, 0, NULL, checkout_enabled_params},
    {"customer_creation", PT_ENUM, 0, 0, (const char *const[]){"always", "if_required", NULL},
     NULL},
    {"customer_update", PT_OBJECT, 0, 0, NULL, customer_update_children},
    {"locale", PT_ENUM, 0, 0, locales, NULL},
    {"custom_text", PT_OBJECT, 0, 0, NULL, checkout_custom_text_params},
    {"after_expiration", PT_OBJECT, 0, 0, NULL, after_expiration_children},
    {"shipping_options", PT_OBJECT_ARRAY, 0, 5, NULL, shipping_option_children},
    {"shipping_address_collection", PT_OBJECT, 0, 0, NULL, shipping_collection_children},
    {"discounts", PT_OBJECT_ARRAY, 0, 1, NULL, discount_children},
    {"allow_promotion_codes", PT_BOOL, 0, 0, NULL, NULL},
    {"mode", PT_ENUM, PF_REQUIRED, 0,
     (const char *const[]){"payment", "setup", "subscription", NULL}, NULL},
    {"subscription_data", PT_OBJECT, 0, 0, NULL, subscription_data_children},
    {"line_items", PT_OBJECT_ARRAY, 0, 20, NULL, line_item_children},
    /* required for the hosted page (ui_mode_parse) */
    {"success_url", PT_STRING, 0, 5000, NULL, NULL},
    {"cancel_url", PT_STRING, 0, 5000, NULL, NULL},
    /* the names before API version 2026-03-25 (Stripe's guides) and after (stripe-node 23's
     * types), each shown back as given; `form` is not Tender's */
    {"ui_mode", PT_ENUM, 0, 0,
     (const char *const[]){"hosted", "embedded", "custom", "hosted_page", "embedded_page",
			   "elements", NULL},
     NULL},
    {"return_url", PT_STRING, 0, 5000, NULL, NULL},
    {"redirect_on_completion", PT_ENUM, 0, 0,
     (const char *const[]){"always", "if_required", "never", NULL}, NULL},
    {"currency", PT_CURRENCY, 0, 0, NULL, NULL},
    {"customer", PT_STRING, 0, 255, NULL, NULL},
    {"customer_email", PT_STRING, 0, 512, NULL, NULL},
    {"client_reference_id", PT_STRING, 0, 200, NULL, NULL},
    {"expires_at", PT_INT, 0, 0, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"payment_intent_data", PT_OBJECT, 0, 0, NULL, pi_data_children},
    {"payment_method_types", PT_STRING_ARRAY, 0, 0, NULL, NULL},
    {"payment_method_configuration", PT_STRING, 0, 100, NULL, NULL},
    {"submit_type", PT_ENUM, 0, 0, (const char *const[]){"auto", "book", "donate", "pay", NULL},
     NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec list_customer_details_params[] = {
    {"email", PT_STRING, PF_REQUIRED, 800, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec list_params[] = {
    {"customer_details", PT_OBJECT, 0, 0, NULL, list_customer_details_params},
    {"payment_intent", PT_STRING, 0, 255, NULL, NULL},
    {"subscription", PT_STRING, 0, 255, NULL, NULL},
    {"payment_link", PT_STRING, 0, 255, NULL, NULL},
    {"customer", PT_STRING, 0, 255, NULL, NULL},
    {"status", PT_ENUM, 0, 0, (const char *const[]){"open", "complete", "expired", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};
/* the update's: metadata, and the ones only a session of Stripe.js's own page takes, declared so
 * that they get update_fn's answer rather than parameter_unknown */
static const struct param_spec update_line_item_children[] = {
    {"id", PT_STRING, 0, 255, NULL, NULL},
    {"price", PT_STRING, 0, 255, NULL, NULL},
    {"price_data", PT_OBJECT, 0, 0, NULL, price_data_children},
    {"quantity", PT_INT, 0, 0, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"tax_rates", PT_STRING_ARRAY, PF_EMPTYABLE, 0, NULL, NULL},
    {"adjustable_quantity", PT_OBJECT, 0, 0, NULL, checkout_adjustable_params},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec update_collected_children[] = {
    {"shipping_details", PT_OBJECT, 0, 0, NULL, payment_shipping_params},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec update_params[] = {
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"line_items", PT_OBJECT_ARRAY, 0, 20, NULL, update_line_item_children},
    {"shipping_options", PT_OBJECT_ARRAY, PF_EMPTYABLE, 5, NULL, shipping_option_children},
    {"collected_information", PT_OBJECT, 0, 0, NULL, update_collected_children},
    {"payment_intent_data", PT_OBJECT, 0, 0, NULL, pi_data_children},
    {NULL, 0, 0, 0, NULL, NULL},
};

int checkout_shipping_countries(struct req *r, struct checkout_shipping *ship)
{
	const struct form_node *n = param_node(r, "shipping_address_collection.allowed_countries");
	if (!n)
		return 0;
	struct buf b;
	struct json j;
	buf_init(&b, 4096);
	json_init(&j, &b);
	json_arr_open(&j);
	int count = 0, rc = 0;
	for (const struct form_node *x = n->kind != FORM_SCALAR ? n->first_child : n; x;
	     x = n->kind == FORM_SCALAR ? NULL : x->next) {
		const char *v = x->value;
		if (!v || strlen(v) != 2 || v[0] < 'A' || v[0] > 'Z' || v[1] < 'A' || v[1] > 'Z' ||
		    ++count > SHIP_COUNTRIES_MAX) {
			rc = req_fail(r, ERR_PARAM_BAD,
				      "shipping_address_collection[allowed_countries]",
				      "Invalid shipping_address_collection[allowed_countries]: "
				      "two-letter country codes in capitals (ISO 3166-1), at most "
				      "%d.",
				      SHIP_COUNTRIES_MAX);
			break;
		}
		json_str(&j, v);
	}
	json_arr_close(&j);
	if (rc == 0 && count == 0)
		rc =
		    req_fail(r, ERR_PARAM_MISSING, "shipping_address_collection[allowed_countries]",
			     "%s", "shipping_address_collection[allowed_countries]");
	if (rc == 0) {
		ship->countries = b.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&b));
		if (!ship->countries)
			rc = req_fail(r, ERR_API, NULL, NULL);
	}
	buf_release(&b);
	return rc;
}

/* shipping_address_collection (mode=payment only, as shipping_options: Tender's subscription
 * and setup sessions take no shipping). 0, or -1 with r->err. */
static int shipping_countries_parse(struct req *r, struct session *s)
{
	if (strcmp(s->mode, "payment") != 0 && (param_present(r, "shipping_options") ||
						param_present(r, "shipping_address_collection")))
		return req_fail(r, ERR_PARAM_BAD,
				param_present(r, "shipping_options")
				    ? "shipping_options"
				    : "shipping_address_collection",
				"Tender takes shipping_options and shipping_address_collection in "
				"`payment` mode only.");
	struct checkout_shipping ship = {0};
	if (checkout_shipping_countries(r, &ship) != 0)
		return -1;
	s->shipping_countries = ship.countries;
	return 0;
}

/* Inside create's write: the session's shipping options (checkout_shipping_options), the first
 * chosen until the buyer picks another. 0, or -1 with r->err. */
static int shipping_resolve(struct req *r, struct db *db, struct session *s)
{
	struct checkout_shipping ship = {0};
	if (checkout_shipping_options(r, db, s->currency, &ship) != 0)
		return -1;
	s->shipping_options = ship.options;
	s->shipping_rate = ship.rate;
	s->amount_shipping = ship.amount;
	return 0;
}

/* Tender's post-payment invoice takes the session's line items only (invoice_creation_parse;
 * a payment link's update too): the refusal, on param shown. -1 with r->err. */
static int invoice_creation_refused(struct req *r, const char *shown)
{
	return req_fail(r, ERR_PARAM_BAD, shown,
			"Tender's post-payment invoices take the line items only: not with "
			"discounts, allow_promotion_codes, tax rates or shipping_options.");
}

/* invoice_creation (mode=payment): the invoice made when the payment succeeds, kept in the
 * collect JSON o as the session shows it. Tender's post-payment invoice takes the session's
 * line items only: a session with a discount, tax rates or shipping options is refused with
 * it. 0, or -1 with r->err. */
static int invoice_creation_parse(struct req *r, const struct session *s, json_t *o)
{
	if (!param_present(r, "invoice_creation"))
		return 0;
	bool en = false;
	param_bool(r, "invoice_creation.enabled", &en);
	if (strcmp(s->mode, "payment") != 0)
		return req_fail(r, ERR_PARAM_BAD, "invoice_creation",
				"`invoice_creation` can only be used in `payment` mode.");
	bool taxed = false;
	const struct form_node *li = param_node(r, "line_items");
	for (const struct form_node *it = li ? li->first_child : NULL; it; it = it->next)
		taxed = taxed || form_get(it, "tax_rates") || form_get(it, "dynamic_tax_rates");
	if (en && (param_present(r, "discounts") || s->allow_promotion_codes || taxed ||
		   param_present(r, "shipping_options") || s->shipping_options))
		return invoice_creation_refused(r, "invoice_creation[enabled]");
	const char *meta = "{}";
	if (metadata_apply(r, NULL, "invoice_creation.invoice_data.metadata", &meta) != 0)
		return -1;
	json_t *md = json_loads(meta, 0, NULL);
	const char *desc = param_str(r, "invoice_creation.invoice_data.description");
	const char *footer = param_str(r, "invoice_creation.invoice_data.footer");
	json_t *cf = json_null();
	const struct form_node *cfn = param_node(r, "invoice_creation.invoice_data.custom_fields");
	if (cfn && cfn->kind != FORM_SCALAR) {
		cf = json_array();
		for (const struct form_node *it = cfn->first_child; it; it = it->next) {
			const struct form_node *n = form_get(it, "name"),
					       *v = form_get(it, "value");
			json_array_append_new(cf,
					      json_pack("{s:s?,s:s?}", "name", n ? n->value : NULL,
							"value", v ? v->value : NULL));
		}
	}
	const char *atd = param_str(r, "invoice_creation.invoice_data.rendering_options."
				       "amount_tax_display");
	json_t *ro = param_present(r, "invoice_creation.invoice_data.rendering_options")
			 ? json_pack("{s:s?}", "amount_tax_display", atd && *atd ? atd : NULL)
			 : json_null();
	/* its account_tax_ids as given (each checked in the create's write) */
	const char *atx = NULL;
	if (string_array_json(r, "invoice_creation.invoice_data.account_tax_ids", &atx) != 0) {
		json_decref(md);
		json_decref(cf);
		json_decref(ro);
		return -1;
	}
	json_t *atj = atx && strcmp(atx, "[]") != 0 ? json_loads(atx, 0, NULL) : NULL;
	json_object_set_new(o, "invoice_creation",
			    json_pack("{s:b,s:{s:o,s:o,s:s?,s:s?,s:n,s:o,s:o}}", "enabled", en,
				      "invoice_data", "account_tax_ids", atj ? atj : json_null(),
				      "custom_fields", cf, "description",
				      desc && *desc ? desc : NULL, "footer",
				      footer && *footer ? footer : NULL, "issuer", "metadata",
				      md ? md : json_object(), "rendering_options", ro));
	return 0;
}

/* Stripe's rules for a statement descriptor (or its card suffix): none of < > \ ' " *, and
 * (the descriptor itself) not only digits. NULL, or what is wrong with v. */
static const char *descriptor_bad(const char *v, bool suffix)
{
	bool digits_only = true;
	for (const char *c = v; *c; c++) {
		if (strchr("<>\\'\"*", *c))
			return "may not contain any of the characters < > \\ ' \" *";
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return "may not contain control characters";
		if (*c < '0' || *c > '9')
			digits_only = false;
	}
	return !suffix && digits_only ? "must contain at least one letter" : NULL;
}

/* the receipt's address: one @ with something on either side, no spaces */
static bool email_plausible(const char *v)
{
	const char *at = strchr(v, '@');
	return at && at != v && at[1] && !strchr(at + 1, '@') && !strpbrk(v, " \t\r\n");
}

/* payment_intent_data[statement_descriptor, statement_descriptor_suffix, receipt_email],
 * checked as Stripe checks them; statement_descriptor is for non-card charges only, and Stripe
 * refuses it for a card payment (the suffix is the card's): a session that takes cards refuses
 * it here rather than at the buyer's payment. 0, or -1 with r->err. */
static int pi_data_statement_parse(struct req *r, const struct session *s, const char **sd,
				   const char **sfx, const char **email)
{
	*sd = param_str(r, "payment_intent_data.statement_descriptor");
	*sfx = param_str(r, "payment_intent_data.statement_descriptor_suffix");
	*email = param_str(r, "payment_intent_data.receipt_email");
	const char *bad;
	if (*sd && (bad = descriptor_bad(*sd, false)) != NULL)
		return req_fail(r, ERR_PARAM_BAD, "payment_intent_data[statement_descriptor]",
				"Invalid statement_descriptor: it %s.", bad);
	if (*sfx && (bad = descriptor_bad(*sfx, true)) != NULL)
		return req_fail(r, ERR_PARAM_BAD,
				"payment_intent_data[statement_descriptor_suffix]",
				"Invalid statement_descriptor_suffix: it %s.", bad);
	if (*sd && (pm_types_from_json(s->pm_types, PMT_CARD) & PMT_CARD))
		return req_fail(r, ERR_PARAM_BAD, "payment_intent_data[statement_descriptor]",
				"The `statement_descriptor` parameter is not supported for card "
				"payments: use `statement_descriptor_suffix` instead.");
	if (*email && !email_plausible(*email))
		return req_fail(r, ERR_PARAM_BAD, "payment_intent_data[receipt_email]",
				"Invalid email address: %s", *email);
	return 0;
}

/* payment_intent_data[setup_future_usage, metadata, shipping, statement_descriptor,
 * statement_descriptor_suffix, receipt_email] (mode=payment; the other modes refuse
 * payment_intent_data before this): kept in s->collect under "payment_intent_data" (not shown
 * on the session, as on Stripe) for the PaymentIntent the page makes. 0, or -1 with r->err. */
/* payment_intent_data[application_fee_amount, on_behalf_of, transfer_data, transfer_group] into
 * pd (checked against the session's total by create_fn: connect_check) */
static void pi_data_connect_parse(struct req *r, json_t *pd)
{
	int64_t v;
	if (param_int(r, "payment_intent_data.application_fee_amount", &v))
		json_object_set_new(pd, "application_fee_amount", json_integer(v));
	const char *obo = param_str(r, "payment_intent_data.on_behalf_of");
	if (obo && *obo)
		json_object_set_new(pd, "on_behalf_of", json_string(obo));
	const char *group = param_str(r, "payment_intent_data.transfer_group");
	if (group && *group)
		json_object_set_new(pd, "transfer_group", json_string(group));
	const char *dest = param_str(r, "payment_intent_data.transfer_data.destination");
	if (dest && *dest) {
		json_t *td = json_pack("{s:s}", "destination", dest);
		if (param_int(r, "payment_intent_data.transfer_data.amount", &v))
			json_object_set_new(td, "amount", json_integer(v));
		json_object_set_new(pd, "transfer_data", td);
	}
}

static int pi_data_parse(struct req *r, const struct session *s, json_t *o)
{
	const char *sfu = param_str(r, "payment_intent_data.setup_future_usage");
	const char *meta = NULL;
	const char *ship = NULL;
	const char *sd, *sfx, *email;
	if (pi_data_statement_parse(r, s, &sd, &sfx, &email) != 0)
		return -1;
	if (param_present(r, "payment_intent_data.metadata") &&
	    metadata_apply(r, NULL, "payment_intent_data.metadata", &meta) != 0)
		return -1;
	if (shipping_from_params(r, "payment_intent_data.shipping", &ship) != 0)
		return -1;
	static const char *const connect[] = {
	    "payment_intent_data.application_fee_amount", "payment_intent_data.on_behalf_of",
	    "payment_intent_data.transfer_data", "payment_intent_data.transfer_group"};
	bool terms = false;
	for (size_t i = 0; i < sizeof(connect) / sizeof(connect[0]); i++)
		terms = terms || param_present(r, connect[i]);
	if (!sfu && !meta && !ship && !sd && !sfx && !email && !terms)
		return 0;
	json_t *m = meta ? json_loads(meta, 0, NULL) : NULL;
	json_t *sh = ship ? json_loads(ship, 0, NULL) : NULL;
	if (m && json_object_size(m) == 0) {
		json_decref(m);
		m = NULL;
	}
	json_t *pd = json_pack("{s:s?,s:o?,s:o?,s:s?,s:s?,s:s?}", "setup_future_usage", sfu,
			       "metadata", m, "shipping", sh, "statement_descriptor", sd,
			       "statement_descriptor_suffix", sfx, "receipt_email", email);
	if (!pd)
		return req_fail(r, ERR_API, NULL, NULL);
	pi_data_connect_parse(r, pd);
	json_object_set_new(o, "payment_intent_data", pd);
	return 0;
}

/* The Connect terms of the session's payment (payment_intent_data's), each amount at most
 * `amount` when it is not negative (what the buyer pays: a promotion code may take the total
 * below what create checked them against). Whether there are any. */
static bool session_connect(struct req *r, const struct session *s, int64_t amount,
			    struct payment_connect *c)
{
	memset(c, 0, sizeof(*c));
	json_t *all = s->collect ? json_loads(s->collect, 0, NULL) : NULL;
	json_t *pd = json_object_get(all, "payment_intent_data");
	json_t *td = json_object_get(pd, "transfer_data");
	const char *dest = json_string_value(json_object_get(td, "destination"));
	const char *obo = json_string_value(json_object_get(pd, "on_behalf_of"));
	const char *group = json_string_value(json_object_get(pd, "transfer_group"));
	c->destination = dest ? arena_strdup(&r->arena, dest) : NULL;
	c->on_behalf_of = obo ? arena_strdup(&r->arena, obo) : NULL;
	c->transfer_group = group ? arena_strdup(&r->arena, group) : NULL;
	c->application_fee_amount =
	    json_integer_value(json_object_get(pd, "application_fee_amount"));
	c->transfer_amount = json_integer_value(json_object_get(td, "amount"));
	json_decref(all);
	if (amount >= 0 && c->application_fee_amount > amount)
		c->application_fee_amount = amount;
	if (amount >= 0 && c->transfer_amount > amount)
		c->transfer_amount = amount;
	return c->destination || c->on_behalf_of || c->transfer_group ||
	       c->application_fee_amount != 0;
}

/* Inside create's transaction, the session priced: its Connect terms checked as a
 * PaymentIntent's create checks them, against the session's total, naming the session's
 * parameters. 0, or -1 with r->err. */
static int session_connect_check(struct req *r, struct db *db, const struct session *s,
				 const struct payment_connect *c)
{
	static const struct connect_params params = {
	    "PaymentIntent", "payment_intent_data[transfer_data][destination]",
	    "payment_intent_data[application_fee_amount]",
	    "payment_intent_data[transfer_data][amount]"};
	if (payments_connect_check_terms(r, c, s->amount_total, &params) != 0)
		return -1;
	if (c->on_behalf_of &&
	    payments_connect_accounts_usable(r, db, c->on_behalf_of,
					     "payment_intent_data[on_behalf_of]", NULL) != 0)
		return -1;
	struct payment_connect d = *c;
	d.on_behalf_of = NULL; /* checked above, under its own name */
	return d.destination ? payments_connect_check_accounts_db(r, db, &d, s->currency, &params)
			     : 0;
}

/* The buyer-facing settings of create (billing_address_collection … after_expiration), as
 * Stripe documents them, into s->collect: one JSON object holding each as the session shows it
 * (customer_update too, which it does not show). NULL when none is given. 0, or -1 with
 * r->err. */
static int collect_parse(struct req *r, struct session *s)
{
	static const char *const given[] = {"billing_address_collection",
					    "phone_number_collection",
					    "customer_creation",
					    "customer_update",
					    "locale",
					    "custom_text",
					    "after_expiration",
					    "consent_collection",
					    "tax_id_collection",
					    "invoice_creation",
					    "setup_intent_data",
					    "payment_method_options",
					    "payment_method_collection",
					    "payment_intent_data.setup_future_usage",
					    "payment_intent_data.metadata",
					    "payment_intent_data.shipping",
					    "payment_intent_data.statement_descriptor",
					    "payment_intent_data.statement_descriptor_suffix",
					    "payment_intent_data.receipt_email",
					    "payment_intent_data.application_fee_amount",
					    "payment_intent_data.on_behalf_of",
					    "payment_intent_data.transfer_data",
					    "payment_intent_data.transfer_group"};
	bool any = false;
	for (size_t i = 0; i < sizeof(given) / sizeof(given[0]); i++)
		any = any || param_present(r, given[i]);
	/* consent_collection not given: the one s already has (a payment link's update takes
	 * custom_text but not consent_collection) */
	const char *tos = param_present(r, "consent_collection")
			      ? param_str(r, "consent_collection.terms_of_service")
			      : collect_str(&r->arena, s, "consent_collection", "terms_of_service");
	s->collect = NULL;
	if (!any)
		return 0;
	const char *cc = param_str(r, "customer_creation");
	if (cc && strcmp(s->mode, "subscription") == 0)
		return req_fail(r, ERR_PARAM_BAD, "customer_creation",
				"`customer_creation` can only be used in `payment` and `setup` "
				"mode.");
	if (param_present(r, "customer_update") && !s->customer)
		return req_fail(r, ERR_PARAM_BAD, "customer_update",
				"`customer_update` can only be used with `customer`.");
	if (param_present(r, "customer_update.shipping") && !s->shipping_countries)
		return req_fail(r, ERR_PARAM_BAD, "customer_update[shipping]",
				"`customer_update[shipping]` can only be used with "
				"`shipping_address_collection`.");
	if (param_present(r, "custom_text.shipping_address") && !s->shipping_countries)
		return req_fail(r, ERR_PARAM_BAD, "custom_text[shipping_address]",
				"`custom_text[shipping_address]` can only be used with "
				"`shipping_address_collection`.");
	bool tos_required = tos && strcmp(tos, "required") == 0;
	if (param_present(r, "custom_text.terms_of_service_acceptance") && !tos_required)
		return req_fail(r, ERR_PARAM_BAD, "custom_text[terms_of_service_acceptance]",
				"`custom_text[terms_of_service_acceptance]` can only be used with "
				"`consent_collection[terms_of_service]=required`.");
	if (param_present(r, "after_expiration") && strcmp(s->mode, "setup") == 0)
		return req_fail(r, ERR_PARAM_BAD, "after_expiration",
				"`after_expiration` cannot be used in `setup` mode.");
	bool tax_ids = false;
	param_bool(r, "tax_id_collection.enabled", &tax_ids);
	const char *tax_ids_req = param_str(r, "tax_id_collection.required");
	if (tax_ids_req && strcmp(tax_ids_req, "if_supported") == 0 && !tax_ids)
		return req_fail(r, ERR_PARAM_BAD, "tax_id_collection[required]",
				"`tax_id_collection[required]=if_supported` needs "
				"`tax_id_collection[enabled]=true`.");
	const char *cu_name = param_str(r, "customer_update.name");
	if (tax_ids && s->customer && !(cu_name && strcmp(cu_name, "auto") == 0))
		return req_fail(r, ERR_PARAM_BAD, "tax_id_collection[enabled]",
				"Collecting tax ids for an existing customer needs "
				"`customer_update[name]=auto`.");
	if (param_present(r, "setup_intent_data") && strcmp(s->mode, "setup") != 0)
		return req_fail(r, ERR_PARAM_BAD, "setup_intent_data",
				"`setup_intent_data` can only be used in `setup` mode.");
	const char *tds = param_str(r, "payment_method_options.card.request_three_d_secure");
	const char *sfu = param_str(r, "payment_method_options.card.setup_future_usage");
	if (sfu && strcmp(s->mode, "payment") != 0)
		return req_fail(r, ERR_PARAM_BAD,
				"payment_method_options[card][setup_future_usage]",
				"`setup_future_usage` can only be used in `payment` mode.");
	const char *ach_sfu =
	    param_str(r, "payment_method_options.us_bank_account.setup_future_usage");
	const char *ach_vm =
	    param_str(r, "payment_method_options.us_bank_account.verification_method");
	if (ach_sfu && strcmp(s->mode, "payment") != 0)
		return req_fail(r, ERR_PARAM_BAD,
				"payment_method_options[us_bank_account][setup_future_usage]",
				"`setup_future_usage` can only be used in `payment` mode.");
	for (size_t i = 0; i < sizeof(BNPL_NAMES) / sizeof(BNPL_NAMES[0]); i++) {
		char path[64];
		snprintf(path, sizeof(path), "payment_method_options.%s.setup_future_usage",
			 BNPL_NAMES[i]);
		if (param_str(r, path) && strcmp(s->mode, "payment") != 0)
			return req_fail(
			    r, ERR_PARAM_BAD,
			    arena_printf(&r->arena,
					 "payment_method_options[%s][setup_future_usage]",
					 BNPL_NAMES[i]),
			    "`setup_future_usage` can only be used in `payment` mode.");
	}
	/* sepa_debit, ideal, bancontact: their setup_future_usage is a payment's, as Stripe
	 * says; the SEPA mandate's reference_prefix goes only to the PaymentIntent the page
	 * makes (a SetupIntent's or a subscription's mandate does not take it from here) */
	static const char *const banks[] = {"bancontact", "ideal", "sepa_debit"};
	for (size_t i = 0; i < sizeof(banks) / sizeof(banks[0]); i++) {
		char path[64];
		snprintf(path, sizeof(path), "payment_method_options.%s.setup_future_usage",
			 banks[i]);
		if (param_str(r, path) && strcmp(s->mode, "payment") != 0)
			return req_fail(
			    r, ERR_PARAM_BAD,
			    arena_printf(&r->arena,
					 "payment_method_options[%s][setup_future_usage]",
					 banks[i]),
			    "`setup_future_usage` can only be used in `payment` mode.");
	}
	const char *sepa_prefix = NULL;
	if (sepa_reference_prefix(r, &sepa_prefix) != 0)
		return -1;
	if (param_present(r, "payment_method_options.sepa_debit.mandate_options") &&
	    strcmp(s->mode, "payment") != 0)
		return req_fail(
		    r, ERR_PARAM_BAD, "payment_method_options[sepa_debit][mandate_options]",
		    "Tender takes `payment_method_options[sepa_debit][mandate_options]` "
		    "in `payment` mode only.");
	/* the page links accounts with these (payment_method among the permissions, as Stripe
	 * requires); Stripe's defaults when not given */
	const char *ach_fc = NULL;
	if (fc_intent_options(r, "payment_method_options.us_bank_account.financial_connections",
			      &ach_fc) != 0)
		return -1;
	const char *pmc = param_str(r, "payment_method_collection");
	if (pmc && strcmp(s->mode, "subscription") != 0)
		return req_fail(r, ERR_PARAM_BAD, "payment_method_collection",
				"`payment_method_collection` can only be used in `subscription` "
				"mode.");
	json_t *o = json_object();
	json_object_set_new(o, "payment_method_collection", json_string(pmc ? pmc : "always"));
	if (param_present(r, "payment_method_options")) {
		json_t *pmo = json_object();
		/* challenge: Tender's test cards take any request as one for a challenge */
		if (param_present(r, "payment_method_options.card"))
			json_object_set_new(
			    pmo, "card",
			    json_pack("{s:s?,s:s?}", "request_three_d_secure",
				      tds && strcmp(tds, "challenge") == 0 ? "any" : tds,
				      "setup_future_usage", sfu));
		if (param_present(r, "payment_method_options.us_bank_account"))
			json_object_set_new(pmo, "us_bank_account",
					    json_pack("{s:s?,s:s,s:o?}", "setup_future_usage",
						      ach_sfu, "verification_method",
						      ach_vm ? ach_vm : "automatic",
						      "financial_connections",
						      ach_fc ? json_loads(ach_fc, 0, NULL) : NULL));
		/* the lenders', iDEAL's and Bancontact's: setup_future_usage (`none`) */
		static const char *const sfu_only[] = {"affirm", "afterpay_clearpay", "klarna",
						       "ideal", "bancontact"};
		for (size_t i = 0; i < sizeof(sfu_only) / sizeof(sfu_only[0]); i++) {
			char path[64];
			snprintf(path, sizeof(path), "payment_method_options.%s", sfu_only[i]);
			if (!param_present(r, path))
				continue;
			snprintf(path, sizeof(path), "payment_method_options.%s.setup_future_usage",
				 sfu_only[i]);
			json_object_set_new(
			    pmo, sfu_only[i],
			    json_pack("{s:s?}", "setup_future_usage", param_str(r, path)));
		}
		/* customer_balance: as the PaymentIntent the page makes keeps and shows it */
		const char *cash = NULL;
		if (cash_pmo_apply(r, &cash) != 0) {
			json_decref(pmo);
			json_decref(o);
			return -1;
		}
		if (cash)
			json_object_set_new(pmo, "customer_balance", json_loads(cash, 0, NULL));
		if (param_present(r, "payment_method_options.sepa_debit")) {
			json_t *sepa = json_pack(
			    "{s:s?}", "setup_future_usage",
			    param_str(r, "payment_method_options.sepa_debit.setup_future_usage"));
			if (sepa_prefix)
				json_object_set_new(
				    sepa, "mandate_options",
				    json_pack("{s:s}", "reference_prefix", sepa_prefix));
			json_object_set_new(pmo, "sepa_debit", sepa);
		}
		json_object_set_new(o, "payment_method_options", pmo);
	}
	if (pi_data_parse(r, s, o) != 0) {
		json_decref(o);
		return -1;
	}
	if (param_present(r, "setup_intent_data")) {
		/* the SetupIntent's, when the page makes it (not shown on the session) */
		const char *meta = "{}";
		const char *d = param_str(r, "setup_intent_data.description");
		if (metadata_apply(r, NULL, "setup_intent_data.metadata", &meta) != 0) {
			json_decref(o);
			return -1;
		}
		json_object_set_new(o, "setup_intent_data",
				    json_pack("{s:s?,s:o}", "description", d && *d ? d : NULL,
					      "metadata", json_loads(meta, 0, NULL)));
	}
	if (invoice_creation_parse(r, s, o) != 0) {
		json_decref(o);
		return -1;
	}
	json_object_set_new(o, "tax_id_collection",
			    json_pack("{s:b,s:s}", "enabled", tax_ids, "required",
				      tax_ids_req ? tax_ids_req : "never"));
	if (param_present(r, "consent_collection")) {
		const char *pr = param_str(r, "consent_collection.promotions");
		const char *pos =
		    param_str(r, "consent_collection.payment_method_reuse_agreement.position");
		json_object_set_new(o, "consent_collection",
				    json_pack("{s:o?,s:s?,s:s?}", "payment_method_reuse_agreement",
					      pos ? json_pack("{s:s}", "position", pos) : NULL,
					      "promotions", pr, "terms_of_service",
					      param_str(r, "consent_collection.terms_of_service")));
	} else {
		json_object_set_new(o, "consent_collection", json_null());
	}
	const char *bac = param_str(r, "billing_address_collection");
	json_object_set_new(o, "billing_address_collection", bac ? json_string(bac) : json_null());
	bool phone = false;
	param_bool(r, "phone_number_collection.enabled", &phone);
	json_object_set_new(o, "phone_number_collection", json_pack("{s:b}", "enabled", phone));
	json_object_set_new(o, "customer_creation", json_string(cc ? cc : "if_required"));
	json_t *cu = json_object();
	static const char *const cu_keys[] = {"address", "name", "shipping"};
	for (size_t i = 0; i < 3; i++) {
		const char *v =
		    param_str(r, arena_printf(&r->arena, "customer_update.%s", cu_keys[i]));
		json_object_set_new(cu, cu_keys[i], json_string(v ? v : "never"));
	}
	json_object_set_new(o, "customer_update", cu);
	const char *loc = param_str(r, "locale");
	json_object_set_new(o, "locale", loc ? json_string(loc) : json_null());
	json_t *ct = json_object();
	static const char *const ct_keys[] = {"after_submit", "shipping_address", "submit",
					      "terms_of_service_acceptance"};
	for (size_t i = 0; i < 4; i++) {
		const char *m =
		    param_str(r, arena_printf(&r->arena, "custom_text.%s.message", ct_keys[i]));
		json_object_set_new(ct, ct_keys[i],
				    m && *m ? json_pack("{s:s}", "message", m) : json_null());
	}
	json_object_set_new(o, "custom_text", ct);
	if (param_present(r, "after_expiration.recovery")) {
		bool en = false, promo = false;
		param_bool(r, "after_expiration.recovery.enabled", &en);
		param_bool(r, "after_expiration.recovery.allow_promotion_codes", &promo);
		/* url and expires_at: once the session expires (recovery_open) */
		json_object_set_new(o, "after_expiration",
				    json_pack("{s:{s:b,s:b,s:n,s:n}}", "recovery",
					      "allow_promotion_codes", promo, "enabled", en,
					      "expires_at", "url"));
	} else {
		json_object_set_new(o, "after_expiration", json_null());
	}
	char *t = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	s->collect = t ? arena_strdup(&r->arena, t) : NULL;
	free(t);
	if (!s->collect)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

static bool alnum_only(const char *v)
{
	for (; v && *v; v++)
		if (!((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') ||
		      (*v >= '0' && *v <= '9')))
			return false;
	return true;
}

static int64_t node_int(const struct form_node *n, const char *key, int64_t dflt, bool *ret_bad)
{
	const struct form_node *v = form_get(n, key);
	int64_t x = dflt;
	if (v && v->value && *v->value && parse_i64(v->value, &x) != 0)
		*ret_bad = true;
	return x;
}

static size_t utf8_chars(const char *v);

/* One custom field's definition (item idx of custom_fields) as the session shows it, value
 * null. NULL with r->err on a refusal. */
static json_t *custom_field_parse(struct req *r, const struct form_node *it, int idx, json_t *keys)
{
	char pp[64];
	const struct form_node *kn = form_get(it, "key"), *tn = form_get(it, "type");
	const struct form_node *ln = form_get(form_get(it, "label"), "custom");
	const char *key = kn ? kn->value : NULL, *type = tn ? tn->value : NULL;
	const char *label = ln ? ln->value : NULL;
	if (!key || !*key || !alnum_only(key)) {
		snprintf(pp, sizeof(pp), "custom_fields[%d][key]", idx);
		req_fail(r, ERR_PARAM_BAD, pp, "Invalid %s: letters and digits only.", pp);
		return NULL;
	}
	if (json_object_get(keys, key)) {
		snprintf(pp, sizeof(pp), "custom_fields[%d][key]", idx);
		req_fail(r, ERR_PARAM_BAD, pp, "Each custom field needs a key of its own.");
		return NULL;
	}
	json_object_set_new(keys, key, json_true());
	if (!type || !label) {
		snprintf(pp, sizeof(pp), "custom_fields[%d]", idx);
		req_fail(r, ERR_PARAM_MISSING, pp, "%s", pp);
		return NULL;
	}
	static const char *const kinds[] = {"dropdown", "numeric", "text"};
	for (size_t k = 0; k < 3; k++)
		if (strcmp(kinds[k], type) != 0 && form_get(it, kinds[k])) {
			snprintf(pp, sizeof(pp), "custom_fields[%d][%s]", idx, kinds[k]);
			req_fail(r, ERR_PARAM_BAD, pp, "%s is only for a field of type `%s`.", pp,
				 kinds[k]);
			return NULL;
		}
	const struct form_node *on = form_get(it, "optional");
	bool optional = on && on->value && strcmp(on->value, "true") == 0;
	json_t *f = json_pack("{s:s,s:{s:s,s:s},s:b,s:s,s:n,s:n,s:n}", "key", key, "label",
			      "custom", label, "type", "custom", "optional", optional, "type", type,
			      "dropdown", "numeric", "text");
	if (!f) {
		req_fail(r, ERR_API, NULL, NULL);
		return NULL;
	}
	if (strcmp(type, "dropdown") == 0) {
		const struct form_node *opts = form_get(form_get(it, "dropdown"), "options");
		json_t *arr = json_array(), *seen = json_object();
		bool bad = false;
		for (const struct form_node *o = opts ? opts->first_child : NULL; o && !bad;
		     o = o->next) {
			const struct form_node *ol = form_get(o, "label"),
					       *ov = form_get(o, "value");
			const char *v = ov ? ov->value : NULL;
			bad = !v || !*v || !alnum_only(v) || json_object_get(seen, v) || !ol ||
			      !ol->value;
			if (!bad) {
				json_object_set_new(seen, v, json_true());
				json_array_append_new(
				    arr, json_pack("{s:s,s:s}", "label", ol->value, "value", v));
			}
		}
		json_decref(seen);
		/* default_value: one of the options (the page preselects it) */
		const struct form_node *dn = form_get(form_get(it, "dropdown"), "default_value");
		const char *dv = dn && dn->value && *dn->value ? dn->value : NULL;
		bool dv_found = !dv;
		size_t di;
		json_t *dopt;
		json_array_foreach(arr, di, dopt)
		{
			const char *ov = json_string_value(json_object_get(dopt, "value"));
			dv_found = dv_found || (ov && strcmp(ov, dv) == 0);
		}
		if (!bad && json_array_size(arr) > 0 && !dv_found) {
			json_decref(arr);
			json_decref(f);
			snprintf(pp, sizeof(pp), "custom_fields[%d][dropdown][default_value]", idx);
			req_fail(r, ERR_PARAM_BAD, pp,
				 "Invalid %s: it must be the value of one of the options.", pp);
			return NULL;
		}
		if (bad || json_array_size(arr) == 0) {
			json_decref(arr);
			json_decref(f);
			snprintf(pp, sizeof(pp), "custom_fields[%d][dropdown][options]", idx);
			req_fail(r, ERR_PARAM_BAD, pp,
				 "Invalid %s: 1 to %d options, each value letters and digits only "
				 "and different from the others.",
				 pp, CF_OPTIONS_MAX);
			return NULL;
		}
		json_object_set_new(
		    f, "dropdown",
		    json_pack("{s:s?,s:o,s:n}", "default_value", dv, "options", arr, "value"));
		return f;
	}
	const struct form_node *ln2 = form_get(it, type);
	bool bad = false;
	int64_t mn = node_int(ln2, "minimum_length", 0, &bad);
	int64_t mx = node_int(ln2, "maximum_length", CF_LENGTH_MAX, &bad);
	if (bad || mn < 0 || mx < 1 || mx > CF_LENGTH_MAX || mn > mx) {
		json_decref(f);
		snprintf(pp, sizeof(pp), "custom_fields[%d][%s]", idx, type);
		req_fail(r, ERR_PARAM_BAD, pp,
			 "Invalid %s: minimum_length and maximum_length are from 1 to %d, the "
			 "minimum not above the maximum.",
			 pp, CF_LENGTH_MAX);
		return NULL;
	}
	/* default_value: prefilled on the page, so it must pass the page's checks */
	const struct form_node *dn = form_get(ln2, "default_value");
	const char *dv = dn && dn->value && *dn->value ? dn->value : NULL;
	bool dv_digits = true;
	for (const char *c = dv; c && *c; c++)
		dv_digits = dv_digits && *c >= '0' && *c <= '9';
	if (dv && (utf8_chars(dv) > (size_t)mx || (strcmp(type, "numeric") == 0 && !dv_digits))) {
		json_decref(f);
		snprintf(pp, sizeof(pp), "custom_fields[%d][%s][default_value]", idx, type);
		req_fail(r, ERR_PARAM_BAD, pp, "Invalid %s: at most maximum_length characters%s.",
			 pp, strcmp(type, "numeric") == 0 ? ", digits only" : "");
		return NULL;
	}
	json_t *lim = json_object();
	json_object_set_new(lim, "default_value", dv ? json_string(dv) : json_null());
	json_object_set_new(lim, "maximum_length",
			    form_get(ln2, "maximum_length") ? json_integer(mx) : json_null());
	json_object_set_new(lim, "minimum_length",
			    form_get(ln2, "minimum_length") ? json_integer(mn) : json_null());
	json_object_set_new(lim, "value", json_null());
	json_object_set_new(f, type, lim);
	return f;
}

/* custom_fields (at most 3, as on Stripe) into s->custom_fields. 0, or -1 with r->err. */
static int custom_fields_parse(struct req *r, struct session *s)
{
	const struct form_node *n = param_node(r, "custom_fields");
	s->custom_fields = NULL;
	if (!n || n->kind == FORM_SCALAR)
		return 0;
	json_t *arr = json_array(), *keys = json_object();
	int idx = 0, rc = 0;
	for (const struct form_node *it = n->first_child; it && rc == 0; it = it->next, idx++) {
		json_t *f = idx < CUSTOM_FIELDS_MAX ? custom_field_parse(r, it, idx, keys) : NULL;
		if (!f && idx >= CUSTOM_FIELDS_MAX)
			req_fail(r, ERR_PARAM_BAD, "custom_fields",
				 "A session takes at most %d custom fields.", CUSTOM_FIELDS_MAX);
		if (!f)
			rc = -1;
		else
			json_array_append_new(arr, f);
	}
	json_decref(keys);
	char *t = rc == 0 ? json_dumps(arr, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(arr);
	if (rc == 0) {
		s->custom_fields = t ? arena_strdup(&r->arena, t) : NULL;
		if (!s->custom_fields)
			rc = req_fail(r, ERR_API, NULL, NULL);
	}
	free(t);
	return rc;
}

static bool http_url(const char *u)
{
	return u && (strncmp(u, "https://", 8) == 0 || strncmp(u, "http://", 7) == 0);
}

struct create_ctx {
	struct req *r;
	struct session s;
	const char *want_currency;
	const char *items_param;
	struct discount_spec spec;
};

/* Tender's post-payment invoice takes no taxes: not automatic tax with invoice_creation (a
 * session's, or a payment link's as created or updated). 0, or -1 with r->err. */
static int auto_tax_invoice_check(struct req *r, const struct session *s)
{
	if (s->automatic_tax && collect_str(&r->arena, s, "invoice_creation", "enabled"))
		return req_fail(r, ERR_PARAM_BAD, "invoice_creation[enabled]",
				"Tender does not make post-payment invoices together with "
				"automatic tax.");
	return 0;
}

/* automatic_tax[enabled, liability] of create onto s: not in setup mode, the liability the
 * merchant's own (Tender has no Connect tax liability), not with invoice_creation (Tender's
 * post-payment invoice takes no taxes). 0, or -1 with r->err. */
static int auto_tax_parse(struct req *r, struct session *s)
{
	s->automatic_tax = false;
	param_bool(r, "automatic_tax.enabled", &s->automatic_tax);
	if (!s->automatic_tax)
		return 0;
	if (strcmp(s->mode, "setup") == 0)
		return req_fail(r, ERR_PARAM_BAD, "automatic_tax[enabled]",
				"Automatic tax is not available in `setup` mode.");
	const char *lt = param_str(r, "automatic_tax.liability.type");
	if (lt && strcmp(lt, "self") != 0)
		return req_fail(r, ERR_PARAM_BAD, "automatic_tax[liability][type]",
				"Tender takes tax liability `self` only (the merchant's own).");
	return auto_tax_invoice_check(r, s);
}

/* Inside create's write, its items priced: automatic tax with no line's own tax_rates or
 * dynamic_tax_rates (400, as Stripe), the merchant's tax settings giving a tax behavior, and,
 * for a customer whose own address is the tax place, that address locating it (Stripe's 400).
 * 0, or -1 with r->err. */
static int auto_tax_check(struct req *r, struct db *db, const struct session *s)
{
	json_t *items = json_loads(s->line_items, 0, NULL);
	bool rates = false;
	size_t i;
	json_t *it;
	json_array_foreach(items, i, it) rates =
	    rates || json_object_get(it, "tax_rates") || json_object_get(it, "dynamic_tax_rates");
	json_decref(items);
	if (rates)
		return req_fail(r, ERR_PARAM_BAD, "automatic_tax[enabled]",
				"You cannot use tax rates (tax_rates or dynamic_tax_rates) on "
				"line items together with automatic tax.");
	struct tax_context ctx;
	bool located = false;
	const char *behavior = NULL;
	bool by_customer = auto_tax_by_customer(r, s);
	if (invoice_auto_tax_place_at(r, db, by_customer ? s->customer : NULL, NULL, r->now, &ctx,
				      &located, &behavior) != 0)
		return -1;
	if (!behavior || !*behavior)
		return req_fail(r, ERR_PARAM_BAD, "automatic_tax[enabled]",
				"A tax behavior must be specified on the price or as a default in "
				"the tax settings (defaults[tax_behavior]) to use automatic tax.");
	if (by_customer && !located)
		return req_fail(
		    r, ERR_PARAM_BAD, "customer_update[address]",
		    "Automatic tax calculation in Checkout requires a valid address on "
		    "the Customer. Add a valid address to the Customer or set either "
		    "`customer_update[address]` to 'auto' or `customer_update[shipping]` "
		    "to 'auto' to save the address entered in Checkout.");
	return 0;
}

static int cash_type_check(struct req *r, const struct session *s);

static int create_fn(struct db *db, void *arg)
{
	struct create_ctx *c = arg;
	struct req *r = c->r;
	struct session *s = &c->s;
	if (s->customer && customer_check(r, db, s->customer) != 0)
		return -1;
	/* invoice_creation[invoice_data][account_tax_ids]: the merchant's own tax ids */
	const char *atx = NULL;
	if (param_present(r, "invoice_creation.invoice_data.account_tax_ids") &&
	    tax_ids_account_param(r, db, "invoice_creation.invoice_data.account_tax_ids",
				  "invoice_creation[invoice_data][account_tax_ids]", &atx) != 0)
		return -1;
	bool sub = strcmp(s->mode, "subscription") == 0;
	if ((sub || strcmp(s->mode, "payment") == 0) &&
	    checkout_price_items(r, db, "line_items", c->want_currency, sub, &s->line_items,
				 &s->amount_total, s->currency) != 0)
		return -1;
	if (s->automatic_tax && auto_tax_check(r, db, s) != 0)
		return -1;
	if (pm_types_check_currency(r, pm_types_from_json(s->pm_types, PMT_CARD), s->currency,
				    "payment_method_types") != 0)
		return -1;
	if (takes_type(s, "customer_balance") && cash_type_check(r, s) != 0)
		return -1;
	/* the first invoice is what is due now: nothing, during a trial */
	if (sub && s->sub_trial_days > 0)
		s->amount_total = 0;
	/* only metered prices: nothing due now either (usage is billed later) */
	if (sub && s->amount_total == 0)
		s->payment_status = "no_payment_required";
	s->amount_subtotal = s->amount_total;
	if (shipping_resolve(r, db, s) != 0)
		return -1;
	if (!c->spec.n && session_discounted(r, db, s, NULL) != 0)
		return -1;
	if (c->spec.n) {
		/* its discount, checked as a subscription's or an invoice's would be, and priced */
		struct discount *d = arena_alloc(&r->arena, DISCOUNTS_MAX * sizeof(*d));
		int n = 0;
		if (!d || discounts_resolve(r, db, &c->spec, s->customer, s->currency,
					    s->amount_subtotal, NULL, r->now, d, &n) != 0)
			return d ? -1 : req_fail(r, ERR_API, NULL, NULL);
		s->discount_coupon = arena_strdup(&r->arena, d->coupon.id);
		s->discount_promotion_code = d->promotion_code[0] ? d->promotion_code : NULL;
		if (session_discounted(r, db, s, d) != 0)
			return -1;
		/* a payment must still be one the card networks take (Tender makes no free
		 * payment-mode sessions); a subscription's first invoice may be free */
		if (!sub && payments_check_minimum_db(r, db, s->amount_total, s->currency,
						      "discounts", "discounts") != 0)
			return -1;
		if (sub && s->amount_total == 0)
			s->payment_status = "no_payment_required";
	}
	if (!sub && checkout_bnpl_check_amount(r, pm_types_from_json(s->pm_types, PMT_CARD),
					       s->amount_total, s->currency, "line_items") != 0)
		return -1;
	struct payment_connect conn;
	if (!sub && session_connect(r, s, -1, &conn) && session_connect_check(r, db, s, &conn) != 0)
		return -1;
	if (session_insert(r, db, s) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	session_render(r, db, r->merchant_id, s, "", req_json(r));
	return 0;
}

int checkout_bnpl_check_amount(struct req *r, unsigned types, int64_t amount, const char *currency,
			       const char *param)
{
	unsigned hidden = 0;
	for (unsigned b = 1; b && b <= (types & PMT_BNPL); b <<= 1) {
		int64_t min, max;
		if ((types & PMT_BNPL & b) &&
		    redirect_bnpl_limits(pm_type_name(b), currency, &min, &max) &&
		    (amount < min || amount > max))
			hidden |= b;
	}
	if (!hidden || (types & ~hidden))
		return 0; /* another type is offered: the page hides the lender's form */
	/* the lender's own message (api/redirect_page.c's, for an intent) */
	unsigned first = hidden & (~hidden + 1u);
	int64_t min = 0, max = 0;
	redirect_bnpl_limits(pm_type_name(first), currency, &min, &max);
	return req_fail(r, amount < min ? ERR_AMOUNT_TOO_SMALL : ERR_AMOUNT_TOO_LARGE, param,
			"Amount must be between %lld.%02lld and %lld.%02lld %s for %s payments.",
			(long long)(min / 100), (long long)(min % 100), (long long)(max / 100),
			(long long)(max % 100), currency, pm_type_name(first));
}

/* Whether the page offers buy-now-pay-later type to s: taken, and its total within the
 * lender's limits (Stripe hides a method the amount does not fit). */
static bool bnpl_offered(const struct session *s, const char *type)
{
	int64_t min, max;
	return takes_type(s, type) && !(redirect_bnpl_limits(type, s->currency, &min, &max) &&
					(s->amount_total < min || s->amount_total > max));
}

int checkout_debit_refusals(struct req *r, const char *debit)
{
	static const char *const refused[] = {"custom_fields",	    "phone_number_collection",
					      "consent_collection", "tax_id_collection",
					      "invoice_creation",   "billing_address_collection"};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		if (!param_present(r, refused[i]))
			continue;
		const char *v = param_str(r, refused[i]);
		if (v && strcmp(v, "auto") == 0)
			continue; /* billing_address_collection=auto: nothing asked */
		return req_fail(r, ERR_PARAM_BAD, refused[i],
				"Tender's checkout page does not take `%s` with %s.", refused[i],
				debit);
	}
	return 0;
}

/* payment_method_types: card, sepa_debit, us_bank_account, ideal, bancontact, affirm,
 * afterpay_clearpay and klarna (mode=payment; mode=subscription card, sepa_debit,
 * us_bank_account, ideal and bancontact; mode=setup the same, with a currency). A session
 * that takes a bank debit, a bank redirect or a lender records the list; one of cards only keeps
 * NULL (Stripe's default). What the debit and redirect forms of the page do not ask for (custom
 * fields, phone, consent, tax ids, a full billing address; shipping, except from a lender's form,
 * which asks for it) and what such a payment cannot do (a manual capture, except by a lender; an
 * invoice marked paid before the bank answers; an iDEAL or Bancontact account saved for on-session
 * use; a lender's payment saved at all) is refused with it. */
static int pm_types_parse(struct req *r, struct session *s)
{
	unsigned types = PMT_CARD;
	if (pm_types_param(r, "payment_method_types", "payment_method_types",
			   PMT_CARD | PMT_SEPA_DEBIT | PMT_US_BANK_ACCOUNT | PMT_IDEAL |
			       PMT_BANCONTACT | PMT_BNPL | PMT_CUSTOMER_BALANCE,
			   "Tender's Checkout supports", false, &types) < 0)
		return -1;
	s->pm_types = NULL;
	unsigned debits = types & (PMT_SEPA_DEBIT | PMT_US_BANK_ACCOUNT | PMT_IDEAL |
				   PMT_BANCONTACT | PMT_BNPL | PMT_CUSTOMER_BALANCE);
	if (!debits)
		return 0;
	/* a bank transfer is paid from a customer's cash balance (Stripe: a customer is
	 * required), into the virtual account payment_method_options[customer_balance] names */
	const char *cc = param_str(r, "customer_creation");
	if ((types & PMT_CUSTOMER_BALANCE) && strcmp(s->mode, "payment") == 0) {
		if (!param_present(r, "customer") && !(cc && strcmp(cc, "always") == 0))
			return req_fail(r, ERR_PARAM_MISSING, "customer",
					"customer_balance requires a `customer`, or "
					"`customer_creation=always`.");
		if (!param_present(r, "payment_method_options.customer_balance.funding_type"))
			return req_fail(r, ERR_PARAM_MISSING,
					"payment_method_options[customer_balance][funding_type]",
					"payment_method_options[customer_balance][funding_type] is "
					"required with the payment method type customer_balance.");
	}
	const char *debit = pm_type_name(debits & (~debits + 1u)); /* the first, for messages */
	/* a subscription's first invoice is debited off session under the multi-use mandate the
	 * page's SEPA or ACH form collects (subscribe; an ACH account typed on the page is
	 * unverified, so that invoice's intent first waits for its microdeposits, as on Stripe).
	 * Setup mode saves either bank account through its SetupIntent (setup_intents_checkout),
	 * and the account an iDEAL or Bancontact bank reports (a generated sepa_debit), which in
	 * subscription mode then pays as the SEPA form's does (sub_bank); a lender pays once,
	 * nothing to save. */
	bool setup = strcmp(s->mode, "setup") == 0;
	bool sub = strcmp(s->mode, "subscription") == 0;
	/* a bank transfer (customer_balance) pays once, in payment mode: Stripe's subscriptions
	 * paid by bank transfer are send_invoice ones, which Checkout does not make */
	unsigned modal =
	    sub || setup
		? debits & ~(PMT_SEPA_DEBIT | PMT_US_BANK_ACCOUNT | PMT_IDEAL | PMT_BANCONTACT)
		: debits;
	if (strcmp(s->mode, "payment") != 0 && modal)
		return req_fail(r, ERR_PARAM_BAD, "payment_method_types",
				"Tender takes %s in `payment` mode only.",
				pm_type_name(modal & (~modal + 1u)));
	/* a trial charges nothing now: Stripe would verify the ACH account by a SetupIntent of
	 * the subscription (pending_setup_intent), which Tender makes only for the API's
	 * default_incomplete subscriptions, not Checkout's */
	if (sub && (debits & PMT_US_BANK_ACCOUNT) && s->sub_trial_days > 0)
		return req_fail(r, ERR_PARAM_BAD, "subscription_data[trial_period_days]",
				"Tender's Checkout takes us_bank_account in `subscription` mode "
				"only when the first invoice is paid now (no trial): the account "
				"is verified by that payment's microdeposits.");
	/* as on Stripe, a setup session saving a bank account names the currency its debits will
	 * be in (sepa_debit: eur; us_bank_account: usd; create_fn checks it against the types) */
	if (setup && !param_present(r, "currency"))
		return req_fail(r, ERR_PARAM_MISSING, "currency",
				"`currency` is required in `setup` mode with the payment method "
				"type %s.",
				debit);
	/* a lender's form asks for the shipping address (the card form's fields); a bank's not */
	unsigned banks = debits & ~PMT_BNPL;
	for (size_t i = 0; banks && i < 2; i++) {
		const char *k = i ? "shipping_options" : "shipping_address_collection";
		if (param_present(r, k))
			return req_fail(r, ERR_PARAM_BAD, k,
					"Tender's checkout page does not take `%s` with %s.", k,
					pm_type_name(banks & (~banks + 1u)));
	}
	if (checkout_debit_refusals(r, debit) != 0)
		return -1;
	if (pm_types_check_manual(r, types, param_str(r, "payment_intent_data.capture_method"),
				  "payment_intent_data[capture_method]", true) != 0)
		return -1;
	/* Stripe saves an iDEAL or Bancontact payment's account (a generated sepa_debit
	 * PaymentMethod) for off-session payments only */
	unsigned redirects = types & (PMT_IDEAL | PMT_BANCONTACT);
	const char *sfu = param_str(r, "payment_intent_data.setup_future_usage");
	/* a type's own payment_method_options[…][setup_future_usage]=none keeps it off that
	 * type's payment */
	if ((redirects & PMT_IDEAL) &&
	    param_str(r, "payment_method_options.ideal.setup_future_usage"))
		redirects &= ~(unsigned)PMT_IDEAL;
	if ((redirects & PMT_BANCONTACT) &&
	    param_str(r, "payment_method_options.bancontact.setup_future_usage"))
		redirects &= ~(unsigned)PMT_BANCONTACT;
	if (redirects && sfu && strcmp(sfu, "on_session") == 0)
		return req_fail(r, ERR_PARAM_BAD, "payment_intent_data[setup_future_usage]",
				"The payment method type %s does not support "
				"setup_future_usage=on_session: use off_session.",
				pm_type_name(redirects & (~redirects + 1u)));
	/* a lender's payment is not saved (its payment_method_options[setup_future_usage] is
	 * `none` only): payment_intent_data's needs each lender's own `none` over it */
	for (unsigned b = 1; sfu && b && b <= (types & PMT_BNPL); b <<= 1) {
		if (!(types & PMT_BNPL & b))
			continue;
		char path[64];
		snprintf(path, sizeof(path), "payment_method_options.%s.setup_future_usage",
			 pm_type_name(b));
		if (!param_str(r, path))
			return req_fail(r, ERR_PARAM_BAD, "payment_intent_data[setup_future_usage]",
					"The payment method type %s does not support "
					"setup_future_usage: set "
					"payment_method_options[%s][setup_future_usage]=none.",
					pm_type_name(b), pm_type_name(b));
	}
	s->pm_types = pm_types_arena_json(r, types);
	return s->pm_types ? 0 : -1;
}

/* A session taking bank transfers: payment_method_options[customer_balance][bank_transfer]
 * [type] names a transfer in the session's currency (the customer's virtual account the
 * instructions name). 0, or -1 with r->err. */
static int cash_type_check(struct req *r, const struct session *s)
{
	json_t *c = s->collect ? json_loads(s->collect, 0, NULL) : NULL;
	json_t *bt = json_object_get(
	    json_object_get(json_object_get(c, "payment_method_options"), "customer_balance"),
	    "bank_transfer");
	const struct bank_transfer_type *t =
	    bank_transfer_type_find(json_string_value(json_object_get(bt, "type")));
	json_decref(c);
	if (!t)
		return req_fail(r, ERR_PARAM_MISSING,
				"payment_method_options[customer_balance][bank_transfer][type]",
				"payment_method_options[customer_balance][bank_transfer][type] is "
				"required with the payment method type customer_balance.");
	if (strcmp(t->currency, s->currency) != 0)
		return req_fail(r, ERR_PARAM_BAD,
				"payment_method_options[customer_balance][bank_transfer][type]",
				"A %s takes %s: this session is in %s.", t->name, t->currency,
				s->currency);
	return 0;
}

/* subscription_data[trial_period_days, metadata, description] (mode=subscription; a payment
 * link's of recurring prices too) onto s. 0, or -1 with r->err. */
static int sub_data_parse(struct req *r, struct session *s)
{
	int64_t days = 0;
	if (param_int(r, "subscription_data.trial_period_days", &days) == 1 &&
	    (days < 1 || days > TRIAL_DAYS_MAX))
		return req_fail(r, ERR_PARAM_BAD, "subscription_data[trial_period_days]",
				"subscription_data[trial_period_days] must be between 1 and %d.",
				TRIAL_DAYS_MAX);
	s->sub_trial_days = days;
	s->sub_metadata = "{}";
	if (metadata_apply(r, NULL, "subscription_data.metadata", &s->sub_metadata) != 0)
		return -1;
	const char *d = param_str(r, "subscription_data.description");
	s->sub_description = d && *d ? d : NULL;
	return 0;
}

int checkout_sub_data_parse(struct req *r, struct checkout_link_sub *ret)
{
	struct session s;
	memset(&s, 0, sizeof(s));
	s.mode = "subscription";
	if (sub_data_parse(r, &s) != 0)
		return -1;
	ret->trial_days = s.sub_trial_days;
	ret->metadata = s.sub_metadata;
	ret->description = s.sub_description;
	return 0;
}

/* ---- ui_mode ----
 *
 * hosted (hosted_page): Checkout's hosted page at `url`, then success_url (required) or
 * cancel_url, as before. embedded (embedded_page) and custom (elements): the merchant's own page
 * shows the session through Stripe.js with its client_secret (url null; success_url and
 * cancel_url refused, return_url instead), and retrieves it on the return page. Tender has no
 * Stripe.js: its stand-in for initEmbeddedCheckout / initCheckout is the same hosted page at
 * /checkout/{acct}/{client_secret}, which only that secret opens (page_key_ok), and which after
 * the payment goes to return_url as redirect_on_completion says (completed). Stripe's rules for
 * these modes (its API reference): return_url is required unless redirect_on_completion=never,
 * which refuses it and the payment methods that leave the page (iDEAL, Bancontact, the
 * lenders); redirect_on_completion is embedded's only; custom refuses custom_fields,
 * custom_text, after_expiration, submit_type and tax_id_collection[required]. Tender also
 * refuses after_expiration for embedded: the recovery URL opens a hosted page, which an
 * embedded session's merchant does not serve. */
static int ui_mode_parse(struct req *r, struct session *s)
{
	const char *ui = param_str(r, "ui_mode");
	if (!ui) {
		/* Stripe's default, named hosted_page from API version 2026-03-25 on */
		ui = api_version_from(r, "2026-03-25") ? "hosted_page" : "hosted";
	}
	s->ui_mode = ui;
	s->success_url = param_str(r, "success_url");
	s->cancel_url = param_str(r, "cancel_url");
	if (!ui_client(ui)) {
		static const char *const client_only[] = {"return_url", "redirect_on_completion"};
		for (size_t i = 0; i < 2; i++)
			if (param_present(r, client_only[i]))
				return req_fail(r, ERR_PARAM_BAD, client_only[i],
						"`%s` can only be used with `ui_mode` `embedded` "
						"or `custom`; this session's is `%s`.",
						client_only[i], ui);
		if (!s->success_url)
			return req_fail(r, ERR_PARAM_MISSING, "success_url", "%s", "success_url");
		if (!http_url(s->success_url))
			return req_fail(
			    r, ERR_URL_INVALID, "success_url",
			    "Invalid URL: success_url must be an absolute http(s) URL.");
		if (s->cancel_url && !http_url(s->cancel_url))
			return req_fail(r, ERR_URL_INVALID, "cancel_url",
					"Invalid URL: cancel_url must be an absolute http(s) URL.");
		return 0;
	}
	static const char *const hosted_only[] = {"success_url", "cancel_url"};
	for (size_t i = 0; i < 2; i++)
		if (param_present(r, hosted_only[i]))
			return req_fail(
			    r, ERR_PARAM_BAD, hosted_only[i],
			    "`%s` cannot be used with `ui_mode` `%s`: use `return_url`.",
			    hosted_only[i], ui);
	bool custom = ui_custom(ui);
	static const char *const not_custom[] = {"custom_fields", "custom_text", "submit_type",
						 "redirect_on_completion",
						 "tax_id_collection.required"};
	static const char *const shown[] = {"custom_fields", "custom_text", "submit_type",
					    "redirect_on_completion",
					    "tax_id_collection[required]"};
	for (size_t i = 0; custom && i < sizeof(not_custom) / sizeof(not_custom[0]); i++)
		if (param_present(r, not_custom[i]))
			return req_fail(r, ERR_PARAM_BAD, shown[i],
					"You can't set `%s` if `ui_mode` is `%s`.", shown[i], ui);
	if (param_present(r, "after_expiration"))
		return req_fail(
		    r, ERR_PARAM_BAD, "after_expiration",
		    custom ? "You can't set `after_expiration` if `ui_mode` is `%s`."
			   : "Tender's recovery URL opens its hosted page: "
			     "`after_expiration` is for `ui_mode` `hosted` only, not `%s`.",
		    ui);
	const char *roc = param_str(r, "redirect_on_completion");
	s->redirect_on_completion = custom ? NULL : roc ? roc : "always";
	s->return_url = param_str(r, "return_url");
	if (roc && strcmp(roc, "never") == 0) {
		if (s->return_url)
			return req_fail(r, ERR_PARAM_BAD, "return_url",
					"`return_url` cannot be set when `redirect_on_completion` "
					"is `never`.");
		unsigned redir = pm_types_from_json(s->pm_types, PMT_CARD) & PMT_REDIRECT;
		if (redir)
			return req_fail(r, ERR_PARAM_BAD, "payment_method_types",
					"`%s` needs a redirect, which `redirect_on_completion` "
					"`never` does not allow.",
					pm_type_name(redir & (~redir + 1u)));
		return 0;
	}
	if (!s->return_url)
		return req_fail(r, ERR_PARAM_MISSING, "return_url", "%s", "return_url");
	if (!http_url(s->return_url))
		return req_fail(r, ERR_URL_INVALID, "return_url",
				"Invalid URL: return_url must be an absolute http(s) URL.");
	return 0;
}

static int h_create(struct req *r)
{
	struct create_ctx c = {.r = r};
	struct session *s = &c.s;
	id_new_at(s->id, "cs_test_", r->now);
	s->created = r->now;
	s->expires_at = r->now + EXPIRES_MAX;
	int64_t exp;
	if (param_int(r, "expires_at", &exp) == 1) {
		if (exp < r->now + EXPIRES_MIN || exp > r->now + EXPIRES_MAX)
			return req_fail(r, ERR_PARAM_BAD, "expires_at",
					"The `expires_at` timestamp must be between 30 minutes and "
					"24 hours from now.");
		s->expires_at = exp;
	}
	s->status = "open";
	s->mode = param_str(r, "mode");
	s->payment_status = "unpaid";
	if (strcmp(s->mode, "setup") == 0) {
		/* a card saved for later: nothing to price or pay */
		if (param_present(r, "line_items"))
			return req_fail(r, ERR_PARAM_BAD, "line_items",
					"You cannot pass `line_items` in `setup` mode.");
		if (param_present(r, "payment_intent_data") || param_present(r, "submit_type"))
			return req_fail(r, ERR_PARAM_BAD,
					param_present(r, "submit_type") ? "submit_type"
									: "payment_intent_data",
					"This parameter is only for `payment` mode.");
		s->payment_status = "no_payment_required";
		s->line_items = "[]";
		if (param_present(r, "currency") &&
		    param_currency(r, "currency", NULL, s->currency) != 0)
			return -1;
	} else if (!param_present(r, "line_items")) {
		return req_fail(r, ERR_PARAM_MISSING, "line_items", "%s", "line_items");
	}
	if (strcmp(s->mode, "subscription") == 0) {
		/* the buyer subscribes: no one-off payment's settings */
		if (param_present(r, "payment_intent_data") || param_present(r, "submit_type"))
			return req_fail(r, ERR_PARAM_BAD,
					param_present(r, "submit_type") ? "submit_type"
									: "payment_intent_data",
					"This parameter is only for `payment` mode.");
		bool flexible;
		if (sub_data_parse(r, s) != 0 ||
		    subscription_billing_mode_param_pd(r, "subscription_data.billing_mode",
						       "subscription_data[billing_mode]", &flexible,
						       &s->sub_pd) != 0)
			return -1;
		/* the subscription is made when the buyer pays, in a request of the page's that
		 * carries no API version: the mode is the create's */
		s->sub_billing_mode = flexible ? "flexible" : "classic";
		if (s->sub_trial_days > 0)
			s->payment_status = "no_payment_required";
	} else if (param_present(r, "subscription_data")) {
		return req_fail(r, ERR_PARAM_BAD, "subscription_data",
				"You can only pass `subscription_data` in `subscription` mode.");
	}
	if (pm_types_parse(r, s) != 0 || ui_mode_parse(r, s) != 0)
		return -1;
	const char *pmc = param_str(r, "payment_method_configuration");
	if (pmc && *pmc && payment_method_configuration_known(r, pmc) != 0)
		return -1;
	const char *cus = param_str(r, "customer");
	s->customer = cus && *cus ? cus : NULL;
	s->customer_email = param_str(r, "customer_email");
	if (s->customer && s->customer_email)
		return req_fail(r, ERR_PARAM_BAD, "customer_email",
				"You may only specify one of these parameters: customer, "
				"customer_email.");
	s->client_reference_id = param_str(r, "client_reference_id");
	s->pi_capture_method = param_str(r, "payment_intent_data.capture_method");
	s->pi_description = param_str(r, "payment_intent_data.description");
	const char *st = param_str(r, "submit_type");
	s->submit_type = st ? st : "auto";
	s->metadata = "{}";
	if (metadata_apply(r, NULL, "metadata", &s->metadata) != 0)
		return -1;
	if (discount_spec_parse(r, "discounts", false, &c.spec) != 0)
		return -1;
	param_bool(r, "allow_promotion_codes", &s->allow_promotion_codes);
	if (c.spec.present && s->allow_promotion_codes)
		return req_fail(r, ERR_PARAM_BAD, "allow_promotion_codes",
				"You may only specify one of these parameters: "
				"allow_promotion_codes, discounts.");
	if ((c.spec.present || s->allow_promotion_codes) && strcmp(s->mode, "setup") == 0)
		return req_fail(r, ERR_PARAM_BAD,
				c.spec.present ? "discounts" : "allow_promotion_codes",
				"Discounts do not apply in `setup` mode.");
	if (shipping_countries_parse(r, s) != 0)
		return -1;
	if (collect_parse(r, s) != 0 || custom_fields_parse(r, s) != 0)
		return -1;
	if (auto_tax_parse(r, s) != 0)
		return -1;
	c.want_currency = param_str(r, "currency");
	return req_write(r, create_fn, &c);
}

/* The link's settings checked as its sessions' own (collect_parse, custom_fields_parse and the
 * rules between them), on a session standing for each payment's: its mode (subscription for a
 * link of recurring prices), the link's shipping, promotion codes, automatic tax and types. An
 * update keeps what the request does not name (in->collect, in->custom_fields) and takes what
 * it does. */
int checkout_link_settings(struct req *r, const struct checkout_link_in *in, const char **collect,
			   const char **custom_fields)
{
	struct session s;
	memset(&s, 0, sizeof(s));
	s.mode = in->sub ? "subscription" : "payment";
	s.shipping_countries = in->ship ? in->ship->countries : NULL;
	s.shipping_options = in->ship ? in->ship->options : NULL;
	s.allow_promotion_codes = in->allow_promotion_codes;
	s.automatic_tax = in->automatic_tax;
	s.pm_types = in->pm_types;
	s.collect = in->collect; /* what custom_text is checked against (consent_collection) */
	if (collect_parse(r, &s) != 0 || custom_fields_parse(r, &s) != 0)
		return -1;
	*custom_fields = param_present(r, "custom_fields") ? s.custom_fields : in->custom_fields;
	*collect = s.collect;
	if (in->collect && s.collect) {
		/* an update: the settings it names over those the link has */
		static const char *const keys[] = {"billing_address_collection", "custom_text",
						   "customer_creation", "invoice_creation",
						   "payment_method_collection"};
		json_t *have = json_loads(in->collect, 0, NULL),
		       *now = json_loads(s.collect, 0, NULL);
		for (size_t i = 0; have && now && i < sizeof(keys) / sizeof(keys[0]); i++)
			if (param_present(r, keys[i]))
				json_object_set(have, keys[i], json_object_get(now, keys[i]));
		char *t = have && now ? json_dumps(have, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		json_decref(have);
		json_decref(now);
		*collect = t ? arena_strdup(&r->arena, t) : NULL;
		free(t);
		if (!*collect)
			return req_fail(r, ERR_API, NULL, NULL);
	} else if (!s.collect) {
		*collect = in->collect;
	}
	/* the link as it now stands, held to a session's rules between its settings (an update
	 * may have turned on what an invoice_creation it keeps is not taken with) */
	s.collect = *collect;
	if (auto_tax_invoice_check(r, &s) != 0)
		return -1;
	if (collect_str(&r->arena, &s, "invoice_creation", "enabled") &&
	    (s.allow_promotion_codes || s.shipping_options))
		return invoice_creation_refused(r, param_present(r, "invoice_creation")
						       ? "invoice_creation[enabled]"
						       : "allow_promotion_codes");
	return 0;
}

int checkout_session_for_link(struct req *r, struct db *db, const char *link_id,
			      const char *items_json, int64_t amount_total, const char *currency,
			      const char *success_url, const char *confirmation_message,
			      const char *pi_capture_method, const char *pi_description,
			      const char *submit_type, const struct checkout_shipping *ship,
			      bool automatic_tax, bool allow_promotion_codes, const char *pm_types,
			      const char *collect, const char *custom_fields,
			      const struct checkout_link_sub *sub, const char *nonce,
			      char ret_id[ID_MAX])
{
	if (nonce) {
		/* the same form posted again: its session, not a second one */
		struct db_stmt *st = db_prepare(db, SQL_BY_NONCE);
		if (!st)
			return DB_ERR;
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, nonce, -1);
		int rc = db_step(st);
		if (rc == DB_ROW)
			str_copy(ret_id, ID_MAX, db_col_text(st, 0, NULL));
		db_reset(st);
		if (rc == DB_ROW)
			return DB_OK;
		if (rc != DB_DONE)
			return rc < 0 ? rc : DB_ERR;
	}
	struct session s;
	memset(&s, 0, sizeof(s));
	id_new_at(s.id, "cs_test_", r->now);
	s.created = r->now;
	s.expires_at = r->now + EXPIRES_MAX;
	s.amount_total = s.amount_subtotal = amount_total;
	str_copy(s.currency, sizeof(s.currency), currency);
	if (ship) {
		s.shipping_options = ship->options;
		s.shipping_rate = ship->rate;
		s.amount_shipping = ship->rate ? ship->amount : 0;
		s.shipping_countries = ship->countries;
		/* the link's items and first option were checked together when it was made */
		if (__builtin_add_overflow(s.amount_total, s.amount_shipping, &s.amount_total))
			return DB_ERR;
	}
	s.status = "open";
	s.mode = sub ? "subscription" : "payment";
	s.payment_status = "unpaid";
	if (sub) {
		/* as create_fn: the first invoice is what is due now, nothing during a trial or
		 * for metered prices only */
		s.sub_trial_days = sub->trial_days;
		s.sub_metadata = sub->metadata ? sub->metadata : "{}";
		s.sub_description = sub->description;
		if (s.sub_trial_days > 0)
			s.amount_total = s.amount_subtotal = 0;
		if (s.amount_total == 0)
			s.payment_status = "no_payment_required";
	}
	s.line_items = items_json;
	s.success_url = success_url;
	s.metadata = "{}";
	s.payment_link = link_id;
	s.pi_capture_method = pi_capture_method;
	s.pi_description = pi_description;
	s.submit_type = submit_type;
	s.confirmation_message = confirmation_message;
	s.link_nonce = nonce;
	s.automatic_tax = automatic_tax; /* the page asks for the address before the card */
	s.pm_types = pm_types;
	s.allow_promotion_codes = allow_promotion_codes; /* its page's promotion code field */
	/* what its page asks of the buyer, and what the payment then makes (invoice, customer) */
	s.collect = collect;
	s.custom_fields = custom_fields;
	int rc = session_insert(r, db, &s);
	if (rc == DB_OK)
		str_copy(ret_id, ID_MAX, s.id);
	return rc;
}

struct id_ctx {
	struct req *r;
	const char *id;
	struct session s;
};

static int load_fn(struct db *db, void *arg)
{
	struct id_ctx *x = arg;
	int rc = session_load(&x->r->arena, db, x->r->merchant_id, x->id, &x->s);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "checkout.session", x->id, "session");
	return rc == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

static int retrieve_fn(struct db *db, void *arg)
{
	struct id_ctx *x = arg;
	if (load_fn(db, arg) != 0)
		return -1;
	session_render(x->r, db, x->r->merchant_id, &x->s, "", req_json(x->r));
	return 0;
}

static int h_retrieve(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, retrieve_fn, &x) == 0 ? 0 : -1;
}

static int line_items_fn(struct db *db, void *arg)
{
	struct id_ctx *x = arg;
	struct req *r = x->r;
	if (load_fn(db, arg) != 0)
		return -1;
	return checkout_render_line_items(
	    r, db, x->s.line_items, x->s.currency,
	    arena_printf(&r->arena, "/v1/checkout/sessions/%s/line_items", x->s.id));
}

static int h_line_items(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, line_items_fn, &x) == 0 ? 0 : -1;
}

static int expire_fn(struct db *db, void *arg)
{
	struct id_ctx *x = arg;
	struct req *r = x->r;
	if (load_fn(db, arg) != 0)
		return -1;
	if (strcmp(x->s.status, "open") != 0)
		return req_fail(
		    r, ERR_INVALID_STATE, NULL,
		    "Only Checkout Sessions with a status in [\"open\"] can be expired; "
		    "this one is %s.",
		    x->s.status);
	if (session_close(r, db, r->merchant_id, &x->s, false, r->now) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	session_render(r, db, r->merchant_id, &x->s, "", req_json(r));
	return 0;
}

static int h_expire(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, expire_fn, &x);
}

/* POST /v1/checkout/sessions/{id} (stripe-node's checkout.sessions.update): a session's
 * `metadata`, at any status, as Stripe takes it (keys merged, '' unsets one, metadata='' all of
 * them). The other parameters Stripe has for it (line_items, shipping_options,
 * collected_information, payment_intent_data) change a session whose page the merchant's own
 * code runs (ui_mode embedded or custom, with Stripe.js); Tender's page takes a session as it
 * was made (an embedded or custom one too, opened by its client_secret), so those are refused.
 * Stripe sends no event for an update. */
static const char SQL_SET_METADATA[] =
    "UPDATE checkout_sessions SET metadata = $3 WHERE merchant_id = $1 AND id = $2";

static int update_fn(struct db *db, void *arg)
{
	struct id_ctx *x = arg;
	struct req *r = x->r;
	if (load_fn(db, arg) != 0)
		return -1;
	static const char *const custom_only[] = {"line_items", "shipping_options",
						  "collected_information", "payment_intent_data"};
	for (size_t i = 0; i < sizeof(custom_only) / sizeof(custom_only[0]); i++) {
		if (!param_present(r, custom_only[i]))
			continue;
		if (ui_client(x->s.ui_mode))
			return req_fail(r, ERR_PARAM_BAD, custom_only[i],
					"Tender does not update `%s` of a Checkout Session (its "
					"page takes what the session was made with).",
					custom_only[i]);
		return req_fail(r, ERR_PARAM_BAD, custom_only[i],
				"`%s` can only be updated on a Checkout Session with "
				"`ui_mode` `embedded` or `custom`; this one's page is hosted "
				"(`ui_mode` `hosted`).",
				custom_only[i]);
	}
	const char *meta = x->s.metadata;
	if (metadata_apply(r, x->s.metadata, "metadata", &meta) != 0)
		return -1;
	if (strcmp(meta, x->s.metadata) != 0) {
		struct db_stmt *st = db_prepare(db, SQL_SET_METADATA);
		if (!st)
			return req_fail(r, ERR_API, NULL, NULL);
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, x->s.id, -1);
		db_bind_text(st, 3, meta, -1);
		if (db_step_done(st) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		x->s.metadata = meta;
	}
	session_render(r, db, r->merchant_id, &x->s, "", req_json(r));
	return 0;
}

static int h_update(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, update_fn, &x);
}

static const char SQL_CURSOR[] =
    "SELECT created FROM checkout_sessions WHERE merchant_id = $1 AND id = $2";
/* INTENT and CUSTOMER: those two filters' terms; each is also a list_narrow (list.h) with the
 * plain `col = $n`, answered from sessions_payment_intent / sessions_customer */
#define LIST_WHERE(INTENT, CUSTOMER)                                                               \
	"SELECT id FROM checkout_sessions WHERE merchant_id = $1 AND " INTENT " AND " CUSTOMER     \
	" AND id > $2 AND id < $3"                                                                 \
	" AND ($6 IS NULL OR payment_link = $6) AND ($8 IS NULL OR status = $8)"                   \
	" AND ($9 IS NULL OR (subscription = $9 AND status = 'complete'))"                         \
	" AND ($10 IS NULL OR details_email = $10)"
#define ANY_INTENT "($5 IS NULL OR (payment_intent = $5 AND mode <> 'subscription'))"
#define ANY_CUSTOMER "($7 IS NULL OR customer = $7)"
static const char SQL_DESC[] = LIST_WHERE(ANY_INTENT, ANY_CUSTOMER) " ORDER BY id DESC LIMIT $4";
static const char SQL_ASC[] = LIST_WHERE(ANY_INTENT, ANY_CUSTOMER) " ORDER BY id ASC LIMIT $4";
#define THE_INTENT "payment_intent = $5 AND mode <> 'subscription'"
static const char SQL_INTENT_DESC[] =
    LIST_WHERE(THE_INTENT, ANY_CUSTOMER) " ORDER BY id DESC LIMIT $4";
static const char SQL_INTENT_ASC[] =
    LIST_WHERE(THE_INTENT, ANY_CUSTOMER) " ORDER BY id ASC LIMIT $4";
static const char SQL_CUSTOMER_DESC[] =
    LIST_WHERE(ANY_INTENT, "customer = $7") " ORDER BY id DESC LIMIT $4";
static const char SQL_CUSTOMER_ASC[] =
    LIST_WHERE(ANY_INTENT, "customer = $7") " ORDER BY id ASC LIMIT $4";

static int list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	/* customer_details[email]: the email the session's customer_details show */
	static const char *const filters[] = {"payment_intent", "payment_link",
					      "customer",	"status",
					      "subscription",	"customer_details.email"};
	for (int i = 0; i < 6; i++) {
		const char *v = param_str(r, filters[i]);
		db_bind_text(st, first + i, v && *v ? v : NULL, -1);
	}
	return 0;
}

static int list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	struct session s;
	int rc = session_load(&r->arena, db, r->merchant_id, id, &s);
	if (rc == DB_OK)
		session_render(r, db, r->merchant_id, &s, "data.", j);
	return rc;
}

static int h_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/checkout/sessions",
	    .object_name = "checkout.session",
	    .id_prefix = "cs_test_",
	    .sql_cursor = SQL_CURSOR,
	    .sql_desc = SQL_DESC,
	    .sql_asc = SQL_ASC,
	    .narrow = {{"payment_intent", SQL_INTENT_DESC, SQL_INTENT_ASC},
		       {"customer", SQL_CUSTOMER_DESC, SQL_CUSTOMER_ASC}},
	    .bind_filters = list_bind,
	    .render = list_render,
	};
	return list_respond(r, &spec);
}

/* ---- the page ---- */

struct page_ctx {
	struct req *r;
	const char *acct, *id;
	/* the page's own path segment, which its forms and return URLs name: the session id, or
	 * an embedded or custom session's client_secret (page_lookup) */
	const char *key;
	struct session s;
	char merchant_name[256];
	bool found;
	struct payment_intent pi; /* the session's last attempt, when it exists */
	bool has_pi;
	bool si_succeeded;     /* setup mode: the last attempt's SetupIntent succeeded */
	const char *si_status; /* setup mode: the last attempt's SetupIntent's status, or NULL */
	const char *action;    /* where the form posts: NULL for the session's own page */
	const char *nonce;     /* a payment link's form: its one-time value, posted back */
	/* its discount as the page names it: the promotion code's text, else the coupon's name
	 * (or id) */
	const char *discount_label;
	/* customer_creation=always and no customer yet: the id the attempt makes it with */
	char cus_new[ID_MAX];
	bool tax_id; /* the form gave a valid tax id (tax_id_data[0]) */
};

static int page_load_fn(struct db *db, void *arg)
{
	struct page_ctx *x = arg;
	struct req *r = x->r;
	if (session_load(&r->arena, db, x->acct, x->id, &x->s) != DB_OK)
		return 0;
	if (challenge_merchant_name(db, x->acct, x->merchant_name, sizeof(x->merchant_name)) != 0)
		return -1;
	x->found = true;
	if (x->s.discount_promotion_code) {
		struct promotion_code pc;
		if (promotion_code_load(r, db, x->s.discount_promotion_code, &pc) == DB_OK)
			x->discount_label = pc.code;
	} else if (x->s.discount_coupon) {
		struct coupon c;
		if (coupon_load(r, db, x->s.discount_coupon, &c) == DB_OK)
			x->discount_label = c.name ? c.name : arena_strdup(&r->arena, c.id);
	}
	x->has_pi = x->s.payment_intent &&
		    pi_load(db, &r->arena, x->acct, x->s.payment_intent, &x->pi) == DB_OK;
	const char *si_status = NULL;
	/* setup mode: a saved account completed the session (subscription mode: its
	 * subscription does, sub_bank) */
	x->si_succeeded =
	    x->s.setup_intent &&
	    setup_intent_status(r, db, x->acct, x->s.setup_intent, &si_status) == DB_OK &&
	    strcmp(si_status, "succeeded") == 0 && strcmp(x->s.mode, "setup") == 0;
	x->si_status = x->s.setup_intent ? si_status : NULL;
	return 0;
}

static bool pi_paid(const struct payment_intent *pi)
{
	return strcmp(pi->status, "succeeded") == 0 || strcmp(pi->status, "requires_capture") == 0;
}

/* page_lookup_as's flags: the caller is Tender itself (a bank's page finishing the session's
 * saved account), not a browser naming the page; the browser is back from a bank's page */
#define PAGE_TRUSTED 0x1u
#define PAGE_REDIRECTED 0x2u

/* The session's page after its payment: success_url, or an embedded or custom session's
 * return_url as its redirect_on_completion says (always; if_required: only when the buyer went
 * to a bank's page, as Stripe's embedded form redirects only for such methods; never), with
 * {CHECKOUT_SESSION_ID} filled in, as on Stripe; else a confirmation. */
static int completed(struct req *r, struct page_ctx *x, unsigned flags)
{
	const char *roc = x->s.redirect_on_completion;
	const char *u = x->s.success_url;
	if (ui_client(x->s.ui_mode))
		u = !roc || strcmp(roc, "always") == 0				   ? x->s.return_url
		    : strcmp(roc, "if_required") == 0 && (flags & PAGE_REDIRECTED) ? x->s.return_url
										   : NULL;
	if (u) {
		const char *t = strstr(u, "{CHECKOUT_SESSION_ID}");
		r->location = t ? arena_printf(&r->arena, "%.*s%s%s", (int)(t - u), u, x->s.id,
					       t + strlen("{CHECKOUT_SESSION_ID}"))
				: u;
		return challenge_redirect(r);
	}
	struct buf b;
	buf_init(&b, 64 * 1024);
	bool setup = strcmp(x->s.mode, "setup") == 0;
	buf_puts(&b, setup ? "<h1 id=\"done\">Your card is saved</h1><p>"
		     : strcmp(x->s.mode, "subscription") == 0
			 ? "<h1 id=\"done\">Thanks for subscribing</h1><p>"
			 : "<h1 id=\"done\">Thanks for your payment</h1><p>");
	html_escape(&b, x->s.confirmation_message ? x->s.confirmation_message
			: setup			  ? "You can close this page."
						  : "Your payment was received.");
	buf_puts(&b, "</p>");
	int rc = challenge_page(r, 200, "Payment complete", b.failed ? "" : buf_cstr(&b));
	buf_release(&b);
	return rc;
}

/* Whether `key`, the page's path segment, opens session x->s: a hosted session's page is its
 * id; an embedded or custom session's is its client_secret only (compared in constant time),
 * so that only the merchant's page, which the secret was handed to, can show it. Sets x->key
 * to the segment the page's forms post to. */
static bool page_key_ok(struct req *r, struct page_ctx *x, const char *key, unsigned flags)
{
	if (!ui_client(x->s.ui_mode)) {
		x->key = x->id;
		return strcmp(key, x->id) == 0;
	}
	const char *secret = session_client_secret(r, x->acct, x->id);
	if (!secret)
		return false;
	x->key = secret;
	if (flags & PAGE_TRUSTED)
		return true;
	size_t n = strlen(secret);
	return strlen(key) == n && CRYPTO_memcmp(secret, key, n) == 0;
}

/* 0: open and unpaid, the form applies; 1: answered with a page; -1: error. key: the session
 * id, or an embedded or custom session's client_secret (page_key_ok). */
static int page_lookup_as(struct req *r, struct page_ctx *x, const char *acct, const char *key,
			  unsigned flags)
{
	memset(x, 0, sizeof(*x));
	x->r = r;
	x->acct = acct;
	const char *cut = strstr(key, "_secret_");
	x->id = cut ? arena_strndup(&r->arena, key, (size_t)(cut - key)) : key;
	str_copy(r->merchant_id, sizeof(r->merchant_id), x->acct);
	if (!x->id)
		return req_fail(r, ERR_API, NULL, NULL);
	if (req_read(r, page_load_fn, x) != 0)
		return -1;
	if (!x->found || !page_key_ok(r, x, key, flags)) {
		challenge_page(r, 404, "Checkout not found",
			       "<h1>This checkout does not exist</h1>");
		return 1;
	}
	/* the payment completes the session in its own transaction: a paid intent on a session
	 * still open is one whose challenge ended after the session expired (SQL_COMPLETE) */
	if (strcmp(x->s.status, "complete") == 0 || (x->has_pi && pi_paid(&x->pi)) ||
	    x->si_succeeded)
		return completed(r, x, flags) != 0 ? -1 : 1;
	if (strcmp(x->s.status, "expired") == 0 || x->s.expires_at <= r->now) {
		challenge_page(r, 410, "Checkout expired",
			       "<h1>This checkout has expired</h1><p>Go back to the shop to start "
			       "again.</p>");
		return 1;
	}
	return 0;
}

static int page_lookup(struct req *r, struct page_ctx *x, const char *acct, const char *key)
{
	return page_lookup_as(r, x, acct, key, 0);
}

/* " / month", " / 3 months" */
static void html_interval(struct buf *b, const char *interval, int64_t count)
{
	if (count > 1)
		buf_printf(b, " / %lld %ss", (long long)count, interval);
	else
		buf_printf(b, " / %s", interval);
}

/* Inside the card form: the shipping options as radio buttons when there are several (each
 * with the total it makes; no scripts), and the shipping address when the session asks for
 * one, its country one of the allowed ones (checked again by shipping_choice). */
/* ` readonly value="…"` of field key of the fixed address (nothing when fixed is NULL) */
static void fixed_value(struct buf *b, json_t *fixed, const char *key)
{
	if (!fixed)
		return;
	const char *v = json_string_value(json_object_get(fixed, key));
	buf_puts(b, " readonly value=\"");
	html_escape(b, v ? v : "");
	buf_puts(b, "\"");
}

/* html with p put before each id and label target (`id="`, `for="`): a form's copy of the
 * fields keeps the page's ids unique */
static void puts_ids(struct buf *b, const char *html, const char *p)
{
	while (*html) {
		const char *id = strstr(html, "id=\"");
		const char *fr = strstr(html, "for=\"");
		const char *at = !id ? fr : !fr ? id : id < fr ? id : fr;
		if (!at) {
			buf_puts(b, html);
			return;
		}
		size_t n = (size_t)(strchr(at, '"') + 1 - html);
		buf_printf(b, "%.*s%s", (int)n, html, p);
		html += n;
	}
}

/* p: the prefix of the fields' ids ("" in the card form, "<type>-" in a lender's) */
static void shipping_fields(struct buf *b, const struct session *s, json_t *ship, const char *p)
{
	size_t i;
	json_t *it;
	if (json_is_array(ship) && json_array_size(ship) > 1) {
		int64_t items = s->amount_total - s->amount_shipping;
		puts_ids(b, "<fieldset id=\"shipping-options\"><legend>Shipping</legend>", p);
		json_array_foreach(ship, i, it)
		{
			const char *id = json_string_value(json_object_get(it, "shipping_rate"));
			int64_t amt = json_integer_value(json_object_get(it, "shipping_amount"));
			if (!id)
				continue;
			buf_printf(b,
				   "<label><input type=\"radio\" name=\"shipping_rate\" "
				   "id=\"%sshipping_rate_%zu\" value=\"",
				   p, i);
			html_escape(b, id);
			buf_puts(b, s->shipping_rate && strcmp(id, s->shipping_rate) == 0
					? "\" checked> "
					: "\"> ");
			html_escape(b, json_string_value(json_object_get(it, "display_name")));
			buf_puts(b, " — ");
			html_amount(b, amt, s->currency);
			buf_puts(b, " (total ");
			html_amount(b, items + amt, s->currency); /* bounded: options ≤ 5 rates */
			buf_puts(b, ")</label>");
		}
		buf_puts(b, "</fieldset>");
	}
	json_t *countries =
	    s->shipping_countries ? json_loads(s->shipping_countries, 0, NULL) : NULL;
	if (json_is_array(countries)) {
		puts_ids(
		    b,
		    "<fieldset id=\"shipping-address\"><legend>Shipping address</legend>"
		    "<label for=\"ship_name\">Name</label><input id=\"ship_name\" required "
		    "maxlength=\"200\" name=\"shipping[name]\" autocomplete=\"shipping name\">"
		    "<label for=\"ship_line1\">Address</label><input id=\"ship_line1\" required "
		    "maxlength=\"200\" name=\"shipping[address][line1]\" "
		    "autocomplete=\"shipping address-line1\">"
		    "<label for=\"ship_line2\">Address line 2</label><input id=\"ship_line2\" "
		    "maxlength=\"200\" name=\"shipping[address][line2]\" "
		    "autocomplete=\"shipping address-line2\">"
		    "<div class=\"row\"><div><label for=\"ship_city\">City</label><input "
		    "id=\"ship_city\" required maxlength=\"200\" name=\"shipping[address][city]\" "
		    "autocomplete=\"shipping address-level2\"></div><div><label "
		    "for=\"ship_postal_code\">Postal code</label><input id=\"ship_postal_code\" "
		    "maxlength=\"20\" name=\"shipping[address][postal_code]\" "
		    "autocomplete=\"shipping postal-code\"",
		    p);
		/* automatic tax: the place the tax was worked out for, given above, is where it
		 * ships (shipping_choice checks it again) */
		json_t *fixed = s->automatic_tax && s->billing_address
				    ? json_loads(s->billing_address, 0, NULL)
				    : NULL;
		fixed_value(b, fixed, "postal_code");
		puts_ids(b,
			 "></div></div>"
			 "<label for=\"ship_state\">State or region</label><input "
			 "id=\"ship_state\" maxlength=\"200\" name=\"shipping[address][state]\" "
			 "autocomplete=\"shipping address-level1\"",
			 p);
		fixed_value(b, fixed, "state");
		puts_ids(b,
			 "><label for=\"ship_country\">Country</label><select "
			 "id=\"ship_country\" required name=\"shipping[address][country]\" "
			 "autocomplete=\"shipping country\">",
			 p);
		const char *fc = json_string_value(json_object_get(fixed, "country"));
		json_array_foreach(countries, i, it)
		{
			const char *v = json_string_value(it);
			if (fc && (!v || strcmp(v, fc) != 0))
				continue;
			buf_puts(b, "<option>");
			html_escape(b, v);
			buf_puts(b, "</option>");
		}
		buf_puts(b, "</select></fieldset>");
		json_decref(fixed);
	}
	json_decref(countries);
}

/* Does a line of s have dynamic_tax_rates (the page then asks for the billing address)? */
static bool session_dynamic(const struct session *s)
{
	if (s->automatic_tax)
		return false; /* not with dynamic_tax_rates (create) */
	json_t *items = s->line_items ? json_loads(s->line_items, 0, NULL) : NULL;
	bool any = false;
	size_t i;
	json_t *it;
	json_array_foreach(items, i, it) any =
	    any || json_is_array(json_object_get(it, "dynamic_tax_rates"));
	json_decref(items);
	return any;
}

/* Does the page ask for the billing address before the card: lines with dynamic_tax_rates, or
 * automatic tax not taken at the customer's own address (payment and subscription mode)? */
static bool session_asks_address(struct req *r, const struct session *s)
{
	if (strcmp(s->mode, "setup") == 0)
		return false;
	if (s->automatic_tax)
		return !auto_tax_by_customer(r, s);
	return session_dynamic(s);
}

static void address_input(struct buf *b, const char *id, const char *label, const char *name,
			  const char *attrs, json_t *addr, const char *key)
{
	buf_printf(b, "<label for=\"%s\">%s</label><input id=\"%s\" name=\"%s\" %s", id, label, id,
		   name, attrs);
	const char *v = json_string_value(json_object_get(addr, key));
	if (v) {
		buf_puts(b, " value=\"");
		html_escape(b, v);
		buf_puts(b, "\"");
	}
	buf_puts(b, ">");
}

/* payment_method_collection=if_required and nothing due now (a trial, or a discount that takes
 * it all): the page takes no card (subscription mode) */
static bool no_card(struct req *r, const struct session *s)
{
	const char *v = collect_str(&r->arena, s, "payment_method_collection", NULL);
	return v && strcmp(v, "if_required") == 0 && strcmp(s->mode, "subscription") == 0 &&
	       s->amount_total == 0;
}

static bool billing_required(struct req *r, const struct session *s)
{
	const char *v = collect_str(&r->arena, s, "billing_address_collection", NULL);
	return v && strcmp(v, "required") == 0;
}

static bool phone_wanted(struct req *r, const struct session *s)
{
	return collect_str(&r->arena, s, "phone_number_collection", "enabled") != NULL;
}

/* custom_text[pos][message] as a paragraph of the page (id custom-text-{id}) */
static void custom_text_put(struct req *r, struct buf *b, const struct session *s, const char *pos,
			    const char *id)
{
	json_t *c = s->collect ? json_loads(s->collect, 0, NULL) : NULL;
	const char *m = json_string_value(
	    json_object_get(json_object_get(json_object_get(c, "custom_text"), pos), "message"));
	if (m) {
		buf_printf(b, "<p class=\"custom-text\" id=\"custom-text-%s\">", id);
		html_escape(b, m);
		buf_puts(b, "</p>");
	}
	json_decref(c);
	(void)r;
}

/* billing_address_collection=required (and no dynamic_tax_rates form asking for it before):
 * the whole billing address inside the card form, as the PaymentMethod's billing_details. */
static void billing_fields(struct buf *b)
{
	buf_puts(b, "<fieldset id=\"billing-details\"><legend>Billing address</legend>");
	address_input(b, "ba_line1", "Billing address line 1",
		      "payment_method_data[billing_details][address][line1]",
		      "required maxlength=\"200\" autocomplete=\"billing address-line1\"", NULL,
		      "line1");
	address_input(b, "ba_line2", "Billing address line 2",
		      "payment_method_data[billing_details][address][line2]",
		      "maxlength=\"200\" autocomplete=\"billing address-line2\"", NULL, "line2");
	address_input(
	    b, "ba_city", "Billing city", "payment_method_data[billing_details][address][city]",
	    "required maxlength=\"200\" autocomplete=\"billing address-level2\"", NULL, "city");
	address_input(b, "ba_postal_code", "Billing postal code",
		      "payment_method_data[billing_details][address][postal_code]",
		      "maxlength=\"20\" autocomplete=\"billing postal-code\"", NULL, "postal_code");
	address_input(b, "ba_state", "Billing state or region",
		      "payment_method_data[billing_details][address][state]",
		      "maxlength=\"200\" autocomplete=\"billing address-level1\"", NULL, "state");
	address_input(b, "ba_country", "Billing country (two-letter code)",
		      "payment_method_data[billing_details][address][country]",
		      "required maxlength=\"2\" autocomplete=\"billing country\"", NULL, "country");
	buf_puts(b, "</fieldset>");
}

/* The session's custom_fields as inputs of the card form (name custom_fields[key], id
 * cf_key), with the checks the browser can make; the server makes them again
 * (custom_fields_fill). */
static void custom_fields_inputs(struct buf *b, const struct session *s)
{
	json_t *fs = s->custom_fields ? json_loads(s->custom_fields, 0, NULL) : NULL;
	size_t i;
	json_t *f;
	json_array_foreach(fs, i, f)
	{
		const char *key = json_string_value(json_object_get(f, "key"));
		const char *type = json_string_value(json_object_get(f, "type"));
		const char *label =
		    json_string_value(json_object_get(json_object_get(f, "label"), "custom"));
		bool optional = json_is_true(json_object_get(f, "optional"));
		if (!key || !type)
			continue;
		buf_printf(b, "<label for=\"cf_%s\">", key);
		html_escape(b, label ? label : key);
		buf_puts(b, optional ? " (optional)</label>" : "</label>");
		const char *req = optional ? "" : " required";
		if (strcmp(type, "dropdown") == 0) {
			buf_printf(b, "<select id=\"cf_%s\" name=\"custom_fields[%s]\"%s>", key,
				   key, req);
			buf_puts(b, "<option value=\"\">Choose…</option>");
			const char *dv = json_string_value(
			    json_object_get(json_object_get(f, "dropdown"), "default_value"));
			json_t *opts = json_object_get(json_object_get(f, "dropdown"), "options");
			size_t k;
			json_t *o;
			json_array_foreach(opts, k, o)
			{
				const char *ov = json_string_value(json_object_get(o, "value"));
				buf_puts(b, "<option value=\"");
				html_escape(b, ov);
				buf_puts(b,
					 dv && ov && strcmp(dv, ov) == 0 ? "\" selected>" : "\">");
				html_escape(b, json_string_value(json_object_get(o, "label")));
				buf_puts(b, "</option>");
			}
			buf_puts(b, "</select>");
			continue;
		}
		json_t *lim = json_object_get(f, type);
		json_int_t mx = json_is_integer(json_object_get(lim, "maximum_length"))
				    ? json_integer_value(json_object_get(lim, "maximum_length"))
				    : CF_LENGTH_MAX;
		json_int_t mn = json_integer_value(json_object_get(lim, "minimum_length"));
		buf_printf(b, "<input id=\"cf_%s\" name=\"custom_fields[%s]\" maxlength=\"%lld\"",
			   key, key, (long long)mx);
		if (mn > 0)
			buf_printf(b, " minlength=\"%lld\"", (long long)mn);
		if (strcmp(type, "numeric") == 0)
			buf_puts(b, " inputmode=\"numeric\" pattern=\"[0-9]*\"");
		const char *dv = json_string_value(json_object_get(lim, "default_value"));
		if (dv) {
			buf_puts(b, " value=\"");
			html_escape(b, dv);
			buf_puts(b, "\"");
		}
		buf_printf(b, "%s>", req);
	}
	json_decref(fs);
}

/* tax_id_collection: a tax id the buyer may give (a business purchase), checked by the tax id
 * code customers use (tax_ids_check_data) */
static void tax_id_inputs(struct buf *b, bool required)
{
	buf_puts(b, "<fieldset id=\"tax-id\"><legend>Business purchase</legend><label "
		    "for=\"tax_type\">Tax ID type</label><select id=\"tax_type\" "
		    "name=\"tax_id_data[0][type]\">");
	static const char *const types[] = {"eu_vat", "gb_vat", "us_ein", "au_abn", "ca_bn",
					    "ch_vat", "no_vat", "nz_gst", "in_gst", "jp_cn"};
	for (size_t k = 0; k < sizeof(types) / sizeof(types[0]); k++)
		buf_printf(b, "<option>%s</option>", types[k]);
	buf_puts(b, required
			? "</select><label for=\"tax_value\">Tax ID</label><input required "
			: "</select><label for=\"tax_value\">Tax ID (optional)</label><input ");
	buf_puts(b, "id=\"tax_value\" maxlength=\"64\" name=\"tax_id_data[0][value]\"></fieldset>");
}

/* tax_id_collection[required]=if_supported: the page asks for a tax id (Tender takes one of every
 * type it offers), and the server refuses a form without one */
static bool tax_id_required(struct req *r, const struct session *s)
{
	const char *q = collect_str(&r->arena, s, "tax_id_collection", "required");
	return collect_str(&r->arena, s, "tax_id_collection", "enabled") && q &&
	       strcmp(q, "if_supported") == 0;
}

static const char *session_sfu(struct req *r, const struct session *s);
static const char *session_sfu_of(struct req *r, const struct session *s, const char *type);
static const char *ach_verification(struct req *r, const struct session *s);
static const char *ach_fc_options(struct req *r, const struct session *s);
static const char *pmo_str(struct req *r, const struct session *s, const char *type,
			   const char *key, const char *key2);

/* consent_collection[payment_method_reuse_agreement][position]=auto: the card is kept for later
 * payments (setup and subscription mode, or setup_future_usage), and the page says so next to
 * the button (hidden: nothing shown) */
static void reuse_agreement_text(struct req *r, struct buf *b, const struct page_ctx *x)
{
	json_t *c = x->s.collect ? json_loads(x->s.collect, 0, NULL) : NULL;
	const char *pos = json_string_value(
	    json_object_get(json_object_get(json_object_get(c, "consent_collection"),
					    "payment_method_reuse_agreement"),
			    "position"));
	bool show = pos && strcmp(pos, "auto") == 0;
	json_decref(c);
	bool saved = strcmp(x->s.mode, "payment") != 0 || session_sfu(r, &x->s);
	if (!show || !saved)
		return;
	buf_puts(b, "<p id=\"reuse-agreement\">You allow ");
	html_escape(b, x->merchant_name[0] ? x->merchant_name : "the seller");
	buf_puts(b, " to keep this card and charge it for future payments in accordance with "
		    "their terms.</p>");
}

/* consent_collection: the terms of service to accept (required) and promotions to opt into */
static void consent_inputs(struct req *r, struct buf *b, const struct session *s)
{
	const char *tos = collect_str(&r->arena, s, "consent_collection", "terms_of_service");
	const char *pr = collect_str(&r->arena, s, "consent_collection", "promotions");
	if (pr && strcmp(pr, "auto") == 0)
		buf_puts(b, "<p><input type=\"checkbox\" id=\"promotions\" "
			    "name=\"consent[promotions]\" value=\"opt_in\"><label "
			    "for=\"promotions\">Send me news and offers</label></p>");
	if (tos && strcmp(tos, "required") == 0) {
		custom_text_put(r, b, s, "terms_of_service_acceptance", "terms");
		buf_puts(b, "<p><input type=\"checkbox\" id=\"terms\" required "
			    "name=\"consent[terms_of_service]\" value=\"accepted\"><label "
			    "for=\"terms\">I agree to the terms of service</label></p>");
	}
}

/* Lines with dynamic_tax_rates: the billing address that chooses their rates, in its own small
 * form posted before the card's (POST …/address, then a redirect back: no scripts, GET never
 * writes), so the page shows the tax the card will pay. */
static void billing_address_form(struct req *r, struct buf *b, const struct page_ctx *x)
{
	json_t *addr = x->s.billing_address ? json_loads(x->s.billing_address, 0, NULL) : NULL;
	/* billing_address_collection=required: the whole address, not only what taxes need */
	bool full = billing_required(r, &x->s);
	const char *req = full ? "required " : "";
	buf_puts(b, "<form class=\"address\" method=\"post\" action=\"");
	html_escape(b, arena_printf(&r->arena, "/checkout/%s/%s/address", x->acct, x->key));
	/* automatic tax with shipping_address_collection: the tax is the shipping address's */
	bool ships = x->s.automatic_tax && x->s.shipping_countries;
	buf_puts(b, ships ? "\"><fieldset id=\"billing-address\"><legend>Shipping address</legend>"
			  : "\"><fieldset id=\"billing-address\"><legend>Billing address</legend>");
	if (!addr)
		buf_puts(b,
			 ships ? "<p id=\"address-first\">The tax depends on where the order "
				 "ships: enter that address to see the total and pay.</p>"
			       : "<p id=\"address-first\">The tax depends on your billing address: "
				 "enter it to see the total and pay.</p>");
	address_input(b, "bill_line1", "Address", "address[line1]",
		      arena_printf(&r->arena,
				   "%smaxlength=\"200\" autocomplete=\"billing address-line1\"",
				   req),
		      addr, "line1");
	address_input(b, "bill_city", "City", "address[city]",
		      arena_printf(&r->arena,
				   "%smaxlength=\"200\" autocomplete=\"billing address-level2\"",
				   req),
		      addr, "city");
	address_input(b, "bill_postal_code", "Postal code", "address[postal_code]",
		      "maxlength=\"20\" autocomplete=\"billing postal-code\"", addr, "postal_code");
	address_input(b, "bill_state", "State or region", "address[state]",
		      "maxlength=\"200\" autocomplete=\"billing address-level1\"", addr, "state");
	address_input(b, "bill_country", "Country (two-letter code)", "address[country]",
		      "required maxlength=\"2\" autocomplete=\"billing country\"", addr, "country");
	buf_puts(b, addr ? "<p><button type=\"submit\">Update address</button></p>"
			 : "<p><button type=\"submit\">Continue</button></p>");
	buf_puts(b, "</fieldset></form>");
	json_decref(addr);
}

/* An amount as the buyer types it: major units, the currency's decimals ("25.00", "500" for
 * jpy), no code. */
static void major_amount(struct buf *b, int64_t amount, const char *currency)
{
	const struct currency *cu = currency_find(currency);
	int exp = cu ? cu->exponent : 2;
	int64_t div = money_pow10(exp);
	if (exp == 0 || div == 0)
		buf_printf(b, "%lld", (long long)amount);
	else
		buf_printf(b, "%lld.%0*lld", (long long)(amount / div), exp,
			   (long long)(amount % div));
}

/* The smallest amount the buyer may choose: the price's minimum, else the currency's minimum
 * charge (at least one unit: Tender makes no free payment-mode sessions). */
static int64_t custom_floor(const struct custom_line *c, const char *currency)
{
	const struct currency *cu = currency_find(currency);
	int64_t min = c->minimum >= 0 ? c->minimum : cu ? cu->min_charge_minor : 0;
	return min < 1 ? 1 : min;
}

/* The pay-what-you-want amount field of a payment form (kind: its ids' prefix, "" for the card
 * form), prefilled with the line's amount (the preset, or the buyer's last choice), with the
 * bounds it is checked against again on the server (custom_amount_choice). */
static void custom_amount_input(struct buf *b, const struct page_ctx *x, const char *kind)
{
	struct custom_line c;
	if (strcmp(x->s.mode, "payment") != 0)
		return;
	items_custom_line(x->s.line_items, &c);
	if (!c.on)
		return;
	const char *sep = *kind ? "-" : "";
	char code[8] = "";
	for (int i = 0; x->s.currency[i] && i < 7; i++)
		code[i] = (char)(x->s.currency[i] >= 'a' && x->s.currency[i] <= 'z'
				     ? x->s.currency[i] - 32
				     : x->s.currency[i]);
	buf_printf(b,
		   "<label for=\"%s%scustom-amount\">Amount (%s)</label><p class=\"hint\" "
		   "id=\"%s%scustom-amount-range\">",
		   kind, sep, code, kind, sep);
	buf_puts(b, "At least ");
	html_amount(b, custom_floor(&c, x->s.currency), x->s.currency);
	if (c.maximum >= 0) {
		buf_puts(b, ", at most ");
		html_amount(b, c.maximum, x->s.currency);
	}
	buf_printf(b,
		   "</p><input id=\"%s%scustom-amount\" name=\"custom_amount\" required "
		   "inputmode=\"decimal\" autocomplete=\"off\" maxlength=\"20\"",
		   kind, sep);
	if (c.amount > 0) {
		buf_puts(b, " value=\"");
		major_amount(b, c.amount, x->s.currency);
		buf_puts(b, "\"");
	}
	buf_puts(b, ">");
}

/* The start of one of the page's other payment forms (class "pay <kind>", id "<kind>-form"): it
 * posts where the card form posts, with the payment link's nonce, payment_method_data[type] and
 * the buyer's email (the session's customer_email filled in). */
static void pay_form_open(struct req *r, struct buf *b, const struct page_ctx *x, const char *kind,
			  const char *type)
{
	buf_printf(b,
		   "<form class=\"pay %s\" id=\"%s-form\" method=\"post\" autocomplete=\"on\" "
		   "action=\"",
		   kind, kind);
	html_escape(b, x->action ? x->action
				 : arena_printf(&r->arena, "/checkout/%s/%s", x->acct, x->key));
	buf_puts(b, "\">");
	if (x->nonce) {
		buf_puts(b, "<input type=\"hidden\" name=\"link_nonce\" value=\"");
		html_escape(b, x->nonce);
		buf_puts(b, "\">");
	}
	custom_amount_input(b, x, kind);
	buf_printf(b,
		   "<input type=\"hidden\" name=\"payment_method_data[type]\" value=\"%s\">"
		   "<label for=\"%s-email\">Email</label><input id=\"%s-email\" type=\"email\" "
		   "required name=\"payment_method_data[billing_details][email]\" "
		   "autocomplete=\"email\"",
		   type, kind, kind);
	if (x->s.customer_email) {
		buf_puts(b, " value=\"");
		html_escape(b, x->s.customer_email);
		buf_puts(b, "\"");
	}
	buf_puts(b, ">");
}

/* Its end: the session's submit text and the button ("Pay 20.00 EUR <how>"). */
static void pay_form_close(struct req *r, struct buf *b, const struct page_ctx *x, const char *kind,
			   const char *how)
{
	custom_text_put(r, b, &x->s, "submit", arena_printf(&r->arena, "%s-submit-text", kind));
	buf_printf(b, "<p><button type=\"submit\" class=\"complete\" id=\"%s-pay\">", kind);
	if (strcmp(x->s.mode, "setup") == 0) {
		/* setup mode saves the account; nothing is paid now */
		buf_puts(b, "Save bank account</button></p></form>");
		return;
	}
	buf_puts(b, strcmp(x->s.submit_type, "donate") == 0 ? "Donate"
		    : strcmp(x->s.submit_type, "book") == 0 ? "Book"
							    : "Pay");
	struct custom_line c;
	items_custom_line(x->s.line_items, &c);
	if (!c.on) { /* pay what you want: the amount is the one typed above */
		buf_puts(b, " ");
		html_amount(b, x->s.amount_total, x->s.currency);
	}
	buf_printf(b, " %s</button></p></form>", how);
}

/* The SEPA Direct Debit form (payment_method_types with sepa_debit): the account holder's name
 * and email and the IBAN (checked by the vault when posted, as POST /v1/payment_methods checks
 * it), under the mandate the buyer accepts by paying. Its own form (no scripts: the buyer's
 * choice is the form they submit), posting where the card form posts. */
static void sepa_debit_form(struct req *r, struct buf *b, const struct page_ctx *x, bool heading)
{
	if (heading)
		buf_puts(b, "<h2 id=\"choice-sepa\">Pay by SEPA Direct Debit</h2>");
	pay_form_open(r, b, x, "sepa", "sepa_debit");
	buf_puts(b, "<label for=\"sepa-name\">Account holder name</label><input id=\"sepa-name\" "
		    "required name=\"payment_method_data[billing_details][name]\" "
		    "autocomplete=\"name\"><label for=\"iban\">IBAN</label><input id=\"iban\" "
		    "required maxlength=\"42\" autocomplete=\"off\" spellcheck=\"false\" "
		    "name=\"payment_method_data[sepa_debit][iban]\"><p class=\"mandate\" "
		    "id=\"sepa-mandate\">By providing your IBAN and confirming this payment, you "
		    "authorise (A) ");
	html_escape(b, x->merchant_name);
	buf_puts(b, " and Tender, the payment service provider it uses, to send instructions to "
		    "your bank to debit your account, and (B) your bank to debit your account as "
		    "those instructions say. You are entitled to a refund from your bank under the "
		    "terms and conditions of your agreement with it; a refund must be claimed "
		    "within 8 weeks of the date on which your account was debited.</p>");
	pay_form_close(r, b, x, "sepa", "by SEPA Direct Debit");
}

/* The bank transfer form (payment_method_types with customer_balance): the buyer's email and
 * name; paying gives the buyer the bank details and a reference to send the transfer with
 * (the intent's next_action, shown on the hosted instructions page the browser goes to). */
static void cash_form(struct req *r, struct buf *b, const struct page_ctx *x, bool heading)
{
	if (heading)
		buf_puts(b, "<h2 id=\"choice-cash\">Pay by bank transfer</h2>");
	pay_form_open(r, b, x, "cash", "customer_balance");
	buf_puts(b, "<label for=\"cash-name\">Name</label><input id=\"cash-name\" "
		    "name=\"payment_method_data[billing_details][name]\" autocomplete=\"name\">"
		    "<p class=\"mandate\" id=\"cash-note\">You will be given bank details and a "
		    "reference: the payment is complete when your transfer arrives.</p>");
	pay_form_close(r, b, x, "cash", "by bank transfer");
}

/* The ACH mandate's text (the paragraph left open: the form adds its own last sentence). */
static void ach_mandate_open(struct req *r, struct buf *b, const struct page_ctx *x, const char *id)
{
	buf_printf(b, "<p class=\"mandate\" id=\"%s\">By confirming this payment, you authorize ",
		   id);
	html_escape(b, x->merchant_name);
	/* a method saved for later (setup_future_usage, setup mode, a subscription's renewals) is
	 * under a multi-use mandate */
	if (strcmp(x->s.mode, "setup") == 0 || strcmp(x->s.mode, "subscription") == 0 ||
	    session_sfu_of(r, &x->s, "us_bank_account")) {
		buf_puts(b,
			 " to debit the bank account specified above for this payment and for "
			 "later payments you owe it, until this authorization is revoked. You may "
			 "amend or cancel this authorization at any time by giving ");
		html_escape(b, x->merchant_name);
		buf_puts(b, " 30 (thirty) days' notice.");
	} else {
		buf_puts(b, " to debit the bank account specified above once, for this payment.");
	}
}

/* Financial Connections on the page (verification_method automatic, Stripe's default, or
 * instant): the buyer links one of the test institution's accounts (vault/fc_institution.h:
 * what Stripe's test mode offers instead of a bank login, as the hosted test page does) and
 * pays with it. Only the account's key is posted, never a number: pay() links it
 * (fc_checkout_link) and makes its PaymentMethod, verified at once, in one write, so the debit
 * starts without microdeposits. No scripts: the buyer's choice is the form they submit. */
static void ach_link_form(struct req *r, struct buf *b, const struct page_ctx *x, bool heading)
{
	if (heading)
		buf_puts(b, "<h2 id=\"choice-ach-link\">Pay by US bank account: link your "
			    "bank</h2>");
	pay_form_open(r, b, x, "ach-link", "us_bank_account");
	buf_puts(
	    b, "<label for=\"ach-link-name\">Account holder name</label><input "
	       "id=\"ach-link-name\" required name=\"payment_method_data[billing_details][name]\" "
	       "autocomplete=\"name\"><fieldset id=\"ach-link-accounts\"><legend>Link an "
	       "account of " FC_TEST_INSTITUTION "</legend><p class=\"notice\" "
	       "id=\"ach-link-test-mode\">Test mode: no bank login is used. Choose the test "
	       "institution's account to link; it is verified at once.</p>");
	size_t n;
	const struct fc_test_account *t = fc_test_accounts(&n);
	for (size_t i = 0; i < n; i++) {
		buf_puts(b, "<label><input type=\"radio\" name=\"fc_account\" required value=\"");
		html_escape(b, t[i].key);
		buf_puts(b, "\" id=\"fc-account-");
		html_escape(b, t[i].key);
		buf_puts(b, i == 0 ? "\" checked> " : "\"> ");
		html_escape(b, t[i].display_name);
		buf_puts(b, " (");
		html_escape(b, t[i].subcategory);
		buf_puts(b, " ····");
		html_escape(b, t[i].last4);
		buf_puts(b, ")</label>");
	}
	buf_puts(b, "</fieldset>");
	ach_mandate_open(r, b, x, "ach-link-mandate");
	buf_puts(b, "</p>");
	pay_form_close(r, b, x, "ach-link", "by linked bank account");
}

/* The ACH Direct Debit form (payment_method_types with us_bank_account, verification_method
 * automatic or microdeposits): the account holder's name and email, the routing and account
 * numbers and the account type (checked by the vault when posted, as POST /v1/payment_methods
 * checks them), under the ACH mandate the buyer accepts by paying. An account typed here is
 * verified with microdeposits, as Stripe's Checkout verifies one entered by hand, which the page
 * says. */
static void ach_debit_form(struct req *r, struct buf *b, const struct page_ctx *x, bool heading,
			   bool after_link)
{
	if (heading)
		buf_puts(b, "<h2 id=\"choice-ach\">Pay by US bank account (ACH Direct Debit)</h2>");
	else if (after_link)
		buf_puts(b, "<h3 id=\"choice-ach-manual\">Or enter your bank account's numbers "
			    "(verified with microdeposits)</h3>");
	pay_form_open(r, b, x, "ach", "us_bank_account");
	buf_puts(b, "<input type=\"hidden\" "
		    "name=\"payment_method_data[us_bank_account][account_holder_type]\" "
		    "value=\"individual\">");
	buf_puts(
	    b, "<label for=\"ach-name\">Account holder name</label><input id=\"ach-name\" "
	       "required name=\"payment_method_data[billing_details][name]\" "
	       "autocomplete=\"name\"><label for=\"ach-routing\">Routing number</label><input "
	       "id=\"ach-routing\" required inputmode=\"numeric\" pattern=\"[0-9]{9}\" "
	       "maxlength=\"9\" autocomplete=\"off\" "
	       "name=\"payment_method_data[us_bank_account][routing_number]\"><label "
	       "for=\"ach-account\">Account number</label><input id=\"ach-account\" required "
	       "inputmode=\"numeric\" pattern=\"[0-9]{4,17}\" maxlength=\"17\" "
	       "autocomplete=\"off\" name=\"payment_method_data[us_bank_account][account_number]\">"
	       "<fieldset id=\"ach-type\"><legend>Account type</legend><label><input "
	       "type=\"radio\" name=\"payment_method_data[us_bank_account][account_type]\" "
	       "value=\"checking\" checked> Checking</label><label><input type=\"radio\" "
	       "name=\"payment_method_data[us_bank_account][account_type]\" "
	       "value=\"savings\"> Savings</label></fieldset>");
	ach_mandate_open(r, b, x, "ach-mandate");
	bool setup = strcmp(x->s.mode, "setup") == 0;
	buf_puts(
	    b, setup ? " Two small deposits will be sent to the account in 1-2 business days "
		       "with instructions to verify it; it can be debited once it is verified.</p>"
		     : " Two small deposits will be sent to the account in 1-2 business days with "
		       "instructions to verify it; the payment is taken once it is verified.</p>");
	pay_form_close(r, b, x, "ach", "by bank account");
}

/* Stripe's iDEAL bank codes, in the order its Checkout lists them (vault/ideal.h names each) */
static const char *const IDEAL_BANKS[] = {
    "abn_amro", "asn_bank", "bunq",	    "handelsbanken", "ing",
    "knab",	"moneyou",  "n26",	    "rabobank",	     "regiobank",
    "revolut",	"sns_bank", "triodos_bank", "van_lanschot",  "yoursafe"};

/* An iDEAL or Bancontact form (payment_method_types with ideal / bancontact): the buyer's email
 * and name (Stripe's Checkout collects the name for both) and, for iDEAL, their bank; posted
 * where the card form posts, it makes the PaymentMethod and sends the browser to the bank (the
 * hosted test page, api/redirect_page.c), which sends it back to …/return. */
static void redirect_form(struct req *r, struct buf *b, const struct page_ctx *x, const char *type,
			  bool heading)
{
	bool ideal = strcmp(type, "ideal") == 0;
	const char *name = ideal ? "iDEAL" : "Bancontact";
	if (heading)
		buf_printf(b, "<h2 id=\"choice-%s\">Pay with %s</h2>", type, name);
	pay_form_open(r, b, x, type, type);
	buf_printf(b,
		   "<label for=\"%s-name\">Full name</label><input id=\"%s-name\" required "
		   "maxlength=\"200\" name=\"payment_method_data[billing_details][name]\" "
		   "autocomplete=\"name\">",
		   type, type);
	if (ideal) {
		buf_puts(b, "<label for=\"ideal-bank\">Bank</label><select id=\"ideal-bank\" "
			    "required name=\"payment_method_data[ideal][bank]\"><option "
			    "value=\"\">Select your bank</option>");
		for (size_t i = 0; i < sizeof(IDEAL_BANKS) / sizeof(IDEAL_BANKS[0]); i++) {
			const struct ideal_bank *bank = redirect_ideal_bank(IDEAL_BANKS[i]);
			buf_printf(b, "<option value=\"%s\">", IDEAL_BANKS[i]);
			html_escape(b, bank ? bank->name : IDEAL_BANKS[i]);
			buf_puts(b, "</option>");
		}
		buf_puts(b, "</select>");
	}
	/* a payment saved for later (or setup mode's saving) generates a SEPA Direct Debit
	 * mandate (generate_sepa) */
	bool setup = strcmp(x->s.mode, "setup") == 0;
	bool sub = strcmp(x->s.mode, "subscription") == 0;
	if (setup || sub || session_sfu_of(r, &x->s, type)) {
		buf_printf(b,
			   "<p class=\"mandate\" id=\"%s-mandate\">By continuing, you authorise ",
			   type);
		html_escape(b, x->merchant_name);
		buf_puts(b, setup || sub
				? " to debit the account you confirm at your bank for later "
				  "payments by SEPA Direct Debit, as the mandate your bank's "
				  "confirmation creates says.</p>"
				: " to debit the account you pay with for later payments by SEPA "
				  "Direct Debit, as the mandate your bank's confirmation creates "
				  "says.</p>");
	}
	pay_form_close(r, b, x, type, arena_printf(&r->arena, "with %s", name));
}

/* The method's name as the buyer knows it (Afterpay is Clearpay in the UK) */
static const char *bnpl_name(const char *type, const char *currency)
{
	if (strcmp(type, "affirm") == 0)
		return "Affirm";
	if (strcmp(type, "klarna") == 0)
		return "Klarna";
	return strcmp(currency, "gbp") == 0 ? "Clearpay" : "Afterpay";
}

/* A buy-now-pay-later form (payment_method_types with affirm / afterpay_clearpay / klarna, the
 * total within the lender's limits): what the lender requires of the buyer (redirect.h's
 * redirect_bnpl_missing; Affirm: email and name; Klarna: email and billing country; Afterpay /
 * Clearpay: name, email, address line 1 and country, and where to ship: the session's
 * shipping address fields when it collects one, else the billing address), checked again by
 * pay(). Posted where the card form posts, it is the iDEAL form's path: the PaymentMethod, the
 * intent confirmed with the session's return URL, the lender's test page. */
static void bnpl_form(struct req *r, struct buf *b, const struct page_ctx *x, const char *type,
		      bool heading, json_t *ship)
{
	const char *name = bnpl_name(type, x->s.currency);
	bool afterpay = strcmp(type, "afterpay_clearpay") == 0;
	if (heading)
		buf_printf(b, "<h2 id=\"choice-%s\">Pay with %s</h2>", type, name);
	pay_form_open(r, b, x, type, type);
	if (!(strcmp(type, "klarna") == 0))
		buf_printf(b,
			   "<label for=\"%s-name\">Full name</label><input id=\"%s-name\" "
			   "required maxlength=\"200\" "
			   "name=\"payment_method_data[billing_details][name]\" "
			   "autocomplete=\"name\">",
			   type, type);
	if (afterpay)
		buf_printf(b,
			   "<label for=\"%s-line1\">Billing address</label><input "
			   "id=\"%s-line1\" required maxlength=\"200\" "
			   "name=\"payment_method_data[billing_details][address][line1]\" "
			   "autocomplete=\"billing address-line1\">"
			   "<label for=\"%s-city\">Billing city</label><input id=\"%s-city\" "
			   "maxlength=\"200\" "
			   "name=\"payment_method_data[billing_details][address][city]\" "
			   "autocomplete=\"billing address-level2\">"
			   "<label for=\"%s-postal_code\">Billing postal code</label><input "
			   "id=\"%s-postal_code\" maxlength=\"20\" "
			   "name=\"payment_method_data[billing_details][address][postal_code]\" "
			   "autocomplete=\"billing postal-code\">",
			   type, type, type, type, type, type);
	if (strcmp(type, "affirm") != 0)
		buf_printf(b,
			   "<label for=\"%s-country\">Billing country (two-letter "
			   "code)</label><input id=\"%s-country\" required maxlength=\"2\" "
			   "name=\"payment_method_data[billing_details][address][country]\" "
			   "autocomplete=\"billing country\">",
			   type, type);
	/* the session's shipping (options, address) as the card form asks for it */
	if (x->s.shipping_countries || (json_is_array(ship) && json_array_size(ship) > 1)) {
		buf_printf(b, "<div id=\"%s-shipping\">", type);
		shipping_fields(b, &x->s, ship, arena_printf(&r->arena, "%s-", type));
		buf_puts(b, "</div>");
	} else if (afterpay) {
		buf_printf(b,
			   "<p id=\"%s-ships-to\">%s ships your order to your billing "
			   "address.</p>",
			   type, name);
	}
	pay_form_close(r, b, x, type, arena_printf(&r->arena, "with %s", name));
}

/* The lines whose quantity the buyer chooses (adjustable_quantity): a small form of their own
 * (no scripts), one number field per line within its range and an Update button, posting to
 * …/quantities; the answer is the page again with the session priced for them. Only on the
 * session's own page (a payment link's page goes on to it first). */
static void quantities_form(struct req *r, struct buf *b, const struct page_ctx *x)
{
	json_t *items = json_loads(x->s.line_items, 0, NULL);
	size_t i;
	json_t *it;
	bool open = false;
	json_array_foreach(items, i, it)
	{
		json_t *adj = json_object_get(it, "adjustable_quantity");
		const char *id = json_string_value(json_object_get(it, "id"));
		if (!json_is_object(adj) || !id)
			continue;
		if (!open) {
			buf_puts(b, "<form class=\"quantities\" method=\"post\" action=\"");
			html_escape(b, arena_printf(&r->arena, "/checkout/%s/%s/quantities",
						    x->acct, x->key));
			buf_puts(b, "\">");
			open = true;
		}
		int64_t lo, hi;
		adjustable_range(adj, &lo, &hi);
		buf_printf(b, "<label for=\"quantity-%zu\">Quantity of ", i);
		html_escape(b, json_string_value(json_object_get(it, "description")));
		buf_printf(
		    b,
		    "</label><input id=\"quantity-%zu\" type=\"number\" required "
		    "inputmode=\"numeric\" step=\"1\" min=\"%lld\" max=\"%lld\" value=\"%lld\" "
		    "name=\"quantity[",
		    i, (long long)lo, (long long)hi,
		    (long long)json_integer_value(json_object_get(it, "quantity")));
		html_escape(b, id);
		buf_puts(b, "]\">");
	}
	json_decref(items);
	if (open)
		buf_puts(b,
			 "<p><button type=\"submit\" id=\"update-quantities\">Update</button></p>"
			 "</form>");
}

/* " per unit", or a price with transform_quantity's " per N units" (its unit amount is for
 * that many: the usage is divided by N before it is priced) */
static void per_units_put(struct buf *b, json_t *line)
{
	int64_t n = json_integer_value(json_object_get(line, "per_units"));
	if (n > 1)
		buf_printf(b, " per %lld units", (long long)n);
	else
		buf_puts(b, " per unit");
}

static int checkout_page(struct req *r, struct page_ctx *x, int status, const char *error)
{
	bool setup = strcmp(x->s.mode, "setup") == 0;
	bool sub = strcmp(x->s.mode, "subscription") == 0;
	int64_t per_period = 0; /* subscription mode: what each period costs after the first */
	bool metered = false;	/* and whether usage adds to it */
	const char *interval = NULL;
	int64_t interval_count = 1;
	struct buf b;
	buf_init(&b, 256 * 1024);
	buf_puts(&b, "<h1>");
	html_escape(&b, x->merchant_name);
	bool banks = takes_type(&x->s, "sepa_debit") || takes_type(&x->s, "us_bank_account");
	buf_puts(&b, !setup ? "</h1><table>"
		     : banks
			 ? "</h1><p>Save a payment method for later payments. Nothing is charged "
			   "now.</p><table>"
			 : "</h1><p>Save a card for later payments. Nothing is charged now.</p>"
			   "<table>");
	json_error_t e;
	json_t *items = json_loads(x->s.line_items, 0, &e);
	size_t i;
	json_t *it;
	struct custom_line custom;
	items_custom_line(x->s.line_items, &custom);
	json_array_foreach(items, i, it)
	{
		int64_t qty = json_integer_value(json_object_get(it, "quantity"));
		int64_t subtotal = line_subtotal(it);
		const char *iv = json_string_value(json_object_get(it, "interval"));
		buf_puts(&b, "<tr><td>");
		html_escape(&b, json_string_value(json_object_get(it, "description")));
		if (json_object_get(it, "custom")) { /* pay what you want: typed below */
			buf_puts(&b, "</td><td class=\"amt\" id=\"custom-line\">");
			if (subtotal > 0)
				html_amount(&b, subtotal, x->s.currency);
			else
				buf_puts(&b, "Your choice");
			buf_puts(&b, "</td></tr>");
			continue;
		}
		if (json_is_true(json_object_get(it, "metered"))) {
			/* billed later for its meter's usage: its price per unit, not an amount */
			metered = true;
			buf_puts(&b, "</td><td class=\"amt metered\">Billed by usage");
			const char *uad =
			    json_string_value(json_object_get(it, "unit_amount_decimal"));
			if (json_is_true(json_object_get(it, "tiered"))) {
				buf_puts(&b, " (tiered)");
			} else if (uad) { /* sub-cent: its decimal, exactly, in major units */
				const struct currency *cu = currency_find(x->s.currency);
				char major[48];
				if (tiers_decimal_major(uad, cu ? cu->exponent : 2, major,
							sizeof(major)) != 0)
					snprintf(major, sizeof(major), "%s", "?");
				buf_puts(&b, ", ");
				html_escape(&b, major);
				buf_puts(&b, " ");
				html_escape(&b, x->s.currency);
				per_units_put(&b, it);
			} else {
				buf_puts(&b, ", ");
				html_amount(&b,
					    json_integer_value(json_object_get(it, "unit_amount")),
					    x->s.currency);
				per_units_put(&b, it);
			}
			if (iv) {
				interval = arena_strdup(&r->arena, iv);
				interval_count =
				    json_integer_value(json_object_get(it, "interval_count"));
				html_interval(&b, interval, interval_count);
			}
			buf_puts(&b, "</td></tr>");
			continue;
		}
		buf_printf(&b, " × %lld</td><td class=\"amt\">", (long long)qty);
		html_amount(&b, subtotal, x->s.currency);
		if (sub && iv) {
			interval = arena_strdup(&r->arena, iv);
			interval_count = json_integer_value(json_object_get(it, "interval_count"));
			html_interval(&b, interval, interval_count);
			per_period += subtotal; /* bounded by checkout_price_items */
		}
		buf_puts(&b, "</td></tr>");
	}
	json_decref(items);
	int64_t tax = 0, tax_exclusive = 0;
	if (!setup)
		items_tax_sums(x->s.line_items, &tax, &tax_exclusive);
	int64_t discount =
	    x->s.amount_subtotal + x->s.amount_shipping + tax_exclusive - x->s.amount_total;
	if (!setup && ((x->s.discount_coupon && discount != 0) || tax != 0)) {
		buf_puts(&b, "<tr><td>Subtotal</td><td class=\"amt\" id=\"subtotal\">");
		html_amount(&b, x->s.amount_subtotal, x->s.currency);
		buf_puts(&b, "</td></tr>");
	}
	if (!setup && x->s.discount_coupon && discount != 0) {
		buf_puts(&b, "<tr><td>Discount (<span id=\"discount-label\">");
		html_escape(&b, x->discount_label ? x->discount_label : "");
		buf_puts(&b, "</span>)</td><td class=\"amt\" id=\"discount\">−");
		html_amount(&b, discount, x->s.currency);
		buf_puts(&b, "</td></tr>");
	}
	/* the items' taxes: exclusive ones add to the total, inclusive ones are inside it */
	if (!setup && tax_exclusive != 0) {
		buf_puts(&b, "<tr><td>Tax</td><td class=\"amt\" id=\"tax\">");
		html_amount(&b, tax_exclusive, x->s.currency);
		buf_puts(&b, "</td></tr>");
	}
	if (!setup && tax != tax_exclusive) {
		buf_puts(&b, "<tr><td>Tax included</td><td class=\"amt\" id=\"tax-included\">");
		html_amount(&b, tax - tax_exclusive, x->s.currency);
		buf_puts(&b, "</td></tr>");
	}
	json_t *ship = x->s.shipping_options ? json_loads(x->s.shipping_options, 0, &e) : NULL;
	size_t n_ship = json_is_array(ship) ? json_array_size(ship) : 0;
	if (!setup && n_ship) {
		const char *chosen = "";
		json_array_foreach(ship, i, it)
		{
			const char *id = json_string_value(json_object_get(it, "shipping_rate"));
			if (id && x->s.shipping_rate && strcmp(id, x->s.shipping_rate) == 0)
				chosen = json_string_value(json_object_get(it, "display_name"));
		}
		buf_puts(&b, "<tr><td>Shipping (<span id=\"shipping-label\">");
		html_escape(&b, chosen ? chosen : "");
		buf_puts(&b, "</span>)</td><td class=\"amt\" id=\"shipping\">");
		html_amount(&b, x->s.amount_shipping, x->s.currency);
		buf_puts(&b, "</td></tr>");
	}
	if (!setup) {
		buf_puts(&b, sub ? "<tr><th>Due today</th><th class=\"amt\" id=\"total\">"
				 : "<tr><th>Total</th><th class=\"amt\" id=\"total\">");
		html_amount(&b, x->s.amount_total, x->s.currency);
		buf_puts(&b, "</th></tr>");
	}
	buf_puts(&b, "</table>");
	if (sub && interval) {
		buf_puts(&b, "<p id=\"recurring\">");
		if (x->s.sub_trial_days > 0)
			buf_printf(&b, "Free for %lld days, then ", (long long)x->s.sub_trial_days);
		else
			buf_puts(&b, "Then ");
		if (metered && per_period == 0) { /* only metered prices */
			buf_puts(&b, "billed by usage");
			html_interval(&b, interval, interval_count);
		} else {
			html_amount(&b, per_period, x->s.currency);
			html_interval(&b, interval, interval_count);
			buf_puts(&b, metered ? " plus usage" : "");
		}
		buf_puts(&b, x->s.discount_coupon ? " before discounts" : "");
		buf_puts(&b, tax_exclusive ? ", plus tax" : "");
		buf_puts(&b, no_card(r, &x->s) ? ", billed until you cancel.</p>"
					       : ", charged to this card until you cancel.</p>");
	}
	if (!setup && !x->action)
		quantities_form(r, &b, x);
	/* a promotion code: its own small form, posted before the card's (no scripts) */
	if (x->s.allow_promotion_codes && !x->action) {
		buf_puts(&b, "<form class=\"promo\" method=\"post\" action=\"");
		html_escape(
		    &b, arena_printf(&r->arena, "/checkout/%s/%s/promotion_code", x->acct, x->key));
		buf_puts(&b, "\">");
		if (x->s.discount_promotion_code) {
			buf_puts(&b, "<p>Promotion code <strong id=\"applied-code\">");
			html_escape(&b, x->discount_label ? x->discount_label : "");
			buf_puts(&b, "</strong> <input type=\"hidden\" name=\"promotion_code\" "
				     "value=\"\"><button type=\"submit\">Remove</button></p>");
		} else {
			buf_puts(&b, "<label for=\"promotion_code\">Promotion code</label><input "
				     "id=\"promotion_code\" name=\"promotion_code\" required "
				     "maxlength=\"100\" autocomplete=\"off\"><p><button "
				     "type=\"submit\">Apply</button></p>");
		}
		buf_puts(&b, "</form>");
	}
	if (error) {
		buf_puts(&b, "<p class=\"error\" role=\"alert\">");
		html_escape(&b, error);
		buf_puts(&b, "</p>");
	}
	bool dynamic = session_asks_address(r, &x->s);
	if (dynamic)
		billing_address_form(r, &b, x);
	/* the taxes depend on the address: no card before the buyer sees them */
	bool card_form = takes_type(&x->s, "card");
	bool sepa_form = takes_type(&x->s, "sepa_debit") && (!dynamic || x->s.billing_address);
	bool ach_form = takes_type(&x->s, "us_bank_account") && (!dynamic || x->s.billing_address);
	bool ideal_form = takes_type(&x->s, "ideal") && (!dynamic || x->s.billing_address);
	bool bancontact_form =
	    takes_type(&x->s, "bancontact") && (!dynamic || x->s.billing_address);
	bool cash_form_on =
	    takes_type(&x->s, "customer_balance") && (!dynamic || x->s.billing_address);
	bool bnpl_forms[3], any_bnpl = false;
	int n_bnpl = 0;
	for (size_t k = 0; k < 3; k++) {
		bnpl_forms[k] =
		    bnpl_offered(&x->s, BNPL_NAMES[k]) && (!dynamic || x->s.billing_address);
		any_bnpl |= bnpl_forms[k];
		n_bnpl += bnpl_forms[k];
	}
	if ((sepa_form || ach_form || ideal_form || bancontact_form || any_bnpl) && card_form)
		buf_puts(&b, "<h2 id=\"choice-card\">Pay by card</h2>");
	if (card_form && (!dynamic || x->s.billing_address)) {
		buf_puts(&b, "<form class=\"pay\" method=\"post\" autocomplete=\"on\" action=\"");
		html_escape(&b, x->action
				    ? x->action
				    : arena_printf(&r->arena, "/checkout/%s/%s", x->acct, x->key));
		buf_puts(&b, "\">");
		if (x->nonce) {
			buf_puts(&b, "<input type=\"hidden\" name=\"link_nonce\" value=\"");
			html_escape(&b, x->nonce);
			buf_puts(&b, "\">");
		}
		custom_amount_input(&b, x, "");
		buf_puts(
		    &b,
		    "<input type=\"hidden\" name=\"payment_method_data[type]\" value=\"card\">"
		    "<label for=\"email\">Email</label><input id=\"email\" type=\"email\" "
		    "name=\"payment_method_data[billing_details][email]\" autocomplete=\"email\"");
		if (x->s.customer_email) {
			buf_puts(&b, " value=\"");
			html_escape(&b, x->s.customer_email);
			buf_puts(&b, "\"");
		}
		buf_puts(&b, "><label for=\"name\">Name on card</label><input id=\"name\" "
			     "name=\"payment_method_data[billing_details][name]\" "
			     "autocomplete=\"cc-name\">");
		if (!no_card(r, &x->s))
			buf_puts(
			    &b,
			    "<label for=\"number\">Card number</label><input id=\"number\" "
			    "required "
			    "inputmode=\"numeric\" autocomplete=\"cc-number\" "
			    "name=\"payment_method_data[card][number]\">"
			    "<div class=\"row\"><div><label for=\"exp_month\">Month "
			    "(MM)</label><input "
			    "id=\"exp_month\" required inputmode=\"numeric\" "
			    "autocomplete=\"cc-exp-month\" "
			    "name=\"payment_method_data[card][exp_month]\"></div><div><label "
			    "for=\"exp_year\">Year (YYYY)</label><input id=\"exp_year\" required "
			    "inputmode=\"numeric\" autocomplete=\"cc-exp-year\" "
			    "name=\"payment_method_data[card][exp_year]\"></div><div><label "
			    "for=\"cvc\">CVC</label><input id=\"cvc\" required "
			    "inputmode=\"numeric\" "
			    "autocomplete=\"cc-csc\" "
			    "name=\"payment_method_data[card][cvc]\"></div></div>");
		if (phone_wanted(r, &x->s))
			buf_puts(&b, "<label for=\"phone\">Phone number</label><input id=\"phone\" "
				     "type=\"tel\" required maxlength=\"20\" autocomplete=\"tel\" "
				     "name=\"payment_method_data[billing_details][phone]\">");
		if (!dynamic && billing_required(r, &x->s))
			billing_fields(&b);
		custom_fields_inputs(&b, &x->s);
		if (collect_str(&r->arena, &x->s, "tax_id_collection", "enabled"))
			tax_id_inputs(&b, tax_id_required(r, &x->s));
		if (!setup && !sub && x->s.shipping_countries)
			custom_text_put(r, &b, &x->s, "shipping_address", "shipping-address");
		if (!setup && !sub)
			shipping_fields(&b, &x->s, ship, "");
		consent_inputs(r, &b, &x->s);
		reuse_agreement_text(r, &b, x);
		custom_text_put(r, &b, &x->s, "submit", "submit");
		buf_puts(&b, "<p><button type=\"submit\" class=\"complete\">");
		if (setup) {
			buf_puts(&b, "Save card");
		} else if (sub) {
			buf_puts(&b, x->s.sub_trial_days > 0 ? "Start trial" : "Subscribe");
		} else {
			buf_puts(&b, strcmp(x->s.submit_type, "donate") == 0 ? "Donate"
				     : strcmp(x->s.submit_type, "book") == 0 ? "Book"
									     : "Pay");
			/* several shipping options: the total is the one chosen (each shows its
			 * own) */
			if (n_ship < 2 && !custom.on) {
				buf_puts(&b, " ");
				html_amount(&b, x->s.amount_total, x->s.currency);
			}
		}
		buf_puts(&b, "</button></p>");
		custom_text_put(r, &b, &x->s, "after_submit", "after-submit");
		buf_puts(&b, "</form>");
	}
	if (sepa_form)
		sepa_debit_form(r, &b, x, card_form);
	if (ach_form) {
		/* automatic (Stripe's default): linking first, typing by hand as the fallback;
		 * instant: linking only; microdeposits: typing only */
		const char *vm = ach_verification(r, &x->s);
		bool link = strcmp(vm, "microdeposits") != 0;
		if (link)
			ach_link_form(r, &b, x, card_form || strcmp(vm, "automatic") == 0);
		if (strcmp(vm, "instant") != 0)
			ach_debit_form(r, &b, x, card_form, link);
	}
	if (ideal_form)
		redirect_form(r, &b, x, "ideal", card_form || sepa_form || ach_form);
	if (bancontact_form)
		redirect_form(r, &b, x, "bancontact",
			      card_form || sepa_form || ach_form || ideal_form);
	if (cash_form_on)
		cash_form(r, &b, x,
			  card_form || sepa_form || ach_form || ideal_form || bancontact_form);
	bool before =
	    card_form || sepa_form || ach_form || ideal_form || bancontact_form || cash_form_on;
	for (size_t k = 0; k < 3; k++) {
		if (!bnpl_forms[k])
			continue;
		bnpl_form(r, &b, x, BNPL_NAMES[k], before || n_bnpl > 1, ship);
		before = true;
	}
	json_decref(ship);
	if (x->s.cancel_url) {
		buf_puts(&b, "<p><a id=\"cancel\" href=\"");
		html_escape(&b, x->s.cancel_url);
		buf_puts(&b, "\">Cancel and go back</a></p>");
	}
	int rc = challenge_page(r, status, "Checkout", b.failed ? "" : buf_cstr(&b));
	buf_release(&b);
	return rc;
}

static int h_page(struct req *r)
{
	struct page_ctx x;
	int rc = page_lookup(r, &x, r->args[0], r->args[1]);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	return checkout_page(r, &x, 200, NULL);
}

struct attempt_ctx {
	struct req *r;
	struct page_ctx *x;
	const char *pi_id;
	bool still_open;
	const char *sub_id; /* subscription mode: the attempt's subscription */
	/* mode=payment: the shipping the buyer chose (shipping_choice), recorded with the
	 * attempt, and the total it makes (what the intent charges) */
	const char *ship_rate, *ship_details;
	int64_t ship_amount, new_total;
	const char *customer; /* the session's customer after the attempt (made by it, or given) */
	/* mode=payment: the form may confirm the session's intent again (any form: a bank
	 * debit's mandate is accepted on it anew), and did: pi_id is then that intent's */
	bool reuse_ok, reused;
	/* mode=subscription's iDEAL / Bancontact form: the attempt is the SetupIntent saving the
	 * account first, as setup mode's (sub_bank) */
	bool bank_setup;
};

/* Inside attempt_fn, once the attempt is the session's: the phone and billing address the
 * buyer gave, recorded, and the customer: made from them (customer_creation=always, no
 * customer yet; not in subscription mode, whose subscription makes its own), or, for the
 * session's given customer, updated as customer_update says (auto). 0, or -1 with r->err. */
static int attempt_details(struct db *db, struct attempt_ctx *a, const struct session *cur)
{
	struct req *r = a->r;
	struct page_ctx *x = a->x;
	const char *made = NULL;
	a->customer = cur->customer;
	if (!cur->customer && x->cus_new[0] && strcmp(cur->mode, "subscription") != 0) {
		const char *email = cur->customer_email ? cur->customer_email : x->s.details_email;
		if (customer_create_for_checkout(r, db, x->cus_new, email, x->s.details_name,
						 x->s.details_phone, x->s.billing_address) != 0)
			return -1;
		made = a->customer = x->cus_new;
		if (x->tax_id && tax_ids_create_from_data(r, db, made) != 0)
			return -1;
	} else if (cur->customer && cur->collect) {
		const char *nm = collect_str(&r->arena, cur, "customer_update", "name");
		const char *ad = collect_str(&r->arena, cur, "customer_update", "address");
		const char *sh = collect_str(&r->arena, cur, "customer_update", "shipping");
		bool n_auto = nm && strcmp(nm, "auto") == 0 && x->s.details_name;
		bool a_auto = ad && strcmp(ad, "auto") == 0 && x->s.billing_address;
		bool s_auto = sh && strcmp(sh, "auto") == 0 && a->ship_details;
		if ((n_auto || a_auto || s_auto) &&
		    customer_checkout_update(
			r, db, cur->customer, n_auto ? x->s.details_name : NULL,
			a_auto ? x->s.billing_address : NULL, s_auto ? a->ship_details : NULL) != 0)
			return -1;
		/* tax_id_collection with a customer needs customer_update[name]=auto (create) */
		if (x->tax_id && tax_ids_create_from_data(r, db, cur->customer) != 0)
			return -1;
	}
	struct db_stmt *st = db_prepare(db, SQL_ATTEMPT_DETAILS);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, x->acct, -1);
	db_bind_text(st, 2, x->id, -1);
	db_bind_text(st, 3, x->s.details_phone, -1);
	db_bind_text(st, 4, x->s.billing_address, -1);
	db_bind_text(st, 5, made, -1);
	db_bind_text(st, 6, x->s.custom_fields, -1);
	db_bind_text(st, 7, x->s.consent, -1);
	db_bind_text(st, 8, x->s.details_tax_ids, -1);
	return db_step_done(st) == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* Subscription mode, inside attempt_fn: the last attempt's subscription, if it was made and
 * left incomplete (its payment declined after 3-D Secure, or its challenge walked away from),
 * ends now, so the session buys one subscription; then this attempt is recorded. */
static int sub_attempt(struct db *db, struct attempt_ctx *a, const struct session *cur)
{
	struct req *r = a->r;
	struct page_ctx *x = a->x;
	if (cur->subscription && subscription_end_incomplete(r, db, cur->subscription) != 0)
		return -1;
	struct db_stmt *st = db_prepare(db, SQL_ATTEMPT_SUB);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, x->acct, -1);
	db_bind_text(st, 2, x->id, -1);
	db_bind_text(st, 3, a->sub_id, -1);
	db_bind_text(st, 4, x->s.details_email, -1);
	db_bind_text(st, 5, x->s.details_name, -1);
	db_bind_int64(st, 6, r->now);
	db_bind_text(st, 7, cur->subscription, -1);
	db_bind_text(st, 8, a->pi_id, -1);
	int rc = db_step(st);
	a->still_open = rc == DB_DONE && db_changes(st) == 1;
	db_reset(st);
	if (rc != DB_DONE)
		return req_fail(r, ERR_API, NULL, NULL);
	return a->still_open ? attempt_details(db, a, cur) : 0;
}

/* A new attempt only while no other is under way. The last attempt's intent may have failed
 * (requires_payment_method, canceled): the buyer tries again. It may wait for 3-D Secure the
 * buyer walked away from: it is canceled (abandoned), so its challenge can no longer pay. It
 * may never have come to exist (the process died between the two writes) once ATTEMPT_STALE_S
 * have passed. Anything else (paid, or being paid right now: a form posted twice) refuses. */
static int attempt_fn(struct db *db, void *arg)
{
	struct attempt_ctx *a = arg;
	struct req *r = a->r;
	struct page_ctx *x = a->x;
	bool setup = strcmp(x->s.mode, "setup") == 0 || a->bank_setup;
	bool sub = strcmp(x->s.mode, "subscription") == 0 && !a->bank_setup;
	a->still_open = false;
	a->customer = NULL;
	struct session cur;
	int rc = session_load(&r->arena, db, x->acct, x->id, &cur);
	if (rc != DB_OK)
		return rc == DB_NOTFOUND ? 0 : req_fail(r, ERR_API, NULL, NULL);
	const char *last = setup ? cur.setup_intent : cur.payment_intent;
	if (strcmp(cur.status, "open") != 0)
		return 0;
	/* a promotion code applied (or removed) since the page was read: the buyer pays what
	 * the page showed or nothing (the page is shown again) */
	if (cur.amount_total != x->s.amount_total)
		return 0;
	/* a subscription made by another attempt (a card's, its 3-D Secure under way) first */
	if (a->bank_setup && cur.subscription)
		return 0;
	if (sub && cur.subscription) {
		/* subscription mode: the attempt is its subscription. Not there: being made now
		 * (or a process died making it, once stale). There: its first payment decides, as
		 * below; a trial's (no intent) completed the session with it. */
		const char *status;
		rc = subscription_status(r, db, cur.subscription, &status);
		if (rc == DB_NOTFOUND)
			return cur.attempt_at >= r->now - ATTEMPT_STALE_S
				   ? 0
				   : sub_attempt(db, a, &cur);
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (!last)
			return 0;
	}
	if (last) {
		const char *status = NULL;
		struct payment_intent pi;
		rc = setup ? setup_intent_status(r, db, x->acct, last, &status)
			   : pi_load(db, &r->arena, x->acct, last, &pi);
		if (rc == DB_OK && !setup)
			status = pi.status;
		if (rc == DB_NOTFOUND) {
			if (cur.attempt_at >= r->now - ATTEMPT_STALE_S)
				return 0;
		} else if (rc != DB_OK) {
			return req_fail(r, ERR_API, NULL, NULL);
		} else if (a->reuse_ok && !setup && !sub &&
			   (strcmp(status, "requires_payment_method") == 0 ||
			    strcmp(status, "requires_action") == 0)) {
			/* Stripe keeps one PaymentIntent per session: the attempt confirms it
			 * again (its version decides between two posts of the form) */
			a->pi_id = last;
			a->reused = true;
		} else if (strcmp(status, "requires_action") == 0) {
			if ((setup ? setup_intent_abandon(r, db, last)
				   : payment_intent_abandon(r, db, last)) != 0)
				return -1;
		} else if (strcmp(status, "requires_payment_method") != 0 &&
			   strcmp(status, "canceled") != 0) {
			return 0;
		}
	}
	if (sub)
		return sub_attempt(db, a, &cur);
	struct db_stmt *st = db_prepare(db, setup ? SQL_ATTEMPT_SETUP : SQL_ATTEMPT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, x->acct, -1);
	db_bind_text(st, 2, x->id, -1);
	db_bind_text(st, 3, a->pi_id, -1);
	db_bind_text(st, 4, x->s.details_email, -1);
	db_bind_text(st, 5, x->s.details_name, -1);
	db_bind_int64(st, 6, r->now);
	db_bind_text(st, 7, last, -1);
	if (!setup) {
		db_bind_text(st, 8, a->ship_rate, -1);
		db_bind_int64(st, 9, a->ship_amount);
		db_bind_int64(st, 10, a->new_total);
		db_bind_text(st, 11, a->ship_details, -1);
	}
	rc = db_step(st);
	a->still_open = rc == DB_DONE && db_changes(st) == 1;
	db_reset(st);
	if (rc != DB_DONE)
		return req_fail(r, ERR_API, NULL, NULL);
	return a->still_open ? attempt_details(db, a, &cur) : 0;
}

/* The attempt was refused: another is under way (the form was posted twice), or the session
 * closed meanwhile. */
static int busy_page(struct req *r)
{
	return challenge_page(r, 409, "Checkout busy",
			      "<h1>This checkout is already being paid, or is closed</h1><p>Wait a "
			      "moment, then reload the page to see how it ended.</p>");
}

/* setup mode: the card (or the SEPA or ACH form's bank account, whose multi-use mandate the
 * buyer accepts online on the page now) is checked and saved by a SetupIntent (for the
 * session's customer, if any), recorded on the session first as a payment's intent is. */
static int save_card(struct req *r, struct page_ctx *x, const char *pm, const char *ret_url,
		     bool bank_setup)
{
	json_t *cj = x->s.collect ? json_loads(x->s.collect, 0, NULL) : NULL;
	json_t *sd = json_object_get(cj, "setup_intent_data");
	char *sd_meta = sd ? json_dumps(json_object_get(sd, "metadata"), JSON_COMPACT) : NULL;
	const char *sd_desc = json_string_value(json_object_get(sd, "description"));
	const char *si_meta = sd_meta ? arena_strdup(&r->arena, sd_meta) : NULL;
	const char *si_desc = sd_desc ? arena_strdup(&r->arena, sd_desc) : NULL;
	free(sd_meta);
	json_decref(cj);
	struct si_checkout co = {.customer = x->s.customer,
				 .metadata = si_meta,
				 .description = si_desc,
				 .return_url = ret_url,
				 .pm_id = pm,
				 .checkout_session = x->s.id,
				 .payment_method_types = x->s.pm_types,
				 .acc_ip = r->client_ip,
				 .acc_ua = r->user_agent,
				 .ach_verification_method = pmo_str(r, &x->s, "us_bank_account",
								    "verification_method", NULL),
				 .ach_financial_connections = ach_fc_options(r, &x->s)};
	id_new_at(co.id, "seti_", r->now);
	struct attempt_ctx a = {r, x, co.id, false, NULL,  NULL,      NULL,
				0, 0, NULL,  false, false, bank_setup};
	if (req_write(r, attempt_fn, &a) != 0)
		return -1;
	if (!a.still_open)
		return busy_page(r);
	co.customer = a.customer;
	x->s.setup_intent = co.id;
	if (setup_intents_checkout(r, &co) != 0) {
		const char *msg = req_error_message(r);
		r->err.set = false;
		return checkout_page(r, x, 402, msg);
	}
	if (co.challenge_url) {
		r->location = co.challenge_url;
		return challenge_redirect(r);
	}
	x->s.status = "complete"; /* by the SetupIntent's own write */
	return completed(r, x, 0);
}

/* Subscription mode, inside the subscription's write (before its rows): the customer made for
 * the buyer when the session named none (Stripe's customer creation in subscription mode),
 * and the session's customer and invoice, while this attempt is still the session's. */
struct sub_rows {
	struct page_ctx *x;
	struct sub_checkout *co;
	const char *email, *name;
	/* the SEPA form's PaymentMethod (or NULL: a card): its multi-use mandate, accepted
	 * online on the page now, is what the first invoice and the renewals debit under */
	const char *sepa_pm;
};

static int sub_rows_fn(struct req *r, struct db *db, void *p)
{
	struct sub_rows *sr = p;
	if (sr->co->new_customer &&
	    customer_create_for_checkout(r, db, sr->co->customer, sr->email, sr->name,
					 sr->x->s.details_phone, sr->x->s.billing_address) != 0)
		return -1;
	if (sr->co->new_customer && sr->x->tax_id &&
	    tax_ids_create_from_data(r, db, sr->co->customer) != 0)
		return -1;
	/* before the invoice's off-session debit looks for it (mandates.c); a trial's write
	 * saves the PaymentMethod on the customer after this */
	char mandate[ID_MAX];
	if (sr->sepa_pm &&
	    sepa_setup_mandate(
		r, db, sr->sepa_pm, "online", r->client_ip[0] ? r->client_ip : "0.0.0.0",
		r->user_agent && *r->user_agent ? r->user_agent : "unknown", NULL, mandate) != 0)
		return -1;
	struct db_stmt *st = db_prepare(db, SQL_SUB_ROWS);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, sr->x->acct, -1);
	db_bind_text(st, 2, sr->x->id, -1);
	db_bind_text(st, 3, sr->co->customer, -1);
	db_bind_text(st, 4, sr->co->invoice_id, -1);
	db_bind_text(st, 5, sr->co->id, -1);
	int64_t n = 0;
	int rc = db_step(st);
	if (rc == DB_DONE)
		n = db_changes(st);
	db_reset(st);
	if (rc != DB_DONE)
		return req_fail(r, ERR_API, NULL, NULL);
	if (n != 1)
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"This checkout is already being paid, or is closed.");
	return 0;
}

struct clear_ctx {
	struct req *r;
	struct page_ctx *x;
	const char *sub_id;
};

/* After an attempt that kept nothing (a decline rolls its subscription back): the session
 * forgets it, unless its subscription exists after all. */
static int attempt_clear_fn(struct db *db, void *p)
{
	struct clear_ctx *c = p;
	struct req *r = c->r;
	const char *status;
	int rc = subscription_status(r, db, c->sub_id, &status);
	if (rc == DB_OK)
		return 0;
	if (rc != DB_NOTFOUND)
		return req_fail(r, ERR_API, NULL, NULL);
	struct db_stmt *st = db_prepare(db, SQL_ATTEMPT_CLEAR);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, c->x->acct, -1);
	db_bind_text(st, 2, c->x->id, -1);
	db_bind_text(st, 3, c->sub_id, -1);
	return db_step_done(st) == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* Subscription mode: the session's subscription, made by subscriptions.c's own create with the
 * buyer's card (see subscriptions_checkout): its first invoice paid by an ordinary
 * PaymentIntent whose write also makes the subscription and completes the session, or, with a
 * trial, one write that saves the card, makes the subscription and completes the session. The
 * attempt (its subscription and intent ids) is recorded on the session first, as a payment's. */
static int subscribe(struct req *r, struct page_ctx *x, const char *pm, bool sepa, bool mandated,
		     const char *ret_url)
{
	struct sub_checkout *co = arena_alloc(&r->arena, sizeof(*co));
	if (!co)
		return req_fail(r, ERR_API, NULL, NULL);
	memset(co, 0, sizeof(*co));
	co->payment_link = x->s.payment_link;
	json_error_t e;
	json_t *items = json_loads(x->s.line_items, 0, &e);
	size_t i;
	json_t *it;
	json_array_foreach(items, i, it)
	{
		if (co->n_items == SUB_CHECKOUT_ITEMS_MAX)
			break;
		const char *price = json_string_value(json_object_get(it, "price"));
		co->items[co->n_items].price = price ? arena_strdup(&r->arena, price) : NULL;
		co->items[co->n_items].quantity =
		    json_integer_value(json_object_get(it, "quantity"));
		if (!co->items[co->n_items].price)
			break;
		/* its tax rates become its subscription item's, so every invoice is taxed */
		json_t *tr = json_object_get(it, "tax_rates");
		json_t *dyn = NULL; /* or the one its dynamic_tax_rates took */
		if (!tr && json_is_string(json_object_get(it, "dynamic_tax_rate")))
			tr = dyn = json_pack("[O]", json_object_get(it, "dynamic_tax_rate"));
		size_t nt = json_is_array(tr) ? json_array_size(tr) : 0;
		const char **ids = nt ? arena_alloc(&r->arena, nt * sizeof(*ids)) : NULL;
		size_t k = 0;
		json_t *v;
		if (nt <= BILLING_TAX_RATES_MAX && (!nt || ids)) {
			json_array_foreach(tr, k, v)
			{
				const char *id = json_string_value(v);
				ids[k] = id ? arena_strdup(&r->arena, id) : NULL;
				if (!ids[k])
					break;
			}
		}
		json_decref(dyn);
		if (k != nt)
			break;
		co->items[co->n_items].tax_rates = ids;
		co->items[co->n_items].n_tax_rates = (int)nt;
		co->n_items++;
	}
	bool bad = !json_is_array(items) || (size_t)co->n_items != json_array_size(items);
	json_decref(items);
	if (bad || co->n_items == 0)
		return req_fail(r, ERR_API, NULL, NULL);
	char cus[ID_MAX];
	if (x->s.customer) {
		co->customer = x->s.customer;
	} else {
		id_new_at(cus, "cus_", r->now);
		co->customer = cus;
		co->new_customer = true;
	}
	co->trial_days = x->s.sub_trial_days;
	co->currency = x->s.currency; /* its items priced in it (currency_options too) */
	co->metadata = x->s.sub_metadata;
	co->description = x->s.sub_description;
	co->flexible = str_eq(x->s.sub_billing_mode, "flexible");
	co->proration_discounts = x->s.sub_pd;
	co->pm_id = pm;
	co->bank_debit = sepa;
	co->checkout_session = x->s.id;
	co->return_url = ret_url;
	id_new_at(co->id, "sub_", r->now);
	co->coupon = x->s.discount_coupon;
	co->promotion_code = x->s.discount_promotion_code;
	/* Stripe Tax taxes its invoices; a customer this attempt makes is taxed at the address
	 * typed (which its write gives it) already when the first invoice is planned */
	co->automatic_tax = x->s.automatic_tax;
	co->tax_address = co->new_customer ? x->s.billing_address : NULL;
	/* nothing due now (a trial, or a discount that takes it all): no intent */
	if (co->trial_days == 0 && x->s.amount_total > 0)
		id_new_at(co->pi_id, "pi_", r->now);
	/* the customer's email: the one the session was made with, else the one typed */
	struct sub_rows sr = {x, co, x->s.customer_email ? x->s.customer_email : x->s.details_email,
			      x->s.details_name, sepa && !mandated ? pm : NULL};
	co->before = sub_rows_fn;
	co->ctx = &sr;
	struct attempt_ctx a = {r,     x,      co->pi_id[0] ? co->pi_id : NULL,
				false, co->id, NULL,
				NULL,  0,      0,
				NULL,  false,  false,
				false};
	if (req_write(r, attempt_fn, &a) != 0)
		return -1;
	if (!a.still_open)
		return busy_page(r);
	x->s.payment_intent = a.pi_id;
	x->s.subscription = co->id;
	if (subscriptions_checkout(r, co) != 0) {
		const char *msg = req_error_message(r);
		r->err.set = false;
		struct clear_ctx cc = {r, x, co->id};
		if (req_write(r, attempt_clear_fn, &cc) != 0) {
			/* the session stays busy until the attempt is stale (ATTEMPT_STALE_S) */
			r->err.set = false;
		}
		return checkout_page(r, x, 402, msg);
	}
	if (co->challenge_url) {
		r->location = co->challenge_url;
		return challenge_redirect(r);
	}
	x->s.status = "complete"; /* by the subscription's own write */
	return completed(r, x, 0);
}

/* mode=payment: the shipping option the form chose (one of the session's; none posted: the
 * session's current one) and the address (required when the session asks for one, its country
 * one of the allowed), onto a, with the total they make. Checked before anything is written:
 * NULL, or the message the page shows. */
static const char *shipping_choice(struct req *r, const struct session *s, struct attempt_ctx *a)
{
	a->ship_rate = s->shipping_rate;
	a->ship_amount = s->amount_shipping;
	a->new_total = s->amount_total;
	a->ship_details = NULL;
	const char *want = param_str(r, "shipping_rate");
	if (s->shipping_options && want && *want &&
	    !(s->shipping_rate && strcmp(want, s->shipping_rate) == 0)) {
		json_t *opts = json_loads(s->shipping_options, 0, NULL);
		size_t i;
		json_t *o;
		bool found = false;
		json_array_foreach(opts, i, o)
		{
			const char *id = json_string_value(json_object_get(o, "shipping_rate"));
			if (!found && id && strcmp(id, want) == 0) {
				found = true;
				a->ship_rate = arena_strdup(&r->arena, id);
				a->ship_amount =
				    json_integer_value(json_object_get(o, "shipping_amount"));
			}
		}
		json_decref(opts);
		if (!found || !a->ship_rate)
			return "Choose one of the shipping options offered.";
		/* the items after their discount, then the chosen shipping */
		int64_t items = s->amount_total - s->amount_shipping;
		if (__builtin_add_overflow(items, a->ship_amount, &a->new_total) ||
		    a->new_total > AMOUNT_TOTAL_MAX || a->new_total < 1)
			return "This shipping option cannot be paid for here.";
	} else if (!s->shipping_options && want && *want) {
		return "This checkout has no shipping options.";
	}
	if (!s->shipping_countries)
		return NULL;
	static const char *const need[] = {"shipping.name", "shipping.address.line1",
					   "shipping.address.city", "shipping.address.country"};
	for (size_t k = 0; k < sizeof(need) / sizeof(need[0]); k++) {
		const char *v = param_str(r, need[k]);
		if (!v || !*v)
			return "Enter the name and address to ship to.";
	}
	const char *country = param_str(r, "shipping.address.country");
	json_t *cs = json_loads(s->shipping_countries, 0, NULL);
	size_t i;
	json_t *c;
	bool allowed = false;
	json_array_foreach(cs, i, c)
	{
		const char *v = json_string_value(c);
		allowed = allowed || (v && strcmp(v, country) == 0);
	}
	json_decref(cs);
	if (!allowed)
		return "This shop does not ship to that country.";
	if (shipping_from_params(r, "shipping", &a->ship_details) != 0 || !a->ship_details) {
		r->err.set = false;
		return "Enter the name and address to ship to.";
	}
	/* automatic tax: the tax was worked out for the address given first; the order ships
	 * there (Stripe taxes by the shipping address) */
	if (s->automatic_tax && s->billing_address) {
		json_t *t = json_loads(s->billing_address, 0, NULL);
		bool same = true;
		static const char *const keys[] = {"country", "state", "postal_code"};
		for (size_t k = 0; k < 3; k++) {
			char path[40];
			snprintf(path, sizeof(path), "shipping.address.%s", keys[k]);
			const char *v = param_str(r, path);
			const char *w = json_string_value(json_object_get(t, keys[k]));
			same = same && ascii_ieq(v ? v : "", w ? w : "");
		}
		json_decref(t);
		if (!same)
			return "Ship to the address the tax was worked out for, or change that "
			       "address above first.";
	}
	return NULL;
}

/* payment_method_options[type][key] of the session, key2 under key when given (NULL: not
 * given) */
static const char *pmo_str(struct req *r, const struct session *s, const char *type,
			   const char *key, const char *key2)
{
	json_t *c = s->collect ? json_loads(s->collect, 0, NULL) : NULL;
	json_t *v = json_object_get(
	    json_object_get(json_object_get(c, "payment_method_options"), type), key);
	if (key2)
		v = json_object_get(v, key2);
	const char *out =
	    json_string_value(v) ? arena_strdup(&r->arena, json_string_value(v)) : NULL;
	json_decref(c);
	return out;
}

/* payment_method_options[us_bank_account][verification_method] of the session: automatic
 * (Stripe's default), instant or microdeposits */
static const char *ach_verification(struct req *r, const struct session *s)
{
	const char *vm = pmo_str(r, s, "us_bank_account", "verification_method", NULL);
	return vm ? vm : "automatic";
}

/* payment_method_options[us_bank_account][financial_connections] of the session as JSON text
 * (NULL: not given, Stripe's defaults) */
static const char *ach_fc_options(struct req *r, const struct session *s)
{
	json_t *c = s->collect ? json_loads(s->collect, 0, NULL) : NULL;
	json_t *v = json_object_get(
	    json_object_get(json_object_get(c, "payment_method_options"), "us_bank_account"),
	    "financial_connections");
	char *t = v ? json_dumps(v, JSON_COMPACT) : NULL;
	const char *out = t ? arena_strdup(&r->arena, t) : NULL;
	free(t);
	json_decref(c);
	return out;
}

/* payment_method_options[card][key] of the session (NULL: not given) */
static const char *pmo_card_str(struct req *r, const struct session *s, const char *key)
{
	return pmo_str(r, s, "card", key, NULL);
}

/* payment_intent_data[key] of the session as JSON text, or its string (NULL: not given) */
static const char *pi_data_str(struct req *r, const struct session *s, const char *key)
{
	json_t *c = s->collect ? json_loads(s->collect, 0, NULL) : NULL;
	json_t *v = json_object_get(json_object_get(c, "payment_intent_data"), key);
	const char *out = NULL;
	if (json_is_string(v)) {
		out = arena_strdup(&r->arena, json_string_value(v));
	} else if (json_is_object(v)) {
		char *t = json_dumps(v, JSON_COMPACT);
		out = t ? arena_strdup(&r->arena, t) : NULL;
		free(t);
	}
	json_decref(c);
	return out;
}

/* setup_future_usage of the session's payment by type: payment_method_options[type]'s (card,
 * us_bank_account; `none` there overrides), else payment_intent_data's (Stripe takes either;
 * the type's own wins for that type) */
static const char *session_sfu_of(struct req *r, const struct session *s, const char *type)
{
	const char *v = NULL;
	if (strcmp(type, "card") == 0) {
		v = pmo_card_str(r, s, "setup_future_usage");
	} else {
		/* us_bank_account's, or a lender's (`none` only) */
		json_t *c = s->collect ? json_loads(s->collect, 0, NULL) : NULL;
		const char *w = json_string_value(json_object_get(
		    json_object_get(json_object_get(c, "payment_method_options"), type),
		    "setup_future_usage"));
		v = w ? arena_strdup(&r->arena, w) : NULL;
		json_decref(c);
		if (v && strcmp(v, "none") == 0)
			return NULL;
	}
	return v ? v : pi_data_str(r, s, "setup_future_usage");
}

/* ... of the payment the buyer posts (payment_method_data[type]; a page shown: the card's) */
static const char *session_sfu(struct req *r, const struct session *s)
{
	const char *type = param_str(r, "payment_method_data.type");
	return session_sfu_of(r, s, type && *type ? type : "card");
}

/* the PaymentIntent's metadata: payment_intent_data[metadata], and a payment link's name */
static const char *session_pi_metadata(struct req *r, const struct session *s)
{
	const char *m = pi_data_str(r, s, "metadata");
	if (!s->payment_link)
		return m;
	json_t *o = m ? json_loads(m, 0, NULL) : NULL;
	if (!o)
		o = json_object();
	json_object_set_new(o, "payment_link", json_string(s->payment_link));
	char *t = json_dumps(o, JSON_COMPACT);
	const char *out = t ? arena_strdup(&r->arena, t) : NULL;
	free(t);
	json_decref(o);
	return out;
}

static bool filled(const char *v)
{
	return v && *v;
}

/* UTF-8 characters in v (its bytes that start one) */
static size_t utf8_chars(const char *v)
{
	size_t n = 0;
	for (; *v; v++)
		n += ((unsigned char)*v & 0xC0) != 0x80;
	return n;
}

/* The form's values of the session's custom_fields, checked as the page asks (required unless
 * optional; a text's or a number's length; a number's digits; one of a dropdown's options),
 * into x->s.custom_fields (each field's value). NULL, or the message the page shows. */
static const char *custom_fields_fill(struct req *r, struct page_ctx *x)
{
	if (!x->s.custom_fields)
		return NULL;
	json_t *fs = json_loads(x->s.custom_fields, 0, NULL);
	const char *bad = NULL;
	size_t i;
	json_t *f;
	json_array_foreach(fs, i, f)
	{
		const char *key = json_string_value(json_object_get(f, "key"));
		const char *type = json_string_value(json_object_get(f, "type"));
		const char *label =
		    json_string_value(json_object_get(json_object_get(f, "label"), "custom"));
		if (!key || !type || bad)
			break;
		const char *v = param_str(r, arena_printf(&r->arena, "custom_fields.%s", key));
		json_t *slot = json_object_get(f, type);
		if (!filled(v)) {
			if (!json_is_true(json_object_get(f, "optional")))
				bad = arena_printf(&r->arena, "Fill in %s.", label ? label : key);
			continue;
		}
		if (strcmp(type, "dropdown") == 0) {
			bool found = false;
			size_t k;
			json_t *o;
			json_array_foreach(json_object_get(slot, "options"), k, o)
			{
				const char *ov = json_string_value(json_object_get(o, "value"));
				found = found || (ov && strcmp(ov, v) == 0);
			}
			if (!found)
				bad = arena_printf(&r->arena, "Choose one of the options of %s.",
						   label ? label : key);
		} else {
			json_t *mxj = json_object_get(slot, "maximum_length");
			size_t mx =
			    json_is_integer(mxj) ? (size_t)json_integer_value(mxj) : CF_LENGTH_MAX;
			size_t mn =
			    (size_t)json_integer_value(json_object_get(slot, "minimum_length"));
			size_t n = utf8_chars(v);
			bool digits = true;
			for (const char *c = v; *c; c++)
				digits = digits && *c >= '0' && *c <= '9';
			if (strcmp(type, "numeric") == 0 && !digits)
				bad = arena_printf(&r->arena, "%s takes digits only.",
						   label ? label : key);
			else if (n < mn || n > mx)
				bad = arena_printf(&r->arena, "%s takes %zu to %zu characters.",
						   label ? label : key, mn, mx);
		}
		if (!bad)
			json_object_set_new(slot, "value", json_string(v));
	}
	char *t = bad ? NULL : json_dumps(fs, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(fs);
	if (!bad) {
		x->s.custom_fields = t ? arena_strdup(&r->arena, t) : NULL;
		if (!x->s.custom_fields)
			bad = "Something went wrong: try again.";
	}
	free(t);
	return bad;
}

/* What the form gave beyond the card, checked before anything is written (custom_fields; the phone
 * when phone_number_collection asks for it; the billing address, line1, city and a country, when
 * billing_address_collection=required), onto x->s (details_phone, billing_address) and, for
 * customer_creation=always without a customer, the id of the customer to make. NULL, or the
 * message the page shows. */
static const char *buyer_details(struct req *r, struct page_ctx *x)
{
	const char *phone = param_str(r, "payment_method_data.billing_details.phone");
	if (phone_wanted(r, &x->s) && !filled(phone))
		return "Enter your phone number.";
	x->s.details_phone = filled(phone) ? phone : NULL;
	const char *bad_field = custom_fields_fill(r, x);
	if (bad_field)
		return bad_field;
	const char *tos = collect_str(&r->arena, &x->s, "consent_collection", "terms_of_service");
	const char *pr = collect_str(&r->arena, &x->s, "consent_collection", "promotions");
	const char *accepted = param_str(r, "consent.terms_of_service");
	const char *opt = param_str(r, "consent.promotions");
	bool tos_req = tos && strcmp(tos, "required") == 0;
	bool promo = pr && strcmp(pr, "auto") == 0;
	if (tos_req && !(accepted && strcmp(accepted, "accepted") == 0))
		return "Accept the terms of service to continue.";
	x->s.consent = NULL;
	if (tos_req || promo)
		x->s.consent =
		    arena_printf(&r->arena, "{\"promotions\":%s,\"terms_of_service\":%s}",
				 !promo				     ? "null"
				 : opt && strcmp(opt, "opt_in") == 0 ? "\"opt_in\""
								     : "\"opt_out\"",
				 tos_req ? "\"accepted\"" : "null");
	const char *tv = param_str(r, "tax_id_data.0.value");
	x->s.details_tax_ids = NULL;
	x->tax_id = false;
	if (!filled(tv) && tax_id_required(r, &x->s))
		return "Enter your tax ID.";
	if (filled(tv) && collect_str(&r->arena, &x->s, "tax_id_collection", "enabled")) {
		if (tax_ids_check_data(r) != 0) {
			const char *msg = arena_strdup(&r->arena, req_error_message(r));
			r->err.set = false;
			return msg ? msg : "Enter a valid tax ID.";
		}
		json_t *t = json_pack("[{s:s,s:s}]", "type", param_str(r, "tax_id_data.0.type"),
				      "value", tv);
		char *d = t ? json_dumps(t, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		json_decref(t);
		x->s.details_tax_ids = d ? arena_strdup(&r->arena, d) : NULL;
		free(d);
		x->tax_id = x->s.details_tax_ids != NULL;
	}
	bool dynamic = session_asks_address(r, &x->s);
	if (dynamic) {
		/* the address form asked for it before (its own POST) */
		json_t *ad =
		    x->s.billing_address ? json_loads(x->s.billing_address, 0, NULL) : NULL;
		bool full = filled(json_string_value(json_object_get(ad, "line1"))) &&
			    filled(json_string_value(json_object_get(ad, "city")));
		json_decref(ad);
		if (billing_required(r, &x->s) && !full)
			return "Enter your full billing address first.";
	} else {
		const char *c = param_str(r, "payment_method_data.billing_details.address.country");
		bool full =
		    filled(param_str(r, "payment_method_data.billing_details.address.line1")) &&
		    filled(param_str(r, "payment_method_data.billing_details.address.city")) &&
		    filled(c);
		if (filled(c) &&
		    (strlen(c) != 2 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z'))
			return "Enter the billing country as two capital letters (ISO 3166-1).";
		if (billing_required(r, &x->s) && !full)
			return "Enter your billing address.";
		const char *addr = NULL;
		if (param_present(r, "payment_method_data.billing_details.address") &&
		    address_from_params(r, "payment_method_data.billing_details.address", &addr) !=
			0) {
			r->err.set = false;
			return "Enter your billing address.";
		}
		x->s.billing_address = addr;
	}
	const char *cc = collect_str(&r->arena, &x->s, "customer_creation", NULL);
	x->cus_new[0] = '\0';
	const char *inv = collect_str(&r->arena, &x->s, "invoice_creation", "enabled");
	/* a post-payment invoice, or a card saved for later (setup_future_usage), needs a
	 * customer: Tender makes one as customer_creation=always (Stripe does for the latter) */
	if (!x->s.customer && ((cc && strcmp(cc, "always") == 0) || inv ||
			       (strcmp(x->s.mode, "payment") == 0 && session_sfu(r, &x->s))))
		id_new_at(x->cus_new, "cus_", r->now);
	return NULL;
}

/* A payment link's Connect terms for a payment of `amount` (payment_link_connect). */
struct link_connect {
	struct req *r;
	const char *link;
	int64_t amount;
	struct payment_connect c;
	bool has;
};

static int link_connect_fn(struct db *db, void *p)
{
	struct link_connect *x = p;
	int64_t fee_e4;
	int rc = payment_link_connect(x->r, db, x->link, x->amount, &x->c, &fee_e4);
	x->has = rc == 1;
	return rc < 0 ? -1 : 0;
}

/* The attempt's PaymentIntent of a form other than the card's (as payment_intents_checkout makes
 * a card's), not yet written: the session's amount, currency, customer and payment_intent_data.
 * 0, or -1 with r->err. */
static int attempt_pi(struct req *r, const struct session *s, const struct pi_checkout *co,
		      const char *pm_types, struct payment_intent *ret)
{
	struct payment_intent pi;
	memset(&pi, 0, sizeof(pi));
	str_copy(pi.currency, sizeof(pi.currency), co->currency);
	if (payments_check_amount(r, co->amount, NULL, pi.currency, "amount") != 0)
		return -1;
	str_copy(pi.id, sizeof(pi.id), co->id);
	char secret[32];
	id_random_base62(secret, 24);
	pi.client_secret = arena_printf(&r->arena, "%s_secret_%s", pi.id, secret);
	pi.created = r->now;
	pi.version = 1;
	pi.amount = co->amount;
	pi.status = "requires_confirmation";
	/* manual: a lender's (create refuses it with any type that cannot hold a payment) */
	pi.capture_method =
	    co->capture_method && *co->capture_method ? co->capture_method : "automatic";
	pi.confirmation_method = "automatic";
	pi.description = co->description;
	pi.metadata = co->metadata ? co->metadata : "{}";
	pi.return_url = co->return_url;
	pi.customer = co->customer;
	pi.checkout_session = co->checkout_session;
	pi.shipping = co->shipping;
	pi.setup_future_usage = co->setup_future_usage;
	pi.statement_descriptor = co->statement_descriptor;
	pi.statement_descriptor_suffix = co->statement_descriptor_suffix;
	pi.receipt_email = co->receipt_email;
	pi.payment_method_types = pm_types;
	/* the session's payment_method_options of the bank methods, as the PaymentIntent's own
	 * (shown on it; the SEPA mandate's reference begins with the prefix) */
	pi.pmo_sepa_setup_future_usage = pmo_str(r, s, "sepa_debit", "setup_future_usage", NULL);
	pi.pmo_sepa_reference_prefix =
	    pmo_str(r, s, "sepa_debit", "mandate_options", "reference_prefix");
	pi.pmo_ideal_setup_future_usage = pmo_str(r, s, "ideal", "setup_future_usage", NULL);
	pi.pmo_bancontact_setup_future_usage =
	    pmo_str(r, s, "bancontact", "setup_future_usage", NULL);
	pi.pmo_ach_verification_method =
	    pmo_str(r, s, "us_bank_account", "verification_method", NULL);
	pi.pmo_ach_financial_connections = ach_fc_options(r, s);
	if (co->connect) /* a payment link's terms, or its session's */
		pi.connect = *co->connect;
	if (!pi.client_secret)
		return req_fail(r, ERR_API, NULL, NULL);
	*ret = pi;
	return 0;
}

/* The SEPA (or ACH, ach) form's payment: the attempt's PaymentIntent (as payment_intents_checkout
 * makes a card's; reused: the session's own intent after a failed or abandoned attempt, confirmed
 * again as payment_intents_checkout_again does, so the session keeps one) confirmed with the
 * sepa_debit PaymentMethod under a mandate the buyer accepted online on the page now (their IP
 * address and user agent): it goes `processing`, and its write completes the session unpaid
 * (checkout_complete); the bank's answer comes later (checkout_async_payment). 0, or -1 with
 * r->err. */
static int sepa_pay(struct req *r, const struct session *s, const struct pi_checkout *co,
		    const char *pm_types, bool ach, bool reused)
{
	struct payment_intent pi, next;
	if (attempt_pi(r, s, co, pm_types, reused ? &next : &pi) != 0)
		return -1;
	if (reused && payment_intents_checkout_next(r, &next, &pi) != 0)
		return -1;
	const char *ip = r->client_ip[0] ? r->client_ip : "0.0.0.0";
	const char *ua = r->user_agent && *r->user_agent ? r->user_agent : "unknown";
	/* ACH: the account waits for its microdeposits first (requires_action) */
	return ach ? ach_pi_confirm_checkout(r, &pi, !reused, co->pm_id, ip, ua)
		   : sepa_pi_confirm_checkout(r, &pi, !reused, co->pm_id, ip, ua);
}

/* The bank transfer form's payment: the attempt's PaymentIntent (as sepa_pay makes it, the
 * session's customer_balance options its own) confirmed with a new customer_balance
 * PaymentMethod: the customer's cash pays it at once when it covers it, else it waits in
 * requires_action with the transfer's instructions; its write completes the session (unpaid
 * while it waits: checkout_async_payment when the transfer pays it). *ret_url: the hosted
 * instructions page while it waits, else NULL. 0, or -1 with r->err. */
struct cash_wait {
	struct req *r;
	const char *id;
	bool waiting;
};

static int cash_wait_fn(struct db *db, void *p)
{
	struct cash_wait *w = p;
	return cash_pi_waiting(w->r, db, w->id, &w->waiting);
}

static int cash_pay(struct req *r, const struct session *s, struct pi_checkout *co,
		    const char *pm_types, bool reused, const char **ret_url)
{
	struct payment_intent pi, next;
	co->setup_future_usage = NULL; /* a transfer saves nothing */
	if (attempt_pi(r, s, co, pm_types, reused ? &next : &pi) != 0)
		return -1;
	json_t *c = s->collect ? json_loads(s->collect, 0, NULL) : NULL;
	json_t *v =
	    json_object_get(json_object_get(c, "payment_method_options"), "customer_balance");
	char *t = v ? json_dumps(v, JSON_COMPACT) : NULL;
	const char *pmo = t ? arena_strdup(&r->arena, t) : NULL;
	free(t);
	json_decref(c);
	if (!pmo)
		return req_fail(r, ERR_API, NULL, NULL);
	if (reused && payment_intents_checkout_next(r, &next, &pi) != 0)
		return -1;
	pi.pmo_customer_balance = pmo;
	if (cash_pi_confirm(r, &pi, !reused, NULL) != 0)
		return -1;
	/* waiting for the transfer: the browser goes to the page with its instructions (the
	 * session is complete, unpaid); paid from the cash already there: to success_url */
	struct cash_wait w = {.r = r, .id = pi.id};
	if (req_read(r, cash_wait_fn, &w) != 0)
		return -1;
	*ret_url = w.waiting ? cash_instructions_url(r, pi.id) : NULL;
	return 0;
}

/* The iDEAL or Bancontact form's payment: the attempt's PaymentIntent (as sepa_pay makes it)
 * confirmed with the redirect PaymentMethod (api/redirect_page.c): it waits in requires_action
 * for the bank, whose authorization completes the session in its own write (paid);
 * *ret_url: the bank's page. 0, or -1 with r->err. */
static int redirect_pay(struct req *r, const struct session *s, const struct pi_checkout *co,
			const char *pm_types, const char *type, const char **ret_url)
{
	struct payment_intent pi;
	if (attempt_pi(r, s, co, pm_types, &pi) != 0)
		return -1;
	return redirect_pi_confirm_checkout(r, &pi, co->pm_id, type, ret_url);
}

/* What the lender of type requires (the form's fields, bnpl_form), checked before anything is
 * written: NULL, or the message the page shows. */
static const char *bnpl_details(struct req *r, const struct session *s, const char *type)
{
	bool afterpay = strcmp(type, "afterpay_clearpay") == 0;
	const char *email = param_str(r, "payment_method_data.billing_details.email");
	const char *name = param_str(r, "payment_method_data.billing_details.name");
	const char *line1 = param_str(r, "payment_method_data.billing_details.address.line1");
	const char *country = param_str(r, "payment_method_data.billing_details.address.country");
	const char *what = bnpl_name(type, s->currency);
	if (!filled(email))
		return arena_printf(&r->arena, "Enter your email to pay with %s.", what);
	if (strcmp(type, "klarna") != 0 && !filled(name))
		return arena_printf(&r->arena, "Enter your full name to pay with %s.", what);
	if (strcmp(type, "affirm") != 0 && !filled(country))
		return arena_printf(&r->arena, "Enter your billing country to pay with %s.", what);
	if (afterpay && !filled(line1))
		return arena_printf(&r->arena, "Enter your billing address to pay with %s.", what);
	return NULL;
}

/* ---- the buyer's amount (a pay-what-you-want price) ---- */

static int session_repriceable(struct req *r, struct db *db, struct page_ctx *x,
			       struct session *cur);

static const char SQL_SET_CUSTOM_AMOUNT[] =
    "UPDATE checkout_sessions SET amount_subtotal = $3, amount_total = $4, line_items = $5"
    " WHERE merchant_id = $1 AND id = $2 AND status = 'open'"
    " AND (payment_intent = $6 OR (payment_intent IS NULL AND $6 IS NULL))"
    " AND (subscription = $7 OR (subscription IS NULL AND $7 IS NULL))";

struct custom_amount_ctx {
	struct req *r;
	struct page_ctx *x;
	int64_t amount;
	bool done;
	struct session cur; /* the session as priced again */
};

/* Inside a write: the custom line stands at the buyer's amount and the session is priced again
 * (its discount, its taxes, its shipping), when session_repriceable says it may (no attempt to
 * pay under way: a payment made for the old total must not complete it). The total must still
 * be a payment the merchant can take. */
static int custom_amount_fn(struct db *db, void *arg)
{
	struct custom_amount_ctx *c = arg;
	struct req *r = c->r;
	struct page_ctx *x = c->x;
	struct session *cur = &c->cur;
	c->done = false;
	int rc = session_repriceable(r, db, x, cur);
	if (rc <= 0)
		return rc < 0 ? -1 : 0;
	json_t *items = json_loads(cur->line_items, 0, NULL);
	size_t i;
	json_t *it;
	bool found = false;
	json_array_foreach(items, i, it)
	{
		if (!found && json_is_object(json_object_get(it, "custom"))) {
			found = true;
			json_object_set_new(it, "amount", json_integer(c->amount));
			json_object_set_new(it, "unit_amount", json_integer(c->amount));
		}
	}
	char *out = found ? json_dumps(items, JSON_COMPACT) : NULL;
	json_decref(items);
	cur->line_items = out ? arena_strdup(&r->arena, out) : NULL;
	free(out);
	if (!cur->line_items)
		return req_fail(r, ERR_API, NULL, NULL);
	cur->amount_subtotal = c->amount; /* the only line (checkout_price_items) */
	struct discount d;
	memset(&d, 0, sizeof(d));
	if (cur->discount_coupon) {
		if (coupon_load(r, db, cur->discount_coupon, &d.coupon) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (cur->discount_promotion_code)
			str_copy(d.promotion_code, sizeof(d.promotion_code),
				 cur->discount_promotion_code);
	}
	if (session_discounted(r, db, cur, cur->discount_coupon ? &d : NULL) != 0 ||
	    payments_check_minimum_db(r, db, cur->amount_total, cur->currency, "custom_amount",
				      "custom_amount") != 0)
		return -1;
	struct db_stmt *st = db_prepare(db, SQL_SET_CUSTOM_AMOUNT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, x->acct, -1);
	db_bind_text(st, 2, x->id, -1);
	db_bind_int64(st, 3, cur->amount_subtotal);
	db_bind_int64(st, 4, cur->amount_total);
	db_bind_text(st, 5, cur->line_items, -1);
	db_bind_text(st, 6, cur->payment_intent, -1);
	db_bind_text(st, 7, cur->subscription, -1);
	int64_t changed;
	if (db_step_changes(st, &changed) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	c->done = changed == 1;
	return 0;
}

static const char CUSTOM_BUSY[] = "busy";

/* mode=payment with a pay-what-you-want line: the amount the buyer typed (custom_amount, in
 * major units, parsed exactly by money_parse_major) checked against the price's minimum (else
 * the currency's minimum charge) and maximum, then recorded by custom_amount_fn before the
 * attempt, so the attempt, the PaymentIntent and the session all carry it. NULL (x priced at
 * that amount), CUSTOM_BUSY (an attempt is under way), or the message the page shows (nothing
 * written). */
static const char *custom_amount_choice(struct req *r, struct page_ctx *x)
{
	struct custom_line c;
	items_custom_line(x->s.line_items, &c);
	if (!c.on)
		return NULL;
	const char *typed = param_str(r, "custom_amount");
	const struct currency *cu = currency_find(x->s.currency);
	int exp = cu ? cu->exponent : 2;
	if (!typed || !*typed)
		return "Enter the amount you want to pay.";
	int64_t v = 0;
	int prc = money_parse_major(typed, exp, AMOUNT_TOTAL_MAX, &v);
	struct buf b;
	buf_init(&b, 256);
	if (prc == MONEY_ERR_INVALID) {
		buf_puts(&b, "Enter the amount as a number");
		if (exp > 0)
			buf_printf(&b, " with at most %d decimals", exp);
		buf_puts(&b, ", like ");
		major_amount(&b, custom_floor(&c, x->s.currency), x->s.currency);
		buf_puts(&b, ".");
	} else if (prc != 0 || (c.maximum >= 0 && v > c.maximum)) {
		buf_puts(&b, "The amount must be at most ");
		html_amount(&b, c.maximum >= 0 ? c.maximum : AMOUNT_TOTAL_MAX, x->s.currency);
		buf_puts(&b, ".");
	} else if (v < custom_floor(&c, x->s.currency)) {
		buf_puts(&b, "The amount must be at least ");
		html_amount(&b, custom_floor(&c, x->s.currency), x->s.currency);
		buf_puts(&b, ".");
	}
	const char *msg =
	    b.len ? arena_strdup(&r->arena, b.failed ? "Enter another amount." : buf_cstr(&b))
		  : NULL;
	buf_release(&b);
	if (msg || v == c.amount)
		return msg;
	struct custom_amount_ctx ctx = {.r = r, .x = x, .amount = v};
	if (req_write(r, custom_amount_fn, &ctx) != 0) {
		msg = req_error_message(r);
		r->err.set = false;
		return msg ? msg : "Enter another amount.";
	}
	if (!ctx.done)
		return CUSTOM_BUSY;
	x->s.line_items = ctx.cur.line_items;
	x->s.amount_subtotal = ctx.cur.amount_subtotal;
	x->s.amount_total = ctx.cur.amount_total;
	return NULL;
}

/* The card form's POST for an open session x: the card to the vault, the attempt's intent
 * recorded on the session, then the intent (which completes the session in its own write). */
struct link_ctx {
	struct req *r;
	const struct session *s;
	const char *key;
	char pm[ID_MAX];
	int rc;
};

static int link_fn(struct db *db, void *p)
{
	struct link_ctx *c = p;
	struct req *r = c->r;
	char fca[ID_MAX] = "";
	/* the session's customer holds the account (a guest's: nobody yet, as on Stripe) */
	c->rc = fc_checkout_link(r, db, c->s->customer, ach_fc_options(r, c->s), c->key, fca);
	if (c->rc == 0)
		c->rc = pm_create_linked(r, db, "payment_method_data", fca, c->pm);
	return c->rc;
}

/* The bank account the buyer linked on the page (test account key): one write makes the
 * Financial Connections session and account (financial_connections.account.created) and the
 * account's us_bank_account PaymentMethod, verified at once; its id into pm. Its own write, as
 * pm_create_from_data's: the request's answer is the payment's. 0, or -1 with r->err. */
static int ach_link(struct req *r, const struct session *s, const char *key, char pm[ID_MAX])
{
	struct link_ctx c = {.r = r, .s = s, .key = key};
	int wrc = store_write(r->app->store, r->merchant_id, link_fn, &c);
	if (c.rc != 0)
		return -1;
	if (wrc != 0)
		return req_fail(r, wrc == STORE_OVERLOADED ? ERR_OVERLOADED : ERR_API, NULL, NULL);
	str_copy(pm, ID_MAX, c.pm);
	return 0;
}

static int pay(struct req *r, struct page_ctx *x_)
{
	struct page_ctx x = *x_;
	int rc;
	char pm[ID_MAX];
	struct attempt_ctx a = {r, &x, NULL, false, NULL,  NULL, NULL,
				0, 0,  NULL, false, false, false};
	if (!x.s.billing_address && session_asks_address(r, &x.s))
		return checkout_page(r, &x, 400, "Enter your billing address first.");
	if (strcmp(x.s.mode, "payment") == 0) {
		const char *bad = custom_amount_choice(r, &x);
		if (bad == CUSTOM_BUSY)
			return busy_page(r);
		if (bad)
			return checkout_page(r, &x, 400, bad);
		bad = shipping_choice(r, &x.s, &a);
		if (bad)
			return checkout_page(r, &x, 400, bad);
	}
	const char *bad_details = buyer_details(r, &x);
	if (bad_details)
		return checkout_page(r, &x, 400, bad_details);
	/* the form the buyer submitted: the card's, or a bank debit's (SEPA, ACH) */
	const char *pm_type = param_str(r, "payment_method_data.type");
	bool ach = pm_type && strcmp(pm_type, "us_bank_account") == 0;
	bool sepa = ach || (pm_type && strcmp(pm_type, "sepa_debit") == 0);
	/* iDEAL, Bancontact: the bank authorizes it at the end of a redirect; Affirm, Afterpay /
	 * Clearpay, Klarna: the lender, on the same path */
	bool bnpl = pm_type && redirect_type_bnpl(pm_type);
	/* a bank transfer: the customer's cash balance pays it, when the transfer arrives */
	bool cash = pm_type && strcmp(pm_type, "customer_balance") == 0;
	const char *redirect =
	    pm_type && (strcmp(pm_type, "ideal") == 0 || strcmp(pm_type, "bancontact") == 0 || bnpl)
		? pm_type
		: NULL;
	if (!takes_type(&x.s, ach	 ? "us_bank_account"
			      : sepa	 ? "sepa_debit"
			      : redirect ? redirect
			      : cash	 ? "customer_balance"
					 : "card") ||
	    (bnpl && !bnpl_offered(&x.s, pm_type)))
		return checkout_page(r, &x, 400,
				     "This checkout does not take that payment method.");
	const char *bad_bnpl = bnpl ? bnpl_details(r, &x.s, pm_type) : NULL;
	if (bad_bnpl)
		return checkout_page(r, &x, 400, bad_bnpl);
	/* an ACH account typed here is verified by the microdeposits of the first invoice's
	 * payment: with nothing due now (a trial is refused at create) there is none */
	if (strcmp(x.s.mode, "subscription") == 0 && ach &&
	    (x.s.sub_trial_days > 0 || x.s.amount_total == 0))
		return checkout_page(r, &x, 400,
				     "Nothing is due now, so this bank account cannot be verified: "
				     "pay by another method.");
	/* ACH: an account of the test institution linked on the page (Financial Connections,
	 * verification_method automatic or instant), or one typed by hand (automatic or
	 * microdeposits) */
	const char *fc_key = ach ? param_str(r, "fc_account") : NULL;
	if (fc_key && !*fc_key)
		fc_key = NULL;
	if (ach) {
		const char *vm = ach_verification(r, &x.s);
		if (fc_key && (strcmp(vm, "microdeposits") == 0 || !fc_test_account(fc_key)))
			return checkout_page(r, &x, 400,
					     "This checkout does not take that bank account.");
		if (!fc_key && strcmp(vm, "instant") == 0)
			return checkout_page(r, &x, 400,
					     "Link your bank account to pay: this checkout takes "
					     "only accounts verified instantly.");
		const char *holder = param_str(r, "payment_method_data.billing_details.name");
		if (fc_key && !filled(holder))
			return checkout_page(r, &x, 400, "Enter the account holder's name.");
	}
	bool card = !sepa && !redirect && !cash && !no_card(r, &x.s);
	if (fc_key && ach_link(r, &x.s, fc_key, pm) != 0) {
		const char *msg = req_error_message(r);
		r->err.set = false;
		return checkout_page(r, &x, 400, msg);
	}
	if ((card || sepa || redirect) && !fc_key &&
	    pm_create_from_data(r, "payment_method_data", pm) != 0) {
		const char *msg = req_error_message(r);
		r->err.set = false;
		return checkout_page(r, &x, 400, msg);
	}
	x.s.details_email = param_str(r, "payment_method_data.billing_details.email");
	x.s.details_name = param_str(r, "payment_method_data.billing_details.name");
	if (x.s.details_email && !*x.s.details_email)
		x.s.details_email = NULL;
	if (x.s.details_name && !*x.s.details_name)
		x.s.details_name = NULL;
	/* the bank sends the browser back to the session's own return endpoint (h_return) */
	const char *ret_url = arena_printf(&r->arena, redirect ? "%s/return" : "%s/complete",
					   session_url(r, x.acct, x.key));
	if (strcmp(x.s.mode, "setup") == 0)
		return save_card(r, &x, pm, ret_url, false);
	if (strcmp(x.s.mode, "subscription") == 0)
		return redirect ? save_card(r, &x, pm, ret_url, true) /* sub_bank */
				: subscribe(r, &x, card || sepa ? pm : NULL, sepa, false, ret_url);
	/* the attempt's intent is recorded on the session first (see the top of this file) */
	/* Afterpay / Clearpay ships somewhere: the address collected, else the billing address */
	const char *bnpl_ship = NULL;
	if (bnpl && strcmp(pm_type, "afterpay_clearpay") == 0 && !a.ship_details &&
	    !pi_data_str(r, &x.s, "shipping") &&
	    shipping_from_params(r, "payment_method_data.billing_details", &bnpl_ship) != 0) {
		r->err.set = false;
		return checkout_page(r, &x, 400, "Enter your name and billing address.");
	}
	struct pi_checkout co = {
	    .amount = a.new_total,
	    .shipping = a.ship_details ? a.ship_details
			: bnpl_ship    ? bnpl_ship
				       : pi_data_str(r, &x.s, "shipping"),
	    .currency = x.s.currency,
	    .description = x.s.pi_description,
	    .metadata = session_pi_metadata(r, &x.s),
	    .capture_method = x.s.pi_capture_method,
	    .return_url = ret_url,
	    .pm_id = pm,
	    .customer = x.s.customer,
	    .checkout_session = x.s.id,
	    .request_three_d_secure = pmo_card_str(r, &x.s, "request_three_d_secure"),
	    .setup_future_usage = session_sfu(r, &x.s),
	    .statement_descriptor = pi_data_str(r, &x.s, "statement_descriptor"),
	    .statement_descriptor_suffix = pi_data_str(r, &x.s, "statement_descriptor_suffix"),
	    .receipt_email = pi_data_str(r, &x.s, "receipt_email"),
	};
	id_new_at(co.id, "pi_", r->now);
	a.pi_id = co.id;
	a.reuse_ok = true;
	/* a payment link's Connect terms, for what the buyer pays */
	struct link_connect lc = {.r = r, .link = x.s.payment_link, .amount = a.new_total};
	if (x.s.payment_link && req_read(r, link_connect_fn, &lc) != 0)
		return -1;
	co.connect = lc.has ? &lc.c : NULL;
	/* else the session's own (payment_intent_data's) */
	struct payment_connect sc;
	if (!lc.has && session_connect(r, &x.s, a.new_total, &sc))
		co.connect = &sc;
	if (req_write(r, attempt_fn, &a) != 0)
		return -1;
	if (!a.still_open)
		return busy_page(r);
	if (a.reused)
		str_copy(co.id, sizeof(co.id), a.pi_id);
	co.customer = a.customer;
	x.s.payment_intent = co.id;
	x.s.shipping_rate = a.ship_rate;
	x.s.amount_shipping = a.ship_amount;
	x.s.amount_total = a.new_total;
	x.s.shipping_details = a.ship_details;
	const char *bank_url = NULL;
	struct payment_intent next;
	if (sepa) {
		/* reused: the session's intent, a new mandate accepted on it now */
		rc = sepa_pay(r, &x.s, &co, x.s.pm_types, ach, a.reused);
	} else if (cash) {
		rc = cash_pay(r, &x.s, &co, x.s.pm_types, a.reused, &bank_url);
	} else if (a.reused) {
		/* the session's intent again, with what this attempt says (as a new one gets it) */
		rc = attempt_pi(r, &x.s, &co, x.s.pm_types, &next);
		next.pmo_card_request_three_d_secure = co.request_three_d_secure;
		if (rc == 0)
			rc = payment_intents_checkout_again(r, &next, pm, &bank_url);
	} else {
		rc = redirect ? redirect_pay(r, &x.s, &co, x.s.pm_types, redirect, &bank_url)
			      : payment_intents_checkout(r, &co);
	}
	if (rc != 0) {
		const char *msg = req_error_message(r);
		r->err.set = false;
		return checkout_page(r, &x, 402, msg);
	}
	if (co.challenge_url || bank_url) {
		r->location = bank_url ? bank_url : co.challenge_url;
		return challenge_redirect(r);
	}
	x.s.status = "complete"; /* by the PaymentIntent's own write */
	return completed(r, &x, 0);
}

static int h_pay(struct req *r)
{
	struct page_ctx x;
	int rc = page_lookup(r, &x, r->args[0], r->args[1]);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	return pay(r, &x);
}

/* ---- the buyer's promotion code (allow_promotion_codes) ---- */

struct promo_ctx {
	struct req *r;
	struct page_ctx *x;
	const char *code; /* "": remove the one applied */
	bool done;
};

/* Inside a write: loads session x into cur and tells whether its price may change now: 1 when
 * it is open and no attempt to pay is under way (a payment made for the old total must not
 * complete a session of another), 0 when not (nothing to do), -1 with r->err. */
static int session_repriceable(struct req *r, struct db *db, struct page_ctx *x,
			       struct session *cur)
{
	int rc = session_load(&r->arena, db, x->acct, x->id, cur);
	if (rc != DB_OK)
		return rc == DB_NOTFOUND ? 0 : req_fail(r, ERR_API, NULL, NULL);
	if (strcmp(cur->status, "open") != 0)
		return 0;
	if (cur->payment_intent) {
		struct payment_intent pi;
		rc = pi_load(db, &r->arena, x->acct, cur->payment_intent, &pi);
		if (rc == DB_OK && strcmp(pi.status, "requires_payment_method") != 0 &&
		    strcmp(pi.status, "canceled") != 0)
			return 0;
		if (rc != DB_OK && rc != DB_NOTFOUND)
			return req_fail(r, ERR_API, NULL, NULL);
	} else if (cur->subscription) {
		return 0; /* a trial's attempt: it completed the session, or is doing so */
	}
	return 1;
}

/* Inside a write: the code is checked as the API checks it (discounts_resolve: active, not
 * expired or used up, the session's customer, its subtotal's minimum) and the session's
 * discount and total change, while no attempt to pay is under way (a payment made for the old
 * total must not complete a session of another). */
static int promo_fn(struct db *db, void *arg)
{
	struct promo_ctx *c = arg;
	struct req *r = c->r;
	struct page_ctx *x = c->x;
	c->done = false;
	struct session cur;
	int rc = session_repriceable(r, db, x, &cur);
	if (rc <= 0 || !cur.allow_promotion_codes)
		return rc < 0 ? -1 : 0;
	struct discount *d = NULL;
	if (*c->code) {
		struct promotion_code p;
		rc = promotion_code_find(r, db, c->code, &p);
		if (rc == DB_NOTFOUND)
			return req_fail(r, ERR_PARAM_BAD, "promotion_code",
					"This promotion code is not valid.");
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		struct discount_spec spec = {.present = true, .n = 1};
		spec.e[0].promotion_code = p.id;
		spec.e[0].shown = "promotion_code";
		d = arena_alloc(&r->arena, DISCOUNTS_MAX * sizeof(*d));
		int n = 0;
		if (!d || discounts_resolve(r, db, &spec, cur.customer, cur.currency,
					    cur.amount_subtotal, NULL, r->now, d, &n) != 0)
			return d ? -1 : req_fail(r, ERR_API, NULL, NULL);
	}
	if (session_discounted(r, db, &cur, d) != 0)
		return -1;
	if (strcmp(cur.mode, "payment") == 0 &&
	    payments_check_minimum_db(r, db, cur.amount_total, cur.currency, "promotion_code",
				      "promotion_code") != 0)
		return -1;
	struct db_stmt *st = db_prepare(db, SQL_SET_DISCOUNT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, x->acct, -1);
	db_bind_text(st, 2, x->id, -1);
	db_bind_text(st, 3, d ? d->coupon.id : NULL, -1);
	db_bind_text(st, 4, d ? d->promotion_code : NULL, -1);
	db_bind_int64(st, 5, cur.amount_total);
	db_bind_text(st, 6, cur.payment_intent, -1);
	db_bind_text(st, 7, cur.subscription, -1);
	db_bind_text(st, 8, cur.line_items, -1); /* what the discount and taxes took per line */
	int64_t changed;
	if (db_step_changes(st, &changed) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	c->done = changed == 1;
	return 0;
}

/* The answer to one of the page's small forms (a promotion code, the billing address) once its
 * write ran (wrc, req_write's result; done: it changed the session): the page with the
 * write's error, the busy page when an attempt to pay was under way, or the page again by GET,
 * so that a reload does not post the form twice. */
static int form_written(struct req *r, struct page_ctx *x, int wrc, bool done)
{
	if (wrc != 0) {
		const char *msg = req_error_message(r);
		r->err.set = false;
		return checkout_page(r, x, 400, msg);
	}
	if (!done)
		return busy_page(r);
	r->location = arena_printf(&r->arena, "/checkout/%s/%s", x->acct, x->key);
	return challenge_redirect(r);
}

static int h_promotion_code(struct req *r)
{
	struct page_ctx x;
	int rc = page_lookup(r, &x, r->args[0], r->args[1]);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	if (!x.s.allow_promotion_codes)
		return checkout_page(r, &x, 400, "This checkout does not take promotion codes.");
	const char *code = param_str(r, "promotion_code");
	struct promo_ctx c = {r, &x, code ? code : "", false};
	int wrc = req_write(r, promo_fn, &c);
	return form_written(r, &x, wrc, c.done);
}

/* ---- the buyer's billing address (lines with dynamic_tax_rates) ---- */

static const char SQL_SET_ADDRESS[] =
    "UPDATE checkout_sessions SET billing_address = $3, amount_total = $4, line_items = $5"
    " WHERE merchant_id = $1 AND id = $2 AND status = 'open'"
    " AND (payment_intent = $6 OR (payment_intent IS NULL AND $6 IS NULL))"
    " AND (subscription = $7 OR (subscription IS NULL AND $7 IS NULL))";

struct address_ctx {
	struct req *r;
	struct page_ctx *x;
	const char *address; /* JSON */
	bool done;
};

/* Inside a write: the address is recorded and the session priced again (its discount, then each
 * line's rates, a dynamic line's chosen by the address), when session_repriceable says it may. */
static int address_fn(struct db *db, void *arg)
{
	struct address_ctx *c = arg;
	struct req *r = c->r;
	struct page_ctx *x = c->x;
	c->done = false;
	struct session cur;
	int rc = session_repriceable(r, db, x, &cur);
	if (rc <= 0)
		return rc < 0 ? -1 : 0;
	struct discount d;
	memset(&d, 0, sizeof(d));
	if (cur.discount_coupon) {
		if (coupon_load(r, db, cur.discount_coupon, &d.coupon) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (cur.discount_promotion_code)
			str_copy(d.promotion_code, sizeof(d.promotion_code),
				 cur.discount_promotion_code);
	}
	cur.billing_address = c->address;
	if (session_discounted(r, db, &cur, cur.discount_coupon ? &d : NULL) != 0)
		return -1;
	struct db_stmt *st = db_prepare(db, SQL_SET_ADDRESS);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, x->acct, -1);
	db_bind_text(st, 2, x->id, -1);
	db_bind_text(st, 3, c->address, -1);
	db_bind_int64(st, 4, cur.amount_total);
	db_bind_text(st, 5, cur.line_items, -1);
	db_bind_text(st, 6, cur.payment_intent, -1);
	db_bind_text(st, 7, cur.subscription, -1);
	int64_t changed;
	if (db_step_changes(st, &changed) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	c->done = changed == 1;
	return 0;
}

/* The form's address as Stripe's address hash (JSON, r's arena): the country two letters (in
 * capitals), and for the United States a state and a postal code. NULL, or the message the page
 * shows (*ret set). */
static const char *address_parse(struct req *r, const char **ret)
{
	static const char *const keys[] = {"city",  "country",	   "line1",
					   "line2", "postal_code", "state"};
	const char *v[6];
	for (int k = 0; k < 6; k++) {
		char path[32];
		snprintf(path, sizeof(path), "address.%s", keys[k]);
		v[k] = param_str(r, path);
		if (v[k] && !*v[k])
			v[k] = NULL;
	}
	char country[3] = "";
	const char *c = v[1];
	if (!c || strlen(c) != 2)
		return "Enter your country as its two-letter code (DE, FR, US …).";
	for (int k = 0; k < 2; k++) {
		char ch = c[k] >= 'a' && c[k] <= 'z' ? (char)(c[k] - 32) : c[k];
		if (ch < 'A' || ch > 'Z')
			return "Enter your country as its two-letter code (DE, FR, US …).";
		country[k] = ch;
	}
	if (strcmp(country, "US") == 0 && (!v[4] || !v[5]))
		return "Enter your state and ZIP code.";
	struct buf b;
	struct json j;
	buf_init(&b, 4096);
	json_init(&j, &b);
	json_obj_open(&j);
	for (int k = 0; k < 6; k++)
		json_kv_str_or_null(&j, keys[k], k == 1 ? country : v[k]);
	json_obj_close(&j);
	*ret = b.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&b));
	buf_release(&b);
	return *ret ? NULL : "This address cannot be taken.";
}

/* Whether address (JSON)'s country is one s ships to. */
static bool country_allowed(const struct session *s, const char *address)
{
	json_t *a = json_loads(address, 0, NULL);
	json_t *cs = s->shipping_countries ? json_loads(s->shipping_countries, 0, NULL) : NULL;
	const char *c = json_string_value(json_object_get(a, "country"));
	bool ok = false;
	size_t i;
	json_t *v;
	json_array_foreach(cs, i, v) ok =
	    ok || (c && json_string_value(v) && strcmp(json_string_value(v), c) == 0);
	json_decref(a);
	json_decref(cs);
	return ok;
}

static int h_address(struct req *r)
{
	struct page_ctx x;
	int rc = page_lookup(r, &x, r->args[0], r->args[1]);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	if (!session_asks_address(r, &x.s))
		return checkout_page(r, &x, 400, "This checkout does not ask for an address.");
	struct address_ctx c = {r, &x, NULL, false};
	const char *bad = address_parse(r, &c.address);
	if (bad)
		return checkout_page(r, &x, 400, bad);
	if (x.s.automatic_tax && x.s.shipping_countries && !country_allowed(&x.s, c.address))
		return checkout_page(r, &x, 400, "This shop does not ship to that country.");
	if (x.s.automatic_tax && !auto_tax_address_ok(c.address))
		return checkout_page(r, &x, 400,
				     "Enter an address the tax can be worked out for (in Canada, "
				     "a province or postal code).");
	int wrc = req_write(r, address_fn, &c);
	return form_written(r, &x, wrc, c.done);
}

/* ---- the buyer's quantities (lines with adjustable_quantity) ---- */

#define QUANTITY_LINES_MAX 20 /* a session's most line items */

struct quantities_ctx {
	struct req *r;
	struct page_ctx *x;
	int n;
	const char *ids[QUANTITY_LINES_MAX];
	int64_t qty[QUANTITY_LINES_MAX];
	bool done;
	/* the promotion code the new quantities no longer reach the minimum of: why it was
	 * dropped, for the page (NULL: none) */
	const char *dropped;
};

/* The form's quantity[<line id>] values for x's adjustable lines: each a whole number within its
 * line's range (0 removes the line, where its minimum allows it), at least one line left. NULL
 * (c holds them), or the message the page shows (nothing written). */
static const char *quantities_parse(struct req *r, const struct page_ctx *x,
				    struct quantities_ctx *c)
{
	const struct form_node *q = param_node(r, "quantity");
	if (!q || q->kind == FORM_SCALAR || !q->first_child)
		return "Enter the quantities you want.";
	json_t *items = json_loads(x->s.line_items, 0, NULL);
	const char *msg = NULL;
	for (const struct form_node *n = q->first_child; n && !msg; n = n->next) {
		size_t i;
		json_t *it, *line = NULL;
		json_array_foreach(items, i, it)
		{
			const char *id = json_string_value(json_object_get(it, "id"));
			if (!line && id && strcmp(id, n->key) == 0)
				line = it;
		}
		json_t *adj = json_object_get(line, "adjustable_quantity");
		const char *what = json_string_value(json_object_get(line, "description"));
		int64_t v, lo, hi;
		adjustable_range(adj, &lo, &hi);
		if (!json_is_object(adj) || c->n == QUANTITY_LINES_MAX)
			msg = "This item's quantity cannot be changed.";
		else if (!n->value || parse_i64(n->value, &v) != 0)
			msg = arena_printf(&r->arena, "Enter the quantity of %s as a whole number.",
					   what ? what : "the item");
		else if (v < lo || v > hi)
			msg =
			    arena_printf(&r->arena, "The quantity of %s must be from %lld to %lld.",
					 what ? what : "the item", (long long)lo, (long long)hi);
		if (!msg && (!json_is_object(adj) || c->n == QUANTITY_LINES_MAX || !n->value ||
			     parse_i64(n->value, &v) != 0 || v < lo || v > hi))
			msg = "Enter the quantities again."; /* the arena gave out above */
		if (!msg) {
			c->ids[c->n] = n->key;
			c->qty[c->n++] = v;
		}
	}
	/* Stripe's Checkout keeps the last item: the buyer cannot remove them all */
	size_t i;
	json_t *it;
	bool left = false;
	json_array_foreach(items, i, it)
	{
		const char *id = json_string_value(json_object_get(it, "id"));
		int64_t v = json_integer_value(json_object_get(it, "quantity"));
		for (int k = 0; k < c->n; k++)
			if (id && strcmp(id, c->ids[k]) == 0)
				v = c->qty[k];
		left = left || (v > 0 && !json_is_true(json_object_get(it, "metered")));
	}
	json_decref(items);
	if (!msg && !left)
		msg = "Keep at least one item: the order cannot be empty.";
	return msg;
}

/* Inside a write: the quantities set on the session's lines as they are now (a line set to 0
 * leaves it, as on Stripe, whose line_items then no longer list it) and the session priced again
 * as it was made (session_reprice: the lines, discount, taxes, shipping), when
 * session_repriceable says it may (no attempt to pay under way: a payment made for the old total
 * must not complete it). No event: Stripe sends none for it. */
static int quantities_fn(struct db *db, void *arg)
{
	struct quantities_ctx *c = arg;
	struct req *r = c->r;
	struct page_ctx *x = c->x;
	struct session cur;
	c->done = false;
	int rc = session_repriceable(r, db, x, &cur);
	if (rc <= 0)
		return rc < 0 ? -1 : 0;
	json_t *items = json_loads(cur.line_items, 0, NULL);
	json_t *kept = json_array();
	size_t i;
	json_t *it;
	int found = 0;
	bool left = false;
	json_array_foreach(items, i, it)
	{
		const char *id = json_string_value(json_object_get(it, "id"));
		bool adj = json_is_object(json_object_get(it, "adjustable_quantity"));
		int64_t v = json_integer_value(json_object_get(it, "quantity"));
		for (int k = 0; k < c->n && adj; k++) {
			if (id && strcmp(id, c->ids[k]) == 0) {
				v = c->qty[k];
				found++;
			}
		}
		if (v == 0 && adj)
			continue;
		left = left || (v > 0 && !json_is_true(json_object_get(it, "metered")));
		json_object_set_new(it, "quantity", json_integer(v));
		json_array_append(kept, it);
	}
	json_decref(items);
	char *out = found == c->n && left ? json_dumps(kept, JSON_COMPACT) : NULL;
	json_decref(kept);
	cur.line_items = out ? arena_strdup(&r->arena, out) : NULL;
	free(out);
	if (!cur.line_items)
		/* the lines changed since the page was read (read from the session again) */
		return found != c->n || !left
			   ? req_fail(r, ERR_PARAM_BAD, "quantity", "%s",
				      "These items changed: enter the quantities again.")
			   : req_fail(r, ERR_API, NULL, NULL);
	if (session_reprice(r, db, &cur, "quantity") != 0)
		return -1;
	/* a promotion code is redeemed only for a purchase of its restrictions[minimum_amount]:
	 * a subtotal lowered below it loses the code, as Stripe's Checkout removes a code that no
	 * longer applies, and the page says why */
	if (cur.discount_promotion_code) {
		struct promotion_code p;
		if (promotion_code_load(r, db, cur.discount_promotion_code, &p) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		int64_t min = 0;
		if (p.has_minimum && (!promotion_code_minimum_in(&p, cur.currency, &min) ||
				      cur.amount_subtotal < min)) {
			cur.discount_coupon = NULL;
			cur.discount_promotion_code = NULL;
			if (session_reprice(r, db, &cur, "quantity") != 0)
				return -1;
			struct buf b;
			buf_init(&b, 256);
			if (min > 0)
				html_amount(&b, min, cur.currency);
			c->dropped = arena_printf(
			    &r->arena,
			    "The promotion code %s needs a purchase of at least %s: it no longer "
			    "applies and was removed.",
			    p.code, b.failed || min <= 0 ? "more" : buf_cstr(&b));
			buf_release(&b);
			if (!c->dropped)
				return req_fail(r, ERR_API, NULL, NULL);
		}
	}
	struct db_stmt *st = db_prepare(db, SQL_SET_CUSTOM_AMOUNT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, x->acct, -1);
	db_bind_text(st, 2, x->id, -1);
	db_bind_int64(st, 3, cur.amount_subtotal);
	db_bind_int64(st, 4, cur.amount_total);
	db_bind_text(st, 5, cur.line_items, -1);
	db_bind_text(st, 6, cur.payment_intent, -1);
	db_bind_text(st, 7, cur.subscription, -1);
	int64_t changed;
	if (db_step_changes(st, &changed) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	c->done = changed == 1;
	if (c->done && c->dropped) {
		/* the code off the session in the same write (totals as just priced) */
		st = db_prepare(db, SQL_DROP_DISCOUNT);
		if (!st)
			return req_fail(r, ERR_API, NULL, NULL);
		db_bind_text(st, 1, x->acct, -1);
		db_bind_text(st, 2, x->id, -1);
		db_bind_int64(st, 3, cur.amount_total);
		db_bind_text(st, 4, cur.line_items, -1);
		db_bind_text(st, 5, cur.payment_intent, -1);
		db_bind_text(st, 6, cur.subscription, -1);
		if (db_step_changes(st, &changed) != DB_OK || changed != 1)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	return 0;
}

static int h_quantities(struct req *r)
{
	struct page_ctx x;
	int rc = page_lookup(r, &x, r->args[0], r->args[1]);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	if (strcmp(x.s.mode, "setup") == 0)
		return checkout_page(r, &x, 400, "This checkout has no items.");
	struct quantities_ctx c;
	memset(&c, 0, sizeof(c));
	c.r = r;
	c.x = &x;
	const char *bad = quantities_parse(r, &x, &c);
	if (bad)
		return checkout_page(r, &x, 400, bad);
	int wrc = req_write(r, quantities_fn, &c);
	if (wrc == 0 && c.done && c.dropped) {
		/* the page as it now stands, saying why the code went */
		struct page_ctx now;
		rc = page_lookup(r, &now, r->args[0], r->args[1]);
		if (rc != 0)
			return rc < 0 ? -1 : 0;
		return checkout_page(r, &now, 200, c.dropped);
	}
	return form_written(r, &x, wrc, c.done);
}

struct name_ctx {
	const char *acct;
	char *out;
	size_t n;
};

static int name_fn(struct db *db, void *arg)
{
	struct name_ctx *c = arg;
	return challenge_merchant_name(db, c->acct, c->out, c->n);
}

int checkout_link_page(struct req *r, const char *acct, const char *items_json,
		       int64_t amount_total, const char *currency, const char *submit_type,
		       const struct checkout_shipping *ship, const char *pm_types,
		       const char *action)
{
	struct page_ctx x;
	memset(&x, 0, sizeof(x));
	x.r = r;
	x.acct = acct;
	x.action = action;
	char nonce[32];
	id_random_base62(nonce, 24);
	x.nonce = nonce;
	x.s.mode = "payment";
	x.s.line_items = items_json;
	x.s.amount_total = amount_total;
	str_copy(x.s.currency, sizeof(x.s.currency), currency);
	x.s.submit_type = submit_type;
	x.s.pm_types = pm_types;
	if (ship) {
		x.s.shipping_options = ship->options;
		x.s.shipping_rate = ship->rate;
		x.s.amount_shipping = ship->rate ? ship->amount : 0;
		x.s.shipping_countries = ship->countries;
		x.s.amount_total += x.s.amount_shipping; /* bounded when the link was made */
	}
	struct name_ctx nc = {acct, x.merchant_name, sizeof(x.merchant_name)};
	if (req_read(r, name_fn, &nc) != 0)
		return -1;
	return checkout_page(r, &x, 200, NULL);
}

int checkout_pay_session(struct req *r, const char *acct, const char *cs)
{
	struct page_ctx x;
	int rc = page_lookup(r, &x, acct, cs);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	return pay(r, &x);
}

/* what the 3-D Secure pages append to the return URL (either intent's) */
static const struct param_spec complete_params[] = {
    {"payment_intent", PT_STRING, 0, 255, NULL, NULL},
    {"payment_intent_client_secret", PT_STRING, 0, 255, NULL, NULL},
    {"setup_intent", PT_STRING, 0, 255, NULL, NULL},
    {"setup_intent_client_secret", PT_STRING, 0, 255, NULL, NULL},
    {"redirect_status", PT_STRING, 0, 32, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

/* Where 3-D Secure comes back to: the session's intent says what happened (page_lookup
 * completes a paid one). */
static int h_complete(struct req *r)
{
	struct page_ctx x;
	int rc = page_lookup(r, &x, r->args[0], r->args[1]);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	return checkout_page(r, &x, 402,
			     "Your bank did not confirm the payment. Try again, or use another "
			     "card.");
}

/* Where the bank (iDEAL, Bancontact) sends the browser back to: the session's intent, never
 * the query string, says what happened. Paid: page_lookup sends it to success_url. Failed (the
 * intent went back to requires_payment_method) or left at the bank: the page again, saying so,
 * to pay another way or try again. A read only. */
static int h_return(struct req *r)
{
	struct page_ctx x;
	int rc = page_lookup_as(r, &x, r->args[0], r->args[1], PAGE_REDIRECTED);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	/* setup mode: the session's SetupIntent (its account saved: page_lookup completed);
	 * subscription mode's iDEAL / Bancontact the same until the bank authorized it */
	if (strcmp(x.s.mode, "setup") == 0 ||
	    (x.si_status && strcmp(x.si_status, "succeeded") != 0 && !x.s.subscription)) {
		if (x.si_status && strcmp(x.si_status, "requires_action") == 0)
			return checkout_page(r, &x, 200,
					     "Your bank has not confirmed yet. Finish it at your "
					     "bank, or choose another payment method.");
		if (x.si_status && strcmp(x.si_status, "requires_payment_method") == 0)
			return checkout_page(
			    r, &x, 402,
			    "Your bank did not confirm your account. Try again, or "
			    "choose another payment method.");
		return checkout_page(r, &x, 200, NULL);
	}
	if (x.has_pi && strcmp(x.pi.status, "requires_action") == 0)
		return checkout_page(r, &x, 200,
				     "Your bank has not confirmed the payment yet. Finish it at "
				     "your bank, or pay another way.");
	/* no attempt failed (none made, or one canceled): the page as it is */
	if (!x.has_pi || strcmp(x.pi.status, "requires_payment_method") != 0 ||
	    !x.pi.last_payment_error)
		return checkout_page(r, &x, 200, NULL);
	return checkout_page(r, &x, 402,
			     "Your payment failed: your bank did not authorize it. Try again, or "
			     "choose another payment method.");
}

/* ---- subscription mode's iDEAL / Bancontact (sub_bank) ----
 *
 * The form confirms a SetupIntent of the session (save_card, bank_setup: recorded as setup
 * mode's attempt is, the SEPA mandate accepted online on the page) and the bank's page
 * authorizes it: as Stripe's Checkout does, the account the bank reports becomes a sepa_debit
 * PaymentMethod with a multi-use mandate (redirect_page.c, the intent's one write). Right after
 * that write, the same POST makes the subscription with it (checkout_subscribe_saved: the
 * SEPA form's path, subscribe, with the mandate already made), so its first invoice is
 * debited off session and the session completes unpaid, paid when the scheduler settles the
 * debit; the PaymentMethod is the subscription's default_payment_method for the renewals. A
 * failure at the bank leaves the SetupIntent requires_payment_method and the session open. */

int checkout_setup_saved(struct req *r, struct db *db, const char *id, bool *ret_subscribe)
{
	*ret_subscribe = false;
	struct session s;
	int rc = session_load(&r->arena, db, r->merchant_id, id, &s);
	if (rc == DB_NOTFOUND)
		return 0;
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (strcmp(s.mode, "subscription") != 0)
		return checkout_complete(r, db, id);
	/* open, and no other attempt (a card's) made its subscription meanwhile */
	*ret_subscribe = strcmp(s.status, "open") == 0 && !s.subscription;
	return 0;
}

int checkout_subscribe_saved(struct req *r, const char *acct, const char *cs, const char *pm)
{
	struct page_ctx x;
	int rc = page_lookup_as(r, &x, acct, cs, true);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	const char *ret_url = arena_printf(&r->arena, "%s/complete", session_url(r, acct, x.key));
	return subscribe(r, &x, pm, true, true, ret_url);
}

/* ---- the scheduler: open sessions past expires_at ---- */

const char CHECKOUT_EXPIRE_DUE_SQL[] = "SELECT 1 FROM checkout_sessions WHERE status = 'open'"
				       " AND expires_at <= $1 LIMIT 1";
static const char SQL_DUE[] = "SELECT merchant_id, id FROM checkout_sessions WHERE"
			      " status = 'open' AND expires_at <= $1 ORDER BY expires_at LIMIT $2";

struct expire_ctx {
	int64_t now;
	int done;
	struct shard_share share;
};

static int expire_due_fn(struct db *db, void *arg)
{
	struct expire_ctx *c = arg;
	struct req r;
	memset(&r, 0, sizeof(r));
	arena_init(&r.arena, 4u << 20);
	struct scheduler_due due[EXPIRE_BATCH];
	int n = 0, done = 0, rc = DB_OK;
	if (scheduler_due_read(db, SQL_DUE, c->now, due, &n, scheduler_batch(EXPIRE_BATCH)) !=
	    DB_OK) {
		arena_release(&r.arena);
		return DB_ERR;
	}
	for (int i = 0; i < n && rc == DB_OK; i++) {
		struct session s;
		if (session_load(&r.arena, db, due[i].merchant, due[i].id, &s) != DB_OK)
			continue;
		/* a paid session completed with its payment's own write: open means unpaid */
		rc = session_close(&r, db, due[i].merchant, &s, false, c->now);
		if (rc == DB_CONFLICT) {
			rc = DB_OK;
			continue;
		}
		if (rc == DB_OK)
			done++;
	}
	arena_release(&r.arena);
	if (rc != DB_OK)
		return rc;
	c->done += (int)shard_share_add(&c->share, db, done);
	return 0;
}

int checkout_expire_tick(struct store *s, int64_t now)
{
	struct expire_ctx c = {.now = now};
	int rc = store_each_shard_write(s, expire_due_fn, &c);
	return rc == 0 ? c.done : rc;
}

/* ---- after_expiration[recovery]: the recovery URL ----
 *
 * A session that expired with recovery enabled has a recovery URL for 30 days
 * (/checkout/{acct}/{cs}/recover). Stripe opens a new session on each visit of it; Tender's
 * pages never write on GET (as payment links, whose page's POST opens the session), so the
 * GET shows a button whose POST opens the new session, a copy of the expired one's line items
 * and settings with nothing of its attempts, `recovered_from` naming it, and sends the browser
 * there. Each POST opens a session of its own, as each visit does on Stripe. */

struct recover_ctx {
	struct req *r;
	const char *acct, *id;
	bool ok; /* the session may be recovered (the GET), or was (the POST: new_id) */
	char new_id[ID_MAX];
};

static bool recoverable(const struct req *r, const struct session *s)
{
	return strcmp(s->status, "expired") == 0 && s->recovery_expires_at > r->now;
}

static int recover_check_fn(struct db *db, void *arg)
{
	struct recover_ctx *x = arg;
	struct session s;
	x->ok =
	    session_load(&x->r->arena, db, x->acct, x->id, &s) == DB_OK && recoverable(x->r, &s);
	return 0;
}

/* the custom fields' definitions without the values an attempt filled in */
static const char *custom_fields_blank(struct req *r, const char *fields)
{
	json_t *a = fields ? json_loads(fields, 0, NULL) : NULL;
	if (!json_is_array(a)) {
		json_decref(a);
		return NULL;
	}
	size_t i;
	json_t *f;
	static const char *const kinds[] = {"text", "numeric", "dropdown"};
	json_array_foreach(a, i, f)
	{
		for (size_t k = 0; k < 3; k++) {
			json_t *sub = json_object_get(f, kinds[k]);
			if (json_is_object(sub) && json_object_get(sub, "value"))
				json_object_set_new(sub, "value", json_null());
		}
	}
	char *t = json_dumps(a, JSON_COMPACT);
	const char *out = t ? arena_strdup(&r->arena, t) : NULL;
	free(t);
	json_decref(a);
	return out;
}

static int recover_fn(struct db *db, void *arg)
{
	struct recover_ctx *x = arg;
	struct req *r = x->r;
	x->ok = false;
	x->new_id[0] = '\0';
	struct session old;
	if (session_load(&r->arena, db, x->acct, x->id, &old) != DB_OK || !recoverable(r, &old))
		return 0;
	struct session s = old;
	id_new_at(s.id, "cs_test_", r->now);
	s.created = r->now;
	s.expires_at = r->now + EXPIRES_MAX;
	s.status = "open";
	s.payment_intent = s.setup_intent = s.subscription = s.invoice = NULL;
	s.details_email = s.details_name = s.details_phone = NULL;
	s.shipping_details = s.billing_address = s.consent = s.details_tax_ids = NULL;
	s.link_nonce = NULL;
	s.attempt_at = 0;
	s.custom_fields = custom_fields_blank(r, old.custom_fields);
	s.recovered_from = old.id;
	s.recovery_expires_at = 0;
	/* Stripe: recovery[allow_promotion_codes] decides the new session's */
	json_t *c = old.collect ? json_loads(old.collect, 0, NULL) : NULL;
	s.allow_promotion_codes = json_is_true(
	    json_object_get(json_object_get(json_object_get(c, "after_expiration"), "recovery"),
			    "allow_promotion_codes"));
	json_decref(c);
	int rc = session_insert(r, db, &s);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	x->ok = true;
	str_copy(x->new_id, sizeof(x->new_id), s.id);
	return 0;
}

static int recover_gone(struct req *r)
{
	challenge_page(r, 410, "Checkout expired",
		       "<h1>This checkout can no longer be recovered</h1><p>Go back to the shop to "
		       "start again.</p>");
	return 0;
}

static int h_recover_page(struct req *r)
{
	struct recover_ctx x = {.r = r, .acct = r->args[0], .id = r->args[1]};
	str_copy(r->merchant_id, sizeof(r->merchant_id), x.acct);
	if (req_read(r, recover_check_fn, &x) != 0)
		return -1;
	if (!x.ok)
		return recover_gone(r);
	struct buf b;
	buf_init(&b, 64 * 1024);
	buf_puts(&b, "<h1>Your checkout expired</h1><p>Pick up where you left off: the same "
		     "items in a new checkout.</p><form method=\"post\" action=\"");
	html_escape(&b, arena_printf(&r->arena, "/checkout/%s/%s/recover", x.acct, x.id));
	buf_puts(&b, "\"><button type=\"submit\">Resume checkout</button></form>");
	const char *body =
	    b.failed ? "<h1>Resume checkout</h1>" : arena_strdup(&r->arena, buf_cstr(&b));
	buf_release(&b);
	challenge_page(r, 200, "Resume checkout", body);
	return 0;
}

static int h_recover(struct req *r)
{
	struct recover_ctx x = {.r = r, .acct = r->args[0], .id = r->args[1]};
	str_copy(r->merchant_id, sizeof(r->merchant_id), x.acct);
	if (req_write(r, recover_fn, &x) != 0)
		return -1;
	if (!x.ok)
		return recover_gone(r);
	r->location = arena_printf(&r->arena, "/checkout/%s/%s", x.acct, x.new_id);
	return challenge_redirect(r);
}

static const struct param_spec promo_params[] = {
    {"promotion_code", PT_STRING, PF_EMPTYABLE, 100, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
const struct param_spec checkout_ship_params[] = {
    {"name", PT_STRING, PF_EMPTYABLE, 200, NULL, NULL},
    {"address", PT_OBJECT, 0, 0, NULL, address_params},
    {NULL, 0, 0, 0, NULL, NULL},
};
/* the page's quantity[<line item id>] fields (quantities_form), checked by quantities_parse */
static const struct param_spec quantities_params[] = {
    {"quantity", PT_HASH, PF_REQUIRED, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec address_form_params[] = {
    {"address", PT_OBJECT, PF_REQUIRED, 0, NULL, address_params},
    {NULL, 0, 0, 0, NULL, NULL},
};
/* the page's tax id (tax_id_collection): optional, so its value may be empty; a value given is
 * checked by tax_ids_check_data */
static const struct param_spec page_tax_id_children[] = {
    {"type", PT_STRING, 0, 32, NULL, NULL},
    {"value", PT_STRING, PF_EMPTYABLE, 64, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec pay_params[] = {
    {"shipping_rate", PT_STRING, PF_EMPTYABLE, 255, NULL, NULL},
    {"shipping", PT_OBJECT, 0, 0, NULL, checkout_ship_params},
    {"payment_method_data", PT_OBJECT, PF_REQUIRED, 0, NULL, pm_data_params_pi},
    {"custom_amount", PT_STRING, PF_EMPTYABLE, 20, NULL, NULL},
    {"custom_fields", PT_HASH, 0, 0, NULL, NULL},
    {"consent", PT_HASH, 0, 0, NULL, NULL},
    {"tax_id_data", PT_OBJECT_ARRAY, 0, 1, NULL, page_tax_id_children},
    /* the test institution's account the buyer linked (Financial Connections) */
    {"fc_account", PT_STRING, PF_EMPTYABLE, 32, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

const struct route checkout_routes[] = {
    /* the Stripe-Version names the default ui_mode (ui_mode_parse) */
    {"POST", "/v1/checkout/sessions", h_create, create_params, ROUTE_STRIPE_VERSION},
    {"GET", "/v1/checkout/sessions", h_list, list_params, ROUTE_LIST},
    {"GET", "/v1/checkout/sessions/{id}", h_retrieve, no_params, 0},
    {"POST", "/v1/checkout/sessions/{id}", h_update, update_params, 0},
    {"GET", "/v1/checkout/sessions/{id}/line_items", h_line_items, no_params, ROUTE_LIST},
    {"POST", "/v1/checkout/sessions/{id}/expire", h_expire, no_params, 0},
    {"GET", "/checkout/{acct}/{cs}", h_page, no_params, ROUTE_NO_AUTH | ROUTE_RAW},
    {"POST", "/checkout/{acct}/{cs}", h_pay, pay_params,
     ROUTE_NO_AUTH | ROUTE_RAW | ROUTE_PAGE_LIMIT},
    {"GET", "/checkout/{acct}/{cs}/complete", h_complete, complete_params,
     ROUTE_NO_AUTH | ROUTE_RAW},
    {"GET", "/checkout/{acct}/{cs}/return", h_return, complete_params, ROUTE_NO_AUTH | ROUTE_RAW},
    {"POST", "/checkout/{acct}/{cs}/promotion_code", h_promotion_code, promo_params,
     ROUTE_NO_AUTH | ROUTE_RAW | ROUTE_PAGE_LIMIT},
    {"POST", "/checkout/{acct}/{cs}/address", h_address, address_form_params,
     ROUTE_NO_AUTH | ROUTE_RAW | ROUTE_PAGE_LIMIT},
    {"POST", "/checkout/{acct}/{cs}/quantities", h_quantities, quantities_params,
     ROUTE_NO_AUTH | ROUTE_RAW | ROUTE_PAGE_LIMIT},
    {"GET", "/checkout/{acct}/{cs}/recover", h_recover_page, no_params, ROUTE_NO_AUTH | ROUTE_RAW},
    {"POST", "/checkout/{acct}/{cs}/recover", h_recover, no_params,
     ROUTE_NO_AUTH | ROUTE_RAW | ROUTE_PAGE_LIMIT},
    {NULL, NULL, NULL, NULL, 0},
};

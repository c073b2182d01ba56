/*
 * The customer portal's plan changes: a configuration's features[subscription_update], the
 * page's plan choice and its confirmation, and the deep links flow_data[type]=
 * subscription_update and subscription_update_confirm (billing_portal.c serves the page and
 * calls these).
 *
 * The configuration. default_allowed_updates (price, quantity), products[n][product, prices[]]
 * (at most 10, the param spec) and proration_behavior are checked as Stripe checks them: each
 * product the merchant's and active, each price the merchant's, of that product, active,
 * recurring and licensed (the portal does not change metered prices), none twice; enabling the
 * feature needs a product. promotion_code is refused while enabled: Tender's page takes no
 * promotion code yet, and a setting accepted and ignored would mislead.
 *
 * Which subscriptions. One the portal lists (not canceled or incomplete) that is active or
 * trialing, not set to cancel, without a pending update, of a single item (Stripe: subscriptions
 * with multiple items are not updatable) whose price is among the configured products' prices;
 * and the configuration allows price or quantity changes. The plan choice offers the configured
 * prices in the subscription's currency (a price's own or its currency_options entry), recurring
 * and licensed, when price changes are allowed (else its own price alone), and a quantity when
 * quantity changes are.
 *
 * The confirmation shows what the change costs through the code the API's previews use:
 * subscription_preview (the update's own read: the same items, prices and prorations as the
 * change will make), then the invoice's lines, default tax rates, automatic tax, discounts
 * (invoice_lines_plan, invoice_discounts_compute) and the customer's balance
 * (invoice_planned_due), as POST /v1/invoices/create_preview does. always_invoice (or a new
 * billing interval, which starts a new period) shows the amount due now; otherwise the next
 * invoice with the prorations on it.
 *
 * The change goes through subscription_change, as POST /v1/subscriptions/{id} with items[0][id,
 * price, quantity] and the configuration's proration_behavior: its customer.subscription.updated,
 * its proration items, its invoice paid at once for always_invoice. payment_behavior is
 * error_if_incomplete: a payment that fails (a decline, or a card asking for 3-D Secure, which
 * the single-use page cannot come back from) undoes the change and the page shows why.
 */
#include "api/billing_portal_update.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/billing_internal.h"
#include "api/catalog.h"
#include "api/challenge.h"
#include "api/resources.h"
#include "core/str.h"

#define PORTAL_QTY_MAX 10000 /* the quantity a customer may choose (Tender's bound) */
#define PORTAL_PRICES_MAX 100

static const char SQL_PLAN_SUB[] =
    "SELECT customer, status, cancel_at_period_end, currency, current_period_end,"
    " pending_update FROM subscriptions WHERE merchant_id = $1 AND id = $2";
static const char SQL_PLAN_ITEMS[] =
    "SELECT id, price, quantity FROM subscription_items WHERE merchant_id = $1"
    " AND subscription = $2 ORDER BY pos LIMIT 2";

static json_t *su_of(json_t *f)
{
	return json_object_get(f, "subscription_update");
}

bool portal_update_allows(json_t *f, const char *what)
{
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(su_of(f), "default_allowed_updates"), i, v)
	{
		if (str_eq(json_string_value(v), what))
			return true;
	}
	return false;
}

/* price is among the configuration's products' prices */
static bool configured(json_t *f, const char *price)
{
	size_t i, k;
	json_t *p, *v;
	json_array_foreach(json_object_get(su_of(f), "products"), i, p)
	{
		json_array_foreach(json_object_get(p, "prices"), k, v)
		{
			if (str_eq(json_string_value(v), price))
				return true;
		}
	}
	return false;
}

/* ---- the configuration ---- */

int portal_update_conf_check(struct req *r, struct db *db, const char *features)
{
	json_error_t e;
	json_t *f = json_loads(features, 0, &e);
	json_t *su = su_of(f);
	if (!json_is_object(su)) {
		json_decref(f);
		return req_fail(r, ERR_API, NULL, NULL);
	}
	bool enabled = json_is_true(json_object_get(su, "enabled"));
	json_t *products = json_object_get(su, "products");
	int rc = 0;
	if (enabled && portal_update_allows(f, "promotion_code"))
		rc = req_fail(r, ERR_PARAM_BAD,
			      "features[subscription_update][default_allowed_updates]",
			      "Tender's customer portal does not take promotion codes yet: leave "
			      "promotion_code out of "
			      "features[subscription_update][default_allowed_updates].");
	if (rc == 0 && enabled && json_array_size(products) == 0)
		rc = req_fail(r, ERR_PARAM_BAD, "features[subscription_update][products]",
			      "You must provide at least one product in "
			      "features[subscription_update][products] to enable subscription "
			      "updates.");
	size_t i;
	json_t *p;
	json_array_foreach(products, i, p)
	{
		if (rc != 0)
			break;
		const char *product = json_string_value(json_object_get(p, "product"));
		char shown[112];
		snprintf(shown, sizeof(shown),
			 "features[subscription_update][products][%zu][product]", i);
		for (size_t k = 0; k < i && product; k++)
			if (str_eq(json_string_value(
				       json_object_get(json_array_get(products, k), "product")),
				   product)) {
				rc = req_fail(r, ERR_PARAM_BAD, shown,
					      "The product %s is listed more than once.", product);
				break;
			}
		if (rc != 0)
			break;
		struct product pr;
		int lrc = product ? product_load(r, db, product, &pr) : DB_NOTFOUND;
		if (lrc == DB_NOTFOUND || (lrc == DB_OK && pr.deleted)) {
			rc = req_fail(r, ERR_RESOURCE_MISSING, shown, "No such product: '%s'",
				      product ? product : "");
			break;
		}
		if (lrc != DB_OK) {
			rc = req_fail(r, ERR_API, NULL, NULL);
			break;
		}
		if (!pr.active) {
			rc = req_fail(r, ERR_PARAM_BAD, shown,
				      "The product %s is not active: only active products can be "
				      "offered in the portal.",
				      product);
			break;
		}
		json_t *prices = json_object_get(p, "prices");
		snprintf(shown, sizeof(shown),
			 "features[subscription_update][products][%zu][prices]", i);
		if (json_array_size(prices) == 0) {
			rc = req_fail(r, ERR_PARAM_BAD, shown,
				      "Give at least one price of the product %s.", product);
			break;
		}
		size_t k;
		json_t *v;
		json_array_foreach(prices, k, v)
		{
			const char *id = json_string_value(v);
			snprintf(shown, sizeof(shown),
				 "features[subscription_update][products][%zu][prices][%zu]", i, k);
			struct price pc;
			lrc = id ? price_load(r, db, id, &pc) : DB_NOTFOUND;
			if (lrc == DB_NOTFOUND)
				rc = req_fail(r, ERR_RESOURCE_MISSING, shown, "No such price: '%s'",
					      id ? id : "");
			else if (lrc != DB_OK)
				rc = req_fail(r, ERR_API, NULL, NULL);
			else if (!str_eq(pc.product, product))
				rc = req_fail(r, ERR_PARAM_BAD, shown,
					      "The price %s does not belong to product %s.", id,
					      product);
			else if (!pc.active)
				rc = req_fail(r, ERR_PARAM_BAD, shown,
					      "The price %s is not active.", id);
			else if (!pc.interval || !*pc.interval)
				rc = req_fail(r, ERR_PARAM_BAD, shown,
					      "The price %s is not recurring: the portal changes "
					      "subscriptions to recurring prices only.",
					      id);
			else if (str_eq(pc.usage_type, "metered"))
				rc = req_fail(r, ERR_PARAM_BAD, shown,
					      "The price %s is metered: the portal does not change "
					      "subscriptions to usage-based prices.",
					      id);
			for (size_t m = 0; rc == 0 && m < k; m++)
				if (str_eq(json_string_value(json_array_get(prices, m)), id))
					rc = req_fail(r, ERR_PARAM_BAD, shown,
						      "The price %s is listed more than once.", id);
			if (rc != 0)
				break;
		}
	}
	json_decref(f);
	return rc;
}

/* ---- a subscription's plan ---- */

int portal_plan_load(struct req *r, struct db *db, json_t *f, const char *sub,
		     struct portal_plan *ret)
{
	memset(ret, 0, sizeof(*ret));
	struct db_stmt *st = db_prepare(db, SQL_PLAN_SUB);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, sub, -1);
	int rc = db_step(st);
	bool cape = false, pending = false;
	if (rc == DB_ROW) {
		str_copy(ret->sub, sizeof(ret->sub), sub);
		str_copy(ret->customer, sizeof(ret->customer), db_col_text(st, 0, NULL));
		str_copy(ret->status, sizeof(ret->status), db_col_text(st, 1, NULL));
		cape = db_col_int64(st, 2) != 0;
		str_copy(ret->currency, sizeof(ret->currency), db_col_text(st, 3, NULL));
		ret->period_end = db_col_int64(st, 4);
		pending = db_col_text(st, 5, NULL) != NULL;
	}
	db_reset(st);
	if (rc == DB_DONE)
		return DB_NOTFOUND;
	if (rc != DB_ROW)
		return rc < 0 ? rc : DB_ERR;
	st = db_prepare(db, SQL_PLAN_ITEMS);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, sub, -1);
	int n = 0;
	while ((rc = db_step(st)) == DB_ROW) {
		if (n++ == 0) {
			str_copy(ret->item, sizeof(ret->item), db_col_text(st, 0, NULL));
			str_copy(ret->price, sizeof(ret->price), db_col_text(st, 1, NULL));
			ret->quantity = db_col_int64(st, 2);
		}
	}
	db_reset(st);
	if (rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	if (!str_eq(ret->status, "active") && !str_eq(ret->status, "trialing"))
		ret->why = "only an active or trialing subscription's plan can be changed here";
	else if (cape)
		ret->why = "the subscription is set to cancel at the end of its period";
	else if (pending)
		ret->why = "the subscription has a pending update waiting for its payment";
	else if (n != 1)
		ret->why = "a subscription with several items cannot be updated in the portal";
	else if (!configured(f, ret->price))
		ret->why = "its price is not among the portal's products";
	else if (!portal_update_allows(f, "price") && !portal_update_allows(f, "quantity"))
		ret->why = "the portal allows no plan changes";
	return DB_OK;
}

/* price `id` as plan p would bill it (its currency), when the portal may offer it to p: 1 with
 * *pf, 0 when not, or < 0. */
static int offerable(struct req *r, struct db *db, const struct portal_plan *p, const char *id,
		     struct price_facts *pf)
{
	int rc = price_facts_in(r, db, id, p->currency, pf);
	if (rc == DB_NOTFOUND)
		return 0;
	if (rc != DB_OK)
		return rc;
	return str_eq(pf->currency, p->currency) && pf->recurring && pf->active &&
	       pf->product_active && !str_eq(pf->usage_type, "metered");
}

int portal_update_choice_check(struct req *r, struct db *db, json_t *f, const struct portal_plan *p,
			       const char *price, int64_t qty, const char *price_shown,
			       const char *qty_shown)
{
	if (p->why)
		return req_fail(r, ERR_PARAM_BAD, NULL, "This plan cannot be changed here: %s.",
				p->why);
	bool new_price = price && *price && !str_eq(price, p->price);
	bool new_qty = qty != 0 && qty != p->quantity;
	if (new_price) {
		if (!portal_update_allows(f, "price"))
			return req_fail(r, ERR_PARAM_BAD, price_shown,
					"The portal's configuration does not allow price changes.");
		struct price_facts pf;
		int rc = configured(f, price) ? offerable(r, db, p, price, &pf) : 0;
		if (rc < 0)
			return req_fail(r, ERR_API, NULL, NULL);
		if (rc == 0)
			return req_fail(r, ERR_PARAM_BAD, price_shown,
					"The price %s is not one the portal's configuration offers "
					"for this subscription.",
					price);
	}
	if (new_qty) {
		if (!portal_update_allows(f, "quantity"))
			return req_fail(
			    r, ERR_PARAM_BAD, qty_shown,
			    "The portal's configuration does not allow quantity changes.");
		if (qty < 1 || qty > PORTAL_QTY_MAX)
			return req_fail(r, ERR_PARAM_BAD, qty_shown,
					"The quantity must be between 1 and %d.", PORTAL_QTY_MAX);
	}
	if (!new_price && !new_qty)
		return req_fail(r, ERR_PARAM_BAD, price_shown,
				"This is the current plan: choose another price or quantity.");
	return 0;
}

/* "20.00 USD per month", "every 3 months" */
static void per_interval(struct buf *b, int64_t amount, const struct price_facts *pf)
{
	html_amount(b, amount, pf->currency);
	if (pf->interval_count > 1) {
		buf_printf(b, " every %lld ", (long long)pf->interval_count);
		html_escape(b, pf->interval);
		buf_puts(b, "s");
	} else {
		buf_puts(b, " per ");
		html_escape(b, pf->interval);
	}
}

static void hidden(struct buf *b, const char *name, const char *value)
{
	buf_puts(b, "<input type=\"hidden\" name=\"");
	html_escape(b, name);
	buf_puts(b, "\" value=\"");
	html_escape(b, value);
	buf_puts(b, "\">");
}

int portal_update_choose_html(struct req *r, struct db *db, json_t *f, const struct portal_plan *p,
			      struct buf *b, const char *action, const char *nonce)
{
	buf_puts(b, "<section id=\"update-plan\"><h2>Update plan</h2>");
	if (p->why) {
		buf_puts(b, "<p id=\"not-updatable\">This plan cannot be changed here: ");
		html_escape(b, p->why);
		buf_puts(b, ".</p></section>");
		return DB_OK;
	}
	buf_puts(b, "<form method=\"post\" action=\"");
	html_escape(b, action);
	buf_puts(b, "\">");
	hidden(b, "nonce", nonce);
	hidden(b, "subscription", p->sub);
	buf_puts(b, "<fieldset><legend>Choose a plan</legend>");
	/* the configured prices in product order (price changes allowed), else its own */
	const char *ids[PORTAL_PRICES_MAX];
	int n = 0;
	if (portal_update_allows(f, "price")) {
		size_t i, k;
		json_t *pr, *v;
		json_array_foreach(json_object_get(su_of(f), "products"), i, pr)
		{
			json_array_foreach(json_object_get(pr, "prices"), k, v)
			{
				if (n < PORTAL_PRICES_MAX && json_string_value(v))
					ids[n++] = json_string_value(v);
			}
		}
	} else {
		ids[n++] = p->price;
	}
	for (int i = 0; i < n; i++) {
		struct price_facts pf;
		int rc = offerable(r, db, p, ids[i], &pf);
		if (rc < 0)
			return rc;
		/* its own price is shown even when no longer offered (it is what it pays) */
		if (rc == 0 && !str_eq(ids[i], p->price))
			continue;
		if (rc == 0 && price_facts_in(r, db, ids[i], p->currency, &pf) != DB_OK)
			continue;
		int64_t unit;
		if (price_facts_amount(&pf, 1, &unit) != 0)
			continue;
		buf_puts(b, "<label class=\"plan\"><input type=\"radio\" name=\"price\" value=\"");
		html_escape(b, ids[i]);
		buf_puts(b, "\" id=\"price-");
		html_escape(b, ids[i]);
		buf_puts(b, str_eq(ids[i], p->price) ? "\" checked> " : "\"> ");
		html_escape(b, pf.product_name ? pf.product_name : ids[i]);
		buf_puts(b, ": ");
		per_interval(b, unit, &pf);
		if (str_eq(ids[i], p->price))
			buf_puts(b, " (current)");
		buf_puts(b, "</label>");
	}
	buf_puts(b, "</fieldset>");
	if (portal_update_allows(f, "quantity"))
		buf_printf(b,
			   "<label for=\"quantity\">Quantity</label><input id=\"quantity\" "
			   "name=\"quantity\" inputmode=\"numeric\" required value=\"%lld\">",
			   (long long)p->quantity);
	buf_puts(b, "<p><button type=\"submit\">Continue</button></p></form></section>");
	return DB_OK;
}

static const char *proration_of(json_t *f)
{
	const char *v = json_string_value(json_object_get(su_of(f), "proration_behavior"));
	return v ? v : "none";
}

/* p's change as the subscription update takes it */
static struct sub_change *change_of(struct req *r, json_t *f, const struct portal_plan *p,
				    const char *price, int64_t qty)
{
	struct sub_change *c = arena_alloc(&r->arena, sizeof(*c));
	if (!c)
		return NULL;
	memset(c, 0, sizeof(*c));
	c->subscription = arena_strdup(&r->arena, p->sub);
	c->n = 1;
	c->ch[0].id = arena_strdup(&r->arena, p->item);
	c->ch[0].price = price && *price && !str_eq(price, p->price) ? price : NULL;
	c->ch[0].quantity = qty != p->quantity ? qty : 0;
	c->ch[0].shown = "price";
	c->proration_behavior = arena_strdup(&r->arena, proration_of(f));
	c->payment_behavior = "error_if_incomplete";
	c->answer = SUB_ANSWER_SUBSCRIPTION;
	if (!c->subscription || !c->ch[0].id || !c->proration_behavior)
		return NULL;
	return c;
}

int portal_update_confirm_html(struct req *r, struct db *db, json_t *f, const struct portal_plan *p,
			       const char *price, int64_t qty, struct buf *b, const char *action,
			       const char *nonce)
{
	const char *np = price && *price ? price : p->price;
	int64_t nq = qty ? qty : p->quantity;
	struct price_facts pf;
	int64_t per;
	if (price_facts_in(r, db, np, p->currency, &pf) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (price_facts_amount(&pf, nq, &per) != 0)
		return req_fail(r, ERR_AMOUNT_TOO_LARGE, "quantity",
				"The plan would cost too much.");
	struct sub_change *c = change_of(r, f, p, price, qty);
	struct invoice_preview pv;
	memset(&pv, 0, sizeof(pv));
	char id[ID_MAX];
	id_new(id, "upcoming_in_");
	struct sub_preview_req q = {
	    .subscription = p->sub, .invoice_id = id, .change = c, .cancel_at_period_end = -1};
	if (!c)
		return req_fail(r, ERR_API, NULL, NULL);
	int rc = subscription_preview(r, db, &q, &pv);
	if (rc < 0)
		return -1;
	/* the invoice it shows: made now (always_invoice, a new interval), else the next one */
	bool now = rc == 0 && str_eq(pv.in.billing_reason, "subscription_update");
	int64_t due = 0, pr_sum = 0;
	for (int k = 0; rc == 0 && k < pv.n_pr; k++)
		if (__builtin_add_overflow(pr_sum, pv.pr[k].amount, &pr_sum))
			return req_fail(r, ERR_API, NULL, NULL);
	if (rc == 0) {
		struct discount *ds = arena_alloc(&r->arena, DISCOUNTS_MAX * sizeof(*ds));
		int n_ds = 0, n = 0;
		struct inv_line *lines;
		struct invoice_discounts_result res;
		if (!ds || subscription_discounts(r, db, p->sub, pv.t, ds, &n_ds) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (invoice_lines_plan(r, db, &pv.pending, pv.pr, pv.n_pr, pv.period, pv.n_period,
				       &lines, &n) != 0 ||
		    invoice_lines_tax_defaults(r, db, p->sub, NULL, lines, n) != 0 ||
		    (pv.in.automatic_tax &&
		     invoice_lines_auto_tax_at(r, db, pv.in.customer, NULL, r->now, lines, n,
					       NULL) != 0) ||
		    invoice_discounts_compute(r, p->currency, lines, n, ds, n_ds, &res) != 0 ||
		    invoice_planned_due(r, db, p->customer, p->currency, res.total, &due) != 0)
			return -1;
	}
	buf_puts(b, "<section id=\"update-confirm\"><h2>Confirm your new plan</h2>"
		    "<p id=\"new-plan\">");
	html_escape(b, pf.product_name ? pf.product_name : np);
	if (nq != 1)
		buf_printf(b, " × %lld", (long long)nq);
	buf_puts(b, ": <span id=\"new-amount\">");
	per_interval(b, per, &pf);
	buf_puts(b, "</span></p>");
	if (rc == 0 && pv.n_pr > 0) {
		buf_puts(b, "<ul id=\"prorations\">");
		for (int k = 0; k < pv.n_pr; k++) {
			buf_puts(b, "<li>");
			html_escape(b, pv.pr[k].description ? pv.pr[k].description : "Proration");
			buf_puts(b, ": ");
			html_amount(b, pv.pr[k].amount, p->currency);
			buf_puts(b, "</li>");
		}
		buf_puts(b, "</ul><p id=\"proration-total\">Prorations: ");
		html_amount(b, pr_sum, p->currency);
		buf_puts(b, "</p>");
	} else if (rc == 0) {
		buf_puts(b, "<p id=\"no-proration\">No proration for the current period.</p>");
	}
	if (rc == 0 && now) {
		buf_puts(b, "<p id=\"due-today\">Amount due today: <span class=\"amt\">");
		html_amount(b, due, p->currency);
		buf_puts(b, "</span></p>");
	} else if (rc == 0) {
		buf_puts(b, "<p id=\"next-invoice\">Your next invoice, on ");
		portal_html_date(b, pv.t);
		buf_puts(b, ": <span class=\"amt\">");
		html_amount(b, due, p->currency);
		buf_puts(b, "</span></p>");
	}
	buf_puts(b, "<form method=\"post\" action=\"");
	html_escape(b, action);
	buf_puts(b, "\">");
	hidden(b, "nonce", nonce);
	hidden(b, "subscription", p->sub);
	hidden(b, "price", np);
	buf_printf(b, "<input type=\"hidden\" name=\"quantity\" value=\"%lld\">", (long long)nq);
	buf_puts(b, "<p><button type=\"submit\">Confirm</button></p></form></section>");
	return 0;
}

int portal_update_apply(struct req *r, json_t *f, const struct portal_plan *p, const char *price,
			int64_t qty, int (*in_write)(struct req *, struct db *, void *), void *ctx)
{
	struct sub_change *c = change_of(r, f, p, price, qty);
	if (!c)
		return req_fail(r, ERR_API, NULL, NULL);
	c->in_write = in_write;
	c->in_write_ctx = ctx;
	int rc = subscription_change(r, c);
	/* the page answers, not the subscription's JSON */
	buf_reset(&r->out);
	return rc;
}

/* ---- deep links ---- */

int portal_update_flow(struct req *r, struct db *db, json_t *f, const char *type,
		       const struct portal_plan *p, const char **ret_update,
		       const char **ret_confirm)
{
	*ret_update = *ret_confirm = NULL;
	const char *shown = arena_printf(&r->arena, "flow_data[%s][subscription]", type);
	if (p->why)
		return req_fail(r, ERR_PARAM_BAD, shown,
				"The subscription %s cannot be updated in the portal: %s.", p->sub,
				p->why);
	if (str_eq(type, "subscription_update")) {
		*ret_update =
		    arena_printf(&r->arena, "{\"subscription\":%s}", json_quote(r, p->sub));
		return *ret_update ? 0 : req_fail(r, ERR_API, NULL, NULL);
	}
	const char *base = "flow_data.subscription_update_confirm";
	if (param_present(r, "flow_data.subscription_update_confirm.discounts"))
		return req_fail(
		    r, ERR_PARAM_BAD, "flow_data[subscription_update_confirm][discounts]",
		    "Tender's customer portal does not apply discounts to a plan change "
		    "yet: leave out flow_data[subscription_update_confirm][discounts].");
	char path[96];
	snprintf(path, sizeof(path), "%s.items.0.id", base);
	const char *item = param_str(r, path);
	if (!item || !*item)
		return req_fail(r, ERR_PARAM_MISSING,
				"flow_data[subscription_update_confirm][items][0][id]", "%s",
				"flow_data[subscription_update_confirm][items][0][id]");
	if (!str_eq(item, p->item))
		return req_fail(r, ERR_PARAM_BAD,
				"flow_data[subscription_update_confirm][items][0][id]",
				"The subscription item %s is not an item of the subscription %s.",
				item, p->sub);
	snprintf(path, sizeof(path), "%s.items.0.price", base);
	const char *price = param_str(r, path);
	snprintf(path, sizeof(path), "%s.items.0.quantity", base);
	int64_t qty = 0;
	if (param_int(r, path, &qty) == 1 && qty < 1)
		return req_fail(r, ERR_PARAM_BAD,
				"flow_data[subscription_update_confirm][items][0][quantity]",
				"The quantity must be at least 1.");
	if (portal_update_choice_check(
		r, db, f, p, price, qty, "flow_data[subscription_update_confirm][items][0][price]",
		"flow_data[subscription_update_confirm][items][0][quantity]") != 0)
		return -1;
	*ret_confirm = arena_printf(
	    &r->arena,
	    "{\"discounts\":null,\"items\":[{\"id\":%s,\"price\":%s,\"quantity\":%lld}],"
	    "\"subscription\":%s}",
	    json_quote(r, p->item), json_quote(r, price && *price ? price : p->price),
	    (long long)(qty ? qty : p->quantity), json_quote(r, p->sub));
	return *ret_confirm ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

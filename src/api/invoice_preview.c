/*
 * Previews of an invoice to come: POST /v1/invoices/create_preview (stripe-node's
 * invoices.createPreview) and the older GET /v1/invoices/upcoming and /v1/invoices/upcoming/lines,
 * whose flat parameters (subscription_items, subscription_proration_behavior, …) name the same
 * things as create_preview's subscription_details[…].
 *
 * What is previewed. With a subscription: the invoice it makes next (subscription_preview in
 * subscriptions.c): its next period's lines at its renewal (or its trial's end), the customer's
 * pending items that invoice takes, and, with subscription_details, the prorations the change
 * would make, through the update's own read (change_read_fn): a preview and the update with the
 * same proration_date give the same lines to the unit. A change that invoices at once
 * (always_invoice, a new billing interval) previews that invoice. With a customer alone: its
 * pending items of no subscription, as a one-off invoice that includes them would take them.
 * Nothing to invoice is Stripe's 404 invoice_upcoming_none.
 *
 * Its discounts are those the real invoice would take at its time (the subscription's, else the
 * customer's; `discounts` replaces them, '' removes them), computed by the same code as a real
 * invoice's (invoice_lines_plan, then invoice_discounts_compute, the computation
 * invoice_discounts_apply stores), and the customer's balance is shown as a draft shows it
 * (starting_balance, amount_due as finalizing would apply it).
 *
 * A preview writes nothing: it runs in one read transaction, its POST is ROUTE_READ_ONLY (no
 * idempotency record), new discounts get ids for the answer only, and no coupon is redeemed. Its
 * id is `upcoming_in_…`, the form Stripe's newer previews have (the spec's id is a plain string,
 * "always present unless the invoice is an upcoming invoice"; Tender gives one either way).
 *
 * subscription_details[cancel_now] (subscription_cancel_now) previews a cancellation now, which
 * Tender neither prorates nor invoices: invoice_upcoming_none.
 *
 * automatic_tax[enabled] (create_preview): the one-off invoice of a customer's pending items is
 * taxed by Stripe Tax at the customer's location, or at customer_details[address] when given
 * (invoice_lines_auto_tax_at, as the invoice itself would be; its rates are the fixed-id
 * txr_auto… ones, named here without being stored); a place Stripe Tax cannot locate is a 400
 * customer_tax_location_invalid, as Stripe's. A subscription's preview is taxed by Stripe Tax
 * when the subscription is (as its invoices are), or when automatic_tax[enabled] asks.
 *
 * invoice_items[] (both endpoints): items the preview adds as if they were pending (amount;
 * unit_amount or a one-time price, times quantity; their own tax_behavior and tax_code, and
 * their own discounts, resolved as an invoice item's create checks them and taken first on
 * their lines, as a stored item's own are), never stored. customer_details[shipping][address]
 * places a customer without customer_details[address] for Stripe Tax.
 *
 * An item's own discounts (subscription_details[items][n][discounts], subscription_items[n]
 * [discounts]): a new subscription's as the create takes items[n][discounts], a change's as the
 * update takes them (its next invoice's lines take them first; its prorations the discounts in
 * force before it, as the update's own).
 *
 * Of an existing subscription (the upcoming endpoint's flat names; subscription_details[…] of
 * create_preview): trial_end, trial_from_plan and billing_cycle_anchor (now / unchanged) are
 * read by the change as the update reads them (trial_params, under the preview's names), so
 * the preview is the invoice that update makes: at once (a trial ended, the anchor reset, a
 * trial started on a billed one) or at the moved trial's end. default_tax_rates replace the
 * subscription's defaults on the preview's lines. resume_at=now on a paused one: the invoice
 * POST …/resume makes (resume_read_fn; billing_cycle_anchor=unchanged keeps its cycle).
 * cancel_at within the current period: the final invoice the scheduler makes then
 * (cancel_at_preview), its credit unless proration_behavior=none.
 *
 * schedule: an active schedule's subscription's next invoice, with the items of the phase in
 * force at its renewal (subscription_schedule_phase_at), changed at the phase's start.
 *
 * A subscription still to be created: a `customer` with items (subscription_details[items],
 * subscription_items) and no `subscription` previews the first invoice POST /v1/subscriptions
 * with those parameters would make now (subscription_new_preview): the create's own parsing of
 * its items, its read of prices and customer, its plan (create_plan: currency and interval,
 * trial, anchor, backdating) and its first invoice's build, so that the two cannot disagree.
 * start_date later than now: the create made then (the invoice at that time); earlier: as
 * backdate_start_date. trial_end (trial_from_plan on the upcoming endpoint): the trial's 0
 * invoice. billing_cycle_anchor a timestamp: the prorated first period up to it
 * (proration_behavior=none: 0). default_tax_rates, the items' tax_rates, automatic_tax,
 * `currency` and `discounts` (else the customer's discount) as the create takes them;
 * invoice_items[] beside them. The invoice and its lines name no subscription or item (none
 * exists). An item's id, deleted or clear_usage, proration_date and resume_at are an existing
 * subscription's (400); price_data is not taken there (400).
 *
 * schedule_details (create_preview) of a new schedule: its phases parsed and checked as
 * POST /v1/subscription_schedules does (subscription_schedule_new_preview), its first phase
 * previewed as the subscription the schedule makes at its start (phases[0][start_date], else
 * now) through the same create (subscription_new_preview: items, trial_end, coupons,
 * collection and automatic tax of the phase); end_behavior and proration_behavior taken as
 * given (they change no first invoice). Not with `schedule` (a change of an existing
 * schedule), `subscription`, subscription_details or `discounts` (400).
 *
 * Not taken (parameter_unknown): customer_details other than address and shipping,
 * invoice_items[invoiceitem] (an existing item changed), their tax_rates and price_data.
 * A new subscription needs a `customer` (customer_details alone is refused).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/billing_internal.h"
#include "api/common.h"
#include "api/subscription_schedules.h"
#include "core/parse.h"
#include "core/str.h"
#include "http/form.h"
#include "billing/tiers.h"
#include "tax/engine.h"
#include "tax/rates.h"

#define LINES_LIMIT_DEFAULT 10
#define LINES_LIMIT_MAX 100

/* The parameters' names on each endpoint. */
struct preview_names {
	const char *items, *items_shown, *proration_behavior, *proration_date,
	    *cancel_at_period_end, *cancel_now;
	struct sub_trial_names trial; /* trial_end, trial_from_plan, billing_cycle_anchor */
	const char *default_tax, *default_tax_shown, *resume_at, *resume_at_shown;
	const char *cancel_at, *cancel_at_shown;
	const char *start_date, *start_date_shown; /* a new subscription's */
};
static const struct preview_names NEW_NAMES = {
    "subscription_details.items",
    "subscription_details[items]",
    "subscription_details.proration_behavior",
    "subscription_details.proration_date",
    "subscription_details.cancel_at_period_end",
    "subscription_details.cancel_now",
    /* create_preview has no trial_from_plan: its name is never declared, so never present */
    {"subscription_details.trial_end", "subscription_details[trial_end]",
     "subscription_details.trial_from_plan", "subscription_details[trial_from_plan]",
     "subscription_details.billing_cycle_anchor", "subscription_details[billing_cycle_anchor]"},
    "subscription_details.default_tax_rates",
    "subscription_details[default_tax_rates]",
    "subscription_details.resume_at",
    "subscription_details[resume_at]",
    "subscription_details.cancel_at",
    "subscription_details[cancel_at]",
    "subscription_details.start_date",
    "subscription_details[start_date]"};
static const struct preview_names OLD_NAMES = {
    "subscription_items",
    "subscription_items",
    "subscription_proration_behavior",
    "subscription_proration_date",
    "subscription_cancel_at_period_end",
    "subscription_cancel_now",
    {"subscription_trial_end", "subscription_trial_end", "subscription_trial_from_plan",
     "subscription_trial_from_plan", "subscription_billing_cycle_anchor",
     "subscription_billing_cycle_anchor"},
    "subscription_default_tax_rates",
    "subscription_default_tax_rates",
    "subscription_resume_at",
    "subscription_resume_at",
    "subscription_cancel_at",
    "subscription_cancel_at",
    "subscription_start_date",
    "subscription_start_date"};

/* An invoice_items[i]'s own discounts (invoice_items[i][discounts]): as asked (spec NULL:
 * none), then resolved (n of ds, with ids for the answer alone, and ids their JSON array) for
 * its item, whose id (id) extra_items_add gives it. */
struct extra_own {
	const struct discount_spec *spec;
	struct discount *ds;
	int n;
	const char *ids;
	char id[ID_MAX];
};

struct preview_ctx {
	struct req *r;
	const struct preview_names *names;
	const char *customer, *subscription, *currency;
	const char *schedule; /* `schedule`: its subscription's, found in the read */
	bool recurring;
	struct sub_change *change; /* NULL: none asked */
	/* a subscription still to be made (items without `subscription`): as the create takes
	 * it (NULL: none) */
	struct sub_new_preview_req *new_sub;
	int cancel_at_period_end; /* -1: not asked */
	bool cancel_now;
	/* subscription_cancel_at: given (0: unset), prorated unless proration_behavior=none */
	bool cancel_at_set, cancel_at_prorate;
	int64_t cancel_at;
	/* subscription_default_tax_rates: the subscription's defaults as the preview takes them
	 * (present: they replace its own) */
	struct tax_rate_spec default_tax;
	struct discount_spec spec;
	struct invoice_preview p;
	bool lines_only; /* GET …/upcoming/lines */
	/* automatic_tax[enabled] asked, and customer_details[address] (JSON, or NULL) */
	bool automatic_tax;
	const char *tax_address;
	/* invoice_items[]: items the preview adds, as if they were pending (none stored), and
	 * their own discounts (extra_own, n_extra entries) */
	int n_extra;
	struct invoice_item *extra;
	struct extra_own *extra_own;
};

/* invoice_items[i] of a preview (before its read): what it bills, as an invoice item's create
 * takes it (amount; unit_amount or a price, times quantity), its price's amount and the
 * preview's currency checked in the read (extra_items_price). 0, or -1 with r->err. */
/* customer_details[address], else customer_details[shipping][address]: where Stripe Tax places
 * the preview's customer (a customer without an address is placed where it ships to). 0, or -1
 * with r->err. */
static int tax_place_parse(struct req *r, struct preview_ctx *x)
{
	if (param_present(r, "customer_details.address") &&
	    address_from_params(r, "customer_details.address", &x->tax_address) != 0)
		return -1;
	if (!x->tax_address && param_present(r, "customer_details.shipping.address") &&
	    address_from_params(r, "customer_details.shipping.address", &x->tax_address) != 0)
		return -1;
	return 0;
}

static int extra_items_parse(struct req *r, struct preview_ctx *x)
{
	const struct form_node *n = param_node(r, "invoice_items");
	if (!n)
		return 0;
	size_t cap = n->child_count ? n->child_count : 1;
	x->extra = arena_alloc(&r->arena, cap * sizeof(*x->extra));
	x->extra_own = arena_alloc(&r->arena, cap * sizeof(*x->extra_own));
	if (!x->extra || !x->extra_own)
		return req_fail(r, ERR_API, NULL, NULL);
	memset(x->extra_own, 0, cap * sizeof(*x->extra_own));
	int i = 0;
	for (const struct form_node *it = n->first_child; it; it = it->next, i++) {
		struct invoice_item *ii = &x->extra[i];
		memset(ii, 0, sizeof(*ii));
		char path[96], shown[96];
#define P(f) (snprintf(path, sizeof(path), "invoice_items.%s.%s", it->key, f), path)
		snprintf(shown, sizeof(shown), "invoice_items[%d][amount]", i);
		bool has_amount = param_present(r, P("amount"));
		bool has_unit = param_present(r, P("unit_amount"));
		const char *price = param_str(r, P("price"));
		bool has_price = price && *price;
		int given = has_amount + has_unit + has_price;
		if (given != 1)
			return req_fail(r, given ? ERR_PARAM_BAD : ERR_PARAM_MISSING, shown, "%s",
					given ? "Pass exactly one of amount, unit_amount and price."
					      : shown);
		ii->quantity = 1;
		if (param_int(r, P("quantity"), &ii->quantity) == 1) {
			if (has_amount)
				return req_fail(r, ERR_PARAM_BAD, shown,
						"quantity goes with unit_amount or price, not with "
						"amount.");
			if (ii->quantity < 1 || ii->quantity > BILLING_QUANTITY_MAX)
				return req_fail(r, ERR_PARAM_BAD, shown,
						"Invalid quantity: must be between 1 and %d.",
						BILLING_QUANTITY_MAX);
		}
		if (has_amount)
			param_int(r, P("amount"), &ii->unit_amount);
		if (has_unit) {
			param_int(r, P("unit_amount"), &ii->unit_amount);
			if (ii->unit_amount < 0)
				return req_fail(r, ERR_PARAM_BAD, shown,
						"unit_amount must not be negative.");
		}
		ii->price = has_price ? price : NULL;
		const char *cur = param_str(r, P("currency"));
		if (cur && *cur) {
			str_copy(ii->currency, sizeof(ii->currency), cur);
			for (char *c = ii->currency; *c; c++)
				if (*c >= 'A' && *c <= 'Z')
					*c = (char)(*c - 'A' + 'a');
		} else if (!has_price) {
			snprintf(shown, sizeof(shown), "invoice_items[%d][currency]", i);
			return req_fail(r, ERR_PARAM_MISSING, shown, "%s", shown);
		}
		const char *desc = param_str(r, P("description"));
		ii->description = desc && *desc ? desc : NULL;
		ii->discountable = true;
		param_bool(r, P("discountable"), &ii->discountable);
		ii->metadata = "{}";
		if (metadata_apply(r, NULL, P("metadata"), &ii->metadata) != 0)
			return -1;
		param_int(r, P("period.start"), &ii->period_start);
		param_int(r, P("period.end"), &ii->period_end);
		if (ii->period_start > ii->period_end) {
			snprintf(shown, sizeof(shown), "invoice_items[%d][period][end]", i);
			return req_fail(r, ERR_PARAM_BAD, shown,
					"The period's end must not be before its start.");
		}
		const char *tb = param_str(r, P("tax_behavior"));
		ii->tax_behavior = tb && *tb ? tb : NULL;
		const char *tc = param_str(r, P("tax_code"));
		if (tc && *tc && !tax_code_find(tc)) {
			snprintf(shown, sizeof(shown), "invoice_items[%d][tax_code]", i);
			return req_fail_missing(r, "tax_code", tc, shown);
		}
		ii->tax_code = tc && *tc ? tc : NULL;
		/* its own discounts, first on its line (resolved by extra_items_add) */
		snprintf(path, sizeof(path), "invoice_items.%s.discounts", it->key);
		if (discount_spec_parse_at(r, path, &x->extra_own[i].spec) != 0)
			return -1;
		if (x->extra_own[i].spec) {
			/* named by position, as the request's other invoice_items[i] errors */
			struct discount_spec *sp = arena_alloc(&r->arena, sizeof(*sp));
			if (!sp)
				return req_fail(r, ERR_API, NULL, NULL);
			*sp = *x->extra_own[i].spec;
			for (int k = 0; k < sp->n; k++)
				sp->e[k].shown = arena_printf(
				    &r->arena, "invoice_items[%d][discounts][%d][%s]", i, k,
				    sp->e[k].coupon	      ? "coupon"
				    : sp->e[k].promotion_code ? "promotion_code"
							      : "discount");
			x->extra_own[i].spec = sp;
		}
#undef P
	}
	x->n_extra = i;
	return 0;
}

/* Inside the preview's read: invoice_items[i]'s own discounts (extra_own) for its item ii
 * (amount, id and currency set), as the invoice item's create checks them (discounts_resolve:
 * each coupon or promotion code for the customer, the item's currency and amount); new ids for
 * the answer alone. 0, or -1 with r->err. */
static int extra_own_resolve(struct req *r, struct db *db, struct preview_ctx *x, int i,
			     const struct invoice_item *ii)
{
	struct extra_own *o = &x->extra_own[i];
	str_copy(o->id, sizeof(o->id), ii->id);
	o->n = 0;
	o->ids = NULL;
	if (!o->spec || !o->spec->n)
		return 0;
	o->ds = arena_alloc(&r->arena, DISCOUNTS_MAX * sizeof(*o->ds));
	if (!o->ds)
		return req_fail(r, ERR_API, NULL, NULL);
	if (discounts_resolve(r, db, o->spec, x->p.in.customer, x->p.in.currency, ii->amount, NULL,
			      x->p.t, o->ds, &o->n) != 0)
		return -1;
	struct buf b;
	struct json j;
	buf_init(&b, 4096);
	json_init(&j, &b);
	json_arr_open(&j);
	for (int k = 0; k < o->n; k++) {
		id_new(o->ds[k].id, "di_");
		o->ds[k].invoice_item = o->id;
		json_str(&j, o->ds[k].id);
	}
	json_arr_close(&j);
	o->ids = b.failed ? NULL : arena_strndup(&r->arena, b.data, b.len);
	buf_release(&b);
	return o->ids ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* The preview's own discounts of the item whose line is `line_id` (il_…; NULL: none). */
static const struct extra_own *extra_own_of(const struct preview_ctx *x, const char *line_id)
{
	for (int i = 0; x && i < x->n_extra; i++)
		if (x->extra_own[i].n && strcmp(x->extra_own[i].id + 3, line_id + 3) == 0)
			return &x->extra_own[i];
	return NULL;
}

/* Inside the preview's read, its currency and time known: each invoice_items[i] in it (a
 * price's amount in that currency), added to the preview's lines as if pending. 0, or -1 with
 * r->err. */
static int extra_items_add(struct req *r, struct db *db, struct preview_ctx *x)
{
	if (!x->n_extra)
		return 0;
	struct invoice_preview *p = &x->p;
	struct invoice *in = &p->in;
	struct invoice_item *all =
	    arena_alloc(&r->arena, (size_t)(p->n_pr + x->n_extra) * sizeof(*all));
	if (!all)
		return req_fail(r, ERR_API, NULL, NULL);
	if (p->n_pr)
		memcpy(all, p->pr, (size_t)p->n_pr * sizeof(*all));
	for (int i = 0; i < x->n_extra; i++) {
		struct invoice_item *ii = &all[p->n_pr + i];
		*ii = x->extra[i];
		char shown[64];
		snprintf(shown, sizeof(shown), "invoice_items[%d][currency]", i);
		if (ii->currency[0] && strcmp(ii->currency, in->currency) != 0)
			return req_fail(r, ERR_PARAM_BAD, shown,
					"The invoice item's currency (%s) must be the invoice's "
					"(%s).",
					ii->currency, in->currency);
		str_copy(ii->currency, sizeof(ii->currency), in->currency);
		int64_t q = ii->quantity;
		if (ii->price) {
			struct price_facts pf;
			snprintf(shown, sizeof(shown), "invoice_items[%d][price]", i);
			int rc = price_facts_in(r, db, ii->price, in->currency, &pf);
			if (rc == DB_NOTFOUND)
				return req_fail_missing(r, "price", ii->price, shown);
			if (rc != DB_OK)
				return req_fail(r, ERR_API, NULL, NULL);
			if (pf.recurring || pf.tiers || !pf.has_unit_amount ||
			    !str_eq(pf.currency, in->currency))
				return req_fail(r, ERR_PARAM_BAD, shown,
						"The price %s must be a one-time per-unit price in "
						"%s (its own currency or one of its "
						"currency_options), of a whole unit amount.",
						ii->price, in->currency);
			ii->unit_amount = pf.unit_amount;
			if (qty_transform_apply(&pf.transform, ii->quantity, &q) != 0)
				return req_fail(r, ERR_PARAM_BAD, shown, "Invalid quantity.");
		}
		if (__builtin_mul_overflow(ii->unit_amount, q, &ii->amount) ||
		    ii->amount > BILLING_AMOUNT_MAX || ii->amount < -BILLING_AMOUNT_MAX) {
			snprintf(shown, sizeof(shown), "invoice_items[%d][amount]", i);
			return req_fail(r, ERR_AMOUNT_TOO_LARGE, shown,
					"An invoice item's amount must be at most %lld either way.",
					(long long)BILLING_AMOUNT_MAX);
		}
		id_new(ii->id, "ii_");
		if (extra_own_resolve(r, db, x, i, ii) != 0)
			return -1;
		ii->created = p->t;
		if (!ii->period_start && !ii->period_end)
			ii->period_start = ii->period_end = p->t;
		ii->customer = in->customer;
		ii->test_clock = in->test_clock;
	}
	p->pr = all;
	p->n_pr += x->n_extra;
	return 0;
}

/* p's lines rendered whole into p->in.preview_lines, with what res computed of them (their
 * discounts and taxes). 0, or -1 with r->err. */
static int render_lines(struct req *r, struct db *db, const struct preview_ctx *x,
			struct invoice_preview *p, struct inv_line *lines, int n,
			const struct invoice_discounts_result *pres)
{
	struct invoice *in = &p->in;
	const struct invoice_discounts_result res = *pres;
	struct buf b;
	struct json j;
	bool discounted = strcmp(res.total_discount_amounts, "[]") != 0;
	buf_init(&b, 8u << 20);
	json_init(&j, &b);
	json_arr_open(&j);
	int n_items = n - p->n_period, rc = 0;
	/* its invoice items by id (the order planned), as a real invoice shows them */
	for (int i = 0; rc == 0 && i < n_items; i++) {
		struct invoice_item ii = {0};
		const struct invoice_item *found = NULL;
		for (int k = 0; k < p->n_pr && !found; k++)
			if (strcmp(p->pr[k].id + 3, lines[i].id + 3) == 0)
				found = &p->pr[k];
		if (found) {
			ii = *found;
		} else {
			char id[ID_MAX];
			snprintf(id, sizeof(id), "ii_%s", lines[i].id + 3);
			rc = invoice_item_load(r, db, id, &ii) == DB_OK ? 0 : -1;
		}
		if (rc != 0)
			break;
		ii.invoice = in->id;
		const struct extra_own *own = found ? extra_own_of(x, lines[i].id) : NULL;
		rc = invoice_item_line_render_own(r, db, &ii, discounted, res.line_amounts[i],
						  res.line_taxes[i], res.n_line_taxes[i],
						  own ? own->ids : NULL, &j);
	}
	/* then its period's */
	const char *items[SUB_ITEMS_MAX];
	size_t lens[SUB_ITEMS_MAX];
	int n_sub = invoice_lines_split(in->lines, items, lens, SUB_ITEMS_MAX);
	for (int k = 0; rc == 0 && k < n_sub && n_items + k < n; k++)
		rc = invoice_line_render_spliced(
		    r, db, items[k], lens[k], res.line_amounts[n_items + k],
		    res.line_taxes[n_items + k], res.n_line_taxes[n_items + k], &j);
	json_arr_close(&j);
	in->preview_lines = rc == 0 && !b.failed ? arena_strndup(&r->arena, b.data, b.len) : NULL;
	buf_release(&b);
	if (!in->preview_lines)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

/* The lines of p with what discounts ds take, rendered whole into p->in (preview_lines,
 * subtotal, total, discounts). 0, or -1 with r->err. */
static int preview_lines(struct req *r, struct db *db, const struct preview_ctx *x,
			 struct invoice_preview *p, const struct tax_rate_spec *default_tax,
			 struct discount *ds, int n_ds)
{
	struct invoice *in = &p->in;
	/* its discounts' ids: new ones (a preview's `discounts`) get one for the answer alone */
	struct buf b;
	struct json j;
	buf_init(&b, 64 * 1024);
	json_init(&j, &b);
	json_arr_open(&j);
	for (int k = 0; k < n_ds; k++) {
		if (!ds[k].id[0])
			id_new(ds[k].id, "di_");
		json_str(&j, ds[k].id);
	}
	json_arr_close(&j);
	in->discounts = b.failed ? NULL : arena_strndup(&r->arena, b.data, b.len);
	buf_release(&b);
	if (!in->discounts)
		return req_fail(r, ERR_API, NULL, NULL);
	struct inv_line *lines;
	int n;
	struct invoice_discounts_result res;
	/* a subscription's invoice takes its default_tax_rates (tax_rates.c), or those the preview
	 * gives it (default_tax present) */
	if (invoice_lines_plan(r, db, &p->pending, p->pr, p->n_pr, p->period, p->n_period, &lines,
			       &n) != 0)
		return -1;
	/* invoice_items[i][discounts]: first on their items' lines, as an item's own */
	for (int i = 0; i < n; i++) {
		const struct extra_own *own = extra_own_of(x, lines[i].id);
		if (own) {
			lines[i].own = own->ds;
			lines[i].n_own = own->n;
		}
	}
	if (invoice_lines_tax_defaults(r, db, in->subscription,
				       default_tax && default_tax->present ? default_tax : NULL,
				       lines, n) != 0 ||
	    (in->automatic_tax &&
	     invoice_lines_auto_tax_at(r, db, in->customer, in->auto_tax_address, r->now, lines, n,
				       NULL) != 0) ||
	    invoice_discounts_compute(r, in->currency, lines, n, ds, n_ds, &res) != 0)
		return -1;
	if (render_lines(r, db, x, p, lines, n, &res) != 0)
		return -1;
	/* its customer's billing credits, as its finalization would take them (pretax: its
	 * lines' taxes then on what is left; nothing written), then the lines again with them */
	int64_t *credits = arena_alloc(&r->arena, (size_t)(n ? n : 1) * sizeof(int64_t));
	bool any;
	if (!credits)
		return req_fail(r, ERR_API, NULL, NULL);
	if (invoice_credits_preview(r, db, in, p->t, res.total - res.taxes->exclusive, n, credits,
				    &any) != 0)
		return -1;
	if (any) {
		if (invoice_discounts_compute_credited(r, in->currency, lines, n, ds, n_ds, credits,
						       &res) != 0 ||
		    render_lines(r, db, x, p, lines, n, &res) != 0 ||
		    invoice_credits_preview_patch(r, in) != 0)
			return -1;
	}
	in->total_discount_amounts = res.total_discount_amounts;
	in->preview_taxes = res.taxes;
	in->subtotal = res.subtotal;
	in->total = res.total;
	in->status = "draft";
	in->number = NULL;
	in->finalized_at = 0;
	in->metadata = in->metadata ? in->metadata : "{}";
	return 0;
}

static int upcoming_none(struct req *r, const char *customer)
{
	return req_fail(r, ERR_INVOICE_UPCOMING_NONE, NULL, "No upcoming invoices for customer: %s",
			customer ? customer : "");
}

/* A subscription's preview: its invoice to come and the discounts it takes. */
static int sub_preview(struct preview_ctx *x, struct db *db, struct discount *ds, int *n_ds)
{
	struct req *r = x->r;
	struct sub_preview_req q = {
	    .subscription = x->subscription,
	    .change = x->change,
	    .cancel_at_period_end = x->cancel_at_period_end,
	    .cancel_now = x->cancel_now,
	    .cancel_at_set = x->cancel_at_set,
	    .cancel_at_prorate = x->cancel_at_prorate,
	    .cancel_at = x->cancel_at,
	    .cancel_at_shown = x->names->cancel_at_shown,
	    .recurring = x->recurring,
	    .schedule = x->schedule,
	};
	char id[ID_MAX];
	str_copy(id, sizeof(id), x->p.in.id);
	q.invoice_id = id;
	int rc = subscription_preview(r, db, &q, &x->p);
	if (rc < 0)
		return -1;
	if (rc == 1)
		return upcoming_none(r, x->customer ? x->customer : x->p.in.customer);
	struct invoice *in = &x->p.in;
	if (x->customer && !str_eq(x->customer, in->customer))
		return req_fail(r, ERR_PARAM_BAD, "subscription",
				"The subscription %s is not one of customer %s's.", x->subscription,
				x->customer);
	if (x->currency && !str_eq(x->currency, in->currency))
		return req_fail(r, ERR_PARAM_BAD, "currency",
				"The subscription %s bills in %s, not %s.", x->subscription,
				in->currency, x->currency);
	/* a renewal waits an hour as a draft; a change's invoice is attempted at once */
	in->auto_advance = true;
	in->next_payment_attempt =
	    str_eq(in->billing_reason, "subscription_cycle") ? x->p.t + INVOICE_DRAFT_WINDOW_S : 0;
	if (x->spec.present) {
		int64_t period_total = 0;
		for (int i = 0; i < x->p.n_period; i++)
			period_total += x->p.period[i].amount; /* each bounded: 20 lines */
		return discounts_resolve(r, db, &x->spec, in->customer, in->currency, period_total,
					 x->subscription, x->p.t, ds, n_ds);
	}
	return subscription_discounts(r, db, x->subscription, x->p.t, ds, n_ds) == DB_OK
		   ? 0
		   : req_fail(r, ERR_API, NULL, NULL);
}

/* A new subscription's preview: the first invoice its create would make (subscription_new_preview),
 * with the discounts it takes. */
static int new_sub_preview(struct preview_ctx *x, struct db *db, struct discount *ds, int *n_ds)
{
	/* its id outlives the preview's header, which the build makes anew */
	char *id = arena_strdup(&x->r->arena, x->p.in.id);
	if (!id)
		return req_fail(x->r, ERR_API, NULL, NULL);
	x->new_sub->invoice_id = id;
	x->new_sub->tax_address = x->tax_address;
	x->new_sub->automatic_tax = x->automatic_tax;
	if (subscription_new_preview(x->r, db, x->new_sub, &x->p, ds, n_ds) != 0)
		return -1;
	/* made finalized and attempted at once, as the create makes it */
	x->p.in.auto_advance = true;
	x->p.in.next_payment_attempt = 0;
	return 0;
}

/* A customer's preview: its pending items of no subscription, as a one-off invoice takes them. */
static int customer_preview(struct preview_ctx *x, struct db *db, struct discount *ds, int *n_ds)
{
	struct req *r = x->r;
	struct invoice *in = &x->p.in;
	in->customer = x->customer;
	int64_t now;
	if (invoice_oneoff_head(r, db, x->currency, in, &now) != 0)
		return -1;
	x->p.t = now;
	in->metadata = "{}";
	if (!x->recurring &&
	    invoice_items_pending(r, db, x->customer, in->currency, NULL, &x->p.pending) != 0)
		return -1;
	if (x->p.pending.n == 0 && x->n_extra == 0)
		return upcoming_none(r, x->customer);
	if (x->spec.present)
		return discounts_resolve(r, db, &x->spec, x->customer, in->currency,
					 x->p.pending.sum, NULL, now, ds, n_ds);
	int rc = customer_discount_get(r, db, x->customer, now, &ds[0]);
	if (rc != DB_OK && rc != DB_NOTFOUND)
		return req_fail(r, ERR_API, NULL, NULL);
	*n_ds = rc == DB_OK;
	return 0;
}

/* GET …/upcoming/lines: a page of the preview's lines (limit, starting_after, ending_before
 * by line id). */
static int lines_page(struct req *r, const char *lines)
{
	int64_t limit = LINES_LIMIT_DEFAULT;
	if (param_int(r, "limit", &limit) == 1 && (limit < 1 || limit > LINES_LIMIT_MAX))
		return req_fail(r, ERR_LIST_LIMIT, "limit", "%lld", (long long)limit);
	const char *after = param_str(r, "starting_after");
	const char *before = param_str(r, "ending_before");
	json_error_t e;
	json_t *arr = json_loads(lines, 0, &e);
	if (!json_is_array(arr)) {
		json_decref(arr);
		return req_fail(r, ERR_API, NULL, NULL);
	}
	size_t n = json_array_size(arr), from = 0, to = n;
	for (size_t i = 0; i < n; i++) {
		const char *id = json_string_value(json_object_get(json_array_get(arr, i), "id"));
		if (after && *after && id && strcmp(id, after) == 0)
			from = i + 1;
		if (before && *before && id && strcmp(id, before) == 0)
			to = i;
	}
	/* ending_before pages backwards: the last `limit` before it */
	if (before && *before && to > from && to - from > (size_t)limit)
		from = to - (size_t)limit;
	size_t end = from + (size_t)limit < to ? from + (size_t)limit : to;
	struct json *j = req_json(r);
	json_obj_open(j);
	json_kv_str(j, "object", "list");
	json_key(j, "data");
	json_arr_open(j);
	int rc = 0;
	for (size_t i = from; i < end && rc == 0; i++) {
		char *s = json_dumps(json_array_get(arr, i), JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (s)
			json_raw(j, s, strlen(s));
		else
			rc = -1;
		free(s);
	}
	json_arr_close(j);
	json_kv_bool(j, "has_more", before && *before ? from > 0 : end < to);
	json_kv_str(j, "url", "/v1/invoices/upcoming/lines");
	json_obj_close(j);
	json_decref(arr);
	return rc == 0 ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static int preview_fn(struct db *db, void *ctx)
{
	struct preview_ctx *x = ctx;
	struct req *r = x->r;
	struct discount *ds = arena_alloc(&r->arena, DISCOUNTS_MAX * sizeof(*ds));
	if (!ds)
		return req_fail(r, ERR_API, NULL, NULL);
	int n_ds = 0;
	memset(&x->p, 0, sizeof(x->p));
	id_new(x->p.in.id, "upcoming_in_");
	if (x->customer) {
		struct billing_customer bc;
		if (billing_customer_get(r, db, x->customer, &bc) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (!bc.found)
			return req_fail_missing(r, "customer", x->customer, "customer");
	}
	if (x->schedule) {
		/* an active schedule's subscription, with the phase in force at its renewal */
		const char *sub = NULL;
		int src = subscription_schedule_preview_sub(r, db, x->schedule, &sub);
		if (src == DB_NOTFOUND)
			return req_fail_missing(r, "subscription_schedule", x->schedule,
						"schedule");
		if (src == 1)
			return req_fail(r, ERR_PARAM_BAD, "schedule",
					"The subscription schedule %s has not started: Tender "
					"previews the next invoice of a started schedule's "
					"subscription.",
					x->schedule);
		if (src == 2)
			return upcoming_none(r, x->customer);
		if (src != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		x->subscription = sub;
	}
	int rc = x->subscription ? sub_preview(x, db, ds, &n_ds)
		 : x->new_sub	 ? new_sub_preview(x, db, ds, &n_ds)
				 : customer_preview(x, db, ds, &n_ds);
	if (rc != 0 || extra_items_add(r, db, x) != 0)
		return -1;
	if (x->default_tax.present && x->default_tax.n > 0 && x->p.in.automatic_tax)
		return req_fail(r, ERR_PARAM_BAD, x->names->default_tax_shown,
				"You cannot use default_tax_rates together with automatic tax.");
	if (x->automatic_tax || x->p.in.automatic_tax) {
		/* Stripe Tax: where the customer is (customer_details[address], else its own) */
		struct invoice *in = &x->p.in;
		in->automatic_tax = true;
		in->auto_tax_address = x->tax_address;
		struct tax_context actx;
		bool located = false;
		if (invoice_auto_tax_place_at(r, db, in->customer, x->tax_address, r->now, &actx,
					      &located, NULL) != 0)
			return -1;
		if (x->automatic_tax && !located)
			return req_fail(r, ERR_TAX_LOCATION_INVALID, "customer_details[address]",
					"The customer's location isn't recognized: give "
					"customer_details[address] or an address on customer %s.",
					in->customer);
	}
	if (preview_lines(r, db, x, &x->p, &x->default_tax, ds, n_ds) != 0)
		return -1;
	if (x->lines_only)
		return lines_page(r, x->p.in.preview_lines);
	/* an event's rendering: nothing to expand (its discounts may not exist) */
	return invoice_render(r, db, &x->p.in, NULL, req_json(r)) == 0
		   ? 0
		   : req_fail(r, ERR_API, NULL, NULL);
}

/* "a[b][c]" of dotted "a.b.c", in r's arena (NULL: out of memory) */
static const char *shown_of(struct req *r, const char *dotted)
{
	const char *dot = strchr(dotted, '.');
	if (!dot)
		return dotted;
	struct buf b;
	buf_init(&b, 256);
	buf_append(&b, dotted, (size_t)(dot - dotted));
	for (const char *p = dot; p && *p;) {
		const char *next = strchr(p + 1, '.');
		size_t len = next ? (size_t)(next - p - 1) : strlen(p + 1);
		buf_append(&b, "[", 1);
		buf_append(&b, p + 1, len);
		buf_append(&b, "]", 1);
		p = next;
	}
	const char *ret = b.failed ? NULL : arena_strndup(&r->arena, b.data, b.len);
	buf_release(&b);
	return ret;
}

/* A new subscription's parameters (before its read): its items as the create takes them
 * (nothing of an existing one's: no id, deleted or clear_usage), start_date, trial_end (and
 * trial_from_plan), a billing_cycle_anchor timestamp and proration_behavior; its
 * default_tax_rates and discounts are the preview's own (parsed after). 0, or -1 with r->err. */
static int new_sub_parse(struct req *r, struct preview_ctx *x)
{
	const struct preview_names *nm = x->names;
	const struct form_node *n = param_node(r, nm->items);
	int i = 0;
	for (const struct form_node *it = n ? n->first_child : NULL; it; it = it->next, i++) {
		static const char *const existing[] = {"id", "deleted", "clear_usage"};
		for (size_t k = 0; k < sizeof(existing) / sizeof(existing[0]); k++) {
			char path[128];
			snprintf(path, sizeof(path), "%s.%s.%s", nm->items, it->key, existing[k]);
			if (!param_present(r, path))
				continue;
			const char *shown =
			    arena_printf(&r->arena, "%s[%d][%s]", nm->items_shown, i, existing[k]);
			return req_fail(
			    r, ERR_PARAM_BAD, shown ? shown : nm->items_shown,
			    "%s is about an item of an existing subscription: name the "
			    "subscription in `subscription`, or leave it out to preview "
			    "a new one.",
			    shown ? shown : nm->items_shown);
		}
	}
	/* what only an existing subscription has */
	const char *only_existing[] = {nm->proration_date, nm->resume_at};
	for (size_t k = 0; k < sizeof(only_existing) / sizeof(only_existing[0]); k++)
		if (param_present(r, only_existing[k])) {
			const char *shown = shown_of(r, only_existing[k]);
			return req_fail(r, ERR_PARAM_BAD, shown ? shown : only_existing[k],
					"%s applies to an existing subscription: name it in "
					"`subscription`.",
					shown ? shown : only_existing[k]);
		}
	struct sub_new_preview_req *q = arena_alloc(&r->arena, sizeof(*q));
	if (!q)
		return req_fail(r, ERR_API, NULL, NULL);
	memset(q, 0, sizeof(*q));
	q->customer = x->customer;
	q->currency = x->currency;
	q->items = nm->items;
	q->items_shown = nm->items_shown;
	param_int(r, nm->start_date, &q->start_date);
	q->start_shown = nm->start_date_shown;
	const char *te = param_str(r, nm->trial.trial_end);
	q->trial_end = te && *te ? te : NULL;
	q->trial_end_shown = nm->trial.trial_end_shown;
	param_bool(r, nm->trial.from_plan, &q->trial_from_plan);
	if (q->trial_from_plan && q->trial_end)
		return req_fail(r, ERR_PARAM_BAD, nm->trial.from_plan_shown,
				"%s cannot be combined with %s.", nm->trial.from_plan_shown,
				nm->trial.trial_end_shown);
	/* a new subscription's anchor is a time (now and unchanged are an existing one's) */
	const char *anchor = param_str(r, nm->trial.anchor);
	q->anchor_shown = nm->trial.anchor_shown;
	if (anchor && *anchor && parse_i64(anchor, &q->anchor) != 0)
		return req_fail(r, ERR_PARAM_BAD, nm->trial.anchor_shown,
				"For new subscriptions, %s must be a future timestamp.",
				nm->trial.anchor_shown);
	q->prorate_none = str_eq(param_str(r, nm->proration_behavior), "none");
	q->default_tax = &x->default_tax;
	q->spec = &x->spec;
	x->new_sub = q;
	return 0;
}

/* schedule_details[phases] (create_preview) of a new schedule for `customer`: its first
 * phase as the subscription the schedule makes (subscription_new_preview's schedule), read
 * and previewed. A change of an existing schedule, subscription_details and discounts beside
 * it (a phase's discounts are its own) are refused. 0, or -1 with r->err. */
static int new_schedule_parse(struct req *r, struct preview_ctx *x)
{
	if (x->schedule || x->subscription)
		return req_fail(r, ERR_PARAM_BAD, "schedule_details",
				"Tender previews schedule_details of a new schedule: it cannot be "
				"used with `%s`.",
				x->schedule ? "schedule" : "subscription");
	if (!x->customer)
		return req_fail(r, ERR_PARAM_MISSING, "customer", "customer");
	if (param_present(r, "subscription_details"))
		return req_fail(r, ERR_PARAM_BAD, "schedule_details",
				"schedule_details cannot be used with subscription_details.");
	if (param_present(r, "discounts"))
		return req_fail(r, ERR_PARAM_BAD, "discounts",
				"A new schedule's discounts are its phases' "
				"(schedule_details[phases][n][discounts]).");
	if (!param_present(r, "schedule_details.phases"))
		return req_fail(r, ERR_PARAM_MISSING, "schedule_details[phases]",
				"schedule_details[phases]");
	/* checked as a create's; the first invoice bills the same in either mode (no prorations) */
	bool flexible;
	const char *pd; /* either proration_discounts: a first invoice has no prorations */
	if (subscription_billing_mode_param_pd(r, "schedule_details.billing_mode",
					       "schedule_details[billing_mode]", &flexible,
					       &pd) != 0)
		return -1;
	struct sub_new_preview_req *q = arena_alloc(&r->arena, sizeof(*q));
	if (!q)
		return req_fail(r, ERR_API, NULL, NULL);
	memset(q, 0, sizeof(*q));
	q->customer = x->customer;
	q->schedule = true;
	x->new_sub = q;
	param_bool(r, "automatic_tax.enabled", &x->automatic_tax);
	if (tax_place_parse(r, x) != 0 || extra_items_parse(r, x) != 0)
		return -1;
	return req_read(r, preview_fn, x);
}

static int preview(struct req *r, const struct preview_names *names, bool lines_only)
{
	struct preview_ctx *x = arena_alloc(&r->arena, sizeof(*x));
	if (!x)
		return req_fail(r, ERR_API, NULL, NULL);
	memset(x, 0, sizeof(*x));
	x->r = r;
	x->names = names;
	x->lines_only = lines_only;
	const char *v = param_str(r, "customer");
	x->customer = v && *v ? v : NULL;
	v = param_str(r, "subscription");
	x->subscription = v && *v ? v : NULL;
	v = param_str(r, "currency");
	if (v && *v) {
		char *cur = arena_strdup(&r->arena, v);
		if (!cur)
			return req_fail(r, ERR_API, NULL, NULL);
		for (char *c = cur; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		x->currency = cur;
	}
	x->recurring = str_eq(param_str(r, "preview_mode"), "recurring");
	v = param_str(r, "schedule");
	x->schedule = v && *v ? v : NULL;
	/* Stripe: schedule "cannot be used with subscription or subscription fields" */
	if (x->schedule &&
	    (x->subscription || param_present(r, names->items) ||
	     param_present(r, names->proration_behavior) ||
	     param_present(r, names->proration_date) ||
	     param_present(r, names->cancel_at_period_end) || param_present(r, names->cancel_now) ||
	     param_present(r, names->trial.trial_end) || param_present(r, names->trial.from_plan) ||
	     param_present(r, names->trial.anchor) || param_present(r, names->default_tax) ||
	     param_present(r, names->resume_at) || param_present(r, names->cancel_at) ||
	     param_present(r, names->start_date)))
		return req_fail(
		    r, ERR_PARAM_BAD, "schedule",
		    "schedule cannot be used with subscription or subscription fields.");
	if (!x->customer && !x->subscription && !x->schedule)
		return req_fail(r, ERR_PARAM_MISSING, "customer", "customer");
	/* schedule_details: a new schedule's first invoice (its first phase's subscription) */
	if (param_present(r, "schedule_details"))
		return new_schedule_parse(r, x);
	/* items without a subscription: the first invoice of a new one with them */
	bool new_sub = !x->subscription && !x->schedule && param_present(r, names->items);
	if (new_sub && new_sub_parse(r, x) != 0)
		return -1;
	/* billing_mode of a subscription still to be made (create_preview's name): checked as the
	 * create checks it; its first invoice bills the same in either mode (the modes differ in
	 * prorations, which a first invoice has none of). An existing one's is migrated, not
	 * previewed. */
	bool flexible;
	const char *pd;
	if (param_present(r, "subscription_details.billing_mode") &&
	    (!new_sub || subscription_billing_mode_param_pd(r, "subscription_details.billing_mode",
							    "subscription_details[billing_mode]",
							    &flexible, &pd) != 0))
		return r->err.set ? -1
				  : req_fail(r, ERR_PARAM_BAD, "subscription_details[billing_mode]",
					     "billing_mode applies to a subscription still to be "
					     "created; an existing one's changes by POST "
					     "/v1/subscriptions/{id}/migrate.");
	if (!new_sub && param_present(r, names->start_date))
		return req_fail(r, ERR_PARAM_BAD, names->start_date_shown,
				x->subscription
				    ? "%s applies to a subscription still to be created: "
				      "it cannot be used with `subscription`."
				    : "%s needs the new subscription's items in %s.",
				names->start_date_shown, names->items_shown);
	/* trial_end, trial_from_plan and billing_cycle_anchor are read by the change as the
	 * update reads its own (trial_params); resume_at as POST …/resume is */
	bool trial = param_present(r, names->trial.trial_end) ||
		     param_present(r, names->trial.from_plan) ||
		     param_present(r, names->trial.anchor);
	bool resume = param_present(r, names->resume_at);
	/* proration_behavior beside cancel_at is the cancellation's (its credit or none) */
	bool changes =
	    param_present(r, names->items) ||
	    (!param_present(r, names->cancel_at) && (param_present(r, names->proration_behavior) ||
						     param_present(r, names->proration_date))) ||
	    trial || resume;
	if (!new_sub && (changes || param_present(r, names->default_tax)) && !x->subscription)
		return req_fail(r, ERR_PARAM_BAD, "subscription",
				"Previewing changes needs `subscription`, or the items of a new "
				"subscription in %s.",
				names->items_shown);
	/* an existing subscription's anchor is now or unchanged (a timestamp anchors a new
	 * one's) */
	const char *anchor = param_str(r, names->trial.anchor);
	if (!new_sub && anchor && !str_eq(anchor, "now") && !str_eq(anchor, "unchanged"))
		return req_fail(r, ERR_PARAM_BAD, names->trial.anchor_shown,
				"For existing subscriptions, %s can only be set to `now` or "
				"`unchanged`.",
				names->trial.anchor_shown);
	if (resume && (param_present(r, names->items) || param_present(r, names->trial.trial_end) ||
		       param_present(r, names->trial.from_plan)))
		return req_fail(r, ERR_PARAM_BAD, names->resume_at_shown,
				"%s previews a resume of the subscription as it is: it cannot be "
				"combined with changes of its items or trial.",
				names->resume_at_shown);
	if (changes && !new_sub) {
		struct sub_change *c = arena_alloc(&r->arena, sizeof(*c));
		if (!c)
			return req_fail(r, ERR_API, NULL, NULL);
		memset(c, 0, sizeof(*c));
		c->subscription = x->subscription;
		c->proration_behavior = param_str(r, names->proration_behavior);
		param_int(r, names->proration_date, &c->proration_date);
		if (resume) {
			/* resume_at=now: the invoice POST …/resume makes, its anchor now (a new
			 * period invoiced in full) unless billing_cycle_anchor=unchanged */
			c->resume = true;
			c->resume_unchanged = str_eq(anchor, "unchanged");
		} else {
			c->trial_names = &names->trial;
			if (subscription_changes_parse(r, names->items, names->items_shown, c) != 0)
				return -1;
		}
		x->change = c;
	}
	if (param_present(r, names->default_tax) &&
	    tax_rate_spec_parse(r, names->default_tax, names->default_tax_shown, &x->default_tax) !=
		0)
		return -1;
	bool cape = false;
	x->cancel_at_period_end =
	    param_bool(r, names->cancel_at_period_end, &cape) == 1 ? cape : -1;
	if (param_bool(r, names->cancel_now, &x->cancel_now) == 1 && x->cancel_now &&
	    !x->subscription)
		return req_fail(r, ERR_PARAM_MISSING, "subscription", "subscription");
	/* cancel_at: the invoice it makes (a final one within the current period), as the
	 * update would set it; '' unsets it */
	if (param_present(r, names->cancel_at)) {
		if (!x->subscription)
			return req_fail(r, ERR_PARAM_MISSING, "subscription", "subscription");
		if (x->cancel_at_period_end == 1)
			return req_fail(r, ERR_PARAM_BAD, names->cancel_at_shown,
					"%s cannot be combined with %s=true.",
					names->cancel_at_shown, names->cancel_at_period_end);
		if (x->change)
			return req_fail(
			    r, ERR_PARAM_BAD, names->cancel_at_shown,
			    "Tender previews %s of the subscription's items as they are: "
			    "preview the change and the cancellation apart.",
			    names->cancel_at_shown);
		x->cancel_at_set = true;
		param_int(r, names->cancel_at, &x->cancel_at);
		x->cancel_at_prorate = !str_eq(param_str(r, names->proration_behavior), "none");
	}
	if (discount_spec_parse(r, "discounts", true, &x->spec) != 0)
		return -1;
	param_bool(r, "automatic_tax.enabled", &x->automatic_tax);
	/* a new subscription's: refused before its plan, as the create refuses them */
	if (x->new_sub && x->automatic_tax && x->default_tax.present && x->default_tax.n > 0)
		return req_fail(r, ERR_PARAM_BAD, names->default_tax_shown,
				"You cannot use default_tax_rates together with automatic tax.");
	if (tax_place_parse(r, x) != 0 || extra_items_parse(r, x) != 0)
		return -1;
	/* a customer's preview without a currency of its own: its first item's */
	if (!x->currency && !x->subscription && x->n_extra && x->extra[0].currency[0])
		x->currency = x->extra[0].currency;
	return req_read(r, preview_fn, x);
}

int invoice_preview_upcoming(struct req *r, struct db *db, const char *subscription, struct json *j)
{
	/* the preview of GET /v1/invoices/upcoming?subscription=… and nothing else: its read,
	 * lines and rendering are preview_fn's, with no parameter of a request */
	struct preview_ctx *x = arena_alloc(&r->arena, sizeof(*x));
	struct discount *ds = arena_alloc(&r->arena, DISCOUNTS_MAX * sizeof(*ds));
	if (!x || !ds)
		return req_fail(r, ERR_API, NULL, NULL);
	memset(x, 0, sizeof(*x));
	x->r = r;
	x->names = &NEW_NAMES;
	x->subscription = subscription;
	x->cancel_at_period_end = -1;
	/* a schedule's subscription renews into the phase in force then (or is canceled by the
	 * schedule's end first: no invoice), as ?schedule= previews it; the subscription's own
	 * items would announce what the renewal does not bill */
	const char *sched = NULL;
	if (subscription_schedule_of(r, db, subscription, &sched) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	const char *sched_sub = NULL;
	int src = sched ? subscription_schedule_preview_sub(r, db, sched, &sched_sub) : 1;
	if (src == DB_OK && str_eq(sched_sub, subscription))
		x->schedule = sched;
	else if (src < 0 && src != DB_NOTFOUND)
		return req_fail(r, ERR_API, NULL, NULL);
	int n_ds = 0;
	id_new(x->p.in.id, "upcoming_in_");
	if (sub_preview(x, db, ds, &n_ds) != 0)
		return r->err.set && r->err.code == ERR_INVOICE_UPCOMING_NONE ? 1 : -1;
	if (x->p.in.automatic_tax) {
		/* Stripe Tax at the customer's own place, as its renewal is taxed */
		struct tax_context actx;
		bool located = false;
		if (invoice_auto_tax_place_at(r, db, x->p.in.customer, NULL, r->now, &actx,
					      &located, NULL) != 0)
			return -1;
	}
	if (preview_lines(r, db, x, &x->p, &x->default_tax, ds, n_ds) != 0)
		return -1;
	return invoice_render(r, db, &x->p.in, NULL, j) == 0 ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static int h_create_preview(struct req *r)
{
	return preview(r, &NEW_NAMES, false);
}

static int h_upcoming(struct req *r)
{
	return preview(r, &OLD_NAMES, false);
}

static int h_upcoming_lines(struct req *r)
{
	return preview(r, &OLD_NAMES, true);
}

static const struct param_spec sub_details_children[] = {
    {"billing_mode", PT_OBJECT, 0, 0, NULL, subscription_billing_mode_params},
    {"items", PT_OBJECT_ARRAY, 0, SUB_ITEMS_MAX, NULL, subscription_change_item_params},
    {"proration_behavior", PT_ENUM, 0, 0, subscription_proration_behaviors, NULL},
    {"proration_date", PT_INT, 0, 0, NULL, NULL},
    {"cancel_at_period_end", PT_BOOL, 0, 0, NULL, NULL},
    {"cancel_now", PT_BOOL, 0, 0, NULL, NULL},
    {"billing_cycle_anchor", PT_STRING, 0, 20, NULL, NULL},
    {"default_tax_rates", PT_STRING_ARRAY, PF_EMPTYABLE, 0, NULL, NULL},
    {"resume_at", PT_ENUM, 0, 0, (const char *const[]){"now", NULL}, NULL},
    {"trial_end", PT_STRING, 0, 20, NULL, NULL},
    {"cancel_at", PT_INT, PF_EMPTYABLE, 0, NULL, NULL},
    {"start_date", PT_INT, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec preview_automatic_tax_children[] = {
    {"enabled", PT_BOOL, PF_REQUIRED, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec preview_customer_details_children[] = {
    {"address", PT_OBJECT, 0, 0, NULL, address_params},
    {"shipping", PT_OBJECT, 0, 0, NULL, shipping_params},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec preview_period_children[] = {
    {"start", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {"end", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec preview_item_children[] = {
    {"amount", PT_INT, 0, 0, NULL, NULL},
    {"currency", PT_CURRENCY, 0, 0, NULL, NULL},
    {"description", PT_STRING, PF_EMPTYABLE, 500, NULL, NULL},
    {"discountable", PT_BOOL, 0, 0, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"period", PT_OBJECT, 0, 0, NULL, preview_period_children},
    {"price", PT_STRING, 0, 255, NULL, NULL},
    {"quantity", PT_INT, 0, 0, NULL, NULL},
    {"tax_behavior", PT_ENUM, 0, 0,
     (const char *const[]){"exclusive", "inclusive", "unspecified", NULL}, NULL},
    {"tax_code", PT_STRING, PF_EMPTYABLE, 255, NULL, NULL},
    {"unit_amount", PT_INT, 0, 0, NULL, NULL},
    {"discounts", PT_OBJECT_ARRAY, PF_EMPTYABLE, DISCOUNTS_MAX, NULL, subscription_discount_params},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec schedule_details_children[] = {
    {"billing_mode", PT_OBJECT, 0, 0, NULL, subscription_billing_mode_params},
    {"phases", PT_OBJECT_ARRAY, 0, SCHEDULE_PHASES_MAX, NULL, subscription_schedule_phase_params},
    {"end_behavior", PT_ENUM, 0, 0, (const char *const[]){"cancel", "release", NULL}, NULL},
    {"proration_behavior", PT_ENUM, 0, 0, subscription_proration_behaviors, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec create_preview_params[] = {
    {"automatic_tax", PT_OBJECT, 0, 0, NULL, preview_automatic_tax_children},
    {"customer_details", PT_OBJECT, 0, 0, NULL, preview_customer_details_children},
    {"customer", PT_STRING, 0, 255, NULL, NULL},
    {"subscription", PT_STRING, 0, 255, NULL, NULL},
    {"schedule", PT_STRING, 0, 255, NULL, NULL},
    {"currency", PT_CURRENCY, 0, 0, NULL, NULL},
    {"discounts", PT_OBJECT_ARRAY, PF_EMPTYABLE, DISCOUNTS_MAX, NULL, subscription_discount_params},
    {"preview_mode", PT_ENUM, 0, 0, (const char *const[]){"next", "recurring", NULL}, NULL},
    {"subscription_details", PT_OBJECT, 0, 0, NULL, sub_details_children},
    {"schedule_details", PT_OBJECT, 0, 0, NULL, schedule_details_children},
    {"invoice_items", PT_OBJECT_ARRAY, 0, INVOICE_ITEMS_MAX, NULL, preview_item_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
/* the older endpoint's flat names; its lines also page */
#define UPCOMING_PARAMS                                                                            \
	{"customer", PT_STRING, 0, 255, NULL, NULL},                                               \
	    {"subscription", PT_STRING, 0, 255, NULL, NULL},                                       \
	    {"currency", PT_CURRENCY, 0, 0, NULL, NULL},                                           \
	    {"discounts",  PT_OBJECT_ARRAY,                                                        \
	     PF_EMPTYABLE, DISCOUNTS_MAX,                                                          \
	     NULL,	   subscription_discount_params},                                          \
	    {"coupon", PT_STRING, PF_EMPTYABLE, COUPON_ID_MAX, NULL, NULL},                        \
	    {"subscription_items",	     PT_OBJECT_ARRAY, 0, SUB_ITEMS_MAX, NULL,              \
	     subscription_change_item_params},                                                     \
	    {"subscription_proration_behavior", PT_ENUM, 0, 0,                                     \
	     subscription_proration_behaviors,	NULL},                                             \
	    {"subscription_proration_date", PT_INT, 0, 0, NULL, NULL},                             \
	    {"subscription_cancel_at_period_end", PT_BOOL, 0, 0, NULL, NULL},                      \
	    {"subscription_billing_cycle_anchor", PT_STRING, 0, 20, NULL, NULL},                   \
	    {"subscription_default_tax_rates", PT_STRING_ARRAY, PF_EMPTYABLE, 0, NULL, NULL},      \
	    {"subscription_resume_at", PT_ENUM, 0, 0, (const char *const[]){"now", NULL}, NULL},   \
	    {"subscription_trial_end", PT_STRING, 0, 20, NULL, NULL},                              \
	    {"subscription_trial_from_plan", PT_BOOL, 0, 0, NULL, NULL},                           \
	    {"subscription_cancel_at", PT_INT, PF_EMPTYABLE, 0, NULL, NULL},                       \
	    {"subscription_start_date", PT_INT, 0, 0, NULL, NULL},                                 \
	    {"schedule", PT_STRING, 0, 255, NULL, NULL},                                           \
	    {"automatic_tax", PT_OBJECT, 0, 0, NULL, preview_automatic_tax_children},              \
	    {"customer_details", PT_OBJECT, 0, 0, NULL, preview_customer_details_children},        \
	    {"invoice_items", PT_OBJECT_ARRAY, 0, INVOICE_ITEMS_MAX, NULL, preview_item_children}, \
	{                                                                                          \
		"subscription_cancel_now", PT_BOOL, 0, 0, NULL, NULL                               \
	}
static const struct param_spec upcoming_params[] = {
    UPCOMING_PARAMS,
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec upcoming_lines_params[] = {
    UPCOMING_PARAMS,
    {"limit", PT_INT, 0, 0, NULL, NULL},
    {"starting_after", PT_STRING, 0, 255, NULL, NULL},
    {"ending_before", PT_STRING, 0, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

/* before invoices_routes: these literal paths would otherwise be taken for invoice ids */
const struct route invoice_preview_routes[] = {
    {"POST", "/v1/invoices/create_preview", h_create_preview, create_preview_params,
     ROUTE_READ_ONLY},
    {"GET", "/v1/invoices/upcoming", h_upcoming, upcoming_params, 0},
    {"GET", "/v1/invoices/upcoming/lines", h_upcoming_lines, upcoming_lines_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};

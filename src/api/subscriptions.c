/*
 * /v1/subscriptions — create, retrieve, update, cancel, list — and the scheduler that bills
 * them: recurring billing, with its invoices (invoices.c) and test clocks (test_clocks.c).
 *
 * The model. A subscription bills its items (prices × quantities, one currency, one interval)
 * period after period. Periods are counted from its billing cycle anchor on the UTC calendar
 * (billing/billing.h: period k ends at anchor + k intervals, month ends clamped), in its own
 * time: the real time, or its customer's test clock's. Each period makes one invoice, paid by a
 * PaymentIntent: a renewal's is a draft for Stripe's hour (INVOICE_DRAFT_WINDOW_S), then
 * finalized and attempted by the next step (draft_finalize); a first invoice, a change's and a
 * final invoice are made finalized. `next_action_at` on the row is the first time something is due
 * for it (billing_next_action: an incomplete subscription expiring after 23 h, a retry of its
 * latest invoice, a cancellation at period end, the end of a trial, a renewal); the scheduler does
 * the due steps one at a time, oldest first.
 *
 * Paying an invoice outside a request. The payment code is written around a request (struct
 * req: the merchant, the time, the arena, the answer). Rather than a second payment path, the
 * scheduler builds a request of its own (req_internal_init: no HTTP, no parameters, no
 * idempotency key, its merchant, the step's time) and pays through payment_intents_invoice, the
 * same internal entry the API's own requests use here: an ordinary PaymentIntent, confirmed by
 * confirm_intent in its two halves (the card and the acquirer outside the write, then one write
 * transaction), so the charge, the acquirer hold, the ledger entries, the balance transaction
 * and the payment's events are exactly those of any payment. That write also carries the
 * billing: the caller's before() hook stores the new period and the invoice (guarded by the
 * subscription's version, so two nodes cannot renew one period twice), and the intent, which
 * names its invoice (payment_intents.invoice), settles it in the same transaction
 * (invoice_payment_settled: paid; or a failed attempt, its retry and the subscription's
 * past_due/cancellation) — as Checkout completes its session inside its payment's write. No
 * invoice is ever paid apart from its charge, and a crash leaves either both or neither. A
 * confirmation of that intent by any other way (POST /v1/invoices/{id}/pay, the API's confirm,
 * the 3-D Secure page) settles the invoice the same way.
 *
 * Off session. An invoice is paid with the cardholder away: a card set up for off-session use
 * with authentication goes through, and one that asks for 3-D Secure leaves the intent in
 * requires_action (invoice.payment_action_required), as Stripe's 4000002500003155 and
 * 4000002760003184 do; a decline is a failed attempt.
 *
 * Checkout. A Checkout Session in mode=subscription buys its subscription through this same
 * create (subscriptions_checkout → create_run): its items are the session's, its card the
 * buyer's, and the write that pays the first invoice also runs the checkout's rows (the
 * customer it makes, the session's attempt) and completes the session (checkout.c).
 *
 * Decisions (where Stripe leaves a setting to the merchant, its defaults):
 *  - payment_behavior on a change (items, /v1/subscription_items): allow_incomplete keeps it with
 *    its invoice open (past_due), error_if_incomplete answers 402 and keeps nothing,
 *    default_incomplete keeps it with its invoice's intent unconfirmed (nothing attempted, the
 *    status as it was), pending_if_incomplete keeps it aside until its invoice is paid ("pending
 *    updates" below).
 *  - payment_behavior: allow_incomplete (default) answers 200 with the subscription incomplete
 *    when its first payment fails or needs the cardholder; error_if_incomplete answers the 402
 *    card error and keeps nothing (no subscription, invoice, intent or failed charge: Stripe
 *    "does not create a subscription"); default_incomplete makes the intent without confirming
 *    it. Without any payment method the first two are refused (400).
 *  - A first invoice is never retried by itself: 23 h after creation an unpaid subscription is
 *    incomplete_expired and its invoice voided (10 days while its intent waits for an ACH
 *    account's microdeposits, not past the first period's end: microdeposit_window).
 *  - A failed renewal makes the subscription past_due and is retried 3 and 7 days after the
 *    first attempt (3 attempts over 7 days, billing_next_attempt); when the third fails, the
 *    subscription is canceled (cancellation_details.reason payment_failed), Stripe's default
 *    for "if all retries fail"; the invoice stays open, without further automatic attempts.
 *    A payment that succeeds meanwhile (a retry, or POST /v1/invoices/{id}/pay) makes it
 *    active again. Retries apply to the latest invoice; an older one left open stays open.
 *  - Objects made for a subscription on a test clock (its invoices, their intents, charges
 *    and events) carry the clock's time; the subscription's own create request records its
 *    payment at the real time (the request's idempotency record is kept by real time).
 *  - Changes of items (POST …/{id} items[], /v1/subscription_items) prorate as Stripe does; see
 *    "changing items" below. Pending invoice items of the customer (this subscription's and
 *    those of none) are taken by the next period's invoice (invoice_items.c).
 *  - Pausing. pause_collection leaves the status as it is: each period's invoice is still
 *    made, in the renewal's own write, but kept as a draft, voided or marked uncollectible
 *    instead of charged (invoice_store_paused); at resumes_at the scheduler unsets it
 *    (BILLING_RESUME_COLLECTION). A trial that ends without a payment method follows
 *    trial_settings.end_behavior.missing_payment_method: create_invoice (an unpaid invoice,
 *    past_due), cancel, or pause: status paused, nothing due until POST …/resume, which is a
 *    change of the subscription like an item change (the same write and payment; see
 *    "resume" below).
 *  - customer.subscription.trial_will_end is a step of the scheduler like a renewal
 *    (BILLING_TRIAL_WILL_END, three days before trial_end), recorded with the trial_end it
 *    announced (trial_notice_for) so that each trial is announced once.
 *  - Discounts (discounts.c): a subscription's discounts are rows of their own, made by create
 *    and update (discounts[], coupon, promotion_code) and taken by each invoice it makes, at
 *    that invoice's time (invoice_for_period); every invoice's total before its write comes
 *    from the same computation over the same lines (planned_total), so the payment asks for
 *    what the invoice then records.
 *  - The customer's credit balance (customer_balance.h): every invoice takes it when it is
 *    finalized (invoice_store → invoice_balance_apply), in the same write; its PaymentIntent
 *    is for amount_due (the total with the balance applied, read before the write by
 *    invoice_planned_due and checked inside it, as the total is), and an invoice with nothing
 *    due is paid at once. A credit invoice (a downgrade's prorations) credits the balance.
 *  - collection_method=send_invoice (with days_until_due): no card is needed and the
 *    subscription is active at once (trialing with a trial); every invoice it makes is created
 *    and finalized as a charged one would be, and invoice_finalize_terms (invoices.c, the
 *    one-off invoices' code) gives it its due_date and hosted page; nothing charges it (the
 *    create, a change and the renewal's RETRY step finalize it and stop). Its overdue notice is
 *    the one-off invoices' scheduler step (invoice_advance_step, for every open send_invoice
 *    invoice), which then calls subscription_invoice_overdue: the latest invoice overdue makes
 *    an active subscription past_due (Stripe's default settings), paid it is active again; it is
 *    never canceled for it. The method is the subscription's now: an invoice keeps the one it
 *    was made with.
 *  - Usage-based billing. A metered item (its price backed by a billing meter, pf.meter, or
 *    a legacy metered price without one, billed from the item's usage records: usage_records.c)
 *    has no quantity (stored 0, shown absent) and is billed in arrears: an invoice's line for it
 *    is the usage (the customer's meter events, or the item's usage records aggregated by the
 *    price's aggregate_usage) over the subscription's usage window (usage_start …
 *    usage_end: the period that ended, set by the renewal's read and write and by the
 *    upcoming preview; none on a first invoice or after a trial, where the line is 0), priced
 *    by price_facts_amount, its `period` that window. The renewal reads that usage before its
 *    write and again inside it; an event that came meanwhile changes the total, and the write's
 *    "changed meanwhile" makes the step run again. The renewal's invoice is a draft for an hour
 *    (not when pause_collection makes it: that one is stored at once as its behavior says, and a
 *    keep_as_draft one is finalized by hand as it stands): when its first attempt finalizes it,
 *    its metered lines take the usage of their window as it is then (draft_usage_refresh), so
 *    events stamped in the period that ended and reported during the hour are billed, as on
 *    Stripe; its discounts, taxes and total follow, read before the attempt's write and found
 *    the same inside it, which pays exactly that. invoice_now on cancel bills the period up to
 *    now (cancel_read_fn's x->usage); a subscription with metered items that ends at its period
 *    end (cancel_at_period_end, a schedule's end) bills its last period's usage on a final
 *    invoice (billing_reason subscription_cycle, with the customer's pending invoice items),
 *    made finalized and charged in the write that cancels it (period_end_final: no draft hour
 *    for it); with no usage it is 0 and paid at once. Prorations leave metered items out; a new
 * period now on a subscription with one is refused (its usage would go unbilled). A change (an
 * update's items[], /v1/subscription_items, a schedule's phase) may add one or give an item a
 * metered price: nothing is prorated for it and its usage counts from then (usage_since, the
 *    subscription_items row's usage_start; item_usage_start), so its first renewal bills part
 *    of the window. One a change removes (or gives another price) has its usage up to then
 *    billed by the next invoice, as on Stripe: usage_items_add prices it by item_usage, the
 *    same computation as a period's line, and makes it a pending invoice item (proration false,
 *    its period that window; on the change's invoice when one is made now), unless the change
 *    asks clear_usage.
 *  - A create's billing_cycle_anchor (or _config) in the future starts with a partial period
 *    from now to the anchor (period_index 0, as a trial's; renewals count from the anchor), its
 *    lines each price's share of the full period that ends at the anchor, in exact seconds
 *    (partial_amount; proration_behavior=none: 0). With a trial the anchor is after the
 *    trial's end: see "a trial with a later billing cycle anchor".
 *  - Backdating (backdate_start_date, in the past): the subscription's start_date and its first
 *    period begin then. Without an anchor its first period runs from then, one full interval
 *    (it must still be running now), and the first invoice bills it in full; with a
 *    billing_cycle_anchor the first, partial period runs from then to the anchor and is
 *    billed at its share of the full period ending at the anchor (at most that period), which
 *    is Stripe's "proration for the timespan between the start date and the current time"
 *    together with the time up to the anchor. Not with a trial (400).
 *  - billing_mode (Stripe's classic / flexible): set at creation (flexible by default from API
 *    version 2025-09-30, as on Stripe), classic to flexible by POST …/migrate, never back. The
 *    one difference Tender computes is flexible's credit prorations: the unused share of what
 *    was billed for the item, not of its list price (see "flexible billing mode's credits"),
 *    and [flexible][proration_discounts] itemized shows a proration's discounts apart from
 *    its amount (see "prorations and discounts").
 *  - Not covered: decimal quantities, automatic tax, POST …/pause, items' own discounts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "api/billing_internal.h"
#include "api/catalog.h"
#include "api/common.h"
#include "api/list.h"
#include "api/payments_connect.h"
#include "api/sources.h"
#include "api/payments_common.h"
#include "api/setup_attempts.h"
#include "api/subscription_schedules.h"
#include "api/tax_ids.h"
#include "app.h"
#include "billing/entitlements.h"
#include "billing/meter_usage.h"
#include "billing/tiers.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/parse.h"
#include "core/str.h"
#include "events/events.h"
#include "http/form.h"
#include "merchant/connect.h"
#include "money/currency.h"
#include "vault/payment_method.h"
#include "scheduler/scheduler.h"

#define TRIAL_DAYS_MAX 730
#define QUANTITY_MAX 1000000
#define TICK_REALTIME_BATCH 32
#define TICK_CLOCKS_MAX 8
#define TICK_CLOCK_STEPS 64
#define DEFER_AFTER_FAILURE_S 3600

_Static_assert(SUB_CHECKOUT_ITEMS_MAX <= SUB_ITEMS_MAX, "a checkout's items fit a subscription");

struct sub_item {
	char id[ID_MAX];
	const char *price, *metadata;
	int64_t quantity, created;
	struct price_facts pf;
	int data; /* create: index of an items[n][price_data] to store, or -1 */
	/* a change's price_data to make (its dotted parameter path, and as errors name it:
	 * items[n][price_data], or price_data of /v1/subscription_items); NULL: none */
	const char *data_path, *data_shown;
	bool quantity_given; /* create: items[n][quantity] was given (a metered item takes none) */
	/* a metered item added (or its price replaced) by a change: its usage counts from then,
	 * the meter's events before it not its own; 0: from its subscription's usage window */
	int64_t usage_since;
	/* its tax_rates[] as a create or change asks (planned with these, then stored; NULL or
	 * not present: as stored) */
	const struct tax_rate_spec *tax;
	/* billing_thresholds as shown (JSON; NULL: none) */
	const char *thresholds;
	/* its discounts[] as a create or change asks (NULL: as stored), resolved into ds (new
	 * ones with id ""), and in the write, once made, their ids (JSON; NULL: not yet) */
	const struct discount_spec *dspec;
	struct discount *ds;
	int n_ds;
	const char *ds_ids;
};

struct subscription {
	char id[ID_MAX];
	int64_t created, version;
	const char *customer, *status;
	char currency[8], interval[8];
	int64_t interval_count, anchor, period_index, period_start, period_end, start_date;
	int64_t trial_start, trial_end; /* 0: none */
	bool cancel_at_period_end;
	int64_t canceled_at, ended_at; /* 0: none */
	const char *cancellation_reason, *cancellation_comment, *cancellation_feedback;
	const char *default_payment_method, *description, *latest_invoice, *metadata, *test_clock;
	int64_t next_action_at; /* 0: none */
	/* pause_collection (behavior NULL: collecting), and resumes_at (0: none) */
	const char *pause_behavior;
	int64_t pause_resumes_at;
	const char *trial_missing_pm; /* trial_settings.end_behavior.missing_payment_method */
	int64_t trial_notice_for;     /* the trial_end trial_will_end was sent for (0: none) */
	int64_t upcoming_notice_for;  /* the renewal invoice.upcoming was sent for (0: none) */
	int64_t paused_at;	      /* status paused: since when */
	/* collection_method send_invoice (else charge_automatically): its invoices are finalized
	 * without being charged, each due days_until_due days after its finalization */
	bool sends;
	int64_t days_until_due;
	/* its default_tax_rates[] as a create or update asks (NULL or not present: as stored) */
	const struct tax_rate_spec *default_tax;
	/* automatic_tax[enabled]: its invoices are taxed by Stripe Tax (invoices.c) */
	bool automatic_tax;
	/* payment_settings[payment_method_types] (JSON array; NULL: not set), its invoices' */
	const char *payment_method_types;
	/* payment_settings[payment_method_options][customer_balance] (JSON; NULL: not set), its
	 * invoices' */
	const char *pmo_customer_balance;
	/* billing_cycle_anchor_config as given at creation (a JSON object; NULL: none) */
	const char *anchor_config;
	/* not stored: where its customer will be, when a Checkout Session's write is about to make
	 * it (its first invoice is planned before; NULL: the customer's own address) */
	const char *auto_tax_address;
	/* its pending update (see "pending updates"; NULL/0: none): the subscription as it will
	 * be, as JSON; the invoice whose payment applies it; when it is dropped */
	const char *pending_update, *pending_invoice;
	int64_t pending_expires_at;
	/* the usage window [usage_start, usage_end) a renewal's invoice bills its metered items
	 * for (the period that ended); usage_end 0: none (a first invoice's metered lines are 0) */
	int64_t usage_start, usage_end;
	/* not stored: the usage window is a cancellation's, ending now, after which the items take
	 * no usage: usage records stamped at its very end (reported "now", then canceled in the
	 * same second of a test clock) are billed too */
	bool usage_through_end;
	/* not stored: a create's first period from now to a future billing_cycle_anchor, its lines
	 * billed at their share of the full period that ends at the anchor, partial_remaining /
	 * partial_period seconds (proration_behavior=none: partial_period 0, billed nothing) */
	bool partial;
	int64_t partial_remaining, partial_period;
	/* cancel_at (0: none): the scheduler cancels it then (BILLING_CANCEL), crediting the
	 * unused rest of the period it billed unless cancel_at_prorate is false */
	int64_t cancel_at;
	bool cancel_at_prorate;
	/* billing_thresholds, pending_invoice_item_interval and transfer_data as shown (JSON;
	 * NULL: none); on_behalf_of and default_source (NULL: none) */
	const char *billing_thresholds, *pending_interval, *transfer_data, *on_behalf_of,
	    *default_source;
	/* invoice_settings[account_tax_ids]: the merchant's own tax ids its invoices carry (a
	 * JSON array; NULL: none) */
	const char *account_tax_ids;
	/* application_fee_percent in percent_e4 (billing/billing.h), when fee_set */
	int64_t fee_e4;
	bool fee_set;
	/* next_pending_invoice_item_invoice: when the scheduler next invoices its pending invoice
	 * items by pending_invoice_item_interval (0: no interval) */
	int64_t next_pending_at;
	/* payment_settings[save_default_payment_method] on_subscription: the PaymentMethod of a
	 * payment of its invoices that succeeds, or of its pending SetupIntent, becomes its
	 * default_payment_method (subscription_invoice_paid_by, subscription_setup_succeeded) */
	bool save_default_pm;
	/* the SetupIntent a default_incomplete subscription with nothing due now waits on, for
	 * the customer to set up its payment method (NULL: none) */
	const char *pending_si;
	/* billing_mode flexible (else classic: a subscription made before it was stored is), its
	 * [flexible][proration_discounts], and when it took that mode (0: made before) */
	bool flexible;
	const char *proration_discounts;
	int64_t mode_updated_at;
	int n_items;
	struct sub_item items[SUB_ITEMS_MAX];
};

/* One period's amount a of a line of s, as its first invoice bills it: in full, or its share of
 * a partial first period (s->partial). 0, or -1 (out of range). */
static int partial_amount(const struct subscription *s, int64_t a, int64_t *ret)
{
	if (!s->partial) {
		*ret = a;
		return 0;
	}
	if (s->partial_period == 0) {
		*ret = 0;
		return 0;
	}
	return billing_prorate(a, s->partial_remaining, s->partial_period, ret);
}

/* ---- a trial with a later billing cycle anchor ----
 * A create with a trial and a billing_cycle_anchor (or _config) after the trial's end, as
 * Stripe allows it: the trial is period -1 (start … trial_end), then period 0 runs from the
 * trial's end to the anchor, billed at each line's share of the full period that ends at the
 * anchor (partial_amount) or, when the create asked proration_behavior=none, at nothing
 * (anchor_proration_none); full periods follow from the anchor. Every other subscription's
 * first period is 0 or 1, and a renewal never enters period 0. */

static const char SQL_ANCHOR_NONE_GET[] =
    "SELECT anchor_proration_none FROM subscriptions WHERE merchant_id = $1 AND id = $2";
static const char SQL_ANCHOR_NONE_SET[] =
    "UPDATE subscriptions SET anchor_proration_none = 1 WHERE merchant_id = $1 AND id = $2";

/* The end of s's period k (k >= 0: period 0 ends at the anchor) on interval iv. 0, or -1. */
static int sub_period_end(const struct subscription *s, enum billing_interval iv, int64_t k,
			  int64_t *ret)
{
	if (k == 0) {
		*ret = s->anchor;
		return 0;
	}
	return billing_period_end(s->anchor, iv, s->interval_count, k, ret);
}

/* s's lines as the invoice of its period k, starting at `start`, bills them: period 0 entered
 * from a trial (start before the anchor) is partial (s->partial set), any other in full. 0, or
 * -1 with r->err. */
static int trial_anchor_partial(struct req *r, struct db *db, struct subscription *s, int64_t k,
				int64_t start)
{
	s->partial = false;
	if (k != 0 || s->anchor <= start)
		return 0;
	enum billing_interval iv;
	int64_t prev;
	if (billing_interval_parse(s->interval, &iv) != 0 ||
	    billing_sub(s->anchor, iv, s->interval_count, &prev) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	struct db_stmt *st = db_prepare(db, SQL_ANCHOR_NONE_GET);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, s->id, -1);
	int rc = db_step(st);
	bool none = rc == DB_ROW && db_col_int64(st, 0) != 0;
	db_reset(st);
	if (rc != DB_ROW)
		return req_fail(r, ERR_API, NULL, NULL);
	s->partial = true;
	s->partial_period = none ? 0 : s->anchor - prev;
	/* never more than the full period (an interval made shorter during the trial) */
	s->partial_remaining = s->anchor - start;
	if (s->partial_remaining > s->partial_period)
		s->partial_remaining = s->partial_period;
	return 0;
}

#define SUB_PM_TYPES "payment_settings.payment_method_types"
#define SUB_PM_TYPES_SHOWN "payment_settings[payment_method_types]"
#define SUB_PMO_CASH "payment_settings.payment_method_options.customer_balance"
#define SUB_PMO_CASH_SHOWN "payment_settings[payment_method_options][customer_balance]"

/* payment_settings[payment_method_options][customer_balance] of a create or update ('' unsets
 * it), then whether its types and options can be paid (api/cash_balance.c). 0, or -1 with
 * r->err. */
static int sub_pmo_params(struct req *r, struct subscription *s)
{
	const char *v = param_str(r, SUB_PMO_CASH);
	if (v && !*v)
		s->pmo_customer_balance = NULL;
	else if (cash_invoice_pmo_param(r, SUB_PMO_CASH, SUB_PMO_CASH_SHOWN, s->currency,
					&s->pmo_customer_balance) < 0)
		return -1;
	if (cash_invoice_pmo_check(r, s->payment_method_types, s->pmo_customer_balance, s->currency,
				   "payment_settings") != 0)
		return -1;
	/* charge_automatically invoices paid by bank transfer are paid from the customer's cash,
	 * never charged: customer_balance is then their only type (invoices.c) */
	if (s->payment_method_types && strstr(s->payment_method_types, "\"customer_balance\"") &&
	    !s->sends && !billing_pm_types_cash_only(s->payment_method_types))
		return req_fail(
		    r, ERR_PARAM_BAD, SUB_PM_TYPES_SHOWN,
		    "Tender takes customer_balance with collection_method="
		    "charge_automatically as the only payment method type: its invoices "
		    "are paid from the customer's cash balance, not charged.");
	return 0;
}

/* payment_settings[save_default_payment_method] of a create or update onto s; an update's
 * change named in its previous_attributes pj (NULL: a create). */
static void save_default_param(struct req *r, struct subscription *s, struct json *pj)
{
	const char *v = param_str(r, "payment_settings.save_default_payment_method");
	if (!v || str_eq(v, "on_subscription") == s->save_default_pm)
		return;
	if (pj) {
		json_key(pj, "payment_settings");
		json_obj_open(pj);
		json_kv_str(pj, "save_default_payment_method",
			    s->save_default_pm ? "on_subscription" : "off");
		json_obj_close(pj);
	}
	s->save_default_pm = str_eq(v, "on_subscription");
}

static const char SQL_GET[] =
    "SELECT id, created, version, customer, status, currency, billing_interval,"
    " billing_interval_count, billing_cycle_anchor, period_index, current_period_start,"
    " current_period_end, start_date, trial_start, trial_end, cancel_at_period_end, canceled_at,"
    " ended_at, cancellation_reason, cancellation_comment, cancellation_feedback,"
    " default_payment_method, description, latest_invoice, metadata, test_clock, next_action_at,"
    " pause_behavior, pause_resumes_at, trial_missing_pm, trial_notice_for, paused_at,"
    " collection_method, days_until_due, pending_update, pending_invoice, pending_expires_at,"
    " automatic_tax, payment_method_types, billing_cycle_anchor_config, pmo_customer_balance,"
    " cancel_at, cancel_at_prorate, billing_thresholds, pending_invoice_item_interval,"
    " application_fee_percent, transfer_data, on_behalf_of, default_source,"
    " next_pending_invoice_at, account_tax_ids, save_default_payment_method,"
    " pending_setup_intent, billing_mode, billing_mode_proration_discounts,"
    " billing_mode_updated_at, upcoming_notice_for FROM subscriptions"
    " WHERE merchant_id = $1 AND id = $2";
static const char SQL_INSERT[] =
    "INSERT INTO subscriptions (merchant_id, id, created, version, customer, status, currency,"
    " billing_interval, billing_interval_count, billing_cycle_anchor, period_index,"
    " current_period_start, current_period_end, start_date, trial_start, trial_end,"
    " cancel_at_period_end, canceled_at, ended_at, cancellation_reason, cancellation_comment,"
    " cancellation_feedback, default_payment_method, description, latest_invoice, metadata,"
    " test_clock, next_action_at, pause_behavior, pause_resumes_at, trial_missing_pm,"
    " trial_notice_for, paused_at, collection_method, days_until_due, automatic_tax,"
    " payment_method_types, billing_cycle_anchor_config, pmo_customer_balance, cancel_at,"
    " cancel_at_prorate, billing_thresholds, pending_invoice_item_interval,"
    " application_fee_percent, transfer_data, on_behalf_of, default_source,"
    " next_pending_invoice_at, account_tax_ids, save_default_payment_method,"
    " pending_setup_intent, billing_mode, billing_mode_proration_discounts,"
    " billing_mode_updated_at) VALUES ($1,"
    " $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20,"
    " $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35, $36, $37, $38,"
    " $39, $40, $41, $42, $43, $44, $45, $46, $47, $48, $49, $50, $51, $52, $53, $54)";
/* every mutable column, where the row is still at the version it was read at */
static const char SQL_UPDATE[] =
    "UPDATE subscriptions SET version = $3 + 1, status = $4, period_index = $5,"
    " current_period_start = $6, current_period_end = $7, trial_start = $8, trial_end = $9,"
    " cancel_at_period_end = $10, canceled_at = $11, ended_at = $12, cancellation_reason = $13,"
    " cancellation_comment = $14, cancellation_feedback = $15, default_payment_method = $16,"
    " description = $17, latest_invoice = $18, metadata = $19, next_action_at = $20,"
    " billing_interval = $21, billing_interval_count = $22, billing_cycle_anchor = $23,"
    " pause_behavior = $24, pause_resumes_at = $25, trial_missing_pm = $26,"
    " trial_notice_for = $27, paused_at = $28, collection_method = $29, days_until_due = $30,"
    " automatic_tax = $31, payment_method_types = $32, pmo_customer_balance = $33,"
    " cancel_at = $34, cancel_at_prorate = $35, billing_thresholds = $36,"
    " pending_invoice_item_interval = $37, application_fee_percent = $38, transfer_data = $39,"
    " on_behalf_of = $40, default_source = $41, next_pending_invoice_at = $42,"
    " account_tax_ids = $43, save_default_payment_method = $44, pending_setup_intent = $45,"
    " billing_mode = $46, billing_mode_proration_discounts = $47, billing_mode_updated_at = $48,"
    " upcoming_notice_for = $49 WHERE merchant_id = $1 AND id = $2 AND version = $3";
static const char SQL_ITEMS[] =
    "SELECT id, price, quantity, created, metadata, usage_start, billing_thresholds"
    " FROM subscription_items"
    " WHERE merchant_id = $1 AND subscription = $2 ORDER BY pos LIMIT $3";
static const char SQL_ITEM_INSERT[] =
    "INSERT INTO subscription_items (merchant_id, id, subscription, pos, created, price,"
    " quantity, metadata, usage_start, billing_thresholds) VALUES ($1, $2, $3, $4, $5, $6, $7,"
    " $8, $9, $10)";

/* Writes s's items in their order (a create, and a change that rewrote them). 0, or -1 with
 * r->err. */
static int items_insert(struct req *r, struct db *db, const struct subscription *s)
{
	for (int i = 0; i < s->n_items; i++) {
		const struct sub_item *it = &s->items[i];
		struct db_stmt *st = db_prepare(db, SQL_ITEM_INSERT);
		if (!st)
			return req_fail(r, ERR_API, NULL, NULL);
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, it->id, -1);
		db_bind_text(st, 3, s->id, -1);
		db_bind_int64(st, 4, i);
		db_bind_int64(st, 5, it->created);
		db_bind_text(st, 6, it->price, -1);
		db_bind_int64(st, 7, it->quantity);
		db_bind_text(st, 8, it->metadata, -1);
		db_bind_int64(st, 9, it->usage_since);
		db_bind_text(st, 10, it->thresholds, -1);
		if (db_step_done(st) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	return 0;
}

/* The tax rates a create or change asked for (s->default_tax, its items' tax): stored, each
 * checked (of the merchant, active when newly applied). 0, or -1 with r->err. */
static int tax_rates_store(struct req *r, struct db *db, const struct subscription *s)
{
	if (s->default_tax && tax_links_set(r, db, s->id, s->default_tax) != 0)
		return -1;
	for (int i = 0; i < s->n_items; i++)
		if (s->items[i].tax && tax_links_set(r, db, s->items[i].id, s->items[i].tax) != 0)
			return -1;
	return 0;
}

/* The row, and with prices its items with their prices' facts. */
static int sub_load(struct req *r, struct db *db, const char *id, bool items,
		    struct subscription *s)
{
	struct db_stmt *st = db_prepare(db, SQL_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		struct arena *a = &r->arena;
		memset(s, 0, sizeof(*s));
		str_copy(s->id, sizeof(s->id), db_col_text(st, 0, NULL));
		s->created = db_col_int64(st, 1);
		s->version = db_col_int64(st, 2);
		s->customer = col_text_dup(a, st, 3);
		s->status = col_text_dup(a, st, 4);
		str_copy(s->currency, sizeof(s->currency), db_col_text(st, 5, NULL));
		str_copy(s->interval, sizeof(s->interval), db_col_text(st, 6, NULL));
		s->interval_count = db_col_int64(st, 7);
		s->anchor = db_col_int64(st, 8);
		s->period_index = db_col_int64(st, 9);
		s->period_start = db_col_int64(st, 10);
		s->period_end = db_col_int64(st, 11);
		s->start_date = db_col_int64(st, 12);
		s->trial_start = db_col_int64_or0(st, 13);
		s->trial_end = db_col_int64_or0(st, 14);
		s->cancel_at_period_end = db_col_int64(st, 15) != 0;
		s->canceled_at = db_col_int64_or0(st, 16);
		s->ended_at = db_col_int64_or0(st, 17);
		s->cancellation_reason = col_text_dup(a, st, 18);
		s->cancellation_comment = col_text_dup(a, st, 19);
		s->cancellation_feedback = col_text_dup(a, st, 20);
		s->default_payment_method = col_text_dup(a, st, 21);
		s->description = col_text_dup(a, st, 22);
		s->latest_invoice = col_text_dup(a, st, 23);
		s->metadata = col_text_dup(a, st, 24);
		s->test_clock = col_text_dup(a, st, 25);
		s->next_action_at = db_col_int64_or0(st, 26);
		s->pause_behavior = col_text_dup(a, st, 27);
		s->pause_resumes_at = db_col_int64_or0(st, 28);
		s->trial_missing_pm = col_text_dup(a, st, 29);
		s->trial_notice_for = db_col_int64_or0(st, 30);
		s->paused_at = db_col_int64_or0(st, 31);
		s->sends = str_eq(db_col_text(st, 32, NULL), "send_invoice");
		s->days_until_due = db_col_int64_or0(st, 33);
		s->pending_update = col_text_dup(a, st, 34);
		s->pending_invoice = col_text_dup(a, st, 35);
		s->pending_expires_at = db_col_int64_or0(st, 36);
		s->automatic_tax = db_col_int64(st, 37) != 0;
		s->payment_method_types = col_text_dup(a, st, 38);
		s->anchor_config = col_text_dup(a, st, 39);
		s->pmo_customer_balance = col_text_dup(a, st, 40);
		s->cancel_at = db_col_int64_or0(st, 41);
		s->cancel_at_prorate = db_col_int64(st, 42) != 0;
		s->billing_thresholds = col_text_dup(a, st, 43);
		s->pending_interval = col_text_dup(a, st, 44);
		s->fee_set = !db_col_is_null(st, 45);
		s->fee_e4 = db_col_int64_or0(st, 45);
		s->transfer_data = col_text_dup(a, st, 46);
		s->on_behalf_of = col_text_dup(a, st, 47);
		s->default_source = col_text_dup(a, st, 48);
		s->next_pending_at = db_col_int64_or0(st, 49);
		s->account_tax_ids = col_text_dup(a, st, 50);
		s->save_default_pm = str_eq(db_col_text(st, 51, NULL), "on_subscription");
		s->pending_si = col_text_dup(a, st, 52);
		s->flexible = str_eq(db_col_text(st, 53, NULL), "flexible");
		s->proration_discounts = col_text_dup(a, st, 54);
		s->mode_updated_at = db_col_int64_or0(st, 55);
		s->upcoming_notice_for = db_col_int64_or0(st, 56);
		if (!s->customer || !s->status || !s->metadata || !s->trial_missing_pm)
			rc = DB_ERR;
	}
	db_reset(st);
	if (rc != DB_ROW)
		return rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
	if (!items)
		return DB_OK;
	st = db_prepare(db, SQL_ITEMS);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, s->id, -1);
	db_bind_int64(st, 3, SUB_ITEMS_MAX);
	while (s->n_items < SUB_ITEMS_MAX && (rc = db_step(st)) == DB_ROW) {
		struct sub_item *it = &s->items[s->n_items++];
		str_copy(it->id, sizeof(it->id), db_col_text(st, 0, NULL));
		it->price = col_text_dup(&r->arena, st, 1);
		it->quantity = db_col_int64(st, 2);
		it->created = db_col_int64(st, 3);
		it->metadata = col_text_dup(&r->arena, st, 4);
		it->usage_since = db_col_int64_or0(st, 5);
		it->thresholds = col_text_dup(&r->arena, st, 6);
		it->data = -1;
	}
	db_reset(st);
	if (rc < 0)
		return rc;
	for (int i = 0; i < s->n_items; i++) {
		if (!s->items[i].price)
			return DB_ERR;
		/* in the subscription's currency: the price's own, or its currency_options' */
		rc = price_facts_in(r, db, s->items[i].price, s->currency, &s->items[i].pf);
		if (rc != DB_OK)
			return rc == DB_NOTFOUND ? DB_ERR : rc;
	}
	return DB_OK;
}

/* the collection columns, from parameter `first` on */
static void bind_collection(struct db_stmt *st, int first, const struct subscription *s)
{
	db_bind_text(st, first, s->sends ? "send_invoice" : "charge_automatically", -1);
	if (s->sends)
		db_bind_int64(st, first + 1, s->days_until_due);
	else
		db_bind_null(st, first + 1);
}

/* the columns of the parameters taken since migration 0145 (and 0169's), from parameter
 * `first` on */
static void bind_extras(struct db_stmt *st, int first, const struct subscription *s)
{
	db_bind_int64_or_null(st, first, s->cancel_at);
	db_bind_int64(st, first + 1, s->cancel_at_prorate ? 1 : 0);
	db_bind_text(st, first + 2, s->billing_thresholds, -1);
	db_bind_text(st, first + 3, s->pending_interval, -1);
	if (s->fee_set)
		db_bind_int64(st, first + 4, s->fee_e4);
	else
		db_bind_null(st, first + 4);
	db_bind_text(st, first + 5, s->transfer_data, -1);
	db_bind_text(st, first + 6, s->on_behalf_of, -1);
	db_bind_text(st, first + 7, s->default_source, -1);
	db_bind_int64_or_null(st, first + 8, s->next_pending_at);
	db_bind_text(st, first + 9, s->account_tax_ids, -1);
	db_bind_text(st, first + 10, s->save_default_pm ? "on_subscription" : NULL, -1);
	db_bind_text(st, first + 11, s->pending_si, -1);
}

/* billing_mode's three columns; updated_at 0 stays unknown (a subscription made before the mode
 * was stored, shown without it) */
static void bind_mode(struct db_stmt *st, int first, const struct subscription *s,
		      int64_t updated_at)
{
	db_bind_text(st, first, s->flexible ? "flexible" : "classic", -1);
	db_bind_text(st, first + 1,
		     !s->flexible				  ? NULL
		     : str_eq(s->proration_discounts, "itemized") ? "itemized"
								  : "included",
		     -1);
	db_bind_int64_or_null(st, first + 2, updated_at);
}

/* SQL_INSERT's parameters (all 54: SQLite binds no gaps) */
static void bind_row(struct req *r, struct db_stmt *st, const struct subscription *s)
{
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, s->id, -1);
	db_bind_int64(st, 3, s->created);
	db_bind_int64(st, 4, s->version);
	db_bind_text(st, 5, s->customer, -1);
	db_bind_text(st, 6, s->status, -1);
	db_bind_text(st, 7, s->currency, -1);
	db_bind_text(st, 8, s->interval, -1);
	db_bind_int64(st, 9, s->interval_count);
	db_bind_int64(st, 10, s->anchor);
	db_bind_int64(st, 11, s->period_index);
	db_bind_int64(st, 12, s->period_start);
	db_bind_int64(st, 13, s->period_end);
	db_bind_int64(st, 14, s->start_date);
	db_bind_int64_or_null(st, 15, s->trial_start);
	db_bind_int64_or_null(st, 16, s->trial_end);
	db_bind_int64(st, 17, s->cancel_at_period_end ? 1 : 0);
	db_bind_int64_or_null(st, 18, s->canceled_at);
	db_bind_int64_or_null(st, 19, s->ended_at);
	db_bind_text(st, 20, s->cancellation_reason, -1);
	db_bind_text(st, 21, s->cancellation_comment, -1);
	db_bind_text(st, 22, s->cancellation_feedback, -1);
	db_bind_text(st, 23, s->default_payment_method, -1);
	db_bind_text(st, 24, s->description, -1);
	db_bind_text(st, 25, s->latest_invoice, -1);
	db_bind_text(st, 26, s->metadata, -1);
	db_bind_text(st, 27, s->test_clock, -1);
	db_bind_int64_or_null(st, 28, s->next_action_at);
	db_bind_text(st, 29, s->pause_behavior, -1);
	db_bind_int64_or_null(st, 30, s->pause_resumes_at);
	db_bind_text(st, 31, s->trial_missing_pm ? s->trial_missing_pm : "create_invoice", -1);
	db_bind_int64_or_null(st, 32, s->trial_notice_for);
	db_bind_int64_or_null(st, 33, s->paused_at);
	bind_collection(st, 34, s);
	db_bind_int64(st, 36, s->automatic_tax ? 1 : 0);
	db_bind_text(st, 37, s->payment_method_types, -1);
	db_bind_text(st, 38, s->anchor_config, -1);
	db_bind_text(st, 39, s->pmo_customer_balance, -1);
	bind_extras(st, 40, s);
	/* a new subscription takes its billing mode as it is made */
	bind_mode(st, 52, s, s->mode_updated_at ? s->mode_updated_at : s->created);
}

/* The step of invoice in that its subscription's scheduler step takes (0: none): a draft's
 * finalization, an open invoice's next attempt; an open send_invoice invoice's overdue notice
 * is the invoice's own step (invoice_advance_step, with the one-off invoices'). */
static int64_t sub_invoice_step(const struct invoice *in)
{
	if (invoice_sends(in) && !str_eq(in->status, "draft"))
		return 0;
	return invoice_next_step(in);
}

/* When s's pending invoice items are next invoiced by its pending_invoice_item_interval (0:
 * never: no interval, or a subscription that bills nothing more). */
static int64_t pending_interval_due(const struct subscription *s)
{
	bool live = str_eq(s->status, "active") || str_eq(s->status, "past_due") ||
		    str_eq(s->status, "trialing");
	return live && s->pending_interval ? s->next_pending_at : 0;
}

/* The first time after `from` that is a whole number of s's pending_invoice_item_intervals
 * after `since` (*ret; 0 without an interval). 0, or -1 (out of range). */
static int pending_interval_next(const struct subscription *s, int64_t since, int64_t from,
				 int64_t *ret)
{
	*ret = 0;
	if (!s->pending_interval)
		return 0;
	json_t *o = json_loads(s->pending_interval, 0, NULL);
	enum billing_interval iv;
	int64_t count = json_integer_value(json_object_get(o, "interval_count"));
	int bad = billing_interval_parse(json_string_value(json_object_get(o, "interval")), &iv);
	json_decref(o);
	if (bad || count < 1)
		return -1;
	return billing_next_after(since, iv, count, from, ret);
}

/* What the scheduler sees of s, given its latest invoice's next automatic attempt (0: none). */
static struct billing_state sub_state(const struct subscription *s, int64_t invoice_next_attempt)
{
	return (struct billing_state){
	    .status = s->status,
	    .created = s->created,
	    .period_end = s->period_end,
	    .trial_start = s->trial_start,
	    .trial_end = s->trial_end,
	    .cancel_at_period_end = s->cancel_at_period_end,
	    .cancel_at = s->cancel_at,
	    .invoice_next_attempt = invoice_next_attempt,
	    .pause_resumes_at = s->pause_behavior ? s->pause_resumes_at : 0,
	    .trial_notice_sent = s->trial_end && s->trial_notice_for == s->trial_end,
	    .period_start = s->period_start,
	    .upcoming_notice = !s->sends && !s->pause_behavior,
	    .upcoming_notice_for = s->upcoming_notice_for,
	};
}

/* When the scheduler next has something to do for s, given its latest invoice's next
 * automatic attempt (0: none). */
static void sub_schedule(struct subscription *s, int64_t invoice_next_attempt)
{
	struct billing_state b = sub_state(s, invoice_next_attempt);
	int64_t at;
	billing_next_action(&b, &at);
	/* a pending update is dropped at its expiry (subscription_step) */
	if (s->pending_expires_at && (!at || s->pending_expires_at < at))
		at = s->pending_expires_at;
	/* its pending invoice items are invoiced by pending_invoice_item_interval, not before
	 * the latest invoice's own step */
	int64_t pend = pending_interval_due(s);
	if (pend && pend < invoice_next_attempt)
		pend = invoice_next_attempt;
	if (pend && (!at || pend < at))
		at = pend;
	s->next_action_at = at;
}

/* Stores s where it is still at s->version (then bumps it): 0, or -1 with r->err (a
 * subscription changed meanwhile is an error: the caller's write is rolled back). */
static int sub_save(struct req *r, struct db *db, struct subscription *s)
{
	struct db_stmt *st = db_prepare(db, SQL_UPDATE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, s->id, -1);
	db_bind_int64(st, 3, s->version);
	db_bind_text(st, 4, s->status, -1);
	db_bind_int64(st, 5, s->period_index);
	db_bind_int64(st, 6, s->period_start);
	db_bind_int64(st, 7, s->period_end);
	db_bind_int64_or_null(st, 8, s->trial_start);
	db_bind_int64_or_null(st, 9, s->trial_end);
	db_bind_int64(st, 10, s->cancel_at_period_end ? 1 : 0);
	db_bind_int64_or_null(st, 11, s->canceled_at);
	db_bind_int64_or_null(st, 12, s->ended_at);
	db_bind_text(st, 13, s->cancellation_reason, -1);
	db_bind_text(st, 14, s->cancellation_comment, -1);
	db_bind_text(st, 15, s->cancellation_feedback, -1);
	db_bind_text(st, 16, s->default_payment_method, -1);
	db_bind_text(st, 17, s->description, -1);
	db_bind_text(st, 18, s->latest_invoice, -1);
	db_bind_text(st, 19, s->metadata, -1);
	db_bind_int64_or_null(st, 20, s->next_action_at);
	db_bind_text(st, 21, s->interval, -1);
	db_bind_int64(st, 22, s->interval_count);
	db_bind_int64(st, 23, s->anchor);
	db_bind_text(st, 24, s->pause_behavior, -1);
	db_bind_int64_or_null(st, 25, s->pause_resumes_at);
	db_bind_text(st, 26, s->trial_missing_pm ? s->trial_missing_pm : "create_invoice", -1);
	db_bind_int64_or_null(st, 27, s->trial_notice_for);
	db_bind_int64_or_null(st, 28, s->paused_at);
	bind_collection(st, 29, s);
	db_bind_int64(st, 31, s->automatic_tax ? 1 : 0);
	db_bind_text(st, 32, s->payment_method_types, -1);
	db_bind_text(st, 33, s->pmo_customer_balance, -1);
	bind_extras(st, 34, s);
	bind_mode(st, 46, s, s->mode_updated_at);
	db_bind_int64_or_null(st, 49, s->upcoming_notice_for);
	int64_t n;
	if (db_step_changes(st, &n) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (n != 1)
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"Subscription %s changed while this request ran; try again.",
				s->id);
	s->version++;
	return 0;
}

/* A cancellation's cancellation_details[comment, feedback] onto s ("" unsets). */
static void cancellation_details_apply(struct req *r, struct subscription *s)
{
	const char *comment = param_str(r, "cancellation_details.comment");
	if (comment)
		s->cancellation_comment = *comment ? comment : NULL;
	const char *fb = param_str(r, "cancellation_details.feedback");
	if (fb)
		s->cancellation_feedback = *fb ? fb : NULL;
}

/* A metered item (its price backed by a billing meter, or a legacy metered price billed from
 * the item's usage records): no quantity of its own, billed in arrears for the usage
 * aggregated over the period that ended. */
static bool item_metered(const struct sub_item *it)
{
	return it->pf.meter != NULL || (it->pf.usage_type && str_eq(it->pf.usage_type, "metered"));
}

/* Where metered item it's part of s's usage window begins: the window's start, or later when
 * the item came by a change during it (its usage counts from then). */
static int64_t item_usage_start(const struct subscription *s, const struct sub_item *it)
{
	int64_t start = it->usage_since > s->usage_start ? it->usage_since : s->usage_start;
	return s->usage_end && start > s->usage_end ? s->usage_end : start;
}

/* The quantity and amount of metered item it on an invoice of s: the usage of s's customer in
 * s's usage window (from when the item came, item_usage_start), meter_usage_quantity (a
 * negative total bills 0), priced by the price (unit_amount × quantity, or its tiers); 0 and 0
 * without a usage window (a first invoice, a trial's end) or when the item came at its end.
 * Every metered amount Tender bills comes from here: a period's line, a draft's refresh, a
 * final invoice's line, and the usage of an item a change removes. 0, or -1 with r->err. */
static int item_usage(struct req *r, struct db *db, const struct subscription *s,
		      const struct sub_item *it, int64_t *ret_quantity, int64_t *ret_amount)
{
	int64_t start = item_usage_start(s, it);
	if (!s->usage_end || start >= s->usage_end) {
		*ret_quantity = *ret_amount = 0;
		return 0;
	}
	int64_t q = 0;
	bool overflow = false;
	if (it->pf.meter) {
		struct meter_usage u;
		int rc = billing_meter_usage(db, r->merchant_id, it->pf.meter, s->customer, start,
					     s->usage_end, &u);
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		q = meter_usage_quantity(&u);
		overflow = u.overflow;
	} else { /* a legacy metered price: the item's usage records (usage_records.c) */
		int64_t end = s->usage_end + (s->usage_through_end ? 1 : 0);
		if (usage_records_total(db, r->merchant_id, it->id, it->pf.aggregate_usage, start,
					end, &q, &overflow) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	if (overflow || price_facts_amount(&it->pf, q, ret_amount) != 0 ||
	    *ret_amount > BILLING_AMOUNT_MAX)
		return req_fail(r, ERR_AMOUNT_TOO_LARGE, "items",
				"The usage of %s is too large to invoice.", it->price);
	*ret_quantity = q;
	return 0;
}

/* The terms of recurring price `price` an item can bill: a unit amount (integer or sub-cent
 * decimal) or tiers (licensed, metered with a billing meter, or metered from usage records).
 * 0, or -1 with r->err on `param`. */
static int item_price_check(struct req *r, const struct price_facts *pf, const char *price,
			    const char *param)
{
	if (!pf->has_unit_amount && !pf->tiers && !pf->unit_amount_decimal)
		return req_fail(r, ERR_PARAM_BAD, param,
				"Tender subscriptions take per-unit or tiered prices; %s is not "
				"one.",
				price);
	return 0;
}

/* One period of item it as a billing line: its unit amount × quantity, or a tiered or sub-cent
 * decimal price's whole amount (rounded once, billing/tiers.h) as one unit; one billing_total
 * refuses when it does not fit. */
static struct billing_line item_line(const struct sub_item *it)
{
	int64_t a;
	if (item_metered(it)) /* billed in arrears for its usage (item_usage), nothing ahead */
		return (struct billing_line){0, 1};
	if (!price_facts_lump(&it->pf))
		return (struct billing_line){it->pf.unit_amount, it->quantity};
	return (struct billing_line){price_facts_amount(&it->pf, it->quantity, &a) == 0 ? a : -1,
				     1};
}

/* ---- rendering ---- */

static void time_or_null(struct json *j, const char *key, int64_t t)
{
	if (t)
		json_kv_int(j, key, t);
	else
		json_kv_null(j, key);
}

/* The legacy `plan` a subscription item still shows: its price in the Plans API's shape. */
static void render_plan(const struct sub_item *it, struct json *j)
{
	const struct price_facts *p = &it->pf;
	json_obj_open(j);
	json_kv_str(j, "id", it->price);
	json_kv_str(j, "object", "plan");
	json_kv_bool(j, "active", p->active);
	json_kv_str_or_null(j, "aggregate_usage", p->aggregate_usage);
	if (p->tiers) { /* tiered: no amount of its own (its tiers are includable) */
		json_kv_null(j, "amount");
		json_kv_null(j, "amount_decimal");
	} else {
		if (p->has_unit_amount)
			json_kv_int(j, "amount", p->unit_amount);
		else /* a sub-cent decimal: only amount_decimal, as on Stripe */
			json_kv_null(j, "amount");
		json_kv_str(j, "amount_decimal",
			    p->unit_amount_decimal ? p->unit_amount_decimal : "0");
	}
	json_kv_str(j, "billing_scheme", p->tiers ? "tiered" : "per_unit");
	json_kv_int(j, "created", p->created);
	json_kv_str(j, "currency", p->currency);
	json_kv_str(j, "interval", p->interval);
	json_kv_int(j, "interval_count", p->interval_count);
	json_kv_bool(j, "livemode", false);
	json_kv_raw(j, "metadata", "{}", 2);
	json_kv_str_or_null(j, "meter", p->meter);
	json_kv_str_or_null(j, "nickname", p->nickname);
	json_kv_str_or_null(j, "product", p->product);
	json_kv_str_or_null(j, "tiers_mode",
			    !p->tiers			     ? NULL
			    : p->tiers->mode == TIERS_VOLUME ? "volume"
							     : "graduated");
	price_transform_render(j, "transform_usage", &p->transform);
	if (p->trial_period_days >= 0)
		json_kv_int(j, "trial_period_days", p->trial_period_days);
	else
		json_kv_null(j, "trial_period_days");
	json_kv_str(j, "usage_type", p->usage_type ? p->usage_type : "licensed");
	json_obj_close(j);
}

/* One of s's items, as the subscription_item object; prefix: where it sits in the answer, for
 * expand[] ("" at the top); NULL: nothing expanded (a previous_attributes' or pending copy). */
static int item_render(struct req *r, struct db *db, const struct subscription *s,
		       const struct sub_item *it, const char *prefix, struct json *j)
{
	json_obj_open(j);
	json_kv_str(j, "id", it->id);
	json_kv_str(j, "object", "subscription_item");
	json_kv_raw_or_null(j, "billing_thresholds", it->thresholds);
	json_kv_int(j, "created", it->created);
	json_kv_int(j, "current_period_end", s->period_end);
	json_kv_int(j, "current_period_start", s->period_start);
	/* its own discounts' ids (those of a subscription still to be made: none yet) */
	const char *ds = "[]";
	if (s->id[0] && subscription_item_discount_ids(r, db, it->id, &ds) != DB_OK)
		return -1;
	char path[128];
	snprintf(path, sizeof(path), "%sdiscounts", prefix ? prefix : "");
	json_key(j, "discounts");
	if (discounts_render_ids(r, db, ds, prefix && req_expand_has(r, path), j) != 0)
		return -1;
	json_kv_raw(j, "metadata", it->metadata ? it->metadata : "{}",
		    it->metadata ? strlen(it->metadata) : 2);
	json_key(j, "plan");
	render_plan(it, j);
	json_key(j, "price");
	if (price_render_id(r, db, it->price, j) != DB_OK)
		return -1;
	if (!item_metered(it)) /* Stripe's metered items show no quantity */
		json_kv_int(j, "quantity", it->quantity);
	json_kv_str(j, "subscription", s->id);
	json_key(j, "tax_rates");
	if (tax_links_render(r, db, it->id, j) != DB_OK)
		return -1;
	json_obj_close(j);
	return 0;
}

/* s's items as the list a subscription shows; prefix: the subscription's, as sub_render's (its
 * items are at <prefix>items.data.; NULL: nothing expanded). */
static int items_render(struct req *r, struct db *db, const struct subscription *s,
			const char *prefix, struct json *j)
{
	char inner[128];
	if (prefix)
		snprintf(inner, sizeof(inner), "%sitems.data.", prefix);
	json_obj_open(j);
	json_kv_str(j, "object", "list");
	json_key(j, "data");
	json_arr_open(j);
	for (int i = 0; i < s->n_items; i++)
		if (item_render(r, db, s, &s->items[i], prefix ? inner : NULL, j) != 0)
			return -1;
	json_arr_close(j);
	json_kv_bool(j, "has_more", false);
	json_kv_int(j, "total_count", s->n_items);
	char url[128];
	snprintf(url, sizeof(url), "/v1/subscription_items?subscription=%s", s->id);
	json_kv_str(j, "url", url);
	json_obj_close(j);
	return 0;
}

/* ---- pending updates ----
 *
 * payment_behavior=pending_if_incomplete on a change that makes an invoice to pay now (Stripe's
 * pending updates): the change is kept aside, not applied, until that invoice is paid. The
 * subscription's row keeps what it has (its items, period, status); pending_update holds the
 * subscription as the change makes it (its items, and for a new interval its period), as JSON,
 * pending_invoice the invoice (made and attempted as any change's, with the same lines; its
 * latest_invoice) and pending_expires_at its end, 23 hours after. The invoice's payment —
 * at once, by POST /v1/invoices/{id}/pay or after 3-D Secure — applies it in the payment's own
 * write (subscription_invoice_paid: customer.subscription.updated and
 * customer.subscription.pending_update_applied); a failed attempt changes nothing of the
 * subscription (no past_due: it cycles as if no update had been asked) and is not retried by
 * itself; at expires_at the scheduler drops it and voids its invoice if still open
 * (customer.subscription.pending_update_expired), and voiding that invoice by hand drops it too.
 * Only one pending update at a time: a change of items meanwhile is refused.
 */
#define PENDING_UPDATE_TTL_S (23 * 3600)

static const char SQL_PENDING_SET[] =
    "UPDATE subscriptions SET pending_update = $3, pending_invoice = $4, pending_expires_at = $5"
    " WHERE merchant_id = $1 AND id = $2";

/* Stores s's pending update fields (after sub_save, in the same write). 0, or -1 with r->err. */
static int pending_store(struct req *r, struct db *db, const struct subscription *s)
{
	struct db_stmt *st = db_prepare(db, SQL_PENDING_SET);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, s->id, -1);
	db_bind_text(st, 3, s->pending_update, -1);
	db_bind_text(st, 4, s->pending_invoice, -1);
	db_bind_int64_or_null(st, 5, s->pending_expires_at);
	return db_step_done(st) == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* The subscription p as a change makes it, as pending_update's JSON (NULL: out of memory). */
static const char *pending_json(struct req *r, const struct subscription *p, bool reset)
{
	struct buf b;
	struct json j;
	buf_init(&b, 256 * 1024);
	json_init(&j, &b);
	json_obj_open(&j);
	json_kv_bool(&j, "reset", reset);
	json_kv_int(&j, "anchor", p->anchor);
	json_kv_int(&j, "period_index", p->period_index);
	json_kv_int(&j, "period_start", p->period_start);
	json_kv_int(&j, "period_end", p->period_end);
	json_kv_str(&j, "interval", p->interval);
	json_kv_int(&j, "interval_count", p->interval_count);
	json_key(&j, "items");
	json_arr_open(&j);
	for (int i = 0; i < p->n_items; i++) {
		const struct sub_item *it = &p->items[i];
		json_obj_open(&j);
		json_kv_str(&j, "id", it->id);
		json_kv_str(&j, "price", it->price);
		json_kv_int(&j, "quantity", it->quantity);
		json_kv_int(&j, "created", it->created);
		json_kv_int(&j, "usage_start", it->usage_since);
		json_kv_str(&j, "metadata", it->metadata ? it->metadata : "{}");
		if (it->thresholds)
			json_kv_str(&j, "billing_thresholds", it->thresholds);
		json_obj_close(&j);
	}
	json_arr_close(&j);
	json_obj_close(&j);
	const char *out = b.failed ? NULL : arena_strndup(&r->arena, b.data, b.len);
	buf_release(&b);
	return out;
}

static int64_t pending_int(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

static const char *pending_str(struct req *r, json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));
	return v ? arena_strdup(&r->arena, v) : NULL;
}

/* s (its items loaded) as its pending update makes it, into *ret; ret_reset: the update starts
 * a new period. DB_OK, DB_NOTFOUND (none), or an error. */
static int pending_load(struct req *r, struct db *db, const struct subscription *s,
			struct subscription *ret, bool *ret_reset)
{
	if (!s->pending_update)
		return DB_NOTFOUND;
	json_t *root = json_loads(s->pending_update, 0, NULL);
	json_t *items = json_object_get(root, "items");
	if (!json_is_object(root) || !json_is_array(items) || json_array_size(items) == 0 ||
	    json_array_size(items) > SUB_ITEMS_MAX) {
		json_decref(root);
		return DB_ERR;
	}
	*ret = *s;
	*ret_reset = json_is_true(json_object_get(root, "reset"));
	ret->anchor = pending_int(root, "anchor");
	ret->period_index = pending_int(root, "period_index");
	ret->period_start = pending_int(root, "period_start");
	ret->period_end = pending_int(root, "period_end");
	const char *iv = json_string_value(json_object_get(root, "interval"));
	str_copy(ret->interval, sizeof(ret->interval), iv ? iv : s->interval);
	ret->interval_count = pending_int(root, "interval_count");
	ret->n_items = 0;
	int rc = DB_OK;
	for (size_t i = 0; rc == DB_OK && i < json_array_size(items); i++) {
		json_t *o = json_array_get(items, i);
		struct sub_item *it = &ret->items[ret->n_items++];
		memset(it, 0, sizeof(*it));
		const char *id = json_string_value(json_object_get(o, "id"));
		str_copy(it->id, sizeof(it->id), id ? id : "");
		it->price = pending_str(r, o, "price");
		it->metadata = pending_str(r, o, "metadata");
		it->quantity = pending_int(o, "quantity");
		it->created = pending_int(o, "created");
		it->usage_since = pending_int(o, "usage_start");
		it->thresholds = pending_str(r, o, "billing_thresholds");
		it->data = -1;
		if (!id || !it->price || !it->metadata)
			rc = DB_ERR;
		else if ((rc = price_facts_in(r, db, it->price, s->currency, &it->pf)) ==
			 DB_NOTFOUND)
			rc = DB_ERR;
	}
	json_decref(root);
	return rc;
}

/* pending_update as Stripe shows it (null: none). 0, or -1. */
static int pending_render(struct req *r, struct db *db, const struct subscription *s,
			  struct json *j)
{
	json_key(j, "pending_update");
	if (!s->pending_update) {
		json_nil(j);
		return 0;
	}
	struct subscription *p = arena_alloc(&r->arena, sizeof(*p));
	bool reset = false;
	if (!p || pending_load(r, db, s, p, &reset) != DB_OK)
		return -1;
	json_obj_open(j);
	if (reset)
		json_kv_int(j, "billing_cycle_anchor", p->anchor);
	else
		json_kv_null(j, "billing_cycle_anchor");
	json_kv_int(j, "expires_at", s->pending_expires_at);
	json_key(j, "subscription_items");
	json_arr_open(j);
	for (int i = 0; i < p->n_items; i++)
		if (item_render(r, db, p, &p->items[i], NULL, j) != 0)
			return -1;
	json_arr_close(j);
	json_kv_null(j, "trial_end");
	json_kv_null(j, "trial_from_plan");
	json_obj_close(j);
	return 0;
}

/* its own (its items' name it too, and are theirs) */
static const char SQL_LIVE_DISCOUNTS[] =
    "SELECT id FROM discounts WHERE merchant_id = $1 AND subscription = $2"
    " AND subscription_item IS NULL AND ended = 0 ORDER BY pos LIMIT $3";

/* The subscription's discounts (not ended), as the JSON array of their ids. */
static int sub_live_discount_ids(struct req *r, struct db *db, const char *sub, const char **ret)
{
	struct db_stmt *st = db_prepare(db, SQL_LIVE_DISCOUNTS);
	if (!st)
		return -1;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, sub, -1);
	db_bind_int64(st, 3, DISCOUNTS_MAX);
	struct buf b;
	struct json j;
	buf_init(&b, 64 * 1024);
	json_init(&j, &b);
	json_arr_open(&j);
	int rc;
	while ((rc = db_step(st)) == DB_ROW)
		json_str(&j, db_col_text(st, 0, NULL));
	db_reset(st);
	json_arr_close(&j);
	*ret = rc >= 0 && !b.failed ? arena_strndup(&r->arena, b.data, b.len) : NULL;
	buf_release(&b);
	return *ret ? 0 : -1;
}

/* prefix: where s sits in the answer, for expand[] ("" at the top); NULL: nothing expanded
 * (an event's object). */
/* billing_mode: {flexible: {proration_discounts} | null, type, updated_at}; updated_at only
 * when known (a subscription made before billing_mode was stored has none, as Stripe omits it) */
static void billing_mode_render(const struct subscription *s, struct json *j)
{
	json_key(j, "billing_mode");
	json_obj_open(j);
	if (s->flexible) {
		json_key(j, "flexible");
		json_obj_open(j);
		json_kv_str(j, "proration_discounts",
			    s->proration_discounts ? s->proration_discounts : "included");
		json_obj_close(j);
	} else {
		json_kv_null(j, "flexible");
	}
	json_kv_str(j, "type", s->flexible ? "flexible" : "classic");
	if (s->mode_updated_at)
		json_kv_int(j, "updated_at", s->mode_updated_at);
	json_obj_close(j);
}

static int sub_render(struct req *r, struct db *db, const struct subscription *s,
		      const char *prefix, struct json *j)
{
	json_obj_open(j);
	json_kv_str(j, "id", s->id);
	json_kv_str(j, "object", "subscription");
	json_kv_null(j, "application");
	if (s->fee_set) {
		char pct[16];
		billing_percent_format(s->fee_e4, pct, sizeof(pct));
		json_kv_raw(j, "application_fee_percent", pct, strlen(pct));
	} else {
		json_kv_null(j, "application_fee_percent");
	}
	json_key(j, "automatic_tax");
	json_obj_open(j);
	json_kv_null(j, "disabled_reason");
	json_kv_bool(j, "enabled", s->automatic_tax);
	if (s->automatic_tax) {
		json_key(j, "liability");
		json_obj_open(j);
		json_kv_str(j, "type", "self");
		json_obj_close(j);
	} else {
		json_kv_null(j, "liability");
	}
	json_obj_close(j);
	json_kv_int(j, "billing_cycle_anchor", s->anchor);
	if (s->anchor_config)
		json_kv_raw(j, "billing_cycle_anchor_config", s->anchor_config,
			    strlen(s->anchor_config));
	else
		json_kv_null(j, "billing_cycle_anchor_config");
	billing_mode_render(s, j);
	json_kv_raw_or_null(j, "billing_thresholds", s->billing_thresholds);
	/* cancel_at as set (kept once it canceled it, as Stripe shows it), or the period's end
	 * cancel_at_period_end will cancel it at */
	time_or_null(j, "cancel_at",
		     s->cancel_at						 ? s->cancel_at
		     : s->cancel_at_period_end && !str_eq(s->status, "canceled") ? s->period_end
										 : 0);
	json_kv_bool(j, "cancel_at_period_end", s->cancel_at_period_end);
	time_or_null(j, "canceled_at", s->canceled_at);
	json_key(j, "cancellation_details");
	json_obj_open(j);
	json_kv_str_or_null(j, "comment", s->cancellation_comment);
	json_kv_str_or_null(j, "feedback", s->cancellation_feedback);
	json_kv_str_or_null(j, "reason", s->cancellation_reason);
	json_obj_close(j);
	json_kv_str(j, "collection_method", s->sends ? "send_invoice" : "charge_automatically");
	json_kv_int(j, "created", s->created);
	json_kv_str(j, "currency", s->currency);
	char path[128];
	snprintf(path, sizeof(path), "%scustomer", prefix ? prefix : "");
	json_key(j, "customer");
	if (prefix && req_expand_has(r, path) &&
	    customer_render_by_id(r, db, s->customer, j) == DB_OK) {
		/* rendered */
	} else {
		json_str(j, s->customer);
	}
	json_kv_null(j, "customer_account");
	if (s->sends)
		json_kv_int(j, "days_until_due", s->days_until_due);
	else
		json_kv_null(j, "days_until_due");
	json_kv_str_or_null(j, "default_payment_method", s->default_payment_method);
	json_kv_str_or_null(j, "default_source", s->default_source);
	json_key(j, "default_tax_rates");
	if (tax_links_render(r, db, s->id, j) != DB_OK)
		return -1;
	json_kv_str_or_null(j, "description", s->description);
	json_key(j, "discounts");
	const char *dids;
	snprintf(path, sizeof(path), "%sdiscounts", prefix ? prefix : "");
	if (sub_live_discount_ids(r, db, s->id, &dids) != 0 ||
	    discounts_render_ids(r, db, dids, prefix && req_expand_has(r, path), j) != 0)
		return -1;
	time_or_null(j, "ended_at", s->ended_at);
	json_key(j, "invoice_settings");
	json_obj_open(j);
	json_key(j, "account_tax_ids");
	snprintf(path, sizeof(path), "%sinvoice_settings.account_tax_ids", prefix ? prefix : "");
	if (tax_ids_render_account(r, db, s->account_tax_ids, prefix && req_expand_has(r, path),
				   j) != DB_OK)
		return -1;
	json_key(j, "issuer");
	json_obj_open(j);
	json_kv_str(j, "type", "self");
	json_obj_close(j);
	json_obj_close(j);
	json_key(j, "items");
	if (items_render(r, db, s, prefix, j) != 0)
		return -1;
	json_key(j, "latest_invoice");
	snprintf(path, sizeof(path), "%slatest_invoice", prefix ? prefix : "");
	struct invoice in;
	if (s->latest_invoice && prefix && req_expand_has(r, path) &&
	    invoice_load(r, db, s->latest_invoice, &in) == DB_OK) {
		snprintf(path, sizeof(path), "%slatest_invoice.", prefix);
		invoice_render(r, db, &in, arena_strdup(&r->arena, path), j);
	} else {
		json_str_or_null(j, s->latest_invoice);
	}
	json_kv_bool(j, "livemode", false);
	json_kv_raw(j, "metadata", s->metadata, strlen(s->metadata));
	time_or_null(j, "next_pending_invoice_item_invoice", s->next_pending_at);
	json_kv_str_or_null(j, "on_behalf_of", s->on_behalf_of);
	json_key(j, "pause_collection");
	if (s->pause_behavior) {
		json_obj_open(j);
		json_kv_str(j, "behavior", s->pause_behavior);
		time_or_null(j, "resumes_at", s->pause_resumes_at);
		json_obj_close(j);
	} else {
		json_nil(j);
	}
	json_key(j, "payment_settings");
	json_obj_open(j);
	if (s->pmo_customer_balance) {
		/* its invoices' bank transfer (api/cash_balance.c); no other type's options */
		json_key(j, "payment_method_options");
		json_obj_open(j);
		json_kv_null(j, "acss_debit");
		json_kv_null(j, "bancontact");
		json_kv_null(j, "card");
		json_kv_raw(j, "customer_balance", s->pmo_customer_balance,
			    strlen(s->pmo_customer_balance));
		json_kv_null(j, "konbini");
		json_kv_null(j, "us_bank_account");
		json_obj_close(j);
	} else {
		json_kv_null(j, "payment_method_options");
	}
	if (s->payment_method_types)
		json_kv_raw(j, "payment_method_types", s->payment_method_types,
			    strlen(s->payment_method_types));
	else
		json_kv_null(j, "payment_method_types");
	json_kv_str(j, "save_default_payment_method",
		    s->save_default_pm ? "on_subscription" : "off");
	json_obj_close(j);
	json_kv_raw_or_null(j, "pending_invoice_item_interval", s->pending_interval);
	json_key(j, "pending_setup_intent");
	snprintf(path, sizeof(path), "%spending_setup_intent", prefix ? prefix : "");
	if (s->pending_si && prefix && req_expand_has(r, path)) {
		if (setup_intent_render_by_id(r, db, s->pending_si, j) != DB_OK)
			return -1;
	} else {
		json_str_or_null(j, s->pending_si);
	}
	if (pending_render(r, db, s, j) != 0)
		return -1;
	const char *sched;
	if (subscription_schedule_of(r, db, s->id, &sched) != 0)
		return -1;
	json_kv_str_or_null(j, "schedule", sched);
	json_kv_int(j, "start_date", s->start_date);
	json_kv_str(j, "status", s->status);
	if (str_eq(s->status, "paused")) {
		/* Stripe's API shows why and since when (only a trial that ended without a payment
		 * method pauses a Tender subscription) */
		json_key(j, "status_details");
		json_obj_open(j);
		json_key(j, "paused");
		json_obj_open(j);
		json_key(j, "subscription");
		json_obj_open(j);
		json_kv_str(j, "type", "trial_end_without_payment_method");
		json_obj_close(j);
		json_kv_int(j, "transitioned_at", s->paused_at);
		json_kv_str(j, "type", "subscription");
		json_obj_close(j);
		json_obj_close(j);
	}
	json_kv_str_or_null(j, "test_clock", s->test_clock);
	json_kv_raw_or_null(j, "transfer_data", s->transfer_data);
	time_or_null(j, "trial_end", s->trial_end);
	json_key(j, "trial_settings");
	json_obj_open(j);
	json_key(j, "end_behavior");
	json_obj_open(j);
	json_kv_null(j, "billing_cycle_anchor");
	json_kv_str(j, "missing_payment_method", s->trial_missing_pm);
	json_obj_close(j);
	json_obj_close(j);
	time_or_null(j, "trial_start", s->trial_start);
	json_obj_close(j);
	return 0;
}

/* Appends event `type` for s (its items loaded), with previous_attributes prev (or NULL). */
static int sub_emit(struct req *r, struct db *db, const struct subscription *s, const char *type,
		    const char *prev)
{
	struct buf b;
	struct json j;
	buf_init(&b, 4u << 20);
	json_init(&j, &b);
	int rc = sub_render(r, db, s, NULL, &j);
	if (rc == 0 && !b.failed) {
		struct event_origin o = {r->request_id[0] ? r->request_id : NULL,
					 r->idempotency_key, r->livemode};
		/* on a test clock, at the clock's time: its events sort with the clock's */
		int64_t now;
		rc = billing_now(r, db, s->test_clock, &now);
		if (rc == 0 && event_append(db, r->merchant_id, &o, type, s->id, b.data, b.len,
					    prev, now, NULL) != DB_OK)
			rc = -1;
		if (rc == 0 && entitlements_sync(db, r->merchant_id, s->customer, &o, now) != 0)
			rc = -1; /* the customer's entitlements follow its subscriptions' states */
	} else {
		rc = -1;
	}
	buf_release(&b);
	return rc == 0 ? 0 : r->err.set ? -1 : req_fail(r, ERR_API, NULL, NULL);
}

/* The answer: subscription `id` as it is now in this transaction. */
static int answer_sub(struct req *r, struct db *db, const char *id)
{
	struct subscription s;
	if (sub_load(r, db, id, true, &s) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	r->answer_event[0] = '\0';
	return sub_render(r, db, &s, "", req_json(r));
}

/* previous_attributes of a status change */
static const char *prev_status(struct req *r, const char *status)
{
	return arena_printf(&r->arena, "{\"status\":%s}", json_quote(r, status));
}

/* ---- invoices of a period ---- */

/* "2 × Pro plan (at 20.00 usd / month)"; a tiered price's "12 × Pro plan (tiered / month)";
 * a sub-cent price's "3 × Pro plan (at 0.0025 usd / month)"; a transformed price's (packs of
 * 10) "25 × Seats (at 10.00 usd per 10 / month)": the customer's quantity, as Stripe shows it
 * on the line, and the unit amount per pack it is billed by */
static const char *line_description(struct req *r, const struct sub_item *it, int64_t quantity,
				    bool trial)
{
	const char *name = it->pf.product_name ? it->pf.product_name : "";
	if (trial)
		return arena_printf(&r->arena, "Trial period for %s", name);
	if (it->pf.tiers)
		return arena_printf(&r->arena, "%lld × %s (tiered / %s)", (long long)quantity, name,
				    it->pf.interval);
	const char *per =
	    qty_transform_set(&it->pf.transform)
		? arena_printf(&r->arena, " per %lld", (long long)it->pf.transform.divide_by)
		: "";
	if (!per)
		per = "";
	const struct currency *cur = currency_find(it->pf.currency);
	int e = cur ? cur->exponent : 2;
	if (!it->pf.has_unit_amount) { /* sub-cent: its decimal, exactly, in major units */
		char major[48];
		if (tiers_decimal_major(it->pf.unit_amount_decimal, e, major, sizeof(major)) != 0)
			snprintf(major, sizeof(major), "%s", "?");
		return arena_printf(&r->arena, "%lld × %s (at %s %s%s / %s)", (long long)quantity,
				    name, major, it->pf.currency, per, it->pf.interval);
	}
	int64_t scale = e == 0 ? 1 : e == 3 ? 1000 : 100;
	int64_t a = it->pf.unit_amount;
	if (e == 0)
		return arena_printf(&r->arena, "%lld × %s (at %lld %s%s / %s)", (long long)quantity,
				    name, (long long)a, it->pf.currency, per, it->pf.interval);
	return arena_printf(&r->arena, "%lld × %s (at %lld.%0*lld %s%s / %s)", (long long)quantity,
			    name, (long long)(a / scale), e, (long long)(a % scale),
			    it->pf.currency, per, it->pf.interval);
}

/* The JSON array of the ids of the discounts subscription `sub`'s invoice at t takes. */
static int sub_discount_ids(struct req *r, struct db *db, const char *sub, int64_t t,
			    const char **ret)
{
	struct discount *ds = arena_alloc(&r->arena, DISCOUNTS_MAX * sizeof(*ds));
	int n = 0;
	if (!ds || subscription_discounts(r, db, sub, t, ds, &n) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	struct buf b;
	struct json j;
	buf_init(&b, 64 * 1024);
	json_init(&j, &b);
	json_arr_open(&j);
	for (int i = 0; i < n; i++)
		json_str(&j, ds[i].id);
	json_arr_close(&j);
	*ret = b.failed ? NULL : arena_strndup(&r->arena, b.data, b.len);
	buf_release(&b);
	return *ret ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* The discounts item it's lines take first, as a create or change asks them (resolved) or as
 * stored, at t (the start of the period it bills). DB_OK or < 0. */
static int item_own_discounts(struct req *r, struct db *db, const struct sub_item *it, int64_t t,
			      struct discount **ret, int *ret_n)
{
	if (it->dspec) {
		*ret = it->ds;
		*ret_n = it->n_ds;
		return DB_OK;
	}
	*ret_n = 0;
	*ret = arena_alloc(&r->arena, DISCOUNTS_MAX * sizeof(**ret));
	if (!*ret)
		return DB_ERR;
	/* an item a create or change is making has none stored */
	return subscription_item_discounts(r, db, it->id, t, *ret, ret_n);
}

/* The JSON array of the ids of item it's own discounts for its line (item_own_discounts'; those
 * made by the write: their ids), or NULL with r->err. */
static const char *item_discount_ids_json(struct req *r, struct db *db, const struct sub_item *it,
					  int64_t t)
{
	if (it->ds_ids)
		return it->ds_ids;
	struct discount *ds;
	int n = 0;
	if (item_own_discounts(r, db, it, t, &ds, &n) != DB_OK) {
		req_fail(r, ERR_API, NULL, NULL);
		return NULL;
	}
	if (n == 0)
		return "[]";
	struct buf b;
	struct json j;
	buf_init(&b, 4096);
	json_init(&j, &b);
	json_arr_open(&j);
	for (int i = 0; i < n; i++)
		json_str(&j, ds[i].id);
	json_arr_close(&j);
	const char *out = b.failed ? NULL : arena_strndup(&r->arena, b.data, b.len);
	buf_release(&b);
	if (!out)
		req_fail(r, ERR_API, NULL, NULL);
	return out;
}

/* The JSON array of s's first n_lines lines for its period (s->period_start … period_end) on
 * invoice `invoice` at t, line i of amounts[i] (trial: the trial's lines), each with
 * "discount_amounts":[] (what discounts take is filled in when it is rendered); NULL when out of
 * memory. A preview's lines (tmp_ids) are stored nowhere: their ids, il_tmp_ and their item's,
 * are the same on every preview, so that its lines page. */
static const char *period_lines_json(struct req *r, struct db *db, const struct subscription *s,
				     int64_t t, const char *invoice, bool trial,
				     const int64_t *amounts, const int64_t *quantities, int n_lines,
				     bool tmp_ids)
{
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 20);
	json_init(&j, &b);
	json_arr_open(&j);
	bool bad = false;
	for (int i = 0; i < n_lines; i++) {
		const struct sub_item *it = &s->items[i];
		int64_t qty = quantities[i];
		/* a metered item's usage line is for the window it bills (in arrears) */
		bool arrears = item_metered(it) && s->usage_end;
		char lid[ID_MAX + 8];
		if (tmp_ids)
			snprintf(lid, sizeof(lid), "il_tmp_%s", it->id + 3);
		else
			id_new_at(lid, "il_", t);
		json_obj_open(&j);
		json_kv_str(&j, "id", lid);
		json_kv_str(&j, "object", "line_item");
		json_kv_int(&j, "amount", amounts[i]);
		json_kv_str(&j, "currency", s->currency);
		json_kv_str(&j, "description", line_description(r, it, qty, trial));
		json_kv_raw(&j, "discount_amounts", "[]", 2);
		json_kv_bool(&j, "discountable", true);
		/* its item's own discounts (stored_lines in discounts.c takes them from here) */
		const char *own = item_discount_ids_json(r, db, it, s->period_start);
		if (!own) {
			bad = true;
			break;
		}
		json_kv_raw(&j, "discounts", own, strlen(own));
		json_kv_str(&j, "invoice", invoice);
		json_kv_bool(&j, "livemode", false);
		json_kv_raw(&j, "metadata", "{}", 2);
		json_key(&j, "parent");
		json_obj_open(&j);
		json_kv_null(&j, "invoice_item_details");
		json_key(&j, "subscription_item_details");
		json_obj_open(&j);
		json_kv_null(&j, "invoice_item");
		json_kv_bool(&j, "proration", false);
		json_key(&j, "proration_details");
		json_obj_open(&j);
		json_kv_null(&j, "credited_items");
		json_obj_close(&j);
		/* a preview of a subscription still to be made (subscription_new_preview, its id
		 * ""): neither it nor its items exist */
		json_kv_str_or_null(&j, "subscription", s->id[0] ? s->id : NULL);
		json_kv_str_or_null(&j, "subscription_item", s->id[0] ? it->id : NULL);
		json_obj_close(&j);
		json_kv_str(&j, "type", "subscription_item_details");
		json_obj_close(&j);
		json_key(&j, "period");
		json_obj_open(&j);
		json_kv_int(&j, "end", arrears ? s->usage_end : s->period_end);
		json_kv_int(&j, "start", arrears ? item_usage_start(s, it) : s->period_start);
		json_obj_close(&j);
		json_kv_raw(&j, "pretax_credit_amounts", "[]", 2);
		json_key(&j, "pricing");
		json_obj_open(&j);
		json_key(&j, "price_details");
		json_obj_open(&j);
		json_kv_str(&j, "price", it->price);
		json_kv_str_or_null(&j, "product", it->pf.product);
		json_obj_close(&j);
		json_kv_str(&j, "type", "price_details");
		char tiered_unit[40]; /* a tiered price's: the line's amount / quantity */
		if (it->pf.tiers &&
		    tiers_unit_decimal(amounts[i], qty, tiered_unit, sizeof(tiered_unit)))
			snprintf(tiered_unit, sizeof(tiered_unit), "0");
		json_kv_str(&j, "unit_amount_decimal",
			    trial ? "0"
			    : it->pf.tiers
				? tiered_unit
				: (it->pf.unit_amount_decimal ? it->pf.unit_amount_decimal : "0"));
		json_obj_close(&j);
		json_kv_int(&j, "quantity", qty);
		json_kv_str_or_null(&j, "subscription", s->id[0] ? s->id : NULL);
		json_kv_int(&j, "subtotal", amounts[i]);
		json_kv_raw(&j, "taxes", "[]", 2);
		json_obj_close(&j);
	}
	json_arr_close(&j);
	const char *lines = b.failed || bad ? NULL : arena_strndup(&r->arena, b.data, b.len);
	buf_release(&b);
	return lines;
}

/* The invoice of s's current period (s->period_start … period_end) at time t, before its
 * discounts (reads only; a preview's too): its lines (trial: at 0), total, number; its id is `id`
 * (chosen by the caller, so that the intent paying it can name it). 0, or -1 with r->err. */
static int period_invoice_build(struct req *r, struct db *db, const struct subscription *s,
				int64_t t, const char *id, const char *reason, int trial,
				int64_t extra, bool preview, struct invoice *in)
{
	struct billing_line lines[SUB_ITEMS_MAX];
	int64_t amounts[SUB_ITEMS_MAX], quantities[SUB_ITEMS_MAX];
	/* trial < 0: an invoice of invoice items only (a change's prorations), no period lines */
	int n_lines = trial < 0 ? 0 : s->n_items;
	for (int i = 0; i < n_lines; i++) {
		const struct sub_item *it = &s->items[i];
		quantities[i] = it->quantity;
		if (item_metered(it)) {
			/* its usage's amount as one line (0 during a trial, as Stripe bills it) */
			int64_t a = 0;
			if (trial <= 0 && item_usage(r, db, s, it, &quantities[i], &a) != 0)
				return -1;
			lines[i] = (struct billing_line){trial > 0 ? 0 : a, 1};
		} else {
			lines[i] =
			    trial > 0 ? (struct billing_line){0, it->quantity} : item_line(it);
		}
	}
	int64_t total;
	bool bad = billing_total(lines, n_lines, amounts, &total) != 0;
	if (!bad && s->partial && trial <= 0) {
		/* a first period up to a future anchor: each line its share of a full one */
		total = 0;
		for (int i = 0; !bad && i < n_lines; i++)
			bad = partial_amount(s, amounts[i], &amounts[i]) != 0 ||
			      __builtin_add_overflow(total, amounts[i], &total);
	}
	/* extra: the invoice items it takes (claimed by the caller), a credit when negative */
	if (bad || __builtin_add_overflow(total, extra, &total) || total > BILLING_AMOUNT_MAX ||
	    total < -BILLING_AMOUNT_MAX)
		return req_fail(r, ERR_AMOUNT_TOO_LARGE, "items",
				"The subscription's invoice adds up to more than %lld.",
				(long long)BILLING_AMOUNT_MAX);
	memset(in, 0, sizeof(*in));
	str_copy(in->id, sizeof(in->id), id);
	in->created = t;
	in->version = 1;
	in->customer = s->customer;
	in->subscription = s->id;
	in->automatic_tax = s->automatic_tax;
	in->payment_method_types = s->payment_method_types;
	in->pmo_customer_balance = s->pmo_customer_balance;
	in->status = "open";
	in->billing_reason = reason;
	str_copy(in->currency, sizeof(in->currency), s->currency);
	in->subtotal = in->total = total;
	in->auto_advance = true;
	/* Stripe's invoice period is when its invoice items could be added: a first invoice has
	 * none before it (its moment); a renewal's is the period that ended (its caller sets it) */
	in->period_start = s->period_start;
	in->period_end = s->period_end;
	if (str_eq(reason, "subscription_create"))
		in->period_start = in->period_end = t;
	in->metadata = "{}";
	in->test_clock = s->test_clock;
	in->finalized_at = t;
	/* its invoice_settings[account_tax_ids], as the invoice's own (invoice_settings.c) */
	if (s->account_tax_ids && !(in->settings = arena_printf(
					&r->arena, "{\"account_tax_ids\":%s}", s->account_tax_ids)))
		return req_fail(r, ERR_API, NULL, NULL);
	/* the subscription's collection method as it is now: the invoice keeps it */
	in->collection_method = s->sends ? "send_invoice" : "charge_automatically";
	in->has_days_until_due = s->sends;
	in->days_until_due = s->sends ? s->days_until_due : 0;
	struct billing_customer cf;
	if (billing_customer_get(r, db, s->customer, &cf) != DB_OK ||
	    invoice_number_next(r, db, s->customer, &in->number) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	in->customer_email = cf.email;
	in->customer_name = cf.name;
	in->lines = period_lines_json(r, db, s, t, in->id, trial > 0, amounts, quantities, n_lines,
				      preview);
	return in->lines ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* The invoice of s's current period (s->period_start … period_end) at time t, inside its write:
 * period_invoice_build's, then what its discounts take. 0, or -1 with r->err. */
static int invoice_for_period(struct req *r, struct db *db, const struct subscription *s, int64_t t,
			      const char *id, const char *reason, int trial, int64_t extra,
			      struct invoice *in)
{
	if (period_invoice_build(r, db, s, t, id, reason, trial, extra, false, in) != 0)
		return -1;
	/* the subscription's discounts at t (those that ran out end now), then what they take:
	 * the total is the lines less the discounts (discounts.c); a `once` one is used up */
	/* its default_tax_rates are the subscription's as they are now (tax_rates.c) */
	if (subscription_discounts_expire(r, db, s->id, t) != 0 ||
	    sub_discount_ids(r, db, s->id, t, &in->discounts) != 0 ||
	    tax_links_copy(r, db, s->id, in->id) != 0 || invoice_discounts_apply(r, db, in) != 0 ||
	    invoice_discounts_used(r, db, in, t) != 0)
		return -1;
	return 0;
}

/* Stores invoice in, finalized with the customer's balance applied (invoice_balance_apply;
 * planned_due: its amount due as computed before the write, which it must still be), and
 * appends invoice.created and invoice.finalized; one with nothing due is paid at once
 * (invoice.paid, invoice.payment_succeeded), as Stripe pays a trial's; one below zero too, its
 * credit gone to the customer's balance. */
static int invoice_store(struct req *r, struct db *db, struct invoice *in, int64_t planned_due)
{
	/* its hosted page; a send_invoice one's due date and overdue notice (invoices.c) */
	if (invoice_finalize_terms(r, in, in->finalized_at) != 0 ||
	    invoice_balance_apply(r, db, in, planned_due) != 0)
		return -1;
	/* too small to charge: paid, the amount on the customer's balance (invoices.c) */
	bool zero = in->amount_due <= 0 || in->too_small;
	if (zero) {
		in->status = "paid";
		in->paid_at = in->finalized_at;
		in->auto_advance = false;
		in->next_payment_attempt = 0;
	}
	if (invoice_insert(r, db, in) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (invoice_emit(r, db, in, "invoice.created") != 0 ||
	    invoice_emit(r, db, in, "invoice.finalized") != 0)
		return -1;
	if (zero && (invoice_emit(r, db, in, "invoice.paid") != 0 ||
		     invoice_emit(r, db, in, "invoice.payment_succeeded") != 0))
		return -1;
	return 0;
}

/* Stores the invoice of a period whose collection is paused (pause_collection[behavior]):
 * made, as every period's invoice is, but not charged. keep_as_draft leaves it a draft (no
 * number, auto_advance false: the merchant finalizes and collects it later), void finalizes
 * and voids it, mark_uncollectible finalizes it and writes it off; each with the events
 * Stripe sends on the way. Nothing to collect (a total of 0 or below, or a total the customer's
 * balance pays) is paid as usual. A finalized one takes the customer's balance, as every
 * finalized invoice does; voided, it gives it back. */
static int invoice_store_paused(struct req *r, struct db *db, struct invoice *in,
				const char *behavior, int64_t planned_due)
{
	if (!behavior || in->total <= 0)
		return invoice_store(r, db, in, planned_due);
	in->auto_advance = false;
	if (str_eq(behavior, "keep_as_draft")) {
		in->status = "draft";
		in->finalized_at = 0;
		in->number = NULL; /* numbered when finalized */
		if (invoice_insert(r, db, in) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		return invoice_emit(r, db, in, "invoice.created");
	}
	if (invoice_balance_apply(r, db, in, planned_due) != 0)
		return -1;
	if (in->amount_due <= 0 || in->too_small)
		return invoice_store(r, db, in, planned_due); /* applied once: the same again */
	if (invoice_finalize_terms(r, in, in->finalized_at) != 0)
		return -1;
	if (invoice_insert(r, db, in) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (invoice_emit(r, db, in, "invoice.created") != 0 ||
	    invoice_emit(r, db, in, "invoice.finalized") != 0)
		return -1;
	bool voided = str_eq(behavior, "void");
	in->status = voided ? "void" : "uncollectible";
	in->next_payment_attempt = 0; /* a send_invoice one's overdue notice too */
	if (voided)
		in->voided_at = in->finalized_at;
	else
		in->marked_uncollectible_at = in->finalized_at;
	if (invoice_update(r, db, in) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (voided && invoice_balance_return(r, db, in) != 0)
		return -1;
	return invoice_emit(r, db, in, voided ? "invoice.voided" : "invoice.marked_uncollectible");
}

/* ---- the subscription's side of its invoices' outcomes ---- */

static int load_for_invoice(struct req *r, struct db *db, const struct invoice *in,
			    struct subscription *s)
{
	if (!in->subscription)
		return 1;
	int rc = sub_load(r, db, in->subscription, true, s);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* an older invoice of it changes nothing of the subscription */
	return str_eq(s->latest_invoice, in->id) ? 0 : 1;
}

static const char SQL_ITEMS_DELETE[] =
    "DELETE FROM subscription_items WHERE merchant_id = $1 AND subscription = $2";

/* Is in the invoice of s's pending update? */
static bool pending_of(const struct subscription *s, const struct invoice *in)
{
	return s->pending_update && s->pending_invoice && str_eq(s->pending_invoice, in->id);
}

/* s's pending update applied to s (its items rewritten; s itself is saved by the caller, then
 * pending_store): what it changed as previous_attributes (with the status it had, `was`, if
 * that changes too) into *ret_prev. 0, or -1 with r->err. */
static int pending_apply(struct req *r, struct db *db, struct subscription *s,
			 const char **ret_prev)
{
	struct subscription *p = arena_alloc(&r->arena, sizeof(*p));
	bool reset = false;
	if (!p || pending_load(r, db, s, p, &reset) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	struct buf pb;
	struct json pj;
	buf_init(&pb, 1u << 20);
	json_init(&pj, &pb);
	json_obj_open(&pj);
	json_key(&pj, "items");
	int rc = items_render(r, db, s, NULL, &pj);
	if (reset)
		json_kv_int(&pj, "billing_cycle_anchor", s->anchor);
	json_obj_close(&pj);
	const char *prev = rc == 0 && !pb.failed ? arena_strndup(&r->arena, pb.data, pb.len) : NULL;
	buf_release(&pb);
	if (!prev)
		return req_fail(r, ERR_API, NULL, NULL);
	struct db_stmt *st = db_prepare(db, SQL_ITEMS_DELETE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, s->id, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	const char *status = s->status;
	*s = *p; /* a copy of s with the update's items and period */
	s->status = status;
	s->pending_update = s->pending_invoice = NULL;
	s->pending_expires_at = 0;
	if (items_insert(r, db, s) != 0)
		return -1;
	*ret_prev = prev;
	return 0;
}

/* previous_attributes prev (an object) with "status": was added */
static const char *prev_with_status(struct req *r, const char *prev, const char *was)
{
	size_t n = strlen(prev);
	if (n < 2)
		return prev;
	return arena_printf(&r->arena, "%.*s%s\"status\":\"%s\"}", (int)(n - 1), prev,
			    n > 2 ? "," : "", was);
}

/* previous_attributes prev (an object, or NULL: none yet) with "key": raw added */
static const char *prev_with(struct req *r, const char *prev, const char *key, const char *raw)
{
	size_t n = prev ? strlen(prev) : 0;
	if (n < 2)
		return arena_printf(&r->arena, "{\"%s\":%s}", key, raw);
	return arena_printf(&r->arena, "%.*s%s\"%s\":%s}", (int)(n - 1), prev, n > 2 ? "," : "",
			    key, raw);
}

/* The PaymentMethod pm that paid or set up s becomes its default_payment_method when s saves
 * it (payment_settings[save_default_payment_method]=on_subscription), as on Stripe: the value
 * it replaced as JSON, for previous_attributes, or NULL when nothing changed. */
static const char *save_default_pm(struct req *r, struct subscription *s, const char *pm)
{
	if (!s->save_default_pm || !pm || !*pm || str_eq(pm, s->default_payment_method))
		return NULL;
	const char *was =
	    s->default_payment_method ? json_quote(r, s->default_payment_method) : "null";
	s->default_payment_method = pm;
	return was;
}

int subscription_invoice_paid(struct req *r, struct db *db, const struct invoice *in)
{
	return subscription_invoice_paid_by(r, db, in, NULL);
}

int subscription_invoice_paid_by(struct req *r, struct db *db, const struct invoice *in,
				 const char *pm)
{
	struct subscription s;
	if (!in->subscription)
		return 0;
	if (sub_load(r, db, in->subscription, true, &s) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	bool pending = pending_of(&s, in);
	/* an older invoice of it changes nothing of the subscription */
	if (!pending && !str_eq(s.latest_invoice, in->id))
		return 0;
	const char *pprev = NULL;
	if (pending && (str_eq(s.status, "canceled") || str_eq(s.status, "incomplete_expired"))) {
		/* ended meanwhile: nothing left to apply it to */
		s.pending_update = s.pending_invoice = NULL;
		s.pending_expires_at = 0;
		return sub_save(r, db, &s) == 0 && pending_store(r, db, &s) == 0 ? 0 : -1;
	}
	if (pending && pending_apply(r, db, &s, &pprev) != 0)
		return -1;
	const char *was = s.status;
	if (str_eq(was, "incomplete") || str_eq(was, "past_due") || str_eq(was, "unpaid") ||
	    str_eq(was, "paused"))
		s.status = "active";
	/* a trial's first invoice (its add_invoice_items) paid: the trial goes on */
	if (str_eq(was, "incomplete") && s.trial_end && s.period_index <= 0 &&
	    s.period_end == s.trial_end)
		s.status = "trialing";
	/* a paused one's latest invoice is its resumption invoice (resume_on_payment_success):
	 * paid, it resumes */
	if (str_eq(was, "paused"))
		s.paused_at = 0;
	const char *pm_was = save_default_pm(r, &s, pm);
	sub_schedule(&s, 0);
	if (sub_save(r, db, &s) != 0 || (pending && pending_store(r, db, &s) != 0))
		return -1;
	if (pending) {
		const char *prev = s.status != was ? prev_with_status(r, pprev, was) : pprev;
		if (prev && pm_was)
			prev = prev_with(r, prev, "default_payment_method", pm_was);
		if (!prev || sub_emit(r, db, &s, "customer.subscription.updated", prev) != 0 ||
		    sub_emit(r, db, &s, "customer.subscription.pending_update_applied", NULL) != 0)
			return -1;
	} else if (s.status != was || pm_was) {
		/* one event for both: the status and the default payment method it saved */
		const char *prev = s.status != was ? prev_status(r, was) : NULL;
		if (pm_was)
			prev = prev_with(r, prev, "default_payment_method", pm_was);
		if (!prev || sub_emit(r, db, &s, "customer.subscription.updated", prev) != 0)
			return -1;
	}
	return str_eq(was, "paused") ? sub_emit(r, db, &s, "customer.subscription.resumed", NULL)
				     : 0;
}

static const char SQL_BY_PENDING_SI[] =
    "SELECT id FROM subscriptions WHERE merchant_id = $1 AND pending_setup_intent = $2"
    " LIMIT 1";

int subscription_setup_succeeded(struct req *r, struct db *db, const char *si_id, const char *pm)
{
	struct db_stmt *st = db_prepare(db, SQL_BY_PENDING_SI);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, si_id, -1);
	int rc = db_step(st);
	const char *id = rc == DB_ROW ? col_text_dup(&r->arena, st, 0) : NULL;
	db_reset(st);
	if (rc == DB_DONE)
		return 0;
	struct subscription s;
	if (!id || sub_load(r, db, id, true, &s) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* set up: the subscription no longer waits on it (Stripe's pending_setup_intent goes
	 * back to null), and may save its payment method for the payments to come */
	const char *prev = prev_with(r, NULL, "pending_setup_intent", json_quote(r, si_id));
	s.pending_si = NULL;
	const char *pm_was = save_default_pm(r, &s, pm);
	if (pm_was)
		prev = prev_with(r, prev, "default_payment_method", pm_was);
	if (!prev)
		return req_fail(r, ERR_API, NULL, NULL);
	if (sub_save(r, db, &s) != 0)
		return -1;
	return sub_emit(r, db, &s, "customer.subscription.updated", prev);
}

int subscription_invoice_failed(struct req *r, struct db *db, const struct invoice *in,
				bool give_up)
{
	struct subscription s;
	int rc = load_for_invoice(r, db, in, &s);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	if (pending_of(&s, in)) {
		/* a failed attempt leaves the subscription as it was; the invoice voided (or
		 * written off) drops the pending update */
		if (!str_eq(in->status, "void") && !str_eq(in->status, "uncollectible"))
			return 0;
		struct buf pb;
		struct json pj;
		buf_init(&pb, 1u << 20);
		json_init(&pj, &pb);
		json_obj_open(&pj);
		rc = pending_render(r, db, &s, &pj);
		json_obj_close(&pj);
		const char *prev =
		    rc == 0 && !pb.failed ? arena_strndup(&r->arena, pb.data, pb.len) : NULL;
		buf_release(&pb);
		if (!prev)
			return req_fail(r, ERR_API, NULL, NULL);
		s.pending_update = s.pending_invoice = NULL;
		s.pending_expires_at = 0;
		sub_schedule(&s, 0);
		if (sub_save(r, db, &s) != 0 || pending_store(r, db, &s) != 0)
			return -1;
		return sub_emit(r, db, &s, "customer.subscription.updated", prev);
	}
	const char *was = s.status;
	bool live = str_eq(was, "active") || str_eq(was, "past_due") || str_eq(was, "unpaid");
	const char *type = "customer.subscription.updated";
	bool resumed = false;
	if (str_eq(in->status, "uncollectible") && str_eq(was, "paused")) {
		/* a resumption invoice written off: Stripe resumes the subscription */
		s.status = "active";
		s.paused_at = 0;
		resumed = true;
	} else if (str_eq(in->status, "void") || str_eq(in->status, "uncollectible")) {
		/* retries stop; the status stays */
	} else if (invoice_sends(in)) {
		/* the customer's own attempt failed (the hosted page): the status stays until the
		 * invoice is overdue (subscription_invoice_overdue) */
	} else if (give_up && live) {
		int64_t now;
		if (billing_now(r, db, s.test_clock, &now) != 0)
			return -1;
		s.status = "canceled";
		s.canceled_at = s.ended_at = now;
		s.cancellation_reason = "payment_failed";
		type = "customer.subscription.deleted";
		if (subscription_schedule_sub_ended(r, db, s.id, "payment_failed", now) != 0)
			return -1;
	} else if (str_eq(was, "active") &&
		   (!str_eq(in->billing_reason, "subscription_create") || in->debit_returned)) {
		s.status = "past_due";
	}
	sub_schedule(&s, invoice_sends(in) ? 0 : in->next_payment_attempt);
	if (sub_save(r, db, &s) != 0)
		return -1;
	if (s.status != was && sub_emit(r, db, &s, type, prev_status(r, was)) != 0)
		return -1;
	return resumed ? sub_emit(r, db, &s, "customer.subscription.resumed", NULL) : 0;
}

/* Decision (Stripe's default subscription settings): a send_invoice subscription whose latest
 * invoice is still open past its due date is past_due (from active); it stays so, renewing as
 * usual, until that invoice is paid (active again) — it is not canceled or made unpaid by
 * itself. An older invoice overdue changes nothing of the subscription (it is not the one its
 * status follows, as for retries). */
int subscription_invoice_overdue(struct req *r, struct db *db, const struct invoice *in)
{
	struct subscription s;
	int rc = load_for_invoice(r, db, in, &s);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	if (!str_eq(s.status, "active"))
		return 0;
	s.status = "past_due";
	sub_schedule(&s, 0);
	if (sub_save(r, db, &s) != 0)
		return -1;
	return sub_emit(r, db, &s, "customer.subscription.updated", prev_status(r, "active"));
}

/* ---- an invoice's total before its write ----
 *
 * A payment is authorized before the write that records it, so an invoice's total (what its
 * PaymentIntent asks for) is computed first, over the lines the invoice will have, in the order
 * it will have them (its invoice items by id, then the period's lines): the same discounts
 * computation then gives the same total inside the write, which checks that it did. */

/* s's period lines as discounts see them (trial: at 0), into out (s->n_items entries). 0, or -1
 * with r->err. */
static int period_inv_lines(struct req *r, struct db *db, const struct subscription *s, bool trial,
			    struct inv_line *out)
{
	for (int i = 0; i < s->n_items; i++) {
		struct inv_line *l = &out[i];
		memset(l, 0, sizeof(*l));
		l->discountable = true;
		l->product = s->items[i].pf.product;
		/* its item's own discounts, before the invoice's */
		if (item_own_discounts(r, db, &s->items[i], s->period_start, &l->own, &l->n_own) !=
		    DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		/* the item's own tax rates (else the subscription's defaults, given after) */
		if (invoice_line_tax_own(r, db, s->items[i].id, s->items[i].tax, l) != 0)
			return req_fail(r, ERR_API, NULL, NULL);
		int64_t q;
		if (!trial && item_metered(&s->items[i])) {
			if (item_usage(r, db, s, &s->items[i], &q, &l->amount) != 0)
				return -1;
		} else if (!trial && (price_facts_amount(&s->items[i].pf, s->items[i].quantity,
							 &l->amount) != 0 ||
				      partial_amount(s, l->amount, &l->amount) != 0)) {
			return req_fail(r, ERR_AMOUNT_TOO_LARGE, "items",
					"The invoice is too large.");
		}
	}
	return 0;
}

struct add_items;
static int add_items_lines(struct req *r, struct db *db, const struct add_items *a,
			   const struct invoice_item *ii, struct inv_line *lines, int n);

/* The price of planned line i of lines (n_items invoice items first, then the period's): its
 * proration's (pr) or pending item's, else its subscription item's; NULL: none. */
static int planned_prices(struct req *r, struct db *db, const struct subscription *s,
			  const struct inv_line *lines, int n, int n_items,
			  const struct invoice_item *pr, int n_pr, const char **ret)
{
	for (int i = 0; i < n; i++) {
		ret[i] = NULL;
		if (i >= n_items) {
			ret[i] = s->items[i - n_items].price;
			continue;
		}
		/* an item's line has the item's id with il_ for ii_ */
		const struct invoice_item *found = NULL;
		for (int k = 0; k < n_pr && !found; k++)
			if (strcmp(pr[k].id + 3, lines[i].id + 3) == 0)
				found = &pr[k];
		if (found) {
			ret[i] = found->price;
			continue;
		}
		char id[ID_MAX];
		snprintf(id, sizeof(id), "ii_%s", lines[i].id + 3);
		struct invoice_item ii;
		if (invoice_item_load(r, db, id, &ii) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		ret[i] = ii.price;
	}
	return 0;
}

/* The total of the invoice s makes at t: the pending items p, the prorations pr (not stored
 * yet; add_invoice_items among them: add, built as add_ii, or NULL), and the period's lines
 * (period: at their price, or 0 for a trial's; else none), less discounts ds. ret_credited
 * (NULL: not wanted): what the customer's billing credits in effect at credits_at will take off
 * that total when it is finalized (invoice_credits_apply: the credits and the taxes they spare),
 * for its amount due. 0, or -1 with r->err. */
static int planned_total(struct req *r, struct db *db, const struct subscription *s, bool period,
			 bool trial, const struct pending_items *p, const struct invoice_item *pr,
			 int n_pr, const struct add_items *add, const struct invoice_item *add_ii,
			 const struct discount *ds, int n_ds, int64_t credits_at,
			 int64_t *ret_total, int64_t *ret_credited)
{
	struct inv_line pl[SUB_ITEMS_MAX];
	int n_period = period ? s->n_items : 0;
	struct inv_line *lines;
	int n;
	if ((period && period_inv_lines(r, db, s, trial, pl) != 0) ||
	    invoice_lines_plan(r, db, p, pr, n_pr, pl, n_period, &lines, &n) != 0 ||
	    add_items_lines(r, db, add, add_ii, lines, n) != 0 ||
	    invoice_lines_tax_defaults(r, db, s->id, s->default_tax, lines, n) != 0 ||
	    (s->automatic_tax && invoice_lines_auto_tax_at(r, db, s->customer, s->auto_tax_address,
							   r->now, lines, n, NULL) != 0))
		return -1;
	int64_t subtotal;
	int64_t *left = arena_alloc(&r->arena, (size_t)(n ? n : 1) * sizeof(int64_t));
	if (!left)
		return req_fail(r, ERR_API, NULL, NULL);
	if (invoice_discount_total(r, s->currency, lines, n, ds, n_ds, NULL, left, &subtotal,
				   ret_total) != 0)
		return -1;
	if (subtotal > BILLING_AMOUNT_MAX || subtotal < -BILLING_AMOUNT_MAX ||
	    *ret_total > BILLING_AMOUNT_MAX || *ret_total < -BILLING_AMOUNT_MAX)
		return req_fail(r, ERR_AMOUNT_TOO_LARGE, "items",
				"The invoice would add up to more than %lld.",
				(long long)BILLING_AMOUNT_MAX);
	if (!ret_credited)
		return 0;
	*ret_credited = 0;
	/* its billing credits, as its finalization will apply them (nothing for an invoice of
	 * nothing, as invoice_credits_apply leaves it): never more than its lines after their
	 * discounts, then the total again with them (each line taxed on what they leave) */
	bool granted;
	if (*ret_total <= 0)
		return 0;
	if (invoice_credits_any(r, db, s->customer, s->currency, credits_at, &granted) != 0)
		return -1;
	if (!granted)
		return 0;
	const char **prices = arena_alloc(&r->arena, (size_t)(n ? n : 1) * sizeof(*prices));
	int64_t *credits = arena_alloc(&r->arena, (size_t)(n ? n : 1) * sizeof(int64_t));
	if (!prices || !credits)
		return req_fail(r, ERR_API, NULL, NULL);
	int64_t room = 0, sub, after;
	bool any = false;
	for (int i = 0; i < n; i++)
		room += left[i]; /* each bounded by the subtotal's checks: no overflow */
	if (planned_prices(r, db, s, lines, n, n - n_period, pr, n_pr, prices) != 0 ||
	    invoice_credits_plan(r, db, s->customer, s->currency, credits_at, n, prices, left, room,
				 credits) != 0)
		return -1;
	for (int i = 0; i < n; i++)
		any = any || credits[i] > 0;
	if (!any)
		return 0;
	if (invoice_discount_total(r, s->currency, lines, n, ds, n_ds, credits, NULL, &sub,
				   &after) != 0)
		return -1;
	*ret_credited = *ret_total - after; /* both bounded */
	return 0;
}

/* ---- cancel_at, billing thresholds, the pending items' interval, Connect, default_source ----
 *
 * cancel_at: the scheduler cancels the subscription then (billing_next_action: BILLING_CANCEL
 * at cancel_at when it falls within the current period or trial; a later one waits for the
 * renewals up to it). The cancellation credits the unused rest of the period it billed,
 * [cancel_at, period end), item by item as DELETE's prorate does (proration_add), on a final
 * invoice made in the cancellation's write (with the customer's pending items and, for metered
 * items, the usage up to cancel_at, as invoice_now's is): below zero, the credit goes to the
 * customer's balance. proration_behavior=none at the time it is set in the current period
 * asks for no credit; one set in a later period always has it (Stripe: "If set during a future
 * period, this will always cause a proration for that period"). A trial, never billed, is
 * not credited. canceled_at is when it was asked for, as for cancel_at_period_end, which it
 * excludes; cancel_at stays shown once it canceled the subscription.
 *
 * application_fee_percent, transfer_data[destination, amount_percent] and on_behalf_of are
 * checked as a PaymentIntent's Connect parameters are (a connected account of the merchant's,
 * not rejected; a fee needs a destination or the Stripe-Account header) and shown.
 * billing_thresholds and pending_invoice_item_interval are checked and shown; default_source
 * must be one of the customer's card sources. */

int billing_percent2_parse(struct req *r, const char *param, const char *v, int64_t *ret)
{
	const char *dot = strchr(v, '.');
	if (str_eq(v, "0") || str_eq(v, "0.0") || str_eq(v, "0.00")) {
		*ret = 0;
		return 0;
	}
	if ((dot && strlen(dot + 1) > 2) || billing_percent_parse(v, ret) != 0)
		return req_fail(r, ERR_PARAM_BAD, param,
				"Invalid %s: must be a decimal between 0 and 100 with at most two "
				"decimal places.",
				param);
	return 0;
}

/* The JSON text of the object a parameter builds (NULL with r->err). */
static const char *obj_text(struct req *r, struct buf *b)
{
	const char *t = b->failed ? NULL : arena_strndup(&r->arena, b->data, b->len);
	buf_release(b);
	if (!t)
		req_fail(r, ERR_API, NULL, NULL);
	return t;
}

/* billing_thresholds[amount_gte, reset_billing_cycle_anchor] ("" unsets) into *ret. 0, or -1. */
static int thresholds_param(struct req *r, const char **ret)
{
	const char *v = param_str(r, "billing_thresholds");
	if (v && !*v) {
		*ret = NULL;
		return 0;
	}
	int64_t gte = 0;
	bool reset = false;
	if (param_int(r, "billing_thresholds.amount_gte", &gte) != 1)
		return req_fail(r, ERR_PARAM_MISSING, "billing_thresholds[amount_gte]",
				"billing_thresholds[amount_gte]");
	if (gte < 1 || gte > BILLING_AMOUNT_MAX)
		return req_fail(r, ERR_PARAM_BAD, "billing_thresholds[amount_gte]",
				"billing_thresholds[amount_gte] must be between 1 and %lld.",
				(long long)BILLING_AMOUNT_MAX);
	param_bool(r, "billing_thresholds.reset_billing_cycle_anchor", &reset);
	struct buf b;
	struct json j;
	buf_init(&b, 256);
	json_init(&j, &b);
	json_obj_open(&j);
	json_kv_int(&j, "amount_gte", gte);
	json_kv_bool(&j, "reset_billing_cycle_anchor", reset);
	json_obj_close(&j);
	return (*ret = obj_text(r, &b)) ? 0 : -1;
}

/* pending_invoice_item_interval[interval, interval_count] ("" unsets) into *ret: at most a
 * year, as Stripe allows. 0, or -1 with r->err. */
static int pending_interval_param(struct req *r, const char **ret)
{
	const char *v = param_str(r, "pending_invoice_item_interval");
	if (v && !*v) {
		*ret = NULL;
		return 0;
	}
	const char *iv = param_str(r, "pending_invoice_item_interval.interval");
	int64_t count = 1;
	param_int(r, "pending_invoice_item_interval.interval_count", &count);
	int64_t most = str_eq(iv, "day")     ? 365
		       : str_eq(iv, "week")  ? 52
		       : str_eq(iv, "month") ? 12
					     : 1;
	if (count < 1 || count > most)
		return req_fail(r, ERR_PARAM_BAD, "pending_invoice_item_interval[interval_count]",
				"The maximum pending invoice item interval is one year (%lld %ss).",
				(long long)most, iv);
	struct buf b;
	struct json j;
	buf_init(&b, 256);
	json_init(&j, &b);
	json_obj_open(&j);
	json_kv_str(&j, "interval", iv);
	json_kv_int(&j, "interval_count", count);
	json_obj_close(&j);
	return (*ret = obj_text(r, &b)) ? 0 : -1;
}

/* transfer_data[destination, amount_percent] ("" unsets) into *ret. 0, or -1 with r->err. */
static int transfer_data_param(struct req *r, const char **ret)
{
	const char *v = param_str(r, "transfer_data");
	if (v && !*v) {
		*ret = NULL;
		return 0;
	}
	const char *dest = param_str(r, "transfer_data.destination");
	const char *pct = param_str(r, "transfer_data.amount_percent");
	int64_t e4 = 0;
	if (pct && billing_percent2_parse(r, "transfer_data[amount_percent]", pct, &e4) != 0)
		return -1;
	struct buf b;
	struct json j;
	buf_init(&b, 512);
	json_init(&j, &b);
	json_obj_open(&j);
	if (pct) {
		char shown[16];
		billing_percent_format(e4, shown, sizeof(shown));
		json_kv_raw(&j, "amount_percent", shown, strlen(shown));
	} else {
		json_kv_null(&j, "amount_percent");
	}
	json_kv_str(&j, "destination", dest);
	json_obj_close(&j);
	return (*ret = obj_text(r, &b)) ? 0 : -1;
}

/* transfer_data's destination (NULL: none) */
static const char *transfer_destination(struct req *r, const struct subscription *s)
{
	if (!s->transfer_data)
		return NULL;
	json_t *o = json_loads(s->transfer_data, 0, NULL);
	const char *d = o ? json_string_value(json_object_get(o, "destination")) : NULL;
	const char *ret = d ? arena_strdup(&r->arena, d) : NULL;
	json_decref(o);
	return ret;
}

/* transfer_data[amount_percent] in percent_e4, or -1 when none (the JSON as
 * transfer_data_param writes it: read as text, no floating point) */
static int64_t transfer_percent(const struct subscription *s)
{
	const char *k = s->transfer_data ? strstr(s->transfer_data, "\"amount_percent\":") : NULL;
	if (!k)
		return -1;
	k += strlen("\"amount_percent\":");
	char v[16];
	size_t n = strcspn(k, ",}");
	if (n == 0 || n >= sizeof(v) || str_eq(k, "null") || strncmp(k, "null", 4) == 0)
		return -1;
	memcpy(v, k, n);
	v[n] = '\0';
	int64_t e4 = 0;
	if (!str_eq(v, "0") && billing_percent_parse(v, &e4) != 0)
		return -1;
	return e4;
}

/* amount × percent_e4, to the nearest minor unit (halves up); amount <= BILLING_AMOUNT_MAX and
 * percent_e4 <= BILLING_PERCENT_ONE: no overflow */
static int64_t percent_of(int64_t amount, int64_t e4)
{
	return (amount * e4 + BILLING_PERCENT_ONE / 2) / BILLING_PERCENT_ONE;
}

/* The Connect terms s gives the PaymentIntent of one of its invoices asking for `amount`, as
 * a PaymentIntent's own parameters would (payments/connect.h): transfer_data[destination],
 * transfer_data[amount] of amount_percent, on_behalf_of, and application_fee_amount of
 * application_fee_percent, each share of the amount rounded to the nearest minor unit. NULL
 * when s has none. */
static const struct payment_connect *sub_connect(struct req *r, const struct subscription *s,
						 int64_t amount)
{
	if (!s->transfer_data && !s->on_behalf_of && !s->fee_set)
		return NULL;
	struct payment_connect *c = arena_alloc(&r->arena, sizeof(*c));
	if (!c)
		return NULL;
	memset(c, 0, sizeof(*c));
	c->destination = transfer_destination(r, s);
	c->on_behalf_of = s->on_behalf_of;
	int64_t tp = transfer_percent(s);
	if (c->destination && tp >= 0 && amount > 0 && amount <= BILLING_AMOUNT_MAX) {
		c->transfer_amount = percent_of(amount, tp);
		/* a share that rounds to nothing transfers nothing (a transfer_amount of 0 would
		 * mean the whole payment): the platform keeps this payment */
		if (c->transfer_amount == 0)
			c->destination = NULL;
	}
	if (s->fee_set && amount > 0 && amount <= BILLING_AMOUNT_MAX)
		c->application_fee_amount = percent_of(amount, s->fee_e4);
	return c;
}

int billing_connect_check(struct req *r, struct db *db, const char *destination,
			  const char *on_behalf_of)
{
	return payments_connect_accounts_usable(r, db, destination, "transfer_data[destination]",
						on_behalf_of);
}

struct inv_connect_ctx {
	struct req *r;
	const char *invoice;
	int64_t amount;
	struct payment_connect *ret;
};

static int inv_connect_fn(struct db *db, void *p)
{
	struct inv_connect_ctx *x = p;
	struct req *r = x->r;
	struct invoice in;
	int rc = invoice_load(r, db, x->invoice, &in);
	if (rc == DB_NOTFOUND)
		return 0; /* not stored yet: its maker passes the terms itself */
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!in.subscription)
		return quote_invoice_connect(r, db, x->invoice, x->amount, x->ret) < 0 ? -1 : 0;
	struct subscription *s = arena_alloc(&r->arena, sizeof(*s));
	if (!s)
		return req_fail(r, ERR_API, NULL, NULL);
	rc = sub_load(r, db, in.subscription, false, s);
	if (rc == DB_NOTFOUND)
		return 0;
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	const struct payment_connect *c = sub_connect(r, s, x->amount);
	if (c)
		*x->ret = *c;
	return 0;
}

int invoice_connect_read(struct req *r, const char *invoice, int64_t amount,
			 struct payment_connect *ret)
{
	struct inv_connect_ctx x = {.r = r, .invoice = invoice, .amount = amount, .ret = ret};
	return req_read(r, inv_connect_fn, &x);
}

/* Inside a transaction: the accounts and the source s names exist and may be used. 0, or -1
 * with r->err. */
static int settings_check(struct req *r, struct db *db, const struct subscription *s)
{
	const char *dest = transfer_destination(r, s);
	if (billing_connect_check(r, db, dest, s->on_behalf_of) != 0)
		return -1;
	if (s->fee_set && transfer_percent(s) >= 0)
		return req_fail(r, ERR_PARAM_BAD, "application_fee_percent",
				"You may only specify one of these parameters: "
				"application_fee_percent, transfer_data[amount_percent].");
	if (s->fee_set && !dest && !r->platform_id[0])
		return req_fail(r, ERR_PARAM_BAD, "application_fee_percent",
				"Can only apply an application_fee_percent when the request is "
				"made on behalf of another account (using an OAuth key or the "
				"Stripe-Account header) or with transfer_data[destination].");
	/* the merchant's own tax ids (api/tax_ids.c) */
	const char *atx = NULL;
	if (param_present(r, "invoice_settings.account_tax_ids") &&
	    tax_ids_account_param(r, db, "invoice_settings.account_tax_ids",
				  "invoice_settings[account_tax_ids]", &atx) != 0)
		return -1;
	if (s->default_source) {
		int own = source_owned(r, db, s->customer, s->default_source);
		if (own < 0)
			return req_fail(r, ERR_API, NULL, NULL);
		if (own == 0)
			return req_fail(r, ERR_SOURCE_MISSING, "default_source",
					"Customer %s does not have a linked source with ID %s.",
					s->customer, s->default_source);
	}
	return 0;
}

/* The settings parameters of a create or an update onto s; what they change goes into pj (an
 * update's previous_attributes; NULL on create). Checked against the store by settings_check.
 * 0, or -1 with r->err. */
static int settings_params(struct req *r, struct subscription *s, struct json *pj)
{
	const char *t = NULL;
	if (param_present(r, "billing_thresholds")) {
		if (thresholds_param(r, &t) != 0)
			return -1;
		if (pj)
			json_kv_raw_or_null(pj, "billing_thresholds", s->billing_thresholds);
		s->billing_thresholds = t;
	}
	if (param_present(r, "pending_invoice_item_interval")) {
		if (pending_interval_param(r, &t) != 0)
			return -1;
		if (pj)
			json_kv_raw_or_null(pj, "pending_invoice_item_interval",
					    s->pending_interval);
		s->pending_interval = t;
	}
	if (param_present(r, "transfer_data")) {
		if (transfer_data_param(r, &t) != 0)
			return -1;
		if (pj)
			json_kv_raw_or_null(pj, "transfer_data", s->transfer_data);
		s->transfer_data = t;
	}
	const char *v = param_str(r, "application_fee_percent");
	if (v) {
		int64_t e4 = 0;
		if (*v && billing_percent2_parse(r, "application_fee_percent", v, &e4) != 0)
			return -1;
		if (pj && s->fee_set) {
			char shown[16];
			billing_percent_format(s->fee_e4, shown, sizeof(shown));
			json_kv_raw(pj, "application_fee_percent", shown, strlen(shown));
		} else if (pj) {
			json_kv_null(pj, "application_fee_percent");
		}
		s->fee_set = *v != '\0';
		s->fee_e4 = e4;
	}
	v = param_str(r, "on_behalf_of");
	if (v) {
		if (pj)
			json_kv_str_or_null(pj, "on_behalf_of", s->on_behalf_of);
		s->on_behalf_of = *v ? v : NULL;
	}
	v = param_str(r, "default_source");
	if (v) {
		if (pj)
			json_kv_str_or_null(pj, "default_source", s->default_source);
		s->default_source = *v ? v : NULL;
	}
	/* invoice_settings[account_tax_ids] ("" or none: none), checked by settings_check */
	if (param_present(r, "invoice_settings.account_tax_ids")) {
		t = NULL;
		if (string_array_json(r, "invoice_settings.account_tax_ids", &t) != 0)
			return -1;
		if (pj) {
			json_key(pj, "invoice_settings");
			json_obj_open(pj);
			json_kv_raw_or_null(pj, "account_tax_ids", s->account_tax_ids);
			json_obj_close(pj);
		}
		s->account_tax_ids = t && strcmp(t, "[]") != 0 ? t : NULL;
	}
	return 0;
}

/* cancel_at's value v: a timestamp (*ret_at), or one of Stripe's end-of-period values
 * (2025-05-28) for a flexible subscription, resolved to a time at once rather than followed
 * as cancel_at_period_end is (*ret_period_end: the caller resolves it to the items' current
 * period end, min_period_end and max_period_end alike since Tender's items share one period).
 * max_billed_until names the end of what prebilling has billed: Tender does not prebill, so it
 * is refused rather than guessed. 0, or -1 with r->err. */
static int cancel_at_value(struct req *r, bool flexible, const char *v, int64_t *ret_at,
			   bool *ret_period_end)
{
	*ret_at = 0;
	*ret_period_end = false;
	if (str_eq(v, "min_period_end") || str_eq(v, "max_period_end")) {
		if (!flexible)
			return req_fail(r, ERR_PARAM_BAD, "cancel_at",
					"cancel_at=%s is only available for subscriptions with "
					"billing_mode[type]=flexible.",
					v);
		*ret_period_end = true;
		return 0;
	}
	if (str_eq(v, "max_billed_until"))
		return req_fail(r, ERR_PARAM_BAD, "cancel_at",
				"Tender does not support cancel_at=max_billed_until: it has no "
				"prebilling (use a timestamp, min_period_end or max_period_end).");
	if (parse_i64(v, ret_at) != 0)
		return req_fail(r, ERR_PARAM_INVALID_INTEGER, "cancel_at", "%s", v);
	return 0;
}

/* cancel_at of an update ("" unsets) onto s at `now` (cancel_at_period_end=true with it is a
 * 400); the previous values go into pj (*ret_changed: they did, canceled_at's among them). 0,
 * or -1 with r->err. */
static int cancel_at_param(struct req *r, struct subscription *s, int64_t now, struct json *pj,
			   bool *ret_changed)
{
	*ret_changed = false;
	const char *v = param_str(r, "cancel_at");
	if (!v)
		return 0;
	bool cape = false;
	if (*v && param_bool(r, "cancel_at_period_end", &cape) == 1 && cape)
		return req_fail(r, ERR_PARAM_BAD, "cancel_at",
				"You may only specify one of these parameters: cancel_at, "
				"cancel_at_period_end.");
	int64_t at = 0;
	bool period_end = false;
	if (*v && cancel_at_value(r, s->flexible, v, &at, &period_end) != 0)
		return -1;
	if (period_end)
		at = s->period_end;
	if (*v && at <= now)
		return req_fail(r, ERR_PARAM_BAD, "cancel_at",
				"Invalid timestamp: cancel_at must be in the future.");
	if (at == s->cancel_at)
		return 0;
	time_or_null(pj, "cancel_at",
		     s->cancel_at	       ? s->cancel_at
		     : s->cancel_at_period_end ? s->period_end
					       : 0);
	if (s->cancel_at_period_end)
		json_kv_bool(pj, "cancel_at_period_end", true);
	time_or_null(pj, "canceled_at", s->canceled_at);
	*ret_changed = true;
	s->cancel_at = at;
	s->cancel_at_period_end = false;
	s->canceled_at = at ? now : 0;
	s->cancellation_reason = at ? "cancellation_requested" : NULL;
	s->cancel_at_prorate =
	    !at || at > s->period_end || !str_eq(param_str(r, "proration_behavior"), "none");
	return 0;
}

/* ---- create ---- */

static const char *const behaviors[] = {"allow_incomplete", "error_if_incomplete",
					"default_incomplete", "pending_if_incomplete", NULL};

/* add_invoice_items[n] of a create or an update: one-time prices (or price_data) billed once,
 * as invoice items of the subscription's next invoice (Stripe's setup fee). */
#define SUB_ADD_ITEMS_MAX 20
struct add_item {
	const char *price; /* NULL: its price_data, made inside the write */
	int64_t quantity;
	struct price_facts pf;
	/* as POST /v1/invoiceitems takes them: its metadata, its own discounts[] (resolved before
	 * the write: ds, n_ds) and tax_rates[], and period[start|end][type, timestamp] (start:
	 * max_item_period_start, now or timestamp; end: min_item_period_end or timestamp; 0:
	 * not given, the item's period is then its creation) */
	const char *metadata;
	struct discount_spec spec;
	struct discount *ds;
	int n_ds;
	struct tax_rate_spec tax;
	char start_type, end_type; /* 'm': the subscription period's, 'n': now, 't': timestamp */
	int64_t start_at, end_at;
};
struct add_items {
	int n;
	struct add_item it[SUB_ADD_ITEMS_MAX];
};

static int items_discounts_store(struct req *r, struct db *db, struct subscription *s, int64_t t);

struct create_ctx {
	struct req *r;
	struct subscription s;
	struct invoice in;
	char invoice_id[ID_MAX], pi_id[ID_MAX]; /* chosen before the write */
	char si_id[ID_MAX]; /* its pending_setup_intent, chosen before the write ("": none) */
	const char *behavior;
	const char *pm;
	int64_t t0;
	bool trial;
	const char *customer_clock;
	int64_t total;	    /* a period's, at the items' prices */
	int64_t due;	    /* the first invoice's total, after its discounts */
	int64_t credited;   /* what its billing credits will take off it (planned_total) */
	int64_t amount_due; /* what it charges: due with the customer's balance applied */
	struct discount_spec spec;
	struct discount *ds; /* the discounts to make, as resolved before the write */
	int n_ds;
	/* the timeline's parameters, applied in the subscription's own time (create_run) */
	int64_t trial_end_at, trial_days; /* 0: none */
	/* backdate_start_date (0: none): its start, and its first period's, in the past */
	int64_t backdate;
	/* trial_from_plan: the longest trial_period_days of the items' plans (create_read_fn) */
	bool trial_from_plan;
	bool cancel_at_period_end;
	bool cancel_at_period_end_kw; /* cancel_at=min_period_end or max_period_end */
	struct sub_checkout *co; /* bought through a Checkout Session (NULL: the API's create) */
	struct sub_for_schedule *sc; /* made by a subscription schedule (NULL: not) */
	/* default_tax_rates[] and items[n][tax_rates] (tax_rates.c) */
	struct tax_rate_spec default_tax;
	struct tax_rate_spec item_tax[SUB_ITEMS_MAX];
	/* billing_cycle_anchor (a time) or billing_cycle_anchor_config (anchor_day > 0) and
	 * proration_behavior (prorate_none: the partial first period billed nothing) */
	int64_t anchor_at;
	int anchor_day, anchor_month, anchor_hour, anchor_minute, anchor_second;
	bool anchor_time_given, prorate_none;
	/* the API's create: its settings parameters (settings_params) to check */
	bool settings;
	/* add_invoice_items[]: on the first invoice (add_ii, add_sum: as billed) */
	struct add_items add;
	struct invoice_item add_ii[SUB_ADD_ITEMS_MAX];
	int64_t add_sum;
	/* its items' parameter, dotted and as errors name it (NULL: items; a preview's
	 * subscription_details[items] or subscription_items) */
	const char *items_param, *items_shown;
	/* trial_end, billing_cycle_anchor and backdate_start_date as a preview's errors name them
	 * (NULL: the create's names) */
	const char *trial_end_shown, *anchor_shown, *backdate_shown;
};
#define NAME_OR(name, dflt) ((name) ? (name) : (dflt))

/* items[i] with suffix ("[price]"), as c's errors name it */
static const char *item_shown(struct req *r, const struct create_ctx *c, int i, const char *suffix)
{
	const char *s = arena_printf(&r->arena, "%s[%d]%s",
				     c->items_shown ? c->items_shown : "items", i, suffix);
	return s ? s : "items";
}

static int add_items_read(struct req *r, struct db *db, struct add_items *a, const char *currency);
static int add_items_prices(struct req *r, struct db *db, const struct add_items *a,
			    struct invoice_item *ii);
static int add_items_discounts(struct req *r, struct db *db, struct add_items *a,
			       const struct invoice_item *ii);
static int add_items_store_terms(struct req *r, struct db *db, const struct add_items *a,
				 const struct invoice_item *ii);

static int create_read_fn(struct db *db, void *p)
{
	struct create_ctx *c = p;
	struct req *r = c->r;
	struct subscription *s = &c->s;
	struct billing_customer cf;
	c->t0 = r->now;
	if (c->co && c->co->new_customer) {
		/* made by the checkout's own rows in the payment's write: no clock, no default */
		memset(&cf, 0, sizeof(cf));
	} else if (billing_customer_get(r, db, s->customer, &cf) != DB_OK) {
		return req_fail(r, ERR_API, NULL, NULL);
	} else if (!cf.found) {
		return req_fail_missing(r, "customer", s->customer, "customer");
	}
	if (cf.test_clock) {
		struct test_clock clk;
		if (test_clock_load(r, db, cf.test_clock, &clk) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		bool scheduled = c->sc && c->sc->scheduled;
		if (!scheduled && !str_eq(clk.status, "ready"))
			return req_fail(r, ERR_INVALID_STATE, "customer",
					"The customer's test clock %s is advancing: wait until "
					"it is ready.",
					clk.id);
		/* a schedule's start, during the clock's advance: the step's own time */
		c->t0 = scheduled ? r->now : clk.frozen_time;
		s->test_clock = cf.test_clock;
	}
	for (int i = 0; i < s->n_items; i++) {
		struct sub_item *it = &s->items[i];
		if (it->data >= 0)
			continue;
		/* `currency` given (s->currency set before): the price's amounts in it */
		int rc = price_facts_in(r, db, it->price, s->currency, &it->pf);
		const char *shown = item_shown(r, c, i, "[price]");
		if (rc == DB_NOTFOUND)
			return req_fail_missing(r, "price", it->price, shown);
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		/* a Checkout Session's prices were checked when it was made, and those it made
		 * from price_data are inactive, as Stripe makes them: what it shows is sold */
		if (!c->co && (!it->pf.active || !it->pf.product_active))
			return req_fail(r, ERR_PARAM_BAD, shown,
					"The price specified (%s) is inactive. This field only "
					"accepts active prices.",
					it->price);
		if (!it->pf.recurring)
			return req_fail(r, ERR_PARAM_BAD, shown,
					"The price specified (%s) is a one-time price. A "
					"subscription's items need recurring prices.",
					it->price);
		if (item_price_check(r, &it->pf, it->price, shown) != 0)
			return -1;
		if (item_metered(it)) {
			if (it->quantity_given)
				return req_fail(r, ERR_PARAM_BAD, item_shown(r, c, i, "[quantity]"),
						"Quantity should not be specified where usage_type "
						"is `metered`. Remove quantity from `%s`.",
						item_shown(r, c, i, ""));
			it->quantity = 0; /* its usage is its quantity, period by period */
		}
		if (c->trial_from_plan && it->pf.trial_period_days > c->trial_days)
			c->trial_days = it->pf.trial_period_days;
	}
	/* add_invoice_items' prices in the subscription's currency: `currency`, else its items'
	 * (one for all, as create_run checks) */
	const char *cur = s->currency;
	for (int i = 0; !cur[0] && i < s->n_items; i++)
		cur = s->items[i].data < 0
			  ? s->items[i].pf.currency
			  : param_str(r, arena_printf(&r->arena, "items.%d.price_data.currency",
						      s->items[i].data));
	if (add_items_read(r, db, &c->add, cur && cur[0] ? cur : NULL) != 0)
		return -1;
	/* the payment method: the subscription's own (attached to the customer), else its
	 * default_source, else the customer's default PaymentMethod, else the customer's
	 * default_source (Stripe's order, billing_pay_with). A checkout's card is the buyer's, just
	 * made: attached to the customer by its payment's write (or the trial's) */
	if (c->co) {
		s->default_payment_method = c->pm;
	} else if (c->pm) {
		struct pm_card pc;
		int rc = pm_load(db, r->merchant_id, c->pm, &pc);
		if (rc == DB_NOTFOUND)
			return req_fail_missing(r, "payment_method", c->pm,
						"default_payment_method");
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (strcmp(pc.customer, s->customer) != 0)
			return req_fail(r, ERR_PARAM_BAD, "default_payment_method",
					"The customer does not have a payment method with the ID "
					"%s. The payment method must be attached to the customer.",
					c->pm);
		s->default_payment_method = c->pm;
	} else {
		/* its own default_source, else its customer's default (billing_pay_with) */
		c->pm = invoice_pay_with(r, NULL, NULL, s->default_source, &cf);
	}
	/* a payment link's session: the link's Connect terms are the subscription's */
	if (c->co && c->co->payment_link) {
		struct payment_connect pc;
		int64_t fee_e4 = -1;
		int rc = payment_link_connect(r, db, c->co->payment_link, 0, &pc, &fee_e4);
		if (rc < 0)
			return -1;
		if (rc == 1) {
			s->fee_set = fee_e4 >= 0;
			s->fee_e4 = fee_e4 >= 0 ? fee_e4 : 0;
			s->on_behalf_of = pc.on_behalf_of;
			s->transfer_data =
			    pc.destination
				? arena_printf(&r->arena,
					       "{\"amount_percent\":null,\"destination\":%s}",
					       json_quote(r, pc.destination))
				: NULL;
		}
	}
	return c->settings ? settings_check(r, db, s) : 0;
}

/* Inside the write: the prices made from items[n][price_data] (inactive, as Stripe makes
 * them), then the subscription, its items and its first invoice, with their events. */
/* proration_behavior=none of a create with a trial and a later anchor (see "a trial with a
 * later billing cycle anchor"), on its new row. 0, or -1 with r->err. */
static int trial_anchor_none_store(struct req *r, struct db *db, const struct subscription *s)
{
	struct db_stmt *st = db_prepare(db, SQL_ANCHOR_NONE_SET);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, s->id, -1);
	return db_step_done(st) == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static int create_rows(struct req *r, struct db *db, struct create_ctx *c)
{
	struct subscription *s = &c->s;
	if (c->sc && c->sc->before(r, db, c->sc->ctx) != 0)
		return -1;
	for (int i = 0; i < s->n_items; i++) {
		struct sub_item *it = &s->items[i];
		if (it->data < 0)
			continue;
		char prefix[64], shown[64], id[ID_MAX];
		snprintf(prefix, sizeof(prefix), "items.%d.price_data.", it->data);
		snprintf(shown, sizeof(shown), "items[%d][price_data]", it->data);
		struct price_facts pf;
		if (price_create_inline(r, db, prefix, shown, &pf, id) != 0)
			return -1;
		/* what was priced before the write is what was stored */
		if (pf.unit_amount != it->pf.unit_amount || strcmp(pf.currency, it->pf.currency) ||
		    strcmp(pf.interval, it->pf.interval) ||
		    pf.interval_count != it->pf.interval_count)
			return req_fail(r, ERR_API, NULL, NULL);
		it->pf = pf;
		it->price = arena_strdup(&r->arena, id);
		if (price_facts_get(r, db, it->price, &it->pf) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	/* nothing due now and the payment left to the client (default_incomplete): the
	 * SetupIntent its customer sets up its payment method with (setup_intents.c) */
	if (s->pending_si && setup_intent_insert_pending(r, db, s->pending_si, s->customer) != 0)
		return -1;
	struct db_stmt *st = db_prepare(db, SQL_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	bind_row(r, st, s);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (s->period_index < 0 && c->prorate_none && trial_anchor_none_store(r, db, s) != 0)
		return -1;
	if (items_insert(r, db, s) != 0 || tax_rates_store(r, db, s) != 0 ||
	    items_discounts_store(r, db, s, c->t0) != 0)
		return -1;
	if (c->n_ds) {
		/* a re-run of the write starts again from what was resolved */
		struct discount *ds = arena_alloc(&r->arena, (size_t)c->n_ds * sizeof(*ds));
		if (!ds)
			return req_fail(r, ERR_API, NULL, NULL);
		memcpy(ds, c->ds, (size_t)c->n_ds * sizeof(*ds));
		if (discounts_attach(r, db, DISCOUNT_SUBSCRIPTION, s->id, s->customer, c->t0, ds,
				     c->n_ds, NULL) != 0)
			return -1;
	}
	if (sub_emit(r, db, s, "customer.subscription.created", NULL) != 0)
		return -1;
	/* add_invoice_items: on the first invoice (a re-run of the write makes their prices
	 * again, on its own copies) */
	struct invoice_item *add = arena_alloc(&r->arena, sizeof(c->add_ii));
	if (!add)
		return req_fail(r, ERR_API, NULL, NULL);
	memcpy(add, c->add_ii, sizeof(c->add_ii));
	if (add_items_prices(r, db, &c->add, add) != 0)
		return -1;
	for (int i = 0; i < c->add.n; i++) {
		add[i].invoice = c->invoice_id;
		if (invoice_item_insert(r, db, &add[i]) != 0)
			return -1;
	}
	if (add_items_store_terms(r, db, &c->add, add) != 0)
		return -1;
	if (invoice_for_period(r, db, s, c->t0, c->invoice_id, "subscription_create", c->trial,
			       c->add_sum, &c->in) != 0)
		return -1;
	/* the payment was made for the total read before the write */
	if (c->in.total != c->due)
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"The subscription's discounts changed while it was made; try "
				"again.");
	c->in.payment_intent = c->pi_id[0] ? c->pi_id : NULL;
	c->in.credits_planned = true; /* c->amount_due was planned with them */
	return invoice_store(r, db, &c->in, c->amount_due);
}

/* a subscription whose first invoice is 0 (a trial, a free price): no payment */
static int create_free_fn(struct db *db, void *p)
{
	struct create_ctx *c = p;
	if (create_rows(c->r, db, c) != 0)
		return -1;
	/* one paid by bank transfer: its first invoice's intent, paid now when the customer's
	 * cash covers it (invoices.c); charge_automatically, else it stays incomplete while the
	 * intent waits for a transfer (error_if_incomplete: refused, nothing kept) */
	bool cash = billing_pm_types_cash_only(c->s.payment_method_types);
	if (c->s.sends || cash) {
		struct invoice in;
		if (invoice_load(c->r, db, c->invoice_id, &in) != DB_OK)
			return req_fail(c->r, ERR_API, NULL, NULL);
		if (invoice_cash_collect(c->r, db, &in) != 0)
			return -1;
		if (cash && !c->s.sends && str_eq(in.status, "open") &&
		    str_eq(c->behavior, "error_if_incomplete"))
			return req_fail(c->r, ERR_AUTHENTICATION_REQUIRED, NULL, NULL);
	}
	if (c->sc)
		return c->sc->answer(c->r, db, c->sc->ctx);
	return answer_sub(c->r, db, c->s.id);
}

static int create_before(struct req *r, struct db *db, void *p)
{
	return create_rows(r, db, p);
}

static int create_answer(struct req *r, struct db *db, void *p, int rc)
{
	struct create_ctx *c = p;
	bool strict = str_eq(c->behavior, "error_if_incomplete");
	if (rc == REQ_COMMIT_ERR) {
		if (strict) {
			/* nothing is kept: the card error alone, naming nothing rolled back */
			r->err.charge_id[0] = '\0';
			buf_reset(&r->err.extra);
			return -1;
		}
		r->err.set = false;
		r->err.charge_id[0] = '\0';
		buf_reset(&r->err.extra);
	}
	if (c->sc)
		return c->sc->answer(r, db, c->sc->ctx);
	struct subscription s;
	if (sub_load(r, db, c->s.id, false, &s) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (strict && !str_eq(s.status, "active") && !str_eq(s.status, "trialing"))
		return req_fail(r, ERR_AUTHENTICATION_REQUIRED, NULL, NULL);
	return answer_sub(r, db, c->s.id);
}

/* The amount and currency of the price_data object at `path` (dotted: "items.0.price_data"),
 * named `shown` in errors ("items[0][price_data]"), into pf, read before the write that makes
 * the price (price_create_inline checks the rest): unit_amount (not below zero) or a sub-cent
 * unit_amount_decimal, which is billed as price_facts_amount rounds it. 0, or -1 with r->err. */
static int price_data_terms(struct req *r, const char *path, const char *shown,
			    struct price_facts *pf)
{
	char p[96];
	snprintf(p, sizeof(p), "%s.unit_amount_decimal", path);
	const char *dec = param_str(r, p);
	snprintf(p, sizeof(p), "%s.unit_amount", path);
	const char *ua = arena_printf(&r->arena, "%s[unit_amount]", shown);
	if (dec && param_present(r, p))
		return req_fail(r, ERR_PARAM_BAD, ua,
				"You may only specify one of these parameters: unit_amount, "
				"unit_amount_decimal.");
	if (dec) {
		struct price pr = {0};
		if (price_amount_decimal(r,
					 arena_printf(&r->arena, "%s[unit_amount_decimal]", shown),
					 dec, &pr) != 0)
			return -1;
		pf->has_unit_amount = pr.has_unit_amount;
		pf->unit_amount = pr.unit_amount;
		pf->unit_amount_decimal = pr.unit_amount_decimal;
	} else {
		if (param_int(r, p, &pf->unit_amount) != 1 || pf->unit_amount < 0)
			return req_fail(r, ERR_PARAM_MISSING, ua, "%s", ua);
		pf->has_unit_amount = true;
	}
	snprintf(p, sizeof(p), "%s.currency", path);
	const char *cur = param_str(r, p);
	for (int k = 0; cur && k < 3 && cur[k]; k++)
		pf->currency[k] =
		    (char)(cur[k] >= 'A' && cur[k] <= 'Z' ? cur[k] - 'A' + 'a' : cur[k]);
	return 0;
}

/* add_invoice_items[n][price | price_data[currency, product, unit_amount |
 * unit_amount_decimal, tax_behavior], quantity] → a (at most 20). 0, or -1 with r->err. */
/* One end of add_invoice_items[n][period]: its [type] (ends' names, then their letters) and
 * [timestamp] (required with type timestamp, else refused). 0, or -1 with r->err. */
static int add_period_end(struct req *r, int n, const char *end, const char *const *types,
			  const char *letters, char *ret_type, int64_t *ret_at)
{
	char path[96];
	snprintf(path, sizeof(path), "add_invoice_items.%d.period.%s.type", n, end);
	const char *type = param_str(r, path);
	const char *shown = arena_printf(&r->arena, "add_invoice_items[%d][period][%s]", n, end);
	if (!shown)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!type)
		return req_fail(r, ERR_PARAM_MISSING, arena_printf(&r->arena, "%s[type]", shown),
				"%s[type]", shown);
	for (int i = 0; types[i]; i++)
		if (str_eq(type, types[i]))
			*ret_type = letters[i];
	snprintf(path, sizeof(path), "add_invoice_items.%d.period.%s.timestamp", n, end);
	bool has_at = param_int(r, path, ret_at) == 1;
	if (*ret_type == 't' && !has_at)
		return req_fail(r, ERR_PARAM_MISSING,
				arena_printf(&r->arena, "%s[timestamp]", shown), "%s[timestamp]",
				shown);
	if (*ret_type != 't' && param_present(r, path))
		return req_fail(r, ERR_PARAM_BAD, arena_printf(&r->arena, "%s[timestamp]", shown),
				"%s[timestamp] is only taken with type timestamp.", shown);
	return 0;
}

/* add_invoice_items[n]'s metadata, discounts[], tax_rates[] and period, as an invoice item's
 * (invoice_items.c takes the same for POST /v1/invoiceitems), into ai. 0, or -1 with r->err. */
static int add_item_terms(struct req *r, int n, struct add_item *ai)
{
	char path[96];
	snprintf(path, sizeof(path), "add_invoice_items.%d.metadata", n);
	if (metadata_apply(r, NULL, path, &ai->metadata) != 0)
		return -1;
	snprintf(path, sizeof(path), "add_invoice_items.%d.discounts", n);
	if (discount_spec_parse(r, path, false, &ai->spec) != 0)
		return -1;
	/* named in errors as Stripe names them: add_invoice_items[n][discounts][k][coupon] */
	for (int k = 0; k < ai->spec.n; k++) {
		const char *kind = ai->spec.e[k].coupon		  ? "coupon"
				   : ai->spec.e[k].promotion_code ? "promotion_code"
								  : "discount";
		ai->spec.e[k].shown =
		    arena_printf(&r->arena, "add_invoice_items[%d][discounts][%d][%s]", n, k, kind);
	}
	snprintf(path, sizeof(path), "add_invoice_items.%d.tax_rates", n);
	if (tax_rate_spec_parse(r, path,
				arena_printf(&r->arena, "add_invoice_items[%d][tax_rates]", n),
				&ai->tax) != 0)
		return -1;
	snprintf(path, sizeof(path), "add_invoice_items.%d.period", n);
	if (!param_present(r, path))
		return 0;
	static const char *const starts[] = {"max_item_period_start", "now", "timestamp", NULL};
	static const char *const ends[] = {"min_item_period_end", "timestamp", NULL};
	if (add_period_end(r, n, "start", starts, "mnt", &ai->start_type, &ai->start_at) != 0 ||
	    add_period_end(r, n, "end", ends, "mt", &ai->end_type, &ai->end_at) != 0)
		return -1;
	return 0;
}

static int add_items_parse(struct req *r, struct add_items *a)
{
	memset(a, 0, sizeof(*a));
	const struct form_node *list = param_node(r, "add_invoice_items");
	for (const struct form_node *x = list ? list->first_child : NULL; x; x = x->next) {
		int n = a->n;
		if (n == SUB_ADD_ITEMS_MAX)
			return req_fail(r, ERR_PARAM_BAD, "add_invoice_items",
					"You may pass at most %d add_invoice_items.",
					SUB_ADD_ITEMS_MAX);
		struct add_item *ai = &a->it[n];
		memset(ai, 0, sizeof(*ai));
		char path[64];
		snprintf(path, sizeof(path), "add_invoice_items.%d.price", n);
		const char *price = param_str(r, path);
		snprintf(path, sizeof(path), "add_invoice_items.%d.price_data", n);
		bool data = param_present(r, path);
		if ((price && *price) == data)
			return req_fail(r, ERR_PARAM_BAD,
					arena_printf(&r->arena, "add_invoice_items[%d]", n),
					"Each of add_invoice_items needs exactly one of price and "
					"price_data.");
		ai->price = data ? NULL : price;
		ai->quantity = 1;
		snprintf(path, sizeof(path), "add_invoice_items.%d.quantity", n);
		if (param_int(r, path, &ai->quantity) == 1 &&
		    (ai->quantity < 1 || ai->quantity > QUANTITY_MAX))
			return req_fail(
			    r, ERR_PARAM_BAD,
			    arena_printf(&r->arena, "add_invoice_items[%d][quantity]", n),
			    "Invalid quantity: must be between 1 and %d.", QUANTITY_MAX);
		snprintf(path, sizeof(path), "add_invoice_items.%d.price_data", n);
		if (data &&
		    price_data_terms(
			r, path, arena_printf(&r->arena, "add_invoice_items[%d][price_data]", n),
			&ai->pf) != 0)
			return -1;
		if (add_item_terms(r, n, ai) != 0)
			return -1;
		a->n++;
	}
	return 0;
}

/* Before the write: the prices of a's entries that name one, which must be active, one-time and
 * per-unit (price_data is checked by the write that makes it), read in `currency` (the
 * subscription's; NULL: their own): their own amounts or their currency_options entry for it
 * (add_items_build refuses a price with neither). 0, or -1 with r->err. */
static int add_items_read(struct req *r, struct db *db, struct add_items *a, const char *currency)
{
	for (int i = 0; i < a->n; i++) {
		struct add_item *ai = &a->it[i];
		if (!ai->price)
			continue;
		const char *shown = arena_printf(&r->arena, "add_invoice_items[%d][price]", i);
		int rc = price_facts_in(r, db, ai->price, currency, &ai->pf);
		if (rc == DB_NOTFOUND)
			return req_fail_missing(r, "price", ai->price, shown);
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (!ai->pf.active || !ai->pf.product_active)
			return req_fail(r, ERR_PARAM_BAD, shown,
					"The price specified (%s) is inactive. This field only "
					"accepts active prices.",
					ai->price);
		if (ai->pf.recurring)
			return req_fail(r, ERR_PARAM_BAD, shown,
					"The price specified is set to `type=recurring` but this "
					"field only accepts prices with `type=one_time`.");
		if (price_facts_fixed(r, &ai->pf, ai->price, shown) != 0)
			return -1;
		if (ai->pf.tiers)
			return req_fail(r, ERR_PARAM_BAD, shown,
					"Tender invoice items take per-unit prices; %s is tiered.",
					ai->price);
	}
	return 0;
}

/* a's entries as invoice items of subscription s made at t (ids chosen now, prices of
 * price_data set by add_items_store), into out; ret_sum their total. Each must be in the
 * subscription's currency. 0, or -1 with r->err. */
static int add_items_build(struct req *r, const struct add_items *a, const struct subscription *s,
			   int64_t t, struct invoice_item *out, int64_t *ret_sum)
{
	*ret_sum = 0;
	for (int i = 0; i < a->n; i++) {
		const struct add_item *ai = &a->it[i];
		if (strcmp(ai->pf.currency, s->currency) != 0)
			return req_fail(
			    r, ERR_PARAM_BAD,
			    ai->price
				? arena_printf(&r->arena, "add_invoice_items[%d][price]", i)
				: arena_printf(&r->arena,
					       "add_invoice_items[%d][price_data][currency]", i),
			    "The currency of add_invoice_items (%s) must be the subscription's "
			    "(%s), the price's own or one of its currency_options.",
			    ai->pf.currency, s->currency);
		struct invoice_item *ii = &out[i];
		memset(ii, 0, sizeof(*ii));
		id_new_at(ii->id, "ii_", t);
		ii->created = ii->period_start = ii->period_end = t;
		ii->customer = s->customer;
		str_copy(ii->currency, sizeof(ii->currency), s->currency);
		ii->quantity = ai->quantity;
		ii->unit_amount = ai->pf.unit_amount;
		ii->unit_amount_decimal =
		    ai->pf.has_unit_amount ? NULL : ai->pf.unit_amount_decimal;
		ii->price = ai->price;
		ii->description = ai->pf.product_name;
		ii->metadata = ai->metadata ? ai->metadata : "{}";
		ii->subscription = s->id;
		/* its period: the subscription's current one's ends (all its items share it), now,
		 * or as given */
		if (ai->start_type)
			ii->period_start = ai->start_type == 'm'   ? s->period_start
					   : ai->start_type == 'n' ? t
								   : ai->start_at;
		if (ai->end_type)
			ii->period_end = ai->end_type == 'm' ? s->period_end : ai->end_at;
		if (ii->period_end < ii->period_start)
			return req_fail(
			    r, ERR_PARAM_BAD,
			    arena_printf(&r->arena, "add_invoice_items[%d][period][end]", i),
			    "The period's end must not be before its start.");
		ii->test_clock = s->test_clock;
		ii->discountable = true;
		if (price_facts_amount(&ai->pf, ai->quantity, &ii->amount) != 0 ||
		    ii->amount > BILLING_AMOUNT_MAX ||
		    __builtin_add_overflow(*ret_sum, ii->amount, ret_sum) ||
		    *ret_sum > BILLING_AMOUNT_MAX)
			return req_fail(r, ERR_AMOUNT_TOO_LARGE, "add_invoice_items",
					"add_invoice_items add up to more than %lld.",
					(long long)BILLING_AMOUNT_MAX);
	}
	return 0;
}

/* Inside the write: the inactive prices of a's price_data entries made (as Stripe makes them),
 * named on their items ii (built by add_items_build). 0, or -1 with r->err. */
static int add_items_prices(struct req *r, struct db *db, const struct add_items *a,
			    struct invoice_item *ii)
{
	for (int i = 0; i < a->n; i++) {
		if (a->it[i].price)
			continue;
		char prefix[64], shown[64], id[ID_MAX];
		snprintf(prefix, sizeof(prefix), "add_invoice_items.%d.price_data.", i);
		snprintf(shown, sizeof(shown), "add_invoice_items[%d][price_data]", i);
		struct price_facts pf;
		if (price_create_inline(r, db, prefix, shown, &pf, id) != 0)
			return -1;
		/* what was billed before the write is what was stored */
		if (pf.unit_amount != a->it[i].pf.unit_amount ||
		    pf.has_unit_amount != a->it[i].pf.has_unit_amount ||
		    strcmp(pf.currency, a->it[i].pf.currency) != 0 || pf.recurring)
			return req_fail(r, ERR_API, NULL, NULL);
		ii[i].price = arena_strdup(&r->arena, id);
		ii[i].description = pf.product_name;
		if (!ii[i].price)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	return 0;
}

/* Before the write, a's entries built as ii: the discounts each asks for of its own, resolved as
 * an invoice item's are (invoice_items.c: a discountable item of a positive amount). 0, or -1
 * with r->err. */
static int add_items_discounts(struct req *r, struct db *db, struct add_items *a,
			       const struct invoice_item *ii)
{
	for (int i = 0; i < a->n; i++) {
		struct add_item *ai = &a->it[i];
		ai->n_ds = 0;
		if (!ai->spec.n)
			continue;
		if (ii[i].amount <= 0)
			return req_fail(
			    r, ERR_PARAM_BAD,
			    arena_printf(&r->arena, "add_invoice_items[%d][discounts]", i),
			    "Discounts apply to a discountable item of a positive amount.");
		ai->ds = arena_alloc(&r->arena, DISCOUNTS_MAX * sizeof(*ai->ds));
		if (!ai->ds)
			return req_fail(r, ERR_API, NULL, NULL);
		if (discounts_resolve(r, db, &ai->spec, ii[i].customer, ii[i].currency,
				      ii[i].amount, NULL, ii[i].created, ai->ds, &ai->n_ds) != 0)
			return -1;
	}
	return 0;
}

/* The planned lines of a's entries (built as ii; a NULL: none) among an invoice's n lines, found
 * by id: their own discounts and tax rates, as add_items_store_terms stores them. 0, or -1 with
 * r->err. */
static int add_items_lines(struct req *r, struct db *db, const struct add_items *a,
			   const struct invoice_item *ii, struct inv_line *lines, int n)
{
	for (int i = 0; a && i < a->n; i++) {
		char id[ID_MAX];
		memcpy(id, "il_", 3);
		str_copy(id + 3, sizeof(id) - 3, ii[i].id + 3);
		for (int k = 0; k < n; k++) {
			if (strcmp(lines[k].id, id) != 0)
				continue;
			lines[k].own = a->it[i].ds;
			lines[k].n_own = a->it[i].n_ds;
			if (a->it[i].tax.present &&
			    invoice_line_tax_own(r, db, ii[i].id, &a->it[i].tax, &lines[k]) != 0)
				return -1;
		}
	}
	return 0;
}

/* Inside the write, a's entries stored as ii: their own discounts (a copy of those resolved,
 * for a re-run of the write) and tax rates. 0, or -1 with r->err. */
static int add_items_store_terms(struct req *r, struct db *db, const struct add_items *a,
				 const struct invoice_item *ii)
{
	for (int i = 0; i < a->n; i++) {
		const struct add_item *ai = &a->it[i];
		if (ai->n_ds) {
			struct discount *ds =
			    arena_alloc(&r->arena, (size_t)ai->n_ds * sizeof(*ds));
			if (!ds)
				return req_fail(r, ERR_API, NULL, NULL);
			memcpy(ds, ai->ds, (size_t)ai->n_ds * sizeof(*ds));
			if (discounts_attach(r, db, DISCOUNT_INVOICE_ITEM, ii[i].id, ii[i].customer,
					     ii[i].created, ds, ai->n_ds, NULL) != 0)
				return -1;
		}
		if (tax_links_set(r, db, ii[i].id, &ai->tax) != 0)
			return -1;
	}
	return 0;
}

/* The price_data object at `at` (dotted: "items.0.price_data", "price_data"), named `shown` in
 * errors, of a create or a change: a recurring licensed price's terms as it will be made
 * (price_create_inline, inside the write) into pf. 0, or -1 with r->err. */
static int price_data_at(struct req *r, const char *at, const char *shown, struct price_facts *pf)
{
	char path[96];
	if (price_data_terms(r, at, shown, pf) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s.recurring.interval", at);
	str_copy(pf->interval, sizeof(pf->interval), param_str(r, path));
	pf->interval_count = 1;
	snprintf(path, sizeof(path), "%s.recurring.interval_count", at);
	param_int(r, path, &pf->interval_count);
	pf->recurring = true;
	pf->active = pf->product_active = true;
	pf->usage_type = "licensed";
	return 0;
}

/* items[n][price_data] of a create */
static int item_price_data(struct req *r, int n, struct price_facts *pf)
{
	char path[48];
	snprintf(path, sizeof(path), "items.%d.price_data", n);
	return price_data_at(r, path, arena_printf(&r->arena, "items[%d][price_data]", n), pf);
}

int discount_spec_parse_at(struct req *r, const char *path, const struct discount_spec **ret)
{
	*ret = NULL;
	if (!param_present(r, path))
		return 0;
	struct discount_spec *spec = arena_alloc(&r->arena, sizeof(*spec));
	if (!spec)
		return req_fail(r, ERR_API, NULL, NULL);
	if (discount_spec_parse(r, path, false, spec) != 0)
		return -1;
	/* its entries are named as the request names them (items[0][discounts][1][coupon], not
	 * the dotted path) */
	char brackets[128];
	size_t k = 0;
	bool open = false;
	for (const char *p = path; *p && k + 3 < sizeof(brackets); p++) {
		if (*p == '.') {
			if (open)
				brackets[k++] = ']';
			brackets[k++] = '[';
			open = true;
		} else {
			brackets[k++] = *p;
		}
	}
	if (open)
		brackets[k++] = ']';
	brackets[k] = '\0';
	size_t plen = strlen(path);
	for (int i = 0; i < spec->n; i++) {
		const char *rest = strlen(spec->e[i].shown) >= plen ? spec->e[i].shown + plen : "";
		const char *shown = arena_printf(&r->arena, "%s%s", brackets, rest);
		if (!shown)
			return req_fail(r, ERR_API, NULL, NULL);
		spec->e[i].shown = shown;
	}
	*ret = spec;
	return 0;
}

/* Item it's discounts as spec asks (the item's own may be kept by id), resolved for its
 * subscription s at t into it->ds. 0, or -1 with r->err. */
static int item_discounts_resolve(struct req *r, struct db *db, const struct subscription *s,
				  struct sub_item *it, const struct discount_spec *spec, int64_t t)
{
	it->dspec = spec;
	it->n_ds = 0;
	it->ds = arena_alloc(&r->arena, DISCOUNTS_MAX * sizeof(*it->ds));
	if (!it->ds)
		return req_fail(r, ERR_API, NULL, NULL);
	/* what the item bills a period (for promotion codes' minimum_amount): a metered one's
	 * is its usage, not known yet */
	int64_t amount = 0;
	if (!item_metered(it) && price_facts_amount(&it->pf, it->quantity, &amount) != 0)
		amount = 0;
	return discounts_resolve(r, db, spec, s->customer, s->currency, amount, it->id, t, it->ds,
				 &it->n_ds);
}

/* Inside the write: the discounts each of s's items was given (resolved by
 * item_discounts_resolve) made, as copies (a re-run of the write starts again from what was
 * resolved); the ids they get are their lines' (it->ds_ids). 0, or -1 with r->err. */
static int items_discounts_store(struct req *r, struct db *db, struct subscription *s, int64_t t)
{
	for (int i = 0; i < s->n_items; i++) {
		struct sub_item *it = &s->items[i];
		it->ds_ids = NULL;
		if (!it->dspec)
			continue;
		struct discount *ds = arena_alloc(&r->arena, DISCOUNTS_MAX * sizeof(*ds));
		if (!ds)
			return req_fail(r, ERR_API, NULL, NULL);
		memcpy(ds, it->ds, (size_t)it->n_ds * sizeof(*ds));
		if (subscription_item_discounts_set(r, db, s->id, it->id, s->customer, t, ds,
						    it->n_ds, &it->ds_ids) != 0)
			return -1;
	}
	return 0;
}

/* items[n]: price or price_data, quantity, metadata → c->s.items (prices' facts for
 * price_data from the parameters; for price, read with the customer). */
static int parse_items(struct req *r, struct create_ctx *c)
{
	struct subscription *s = &c->s;
	/* the create's items[], or a preview's (subscription_details[items], subscription_items) */
	const char *param = c->items_param ? c->items_param : "items";
	const char *shown = c->items_shown ? c->items_shown : "items";
	const struct form_node *items = param_node(r, param);
	int n = 0;
	for (const struct form_node *x = items ? items->first_child : NULL; x; x = x->next) {
		if (n == SUB_ITEMS_MAX)
			return req_fail(r, ERR_PARAM_BAD, shown,
					"A subscription can have at most %d items.", SUB_ITEMS_MAX);
		struct sub_item *it = &s->items[n];
		memset(it, 0, sizeof(*it));
		it->data = -1;
		id_new_at(it->id, "si_", r->now);
		char path[96];
		snprintf(path, sizeof(path), "%s.%d.tax_rates", param, n);
		if (tax_rate_spec_parse(r, path, item_shown(r, c, n, "[tax_rates]"),
					&c->item_tax[n]) != 0)
			return -1;
		it->tax = &c->item_tax[n];
		snprintf(path, sizeof(path), "%s.%d.discounts", param, n);
		if (discount_spec_parse_at(r, path, &it->dspec) != 0)
			return -1;
		snprintf(path, sizeof(path), "%s.%d", param, n);
		if (param_price_or_plan(r, path, item_shown(r, c, n, ""), &it->price) != 0)
			return -1;
		snprintf(path, sizeof(path), "%s.%d.price_data", param, n);
		bool data = param_present(r, path);
		if ((it->price && *it->price) == data)
			return req_fail(r, ERR_PARAM_BAD, item_shown(r, c, n, ""),
					"Each item needs exactly one of price and price_data.");
		it->quantity = 1;
		snprintf(path, sizeof(path), "%s.%d.quantity", param, n);
		it->quantity_given = param_int(r, path, &it->quantity) == 1;
		if (it->quantity_given && (it->quantity < 1 || it->quantity > QUANTITY_MAX))
			return req_fail(r, ERR_PARAM_BAD, item_shown(r, c, n, "[quantity]"),
					"Invalid quantity: must be between 1 and %d.",
					QUANTITY_MAX);
		it->metadata = "{}";
		snprintf(path, sizeof(path), "%s.%d.metadata", param, n);
		if (metadata_apply(r, NULL, path, &it->metadata) != 0)
			return -1;
		bool th;
		snprintf(path, sizeof(path), "%s.%d.billing_thresholds", param, n);
		if (subscription_item_thresholds_param(r, path,
						       item_shown(r, c, n, "[billing_thresholds]"),
						       &it->thresholds, &th) != 0)
			return -1;
		if (data && c->items_param)
			return req_fail(r, ERR_PARAM_BAD, item_shown(r, c, n, "[price_data]"),
					"Tender previews a new subscription's items by their "
					"price: price_data is not taken there.");
		if (data) {
			it->data = n;
			if (item_price_data(r, n, &it->pf) != 0)
				return -1;
		}
		n++;
	}
	if (n == 0)
		return req_fail(r, ERR_PARAM_MISSING, shown, "%s", shown);
	s->n_items = n;
	for (int i = 0; i < n; i++)
		for (int k = 0; k < i; k++)
			if (s->items[i].price && s->items[k].price &&
			    strcmp(s->items[i].price, s->items[k].price) == 0)
				return req_fail(r, ERR_PARAM_BAD, item_shown(r, c, i, "[price]"),
						"Cannot add multiple subscription items with the "
						"same price: %s.",
						s->items[i].price);
	return 0;
}

static int create_run(struct req *r, struct create_ctx *c);

/* billing_cycle_anchor (a timestamp) or billing_cycle_anchor_config[day_of_month, hour, minute,
 * second, month] of a create, and its proration_behavior; checked against the timeline by
 * create_run. 0, or -1 with r->err. */
static int anchor_parse(struct req *r, struct create_ctx *c)
{
	bool has_at = param_present(r, "billing_cycle_anchor");
	bool has_config = param_present(r, "billing_cycle_anchor_config");
	if (has_at && has_config)
		return req_fail(r, ERR_PARAM_BAD, "billing_cycle_anchor_config",
				"You may only specify one of these parameters: "
				"billing_cycle_anchor, billing_cycle_anchor_config.");
	if (has_at && param_int(r, "billing_cycle_anchor", &c->anchor_at) != 1)
		return req_fail(r, ERR_PARAM_INVALID_INTEGER, "billing_cycle_anchor", "%s",
				param_str(r, "billing_cycle_anchor"));
	if (has_config) {
		static const struct {
			const char *name;
			int lo, hi;
		} f[] = {{"day_of_month", 1, 31},
			 {"month", 1, 12},
			 {"hour", 0, 23},
			 {"minute", 0, 59},
			 {"second", 0, 59}};
		int *out[] = {&c->anchor_day, &c->anchor_month, &c->anchor_hour, &c->anchor_minute,
			      &c->anchor_second};
		/* shown as given (the spec's object, its keys in order; null: not given), not
		 * with the time of day create_run fills in */
		const char *shown[5] = {"null", "null", "null", "null", "null"};
		for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
			char path[64];
			snprintf(path, sizeof(path), "billing_cycle_anchor_config.%s", f[i].name);
			int64_t v = 0;
			if (param_int(r, path, &v) != 1)
				continue;
			shown[i] = arena_printf(&r->arena, "%lld", (long long)v);
			if (!shown[i])
				return req_fail(r, ERR_API, NULL, NULL);
			if (v < f[i].lo || v > f[i].hi)
				return req_fail(
				    r, ERR_PARAM_BAD,
				    arena_printf(&r->arena, "billing_cycle_anchor_config[%s]",
						 f[i].name),
				    "%s must be between %d and %d.", f[i].name, f[i].lo, f[i].hi);
			*out[i] = (int)v;
			if (i >= 2)
				c->anchor_time_given = true;
		}
		c->s.anchor_config = arena_printf(&r->arena,
						  "{\"day_of_month\":%s,\"hour\":%s,\"minute\":%s,"
						  "\"month\":%s,\"second\":%s}",
						  shown[0], shown[2], shown[3], shown[1], shown[4]);
		if (!c->s.anchor_config)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	const char *pb = param_str(r, "proration_behavior");
	c->prorate_none = str_eq(pb, "none");
	if (pb && !has_at && !has_config && !param_present(r, "cancel_at"))
		return req_fail(r, ERR_PARAM_BAD, "proration_behavior",
				"proration_behavior applies to a create only with "
				"billing_cycle_anchor, billing_cycle_anchor_config or cancel_at.");
	return 0;
}

/* collection_method and days_until_due of a create (s NULL) or of an update of s: what the
 * subscription's become (ret_sends, ret_days). Stripe's rules: send_invoice needs
 * days_until_due (an update of a send_invoice subscription keeps its own), which
 * charge_automatically refuses. Nothing is read or written. 0, or -1 with r->err. */
static int collection_parse(struct req *r, const struct subscription *s, bool *ret_sends,
			    int64_t *ret_days)
{
	const char *cm = param_str(r, "collection_method");
	bool sends = cm ? str_eq(cm, "send_invoice") : s && s->sends;
	int64_t days = 0;
	bool has_days = param_int(r, "days_until_due", &days) == 1;
	if (has_days && !sends)
		return req_fail(r, ERR_PARAM_BAD, "days_until_due",
				"Invalid days_until_due: it can only be set when collection_method "
				"is send_invoice.");
	if (has_days && (days < 0 || days > INVOICE_DAYS_UNTIL_DUE_MAX))
		return req_fail(r, ERR_PARAM_BAD, "days_until_due",
				"days_until_due must be between 0 and %d.",
				INVOICE_DAYS_UNTIL_DUE_MAX);
	if (sends && !has_days) {
		if (!s || !s->sends)
			return req_fail(r, ERR_PARAM_MISSING, "days_until_due", "days_until_due");
		days = s->days_until_due;
	}
	*ret_sends = sends;
	*ret_days = sends ? days : 0;
	return 0;
}

/* The discounts asked for, checked and priced against the first invoice (a period's items:
 * their total is what a promotion code's minimum_amount looks at). */
static int create_discounts_fn(struct db *db, void *p)
{
	struct create_ctx *c = p;
	struct req *r = c->r;
	struct subscription *s = &c->s;
	c->ds = arena_alloc(&r->arena, DISCOUNTS_MAX * sizeof(*c->ds));
	if (!c->ds)
		return req_fail(r, ERR_API, NULL, NULL);
	if (add_items_discounts(r, db, &c->add, c->add_ii) != 0)
		return -1;
	/* items[n][discounts]: each item's own, first on its lines */
	for (int i = 0; i < s->n_items; i++)
		if (s->items[i].dspec &&
		    item_discounts_resolve(r, db, s, &s->items[i], s->items[i].dspec, c->t0) != 0)
			return -1;
	if (!c->spec.n) {
		/* none of its own: its invoices take the customer's (discounts.c), which is not
		 * made for it */
		c->n_ds = 0;
		struct discount *cd = arena_alloc(&r->arena, sizeof(*cd));
		int rc = cd ? customer_discount_get(r, db, s->customer, c->t0, cd) : DB_ERR;
		if (rc != DB_OK && rc != DB_NOTFOUND)
			return req_fail(r, ERR_API, NULL, NULL);
		return planned_total(r, db, s, true, c->trial, NULL, c->add_ii, c->add.n, &c->add,
				     c->add_ii, cd, rc == DB_OK, c->t0, &c->due, &c->credited);
	}
	if (discounts_resolve(r, db, &c->spec, s->customer, s->currency, c->total, NULL, c->t0,
			      c->ds, &c->n_ds) != 0)
		return -1;
	return planned_total(r, db, s, true, c->trial, NULL, c->add_ii, c->add.n, &c->add,
			     c->add_ii, c->ds, c->n_ds, c->t0, &c->due, &c->credited);
}

int subscription_billing_mode_param_pd(struct req *r, const char *path, const char *shown,
				       bool *ret_flexible, const char **ret_pd)
{
	const char *type = param_str(r, arena_printf(&r->arena, "%s.type", path));
	const char *fpath = arena_printf(&r->arena, "%s.flexible", path);
	const char *pd =
	    param_str(r, arena_printf(&r->arena, "%s.flexible.proration_discounts", path));
	if (!fpath)
		return req_fail(r, ERR_API, NULL, NULL);
	*ret_flexible = type ? str_eq(type, "flexible") : api_version_from(r, "2025-09-30");
	if (!*ret_flexible && param_present(r, fpath))
		return req_fail(r, ERR_PARAM_BAD, arena_printf(&r->arena, "%s[flexible]", shown),
				"`%s[flexible]` can only be set when `%s[type]` is `flexible`.",
				shown, shown);
	*ret_pd = !*ret_flexible ? NULL : str_eq(pd, "itemized") ? "itemized" : "included";
	return 0;
}

static int h_create(struct req *r)
{
	struct create_ctx c;
	memset(&c, 0, sizeof(c));
	c.r = r;
	struct subscription *s = &c.s;
	s->customer = param_str(r, "customer");
	if (collection_parse(r, NULL, &s->sends, &s->days_until_due) != 0)
		return -1;
	c.behavior = param_str(r, "payment_behavior");
	if (!c.behavior)
		c.behavior = "allow_incomplete";
	if (str_eq(c.behavior, "pending_if_incomplete"))
		return req_fail(r, ERR_PARAM_BAD, "payment_behavior",
				"pending_if_incomplete only applies to updates that change the "
				"subscription's items.");
	c.pm = param_str(r, "default_payment_method");
	if (c.pm && !*c.pm)
		c.pm = NULL;
	/* `currency`: the items' prices in it (create_read_fn, currency_check) */
	if (param_present(r, "currency") && param_currency(r, "currency", NULL, s->currency) != 0)
		return -1;
	if (parse_items(r, &c) != 0 || add_items_parse(r, &c.add) != 0)
		return -1;
	int64_t days;
	const char *te = param_str(r, "trial_end");
	if (te && !str_eq(te, "now")) {
		if (parse_i64(te, &c.trial_end_at) != 0)
			return req_fail(r, ERR_PARAM_INVALID_INTEGER, "trial_end", "%s", te);
	} else if (!te && param_int(r, "trial_period_days", &days) == 1) {
		if (days < 0 || days > TRIAL_DAYS_MAX)
			return req_fail(r, ERR_PARAM_BAD, "trial_period_days",
					"trial_period_days must be between 0 and %d.",
					TRIAL_DAYS_MAX);
		c.trial_days = days;
	}
	param_bool(r, "trial_from_plan", &c.trial_from_plan);
	if (anchor_parse(r, &c) != 0)
		return -1;
	if (c.trial_from_plan && (te || param_present(r, "trial_period_days")))
		return req_fail(r, ERR_PARAM_BAD, "trial_from_plan",
				"trial_from_plan cannot be combined with trial_end or "
				"trial_period_days.");
	s->metadata = "{}";
	if (metadata_apply(r, NULL, "metadata", &s->metadata) != 0)
		return -1;
	const char *desc = param_str(r, "description");
	s->description = desc && *desc ? desc : NULL;
	param_bool(r, "cancel_at_period_end", &c.cancel_at_period_end);
	param_int(r, "backdate_start_date", &c.backdate);
	if (param_present(r, "cancel_at") && c.cancel_at_period_end)
		return req_fail(r, ERR_PARAM_BAD, "cancel_at",
				"You may only specify one of these parameters: cancel_at, "
				"cancel_at_period_end.");
	if (settings_params(r, s, NULL) != 0)
		return -1;
	c.settings = true;
	if (discount_spec_parse(r, "discounts", true, &c.spec) != 0 ||
	    tax_rate_spec_parse(r, "default_tax_rates", "default_tax_rates", &c.default_tax) != 0)
		return -1;
	s->default_tax = &c.default_tax;
	param_bool(r, "automatic_tax.enabled", &s->automatic_tax);
	if (s->automatic_tax && c.default_tax.present && c.default_tax.n > 0)
		return req_fail(r, ERR_PARAM_BAD, "default_tax_rates",
				"You cannot use default_tax_rates together with automatic tax.");
	const char *mpm = param_str(r, "trial_settings.end_behavior.missing_payment_method");
	s->trial_missing_pm = mpm ? mpm : "create_invoice";
	if (subscription_billing_mode_param_pd(r, "billing_mode", "billing_mode", &s->flexible,
					       &s->proration_discounts) != 0)
		return -1;
	/* cancel_at (after billing_mode, which its end-of-period values need); those resolve to
	 * the first period's end once create_plan has it */
	const char *cat = param_str(r, "cancel_at");
	if (cat &&
	    cancel_at_value(r, s->flexible, cat, &s->cancel_at, &c.cancel_at_period_end_kw) != 0)
		return -1;
	return create_run(r, &c);
}

/* A Checkout Session's first invoice, inside its payment's write: the checkout's rows (its
 * customer, the session's attempt), then the subscription's. */
static int checkout_before(struct req *r, struct db *db, void *p)
{
	struct create_ctx *c = p;
	if (c->co->before && c->co->before(r, db, c->co->ctx) != 0)
		return -1;
	return create_rows(r, db, c);
}

/* A decline keeps nothing: the buyer is still on the page and tries again, and the session
 * has no subscription (Stripe makes none for a checkout that was not paid). The card error is
 * the page's message. A payment waiting for 3-D Secure is kept (incomplete, its invoice open)
 * until the challenge ends. A bank debit (sepa_debit, us_bank_account) completes the session
 * here, its intent processing, or (an ACH account typed on the page) waiting for its
 * microdeposits, the subscription incomplete (checkout_complete: unpaid until the bank
 * answers). */
static int checkout_answer(struct req *r, struct db *db, void *p, int rc)
{
	struct create_ctx *c = p;
	if (rc == 0 && c->co->bank_debit && checkout_complete(r, db, c->co->checkout_session) != 0)
		return -1;
	if (rc == REQ_COMMIT_ERR) {
		r->err.charge_id[0] = '\0';
		buf_reset(&r->err.extra);
		return -1;
	}
	return rc;
}

/* A trial (or a free first period) bought through a Checkout Session: nothing is charged; the
 * card is attached to the customer for the invoices after the trial, and the session completes
 * in the same write as the subscription is made. */
static int checkout_free_fn(struct db *db, void *p)
{
	struct create_ctx *c = p;
	struct req *r = c->r;
	if (c->co->before && c->co->before(r, db, c->co->ctx) != 0)
		return -1;
	const char *pm_id;
	char owner[ID_MAX];
	/* no card at all: a session with payment_method_collection=if_required */
	if (c->pm && (pm_attach_resolve(r, db, c->pm, "payment_method", &pm_id, owner) != 0 ||
		      pm_attach_finish(r, db, pm_id, owner, c->s.customer) != 0))
		return -1;
	if (create_rows(r, db, c) != 0)
		return -1;
	return checkout_complete(r, db, c->co->checkout_session);
}

/* ids (n of them, at most BILLING_TAX_RATES_MAX taken) as the tax_rate_spec *s a create asks
 * for (a Checkout Session's or a quote's rates, checked again when stored); NULL when n is 0. */
static const struct tax_rate_spec *spec_of_ids(struct tax_rate_spec *s, const char *const *ids,
					       int n, const char *shown)
{
	memset(s, 0, sizeof(*s));
	if (n <= 0 || !ids)
		return NULL;
	s->present = true;
	s->shown = shown;
	s->carried = true;
	for (int k = 0; k < n && k < BILLING_TAX_RATES_MAX; k++)
		s->ids[s->n++] = ids[k];
	return s;
}

int subscriptions_checkout(struct req *r, struct sub_checkout *co)
{
	struct create_ctx *c = arena_alloc(&r->arena, sizeof(*c));
	if (!c)
		return req_fail(r, ERR_API, NULL, NULL);
	memset(c, 0, sizeof(*c));
	c->r = r;
	c->co = co;
	c->behavior = "allow_incomplete";
	c->pm = co->pm_id;
	c->trial_days = co->trial_days;
	struct subscription *s = &c->s;
	s->customer = co->customer;
	s->trial_missing_pm = "create_invoice";
	s->flexible = co->flexible;
	s->proration_discounts =
	    str_eq(co->proration_discounts, "itemized") ? "itemized" : "included";
	if (co->coupon || co->promotion_code) {
		/* the session's discount becomes the subscription's (redeemed by create_rows) */
		c->spec.present = true;
		c->spec.n = 1;
		c->spec.e[0].coupon = co->promotion_code ? NULL : co->coupon;
		c->spec.e[0].promotion_code = co->promotion_code;
		c->spec.e[0].shown = co->promotion_code ? "promotion_code" : "discounts[0][coupon]";
	}
	s->metadata = co->metadata ? co->metadata : "{}";
	s->description = co->description;
	s->automatic_tax = co->automatic_tax;
	s->auto_tax_address = co->tax_address;
	/* the session's currency: its line items were priced in it (currency_options too) */
	if (co->currency)
		str_copy(s->currency, sizeof(s->currency), co->currency);
	str_copy(s->id, sizeof(s->id), co->id);
	for (int i = 0; i < co->n_items; i++) {
		struct sub_item *it = &s->items[i];
		memset(it, 0, sizeof(*it));
		it->data = -1;
		id_new_at(it->id, "si_", r->now);
		it->price = co->items[i].price;
		it->quantity = co->items[i].quantity;
		it->metadata = "{}";
		it->tax = spec_of_ids(&c->item_tax[i], co->items[i].tax_rates,
				      co->items[i].n_tax_rates, "line_items[tax_rates]");
	}
	s->n_items = co->n_items;
	return create_run(r, c);
}

/* c (zeroed) as the create of schedule x's subscription: its first phase's items, trial,
 * payment method, discounts and settings (a preview of a new schedule plans it the same way).
 * 0, or -1 with r->err. */
static int for_schedule_ctx(struct req *r, struct sub_for_schedule *x, struct create_ctx *c)
{
	c->r = r;
	c->sc = x;
	c->behavior = "allow_incomplete";
	c->pm = x->pm;
	c->trial_end_at = x->trial_end;
	c->spec = x->discounts;
	struct subscription *s = &c->s;
	s->customer = x->customer;
	s->trial_missing_pm = "create_invoice";
	s->flexible = x->flexible;
	s->proration_discounts =
	    str_eq(x->proration_discounts, "itemized") ? "itemized" : "included";
	s->metadata = x->metadata ? x->metadata : "{}";
	s->description = x->description;
	s->sends = x->sends;
	s->days_until_due = x->sends ? x->days_until_due : 0;
	s->automatic_tax = x->automatic_tax;
	s->account_tax_ids = x->account_tax_ids;
	/* a quote's Connect terms, as POST /v1/subscriptions takes them (settings_params) */
	s->fee_set = x->fee_set;
	s->fee_e4 = x->fee_e4;
	s->on_behalf_of = x->on_behalf_of;
	if (x->transfer_destination) {
		char pct[16] = "null";
		if (x->transfer_percent_set)
			billing_percent_format(x->transfer_percent_e4, pct, sizeof(pct));
		s->transfer_data =
		    arena_printf(&r->arena, "{\"amount_percent\":%s,\"destination\":%s}", pct,
				 json_quote(r, x->transfer_destination));
		if (!s->transfer_data)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	/* the quote's or the schedule's currency: the items' prices in it (currency_options) */
	if (x->currency && *x->currency)
		str_copy(s->currency, sizeof(s->currency), x->currency);
	for (int i = 0; i < x->n_items && i < SUB_ITEMS_MAX; i++) {
		struct sub_item *it = &s->items[i];
		memset(it, 0, sizeof(*it));
		it->data = -1;
		id_new_at(it->id, "si_", r->now);
		it->price = x->items[i].price;
		it->quantity = x->items[i].quantity;
		it->metadata = "{}";
		it->tax = spec_of_ids(&c->item_tax[i], x->items[i].tax_rates,
				      x->items[i].n_tax_rates, "line_items[tax_rates]");
		/* a schedule phase's item's own discounts, resolved and made as items[n][discounts]
		 * of a create are (create_discounts_fn, items_discounts_store) */
		it->dspec = x->items[i].discounts;
	}
	s->n_items = x->n_items < SUB_ITEMS_MAX ? x->n_items : SUB_ITEMS_MAX;
	/* a schedule's first phase's add_invoice_items, as a create's (its first invoice) */
	c->add.n = 0;
	for (int i = 0; i < x->n_add && i < SUB_ADD_ITEMS_MAX; i++) {
		struct add_item *ai = &c->add.it[c->add.n++];
		memset(ai, 0, sizeof(*ai));
		ai->price = x->add[i].price;
		ai->quantity = x->add[i].quantity;
		ai->metadata = "{}";
		if (x->add[i].discounts)
			ai->spec = *x->add[i].discounts;
	}
	s->default_tax = spec_of_ids(&c->default_tax, x->default_tax_rates, x->n_default_tax_rates,
				     "default_tax_rates");
	return 0;
}

int subscription_create_for_schedule(struct req *r, struct sub_for_schedule *x)
{
	struct create_ctx *c = arena_alloc(&r->arena, sizeof(*c));
	if (!c)
		return req_fail(r, ERR_API, NULL, NULL);
	memset(c, 0, sizeof(*c));
	if (for_schedule_ctx(r, x, c) != 0)
		return -1;
	return create_run(r, c);
}

/* The first invoice's amount due: its total with the customer's balance as it is now (a
 * checkout's new customer has none). */
static int create_due_fn(struct db *db, void *p)
{
	struct create_ctx *c = p;
	/* its billing credits come off first, as its finalization applies them */
	return invoice_planned_due(c->r, db, c->s.customer, c->s.currency, c->due - c->credited,
				   &c->amount_due);
}

/* A create's `currency` (s->currency, set before the read): every item's price in it, its own
 * or a currency_options entry for it (price_facts_in read it so). 0, or -1 with r->err. */
static int currency_check(struct req *r, const struct create_ctx *c)
{
	const struct subscription *s = &c->s;
	for (int i = 0; i < s->n_items; i++) {
		const struct sub_item *it = &s->items[i];
		if (str_eq(it->pf.currency, s->currency))
			continue;
		if (it->data >= 0)
			return req_fail(
			    r, ERR_PARAM_BAD,
			    arena_printf(&r->arena, "items[%d][price_data][currency]", it->data),
			    "The price_data's currency (%s) must be the subscription's `currency` "
			    "(%s).",
			    it->pf.currency, s->currency);
		return req_fail(
		    r, ERR_PARAM_BAD, item_shown(r, c, i, "[price]"),
		    "The price specified (%s) is in %s and has no currency_options entry "
		    "for %s, the subscription's `currency`.",
		    it->price, it->pf.currency, s->currency);
	}
	return 0;
}

/* A create's billing cycle anchor (c->anchor_at or its _config) with a trial that ends at
 * trial_end (both in the subscription's time), into *ret. Stripe's rules: the anchor is not
 * before the trial's end (at it, it is a plain trial) and, as without a trial, no later than
 * one full period after the first paid period starts (the trial's end); a _config is the first
 * such time from the trial's end on, its time of day the trial end's when not given. 0, or -1
 * with r->err. */
static int trial_anchor_get(struct req *r, struct create_ctx *c, enum billing_interval iv,
			    int64_t trial_end, int64_t *ret)
{
	const char *param = c->anchor_day ? "billing_cycle_anchor_config"
					  : NAME_OR(c->anchor_shown, "billing_cycle_anchor");
	int64_t anchor = c->anchor_at, full_end;
	if (billing_period_end(trial_end, iv, c->s.interval_count, 1, &full_end) != 0)
		return req_fail(r, ERR_PARAM_BAD, "items", "The billing period is out of range.");
	if (c->anchor_day) {
		int64_t sod = ((trial_end % 86400) + 86400) % 86400;
		if (!c->anchor_time_given) {
			c->anchor_hour = (int)(sod / 3600);
			c->anchor_minute = (int)(sod / 60 % 60);
			c->anchor_second = (int)(sod % 60);
		}
		if (billing_anchor_config(trial_end - 1, iv, c->anchor_day, c->anchor_month,
					  c->anchor_hour, c->anchor_minute, c->anchor_second,
					  &anchor) != 0)
			return req_fail(r, ERR_PARAM_BAD, param,
					"billing_cycle_anchor_config applies to monthly prices "
					"(without month) and yearly prices only.");
	}
	if (anchor < trial_end)
		return req_fail(r, ERR_PARAM_BAD, param,
				"The billing cycle anchor cannot be before the trial ends "
				"(trial_end %lld).",
				(long long)trial_end);
	if (anchor > full_end)
		return req_fail(r, ERR_PARAM_BAD, param,
				"The billing cycle anchor must be no later than one full billing "
				"period after the trial ends.");
	*ret = anchor;
	return 0;
}

/* The create's plan after its read (create_read_fn): its items' one currency and interval, and
 * its timeline in its own time from c->t0 (trial, anchor, backdating) into c->s, its period's
 * total (c->total) and its add_invoice_items (c->add_ii). Nothing read or written: a preview of
 * the create (subscription_new_preview) plans it the same way. 0, or -1 with r->err. */
static int create_plan(struct req *r, struct create_ctx *c)
{
	struct subscription *s = &c->s;
	for (int i = 0; i < s->n_items; i++)
		s->items[i].created = c->t0;
	if (s->currency[0] && currency_check(r, c) != 0)
		return -1;
	/* one currency and one billing interval for every item, as Stripe requires */
	for (int i = 0; i < s->n_items; i++) {
		const struct price_facts *pf = &s->items[i].pf;
		/* usage thresholds count a metered item's usage */
		if (s->items[i].thresholds && !item_metered(&s->items[i]))
			return req_fail(r, ERR_PARAM_BAD,
					item_shown(r, c, i, "[billing_thresholds]"),
					"Usage thresholds can only be set on items with a metered "
					"price.");
		enum billing_interval iv;
		if (billing_interval_parse(pf->interval, &iv) != 0)
			return req_fail(
			    r, ERR_PARAM_BAD,
			    arena_printf(&r->arena, "items[%d][price_data][recurring]", i),
			    "Each item needs a recurring price (interval day, week, "
			    "month or year).");
		if (i == 0) {
			str_copy(s->currency, sizeof(s->currency), pf->currency);
			str_copy(s->interval, sizeof(s->interval), pf->interval);
			s->interval_count = pf->interval_count;
		} else if (strcmp(pf->currency, s->currency) != 0) {
			return req_fail(r, ERR_PARAM_BAD, item_shown(r, c, i, ""),
					"All of a subscription's prices must be in the same "
					"currency (%s).",
					s->currency);
		} else if (strcmp(pf->interval, s->interval) != 0 ||
			   pf->interval_count != s->interval_count) {
			return req_fail(r, ERR_PARAM_BAD, item_shown(r, c, i, ""),
					"All of a subscription's prices must have the same billing "
					"interval (every %lld %s).",
					(long long)s->interval_count, s->interval);
		}
	}
	if (!currency_find(s->currency))
		return req_fail(r, ERR_INVALID_CURRENCY, "items", "Invalid currency: %s.",
				s->currency);
	if (billing_pm_types_param(r, SUB_PM_TYPES, SUB_PM_TYPES_SHOWN, s->currency,
				   &s->payment_method_types) < 0 ||
	    sub_pmo_params(r, s) != 0)
		return -1;
	save_default_param(r, s, NULL);
	if (s->interval_count < 1 || s->interval_count > 1095)
		return req_fail(r, ERR_PARAM_BAD, "items", "Invalid interval_count.");
	/* the timeline, in the subscription's own time (its customer's test clock's, if any) */
	enum billing_interval iv;
	billing_interval_parse(s->interval, &iv);
	int64_t t0 = c->t0;
	int64_t trial_end = c->trial_end_at ? c->trial_end_at
			    : c->trial_days ? t0 + c->trial_days * 86400
					    : 0;
	if (trial_end && (trial_end <= t0 || trial_end > t0 + TRIAL_DAYS_MAX * 86400LL))
		return req_fail(r, ERR_PARAM_BAD, NAME_OR(c->trial_end_shown, "trial_end"),
				"Invalid timestamp: must be in the future and at most %d days "
				"after the subscription starts.",
				TRIAL_DAYS_MAX);
	/* a trial's later anchor (0: the trial's end is the anchor) */
	int64_t trial_anchor = 0;
	if (trial_end && (c->anchor_at || c->anchor_day) &&
	    trial_anchor_get(r, c, iv, trial_end, &trial_anchor) != 0)
		return -1;
	if (!c->co)
		id_new_at(s->id, "sub_", t0);
	if (c->sc)
		str_copy(c->sc->id, sizeof(c->sc->id), s->id);
	s->created = s->start_date = t0;
	s->mode_updated_at = t0; /* it takes its billing mode as it is made */
	s->version = 1;
	/* pending_invoice_item_interval: its pending items are first invoiced one interval on */
	if (pending_interval_next(s, t0, t0, &s->next_pending_at) != 0)
		return req_fail(r, ERR_PARAM_BAD, "pending_invoice_item_interval",
				"The pending invoice item interval is out of range.");
	/* backdate_start_date: the subscription, and its first period, began then; its first
	 * invoice bills from then (see "backdating") */
	int64_t start = t0;
	if (c->backdate) {
		if (c->backdate >= t0)
			return req_fail(
			    r, ERR_PARAM_BAD, NAME_OR(c->backdate_shown, "backdate_start_date"),
			    "Invalid timestamp: backdate_start_date must be in the past.");
		if (trial_end)
			return req_fail(
			    r, ERR_PARAM_BAD, NAME_OR(c->backdate_shown, "backdate_start_date"),
			    "Tender does not combine backdate_start_date with a trial.");
		start = s->start_date = c->backdate;
	}
	bool cape = c->cancel_at_period_end;
	s->cancel_at_period_end = cape;
	if (cape)
		s->canceled_at = t0;
	if (s->cancel_at && s->cancel_at <= t0)
		return req_fail(r, ERR_PARAM_BAD, "cancel_at",
				"Invalid timestamp: cancel_at must be in the future.");
	if (s->cancel_at)
		s->canceled_at = t0; /* when it was asked for */
	s->period_start = start;
	int rcp;
	if (trial_end) {
		c->trial = true;
		s->status = "trialing";
		s->trial_start = t0;
		s->trial_end = trial_end;
		s->anchor = trial_end;
		s->period_index = 0;
		s->period_end = trial_end;
		if (trial_anchor > trial_end) {
			/* the trial is period -1; period 0 runs from its end to the anchor */
			s->anchor = trial_anchor;
			s->period_index = -1;
		}
		rcp = 0;
	} else if (c->anchor_at || c->anchor_day) {
		/* a first partial period up to the anchor, then full ones from it */
		s->status = "incomplete";
		int64_t full_end, anchor = c->anchor_at, prev;
		rcp = billing_period_end(t0, iv, s->interval_count, 1, &full_end);
		if (rcp == 0 && c->anchor_day) {
			/* the time of day not given: the start's */
			int64_t sod = ((t0 % 86400) + 86400) % 86400;
			if (!c->anchor_time_given) {
				c->anchor_hour = (int)(sod / 3600);
				c->anchor_minute = (int)(sod / 60 % 60);
				c->anchor_second = (int)(sod % 60);
			}
			if (billing_anchor_config(t0, iv, c->anchor_day, c->anchor_month,
						  c->anchor_hour, c->anchor_minute,
						  c->anchor_second, &anchor) != 0)
				return req_fail(r, ERR_PARAM_BAD, "billing_cycle_anchor_config",
						"billing_cycle_anchor_config applies to monthly "
						"prices (without month) and yearly prices only.");
		}
		if (rcp == 0 && (anchor <= t0 || anchor > full_end))
			return req_fail(
			    r, ERR_PARAM_BAD,
			    c->anchor_day ? "billing_cycle_anchor_config"
					  : NAME_OR(c->anchor_shown, "billing_cycle_anchor"),
			    "The billing cycle anchor must be in the future and no later "
			    "than one full billing period after the subscription starts.");
		if (rcp == 0)
			rcp = billing_sub(anchor, iv, s->interval_count, &prev);
		s->anchor = s->period_end = anchor;
		s->period_index = 0;
		s->partial = true;
		s->partial_remaining = anchor - start;
		s->partial_period = c->prorate_none ? 0 : anchor - prev;
		if (rcp == 0 && c->backdate && s->partial_remaining > anchor - prev)
			return req_fail(
			    r, ERR_PARAM_BAD, NAME_OR(c->backdate_shown, "backdate_start_date"),
			    "backdate_start_date can be at most one billing period before "
			    "the billing cycle anchor.");
		if (rcp == 0 && !c->prorate_none && s->partial_remaining > s->partial_period)
			rcp = -1;
	} else {
		s->status = "incomplete";
		s->anchor = start;
		s->period_index = 1;
		rcp = billing_period_end(start, iv, s->interval_count, 1, &s->period_end);
		/* backdated: its first period, billed in full, still runs now */
		if (rcp == 0 && c->backdate && s->period_end <= t0)
			return req_fail(
			    r, ERR_PARAM_BAD, NAME_OR(c->backdate_shown, "backdate_start_date"),
			    "backdate_start_date can be at most one billing period in the "
			    "past (without a billing_cycle_anchor).");
	}
	if (rcp != 0)
		return req_fail(r, ERR_PARAM_BAD, "items", "The billing period is out of range.");
	if (c->cancel_at_period_end_kw) {
		s->cancel_at = s->period_end;
		s->canceled_at = t0; /* when it was asked for */
	}
	/* cancel_at in the first period: proration_behavior=none asks for no credit then */
	s->cancel_at_prorate = !c->prorate_none || s->cancel_at > s->period_end;
	struct billing_line lines[SUB_ITEMS_MAX];
	int64_t amounts[SUB_ITEMS_MAX];
	for (int i = 0; i < s->n_items; i++)
		lines[i] = item_line(&s->items[i]);
	if (billing_total(lines, s->n_items, amounts, &c->total) != 0)
		return req_fail(r, ERR_AMOUNT_TOO_LARGE, "items",
				"The subscription's items add up to more than %lld per period.",
				(long long)BILLING_AMOUNT_MAX);
	/* add_invoice_items: invoice items of the first invoice, in the subscription's currency */
	return add_items_build(r, &c->add, s, t0, c->add_ii, &c->add_sum);
}

/* The create after its parameters (the API's, or a Checkout Session's): prices and customer
 * read, the timeline in the subscription's own time, then its rows with the first invoice's
 * payment (or without one: a trial, a free first period). */
static int create_run(struct req *r, struct create_ctx *c)
{
	struct subscription *s = &c->s;
	if (req_read(r, create_read_fn, c) != 0 || create_plan(r, c) != 0)
		return -1;
	int64_t t0 = c->t0;
	/* the first invoice's discounts (its own, else its customer's), and so what it asks
	 * for; with the customer's balance, what it charges: an amount below the minimum charge
	 * is not charged (invoice_too_small, invoices.c) */
	c->due = c->trial ? 0 : c->total;
	if (req_read(r, create_discounts_fn, c) != 0 || req_read(r, create_due_fn, c) != 0)
		return -1;
	id_new_at(c->invoice_id, "in_", t0);
	if (c->co)
		str_copy(c->co->invoice_id, sizeof(c->co->invoice_id), c->invoice_id);
	s->latest_invoice = c->invoice_id;
	/* nothing to charge, or send_invoice: its first invoice is finalized for the customer to
	 * pay (due days_until_due days from now) and it is active at once, as on Stripe; that
	 * invoice's overdue notice is the invoice's own step */
	if (c->amount_due <= 0 || s->sends) {
		s->status = c->trial ? "trialing" : "active";
		/* default_incomplete with nothing due now (a trial, a free first invoice): as
		 * Stripe, a SetupIntent for the client to set up the payment method the
		 * payments to come will be charged to (Stripe.js confirmSetup); the API's own
		 * create only (Checkout and schedules collect theirs otherwise) */
		if (!s->sends && !c->co && !c->sc && str_eq(c->behavior, "default_incomplete") &&
		    !billing_pm_types_cash_only(s->payment_method_types)) {
			id_new_at(c->si_id, "seti_", r->now);
			s->pending_si = c->si_id;
		}
		sub_schedule(s, 0);
		return req_write(r, c->co ? checkout_free_fn : create_free_fn, c);
	}
	/* charge_automatically paid by bank transfer: its first invoice is paid from the
	 * customer's cash in the write that makes it, not charged (create_free_fn); until a
	 * transfer covers it the subscription is incomplete, as for any first payment waiting
	 * for its customer */
	if (!c->co && billing_pm_types_cash_only(s->payment_method_types)) {
		s->status = "incomplete";
		sub_schedule(s, 0);
		return req_write(r, create_free_fn, c);
	}
	/* a trial's first invoice with something due (add_invoice_items: a setup fee) is
	 * charged as any first invoice: incomplete until it is paid, then trialing
	 * (subscription_invoice_paid), as on Stripe */
	if (c->trial)
		s->status = "incomplete";
	/* a schedule starting by itself without a card: its first invoice waits for one */
	if (!c->pm && c->sc && c->sc->scheduled)
		c->behavior = "default_incomplete";
	if (!c->pm && !str_eq(c->behavior, "default_incomplete"))
		return req_fail(r, ERR_PARAM_BAD, "default_payment_method",
				"This customer has no attached payment source or default payment "
				"method. Please consider adding a default payment method.");
	sub_schedule(s, 0);
	struct pi_invoice pv = {
	    .amount = c->amount_due,
	    .currency = s->currency,
	    .description = "Subscription creation",
	    .customer = s->customer,
	    .pm_id = c->pm,
	    .return_url = c->co ? c->co->return_url : NULL,
	    .checkout_session = c->co && !c->co->bank_debit ? c->co->checkout_session : NULL,
	    .confirm = !str_eq(c->behavior, "default_incomplete"),
	    .verify_on_page = c->co && c->co->bank_debit,
	    .connect = sub_connect(r, s, c->amount_due),
	    .before = c->co ? checkout_before : create_before,
	    .answer = c->co ? checkout_answer : create_answer,
	    .ctx = c,
	};
	if (c->co)
		str_copy(c->pi_id, sizeof(c->pi_id), c->co->pi_id);
	else
		id_new_at(c->pi_id, "pi_", r->now);
	str_copy(pv.id, sizeof(pv.id), c->pi_id);
	pv.invoice = c->invoice_id;
	int rc = payment_intents_invoice(r, &pv);
	if (c->co) {
		c->co->status = pv.status;
		c->co->challenge_url = pv.challenge_url;
	}
	return rc;
}

/* ---- retrieve, update, cancel, list ---- */

struct one_ctx {
	struct req *r;
	const char *id;
	struct subscription s;
};

static int one_load(struct db *db, struct one_ctx *x, bool items)
{
	int rc = sub_load(x->r, db, x->id, items, &x->s);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "subscription", x->id, "id");
	return rc == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

static int retrieve_fn(struct db *db, void *p)
{
	struct one_ctx *x = p;
	if (one_load(db, x, true) != 0)
		return -1;
	return sub_render(x->r, db, &x->s, "", req_json(x->r));
}

static int h_retrieve(struct req *r)
{
	struct one_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, retrieve_fn, &x);
}

/* The latest invoice's next automatic attempt (0: none), for sub_schedule. */
static int64_t latest_next_attempt(struct req *r, struct db *db, const struct subscription *s)
{
	struct invoice in;
	if (!s->latest_invoice || invoice_load(r, db, s->latest_invoice, &in) != DB_OK)
		return 0;
	return sub_invoice_step(&in);
}

/* Is the subscription's test clock advancing? (Its subscriptions cannot change then.) */
static int clock_guard(struct req *r, struct db *db, const struct subscription *s)
{
	if (!s->test_clock)
		return 0;
	struct test_clock c;
	if (test_clock_load(r, db, s->test_clock, &c) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!str_eq(c.status, "ready"))
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"The subscription's test clock %s is advancing: wait until it is "
				"ready.",
				c.id);
	return 0;
}

/* pause_collection[behavior, resumes_at] (or "" to unset) on s at `now`; the previous value
 * goes into pj. Collection can be paused while the subscription bills (trialing, active,
 * past_due, unpaid), not while it is incomplete or paused. 0, or -1 with r->err. */
static int pause_params(struct req *r, struct subscription *s, int64_t now, struct json *pj)
{
	const char *whole = param_str(r, "pause_collection");
	bool unset = whole && !*whole;
	const char *behavior = unset ? NULL : param_str(r, "pause_collection.behavior");
	int64_t resumes_at = 0;
	if (!unset) {
		if (!str_eq(s->status, "active") && !str_eq(s->status, "past_due") &&
		    !str_eq(s->status, "trialing") && !str_eq(s->status, "unpaid"))
			return req_fail(r, ERR_INVALID_STATE, "pause_collection",
					"Collection cannot be paused on a %s subscription.",
					s->status);
		if (param_int(r, "pause_collection.resumes_at", &resumes_at) == 1 &&
		    resumes_at <= now)
			return req_fail(r, ERR_PARAM_BAD, "pause_collection[resumes_at]",
					"pause_collection[resumes_at] must be in the future.");
	}
	json_key(pj, "pause_collection");
	if (s->pause_behavior) {
		json_obj_open(pj);
		json_kv_str(pj, "behavior", s->pause_behavior);
		time_or_null(pj, "resumes_at", s->pause_resumes_at);
		json_obj_close(pj);
	} else {
		json_nil(pj);
	}
	s->pause_behavior = behavior;
	s->pause_resumes_at = behavior ? resumes_at : 0;
	return 0;
}

static int next_total(const struct subscription *s, int64_t *ret);

/* discounts[] (or coupon / promotion_code) of an update: the subscription's discounts
 * become those (kept ones by discounts[n][discount]), redeemed now; the previous ids go into
 * pj. A promotion code's minimum_amount looks at a period's total. 0, or -1 with r->err. */
static int discount_params(struct req *r, struct db *db, struct subscription *s, int64_t now,
			   struct json *pj)
{
	struct discount_spec spec;
	if (discount_spec_parse(r, "discounts", true, &spec) != 0)
		return -1;
	if (!spec.present)
		return 0;
	const char *old;
	struct discount *ds = arena_alloc(&r->arena, DISCOUNTS_MAX * sizeof(*ds));
	int n = 0;
	int64_t per = 0;
	if (!ds || sub_live_discount_ids(r, db, s->id, &old) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	if (next_total(s, &per) != 0)
		per = BILLING_AMOUNT_MAX;
	if (discounts_resolve(r, db, &spec, s->customer, s->currency, per, s->id, now, ds, &n) !=
		0 ||
	    discounts_attach(r, db, DISCOUNT_SUBSCRIPTION, s->id, s->customer, now, ds, n, NULL) !=
		0)
		return -1;
	json_kv_raw(pj, "discounts", old, strlen(old));
	return 0;
}

/* POST /v1/subscriptions/{id}'s own parameters (all but items and proration), applied to s
 * at `now`; what they change goes into the open previous_attributes object pj. 0, or -1 with
 * r->err. */
static int own_params(struct req *r, struct db *db, struct subscription *s, int64_t now,
		      struct json *pj)
{
	bool ended = str_eq(s->status, "canceled") || str_eq(s->status, "incomplete_expired");
	if (ended &&
	    (param_present(r, "cancel_at_period_end") || param_present(r, "collection_method") ||
	     param_present(r, "days_until_due") || param_present(r, "default_payment_method") ||
	     param_present(r, "description") || param_present(r, "pause_collection") ||
	     param_present(r, "trial_settings") || param_present(r, "discounts") ||
	     param_present(r, "coupon") || param_present(r, "promotion_code") ||
	     param_present(r, "cancel_at") || param_present(r, "billing_thresholds") ||
	     param_present(r, "pending_invoice_item_interval") ||
	     param_present(r, "application_fee_percent") || param_present(r, "transfer_data") ||
	     param_present(r, "on_behalf_of") || param_present(r, "default_source")))
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"A %s subscription can only update its cancellation_details and "
				"metadata.",
				s->status);
	if (param_present(r, "pause_collection") && pause_params(r, s, now, pj) != 0)
		return -1;
	bool cancel_at_changed;
	if (cancel_at_param(r, s, now, pj, &cancel_at_changed) != 0 ||
	    settings_params(r, s, pj) != 0 || settings_check(r, db, s) != 0)
		return -1;
	/* a pending_invoice_item_interval set (or changed) counts from now; unset, none is due */
	if (param_present(r, "pending_invoice_item_interval")) {
		if (pj && s->next_pending_at)
			json_kv_int(pj, "next_pending_invoice_item_invoice", s->next_pending_at);
		else if (pj)
			json_kv_null(pj, "next_pending_invoice_item_invoice");
		if (pending_interval_next(s, now, now, &s->next_pending_at) != 0)
			return req_fail(r, ERR_PARAM_BAD, "pending_invoice_item_interval",
					"The pending invoice item interval is out of range.");
	}
	if (discount_params(r, db, s, now, pj) != 0)
		return -1;
	const char *mpm = param_str(r, "trial_settings.end_behavior.missing_payment_method");
	if (mpm && !str_eq(mpm, s->trial_missing_pm)) {
		json_key(pj, "trial_settings");
		json_obj_open(pj);
		json_key(pj, "end_behavior");
		json_obj_open(pj);
		json_kv_null(pj, "billing_cycle_anchor");
		json_kv_str(pj, "missing_payment_method", s->trial_missing_pm);
		json_obj_close(pj);
		json_obj_close(pj);
		s->trial_missing_pm = mpm;
	}
	bool cape;
	if (param_bool(r, "cancel_at_period_end", &cape) == 1 && cape != s->cancel_at_period_end) {
		json_kv_bool(pj, "cancel_at_period_end", s->cancel_at_period_end);
		if (s->cancel_at && cape)
			time_or_null(pj, "cancel_at", s->cancel_at);
		if (!cancel_at_changed) /* else in pj already */
			time_or_null(pj, "canceled_at", s->canceled_at);
		/* one replaces the other */
		if (cape)
			s->cancel_at = 0;
		s->cancel_at_period_end = cape;
		/* Stripe: canceled_at is when the cancellation was asked for */
		s->canceled_at = cape ? now : 0;
		s->cancellation_reason = cape ? "cancellation_requested" : NULL;
	}
	const char *pm = param_str(r, "default_payment_method");
	if (pm) {
		if (*pm) {
			struct pm_card pc;
			int rc = pm_load(db, r->merchant_id, pm, &pc);
			if (rc == DB_NOTFOUND)
				return req_fail_missing(r, "payment_method", pm,
							"default_payment_method");
			if (rc != DB_OK)
				return req_fail(r, ERR_API, NULL, NULL);
			if (strcmp(pc.customer, s->customer) != 0)
				return req_fail(r, ERR_PARAM_BAD, "default_payment_method",
						"The customer does not have a payment method with "
						"the ID %s. The payment method must be attached to "
						"the customer.",
						pm);
		}
		json_kv_str_or_null(pj, "default_payment_method", s->default_payment_method);
		s->default_payment_method = *pm ? pm : NULL;
	}
	/* the collection method: invoices made from now on take it (those made keep theirs) */
	bool sends;
	int64_t days;
	if (collection_parse(r, s, &sends, &days) != 0)
		return -1;
	if (sends != s->sends || days != s->days_until_due) {
		if (sends != s->sends)
			json_kv_str(pj, "collection_method",
				    s->sends ? "send_invoice" : "charge_automatically");
		if (s->sends)
			json_kv_int(pj, "days_until_due", s->days_until_due);
		else
			json_kv_null(pj, "days_until_due");
		s->sends = sends;
		s->days_until_due = days;
	}
	if (billing_pm_types_param(r, SUB_PM_TYPES, SUB_PM_TYPES_SHOWN, s->currency,
				   &s->payment_method_types) < 0 ||
	    sub_pmo_params(r, s) != 0)
		return -1;
	save_default_param(r, s, pj);
	bool auto_tax = s->automatic_tax;
	if (param_bool(r, "automatic_tax.enabled", &auto_tax) == 1 &&
	    auto_tax != s->automatic_tax) {
		json_key(pj, "automatic_tax");
		json_obj_open(pj);
		json_kv_bool(pj, "enabled", s->automatic_tax);
		json_obj_close(pj);
		s->automatic_tax = auto_tax;
	}
	const char *desc = param_str(r, "description");
	if (desc) {
		json_kv_str_or_null(pj, "description", s->description);
		s->description = *desc ? desc : NULL;
	}
	/* default_tax_rates[] (tax_rates.c): its later invoices take them */
	struct tax_rate_spec *dt = arena_alloc(&r->arena, sizeof(*dt));
	if (!dt || tax_rate_spec_parse(r, "default_tax_rates", "default_tax_rates", dt) != 0)
		return dt ? -1 : req_fail(r, ERR_API, NULL, NULL);
	if (dt->present) {
		if (ended)
			return req_fail(r, ERR_INVALID_STATE, NULL,
					"A %s subscription can only update its "
					"cancellation_details and metadata.",
					s->status);
		json_key(pj, "default_tax_rates");
		if (tax_links_render(r, db, s->id, pj) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (tax_links_set(r, db, s->id, dt) != 0)
			return -1;
	}
	/* Stripe Tax and manual default rates do not go together (its renewals would refuse) */
	if (s->automatic_tax) {
		struct tax_rate rates[BILLING_TAX_RATES_MAX];
		int n_rates = 0;
		if (tax_links_load(r, db, s->id, rates, &n_rates) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (n_rates > 0)
			return req_fail(r, ERR_PARAM_BAD, "automatic_tax[enabled]",
					"You cannot use default_tax_rates together with automatic "
					"tax.");
	}
	cancellation_details_apply(r, s);
	if (param_present(r, "metadata")) {
		json_kv_raw(pj, "metadata", s->metadata, strlen(s->metadata));
		if (metadata_apply(r, s->metadata, "metadata", &s->metadata) != 0)
			return -1;
	}
	return 0;
}

static int update_fn(struct db *db, void *p)
{
	struct one_ctx *x = p;
	struct req *r = x->r;
	if (one_load(db, x, true) != 0 || clock_guard(r, db, &x->s) != 0)
		return -1;
	struct subscription *s = &x->s;
	bool ended = str_eq(s->status, "canceled") || str_eq(s->status, "incomplete_expired");
	int64_t now;
	if (billing_now(r, db, s->test_clock, &now) != 0)
		return -1;
	struct buf pb;
	struct json pj;
	buf_init(&pb, 64 * 1024);
	json_init(&pj, &pb);
	json_obj_open(&pj);
	if (own_params(r, db, s, now, &pj) != 0) {
		buf_release(&pb);
		return -1;
	}
	json_obj_close(&pj);
	const char *prev = pb.failed ? NULL : arena_strndup(&r->arena, pb.data, pb.len);
	buf_release(&pb);
	if (!prev)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!ended)
		sub_schedule(s, latest_next_attempt(r, db, s));
	if (sub_save(r, db, s) != 0 ||
	    sub_emit(r, db, s, "customer.subscription.updated", prev) != 0)
		return -1;
	return answer_sub(r, db, s->id);
}

/* Stripe's pending updates take only the parameters that prorate or make the invoice: of
 * POST /v1/subscriptions/{id}, items (price, quantity), proration_behavior, proration_date,
 * billing_cycle_anchor, add_invoice_items, payment_behavior and expand (trial_end is refused by
 * trial_params; trial_from_plan, also allowed by Stripe, is not a parameter of Tender's update);
 * of the item endpoints, price, quantity and the same. 0, or -1 with r->err (400). */
static const char *const pending_refused[] = {"cancel_at_period_end",
					      "default_payment_method",
					      "collection_method",
					      "days_until_due",
					      "description",
					      "metadata",
					      "cancellation_details",
					      "pause_collection",
					      "trial_settings",
					      "discounts",
					      "coupon",
					      "promotion_code",
					      "default_tax_rates",
					      "tax_rates",
					      "automatic_tax",
					      "cancel_at",
					      "billing_thresholds",
					      "pending_invoice_item_interval",
					      "application_fee_percent",
					      "transfer_data",
					      "on_behalf_of",
					      "default_source",
					      NULL};

static int pending_params_check(struct req *r, const struct sub_change *c)
{
	if (!str_eq(param_str(r, "payment_behavior"), "pending_if_incomplete"))
		return 0;
	const char *bad = NULL;
	for (int i = 0; !bad && pending_refused[i]; i++)
		if (param_present(r, pending_refused[i]))
			bad = pending_refused[i];
	for (int k = 0; !bad && c && k < c->n; k++)
		if (c->ch[k].metadata_path || c->ch[k].tax.present || c->ch[k].thresholds_set ||
		    c->ch[k].dspec)
			bad = c->ch[k].metadata_path ? c->ch[k].metadata_path
			      : c->ch[k].tax.present ? "items[tax_rates]"
			      : c->ch[k].dspec
				  ? (*c->ch[k].shown ? "items[discounts]" : "discounts")
				  : "billing_thresholds";
	if (!bad)
		return 0;
	return req_fail(
	    r, ERR_PARAM_BAD, bad,
	    "When payment_behavior is pending_if_incomplete, only these parameters "
	    "are supported: expand, payment_behavior, proration_behavior, "
	    "proration_date, billing_cycle_anchor, items (price, price_data, quantity), "
	    "trial_end, "
	    "trial_from_plan and add_invoice_items. Received: %s.",
	    bad);
}

static int h_update(struct req *r)
{
	if (pending_params_check(r, NULL) != 0)
		return -1;
	/* billing_cycle_anchor=unchanged is the default: no change by itself; nor is
	 * trial_from_plan=false */
	bool from_plan = false;
	param_bool(r, "trial_from_plan", &from_plan);
	if (from_plan || param_present(r, "items") || param_present(r, "add_invoice_items") ||
	    param_present(r, "proration_behavior") || param_present(r, "proration_date") ||
	    param_present(r, "trial_end") || str_eq(param_str(r, "billing_cycle_anchor"), "now")) {
		struct sub_change *c = arena_alloc(&r->arena, sizeof(*c));
		if (!c)
			return req_fail(r, ERR_API, NULL, NULL);
		memset(c, 0, sizeof(*c));
		c->subscription = r->args[0];
		c->own_params = true;
		c->proration_behavior = param_str(r, "proration_behavior");
		c->payment_behavior = param_str(r, "payment_behavior");
		param_int(r, "proration_date", &c->proration_date);
		if (subscription_changes_parse(r, "items", "items", c) != 0 ||
		    tax_rate_spec_parse(r, "default_tax_rates", "default_tax_rates",
					&c->default_tax) != 0)
			return -1;
		return subscription_change(r, c);
	}
	struct one_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, update_fn, &x);
}

/* ---- changing items ----
 *
 * A change of a subscription's items (POST /v1/subscriptions/{id} items[], or
 * /v1/subscription_items) is read, priced and checked first (change_read_fn), then stored in one
 * write (change_rows): the items, the prorations as pending invoice items, and — for
 * always_invoice, or a new billing interval — an invoice made and paid at once, whose payment's
 * write carries all of it (as a renewal's does), so the change, the invoice and its charge are
 * recorded together or not at all.
 *
 * Proration, as Stripe computes it: a change at time t inside the period [start, end) credits
 * each old item's unused time, -(unit × quantity) × (end - t) / (end - start), and charges each
 * new one's remaining time, +(unit × quantity) × (end - t) / (end - start), in exact seconds,
 * each line rounded to the nearest minor unit, halves away from zero (billing_prorate). A
 * changed item has both lines (its old price and quantity credited, the new charged); an
 * unchanged one none. Only a period that was billed is prorated (active or past_due; not a
 * trial). A new interval starts a new period now (billing_cycle_anchor = now): the old items'
 * unused time is credited and the new period is invoiced in full at once. The same reset is
 * what billing_cycle_anchor=now asks for, and what trial_end=now does to a trialing one (no
 * credit: its trial was not billed; it is active from now, its first paid period invoiced and
 * charged as this change's invoice). trial_end=<time> moves a trial's end (its anchor; nothing
 * invoiced), or starts a trial on a billed one: the new period is a trial until then, and the
 * invoice made now has its lines at 0 and the old period's unused time credited (below zero:
 * paid at once, the credit on the customer's balance).
 */

static int next_total(const struct subscription *s, int64_t *ret);

/* A new period of s from t, as billing_cycle_anchor=now starts one (an update's reset, a
 * threshold's reset_billing_cycle_anchor): its anchor and start t, its end one interval on.
 * 0, or -1 (its interval unknown, or the end out of range). */
static int period_restart(struct subscription *s, int64_t t)
{
	enum billing_interval iv;
	if (billing_interval_parse(s->interval, &iv) != 0)
		return -1;
	s->anchor = s->period_start = t;
	s->period_index = 1;
	return billing_period_end(t, iv, s->interval_count, 1, &s->period_end);
}

struct change_ctx {
	struct req *r;
	struct sub_change *c;
	struct subscription old, s; /* as read; as it will be */
	int64_t t, pr_t;	    /* the subscription's time; the proration time */
	bool reset, invoice_now;
	/* the prorations, then the update's add_invoice_items (from add_first on) */
	struct invoice_item pr[2 * SUB_ITEMS_MAX + SUB_ADD_ITEMS_MAX];
	int n_pr;
	struct add_items add;
	int add_first;
	int64_t pr_sum, total;
	int64_t due; /* the invoice's amount due: total with the customer's balance */
	struct pending_items pending;
	char invoice_id[ID_MAX], pi_id[ID_MAX];
	const char *pm;
	struct invoice in;
	bool sends; /* the invoice made now is send_invoice: not charged */
	bool cash;  /* it is paid by bank transfer (charge_automatically): not charged either */
	/* payment_behavior=pending_if_incomplete on a change that charges now: kept as the
	 * subscription's pending update until its invoice is paid ("pending updates") */
	bool held;
	/* payment_behavior=default_incomplete: the invoice's intent is made, not confirmed */
	bool unconfirmed;
	/* trial_end=<time> on a billed subscription: the new period is a trial, its lines at 0
	 * (the invoice made now carries the old period's credit) */
	bool trial_inv;
	/* DELETE /v1/subscriptions/{id} with prorate or invoice_now ("cancellation" below) */
	bool cancel, cancel_prorate;
	/* the scheduler's end of a subscription with metered items at its period end
	 * (cancel_at_period_end): its final invoice bills the last period's usage, and the
	 * cancellation keeps canceled_at, cancel_at_period_end and cancellation_details as set */
	bool at_period_end;
	/* invoice_now on a subscription with metered items: its metered items alone, with the
	 * usage window [period_start, now) (their lines on the final invoice); NULL: none */
	struct subscription *usage;
};

/* "2 × Team", or "Team" for one */
static const char *item_label(struct req *r, const struct sub_item *it)
{
	const char *name = it->pf.product_name ? it->pf.product_name : it->price;
	return it->quantity == 1
		   ? name
		   : arena_printf(&r->arena, "%lld × %s", (long long)it->quantity, name);
}

/* the change's next pending invoice item (a proration or a removed metered item's usage), for
 * x->s's customer in its currency; NULL when x->pr is full */
static struct invoice_item *pending_item_new(struct change_ctx *x)
{
	if (x->n_pr >= (int)(sizeof(x->pr) / sizeof(x->pr[0])))
		return NULL;
	struct invoice_item *ii = &x->pr[x->n_pr++];
	memset(ii, 0, sizeof(*ii));
	id_new_at(ii->id, "ii_", x->t);
	ii->created = x->t;
	ii->customer = x->s.customer;
	str_copy(ii->currency, sizeof(ii->currency), x->s.currency);
	return ii;
}

/* ---- flexible billing mode's credits ----
 *
 * Stripe's flexible billing mode credits an item's unused time from what was actually billed
 * for it ("calculates credit prorations based on the original amount previously debited"),
 * where classic credits the item's list price over the period. The debit is the latest that
 * covers the proration time for the item as it is (its price and quantity) and ends with the
 * period: the period's own invoice line (a partial first period's share), or a proration that
 * charged its remaining time after an earlier change (pending or invoiced). Its unused share,
 * (end - t) / (end - start) of that debit's own span, is credited, and so is that share of what
 * each discount took of it (see "prorations and discounts" below). Charges for remaining time
 * are the same in both modes (the list price's share, less the discounts' share). */
static const char SQL_FLEX_DEBIT_ITEM[] =
    "SELECT amount, period_start, proration_discount_mode, proration_discount_amounts"
    " FROM invoice_items WHERE merchant_id = $1"
    " AND subscription = $2 AND subscription_item = $3 AND proration = 1 AND deleted = 0"
    " AND amount > 0 AND period_end = $4 AND period_start <= $5 AND price = $6"
    " AND quantity = $7 ORDER BY period_start DESC, created DESC, id DESC LIMIT 1";
/* the subscription's latest invoices that bill (a period's line is on the invoice that began
 * it, which a few later change invoices within the period may follow; a renewal's draft, in its
 * hour, bills its licensed lines as they are; a void one billed nothing) */
static const char SQL_FLEX_DEBIT_INVOICES[] =
    "SELECT id, lines FROM invoices WHERE merchant_id = $1 AND subscription = $2"
    " AND status IN ('draft', 'open', 'paid', 'uncollectible')"
    " ORDER BY created DESC, id DESC LIMIT 8";

/* The period line of item `it` on invoice `inv`'s lines (JSON text) that covers t and ends at
 * end: *ret_amount its amount, *ret_start its start, *ret_line its id (arena); false: none. */
static bool period_line_find(struct req *r, const char *lines, const struct sub_item *it, int64_t t,
			     int64_t end, int64_t *ret_amount, int64_t *ret_start,
			     const char **ret_line)
{
	json_t *root = lines ? json_loads(lines, 0, NULL) : NULL;
	bool found = false;
	for (size_t i = 0; !found && json_is_array(root) && i < json_array_size(root); i++) {
		json_t *l = json_array_get(root, i);
		json_t *sid = json_object_get(l, "parent");
		sid = json_object_get(sid, "subscription_item_details");
		json_t *period = json_object_get(l, "period");
		json_t *pd = json_object_get(json_object_get(l, "pricing"), "price_details");
		const char *item = json_string_value(json_object_get(sid, "subscription_item"));
		const char *price = json_string_value(json_object_get(pd, "price"));
		if (!item || !str_eq(item, it->id) || !price || !str_eq(price, it->price) ||
		    json_is_true(json_object_get(sid, "proration")) ||
		    json_integer_value(json_object_get(l, "quantity")) != it->quantity ||
		    json_integer_value(json_object_get(period, "end")) != end ||
		    json_integer_value(json_object_get(period, "start")) > t)
			continue;
		*ret_amount = json_integer_value(json_object_get(l, "amount"));
		*ret_start = json_integer_value(json_object_get(period, "start"));
		*ret_line = arena_strdup(&r->arena, json_string_value(json_object_get(l, "id")));
		found = *ret_line != NULL;
	}
	json_decref(root);
	return found;
}

/* A proration debit's discounts (its pd_amounts, JSON) into da (at most LINE_DISCOUNTS_MAX),
 * *ret_sum their sum. 0, or -1 (unreadable, out of range). */
static int pd_amounts_parse(const char *json, struct discount_amount *da, int *ret_n,
			    int64_t *ret_sum)
{
	*ret_n = 0;
	*ret_sum = 0;
	if (!json)
		return 0;
	json_t *a = json_loads(json, 0, NULL);
	int rc = json_is_array(a) && json_array_size(a) <= LINE_DISCOUNTS_MAX ? 0 : -1;
	for (size_t i = 0; rc == 0 && i < json_array_size(a); i++) {
		json_t *e = json_array_get(a, i);
		const char *d = json_string_value(json_object_get(e, "discount"));
		int64_t v = json_integer_value(json_object_get(e, "amount"));
		if (!d || __builtin_add_overflow(*ret_sum, v, ret_sum)) {
			rc = -1;
			break;
		}
		str_copy(da[*ret_n].discount, sizeof(da[*ret_n].discount), d);
		da[(*ret_n)++].amount = v;
	}
	json_decref(a);
	return rc;
}

/* What was billed for item `it` of subscription `sub` over [*ret_start, end), the span that
 * covers t (see above): *ret_found false when nothing was (Tender then credits as classic
 * does). *ret_amount is its amount before discounts, da[0 … *ret_n_da) what each discount took
 * of it (LINE_DISCOUNTS_MAX entries). 0, or -1 with r->err. */
static int flexible_debit(struct req *r, struct db *db, const char *sub, const struct sub_item *it,
			  int64_t t, int64_t end, bool *ret_found, int64_t *ret_amount,
			  int64_t *ret_start, struct discount_amount *da, int *ret_n_da)
{
	*ret_found = false;
	*ret_n_da = 0;
	struct db_stmt *st = db_prepare(db, SQL_FLEX_DEBIT_ITEM);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, sub, -1);
	db_bind_text(st, 3, it->id, -1);
	db_bind_int64(st, 4, end);
	db_bind_int64(st, 5, t);
	db_bind_text(st, 6, it->price, -1);
	db_bind_int64(st, 7, it->quantity);
	int rc = db_step(st);
	bool bad = false;
	if (rc == DB_ROW) {
		*ret_found = true;
		*ret_amount = db_col_int64(st, 0);
		*ret_start = db_col_int64(st, 1);
		/* an included (or classic) proration's amount is net: its discounts come back on */
		const char *mode = db_col_text(st, 2, NULL);
		int64_t sum = 0;
		bad = pd_amounts_parse(db_col_text(st, 3, NULL), da, ret_n_da, &sum) != 0 ||
		      (mode && !str_eq(mode, "itemized") &&
		       __builtin_add_overflow(*ret_amount, sum, ret_amount));
	}
	db_reset(st);
	if ((rc != DB_ROW && rc != DB_DONE) || bad)
		return req_fail(r, ERR_API, NULL, NULL);
	st = db_prepare(db, SQL_FLEX_DEBIT_INVOICES);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, sub, -1);
	const char *inv = NULL, *line = NULL;
	int64_t amount = 0, start = 0;
	while ((rc = db_step(st)) == DB_ROW) {
		if (period_line_find(r, db_col_text(st, 1, NULL), it, t, end, &amount, &start,
				     &line)) {
			inv = col_text_dup(&r->arena, st, 0);
			break;
		}
	}
	db_reset(st);
	if (rc < 0 || (line && !inv))
		return req_fail(r, ERR_API, NULL, NULL);
	/* a later proration's debit (a change after the period began) replaces the line's */
	if (!line || (*ret_found && *ret_start >= start))
		return 0;
	if (invoice_line_discounts_load(r, db, inv, line, da, ret_n_da) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	*ret_found = true;
	*ret_amount = amount;
	*ret_start = start;
	return 0;
}

/* ---- prorations and discounts ----
 *
 * As on Stripe, a proration takes the discounts that applied to the period it prorates: its
 * amount under classic billing mode, and flexible's proration_discounts=included (the
 * default), is net of them, and the item names them (`discounts`; flexible's also shows what
 * each took in proration_details.discount_amounts) while its line shows each at 0 and takes no
 * discount again (discountable false). Under proration_discounts=itemized its amount is gross
 * and its line's discount_amounts take them off on the invoice (discounts.c, calc_run).
 *
 * Which discounts, and how much. A flexible credit of what was billed (flexible_debit) takes
 * back what each discount took of that debit. Otherwise (classic, flexible's charges, or a
 * credit with no debit found) the subscription's discounts at the proration time
 * (subscription_discounts: its own, else its customer's) are applied, in order, to the full
 * period's lines of its items as they are on that side of the change (the old items for a
 * credit, the new for a charge), exactly as a period's invoice applies them (billing_discount_
 * lines: a percentage rounded per line, an amount off spread over the lines in proportion),
 * and the item's share is what a discount takes of it. Each line's own discounts (its item's,
 * as stored at the proration time, as the subscription's are taken) come off it first, as on
 * the period's invoice.
 *
 * One rounding rule: every figure is prorated from its full amount on its own by
 * billing_prorate (the gross line, and each discount's share: remaining / period of it,
 * nearest minor unit, halves away from zero), and a net amount is the gross less those
 * shares, so a credit stays the exact negative of the charge it undoes. */

/* What each of the discounts ds takes of item `it`'s full period line, among `items` (the
 * lines of one side of the change, in order), after each line's own discounts at t: out[k] for
 * ds[k]; it's own into *ret_own (DISCOUNTS_MAX entries, *ret_n_own of them) with their shares in
 * own_out. 0, -1 (out of range), or -2 (the store failed). */
static int item_period_discounts(struct req *r, struct db *db, int64_t t, const char *currency,
				 const struct sub_item *items, int n, const struct sub_item *it,
				 const struct discount *ds, int n_ds, int64_t *out,
				 struct discount *ret_own, int *ret_n_own, int64_t *own_out)
{
	const struct sub_item *li[SUB_ITEMS_MAX + 1];
	int64_t rem[SUB_ITEMS_MAX + 1], got[SUB_ITEMS_MAX + 1];
	bool el[SUB_ITEMS_MAX + 1];
	int me = -1, m = 0;
	for (int i = 0; i < n && i < SUB_ITEMS_MAX; i++) {
		if (item_metered(&items[i])) /* billed in arrears: no period line to discount */
			continue;
		if (str_eq(items[i].id, it->id))
			me = m;
		li[m++] = &items[i];
	}
	if (me < 0) { /* not on that side (callers pass it so): discounted alone */
		me = m;
		li[m++] = it;
	}
	*ret_n_own = 0;
	for (int i = 0; i < m; i++) {
		if (price_facts_amount(&li[i]->pf, li[i]->quantity, &rem[i]) != 0)
			return -1;
		/* the line's own first, on it alone (the item's as stored: a new item has none) */
		struct discount *own = i == me ? ret_own : NULL;
		int n_own = 0;
		if (!own && !(own = arena_alloc(&r->arena, DISCOUNTS_MAX * sizeof(*own))))
			return -2;
		if (subscription_item_discounts(r, db, li[i]->id, t, own, &n_own) != DB_OK)
			return -2;
		for (int k = 0; k < n_own; k++) {
			int64_t off = 0, g = 0, sum;
			coupon_amount_in(&own[k].coupon, currency, &off);
			bool e = rem[i] > 0 &&
				 coupon_applies_to(&own[k].coupon, li[i]->pf.product) &&
				 coupon_amount_in(&own[k].coupon, currency, NULL);
			if (billing_discount_lines(own[k].coupon.percent_e4, off, &rem[i], &e, 1,
						   &g, &sum) != 0)
				return -1;
			if (i == me)
				own_out[k] = g;
		}
		if (i == me)
			*ret_n_own = n_own;
	}
	for (int k = 0; k < n_ds; k++) {
		int64_t off = 0, sum;
		coupon_amount_in(&ds[k].coupon, currency, &off);
		for (int i = 0; i < m; i++)
			el[i] = rem[i] > 0 && coupon_applies_to(&ds[k].coupon, li[i]->pf.product) &&
				coupon_amount_in(&ds[k].coupon, currency, NULL);
		if (billing_discount_lines(ds[k].coupon.percent_e4, off, rem, el, m, got, &sum) !=
		    0)
			return -1;
		out[k] = got[me];
	}
	return 0;
}

/* A proration line for item `it` of x->s: sign -1 credits its unused time, +1 charges its
 * remaining time. 0, or -1 with r->err. */
static int proration_add(struct db *db, struct change_ctx *x, const struct sub_item *it, int sign)
{
	struct req *r = x->r;
	if (item_metered(it)) /* billed in arrears for its usage: nothing to prorate */
		return 0;
	int64_t period_s = x->old.period_end - x->old.period_start;
	int64_t remaining = x->old.period_end - x->pr_t;
	int64_t whole, amount, unit;
	/* flexible: a credit is the unused share of what was billed (see above) */
	bool billed = false;
	int64_t debit = 0, debit_start = 0;
	struct discount_amount *da = arena_alloc(&r->arena, LINE_DISCOUNTS_MAX * sizeof(*da));
	int n_da = 0;
	if (!da)
		return req_fail(r, ERR_API, NULL, NULL);
	if (sign < 0 && x->old.flexible &&
	    flexible_debit(r, db, x->old.id, it, x->pr_t, x->old.period_end, &billed, &debit,
			   &debit_start, da, &n_da) != 0)
		return -1;
	if (billed) {
		if (it->quantity < 1 ||
		    billing_prorate(-debit, remaining, x->old.period_end - debit_start, &amount) !=
			0)
			return req_fail(r, ERR_AMOUNT_TOO_LARGE, "items",
					"The proration is out of range.");
		/* what each discount took of the debit, its unused share taken back */
		for (int k = 0; k < n_da; k++)
			if (billing_prorate(-da[k].amount, remaining,
					    x->old.period_end - debit_start, &da[k].amount) != 0)
				return req_fail(r, ERR_AMOUNT_TOO_LARGE, "items",
						"The proration is out of range.");
		unit = amount / it->quantity;
	} else if (price_facts_amount(&it->pf, it->quantity, &whole) != 0 || it->quantity < 1 ||
		   /* a tiered price prorates its whole amount; its unit_amount the line's share */
		   billing_prorate(sign * whole, remaining, period_s, &amount) != 0 ||
		   (!price_facts_lump(&it->pf) &&
		    billing_prorate(sign * it->pf.unit_amount, remaining, period_s, &unit) != 0))
		return req_fail(r, ERR_AMOUNT_TOO_LARGE, "items", "The proration is out of range.");
	else {
		/* the subscription's discounts on the item's full period, prorated as it is */
		struct discount *ds = arena_alloc(&r->arena, DISCOUNTS_MAX * sizeof(*ds));
		int64_t share[DISCOUNTS_MAX];
		int n_ds = 0;
		const struct subscription *side = sign < 0 ? &x->old : &x->s;
		struct discount *own = arena_alloc(&r->arena, DISCOUNTS_MAX * sizeof(*own));
		int64_t own_share[DISCOUNTS_MAX];
		int n_own = 0;
		if (!ds || !own ||
		    subscription_discounts(r, db, x->old.id, x->pr_t, ds, &n_ds) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		int rc =
		    item_period_discounts(r, db, x->pr_t, x->s.currency, side->items, side->n_items,
					  it, ds, n_ds, share, own, &n_own, own_share);
		if (rc != 0)
			return rc == -2 ? req_fail(r, ERR_API, NULL, NULL)
					: req_fail(r, ERR_AMOUNT_TOO_LARGE, "items",
						   "The proration is out of range.");
		/* the item's own first (they came off its line first) */
		for (int k = 0; k < n_own; k++) {
			if (own_share[k] == 0)
				continue;
			str_copy(da[n_da].discount, sizeof(da[n_da].discount), own[k].id);
			if (billing_prorate(sign * own_share[k], remaining, period_s,
					    &da[n_da++].amount) != 0)
				return req_fail(r, ERR_AMOUNT_TOO_LARGE, "items",
						"The proration is out of range.");
		}
		for (int k = 0; k < n_ds; k++) {
			if (share[k] == 0)
				continue;
			str_copy(da[n_da].discount, sizeof(da[n_da].discount), ds[k].id);
			if (billing_prorate(sign * share[k], remaining, period_s,
					    &da[n_da++].amount) != 0)
				return req_fail(r, ERR_AMOUNT_TOO_LARGE, "items",
						"The proration is out of range.");
		}
	}
	/* a discount whose share rounds to nothing is not shown */
	int kept = 0;
	for (int k = 0; k < n_da; k++)
		if (da[k].amount != 0)
			da[kept++] = da[k];
	n_da = kept;
	const char *mode = !x->old.flexible				    ? "classic"
			   : str_eq(x->old.proration_discounts, "itemized") ? "itemized"
									    : "included";
	bool net = n_da > 0 && !str_eq(mode, "itemized");
	for (int k = 0; net && k < n_da; k++)
		if (__builtin_sub_overflow(amount, da[k].amount, &amount))
			return req_fail(r, ERR_AMOUNT_TOO_LARGE, "items",
					"The proration is out of range.");
	if (__builtin_add_overflow(x->pr_sum, amount, &x->pr_sum))
		return req_fail(r, ERR_AMOUNT_TOO_LARGE, "items", "The proration is out of range.");
	struct invoice_item *ii = pending_item_new(x);
	if (!ii)
		return req_fail(r, ERR_AMOUNT_TOO_LARGE, "items", "Too many proration lines.");
	/* amount is the line rounded; unit_amount the unit's share rounded on its own (a tiered
	 * or sub-cent price's: the line's share of each unit; a flexible credit's, and a net
	 * one's: its amount's) */
	if ((!billed && price_facts_lump(&it->pf)) || net)
		unit = amount / it->quantity;
	if (n_da > 0) {
		struct buf b;
		struct json j;
		buf_init(&b, 4096);
		json_init(&j, &b);
		discount_amounts_render(da, n_da, &j);
		ii->pd_amounts = b.failed ? NULL : arena_strndup(&r->arena, b.data, b.len);
		buf_release(&b);
		ii->pd_mode = mode;
		if (!ii->pd_amounts)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	ii->amount = amount;
	ii->unit_amount = unit;
	ii->quantity = it->quantity;
	ii->price = it->price;
	time_t tt = (time_t)x->pr_t;
	struct tm tm;
	char date[32] = "";
	if (gmtime_r(&tt, &tm))
		strftime(date, sizeof(date), "%d %b %Y", &tm);
	ii->description = arena_printf(&r->arena, "%s time on %s after %s",
				       sign < 0 ? "Unused" : "Remaining", item_label(r, it), date);
	ii->period_start = x->pr_t;
	ii->period_end = x->old.period_end;
	ii->metadata = "{}";
	ii->subscription = x->s.id;
	ii->subscription_item = arena_strdup(&r->arena, it->id);
	ii->proration = true;
	ii->discountable = false;
	ii->test_clock = x->s.test_clock;
	return ii->description && ii->subscription_item ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static int final_usage(struct req *r, const struct subscription *o, int64_t end,
		       struct subscription **ret);

/* Was old item `id`'s usage cleared by the change (deleted with clear_usage)? */
static bool usage_cleared(const struct sub_change *c, const char *id)
{
	for (int k = 0; k < c->n; k++)
		if (c->ch[k].id && c->ch[k].deleted && c->ch[k].clear_usage &&
		    str_eq(c->ch[k].id, id))
			return true;
	return false;
}

/* The usage of the metered items a change removes or gives another price (as Stripe bills a
 * removed metered item's usage at the next invoice, unless clear_usage): for each, its usage
 * from its window's start (item_usage_start) up to now, or to its period's end when the change
 * comes after it and before its renewal, priced by item_usage as a period's line is, as an
 * invoice item (proration false, its period that window) among x->pr: pending for the next
 * invoice, or on the invoice made now. None during a trial (unbilled usage). 0, or -1 with
 * r->err. */
static int usage_items_add(struct change_ctx *x, struct db *db)
{
	struct req *r = x->r;
	struct subscription *w = NULL;
	if (final_usage(r, &x->old, x->t < x->old.period_end ? x->t : x->old.period_end, &w) != 0)
		return -1;
	for (int i = 0; w && i < w->n_items; i++) {
		const struct sub_item *it = &w->items[i];
		bool kept = false;
		for (int k = 0; k < x->s.n_items; k++)
			kept = kept || (str_eq(x->s.items[k].id, it->id) &&
					str_eq(x->s.items[k].price, it->price));
		int64_t start = item_usage_start(w, it);
		if (kept || usage_cleared(x->c, it->id) || start >= w->usage_end)
			continue;
		if (str_eq(x->c->payment_behavior, "pending_if_incomplete"))
			return req_fail(r, ERR_PARAM_BAD, "payment_behavior",
					"Tender does not hold the removal of a metered item as a "
					"pending update: use another payment_behavior.");
		int64_t q, amount;
		if (item_usage(r, db, w, it, &q, &amount) != 0)
			return -1;
		struct invoice_item *ii = NULL;
		if (__builtin_add_overflow(x->pr_sum, amount, &x->pr_sum) ||
		    !(ii = pending_item_new(x)))
			return req_fail(r, ERR_AMOUNT_TOO_LARGE, "items",
					"The usage to invoice is out of range.");
		ii->amount = amount;
		/* a tiered price's unit amount: the line's share of each unit; a sub-cent price's:
		 * the line's share too, and unit_amount_decimal its decimal */
		ii->unit_amount = !price_facts_lump(&it->pf) ? it->pf.unit_amount
				  : q			     ? amount / q
							     : 0;
		if (!it->pf.tiers && !it->pf.has_unit_amount)
			ii->unit_amount_decimal = it->pf.unit_amount_decimal;
		ii->quantity = q;
		ii->price = it->price;
		ii->description = line_description(r, it, q, false);
		ii->period_start = start;
		ii->period_end = w->usage_end;
		ii->metadata = "{}";
		ii->subscription = x->s.id;
		ii->subscription_item = arena_strdup(&r->arena, it->id);
		ii->proration = false;
		ii->discountable = true;
		ii->test_clock = x->s.test_clock;
		if (!ii->description || !ii->subscription_item)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	return 0;
}

/* A price for an item: active, recurring, per-unit with an integer unit amount or tiered,
 * licensed or metered with a billing meter (item_price_check). */
static int item_price(struct req *r, struct db *db, const char *price, const char *shown,
		      const char *currency, struct price_facts *pf)
{
	const char *param = arena_printf(&r->arena, "%s%sprice", shown, *shown ? "[" : "");
	if (*shown)
		param = arena_printf(&r->arena, "%s]", param);
	int rc = price_facts_in(r, db, price, currency, pf);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "price", price, param);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!pf->active || !pf->product_active)
		return req_fail(r, ERR_PARAM_BAD, param,
				"The price specified (%s) is inactive. This field only accepts "
				"active prices.",
				price);
	if (!pf->recurring)
		return req_fail(r, ERR_PARAM_BAD, param,
				"The price specified (%s) is a one-time price. A subscription's "
				"items need recurring prices.",
				price);
	return item_price_check(r, pf, price, param);
}

static const char SQL_PRODUCT_NAME[] =
    "SELECT name, active FROM products WHERE merchant_id = $1 AND id = $2 AND deleted = 0";

/* the product of a change's price_data (at `at`, named `shown`), read before the write: its name
 * (what the prorations are described with) and whether it is active, into pf. 0, or -1 with r->err.
 */
static int price_data_product(struct req *r, struct db *db, const char *at, const char *shown,
			      struct price_facts *pf)
{
	char path[96];
	snprintf(path, sizeof(path), "%s.product", at);
	const char *product = param_str(r, path);
	struct db_stmt *st = db_prepare(db, SQL_PRODUCT_NAME);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, product ? product : "", -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		pf->product_name = col_text_dup(&r->arena, st, 0);
		pf->product_active = db_col_int64(st, 1) != 0;
		pf->product = product;
	}
	db_reset(st);
	if (rc == DB_DONE)
		return req_fail_missing(r, "product", product ? product : "",
					arena_printf(&r->arena, "%s[product]", shown));
	if (rc != DB_ROW)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

static int change_invoice_read(struct req *r, struct db *db, struct change_ctx *x);
static int open_invoice_void(struct req *r, struct db *db, const char *id, int64_t t);
static int cancel_rows(struct req *r, struct db *db, struct change_ctx *x);

/* trial_end and billing_cycle_anchor of POST /v1/subscriptions/{id}, as the change reads them */
struct trial_change {
	bool end_now;	 /* trial_end=now (on a trialing one: its trial ends, it bills now) */
	int64_t until;	 /* trial_end=<time> (0: none): a trial until then */
	bool anchor_now; /* billing_cycle_anchor=now */
};

/* Reads them (POST /v1/subscriptions/{id}: c->own_params; a preview's, under c->trial_names)
 * for a subscription trialing or not at t, into *ret. Stripe's rules: a trial_end at most
 * TRIAL_DAYS_MAX days ahead, in the future; billing_cycle_anchor=now with a trial that goes on is
 * refused (the anchor would be before trial_end). A trial_end change is not held as a pending
 * update here (its pending_update would need the trial's fields); billing_cycle_anchor=now is, as a
 * new interval's reset is. 0, or -1 with r->err (400). */
static int trial_params(struct req *r, const struct sub_change *c, const struct subscription *s,
			bool trialing, int64_t t, struct trial_change *ret)
{
	memset(ret, 0, sizeof(*ret));
	static const struct sub_trial_names update_names = {"trial_end",
							    "trial_end",
							    "trial_from_plan",
							    "trial_from_plan",
							    "billing_cycle_anchor",
							    "billing_cycle_anchor"};
	const struct sub_trial_names *nm = c->trial_names ? c->trial_names : &update_names;
	if (!c->own_params && !c->trial_names)
		return 0;
	const char *te = param_str(r, nm->trial_end);
	/* trial_from_plan: the longest trial_period_days of the items' prices as they will be, a
	 * trial from now as trial_end would give (none: nothing changes), as on create */
	bool from_plan = false;
	param_bool(r, nm->from_plan, &from_plan);
	if (from_plan && te)
		return req_fail(r, ERR_PARAM_BAD, nm->from_plan_shown,
				"%s cannot be combined with %s.", nm->from_plan_shown,
				nm->trial_end_shown);
	int64_t plan_days = 0;
	for (int i = 0; from_plan && i < s->n_items; i++)
		if (s->items[i].pf.trial_period_days > plan_days)
			plan_days = s->items[i].pf.trial_period_days;
	if (plan_days > TRIAL_DAYS_MAX)
		plan_days = TRIAL_DAYS_MAX;
	if (plan_days > 0) {
		ret->until = t + plan_days * 86400;
		te = "trial_from_plan";
	}
	ret->anchor_now = str_eq(param_str(r, nm->anchor), "now");
	if (te && str_eq(te, "now")) {
		ret->end_now = true;
	} else if (te && !ret->until) {
		if (parse_i64(te, &ret->until) != 0)
			return req_fail(r, ERR_PARAM_INVALID_INTEGER, nm->trial_end_shown, "%s",
					te);
		if (ret->until <= t || ret->until > t + TRIAL_DAYS_MAX * 86400LL)
			return req_fail(r, ERR_PARAM_BAD, nm->trial_end_shown,
					"Invalid timestamp: must be in the future and at most %d "
					"days from now.",
					TRIAL_DAYS_MAX);
	}
	if (ret->until && ret->anchor_now)
		return req_fail(r, ERR_PARAM_BAD, nm->anchor_shown,
				"billing_cycle_anchor cannot be now while trial_end is "
				"later: the trial must end first (trial_end=now).");
	if (ret->anchor_now && trialing && !ret->end_now)
		return req_fail(r, ERR_PARAM_BAD, nm->anchor_shown,
				"billing_cycle_anchor cannot be set to now while the subscription "
				"is trialing: end the trial with trial_end=now.");
	if (te && str_eq(param_str(r, "payment_behavior"), "pending_if_incomplete"))
		return req_fail(r, ERR_PARAM_BAD,
				ret->until && from_plan ? nm->from_plan_shown : nm->trial_end_shown,
				"Tender does not hold a change of trial_end as a pending update: "
				"use another payment_behavior.");
	return 0;
}

static int change_read_fn(struct db *db, void *p)
{
	struct change_ctx *x = p;
	struct req *r = x->r;
	struct sub_change *c = x->c;
	int rc = sub_load(r, db, c->subscription, true, &x->old);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "subscription", c->subscription,
					c->own_params ? "id" : "subscription");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* a schedule's phase previewed changes nothing, and invoice.upcoming previews it while
	 * the scheduler runs (the clock advancing), as the scheduler's own change does */
	if ((!c->scheduled && !c->phase_preview && clock_guard(r, db, &x->old) != 0) ||
	    billing_now(r, db, x->old.test_clock, &x->t) != 0)
		return -1;
	x->s = x->old;
	struct subscription *s = &x->s;
	/* planned with the default_tax_rates the update asks for (own_params stores them) */
	if (x->c->own_params && x->c->default_tax.present)
		s->default_tax = &x->c->default_tax;
	if (!str_eq(s->status, "active") && !str_eq(s->status, "past_due") &&
	    !str_eq(s->status, "trialing"))
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"The items of a %s subscription cannot change.", s->status);
	for (int k = 0; k < c->n; k++) {
		const struct sub_item_change *ch = &c->ch[k];
		struct sub_item *it = NULL;
		/* items[k][price_data] of POST /v1/subscriptions/{id}, or price_data of
		 * /v1/subscription_items (ch->price_data) */
		char dpath[48];
		snprintf(dpath, sizeof(dpath), "items.%d.price_data", k);
		const char *data_path = c->own_params && param_present(r, dpath)
					    ? arena_strdup(&r->arena, dpath)
					    : ch->price_data;
		int data = data_path ? k : -1;
		if (data >= 0 && (ch->price || ch->deleted))
			return req_fail(
			    r, ERR_PARAM_BAD, *ch->shown ? ch->shown : "price_data",
			    "Each item needs at most one of price and price_data, and a "
			    "deleted one neither.");
		if (ch->id) {
			for (int i = 0; i < s->n_items; i++)
				if (strcmp(s->items[i].id, ch->id) == 0)
					it = &s->items[i];
			if (!it)
				return req_fail_missing(
				    r, "subscription_item", ch->id,
				    *ch->shown ? arena_printf(&r->arena, "%s[id]", ch->shown)
					       : "id");
			if (ch->clear_usage && ch->deleted && !item_metered(it))
				return req_fail(
				    r, ERR_PARAM_BAD,
				    *ch->shown
					? arena_printf(&r->arena, "%s[clear_usage]", ch->shown)
					: "clear_usage",
				    "clear_usage is allowed only for an item whose price is "
				    "`metered`.");
			if (ch->deleted) {
				int i = (int)(it - s->items);
				memmove(&s->items[i], &s->items[i + 1],
					(size_t)(s->n_items - i - 1) * sizeof(*it));
				s->n_items--;
				continue;
			}
		} else {
			if (!ch->price && data < 0)
				return req_fail(
				    r, ERR_PARAM_MISSING,
				    *ch->shown ? arena_printf(&r->arena, "%s[price]", ch->shown)
					       : "price",
				    "price");
			if (s->n_items == SUB_ITEMS_MAX)
				return req_fail(r, ERR_PARAM_BAD, "items",
						"A subscription can have at most %d items.",
						SUB_ITEMS_MAX);
			it = &s->items[s->n_items++];
			memset(it, 0, sizeof(*it));
			it->data = -1;
			id_new_at(it->id, "si_", x->t);
			it->created = x->t;
			it->quantity = 1;
			it->metadata = "{}";
			if (k == 0 || c->answer != SUB_ANSWER_SUBSCRIPTION)
				str_copy(c->item, sizeof(c->item), it->id);
		}
		bool repriced = false; /* an existing item given another price */
		if (data >= 0) {
			/* items[k][price_data] (POST /v1/subscriptions/{id}): a new price, made
			 * inactive by the write (change_rows), named in the read by a placeholder
			 * that no price id can be; its product's name labels its prorations */
			bool was_metered = item_metered(it);
			memset(&it->pf, 0, sizeof(it->pf));
			it->data_path = data_path;
			it->data_shown = *ch->shown
					     ? arena_printf(&r->arena, "%s[price_data]", ch->shown)
					     : "price_data";
			if (!it->data_path || !it->data_shown ||
			    price_data_at(r, it->data_path, it->data_shown, &it->pf) != 0 ||
			    price_data_product(r, db, it->data_path, it->data_shown, &it->pf) != 0)
				return r->err.set ? -1 : req_fail(r, ERR_API, NULL, NULL);
			it->price = arena_printf(&r->arena, "price_data:%d", data);
			it->data = data;
			repriced = ch->id != NULL;
			if (was_metered) {
				it->quantity = 1; /* a licensed price's default */
				it->usage_since = 0;
			}
		}
		if (ch->clear_usage && !ch->deleted)
			return req_fail(r, ERR_PARAM_BAD,
					*ch->shown
					    ? arena_printf(&r->arena, "%s[clear_usage]", ch->shown)
					    : "clear_usage",
					"clear_usage is allowed only when deleted is set to true.");
		if (ch->price) {
			bool was_metered = item_metered(it);
			const char *was = it->price;
			if (item_price(r, db, ch->price, ch->shown, s->currency, &it->pf) != 0)
				return -1;
			it->price = ch->price;
			repriced = repriced || (ch->id && !(was && str_eq(was, ch->price)));
			if (item_metered(it) && !(was && str_eq(was, ch->price))) {
				/* a metered price coming now: no quantity, its usage counted from
				 * now (the meter's events before are not its own) */
				it->quantity = 0;
				it->usage_since = x->t;
			} else if (!item_metered(it) && was_metered) {
				it->quantity = 1; /* a licensed price's default */
				it->usage_since = 0;
			}
		}
		if (ch->quantity && item_metered(it))
			return req_fail(r, ERR_PARAM_BAD,
					*ch->shown
					    ? arena_printf(&r->arena, "%s[quantity]", ch->shown)
					    : "quantity",
					"Quantity should not be specified where usage_type is "
					"`metered`.");
		if (ch->quantity)
			it->quantity = ch->quantity;
		else if (repriced && ch->price_resets_quantity && !item_metered(it))
			it->quantity = 1;
		if (ch->tax.present)
			it->tax = &ch->tax;
		if (ch->dspec && item_discounts_resolve(r, db, s, it, ch->dspec, x->t) != 0)
			return -1;
		if (ch->metadata_path &&
		    metadata_apply(r, it->metadata, ch->metadata_path, &it->metadata) != 0)
			return -1;
		if (ch->thresholds_set)
			it->thresholds = ch->thresholds;
		/* usage thresholds count a metered item's usage */
		if (ch->thresholds_set && it->thresholds && !item_metered(it))
			return req_fail(
			    r, ERR_PARAM_BAD,
			    *ch->shown
				? arena_printf(&r->arena, "%s[billing_thresholds]", ch->shown)
				: "billing_thresholds",
			    "Usage thresholds can only be set on items with a metered "
			    "price.");
	}
	if (s->n_items == 0)
		return req_fail(r, ERR_PARAM_BAD, "items",
				"A subscription must keep at least one item; cancel it instead.");
	for (int i = 0; i < s->n_items; i++) {
		const struct price_facts *pf = &s->items[i].pf;
		for (int k = 0; k < i; k++)
			if (strcmp(s->items[i].price, s->items[k].price) == 0)
				return req_fail(r, ERR_PARAM_BAD, "items",
						"Cannot add multiple subscription items with the "
						"same price: %s.",
						s->items[i].price);
		if (strcmp(pf->currency, s->currency) != 0)
			return req_fail(r, ERR_PARAM_BAD, "items",
					"All of a subscription's prices must be in its currency "
					"(%s).",
					s->currency);
		if (i > 0 && (strcmp(pf->interval, s->items[0].pf.interval) != 0 ||
			      pf->interval_count != s->items[0].pf.interval_count))
			return req_fail(r, ERR_PARAM_BAD, "items",
					"All of a subscription's prices must have the same billing "
					"interval.");
	}
	const struct price_facts *p0 = &s->items[0].pf;
	bool new_interval =
	    strcmp(p0->interval, s->interval) != 0 || p0->interval_count != s->interval_count;
	enum billing_interval iv;
	if (billing_interval_parse(p0->interval, &iv) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	str_copy(s->interval, sizeof(s->interval), p0->interval);
	s->interval_count = p0->interval_count;
	const char *behavior = c->proration_behavior ? c->proration_behavior : "create_prorations";
	bool billed = str_eq(s->status, "active") || str_eq(s->status, "past_due");
	bool trialing = str_eq(s->status, "trialing");
	struct trial_change tc;
	if (trial_params(r, c, s, trialing, x->t, &tc) != 0)
		return -1;
	/* a trial's new interval counts from the trial's end (its anchor); billing_cycle_anchor=now
	 * and a trial's end now start a new period now, as does a trial started on a billed one
	 * (its unused time credited) */
	x->reset = (new_interval && billed) || (tc.anchor_now && billed) ||
		   (tc.end_now && trialing) || (tc.until && billed);
	x->trial_inv = tc.until && billed;
	/* a new period now would end the metered items' period early, its usage unbilled */
	for (int i = 0; x->reset && i < x->old.n_items; i++)
		if (item_metered(&x->old.items[i]))
			return req_fail(r, ERR_PARAM_BAD, "items",
					"Tender does not start a new billing period on a "
					"subscription with metered items (its usage would go "
					"unbilled); change it at its period's end instead.");
	x->pr_t = c->proration_date ? c->proration_date : x->t;
	if (c->proration_date && (x->pr_t < x->old.period_start || x->pr_t > x->old.period_end ||
				  (x->pr_t > x->t && !c->phase_preview)))
		return req_fail(r, ERR_PARAM_BAD, "proration_date",
				"proration_date must be within the current period and not in the "
				"future.");
	bool prorate = billed && !str_eq(behavior, "none") && x->pr_t < x->old.period_end;
	x->n_pr = 0;
	x->pr_sum = 0;
	if (x->reset) {
		/* the new period starts now: its anchor, its end */
		x->pr_t = c->proration_date ? x->pr_t : x->t;
		if (period_restart(s, x->t) != 0)
			return req_fail(r, ERR_PARAM_BAD, "items",
					"The billing period is out of range.");
	}
	if (tc.end_now && trialing) {
		/* the trial ends now: its first paid period starts (reset above) */
		s->status = "active";
		s->trial_end = x->t;
	} else if (tc.until) {
		/* a trial until tc.until: its end is the new anchor, the period a trial's (index
		 * 0, as a create with a trial makes it) */
		if (!trialing)
			s->trial_start = x->t;
		if (billed)
			s->period_start = x->t;
		s->status = "trialing";
		s->trial_end = s->anchor = s->period_end = tc.until;
		s->period_index = 0;
		if (trialing && x->old.period_index < 0 && tc.until < x->old.anchor) {
			/* a trial with a later anchor keeps it while it still ends before it */
			s->anchor = x->old.anchor;
			s->period_index = -1;
		}
	}
	for (int i = 0; prorate && i < x->old.n_items; i++) {
		const struct sub_item *o = &x->old.items[i];
		const struct sub_item *n = NULL;
		for (int k = 0; k < s->n_items; k++)
			if (strcmp(s->items[k].id, o->id) == 0)
				n = &s->items[k];
		bool changed = !n || strcmp(n->price, o->price) != 0 || n->quantity != o->quantity;
		if ((changed || x->reset) && proration_add(db, x, o, -1) != 0)
			return -1;
		if (changed && n && !x->reset && proration_add(db, x, n, +1) != 0)
			return -1;
	}
	for (int k = 0; prorate && !x->reset && k < s->n_items; k++) {
		bool is_new = true;
		for (int i = 0; i < x->old.n_items; i++)
			if (strcmp(x->old.items[i].id, s->items[k].id) == 0)
				is_new = false;
		if (is_new && proration_add(db, x, &s->items[k], +1) != 0)
			return -1;
	}
	if (usage_items_add(x, db) != 0)
		return -1;
	/* add_invoice_items of the update: invoice items of the subscription's next invoice, as
	 * Stripe adds them: the one this change makes now (always_invoice, a new period), else
	 * pending ones that its next invoice takes */
	x->add.n = 0;
	x->add_first = x->n_pr;
	if (c->own_params) {
		int64_t add_sum;
		if (add_items_parse(r, &x->add) != 0 ||
		    add_items_read(r, db, &x->add, s->currency) != 0 ||
		    add_items_build(r, &x->add, s, x->t, &x->pr[x->n_pr], &add_sum) != 0 ||
		    add_items_discounts(r, db, &x->add, &x->pr[x->n_pr]) != 0)
			return -1;
		x->n_pr += x->add.n;
		if (__builtin_add_overflow(x->pr_sum, add_sum, &x->pr_sum))
			return req_fail(r, ERR_AMOUNT_TOO_LARGE, "add_invoice_items",
					"The invoice would add up to more than %lld.",
					(long long)BILLING_AMOUNT_MAX);
	}
	x->invoice_now = x->reset || (str_eq(behavior, "always_invoice") && x->n_pr > 0);
	/* the invoice made now takes the collection method this update gives (own_params
	 * applies it in the write) */
	int64_t days;
	x->sends = s->sends;
	if (c->own_params && collection_parse(r, s, &x->sends, &days) != 0)
		return -1;
	/* a pending update replaced (change_commit): its invoice is voided in the write, which
	 * gives back what it took of the customer's balance; this invoice's amount due, charged
	 * before that write, is planned without it, so such a replacement is refused */
	struct invoice held;
	if (x->old.pending_update && x->old.pending_invoice && !c->resume &&
	    str_eq(c->payment_behavior, "pending_if_incomplete") &&
	    invoice_load(r, db, x->old.pending_invoice, &held) == DB_OK &&
	    str_eq(held.status, "open") && held.starting_balance != held.ending_balance)
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"The pending update's invoice %s took part of the customer's "
				"balance: void it before replacing the update.",
				held.id);
	return change_invoice_read(r, db, x);
}

/* The invoice a change makes now (x->invoice_now), read before its write: the pending items
 * it takes, its total, and the payment method that pays it. 0, or -1 with r->err. */
static int change_invoice_read(struct req *r, struct db *db, struct change_ctx *x)
{
	struct subscription *s = &x->s;
	memset(&x->pending, 0, sizeof(x->pending));
	x->total = 0;
	if (!x->invoice_now)
		return 0;
	if (invoice_items_pending(r, db, s->customer, s->currency, s->id, &x->pending) != 0)
		return -1;
	int64_t period_total = 0;
	if (x->reset && !x->trial_inv && next_total(s, &period_total) != 0)
		return req_fail(r, ERR_AMOUNT_TOO_LARGE, "items",
				"The subscription's items add up to more than %lld per period.",
				(long long)BILLING_AMOUNT_MAX);
	if (__builtin_add_overflow(period_total, x->pending.sum, &x->total) ||
	    __builtin_add_overflow(x->total, x->pr_sum, &x->total) ||
	    x->total > BILLING_AMOUNT_MAX || x->total < -BILLING_AMOUNT_MAX)
		return req_fail(r, ERR_AMOUNT_TOO_LARGE, "items",
				"The invoice would add up to more than %lld.",
				(long long)BILLING_AMOUNT_MAX);
	/* less its discounts: the subscription's, or those this update gives it */
	struct discount *ds = arena_alloc(&r->arena, DISCOUNTS_MAX * sizeof(*ds));
	int n_ds = 0;
	struct discount_spec spec = {0};
	if (!ds || (x->c->own_params && discount_spec_parse(r, "discounts", true, &spec) != 0))
		return ds ? -1 : req_fail(r, ERR_API, NULL, NULL);
	if (spec.present && !spec.n) {
		/* '' removes its own: its customer's then applies (discounts.c) */
		int rc = customer_discount_get(r, db, s->customer, x->t, &ds[0]);
		if (rc != DB_OK && rc != DB_NOTFOUND)
			return req_fail(r, ERR_API, NULL, NULL);
		n_ds = rc == DB_OK;
	} else if (spec.present) {
		if (discounts_resolve(r, db, &spec, s->customer, s->currency, period_total, s->id,
				      x->t, ds, &n_ds) != 0)
			return -1;
	} else if (subscription_discounts(r, db, s->id, x->t, ds, &n_ds) != DB_OK) {
		return req_fail(r, ERR_API, NULL, NULL);
	}
	/* a final invoice's metered lines: the usage so far (cancel_read_fn); what it charges:
	 * its billing credits come off first, as its finalization applies them */
	int64_t credited;
	if (planned_total(r, db, x->usage ? x->usage : s, x->reset || x->usage, x->trial_inv,
			  &x->pending, x->pr, x->n_pr, &x->add, &x->pr[x->add_first], ds, n_ds,
			  x->t, &x->total, &credited) != 0 ||
	    invoice_planned_due(r, db, s->customer, s->currency, x->total - credited, &x->due) != 0)
		return -1;
	struct billing_customer cf;
	if (billing_customer_get(r, db, s->customer, &cf) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	x->pm = invoice_pay_with(r, NULL, s->default_payment_method, s->default_source, &cf);
	return 0;
}

/* Inside a change's write: the subscription is still the version the change was read from, and
 * the change's copy of it (r's arena) to work on; a re-run of the write starts again from what
 * was read. NULL with r->err when it changed meanwhile. */
static struct subscription *change_current(struct req *r, struct db *db, struct change_ctx *x)
{
	struct subscription cur;
	if (sub_load(r, db, x->old.id, false, &cur) != DB_OK) {
		req_fail(r, ERR_API, NULL, NULL);
		return NULL;
	}
	if (cur.version != x->old.version) {
		req_fail(r, ERR_INVALID_STATE, NULL,
			 "Subscription %s changed while this request ran; try again.", cur.id);
		return NULL;
	}
	struct subscription *s = arena_alloc(&r->arena, sizeof(*s));
	if (!s) {
		req_fail(r, ERR_API, NULL, NULL);
		return NULL;
	}
	*s = x->s;
	return s;
}

/* Inside a change's write: the prices of its items[n][price_data] made (inactive, as Stripe
 * makes them) and named on s's items and on their prorations in x->pr, instead of their
 * placeholders. 0, or -1 with r->err. */
static int change_prices(struct req *r, struct db *db, struct subscription *s, struct change_ctx *x)
{
	for (int i = 0; i < s->n_items; i++) {
		struct sub_item *it = &s->items[i];
		if (it->data < 0 || !it->data_path || strncmp(it->price, "price_data:", 11) != 0)
			continue;
		char prefix[96], id[ID_MAX];
		snprintf(prefix, sizeof(prefix), "%s.", it->data_path);
		struct price_facts pf;
		if (price_create_inline(r, db, prefix, it->data_shown, &pf, id) != 0)
			return -1;
		/* what was prorated before the write is what was stored */
		if (pf.unit_amount != it->pf.unit_amount ||
		    pf.has_unit_amount != it->pf.has_unit_amount ||
		    strcmp(pf.currency, it->pf.currency) || strcmp(pf.interval, it->pf.interval) ||
		    pf.interval_count != it->pf.interval_count)
			return req_fail(r, ERR_API, NULL, NULL);
		const char *placeholder = it->price;
		it->price = arena_strdup(&r->arena, id);
		if (!it->price || price_facts_get(r, db, it->price, &it->pf) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		for (int k = 0; k < x->n_pr; k++)
			if (x->pr[k].price && str_eq(x->pr[k].price, placeholder))
				x->pr[k].price = it->price;
	}
	return 0;
}

/* Inside a change's write: the discounts of the items of old that s no longer has end with
 * them. 0, or -1 with r->err. */
static int gone_items_discounts_end(struct req *r, struct db *db, const struct subscription *old,
				    const struct subscription *s, int64_t t)
{
	for (int i = 0; i < old->n_items; i++) {
		bool kept = false;
		for (int k = 0; k < s->n_items && !kept; k++)
			kept = str_eq(old->items[i].id, s->items[k].id);
		if (!kept && subscription_item_discounts_set(r, db, s->id, old->items[i].id,
							     s->customer, t, NULL, 0, NULL) != 0)
			return -1;
	}
	return 0;
}

/* Inside the write (its own, or the invoice's payment's): the change stored. */
static int change_rows(struct req *r, struct db *db, struct change_ctx *x)
{
	if (x->cancel)
		return cancel_rows(r, db, x);
	struct subscription *s = change_current(r, db, x);
	if (!s)
		return -1;
	struct buf pb;
	struct json pj;
	buf_init(&pb, 1u << 20);
	json_init(&pj, &pb);
	json_obj_open(&pj);
	int rc = x->c->own_params ? own_params(r, db, s, x->t, &pj) : 0;
	if (rc == 0 && x->held) {
		/* a pending update replaced: it was the one before */
		if (x->old.pending_update)
			rc = pending_render(r, db, &x->old, &pj);
		else
			json_kv_null(&pj, "pending_update");
	} else if (rc == 0 && x->c->resume) {
		json_kv_str(&pj, "status", x->old.status);
	} else if (rc == 0) {
		json_key(&pj, "items");
		rc = items_render(r, db, &x->old, NULL, &pj);
	}
	if (rc == 0 && (x->reset || s->anchor != x->old.anchor) && !x->held)
		json_kv_int(&pj, "billing_cycle_anchor", x->old.anchor);
	if (rc == 0 && !x->held && s->trial_start != x->old.trial_start)
		time_or_null(&pj, "trial_start", x->old.trial_start);
	if (rc == 0 && !x->held && s->trial_end != x->old.trial_end)
		time_or_null(&pj, "trial_end", x->old.trial_end);
	if (rc == 0 && !x->held && !x->c->resume && !str_eq(s->status, x->old.status))
		json_kv_str(&pj, "status", x->old.status);
	if (rc == 0 && x->invoice_now)
		json_kv_str(&pj, "latest_invoice", x->old.latest_invoice);
	json_obj_close(&pj);
	const char *prev = rc == 0 && !pb.failed ? arena_strndup(&r->arena, pb.data, pb.len) : NULL;
	buf_release(&pb);
	if (!prev)
		return r->err.set ? -1 : req_fail(r, ERR_API, NULL, NULL);
	/* a pending update this change replaces (change_commit lets only pending_if_incomplete
	 * through): dropped, its invoice voided as at its expiry; the change was read from the
	 * subscription as it is, without it */
	if (x->old.pending_update && !x->c->resume) {
		if (x->old.pending_invoice &&
		    open_invoice_void(r, db, x->old.pending_invoice, x->t) != 0)
			return -1;
		s->pending_update = s->pending_invoice = NULL;
		s->pending_expires_at = 0;
	}
	/* the items: rewritten in their order (a resume keeps them as they are; a pending update
	 * is applied when its invoice is paid) */
	bool keep_items = x->c->resume || x->held;
	struct db_stmt *st = keep_items ? NULL : db_prepare(db, SQL_ITEMS_DELETE);
	if (!st && !keep_items)
		return req_fail(r, ERR_API, NULL, NULL);
	if (st) {
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, s->id, -1);
		if (db_step_done(st) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	/* a pending update's new prices too: made now (inactive), as Stripe makes them, the
	 * update naming them */
	if (!x->c->resume && change_prices(r, db, s, x) != 0)
		return -1;
	if (!keep_items &&
	    (items_insert(r, db, s) != 0 || items_discounts_store(r, db, s, x->t) != 0 ||
	     gone_items_discounts_end(r, db, &x->old, s, x->t) != 0))
		return -1;
	/* the prorations: pending, or on the invoice made now; each taxed at its item's rates as
	 * they were before this change (what its total was planned with); the prices of the
	 * add_invoice_items' price_data made first */
	if (x->add.n && add_items_prices(r, db, &x->add, &x->pr[x->add_first]) != 0)
		return -1;
	for (int i = 0; i < x->n_pr; i++) {
		struct invoice_item ii = x->pr[i];
		ii.invoice = x->invoice_now ? x->invoice_id : NULL;
		if (invoice_item_insert(r, db, &ii) != 0 ||
		    (ii.subscription_item &&
		     tax_links_copy(r, db, ii.subscription_item, ii.id) != 0))
			return -1;
	}
	if (x->add.n && add_items_store_terms(r, db, &x->add, &x->pr[x->add_first]) != 0)
		return -1;
	/* the items' tax_rates[] asked for (the defaults: own_params) */
	for (int i = 0; !keep_items && i < s->n_items; i++)
		if (s->items[i].tax && tax_links_set(r, db, s->items[i].id, s->items[i].tax) != 0)
			return -1;
	/* a resume: active now, or, on payment success, once its invoice is paid
	 * (subscription_invoice_paid) */
	bool resumed_now = false;
	if (x->c->resume && !(x->c->resume_on_success && x->invoice_now && x->due > 0)) {
		s->status = "active";
		s->paused_at = 0;
		resumed_now = true;
	}
	if (x->invoice_now) {
		if (invoice_items_claim(r, db, &x->pending, x->invoice_id) != 0)
			return -1;
		int64_t extra = x->pending.sum + x->pr_sum; /* both bounded by the read */
		if (invoice_for_period(r, db, s, x->t, x->invoice_id, "subscription_update",
				       x->reset ? (x->trial_inv ? 1 : 0) : -1, extra, &x->in) != 0)
			return -1;
		if (x->in.total != x->total)
			return req_fail(r, ERR_INVALID_STATE, NULL,
					"Subscription %s changed meanwhile.", s->id);
		x->in.payment_intent = x->pi_id[0] ? x->pi_id : NULL;
		/* resumed on the attempt: a declined resumption invoice is not retried by itself
		 * (Stripe's resume_on_payment_attempt); on success it is, as a renewal's */
		if (x->c->resume && !x->c->resume_on_success)
			x->in.auto_advance = false;
		/* a pending update's invoice is paid by hand or expires with it; a
		 * default_incomplete one waits for its intent's confirmation: neither is attempted
		 * by the scheduler */
		if (x->held || x->unconfirmed) {
			x->in.auto_advance = false;
			x->in.next_payment_attempt = 0;
		}
		s->latest_invoice = x->invoice_id;
		x->in.credits_planned = true; /* x->due was planned with them */
		if (invoice_store(r, db, &x->in, x->due) != 0)
			return -1;
	}
	if (x->held) {
		/* the subscription stays as it was, with its pending update and the invoice */
		struct subscription *o = arena_alloc(&r->arena, sizeof(*o));
		if (!o)
			return req_fail(r, ERR_API, NULL, NULL);
		*o = x->old;
		o->version = s->version;
		o->latest_invoice = x->invoice_id;
		o->pending_update = pending_json(r, s, x->reset);
		o->pending_invoice = x->invoice_id;
		o->pending_expires_at = x->t + PENDING_UPDATE_TTL_S;
		if (!o->pending_update)
			return req_fail(r, ERR_API, NULL, NULL);
		sub_schedule(o, 0);
		if (sub_save(r, db, o) != 0 || pending_store(r, db, o) != 0)
			return -1;
		return sub_emit(r, db, o, "customer.subscription.updated", prev);
	}
	/* a renewal's draft (or an open invoice's retry) still waits for its step */
	sub_schedule(s, x->invoice_now ? 0 : latest_next_attempt(r, db, s));
	if (sub_save(r, db, s) != 0 ||
	    (x->old.pending_update && !x->c->resume && pending_store(r, db, s) != 0) ||
	    sub_emit(r, db, s, "customer.subscription.updated", prev) != 0)
		return -1;
	/* the invoice's payment, settled after this in the same write, may yet make it past_due:
	 * it is resumed either way (it bills again) */
	if (resumed_now && sub_emit(r, db, s, "customer.subscription.resumed", NULL) != 0)
		return -1;
	return 0;
}

/* The answer: the subscription, or the item asked about. */
static int change_respond(struct req *r, struct db *db, struct change_ctx *x)
{
	struct sub_change *c = x->c;
	if (c->answer == SUB_ANSWER_SUBSCRIPTION)
		return answer_sub(r, db, x->s.id);
	if (c->answer == SUB_ANSWER_SCHEDULE)
		return subscription_schedule_answer(r, db, c->item);
	r->answer_event[0] = '\0';
	struct json *j = req_json(r);
	if (c->answer == SUB_ANSWER_ITEM_DELETED) {
		json_obj_open(j);
		json_kv_str(j, "id", c->item);
		json_kv_str(j, "object", "subscription_item");
		json_kv_bool(j, "deleted", true);
		json_obj_close(j);
		return 0;
	}
	/* an item of a pending update not applied yet: as the update makes it */
	for (int i = 0; x->held && i < x->s.n_items; i++) {
		struct subscription cur;
		if (strcmp(x->s.items[i].id, c->item) != 0)
			continue;
		if (sub_load(r, db, x->s.id, false, &cur) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (cur.pending_update)
			return item_render(r, db, &x->s, &x->s.items[i], "", j) == 0
				   ? 0
				   : req_fail(r, ERR_API, NULL, NULL);
	}
	return subscription_item_render_by_id(r, db, c->item, "", j, NULL) == DB_OK
		   ? 0
		   : req_fail(r, ERR_API, NULL, NULL);
}

/* the caller's own rows in the change's write (sub_change.in_write) */
static int change_also(struct req *r, struct db *db, struct change_ctx *x)
{
	return x->c->in_write ? x->c->in_write(r, db, x->c->in_write_ctx) : 0;
}

static int change_fn(struct db *db, void *p)
{
	struct change_ctx *x = p;
	x->pi_id[0] = '\0';
	if (change_rows(x->r, db, x) != 0 || change_also(x->r, db, x) != 0)
		return -1;
	/* a send_invoice one paid by bank transfer: the change's invoice gets its intent, paid
	 * now when the customer's cash covers it (invoices.c), after the change's own rows */
	if (x->invoice_now && (x->sends || x->cash)) {
		struct invoice in;
		if (invoice_load(x->r, db, x->invoice_id, &in) != DB_OK)
			return req_fail(x->r, ERR_API, NULL, NULL);
		if (invoice_cash_collect(x->r, db, &in) != 0)
			return -1;
	}
	return change_respond(x->r, db, x);
}

static int change_before(struct req *r, struct db *db, void *p)
{
	return change_rows(r, db, p) != 0 ? -1 : change_also(r, db, p);
}

static int change_answer(struct req *r, struct db *db, void *p, int rc)
{
	struct change_ctx *x = p;
	bool strict = str_eq(x->c->payment_behavior, "error_if_incomplete");
	if (rc == REQ_COMMIT_ERR) {
		if (strict) {
			/* nothing is kept: the card error alone */
			r->err.charge_id[0] = '\0';
			buf_reset(&r->err.extra);
			return -1;
		}
		/* allow_incomplete: the change stays, its invoice open (the subscription
		 * past_due, the invoice retried as a renewal's) */
		r->err.set = false;
		r->err.charge_id[0] = '\0';
		buf_reset(&r->err.extra);
	} else if (strict) {
		/* not declined but not paid either: the card asks for 3-D Secure, which the
		 * cardholder, away, cannot give. Stripe refuses the change (402) rather than keep
		 * it waiting: the write is rolled back */
		struct invoice in;
		if (invoice_load(r, db, x->invoice_id, &in) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (!str_eq(in.status, "paid"))
			return req_fail(r, ERR_AUTHENTICATION_REQUIRED, NULL, NULL);
	}
	return change_respond(r, db, x);
}

static int change_commit(struct req *r, struct change_ctx *x);

int subscription_change(struct req *r, struct sub_change *c)
{
	if (!c->resume && !c->scheduled && pending_params_check(r, c) != 0)
		return -1;
	struct change_ctx *x = arena_alloc(&r->arena, sizeof(*x));
	if (!x)
		return req_fail(r, ERR_API, NULL, NULL);
	memset(x, 0, sizeof(*x));
	x->r = r;
	x->c = c;
	if (req_read(r, change_read_fn, x) != 0)
		return -1;
	return change_commit(r, x);
}

/* After the change's read: its write, with the invoice's payment when it makes one that
 * charges. */
static int change_commit(struct req *r, struct change_ctx *x)
{
	const char *pb = x->c->payment_behavior;
	/* Stripe: a pending update is replaced by a later update made with
	 * pending_if_incomplete (its invoice voided); any other change waits for it */
	if (x->old.pending_update && !x->c->resume && !x->cancel &&
	    !str_eq(pb, "pending_if_incomplete"))
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"Subscription %s has a pending update: its items cannot change "
				"until its invoice %s is paid or the update expires, or an update "
				"with payment_behavior=pending_if_incomplete replaces it.",
				x->old.id, x->old.pending_invoice);
	if (str_eq(pb, "pending_if_incomplete") && x->invoice_now && x->sends)
		return req_fail(r, ERR_PARAM_BAD, "payment_behavior",
				"Pending updates are not supported for subscriptions with "
				"collection_method=send_invoice.");
	/* paid by bank transfer (its types, as the change leaves them): the invoice made now is
	 * paid from the customer's cash in the change's write, or waits for a transfer */
	x->cash = !x->sends && billing_pm_types_cash_only(x->s.payment_method_types);
	if (str_eq(pb, "pending_if_incomplete") && x->invoice_now && x->cash)
		return req_fail(r, ERR_PARAM_BAD, "payment_behavior",
				"Tender does not hold pending updates for subscriptions paid by "
				"bank transfer (customer_balance).");
	/* a change that charges nothing now is applied at once, whatever payment_behavior */
	x->held = str_eq(pb, "pending_if_incomplete") && x->invoice_now && x->due > 0;
	x->unconfirmed = str_eq(pb, "default_incomplete") && x->invoice_now && x->due > 0;
	if (x->invoice_now)
		id_new_at(x->invoice_id, "in_", x->t);
	/* a send_invoice invoice is finalized for the customer to pay, not charged; so is a
	 * final invoice of a customer without a card (the cancellation is not refused for it) */
	if (!x->invoice_now || x->due <= 0 || x->sends || x->cash || (x->cancel && !x->pm))
		return req_write(r, change_fn, x);
	if (!x->pm)
		return req_fail(r, ERR_PARAM_BAD, "default_payment_method",
				"This customer has no attached payment source or default payment "
				"method. Please consider adding a default payment method.");
	id_new_at(x->pi_id, "pi_", x->t);
	struct pi_invoice pv = {
	    .amount = x->due,
	    .currency = x->s.currency,
	    .description = x->cancel ? "Subscription cancellation" : "Subscription update",
	    .customer = x->s.customer,
	    .pm_id = x->pm,
	    .invoice = x->invoice_id,
	    .confirm = !x->unconfirmed,
	    .connect = sub_connect(r, &x->s, x->due),
	    .before = change_before,
	    .answer = change_answer,
	    .ctx = x,
	};
	str_copy(pv.id, sizeof(pv.id), x->pi_id);
	return payment_intents_invoice(r, &pv);
}

static int resume_read_fn(struct db *db, void *p);
static bool cancel_at_credits(const struct subscription *s);

/* A subscription x->s that a cancel_at ends within its current period: its next invoice is the
 * final one the scheduler makes then (period_end_final: subscription_cycle), of the unused rest's
 * credit (when cancel_at_credits), the metered items' usage up to then and the customer's pending
 * items; no renewal comes. 0; 1 when it makes none; -1 with r->err. */
static int cancel_at_preview(struct req *r, struct db *db, struct change_ctx *x,
			     const struct sub_preview_req *q, struct invoice_preview *ret)
{
	memset(ret, 0, sizeof(*ret));
	x->old = x->s;
	int64_t end = x->s.cancel_at;
	x->t = end;
	x->pr_t = end;
	x->n_pr = 0;
	x->pr_sum = 0;
	x->usage = NULL;
	if (cancel_at_credits(&x->old))
		for (int i = 0; i < x->old.n_items; i++)
			if (proration_add(db, x, &x->old.items[i], -1) != 0)
				return -1;
	if (final_usage(r, &x->old, end, &x->usage) != 0)
		return -1;
	if (!x->usage && x->n_pr == 0)
		return 1;
	if (x->usage)
		x->usage->usage_through_end = true;
	ret->t = end;
	if (!q->recurring) {
		if (invoice_items_pending(r, db, x->s.customer, x->s.currency, x->s.id,
					  &ret->pending) != 0)
			return -1;
		/* the credits' ids as a change's prorations show them (subscription_preview) */
		const char *body = strchr(x->s.id, '_');
		for (int k = 0; k < x->n_pr; k++)
			snprintf(x->pr[k].id, sizeof(x->pr[k].id), "ii_tmp_%.40s_%02d",
				 body ? body + 1 : x->s.id, k);
		ret->pr = x->pr;
		ret->n_pr = x->n_pr;
	}
	const struct subscription *b = x->usage ? x->usage : &x->s;
	if (period_invoice_build(r, db, b, end, q->invoice_id, "subscription_cycle",
				 x->usage ? 0 : -1, 0, true, &ret->in) != 0)
		return -1;
	ret->n_period = x->usage ? x->usage->n_items : 0;
	ret->period = arena_alloc(&r->arena, SUB_ITEMS_MAX * sizeof(*ret->period));
	if (!ret->period)
		return req_fail(r, ERR_API, NULL, NULL);
	return x->usage ? period_inv_lines(r, db, x->usage, false, ret->period) : 0;
}

/* ---- previews (invoice_preview.c) ----
 *
 * A preview reads what the write would do and stops there: a change goes through
 * change_read_fn (the same items, prices and prorations as the update), a renewal through the
 * period arithmetic of renew_rows, and the invoice's lines through period_invoice_build, as the
 * real invoice's are made. */

int subscription_preview(struct req *r, struct db *db, const struct sub_preview_req *q,
			 struct invoice_preview *ret)
{
	struct change_ctx *x = arena_alloc(&r->arena, sizeof(*x));
	struct subscription *n = arena_alloc(&r->arena, sizeof(*n));
	if (!x || !n)
		return req_fail(r, ERR_API, NULL, NULL);
	memset(x, 0, sizeof(*x));
	x->r = r;
	if (q->change) {
		/* a resume (subscription_resume_at) is read as POST …/resume reads it */
		x->c = q->change;
		if ((q->change->resume ? resume_read_fn(db, x) : change_read_fn(db, x)) != 0)
			return -1;
	} else {
		int rc = sub_load(r, db, q->subscription, true, &x->s);
		if (rc == DB_NOTFOUND)
			return req_fail_missing(r, "subscription", q->subscription, "subscription");
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (billing_now(r, db, x->s.test_clock, &x->t) != 0)
			return -1;
	}
	if (q->schedule && !q->change) {
		/* the phase in force at its renewal: its items as the scheduler changes them at
		 * the phase's start (prorated from then, by the phase's proration_behavior) */
		struct sub_change *c = arena_alloc(&r->arena, sizeof(*c));
		if (!c)
			return req_fail(r, ERR_API, NULL, NULL);
		memset(c, 0, sizeof(*c));
		c->subscription = q->subscription; /* x is read anew below */
		int64_t start = 0;
		int rc = subscription_schedule_phase_at(r, db, q->schedule, x->s.id,
							x->s.period_end, c, &start);
		if (rc < 0)
			return -1;
		if (rc == 2)
			return 1;
		if (rc == 1) {
			c->phase_preview = true;
			c->proration_date = start > x->s.period_start ? start : x->s.period_start;
			memset(x, 0, sizeof(*x));
			x->r = r;
			x->c = c;
			if (change_read_fn(db, x) != 0)
				return -1;
			if (x->invoice_now)
				return req_fail(r, ERR_PARAM_BAD, "schedule",
						"Tender previews a schedule's next phase where it "
						"keeps the billing interval and is prorated on the "
						"next invoice.");
		}
	}
	/* a cancellation is neither prorated nor invoiced (DELETE): nothing comes of it */
	if (q->cancel_now)
		return 1;
	if (q->cancel_at_set) {
		/* as the update sets it (cancel_at_prorate as own_params keeps it) */
		if (q->cancel_at && q->cancel_at <= x->t)
			return req_fail(r, ERR_PARAM_BAD, q->cancel_at_shown,
					"%s must be in the future.", q->cancel_at_shown);
		x->s.cancel_at = q->cancel_at;
		x->s.cancel_at_prorate = q->cancel_at_prorate || q->cancel_at > x->s.period_end;
	}
	if (!q->change && x->s.cancel_at && x->s.cancel_at < x->s.period_end)
		return cancel_at_preview(r, db, x, q, ret);
	*n = x->s;
	/* resumed, it bills again (its status is set by the write, change_rows) */
	if (q->change && q->change->resume)
		n->status = "active";
	memset(ret, 0, sizeof(*ret));
	bool now = q->change && x->invoice_now;
	bool period = true;
	int64_t ended_start = 0, ended_end = 0; /* a renewal's: the period that ends */
	const char *reason = "subscription_cycle";
	if (now) {
		/* the invoice the change makes at once: its prorations, and a new interval's
		 * whole new period */
		ret->t = x->t;
		period = x->reset;
		reason = "subscription_update";
	} else {
		bool cape = q->cancel_at_period_end < 0 ? n->cancel_at_period_end
							: q->cancel_at_period_end == 1;
		if (cape || !(str_eq(n->status, "active") || str_eq(n->status, "past_due") ||
			      str_eq(n->status, "trialing")))
			return 1;
		/* the next period, as renew_rows starts it */
		enum billing_interval iv;
		if (billing_interval_parse(n->interval, &iv) != 0)
			return req_fail(r, ERR_API, NULL, NULL);
		ret->t = n->period_end;
		/* the invoice's own period: the one that ends then, as renew_rows gives it */
		ended_start = n->period_start;
		ended_end = n->period_end;
		/* its metered items: the usage of the period that ends, as recorded so far */
		if (!(n->trial_end && n->trial_end > n->period_start)) {
			n->usage_start = n->period_start;
			n->usage_end = n->period_end;
		}
		n->period_start = n->period_end;
		n->period_index++;
		if (sub_period_end(n, iv, n->period_index, &n->period_end) != 0)
			return req_fail(r, ERR_API, NULL, NULL);
		if (trial_anchor_partial(r, db, n, n->period_index, n->period_start) != 0)
			return -1;
		if (str_eq(n->status, "trialing"))
			n->status = "active";
	}
	if (!q->recurring) {
		if (invoice_items_pending(r, db, n->customer, n->currency, n->id, &ret->pending) !=
		    0)
			return -1;
		/* the prorations' ids as a preview's lines show them: the same on every preview
		 * (ii_tmp_, the subscription's, their order), after every stored item's */
		const char *body = strchr(n->id, '_');
		for (int k = 0; k < x->n_pr; k++)
			snprintf(x->pr[k].id, sizeof(x->pr[k].id), "ii_tmp_%.40s_%02d",
				 body ? body + 1 : n->id, k);
		ret->pr = x->pr;
		ret->n_pr = x->n_pr;
	}
	/* a trial started now on a billed one: the invoice made now has its new period's lines at
	 * 0, as change_rows makes it */
	bool trial = now && x->trial_inv;
	if (period_invoice_build(r, db, n, ret->t, q->invoice_id, reason,
				 period ? (trial ? 1 : 0) : -1, 0, true, &ret->in) != 0)
		return -1;
	if (!now) {
		ret->in.period_start = ended_start;
		ret->in.period_end = ended_end;
	}
	ret->n_period = period ? n->n_items : 0;
	ret->period = arena_alloc(&r->arena, SUB_ITEMS_MAX * sizeof(*ret->period));
	if (!ret->period)
		return req_fail(r, ERR_API, NULL, NULL);
	return period ? period_inv_lines(r, db, n, trial, ret->period) : 0;
}

/* A subscription still to be made (invoice_preview.c): its first invoice, planned as the
 * create plans it (parse_items, create_read_fn, create_plan, create_discounts_fn) and built as
 * its write builds it (period_invoice_build), in the read of the preview; nothing is written.
 * Its items have fixed ids (si_new_00 …), so that a preview's lines page; neither they nor the
 * subscription exist, so its lines name neither. */
static int new_preview_build(struct req *r, struct db *db, struct create_ctx *c,
			     const struct sub_new_preview_req *q, struct invoice_preview *ret,
			     struct discount *ds, int *ret_n_ds);

int subscription_new_preview(struct req *r, struct db *db, const struct sub_new_preview_req *q,
			     struct invoice_preview *ret, struct discount *ds, int *ret_n_ds)
{
	struct create_ctx *c = arena_alloc(&r->arena, sizeof(*c));
	if (!c)
		return req_fail(r, ERR_API, NULL, NULL);
	memset(c, 0, sizeof(*c));
	c->r = r;
	struct subscription *s = &c->s;
	if (q->schedule) {
		/* a new schedule's first phase: the subscription it makes at its start */
		struct sub_for_schedule *x = arena_alloc(&r->arena, sizeof(*x));
		int64_t start = 0;
		if (!x)
			return req_fail(r, ERR_API, NULL, NULL);
		if (subscription_schedule_new_preview(r, db, q->customer, x, &start) != 0 ||
		    for_schedule_ctx(r, x, c) != 0)
			return -1;
		for (int i = 0; i < s->n_items; i++)
			snprintf(s->items[i].id, sizeof(s->items[i].id), "si_new_%02d", i);
		s->auto_tax_address = q->tax_address;
		if (create_read_fn(db, c) != 0)
			return -1;
		if (start > c->t0)
			c->t0 = start;
		return new_preview_build(r, db, c, q, ret, ds, ret_n_ds);
	}
	s->customer = q->customer;
	if (q->currency)
		str_copy(s->currency, sizeof(s->currency), q->currency);
	c->items_param = q->items;
	c->items_shown = q->items_shown;
	c->trial_end_shown = q->trial_end_shown;
	c->anchor_shown = q->anchor_shown;
	c->backdate_shown = q->start_shown;
	c->behavior = "allow_incomplete";
	if (parse_items(r, c) != 0)
		return -1;
	for (int i = 0; i < s->n_items; i++)
		snprintf(s->items[i].id, sizeof(s->items[i].id), "si_new_%02d", i);
	/* trial_end as the create reads it ("now": none), or trial_from_plan */
	if (q->trial_end && !str_eq(q->trial_end, "now") &&
	    parse_i64(q->trial_end, &c->trial_end_at) != 0)
		return req_fail(r, ERR_PARAM_INVALID_INTEGER, q->trial_end_shown, "%s",
				q->trial_end);
	c->trial_from_plan = q->trial_from_plan;
	c->anchor_at = q->anchor;
	c->prorate_none = q->prorate_none;
	s->metadata = "{}";
	if (q->default_tax)
		c->default_tax = *q->default_tax;
	s->default_tax = &c->default_tax;
	s->automatic_tax = q->automatic_tax;
	s->auto_tax_address = q->tax_address;
	s->trial_missing_pm = "create_invoice";
	if (q->spec)
		c->spec = *q->spec;
	if (create_read_fn(db, c) != 0)
		return -1;
	/* start_date: later, the create made then; earlier, backdate_start_date's */
	if (q->start_date > c->t0)
		c->t0 = q->start_date;
	else if (q->start_date && q->start_date < c->t0)
		c->backdate = q->start_date;
	return new_preview_build(r, db, c, q, ret, ds, ret_n_ds);
}

/* The rest of subscription_new_preview, c read (create_read_fn) and its start set: the
 * create's plan, its discounts, and its first invoice as its write builds it. */
static int new_preview_build(struct req *r, struct db *db, struct create_ctx *c,
			     const struct sub_new_preview_req *q, struct invoice_preview *ret,
			     struct discount *ds, int *ret_n_ds)
{
	struct subscription *s = &c->s;
	if (create_plan(r, c) != 0)
		return -1;
	c->due = c->trial ? 0 : c->total;
	if (create_discounts_fn(db, c) != 0)
		return -1;
	/* the discounts its invoice takes: the ones it would make, else the customer's */
	int n_ds = c->n_ds;
	if (n_ds)
		memcpy(ds, c->ds, (size_t)n_ds * sizeof(*ds));
	if (!c->spec.n) {
		int rc = customer_discount_get(r, db, s->customer, c->t0, &ds[0]);
		if (rc != DB_OK && rc != DB_NOTFOUND)
			return req_fail(r, ERR_API, NULL, NULL);
		n_ds = rc == DB_OK;
	}
	*ret_n_ds = n_ds;
	s->id[0] = '\0'; /* not made: its invoice and lines name none */
	memset(ret, 0, sizeof(*ret));
	ret->t = c->t0;
	if (period_invoice_build(r, db, s, c->t0, q->invoice_id, "subscription_create", c->trial,
				 c->add_sum, true, &ret->in) != 0)
		return -1;
	ret->in.subscription = NULL;
	ret->n_period = s->n_items;
	ret->period = arena_alloc(&r->arena, SUB_ITEMS_MAX * sizeof(*ret->period));
	if (!ret->period)
		return req_fail(r, ERR_API, NULL, NULL);
	return period_inv_lines(r, db, s, c->trial, ret->period);
}

/* ---- resume ----
 *
 * POST /v1/subscriptions/{id}/resume bills a paused subscription again (only a trial that
 * ended without a payment method pauses one). billing_cycle_anchor[type]=now (the default)
 * starts a new period now and invoices it in full at once; unchanged keeps the old cycle: the
 * period around now is the current one, and its remaining time is prorated as a change's
 * would be (create_prorations: a pending item for the next invoice; always_invoice: invoiced
 * and paid at once; none: nothing for it). The resume is a change of the subscription through
 * the same write and payment as subscription_change (status active, customer.subscription.
 * updated and .resumed); a declined payment leaves it past_due, its invoice retried as a
 * renewal's would be. */

static int resume_read_fn(struct db *db, void *p)
{
	struct change_ctx *x = p;
	struct req *r = x->r;
	struct sub_change *c = x->c;
	int rc = sub_load(r, db, c->subscription, true, &x->old);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "subscription", c->subscription, "id");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (clock_guard(r, db, &x->old) != 0 || billing_now(r, db, x->old.test_clock, &x->t) != 0)
		return -1;
	if (!str_eq(x->old.status, "paused"))
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"Subscription %s cannot be resumed because it is not paused (it is "
				"%s).",
				x->old.id, x->old.status);
	/* a resumption invoice still waiting for its payment (resume_on_payment_success) is
	 * paid, voided or written off first: one resume at a time */
	struct invoice last;
	if (x->old.latest_invoice && invoice_load(r, db, x->old.latest_invoice, &last) == DB_OK &&
	    str_eq(last.status, "open"))
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"Subscription %s is waiting for the payment of invoice %s, which "
				"resumes it.",
				x->old.id, last.id);
	x->s = x->old;
	struct subscription *s = &x->s;
	/* planned with the default_tax_rates the update asks for (own_params stores them) */
	if (x->c->own_params && x->c->default_tax.present)
		s->default_tax = &x->c->default_tax;
	enum billing_interval iv;
	if (billing_interval_parse(s->interval, &iv) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	x->n_pr = 0;
	x->pr_sum = 0;
	if (!c->resume_unchanged) {
		x->reset = true;
		x->pr_t = x->t;
		s->anchor = s->period_start = x->t;
		s->period_index = 1;
		if (billing_period_end(x->t, iv, s->interval_count, 1, &s->period_end) != 0)
			return req_fail(r, ERR_PARAM_BAD, "billing_cycle_anchor",
					"The billing period is out of range.");
		x->invoice_now = true;
		return change_invoice_read(r, db, x);
	}
	int64_t k, ps, pe;
	if (billing_period_at(s->anchor, iv, s->interval_count, x->t, &k, &ps, &pe) != 0)
		return req_fail(
		    r, ERR_PARAM_BAD, "billing_cycle_anchor",
		    "The subscription's cycle cannot be kept: its billing period is out "
		    "of range.");
	s->period_index = k;
	s->period_start = ps;
	s->period_end = pe;
	/* proration_add measures the remaining time against the period around now */
	x->old.period_start = ps;
	x->old.period_end = pe;
	x->pr_t = c->proration_date ? c->proration_date : x->t;
	if (c->proration_date && (x->pr_t < ps || x->pr_t > x->t))
		return req_fail(r, ERR_PARAM_BAD, "proration_date",
				"proration_date must be within the current period and not in the "
				"future.");
	const char *behavior = c->proration_behavior ? c->proration_behavior : "create_prorations";
	for (int i = 0; !str_eq(behavior, "none") && x->pr_t < pe && i < s->n_items; i++)
		if (proration_add(db, x, &s->items[i], +1) != 0)
			return -1;
	x->invoice_now = str_eq(behavior, "always_invoice") && x->n_pr > 0;
	return change_invoice_read(r, db, x);
}

static int h_resume(struct req *r)
{
	struct sub_change *c = arena_alloc(&r->arena, sizeof(*c));
	struct change_ctx *x = arena_alloc(&r->arena, sizeof(*x));
	if (!c || !x)
		return req_fail(r, ERR_API, NULL, NULL);
	memset(c, 0, sizeof(*c));
	memset(x, 0, sizeof(*x));
	c->subscription = r->args[0];
	c->resume = true;
	/* billing_cycle_anchor: Stripe's API reference and guides send the value itself
	 * (billing_cycle_anchor=now), stripe-node 23's types a hash (billing_cycle_anchor[type]) */
	const char *anchor = param_str(r, "billing_cycle_anchor");
	if (anchor && !str_eq(anchor, "now") && !str_eq(anchor, "unchanged"))
		return req_fail(r, ERR_PARAM_INVALID_ENUM, "billing_cycle_anchor",
				"Invalid billing_cycle_anchor: must be one of now, unchanged");
	c->resume_unchanged = str_eq(anchor, "unchanged") ||
			      str_eq(param_str(r, "billing_cycle_anchor.type"), "unchanged");
	c->proration_behavior = param_str(r, "proration_behavior");
	param_int(r, "proration_date", &c->proration_date);
	c->resume_on_success =
	    str_eq(param_str(r, "payment_behavior"), "resume_on_payment_success");
	x->r = r;
	x->c = c;
	if (req_read(r, resume_read_fn, x) != 0)
		return -1;
	return change_commit(r, x);
}

static const char SQL_ITEM_SUB[] =
    "SELECT subscription FROM subscription_items WHERE merchant_id = $1 AND id = $2";

/* Item id's subscription, loaded (r's arena), and the item in it: DB_OK, DB_NOTFOUND or < 0. */
static int item_sub_load(struct req *r, struct db *db, const char *id, struct subscription **ret_s,
			 const struct sub_item **ret_it, const char **ret_sub)
{
	struct db_stmt *st = db_prepare(db, SQL_ITEM_SUB);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	const char *sub = rc == DB_ROW ? col_text_dup(&r->arena, st, 0) : NULL;
	db_reset(st);
	if (rc != DB_ROW)
		return rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
	struct subscription *s = arena_alloc(&r->arena, sizeof(*s));
	if (!sub || !s || sub_load(r, db, sub, true, s) != DB_OK)
		return DB_ERR;
	for (int i = 0; i < s->n_items; i++)
		if (strcmp(s->items[i].id, id) == 0) {
			*ret_s = s;
			*ret_it = &s->items[i];
			*ret_sub = sub;
			return DB_OK;
		}
	return DB_NOTFOUND;
}

int subscription_item_render_by_id(struct req *r, struct db *db, const char *id, const char *prefix,
				   struct json *j, const char **ret_sub)
{
	struct subscription *s;
	const struct sub_item *it;
	const char *sub;
	int rc = item_sub_load(r, db, id, &s, &it, &sub);
	if (rc != DB_OK)
		return rc;
	if (ret_sub)
		*ret_sub = sub;
	return item_render(r, db, s, it, prefix, j) == 0 ? DB_OK : DB_ERR;
}

int subscription_item_usage_facts(struct req *r, struct db *db, const char *id,
				  struct sub_item_usage *out)
{
	struct subscription *s;
	const struct sub_item *it;
	const char *sub;
	int rc = item_sub_load(r, db, id, &s, &it, &sub);
	if (rc != DB_OK)
		return rc;
	memset(out, 0, sizeof(*out));
	out->subscription = sub;
	out->status = s->status;
	out->test_clock = s->test_clock;
	out->latest_invoice = s->latest_invoice;
	out->period_start = s->period_start;
	out->period_end = s->period_end;
	out->usage_since = it->usage_since;
	out->metered = item_metered(it);
	out->meter = it->pf.meter;
	out->aggregate_usage = it->pf.aggregate_usage;
	return DB_OK;
}

/* items[n][id, price, quantity, metadata, deleted] of POST /v1/subscriptions/{id} */
int subscription_item_thresholds_param(struct req *r, const char *path, const char *shown,
				       const char **ret, bool *ret_set)
{
	*ret_set = false;
	if (!param_present(r, path))
		return 0;
	*ret_set = true;
	*ret = NULL;
	const char *v = param_str(r, path);
	if (v && !*v)
		return 0;
	char p[128];
	snprintf(p, sizeof(p), "%s.usage_gte", path);
	int64_t gte = 0;
	param_int(r, p, &gte);
	if (gte < 1 || gte > QUANTITY_MAX * 1000LL)
		return req_fail(r, ERR_PARAM_BAD, arena_printf(&r->arena, "%s[usage_gte]", shown),
				"%s[usage_gte] must be a positive number of units.", shown);
	*ret = arena_printf(&r->arena, "{\"usage_gte\":%lld}", (long long)gte);
	return *ret ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

int subscription_changes_parse(struct req *r, const char *param, const char *shown,
			       struct sub_change *c)
{
	const struct form_node *items = param_node(r, param);
	int n = 0;
	for (const struct form_node *x = items ? items->first_child : NULL; x; x = x->next) {
		if (n == SUB_ITEMS_MAX)
			return req_fail(r, ERR_PARAM_BAD, shown,
					"A subscription can have at most %d items.", SUB_ITEMS_MAX);
		struct sub_item_change *ch = &c->ch[n];
		memset(ch, 0, sizeof(*ch));
		ch->shown = arena_printf(&r->arena, "%s[%d]", shown, n);
		char path[96];
		snprintf(path, sizeof(path), "%s.%d.id", param, n);
		const char *id = param_str(r, path);
		ch->id = id && *id ? id : NULL;
		snprintf(path, sizeof(path), "%s.%d", param, n);
		if (param_price_or_plan(r, path, ch->shown, &ch->price) != 0)
			return -1;
		snprintf(path, sizeof(path), "%s.%d.quantity", param, n);
		if (param_int(r, path, &ch->quantity) == 1 &&
		    (ch->quantity < 1 || ch->quantity > QUANTITY_MAX))
			return req_fail(
			    r, ERR_PARAM_BAD, arena_printf(&r->arena, "%s[quantity]", ch->shown),
			    "Invalid quantity: must be between 1 and %d.", QUANTITY_MAX);
		snprintf(path, sizeof(path), "%s.%d.metadata", param, n);
		if (param_present(r, path))
			ch->metadata_path = arena_strdup(&r->arena, path);
		snprintf(path, sizeof(path), "%s.%d.tax_rates", param, n);
		if (tax_rate_spec_parse(r, path,
					arena_printf(&r->arena, "%s[tax_rates]", ch->shown),
					&ch->tax) != 0)
			return -1;
		snprintf(path, sizeof(path), "%s.%d.discounts", param, n);
		if (discount_spec_parse_at(r, path, &ch->dspec) != 0)
			return -1;
		snprintf(path, sizeof(path), "%s.%d.deleted", param, n);
		bool del = false;
		if (param_bool(r, path, &del) == 1 && del) {
			if (!ch->id) {
				const char *idp = arena_printf(&r->arena, "%s[id]", ch->shown);
				return req_fail(r, ERR_PARAM_MISSING, idp, "%s", idp);
			}
			ch->deleted = true;
		}
		snprintf(path, sizeof(path), "%s.%d.clear_usage", param, n);
		bool clear = false;
		if (param_bool(r, path, &clear) == 1)
			ch->clear_usage = clear;
		ch->price_resets_quantity = true;
		snprintf(path, sizeof(path), "%s.%d.billing_thresholds", param, n);
		if (subscription_item_thresholds_param(
			r, path, arena_printf(&r->arena, "%s[billing_thresholds]", ch->shown),
			&ch->thresholds, &ch->thresholds_set) != 0)
			return -1;
		n++;
	}
	c->n = n;
	return 0;
}

/* s's latest invoice, if still open (or a draft), attempted no more. 0, or -1 with r->err. */
static int latest_invoice_stop(struct req *r, struct db *db, const struct subscription *s)
{
	struct invoice in;
	if (s->latest_invoice && invoice_load(r, db, s->latest_invoice, &in) == DB_OK &&
	    (str_eq(in.status, "open") || str_eq(in.status, "draft")) &&
	    (in.next_payment_attempt || in.auto_advance)) {
		in.next_payment_attempt = 0;
		in.auto_advance = false;
		if (invoice_update(r, db, &in) != DB_OK ||
		    invoice_emit(r, db, &in, "invoice.updated") != 0)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	return 0;
}

/* s canceled at now, saved, with its event (its latest invoice already dealt with). */
static int cancel_finish(struct req *r, struct db *db, struct subscription *s, int64_t now,
			 const char *reason)
{
	const char *was = s->status;
	s->status = "canceled";
	/* canceled before its cancel_at: that one no longer stands */
	if (s->cancel_at && now < s->cancel_at)
		s->cancel_at = 0;
	if (!s->canceled_at || !(s->cancel_at_period_end || s->cancel_at))
		s->canceled_at = now;
	s->ended_at = now;
	s->cancellation_reason = reason;
	s->next_action_at = 0;
	if (sub_save(r, db, s) != 0)
		return -1;
	if (subscription_schedule_sub_ended(r, db, s->id, reason, now) != 0)
		return -1;
	return sub_emit(r, db, s, "customer.subscription.deleted", prev_status(r, was));
}

/* Cancels s now (inside the caller's write): no more invoices; an open latest invoice stays
 * open without further automatic attempts (Stripe's default). */
static int cancel_now(struct req *r, struct db *db, struct subscription *s, int64_t now,
		      const char *reason)
{
	if (latest_invoice_stop(r, db, s) != 0)
		return -1;
	return cancel_finish(r, db, s, now, reason);
}

int subscription_phase_settings(struct req *r, struct db *db, const char *id, const char *pm,
				const char *metadata, bool sends, int64_t days_until_due,
				bool automatic_tax, const char *account_tax_ids)
{
	struct subscription s;
	int rc = sub_load(r, db, id, true, &s);
	if (rc == DB_NOTFOUND)
		return 0;
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (str_eq(s.status, "canceled") || str_eq(s.status, "incomplete_expired"))
		return 0;
	const char *md = s.metadata;
	if (metadata && schedule_metadata_merge(r, s.metadata, metadata, &md) != 0)
		return -1;
	bool pm_changes = pm && !str_eq(pm, s.default_payment_method);
	bool md_changes = strcmp(md, s.metadata) != 0;
	int64_t days = sends ? days_until_due : 0;
	bool cm_changes = sends != s.sends || days != s.days_until_due;
	bool at_changes = automatic_tax != s.automatic_tax;
	bool atx_changes = !str_eq(account_tax_ids ? account_tax_ids : "",
				   s.account_tax_ids ? s.account_tax_ids : "");
	if (!pm_changes && !md_changes && !cm_changes && !at_changes && !atx_changes)
		return 0;
	struct buf pb;
	struct json pj;
	buf_init(&pb, 64 * 1024);
	json_init(&pj, &pb);
	json_obj_open(&pj);
	if (at_changes) {
		json_key(&pj, "automatic_tax");
		json_obj_open(&pj);
		json_kv_bool(&pj, "enabled", s.automatic_tax);
		json_obj_close(&pj);
	}
	if (pm_changes)
		json_kv_str_or_null(&pj, "default_payment_method", s.default_payment_method);
	if (md_changes)
		json_kv_raw(&pj, "metadata", s.metadata, strlen(s.metadata));
	if (cm_changes && sends != s.sends)
		json_kv_str(&pj, "collection_method",
			    s.sends ? "send_invoice" : "charge_automatically");
	if (cm_changes && s.sends)
		json_kv_int(&pj, "days_until_due", s.days_until_due);
	else if (cm_changes)
		json_kv_null(&pj, "days_until_due");
	if (atx_changes) {
		json_key(&pj, "invoice_settings");
		json_obj_open(&pj);
		json_kv_raw_or_null(&pj, "account_tax_ids", s.account_tax_ids);
		json_obj_close(&pj);
	}
	json_obj_close(&pj);
	const char *prev = pb.failed ? NULL : arena_strndup(&r->arena, pb.data, pb.len);
	buf_release(&pb);
	if (!prev)
		return req_fail(r, ERR_API, NULL, NULL);
	if (pm_changes)
		s.default_payment_method = pm;
	s.metadata = md;
	s.sends = sends;
	s.days_until_due = days;
	s.automatic_tax = automatic_tax;
	s.account_tax_ids = account_tax_ids;
	if (sub_save(r, db, &s) != 0)
		return -1;
	return sub_emit(r, db, &s, "customer.subscription.updated", prev);
}

int subscription_cancel_for_schedule(struct req *r, struct db *db, const char *id)
{
	struct subscription s;
	int rc = sub_load(r, db, id, true, &s);
	if (rc == DB_NOTFOUND)
		return 0;
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (str_eq(s.status, "canceled") || str_eq(s.status, "incomplete_expired"))
		return 0;
	int64_t now;
	if (billing_now(r, db, s.test_clock, &now) != 0)
		return -1;
	/* at its period's end (a schedule that completes with end_behavior=cancel) a subscription
	 * with metered items ends as cancel_at_period_end ends it: its own CANCEL step, due now,
	 * bills the period's usage on its final invoice and pays it (period_end_final), which no
	 * schedule's write can */
	bool metered = false;
	for (int i = 0; i < s.n_items; i++)
		metered = metered || item_metered(&s.items[i]);
	struct subscription *u = NULL;
	if (metered && now >= s.period_end && final_usage(r, &s, s.period_end, &u) != 0)
		return -1;
	if (u) {
		if (s.cancel_at_period_end)
			return 0;
		const char *prev = "{\"cancel_at_period_end\":false,\"canceled_at\":null}";
		s.cancel_at_period_end = true;
		s.canceled_at = now;
		sub_schedule(&s, latest_next_attempt(r, db, &s));
		if (sub_save(r, db, &s) != 0)
			return -1;
		return sub_emit(r, db, &s, "customer.subscription.updated", prev);
	}
	s.cancel_at_period_end = false;
	return cancel_now(r, db, &s, now, "cancellation_requested");
}

static int cancel_fn(struct db *db, void *p)
{
	struct one_ctx *x = p;
	struct req *r = x->r;
	if (one_load(db, x, true) != 0 || clock_guard(r, db, &x->s) != 0)
		return -1;
	struct subscription *s = &x->s;
	if (str_eq(s->status, "canceled") || str_eq(s->status, "incomplete_expired"))
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"No such subscription: '%s': it is %s already.", s->id, s->status);
	int64_t now;
	if (billing_now(r, db, s->test_clock, &now) != 0)
		return -1;
	cancellation_details_apply(r, s);
	s->cancel_at_period_end = false;
	if (cancel_now(r, db, s, now, "cancellation_requested") != 0)
		return -1;
	return answer_sub(r, db, s->id);
}

static int cancel_read_fn(struct db *db, void *p);

/* A cancellation through the change path (cancel_read_fn, change_commit): prorate credits the
 * unused time, invoice_now bills what is pending at once; the answer is the subscription's, or
 * (SUB_ANSWER_SCHEDULE) that schedule's. */
static int cancel_prorated(struct req *r, const char *sub, enum sub_change_answer answer,
			   const char *schedule, bool prorate, bool invoice_now)
{
	struct sub_change *c = arena_alloc(&r->arena, sizeof(*c));
	struct change_ctx *x = arena_alloc(&r->arena, sizeof(*x));
	if (!c || !x)
		return req_fail(r, ERR_API, NULL, NULL);
	memset(c, 0, sizeof(*c));
	memset(x, 0, sizeof(*x));
	c->subscription = sub;
	c->answer = answer;
	if (schedule)
		str_copy(c->item, sizeof(c->item), schedule);
	x->r = r;
	x->c = c;
	x->cancel = true;
	x->cancel_prorate = prorate;
	x->invoice_now = invoice_now;
	if (req_read(r, cancel_read_fn, x) != 0)
		return -1;
	return change_commit(r, x);
}

int subscription_cancel_prorated_for_schedule(struct req *r, const char *sub, const char *schedule,
					      bool prorate, bool invoice_now)
{
	return cancel_prorated(r, sub, SUB_ANSWER_SCHEDULE, schedule, prorate, invoice_now);
}

/* ---- cancellation with proration ----
 *
 * DELETE /v1/subscriptions/{id} with prorate=true credits the unused time of the period it
 * billed (active or past_due; a trial was not billed), item by item, as a change that removes
 * them does (proration_add: -(unit × quantity) × (period_end - now) / (period_end -
 * period_start), in exact seconds, rounded half away from zero): invoice items of the customer,
 * pending. invoice_now=true makes the final invoice at once of the customer's pending invoice
 * items, those prorations included (the items a renewal would take: invoice_items_pending):
 * finalized with the customer's balance applied; a total below zero is paid at once, its
 * credit on the customer's balance (invoice_store); one above is charged as a change's invoice
 * is (change_commit: the charge and the cancellation in one write; declined, the subscription
 * is canceled all the same and the invoice stays open; without a payment method it is left
 * open, not charged). Decision: as for an open latest invoice of a canceled subscription
 * (cancel_now), the final invoice is not retried by itself. */

static int cancel_read_fn(struct db *db, void *p)
{
	struct change_ctx *x = p;
	struct req *r = x->r;
	const char *id = x->c->subscription;
	int rc = sub_load(r, db, id, true, &x->old);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "subscription", id, "id");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (clock_guard(r, db, &x->old) != 0 || billing_now(r, db, x->old.test_clock, &x->t) != 0)
		return -1;
	if (str_eq(x->old.status, "canceled") || str_eq(x->old.status, "incomplete_expired"))
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"No such subscription: '%s': it is %s already.", x->old.id,
				x->old.status);
	x->s = x->old;
	x->pr_t = x->t;
	x->n_pr = 0;
	x->pr_sum = 0;
	bool billed = str_eq(x->old.status, "active") || str_eq(x->old.status, "past_due");
	if (x->cancel_prorate && billed && x->t < x->old.period_end && x->t >= x->old.period_start)
		for (int i = 0; i < x->old.n_items; i++)
			if (proration_add(db, x, &x->old.items[i], -1) != 0)
				return -1;
	/* invoice_now bills the metered items' usage of the period up to now (Stripe's final
	 * invoice), unless the period is a trial's */
	x->usage = NULL;
	if (x->invoice_now && final_usage(r, &x->old, x->t, &x->usage) != 0)
		return -1;
	if (x->usage)
		x->usage->usage_through_end = true;
	x->sends = x->s.sends;
	return change_invoice_read(r, db, x);
}

/* The lines of a final invoice of o (billed: active or past_due) ending at `end`: o's metered
 * items alone, with the usage window [period_start, end), into *ret; NULL when it has none, or
 * bills none (a trial's period, end outside the period, not billed). 0, or -1 with r->err. */
static int final_usage(struct req *r, const struct subscription *o, int64_t end,
		       struct subscription **ret)
{
	*ret = NULL;
	bool billed = str_eq(o->status, "active") || str_eq(o->status, "past_due");
	if (!billed || end <= o->period_start || end > o->period_end ||
	    (o->trial_end && o->trial_end > o->period_start))
		return 0;
	struct subscription *u = arena_alloc(&r->arena, sizeof(*u));
	if (!u)
		return req_fail(r, ERR_API, NULL, NULL);
	*u = *o;
	u->n_items = 0;
	for (int i = 0; i < o->n_items; i++)
		if (item_metered(&o->items[i]))
			u->items[u->n_items++] = o->items[i];
	u->usage_start = o->period_start;
	u->usage_end = end;
	*ret = u->n_items ? u : NULL;
	return 0;
}

/* Does s's cancel_at credit the unused rest of its period when it cancels it (see "cancel_at")?
 * When it falls inside a billed period (not a trial's) and proration was not turned off. */
static bool cancel_at_credits(const struct subscription *s)
{
	bool billed = str_eq(s->status, "active") || str_eq(s->status, "past_due");
	return s->cancel_at && s->cancel_at_prorate && billed && s->cancel_at < s->period_end &&
	       s->cancel_at >= s->period_start && !(s->trial_end && s->trial_end > s->period_start);
}

/* The scheduler's CANCEL of a subscription with metered items at its period end, read: its
 * final invoice (Stripe: "any metered usage is charged for in a final invoice when the
 * subscription cancels at the end of the billing period") — the last period's usage, with the
 * customer's pending invoice items, which Stripe also collects at the period's end — made and
 * charged as invoice_now's is (change_commit), in the write that cancels it. x->usage NULL: it
 * bills no usage, and the step ends it as any other. */
static int period_end_read_fn(struct db *db, void *p)
{
	struct change_ctx *x = p;
	struct req *r = x->r;
	if (sub_load(r, db, x->c->subscription, true, &x->old) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	x->s = x->old;
	x->pr_t = x->t;
	x->n_pr = 0;
	x->pr_sum = 0;
	x->usage = NULL;
	x->invoice_now = false;
	/* a cancel_at within the period ends it (and its usage window) then, crediting the
	 * unused rest of what it billed */
	int64_t end = x->old.period_end;
	if (x->old.cancel_at && x->old.cancel_at < end)
		end = x->old.cancel_at;
	if (cancel_at_credits(&x->old)) {
		x->pr_t = x->old.cancel_at;
		for (int i = 0; i < x->old.n_items; i++)
			if (proration_add(db, x, &x->old.items[i], -1) != 0)
				return -1;
	}
	if (final_usage(r, &x->old, x->t < end ? x->t : end, &x->usage) != 0)
		return -1;
	if (x->usage)
		x->usage->usage_through_end = true;
	x->invoice_now = x->usage != NULL || x->n_pr > 0;
	x->sends = x->s.sends;
	return change_invoice_read(r, db, x);
}

/* Inside the write (its own, or the final invoice's payment's): the prorations, the final
 * invoice, the cancellation. */
static int cancel_rows(struct req *r, struct db *db, struct change_ctx *x)
{
	struct subscription *s = change_current(r, db, x);
	if (!s)
		return -1;
	/* a schedule's cancel: the schedule still manages it (cancel_finish then cancels both) */
	if (x->c->answer == SUB_ANSWER_SCHEDULE) {
		const char *sched;
		if (subscription_schedule_of(r, db, s->id, &sched) != 0)
			return req_fail(r, ERR_API, NULL, NULL);
		if (!sched || !str_eq(sched, x->c->item))
			return req_fail(r, ERR_INVALID_STATE, NULL,
					"Subscription schedule %s changed while it was canceled; "
					"try again.",
					x->c->item);
	}
	if (!x->at_period_end) {
		cancellation_details_apply(r, s);
		s->cancel_at_period_end = false;
	}
	/* the invoice it had stops being attempted (cancel_now) */
	if (latest_invoice_stop(r, db, s) != 0)
		return -1;
	for (int i = 0; i < x->n_pr; i++) {
		struct invoice_item ii = x->pr[i];
		ii.invoice = x->invoice_now ? x->invoice_id : NULL;
		if (invoice_item_insert(r, db, &ii) != 0 ||
		    tax_links_copy(r, db, ii.subscription_item, ii.id) != 0)
			return -1;
	}
	if (x->invoice_now) {
		if (invoice_items_claim(r, db, &x->pending, x->invoice_id) != 0)
			return -1;
		int64_t extra = x->pending.sum + x->pr_sum; /* both bounded by the read */
		/* with the metered items' usage lines when it has them (x->usage) */
		if (invoice_for_period(r, db, x->usage ? x->usage : s, x->t, x->invoice_id,
				       x->at_period_end ? "subscription_cycle"
							: "subscription_update",
				       x->usage ? 0 : -1, extra, &x->in) != 0)
			return -1;
		if (x->in.total != x->total)
			return req_fail(r, ERR_INVALID_STATE, NULL,
					"Subscription %s changed meanwhile.", s->id);
		x->in.payment_intent = x->pi_id[0] ? x->pi_id : NULL;
		x->in.auto_advance = false;
		x->in.next_payment_attempt = 0;
		s->latest_invoice = x->invoice_id;
		x->in.credits_planned = true; /* x->due was planned with them */
		if (invoice_store(r, db, &x->in, x->due) != 0)
			return -1;
	}
	return cancel_finish(r, db, s, x->t, "cancellation_requested");
}

static int h_cancel(struct req *r)
{
	bool prorate = false, invoice_now = false;
	param_bool(r, "prorate", &prorate);
	param_bool(r, "invoice_now", &invoice_now);
	if (!prorate && !invoice_now) {
		struct one_ctx x = {.r = r, .id = r->args[0]};
		return req_write(r, cancel_fn, &x);
	}
	return cancel_prorated(r, r->args[0], SUB_ANSWER_SUBSCRIPTION, NULL, prorate, invoice_now);
}

/* DELETE /v1/subscriptions/{id}/discount: its discounts end (customer.discount.deleted); the
 * answer is the (first) one removed, deleted. */
static int delete_discount_fn(struct db *db, void *p)
{
	struct one_ctx *x = p;
	struct req *r = x->r;
	if (one_load(db, x, true) != 0 || clock_guard(r, db, &x->s) != 0)
		return -1;
	struct subscription *s = &x->s;
	int64_t now;
	const char *old;
	if (billing_now(r, db, s->test_clock, &now) != 0)
		return -1;
	if (sub_live_discount_ids(r, db, s->id, &old) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	if (subscription_discounts_remove(r, db, s->id, now) != 0)
		return -1;
	const char *prev = arena_printf(&r->arena, "{\"discounts\":%s}", old);
	if (!prev || sub_save(r, db, s) != 0)
		return r->err.set ? -1 : req_fail(r, ERR_API, NULL, NULL);
	return sub_emit(r, db, s, "customer.subscription.updated", prev);
}

static int h_delete_discount(struct req *r)
{
	struct one_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, delete_discount_fn, &x);
}

/* ---- POST /v1/subscriptions/{id}/migrate: classic to flexible billing mode ----
 *
 * One way only, as on Stripe: a flexible subscription is never made classic again. Its
 * prorations from then on credit what was billed (proration_add); what it billed before is
 * not recomputed. */
static int migrate_fn(struct db *db, void *p)
{
	struct one_ctx *x = p;
	struct req *r = x->r;
	if (one_load(db, x, true) != 0 || clock_guard(r, db, &x->s) != 0)
		return -1;
	struct subscription *s = &x->s;
	const char *pd = param_str(r, "billing_mode.flexible.proration_discounts");
	bool was_itemized = s->flexible && str_eq(s->proration_discounts, "itemized");
	/* flexible's proration discounts go from included to itemized, never back */
	if (was_itemized && str_eq(pd, "included"))
		return req_fail(r, ERR_PARAM_BAD, "billing_mode[flexible][proration_discounts]",
				"Subscription %s itemizes its proration discounts; it cannot be "
				"migrated back to `included`.",
				s->id);
	if (s->flexible && (was_itemized || !str_eq(pd, "itemized")))
		return req_fail(r, ERR_PARAM_BAD, "billing_mode[type]",
				"Subscription %s already uses the `flexible` billing mode; a "
				"subscription cannot be migrated back to `classic`.",
				s->id);
	if (str_eq(s->status, "canceled") || str_eq(s->status, "incomplete_expired"))
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"Subscription %s has ended; its billing mode cannot be migrated.",
				s->id);
	int64_t now;
	if (billing_now(r, db, s->test_clock, &now) != 0)
		return -1;
	/* previous_attributes: the mode it had (its updated_at only when known) */
	const char *prev =
	    s->flexible ? arena_printf(&r->arena,
				       "{\"billing_mode\":{\"flexible\":{\"proration_discounts\":"
				       "\"included\"},\"type\":\"flexible\",\"updated_at\":%lld}}",
				       (long long)s->mode_updated_at)
	    : s->mode_updated_at
		? arena_printf(&r->arena,
			       "{\"billing_mode\":{\"flexible\":null,\"type\":\"classic\","
			       "\"updated_at\":%lld}}",
			       (long long)s->mode_updated_at)
		: "{\"billing_mode\":{\"flexible\":null,\"type\":\"classic\"}}";
	s->flexible = true;
	s->proration_discounts = str_eq(pd, "itemized") ? "itemized" : "included";
	s->mode_updated_at = now;
	if (sub_save(r, db, s) != 0)
		return -1;
	if (!prev || sub_emit(r, db, s, "customer.subscription.updated", prev) != 0)
		return r->err.set ? -1 : req_fail(r, ERR_API, NULL, NULL);
	/* the schedule that manages it makes its next phases' subscription changes in its mode */
	const char *sched;
	if (subscription_schedule_of(r, db, s->id, &sched) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	if (sched && subscription_schedule_migrated(r, db, sched, now, s->proration_discounts) != 0)
		return -1;
	return answer_sub(r, db, s->id);
}

static int h_migrate(struct req *r)
{
	bool flexible;
	const char *pd; /* read again by migrate_fn */
	if (subscription_billing_mode_param_pd(r, "billing_mode", "billing_mode", &flexible, &pd) !=
	    0)
		return -1;
	struct one_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, migrate_fn, &x);
}

static const char SQL_CUSTOMER_SUBS[] =
    "SELECT id FROM subscriptions WHERE merchant_id = $1 AND customer = $2"
    " AND status <> 'canceled' AND status <> 'incomplete_expired' ORDER BY id LIMIT $3";

int subscriptions_cancel_for_customer(struct req *r, struct db *db, const char *customer)
{
	/* bounded: a test clock's customer holds few subscriptions; the rest would stay */
	enum { MAX = 100 };
	char(*ids)[ID_MAX] = arena_alloc(&r->arena, MAX * ID_MAX);
	if (!ids)
		return req_fail(r, ERR_API, NULL, NULL);
	struct db_stmt *st = db_prepare(db, SQL_CUSTOMER_SUBS);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, customer, -1);
	db_bind_int64(st, 3, MAX);
	int n = 0;
	while (n < MAX && db_step(st) == DB_ROW)
		str_copy(ids[n++], ID_MAX, db_col_text(st, 0, NULL));
	db_reset(st);
	for (int i = 0; i < n; i++) {
		struct subscription s;
		int64_t now;
		if (sub_load(r, db, ids[i], true, &s) != DB_OK ||
		    billing_now(r, db, s.test_clock, &now) != 0)
			return req_fail(r, ERR_API, NULL, NULL);
		if (cancel_now(r, db, &s, now, "cancellation_requested") != 0)
			return -1;
	}
	/* and the schedules that have not made their subscription yet */
	return subscription_schedules_cancel_for_customer(r, db, customer);
}

static const char SQL_CURSOR[] =
    "SELECT created FROM subscriptions WHERE merchant_id = $1 AND id = $2";
/* $7: a status, or 'all', 'ended', or NULL (by default canceled ones are not listed) */
/* CUSTOMER and PRICE: the two filters' terms. Each is also a list_narrow (list.h): a
 * customer's subscriptions from subscriptions_customer, a price's as the subscriptions its items
 * name (subscription_items_price), each looked up by its key. */
#define LIST_SQL(CUSTOMER, PRICE)                                                                  \
	"SELECT id FROM subscriptions s WHERE merchant_id = $1 AND " CUSTOMER " AND " PRICE        \
	" AND id > $2 AND id < $3"                                                                 \
	" AND (($7 IS NULL AND status <> 'canceled' AND status <> 'incomplete_expired')"           \
	" OR $7 = 'all' OR ($7 = 'ended' AND (status = 'canceled' OR"                              \
	" status = 'incomplete_expired')) OR status = $7)"                                         \
	" AND ($8 IS NULL OR test_clock = $8) AND ($9 IS NULL OR collection_method = $9)"          \
	" AND ($10 IS NULL OR (current_period_end >= $10 AND current_period_end <= $11))"          \
	" AND ($12 IS NULL OR (current_period_start >= $12 AND current_period_start <= $13))"      \
	" AND ($14 IS NULL OR automatic_tax = $14)"
#define ANY_CUSTOMER "($5 IS NULL OR customer = $5)"
#define ANY_PRICE                                                                                  \
	"($6 IS NULL OR EXISTS (SELECT 1 FROM subscription_items i WHERE"                          \
	" i.merchant_id = s.merchant_id AND i.price = $6 AND i.subscription = s.id))"
#define PRICE_ITEMS                                                                                \
	"id IN (SELECT i.subscription FROM subscription_items i WHERE i.merchant_id = $1"          \
	" AND i.price = $6)"
static const char SQL_DESC[] = LIST_SQL(ANY_CUSTOMER, ANY_PRICE) " ORDER BY id DESC LIMIT $4";
static const char SQL_ASC[] = LIST_SQL(ANY_CUSTOMER, ANY_PRICE) " ORDER BY id ASC LIMIT $4";
static const char SQL_CUSTOMER_DESC[] =
    LIST_SQL("customer = $5", ANY_PRICE) " ORDER BY id DESC LIMIT $4";
static const char SQL_CUSTOMER_ASC[] =
    LIST_SQL("customer = $5", ANY_PRICE) " ORDER BY id ASC LIMIT $4";
static const char SQL_PRICE_DESC[] =
    LIST_SQL(ANY_CUSTOMER, PRICE_ITEMS) " ORDER BY id DESC LIMIT $4";
static const char SQL_PRICE_ASC[] = LIST_SQL(ANY_CUSTOMER, PRICE_ITEMS) " ORDER BY id ASC LIMIT $4";

static int list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	static const char *const names[] = {"customer", "price", "status", "test_clock",
					    "collection_method"};
	for (int i = 0; i < 5; i++) {
		const char *v = param_str(r, names[i]);
		db_bind_text(st, first + i, v && *v ? v : NULL, -1);
	}
	/* the current period's bounds (those of its items, which share them) and Stripe Tax */
	list_bind_range(r, st, first + 5, "current_period_end");
	list_bind_range(r, st, first + 7, "current_period_start");
	bool at;
	if (param_bool(r, "automatic_tax.enabled", &at) == 1)
		db_bind_int64(st, first + 9, at ? 1 : 0);
	else
		db_bind_null(st, first + 9);
	return 0;
}

static int list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	struct subscription s;
	int rc = sub_load(r, db, id, true, &s);
	if (rc != DB_OK)
		return rc;
	return sub_render(r, db, &s, "data.", j) == 0 ? DB_OK : DB_ERR;
}

static int subs_list(struct req *r, const char *url)
{
	const struct list_spec spec = {
	    .url = url,
	    .object_name = "subscription",
	    .id_prefix = "sub_",
	    .sql_cursor = SQL_CURSOR,
	    .sql_desc = SQL_DESC,
	    .sql_asc = SQL_ASC,
	    .narrow = {{"customer", SQL_CUSTOMER_DESC, SQL_CUSTOMER_ASC},
		       {"price", SQL_PRICE_DESC, SQL_PRICE_ASC}},
	    .bind_filters = list_bind,
	    .render = list_render,
	};
	return list_respond(r, &spec);
}

static int h_list(struct req *r)
{
	return subs_list(r, "/v1/subscriptions");
}

/* ---- the scheduler's steps ---- */

struct step_ctx {
	struct req *r;
	const char *id;
	int64_t t;
	struct subscription s;
	enum billing_action action;
	int64_t due;
	struct invoice in; /* RETRY: the latest invoice; RENEW/TRIAL_END: the new one */
	bool has_invoice;
	const char *pm;
	char pi_id[ID_MAX], invoice_id[ID_MAX];
	bool new_intent;
	struct pending_items pending; /* RENEW/TRIAL_END: the invoice items the invoice takes */
	int64_t total;		      /* RENEW/TRIAL_END: the new invoice's total */
	int64_t amount_due;	      /* and what it charges, with the customer's balance */
	/* RENEW/TRIAL_END: the invoice is a draft for INVOICE_DRAFT_WINDOW_S, then finalized and
	 * attempted by a RETRY step (Stripe's hour before a renewal invoice is finalized) */
	bool draft;
	/* RETRY of a draft: its total with its metered lines' usage as the read found it
	 * (draft_usage_refresh), which the finalizing write must find again */
	int64_t draft_total;
	/* a billing threshold is reached at t (see "billing thresholds") */
	bool threshold;
	/* next_pending_invoice_item_invoice is due: x->pending (this subscription's pending
	 * invoice items) are invoiced, if any */
	bool pending_due;
};

/* A renewal's draft `in` of s, its metered lines' usage read again (its hour of grace: events
 * stamped in the period that ended and reported since the draft was made are billed on it, as
 * Stripe includes usage reported while a renewal invoice is a draft): each line of a metered
 * item of s that bills a window that ended by the start of the period the invoice begins (a
 * renewal's own period is the one that ended, so its end; a threshold invoice's is the current
 * one; not a trial-end invoice's 0 line of the new period) gets the usage of that window
 * now, its quantity, amount, subtotal, description (and a tiered price's unit amount); then the
 * invoice's subtotal, discounts, taxes and total are computed from its lines as they are:
 * `store` (inside the finalizing write) writes the lines and the discounts' and taxes' shares,
 * else (the read before it) in->lines and in->total are only set. A line whose item left s
 * stays as it was. 0, or -1 with r->err. */
static int draft_usage_refresh(struct req *r, struct db *db, const struct subscription *s,
			       struct invoice *in, bool store)
{
	bool metered = false;
	for (int i = 0; i < s->n_items; i++)
		metered = metered || item_metered(&s->items[i]);
	if (!metered || !in->lines)
		return 0;
	json_t *arr = json_loads(in->lines, 0, NULL);
	if (!json_is_array(arr)) {
		json_decref(arr);
		return req_fail(r, ERR_API, NULL, NULL);
	}
	int rc = 0;
	bool changed = false;
	int64_t begins =
	    str_eq(in->billing_reason, "subscription_cycle") ? in->period_end : in->period_start;
	size_t k;
	json_t *l;
	json_array_foreach(arr, k, l)
	{
		const char *si = json_string_value(json_object_get(
		    json_object_get(json_object_get(l, "parent"), "subscription_item_details"),
		    "subscription_item"));
		json_t *period = json_object_get(l, "period");
		int64_t ps = json_integer_value(json_object_get(period, "start"));
		int64_t pe = json_integer_value(json_object_get(period, "end"));
		const struct sub_item *it = NULL;
		for (int i = 0; si && i < s->n_items; i++)
			if (str_eq(s->items[i].id, si) && item_metered(&s->items[i]))
				it = &s->items[i];
		if (!it || !pe || pe > begins || ps >= pe)
			continue;
		struct subscription w = *s;
		w.usage_start = ps;
		w.usage_end = pe;
		int64_t q, a;
		if (item_usage(r, db, &w, it, &q, &a) != 0) {
			rc = -1;
			break;
		}
		if (q == json_integer_value(json_object_get(l, "quantity")) &&
		    a == json_integer_value(json_object_get(l, "amount")))
			continue;
		changed = true;
		char unit[40];
		if (it->pf.tiers && json_is_object(json_object_get(l, "pricing"))) {
			if (tiers_unit_decimal(a, q, unit, sizeof(unit)))
				snprintf(unit, sizeof(unit), "0");
			json_object_set_new(json_object_get(l, "pricing"), "unit_amount_decimal",
					    json_string(unit));
		}
		if (json_object_set_new(l, "quantity", json_integer(q)) != 0 ||
		    json_object_set_new(l, "amount", json_integer(a)) != 0 ||
		    json_object_set_new(l, "subtotal", json_integer(a)) != 0 ||
		    json_object_set_new(l, "description",
					json_string(line_description(r, it, q, false))) != 0) {
			rc = req_fail(r, ERR_API, NULL, NULL);
			break;
		}
	}
	char *text =
	    rc == 0 && changed ? json_dumps(arr, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(arr);
	if (rc != 0 || !changed)
		return rc;
	in->lines = text ? arena_strdup(&r->arena, text) : NULL;
	free(text);
	if (!in->lines)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!store)
		return invoice_discounts_total(r, db, in, &in->total);
	if (invoice_lines_update(r, db, in) != DB_OK)
		return req_fail(r, ERR_INVALID_STATE, NULL, "Invoice %s changed meanwhile.",
				in->id);
	return invoice_discounts_apply(r, db, in);
}

static const char SQL_PI_STATUS[] =
    "SELECT status FROM payment_intents WHERE merchant_id = $1 AND id = $2";

/* Stripe gives an incomplete subscription whose first invoice's intent waits for microdeposits
 * (an ACH account typed on a Checkout page) 10 days to be verified instead of 23 hours, though
 * not past the billing cycle's date: x's expiry (x->due) moved there. 0, or -1 with r->err. */
#define MICRODEPOSIT_WINDOW_S (10 * 86400)

static int microdeposit_window(struct req *r, struct db *db, struct step_ctx *x)
{
	if (!x->has_invoice || !x->in.payment_intent)
		return 0;
	struct payment_intent pi;
	int rc = pi_load(db, &r->arena, r->merchant_id, x->in.payment_intent, &pi);
	if (rc == DB_NOTFOUND)
		return 0;
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!str_eq(pi.status, "requires_action") || !pi.next_action ||
	    !strstr(pi.next_action, "\"verify_with_microdeposits\""))
		return 0;
	int64_t until = x->s.created + MICRODEPOSIT_WINDOW_S;
	if (x->s.period_end && x->s.period_end < until)
		until = x->s.period_end;
	if (until > x->due)
		x->due = until;
	return 0;
}

static int threshold_reached(struct req *r, struct db *db, const struct subscription *s, int64_t t,
			     bool *ret);

static int step_read_fn(struct db *db, void *p)
{
	struct step_ctx *x = p;
	struct req *r = x->r;
	if (sub_load(r, db, x->id, true, &x->s) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	struct subscription *s = &x->s;
	x->has_invoice =
	    s->latest_invoice && invoice_load(r, db, s->latest_invoice, &x->in) == DB_OK;
	struct billing_state b = sub_state(s, x->has_invoice ? sub_invoice_step(&x->in) : 0);
	x->action = billing_next_action(&b, &x->due);
	if (x->action == BILLING_EXPIRE && microdeposit_window(r, db, x) != 0)
		return -1;
	/* a billing threshold: only when nothing else is due now and the latest invoice has no
	 * step of its own left (it goes first; the next report checks again) */
	x->threshold = false;
	if ((x->action == BILLING_NONE || x->due > x->t) &&
	    !(x->has_invoice && sub_invoice_step(&x->in)) && !s->pending_update &&
	    threshold_reached(r, db, s, x->t, &x->threshold) != 0)
		return -1;
	/* pending_invoice_item_interval: the same, after a threshold's invoice */
	int64_t pend = pending_interval_due(s);
	x->pending_due = !x->threshold && pend && pend <= x->t &&
			 (x->action == BILLING_NONE || x->due > x->t) &&
			 !(x->has_invoice && sub_invoice_step(&x->in)) && !s->pending_update;
	memset(&x->pending, 0, sizeof(x->pending));
	if (x->pending_due &&
	    invoice_items_pending_of(r, db, s->customer, s->currency, s->id, &x->pending) != 0)
		return -1;
	struct billing_customer cf;
	if (billing_customer_get(r, db, s->customer, &cf) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* a retry pays the latest invoice, whose own default_payment_method or default_source (set
	 * while it was a draft, or since) comes first; a new invoice has none */
	x->pm = invoice_pay_with(r, x->has_invoice && x->action == BILLING_RETRY ? &x->in : NULL,
				 s->default_payment_method, s->default_source, &cf);
	/* a new period's invoice takes the customer's pending items (this subscription's and
	 * those of none) */
	x->total = 0;
	/* (not when a threshold's or the pending items' invoice is made first: x->pending is
	 * that one's) */
	if ((x->action == BILLING_RENEW || x->action == BILLING_TRIAL_END) && !x->pending_due &&
	    !x->threshold) {
		/* the new period's invoice: its lines and the pending items, less the discounts
		 * it will take at the step's time */
		struct discount *ds = arena_alloc(&r->arena, DISCOUNTS_MAX * sizeof(*ds));
		int n_ds = 0;
		if (!ds)
			return req_fail(r, ERR_API, NULL, NULL);
		if (invoice_items_pending(r, db, s->customer, s->currency, s->id, &x->pending) != 0)
			return -1;
		/* its metered items bill the usage of the period that ends, unless a trial's */
		if (!(s->trial_end && s->trial_end > s->period_start)) {
			s->usage_start = s->period_start;
			s->usage_end = s->period_end;
		}
		if (subscription_discounts(r, db, s->id, x->t, ds, &n_ds) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		/* the new period's lines: partial when it runs from a trial's end to a later
		 * anchor */
		if (trial_anchor_partial(r, db, s, s->period_index + 1, s->period_end) != 0)
			return -1;
		/* (what a paused collection's invoice, finalized at once, charges: its billing
		 * credits off first, as its finalization applies them) */
		int64_t credited;
		if (planned_total(r, db, s, true, false, &x->pending, NULL, 0, NULL, NULL, ds, n_ds,
				  x->t, &x->total, &credited) != 0 ||
		    invoice_planned_due(r, db, s->customer, s->currency, x->total - credited,
					&x->amount_due) != 0)
			return -1;
	}
	/* a draft's first attempt: it is finalized first, its metered lines' usage as it is now,
	 * with the customer's balance now */
	x->draft_total = 0;
	if (x->action == BILLING_RETRY && str_eq(x->in.status, "draft")) {
		if (draft_usage_refresh(r, db, s, &x->in, false) != 0)
			return -1;
		x->draft_total = x->in.total;
		/* what its finalization will charge: its customer's billing credits come off
		 * first (draft_finalize applies them) */
		int64_t credited;
		if (invoice_credits_apply(r, db, &x->in, x->t, false, &credited) != 0 ||
		    invoice_planned_due(r, db, x->in.customer, x->in.currency,
					x->in.total - credited, &x->amount_due) != 0)
			return -1;
	}
	/* an intent is confirmed again while it can be; else the attempt gets a new one */
	x->new_intent = true;
	if (x->action == BILLING_RETRY && x->in.payment_intent) {
		struct db_stmt *st = db_prepare(db, SQL_PI_STATUS);
		if (!st)
			return req_fail(r, ERR_API, NULL, NULL);
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, x->in.payment_intent, -1);
		const char *status = db_step(st) == DB_ROW ? db_col_text(st, 0, NULL) : NULL;
		x->new_intent = !status || !(str_eq(status, "requires_payment_method") ||
					     str_eq(status, "requires_confirmation") ||
					     str_eq(status, "requires_action"));
		db_reset(st);
	}
	return 0;
}

/* Invoice id, if it is still open, voided at t (what it took of the customer's balance given
 * back, its intent abandoned if it waits for 3-D Secure), with invoice.voided. An invoice that
 * is not open, or is gone, is left alone. 0, or -1 with r->err. */
static int open_invoice_void(struct req *r, struct db *db, const char *id, int64_t t)
{
	struct invoice in;
	if (invoice_load(r, db, id, &in) != DB_OK || !str_eq(in.status, "open"))
		return 0;
	in.status = "void";
	in.voided_at = t;
	in.next_payment_attempt = 0;
	in.auto_advance = false;
	if (invoice_update(r, db, &in) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (in.payment_intent && payment_intent_abandon(r, db, in.payment_intent) != 0)
		return -1;
	if (invoice_emit(r, db, &in, "invoice.voided") != 0 ||
	    invoice_balance_return(r, db, &in) != 0)
		return -1;
	return 0;
}

/* An incomplete subscription s (its items loaded) ends at t: incomplete_expired, its first
 * invoice (if still open) voided and that invoice's intent, if waiting for 3-D Secure,
 * abandoned. */
static int expire_incomplete(struct req *r, struct db *db, struct subscription *s, int64_t t)
{
	const char *was = s->status;
	s->status = "incomplete_expired";
	s->ended_at = t;
	s->next_action_at = 0;
	if (s->latest_invoice && open_invoice_void(r, db, s->latest_invoice, t) != 0)
		return -1;
	if (sub_save(r, db, s) != 0 ||
	    subscription_schedule_sub_ended(r, db, s->id, "incomplete_expired", t) != 0)
		return -1;
	return sub_emit(r, db, s, "customer.subscription.updated", prev_status(r, was));
}

/* EXPIRE and CANCEL: no payment */
static int step_end_fn(struct db *db, void *p)
{
	struct step_ctx *x = p;
	struct req *r = x->r;
	struct subscription *s = &x->s;
	struct subscription cur;
	if (sub_load(r, db, s->id, false, &cur) != DB_OK || cur.version != s->version)
		return req_fail(r, ERR_INVALID_STATE, NULL, "changed meanwhile");
	if (x->action == BILLING_CANCEL)
		return cancel_now(r, db, s, x->t, "cancellation_requested");
	/* incomplete for 23 h: expired, its first invoice voided */
	return expire_incomplete(r, db, s, x->t);
}

int subscription_end_incomplete(struct req *r, struct db *db, const char *id)
{
	struct subscription s;
	int rc = sub_load(r, db, id, true, &s);
	if (rc == DB_NOTFOUND)
		return 0;
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!str_eq(s.status, "incomplete"))
		return 0;
	int64_t now;
	if (billing_now(r, db, s.test_clock, &now) != 0)
		return -1;
	return expire_incomplete(r, db, &s, now);
}

int subscription_status(struct req *r, struct db *db, const char *id, const char **ret_status)
{
	struct subscription s;
	int rc = sub_load(r, db, id, false, &s);
	if (rc == DB_OK)
		*ret_status = s.status;
	return rc;
}

int subscription_render_by_id(struct req *r, struct db *db, const char *id, const char *prefix,
			      struct json *j)
{
	struct subscription s;
	int rc = sub_load(r, db, id, true, &s);
	if (rc != DB_OK)
		return rc;
	return sub_render(r, db, &s, prefix, j) == 0 ? DB_OK : DB_ERR;
}

/* RENEW / TRIAL_END, inside the write (the payment's, or one of its own): the next period and
 * its invoice. */
static int renew_rows(struct req *r, struct db *db, struct step_ctx *x)
{
	struct subscription s;
	if (sub_load(r, db, x->s.id, true, &s) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (s.version != x->s.version)
		return req_fail(r, ERR_INVALID_STATE, NULL, "Subscription %s changed meanwhile.",
				s.id);
	enum billing_interval iv;
	if (billing_interval_parse(s.interval, &iv) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	const char *was = s.status;
	/* the usage window the total read before the write was planned with */
	s.usage_start = x->s.usage_start;
	s.usage_end = x->s.usage_end;
	/* the invoice's own period is the one that ends (Stripe's "looks back one period"; its
	 * lines are the new one's) */
	int64_t ended_start = s.period_start, ended_end = s.period_end;
	s.period_start = s.period_end;
	s.period_index++;
	if (sub_period_end(&s, iv, s.period_index, &s.period_end) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	if (trial_anchor_partial(r, db, &s, s.period_index, s.period_start) != 0)
		return -1;
	if (str_eq(s.status, "trialing"))
		s.status = "active";
	s.latest_invoice = x->invoice_id;
	sub_schedule(&s, x->draft ? x->t + INVOICE_DRAFT_WINDOW_S : 0);
	if (sub_save(r, db, &s) != 0)
		return -1;
	const char *prev = arena_printf(
	    &r->arena, "{\"latest_invoice\":%s%s%s}", json_quote(r, x->s.latest_invoice),
	    s.status != was ? ",\"status\":" : "", s.status != was ? json_quote(r, was) : "");
	if (!prev || sub_emit(r, db, &s, "customer.subscription.updated", prev) != 0)
		return -1;
	if (invoice_items_claim(r, db, &x->pending, x->invoice_id) != 0 ||
	    invoice_for_period(r, db, &s, x->t, x->invoice_id, "subscription_cycle", false,
			       x->pending.sum, &x->in) != 0)
		return -1;
	x->in.period_start = ended_start;
	x->in.period_end = ended_end;
	/* the payment was made for the total read before the write */
	if (x->in.total != x->total)
		return req_fail(r, ERR_INVALID_STATE, NULL, "Subscription %s changed meanwhile.",
				s.id);
	x->in.payment_intent = x->pi_id[0] ? x->pi_id : NULL;
	if (x->draft) {
		/* finalized (and attempted) an hour later by a RETRY step: no number yet, the
		 * customer's balance taken then */
		x->in.status = "draft";
		x->in.finalized_at = 0;
		x->in.number = NULL;
		x->in.next_payment_attempt = x->t + INVOICE_DRAFT_WINDOW_S;
		if (invoice_insert(r, db, &x->in) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		return invoice_emit(r, db, &x->in, "invoice.created");
	}
	/* the version check above makes s.pause_behavior the one the step decided by */
	x->in.credits_planned = true; /* x->amount_due was planned with them */
	return invoice_store_paused(r, db, &x->in, s.pause_behavior, x->amount_due);
}

/* A renewal's draft finalized at t (its hour is over, inside the write of its first attempt):
 * numbered, the customer's balance applied (planned_due: what the attempt charges); with
 * nothing to charge it is paid at once, as a renewal with nothing due always was. 0, or -1 with
 * r->err. */
static int draft_finalize(struct req *r, struct db *db, struct invoice *in,
			  const struct step_ctx *x)
{
	int64_t t = x->t, planned_due = x->amount_due;
	/* its metered lines' usage as it is now, the total the read planned the payment for */
	if (draft_usage_refresh(r, db, &x->s, in, true) != 0)
		return -1;
	if (in->total != x->draft_total)
		return req_fail(r, ERR_INVALID_STATE, NULL, "Invoice %s changed meanwhile.",
				in->id);
	if (invoice_number_next(r, db, in->customer, &in->number) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	in->status = "open";
	in->finalized_at = t;
	in->next_payment_attempt = 0;
	in->credits_planned = true; /* the read planned planned_due with them */
	/* a send_invoice one: due days_until_due days from now, its overdue notice then */
	if (invoice_finalize_terms(r, in, t) != 0 ||
	    invoice_balance_apply(r, db, in, planned_due) != 0)
		return -1;
	bool zero = in->amount_due <= 0 || in->too_small;
	if (zero) {
		in->status = "paid";
		in->paid_at = t;
		in->auto_advance = false;
		in->next_payment_attempt = 0;
	}
	if (invoice_update(r, db, in) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (invoice_emit(r, db, in, "invoice.finalized") != 0)
		return -1;
	if (!zero)
		return 0;
	if (invoice_emit(r, db, in, "invoice.paid") != 0 ||
	    invoice_emit(r, db, in, "invoice.payment_succeeded") != 0)
		return -1;
	return subscription_invoice_paid(r, db, in);
}

/* The step's draft as it is now, into *cur, unless it changed since the step read it. 0, or -1
 * with r->err. */
static int step_draft_load(struct req *r, struct db *db, const struct step_ctx *x,
			   struct invoice *cur)
{
	if (invoice_load(r, db, x->in.id, cur) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (cur->version != x->in.version || !str_eq(cur->status, "draft"))
		return req_fail(r, ERR_INVALID_STATE, NULL, "Invoice %s changed meanwhile.",
				cur->id);
	return 0;
}

/* RETRY of a draft with nothing to charge: finalized, paid. */
static int draft_uncharged_fn(struct db *db, void *p)
{
	struct step_ctx *x = p;
	struct invoice cur;
	if (step_draft_load(x->r, db, x, &cur) != 0)
		return -1;
	return draft_finalize(x->r, db, &cur, x);
}

static const char SQL_RESCHEDULE[] =
    "UPDATE subscriptions SET next_action_at = $3 WHERE merchant_id = $1 AND id = $2"
    " AND version = $4";

/* RETRY of a send_invoice draft, its hour over: finalized (open, due days_until_due days from
 * now), not charged; the subscription's next step is its renewal (the invoice's overdue notice
 * is the invoice's own step). */
static int draft_send_fn(struct db *db, void *p)
{
	struct step_ctx *x = p;
	struct req *r = x->r;
	struct invoice cur;
	if (step_draft_load(r, db, x, &cur) != 0 || draft_finalize(r, db, &cur, x) != 0)
		return -1;
	/* paid at once (nothing due): subscription_invoice_paid saved it already */
	if (!str_eq(cur.status, "open"))
		return 0;
	struct subscription s;
	if (sub_load(r, db, x->s.id, false, &s) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	sub_schedule(&s, 0);
	struct db_stmt *st = db_prepare(db, SQL_RESCHEDULE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, s.id, -1);
	db_bind_int64_or_null(st, 3, s.next_action_at);
	db_bind_int64(st, 4, s.version);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* paid by bank transfer: its intent, paid now when the customer's cash covers it */
	return invoice_cash_collect(r, db, &cur);
}

static int renew_before(struct req *r, struct db *db, void *p)
{
	return renew_rows(r, db, p);
}

/* RETRY, inside the payment's write: the invoice is still the one read, waiting for this
 * attempt; a new intent is named by it. */
static int retry_before(struct req *r, struct db *db, void *p)
{
	struct step_ctx *x = p;
	struct invoice cur;
	if (invoice_load(r, db, x->in.id, &cur) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (cur.version != x->in.version ||
	    !(str_eq(cur.status, "open") || str_eq(cur.status, "draft")))
		return req_fail(r, ERR_INVALID_STATE, NULL, "Invoice %s changed meanwhile.",
				cur.id);
	if (str_eq(cur.status, "draft") && draft_finalize(r, db, &cur, x) != 0)
		return -1;
	if (x->new_intent) {
		cur.payment_intent = x->pi_id;
		if (invoice_update(r, db, &cur) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	return 0;
}

/* An attempt that could not reach a card (no payment method, or one that is gone): recorded
 * as a failed attempt of the invoice, without a charge. Renewals first make their period and
 * invoice. */
static int attempt_without_card_fn(struct db *db, void *p)
{
	struct step_ctx *x = p;
	struct req *r = x->r;
	x->pi_id[0] = '\0';
	if (x->action != BILLING_RETRY && renew_rows(r, db, x) != 0)
		return -1;
	struct invoice in;
	if (invoice_load(r, db, x->action == BILLING_RETRY ? x->in.id : x->invoice_id, &in) !=
	    DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (x->action == BILLING_RETRY && in.version != x->in.version)
		return req_fail(r, ERR_INVALID_STATE, NULL, "Invoice %s changed meanwhile.", in.id);
	/* a renewal's draft, its hour over: finalized first */
	if (str_eq(in.status, "draft") && draft_finalize(r, db, &in, x) != 0)
		return -1;
	if (!str_eq(in.status, "open"))
		return 0; /* a zero invoice is paid already */
	in.attempt_count++;
	in.next_payment_attempt = 0;
	bool give_up = false;
	int64_t next = 0;
	int k = in.attempt_count >= BILLING_ATTEMPTS_MAX
		    ? 0
		    : billing_next_attempt(in.finalized_at, (int)in.attempt_count, &next);
	if (k < 0)
		return req_fail(r, ERR_API, NULL, NULL);
	if (k == 1)
		in.next_payment_attempt = next;
	else
		give_up = true;
	if (invoice_update(r, db, &in) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (invoice_emit(r, db, &in, "invoice.payment_failed") != 0)
		return -1;
	return subscription_invoice_failed(r, db, &in, give_up);
}

/* A renewal: the next period and its invoice, a draft (x->draft) or, collection paused, as
 * pause_collection says; nothing is charged in this write. */
static int uncharged_renew_fn(struct db *db, void *p)
{
	struct step_ctx *x = p;
	x->pi_id[0] = '\0';
	return renew_rows(x->r, db, x);
}

/* invoice.upcoming of s: the invoice its renewal (or its trial's end) will make, as the preview
 * shows it (invoice_preview_upcoming), without an id: it does not exist yet (Stripe's event
 * object has none). A subscription with nothing to invoice has no event; its renewal is still
 * recorded as announced. 0, or -1 with r->err. */
static int upcoming_emit(struct req *r, struct db *db, const struct subscription *s)
{
	struct buf b;
	struct json j;
	buf_init(&b, 4u << 20);
	json_init(&j, &b);
	int rc = invoice_preview_upcoming(r, db, s->id, &j);
	if (rc == -1 && r->err.set && api_error_info(r->err.code)->status < 500) {
		/* a renewal Tender cannot preview (a schedule's next phase of another interval):
		 * announced without an event rather than retried before the renewal for ever,
		 * which would hold the renewal back */
		log_msg(LOG_INFO, "subscription %s: invoice.upcoming not sent: %s", s->id,
			req_error_message(r));
		rc = 1;
	}
	if (rc == 1) {
		buf_release(&b);
		r->err.set = false;
		return 0;
	}
	char *body = NULL;
	if (rc == 0 && !b.failed) {
		json_t *o = json_loadb(b.data, b.len, 0, NULL);
		if (json_is_object(o) && json_object_del(o, "id") == 0)
			body = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(o);
		rc = body ? 0 : -1;
	} else {
		rc = -1;
	}
	buf_release(&b);
	int64_t now;
	if (rc == 0)
		rc = billing_now(r, db, s->test_clock, &now);
	if (rc == 0) {
		struct event_origin o = {NULL, NULL, r->livemode};
		if (event_append(db, r->merchant_id, &o, "invoice.upcoming", s->id, body,
				 strlen(body), NULL, now, NULL) != DB_OK)
			rc = -1;
	}
	free(body);
	return rc == 0 ? 0 : r->err.set ? -1 : req_fail(r, ERR_API, NULL, NULL);
}

/* TRIAL_WILL_END, UPCOMING and RESUME_COLLECTION: the subscription alone changes, with its event.
 */
static int step_notice_fn(struct db *db, void *p)
{
	struct step_ctx *x = p;
	struct req *r = x->r;
	struct subscription *s = arena_alloc(&r->arena, sizeof(*s));
	if (!s)
		return req_fail(r, ERR_API, NULL, NULL);
	*s = x->s; /* a re-run starts again from what was read */
	struct subscription cur;
	if (sub_load(r, db, s->id, false, &cur) != DB_OK || cur.version != s->version)
		return req_fail(r, ERR_INVALID_STATE, NULL, "changed meanwhile");
	int64_t next_attempt = x->has_invoice ? sub_invoice_step(&x->in) : 0;
	if (x->action == BILLING_TRIAL_WILL_END) {
		s->trial_notice_for = s->trial_end;
		sub_schedule(s, next_attempt);
		if (sub_save(r, db, s) != 0)
			return -1;
		return sub_emit(r, db, s, "customer.subscription.trial_will_end", NULL);
	}
	if (x->action == BILLING_UPCOMING) {
		/* claimed by the version read, in the event's transaction: sent once per renewal,
		 * whichever node's scheduler gets here first */
		s->upcoming_notice_for = s->status && str_eq(s->status, "trialing") && s->trial_end
					     ? s->trial_end
					     : s->period_end;
		sub_schedule(s, next_attempt);
		if (sub_save(r, db, s) != 0)
			return -1;
		return upcoming_emit(r, db, s);
	}
	/* pause_collection's resumes_at: collection resumes, the setting is gone */
	const char *prev =
	    arena_printf(&r->arena, "{\"pause_collection\":{\"behavior\":%s,\"resumes_at\":%lld}}",
			 json_quote(r, s->pause_behavior), (long long)s->pause_resumes_at);
	s->pause_behavior = NULL;
	s->pause_resumes_at = 0;
	sub_schedule(s, next_attempt);
	if (!prev || sub_save(r, db, s) != 0)
		return r->err.set ? -1 : req_fail(r, ERR_API, NULL, NULL);
	return sub_emit(r, db, s, "customer.subscription.updated", prev);
}

static int cancel_now(struct req *r, struct db *db, struct subscription *s, int64_t now,
		      const char *reason);

/* A trial that ends without a payment method, by trial_settings.end_behavior: paused
 * (customer.subscription.paused; no invoice until POST …/resume) or canceled. */
static int trial_end_missing_pm_fn(struct db *db, void *p)
{
	struct step_ctx *x = p;
	struct req *r = x->r;
	struct subscription *s = arena_alloc(&r->arena, sizeof(*s));
	if (!s)
		return req_fail(r, ERR_API, NULL, NULL);
	*s = x->s;
	struct subscription cur;
	if (sub_load(r, db, s->id, false, &cur) != DB_OK || cur.version != s->version)
		return req_fail(r, ERR_INVALID_STATE, NULL, "changed meanwhile");
	if (str_eq(s->trial_missing_pm, "cancel"))
		return cancel_now(r, db, s, x->t, "cancellation_requested");
	const char *was = s->status;
	s->status = "paused";
	s->paused_at = x->t;
	sub_schedule(s, 0);
	if (sub_save(r, db, s) != 0 ||
	    sub_emit(r, db, s, "customer.subscription.updated", prev_status(r, was)) != 0)
		return -1;
	return sub_emit(r, db, s, "customer.subscription.paused", NULL);
}

/* The total of s's next period (its items × quantities). */
static int next_total(const struct subscription *s, int64_t *ret)
{
	struct billing_line lines[SUB_ITEMS_MAX];
	int64_t amounts[SUB_ITEMS_MAX];
	for (int i = 0; i < s->n_items; i++)
		lines[i] = item_line(&s->items[i]);
	return billing_total(lines, s->n_items, amounts, ret);
}

/* The row's next_action_at set to the state's (x->due, 0: none) where it is still as read. */
static int reschedule_fn(struct db *db, void *p)
{
	struct step_ctx *x = p;
	struct db_stmt *st = db_prepare(db, SQL_RESCHEDULE);
	if (!st)
		return req_fail(x->r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, x->r->merchant_id, -1);
	db_bind_text(st, 2, x->s.id, -1);
	db_bind_int64_or_null(st, 3, x->due);
	db_bind_int64(st, 4, x->s.version);
	return db_step_done(st) == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

/* A pending update at its expires_at: dropped, its invoice voided if still open (its intent,
 * if waiting for 3-D Secure, abandoned), as Stripe does; the subscription otherwise as it is. */
static int pending_expire_fn(struct db *db, void *p)
{
	struct step_ctx *x = p;
	struct req *r = x->r;
	struct subscription *s = &x->s;
	struct subscription cur;
	if (sub_load(r, db, s->id, false, &cur) != DB_OK || cur.version != s->version)
		return req_fail(r, ERR_INVALID_STATE, NULL, "changed meanwhile");
	if (s->pending_invoice && open_invoice_void(r, db, s->pending_invoice, x->t) != 0)
		return -1;
	s->pending_update = s->pending_invoice = NULL;
	s->pending_expires_at = 0;
	sub_schedule(s, latest_next_attempt(r, db, s));
	if (sub_save(r, db, s) != 0 || pending_store(r, db, s) != 0)
		return -1;
	return sub_emit(r, db, s, "customer.subscription.pending_update_expired", NULL);
}

/* CANCEL: a subscription with metered items ends with its final invoice (period_end_read_fn),
 * paid in the write that ends it. 0 when done (or -1 with r->err), 1 when it bills no usage
 * and ends as any other (step_end_fn). */
static int period_end_final(struct req *r, struct step_ctx *x)
{
	bool metered = false;
	for (int i = 0; i < x->s.n_items; i++)
		metered = metered || item_metered(&x->s.items[i]);
	if (!metered && !cancel_at_credits(&x->s))
		return 1;
	struct sub_change *c = arena_alloc(&r->arena, sizeof(*c));
	struct change_ctx *cx = arena_alloc(&r->arena, sizeof(*cx));
	if (!c || !cx)
		return req_fail(r, ERR_API, NULL, NULL);
	memset(c, 0, sizeof(*c));
	memset(cx, 0, sizeof(*cx));
	c->subscription = x->s.id;
	c->answer = SUB_ANSWER_SUBSCRIPTION;
	cx->r = r;
	cx->c = c;
	cx->cancel = true;
	cx->at_period_end = true;
	cx->t = x->t;
	if (req_read(r, period_end_read_fn, cx) != 0)
		return -1;
	/* what the step decided by must still be so (else it is done again, read anew) */
	if (cx->old.version != x->s.version)
		return req_fail(r, ERR_INVALID_STATE, NULL, "Subscription %s changed meanwhile.",
				x->s.id);
	if (!cx->usage && !cx->n_pr)
		return 1;
	if (change_commit(r, cx) == 0)
		return 0;
	/* the store failed, or the subscription or its usage changed since the read: the step
	 * is done again, read anew */
	if (api_error_info(r->err.code)->status >= 500 || r->err.code == ERR_INVALID_STATE)
		return -1;
	/* nothing was recorded (the payment method is gone, …): the final invoice is made
	 * without a charge, left open as a cancellation's without a card is */
	log_msg(LOG_INFO, "subscription %s: final invoice not charged: %s", x->s.id,
		req_error_message(r));
	r->err.set = false;
	cx->pm = NULL;
	return change_commit(r, cx);
}

/* ---- billing thresholds ----
 * billing_thresholds[amount_gte] (the subscription's) and items[n][billing_thresholds]
 * [usage_gte] are acted on by the scheduler, as Stripe evaluates them asynchronously after the
 * usage is reported: a meter event or usage record of a subscription with a threshold brings
 * its next step forward to the report's time (subscription_thresholds_due, in the report's own
 * write), and the step reads the usage the current period has accrued so far — each metered
 * item's, from where its window starts (item_usage_start, the period's start or the previous
 * threshold invoice's end) to the step's time, priced as the renewal would bill it
 * (item_usage). When the sum reaches amount_gte, or an item's quantity its usage_gte, a
 * threshold invoice (billing_reason subscription_threshold) bills those metered lines: a draft
 * for an hour, then finalized and charged by the RETRY step, as a renewal's. The items' usage
 * then counts from the threshold invoice's end, so the renewal bills only the rest; with
 * reset_billing_cycle_anchor=true the period restarts there (its anchor, start and end), as
 * billing_cycle_anchor=now on an update restarts it: the licensed items' unused time of the
 * old period is credited (prorations on the threshold invoice) and their new period billed in
 * advance on it, beside the metered usage. Nothing is
 * done while the latest invoice still has a step of its own (a draft's hour, a retry): it goes
 * first, and the next report checks again. */

/* What the step evaluates: the subscription's amount_gte and reset (0/false: none). */
static void thresholds_of(const struct subscription *s, int64_t *ret_gte, bool *ret_reset)
{
	*ret_gte = 0;
	*ret_reset = false;
	if (!s->billing_thresholds)
		return;
	json_t *o = json_loads(s->billing_thresholds, 0, NULL);
	*ret_gte = json_integer_value(json_object_get(o, "amount_gte"));
	*ret_reset = json_is_true(json_object_get(o, "reset_billing_cycle_anchor"));
	json_decref(o);
}

static int64_t item_usage_gte(const struct sub_item *it)
{
	if (!it->thresholds)
		return 0;
	json_t *o = json_loads(it->thresholds, 0, NULL);
	int64_t v = json_integer_value(json_object_get(o, "usage_gte"));
	json_decref(o);
	return v;
}

/* s's metered items alone, with the usage window of a threshold invoice at t: the period's
 * start to t, that second included (the report that brought the step is stamped at t). */
static void threshold_window(const struct subscription *s, int64_t t, struct subscription *w)
{
	*w = *s;
	w->n_items = 0;
	for (int i = 0; i < s->n_items; i++)
		if (item_metered(&s->items[i]))
			w->items[w->n_items++] = s->items[i];
	w->partial = false;
	w->usage_through_end = false;
	w->usage_start = s->period_start;
	w->usage_end = t + 1;
}

/* Whether a threshold of s is reached at t (*ret). 0, or -1 with r->err. */
static int threshold_reached(struct req *r, struct db *db, const struct subscription *s, int64_t t,
			     bool *ret)
{
	*ret = false;
	int64_t gte;
	bool reset, any = false;
	thresholds_of(s, &gte, &reset);
	for (int i = 0; i < s->n_items; i++)
		any = any || (item_metered(&s->items[i]) && item_usage_gte(&s->items[i]) > 0);
	bool live = str_eq(s->status, "active") || str_eq(s->status, "past_due");
	if ((!gte && !any) || !live || (s->trial_end && s->trial_end > t) || t < s->period_start ||
	    t >= s->period_end)
		return 0;
	struct subscription *w = arena_alloc(&r->arena, sizeof(*w));
	if (!w)
		return req_fail(r, ERR_API, NULL, NULL);
	threshold_window(s, t, w);
	int64_t sum = 0;
	for (int i = 0; i < w->n_items; i++) {
		int64_t q, a;
		if (item_usage(r, db, w, &w->items[i], &q, &a) != 0)
			return -1;
		if (__builtin_add_overflow(sum, a, &sum))
			return req_fail(r, ERR_AMOUNT_TOO_LARGE, "items",
					"The usage of %s is too large to invoice.", s->id);
		int64_t ug = item_usage_gte(&w->items[i]);
		if (ug > 0 && q >= ug)
			*ret = true;
	}
	if (gte > 0 && sum >= gte)
		*ret = true;
	return 0;
}

static const char SQL_ITEM_USAGE_SINCE[] =
    "UPDATE subscription_items SET usage_start = $3 WHERE merchant_id = $1 AND id = $2";

/* The threshold invoice's write: the subscription as the read found it, its metered usage up
 * to x->t invoiced (a draft for an hour, or as pause_collection says), the items' usage counted
 * from then on, the period restarted when reset_billing_cycle_anchor asks. */

/* A paused collection's invoice in (not yet stored), made in its step's write and stored at
 * once as s->pause_behavior says: what it charges planned here, with its billing credits taken
 * off first as its finalization applies them (invoice_credits_apply at t). */
static int paused_store(struct req *r, struct db *db, const struct subscription *s,
			struct invoice *in, int64_t t)
{
	int64_t credited = 0, due;
	if ((s->pause_behavior && invoice_credits_apply(r, db, in, t, false, &credited) != 0) ||
	    invoice_planned_due(r, db, s->customer, s->currency, in->total - credited, &due) != 0)
		return -1;
	in->credits_planned = true;
	return invoice_store_paused(r, db, in, s->pause_behavior, due);
}
static int threshold_fn(struct db *db, void *p)
{
	struct step_ctx *x = p;
	struct req *r = x->r;
	struct subscription *s = arena_alloc(&r->arena, sizeof(*s));
	struct subscription *w = arena_alloc(&r->arena, sizeof(*w));
	if (!s || !w)
		return req_fail(r, ERR_API, NULL, NULL);
	if (sub_load(r, db, x->s.id, true, s) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (s->version != x->s.version)
		return req_fail(r, ERR_INVALID_STATE, NULL, "Subscription %s changed meanwhile.",
				s->id);
	int64_t t = x->t, gte;
	bool reset;
	thresholds_of(s, &gte, &reset);
	id_new_at(x->invoice_id, "in_", t);
	threshold_window(s, t, w);
	const char *prev =
	    arena_printf(&r->arena, "{\"latest_invoice\":%s", json_quote(r, s->latest_invoice));
	/* reset_billing_cycle_anchor: a new period from t, as an update's billing_cycle_anchor=now
	 * starts one (period_restart), its licensed items' unused time of the old period credited
	 * by the update's own prorations (proration_add; metered items have none) and their new
	 * period billed in advance on this invoice, beside the metered usage so far */
	struct change_ctx *cx = NULL;
	if (reset) {
		cx = arena_alloc(&r->arena, sizeof(*cx));
		if (!cx || !prev)
			return req_fail(r, ERR_API, NULL, NULL);
		memset(cx, 0, sizeof(*cx));
		cx->r = r;
		cx->old = cx->s = *s;
		cx->t = cx->pr_t = t;
		for (int i = 0; i < s->n_items; i++)
			if (proration_add(db, cx, &s->items[i], -1) != 0)
				return -1;
		prev = arena_printf(&r->arena, "%s,\"billing_cycle_anchor\":%lld", prev,
				    (long long)s->anchor);
		if (period_restart(s, t) != 0)
			return req_fail(r, ERR_API, NULL, NULL);
		/* the invoice: every item, the licensed ones for the new period, the metered
		 * ones for their usage window (threshold_window's) */
		w->n_items = s->n_items;
		for (int i = 0; i < s->n_items; i++)
			w->items[i] = s->items[i];
		w->anchor = s->anchor;
		w->period_index = s->period_index;
		w->period_start = s->period_start;
		w->period_end = s->period_end;
	}
	/* the credits, on this invoice (taxed at their item's rates, as an update's): stored
	 * first, as a change's are, so that its total takes them */
	for (int i = 0; cx && i < cx->n_pr; i++) {
		struct invoice_item ii = cx->pr[i];
		ii.invoice = x->invoice_id;
		if (invoice_item_insert(r, db, &ii) != 0 ||
		    (ii.subscription_item &&
		     tax_links_copy(r, db, ii.subscription_item, ii.id) != 0))
			return -1;
	}
	if (invoice_for_period(r, db, w, t, x->invoice_id, "subscription_threshold", 0,
			       cx ? cx->pr_sum : 0, &x->in) != 0)
		return -1;
	/* the usage invoiced now is not billed again: each metered item counts from here */
	for (int i = 0; i < s->n_items; i++) {
		struct sub_item *it = &s->items[i];
		if (!item_metered(it))
			continue;
		it->usage_since = t + 1;
		struct db_stmt *st = db_prepare(db, SQL_ITEM_USAGE_SINCE);
		if (!st)
			return req_fail(r, ERR_API, NULL, NULL);
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, it->id, -1);
		db_bind_int64(st, 3, it->usage_since);
		if (db_step_done(st) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	prev = prev ? arena_printf(&r->arena, "%s}", prev) : NULL;
	if (!prev)
		return req_fail(r, ERR_API, NULL, NULL);
	s->latest_invoice = x->invoice_id;
	bool draft = !s->pause_behavior;
	sub_schedule(s, draft ? t + INVOICE_DRAFT_WINDOW_S : 0);
	if (sub_save(r, db, s) != 0 ||
	    sub_emit(r, db, s, "customer.subscription.updated", prev) != 0)
		return -1;
	if (draft) {
		/* finalized and attempted an hour later by a RETRY step, as a renewal's */
		x->in.status = "draft";
		x->in.finalized_at = 0;
		x->in.number = NULL;
		x->in.next_payment_attempt = t + INVOICE_DRAFT_WINDOW_S;
		if (invoice_insert(r, db, &x->in) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		return invoice_emit(r, db, &x->in, "invoice.created");
	}
	return paused_store(r, db, s, &x->in, t);
}

#define THRESHOLDS_DUE_WHERE                                                                       \
	" AND status IN ('active', 'past_due')"                                                    \
	" AND (next_action_at IS NULL OR next_action_at > $3)"                                     \
	" AND (billing_thresholds IS NOT NULL OR EXISTS (SELECT 1 FROM subscription_items i"       \
	" WHERE i.merchant_id = subscriptions.merchant_id AND i.subscription = subscriptions.id"   \
	" AND i.billing_thresholds IS NOT NULL))"
static const char SQL_THRESHOLDS_DUE_CUSTOMER[] =
    "UPDATE subscriptions SET next_action_at = $3 WHERE merchant_id = $1"
    " AND customer = $2" THRESHOLDS_DUE_WHERE;
static const char SQL_THRESHOLDS_DUE_SUB[] =
    "UPDATE subscriptions SET next_action_at = $3 WHERE merchant_id = $1"
    " AND id = $2" THRESHOLDS_DUE_WHERE;

int subscription_thresholds_due(struct req *r, struct db *db, const char *customer,
				const char *subscription, int64_t t)
{
	struct db_stmt *st =
	    db_prepare(db, subscription ? SQL_THRESHOLDS_DUE_SUB : SQL_THRESHOLDS_DUE_CUSTOMER);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, subscription ? subscription : customer, -1);
	db_bind_int64(st, 3, t);
	return db_step_done(st) == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* ---- pending_invoice_item_interval ----
 * At next_pending_invoice_item_invoice the scheduler invoices the subscription's pending
 * invoice items (those naming it, not yet on an invoice), as if POST /v1/invoices were called
 * for it: billing_reason automatic_pending_invoice_item_invoice, the subscription's discounts
 * and default tax rates, a draft for an hour, then finalized and charged by the RETRY step as
 * its other invoices are. With none pending nothing is invoiced. Either way the next time is
 * one interval on (customer.subscription.updated shows the old one). Like a threshold, it
 * waits for the latest invoice's own step to be done. */
static int pending_interval_fn(struct db *db, void *p)
{
	struct step_ctx *x = p;
	struct req *r = x->r;
	struct subscription *s = arena_alloc(&r->arena, sizeof(*s));
	if (!s)
		return req_fail(r, ERR_API, NULL, NULL);
	if (sub_load(r, db, x->s.id, true, s) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (s->version != x->s.version)
		return req_fail(r, ERR_INVALID_STATE, NULL, "Subscription %s changed meanwhile.",
				s->id);
	int64_t t = x->t, was = s->next_pending_at;
	if (pending_interval_next(s, was, t, &s->next_pending_at) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	const char *prev;
	bool invoiced = x->pending.n > 0;
	if (invoiced) {
		id_new_at(x->invoice_id, "in_", t);
		prev = arena_printf(
		    &r->arena, "{\"latest_invoice\":%s,\"next_pending_invoice_item_invoice\":%lld}",
		    json_quote(r, s->latest_invoice), (long long)was);
		s->latest_invoice = x->invoice_id;
	} else {
		prev = arena_printf(&r->arena, "{\"next_pending_invoice_item_invoice\":%lld}",
				    (long long)was);
	}
	bool draft = !s->pause_behavior;
	sub_schedule(s, invoiced && draft ? t + INVOICE_DRAFT_WINDOW_S : 0);
	if (!prev || sub_save(r, db, s) != 0 ||
	    sub_emit(r, db, s, "customer.subscription.updated", prev) != 0)
		return r->err.set ? -1 : req_fail(r, ERR_API, NULL, NULL);
	if (!invoiced)
		return 0;
	/* the items read go on it, each as it was read (else the step is done again) */
	if (invoice_items_claim(r, db, &x->pending, x->invoice_id) != 0 ||
	    invoice_for_period(r, db, s, t, x->invoice_id, "automatic_pending_invoice_item_invoice",
			       -1, x->pending.sum, &x->in) != 0)
		return -1;
	if (draft) {
		x->in.status = "draft";
		x->in.finalized_at = 0;
		x->in.number = NULL;
		x->in.next_payment_attempt = t + INVOICE_DRAFT_WINDOW_S;
		if (invoice_insert(r, db, &x->in) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		return invoice_emit(r, db, &x->in, "invoice.created");
	}
	return paused_store(r, db, s, &x->in, t);
}

int subscription_step(struct app *app, const char *host, const char *merchant, const char *id,
		      int64_t t)
{
	struct req r;
	req_internal_init(&r, app, merchant, t, host);
	struct step_ctx *x = arena_alloc(&r.arena, sizeof(*x));
	int rc = -1;
	if (!x)
		goto out;
	memset(x, 0, sizeof(*x));
	x->r = &r;
	x->id = id;
	x->t = t;
	if (req_read(&r, step_read_fn, x) != 0)
		goto out;
	if (x->s.pending_expires_at && x->s.pending_expires_at <= t) {
		rc = req_write(&r, pending_expire_fn, x);
		if (rc == 0)
			rc = 1;
		goto out;
	}
	if (x->threshold || x->pending_due) {
		rc = req_write(&r, x->threshold ? threshold_fn : pending_interval_fn, x);
		if (rc == 0)
			rc = 1;
		goto out;
	}
	if (x->action == BILLING_NONE || x->due > t) {
		/* due at t by the row, not by the state (its invoice changed by itself: a draft
		 * finalized by hand, auto_advance turned off): the row is put right */
		int64_t at = x->action == BILLING_NONE ? 0 : x->due;
		if (x->s.pending_expires_at && (!at || x->s.pending_expires_at < at))
			at = x->s.pending_expires_at;
		/* pending items to invoice later (one due now waits for the latest invoice's step)
		 */
		int64_t pend = pending_interval_due(&x->s);
		if (pend > t && (!at || pend < at))
			at = pend;
		rc = 0;
		if (x->s.next_action_at && x->s.next_action_at <= t && at != x->s.next_action_at) {
			x->due = at;
			rc = req_write(&r, reschedule_fn, x);
			if (rc == 0)
				rc = 1;
		}
		goto out;
	}
	switch (x->action) {
	case BILLING_CANCEL:
		rc = period_end_final(&r, x);
		if (rc <= 0)
			break;
		rc = req_write(&r, step_end_fn, x);
		break;
	case BILLING_EXPIRE:
		rc = req_write(&r, step_end_fn, x);
		break;
	case BILLING_TRIAL_WILL_END:
	case BILLING_RESUME_COLLECTION:
	case BILLING_UPCOMING:
		rc = req_write(&r, step_notice_fn, x);
		break;
	case BILLING_RENEW:
	case BILLING_TRIAL_END:
	case BILLING_RETRY: {
		bool retry = x->action == BILLING_RETRY;
		/* a send_invoice subscription needs no payment method at its trial's end */
		if (x->action == BILLING_TRIAL_END && !x->pm && !x->s.sends &&
		    !billing_pm_types_cash_only(x->s.payment_method_types) &&
		    (str_eq(x->s.trial_missing_pm, "pause") ||
		     str_eq(x->s.trial_missing_pm, "cancel"))) {
			rc = req_write(&r, trial_end_missing_pm_fn, x);
			break;
		}
		/* computed with its discounts and the customer's balance by the read */
		int64_t due = retry ? 0 : x->amount_due;
		bool draft = retry && str_eq(x->in.status, "draft");
		if (!retry)
			id_new_at(x->invoice_id, "in_", t);
		/* a renewal's invoice is a draft for an hour (a paused collection's is made as
		 * pause_collection says, at once); its RETRY step finalizes and attempts it */
		x->draft = !retry && !x->s.pause_behavior;
		if (!retry) {
			rc = req_write(&r, uncharged_renew_fn, x);
			break;
		}
		if (draft && x->amount_due <= 0) {
			rc = req_write(&r, draft_uncharged_fn, x);
			break;
		}
		/* a send_invoice draft is finalized and waits for its customer; a
		 * charge_automatically one paid by bank transfer is finalized and paid from the
		 * customer's cash, or its intent waits for a transfer */
		if (draft && (invoice_sends(&x->in) ||
			      billing_pm_types_cash_only(x->in.payment_method_types))) {
			rc = req_write(&r, draft_send_fn, x);
			break;
		}
		if (x->pm) {
			if (x->new_intent)
				id_new_at(x->pi_id, "pi_", t);
			struct pi_invoice pv = {
			    .existing = x->new_intent ? NULL : x->in.payment_intent,
			    .amount = draft   ? x->amount_due
				      : retry ? x->in.amount_due - x->in.amount_paid
					      : due,
			    .currency = x->s.currency,
			    .description = "Subscription update",
			    .customer = x->s.customer,
			    .pm_id = x->pm,
			    .invoice = retry ? x->in.id : x->invoice_id,
			    .confirm = true,
			    .before = retry ? retry_before : renew_before,
			    .ctx = x,
			};
			pv.connect = sub_connect(&r, &x->s, pv.amount);
			str_copy(pv.id, sizeof(pv.id), x->pi_id);
			rc = payment_intents_invoice(&r, &pv);
			if (rc == 0)
				break;
			/* the store failed (overloaded, or a commit whose outcome is unknown):
			 * nothing is known of the card, so no failed attempt is recorded; the
			 * step is done again later */
			if (api_error_info(r.err.code)->status >= 500)
				break;
			/* nothing was recorded (the payment method is gone, …): the attempt
			 * is recorded as failed without a charge below */
			log_msg(LOG_INFO, "subscription %s: payment not attempted: %s", id,
				req_error_message(&r));
			r.err.set = false;
		}
		rc = req_write(&r, attempt_without_card_fn, x);
		break;
	}
	default:
		rc = 0;
		break;
	}
	if (rc == 0)
		rc = 1;
out:
	if (rc < 0)
		log_msg(LOG_WARN, "subscription %s of %s: step failed: %s", id, merchant,
			r.err.set ? req_error_message(&r) : "store error");
	if (rc < 0 && r.err.set && r.err.code == ERR_OVERLOADED)
		rc = SUBSCRIPTION_STEP_AGAIN;
	req_internal_release(&r);
	return rc;
}

/* ---- the scheduler job ---- */

static struct app *tick_app;
static char tick_host[300];

void subscriptions_scheduler_init(struct app *app, const char *host)
{
	tick_app = app;
	str_copy(tick_host, sizeof(tick_host), host);
}

/* one-off invoices (invoices.c, invoice_advance_step): an auto-advancing draft whose hour is
 * over, an open one whose next attempt is due */
#define INVOICE_DUE_WHERE                                                                          \
	" subscription IS NULL AND next_payment_attempt IS NOT NULL"                               \
	" AND next_payment_attempt <= $1"                                                          \
	" AND (status = 'open' OR (status = 'draft' AND auto_advance = 1))"
/* and a subscription's open send_invoice invoice whose due date passed: its overdue notice is
 * the same step's, whether or not it is its subscription's latest (each set has its partial
 * index: invoices_next_step, invoices_overdue_step) */
#define INVOICE_OVERDUE_WHERE                                                                      \
	" subscription IS NOT NULL AND collection_method = 'send_invoice' AND status = 'open'"     \
	" AND next_payment_attempt IS NOT NULL AND next_payment_attempt <= $1"
const char SUBSCRIPTIONS_DUE_SQL[] =
    "SELECT 1 FROM subscriptions WHERE next_action_at IS NOT NULL AND test_clock IS NULL"
    " AND next_action_at <= $1 UNION ALL SELECT 1 FROM test_clocks WHERE status = 'advancing'"
    " UNION ALL SELECT 1 FROM subscription_schedules WHERE next_action_at IS NOT NULL"
    " AND test_clock IS NULL AND next_action_at <= $1"
    " UNION ALL SELECT 1 FROM invoices WHERE test_clock IS NULL AND" INVOICE_DUE_WHERE
    " UNION ALL SELECT 1 FROM invoices WHERE test_clock IS NULL AND" INVOICE_OVERDUE_WHERE
    " LIMIT 1";
static const char SQL_DUE_INVOICES[] =
    "SELECT merchant_id, id FROM (SELECT merchant_id, id, next_payment_attempt AS at"
    " FROM invoices WHERE test_clock IS NULL AND" INVOICE_DUE_WHERE
    " UNION ALL SELECT merchant_id, id, next_payment_attempt AS at FROM invoices"
    " WHERE test_clock IS NULL AND" INVOICE_OVERDUE_WHERE ") AS due ORDER BY at LIMIT $2";
static const char SQL_DEFER_INVOICE[] =
    "UPDATE invoices SET next_payment_attempt = $3 WHERE merchant_id = $1 AND id = $2";
static const char SQL_DUE_REALTIME[] =
    "SELECT merchant_id, id FROM subscriptions WHERE next_action_at IS NOT NULL"
    " AND test_clock IS NULL AND next_action_at <= $1 ORDER BY next_action_at LIMIT $2";
static const char SQL_ADVANCING[] =
    "SELECT merchant_id, id, target_time FROM test_clocks WHERE status = 'advancing'"
    " ORDER BY id LIMIT $1";
/* the clock's subscriptions and invoices ($1: its target, as in INVOICE_DUE_WHERE) */
static const char SQL_DUE_ON_CLOCK[] =
    "SELECT id, at, kind FROM (SELECT id, next_action_at AS at, 0 AS kind FROM subscriptions"
    " WHERE merchant_id = $2 AND test_clock = $3 AND next_action_at IS NOT NULL"
    " AND next_action_at <= $1 UNION ALL SELECT id, next_payment_attempt AS at, 1 AS kind"
    " FROM invoices WHERE merchant_id = $2 AND test_clock = $3 AND" INVOICE_DUE_WHERE
    " UNION ALL SELECT id, next_payment_attempt AS at, 1 AS kind FROM invoices"
    " WHERE merchant_id = $2 AND test_clock = $3 AND" INVOICE_OVERDUE_WHERE
    ") AS due ORDER BY at, kind, id LIMIT 1";
static const char SQL_DEFER[] =
    "UPDATE subscriptions SET next_action_at = $3 WHERE merchant_id = $1 AND id = $2";
static const char SQL_CLOCK_FAILED[] =
    "UPDATE test_clocks SET status = 'internal_failure' WHERE merchant_id = $1 AND id = $2"
    " AND status = 'advancing'";

struct due_item {
	char merchant[ID_MAX], id[ID_MAX];
	int64_t at;
};

struct collect_ctx {
	int64_t now;
	struct scheduler_due subs[TICK_REALTIME_BATCH];
	int n_subs;
	struct due_item clocks[TICK_CLOCKS_MAX];
	int n_clocks;
	struct scheduler_due invs[TICK_REALTIME_BATCH];
	int n_invs;
};

static int collect_fn(struct db *db, void *p)
{
	struct collect_ctx *c = p;
	int rc = scheduler_due_read(db, SQL_DUE_REALTIME, c->now, c->subs, &c->n_subs,
				    TICK_REALTIME_BATCH);
	if (rc != DB_OK)
		return rc;
	struct db_stmt *st = db_prepare(db, SQL_ADVANCING);
	if (!st)
		return DB_ERR;
	db_bind_int64(st, 1, TICK_CLOCKS_MAX - c->n_clocks);
	while (c->n_clocks < TICK_CLOCKS_MAX && db_step(st) == DB_ROW) {
		struct due_item *d = &c->clocks[c->n_clocks++];
		str_copy(d->merchant, ID_MAX, db_col_text(st, 0, NULL));
		str_copy(d->id, ID_MAX, db_col_text(st, 1, NULL));
		d->at = db_col_int64(st, 2);
	}
	db_reset(st);
	return scheduler_due_read(db, SQL_DUE_INVOICES, c->now, c->invs, &c->n_invs,
				  TICK_REALTIME_BATCH);
}

struct clock_due_ctx {
	const struct due_item *clock;
	char sub[ID_MAX]; /* or a one-off invoice (invoice) */
	int64_t at;
	bool found, invoice;
	bool schedule; /* sub names a subscription schedule */
};

static int clock_due_fn(struct db *db, void *p)
{
	struct clock_due_ctx *c = p;
	c->found = false;
	struct db_stmt *st = db_prepare(db, SQL_DUE_ON_CLOCK);
	if (!st)
		return DB_ERR;
	db_bind_int64(st, 1, c->clock->at);
	db_bind_text(st, 2, c->clock->merchant, -1);
	db_bind_text(st, 3, c->clock->id, -1);
	if (db_step(st) == DB_ROW) {
		c->found = true;
		str_copy(c->sub, ID_MAX, db_col_text(st, 0, NULL));
		c->at = db_col_int64(st, 1);
		c->invoice = db_col_int64(st, 2) == 1;
	}
	db_reset(st);
	/* a schedule's phase change due at the same time goes first: the renewal then bills the
	 * new phase's items */
	char sched[ID_MAX];
	int64_t at;
	c->schedule = false;
	int rc = subscription_schedules_due_on_clock(db, c->clock->merchant, c->clock->id,
						     c->clock->at, sched, &at);
	if (rc < 0)
		return rc;
	if (rc == 1 && (!c->found || at <= c->at)) {
		c->found = c->schedule = true;
		c->invoice = false;
		str_copy(c->sub, ID_MAX, sched);
		c->at = at;
	}
	return 0;
}

struct mark_ctx {
	const char *merchant, *id;
	int64_t until;
	bool clock;
	bool invoice; /* a one-off invoice's step deferred */
};

static int mark_fn(struct db *db, void *p)
{
	struct mark_ctx *m = p;
	struct db_stmt *st = db_prepare(db, m->clock	 ? SQL_CLOCK_FAILED
					    : m->invoice ? SQL_DEFER_INVOICE
							 : SQL_DEFER);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, m->merchant, -1);
	db_bind_text(st, 2, m->id, -1);
	if (!m->clock)
		db_bind_int64(st, 3, m->until);
	return db_step_done(st);
}

int subscriptions_tick(struct store *s, int64_t now)
{
	if (!tick_app)
		return 0;
	struct collect_ctx *c = calloc(1, sizeof(*c));
	if (!c)
		return -1;
	c->now = now;
	int rc = store_each_shard_read(s, collect_fn, c);
	int done = 0;
	/* schedules first: a phase that ends now changes the items its renewal bills */
	int ks = subscription_schedules_tick(tick_app, tick_host, s, now);
	if (ks > 0)
		done += ks;
	for (int i = 0; rc == 0 && i < c->n_subs; i++) {
		int k =
		    subscription_step(tick_app, tick_host, c->subs[i].merchant, c->subs[i].id, now);
		if (k > 0)
			done++;
		if (k < 0) {
			/* a step that cannot be done is tried again later, not every tick */
			struct mark_ctx m = {c->subs[i].merchant, c->subs[i].id,
					     now + DEFER_AFTER_FAILURE_S, false, false};
			store_write(s, m.merchant, mark_fn, &m);
		}
	}
	for (int i = 0; rc == 0 && i < c->n_invs; i++) {
		int k = invoice_advance_step(tick_app, tick_host, c->invs[i].merchant,
					     c->invs[i].id, now);
		if (k > 0)
			done++;
		if (k < 0) {
			struct mark_ctx m = {c->invs[i].merchant, c->invs[i].id,
					     now + DEFER_AFTER_FAILURE_S, false, true};
			store_write(s, m.merchant, mark_fn, &m);
		}
	}
	/* each advancing clock: its subscriptions' due steps in time order, a bounded number per
	 * tick; none left: the clock is ready */
	for (int i = 0; rc == 0 && i < c->n_clocks; i++) {
		const struct due_item *clk = &c->clocks[i];
		bool finished = false;
		for (int step = 0; step < TICK_CLOCK_STEPS; step++) {
			struct clock_due_ctx d = {.clock = clk};
			if (store_read(s, clk->merchant, clock_due_fn, &d) != 0)
				break;
			if (!d.found) {
				finished = true;
				break;
			}
			int k = d.schedule  ? subscription_schedule_step(tick_app, tick_host,
									 clk->merchant, d.sub, d.at)
				: d.invoice ? invoice_advance_step(tick_app, tick_host,
								   clk->merchant, d.sub, d.at)
					    : subscription_step(tick_app, tick_host, clk->merchant,
								d.sub, d.at);
			if (k > 0)
				done++;
			if (k == SUBSCRIPTION_STEP_AGAIN)
				break; /* the store is overloaded: the next tick goes on */
			if (k <= 0) {
				/* due but not done: the clock cannot reach its time (Stripe's
				 * internal_failure) rather than spin */
				struct mark_ctx m = {clk->merchant, clk->id, 0, true, false};
				store_write(s, m.merchant, mark_fn, &m);
				log_msg(LOG_ERROR,
					"test clock %s: subscription %s could not advance", clk->id,
					d.sub);
				break;
			}
		}
		if (finished && test_clock_ready(tick_app, s, clk->merchant, clk->id, clk->at) == 0)
			done++;
	}
	free(c);
	return rc == 0 ? done : rc;
}

static const struct param_spec price_data_recurring[] = {
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
    {"recurring", PT_OBJECT, PF_REQUIRED, 0, NULL, price_data_recurring},
    {"tax_behavior", PT_ENUM, 0, 0,
     (const char *const[]){"exclusive", "inclusive", "unspecified", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec item_thresholds_children[] = {
    {"usage_gte", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec item_children[] = {
    {"billing_thresholds", PT_OBJECT, PF_EMPTYABLE, 0, NULL, item_thresholds_children},
    {"price", PT_STRING, 0, 255, NULL, NULL},
    {"plan", PT_STRING, 0, 255, NULL, NULL}, /* the legacy name of a recurring price */
    {"price_data", PT_OBJECT, 0, 0, NULL, price_data_children},
    {"quantity", PT_INT, 0, 0, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"tax_rates", PT_STRING_ARRAY, PF_EMPTYABLE, 0, NULL, NULL},
    {"discounts", PT_OBJECT_ARRAY, PF_EMPTYABLE, DISCOUNTS_MAX, NULL, subscription_discount_params},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec anchor_config_children[] = {
    {"day_of_month", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {"month", PT_INT, 0, 0, NULL, NULL},
    {"hour", PT_INT, 0, 0, NULL, NULL},
    {"minute", PT_INT, 0, 0, NULL, NULL},
    {"second", PT_INT, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec add_period_start_children[] = {
    {"type", PT_ENUM, PF_REQUIRED, 0,
     (const char *const[]){"max_item_period_start", "now", "timestamp", NULL}, NULL},
    {"timestamp", PT_INT, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec add_period_end_children[] = {
    {"type", PT_ENUM, PF_REQUIRED, 0,
     (const char *const[]){"min_item_period_end", "timestamp", NULL}, NULL},
    {"timestamp", PT_INT, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec add_period_children[] = {
    {"start", PT_OBJECT, PF_REQUIRED, 0, NULL, add_period_start_children},
    {"end", PT_OBJECT, PF_REQUIRED, 0, NULL, add_period_end_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec add_item_children[] = {
    {"price", PT_STRING, 0, 255, NULL, NULL},
    /* a one-time price, as an invoice item's price_data */
    {"price_data", PT_OBJECT, 0, 0, NULL, invoice_item_price_data_params},
    {"quantity", PT_INT, 0, 0, NULL, NULL},
    /* as an invoice item's (POST /v1/invoiceitems) */
    {"discounts", PT_OBJECT_ARRAY, PF_EMPTYABLE, DISCOUNTS_MAX, NULL, subscription_discount_params},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"period", PT_OBJECT, 0, 0, NULL, add_period_children},
    {"tax_rates", PT_STRING_ARRAY, PF_EMPTYABLE, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec cancellation_children[] = {
    {"comment", PT_STRING, PF_EMPTYABLE, 500, NULL, NULL},
    {"feedback", PT_ENUM, PF_EMPTYABLE, 0,
     (const char *const[]){"customer_service", "low_quality", "missing_features", "other",
			   "switched_service", "too_complex", "too_expensive", "unused", NULL},
     NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const char *const missing_pm_behaviors[] = {"cancel", "create_invoice", "pause", NULL};
static const struct param_spec end_behavior_children[] = {
    {"missing_payment_method", PT_ENUM, PF_REQUIRED, 0, missing_pm_behaviors, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec trial_settings_children[] = {
    {"end_behavior", PT_OBJECT, PF_REQUIRED, 0, NULL, end_behavior_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec pause_collection_children[] = {
    {"behavior", PT_ENUM, PF_REQUIRED, 0,
     (const char *const[]){"keep_as_draft", "mark_uncollectible", "void", NULL}, NULL},
    {"resumes_at", PT_INT, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
const struct param_spec subscription_discount_params[] = {
    {"coupon", PT_STRING, 0, COUPON_ID_MAX, NULL, NULL},
    {"promotion_code", PT_STRING, 0, 255, NULL, NULL},
    {"discount", PT_STRING, 0, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec sub_payment_method_options_children[] = {
    {"customer_balance", PT_OBJECT, PF_EMPTYABLE, 0, NULL, cash_invoice_pmo_params},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec sub_payment_settings_children[] = {
    {"payment_method_options", PT_OBJECT, 0, 0, NULL, sub_payment_method_options_children},
    {"payment_method_types", PT_STRING_ARRAY, PF_EMPTYABLE, 0, NULL, NULL},
    {"save_default_payment_method", PT_ENUM, 0, 0,
     (const char *const[]){"off", "on_subscription", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec automatic_tax_children[] = {
    {"enabled", PT_BOOL, PF_REQUIRED, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec thresholds_children[] = {
    {"amount_gte", PT_INT, 0, 0, NULL, NULL},
    {"reset_billing_cycle_anchor", PT_BOOL, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec pending_interval_children[] = {
    {"interval", PT_ENUM, PF_REQUIRED, 0,
     (const char *const[]){"day", "week", "month", "year", NULL}, NULL},
    {"interval_count", PT_INT, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
/* invoice_settings: what its invoices carry (issuer: not taken, every invoice is the
 * merchant's own) */
static const struct param_spec sub_invoice_settings_children[] = {
    {"account_tax_ids", PT_STRING_ARRAY, PF_EMPTYABLE, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec transfer_data_children[] = {
    {"destination", PT_STRING, PF_REQUIRED, 255, NULL, NULL},
    {"amount_percent", PT_STRING, 0, 16, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
/* the settings of create and update (settings_params) */
#define SUB_SETTINGS_PARAMS(flags)                                                                 \
	{"billing_thresholds", PT_OBJECT, PF_EMPTYABLE, 0, NULL, thresholds_children},             \
	    {"pending_invoice_item_interval", PT_OBJECT, PF_EMPTYABLE, 0, NULL,                    \
	     pending_interval_children},                                                           \
	    {"application_fee_percent", PT_STRING, (flags), 16, NULL, NULL},                       \
	    {"transfer_data", PT_OBJECT, (flags), 0, NULL, transfer_data_children},                \
	    {"on_behalf_of", PT_STRING, PF_EMPTYABLE, 255, NULL, NULL},                            \
	{                                                                                          \
		"default_source", PT_STRING, (flags), 255, NULL, NULL                              \
	}
static const struct param_spec billing_mode_flexible_children[] = {
    {"proration_discounts", PT_ENUM, 0, 0, (const char *const[]){"included", "itemized", NULL},
     NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
const struct param_spec subscription_billing_mode_params[] = {
    {"type", PT_ENUM, PF_REQUIRED, 0, (const char *const[]){"classic", "flexible", NULL}, NULL},
    {"flexible", PT_OBJECT, 0, 0, NULL, billing_mode_flexible_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
/* a migration goes one way only: classic to flexible */
const struct param_spec subscription_migrate_mode_params[] = {
    {"type", PT_ENUM, PF_REQUIRED, 0, (const char *const[]){"flexible", NULL}, NULL},
    {"flexible", PT_OBJECT, 0, 0, NULL, billing_mode_flexible_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
/* customer first: POST /v1/customers/{customer}/subscriptions takes the rest (create_params +
 * 1), its customer being the path's */
static const struct param_spec create_params[] = {
    {"customer", PT_STRING, PF_REQUIRED, 255, NULL, NULL},
    {"billing_mode", PT_OBJECT, 0, 0, NULL, subscription_billing_mode_params},
    {"automatic_tax", PT_OBJECT, 0, 0, NULL, automatic_tax_children},
    {"payment_settings", PT_OBJECT, 0, 0, NULL, sub_payment_settings_children},
    {"trial_settings", PT_OBJECT, 0, 0, NULL, trial_settings_children},
    {"invoice_settings", PT_OBJECT, 0, 0, NULL, sub_invoice_settings_children},
    {"discounts", PT_OBJECT_ARRAY, PF_EMPTYABLE, DISCOUNTS_MAX, NULL, subscription_discount_params},
    {"coupon", PT_STRING, PF_EMPTYABLE, COUPON_ID_MAX, NULL, NULL},
    {"promotion_code", PT_STRING, PF_EMPTYABLE, 255, NULL, NULL},
    {"items", PT_OBJECT_ARRAY, PF_REQUIRED, SUB_ITEMS_MAX, NULL, item_children},
    {"currency", PT_CURRENCY, 0, 0, NULL, NULL},
    {"default_payment_method", PT_STRING, PF_EMPTYABLE, 255, NULL, NULL},
    {"collection_method", PT_ENUM, 0, 0,
     (const char *const[]){"charge_automatically", "send_invoice", NULL}, NULL},
    {"days_until_due", PT_INT, 0, 0, NULL, NULL},
    {"trial_period_days", PT_INT, 0, 0, NULL, NULL},
    {"trial_end", PT_STRING, 0, 20, NULL, NULL},
    {"trial_from_plan", PT_BOOL, 0, 0, NULL, NULL},
    {"cancel_at_period_end", PT_BOOL, 0, 0, NULL, NULL},
    {"cancel_at", PT_STRING, 0, 20, NULL, NULL},
    {"backdate_start_date", PT_INT, 0, 0, NULL, NULL},
    SUB_SETTINGS_PARAMS(0),
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"description", PT_STRING, PF_EMPTYABLE, 500, NULL, NULL},
    {"payment_behavior", PT_ENUM, 0, 0, behaviors, NULL},
    {"off_session", PT_BOOL, 0, 0, NULL, NULL},
    {"default_tax_rates", PT_STRING_ARRAY, PF_EMPTYABLE, 0, NULL, NULL},
    {"add_invoice_items", PT_OBJECT_ARRAY, 0, SUB_ADD_ITEMS_MAX, NULL, add_item_children},
    {"billing_cycle_anchor", PT_INT, 0, 0, NULL, NULL},
    {"billing_cycle_anchor_config", PT_OBJECT, 0, 0, NULL, anchor_config_children},
    {"proration_behavior", PT_ENUM, 0, 0,
     (const char *const[]){"always_invoice", "create_prorations", "none", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
const struct param_spec subscription_change_item_params[] = {
    {"id", PT_STRING, 0, 255, NULL, NULL},
    {"price", PT_STRING, 0, 255, NULL, NULL},
    {"plan", PT_STRING, 0, 255, NULL, NULL},
    {"quantity", PT_INT, 0, 0, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"deleted", PT_BOOL, 0, 0, NULL, NULL},
    {"clear_usage", PT_BOOL, 0, 0, NULL, NULL},
    {"tax_rates", PT_STRING_ARRAY, PF_EMPTYABLE, 0, NULL, NULL},
    {"discounts", PT_OBJECT_ARRAY, PF_EMPTYABLE, DISCOUNTS_MAX, NULL, subscription_discount_params},
    {NULL, 0, 0, 0, NULL, NULL},
};
const struct param_spec subscription_item_price_data_params[] = {
    {"currency", PT_CURRENCY, PF_REQUIRED, 0, NULL, NULL},
    {"product", PT_STRING, PF_REQUIRED, 255, NULL, NULL},
    {"unit_amount", PT_INT, 0, 0, NULL, NULL},
    {"unit_amount_decimal", PT_STRING, 0, 40, NULL, NULL},
    {"recurring", PT_OBJECT, PF_REQUIRED, 0, NULL, price_data_recurring},
    {"tax_behavior", PT_ENUM, 0, 0,
     (const char *const[]){"exclusive", "inclusive", "unspecified", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
/* POST /v1/subscriptions/{id}'s items[n]: a change's, and price_data */
static const struct param_spec update_item_params[] = {
    {"billing_thresholds", PT_OBJECT, PF_EMPTYABLE, 0, NULL, item_thresholds_children},
    {"id", PT_STRING, 0, 255, NULL, NULL},
    {"price", PT_STRING, 0, 255, NULL, NULL},
    {"plan", PT_STRING, 0, 255, NULL, NULL},
    {"price_data", PT_OBJECT, 0, 0, NULL, subscription_item_price_data_params},
    {"quantity", PT_INT, 0, 0, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"deleted", PT_BOOL, 0, 0, NULL, NULL},
    {"clear_usage", PT_BOOL, 0, 0, NULL, NULL},
    {"tax_rates", PT_STRING_ARRAY, PF_EMPTYABLE, 0, NULL, NULL},
    {"discounts", PT_OBJECT_ARRAY, PF_EMPTYABLE, DISCOUNTS_MAX, NULL, subscription_discount_params},
    {NULL, 0, 0, 0, NULL, NULL},
};
const char *const subscription_proration_behaviors[] = {"always_invoice", "create_prorations",
							"none", NULL};
static const struct param_spec update_params[] = {
    {"automatic_tax", PT_OBJECT, 0, 0, NULL, automatic_tax_children},
    {"payment_settings", PT_OBJECT, 0, 0, NULL, sub_payment_settings_children},
    {"items", PT_OBJECT_ARRAY, 0, SUB_ITEMS_MAX, NULL, update_item_params},
    {"trial_end", PT_STRING, 0, 20, NULL, NULL},
    {"trial_from_plan", PT_BOOL, 0, 0, NULL, NULL},
    {"billing_cycle_anchor", PT_ENUM, 0, 0, (const char *const[]){"now", "unchanged", NULL}, NULL},
    {"proration_behavior", PT_ENUM, 0, 0, subscription_proration_behaviors, NULL},
    {"proration_date", PT_INT, 0, 0, NULL, NULL},
    {"payment_behavior", PT_ENUM, 0, 0, behaviors, NULL},
    {"off_session", PT_BOOL, 0, 0, NULL, NULL},
    {"cancel_at_period_end", PT_BOOL, 0, 0, NULL, NULL},
    {"cancel_at", PT_STRING, PF_EMPTYABLE, 20, NULL, NULL},
    SUB_SETTINGS_PARAMS(PF_EMPTYABLE),
    {"default_payment_method", PT_STRING, PF_EMPTYABLE, 255, NULL, NULL},
    {"collection_method", PT_ENUM, 0, 0,
     (const char *const[]){"charge_automatically", "send_invoice", NULL}, NULL},
    {"days_until_due", PT_INT, 0, 0, NULL, NULL},
    {"description", PT_STRING, PF_EMPTYABLE, 500, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"cancellation_details", PT_OBJECT, 0, 0, NULL, cancellation_children},
    {"pause_collection", PT_OBJECT, PF_EMPTYABLE, 0, NULL, pause_collection_children},
    {"trial_settings", PT_OBJECT, 0, 0, NULL, trial_settings_children},
    {"invoice_settings", PT_OBJECT, 0, 0, NULL, sub_invoice_settings_children},
    {"discounts", PT_OBJECT_ARRAY, PF_EMPTYABLE, DISCOUNTS_MAX, NULL, subscription_discount_params},
    {"coupon", PT_STRING, PF_EMPTYABLE, COUPON_ID_MAX, NULL, NULL},
    {"promotion_code", PT_STRING, PF_EMPTYABLE, 255, NULL, NULL},
    {"default_tax_rates", PT_STRING_ARRAY, PF_EMPTYABLE, 0, NULL, NULL},
    {"add_invoice_items", PT_OBJECT_ARRAY, 0, SUB_ADD_ITEMS_MAX, NULL, add_item_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec resume_anchor_children[] = {
    {"type", PT_ENUM, PF_REQUIRED, 0, (const char *const[]){"now", "unchanged", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec resume_params[] = {
    {"billing_cycle_anchor", PT_OBJECT, PF_SCALAR_OK, 9, NULL, resume_anchor_children},
    {"proration_behavior", PT_ENUM, 0, 0, subscription_proration_behaviors, NULL},
    {"proration_date", PT_INT, 0, 0, NULL, NULL},
    {"payment_behavior", PT_ENUM, 0, 0,
     (const char *const[]){"resume_on_payment_attempt", "resume_on_payment_success", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec migrate_params[] = {
    {"billing_mode", PT_OBJECT, PF_REQUIRED, 0, NULL, subscription_migrate_mode_params},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec cancel_params[] = {
    {"cancellation_details", PT_OBJECT, 0, 0, NULL, cancellation_children},
    {"invoice_now", PT_BOOL, 0, 0, NULL, NULL},
    {"prorate", PT_BOOL, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec list_params[] = {
    {"customer", PT_STRING, 0, 255, NULL, NULL},
    {"price", PT_STRING, 0, 255, NULL, NULL},
    {"status", PT_ENUM, 0, 0,
     (const char *const[]){"active", "all", "canceled", "ended", "incomplete", "incomplete_expired",
			   "past_due", "paused", "trialing", "unpaid", NULL},
     NULL},
    {"test_clock", PT_STRING, 0, 255, NULL, NULL},
    {"collection_method", PT_ENUM, 0, 0,
     (const char *const[]){"charge_automatically", "send_invoice", NULL}, NULL},
    {"current_period_end", PT_RANGE, 0, 0, NULL, NULL},
    {"current_period_start", PT_RANGE, 0, 0, NULL, NULL},
    {"automatic_tax", PT_OBJECT, 0, 0, NULL, automatic_tax_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

/* ---- /v1/customers/{customer}/subscriptions (the older SDKs' nested form): the handlers above
 * with the customer fixed by the path ---- */

/* The customer exists and subscription x->id is one of its (a subscription never changes
 * customer, so the handler's own write may act on it after this read), else Stripe's 404. */
static int cust_own_fn(struct db *db, void *p)
{
	struct one_ctx *x = p;
	struct req *r = x->r;
	if (customer_check(r, db, r->args[0]) != 0)
		return -1;
	if (one_load(db, x, false) != 0)
		return -1;
	if (!str_eq(x->s.customer, r->args[0]))
		return req_fail_missing(r, "subscription", x->id, "id");
	return 0;
}

/* Checks the path, then puts the subscription first in r->args, where its handler reads it. */
static int cust_sub_args(struct req *r)
{
	struct one_ctx x = {.r = r, .id = r->args[1]};
	if (req_read(r, cust_own_fn, &x) != 0)
		return -1;
	r->args[0] = r->args[1];
	r->args[1] = NULL;
	return 0;
}

static int cust_exists_fn(struct db *db, void *p)
{
	struct req *r = p;
	return customer_check(r, db, r->args[0]);
}

static int h_cust_list(struct req *r)
{
	if (req_read(r, cust_exists_fn, r) != 0 || req_param_set(r, "customer", r->args[0]) != 0)
		return -1;
	const char *url = arena_printf(&r->arena, "/v1/customers/%s/subscriptions", r->args[0]);
	return url ? subs_list(r, url) : req_fail(r, ERR_API, NULL, NULL);
}

static int h_cust_create(struct req *r)
{
	if (req_param_set(r, "customer", r->args[0]) != 0)
		return -1;
	return h_create(r);
}

static int h_cust_retrieve(struct req *r)
{
	return cust_sub_args(r) != 0 ? -1 : h_retrieve(r);
}

static int h_cust_update(struct req *r)
{
	return cust_sub_args(r) != 0 ? -1 : h_update(r);
}

static int h_cust_cancel(struct req *r)
{
	return cust_sub_args(r) != 0 ? -1 : h_cancel(r);
}

static int h_cust_delete_discount(struct req *r)
{
	return cust_sub_args(r) != 0 ? -1 : h_delete_discount(r);
}

/* GET …/subscriptions/{id}/discount: the subscription's own live discount (Stripe's legacy
 * `discount`), 404 when it has none. */
static int cust_discount_fn(struct db *db, void *p)
{
	struct one_ctx *x = p;
	struct req *r = x->r;
	if (cust_own_fn(db, x) != 0)
		return -1;
	int64_t t;
	if (billing_now(r, db, x->s.test_clock, &t) != 0)
		return -1;
	struct discount *ds = arena_alloc(&r->arena, DISCOUNTS_MAX * sizeof(*ds));
	int n = 0;
	if (!ds || subscription_discounts(r, db, x->s.id, t, ds, &n) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	for (int i = 0; i < n; i++)
		if (ds[i].subscription && str_eq(ds[i].subscription, x->s.id)) {
			discount_render(r, &ds[i], false, req_json(r));
			return 0;
		}
	return req_fail(r, ERR_RESOURCE_MISSING, NULL, "Subscription %s has no discount.", x->s.id);
}

static int h_cust_discount(struct req *r)
{
	struct one_ctx x = {.r = r, .id = r->args[1]};
	return req_read(r, cust_discount_fn, &x);
}

const struct route subscriptions_routes[] = {
    {"POST", "/v1/subscriptions", h_create, create_params, ROUTE_STRIPE_VERSION},
    {"GET", "/v1/subscriptions", h_list, list_params, ROUTE_LIST},
    {"GET", "/v1/subscriptions/{id}", h_retrieve, no_params, 0},
    {"POST", "/v1/subscriptions/{id}", h_update, update_params, 0},
    {"DELETE", "/v1/subscriptions/{id}", h_cancel, cancel_params, 0},
    {"POST", "/v1/subscriptions/{id}/resume", h_resume, resume_params, 0},
    {"POST", "/v1/subscriptions/{id}/migrate", h_migrate, migrate_params, 0},
    {"DELETE", "/v1/subscriptions/{id}/discount", h_delete_discount, no_params, 0},
    {"GET", "/v1/customers/{customer}/subscriptions", h_cust_list, no_params, ROUTE_LIST},
    {"POST", "/v1/customers/{customer}/subscriptions", h_cust_create, create_params + 1,
     ROUTE_STRIPE_VERSION},
    {"GET", "/v1/customers/{customer}/subscriptions/{id}", h_cust_retrieve, no_params, 0},
    {"POST", "/v1/customers/{customer}/subscriptions/{id}", h_cust_update, update_params, 0},
    {"DELETE", "/v1/customers/{customer}/subscriptions/{id}", h_cust_cancel, cancel_params, 0},
    {"GET", "/v1/customers/{customer}/subscriptions/{id}/discount", h_cust_discount, no_params, 0},
    {"DELETE", "/v1/customers/{customer}/subscriptions/{id}/discount", h_cust_delete_discount,
     no_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};

/* The customer portal's cancel (billing_portal.c), through the same steps as the API's: at the
 * period's end as POST /v1/subscriptions/{id} cancel_at_period_end=true does, or now as DELETE
 * does; feedback (or NULL) is cancellation_details.feedback. */
int subscription_portal_cancel(struct req *r, struct db *db, const char *id, bool at_period_end,
			       const char *feedback)
{
	struct one_ctx *x = arena_alloc(&r->arena, sizeof(*x));
	if (!x)
		return req_fail(r, ERR_API, NULL, NULL);
	memset(x, 0, sizeof(*x));
	x->r = r;
	x->id = id;
	if (one_load(db, x, true) != 0 || clock_guard(r, db, &x->s) != 0)
		return -1;
	struct subscription *s = &x->s;
	if (str_eq(s->status, "canceled") || str_eq(s->status, "incomplete_expired"))
		return req_fail(r, ERR_INVALID_STATE, NULL, "The subscription is %s already.",
				s->status);
	int64_t now;
	if (billing_now(r, db, s->test_clock, &now) != 0)
		return -1;
	if (feedback)
		s->cancellation_feedback = feedback;
	if (!at_period_end) {
		s->cancel_at_period_end = false;
		return cancel_now(r, db, s, now, "cancellation_requested");
	}
	if (s->cancel_at_period_end)
		return 0;
	const char *prev = "{\"cancel_at_period_end\":false,\"canceled_at\":null}";
	s->cancel_at_period_end = true;
	s->canceled_at = now; /* Stripe: when the cancellation was asked for */
	s->cancellation_reason = "cancellation_requested";
	sub_schedule(s, latest_next_attempt(r, db, s));
	if (sub_save(r, db, s) != 0)
		return -1;
	return sub_emit(r, db, s, "customer.subscription.updated", prev);
}

int subscription_portal_coupon(struct req *r, struct db *db, const char *id, const char *coupon,
			       const char *shown)
{
	struct one_ctx *x = arena_alloc(&r->arena, sizeof(*x));
	struct discount *ds = arena_alloc(&r->arena, DISCOUNTS_MAX * sizeof(*ds));
	if (!x || !ds)
		return req_fail(r, ERR_API, NULL, NULL);
	memset(x, 0, sizeof(*x));
	x->r = r;
	x->id = id;
	if (one_load(db, x, true) != 0 || clock_guard(r, db, &x->s) != 0)
		return -1;
	struct subscription *s = &x->s;
	if (str_eq(s->status, "canceled") || str_eq(s->status, "incomplete_expired"))
		return req_fail(r, ERR_INVALID_STATE, NULL, "The subscription is %s already.",
				s->status);
	int64_t now, per = 0;
	const char *old;
	if (billing_now(r, db, s->test_clock, &now) != 0)
		return -1;
	if (sub_live_discount_ids(r, db, s->id, &old) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	/* the discounts it has are kept (as discounts[n][discount] on an update), the coupon added
	 */
	struct discount_spec spec = {.present = true};
	json_error_t e;
	json_t *ids = json_loads(old, 0, &e);
	size_t k;
	json_t *v;
	json_array_foreach(ids, k, v)
	{
		const char *d = json_string_value(v);
		if (d && spec.n < DISCOUNTS_MAX - 1) {
			spec.e[spec.n].discount = arena_strdup(&r->arena, d);
			spec.e[spec.n++].shown = shown;
		}
	}
	json_decref(ids);
	spec.e[spec.n].coupon = coupon;
	spec.e[spec.n++].shown = shown;
	if (next_total(s, &per) != 0)
		per = BILLING_AMOUNT_MAX;
	int n = 0;
	if (discounts_resolve(r, db, &spec, s->customer, s->currency, per, s->id, now, ds, &n) !=
		0 ||
	    discounts_attach(r, db, DISCOUNT_SUBSCRIPTION, s->id, s->customer, now, ds, n, NULL) !=
		0)
		return -1;
	const char *prev = arena_printf(&r->arena, "{\"discounts\":%s}", old);
	if (!prev)
		return req_fail(r, ERR_API, NULL, NULL);
	return sub_emit(r, db, s, "customer.subscription.updated", prev);
}

/* Subscription schedules (subscription_schedules.c) and what subscriptions.c does for them. */
#ifndef TENDER_API_SUBSCRIPTION_SCHEDULES_H
#define TENDER_API_SUBSCRIPTION_SCHEDULES_H

#include <stdbool.h>
#include <stdint.h>

#include "api/billing_internal.h"

/* Stripe's bounds on a schedule: its phases, and a phase's items. */
#define SCHEDULE_PHASES_MAX 10
#define SCHEDULE_ITEMS_MAX SUB_ITEMS_MAX
/* a phase's add_invoice_items, as Stripe bounds them (and a create's) */
#define SUB_FOR_SCHEDULE_ADD_MAX 20

/* A subscription made by a schedule (its first phase), through the same create as
 * POST /v1/subscriptions (subscriptions.c). before() runs inside the write that makes it, before
 * the subscription's rows (x->id is then set): the schedule's row goes there, so the
 * subscription's own events already name it. answer() renders the request's answer inside that
 * write. scheduled: made by the scheduler at the schedule's start (r->now is the step's time,
 * the test clock may be advancing, and a customer without a payment method gets an invoice to
 * pay later instead of a refusal). */
struct sub_for_schedule {
	const char *customer, *pm, *metadata;
	const char *description; /* NULL: none (a quote's subscription_data[description]) */
	int n_items;
	struct {
		const char *price;
		int64_t quantity;
		/* its tax_rates[] (ids of the merchant's rates; n_tax_rates 0: none) */
		const char *const *tax_rates;
		int n_tax_rates;
		/* its own discounts (a schedule phase's items[n][discounts]; NULL: none) */
		const struct discount_spec *discounts;
	} items[SUB_ITEMS_MAX];
	/* its default_tax_rates[] (a quote's; n_default_tax_rates 0: none) */
	const char *const *default_tax_rates;
	int n_default_tax_rates;
	/* add_invoice_items (a schedule's first phase's): one-time prices × quantities with their
	 * own discounts (NULL: none), on the first invoice as a create's add_invoice_items */
	int n_add;
	struct {
		const char *price;
		int64_t quantity;
		const struct discount_spec *discounts;
	} add[SUB_FOR_SCHEDULE_ADD_MAX];
	int64_t trial_end;		/* 0: none */
	struct discount_spec discounts; /* the first phase's (n 0: none) */
	/* collection_method send_invoice (else charge_automatically), its days_until_due */
	bool sends;
	int64_t days_until_due;
	/* automatic_tax[enabled] (a quote's): its invoices are taxed by Stripe Tax */
	bool automatic_tax;
	/* invoice_settings[account_tax_ids] (a schedule phase's): the merchant's own tax ids its
	 * invoices carry, a JSON array (NULL: none) */
	const char *account_tax_ids;
	/* the currency its items bill in (their own or a currency_options entry); NULL: theirs */
	const char *currency;
	/* billing_mode flexible (else classic): the schedule's, or the quote's; flexible's
	 * proration_discounts ("itemized"; NULL or "included": included) */
	bool flexible;
	const char *proration_discounts;
	/* Connect terms (a quote's): application_fee_percent (when fee_set, percent_e4),
	 * transfer_data[destination (NULL: none), amount_percent (when transfer_percent_set)],
	 * on_behalf_of (NULL: none) */
	bool fee_set, transfer_percent_set;
	int64_t fee_e4, transfer_percent_e4;
	const char *transfer_destination, *on_behalf_of;
	bool scheduled;
	int (*before)(struct req *r, struct db *db, void *ctx);
	int (*answer)(struct req *r, struct db *db, void *ctx);
	void *ctx;
	char id[ID_MAX];
};
/* 0, or -1 with r->err. */
int subscription_create_for_schedule(struct req *r, struct sub_for_schedule *x);
/* A schedule's phases[n] (POST /v1/subscription_schedules'; create_preview's
 * schedule_details[phases]). */
extern const struct param_spec subscription_schedule_phase_params[];
/* Inside a read: the first phase of the new schedule create_preview's schedule_details[phases]
 * describe, for customer, as the subscription it would make (x) and when (*ret_start), parsed
 * and checked as POST /v1/subscription_schedules does; nothing is written. 0, or -1 with
 * r->err. */
int subscription_schedule_new_preview(struct req *r, struct db *db, const char *customer,
				      struct sub_for_schedule *x, int64_t *ret_start);

/* Inside a write: subscription `id` canceled now (its schedule's cancel). 0, or -1 with r->err
 * (DB_NOTFOUND-like states: a subscription already ended is left as it is). */
int subscription_cancel_for_schedule(struct req *r, struct db *db, const char *id);

/* Inside a write: a schedule's new phase's settings on subscription `id`: its default payment
 * method (pm; NULL: unchanged), metadata (JSON text added to the subscription's, keys
 * replaced; NULL: unchanged), collection method (sends: send_invoice with days_until_due
 * days, else charge_automatically), automatic_tax[enabled] and invoice_settings[account_tax_ids]
 * (a JSON array, NULL: none) (as POST /v1/subscriptions/{id} would set them);
 * customer.subscription.updated when something changed. 0, or -1 with r->err. */
int subscription_phase_settings(struct req *r, struct db *db, const char *id, const char *pm,
				const char *metadata, bool sends, int64_t days_until_due,
				bool automatic_tax, const char *account_tax_ids);
/* old's keys with add's added or replaced (both JSON objects): *ret in r's arena. 0, or -1 with
 * r->err. */
int schedule_metadata_merge(struct req *r, const char *old, const char *add, const char **ret);

/* The schedule managing subscription `sub` (not_started or active), for its `schedule` field:
 * 0 with *ret its id (r's arena) or NULL, or -1. */
int subscription_schedule_of(struct req *r, struct db *db, const char *sub, const char **ret);
/* Inside a write: schedule `id`'s subscription migrated to flexible billing mode at t, its
 * proration_discounts pd ("included" or "itemized"): the schedule's mode follows
 * (subscription_schedule.updated). 0, or -1 with r->err. */
int subscription_schedule_migrated(struct req *r, struct db *db, const char *id, int64_t t,
				   const char *pd);

/* Inside the write that ends subscription `sub` (cancel_now in subscriptions.c): the schedule
 * managing it is canceled with it (subscription_schedule.canceled; .aborted when the
 * subscription ended because its payments failed). 0, or -1 with r->err. */
int subscription_schedule_sub_ended(struct req *r, struct db *db, const char *sub,
				    const char *reason, int64_t t);

/* Inside a write: schedule `id` rendered as the answer. 0, or -1 with r->err. */
int subscription_schedule_answer(struct req *r, struct db *db, const char *id);

/* Inside a write: every not_started or active schedule of customer canceled now (its test
 * clock's deletion; subscription_schedule.canceled). 0, or -1 with r->err. */
int subscription_schedules_cancel_for_customer(struct req *r, struct db *db, const char *customer);

/* The scheduler (subscriptions_tick calls these). Does what is due for schedule `id` at t (its
 * start, or the end of its current phase). 1 done, 0 nothing due, < 0 failed. */
struct app;
int subscription_schedule_step(struct app *app, const char *host, const char *merchant,
			       const char *id, int64_t t);
/* The earliest schedule of test clock `clock` due by `until`: 1 found (ret_id, ret_at), 0 none,
 * < 0 error. */
int subscription_schedules_due_on_clock(struct db *db, const char *merchant, const char *clock,
					int64_t until, char ret_id[ID_MAX], int64_t *ret_at);
/* The real-time schedules due at now, each stepped (a bounded batch). Number done, or < 0. */
int subscription_schedules_tick(struct app *app, const char *host, struct store *s, int64_t now);

#endif

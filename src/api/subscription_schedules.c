/*
 * /v1/subscription_schedules — create (phases, or from_subscription), retrieve, update, list,
 * cancel, release — and the scheduler's steps that start a schedule and move it from phase to
 * phase.
 *
 * The model. A schedule is a list of phases, each a set of items (prices × quantities) for a
 * stretch of time: [start_date, end_date), the first starting at the schedule's start_date and
 * each next one where the previous ended. A phase's end is its end_date, or `iterations`
 * billing periods of its prices from its start (the last phase: one when neither is given).
 * Phases are stored with their dates computed (in the schedule's own time: its customer's test
 * clock's, or the real time) as one JSON array in Tender's own shape (phases_store), read back
 * whole: at most 10 phases of at most 20 items.
 *
 * The subscription. A schedule that starts now makes its subscription at once, through the
 * same create as POST /v1/subscriptions (subscription_create_for_schedule: the first phase's
 * items, trial, payment method, metadata and coupons), and the schedule's row is written inside
 * that create's write, so the subscription's own events already name it in `schedule`. A schedule
 * that starts later is not_started until the scheduler reaches its start_date (next_action_at), and
 * the same create then runs at that time, on a test clock at the clock's time (a subscription that
 * cannot be made then, its price archived meanwhile, cancels the schedule). The subscription
 * shows the schedule managing it (subscription_schedule_of: the not_started or active schedule
 * naming it).
 *
 * Phase changes. At the end of the current phase the scheduler changes the subscription's
 * items to the next phase's, as POST /v1/subscriptions/{id} with items[] would (the same
 * subscription_change: prorations by the next phase's proration_behavior; none when the phase
 * ends where the billing period does, where nothing would be left to prorate), then moves
 * current_phase on (subscription_schedule.updated) and, in that same write, gives the
 * subscription the new phase's payment method, metadata (keys added or replaced) and discounts
 * (phase_enter: the subscription's discounts become the phase's, and each item's own those of
 * its price's item in the phase, where they changed; a coupon or promotion code it already has
 * a discount from keeps that discount, and a `discount` names one it has by id). A
 * phase change due at the same time as the subscription's renewal goes first (subscriptions_tick),
 * so the renewal bills the new items. After the last phase, end_behavior decides: release (the
 * schedule is released, the subscription goes on alone) or cancel (the subscription is canceled,
 * the schedule completed). The change and the schedule's row are two writes: a crash between them
 * leaves the schedule on its phase with the items already changed, and the next step finds nothing
 * to change and moves the phase on.
 *
 * A subscription that ends by itself (canceled, or its payments failed) cancels its schedule
 * in the same write (subscription_schedule_sub_ended: subscription_schedule.canceled, or
 * .aborted for a delinquent one).
 *
 * An update of an active schedule's current phase changes the subscription at once the same
 * way, its item change first (its own write, not under the request's idempotency key: a retry
 * finds nothing left to change) and then the schedule's row.
 *
 * Collection. default_settings[collection_method] and [invoice_settings][days_until_due] (stored
 * on the row), each phase's own (in its JSON; none: the default settings'), checked as a
 * subscription's are (send_invoice needs days_until_due, charge_automatically refuses it). The
 * subscription is made with its first phase's (subscription_create_for_schedule: a send_invoice
 * one needs no card and is active at once), and each phase entered sets it as
 * POST /v1/subscriptions/{id} would (subscription_phase_settings). from_subscription copies the
 * subscription's into the default settings and its phase.
 *
 * Metered prices (backed by a billing meter) are taken without a quantity (stored 0, shown
 * absent): the subscription bills their usage in arrears. A later phase that brings one in adds
 * it by the phase's change (its usage counts from the phase's start); one that leaves a metered
 * price out removes it, its usage up to the change billed by the next invoice (the
 * subscription's change does both). A phase after one with metered prices keeps that one's
 * interval (a new interval would start a new period at once, its usage unbilled). Tiered prices
 * are taken as the subscription takes them (billing/tiers.c prices their lines).
 * end_behavior=cancel at the last phase's end leaves the subscription's own step to end it with its
 * final invoice (subscription_cancel_for_schedule).
 *
 * Automatic tax. default_settings[automatic_tax][enabled] (a column of the row) and each phase's
 * phases[n][automatic_tax][enabled] (in its JSON; not given: the default settings'): the
 * subscription is made with its first phase's (subscription_create_for_schedule, as a quote's
 * subscription is), and each phase entered sets it (subscription_phase_settings), so the
 * subscription's invoices are taxed by Stripe Tax exactly while a phase says so.
 *
 * Currency. phases[n][currency] (in the phase's JSON, shown on it): its prices' amounts in it,
 * their own or a currency_options entry for it (price_facts_in, as a subscription with
 * `currency` reads them); not given, the first phase's, an active schedule's subscription's,
 * else the first price's own. One currency per schedule: the subscription is made in it
 * (sub_for_schedule.currency) and keeps it, so its phase changes and renewals bill in it;
 * from_subscription's phase takes the subscription's currency.
 *
 * Previews. create_preview's schedule_details[phases] of a new schedule are parsed and checked
 * as a create's (phases_parse under that name, phases_check) and its first phase handed to
 * subscriptions.c as the subscription it would make (subscription_schedule_new_preview), which
 * previews that subscription's first invoice; nothing is written.
 *
 * Discounts. phases[n][discounts] and phases[n][items][m][discounts] (each a coupon, a
 * promotion code, or an existing discount of the subscription or of the item with that price),
 * stored in the phase's JSON as asked and shown so; checked as the subscription's create or
 * update checks them (discounts_resolve, a promotion code's minimum against what the phase or
 * item bills a period), made on the subscription by its create (the first phase, through
 * sub_for_schedule's discounts and items' own) and by phase_enter for the others. A change's
 * prorations take the discounts in force before the phase (as a subscription update's do).
 *
 * add_invoice_items. phases[n][add_invoice_items][k][price, quantity, discounts] (one-time
 * per-unit prices in the phase's currency; price_data is refused: its price would have to be
 * made before the phase begins): the first phase's are the create's add_invoice_items (its
 * first invoice), a later phase's become pending invoice items of the subscription in the write
 * that enters the phase (phase_adds), so the next invoice (the renewal at the phase's start)
 * bills them. An update of the current phase adds none (it was entered already).
 *
 * Not covered: add_invoice_items' price_data, metadata, period and tax_rates, billing_cycle_anchor,
 * a trial in a phase other than the first, backdated start dates, and end_behavior none/renew.
 */
#include "api/subscription_schedules.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/common.h"
#include "api/list.h"
#include "api/tax_ids.h"
#include "app.h"
#include "billing/billing.h"
#include "core/log.h"
#include "core/parse.h"
#include "core/str.h"
#include "events/events.h"
#include "http/errors.h"
#include "http/form.h"
#include "store/store.h"
#include "vault/payment_method.h"
#include "scheduler/scheduler.h"

#define ITERATIONS_MAX 1000
#define TICK_BATCH 32
#define DEFER_AFTER_FAILURE_S 3600

/* One discount a phase or a phase's item asks for: exactly one of a coupon, a promotion code
 * (its id) and an existing discount (of the subscription, or of the item). */
struct sched_disc {
	const char *coupon, *promotion_code, *discount;
};

struct sched_item {
	const char *price, *metadata; /* metadata: JSON text */
	int64_t quantity;	      /* 0: a metered price's (its usage is its quantity) */
	bool quantity_given;	      /* only while parsing */
	/* its own discounts, in order (n_ds 0: none); r's arena, so that a schedule stays
	 * small enough for a coroutine's stack */
	int n_ds;
	const struct sched_disc *ds;
};

/* One of a phase's add_invoice_items: a one-time price × quantity, with its own discounts, made a
 * pending invoice item of the subscription as the phase begins (its next invoice bills it). */
struct sched_add {
	const char *price;
	int64_t quantity;
	int n_ds;
	const struct sched_disc *ds;
};

struct sched_phase {
	int64_t start, end, trial_end; /* trial_end 0: none */
	int64_t iterations;	       /* as asked (0: end_date given); only while parsing */
	const char *proration_behavior;
	const char *pm, *metadata, *description; /* NULL: none; metadata JSON text */
	char currency[8];
	int n_items;
	struct sched_item items[SCHEDULE_ITEMS_MAX];
	int n_ds; /* its discounts, in order (r's arena) */
	const struct sched_disc *ds;
	int n_add; /* its add_invoice_items (r's arena) */
	const struct sched_add *add;
	/* its collection_method (NULL: the schedule's default_settings') and
	 * invoice_settings[days_until_due] (has_days false: the default settings') */
	const char *cm;
	bool has_days;
	int64_t days;
	int auto_tax; /* automatic_tax[enabled]: 1, 0, or -1 (not given: the default settings') */
	/* invoice_settings[account_tax_ids]: a JSON array ("[]": none), NULL: the default
	 * settings' */
	const char *atx;
};

struct schedule {
	char id[ID_MAX];
	int64_t created, version;
	const char *customer, *status, *subscription, *released_subscription, *end_behavior;
	int current_phase; /* -1: none */
	const char *default_pm, *metadata, *test_clock;
	int64_t next_action_at, canceled_at, completed_at, released_at; /* 0: none */
	/* default_settings' collection_method (NULL: charge_automatically) and
	 * invoice_settings[days_until_due] (has_days false: none) */
	const char *cm;
	bool has_days;
	int64_t days;
	bool auto_tax; /* default_settings[automatic_tax][enabled] */
	/* its phases' parameter, dotted and as errors name it (NULL: phases; an invoice
	 * preview's schedule_details[phases]) */
	const char *phases_param, *phases_shown;
	/* default_settings[invoice_settings][account_tax_ids]: a JSON array, NULL: none */
	const char *atx;
	/* billing_mode flexible (else classic), the subscription's it makes (from_subscription:
	 * that one's), and since when (0: a schedule made before it was stored) */
	bool flexible;
	int64_t mode_at;
	const char *pd; /* flexible's proration_discounts: "itemized"; NULL: included */
	int n_phases;
	struct sched_phase phases[SCHEDULE_PHASES_MAX];
};

static const char SQL_GET[] =
    "SELECT id, created, version, customer, status, subscription, released_subscription,"
    " end_behavior, current_phase, phases, default_payment_method, metadata, test_clock,"
    " next_action_at, canceled_at, completed_at, released_at, collection_method, days_until_due,"
    " automatic_tax, account_tax_ids, billing_mode, billing_mode_updated_at,"
    " billing_mode_proration_discounts"
    " FROM subscription_schedules WHERE merchant_id = $1 AND id = $2";
static const char SQL_INSERT[] =
    "INSERT INTO subscription_schedules (merchant_id, id, created, version, customer, status,"
    " subscription, released_subscription, end_behavior, current_phase, phases,"
    " default_payment_method, metadata, test_clock, next_action_at, canceled_at, completed_at,"
    " released_at, collection_method, days_until_due, automatic_tax, account_tax_ids,"
    " billing_mode, billing_mode_updated_at, billing_mode_proration_discounts) VALUES ($1,"
    " $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21,"
    " $22, $23, $24, $25)";
static const char SQL_UPDATE[] =
    "UPDATE subscription_schedules SET version = $3 + 1, status = $4, subscription = $5,"
    " released_subscription = $6, end_behavior = $7, current_phase = $8, phases = $9,"
    " default_payment_method = $10, metadata = $11, next_action_at = $12, canceled_at = $13,"
    " completed_at = $14, released_at = $15, collection_method = $16, days_until_due = $17,"
    " automatic_tax = $18, account_tax_ids = $19"
    " WHERE merchant_id = $1 AND id = $2 AND version = $3";
static const char SQL_OF_SUB[] =
    "SELECT id FROM subscription_schedules WHERE merchant_id = $1 AND subscription = $2"
    " AND (status = 'not_started' OR status = 'active') ORDER BY id LIMIT 1";
static const char SQL_SUB_FACTS[] =
    "SELECT customer, status, current_period_start, current_period_end, trial_end, test_clock,"
    " collection_method, days_until_due, automatic_tax, currency, account_tax_ids,"
    " billing_mode, billing_mode_updated_at, billing_mode_proration_discounts FROM subscriptions"
    " WHERE merchant_id = $1 AND id = $2";
static const char SQL_SUB_ITEMS[] =
    "SELECT id, price, quantity FROM subscription_items WHERE merchant_id = $1"
    " AND subscription = $2 ORDER BY pos LIMIT $3";

/* ---- the phases' stored form ---- */

/* discounts as Tender stores them: [{"c":coupon} | {"p":promotion_code} | {"d":discount}]
 * (a plain string is a coupon: phases stored before promotion codes and discounts were taken) */
static void discs_store(struct json *j, const char *key, const struct sched_disc *ds, int n)
{
	json_key(j, key);
	json_arr_open(j);
	for (int k = 0; k < n; k++) {
		json_obj_open(j);
		if (ds[k].coupon)
			json_kv_str(j, "c", ds[k].coupon);
		else if (ds[k].promotion_code)
			json_kv_str(j, "p", ds[k].promotion_code);
		else
			json_kv_str(j, "d", ds[k].discount);
		json_obj_close(j);
	}
	json_arr_close(j);
}

/* The discounts stored at arr (NULL: none) into *ret (r's arena). DB_OK or DB_ERR. */
static int discs_load(struct req *r, json_t *arr, const struct sched_disc **ret, int *ret_n)
{
	*ret = NULL;
	*ret_n = 0;
	size_t n = json_is_array(arr) ? json_array_size(arr) : 0;
	if (n == 0)
		return DB_OK;
	if (n > DISCOUNTS_MAX)
		return DB_ERR;
	struct sched_disc *ds = arena_alloc(&r->arena, n * sizeof(*ds));
	if (!ds)
		return DB_ERR;
	for (size_t k = 0; k < n; k++) {
		json_t *e = json_array_get(arr, k);
		const char *c = json_is_string(e) ? json_string_value(e)
						  : json_string_value(json_object_get(e, "c"));
		const char *pc = json_string_value(json_object_get(e, "p"));
		const char *d = json_string_value(json_object_get(e, "d"));
		memset(&ds[k], 0, sizeof(ds[k]));
		ds[k].coupon = c ? arena_strdup(&r->arena, c) : NULL;
		ds[k].promotion_code = pc ? arena_strdup(&r->arena, pc) : NULL;
		ds[k].discount = d ? arena_strdup(&r->arena, d) : NULL;
		if (!ds[k].coupon && !ds[k].promotion_code && !ds[k].discount)
			return DB_ERR;
	}
	*ret = ds;
	*ret_n = (int)n;
	return DB_OK;
}

/* phases as Tender stores them: [{"s":start,"e":end,"t":trial_end,"pb":…,"pm":…,"md":…,
 * "d":…,"c":currency,"dc":discounts,"i":[{"p":price,"q":quantity,"m":metadata,
 * "dc":discounts}]}] (metadata as JSON text; an item's "dc" only when it has discounts) */
static const char *phases_store(struct req *r, const struct schedule *sc)
{
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 20);
	json_init(&j, &b);
	json_arr_open(&j);
	for (int i = 0; i < sc->n_phases; i++) {
		const struct sched_phase *p = &sc->phases[i];
		json_obj_open(&j);
		json_kv_int(&j, "s", p->start);
		json_kv_int(&j, "e", p->end);
		json_kv_int(&j, "t", p->trial_end);
		json_kv_str(&j, "pb", p->proration_behavior);
		json_kv_str_or_null(&j, "pm", p->pm);
		json_kv_str_or_null(&j, "md", p->metadata);
		json_kv_str_or_null(&j, "d", p->description);
		json_kv_str(&j, "c", p->currency);
		json_kv_str_or_null(&j, "cm", p->cm);
		if (p->has_days)
			json_kv_int(&j, "dd", p->days);
		else
			json_kv_null(&j, "dd");
		if (p->auto_tax >= 0)
			json_kv_int(&j, "at", p->auto_tax);
		if (p->atx)
			json_kv_raw(&j, "tx", p->atx, strlen(p->atx));
		discs_store(&j, "dc", p->ds, p->n_ds);
		if (p->n_add) {
			json_key(&j, "ai");
			json_arr_open(&j);
			for (int k = 0; k < p->n_add; k++) {
				json_obj_open(&j);
				json_kv_str(&j, "p", p->add[k].price);
				json_kv_int(&j, "q", p->add[k].quantity);
				discs_store(&j, "dc", p->add[k].ds, p->add[k].n_ds);
				json_obj_close(&j);
			}
			json_arr_close(&j);
		}
		json_key(&j, "i");
		json_arr_open(&j);
		for (int k = 0; k < p->n_items; k++) {
			json_obj_open(&j);
			json_kv_str(&j, "p", p->items[k].price);
			json_kv_int(&j, "q", p->items[k].quantity);
			json_kv_str(&j, "m", p->items[k].metadata ? p->items[k].metadata : "{}");
			if (p->items[k].n_ds)
				discs_store(&j, "dc", p->items[k].ds, p->items[k].n_ds);
			json_obj_close(&j);
		}
		json_arr_close(&j);
		json_obj_close(&j);
	}
	json_arr_close(&j);
	const char *out = b.failed ? NULL : arena_strndup(&r->arena, b.data, b.len);
	buf_release(&b);
	return out;
}

static const char *jstr(struct req *r, json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? arena_strdup(&r->arena, s) : NULL;
}

static int phases_load(struct req *r, const char *text, struct schedule *sc)
{
	json_error_t e;
	json_t *arr = json_loads(text, 0, &e);
	if (!json_is_array(arr)) {
		json_decref(arr);
		return DB_ERR;
	}
	int rc = DB_OK;
	sc->n_phases = 0;
	size_t i;
	json_t *o;
	json_array_foreach(arr, i, o)
	{
		if (sc->n_phases == SCHEDULE_PHASES_MAX)
			break;
		struct sched_phase *p = &sc->phases[sc->n_phases++];
		memset(p, 0, sizeof(*p));
		p->start = json_integer_value(json_object_get(o, "s"));
		p->end = json_integer_value(json_object_get(o, "e"));
		p->trial_end = json_integer_value(json_object_get(o, "t"));
		p->proration_behavior = jstr(r, o, "pb");
		p->pm = jstr(r, o, "pm");
		p->metadata = jstr(r, o, "md");
		p->description = jstr(r, o, "d");
		str_copy(p->currency, sizeof(p->currency),
			 json_string_value(json_object_get(o, "c")));
		p->cm = jstr(r, o, "cm");
		json_t *dd = json_object_get(o, "dd");
		p->has_days = json_is_integer(dd);
		p->days = p->has_days ? json_integer_value(dd) : 0;
		json_t *at = json_object_get(o, "at");
		p->auto_tax = json_is_integer(at) ? (json_integer_value(at) != 0) : -1;
		json_t *tx = json_object_get(o, "tx");
		if (json_is_array(tx)) {
			char *t = json_dumps(tx, JSON_COMPACT);
			p->atx = t ? arena_strdup(&r->arena, t) : NULL;
			free(t);
			if (!p->atx)
				rc = DB_ERR;
		}
		size_t k;
		json_t *it;
		if (discs_load(r, json_object_get(o, "dc"), &p->ds, &p->n_ds) != DB_OK)
			rc = DB_ERR;
		json_t *ai = json_object_get(o, "ai");
		size_t n_ai = json_is_array(ai) ? json_array_size(ai) : 0;
		struct sched_add *add = n_ai ? arena_alloc(&r->arena, n_ai * sizeof(*add)) : NULL;
		if (n_ai && !add)
			rc = DB_ERR;
		for (size_t m = 0; add && m < n_ai; m++) {
			json_t *ae = json_array_get(ai, m);
			memset(&add[m], 0, sizeof(add[m]));
			add[m].price = jstr(r, ae, "p");
			add[m].quantity = json_integer_value(json_object_get(ae, "q"));
			if (!add[m].price || discs_load(r, json_object_get(ae, "dc"), &add[m].ds,
							&add[m].n_ds) != DB_OK)
				rc = DB_ERR;
		}
		p->add = add;
		p->n_add = add ? (int)n_ai : 0;
		json_t *items = json_object_get(o, "i");
		json_array_foreach(items, k, it)
		{
			if (p->n_items == SCHEDULE_ITEMS_MAX)
				break;
			struct sched_item *x = &p->items[p->n_items++];
			x->price = jstr(r, it, "p");
			x->quantity = json_integer_value(json_object_get(it, "q"));
			x->metadata = jstr(r, it, "m");
			if (!x->price ||
			    discs_load(r, json_object_get(it, "dc"), &x->ds, &x->n_ds) != DB_OK)
				rc = DB_ERR;
		}
		if (!p->proration_behavior)
			rc = DB_ERR;
	}
	json_decref(arr);
	return rc;
}

/* ---- rows ---- */

static int sched_load(struct req *r, struct db *db, const char *id, struct schedule *sc)
{
	struct db_stmt *st = db_prepare(db, SQL_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	const char *phases = NULL;
	if (rc == DB_ROW) {
		struct arena *a = &r->arena;
		memset(sc, 0, sizeof(*sc));
		str_copy(sc->id, sizeof(sc->id), db_col_text(st, 0, NULL));
		sc->created = db_col_int64(st, 1);
		sc->version = db_col_int64(st, 2);
		sc->customer = col_text_dup(a, st, 3);
		sc->status = col_text_dup(a, st, 4);
		sc->subscription = col_text_dup(a, st, 5);
		sc->released_subscription = col_text_dup(a, st, 6);
		sc->end_behavior = col_text_dup(a, st, 7);
		sc->current_phase = (int)db_col_int64(st, 8);
		phases = col_text_dup(a, st, 9);
		sc->default_pm = col_text_dup(a, st, 10);
		sc->metadata = col_text_dup(a, st, 11);
		sc->test_clock = col_text_dup(a, st, 12);
		sc->next_action_at = db_col_int64_or0(st, 13);
		sc->canceled_at = db_col_int64_or0(st, 14);
		sc->completed_at = db_col_int64_or0(st, 15);
		sc->released_at = db_col_int64_or0(st, 16);
		sc->cm = col_text_dup(a, st, 17);
		sc->has_days = !db_col_is_null(st, 18);
		sc->days = db_col_int64_or0(st, 18);
		sc->auto_tax = db_col_int64_or0(st, 19) != 0;
		sc->atx = col_text_dup(a, st, 20);
		sc->flexible = str_eq(db_col_text(st, 21, NULL), "flexible");
		sc->mode_at = db_col_int64_or0(st, 22);
		sc->pd = str_eq(db_col_text(st, 23, NULL), "itemized") ? "itemized" : NULL;
		if (!sc->customer || !sc->status || !sc->end_behavior || !phases || !sc->metadata)
			rc = DB_ERR;
	}
	db_reset(st);
	if (rc != DB_ROW)
		return rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
	return phases_load(r, phases, sc);
}

static int bind_row(struct req *r, struct db_stmt *st, const struct schedule *sc)
{
	const char *phases = phases_store(r, sc);
	if (!phases)
		return -1;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, sc->id, -1);
	db_bind_int64(st, 3, sc->created);
	db_bind_int64(st, 4, sc->version);
	db_bind_text(st, 5, sc->customer, -1);
	db_bind_text(st, 6, sc->status, -1);
	db_bind_text(st, 7, sc->subscription, -1);
	db_bind_text(st, 8, sc->released_subscription, -1);
	db_bind_text(st, 9, sc->end_behavior, -1);
	db_bind_int64(st, 10, sc->current_phase);
	db_bind_text(st, 11, phases, -1);
	db_bind_text(st, 12, sc->default_pm, -1);
	db_bind_text(st, 13, sc->metadata, -1);
	db_bind_text(st, 14, sc->test_clock, -1);
	db_bind_int64_or_null(st, 15, sc->next_action_at);
	db_bind_int64_or_null(st, 16, sc->canceled_at);
	db_bind_int64_or_null(st, 17, sc->completed_at);
	db_bind_int64_or_null(st, 18, sc->released_at);
	db_bind_text(st, 19, sc->cm, -1);
	if (sc->has_days)
		db_bind_int64(st, 20, sc->days);
	else
		db_bind_null(st, 20);
	db_bind_int64(st, 21, sc->auto_tax ? 1 : 0);
	db_bind_text(st, 22, sc->atx, -1);
	db_bind_text(st, 23, sc->flexible ? "flexible" : "classic", -1);
	db_bind_int64(st, 24, sc->mode_at ? sc->mode_at : sc->created);
	db_bind_text(st, 25, !sc->flexible ? NULL : sc->pd ? sc->pd : "included", -1);
	return 0;
}

static int sched_insert(struct req *r, struct db *db, const struct schedule *sc)
{
	struct db_stmt *st = db_prepare(db, SQL_INSERT);
	if (!st || bind_row(r, st, sc) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

/* Stores sc where it is still at sc->version (sc->version itself is left as read, so that a
 * re-run of the write binds the same). 0, or -1 with r->err. */
static int sched_save(struct req *r, struct db *db, const struct schedule *sc)
{
	const char *phases = phases_store(r, sc);
	struct db_stmt *st = phases ? db_prepare(db, SQL_UPDATE) : NULL;
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, sc->id, -1);
	db_bind_int64(st, 3, sc->version);
	db_bind_text(st, 4, sc->status, -1);
	db_bind_text(st, 5, sc->subscription, -1);
	db_bind_text(st, 6, sc->released_subscription, -1);
	db_bind_text(st, 7, sc->end_behavior, -1);
	db_bind_int64(st, 8, sc->current_phase);
	db_bind_text(st, 9, phases, -1);
	db_bind_text(st, 10, sc->default_pm, -1);
	db_bind_text(st, 11, sc->metadata, -1);
	db_bind_int64_or_null(st, 12, sc->next_action_at);
	db_bind_int64_or_null(st, 13, sc->canceled_at);
	db_bind_int64_or_null(st, 14, sc->completed_at);
	db_bind_int64_or_null(st, 15, sc->released_at);
	db_bind_text(st, 16, sc->cm, -1);
	if (sc->has_days)
		db_bind_int64(st, 17, sc->days);
	else
		db_bind_null(st, 17);
	db_bind_int64(st, 18, sc->auto_tax ? 1 : 0);
	db_bind_text(st, 19, sc->atx, -1);
	int64_t n;
	if (db_step_changes(st, &n) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (n != 1)
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"Subscription schedule %s changed while this request ran; try "
				"again.",
				sc->id);
	return 0;
}

/* ---- rendering ---- */

static void time_or_null(struct json *j, const char *key, int64_t t)
{
	if (t)
		json_kv_int(j, key, t);
	else
		json_kv_null(j, key);
}

static void raw_or(struct json *j, const char *key, const char *raw, const char *dflt)
{
	const char *v = raw ? raw : dflt;
	json_kv_raw(j, key, v, strlen(v));
}

static void automatic_tax_render(struct json *j, bool enabled)
{
	json_key(j, "automatic_tax");
	json_obj_open(j);
	json_kv_null(j, "disabled_reason");
	json_kv_bool(j, "enabled", enabled);
	if (enabled) {
		json_key(j, "liability");
		json_obj_open(j);
		json_kv_str(j, "type", "self");
		json_obj_close(j);
	} else {
		json_kv_null(j, "liability");
	}
	json_obj_close(j);
}

/* A phase's automatic tax: its own, else the schedule's default settings'. */
static bool phase_auto_tax(const struct schedule *sc, const struct sched_phase *p)
{
	return p->auto_tax >= 0 ? p->auto_tax != 0 : sc->auto_tax;
}

/* a phase's or an item's `discounts`, as Stripe shows them: each with the one it names */
static void discs_render(struct json *j, const struct sched_disc *ds, int n)
{
	json_key(j, "discounts");
	json_arr_open(j);
	for (int k = 0; k < n; k++) {
		json_obj_open(j);
		json_kv_str_or_null(j, "coupon", ds[k].coupon);
		json_kv_str_or_null(j, "discount", ds[k].discount);
		json_kv_str_or_null(j, "promotion_code", ds[k].promotion_code);
		json_obj_close(j);
	}
	json_arr_close(j);
}

static void phase_render(const struct schedule *sc, const struct sched_phase *p, struct json *j)
{
	json_obj_open(j);
	json_key(j, "add_invoice_items");
	json_arr_open(j);
	for (int k = 0; k < p->n_add; k++) {
		json_obj_open(j);
		json_kv_bool(j, "discountable", true);
		discs_render(j, p->add[k].ds, p->add[k].n_ds);
		json_kv_raw(j, "metadata", "{}", 2);
		/* Stripe's default period: the item's creation (as the phase begins) */
		json_kv_raw(j, "period",
			    "{\"end\":{\"type\":\"min_item_period_end\"},"
			    "\"start\":{\"type\":\"max_item_period_start\"}}",
			    strlen("{\"end\":{\"type\":\"min_item_period_end\"},"
				   "\"start\":{\"type\":\"max_item_period_start\"}}"));
		json_kv_str(j, "price", p->add[k].price);
		json_kv_int(j, "quantity", p->add[k].quantity);
		json_kv_raw(j, "tax_rates", "[]", 2);
		json_obj_close(j);
	}
	json_arr_close(j);
	json_kv_null(j, "application_fee_percent");
	automatic_tax_render(j, phase_auto_tax(sc, p));
	json_kv_null(j, "billing_cycle_anchor");
	json_kv_null(j, "billing_thresholds");
	json_kv_str_or_null(j, "collection_method", p->cm);
	json_kv_null(j, "coupon");
	json_kv_str(j, "currency", p->currency);
	json_kv_str_or_null(j, "default_payment_method", p->pm);
	json_kv_raw(j, "default_tax_rates", "[]", 2);
	json_kv_str_or_null(j, "description", p->description);
	discs_render(j, p->ds, p->n_ds);
	json_kv_int(j, "end_date", p->end);
	json_key(j, "invoice_settings");
	if (p->has_days || p->atx) {
		json_obj_open(j);
		json_kv_raw_or_null(j, "account_tax_ids", p->atx);
		if (p->has_days)
			json_kv_int(j, "days_until_due", p->days);
		else
			json_kv_null(j, "days_until_due");
		json_kv_null(j, "issuer");
		json_obj_close(j);
	} else {
		json_nil(j);
	}
	json_key(j, "items");
	json_arr_open(j);
	for (int k = 0; k < p->n_items; k++) {
		json_obj_open(j);
		json_kv_null(j, "billing_thresholds");
		discs_render(j, p->items[k].ds, p->items[k].n_ds);
		raw_or(j, "metadata", p->items[k].metadata, "{}");
		json_kv_str(j, "plan", p->items[k].price);
		json_kv_str(j, "price", p->items[k].price);
		if (p->items[k].quantity) /* a metered price's shows none, as Stripe's */
			json_kv_int(j, "quantity", p->items[k].quantity);
		json_kv_raw(j, "tax_rates", "[]", 2);
		json_obj_close(j);
	}
	json_arr_close(j);
	raw_or(j, "metadata", p->metadata, "{}");
	json_kv_null(j, "on_behalf_of");
	json_kv_str(j, "proration_behavior", p->proration_behavior);
	json_kv_int(j, "start_date", p->start);
	json_kv_null(j, "transfer_data");
	time_or_null(j, "trial_end", p->trial_end);
	json_obj_close(j);
}

static void current_phase_render(const struct schedule *sc, struct json *j)
{
	if (str_eq(sc->status, "active") && sc->current_phase >= 0 &&
	    sc->current_phase < sc->n_phases) {
		const struct sched_phase *p = &sc->phases[sc->current_phase];
		json_obj_open(j);
		json_kv_int(j, "end_date", p->end);
		json_kv_int(j, "start_date", p->start);
		json_obj_close(j);
	} else {
		json_nil(j);
	}
}

/* Renders an expandable id at `field`: expanded by render when expand[] names prefix+field. */
static int expandable(struct req *r, struct db *db, const char *prefix, const char *field,
		      const char *id, struct json *j)
{
	json_key(j, field);
	if (!id) {
		json_nil(j);
		return 0;
	}
	char path[128];
	snprintf(path, sizeof(path), "%s%s", prefix ? prefix : "", field);
	if (prefix && req_expand_has(r, path)) {
		snprintf(path, sizeof(path), "%s%s.", prefix, field);
		int rc =
		    str_eq(field, "customer")
			? customer_render_by_id(r, db, id, j)
			: subscription_render_by_id(r, db, id, arena_strdup(&r->arena, path), j);
		if (rc == DB_OK)
			return 0;
		if (rc != DB_NOTFOUND)
			return -1;
	}
	json_str(j, id);
	return 0;
}

/* prefix: where sc sits in the answer, for expand[] (customer, subscription); NULL: nothing
 * expanded (an event's object). 0 or -1. */
static int sched_render(struct req *r, struct db *db, const struct schedule *sc, const char *prefix,
			struct json *j)
{
	json_obj_open(j);
	json_kv_str(j, "id", sc->id);
	json_kv_str(j, "object", "subscription_schedule");
	json_kv_null(j, "application");
	/* as a subscription's (subscriptions.c); updated_at only when known */
	json_key(j, "billing_mode");
	json_obj_open(j);
	if (sc->flexible) {
		json_key(j, "flexible");
		json_obj_open(j);
		json_kv_str(j, "proration_discounts", sc->pd ? sc->pd : "included");
		json_obj_close(j);
	} else {
		json_kv_null(j, "flexible");
	}
	json_kv_str(j, "type", sc->flexible ? "flexible" : "classic");
	if (sc->mode_at)
		json_kv_int(j, "updated_at", sc->mode_at);
	json_obj_close(j);
	time_or_null(j, "canceled_at", sc->canceled_at);
	time_or_null(j, "completed_at", sc->completed_at);
	json_kv_int(j, "created", sc->created);
	json_key(j, "current_phase");
	current_phase_render(sc, j);
	if (expandable(r, db, prefix, "customer", sc->customer, j) != 0)
		return -1;
	json_kv_null(j, "customer_account");
	json_key(j, "default_settings");
	json_obj_open(j);
	json_kv_null(j, "application_fee_percent");
	automatic_tax_render(j, sc->auto_tax);
	json_kv_str(j, "billing_cycle_anchor", "automatic");
	json_kv_null(j, "billing_thresholds");
	json_kv_str(j, "collection_method", sc->cm ? sc->cm : "charge_automatically");
	json_kv_str_or_null(j, "default_payment_method", sc->default_pm);
	json_kv_null(j, "description");
	json_key(j, "invoice_settings");
	json_obj_open(j);
	json_kv_raw_or_null(j, "account_tax_ids", sc->atx);
	if (sc->has_days)
		json_kv_int(j, "days_until_due", sc->days);
	else
		json_kv_null(j, "days_until_due");
	json_key(j, "issuer");
	json_obj_open(j);
	json_kv_str(j, "type", "self");
	json_obj_close(j);
	json_obj_close(j);
	json_kv_null(j, "on_behalf_of");
	json_kv_null(j, "transfer_data");
	json_obj_close(j);
	json_kv_str(j, "end_behavior", sc->end_behavior);
	json_kv_bool(j, "livemode", false);
	json_kv_raw(j, "metadata", sc->metadata, strlen(sc->metadata));
	json_key(j, "phases");
	json_arr_open(j);
	for (int i = 0; i < sc->n_phases; i++)
		phase_render(sc, &sc->phases[i], j);
	json_arr_close(j);
	time_or_null(j, "released_at", sc->released_at);
	json_kv_str_or_null(j, "released_subscription", sc->released_subscription);
	json_kv_str(j, "status", sc->status);
	if (expandable(r, db, prefix, "subscription", sc->subscription, j) != 0)
		return -1;
	json_kv_str_or_null(j, "test_clock", sc->test_clock);
	json_obj_close(j);
	return 0;
}

/* A copy of sc in r's arena (what it was, for previous_attributes), or NULL. */
static struct schedule *sched_copy(struct req *r, const struct schedule *sc)
{
	struct schedule *c = arena_alloc(&r->arena, sizeof(*c));
	if (c)
		memcpy(c, sc, sizeof(*c));
	return c;
}

/* equal, both NULL included (str_eq wants both set) */
static bool same(const char *a, const char *b)
{
	return (!a && !b) || str_eq(a, b);
}

/* previous_attributes: the top-level fields of old that sc changed (phases compared by their
 * stored form). */
static void prev_render(struct req *r, const struct schedule *old, const struct schedule *sc,
			struct json *j)
{
	json_obj_open(j);
	if (old->flexible != sc->flexible || (old->pd != NULL) != (sc->pd != NULL)) {
		json_key(j, "billing_mode");
		json_obj_open(j);
		if (old->flexible) { /* included, before itemized */
			json_key(j, "flexible");
			json_obj_open(j);
			json_kv_str(j, "proration_discounts", "included");
			json_obj_close(j);
		} else {
			json_kv_null(j, "flexible");
		}
		json_kv_str(j, "type", old->flexible ? "flexible" : "classic");
		if (old->mode_at)
			json_kv_int(j, "updated_at", old->mode_at);
		json_obj_close(j);
	}
	if (!str_eq(old->status, sc->status) || old->current_phase != sc->current_phase ||
	    (old->current_phase >= 0 && sc->current_phase == old->current_phase &&
	     sc->current_phase < sc->n_phases && old->current_phase < old->n_phases &&
	     (old->phases[old->current_phase].start != sc->phases[sc->current_phase].start ||
	      old->phases[old->current_phase].end != sc->phases[sc->current_phase].end))) {
		json_key(j, "current_phase");
		current_phase_render(old, j);
	}
	bool cm_changed = !str_eq(old->cm ? old->cm : "charge_automatically",
				  sc->cm ? sc->cm : "charge_automatically");
	bool days_changed = old->has_days != sc->has_days || old->days != sc->days;
	bool at_changed = old->auto_tax != sc->auto_tax;
	bool atx_changed = !same(old->atx, sc->atx);
	if (!same(old->default_pm, sc->default_pm) || cm_changed || days_changed || at_changed ||
	    atx_changed) {
		json_key(j, "default_settings");
		json_obj_open(j);
		if (at_changed)
			automatic_tax_render(j, old->auto_tax);
		if (cm_changed)
			json_kv_str(j, "collection_method",
				    old->cm ? old->cm : "charge_automatically");
		if (!same(old->default_pm, sc->default_pm))
			json_kv_str_or_null(j, "default_payment_method", old->default_pm);
		if (days_changed || atx_changed) {
			json_key(j, "invoice_settings");
			json_obj_open(j);
			if (atx_changed)
				json_kv_raw_or_null(j, "account_tax_ids", old->atx);
			if (days_changed && old->has_days)
				json_kv_int(j, "days_until_due", old->days);
			else if (days_changed)
				json_kv_null(j, "days_until_due");
			json_obj_close(j);
		}
		json_obj_close(j);
	}
	if (!str_eq(old->end_behavior, sc->end_behavior))
		json_kv_str(j, "end_behavior", old->end_behavior);
	if (!str_eq(old->metadata, sc->metadata))
		json_kv_raw(j, "metadata", old->metadata, strlen(old->metadata));
	const char *op = phases_store(r, old), *np = phases_store(r, sc);
	if (op && np && strcmp(op, np) != 0) {
		json_key(j, "phases");
		json_arr_open(j);
		for (int i = 0; i < old->n_phases; i++)
			phase_render(old, &old->phases[i], j);
		json_arr_close(j);
	}
	if (old->released_at != sc->released_at)
		time_or_null(j, "released_at", old->released_at);
	if (!same(old->released_subscription, sc->released_subscription))
		json_kv_str_or_null(j, "released_subscription", old->released_subscription);
	if (!str_eq(old->status, sc->status))
		json_kv_str(j, "status", old->status);
	if (!same(old->subscription, sc->subscription))
		json_kv_str_or_null(j, "subscription", old->subscription);
	json_obj_close(j);
}

/* Appends event `type` with sc as its object, at time t (the schedule's own); old: what it was
 * before (previous_attributes), or NULL. */
static int sched_emit_prev(struct req *r, struct db *db, const struct schedule *sc,
			   const char *type, int64_t t, const struct schedule *old)
{
	struct buf b, pb;
	struct json j, pj;
	buf_init(&b, 1u << 20);
	buf_init(&pb, 1u << 20);
	json_init(&j, &b);
	json_init(&pj, &pb);
	int rc = sched_render(r, db, sc, NULL, &j);
	if (old)
		prev_render(r, old, sc, &pj);
	if (rc == 0 && (b.failed || pb.failed))
		rc = -1;
	if (rc == 0) {
		struct event_origin o = {r->request_id[0] ? r->request_id : NULL,
					 r->idempotency_key, r->livemode};
		const char *prev = old ? arena_strndup(&r->arena, pb.data, pb.len) : NULL;
		rc = (old && !prev) ? -1
		     : event_append(db, r->merchant_id, &o, type, sc->id, b.data, b.len, prev, t,
				    NULL) == DB_OK
			 ? 0
			 : -1;
	}
	buf_release(&b);
	buf_release(&pb);
	return rc == 0 ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static int sched_emit(struct req *r, struct db *db, const struct schedule *sc, const char *type,
		      int64_t t)
{
	return sched_emit_prev(r, db, sc, type, t, NULL);
}

static int sched_answer(struct req *r, struct db *db, const char *id)
{
	struct schedule *sc = arena_alloc(&r->arena, sizeof(*sc));
	if (!sc || sched_load(r, db, id, sc) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	r->answer_event[0] = '\0';
	return sched_render(r, db, sc, "", req_json(r)) == 0 ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* ---- what subscriptions.c asks ---- */

int subscription_schedule_answer(struct req *r, struct db *db, const char *id)
{
	return sched_answer(r, db, id);
}

static const char SQL_MODE_SET[] =
    "UPDATE subscription_schedules SET version = version + 1, billing_mode = 'flexible',"
    " billing_mode_updated_at = $4, billing_mode_proration_discounts = $5"
    " WHERE merchant_id = $1 AND id = $2 AND version = $3";

int subscription_schedule_migrated(struct req *r, struct db *db, const char *id, int64_t t,
				   const char *pd)
{
	const char *want = str_eq(pd, "itemized") ? "itemized" : NULL;
	struct schedule *sc = arena_alloc(&r->arena, sizeof(*sc));
	struct schedule *old = arena_alloc(&r->arena, sizeof(*old));
	if (!sc || !old || sched_load(r, db, id, sc) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (sc->flexible && (sc->pd != NULL) == (want != NULL))
		return 0;
	*old = *sc;
	struct db_stmt *st = db_prepare(db, SQL_MODE_SET);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	db_bind_int64(st, 3, sc->version);
	db_bind_int64(st, 4, t);
	db_bind_text(st, 5, want ? want : "included", -1);
	int64_t n;
	if (db_step_changes(st, &n) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (n != 1)
		return req_fail(
		    r, ERR_INVALID_STATE, NULL,
		    "Subscription schedule %s changed while this request ran; try again.", id);
	sc->flexible = true;
	sc->pd = want;
	sc->mode_at = t;
	return sched_emit_prev(r, db, sc, "subscription_schedule.updated", t, old);
}

int subscription_schedule_of(struct req *r, struct db *db, const char *sub, const char **ret)
{
	struct db_stmt *st = db_prepare(db, SQL_OF_SUB);
	if (!st)
		return -1;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, sub, -1);
	int rc = db_step(st);
	*ret = rc == DB_ROW ? col_text_dup(&r->arena, st, 0) : NULL;
	db_reset(st);
	return rc < 0 ? -1 : 0;
}

int subscription_schedule_sub_ended(struct req *r, struct db *db, const char *sub,
				    const char *reason, int64_t t)
{
	const char *id;
	if (subscription_schedule_of(r, db, sub, &id) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!id)
		return 0;
	struct schedule *sc = arena_alloc(&r->arena, sizeof(*sc));
	if (!sc || sched_load(r, db, id, sc) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	const struct schedule *old = sched_copy(r, sc);
	if (!old)
		return req_fail(r, ERR_API, NULL, NULL);
	sc->status = "canceled";
	sc->canceled_at = t;
	sc->next_action_at = 0;
	if (sched_save(r, db, sc) != 0)
		return -1;
	return sched_emit_prev(r, db, sc,
			       str_eq(reason, "payment_failed") ? "subscription_schedule.aborted"
								: "subscription_schedule.canceled",
			       t, old);
}

int schedule_metadata_merge(struct req *r, const char *old, const char *add, const char **ret)
{
	json_error_t e;
	json_t *o = json_loads(old ? old : "{}", 0, &e);
	json_t *a = json_loads(add ? add : "{}", 0, &e);
	char *text = NULL;
	if (json_is_object(o) && json_is_object(a) && json_object_update(o, a) == 0)
		text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	json_decref(a);
	if (!text)
		return req_fail(r, ERR_API, NULL, NULL);
	*ret = arena_strdup(&r->arena, text);
	free(text);
	return *ret ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* ds as a discount_spec (present), each entry named `shown`[k][coupon | promotion_code |
 * discount] in errors (r's arena). */
static void discs_spec(struct req *r, const struct sched_disc *ds, int n, const char *shown,
		       struct discount_spec *spec)
{
	memset(spec, 0, sizeof(*spec));
	spec->present = true;
	spec->n = n < DISCOUNTS_MAX ? n : DISCOUNTS_MAX;
	for (int k = 0; k < spec->n; k++) {
		spec->e[k].coupon = ds[k].coupon;
		spec->e[k].promotion_code = ds[k].promotion_code;
		spec->e[k].discount = ds[k].discount;
		const char *which = ds[k].coupon	   ? "coupon"
				    : ds[k].promotion_code ? "promotion_code"
							   : "discount";
		const char *e = arena_printf(&r->arena, "%s[%d][%s]", shown, k, which);
		spec->e[k].shown = e ? e : shown;
	}
}

static const char SQL_ITEM_OF_PRICE[] =
    "SELECT id FROM subscription_items WHERE merchant_id = $1 AND subscription = $2"
    " AND price = $3 ORDER BY pos LIMIT 1";

/* The item of subscription sub with price `price`: *ret its id (r's arena), or NULL when it has
 * none. 0, or -1 with r->err. */
static int item_of_price(struct req *r, struct db *db, const char *sub, const char *price,
			 const char **ret)
{
	*ret = NULL;
	struct db_stmt *st = db_prepare(db, SQL_ITEM_OF_PRICE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, sub, -1);
	db_bind_text(st, 3, price, -1);
	int rc = db_step(st);
	if (rc == DB_ROW)
		*ret = col_text_dup(&r->arena, st, 0);
	db_reset(st);
	if (rc < 0 || (rc == DB_ROW && !*ret))
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

/* ---- a phase entered: its settings and discounts on the subscription ---- */

/* the live discount of a subscription ($2, none of its items') or of an item ($2) that was made
 * from coupon $3 or promotion code $4 */
static const char SQL_LIVE_SUB_DISCOUNT[] =
    "SELECT id FROM discounts WHERE merchant_id = $1 AND subscription = $2"
    " AND subscription_item IS NULL AND ended = 0 AND (coupon = $3 OR promotion_code = $4)"
    " ORDER BY pos LIMIT 1";
static const char SQL_LIVE_ITEM_DISCOUNT[] =
    "SELECT id FROM discounts WHERE merchant_id = $1 AND subscription_item = $2"
    " AND ended = 0 AND (coupon = $3 OR promotion_code = $4) ORDER BY pos LIMIT 1";

static bool discs_same(const struct sched_disc *a, int na, const struct sched_disc *b, int nb)
{
	if (na != nb)
		return false;
	for (int k = 0; k < na; k++)
		if (!same(a[k].coupon, b[k].coupon) ||
		    !same(a[k].promotion_code, b[k].promotion_code) ||
		    !same(a[k].discount, b[k].discount))
			return false;
	return true;
}

/* Inside a write: the discounts of the schedule's subscription (item NULL) or of its item
 * `item` become ds, at t: a coupon or promotion code it already has a live discount from keeps
 * that discount, a discount is kept by id, the others are redeemed (promotion codes'
 * minimum_amount against `amount`). Ones that can no longer be redeemed leave the discounts as
 * they were (logged): the phase change goes on. 0, or -1 with r->err. */
static int discs_apply(struct req *r, struct db *db, const struct schedule *sc, const char *item,
		       const char *currency, const struct sched_disc *ds, int n, int64_t amount,
		       int64_t t)
{
	struct discount_spec spec;
	discs_spec(r, ds, n, item ? "phases[items][discounts]" : "phases[discounts]", &spec);
	for (int k = 0; k < spec.n; k++) {
		if (ds[k].discount)
			continue;
		struct db_stmt *st =
		    db_prepare(db, item ? SQL_LIVE_ITEM_DISCOUNT : SQL_LIVE_SUB_DISCOUNT);
		if (!st)
			return req_fail(r, ERR_API, NULL, NULL);
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, item ? item : sc->subscription, -1);
		db_bind_text(st, 3, ds[k].coupon, -1);
		db_bind_text(st, 4, ds[k].promotion_code, -1);
		int rc = db_step(st);
		const char *kept = rc == DB_ROW ? col_text_dup(&r->arena, st, 0) : NULL;
		db_reset(st);
		if (rc < 0)
			return req_fail(r, ERR_API, NULL, NULL);
		if (kept) {
			spec.e[k].discount = kept;
			spec.e[k].coupon = spec.e[k].promotion_code = NULL;
		}
	}
	struct discount *out = arena_alloc(&r->arena, DISCOUNTS_MAX * sizeof(*out));
	int got = 0;
	if (!out)
		return req_fail(r, ERR_API, NULL, NULL);
	if (discounts_resolve(r, db, &spec, sc->customer, currency, amount,
			      item ? item : sc->subscription, t, out, &got) != 0) {
		if (api_error_info(r->err.code)->status >= 500)
			return -1;
		log_msg(LOG_INFO, "subscription schedule %s: the phase's discounts not applied: %s",
			sc->id, req_error_message(r));
		r->err.set = false;
		return 0;
	}
	if (item)
		return subscription_item_discounts_set(r, db, sc->subscription, item, sc->customer,
						       t, out, got, NULL);
	return discounts_attach(r, db, DISCOUNT_SUBSCRIPTION, sc->subscription, sc->customer, t,
				out, got, NULL);
}

/* What phase p's item k bills a period in the phase's currency (0: unknown, metered), for its
 * promotion codes' minimum_amount. */
static int64_t item_amount(struct req *r, struct db *db, const struct sched_phase *p, int k)
{
	struct price_facts pf;
	int64_t a = 0;
	if (!p->items[k].quantity ||
	    price_facts_in(r, db, p->items[k].price, p->currency, &pf) != DB_OK ||
	    price_facts_amount(&pf, p->items[k].quantity, &a) != 0)
		return 0;
	return a;
}

/* Inside a write: the subscription's discounts become phase `to`'s, unless they are those of
 * phase `from` already (NULL: always), and each of its items' own discounts become those its
 * price has in `to` where they changed (an item `from` did not have starts with none). 0, or
 * -1 with r->err. */
static int phase_discounts_enter(struct req *r, struct db *db, const struct schedule *sc,
				 const struct sched_phase *from, const struct sched_phase *to,
				 int64_t t)
{
	int64_t total = 0;
	for (int k = 0; k < to->n_items; k++)
		if (__builtin_add_overflow(total, item_amount(r, db, to, k), &total))
			total = INT64_MAX;
	if (!from || !discs_same(from->ds, from->n_ds, to->ds, to->n_ds))
		if (discs_apply(r, db, sc, NULL, to->currency, to->ds, to->n_ds, total, t) != 0)
			return -1;
	for (int k = 0; k < to->n_items; k++) {
		const struct sched_item *was = NULL;
		for (int m = 0; from && m < from->n_items; m++)
			if (str_eq(from->items[m].price, to->items[k].price))
				was = &from->items[m];
		if (from && discs_same(was ? was->ds : NULL, was ? was->n_ds : 0, to->items[k].ds,
				       to->items[k].n_ds))
			continue;
		const char *item = NULL;
		if (item_of_price(r, db, sc->subscription, to->items[k].price, &item) != 0)
			return -1;
		if (item && discs_apply(r, db, sc, item, to->currency, to->items[k].ds,
					to->items[k].n_ds, item_amount(r, db, to, k), t) != 0)
			return -1;
	}
	return 0;
}

/* A phase's collection method: its own, else the schedule's default settings'. */
static bool phase_sends(const struct schedule *sc, const struct sched_phase *p)
{
	const char *cm = p->cm ? p->cm : sc->cm;
	return cm && str_eq(cm, "send_invoice");
}

static int64_t phase_days(const struct schedule *sc, const struct sched_phase *p)
{
	return p->has_days ? p->days : sc->has_days ? sc->days : 0;
}

/* A phase's account_tax_ids (a JSON array; NULL: none): its own, else the default settings' */
static const char *phase_atx(const struct schedule *sc, const struct sched_phase *p)
{
	const char *a = p->atx ? p->atx : sc->atx;
	return a && strcmp(a, "[]") != 0 ? a : NULL;
}

/* Inside a write: phase `to` entered (from phase `from`, or -1 when it is the same phase
 * changed by an update): its payment method, metadata, collection method and discounts on
 * the subscription. */
static int phase_enter(struct req *r, struct db *db, const struct schedule *sc,
		       const struct sched_phase *from, const struct sched_phase *to, int64_t t)
{
	if (!sc->subscription)
		return 0;
	if (subscription_phase_settings(r, db, sc->subscription, to->pm, to->metadata,
					phase_sends(sc, to), phase_days(sc, to),
					phase_auto_tax(sc, to), phase_atx(sc, to)) != 0)
		return -1;
	return phase_discounts_enter(r, db, sc, from, to, t);
}

static const char SQL_CUSTOMER_LIVE[] =
    "SELECT id FROM subscription_schedules WHERE merchant_id = $1 AND customer = $2"
    " AND (status = 'not_started' OR status = 'active') ORDER BY id LIMIT $3";

int subscription_schedules_cancel_for_customer(struct req *r, struct db *db, const char *customer)
{
	/* bounded: a test clock's customer holds few schedules; the rest would stay */
	enum { MAX = 100 };
	char(*ids)[ID_MAX] = arena_alloc(&r->arena, MAX * ID_MAX);
	struct schedule *sc = arena_alloc(&r->arena, sizeof(*sc));
	struct db_stmt *st = ids && sc ? db_prepare(db, SQL_CUSTOMER_LIVE) : NULL;
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, customer, -1);
	db_bind_int64(st, 3, MAX);
	int n = 0, rc;
	while (n < MAX && (rc = db_step(st)) == DB_ROW)
		str_copy(ids[n++], ID_MAX, db_col_text(st, 0, NULL));
	db_reset(st);
	if (rc < 0)
		return req_fail(r, ERR_API, NULL, NULL);
	for (int i = 0; i < n; i++) {
		int64_t now;
		if (sched_load(r, db, ids[i], sc) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (billing_now(r, db, sc->test_clock, &now) != 0)
			return -1;
		const struct schedule *old = sched_copy(r, sc);
		if (!old)
			return req_fail(r, ERR_API, NULL, NULL);
		sc->status = "canceled";
		sc->canceled_at = now;
		sc->next_action_at = 0;
		if (sched_save(r, db, sc) != 0 ||
		    sched_emit_prev(r, db, sc, "subscription_schedule.canceled", now, old) != 0)
			return -1;
	}
	return 0;
}

/* ---- parsing and checking phases ---- */

static const char *const proration_behaviors[] = {"always_invoice", "create_prorations", "none",
						  NULL};

static int discs_parse(struct req *r, const char *path, const char *shown,
		       const struct sched_disc **ret, int *ret_n);

/* A phase's add_invoice_items[] at dotted `path` (shown: its name in errors) into p: each a
 * `price` (price_data is not taken: its price would have to be made before the phase begins),
 * a quantity (1 by default) and discounts[]. 0, or -1 with r->err. */
static int adds_parse(struct req *r, const char *path, const char *shown, struct sched_phase *p)
{
	const struct form_node *list = param_node(r, path);
	int n = list ? (int)list->child_count : 0;
	p->n_add = 0;
	p->add = NULL;
	if (n == 0)
		return 0;
	if (n > SUB_FOR_SCHEDULE_ADD_MAX)
		return req_fail(r, ERR_PARAM_BAD, shown, "A phase can have at most %d %s.",
				SUB_FOR_SCHEDULE_ADD_MAX, "add_invoice_items");
	struct sched_add *add = arena_alloc(&r->arena, (size_t)n * sizeof(*add));
	if (!add)
		return req_fail(r, ERR_API, NULL, NULL);
	int k = 0;
	char sub[192];
	for (const struct form_node *y = list->first_child; y && k < n; y = y->next, k++) {
		struct sched_add *a = &add[k];
		memset(a, 0, sizeof(*a));
		const char *ashown = arena_printf(&r->arena, "%s[%d]", shown, k);
		snprintf(sub, sizeof(sub), "%s.%s.price_data", path, y->key);
		if (param_present(r, sub))
			return req_fail(r, ERR_PARAM_BAD,
					arena_printf(&r->arena, "%s[price_data]", ashown),
					"Tender schedules' add_invoice_items take a `price` (a "
					"one-time price), not price_data.");
		snprintf(sub, sizeof(sub), "%s.%s.price", path, y->key);
		a->price = param_str(r, sub);
		if (!a->price || !*a->price) {
			const char *ps = arena_printf(&r->arena, "%s[price]", ashown);
			return req_fail(r, ERR_PARAM_MISSING, ps, "%s", ps);
		}
		a->quantity = 1;
		snprintf(sub, sizeof(sub), "%s.%s.quantity", path, y->key);
		if (param_int(r, sub, &a->quantity) == 1 &&
		    (a->quantity < 1 || a->quantity > BILLING_QUANTITY_MAX))
			return req_fail(
			    r, ERR_PARAM_BAD, arena_printf(&r->arena, "%s[quantity]", ashown),
			    "Invalid quantity: must be between 1 and %d.", BILLING_QUANTITY_MAX);
		snprintf(sub, sizeof(sub), "%s.%s.discounts", path, y->key);
		if (discs_parse(r, sub, arena_printf(&r->arena, "%s[discounts]", ashown), &a->ds,
				&a->n_ds) != 0)
			return -1;
	}
	p->add = add;
	p->n_add = k;
	return 0;
}

/* The discounts[] at dotted `path` (shown: its name in errors) into *ret (r's arena): each
 * exactly one of coupon, promotion_code and discount, none named twice (their coupons are
 * checked against the store by discs_check). '' or none: no discounts. 0, or -1 with r->err. */
static int discs_parse(struct req *r, const char *path, const char *shown,
		       const struct sched_disc **ret, int *ret_n)
{
	*ret = NULL;
	*ret_n = 0;
	const struct form_node *dn = param_node(r, path);
	int n = dn ? (int)dn->child_count : 0;
	if (n == 0)
		return 0;
	if (n > DISCOUNTS_MAX)
		return req_fail(r, ERR_PARAM_BAD, shown, "At most %d discounts can be applied.",
				DISCOUNTS_MAX);
	struct sched_disc *ds = arena_alloc(&r->arena, (size_t)n * sizeof(*ds));
	if (!ds)
		return req_fail(r, ERR_API, NULL, NULL);
	int k = 0;
	char sub[192];
	for (const struct form_node *y = dn->first_child; y && k < n; y = y->next, k++) {
		struct sched_disc *d = &ds[k];
		memset(d, 0, sizeof(*d));
		snprintf(sub, sizeof(sub), "%s.%s.coupon", path, y->key);
		d->coupon = param_str(r, sub);
		snprintf(sub, sizeof(sub), "%s.%s.promotion_code", path, y->key);
		d->promotion_code = param_str(r, sub);
		snprintf(sub, sizeof(sub), "%s.%s.discount", path, y->key);
		d->discount = param_str(r, sub);
		if (d->coupon && !*d->coupon)
			d->coupon = NULL;
		if (d->promotion_code && !*d->promotion_code)
			d->promotion_code = NULL;
		if (d->discount && !*d->discount)
			d->discount = NULL;
		int given = !!d->coupon + !!d->promotion_code + !!d->discount;
		const char *eshown = arena_printf(&r->arena, "%s[%d]", shown, k);
		if (given != 1)
			return req_fail(r, given ? ERR_PARAM_BAD : ERR_PARAM_MISSING, eshown,
					"Specify exactly one of coupon, promotion_code and "
					"discount.");
		for (int m = 0; m < k; m++)
			if ((d->coupon && same(d->coupon, ds[m].coupon)) ||
			    (d->promotion_code && same(d->promotion_code, ds[m].promotion_code)) ||
			    (d->discount && same(d->discount, ds[m].discount)))
				return req_fail(r, ERR_PARAM_BAD, eshown,
						"The discount %s is applied twice.",
						d->coupon	    ? d->coupon
						: d->promotion_code ? d->promotion_code
								    : d->discount);
	}
	*ret = ds;
	*ret_n = k;
	return 0;
}

/* default_settings[collection_method] and [invoice_settings][days_until_due] of the request
 * on sc (a create's, or an update's over what sc had: a change to charge_automatically drops
 * the days). 0, or -1 with r->err. */
static int default_collection_parse(struct req *r, struct schedule *sc)
{
	const char *cm = param_str(r, "default_settings.collection_method");
	if (cm) {
		sc->cm = cm;
		if (!str_eq(cm, "send_invoice"))
			sc->has_days = false, sc->days = 0;
	}
	int64_t v;
	if (param_int(r, "default_settings.invoice_settings.days_until_due", &v) == 1) {
		if (v < 0 || v > INVOICE_DAYS_UNTIL_DUE_MAX)
			return req_fail(
			    r, ERR_PARAM_BAD, "default_settings[invoice_settings][days_until_due]",
			    "days_until_due must be between 0 and %d.", INVOICE_DAYS_UNTIL_DUE_MAX);
		sc->has_days = true;
		sc->days = v;
	}
	param_bool(r, "default_settings.automatic_tax.enabled", &sc->auto_tax);
	/* checked against the store by atx_check */
	if (param_present(r, "default_settings.invoice_settings.account_tax_ids")) {
		const char *t = NULL;
		if (string_array_json(r, "default_settings.invoice_settings.account_tax_ids", &t) !=
		    0)
			return -1;
		sc->atx = t && strcmp(t, "[]") != 0 ? t : NULL;
	}
	return 0;
}

/* Inside a transaction: the request's default_settings[invoice_settings][account_tax_ids] and
 * phases[n][invoice_settings][account_tax_ids] name the merchant's own tax ids (api/tax_ids.c).
 * 0, or -1 with r->err. */
static int atx_check(struct req *r, struct db *db)
{
	const char *ids = NULL;
	if (param_present(r, "default_settings.invoice_settings.account_tax_ids") &&
	    tax_ids_account_param(r, db, "default_settings.invoice_settings.account_tax_ids",
				  "default_settings[invoice_settings][account_tax_ids]", &ids) != 0)
		return -1;
	const struct form_node *phases = param_node(r, "phases");
	int n = 0;
	for (const struct form_node *x = phases ? phases->first_child : NULL; x; x = x->next, n++) {
		char path[96], shown[96];
		snprintf(path, sizeof(path), "phases.%d.invoice_settings.account_tax_ids", n);
		if (!param_present(r, path))
			continue;
		snprintf(shown, sizeof(shown), "phases[%d][invoice_settings][account_tax_ids]", n);
		if (tax_ids_account_param(r, db, path, shown, &ids) != 0)
			return -1;
	}
	return 0;
}

/* Stripe's rules on the collection settings, as a subscription's (subscriptions.c): send_invoice
 * needs days_until_due (a phase's own, else the default settings'), which charge_automatically
 * refuses; checked for the default settings and the phases from `first` on. 0, or -1 with
 * r->err. */
static int collection_check(struct req *r, const struct schedule *sc, int first)
{
	bool dsends = sc->cm && str_eq(sc->cm, "send_invoice");
	if (sc->has_days && !dsends)
		return req_fail(r, ERR_PARAM_BAD,
				"default_settings[invoice_settings][days_until_due]",
				"Invalid days_until_due: it can only be set when collection_method "
				"is send_invoice.");
	if (dsends && !sc->has_days)
		return req_fail(r, ERR_PARAM_MISSING,
				"default_settings[invoice_settings][days_until_due]",
				"default_settings[invoice_settings][days_until_due]");
	for (int i = first < 0 ? 0 : first; i < sc->n_phases; i++) {
		const struct sched_phase *p = &sc->phases[i];
		bool sends = phase_sends(sc, p);
		const char *shown =
		    arena_printf(&r->arena, "phases[%d][invoice_settings][days_until_due]", i);
		if (p->has_days && !sends)
			return req_fail(r, ERR_PARAM_BAD, shown,
					"Invalid days_until_due: it can only be set when "
					"collection_method is send_invoice.");
		if (sends && !p->has_days && !sc->has_days)
			return req_fail(r, ERR_PARAM_MISSING, shown, "%s", shown);
	}
	return 0;
}

/* phases[n] of the request → sc->phases (prices not yet checked, dates not yet computed).
 * 0, or -1 with r->err. */
static int phases_parse(struct req *r, struct schedule *sc)
{
	const char *pp = sc->phases_param ? sc->phases_param : "phases";
	const char *pshown = sc->phases_shown ? sc->phases_shown : "phases";
	const struct form_node *phases = param_node(r, pp);
	int n = 0;
	char path[96];
	for (const struct form_node *x = phases ? phases->first_child : NULL; x; x = x->next) {
		if (n == SCHEDULE_PHASES_MAX)
			return req_fail(r, ERR_PARAM_BAD, pshown,
					"A subscription schedule can have at most %d phases.",
					SCHEDULE_PHASES_MAX);
		struct sched_phase *p = &sc->phases[n];
		memset(p, 0, sizeof(*p));
		const char *shown = arena_printf(&r->arena, "%s[%d]", pshown, n);
		bool at = false;
		snprintf(path, sizeof(path), "%s.%d.automatic_tax.enabled", pp, n);
		p->auto_tax = param_bool(r, path, &at) == 1 ? (at ? 1 : 0) : -1;
		snprintf(path, sizeof(path), "%s.%d.proration_behavior", pp, n);
		p->proration_behavior = param_str(r, path);
		if (!p->proration_behavior)
			p->proration_behavior = "create_prorations";
		snprintf(path, sizeof(path), "%s.%d.default_payment_method", pp, n);
		p->pm = param_str(r, path);
		if (p->pm && !*p->pm)
			p->pm = NULL;
		snprintf(path, sizeof(path), "%s.%d.description", pp, n);
		p->description = param_str(r, path);
		if (p->description && !*p->description)
			p->description = NULL;
		snprintf(path, sizeof(path), "%s.%d.metadata", pp, n);
		if (param_present(r, path) && metadata_apply(r, NULL, path, &p->metadata) != 0)
			return -1;
		snprintf(path, sizeof(path), "%s.%d.collection_method", pp, n);
		p->cm = param_str(r, path);
		snprintf(path, sizeof(path), "%s.%d.invoice_settings.days_until_due", pp, n);
		if (param_int(r, path, &p->days) == 1) {
			if (p->days < 0 || p->days > INVOICE_DAYS_UNTIL_DUE_MAX)
				return req_fail(r, ERR_PARAM_BAD,
						arena_printf(&r->arena,
							     "%s[invoice_settings][days_until_due]",
							     shown),
						"days_until_due must be between 0 and %d.",
						INVOICE_DAYS_UNTIL_DUE_MAX);
			p->has_days = true;
		}
		snprintf(path, sizeof(path), "%s.%d.invoice_settings.account_tax_ids", pp, n);
		if (param_present(r, path) && string_array_json(r, path, &p->atx) != 0)
			return -1;
		snprintf(path, sizeof(path), "%s.%d.currency", pp, n);
		const char *cur = param_str(r, path);
		for (int k = 0; cur && k < 3 && cur[k]; k++)
			p->currency[k] =
			    (char)(cur[k] >= 'A' && cur[k] <= 'Z' ? cur[k] - 'A' + 'a' : cur[k]);
		snprintf(path, sizeof(path), "%s.%d.start_date", pp, n);
		const char *sd = param_str(r, path);
		if (sd && *sd && (parse_i64(sd, &p->start) != 0 || p->start <= 0))
			return req_fail(r, ERR_PARAM_INVALID_INTEGER,
					arena_printf(&r->arena, "%s[start_date]", shown), "%s", sd);
		snprintf(path, sizeof(path), "%s.%d.end_date", pp, n);
		const char *ed = param_str(r, path);
		if (ed && *ed && (parse_i64(ed, &p->end) != 0 || p->end <= 0))
			return req_fail(r, ERR_PARAM_INVALID_INTEGER,
					arena_printf(&r->arena, "%s[end_date]", shown), "%s", ed);
		snprintf(path, sizeof(path), "%s.%d.iterations", pp, n);
		if (param_int(r, path, &p->iterations) == 1) {
			if (p->iterations < 1 || p->iterations > ITERATIONS_MAX)
				return req_fail(r, ERR_PARAM_BAD,
						arena_printf(&r->arena, "%s[iterations]", shown),
						"iterations must be between 1 and %d.",
						ITERATIONS_MAX);
			if (p->end)
				return req_fail(r, ERR_PARAM_BAD,
						arena_printf(&r->arena, "%s[iterations]", shown),
						"You may only specify one of end_date and "
						"iterations.");
		}
		bool trial = false;
		snprintf(path, sizeof(path), "%s.%d.trial", pp, n);
		param_bool(r, path, &trial);
		snprintf(path, sizeof(path), "%s.%d.trial_end", pp, n);
		const char *te = param_str(r, path);
		if (te && *te) {
			if (parse_i64(te, &p->trial_end) != 0 || p->trial_end <= 0)
				return req_fail(r, ERR_PARAM_INVALID_INTEGER,
						arena_printf(&r->arena, "%s[trial_end]", shown),
						"%s", te);
			if (trial)
				return req_fail(r, ERR_PARAM_BAD,
						arena_printf(&r->arena, "%s[trial]", shown),
						"You may only specify one of trial and trial_end.");
		}
		if (trial)
			p->trial_end = -1; /* the phase's end, once computed */
		if (p->trial_end && n > 0)
			return req_fail(r, ERR_PARAM_BAD,
					arena_printf(&r->arena, "%s[trial_end]", shown),
					"Tender schedules take a trial in their first phase only.");
		snprintf(path, sizeof(path), "%s.%d.items", pp, n);
		const struct form_node *items = param_node(r, path);
		for (const struct form_node *y = items ? items->first_child : NULL; y;
		     y = y->next) {
			if (p->n_items == SCHEDULE_ITEMS_MAX)
				return req_fail(
				    r, ERR_PARAM_BAD, arena_printf(&r->arena, "%s[items]", shown),
				    "A phase can have at most %d items.", SCHEDULE_ITEMS_MAX);
			int k = p->n_items;
			struct sched_item *it = &p->items[p->n_items++];
			snprintf(path, sizeof(path), "%s.%d.items.%d.price", pp, n, k);
			it->price = param_str(r, path);
			if (!it->price || !*it->price)
				return req_fail(
				    r, ERR_PARAM_MISSING,
				    arena_printf(&r->arena, "%s[items][%d][price]", shown, k),
				    "%s[items][%d][price]", shown, k);
			it->quantity = 1;
			snprintf(path, sizeof(path), "%s.%d.items.%d.quantity", pp, n, k);
			it->quantity_given = param_int(r, path, &it->quantity) == 1;
			if (it->quantity_given &&
			    (it->quantity < 1 || it->quantity > BILLING_QUANTITY_MAX))
				return req_fail(
				    r, ERR_PARAM_BAD,
				    arena_printf(&r->arena, "%s[items][%d][quantity]", shown, k),
				    "Invalid quantity: must be between 1 and %d.",
				    BILLING_QUANTITY_MAX);
			it->metadata = "{}";
			snprintf(path, sizeof(path), "%s.%d.items.%d.metadata", pp, n, k);
			if (metadata_apply(r, NULL, path, &it->metadata) != 0)
				return -1;
			snprintf(path, sizeof(path), "%s.%d.items.%d.discounts", pp, n, k);
			if (discs_parse(
				r, path,
				arena_printf(&r->arena, "%s[items][%d][discounts]", shown, k),
				&it->ds, &it->n_ds) != 0)
				return -1;
			for (int m = 0; m < k; m++)
				if (strcmp(p->items[m].price, it->price) == 0)
					return req_fail(
					    r, ERR_PARAM_BAD,
					    arena_printf(&r->arena, "%s[items][%d][price]", shown,
							 k),
					    "Cannot add multiple subscription items with the same "
					    "price: %s.",
					    it->price);
		}
		snprintf(path, sizeof(path), "%s.%d.discounts", pp, n);
		if (discs_parse(r, path, arena_printf(&r->arena, "%s[discounts]", shown), &p->ds,
				&p->n_ds) != 0)
			return -1;
		snprintf(path, sizeof(path), "%s.%d.add_invoice_items", pp, n);
		if (adds_parse(r, path, arena_printf(&r->arena, "%s[add_invoice_items]", shown),
			       p) != 0)
			return -1;
		if (p->n_items == 0)
			return req_fail(r, ERR_PARAM_MISSING,
					arena_printf(&r->arena, "%s[items]", shown), "%s[items]",
					shown);
		n++;
	}
	if (n == 0)
		return req_fail(r, ERR_PARAM_MISSING, pshown, "%s", pshown);
	sc->n_phases = n;
	return 0;
}

/* Item k of phase i, its price metered (backed by a billing meter): no quantity (its usage is
 * its quantity, billed in arrears by the subscription; a later phase that brings it in adds it
 * to the subscription by a change, its usage counted from the phase's start). 0, or -1 with
 * r->err. */
static int metered_item_check(struct req *r, struct schedule *sc, int i, int k, const char *shown)
{
	struct sched_item *it = &sc->phases[i].items[k];
	if (it->quantity_given)
		return req_fail(r, ERR_PARAM_BAD,
				arena_printf(&r->arena, "%s[items][%d][quantity]", shown, k),
				"Quantity should not be specified where usage_type is `metered`. "
				"Remove quantity from `%s[items][%d]`.",
				shown, k);
	it->quantity = 0;
	return 0;
}

static int discs_check(struct req *r, struct db *db, const struct schedule *sc,
		       const char *currency, const struct sched_disc *ds, int n, const char *shown,
		       const char *owner, int64_t amount);

/* What phase p's add_invoice_items[k] bills: its price's unit amount in the phase's currency
 * × its quantity, into *ret. The price must be an active one-time per-unit price in that
 * currency (its own or a currency_options entry). 0, or -1 with r->err (shown: the phase). */
static int add_amount(struct req *r, struct db *db, const struct sched_phase *p, int k,
		      const char *shown, int64_t *ret)
{
	const struct sched_add *a = &p->add[k];
	const char *ps = arena_printf(&r->arena, "%s[add_invoice_items][%d][price]", shown, k);
	struct price_facts pf;
	int rc = price_facts_in(r, db, a->price, p->currency, &pf);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "price", a->price, ps);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!pf.active || !pf.product_active)
		return req_fail(r, ERR_PARAM_BAD, ps,
				"The price specified (%s) is inactive. This field only accepts "
				"active prices.",
				a->price);
	if (pf.recurring)
		return req_fail(
		    r, ERR_PARAM_BAD, ps,
		    "The price specified is set to `type=recurring` but this field only "
		    "accepts prices with `type=one_time`.");
	if (pf.tiers || !pf.has_unit_amount || !str_eq(pf.currency, p->currency))
		return req_fail(r, ERR_PARAM_BAD, ps,
				"The price %s must be a one-time per-unit price of a whole unit "
				"amount in %s (its own currency or a currency_options entry).",
				a->price, p->currency);
	if (__builtin_mul_overflow(pf.unit_amount, a->quantity, ret) || *ret > BILLING_AMOUNT_MAX)
		return req_fail(
		    r, ERR_AMOUNT_TOO_LARGE,
		    arena_printf(&r->arena, "%s[add_invoice_items][%d][quantity]", shown, k),
		    "An invoice item's amount must be at most %lld.",
		    (long long)BILLING_AMOUNT_MAX);
	return 0;
}

/* Inside a read: phase p's add_invoice_items[k] can be billed (add_amount) and its discounts
 * taken (discs_check against its amount; a discount can name none: the item is new). 0, or -1
 * with r->err. */
static int add_check(struct req *r, struct db *db, const struct schedule *sc,
		     const struct sched_phase *p, int k, const char *shown)
{
	int64_t amount;
	if (add_amount(r, db, p, k, shown, &amount) != 0)
		return -1;
	if (p->add[k].n_ds && amount <= 0)
		return req_fail(
		    r, ERR_PARAM_BAD,
		    arena_printf(&r->arena, "%s[add_invoice_items][%d][discounts]", shown, k),
		    "Discounts apply to a discountable item of a positive amount.");
	return discs_check(
	    r, db, sc, p->currency, p->add[k].ds, p->add[k].n_ds,
	    arena_printf(&r->arena, "%s[add_invoice_items][%d][discounts]", shown, k), NULL,
	    amount);
}

/* Inside a read: discounts ds of a phase in `currency` (or of one of its items) can be taken
 * as the subscription's create or update takes them (discounts_resolve: each coupon exists,
 * is valid and fits the currency; a promotion code is active, for this customer and reached
 * by `amount`, what the phase or item bills a period; a discount is one of `owner`'s, the
 * subscription or the item the phase's item is: NULL, none exists yet to name). 0, or -1 with
 * r->err naming the parameter. */
static int discs_check(struct req *r, struct db *db, const struct schedule *sc,
		       const char *currency, const struct sched_disc *ds, int n, const char *shown,
		       const char *owner, int64_t amount)
{
	if (n == 0)
		return 0;
	struct discount_spec spec;
	discs_spec(r, ds, n, shown, &spec);
	struct discount *out = arena_alloc(&r->arena, DISCOUNTS_MAX * sizeof(*out));
	int got = 0;
	if (!out)
		return req_fail(r, ERR_API, NULL, NULL);
	return discounts_resolve(r, db, &spec, sc->customer, currency, amount, owner, r->now, out,
				 &got);
}

/* Inside a transaction: every phase's prices checked (active, recurring, licensed per-unit,
 * one currency and one interval in a phase, one currency in the schedule), its payment method
 * attached to the customer, and its dates computed from `start` on. first_start_fixed: the
 * first phase's start_date, when given, must be `start` (an active schedule's current phase).
 * A phase's currency: its `currency`, else the first phase's, else `fixed` (an active
 * schedule's: its subscription's; NULL: none), else its first price's own; its prices are read
 * in it, their own amounts or a currency_options entry for it, as a subscription's.
 * 0, or -1 with r->err. */
static int phases_check(struct req *r, struct db *db, struct schedule *sc, int64_t start,
			const char *fixed)
{
	char sched_currency[8] = "";
	/* the previous phase's interval, which the next keeps when that one has metered prices */
	bool prev_metered = false;
	char prev_interval[8] = "";
	int64_t prev_count = 0;
	for (int i = 0; i < sc->n_phases; i++) {
		struct sched_phase *p = &sc->phases[i];
		const char *shown = arena_printf(&r->arena, "%s[%d]",
						 sc->phases_shown ? sc->phases_shown : "phases", i);
		char interval[8] = "";
		int64_t interval_count = 0;
		bool metered_here = false;
		int64_t amounts[SCHEDULE_ITEMS_MAX];
		if (i == 0 && fixed && *fixed && p->currency[0] && !str_eq(p->currency, fixed))
			return req_fail(r, ERR_PARAM_BAD,
					arena_printf(&r->arena, "%s[currency]", shown),
					"The schedule's subscription bills in %s; its phases "
					"bill in it.",
					fixed);
		/* not given: the first phase's, an active schedule's subscription's, else ("")
		 * the first price's own currency, which the others share */
		bool given = p->currency[0] != '\0';
		char want[8] = "";
		if (given)
			str_copy(want, sizeof(want), p->currency);
		else if (i > 0)
			str_copy(want, sizeof(want), sched_currency);
		else if (fixed)
			str_copy(want, sizeof(want), fixed);
		for (int k = 0; k < p->n_items; k++) {
			struct price_facts pf;
			const char *ishown =
			    arena_printf(&r->arena, "%s[items][%d][price]", shown, k);
			int rc = price_facts_in(r, db, p->items[k].price, want, &pf);
			if (rc == DB_NOTFOUND)
				return req_fail_missing(r, "price", p->items[k].price, ishown);
			if (rc != DB_OK)
				return req_fail(r, ERR_API, NULL, NULL);
			if (!pf.active || !pf.product_active)
				return req_fail(r, ERR_PARAM_BAD, ishown,
						"The price specified (%s) is inactive. This field "
						"only accepts active prices.",
						p->items[k].price);
			bool metered = pf.meter != NULL;
			/* per-unit (an integer or sub-cent decimal unit amount) or tiered, as a
			 * subscription's */
			if (!pf.recurring ||
			    !(pf.has_unit_amount || pf.tiers || pf.unit_amount_decimal) ||
			    !(str_eq(pf.usage_type, "licensed") || metered))
				return req_fail(
				    r, ERR_PARAM_BAD, ishown,
				    "Tender schedules take recurring licensed per-unit or "
				    "tiered prices, or metered ones backed by a billing meter; "
				    "%s is not one.",
				    p->items[k].price);
			if (metered && metered_item_check(r, sc, i, k, shown) != 0)
				return -1;
			metered_here = metered_here || metered;
			/* what it bills a period, for promotion codes' minimum_amount (a metered
			 * one's usage is not known yet) */
			amounts[k] = 0;
			if (!metered &&
			    price_facts_amount(&pf, p->items[k].quantity, &amounts[k]) != 0)
				amounts[k] = 0;
			if (given && !str_eq(want, pf.currency))
				return req_fail(r, ERR_PARAM_BAD, ishown,
						"The price specified (%s) is in %s and has no "
						"currency_options entry for %s, the phase's "
						"currency.",
						p->items[k].price, pf.currency, want);
			if (k == 0) {
				str_copy(interval, sizeof(interval), pf.interval);
				interval_count = pf.interval_count;
				str_copy(p->currency, sizeof(p->currency), pf.currency);
			} else if (strcmp(pf.currency, p->currency) != 0) {
				return req_fail(r, ERR_PARAM_BAD, ishown,
						"All of a phase's prices must be in the same "
						"currency (%s).",
						p->currency);
			} else if (strcmp(pf.interval, interval) != 0 ||
				   pf.interval_count != interval_count) {
				return req_fail(
				    r, ERR_PARAM_BAD, ishown,
				    "All of a phase's prices must have the same billing "
				    "interval (every %lld %s).",
				    (long long)interval_count, interval);
			}
		}
		if (i > 0 && prev_metered &&
		    (strcmp(interval, prev_interval) != 0 || interval_count != prev_count)) {
			/* a new interval starts a new period at once, which would leave the
			 * metered items' usage unbilled: the subscription refuses it */
			return req_fail(r, ERR_PARAM_BAD,
					arena_printf(&r->arena, "%s[items]", shown),
					"A phase after one with metered prices keeps its billing "
					"interval (every %lld %s).",
					(long long)prev_count, prev_interval);
		}
		str_copy(prev_interval, sizeof(prev_interval), interval);
		prev_count = interval_count;
		prev_metered = metered_here;
		if (i == 0 && fixed && *fixed && !str_eq(p->currency, fixed))
			return req_fail(r, ERR_PARAM_BAD, arena_printf(&r->arena, "%s", shown),
					"The schedule's subscription bills in %s: its phases' "
					"prices must be in it, their own currency or a "
					"currency_options entry.",
					fixed);
		if (i == 0)
			str_copy(sched_currency, sizeof(sched_currency), p->currency);
		else if (strcmp(sched_currency, p->currency) != 0)
			return req_fail(r, ERR_PARAM_BAD, arena_printf(&r->arena, "%s", shown),
					"Every phase of a Tender schedule bills in one currency "
					"(%s): its prices' own or a currency_options entry for it.",
					sched_currency);
		if (p->pm) {
			struct pm_card pc;
			int rc = pm_load(db, r->merchant_id, p->pm, &pc);
			if (rc == DB_NOTFOUND)
				return req_fail_missing(
				    r, "payment_method", p->pm,
				    arena_printf(&r->arena, "%s[default_payment_method]", shown));
			if (rc != DB_OK)
				return req_fail(r, ERR_API, NULL, NULL);
			if (strcmp(pc.customer, sc->customer) != 0)
				return req_fail(
				    r, ERR_PARAM_BAD,
				    arena_printf(&r->arena, "%s[default_payment_method]", shown),
				    "The customer does not have a payment method with the ID %s. "
				    "The payment method must be attached to the customer.",
				    p->pm);
		}
		/* its discounts, and its items' own, as the subscription will take them */
		int64_t phase_amount = 0;
		for (int k = 0; k < p->n_items; k++)
			if (__builtin_add_overflow(phase_amount, amounts[k], &phase_amount))
				phase_amount = INT64_MAX;
		if (discs_check(r, db, sc, p->currency, p->ds, p->n_ds,
				arena_printf(&r->arena, "%s[discounts]", shown), sc->subscription,
				phase_amount) != 0)
			return -1;
		for (int k = 0; k < p->n_items; k++) {
			if (!p->items[k].n_ds)
				continue;
			const char *owner = NULL;
			if (sc->subscription &&
			    item_of_price(r, db, sc->subscription, p->items[k].price, &owner) != 0)
				return -1;
			if (discs_check(
				r, db, sc, p->currency, p->items[k].ds, p->items[k].n_ds,
				arena_printf(&r->arena, "%s[items][%d][discounts]", shown, k),
				owner, amounts[k]) != 0)
				return -1;
		}
		for (int k = 0; k < p->n_add; k++)
			if (add_check(r, db, sc, p, k, shown) != 0)
				return -1;
		/* the dates */
		int64_t ps = i == 0 ? start : sc->phases[i - 1].end;
		if (i == 0 && p->start && p->start != start)
			return req_fail(r, ERR_PARAM_BAD,
					arena_printf(&r->arena, "%s[start_date]", shown),
					"The first phase starts at the schedule's start (%lld).",
					(long long)start);
		p->start = ps;
		if (p->end) {
			if (p->end <= ps)
				return req_fail(r, ERR_PARAM_BAD,
						arena_printf(&r->arena, "%s[end_date]", shown),
						"The phase must end after it starts (%lld).",
						(long long)ps);
		} else {
			int64_t iters = p->iterations;
			if (!iters && i + 1 < sc->n_phases)
				return req_fail(r, ERR_PARAM_MISSING,
						arena_printf(&r->arena, "%s[end_date]", shown),
						"Every phase but the last needs end_date or "
						"iterations.");
			if (!iters)
				iters = 1;
			enum billing_interval iv;
			if (billing_interval_parse(interval, &iv) != 0 ||
			    billing_period_end(ps, iv, interval_count, iters, &p->end) != 0)
				return req_fail(r, ERR_PARAM_BAD,
						arena_printf(&r->arena, "%s[iterations]", shown),
						"The phase's end is out of range.");
		}
		if (p->trial_end == -1)
			p->trial_end = p->end;
		if (p->trial_end && (p->trial_end <= ps || p->trial_end > p->end))
			return req_fail(r, ERR_PARAM_BAD,
					arena_printf(&r->arena, "%s[trial_end]", shown),
					"The trial must end inside its phase.");
		/* a phase change rewrites at most a subscription's items: the next phase's, and
		 * this one's that it drops */
		if (i > 0) {
			const struct sched_phase *q = &sc->phases[i - 1];
			int dropped = 0;
			for (int k = 0; k < q->n_items; k++) {
				bool kept = false;
				for (int m = 0; m < p->n_items; m++)
					kept = kept || str_eq(q->items[k].price, p->items[m].price);
				dropped += !kept;
			}
			if (dropped + p->n_items > SUB_ITEMS_MAX)
				return req_fail(
				    r, ERR_PARAM_BAD, arena_printf(&r->arena, "%s", shown),
				    "A phase change can replace at most %d items.", SUB_ITEMS_MAX);
		}
	}
	return 0;
}

/* The customer's time and clock (a test clock must be ready). */
static int customer_time(struct req *r, struct db *db, struct schedule *sc, int64_t *ret_now)
{
	struct billing_customer cf;
	if (billing_customer_get(r, db, sc->customer, &cf) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!cf.found)
		return req_fail_missing(r, "customer", sc->customer, "customer");
	int64_t now = r->now;
	sc->test_clock = NULL;
	if (cf.test_clock) {
		struct test_clock clk;
		if (test_clock_load(r, db, cf.test_clock, &clk) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (!str_eq(clk.status, "ready"))
			return req_fail(r, ERR_INVALID_STATE, "customer",
					"The customer's test clock %s is advancing: wait until "
					"it is ready.",
					clk.id);
		now = clk.frozen_time;
		sc->test_clock = cf.test_clock;
	}
	*ret_now = now;
	return 0;
}

/* ---- create ---- */

struct create_ctx {
	struct req *r;
	struct schedule *sc;
	const char *start_param; /* start_date as given (NULL, "now" or a timestamp) */
	bool start_now;
	const char *from_sub;
	struct sub_for_schedule x;
};

static int create_read_fn(struct db *db, void *p)
{
	struct create_ctx *c = p;
	struct req *r = c->r;
	struct schedule *sc = c->sc;
	int64_t now = 0;
	if (customer_time(r, db, sc, &now) != 0 || atx_check(r, db) != 0)
		return -1;
	int64_t start = now;
	c->start_now = true;
	if (c->start_param && !str_eq(c->start_param, "now")) {
		if (parse_i64(c->start_param, &start) != 0)
			return req_fail(r, ERR_PARAM_INVALID_INTEGER, "start_date", "%s",
					c->start_param);
		/* a few seconds of skew between the caller's clock and ours are now */
		if (start < now - 60)
			return req_fail(r, ERR_PARAM_BAD, "start_date",
					"Tender does not backdate schedules: start_date must be "
					"now or in the future.");
		c->start_now = start <= now;
		if (c->start_now)
			start = now;
	}
	if (sc->default_pm) {
		struct pm_card pc;
		int rc = pm_load(db, r->merchant_id, sc->default_pm, &pc);
		if (rc == DB_NOTFOUND)
			return req_fail_missing(r, "payment_method", sc->default_pm,
						"default_settings[default_payment_method]");
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (strcmp(pc.customer, sc->customer) != 0)
			return req_fail(r, ERR_PARAM_BAD,
					"default_settings[default_payment_method]",
					"The customer does not have a payment method with the ID "
					"%s. The payment method must be attached to the customer.",
					sc->default_pm);
	}
	if (phases_check(r, db, sc, start, NULL) != 0)
		return -1;
	sc->created = now;
	id_new_at(sc->id, "sub_sched_", now);
	if (c->start_now) {
		sc->status = "active";
		sc->current_phase = 0;
		sc->next_action_at = sc->phases[0].end;
	} else {
		sc->status = "not_started";
		sc->current_phase = -1;
		sc->next_action_at = start;
	}
	return 0;
}

/* The schedule's row, inside the write that makes its subscription (before its rows). */
static int create_before(struct req *r, struct db *db, void *p)
{
	struct create_ctx *c = p;
	c->sc->subscription = c->x.id;
	if (sched_insert(r, db, c->sc) != 0)
		return -1;
	return sched_emit(r, db, c->sc, "subscription_schedule.created", c->sc->created);
}

static int create_answer(struct req *r, struct db *db, void *p)
{
	struct create_ctx *c = p;
	return sched_answer(r, db, c->sc->id);
}

/* a schedule that starts later: its row alone */
static int create_later_fn(struct db *db, void *p)
{
	struct create_ctx *c = p;
	struct req *r = c->r;
	if (sched_insert(r, db, c->sc) != 0 ||
	    sched_emit(r, db, c->sc, "subscription_schedule.created", c->sc->created) != 0)
		return -1;
	return sched_answer(r, db, c->sc->id);
}

/* The first phase as the subscription the schedule makes: its discounts the subscription's,
 * its items' the items' own (r's arena). */
static void first_phase_sub(struct req *r, struct schedule *sc, struct sub_for_schedule *x)
{
	const struct sched_phase *p = &sc->phases[0];
	const char *shown =
	    arena_printf(&r->arena, "%s[0]", sc->phases_shown ? sc->phases_shown : "phases");
	x->customer = sc->customer;
	x->pm = p->pm ? p->pm : sc->default_pm;
	x->metadata = p->metadata;
	x->n_items = p->n_items;
	for (int k = 0; k < p->n_items; k++) {
		x->items[k].price = p->items[k].price;
		x->items[k].quantity = p->items[k].quantity;
		x->items[k].discounts = NULL;
		struct discount_spec *spec = NULL;
		if (p->items[k].n_ds && (spec = arena_alloc(&r->arena, sizeof(*spec))))
			discs_spec(r, p->items[k].ds, p->items[k].n_ds,
				   arena_printf(&r->arena, "%s[items][%d][discounts]",
						shown ? shown : "phases[0]", k),
				   spec);
		/* (no memory: the create's own allocations fail next and answer it) */
		x->items[k].discounts = spec;
	}
	x->n_add = 0;
	for (int k = 0; k < p->n_add && k < SUB_FOR_SCHEDULE_ADD_MAX; k++) {
		struct discount_spec *spec = NULL;
		if (p->add[k].n_ds && (spec = arena_alloc(&r->arena, sizeof(*spec))))
			discs_spec(r, p->add[k].ds, p->add[k].n_ds,
				   arena_printf(&r->arena, "%s[add_invoice_items][%d][discounts]",
						shown ? shown : "phases[0]", k),
				   spec);
		x->add[x->n_add].price = p->add[k].price;
		x->add[x->n_add].quantity = p->add[k].quantity;
		x->add[x->n_add].discounts = spec;
		x->n_add++;
	}
	x->trial_end = p->trial_end;
	x->sends = phase_sends(sc, p);
	x->days_until_due = phase_days(sc, p);
	x->automatic_tax = phase_auto_tax(sc, p);
	x->account_tax_ids = phase_atx(sc, p);
	x->currency = p->currency; /* its prices' own, or their currency_options' */
	x->flexible = sc->flexible;
	x->proration_discounts = sc->pd;
	discs_spec(r, p->ds, p->n_ds,
		   arena_printf(&r->arena, "%s[discounts]", shown ? shown : "phases[0]"),
		   &x->discounts);
	x->discounts.present = p->n_ds > 0;
}

/* from_subscription: the subscription as the schedule's one phase, its current period */
static int from_sub_fn(struct db *db, void *p)
{
	struct create_ctx *c = p;
	struct req *r = c->r;
	struct schedule *sc = c->sc;
	struct db_stmt *st = db_prepare(db, SQL_SUB_FACTS);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, c->from_sub, -1);
	int rc = db_step(st);
	const char *status = NULL;
	char sub_currency[8] = "";
	struct sched_phase *ph = &sc->phases[0];
	memset(ph, 0, sizeof(*ph));
	ph->auto_tax = -1;
	if (rc == DB_ROW) {
		str_copy(sub_currency, sizeof(sub_currency), db_col_text(st, 9, NULL));
		sc->customer = col_text_dup(&r->arena, st, 0);
		status = col_text_dup(&r->arena, st, 1);
		ph->start = db_col_int64(st, 2);
		ph->end = db_col_int64(st, 3);
		ph->trial_end = db_col_int64_or0(st, 4);
		sc->test_clock = col_text_dup(&r->arena, st, 5);
		/* its collection method, the schedule's default settings' and its phase's */
		const char *cm = db_col_text(st, 6, NULL);
		if (cm && str_eq(cm, "send_invoice")) {
			sc->cm = ph->cm = "send_invoice";
			sc->has_days = ph->has_days = true;
			sc->days = ph->days = db_col_int64_or0(st, 7);
		}
		/* its automatic tax, the default settings' (the phase takes them) */
		sc->auto_tax = db_col_int64_or0(st, 8) != 0;
		/* its invoice_settings[account_tax_ids], likewise */
		sc->atx = col_text_dup(&r->arena, st, 10);
		/* its billing mode (and since when) */
		sc->flexible = str_eq(db_col_text(st, 11, NULL), "flexible");
		sc->mode_at = db_col_int64_or0(st, 12);
		sc->pd = str_eq(db_col_text(st, 13, NULL), "itemized") ? "itemized" : NULL;
	}
	db_reset(st);
	if (rc == DB_DONE)
		return req_fail_missing(r, "subscription", c->from_sub, "from_subscription");
	if (rc != DB_ROW || !sc->customer || !status)
		return req_fail(r, ERR_API, NULL, NULL);
	if (str_eq(status, "canceled") || str_eq(status, "incomplete_expired") ||
	    str_eq(status, "incomplete"))
		return req_fail(r, ERR_INVALID_STATE, "from_subscription",
				"A %s subscription cannot be managed by a schedule.", status);
	const char *other;
	if (subscription_schedule_of(r, db, c->from_sub, &other) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	if (other)
		return req_fail(r, ERR_INVALID_STATE, "from_subscription",
				"The subscription %s is already managed by the subscription "
				"schedule %s.",
				c->from_sub, other);
	if (ph->trial_end && ph->trial_end < ph->start)
		ph->trial_end = 0;
	ph->proration_behavior = "create_prorations";
	st = db_prepare(db, SQL_SUB_ITEMS);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, c->from_sub, -1);
	db_bind_int64(st, 3, SCHEDULE_ITEMS_MAX);
	while (ph->n_items < SCHEDULE_ITEMS_MAX && (rc = db_step(st)) == DB_ROW) {
		struct sched_item *it = &ph->items[ph->n_items++];
		it->price = col_text_dup(&r->arena, st, 1);
		it->quantity = db_col_int64(st, 2);
		it->metadata = "{}";
	}
	db_reset(st);
	if (rc < 0 || ph->n_items == 0 || !ph->items[0].price)
		return req_fail(r, ERR_API, NULL, NULL);
	struct price_facts pf;
	if (price_facts_get(r, db, ph->items[0].price, &pf) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* the phase bills in the subscription's currency: its prices' own or, for one made with
	 * `currency`, their currency_options entry for it */
	str_copy(ph->currency, sizeof(ph->currency), sub_currency[0] ? sub_currency : pf.currency);
	sc->n_phases = 1;
	int64_t now;
	if (billing_now(r, db, sc->test_clock, &now) != 0)
		return -1;
	if (sc->test_clock) {
		struct test_clock clk;
		if (test_clock_load(r, db, sc->test_clock, &clk) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (!str_eq(clk.status, "ready"))
			return req_fail(r, ERR_INVALID_STATE, "from_subscription",
					"The subscription's test clock %s is advancing: wait "
					"until it is ready.",
					clk.id);
	}
	sc->created = now;
	id_new_at(sc->id, "sub_sched_", now);
	sc->status = "active";
	sc->current_phase = 0;
	sc->subscription = c->from_sub;
	sc->next_action_at = ph->end;
	if (sched_insert(r, db, sc) != 0 ||
	    sched_emit(r, db, sc, "subscription_schedule.created", now) != 0)
		return -1;
	return sched_answer(r, db, sc->id);
}

static int h_create(struct req *r)
{
	struct create_ctx *c = arena_alloc(&r->arena, sizeof(*c));
	struct schedule *sc = arena_alloc(&r->arena, sizeof(*sc));
	if (!c || !sc)
		return req_fail(r, ERR_API, NULL, NULL);
	memset(c, 0, sizeof(*c));
	memset(sc, 0, sizeof(*sc));
	c->r = r;
	c->sc = sc;
	sc->version = 1;
	sc->metadata = "{}";
	if (metadata_apply(r, NULL, "metadata", &sc->metadata) != 0)
		return -1;
	sc->end_behavior = param_str(r, "end_behavior");
	if (!sc->end_behavior)
		sc->end_behavior = "release";
	if (!str_eq(sc->end_behavior, "release") && !str_eq(sc->end_behavior, "cancel"))
		return req_fail(r, ERR_PARAM_BAD, "end_behavior",
				"Tender schedules end by release or cancel.");
	sc->default_pm = param_str(r, "default_settings.default_payment_method");
	if (sc->default_pm && !*sc->default_pm)
		sc->default_pm = NULL;
	c->from_sub = param_str(r, "from_subscription");
	if (c->from_sub) {
		static const char *const alone[] = {"customer",		"phases",
						    "start_date",	"end_behavior",
						    "default_settings", "billing_mode"};
		for (size_t i = 0; i < sizeof(alone) / sizeof(alone[0]); i++)
			if (param_present(r, alone[i]))
				return req_fail(
				    r, ERR_PARAM_BAD, alone[i],
				    "You cannot set '%s' if 'from_subscription' is set.", alone[i]);
		return req_write(r, from_sub_fn, c);
	}
	sc->customer = param_str(r, "customer");
	if (!sc->customer)
		return req_fail(r, ERR_PARAM_MISSING, "customer", "customer");
	const char *pd;
	if (subscription_billing_mode_param_pd(r, "billing_mode", "billing_mode", &sc->flexible,
					       &pd) != 0)
		return -1;
	sc->pd = str_eq(pd, "itemized") ? "itemized" : NULL;
	c->start_param = param_str(r, "start_date");
	if (default_collection_parse(r, sc) != 0 || phases_parse(r, sc) != 0 ||
	    collection_check(r, sc, 0) != 0)
		return -1;
	if (req_read(r, create_read_fn, c) != 0)
		return -1;
	if (!c->start_now)
		return req_write(r, create_later_fn, c);
	first_phase_sub(r, sc, &c->x);
	c->x.before = create_before;
	c->x.answer = create_answer;
	c->x.ctx = c;
	return subscription_create_for_schedule(r, &c->x);
}

/* A new schedule previewed (invoice_preview.c: create_preview's schedule_details without
 * `schedule`): schedule_details[phases] parsed as a create's phases (phases_parse), checked
 * from their start (phases[0][start_date], else now) as the create checks them in its read
 * (phases_check), and the first phase as the subscription the schedule makes then
 * (first_phase_sub) into x, *ret_start its start. Inside the preview's read; nothing is
 * written. 0, or -1 with r->err. */
int subscription_schedule_new_preview(struct req *r, struct db *db, const char *customer,
				      struct sub_for_schedule *x, int64_t *ret_start)
{
	struct schedule *sc = arena_alloc(&r->arena, sizeof(*sc));
	if (!sc)
		return req_fail(r, ERR_API, NULL, NULL);
	memset(sc, 0, sizeof(*sc));
	sc->customer = customer;
	sc->metadata = "{}";
	sc->phases_param = "schedule_details.phases";
	sc->phases_shown = "schedule_details[phases]";
	int64_t now;
	if (phases_parse(r, sc) != 0 || collection_check(r, sc, 0) != 0 ||
	    customer_time(r, db, sc, &now) != 0)
		return -1;
	/* as the create's start_date: now (a few seconds of skew included) or later */
	int64_t start = sc->phases[0].start ? sc->phases[0].start : now;
	if (start < now - 60)
		return req_fail(r, ERR_PARAM_BAD, "schedule_details[phases][0][start_date]",
				"Tender does not backdate schedules: start_date must be now or in "
				"the future.");
	if (start <= now) {
		start = now;
		sc->phases[0].start = 0;
	}
	if (phases_check(r, db, sc, start, NULL) != 0)
		return -1;
	/* the first invoice's setup items are not among a preview's lines */
	if (sc->phases[0].n_add)
		return req_fail(r, ERR_PARAM_BAD, "schedule_details[phases][0][add_invoice_items]",
				"Tender does not preview a first phase's add_invoice_items.");
	memset(x, 0, sizeof(*x));
	first_phase_sub(r, sc, x);
	*ret_start = start;
	return 0;
}

/* ---- retrieve, list ---- */

struct one_ctx {
	struct req *r;
	const char *id;
	struct schedule *sc;
};

static int one_load(struct db *db, struct one_ctx *x)
{
	struct req *r = x->r;
	if (!x->sc)
		x->sc = arena_alloc(&r->arena, sizeof(*x->sc));
	if (!x->sc)
		return req_fail(r, ERR_API, NULL, NULL);
	int rc = sched_load(r, db, x->id, x->sc);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "subscription_schedule", x->id, "schedule");
	return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static int retrieve_fn(struct db *db, void *p)
{
	struct one_ctx *x = p;
	if (one_load(db, x) != 0)
		return -1;
	return sched_render(x->r, db, x->sc, "", req_json(x->r)) == 0
		   ? 0
		   : req_fail(x->r, ERR_API, NULL, NULL);
}

static int h_retrieve(struct req *r)
{
	struct one_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, retrieve_fn, &x);
}

static const char SQL_CURSOR[] =
    "SELECT created FROM subscription_schedules WHERE merchant_id = $1 AND id = $2";
/* $6-$11: canceled_at, completed_at, released_at ranges (NULL: no filter); $12: scheduled */
/* CUSTOMER: the customer filter's term; it is also a list_narrow (list.h) with the plain
 * `customer = $5`, answered from subscription_schedules_customer */
#define LIST_SQL(CUSTOMER)                                                                         \
	"SELECT id FROM subscription_schedules WHERE merchant_id = $1 AND " CUSTOMER               \
	" AND id > $2 AND id < $3"                                                                 \
	" AND ($6 IS NULL OR (canceled_at >= $6 AND canceled_at <= $7))"                           \
	" AND ($8 IS NULL OR (completed_at >= $8 AND completed_at <= $9))"                         \
	" AND ($10 IS NULL OR (released_at >= $10 AND released_at <= $11))"                        \
	" AND ($12 IS NULL OR ($12 = 1 AND status = 'not_started')"                                \
	" OR ($12 = 0 AND status <> 'not_started'))"
static const char SQL_DESC[] =
    LIST_SQL("($5 IS NULL OR customer = $5)") " ORDER BY id DESC LIMIT $4";
static const char SQL_ASC[] = LIST_SQL("($5 IS NULL OR customer = $5)") " ORDER BY id ASC LIMIT $4";
static const char SQL_CUSTOMER_DESC[] = LIST_SQL("customer = $5") " ORDER BY id DESC LIMIT $4";
static const char SQL_CUSTOMER_ASC[] = LIST_SQL("customer = $5") " ORDER BY id ASC LIMIT $4";

static int list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	list_bind_filter(r, st, first, "customer");
	list_bind_range(r, st, first + 1, "canceled_at");
	list_bind_range(r, st, first + 3, "completed_at");
	list_bind_range(r, st, first + 5, "released_at");
	bool scheduled;
	if (param_bool(r, "scheduled", &scheduled) == 1)
		db_bind_int64(st, first + 7, scheduled ? 1 : 0);
	else
		db_bind_null(st, first + 7);
	return 0;
}

static int list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	struct schedule *sc = arena_alloc(&r->arena, sizeof(*sc));
	if (!sc)
		return DB_ERR;
	int rc = sched_load(r, db, id, sc);
	if (rc != DB_OK)
		return rc;
	return sched_render(r, db, sc, "data.", j) == 0 ? DB_OK : DB_ERR;
}

static int h_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/subscription_schedules",
	    .object_name = "subscription_schedule",
	    .id_prefix = "sub_sched_",
	    .sql_cursor = SQL_CURSOR,
	    .sql_desc = SQL_DESC,
	    .sql_asc = SQL_ASC,
	    .narrow = {{"customer", SQL_CUSTOMER_DESC, SQL_CUSTOMER_ASC}},
	    .bind_filters = list_bind,
	    .render = list_render,
	};
	return list_respond(r, &spec);
}

/* ---- cancel, release ---- */

/* Can sc change now: not_started or active, and its test clock (if any) not advancing. */
static int live_guard(struct req *r, struct db *db, const struct schedule *sc, const char *verb)
{
	if (!str_eq(sc->status, "not_started") && !str_eq(sc->status, "active"))
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"You cannot %s a subscription schedule that is %s; it must be "
				"not_started or active.",
				verb, sc->status);
	if (!sc->test_clock)
		return 0;
	struct test_clock c;
	if (test_clock_load(r, db, sc->test_clock, &c) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!str_eq(c.status, "ready"))
		return req_fail(
		    r, ERR_INVALID_STATE, NULL,
		    "The subscription schedule's test clock %s is advancing: wait until "
		    "it is ready.",
		    c.id);
	return 0;
}

static int cancel_fn(struct db *db, void *p)
{
	struct one_ctx *x = p;
	struct req *r = x->r;
	if (one_load(db, x) != 0 || live_guard(r, db, x->sc, "cancel") != 0)
		return -1;
	struct schedule *sc = x->sc;
	int64_t now;
	if (billing_now(r, db, sc->test_clock, &now) != 0)
		return -1;
	const struct schedule *old = sched_copy(r, sc);
	if (!old)
		return req_fail(r, ERR_API, NULL, NULL);
	sc->status = "canceled";
	sc->canceled_at = now;
	sc->next_action_at = 0;
	/* saved first: the subscription's cancellation then finds no live schedule to end */
	if (sched_save(r, db, sc) != 0)
		return -1;
	if (sc->subscription && subscription_cancel_for_schedule(r, db, sc->subscription) != 0)
		return -1;
	if (sched_emit_prev(r, db, sc, "subscription_schedule.canceled", now, old) != 0)
		return -1;
	return sched_answer(r, db, sc->id);
}

static int cancel_read_fn(struct db *db, void *p)
{
	struct one_ctx *x = p;
	if (one_load(db, x) != 0 || live_guard(x->r, db, x->sc, "cancel") != 0)
		return -1;
	return 0;
}

/* prorate and invoice_now (Stripe's defaults: true) apply to an active schedule's
 * subscription: it is canceled as DELETE /v1/subscriptions/{id} cancels it with them, its
 * write canceling the schedule too (subscription_schedule_sub_ended); a schedule not started,
 * or both false, is canceled by cancel_fn */
static int h_cancel(struct req *r)
{
	bool prorate = true, invoice_now = true;
	param_bool(r, "prorate", &prorate);
	param_bool(r, "invoice_now", &invoice_now);
	struct one_ctx x = {.r = r, .id = r->args[0]};
	if (prorate || invoice_now) {
		if (req_read(r, cancel_read_fn, &x) != 0)
			return -1;
		if (str_eq(x.sc->status, "active") && x.sc->subscription)
			return subscription_cancel_prorated_for_schedule(
			    r, x.sc->subscription, x.sc->id, prorate, invoice_now);
	}
	return req_write(r, cancel_fn, &x);
}

/* The schedule lets its subscription go (or, not started, ends without one) at now. */
static int release_rows(struct req *r, struct db *db, struct schedule *sc, int64_t now)
{
	const struct schedule *old = sched_copy(r, sc);
	if (!old)
		return req_fail(r, ERR_API, NULL, NULL);
	sc->status = "released";
	sc->released_at = now;
	sc->released_subscription = sc->subscription;
	sc->subscription = NULL;
	sc->next_action_at = 0;
	if (sched_save(r, db, sc) != 0)
		return -1;
	return sched_emit_prev(r, db, sc, "subscription_schedule.released", now, old);
}

static int release_fn(struct db *db, void *p)
{
	struct one_ctx *x = p;
	struct req *r = x->r;
	if (one_load(db, x) != 0 || live_guard(r, db, x->sc, "release") != 0)
		return -1;
	int64_t now;
	if (billing_now(r, db, x->sc->test_clock, &now) != 0 ||
	    release_rows(r, db, x->sc, now) != 0)
		return -1;
	return sched_answer(r, db, x->sc->id);
}

static int h_release(struct req *r)
{
	struct one_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, release_fn, &x);
}

/* ---- update ---- */

struct update_ctx {
	struct req *r;
	const char *id;
	struct schedule *sc; /* as read, with the request's changes */
	int64_t version;     /* the version they were read at */
	bool phases;
	struct sub_change *change; /* the current phase's items, changed at once (or NULL) */
};

/* The subscription's items now. */
struct sub_items {
	int n;
	char ids[SUB_ITEMS_MAX][ID_MAX];
	const char *prices[SUB_ITEMS_MAX];
	int64_t quantities[SUB_ITEMS_MAX];
};

static int sub_items_read(struct req *r, struct db *db, const char *sub, struct sub_items *ret)
{
	struct db_stmt *st = db_prepare(db, SQL_SUB_ITEMS);
	if (!st)
		return -1;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, sub, -1);
	db_bind_int64(st, 3, SUB_ITEMS_MAX);
	int rc;
	ret->n = 0;
	while (ret->n < SUB_ITEMS_MAX && (rc = db_step(st)) == DB_ROW) {
		str_copy(ret->ids[ret->n], ID_MAX, db_col_text(st, 0, NULL));
		ret->prices[ret->n] = col_text_dup(&r->arena, st, 1);
		ret->quantities[ret->n] = db_col_int64(st, 2);
		if (!ret->prices[ret->n])
			rc = DB_ERR;
		ret->n++;
	}
	db_reset(st);
	return rc < 0 ? -1 : 0;
}

/* The change that makes the subscription's items phase p's (n 0: they are already). */
static void change_to_phase(const struct sub_items *cur, const struct sched_phase *p,
			    struct sub_change *c)
{
	c->n = 0;
	for (int i = 0; i < cur->n; i++) {
		bool kept = false;
		for (int k = 0; k < p->n_items; k++)
			kept = kept || str_eq(cur->prices[i], p->items[k].price);
		if (!kept)
			c->ch[c->n++] = (struct sub_item_change){
			    .id = cur->ids[i], .deleted = true, .shown = "phases"};
	}
	for (int k = 0; k < p->n_items && c->n < SUB_ITEMS_MAX; k++) {
		int found = -1;
		for (int i = 0; i < cur->n; i++)
			if (str_eq(cur->prices[i], p->items[k].price))
				found = i;
		if (found >= 0 && cur->quantities[found] == p->items[k].quantity)
			continue;
		c->ch[c->n++] =
		    (struct sub_item_change){.id = found >= 0 ? cur->ids[found] : NULL,
					     .price = found >= 0 ? NULL : p->items[k].price,
					     .quantity = p->items[k].quantity,
					     .shown = "phases"};
	}
}

/* ---- previews (invoice_preview.c's `schedule`) ---- */

int subscription_schedule_preview_sub(struct req *r, struct db *db, const char *id,
				      const char **ret_sub)
{
	struct schedule *sc = arena_alloc(&r->arena, sizeof(*sc));
	if (!sc)
		return DB_ERR;
	int rc = sched_load(r, db, id, sc);
	if (rc != DB_OK)
		return rc;
	if (str_eq(sc->status, "not_started"))
		return 1;
	if (!str_eq(sc->status, "active") || !sc->subscription)
		return 2;
	*ret_sub = sc->subscription;
	return DB_OK;
}

int subscription_schedule_phase_at(struct req *r, struct db *db, const char *id, const char *sub,
				   int64_t at, struct sub_change *c, int64_t *ret_start)
{
	struct schedule *sc = arena_alloc(&r->arena, sizeof(*sc));
	struct sub_items *cur = arena_alloc(&r->arena, sizeof(*cur));
	if (!sc || !cur || sched_load(r, db, id, sc) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* the phase in force then; past the last one's end, its end_behavior: cancel ends the
	 * subscription first, release leaves it as it is */
	const struct sched_phase *p = NULL;
	for (int i = sc->current_phase < 0 ? 0 : sc->current_phase; i < sc->n_phases; i++)
		if (sc->phases[i].start <= at && at < sc->phases[i].end)
			p = &sc->phases[i];
	if (!p)
		return str_eq(sc->end_behavior, "cancel") ? 2 : 0;
	if (sub_items_read(r, db, sub, cur) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	change_to_phase(cur, p, c);
	if (c->n == 0)
		return 0;
	c->proration_behavior = p->proration_behavior;
	*ret_start = p->start;
	return 1;
}

static int update_apply(struct req *r, struct db *db, struct update_ctx *u)
{
	struct schedule *sc = u->sc;
	const char *eb = param_str(r, "end_behavior");
	if (eb) {
		if (!str_eq(eb, "release") && !str_eq(eb, "cancel"))
			return req_fail(r, ERR_PARAM_BAD, "end_behavior",
					"Tender schedules end by release or cancel.");
		sc->end_behavior = eb;
	}
	if (metadata_apply(r, sc->metadata, "metadata", &sc->metadata) != 0)
		return -1;
	if (param_present(r, "default_settings.default_payment_method")) {
		const char *pm = param_str(r, "default_settings.default_payment_method");
		sc->default_pm = pm && *pm ? pm : NULL;
		if (sc->default_pm) {
			struct pm_card pc;
			int rc = pm_load(db, r->merchant_id, sc->default_pm, &pc);
			if (rc == DB_NOTFOUND)
				return req_fail_missing(r, "payment_method", sc->default_pm,
							"default_settings[default_payment_method]");
			if (rc != DB_OK)
				return req_fail(r, ERR_API, NULL, NULL);
			if (strcmp(pc.customer, sc->customer) != 0)
				return req_fail(r, ERR_PARAM_BAD,
						"default_settings[default_payment_method]",
						"The customer does not have a payment method with "
						"the ID %s. The payment method must be attached to "
						"the customer.",
						sc->default_pm);
		}
	}
	if (default_collection_parse(r, sc) != 0)
		return -1;
	if (!u->phases)
		return collection_check(r, sc, sc->current_phase);
	/* the new phases: a not_started schedule's all of them, from its start (the first
	 * phase's start_date may move it); an active one's from its current phase on, the
	 * phases before kept */
	struct schedule *np = arena_alloc(&r->arena, sizeof(*np));
	if (!np)
		return req_fail(r, ERR_API, NULL, NULL);
	memset(np, 0, sizeof(*np));
	np->customer = sc->customer;
	/* a discount the phases name is the subscription's, or one of its items' */
	np->subscription = sc->subscription;
	if (phases_parse(r, np) != 0)
		return -1;
	int64_t start;
	int keep = 0;
	if (str_eq(sc->status, "not_started")) {
		int64_t now;
		if (billing_now(r, db, sc->test_clock, &now) != 0)
			return -1;
		start = np->phases[0].start ? np->phases[0].start : sc->phases[0].start;
		if (start < now)
			return req_fail(r, ERR_PARAM_BAD, "phases[0][start_date]",
					"Tender does not backdate schedules: the first phase "
					"starts now or in the future.");
		np->phases[0].start = 0;
	} else {
		keep = sc->current_phase;
		start = sc->phases[keep].start;
	}
	if (keep + np->n_phases > SCHEDULE_PHASES_MAX)
		return req_fail(r, ERR_PARAM_BAD, "phases",
				"A subscription schedule can have at most %d phases.",
				SCHEDULE_PHASES_MAX);
	/* an active schedule's subscription keeps its currency */
	if (phases_check(r, db, np, start,
			 str_eq(sc->status, "active") ? sc->phases[keep].currency : NULL) != 0)
		return -1;
	int64_t now;
	if (billing_now(r, db, sc->test_clock, &now) != 0)
		return -1;
	if (str_eq(sc->status, "active") && np->phases[0].end <= now)
		return req_fail(r, ERR_PARAM_BAD, "phases[0][end_date]",
				"The current phase must end in the future.");
	for (int i = 0; i < np->n_phases; i++)
		sc->phases[keep + i] = np->phases[i];
	sc->n_phases = keep + np->n_phases;
	if (collection_check(r, sc, keep) != 0)
		return -1;
	sc->next_action_at = str_eq(sc->status, "active") ? sc->phases[keep].end : start;
	if (str_eq(sc->status, "active") && sc->subscription) {
		/* in r's arena: the change names its items by these ids after this read */
		struct sub_items *cur = arena_alloc(&r->arena, sizeof(*cur));
		if (!cur || sub_items_read(r, db, sc->subscription, cur) != 0)
			return req_fail(r, ERR_API, NULL, NULL);
		struct sub_change *c = arena_alloc(&r->arena, sizeof(*c));
		if (!c)
			return req_fail(r, ERR_API, NULL, NULL);
		memset(c, 0, sizeof(*c));
		change_to_phase(cur, &sc->phases[keep], c);
		c->subscription = sc->subscription;
		/* the request's proration_behavior, else the phase's */
		const char *pb = param_str(r, "proration_behavior");
		c->proration_behavior = pb ? pb : sc->phases[keep].proration_behavior;
		u->change = c->n ? c : NULL;
	}
	return 0;
}

static int update_read_fn(struct db *db, void *p)
{
	struct update_ctx *u = p;
	struct req *r = u->r;
	struct one_ctx x = {.r = r, .id = u->id};
	if (one_load(db, &x) != 0 || live_guard(r, db, x.sc, "update") != 0 ||
	    atx_check(r, db) != 0)
		return -1;
	u->sc = x.sc;
	u->version = x.sc->version;
	return update_apply(r, db, u);
}

static int update_fn(struct db *db, void *p)
{
	struct update_ctx *u = p;
	struct req *r = u->r;
	struct schedule cur;
	if (sched_load(r, db, u->id, &cur) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (cur.version != u->version)
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"Subscription schedule %s changed while this request ran; try "
				"again.",
				u->id);
	u->sc->version = cur.version;
	int64_t now;
	if (billing_now(r, db, u->sc->test_clock, &now) != 0)
		return -1;
	if (sched_save(r, db, u->sc) != 0 ||
	    sched_emit_prev(r, db, u->sc, "subscription_schedule.updated", now, &cur) != 0)
		return -1;
	/* the current phase changed: its settings and discounts on the subscription now */
	int k = u->sc->current_phase;
	if ((u->phases || param_present(r, "default_settings")) &&
	    str_eq(u->sc->status, "active") && k >= 0 && k < cur.n_phases &&
	    phase_enter(r, db, u->sc, &cur.phases[k], &u->sc->phases[k], now) != 0)
		return -1;
	return sched_answer(r, db, u->id);
}

static int h_update(struct req *r)
{
	struct update_ctx u = {.r = r, .id = r->args[0], .phases = param_present(r, "phases")};
	if (req_read(r, update_read_fn, &u) != 0)
		return -1;
	if (u.change) {
		/* the current phase's items, as the subscription's own update would change them;
		 * the schedule's row follows in a write of its own. The request's idempotency key
		 * records that last write's answer (the schedule), not the change's: a retry
		 * after a failure between the two finds the items already changed (no change
		 * to make) and writes the schedule */
		const char *key = r->idempotency_key;
		r->idempotency_key = NULL;
		int rc = subscription_change(r, u.change);
		r->idempotency_key = key;
		if (rc != 0)
			return -1;
		buf_reset(&r->out);
	}
	return req_write(r, update_fn, &u);
}

/* ---- the scheduler's steps ---- */

struct step_ctx {
	struct req *r;
	const char *id;
	int64_t t;
	struct schedule *sc;
	int64_t version;
	int phase_read; /* current_phase as read */
	bool
	    end_canceled; /* the schedule ends canceled: its customer is gone, or it cannot start */
	int64_t period_end; /* the subscription's current period's end */
	const char *sub_status;
	struct sub_items cur;
	struct sub_for_schedule x;
};

static int step_read_fn(struct db *db, void *p)
{
	struct step_ctx *s = p;
	struct req *r = s->r;
	if (sched_load(r, db, s->id, s->sc) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	s->version = s->sc->version;
	s->phase_read = s->sc->current_phase;
	struct billing_customer cf;
	if (billing_customer_get(r, db, s->sc->customer, &cf) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	s->end_canceled = !cf.found;
	s->period_end = 0;
	s->sub_status = NULL;
	if (s->sc->subscription) {
		struct db_stmt *st = db_prepare(db, SQL_SUB_FACTS);
		if (!st)
			return req_fail(r, ERR_API, NULL, NULL);
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, s->sc->subscription, -1);
		if (db_step(st) == DB_ROW) {
			s->sub_status = col_text_dup(&r->arena, st, 1);
			s->period_end = db_col_int64(st, 3);
		}
		db_reset(st);
		if (sub_items_read(r, db, s->sc->subscription, &s->cur) != 0)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	return 0;
}

/* the row as the step left it, where it is still as read */
static int step_save(struct req *r, struct db *db, struct step_ctx *s, const char *type)
{
	struct schedule cur;
	if (sched_load(r, db, s->id, &cur) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (cur.version != s->version)
		return req_fail(r, ERR_INVALID_STATE, NULL, "The schedule changed meanwhile.");
	if (sched_save(r, db, s->sc) != 0)
		return -1;
	return type ? sched_emit_prev(r, db, s->sc, type, s->t, &cur) : 0;
}

/* not_started → active, inside the write that makes its subscription */
static int start_before(struct req *r, struct db *db, void *p)
{
	struct step_ctx *s = p;
	s->sc->status = "active";
	s->sc->current_phase = 0;
	s->sc->subscription = s->x.id;
	s->sc->next_action_at = s->sc->phases[0].end;
	return step_save(r, db, s, "subscription_schedule.updated");
}

static int start_answer(struct req *r, struct db *db, void *p)
{
	(void)r;
	(void)db;
	(void)p;
	return 0;
}

/* Inside the write of phase p's entry at t: its add_invoice_items made pending invoice items of
 * the subscription (invoiceitem.created), each with its own discounts, which the subscription's
 * next invoice bills. One that can no longer be billed as asked (its price archived, a coupon
 * used up since) is left out (logged): the phase change goes on. 0, or -1 with r->err. */
static int phase_adds(struct req *r, struct db *db, const struct schedule *sc,
		      const struct sched_phase *p, int64_t t)
{
	if (!sc->subscription)
		return 0;
	for (int k = 0; k < p->n_add; k++) {
		struct invoice_item ii;
		memset(&ii, 0, sizeof(ii));
		int64_t amount = 0;
		struct price_facts pf;
		int rc = add_amount(r, db, p, k, "phases", &amount);
		if (rc == 0 && price_facts_in(r, db, p->add[k].price, p->currency, &pf) != DB_OK)
			rc = req_fail(r, ERR_API, NULL, NULL);
		struct discount *ds = NULL;
		int n_ds = 0;
		struct discount_spec spec;
		if (rc == 0 && p->add[k].n_ds) {
			discs_spec(r, p->add[k].ds, p->add[k].n_ds, "phases[add_invoice_items]",
				   &spec);
			ds = arena_alloc(&r->arena, DISCOUNTS_MAX * sizeof(*ds));
			rc = ds ? discounts_resolve(r, db, &spec, sc->customer, p->currency, amount,
						    NULL, t, ds, &n_ds)
				: req_fail(r, ERR_API, NULL, NULL);
		}
		if (rc != 0) {
			if (api_error_info(r->err.code)->status >= 500)
				return -1;
			log_msg(
			    LOG_INFO,
			    "subscription schedule %s: an add_invoice_items entry not added: %s",
			    sc->id, req_error_message(r));
			r->err.set = false;
			continue;
		}
		id_new_at(ii.id, "ii_", t);
		ii.created = t;
		ii.customer = sc->customer;
		str_copy(ii.currency, sizeof(ii.currency), p->currency);
		ii.price = p->add[k].price;
		ii.unit_amount = pf.unit_amount;
		ii.quantity = p->add[k].quantity;
		ii.amount = amount;
		ii.description = pf.product_name;
		ii.metadata = "{}";
		ii.subscription = sc->subscription;
		ii.test_clock = sc->test_clock;
		ii.period_start = ii.period_end = t;
		ii.discountable = true;
		if (invoice_item_insert(r, db, &ii) != 0)
			return -1;
		if (n_ds && discounts_attach(r, db, DISCOUNT_INVOICE_ITEM, ii.id, sc->customer, t,
					     ds, n_ds, NULL) != 0)
			return -1;
	}
	return 0;
}

static int next_phase_fn(struct db *db, void *p)
{
	struct step_ctx *s = p;
	struct schedule *sc = s->sc;
	/* a re-run starts from the phase as read */
	sc->current_phase = s->phase_read + 1;
	sc->next_action_at = sc->phases[sc->current_phase].end;
	if (step_save(s->r, db, s, "subscription_schedule.updated") != 0)
		return -1;
	if (phase_enter(s->r, db, sc, &sc->phases[s->phase_read], &sc->phases[sc->current_phase],
			s->t) != 0)
		return -1;
	return phase_adds(s->r, db, sc, &sc->phases[sc->current_phase], s->t);
}

static int end_fn(struct db *db, void *p)
{
	struct step_ctx *s = p;
	struct req *r = s->r;
	struct schedule *sc = s->sc;
	if (s->end_canceled) {
		sc->status = "canceled";
		sc->canceled_at = s->t;
		sc->next_action_at = 0;
		return step_save(r, db, s, "subscription_schedule.canceled");
	}
	if (str_eq(sc->end_behavior, "cancel")) {
		sc->status = "completed";
		sc->completed_at = s->t;
		sc->next_action_at = 0;
		if (step_save(r, db, s, "subscription_schedule.completed") != 0)
			return -1;
		return sc->subscription ? subscription_cancel_for_schedule(r, db, sc->subscription)
					: 0;
	}
	struct schedule cur;
	if (sched_load(r, db, s->id, &cur) != DB_OK || cur.version != s->version)
		return req_fail(r, ERR_INVALID_STATE, NULL, "The schedule changed meanwhile.");
	return release_rows(r, db, sc, s->t);
}

/* When sc next has something due: its start, or its current phase's end (0: nothing). */
static int64_t step_due(const struct schedule *sc)
{
	if (str_eq(sc->status, "not_started") && sc->n_phases > 0)
		return sc->phases[0].start;
	if (str_eq(sc->status, "active") && sc->current_phase >= 0 &&
	    sc->current_phase < sc->n_phases)
		return sc->phases[sc->current_phase].end;
	return 0;
}

/* next_action_at put back where the state says */
static int repair_fn(struct db *db, void *p)
{
	struct step_ctx *s = p;
	return step_save(s->r, db, s, NULL);
}

int subscription_schedule_step(struct app *app, const char *host, const char *merchant,
			       const char *id, int64_t t)
{
	struct req r;
	req_internal_init(&r, app, merchant, t, host);
	struct step_ctx *s = arena_alloc(&r.arena, sizeof(*s));
	struct schedule *sc = arena_alloc(&r.arena, sizeof(*sc));
	int rc = -1;
	if (!s || !sc)
		goto out;
	memset(s, 0, sizeof(*s));
	s->r = &r;
	s->id = id;
	s->t = t;
	s->sc = sc;
	if (req_read(&r, step_read_fn, s) != 0)
		goto out;
	/* what is due comes from the schedule's state, not from next_action_at: that is only
	 * the scheduler's index, which a deferral after a failure (or another node's step)
	 * may have moved */
	int64_t due = step_due(sc);
	if (!s->end_canceled && (!due || due > t)) {
		rc = 0;
		if (sc->next_action_at != due) {
			sc->next_action_at = due;
			rc = req_write(&r, repair_fn, s);
			if (rc == 0)
				rc = 1;
		}
		goto out;
	}
	if (s->end_canceled) {
		rc = req_write(&r, end_fn, s);
	} else if (str_eq(sc->status, "not_started")) {
		first_phase_sub(&r, sc, &s->x);
		s->x.scheduled = true;
		s->x.before = start_before;
		s->x.answer = start_answer;
		s->x.ctx = s;
		rc = subscription_create_for_schedule(&r, &s->x);
		if (rc != 0 && r.err.set && api_error_info(r.err.code)->status < 500) {
			/* the subscription cannot be made (a price archived since, …): the
			 * schedule ends rather than be tried again forever */
			log_msg(LOG_INFO,
				"subscription schedule %s: its subscription could not be made at "
				"its start, the schedule is canceled: %s",
				id, req_error_message(&r));
			r.err.set = false;
			s->end_canceled = true; /* end_fn: canceled */
			buf_reset(&r.out);
			rc = req_write(&r, end_fn, s);
		}
	} else if (str_eq(sc->status, "active") && sc->current_phase + 1 < sc->n_phases) {
		const struct sched_phase *np = &sc->phases[sc->current_phase + 1];
		struct sub_change *c = arena_alloc(&r.arena, sizeof(*c));
		if (!c)
			goto out;
		memset(c, 0, sizeof(*c));
		change_to_phase(&s->cur, np, c);
		c->subscription = sc->subscription;
		c->scheduled = true;
		/* at the period's end nothing is left of it to prorate */
		c->proration_behavior = t >= s->period_end ? "none" : np->proration_behavior;
		if (c->n && sc->subscription) {
			rc = subscription_change(&r, c);
			if (rc != 0 && r.err.set && api_error_info(r.err.code)->status < 500) {
				/* once more from a fresh read: the subscription may have changed
				 * meanwhile (another node's step did the change) */
				r.err.set = false;
				int64_t v0 = s->version;
				if (req_read(&r, step_read_fn, s) != 0)
					goto out;
				if (s->version != v0) {
					rc = 1;
					goto out; /* the schedule moved meanwhile */
				}
				memset(c, 0, sizeof(*c));
				change_to_phase(&s->cur, np, c);
				c->subscription = sc->subscription;
				c->scheduled = true;
				c->proration_behavior =
				    t >= s->period_end ? "none" : np->proration_behavior;
				rc = c->n ? subscription_change(&r, c) : 0;
			}
			if (rc != 0 && r.err.set && api_error_info(r.err.code)->status < 500) {
				/* the subscription cannot change now (it ended, is incomplete
				 * or paused): the schedule moves on all the same */
				log_msg(LOG_INFO,
					"subscription schedule %s: phase change not "
					"applied: %s",
					id, req_error_message(&r));
				r.err.set = false;
				rc = 0;
			}
			if (rc != 0)
				goto out;
		}
		buf_reset(&r.out);
		rc = req_write(&r, next_phase_fn, s);
	} else if (str_eq(sc->status, "active")) {
		rc = req_write(&r, end_fn, s);
	} else {
		rc = 0;
		goto out;
	}
	if (rc == 0)
		rc = 1;
out:
	if (rc < 0)
		log_msg(LOG_WARN, "subscription schedule %s of %s: step failed: %s", id, merchant,
			r.err.set ? req_error_message(&r) : "store error");
	req_internal_release(&r);
	return rc;
}

/* ---- the scheduler's queries ---- */

static const char SQL_DUE_ON_CLOCK[] =
    "SELECT id, next_action_at FROM subscription_schedules WHERE merchant_id = $1"
    " AND test_clock = $2 AND next_action_at IS NOT NULL AND next_action_at <= $3"
    " ORDER BY next_action_at, id LIMIT 1";
static const char SQL_DUE_REALTIME[] =
    "SELECT merchant_id, id FROM subscription_schedules WHERE next_action_at IS NOT NULL"
    " AND test_clock IS NULL AND next_action_at <= $1 ORDER BY next_action_at LIMIT $2";
static const char SQL_DEFER[] =
    "UPDATE subscription_schedules SET next_action_at = $3 WHERE merchant_id = $1 AND id = $2";

int subscription_schedules_due_on_clock(struct db *db, const char *merchant, const char *clock,
					int64_t until, char ret_id[ID_MAX], int64_t *ret_at)
{
	struct db_stmt *st = db_prepare(db, SQL_DUE_ON_CLOCK);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant, -1);
	db_bind_text(st, 2, clock, -1);
	db_bind_int64(st, 3, until);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		str_copy(ret_id, ID_MAX, db_col_text(st, 0, NULL));
		*ret_at = db_col_int64(st, 1);
	}
	db_reset(st);
	return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : rc < 0 ? rc : DB_ERR;
}

struct collect_ctx {
	int64_t now;
	struct scheduler_due d[TICK_BATCH];
	int n;
};

static int collect_fn(struct db *db, void *p)
{
	struct collect_ctx *c = p;
	return scheduler_due_read(db, SQL_DUE_REALTIME, c->now, c->d, &c->n, TICK_BATCH);
}

struct defer_ctx {
	const char *merchant, *id;
	int64_t until;
};

static int defer_fn(struct db *db, void *p)
{
	struct defer_ctx *d = p;
	struct db_stmt *st = db_prepare(db, SQL_DEFER);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, d->merchant, -1);
	db_bind_text(st, 2, d->id, -1);
	db_bind_int64(st, 3, d->until);
	return db_step_done(st);
}

int subscription_schedules_tick(struct app *app, const char *host, struct store *s, int64_t now)
{
	if (!app)
		return 0;
	struct collect_ctx *c = calloc(1, sizeof(*c));
	if (!c)
		return -1;
	c->now = now;
	int rc = store_each_shard_read(s, collect_fn, c);
	int done = 0;
	for (int i = 0; rc == 0 && i < c->n; i++) {
		int k = subscription_schedule_step(app, host, c->d[i].merchant, c->d[i].id, now);
		if (k > 0)
			done++;
		if (k < 0) {
			/* tried again later, not every tick */
			struct defer_ctx d = {c->d[i].merchant, c->d[i].id,
					      now + DEFER_AFTER_FAILURE_S};
			store_write(s, d.merchant, defer_fn, &d);
		}
	}
	free(c);
	return rc == 0 ? done : rc;
}

/* ---- routes ---- */

static const struct param_spec discount_children[] = {
    {"coupon", PT_STRING, 0, COUPON_ID_MAX, NULL, NULL},
    {"promotion_code", PT_STRING, 0, 255, NULL, NULL},
    {"discount", PT_STRING, 0, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec item_children[] = {
    {"price", PT_STRING, 0, 255, NULL, NULL},
    {"quantity", PT_INT, 0, 0, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"discounts", PT_OBJECT_ARRAY, PF_EMPTYABLE, DISCOUNTS_MAX, NULL, discount_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const char *const collection_methods[] = {"charge_automatically", "send_invoice", NULL};
static const struct param_spec invoice_settings_children[] = {
    {"days_until_due", PT_INT, 0, 0, NULL, NULL},
    {"account_tax_ids", PT_STRING_ARRAY, PF_EMPTYABLE, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec auto_tax_liability_children[] = {
    {"type", PT_ENUM, PF_REQUIRED, 0, (const char *const[]){"self", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec automatic_tax_children[] = {
    {"enabled", PT_BOOL, PF_REQUIRED, 0, NULL, NULL},
    {"liability", PT_OBJECT, 0, 0, NULL, auto_tax_liability_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
/* named so that adds_parse can refuse it with its own 400 (parameter_unknown would hide why) */
static const struct param_spec add_price_data_children[] = {
    {"currency", PT_CURRENCY, 0, 0, NULL, NULL},
    {"product", PT_STRING, 0, 255, NULL, NULL},
    {"unit_amount", PT_INT, 0, 0, NULL, NULL},
    {"unit_amount_decimal", PT_STRING, 0, 40, NULL, NULL},
    {"tax_behavior", PT_STRING, 0, 20, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec add_item_children[] = {
    {"price", PT_STRING, 0, 255, NULL, NULL},
    {"price_data", PT_OBJECT, 0, 0, NULL, add_price_data_children},
    {"quantity", PT_INT, 0, 0, NULL, NULL},
    {"discounts", PT_OBJECT_ARRAY, PF_EMPTYABLE, DISCOUNTS_MAX, NULL, discount_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
const struct param_spec subscription_schedule_phase_params[] = {
    {"add_invoice_items", PT_OBJECT_ARRAY, PF_EMPTYABLE, SUB_FOR_SCHEDULE_ADD_MAX, NULL,
     add_item_children},
    {"automatic_tax", PT_OBJECT, 0, 0, NULL, automatic_tax_children},
    {"discounts", PT_OBJECT_ARRAY, PF_EMPTYABLE, DISCOUNTS_MAX, NULL, discount_children},
    {"items", PT_OBJECT_ARRAY, PF_REQUIRED, SCHEDULE_ITEMS_MAX, NULL, item_children},
    {"iterations", PT_INT, 0, 0, NULL, NULL},
    {"start_date", PT_STRING, 0, 20, NULL, NULL},
    {"end_date", PT_STRING, 0, 20, NULL, NULL},
    {"trial", PT_BOOL, 0, 0, NULL, NULL},
    {"trial_end", PT_STRING, 0, 20, NULL, NULL},
    {"proration_behavior", PT_ENUM, 0, 0, proration_behaviors, NULL},
    {"default_payment_method", PT_STRING, PF_EMPTYABLE, 255, NULL, NULL},
    {"description", PT_STRING, PF_EMPTYABLE, 500, NULL, NULL},
    {"currency", PT_CURRENCY, 0, 0, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"collection_method", PT_ENUM, 0, 0, collection_methods, NULL},
    {"invoice_settings", PT_OBJECT, 0, 0, NULL, invoice_settings_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec default_settings_children[] = {
    {"automatic_tax", PT_OBJECT, 0, 0, NULL, automatic_tax_children},
    {"default_payment_method", PT_STRING, PF_EMPTYABLE, 255, NULL, NULL},
    {"collection_method", PT_ENUM, 0, 0, collection_methods, NULL},
    {"invoice_settings", PT_OBJECT, 0, 0, NULL, invoice_settings_children},
    {"billing_cycle_anchor", PT_ENUM, 0, 0, (const char *const[]){"automatic", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const char *const end_behaviors[] = {"cancel", "none", "release", "renew", NULL};
static const struct param_spec create_params[] = {
    {"billing_mode", PT_OBJECT, 0, 0, NULL, subscription_billing_mode_params},
    {"customer", PT_STRING, 0, 255, NULL, NULL},
    {"from_subscription", PT_STRING, 0, 255, NULL, NULL},
    {"start_date", PT_STRING, 0, 20, NULL, NULL},
    {"end_behavior", PT_ENUM, 0, 0, end_behaviors, NULL},
    {"phases", PT_OBJECT_ARRAY, 0, SCHEDULE_PHASES_MAX, NULL, subscription_schedule_phase_params},
    {"default_settings", PT_OBJECT, 0, 0, NULL, default_settings_children},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec update_params[] = {
    {"end_behavior", PT_ENUM, 0, 0, end_behaviors, NULL},
    {"phases", PT_OBJECT_ARRAY, 0, SCHEDULE_PHASES_MAX, NULL, subscription_schedule_phase_params},
    {"default_settings", PT_OBJECT, 0, 0, NULL, default_settings_children},
    {"proration_behavior", PT_ENUM, 0, 0, proration_behaviors, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec list_params[] = {
    {"customer", PT_STRING, 0, 255, NULL, NULL},  {"canceled_at", PT_RANGE, 0, 0, NULL, NULL},
    {"completed_at", PT_RANGE, 0, 0, NULL, NULL}, {"released_at", PT_RANGE, 0, 0, NULL, NULL},
    {"scheduled", PT_BOOL, 0, 0, NULL, NULL},	  {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec cancel_params[] = {
    {"invoice_now", PT_BOOL, 0, 0, NULL, NULL},
    {"prorate", PT_BOOL, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec release_params[] = {
    {"preserve_cancel_date", PT_BOOL, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

const struct route subscription_schedules_routes[] = {
    {"POST", "/v1/subscription_schedules", h_create, create_params, ROUTE_STRIPE_VERSION},
    {"GET", "/v1/subscription_schedules", h_list, list_params, ROUTE_LIST},
    {"GET", "/v1/subscription_schedules/{id}", h_retrieve, no_params, 0},
    {"POST", "/v1/subscription_schedules/{id}", h_update, update_params, 0},
    {"POST", "/v1/subscription_schedules/{id}/cancel", h_cancel, cancel_params, 0},
    {"POST", "/v1/subscription_schedules/{id}/release", h_release, release_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};

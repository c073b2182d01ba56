/*
 * GET/POST /v1/balance_settings: Stripe's newer view of an account's payout settings, the same
 * ones as the account object's settings.payouts (accounts.c keeps them, in the account's
 * connected_accounts row: never a second copy). With Stripe-Account it is the connected
 * account's; without, the caller's own (shown; Tender pays a merchant's own account out on
 * request only, so it cannot be changed).
 *
 * An update goes through the account update's code (accounts_payout_settings_change): the same
 * row, account.updated on the platform and balance_settings.updated (the account's event) in the
 * same write, and a changed schedule's next due date, on which the scheduler pays out
 * (payouts.c). What Tender's schedule cannot do is refused, naming the parameter:
 * weekly_payout_days and monthly_payout_days are lists on Stripe, but a schedule here keeps one
 * day (the account object's weekly_anchor / monthly_anchor); delay_days_override is the
 * account's delay_days (2, Tender's minimum, to 31; "" back to 2); minimum_balance_by_currency
 * is refused (an
 * automatic payout pays the whole available balance, and takes every transaction it pays out,
 * which a retained remainder would break); automatic_transfer_rules_by_currency and
 * start_of_day are not declared (parameter_unknown).
 */
#include <stdio.h>
#include <string.h>

#include "api/accounts.h"
#include "api/common.h"
#include "api/resources.h"
#include "core/parse.h"
#include "http/form.h"

#define SCHED "payments[payouts][schedule]"

/* the days balance settings take: Stripe's enum, Monday to Friday */
static const char *const payout_weekdays[] = {"monday",	  "tuesday", "wednesday",
					      "thursday", "friday",  NULL};

static void render_schedule(struct json *j, const struct payout_schedule *s)
{
	json_key(j, "schedule");
	json_obj_open(j);
	json_kv_str(j, "interval", payout_interval_name(s->interval));
	if (s->interval == PAYOUT_MONTHLY) {
		json_key(j, "monthly_payout_days");
		json_arr_open(j);
		json_int(j, s->monthly_anchor);
		json_arr_close(j);
	}
	if (s->interval == PAYOUT_WEEKLY) {
		json_key(j, "weekly_payout_days");
		json_arr_open(j);
		json_str(j, payout_weekday_name(s->weekly_anchor));
		json_arr_close(j);
	}
	json_obj_close(j);
}

static const char *payouts_status(const struct payout_settings *s)
{
	return s->payouts_enabled ? "enabled" : "disabled";
}

void balance_settings_render(struct json *j, const struct payout_settings *s)
{
	json_obj_open(j);
	json_kv_str(j, "object", "balance_settings");
	json_key(j, "payments");
	json_obj_open(j);
	json_kv_bool(j, "debit_negative_balances", s->debit_negative_balances);
	json_key(j, "payouts");
	json_obj_open(j);
	json_kv_null(j, "automatic_transfer_rules_by_currency");
	json_kv_null(j, "minimum_balance_by_currency");
	render_schedule(j, &s->sched);
	json_kv_str_or_null(j, "statement_descriptor", s->statement_descriptor);
	json_kv_str(j, "status", payouts_status(s));
	json_obj_close(j);
	json_key(j, "settlement_timing");
	json_obj_open(j);
	json_kv_int(j, "delay_days", s->sched.delay_days);
	json_kv_null(j, "start_of_day");
	json_obj_close(j);
	json_obj_close(j);
	json_obj_close(j);
}

static bool same_str(const char *a, const char *b)
{
	return a && b ? strcmp(a, b) == 0 : a == b;
}

static bool same_schedule(const struct payout_schedule *a, const struct payout_schedule *b)
{
	return a->interval == b->interval && a->delay_days == b->delay_days &&
	       (a->interval != PAYOUT_WEEKLY || a->weekly_anchor == b->weekly_anchor) &&
	       (a->interval != PAYOUT_MONTHLY || a->monthly_anchor == b->monthly_anchor);
}

bool payout_settings_differ(const struct payout_settings *o, const struct payout_settings *n)
{
	return o->own != n->own || o->payouts_enabled != n->payouts_enabled ||
	       o->debit_negative_balances != n->debit_negative_balances ||
	       !same_schedule(&o->sched, &n->sched) ||
	       !same_str(o->statement_descriptor, n->statement_descriptor);
}

void balance_settings_render_previous(struct json *j, const struct payout_settings *o,
				      const struct payout_settings *n)
{
	json_obj_open(j);
	json_key(j, "payments");
	json_obj_open(j);
	if (o->debit_negative_balances != n->debit_negative_balances)
		json_kv_bool(j, "debit_negative_balances", o->debit_negative_balances);
	bool sched = !same_schedule(&o->sched, &n->sched);
	bool sd = !same_str(o->statement_descriptor, n->statement_descriptor);
	bool status = o->payouts_enabled != n->payouts_enabled;
	if (sched || sd || status) {
		json_key(j, "payouts");
		json_obj_open(j);
		if (sched)
			render_schedule(j, &o->sched);
		if (sd)
			json_kv_str_or_null(j, "statement_descriptor", o->statement_descriptor);
		if (status)
			json_kv_str(j, "status", payouts_status(o));
		json_obj_close(j);
	}
	if (o->sched.delay_days != n->sched.delay_days) {
		json_key(j, "settlement_timing");
		json_obj_open(j);
		json_kv_int(j, "delay_days", o->sched.delay_days);
		json_obj_close(j);
	}
	json_obj_close(j);
	json_obj_close(j);
}

/* The one distinct value of list param `name` (its items, all equal), via pick: 0 with *ret, or
 * -1 with r->err (an item pick refuses, or several different days). */
static int one_day(struct req *r, const char *path, const char *shown,
		   int (*pick)(struct req *r, const char *v, const char *shown, int *ret), int *ret)
{
	const struct form_node *n = param_node(r, path);
	int day = -1;
	const struct form_node *one = n && n->kind == FORM_SCALAR ? n : NULL;
	for (const struct form_node *c = one ? one
					 : n ? n->first_child
					     : NULL;
	     c; c = one ? NULL : c->next) {
		int d;
		if (pick(r, c->value ? c->value : "", shown, &d) != 0)
			return -1;
		if (day >= 0 && d != day)
			return req_fail(r, ERR_PARAM_BAD, shown,
					"Tender's payout schedule pays out on one day: give one "
					"day in %s (several are not supported).",
					shown);
		day = d;
	}
	if (day < 0)
		return req_fail(r, ERR_PARAM_MISSING, shown, "%s", shown);
	*ret = day;
	return 0;
}

static int pick_weekday(struct req *r, const char *v, const char *shown, int *ret)
{
	for (int i = 0; payout_weekdays[i]; i++)
		if (strcmp(v, payout_weekdays[i]) == 0)
			return payout_weekday_parse(v, ret) == 0 ? 0
								 : req_fail(r, ERR_API, NULL, NULL);
	return req_fail(r, ERR_PARAM_INVALID_ENUM, shown,
			"Invalid %s: must be one of monday, tuesday, wednesday, thursday, friday",
			shown);
}

static int pick_monthday(struct req *r, const char *v, const char *shown, int *ret)
{
	int64_t d = 0;
	if (parse_i64(v, &d) != 0 || d < 1 || d > 31)
		return req_fail(r, ERR_PARAM_BAD, shown,
				"Invalid %s: days of the month, each 1 to 31.", shown);
	*ret = (int)d;
	return 0;
}

/* payments[payouts][schedule] onto *s (the account's schedule): the interval, and its one day
 * (required with weekly or monthly unless the account already has one, as the account update's
 * anchors are). 0, or -1 with r->err. */
static int schedule_from_params(struct req *r, struct payout_schedule *s)
{
	const char *iv = param_str(r, "payments.payouts.schedule.interval");
	if (iv && payout_interval_parse(iv, &s->interval) != 0)
		return req_fail(r, ERR_PARAM_BAD, SCHED "[interval]",
				"Invalid interval: manual, daily, weekly or monthly.");
	if (s->interval != PAYOUT_WEEKLY)
		s->weekly_anchor = -1;
	if (s->interval != PAYOUT_MONTHLY)
		s->monthly_anchor = 0;
	if (param_present(r, "payments.payouts.schedule.weekly_payout_days")) {
		if (s->interval != PAYOUT_WEEKLY)
			return req_fail(r, ERR_PARAM_BAD, SCHED "[weekly_payout_days]",
					"weekly_payout_days can only be set with a weekly "
					"interval.");
		if (one_day(r, "payments.payouts.schedule.weekly_payout_days",
			    SCHED "[weekly_payout_days]", pick_weekday, &s->weekly_anchor) != 0)
			return -1;
	}
	if (param_present(r, "payments.payouts.schedule.monthly_payout_days")) {
		if (s->interval != PAYOUT_MONTHLY)
			return req_fail(r, ERR_PARAM_BAD, SCHED "[monthly_payout_days]",
					"monthly_payout_days can only be set with a monthly "
					"interval.");
		if (one_day(r, "payments.payouts.schedule.monthly_payout_days",
			    SCHED "[monthly_payout_days]", pick_monthday, &s->monthly_anchor) != 0)
			return -1;
	}
	if (s->interval == PAYOUT_WEEKLY && s->weekly_anchor < 0)
		return req_fail(r, ERR_PARAM_MISSING, SCHED "[weekly_payout_days]",
				SCHED "[weekly_payout_days]");
	if (s->interval == PAYOUT_MONTHLY && s->monthly_anchor == 0)
		return req_fail(r, ERR_PARAM_MISSING, SCHED "[monthly_payout_days]",
				SCHED "[monthly_payout_days]");
	return 0;
}

/* What Tender cannot honour, refused before anything is read. 0, or -1 with r->err. */
static int refuse_unsupported(struct req *r)
{
	const struct form_node *mb = param_node(r, "payments.payouts.minimum_balance_by_currency");
	/* "" (none) is what Tender does already */
	if (mb && !(mb->kind == FORM_SCALAR && mb->value_len == 0))
		return req_fail(
		    r, ERR_PARAM_BAD, "payments[payouts][minimum_balance_by_currency]",
		    "Minimum balances are not supported: Tender's automatic payouts pay "
		    "out the whole available balance.");
	const char *dd = param_str(r, "payments.settlement_timing.delay_days_override");
	int64_t days = 0;
	if (dd && *dd &&
	    (parse_i64(dd, &days) != 0 || days < PAYOUT_DELAY_DAYS || days > PAYOUT_DELAY_DAYS_MAX))
		return req_fail(
		    r, ERR_PARAM_BAD, "payments[settlement_timing][delay_days_override]",
		    "delay_days_override must be a number of days from %d (Tender's "
		    "minimum: a charge's funds become available 2 days after it) to %d, "
		    "or empty (the minimum).",
		    PAYOUT_DELAY_DAYS, PAYOUT_DELAY_DAYS_MAX);
	return 0;
}

static int retrieve_fn(struct db *db, void *arg)
{
	struct req *r = arg;
	struct payout_settings s;
	if (accounts_payout_settings(r, db, &s) != 0)
		return -1;
	balance_settings_render(req_json(r), &s);
	return 0;
}

static int h_retrieve(struct req *r)
{
	return req_read(r, retrieve_fn, r) == 0 ? 0 : -1;
}

static int update_fn(struct db *db, void *arg)
{
	struct req *r = arg;
	struct payout_settings s;
	if (accounts_payout_settings(r, db, &s) != 0)
		return -1;
	if (!param_present(r, "payments")) {
		balance_settings_render(req_json(r), &s);
		return 0;
	}
	struct payout_schedule sched = s.sched;
	struct payout_settings_change c = {.debit_negative_balances = -1};
	if (param_present(r, "payments.payouts.schedule")) {
		if (schedule_from_params(r, &sched) != 0)
			return -1;
		c.sched = &sched;
	}
	const char *dd = param_str(r, "payments.settlement_timing.delay_days_override");
	if (dd) {
		/* checked by refuse_unsupported; "" is the minimum */
		int64_t days = PAYOUT_DELAY_DAYS;
		if (*dd)
			parse_i64(dd, &days);
		sched.delay_days = (int)days;
		c.sched = &sched;
	}
	bool dnb;
	if (param_bool(r, "payments.debit_negative_balances", &dnb) == 1)
		c.debit_negative_balances = dnb;
	c.statement_descriptor = param_str(r, "payments.payouts.statement_descriptor");
	if (accounts_payout_settings_change(r, db, &c, &s) != 0)
		return -1;
	balance_settings_render(req_json(r), &s);
	return 0;
}

static int h_update(struct req *r)
{
	if (refuse_unsupported(r) != 0)
		return -1;
	return req_write(r, update_fn, r);
}

static const struct param_spec schedule_params[] = {
    {"interval", PT_ENUM, 0, 0, (const char *const[]){"daily", "manual", "monthly", "weekly", NULL},
     NULL},
    {"monthly_payout_days", PT_STRING_ARRAY, 0, 0, NULL, NULL},
    {"weekly_payout_days", PT_STRING_ARRAY, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec payouts_params[] = {
    {"minimum_balance_by_currency", PT_HASH, PF_EMPTYABLE, 0, NULL, NULL},
    {"schedule", PT_OBJECT, 0, 0, NULL, schedule_params},
    {"statement_descriptor", PT_STRING, 0, 22, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec settlement_params[] = {
    {"delay_days_override", PT_INT, PF_EMPTYABLE, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec payments_params[] = {
    {"debit_negative_balances", PT_BOOL, 0, 0, NULL, NULL},
    {"payouts", PT_OBJECT, 0, 0, NULL, payouts_params},
    {"settlement_timing", PT_OBJECT, 0, 0, NULL, settlement_params},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec update_params[] = {
    {"payments", PT_OBJECT, 0, 0, NULL, payments_params},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

const struct route balance_settings_routes[] = {
    {"GET", "/v1/balance_settings", h_retrieve, no_params, 0},
    {"POST", "/v1/balance_settings", h_update, update_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};

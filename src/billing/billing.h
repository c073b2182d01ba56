/*
 * The arithmetic of recurring billing, with no store and no request: billing periods on the UTC
 * calendar, an invoice's total, the retry schedule of a failed renewal, and which of a
 * subscription's dates comes due first. Every function is integer only and refuses (returns
 * -1) instead of overflowing.
 *
 * Periods are counted from the billing cycle anchor, not chained from one another, as Stripe
 * counts them: a monthly subscription anchored on January 31 renews on February 28 (29 in a
 * leap year), then March 31, April 30 … — each end is anchor + k intervals with the day of the
 * month clamped to the month's length, so a short month does not pull every later date in.
 */
#ifndef TENDER_BILLING_BILLING_H
#define TENDER_BILLING_BILLING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum billing_interval { BILLING_DAY, BILLING_WEEK, BILLING_MONTH, BILLING_YEAR };

/* "day", "week", "month", "year" → the interval; -1 for anything else. */
int billing_interval_parse(const char *s, enum billing_interval *ret);

/* t (unix seconds, UTC) moved n intervals forward (n >= 0) on the calendar: days and weeks are
 * 86,400 s each; months and years keep the time of day and the day of the month, clamped to the
 * last day of a shorter month (Jan 31 + 1 month = Feb 28 or 29; Feb 29 + 1 year = Feb 28).
 * 0, or -1 when n is negative or the result would not fit (years past 9999 included). */
int billing_add(int64_t t, enum billing_interval iv, int64_t n, int64_t *ret);

/* t moved n intervals back (n >= 0), the same calendar rule: Mar 31 - 1 month = Feb 28 or 29.
 * The start of the full period that ends at a billing cycle anchor, whose share a first partial
 * period up to that anchor is billed at. 0, or -1 as billing_add. */
int billing_sub(int64_t t, enum billing_interval iv, int64_t n, int64_t *ret);
/* Stripe's billing_cycle_anchor_config: the first time after `start` (UTC) on day_of_month
 * (1-31, clamped to a shorter month's last day) at hour:minute:second, in the month of a
 * monthly price, or in `month` (1-12; 0: start's) of a yearly one. 0, or -1 (a value out of
 * range, an interval other than month or year, a month for a monthly price, overflow). */
int billing_anchor_config(int64_t start, enum billing_interval iv, int day_of_month, int month,
			  int hour, int minute, int second, int64_t *ret);
/* The end of billing period k (k >= 1) of a subscription anchored at `anchor`, billed every
 * `count` intervals: anchor + k × count intervals. 0 or -1 (count < 1, k < 1, overflow). */
int billing_period_end(int64_t anchor, enum billing_interval iv, int64_t count, int64_t k,
		       int64_t *ret);

/* The first period end counted from `since` (since + k × count intervals, k >= 1, as
 * billing_period_end counts them) that is after `after` (the next time a recurring schedule
 * started at `since` comes due, such as a subscription's pending_invoice_item_interval). 0, or
 * -1 (count < 1, overflow). */
int billing_next_after(int64_t since, enum billing_interval iv, int64_t count, int64_t after,
		       int64_t *ret);

/* One invoice line before it is stored: a price's unit amount × quantity. */
struct billing_line {
	int64_t unit_amount; /* minor units, >= 0 */
	int64_t quantity;    /* >= 1 */
};

/* Stripe's largest amount for one payment (and so for one invoice), in minor units. */
#define BILLING_AMOUNT_MAX 99999999LL

/* Line amounts and their sum. ret_amounts (n entries) gets each line's amount. -1 when an
 * amount or quantity is out of range, a product overflows, or the total exceeds
 * BILLING_AMOUNT_MAX; nothing is written then. */
int billing_total(const struct billing_line *lines, int n, int64_t *ret_amounts,
		  int64_t *ret_total);

/* Proration (a change of a subscription's items inside a period): the share of `amount` (the
 * price × quantity of one period, either sign) that `remaining_s` seconds of a `period_s`-second
 * period are worth: amount × remaining_s / period_s, rounded to the nearest minor unit, halves
 * away from zero (so a credit is exactly the negative of the charge it undoes). Exact integer
 * arithmetic (a 128-bit product). -1 when period_s < 1, remaining_s is outside 0 … period_s, or
 * |amount| exceeds BILLING_AMOUNT_MAX. */
int billing_prorate(int64_t amount, int64_t remaining_s, int64_t period_s, int64_t *ret);

/* The retry schedule of an invoice whose automatic payment failed: attempt 1 is made when the
 * invoice is finalized; attempt 2 three days later, attempt 3 seven days after the first (the
 * seed design's "3 attempts over 7 days"). After a failed attempt number `attempts` of an
 * invoice finalized at `finalized_at`: *ret_next is the time of the next attempt and 1 is
 * returned, or 0 when that was the last attempt (the subscription is then canceled, Stripe's
 * default for "if all retries for a payment fail"). -1 on bad input or overflow. */
#define BILLING_ATTEMPTS_MAX 3
int billing_next_attempt(int64_t finalized_at, int attempts, int64_t *ret_next);

/* How long a subscription whose first invoice is not paid stays incomplete (Stripe: 23 h). */
#define BILLING_INCOMPLETE_S (23 * 3600)

/* How long before a trial's end Stripe announces it (customer.subscription.trial_will_end). */
#define BILLING_TRIAL_NOTICE_S (3 * 86400)

/* How long before a renewal that will be charged automatically Stripe sends invoice.upcoming.
 * Stripe keeps it as a Dashboard setting ("Upcoming renewal events", 7 days by default) with no
 * API to change it, so Tender has Stripe's default. */
#define BILLING_UPCOMING_NOTICE_S (7 * 86400)

/* What a subscription waits for, as the scheduler sees it. */
struct billing_state {
	const char *status;	      /* Stripe's subscription status */
	int64_t created;	      /* the subscription's creation (incomplete expires from it) */
	int64_t period_start;	      /* current_period_start */
	int64_t period_end;	      /* current_period_end */
	int64_t trial_start;	      /* 0: none */
	int64_t trial_end;	      /* 0: none */
	bool cancel_at_period_end;    /* cancel at period_end instead of renewing */
	int64_t cancel_at;	      /* cancel then (0: none); after period_end it renews first */
	int64_t invoice_next_attempt; /* the latest invoice's next automatic attempt, 0: none */
	int64_t pause_resumes_at;     /* pause_collection.resumes_at, 0: none (or not paused) */
	bool trial_notice_sent;	      /* trial_will_end already announced for this trial_end */
	/* its renewals are charged automatically (charge_automatically, collection not paused):
	 * each is announced by invoice.upcoming */
	bool upcoming_notice;
	int64_t upcoming_notice_for; /* the renewal last announced (0: none) */
};

enum billing_action {
	BILLING_NONE,		   /* nothing will happen by itself (canceled, paused, …) */
	BILLING_EXPIRE,		   /* incomplete → incomplete_expired, its invoice voided */
	BILLING_RETRY,		   /* the open latest invoice is attempted again */
	BILLING_RESUME_COLLECTION, /* pause_collection's resumes_at reached: it is unset */
	BILLING_TRIAL_WILL_END,	   /* three days before the trial's end: announced, once */
	BILLING_UPCOMING,	   /* a week before a charged renewal: invoice.upcoming, once */
	BILLING_CANCEL,		   /* cancel_at_period_end, or cancel_at, reached */
	BILLING_TRIAL_END,	   /* the trial ends: the first paid period starts */
	BILLING_RENEW,		   /* the period ends: the next one starts with its invoice */
};

/* The first thing due for s, and when (*ret_at). Ties are taken in the order above: an
 * expiring or retried invoice is dealt with before the period moves on, collection resumes
 * before a renewal at the same instant (that renewal is collected), and a trial is announced
 * before it ends. The announcement is due BILLING_TRIAL_NOTICE_S before trial_end, or at the
 * trial's start when the trial is shorter. BILLING_UPCOMING is due BILLING_UPCOMING_NOTICE_S
 * before a renewal (or a trial's end) that will be charged, once per renewal (its time is
 * upcoming_notice_for once announced); none when the period (or trial) is shorter than that
 * (the renewal before it would have to announce it), nor for a cancellation. A paused subscription
 * has nothing due but the retry of its resumption invoice: only POST …/resume moves it. A cancel_at
 * at or before the period's (or trial's) end is that end's action instead of the renewal
 * (BILLING_CANCEL at cancel_at); a later one waits for the renewals up to it. BILLING_NONE leaves
 * *ret_at 0.
 */
enum billing_action billing_next_action(const struct billing_state *s, int64_t *ret_at);

/* The billing period of a subscription anchored at `anchor` (every `count` intervals) that
 * contains t >= anchor: period k (k >= 1) runs from end(k-1) (the anchor for k = 1) to end(k),
 * with end(k-1) <= t < end(k). Used to resume a paused subscription on its old cycle. 0, or -1
 * (t < anchor, count < 1, overflow). */
int billing_period_at(int64_t anchor, enum billing_interval iv, int64_t count, int64_t t,
		      int64_t *ret_k, int64_t *ret_start, int64_t *ret_end);

/* ---- discounts ----
 *
 * A coupon takes either a percentage or an amount off. Percentages are kept as integers in
 * millionths of the whole (percent × 10,000: 25.5 % is 255,000; 100 % is 1,000,000), so no float
 * ever touches an amount. One rounding rule, Stripe's: a percentage is taken off each line on
 * its own, rounded to the nearest minor unit (halves up: discounted amounts are positive). An
 * amount off is one sum for the whole invoice, spread over the lines it applies to in proportion
 * to what is left of them (largest remainders get the odd units, ties to the earlier line), so
 * the lines' shares add up to it exactly. Neither ever takes a line below zero. */
#define BILLING_PERCENT_ONE 1000000LL  /* 100 % */
#define BILLING_DISCOUNT_LINES_MAX 512 /* more lines than an invoice holds */

/* "25.5", "100", "0.0001" → percent × 10,000 (at most four decimals, 0 < p <= 100). 0, or -1
 * for anything else (signs, exponents, spaces, more decimals, out of range). */
int billing_percent_parse(const char *s, int64_t *ret_e4);
/* The shortest decimal for percent_e4 ("25.5", "100", "0.0001") into out (size >= 16). */
void billing_percent_format(int64_t percent_e4, char *out, size_t size);

/* Applies one discount to n lines: for each line i with eligible[i] and remaining[i] > 0, its
 * share ret_amounts[i] (0 for the others), taken off remaining[i]. percent_e4 > 0: a percentage;
 * else amount_off (>= 0) spread as described above, at most what is left. *ret_total: the sum.
 * 0, or -1 on bad input (a remaining amount or the total out of BILLING_AMOUNT_MAX) with nothing
 * written. */
int billing_discount_lines(int64_t percent_e4, int64_t amount_off, int64_t *remaining,
			   const bool *eligible, int n, int64_t *ret_amounts, int64_t *ret_total);

/* ---- what pays an invoice ----
 *
 * Stripe's order for the payment method (or legacy source) an invoice is charged with when no
 * payment names one: the invoice's own default_payment_method, its default_source, its
 * subscription's default_payment_method, that one's default_source, its customer's
 * invoice_settings.default_payment_method, the customer's default_source. The first of them
 * set (not NULL, not "") pays; NULL when none is. Pure: the caller reads the six levels. */
struct billing_pay_levels {
	const char *invoice_pm, *invoice_source;
	const char *subscription_pm, *subscription_source;
	const char *customer_pm, *customer_source;
};
const char *billing_pay_with(const struct billing_pay_levels *l);

#endif

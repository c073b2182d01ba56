#include <criterion/criterion.h>
#include <stdint.h>

#include "billing/billing.h"

/* Unix seconds of a UTC date and time, written out independently of billing.c (days counted
 * with the Gregorian leap rule from 1970). */
static int64_t utc(int y, int m, int d, int hh, int mm, int ss)
{
	static const int cum[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
	int64_t days = 0;
	for (int yy = 1970; yy < y; yy++)
		days += (yy % 4 == 0 && (yy % 100 != 0 || yy % 400 == 0)) ? 366 : 365;
	days += cum[m - 1] + d - 1;
	if (m > 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		days += 1;
	return days * 86400 + hh * 3600 + mm * 60 + ss;
}

static int64_t add(int64_t t, enum billing_interval iv, int64_t n)
{
	int64_t out = -1;
	cr_assert_eq(billing_add(t, iv, n, &out), 0);
	return out;
}

Test(billing, month_ends_clamp_to_shorter_months)
{
	int64_t jan31 = utc(2025, 1, 31, 13, 45, 7);
	cr_assert_eq(add(jan31, BILLING_MONTH, 1), utc(2025, 2, 28, 13, 45, 7));
	cr_assert_eq(add(jan31, BILLING_MONTH, 2), utc(2025, 3, 31, 13, 45, 7));
	cr_assert_eq(add(jan31, BILLING_MONTH, 3), utc(2025, 4, 30, 13, 45, 7));
	cr_assert_eq(add(utc(2025, 8, 31, 0, 0, 0), BILLING_MONTH, 1), utc(2025, 9, 30, 0, 0, 0));
	cr_assert_eq(add(utc(2025, 12, 15, 0, 0, 0), BILLING_MONTH, 1), utc(2026, 1, 15, 0, 0, 0));
	cr_assert_eq(add(utc(2025, 11, 30, 0, 0, 0), BILLING_MONTH, 3), utc(2026, 2, 28, 0, 0, 0));
}

Test(billing, leap_years)
{
	cr_assert_eq(add(utc(2024, 1, 31, 0, 0, 0), BILLING_MONTH, 1), utc(2024, 2, 29, 0, 0, 0));
	cr_assert_eq(add(utc(2024, 2, 29, 9, 0, 0), BILLING_YEAR, 1), utc(2025, 2, 28, 9, 0, 0));
	cr_assert_eq(add(utc(2024, 2, 29, 9, 0, 0), BILLING_YEAR, 4), utc(2028, 2, 29, 9, 0, 0));
	/* 2100 is not a leap year, 2000 was */
	cr_assert_eq(add(utc(2100, 1, 31, 0, 0, 0), BILLING_MONTH, 1), utc(2100, 2, 28, 0, 0, 0));
	cr_assert_eq(add(utc(2000, 1, 31, 0, 0, 0), BILLING_MONTH, 1), utc(2000, 2, 29, 0, 0, 0));
	cr_assert_eq(add(utc(2023, 3, 1, 0, 0, 0), BILLING_DAY, 365), utc(2024, 2, 29, 0, 0, 0));
}

Test(billing, periods_count_from_the_anchor_not_from_the_last_period)
{
	int64_t anchor = utc(2025, 1, 31, 12, 0, 0), end = 0;
	cr_assert_eq(billing_period_end(anchor, BILLING_MONTH, 1, 1, &end), 0);
	cr_assert_eq(end, utc(2025, 2, 28, 12, 0, 0));
	/* chaining Feb 28 + 1 month would give Mar 28: the anchor's day comes back */
	cr_assert_eq(billing_period_end(anchor, BILLING_MONTH, 1, 2, &end), 0);
	cr_assert_eq(end, utc(2025, 3, 31, 12, 0, 0));
	cr_assert_eq(billing_period_end(anchor, BILLING_MONTH, 3, 2, &end), 0);
	cr_assert_eq(end, utc(2025, 7, 31, 12, 0, 0));
	cr_assert_eq(billing_period_end(anchor, BILLING_WEEK, 2, 3, &end), 0);
	cr_assert_eq(end, anchor + 6 * 7 * 86400);
	cr_assert_eq(billing_period_end(anchor, BILLING_MONTH, 0, 1, &end), -1);
	cr_assert_eq(billing_period_end(anchor, BILLING_MONTH, 1, 0, &end), -1);
}

Test(billing, next_after_counts_from_since)
{
	int64_t since = utc(2025, 1, 31, 12, 0, 0), at = 0;
	/* the first end after `since` itself is one interval on */
	cr_assert_eq(billing_next_after(since, BILLING_MONTH, 1, since, &at), 0);
	cr_assert_eq(at, utc(2025, 2, 28, 12, 0, 0));
	/* an end equal to `after` is not after it; the anchor's day comes back in March */
	cr_assert_eq(billing_next_after(since, BILLING_MONTH, 1, utc(2025, 2, 28, 12, 0, 0), &at),
		     0);
	cr_assert_eq(at, utc(2025, 3, 31, 12, 0, 0));
	cr_assert_eq(billing_next_after(since, BILLING_WEEK, 2, since + 15 * 86400, &at), 0);
	cr_assert_eq(at, since + 28 * 86400);
	cr_assert_eq(billing_next_after(since, BILLING_DAY, 1, since + 86400, &at), 0);
	cr_assert_eq(at, since + 2 * 86400);
	cr_assert_eq(billing_next_after(since, BILLING_DAY, 1, since - 5 * 86400, &at), 0);
	cr_assert_eq(at, since + 86400);
	cr_assert_eq(billing_next_after(since, BILLING_YEAR, 1, utc(2030, 6, 1, 0, 0, 0), &at), 0);
	cr_assert_eq(at, utc(2031, 1, 31, 12, 0, 0));
	cr_assert_eq(billing_next_after(since, BILLING_MONTH, 0, since, &at), -1);
	cr_assert_eq(billing_next_after(since, BILLING_DAY, 1, INT64_MAX - 10, &at), -1);
}

Test(billing, refuses_overflow_and_out_of_range)
{
	int64_t out = 42;
	cr_assert_eq(billing_add(INT64_MAX - 10, BILLING_DAY, 1, &out), -1);
	cr_assert_eq(billing_add(0, BILLING_WEEK, INT64_MAX / 2, &out), -1);
	cr_assert_eq(billing_add(0, BILLING_YEAR, INT64_MAX / 6, &out), -1);
	cr_assert_eq(billing_add(utc(9999, 6, 1, 0, 0, 0), BILLING_YEAR, 1, &out), -1);
	cr_assert_eq(billing_add(0, BILLING_MONTH, -1, &out), -1);
	cr_assert_eq(out, 42, "nothing written on refusal");
	enum billing_interval iv;
	cr_assert_eq(billing_interval_parse("fortnight", &iv), -1);
	cr_assert_eq(billing_interval_parse("month", &iv), 0);
	cr_assert_eq(iv, BILLING_MONTH);
}

Test(billing, totals_multiply_and_sum_and_refuse_overflow)
{
	struct billing_line ok[] = {{2000, 1}, {500, 3}, {0, 7}};
	int64_t amounts[3] = {-1, -1, -1}, total = -1;
	cr_assert_eq(billing_total(ok, 3, amounts, &total), 0);
	cr_assert_eq(amounts[0], 2000);
	cr_assert_eq(amounts[1], 1500);
	cr_assert_eq(amounts[2], 0);
	cr_assert_eq(total, 3500);

	struct billing_line huge[] = {{INT64_MAX / 2, 3}};
	total = -1;
	cr_assert_eq(billing_total(huge, 1, amounts, &total), -1);
	cr_assert_eq(total, -1);
	/* each line fits, the sum passes the largest payment */
	struct billing_line sum[] = {{BILLING_AMOUNT_MAX, 1}, {1, 1}};
	cr_assert_eq(billing_total(sum, 2, amounts, &total), -1);
	struct billing_line at_max[] = {{BILLING_AMOUNT_MAX - 1, 1}, {1, 1}};
	cr_assert_eq(billing_total(at_max, 2, amounts, &total), 0);
	cr_assert_eq(total, BILLING_AMOUNT_MAX);
	struct billing_line bad_q[] = {{100, 0}};
	cr_assert_eq(billing_total(bad_q, 1, amounts, &total), -1);
	struct billing_line negative[] = {{-100, 1}};
	cr_assert_eq(billing_total(negative, 1, amounts, &total), -1);
}

Test(billing, retry_schedule_is_day_3_then_day_7_then_gives_up)
{
	int64_t f = utc(2025, 3, 10, 8, 0, 0), next = 0;
	cr_assert_eq(billing_next_attempt(f, 1, &next), 1);
	cr_assert_eq(next, utc(2025, 3, 13, 8, 0, 0));
	cr_assert_eq(billing_next_attempt(f, 2, &next), 1);
	cr_assert_eq(next, utc(2025, 3, 17, 8, 0, 0));
	next = 5;
	cr_assert_eq(billing_next_attempt(f, 3, &next), 0);
	cr_assert_eq(next, 5);
	cr_assert_eq(billing_next_attempt(f, 0, &next), -1);
	cr_assert_eq(billing_next_attempt(f, 4, &next), -1);
}

Test(billing, next_action_picks_the_earliest_and_breaks_ties_in_order)
{
	int64_t at = -1;
	struct billing_state s = {.status = "active", .created = 100, .period_end = 1000};
	cr_assert_eq(billing_next_action(&s, &at), BILLING_RENEW);
	cr_assert_eq(at, 1000);
	s.cancel_at_period_end = true;
	cr_assert_eq(billing_next_action(&s, &at), BILLING_CANCEL);
	cr_assert_eq(at, 1000);
	s.cancel_at_period_end = false;
	s.status = "past_due";
	s.invoice_next_attempt = 400;
	cr_assert_eq(billing_next_action(&s, &at), BILLING_RETRY);
	cr_assert_eq(at, 400);
	s.invoice_next_attempt = 1000; /* a retry due with the renewal goes first */
	cr_assert_eq(billing_next_action(&s, &at), BILLING_RETRY);
	s.invoice_next_attempt = 1001;
	cr_assert_eq(billing_next_action(&s, &at), BILLING_RENEW);

	/* (the trial was announced already: see a_trial_is_announced_three_days_before…) */
	struct billing_state t = {
	    .status = "trialing", .period_end = 500, .trial_end = 500, .trial_notice_sent = true};
	cr_assert_eq(billing_next_action(&t, &at), BILLING_TRIAL_END);
	cr_assert_eq(at, 500);
	t.cancel_at_period_end = true;
	cr_assert_eq(billing_next_action(&t, &at), BILLING_CANCEL);

	struct billing_state i = {.status = "incomplete", .created = 100, .period_end = 5000};
	cr_assert_eq(billing_next_action(&i, &at), BILLING_EXPIRE);
	cr_assert_eq(at, 100 + BILLING_INCOMPLETE_S);

	struct billing_state c = {.status = "canceled", .period_end = 5000};
	cr_assert_eq(billing_next_action(&c, &at), BILLING_NONE);
	cr_assert_eq(at, 0);
	c.status = "incomplete_expired";
	cr_assert_eq(billing_next_action(&c, &at), BILLING_NONE);
}

Test(billing, cancel_at_within_the_period_ends_it_then_and_a_later_one_renews_first)
{
	int64_t at = -1;
	struct billing_state s = {
	    .status = "active", .created = 100, .period_end = 1000, .cancel_at = 600};
	cr_assert_eq(billing_next_action(&s, &at), BILLING_CANCEL);
	cr_assert_eq(at, 600);
	s.cancel_at = 1000; /* at the period's end: no renewal */
	cr_assert_eq(billing_next_action(&s, &at), BILLING_CANCEL);
	cr_assert_eq(at, 1000);
	s.cancel_at = 1001; /* in a later period: the renewal comes first */
	cr_assert_eq(billing_next_action(&s, &at), BILLING_RENEW);
	cr_assert_eq(at, 1000);
	s.cancel_at = 600;
	s.status = "past_due";
	s.invoice_next_attempt = 400; /* a retry before it goes first */
	cr_assert_eq(billing_next_action(&s, &at), BILLING_RETRY);
	cr_assert_eq(at, 400);
	/* during a trial: before the trial's end it cancels, after it the trial ends first */
	struct billing_state t = {.status = "trialing",
				  .period_end = 500,
				  .trial_end = 500,
				  .trial_notice_sent = true,
				  .cancel_at = 300};
	cr_assert_eq(billing_next_action(&t, &at), BILLING_CANCEL);
	cr_assert_eq(at, 300);
	t.cancel_at = 800;
	cr_assert_eq(billing_next_action(&t, &at), BILLING_TRIAL_END);
	cr_assert_eq(at, 500);
	/* an ended one has nothing due */
	struct billing_state c = {.status = "canceled", .period_end = 5000, .cancel_at = 600};
	cr_assert_eq(billing_next_action(&c, &at), BILLING_NONE);
}

Test(billing, prorate_rounds_each_line_to_the_nearest_minor_unit)
{
	int64_t v = 0;
	/* half of a 31-day month of 30.00 */
	cr_assert_eq(billing_prorate(3000, 31 * 86400 / 2, 31 * 86400, &v), 0);
	cr_assert_eq(v, 1500);
	/* 10 days of 31 of 30.00 = 967.74… → 968; the credit is its exact negative */
	cr_assert_eq(billing_prorate(3000, 10 * 86400, 31 * 86400, &v), 0);
	cr_assert_eq(v, 968);
	cr_assert_eq(billing_prorate(-3000, 10 * 86400, 31 * 86400, &v), 0);
	cr_assert_eq(v, -968);
	/* an exact half rounds away from zero: 1 × 1/2 → 1, -1 × 1/2 → -1 */
	cr_assert_eq(billing_prorate(1, 1, 2, &v), 0);
	cr_assert_eq(v, 1);
	cr_assert_eq(billing_prorate(-1, 1, 2, &v), 0);
	cr_assert_eq(v, -1);
	/* just under a half rounds down: 1 × 49/100 → 0 */
	cr_assert_eq(billing_prorate(1, 49, 100, &v), 0);
	cr_assert_eq(v, 0);
	/* the whole period and none of it */
	cr_assert_eq(billing_prorate(4321, 100, 100, &v), 0);
	cr_assert_eq(v, 4321);
	cr_assert_eq(billing_prorate(4321, 0, 100, &v), 0);
	cr_assert_eq(v, 0);
	/* the largest amount over ten years of seconds: no overflow */
	cr_assert_eq(billing_prorate(BILLING_AMOUNT_MAX, 315360000 - 1, 315360000, &v), 0);
	cr_assert_eq(v, BILLING_AMOUNT_MAX);
}

Test(billing, prorate_refuses_bad_input)
{
	int64_t v = 77;
	cr_assert_eq(billing_prorate(100, 1, 0, &v), -1);
	cr_assert_eq(billing_prorate(100, -1, 10, &v), -1);
	cr_assert_eq(billing_prorate(100, 11, 10, &v), -1);
	cr_assert_eq(billing_prorate(BILLING_AMOUNT_MAX + 1, 1, 10, &v), -1);
	cr_assert_eq(billing_prorate(-BILLING_AMOUNT_MAX - 1, 1, 10, &v), -1);
	cr_assert_eq(v, 77);
}

Test(billing, pause_resumes_before_a_renewal_at_the_same_time)
{
	int64_t at = -1;
	struct billing_state s = {.status = "active", .period_end = 1000, .pause_resumes_at = 700};
	cr_assert_eq(billing_next_action(&s, &at), BILLING_RESUME_COLLECTION);
	cr_assert_eq(at, 700);
	s.pause_resumes_at = 1000; /* collection resumes first: the renewal is collected */
	cr_assert_eq(billing_next_action(&s, &at), BILLING_RESUME_COLLECTION);
	s.pause_resumes_at = 1001;
	cr_assert_eq(billing_next_action(&s, &at), BILLING_RENEW);
	cr_assert_eq(at, 1000);
	s.pause_resumes_at = 500;
	s.invoice_next_attempt = 500; /* an older invoice's retry goes before */
	cr_assert_eq(billing_next_action(&s, &at), BILLING_RETRY);
	/* nothing resumes a canceled one */
	s.status = "canceled";
	cr_assert_eq(billing_next_action(&s, &at), BILLING_NONE);
}

Test(billing, a_charged_renewal_is_announced_a_week_before_once)
{
	int64_t at = -1, day = 86400;
	struct billing_state a = {
	    .status = "active", .period_start = 0, .period_end = 30 * day, .upcoming_notice = true};
	cr_assert_eq(billing_next_action(&a, &at), BILLING_UPCOMING);
	cr_assert_eq(at, 23 * day);
	/* announced for this renewal: the renewal is next */
	a.upcoming_notice_for = 30 * day;
	cr_assert_eq(billing_next_action(&a, &at), BILLING_RENEW);
	cr_assert_eq(at, 30 * day);
	/* the next period's is announced again */
	a.period_start = 30 * day;
	a.period_end = 61 * day;
	cr_assert_eq(billing_next_action(&a, &at), BILLING_UPCOMING);
	cr_assert_eq(at, 54 * day);
	/* not charged automatically (send_invoice, collection paused): no announcement */
	a.upcoming_notice = false;
	cr_assert_eq(billing_next_action(&a, &at), BILLING_RENEW);
	/* nor for a cancellation at the period's end, nor in a period shorter than a week */
	struct billing_state c = {.status = "active",
				  .period_end = 30 * day,
				  .cancel_at_period_end = true,
				  .upcoming_notice = true};
	cr_assert_eq(billing_next_action(&c, &at), BILLING_CANCEL);
	struct billing_state w = {.status = "active",
				  .period_start = 100 * day,
				  .period_end = 103 * day,
				  .upcoming_notice = true};
	cr_assert_eq(billing_next_action(&w, &at), BILLING_RENEW);
	/* a trial's end is announced a week before it, then the trial's own notice */
	struct billing_state t = {.status = "trialing",
				  .trial_start = 0,
				  .trial_end = 14 * day,
				  .period_end = 14 * day,
				  .upcoming_notice = true};
	cr_assert_eq(billing_next_action(&t, &at), BILLING_UPCOMING);
	cr_assert_eq(at, 7 * day);
	t.upcoming_notice_for = 14 * day;
	cr_assert_eq(billing_next_action(&t, &at), BILLING_TRIAL_WILL_END);
	cr_assert_eq(at, 11 * day);
}

Test(billing, a_trial_is_announced_three_days_before_it_ends_once)
{
	int64_t at = -1, day = 86400;
	struct billing_state t = {
	    .status = "trialing", .trial_start = 0, .trial_end = 14 * day, .period_end = 14 * day};
	cr_assert_eq(billing_next_action(&t, &at), BILLING_TRIAL_WILL_END);
	cr_assert_eq(at, 11 * day);
	t.trial_notice_sent = true;
	cr_assert_eq(billing_next_action(&t, &at), BILLING_TRIAL_END);
	cr_assert_eq(at, 14 * day);
	/* a trial shorter than three days is announced when it starts */
	struct billing_state s = {.status = "trialing",
				  .trial_start = 5000,
				  .trial_end = 5000 + day,
				  .period_end = 5000 + day};
	cr_assert_eq(billing_next_action(&s, &at), BILLING_TRIAL_WILL_END);
	cr_assert_eq(at, 5000);
	/* an active subscription has no trial to announce */
	struct billing_state a = {
	    .status = "active", .trial_start = 0, .trial_end = 10, .period_end = 99};
	cr_assert_eq(billing_next_action(&a, &at), BILLING_RENEW);
	/* a paused one waits for resume */
	struct billing_state p = {.status = "paused", .trial_end = 10, .period_end = 10};
	cr_assert_eq(billing_next_action(&p, &at), BILLING_NONE);
	cr_assert_eq(at, 0);
	/* but its resumption invoice is retried */
	p.invoice_next_attempt = 77;
	cr_assert_eq(billing_next_action(&p, &at), BILLING_RETRY);
	cr_assert_eq(at, 77);
}

Test(billing, period_at_finds_the_period_around_a_time)
{
	int64_t anchor = utc(2025, 1, 31, 12, 0, 0), k = 0, s = 0, e = 0;
	cr_assert_eq(billing_period_at(anchor, BILLING_MONTH, 1, anchor, &k, &s, &e), 0);
	cr_assert_eq(k, 1);
	cr_assert_eq(s, anchor);
	cr_assert_eq(e, utc(2025, 2, 28, 12, 0, 0));
	/* Mar 1 is in the second period (Feb 28 … Mar 31) */
	cr_assert_eq(
	    billing_period_at(anchor, BILLING_MONTH, 1, utc(2025, 3, 1, 0, 0, 0), &k, &s, &e), 0);
	cr_assert_eq(k, 2);
	cr_assert_eq(s, utc(2025, 2, 28, 12, 0, 0));
	cr_assert_eq(e, utc(2025, 3, 31, 12, 0, 0));
	/* a period's end belongs to the next one */
	cr_assert_eq(
	    billing_period_at(anchor, BILLING_MONTH, 1, utc(2025, 3, 31, 12, 0, 0), &k, &s, &e), 0);
	cr_assert_eq(k, 3);
	cr_assert_eq(e, utc(2025, 4, 30, 12, 0, 0));
	/* the second before it does not */
	cr_assert_eq(
	    billing_period_at(anchor, BILLING_MONTH, 1, utc(2025, 3, 31, 11, 59, 59), &k, &s, &e),
	    0);
	cr_assert_eq(k, 2);
	/* quarters, years, weeks, days */
	cr_assert_eq(
	    billing_period_at(anchor, BILLING_MONTH, 3, utc(2025, 9, 1, 0, 0, 0), &k, &s, &e), 0);
	cr_assert_eq(k, 3);
	cr_assert_eq(s, utc(2025, 7, 31, 12, 0, 0));
	cr_assert_eq(e, utc(2025, 10, 31, 12, 0, 0));
	cr_assert_eq(
	    billing_period_at(anchor, BILLING_YEAR, 1, utc(2027, 1, 31, 11, 0, 0), &k, &s, &e), 0);
	cr_assert_eq(k, 2);
	cr_assert_eq(billing_period_at(anchor, BILLING_WEEK, 2, anchor + 15 * 86400, &k, &s, &e),
		     0);
	cr_assert_eq(k, 2);
	cr_assert_eq(s, anchor + 14 * 86400);
	cr_assert_eq(
	    billing_period_at(anchor, BILLING_DAY, 1, anchor + 86400 * 700 + 5, &k, &s, &e), 0);
	cr_assert_eq(k, 701);
	cr_assert_eq(e, anchor + 701 * 86400);
	/* before the anchor: refused */
	k = 42;
	cr_assert_eq(billing_period_at(anchor, BILLING_MONTH, 1, anchor - 1, &k, &s, &e), -1);
	cr_assert_eq(billing_period_at(anchor, BILLING_MONTH, 0, anchor, &k, &s, &e), -1);
	cr_assert_eq(k, 42);
}

Test(billing, percent_parse_and_format)
{
	int64_t v = 0;
	cr_assert_eq(billing_percent_parse("25.5", &v), 0);
	cr_assert_eq(v, 255000);
	cr_assert_eq(billing_percent_parse("100", &v), 0);
	cr_assert_eq(v, BILLING_PERCENT_ONE);
	cr_assert_eq(billing_percent_parse("0.0001", &v), 0);
	cr_assert_eq(v, 1);
	cr_assert_eq(billing_percent_parse("33.3333", &v), 0);
	cr_assert_eq(v, 333333);
	cr_assert_eq(billing_percent_parse("7.50", &v), 0);
	cr_assert_eq(v, 75000);
	v = 42;
	const char *bad[] = {"",   "0",	 "0.0", "100.0001", "101",  "-5",  "+5",  "1e2", " 5",
			     "5 ", "5.", ".5",	"1.00001",  "1000", "abc", "5,5", NULL};
	for (int i = 0; bad[i]; i++)
		cr_assert_eq(billing_percent_parse(bad[i], &v), -1, "%s", bad[i]);
	cr_assert_eq(v, 42);
	char out[16];
	billing_percent_format(255000, out, sizeof(out));
	cr_assert_str_eq(out, "25.5");
	billing_percent_format(BILLING_PERCENT_ONE, out, sizeof(out));
	cr_assert_str_eq(out, "100");
	billing_percent_format(1, out, sizeof(out));
	cr_assert_str_eq(out, "0.0001");
	billing_percent_format(333333, out, sizeof(out));
	cr_assert_str_eq(out, "33.3333");
}

Test(billing, percent_off_rounds_each_line_to_the_nearest_unit)
{
	int64_t rem[4] = {3000, 999, 1, 250};
	bool el[4] = {true, true, true, false};
	int64_t out[4], total = 0;
	/* 15 %: 450; 149.85 → 150; 0.15 → 0; the ineligible line none */
	cr_assert_eq(billing_discount_lines(150000, 0, rem, el, 4, out, &total), 0);
	cr_assert_eq(out[0], 450);
	cr_assert_eq(out[1], 150);
	cr_assert_eq(out[2], 0);
	cr_assert_eq(out[3], 0);
	cr_assert_eq(total, 600);
	cr_assert_eq(rem[0], 2550);
	cr_assert_eq(rem[1], 849);
	cr_assert_eq(rem[3], 250);
	/* an exact half rounds up: 10 % of 5 = 0.5 → 1 */
	int64_t r2[1] = {5};
	bool e2[1] = {true};
	cr_assert_eq(billing_discount_lines(100000, 0, r2, e2, 1, out, &total), 0);
	cr_assert_eq(out[0], 1);
	/* 100 % takes the whole line, never more; a credit line (negative) is left alone */
	int64_t r3[2] = {1234, -500};
	bool e3[2] = {true, true};
	cr_assert_eq(billing_discount_lines(BILLING_PERCENT_ONE, 0, r3, e3, 2, out, &total), 0);
	cr_assert_eq(out[0], 1234);
	cr_assert_eq(out[1], 0);
	cr_assert_eq(r3[0], 0);
	cr_assert_eq(r3[1], -500);
}

Test(billing, amount_off_is_spread_in_proportion_and_adds_up_exactly)
{
	/* 10.00 over 30.00 + 15.00 + 5.00: 6.00, 3.00, 1.00 */
	int64_t rem[3] = {3000, 1500, 500};
	bool el[3] = {true, true, true};
	int64_t out[3], total = 0;
	cr_assert_eq(billing_discount_lines(0, 1000, rem, el, 3, out, &total), 0);
	cr_assert_eq(out[0], 600);
	cr_assert_eq(out[1], 300);
	cr_assert_eq(out[2], 100);
	cr_assert_eq(total, 1000);
	/* 1.00 over three equal lines: 34 + 33 + 33, the odd unit to the first */
	int64_t r2[3] = {100, 100, 100};
	cr_assert_eq(billing_discount_lines(0, 100, r2, el, 3, out, &total), 0);
	cr_assert_eq(out[0], 34);
	cr_assert_eq(out[1], 33);
	cr_assert_eq(out[2], 33);
	cr_assert_eq(out[0] + out[1] + out[2], 100);
	/* 2 units over 1, 1, 998: remainders 0.002, 0.002, 1.996 → 0, 0, 2 */
	int64_t r3[3] = {1, 1, 998};
	cr_assert_eq(billing_discount_lines(0, 2, r3, el, 3, out, &total), 0);
	cr_assert_eq(out[0] + out[1] + out[2], 2);
	cr_assert_eq(out[2], 2);
	/* more off than there is: the lines go to zero, no further */
	int64_t r4[3] = {300, 200, 700};
	bool e4[3] = {true, true, false};
	cr_assert_eq(billing_discount_lines(0, 5000, r4, e4, 3, out, &total), 0);
	cr_assert_eq(out[0], 300);
	cr_assert_eq(out[1], 200);
	cr_assert_eq(out[2], 0);
	cr_assert_eq(total, 500);
	cr_assert_eq(r4[0], 0);
	cr_assert_eq(r4[2], 700);
	/* nothing eligible: nothing off */
	int64_t r5[1] = {500};
	bool e5[1] = {false};
	cr_assert_eq(billing_discount_lines(0, 100, r5, e5, 1, out, &total), 0);
	cr_assert_eq(total, 0);
	cr_assert_eq(out[0], 0);
}

Test(billing, discounts_refuse_bad_input)
{
	int64_t rem[1] = {BILLING_AMOUNT_MAX + 1}, out[1] = {77}, total = 5;
	bool el[1] = {true};
	cr_assert_eq(billing_discount_lines(100000, 0, rem, el, 1, out, &total), -1);
	rem[0] = 100;
	cr_assert_eq(billing_discount_lines(BILLING_PERCENT_ONE + 1, 0, rem, el, 1, out, &total),
		     -1);
	cr_assert_eq(billing_discount_lines(0, -1, rem, el, 1, out, &total), -1);
	cr_assert_eq(billing_discount_lines(0, BILLING_AMOUNT_MAX + 1, rem, el, 1, out, &total),
		     -1);
	cr_assert_eq(
	    billing_discount_lines(0, 1, rem, el, BILLING_DISCOUNT_LINES_MAX + 1, out, &total), -1);
	cr_assert_eq(out[0], 77);
	cr_assert_eq(total, 5);
	cr_assert_eq(rem[0], 100);
}

Test(billing, sub_goes_back_on_the_same_calendar)
{
	int64_t out = -1;
	cr_assert_eq(billing_sub(utc(2025, 3, 31, 8, 0, 0), BILLING_MONTH, 1, &out), 0);
	cr_assert_eq(out, utc(2025, 2, 28, 8, 0, 0));
	cr_assert_eq(billing_sub(utc(2024, 3, 31, 8, 0, 0), BILLING_MONTH, 1, &out), 0);
	cr_assert_eq(out, utc(2024, 2, 29, 8, 0, 0));
	cr_assert_eq(billing_sub(utc(2025, 1, 1, 0, 0, 0), BILLING_MONTH, 1, &out), 0);
	cr_assert_eq(out, utc(2024, 12, 1, 0, 0, 0));
	cr_assert_eq(billing_sub(utc(2025, 3, 1, 0, 0, 0), BILLING_YEAR, 1, &out), 0);
	cr_assert_eq(out, utc(2024, 3, 1, 0, 0, 0));
	cr_assert_eq(billing_sub(utc(2025, 3, 15, 0, 0, 0), BILLING_WEEK, 2, &out), 0);
	cr_assert_eq(out, utc(2025, 3, 1, 0, 0, 0));
	cr_assert_eq(billing_sub(0, BILLING_DAY, -1, &out), -1);
	cr_assert_eq(billing_sub(INT64_MIN + 10, BILLING_DAY, 1, &out), -1);
}

Test(billing, anchor_config_is_the_next_matching_time)
{
	int64_t out = -1;
	int64_t start = utc(2025, 3, 11, 9, 30, 0);
	/* the 1st at midnight: next month's */
	cr_assert_eq(billing_anchor_config(start, BILLING_MONTH, 1, 0, 0, 0, 0, &out), 0);
	cr_assert_eq(out, utc(2025, 4, 1, 0, 0, 0));
	/* later this month */
	cr_assert_eq(billing_anchor_config(start, BILLING_MONTH, 20, 0, 12, 5, 6, &out), 0);
	cr_assert_eq(out, utc(2025, 3, 20, 12, 5, 6));
	/* the 31st in April: its last day */
	cr_assert_eq(
	    billing_anchor_config(utc(2025, 4, 2, 0, 0, 0), BILLING_MONTH, 31, 0, 0, 0, 0, &out),
	    0);
	cr_assert_eq(out, utc(2025, 4, 30, 0, 0, 0));
	/* yearly: in the month given, this year or next */
	cr_assert_eq(billing_anchor_config(start, BILLING_YEAR, 1, 1, 0, 0, 0, &out), 0);
	cr_assert_eq(out, utc(2026, 1, 1, 0, 0, 0));
	cr_assert_eq(billing_anchor_config(start, BILLING_YEAR, 29, 6, 0, 0, 0, &out), 0);
	cr_assert_eq(out, utc(2025, 6, 29, 0, 0, 0));
	/* refused: a month for a monthly price, days and weeks, values out of range */
	cr_assert_eq(billing_anchor_config(start, BILLING_MONTH, 1, 2, 0, 0, 0, &out), -1);
	cr_assert_eq(billing_anchor_config(start, BILLING_WEEK, 1, 0, 0, 0, 0, &out), -1);
	cr_assert_eq(billing_anchor_config(start, BILLING_MONTH, 32, 0, 0, 0, 0, &out), -1);
	cr_assert_eq(billing_anchor_config(start, BILLING_MONTH, 1, 0, 24, 0, 0, &out), -1);
}

Test(billing, pay_with_order)
{
	/* each level pays when every level before it is unset; "" counts as unset */
	const char *ids[6] = {"pm_inv", "card_inv", "pm_sub", "card_sub", "pm_cus", "card_cus"};
	for (int k = 0; k < 6; k++) {
		const char *v[6];
		for (int i = 0; i < 6; i++)
			v[i] = i < k ? (i % 2 ? "" : NULL) : ids[i];
		struct billing_pay_levels l = {v[0], v[1], v[2], v[3], v[4], v[5]};
		cr_assert_str_eq(billing_pay_with(&l), ids[k]);
	}
	struct billing_pay_levels none = {NULL, "", NULL, "", NULL, NULL};
	cr_assert_null(billing_pay_with(&none));
	/* a subscription's source before the customer's PaymentMethod */
	struct billing_pay_levels l = {.subscription_source = "card_s", .customer_pm = "pm_c"};
	cr_assert_str_eq(billing_pay_with(&l), "card_s");
}

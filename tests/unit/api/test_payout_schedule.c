/* Payout schedules' due dates: 00:00 UTC of the next day, weekday or day of the month after a
 * time, the 29th–31st falling on a shorter month's last day, and nothing for manual. */
#include <criterion/criterion.h>

#include "api/payout_schedule.h"

/* 2024-01-10 13:45:00 UTC, a wednesday */
#define T INT64_C(1704894300)
#define DAY INT64_C(86400)
#define JAN10 INT64_C(1704844800) /* 2024-01-10 00:00 UTC */

static int64_t next(enum payout_interval i, int weekly, int monthly, int64_t t)
{
	struct payout_schedule s = {
	    .interval = i, .delay_days = 2, .weekly_anchor = weekly, .monthly_anchor = monthly};
	int64_t r = -1;
	cr_assert_eq(payout_schedule_next(&s, t, &r), 0);
	return r;
}

Test(payout_schedule, daily_is_the_next_midnight)
{
	cr_assert_eq(next(PAYOUT_DAILY, 0, 0, T), JAN10 + DAY);
	/* strictly after: at a due date the next one is a day later */
	cr_assert_eq(next(PAYOUT_DAILY, 0, 0, JAN10), JAN10 + DAY);
	cr_assert_eq(next(PAYOUT_DAILY, 0, 0, JAN10 - 1), JAN10);
	cr_assert_eq(next(PAYOUT_DAILY, 0, 0, 0), DAY);
}

Test(payout_schedule, weekly_is_the_next_anchor_weekday)
{
	int wed, fri, mon;
	cr_assert_eq(payout_weekday_parse("wednesday", &wed), 0);
	cr_assert_eq(payout_weekday_parse("friday", &fri), 0);
	cr_assert_eq(payout_weekday_parse("monday", &mon), 0);
	cr_assert_eq(next(PAYOUT_WEEKLY, fri, 0, T), JAN10 + 2 * DAY);
	cr_assert_eq(next(PAYOUT_WEEKLY, mon, 0, T), JAN10 + 5 * DAY);
	/* on a wednesday, the next wednesday */
	cr_assert_eq(next(PAYOUT_WEEKLY, wed, 0, T), JAN10 + 7 * DAY);
	cr_assert_eq(next(PAYOUT_WEEKLY, wed, 0, JAN10 - 1), JAN10);
	cr_assert_str_eq(payout_weekday_name(wed), "wednesday");
	int x;
	cr_assert_eq(payout_weekday_parse("Monday", &x), -1);
	cr_assert_eq(payout_weekday_parse(NULL, &x), -1);
}

Test(payout_schedule, monthly_anchors_clamp_to_short_months)
{
	/* the 15th of this month is still ahead; the 10th is today: next month's */
	cr_assert_eq(next(PAYOUT_MONTHLY, 0, 15, T), JAN10 + 5 * DAY);
	cr_assert_eq(next(PAYOUT_MONTHLY, 0, 10, T), INT64_C(1707523200)); /* 2024-02-10 */
	cr_assert_eq(next(PAYOUT_MONTHLY, 0, 1, T), INT64_C(1706745600));  /* 2024-02-01 */
	/* the 31st: January 31st, then February 29th (2024 is a leap year), then March 31st */
	int64_t d = next(PAYOUT_MONTHLY, 0, 31, T);
	cr_assert_eq(d, INT64_C(1706659200)); /* 2024-01-31 */
	d = next(PAYOUT_MONTHLY, 0, 31, d);
	cr_assert_eq(d, INT64_C(1709164800)); /* 2024-02-29 */
	d = next(PAYOUT_MONTHLY, 0, 31, d);
	cr_assert_eq(d, INT64_C(1711843200)); /* 2024-03-31 */
	d = next(PAYOUT_MONTHLY, 0, 31, d);
	cr_assert_eq(d, INT64_C(1714435200)); /* 2024-04-30 */
	/* 2023 is not a leap year: February 28th; December rolls into January */
	cr_assert_eq(next(PAYOUT_MONTHLY, 0, 30, INT64_C(1675209600)), /* 2023-02-01 */
		     INT64_C(1677542400));			       /* 2023-02-28 */
	cr_assert_eq(next(PAYOUT_MONTHLY, 0, 5, INT64_C(1702425600)),  /* 2023-12-13 */
		     INT64_C(1704412800));			       /* 2024-01-05 */
}

Test(payout_schedule, manual_and_bad_schedules_have_no_due_date)
{
	int64_t r = 42;
	struct payout_schedule s = {.interval = PAYOUT_MANUAL, .delay_days = 2};
	cr_assert_eq(payout_schedule_next(&s, T, &r), -1);
	s.interval = PAYOUT_WEEKLY;
	s.weekly_anchor = 7;
	cr_assert_eq(payout_schedule_next(&s, T, &r), -1);
	s.interval = PAYOUT_MONTHLY;
	s.monthly_anchor = 0;
	cr_assert_eq(payout_schedule_next(&s, T, &r), -1);
	s.monthly_anchor = 32;
	cr_assert_eq(payout_schedule_next(&s, T, &r), -1);
	s.interval = PAYOUT_DAILY;
	cr_assert_eq(payout_schedule_next(&s, -1, &r), -1);
	cr_assert_eq(payout_schedule_next(&s, INT64_MAX, &r), -1);
	cr_assert_eq(r, 42, "untouched");
	enum payout_interval i;
	cr_assert_eq(payout_interval_parse("weekly", &i), 0);
	cr_assert_eq(i, PAYOUT_WEEKLY);
	cr_assert_eq(payout_interval_parse("hourly", &i), -1);
	cr_assert_str_eq(payout_interval_name(PAYOUT_MONTHLY), "monthly");
}

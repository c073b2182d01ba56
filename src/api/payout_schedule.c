/* Payout schedules' due dates (payout_schedule.h). */
#include "api/payout_schedule.h"

#include <stdbool.h>
#include <string.h>
#include <time.h>

#define DAY_S INT64_C(86400)
/* far enough for any schedule, small enough that day arithmetic never overflows */
#define T_MAX (INT64_C(253402300799)) /* 9999-12-31 23:59:59 UTC */

static const char *const intervals[] = {"manual", "daily", "weekly", "monthly"};
static const char *const weekdays[] = {"sunday",   "monday", "tuesday", "wednesday",
				       "thursday", "friday", "saturday"};

const char *payout_interval_name(enum payout_interval i)
{
	return (unsigned)i < 4 ? intervals[i] : "manual";
}

int payout_interval_parse(const char *s, enum payout_interval *ret)
{
	for (int i = 0; s && i < 4; i++)
		if (strcmp(s, intervals[i]) == 0) {
			*ret = (enum payout_interval)i;
			return 0;
		}
	return -1;
}

const char *payout_weekday_name(int wday)
{
	return wday >= 0 && wday < 7 ? weekdays[wday] : "monday";
}

int payout_weekday_parse(const char *s, int *ret)
{
	for (int i = 0; s && i < 7; i++)
		if (strcmp(s, weekdays[i]) == 0) {
			*ret = i;
			return 0;
		}
	return -1;
}

/* The year and month (1 … 12) of day d since 1970-01-01, in UTC. */
static int civil_from_days(int64_t d, int64_t *y, int *m)
{
	time_t t = (time_t)(d * DAY_S);
	struct tm tm;
	if (!gmtime_r(&t, &tm))
		return -1;
	*y = (int64_t)tm.tm_year + 1900;
	*m = tm.tm_mon + 1;
	return 0;
}

/* Day number since 1970-01-01 of y-m-dd (a valid date), in UTC. */
static int64_t days_from_civil(int64_t y, int m, int dd)
{
	struct tm tm = {.tm_year = (int)(y - 1900), .tm_mon = m - 1, .tm_mday = dd};
	return (int64_t)timegm(&tm) / DAY_S;
}

static int days_in_month(int64_t y, int m)
{
	static const int n[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : n[m - 1];
}

int payout_schedule_next(const struct payout_schedule *s, int64_t t, int64_t *ret)
{
	if (t < 0 || t > T_MAX)
		return -1;
	int64_t day = t / DAY_S, next;
	switch (s->interval) {
	case PAYOUT_DAILY:
		next = day + 1;
		break;
	case PAYOUT_WEEKLY: {
		if (s->weekly_anchor < 0 || s->weekly_anchor > 6)
			return -1;
		/* 1970-01-01 was a thursday (4) */
		int64_t wday = (day + 4) % 7;
		int64_t ahead = (s->weekly_anchor - wday + 7) % 7;
		next = day + (ahead == 0 ? 7 : ahead);
		break;
	}
	case PAYOUT_MONTHLY: {
		if (s->monthly_anchor < 1 || s->monthly_anchor > 31)
			return -1;
		int64_t y;
		int m;
		if (civil_from_days(day, &y, &m) != 0)
			return -1;
		/* this month's due day, else next month's (clamped to the month's length) */
		next = -1;
		for (int i = 0; i < 2 && next <= day; i++) {
			int dd = s->monthly_anchor < days_in_month(y, m) ? s->monthly_anchor
									 : days_in_month(y, m);
			next = days_from_civil(y, m, dd);
			if (++m == 13) {
				m = 1;
				y++;
			}
		}
		break;
	}
	default:
		return -1;
	}
	*ret = next * DAY_S;
	return 0;
}

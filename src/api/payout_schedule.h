/*
 * A connected account's payout schedule (settings.payouts.schedule) and its due dates.
 *
 * Stripe pays an account's available balance out automatically on the account's schedule:
 * every day (daily), on one weekday (weekly, weekly_anchor), or on one day of the month
 * (monthly, monthly_anchor; the 29th to the 31st fall on the last day of a shorter month); never
 * when the interval is manual. A due date here is 00:00 UTC of the day it falls on, computed on
 * days since the Unix epoch with UTC's calendar only (gmtime_r / timegm: no time zone), so the
 * scheduler's due check and its unit test agree on every machine.
 */
#ifndef TENDER_API_PAYOUT_SCHEDULE_H
#define TENDER_API_PAYOUT_SCHEDULE_H

#include <stdint.h>

enum payout_interval { PAYOUT_MANUAL, PAYOUT_DAILY, PAYOUT_WEEKLY, PAYOUT_MONTHLY };

/* Funds become available two days after a charge (ledger.h) at the soonest; a connected
 * account's own charges after its delay_days, at most 31 days (ledger_delay_days). */
#define PAYOUT_DELAY_DAYS 2
#define PAYOUT_DELAY_DAYS_MAX 31

struct payout_schedule {
	enum payout_interval interval;
	int delay_days;
	int weekly_anchor;  /* 0 (sunday) … 6 (saturday), when weekly */
	int monthly_anchor; /* 1 … 31, when monthly */
};

/* "manual", "daily", "weekly", "monthly" and back; parse: 0, or -1 for another word. */
const char *payout_interval_name(enum payout_interval i);
int payout_interval_parse(const char *s, enum payout_interval *ret);
/* "sunday" … "saturday" and back. */
const char *payout_weekday_name(int wday);
int payout_weekday_parse(const char *s, int *ret);

/* The schedule's first due date strictly after t (unix seconds, >= 0): 0 with ret, or -1 for a
 * manual schedule (no due date), an anchor out of range or a t out of range. */
int payout_schedule_next(const struct payout_schedule *s, int64_t t, int64_t *ret);

#endif

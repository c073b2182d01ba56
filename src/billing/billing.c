#include "core/str.h"
#include "billing/billing.h"

#include <stdio.h>
#include <string.h>

#define DAY_S 86400LL
/* 0001-01-01 … 9999-12-31: the years a date may land in (Stripe's timestamps are far inside) */
#define YEAR_MIN 1
#define YEAR_MAX 9999

int billing_interval_parse(const char *s, enum billing_interval *ret)
{
	static const char *const names[] = {"day", "week", "month", "year"};
	for (int i = 0; s && i < 4; i++)
		if (strcmp(s, names[i]) == 0) {
			*ret = (enum billing_interval)i;
			return 0;
		}
	return -1;
}

/* Days since 1970-01-01 of a proleptic Gregorian date, and back (H. Hinnant's civil-date
 * algorithms: eras of 400 years, months counted from March so that February is last). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int64_t *m, int64_t *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yoe + era * 400 + (*m <= 2);
}

static bool leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int64_t month_days(int64_t y, int64_t m)
{
	static const int8_t days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && leap(y) ? 29 : days[m - 1];
}

/* t moved n intervals forward (back: backward), the time of day kept and a day past the
 * target month's end clamped to its last (Jan 31 + 1 month = Feb 28/29). */
static int shift(int64_t t, enum billing_interval iv, int64_t n, bool back, int64_t *ret)
{
	if (n < 0)
		return -1;
	int64_t step;
	switch (iv) {
	case BILLING_DAY:
	case BILLING_WEEK:
		step = iv == BILLING_DAY ? DAY_S : 7 * DAY_S;
		int64_t delta, out;
		if (__builtin_mul_overflow(n, step, &delta) ||
		    (back ? __builtin_sub_overflow(t, delta, &out)
			  : __builtin_add_overflow(t, delta, &out)))
			return -1;
		*ret = out;
		return 0;
	case BILLING_MONTH:
	case BILLING_YEAR:
		break;
	default:
		return -1;
	}
	int64_t months;
	if (__builtin_mul_overflow(n, iv == BILLING_YEAR ? 12 : 1, &months))
		return -1;
	/* the time of day is kept; floor division so that times before 1970 work too */
	int64_t days = t / DAY_S, sod = t % DAY_S;
	if (sod < 0) {
		sod += DAY_S;
		days -= 1;
	}
	int64_t y, m, d;
	civil_from_days(days, &y, &m, &d);
	if (y < YEAR_MIN || y > YEAR_MAX || months > (int64_t)(YEAR_MAX - YEAR_MIN + 1) * 12)
		return -1;
	/* bounded on both sides: no overflow */
	int64_t idx = (y * 12 + (m - 1)) + (back ? -months : months);
	if (idx < YEAR_MIN * 12 || idx / 12 > YEAR_MAX)
		return -1;
	int64_t ny = idx / 12, nm = idx % 12 + 1;
	int64_t last = month_days(ny, nm);
	if (d > last)
		d = last;
	*ret = days_from_civil(ny, nm, d) * DAY_S + sod;
	return 0;
}

int billing_add(int64_t t, enum billing_interval iv, int64_t n, int64_t *ret)
{
	return shift(t, iv, n, false, ret);
}

int billing_sub(int64_t t, enum billing_interval iv, int64_t n, int64_t *ret)
{
	return shift(t, iv, n, true, ret);
}

int billing_anchor_config(int64_t start, enum billing_interval iv, int day_of_month, int month,
			  int hour, int minute, int second, int64_t *ret)
{
	if ((iv != BILLING_MONTH && iv != BILLING_YEAR) || day_of_month < 1 || day_of_month > 31 ||
	    month < 0 || month > 12 || (month && iv != BILLING_YEAR) || hour < 0 || hour > 23 ||
	    minute < 0 || minute > 59 || second < 0 || second > 59 || start < 0)
		return -1;
	int64_t y, m, d;
	civil_from_days(start / DAY_S, &y, &m, &d);
	if (y < YEAR_MIN || y >= YEAR_MAX)
		return -1;
	int64_t sod = (int64_t)hour * 3600 + minute * 60 + second;
	/* this month's (this year's) candidate, else the next one's */
	for (int k = 0; k < 2; k++) {
		int64_t cy = y, cm = month ? month : m;
		if (iv == BILLING_MONTH) {
			int64_t idx = y * 12 + (m - 1) + k;
			cy = idx / 12;
			cm = idx % 12 + 1;
		} else {
			cy = y + k;
		}
		int64_t cd = day_of_month > month_days(cy, cm) ? month_days(cy, cm) : day_of_month;
		int64_t t = days_from_civil(cy, cm, cd) * DAY_S + sod;
		if (t > start) {
			*ret = t;
			return 0;
		}
	}
	return -1;
}

int billing_period_end(int64_t anchor, enum billing_interval iv, int64_t count, int64_t k,
		       int64_t *ret)
{
	int64_t n;
	if (count < 1 || k < 1 || __builtin_mul_overflow(count, k, &n))
		return -1;
	return billing_add(anchor, iv, n, ret);
}

int billing_next_after(int64_t since, enum billing_interval iv, int64_t count, int64_t after,
		       int64_t *ret)
{
	if (count < 1)
		return -1;
	int64_t k = 1;
	if ((iv == BILLING_DAY || iv == BILLING_WEEK) && after > since) {
		/* fixed lengths: straight to the period that holds `after` */
		int64_t step = (iv == BILLING_DAY ? DAY_S : 7 * DAY_S), len;
		if (__builtin_mul_overflow(step, count, &len))
			return -1;
		k = (after - since) / len + 1;
	}
	for (;; k++) {
		int64_t at;
		if (billing_period_end(since, iv, count, k, &at) != 0)
			return -1;
		if (at > after) {
			*ret = at;
			return 0;
		}
	}
}

int billing_total(const struct billing_line *lines, int n, int64_t *ret_amounts, int64_t *ret_total)
{
	if (n < 0 || (n > 0 && !lines))
		return -1;
	int64_t total = 0;
	for (int i = 0; i < n; i++) {
		int64_t a;
		if (lines[i].unit_amount < 0 || lines[i].quantity < 1 ||
		    __builtin_mul_overflow(lines[i].unit_amount, lines[i].quantity, &a) ||
		    a > BILLING_AMOUNT_MAX || __builtin_add_overflow(total, a, &total) ||
		    total > BILLING_AMOUNT_MAX)
			return -1;
	}
	for (int i = 0; i < n; i++)
		ret_amounts[i] = lines[i].unit_amount * lines[i].quantity; /* checked above */
	*ret_total = total;
	return 0;
}

int billing_next_attempt(int64_t finalized_at, int attempts, int64_t *ret_next)
{
	/* days after the first attempt at which attempt 2, 3 … is made */
	static const int64_t retry_days[BILLING_ATTEMPTS_MAX - 1] = {3, 7};
	if (attempts < 1 || attempts > BILLING_ATTEMPTS_MAX)
		return -1;
	if (attempts == BILLING_ATTEMPTS_MAX)
		return 0;
	int64_t next;
	if (billing_add(finalized_at, BILLING_DAY, retry_days[attempts - 1], &next) != 0)
		return -1;
	*ret_next = next;
	return 1;
}

enum billing_action billing_next_action(const struct billing_state *s, int64_t *ret_at)
{
	*ret_at = 0;
	if (str_eq(s->status, "incomplete")) {
		*ret_at = s->created + BILLING_INCOMPLETE_S;
		return BILLING_EXPIRE;
	}
	bool live = str_eq(s->status, "active") || str_eq(s->status, "past_due") ||
		    str_eq(s->status, "unpaid") || str_eq(s->status, "trialing");
	bool trialing = str_eq(s->status, "trialing");
	/* candidates in tie order: one replaces the best only when strictly earlier */
	enum billing_action best = BILLING_NONE;
	int64_t at = 0;
	/* a paused subscription's resumption invoice (resume_on_payment_success) is retried
	 * too: paying it is what resumes it */
	if ((str_eq(s->status, "active") || str_eq(s->status, "past_due") ||
	     str_eq(s->status, "unpaid") || str_eq(s->status, "paused")) &&
	    s->invoice_next_attempt > 0) {
		best = BILLING_RETRY;
		at = s->invoice_next_attempt;
	}
	if (live && s->pause_resumes_at > 0 && (best == BILLING_NONE || s->pause_resumes_at < at)) {
		best = BILLING_RESUME_COLLECTION;
		at = s->pause_resumes_at;
	}
	if (trialing && s->trial_end && !s->trial_notice_sent) {
		int64_t notice = s->trial_end - BILLING_TRIAL_NOTICE_S;
		if (notice < s->trial_start)
			notice = s->trial_start;
		if (best == BILLING_NONE || notice < at) {
			best = BILLING_TRIAL_WILL_END;
			at = notice;
		}
	}
	if (live) {
		enum billing_action end = s->cancel_at_period_end ? BILLING_CANCEL
					  : trialing		  ? BILLING_TRIAL_END
								  : BILLING_RENEW;
		int64_t when = trialing && !s->cancel_at_period_end && s->trial_end ? s->trial_end
										    : s->period_end;
		/* cancel_at within this period (or trial) ends it then, instead of the renewal */
		if (s->cancel_at > 0 && s->cancel_at <= when) {
			end = BILLING_CANCEL;
			when = s->cancel_at;
		}
		/* the invoice the renewal (or the trial's end) will make and charge, announced */
		int64_t begins = trialing && s->trial_end ? s->trial_start : s->period_start;
		if (end != BILLING_CANCEL && s->upcoming_notice && s->upcoming_notice_for != when &&
		    when - BILLING_UPCOMING_NOTICE_S >= begins &&
		    (best == BILLING_NONE || when - BILLING_UPCOMING_NOTICE_S < at)) {
			best = BILLING_UPCOMING;
			at = when - BILLING_UPCOMING_NOTICE_S;
		}
		if (best == BILLING_NONE || when < at) {
			best = end;
			at = when;
		}
	}
	*ret_at = at;
	return best;
}

int billing_period_at(int64_t anchor, enum billing_interval iv, int64_t count, int64_t t,
		      int64_t *ret_k, int64_t *ret_start, int64_t *ret_end)
{
	if (count < 1 || t < anchor)
		return -1;
	/* a first guess k0 <= the answer, from the elapsed whole intervals, then forward: the
	 * guess is off by at most one period (month ends clamp by under a month), so a few steps
	 * settle it */
	int64_t k = 1;
	if (iv == BILLING_DAY || iv == BILLING_WEEK) {
		int64_t step = (iv == BILLING_DAY ? DAY_S : 7 * DAY_S);
		if (__builtin_mul_overflow(step, count, &step))
			return -1;
		k = (t - anchor) / step + 1;
	} else {
		int64_t ya, ma, da, yt, mt, dt;
		int64_t a_days = anchor / DAY_S - (anchor % DAY_S < 0),
			t_days = t / DAY_S - (t % DAY_S < 0);
		civil_from_days(a_days, &ya, &ma, &da);
		civil_from_days(t_days, &yt, &mt, &dt);
		int64_t months = (yt * 12 + mt) - (ya * 12 + ma);
		int64_t per = iv == BILLING_YEAR ? 12 : 1;
		if (__builtin_mul_overflow(per, count, &per))
			return -1;
		k = months / per; /* whole periods may be one short of it: checked below */
		if (k < 1)
			k = 1;
	}
	for (int guard = 0; guard < 4; guard++, k++) {
		int64_t end, start = anchor;
		if (billing_period_end(anchor, iv, count, k, &end) != 0 ||
		    (k > 1 && billing_period_end(anchor, iv, count, k - 1, &start) != 0))
			return -1;
		if (t < start) {
			/* the guess overshot: step back once (cannot happen twice) */
			if (k <= 1)
				return -1;
			k -= 2;
			continue;
		}
		if (t < end) {
			*ret_k = k;
			*ret_start = start;
			*ret_end = end;
			return 0;
		}
	}
	return -1;
}

int billing_prorate(int64_t amount, int64_t remaining_s, int64_t period_s, int64_t *ret)
{
	if (period_s < 1 || remaining_s < 0 || remaining_s > period_s ||
	    amount > BILLING_AMOUNT_MAX || amount < -BILLING_AMOUNT_MAX)
		return -1;
	__int128 mag = (__int128)(amount < 0 ? -amount : amount) * remaining_s;
	/* nearest, halves up on the magnitude: 2q + 1 > ... written as (2·mag + p) / (2·p) */
	__int128 q = (2 * mag + period_s) / (2 * (__int128)period_s);
	int64_t v = (int64_t)q; /* <= |amount|: fits */
	*ret = amount < 0 ? -v : v;
	return 0;
}

int billing_percent_parse(const char *s, int64_t *ret_e4)
{
	if (!s || !*s)
		return -1;
	int64_t whole = 0, frac = 0;
	int digits = 0, decimals = 0;
	const char *p = s;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (++digits > 3)
			return -1; /* at most 100 */
		whole = whole * 10 + (*p - '0');
	}
	if (*p == '.') {
		p++;
		for (; *p >= '0' && *p <= '9'; p++) {
			if (++decimals > 4)
				return -1;
			frac = frac * 10 + (*p - '0');
		}
		if (decimals == 0)
			return -1;
	}
	if (*p || digits == 0)
		return -1;
	for (int i = decimals; i < 4; i++)
		frac *= 10;
	int64_t v = whole * 10000 + frac;
	if (v <= 0 || v > BILLING_PERCENT_ONE)
		return -1;
	*ret_e4 = v;
	return 0;
}

void billing_percent_format(int64_t percent_e4, char *out, size_t size)
{
	int64_t whole = percent_e4 / 10000, frac = percent_e4 % 10000;
	if (frac == 0) {
		snprintf(out, size, "%lld", (long long)whole);
		return;
	}
	char f[8];
	snprintf(f, sizeof(f), "%04lld", (long long)frac);
	size_t len = strlen(f);
	while (len > 0 && f[len - 1] == '0')
		f[--len] = '\0';
	snprintf(out, size, "%lld.%s", (long long)whole, f);
}

int billing_discount_lines(int64_t percent_e4, int64_t amount_off, int64_t *remaining,
			   const bool *eligible, int n, int64_t *ret_amounts, int64_t *ret_total)
{
	if (n < 0 || n > BILLING_DISCOUNT_LINES_MAX || percent_e4 < 0 ||
	    percent_e4 > BILLING_PERCENT_ONE || amount_off < 0 || amount_off > BILLING_AMOUNT_MAX)
		return -1;
	int64_t base = 0; /* what the discount may take from: the eligible lines' rest */
	for (int i = 0; i < n; i++) {
		if (remaining[i] > BILLING_AMOUNT_MAX || remaining[i] < -BILLING_AMOUNT_MAX)
			return -1;
		if (eligible[i] && remaining[i] > 0)
			base += remaining[i]; /* at most 512 lines × 1e8: no overflow */
	}
	int64_t total = 0;
	if (percent_e4 > 0) {
		for (int i = 0; i < n; i++) {
			int64_t d = 0;
			if (eligible[i] && remaining[i] > 0)
				d = (remaining[i] * percent_e4 + BILLING_PERCENT_ONE / 2) /
				    BILLING_PERCENT_ONE; /* <= remaining: p <= 100 % */
			ret_amounts[i] = d;
			total += d;
		}
	} else {
		int64_t pool = amount_off < base ? amount_off : base, given = 0;
		for (int i = 0; i < n; i++) {
			ret_amounts[i] = 0;
			if (eligible[i] && remaining[i] > 0 && base > 0) {
				ret_amounts[i] = (int64_t)((__int128)pool * remaining[i] / base);
				given += ret_amounts[i];
			}
		}
		/* the odd units: to the largest remainders, ties to the earlier line (fewer than
		 * one per eligible line, and a line below its whole rest gets at most one) */
		int64_t left = pool - given;
		bool bumped[BILLING_DISCOUNT_LINES_MAX];
		memset(bumped, 0, (size_t)n * sizeof(bool));
		for (; left > 0; left--) {
			int best = -1;
			int64_t best_frac = -1;
			for (int i = 0; i < n; i++) {
				if (!eligible[i] || remaining[i] <= 0 || bumped[i])
					continue;
				int64_t frac = (int64_t)((__int128)pool * remaining[i] % base);
				if (frac > best_frac) {
					best_frac = frac;
					best = i;
				}
			}
			if (best < 0)
				return -1; /* cannot happen: fewer odd units than eligible lines */
			bumped[best] = true;
			ret_amounts[best]++;
		}
		total = pool;
	}
	for (int i = 0; i < n; i++)
		remaining[i] -= ret_amounts[i];
	*ret_total = total;
	return 0;
}

const char *billing_pay_with(const struct billing_pay_levels *l)
{
	const char *order[] = {l->invoice_pm,	       l->invoice_source, l->subscription_pm,
			       l->subscription_source, l->customer_pm,	  l->customer_source};
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (order[i] && order[i][0])
			return order[i];
	return NULL;
}

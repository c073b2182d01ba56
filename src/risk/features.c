#include "risk/features.h"

#include <math.h>
#include <string.h>
#include <strings.h>

const char *const risk_feature_names[RISK_FEATURE_COUNT] = {
    [RISK_F_AMOUNT_USD_MINOR] = "amount_usd_minor",
    [RISK_F_LOG_AMOUNT] = "log_amount",
    [RISK_F_CURRENCY_IS_USD] = "currency_is_usd",
    [RISK_F_MCC] = "mcc",
    [RISK_F_HOUR_UTC] = "hour_utc",
    [RISK_F_WEEKDAY_UTC] = "weekday_utc",
    [RISK_F_CARD_BRAND] = "card_brand",
    [RISK_F_FUNDING] = "funding",
    [RISK_F_CARD_COUNTRY] = "card_country",
    [RISK_F_BILLING_COUNTRY_MATCH] = "billing_country_match",
    [RISK_F_CARD_COUNT_1H] = "card_count_1h",
    [RISK_F_CARD_SUM_1H] = "card_sum_1h",
    [RISK_F_CARD_COUNT_24H] = "card_count_24h",
    [RISK_F_CARD_SUM_24H] = "card_sum_24h",
    [RISK_F_CUSTOMER_COUNT_1H] = "customer_count_1h",
    [RISK_F_CUSTOMER_SUM_1H] = "customer_sum_1h",
    [RISK_F_CUSTOMER_COUNT_24H] = "customer_count_24h",
    [RISK_F_CUSTOMER_SUM_24H] = "customer_sum_24h",
    [RISK_F_CARD_DECLINE_RATE_30D] = "card_decline_rate_30d",
    [RISK_F_CARD_ATTEMPTS_30D] = "card_attempts_30d",
    [RISK_F_FIRST_TIME_CARD] = "first_time_card",
    [RISK_F_IP_COUNT_1H] = "ip_count_1h",
};

void risk_features_init(struct risk_features *f)
{
	memset(f, 0, sizeof(*f));
}

void risk_features_set_time(struct risk_features *f, int64_t unix_seconds)
{
	/* Floor division so that pre-1970 times still land on the right hour/day. */
	int64_t days = unix_seconds / 86400;
	int64_t secs = unix_seconds % 86400;
	if (secs < 0) {
		secs += 86400;
		days -= 1;
	}
	f->hour_utc = (int)(secs / 3600);
	/* 1970-01-01 was a Thursday (4). */
	int64_t wd = (days + 4) % 7;
	if (wd < 0)
		wd += 7;
	f->weekday_utc = (int)wd;
}

int risk_country_code(const char *alpha2)
{
	if (alpha2 == NULL || alpha2[0] == '\0' || alpha2[1] == '\0' || alpha2[2] != '\0')
		return 0;
	int c0 = alpha2[0], c1 = alpha2[1];
	if (c0 >= 'a' && c0 <= 'z')
		c0 -= 'a' - 'A';
	if (c1 >= 'a' && c1 <= 'z')
		c1 -= 'a' - 'A';
	if (c0 < 'A' || c0 > 'Z' || c1 < 'A' || c1 > 'Z')
		return 0;
	return 1 + (c0 - 'A') * 26 + (c1 - 'A');
}

static float sum_feature(int64_t v)
{
	return v < 0 ? 0.0f : (float)v;
}

void risk_features_to_vector(const struct risk_features *f, float *out, size_t n)
{
	float v[RISK_FEATURE_COUNT];
	int64_t amount = f->amount_usd_minor < 0 ? 0 : f->amount_usd_minor;
	int card_cc = risk_country_code(f->card_country);
	int bill_cc = risk_country_code(f->billing_country);
	uint32_t declines = f->card_declines_30d > f->card_attempts_30d ? f->card_attempts_30d
									: f->card_declines_30d;

	/* Model inputs only: XGBoost takes float features. These copies never flow back into
	 * an amount; every money computation stays in int64 minor units. */
	v[RISK_F_AMOUNT_USD_MINOR] = (float)amount;
	v[RISK_F_LOG_AMOUNT] = (float)log1p((double)amount);
	v[RISK_F_CURRENCY_IS_USD] = f->currency_is_usd ? 1.0f : 0.0f;
	v[RISK_F_MCC] = (f->mcc < 0 || f->mcc > 9999) ? 0.0f : (float)f->mcc;
	v[RISK_F_HOUR_UTC] = (f->hour_utc < 0 || f->hour_utc > 23) ? 0.0f : (float)f->hour_utc;
	v[RISK_F_WEEKDAY_UTC] =
	    (f->weekday_utc < 0 || f->weekday_utc > 6) ? 0.0f : (float)f->weekday_utc;
	v[RISK_F_CARD_BRAND] =
	    ((int)f->card_brand < 0 || (int)f->card_brand > (int)RISK_BRAND_UNIONPAY)
		? 0.0f
		: (float)f->card_brand;
	v[RISK_F_FUNDING] = ((int)f->funding < 0 || (int)f->funding > (int)RISK_FUNDING_PREPAID)
				? 0.0f
				: (float)f->funding;
	v[RISK_F_CARD_COUNTRY] = (float)card_cc;
	v[RISK_F_BILLING_COUNTRY_MATCH] =
	    (card_cc == 0 || bill_cc == 0) ? -1.0f : (card_cc == bill_cc ? 1.0f : 0.0f);
	v[RISK_F_CARD_COUNT_1H] = (float)f->card_count_1h;
	v[RISK_F_CARD_SUM_1H] = sum_feature(f->card_sum_1h_usd_minor);
	v[RISK_F_CARD_COUNT_24H] = (float)f->card_count_24h;
	v[RISK_F_CARD_SUM_24H] = sum_feature(f->card_sum_24h_usd_minor);
	v[RISK_F_CUSTOMER_COUNT_1H] = (float)f->customer_count_1h;
	v[RISK_F_CUSTOMER_SUM_1H] = sum_feature(f->customer_sum_1h_usd_minor);
	v[RISK_F_CUSTOMER_COUNT_24H] = (float)f->customer_count_24h;
	v[RISK_F_CUSTOMER_SUM_24H] = sum_feature(f->customer_sum_24h_usd_minor);
	v[RISK_F_CARD_DECLINE_RATE_30D] =
	    f->card_attempts_30d == 0 ? 0.0f
				      : (float)((double)declines / (double)f->card_attempts_30d);
	v[RISK_F_CARD_ATTEMPTS_30D] = (float)f->card_attempts_30d;
	v[RISK_F_FIRST_TIME_CARD] = f->first_time_card ? 1.0f : 0.0f;
	v[RISK_F_IP_COUNT_1H] = (float)f->ip_count_1h;

	for (size_t i = 0; i < n; i++)
		out[i] = i < RISK_FEATURE_COUNT ? v[i] : 0.0f;
}

static const struct {
	const char *name;
	enum risk_card_brand brand;
} brand_names[] = {
    {"visa", RISK_BRAND_VISA},
    {"mastercard", RISK_BRAND_MASTERCARD},
    {"amex", RISK_BRAND_AMEX},
    {"american_express", RISK_BRAND_AMEX},
    {"american express", RISK_BRAND_AMEX},
    {"discover", RISK_BRAND_DISCOVER},
    {"jcb", RISK_BRAND_JCB},
    {"diners", RISK_BRAND_DINERS},
    {"diners_club", RISK_BRAND_DINERS},
    {"unionpay", RISK_BRAND_UNIONPAY},
};

enum risk_card_brand risk_card_brand_from_name(const char *name)
{
	if (name == NULL)
		return RISK_BRAND_UNKNOWN;
	for (size_t i = 0; i < sizeof(brand_names) / sizeof(brand_names[0]); i++)
		if (strcasecmp(name, brand_names[i].name) == 0)
			return brand_names[i].brand;
	return RISK_BRAND_UNKNOWN;
}

const char *risk_card_brand_name(enum risk_card_brand b)
{
	switch (b) {
	case RISK_BRAND_VISA:
		return "visa";
	case RISK_BRAND_MASTERCARD:
		return "mastercard";
	case RISK_BRAND_AMEX:
		return "amex";
	case RISK_BRAND_DISCOVER:
		return "discover";
	case RISK_BRAND_JCB:
		return "jcb";
	case RISK_BRAND_DINERS:
		return "diners";
	case RISK_BRAND_UNIONPAY:
		return "unionpay";
	case RISK_BRAND_UNKNOWN:
		break;
	}
	return "unknown";
}

enum risk_funding risk_funding_from_name(const char *name)
{
	if (name == NULL)
		return RISK_FUNDING_UNKNOWN;
	if (strcasecmp(name, "credit") == 0)
		return RISK_FUNDING_CREDIT;
	if (strcasecmp(name, "debit") == 0)
		return RISK_FUNDING_DEBIT;
	if (strcasecmp(name, "prepaid") == 0)
		return RISK_FUNDING_PREPAID;
	return RISK_FUNDING_UNKNOWN;
}

const char *risk_funding_name(enum risk_funding f)
{
	switch (f) {
	case RISK_FUNDING_CREDIT:
		return "credit";
	case RISK_FUNDING_DEBIT:
		return "debit";
	case RISK_FUNDING_PREPAID:
		return "prepaid";
	case RISK_FUNDING_UNKNOWN:
		break;
	}
	return "unknown";
}

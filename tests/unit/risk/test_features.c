#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "risk/features.h"

/* The column order is the model's contract; this list pins it. Changing the enum without
 * retraining data/fraud/model.json must fail here first. */
static const char *const expected_names[] = {
    "amount_usd_minor",
    "log_amount",
    "currency_is_usd",
    "mcc",
    "hour_utc",
    "weekday_utc",
    "card_brand",
    "funding",
    "card_country",
    "billing_country_match",
    "card_count_1h",
    "card_sum_1h",
    "card_count_24h",
    "card_sum_24h",
    "customer_count_1h",
    "customer_sum_1h",
    "customer_count_24h",
    "customer_sum_24h",
    "card_decline_rate_30d",
    "card_attempts_30d",
    "first_time_card",
    "ip_count_1h",
};

Test(risk_features, names_pin_column_order)
{
	cr_assert_eq(RISK_FEATURE_COUNT, sizeof(expected_names) / sizeof(expected_names[0]));
	for (size_t i = 0; i < RISK_FEATURE_COUNT; i++) {
		cr_assert_not_null(risk_feature_names[i], "column %zu has no name", i);
		cr_assert_str_eq(risk_feature_names[i], expected_names[i], "column %zu", i);
	}
}

static struct risk_features sample(void)
{
	struct risk_features f;
	risk_features_init(&f);
	f.amount_usd_minor = 12345;
	f.currency_is_usd = true;
	f.mcc = 5732;
	f.hour_utc = 3;
	f.weekday_utc = 6;
	f.card_brand = RISK_BRAND_AMEX;
	f.funding = RISK_FUNDING_PREPAID;
	memcpy(f.card_country, "US", 3);
	memcpy(f.billing_country, "ca", 3);
	f.card_count_1h = 7;
	f.card_sum_1h_usd_minor = 700;
	f.card_count_24h = 9;
	f.card_sum_24h_usd_minor = 900;
	f.customer_count_1h = 2;
	f.customer_sum_1h_usd_minor = 200;
	f.customer_count_24h = 4;
	f.customer_sum_24h_usd_minor = 400;
	f.card_attempts_30d = 8;
	f.card_declines_30d = 2;
	f.first_time_card = true;
	f.ip_count_1h = 31;
	return f;
}

Test(risk_features, vector_values_in_order)
{
	struct risk_features f = sample();
	float v[RISK_FEATURE_COUNT];
	risk_features_to_vector(&f, v, RISK_FEATURE_COUNT);
	cr_assert_float_eq(v[RISK_F_AMOUNT_USD_MINOR], 12345.0f, 1e-3);
	cr_assert_float_eq(v[RISK_F_LOG_AMOUNT], (float)log1p(12345.0), 1e-5);
	cr_assert_float_eq(v[RISK_F_CURRENCY_IS_USD], 1.0f, 0);
	cr_assert_float_eq(v[RISK_F_MCC], 5732.0f, 0);
	cr_assert_float_eq(v[RISK_F_HOUR_UTC], 3.0f, 0);
	cr_assert_float_eq(v[RISK_F_WEEKDAY_UTC], 6.0f, 0);
	cr_assert_float_eq(v[RISK_F_CARD_BRAND], (float)RISK_BRAND_AMEX, 0);
	cr_assert_float_eq(v[RISK_F_FUNDING], (float)RISK_FUNDING_PREPAID, 0);
	cr_assert_float_eq(v[RISK_F_CARD_COUNTRY], (float)risk_country_code("US"), 0);
	cr_assert_float_eq(v[RISK_F_BILLING_COUNTRY_MATCH], 0.0f, 0); /* US vs CA */
	cr_assert_float_eq(v[RISK_F_CARD_COUNT_1H], 7.0f, 0);
	cr_assert_float_eq(v[RISK_F_CARD_SUM_1H], 700.0f, 0);
	cr_assert_float_eq(v[RISK_F_CARD_COUNT_24H], 9.0f, 0);
	cr_assert_float_eq(v[RISK_F_CARD_SUM_24H], 900.0f, 0);
	cr_assert_float_eq(v[RISK_F_CUSTOMER_COUNT_1H], 2.0f, 0);
	cr_assert_float_eq(v[RISK_F_CUSTOMER_SUM_1H], 200.0f, 0);
	cr_assert_float_eq(v[RISK_F_CUSTOMER_COUNT_24H], 4.0f, 0);
	cr_assert_float_eq(v[RISK_F_CUSTOMER_SUM_24H], 400.0f, 0);
	cr_assert_float_eq(v[RISK_F_CARD_DECLINE_RATE_30D], 0.25f, 1e-6);
	cr_assert_float_eq(v[RISK_F_CARD_ATTEMPTS_30D], 8.0f, 0);
	cr_assert_float_eq(v[RISK_F_FIRST_TIME_CARD], 1.0f, 0);
	cr_assert_float_eq(v[RISK_F_IP_COUNT_1H], 31.0f, 0);
	/* The enum positions themselves, independent of the names. */
	cr_assert_eq(RISK_F_AMOUNT_USD_MINOR, 0);
	cr_assert_eq(RISK_F_BILLING_COUNTRY_MATCH, 9);
	cr_assert_eq(RISK_F_IP_COUNT_1H, 21);
}

Test(risk_features, billing_match_and_unknown)
{
	struct risk_features f = sample();
	float v[RISK_FEATURE_COUNT];
	memcpy(f.billing_country, "us", 3); /* case-insensitive */
	risk_features_to_vector(&f, v, RISK_FEATURE_COUNT);
	cr_assert_float_eq(v[RISK_F_BILLING_COUNTRY_MATCH], 1.0f, 0);
	f.billing_country[0] = '\0';
	risk_features_to_vector(&f, v, RISK_FEATURE_COUNT);
	cr_assert_float_eq(v[RISK_F_BILLING_COUNTRY_MATCH], -1.0f, 0);
	memcpy(f.billing_country, "US", 3);
	f.card_country[0] = '\0';
	risk_features_to_vector(&f, v, RISK_FEATURE_COUNT);
	cr_assert_float_eq(v[RISK_F_BILLING_COUNTRY_MATCH], -1.0f, 0);
	cr_assert_float_eq(v[RISK_F_CARD_COUNTRY], 0.0f, 0);
}

Test(risk_features, out_of_range_inputs_are_tamed)
{
	struct risk_features f = sample();
	f.card_attempts_30d = 0;
	f.card_declines_30d = 5;
	f.amount_usd_minor = -5;
	f.hour_utc = 99;
	f.card_brand = (enum risk_card_brand)77;
	float v[RISK_FEATURE_COUNT];
	risk_features_to_vector(&f, v, RISK_FEATURE_COUNT);
	cr_assert_float_eq(v[RISK_F_CARD_DECLINE_RATE_30D], 0.0f, 0);
	cr_assert_float_eq(v[RISK_F_AMOUNT_USD_MINOR], 0.0f, 0);
	cr_assert_float_eq(v[RISK_F_HOUR_UTC], 0.0f, 0);
	cr_assert_float_eq(v[RISK_F_CARD_BRAND], 0.0f, 0);
	f.card_attempts_30d = 3; /* more declines than attempts clamps to 1.0 */
	risk_features_to_vector(&f, v, RISK_FEATURE_COUNT);
	cr_assert_float_eq(v[RISK_F_CARD_DECLINE_RATE_30D], 1.0f, 0);
}

Test(risk_features, partial_and_padded_vectors)
{
	struct risk_features f = sample();
	float v[RISK_FEATURE_COUNT + 3];
	for (size_t i = 0; i < RISK_FEATURE_COUNT + 3; i++)
		v[i] = -42.0f;
	risk_features_to_vector(&f, v, 2);
	cr_assert_float_eq(v[0], 12345.0f, 1e-3);
	cr_assert_float_eq(v[2], -42.0f, 0); /* untouched */
	risk_features_to_vector(&f, v, RISK_FEATURE_COUNT + 3);
	cr_assert_float_eq(v[RISK_FEATURE_COUNT], 0.0f, 0);
	cr_assert_float_eq(v[RISK_FEATURE_COUNT + 2], 0.0f, 0);
}

Test(risk_features, time_of_day_and_weekday)
{
	struct risk_features f;
	risk_features_init(&f);
	risk_features_set_time(&f, 0); /* 1970-01-01 00:00 Thursday */
	cr_assert_eq(f.hour_utc, 0);
	cr_assert_eq(f.weekday_utc, 4);
	risk_features_set_time(&f, 1700000000); /* 2023-11-14 22:13:20 Tuesday */
	cr_assert_eq(f.hour_utc, 22);
	cr_assert_eq(f.weekday_utc, 2);
	risk_features_set_time(&f, -1); /* 1969-12-31 23:59:59 Wednesday */
	cr_assert_eq(f.hour_utc, 23);
	cr_assert_eq(f.weekday_utc, 3);
}

Test(risk_features, names_of_brands_funding_countries)
{
	cr_assert_eq(risk_card_brand_from_name("visa"), RISK_BRAND_VISA);
	cr_assert_eq(risk_card_brand_from_name("American_Express"), RISK_BRAND_AMEX);
	cr_assert_eq(risk_card_brand_from_name("bogus"), RISK_BRAND_UNKNOWN);
	cr_assert_eq(risk_card_brand_from_name(NULL), RISK_BRAND_UNKNOWN);
	cr_assert_str_eq(risk_card_brand_name(RISK_BRAND_MASTERCARD), "mastercard");
	cr_assert_eq(risk_funding_from_name("prepaid"), RISK_FUNDING_PREPAID);
	cr_assert_eq(risk_funding_from_name("unknown"), RISK_FUNDING_UNKNOWN);
	cr_assert_str_eq(risk_funding_name(RISK_FUNDING_DEBIT), "debit");
	cr_assert_eq(risk_country_code("AA"), 1);
	cr_assert_eq(risk_country_code("zz"), 676);
	cr_assert_eq(risk_country_code("USA"), 0);
	cr_assert_eq(risk_country_code("U1"), 0);
	cr_assert_eq(risk_country_code(""), 0);
}

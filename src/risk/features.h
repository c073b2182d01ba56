/*
 * Fraud-model features: what the payment path knows about an attempt, and the fixed float vector
 * the gradient-boosted model reads.
 *
 * The column order of the vector is part of the model's contract: a model trained on one order
 * scores garbage on another, silently. So the order lives in exactly one place (the RISK_F_*
 * enum below, mirrored by risk_feature_names[]), the synthetic CSV header is generated from the
 * names, training refuses a CSV whose header differs, and training stores the names in the model
 * so loading can refuse a model built for another order. Append new columns at the end and
 * retrain; never reorder.
 *
 * Amounts here are model inputs, not money: the caller converts the charge to USD-equivalent
 * minor units (int64, its own overflow-checked arithmetic) and only risk_features_to_vector()
 * turns them into floats for the trees. Nothing ever converts a feature back into an amount.
 */
#ifndef TENDER_RISK_FEATURES_H
#define TENDER_RISK_FEATURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Column order of the model input vector (fixed; append only). */
enum risk_feature_column {
	RISK_F_AMOUNT_USD_MINOR = 0,  /* amount in USD-equivalent minor units */
	RISK_F_LOG_AMOUNT,	      /* log1p(amount_usd_minor) */
	RISK_F_CURRENCY_IS_USD,	      /* 1 if the presentment currency is usd, else 0 */
	RISK_F_MCC,		      /* merchant category code, e.g. 5411 (0 = unknown) */
	RISK_F_HOUR_UTC,	      /* 0..23 */
	RISK_F_WEEKDAY_UTC,	      /* 0 = Sunday .. 6 = Saturday */
	RISK_F_CARD_BRAND,	      /* enum risk_card_brand */
	RISK_F_FUNDING,		      /* enum risk_funding */
	RISK_F_CARD_COUNTRY,	      /* risk_country_code() of the issuing country, 0 = unknown */
	RISK_F_BILLING_COUNTRY_MATCH, /* 1 match, 0 mismatch, -1 unknown (either side missing) */
	RISK_F_CARD_COUNT_1H,	      /* attempts with this card in the last hour (all merchants) */
	RISK_F_CARD_SUM_1H,	      /* their sum, USD-equivalent minor units */
	RISK_F_CARD_COUNT_24H,
	RISK_F_CARD_SUM_24H,
	RISK_F_CUSTOMER_COUNT_1H, /* attempts by this customer in the last hour (0 if none) */
	RISK_F_CUSTOMER_SUM_1H,
	RISK_F_CUSTOMER_COUNT_24H,
	RISK_F_CUSTOMER_SUM_24H,
	RISK_F_CARD_DECLINE_RATE_30D, /* declines / attempts over 30 days, 0 when no attempts */
	RISK_F_CARD_ATTEMPTS_30D,     /* the denominator, so the trees can discount 1/1 */
	RISK_F_FIRST_TIME_CARD,	      /* 1 if this merchant has never seen this card */
	RISK_F_IP_COUNT_1H,	      /* attempts from the client IP in the last hour */
	RISK_FEATURE_COUNT
};

/* Stable names of the columns, indexed by enum risk_feature_column (CSV header, model metadata). */
extern const char *const risk_feature_names[RISK_FEATURE_COUNT];

enum risk_card_brand {
	RISK_BRAND_UNKNOWN = 0,
	RISK_BRAND_VISA,
	RISK_BRAND_MASTERCARD,
	RISK_BRAND_AMEX,
	RISK_BRAND_DISCOVER,
	RISK_BRAND_JCB,
	RISK_BRAND_DINERS,
	RISK_BRAND_UNIONPAY,
};

enum risk_funding {
	RISK_FUNDING_UNKNOWN = 0,
	RISK_FUNDING_CREDIT,
	RISK_FUNDING_DEBIT,
	RISK_FUNDING_PREPAID,
};

struct risk_features {
	int64_t amount_usd_minor; /* >= 0 */
	bool currency_is_usd;
	int mcc;	 /* 0..9999, 0 = unknown */
	int hour_utc;	 /* 0..23 */
	int weekday_utc; /* 0 = Sunday .. 6 */
	enum risk_card_brand card_brand;
	enum risk_funding funding;
	char card_country[3];	 /* ISO 3166-1 alpha-2, uppercase or lowercase; "" = unknown */
	char billing_country[3]; /* same; "" = not provided */

	uint32_t card_count_1h;
	int64_t card_sum_1h_usd_minor;
	uint32_t card_count_24h;
	int64_t card_sum_24h_usd_minor;
	uint32_t customer_count_1h;
	int64_t customer_sum_1h_usd_minor;
	uint32_t customer_count_24h;
	int64_t customer_sum_24h_usd_minor;
	uint32_t card_attempts_30d;
	uint32_t card_declines_30d; /* <= card_attempts_30d (clamped if not) */
	bool first_time_card;	    /* first time this merchant sees the card fingerprint */
	uint32_t ip_count_1h;
};

/* Zeroes f; every field then means "unknown / none". */
void risk_features_init(struct risk_features *f);

/* Sets hour_utc and weekday_utc from a Unix timestamp (seconds, UTC). */
void risk_features_set_time(struct risk_features *f, int64_t unix_seconds);

/* Fills out[0..n) with the model vector in enum risk_feature_column order. If n is smaller than
 * RISK_FEATURE_COUNT only the first n columns are written; columns past RISK_FEATURE_COUNT are
 * set to 0. */
void risk_features_to_vector(const struct risk_features *f, float *out, size_t n);

/* "US" / "us" -> 1 + (c0-'A')*26 + (c1-'A') in 1..676; anything else (including "") -> 0. */
int risk_country_code(const char *alpha2);

/* Stripe's card.brand / card.funding strings ("visa", "american_express"/"amex", "credit" …);
 * unknown or NULL -> *_UNKNOWN. */
enum risk_card_brand risk_card_brand_from_name(const char *name);
enum risk_funding risk_funding_from_name(const char *name);
const char *risk_card_brand_name(enum risk_card_brand b);
const char *risk_funding_name(enum risk_funding f);

#endif

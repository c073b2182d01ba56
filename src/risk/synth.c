/*
 * The generative story behind the synthetic fraud data (data/fraud/README.md has the numbers).
 *
 * About 3.5 % of rows are fraud. Legitimate traffic: moderate amounts whose typical size depends
 * on the merchant category (groceries ~$45, electronics ~$250, hotels ~$300), mostly daytime UTC,
 * billing country equal to the card country, a handful of uses of the card per day, low decline
 * history, and usually a card the merchant has seen before. Fraud comes in four flavours:
 *
 *   card testing (35 %)     small probes ($0.50-$10, some mimicking the shop's basket) in
 *                           bursts: many uses of the card in the last hour, often many attempts
 *                           from one IP, high decline rate, new card, billing address often
 *                           absent, charity/digital-goods merchants, night hours likelier;
 *   big ticket (30 %)       a freshly stolen card spent on expensive goods (~$400), billing
 *                           country often different from the card's, new card, prepaid cards
 *                           over-represented, night hours likelier;
 *   account takeover (20 %) a real customer's account: customer velocity spikes, the card is
 *                           often new to the merchant, the card has a high decline rate;
 *   clean fraud (15 %)      drawn from the legitimate distribution and labelled fraud: stolen
 *                           credentials used carefully. Nothing can catch these, which caps recall.
 *
 * The first three are then camouflaged: each row draws a care level and each group of signals is,
 * with that probability, replaced by what a legitimate attempt would show, so fraud ranges from
 * blatant to nearly invisible.
 *
 * Noise on the legitimate side keeps the problem from being trivially separable: travellers and
 * expats (billing country mismatch), night owls, people behind a shared NAT (high IP velocity),
 * businesses buying in bursts (high card velocity), first purchases at a new shop (new card),
 * cards that often hit insufficient funds (high decline rate), expensive one-off purchases, and
 * a few genuine attempts drawn outright from the fraud patterns.
 *
 * Doubles appear below only to draw synthetic sample values; every generated amount is rounded
 * to int64 minor units before it is stored, and sums are built with overflow-checked integer
 * addition.
 */
#include "risk/synth.h"

#include <errno.h>
#include <math.h>
#include <string.h>

uint64_t risk_splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void risk_rng_seed(struct risk_rng *r, uint64_t seed)
{
	uint64_t st = seed;
	for (int i = 0; i < 4; i++)
		r->s[i] = risk_splitmix64(&st);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t risk_rng_next(struct risk_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

double risk_rng_uniform(struct risk_rng *r)
{
	return (double)(risk_rng_next(r) >> 11) * 0x1.0p-53;
}

static bool chance(struct risk_rng *r, double p)
{
	return risk_rng_uniform(r) < p;
}

/* Integer uniform in [lo, hi]. */
static int64_t uniform_int(struct risk_rng *r, int64_t lo, int64_t hi)
{
	uint64_t span = (uint64_t)(hi - lo) + 1;
	return lo + (int64_t)(risk_rng_next(r) % span);
}

static double normal(struct risk_rng *r)
{
	/* Box-Muller; 1 - u keeps the log argument in (0, 1]. */
	double u1 = 1.0 - risk_rng_uniform(r);
	double u2 = risk_rng_uniform(r);
	return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* Knuth's method; lambda is small here, and the loop is bounded regardless. */
static uint32_t poisson(struct risk_rng *r, double lambda)
{
	double limit = exp(-lambda), p = 1.0;
	uint32_t k = 0;
	do {
		k++;
		p *= risk_rng_uniform(r);
	} while (p > limit && k < 1000);
	return k - 1;
}

static uint32_t binomial(struct risk_rng *r, uint32_t n, double p)
{
	uint32_t k = 0;
	for (uint32_t i = 0; i < n && i < 100000; i++)
		k += chance(r, p) ? 1 : 0;
	return k;
}

/* Geometric number of failures before a success with mean `mean`. */
static uint32_t geometric(struct risk_rng *r, double mean)
{
	double p = 1.0 / (1.0 + mean);
	double u = 1.0 - risk_rng_uniform(r);
	double k = floor(log(u) / log(1.0 - p));
	return k > 1000.0 ? 1000u : (uint32_t)k;
}

/* A synthetic amount in minor units: log-normal around `median_minor`, clamped. */
static int64_t draw_amount(struct risk_rng *r, double median_minor, double sigma, int64_t lo,
			   int64_t hi)
{
	double x = median_minor * exp(sigma * normal(r));
	if (!(x >= (double)lo))
		return lo;
	if (x >= (double)hi)
		return hi;
	return (int64_t)llround(x);
}

static int64_t sat_add(int64_t a, int64_t b)
{
	int64_t s;
	if (__builtin_add_overflow(a, b, &s))
		return INT64_MAX;
	return s;
}

/* Sum of `n` earlier attempts of typical size `median_minor`. */
static int64_t draw_sum(struct risk_rng *r, uint32_t n, double median_minor, double sigma)
{
	int64_t sum = 0;
	for (uint32_t i = 0; i < n && i < 1000; i++)
		sum = sat_add(sum, draw_amount(r, median_minor, sigma, 50, 5000000));
	return sum;
}

struct weighted {
	int value;
	int weight;
};

static int pick(struct risk_rng *r, const struct weighted *w, size_t n)
{
	int total = 0;
	for (size_t i = 0; i < n; i++)
		total += w[i].weight;
	int64_t x = uniform_int(r, 0, total - 1);
	for (size_t i = 0; i < n; i++) {
		if (x < w[i].weight)
			return w[i].value;
		x -= w[i].weight;
	}
	return w[n - 1].value;
}

#define PICK(r, table) pick((r), (table), sizeof(table) / sizeof((table)[0]))

/* Merchant categories: code, legit weight, fraud weight, typical legit amount in cents. */
static const struct mcc_info {
	int mcc;
	int legit_w;
	int testing_w;
	int big_w;
	double median_minor;
} mccs[] = {
    {5411, 15, 1, 2, 4500},   /* grocery */
    {5812, 15, 1, 1, 3500},   /* restaurants */
    {5999, 12, 10, 10, 6000}, /* misc retail */
    {5732, 8, 2, 30, 25000},  /* electronics */
    {5816, 10, 25, 8, 1500},  /* digital games */
    {5947, 3, 5, 20, 5000},   /* gift cards */
    {4121, 10, 3, 1, 2000},   /* taxi */
    {5691, 12, 3, 10, 8000},  /* clothing */
    {4814, 6, 10, 3, 4000},   /* telecom */
    {8398, 3, 35, 1, 2500},   /* charities */
    {7011, 6, 5, 14, 30000},  /* hotels */
};
#define N_MCCS (sizeof(mccs) / sizeof(mccs[0]))

static const struct mcc_info *pick_mcc(struct risk_rng *r, enum risk_synth_kind kind)
{
	int total = 0;
	int w[N_MCCS];
	for (size_t i = 0; i < N_MCCS; i++) {
		w[i] = kind == RISK_SYNTH_CARD_TESTING ? mccs[i].testing_w
		       : kind == RISK_SYNTH_BIG_TICKET ? mccs[i].big_w
						       : mccs[i].legit_w;
		total += w[i];
	}
	int64_t x = uniform_int(r, 0, total - 1);
	for (size_t i = 0; i < N_MCCS; i++) {
		if (x < w[i])
			return &mccs[i];
		x -= w[i];
	}
	return &mccs[N_MCCS - 1];
}

static const char *const countries[] = {"US", "GB", "CA", "DE", "FR", "AU", "JP", "BR",
					"IN", "MX", "NL", "ES", "IT", "NG", "RU", "CN"};
static const struct weighted country_w[] = {
    {0, 45}, {1, 8}, {2, 6},  {3, 6},  {4, 5},	{5, 4},	 {6, 4},  {7, 4},
    {8, 3},  {9, 3}, {10, 3}, {11, 3}, {12, 3}, {13, 1}, {14, 1}, {15, 2},
};

static const struct weighted brand_legit[] = {
    {RISK_BRAND_VISA, 50},    {RISK_BRAND_MASTERCARD, 30}, {RISK_BRAND_AMEX, 9},
    {RISK_BRAND_DISCOVER, 5}, {RISK_BRAND_JCB, 2},	   {RISK_BRAND_DINERS, 1},
    {RISK_BRAND_UNIONPAY, 3},
};
static const struct weighted brand_fraud[] = {
    {RISK_BRAND_VISA, 55},    {RISK_BRAND_MASTERCARD, 32}, {RISK_BRAND_AMEX, 5},
    {RISK_BRAND_DISCOVER, 4}, {RISK_BRAND_JCB, 1},	   {RISK_BRAND_DINERS, 1},
    {RISK_BRAND_UNIONPAY, 2},
};
static const struct weighted funding_legit[] = {
    {RISK_FUNDING_CREDIT, 55}, {RISK_FUNDING_DEBIT, 37}, {RISK_FUNDING_PREPAID, 8}};
static const struct weighted funding_fraud[] = {
    {RISK_FUNDING_CREDIT, 55}, {RISK_FUNDING_DEBIT, 25}, {RISK_FUNDING_PREPAID, 20}};

static void set_country(char dst[3], const char *src)
{
	memcpy(dst, src, 3);
}

/* Billing country: match / mismatch / absent with the given odds (the rest is absent). */
static void draw_billing(struct risk_rng *r, struct risk_features *f, double p_match,
			 double p_mismatch)
{
	double u = risk_rng_uniform(r);
	if (u < p_match) {
		set_country(f->billing_country, f->card_country);
	} else if (u < p_match + p_mismatch) {
		const char *c;
		int guard = 0;
		do {
			c = countries[PICK(r, country_w)];
		} while (strcmp(c, f->card_country) == 0 && ++guard < 32);
		set_country(f->billing_country, c);
	} else {
		f->billing_country[0] = '\0';
	}
}

static int wrap_hour(double h)
{
	long x = lround(h) % 24;
	return (int)(x < 0 ? x + 24 : x);
}

static void draw_legit(struct risk_rng *r, struct risk_features *f)
{
	const struct mcc_info *m = pick_mcc(r, RISK_SYNTH_LEGIT);
	f->mcc = m->mcc;
	/* Mostly ordinary purchases; 4 % expensive one-offs (a laptop, a flight). */
	if (chance(r, 0.04))
		f->amount_usd_minor = draw_amount(r, m->median_minor * 12.0, 0.7, 50, 5000000);
	else
		f->amount_usd_minor = draw_amount(r, m->median_minor, 0.9, 50, 5000000);
	set_country(f->card_country, countries[PICK(r, country_w)]);
	f->currency_is_usd = chance(r, strcmp(f->card_country, "US") == 0 ? 0.95 : 0.3);
	f->hour_utc =
	    chance(r, 0.8) ? wrap_hour(16.0 + 4.0 * normal(r)) : (int)uniform_int(r, 0, 23);
	f->weekday_utc = (int)uniform_int(r, 0, 6);
	f->card_brand = (enum risk_card_brand)PICK(r, brand_legit);
	f->funding = (enum risk_funding)PICK(r, funding_legit);
	draw_billing(r, f, 0.88, 0.06);

	if (chance(r, 0.025)) { /* a business buying in bursts, a rideshare commuter */
		f->card_count_1h = (uint32_t)uniform_int(r, 3, 12);
		f->card_count_24h = f->card_count_1h + poisson(r, 4.0);
	} else {
		f->card_count_1h = poisson(r, 0.15);
		f->card_count_24h = f->card_count_1h + poisson(r, 0.9);
	}
	f->card_sum_1h_usd_minor = draw_sum(r, f->card_count_1h, m->median_minor, 0.9);
	f->card_sum_24h_usd_minor = sat_add(
	    f->card_sum_1h_usd_minor, draw_sum(r, f->card_count_24h - f->card_count_1h, 4000, 0.9));
	if (!chance(r, 0.3)) { /* 30 % guest checkouts have no customer history */
		f->customer_count_1h = poisson(r, 0.2);
		f->customer_count_24h = f->customer_count_1h + poisson(r, 1.0);
		f->customer_sum_1h_usd_minor =
		    draw_sum(r, f->customer_count_1h, m->median_minor, 0.9);
		f->customer_sum_24h_usd_minor =
		    sat_add(f->customer_sum_1h_usd_minor,
			    draw_sum(r, f->customer_count_24h - f->customer_count_1h,
				     m->median_minor, 0.9));
	}
	f->card_attempts_30d = f->card_count_24h + poisson(r, 6.0);
	/* 6 % of cardholders often run out of funds. */
	f->card_declines_30d = binomial(r, f->card_attempts_30d, chance(r, 0.06) ? 0.3 : 0.03);
	f->first_time_card = chance(r, 0.25);
	f->ip_count_1h = chance(r, 0.04) ? (uint32_t)uniform_int(r, 5, 60) : poisson(r, 0.3);
}

static void draw_card_testing(struct risk_rng *r, struct risk_features *f)
{
	const struct mcc_info *m = pick_mcc(r, RISK_SYNTH_CARD_TESTING);
	f->mcc = m->mcc;
	double u = risk_rng_uniform(r);
	if (u < 0.2) /* the classic $1 / $0.50 probe */
		f->amount_usd_minor = chance(r, 0.5) ? 100 : 50;
	else if (u < 0.8)
		f->amount_usd_minor = uniform_int(r, 50, 999);
	else /* careful testers mimic the shop's usual basket */
		f->amount_usd_minor = draw_amount(r, m->median_minor, 0.9, 50, 5000000);
	set_country(f->card_country, countries[PICK(r, country_w)]);
	f->currency_is_usd = chance(r, 0.75);
	f->hour_utc =
	    chance(r, 0.45) ? wrap_hour(3.0 + 3.0 * normal(r)) : (int)uniform_int(r, 0, 23);
	f->weekday_utc = (int)uniform_int(r, 0, 6);
	f->card_brand = (enum risk_card_brand)PICK(r, brand_fraud);
	f->funding = (enum risk_funding)PICK(r, funding_fraud);
	draw_billing(r, f, 0.3, 0.2);

	/* The first probe of a burst has no velocity yet; the rest pile up. */
	f->card_count_1h = geometric(r, 4.0);
	f->card_count_24h = f->card_count_1h + poisson(r, 3.0);
	f->card_sum_1h_usd_minor = draw_sum(r, f->card_count_1h, 300, 0.8);
	f->card_sum_24h_usd_minor = sat_add(
	    f->card_sum_1h_usd_minor, draw_sum(r, f->card_count_24h - f->card_count_1h, 300, 0.8));
	if (chance(r, 0.3)) {
		f->customer_count_1h = geometric(r, 5.0);
		f->customer_count_24h = f->customer_count_1h + poisson(r, 2.0);
		f->customer_sum_1h_usd_minor = draw_sum(r, f->customer_count_1h, 300, 0.8);
		f->customer_sum_24h_usd_minor =
		    sat_add(f->customer_sum_1h_usd_minor,
			    draw_sum(r, f->customer_count_24h - f->customer_count_1h, 300, 0.8));
	}
	f->card_attempts_30d = f->card_count_24h + poisson(r, 2.0);
	f->card_declines_30d = binomial(r, f->card_attempts_30d, 0.1 + 0.6 * risk_rng_uniform(r));
	f->first_time_card = chance(r, 0.75);
	/* Half the testers rotate proxies, so their IP looks quiet. */
	f->ip_count_1h = chance(r, 0.5) ? (uint32_t)uniform_int(r, 5, 100) : poisson(r, 1.0);
}

static void draw_big_ticket(struct risk_rng *r, struct risk_features *f)
{
	const struct mcc_info *m = pick_mcc(r, RISK_SYNTH_BIG_TICKET);
	f->mcc = m->mcc;
	f->amount_usd_minor = draw_amount(r, 40000, 1.0, 50, 5000000);
	set_country(f->card_country, countries[PICK(r, country_w)]);
	f->currency_is_usd = chance(r, 0.75);
	f->hour_utc =
	    chance(r, 0.45) ? wrap_hour(3.0 + 3.0 * normal(r)) : (int)uniform_int(r, 0, 23);
	f->weekday_utc = (int)uniform_int(r, 0, 6);
	f->card_brand = (enum risk_card_brand)PICK(r, brand_fraud);
	f->funding = (enum risk_funding)PICK(r, funding_fraud);
	draw_billing(r, f, 0.4, 0.4);

	f->card_count_1h = poisson(r, 0.8);
	f->card_count_24h = f->card_count_1h + poisson(r, 1.5);
	f->card_sum_1h_usd_minor = draw_sum(r, f->card_count_1h, 50000, 0.8);
	f->card_sum_24h_usd_minor =
	    sat_add(f->card_sum_1h_usd_minor,
		    draw_sum(r, f->card_count_24h - f->card_count_1h, 50000, 0.8));
	if (chance(r, 0.4)) {
		f->customer_count_1h = poisson(r, 0.5);
		f->customer_count_24h = f->customer_count_1h + poisson(r, 0.5);
		f->customer_sum_1h_usd_minor = draw_sum(r, f->customer_count_1h, 50000, 0.8);
		f->customer_sum_24h_usd_minor =
		    sat_add(f->customer_sum_1h_usd_minor,
			    draw_sum(r, f->customer_count_24h - f->customer_count_1h, 50000, 0.8));
	}
	f->card_attempts_30d = f->card_count_24h + poisson(r, 2.0);
	f->card_declines_30d = binomial(r, f->card_attempts_30d, 0.15);
	f->first_time_card = chance(r, 0.75);
	f->ip_count_1h = chance(r, 0.2) ? (uint32_t)uniform_int(r, 3, 30) : poisson(r, 1.0);
}

static void draw_account_takeover(struct risk_rng *r, struct risk_features *f)
{
	const struct mcc_info *m = pick_mcc(r, RISK_SYNTH_LEGIT);
	f->mcc = m->mcc;
	f->amount_usd_minor = draw_amount(r, 15000, 0.9, 50, 5000000);
	set_country(f->card_country, countries[PICK(r, country_w)]);
	f->currency_is_usd = chance(r, strcmp(f->card_country, "US") == 0 ? 0.95 : 0.4);
	f->hour_utc =
	    chance(r, 0.3) ? wrap_hour(3.0 + 3.0 * normal(r)) : (int)uniform_int(r, 0, 23);
	f->weekday_utc = (int)uniform_int(r, 0, 6);
	f->card_brand = (enum risk_card_brand)PICK(r, brand_fraud);
	f->funding = (enum risk_funding)PICK(r, funding_fraud);
	draw_billing(r, f, 0.8, 0.1);

	f->card_count_1h = poisson(r, 1.0);
	f->card_count_24h = f->card_count_1h + poisson(r, 2.0);
	f->card_sum_1h_usd_minor = draw_sum(r, f->card_count_1h, 15000, 0.9);
	f->card_sum_24h_usd_minor =
	    sat_add(f->card_sum_1h_usd_minor,
		    draw_sum(r, f->card_count_24h - f->card_count_1h, 15000, 0.9));
	f->customer_count_1h = (uint32_t)uniform_int(r, 1, 6);
	f->customer_count_24h = f->customer_count_1h + poisson(r, 4.0);
	f->customer_sum_1h_usd_minor = draw_sum(r, f->customer_count_1h, 15000, 0.9);
	f->customer_sum_24h_usd_minor =
	    sat_add(f->customer_sum_1h_usd_minor,
		    draw_sum(r, f->customer_count_24h - f->customer_count_1h, 15000, 0.9));
	f->card_attempts_30d = f->card_count_24h + poisson(r, 8.0);
	f->card_declines_30d = binomial(r, f->card_attempts_30d, 0.25);
	f->first_time_card = chance(r, 0.5);
	f->ip_count_1h = poisson(r, 1.5);
}

void risk_synth_row_kind(struct risk_rng *r, enum risk_synth_kind kind, struct risk_features *ret_f)
{
	struct risk_features f;
	risk_features_init(&f);
	switch (kind) {
	case RISK_SYNTH_CARD_TESTING:
		draw_card_testing(r, &f);
		break;
	case RISK_SYNTH_BIG_TICKET:
		draw_big_ticket(r, &f);
		break;
	case RISK_SYNTH_ACCOUNT_TAKEOVER:
		draw_account_takeover(r, &f);
		break;
	case RISK_SYNTH_LEGIT:
	case RISK_SYNTH_CLEAN_FRAUD:
		draw_legit(r, &f);
		break;
	}
	*ret_f = f;
}

/* Fraudsters differ in care: each fraud row gets a camouflage level c in [0, 0.6) and each
 * group of signals is, with probability c, replaced by what a legitimate attempt would show. */
static void camouflage(struct risk_rng *r, struct risk_features *f)
{
	struct risk_features l;
	draw_legit(r, &l);
	double c = 0.6 * risk_rng_uniform(r);
	if (chance(r, c)) {
		f->mcc = l.mcc;
		f->amount_usd_minor = l.amount_usd_minor;
	}
	if (chance(r, c)) {
		f->hour_utc = l.hour_utc;
		f->weekday_utc = l.weekday_utc;
	}
	if (chance(r, c)) {
		f->card_brand = l.card_brand;
		f->funding = l.funding;
		f->currency_is_usd = l.currency_is_usd;
	}
	if (chance(r, c)) {
		memcpy(f->card_country, l.card_country, sizeof(f->card_country));
		memcpy(f->billing_country, l.billing_country, sizeof(f->billing_country));
	}
	if (chance(r, c)) {
		f->card_count_1h = l.card_count_1h;
		f->card_sum_1h_usd_minor = l.card_sum_1h_usd_minor;
		f->card_count_24h = l.card_count_24h;
		f->card_sum_24h_usd_minor = l.card_sum_24h_usd_minor;
	}
	if (chance(r, c)) {
		f->customer_count_1h = l.customer_count_1h;
		f->customer_sum_1h_usd_minor = l.customer_sum_1h_usd_minor;
		f->customer_count_24h = l.customer_count_24h;
		f->customer_sum_24h_usd_minor = l.customer_sum_24h_usd_minor;
	}
	if (chance(r, c)) {
		f->card_attempts_30d = l.card_attempts_30d;
		f->card_declines_30d = l.card_declines_30d;
	}
	if (chance(r, c))
		f->first_time_card = l.first_time_card;
	if (chance(r, c))
		f->ip_count_1h = l.ip_count_1h;
}

void risk_synth_row(struct risk_rng *r, struct risk_features *ret_f, int *ret_label,
		    enum risk_synth_kind *ret_kind)
{
	enum risk_synth_kind kind = RISK_SYNTH_LEGIT;
	if (chance(r, 0.035)) {
		double u = risk_rng_uniform(r);
		kind = u < 0.35	  ? RISK_SYNTH_CARD_TESTING
		       : u < 0.65 ? RISK_SYNTH_BIG_TICKET
		       : u < 0.85 ? RISK_SYNTH_ACCOUNT_TAKEOVER
				  : RISK_SYNTH_CLEAN_FRAUD;
	}
	if (kind == RISK_SYNTH_LEGIT && chance(r, 0.005)) {
		/* Unusual but genuine: the traveller buying a laptop at 3 am on a new card, the
		 * shop owner testing their own checkout. Drawn like fraud, labelled legitimate. */
		double u = risk_rng_uniform(r);
		risk_synth_row_kind(r,
				    u < 0.3   ? RISK_SYNTH_CARD_TESTING
				    : u < 0.7 ? RISK_SYNTH_BIG_TICKET
					      : RISK_SYNTH_ACCOUNT_TAKEOVER,
				    ret_f);
		camouflage(r, ret_f);
	} else {
		risk_synth_row_kind(r, kind, ret_f);
		if (kind != RISK_SYNTH_LEGIT && kind != RISK_SYNTH_CLEAN_FRAUD)
			camouflage(r, ret_f);
	}
	*ret_label = kind == RISK_SYNTH_LEGIT ? 0 : 1;
	if (ret_kind)
		*ret_kind = kind;
}

int risk_csv_write_header(FILE *out)
{
	for (size_t i = 0; i < RISK_FEATURE_COUNT; i++)
		if (fprintf(out, "%s,", risk_feature_names[i]) < 0)
			return -EIO;
	if (fputs("label\n", out) < 0)
		return -EIO;
	return 0;
}

int risk_csv_write_row(FILE *out, const float *v, size_t n, int label)
{
	for (size_t i = 0; i < n; i++)
		if (fprintf(out, "%.9g,", (double)v[i]) < 0)
			return -EIO;
	if (fprintf(out, "%d\n", label ? 1 : 0) < 0)
		return -EIO;
	return 0;
}

int risk_synth_write_file(const char *path, uint64_t rows, uint64_t seed, char *err, size_t errlen)
{
	if (rows == 0 || rows > RISK_SYNTH_MAX_ROWS) {
		snprintf(err, errlen, "rows must be between 1 and %u", RISK_SYNTH_MAX_ROWS);
		return -EINVAL;
	}
	FILE *out = fopen(path, "w");
	if (out == NULL) {
		int e = errno;
		snprintf(err, errlen, "cannot create %s: %s", path, strerror(e));
		return -e;
	}
	struct risk_rng rng;
	risk_rng_seed(&rng, seed);
	int rc = risk_csv_write_header(out);
	for (uint64_t i = 0; i < rows && rc == 0; i++) {
		struct risk_features f;
		int label;
		float v[RISK_FEATURE_COUNT];
		risk_synth_row(&rng, &f, &label, NULL);
		risk_features_to_vector(&f, v, RISK_FEATURE_COUNT);
		rc = risk_csv_write_row(out, v, RISK_FEATURE_COUNT, label);
	}
	if (fclose(out) != 0 && rc == 0)
		rc = -EIO;
	if (rc != 0)
		snprintf(err, errlen, "write to %s failed", path);
	return rc;
}

void risk_synth_vector(struct risk_rng *r, float *v)
{
	struct risk_features f;
	int label;
	risk_synth_row(r, &f, &label, NULL);
	risk_features_to_vector(&f, v, RISK_FEATURE_COUNT);
}

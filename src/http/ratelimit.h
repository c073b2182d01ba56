/*
 * Per-merchant token buckets (the seed's tiers: default 1,000 req/s with bursts of 2,000).
 * Tokens are kept in micro-tokens as integers; buckets live in a fixed table of striped locks.
 */
#ifndef TENDER_HTTP_RATELIMIT_H
#define TENDER_HTTP_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct ratelimit;

struct ratelimit_result {
	bool allowed;
	int64_t limit;
	int64_t remaining;
	int64_t reset_unix;
};

/* rate_per_s == 0 disables limiting. */
struct ratelimit *ratelimit_new(int64_t rate_per_s, int64_t burst);
void ratelimit_free(struct ratelimit *rl);
void ratelimit_take(struct ratelimit *rl, const char *merchant_id, int64_t now_us,
		    struct ratelimit_result *ret);
/* Parses "RATE[/BURST]"; BURST defaults to 2×RATE. 0 or -1. */
int ratelimit_parse(const char *s, int64_t *ret_rate, int64_t *ret_burst);

#endif

#include "http/ratelimit.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/id.h"
#include "core/parse.h"

/* distinct merchants tracked; beyond that, buckets are shared by hash */
#define BUCKETS_MAX 16384
#define STRIPES 64
#define MICRO 1000000

struct bucket {
	char merchant_id[ID_MAX];
	int64_t tokens_micro;
	int64_t last_us;
};

struct ratelimit {
	int64_t rate;
	int64_t burst;
	pthread_mutex_t mu[STRIPES];
	struct bucket *buckets;
};

struct ratelimit *ratelimit_new(int64_t rate_per_s, int64_t burst)
{
	struct ratelimit *rl = calloc(1, sizeof(*rl));
	if (!rl)
		return NULL;
	rl->rate = rate_per_s;
	rl->burst = burst > 0 ? burst : rate_per_s * 2;
	rl->buckets = calloc(BUCKETS_MAX, sizeof(*rl->buckets));
	if (!rl->buckets) {
		free(rl);
		return NULL;
	}
	for (int i = 0; i < STRIPES; i++)
		pthread_mutex_init(&rl->mu[i], NULL);
	return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
	if (!rl)
		return;
	for (int i = 0; i < STRIPES; i++)
		pthread_mutex_destroy(&rl->mu[i]);
	free(rl->buckets);
	free(rl);
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

void ratelimit_take(struct ratelimit *rl, const char *merchant_id, int64_t now_us,
		    struct ratelimit_result *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->allowed = true;
	if (!rl || rl->rate <= 0)
		return;
	uint64_t h = hash_str(merchant_id);
	size_t slot = h % BUCKETS_MAX;
	pthread_mutex_t *mu = &rl->mu[h % STRIPES];
	pthread_mutex_lock(mu);
	struct bucket *b = &rl->buckets[slot];
	if (strcmp(b->merchant_id, merchant_id) != 0) {
		/* a new (or colliding) merchant starts with a full bucket */
		strncpy(b->merchant_id, merchant_id, sizeof(b->merchant_id) - 1);
		b->tokens_micro = rl->burst * MICRO;
		b->last_us = now_us;
	}
	int64_t elapsed = now_us - b->last_us;
	if (elapsed > 0) {
		/* cap elapsed so elapsed × rate cannot overflow */
		if (elapsed > 3600LL * MICRO)
			elapsed = 3600LL * MICRO;
		b->tokens_micro += elapsed * rl->rate;
		if (b->tokens_micro > rl->burst * MICRO)
			b->tokens_micro = rl->burst * MICRO;
		b->last_us = now_us;
	}
	ret->limit = rl->rate;
	if (b->tokens_micro >= MICRO) {
		b->tokens_micro -= MICRO;
	} else {
		ret->allowed = false;
	}
	ret->remaining = b->tokens_micro / MICRO;
	int64_t missing = MICRO - b->tokens_micro % MICRO;
	ret->reset_unix = (now_us + missing / rl->rate) / MICRO + 1;
	pthread_mutex_unlock(mu);
}

int ratelimit_parse(const char *s, int64_t *ret_rate, int64_t *ret_burst)
{
	char tmp[64];
	if (strlen(s) >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, strlen(s) + 1);
	char *slash = strchr(tmp, '/');
	if (slash)
		*slash = '\0';
	int64_t rate, burst;
	if (parse_i64(tmp, &rate) != 0 || rate < 0 || rate > 100000000)
		return -1;
	burst = rate * 2;
	if (slash && (parse_i64(slash + 1, &burst) != 0 || burst < 1 || burst > 1000000000))
		return -1;
	*ret_rate = rate;
	*ret_burst = burst;
	return 0;
}

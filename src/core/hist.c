#include "core/hist.h"

void hist_add(struct hist *h, int64_t us)
{
	int64_t i = us < 0 ? 0 : us / 100;
	if (i >= HIST_BUCKETS)
		i = HIST_BUCKETS - 1;
	atomic_fetch_add_explicit(&h->b[i], 1, memory_order_relaxed);
}

void hist_take(struct hist *h, double *p50, double *p99)
{
	uint32_t c[HIST_BUCKETS];
	uint64_t n = 0;
	for (int i = 0; i < HIST_BUCKETS; i++) {
		c[i] = atomic_exchange_explicit(&h->b[i], 0, memory_order_relaxed);
		n += c[i];
	}
	*p50 = *p99 = 0;
	uint64_t acc = 0;
	int got50 = 0;
	for (int i = 0; i < HIST_BUCKETS && n; i++) {
		acc += c[i];
		if (!got50 && 2 * acc >= n) {
			*p50 = (i + 1) / 10.0;
			got50 = 1;
		}
		if (100 * acc >= 99 * n) {
			*p99 = (i + 1) / 10.0;
			break;
		}
	}
}

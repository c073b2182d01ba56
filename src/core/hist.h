/*
 * Latency histograms for the debug statistics lines: lock-free adds from any thread, 0.1 ms
 * buckets up to 50 ms (the last bucket holds everything slower). Statistics only: a take that
 * races an add may count that sample in the next window.
 */
#ifndef TENDER_CORE_HIST_H
#define TENDER_CORE_HIST_H

#include <stdatomic.h>
#include <stdint.h>

#define HIST_BUCKETS 500

struct hist {
	_Atomic uint32_t b[HIST_BUCKETS];
};

void hist_add(struct hist *h, int64_t us);
/* The median and the 99th percentile in ms (upper edges of their buckets; 0 when empty), and
 * empties the histogram for the next window. */
void hist_take(struct hist *h, double *p50, double *p99);

#endif

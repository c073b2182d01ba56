#ifndef TENDER_CORE_CLOCK_H
#define TENDER_CORE_CLOCK_H

#include <stdint.h>

/* Wall-clock seconds since the epoch (Stripe's `created`). */
int64_t clock_now(void);
/* Wall-clock milliseconds since the epoch. */
int64_t clock_now_ms(void);
/* Monotonic microseconds, for durations. */
int64_t clock_mono_us(void);
/* Monotonic nanoseconds, for durations of microseconds (the fraud model's score). */
int64_t clock_mono_ns(void);

#endif

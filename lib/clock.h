/*
 * clock.h - the monotonic clock every greygate module reads
 *
 * Timeouts, TTLs and durations are measured on CLOCK_MONOTONIC, never on
 * the wall clock, so a clock step (NTP, an administrator) can neither
 * expire a cache nor stretch a deadline.  One reading is offered in the
 * units the callers keep: a struct timespec (deadlines handed to
 * pthread_cond_timedwait() with a CLOCK_MONOTONIC condition attribute),
 * milliseconds (cache expiry), nanoseconds (benchmarks, record lifetimes)
 * and seconds as a double (greyprobe's reports).
 *
 * Arithmetic helpers keep tv_nsec normalised to [0, 1e9) for inputs that
 * are normalised, and accept negative ms.  No state, no allocation;
 * clock_gettime(CLOCK_MONOTONIC) cannot fail on the platforms we build on,
 * so none of these report an error.
 */
#ifndef GG_CLOCK_H
#define GG_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Now, as a timespec. */
void gg_clock_now(struct timespec *now);
/* Now in milliseconds. */
uint64_t gg_clock_ms(void);
/* Now in nanoseconds. */
int64_t gg_clock_ns(void);
/* Now in seconds. */
double gg_clock_sec(void);

/* Move t by ms milliseconds (ms may be negative). */
void gg_clock_add_ms(struct timespec *t, long ms);
/* Now plus ms milliseconds: a deadline. */
void gg_clock_deadline(struct timespec *t, long ms);
/* Milliseconds from a to b, negative if b is earlier; a positive remainder rounds up. */
long gg_clock_diff_ms(const struct timespec *a, const struct timespec *b);
/* Whole milliseconds elapsed since t0 (rounded down). */
long gg_clock_since_ms(const struct timespec *t0);

#endif

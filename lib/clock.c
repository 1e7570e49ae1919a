/*
 * clock.c - the monotonic clock (see clock.h)
 */
#include "lib/clock.h"

#define NS_PER_SEC 1000000000L
#define NS_PER_MS 1000000L

/* gg_clock_now - CLOCK_MONOTONIC as a timespec */
void gg_clock_now(struct timespec *now)
{
	clock_gettime(CLOCK_MONOTONIC, now);
}

/* gg_clock_ms - monotonic milliseconds */
uint64_t gg_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / NS_PER_MS;
}

/* gg_clock_ns - monotonic nanoseconds */
int64_t gg_clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

/* gg_clock_sec - monotonic seconds */
double gg_clock_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* gg_clock_add_ms - t moved by ms, tv_nsec kept in [0, 1e9) */
void gg_clock_add_ms(struct timespec *t, long ms)
{
	t->tv_sec += ms / 1000;
	t->tv_nsec += (ms % 1000) * NS_PER_MS;
	/* ms % 1000 lies in (-1000, 1000): one carry or borrow at most. */
	if (t->tv_nsec >= NS_PER_SEC) {
		t->tv_sec++;
		t->tv_nsec -= NS_PER_SEC;
	} else if (t->tv_nsec < 0) {
		t->tv_sec--;
		t->tv_nsec += NS_PER_SEC;
	}
}

/* gg_clock_deadline - now plus ms */
void gg_clock_deadline(struct timespec *t, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, t);
	gg_clock_add_ms(t, ms);
}

/* gg_clock_diff_ms - b - a in ms, a positive remainder rounded up */
long gg_clock_diff_ms(const struct timespec *a, const struct timespec *b)
{
	long long ns = (long long)(b->tv_sec - a->tv_sec) * NS_PER_SEC +
		       (b->tv_nsec - a->tv_nsec);

	/* Rounding a wait up means a poll() never wakes just before its deadline. */
	if (ns > 0)
		return (long)((ns + NS_PER_MS - 1) / NS_PER_MS);
	return (long)(ns / NS_PER_MS);
}

/* gg_clock_since_ms - whole ms from t0 to now */
long gg_clock_since_ms(const struct timespec *t0)
{
	struct timespec now;
	long long ns;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (long long)(now.tv_sec - t0->tv_sec) * NS_PER_SEC + (now.tv_nsec - t0->tv_nsec);
	return (long)(ns / NS_PER_MS);
}

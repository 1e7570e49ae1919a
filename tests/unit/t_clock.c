/*
 * t_clock.c - unit tests for lib/clock.c: timespec arithmetic and the
 * readers agreeing with each other on one monotonic clock
 */
#include <string.h>

#include "unit.h"
#include "lib/clock.h"
#include "lib/util.h"

/* gg_clock_add_ms */

struct add_case {
	const char *label;
	long sec, nsec, ms;
	long want_sec, want_nsec;
};

static const struct add_case add_cases[] = {
	{ "zero", 5, 0, 0, 5, 0 },
	{ "below a second", 5, 100, 250, 5, 250000100 },
	{ "whole seconds", 5, 7, 3000, 8, 7 },
	{ "carry into the seconds", 5, 900000000, 200, 6, 100000000 },
	{ "carry lands exactly on a second", 5, 800000000, 200, 6, 0 },
	{ "seconds and a carry", 1, 999999999, 1001, 3, 999999 },
	{ "negative, no borrow", 5, 500000000, -200, 5, 300000000 },
	{ "negative with a borrow", 5, 100000000, -200, 4, 900000000 },
	{ "negative whole seconds", 5, 0, -2000, 3, 0 },
	{ "negative seconds and a borrow", 5, 0, -2500, 2, 500000000 },
	{ "a day", 0, 0, 86400000, 86400, 0 },
};

static void test_add(void **state)
{
	const struct add_case *c = *state;
	struct timespec t = { .tv_sec = c->sec, .tv_nsec = c->nsec };

	gg_clock_add_ms(&t, c->ms);
	assert_int_equal(t.tv_sec, c->want_sec);
	assert_int_equal(t.tv_nsec, c->want_nsec);
}

/* gg_clock_diff_ms */

struct diff_case {
	const char *label;
	long asec, ansec, bsec, bnsec;
	long want;
};

static const struct diff_case diff_cases[] = {
	{ "equal", 3, 5, 3, 5, 0 },
	{ "whole ms", 3, 0, 3, 2000000, 2 },
	{ "a positive remainder rounds up", 3, 0, 3, 2000001, 3 },
	{ "one ns later is 1 ms", 3, 0, 3, 1, 1 },
	{ "across a second", 3, 999000000, 4, 1000000, 2 },
	{ "seconds", 1, 0, 11, 0, 10000 },
	{ "earlier whole ms", 3, 2000000, 3, 0, -2 },
	{ "earlier with a remainder truncates toward zero", 3, 2500000, 3, 0, -2 },
	{ "earlier across a second", 4, 1000000, 3, 999000000, -2 },
};

static void test_diff(void **state)
{
	const struct diff_case *c = *state;
	struct timespec a = { .tv_sec = c->asec, .tv_nsec = c->ansec };
	struct timespec b = { .tv_sec = c->bsec, .tv_nsec = c->bnsec };

	assert_int_equal(gg_clock_diff_ms(&a, &b), c->want);
}

/* The readers: one clock, never going back. */

static void test_readers_agree(void **state)
{
	struct timespec ts;
	uint64_t ms0, ms1;
	int64_t ns0, ns1;
	double s0, s1;

	(void)state;
	ms0 = gg_clock_ms();
	ns0 = gg_clock_ns();
	s0 = gg_clock_sec();
	gg_clock_now(&ts);
	ms1 = gg_clock_ms();
	ns1 = gg_clock_ns();
	s1 = gg_clock_sec();
	assert_true(ms1 >= ms0);
	assert_true(ns1 >= ns0);
	assert_true(s1 >= s0);
	/* Every reading is the same clock: within a second of each other. */
	assert_true((uint64_t)ts.tv_sec * 1000 + 1000 >= ms0);
	assert_true((uint64_t)ts.tv_sec * 1000 <= ms1);
	assert_true(ns0 / 1000000 <= (int64_t)ms1 + 1000);
	assert_true(s0 * 1000.0 <= (double)ms1 + 1000.0);
	assert_true(ts.tv_nsec >= 0 && ts.tv_nsec < 1000000000L);
}

static void test_deadline_and_since(void **state)
{
	struct timespec t0, dl, now;
	long left;

	(void)state;
	gg_clock_now(&t0);
	gg_clock_deadline(&dl, 5000);
	gg_clock_now(&now);
	left = gg_clock_diff_ms(&now, &dl);
	assert_true(left > 4000 && left <= 5000);
	assert_true(gg_clock_since_ms(&t0) >= 0);
	assert_true(gg_clock_since_ms(&t0) < 1000);
	gg_clock_add_ms(&t0, -1500);
	assert_true(gg_clock_since_ms(&t0) >= 1500);
}

int main(void)
{
	struct tu_suite s = { 0 };
	size_t i;

	for (i = 0; i < GG_ARRAY_LEN(add_cases); i++)
		tu_add(&s, test_add, &add_cases[i], "add_ms: %s", add_cases[i].label);
	for (i = 0; i < GG_ARRAY_LEN(diff_cases); i++)
		tu_add(&s, test_diff, &diff_cases[i], "diff_ms: %s", diff_cases[i].label);
	tu_add(&s, test_readers_agree, NULL, "readers: ms, ns, s and timespec are one clock");
	tu_add(&s, test_deadline_and_since, NULL, "deadline and since_ms");
	return tu_run(&s, "t_clock");
}

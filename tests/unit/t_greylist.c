/*
 * t_greylist.c - unit tests for engine/greylist.c: the greylisting state
 * machine driven with an injected clock
 *
 * A small simulated store keeps every record encoded exactly as the engine
 * would write it (and decodes it before each step), so a step that writes
 * a record the decoder refuses fails here too.  Scenarios are tables of
 * steps: which triplet, when, and the outcome expected.
 */
#include <string.h>

#include "unit.h"
#include "engine/greylist.h"
#include "store/record.h"
#include "lib/util.h"

#define T0 1700000000ULL
#define MIN 60
#define HOUR 3600
#define DAY 86400L
#define DELAY 300
#define WINDOW (2 * DAY)
#define MAX_AGE (35 * DAY)
#define NTRIP 8

struct sim {
	struct gg_greylist_params p;
	uint8_t tbuf[NTRIP][GG_RECORD_MAX];
	size_t tlen[NTRIP];		/* 0: absent */
	uint8_t cbuf[GG_RECORD_MAX];
	size_t clen;
	struct gg_triplet_rec t;	/* after the last step */
	struct gg_client_rec c;
	struct gg_greylist_result r;
};

static void sim_init(struct sim *s, long delay, long window, long max_age, long awl)
{
	memset(s, 0, sizeof(*s));
	s->p.delay = delay;
	s->p.retry_window = window;
	s->p.max_age = max_age;
	s->p.auto_whitelist = awl;
}

/* sim_step - load triplet i and the client record, step, store what it says */
static void sim_step(struct sim *s, int i, uint64_t now)
{
	int have_t = 0, have_c = 0;

	memset(&s->t, 0, sizeof(s->t));
	memset(&s->c, 0, sizeof(s->c));
	if (s->tlen[i] > 0) {
		assert_int_equal(gg_record_triplet_decode(s->tbuf[i], s->tlen[i], &s->t), GG_OK);
		have_t = 1;
	}
	if (s->clen > 0) {
		assert_int_equal(gg_record_client_decode(s->cbuf, s->clen, &s->c), GG_OK);
		have_c = 1;
	}
	gg_greylist_step(&s->p, now, &s->t, have_t, &s->c, have_c, &s->r);
	if (s->r.write_triplet) {
		struct gg_triplet_rec chk;
		s->tlen[i] = gg_record_triplet_encode(&s->t, s->tbuf[i]);
		if (gg_record_triplet_decode(s->tbuf[i], s->tlen[i], &chk) != GG_OK)
			fail_msg("step wrote a triplet record the decoder refuses "
				 "(first %llu last %llu passed %llu)",
				 (unsigned long long)s->t.first_seen,
				 (unsigned long long)s->t.last_seen,
				 (unsigned long long)s->t.passed_at);
	}
	if (s->r.write_client) {
		struct gg_client_rec chk;
		s->clen = gg_record_client_encode(&s->c, s->cbuf);
		if (gg_record_client_decode(s->cbuf, s->clen, &chk) != GG_OK)
			fail_msg("step wrote a client record the decoder refuses "
				 "(first %llu last %llu counted %llu)",
				 (unsigned long long)s->c.first_seen,
				 (unsigned long long)s->c.last_seen,
				 (unsigned long long)s->c.last_counted);
	}
	if (s->p.auto_whitelist <= 0)
		assert_false(s->r.write_client);
}

/* Scenarios */

#define ANY (-1L)

struct step {
	int trip;		/* triplet index; -1 ends the list */
	long at;		/* seconds after T0 (may be negative) */
	enum gg_greylist_outcome want;
	long value;		/* remaining (defers) or delayed (PASS_FIRST); ANY: not checked */
};

struct scenario {
	const char *label;
	long delay, window, max_age, awl;
	struct step steps[24];
};

#define END { -1, 0, 0, 0 }
#define STD DELAY, WINDOW, MAX_AGE

static const struct scenario scenarios[] = {
	{ "new triplet is deferred for the whole delay", STD, 5,
	  { { 0, 0, GG_GL_DEFER_NEW, DELAY }, END } },
	{ "early retry is deferred for the rest of the delay", STD, 5,
	  { { 0, 0, GG_GL_DEFER_NEW, 300 }, { 0, 60, GG_GL_DEFER_EARLY, 240 },
	    { 0, 299, GG_GL_DEFER_EARLY, 1 }, END } },
	{ "retry at the end of the delay passes", STD, 5,
	  { { 0, 0, GG_GL_DEFER_NEW, 300 }, { 0, 300, GG_GL_PASS_FIRST, 300 }, END } },
	{ "early retries do not move the start", STD, 5,
	  { { 0, 0, GG_GL_DEFER_NEW, 300 }, { 0, 200, GG_GL_DEFER_EARLY, 100 },
	    { 0, 250, GG_GL_DEFER_EARLY, 50 }, { 0, 300, GG_GL_PASS_FIRST, 300 }, END } },
	{ "a late retry reports how long the message was held", STD, 5,
	  { { 0, 0, GG_GL_DEFER_NEW, 300 }, { 0, 4000, GG_GL_PASS_FIRST, 4000 }, END } },
	{ "mail after the first pass is known", STD, 5,
	  { { 0, 0, GG_GL_DEFER_NEW, 300 }, { 0, 300, GG_GL_PASS_FIRST, 300 },
	    { 0, 301, GG_GL_PASS_KNOWN, ANY }, { 0, DAY, GG_GL_PASS_KNOWN, ANY }, END } },
	{ "retry at the very end of the retry window passes", STD, 5,
	  { { 0, 0, GG_GL_DEFER_NEW, 300 }, { 0, WINDOW, GG_GL_PASS_FIRST, WINDOW }, END } },
	{ "retry after the retry window starts over", STD, 5,
	  { { 0, 0, GG_GL_DEFER_NEW, 300 }, { 0, WINDOW + 1, GG_GL_DEFER_NEW, 300 },
	    { 0, WINDOW + 100, GG_GL_DEFER_EARLY, 201 },
	    { 0, WINDOW + 301, GG_GL_PASS_FIRST, 300 }, END } },
	{ "early retries then the window missed starts over", STD, 5,
	  { { 0, 0, GG_GL_DEFER_NEW, 300 }, { 0, 100, GG_GL_DEFER_EARLY, 200 },
	    { 0, WINDOW + 5, GG_GL_DEFER_NEW, 300 }, END } },
	{ "known triplet silent exactly max_age is still known", STD, 5,
	  { { 0, 0, GG_GL_DEFER_NEW, 300 }, { 0, 300, GG_GL_PASS_FIRST, 300 },
	    { 0, 300 + MAX_AGE, GG_GL_PASS_KNOWN, ANY }, END } },
	{ "known triplet silent longer than max_age is new again", STD, 5,
	  { { 0, 0, GG_GL_DEFER_NEW, 300 }, { 0, 300, GG_GL_PASS_FIRST, 300 },
	    { 0, 301 + MAX_AGE, GG_GL_DEFER_NEW, 300 }, END } },
	{ "known triplet used monthly stays known for a year", STD, 0,
	  { { 0, 0, GG_GL_DEFER_NEW, 300 }, { 0, 300, GG_GL_PASS_FIRST, 300 },
	    { 0, 30 * DAY, GG_GL_PASS_KNOWN, ANY }, { 0, 60 * DAY, GG_GL_PASS_KNOWN, ANY },
	    { 0, 90 * DAY, GG_GL_PASS_KNOWN, ANY }, { 0, 120 * DAY, GG_GL_PASS_KNOWN, ANY },
	    { 0, 150 * DAY, GG_GL_PASS_KNOWN, ANY }, { 0, 180 * DAY, GG_GL_PASS_KNOWN, ANY },
	    { 0, 210 * DAY, GG_GL_PASS_KNOWN, ANY }, { 0, 240 * DAY, GG_GL_PASS_KNOWN, ANY },
	    { 0, 270 * DAY, GG_GL_PASS_KNOWN, ANY }, { 0, 300 * DAY, GG_GL_PASS_KNOWN, ANY },
	    { 0, 330 * DAY, GG_GL_PASS_KNOWN, ANY }, { 0, 360 * DAY, GG_GL_PASS_KNOWN, ANY }, END } },
	{ "zero delay still defers the first attempt, then passes at once", 0, WINDOW, MAX_AGE, 5,
	  { { 0, 0, GG_GL_DEFER_NEW, 0 }, { 0, 1, GG_GL_PASS_FIRST, 1 }, END } },
	{ "triplets are independent", STD, 0,
	  { { 0, 0, GG_GL_DEFER_NEW, 300 }, { 1, 100, GG_GL_DEFER_NEW, 300 },
	    { 0, 300, GG_GL_PASS_FIRST, 300 }, { 1, 300, GG_GL_DEFER_EARLY, 100 },
	    { 1, 400, GG_GL_PASS_FIRST, 300 }, END } },

	/* Auto-whitelisting */
	{ "awl: five passes within one hour count once", STD, 5,
	  { { 0, 0, GG_GL_DEFER_NEW, 300 }, { 1, 1, GG_GL_DEFER_NEW, 300 },
	    { 2, 2, GG_GL_DEFER_NEW, 300 }, { 3, 3, GG_GL_DEFER_NEW, 300 },
	    { 4, 4, GG_GL_DEFER_NEW, 300 },
	    { 0, 300, GG_GL_PASS_FIRST, 300 }, { 1, 301, GG_GL_PASS_FIRST, 300 },
	    { 2, 302, GG_GL_PASS_FIRST, 300 }, { 3, 303, GG_GL_PASS_FIRST, 300 },
	    { 4, 304, GG_GL_PASS_FIRST, 300 },
	    { 5, 400, GG_GL_DEFER_NEW, 300 }, END } },
	{ "awl: trusted after five passes an hour apart", STD, 5,
	  { { 0, 0, GG_GL_DEFER_NEW, 300 }, { 0, 300, GG_GL_PASS_FIRST, 300 },
	    { 1, 1 * HOUR, GG_GL_DEFER_NEW, 300 }, { 1, 1 * HOUR + 300, GG_GL_PASS_FIRST, 300 },
	    { 2, 2 * HOUR, GG_GL_DEFER_NEW, 300 }, { 2, 2 * HOUR + 300, GG_GL_PASS_FIRST, 300 },
	    { 3, 3 * HOUR, GG_GL_DEFER_NEW, 300 }, { 3, 3 * HOUR + 300, GG_GL_PASS_FIRST, 300 },
	    { 4, 4 * HOUR, GG_GL_DEFER_NEW, 300 }, { 4, 4 * HOUR + 300, GG_GL_PASS_FIRST, 300 },
	    { 5, 4 * HOUR + 400, GG_GL_PASS_AWL, ANY }, { 6, 5 * HOUR, GG_GL_PASS_AWL, ANY }, END } },
	{ "awl: four counted passes are not enough", STD, 5,
	  { { 0, 0, GG_GL_DEFER_NEW, 300 }, { 0, 300, GG_GL_PASS_FIRST, 300 },
	    { 0, 1 * HOUR + 300, GG_GL_PASS_KNOWN, ANY }, { 0, 2 * HOUR + 300, GG_GL_PASS_KNOWN, ANY },
	    { 0, 3 * HOUR + 300, GG_GL_PASS_KNOWN, ANY },
	    { 1, 3 * HOUR + 400, GG_GL_DEFER_NEW, 300 }, END } },
	{ "awl: known passes count too, once an hour", STD, 5,
	  { { 0, 0, GG_GL_DEFER_NEW, 300 }, { 0, 300, GG_GL_PASS_FIRST, 300 },
	    { 0, 1 * HOUR + 299, GG_GL_PASS_KNOWN, ANY },	/* under an hour: not counted */
	    { 0, 1 * HOUR + 300, GG_GL_PASS_KNOWN, ANY }, { 0, 2 * HOUR + 300, GG_GL_PASS_KNOWN, ANY },
	    { 0, 3 * HOUR + 300, GG_GL_PASS_KNOWN, ANY }, { 0, 4 * HOUR + 300, GG_GL_PASS_KNOWN, ANY },
	    { 1, 4 * HOUR + 400, GG_GL_PASS_AWL, ANY }, END } },
	{ "awl: a threshold of 1 trusts after the first pass", STD, 1,
	  { { 0, 0, GG_GL_DEFER_NEW, 300 }, { 0, 300, GG_GL_PASS_FIRST, 300 },
	    { 1, 301, GG_GL_PASS_AWL, ANY }, END } },
	{ "awl: 0 disables auto-whitelisting", STD, 0,
	  { { 0, 0, GG_GL_DEFER_NEW, 300 }, { 0, 300, GG_GL_PASS_FIRST, 300 },
	    { 0, 1 * HOUR + 300, GG_GL_PASS_KNOWN, ANY }, { 0, 2 * HOUR + 300, GG_GL_PASS_KNOWN, ANY },
	    { 0, 3 * HOUR + 300, GG_GL_PASS_KNOWN, ANY }, { 0, 4 * HOUR + 300, GG_GL_PASS_KNOWN, ANY },
	    { 0, 5 * HOUR + 300, GG_GL_PASS_KNOWN, ANY },
	    { 1, 5 * HOUR + 400, GG_GL_DEFER_NEW, 300 }, END } },
	{ "awl: trust lasts exactly max_age of silence", STD, 1,
	  { { 0, 0, GG_GL_DEFER_NEW, 300 }, { 0, 300, GG_GL_PASS_FIRST, 300 },
	    { 1, 300 + MAX_AGE, GG_GL_PASS_AWL, ANY }, END } },
	{ "awl: trust is forgotten after max_age of silence", STD, 1,
	  { { 0, 0, GG_GL_DEFER_NEW, 300 }, { 0, 300, GG_GL_PASS_FIRST, 300 },
	    { 1, 301 + MAX_AGE, GG_GL_DEFER_NEW, 300 }, END } },
	{ "awl: trusted mail keeps the trust alive", STD, 1,
	  { { 0, 0, GG_GL_DEFER_NEW, 300 }, { 0, 300, GG_GL_PASS_FIRST, 300 },
	    { 1, 30 * DAY, GG_GL_PASS_AWL, ANY }, { 2, 60 * DAY, GG_GL_PASS_AWL, ANY },
	    { 3, 90 * DAY, GG_GL_PASS_AWL, ANY }, END } },
	{ "awl: counting starts again after max_age of silence", STD, 2,
	  { { 0, 0, GG_GL_DEFER_NEW, 300 }, { 0, 300, GG_GL_PASS_FIRST, 300 },	/* 1 counted */
	    { 1, 40 * DAY, GG_GL_DEFER_NEW, 300 },
	    { 1, 40 * DAY + 300, GG_GL_PASS_FIRST, 300 },	/* counts as 1 again, not 2 */
	    { 2, 40 * DAY + 400, GG_GL_DEFER_NEW, 300 }, END } },

	/* A clock that goes backwards (NTP step, VM restore) */
	{ "clock back: early retry stays within the delay", STD, 5,
	  { { 0, 0, GG_GL_DEFER_NEW, 300 }, { 0, -100, GG_GL_DEFER_EARLY, 300 }, END } },
	{ "clock back: a passed triplet stays known", STD, 5,
	  { { 0, 0, GG_GL_DEFER_NEW, 300 }, { 0, 300, GG_GL_PASS_FIRST, 300 },
	    { 0, 300 - HOUR, GG_GL_PASS_KNOWN, ANY }, { 0, 400, GG_GL_PASS_KNOWN, ANY }, END } },
	{ "clock back: a deferred triplet still passes after the delay", STD, 5,
	  { { 0, 0, GG_GL_DEFER_NEW, 300 }, { 0, 200, GG_GL_DEFER_EARLY, 100 },
	    { 0, 100, GG_GL_DEFER_EARLY, ANY }, { 0, 300, GG_GL_PASS_FIRST, 300 }, END } },
	{ "clock back 10 s does not revoke auto-whitelisting", STD, 1,
	  { { 0, 0, GG_GL_DEFER_NEW, 300 }, { 0, 300, GG_GL_PASS_FIRST, 300 },
	    { 1, 290, GG_GL_PASS_AWL, ANY }, END } },
	{ "clock back 60 s does not reset auto-whitelist progress", STD, 3,
	  { { 0, 0, GG_GL_DEFER_NEW, 300 }, { 1, 10, GG_GL_DEFER_NEW, 300 },
	    { 0, 300, GG_GL_PASS_FIRST, 300 },			/* counted: 1 */
	    { 1, HOUR + 300, GG_GL_PASS_FIRST, ANY },		/* window ok; counted: 2 */
	    { 0, HOUR + 240, GG_GL_PASS_KNOWN, ANY },		/* clock stepped back 60 s */
	    { 0, 2 * HOUR + 300, GG_GL_PASS_KNOWN, ANY },	/* counted: 3 */
	    { 2, 2 * HOUR + 400, GG_GL_PASS_AWL, ANY }, END } },
};

static void test_scenario(void **state)
{
	const struct scenario *sc = *state;
	struct sim s;

	sim_init(&s, sc->delay, sc->window, sc->max_age, sc->awl);
	for (size_t i = 0; i < GG_ARRAY_LEN(sc->steps) && sc->steps[i].trip >= 0; i++) {
		const struct step *st = &sc->steps[i];
		sim_step(&s, st->trip, (uint64_t)((long long)T0 + st->at));
		if (s.r.outcome != st->want)
			fail_msg("step %zu (triplet %d at T0%+ld): outcome %s, expected %s", i + 1,
				 st->trip, st->at, gg_greylist_outcome_str(s.r.outcome),
				 gg_greylist_outcome_str(st->want));
		if (st->value == ANY)
			continue;
		if (gg_greylist_is_defer(st->want) && s.r.remaining != st->value)
			fail_msg("step %zu (triplet %d at T0%+ld): remaining %ld, expected %ld", i + 1,
				 st->trip, st->at, s.r.remaining, st->value);
		if (st->want == GG_GL_PASS_FIRST && s.r.delayed != st->value)
			fail_msg("step %zu (triplet %d at T0%+ld): delayed %ld, expected %ld", i + 1,
				 st->trip, st->at, s.r.delayed, st->value);
	}
}

/* Record contents and write flags */

static void test_records_new_early_pass(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s, DELAY, WINDOW, MAX_AGE, 5);
	sim_step(&s, 0, T0);
	assert_true(s.r.write_triplet);
	assert_false(s.r.write_client);
	assert_true(s.t.first_seen == T0 && s.t.last_seen == T0 && s.t.passed_at == 0);
	assert_int_equal(s.t.defer_count, 1);
	assert_int_equal(s.t.pass_count, 0);
	assert_int_equal(s.r.delayed, 0);

	sim_step(&s, 0, T0 + 100);
	assert_true(s.r.write_triplet);
	assert_false(s.r.write_client);
	assert_true(s.t.first_seen == T0 && s.t.last_seen == T0 + 100);
	assert_int_equal(s.t.defer_count, 2);

	sim_step(&s, 0, T0 + 400);
	assert_int_equal(s.r.outcome, GG_GL_PASS_FIRST);
	assert_true(s.r.write_triplet);
	assert_true(s.r.write_client);
	assert_true(s.t.passed_at == T0 + 400 && s.t.last_seen == T0 + 400);
	assert_int_equal(s.t.pass_count, 1);
	assert_int_equal(s.r.remaining, 0);
	assert_true(s.c.first_seen == T0 + 400 && s.c.last_seen == T0 + 400);
	assert_true(s.c.last_counted == T0 + 400);
	assert_int_equal(s.c.pass_count, 1);

	sim_step(&s, 0, T0 + 500);
	assert_int_equal(s.r.outcome, GG_GL_PASS_KNOWN);
	assert_int_equal(s.t.pass_count, 2);
	assert_true(s.t.passed_at == T0 + 400);	/* first pass time is kept */
	assert_int_equal(s.c.pass_count, 1);	/* not counted again within the hour */
	assert_true(s.c.last_seen == T0 + 500);	/* but activity is recorded */
	assert_true(s.c.last_counted == T0 + 400);
}

static void test_records_awl_step(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s, DELAY, WINDOW, MAX_AGE, 1);
	sim_step(&s, 0, T0);
	sim_step(&s, 0, T0 + 300);
	sim_step(&s, 1, T0 + 1000);
	assert_int_equal(s.r.outcome, GG_GL_PASS_AWL);
	assert_false(s.r.write_triplet);	/* trusted clients make no triplet records */
	assert_true(s.r.write_client);
	assert_true(s.c.last_seen == T0 + 1000);
	assert_int_equal(s.tlen[1], 0);
}

static void test_records_restart(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s, DELAY, WINDOW, MAX_AGE, 5);
	sim_step(&s, 0, T0);
	sim_step(&s, 0, T0 + 100);
	sim_step(&s, 0, T0 + WINDOW + 1);
	assert_int_equal(s.r.outcome, GG_GL_DEFER_NEW);
	assert_true(s.t.first_seen == T0 + WINDOW + 1);	/* the delay counts from now */
	assert_int_equal(s.t.defer_count, 1);
}

static void test_outcome_names(void **state)
{
	static const struct { enum gg_greylist_outcome o; const char *name; int defer; } names[] = {
		{ GG_GL_DEFER_NEW, "new", 1 },
		{ GG_GL_DEFER_EARLY, "early-retry", 1 },
		{ GG_GL_PASS_FIRST, "delay-passed", 0 },
		{ GG_GL_PASS_KNOWN, "known", 0 },
		{ GG_GL_PASS_AWL, "auto-whitelist", 0 },
	};

	(void)state;
	for (size_t i = 0; i < GG_ARRAY_LEN(names); i++) {
		assert_string_equal(gg_greylist_outcome_str(names[i].o), names[i].name);
		assert_int_equal(!!gg_greylist_is_defer(names[i].o), names[i].defer);
	}
	assert_string_equal(gg_greylist_outcome_str((enum gg_greylist_outcome)99), "unknown");
}

int main(void)
{
	struct tu_suite s = { 0 };

	for (size_t i = 0; i < GG_ARRAY_LEN(scenarios); i++)
		tu_add(&s, test_scenario, &scenarios[i], "%s", scenarios[i].label);
	tu_add(&s, test_records_new_early_pass, NULL, "records: new, early retry, first pass, known");
	tu_add(&s, test_records_awl_step, NULL, "records: an auto-whitelisted pass writes only the client");
	tu_add(&s, test_records_restart, NULL, "records: a missed window restarts the delay from now");
	tu_add(&s, test_outcome_names, NULL, "outcome names and is_defer");
	return tu_run(&s, "t_greylist");
}

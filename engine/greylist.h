/*
 * greylist.h - the greylisting state machine, free of I/O and clocks
 *
 * gg_greylist_step() takes the stored records of one triplet and its client
 * (either may be absent), the time and the parameters, and returns the
 * decision plus the records to write back.  The caller owns storage and the
 * clock, which is what makes this testable with an injected time.
 *
 * States of a triplet: new -> deferred (a retry before greylist_delay is
 * deferred again) -> passed (a retry after the delay and within
 * greylist_retry_window) -> forgotten (greylist_max_age without traffic, or
 * a retry after the retry window, which starts over).  A client network
 * whose triplets passed greylist_auto_whitelist times, counting at most one
 * pass per hour, is trusted as a whole until it has been silent for
 * greylist_max_age.
 */
#ifndef GG_GREYLIST_H
#define GG_GREYLIST_H

#include <stdint.h>
#include "store/record.h"

#define GG_AWL_COUNT_INTERVAL 3600	/* at most one counted pass per hour */

struct gg_greylist_params {
	long delay;		/* seconds before a retry is accepted */
	long retry_window;	/* seconds after first sight a retry must come */
	long max_age;		/* seconds without traffic before a record is forgotten */
	long auto_whitelist;	/* passes that make a client trusted; 0 disables */
};

enum gg_greylist_outcome {
	GG_GL_DEFER_NEW,	/* first sighting (or forgotten, or retry window missed) */
	GG_GL_DEFER_EARLY,	/* retry before the delay was over */
	GG_GL_PASS_FIRST,	/* first retry after the delay: the message was delayed */
	GG_GL_PASS_KNOWN,	/* triplet passed before */
	GG_GL_PASS_AWL,		/* client network is auto-whitelisted */
};

struct gg_greylist_result {
	enum gg_greylist_outcome outcome;
	long remaining;		/* seconds until a retry passes (defer outcomes) */
	long delayed;		/* seconds the message was held (PASS_FIRST) */
	int write_triplet;	/* store *trec */
	int write_client;	/* store *crec */
};

/*
 * One greylisting step.  have_t/have_c say whether the records exist; the
 * records are updated in place and the result says which to write back.
 */
void gg_greylist_step(const struct gg_greylist_params *p, uint64_t now,
		      struct gg_triplet_rec *trec, int have_t,
		      struct gg_client_rec *crec, int have_c,
		      struct gg_greylist_result *res);

/* Short name of an outcome for log lines ("new", "early-retry", ...). */
const char *gg_greylist_outcome_str(enum gg_greylist_outcome o);
/* Is the outcome a deferral? */
int gg_greylist_is_defer(enum gg_greylist_outcome o);

#endif

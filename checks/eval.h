/*
 * eval.h - the one evaluation pipeline behind every front end
 *
 * A front end builds a struct gg_request and calls gg_eval_start(); the
 * verdict comes back through ops->done, from the event loop, never from
 * inside gg_eval_start().  On the way, in this order and nowhere else:
 *
 *   prefilter      stage, client address and static whitelists decide at
 *                  once when they can (gg_engine_needs_checks());
 *   remembered     the same client, names, HELO and sender domain were
 *   outcome        checked a moment ago: their score is taken as it is;
 *   checks         otherwise the DNS and SPF checks run (gg_checks_start());
 *   batch          the request joins the batch of this turn of the loop;
 *   decision       at the end of the turn the whole batch is decided with
 *                  one database commit (group commit), and the callbacks
 *                  run in the order the requests became ready.
 *
 * A request with no checks to run is decided in the turn it arrived.  A
 * front end that must answer requests of one connection in order either
 * sends one at a time (Postfix does) or gives gg_eval_start() a NULL
 * request for one it refused itself: that one keeps its place in the
 * batch and comes back as GG_EVAL_REFUSED, undecided.
 *
 * ops->wanted (may be NULL) is asked just before the database is touched;
 * 0 drops the request undecided (GG_EVAL_DROPPED): the milter's asker
 * gave up and has answered the MTA already.  A cancelled job gets no
 * callback at all; if it was already waiting in the batch it is still
 * decided (its request was complete and the MTA may retry it).
 *
 * The checks failing to start (out of memory) leave the request to be
 * decided without them, with checks_error set so the front end can say
 * so.  A reload builds new checks; jobs running on the old ones finish on
 * them (gg_checks is refcounted).
 *
 * Threads: a struct gg_eval belongs to the thread of its event loop.
 */
#ifndef GG_EVAL_H
#define GG_EVAL_H

#include <stddef.h>

#include "checks/checks.h"
#include "engine/config.h"
#include "engine/engine.h"
#include "engine/request.h"
#include "engine/score.h"
#include "lib/status.h"
#include "store/store.h"

#define GG_EVAL_BATCH_MAX 256	/* requests decided per database commit, at most */

struct event_base;
struct gg_eval;
struct gg_eval_job;

enum gg_eval_outcome {
	GG_EVAL_DECIDED,	/* verdict is set */
	GG_EVAL_REFUSED,	/* a place holder (NULL request): nothing was decided */
	GG_EVAL_DROPPED,	/* ops->wanted said 0: nothing was decided */
};

/* What ops->done is told; valid only during the callback. */
struct gg_eval_result {
	enum gg_eval_outcome outcome;
	const struct gg_request *req;		/* NULL for GG_EVAL_REFUSED */
	const struct gg_verdict *verdict;	/* GG_EVAL_DECIDED only */
	const struct gg_score *score;		/* the checks' result; NULL when none ran */
	int checks_error;			/* the checks could not start */
	/* GG_EVAL_EXPLAIN only: the stored records, and the store's status. */
	const struct gg_explain *explain;
	enum gg_status explain_status;
};

struct gg_eval_ops {
	void (*done)(void *arg, const struct gg_eval_result *r);
	int (*wanted)(void *arg);		/* may be NULL: always wanted */
};

struct gg_eval_options {
	enum gg_engine_rspf received_spf;	/* when a verdict carries Received-SPF */
	int explain;				/* read-only: gg_engine_explain(), no writes */
};

struct gg_eval_stats {
	struct gg_engine_stats engine;
	struct gg_checks_stats checks;
	int checks_enabled;
	size_t running;				/* requests waiting for their checks */
};

/*
 * What only the checks can tell of a finished configuration (DNS list and
 * SPF weight syntax, with file:line): for -t, start-up and reload, so a
 * front end need not reach into checks/ itself.
 */
enum gg_status gg_eval_validate(const struct gg_config *cfg, char *err, size_t errsize);
/*
 * The pipeline on an event loop, for a configuration and a store (which
 * may be NULL in explain mode: no database to ask).  Starts the checks'
 * SPF threads: call it after going to the background.  Errors name the
 * setting: "greygate.conf:14: dnsbl_sites: ...".
 */
enum gg_status gg_eval_new(struct event_base *base, const struct gg_config *cfg,
			   struct gg_store *store, const struct gg_eval_options *opt,
			   struct gg_eval **out, char *err, size_t errsize);
/* A new configuration (SIGHUP): new checks, the same store; on error nothing changes. */
enum gg_status gg_eval_reload(struct gg_eval *ev, const struct gg_config *cfg, char *err,
			      size_t errsize);
/* Free it; jobs still under way are cancelled (no callbacks). */
void gg_eval_free(struct gg_eval *ev);

/*
 * Evaluate a request (copied); NULL for a place holder (see above).
 * GG_ENOMEM when not even the job could be made: nothing will call back.
 * *job (job may be NULL) is valid until the callback or gg_eval_cancel().
 */
enum gg_status gg_eval_start(struct gg_eval *ev, const struct gg_request *req,
			     const struct gg_eval_ops *ops, void *arg, struct gg_eval_job **job);
/* Is the job waiting for its DNS/SPF checks (not decided in this turn)? */
int gg_eval_job_checking(const struct gg_eval_job *job);
/* The caller lost interest in one job: its callback will not run. */
void gg_eval_cancel(struct gg_eval_job *job);
/* ... in every job it started with this arg (a connection that closed). */
void gg_eval_cancel_arg(struct gg_eval *ev, const void *arg);
/* Decide and call back what waits in the batch now (e.g. before stopping). */
void gg_eval_flush(struct gg_eval *ev);
/* fn(arg) runs after each batch's callbacks (a front end flushes its log there). */
void gg_eval_on_flush(struct gg_eval *ev, void (*fn)(void *arg), void *arg);

int gg_eval_checks_enabled(const struct gg_eval *ev);
void gg_eval_stats(const struct gg_eval *ev, struct gg_eval_stats *out);
/* The lists' RFC 5782 probes (see gg_checks_probe()). */
int gg_eval_probe(struct gg_eval *ev, void (*log)(void *arg, const char *line),
		  void (*done)(void *arg), void *arg);

#endif

/*
 * eval.c - the evaluation pipeline: prefilter, remembered outcome, checks,
 *          batch, one commit (see eval.h)
 *
 * A job is on one list at a time (one lib/list link): `running` while
 * its checks are under way, then the batch of the turn, a FIFO, then
 * `flushing` until its chunk is decided, then the free list.  The first job to join an empty
 * batch activates the flush event, which libevent runs after the other
 * events of this turn (the reads of every ready connection), so one
 * commit covers everything that became ready in the turn.  The flush
 * takes the batch as it is; jobs that become ready during its callbacks
 * start the next one.  Finished jobs go back to a small free list: under
 * load no job is allocated per request.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "checks/eval.h"
#include "lib/list.h"
#include "lib/util.h"

#define FREE_JOBS_MAX 256	/* finished jobs kept for reuse */

enum job_state { JOB_CHECKING, JOB_QUEUED };

struct gg_eval_job {
	struct gg_list link;		/* running, batch, flushing or free list */
	struct gg_eval *ev;
	const struct gg_eval_ops *ops;
	void *arg;
	enum job_state state;
	int refused;			/* a place holder, no request */
	int cancelled;			/* no callback */
	int prefiltered;		/* gg_engine_needs_checks() said 1 */
	int scored;			/* score holds the checks' result */
	int checks_error;
	struct gg_checks_job *cj;
	struct gg_request req;
	struct gg_score score;
	struct gg_verdict verdict;
};

struct gg_eval {
	struct event_base *base;
	struct gg_engine engine;
	struct gg_checks *checks;
	int explain;
	struct event *ev_flush;
	struct gg_list running;			/* checks under way */
	struct gg_list batch;			/* the batch of this turn */
	struct gg_list flushing;		/* being decided: not yet in a chunk */
	struct gg_eval_job **chunk;		/* being decided: the current chunk */
	size_t nchunk;
	struct gg_list free_jobs;
	size_t nfree, nrunning;
	void (*on_flush)(void *arg);
	void *on_flush_arg;
	struct gg_engine_item items[GG_EVAL_BATCH_MAX];
};

static void on_flush(evutil_socket_t fd, short what, void *arg);

/* job_new - a job from the free list, or a new one */
static struct gg_eval_job *job_new(struct gg_eval *ev)
{
	struct gg_list *l = gg_list_pop(&ev->free_jobs);
	struct gg_eval_job *j;

	if (l != NULL) {
		j = gg_list_entry(l, struct gg_eval_job, link);
		ev->nfree--;
	} else if ((j = malloc(sizeof(*j))) == NULL) {
		return NULL;
	}
	gg_list_init(&j->link);
	j->ev = ev;
	j->refused = j->cancelled = j->prefiltered = j->scored = j->checks_error = 0;
	j->cj = NULL;
	return j;
}

/* job_free - back to the free list, or gone */
static void job_free(struct gg_eval_job *j)
{
	struct gg_eval *ev = j->ev;

	if (ev->nfree >= FREE_JOBS_MAX) {
		free(j);
		return;
	}
	gg_list_push_front(&ev->free_jobs, &j->link);
	ev->nfree++;
}

/* running_link / running_unlink - the jobs whose checks are under way */
static void running_link(struct gg_eval *ev, struct gg_eval_job *j)
{
	j->state = JOB_CHECKING;
	gg_list_push_front(&ev->running, &j->link);
	ev->nrunning++;
}

static void running_unlink(struct gg_eval *ev, struct gg_eval_job *j)
{
	gg_list_remove(&j->link);
	ev->nrunning--;
}

/* enqueue - the job is ready to be decided: it joins the turn's batch */
static void enqueue(struct gg_eval *ev, struct gg_eval_job *j)
{
	int first = gg_list_empty(&ev->batch);

	j->state = JOB_QUEUED;
	gg_list_push_back(&ev->batch, &j->link);
	if (first)
		event_active(ev->ev_flush, EV_TIMEOUT, 0);
}

/* on_checked - a job's DNS/SPF checks are done (from the loop) */
static void on_checked(const struct gg_score *score, void *arg)
{
	struct gg_eval_job *j = arg;

	j->cj = NULL;
	j->score = *score;
	j->scored = 1;
	running_unlink(j->ev, j);
	enqueue(j->ev, j);
}

/* gg_eval_start - prefilter, remembered outcome or checks, then the batch */
enum gg_status gg_eval_start(struct gg_eval *ev, const struct gg_request *req,
			     const struct gg_eval_ops *ops, void *arg, struct gg_eval_job **jobp)
{
	struct gg_eval_job *j = job_new(ev);

	if (jobp)
		*jobp = j;
	if (j == NULL)
		return GG_ENOMEM;
	j->ops = ops;
	j->arg = arg;
	if (req == NULL) {
		j->refused = 1;
		enqueue(ev, j);
		return GG_OK;
	}
	j->req = *req;
	if (gg_checks_enabled(ev->checks) && gg_engine_needs_checks(&ev->engine, &j->req)) {
		j->prefiltered = 1;	/* the engine need not scan the whitelists again */
		if (gg_checks_cached(ev->checks, &j->req, &j->score)) {
			j->scored = 1;
		} else if (gg_checks_start(ev->checks, &j->req, on_checked, j, &j->cj) == GG_OK) {
			running_link(ev, j);
			return GG_OK;
		} else {
			j->checks_error = 1;	/* decided without them */
		}
	}
	enqueue(ev, j);
	return GG_OK;
}

int gg_eval_job_checking(const struct gg_eval_job *j)
{
	return j->state == JOB_CHECKING;
}

/* gg_eval_cancel - no callback for this job */
void gg_eval_cancel(struct gg_eval_job *j)
{
	if (j == NULL || j->cancelled)
		return;
	if (j->state == JOB_CHECKING) {
		gg_checks_cancel(j->cj);
		running_unlink(j->ev, j);
		job_free(j);
		return;
	}
	j->cancelled = 1;	/* in the batch: decided, but nobody is told */
}

/* mark_cancelled - the queued jobs of this asker on one list get no callback */
static void mark_cancelled(const struct gg_list *head, const void *arg)
{
	for (struct gg_list *l = gg_list_first(head); l != NULL; l = gg_list_next(head, l)) {
		struct gg_eval_job *j = gg_list_entry(l, struct gg_eval_job, link);
		if (j->arg == arg)
			j->cancelled = 1;
	}
}

/* gg_eval_cancel_arg - no callback for any job of this asker */
void gg_eval_cancel_arg(struct gg_eval *ev, const void *arg)
{
	struct gg_list *l, *next;

	for (l = gg_list_first(&ev->running); l != NULL; l = next) {
		struct gg_eval_job *j = gg_list_entry(l, struct gg_eval_job, link);
		next = gg_list_next(&ev->running, l);
		if (j->arg == arg)
			gg_eval_cancel(j);
	}
	mark_cancelled(&ev->batch, arg);
	mark_cancelled(&ev->flushing, arg);
	for (size_t i = 0; i < ev->nchunk; i++)
		if (ev->chunk[i]->arg == arg)
			ev->chunk[i]->cancelled = 1;
}

/* report - tell the asker how its job ended */
static void report(struct gg_eval_job *j, enum gg_eval_outcome o, const struct gg_explain *x,
		   enum gg_status xst)
{
	struct gg_eval_result r = {
		.outcome = o,
		.req = j->refused ? NULL : &j->req,
		.verdict = o == GG_EVAL_DECIDED ? &j->verdict : NULL,
		.score = j->scored ? &j->score : NULL,
		.checks_error = j->checks_error,
		.explain = x,
		.explain_status = xst,
	};

	if (!j->cancelled)
		j->ops->done(j->arg, &r);
}

/* explain_chunk - read-only mode: each request explained on its own */
static void explain_chunk(struct gg_eval *ev, struct gg_eval_job **chunk, size_t n)
{
	struct gg_explain x;
	enum gg_status st;

	for (size_t i = 0; i < n; i++) {
		struct gg_eval_job *j = chunk[i];

		if (j->refused) {
			report(j, GG_EVAL_REFUSED, NULL, GG_OK);
			continue;
		}
		st = gg_engine_explain(&ev->engine, &j->req, j->scored ? &j->score : NULL,
				       (uint64_t)time(NULL), &x);
		j->verdict = x.verdict;
		report(j, GG_EVAL_DECIDED, &x, st);
	}
}

/* decide_chunk - up to GG_EVAL_BATCH_MAX jobs, one commit, then their callbacks in order */
static void decide_chunk(struct gg_eval *ev, struct gg_eval_job **chunk, size_t n)
{
	size_t i, k = 0;
	char dropped[GG_EVAL_BATCH_MAX];

	for (i = 0; i < n; i++) {
		struct gg_eval_job *j = chunk[i];

		/* The asker gave up and answered the MTA: record nothing for it. */
		dropped[i] = !j->refused && !j->cancelled && j->ops->wanted != NULL &&
			     !j->ops->wanted(j->arg);
		if (j->refused || dropped[i])
			continue;
		ev->items[k].req = &j->req;
		ev->items[k].score = j->scored ? &j->score : NULL;
		ev->items[k].prefiltered = j->prefiltered;
		ev->items[k].verdict = &j->verdict;
		k++;
	}
	gg_engine_eval_batch(&ev->engine, ev->items, k, (uint64_t)time(NULL));
	for (i = 0; i < n; i++)
		report(chunk[i], chunk[i]->refused ? GG_EVAL_REFUSED :
		       dropped[i] ? GG_EVAL_DROPPED : GG_EVAL_DECIDED, NULL, GG_OK);
}

/* gg_eval_flush - decide the batch as it is now */
void gg_eval_flush(struct gg_eval *ev)
{
	struct gg_eval_job *chunk[GG_EVAL_BATCH_MAX];
	struct gg_list *l;

	if (gg_list_empty(&ev->batch))
		return;
	/* Jobs that become ready during the callbacks form the next batch. */
	gg_list_move(&ev->flushing, &ev->batch);
	event_del(ev->ev_flush);
	while (!gg_list_empty(&ev->flushing)) {
		size_t n = 0;

		while (n < GG_EVAL_BATCH_MAX && (l = gg_list_pop(&ev->flushing)) != NULL)
			chunk[n++] = gg_list_entry(l, struct gg_eval_job, link);
		ev->chunk = chunk;
		ev->nchunk = n;
		if (ev->explain)
			explain_chunk(ev, chunk, n);
		else
			decide_chunk(ev, chunk, n);
		ev->nchunk = 0;
		for (size_t i = 0; i < n; i++)
			job_free(chunk[i]);
	}
	if (ev->on_flush != NULL)
		ev->on_flush(ev->on_flush_arg);
}

/* on_flush - the end of a loop turn */
static void on_flush(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	gg_eval_flush(arg);
}

/* gg_eval_on_flush - a hook after each batch */
void gg_eval_on_flush(struct gg_eval *ev, void (*fn)(void *arg), void *arg)
{
	ev->on_flush = fn;
	ev->on_flush_arg = arg;
}

/* gg_eval_new - engine and checks on a loop */
enum gg_status gg_eval_new(struct event_base *base, const struct gg_config *cfg,
			   struct gg_store *store, const struct gg_eval_options *opt,
			   struct gg_eval **out, char *err, size_t errsize)
{
	struct gg_eval *ev = calloc(1, sizeof(*ev));
	enum gg_status st;

	*out = NULL;
	if (ev == NULL) {
		(void)gg_strcpy(err, errsize, "out of memory");
		return GG_ENOMEM;
	}
	ev->base = base;
	gg_list_init(&ev->running);
	gg_list_init(&ev->batch);
	gg_list_init(&ev->flushing);
	gg_list_init(&ev->free_jobs);
	ev->explain = opt != NULL && opt->explain;
	gg_engine_init(&ev->engine, cfg, store);
	if (opt != NULL)
		ev->engine.received_spf = opt->received_spf;
	if ((ev->ev_flush = event_new(base, -1, 0, on_flush, ev)) == NULL) {
		(void)gg_strcpy(err, errsize, "out of memory");
		free(ev);
		return GG_ENOMEM;
	}
	if ((st = gg_checks_new(base, cfg, &ev->checks, err, errsize)) != GG_OK) {
		event_free(ev->ev_flush);
		free(ev);
		return st;
	}
	*out = ev;
	return GG_OK;
}

/* gg_eval_reload - new checks for a new configuration */
enum gg_status gg_eval_reload(struct gg_eval *ev, const struct gg_config *cfg, char *err,
			      size_t errsize)
{
	struct gg_checks *nck;
	enum gg_status st;

	if ((st = gg_checks_new(ev->base, cfg, &nck, err, errsize)) != GG_OK)
		return st;
	/* Checks already running keep the old ones alive through their reference. */
	gg_checks_release(ev->checks);
	ev->checks = nck;
	ev->engine.cfg = cfg;
	return GG_OK;
}

/* gg_eval_free - cancel what is under way and free everything */
void gg_eval_free(struct gg_eval *ev)
{
	struct gg_list *l;

	if (ev == NULL)
		return;
	while ((l = gg_list_first(&ev->running)) != NULL)
		gg_eval_cancel(gg_list_entry(l, struct gg_eval_job, link));
	while ((l = gg_list_pop(&ev->batch)) != NULL)
		free(gg_list_entry(l, struct gg_eval_job, link));
	while ((l = gg_list_pop(&ev->free_jobs)) != NULL)
		free(gg_list_entry(l, struct gg_eval_job, link));
	gg_checks_release(ev->checks);
	event_free(ev->ev_flush);
	free(ev);
}

/* gg_eval_validate - the checks' own settings */
enum gg_status gg_eval_validate(const struct gg_config *cfg, char *err, size_t errsize)
{
	return gg_checks_validate(cfg, err, errsize);
}

int gg_eval_checks_enabled(const struct gg_eval *ev)
{
	return gg_checks_enabled(ev->checks);
}

/* gg_eval_stats - the engine's and the checks' counters */
void gg_eval_stats(const struct gg_eval *ev, struct gg_eval_stats *out)
{
	out->engine = ev->engine.stats;
	out->checks_enabled = gg_checks_enabled(ev->checks);
	gg_checks_stats(ev->checks, &out->checks);
	out->running = ev->nrunning;
}

int gg_eval_probe(struct gg_eval *ev, void (*log)(void *arg, const char *line),
		  void (*done)(void *arg), void *arg)
{
	return gg_checks_probe(ev->checks, log, done, arg);
}

/*
 * worker.c - the engine thread: the one owner of loop, checks, engine and store
 *
 * greygate-milter runs the same engine as greygate-policyd on one thread of
 * its own, with a libevent loop that carries the c-ares resolver and the
 * SPF workers' results (gg_checks), the host both daemons share
 * (daemon/host.h: SIGHUP reload, SIGUSR1 statistics, list probes, the
 * database timers) and the wake-up eventfd of the job queue.
 *
 * Per wake-up the thread takes every job that waits (queue.c) and starts
 * each in the evaluation pipeline (checks/eval.h) that greygate-policyd
 * uses too - prefilter, remembered outcome, DNS/SPF checks, and the batch
 * of the loop turn decided with one commit, so a wake-up that takes n
 * recipients with nothing to check costs one commit, not n (the SIGUSR1
 * line counts wakeups= and commits= beside decided=) - and each job goes back to its
 * asker with the verdict and, when SPF ran and spf_header is on, this
 * message's Received-SPF header.  A job whose asker gave up (its deadline
 * passed) is dropped before it reaches the database.
 *
 * Signals: main() blocks SIGHUP, SIGUSR1, SIGTERM and SIGINT before any
 * thread exists; this thread alone unblocks SIGHUP and SIGUSR1, so they
 * reach libevent's handlers here (reload, statistics) and never libmilter,
 * which would stop the milter on SIGHUP.  SIGTERM and SIGINT stay with
 * libmilter's signal thread, which makes smfi_main() return; main() then
 * calls mlt_worker_stop(), which answers every waiting job STOPPING,
 * cancels running checks and joins this thread.
 *
 * Reload (SIGHUP, daemon/host.c) builds a new configuration snapshot and
 * new checks here, on this thread, and swaps them in; libmilter threads
 * never read the configuration, so nothing else needs to know, except the
 * queue's deadline (reloaded()).  They do log, while the host may reopen
 * syslog and change log_verbose: gg_log_reopen() is safe for that, and
 * the syslog client's queue has its own mutex (daemon/syslog.h); lines this
 * thread batches go out at the end of each turn's batch (on_flushed) and
 * after the jobs a wake-up took were started (on_wake).  SPF
 * worker threads started by the reload get SIGHUP and SIGUSR1 blocked
 * (threads_begin/threads_end), as at start-up.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "daemon/host.h"
#include "milter/milter.h"
#include "lib/list.h"
#include "lib/util.h"

struct mlt_worker {
	struct milter *m;
	pthread_t thread;
	int running_thread;		/* pthread_create succeeded */
	struct event_base *base;
	struct gg_eval *eval;		/* the pipeline: engine, checks, batch */
	struct gg_host *host;		/* SIGHUP, SIGUSR1, list probes, database timers */
	sigset_t saved_mask;		/* during a reload: the mask to restore */
	struct event *ev_wake;
	struct gg_list running;		/* jobs in the pipeline (mlt_job.run) */
	unsigned long decided, dropped;	/* jobs answered; jobs dropped after their deadline */
	unsigned long wakeups;		/* on_wake turns that took at least one job */
};

/* wait_ms - how long a callback waits for a verdict under a configuration */
static long wait_ms(const struct gg_config *cfg)
{
	return cfg->dns_timeout * 1000 + MLT_WAIT_SLACK_MS;
}

/* link_running / unlink_running - the jobs handed to the pipeline and not yet back */
static void link_running(struct mlt_worker *w, struct mlt_job *j)
{
	gg_list_push_front(&w->running, &j->run);
}

static void unlink_running(struct mlt_job *j)
{
	gg_list_remove(&j->run);
}

/* wanted - the pipeline is about to decide: is the asker still waiting? */
static int wanted(void *arg)
{
	struct mlt_job *j = arg;
	struct mlt_worker *w = j->owner;

	return !mlt_queue_abandoned(&w->m->queue, j);
}

/* on_decided - the verdict (or the drop) goes back to the asker */
static void on_decided(void *arg, const struct gg_eval_result *r)
{
	struct mlt_job *j = arg;
	struct mlt_worker *w = j->owner;

	unlink_running(j);
	j->eval = NULL;
	if (r->outcome != GG_EVAL_DECIDED) {
		/* The MTA was told CONTINUE already: no triplet was recorded for it. */
		w->dropped++;
		mlt_queue_finish(&w->m->queue, j, MLT_TIMEOUT);
		return;
	}
	if (r->checks_error)
		gg_log_warn(&w->m->log, "cannot start the DNS/SPF checks (out of memory); "
			    "decided without them");
	j->ans.verdict = *r->verdict;
	w->decided++;
	mlt_queue_finish(&w->m->queue, j, MLT_DECIDED);
}

static const struct gg_eval_ops milter_ops = { .done = on_decided, .wanted = wanted };

/* start_job - into the pipeline, unless its asker gave up already */
static void start_job(struct mlt_worker *w, struct mlt_job *j)
{
	j->owner = w;
	if (mlt_queue_abandoned(&w->m->queue, j)) {
		w->dropped++;
		mlt_queue_finish(&w->m->queue, j, MLT_TIMEOUT);
		return;
	}
	if (gg_eval_start(w->eval, &j->req, &milter_ops, j, &j->eval) != GG_OK) {
		gg_log_warn(&w->m->log, "out of memory starting an evaluation; answering CONTINUE");
		mlt_queue_finish(&w->m->queue, j, MLT_NOMEM);
		return;
	}
	link_running(w, j);
}

/* stop_jobs - shutting down: answer every job taken and every job being checked STOPPING */
static void stop_jobs(struct mlt_worker *w, struct gg_list *taken)
{
	struct mlt_job *j;
	struct gg_list *l;

	while ((l = gg_list_pop(taken)) != NULL)
		mlt_queue_finish(&w->m->queue, gg_list_entry(l, struct mlt_job, link), MLT_STOPPING);
	while ((l = gg_list_first(&w->running)) != NULL) {
		j = gg_list_entry(l, struct mlt_job, run);
		unlink_running(j);
		gg_eval_cancel(j->eval);
		j->eval = NULL;
		mlt_queue_finish(&w->m->queue, j, MLT_STOPPING);
	}
}

/* on_wake - jobs wait on the queue (or the daemon is stopping) */
static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct mlt_worker *w = arg;
	struct gg_list taken, *l;
	int stopping;

	(void)fd;
	(void)what;
	gg_list_init(&taken);
	if (mlt_queue_take(&w->m->queue, &taken, &stopping) > 0)
		w->wakeups++;
	if (stopping) {
		stop_jobs(w, &taken);
		event_base_loopexit(w->base, NULL);
		return;
	}
	while ((l = gg_list_pop(&taken)) != NULL)
		start_job(w, gg_list_entry(l, struct mlt_job, link));
	gg_log_flush(&w->m->log);
}

/* on_flushed - after each batch's verdicts: the lines the engine thread batched, one send */
static void on_flushed(void *arg)
{
	struct mlt_worker *w = arg;

	gg_log_flush(&w->m->log);
}

/* block_signals - SPF worker threads inherit the mask: keep SIGHUP and SIGUSR1 for this one */
static void block_signals(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, old);
}

/* threads_begin / threads_end - around a reload, which may start SPF workers */
static void threads_begin(void *arg)
{
	struct mlt_worker *w = arg;

	block_signals(&w->saved_mask);
}

static void threads_end(void *arg)
{
	struct mlt_worker *w = arg;

	pthread_sigmask(SIG_SETMASK, &w->saved_mask, NULL);
}

/* reloaded - the one thing outside this thread that reads the configuration: the deadline */
static void reloaded(void *arg, const struct gg_config *cfg, const struct gg_config *old)
{
	struct mlt_worker *w = arg;

	(void)old;
	mlt_queue_set_wait(&w->m->queue, wait_ms(cfg));
}

/* stats - the SIGUSR1 line: the queue's and this thread's counters, then the engine's */
static void stats(void *arg, const struct gg_engine_stats *s)
{
	struct mlt_worker *w = arg;
	struct mlt_queue *q = &w->m->queue;
	unsigned long asked, timeouts, full, late;

	pthread_mutex_lock(&q->lock);
	asked = q->asked;
	timeouts = q->timeouts;
	full = q->full;
	late = q->late;
	pthread_mutex_unlock(&q->lock);
	gg_log_info(&w->m->log, "statistics: recipients=%lu decided=%lu timeouts=%lu late=%lu "
		    "dropped=%lu queue_full=%lu wakeups=%lu commits=%lu requests=%lu accepted=%lu "
		    "greylisted=%lu tagged=%lu rejected=%lu whitelisted=%lu db_errors=%lu "
		    "corrupt_records=%lu", asked, w->decided, timeouts, late, w->dropped, full,
		    w->wakeups, s->commits, s->requests, s->accepted, s->greylisted, s->tagged,
		    s->rejected, s->whitelisted, s->db_errors, s->corrupt_records);
}

static const struct gg_host_ops milter_host_ops = {
	.stats = stats, .threads_begin = threads_begin, .threads_end = threads_end,
	.reloaded = reloaded,
};

/* run - the engine thread's body */
static void *run(void *arg)
{
	struct mlt_worker *w = arg;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	event_base_dispatch(w->base);
	return NULL;
}

/* free_worker - everything but the thread (joined or never started) */
static void free_worker(struct mlt_worker *w)
{
	if (w->ev_wake)
		event_free(w->ev_wake);
	gg_host_free(w->host);
	gg_eval_free(w->eval);
	if (w->base)
		event_base_free(w->base);
	free(w);
}

/* mlt_worker_start - build the engine thread's loop and start it */
int mlt_worker_start(struct milter *m, char *err, size_t errsize)
{
	struct mlt_worker *w = calloc(1, sizeof(*w));
	int rc;

	if (w == NULL) {
		snprintf(err, errsize, "out of memory");
		return -1;
	}
	w->m = m;
	gg_list_init(&w->running);
	mlt_queue_set_wait(&m->queue, wait_ms(m->cfg));
	if ((w->base = event_base_new()) == NULL) {
		snprintf(err, errsize, "cannot create the event loop");
		goto fail;
	}
	{
		struct gg_eval_options opt = { .received_spf = GG_RSPF_SETTING, .explain = 0 };
		sigset_t mask;
		enum gg_status st;

		block_signals(&mask);
		st = gg_eval_new(w->base, m->cfg, m->store, &opt, &w->eval, err, errsize);
		pthread_sigmask(SIG_SETMASK, &mask, NULL);
		if (st != GG_OK)
			goto fail;
		gg_eval_on_flush(w->eval, on_flushed, w);
	}
	w->ev_wake = event_new(w->base, m->queue.wake_fd, EV_READ | EV_PERSIST, on_wake, w);
	if (!w->ev_wake || event_add(w->ev_wake, NULL) != 0) {
		snprintf(err, errsize, "out of memory setting up the engine thread's events");
		goto fail;
	}
	{
		/* SIGTERM and SIGINT stay with libmilter: no GG_HOST_TERM. */
		struct gg_host_params hp = {
			.prog = MLT_PROG, .socket_setting = "milter_socket", .flags = 0,
			.base = w->base, .log = &m->log, .args = &m->args, .validate = mlt_validate,
			.cfg = &m->cfg, .store = m->store, .eval = w->eval, .ops = &milter_host_ops,
			.arg = w,
		};
		if (gg_host_start(&hp, &w->host, err, errsize) != GG_OK)
			goto fail;
	}
	if ((rc = pthread_create(&w->thread, NULL, run, w)) != 0) {
		snprintf(err, errsize, "cannot start the engine thread: %s", strerror(rc));
		goto fail;
	}
	w->running_thread = 1;
	m->worker = w;
	return 0;
fail:
	free_worker(w);
	return -1;
}

/* mlt_worker_stop - answer what waits, end the thread, free its loop */
void mlt_worker_stop(struct milter *m)
{
	struct mlt_worker *w = m->worker;

	if (w == NULL)
		return;
	mlt_queue_stop(&m->queue);
	if (w->running_thread)
		pthread_join(w->thread, NULL);
	/* The thread has ended: whatever is left (its loop failed?) is answered from here. */
	{
		struct gg_list taken;
		int stopping;

		gg_list_init(&taken);
		mlt_queue_take(&m->queue, &taken, &stopping);
		stop_jobs(w, &taken);
	}
	m->worker = NULL;
	free_worker(w);
	mlt_queue_fini(&m->queue);
}

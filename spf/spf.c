/*
 * spf.c - the SPF worker pool (see spf.h)
 *
 * The loop thread queues jobs (spf_job.c) under the pool's lock; workers
 * take them in order, evaluate them (spf_eval.c) and put them on the done
 * list.  A worker that makes the done list non-empty writes one byte to
 * the wake pipe; the loop's read event drains the pipe, takes the whole
 * list under the lock and runs the callbacks outside it.  Jobs answered
 * without a worker (queue full, nothing to check) go through the same
 * done list and pipe, so no callback ever runs inside gg_spf_check().
 *
 * Shutdown: gg_spf_free() sets stopping, wakes the idle workers through
 * the condition variable and the busy ones through the stop pipe (every
 * DNS wait polls it; it stays readable), joins them, and answers whatever
 * is left on the loop thread.
 *
 * Worker threads are started with every signal blocked, so signals go to
 * the loop thread and never interrupt a worker's poll().
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <event2/event.h>

#include "spf/spf_dns.h"
#include "spf/spf_eval.h"
#include "spf/spf_job.h"
#include "spf/spf.h"

struct gg_spf_worker {
	struct gg_spf *spf;
	pthread_t tid;
	int index;
	int started;
	struct gg_spf_eval *ev;
};

struct gg_spf {
	struct event_base *base;
	struct event *wake_ev;
	int wake_fd[2];			/* workers -> loop: the done list has jobs */
	int stop_fd[2];			/* gg_spf_free() -> DNS waits: give up */
	long timeout_ms;
	char *receiver;

	pthread_mutex_t lock;		/* guards everything below */
	pthread_cond_t cond;		/* the queue has a job, or stopping */
	struct gg_list queue;		/* waiting for a worker, in order */
	struct gg_list done;		/* answered, waiting for the loop */
	unsigned q_len, q_max, running;
	int stopping;
	struct gg_spf_stats stats;

	int nworkers;
	struct gg_spf_worker *workers;
};

/* push_done - put an answered job on the done list (lock held) */
static void push_done(struct gg_spf *spf, struct gg_spf_job *job)
{
	int was_empty = gg_list_empty(&spf->done);
	ssize_t n;

	gg_list_push_back(&spf->done, &job->link);
	/*
	 * One byte per empty -> non-empty change is enough: the loop drains
	 * the pipe before it takes the list.  A full pipe already means a
	 * wake-up is pending.
	 */
	if (was_empty)
		do
			n = write(spf->wake_fd[1], "d", 1);
		while (n < 0 && errno == EINTR);
}

/* deliver_list - run the callbacks of a list of answered jobs and free them */
static void deliver_list(struct gg_spf *spf, struct gg_list *list)
{
	struct timespec now;
	struct gg_list *l;

	gg_spf_clock(&now);
	while ((l = gg_list_pop(list)) != NULL) {
		struct gg_spf_job *job = gg_list_entry(l, struct gg_spf_job, link);

		pthread_mutex_lock(&spf->lock);
		spf->stats.answered++;
		if (job->status == GG_ETIMEOUT)
			spf->stats.deadline++;
		pthread_mutex_unlock(&spf->lock);
		gg_spf_job_deliver(job, &now);
		gg_spf_job_free(job);
	}
}

/* wake_cb - the loop side: answers are waiting */
static void wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gg_spf *spf = arg;
	struct gg_list list;
	char buf[64];

	(void)what;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	gg_list_init(&list);
	pthread_mutex_lock(&spf->lock);
	gg_list_move(&list, &spf->done);
	pthread_mutex_unlock(&spf->lock);
	deliver_list(spf, &list);
}

/* worker_main - take jobs in order until stopping */
static void *worker_main(void *arg)
{
	struct gg_spf_worker *w = arg;
	struct gg_spf *spf = w->spf;
	struct gg_spf_job *job;
	struct timespec now;

	pthread_mutex_lock(&spf->lock);
	for (;;) {
		while (!spf->stopping && gg_list_empty(&spf->queue))
			pthread_cond_wait(&spf->cond, &spf->lock);
		if (spf->stopping)
			break;
		job = gg_list_entry(gg_list_pop(&spf->queue), struct gg_spf_job, link);
		spf->q_len--;
		spf->running++;
		pthread_mutex_unlock(&spf->lock);

		job->worker = w->index;
		gg_spf_clock(&now);
		if (gg_spf_clock_diff_ms(&now, &job->deadline) <= 0)
			gg_spf_job_fail(job, GG_ETIMEOUT,
					"SPF check of %s not started within %ld ms (queue too long)",
					job->domain, spf->timeout_ms);
		else
			gg_spf_eval_run(w->ev, job);

		pthread_mutex_lock(&spf->lock);
		spf->running--;
		push_done(spf, job);
	}
	pthread_mutex_unlock(&spf->lock);
	return NULL;
}

/* close_pair - close both ends of a pipe that may not be open */
static void close_pair(int fd[2])
{
	if (fd[0] >= 0)
		close(fd[0]);
	if (fd[1] >= 0)
		close(fd[1]);
	fd[0] = fd[1] = -1;
}

/* open_pipe - a non-blocking, close-on-exec pipe */
static int open_pipe(int fd[2])
{
	int i;

	if (pipe(fd) != 0)
		return -1;
	for (i = 0; i < 2; i++)
		if (fcntl(fd[i], F_SETFL, fcntl(fd[i], F_GETFL) | O_NONBLOCK) != 0 ||
		    fcntl(fd[i], F_SETFD, FD_CLOEXEC) != 0)
			return -1;
	return 0;
}

/* stop_workers - make every worker return and join it */
static void stop_workers(struct gg_spf *spf)
{
	ssize_t n;
	int i;

	pthread_mutex_lock(&spf->lock);
	spf->stopping = 1;
	pthread_cond_broadcast(&spf->cond);
	pthread_mutex_unlock(&spf->lock);
	/* Never read: it stays readable for every worker's poll(). */
	do
		n = write(spf->stop_fd[1], "s", 1);
	while (n < 0 && errno == EINTR);
	for (i = 0; i < spf->nworkers; i++) {
		if (spf->workers[i].started)
			pthread_join(spf->workers[i].tid, NULL);
		spf->workers[i].started = 0;
	}
}

/* destroy - free everything; no worker may be running */
static void destroy(struct gg_spf *spf)
{
	int i;

	if (spf->workers != NULL)
		for (i = 0; i < spf->nworkers; i++)
			gg_spf_eval_free(spf->workers[i].ev);
	if (spf->wake_ev != NULL)
		event_free(spf->wake_ev);
	close_pair(spf->wake_fd);
	close_pair(spf->stop_fd);
	pthread_cond_destroy(&spf->cond);
	pthread_mutex_destroy(&spf->lock);
	free(spf->workers);
	free(spf->receiver);
	free(spf);
}

/* check_args - gg_spf_new's arguments in range */
static enum gg_status check_args(struct event_base *base, struct gg_spf **out, int nthreads,
				 long timeout_ms, char *err, size_t errsize)
{
	if (base == NULL || out == NULL) {
		snprintf(err, errsize, "SPF: no event base");
		return GG_EINVAL;
	}
	if (nthreads < 1 || nthreads > GG_SPF_MAX_THREADS) {
		snprintf(err, errsize, "SPF: %d worker threads: need 1 to %d", nthreads,
			 GG_SPF_MAX_THREADS);
		return GG_EINVAL;
	}
	if (timeout_ms < 1 || timeout_ms > GG_SPF_MAX_TIMEOUT_MS) {
		snprintf(err, errsize, "SPF: timeout of %ld ms: need 1 to %ld", timeout_ms,
			 GG_SPF_MAX_TIMEOUT_MS);
		return GG_EINVAL;
	}
	return GG_OK;
}

/* start_workers - the threads, with every signal blocked so they never take one */
static enum gg_status start_workers(struct gg_spf *spf, char *err, size_t errsize)
{
	sigset_t all, old;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (int i = 0; i < spf->nworkers; i++) {
		int rc = pthread_create(&spf->workers[i].tid, NULL, worker_main, &spf->workers[i]);
		if (rc != 0) {
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			snprintf(err, errsize, "SPF: cannot start worker thread %d: %s", i,
				 strerror(rc));
			stop_workers(spf);
			return rc == EAGAIN ? GG_ENOMEM : GG_EIO;
		}
		spf->workers[i].started = 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return GG_OK;
}

/* gg_spf_new - start the workers */
enum gg_status gg_spf_new(struct event_base *base, int nthreads, const char *dns_servers,
			  long timeout_ms, const char *receiver_hostname, struct gg_spf **out,
			  char *err, size_t errsize)
{
	struct gg_spf *spf;
	enum gg_status st;
	int i;

	if (out != NULL)
		*out = NULL;
	if ((st = check_args(base, out, nthreads, timeout_ms, err, errsize)) != GG_OK)
		return st;
	if ((spf = calloc(1, sizeof(*spf))) == NULL) {
		snprintf(err, errsize, "SPF: out of memory");
		return GG_ENOMEM;
	}
	spf->wake_fd[0] = spf->wake_fd[1] = spf->stop_fd[0] = spf->stop_fd[1] = -1;
	gg_list_init(&spf->queue);
	gg_list_init(&spf->done);
	pthread_mutex_init(&spf->lock, NULL);
	pthread_cond_init(&spf->cond, NULL);
	spf->base = base;
	spf->timeout_ms = timeout_ms;
	spf->q_max = GG_SPF_QUEUE_DEFAULT;
	spf->nworkers = nthreads;

	if (open_pipe(spf->wake_fd) != 0 || open_pipe(spf->stop_fd) != 0) {
		snprintf(err, errsize, "SPF: pipe: %s", strerror(errno));
		st = GG_EIO;
		goto fail;
	}
	if ((receiver_hostname != NULL && receiver_hostname[0] != '\0' &&
	     (spf->receiver = strdup(receiver_hostname)) == NULL) ||
	    (spf->workers = calloc((size_t)nthreads, sizeof(*spf->workers))) == NULL) {
		snprintf(err, errsize, "SPF: out of memory");
		st = GG_ENOMEM;
		goto fail;
	}
	/* libspf2 would print warnings to stderr; this library does not log. */
	SPF_warning_handler = NULL;
	SPF_info_handler = NULL;
	SPF_debug_handler = NULL;
	for (i = 0; i < nthreads; i++) {
		spf->workers[i].spf = spf;
		spf->workers[i].index = i;
		st = gg_spf_eval_new(dns_servers, timeout_ms, spf->receiver, spf->stop_fd[0],
				     &spf->workers[i].ev, err, errsize);
		if (st != GG_OK)
			goto fail;
	}
	if (spf->receiver == NULL &&
	    (spf->receiver = strdup(gg_spf_eval_receiver(spf->workers[0].ev))) == NULL) {
		snprintf(err, errsize, "SPF: out of memory");
		st = GG_ENOMEM;
		goto fail;
	}
	spf->wake_ev = event_new(base, spf->wake_fd[0], EV_READ | EV_PERSIST, wake_cb, spf);
	if (spf->wake_ev == NULL || event_add(spf->wake_ev, NULL) != 0) {
		snprintf(err, errsize, "SPF: cannot watch the wake-up pipe");
		st = GG_EIO;
		goto fail;
	}

	if ((st = start_workers(spf, err, errsize)) != GG_OK)
		goto fail;
	*out = spf;
	return GG_OK;

fail:
	destroy(spf);
	return st;
}

/* gg_spf_set_queue_max - bound the number of waiting checks */
enum gg_status gg_spf_set_queue_max(struct gg_spf *spf, unsigned max)
{
	if (spf == NULL || max < 1 || max > 1000000)
		return GG_EINVAL;
	pthread_mutex_lock(&spf->lock);
	spf->q_max = max;
	pthread_mutex_unlock(&spf->lock);
	return GG_OK;
}

/* gg_spf_check - queue one check; the callback runs later from the loop */
enum gg_status gg_spf_check(struct gg_spf *spf, const struct gg_addr *client, const char *helo,
			    const char *sender, gg_spf_cb cb, void *arg)
{
	struct gg_spf_job *job;
	int stopping;

	if (spf == NULL || client == NULL || cb == NULL ||
	    (client->family != AF_INET && client->family != AF_INET6))
		return GG_EINVAL;
	pthread_mutex_lock(&spf->lock);
	stopping = spf->stopping;
	pthread_mutex_unlock(&spf->lock);
	if (stopping)
		return GG_EINVAL;	/* called from a callback run by gg_spf_free() */
	job = gg_spf_job_new(client, helo, sender, spf->receiver, spf->timeout_ms, cb, arg);
	if (job == NULL)
		return GG_ENOMEM;

	pthread_mutex_lock(&spf->lock);
	spf->stats.checks++;
	if (job->answered) {
		push_done(spf, job);
	} else if (spf->q_len >= spf->q_max) {
		spf->stats.queue_full++;
		pthread_mutex_unlock(&spf->lock);
		gg_spf_job_fail(job, GG_ETOOBIG, "SPF queue full (%u checks waiting): %s not checked",
				spf->q_max, job->domain);
		pthread_mutex_lock(&spf->lock);
		push_done(spf, job);
	} else {
		gg_list_push_back(&spf->queue, &job->link);
		spf->q_len++;
		pthread_cond_signal(&spf->cond);
	}
	pthread_mutex_unlock(&spf->lock);
	return GG_OK;
}

/* gg_spf_stats - a consistent copy of the counters */
void gg_spf_stats(struct gg_spf *spf, struct gg_spf_stats *out)
{
	pthread_mutex_lock(&spf->lock);
	*out = spf->stats;
	out->queued = spf->q_len;
	out->running = spf->running;
	out->queue_max = spf->q_max;
	pthread_mutex_unlock(&spf->lock);
}

/* gg_spf_free - stop, join, answer what is left, free */
void gg_spf_free(struct gg_spf *spf)
{
	struct gg_list *l;

	if (spf == NULL)
		return;
	stop_workers(spf);

	/* No other thread is left: the lists are ours. */
	spf->q_len = 0;
	for (l = gg_list_first(&spf->queue); l != NULL; l = gg_list_next(&spf->queue, l)) {
		struct gg_spf_job *job = gg_list_entry(l, struct gg_spf_job, link);
		job->shutdown = 1;
		gg_spf_job_fail(job, GG_EIO, "SPF check of %s not started: shutting down",
				job->domain);
	}
	deliver_list(spf, &spf->done);
	deliver_list(spf, &spf->queue);
	destroy(spf);
}

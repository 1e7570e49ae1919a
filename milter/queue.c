/*
 * queue.c - the hand-off between libmilter's threads and the engine thread
 *
 * mlt_queue_ask() runs on a libmilter thread: it copies one request into a
 * new job, appends it to a mutex-protected list, wakes the engine thread
 * through an eventfd if the list was empty (a non-empty list has a wake-up
 * pending already) and waits on the job's own condition variable until
 * the engine thread has answered, at most wait_ms (dns_timeout plus two
 * seconds) by the monotonic clock.  The engine thread takes every waiting
 * job at once (mlt_queue_take(): it drains the eventfd first, then empties
 * the list, so a job appended in between is taken now and one appended
 * after finds the list empty and wakes it again), decides them as one
 * batch with one commit (checks/eval.h) and hands each back with
 * mlt_queue_finish().
 *
 * Ownership: the asker allocates a job and frees it once it is answered.
 * An asker that gives up (deadline) marks the job abandoned: a job still
 * on the list is unlinked and freed at once, a job the engine thread has
 * taken is freed by the engine thread when it is done with it.  Either
 * way nothing is freed while the other side can still reach it.
 *
 * Limits and failure: at most MLT_QUEUE_MAX jobs wait; beyond that, without
 * memory, after the deadline or while stopping, the asker gets an outcome
 * that says why and answers CONTINUE (fail open).  The eventfd is written
 * only under the lock and never after mlt_queue_stop(), so it can be closed
 * safely once the engine thread has ended.  The mutex is never destroyed:
 * a libmilter thread may still come asking while the process exits.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "lib/clock.h"
#include "milter/milter.h"

/* mlt_queue_init - empty queue, its eventfd, the first deadline */
int mlt_queue_init(struct mlt_queue *q, long wait_ms, char *err, size_t errsize)
{
	memset(q, 0, sizeof(*q));
	gg_list_init(&q->waiting);
	q->wake_fd = -1;
	if (pthread_mutex_init(&q->lock, NULL) != 0) {
		snprintf(err, errsize, "cannot create the job queue's mutex");
		return -1;
	}
	if ((q->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		snprintf(err, errsize, "eventfd: %s", strerror(errno));
		return -1;
	}
	q->wait_ms = wait_ms;
	q->max = MLT_QUEUE_MAX;
	return 0;
}

/* mlt_queue_fini - the engine thread has ended: nobody reads the eventfd now */
void mlt_queue_fini(struct mlt_queue *q)
{
	pthread_mutex_lock(&q->lock);
	if (q->wake_fd >= 0)
		close(q->wake_fd);
	q->wake_fd = -1;
	pthread_mutex_unlock(&q->lock);
}

const char *mlt_outcome_str(enum mlt_outcome o)
{
	switch (o) {
	case MLT_DECIDED:	return "decided";
	case MLT_TIMEOUT:	return "engine-timeout";
	case MLT_FULL:		return "queue-full";
	case MLT_STOPPING:	return "stopping";
	case MLT_NOMEM:		return "out-of-memory";
	}
	return "unknown";
}

/* wake - tell the engine thread that jobs wait (called with the lock held) */
static void wake(struct mlt_queue *q)
{
	uint64_t one = 1;

	/* Only EAGAIN can fail here (counter full): then it is readable anyway. */
	if (q->wake_fd >= 0 && write(q->wake_fd, &one, sizeof(one)) < 0) {
		/* nothing to do */
	}
}

/* job_free - release a job nobody else can reach */
static void job_free(struct mlt_job *j)
{
	pthread_cond_destroy(&j->cond);
	free(j);
}

/* job_new - a job for one request, its condition variable on the monotonic clock */
static struct mlt_job *job_new(const struct gg_request *req)
{
	struct mlt_job *j = malloc(sizeof(*j));
	pthread_condattr_t ca;
	int ok;

	if (j == NULL)
		return NULL;
	memset(j, 0, offsetof(struct mlt_job, req));
	gg_list_init(&j->link);
	j->req = *req;
	j->ans.verdict.reason = "";
	j->ans.verdict.received_spf[0] = '\0';
	j->eval = NULL;
	j->owner = NULL;
	j->queued = j->done = j->abandoned = 0;
	j->outcome = MLT_TIMEOUT;
	if (pthread_condattr_init(&ca) != 0) {
		free(j);
		return NULL;
	}
	ok = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
	     pthread_cond_init(&j->cond, &ca) == 0;
	pthread_condattr_destroy(&ca);
	if (!ok) {
		free(j);
		return NULL;
	}
	return j;
}

/* unlink_queued - take a job off the list (lock held) */
static void unlink_queued(struct mlt_queue *q, struct mlt_job *j)
{
	gg_list_remove(&j->link);
	j->queued = 0;
	q->len--;
}

/* mlt_queue_ask - one question to the engine thread, with a deadline */
enum mlt_outcome mlt_queue_ask(struct mlt_queue *q, const struct gg_request *req,
			       struct mlt_answer *ans)
{
	struct mlt_job *j;
	struct timespec deadline;
	enum mlt_outcome o;
	int rc = 0;

	if ((j = job_new(req)) == NULL)
		return MLT_NOMEM;
	pthread_mutex_lock(&q->lock);
	q->asked++;
	if (q->stopping) {
		pthread_mutex_unlock(&q->lock);
		job_free(j);
		return MLT_STOPPING;
	}
	if (q->len >= q->max) {
		q->full++;
		pthread_mutex_unlock(&q->lock);
		job_free(j);
		return MLT_FULL;
	}
	gg_clock_deadline(&deadline, q->wait_ms);
	gg_list_push_back(&q->waiting, &j->link);
	j->queued = 1;
	if (q->len++ == 0)
		wake(q);	/* else the engine thread has a wake-up pending and takes this one too */
	while (!j->done && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&j->cond, &q->lock, &deadline);
	if (!j->done) {
		q->timeouts++;
		j->abandoned = 1;
		if (j->queued) {
			/* The engine thread never saw it: ours to free. */
			unlink_queued(q, j);
			pthread_mutex_unlock(&q->lock);
			job_free(j);
		} else {
			pthread_mutex_unlock(&q->lock);
		}
		return MLT_TIMEOUT;
	}
	pthread_mutex_unlock(&q->lock);
	o = j->outcome;
	if (o == MLT_DECIDED)
		*ans = j->ans;
	job_free(j);
	return o;
}

/* mlt_queue_take - every waiting job, oldest first; returns how many */
size_t mlt_queue_take(struct mlt_queue *q, struct gg_list *taken, int *stopping)
{
	struct gg_list *l;
	uint64_t n;
	size_t len;

	/* Drained before the list is emptied: see the header comment. */
	if (q->wake_fd >= 0 && read(q->wake_fd, &n, sizeof(n)) < 0) {
		/* EAGAIN: already drained; the list below is what counts. */
	}
	pthread_mutex_lock(&q->lock);
	for (l = gg_list_first(&q->waiting); l != NULL; l = gg_list_next(&q->waiting, l))
		gg_list_entry(l, struct mlt_job, link)->queued = 0;
	gg_list_move(taken, &q->waiting);
	len = q->len;
	q->len = 0;
	*stopping = q->stopping;
	pthread_mutex_unlock(&q->lock);
	return len;
}

/* mlt_queue_abandoned - did the asker give up? */
int mlt_queue_abandoned(struct mlt_queue *q, struct mlt_job *j)
{
	int a;

	pthread_mutex_lock(&q->lock);
	a = j->abandoned;
	pthread_mutex_unlock(&q->lock);
	return a;
}

/* mlt_queue_finish - answer the asker, or free the job if it gave up */
void mlt_queue_finish(struct mlt_queue *q, struct mlt_job *j, enum mlt_outcome o)
{
	pthread_mutex_lock(&q->lock);
	if (j->abandoned) {
		if (o == MLT_DECIDED)
			q->late++;
		pthread_mutex_unlock(&q->lock);
		job_free(j);
		return;
	}
	j->outcome = o;
	j->done = 1;
	pthread_cond_signal(&j->cond);
	pthread_mutex_unlock(&q->lock);
}

/* mlt_queue_set_wait - the deadline for questions asked from now on */
void mlt_queue_set_wait(struct mlt_queue *q, long wait_ms)
{
	pthread_mutex_lock(&q->lock);
	q->wait_ms = wait_ms;
	pthread_mutex_unlock(&q->lock);
}

/* mlt_queue_stop - no new questions; the engine thread answers what waits */
void mlt_queue_stop(struct mlt_queue *q)
{
	pthread_mutex_lock(&q->lock);
	if (!q->stopping) {
		/* The last write: from now on askers return before they would write. */
		q->stopping = 1;
		wake(q);
	}
	pthread_mutex_unlock(&q->lock);
}

/*
 * t_queue.c - the milter's job queue (milter/queue.c) between real threads
 *
 * A stand-in engine thread (a plain pthread that reads the eventfd, takes
 * jobs and answers them) exercises every way a question can end: answered,
 * deadline while still queued, deadline after the engine took the job
 * (the engine frees it later), queue full, and stopping.  Run under ASan
 * (configure --enable-sanitizers) a job freed twice or never shows up.
 * Prints one "ok"/"not ok" line per check and "# N passed, N failed".
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "milter/milter.h"
#include "lib/util.h"

static int npass, nfail;

static void check(int cond, const char *what)
{
	printf("%s %s\n", cond ? "ok" : "not ok", what);
	if (cond)
		npass++;
	else
		nfail++;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static void request(struct gg_request *r, const char *rcpt)
{
	gg_request_init(r);
	(void)gg_request_set(r, GG_RF_CLIENT_ADDRESS, "192.0.2.1", 9);
	(void)gg_request_set(r, GG_RF_RECIPIENT, rcpt, strlen(rcpt));
}

/* The stand-in engine: answer every job after hold_ms, until told to stop. */
struct engine {
	struct mlt_queue *q;
	long hold_ms;
	int stop;
	int answered;
	pthread_t t;
};

static void *engine_run(void *arg)
{
	struct engine *e = arg;

	while (!__atomic_load_n(&e->stop, __ATOMIC_ACQUIRE)) {
		struct pollfd p = { .fd = e->q->wake_fd, .events = POLLIN };
		struct gg_list taken, *l;
		int stopping;

		if (poll(&p, 1, 20) <= 0)
			continue;
		gg_list_init(&taken);
		mlt_queue_take(e->q, &taken, &stopping);
		if (e->hold_ms > 0)
			usleep((useconds_t)e->hold_ms * 1000);
		while ((l = gg_list_pop(&taken)) != NULL) {
			struct mlt_job *j = gg_list_entry(l, struct mlt_job, link);
			if (stopping) {
				mlt_queue_finish(e->q, j, MLT_STOPPING);
				continue;
			}
			j->ans.verdict.action = GG_ACTION_GREYLIST;
			j->ans.verdict.reason = "test";
			snprintf(j->ans.verdict.text, sizeof(j->ans.verdict.text), "4.7.1 for %s",
				 j->req.recipient);
			(void)gg_strcpy(j->ans.verdict.received_spf, sizeof(j->ans.verdict.received_spf),
					"Received-SPF: none");
			/* Counted first: the asker may look as soon as it is answered. */
			__atomic_add_fetch(&e->answered, 1, __ATOMIC_RELAXED);
			mlt_queue_finish(e->q, j, MLT_DECIDED);
		}
	}
	return NULL;
}

static void engine_start(struct engine *e, struct mlt_queue *q, long hold_ms)
{
	memset(e, 0, sizeof(*e));
	e->q = q;
	e->hold_ms = hold_ms;
	pthread_create(&e->t, NULL, engine_run, e);
}

static void engine_stop(struct engine *e)
{
	__atomic_store_n(&e->stop, 1, __ATOMIC_RELEASE);
	pthread_join(e->t, NULL);
}

/* An asker on its own thread, for the queue-full case. */
struct asker {
	struct mlt_queue *q;
	enum mlt_outcome o;
	pthread_t t;
};

static void *asker_run(void *arg)
{
	struct asker *a = arg;
	struct gg_request r;
	struct mlt_answer ans;

	request(&r, "waiting@example.test");
	a->o = mlt_queue_ask(a->q, &r, &ans);
	return NULL;
}

int main(void)
{
	struct mlt_queue q;
	struct gg_request r;
	struct mlt_answer ans;
	struct engine e;
	struct asker a;
	enum mlt_outcome o;
	char err[256];
	double t0, el;
	int stopping;

	if (mlt_queue_init(&q, 2000, err, sizeof(err)) != 0) {
		printf("not ok mlt_queue_init: %s\n", err);
		return 1;
	}
	check(q.max == MLT_QUEUE_MAX, "the queue holds at most MLT_QUEUE_MAX jobs");

	/* Answered. */
	engine_start(&e, &q, 0);
	request(&r, "one@example.test");
	memset(&ans, 0, sizeof(ans));
	o = mlt_queue_ask(&q, &r, &ans);
	check(o == MLT_DECIDED, "a job the engine answers comes back decided");
	check(ans.verdict.action == GG_ACTION_GREYLIST && strcmp(ans.verdict.reason, "test") == 0,
	      "the answer carries the engine's verdict");
	check(strcmp(ans.verdict.text, "4.7.1 for one@example.test") == 0,
	      "the engine saw the asker's request");
	check(strcmp(ans.verdict.received_spf, "Received-SPF: none") == 0, "and the header it added");
	for (int i = 0; i < 50; i++) {
		char rc[64];
		snprintf(rc, sizeof(rc), "r%d@example.test", i);
		request(&r, rc);
		if (mlt_queue_ask(&q, &r, &ans) != MLT_DECIDED)
			break;
	}
	check(__atomic_load_n(&e.answered, __ATOMIC_RELAXED) == 51, "51 questions in a row, 51 answers");
	engine_stop(&e);

	/* Deadline while still queued: the asker frees the job itself. */
	mlt_queue_set_wait(&q, 60);
	request(&r, "late@example.test");
	t0 = now_ms();
	o = mlt_queue_ask(&q, &r, &ans);
	el = now_ms() - t0;
	check(o == MLT_TIMEOUT, "no engine: the asker gives up (timeout)");
	check(el >= 55 && el < 1000, "after its deadline, not before and not much later");
	check(q.len == 0 && gg_list_empty(&q.waiting), "the abandoned job left the queue");
	check(q.timeouts == 1, "the timeout is counted");

	/* Deadline after the engine took it: the engine frees it when done. */
	engine_start(&e, &q, 300);
	request(&r, "slow@example.test");
	o = mlt_queue_ask(&q, &r, &ans);
	check(o == MLT_TIMEOUT, "a slow engine: the asker gives up");
	usleep(500 * 1000);
	pthread_mutex_lock(&q.lock);
	check(q.late == 1, "the engine's late answer is dropped (and its job freed)");
	pthread_mutex_unlock(&q.lock);
	engine_stop(&e);

	/* Queue full. */
	q.max = 1;
	mlt_queue_set_wait(&q, 400);
	a.q = &q;
	pthread_create(&a.t, NULL, asker_run, &a);
	for (int i = 0; i < 100 && q.len == 0; i++)
		usleep(5000);
	request(&r, "full@example.test");
	t0 = now_ms();
	o = mlt_queue_ask(&q, &r, &ans);
	el = now_ms() - t0;
	check(o == MLT_FULL, "a full queue refuses at once");
	check(el < 100, "without waiting");
	check(q.full == 1, "the refusal is counted");
	pthread_join(a.t, NULL);
	check(a.o == MLT_TIMEOUT, "the waiting asker times out on its own");
	q.max = MLT_QUEUE_MAX;

	/* Stopping: jobs already waiting are answered STOPPING, new ones at once. */
	mlt_queue_set_wait(&q, 3000);
	a.q = &q;
	pthread_create(&a.t, NULL, asker_run, &a);
	for (int i = 0; i < 100 && q.len == 0; i++)
		usleep(5000);
	mlt_queue_stop(&q);
	{
		struct gg_list taken, *l;
		int n = 0;

		gg_list_init(&taken);
		mlt_queue_take(&q, &taken, &stopping);
		while ((l = gg_list_pop(&taken)) != NULL) {
			mlt_queue_finish(&q, gg_list_entry(l, struct mlt_job, link), MLT_STOPPING);
			n++;
		}
		check(stopping && n == 1, "after mlt_queue_stop the engine takes what waits, told to stop");
	}
	pthread_join(a.t, NULL);
	check(a.o == MLT_STOPPING, "the waiting asker hears STOPPING");
	t0 = now_ms();
	o = mlt_queue_ask(&q, &r, &ans);
	check(o == MLT_STOPPING && now_ms() - t0 < 100, "a new question after stop: STOPPING at once");
	mlt_queue_fini(&q);
	check(q.wake_fd == -1, "fini closes the eventfd");
	o = mlt_queue_ask(&q, &r, &ans);
	check(o == MLT_STOPPING, "asking after fini is still safe");
	check(strcmp(mlt_outcome_str(MLT_TIMEOUT), "engine-timeout") == 0 &&
	      strcmp(mlt_outcome_str(MLT_FULL), "queue-full") == 0, "outcomes have log names");

	printf("# %d passed, %d failed\n", npass, nfail);
	return nfail == 0 ? 0 : 1;
}

/*
 * milter.h - greygate-milter internals shared by its files
 *
 * Threads.  libmilter runs each MTA connection on a thread of its own and
 * calls back into callbacks.c; those threads never touch the engine, the
 * store, the checks or the configuration.  One engine thread (worker.c)
 * owns a libevent loop with all of these, exactly as greygate-policyd's
 * one thread does.  Between them sits the job queue (queue.c): a callback
 * fills a struct gg_request, hands it over and waits, with a deadline, for
 * the verdict.  Whatever goes wrong on the way - queue full, no memory,
 * no answer in time, the daemon stopping - the callback answers CONTINUE
 * (fail open) and logs one line saying why.
 *
 * main.c owns start-up and shutdown; render.c turns verdicts into SMTP
 * replies, headers and log lines; the engine thread runs the host both
 * daemons share (daemon/host.h: reload, statistics, probes, database
 * timers).
 */
#ifndef GG_MILTER_H
#define GG_MILTER_H

#include <pthread.h>
#include <stddef.h>

#include "checks/eval.h"
#include "engine/config.h"
#include "daemon/daemon.h"
#include "engine/engine.h"
#include "daemon/log.h"
#include "engine/score.h"
#include "lib/list.h"
#include "store/store.h"

#define MLT_PROG "greygate-milter"
#define MLT_QUEUE_MAX 1024		/* jobs waiting for the engine thread, at most */
#define MLT_WAIT_SLACK_MS 2000		/* a callback waits dns_timeout plus this */
#define MLT_HEADER_MAX 1024		/* one "Name: value" header line */

/* How a question to the engine thread ended. */
enum mlt_outcome {
	MLT_DECIDED,		/* the verdict is in the answer */
	MLT_TIMEOUT,		/* no verdict within the deadline */
	MLT_FULL,		/* MLT_QUEUE_MAX jobs were already waiting */
	MLT_STOPPING,		/* the daemon is shutting down */
	MLT_NOMEM,		/* no memory for the job */
};

/* What the engine thread hands back for one recipient. */
struct mlt_answer {
	struct gg_verdict verdict;	/* with Received-SPF when spf_header is on */
};

/*
 * One recipient on its way through the engine thread.  The asking thread
 * allocates it; see queue.c for who frees it.  Fields below "engine
 * thread only" are never touched by the asker.
 */
struct mlt_job {
	struct gg_list link;		/* on the queue, then on the list mlt_queue_take() fills */
	struct gg_request req;
	struct mlt_answer ans;
	pthread_cond_t cond;		/* signalled when done is set */
	/* Under the queue's lock: */
	int queued;			/* still on the queue, not taken yet */
	int done;			/* answered: outcome and ans are final */
	int abandoned;			/* the asker gave up; the engine frees it */
	enum mlt_outcome outcome;
	/* Engine thread only: */
	void *owner;			/* the worker deciding it */
	struct gg_list run;		/* on the worker's list of jobs in the pipeline */
	struct gg_eval_job *eval;	/* in the pipeline */
};

/* The hand-off between libmilter's threads and the engine thread. */
struct mlt_queue {
	pthread_mutex_t lock;
	struct gg_list waiting;		/* jobs the engine thread has not taken, oldest first */
	size_t len;
	size_t max;			/* MLT_QUEUE_MAX; a test may lower it */
	int wake_fd;			/* eventfd: written when a job joins an empty list */
	int stopping;			/* no new jobs; answer STOPPING at once */
	long wait_ms;			/* how long an asker waits */
	/* Statistics (under the lock). */
	unsigned long asked, timeouts, full, late;
};

struct mlt_worker;

/* The daemon: owned by main(); the callbacks reach it through one pointer. */
struct milter {
	struct gg_log log;
	struct gg_daemon_args args;	/* command line: -c, -o, ... */
	/* Owned by the engine thread while it runs (SIGHUP swaps it), by main() otherwise. */
	struct gg_config *cfg;
	struct gg_store *store;
	struct mlt_queue queue;
	struct mlt_worker *worker;
	unsigned long conn_serial;	/* atomic: numbers connections for instance names */
};

/* main.c: load, override and check a configuration snapshot; NULL with err on failure. */
struct gg_config *mlt_load_config(const struct milter *m, char *err, size_t errsize);
/* main.c: what a snapshot must pass beyond the file's syntax (the checks, milter_socket). */
enum gg_status mlt_validate(const struct gg_config *cfg, char *err, size_t errsize);

/* queue.c */
int mlt_queue_init(struct mlt_queue *q, long wait_ms, char *err, size_t errsize);
/* Ask the engine thread about one request; waits at most wait_ms. */
enum mlt_outcome mlt_queue_ask(struct mlt_queue *q, const struct gg_request *req,
			       struct mlt_answer *ans);
/*
 * Engine thread: move every waiting job, oldest first, onto *taken (an
 * initialised head; jobs are linked by their link); *stopping if shutting
 * down.  Returns the number of jobs moved.
 */
size_t mlt_queue_take(struct mlt_queue *q, struct gg_list *taken, int *stopping);
/* Engine thread: has the asker given up on this job? */
int mlt_queue_abandoned(struct mlt_queue *q, struct mlt_job *j);
/* Engine thread: hand a job back (or free it if its asker gave up); j is gone after this. */
void mlt_queue_finish(struct mlt_queue *q, struct mlt_job *j, enum mlt_outcome o);
/* A new deadline for later questions (reload). */
void mlt_queue_set_wait(struct mlt_queue *q, long wait_ms);
/* Refuse new questions and wake the engine thread so it answers what waits. */
void mlt_queue_stop(struct mlt_queue *q);
/* Close the wake-up descriptor, once the engine thread has ended. */
void mlt_queue_fini(struct mlt_queue *q);
const char *mlt_outcome_str(enum mlt_outcome o);

/* worker.c: the engine thread. */
int mlt_worker_start(struct milter *m, char *err, size_t errsize);
/* Stop it (after smfi_main() returned): answer what waits, join, free. */
void mlt_worker_stop(struct milter *m);

/* callbacks.c: register the filter with libmilter (before smfi_opensocket). */
int mlt_callbacks_register(struct milter *m);

/* render.c */
struct mlt_reply {
	char rcode[4];		/* "451" or "550" */
	char xcode[12];		/* "4.7.1" */
	char text[960];		/* escaped for smfi_setreply (% doubled) */
};
/* The SMTP reply for a greylist or reject verdict. */
void mlt_render_reply(const struct gg_verdict *v, struct mlt_reply *r);
/* Split "Name: value" into its parts; 0 if it is not a header line. */
int mlt_render_header(const char *line, char *name, size_t nsize, char *value, size_t vsize);

#endif

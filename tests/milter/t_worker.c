/*
 * t_worker.c - the milter's engine thread (milter/worker.c): one commit per wake-up
 *
 * The real engine thread - worker.c with the job queue, the evaluation
 * pipeline, the engine and a Berkeley DB store in a fresh directory, the
 * host's SIGUSR1 statistics - and real asker threads calling
 * mlt_queue_ask(), as libmilter's threads do.  Checked:
 *
 *   - 40 askers queue their new triplets before the engine thread runs;
 *     once it starts, its first wake-up takes all 40 and decides them as
 *     one batch: 40 greylist verdicts, and the SIGUSR1 line says
 *     decided=40 wakeups=1 commits=1 (not one commit per recipient);
 *   - then 5 recipients one after the other: each wake-up finds one and
 *     commits once (wakeups=6 commits=6), so commits never exceed
 *     wake-ups;
 *   - the eventfd was written once for the 40 (only when a job joins an
 *     empty queue).
 *
 * The statistics line is read from the log (stderr, redirected to a file
 * in the test's directory).  Prints one "ok"/"not ok" line per check and
 * "# N passed, N failed".  mlt_validate, which main.c provides to the
 * daemon, is defined here as the daemon's reload check minus the socket
 * (this test never reloads).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "milter/milter.h"
#include "lib/util.h"

#define NASK 40
#define NSEQ 5

static int npass, nfail;

static void check(int cond, const char *what)
{
	printf("%s %s\n", cond ? "ok" : "not ok", what);
	fflush(stdout);
	if (cond)
		npass++;
	else
		nfail++;
}

/* mlt_validate - what main.c checks on a reload, without milter_socket */
enum gg_status mlt_validate(const struct gg_config *cfg, char *err, size_t errsize)
{
	return gg_eval_validate(cfg, err, errsize);
}

/* request - a new triplet: client, sender and recipient numbered i */
static void request(struct gg_request *r, int i)
{
	char v[128];

	gg_request_init(r);
	snprintf(v, sizeof(v), "198.51.%d.%d", i / 200, 1 + i % 200);
	(void)gg_request_set(r, GG_RF_CLIENT_ADDRESS, v, strlen(v));
	(void)gg_request_set(r, GG_RF_CLIENT_NAME, "unknown", 7);
	(void)gg_request_set(r, GG_RF_HELO_NAME, "mx.worker.test", 14);
	snprintf(v, sizeof(v), "sender-%c%c@worker.test", 'a' + i / 26, 'a' + i % 26);
	(void)gg_request_set(r, GG_RF_SENDER, v, strlen(v));
	snprintf(v, sizeof(v), "rcpt-%c%c@example.test", 'a' + i / 26, 'a' + i % 26);
	(void)gg_request_set(r, GG_RF_RECIPIENT, v, strlen(v));
	(void)gg_request_set(r, GG_RF_PROTOCOL_STATE, "RCPT", 4);
	snprintf(v, sizeof(v), "worker.%d", i);
	(void)gg_request_set(r, GG_RF_INSTANCE, v, strlen(v));
}

struct asker {
	struct mlt_queue *q;
	int i;
	enum mlt_outcome o;
	struct mlt_answer ans;
	pthread_t t;
};

static void *asker_run(void *arg)
{
	struct asker *a = arg;
	struct gg_request r;

	request(&r, a->i);
	a->o = mlt_queue_ask(a->q, &r, &a->ans);
	return NULL;
}

/* stat_value - NAME=N from the last statistics line of the log, -1 if none */
static long stat_value(const char *log, int nlines, const char *name)
{
	FILE *fp = fopen(log, "r");
	char line[2048], last[2048] = "", key[64];
	const char *p;
	int seen = 0;

	if (fp == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strstr(line, " statistics: recipients=") != NULL) {
			(void)gg_strcpy(last, sizeof(last), line);
			seen++;
		}
	fclose(fp);
	if (seen < nlines)
		return -1;
	snprintf(key, sizeof(key), " %s=", name);
	if ((p = strstr(last, key)) == NULL)
		return -1;
	return strtol(p + strlen(key), NULL, 10);
}

/* statistics - SIGUSR1 to ourselves (the engine thread takes it); wait for line n */
static int statistics(const char *log, int n)
{
	kill(getpid(), SIGUSR1);
	for (int i = 0; i < 500; i++) {
		if (stat_value(log, n, "decided") >= 0)
			return 0;
		usleep(10000);
	}
	return -1;
}

int main(void)
{
	char dir[] = "/tmp/t_worker.XXXXXX", conf[256], log[256], err[1024];
	struct milter m;
	struct asker a[NASK];
	sigset_t set;
	uint64_t wakes = 0;
	int ok, fd;
	FILE *cf;

	if (mkdtemp(dir) == NULL) {
		printf("not ok mkdtemp\n");
		return 1;
	}
	snprintf(conf, sizeof(conf), "%s/greygate.conf", dir);
	snprintf(log, sizeof(log), "%s/log", dir);
	if ((cf = fopen(conf, "w")) == NULL) {
		printf("not ok cannot write %s\n", conf);
		return 1;
	}
	fprintf(cf, "database = bdb:%s/db\nuser =\ngreylist_delay = 60\n"
		"milter_socket = inet:10099@127.0.0.1\n", dir);
	fclose(cf);
	/* The log (stderr) goes to a file this test reads. */
	if ((fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600)) < 0 ||
	    dup2(fd, 2) < 0) {
		printf("not ok cannot redirect stderr to %s\n", log);
		return 1;
	}
	close(fd);

	/* As main.c does: SIGUSR1 and SIGHUP blocked here, for the engine thread alone. */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	memset(&m, 0, sizeof(m));
	m.queue.wake_fd = -1;
	gg_config_source_init(&m.args.config);
	m.args.config.path = conf;
	m.args.foreground = 1;
	if ((m.cfg = gg_daemon_config(&m.args, mlt_validate, err, sizeof(err))) == NULL ||
	    gg_log_open(&m.log, "t_worker", "mail", 1, NULL, err, sizeof(err)) != 0 ||
	    mlt_queue_init(&m.queue, 1000, err, sizeof(err)) != 0 ||
	    gg_store_open(m.cfg->database, (size_t)m.cfg->database_cache_size, &m.store, err,
			  sizeof(err)) != GG_OK) {
		printf("not ok set-up: %s\n", err);
		return 1;
	}
	/* Long enough that no asker gives up while the engine thread is not yet there. */
	mlt_queue_set_wait(&m.queue, 30000);

	for (int i = 0; i < NASK; i++) {
		a[i].q = &m.queue;
		a[i].i = i;
		pthread_create(&a[i].t, NULL, asker_run, &a[i]);
	}
	for (int i = 0; i < 1000; i++) {
		size_t len;
		pthread_mutex_lock(&m.queue.lock);
		len = m.queue.len;
		pthread_mutex_unlock(&m.queue.lock);
		if (len == NASK)
			break;
		usleep(5000);
	}
	check(m.queue.len == NASK, "40 askers wait on the queue before the engine thread runs");
	/* Peek at the eventfd's counter without taking it (read, then write it back). */
	if (read(m.queue.wake_fd, &wakes, sizeof(wakes)) != (ssize_t)sizeof(wakes) ||
	    write(m.queue.wake_fd, &wakes, sizeof(wakes)) != (ssize_t)sizeof(wakes))
		wakes = 0;
	check(wakes == 1, "the eventfd was written once for 40 jobs (only into an empty queue)");

	if (mlt_worker_start(&m, err, sizeof(err)) != 0) {
		printf("not ok mlt_worker_start: %s\n", err);
		return 1;
	}
	ok = 1;
	for (int i = 0; i < NASK; i++) {
		pthread_join(a[i].t, NULL);
		ok = ok && a[i].o == MLT_DECIDED && a[i].ans.verdict.action == GG_ACTION_GREYLIST;
	}
	check(ok, "every one of the 40 new triplets is greylisted by the engine");
	check(statistics(log, 1) == 0, "SIGUSR1 logs a statistics line");
	check(stat_value(log, 1, "decided") == NASK, "statistics: decided=40");
	check(stat_value(log, 1, "wakeups") == 1, "statistics: the 40 were taken in one wake-up");
	check(stat_value(log, 1, "commits") == 1,
	      "statistics: commits=1 - one database commit for the 40 recipients of that wake-up");

	for (int i = 0; i < NSEQ; i++) {
		a[0].i = NASK + i;
		asker_run(&a[0]);
		if (a[0].o != MLT_DECIDED || a[0].ans.verdict.action != GG_ACTION_GREYLIST)
			ok = 0;
	}
	check(ok, "5 more recipients, one after the other, are greylisted");
	check(statistics(log, 2) == 0, "a second statistics line");
	check(stat_value(log, 2, "decided") == NASK + NSEQ, "statistics: decided=45");
	check(stat_value(log, 2, "wakeups") == 1 + NSEQ && stat_value(log, 2, "commits") == 1 + NSEQ,
	      "statistics: one at a time, each wake-up commits once (wakeups=6 commits=6)");

	mlt_worker_stop(&m);
	gg_store_close(m.store);
	gg_config_free(m.cfg);
	gg_log_close(&m.log);
	{
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (nfail == 0 && system(cmd) != 0)
			printf("# could not remove %s\n", dir);
	}
	printf("# %d passed, %d failed\n", npass, nfail);
	return nfail == 0 ? 0 : 1;
}

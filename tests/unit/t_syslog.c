/*
 * t_syslog.c - unit tests for daemon/syslog.c and the syslog path of daemon/log.c
 *
 * Every test binds a real AF_UNIX socket as the syslog daemon and reads
 * what the client sends.  The wire format is compared byte for byte with
 * what glibc's syslog(3) writes to the same kind of socket: glibc only
 * writes to /dev/log, so those cases run in a child with a private mount
 * namespace and a tmpfs on /dev (skipped where unshare is not allowed).
 * The rest: one sendmmsg per flush, a full queue sending itself, the
 * order of batched and unbatched lines, reconnecting after the socket is
 * created again, a stream socket, no syslog at all, a receiver that does
 * not read (bounded waits, lost lines counted and reported), the pid
 * after a fork, and threads logging, flushing and reopening at once.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "unit.h"
#include "daemon/log.h"
#include "daemon/syslog.h"
#include "lib/util.h"

#define MAXMSG 4096

/* A syslog daemon for one test: a socket bound in a private directory. */
struct rx {
	char *dir;
	char path[108];
	int fd;
};

static int bind_at(const char *path, int type)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_true(strlen(path) < sizeof(sun.sun_path));
	strcpy(sun.sun_path, path);
	(void)unlink(path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	if (type == SOCK_STREAM)
		assert_int_equal(listen(fd, 8), 0);
	return fd;
}

static void rx_open(struct rx *r, int type)
{
	r->dir = tu_mkdtemp();
	snprintf(r->path, sizeof(r->path), "%s/log", r->dir);
	r->fd = bind_at(r->path, type);
}

static void rx_close(struct rx *r)
{
	if (r->fd >= 0)
		close(r->fd);
	tu_rmtree(r->dir);
	free(r->dir);
}

/* recv_one - one datagram within ms, NUL-terminated; its length, or -1 */
static ssize_t recv_one(int fd, char *buf, size_t size, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (poll(&p, 1, ms) != 1)
		return -1;
	n = recv(fd, buf, size - 1, 0);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

/* accept_within - a connection on a listening socket within ms, or -1 */
static int accept_within(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, ms) != 1)
		return -1;
	return accept(fd, NULL, NULL);
}

/* nothing_waiting - no datagram is queued on fd */
static int nothing_waiting(int fd)
{
	char c;

	return recv(fd, &c, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* body - the message after "IDENT[PID]: " of a datagram, or NULL */
static const char *body(const char *dgram)
{
	const char *p = strstr(dgram, "]: ");

	return p ? p + 3 : NULL;
}

/* A reader thread: keeps the socket drained, as a syslog daemon does. */
struct reader {
	int fd;
	size_t want, got;
	char (*msgs)[MAXMSG];
	pthread_t t;
};

static void *reader_run(void *arg)
{
	struct reader *rd = arg;

	while (rd->got < rd->want &&
	       recv_one(rd->fd, rd->msgs[rd->got], MAXMSG, 5000) >= 0)
		rd->got++;
	return NULL;
}

static void reader_start(struct reader *rd, int fd, size_t want)
{
	rd->fd = fd;
	rd->want = want;
	rd->got = 0;
	rd->msgs = calloc(want, MAXMSG);
	assert_non_null(rd->msgs);
	assert_int_equal(pthread_create(&rd->t, NULL, reader_run, rd), 0);
}

static void reader_join(struct reader *rd)
{
	pthread_join(rd->t, NULL);
}

static void line(struct gg_syslog *sl, int prio, int batched, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void line(struct gg_syslog *sl, int prio, int batched, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gg_syslog_vline(sl, prio, batched, "", fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------ the wire, against glibc */

struct wire_case {
	const char *label;
	int prio;
	const char *facility;
	int fac;
	int type;
	size_t len;		/* message length (filled with a pattern) */
};

static const struct wire_case wire_cases[] = {
	{ "info, mail, datagram", LOG_INFO, "mail", LOG_MAIL, SOCK_DGRAM, 60 },
	{ "warning carries its level word", LOG_WARNING, "mail", LOG_MAIL, SOCK_DGRAM, 40 },
	{ "error, local3", LOG_ERR, "local3", LOG_LOCAL3, SOCK_DGRAM, 40 },
	{ "notice, daemon", LOG_NOTICE, "daemon", LOG_DAEMON, SOCK_DGRAM, 20 },
	{ "a 1500-byte line", LOG_INFO, "mail", LOG_MAIL, SOCK_DGRAM, 1500 },
	{ "stream socket: NUL after each line", LOG_INFO, "local7", LOG_LOCAL7, SOCK_STREAM, 80 },
};

/* read_msgs - from a stream connection: NUL-terminated lines until n or EOF */
static int read_stream(int fd, char out[][MAXMSG], size_t *lens, int n)
{
	char buf[MAXMSG * 3];
	size_t got = 0;
	int k = 0;

	while (k < n) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char *nul;
		ssize_t r;

		while ((nul = memchr(buf, '\0', got)) != NULL && k < n) {
			size_t l = (size_t)(nul - buf) + 1;
			memcpy(out[k], buf, l);
			lens[k++] = l;
			memmove(buf, buf + l, got - l);
			got -= l;
		}
		if (k == n)
			break;
		if (poll(&p, 1, 3000) != 1 || (r = read(fd, buf + got, sizeof(buf) - got)) <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* wire_child - in a mount namespace with our own /dev/log: glibc, greygate, glibc */
static int wire_child(const struct wire_case *c)
{
	static const char *level[] = { "panic: ", "alert: ", "fatal: ", "error: ", "warning: ",
				       "", "", "" };
	static char got[3][MAXMSG];
	size_t lens[3];
	char *msg, err[256];
	struct gg_log log;
	int fd, glibc_fd = -1, our_fd = -1;

	if (unshare(CLONE_NEWNS) != 0 && unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0)
		return 77;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
	    mount("tmpfs", "/dev", "tmpfs", 0, "size=64k,mode=755") != 0)
		return 77;
	if ((msg = malloc(c->len + 1)) == NULL)
		return 1;
	for (size_t i = 0; i < c->len; i++)
		msg[i] = (char)('a' + i % 26);
	msg[c->len] = '\0';
	fd = bind_at("/dev/log", c->type);
	memset(&log, 0, sizeof(log));
	openlog("t-syslog", LOG_PID, c->fac);
	syslog(c->prio, "%s%s", level[c->prio], msg);
	if (gg_log_open(&log, "t-syslog", c->facility, 0, NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "gg_log_open: %s\n", err);
		return 1;
	}
	gg_log_msg(&log, c->prio, "%s", msg);
	syslog(c->prio, "%s%s", level[c->prio], msg);
	if (c->type == SOCK_DGRAM) {
		for (int i = 0; i < 3; i++) {
			ssize_t n = recv_one(fd, got[i], MAXMSG, 3000);
			if (n < 0)
				return 2;
			lens[i] = (size_t)n;
		}
	} else {
		/* glibc connected first (and sent twice), greygate second. */
		char g[2][MAXMSG], o[1][MAXMSG];
		size_t gl[2], ol[1];

		glibc_fd = accept_within(fd, 3000);
		our_fd = accept_within(fd, 3000);
		if (glibc_fd < 0 || our_fd < 0 || read_stream(glibc_fd, g, gl, 2) != 0 ||
		    read_stream(our_fd, o, ol, 1) != 0)
			return 3;
		memcpy(got[0], g[0], gl[0]);
		memcpy(got[1], o[0], ol[0]);
		memcpy(got[2], g[1], gl[1]);
		lens[0] = gl[0];
		lens[1] = ol[0];
		lens[2] = gl[1];
	}
	gg_log_close(&log);
	closelog();
	/* The second may differ from the first only if glibc's two lines straddle a second. */
	if ((lens[1] == lens[0] && memcmp(got[1], got[0], lens[0]) == 0) ||
	    (lens[1] == lens[2] && memcmp(got[1], got[2], lens[2]) == 0))
		return 0;
	fprintf(stderr, "glibc:    %zu [%.*s]\ngreygate: %zu [%.*s]\nglibc:    %zu [%.*s]\n",
		lens[0], (int)lens[0], got[0], lens[1], (int)lens[1], got[1], lens[2],
		(int)lens[2], got[2]);
	return 1;
}

static void test_wire(void **state)
{
	const struct wire_case *c = *state;
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(wire_child(c));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77)
		skip();
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* ------------------------------------------------ batching */

static void test_batch_one_send(void **state)
{
	struct rx r;
	struct reader rd;
	struct gg_syslog *sl;
	struct gg_syslog_stats st0, st;
	const int n = 64;

	(void)state;
	rx_open(&r, SOCK_DGRAM);
	assert_int_equal(gg_syslog_new(r.path, "t-batch", LOG_MAIL, &sl), GG_OK);
	for (int i = 0; i < n; i++)
		line(sl, LOG_INFO, 1, "line %d of the turn", i);
	/* Queued, not sent: no socket yet, nothing received. */
	gg_syslog_stats(sl, &st0);
	assert_int_equal(st0.sends, 0);
	assert_int_equal(st0.connects, 0);
	assert_true(nothing_waiting(r.fd));
	reader_start(&rd, r.fd, (size_t)n);
	gg_syslog_flush(sl);
	reader_join(&rd);
	gg_syslog_stats(sl, &st);
	assert_int_equal(rd.got, n);
	assert_int_equal(st.sends, 1);
	assert_int_equal(st.lines, n);
	assert_int_equal(st.dropped, 0);
	for (int i = 0; i < n; i++) {
		char want[64];
		snprintf(want, sizeof(want), "line %d of the turn", i);
		assert_non_null(body(rd.msgs[i]));
		assert_string_equal(body(rd.msgs[i]), want);
		assert_true(strncmp(rd.msgs[i], "<22>", 4) == 0);	/* mail.info */
		tu_assert_contains(rd.msgs[i], " t-batch[");
	}
	/* An empty flush sends nothing. */
	gg_syslog_flush(sl);
	gg_syslog_stats(sl, &st);
	assert_int_equal(st.sends, 1);
	free(rd.msgs);
	gg_syslog_free(sl);
	rx_close(&r);
}

static void test_unbatched_sends_queue_first(void **state)
{
	struct rx r;
	struct gg_syslog *sl;
	struct gg_syslog_stats st;
	char buf[MAXMSG];

	(void)state;
	rx_open(&r, SOCK_DGRAM);
	assert_int_equal(gg_syslog_new(r.path, "t-order", LOG_LOCAL0, &sl), GG_OK);
	line(sl, LOG_INFO, 1, "batched 1");
	line(sl, LOG_INFO, 1, "batched 2");
	assert_true(nothing_waiting(r.fd));
	line(sl, LOG_ERR, 0, "at once");
	gg_syslog_stats(sl, &st);
	assert_int_equal(st.sends, 1);
	assert_true(recv_one(r.fd, buf, sizeof(buf), 1000) > 0);
	assert_string_equal(body(buf), "batched 1");
	assert_true(recv_one(r.fd, buf, sizeof(buf), 1000) > 0);
	assert_string_equal(body(buf), "batched 2");
	assert_true(recv_one(r.fd, buf, sizeof(buf), 1000) > 0);
	assert_string_equal(body(buf), "at once");
	assert_true(strncmp(buf, "<131>", 5) == 0);	/* local0.err = 16 << 3 | 3 */
	gg_syslog_free(sl);
	rx_close(&r);
}

static void test_full_queue_sends_itself(void **state)
{
	struct rx r;
	struct reader rd;
	struct gg_syslog *sl;
	struct gg_syslog_stats st;
	const int n = GG_SYSLOG_BATCH_LINES + 1;

	(void)state;
	rx_open(&r, SOCK_DGRAM);
	assert_int_equal(gg_syslog_new(r.path, "t-full", LOG_MAIL, &sl), GG_OK);
	reader_start(&rd, r.fd, GG_SYSLOG_BATCH_LINES);
	for (int i = 0; i < n; i++)
		line(sl, LOG_INFO, 1, "line %d", i);
	reader_join(&rd);
	gg_syslog_stats(sl, &st);
	/* The full queue went out in one send before line 256 joined; that one waits. */
	assert_int_equal(rd.got, GG_SYSLOG_BATCH_LINES);
	assert_int_equal(st.sends, 1);
	assert_string_equal(body(rd.msgs[GG_SYSLOG_BATCH_LINES - 1]), "line 255");
	assert_true(nothing_waiting(r.fd));
	free(rd.msgs);
	/* Free sends the rest. */
	gg_syslog_free(sl);
	{
		char buf[MAXMSG];
		assert_true(recv_one(r.fd, buf, sizeof(buf), 1000) > 0);
		assert_string_equal(body(buf), "line 256");
	}
	rx_close(&r);
}

static void test_long_line_cut(void **state)
{
	struct rx r;
	struct gg_syslog *sl;
	char *big = malloc(5000), buf[MAXMSG * 2];

	(void)state;
	memset(big, 'x', 4999);
	big[4999] = '\0';
	rx_open(&r, SOCK_DGRAM);
	assert_int_equal(gg_syslog_new(r.path, "t-long", LOG_MAIL, &sl), GG_OK);
	line(sl, LOG_INFO, 0, "%s", big);
	assert_true(recv_one(r.fd, buf, sizeof(buf), 1000) > 0);
	assert_int_equal(strlen(body(buf)), GG_SYSLOG_LINE_MAX - 1);
	free(big);
	gg_syslog_free(sl);
	rx_close(&r);
}

/* ------------------------------------------------ the socket comes and goes */

static void test_reconnect_after_restart(void **state)
{
	struct rx r;
	struct gg_syslog *sl;
	struct gg_syslog_stats st;
	char buf[MAXMSG];

	(void)state;
	rx_open(&r, SOCK_DGRAM);
	assert_int_equal(gg_syslog_new(r.path, "t-restart", LOG_MAIL, &sl), GG_OK);
	line(sl, LOG_INFO, 0, "before the restart");
	assert_true(recv_one(r.fd, buf, sizeof(buf), 1000) > 0);
	assert_string_equal(body(buf), "before the restart");
	/* The syslog daemon restarts: its socket is removed and bound again. */
	close(r.fd);
	r.fd = bind_at(r.path, SOCK_DGRAM);
	line(sl, LOG_INFO, 1, "after the restart 1");
	line(sl, LOG_INFO, 1, "after the restart 2");
	gg_syslog_flush(sl);
	assert_true(recv_one(r.fd, buf, sizeof(buf), 1000) > 0);
	assert_string_equal(body(buf), "after the restart 1");
	assert_true(recv_one(r.fd, buf, sizeof(buf), 1000) > 0);
	assert_string_equal(body(buf), "after the restart 2");
	gg_syslog_stats(sl, &st);
	assert_int_equal(st.connects, 2);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(st.lines, 3);
	gg_syslog_free(sl);
	rx_close(&r);
}

static void test_no_syslog_then_warning(void **state)
{
	struct rx r;
	struct gg_syslog *sl;
	struct gg_syslog_stats st;
	char buf[MAXMSG];

	(void)state;
	rx_open(&r, SOCK_DGRAM);
	close(r.fd);
	(void)unlink(r.path);
	assert_int_equal(gg_syslog_new(r.path, "t-down", LOG_MAIL, &sl), GG_OK);
	line(sl, LOG_INFO, 1, "lost 1");
	line(sl, LOG_INFO, 1, "lost 2");
	gg_syslog_flush(sl);
	line(sl, LOG_INFO, 0, "lost 3");
	gg_syslog_stats(sl, &st);
	assert_int_equal(st.dropped, 3);
	assert_int_equal(st.lines, 0);
	assert_int_equal(st.connects, 0);
	/* syslog is back: the warning comes first, then the line. */
	r.fd = bind_at(r.path, SOCK_DGRAM);
	line(sl, LOG_INFO, 0, "back");
	assert_true(recv_one(r.fd, buf, sizeof(buf), 1000) > 0);
	assert_true(strncmp(buf, "<20>", 4) == 0);	/* mail.warning */
	tu_assert_contains(body(buf), "warning: 3 log lines lost: syslog (");
	tu_assert_contains(body(buf), r.path);
	assert_true(recv_one(r.fd, buf, sizeof(buf), 1000) > 0);
	assert_string_equal(body(buf), "back");
	/* Reported once. */
	line(sl, LOG_INFO, 0, "later");
	assert_true(recv_one(r.fd, buf, sizeof(buf), 1000) > 0);
	assert_string_equal(body(buf), "later");
	gg_syslog_stats(sl, &st);
	assert_int_equal(st.lines, 2);
	assert_int_equal(st.dropped, 3);
	gg_syslog_free(sl);
	rx_close(&r);
}

static void test_stream_socket(void **state)
{
	struct rx r;
	struct gg_syslog *sl;
	struct gg_syslog_stats st;
	char got[3][MAXMSG];
	size_t lens[3];
	int c;

	(void)state;
	rx_open(&r, SOCK_STREAM);
	assert_int_equal(gg_syslog_new(r.path, "t-stream", LOG_MAIL, &sl), GG_OK);
	for (int i = 0; i < 3; i++)
		line(sl, LOG_INFO, 1, "stream %d", i);
	gg_syslog_flush(sl);
	c = accept_within(r.fd, 3000);
	assert_true(c >= 0);
	assert_int_equal(read_stream(c, got, lens, 3), 0);
	for (int i = 0; i < 3; i++) {
		char want[32];
		snprintf(want, sizeof(want), "stream %d", i);
		assert_string_equal(body(got[i]), want);	/* each ends in its NUL */
		assert_int_equal(lens[i], strlen(got[i]) + 1);
	}
	gg_syslog_stats(sl, &st);
	assert_int_equal(st.sends, 1);
	assert_int_equal(st.lines, 3);
	close(c);
	gg_syslog_free(sl);
	rx_close(&r);
}

/* ------------------------------------------------ a receiver that does not read */

/* drain - what a stream connection carries until it is quiet for 300 ms; *eof if it ended */
static size_t drain(int c, char *buf, size_t cap, int *eof)
{
	size_t got = 0;
	ssize_t n;

	*eof = 0;
	for (;;) {
		struct pollfd p = { .fd = c, .events = POLLIN };

		if (poll(&p, 1, 300) != 1)
			return got;
		if ((n = read(c, buf + got, cap - got)) <= 0) {
			*eof = 1;
			return got;
		}
		got += (size_t)n;
	}
}

static void test_stream_not_reading(void **state)
{
	struct rx r;
	struct gg_syslog *sl;
	struct gg_syslog_stats st;
	struct timespec t0;
	char *pad = malloc(1001), *all, *p, *nul;
	size_t cap = 1 << 22, got, whole = 0;
	long ms;
	int c, eof;

	(void)state;
	memset(pad, 'p', 1000);
	pad[1000] = '\0';
	rx_open(&r, SOCK_STREAM);
	assert_int_equal(gg_syslog_new(r.path, "t-stream", LOG_MAIL, &sl), GG_OK);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 600; i++)
		line(sl, LOG_INFO, 1, "%d %s", i, pad);
	gg_syslog_flush(sl);
	ms = ms_since(&t0);
	gg_syslog_stats(sl, &st);
	fprintf(stderr, "# 600 lines to a stream nobody reads: %ld ms, lines %lu dropped %lu\n", ms,
		st.lines, st.dropped);
	assert_true(ms < 4 * GG_SYSLOG_WAIT_MS + 500);
	assert_true(st.dropped > 0);
	assert_int_equal(st.lines + st.dropped, 600);
	/*
	 * What the connection carried: whole lines in order; a line cut short
	 * by the wait can only be the last thing on a connection that ended.
	 */
	c = accept_within(r.fd, 1000);
	assert_true(c >= 0);
	all = malloc(cap);
	got = drain(c, all, cap, &eof);
	for (p = all; (nul = memchr(p, '\0', got - (size_t)(p - all))) != NULL; p = nul + 1) {
		char want[16];
		snprintf(want, sizeof(want), "%zu ", whole);
		assert_true(strncmp(body(p), want, strlen(want)) == 0);
		whole++;
	}
	assert_int_equal(whole, st.lines);
	assert_true(p == all + got || eof);
	/* The next line starts clean: on a new connection if that one ended, else right after. */
	line(sl, LOG_INFO, 0, "after the wait");
	if (eof) {
		close(c);
		c = accept_within(r.fd, 1000);
		assert_true(c >= 0);
	}
	got = drain(c, all, cap, &eof);
	assert_true(got > 0);
	assert_int_equal(all[got - 1], '\0');
	tu_assert_contains(body(all), "log lines lost: syslog (");
	nul = memchr(all, '\0', got);
	assert_string_equal(body(nul + 1), "after the wait");
	close(c);
	free(all);
	free(pad);
	gg_syslog_free(sl);
	rx_close(&r);
}

static void test_receiver_not_reading(void **state)
{
	struct rx r;
	struct gg_syslog *sl;
	struct gg_syslog_stats st;
	struct timespec t0;
	char *pad = malloc(1001), buf[MAXMSG];
	unsigned long received = 0, dropped, lines;
	long ms[4];

	(void)state;
	memset(pad, 'p', 1000);
	pad[1000] = '\0';
	rx_open(&r, SOCK_DGRAM);
	assert_int_equal(gg_syslog_new(r.path, "t-full", LOG_MAIL, &sl), GG_OK);
	/*
	 * 200 lines of 1 kB per round overflow any queue length and send buffer
	 * (and the queue's bytes: it sends itself once in each round, too).
	 */
	for (int f = 0; f < 4; f++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (int i = 0; i < 200; i++)
			line(sl, LOG_INFO, 1, "%d.%d %s", f, i, pad);
		gg_syslog_flush(sl);
		ms[f] = ms_since(&t0);
	}
	gg_syslog_stats(sl, &st);
	fprintf(stderr, "# rounds took %ld %ld %ld %ld ms; lines %lu dropped %lu sends %lu\n",
		ms[0], ms[1], ms[2], ms[3], st.lines, st.dropped, st.sends);
	/* At most two waits for the whole outage, then none. */
	assert_true(ms[0] + ms[1] + ms[2] + ms[3] < 2 * GG_SYSLOG_WAIT_MS + 300);
	assert_true(ms[3] < GG_SYSLOG_WAIT_MS / 2);
	assert_int_equal(st.stalled, 1);
	assert_true(st.dropped > 0);
	assert_int_equal(st.lines + st.dropped, 800);
	dropped = st.dropped;
	lines = st.lines;
	/* The daemon reads again: what it held, then the warning, then the new line. */
	while (recv_one(r.fd, buf, sizeof(buf), 0) > 0)
		received++;
	assert_int_equal(received, lines);
	line(sl, LOG_INFO, 0, "caught up");
	assert_true(recv_one(r.fd, buf, sizeof(buf), 1000) > 0);
	{
		char want[64];
		snprintf(want, sizeof(want), "warning: %lu log lines lost", dropped);
		tu_assert_contains(body(buf), want);
	}
	assert_true(recv_one(r.fd, buf, sizeof(buf), 1000) > 0);
	assert_string_equal(body(buf), "caught up");
	gg_syslog_stats(sl, &st);
	assert_int_equal(st.stalled, 0);
	free(pad);
	gg_syslog_free(sl);
	rx_close(&r);
}

/* ------------------------------------------------ fork, reopen, threads */

static void test_pid_after_fork(void **state)
{
	struct rx r;
	struct gg_syslog *sl;
	char buf[MAXMSG], want[64];
	pid_t pid;
	int status;

	(void)state;
	rx_open(&r, SOCK_DGRAM);
	assert_int_equal(gg_syslog_new(r.path, "t-fork", LOG_MAIL, &sl), GG_OK);
	line(sl, LOG_INFO, 0, "parent");
	assert_true(recv_one(r.fd, buf, sizeof(buf), 1000) > 0);
	snprintf(want, sizeof(want), " t-fork[%ld]: parent", (long)getpid());
	tu_assert_contains(buf, want);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		line(sl, LOG_INFO, 0, "child");
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(recv_one(r.fd, buf, sizeof(buf), 1000) > 0);
	snprintf(want, sizeof(want), " t-fork[%ld]: child", (long)pid);
	tu_assert_contains(buf, want);
	gg_syslog_free(sl);
	rx_close(&r);
}

static void test_log_reopen(void **state)
{
	struct rx r;
	struct gg_log log;
	char err[256], buf[MAXMSG];

	(void)state;
	rx_open(&r, SOCK_DGRAM);
	memset(&log, 0, sizeof(log));
	assert_int_equal(gg_log_open(&log, "t-old", "mail", 0, r.path, err, sizeof(err)), 0);
	gg_log_batched(&log, LOG_INFO, "queued under the old name");
	assert_int_equal(gg_log_reopen(&log, "t-new", "local5"), 0);
	gg_log_warn(&log, "under the new name");
	assert_true(recv_one(r.fd, buf, sizeof(buf), 1000) > 0);
	assert_true(strncmp(buf, "<22>", 4) == 0);
	tu_assert_contains(buf, " t-old[");
	assert_string_equal(body(buf), "queued under the old name");
	assert_true(recv_one(r.fd, buf, sizeof(buf), 1000) > 0);
	assert_true(strncmp(buf, "<172>", 5) == 0);	/* local5.warning = 21 << 3 | 4 */
	tu_assert_contains(buf, " t-new[");
	assert_string_equal(body(buf), "warning: under the new name");
	/* Debug lines only with verbose; close sends what is batched. */
	gg_log_debug(&log, "not shown");
	log.verbose = 1;
	gg_log_debug(&log, "shown");
	gg_log_batched(&log, LOG_INFO, "sent by close");
	gg_log_close(&log);
	assert_true(recv_one(r.fd, buf, sizeof(buf), 1000) > 0);
	assert_string_equal(body(buf), "shown");
	assert_true(recv_one(r.fd, buf, sizeof(buf), 1000) > 0);
	assert_string_equal(body(buf), "sent by close");
	assert_true(nothing_waiting(r.fd));
	assert_int_equal(gg_log_open(&log, "x", "nosuch", 0, r.path, err, sizeof(err)), -1);
	assert_string_equal(err, "syslog_facility = nosuch: unknown facility");
	rx_close(&r);
}

#define THREADS 6
#define PER_THREAD 400

struct worker {
	struct gg_log *log;
	int id;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < PER_THREAD; i++) {
		if (i % 3 == 0)
			gg_log_info(w->log, "thread %d line %d", w->id, i);
		else
			gg_log_batched(w->log, LOG_INFO, "thread %d line %d", w->id, i);
		if (w->id == 0 && i % 50 == 0)
			(void)gg_log_reopen(w->log, i % 100 ? "t-odd" : "t-even", "mail");
		if (w->id == 1 && i % 7 == 0)
			gg_log_flush(w->log);
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct rx r;
	struct reader rd;
	struct gg_log log;
	struct worker w[THREADS];
	pthread_t t[THREADS];
	int next[THREADS] = { 0 };
	char err[256];

	(void)state;
	rx_open(&r, SOCK_DGRAM);
	memset(&log, 0, sizeof(log));
	assert_int_equal(gg_log_open(&log, "t-even", "mail", 0, r.path, err, sizeof(err)), 0);
	reader_start(&rd, r.fd, THREADS * PER_THREAD);
	for (int i = 0; i < THREADS; i++) {
		w[i].log = &log;
		w[i].id = i;
		assert_int_equal(pthread_create(&t[i], NULL, worker_run, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	gg_log_flush(&log);
	reader_join(&rd);
	assert_int_equal(rd.got, THREADS * PER_THREAD);
	/* Every line once, whole, and each thread's lines in the order it logged them. */
	for (size_t k = 0; k < rd.got; k++) {
		int id, i;
		const char *b = body(rd.msgs[k]);

		assert_non_null(b);
		assert_true(strstr(rd.msgs[k], " t-even[") != NULL ||
			    strstr(rd.msgs[k], " t-odd[") != NULL);
		assert_int_equal(sscanf(b, "thread %d line %d", &id, &i), 2);
		assert_true(id >= 0 && id < THREADS);
		assert_int_equal(i, next[id]);
		next[id]++;
	}
	free(rd.msgs);
	gg_log_close(&log);
	rx_close(&r);
}

int main(void)
{
	struct tu_suite s = { 0 };

	for (size_t i = 0; i < GG_ARRAY_LEN(wire_cases); i++)
		tu_add(&s, test_wire, &wire_cases[i], "wire as glibc writes it: %s",
		       wire_cases[i].label);
	tu_add(&s, test_batch_one_send, NULL, "64 batched lines: 64 datagrams, one sendmmsg");
	tu_add(&s, test_unbatched_sends_queue_first, NULL, "an unbatched line goes after the queue");
	tu_add(&s, test_full_queue_sends_itself, NULL, "a full queue sends itself");
	tu_add(&s, test_long_line_cut, NULL, "a long line is cut at the limit");
	tu_add(&s, test_reconnect_after_restart, NULL, "reconnect after the socket is bound again");
	tu_add(&s, test_no_syslog_then_warning, NULL, "no syslog: dropped, counted, reported");
	tu_add(&s, test_stream_socket, NULL, "a stream socket (EPROTOTYPE), NUL-terminated");
	tu_add(&s, test_receiver_not_reading, NULL, "a receiver that does not read: bounded waits");
	tu_add(&s, test_stream_not_reading, NULL, "a stream nobody reads: bounded, no torn line after");
	tu_add(&s, test_pid_after_fork, NULL, "the pid of the process that sends");
	tu_add(&s, test_log_reopen, NULL, "gg_log: reopen, levels, debug, close");
	tu_add(&s, test_threads, NULL, "threads log, flush and reopen at once");
	return tu_run(&s, "t_syslog");
}

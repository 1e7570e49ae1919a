/*
 * t_spf.c - tests of spf/: the SPF worker pool against a real DNS server
 *
 * Usage: t_spf DNS4 [DNS6]
 *   DNS4  "127.0.0.1:PORT" of an NSD serving the zones in tests/spf/
 *   DNS6  optional "[::1]:PORT" of the same NSD (tests the IPv6 syntax)
 *
 * Prints one "PASS: t_spf <what>" or "FAIL: t_spf <what> (<why>)" line per
 * check and exits 1 if any failed.  Besides the SPF results of every zone
 * case it checks the pool's promises: the callback runs once, on the loop
 * thread, never inside gg_spf_check(); a full queue, the deadline, a dead
 * or silent server and shutdown all fail open with temperror.  The silent
 * server is a UDP socket of our own that never answers; the dead one a
 * port nobody listens on.  Nothing is sent outside 127.0.0.1 and ::1.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <event2/event.h>

#include "spf/spf.h"

static int npass, nfail;
static struct event_base *base;
static pthread_t main_thread;
static int in_check;	/* set around gg_spf_check(): a callback then is a bug */
static int pending;	/* callbacks still expected */

/* ok - report one check */
static int ok(int cond, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int ok(int cond, const char *what, const char *fmt, ...)
{
	char why[512] = "";
	va_list ap;

	if (cond) {
		npass++;
		printf("PASS: t_spf %s\n", what);
		return 1;
	}
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(why, sizeof(why), fmt, ap);
		va_end(ap);
	}
	nfail++;
	printf("FAIL: t_spf %s (%s)\n", what, why);
	return 0;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What one callback saw. */
struct got {
	int calls;
	int sync_violation, thread_violation;
	enum gg_spf_result result;
	enum gg_spf_identity identity;
	char domain[256];
	char comment[512];
	char explanation[512];
	int has_explanation;
	char received[1024];
	int has_received;
	enum gg_status status;
	int shutdown;
	int worker;
	long elapsed_ms;
};

static void on_reply(const struct gg_spf_reply *r, void *arg)
{
	struct got *g = arg;

	g->calls++;
	if (in_check)
		g->sync_violation = 1;
	if (!pthread_equal(pthread_self(), main_thread))
		g->thread_violation = 1;
	g->result = r->result;
	g->identity = r->identity;
	snprintf(g->domain, sizeof(g->domain), "%s", r->domain ? r->domain : "(null)");
	snprintf(g->comment, sizeof(g->comment), "%s", r->comment ? r->comment : "(null)");
	g->has_explanation = r->explanation != NULL;
	snprintf(g->explanation, sizeof(g->explanation), "%s", r->explanation ? r->explanation : "");
	g->has_received = r->received_spf != NULL;
	snprintf(g->received, sizeof(g->received), "%s", r->received_spf ? r->received_spf : "");
	g->status = r->status;
	g->shutdown = r->shutdown;
	g->worker = r->worker;
	g->elapsed_ms = r->elapsed_ms;
	if (--pending == 0)
		event_base_loopbreak(base);
}

/* submit - queue a check, watching that the callback does not run inside */
static enum gg_status submit(struct gg_spf *spf, const char *ip, const char *helo,
			     const char *sender, struct got *g)
{
	struct gg_addr a;
	enum gg_status st;

	memset(g, 0, sizeof(*g));
	g->worker = -2;
	if (gg_addr_parse(ip, &a) != GG_OK) {
		ok(0, "test setup", "bad address %s", ip);
		return GG_EINVAL;
	}
	in_check = 1;
	st = gg_spf_check(spf, &a, helo, sender, on_reply, g);
	in_check = 0;
	if (st == GG_OK)
		pending++;
	return st;
}

static void timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	*(int *)arg = 1;
	event_base_loopbreak(base);
}

/* run_loop - run the loop until every expected callback ran or max_ms passed */
static int run_loop(long max_ms)
{
	struct timeval tv = { max_ms / 1000, (max_ms % 1000) * 1000 };
	int timed_out = 0;
	struct event *t = evtimer_new(base, timeout_cb, &timed_out);

	evtimer_add(t, &tv);
	while (pending > 0 && !timed_out)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(t);
	return pending == 0;
}

/* run_for - run the loop for ms milliseconds, whatever happens */
static void run_for(long ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	int done = 0;
	struct event *t = evtimer_new(base, timeout_cb, &done);

	evtimer_add(t, &tv);
	while (!done)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(t);
}

/* wait_running - spin (without the loop) until n checks are being evaluated */
static int wait_running(struct gg_spf *spf, unsigned n, long max_ms)
{
	struct gg_spf_stats st;
	long t0 = now_ms();

	for (;;) {
		gg_spf_stats(spf, &st);
		if (st.running >= n)
			return 1;
		if (now_ms() - t0 > max_ms)
			return 0;
		usleep(2000);
	}
}

/* udp_port - a loopback UDP socket; keep it (silent server) or close it (dead port) */
static int udp_port(int keep, int *fd_out)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) != 0) {
		perror("udp socket");
		exit(2);
	}
	if (keep)
		*fd_out = fd;
	else
		close(fd);
	return ntohs(sin.sin_port);
}

/* ------------------------------------------------------------ weights */

static void test_weights(void)
{
	static const struct {
		const char *value;
		const char *err;	/* NULL: must parse */
		double want[GG_SPF_NRESULTS];
	} cases[] = {
		{ "pass:-1, fail:5, softfail:1.5, neutral:0, none:0.5, temperror:0, permerror:1",
		  NULL, { -1, 5, 1.5, 0, 0.5, 0, 1 } },
		{ "", NULL, { -1, 5, 1.5, 0, 0.5, 0, 1 } },
		{ "fail:10", NULL, { -1, 10, 1.5, 0, 0.5, 0, 1 } },
		{ "  Pass : -2.25 ,fAIL:+7\tnone:0 ", NULL, { -2.25, 7, 1.5, 0, 0, 0, 1 } },
		{ "temperror:.5,permerror:3.", NULL, { -1, 5, 1.5, 0, 0.5, 0.5, 3 } },
		{ "softfail:1000,neutral:-1000", NULL, { -1, 5, 1000, -1000, 0.5, 0, 1 } },
		{ "pass:-1, fial:5", "t.conf:3: spf_weights: 'fial:5' is not an SPF result", { 0 } },
		{ "fail", "t.conf:3: spf_weights: 'fail' needs a weight (result:weight)", { 0 } },
		{ "fail:", "t.conf:3: spf_weights: 'fail:' needs a weight (result:weight)", { 0 } },
		{ "fail:x", "t.conf:3: spf_weights: 'fail:x' is not a weight", { 0 } },
		{ "fail:1e3", "t.conf:3: spf_weights: 'fail:1e3' is not a weight", { 0 } },
		{ "fail:inf", "t.conf:3: spf_weights: 'fail:inf' is not a weight", { 0 } },
		{ "fail:1001", "t.conf:3: spf_weights: 'fail:1001' is not a weight", { 0 } },
		{ "fail:-", "t.conf:3: spf_weights: 'fail:-' is not a weight", { 0 } },
		{ "fail:1.2.3", "t.conf:3: spf_weights: 'fail:1.2.3' is not a weight", { 0 } },
		{ "fail:1, fail:2", "t.conf:3: spf_weights: 'fail:2' sets a result a second time", { 0 } },
		{ ":5", "t.conf:3: spf_weights: ':5' is not an SPF result", { 0 } },
		{ "passpasspasspasspass:1", "is not an SPF result", { 0 } },
	};
	struct gg_spf_weights w, before;
	char err[256], label[160];
	size_t i;
	int r;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		gg_spf_weights_default(&w);
		w.w[GG_SPF_PASS] = 42;	/* must survive a failed parse */
		before = w;
		err[0] = '\0';
		snprintf(label, sizeof(label), "weights: '%s'", cases[i].value);
		if (gg_spf_weights_parse(cases[i].value, "t.conf:3", &w, err, sizeof(err)) == GG_OK) {
			int same = cases[i].err == NULL;

			for (r = 0; same && r < GG_SPF_NRESULTS; r++)
				same = w.w[r] == cases[i].want[r];
			ok(same, label, "parsed, expected %s", cases[i].err ? cases[i].err : "other weights");
		} else {
			ok(cases[i].err != NULL && strstr(err, cases[i].err) != NULL &&
				   memcmp(&w, &before, sizeof(w)) == 0,
			   label, "error '%s'", err);
		}
	}
	/* No "where": the message starts with the setting name. */
	gg_spf_weights_parse("fial:5", NULL, &w, err, sizeof(err));
	ok(strcmp(err, "spf_weights: 'fial:5' is not an SPF result") == 0,
	   "weights: error without a location", "'%s'", err);

	for (r = 0; r < GG_SPF_NRESULTS; r++) {
		enum gg_spf_result back;

		snprintf(label, sizeof(label), "result name %s round-trips",
			 gg_spf_result_str((enum gg_spf_result)r));
		ok(gg_spf_result_parse(gg_spf_result_str((enum gg_spf_result)r), &back) == GG_OK &&
			   back == (enum gg_spf_result)r, label, NULL);
	}
	ok(strcmp(gg_spf_result_str(GG_SPF_SOFTFAIL), "softfail") == 0 &&
		   strcmp(gg_spf_result_str(GG_SPF_TEMPERROR), "temperror") == 0 &&
		   strcmp(gg_spf_result_str((enum gg_spf_result)99), "unknown") == 0,
	   "result names", NULL);
}

/* ------------------------------------------------------------ arguments */

static void test_arguments(const char *dns4)
{
	struct gg_spf *spf = NULL;
	char err[256];
	struct got g;
	struct gg_addr a;
	enum gg_status st;

	st = gg_spf_new(base, 1, "not-an-address", 1000, NULL, &spf, err, sizeof(err));
	ok(st == GG_EINVAL && spf == NULL && strstr(err, "not-an-address") != NULL,
	   "gg_spf_new refuses a bad server list", "status %d, '%s'", st, err);
	st = gg_spf_new(base, 0, dns4, 1000, NULL, &spf, err, sizeof(err));
	ok(st == GG_EINVAL && spf == NULL, "gg_spf_new refuses 0 threads", "status %d", st);
	st = gg_spf_new(base, 1, dns4, 0, NULL, &spf, err, sizeof(err));
	ok(st == GG_EINVAL && spf == NULL, "gg_spf_new refuses a 0 ms timeout", "status %d", st);

	st = gg_spf_new(base, 1, dns4, 1000, "mx.greygate.test", &spf, err, sizeof(err));
	if (!ok(st == GG_OK, "gg_spf_new with one thread", "%s", err))
		return;
	gg_addr_parse("192.0.2.1", &a);
	ok(gg_spf_check(spf, &a, "h.example", "a@pass.spf.test", NULL, &g) == GG_EINVAL,
	   "gg_spf_check refuses a NULL callback", NULL);
	ok(gg_spf_check(spf, NULL, "h.example", "a@pass.spf.test", on_reply, &g) == GG_EINVAL,
	   "gg_spf_check refuses a NULL client", NULL);
	ok(gg_spf_set_queue_max(spf, 0) == GG_EINVAL, "queue bound 0 is refused", NULL);
	gg_spf_free(spf);
	gg_spf_free(NULL);
	ok(1, "gg_spf_free of an idle pool and of NULL", NULL);
}

/* ------------------------------------------------------------ zone cases */

struct zcase {
	const char *label;
	const char *ip, *helo, *sender;
	enum gg_spf_result want;
	const char *domain;		/* expected reply domain */
	const char *comment_has;	/* substring of the comment, or NULL */
	const char *expl_has;		/* substring of the explanation, or NULL */
};

static const struct zcase zcases[] = {
	{ "pass: ip4 in the record", "192.0.2.10", "mx.example", "alice@pass.spf.test",
	  GG_SPF_PASS, "pass.spf.test", "designates 192.0.2.10 as permitted sender", NULL },
	{ "fail: ip4 not in the record, -all", "198.51.100.7", "mx.example", "bob@fail.spf.test",
	  GG_SPF_FAIL, "fail.spf.test", "does not designate", "198.51.100.7 may not send mail for fail.spf.test" },
	{ "fail: default explanation names domain and client", "198.51.100.7", "mx.example",
	  "bob@pass.spf.test", GG_SPF_FAIL, "pass.spf.test", NULL,
	  "pass.spf.test does not designate 198.51.100.7 as a permitted sender" },
	{ "softfail: ~all", "198.51.100.7", "mx.example", "carol@softfail.spf.test",
	  GG_SPF_SOFTFAIL, "softfail.spf.test", "transitioning", NULL },
	{ "neutral: ?all", "198.51.100.7", "mx.example", "dave@neutral.spf.test",
	  GG_SPF_NEUTRAL, "neutral.spf.test", "neither permitted nor denied", NULL },
	{ "none: name without TXT", "198.51.100.7", "mx.example", "erin@none.spf.test",
	  GG_SPF_NONE, "none.spf.test", NULL, NULL },
	{ "none: name does not exist", "198.51.100.7", "mx.example", "erin@nxdomain.spf.test",
	  GG_SPF_NONE, "nxdomain.spf.test", NULL, NULL },
	{ "none: TXT records but none is SPF", "198.51.100.7", "mx.example", "erin@txtonly.spf.test",
	  GG_SPF_NONE, "txtonly.spf.test", "No SPF records", NULL },
	{ "include: provider allows the client", "198.51.100.7", "mx.example", "frank@include.spf.test",
	  GG_SPF_PASS, "include.spf.test", NULL, NULL },
	{ "include: provider does not allow it", "192.0.2.10", "mx.example", "frank@include.spf.test",
	  GG_SPF_FAIL, "include.spf.test", NULL, NULL },
	{ "redirect: provider allows the client", "198.51.100.9", "mx.example", "gina@redirect.spf.test",
	  GG_SPF_PASS, "redirect.spf.test", NULL, NULL },
	{ "redirect: provider does not allow it", "192.0.2.10", "mx.example", "gina@redirect.spf.test",
	  GG_SPF_FAIL, "redirect.spf.test", NULL, NULL },
	{ "permerror: two SPF records", "192.0.2.10", "mx.example", "hank@twospf.spf.test",
	  GG_SPF_PERMERROR, "twospf.spf.test", "Multiple SPF", NULL },
	{ "permerror: unknown mechanism", "192.0.2.10", "mx.example", "hank@syntax.spf.test",
	  GG_SPF_PERMERROR, "syntax.spf.test", NULL, NULL },
	{ "temperror: include answered REFUSED", "192.0.2.10", "mx.example", "ivan@temperror.spf.test",
	  GG_SPF_TEMPERROR, "temperror.spf.test", NULL, NULL },
	{ "HELO check for the null sender: pass", "192.0.2.10", "mx.helo.spf.test", "",
	  GG_SPF_PASS, "mx.helo.spf.test", NULL, NULL },
	{ "HELO check for the null sender: fail", "198.51.100.7", "mx.helo.spf.test", "",
	  GG_SPF_FAIL, "mx.helo.spf.test", NULL, NULL },
	{ "IPv6 client: ip6 pass", "2001:db8::1", "mx.example", "judy@ip6.spf.test",
	  GG_SPF_PASS, "ip6.spf.test", NULL, NULL },
	{ "IPv6 client: ip6 through include", "2001:db8:100::5", "mx.example", "judy@include.spf.test",
	  GG_SPF_PASS, "include.spf.test", NULL, NULL },
	{ "IPv6 client: ip4-only record fails", "2001:db8::1", "mx.example", "judy@pass.spf.test",
	  GG_SPF_FAIL, "pass.spf.test", NULL, NULL },
	{ "mx: first MX's A", "192.0.2.25", "mx.example", "kim@amx.spf.test",
	  GG_SPF_PASS, "amx.spf.test", NULL, NULL },
	{ "mx: second MX's A", "192.0.2.26", "mx.example", "kim@amx.spf.test",
	  GG_SPF_PASS, "amx.spf.test", NULL, NULL },
	{ "mx: MX's AAAA for an IPv6 client", "2001:db8::25", "mx.example", "kim@amx.spf.test",
	  GG_SPF_PASS, "amx.spf.test", NULL, NULL },
	{ "a: named host's A", "198.51.100.80", "mx.example", "kim@amx.spf.test",
	  GG_SPF_PASS, "amx.spf.test", NULL, NULL },
	{ "a/mx: no match fails", "192.0.2.99", "mx.example", "kim@amx.spf.test",
	  GG_SPF_FAIL, "amx.spf.test", NULL, NULL },
	{ "ptr: confirmed name", "192.0.2.66", "mx.example", "lee@ptr.spf.test",
	  GG_SPF_PASS, "ptr.spf.test", NULL, NULL },
	{ "ptr: second of two PTR names", "192.0.2.67", "mx.example", "lee@ptr.spf.test",
	  GG_SPF_PASS, "ptr.spf.test", NULL, NULL },
	{ "ptr: no PTR fails", "192.0.2.68", "mx.example", "lee@ptr.spf.test",
	  GG_SPF_FAIL, "ptr.spf.test", NULL, NULL },
	{ "exists: macro name has an A", "192.0.2.77", "mx.example", "mo@exists.spf.test",
	  GG_SPF_PASS, "exists.spf.test", NULL, NULL },
	{ "exists: macro name missing", "192.0.2.78", "mx.example", "mo@exists.spf.test",
	  GG_SPF_FAIL, "exists.spf.test", NULL, NULL },
	{ "record split into two strings", "192.0.2.10", "mx.example", "ned@split.spf.test",
	  GG_SPF_PASS, "split.spf.test", NULL, NULL },
	{ "TXT through a CNAME", "192.0.2.10", "mx.example", "ned@alias.spf.test",
	  GG_SPF_PASS, "alias.spf.test", NULL, NULL },
	{ "domain is lower-cased", "192.0.2.10", "mx.example", "Alice@PASS.Spf.Test",
	  GG_SPF_PASS, "pass.spf.test", NULL, NULL },
	{ "sender without @ is a domain", "192.0.2.10", "mx.example", "pass.spf.test",
	  GG_SPF_PASS, "pass.spf.test", NULL, NULL },
	{ "single-label domain: none without a query", "192.0.2.10", "mx.example", "root@localhost",
	  GG_SPF_NONE, "", "not a domain SPF can check", NULL },
	{ "address-literal HELO, null sender: none", "192.0.2.10", "[192.0.2.10]", "",
	  GG_SPF_NONE, "", "not a domain SPF can check", NULL },
	{ "null sender without HELO: none", "192.0.2.10", "", "",
	  GG_SPF_NONE, "", "no HELO", NULL },
	{ "control bytes in the sender are cleaned", "198.51.100.7", "mx\r\nX-Evil: 1",
	  "a\x01@pass.spf.test", GG_SPF_FAIL, "pass.spf.test", NULL, NULL },
	{ "loopback client passes without a query", "127.0.0.1", "mx.example", "x@fail.spf.test",
	  GG_SPF_PASS, "fail.spf.test", "localhost", NULL },
};

/* printable - no control bytes or non-ASCII */
static int printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

static struct got zgot[sizeof(zcases) / sizeof(zcases[0])];

static void check_case(const struct zcase *c, const struct got *g)
{
	enum gg_spf_identity want_id = c->sender[0] ? GG_SPF_MAILFROM : GG_SPF_HELO;
	char label[200];
	const char *want_name = gg_spf_result_str(c->want);

	snprintf(label, sizeof(label), "%s", c->label);
	if (g->calls != 1 || g->sync_violation || g->thread_violation) {
		ok(0, label, "callback ran %d times, sync %d, other thread %d", g->calls,
		   g->sync_violation, g->thread_violation);
		return;
	}
	if (g->result != c->want || strcmp(g->domain, c->domain) != 0 || g->identity != want_id ||
	    g->status != GG_OK) {
		ok(0, label, "got %s for '%s' (identity %d, status %s): %s",
		   gg_spf_result_str(g->result), g->domain, g->identity, gg_status_str(g->status),
		   g->comment);
		return;
	}
	if (c->comment_has && strstr(g->comment, c->comment_has) == NULL) {
		ok(0, label, "comment '%s' lacks '%s'", g->comment, c->comment_has);
		return;
	}
	if (c->expl_has && strstr(g->explanation, c->expl_has) == NULL) {
		ok(0, label, "explanation '%s' lacks '%s'", g->explanation, c->expl_has);
		return;
	}
	if (c->want != GG_SPF_FAIL && g->has_explanation) {
		ok(0, label, "explanation for a %s: '%s'", want_name, g->explanation);
		return;
	}
	if (!g->has_received || strncmp(g->received, want_name, strlen(want_name)) != 0 ||
	    g->received[strlen(want_name)] != ' ' || strstr(g->received, "client-ip=") == NULL) {
		ok(0, label, "Received-SPF '%s'", g->received);
		return;
	}
	if (!printable(g->comment) || !printable(g->received) || !printable(g->explanation)) {
		ok(0, label, "unprintable bytes in '%s' / '%s'", g->comment, g->received);
		return;
	}
	ok(1, label, NULL);
}

static void test_zone_cases(const char *dns, const char *which, int nthreads)
{
	struct gg_spf *spf;
	char err[256], label[200];
	size_t i, n = sizeof(zcases) / sizeof(zcases[0]);
	int workers_seen[GG_SPF_MAX_THREADS] = { 0 }, nworkers = 0;
	struct gg_spf_stats st;
	long t0;

	snprintf(label, sizeof(label), "%s: pool of %d threads starts", which, nthreads);
	if (!ok(gg_spf_new(base, nthreads, dns, 3000, "mx.greygate.test", &spf, err,
			   sizeof(err)) == GG_OK, label, "%s", err))
		return;
	t0 = now_ms();
	for (i = 0; i < n; i++)
		if (submit(spf, zcases[i].ip, zcases[i].helo, zcases[i].sender, &zgot[i]) != GG_OK)
			ok(0, zcases[i].label, "gg_spf_check failed");
	snprintf(label, sizeof(label), "%s: all %zu checks answered", which, n);
	ok(run_loop(10000), label, "%d still pending", pending);
	for (i = 0; i < n; i++) {
		check_case(&zcases[i], &zgot[i]);
		if (getenv("T_SPF_VERBOSE") != NULL)
			printf("#   %s: %s domain='%s' comment='%s'%s%s%s\n#     Received-SPF: %s\n",
			       zcases[i].label, gg_spf_result_str(zgot[i].result), zgot[i].domain,
			       zgot[i].comment, zgot[i].has_explanation ? " explanation='" : "",
			       zgot[i].explanation, zgot[i].has_explanation ? "'" : "",
			       zgot[i].received);
		if (zgot[i].worker >= 0 && zgot[i].worker < GG_SPF_MAX_THREADS &&
		    !workers_seen[zgot[i].worker]++)
			nworkers++;
	}
	printf("# %s: %zu checks in %ld ms on %d of %d workers\n", which, n, now_ms() - t0,
	       nworkers, nthreads);
	gg_spf_stats(spf, &st);
	snprintf(label, sizeof(label), "%s: counters", which);
	ok(st.checks == n && st.answered == n && st.queued == 0 && st.running == 0 &&
		   st.queue_full == 0, label, "checks %lu answered %lu queued %u running %u",
	   st.checks, st.answered, st.queued, st.running);
	gg_spf_free(spf);
}

/* Fewer cases over the IPv6 server address syntax. */
static void test_ipv6_server(const char *dns6)
{
	struct gg_spf *spf;
	char err[256];
	struct got p, f;

	if (!ok(gg_spf_new(base, 1, dns6, 3000, NULL, &spf, err, sizeof(err)) == GG_OK,
		"IPv6 server address [::1]:port accepted", "%s", err))
		return;
	submit(spf, "192.0.2.10", "mx.example", "a@pass.spf.test", &p);
	submit(spf, "198.51.100.7", "mx.example", "a@pass.spf.test", &f);
	run_loop(5000);
	ok(p.calls == 1 && p.result == GG_SPF_PASS && f.calls == 1 && f.result == GG_SPF_FAIL,
	   "queries over IPv6 to [::1]", "got %s / %s: %s", gg_spf_result_str(p.result),
	   gg_spf_result_str(f.result), p.comment);
	gg_spf_free(spf);
}

/* An IPv4-mapped IPv6 client built by hand is checked as IPv4. */
static void test_v4mapped(const char *dns4)
{
	static const unsigned char mapped[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
						  192, 0, 2, 10 };
	struct gg_spf *spf;
	struct gg_addr a;
	char err[256];
	struct got g;

	if (!ok(gg_spf_new(base, 1, dns4, 3000, NULL, &spf, err, sizeof(err)) == GG_OK,
		"pool for the mapped-address test starts", "%s", err))
		return;
	memset(&g, 0, sizeof(g));
	a.family = AF_INET6;
	memcpy(a.bytes, mapped, sizeof(mapped));
	if (gg_spf_check(spf, &a, "mx.example", "a@pass.spf.test", on_reply, &g) == GG_OK)
		pending++;
	run_loop(5000);
	ok(g.calls == 1 && g.result == GG_SPF_PASS && strstr(g.received, "client-ip=192.0.2.10;"),
	   "IPv4-mapped IPv6 client matches ip4:", "%s: %s", gg_spf_result_str(g.result),
	   g.received);
	gg_spf_free(spf);
}

/* ------------------------------------------------------------ failures */

static void test_dead_server(void)
{
	struct gg_spf *spf;
	char err[256], servers[64];
	struct got g;
	long t0;

	snprintf(servers, sizeof(servers), "127.0.0.1:%d", udp_port(0, NULL));
	if (!ok(gg_spf_new(base, 1, servers, 3000, NULL, &spf, err, sizeof(err)) == GG_OK,
		"pool on a dead port starts", "%s", err))
		return;
	t0 = now_ms();
	submit(spf, "192.0.2.10", "mx.example", "a@pass.spf.test", &g);
	run_loop(5000);
	ok(g.calls == 1 && g.result == GG_SPF_TEMPERROR && g.status == GG_OK &&
		   now_ms() - t0 < 2000 && g.has_received &&
		   strncmp(g.received, "temperror ", 10) == 0,
	   "dead DNS server: temperror at once (connection refused)",
	   "%d calls, %s, status %s, %ld ms: %s", g.calls, gg_spf_result_str(g.result),
	   gg_status_str(g.status), now_ms() - t0, g.comment);
	gg_spf_free(spf);
}

static void test_deadline(const char *silent)
{
	struct gg_spf *spf;
	char err[256];
	struct got a, b;
	struct gg_spf_stats st;

	if (!ok(gg_spf_new(base, 1, silent, 300, NULL, &spf, err, sizeof(err)) == GG_OK,
		"pool on a silent server starts", "%s", err))
		return;
	submit(spf, "192.0.2.10", "mx.example", "a@pass.spf.test", &a);
	submit(spf, "192.0.2.11", "mx.example", "b@pass.spf.test", &b);
	run_loop(5000);
	ok(a.calls == 1 && a.result == GG_SPF_TEMPERROR && a.status == GG_ETIMEOUT &&
		   a.elapsed_ms >= 280 && a.elapsed_ms < 1000 &&
		   strstr(a.comment, "not finished within 300 ms") != NULL && !a.shutdown,
	   "deadline: a silent server gives temperror after timeout_ms",
	   "%s status %s after %ld ms: %s", gg_spf_result_str(a.result), gg_status_str(a.status),
	   a.elapsed_ms, a.comment);
	ok(b.calls == 1 && b.result == GG_SPF_TEMPERROR && b.status == GG_ETIMEOUT &&
		   b.elapsed_ms < 1000 && strstr(b.comment, "not started within") != NULL,
	   "deadline: time in the queue counts",
	   "%s status %s after %ld ms: %s", gg_spf_result_str(b.result), gg_status_str(b.status),
	   b.elapsed_ms, b.comment);
	gg_spf_stats(spf, &st);
	ok(st.deadline == 2 && st.answered == 2, "deadline: counted",
	   "deadline %lu answered %lu", st.deadline, st.answered);
	gg_spf_free(spf);
}

static void test_parallel(const char *silent)
{
	struct gg_spf *spf;
	char err[256];
	struct got a, b;

	if (!ok(gg_spf_new(base, 2, silent, 500, NULL, &spf, err, sizeof(err)) == GG_OK,
		"pool of 2 threads on a silent server starts", "%s", err))
		return;
	submit(spf, "192.0.2.10", "mx.example", "a@pass.spf.test", &a);
	submit(spf, "192.0.2.11", "mx.example", "b@pass.spf.test", &b);
	run_loop(5000);
	/* Each waited out its own deadline on its own thread: both "not finished". */
	ok(a.calls == 1 && b.calls == 1 && a.worker >= 0 && b.worker >= 0 && a.worker != b.worker &&
		   strstr(a.comment, "not finished") != NULL &&
		   strstr(b.comment, "not finished") != NULL,
	   "two checks run at the same time on two workers", "workers %d and %d: '%s' / '%s'",
	   a.worker, b.worker, a.comment, b.comment);
	gg_spf_free(spf);
}

static void test_queue_full(const char *silent)
{
	struct gg_spf *spf;
	char err[256];
	struct got g[5];
	struct gg_spf_stats st;
	int i, full = 0, waiting = 0, sync = 0;

	if (!ok(gg_spf_new(base, 1, silent, 5000, NULL, &spf, err, sizeof(err)) == GG_OK,
		"pool for the queue test starts", "%s", err))
		return;
	gg_spf_set_queue_max(spf, 2);
	submit(spf, "192.0.2.10", "mx.example", "a@pass.spf.test", &g[0]);
	if (!ok(wait_running(spf, 1, 2000), "the worker takes the first check", NULL)) {
		gg_spf_free(spf);
		run_loop(100);
		return;
	}
	for (i = 1; i < 5; i++)
		if (submit(spf, "192.0.2.10", "mx.example", "a@pass.spf.test", &g[i]) != GG_OK)
			ok(0, "queue full: gg_spf_check returns GG_OK", NULL);
	for (i = 0; i < 5; i++)
		sync += g[i].calls;
	ok(sync == 0, "queue full: no callback inside gg_spf_check", "%d ran", sync);
	run_for(200);
	for (i = 0; i < 5; i++) {
		if (g[i].calls == 1 && g[i].result == GG_SPF_TEMPERROR && g[i].status == GG_ETOOBIG &&
		    strstr(g[i].comment, "queue full") != NULL && !g[i].sync_violation &&
		    g[i].has_received)
			full++;
		else if (g[i].calls == 0)
			waiting++;
	}
	ok(full == 2 && waiting == 3 && g[3].calls == 1 && g[4].calls == 1,
	   "queue full: the checks beyond the bound fail open at once, from the loop",
	   "%d answered queue-full, %d waiting", full, waiting);
	gg_spf_stats(spf, &st);
	ok(st.queue_full == 2 && st.queued == 2 && st.running == 1 && st.queue_max == 2,
	   "queue full: counters", "full %lu queued %u running %u", st.queue_full, st.queued,
	   st.running);
	/* Shutting down answers the three still there. */
	gg_spf_free(spf);
	ok(g[0].calls == 1 && g[1].calls == 1 && g[2].calls == 1 && g[0].shutdown &&
		   g[1].shutdown && g[2].shutdown,
	   "queue full: the rest are answered by gg_spf_free", NULL);
	pending = 0;
}

static void test_shutdown(const char *silent)
{
	struct gg_spf *spf;
	char err[256];
	struct got g[6];
	int i, stopped = 0, not_started = 0, once = 1, thread_ok = 1;
	long t0, took;

	if (!ok(gg_spf_new(base, 2, silent, 10000, NULL, &spf, err, sizeof(err)) == GG_OK,
		"pool for the shutdown test starts", "%s", err))
		return;
	for (i = 0; i < 6; i++)
		submit(spf, "192.0.2.10", "mx.example", "a@pass.spf.test", &g[i]);
	ok(wait_running(spf, 2, 2000), "shutdown: two checks in flight", NULL);
	t0 = now_ms();
	gg_spf_free(spf);
	took = now_ms() - t0;
	for (i = 0; i < 6; i++) {
		once &= g[i].calls == 1 && g[i].result == GG_SPF_TEMPERROR && g[i].shutdown;
		thread_ok &= !g[i].thread_violation;
		if (g[i].status == GG_EIO && strstr(g[i].comment, "stopped: shutting down"))
			stopped++;
		if (g[i].status == GG_EIO && strstr(g[i].comment, "not started: shutting down"))
			not_started++;
	}
	ok(took < 1000, "shutdown: gg_spf_free cuts DNS waits short", "took %ld ms", took);
	ok(once && thread_ok && stopped == 2 && not_started == 4,
	   "shutdown: every check answered once, temperror, shutdown set",
	   "once %d, %d stopped, %d not started", once, stopped, not_started);
	pending = 0;
	run_for(50);
	once = 1;
	for (i = 0; i < 6; i++)
		once &= g[i].calls == 1;
	ok(once, "shutdown: no callback after gg_spf_free", NULL);
}

int main(int argc, char **argv)
{
	char silent[64];
	int silent_fd = -1;

	if (argc < 2) {
		fprintf(stderr, "usage: t_spf 127.0.0.1:PORT [[::1]:PORT]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	main_thread = pthread_self();
	if ((base = event_base_new()) == NULL) {
		fprintf(stderr, "t_spf: event_base_new failed\n");
		return 2;
	}
	snprintf(silent, sizeof(silent), "127.0.0.1:%d", udp_port(1, &silent_fd));

	test_weights();
	test_arguments(argv[1]);
	test_zone_cases(argv[1], "IPv4 server", 3);
	if (argc > 2)
		test_ipv6_server(argv[2]);
	test_v4mapped(argv[1]);
	test_dead_server();
	test_deadline(silent);
	test_parallel(silent);
	test_queue_full(silent);
	test_shutdown(silent);

	close(silent_fd);
	event_base_free(base);
	printf("# %d passed, %d failed\n", npass, nfail);
	return nfail ? 1 : 0;
}

/*
 * main.c - greyprobe: the outbound-side greylisting and retry tester
 *
 *   greyprobe send --from ADDR --to ADDR [--server HOST[:PORT]] [--port N]
 *                  [--dns-server IP[:PORT],...] [--helo NAME] [--schedule LIST]
 *                  [--max-time DUR] [--timeout DUR] [--verify-only] [--data FILE]
 *                  [--json] [-v] [-q] [-4 | -6] [--seed N]
 *   greyprobe listen --listen ADDR:PORT [--defer-first N | --defer-for DUR]
 *                  [--reply TEXT] [--max-connections N] [--busy-reply TEXT]
 *                  [--reject-rcpt PATTERN]... [--save DIR] [--log FILE.jsonl]
 *                  [--duration DUR] [--timeout DUR] [--max-size N] [--hostname NAME] [-q]
 *
 * This file only reads and checks the command line, then hands over to
 * probe.c (send) or listen.c (listen) and turns their result into the
 * exit status: for send 0 delivered or verified, 1 permanently refused,
 * 2 still deferred when time ran out, 3 no mail server reachable; for
 * both 64 usage error, 66 unreadable --data file, 69 DNS or socket set-up
 * failure, 70 internal error, 73 --log or --save not writable.
 */
#include <getopt.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "greyprobe/dur.h"
#include "greyprobe/listen.h"
#include "greyprobe/message.h"
#include "greyprobe/probe.h"
#include "greyprobe/report.h"
#include "dns/resolver.h"
#include "greyprobe/schedule.h"
#include "lib/hostname.h"
#include "lib/hostport.h"
#include "lib/util.h"

#define PROG "greyprobe"
#define VERSION "0.1.0"
#define EX_USAGE 64
#define EX_NOINPUT 66
#define EX_UNAVAILABLE 69
#define EX_SOFTWARE 70

#define DEFAULT_MAX_TIME "1h"
#define DEFAULT_TIMEOUT "30s"
#define DEFAULT_DNS_TIMEOUT "5s"
#define DEFAULT_LISTEN_TIMEOUT "300s"
#define DEFAULT_BUSY "421 4.7.0 Too many connections, try again later"

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: %s send --from ADDR --to ADDR [--server HOST[:PORT]] [--port N]\n"
		"           [--dns-server IP[:PORT],...] [--helo NAME] [--schedule LIST]\n"
		"           [--max-time DUR] [--timeout DUR] [--dns-timeout DUR] [--verify-only]\n"
		"           [--data FILE] [--json] [-v] [-q] [-4 | -6] [--seed N]\n"
		"       %s listen --listen ADDR:PORT [--listen ADDR:PORT]...\n"
		"           [--defer-first N | --defer-for DUR] [--reply TEXT]\n"
		"           [--max-connections N] [--busy-reply TEXT] [--reject-rcpt PATTERN]...\n"
		"           [--save DIR] [--log FILE.jsonl] [--duration DUR] [--timeout DUR]\n"
		"           [--max-size BYTES] [--hostname NAME] [-q]\n"
		"       %s --help | --version\n", PROG, PROG, PROG);
}

/* san - a sanitised copy of a command line argument, for messages */
static const char *san(const char *arg)
{
	static char buf[2][120];
	static int which;

	which ^= 1;
	return gg_sanitize(buf[which], sizeof(buf[which]), arg, strlen(arg), 100);
}

/* die_usage - report a command line error; returns EX_USAGE */
static int die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int die_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", PROG);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EX_USAGE;
}

/* dur_arg - a duration option in ms */
static int dur_arg(const char *opt, const char *s, long max_ms, long *out)
{
	enum gg_status st = gg_dur_parse(s, max_ms, out);

	if (st == GG_OK)
		return 0;
	return die_usage("%s '%s': %s", opt, san(s),
			 st == GG_ETOOBIG ? "too long" : "not a duration (e.g. 30s, 5m, 1h30m)");
}

/* dur_arg_min - a duration option in ms, at least min_ms */
static int dur_arg_min(const char *opt, const char *s, long min_ms, long max_ms, long *out)
{
	int rc = dur_arg(opt, s, max_ms, out);

	if (rc == 0 && *out < min_ms)
		return die_usage("%s '%s': at least %ldms", opt, san(s), min_ms);
	return rc;
}

/*
 * address_ok - an envelope address we are willing to send: printable
 * ASCII or UTF-8, no spaces or angle brackets, one '@' with a local part
 * and a domain (a name or an address literal).  Writes the domain to
 * domain[size].
 */
static int address_ok(const char *a, char *domain, size_t size)
{
	const char *at = strrchr(a, '@');
	size_t i, len = strlen(a);
	struct gg_addr lit;

	if (len == 0 || len > 254 || at == NULL || at == a || at[1] == '\0')
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)a[i];
		if (c <= 0x20 || c == 0x7f || c == '<' || c == '>')
			return 0;
	}
	if (at - a > 64)
		return 0;
	if (gg_strcpy(domain, size, at + 1) != GG_OK)
		return 0;
	if (domain[0] == '[')
		return gg_mx_parse_literal(domain, &lit) == GG_OK;
	len = strlen(domain);
	if (len > 1 && domain[len - 1] == '.')
		domain[len - 1] = '\0';
	return gg_hostname_valid(domain, GG_HOSTNAME_DOT);
}

/* parse_server - HOST, HOST:PORT, [IPV6]:PORT, [IPV6] or a bare IPv6 address */
static int parse_server(const char *s, char *host, size_t size, unsigned *port)
{
	struct gg_hostport hp;

	if (gg_hostport_parse(s, GG_HOSTPORT_NAME | GG_HOSTPORT_PORT_OPT | GG_HOSTPORT_BARE_V6,
			      *port, &hp, NULL) != GG_OK || gg_strcpy(host, size, hp.host) != GG_OK)
		return -1;
	*port = hp.port;
	return 0;
}

/* ---------------------------------------------------------------- send */

struct rng {
	unsigned long long s;
};

/* rng_next - xorshift64*: only for shuffling equal MX preferences */
static unsigned long rng_next(void *arg)
{
	struct rng *r = arg;

	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return (unsigned long)((r->s * 2685821657736338717ULL) >> 32);
}

struct send_run {
	struct event_base *base;
	struct gg_probe *probe;
	int done;
};

/* send_done - the probe is over: leave the loop */
static void send_done(struct gg_report *rep, void *arg)
{
	struct send_run *run = arg;

	(void)rep;
	run->done = 1;
	event_base_loopbreak(run->base);
}

/* send_signal - SIGINT or SIGTERM: end the probe with what it has */
static void send_signal(evutil_socket_t fd, short what, void *arg)
{
	struct send_run *run = arg;

	(void)fd;
	(void)what;
	if (run->probe != NULL)
		gg_probe_stop(run->probe);
}

/* needs_dns - will this probe ask DNS anything? */
static int needs_dns(const char *server, const char *domain)
{
	struct gg_addr a;

	if (server != NULL)
		return gg_addr_parse(server, &a) != GG_OK;
	return gg_mx_parse_literal(domain, &a) != GG_OK;
}

/* What send was asked to do: its options, checked. */
struct send_args {
	const char *from, *to, *server, *dns, *helo, *schedule, *data;
	char domain[GG_DNS_NAME_MAX + 3], fromdom[GG_DNS_NAME_MAX + 3];
	char host[GG_DNS_NAME_MAX + 1], hostname[256];
	long max_time, timeout, dns_timeout, seed;
	unsigned server_port, port;
	int json, verbose, quiet, family, verify;
};

/* One probe: its parameters, its report, the message and the shuffling source. */
struct send_job {
	struct gg_probe_params pp;
	struct gg_report rep;
	struct rng rng;
	char *msg;
	size_t msglen;
};

/* send_option - one send option into *a; -1 to go on, else the exit status */
static int send_option(struct send_args *a, int opt, const char *arg)
{
	long v;
	int rc;

	switch (opt) {
	case 'f': a->from = arg; break;
	case 't': a->to = arg; break;
	case 'S': a->server = arg; break;
	case 'p':
		if (gg_parse_long(arg, 1, 65535, &v) != GG_OK)
			return die_usage("--port '%s': not a port (1-65535)", san(arg));
		a->port = (unsigned)v;
		break;
	case 'D': a->dns = arg; break;
	case 'H': a->helo = arg; break;
	case 's': a->schedule = arg; break;
	case 'm':
		if ((rc = dur_arg("--max-time", arg, GG_DUR_MAX_MS, &a->max_time)) != 0)
			return rc;
		break;
	case 'T':
		if ((rc = dur_arg_min("--timeout", arg, 10, 3600L * 1000, &a->timeout)) != 0)
			return rc;
		break;
	case 'd':
		if ((rc = dur_arg_min("--dns-timeout", arg, GG_RESOLVER_MIN_TIMEOUT_MS,
				      GG_RESOLVER_MAX_TIMEOUT_MS, &a->dns_timeout)) != 0)
			return rc;
		break;
	case 'V': a->verify = 1; break;
	case 'F': a->data = arg; break;
	case 'j': a->json = 1; break;
	case 'v': a->verbose = 1; break;
	case 'q': a->quiet = 1; break;
	case '4': a->family = 4; break;
	case '6': a->family = 6; break;
	case 'R':
		if (gg_parse_long(arg, 0, 0x7fffffffL, &a->seed) != GG_OK)
			return die_usage("--seed '%s': not a number", san(arg));
		break;
	case 'h': usage(stdout); return 0;
	default: usage(stderr); return EX_USAGE;
	}
	return -1;
}

/* helo_ok - a host name, or an address literal "[192.0.2.1]" (a valid EHLO argument too) */
static int helo_ok(const char *helo)
{
	struct gg_addr a;
	size_t hl = strlen(helo);

	if (gg_hostname_valid(helo, GG_HOSTNAME_DOT))
		return 1;
	return hl >= 3 && helo[0] == '[' && helo[hl - 1] == ']' && gg_addr_parse(helo, &a) == GG_OK;
}

/* send_check - the options together; -1 to go on, else the exit status */
static int send_check(struct send_args *a)
{
	if (a->from == NULL || a->to == NULL) {
		usage(stderr);
		return die_usage("send needs --from and --to");
	}
	if (a->from[0] != '\0' && !address_ok(a->from, a->fromdom, sizeof(a->fromdom)))
		return die_usage("--from '%s': not a usable address (\"\" is the null sender)",
				 san(a->from));
	if (!address_ok(a->to, a->domain, sizeof(a->domain)))
		return die_usage("--to '%s': not a usable address", san(a->to));
	if (a->server != NULL &&
	    parse_server(a->server, a->host, sizeof(a->host), &a->server_port) != 0)
		return die_usage("--server '%s': expected HOST, HOST:PORT or [IPV6]:PORT",
				 san(a->server));
	if (a->server_port == 0)
		a->server_port = a->port;
	if (a->verify && a->data != NULL)
		return die_usage("--verify-only sends no message: drop --data");
	if (a->helo == NULL) {
		if (gethostname(a->hostname, sizeof(a->hostname)) != 0 || a->hostname[0] == '\0')
			gg_strcpy(a->hostname, sizeof(a->hostname), "localhost");
		a->hostname[sizeof(a->hostname) - 1] = '\0';
		a->helo = a->hostname;
	}
	if (!helo_ok(a->helo))
		return die_usage("--helo '%s': not a host name or address literal", san(a->helo));
	return -1;
}

/* send_parse - the send command line into *a; -1 to go on, else the exit status */
static int send_parse(int argc, char **argv, struct send_args *a)
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "server", required_argument, NULL, 'S' },
		{ "port", required_argument, NULL, 'p' },
		{ "dns-server", required_argument, NULL, 'D' },
		{ "helo", required_argument, NULL, 'H' },
		{ "schedule", required_argument, NULL, 's' },
		{ "max-time", required_argument, NULL, 'm' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "dns-timeout", required_argument, NULL, 'd' },
		{ "verify-only", no_argument, NULL, 'V' },
		{ "data", required_argument, NULL, 'F' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "seed", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, rc;

	memset(a, 0, sizeof(*a));
	a->dns = "";
	a->schedule = GG_SCHEDULE_DEFAULT;
	a->seed = -1;
	a->port = 25;
	dur_arg("--max-time", DEFAULT_MAX_TIME, GG_DUR_MAX_MS, &a->max_time);
	dur_arg("--timeout", DEFAULT_TIMEOUT, GG_DUR_MAX_MS, &a->timeout);
	dur_arg("--dns-timeout", DEFAULT_DNS_TIMEOUT, GG_DUR_MAX_MS, &a->dns_timeout);
	while ((opt = getopt_long(argc, argv, "vq46h", opts, NULL)) != -1)
		if ((rc = send_option(a, opt, optarg)) >= 0)
			return rc;
	if (optind != argc)
		return die_usage("unexpected argument '%s'", san(argv[optind]));
	return send_check(a);
}

/* send_prepare - schedule, report header, message; -1 to go on, else the exit status */
static int send_prepare(const struct send_args *a, struct send_job *j)
{
	char err[256];
	enum gg_status st;

	if (gg_schedule_parse(a->schedule, &j->pp.schedule, err, sizeof(err)) != GG_OK) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		return EX_USAGE;
	}
	if (gg_schedule_delay(&j->pp.schedule, 0) > a->max_time)
		return die_usage("--schedule '%s': the first attempt would come after --max-time",
				 san(a->schedule));
	gg_schedule_format(&j->pp.schedule, j->rep.schedule, sizeof(j->rep.schedule));
	gg_message_id(j->rep.id);
	j->rep.start = time(NULL);
	if (!a->verify) {
		if (a->data != NULL)
			st = gg_message_file(a->data, &j->msg, &j->msglen, err, sizeof(err));
		else
			st = gg_message_probe(a->from, a->to, j->rep.id, a->helo, j->rep.start,
					      &j->msg, &j->msglen);
		if (st != GG_OK) {
			fprintf(stderr, "%s: %s\n", PROG,
				a->data != NULL ? err : "cannot build the message");
			return a->data != NULL ? EX_NOINPUT : EX_SOFTWARE;
		}
	}
	gg_strcpy(j->rep.from, sizeof(j->rep.from), a->from);
	gg_strcpy(j->rep.to, sizeof(j->rep.to), a->to);
	gg_strcpy(j->rep.domain, sizeof(j->rep.domain), a->domain);
	if (a->server != NULL)
		snprintf(j->rep.server, sizeof(j->rep.server),
			 strchr(a->host, ':') ? "[%s]:%u" : "%s:%u", a->host, a->server_port);
	j->rep.port = a->port;
	j->rep.max_time = (double)a->max_time / 1000.0;
	j->rep.verify_only = a->verify;
	return -1;
}

/* send_params - the probe's parameters from the options and the message */
static void send_params(const struct send_args *a, struct send_job *j)
{
	struct gg_probe_params *pp = &j->pp;

	pp->send.helo = a->helo;
	pp->send.from = a->from;
	pp->send.to = a->to;
	pp->send.msg = j->msg;
	pp->send.msglen = j->msglen;
	pp->send.verify_only = a->verify;
	pp->send.timeout_ms = a->timeout;
	pp->send.keep_dialogue = a->verbose;
	pp->domain = a->domain;
	pp->server = a->server != NULL ? a->host : NULL;
	pp->server_port = a->server_port;
	pp->port = a->port;
	pp->family = a->family;
	pp->max_time_ms = a->max_time;
	if (a->seed < 0) {
		char idbits[GG_MESSAGE_ID_LEN + 1];
		gg_message_id(idbits);
		j->rng.s = strtoull(idbits, NULL, 16) | 1;
	} else {
		j->rng.s = (unsigned long long)a->seed * 0x9e3779b97f4a7c15ULL + 1;
	}
	pp->rnd = rng_next;
	pp->rarg = &j->rng;
	pp->live = !a->quiet && !a->json;
}

/* send_print - the report on stdout; the exit status it stands for */
static int send_print(const struct send_args *a, const struct gg_report *rep)
{
	if (a->json)
		gg_report_json(stdout, rep, a->verbose);
	else
		gg_report_print(stdout, rep, a->verbose);
	fflush(stdout);
	return gg_report_exit_code(rep);
}

/* send_run - the loop, DNS and signals around the probe, then the report; the exit status */
static int send_run(const struct send_args *a, struct send_job *j)
{
	struct gg_resolver *res = NULL;
	struct send_run run = { 0 };
	struct event *sigint = NULL, *sigterm = NULL;
	char err[256];
	int rc = EX_SOFTWARE;

	if ((run.base = event_base_new()) == NULL) {
		fprintf(stderr, "%s: cannot create the event loop\n", PROG);
		goto out;
	}
	if (needs_dns(j->pp.server, a->domain) &&
	    gg_resolver_new(run.base, a->dns, a->dns_timeout, &res, err, sizeof(err)) != GG_OK) {
		fprintf(stderr, "%s: --dns-server: %s\n", PROG, err);
		rc = strstr(err, "dns_servers:") != NULL ? EX_USAGE : EX_UNAVAILABLE;
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);
	if ((sigint = evsignal_new(run.base, SIGINT, send_signal, &run)) == NULL ||
	    (sigterm = evsignal_new(run.base, SIGTERM, send_signal, &run)) == NULL ||
	    evsignal_add(sigint, NULL) != 0 || evsignal_add(sigterm, NULL) != 0) {
		fprintf(stderr, "%s: cannot watch signals\n", PROG);
		goto out;
	}
	if (gg_probe_start(run.base, res, &j->pp, &j->rep, send_done, &run, &run.probe) != GG_OK) {
		fprintf(stderr, "%s: cannot start the probe\n", PROG);
		goto out;
	}
	event_base_dispatch(run.base);
	if (!run.done) {
		fprintf(stderr, "%s: the event loop stopped early\n", PROG);
		goto out;
	}
	rc = send_print(a, &j->rep);
out:
	gg_probe_free(run.probe);
	gg_resolver_free(res);
	if (sigint != NULL)
		event_free(sigint);
	if (sigterm != NULL)
		event_free(sigterm);
	if (run.base != NULL)
		event_base_free(run.base);
	return rc;
}

/* cmd_send - greyprobe send */
static int cmd_send(int argc, char **argv)
{
	struct send_args a;
	struct send_job j;
	int rc;

	if ((rc = send_parse(argc, argv, &a)) >= 0)
		return rc;
	memset(&j, 0, sizeof(j));
	gg_report_init(&j.rep);
	if ((rc = send_prepare(&a, &j)) < 0) {
		send_params(&a, &j);
		rc = send_run(&a, &j);
	}
	gg_report_free(&j.rep);
	free(j.msg);
	return rc;
}

/* ---------------------------------------------------------------- listen */

/* What listen was asked to do: the receiver's parameters, and what checks them together. */
struct listen_args {
	struct gg_listen_params lp;
	int have_first;		/* --defer-first given */
	char hostname[256];
};

/* listen_option - one listen option into *a; -1 to go on, else the exit status */
static int listen_option(struct listen_args *a, int opt, const char *arg)
{
	struct gg_listen_params *lp = &a->lp;
	char host[64];
	unsigned port;
	long v;
	int rc;

	switch (opt) {
	case 'l':
		if (lp->nlisten >= GG_LISTEN_MAX_ADDRS)
			return die_usage("too many --listen addresses (at most 8)");
		if (gg_listen_parse_addr(arg, host, sizeof(host), &port) != 0)
			return die_usage("--listen '%s': expected ADDR:PORT or [IPV6]:PORT "
					 "(numeric)", san(arg));
		lp->listen[lp->nlisten++] = arg;
		break;
	case 'n':
		if (gg_parse_long(arg, 0, 1000000, &lp->track.defer_first) != GG_OK)
			return die_usage("--defer-first '%s': not a count (0-1000000)", san(arg));
		a->have_first = 1;
		break;
	case 'F':
		if ((rc = dur_arg("--defer-for", arg, GG_DUR_MAX_MS, &lp->track.defer_for_ms)))
			return rc;
		if (lp->track.defer_for_ms == 0)
			return die_usage("--defer-for '%s': must be more than 0", san(arg));
		break;
	case 'r':
		if (gg_track_check_reply(arg, 0) != GG_OK)
			return die_usage("--reply '%s': expected \"4xx text\" or \"5xx text\" "
					 "(printable ASCII, one line)", san(arg));
		lp->track.reply = arg;
		break;
	case 'c':
		if (gg_parse_long(arg, 1, 100000, &lp->max_connections) != GG_OK)
			return die_usage("--max-connections '%s': not a count (1-100000)", san(arg));
		break;
	case 'b':
		if (gg_track_check_reply(arg, 4) != GG_OK)
			return die_usage("--busy-reply '%s': expected \"4xx text\"", san(arg));
		lp->busy_reply = arg;
		break;
	case 'x':
		if (lp->track.nreject >= GG_TRACK_MAX_REJECT)
			return die_usage("too many --reject-rcpt patterns (at most 16)");
		lp->track.reject[lp->track.nreject++] = arg;
		break;
	case 's': lp->save_dir = arg; break;
	case 'L': lp->log_path = arg; break;
	case 'd':
		if ((rc = dur_arg("--duration", arg, GG_DUR_MAX_MS, &lp->duration_ms)) != 0)
			return rc;
		break;
	case 'T':
		if ((rc = dur_arg_min("--timeout", arg, 100, 3600L * 1000, &lp->timeout_ms)) != 0)
			return rc;
		break;
	case 'z':
		if (gg_parse_long(arg, 1, 1024L * 1024 * 1024, &v) != GG_OK)
			return die_usage("--max-size '%s': not a size in bytes", san(arg));
		lp->max_size = v;
		break;
	case 'H':
		if (!gg_hostname_valid(arg, GG_HOSTNAME_DOT))
			return die_usage("--hostname '%s': not a host name", san(arg));
		lp->hostname = arg;
		break;
	case 'q': lp->quiet = 1; break;
	case 'h': usage(stdout); return 0;
	default: usage(stderr); return EX_USAGE;
	}
	return -1;
}

/* listen_parse - the listen command line into *a; -1 to go on, else the exit status */
static int listen_parse(int argc, char **argv, struct listen_args *a)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "defer-first", required_argument, NULL, 'n' },
		{ "defer-for", required_argument, NULL, 'F' },
		{ "reply", required_argument, NULL, 'r' },
		{ "max-connections", required_argument, NULL, 'c' },
		{ "busy-reply", required_argument, NULL, 'b' },
		{ "reject-rcpt", required_argument, NULL, 'x' },
		{ "save", required_argument, NULL, 's' },
		{ "log", required_argument, NULL, 'L' },
		{ "duration", required_argument, NULL, 'd' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "max-size", required_argument, NULL, 'z' },
		{ "hostname", required_argument, NULL, 'H' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct gg_listen_params *lp = &a->lp;
	int opt, rc;

	memset(a, 0, sizeof(*a));
	lp->track.defer_first = 1;
	lp->busy_reply = DEFAULT_BUSY;
	lp->max_size = 10L * 1024 * 1024;
	dur_arg("--timeout", DEFAULT_LISTEN_TIMEOUT, GG_DUR_MAX_MS, &lp->timeout_ms);
	while ((opt = getopt_long(argc, argv, "qh", opts, NULL)) != -1)
		if ((rc = listen_option(a, opt, optarg)) >= 0)
			return rc;
	if (optind != argc)
		return die_usage("unexpected argument '%s'", san(argv[optind]));
	if (lp->nlisten == 0) {
		usage(stderr);
		return die_usage("listen needs --listen ADDR:PORT");
	}
	if (a->have_first && lp->track.defer_for_ms > 0)
		return die_usage("--defer-first and --defer-for exclude each other");
	if (lp->hostname == NULL) {
		if (gethostname(a->hostname, sizeof(a->hostname)) != 0 ||
		    !gg_hostname_valid(a->hostname, GG_HOSTNAME_DOT))
			gg_strcpy(a->hostname, sizeof(a->hostname), "greyprobe.invalid");
		lp->hostname = a->hostname;
	}
	return -1;
}

/* cmd_listen - greyprobe listen: run the receiver, say why it failed */
static int cmd_listen(int argc, char **argv)
{
	struct listen_args a;
	char err[300];
	int rc;

	if ((rc = listen_parse(argc, argv, &a)) >= 0)
		return rc;
	err[0] = '\0';
	rc = gg_listen_run(&a.lp, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "%s: %s\n", PROG, err[0] ? err : "failed");
	return rc;
}

/* ---------------------------------------------------------------- main */

/* The commands: each reads its own options. */
static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
} commands[] = {
	{ "send", cmd_send },
	{ "listen", cmd_listen },
};

/* main - the command, or --help / --version */
int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return EX_USAGE;
	}
	for (i = 0; i < GG_ARRAY_LEN(commands); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("%s %s\n", PROG, VERSION);
		return 0;
	}
	usage(stderr);
	return EX_USAGE;
}

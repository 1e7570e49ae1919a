/*
 * listen.c - greyprobe listen's listeners and its run (see listen.h)
 *
 * gg_listen_run() checks --save and --log, binds every --listen address,
 * writes the log's start line, and runs the loop until SIGINT, SIGTERM or
 * the end of --duration; then it stops accepting and prints the summary.
 * Each accepted socket becomes a session (session.c), whose commands are
 * command.c's.  Running out of descriptors pauses the listeners for a
 * second instead of spinning on accept().
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "lib/addr.h"
#include "lib/clock.h"
#include "lib/hostport.h"
#include "lib/json.h"
#include "greyprobe/listen.h"
#include "greyprobe/session.h"
#include "lib/util.h"

/* accept_cb - a new connection */
static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
		      int socklen, void *arg)
{
	(void)l;
	(void)socklen;
	gg_session_accept(arg, fd, sa);
}

/* resume_cb - listen again after running out of descriptors */
static void resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gg_listen_server *srv = arg;
	size_t i;

	(void)fd;
	(void)what;
	for (i = 0; i < srv->nls; i++)
		evconnlistener_enable(srv->ls[i]);
}

/* accept_error_cb - EMFILE and friends: pause a second instead of spinning */
static void accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct gg_listen_server *srv = arg;
	struct timeval tv = { 1, 0 };
	size_t i;

	(void)l;
	fprintf(stderr, "greyprobe listen: accept: %s; pausing for a second\n", strerror(errno));
	for (i = 0; i < srv->nls; i++)
		evconnlistener_disable(srv->ls[i]);
	evtimer_add(srv->resume, &tv);
}

/* stop_cb - a signal or the end of --duration */
static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gg_listen_server *srv = arg;

	(void)fd;
	(void)what;
	event_base_loopbreak(srv->base);
}

/* gg_listen_parse_addr - numeric ADDR:PORT or [ADDR]:PORT, port 0 allowed */
int gg_listen_parse_addr(const char *s, char *host, size_t hostsize, unsigned *port)
{
	struct gg_hostport hp;

	if (gg_hostport_parse(s, GG_HOSTPORT_BARE_V6 | GG_HOSTPORT_PORT0, 0, &hp, NULL) != GG_OK ||
	    gg_strcpy(host, hostsize, hp.host) != GG_OK)
		return -1;
	*port = hp.port;
	return 0;
}

/* bind_one - a listener on one address */
static int bind_one(struct gg_listen_server *srv, const char *spec, char *err, size_t errsize)
{
	char shown[80];
	struct gg_hostport hp;
	struct sockaddr_storage ss;
	socklen_t len;
	unsigned port;
	struct evconnlistener *l;

	gg_sanitize(shown, sizeof(shown), spec, strlen(spec), 60);
	if (gg_hostport_parse(spec, GG_HOSTPORT_BARE_V6 | GG_HOSTPORT_PORT0, 0, &hp, NULL) != GG_OK) {
		snprintf(err, errsize, "--listen '%s': expected ADDR:PORT or [IPV6]:PORT", shown);
		return 64;
	}
	/* As written (lib/hostport): an IPv4-mapped IPv6 address is bound as IPv6. */
	ss = hp.ss;
	len = hp.sslen;
	l = evconnlistener_new_bind(srv->base, accept_cb, srv,
				    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
				    128, (struct sockaddr *)&ss, (int)len);
	if (l == NULL) {
		snprintf(err, errsize, "--listen %s: cannot listen: %s", shown, strerror(errno));
		return 69;
	}
	evconnlistener_set_error_cb(l, accept_error_cb);
	srv->ls[srv->nls++] = l;
	if (getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&ss, &len) == 0 &&
	    !srv->p->quiet) {
		char shown_host[GG_ADDR_STRLEN];
		gg_session_addr_str((struct sockaddr *)&ss, shown_host, sizeof(shown_host));
		port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
			     : ((struct sockaddr_in6 *)&ss)->sin6_port);
		fprintf(stderr, strchr(shown_host, ':') ? "greyprobe listen: listening on [%s]:%u\n"
			: "greyprobe listen: listening on %s:%u\n", shown_host, port);
	}
	return 0;
}

/* open_outputs - check --save, open --log; 0 or 73 */
static int open_outputs(struct gg_listen_server *srv, char *err, size_t errsize)
{
	const struct gg_listen_params *p = srv->p;
	struct stat st;

	if (p->save_dir != NULL &&
	    (stat(p->save_dir, &st) != 0 || !S_ISDIR(st.st_mode) || access(p->save_dir, W_OK) != 0)) {
		snprintf(err, errsize, "--save %s: not a writable directory", p->save_dir);
		return 73;
	}
	if (p->log_path != NULL && (srv->log = fopen(p->log_path, "a")) == NULL) {
		snprintf(err, errsize, "--log %s: %s", p->log_path, strerror(errno));
		return 73;
	}
	return 0;
}

/* set_up - the loop, the tracker, the signals and timers; 0 or -1 */
static int set_up(struct gg_listen_server *srv)
{
	if ((srv->base = event_base_new()) == NULL ||
	    gg_track_new(&srv->p->track, srv->log, time(NULL), &srv->track) != GG_OK ||
	    (srv->sigint = evsignal_new(srv->base, SIGINT, stop_cb, srv)) == NULL ||
	    (srv->sigterm = evsignal_new(srv->base, SIGTERM, stop_cb, srv)) == NULL ||
	    (srv->stop_timer = evtimer_new(srv->base, stop_cb, srv)) == NULL ||
	    (srv->resume = evtimer_new(srv->base, resume_cb, srv)) == NULL)
		return -1;
	return 0;
}

/* log_start - the JSONL log's first line: what this run listens on and defers */
static void log_start(struct gg_listen_server *srv)
{
	const struct gg_listen_params *p = srv->p;
	char when[40] = "";
	time_t t = time(NULL);
	struct tm tm;
	size_t i;

	if (srv->log == NULL)
		return;
	if (gmtime_r(&t, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
	fprintf(srv->log, "{\"time\":\"%s\",\"t\":0.000,\"event\":\"start\",\"listen\":[", when);
	for (i = 0; i < p->nlisten; i++) {
		fprintf(srv->log, "%s", i ? "," : "");
		gg_json_str(srv->log, p->listen[i]);
	}
	fprintf(srv->log, "],\"defer_first\":%ld,\"defer_for\":%.3f}\n", p->track.defer_first,
		(double)p->track.defer_for_ms / 1000.0);
	fflush(srv->log);
}

/* serve - run until a signal or the end of --duration, then the summary */
static void serve(struct gg_listen_server *srv)
{
	size_t i;

	evsignal_add(srv->sigint, NULL);
	evsignal_add(srv->sigterm, NULL);
	if (srv->p->duration_ms > 0) {
		struct timeval tv = { srv->p->duration_ms / 1000,
				      (srv->p->duration_ms % 1000) * 1000 };
		evtimer_add(srv->stop_timer, &tv);
	}
	log_start(srv);
	event_base_dispatch(srv->base);
	for (i = 0; i < srv->nls; i++)
		evconnlistener_disable(srv->ls[i]);
	gg_track_summary(srv->track, gg_session_now(srv), stdout);
}

/* tear_down - every session, listener and event; rc, or 73 if the log failed */
static int tear_down(struct gg_listen_server *srv, int rc, char *err, size_t errsize)
{
	struct gg_list *l;
	size_t i;

	while ((l = gg_list_first(&srv->sessions)) != NULL)
		gg_session_free(gg_list_entry(l, struct gg_session, link));
	for (i = 0; i < srv->nls; i++)
		evconnlistener_free(srv->ls[i]);
	if (srv->sigint != NULL)
		event_free(srv->sigint);
	if (srv->sigterm != NULL)
		event_free(srv->sigterm);
	if (srv->stop_timer != NULL)
		event_free(srv->stop_timer);
	if (srv->resume != NULL)
		event_free(srv->resume);
	gg_track_free(srv->track);
	if (srv->base != NULL)
		event_base_free(srv->base);
	if (srv->log != NULL && fclose(srv->log) != 0 && rc == 0) {
		snprintf(err, errsize, "--log %s: write error", srv->p->log_path);
		rc = 73;
	}
	return rc;
}

/* gg_listen_run - the receiver */
int gg_listen_run(const struct gg_listen_params *p, char *err, size_t errsize)
{
	struct gg_listen_server srv;
	int rc;
	size_t i;

	memset(&srv, 0, sizeof(srv));
	gg_list_init(&srv.sessions);
	srv.p = p;
	gg_strcpy(srv.hostname, sizeof(srv.hostname), p->hostname);
	signal(SIGPIPE, SIG_IGN);
	if ((rc = open_outputs(&srv, err, errsize)) != 0)
		return rc;
	if (set_up(&srv) != 0) {
		snprintf(err, errsize, "cannot set up the event loop");
		return tear_down(&srv, 70, err, errsize);
	}
	srv.t0 = gg_clock_sec();
	for (i = 0; i < p->nlisten; i++)
		if ((rc = bind_one(&srv, p->listen[i], err, errsize)) != 0)
			return tear_down(&srv, rc, err, errsize);
	serve(&srv);
	return tear_down(&srv, 0, err, errsize);
}

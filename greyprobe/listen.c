/*
 * listen.c - the test SMTP receiver's sockets and sessions (see listen.h)
 *
 * One struct session per connection, on a bufferevent.  Input is taken a
 * line at a time with evbuffer_search_eol(), so nothing longer than
 * GG_LISTEN_LINE_MAX is ever copied out: an over-long command is drained
 * and answered 500, an over-long message line is passed on in pieces.
 * DATA ends only at CRLF "." CRLF (bare LF does not end a message line,
 * so no end of data can be smuggled in).  A session that is closing stops
 * reading, and is freed when its last reply has been written (or the
 * write times out).  Decisions and records are track.c's.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "lib/addr.h"
#include "greyprobe/dur.h"
#include "lib/json.h"
#include "greyprobe/listen.h"
#include "greyprobe/send.h"
#include "lib/util.h"

#define ADDR_MAX 320			/* a path in MAIL/RCPT */
#define HELO_MAX 256
#define WRITE_TIMEOUT_S 30
#define OUTPUT_MAX 65536		/* replies queued for a client that does not read */

struct server;

struct session {
	struct session *prev, *next;
	struct server *srv;
	struct bufferevent *bev;
	char client[GG_ADDR_STRLEN];
	char helo[HELO_MAX];
	int have_mail;
	char from[ADDR_MAX];
	char *rcpts[GG_LISTEN_MAX_RCPT];
	size_t nrcpts, ntried;
	int busy;			/* turned away: not counted as active */
	int closing;
	int skipping;			/* discarding the rest of an over-long command */
	int read_paused;		/* too many replies unread: input waits */
	int in_data, data_bol, toobig, longline, save_failed;
	size_t msgsize;
	FILE *save;
	char savetmp[PATH_MAX];
	unsigned errors;
};

struct server {
	struct event_base *base;
	const struct gg_listen_params *p;
	struct gg_track *track;
	FILE *log;
	struct evconnlistener *ls[GG_LISTEN_MAX_ADDRS];
	size_t nls;
	struct event *sigint, *sigterm, *stop_timer, *resume;
	double t0;
	unsigned long active, messages;
	struct session *sessions;
	char hostname[HELO_MAX];
};

/* now - seconds since the receiver started */
static double now(const struct server *srv)
{
	return gg_send_now() - srv->t0;
}

/* reply - one reply line (CRLF added) */
static void reply(struct session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply(struct session *s, const char *fmt, ...)
{
	char buf[GG_TRACK_REPLY_MAX + 64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(buf) - 3)
		n = (int)sizeof(buf) - 3;
	memcpy(buf + n, "\r\n", 2);
	bufferevent_write(s->bev, buf, (size_t)n + 2);
}

/* reset - forget the current transaction */
static void reset(struct session *s)
{
	size_t i;

	for (i = 0; i < s->nrcpts; i++)
		free(s->rcpts[i]);
	s->nrcpts = s->ntried = 0;
	s->have_mail = 0;
	s->from[0] = '\0';
	if (s->save != NULL) {
		fclose(s->save);
		s->save = NULL;
		unlink(s->savetmp);
	}
	s->in_data = 0;
}

/* session_free - close the connection */
static void session_free(struct session *s)
{
	struct server *srv = s->srv;

	reset(s);
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		srv->sessions = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	if (!s->busy)
		srv->active--;
	bufferevent_free(s->bev);
	free(s);
}

/* close_after - stop reading; free the session once the output is written */
static void close_after(struct session *s)
{
	s->closing = 1;
	bufferevent_disable(s->bev, EV_READ);
	/*
	 * Never free here: callers still hold s.  With nothing left to write,
	 * write_cb is asked to run from the loop.
	 */
	if (evbuffer_get_length(bufferevent_get_output(s->bev)) == 0)
		bufferevent_trigger(s->bev, EV_WRITE, BEV_TRIG_IGNORE_WATERMARKS |
				    BEV_TRIG_DEFER_CALLBACKS);
}

/* bad_command - count a protocol error; too many close the session */
static void bad_command(struct session *s)
{
	if (++s->errors > GG_LISTEN_MAX_ERRORS) {
		reply(s, "421 4.7.0 %s Error: too many errors", s->srv->hostname);
		close_after(s);
	}
}

/* parse_path - "<addr>" (or a bare addr) after FROM:/TO:; 0 ok, -1 bad */
static int parse_path(const char *arg, char *out, size_t size, const char **rest)
{
	const char *p = arg, *end;
	size_t n, i;

	while (*p == ' ')
		p++;
	if (*p == '<') {
		p++;
		if ((end = strchr(p, '>')) == NULL)
			return -1;
		*rest = end + 1;
	} else {
		end = p + strcspn(p, " ");
		*rest = end;
	}
	n = (size_t)(end - p);
	if (n >= size)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c <= 0x20 || c == 0x7f || c == '<' || c == '>')
			return -1;
	}
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

/* size_param - the SIZE= value among MAIL parameters, or -1 */
static long size_param(const char *rest)
{
	const char *p;

	for (p = rest; *p != '\0'; p++) {
		if (strncasecmp(p, "SIZE=", 5) == 0 && (p == rest || p[-1] == ' ')) {
			long v;
			char num[24];
			size_t n = strspn(p + 5, "0123456789");
			if (n == 0 || n >= sizeof(num))
				return n == 0 ? -1 : LONG_MAX;
			memcpy(num, p + 5, n);
			num[n] = '\0';
			if (gg_parse_long(num, 0, LONG_MAX, &v) != GG_OK)
				return LONG_MAX;
			return v;
		}
	}
	return -1;
}

/* live - one line per RCPT on stderr */
static void live(struct session *s, const char *rcpt, const char *r)
{
	char d[GG_DUR_BUFSIZE], f[120], t[120];

	if (s->srv->p->quiet)
		return;
	gg_sanitize(f, sizeof(f), s->from, strlen(s->from), 100);
	gg_sanitize(t, sizeof(t), rcpt, strlen(rcpt), 100);
	fprintf(stderr, "greyprobe listen: +%s %s from=<%s> to=<%s>: %s\n",
		gg_dur_format(now(s->srv), d, sizeof(d)), s->client, f, t, r);
}

/* open_save - a temporary file for the message in --save DIR */
static void open_save(struct session *s)
{
	struct server *srv = s->srv;
	char date[64];
	time_t t = time(NULL);
	struct tm tm;
	size_t i;
	int n;

	if (srv->p->save_dir == NULL)
		return;
	n = snprintf(s->savetmp, sizeof(s->savetmp), "%s/.greyprobe.%ld.%lu.tmp",
		     srv->p->save_dir, (long)getpid(), srv->messages + 1);
	if (n < 0 || (size_t)n >= sizeof(s->savetmp) || (s->save = fopen(s->savetmp, "wx")) == NULL) {
		s->save_failed = 1;
		return;
	}
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	fprintf(s->save, "Return-Path: <%s>\r\nX-Greyprobe-Rcpt:", s->from);
	for (i = 0; i < s->nrcpts; i++)
		fprintf(s->save, "%s <%s>", i ? "," : "", s->rcpts[i]);
	fprintf(s->save, "\r\nReceived: from %s ([%s]) by %s (greyprobe listen);\r\n\t%s\r\n",
		s->helo[0] ? s->helo : "unknown", s->client, srv->hostname, date);
}

/* msg_add - message bytes: count them, save them if wanted */
static void msg_add(struct session *s, const char *p, size_t n, int eol)
{
	s->msgsize += n + (eol ? 2 : 0);
	if ((long)s->msgsize > s->srv->p->max_size || s->msgsize < n) {
		s->toobig = 1;
		return;
	}
	if (s->save != NULL && (fwrite(p, 1, n, s->save) != n ||
				(eol && fwrite("\r\n", 1, 2, s->save) != 2)))
		s->save_failed = 1;
}

/* end_data - the final "." */
static void end_data(struct session *s)
{
	struct server *srv = s->srv;
	char qid[32], path[PATH_MAX], *saved = NULL;
	int n;

	s->in_data = 0;
	if (s->toobig) {
		reply(s, "552 5.3.4 Error: message file too big");
		reset(s);
		return;
	}
	srv->messages++;
	snprintf(qid, sizeof(qid), "GP%lX%06lX", (unsigned long)getpid() & 0xffff, srv->messages);
	if (s->save != NULL || s->save_failed) {
		if (s->save == NULL || fclose(s->save) != 0)
			s->save_failed = 1;
		s->save = NULL;
		n = snprintf(path, sizeof(path), "%s/%s.eml", srv->p->save_dir, qid);
		if (!s->save_failed && (n < 0 || (size_t)n >= sizeof(path) ||
					rename(s->savetmp, path) != 0))
			s->save_failed = 1;
		if (s->save_failed) {
			unlink(s->savetmp);
			reply(s, "451 4.3.0 Error: cannot save the message");
			if (!srv->p->quiet)
				fprintf(stderr, "greyprobe listen: cannot save a message in %s\n",
					srv->p->save_dir);
			reset(s);
			return;
		}
		saved = path;
	}
	reply(s, "250 2.0.0 Ok: queued as %s", qid);
	gg_track_message(srv->track, now(srv), s->client, s->from, s->rcpts, s->nrcpts,
			 s->msgsize, qid, saved);
	if (!srv->p->quiet)
		fprintf(stderr, "greyprobe listen: %s message %s from %s, %zu bytes, %zu recipient%s%s%s\n",
			s->client, qid, s->helo[0] ? s->helo : "-", s->msgsize, s->nrcpts,
			s->nrcpts == 1 ? "" : "s", saved ? ", saved as " : "", saved ? saved : "");
	reset(s);
}

/* data_step - consume one message line (or piece); 0 when input is short */
static int data_step(struct session *s, struct evbuffer *in)
{
	char line[GG_LISTEN_LINE_MAX + 1];
	size_t eol_len = 0, n, skip = 0;
	struct evbuffer_ptr ptr = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_CRLF_STRICT);

	if (ptr.pos < 0 || (size_t)ptr.pos > GG_LISTEN_LINE_MAX) {
		/* No line end within the limit: pass a piece on, keep reading. */
		if (evbuffer_get_length(in) <= GG_LISTEN_LINE_MAX)
			return 0;
		n = evbuffer_remove(in, line, GG_LISTEN_LINE_MAX) > 0 ? GG_LISTEN_LINE_MAX : 0;
		if (s->data_bol && n > 0 && line[0] == '.')
			skip = 1;
		msg_add(s, line + skip, n - skip, 0);
		s->data_bol = 0;
		s->longline = 1;
		return 1;
	}
	n = (size_t)ptr.pos;
	evbuffer_remove(in, line, n);
	evbuffer_drain(in, eol_len);
	if (s->data_bol && n == 1 && line[0] == '.') {
		end_data(s);
		return 1;
	}
	if (s->data_bol && n > 0 && line[0] == '.')
		skip = 1;
	msg_add(s, line + skip, n - skip, 1);
	s->data_bol = 1;
	return 1;
}

/* verb_is - does the command line start with this verb (then space or end)? */
static int verb_is(const char *line, const char *verb, const char **arg)
{
	size_t n = strlen(verb);

	if (strncasecmp(line, verb, n) != 0 || (line[n] != '\0' && line[n] != ' '))
		return 0;
	*arg = line + n;
	while (**arg == ' ')
		(*arg)++;
	return 1;
}

/* cmd_mail - MAIL FROM:<addr> [params] */
static void cmd_mail(struct session *s, const char *arg)
{
	const char *rest;
	long size;

	if (s->have_mail) {
		reply(s, "503 5.5.1 Error: nested MAIL command");
		bad_command(s);
		return;
	}
	if (strncasecmp(arg, "FROM:", 5) != 0 ||
	    parse_path(arg + 5, s->from, sizeof(s->from), &rest) != 0) {
		reply(s, "501 5.5.4 Syntax: MAIL FROM:<address>");
		bad_command(s);
		return;
	}
	if ((size = size_param(rest)) > s->srv->p->max_size) {
		reply(s, "552 5.3.4 Message size exceeds fixed limit");
		return;
	}
	s->have_mail = 1;
	reply(s, "250 2.1.0 Ok");
}

/* cmd_rcpt - RCPT TO:<addr>: the decision */
static void cmd_rcpt(struct session *s, const char *arg)
{
	struct server *srv = s->srv;
	char rcpt[ADDR_MAX], r[GG_TRACK_REPLY_MAX];
	const char *rest;
	enum gg_track_action a;

	if (!s->have_mail) {
		reply(s, "503 5.5.1 Error: need MAIL command");
		bad_command(s);
		return;
	}
	if (strncasecmp(arg, "TO:", 3) != 0 || parse_path(arg + 3, rcpt, sizeof(rcpt), &rest) != 0 ||
	    rcpt[0] == '\0') {
		reply(s, "501 5.5.4 Syntax: RCPT TO:<address>");
		bad_command(s);
		return;
	}
	if (s->ntried >= GG_LISTEN_MAX_RCPT) {
		reply(s, "452 4.5.3 Error: too many recipients");
		return;
	}
	s->ntried++;
	a = gg_track_rcpt(srv->track, now(srv), s->client, s->helo, s->from, rcpt, r, sizeof(r));
	if (a == GG_TRACK_ACCEPT) {
		char *copy = strdup(rcpt);
		if (copy == NULL) {
			reply(s, "451 4.3.0 Error: out of memory");
			return;
		}
		s->rcpts[s->nrcpts++] = copy;
	}
	reply(s, "%s", r);
	live(s, rcpt, r);
}

/* command - one SMTP command line */
static void command(struct session *s, char *line, size_t len)
{
	struct server *srv = s->srv;
	const char *arg;

	if (strlen(line) != len) {
		reply(s, "500 5.5.2 Error: bad characters in command");
		bad_command(s);
		return;
	}
	if (verb_is(line, "EHLO", &arg) || verb_is(line, "HELO", &arg)) {
		if (*arg == '\0') {
			reply(s, "501 5.5.4 Syntax: %.4s hostname", line);
			bad_command(s);
			return;
		}
		gg_sanitize(s->helo, sizeof(s->helo), arg, strlen(arg), sizeof(s->helo) - 4);
		reset(s);
		if (toupper((unsigned char)line[0]) == 'E') {
			reply(s, "250-%s", srv->hostname);
			reply(s, "250-SIZE %ld", srv->p->max_size);
			reply(s, "250-8BITMIME");
			reply(s, "250 ENHANCEDSTATUSCODES");
		} else {
			reply(s, "250 %s", srv->hostname);
		}
	} else if (verb_is(line, "MAIL", &arg)) {
		cmd_mail(s, arg);
	} else if (verb_is(line, "RCPT", &arg)) {
		cmd_rcpt(s, arg);
	} else if (verb_is(line, "DATA", &arg)) {
		if (*arg != '\0') {
			reply(s, "501 5.5.4 Syntax: DATA");
			bad_command(s);
		} else if (!s->have_mail) {
			reply(s, "503 5.5.1 Error: need MAIL command");
			bad_command(s);
		} else if (s->nrcpts == 0) {
			reply(s, "554 5.5.1 Error: no valid recipients");
		} else {
			reply(s, "354 End data with <CR><LF>.<CR><LF>");
			s->in_data = 1;
			s->data_bol = 1;
			s->msgsize = 0;
			s->toobig = s->longline = s->save_failed = 0;
			open_save(s);
		}
	} else if (verb_is(line, "RSET", &arg)) {
		reset(s);
		reply(s, "250 2.0.0 Ok");
	} else if (verb_is(line, "NOOP", &arg)) {
		reply(s, "250 2.0.0 Ok");
	} else if (verb_is(line, "VRFY", &arg)) {
		reply(s, "252 2.0.0 Send some mail, I'll try my best");
	} else if (verb_is(line, "HELP", &arg)) {
		reply(s, "214 2.0.0 EHLO HELO MAIL RCPT DATA RSET NOOP VRFY HELP QUIT");
	} else if (verb_is(line, "QUIT", &arg)) {
		reply(s, "221 2.0.0 Bye");
		close_after(s);
	} else {
		reply(s, "500 5.5.2 Error: command not recognized");
		bad_command(s);
	}
}

/* read_cb - commands, or message lines after DATA */
static void read_cb(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char line[GG_LISTEN_LINE_MAX + 1];

	while (!s->closing) {
		size_t eol_len = 0, n;
		struct evbuffer_ptr ptr;

		/*
		 * A client that sends commands but never reads the replies would
		 * make the output grow without bound: stop reading until it has
		 * taken what is queued (write_cb resumes; the write timeout ends
		 * a client that never does).
		 */
		if (evbuffer_get_length(bufferevent_get_output(bev)) > OUTPUT_MAX) {
			s->read_paused = 1;
			bufferevent_disable(bev, EV_READ);
			return;
		}
		if (s->in_data) {
			if (!data_step(s, in))
				return;
			continue;
		}
		ptr = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_CRLF);
		if (ptr.pos < 0) {
			n = evbuffer_get_length(in);
			if (n > GG_LISTEN_LINE_MAX) {
				evbuffer_drain(in, n);
				if (!s->skipping) {
					s->skipping = 1;
					reply(s, "500 5.5.2 Error: line too long");
					bad_command(s);
				}
			}
			return;
		}
		n = (size_t)ptr.pos;
		if (s->skipping || n > GG_LISTEN_LINE_MAX) {
			evbuffer_drain(in, n + eol_len);
			if (!s->skipping) {
				reply(s, "500 5.5.2 Error: line too long");
				bad_command(s);
			}
			s->skipping = 0;
			continue;
		}
		evbuffer_remove(in, line, n);
		evbuffer_drain(in, eol_len);
		line[n] = '\0';
		command(s, line, n);
	}
}

/* write_cb - the output drained: a closing session can go, a paused one reads on */
static void write_cb(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;

	if (s->closing) {
		session_free(s);
		return;
	}
	if (s->read_paused) {
		s->read_paused = 0;
		bufferevent_enable(bev, EV_READ);
		/* What is already buffered raises no new read event. */
		read_cb(bev, s);
	}
}

/* event_cb - end of input, errors, idle timeout */
static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;

	(void)bev;
	if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING) && !s->closing) {
		reply(s, "421 4.4.2 %s Error: timeout exceeded", s->srv->hostname);
		close_after(s);
		return;
	}
	session_free(s);
}

/* client_str - the peer's address, IPv4-mapped IPv6 folded to IPv4 */
static void client_str(const struct sockaddr *sa, char *buf, size_t size)
{
	char tmp[INET6_ADDRSTRLEN];
	struct gg_addr a;

	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, tmp, sizeof(tmp));
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, tmp, sizeof(tmp));
	else
		snprintf(tmp, sizeof(tmp), "unknown");
	if (gg_addr_parse(tmp, &a) == GG_OK)
		gg_addr_format(&a, buf, size);
	else
		gg_strcpy(buf, size, tmp);
}

/* accept_cb - a new connection: serve it, or turn it away */
static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
		      int socklen, void *arg)
{
	struct server *srv = arg;
	struct session *s;
	struct timeval idle = { srv->p->timeout_ms / 1000, (srv->p->timeout_ms % 1000) * 1000 };
	struct timeval wr = { WRITE_TIMEOUT_S, 0 };

	(void)l;
	(void)socklen;
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		free(s);
		evutil_closesocket(fd);
		return;
	}
	s->srv = srv;
	client_str(sa, s->client, sizeof(s->client));
	s->next = srv->sessions;
	if (srv->sessions != NULL)
		srv->sessions->prev = s;
	srv->sessions = s;
	bufferevent_setcb(s->bev, read_cb, write_cb, event_cb, s);
	bufferevent_setwatermark(s->bev, EV_READ, 0, 4 * (GG_LISTEN_LINE_MAX + 2));
	bufferevent_set_timeouts(s->bev, &idle, &wr);
	if (srv->p->max_connections > 0 && srv->active >= (unsigned long)srv->p->max_connections) {
		s->busy = 1;
		gg_track_busy(srv->track, now(srv), s->client, srv->p->busy_reply, srv->active);
		if (!srv->p->quiet)
			fprintf(stderr, "greyprobe listen: %s turned away: %s (%lu connections)\n",
				s->client, srv->p->busy_reply, srv->active);
		reply(s, "%s", srv->p->busy_reply);
		bufferevent_enable(s->bev, EV_WRITE);
		close_after(s);
		return;
	}
	srv->active++;
	gg_track_connection(srv->track);
	reply(s, "220 %s ESMTP greyprobe", srv->hostname);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
}

/* resume_cb - listen again after running out of descriptors */
static void resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	size_t i;

	(void)fd;
	(void)what;
	for (i = 0; i < srv->nls; i++)
		evconnlistener_enable(srv->ls[i]);
}

/* accept_error_cb - EMFILE and friends: pause a second instead of spinning */
static void accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct server *srv = arg;
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
	struct server *srv = arg;

	(void)fd;
	(void)what;
	event_base_loopbreak(srv->base);
}

/* gg_listen_parse_addr - numeric ADDR:PORT */
int gg_listen_parse_addr(const char *s, char *host, size_t hostsize, unsigned *port)
{
	const char *colon;
	size_t len;
	long v;
	struct gg_addr a;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL || close[1] != ':')
			return -1;
		len = (size_t)(close - s - 1);
		colon = close + 1;
		s++;
	} else {
		if ((colon = strrchr(s, ':')) == NULL || strchr(s, ':') != colon)
			return -1;
		len = (size_t)(colon - s);
	}
	if (len == 0 || len >= hostsize)
		return -1;
	memcpy(host, s, len);
	host[len] = '\0';
	if (gg_addr_parse(host, &a) != GG_OK || gg_parse_long(colon + 1, 0, 65535, &v) != GG_OK)
		return -1;
	*port = (unsigned)v;
	return 0;
}

/* bind_one - a listener on one address */
static int bind_one(struct server *srv, const char *spec, char *err, size_t errsize)
{
	char host[INET6_ADDRSTRLEN + 1], shown[80];
	struct sockaddr_storage ss;
	socklen_t len;
	unsigned port;
	struct evconnlistener *l;

	gg_sanitize(shown, sizeof(shown), spec, strlen(spec), 60);
	if (gg_listen_parse_addr(spec, host, sizeof(host), &port) != 0) {
		snprintf(err, errsize, "--listen '%s': expected ADDR:PORT or [IPV6]:PORT", shown);
		return 64;
	}
	memset(&ss, 0, sizeof(ss));
	if (strchr(host, ':') == NULL) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, host, &sin->sin_addr);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		inet_pton(AF_INET6, host, &sin6->sin6_addr);
		len = sizeof(*sin6);
	}
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
		client_str((struct sockaddr *)&ss, shown_host, sizeof(shown_host));
		port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
			     : ((struct sockaddr_in6 *)&ss)->sin6_port);
		fprintf(stderr, strchr(shown_host, ':') ? "greyprobe listen: listening on [%s]:%u\n"
			: "greyprobe listen: listening on %s:%u\n", shown_host, port);
	}
	return 0;
}

/* gg_listen_run - the receiver */
int gg_listen_run(const struct gg_listen_params *p, char *err, size_t errsize)
{
	struct server srv;
	int rc = 70;
	size_t i;
	struct stat st;

	memset(&srv, 0, sizeof(srv));
	srv.p = p;
	gg_strcpy(srv.hostname, sizeof(srv.hostname), p->hostname);
	signal(SIGPIPE, SIG_IGN);
	if (p->save_dir != NULL &&
	    (stat(p->save_dir, &st) != 0 || !S_ISDIR(st.st_mode) || access(p->save_dir, W_OK) != 0)) {
		snprintf(err, errsize, "--save %s: not a writable directory", p->save_dir);
		return 73;
	}
	if (p->log_path != NULL && (srv.log = fopen(p->log_path, "a")) == NULL) {
		snprintf(err, errsize, "--log %s: %s", p->log_path, strerror(errno));
		return 73;
	}
	if ((srv.base = event_base_new()) == NULL ||
	    gg_track_new(&p->track, srv.log, time(NULL), &srv.track) != GG_OK ||
	    (srv.sigint = evsignal_new(srv.base, SIGINT, stop_cb, &srv)) == NULL ||
	    (srv.sigterm = evsignal_new(srv.base, SIGTERM, stop_cb, &srv)) == NULL ||
	    (srv.stop_timer = evtimer_new(srv.base, stop_cb, &srv)) == NULL ||
	    (srv.resume = evtimer_new(srv.base, resume_cb, &srv)) == NULL) {
		snprintf(err, errsize, "cannot set up the event loop");
		goto out;
	}
	srv.t0 = gg_send_now();
	for (i = 0; i < p->nlisten; i++)
		if ((rc = bind_one(&srv, p->listen[i], err, errsize)) != 0)
			goto out;
	rc = 70;
	evsignal_add(srv.sigint, NULL);
	evsignal_add(srv.sigterm, NULL);
	if (p->duration_ms > 0) {
		struct timeval tv = { p->duration_ms / 1000, (p->duration_ms % 1000) * 1000 };
		evtimer_add(srv.stop_timer, &tv);
	}
	if (srv.log != NULL) {
		char when[40] = "";
		time_t t = time(NULL);
		struct tm tm;
		if (gmtime_r(&t, &tm) != NULL)
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
		fprintf(srv.log, "{\"time\":\"%s\",\"t\":0.000,\"event\":\"start\",\"listen\":[",
			when);
		for (i = 0; i < p->nlisten; i++) {
			fprintf(srv.log, "%s", i ? "," : "");
			gg_json_str(srv.log, p->listen[i]);
		}
		fprintf(srv.log, "],\"defer_first\":%ld,\"defer_for\":%.3f}\n", p->track.defer_first,
			(double)p->track.defer_for_ms / 1000.0);
		fflush(srv.log);
	}
	event_base_dispatch(srv.base);
	for (i = 0; i < srv.nls; i++)
		evconnlistener_disable(srv.ls[i]);
	gg_track_summary(srv.track, now(&srv), stdout);
	rc = 0;
out:
	while (srv.sessions != NULL)
		session_free(srv.sessions);
	for (i = 0; i < srv.nls; i++)
		evconnlistener_free(srv.ls[i]);
	if (srv.sigint != NULL)
		event_free(srv.sigint);
	if (srv.sigterm != NULL)
		event_free(srv.sigterm);
	if (srv.stop_timer != NULL)
		event_free(srv.stop_timer);
	if (srv.resume != NULL)
		event_free(srv.resume);
	gg_track_free(srv.track);
	if (srv.base != NULL)
		event_base_free(srv.base);
	if (srv.log != NULL && fclose(srv.log) != 0 && rc == 0) {
		snprintf(err, errsize, "--log %s: write error", p->log_path);
		rc = 73;
	}
	return rc;
}

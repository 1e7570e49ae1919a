/*
 * session.c - greyprobe listen's connections and their I/O (see session.h)
 *
 * One struct gg_session per connection, on a bufferevent.  Input is taken
 * a line at a time with evbuffer_search_eol(), so nothing longer than
 * GG_LISTEN_LINE_MAX is ever copied out: an over-long command is drained
 * and answered 500, an over-long message line is passed on in pieces.
 * DATA ends only at CRLF "." CRLF (bare LF does not end a message line,
 * so no end of data can be smuggled in).  A session that is closing stops
 * reading, and is freed when its last reply has been written (or the
 * write times out).  Command lines go to command.c; decisions and records
 * are track.c's.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "greyprobe/command.h"
#include "greyprobe/send.h"
#include "greyprobe/session.h"
#include "lib/clock.h"
#include "lib/util.h"

#define WRITE_TIMEOUT_S 30
#define OUTPUT_MAX 65536		/* replies queued for a client that does not read */

/* gg_session_now - seconds since the receiver started */
double gg_session_now(const struct gg_listen_server *srv)
{
	return gg_clock_sec() - srv->t0;
}

/* gg_session_reply - one reply line (CRLF added) */
void gg_session_reply(struct gg_session *s, const char *fmt, ...)
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

/* gg_session_reset - forget the current transaction */
void gg_session_reset(struct gg_session *s)
{
	size_t i;

	for (i = 0; i < s->nrcpts; i++)
		free(s->rcpts[i]);
	s->nrcpts = s->ntried = 0;
	s->from[0] = '\0';
	if (s->save != NULL) {
		fclose(s->save);
		s->save = NULL;
		unlink(s->savetmp);
	}
	s->state = GG_SESSION_IDLE;
}

/* gg_session_free - close the connection */
void gg_session_free(struct gg_session *s)
{
	struct gg_listen_server *srv = s->srv;

	gg_session_reset(s);
	gg_list_remove(&s->link);
	if (!s->busy)
		srv->active--;
	bufferevent_free(s->bev);
	free(s);
}

/* gg_session_close_after - stop reading; free the session once the output is written */
void gg_session_close_after(struct gg_session *s)
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

/* gg_session_bad_command - count a protocol error; too many close the session */
void gg_session_bad_command(struct gg_session *s)
{
	if (++s->errors > GG_LISTEN_MAX_ERRORS) {
		gg_session_reply(s, "421 4.7.0 %s Error: too many errors", s->srv->hostname);
		gg_session_close_after(s);
	}
}

/* open_save - a temporary file for the message in --save DIR */
static void open_save(struct gg_session *s)
{
	struct gg_listen_server *srv = s->srv;
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

/* gg_session_start_data - after "354": the message lines come next */
void gg_session_start_data(struct gg_session *s)
{
	s->state = GG_SESSION_DATA;
	s->data_bol = 1;
	s->msgsize = 0;
	s->toobig = s->longline = s->save_failed = 0;
	open_save(s);
}

/* msg_add - message bytes: count them, save them if wanted */
static void msg_add(struct gg_session *s, const char *p, size_t n, int eol)
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

/* finish_save - move the saved message to DIR/QID.eml; NULL if it cannot be kept */
static const char *finish_save(struct gg_session *s, const char *qid, char *path, size_t size)
{
	int n;

	if (s->save == NULL || fclose(s->save) != 0)
		s->save_failed = 1;
	s->save = NULL;
	n = snprintf(path, size, "%s/%s.eml", s->srv->p->save_dir, qid);
	if (!s->save_failed && (n < 0 || (size_t)n >= size || rename(s->savetmp, path) != 0))
		s->save_failed = 1;
	if (!s->save_failed)
		return path;
	unlink(s->savetmp);
	return NULL;
}

/* end_data - the final "." */
static void end_data(struct gg_session *s)
{
	struct gg_listen_server *srv = s->srv;
	char qid[32], path[PATH_MAX];
	const char *saved = NULL;

	if (s->toobig) {
		gg_session_reply(s, "552 5.3.4 Error: message file too big");
		gg_session_reset(s);
		return;
	}
	srv->messages++;
	snprintf(qid, sizeof(qid), "GP%lX%06lX", (unsigned long)getpid() & 0xffff, srv->messages);
	if (s->save != NULL || s->save_failed) {
		if ((saved = finish_save(s, qid, path, sizeof(path))) == NULL) {
			gg_session_reply(s, "451 4.3.0 Error: cannot save the message");
			if (!srv->p->quiet)
				fprintf(stderr, "greyprobe listen: cannot save a message in %s\n",
					srv->p->save_dir);
			gg_session_reset(s);
			return;
		}
	}
	gg_session_reply(s, "250 2.0.0 Ok: queued as %s", qid);
	gg_track_message(srv->track, gg_session_now(srv), s->client, s->from, s->rcpts, s->nrcpts,
			 s->msgsize, qid, saved);
	if (!srv->p->quiet)
		fprintf(stderr, "greyprobe listen: %s message %s from %s, %zu bytes, %zu recipient%s%s%s\n",
			s->client, qid, s->helo[0] ? s->helo : "-", s->msgsize, s->nrcpts,
			s->nrcpts == 1 ? "" : "s", saved ? ", saved as " : "", saved ? saved : "");
	gg_session_reset(s);
}

/* data_step - consume one message line (or piece); 0 when input is short */
static int data_step(struct gg_session *s, struct evbuffer *in)
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

/* too_long - an over-long command line: answer it once */
static void too_long(struct gg_session *s)
{
	if (s->skipping)
		return;
	gg_session_reply(s, "500 5.5.2 Error: line too long");
	gg_session_bad_command(s);
}

/* command_step - take one command line and run it; 0 when input is short */
static int command_step(struct gg_session *s, struct evbuffer *in)
{
	char line[GG_LISTEN_LINE_MAX + 1];
	size_t eol_len = 0, n;
	struct evbuffer_ptr ptr = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_CRLF);

	if (ptr.pos < 0) {
		n = evbuffer_get_length(in);
		if (n > GG_LISTEN_LINE_MAX) {
			evbuffer_drain(in, n);
			too_long(s);
			s->skipping = 1;
		}
		return 0;
	}
	n = (size_t)ptr.pos;
	if (s->skipping || n > GG_LISTEN_LINE_MAX) {
		evbuffer_drain(in, n + eol_len);
		too_long(s);
		s->skipping = 0;
		return 1;
	}
	evbuffer_remove(in, line, n);
	evbuffer_drain(in, eol_len);
	line[n] = '\0';
	gg_command_run(s, line, n);
	return 1;
}

/* read_cb - commands, or message lines after DATA */
static void read_cb(struct bufferevent *bev, void *arg)
{
	struct gg_session *s = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	while (!s->closing) {
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
		if (!(s->state == GG_SESSION_DATA ? data_step(s, in) : command_step(s, in)))
			return;
	}
}

/* write_cb - the output drained: a closing session can go, a paused one reads on */
static void write_cb(struct bufferevent *bev, void *arg)
{
	struct gg_session *s = arg;

	if (s->closing) {
		gg_session_free(s);
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
	struct gg_session *s = arg;

	(void)bev;
	if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING) && !s->closing) {
		gg_session_reply(s, "421 4.4.2 %s Error: timeout exceeded", s->srv->hostname);
		gg_session_close_after(s);
		return;
	}
	gg_session_free(s);
}

/* gg_session_addr_str - the peer's address, IPv4-mapped IPv6 folded to IPv4 */
void gg_session_addr_str(const struct sockaddr *sa, char *buf, size_t size)
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

/* turn_away - over max_connections: the busy reply, then close */
static void turn_away(struct gg_session *s)
{
	struct gg_listen_server *srv = s->srv;

	s->busy = 1;
	gg_track_busy(srv->track, gg_session_now(srv), s->client, srv->p->busy_reply, srv->active);
	if (!srv->p->quiet)
		fprintf(stderr, "greyprobe listen: %s turned away: %s (%lu connections)\n",
			s->client, srv->p->busy_reply, srv->active);
	gg_session_reply(s, "%s", srv->p->busy_reply);
	bufferevent_enable(s->bev, EV_WRITE);
	gg_session_close_after(s);
}

/* gg_session_accept - a new connection: serve it, or turn it away */
void gg_session_accept(struct gg_listen_server *srv, evutil_socket_t fd,
		       const struct sockaddr *sa)
{
	struct gg_session *s;
	struct timeval idle = { srv->p->timeout_ms / 1000, (srv->p->timeout_ms % 1000) * 1000 };
	struct timeval wr = { WRITE_TIMEOUT_S, 0 };

	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		free(s);
		evutil_closesocket(fd);
		return;
	}
	s->srv = srv;
	gg_session_addr_str(sa, s->client, sizeof(s->client));
	gg_list_push_front(&srv->sessions, &s->link);
	bufferevent_setcb(s->bev, read_cb, write_cb, event_cb, s);
	bufferevent_setwatermark(s->bev, EV_READ, 0, 4 * (GG_LISTEN_LINE_MAX + 2));
	bufferevent_set_timeouts(s->bev, &idle, &wr);
	if (srv->p->max_connections > 0 && srv->active >= (unsigned long)srv->p->max_connections) {
		turn_away(s);
		return;
	}
	srv->active++;
	gg_track_connection(srv->track);
	gg_session_reply(s, "220 %s ESMTP greyprobe", srv->hostname);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
}

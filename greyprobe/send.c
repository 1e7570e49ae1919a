/*
 * send.c - one SMTP client session (see send.h)
 *
 * The connect is our own non-blocking connect(2) watched by one event, so
 * the error it ends with (ECONNREFUSED, ETIMEDOUT, ENETUNREACH) is exactly
 * what the kernel said; once connected the socket goes to a bufferevent.
 * One timer bounds every wait: it is armed when a command is written and
 * re-armed when a long write (the message) drains.  The session state is
 * the stage whose reply is awaited; `decided' is set by the first reply
 * or failure that settles the attempt; what follows (RSET, QUIT) only
 * ends the session.  finish() releases the connection and hands the
 * attempt over through a zero-delay event, so the callback never runs
 * inside a libevent callback of this session's own bufferevent.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "greyprobe/reply.h"
#include "greyprobe/send.h"
#include "lib/clock.h"
#include "lib/util.h"

#define READ_HIGH_WATER (4 * (GG_REPLY_LINE_MAX + 2))
#define QUIT_WAIT_MS 3000L

struct gg_send {
	struct event_base *base;
	struct gg_send_params p;
	struct gg_attempt *a;
	gg_send_cb cb;
	void *arg;
	int fd;
	struct event *conn_ev;		/* connect in progress */
	struct bufferevent *bev;
	struct event *timer;		/* the current wait's deadline */
	struct event *finish_ev;	/* delivers the callback */
	enum gg_stage stage;		/* whose reply is awaited */
	int decided;
	int closing;			/* QUIT sent or connection ending */
	int done;
	double t0;
	struct gg_reply_parser parser;
};

/* dlg - one line of the dialogue, when it is kept */
static void dlg(struct gg_send *s, const char *dir, const char *line, size_t len)
{
	if (s->p.keep_dialogue)
		gg_report_dialogue(s->a, gg_clock_sec() - s->t0, dir, line, len);
}

/* arm - (re)start the wait's deadline */
static void arm(struct gg_send *s, long ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(s->timer, &tv);
}

/* release - close the connection and stop every event */
static void release(struct gg_send *s)
{
	if (s->conn_ev != NULL) {
		event_free(s->conn_ev);
		s->conn_ev = NULL;
	}
	if (s->bev != NULL) {
		bufferevent_free(s->bev);	/* closes s->fd */
		s->bev = NULL;
		s->fd = -1;
	} else if (s->fd >= 0) {
		close(s->fd);
		s->fd = -1;
	}
	if (s->timer != NULL)
		evtimer_del(s->timer);
}

/* session_free - everything */
static void session_free(struct gg_send *s)
{
	release(s);
	if (s->timer != NULL)
		event_free(s->timer);
	if (s->finish_ev != NULL)
		event_free(s->finish_ev);
	free(s);
}

/* finish_cb - hand the attempt to the caller, then go */
static void finish_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gg_send *s = arg;

	(void)fd;
	(void)what;
	s->cb(s->a, s->arg);
	session_free(s);
}

/* finish - the session is over */
static void finish(struct gg_send *s)
{
	if (s->done)
		return;
	s->done = 1;
	s->a->duration = gg_clock_sec() - s->t0;
	release(s);
	event_active(s->finish_ev, EV_TIMEOUT, 0);
}

/* fail - settle the attempt without a reply */
static void fail(struct gg_send *s, enum gg_reply_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fail(struct gg_send *s, enum gg_reply_kind kind, const char *fmt, ...)
{
	va_list ap;

	if (!s->decided) {
		s->decided = 1;
		s->a->stage = s->stage;
		s->a->code = 0;
		s->a->enhanced[0] = '\0';
		s->a->kind = kind;
		va_start(ap, fmt);
		vsnprintf(s->a->text, sizeof(s->a->text), fmt, ap);
		va_end(ap);
		if (s->p.keep_dialogue)
			dlg(s, "**", s->a->text, strlen(s->a->text));
	}
	finish(s);
}

/* send_line - write one command (CRLF added) and wait for its reply */
static void send_line(struct gg_send *s, enum gg_stage stage, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void send_line(struct gg_send *s, enum gg_stage stage, const char *fmt, ...)
{
	char buf[GG_REPORT_ADDR_MAX + 64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf) - 2) {
		fail(s, GG_KIND_PROTOCOL, "command too long");
		return;
	}
	dlg(s, "->", buf, (size_t)n);
	memcpy(buf + n, "\r\n", 2);
	s->stage = stage;
	gg_reply_parser_init(&s->parser);
	if (bufferevent_write(s->bev, buf, (size_t)n + 2) != 0) {
		fail(s, GG_KIND_NETWORK, "cannot write %s", gg_report_stage_str(stage));
		return;
	}
	arm(s, stage == GG_STAGE_QUIT && s->p.timeout_ms > QUIT_WAIT_MS ? QUIT_WAIT_MS
	    : s->p.timeout_ms);
}

/* quit - end the session politely */
static void quit(struct gg_send *s)
{
	s->closing = 1;
	send_line(s, GG_STAGE_QUIT, "QUIT");
}

/* settle - the attempt is decided by this reply */
static void settle(struct gg_send *s, const struct gg_reply *r)
{
	struct gg_attempt *a = s->a;

	if (s->decided)
		return;
	s->decided = 1;
	a->stage = s->stage;
	a->code = r->code;
	gg_strcpy(a->enhanced, sizeof(a->enhanced), r->enhanced);
	gg_strcpy(a->text, sizeof(a->text), r->text);
	a->kind = r->kind;
	gg_strcpy(a->list, sizeof(a->list), r->list);
}

/* refused - a reply that ends the transaction */
static void refused(struct gg_send *s, const struct gg_reply *r)
{
	settle(s, r);
	/* 421: the server is closing the connection; do not talk to it. */
	if (r->code == 421) {
		s->closing = 1;
		finish(s);
		return;
	}
	quit(s);
}

/* send_message - the message and its final dot */
static void send_message(struct gg_send *s)
{
	struct evbuffer *out = bufferevent_get_output(s->bev);
	char note[64];
	int n = snprintf(note, sizeof(note), "[message: %zu bytes]", s->p.msglen);

	dlg(s, "->", note, n > 0 ? (size_t)n : 0);
	dlg(s, "->", ".", 1);
	s->stage = GG_STAGE_MESSAGE;
	gg_reply_parser_init(&s->parser);
	if (evbuffer_add(out, s->p.msg, s->p.msglen) != 0 || evbuffer_add(out, ".\r\n", 3) != 0) {
		fail(s, GG_KIND_NETWORK, "out of memory for the message");
		return;
	}
	arm(s, s->p.timeout_ms);
}

/* on_reply - the state machine: one whole reply to the current stage */
static void on_reply(struct gg_send *s, const struct gg_reply *r)
{
	int want = s->stage == GG_STAGE_DATA ? 3 : 2;
	int cls = r->code / 100;

	if (s->stage == GG_STAGE_QUIT) {
		finish(s);
		return;
	}
	if (s->stage == GG_STAGE_RSET) {
		quit(s);
		return;
	}
	if (cls == 2 || cls == 3) {
		if (cls != want) {
			fail(s, GG_KIND_PROTOCOL, "unexpected reply %d to %s", r->code,
			     gg_report_stage_str(s->stage));
			return;
		}
	} else if (s->stage == GG_STAGE_EHLO && cls == 5) {
		/* An old server: RFC 5321 4.1.4 says fall back to HELO. */
		s->a->helo_fallback = 1;
		send_line(s, GG_STAGE_HELO, "HELO %s", s->p.helo);
		return;
	} else {
		refused(s, r);
		return;
	}
	switch (s->stage) {
	case GG_STAGE_GREETING:
		send_line(s, GG_STAGE_EHLO, "EHLO %s", s->p.helo);
		break;
	case GG_STAGE_EHLO:
	case GG_STAGE_HELO:
		send_line(s, GG_STAGE_MAIL, "MAIL FROM:<%s>", s->p.from);
		break;
	case GG_STAGE_MAIL:
		send_line(s, GG_STAGE_RCPT, "RCPT TO:<%s>", s->p.to);
		break;
	case GG_STAGE_RCPT:
		if (s->p.verify_only) {
			settle(s, r);
			send_line(s, GG_STAGE_RSET, "RSET");
		} else {
			send_line(s, GG_STAGE_DATA, "DATA");
		}
		break;
	case GG_STAGE_DATA:
		send_message(s);
		break;
	case GG_STAGE_MESSAGE:
		settle(s, r);
		quit(s);
		break;
	default:
		fail(s, GG_KIND_PROTOCOL, "reply in an unexpected state");
		break;
	}
}

/* read_cb - split input into lines, feed the parser */
static void read_cb(struct bufferevent *bev, void *arg)
{
	struct gg_send *s = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char line[GG_REPLY_LINE_MAX + 1];

	while (!s->done) {
		size_t eol_len = 0, len;
		struct evbuffer_ptr ptr = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_CRLF);
		enum gg_reply_feed f;

		if (ptr.pos < 0) {
			if (evbuffer_get_length(in) > GG_REPLY_LINE_MAX + 1)
				fail(s, GG_KIND_PROTOCOL, "reply line longer than %d bytes during %s",
				     GG_REPLY_LINE_MAX, gg_report_stage_str(s->stage));
			return;
		}
		len = (size_t)ptr.pos;
		if (len > GG_REPLY_LINE_MAX) {
			fail(s, GG_KIND_PROTOCOL, "reply line longer than %d bytes during %s",
			     GG_REPLY_LINE_MAX, gg_report_stage_str(s->stage));
			return;
		}
		evbuffer_remove(in, line, len);
		evbuffer_drain(in, eol_len);
		dlg(s, "<-", line, len);
		f = gg_reply_feed(&s->parser, line, len);
		if (f == GG_REPLY_MORE)
			continue;
		if (f == GG_REPLY_BAD) {
			if (s->closing) {
				finish(s);
				return;
			}
			fail(s, GG_KIND_PROTOCOL, "bad reply during %s: %s",
			     gg_report_stage_str(s->stage), s->parser.err);
			return;
		}
		evtimer_del(s->timer);
		on_reply(s, &s->parser.r);
	}
}

/* write_cb - the output drained: a long message is through, wait for the reply */
static void write_cb(struct bufferevent *bev, void *arg)
{
	struct gg_send *s = arg;

	(void)bev;
	if (!s->done && s->stage == GG_STAGE_MESSAGE)
		arm(s, s->p.timeout_ms);
}

/* event_cb - EOF or a socket error on the connected session */
static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct gg_send *s = arg;
	int err = EVUTIL_SOCKET_ERROR();

	(void)bev;
	if (s->closing) {
		finish(s);
		return;
	}
	if (what & BEV_EVENT_EOF)
		fail(s, GG_KIND_CLOSED, "connection closed by the server during %s",
		     gg_report_stage_str(s->stage));
	else
		fail(s, GG_KIND_NETWORK, "connection error during %s: %s",
		     gg_report_stage_str(s->stage), strerror(err));
}

/* timer_cb - a wait ran out */
static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gg_send *s = arg;

	(void)fd;
	(void)what;
	if (s->closing) {
		finish(s);
		return;
	}
	if (s->stage == GG_STAGE_CONNECT)
		fail(s, GG_KIND_TIMEOUT, "timed out after %.3gs connecting",
		     (double)s->p.timeout_ms / 1000.0);
	else if (s->stage == GG_STAGE_GREETING)
		fail(s, GG_KIND_TIMEOUT, "timed out after %.3gs waiting for the greeting",
		     (double)s->p.timeout_ms / 1000.0);
	else
		fail(s, GG_KIND_TIMEOUT, "timed out after %.3gs waiting for the reply to %s",
		     (double)s->p.timeout_ms / 1000.0, gg_report_stage_str(s->stage));
}

/* connect_failed - map a connect(2) error to a kind */
static void connect_failed(struct gg_send *s, int err)
{
	if (err == ECONNREFUSED)
		fail(s, GG_KIND_REFUSED, "connection refused");
	else if (err == ETIMEDOUT)
		fail(s, GG_KIND_TIMEOUT, "connect timed out");
	else
		fail(s, GG_KIND_NETWORK, "connect failed: %s", strerror(err));
}

/* connected - hand the socket to a bufferevent and wait for the greeting */
static void connected(struct gg_send *s)
{
	if (s->conn_ev != NULL) {
		event_free(s->conn_ev);
		s->conn_ev = NULL;
	}
	if ((s->bev = bufferevent_socket_new(s->base, s->fd, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		fail(s, GG_KIND_NETWORK, "out of memory");
		return;
	}
	dlg(s, "--", "connected", 9);
	bufferevent_setcb(s->bev, read_cb, write_cb, event_cb, s);
	bufferevent_setwatermark(s->bev, EV_READ, 0, READ_HIGH_WATER);
	if (bufferevent_enable(s->bev, EV_READ | EV_WRITE) != 0) {
		fail(s, GG_KIND_NETWORK, "cannot watch the connection");
		return;
	}
	s->stage = GG_STAGE_GREETING;
	gg_reply_parser_init(&s->parser);
	arm(s, s->p.timeout_ms);
}

/* conn_cb - the connect finished, one way or the other */
static void conn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gg_send *s = arg;
	int err = 0;
	socklen_t len = sizeof(err);

	(void)what;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		err = errno;
	if (err != 0) {
		connect_failed(s, err);
		return;
	}
	connected(s);
}

/* sockaddr_of - addr:port as a socket address; its length, 0 for no family */
static socklen_t sockaddr_of(const struct gg_addr *addr, unsigned port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (addr->family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		memcpy(&sin->sin_addr, addr->bytes, 4);
		return sizeof(*sin);
	}
	if (addr->family == AF_INET6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		memcpy(&sin6->sin6_addr, addr->bytes, 16);
		return sizeof(*sin6);
	}
	return 0;
}

/* gg_send_start - connect and run the dialogue */
enum gg_status gg_send_start(struct event_base *base, const struct gg_send_params *p,
			     const struct gg_addr *addr, unsigned port, struct gg_attempt *a,
			     gg_send_cb cb, void *arg, struct gg_send **out)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct gg_send *s;
	int rc, err;

	*out = NULL;
	if (port == 0 || port > 65535 || p->timeout_ms <= 0)
		return GG_EINVAL;
	if ((sslen = sockaddr_of(addr, port, &ss)) == 0)
		return GG_EINVAL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return GG_ENOMEM;
	s->base = base;
	s->p = *p;
	s->a = a;
	s->cb = cb;
	s->arg = arg;
	s->fd = -1;
	s->stage = GG_STAGE_CONNECT;
	s->t0 = gg_clock_sec();
	gg_addr_format(addr, a->addr, sizeof(a->addr));
	a->port = port;
	a->kind = GG_KIND_NETWORK;
	if ((s->timer = evtimer_new(base, timer_cb, s)) == NULL ||
	    (s->finish_ev = event_new(base, -1, 0, finish_cb, s)) == NULL) {
		session_free(s);
		return GG_ENOMEM;
	}
	s->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		connect_failed(s, errno);
		*out = s;
		return GG_OK;
	}
	rc = connect(s->fd, (struct sockaddr *)&ss, sslen);
	err = errno;
	if (rc == 0) {
		connected(s);
	} else if (err == EINPROGRESS) {
		if ((s->conn_ev = event_new(base, s->fd, EV_WRITE, conn_cb, s)) == NULL ||
		    event_add(s->conn_ev, NULL) != 0) {
			session_free(s);
			return GG_ENOMEM;
		}
		arm(s, p->timeout_ms);
	} else {
		connect_failed(s, err);
	}
	*out = s;
	return GG_OK;
}

/* gg_send_abort - stop without a callback */
void gg_send_abort(struct gg_send *s)
{
	if (s == NULL)
		return;
	if (s->finish_ev != NULL)
		event_del(s->finish_ev);
	session_free(s);
}

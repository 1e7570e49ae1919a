/*
 * session.h - greyprobe listen's connections: one SMTP session each
 *
 * listen.c owns the struct gg_listen_server (the loop, the listeners, the
 * tracker) and hands every accepted socket to gg_session_accept(), which
 * greets the client, or turns it away with the busy reply when
 * max_connections sessions are active.  session.c then reads the input a
 * line at a time, passes command lines to command.c and message lines to
 * the DATA phase, and frees the session when the client goes, the idle
 * timeout ends it, or its last reply after a close has been written.
 *
 * The state says which commands may come next (command.c's table checks
 * it): IDLE before MAIL, MAIL after it, RCPT once a recipient has been
 * accepted, DATA while the message is read (no commands then).  A closing
 * session reads nothing more and takes no new commands.
 *
 * Everything here runs on the one event loop of gg_listen_run(); nothing
 * is locked.
 */
#ifndef GG_SESSION_H
#define GG_SESSION_H

#include <limits.h>
#include <stdio.h>
#include <sys/socket.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "lib/addr.h"
#include "lib/list.h"
#include "greyprobe/listen.h"
#include "greyprobe/track.h"

#define GG_SESSION_ADDR_MAX 320		/* a path in MAIL/RCPT */
#define GG_SESSION_HELO_MAX 256

/* The receiver: what every session shares (listen.c fills it in). */
struct gg_listen_server {
	struct event_base *base;
	const struct gg_listen_params *p;
	struct gg_track *track;
	FILE *log;
	struct evconnlistener *ls[GG_LISTEN_MAX_ADDRS];
	size_t nls;
	struct event *sigint, *sigterm, *stop_timer, *resume;
	double t0;
	unsigned long active, messages;
	struct gg_list sessions;	/* of struct gg_session, newest first */
	char hostname[GG_SESSION_HELO_MAX];
};

enum gg_session_state {
	GG_SESSION_IDLE,		/* no transaction: before MAIL, after RSET */
	GG_SESSION_MAIL,		/* MAIL accepted, no recipient yet */
	GG_SESSION_RCPT,		/* at least one recipient accepted */
	GG_SESSION_DATA,		/* reading the message */
};

struct gg_session {
	struct gg_list link;		/* on srv->sessions */
	struct gg_listen_server *srv;
	struct bufferevent *bev;
	enum gg_session_state state;
	char client[GG_ADDR_STRLEN];
	char helo[GG_SESSION_HELO_MAX];
	char from[GG_SESSION_ADDR_MAX];
	char *rcpts[GG_LISTEN_MAX_RCPT];
	size_t nrcpts, ntried;
	int busy;			/* turned away: not counted as active */
	int closing;
	int skipping;			/* discarding the rest of an over-long command */
	int read_paused;		/* too many replies unread: input waits */
	int data_bol, toobig, longline, save_failed;
	size_t msgsize;
	FILE *save;
	char savetmp[PATH_MAX];
	unsigned errors;
};

/* Seconds since the receiver started. */
double gg_session_now(const struct gg_listen_server *srv);

/* Serve a new connection (or turn it away); the socket is closed on failure. */
void gg_session_accept(struct gg_listen_server *srv, evutil_socket_t fd,
		       const struct sockaddr *sa);

/* Close the connection now and forget the session. */
void gg_session_free(struct gg_session *s);

/* Queue one reply line (CRLF added). */
void gg_session_reply(struct gg_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Forget the current transaction: back to IDLE. */
void gg_session_reset(struct gg_session *s);

/* Stop reading; the session goes once its output is written. */
void gg_session_close_after(struct gg_session *s);

/* Count a protocol error; too many answer 421 and close the session. */
void gg_session_bad_command(struct gg_session *s);

/* DATA was accepted: read the message (and save it with --save). */
void gg_session_start_data(struct gg_session *s);

/* A socket address as text, IPv4-mapped IPv6 folded to IPv4. */
void gg_session_addr_str(const struct sockaddr *sa, char *buf, size_t size);

#endif

/*
 * listen.h - greyprobe listen: a test SMTP receiver that defers on purpose
 *
 * gg_listen_run() binds the given addresses, answers SMTP (RFC 5321:
 * EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, VRFY, HELP, QUIT) on one
 * libevent loop, lets track.c decide every RCPT (defer, accept, or 550),
 * saves accepted messages to a directory or discards them, and, when
 * SIGINT or SIGTERM arrives or the duration ends, prints the per-sender
 * summary on stdout.  Connections beyond max_connections get the busy
 * reply (421) and are closed.
 *
 * Limits, each answered and never fatal: a command line longer than
 * GG_LISTEN_LINE_MAX bytes gets "500 5.5.2" and is discarded; more than
 * GG_LISTEN_MAX_RCPT recipients per message "452 4.5.3"; a message over
 * max_size "552 5.3.4" (the rest is read and dropped); after
 * GG_LISTEN_MAX_ERRORS bad commands, or when no command arrives within
 * timeout_ms, "421" and the connection is closed.  Message lines longer
 * than GG_LISTEN_LINE_MAX are accepted in pieces, never buffered whole.
 *
 * Returns the process exit status: 0, or 69 when a listener cannot be
 * bound, 73 when the log or the save directory cannot be written, 70 on
 * an internal failure, with a message in err[].
 */
#ifndef GG_LISTEN_H
#define GG_LISTEN_H

#include <stddef.h>
#include "greyprobe/track.h"

#define GG_LISTEN_MAX_ADDRS 8
#define GG_LISTEN_LINE_MAX 1000
#define GG_LISTEN_MAX_RCPT 100
#define GG_LISTEN_MAX_ERRORS 20

struct gg_listen_params {
	const char *listen[GG_LISTEN_MAX_ADDRS];	/* "127.0.0.1:2525", "[::1]:2525" */
	size_t nlisten;
	struct gg_track_params track;
	long max_connections;		/* 0: no cap */
	const char *busy_reply;		/* "421 4.7.0 ..." */
	const char *save_dir;		/* NULL: discard messages */
	const char *log_path;		/* JSONL log, NULL: none */
	long duration_ms;		/* 0: until a signal */
	long timeout_ms;		/* idle time per command */
	long max_size;			/* bytes per message */
	const char *hostname;		/* in the greeting */
	int quiet;			/* no live lines on stderr */
};

/* Parse "ADDR:PORT" or "[IPV6]:PORT" (numeric only, port 0-65535). */
int gg_listen_parse_addr(const char *s, char *host, size_t hostsize, unsigned *port);

/* Run the receiver until a signal or the duration ends. */
int gg_listen_run(const struct gg_listen_params *p, char *err, size_t errsize);

#endif

/*
 * syslog.h - greygate's own /dev/log client: a batch of lines, one sendmmsg(2)
 *
 * Lines go to the local syslog daemon (rsyslog, journald, syslog-ng) as
 * glibc's syslog(3) writes them, one datagram each, RFC 3164 as on
 * /dev/log:  "<PRI>Mmm dd hh:mm:ss IDENT[PID]: MESSAGE"  with PRI the
 * facility and the level, the time local, PID getpid() when sent (so a
 * fork is noticed).  On a stream socket each line ends with a NUL byte,
 * as glibc does.
 *
 * Batching: gg_syslog_vline() with batched=1 only queues the line; the
 * queue is sent by gg_syslog_flush() with one sendmmsg(2) for all of its
 * lines (daemons flush once per turn of their loop).  A queue that is
 * full (GG_SYSLOG_BATCH_LINES lines or GG_SYSLOG_BATCH_BYTES bytes) is
 * sent before the next line joins it.  An unbatched line is sent at once,
 * together with, and after, whatever was queued, so lines keep their order.
 *
 * The socket: AF_UNIX SOCK_DGRAM to the path given (GG_SYSLOG_PATH, or a
 * test socket), connected at the first send, not at creation.  When the
 * syslog daemon restarts (ECONNREFUSED, ENOTCONN, ENOENT, ECONNRESET,
 * EPIPE) the client reconnects once and sends the rest again; a socket
 * that turns out to be a stream socket (EPROTOTYPE) is used as one, as
 * glibc does.  If syslog cannot be reached, the lines are dropped and
 * counted; every later flush tries to connect again.
 *
 * Never stalls the daemon for long: a send waits for room in the syslog
 * daemon's queue at most GG_SYSLOG_WAIT_MS per line (SO_SNDTIMEO, so a
 * receiver that keeps up costs no extra system call), and once one line
 * has waited that long the rest of the flush is sent without waiting
 * (MSG_DONTWAIT) and what finds no room is dropped and counted.  A flush
 * that gets nothing through leaves the client "stalled": later flushes
 * do not wait at all until syslog takes a line again.  A stopped or hung
 * syslog daemon thus costs the daemon at most two waits per outage.  The
 * first line that gets through afterwards is a warning,
 *   "warning: syslog: N log lines lost: PATH took none of them within
 *    100 ms ..."
 * so an admin sees the gap in the log itself.  glibc would block instead.
 *
 * Threads: every function takes the client's mutex, so any number of
 * threads may log, flush and set the ident concurrently (greygate-milter's
 * libmilter threads and its engine thread); a send that waits holds the
 * mutex, so other loggers wait with it, for no longer than the bound
 * above.  The queue is one per client, not per thread, so lines from all
 * threads reach syslog in the order they were logged.
 */
#ifndef GG_DAEMON_SYSLOG_H
#define GG_DAEMON_SYSLOG_H

#include <stdarg.h>

#include "lib/status.h"

#define GG_SYSLOG_PATH "/dev/log"
#define GG_SYSLOG_BATCH_LINES 256	/* lines queued before the queue sends itself */
#define GG_SYSLOG_BATCH_BYTES (128 * 1024)
#define GG_SYSLOG_LINE_MAX 2048		/* message bytes after the prefix; longer is cut */
#define GG_SYSLOG_WAIT_MS 100		/* longest wait for room, per line */

struct gg_syslog;

struct gg_syslog_stats {
	unsigned long lines;		/* lines syslog took */
	unsigned long dropped;		/* lines lost: syslog unreachable or full */
	unsigned long sends;		/* sendmmsg(2) calls */
	unsigned long connects;		/* successful connects (the first and reconnects) */
	int stalled;			/* flushes do not wait at the moment */
};

/*
 * A client for the socket at path (NULL or "": GG_SYSLOG_PATH) with this
 * ident (cut at 63 bytes) and facility (LOG_MAIL, ...).  No socket yet.
 * GG_EINVAL if path does not fit a sockaddr_un, GG_ENOMEM.
 */
enum gg_status gg_syslog_new(const char *path, const char *ident, int facility,
			     struct gg_syslog **out);
/* Send what is queued, close the socket, free the client (NULL: no-op). */
void gg_syslog_free(struct gg_syslog *sl);
/* A new ident and facility (a reload): lines queued before go out under the old ones. */
void gg_syslog_set_ident(struct gg_syslog *sl, const char *ident, int facility);
/*
 * One line at level prio (LOG_ERR, ...): prefix (e.g. "warning: ", at most
 * 31 bytes) then the formatted message, cut at GG_SYSLOG_LINE_MAX - 1
 * bytes.  Queued when batched, else sent at once with the queue.
 */
void gg_syslog_vline(struct gg_syslog *sl, int prio, int batched, const char *prefix,
		     const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));
/* Send every queued line, one sendmmsg(2) when syslog keeps up. */
void gg_syslog_flush(struct gg_syslog *sl);
/* The counters so far. */
void gg_syslog_stats(struct gg_syslog *sl, struct gg_syslog_stats *st);

#endif

/*
 * log.h - log lines for daemons and tools: syslog or stderr
 *
 * Libraries never log; daemons log once, where the context is known.
 * The logger is a plain struct owned by main() and passed down, so no
 * module keeps hidden global state.  With use_stderr the lines carry a
 * timestamp and the program name, as an admin running with -f expects.
 *
 * Syslog is greygate's own /dev/log client (daemon/syslog.h), not glibc's
 * syslog(3): batched lines wait in its queue and go out with one
 * sendmmsg(2) at gg_log_flush(), an unbatched line goes at once (with the
 * queue before it); a syslog daemon that is down or full costs a bounded
 * wait, and the lines it did not take are counted and reported by a
 * warning when syslog takes lines again.  openlog(3) is still called with
 * the same ident and facility, for libraries that log through syslog(3)
 * themselves (libmilter), but glibc opens its socket only if they do.
 *
 * Threads: every function may be called from any thread while others log
 * (greygate-milter's libmilter threads and engine thread): the stderr
 * path is stdio's locked stream, the syslog client has its own mutex, and
 * gg_log_reopen() never frees or overwrites what another thread may read.
 * Nothing queued is lost at exit as long as gg_log_close() runs; daemons
 * call gg_log_flush() once per loop turn and before they fork.
 */
#ifndef GG_LOG_H
#define GG_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <syslog.h>

struct gg_syslog;

struct gg_log {
	int use_stderr;
	int verbose;
	char ident[64];
	long pid;	/* for stderr lines; stderr logging never forks */
	struct gg_syslog *syslog;	/* the /dev/log client; NULL with use_stderr */
	/* openlog() keeps a pointer: gg_log_reopen() writes the buffer syslog is not using. */
	char reopened[2][64];
	int nreopen;
};

/*
 * Set up logging; facility is a name such as "mail"; syslog_socket is the
 * syslog daemon's socket (NULL or "": /dev/log; daemons take it from the
 * environment variable GG_SYSLOG_SOCKET, for tests).  Returns -1 with the
 * reason in err if the facility is unknown, the path too long, or memory
 * short.
 */
int gg_log_open(struct gg_log *log, const char *ident, const char *facility, int use_stderr,
		const char *syslog_socket, char *err, size_t errsize);
/* Send what waits and stop logging to syslog. */
void gg_log_close(struct gg_log *log);
/*
 * Syslog again with a new ident and facility (a reload); -1 if the facility
 * is unknown.  Safe while other threads log: there is no closelog() in
 * between, and the ident they may be reading is never overwritten.
 */
int gg_log_reopen(struct gg_log *log, const char *ident, const char *facility);
void gg_log_msg(const struct gg_log *log, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void gg_log_vmsg(const struct gg_log *log, int prio, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
/*
 * A line that may wait until gg_log_flush(): in stdio's buffer when logging
 * to stderr, in the syslog client's queue otherwise (daemons flush once per
 * turn of their loop, which saves a system call per request under load).
 * A full queue sends itself.
 */
void gg_log_batched(const struct gg_log *log, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Write out the batched lines: one fflush(), or one sendmmsg(2) to syslog. */
void gg_log_flush(const struct gg_log *log);

#define gg_log_info(l, ...) gg_log_msg((l), LOG_INFO, __VA_ARGS__)
#define gg_log_warn(l, ...) gg_log_msg((l), LOG_WARNING, __VA_ARGS__)
#define gg_log_err(l, ...) gg_log_msg((l), LOG_ERR, __VA_ARGS__)
#define gg_log_debug(l, ...) do { if ((l)->verbose) gg_log_msg((l), LOG_DEBUG, __VA_ARGS__); } while (0)

#endif

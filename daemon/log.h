/*
 * log.h - log lines for daemons and tools: syslog or stderr
 *
 * Libraries never log; daemons log once, where the context is known.
 * The logger is a plain struct owned by main() and passed down, so no
 * module keeps hidden global state.  With use_stderr the lines carry a
 * timestamp and the program name, as an admin running with -f expects.
 */
#ifndef GG_LOG_H
#define GG_LOG_H

#include <stdarg.h>
#include <syslog.h>

struct gg_log {
	int use_stderr;
	int verbose;
	char ident[64];
	long pid;	/* for stderr lines; stderr logging never forks */
	/* openlog() keeps a pointer: gg_log_reopen() writes the buffer syslog is not using. */
	char reopened[2][64];
	int nreopen;
};

/* Set up logging; facility is a name such as "mail"; returns -1 if unknown. */
int gg_log_open(struct gg_log *log, const char *ident, const char *facility, int use_stderr);
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
 * A line that may wait in stdio's buffer until gg_log_flush() when logging
 * to stderr (daemons flush once per turn of their loop, which saves a
 * system call per request under load); to syslog it is sent at once.
 */
void gg_log_batched(const struct gg_log *log, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void gg_log_flush(const struct gg_log *log);

#define gg_log_info(l, ...) gg_log_msg((l), LOG_INFO, __VA_ARGS__)
#define gg_log_warn(l, ...) gg_log_msg((l), LOG_WARNING, __VA_ARGS__)
#define gg_log_err(l, ...) gg_log_msg((l), LOG_ERR, __VA_ARGS__)
#define gg_log_debug(l, ...) do { if ((l)->verbose) gg_log_msg((l), LOG_DEBUG, __VA_ARGS__); } while (0)

#endif

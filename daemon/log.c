/*
 * log.c - syslog or stderr logging (see log.h)
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/syslog.h"
#include "lib/util.h"

static const struct {
	const char *name;
	int facility;
} facilities[] = {
	{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON }, { "local0", LOG_LOCAL0 },
	{ "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
	{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 },
	{ "local7", LOG_LOCAL7 },
};

/* facility_of - LOG_MAIL for "mail", ...; -1 if unknown */
static int facility_of(const char *facility)
{
	for (size_t i = 0; i < GG_ARRAY_LEN(facilities); i++)
		if (strcmp(facilities[i].name, facility) == 0)
			return facilities[i].facility;
	return -1;
}

/* gg_log_open - choose the destination */
int gg_log_open(struct gg_log *log, const char *ident, const char *facility, int use_stderr,
		const char *syslog_socket, char *err, size_t errsize)
{
	int fac = facility_of(facility);
	enum gg_status st;

	if (fac < 0) {
		snprintf(err, errsize, "syslog_facility = %s: unknown facility", facility);
		return -1;
	}
	(void)gg_strcpy(log->ident, sizeof(log->ident), ident);
	log->use_stderr = use_stderr;
	log->pid = (long)getpid();
	log->syslog = NULL;
	/* Lines are flushed one by one or per loop turn (gg_log_flush), never torn. */
	if (use_stderr) {
		setvbuf(stderr, NULL, _IOFBF, 1 << 16);
		return 0;
	}
	if ((st = gg_syslog_new(syslog_socket, log->ident, fac, &log->syslog)) != GG_OK) {
		if (st == GG_EINVAL)
			snprintf(err, errsize, "GG_SYSLOG_SOCKET=%s: the path is too long for a socket",
				 syslog_socket);
		else
			snprintf(err, errsize, "cannot set up syslog: out of memory");
		return -1;
	}
	/* For libmilter's own syslog(3) lines; glibc connects only if they come. */
	openlog(log->ident, LOG_PID, fac);
	return 0;
}

/* gg_log_reopen - a new ident and facility for syslog, in the buffer not in use */
int gg_log_reopen(struct gg_log *log, const char *ident, const char *facility)
{
	int fac = facility_of(facility);
	char *buf;

	if (fac < 0)
		return -1;
	buf = log->reopened[log->nreopen++ & 1];
	(void)gg_strcpy(buf, sizeof(log->reopened[0]), ident);
	if (!log->use_stderr) {
		gg_syslog_set_ident(log->syslog, buf, fac);
		openlog(buf, LOG_PID, fac);
	}
	return 0;
}

/* gg_log_close - the lines still queued, then no more syslog */
void gg_log_close(struct gg_log *log)
{
	if (log->use_stderr) {
		fflush(stderr);
		return;
	}
	gg_syslog_free(log->syslog);
	log->syslog = NULL;
	closelog();
}

/* vmsg - one line, flushed or left in the buffer (or the syslog client's queue) */
static void vmsg(const struct gg_log *log, int prio, int flush, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));
static void vmsg(const struct gg_log *log, int prio, int flush, const char *fmt, va_list ap)
{
	/* Warnings and worse say so; notice, info and debug lines carry no level word. */
	static const char *level[] = { "panic: ", "alert: ", "fatal: ", "error: ", "warning: ",
				       "", "", "" };
	struct timespec ts;
	struct tm tm;
	char line[GG_SYSLOG_LINE_MAX], when[32];

	if (prio == LOG_DEBUG && !log->verbose)
		return;
	if (!log->use_stderr && log->syslog != NULL) {
		/* Formatted straight into the client's queue; closed or never opened: stderr. */
		gg_syslog_vline(log->syslog, prio, !flush, level[prio & 7], fmt, ap);
		return;
	}
	vsnprintf(line, sizeof(line), fmt, ap);
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ld %s[%ld]: %s%s\n", when, ts.tv_nsec / 1000000L, log->ident,
		log->pid, level[prio & 7], line);
	if (flush)
		fflush(stderr);
}

/* gg_log_vmsg - one line, written at once */
void gg_log_vmsg(const struct gg_log *log, int prio, const char *fmt, va_list ap)
{
	vmsg(log, prio, 1, fmt, ap);
}

/* gg_log_batched - one line that may wait for gg_log_flush() */
void gg_log_batched(const struct gg_log *log, int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(log, prio, 0, fmt, ap);
	va_end(ap);
}

/* gg_log_flush - write out batched lines */
void gg_log_flush(const struct gg_log *log)
{
	if (log->syslog != NULL)
		gg_syslog_flush(log->syslog);
	else
		fflush(stderr);
}

/* gg_log_msg - one line, printf style */
void gg_log_msg(const struct gg_log *log, int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gg_log_vmsg(log, prio, fmt, ap);
	va_end(ap);
}

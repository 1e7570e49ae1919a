/*
 * main.c - greygate-milter start-up and shutdown: arguments, socket, database, privileges
 *
 * Order matters and is fixed, as in greygate-policyd: read and check the
 * configuration (greygate.conf, the same file; milter_socket is this
 * daemon's socket), open the log, register the filter and open its socket
 * with libmilter (ports below 1024 need root), go to the background (before
 * the database is opened, because Berkeley DB registers the process that
 * opens it), open and recover the database, write pid_file, hand the
 * database files to the unprivileged user and drop privileges for good,
 * then start the engine thread (worker.c, which also starts the SPF worker
 * threads) and hand the main thread to smfi_main().  Any failure before
 * that point is printed as "greygate-milter: fatal: ..." with exit
 * status 1 (by the waiting parent when going to the background).
 *
 * Signals: SIGHUP, SIGUSR1, SIGTERM and SIGINT are blocked here before any
 * thread starts.  The engine thread takes SIGHUP (reload) and SIGUSR1
 * (statistics); libmilter's own signal thread takes SIGTERM and SIGINT and
 * makes smfi_main() return (it polls, so that takes up to a few seconds).
 * Then the engine thread answers whatever still waits and ends, and the
 * database is closed cleanly ("stopped; database closed cleanly").
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <libmilter/mfapi.h>

#include "engine/config.h"
#include "checks/eval.h"
#include "daemon/daemon.h"
#include "milter/milter.h"
#include "daemon/privs.h"
#include "lib/util.h"

/*
 * check_socket - milter_socket in libmilter's syntax: inet:PORT@ADDR,
 * inet6:PORT@ADDR, unix:/path, local:/path or /path.  Postfix's order
 * (inet:ADDR:PORT) is the usual mistake, so it gets its own message.
 */
static int check_socket(const struct gg_config *cfg, char *err, size_t errsize)
{
	const char *s = cfg->milter_socket, *where = gg_config_where(cfg, "milter_socket");
	const char *p, *at;
	char port[16];
	long n;

	if (where == NULL || where[0] == '\0')
		where = "milter_socket";
	if (strncmp(s, "unix:", 5) == 0 || strncmp(s, "local:", 6) == 0 || s[0] == '/') {
		p = s[0] == '/' ? s : strchr(s, ':') + 1;
		if (p[0] != '/' || strlen(p) >= 100) {
			snprintf(err, errsize, "%s: milter_socket = %s: expected an absolute path of "
				 "at most 99 bytes", where, s);
			return -1;
		}
		return 0;
	}
	if (strncmp(s, "inet:", 5) == 0)
		p = s + 5;
	else if (strncmp(s, "inet6:", 6) == 0)
		p = s + 6;
	else {
		snprintf(err, errsize, "%s: milter_socket = %s: expected inet:PORT@ADDRESS, "
			 "inet6:PORT@ADDRESS or unix:/path", where, s);
		return -1;
	}
	at = strchr(p, '@');
	if (at == NULL || at[1] == '\0' || (size_t)(at - p) >= sizeof(port) ||
	    gg_strbcpy(port, sizeof(port), p, (size_t)(at - p)) != GG_OK ||
	    gg_parse_long(port, 1, 65535, &n) != GG_OK) {
		snprintf(err, errsize, "%s: milter_socket = %s: libmilter writes inet:PORT@ADDRESS "
			 "(e.g. inet:10024@127.0.0.1; Postfix's smtpd_milters writes the same socket "
			 "inet:127.0.0.1:10024)", where, s);
		return -1;
	}
	return 0;
}

/* mlt_validate - the checks' settings and milter_socket */
enum gg_status mlt_validate(const struct gg_config *cfg, char *err, size_t errsize)
{
	enum gg_status st = gg_eval_validate(cfg, err, errsize);

	if (st != GG_OK)
		return st;
	return check_socket(cfg, err, errsize) == 0 ? GG_OK : GG_EINVAL;
}

/* mlt_load_config - file, then -o overrides, then checks */
struct gg_config *mlt_load_config(const struct milter *m, char *err, size_t errsize)
{
	return gg_daemon_config(&m->args, mlt_validate, err, errsize);
}

/* socket_path - the file of a unix socket, or NULL for inet */
static const char *socket_path(const char *s)
{
	if (s[0] == '/')
		return s;
	if (strncmp(s, "unix:", 5) == 0)
		return s + 5;
	if (strncmp(s, "local:", 6) == 0)
		return s + 6;
	return NULL;
}

/* open_socket - register with libmilter and bind milter_socket (as root) */
static int open_socket(struct milter *m, char *err, size_t errsize)
{
	const char *path = socket_path(m->cfg->milter_socket);
	struct stat st;

	if (mlt_callbacks_register(m) != 0) {
		snprintf(err, errsize, "smfi_register failed (libmilter too old?)");
		return -1;
	}
	/* libmilter removes a stale socket file, but it must be one. */
	if (path != NULL && lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		snprintf(err, errsize, "milter_socket = %s: exists and is not a socket",
			 m->cfg->milter_socket);
		return -1;
	}
	if (smfi_setconn(m->cfg->milter_socket) != MI_SUCCESS ||
	    smfi_opensocket(1) != MI_SUCCESS) {
		snprintf(err, errsize, "milter_socket = %s: cannot open it (in use, or no "
			 "permission; libmilter's reason is in syslog)", m->cfg->milter_socket);
		return -1;
	}
	if (path != NULL && chmod(path, (mode_t)m->cfg->listen_unix_mode) != 0) {
		snprintf(err, errsize, "milter_socket = %s: chmod: %s", m->cfg->milter_socket,
			 strerror(errno));
		return -1;
	}
	return 0;
}

/* block_signals - before any thread: see the header comment */
static void block_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/*
 * start_engine - the queue, the store, the pid file, the user, the engine
 * thread; 0, or -1 after logging and reporting why (what was opened is closed)
 */
static int start_engine(struct milter *m, int report_fd)
{
	const char *dbdir = gg_store_bdb_dir(m->cfg->database);
	char err[1024];

	err[0] = '\0';
	if (mlt_queue_init(&m->queue, 1000, err, sizeof(err)) != 0 ||
	    gg_store_open(m->cfg->database, (size_t)m->cfg->database_cache_size, &m->store,
			  err, sizeof(err)) != GG_OK ||
	    gg_store_set_lifetime(m->store, m->cfg->greylist_max_age) != GG_OK ||
	    gg_daemon_write_pid(m->cfg->pid_file, err, sizeof(err)) != 0 ||
	    gg_privs_drop(m->cfg->user, dbdir, err, sizeof(err)) != GG_OK ||
	    mlt_worker_start(m, err, sizeof(err)) != 0) {
		gg_log_err(&m->log, "fatal: %s", err);
		gg_daemon_report(report_fd, err);
		gg_store_close(m->store);
		mlt_queue_fini(&m->queue);
		return -1;
	}
	if (m->store->notice[0] != '\0')
		gg_log_msg(&m->log, LOG_NOTICE, "%s", m->store->notice);
	gg_log_info(&m->log, "%s %s started: milter socket %s, database %s%s%s%s, greylist_delay=%lds",
		    MLT_PROG, PACKAGE_VERSION, m->cfg->milter_socket, m->cfg->database,
		    m->store->summary[0] ? " (" : "", m->store->summary,
		    m->store->summary[0] ? ")" : "", m->cfg->greylist_delay);
	gg_daemon_report(report_fd, "+");
	return 0;
}

/* remove_socket - libmilter leaves its unix socket behind: tidy up if we may */
static void remove_socket(const char *milter_socket)
{
	const char *path = socket_path(milter_socket);
	struct stat st;

	if (path != NULL && lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		(void)unlink(path);
}

int main(int argc, char **argv)
{
	struct milter m;
	char err[1024];
	int report_fd = -1, rc;

	memset(&m, 0, sizeof(m));
	m.queue.wake_fd = -1;
	if ((rc = gg_daemon_args(argc, argv, MLT_PROG, &m.args)) >= 0)
		return rc;
	if ((m.cfg = mlt_load_config(&m, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s: fatal: %s\n", MLT_PROG, err);
		return 1;
	}
	if (m.args.check || m.args.print) {
		if (m.args.print)
			gg_config_print(m.cfg, stdout, 0);
		gg_config_free(m.cfg);
		return 0;
	}
	if (gg_log_open(&m.log, m.cfg->syslog_name[0] ? m.cfg->syslog_name : MLT_PROG,
			m.cfg->syslog_facility, m.args.foreground, getenv("GG_SYSLOG_SOCKET"),
			err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: fatal: %s\n", MLT_PROG, err);
		gg_config_free(m.cfg);
		return 1;
	}
	m.log.verbose = m.cfg->log_verbose;
	block_signals();
	err[0] = '\0';
	if (open_socket(&m, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: fatal: %s\n", MLT_PROG, err);
		gg_config_free(m.cfg);
		gg_log_close(&m.log);
		return 1;
	}
	if (!m.args.foreground) {
		int parent_status;

		gg_log_flush(&m.log);	/* a line queued now would be sent by both processes */
		if (gg_daemon_background(MLT_PROG, &report_fd, &parent_status) != GG_OK) {
			fprintf(stderr, "%s: fatal: cannot go to the background: %s\n", MLT_PROG,
				strerror(errno));
			gg_config_free(m.cfg);
			gg_log_close(&m.log);
			return 1;
		}
		if (parent_status >= 0)
			_exit(parent_status);	/* the child owns the socket now */
	}
	if (start_engine(&m, report_fd) != 0) {
		gg_config_free(m.cfg);
		gg_log_close(&m.log);
		return 1;
	}

	rc = smfi_main() == MI_SUCCESS ? 0 : 1;

	gg_log_info(&m.log, "stopping%s", rc ? " (smfi_main failed; libmilter's reason is in syslog)" : "");
	mlt_worker_stop(&m);
	gg_daemon_remove_pid(m.cfg->pid_file, &m.log);
	remove_socket(m.cfg->milter_socket);
	gg_store_close(m.store);
	gg_log_info(&m.log, "stopped; database closed cleanly");
	gg_config_free(m.cfg);
	gg_log_close(&m.log);
	return rc;
}

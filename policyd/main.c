/*
 * main.c - greygate-policyd start-up: arguments, sockets, database, privileges
 *
 * Order matters and is fixed: read and check the configuration, open the
 * log, bind every socket (ports below 1024 need root), go to the background
 * (before the database is opened, because Berkeley DB registers the process
 * that opens it), open and recover the database, hand the database files
 * to the unprivileged user and drop privileges for good, then tell the
 * waiting parent that start-up succeeded.  Any failure before that point is
 * printed by the parent as "greygate-policyd: fatal: ..." with exit status 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <event2/event.h>

#include "engine/config.h"
#include "checks/eval.h"
#include "daemon/daemon.h"
#include "policyd/policyd.h"
#include "daemon/privs.h"
#include "lib/hostport.h"
#include "lib/util.h"

#define PROG "greygate-policyd"

/* policyd_load_config - file, then -o overrides, then checks */
struct gg_config *policyd_load_config(const struct policyd *pd, char *err, size_t errsize)
{
	return gg_daemon_config(&pd->args, gg_eval_validate, err, errsize);
}

/* bind_inet - "ADDR:PORT" or "[ADDR]:PORT", numeric (lib/hostport) */
static int bind_inet(const char *spec, char *err, size_t errsize)
{
	struct gg_hostport hp;
	int fd, on = 1;

	/* Every fault gets the one message that shows both accepted forms. */
	if (gg_hostport_parse(spec, 0, 0, &hp, NULL) != GG_OK)
		goto bad;
	if ((fd = socket(hp.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
		snprintf(err, errsize, "listen = inet:%s: socket: %s", spec, strerror(errno));
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (hp.ss.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&hp.ss, hp.sslen) != 0) {
		snprintf(err, errsize, "listen = inet:%s: cannot bind: %s", spec, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
bad:
	snprintf(err, errsize, "listen = inet:%s: expected inet:ADDRESS:PORT or inet:[IPV6]:PORT "
		 "with a numeric address", spec);
	return -1;
}

/* bind_unix - a socket file with listen_unix_mode */
static int bind_unix(const char *path, long mode, char *err, size_t errsize)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (path[0] != '/' || gg_strcpy(sun.sun_path, sizeof(sun.sun_path), path) != GG_OK) {
		snprintf(err, errsize, "listen = unix:%s: expected an absolute path of at most %zu bytes",
			 path, sizeof(sun.sun_path) - 1);
		return -1;
	}
	/* Remove a stale socket from an earlier run, but never any other kind of file. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errsize, "listen = unix:%s: exists and is not a socket", path);
			return -1;
		}
		(void)unlink(path);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
		snprintf(err, errsize, "listen = unix:%s: socket: %s", path, strerror(errno));
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 || chmod(path, (mode_t)mode) != 0) {
		snprintf(err, errsize, "listen = unix:%s: cannot bind: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* policyd_bind - every socket in listen = */
int policyd_bind(struct policyd *pd, char *err, size_t errsize)
{
	char *copy = strdup(pd->cfg->listen), *save = NULL, *tok;
	int rc = 0;

	if (copy == NULL) {
		snprintf(err, errsize, "out of memory");
		return -1;
	}
	for (tok = strtok_r(copy, ", \t", &save); tok != NULL; tok = strtok_r(NULL, ", \t", &save)) {
		int fd;
		if (pd->nlisten == POLICYD_MAX_LISTENERS) {
			snprintf(err, errsize, "listen: more than %d sockets", POLICYD_MAX_LISTENERS);
			rc = -1;
			break;
		}
		if (strncmp(tok, "inet:", 5) == 0)
			fd = bind_inet(tok + 5, err, errsize);
		else if (strncmp(tok, "unix:", 5) == 0)
			fd = bind_unix(tok + 5, pd->cfg->listen_unix_mode, err, errsize);
		else {
			snprintf(err, errsize, "listen = %s: expected inet:ADDRESS:PORT or unix:/path", tok);
			fd = -1;
		}
		if (fd < 0) {
			rc = -1;
			break;
		}
		pd->listen_fd[pd->nlisten] = fd;
		(void)gg_strcpy(pd->listen_name[pd->nlisten], sizeof(pd->listen_name[0]), tok);
		pd->nlisten++;
	}
	free(copy);
	return rc;
}

/* raise_fd_limit - room for policy_max_connections plus our own files */
static void raise_fd_limit(struct policyd *pd)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)pd->cfg->policy_max_connections + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < want)
		gg_log_warn(&pd->log, "file descriptor limit is %lu, below policy_max_connections "
			    "(%ld) + 64; connections beyond it will fail", (unsigned long)rl.rlim_cur,
			    pd->cfg->policy_max_connections);
}

/* drop_privileges - switch to user= for good, giving it the database first */
static int drop_privileges(struct policyd *pd, char *err, size_t errsize)
{
	const char *dbdir = gg_store_bdb_dir(pd->cfg->database);

	return gg_privs_drop(pd->cfg->user, dbdir, err, errsize) == GG_OK ? 0 : -1;
}

/* startup_failed - a start-up error on stderr; release what exists so far */
static int startup_failed(struct policyd *pd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int startup_failed(struct policyd *pd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: fatal: ", PROG);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	for (int i = 0; i < pd->nlisten; i++)
		close(pd->listen_fd[i]);
	gg_config_free(pd->cfg);
	pd->cfg = NULL;
	gg_log_close(&pd->log);
	return 1;
}

int main(int argc, char **argv)
{
	struct policyd pd;
	char err[1024];
	int report_fd = -1, rc;

	memset(&pd, 0, sizeof(pd));
	if ((rc = gg_daemon_args(argc, argv, PROG, &pd.args)) >= 0)
		return rc;
	if ((pd.cfg = policyd_load_config(&pd, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s: fatal: %s\n", PROG, err);
		return 1;
	}
	if (pd.args.check) {
		gg_config_free(pd.cfg);
		return 0;
	}
	if (pd.args.print) {
		gg_config_print(pd.cfg, stdout, 0);
		gg_config_free(pd.cfg);
		return 0;
	}
	if (gg_log_open(&pd.log, pd.cfg->syslog_name[0] ? pd.cfg->syslog_name : PROG,
			pd.cfg->syslog_facility, pd.args.foreground, getenv("GG_SYSLOG_SOCKET"),
			err, sizeof(err)) != 0)
		return startup_failed(&pd, "%s", err);
	pd.log.verbose = pd.cfg->log_verbose;
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit(&pd);
	if (policyd_bind(&pd, err, sizeof(err)) != 0)
		return startup_failed(&pd, "%s", err);
	if (!pd.args.foreground) {
		gg_log_flush(&pd.log);	/* a line queued now would be sent by both processes */
		int parent_status;
		if (gg_daemon_background(PROG, &report_fd, &parent_status) != GG_OK)
			return startup_failed(&pd, "cannot go to the background: %s", strerror(errno));
		if (parent_status >= 0)
			_exit(parent_status);	/* the child owns the sockets now */
	}
	if (gg_store_open(pd.cfg->database, (size_t)pd.cfg->database_cache_size, &pd.store,
			  err, sizeof(err)) != GG_OK ||
	    gg_store_set_lifetime(pd.store, pd.cfg->greylist_max_age) != GG_OK ||
	    gg_daemon_write_pid(pd.cfg->pid_file, err, sizeof(err)) != 0 ||
	    drop_privileges(&pd, err, sizeof(err)) != 0 ||
	    (pd.base = event_base_new()) == NULL) {
		if (pd.base == NULL && err[0] == '\0')
			snprintf(err, sizeof(err), "cannot create the event loop");
		gg_log_err(&pd.log, "fatal: %s", err);
		gg_daemon_report(report_fd, err);
		gg_store_close(pd.store);
		for (int i = 0; i < pd.nlisten; i++)
			close(pd.listen_fd[i]);
		gg_config_free(pd.cfg);
		gg_log_close(&pd.log);
		return 1;
	}
	if (pd.store->notice[0] != '\0')
		gg_log_msg(&pd.log, LOG_NOTICE, "%s", pd.store->notice);
	gg_log_info(&pd.log, "%s %s started: listening on %s, database %s%s%s%s, greylist_delay=%lds",
		    PROG, PACKAGE_VERSION, pd.cfg->listen, pd.cfg->database,
		    pd.store->summary[0] ? " (" : "", pd.store->summary,
		    pd.store->summary[0] ? ")" : "", pd.cfg->greylist_delay);
	gg_daemon_report(report_fd, "+");
	rc = policyd_run(&pd);
	gg_daemon_remove_pid(pd.cfg->pid_file, &pd.log);
	gg_store_close(pd.store);
	gg_log_info(&pd.log, "stopped; database closed cleanly");
	event_base_free(pd.base);
	gg_config_free(pd.cfg);
	gg_log_close(&pd.log);
	return rc;
}

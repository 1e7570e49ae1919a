/*
 * daemon.h - what greygate's daemons do alike at start-up and exit
 *
 * Going to the background so that the starting shell still learns whether
 * start-up worked: gg_daemon_background() forks; the parent waits on a
 * pipe and returns to main() with status 0 when the child reports "+" with
 * gg_daemon_report(), or prints the child's error ("PROG: fatal: ...") and
 * returns status 1; main() leaves with that status (this module never
 * exits).  The pid
 * file is written after the database is open and removed at a clean exit
 * if it still names this process.  The command line and the loading of the
 * configuration are the same for both daemons too.
 */
#ifndef GG_DAEMON_H
#define GG_DAEMON_H

#include <stddef.h>
#include <stdio.h>

#include "engine/config.h"
#include "daemon/log.h"
#include "lib/status.h"

/* The command line both daemons share: -c FILE -f -t -n -o name=value -V -h. */
struct gg_daemon_args {
	struct gg_config_source config;	/* -c, -o */
	int foreground;			/* -f */
	int check;			/* -t */
	int print;			/* -n */
};

/*
 * Parse the command line into *a (the file starts as GG_CONFIG_PATH).
 * Returns -1 to go on, or the exit status: 0 after -V or -h (the usage on
 * stdout), 64 for a usage error (the usage on stderr).
 */
int gg_daemon_args(int argc, char **argv, const char *prog, struct gg_daemon_args *a);
/*
 * The configuration of a start or a reload: the file, then the -o
 * overrides, gg_config_finish(), then validate (may be NULL) for what only
 * the caller can check.  NULL with "file:line: ..." in err.
 */
struct gg_config *gg_daemon_config(const struct gg_daemon_args *a,
				   enum gg_status (*validate)(const struct gg_config *cfg, char *err,
							      size_t errsize),
				   char *err, size_t errsize);

/*
 * Fork into the background (new session, cwd /, stdio on /dev/null).
 * Returns GG_OK twice.  In the child *parent_status is -1 and *report_fd
 * the pipe to report on.  In the parent, once the child has reported,
 * *parent_status is the status to leave with at once through _exit()
 * (0: the child runs; 1: it failed, and its error is printed on stderr as
 * "PROG: fatal: ..."), so that the parent releases nothing the child now
 * owns.  GG_EIO with errno set if the pipe or the fork failed (no child).
 */
enum gg_status gg_daemon_background(const char *prog, int *report_fd, int *parent_status);
/* Tell the waiting parent: "+" when running, else the error text; closes fd (-1: no-op). */
void gg_daemon_report(int fd, const char *msg);
/* Write our pid to path ("" : none); -1 with "pid_file = PATH: why" in err. */
int gg_daemon_write_pid(const char *path, char *err, size_t errsize);
/*
 * Remove the pid file at a clean exit if it still names us.  After the
 * privilege drop this needs a directory the user may write; otherwise the
 * file stays and one info line says why.
 */
void gg_daemon_remove_pid(const char *path, const struct gg_log *log);

#endif

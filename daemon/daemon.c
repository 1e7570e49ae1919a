/*
 * daemon.c - background start with a start-up verdict, pid file (see daemon.h)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "store/store.h"

/* usage - the command line both daemons take */
static void usage(FILE *fp, const char *prog)
{
	fprintf(fp, "usage: %s [-c FILE] [-f] [-t] [-n] [-o name=value]... [-V]\n"
		"  -c FILE        configuration file (default %s)\n"
		"  -f             stay in the foreground, log to stderr\n"
		"  -t             check the configuration and exit\n"
		"  -n             print the effective settings and exit\n"
		"  -o name=value  override a setting (may be repeated)\n"
		"  -V             print the version and exit\n", prog, GG_CONFIG_PATH);
}

int gg_daemon_args(int argc, char **argv, const char *prog, struct gg_daemon_args *a)
{
	char err[128];
	int opt;

	memset(a, 0, sizeof(*a));
	gg_config_source_init(&a->config);
	while ((opt = getopt(argc, argv, "c:ftno:Vh")) != -1) {
		switch (opt) {
		case 'f':
			a->foreground = 1;
			break;
		case 't':
			a->check = 1;
			break;
		case 'n':
			a->print = 1;
			break;
		case 'c':
		case 'o':
			if (gg_config_source_option(&a->config, opt, optarg, err, sizeof(err)) != GG_OK) {
				fprintf(stderr, "%s: fatal: %s\n", prog, err);
				return 64;
			}
			break;
		case 'V':
			printf("%s %s\n", prog, PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout, prog);
			return 0;
		default:
			usage(stderr, prog);
			return 64;
		}
	}
	if (optind != argc) {
		usage(stderr, prog);
		return 64;
	}
	return -1;
}

struct gg_config *gg_daemon_config(const struct gg_daemon_args *a,
				   enum gg_status (*validate)(const struct gg_config *cfg, char *err,
							      size_t errsize),
				   char *err, size_t errsize)
{
	struct gg_config *cfg = gg_config_read(&a->config, err, errsize);

	if (cfg != NULL && validate != NULL && validate(cfg, err, errsize) != GG_OK) {
		gg_config_free(cfg);
		return NULL;
	}
	return cfg;
}

/* gg_daemon_background - fork; the parent learns the child's start-up verdict */
enum gg_status gg_daemon_background(const char *prog, int *report_fd, int *parent_status)
{
	int p[2], fd;
	pid_t pid;
	char buf[1024];
	ssize_t n;
	size_t got = 0;

	*parent_status = -1;
	if (pipe(p) != 0)
		return GG_EIO;
	if ((pid = fork()) < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		errno = e;
		return GG_EIO;
	}
	if (pid > 0) {
		close(p[1]);
		while ((n = read(p[0], buf + got, sizeof(buf) - 1 - got)) > 0)
			got += (size_t)n;
		close(p[0]);
		buf[got] = '\0';
		if (got == 1 && buf[0] == '+') {
			*parent_status = 0;
			return GG_OK;
		}
		fprintf(stderr, "%s: fatal: %s\n", prog, got ? buf : "start-up failed (see syslog)");
		fflush(stderr);
		*parent_status = 1;
		return GG_OK;
	}
	close(p[0]);
	(void)setsid();
	if (chdir("/") != 0)
		return GG_EIO;
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	*report_fd = p[1];
	return GG_OK;
}

void gg_daemon_report(int fd, const char *msg)
{
	if (fd < 0)
		return;
	if (write(fd, msg, strlen(msg)) < 0) {
		/* The parent is gone; nothing more to tell. */
	}
	close(fd);
}

int gg_daemon_write_pid(const char *path, char *err, size_t errsize)
{
	FILE *fp;

	if (path[0] == '\0')
		return 0;
	if ((fp = fopen(path, "w")) == NULL) {
		snprintf(err, errsize, "pid_file = %s: %s", path, strerror(errno));
		return -1;
	}
	fprintf(fp, "%ld\n", (long)getpid());
	if (fclose(fp) != 0) {
		snprintf(err, errsize, "pid_file = %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

void gg_daemon_remove_pid(const char *path, const struct gg_log *log)
{
	char buf[32];
	FILE *fp;
	long pid = 0;

	if (path[0] == '\0' || (fp = fopen(path, "r")) == NULL)
		return;
	if (fgets(buf, sizeof(buf), fp) != NULL)
		pid = strtol(buf, NULL, 10);
	fclose(fp);
	if (pid != (long)getpid())
		return;		/* another instance wrote it since */
	if (unlink(path) != 0)
		gg_log_info(log, "pid_file %s left in place: %s (the user needs write access to its "
			    "directory, e.g. /run/greygate/)", path, strerror(errno));
}

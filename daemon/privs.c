/*
 * privs.c - switch from root to the daemon user (see privs.h)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/privs.h"

/* chown_dir - the database directory and the files directly in it */
static enum gg_status chown_dir(const char *dir, uid_t uid, gid_t gid, char *err, size_t errsize)
{
	DIR *d;
	struct dirent *de;
	int dfd;

	if (chown(dir, uid, gid) != 0 || (d = opendir(dir)) == NULL) {
		snprintf(err, errsize, "cannot give %s to the daemon user: %s", dir, strerror(errno));
		return GG_EPERM;
	}
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (fchownat(dfd, de->d_name, uid, gid, AT_SYMLINK_NOFOLLOW) != 0) {
			snprintf(err, errsize, "cannot give %s/%s to the daemon user: %s", dir,
				 de->d_name, strerror(errno));
			closedir(d);
			return GG_EPERM;
		}
	}
	closedir(d);
	return GG_OK;
}

/* gg_privs_drop - become user for good */
enum gg_status gg_privs_drop(const char *user, const char *dbdir, char *err, size_t errsize)
{
	struct passwd *pw;
	uid_t r, e, s;
	struct stat st;

	if (geteuid() != 0 || user[0] == '\0')
		return GG_OK;
	if ((pw = getpwnam(user)) == NULL) {
		snprintf(err, errsize, "user = %s: no such user (create it, e.g. useradd --system "
			 "--user-group %s)", user, user);
		return GG_EINVAL;
	}
	if (dbdir != NULL && stat(dbdir, &st) == 0 &&
	    chown_dir(dbdir, pw->pw_uid, pw->pw_gid, err, errsize) != GG_OK)
		return GG_EPERM;
	if (setgroups(1, &pw->pw_gid) != 0 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) != 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0) {
		snprintf(err, errsize, "cannot switch to user %s: %s", user, strerror(errno));
		return GG_EPERM;
	}
	if (getresuid(&r, &e, &s) != 0 || r != pw->pw_uid || e != pw->pw_uid || s != pw->pw_uid ||
	    setuid(0) == 0) {
		snprintf(err, errsize, "privileges were not dropped to user %s", user);
		return GG_EPERM;
	}
	return GG_OK;
}

/*
 * privs.h - giving up root for good, the same way in every program
 *
 * Daemons and admin tools started as root switch to the configured user
 * after binding sockets, and hand the database directory to that user
 * first, so a file Berkeley DB creates later (a new log file) is never
 * owned by root where the daemon cannot write it.
 */
#ifndef GG_PRIVS_H
#define GG_PRIVS_H

#include <stddef.h>
#include "lib/status.h"

/*
 * If running as root and user is not empty: give dbdir (may be NULL) and
 * the files in it to user, then setgroups/setresgid/setresuid, each checked,
 * and verify that root cannot be regained.  Otherwise do nothing.
 */
enum gg_status gg_privs_drop(const char *user, const char *dbdir, char *err, size_t errsize);

#endif

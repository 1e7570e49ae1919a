/*
 * store_redis.h - Redis backend of the triplet store (see store.h)
 *
 * Several MX hosts share one greylisting state through one Redis server.
 * The address is the part of the database setting after "redis:":
 *
 *   HOST:PORT[/DB]          a host name or IPv4 address, e.g. 127.0.0.1:6379/2
 *   [IPV6]:PORT[/DB]        e.g. [::1]:6379
 *   unix:/PATH[/DB]         e.g. unix:/run/redis/redis.sock or unix:/run/redis/redis.sock/2
 *
 * DB (default 0) is a decimal database number; with unix: a last path
 * component made only of digits is always read as DB.  Every key is
 * stored as "gg:" followed by greygate's own key.
 */
#ifndef GG_STORE_REDIS_H
#define GG_STORE_REDIS_H

#include "store/store.h"

/* Key prefix in Redis, so a server shared with other applications is safe. */
#define GG_REDIS_PREFIX "gg:"
/* Connect and command timeout: a hung Redis blocks the caller this long at most. */
#define GG_REDIS_TIMEOUT_MS 500
/* Added to the lifetime so Redis never forgets a record greygate still uses. */
#define GG_REDIS_LIFETIME_MARGIN 86400L

/*
 * Parse spec ("redis:..."), and connect once if the server answers.  An
 * unreachable server is not an error here: every operation reports GG_EDB
 * until it comes back.  A malformed spec is GG_EINVAL, with err naming it.
 */
enum gg_status gg_store_redis_open(const char *spec, struct gg_store **out,
				   char *err, size_t errsize);
/* Only check the spec's syntax (for -t): GG_OK or GG_EINVAL with err as above. */
enum gg_status gg_store_redis_check(const char *spec, char *err, size_t errsize);

#endif

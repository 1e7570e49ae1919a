/*
 * store_redis.h - Redis backend of the triplet store (see store.h)
 *
 * Several MX hosts share one greylisting state through one Redis server.
 * The address is the part of the database setting after "redis:", parsed
 * by gg_store_spec_parse() (store_spec.h lists the forms).  Every key is
 * stored as "gg:" followed by greygate's own key.
 */
#ifndef GG_STORE_REDIS_H
#define GG_STORE_REDIS_H

#include "store/store.h"
#include "store/store_spec.h"

/* Key prefix in Redis, so a server shared with other applications is safe. */
#define GG_REDIS_PREFIX "gg:"
/* Connect and command timeout: a hung Redis blocks the caller this long at most. */
#define GG_REDIS_TIMEOUT_MS 500
/* Added to the lifetime so Redis never forgets a record greygate still uses. */
#define GG_REDIS_LIFETIME_MARGIN 86400L

/*
 * Connect once to a parsed redis: address if the server answers.  An
 * unreachable server is not an error here: every operation reports GG_EDB
 * until it comes back.  Only allocation fails (GG_ENOMEM).
 */
enum gg_status gg_store_redis_open(const struct gg_store_spec *spec, struct gg_store **out,
				   char *err, size_t errsize);

#endif

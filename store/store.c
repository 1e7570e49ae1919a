/*
 * store.c - choose a triplet store backend from its specification
 *
 * "bdb:/var/lib/greygate" (Berkeley DB) or "redis:127.0.0.1:6379" (see
 * store_redis.h); the prefix picks the backend and the rest is the
 * backend's own address.
 */
#include <stdio.h>
#include <string.h>

#include "store/store.h"
#include "store/store_bdb.h"
#include "store/store_redis.h"

/* gg_store_check_spec - is spec a database setting some backend understands? */
enum gg_status gg_store_check_spec(const char *spec, char *err, size_t errsize)
{
	if (strncmp(spec, "bdb:", 4) == 0) {
		if (spec[4] != '/') {
			snprintf(err, errsize, "database = %s: the directory must be an absolute path", spec);
			return GG_EINVAL;
		}
		return GG_OK;
	}
	if (strncmp(spec, "redis:", 6) == 0)
		return gg_store_redis_check(spec, err, errsize);
	snprintf(err, errsize, "database = %s: unknown backend (expected bdb:/directory or "
		 "redis:HOST:PORT)", spec);
	return GG_EINVAL;
}

/* gg_store_open - open the backend named by spec */
enum gg_status gg_store_open(const char *spec, size_t cache_mb, struct gg_store **out,
			     char *err, size_t errsize)
{
	enum gg_status st;

	*out = NULL;
	if ((st = gg_store_check_spec(spec, err, errsize)) != GG_OK)
		return st;
	if (strncmp(spec, "bdb:", 4) == 0)
		return gg_store_bdb_open(spec + 4, cache_mb, out, err, errsize);
	return gg_store_redis_open(spec, out, err, errsize);
}

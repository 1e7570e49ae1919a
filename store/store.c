/*
 * store.c - choose a triplet store backend from its specification
 *
 * "bdb:/var/lib/greygate" (Berkeley DB) or "redis:127.0.0.1:6379"; the
 * one parser of that text is gg_store_spec_parse() (store_spec.h), and
 * everything here goes through it.
 */
#include <stdio.h>
#include <string.h>

#include "store/store.h"
#include "store/store_bdb.h"
#include "store/store_redis.h"
#include "store/store_spec.h"

/* gg_store_check_spec - is spec a database setting some backend understands? */
enum gg_status gg_store_check_spec(const char *spec, char *err, size_t errsize)
{
	struct gg_store_spec parsed;

	return gg_store_spec_parse(spec, &parsed, err, errsize);
}

/* gg_store_bdb_dir - the Berkeley DB directory of spec, NULL for another backend */
const char *gg_store_bdb_dir(const char *spec)
{
	struct gg_store_spec parsed;
	char err[8];

	if (gg_store_spec_parse(spec, &parsed, err, sizeof(err)) != GG_OK ||
	    parsed.kind != GG_STORE_BDB)
		return NULL;
	return parsed.dir;
}

/* gg_store_open - open the backend named by spec */
enum gg_status gg_store_open(const char *spec, size_t cache_mb, struct gg_store **out,
			     char *err, size_t errsize)
{
	struct gg_store_spec parsed;
	enum gg_status st;

	*out = NULL;
	if ((st = gg_store_spec_parse(spec, &parsed, err, errsize)) != GG_OK)
		return st;
	if (parsed.kind == GG_STORE_BDB)
		return gg_store_bdb_open(parsed.dir, cache_mb, out, err, errsize);
	return gg_store_redis_open(&parsed, out, err, errsize);
}

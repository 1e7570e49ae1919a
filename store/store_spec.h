/*
 * store_spec.h - the database setting, parsed once for every program
 *
 * gg_store_spec_parse() is the one reader of "bdb:DIRECTORY" and
 * "redis:ADDRESS": gg_store_open() uses it to pick and address a backend,
 * gg_config_finish() to refuse a bad setting with its file:line, and
 * gg_store_bdb_dir() (store.h) to find the directory the daemon's user
 * must own.  The Redis forms are
 *
 *   redis:HOST:PORT[/DB]        a host name or IPv4 address, e.g. 127.0.0.1:6379/2
 *   redis:[IPV6]:PORT[/DB]      e.g. redis:[::1]:6379
 *   redis:unix:/PATH[/DB]       e.g. redis:unix:/run/redis/redis.sock/2
 *
 * DB (default 0) is a decimal database number; with unix: a last path
 * component made only of digits is always read as DB.
 *
 * Errors: GG_EINVAL with err reading "database = SPEC: what is wrong"
 * (the caller adds where the setting was given).  Nothing is resolved or
 * opened; the parser keeps no state.
 */
#ifndef GG_STORE_SPEC_H
#define GG_STORE_SPEC_H

#include <stddef.h>
#include <sys/un.h>
#include "lib/status.h"

enum gg_store_kind { GG_STORE_BDB, GG_STORE_REDIS };

struct gg_store_spec {
	enum gg_store_kind kind;
	/* GG_STORE_BDB */
	const char *dir;	/* absolute; points into the parsed text */
	/* GG_STORE_REDIS */
	int is_unix;
	char host[256];		/* host name or address (IPv6 without brackets) */
	int port;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	long db;
	char where[300];	/* for messages: "127.0.0.1:6379", "[::1]:6379", "/run/redis.sock" */
};

/* Parse a database setting into *out; GG_OK or GG_EINVAL with err set. */
enum gg_status gg_store_spec_parse(const char *spec, struct gg_store_spec *out, char *err,
				   size_t errsize);

#endif

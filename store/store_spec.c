/*
 * store_spec.c - parse the database setting (see store_spec.h)
 *
 * The prefix picks the backend; a bdb: directory must be absolute; a
 * redis: address is checked to the letter by lib/hostport (a host name or
 * address, an IPv6 literal in brackets, digits only in a port from 1 to
 * 65535) and a database number is digits only, so a typo stops the
 * daemon at start-up instead of failing every request.
 */
#include <stdio.h>
#include <string.h>

#include "store/store_spec.h"
#include "lib/hostport.h"
#include "lib/util.h"

#define SYNTAX "expected redis:HOST:PORT[/DB], redis:[IPV6]:PORT[/DB] or redis:unix:/PATH[/DB]"

/* all_digits - s[0..len) is a non-empty run of decimal digits */
static int all_digits(const char *p, size_t len)
{
	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (p[i] < '0' || p[i] > '9')
			return 0;
	return 1;
}

/* parse_num - decimal digits in [min, max]; -1 if not */
static long parse_num(const char *p, size_t len, long min, long max)
{
	long v = 0;

	if (!all_digits(p, len) || len > 10)
		return -1;
	for (size_t i = 0; i < len; i++)
		v = v * 10 + (p[i] - '0');
	return v < min || v > max ? -1 : v;
}

/* parse_redis - fill the address from "redis:..."; 0 or -1 with err set */
static int parse_redis(struct gg_store_spec *s, const char *spec, char *err, size_t errsize)
{
	const char *a = spec + 6, *slash;
	char text[GG_HOSTPORT_STRLEN];
	struct gg_hostport hp;
	enum gg_hostport_fault why;
	size_t alen;

	if (strncmp(spec, "redis:", 6) != 0 || *a == '\0')
		goto bad;
	alen = strlen(a);
	if (strncmp(a, "unix:", 5) == 0) {
		const char *path = a + 5;
		size_t plen = strlen(path);

		if (path[0] != '/') {
			snprintf(err, errsize, "database = %s: the socket must be an absolute path (%s)",
				 spec, SYNTAX);
			return -1;
		}
		/* A last component made only of digits is the database number. */
		slash = strrchr(path, '/');
		if (slash != path && all_digits(slash + 1, strlen(slash + 1))) {
			if ((s->db = parse_num(slash + 1, strlen(slash + 1), 0, 2147483647L)) < 0)
				goto bad_db;
			plen = (size_t)(slash - path);
		}
		if (plen >= sizeof(s->path)) {
			snprintf(err, errsize, "database = %s: the socket path is longer than %zu bytes",
				 spec, sizeof(s->path) - 1);
			return -1;
		}
		if (plen < 2 || path[plen - 1] == '/')
			goto bad;
		memcpy(s->path, path, plen);
		s->path[plen] = '\0';
		s->is_unix = 1;
		snprintf(s->where, sizeof(s->where), "%s", s->path);
		return 0;
	}
	/* [IPV6]:PORT or HOST:PORT (lib/hostport), then an optional /DB. */
	if ((slash = strchr(a, '/')) != NULL) {
		if ((s->db = parse_num(slash + 1, strlen(slash + 1), 0, 2147483647L)) < 0)
			goto bad_db;
		alen = (size_t)(slash - a);
	}
	if (alen >= sizeof(text))
		goto bad;
	memcpy(text, a, alen);
	text[alen] = '\0';
	if (gg_hostport_parse(text, GG_HOSTPORT_NAME | GG_HOSTPORT_BRACKET_V6, 0, &hp, &why) != GG_OK) {
		if (why == GG_HOSTPORT_BAD_PORT) {
			snprintf(err, errsize, "database = %s: the port must be a number from 1 to 65535 (%s)",
				 spec, SYNTAX);
		} else if (why == GG_HOSTPORT_NOT_V6) {
			snprintf(err, errsize, "database = %s: '%.*s' is not an IPv6 address (%s)", spec,
				 (int)strcspn(text + 1, "]"), text + 1, SYNTAX);
		} else {
			goto bad;
		}
		return -1;
	}
	/* An IPv6 address needs its brackets: ::1:6379 would be ambiguous. */
	if ((hp.family == AF_INET6 && !hp.bracketed) ||
	    gg_strcpy(s->host, sizeof(s->host), hp.host) != GG_OK)
		goto bad;
	s->port = (int)hp.port;
	snprintf(s->where, sizeof(s->where), hp.bracketed ? "[%s]:%d" : "%s:%d", s->host, s->port);
	return 0;
bad_db:
	snprintf(err, errsize, "database = %s: the database number after '/' must be a number "
		 "from 0 to 2147483647 (%s)", spec, SYNTAX);
	return -1;
bad:
	snprintf(err, errsize, "database = %s: not a Redis address (%s)", spec, SYNTAX);
	return -1;
}

/* gg_store_spec_parse - which backend, and its directory or address */
enum gg_status gg_store_spec_parse(const char *spec, struct gg_store_spec *out, char *err,
				   size_t errsize)
{
	memset(out, 0, sizeof(*out));
	if (strncmp(spec, "bdb:", 4) == 0) {
		if (spec[4] != '/') {
			snprintf(err, errsize, "database = %s: the directory must be an absolute path", spec);
			return GG_EINVAL;
		}
		out->kind = GG_STORE_BDB;
		out->dir = spec + 4;
		return GG_OK;
	}
	if (strncmp(spec, "redis:", 6) == 0) {
		out->kind = GG_STORE_REDIS;
		return parse_redis(out, spec, err, errsize) == 0 ? GG_OK : GG_EINVAL;
	}
	snprintf(err, errsize, "database = %s: unknown backend (expected bdb:/directory or "
		 "redis:HOST:PORT)", spec);
	return GG_EINVAL;
}

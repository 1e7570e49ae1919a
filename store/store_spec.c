/*
 * store_spec.c - parse the database setting (see store_spec.h)
 *
 * The prefix picks the backend; a bdb: directory must be absolute; a
 * redis: address is checked to the letter (digits only in numbers, a
 * port from 1 to 65535, an IPv6 literal that inet_pton() accepts), so a
 * typo stops the daemon at start-up instead of failing every request.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "store/store_spec.h"

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
	const char *a = spec + 6, *slash, *colon, *hend;
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
	/* [IPV6]:PORT or HOST:PORT, then an optional /DB. */
	if ((slash = strchr(a, '/')) != NULL) {
		if ((s->db = parse_num(slash + 1, strlen(slash + 1), 0, 2147483647L)) < 0)
			goto bad_db;
		alen = (size_t)(slash - a);
	}
	if (a[0] == '[') {
		unsigned char buf[16];
		if ((hend = memchr(a, ']', alen)) == NULL || (size_t)(hend - a - 1) >= sizeof(s->host))
			goto bad;
		memcpy(s->host, a + 1, (size_t)(hend - a - 1));
		s->host[hend - a - 1] = '\0';
		if (inet_pton(AF_INET6, s->host, buf) != 1) {
			snprintf(err, errsize, "database = %s: '%s' is not an IPv6 address (%s)", spec,
				 s->host, SYNTAX);
			return -1;
		}
		colon = hend + 1;
		if (colon >= a + alen || *colon != ':')
			goto bad;
	} else {
		if ((colon = memchr(a, ':', alen)) == NULL || colon == a ||
		    (size_t)(colon - a) >= sizeof(s->host))
			goto bad;
		for (const char *p = a; p < colon; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			      (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == '_'))
				goto bad;
		memcpy(s->host, a, (size_t)(colon - a));
		s->host[colon - a] = '\0';
	}
	if ((s->port = (int)parse_num(colon + 1, (size_t)(a + alen - colon - 1), 1, 65535)) < 0) {
		snprintf(err, errsize, "database = %s: the port must be a number from 1 to 65535 (%s)",
			 spec, SYNTAX);
		return -1;
	}
	snprintf(s->where, sizeof(s->where), a[0] == '[' ? "[%s]:%d" : "%s:%d", s->host, s->port);
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

/*
 * hostport.c - HOST:PORT, [HOST]:PORT and their variants (see hostport.h)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "lib/hostport.h"

/* fail - record why, and map it to a status */
static enum gg_status fail(enum gg_hostport_fault f, enum gg_hostport_fault *why)
{
	if (why != NULL)
		*why = f;
	if (f == GG_HOSTPORT_OK)
		return GG_OK;
	return f == GG_HOSTPORT_HOST_TOO_LONG ? GG_ETOOBIG : GG_EINVAL;
}

/* parse_port - decimal digits within [min, 65535]; -1 if not */
static long parse_port(const char *p, long min)
{
	long v = 0;

	if (*p == '\0')
		return -1;
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		/* Leading zeros are harmless; anything past 65535 stops at once. */
		if ((v = v * 10 + (*p - '0')) > 65535)
			return -1;
	}
	return v < min ? -1 : v;
}

/* set_address - fill family and ss if host is a numeric address; 0 if it is not */
static int set_address(struct gg_hostport *out)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&out->ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->ss;

	memset(&out->ss, 0, sizeof(out->ss));
	if (inet_pton(AF_INET, out->host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		out->family = AF_INET;
		out->sslen = sizeof(*sin);
		return 1;
	}
	if (inet_pton(AF_INET6, out->host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		out->family = AF_INET6;
		out->sslen = sizeof(*sin6);
		return 1;
	}
	memset(&out->ss, 0, sizeof(out->ss));
	out->family = AF_UNSPEC;
	out->sslen = 0;
	return 0;
}

/* gg_hostport_parse - split, check the host, then the port */
enum gg_status gg_hostport_parse(const char *s, unsigned flags, unsigned default_port,
				 struct gg_hostport *out, enum gg_hostport_fault *why)
{
	const char *host = s, *port = NULL, *colon;
	size_t len;
	long v;

	memset(out, 0, sizeof(*out));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL)
			return fail(GG_HOSTPORT_NO_BRACKET, why);
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] != '\0')
			return fail(GG_HOSTPORT_AFTER_BRACKET, why);
		host = s + 1;
		len = (size_t)(close - host);
		out->bracketed = 1;
	} else if ((colon = strrchr(s, ':')) == NULL) {
		len = strlen(s);
	} else if ((flags & GG_HOSTPORT_BARE_V6) && strchr(s, ':') != colon) {
		/* Several colons and no brackets: an IPv6 address, no port. */
		len = strlen(s);
	} else {
		len = (size_t)(colon - s);
		port = colon + 1;
	}
	if (len == 0)
		return fail(GG_HOSTPORT_NO_HOST, why);
	if (len > ((flags & GG_HOSTPORT_NAME) ? GG_HOSTNAME_MAX : GG_HOSTPORT_ADDR_MAX))
		return fail(GG_HOSTPORT_HOST_TOO_LONG, why);
	memcpy(out->host, host, len);
	out->host[len] = '\0';
	if (!set_address(out)) {
		if (!(flags & GG_HOSTPORT_NAME))
			return fail(GG_HOSTPORT_NOT_ADDRESS, why);
		if (gg_hostname_check(out->host, len, GG_HOSTNAME_MAX, GG_HOSTNAME_DOT, NULL) != GG_OK)
			return fail(GG_HOSTPORT_BAD_NAME, why);
	}
	if ((flags & GG_HOSTPORT_BRACKET_V6) && out->bracketed && out->family != AF_INET6)
		return fail(GG_HOSTPORT_NOT_V6, why);
	if (port == NULL) {
		if (!(flags & GG_HOSTPORT_PORT_OPT))
			return fail(GG_HOSTPORT_NO_PORT, why);
		out->port = default_port;
	} else {
		if ((v = parse_port(port, (flags & GG_HOSTPORT_PORT0) ? 0 : 1)) < 0)
			return fail(GG_HOSTPORT_BAD_PORT, why);
		out->port = (unsigned)v;
		out->has_port = 1;
	}
	if (out->family == AF_INET)
		((struct sockaddr_in *)&out->ss)->sin_port = htons((uint16_t)out->port);
	else if (out->family == AF_INET6)
		((struct sockaddr_in6 *)&out->ss)->sin6_port = htons((uint16_t)out->port);
	return fail(GG_HOSTPORT_OK, why);
}

/* gg_hostport_fault_str - stable English reasons */
const char *gg_hostport_fault_str(enum gg_hostport_fault why, unsigned flags)
{
	switch (why) {
	case GG_HOSTPORT_OK:		return "valid";
	case GG_HOSTPORT_NO_HOST:	return "missing host";
	case GG_HOSTPORT_NO_BRACKET:	return "missing ']'";
	case GG_HOSTPORT_AFTER_BRACKET:	return "expected ':PORT' after ']'";
	case GG_HOSTPORT_HOST_TOO_LONG:	return "host too long";
	case GG_HOSTPORT_NOT_ADDRESS:
		return "not an IP address (host names are not allowed)";
	case GG_HOSTPORT_NOT_V6:	return "not an IPv6 address in brackets";
	case GG_HOSTPORT_BAD_NAME:	return "not a host name or IP address";
	case GG_HOSTPORT_NO_PORT:	return "missing ':PORT'";
	case GG_HOSTPORT_BAD_PORT:
		return (flags & GG_HOSTPORT_PORT0) ? "port must be 0-65535" : "port must be 1-65535";
	}
	return "?";
}

/* gg_hostport_format - ADDRESS:PORT, [IPV6]:PORT or NAME:PORT */
enum gg_status gg_hostport_format(const struct gg_hostport *hp, char *buf, size_t size)
{
	char addr[INET6_ADDRSTRLEN];
	const char *h = hp->host;
	int n;

	if (hp->family == AF_INET)
		h = inet_ntop(AF_INET, &((const struct sockaddr_in *)&hp->ss)->sin_addr, addr,
			      sizeof(addr));
	else if (hp->family == AF_INET6)
		h = inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&hp->ss)->sin6_addr, addr,
			      sizeof(addr));
	if (h == NULL)
		return GG_EINVAL;
	n = snprintf(buf, size, hp->family == AF_INET6 ? "[%s]:%u" : "%s:%u", h, hp->port);
	return n >= 0 && (size_t)n < size ? GG_OK : GG_ETOOBIG;
}

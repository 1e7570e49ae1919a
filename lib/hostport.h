/*
 * hostport.h - the one parser of HOST:PORT arguments and settings
 *
 * Accepted forms, the flags saying which ones a caller takes:
 *
 *   ADDRESS:PORT     192.0.2.1:53; also ::1:53 (split at the last colon),
 *                    unless GG_HOSTPORT_BARE_V6 (below)
 *   [ADDRESS]:PORT   [2001:db8::1]:53; the brackets may hold any host the
 *                    flags allow (an IPv4 address too), unless
 *                    GG_HOSTPORT_BRACKET_V6
 *   NAME:PORT        mx.example:25, with GG_HOSTPORT_NAME (lib/hostname
 *                    syntax, a trailing dot allowed); without it only
 *                    numeric addresses (inet_pton(), never a resolver)
 *   HOST, [HOST]     no port, with GG_HOSTPORT_PORT_OPT: default_port
 *   2001:db8::1      with GG_HOSTPORT_BARE_V6: unbracketed text with two
 *                    or more colons is an IPv6 address without a port
 *
 * A port is decimal digits only (no sign, no space) from 1 to 65535, or
 * from 0 with GG_HOSTPORT_PORT0.  Checks run in the order brackets, host,
 * port, so the fault reported is the first one in the text.
 *
 * gg_hostport_fault_str() gives a short English reason ("missing ']'",
 * "port must be 1-65535", ...) for the caller to put after its own context
 * ("dns_servers: '[::1:53': missing ']'").  gg_hostport_format() writes
 * the canonical "ADDRESS:PORT" / "[IPV6]:PORT" / "NAME:PORT".
 * No allocation, no state, no I/O.
 */
#ifndef GG_HOSTPORT_H
#define GG_HOSTPORT_H

#include <stddef.h>
#include <sys/socket.h>

#include "lib/hostname.h"
#include "lib/status.h"

#define GG_HOSTPORT_NAME	0x01u	/* a host name is allowed, not only an address */
#define GG_HOSTPORT_PORT_OPT	0x02u	/* the port may be left out: default_port */
#define GG_HOSTPORT_BARE_V6	0x04u	/* a:b:c unbracketed is an IPv6 address, no port */
#define GG_HOSTPORT_PORT0	0x08u	/* port 0 is allowed */
#define GG_HOSTPORT_BRACKET_V6	0x10u	/* brackets hold an IPv6 address only */

/* A numeric host longer than this is not an address (the limit of the old copies). */
#define GG_HOSTPORT_ADDR_MAX 47
/* Enough for any canonical gg_hostport_format() result. */
#define GG_HOSTPORT_STRLEN (GG_HOSTNAME_MAX + 2 + 1 + 5 + 1)

enum gg_hostport_fault {
	GG_HOSTPORT_OK = 0,
	GG_HOSTPORT_NO_HOST,		/* nothing before the port, or empty brackets */
	GG_HOSTPORT_NO_BRACKET,		/* '[' without ']' */
	GG_HOSTPORT_AFTER_BRACKET,	/* something other than ":PORT" after ']' */
	GG_HOSTPORT_HOST_TOO_LONG,	/* over GG_HOSTNAME_MAX (names) or _ADDR_MAX bytes */
	GG_HOSTPORT_NOT_ADDRESS,	/* numeric only, and not an IPv4 or IPv6 address */
	GG_HOSTPORT_NOT_V6,		/* _BRACKET_V6, and the brackets hold no IPv6 address */
	GG_HOSTPORT_BAD_NAME,		/* _NAME, and neither an address nor a host name */
	GG_HOSTPORT_NO_PORT,		/* the port is required and missing */
	GG_HOSTPORT_BAD_PORT,		/* not digits, or out of range */
};

struct gg_hostport {
	char host[GG_HOSTNAME_MAX + 1];	/* as written, without brackets */
	unsigned port;			/* as written, or default_port */
	int family;			/* AF_INET, AF_INET6, or AF_UNSPEC for a name */
	int bracketed;			/* written as [HOST] */
	int has_port;			/* a port was written */
	struct sockaddr_storage ss;	/* an address with its port; zero for a name */
	socklen_t sslen;		/* 0 for a name */
};

/*
 * Parse s.  GG_OK and *out filled; otherwise GG_EINVAL (GG_ETOOBIG for a
 * host too long), *out unspecified.  *why (if why is not NULL) gets the
 * fault, GG_HOSTPORT_OK on success.
 */
enum gg_status gg_hostport_parse(const char *s, unsigned flags, unsigned default_port,
				 struct gg_hostport *out, enum gg_hostport_fault *why);

/* A short English reason; flags choose the port range it names. */
const char *gg_hostport_fault_str(enum gg_hostport_fault why, unsigned flags);

/* Canonical text (inet_ntop() for addresses, brackets around IPv6) into buf[size]. */
enum gg_status gg_hostport_format(const struct gg_hostport *hp, char *buf, size_t size);

#endif

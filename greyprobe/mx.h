/*
 * mx.h - where to deliver: MX hosts in order, with their addresses
 *
 * gg_mx_lookup() finds the hosts that receive mail for a domain and the
 * addresses of each, through dnsbl/'s resolver (never the system one
 * unless the resolver was created so):
 *   - MX records sorted by preference, equal preferences shuffled
 *     (RFC 5321 5.1) with the caller's random function;
 *   - no MX (NXDOMAIN or NODATA): the domain itself, RFC 5321's implicit
 *     MX; if it has no address either the domain takes no mail
 *     (GG_MX_NODOMAIN);
 *   - a null MX (RFC 7505: the only record is "0 .") is GG_MX_NULL; a
 *     null record mixed with real ones is ignored;
 *   - a domain literal ("[192.0.2.1]", "[IPv6:2001:db8::1]") or an IP
 *     address is used as it is, without DNS;
 *   - each host's AAAA and A records are asked in parallel; a host keeps
 *     IPv6 addresses first, then IPv4 (family 4 or 6 keeps only one).
 * gg_mx_lookup_host() is the same for one named host (--server), with no
 * MX step.
 *
 * Limits: GG_MX_MAX_HOSTS hosts (the most preferred), GG_MX_MAX_ADDRS
 * addresses per host.  The callback runs exactly once, from the event
 * loop, never from inside gg_mx_lookup(), unless gg_mx_cancel() is called
 * first; the list belongs to the caller from then on (free it with
 * free()).  Nothing here logs.
 */
#ifndef GG_MX_H
#define GG_MX_H

#include <stddef.h>
#include <event2/event.h>

#include "lib/addr.h"
#include "dns/resolver.h"
#include "lib/status.h"

#define GG_MX_MAX_HOSTS 10
#define GG_MX_MAX_ADDRS 8

struct gg_mx_host {
	char name[GG_DNS_NAME_MAX + 1];
	unsigned pref;
	size_t naddrs;
	struct gg_addr addrs[GG_MX_MAX_ADDRS];
	enum gg_status st;		/* GG_OK if it has addresses, else why not */
	char error[64];			/* e.g. "AAAA: NXDOMAIN, A: NXDOMAIN" */
};

enum gg_mx_result {
	GG_MX_OK,		/* hosts[] to try in order */
	GG_MX_NULL,		/* null MX: the domain accepts no mail */
	GG_MX_NODOMAIN,		/* neither MX nor address: permanent */
	GG_MX_TEMPFAIL,		/* DNS failed (timeout, SERVFAIL): try later */
};

struct gg_mx_list {
	enum gg_mx_result result;
	int implicit;			/* no MX records: the domain itself */
	int literal;			/* an address given directly */
	size_t nhosts;
	struct gg_mx_host hosts[GG_MX_MAX_HOSTS];
	char error[GG_DNS_NAME_MAX + 96];	/* for TEMPFAIL and NODOMAIN */
};

/* A random number source for shuffling (tests pass a fixed one). */
typedef unsigned long (*gg_mx_rand)(void *arg);

struct gg_mx_lookup;
typedef void (*gg_mx_cb)(struct gg_mx_list *list, void *arg);

/* Look up the MX hosts of domain (or use a literal); family 0, 4 or 6. */
enum gg_status gg_mx_lookup(struct event_base *base, struct gg_resolver *r, const char *domain,
			    int family, gg_mx_rand rnd, void *rarg, gg_mx_cb cb, void *arg,
			    struct gg_mx_lookup **out);

/* Look up the addresses of one host name (or use an IP address). */
enum gg_status gg_mx_lookup_host(struct event_base *base, struct gg_resolver *r,
				 const char *host, int family, gg_mx_cb cb, void *arg,
				 struct gg_mx_lookup **out);

/* Stop a lookup whose callback has not run yet; the callback never runs. */
void gg_mx_cancel(struct gg_mx_lookup *l);

/*
 * Sort hosts by preference (stable), then shuffle each run of equal
 * preference with rnd (Fisher-Yates).  rnd may be NULL: no shuffling.
 */
void gg_mx_sort(struct gg_mx_host *hosts, size_t n, gg_mx_rand rnd, void *rarg);

/*
 * Parse a domain literal or bare IP address ("[192.0.2.1]",
 * "[IPv6:2001:db8::1]", "::1"): GG_OK and *out, or GG_EINVAL.
 */
enum gg_status gg_mx_parse_literal(const char *s, struct gg_addr *out);

#endif

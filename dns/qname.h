/*
 * qname.h - build DNS query names for list lookups and reverse DNS
 *
 * gg_qname_addr() turns a client address into the name a DNSBL or the
 * reverse tree is asked for: IPv4 as reversed octets ("66.2.0.192.bl.test"),
 * IPv6 as 32 reversed nibbles (RFC 5782 section 2.4, RFC 3596); with no zone
 * the suffix is in-addr.arpa or ip6.arpa.  gg_qname_domain() prefixes a
 * domain to an RHSBL zone ("spammer.example.rhs.test").  Results are lower
 * case, without trailing dot, and never longer than 253 bytes: a name that
 * would be is GG_ETOOBIG, a domain that is not a syntactically valid host
 * name (letters, digits, '-', '_', labels 1-63 bytes: lib/hostname.h) is
 * GG_EINVAL.  No allocation, no state.
 */
#ifndef GG_QNAME_H
#define GG_QNAME_H

#include <stddef.h>

#include "lib/addr.h"
#include "lib/status.h"

#define GG_QNAME_MAX 253	/* longest name in text form, without trailing dot */

/* Reversed address + "." + zone (zone NULL or "": the arpa tree). */
enum gg_status gg_qname_addr(const struct gg_addr *a, const char *zone, char *buf, size_t size);

/* domain + "." + zone, domain normalised (lower case, trailing dot dropped). */
enum gg_status gg_qname_domain(const char *domain, const char *zone, char *buf, size_t size);

/*
 * Is name a syntactically valid host name (see above; one trailing dot
 * allowed)?  With need_dot, it must also have at least two labels and a
 * top-level label that is not all digits: what a HELO FQDN must look like.
 */
int gg_qname_valid_host(const char *name, int need_dot);

#endif

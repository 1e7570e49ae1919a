/*
 * addr.h - IPv4/IPv6 client addresses, networks and CIDR matching
 *
 * An address is kept in network byte order in 16 bytes whatever its family,
 * so prefix masking and comparison are one loop for both.  IPv4-mapped IPv6
 * addresses (::ffff:192.0.2.1) are turned into plain IPv4 on parsing, so a
 * client is keyed the same whichever way the MTA spells it.
 */
#ifndef GG_ADDR_H
#define GG_ADDR_H

#include <stddef.h>
#include <stdint.h>
#include "lib/status.h"

#define GG_ADDR_STRLEN 64	/* enough for any address plus "/128" */

struct gg_addr {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t bytes[16];	/* first 4 used for AF_INET */
};

struct gg_cidr {
	struct gg_addr addr;	/* already masked */
	int prefix;		/* 0..32 or 0..128 */
};

/* Parse a numeric IPv4 or IPv6 address (optionally in [brackets]). */
enum gg_status gg_addr_parse(const char *s, struct gg_addr *out);
/* Format an address (no brackets). */
void gg_addr_format(const struct gg_addr *a, char *buf, size_t size);
/* Zero the bits after prefix. */
void gg_addr_mask(struct gg_addr *a, int prefix);
/* Format the network of a with the given prefix, as "192.0.2.0/24". */
void gg_addr_format_net(const struct gg_addr *a, int prefix, char *buf, size_t size);
/* Parse "ADDR" or "ADDR/PREFIX"; a bare address is a host route. */
enum gg_status gg_cidr_parse(const char *s, struct gg_cidr *out);
/* Does the network contain the address? */
int gg_cidr_match(const struct gg_cidr *c, const struct gg_addr *a);

#endif

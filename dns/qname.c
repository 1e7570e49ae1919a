/*
 * qname.c - query names for list lookups and reverse DNS (see qname.h)
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "dns/qname.h"
#include "lib/hostname.h"

/* gg_qname_addr - reversed octets or nibbles, then the zone */
enum gg_status gg_qname_addr(const struct gg_addr *a, const char *zone, char *buf, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[GG_QNAME_MAX + 2];
	size_t o = 0;
	int i, n;

	if (a->family == AF_INET) {
		n = snprintf(tmp, sizeof(tmp), "%u.%u.%u.%u", a->bytes[3], a->bytes[2],
			     a->bytes[1], a->bytes[0]);
		o = (size_t)n;
		if (zone == NULL || zone[0] == '\0')
			zone = "in-addr.arpa";
	} else if (a->family == AF_INET6) {
		for (i = 15; i >= 0; i--) {
			tmp[o++] = hex[a->bytes[i] & 0xf];
			tmp[o++] = '.';
			tmp[o++] = hex[a->bytes[i] >> 4];
			tmp[o++] = i > 0 ? '.' : '\0';
		}
		o--;
		if (zone == NULL || zone[0] == '\0')
			zone = "ip6.arpa";
	} else {
		return GG_EINVAL;
	}
	if (o + 1 + strlen(zone) > GG_QNAME_MAX)
		return GG_ETOOBIG;
	n = snprintf(buf, size, "%.*s.%s", (int)o, tmp, zone);
	if (n < 0 || (size_t)n >= size)
		return GG_ETOOBIG;
	return GG_OK;
}

/* gg_qname_valid_host - lib/hostname's check, after one trailing dot is dropped */
int gg_qname_valid_host(const char *name, int need_dot)
{
	size_t len = strlen(name);

	/*
	 * A trailing dot is dropped and does not count towards the length;
	 * what is left may end with one more (GG_HOSTNAME_DOT), as it always
	 * could here: "a.b.." passes, "a.b..." does not.
	 */
	if (len > 0 && name[len - 1] == '.')
		len--;
	return gg_hostname_check(name, len, GG_QNAME_MAX,
				 GG_HOSTNAME_DOT |
				 (need_dot ? GG_HOSTNAME_MULTI | GG_HOSTNAME_ALPHA_TLD : 0),
				 NULL) == GG_OK;
}

/* gg_qname_domain - normalised domain, then the zone */
enum gg_status gg_qname_domain(const char *domain, const char *zone, char *buf, size_t size)
{
	size_t dlen = strlen(domain), zlen = strlen(zone), i;

	if (!gg_qname_valid_host(domain, 0) || zlen == 0)
		return GG_EINVAL;
	if (domain[dlen - 1] == '.')
		dlen--;
	if (dlen + 1 + zlen > GG_QNAME_MAX || dlen + 1 + zlen + 1 > size)
		return GG_ETOOBIG;
	for (i = 0; i < dlen; i++)
		buf[i] = (char)tolower((unsigned char)domain[i]);
	buf[dlen] = '.';
	memcpy(buf + dlen + 1, zone, zlen + 1);
	return GG_OK;
}

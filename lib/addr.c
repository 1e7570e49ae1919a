/*
 * addr.c - client addresses and networks (see addr.h)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "lib/addr.h"
#include "lib/util.h"

/* gg_addr_parse - numeric address, IPv4-mapped IPv6 folded to IPv4 */
enum gg_status gg_addr_parse(const char *s, struct gg_addr *out)
{
	char buf[INET6_ADDRSTRLEN + 2];
	size_t len = strlen(s);
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		s++;
		len -= 2;
	}
	if (len == 0 || len >= sizeof(buf))
		return GG_EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	/* Postfix may spell IPv6 clients with an "IPv6:" prefix in some places. */
	if (strncasecmp(buf, "ipv6:", 5) == 0)
		memmove(buf, buf + 5, len - 4);
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, buf, out->bytes) == 1) {
		out->family = AF_INET;
		return GG_OK;
	}
	if (inet_pton(AF_INET6, buf, out->bytes) == 1) {
		out->family = AF_INET6;
		if (memcmp(out->bytes, mapped, sizeof(mapped)) == 0) {
			memmove(out->bytes, out->bytes + 12, 4);
			memset(out->bytes + 4, 0, 12);
			out->family = AF_INET;
		}
		return GG_OK;
	}
	return GG_EINVAL;
}

/*
 * format_v4 - "192.0.2.1" as inet_ntop() writes it, without the C library's
 * formatting (every request formats its client network); the length, or 0
 * if buf is too small
 */
static size_t format_v4(const uint8_t *b, char *buf, size_t size)
{
	char tmp[16], *p = tmp;

	for (int i = 0; i < 4; i++) {
		unsigned v = b[i];
		if (v >= 100)
			*p++ = (char)('0' + v / 100);
		if (v >= 10)
			*p++ = (char)('0' + v / 10 % 10);
		*p++ = (char)('0' + v % 10);
		*p++ = i < 3 ? '.' : '\0';
	}
	if ((size_t)(p - tmp) > size)
		return 0;
	memcpy(buf, tmp, (size_t)(p - tmp));
	return (size_t)(p - tmp) - 1;
}

/* gg_addr_format - numeric text form */
void gg_addr_format(const struct gg_addr *a, char *buf, size_t size)
{
	if (a->family == AF_INET) {
		if (format_v4(a->bytes, buf, size) == 0 && size > 0)
			buf[0] = '\0';
		return;
	}
	if (inet_ntop(a->family, a->bytes, buf, (socklen_t)size) == NULL && size > 0)
		buf[0] = '\0';
}

/* gg_addr_mask - clear host bits */
void gg_addr_mask(struct gg_addr *a, int prefix)
{
	int bits = a->family == AF_INET ? 32 : 128;
	int i;

	if (prefix < 0)
		prefix = 0;
	if (prefix >= bits)
		return;
	for (i = prefix / 8; i < bits / 8; i++)
		a->bytes[i] = i == prefix / 8 ?
		    (uint8_t)(a->bytes[i] & (0xff00 >> (prefix % 8))) : 0;
}

/* gg_addr_format_net - "network/prefix" */
void gg_addr_format_net(const struct gg_addr *a, int prefix, char *buf, size_t size)
{
	struct gg_addr n = *a;
	char tmp[INET6_ADDRSTRLEN + 4];
	size_t len;

	gg_addr_mask(&n, prefix);
	gg_addr_format(&n, tmp, sizeof(tmp));
	len = strlen(tmp);
	if (prefix >= 0 && prefix <= 128) {
		/* "/24" by hand too; the result is what snprintf would write, cut to size */
		tmp[len++] = '/';
		if (prefix >= 100)
			tmp[len++] = (char)('0' + prefix / 100);
		if (prefix >= 10)
			tmp[len++] = (char)('0' + prefix / 10 % 10);
		tmp[len++] = (char)('0' + prefix % 10);
		tmp[len] = '\0';
		if (size > 0) {
			size_t n2 = len < size ? len : size - 1;
			memcpy(buf, tmp, n2);
			buf[n2] = '\0';
		}
		return;
	}
	snprintf(buf, size, "%s/%d", tmp, prefix);
}

/* gg_cidr_parse - "addr[/prefix]" */
enum gg_status gg_cidr_parse(const char *s, struct gg_cidr *out)
{
	char buf[GG_ADDR_STRLEN];
	char *slash;
	long prefix = -1;
	int bits;

	if (gg_strcpy(buf, sizeof(buf), s) != GG_OK)
		return GG_EINVAL;
	if ((slash = strrchr(buf, '/')) != NULL) {
		*slash = '\0';
		if (gg_parse_long(slash + 1, 0, 128, &prefix) != GG_OK)
			return GG_EINVAL;
	}
	if (gg_addr_parse(buf, &out->addr) != GG_OK)
		return GG_EINVAL;
	bits = out->addr.family == AF_INET ? 32 : 128;
	/* "::ffff:192.0.2.0/120" was folded to IPv4: shift the prefix too. */
	if (prefix >= 0 && out->addr.family == AF_INET && strchr(buf, ':') != NULL) {
		if (prefix < 96)
			return GG_EINVAL;	/* would cover more than the mapped IPv4 space */
		prefix -= 96;
	}
	if (prefix > bits)
		return GG_EINVAL;
	out->prefix = prefix < 0 ? bits : (int)prefix;
	gg_addr_mask(&out->addr, out->prefix);
	return GG_OK;
}

/* gg_cidr_match - network contains address */
int gg_cidr_match(const struct gg_cidr *c, const struct gg_addr *a)
{
	struct gg_addr m;

	if (c->addr.family != a->family)
		return 0;
	m = *a;
	gg_addr_mask(&m, c->prefix);
	return memcmp(m.bytes, c->addr.bytes, 16) == 0;
}

/*
 * keypack.c - packing text keys for Berkeley DB (see keypack.h)
 */
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "store/keypack.h"
#include "lib/addr.h"

#define KIND_TRIPLET 0x01
#define KIND_CLIENT 0x02
#define KIND_RAW 0x03
#define CLIENT_TEXT 0x00
#define CLIENT_V4 0x04
#define CLIENT_V6 0x06
#define SYM_ESCAPE 63

/* The characters with a six-bit code of their own, code = index + 1. */
static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789"
			       ".-@_+=/#?%!&'*^`{}|~$:[],;";

/* code_of[c] - a character's six-bit code, 0 if it needs the escape */
static const unsigned char code_of[256] = {
	['a'] = 1, ['b'] = 2, ['c'] = 3, ['d'] = 4, ['e'] = 5, ['f'] = 6, ['g'] = 7, ['h'] = 8,
	['i'] = 9, ['j'] = 10, ['k'] = 11, ['l'] = 12, ['m'] = 13, ['n'] = 14, ['o'] = 15, ['p'] = 16,
	['q'] = 17, ['r'] = 18, ['s'] = 19, ['t'] = 20, ['u'] = 21, ['v'] = 22, ['w'] = 23, ['x'] = 24,
	['y'] = 25, ['z'] = 26, ['0'] = 27, ['1'] = 28, ['2'] = 29, ['3'] = 30, ['4'] = 31, ['5'] = 32,
	['6'] = 33, ['7'] = 34, ['8'] = 35, ['9'] = 36, ['.'] = 37, ['-'] = 38, ['@'] = 39, ['_'] = 40,
	['+'] = 41, ['='] = 42, ['/'] = 43, ['#'] = 44, ['?'] = 45, ['%'] = 46, ['!'] = 47, ['&'] = 48,
	['\''] = 49, ['*'] = 50, ['^'] = 51, ['`'] = 52, ['{'] = 53, ['}'] = 54, ['|'] = 55, ['~'] = 56,
	['$'] = 57, [':'] = 58, ['['] = 59, [']'] = 60, [','] = 61, [';'] = 62,
};

/* pack6 - text in six bits a character; returns the bytes written */
static size_t pack6(const unsigned char *s, size_t len, unsigned char *out)
{
	uint64_t acc = 0;	/* bits not yet written, in the low nbits */
	unsigned nbits = 0;
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned code = code_of[s[i]];
		if (code != 0) {
			acc = (acc << 6) | code;
			nbits += 6;
		} else {
			acc = (acc << 14) | (SYM_ESCAPE << 8) | s[i];
			nbits += 14;
		}
		while (nbits >= 8) {
			nbits -= 8;
			out[n++] = (unsigned char)(acc >> nbits);
		}
	}
	if (nbits > 0)
		out[n++] = (unsigned char)(acc << (8 - nbits));	/* zero padding */
	return n;
}

/* unpack6 - the inverse of pack6, appended to out at *pos; -1 if malformed */
static int unpack6(const unsigned char *p, size_t plen, char *out, size_t size, size_t *pos)
{
	size_t total = plen * 8, at = 0;

	while (total - at >= 6) {
		unsigned code = 0;
		for (int i = 0; i < 6; i++, at++)
			code = (code << 1) | ((p[at / 8] >> (7 - at % 8)) & 1);
		if (code == 0)
			break;			/* padding: checked below */
		unsigned char c;
		if (code == SYM_ESCAPE) {
			unsigned v = 0;
			if (total - at < 8)
				return -1;
			for (int i = 0; i < 8; i++, at++)
				v = (v << 1) | ((p[at / 8] >> (7 - at % 8)) & 1);
			c = (unsigned char)v;
		} else {
			c = (unsigned char)alphabet[code - 1];
		}
		if (*pos >= size)
			return -2;
		out[(*pos)++] = (char)c;
	}
	/* What is left is padding: less than a byte, all zero. */
	if (total - at >= 8 + 6)
		return -1;
	for (; at < total; at++)
		if ((p[at / 8] >> (7 - at % 8)) & 1)
			return -1;
	return 0;
}

/* dec - a decimal number of at most max written as printf would (no
 * leading zero, no sign) at t[*i..len); -1 if there is none */
static long dec(const char *t, size_t len, size_t *i, long max)
{
	size_t start = *i;
	long v = 0;

	while (*i < len && t[*i] >= '0' && t[*i] <= '9' && *i - start < 3) {
		v = v * 10 + (t[*i] - '0');
		(*i)++;
	}
	if (*i == start || v > max || (t[start] == '0' && *i - start > 1))
		return -1;
	return v;
}

/*
 * pack_v4 - the common case without the C library: "192.0.2.0/24" exactly
 * as gg_addr_format_net() writes an IPv4 network (four canonical decimal
 * bytes, a canonical prefix, no bits set beyond it); 0 if text is not that
 */
static size_t pack_v4(const char *t, size_t len, unsigned char *out)
{
	unsigned char a[4];
	size_t i = 0;
	long v, prefix;
	uint32_t addr, mask;

	for (int k = 0; k < 4; k++) {
		if ((v = dec(t, len, &i, 255)) < 0 || i >= len || t[i] != (k < 3 ? '.' : '/'))
			return 0;
		a[k] = (unsigned char)v;
		i++;
	}
	if ((prefix = dec(t, len, &i, 32)) < 0 || i != len)
		return 0;
	addr = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
	mask = prefix == 0 ? 0 : UINT32_MAX << (32 - prefix);
	if ((addr & ~mask) != 0)
		return 0;
	out[0] = CLIENT_V4;
	out[1] = (unsigned char)prefix;
	memcpy(out + 2, a, ((size_t)prefix + 7) / 8);
	return 2 + ((size_t)prefix + 7) / 8;
}

/*
 * pack_net - "192.0.2.0/24" or "2001:db8::/64" exactly as
 * gg_addr_format_net() spells it, as family, prefix and prefix bytes;
 * 0 if text is not such a network
 */
static size_t pack_net(const char *text, size_t len, unsigned char *out)
{
	char buf[GG_ADDR_STRLEN], again[GG_ADDR_STRLEN];
	struct gg_cidr c;
	size_t nbytes;

	if (len == 0 || len >= sizeof(buf) || memchr(text, '/', len) == NULL)
		return 0;
	if (memchr(text, ':', len) == NULL)
		return pack_v4(text, len, out);
	memcpy(buf, text, len);
	buf[len] = '\0';
	if (gg_cidr_parse(buf, &c) != GG_OK)
		return 0;
	gg_addr_format_net(&c.addr, c.prefix, again, sizeof(again));
	if (strcmp(again, buf) != 0)
		return 0;
	nbytes = ((size_t)c.prefix + 7) / 8;
	out[0] = c.addr.family == AF_INET ? CLIENT_V4 : CLIENT_V6;
	out[1] = (unsigned char)c.prefix;
	memcpy(out + 2, c.addr.bytes, nbytes);
	return 2 + nbytes;
}

/* gg_keypack_pack - the one packed form of a key */
size_t gg_keypack_pack(const void *key, size_t klen, unsigned char *out)
{
	const unsigned char *k = key;
	const unsigned char *client = k + 2, *rest;
	size_t n, clen;

	if (klen < 2 || k[1] != '/' || (k[0] != 't' && k[0] != 'c')) {
		out[0] = KIND_RAW;
		memcpy(out + 1, k, klen);
		return 1 + klen;
	}
	out[0] = k[0] == 't' ? KIND_TRIPLET : KIND_CLIENT;
	if (k[0] == 'c') {
		clen = klen - 2;		/* the whole rest is the client */
	} else {
		/* The client network holds one '/'; the next one ends it. */
		const unsigned char *slash = memchr(client, '/', klen - 2);
		slash = slash != NULL ? memchr(slash + 1, '/', (size_t)(k + klen - slash - 1)) : NULL;
		clen = slash != NULL ? (size_t)(slash - client) : 0;
	}
	if (clen > 0 && (n = pack_net((const char *)client, clen, out + 1)) > 0) {
		rest = client + clen + (k[0] == 't');	/* after "/" for a triplet */
		n += 1;
	} else {
		out[1] = CLIENT_TEXT;
		rest = client;
		n = 2;
	}
	return n + pack6(rest, (size_t)(k + klen - rest), out + n);
}

/* gg_keypack_unpack - the text of a packed key, which must be canonical */
enum gg_status gg_keypack_unpack(const unsigned char *p, size_t plen, char *out, size_t size,
				 size_t *len)
{
	unsigned char again[GG_KEYPACK_MAX];
	size_t pos = 0, at = 2;
	int r;

	if (plen < 1 || plen > GG_KEYPACK_MAX)
		return GG_EFORMAT;
	if (p[0] == KIND_RAW) {
		if (plen - 1 > size)
			return GG_ETOOBIG;
		memcpy(out, p + 1, plen - 1);
		pos = plen - 1;
		goto check;
	}
	if ((p[0] != KIND_TRIPLET && p[0] != KIND_CLIENT) || plen < 2 || size < 2)
		return size < 2 ? GG_ETOOBIG : GG_EFORMAT;
	out[pos++] = p[0] == KIND_TRIPLET ? 't' : 'c';
	out[pos++] = '/';
	if (p[1] == CLIENT_V4 || p[1] == CLIENT_V6) {
		struct gg_addr a;
		char net[GG_ADDR_STRLEN];
		unsigned prefix, bits = p[1] == CLIENT_V4 ? 32 : 128;
		size_t nbytes, nl;

		if (plen < 3 || (prefix = p[2]) > bits)
			return GG_EFORMAT;
		nbytes = (prefix + 7) / 8;
		if (plen < 3 + nbytes)
			return GG_EFORMAT;
		memset(&a, 0, sizeof(a));
		a.family = p[1] == CLIENT_V4 ? AF_INET : AF_INET6;
		memcpy(a.bytes, p + 3, nbytes);
		gg_addr_format_net(&a, (int)prefix, net, sizeof(net));
		nl = strlen(net);
		if (pos + nl + 1 > size)
			return GG_ETOOBIG;
		memcpy(out + pos, net, nl);
		pos += nl;
		if (p[0] == KIND_TRIPLET)
			out[pos++] = '/';
		at = 3 + nbytes;
	} else if (p[1] != CLIENT_TEXT) {
		return GG_EFORMAT;
	}
	if ((r = unpack6(p + at, plen - at, out, size, &pos)) != 0)
		return r == -2 ? GG_ETOOBIG : GG_EFORMAT;
check:
	/* One packed form per key: anything else is damage (bits beyond a
	 * prefix, an escape for a character with its own code, ...). */
	if (pos > GG_KEY_MAX || gg_keypack_pack(out, pos, again) != plen ||
	    memcmp(again, p, plen) != 0)
		return GG_EFORMAT;
	*len = pos;
	return GG_OK;
}

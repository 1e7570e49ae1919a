/*
 * t_addr.c - unit tests for engine/addr.c: address parsing (IPv4, IPv6,
 * IPv4-mapped folding, brackets, "IPv6:" prefix), masking at odd prefixes,
 * network text, CIDR parsing and matching
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "unit.h"
#include "lib/addr.h"
#include "lib/util.h"

/* Parsing */

struct parse_case {
	const char *label;
	const char *in;
	enum gg_status st;
	int family;
	const char *text;	/* gg_addr_format of the result */
};

static const struct parse_case parse_cases[] = {
	{ "IPv4", "192.0.2.1", GG_OK, AF_INET, "192.0.2.1" },
	{ "IPv4 in brackets", "[192.0.2.1]", GG_OK, AF_INET, "192.0.2.1" },
	{ "IPv4 zero", "0.0.0.0", GG_OK, AF_INET, "0.0.0.0" },
	{ "IPv6", "2001:db8::1", GG_OK, AF_INET6, "2001:db8::1" },
	{ "IPv6 upper case", "2001:DB8::A", GG_OK, AF_INET6, "2001:db8::a" },
	{ "IPv6 full form", "2001:0db8:0000:0000:0000:0000:0000:0001", GG_OK, AF_INET6, "2001:db8::1" },
	{ "IPv6 in brackets", "[2001:db8::1]", GG_OK, AF_INET6, "2001:db8::1" },
	{ "IPv6 loopback", "::1", GG_OK, AF_INET6, "::1" },
	{ "IPv6: prefix", "IPv6:2001:db8::1", GG_OK, AF_INET6, "2001:db8::1" },
	{ "ipv6: prefix in lower case", "ipv6:2001:db8::1", GG_OK, AF_INET6, "2001:db8::1" },
	{ "IPv6: prefix in brackets", "[IPv6:2001:db8::1]", GG_OK, AF_INET6, "2001:db8::1" },
	{ "mapped ::ffff:192.0.2.1 folds to IPv4", "::ffff:192.0.2.1", GG_OK, AF_INET, "192.0.2.1" },
	{ "mapped upper case ::FFFF:", "::FFFF:192.0.2.1", GG_OK, AF_INET, "192.0.2.1" },
	{ "mapped in hex ::ffff:c000:201", "::ffff:c000:201", GG_OK, AF_INET, "192.0.2.1" },
	{ "mapped in brackets", "[::ffff:192.0.2.1]", GG_OK, AF_INET, "192.0.2.1" },
	{ "mapped with IPv6: prefix", "IPv6:::ffff:192.0.2.1", GG_OK, AF_INET, "192.0.2.1" },
	{ "mapped full form", "0:0:0:0:0:ffff:192.0.2.1", GG_OK, AF_INET, "192.0.2.1" },
	{ "IPv4-compatible ::192.0.2.1 stays IPv6", "::192.0.2.1", GG_OK, AF_INET6, "::192.0.2.1" },
	{ "NAT64 64:ff9b::192.0.2.1 stays IPv6", "64:ff9b::192.0.2.1", GG_OK, AF_INET6,
	  "64:ff9b::c000:201" },
	{ "empty", "", GG_EINVAL, 0, NULL },
	{ "empty brackets", "[]", GG_EINVAL, 0, NULL },
	{ "IPv6: prefix alone", "IPv6:", GG_EINVAL, 0, NULL },
	{ "unbalanced bracket left", "[192.0.2.1", GG_EINVAL, 0, NULL },
	{ "unbalanced bracket right", "192.0.2.1]", GG_EINVAL, 0, NULL },
	{ "octet over 255", "192.0.2.256", GG_EINVAL, 0, NULL },
	{ "three octets", "192.0.2", GG_EINVAL, 0, NULL },
	{ "five octets", "1.2.3.4.5", GG_EINVAL, 0, NULL },
	{ "bad hex digit", "2001:db8::g", GG_EINVAL, 0, NULL },
	{ "two ::", "2001::db8::1", GG_EINVAL, 0, NULL },
	{ "host name", "mx.example.com", GG_EINVAL, 0, NULL },
	{ "Postfix unknown", "unknown", GG_EINVAL, 0, NULL },
	{ "with a prefix", "192.0.2.1/24", GG_EINVAL, 0, NULL },
	{ "leading space", " 192.0.2.1", GG_EINVAL, 0, NULL },
	{ "zone id", "fe80::1%eth0", GG_EINVAL, 0, NULL },
	{ "far too long", "2001:0db8:0000:0000:0000:0000:0000:0001:2001:0db8:0000:0000:0000:0000:0000:0001",
	  GG_EINVAL, 0, NULL },
};

static void test_parse(void **state)
{
	const struct parse_case *c = *state;
	struct gg_addr a;
	char buf[GG_ADDR_STRLEN];

	assert_string_equal(gg_status_str(gg_addr_parse(c->in, &a)), gg_status_str(c->st));
	if (c->st != GG_OK)
		return;
	assert_int_equal(a.family, c->family);
	gg_addr_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, c->text);
	if (a.family == AF_INET) {
		/* Only the first 4 bytes are used; the rest must be zero so memcmp works. */
		static const uint8_t zero[12];
		assert_memory_equal(a.bytes + 4, zero, sizeof(zero));
	}
}

static void test_parse_same_key(void **state)
{
	/* Every spelling of one client gives the same bytes. */
	static const char *v4[] = { "192.0.2.1", "[192.0.2.1]", "::ffff:192.0.2.1",
		"[::ffff:192.0.2.1]", "IPv6:::ffff:192.0.2.1" };
	struct gg_addr first, a;

	(void)state;
	assert_int_equal(gg_addr_parse(v4[0], &first), GG_OK);
	for (size_t i = 1; i < GG_ARRAY_LEN(v4); i++) {
		assert_int_equal(gg_addr_parse(v4[i], &a), GG_OK);
		assert_int_equal(a.family, first.family);
		assert_memory_equal(a.bytes, first.bytes, sizeof(a.bytes));
	}
}

/* Masking */

struct mask_case {
	const char *label;
	const char *in;
	int prefix;
	const char *want;	/* formatted address after masking */
	const char *net;	/* gg_addr_format_net */
};

static const struct mask_case mask_cases[] = {
	{ "IPv4 /24", "192.0.2.255", 24, "192.0.2.0", "192.0.2.0/24" },
	{ "IPv4 /25", "192.0.2.255", 25, "192.0.2.128", "192.0.2.128/25" },
	{ "IPv4 /23", "192.0.3.255", 23, "192.0.2.0", "192.0.2.0/23" },
	{ "IPv4 /31", "192.0.2.255", 31, "192.0.2.254", "192.0.2.254/31" },
	{ "IPv4 /1", "200.1.2.3", 1, "128.0.0.0", "128.0.0.0/1" },
	{ "IPv4 /7", "255.255.255.255", 7, "254.0.0.0", "254.0.0.0/7" },
	{ "IPv4 /19", "10.255.255.255", 19, "10.255.224.0", "10.255.224.0/19" },
	{ "IPv4 /0", "192.0.2.1", 0, "0.0.0.0", "0.0.0.0/0" },
	{ "IPv4 /32 keeps the host", "192.0.2.1", 32, "192.0.2.1", "192.0.2.1/32" },
	{ "IPv6 /64", "2001:db8:abcd:1234:5678:9abc:def0:1", 64, "2001:db8:abcd:1234::",
	  "2001:db8:abcd:1234::/64" },
	{ "IPv6 /48", "2001:db8:abcd:1234::1", 48, "2001:db8:abcd::", "2001:db8:abcd::/48" },
	{ "IPv6 /57", "2001:db8:1:ffff::1", 57, "2001:db8:1:ff80::", "2001:db8:1:ff80::/57" },
	{ "IPv6 /63", "2001:db8:0:ffff::1", 63, "2001:db8:0:fffe::", "2001:db8:0:fffe::/63" },
	{ "IPv6 /127", "2001:db8::3", 127, "2001:db8::2", "2001:db8::2/127" },
	{ "IPv6 /1", "ffff::1", 1, "8000::", "8000::/1" },
	{ "IPv6 /0", "2001:db8::1", 0, "::", "::/0" },
	{ "IPv6 /128 keeps the host", "2001:db8::1", 128, "2001:db8::1", "2001:db8::1/128" },
};

static void test_mask(void **state)
{
	const struct mask_case *c = *state;
	struct gg_addr a, orig;
	char buf[GG_ADDR_STRLEN];

	assert_int_equal(gg_addr_parse(c->in, &a), GG_OK);
	orig = a;
	gg_addr_format_net(&a, c->prefix, buf, sizeof(buf));
	assert_string_equal(buf, c->net);
	assert_memory_equal(&a, &orig, sizeof(a));	/* format_net does not modify */
	gg_addr_mask(&a, c->prefix);
	gg_addr_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, c->want);
}

static void test_mask_out_of_range(void **state)
{
	struct gg_addr a;
	char buf[GG_ADDR_STRLEN];

	(void)state;
	assert_int_equal(gg_addr_parse("192.0.2.1", &a), GG_OK);
	gg_addr_mask(&a, 40);	/* beyond the family: nothing to clear */
	gg_addr_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.1");
	gg_addr_mask(&a, -3);	/* negative acts as 0 */
	gg_addr_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, "0.0.0.0");
}

/* CIDR parsing */

struct cidr_case {
	const char *label;
	const char *in;
	enum gg_status st;
	int family;
	const char *net;	/* gg_addr_format_net(addr, prefix) */
};

static const struct cidr_case cidr_cases[] = {
	{ "IPv4 network", "192.0.2.0/24", GG_OK, AF_INET, "192.0.2.0/24" },
	{ "IPv4 host bits are masked", "192.0.2.77/24", GG_OK, AF_INET, "192.0.2.0/24" },
	{ "IPv4 odd prefix", "192.0.2.77/27", GG_OK, AF_INET, "192.0.2.64/27" },
	{ "bare IPv4 is a /32", "192.0.2.7", GG_OK, AF_INET, "192.0.2.7/32" },
	{ "IPv4 /0", "0.0.0.0/0", GG_OK, AF_INET, "0.0.0.0/0" },
	{ "IPv4 /32", "192.0.2.7/32", GG_OK, AF_INET, "192.0.2.7/32" },
	{ "IPv6 network", "2001:db8::/32", GG_OK, AF_INET6, "2001:db8::/32" },
	{ "IPv6 odd prefix masks", "2001:db8:ffff::/33", GG_OK, AF_INET6, "2001:db8:8000::/33" },
	{ "bare IPv6 is a /128", "2001:db8::1", GG_OK, AF_INET6, "2001:db8::1/128" },
	{ "IPv6 /128", "2001:db8::1/128", GG_OK, AF_INET6, "2001:db8::1/128" },
	{ "IPv6 in brackets", "[2001:db8::]/32", GG_OK, AF_INET6, "2001:db8::/32" },
	{ "mapped /120 becomes IPv4 /24", "::ffff:192.0.2.0/120", GG_OK, AF_INET, "192.0.2.0/24" },
	{ "mapped /128 becomes IPv4 /32", "::ffff:192.0.2.7/128", GG_OK, AF_INET, "192.0.2.7/32" },
	{ "mapped /96 becomes IPv4 /0", "::ffff:0.0.0.0/96", GG_OK, AF_INET, "0.0.0.0/0" },
	{ "IPv4 prefix 33", "192.0.2.0/33", GG_EINVAL, 0, NULL },
	{ "IPv4 prefix 128", "192.0.2.0/128", GG_EINVAL, 0, NULL },
	{ "IPv6 prefix 129", "2001:db8::/129", GG_EINVAL, 0, NULL },
	{ "negative prefix", "192.0.2.0/-1", GG_EINVAL, 0, NULL },
	{ "empty prefix", "192.0.2.0/", GG_EINVAL, 0, NULL },
	{ "prefix with junk", "192.0.2.0/24x", GG_EINVAL, 0, NULL },
	{ "non-numeric prefix", "192.0.2.0/abc", GG_EINVAL, 0, NULL },
	{ "space in prefix", "192.0.2.0/ 24", GG_EINVAL, 0, NULL },
	{ "huge prefix", "192.0.2.0/99999999999999999999", GG_EINVAL, 0, NULL },
	{ "prefix without address", "/24", GG_EINVAL, 0, NULL },
	{ "two prefixes", "192.0.2.0/24/24", GG_EINVAL, 0, NULL },
	{ "host name", "example.com/24", GG_EINVAL, 0, NULL },
	{ "empty", "", GG_EINVAL, 0, NULL },
	{ "too many groups", "2001:0db8:0000:0000:0000:0000:0000:0000:0000:0000/64",
	  GG_EINVAL, 0, NULL },
	/*
	 * A mapped network shorter than /96 reaches outside ::ffff:0:0/96, so it
	 * has no IPv4 equivalent; it must be refused, not turned into a /32.
	 */
	{ "mapped /95 reaches outside ::ffff:0:0/96", "::ffff:192.0.2.0/95", GG_EINVAL, 0, NULL },
	{ "mapped /64 reaches outside ::ffff:0:0/96", "::ffff:192.0.2.0/64", GG_EINVAL, 0, NULL },
};

static void test_cidr_parse(void **state)
{
	const struct cidr_case *c = *state;
	struct gg_cidr cidr;
	char buf[GG_ADDR_STRLEN];

	memset(&cidr, 0, sizeof(cidr));
	{
		enum gg_status st = gg_cidr_parse(c->in, &cidr);
		if (st == GG_OK && c->st != GG_OK) {
			gg_addr_format_net(&cidr.addr, cidr.prefix, buf, sizeof(buf));
			fail_msg("'%s' was accepted as %s; expected %s", c->in, buf,
				 gg_status_str(c->st));
		}
		assert_string_equal(gg_status_str(st), gg_status_str(c->st));
	}
	if (c->st != GG_OK)
		return;
	assert_int_equal(cidr.addr.family, c->family);
	gg_addr_format_net(&cidr.addr, cidr.prefix, buf, sizeof(buf));
	assert_string_equal(buf, c->net);
	/* The stored address is already masked. */
	{
		struct gg_addr m = cidr.addr;
		gg_addr_mask(&m, cidr.prefix);
		assert_memory_equal(&m, &cidr.addr, sizeof(m));
	}
}

/* CIDR matching */

struct match_case {
	const char *label;
	const char *cidr;
	const char *addr;
	int want;
};

static const struct match_case match_cases[] = {
	{ "IPv4 /24 inside", "192.0.2.0/24", "192.0.2.200", 1 },
	{ "IPv4 /24 first address", "192.0.2.0/24", "192.0.2.0", 1 },
	{ "IPv4 /24 outside", "192.0.2.0/24", "192.0.3.1", 0 },
	{ "IPv4 /25 upper half inside", "192.0.2.128/25", "192.0.2.200", 1 },
	{ "IPv4 /25 lower half outside", "192.0.2.128/25", "192.0.2.100", 0 },
	{ "IPv4 host route", "192.0.2.7", "192.0.2.7", 1 },
	{ "IPv4 host route other host", "192.0.2.7", "192.0.2.8", 0 },
	{ "mapped client inside IPv4 net", "192.0.2.0/24", "::ffff:192.0.2.9", 1 },
	{ "mapped client outside IPv4 net", "192.0.2.0/24", "::ffff:192.0.3.9", 0 },
	{ "mapped net matches plain client", "::ffff:192.0.2.0/120", "192.0.2.9", 1 },
	{ "IPv4 /0 matches any IPv4", "0.0.0.0/0", "203.0.113.5", 1 },
	{ "IPv4 /0 does not match IPv6", "0.0.0.0/0", "2001:db8::1", 0 },
	{ "IPv6 /0 matches any IPv6", "::/0", "2001:db8::1", 1 },
	{ "IPv6 /0 does not match IPv4", "::/0", "192.0.2.1", 0 },
	{ "IPv6 /32 inside", "2001:db8::/32", "2001:db8:ffff::1", 1 },
	{ "IPv6 /32 outside", "2001:db8::/32", "2001:db9::1", 0 },
	{ "IPv6 /127 inside", "2001:db8::/127", "2001:db8::1", 1 },
	{ "IPv6 /127 outside", "2001:db8::/127", "2001:db8::2", 0 },
	{ "IPv6 /61 odd prefix inside", "2001:db8:0:8::/61", "2001:db8:0:f::1", 1 },
	{ "IPv6 /61 odd prefix outside", "2001:db8:0:8::/61", "2001:db8:0:10::1", 0 },
	{ "family mismatch", "192.0.2.0/24", "2001:db8::", 0 },
};

static void test_match(void **state)
{
	const struct match_case *c = *state;
	struct gg_cidr cidr;
	struct gg_addr a;

	assert_int_equal(gg_cidr_parse(c->cidr, &cidr), GG_OK);
	assert_int_equal(gg_addr_parse(c->addr, &a), GG_OK);
	assert_int_equal(!!gg_cidr_match(&cidr, &a), c->want);
}

static void test_format_small_buffer(void **state)
{
	struct gg_addr a;
	char buf[4] = "xyz";

	(void)state;
	assert_int_equal(gg_addr_parse("2001:db8::1", &a), GG_OK);
	gg_addr_format(&a, buf, sizeof(buf));	/* does not fit: empty, not overrun */
	assert_string_equal(buf, "");
}

/*
 * IPv4 is formatted without inet_ntop() and snprintf(): the result must be
 * theirs, byte for byte, for every value of a byte in every position,
 * every prefix, and every buffer size (cut like snprintf cuts).
 */
static void test_format_v4_like_libc(void **state)
{
	struct gg_addr a;
	char got[64], want[64], ntop[INET6_ADDRSTRLEN];

	(void)state;
	memset(&a, 0, sizeof(a));
	a.family = AF_INET;
	for (int pos = 0; pos < 4; pos++) {
		for (int v = 0; v < 256; v++) {
			static const uint8_t base[4] = { 198, 51, 100, 7 };
			memcpy(a.bytes, base, 4);
			a.bytes[pos] = (uint8_t)v;
			assert_non_null(inet_ntop(AF_INET, a.bytes, ntop, sizeof(ntop)));
			gg_addr_format(&a, got, sizeof(got));
			assert_string_equal(got, ntop);
			for (int prefix = 0; prefix <= 32; prefix += (v % 7) + 1) {
				struct gg_addr m = a;
				gg_addr_mask(&m, prefix);
				assert_non_null(inet_ntop(AF_INET, m.bytes, ntop, sizeof(ntop)));
				for (size_t size = 1; size <= 20; size++) {
					memset(got, 'x', sizeof(got));
					/* what snprintf(buf, size, "%s/%d", ...) leaves */
					int full = snprintf(want, sizeof(want), "%s/%d", ntop, prefix);
					if ((size_t)full >= size)
						want[size - 1] = '\0';
					gg_addr_format_net(&a, prefix, got, size);
					assert_string_equal(got, want);
				}
			}
		}
	}
	/* Too small for the address: empty, as when inet_ntop() fails. */
	memcpy(a.bytes, "\xc0\x00\x02\x01", 4);
	gg_addr_format(&a, got, 8);
	assert_string_equal(got, "");
	gg_addr_format(&a, got, 10);
	assert_string_equal(got, "192.0.2.1");
}

int main(void)
{
	struct tu_suite s = { 0 };
	size_t i;

	for (i = 0; i < GG_ARRAY_LEN(parse_cases); i++)
		tu_add(&s, test_parse, &parse_cases[i], "parse: %s", parse_cases[i].label);
	tu_add(&s, test_parse_same_key, NULL, "parse: every spelling of an IPv4 client gives the same bytes");
	for (i = 0; i < GG_ARRAY_LEN(mask_cases); i++)
		tu_add(&s, test_mask, &mask_cases[i], "mask: %s", mask_cases[i].label);
	tu_add(&s, test_mask_out_of_range, NULL, "mask: prefixes outside the family's range");
	tu_add(&s, test_format_v4_like_libc, NULL, "format: IPv4 byte for byte as inet_ntop and snprintf");
	for (i = 0; i < GG_ARRAY_LEN(cidr_cases); i++)
		tu_add(&s, test_cidr_parse, &cidr_cases[i], "cidr: %s", cidr_cases[i].label);
	for (i = 0; i < GG_ARRAY_LEN(match_cases); i++)
		tu_add(&s, test_match, &match_cases[i], "match: %s", match_cases[i].label);
	tu_add(&s, test_format_small_buffer, NULL, "format: too small a buffer gives an empty string");
	return tu_run(&s, "t_addr");
}

/*
 * t_keypack.c - unit tests for store/keypack.c: every kind of key packs
 * and unpacks to exactly its text, networks are stored as bytes, the
 * packed form is compact, and every other form of the same bytes is
 * refused (so a damaged key reads as junk)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "store/keypack.h"
#include "lib/util.h"

struct rt_case {
	const char *label;
	const char *key;
	size_t want_max;	/* packed length at most this (0: no bound) */
};

static const struct rt_case rt_cases[] = {
	{ "IPv4 /24 triplet", "t/192.0.2.0/24/alice@example.com/bob@example.org", 38 },
	{ "IPv4 /32 triplet", "t/192.0.2.7/32/a@b/c@d", 13 },
	{ "IPv4 /0 triplet", "t/0.0.0.0/0/a@b/c@d", 9 },
	{ "IPv4 /25 triplet", "t/192.0.2.128/25/a@b/c@d", 13 },
	{ "IPv6 /64 triplet", "t/2001:db8:1:2::/64/a@b/c@d", 17 },
	{ "IPv6 /128 triplet", "t/2001:db8::1/128/a@b/c@d", 25 },
	{ "IPv6 /0 triplet", "t/::/0/a@b/c@d", 9 },
	{ "null sender", "t/192.0.2.0/24//postmaster@example.org", 0 },
	{ "SPF domain as client", "t/spf:example.com/alice@example.com/bob@example.org", 40 },
	{ "IPv4 client key", "c/198.51.100.0/24", 6 },
	{ "IPv6 client key", "c/2001:db8::/48", 9 },
	{ "SPF client key", "c/spf:example.com", 15 },
	{ "network not in canonical spelling", "t/192.000.2.0/24/a@b/c@d", 0 },
	{ "network with host bits", "t/192.0.2.7/24/a@b/c@d", 0 },
	{ "upper-case IPv6", "t/2001:DB8::/64/a@b/c@d", 0 },
	{ "IPv4-mapped IPv6 spelling", "t/::ffff:192.0.2.0/120/a@b/c@d", 0 },
	{ "client key with trailing slash", "c/192.0.2.0/24/", 0 },
	{ "triplet key without sender", "t/192.0.2.0/24", 0 },
	{ "only the kind", "t/", 2 },
	{ "empty client key", "c/", 2 },
	{ "characters that need the escape", "t/192.0.2.0/24/A\"B\\C<>@x/\x7f\x80\xff@y", 0 },
	{ "question marks left by triplet.c", "t/192.0.2.0/24/a?b@c/d@e", 0 },
	{ "other key", "v/format", 9 },
	{ "empty key", "", 1 },
	{ "one byte", "t", 2 },
	{ "bench-like key",
	  "t/10.123.45.0/24/uabcdefghijklmnop@abc.sender.example.com/rabcdefghxyz@example.org", 56 },
};

static void roundtrip(const char *key, size_t klen, size_t want_max)
{
	unsigned char p[GG_KEYPACK_MAX];
	char out[GG_KEY_MAX + 1];
	size_t n = gg_keypack_pack(key, klen, p), len = 0;

	assert_true(n >= 1 && n <= GG_KEYPACK_MAX);
	if (want_max > 0 && n > want_max)
		fail_msg("%zu bytes packed, want at most %zu", n, want_max);
	assert_int_equal(gg_keypack_unpack(p, n, out, sizeof(out), &len), GG_OK);
	assert_int_equal(len, klen);
	assert_memory_equal(out, key, klen);
}

static void test_roundtrip(void **state)
{
	const struct rt_case *c = *state;

	roundtrip(c->key, strlen(c->key), c->want_max);
}

/* The documented bytes: kind, client form, prefix, prefix bytes, six bits. */
static void test_layout(void **state)
{
	/* "a@b" = 1, 39, 2 -> 000001 100111 000010 + 6 bits of padding */
	static const unsigned char want_c4[] = { 0x02, 0x04, 24, 192, 0, 2 };
	static const unsigned char want_t4[] = { 0x01, 0x04, 24, 192, 0, 2, 0x06, 0x70, 0x80 };
	static const unsigned char want_raw[] = { 0x03, 'v', '/', 'x' };
	static const unsigned char want_text[] = { 0x02, 0x00, 0x06, 0x70, 0x80 };
	unsigned char p[GG_KEYPACK_MAX];

	(void)state;
	assert_int_equal(gg_keypack_pack("c/192.0.2.0/24", 14, p), sizeof(want_c4));
	assert_memory_equal(p, want_c4, sizeof(want_c4));
	assert_int_equal(gg_keypack_pack("t/192.0.2.0/24/a@b", 18, p), sizeof(want_t4));
	assert_memory_equal(p, want_t4, sizeof(want_t4));
	assert_int_equal(gg_keypack_pack("v/x", 3, p), sizeof(want_raw));
	assert_memory_equal(p, want_raw, sizeof(want_raw));
	assert_int_equal(gg_keypack_pack("c/a@b", 5, p), sizeof(want_text));
	assert_memory_equal(p, want_text, sizeof(want_text));
}

/* Keys with every byte value, NUL included, and the longest keys. */
static void test_all_bytes_and_long(void **state)
{
	char key[GG_KEY_MAX];

	(void)state;
	memcpy(key, "t/192.0.2.0/24/", 15);
	for (int i = 0; i < 256; i++)
		key[15 + i] = (char)i;
	roundtrip(key, 15 + 256, 0);
	key[0] = 'c';
	roundtrip(key, 15 + 256, 0);
	memset(key, 0xff, sizeof(key));		/* every byte escaped */
	memcpy(key, "t/", 2);
	roundtrip(key, sizeof(key), 0);
	memset(key + 2, 'x', sizeof(key) - 2);
	roundtrip(key, sizeof(key), GG_KEY_MAX * 3 / 4 + 3);
}

struct bad_case {
	const char *label;
	unsigned char p[16];
	size_t n;
};

static const struct bad_case bad_cases[] = {
	{ "empty", { 0 }, 0 },
	{ "unknown kind", { 0x04, 0x00 }, 2 },
	{ "kind without client form", { 0x01 }, 1 },
	{ "unknown client form", { 0x01, 0x05, 0 }, 3 },
	{ "IPv4 prefix 33", { 0x02, 0x04, 33, 1, 2, 3, 4, 5 }, 8 },
	{ "IPv4 prefix bytes missing", { 0x02, 0x04, 24, 192, 0 }, 5 },
	{ "bits beyond the prefix", { 0x02, 0x04, 24, 192, 0, 2, 7 }, 7 },
	{ "client key with text after its network", { 0x02, 0x04, 24, 192, 0, 2, 0x04 }, 7 },
	{ "IPv6 prefix 129", { 0x02, 0x06, 129 }, 3 },
	{ "padding that is not zero", { 0x02, 0x00, 0x04, 0x21 }, 4 },
	{ "a whole byte of padding", { 0x02, 0x00, 0x06, 0x70, 0x80, 0x00 }, 6 },
	{ "escape cut short", { 0x02, 0x00, 0xfc }, 3 },
	{ "escape of a character with a code ('a')", { 0x02, 0x00, 0xfd, 0x84 }, 4 },
	{ "text client that is a network", { 0x02, 0x00, 0x00 }, 0 },	/* built below */
	{ "raw key that is a triplet key", { 0x03, 't', '/', 'x' }, 4 },
	{ "code after the padding", { 0x02, 0x00, 0x04, 0x04 }, 4 },
};

static void test_bad(void **state)
{
	const struct bad_case *c = *state;
	unsigned char p[GG_KEYPACK_MAX];
	char out[GG_KEY_MAX];
	size_t n = c->n, len = 12345;

	memcpy(p, c->p, sizeof(c->p));
	if (strcmp(c->label, "text client that is a network") == 0) {
		/* "c/" then "1.2.3.0/24" in six bits instead of as a network */
		p[0] = 0x02;
		p[1] = 0x00;
		/* "1" "." "2" "." "3" "." "0" "/" "2" "4": codes 28 37 29 37 30 37 27 43 29 31 */
		static const unsigned codes[] = { 28, 37, 29, 37, 30, 37, 27, 43, 29, 31 };
		unsigned acc = 0, nb = 0;
		n = 2;
		for (size_t i = 0; i < GG_ARRAY_LEN(codes); i++) {
			acc = (acc << 6) | codes[i];
			nb += 6;
			while (nb >= 8) {
				nb -= 8;
				p[n++] = (unsigned char)(acc >> nb);
			}
		}
		if (nb > 0)
			p[n++] = (unsigned char)(acc << (8 - nb));
	}
	assert_int_equal(gg_keypack_unpack(p, n, out, sizeof(out), &len), GG_EFORMAT);
	assert_int_equal(len, 12345);
}

/* Any bytes at all either unpack to a key that packs back to them, or are refused. */
static void test_random(void **state)
{
	unsigned char p[64], again[GG_KEYPACK_MAX];
	char out[GG_KEY_MAX];
	size_t len;
	unsigned seed = 12345, ok = 0;

	(void)state;
	for (int i = 0; i < 200000; i++) {
		size_t n = 1 + (size_t)(rand_r(&seed) % 24);
		for (size_t j = 0; j < n; j++)
			p[j] = (unsigned char)rand_r(&seed);
		p[0] = (unsigned char)(1 + p[0] % 3);
		if (n > 1 && p[0] != 3)
			p[1] = (unsigned char)((p[1] & 1) ? 0 : (p[1] & 2) ? 4 : 6);
		if (n > 2 && p[1] == 4)
			p[2] %= 33;
		if (gg_keypack_unpack(p, n, out, sizeof(out), &len) != GG_OK)
			continue;
		ok++;
		assert_int_equal(gg_keypack_pack(out, len, again), n);
		assert_memory_equal(again, p, n);
	}
	assert_true(ok > 1000);		/* the generator reaches valid keys */
}

/* A buffer too small is GG_ETOOBIG, never an overflow. */
static void test_small_buffer(void **state)
{
	static const char key[] = "t/192.0.2.0/24/alice@example.com/bob@example.org";
	unsigned char p[GG_KEYPACK_MAX];
	char out[sizeof(key)];
	size_t n = gg_keypack_pack(key, sizeof(key) - 1, p), len;

	(void)state;
	for (size_t size = 0; size < sizeof(key) - 1; size++)
		assert_int_equal(gg_keypack_unpack(p, n, out, size, &len), GG_ETOOBIG);
	assert_int_equal(gg_keypack_unpack(p, n, out, sizeof(key) - 1, &len), GG_OK);
}

int main(void)
{
	struct tu_suite s = { 0 };

	for (size_t i = 0; i < GG_ARRAY_LEN(rt_cases); i++)
		tu_add(&s, test_roundtrip, &rt_cases[i], "round trip: %s", rt_cases[i].label);
	tu_add(&s, test_layout, NULL, "layout: kind, client form, prefix bytes, six-bit text");
	tu_add(&s, test_all_bytes_and_long, NULL, "round trip: every byte value, GG_KEY_MAX bytes");
	for (size_t i = 0; i < GG_ARRAY_LEN(bad_cases); i++)
		tu_add(&s, test_bad, &bad_cases[i], "refused: %s", bad_cases[i].label);
	tu_add(&s, test_random, NULL, "random bytes: refused, or unpack and pack back to themselves");
	tu_add(&s, test_small_buffer, NULL, "a small output buffer: GG_ETOOBIG");
	return tu_run(&s, "t_keypack");
}

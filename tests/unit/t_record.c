/*
 * t_record.c - unit tests for store/record.c: encode/decode round trips,
 * the varint layout of version 2, version 1 (big-endian, as greygate wrote
 * it up to issue 9) still read, and refusal of every kind of corruption
 */
#include <string.h>

#include "unit.h"
#include "store/record.h"
#include "lib/util.h"

static const struct gg_triplet_rec t_valid = {
	.first_seen = 1700000000, .last_seen = 1700000400, .passed_at = 1700000300,
	.defer_count = 2, .pass_count = 3,
};

static const struct gg_client_rec c_valid = {
	.first_seen = 1700000000, .last_seen = 1700007200, .last_counted = 1700003600,
	.pass_count = 4,
};

/* Round trips */

static void test_triplet_round_trip(void **state)
{
	static const struct gg_triplet_rec recs[] = {
		{ 1700000000, 1700000400, 1700000300, 2, 3 },
		{ 1, 1, 0, 0, 0 },				/* never passed */
		{ 1, 1, 1, 1, 1 },				/* passed at first sight */
		{ 0x0102030405060708ULL, 0x1112131415161718ULL, 0x0102030405060709ULL,
		  0x21222324, 0x31323334 },
		{ UINT64_MAX - 1, UINT64_MAX, UINT64_MAX, UINT32_MAX, UINT32_MAX },
	};
	uint8_t buf[GG_RECORD_MAX];
	struct gg_triplet_rec out;

	(void)state;
	for (size_t i = 0; i < GG_ARRAY_LEN(recs); i++) {
		size_t n = gg_record_triplet_encode(&recs[i], buf);
		assert_true(n >= 6 && n <= GG_RECORD_MAX);
		memset(&out, 0xa5, sizeof(out));
		assert_int_equal(gg_record_triplet_decode(buf, n, &out), GG_OK);
		assert_true(out.first_seen == recs[i].first_seen);
		assert_true(out.last_seen == recs[i].last_seen);
		assert_true(out.passed_at == recs[i].passed_at);
		assert_int_equal(out.defer_count, recs[i].defer_count);
		assert_int_equal(out.pass_count, recs[i].pass_count);
	}
}

static void test_client_round_trip(void **state)
{
	static const struct gg_client_rec recs[] = {
		{ 1700000000, 1700007200, 1700003600, 4 },
		{ 1, 1, 0, 0 },					/* never counted */
		{ 0x0102030405060708ULL, 0x1112131415161718ULL, 0x1112131415161718ULL, 0x21222324 },
		{ UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT32_MAX },
	};
	uint8_t buf[GG_RECORD_MAX];
	struct gg_client_rec out;

	(void)state;
	for (size_t i = 0; i < GG_ARRAY_LEN(recs); i++) {
		size_t n = gg_record_client_encode(&recs[i], buf);
		assert_true(n >= 5 && n <= GG_RECORD_MAX);
		memset(&out, 0xa5, sizeof(out));
		assert_int_equal(gg_record_client_decode(buf, n, &out), GG_OK);
		assert_true(out.first_seen == recs[i].first_seen);
		assert_true(out.last_seen == recs[i].last_seen);
		assert_true(out.last_counted == recs[i].last_counted);
		assert_int_equal(out.pass_count, recs[i].pass_count);
	}
}

/* The documented layout of version 2: tag, version, varints, deltas. */
static void test_layout(void **state)
{
	/* 1700000000 is 67225600 s before the epoch: zigzag 134451199, LEB128 ff 9f 8e 40 */
	static const uint8_t want_t[] = {
		't', 0xff, 0x9f, 0x8e, 0x40,		/* first_seen */
		0x90, 0x03,				/* last_seen - first_seen = 400 */
		0xad, 0x02,				/* passed_at - first_seen + 1 = 301 */
		0x02, 0x03,				/* defer_count, pass_count */
	};
	static const uint8_t want_c[] = {
		'c', 0xff, 0x9f, 0x8e, 0x40,		/* first_seen */
		0xa0, 0x38,				/* last_seen - first_seen = 7200 */
		0x91, 0x1c,				/* last_seen - last_counted + 1 = 3601 */
		0x04,					/* pass_count */
	};
	/* A second after 1970: far before the epoch, five bytes. */
	static const uint8_t want_never[] = { 't', 0xfd, 0xe3, 0xad, 0x95, 0x0d, 0, 0, 0, 0 };
	/* A new triplet a day after the epoch: 9 bytes, 12 on a Berkeley DB page. */
	static const uint8_t want_new[] = { 't', 0x80, 0xc6, 0x0a, 0, 0, 1, 0 };
	struct gg_triplet_rec never = { 1, 1, 0, 0, 0 };
	struct gg_triplet_rec fresh = { GG_RECORD_EPOCH + 86400, GG_RECORD_EPOCH + 86400, 0, 1, 0 };
	uint8_t buf[GG_RECORD_MAX];

	(void)state;
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(gg_record_triplet_encode(&t_valid, buf), sizeof(want_t));
	assert_memory_equal(buf, want_t, sizeof(want_t));
	assert_int_equal(buf[sizeof(want_t)], 0xee);	/* nothing written beyond */
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(gg_record_client_encode(&c_valid, buf), sizeof(want_c));
	assert_memory_equal(buf, want_c, sizeof(want_c));
	assert_int_equal(buf[sizeof(want_c)], 0xee);
	assert_int_equal(gg_record_triplet_encode(&never, buf), sizeof(want_never));
	assert_memory_equal(buf, want_never, sizeof(want_never));
	assert_int_equal(gg_record_triplet_encode(&fresh, buf), sizeof(want_new));
	assert_memory_equal(buf, want_new, sizeof(want_new));
	assert_int_equal(gg_record_version(want_t, sizeof(want_t)), 2);
}

/* Version 1, as greygate wrote it up to issue 9: still read, field by field. */
static const uint8_t v1_t[GG_TRIPLET_REC_V1_LEN] = {
	'T', 1,
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
	0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x09,
	0x21, 0x22, 0x23, 0x24,
	0x31, 0x32, 0x33, 0x34,
};
static const uint8_t v1_c[GG_CLIENT_REC_V1_LEN] = {
	'C', 1,
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
	0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
	0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x10,
	0x41, 0x42, 0x43, 0x44,
};

static void test_v1_read(void **state)
{
	struct gg_triplet_rec t, t2;
	struct gg_client_rec c, c2;
	uint8_t buf[GG_RECORD_MAX];
	uint64_t last;

	(void)state;
	assert_int_equal(gg_record_triplet_decode(v1_t, sizeof(v1_t), &t), GG_OK);
	assert_true(t.first_seen == 0x0102030405060708ULL && t.last_seen == 0x1112131415161718ULL);
	assert_true(t.passed_at == 0x0102030405060709ULL);
	assert_true(t.defer_count == 0x21222324 && t.pass_count == 0x31323334);
	assert_int_equal(gg_record_client_decode(v1_c, sizeof(v1_c), &c), GG_OK);
	assert_true(c.first_seen == 0x0102030405060708ULL && c.last_seen == 0x1112131415161718ULL);
	assert_true(c.last_counted == 0x1112131415161710ULL && c.pass_count == 0x41424344);
	assert_int_equal(gg_record_version(v1_t, sizeof(v1_t)), 1);
	assert_int_equal(gg_record_last_seen(v1_c, sizeof(v1_c), &last), GG_OK);
	assert_true(last == c.last_seen);
	/* Written back as version 2, the same fields. */
	assert_int_equal(gg_record_triplet_decode(buf, gg_record_triplet_encode(&t, buf), &t2), GG_OK);
	assert_int_equal(buf[0], 't');
	assert_int_equal(gg_record_version(buf, gg_record_triplet_encode(&t, buf)), 2);
	assert_memory_equal(&t, &t2, sizeof(t));
	assert_int_equal(gg_record_client_decode(buf, gg_record_client_encode(&c, buf), &c2), GG_OK);
	assert_true(c2.first_seen == c.first_seen && c2.last_seen == c.last_seen);
	assert_true(c2.last_counted == c.last_counted && c2.pass_count == c.pass_count);
}

/* Version 1 records that are broken are refused as before. */
static void test_v1_bad(void **state)
{
	uint8_t buf[GG_TRIPLET_REC_V1_LEN + 1];
	struct gg_triplet_rec t;
	struct gg_client_rec c;

	(void)state;
	memcpy(buf, v1_t, sizeof(v1_t));
	assert_int_equal(gg_record_triplet_decode(buf, sizeof(v1_t) - 1, &t), GG_EFORMAT);
	buf[sizeof(v1_t)] = 0;
	assert_int_equal(gg_record_triplet_decode(buf, sizeof(v1_t) + 1, &t), GG_EFORMAT);
	buf[26] = 0xff;		/* defer_count still fits; break the times instead */
	memset(buf + 18, 0xff, 8);	/* passed_at after last_seen */
	assert_int_equal(gg_record_triplet_decode(buf, sizeof(v1_t), &t), GG_EFORMAT);
	memcpy(buf, v1_t, sizeof(v1_t));
	buf[25] = 0x07;			/* passed_at before first_seen */
	assert_int_equal(gg_record_triplet_decode(buf, sizeof(v1_t), &t), GG_EFORMAT);
	memcpy(buf, v1_c, sizeof(v1_c));
	buf[25] = 0x19;			/* last_counted after last_seen */
	assert_int_equal(gg_record_client_decode(buf, sizeof(v1_c), &c), GG_EFORMAT);
	memcpy(buf, v1_t, sizeof(v1_t));
	buf[1] = 2;			/* a version byte other than 1 */
	assert_int_equal(gg_record_triplet_decode(buf, sizeof(v1_t), &t), GG_EFORMAT);
	buf[1] = 0;
	assert_int_equal(gg_record_triplet_decode(buf, sizeof(v1_t), &t), GG_EFORMAT);
	memcpy(buf, v1_c, sizeof(v1_c));
	memset(buf + 2, 0, 8);		/* first_seen 0 */
	assert_int_equal(gg_record_client_decode(buf, sizeof(v1_c), &c), GG_EFORMAT);
	assert_int_equal(gg_record_client_decode(v1_c, sizeof(v1_c) - 1, &c), GG_EFORMAT);
	assert_int_equal(gg_record_triplet_decode(v1_c, sizeof(v1_c), &t), GG_EFORMAT);
}

/* Varints that are not canonical, or too big, are refused. */
static void test_varint_bad(void **state)
{
	static const struct { const char *label; uint8_t b[24]; size_t n; } cases[] = {
		{ "redundant zero group in first_seen", { 't', 0x81, 0x00, 0, 0, 0, 0 }, 8 },
		{ "redundant zero group in a count", { 't', 1, 0, 0, 0x80, 0x00, 0 }, 8 },
		{ "first_seen beyond 64 bits", { 't', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		  0xff, 0x02, 0, 0, 0, 0 }, 16 },
		{ "eleven-byte varint", { 't', 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
		  0x80, 0x01, 0, 0, 0, 0 }, 17 },
		{ "defer_count beyond 32 bits", { 't', 1, 0, 0, 0x80, 0x80, 0x80, 0x80, 0x10, 0 }, 11 },
		{ "unterminated varint", { 't', 1, 0, 0, 0, 0x80 }, 7 },
		{ "passed after last_seen", { 't', 1, 5, 7, 0, 0 }, 7 },
		{ "last_seen overflows", { 't', 0x81, 0xe4, 0xad, 0x95, 0x0d, 0x01, 0, 0, 0 }, 10 },
		{ "client: counted after last_seen", { 'c', 0, 0, 0x82, 0xf2, 0xd6, 0xca, 0x06, 0 }, 9 },
		{ "client: last_counted 0 spelled as last_seen + 1",
		  { 'c', 0, 0, 0x81, 0xf2, 0xd6, 0xca, 0x06, 0 }, 9 },
		{ "client: pass_count beyond 32 bits", { 'c', 1, 0, 0, 0x80, 0x80, 0x80, 0x80, 0x10 }, 10 },
		{ "client: trailing byte", { 'c', 1, 0, 0, 0, 0 }, 7 },
		{ "version 3", { 'T', 3, 1, 0, 0, 0, 0 }, 7 },
	};
	struct gg_triplet_rec t;
	struct gg_client_rec c;
	uint64_t last;

	(void)state;
	for (size_t i = 0; i < GG_ARRAY_LEN(cases); i++) {
		print_message("%s\n", cases[i].label);
		assert_int_equal(gg_record_triplet_decode(cases[i].b, cases[i].n, &t), GG_EFORMAT);
		assert_int_equal(gg_record_client_decode(cases[i].b, cases[i].n, &c), GG_EFORMAT);
		assert_int_equal(gg_record_last_seen(cases[i].b, cases[i].n, &last), GG_EFORMAT);
	}
	/* The largest values still decode. */
	{
		struct gg_triplet_rec big = { 1, UINT64_MAX, UINT64_MAX, UINT32_MAX, UINT32_MAX };
		uint8_t buf[GG_RECORD_MAX];
		size_t n = gg_record_triplet_encode(&big, buf);
		assert_int_equal(gg_record_triplet_decode(buf, n, &t), GG_OK);
		assert_memory_equal(&t, &big, sizeof(t));
	}
}

/* Corruptions: start from a valid encoding and break one thing. */

enum which { TRIPLET, CLIENT };

struct bad_case {
	const char *label;
	enum which which;
	int at;			/* byte to overwrite, or -1 */
	uint8_t val;
	int lendelta;		/* added to the correct length */
	/* or: fields to set before encoding */
	void (*mutate)(void *rec);
	int len;		/* or, when > 0, this length instead */
};

static void t_first_zero(void *r) { ((struct gg_triplet_rec *)r)->first_seen = 0; }
static void t_last_before_first(void *r) { ((struct gg_triplet_rec *)r)->last_seen = 1699999999; }
static void t_passed_after_last(void *r) { ((struct gg_triplet_rec *)r)->passed_at = 1700000401; }
static void c_first_zero(void *r) { ((struct gg_client_rec *)r)->first_seen = 0; }
static void c_last_before_first(void *r) { ((struct gg_client_rec *)r)->last_seen = 1699999999; }

static const struct bad_case bad_cases[] = {
	{ "triplet: wrong tag", TRIPLET, 0, 'X', 0, NULL, 0 },
	{ "triplet: client tag", TRIPLET, 0, 'C', 0, NULL, 0 },
	{ "triplet: version 2 client tag", TRIPLET, 0, 'c', 0, NULL, 0 },
	{ "triplet: version 1 tag on version 2 fields", TRIPLET, 0, 'T', 0, NULL, 0 },
	{ "triplet: one byte short", TRIPLET, -1, 0, -1, NULL, 0 },
	{ "triplet: one byte long", TRIPLET, -1, 0, +1, NULL, 0 },
	{ "triplet: only tag and version", TRIPLET, -1, 0, 0, NULL, 2 },
	{ "triplet: only the tag", TRIPLET, -1, 0, 0, NULL, 1 },
	{ "triplet: first_seen 0", TRIPLET, -1, 0, 0, t_first_zero, 0 },
	{ "triplet: last_seen before first_seen", TRIPLET, -1, 0, 0, t_last_before_first, 0 },
	{ "triplet: passed_at after last_seen", TRIPLET, -1, 0, 0, t_passed_after_last, 0 },
	{ "client: wrong tag", CLIENT, 0, 'X', 0, NULL, 0 },
	{ "client: triplet tag", CLIENT, 0, 'T', 0, NULL, 0 },
	{ "client: version 2 triplet tag", CLIENT, 0, 't', 0, NULL, 0 },
	{ "client: version 1 tag on version 2 fields", CLIENT, 0, 'C', 0, NULL, 0 },
	{ "client: one byte short", CLIENT, -1, 0, -1, NULL, 0 },
	{ "client: one byte long", CLIENT, -1, 0, +1, NULL, 0 },
	{ "client: version 1 length", CLIENT, -1, 0, 0, NULL, GG_CLIENT_REC_V1_LEN },
	{ "client: only the tag", CLIENT, -1, 0, 0, NULL, 1 },
	{ "client: first_seen 0", CLIENT, -1, 0, 0, c_first_zero, 0 },
	{ "client: last_seen before first_seen", CLIENT, -1, 0, 0, c_last_before_first, 0 },
};

static void test_bad(void **state)
{
	const struct bad_case *c = *state;
	uint8_t buf[GG_RECORD_MAX + 8];
	size_t n;
	uint64_t last = 42;

	memset(buf, 0, sizeof(buf));
	if (c->which == TRIPLET) {
		struct gg_triplet_rec r = t_valid, out;
		if (c->mutate)
			c->mutate(&r);
		n = gg_record_triplet_encode(&r, buf);
		if (c->at >= 0)
			buf[c->at] = c->val;
		n = c->len > 0 ? (size_t)c->len : (size_t)((long)n + c->lendelta);
		assert_int_equal(gg_record_triplet_decode(buf, n, &out), GG_EFORMAT);
	} else {
		struct gg_client_rec r = c_valid, out;
		if (c->mutate)
			c->mutate(&r);
		n = gg_record_client_encode(&r, buf);
		if (c->at >= 0)
			buf[c->at] = c->val;
		n = c->len > 0 ? (size_t)c->len : (size_t)((long)n + c->lendelta);
		assert_int_equal(gg_record_client_decode(buf, n, &out), GG_EFORMAT);
	}
	/* Expiry must see it as junk too. */
	assert_int_equal(gg_record_last_seen(buf, n, &last), GG_EFORMAT);
	assert_true(last == 42);
}

/* Valid edge cases that must not be refused. */
static void test_edges_accepted(void **state)
{
	uint8_t buf[GG_RECORD_MAX];
	struct gg_triplet_rec t = { 5, 5, 5, 0, 0 }, to;
	struct gg_client_rec c = { 5, 5, 0, 0 }, co;

	(void)state;
	assert_int_equal(gg_record_triplet_decode(buf, gg_record_triplet_encode(&t, buf), &to), GG_OK);
	t.passed_at = 0;	/* not yet passed */
	assert_int_equal(gg_record_triplet_decode(buf, gg_record_triplet_encode(&t, buf), &to), GG_OK);
	assert_int_equal(gg_record_client_decode(buf, gg_record_client_encode(&c, buf), &co), GG_OK);
	c.last_counted = 5;
	assert_int_equal(gg_record_client_decode(buf, gg_record_client_encode(&c, buf), &co), GG_OK);
}

static void test_last_seen(void **state)
{
	uint8_t buf[GG_RECORD_MAX];
	uint64_t last = 0;
	static const uint8_t junk[] = "not a record at all";

	(void)state;
	assert_int_equal(gg_record_last_seen(buf, gg_record_triplet_encode(&t_valid, buf), &last), GG_OK);
	assert_true(last == t_valid.last_seen);
	assert_int_equal(gg_record_last_seen(buf, gg_record_client_encode(&c_valid, buf), &last), GG_OK);
	assert_true(last == c_valid.last_seen);
	assert_int_equal(gg_record_last_seen(junk, sizeof(junk), &last), GG_EFORMAT);
	assert_int_equal(gg_record_last_seen(junk, 0, &last), GG_EFORMAT);
	assert_int_equal(gg_record_last_seen((const uint8_t *)"T", 1, &last), GG_EFORMAT);
	assert_int_equal(gg_record_last_seen((const uint8_t *)"C", 1, &last), GG_EFORMAT);
}

int main(void)
{
	struct tu_suite s = { 0 };

	tu_add(&s, test_triplet_round_trip, NULL, "triplet: encode/decode round trip");
	tu_add(&s, test_client_round_trip, NULL, "client: encode/decode round trip");
	tu_add(&s, test_layout, NULL, "layout: tag, version 2, varint fields, exact length");
	tu_add(&s, test_v1_read, NULL, "version 1: read field by field, written back as version 2");
	tu_add(&s, test_v1_bad, NULL, "version 1: wrong length and disordered times refused");
	tu_add(&s, test_varint_bad, NULL, "version 2: non-canonical or oversized varints refused");
	for (size_t i = 0; i < GG_ARRAY_LEN(bad_cases); i++)
		tu_add(&s, test_bad, &bad_cases[i], "refused: %s", bad_cases[i].label);
	tu_add(&s, test_edges_accepted, NULL, "accepted: equal times, passed_at 0, last_counted 0");
	tu_add(&s, test_last_seen, NULL, "last_seen: both kinds, junk refused");
	return tu_run(&s, "t_record");
}

/*
 * t_record.c - unit tests for engine/record.c: encode/decode round trips,
 * the fixed big-endian layout, and refusal of every kind of corruption
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
		assert_int_equal(n, GG_TRIPLET_REC_LEN);
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
		assert_int_equal(n, GG_CLIENT_REC_LEN);
		memset(&out, 0xa5, sizeof(out));
		assert_int_equal(gg_record_client_decode(buf, n, &out), GG_OK);
		assert_true(out.first_seen == recs[i].first_seen);
		assert_true(out.last_seen == recs[i].last_seen);
		assert_true(out.last_counted == recs[i].last_counted);
		assert_int_equal(out.pass_count, recs[i].pass_count);
	}
}

/* The documented layout: tag, version, big-endian fields. */
static void test_layout(void **state)
{
	static const uint8_t want_t[GG_TRIPLET_REC_LEN] = {
		'T', 1,
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
		0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x09,
		0x21, 0x22, 0x23, 0x24,
		0x31, 0x32, 0x33, 0x34,
	};
	static const uint8_t want_c[GG_CLIENT_REC_LEN] = {
		'C', 1,
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
		0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
		0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x10,
		0x41, 0x42, 0x43, 0x44,
	};
	struct gg_triplet_rec t = { 0x0102030405060708ULL, 0x1112131415161718ULL,
		0x0102030405060709ULL, 0x21222324, 0x31323334 };
	struct gg_client_rec c = { 0x0102030405060708ULL, 0x1112131415161718ULL,
		0x1112131415161710ULL, 0x41424344 };
	uint8_t buf[GG_RECORD_MAX];

	(void)state;
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(gg_record_triplet_encode(&t, buf), sizeof(want_t));
	assert_memory_equal(buf, want_t, sizeof(want_t));
	assert_int_equal(buf[sizeof(want_t)], 0xee);	/* nothing written beyond */
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(gg_record_client_encode(&c, buf), sizeof(want_c));
	assert_memory_equal(buf, want_c, sizeof(want_c));
	assert_int_equal(buf[sizeof(want_c)], 0xee);
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
};

static void t_first_zero(void *r) { ((struct gg_triplet_rec *)r)->first_seen = 0; }
static void t_last_before_first(void *r) { ((struct gg_triplet_rec *)r)->last_seen = 1699999999; }
static void t_passed_before_first(void *r) { ((struct gg_triplet_rec *)r)->passed_at = 1699999999; }
static void t_passed_after_last(void *r) { ((struct gg_triplet_rec *)r)->passed_at = 1700000401; }
static void c_first_zero(void *r) { ((struct gg_client_rec *)r)->first_seen = 0; }
static void c_last_before_first(void *r) { ((struct gg_client_rec *)r)->last_seen = 1699999999; }
static void c_counted_after_last(void *r) { ((struct gg_client_rec *)r)->last_counted = 1700007201; }

static const struct bad_case bad_cases[] = {
	{ "triplet: wrong tag", TRIPLET, 0, 'X', 0, NULL },
	{ "triplet: client tag", TRIPLET, 0, 'C', 0, NULL },
	{ "triplet: lower-case tag", TRIPLET, 0, 't', 0, NULL },
	{ "triplet: version 0", TRIPLET, 1, 0, 0, NULL },
	{ "triplet: version 2", TRIPLET, 1, 2, 0, NULL },
	{ "triplet: one byte short", TRIPLET, -1, 0, -1, NULL },
	{ "triplet: one byte long", TRIPLET, -1, 0, +1, NULL },
	{ "triplet: only tag and version", TRIPLET, -1, 0, 2 - GG_TRIPLET_REC_LEN, NULL },
	{ "triplet: empty", TRIPLET, -1, 0, -GG_TRIPLET_REC_LEN, NULL },
	{ "triplet: first_seen 0", TRIPLET, -1, 0, 0, t_first_zero },
	{ "triplet: last_seen before first_seen", TRIPLET, -1, 0, 0, t_last_before_first },
	{ "triplet: passed_at before first_seen", TRIPLET, -1, 0, 0, t_passed_before_first },
	{ "triplet: passed_at after last_seen", TRIPLET, -1, 0, 0, t_passed_after_last },
	{ "client: wrong tag", CLIENT, 0, 'X', 0, NULL },
	{ "client: triplet tag", CLIENT, 0, 'T', 0, NULL },
	{ "client: version 0", CLIENT, 1, 0, 0, NULL },
	{ "client: version 255", CLIENT, 1, 255, 0, NULL },
	{ "client: one byte short", CLIENT, -1, 0, -1, NULL },
	{ "client: one byte long", CLIENT, -1, 0, +1, NULL },
	{ "client: triplet length", CLIENT, -1, 0, GG_TRIPLET_REC_LEN - GG_CLIENT_REC_LEN, NULL },
	{ "client: empty", CLIENT, -1, 0, -GG_CLIENT_REC_LEN, NULL },
	{ "client: first_seen 0", CLIENT, -1, 0, 0, c_first_zero },
	{ "client: last_seen before first_seen", CLIENT, -1, 0, 0, c_last_before_first },
	{ "client: last_counted after last_seen", CLIENT, -1, 0, 0, c_counted_after_last },
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
		n = (size_t)((long)n + c->lendelta);
		assert_int_equal(gg_record_triplet_decode(buf, n, &out), GG_EFORMAT);
	} else {
		struct gg_client_rec r = c_valid, out;
		if (c->mutate)
			c->mutate(&r);
		n = gg_record_client_encode(&r, buf);
		if (c->at >= 0)
			buf[c->at] = c->val;
		n = (size_t)((long)n + c->lendelta);
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
	tu_add(&s, test_layout, NULL, "layout: tag, version, big-endian fields, exact length");
	for (size_t i = 0; i < GG_ARRAY_LEN(bad_cases); i++)
		tu_add(&s, test_bad, &bad_cases[i], "refused: %s", bad_cases[i].label);
	tu_add(&s, test_edges_accepted, NULL, "accepted: equal times, passed_at 0, last_counted 0");
	tu_add(&s, test_last_seen, NULL, "last_seen: both kinds, junk refused");
	return tu_run(&s, "t_record");
}

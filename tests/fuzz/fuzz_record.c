/*
 * fuzz_record.c - the record decoders, and the state machine on whatever
 * they accept
 *
 * The whole input, and its first 34 and 30 bytes (the lengths of version
 * 1), go through both decoders and gg_record_last_seen().  Whatever decodes
 * must agree with last_seen; a version 2 record must re-encode to the same
 * bytes (one canonical form), a version 1 record to a version 2 record
 * that decodes to the same fields.
 *
 * With at least 34 + 30 + 8 + 16 bytes, the input is also read as a stored
 * triplet record, a stored client record, a time and greylisting
 * parameters within their configured ranges; one step of the state machine
 * must then write back only records the decoder accepts, and report a
 * remaining time within [0, delay] for a deferral.
 */
#include <string.h>

#include "fuzz.h"
#include "engine/greylist.h"
#include "store/record.h"

#define FAR (1ULL << 40)

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* decode_all - both decoders and last_seen on one buffer */
static void decode_all(const uint8_t *data, size_t size)
{
	struct gg_triplet_rec t;
	struct gg_client_rec c;
	uint8_t again[GG_RECORD_MAX];
	uint64_t last = 0;
	int tok, cok, lok;
	uint8_t *copy = malloc(size ? size : 1);

	/* An exact-size copy, so an over-read is seen. */
	fuzz_check(copy != NULL);
	memcpy(copy, data, size);
	tok = gg_record_triplet_decode(copy, size, &t) == GG_OK;
	cok = gg_record_client_decode(copy, size, &c) == GG_OK;
	lok = gg_record_last_seen(copy, size, &last) == GG_OK;
	fuzz_check(!(tok && cok));
	fuzz_check(lok == (tok || cok));
	if (tok) {
		struct gg_triplet_rec t2;
		size_t n = gg_record_triplet_encode(&t, again);
		fuzz_check(copy[0] == 'T' ? size == GG_TRIPLET_REC_V1_LEN && copy[1] == 1 :
			   copy[0] == 't');
		if (copy[0] == 't')
			fuzz_check(n == size && memcmp(again, copy, size) == 0);
		fuzz_check(gg_record_triplet_decode(again, n, &t2) == GG_OK);
		fuzz_check(memcmp(&t, &t2, sizeof(t)) == 0);
		fuzz_check(t.first_seen != 0 && t.first_seen <= t.last_seen);
		fuzz_check(t.passed_at == 0 || (t.passed_at >= t.first_seen && t.passed_at <= t.last_seen));
		fuzz_check(last == t.last_seen);
	}
	if (cok) {
		struct gg_client_rec c2;
		size_t n = gg_record_client_encode(&c, again);
		fuzz_check(copy[0] == 'C' ? size == GG_CLIENT_REC_V1_LEN && copy[1] == 1 :
			   copy[0] == 'c');
		if (copy[0] == 'c')
			fuzz_check(n == size && memcmp(again, copy, size) == 0);
		fuzz_check(gg_record_client_decode(again, n, &c2) == GG_OK);
		fuzz_check(c.first_seen == c2.first_seen && c.last_seen == c2.last_seen &&
			   c.last_counted == c2.last_counted && c.pass_count == c2.pass_count);
		fuzz_check(c.first_seen != 0 && c.first_seen <= c.last_seen && c.last_counted <= c.last_seen);
		fuzz_check(last == c.last_seen);
	}
	free(copy);
}

/* step - one state machine step on decoded records */
static void step(const uint8_t *data)
{
	struct gg_triplet_rec t;
	struct gg_client_rec c;
	struct gg_greylist_params p;
	struct gg_greylist_result r;
	uint8_t buf[GG_RECORD_MAX];
	int have_t, have_c;
	uint64_t now;
	const uint8_t *q = data + GG_TRIPLET_REC_V1_LEN + GG_CLIENT_REC_V1_LEN;

	memset(&t, 0, sizeof(t));
	memset(&c, 0, sizeof(c));
	have_t = gg_record_triplet_decode(data, GG_TRIPLET_REC_V1_LEN, &t) == GG_OK;
	have_c = gg_record_client_decode(data + GG_TRIPLET_REC_V1_LEN, GG_CLIENT_REC_V1_LEN, &c) == GG_OK;
	if (!have_t)
		memset(&t, 0, sizeof(t));
	if (!have_c)
		memset(&c, 0, sizeof(c));
	/*
	 * Times stay below 2^40 s (year 36812): beyond that differences of
	 * seconds no longer fit a long, which is not what this target is about.
	 */
	if (t.last_seen >= FAR || c.last_seen >= FAR)
		return;
	now = be64(q) % FAR;
	if (now == 0)
		now = 1;	/* the epoch itself is not a time we run at */
	/* Parameters within the ranges gg_config_finish() allows. */
	p.delay = (long)(be32(q + 8) % (30 * 86400 + 1));
	p.retry_window = p.delay + 1 + (long)(be32(q + 12) % (366 * 86400L));
	p.max_age = p.retry_window + (long)(be32(q + 16) % (3660 * 86400L));
	p.auto_whitelist = (long)(be32(q + 20) % 8);

	gg_greylist_step(&p, now, &t, have_t, &c, have_c, &r);
	if (r.write_triplet) {
		struct gg_triplet_rec chk;
		size_t n = gg_record_triplet_encode(&t, buf);
		fuzz_check(gg_record_triplet_decode(buf, n, &chk) == GG_OK);
	}
	if (r.write_client) {
		struct gg_client_rec chk;
		size_t n = gg_record_client_encode(&c, buf);
		fuzz_check(p.auto_whitelist > 0);
		fuzz_check(gg_record_client_decode(buf, n, &chk) == GG_OK);
	}
	if (gg_greylist_is_defer(r.outcome)) {
		fuzz_check(r.write_triplet);
		fuzz_check(r.remaining >= 0 && r.remaining <= p.delay);
	} else {
		fuzz_check(r.delayed >= 0);
	}
	if (r.outcome == GG_GL_PASS_AWL)
		fuzz_check(p.auto_whitelist > 0 && have_c);
	(void)gg_greylist_outcome_str(r.outcome);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	decode_all(data, size);
	decode_all(data, size < GG_TRIPLET_REC_V1_LEN ? size : GG_TRIPLET_REC_V1_LEN);
	decode_all(data, size < GG_CLIENT_REC_V1_LEN ? size : GG_CLIENT_REC_V1_LEN);
	if (size >= GG_TRIPLET_REC_V1_LEN + GG_CLIENT_REC_V1_LEN + 8 + 16)
		step(data);
	return 0;
}

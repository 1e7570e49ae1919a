/*
 * record.c - record encoding and checked decoding (see record.h)
 */
#include <stddef.h>
#include <string.h>

#include "store/record.h"

#define TAG_TRIPLET 'T'		/* version 1, followed by its version byte */
#define TAG_CLIENT 'C'
#define TAG_TRIPLET2 't'	/* version 2 */
#define TAG_CLIENT2 'c'

/*
 * zigzag - first_seen as its distance from the epoch, taken modulo 2^64 as
 * a signed number and zigzag-coded: small either side, and one code for
 * every 64-bit time, so encoding never fails
 */
static uint64_t zigzag(uint64_t t)
{
	uint64_t d = t - GG_RECORD_EPOCH;

	return (d << 1) ^ ((d >> 63) ? UINT64_MAX : 0);
}

/* unzigzag - the inverse of zigzag */
static uint64_t unzigzag(uint64_t z)
{
	return GG_RECORD_EPOCH + ((z >> 1) ^ ((z & 1) ? UINT64_MAX : 0));
}

/* put_varint - unsigned LEB128; returns the position after it */
static uint8_t *put_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

/*
 * get_varint - one canonical varint from [*p, end): at most 64 bits, no
 * trailing zero group; 0 on success and *p moved past it
 */
static int get_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
	uint64_t v = 0;
	unsigned shift = 0;

	for (const uint8_t *q = *p; q < end; q++, shift += 7) {
		uint64_t group = *q & 0x7f;
		if (shift == 63 && group > 1)
			return -1;			/* beyond 64 bits */
		v |= group << shift;
		if ((*q & 0x80) == 0) {
			if (*q == 0 && q != *p)
				return -1;		/* redundant zero group */
			*p = q + 1;
			*out = v;
			return 0;
		}
		if (shift == 63)
			return -1;
	}
	return -1;
}

/* get_fields - n varints filling the whole of [p, end) */
static int get_fields(const uint8_t *p, const uint8_t *end, uint64_t *f, int n)
{
	for (int i = 0; i < n; i++)
		if (get_varint(&p, end, &f[i]) != 0)
			return -1;
	return p == end ? 0 : -1;
}

/* be - a big-endian field of version 1 */
static uint64_t be(const uint8_t *p, int width)
{
	uint64_t v = 0;

	for (int i = 0; i < width; i++)
		v = (v << 8) | p[i];
	return v;
}

/* triplet_valid - the times are in order: first <= passed <= last */
static int triplet_valid(const struct gg_triplet_rec *r)
{
	return r->first_seen != 0 && r->last_seen >= r->first_seen &&
	       (r->passed_at == 0 || (r->passed_at >= r->first_seen && r->passed_at <= r->last_seen));
}

/* client_valid - the times are in order: first <= last, last_counted <= last */
static int client_valid(const struct gg_client_rec *r)
{
	return r->first_seen != 0 && r->last_seen >= r->first_seen && r->last_counted <= r->last_seen;
}

/* gg_record_triplet_encode - version 2; the caller's record is valid */
size_t gg_record_triplet_encode(const struct gg_triplet_rec *r, uint8_t *buf)
{
	uint8_t *p = buf;

	*p++ = TAG_TRIPLET2;
	p = put_varint(p, zigzag(r->first_seen));
	p = put_varint(p, r->last_seen - r->first_seen);
	p = put_varint(p, r->passed_at == 0 ? 0 : r->passed_at - r->first_seen + 1);
	p = put_varint(p, r->defer_count);
	p = put_varint(p, r->pass_count);
	return (size_t)(p - buf);
}

/* triplet_v2 - the fields of a version 2 triplet, checked for overflow */
static enum gg_status triplet_v2(const uint8_t *buf, size_t len, struct gg_triplet_rec *r)
{
	uint64_t f[5];

	if (get_fields(buf + 1, buf + len, f, 5) != 0)
		return GG_EFORMAT;
	f[0] = unzigzag(f[0]);
	if (f[1] > UINT64_MAX - f[0] ||
	    f[2] > f[1] + 1 || f[3] > UINT32_MAX || f[4] > UINT32_MAX)
		return GG_EFORMAT;
	r->first_seen = f[0];
	r->last_seen = f[0] + f[1];
	r->passed_at = f[2] == 0 ? 0 : f[0] + f[2] - 1;
	r->defer_count = (uint32_t)f[3];
	r->pass_count = (uint32_t)f[4];
	return GG_OK;
}

/* gg_record_triplet_decode - checked decode: the times must be in order */
enum gg_status gg_record_triplet_decode(const uint8_t *buf, size_t len, struct gg_triplet_rec *r)
{
	struct gg_triplet_rec t;

	if (len < 2 || (buf[0] != TAG_TRIPLET && buf[0] != TAG_TRIPLET2))
		return GG_EFORMAT;
	if (buf[0] == TAG_TRIPLET && buf[1] == 1 && len == GG_TRIPLET_REC_V1_LEN) {
		t.first_seen = be(buf + 2, 8);
		t.last_seen = be(buf + 10, 8);
		t.passed_at = be(buf + 18, 8);
		t.defer_count = (uint32_t)be(buf + 26, 4);
		t.pass_count = (uint32_t)be(buf + 30, 4);
	} else if (buf[0] != TAG_TRIPLET2 || triplet_v2(buf, len, &t) != GG_OK) {
		return GG_EFORMAT;
	}
	if (!triplet_valid(&t))
		return GG_EFORMAT;
	*r = t;
	return GG_OK;
}

/* gg_record_client_encode - version 2; the caller's record is valid */
size_t gg_record_client_encode(const struct gg_client_rec *r, uint8_t *buf)
{
	uint8_t *p = buf;

	*p++ = TAG_CLIENT2;
	p = put_varint(p, zigzag(r->first_seen));
	p = put_varint(p, r->last_seen - r->first_seen);
	p = put_varint(p, r->last_counted == 0 ? 0 : r->last_seen - r->last_counted + 1);
	p = put_varint(p, r->pass_count);
	return (size_t)(p - buf);
}

/* client_v2 - the fields of a version 2 client record, checked for overflow */
static enum gg_status client_v2(const uint8_t *buf, size_t len, struct gg_client_rec *r)
{
	uint64_t f[4], last;

	if (get_fields(buf + 1, buf + len, f, 4) != 0)
		return GG_EFORMAT;
	f[0] = unzigzag(f[0]);
	if (f[1] > UINT64_MAX - f[0] ||
	    f[3] > UINT32_MAX)
		return GG_EFORMAT;
	last = f[0] + f[1];
	/* counted - 1 <= last, and a last_counted of 0 is spelled 0, not last + 1 */
	if (f[2] != 0 && f[2] - 1 >= last)
		return GG_EFORMAT;
	r->first_seen = f[0];
	r->last_seen = last;
	r->last_counted = f[2] == 0 ? 0 : last - (f[2] - 1);
	r->pass_count = (uint32_t)f[3];
	return GG_OK;
}

/* gg_record_client_decode - checked decode: the times must be in order */
enum gg_status gg_record_client_decode(const uint8_t *buf, size_t len, struct gg_client_rec *r)
{
	struct gg_client_rec c;

	if (len < 2 || (buf[0] != TAG_CLIENT && buf[0] != TAG_CLIENT2))
		return GG_EFORMAT;
	if (buf[0] == TAG_CLIENT && buf[1] == 1 && len == GG_CLIENT_REC_V1_LEN) {
		c.first_seen = be(buf + 2, 8);
		c.last_seen = be(buf + 10, 8);
		c.last_counted = be(buf + 18, 8);
		c.pass_count = (uint32_t)be(buf + 26, 4);
	} else if (buf[0] != TAG_CLIENT2 || client_v2(buf, len, &c) != GG_OK) {
		return GG_EFORMAT;
	}
	if (!client_valid(&c))
		return GG_EFORMAT;
	*r = c;
	return GG_OK;
}

/* gg_record_last_seen - activity time of either kind of record */
enum gg_status gg_record_last_seen(const uint8_t *buf, size_t len, uint64_t *last)
{
	struct gg_triplet_rec t;
	struct gg_client_rec c;

	if (len >= 1 && (buf[0] == TAG_TRIPLET || buf[0] == TAG_TRIPLET2) &&
	    gg_record_triplet_decode(buf, len, &t) == GG_OK) {
		*last = t.last_seen;
		return GG_OK;
	}
	if (len >= 1 && (buf[0] == TAG_CLIENT || buf[0] == TAG_CLIENT2) &&
	    gg_record_client_decode(buf, len, &c) == GG_OK) {
		*last = c.last_seen;
		return GG_OK;
	}
	return GG_EFORMAT;
}

/* gg_record_version - 1 or 2 for a record that decodes, else 0 */
int gg_record_version(const uint8_t *buf, size_t len)
{
	uint64_t last;

	if (gg_record_last_seen(buf, len, &last) != GG_OK)
		return 0;
	return buf[0] == TAG_TRIPLET2 || buf[0] == TAG_CLIENT2 ? 2 : 1;
}

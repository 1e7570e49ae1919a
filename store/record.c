/*
 * record.c - record encoding and checked decoding (see record.h)
 */
#include "store/record.h"

#define TAG_TRIPLET 'T'
#define TAG_CLIENT 'C'
#define RECORD_VERSION 1

static uint8_t *put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--)
		*p++ = (uint8_t)(v >> (i * 8));
	return p;
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--)
		*p++ = (uint8_t)(v >> (i * 8));
	return p;
}

static const uint8_t *get64(const uint8_t *p, uint64_t *v)
{
	*v = 0;
	for (int i = 0; i < 8; i++)
		*v = (*v << 8) | *p++;
	return p;
}

static const uint8_t *get32(const uint8_t *p, uint32_t *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++)
		*v = (*v << 8) | *p++;
	return p;
}

/* gg_record_triplet_encode - 34 bytes into buf */
size_t gg_record_triplet_encode(const struct gg_triplet_rec *r, uint8_t *buf)
{
	uint8_t *p = buf;

	*p++ = TAG_TRIPLET;
	*p++ = RECORD_VERSION;
	p = put64(p, r->first_seen);
	p = put64(p, r->last_seen);
	p = put64(p, r->passed_at);
	p = put32(p, r->defer_count);
	p = put32(p, r->pass_count);
	return (size_t)(p - buf);
}

/* gg_record_triplet_decode - checked decode */
enum gg_status gg_record_triplet_decode(const uint8_t *buf, size_t len,
					struct gg_triplet_rec *r)
{
	const uint8_t *p = buf + 2;

	if (len != GG_TRIPLET_REC_LEN || buf[0] != TAG_TRIPLET || buf[1] != RECORD_VERSION)
		return GG_EFORMAT;
	p = get64(p, &r->first_seen);
	p = get64(p, &r->last_seen);
	p = get64(p, &r->passed_at);
	p = get32(p, &r->defer_count);
	(void)get32(p, &r->pass_count);
	if (r->first_seen == 0 || r->last_seen < r->first_seen ||
	    (r->passed_at != 0 && (r->passed_at < r->first_seen || r->passed_at > r->last_seen)))
		return GG_EFORMAT;
	return GG_OK;
}

/* gg_record_client_encode - 30 bytes into buf */
size_t gg_record_client_encode(const struct gg_client_rec *r, uint8_t *buf)
{
	uint8_t *p = buf;

	*p++ = TAG_CLIENT;
	*p++ = RECORD_VERSION;
	p = put64(p, r->first_seen);
	p = put64(p, r->last_seen);
	p = put64(p, r->last_counted);
	p = put32(p, r->pass_count);
	return (size_t)(p - buf);
}

/* gg_record_client_decode - checked decode */
enum gg_status gg_record_client_decode(const uint8_t *buf, size_t len,
				       struct gg_client_rec *r)
{
	const uint8_t *p = buf + 2;

	if (len != GG_CLIENT_REC_LEN || buf[0] != TAG_CLIENT || buf[1] != RECORD_VERSION)
		return GG_EFORMAT;
	p = get64(p, &r->first_seen);
	p = get64(p, &r->last_seen);
	p = get64(p, &r->last_counted);
	(void)get32(p, &r->pass_count);
	if (r->first_seen == 0 || r->last_seen < r->first_seen || r->last_counted > r->last_seen)
		return GG_EFORMAT;
	return GG_OK;
}

/* gg_record_last_seen - activity time of either kind of record */
enum gg_status gg_record_last_seen(const uint8_t *buf, size_t len, uint64_t *last)
{
	struct gg_triplet_rec t;
	struct gg_client_rec c;

	if (len >= 1 && buf[0] == TAG_TRIPLET && gg_record_triplet_decode(buf, len, &t) == GG_OK) {
		*last = t.last_seen;
		return GG_OK;
	}
	if (len >= 1 && buf[0] == TAG_CLIENT && gg_record_client_decode(buf, len, &c) == GG_OK) {
		*last = c.last_seen;
		return GG_OK;
	}
	return GG_EFORMAT;
}

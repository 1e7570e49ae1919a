/*
 * record.c - record encoding and checked decoding (see record.h)
 */
#include <stddef.h>
#include <string.h>

#include "store/record.h"

#define TAG_TRIPLET 'T'
#define TAG_CLIENT 'C'
#define RECORD_VERSION 1

/* One field of a record: where it is in the struct, and 8 or 4 bytes wide. */
struct field {
	size_t off;
	int width;
};

/*
 * A kind of record: its tag, its encoded length, its fields in the order
 * they are stored, and what a decoded record must satisfy.
 */
struct layout {
	uint8_t tag;
	size_t len;
	int (*valid)(const void *rec);
	size_t nfields;
	struct field fields[5];
};

#define F64(type, name) { offsetof(type, name), 8 }
#define F32(type, name) { offsetof(type, name), 4 }

/* triplet_valid - the times are in order: first <= passed <= last */
static int triplet_valid(const void *rec)
{
	const struct gg_triplet_rec *r = rec;

	return r->first_seen != 0 && r->last_seen >= r->first_seen &&
	       (r->passed_at == 0 || (r->passed_at >= r->first_seen && r->passed_at <= r->last_seen));
}

/* client_valid - the times are in order: first <= last, last_counted <= last */
static int client_valid(const void *rec)
{
	const struct gg_client_rec *r = rec;

	return r->first_seen != 0 && r->last_seen >= r->first_seen && r->last_counted <= r->last_seen;
}

static const struct layout triplet_layout = {
	TAG_TRIPLET, GG_TRIPLET_REC_LEN, triplet_valid, 5,
	{ F64(struct gg_triplet_rec, first_seen), F64(struct gg_triplet_rec, last_seen),
	  F64(struct gg_triplet_rec, passed_at), F32(struct gg_triplet_rec, defer_count),
	  F32(struct gg_triplet_rec, pass_count) },
};

static const struct layout client_layout = {
	TAG_CLIENT, GG_CLIENT_REC_LEN, client_valid, 4,
	{ F64(struct gg_client_rec, first_seen), F64(struct gg_client_rec, last_seen),
	  F64(struct gg_client_rec, last_counted), F32(struct gg_client_rec, pass_count) },
};

/* encode - tag, version, then each field big-endian; returns the length */
static size_t encode(const struct layout *l, const void *rec, uint8_t *buf)
{
	uint8_t *p = buf;

	*p++ = l->tag;
	*p++ = RECORD_VERSION;
	for (size_t i = 0; i < l->nfields; i++) {
		const unsigned char *f = (const unsigned char *)rec + l->fields[i].off;
		uint64_t v;
		if (l->fields[i].width == 8) {
			memcpy(&v, f, 8);
		} else {
			uint32_t v32;
			memcpy(&v32, f, 4);
			v = v32;
		}
		for (int b = l->fields[i].width - 1; b >= 0; b--)
			*p++ = (uint8_t)(v >> (b * 8));
	}
	return (size_t)(p - buf);
}

/*
 * decode - the inverse of encode, for a buffer of exactly the layout's
 * length, and a record that passes the layout's check
 */
static enum gg_status decode(const struct layout *l, const uint8_t *buf, size_t len, void *rec)
{
	const uint8_t *p = buf + 2;

	if (len != l->len || buf[0] != l->tag || buf[1] != RECORD_VERSION)
		return GG_EFORMAT;
	for (size_t i = 0; i < l->nfields; i++) {
		unsigned char *f = (unsigned char *)rec + l->fields[i].off;
		uint64_t v = 0;
		for (int b = 0; b < l->fields[i].width; b++)
			v = (v << 8) | *p++;
		if (l->fields[i].width == 8) {
			memcpy(f, &v, 8);
		} else {
			uint32_t v32 = (uint32_t)v;
			memcpy(f, &v32, 4);
		}
	}
	return l->valid(rec) ? GG_OK : GG_EFORMAT;
}

/* gg_record_triplet_encode - 34 bytes into buf */
size_t gg_record_triplet_encode(const struct gg_triplet_rec *r, uint8_t *buf)
{
	return encode(&triplet_layout, r, buf);
}

/* gg_record_triplet_decode - checked decode: the times must be in order */
enum gg_status gg_record_triplet_decode(const uint8_t *buf, size_t len, struct gg_triplet_rec *r)
{
	return decode(&triplet_layout, buf, len, r);
}

/* gg_record_client_encode - 30 bytes into buf */
size_t gg_record_client_encode(const struct gg_client_rec *r, uint8_t *buf)
{
	return encode(&client_layout, r, buf);
}

/* gg_record_client_decode - checked decode: the times must be in order */
enum gg_status gg_record_client_decode(const uint8_t *buf, size_t len, struct gg_client_rec *r)
{
	return decode(&client_layout, buf, len, r);
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

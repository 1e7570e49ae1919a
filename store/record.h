/*
 * record.h - versioned on-disk encoding of triplet and client records
 *
 * Records are never raw structs: each starts with a tag that says its kind
 * and version, then its fields, so a database moves between hosts and
 * builds.  Decoding checks tag, version, exact length and field sanity;
 * anything else is GG_EFORMAT and the caller deletes the record.
 *
 * Version 2 (written since issue 10) is one tag byte, 't' or 'c', and
 * each field an unsigned LEB128 varint, times as deltas, so a new triplet
 * is 9 bytes and a passed one 11 instead of 34 (Berkeley DB stores an
 * item in a multiple of 4 bytes with 3 of its own: 9 bytes fill 12):
 *   triplet  't'  first  last_seen-first_seen  passed  defer_count  pass_count
 *   client   'c'  first  last_seen-first_seen  counted  pass_count
 *   first    first_seen - GG_RECORD_EPOCH, zigzag-coded (0, -1, 1, -2 ... as
 *            0, 1, 2, 3 ...): four bytes from late 2021 to early 2030
 *   passed   0 when not yet passed, else passed_at-first_seen+1
 *   counted  0 when never counted, else last_seen-last_counted+1
 * A varint is canonical (no redundant 0x80 bytes, at most 64 bits) and a
 * count fits in 32 bits, or the record is GG_EFORMAT.
 *
 * Version 1 (greygate up to issue 9) is still read, never written; its tag
 * is two bytes, the kind in capitals and the version:
 *   triplet  'T' 1  first_seen:u64 last_seen:u64 passed_at:u64
 *                   defer_count:u32 pass_count:u32   (34 bytes, big-endian)
 *   client   'C' 1  first_seen:u64 last_seen:u64 last_counted:u64
 *                   pass_count:u32                    (30 bytes, big-endian)
 * A record read as version 1 is written back as version 2 by the next
 * update, so a database converts itself as its senders come back.
 *
 * Times are seconds since the epoch; passed_at 0 means "not yet passed".
 */
#ifndef GG_RECORD_H
#define GG_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include "lib/status.h"

#define GG_RECORD_MAX 64	/* longer than any record either version writes */
#define GG_RECORD_EPOCH 1767225600	/* 2026-01-01T00:00:00Z */
#define GG_TRIPLET_REC_V1_LEN 34
#define GG_CLIENT_REC_V1_LEN 30

struct gg_triplet_rec {
	uint64_t first_seen;
	uint64_t last_seen;
	uint64_t passed_at;
	uint32_t defer_count;
	uint32_t pass_count;
};

struct gg_client_rec {
	uint64_t first_seen;
	uint64_t last_seen;	/* last mail from this client */
	uint64_t last_counted;	/* last pass that counted towards the auto-whitelist */
	uint32_t pass_count;
};

/* Encode as version 2 into buf[GG_RECORD_MAX]; returns the length. */
size_t gg_record_triplet_encode(const struct gg_triplet_rec *r, uint8_t *buf);
/* Checked decode of version 1 or 2. */
enum gg_status gg_record_triplet_decode(const uint8_t *buf, size_t len,
					struct gg_triplet_rec *r);
size_t gg_record_client_encode(const struct gg_client_rec *r, uint8_t *buf);
enum gg_status gg_record_client_decode(const uint8_t *buf, size_t len,
				       struct gg_client_rec *r);
/* Last activity of any record (for expiry); GG_EFORMAT if it does not decode. */
enum gg_status gg_record_last_seen(const uint8_t *buf, size_t len, uint64_t *last);
/* The version of a record that decodes (1 or 2), or 0. */
int gg_record_version(const uint8_t *buf, size_t len);

#endif

/*
 * record.h - versioned on-disk encoding of triplet and client records
 *
 * Records are never raw structs: each is a tag byte, a version byte and
 * big-endian fields of fixed size, so a database moves between hosts and
 * builds.  Decoding checks tag, version, exact length and field sanity;
 * anything else is GG_EFORMAT and the caller deletes the record.
 *
 *   triplet  'T' 1  first_seen:u64 last_seen:u64 passed_at:u64
 *                   defer_count:u32 pass_count:u32            (34 bytes)
 *   client   'C' 1  first_seen:u64 last_seen:u64 last_counted:u64
 *                   pass_count:u32                             (30 bytes)
 * Times are seconds since the epoch; passed_at 0 means "not yet passed".
 */
#ifndef GG_RECORD_H
#define GG_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include "lib/status.h"

#define GG_RECORD_MAX 64
#define GG_TRIPLET_REC_LEN 34
#define GG_CLIENT_REC_LEN 30

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

size_t gg_record_triplet_encode(const struct gg_triplet_rec *r, uint8_t *buf);
enum gg_status gg_record_triplet_decode(const uint8_t *buf, size_t len,
					struct gg_triplet_rec *r);
size_t gg_record_client_encode(const struct gg_client_rec *r, uint8_t *buf);
enum gg_status gg_record_client_decode(const uint8_t *buf, size_t len,
				       struct gg_client_rec *r);
/* Last activity of any record (for expiry); GG_EFORMAT if it does not decode. */
enum gg_status gg_record_last_seen(const uint8_t *buf, size_t len, uint64_t *last);

#endif

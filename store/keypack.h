/*
 * keypack.h - the compact form in which Berkeley DB stores greylisting keys
 *
 * Every layer above the store sees the text keys of engine/triplet.h
 * ("t/" CLIENT "/" SENDER "/" RECIPIENT and "c/" CLIENT).  The Berkeley DB
 * backend stores them packed, about half their size, so more of them fit
 * a page and a cache; gg_keypack_unpack() gives back exactly the text that
 * was packed, so lookups, dump and expiry are unchanged.  A packed key is:
 *
 *   byte 0   0x01 a triplet key, 0x02 a client key,
 *            0x03 any other key: its bytes follow unchanged
 *   byte 1   how CLIENT is stored: 0x04 an IPv4 network, 0x06 an IPv6
 *            network (then a prefix byte and the prefix's bytes of the
 *            address: "192.0.2.0/24" is 04 18 c0 00 02), 0x00 text
 *   then     the rest of the key's text in six bits a character:
 *            after CLIENT "/" for a network, after "t/" or "c/" for text
 *
 * Six bits: 1-26 a-z, 27-36 0-9, 37-62 the punctuation that addresses use
 * (. - @ _ + = / and more), 63 an escape followed by the byte's eight bits,
 * 0 padding at the end.  A network is packed only in the exact spelling
 * gg_addr_format_net() writes, so unpacking reproduces the text byte for
 * byte.  There is one packed form for each key: gg_keypack_unpack()
 * refuses any other (padding that is not zero, an escaped character that
 * has a code of its own, address bits beyond the prefix), so a damaged key
 * is seen as junk by the expiry walk.
 */
#ifndef GG_KEYPACK_H
#define GG_KEYPACK_H

#include <stddef.h>
#include "lib/status.h"
#include "store/store.h"

/* A packed key of a key of up to GG_KEY_MAX bytes never needs more. */
#define GG_KEYPACK_MAX (3 + 16 + (GG_KEY_MAX * 14 + 7) / 8)

/* Pack key[klen] into out[GG_KEYPACK_MAX]; returns the packed length. */
size_t gg_keypack_pack(const void *key, size_t klen, unsigned char *out);
/*
 * Unpack p[plen] into out[size]; *len is the text's length (no NUL is
 * added).  GG_EFORMAT for anything gg_keypack_pack() would not write,
 * GG_ETOOBIG if out is too small.
 */
enum gg_status gg_keypack_unpack(const unsigned char *p, size_t plen, char *out, size_t size,
				 size_t *len);

#endif

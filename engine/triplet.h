/*
 * triplet.h - normalised greylisting keys
 *
 * A triplet is (client network, sender, recipient).  Normalisation makes
 * the key stable across a sender's retries and across messages:
 *
 *   sender     lower-cased whole (as postgrey does); BATV "prvs=TAG=user" and "btv1==TAG==user"
 *              give "user"; SRS0/SRS1 addresses keep only the original
 *              domain and local part ("srs0=orig.domain=local@forwarder");
 *              a "+extension" (VERP) is cut off; runs of digits and long
 *              hex tags that stand alone in the local part become "#".
 *              The null sender is kept as the empty string.
 *   recipient  lower-cased whole.
 *   client     the client address masked to greylist_ipv4_prefix or
 *              greylist_ipv6_prefix ("192.0.2.0/24"), or, when the caller
 *              chooses, another identity such as an SPF-authenticated domain.
 *
 * Key format (documented in greygate.conf(5)):
 *   "t/" CLIENT "/" SENDER "/" RECIPIENT    a triplet record
 *   "c/" CLIENT                             a client (auto-whitelist) record
 * Control characters, white space and '/' inside the sender and recipient
 * become '?', so the last two separators are unambiguous (the client part
 * is ours and may hold one '/').  Every key is at most GG_KEY_MAX bytes:
 * longer parts are refused (GG_ETOOBIG), never silently cut.
 */
#ifndef GG_TRIPLET_H
#define GG_TRIPLET_H

#include <stddef.h>
#include "lib/addr.h"
#include "lib/status.h"
#include "store/store.h"	/* GG_KEY_MAX: the store bounds every key */

#define GG_ADDRESS_MAX 320	/* 64 local + '@' + 255 domain */

/* Normalise a sender address (without angle brackets) into out[size]. */
enum gg_status gg_triplet_sender(const char *sender, char *out, size_t size);
/* Normalise a recipient address into out[size]. */
enum gg_status gg_triplet_recipient(const char *rcpt, char *out, size_t size);
/* The client network text for an address and the configured prefixes. */
void gg_triplet_client_net(const struct gg_addr *a, int v4prefix, int v6prefix,
			   char *out, size_t size);
/* Build a triplet key from normalised parts; returns its length in *len. */
enum gg_status gg_triplet_key(const char *client, const char *sender,
			      const char *rcpt, char *key, size_t size, size_t *len);
/* Build a client key. */
enum gg_status gg_triplet_client_key(const char *client, char *key, size_t size,
				     size_t *len);

#endif

/*
 * spfcache.h - recent SPF results, so a busy sender is not evaluated anew
 *                for every recipient and every message
 *
 * Keyed by (client address, sender domain, HELO): the local part does not
 * change an SPF result unless a record uses the %{l}/%{s} macros, which
 * almost none do).  Entries live GG_SPFCACHE_TTL
 * seconds and the table holds at most `max` of them, the oldest replaced
 * first.  temperror results are never stored.  One cache per event loop;
 * no locking.
 */
#ifndef GG_SPFCACHE_H
#define GG_SPFCACHE_H

#include <stddef.h>
#include <stdint.h>

#define GG_SPFCACHE_TTL 300
#define GG_SPFCACHE_KEY_MAX 640

struct gg_spfcache;

struct gg_spfcache_entry {
	char key[GG_SPFCACHE_KEY_MAX];
	uint64_t expires;
	int result;			/* enum gg_spf_result */
	char domain[256];
	char text[200];			/* explanation or comment */
};

/* A cache of at most max entries (0: no caching, every lookup misses). */
struct gg_spfcache *gg_spfcache_new(size_t max);
void gg_spfcache_free(struct gg_spfcache *c);
/* Build the key of a check into key[GG_SPFCACHE_KEY_MAX]; 0 if it does not fit. */
int gg_spfcache_key(char *key, const char *client, const char *sender, const char *helo);
/* A live entry for key, or NULL. */
const struct gg_spfcache_entry *gg_spfcache_get(struct gg_spfcache *c, const char *key,
						uint64_t now);
/* Remember a result (replacing the oldest entry when full). */
void gg_spfcache_put(struct gg_spfcache *c, const char *key, uint64_t now, int result,
		     const char *domain, const char *text);

#endif

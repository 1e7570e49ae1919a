/*
 * checkcache.h - recent complete check results, so a client that keeps
 *                sending is scored at once instead of through the
 *                asynchronous DNS and SPF machinery
 *
 * One entry is the whole outcome of the checks for one combination of
 * client address, Postfix's client_name and reverse_client_name, HELO name
 * and sender domain ("<>" for the null sender): the weighted reasons, the
 * SPF outcome and its Received-SPF value.  Those are every input the
 * checks read, so an entry gives the same score the checks would give
 * until one of the answers behind it expires: the caller stores each
 * result with the time its first DNS answer or SPF result leaves its own
 * cache.  Results with errors or timeouts are never stored (the caller's
 * job), so a failing list is asked again on the next request.
 *
 * Entries are packed (a few hundred bytes each, not a struct gg_score);
 * at most `max` are kept, the oldest replaced first.  Time is the
 * caller's monotonic clock in ms.  One cache per event loop; no locking.
 */
#ifndef GG_CHECKCACHE_H
#define GG_CHECKCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "engine/request.h"
#include "engine/score.h"

#define GG_CHECKCACHE_KEY_MAX 1280

struct gg_checkcache;

struct gg_checkcache_stats {
	unsigned long hits, misses, stores, expired, replaced;
	size_t entries;
};

/* A cache of at most max entries (0: nothing is kept, every lookup misses). */
struct gg_checkcache *gg_checkcache_new(size_t max);
void gg_checkcache_free(struct gg_checkcache *c);
/*
 * The key of a request into key[GG_CHECKCACHE_KEY_MAX]; its length, or 0
 * if it does not fit (such a request is not cached).
 */
size_t gg_checkcache_key(char *key, const struct gg_request *req);
/* Copy a live entry into *out and return 1; 0 if there is none. */
int gg_checkcache_get(struct gg_checkcache *c, const char *key, size_t keylen, uint64_t now_ms,
		      struct gg_score *out);
/* Remember a score until expires_ms (replacing the oldest entry when full). */
void gg_checkcache_put(struct gg_checkcache *c, const char *key, size_t keylen,
		       uint64_t expires_ms, const struct gg_score *s);
/* Forget everything (the lists' health changed, say). */
void gg_checkcache_flush(struct gg_checkcache *c);
void gg_checkcache_stats(const struct gg_checkcache *c, struct gg_checkcache_stats *out);

#endif

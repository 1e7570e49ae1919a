/*
 * cache.h - shared in-flight DNS queries and a TTL cache in front of a resolver
 *
 * gg_dnscache_get() answers name/type from the cache when it holds a fresh
 * answer (*hit, synchronously: the caller continues at once), joins a
 * query already in flight for the same name/type, or sends a new one.  So
 * concurrent checks of one client share every query, as Postfix's
 * postscreen does.  A joined or new query calls cb later, from the event
 * loop, exactly once, unless gg_dnscache_cancel() withdraws the wait.  The
 * query itself is refcounted by its waiters but runs to the end even when
 * every waiter leaves, so its answer still fills the cache.
 *
 * Answers (records or NXDOMAIN/NODATA) are kept for their TTL clamped to
 * [min_ttl, max_ttl] seconds; timeouts and failures are never cached.  At
 * most max_entries answers are kept; the least recently used goes first.
 * Names are compared case-insensitively.  Time is the monotonic clock.
 *
 * One cache belongs to one resolver and its event loop.  gg_dnscache_free()
 * withdraws its queries from the resolver (whose callbacks then never run)
 * and frees every waiter without calling it.
 */
#ifndef GG_DNSCACHE_H
#define GG_DNSCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "dns/resolver.h"
#include "lib/status.h"

struct gg_dnscache;
struct gg_dnscache_wait;

struct gg_dnscache_stats {
	unsigned long hits;		/* answered from the cache */
	unsigned long joined;		/* joined a query in flight */
	unsigned long misses;		/* sent a new query */
	unsigned long expired;		/* entries found stale */
	unsigned long evicted;		/* dropped to stay within max_entries */
	size_t entries;			/* answers held now */
	size_t in_flight;		/* queries outstanding now */
};

enum gg_status gg_dnscache_new(struct gg_resolver *r, size_t max_entries, unsigned min_ttl,
			       unsigned max_ttl, struct gg_dnscache **out);
void gg_dnscache_free(struct gg_dnscache *c);

/*
 * Look up name/type.  GG_OK and *hit != NULL: a cached answer, to be
 * released with gg_dns_result_unref(), and *expires_ms (if expires_ms is
 * not NULL) the monotonic time in ms at which it leaves the cache; cb will
 * not run.  GG_OK and
 * *hit == NULL: cb(res, arg) runs later (res valid during the call) and
 * *wait (if wait is not NULL) identifies the wait for gg_dnscache_cancel().
 * Anything else (GG_EINVAL for a bad name or type, GG_ENOMEM): cb never runs.
 */
enum gg_status gg_dnscache_get(struct gg_dnscache *c, const char *name, int type,
			       gg_resolver_cb cb, void *arg, const struct gg_dns_result **hit,
			       uint64_t *expires_ms, struct gg_dnscache_wait **wait);

/*
 * When a fresh answer handed to a callback leaves the cache (monotonic ms,
 * its TTL clamped to [min_ttl, max_ttl] from now); 0 for an answer that
 * is not cached (failures, timeouts).
 */
uint64_t gg_dnscache_expiry(const struct gg_dnscache *c, const struct gg_dns_result *res);

/* The monotonic clock the cache uses, in ms. */
uint64_t gg_dnscache_now_ms(void);

/* Withdraw a wait: its callback will not run.  Safe from any callback. */
void gg_dnscache_cancel(struct gg_dnscache_wait *wait);

/* Drop every cached answer (queries in flight go on). */
void gg_dnscache_flush(struct gg_dnscache *c);

void gg_dnscache_stats(const struct gg_dnscache *c, struct gg_dnscache_stats *out);

#endif

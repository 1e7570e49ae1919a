/*
 * cache.c - shared DNS queries and TTL cache (see cache.h)
 *
 * Entries live in a lib/htable keyed by (type, lower-case name).  An
 * entry is either in flight (a resolver query outstanding, a lib/list of
 * waiters) or done (a result reference, an expiry time, a place in the LRU
 * list).  A failed or timed-out query's entry is dropped as soon as its
 * waiters have been told.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/cache.h"
#include "lib/clock.h"
#include "lib/htable.h"
#include "lib/list.h"

struct gg_dnscache_wait {
	struct gg_list link;			/* on an entry's (or a local) list */
	gg_resolver_cb cb;
	void *arg;
};

struct centry {
	struct gg_hlink hlink;			/* in the cache's table */
	struct gg_list lru;			/* LRU list, done entries only */
	struct gg_dnscache *c;
	int type;
	int in_flight;
	struct gg_list waiters;			/* newest first */
	const struct gg_dns_result *res;
	uint64_t expires_ms;
	char name[GG_DNS_NAME_MAX + 1];
};

struct gg_dnscache {
	struct gg_resolver *r;
	size_t max_entries;
	unsigned min_ttl, max_ttl;
	struct gg_htable table;
	struct gg_list lru;			/* most recently used first */
	struct gg_dnscache_stats stats;
};

/* key_hash - FNV-1a over the type and the (lower-case) name */
static uint32_t key_hash(const char *name, int type)
{
	return gg_fnv1a_str(GG_FNV1A_INIT ^ (uint32_t)type, name);
}

/* lru_entry - the entry of an LRU link */
static struct centry *lru_entry(struct gg_list *l)
{
	return gg_list_entry(l, struct centry, lru);
}

/* entry_drop - remove a done entry from the cache and free it */
static void entry_drop(struct gg_dnscache *c, struct centry *e)
{
	gg_htable_remove(&c->table, &e->hlink);
	gg_list_remove(&e->lru);
	gg_dns_result_unref(e->res);
	c->stats.entries--;
	free(e);
}

uint64_t gg_dnscache_now_ms(void)
{
	return gg_clock_ms();
}

/* clamp_ttl - TTL within [min_ttl, max_ttl] */
static unsigned clamp_ttl(const struct gg_dnscache *c, unsigned ttl)
{
	if (ttl < c->min_ttl)
		ttl = c->min_ttl;
	if (ttl > c->max_ttl)
		ttl = c->max_ttl;
	return ttl;
}

/* gg_dnscache_expiry - when a fresh answer leaves the cache */
uint64_t gg_dnscache_expiry(const struct gg_dnscache *c, const struct gg_dns_result *res)
{
	if ((res->st != GG_OK && res->st != GG_NOTFOUND) || res->cancelled)
		return 0;
	return gg_clock_ms() + (uint64_t)clamp_ttl(c, res->ttl) * 1000;
}

/* answer_cb - the resolver answered an entry's query: cache it, tell waiters */
static void answer_cb(const struct gg_dns_result *res, void *arg)
{
	struct centry *e = arg;
	struct gg_dnscache *c = e->c;
	struct gg_list list, *l;

	c->stats.in_flight--;
	e->in_flight = 0;
	/*
	 * Take the waiters first: callbacks may start or cancel other waits,
	 * and a cancelled wait leaves this local list as it would the entry's.
	 */
	gg_list_init(&list);
	gg_list_move(&list, &e->waiters);
	if ((res->st == GG_OK || res->st == GG_NOTFOUND) && !res->cancelled) {
		e->res = gg_dns_result_ref(res);
		e->expires_ms = gg_clock_ms() + (uint64_t)clamp_ttl(c, res->ttl) * 1000;
		gg_list_push_front(&c->lru, &e->lru);
		c->stats.entries++;
		while (c->stats.entries > c->max_entries && (l = gg_list_last(&c->lru)) != NULL) {
			c->stats.evicted++;
			entry_drop(c, lru_entry(l));
		}
	} else {
		gg_htable_remove(&c->table, &e->hlink);
		free(e);
	}
	/* e may be gone now; res stays valid until we return. */
	while ((l = gg_list_pop(&list)) != NULL) {
		struct gg_dnscache_wait *w = gg_list_entry(l, struct gg_dnscache_wait, link);
		gg_resolver_cb cb = w->cb;
		void *warg = w->arg;
		free(w);
		cb(res, warg);
	}
}

/* gg_dnscache_new - an empty cache in front of r */
enum gg_status gg_dnscache_new(struct gg_resolver *r, size_t max_entries, unsigned min_ttl,
			       unsigned max_ttl, struct gg_dnscache **out)
{
	struct gg_dnscache *c;
	size_t nb = max_entries;

	*out = NULL;
	if (r == NULL || min_ttl > max_ttl)
		return GG_EINVAL;
	/* A bucket per entry, rounded up to a power of two in [64, 2^24]. */
	if (nb < 64)
		nb = 64;
	if (nb > ((size_t)1 << 24))
		nb = (size_t)1 << 24;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return GG_ENOMEM;
	if (gg_htable_init(&c->table, nb) != GG_OK) {
		free(c);
		return GG_ENOMEM;
	}
	gg_list_init(&c->lru);
	c->r = r;
	c->max_entries = max_entries;
	c->min_ttl = min_ttl;
	c->max_ttl = max_ttl;
	*out = c;
	return GG_OK;
}

/* gg_dnscache_get - cached answer, shared query or new query */
enum gg_status gg_dnscache_get(struct gg_dnscache *c, const char *name, int type,
			       gg_resolver_cb cb, void *arg, const struct gg_dns_result **hit,
			       uint64_t *expires_ms, struct gg_dnscache_wait **wait)
{
	char key[GG_DNS_NAME_MAX + 1];
	size_t len = strlen(name), i;
	struct centry *e = NULL;
	struct gg_dnscache_wait *w;
	struct gg_hlink *l;
	uint32_t h;
	enum gg_status st;

	*hit = NULL;
	if (wait != NULL)
		*wait = NULL;
	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > GG_DNS_NAME_MAX || cb == NULL)
		return GG_EINVAL;
	for (i = 0; i < len; i++)
		key[i] = (char)tolower((unsigned char)name[i]);
	key[len] = '\0';
	h = key_hash(key, type);
	for (l = gg_htable_first(&c->table, h); l != NULL; l = gg_htable_next(l)) {
		e = gg_htable_entry(l, struct centry, hlink);
		if (e->type == type && strcmp(e->name, key) == 0)
			break;
	}
	if (l == NULL)
		e = NULL;
	if (e != NULL && !e->in_flight && gg_clock_ms() >= e->expires_ms) {
		c->stats.expired++;
		entry_drop(c, e);
		e = NULL;
	}
	if (e != NULL && !e->in_flight) {
		c->stats.hits++;
		gg_list_remove(&e->lru);
		gg_list_push_front(&c->lru, &e->lru);
		*hit = gg_dns_result_ref(e->res);
		if (expires_ms != NULL)
			*expires_ms = e->expires_ms;
		return GG_OK;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return GG_ENOMEM;
	w->cb = cb;
	w->arg = arg;
	gg_list_init(&w->link);
	if (e != NULL) {
		c->stats.joined++;
	} else {
		if ((e = calloc(1, sizeof(*e))) == NULL) {
			free(w);
			return GG_ENOMEM;
		}
		e->c = c;
		e->type = type;
		gg_list_init(&e->lru);
		gg_list_init(&e->waiters);
		memcpy(e->name, key, len + 1);
		if ((st = gg_resolver_query(c->r, key, type, answer_cb, e)) != GG_OK) {
			free(e);
			free(w);
			return st;
		}
		e->in_flight = 1;
		gg_htable_insert(&c->table, &e->hlink, h);
		c->stats.misses++;
		c->stats.in_flight++;
	}
	/* Newest first: waiters are told in the reverse order of their arrival. */
	gg_list_push_front(&e->waiters, &w->link);
	if (wait != NULL)
		*wait = w;
	return GG_OK;
}

/* gg_dnscache_cancel - withdraw one wait */
void gg_dnscache_cancel(struct gg_dnscache_wait *wait)
{
	if (wait == NULL)
		return;
	gg_list_remove(&wait->link);
	free(wait);
}

/* gg_dnscache_flush - forget every answer */
void gg_dnscache_flush(struct gg_dnscache *c)
{
	struct gg_list *l;

	while ((l = gg_list_first(&c->lru)) != NULL)
		entry_drop(c, lru_entry(l));
}

/* gg_dnscache_free - withdraw queries, drop waiters and answers */
void gg_dnscache_free(struct gg_dnscache *c)
{
	struct gg_hlink *l;
	struct gg_list *w;

	if (c == NULL)
		return;
	gg_dnscache_flush(c);
	/* What is left is in flight. */
	while ((l = gg_htable_pop(&c->table)) != NULL) {
		struct centry *e = gg_htable_entry(l, struct centry, hlink);
		gg_resolver_cancel(c->r, answer_cb, e);
		while ((w = gg_list_first(&e->waiters)) != NULL)
			gg_dnscache_cancel(gg_list_entry(w, struct gg_dnscache_wait, link));
		free(e);
	}
	gg_htable_fini(&c->table);
	free(c);
}

/* gg_dnscache_stats - counters */
void gg_dnscache_stats(const struct gg_dnscache *c, struct gg_dnscache_stats *out)
{
	*out = c->stats;
}

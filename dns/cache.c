/*
 * cache.c - shared DNS queries and TTL cache (see cache.h)
 *
 * Entries live in a chained hash table keyed by (type, lower-case name).
 * An entry is either in flight (a resolver query outstanding, a list of
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

struct centry;

struct gg_dnscache_wait {
	struct gg_dnscache_wait *prev, *next;
	struct gg_dnscache_wait **head;		/* the list this wait is on */
	gg_resolver_cb cb;
	void *arg;
};

struct centry {
	struct centry *hnext;			/* hash chain */
	struct centry *lprev, *lnext;		/* LRU list, done entries only */
	struct gg_dnscache *c;
	uint32_t hash;
	int type;
	int in_flight;
	struct gg_dnscache_wait *waiters;
	const struct gg_dns_result *res;
	uint64_t expires_ms;
	char name[GG_DNS_NAME_MAX + 1];
};

struct gg_dnscache {
	struct gg_resolver *r;
	size_t max_entries, nbuckets;
	unsigned min_ttl, max_ttl;
	struct centry **buckets;
	struct centry *lru_head, *lru_tail;	/* most recently used first */
	struct gg_dnscache_stats stats;
};

/* key_hash - FNV-1a over the type and the (lower-case) name */
static uint32_t key_hash(const char *name, int type)
{
	uint32_t h = 2166136261u ^ (uint32_t)type;

	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 16777619u;
	return h;
}

static void lru_unlink(struct gg_dnscache *c, struct centry *e)
{
	if (e->lprev != NULL)
		e->lprev->lnext = e->lnext;
	else
		c->lru_head = e->lnext;
	if (e->lnext != NULL)
		e->lnext->lprev = e->lprev;
	else
		c->lru_tail = e->lprev;
	e->lprev = e->lnext = NULL;
}

static void lru_push(struct gg_dnscache *c, struct centry *e)
{
	e->lprev = NULL;
	e->lnext = c->lru_head;
	if (c->lru_head != NULL)
		c->lru_head->lprev = e;
	c->lru_head = e;
	if (c->lru_tail == NULL)
		c->lru_tail = e;
}

/* hash_unlink - take e out of its bucket */
static void hash_unlink(struct gg_dnscache *c, struct centry *e)
{
	struct centry **pp = &c->buckets[e->hash & (c->nbuckets - 1)];

	for (; *pp != NULL; pp = &(*pp)->hnext)
		if (*pp == e) {
			*pp = e->hnext;
			break;
		}
}

/* entry_drop - remove a done entry from the cache and free it */
static void entry_drop(struct gg_dnscache *c, struct centry *e)
{
	hash_unlink(c, e);
	lru_unlink(c, e);
	gg_dns_result_unref(e->res);
	c->stats.entries--;
	free(e);
}

/* wait_unlink - take w off whatever list it is on */
static void wait_unlink(struct gg_dnscache_wait *w)
{
	if (w->prev != NULL)
		w->prev->next = w->next;
	else if (w->head != NULL)
		*w->head = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
	w->prev = w->next = NULL;
	w->head = NULL;
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
	struct gg_dnscache_wait *list, *w;

	c->stats.in_flight--;
	e->in_flight = 0;
	/* Take the waiters first: callbacks may start or cancel other waits. */
	list = e->waiters;
	e->waiters = NULL;
	for (w = list; w != NULL; w = w->next)
		w->head = &list;
	if ((res->st == GG_OK || res->st == GG_NOTFOUND) && !res->cancelled) {
		e->res = gg_dns_result_ref(res);
		e->expires_ms = gg_clock_ms() + (uint64_t)clamp_ttl(c, res->ttl) * 1000;
		lru_push(c, e);
		c->stats.entries++;
		while (c->stats.entries > c->max_entries && c->lru_tail != NULL) {
			c->stats.evicted++;
			entry_drop(c, c->lru_tail);
		}
	} else {
		hash_unlink(c, e);
		free(e);
	}
	/* e may be gone now; res stays valid until we return. */
	while ((w = list) != NULL) {
		gg_resolver_cb cb = w->cb;
		void *warg = w->arg;
		wait_unlink(w);
		free(w);
		cb(res, warg);
	}
}

/* gg_dnscache_new - an empty cache in front of r */
enum gg_status gg_dnscache_new(struct gg_resolver *r, size_t max_entries, unsigned min_ttl,
			       unsigned max_ttl, struct gg_dnscache **out)
{
	struct gg_dnscache *c;
	size_t nb = 64;

	*out = NULL;
	if (r == NULL || min_ttl > max_ttl)
		return GG_EINVAL;
	while (nb < max_entries && nb < ((size_t)1 << 24))
		nb <<= 1;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return GG_ENOMEM;
	if ((c->buckets = calloc(nb, sizeof(*c->buckets))) == NULL) {
		free(c);
		return GG_ENOMEM;
	}
	c->r = r;
	c->nbuckets = nb;
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
	struct centry *e, **pp;
	struct gg_dnscache_wait *w;
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
	for (pp = &c->buckets[h & (c->nbuckets - 1)]; (e = *pp) != NULL; pp = &e->hnext)
		if (e->hash == h && e->type == type && strcmp(e->name, key) == 0)
			break;
	if (e != NULL && !e->in_flight && gg_clock_ms() >= e->expires_ms) {
		c->stats.expired++;
		entry_drop(c, e);
		e = NULL;
	}
	if (e != NULL && !e->in_flight) {
		c->stats.hits++;
		lru_unlink(c, e);
		lru_push(c, e);
		*hit = gg_dns_result_ref(e->res);
		if (expires_ms != NULL)
			*expires_ms = e->expires_ms;
		return GG_OK;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return GG_ENOMEM;
	w->cb = cb;
	w->arg = arg;
	if (e != NULL) {
		c->stats.joined++;
	} else {
		if ((e = calloc(1, sizeof(*e))) == NULL) {
			free(w);
			return GG_ENOMEM;
		}
		e->c = c;
		e->hash = h;
		e->type = type;
		memcpy(e->name, key, len + 1);
		if ((st = gg_resolver_query(c->r, key, type, answer_cb, e)) != GG_OK) {
			free(e);
			free(w);
			return st;
		}
		e->in_flight = 1;
		e->hnext = c->buckets[h & (c->nbuckets - 1)];
		c->buckets[h & (c->nbuckets - 1)] = e;
		c->stats.misses++;
		c->stats.in_flight++;
	}
	w->head = &e->waiters;
	w->next = e->waiters;
	if (e->waiters != NULL)
		e->waiters->prev = w;
	e->waiters = w;
	if (wait != NULL)
		*wait = w;
	return GG_OK;
}

/* gg_dnscache_cancel - withdraw one wait */
void gg_dnscache_cancel(struct gg_dnscache_wait *wait)
{
	if (wait == NULL)
		return;
	wait_unlink(wait);
	free(wait);
}

/* gg_dnscache_flush - forget every answer */
void gg_dnscache_flush(struct gg_dnscache *c)
{
	while (c->lru_head != NULL)
		entry_drop(c, c->lru_head);
}

/* gg_dnscache_free - withdraw queries, drop waiters and answers */
void gg_dnscache_free(struct gg_dnscache *c)
{
	size_t i;

	if (c == NULL)
		return;
	gg_dnscache_flush(c);
	for (i = 0; i < c->nbuckets; i++) {
		struct centry *e;
		while ((e = c->buckets[i]) != NULL) {
			c->buckets[i] = e->hnext;
			gg_resolver_cancel(c->r, answer_cb, e);
			while (e->waiters != NULL)
				gg_dnscache_cancel(e->waiters);
			free(e);
		}
	}
	free(c->buckets);
	free(c);
}

/* gg_dnscache_stats - counters */
void gg_dnscache_stats(const struct gg_dnscache *c, struct gg_dnscache_stats *out)
{
	*out = c->stats;
}

/*
 * htable.h - one intrusive hash table, FNV-1a hashing
 *
 * A member embeds a struct gg_hlink and is inserted with its 32-bit hash;
 * the table never allocates a member, never frees one and never looks at
 * a key.  Lookup walks the links that have the caller's hash and lets the
 * caller compare keys:
 *
 *	for (l = gg_htable_first(t, h); l != NULL; l = gg_htable_next(l))
 *		if (key_equal(gg_htable_entry(l, struct x, link), key))
 *			break;
 *
 * Chained, with a fixed power-of-two number of buckets chosen at
 * gg_htable_init() (the number asked for, rounded up); it does not grow,
 * so a table's memory is known up front and no insert can fail.  Chains
 * are doubly linked, so gg_htable_remove() is O(1).  A new link goes to
 * the front of its chain.  Callers keep their own limits and eviction
 * (LRU, ring of slots, TTL); the table only finds.
 *
 * gg_fnv1a() is 32-bit FNV-1a; start from GG_FNV1A_INIT, or from it mixed
 * with a small discriminator, and chain calls to hash several fields.
 *
 * No locking, no global state.  Only gg_htable_init() can fail (GG_ENOMEM);
 * after a failed init (or gg_htable_fini()) the table holds no buckets and
 * only gg_htable_pop(), gg_htable_clear(), gg_htable_count() and
 * gg_htable_fini() may be called on it.
 */
#ifndef GG_HTABLE_H
#define GG_HTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "lib/status.h"

#define GG_FNV1A_INIT 2166136261u

struct gg_hlink {
	struct gg_hlink *next, **pprev;	/* chain; *pprev is the pointer to us */
	uint32_t hash;
};

struct gg_htable {
	struct gg_hlink **buckets;
	size_t mask;			/* buckets - 1 */
	size_t count;			/* links in the table */
	size_t low;			/* no link lives in a bucket below this */
};

/* The member of type `type` whose `member` is the link l. */
#define gg_htable_entry(l, type, member) \
	((type *)(void *)((char *)(l) - offsetof(type, member)))

/* FNV-1a of len bytes, continuing from h. */
uint32_t gg_fnv1a(uint32_t h, const void *p, size_t len);
/* FNV-1a of a C string (without its NUL), continuing from h. */
uint32_t gg_fnv1a_str(uint32_t h, const char *s);

/* An empty table of at least nbuckets buckets (a power of two, at least 1). */
enum gg_status gg_htable_init(struct gg_htable *t, size_t nbuckets);
/* Release the buckets (not the members); the table may be initialised again. */
void gg_htable_fini(struct gg_htable *t);

/* Add l with its hash (l must not be in a table). */
void gg_htable_insert(struct gg_htable *t, struct gg_hlink *l, uint32_t hash);
/* Take l out of t (l must be in t). */
void gg_htable_remove(struct gg_htable *t, struct gg_hlink *l);
/* The first link with this hash, or NULL. */
struct gg_hlink *gg_htable_first(const struct gg_htable *t, uint32_t hash);
/* The next link with l's hash, or NULL. */
struct gg_hlink *gg_htable_next(const struct gg_hlink *l);
/* Remove and return some link, NULL when empty (a loop of these is O(buckets + links)). */
struct gg_hlink *gg_htable_pop(struct gg_htable *t);
/* Forget every link at once (their members are the caller's to free). */
void gg_htable_clear(struct gg_htable *t);
/* The number of links. */
size_t gg_htable_count(const struct gg_htable *t);
/* The number of buckets. */
size_t gg_htable_buckets(const struct gg_htable *t);

#endif

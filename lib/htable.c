/*
 * htable.c - intrusive chained hash table (see htable.h)
 *
 * Each bucket is the head of a chain; every link keeps a pointer to the
 * pointer that points to it (the bucket or the previous link's next), so
 * a link leaves its chain without a walk.  `low` is a lower bound of the
 * first non-empty bucket, which keeps a loop of gg_htable_pop() linear.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/htable.h"

#define FNV1A_PRIME 16777619u

/* gg_fnv1a - FNV-1a over bytes */
uint32_t gg_fnv1a(uint32_t h, const void *p, size_t len)
{
	const unsigned char *s = p;

	while (len-- > 0)
		h = (h ^ *s++) * FNV1A_PRIME;
	return h;
}

/* gg_fnv1a_str - FNV-1a over a C string */
uint32_t gg_fnv1a_str(uint32_t h, const char *s)
{
	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * FNV1A_PRIME;
	return h;
}

/* gg_htable_init - nbuckets rounded up to a power of two */
enum gg_status gg_htable_init(struct gg_htable *t, size_t nbuckets)
{
	size_t n = 1;

	memset(t, 0, sizeof(*t));
	while (n < nbuckets) {
		if (n > ((size_t)-1 >> 1) / sizeof(*t->buckets))
			return GG_ENOMEM;
		n <<= 1;
	}
	if ((t->buckets = calloc(n, sizeof(*t->buckets))) == NULL)
		return GG_ENOMEM;
	t->mask = n - 1;
	t->low = n;
	return GG_OK;
}

/* gg_htable_fini - free the buckets */
void gg_htable_fini(struct gg_htable *t)
{
	free(t->buckets);
	memset(t, 0, sizeof(*t));
}

/* gg_htable_insert - l at the front of its chain */
void gg_htable_insert(struct gg_htable *t, struct gg_hlink *l, uint32_t hash)
{
	size_t b = hash & t->mask;
	struct gg_hlink **head = &t->buckets[b];

	l->hash = hash;
	l->next = *head;
	l->pprev = head;
	if (*head != NULL)
		(*head)->pprev = &l->next;
	*head = l;
	t->count++;
	if (b < t->low)
		t->low = b;
}

/* gg_htable_remove - unlink l */
void gg_htable_remove(struct gg_htable *t, struct gg_hlink *l)
{
	*l->pprev = l->next;
	if (l->next != NULL)
		l->next->pprev = l->pprev;
	l->next = NULL;
	l->pprev = NULL;
	t->count--;
}

/* gg_htable_first - first link of the chain with this hash */
struct gg_hlink *gg_htable_first(const struct gg_htable *t, uint32_t hash)
{
	struct gg_hlink *l;

	for (l = t->buckets[hash & t->mask]; l != NULL && l->hash != hash; l = l->next)
		;
	return l;
}

/* gg_htable_next - the next link with the same hash */
struct gg_hlink *gg_htable_next(const struct gg_hlink *l)
{
	uint32_t hash = l->hash;

	for (l = l->next; l != NULL && l->hash != hash; l = l->next)
		;
	return (struct gg_hlink *)l;
}

/* gg_htable_pop - remove the first link of the first non-empty bucket */
struct gg_hlink *gg_htable_pop(struct gg_htable *t)
{
	struct gg_hlink *l;

	if (t->buckets == NULL)
		return NULL;
	for (; t->low <= t->mask; t->low++)
		if ((l = t->buckets[t->low]) != NULL) {
			gg_htable_remove(t, l);
			return l;
		}
	return NULL;
}

/* gg_htable_clear - empty every bucket */
void gg_htable_clear(struct gg_htable *t)
{
	if (t->buckets == NULL)
		return;
	memset(t->buckets, 0, (t->mask + 1) * sizeof(*t->buckets));
	t->count = 0;
	t->low = t->mask + 1;
}

/* gg_htable_count - links held */
size_t gg_htable_count(const struct gg_htable *t)
{
	return t->count;
}

/* gg_htable_buckets - buckets allocated */
size_t gg_htable_buckets(const struct gg_htable *t)
{
	return t->buckets != NULL ? t->mask + 1 : 0;
}

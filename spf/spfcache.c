/*
 * spfcache.c - recent SPF results (see spfcache.h)
 *
 * A fixed array of entries used round-robin (so the oldest is replaced
 * first) and a power-of-two hash table of chains into it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spf/spfcache.h"
#include "lib/util.h"

struct gg_spfcache {
	struct gg_spfcache_entry *slots;
	size_t max, next;
	struct gg_spfcache_entry **table;
	size_t mask;
};

/* hash - FNV-1a */
static size_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return (size_t)h;
}

struct gg_spfcache *gg_spfcache_new(size_t max)
{
	struct gg_spfcache *c = calloc(1, sizeof(*c));
	size_t buckets = 16;

	if (c == NULL)
		return NULL;
	c->max = max;
	if (max == 0)
		return c;
	while (buckets < 2 * max)
		buckets *= 2;
	c->mask = buckets - 1;
	if ((c->slots = calloc(max, sizeof(*c->slots))) == NULL ||
	    (c->table = calloc(buckets, sizeof(*c->table))) == NULL) {
		gg_spfcache_free(c);
		return NULL;
	}
	return c;
}

void gg_spfcache_free(struct gg_spfcache *c)
{
	if (c == NULL)
		return;
	free(c->slots);
	free(c->table);
	free(c);
}

int gg_spfcache_key(char *key, const char *client, const char *sender, const char *helo)
{
	int n = snprintf(key, GG_SPFCACHE_KEY_MAX, "%s|%s|%s", client, sender, helo);

	return n > 0 && n < GG_SPFCACHE_KEY_MAX;
}

const struct gg_spfcache_entry *gg_spfcache_get(struct gg_spfcache *c, const char *key,
						uint64_t now)
{
	struct gg_spfcache_entry *e;

	if (c == NULL || c->max == 0)
		return NULL;
	for (e = c->table[hash(key) & c->mask]; e != NULL; e = e->next)
		if (strcmp(e->key, key) == 0)
			return e->expires > now ? e : NULL;
	return NULL;
}

/* unlink - take a slot out of its chain before it is reused */
static void unlink_entry(struct gg_spfcache *c, struct gg_spfcache_entry *old)
{
	struct gg_spfcache_entry **pp = &c->table[hash(old->key) & c->mask];

	for (; *pp != NULL; pp = &(*pp)->next)
		if (*pp == old) {
			*pp = old->next;
			return;
		}
}

void gg_spfcache_put(struct gg_spfcache *c, const char *key, uint64_t now, int result,
		     const char *domain, const char *text)
{
	struct gg_spfcache_entry *e;
	size_t b;

	if (c == NULL || c->max == 0)
		return;
	b = hash(key) & c->mask;
	for (e = c->table[b]; e != NULL; e = e->next)
		if (strcmp(e->key, key) == 0)
			break;
	if (e == NULL) {
		e = &c->slots[c->next];
		c->next = (c->next + 1) % c->max;
		if (e->used)
			unlink_entry(c, e);
		(void)gg_strcpy(e->key, sizeof(e->key), key);
		e->used = 1;
		e->next = c->table[b];
		c->table[b] = e;
	}
	e->expires = now + GG_SPFCACHE_TTL;
	e->result = result;
	(void)gg_strcpy(e->domain, sizeof(e->domain), domain ? domain : "");
	(void)gg_strcpy(e->text, sizeof(e->text), text ? text : "");
}

/*
 * spfcache.c - recent SPF results (see spfcache.h)
 *
 * A fixed array of slots used round-robin (so the oldest is replaced
 * first) and a lib/htable (at least twice as many buckets as slots) of
 * the slots in use.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spf/spfcache.h"
#include "lib/htable.h"
#include "lib/util.h"

struct slot {
	struct gg_hlink link;		/* in the table while used */
	int used;
	struct gg_spfcache_entry e;
};

struct gg_spfcache {
	size_t max, next;
	struct gg_htable table;
	struct slot slots[];		/* max of them, in the same allocation */
};

/* hash - FNV-1a of a key */
static uint32_t hash(const char *s)
{
	return gg_fnv1a_str(GG_FNV1A_INIT, s);
}

/* find - the used slot of a key, or NULL */
static struct slot *find(struct gg_spfcache *c, const char *key, uint32_t h)
{
	struct gg_hlink *l;

	for (l = gg_htable_first(&c->table, h); l != NULL; l = gg_htable_next(l)) {
		struct slot *x = gg_htable_entry(l, struct slot, link);
		if (strcmp(x->e.key, key) == 0)
			return x;
	}
	return NULL;
}

struct gg_spfcache *gg_spfcache_new(size_t max)
{
	struct gg_spfcache *c;

	if (max > (SIZE_MAX - sizeof(*c)) / sizeof(c->slots[0]) ||
	    (c = calloc(1, sizeof(*c) + max * sizeof(c->slots[0]))) == NULL)
		return NULL;
	c->max = max;
	/* No table for no slots: get and put check max first. */
	if (max > 0 && gg_htable_init(&c->table, max < 8 ? 16 : 2 * max) != GG_OK) {
		free(c);
		return NULL;
	}
	return c;
}

void gg_spfcache_free(struct gg_spfcache *c)
{
	if (c != NULL)
		gg_htable_fini(&c->table);
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
	struct slot *x;

	if (c == NULL || c->max == 0)
		return NULL;
	if ((x = find(c, key, hash(key))) == NULL)
		return NULL;
	return x->e.expires > now ? &x->e : NULL;
}

void gg_spfcache_put(struct gg_spfcache *c, const char *key, uint64_t now, int result,
		     const char *domain, const char *text)
{
	struct gg_spfcache_entry *e;
	struct slot *x;
	uint32_t h;

	if (c == NULL || c->max == 0)
		return;
	h = hash(key);
	if ((x = find(c, key, h)) == NULL) {
		x = &c->slots[c->next];
		c->next = (c->next + 1) % c->max;
		if (x->used)
			gg_htable_remove(&c->table, &x->link);
		(void)gg_strcpy(x->e.key, sizeof(x->e.key), key);
		x->used = 1;
		gg_htable_insert(&c->table, &x->link, h);
	}
	e = &x->e;
	e->expires = now + GG_SPFCACHE_TTL;
	e->result = result;
	(void)gg_strcpy(e->domain, sizeof(e->domain), domain ? domain : "");
	(void)gg_strcpy(e->text, sizeof(e->text), text ? text : "");
}

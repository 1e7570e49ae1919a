/*
 * checkcache.c - recent complete check results (see checkcache.h)
 *
 * A ring of `max` slots, each holding one packed entry or nothing, used
 * round-robin so the oldest entry is replaced first, and a lib/htable
 * (at least twice as many buckets as slots) through the entries.  An entry is one allocation:
 * the header, the reasons' weights, then the key and every string, each
 * NUL-terminated, in a fixed order.
 */
#include <stdlib.h>
#include <string.h>

#include "checks/checkcache.h"
#include "lib/htable.h"
#include "lib/util.h"

struct entry {
	struct gg_hlink link;		/* in the table */
	uint64_t expires_ms;
	uint32_t slot;
	size_t keylen;
	double total;
	int spf_pass;
	unsigned n;			/* reasons */
	double w[];			/* n weights, then the strings */
};

struct gg_checkcache {
	struct entry **slots;
	size_t max, next;
	struct gg_htable table;
	struct gg_checkcache_stats stats;
};

/* hash - FNV-1a over len bytes */
static uint32_t hash(const char *s, size_t len)
{
	return gg_fnv1a(GG_FNV1A_INIT, s, len);
}

/* strings - the first string of an entry (its key) */
static char *strings(struct entry *e)
{
	return (char *)(e->w + e->n);
}

struct gg_checkcache *gg_checkcache_new(size_t max)
{
	struct gg_checkcache *c = calloc(1, sizeof(*c));

	if (c == NULL || max == 0)
		return c;
	c->max = max;
	if ((c->slots = calloc(max, sizeof(*c->slots))) == NULL ||
	    gg_htable_init(&c->table, max < 8 ? 16 : 2 * max) != GG_OK) {
		gg_checkcache_free(c);
		return NULL;
	}
	return c;
}

void gg_checkcache_flush(struct gg_checkcache *c)
{
	if (c == NULL || c->max == 0)
		return;
	for (size_t i = 0; i < c->max; i++) {
		free(c->slots[i]);
		c->slots[i] = NULL;
	}
	gg_htable_clear(&c->table);
	c->next = 0;
	c->stats.entries = 0;
}

void gg_checkcache_free(struct gg_checkcache *c)
{
	if (c == NULL)
		return;
	if (c->slots != NULL && gg_htable_buckets(&c->table) > 0)
		gg_checkcache_flush(c);
	free(c->slots);
	gg_htable_fini(&c->table);
	free(c);
}

/* put_part - append one key part and a separator; 0 if it does not fit */
static int put_part(char *key, size_t *len, const char *part)
{
	size_t n = strlen(part);

	if (*len + n + 1 >= GG_CHECKCACHE_KEY_MAX)
		return 0;
	memcpy(key + *len, part, n);
	*len += n;
	key[(*len)++] = '\n';	/* no request field holds a newline */
	return 1;
}

size_t gg_checkcache_key(char *key, const struct gg_request *req)
{
	const char *at = strrchr(req->sender, '@');
	size_t len = 0;

	if (!put_part(key, &len, req->client_address) ||
	    !put_part(key, &len, req->client_name) ||
	    !put_part(key, &len, req->reverse_client_name) ||
	    !put_part(key, &len, req->helo_name) ||
	    !put_part(key, &len, req->sender[0] == '\0' ? "<>" : at != NULL ? at + 1 : ""))
		return 0;
	key[len] = '\0';
	return len;
}

/* find - the entry of a key, or NULL */
static struct entry *find(struct gg_checkcache *c, const char *key, size_t keylen, uint32_t h)
{
	struct gg_hlink *l;

	for (l = gg_htable_first(&c->table, h); l != NULL; l = gg_htable_next(l)) {
		struct entry *e = gg_htable_entry(l, struct entry, link);
		if (e->keylen == keylen && memcmp(strings(e), key, keylen) == 0)
			return e;
	}
	return NULL;
}

/* drop - unlink an entry from its chain and its slot, and free it */
static void drop(struct gg_checkcache *c, struct entry *e)
{
	gg_htable_remove(&c->table, &e->link);
	c->slots[e->slot] = NULL;
	c->stats.entries--;
	free(e);
}

/* copy_str - a stored string into a field; returns the next stored string */
static const char *copy_str(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return src + strlen(src) + 1;
}

int gg_checkcache_get(struct gg_checkcache *c, const char *key, size_t keylen, uint64_t now_ms,
		      struct gg_score *out)
{
	struct entry *e;
	const char *p;

	if (c == NULL || c->max == 0 || keylen == 0)
		return 0;
	if ((e = find(c, key, keylen, hash(key, keylen))) == NULL) {
		c->stats.misses++;
		return 0;
	}
	if (now_ms >= e->expires_ms) {
		c->stats.expired++;
		c->stats.misses++;
		drop(c, e);
		return 0;
	}
	c->stats.hits++;
	out->total = e->total;
	out->n = e->n;
	out->spf_pass = e->spf_pass;
	p = strings(e) + e->keylen + 1;
	p = copy_str(out->spf_domain, sizeof(out->spf_domain), p);
	p = copy_str(out->spf_result, sizeof(out->spf_result), p);
	for (unsigned i = 0; i < e->n; i++) {
		out->r[i].weight = e->w[i];
		p = copy_str(out->r[i].name, sizeof(out->r[i].name), p);
		p = copy_str(out->r[i].txt, sizeof(out->r[i].txt), p);
	}
	return 1;
}

/* put_str - append a string and its NUL */
static char *put_str(char *p, const char *s)
{
	size_t n = strlen(s) + 1;

	memcpy(p, s, n);
	return p + n;
}

void gg_checkcache_put(struct gg_checkcache *c, const char *key, size_t keylen,
		       uint64_t expires_ms, const struct gg_score *s)
{
	struct entry *e, *old;
	size_t size, i, n = s->n;
	uint32_t h;
	char *p;

	if (c == NULL || c->max == 0 || keylen == 0 || keylen >= GG_CHECKCACHE_KEY_MAX)
		return;
	if (n > GG_SCORE_MAX_REASONS)
		n = GG_SCORE_MAX_REASONS;
	size = sizeof(*e) + n * sizeof(double) + keylen + 1 + strlen(s->spf_domain) + 1 +
	    strlen(s->spf_result) + 1;
	for (i = 0; i < n; i++)
		size += strlen(s->r[i].name) + 1 + strlen(s->r[i].txt) + 1;
	if ((e = malloc(size)) == NULL)
		return;		/* a cache that cannot grow just misses */
	h = hash(key, keylen);
	e->expires_ms = expires_ms;
	e->keylen = keylen;
	e->total = s->total;
	e->spf_pass = s->spf_pass;
	e->n = (unsigned)n;
	for (i = 0; i < n; i++)
		e->w[i] = s->r[i].weight;
	p = strings(e);
	memcpy(p, key, keylen);
	p[keylen] = '\0';
	p += keylen + 1;
	p = put_str(p, s->spf_domain);
	p = put_str(p, s->spf_result);
	for (i = 0; i < n; i++) {
		p = put_str(p, s->r[i].name);
		p = put_str(p, s->r[i].txt);
	}
	/* A key seen again replaces its entry; otherwise the oldest slot goes. */
	if ((old = find(c, key, keylen, h)) != NULL) {
		e->slot = old->slot;
		drop(c, old);
	} else {
		e->slot = (uint32_t)c->next;
		c->next = (c->next + 1) % c->max;
		if (c->slots[e->slot] != NULL) {
			c->stats.replaced++;
			drop(c, c->slots[e->slot]);
		}
	}
	c->slots[e->slot] = e;
	gg_htable_insert(&c->table, &e->link, h);
	c->stats.entries++;
	c->stats.stores++;
}

void gg_checkcache_stats(const struct gg_checkcache *c, struct gg_checkcache_stats *out)
{
	if (c == NULL) {
		memset(out, 0, sizeof(*out));
		return;
	}
	*out = c->stats;
}

/*
 * t_htable.c - unit tests for lib/htable.c: FNV-1a test vectors, bucket
 * rounding, and scripts of inserts, lookups and removals over members
 * whose hashes are chosen to collide
 */
#include <stdio.h>
#include <string.h>

#include "unit.h"
#include "lib/htable.h"
#include "lib/util.h"

/* FNV-1a, 32 bits: vectors from the FNV reference (isthe.com/chongo/tech/comp/fnv). */

struct fnv_case {
	const char *label;
	const char *in;
	uint32_t want;
};

static const struct fnv_case fnv_cases[] = {
	{ "empty string is the offset basis", "", 0x811c9dc5u },
	{ "a", "a", 0xe40c292cu },
	{ "b", "b", 0xe70c2de5u },
	{ "foobar", "foobar", 0xbf9cf968u },
};

static void test_fnv(void **state)
{
	const struct fnv_case *c = *state;
	size_t half = strlen(c->in) / 2;

	assert_int_equal(gg_fnv1a_str(GG_FNV1A_INIT, c->in), c->want);
	assert_int_equal(gg_fnv1a(GG_FNV1A_INIT, c->in, strlen(c->in)), c->want);
	/* Hashing in pieces gives the same value. */
	assert_int_equal(gg_fnv1a_str(gg_fnv1a(GG_FNV1A_INIT, c->in, half), c->in + half),
			 c->want);
}

/* Bucket counts */

struct size_case {
	const char *label;
	size_t ask, want;
};

static const struct size_case size_cases[] = {
	{ "zero gives one bucket", 0, 1 },
	{ "one", 1, 1 },
	{ "a power of two is kept", 64, 64 },
	{ "rounded up", 65, 128 },
	{ "rounded up from 3", 3, 4 },
	{ "4096", 4096, 4096 },
};

static void test_size(void **state)
{
	const struct size_case *c = *state;
	struct gg_htable t;

	assert_int_equal(gg_htable_init(&t, c->ask), GG_OK);
	assert_int_equal(gg_htable_buckets(&t), c->want);
	assert_int_equal(gg_htable_count(&t), 0);
	gg_htable_fini(&t);
	assert_int_equal(gg_htable_buckets(&t), 0);
	assert_null(gg_htable_pop(&t));		/* safe after fini */
	gg_htable_clear(&t);
	gg_htable_fini(&t);
}

/* Scripts */

#define NMEMBERS 8

struct member {
	struct gg_hlink link;
	char key[8];
};

/*
 * Words: iK:H insert member K (its key is "kK") with hash H; rK remove
 * member K; p pop one (recorded); c clear.  Then `find` lists, for each
 * member 0..7 in order, whether a lookup by its key and hash finds it
 * ('1') or not ('0').
 */
struct script_case {
	const char *label;
	size_t buckets;
	const char *script;
	size_t want_count;
	const char *want_found;
	int pops;			/* how many pops returned a link */
};

static const struct script_case script_cases[] = {
	{ "empty", 8, "", 0, "00000000", 0 },
	{ "one member", 8, "i0:5", 1, "10000000", 0 },
	{ "distinct buckets", 8, "i0:1 i1:2 i2:3", 3, "11100000", 0 },
	{ "same bucket, different hashes", 8, "i0:1 i1:9 i2:17", 3, "11100000", 0 },
	{ "same hash, different keys", 8, "i0:7 i1:7 i2:7", 3, "11100000", 0 },
	{ "remove the chain's head", 8, "i0:7 i1:7 i2:7 r2", 2, "11000000", 0 },
	{ "remove the chain's middle", 8, "i0:7 i1:7 i2:7 r1", 2, "10100000", 0 },
	{ "remove the chain's tail", 8, "i0:7 i1:7 i2:7 r0", 2, "01100000", 0 },
	{ "remove everything", 8, "i0:7 i1:15 i2:7 r0 r1 r2", 0, "00000000", 0 },
	{ "re-insert after remove", 8, "i0:7 i1:7 r0 i0:7", 2, "11000000", 0 },
	{ "re-insert with another hash", 8, "i0:7 r0 i0:3", 1, "10000000", 0 },
	{ "one bucket holds everything", 1, "i0:1 i1:2 i2:3 i3:4 r1", 3, "10110000", 0 },
	{ "pop empties the table", 8, "i0:1 i1:5 i2:9 i3:1 p p p p p", 0, "00000000", 4 },
	{ "pop after removals", 4, "i0:0 i1:1 i2:2 r0 p p p", 0, "00000000", 2 },
	{ "insert below the pop point", 8, "i5:5 p i1:1 i6:6 p p", 0, "00000000", 3 },
	{ "clear forgets everything", 8, "i0:1 i1:2 c", 0, "00000000", 0 },
	{ "usable after clear", 8, "i0:1 i1:2 c i3:3", 1, "00010000", 0 },
};

struct world {
	struct gg_htable t;
	struct member m[NMEMBERS];
	uint32_t hash[NMEMBERS];
	int pops;
};

/* find - the member with key k and hash h, or NULL */
static struct member *find(struct world *w, const char *k, uint32_t h)
{
	struct gg_hlink *l;

	for (l = gg_htable_first(&w->t, h); l != NULL; l = gg_htable_next(l)) {
		struct member *m = gg_htable_entry(l, struct member, link);
		assert_int_equal(l->hash, h);	/* the walk only shows this hash */
		if (strcmp(m->key, k) == 0)
			return m;
	}
	return NULL;
}

static void run_script(struct world *w, const char *p)
{
	unsigned k, h;
	int n;

	while (*p != '\0') {
		switch (*p) {
		case 'i':
			assert_int_equal(sscanf(p, "i%u:%u%n", &k, &h, &n), 2);
			assert_true(k < NMEMBERS);
			w->hash[k] = h;
			gg_htable_insert(&w->t, &w->m[k].link, h);
			p += n;
			break;
		case 'r':
			assert_int_equal(sscanf(p, "r%u%n", &k, &n), 1);
			gg_htable_remove(&w->t, &w->m[k].link);
			p += n;
			break;
		case 'p':
			if (gg_htable_pop(&w->t) != NULL)
				w->pops++;
			p++;
			break;
		case 'c':
			gg_htable_clear(&w->t);
			p++;
			break;
		default:
			fail_msg("bad script word at '%s'", p);
		}
		while (*p == ' ')
			p++;
	}
}

static void test_script(void **state)
{
	const struct script_case *c = *state;
	struct world w;
	char found[NMEMBERS + 1];
	int k;

	memset(&w, 0, sizeof(w));
	assert_int_equal(gg_htable_init(&w.t, c->buckets), GG_OK);
	for (k = 0; k < NMEMBERS; k++)
		snprintf(w.m[k].key, sizeof(w.m[k].key), "k%d", k);
	run_script(&w, c->script);
	for (k = 0; k < NMEMBERS; k++) {
		struct member *m = find(&w, w.m[k].key, w.hash[k]);
		assert_true(m == NULL || m == &w.m[k]);
		found[k] = m != NULL ? '1' : '0';
	}
	found[NMEMBERS] = '\0';
	assert_string_equal(found, c->want_found);
	assert_int_equal(gg_htable_count(&w.t), c->want_count);
	assert_int_equal(w.pops, c->pops);
	gg_htable_fini(&w.t);
}

/* Many members: every one is found, the pop loop returns each exactly once. */
static void test_many(void **state)
{
	enum { N = 5000 };
	static struct member m[N];
	static char seen[N];
	struct gg_htable t;
	struct gg_hlink *l;
	size_t i, n = 0;

	(void)state;
	assert_int_equal(gg_htable_init(&t, 64), GG_OK);
	for (i = 0; i < N; i++) {
		snprintf(m[i].key, sizeof(m[i].key), "%zu", i);
		gg_htable_insert(&t, &m[i].link, gg_fnv1a_str(GG_FNV1A_INIT, m[i].key));
	}
	assert_int_equal(gg_htable_count(&t), N);
	for (i = 0; i < N; i++) {
		uint32_t h = gg_fnv1a_str(GG_FNV1A_INIT, m[i].key);
		for (l = gg_htable_first(&t, h); l != NULL; l = gg_htable_next(l))
			if (l == &m[i].link)
				break;
		assert_non_null(l);
	}
	memset(seen, 0, sizeof(seen));
	while ((l = gg_htable_pop(&t)) != NULL) {
		size_t k = (size_t)(gg_htable_entry(l, struct member, link) - m);
		assert_true(k < N);
		assert_false(seen[k]);
		seen[k] = 1;
		n++;
	}
	assert_int_equal(n, N);
	assert_int_equal(gg_htable_count(&t), 0);
	gg_htable_fini(&t);
}

int main(void)
{
	struct tu_suite s = { 0 };
	size_t i;

	for (i = 0; i < GG_ARRAY_LEN(fnv_cases); i++)
		tu_add(&s, test_fnv, &fnv_cases[i], "fnv1a: %s", fnv_cases[i].label);
	for (i = 0; i < GG_ARRAY_LEN(size_cases); i++)
		tu_add(&s, test_size, &size_cases[i], "buckets: %s", size_cases[i].label);
	for (i = 0; i < GG_ARRAY_LEN(script_cases); i++)
		tu_add(&s, test_script, &script_cases[i], "table: %s", script_cases[i].label);
	tu_add(&s, test_many, NULL, "table: 5000 members found, popped once each");
	return tu_run(&s, "t_htable");
}

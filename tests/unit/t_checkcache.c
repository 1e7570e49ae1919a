/*
 * t_checkcache.c - the check result cache: keys, round trips, expiry,
 *                  replacement of the oldest entry, flushing
 *
 * A remembered result must come back exactly as it was stored (reasons,
 * weights, texts, total, SPF outcome), only for the same inputs, and never
 * after the time it was stored for.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "checks/checkcache.h"
#include "engine/request.h"
#include "engine/score.h"
#include "lib/util.h"

static void fill_req(struct gg_request *r, const char *addr, const char *name, const char *helo,
		     const char *sender)
{
	gg_request_init(r);
	(void)gg_strcpy(r->client_address, sizeof(r->client_address), addr);
	(void)gg_strcpy(r->client_name, sizeof(r->client_name), name);
	(void)gg_strcpy(r->reverse_client_name, sizeof(r->reverse_client_name), name);
	(void)gg_strcpy(r->helo_name, sizeof(r->helo_name), helo);
	(void)gg_strcpy(r->sender, sizeof(r->sender), sender);
}

static void sample_score(struct gg_score *s)
{
	gg_score_init(s);
	gg_score_add(s, "dnsbl:bl.test", 3, "Listed: see http://bl.test/q?1.2.0.192");
	gg_score_add(s, "rdns:dynamic", 1, "dyn-1-2.example.net matches /dyn/");
	gg_score_add(s, "spf:pass", -1, "");
	s->spf_pass = 1;
	(void)gg_strcpy(s->spf_domain, sizeof(s->spf_domain), "spf.test");
	(void)gg_strcpy(s->spf_result, sizeof(s->spf_result), "pass");
}

static void test_key_parts(void **state)
{
	struct gg_request a, b;
	char ka[GG_CHECKCACHE_KEY_MAX], kb[GG_CHECKCACHE_KEY_MAX];
	size_t la, lb;

	(void)state;
	/* The local part of the sender does not matter; its domain does. */
	fill_req(&a, "192.0.2.1", "mx.example.net", "mx.example.net", "alice@example.com");
	fill_req(&b, "192.0.2.1", "mx.example.net", "mx.example.net", "bob@example.com");
	la = gg_checkcache_key(ka, &a);
	lb = gg_checkcache_key(kb, &b);
	assert_true(la > 0);
	assert_int_equal(la, lb);
	assert_memory_equal(ka, kb, la);
	/* Every other input does. */
	fill_req(&b, "192.0.2.1", "mx.example.net", "mx.example.net", "alice@example.org");
	lb = gg_checkcache_key(kb, &b);
	assert_false(la == lb && memcmp(ka, kb, la) == 0);
	fill_req(&b, "192.0.2.2", "mx.example.net", "mx.example.net", "alice@example.com");
	lb = gg_checkcache_key(kb, &b);
	assert_false(la == lb && memcmp(ka, kb, la) == 0);
	fill_req(&b, "192.0.2.1", "mx.example.net", "other.example.net", "alice@example.com");
	lb = gg_checkcache_key(kb, &b);
	assert_false(la == lb && memcmp(ka, kb, la) == 0);
	fill_req(&b, "192.0.2.1", "unknown", "mx.example.net", "alice@example.com");
	lb = gg_checkcache_key(kb, &b);
	assert_false(la == lb && memcmp(ka, kb, la) == 0);
	/* The null sender is its own key, not the empty domain of "user@". */
	fill_req(&a, "192.0.2.1", "mx.example.net", "mx.example.net", "");
	fill_req(&b, "192.0.2.1", "mx.example.net", "mx.example.net", "user@");
	la = gg_checkcache_key(ka, &a);
	lb = gg_checkcache_key(kb, &b);
	assert_false(la == lb && memcmp(ka, kb, la) == 0);
	/* Fields that cannot be confused by shifting text from one to the next. */
	fill_req(&a, "192.0.2.1", "ab", "c", "x@d");
	fill_req(&b, "192.0.2.1", "a", "bc", "x@d");
	la = gg_checkcache_key(ka, &a);
	lb = gg_checkcache_key(kb, &b);
	assert_false(la == lb && memcmp(ka, kb, la) == 0);
}

static void test_round_trip(void **state)
{
	struct gg_checkcache *c = gg_checkcache_new(8);
	struct gg_request r;
	struct gg_score in, out;
	char key[GG_CHECKCACHE_KEY_MAX];
	size_t len;

	(void)state;
	assert_non_null(c);
	fill_req(&r, "192.0.2.1", "mx.example.net", "mx.example.net", "a@example.com");
	len = gg_checkcache_key(key, &r);
	assert_int_equal(gg_checkcache_get(c, key, len, 1000, &out), 0);
	sample_score(&in);
	gg_checkcache_put(c, key, len, 5000, &in);
	memset(&out, 0x55, sizeof(out));
	assert_int_equal(gg_checkcache_get(c, key, len, 4999, &out), 1);
	assert_int_equal(out.n, 3);
	assert_true(out.total > 2.99 && out.total < 3.01);
	assert_string_equal(out.r[0].name, "dnsbl:bl.test");
	assert_string_equal(out.r[0].txt, "Listed: see http://bl.test/q?1.2.0.192");
	assert_true(out.r[1].weight > 0.99 && out.r[1].weight < 1.01);
	assert_string_equal(out.r[1].txt, "dyn-1-2.example.net matches /dyn/");
	assert_string_equal(out.r[2].name, "spf:pass");
	assert_string_equal(out.r[2].txt, "");
	assert_int_equal(out.spf_pass, 1);
	assert_string_equal(out.spf_domain, "spf.test");
	assert_string_equal(out.spf_result, "pass");
	/* Expired at its time exactly, and then gone. */
	assert_int_equal(gg_checkcache_get(c, key, len, 5000, &out), 0);
	assert_int_equal(gg_checkcache_get(c, key, len, 1000, &out), 0);
	gg_checkcache_free(c);
}

static void test_total_beyond_reasons(void **state)
{
	struct gg_checkcache *c = gg_checkcache_new(2);
	struct gg_score in, out;

	(void)state;
	gg_score_init(&in);
	for (int i = 0; i < GG_SCORE_MAX_REASONS + 3; i++)
		gg_score_add(&in, "dnsbl:x.test", 1, NULL);
	gg_checkcache_put(c, "k", 1, 10, &in);
	assert_int_equal(gg_checkcache_get(c, "k", 1, 0, &out), 1);
	assert_int_equal(out.n, GG_SCORE_MAX_REASONS);
	assert_true(out.total > GG_SCORE_MAX_REASONS + 2.9);
	gg_checkcache_free(c);
}

static void test_oldest_replaced(void **state)
{
	struct gg_checkcache *c = gg_checkcache_new(3);
	struct gg_checkcache_stats st;
	struct gg_score in, out;
	char key[16];

	(void)state;
	sample_score(&in);
	for (int i = 0; i < 5; i++) {
		snprintf(key, sizeof(key), "key%d", i);
		gg_checkcache_put(c, key, strlen(key), 100, &in);
	}
	gg_checkcache_stats(c, &st);
	assert_int_equal(st.entries, 3);
	assert_int_equal(st.replaced, 2);
	assert_int_equal(gg_checkcache_get(c, "key0", 4, 0, &out), 0);
	assert_int_equal(gg_checkcache_get(c, "key1", 4, 0, &out), 0);
	for (int i = 2; i < 5; i++) {
		snprintf(key, sizeof(key), "key%d", i);
		assert_int_equal(gg_checkcache_get(c, key, strlen(key), 0, &out), 1);
	}
	/* Storing a key again replaces it in place: nothing else is lost. */
	in.total = 42;
	gg_checkcache_put(c, "key3", 4, 100, &in);
	gg_checkcache_stats(c, &st);
	assert_int_equal(st.entries, 3);
	assert_int_equal(gg_checkcache_get(c, "key3", 4, 0, &out), 1);
	assert_true(out.total > 41.9 && out.total < 42.1);
	assert_int_equal(gg_checkcache_get(c, "key2", 4, 0, &out), 1);
	assert_int_equal(gg_checkcache_get(c, "key4", 4, 0, &out), 1);
	gg_checkcache_flush(c);
	gg_checkcache_stats(c, &st);
	assert_int_equal(st.entries, 0);
	assert_int_equal(gg_checkcache_get(c, "key4", 4, 0, &out), 0);
	gg_checkcache_free(c);
}

static void test_disabled(void **state)
{
	struct gg_checkcache *c = gg_checkcache_new(0);
	struct gg_score in, out;

	(void)state;
	assert_non_null(c);
	sample_score(&in);
	gg_checkcache_put(c, "k", 1, 100, &in);
	assert_int_equal(gg_checkcache_get(c, "k", 1, 0, &out), 0);
	gg_checkcache_flush(c);
	gg_checkcache_free(c);
	gg_checkcache_free(NULL);
}

static void test_long_key(void **state)
{
	struct gg_request r;
	char key[GG_CHECKCACHE_KEY_MAX];
	char helo[256];

	(void)state;
	memset(helo, 'h', sizeof(helo) - 1);
	helo[sizeof(helo) - 1] = '\0';
	fill_req(&r, "2001:db8::1", helo, helo, "a@example.com");
	(void)gg_strcpy(r.reverse_client_name, sizeof(r.reverse_client_name), helo);
	/* Every field at its longest still fits the key. */
	assert_true(gg_checkcache_key(key, &r) > 0);
}

int main(void)
{
	struct tu_suite s = { 0 };

	tu_add(&s, test_key_parts, NULL, "key: which inputs count");
	tu_add(&s, test_round_trip, NULL, "a stored result comes back until it expires");
	tu_add(&s, test_total_beyond_reasons, NULL, "total beyond the reasons array");
	tu_add(&s, test_oldest_replaced, NULL, "the oldest entry is replaced first");
	tu_add(&s, test_disabled, NULL, "size 0 keeps nothing");
	tu_add(&s, test_long_key, NULL, "longest fields fit the key");
	return tu_run(&s, "checkcache");
}

/*
 * t_store_bdb.c - unit tests for engine/store_bdb.c (and store.c): a fresh
 * Berkeley DB environment per test in a private directory; transactions,
 * reopening, bounded expiry slices that delete expired and corrupt
 * records, and the walk
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <db.h>

#include "unit.h"
#include "store/keypack.h"
#include "store/record.h"
#include "store/store.h"
#include "store/store_bdb.h"
#include "store/store_spec.h"
#include "engine/triplet.h"
#include "lib/util.h"

struct fx {
	char *dir;		/* private directory */
	char *dbdir;		/* dir/db: the environment */
	struct gg_store *s;
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[512] = "";

	if (f == NULL)
		return -1;
	f->dir = tu_mkdtemp();
	f->dbdir = tu_subst("@@/db", f->dir);
	if (gg_store_bdb_open(f->dbdir, 1, &f->s, err, sizeof(err)) != GG_OK) {
		fprintf(stderr, "cannot open test store: %s\n", err);
		return -1;
	}
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	gg_store_close(f->s);
	tu_rmtree(f->dir);
	free(f->dbdir);
	free(f->dir);
	free(f);
	return 0;
}

static void reopen(struct fx *f)
{
	char err[512] = "";

	gg_store_close(f->s);
	f->s = NULL;
	if (gg_store_bdb_open(f->dbdir, 1, &f->s, err, sizeof(err)) != GG_OK)
		fail_msg("reopen: %s", err);
}

/* Small helpers: one operation each, in its own transaction. */

static void put1(struct gg_store *s, const char *key, const void *val, size_t vlen)
{
	assert_int_equal(gg_store_begin(s), GG_OK);
	if (s->ops->put(s, key, strlen(key), val, vlen) != GG_OK)
		fail_msg("put %s: %s", key, gg_store_error(s));
	assert_int_equal(gg_store_commit(s), GG_OK);
}

static enum gg_status get1(struct gg_store *s, const char *key, uint8_t *val, size_t *vlen)
{
	enum gg_status st;

	assert_int_equal(gg_store_begin(s), GG_OK);
	st = s->ops->get(s, key, strlen(key), val, GG_RECORD_MAX, vlen);
	assert_int_equal(gg_store_commit(s), GG_OK);
	return st;
}

static int exists(struct gg_store *s, const char *key)
{
	uint8_t v[GG_RECORD_MAX];
	size_t n;
	enum gg_status st = get1(s, key, v, &n);

	if (st != GG_OK && st != GG_NOTFOUND)
		fail_msg("get %s: %s (%s)", key, gg_status_str(st), gg_store_error(s));
	return st == GG_OK;
}

static void put_triplet(struct gg_store *s, const char *key, uint64_t first, uint64_t last)
{
	struct gg_triplet_rec r = { first, last, 0, 1, 0 };
	uint8_t buf[GG_RECORD_MAX];

	put1(s, key, buf, gg_record_triplet_encode(&r, buf));
}

static void put_client(struct gg_store *s, const char *key, uint64_t first, uint64_t last)
{
	struct gg_client_rec r = { first, last, first, 1 };
	uint8_t buf[GG_RECORD_MAX];

	put1(s, key, buf, gg_record_client_encode(&r, buf));
}

/* Walk callback: count and check order. */
struct walk_acc {
	size_t n, stop_after;
	char last[GG_KEY_MAX + 1];
	unsigned char last_packed[GG_KEYPACK_MAX];
	size_t last_plen;
	int out_of_order;
	uint64_t min_last_seen;
	int undecodable;
};

static int walk_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct walk_acc *w = arg;
	char k[GG_KEY_MAX + 1];
	uint64_t last;

	if (klen > GG_KEY_MAX)
		klen = GG_KEY_MAX;
	memcpy(k, key, klen);
	k[klen] = '\0';
	/* The walk follows the order of the keys as stored: packed. */
	{
		unsigned char p[GG_KEYPACK_MAX];
		size_t plen = gg_keypack_pack(key, klen, p), m = plen < w->last_plen ? plen : w->last_plen;
		int c = memcmp(w->last_packed, p, m);
		if (w->n > 0 && (c > 0 || (c == 0 && w->last_plen >= plen)))
			w->out_of_order = 1;
		memcpy(w->last_packed, p, plen);
		w->last_plen = plen;
	}
	strcpy(w->last, k);
	if (gg_record_last_seen(val, vlen, &last) != GG_OK)
		w->undecodable++;
	else if (w->n == 0 || last < w->min_last_seen)
		w->min_last_seen = last;
	w->n++;
	return w->stop_after && w->n >= w->stop_after;
}

static size_t count(struct gg_store *s)
{
	struct walk_acc w;

	memset(&w, 0, sizeof(w));
	assert_int_equal(s->ops->walk(s, walk_cb, &w), GG_OK);
	assert_false(w.out_of_order);
	return w.n;
}

/* Opening */

static void test_open_specs(void **state)
{
	struct fx *f = *state;
	struct gg_store *s = (struct gg_store *)&s;
	char err[512] = "", *spec, *file;

	/* The environment in f->dbdir is open: use another one for the spec test. */
	spec = tu_subst("bdb:@@/other", f->dir);
	assert_int_equal(gg_store_open(spec, 1, &s, err, sizeof(err)), GG_OK);
	assert_string_equal(s->ops->name, "bdb");
	gg_store_close(s);
	free(spec);

	assert_int_equal(gg_store_open("bdb:relative/dir", 1, &s, err, sizeof(err)), GG_EINVAL);
	assert_null(s);
	tu_assert_contains(err, "absolute path");
	assert_int_equal(gg_store_open("mysql:127.0.0.1", 1, &s, err, sizeof(err)), GG_EINVAL);
	assert_null(s);
	tu_assert_contains(err, "unknown backend");
	/* A Redis address without a port (t_store_redis tests the Redis forms). */
	assert_int_equal(gg_store_open("redis:127.0.0.1", 1, &s, err, sizeof(err)), GG_EINVAL);
	assert_null(s);
	tu_assert_contains(err, "database = redis:127.0.0.1:");

	/* A regular file where the directory should be. */
	file = tu_write_file(f->dir, "plainfile", "x", 1);
	err[0] = '\0';
	assert_int_not_equal(gg_store_bdb_open(file, 1, &s, err, sizeof(err)), GG_OK);
	assert_null(s);
	assert_true(err[0] != '\0');
	free(file);
	gg_store_close(NULL);	/* closing nothing is fine */
}

/* Transactions */

static void test_put_get_del(void **state)
{
	struct gg_store *s = ((struct fx *)*state)->s;
	uint8_t v[GG_RECORD_MAX];
	size_t n = 0;

	assert_int_equal(gg_store_begin(s), GG_OK);
	assert_int_equal(s->ops->put(s, "k1", 2, "value-1", 7), GG_OK);
	assert_int_equal(s->ops->put(s, "k2", 2, "value-22", 8), GG_OK);
	/* A transaction sees its own writes. */
	assert_int_equal(s->ops->get(s, "k1", 2, v, sizeof(v), &n), GG_OK);
	assert_int_equal(n, 7);
	assert_int_equal(gg_store_commit(s), GG_OK);

	assert_int_equal(get1(s, "k1", v, &n), GG_OK);
	assert_int_equal(n, 7);
	assert_memory_equal(v, "value-1", 7);
	assert_int_equal(get1(s, "k2", v, &n), GG_OK);
	assert_int_equal(n, 8);
	assert_int_equal(get1(s, "k3", v, &n), GG_NOTFOUND);
	/* Keys are bytes: a prefix is another key. */
	assert_int_equal(get1(s, "k", v, &n), GG_NOTFOUND);

	/* Overwrite. */
	put1(s, "k1", "v", 1);
	assert_int_equal(get1(s, "k1", v, &n), GG_OK);
	assert_int_equal(n, 1);

	assert_int_equal(gg_store_begin(s), GG_OK);
	assert_int_equal(s->ops->del(s, "k1", 2), GG_OK);
	assert_int_equal(s->ops->del(s, "k1", 2), GG_NOTFOUND);
	assert_int_equal(s->ops->del(s, "nope", 4), GG_NOTFOUND);
	assert_int_equal(gg_store_commit(s), GG_OK);
	assert_int_equal(get1(s, "k1", v, &n), GG_NOTFOUND);
	assert_int_equal(get1(s, "k2", v, &n), GG_OK);
}

static void test_abort_discards(void **state)
{
	struct gg_store *s = ((struct fx *)*state)->s;

	assert_int_equal(gg_store_begin(s), GG_OK);
	assert_int_equal(s->ops->put(s, "new", 3, "x", 1), GG_OK);
	gg_store_abort(s);
	assert_false(exists(s, "new"));

	put1(s, "kept", "x", 1);
	assert_int_equal(gg_store_begin(s), GG_OK);
	assert_int_equal(s->ops->del(s, "kept", 4), GG_OK);
	assert_int_equal(s->ops->put(s, "other", 5, "y", 1), GG_OK);
	gg_store_abort(s);
	assert_true(exists(s, "kept"));
	assert_false(exists(s, "other"));
	/* The aborted transaction is gone: a new one works. */
	put1(s, "after", "z", 1);
	assert_true(exists(s, "after"));
}

static void test_txn_edges(void **state)
{
	struct gg_store *s = ((struct fx *)*state)->s;

	/* Commit or abort without a transaction are harmless; begin twice is one transaction. */
	assert_int_equal(gg_store_commit(s), GG_OK);
	gg_store_abort(s);
	assert_int_equal(gg_store_begin(s), GG_OK);
	assert_int_equal(gg_store_begin(s), GG_OK);
	assert_int_equal(s->ops->put(s, "a", 1, "1", 1), GG_OK);
	assert_int_equal(gg_store_commit(s), GG_OK);
	assert_int_equal(gg_store_commit(s), GG_OK);
	assert_true(exists(s, "a"));
	/* Operations outside a transaction auto-commit. */
	assert_int_equal(s->ops->put(s, "b", 1, "2", 1), GG_OK);
	assert_true(exists(s, "b"));
	assert_int_equal(gg_store_checkpoint_now(s), GG_OK);
}

static void test_oversized_value(void **state)
{
	struct gg_store *s = ((struct fx *)*state)->s;
	uint8_t big[200], v[GG_RECORD_MAX];
	size_t n = 99;

	/* A value larger than any record is reported as malformed so the caller deletes it. */
	memset(big, 'j', sizeof(big));
	put1(s, "junk", big, sizeof(big));
	assert_int_equal(get1(s, "junk", v, &n), GG_EFORMAT);
	/* Exactly GG_RECORD_MAX is still returned. */
	put1(s, "max", big, GG_RECORD_MAX);
	assert_int_equal(get1(s, "max", v, &n), GG_OK);
	assert_int_equal(n, GG_RECORD_MAX);
}

static void test_reopen_keeps_data(void **state)
{
	struct fx *f = *state;
	char key[32];

	for (int i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "t/key-%03d", i);
		put_triplet(f->s, key, 1000 + (uint64_t)i, 2000 + (uint64_t)i);
	}
	assert_true(exists(f->s, "t/key-042"));
	reopen(f);
	assert_int_equal(count(f->s), 100);
	for (int i = 0; i < 100; i++) {
		uint8_t v[GG_RECORD_MAX];
		size_t n;
		struct gg_triplet_rec r;
		snprintf(key, sizeof(key), "t/key-%03d", i);
		assert_int_equal(get1(f->s, key, v, &n), GG_OK);
		assert_int_equal(gg_record_triplet_decode(v, n, &r), GG_OK);
		assert_true(r.last_seen == 2000 + (uint64_t)i);
	}
	/* And an aborted write is not there after reopening either. */
	assert_int_equal(gg_store_begin(f->s), GG_OK);
	assert_int_equal(f->s->ops->put(f->s, "ghost", 5, "x", 1), GG_OK);
	gg_store_abort(f->s);
	reopen(f);
	assert_false(exists(f->s, "ghost"));
	assert_int_equal(count(f->s), 100);
}

/* Walk */

static void test_walk(void **state)
{
	struct gg_store *s = ((struct fx *)*state)->s;
	struct walk_acc w;

	memset(&w, 0, sizeof(w));
	assert_int_equal(s->ops->walk(s, walk_cb, &w), GG_OK);
	assert_int_equal(w.n, 0);
	put_triplet(s, "t/b", 10, 20);
	put_triplet(s, "t/a", 10, 20);
	put_client(s, "c/x", 10, 30);
	put1(s, "zzz", "junk", 4);
	memset(&w, 0, sizeof(w));
	assert_int_equal(s->ops->walk(s, walk_cb, &w), GG_OK);
	assert_int_equal(w.n, 4);
	assert_false(w.out_of_order);
	assert_int_equal(w.undecodable, 1);
	assert_string_equal(w.last, "zzz");
	/* A callback returning non-zero stops the walk. */
	memset(&w, 0, sizeof(w));
	w.stop_after = 2;
	assert_int_equal(s->ops->walk(s, walk_cb, &w), GG_OK);
	assert_int_equal(w.n, 2);
}

/* Expiry */

/* expire_all - slices of the given budget until done; returns the number of slices */
static unsigned expire_all(struct gg_store *s, uint64_t before, unsigned budget,
			   struct gg_expire_stats *st, unsigned max_slices)
{
	unsigned slices = 0;
	int done = 0;

	memset(st, 0, sizeof(*st));
	while (!done) {
		struct gg_expire_stats before_slice = *st;
		if (slices == max_slices)
			fail_msg("expiry walk with budget %u not done after %u slices "
				 "(examined %lu, expired %lu, corrupt %lu)", budget, slices,
				 st->examined, st->expired, st->corrupt);
		if (s->ops->expire_slice(s, before, budget, st, &done) != GG_OK)
			fail_msg("expire_slice: %s", gg_store_error(s));
		slices++;
		/* A slice never looks at more than its budget. */
		assert_true(st->examined - before_slice.examined <= budget);
	}
	return slices;
}

static void test_expire_slices(void **state)
{
	struct gg_store *s = ((struct fx *)*state)->s;
	struct gg_expire_stats st;
	struct gg_triplet_rec bad_t = { 100, 600, 0, 1, 0 };
	uint8_t buf[GG_RECORD_MAX];
	char key[32];
	unsigned slices;
	size_t n;
	struct walk_acc w;

	for (int i = 0; i < 10; i++) {
		snprintf(key, sizeof(key), "t/fresh-%02d", i);
		put_triplet(s, key, 1500, 2000);
		snprintf(key, sizeof(key), "t/old-%02d", i);
		put_triplet(s, key, 100, 500);
	}
	for (int i = 0; i < 3; i++) {
		snprintf(key, sizeof(key), "c/fresh-%d", i);
		put_client(s, key, 1500, 2000);
		snprintf(key, sizeof(key), "c/old-%d", i);
		put_client(s, key, 100, 999);
	}
	/* Corrupt records, written directly. */
	put1(s, "t/junk-text", "hello", 5);
	n = gg_record_triplet_encode(&bad_t, buf);
	buf[0] = 'x';						/* unknown tag */
	put1(s, "t/junk-version", buf, n);
	n = gg_record_triplet_encode(&bad_t, buf);
	put1(s, "t/junk-short", buf, n - 1);			/* truncated */
	put1(s, "c/junk-empty", "", 0);
	assert_int_equal(count(s), 30);

	slices = expire_all(s, 1000, 3, &st, 100);
	assert_true(slices >= 10);		/* 30 records, 3 at a time */
	assert_int_equal(st.examined, 30);	/* each record looked at once */
	assert_int_equal(st.expired, 13);
	assert_int_equal(st.corrupt, 4);

	memset(&w, 0, sizeof(w));
	assert_int_equal(s->ops->walk(s, walk_cb, &w), GG_OK);
	assert_int_equal(w.n, 13);
	assert_int_equal(w.undecodable, 0);
	assert_true(w.min_last_seen >= 1000);

	/* A second walk starts from the beginning and finds nothing more to do. */
	expire_all(s, 1000, 3, &st, 100);
	assert_int_equal(st.examined, 13);
	assert_int_equal(st.expired + st.corrupt, 0);
}

static void test_expire_boundary(void **state)
{
	struct gg_store *s = ((struct fx *)*state)->s;
	struct gg_expire_stats st;

	put_triplet(s, "t/a", 100, 999);
	put_triplet(s, "t/b", 100, 1000);
	put_triplet(s, "t/c", 100, 1001);
	expire_all(s, 1000, 100, &st, 2);
	assert_int_equal(st.expired, 1);	/* only last_seen < before */
	assert_false(exists(s, "t/a"));
	assert_true(exists(s, "t/b"));
	assert_true(exists(s, "t/c"));
}

static void test_expire_empty(void **state)
{
	struct gg_store *s = ((struct fx *)*state)->s;
	struct gg_expire_stats st;

	assert_int_equal(expire_all(s, 1000, 5, &st, 2), 1);
	assert_int_equal(st.examined, 0);
}

static void test_expire_resumes_after_changes(void **state)
{
	struct gg_store *s = ((struct fx *)*state)->s;
	struct gg_expire_stats st;
	char key[32];
	int done = 0;

	for (int i = 0; i < 10; i++) {
		snprintf(key, sizeof(key), "t/k%02d", i);
		put_triplet(s, key, 1500, 2000);
	}
	memset(&st, 0, sizeof(st));
	assert_int_equal(s->ops->expire_slice(s, 1000, 3, &st, &done), GG_OK);
	assert_false(done);
	assert_int_equal(st.examined, 3);
	/* Between slices the daemon keeps working: the next key goes away, another appears. */
	assert_int_equal(gg_store_begin(s), GG_OK);
	assert_int_equal(s->ops->del(s, "t/k03", 5), GG_OK);
	assert_int_equal(gg_store_commit(s), GG_OK);
	put_triplet(s, "t/k05x", 100, 200);	/* expired, after the resume point */
	while (!done)
		assert_int_equal(s->ops->expire_slice(s, 1000, 3, &st, &done), GG_OK);
	assert_int_equal(st.examined, 10);	/* 3 + k04..k09 + k05x */
	assert_int_equal(st.expired, 1);
	assert_int_equal(count(s), 9);
}

static void test_expire_oversized(void **state)
{
	struct gg_store *s = ((struct fx *)*state)->s;
	struct gg_expire_stats st;
	uint8_t big[200];

	memset(big, 'x', sizeof(big));
	put_triplet(s, "t/a", 1500, 2000);
	put1(s, "t/b-oversized", big, sizeof(big));
	put_triplet(s, "t/c", 1500, 2000);
	expire_all(s, 1000, 100, &st, 3);
	assert_int_equal(st.corrupt, 1);
	assert_int_equal(st.expired, 0);
	assert_true(exists(s, "t/a"));		/* the record before the junk is kept */
	assert_false(exists(s, "t/b-oversized"));
	assert_true(exists(s, "t/c"));
	assert_int_equal(count(s), 2);
}

/*
 * raw_put - write one key/value into a file of the environment with
 * Berkeley DB itself, the store closed: what damage or an older greygate
 * leaves, which the store's own put() cannot write
 */
struct raw_rec {
	const void *key;
	size_t klen;
	const void *val;
	size_t vlen;
};

static void raw_put(struct fx *f, const char *file, const struct raw_rec *r, size_t n)
{
	DB_ENV *env;
	DB *db;
	DBT k, d;

	gg_store_close(f->s);
	f->s = NULL;
	assert_int_equal(db_env_create(&env, 0), 0);
	assert_int_equal(env->open(env, f->dbdir, DB_CREATE | DB_INIT_TXN | DB_INIT_LOCK |
				   DB_INIT_LOG | DB_INIT_MPOOL, 0600), 0);
	assert_int_equal(db_create(&db, env, 0), 0);
	assert_int_equal(db->open(db, NULL, file, NULL, DB_BTREE, DB_CREATE | DB_AUTO_COMMIT,
				  0600), 0);
	for (size_t i = 0; i < n; i++) {
		memset(&k, 0, sizeof(k));
		memset(&d, 0, sizeof(d));
		k.data = (void *)r[i].key;
		k.size = (u_int32_t)r[i].klen;
		d.data = (void *)r[i].val;
		d.size = (u_int32_t)r[i].vlen;
		assert_int_equal(db->put(db, NULL, &k, &d, DB_AUTO_COMMIT), 0);
	}
	assert_int_equal(db->close(db, 0), 0);
	(void)env->txn_checkpoint(env, 0, 0, 0);
	assert_int_equal(env->close(env, 0), 0);
	reopen(f);
}

static void test_expire_oversized_key(void **state)
{
	struct fx *f = *state;
	struct gg_expire_stats st;
	struct gg_triplet_rec r = { 1500, 2000, 0, 1, 0 };
	uint8_t buf[GG_RECORD_MAX];
	unsigned char key[2000];
	static const unsigned char bad_padding[] = { 0x02, 0x00, 0x04, 0x21 };
	char text[GG_KEY_MAX + 1];

	/* The store refuses a key longer than any the engine makes ... */
	memset(text, 'k', sizeof(text));
	assert_int_equal(gg_store_begin(f->s), GG_OK);
	assert_int_equal(f->s->ops->put(f->s, text, sizeof(text), "x", 1), GG_ETOOBIG);
	assert_int_equal(f->s->ops->get(f->s, text, sizeof(text), buf, sizeof(buf), &(size_t){ 0 }),
			 GG_ETOOBIG);
	gg_store_abort(f->s);
	/* ... and expiry deletes stored keys that do not unpack: too long, not canonical. */
	memset(key, 'k', sizeof(key));
	key[0] = 0x03;
	{
		size_t vlen = gg_record_triplet_encode(&r, buf);
		struct raw_rec recs[] = { { key, sizeof(key), buf, vlen },
					  { bad_padding, sizeof(bad_padding), buf, vlen } };
		raw_put(f, "triplets.db", recs, GG_ARRAY_LEN(recs));
	}
	put_triplet(f->s, "c/a", 1500, 2000);
	put_triplet(f->s, "z/a", 1500, 2000);
	expire_all(f->s, 1000, 100, &st, 4);
	assert_int_equal(st.corrupt, 2);
	assert_int_equal(count(f->s), 2);
	assert_true(exists(f->s, "c/a") && exists(f->s, "z/a"));
}

/*
 * A new database_cache_size takes effect at the next open once nobody has
 * the database open; while someone has, the second opener says it shares
 * the first one's cache.
 */
static void test_cache_size(void **state)
{
	struct fx *f = *state;
	struct gg_store *second = NULL;
	char err[512] = "";

	gg_store_close(f->s);
	f->s = NULL;
	assert_int_equal(gg_store_bdb_open(f->dbdir, 4, &f->s, err, sizeof(err)), GG_OK);
	tu_assert_contains(f->s->summary, "cache 4 MB, from database_cache_size");
	gg_store_close(f->s);
	f->s = NULL;
	assert_int_equal(gg_store_bdb_open(f->dbdir, 16, &f->s, err, sizeof(err)), GG_OK);
	tu_assert_contains(f->s->summary, "cache 16 MB, from database_cache_size");
	{
		/* DB_REGISTER allows one handle per process: the second is a child. */
		int fds[2];
		char got[512];
		ssize_t n;
		pid_t pid;

		assert_int_equal(pipe(fds), 0);
		if ((pid = fork()) == 0) {
			close(fds[0]);
			if (gg_store_bdb_open(f->dbdir, 64, &second, err, sizeof(err)) != GG_OK)
				(void)!write(fds[1], err, strlen(err));
			else
				(void)!write(fds[1], second->summary, strlen(second->summary));
			_exit(0);
		}
		close(fds[1]);
		n = read(fds[0], got, sizeof(got) - 1);
		close(fds[0]);
		(void)waitpid(pid, NULL, 0);
		got[n > 0 ? n : 0] = '\0';
		tu_assert_contains(got, "as made by a process that still has it open, not 64 MB");
	}
	gg_store_close(f->s);
	f->s = NULL;
	assert_int_equal(gg_store_bdb_open(f->dbdir, 0, &f->s, err, sizeof(err)), GG_OK);
	/* A 64th of the memory, 32 to 256 MB, for an empty database. */
	{
		long mem = sysconf(_SC_PHYS_PAGES) / 1024 * sysconf(_SC_PAGESIZE) / 1024;
		long base = mem / 64 < 32 ? 32 : mem / 64 > 256 ? 256 : mem / 64;
		char want[128];
		snprintf(want, sizeof(want), "cache %ld MB, auto: %ld MB and a quarter of the 0 MB database",
			 base, base);
		tu_assert_contains(f->s->summary, want);
	}
}

/*
 * A database that greygate up to issue 9 wrote: text keys and version 1
 * records in greygate.db.  Open moves every readable record into
 * triplets.db, leaves out junk, removes greygate.db and says so.
 */
static void test_upgrade_v1(void **state)
{
	struct fx *f = *state;
	static const uint8_t v1_t[GG_TRIPLET_REC_V1_LEN] = {
		'T', 1, 0, 0, 0, 0, 0x65, 0x53, 0xf1, 0x00,  0, 0, 0, 0, 0x65, 0x53, 0xf2, 0x90,
		0, 0, 0, 0, 0x65, 0x53, 0xf2, 0x2d,  0, 0, 0, 2,  0, 0, 0, 3 };
	static const uint8_t v1_c[GG_CLIENT_REC_V1_LEN] = {
		'C', 1, 0, 0, 0, 0, 0x65, 0x53, 0xf1, 0x00,  0, 0, 0, 0, 0x65, 0x54, 0x0d, 0x20,
		0, 0, 0, 0, 0x65, 0x53, 0xff, 0x10,  0, 0, 0, 4 };
	static const char tkey[] = "t/192.0.2.0/24/alice@example.com/bob@example.org";
	static const char ckey[] = "c/192.0.2.0/24";
	char path[600];
	uint8_t v[GG_RECORD_MAX];
	size_t n;
	struct gg_triplet_rec t;
	struct gg_client_rec c;
	struct stat sb;

	const struct raw_rec recs[] = {
		{ tkey, strlen(tkey), v1_t, sizeof(v1_t) },
		{ ckey, strlen(ckey), v1_c, sizeof(v1_c) },
		{ "t/junk", 6, "junk", 4 },
	};

	raw_put(f, "greygate.db", recs, GG_ARRAY_LEN(recs));
	/* raw_put reopened the store: the upgrade has run. */
	tu_assert_contains(f->s->notice, "2 records copied");
	tu_assert_contains(f->s->notice, "1 unreadable ones left out");
	snprintf(path, sizeof(path), "%s/greygate.db", f->dbdir);
	assert_int_equal(stat(path, &sb), -1);
	assert_int_equal(get1(f->s, tkey, v, &n), GG_OK);
	assert_int_equal(gg_record_version(v, n), 2);	/* re-encoded as version 2 */
	assert_int_equal(gg_record_triplet_decode(v, n, &t), GG_OK);
	assert_true(t.first_seen == 1700000000 && t.last_seen == 1700000400);
	assert_true(t.passed_at == 1700000301 && t.defer_count == 2 && t.pass_count == 3);
	assert_int_equal(get1(f->s, ckey, v, &n), GG_OK);
	assert_int_equal(gg_record_client_decode(v, n, &c), GG_OK);
	assert_true(c.first_seen == 1700000000 && c.last_seen == 1700007200);
	assert_true(c.last_counted == 1700003600 && c.pass_count == 4);
	assert_false(exists(f->s, "t/junk"));
	assert_int_equal(count(f->s), 2);
	/* Reopening finds nothing more to do. */
	reopen(f);
	assert_string_equal(f->s->notice, "");
	assert_int_equal(count(f->s), 2);
}

static void test_expire_budget_one_with_oversized(void **state)
{
	struct gg_store *s = ((struct fx *)*state)->s;
	struct gg_expire_stats st;
	uint8_t big[200];

	/* The smallest allowed database_expire_slice must still finish a walk. */
	memset(big, 'x', sizeof(big));
	put_triplet(s, "t/a", 1500, 2000);
	put1(s, "t/b-oversized", big, sizeof(big));
	put_triplet(s, "t/c", 1500, 2000);
	expire_all(s, 1000, 1, &st, 20);
	assert_false(exists(s, "t/b-oversized"));
	assert_int_equal(count(s), 2);
}

static void test_expire_oversized_neighbour_kept(void **state)
{
	struct gg_store *s = ((struct fx *)*state)->s;
	struct gg_expire_stats st;
	uint8_t big[200];
	int done = 0;

	/* Whatever else happens, a valid, fresh record is never deleted by expiry. */
	memset(big, 'x', sizeof(big));
	put_triplet(s, "t/a", 1500, 2000);
	put1(s, "t/b-oversized", big, sizeof(big));
	put_triplet(s, "t/c", 1500, 2000);
	memset(&st, 0, sizeof(st));
	(void)s->ops->expire_slice(s, 1000, 2, &st, &done);
	if (!exists(s, "t/a"))
		fail_msg("the fresh record t/a before an oversized value was deleted "
			 "(stats: examined %lu, expired %lu, corrupt %lu)",
			 st.examined, st.expired, st.corrupt);
	assert_true(exists(s, "t/c"));
}

static void test_expire_budget_one(void **state)
{
	struct gg_store *s = ((struct fx *)*state)->s;
	struct gg_expire_stats st;
	unsigned slices;

	put_triplet(s, "t/a", 1500, 2000);
	put_triplet(s, "t/b", 100, 200);
	put_triplet(s, "t/c", 1500, 2000);
	put1(s, "t/d", "junk", 4);
	slices = expire_all(s, 1000, 1, &st, 20);
	assert_true(slices >= 4);
	assert_int_equal(st.examined, 4);
	assert_int_equal(st.expired, 1);
	assert_int_equal(st.corrupt, 1);
	assert_int_equal(count(s), 2);
}

/* The database setting: one parser for every program */

struct spec_case {
	const char *spec;
	enum gg_store_kind kind;
	const char *dir;	/* bdb, and what gg_store_bdb_dir() says (NULL: not bdb) */
	int is_unix;
	const char *host;
	int port;
	const char *path;
	long db;
	const char *where;
};

static const struct spec_case spec_cases[] = {
	{ "bdb:/var/lib/greygate", GG_STORE_BDB, "/var/lib/greygate", 0, "", 0, "", 0, "" },
	{ "bdb:/", GG_STORE_BDB, "/", 0, "", 0, "", 0, "" },
	{ "redis:127.0.0.1:6379", GG_STORE_REDIS, NULL, 0, "127.0.0.1", 6379, "", 0, "127.0.0.1:6379" },
	{ "redis:mx-db.example:6380/2", GG_STORE_REDIS, NULL, 0, "mx-db.example", 6380, "", 2,
	  "mx-db.example:6380" },
	{ "redis:[::1]:6379/15", GG_STORE_REDIS, NULL, 0, "::1", 6379, "", 15, "[::1]:6379" },
	{ "redis:unix:/run/redis/redis.sock", GG_STORE_REDIS, NULL, 1, "", 0, "/run/redis/redis.sock", 0,
	  "/run/redis/redis.sock" },
	{ "redis:unix:/run/redis/redis.sock/3", GG_STORE_REDIS, NULL, 1, "", 0, "/run/redis/redis.sock",
	  3, "/run/redis/redis.sock" },
};

static void test_spec_parse(void **state)
{
	const struct spec_case *c = *state;
	struct gg_store_spec sp;
	char err[512] = "";
	const char *dir = gg_store_bdb_dir(c->spec);

	if (gg_store_spec_parse(c->spec, &sp, err, sizeof(err)) != GG_OK)
		fail_msg("%s: %s", c->spec, err);
	assert_int_equal(sp.kind, c->kind);
	if (c->kind == GG_STORE_BDB) {
		assert_string_equal(sp.dir, c->dir);
		assert_non_null(dir);
		assert_string_equal(dir, c->dir);
		return;
	}
	assert_null(dir);
	assert_int_equal(sp.is_unix, c->is_unix);
	assert_string_equal(sp.host, c->host);
	assert_int_equal(sp.port, c->port);
	assert_string_equal(sp.path, c->path);
	assert_int_equal(sp.db, c->db);
	assert_string_equal(sp.where, c->where);
}

static void test_spec_bad(void **state)
{
	static const char *bad[] = { "bdb:relative/dir", "bdb:", "mysql:x", "", "redis:", "redis:h" };
	struct gg_store_spec sp;
	char err[512];

	(void)state;
	for (size_t i = 0; i < GG_ARRAY_LEN(bad); i++) {
		err[0] = '\0';
		if (gg_store_spec_parse(bad[i], &sp, err, sizeof(err)) != GG_EINVAL)
			fail_msg("'%s' was accepted", bad[i]);
		tu_assert_contains(err, "database = ");
		assert_int_equal(gg_store_check_spec(bad[i], err, sizeof(err)), GG_EINVAL);
		/* No directory to hand to the daemon's user for a spec that does not parse. */
		assert_null(gg_store_bdb_dir(bad[i]));
	}
}

int main(void)
{
	struct tu_suite s = { 0 };

	for (size_t i = 0; i < GG_ARRAY_LEN(spec_cases); i++)
		tu_add(&s, test_spec_parse, &spec_cases[i], "spec: %s", spec_cases[i].spec);
	tu_add(&s, test_spec_bad, NULL, "spec: bad specs are refused and have no bdb directory");
#define T(fn, label) tu_add_fixture(&s, fn, fx_setup, fx_teardown, NULL, "%s", label)
	T(test_open_specs, "open: bdb:/dir specs, bad specs and a file in the way");
	T(test_put_get_del, "put, get and del in transactions");
	T(test_abort_discards, "abort really discards puts and deletes");
	T(test_txn_edges, "commit/abort without begin, begin twice, auto-commit, checkpoint");
	T(test_oversized_value, "a value larger than any record is GG_EFORMAT");
	T(test_reopen_keeps_data, "close and reopen keeps committed data only");
	T(test_walk, "walk visits every record in key order and can stop early");
	T(test_expire_slices, "expire: small budget walks in slices, deletes expired and corrupt");
	T(test_expire_boundary, "expire: last activity equal to 'before' is kept");
	T(test_expire_empty, "expire: an empty database is done at once");
	T(test_expire_resumes_after_changes, "expire: resumes correctly after changes between slices");
	T(test_expire_oversized, "expire: an oversized value is deleted, its neighbours kept");
	T(test_expire_oversized_key, "expire: keys that do not unpack are deleted; long keys refused");
	T(test_cache_size, "cache: a new size applies at the next open, shared while open");
	T(test_upgrade_v1, "upgrade: greygate.db of format 1 moved into triplets.db at open");
	T(test_expire_oversized_neighbour_kept, "expire: a fresh record before an oversized one survives");
	T(test_expire_budget_one, "expire: budget 1 walks record by record");
	T(test_expire_budget_one_with_oversized, "expire: budget 1 gets past an oversized value");
#undef T
	return tu_run(&s, "t_store_bdb");
}

/*
 * store_redis.c - Redis backend of the triplet store (hiredis, synchronous)
 *
 * Several MX hosts point their database setting at one Redis server and so
 * share triplets and auto-whitelisted clients.  Every key is greygate's key
 * behind the prefix "gg:" so a Redis shared with other applications is
 * safe; every value is the same versioned record as with Berkeley DB.
 *
 * Transactions: begin() starts buffering writes; get() answers from that
 * buffer first (a batch reads what it wrote earlier), else sends GET;
 * put() and del() are buffered; commit() sends all buffered writes as one
 * MULTI ... EXEC pipeline (one round trip) and abort() drops them.
 * prefetch() reads a whole batch's keys with one MGET; get() answers from
 * what it read (after the writes) until the transaction ends, so a batch
 * costs two round trips however many requests it holds.  Reads
 * are not isolated: two hosts deciding the same triplet in the same
 * millisecond both write, and the later write wins, which at worst delays
 * one sender once more.  del() asks EXISTS so it can report GG_NOTFOUND.
 *
 * Expiry: every write is SET ... PX lifetime, the lifetime being what the
 * caller set with gg_store_set_lifetime() (greylist_max_age; 35 days until
 * then) plus GG_REDIS_LIFETIME_MARGIN, so Redis forgets unused records by
 * itself; expire_slice() is done at once, checkpoint and maintain are
 * no-ops.  The walk uses SCAN MATCH gg:* and MGET: unordered, and a key
 * may be seen twice if Redis resizes its table meanwhile.
 *
 * Errors: a connection or protocol error is GG_EDB with the reason in
 * gg_store_error() ("redis 127.0.0.1:6379: Connection refused"); the
 * connection is dropped and made again by a later operation, with the
 * back-off of store_redis_conn.c, so a dead or hung Redis costs each
 * request next to nothing.  A reply of an unexpected type never crashes:
 * it is an error like any other.  The address was parsed beforehand by
 * gg_store_spec_parse() (store_spec.c).
 * Threads: one store belongs to one thread at a time.  It never logs.
 * Signals: a write to a connection the server closed raises SIGPIPE, so a
 * program using this store ignores SIGPIPE (the daemons do).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hiredis/hiredis.h>

#include "store/store.h"
#include "store/store_redis.h"
#include "store/store_redis_conn.h"

#define PREFIX_LEN (sizeof(GG_REDIS_PREFIX) - 1)
#define DEFAULT_LIFETIME (35L * 86400)	/* greylist_max_age's default */
#define SCAN_COUNT "500"

/* find - the buffered write for a prefixed key, or NULL */
static struct wentry *find(struct store_redis *s, const char *pkey, size_t pklen)
{
	for (size_t i = 0; i < s->nw; i++)
		if (s->w[i].klen == pklen && memcmp(s->w[i].key, pkey, pklen) == 0)
			return &s->w[i];
	return NULL;
}

/* clear_reads - forget every prefetched value */
static void clear_reads(struct store_redis *s)
{
	for (size_t i = 0; i < s->nr; i++) {
		free(s->r[i].key);
		free(s->r[i].val);
	}
	free(s->r);
	s->r = NULL;
	s->nr = s->rnext = 0;
}

/* clear - forget every buffered write and prefetched value */
static void clear(struct store_redis *s)
{
	for (size_t i = 0; i < s->nw; i++) {
		free(s->w[i].key);
		free(s->w[i].val);
	}
	s->nw = 0;
	clear_reads(s);
}

/* find_read - the prefetched value of a prefixed key, or NULL (gets come in prefetch order) */
static struct rentry *find_read(struct store_redis *s, const char *pkey, size_t pklen)
{
	for (size_t k = 0; k < s->nr; k++) {
		size_t i = (s->rnext + k) % s->nr;
		if (s->r[i].klen == pklen && memcmp(s->r[i].key, pkey, pklen) == 0) {
			s->rnext = i + 1;
			return &s->r[i];
		}
	}
	return NULL;
}

/* prefixed - "gg:" + key in a new buffer */
static char *prefixed(const void *key, size_t klen, size_t *pklen)
{
	char *p = malloc(PREFIX_LEN + klen + 1);

	if (p == NULL)
		return NULL;
	memcpy(p, GG_REDIS_PREFIX, PREFIX_LEN);
	if (klen > 0)
		memcpy(p + PREFIX_LEN, key, klen);
	p[PREFIX_LEN + klen] = '\0';
	*pklen = PREFIX_LEN + klen;
	return p;
}

/* buffer - remember a put (val != NULL) or a delete of a prefixed key; takes pkey */
static enum gg_status buffer(struct store_redis *s, char *pkey, size_t pklen, const void *val,
			     size_t vlen)
{
	struct wentry *e = find(s, pkey, pklen);
	char *v = NULL;

	if (val != NULL && (v = malloc(vlen ? vlen : 1)) == NULL) {
		free(pkey);
		return GG_ENOMEM;
	}
	if (val != NULL && vlen > 0)
		memcpy(v, val, vlen);
	if (e != NULL) {
		free(pkey);
		free(e->val);
		e->val = v;
		e->vlen = vlen;
		return GG_OK;
	}
	if (s->nw == s->capw) {
		size_t cap = s->capw ? s->capw * 2 : 16;
		struct wentry *nw = realloc(s->w, cap * sizeof(*nw));
		if (nw == NULL) {
			free(pkey);
			free(v);
			return GG_ENOMEM;
		}
		s->w = nw;
		s->capw = cap;
	}
	e = &s->w[s->nw++];
	e->key = pkey;
	e->klen = pklen;
	e->val = v;
	e->vlen = vlen;
	return GG_OK;
}

static enum gg_status redis_begin(struct gg_store *gs)
{
	struct store_redis *s = (struct store_redis *)gs;
	enum gg_status st;

	if (s->in_txn)
		return GG_OK;
	if ((st = gg_store_redis_connect(s)) != GG_OK)
		return st;
	clear(s);
	s->in_txn = 1;
	return GG_OK;
}

static void redis_abort(struct gg_store *gs)
{
	struct store_redis *s = (struct store_redis *)gs;

	s->in_txn = 0;
	clear(s);
}

/* check_exec - the results of EXEC: one per buffered write */
static enum gg_status check_exec(struct store_redis *s, const redisReply *r)
{
	if (r->type == REDIS_REPLY_ERROR)
		return gg_store_redis_error_reply(s, "EXEC", r);
	if (r->type != REDIS_REPLY_ARRAY)
		return gg_store_redis_seterr(s, "EXEC: transaction not applied (reply type %d)",
					     r->type);
	if (r->elements != s->nw)
		return gg_store_redis_seterr(s, "EXEC: %zu results for %zu writes", r->elements,
					     s->nw);
	for (size_t i = 0; i < r->elements; i++) {
		const redisReply *x = r->element[i];
		if (x == NULL)
			return gg_store_redis_seterr(s, "EXEC: missing result");
		if (x->type != (s->w[i].val != NULL ? REDIS_REPLY_STATUS : REDIS_REPLY_INTEGER))
			return gg_store_redis_error_reply(s, s->w[i].val ? "SET" : "DEL", x);
	}
	return GG_OK;
}

static enum gg_status redis_commit(struct gg_store *gs)
{
	struct store_redis *s = (struct store_redis *)gs;
	enum gg_status st = GG_OK;
	char px[24];
	size_t pxlen, i, nreplies;
	int broken = 0;

	if (!s->in_txn)
		return GG_OK;
	s->in_txn = 0;
	if (s->nw == 0)
		return GG_OK;
	if ((st = gg_store_redis_connect(s)) != GG_OK)
		goto out;
	pxlen = (size_t)snprintf(px, sizeof(px), "%lld", s->px);
	/* One pipeline: MULTI, the writes, EXEC; then read every reply in order. */
	if (redisAppendCommand(s->c, "MULTI") != REDIS_OK) {
		st = gg_store_redis_drop(s, "MULTI");
		goto out;
	}
	for (i = 0; i < s->nw; i++) {
		struct wentry *w = &s->w[i];
		int ret;
		if (w->val != NULL) {
			const char *argv[5] = { "SET", w->key, w->val, "PX", px };
			size_t len[5] = { 3, w->klen, w->vlen, 2, pxlen };
			ret = redisAppendCommandArgv(s->c, 5, argv, len);
		} else {
			const char *argv[2] = { "DEL", w->key };
			size_t len[2] = { 3, w->klen };
			ret = redisAppendCommandArgv(s->c, 2, argv, len);
		}
		if (ret != REDIS_OK) {
			st = gg_store_redis_drop(s, "commit");
			goto out;
		}
	}
	if (redisAppendCommand(s->c, "EXEC") != REDIS_OK) {
		st = gg_store_redis_drop(s, "EXEC");
		goto out;
	}
	nreplies = s->nw + 2;
	for (i = 0; i < nreplies; i++) {
		void *p = NULL;
		redisReply *r;

		if (redisGetReply(s->c, &p) != REDIS_OK || p == NULL) {
			if (p != NULL)
				freeReplyObject(p);
			broken = 1;
			break;
		}
		r = p;
		if (st == GG_OK) {
			if (i + 1 == nreplies)
				st = check_exec(s, r);
			else if (r->type != REDIS_REPLY_STATUS)
				st = gg_store_redis_error_reply(s, i == 0 ? "MULTI" : "queueing a write",
								r);
		}
		freeReplyObject(r);
	}
	if (broken)
		st = gg_store_redis_drop(s, "commit");
	else
		s->failures = 0;
out:
	clear(s);
	return st;
}

/*
 * copy_out - a value this transaction already holds (NULL: deleted or
 * known absent); one larger than the caller's buffer is junk (GG_EFORMAT),
 * which the caller deletes
 */
static enum gg_status copy_out(const void *src, size_t n, void *val, size_t vsize, size_t *vlen)
{
	if (src == NULL)
		return GG_NOTFOUND;
	if (n > vsize)
		return GG_EFORMAT;
	memcpy(val, src, n);
	*vlen = n;
	return GG_OK;
}

/* key_command - VERB KEY on a live connection; NULL with *st set when it failed */
static redisReply *key_command(struct store_redis *s, const char *verb, const char *pkey,
			       size_t pklen, enum gg_status *st)
{
	const char *argv[2] = { verb, pkey };
	size_t len[2] = { strlen(verb), pklen };
	redisReply *r;

	if ((*st = gg_store_redis_connect(s)) != GG_OK)
		return NULL;
	if ((r = gg_store_redis_command(s, 2, argv, len, verb)) == NULL)
		*st = GG_EDB;
	return r;
}

/* redis_get - the buffer first (read-your-writes), then GET */
static enum gg_status redis_get(struct gg_store *gs, const void *key, size_t klen,
				void *val, size_t vsize, size_t *vlen)
{
	struct store_redis *s = (struct store_redis *)gs;
	struct wentry *w;
	struct rentry *re;
	redisReply *r;
	enum gg_status st;
	size_t pklen;
	char *pkey;

	*vlen = 0;
	if ((pkey = prefixed(key, klen, &pklen)) == NULL)
		return GG_ENOMEM;
	if (s->in_txn && (w = find(s, pkey, pklen)) != NULL) {
		free(pkey);
		return copy_out(w->val, w->vlen, val, vsize, vlen);
	}
	if (s->in_txn && (re = find_read(s, pkey, pklen)) != NULL) {
		free(pkey);
		return copy_out(re->val, re->vlen, val, vsize, vlen);
	}
	r = key_command(s, "GET", pkey, pklen, &st);
	free(pkey);
	if (r == NULL)
		return st;
	switch (r->type) {
	case REDIS_REPLY_NIL:
		st = GG_NOTFOUND;
		break;
	case REDIS_REPLY_STRING:
		if (r->len > vsize) {
			/* Larger than any record we write: junk, let the caller delete it. */
			st = GG_EFORMAT;
		} else {
			if (r->len > 0)
				memcpy(val, r->str, r->len);
			*vlen = r->len;
			st = GG_OK;
		}
		break;
	case REDIS_REPLY_ERROR:
		/* Another application's list or hash under our prefix is junk too. */
		if (r->str != NULL && strncmp(r->str, "WRONGTYPE", 9) == 0) {
			st = GG_EFORMAT;
			break;
		}
		/* FALLTHROUGH */
	default:
		st = gg_store_redis_error_reply(s, "GET", r);
		break;
	}
	freeReplyObject(r);
	return st;
}

/* redis_prefetch - one MGET for the keys a batch will read */
static void redis_prefetch(struct gg_store *gs, size_t n, const void *const *keys,
			   const size_t *klens)
{
	struct store_redis *s = (struct store_redis *)gs;
	const char **argv = NULL;
	size_t *len = NULL, i;
	redisReply *r = NULL;

	if (!s->in_txn || n == 0 || n > 100000 || gg_store_redis_connect(s) != GG_OK)
		return;
	clear_reads(s);
	if ((argv = calloc(n + 1, sizeof(*argv))) == NULL ||
	    (len = calloc(n + 1, sizeof(*len))) == NULL ||
	    (s->r = calloc(n, sizeof(*s->r))) == NULL)
		goto out;
	argv[0] = "MGET";
	len[0] = 4;
	for (i = 0; i < n; i++) {
		if ((s->r[i].key = prefixed(keys[i], klens[i], &s->r[i].klen)) == NULL)
			goto out;
		s->nr = i + 1;
		argv[i + 1] = s->r[i].key;
		len[i + 1] = s->r[i].klen;
	}
	if ((r = gg_store_redis_command(s, (int)(n + 1), argv, len, "MGET")) == NULL ||
	    r->type != REDIS_REPLY_ARRAY || r->elements != n)
		goto out;
	for (i = 0; i < n; i++) {
		const redisReply *e = r->element[i];
		if (e->type == REDIS_REPLY_STRING) {
			if ((s->r[i].val = malloc(e->len ? e->len : 1)) == NULL)
				goto out;
			memcpy(s->r[i].val, e->str, e->len);
			s->r[i].vlen = e->len;
		} else if (e->type != REDIS_REPLY_NIL) {
			goto out;	/* not a string (WRONGTYPE): let get() report it */
		}
	}
	free(argv);
	free(len);
	freeReplyObject(r);
	return;
out:
	/* Only a hint: keep nothing, get() asks key by key. */
	free(argv);
	free(len);
	if (r != NULL)
		freeReplyObject(r);
	clear_reads(s);
}

/* own_txn - a put or delete outside a transaction is a transaction of its own */
static enum gg_status own_txn(struct gg_store *gs, const void *key, size_t klen, const void *val,
			      size_t vlen, enum gg_status (*op)(struct gg_store *, const void *,
								size_t, const void *, size_t))
{
	enum gg_status st;

	if ((st = redis_begin(gs)) != GG_OK)
		return st;
	if ((st = op(gs, key, klen, val, vlen)) != GG_OK) {
		redis_abort(gs);
		return st;
	}
	return redis_commit(gs);
}

static enum gg_status redis_put(struct gg_store *gs, const void *key, size_t klen,
				const void *val, size_t vlen)
{
	struct store_redis *s = (struct store_redis *)gs;
	size_t pklen;
	char *pkey;

	if (!s->in_txn)
		return own_txn(gs, key, klen, val, vlen, redis_put);
	if ((pkey = prefixed(key, klen, &pklen)) == NULL)
		return GG_ENOMEM;
	return buffer(s, pkey, pklen, val != NULL ? val : "", vlen);
}

static enum gg_status redis_del(struct gg_store *gs, const void *key, size_t klen);

/* del_as_put - redis_del in the shape of own_txn()'s operation */
static enum gg_status del_as_put(struct gg_store *gs, const void *key, size_t klen,
				 const void *val, size_t vlen)
{
	(void)val;
	(void)vlen;
	return redis_del(gs, key, klen);
}

/* redis_del - buffered; EXISTS tells whether there is anything to delete */
static enum gg_status redis_del(struct gg_store *gs, const void *key, size_t klen)
{
	struct store_redis *s = (struct store_redis *)gs;
	struct wentry *w;
	enum gg_status st;
	redisReply *r;
	size_t pklen;
	char *pkey;

	if (!s->in_txn)
		return own_txn(gs, key, klen, NULL, 0, del_as_put);
	if ((pkey = prefixed(key, klen, &pklen)) == NULL)
		return GG_ENOMEM;
	if ((w = find(s, pkey, pklen)) != NULL) {
		free(pkey);
		if (w->val == NULL)
			return GG_NOTFOUND;
		/* Deleting what this transaction wrote: Redis may or may not have it. */
		free(w->val);
		w->val = NULL;
		w->vlen = 0;
		return GG_OK;
	}
	if ((r = key_command(s, "EXISTS", pkey, pklen, &st)) == NULL) {
		free(pkey);
		return st;
	}
	if (r->type == REDIS_REPLY_INTEGER && r->integer == 0) {
		st = GG_NOTFOUND;
	} else if (r->type == REDIS_REPLY_INTEGER) {
		st = buffer(s, pkey, pklen, NULL, 0);
		pkey = NULL;
	} else {
		st = gg_store_redis_error_reply(s, "EXISTS", r);
	}
	free(pkey);
	freeReplyObject(r);
	return st;
}

/* redis_expire_slice - Redis forgets records by itself (SET ... PX) */
static enum gg_status redis_expire_slice(struct gg_store *gs, uint64_t before, unsigned budget,
					 struct gg_expire_stats *st, int *done)
{
	(void)gs;
	(void)before;
	(void)budget;
	(void)st;
	*done = 1;
	return GG_OK;
}

static enum gg_status redis_checkpoint(struct gg_store *gs)
{
	(void)gs;
	return GG_OK;
}

static enum gg_status redis_maintain(struct gg_store *gs, long interval)
{
	(void)gs;
	(void)interval;
	return GG_OK;
}

static int redis_maintain_error(struct gg_store *gs, char *buf, size_t size)
{
	(void)gs;
	(void)buf;
	(void)size;
	return 0;
}

/* walk_batch - MGET the keys of one SCAN step and hand each record to cb; 1: stop */
static int walk_batch(struct store_redis *s, const redisReply *keys,
		      int (*cb)(void *, const void *, size_t, const void *, size_t), void *arg,
		      enum gg_status *st)
{
	const char **argv;
	size_t *len, n = 0, i;
	redisReply *r;
	int stop = 0;

	if (keys->elements == 0)
		return 0;
	argv = malloc((keys->elements + 1) * sizeof(*argv));
	len = malloc((keys->elements + 1) * sizeof(*len));
	if (argv == NULL || len == NULL) {
		free(argv);
		free(len);
		*st = GG_ENOMEM;
		return 1;
	}
	argv[n] = "MGET";
	len[n++] = 4;
	for (i = 0; i < keys->elements; i++) {
		const redisReply *k = keys->element[i];
		if (k == NULL || k->type != REDIS_REPLY_STRING || k->len < PREFIX_LEN ||
		    memcmp(k->str, GG_REDIS_PREFIX, PREFIX_LEN) != 0)
			continue;
		argv[n] = k->str;
		len[n++] = k->len;
	}
	if (n == 1) {
		free(argv);
		free(len);
		return 0;
	}
	r = gg_store_redis_command(s, (int)n, argv, len, "walk: MGET");
	if (r == NULL) {
		*st = GG_EDB;
		stop = 1;
	} else if (r->type == REDIS_REPLY_ERROR) {
		*st = gg_store_redis_error_reply(s, "walk: MGET", r);
		stop = 1;
	} else if (r->type != REDIS_REPLY_ARRAY || r->elements != n - 1) {
		*st = gg_store_redis_seterr(s, "walk: MGET: unexpected reply");
		stop = 1;
	} else {
		for (i = 0; i < r->elements && !stop; i++) {
			const redisReply *v = r->element[i];
			/* NIL: deleted or expired since SCAN, or not a string value. */
			if (v == NULL || v->type != REDIS_REPLY_STRING)
				continue;
			stop = cb(arg, argv[i + 1] + PREFIX_LEN, len[i + 1] - PREFIX_LEN,
				  v->str, v->len) != 0;
		}
	}
	if (r != NULL)
		freeReplyObject(r);
	free(argv);
	free(len);
	return stop;
}

/* redis_walk - SCAN MATCH gg:* and hand every record to cb, keys without the prefix */
static enum gg_status redis_walk(struct gg_store *gs, int (*cb)(void *, const void *, size_t,
	const void *, size_t), void *arg)
{
	struct store_redis *s = (struct store_redis *)gs;
	enum gg_status st;
	char cursor[32] = "0", match[] = GG_REDIS_PREFIX "*";

	if ((st = gg_store_redis_connect(s)) != GG_OK)
		return st;
	for (;;) {
		const char *argv[6] = { "SCAN", cursor, "MATCH", match, "COUNT", SCAN_COUNT };
		size_t len[6] = { 4, strlen(cursor), 5, strlen(match), 5, strlen(SCAN_COUNT) };
		redisReply *r = gg_store_redis_command(s, 6, argv, len, "walk: SCAN");
		const redisReply *next, *keys;
		int stop;

		if (r == NULL)
			return GG_EDB;
		if (r->type == REDIS_REPLY_ERROR) {
			st = gg_store_redis_error_reply(s, "walk: SCAN", r);
			freeReplyObject(r);
			return st;
		}
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
		    (next = r->element[0]) == NULL || (keys = r->element[1]) == NULL ||
		    next->type != REDIS_REPLY_STRING || next->len == 0 ||
		    next->len >= sizeof(cursor) || keys->type != REDIS_REPLY_ARRAY) {
			freeReplyObject(r);
			return gg_store_redis_seterr(s, "walk: SCAN: unexpected reply");
		}
		memcpy(cursor, next->str, next->len);
		cursor[next->len] = '\0';
		st = GG_OK;
		stop = walk_batch(s, keys, cb, arg, &st);
		freeReplyObject(r);
		if (stop || strcmp(cursor, "0") == 0)
			return st;
	}
}

static enum gg_status redis_set_lifetime(struct gg_store *gs, long seconds)
{
	struct store_redis *s = (struct store_redis *)gs;

	if (seconds <= 0)
		seconds = DEFAULT_LIFETIME;
	s->px = ((long long)seconds + GG_REDIS_LIFETIME_MARGIN) * 1000LL;
	return GG_OK;
}

static void redis_close(struct gg_store *gs)
{
	struct store_redis *s = (struct store_redis *)gs;

	clear(s);
	free(s->w);
	if (s->c != NULL)
		redisFree(s->c);
	free(s);
}

static const struct gg_store_ops redis_ops = {
	.name = "redis",
	.begin = redis_begin,
	.commit = redis_commit,
	.abort = redis_abort,
	.get = redis_get,
	.put = redis_put,
	.del = redis_del,
	.expire_slice = redis_expire_slice,
	.checkpoint = redis_checkpoint,
	.walk = redis_walk,
	.maintain = redis_maintain,
	.maintain_error = redis_maintain_error,
	.close = redis_close,
	.set_lifetime = redis_set_lifetime,
	.prefetch = redis_prefetch,
};


/* gg_store_redis_open - connect to a parsed address if the server answers */
enum gg_status gg_store_redis_open(const struct gg_store_spec *spec, struct gg_store **out,
				   char *err, size_t errsize)
{
	struct store_redis *s;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errsize, "out of memory");
		return GG_ENOMEM;
	}
	s->base.ops = &redis_ops;
	s->addr = *spec;
	s->addr.dir = NULL;
	(void)redis_set_lifetime(&s->base, 0);
	/* A server that is down now is the same as one that fails later: fail open. */
	(void)gg_store_redis_connect(s);
	s->base.error[0] = '\0';
	*out = &s->base;
	return GG_OK;
}

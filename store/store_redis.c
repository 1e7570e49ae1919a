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
 * connection is dropped and made again by the next operation, but only a
 * second after the failure, and while failures go on the wait doubles up
 * to 8 s: meanwhile operations fail at once, so a dead or hung Redis
 * costs each request next to nothing.  Connect and every command time
 * out after GG_REDIS_TIMEOUT_MS.  A reply of
 * an unexpected type never crashes: it is an error like any other.
 * Threads: one store belongs to one thread at a time.  It never logs.
 * Signals: a write to a connection the server closed raises SIGPIPE, so a
 * program using this store ignores SIGPIPE (the daemons do).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <hiredis/hiredis.h>

#include "store/store.h"
#include "store/store_redis.h"

#define PREFIX_LEN (sizeof(GG_REDIS_PREFIX) - 1)
#define DEFAULT_LIFETIME (35L * 86400)	/* greylist_max_age's default */
#define RETRY_MIN_NS 1000000000LL	/* at most one connection attempt a second... */
#define RETRY_MAX_SHIFT 3		/* ...and after failures in a row, one every 8 s */
#define SCAN_COUNT "500"

/* One prefetched value (val NULL: the key does not exist); the key carries the prefix. */
struct rentry {
	char *key;
	size_t klen;
	char *val;
	size_t vlen;
};

/* One buffered write; the key already carries the prefix. */
struct wentry {
	char *key;
	size_t klen;
	char *val;		/* NULL for a delete */
	size_t vlen;
};

struct store_redis {
	struct gg_store base;
	redisContext *c;
	/* Address. */
	int is_unix;
	char host[256];		/* host name or address (IPv6 without brackets) */
	int port;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	long db;
	char where[300];	/* for messages: "127.0.0.1:6379", "[::1]:6379", "/run/redis.sock" */
	/* Reconnection. */
	long long last_failure;	/* monotonic ns of the last failed connection or command */
	unsigned failures;	/* failures in a row, since the last good reply */
	char conn_error[256];	/* why the connection failed */
	/* Transaction. */
	int in_txn;
	struct wentry *w;
	size_t nw, capw;
	struct rentry *r;	/* prefetched values, in the order asked */
	size_t nr, rnext;	/* rnext: where the next get() probably is */
	long long px;		/* record lifetime in ms */
};

/* now_ns - the monotonic clock */
static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* seterr - remember the reason of a failure, prefixed with the server */
static enum gg_status seterr(struct store_redis *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static enum gg_status seterr(struct store_redis *s, const char *fmt, ...)
{
	char msg[200], full[sizeof(msg) + sizeof(s->where) + 16];
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "redis %s: %s", s->where, msg);
	/* Cut at the size of the error buffer. */
	n = strlen(full);
	if (n >= sizeof(s->base.error))
		n = sizeof(s->base.error) - 1;
	memcpy(s->base.error, full, n);
	s->base.error[n] = '\0';
	return GG_EDB;
}

/* drop - forget a connection that failed; the next operation makes a new one */
static enum gg_status drop(struct store_redis *s, const char *what)
{
	const char *why = "connection lost";

	if (s->c != NULL && s->c->err)
		why = s->c->errstr[0] ? s->c->errstr : "I/O error";
	if (what != NULL)
		seterr(s, "%s: %s", what, why);
	else
		seterr(s, "%s", why);
	if (s->c != NULL)
		redisFree(s->c);
	s->c = NULL;
	snprintf(s->conn_error, sizeof(s->conn_error), "%s", s->base.error);
	s->failures++;
	s->last_failure = now_ns();
	return GG_EDB;
}

/* safe_str - printable copy of a server's error text */
static const char *safe_str(const redisReply *r, char *buf, size_t size)
{
	size_t i, n = 0;

	if (r == NULL || r->str == NULL)
		return "(no text)";
	for (i = 0; i < r->len && n + 1 < size; i++)
		buf[n++] = (unsigned char)r->str[i] >= 0x20 && (unsigned char)r->str[i] < 0x7f ?
		    r->str[i] : '?';
	buf[n] = '\0';
	return buf;
}

/* command - send one command and read its reply; NULL means the connection is gone */
static redisReply *command(struct store_redis *s, int argc, const char **argv, const size_t *len,
			   const char *what)
{
	void *reply = NULL;

	if (redisAppendCommandArgv(s->c, argc, argv, len) != REDIS_OK ||
	    redisGetReply(s->c, &reply) != REDIS_OK || reply == NULL) {
		if (reply != NULL)
			freeReplyObject(reply);
		drop(s, what);
		return NULL;
	}
	s->failures = 0;
	return reply;
}

/* connect_now - make sure there is a connection, backing off after failures */
static enum gg_status connect_now(struct store_redis *s)
{
	struct timeval tv = { GG_REDIS_TIMEOUT_MS / 1000, (GG_REDIS_TIMEOUT_MS % 1000) * 1000 };
	redisContext *c;

	if (s->c != NULL)
		return GG_OK;
	/*
	 * A dead server costs a refused connection; a hung one or a lost
	 * network costs a timeout each time.  So wait a second after a
	 * failure, doubling up to 8 s while failures go on.
	 */
	if (s->failures > 0 &&
	    now_ns() - s->last_failure < RETRY_MIN_NS << (s->failures - 1 < RETRY_MAX_SHIFT ?
							  s->failures - 1 : RETRY_MAX_SHIFT)) {
		snprintf(s->base.error, sizeof(s->base.error), "%s", s->conn_error);
		return GG_EDB;
	}
	c = s->is_unix ? redisConnectUnixWithTimeout(s->path, tv) :
	    redisConnectWithTimeout(s->host, s->port, tv);
	if (c == NULL) {
		seterr(s, "cannot allocate a connection");
	} else if (c->err) {
		seterr(s, "%s", c->errstr[0] ? c->errstr : "cannot connect");
		redisFree(c);
	} else if (redisSetTimeout(c, tv) != REDIS_OK) {
		seterr(s, "cannot set the command timeout: %s", c->errstr);
		redisFree(c);
	} else {
		s->c = c;
		if (s->db != 0) {
			char num[24], e[120];
			const char *argv[2] = { "SELECT", num };
			size_t len[2] = { 6, 0 };
			redisReply *r;

			len[1] = (size_t)snprintf(num, sizeof(num), "%ld", s->db);
			if ((r = command(s, 2, argv, len, "SELECT")) == NULL)
				return GG_EDB;	/* drop() did the bookkeeping */
			if (r->type != REDIS_REPLY_STATUS) {
				if (r->type == REDIS_REPLY_ERROR)
					seterr(s, "SELECT %ld: %s", s->db, safe_str(r, e, sizeof(e)));
				else
					seterr(s, "SELECT %ld: unexpected reply type %d", s->db, r->type);
				freeReplyObject(r);
				redisFree(s->c);
				s->c = NULL;
				goto failed;
			}
			freeReplyObject(r);
		}
		return GG_OK;
	}
failed:
	snprintf(s->conn_error, sizeof(s->conn_error), "%s", s->base.error);
	s->failures++;
	s->last_failure = now_ns();
	return GG_EDB;
}

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
	if ((st = connect_now(s)) != GG_OK)
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
	char e[120];

	if (r->type == REDIS_REPLY_ERROR)
		return seterr(s, "EXEC: %s", safe_str(r, e, sizeof(e)));
	if (r->type != REDIS_REPLY_ARRAY)
		return seterr(s, "EXEC: transaction not applied (reply type %d)", r->type);
	if (r->elements != s->nw)
		return seterr(s, "EXEC: %zu results for %zu writes", r->elements, s->nw);
	for (size_t i = 0; i < r->elements; i++) {
		const redisReply *x = r->element[i];
		if (x == NULL)
			return seterr(s, "EXEC: missing result");
		if (x->type == REDIS_REPLY_ERROR)
			return seterr(s, "%s: %s", s->w[i].val ? "SET" : "DEL", safe_str(x, e, sizeof(e)));
		if (s->w[i].val != NULL ? x->type != REDIS_REPLY_STATUS : x->type != REDIS_REPLY_INTEGER)
			return seterr(s, "%s: unexpected reply type %d", s->w[i].val ? "SET" : "DEL",
				      x->type);
	}
	return GG_OK;
}

static enum gg_status redis_commit(struct gg_store *gs)
{
	struct store_redis *s = (struct store_redis *)gs;
	enum gg_status st = GG_OK;
	char px[24], e[120];
	size_t pxlen, i, nreplies;
	int broken = 0;

	if (!s->in_txn)
		return GG_OK;
	s->in_txn = 0;
	if (s->nw == 0)
		return GG_OK;
	if ((st = connect_now(s)) != GG_OK)
		goto out;
	pxlen = (size_t)snprintf(px, sizeof(px), "%lld", s->px);
	/* One pipeline: MULTI, the writes, EXEC; then read every reply in order. */
	if (redisAppendCommand(s->c, "MULTI") != REDIS_OK) {
		st = drop(s, "MULTI");
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
			st = drop(s, "commit");
			goto out;
		}
	}
	if (redisAppendCommand(s->c, "EXEC") != REDIS_OK) {
		st = drop(s, "EXEC");
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
			else if (r->type == REDIS_REPLY_ERROR)
				st = seterr(s, "%s: %s", i == 0 ? "MULTI" : "queueing a write",
					    safe_str(r, e, sizeof(e)));
			else if (r->type != REDIS_REPLY_STATUS)
				st = seterr(s, "%s: unexpected reply type %d",
					    i == 0 ? "MULTI" : "queueing a write", r->type);
		}
		freeReplyObject(r);
	}
	if (broken)
		st = drop(s, "commit");
	else
		s->failures = 0;
out:
	clear(s);
	return st;
}

/* redis_get - the buffer first (read-your-writes), then GET */
static enum gg_status redis_get(struct gg_store *gs, const void *key, size_t klen,
				void *val, size_t vsize, size_t *vlen)
{
	struct store_redis *s = (struct store_redis *)gs;
	struct wentry *w;
	redisReply *r;
	enum gg_status st;
	const char *argv[2];
	size_t len[2], pklen;
	char *pkey, e[120];

	*vlen = 0;
	if ((pkey = prefixed(key, klen, &pklen)) == NULL)
		return GG_ENOMEM;
	if (s->in_txn && (w = find(s, pkey, pklen)) != NULL) {
		free(pkey);
		if (w->val == NULL)
			return GG_NOTFOUND;
		if (w->vlen > vsize)
			return GG_EFORMAT;
		memcpy(val, w->val, w->vlen);
		*vlen = w->vlen;
		return GG_OK;
	}
	if (s->in_txn) {
		struct rentry *re = find_read(s, pkey, pklen);
		if (re != NULL) {
			free(pkey);
			if (re->val == NULL)
				return GG_NOTFOUND;
			if (re->vlen > vsize)
				return GG_EFORMAT;	/* junk: the caller deletes it */
			memcpy(val, re->val, re->vlen);
			*vlen = re->vlen;
			return GG_OK;
		}
	}
	if ((st = connect_now(s)) != GG_OK) {
		free(pkey);
		return st;
	}
	argv[0] = "GET";
	len[0] = 3;
	argv[1] = pkey;
	len[1] = pklen;
	r = command(s, 2, argv, len, "GET");
	free(pkey);
	if (r == NULL)
		return GG_EDB;
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
		if (r->str != NULL && strncmp(r->str, "WRONGTYPE", 9) == 0)
			st = GG_EFORMAT;
		else
			st = seterr(s, "GET: %s", safe_str(r, e, sizeof(e)));
		break;
	default:
		st = seterr(s, "GET: unexpected reply type %d", r->type);
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

	if (!s->in_txn || n == 0 || n > 100000 || connect_now(s) != GG_OK)
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
	if ((r = command(s, (int)(n + 1), argv, len, "MGET")) == NULL ||
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

static enum gg_status redis_put(struct gg_store *gs, const void *key, size_t klen,
				const void *val, size_t vlen)
{
	struct store_redis *s = (struct store_redis *)gs;
	enum gg_status st;
	size_t pklen;
	char *pkey;

	if (!s->in_txn) {
		/* Outside a transaction: a transaction of its own. */
		if ((st = redis_begin(gs)) != GG_OK)
			return st;
		if ((st = redis_put(gs, key, klen, val, vlen)) != GG_OK) {
			redis_abort(gs);
			return st;
		}
		return redis_commit(gs);
	}
	if ((pkey = prefixed(key, klen, &pklen)) == NULL)
		return GG_ENOMEM;
	return buffer(s, pkey, pklen, val != NULL ? val : "", vlen);
}

/* redis_del - buffered; EXISTS tells whether there is anything to delete */
static enum gg_status redis_del(struct gg_store *gs, const void *key, size_t klen)
{
	struct store_redis *s = (struct store_redis *)gs;
	struct wentry *w;
	enum gg_status st;
	redisReply *r;
	const char *argv[2];
	size_t len[2], pklen;
	char *pkey, e[120];

	if (!s->in_txn) {
		if ((st = redis_begin(gs)) != GG_OK)
			return st;
		if ((st = redis_del(gs, key, klen)) != GG_OK) {
			redis_abort(gs);
			return st;
		}
		return redis_commit(gs);
	}
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
	if ((st = connect_now(s)) != GG_OK) {
		free(pkey);
		return st;
	}
	argv[0] = "EXISTS";
	len[0] = 6;
	argv[1] = pkey;
	len[1] = pklen;
	if ((r = command(s, 2, argv, len, "EXISTS")) == NULL) {
		free(pkey);
		return GG_EDB;
	}
	if (r->type == REDIS_REPLY_INTEGER && r->integer == 0) {
		st = GG_NOTFOUND;
	} else if (r->type == REDIS_REPLY_INTEGER) {
		st = buffer(s, pkey, pklen, NULL, 0);
		pkey = NULL;
	} else if (r->type == REDIS_REPLY_ERROR) {
		st = seterr(s, "EXISTS: %s", safe_str(r, e, sizeof(e)));
	} else {
		st = seterr(s, "EXISTS: unexpected reply type %d", r->type);
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
	char e[120];

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
	r = command(s, (int)n, argv, len, "walk: MGET");
	if (r == NULL) {
		*st = GG_EDB;
		stop = 1;
	} else if (r->type == REDIS_REPLY_ERROR) {
		*st = seterr(s, "walk: MGET: %s", safe_str(r, e, sizeof(e)));
		stop = 1;
	} else if (r->type != REDIS_REPLY_ARRAY || r->elements != n - 1) {
		*st = seterr(s, "walk: MGET: unexpected reply");
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
	char cursor[32] = "0", match[] = GG_REDIS_PREFIX "*", e[120];

	if ((st = connect_now(s)) != GG_OK)
		return st;
	for (;;) {
		const char *argv[6] = { "SCAN", cursor, "MATCH", match, "COUNT", SCAN_COUNT };
		size_t len[6] = { 4, strlen(cursor), 5, strlen(match), 5, strlen(SCAN_COUNT) };
		redisReply *r = command(s, 6, argv, len, "walk: SCAN");
		const redisReply *next, *keys;
		int stop;

		if (r == NULL)
			return GG_EDB;
		if (r->type == REDIS_REPLY_ERROR) {
			st = seterr(s, "walk: SCAN: %s", safe_str(r, e, sizeof(e)));
			freeReplyObject(r);
			return st;
		}
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
		    (next = r->element[0]) == NULL || (keys = r->element[1]) == NULL ||
		    next->type != REDIS_REPLY_STRING || next->len == 0 ||
		    next->len >= sizeof(cursor) || keys->type != REDIS_REPLY_ARRAY) {
			freeReplyObject(r);
			return seterr(s, "walk: SCAN: unexpected reply");
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

/* all_digits - s[0..len) is a non-empty run of decimal digits */
static int all_digits(const char *p, size_t len)
{
	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (p[i] < '0' || p[i] > '9')
			return 0;
	return 1;
}

/* parse_num - decimal digits in [min, max]; -1 if not */
static long parse_num(const char *p, size_t len, long min, long max)
{
	long v = 0;

	if (!all_digits(p, len) || len > 10)
		return -1;
	for (size_t i = 0; i < len; i++)
		v = v * 10 + (p[i] - '0');
	return v < min || v > max ? -1 : v;
}

#define SYNTAX "expected redis:HOST:PORT[/DB], redis:[IPV6]:PORT[/DB] or redis:unix:/PATH[/DB]"

/* parse_spec - fill the address from "redis:..."; 0 or -1 with err set */
static int parse_spec(struct store_redis *s, const char *spec, char *err, size_t errsize)
{
	const char *a = spec + 6, *slash, *colon, *hend;
	size_t alen;

	if (strncmp(spec, "redis:", 6) != 0 || *a == '\0')
		goto bad;
	alen = strlen(a);
	if (strncmp(a, "unix:", 5) == 0) {
		const char *path = a + 5;
		size_t plen = strlen(path);

		if (path[0] != '/') {
			snprintf(err, errsize, "database = %s: the socket must be an absolute path (%s)",
				 spec, SYNTAX);
			return -1;
		}
		/* A last component made only of digits is the database number. */
		slash = strrchr(path, '/');
		if (slash != path && all_digits(slash + 1, strlen(slash + 1))) {
			if ((s->db = parse_num(slash + 1, strlen(slash + 1), 0, 2147483647L)) < 0)
				goto bad_db;
			plen = (size_t)(slash - path);
		}
		if (plen >= sizeof(s->path)) {
			snprintf(err, errsize, "database = %s: the socket path is longer than %zu bytes",
				 spec, sizeof(s->path) - 1);
			return -1;
		}
		if (plen < 2 || path[plen - 1] == '/')
			goto bad;
		memcpy(s->path, path, plen);
		s->path[plen] = '\0';
		s->is_unix = 1;
		snprintf(s->where, sizeof(s->where), "%s", s->path);
		return 0;
	}
	/* [IPV6]:PORT or HOST:PORT, then an optional /DB. */
	if ((slash = strchr(a, '/')) != NULL) {
		if ((s->db = parse_num(slash + 1, strlen(slash + 1), 0, 2147483647L)) < 0)
			goto bad_db;
		alen = (size_t)(slash - a);
	}
	if (a[0] == '[') {
		unsigned char buf[16];
		if ((hend = memchr(a, ']', alen)) == NULL || (size_t)(hend - a - 1) >= sizeof(s->host))
			goto bad;
		memcpy(s->host, a + 1, (size_t)(hend - a - 1));
		s->host[hend - a - 1] = '\0';
		if (inet_pton(AF_INET6, s->host, buf) != 1) {
			snprintf(err, errsize, "database = %s: '%s' is not an IPv6 address (%s)", spec,
				 s->host, SYNTAX);
			return -1;
		}
		colon = hend + 1;
		if (colon >= a + alen || *colon != ':')
			goto bad;
	} else {
		if ((colon = memchr(a, ':', alen)) == NULL || colon == a ||
		    (size_t)(colon - a) >= sizeof(s->host))
			goto bad;
		for (const char *p = a; p < colon; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			      (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == '_'))
				goto bad;
		memcpy(s->host, a, (size_t)(colon - a));
		s->host[colon - a] = '\0';
	}
	if ((s->port = (int)parse_num(colon + 1, (size_t)(a + alen - colon - 1), 1, 65535)) < 0) {
		snprintf(err, errsize, "database = %s: the port must be a number from 1 to 65535 (%s)",
			 spec, SYNTAX);
		return -1;
	}
	snprintf(s->where, sizeof(s->where), a[0] == '[' ? "[%s]:%d" : "%s:%d", s->host, s->port);
	return 0;
bad_db:
	snprintf(err, errsize, "database = %s: the database number after '/' must be a number "
		 "from 0 to 2147483647 (%s)", spec, SYNTAX);
	return -1;
bad:
	snprintf(err, errsize, "database = %s: not a Redis address (%s)", spec, SYNTAX);
	return -1;
}

/* gg_store_redis_check - the address alone, nothing connected */
enum gg_status gg_store_redis_check(const char *spec, char *err, size_t errsize)
{
	struct store_redis *s = calloc(1, sizeof(*s));
	int rc;

	if (s == NULL) {
		snprintf(err, errsize, "out of memory");
		return GG_ENOMEM;
	}
	rc = parse_spec(s, spec, err, errsize);
	free(s);
	return rc == 0 ? GG_OK : GG_EINVAL;
}

/* gg_store_redis_open - parse the address and connect if the server answers */
enum gg_status gg_store_redis_open(const char *spec, struct gg_store **out,
				   char *err, size_t errsize)
{
	struct store_redis *s;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errsize, "out of memory");
		return GG_ENOMEM;
	}
	s->base.ops = &redis_ops;
	(void)redis_set_lifetime(&s->base, 0);
	if (parse_spec(s, spec, err, errsize) != 0) {
		free(s);
		return GG_EINVAL;
	}
	/* A server that is down now is the same as one that fails later: fail open. */
	(void)connect_now(s);
	s->base.error[0] = '\0';
	*out = &s->base;
	return GG_OK;
}

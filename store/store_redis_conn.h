/*
 * store_redis_conn.h - inside the Redis backend: the store and its connection
 *
 * Shared by store_redis.c (transactions, records, walk) and
 * store_redis_conn.c (connecting, reconnecting with back-off, one command,
 * error texts); nothing else includes it.
 *
 * The connection: gg_store_redis_connect() makes sure there is one, but
 * after a failure tries again only a second later, the wait doubling up
 * to 8 s while failures go on, so a dead Redis costs a request next to
 * nothing.  gg_store_redis_command() sends one command and returns its
 * reply, or NULL after dropping the connection (the reason is then in
 * s->base.error).  Every error text is "redis WHERE: what happened".
 */
#ifndef GG_STORE_REDIS_CONN_H
#define GG_STORE_REDIS_CONN_H

#include <stddef.h>
#include <hiredis/hiredis.h>

#include "store/store.h"
#include "store/store_spec.h"

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
	struct gg_store_spec addr;	/* host:port or unix path, db, "where" for messages */
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

/* Remember the reason of a failure, prefixed with the server; returns GG_EDB. */
enum gg_status gg_store_redis_seterr(struct store_redis *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Forget a connection that failed (what: the command); returns GG_EDB. */
enum gg_status gg_store_redis_drop(struct store_redis *s, const char *what);
/* A reply that is not what was expected: "what: the server's error" or its type; GG_EDB. */
enum gg_status gg_store_redis_error_reply(struct store_redis *s, const char *what,
					  const redisReply *r);
/* Send one command and read its reply; NULL means the connection is gone. */
redisReply *gg_store_redis_command(struct store_redis *s, int argc, const char **argv,
				   const size_t *len, const char *what);
/* Make sure there is a connection (SELECTing the db), backing off after failures. */
enum gg_status gg_store_redis_connect(struct store_redis *s);

#endif

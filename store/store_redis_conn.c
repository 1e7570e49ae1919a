/*
 * store_redis_conn.c - the Redis backend's connection (see store_redis_conn.h)
 *
 * Connect and every command time out after GG_REDIS_TIMEOUT_MS.  A failed
 * connection or command drops the connection; the next operation makes a
 * new one, but only a second after the failure, and while failures go on
 * the wait doubles up to 8 s: meanwhile operations fail at once with the
 * reason of the last failure.  Nothing here logs.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <hiredis/hiredis.h>

#include "lib/clock.h"
#include "store/store_redis.h"
#include "store/store_redis_conn.h"

#define RETRY_MIN_NS 1000000000LL	/* at most one connection attempt a second... */
#define RETRY_MAX_SHIFT 3		/* ...and after failures in a row, one every 8 s */

/* gg_store_redis_seterr - remember the reason of a failure, prefixed with the server */
enum gg_status gg_store_redis_seterr(struct store_redis *s, const char *fmt, ...)
{
	char msg[200], full[sizeof(msg) + sizeof(s->addr.where) + 16];
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "redis %s: %s", s->addr.where, msg);
	/* Cut at the size of the error buffer. */
	n = strlen(full);
	if (n >= sizeof(s->base.error))
		n = sizeof(s->base.error) - 1;
	memcpy(s->base.error, full, n);
	s->base.error[n] = '\0';
	return GG_EDB;
}

/* gg_store_redis_drop - forget a connection that failed; the next operation makes a new one */
enum gg_status gg_store_redis_drop(struct store_redis *s, const char *what)
{
	const char *why = "connection lost";

	if (s->c != NULL && s->c->err)
		why = s->c->errstr[0] ? s->c->errstr : "I/O error";
	if (what != NULL)
		gg_store_redis_seterr(s, "%s: %s", what, why);
	else
		gg_store_redis_seterr(s, "%s", why);
	if (s->c != NULL)
		redisFree(s->c);
	s->c = NULL;
	snprintf(s->conn_error, sizeof(s->conn_error), "%s", s->base.error);
	s->failures++;
	s->last_failure = gg_clock_ns();
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

/* gg_store_redis_error_reply - "what: the server's error", or "what: unexpected reply type N" */
enum gg_status gg_store_redis_error_reply(struct store_redis *s, const char *what,
					  const redisReply *r)
{
	char e[120];

	if (r->type == REDIS_REPLY_ERROR)
		return gg_store_redis_seterr(s, "%s: %s", what, safe_str(r, e, sizeof(e)));
	return gg_store_redis_seterr(s, "%s: unexpected reply type %d", what, r->type);
}

/* gg_store_redis_command - one command and its reply; NULL: the connection is gone */
redisReply *gg_store_redis_command(struct store_redis *s, int argc, const char **argv,
				   const size_t *len, const char *what)
{
	void *reply = NULL;

	if (redisAppendCommandArgv(s->c, argc, argv, len) != REDIS_OK ||
	    redisGetReply(s->c, &reply) != REDIS_OK || reply == NULL) {
		if (reply != NULL)
			freeReplyObject(reply);
		gg_store_redis_drop(s, what);
		return NULL;
	}
	s->failures = 0;
	return reply;
}

/* gg_store_redis_connect - make sure there is a connection, backing off after failures */
enum gg_status gg_store_redis_connect(struct store_redis *s)
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
	    gg_clock_ns() - s->last_failure < RETRY_MIN_NS << (s->failures - 1 < RETRY_MAX_SHIFT ?
							  s->failures - 1 : RETRY_MAX_SHIFT)) {
		snprintf(s->base.error, sizeof(s->base.error), "%s", s->conn_error);
		return GG_EDB;
	}
	c = s->addr.is_unix ? redisConnectUnixWithTimeout(s->addr.path, tv) :
	    redisConnectWithTimeout(s->addr.host, s->addr.port, tv);
	if (c == NULL) {
		gg_store_redis_seterr(s, "cannot allocate a connection");
	} else if (c->err) {
		gg_store_redis_seterr(s, "%s", c->errstr[0] ? c->errstr : "cannot connect");
		redisFree(c);
	} else if (redisSetTimeout(c, tv) != REDIS_OK) {
		gg_store_redis_seterr(s, "cannot set the command timeout: %s", c->errstr);
		redisFree(c);
	} else {
		s->c = c;
		if (s->addr.db != 0) {
			char num[24], what[40];
			const char *argv[2] = { "SELECT", num };
			size_t len[2] = { 6, 0 };
			redisReply *r;

			len[1] = (size_t)snprintf(num, sizeof(num), "%ld", s->addr.db);
			if ((r = gg_store_redis_command(s, 2, argv, len, "SELECT")) == NULL)
				return GG_EDB;	/* dropped, with the bookkeeping */
			if (r->type != REDIS_REPLY_STATUS) {
				snprintf(what, sizeof(what), "SELECT %ld", s->addr.db);
				gg_store_redis_error_reply(s, what, r);
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
	s->last_failure = gg_clock_ns();
	return GG_EDB;
}

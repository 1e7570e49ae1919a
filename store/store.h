/*
 * store.h - the triplet store interface
 *
 * A small table of function pointers so Berkeley DB (embedded default),
 * Redis (shared between MX hosts) and test stores are interchangeable.
 * Keys and values are opaque bytes (see triplet.h and record.h).
 *
 * Every operation happens inside a transaction: gg_store_begin(), then
 * get/put/del, then commit or abort.  A backend without transactions makes
 * them no-ops.  Errors are returned as GG_EDB with a human-readable reason
 * available from gg_store_error() until the next call; the store never logs.
 * What an admin should hear about from open (a database upgraded to a new
 * format) is left in notice, for the caller to log; summary says how it
 * was opened (the cache size), for a daemon's start-up line.
 *
 * Lifetime: gg_store_set_lifetime() tells the store how long a record
 * stays useful without being written (greylist_max_age).  A backend that
 * expires records by itself (Redis) keeps each one a margin longer than
 * that; Berkeley DB ignores it and relies on the expiry walk below.
 *
 * Expiry: gg_store_expire_slice() examines at most `budget` records from
 * where the previous slice stopped, deletes records whose last activity is
 * older than `before` and records that do not decode, and reports whether
 * the walk reached the end.  Call it from a timer so a large database never
 * stalls requests.
 */
#ifndef GG_STORE_H
#define GG_STORE_H

#include <stddef.h>
#include <stdint.h>
#include "lib/status.h"

#define GG_KEY_MAX 1024		/* longest key a store takes (see triplet.h) */

struct gg_store;

struct gg_expire_stats {
	unsigned long examined;
	unsigned long expired;
	unsigned long corrupt;
};

struct gg_store_ops {
	const char *name;
	enum gg_status (*begin)(struct gg_store *);
	enum gg_status (*commit)(struct gg_store *);
	void (*abort)(struct gg_store *);
	enum gg_status (*get)(struct gg_store *, const void *key, size_t klen,
			      void *val, size_t vsize, size_t *vlen);
	enum gg_status (*put)(struct gg_store *, const void *key, size_t klen,
			      const void *val, size_t vlen);
	enum gg_status (*del)(struct gg_store *, const void *key, size_t klen);
	enum gg_status (*expire_slice)(struct gg_store *, uint64_t before, unsigned budget,
				       struct gg_expire_stats *, int *done);
	enum gg_status (*checkpoint)(struct gg_store *);
	/* Walk every record (admin tools); stops early when cb returns non-zero. */
	enum gg_status (*walk)(struct gg_store *, int (*cb)(void *arg, const void *key,
		size_t klen, const void *val, size_t vlen), void *arg);
	/* Start background maintenance (checkpoints every interval seconds); may be NULL. */
	enum gg_status (*maintain)(struct gg_store *, long interval);
	/* Copy out the maintenance thread's last error, if any; returns 1 if there was one. */
	int (*maintain_error)(struct gg_store *, char *buf, size_t size);
	void (*close)(struct gg_store *);
	/* Records unwritten for this many seconds may be forgotten; may be NULL. */
	enum gg_status (*set_lifetime)(struct gg_store *, long seconds);
	/*
	 * Inside a transaction: read these keys now, in one go, so the get()s
	 * of them that follow are answered from memory until commit or abort
	 * (a server round trip per batch instead of one per key).  A hint: on
	 * error nothing is kept and get() asks key by key.  May be NULL.
	 */
	void (*prefetch)(struct gg_store *, size_t n, const void *const *keys, const size_t *klens);
};

struct gg_store {
	const struct gg_store_ops *ops;
	char error[256];	/* reason of the last failure */
	char notice[512];	/* a line for the log that open left (an upgrade), or "" */
	char summary[256];	/* how the store was opened (its cache), for a start line */
};

/*
 * Open a store from its specification: "bdb:/var/lib/greygate" or
 * "redis:127.0.0.1:6379" (see store_spec.h for every form).
 * On failure *out is NULL and err holds the reason.
 */
enum gg_status gg_store_open(const char *spec, size_t cache_mb, struct gg_store **out,
			     char *err, size_t errsize);

/* Check a specification's syntax only, opening nothing (for -t). */
enum gg_status gg_store_check_spec(const char *spec, char *err, size_t errsize);

/*
 * The directory of a valid "bdb:DIRECTORY" spec (pointing into spec), or
 * NULL for any other: what the daemon's user must own before privileges
 * are dropped.
 */
const char *gg_store_bdb_dir(const char *spec);

static inline enum gg_status gg_store_begin(struct gg_store *s) { return s->ops->begin(s); }
static inline enum gg_status gg_store_commit(struct gg_store *s) { return s->ops->commit(s); }
static inline void gg_store_abort(struct gg_store *s) { s->ops->abort(s); }
static inline void gg_store_close(struct gg_store *s) { if (s) s->ops->close(s); }
static inline enum gg_status gg_store_checkpoint_now(struct gg_store *s) { return s->ops->checkpoint(s); }
static inline enum gg_status gg_store_set_lifetime(struct gg_store *s, long seconds)
{
	return s->ops->set_lifetime != NULL ? s->ops->set_lifetime(s, seconds) : GG_OK;
}
static inline const char *gg_store_error(const struct gg_store *s) { return s->error; }
static inline int gg_store_can_prefetch(const struct gg_store *s) { return s->ops->prefetch != NULL; }
static inline void gg_store_prefetch(struct gg_store *s, size_t n, const void *const *keys,
				     const size_t *klens)
{
	if (s->ops->prefetch != NULL)
		s->ops->prefetch(s, n, keys, klens);
}

#endif

/*
 * policy_proto.h - Postfix policy delegation protocol: request parsing, and
 *                  the pooled memory connections read and parse into
 *
 * A request is a sequence of "name=value" lines ended by an empty line.
 * The connection layer frames lines (it enforces the line-length limit
 * without buffering an over-long line, and reports it here with
 * gg_policy_overlong()); this module applies the other limits, maps known
 * attributes onto a struct gg_request and ignores unknown ones, because
 * Postfix keeps adding attributes.  Cost per line: one pass over it for
 * control bytes, eight bytes at a time, a memchr for '=', and a switch on
 * the name's length with at most one compare, so the twenty-odd attributes
 * of a Postfix request that greygate does not use cost little.
 *
 * A request with any problem is still read to its end so the stream stays
 * framed; the first problem is recorded and the caller answers DUNNO.
 *
 * Memory: a daemon keeps one struct gg_policy_pool for all its connections.
 * A connection holds an input buffer only while bytes of it are buffered
 * and a struct gg_policy_req only while a request is being parsed; both
 * come from the pool and go back to it, so an idle connection holds
 * neither.  An input buffer starts at GG_POLICY_INBUF_MIN bytes (a Postfix
 * 3.7 request is 600-900) and doubles, when it is full, up to the cap the
 * caller gives (policy_max_line_length + 2: the longest line it accepts
 * with its CR LF); a grown buffer is freed when it empties, one of the
 * starting size is kept for the next reader.  The pool keeps at most
 * GG_POLICY_POOL_MAX of each; it is not locked (one event loop).
 */
#ifndef GG_POLICY_PROTO_H
#define GG_POLICY_PROTO_H

#include <stddef.h>
#include "engine/request.h"
#include "lib/status.h"

#define GG_POLICY_INBUF_MIN 2048	/* an input buffer's first size */
#define GG_POLICY_POOL_MAX 32		/* idle buffers (and requests) kept for reuse */

struct gg_policy_limits {
	size_t max_line;	/* bytes per line, without the newline */
	size_t max_attributes;	/* lines per request */
	size_t max_request;	/* bytes per request */
};

enum gg_policy_error {
	GG_PE_NONE = 0,
	GG_PE_SYNTAX,		/* a line without '=', or with an empty name */
	GG_PE_BINARY,		/* NUL or control bytes in a line */
	GG_PE_LINE,		/* a line longer than max_line */
	GG_PE_ATTRIBUTES,	/* more than max_attributes lines */
	GG_PE_SIZE,		/* more than max_request bytes */
	GG_PE_VALUE,		/* a known attribute's value does not fit or is invalid */
};

struct gg_policy_req {
	struct gg_request req;
	size_t nattrs;
	size_t size;
	enum gg_policy_error error;
	char errdetail[96];	/* sanitised excerpt of what was wrong */
};

/* A connection's input: data[0..len) is buffered; data is NULL while empty. */
struct gg_policy_inbuf {
	char *data;
	size_t len, cap;
};

struct gg_policy_pool {
	char *bufs[GG_POLICY_POOL_MAX];			/* idle, GG_POLICY_INBUF_MIN each */
	size_t nbufs;
	struct gg_policy_req *reqs[GG_POLICY_POOL_MAX];	/* idle */
	size_t nreqs;
	/* Held by connections now (for the statistics line and the tests). */
	size_t bufs_used, buf_bytes, reqs_used;
};

/* An empty pool. */
void gg_policy_pool_init(struct gg_policy_pool *pool);
/* Free what the pool keeps (every buffer and request must be back). */
void gg_policy_pool_free(struct gg_policy_pool *pool);
/*
 * Where to read next into b and how much (*room > 0): takes a buffer if b
 * has none, doubles a full one up to max bytes (a full buffer of max bytes
 * is the caller's bug: GG_EINVAL).  GG_ENOMEM leaves b as it was.
 */
enum gg_status gg_policy_inbuf_room(struct gg_policy_pool *pool, struct gg_policy_inbuf *b,
				    size_t max, char **at, size_t *room);
/* The first n buffered bytes were framed: drop them; an emptied buffer goes back. */
void gg_policy_inbuf_consume(struct gg_policy_pool *pool, struct gg_policy_inbuf *b, size_t n);
/* Give the buffer back, buffered bytes and all (the connection closes). */
void gg_policy_inbuf_release(struct gg_policy_pool *pool, struct gg_policy_inbuf *b);
/* A request struct, begun (gg_policy_begin()); NULL if out of memory. */
struct gg_policy_req *gg_policy_req_take(struct gg_policy_pool *pool);
/* Give a request struct back (NULL is fine). */
void gg_policy_req_give(struct gg_policy_pool *pool, struct gg_policy_req *pr);

/* Start a new request. */
void gg_policy_begin(struct gg_policy_req *pr);
/*
 * Feed one line (without its '\n'; a trailing '\r' is ignored).  Returns 1
 * when this line was the empty line that ends the request, 0 otherwise.
 */
int gg_policy_line(struct gg_policy_req *pr, const struct gg_policy_limits *lim,
		   const char *line, size_t len);
/* Record that a line of len bytes (so far) was too long and was discarded. */
void gg_policy_overlong(struct gg_policy_req *pr, size_t len);
/* Short description of an error, for log lines. */
const char *gg_policy_error_str(enum gg_policy_error e);

#endif

/*
 * policy_proto.c - policy delegation request parsing, and the pool of
 *                  connection memory it parses from and into (see policy_proto.h)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policyd/policy_proto.h"
#include "lib/util.h"

/*
 * lookup - 1 and the field *f a known attribute name fills, or 0
 *
 * A switch on the name's length, then one memcmp (its length is a constant,
 * so the compiler inlines it); where two known names share a length their
 * first bytes differ.  An unknown name (most of what Postfix sends) costs a
 * jump and at most one compare.
 */
static int lookup(const char *n, size_t len, enum gg_req_field *f)
{
#define IS(s, field) (memcmp(n, s, sizeof(s) - 1) == 0 ? (*f = (field), 1) : 0)
	switch (len) {
	case 6:		return IS("sender", GG_RF_SENDER);
	case 7:		return IS("request", GG_RF_REQUEST);
	case 8:		return n[0] == 'i' ? IS("instance", GG_RF_INSTANCE)
					   : IS("queue_id", GG_RF_QUEUE_ID);
	case 9:		return n[0] == 'h' ? IS("helo_name", GG_RF_HELO_NAME)
					   : IS("recipient", GG_RF_RECIPIENT);
	case 11:	return IS("client_name", GG_RF_CLIENT_NAME);
	case 13:	return IS("sasl_username", GG_RF_SASL_USERNAME);
	case 14:	return n[0] == 'p' ? IS("protocol_state", GG_RF_PROTOCOL_STATE)
					   : IS("client_address", GG_RF_CLIENT_ADDRESS);
	case 19:	return IS("reverse_client_name", GG_RF_REVERSE_CLIENT_NAME);
	default:	return 0;
	}
#undef IS
}

/* bad_byte - NUL and the other control bytes but tab, and DEL */
static inline int bad_byte(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

/*
 * has_bad - does line[0..len) hold a bad byte?
 *
 * Eight bytes at a time: (x - 0x20..20) & ~x & 0x80..80 is non-zero exactly
 * when some byte of x is below 0x20 (the classic "hasless", exact for any
 * bound up to 0x80), and the same test on x ^ 0x7f..7f with bound 1 finds
 * DEL.  Only a word that may hold a tab, which is allowed, is looked at byte
 * by byte, so the answer is the same as testing every byte with bad_byte().
 */
static int has_bad(const char *line, size_t len)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t x, y;

		memcpy(&x, line + i, 8);
		y = x ^ (ones * 0x7f);
		if ((((x - ones * 0x20) & ~x) | ((y - ones) & ~y)) & highs) {
			for (size_t j = i; j < i + 8; j++)
				if (bad_byte((unsigned char)line[j]))
					return 1;
		}
	}
	for (; i < len; i++)
		if (bad_byte((unsigned char)line[i]))
			return 1;
	return 0;
}

/* gg_policy_begin - reset for the next request */
void gg_policy_begin(struct gg_policy_req *pr)
{
	gg_request_init(&pr->req);
	pr->nattrs = 0;
	pr->size = 0;
	pr->error = GG_PE_NONE;
	pr->errdetail[0] = '\0';
}

/* fail - keep the first problem of a request */
static void fail(struct gg_policy_req *pr, enum gg_policy_error e, const char *what, size_t len)
{
	if (pr->error != GG_PE_NONE)
		return;
	pr->error = e;
	gg_sanitize(pr->errdetail, sizeof(pr->errdetail), what, len, 60);
}

/* gg_policy_line - one line of a request */
int gg_policy_line(struct gg_policy_req *pr, const struct gg_policy_limits *lim,
		   const char *line, size_t len)
{
	const char *eq;
	size_t nlen;
	enum gg_req_field f;

	pr->size += len + 1;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0)
		return 1;
	if (pr->error == GG_PE_SIZE || pr->error == GG_PE_ATTRIBUTES)
		return 0;	/* already refused: just find the end */
	if (pr->size > lim->max_request) {
		fail(pr, GG_PE_SIZE, line, len);
		return 0;
	}
	if (++pr->nattrs > lim->max_attributes) {
		fail(pr, GG_PE_ATTRIBUTES, line, len);
		return 0;
	}
	if (len > lim->max_line) {
		fail(pr, GG_PE_LINE, line, len);
		return 0;
	}
	if (has_bad(line, len)) {
		fail(pr, GG_PE_BINARY, line, len);
		return 0;
	}
	if ((eq = memchr(line, '=', len)) == NULL || eq == line) {
		fail(pr, GG_PE_SYNTAX, line, len);
		return 0;
	}
	nlen = (size_t)(eq - line);
	if (lookup(line, nlen, &f)) {
		/* Unknown attributes are ignored: Postfix keeps adding them. */
		enum gg_status st = gg_request_set(&pr->req, f, eq + 1, len - nlen - 1);
		if (st == GG_EINVAL || (st != GG_OK && f == GG_RF_CLIENT_ADDRESS))
			fail(pr, GG_PE_VALUE, line, len);
	}
	return 0;
}

/* gg_policy_overlong - a line was cut off by the framing layer */
void gg_policy_overlong(struct gg_policy_req *pr, size_t len)
{
	pr->size += len;
	fail(pr, GG_PE_LINE, "(line discarded)", 16);
}

/* gg_policy_error_str - log text */
const char *gg_policy_error_str(enum gg_policy_error e)
{
	switch (e) {
	case GG_PE_NONE:	return "no error";
	case GG_PE_SYNTAX:	return "malformed attribute line (expected name=value)";
	case GG_PE_BINARY:	return "control characters in attribute line";
	case GG_PE_LINE:	return "attribute line longer than policy_max_line_length";
	case GG_PE_ATTRIBUTES:	return "more attributes than policy_max_attributes";
	case GG_PE_SIZE:	return "request larger than policy_max_request_size";
	case GG_PE_VALUE:	return "attribute value too long for its field";
	}
	return "unknown error";
}

/* gg_policy_pool_init - nothing kept, nothing held */
void gg_policy_pool_init(struct gg_policy_pool *pool)
{
	memset(pool, 0, sizeof(*pool));
}

/* gg_policy_pool_free - free what is kept */
void gg_policy_pool_free(struct gg_policy_pool *pool)
{
	while (pool->nbufs > 0)
		free(pool->bufs[--pool->nbufs]);
	while (pool->nreqs > 0)
		free(pool->reqs[--pool->nreqs]);
}

/* gg_policy_inbuf_room - a buffer to read into, grown when full */
enum gg_status gg_policy_inbuf_room(struct gg_policy_pool *pool, struct gg_policy_inbuf *b,
				    size_t max, char **at, size_t *room)
{
	if (b->data == NULL) {
		if (pool->nbufs > 0)
			b->data = pool->bufs[--pool->nbufs];
		else if ((b->data = malloc(GG_POLICY_INBUF_MIN)) == NULL)
			return GG_ENOMEM;
		b->cap = GG_POLICY_INBUF_MIN;
		b->len = 0;
		pool->bufs_used++;
		pool->buf_bytes += b->cap;
	} else if (b->len == b->cap) {
		size_t ncap = b->cap * 2 < max ? b->cap * 2 : max;
		char *nd;

		if (ncap <= b->cap)
			return GG_EINVAL;
		if ((nd = realloc(b->data, ncap)) == NULL)
			return GG_ENOMEM;
		pool->buf_bytes += ncap - b->cap;
		b->data = nd;
		b->cap = ncap;
	}
	*at = b->data + b->len;
	*room = b->cap - b->len;
	return GG_OK;
}

/* gg_policy_inbuf_release - back to the pool if it has the first size, else freed */
void gg_policy_inbuf_release(struct gg_policy_pool *pool, struct gg_policy_inbuf *b)
{
	if (b->data == NULL)
		return;
	pool->bufs_used--;
	pool->buf_bytes -= b->cap;
	if (b->cap == GG_POLICY_INBUF_MIN && pool->nbufs < GG_POLICY_POOL_MAX)
		pool->bufs[pool->nbufs++] = b->data;
	else
		free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

/* gg_policy_inbuf_consume - drop what was framed; keep a partial line at the front */
void gg_policy_inbuf_consume(struct gg_policy_pool *pool, struct gg_policy_inbuf *b, size_t n)
{
	if (n >= b->len) {
		gg_policy_inbuf_release(pool, b);
		return;
	}
	if (n > 0) {
		b->len -= n;
		memmove(b->data, b->data + n, b->len);
	}
}

/* gg_policy_req_take - a begun request struct from the pool, or a new one */
struct gg_policy_req *gg_policy_req_take(struct gg_policy_pool *pool)
{
	struct gg_policy_req *pr;

	if (pool->nreqs > 0)
		pr = pool->reqs[--pool->nreqs];
	else if ((pr = malloc(sizeof(*pr))) == NULL)
		return NULL;
	pool->reqs_used++;
	gg_policy_begin(pr);
	return pr;
}

/* gg_policy_req_give - back to the pool, or freed when it is full */
void gg_policy_req_give(struct gg_policy_pool *pool, struct gg_policy_req *pr)
{
	if (pr == NULL)
		return;
	pool->reqs_used--;
	if (pool->nreqs < GG_POLICY_POOL_MAX)
		pool->reqs[pool->nreqs++] = pr;
	else
		free(pr);
}

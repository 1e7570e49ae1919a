/*
 * policy_proto.c - policy delegation request parsing, and the pool of
 *                  connection memory it parses from and into (see policy_proto.h)
 */
#include <stdlib.h>
#include <string.h>

#include "policyd/policy_proto.h"
#include "lib/util.h"

#define A(name, field) { name, sizeof(name) - 1, field }
static const struct {
	const char *name;
	size_t len;
	enum gg_req_field field;
} attrs[] = {
	A("request", GG_RF_REQUEST),
	A("protocol_state", GG_RF_PROTOCOL_STATE),
	A("client_address", GG_RF_CLIENT_ADDRESS),
	A("client_name", GG_RF_CLIENT_NAME),
	A("reverse_client_name", GG_RF_REVERSE_CLIENT_NAME),
	A("helo_name", GG_RF_HELO_NAME),
	A("sender", GG_RF_SENDER),
	A("recipient", GG_RF_RECIPIENT),
	A("instance", GG_RF_INSTANCE),
	A("queue_id", GG_RF_QUEUE_ID),
	A("sasl_username", GG_RF_SASL_USERNAME),
};
#undef A

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
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			fail(pr, GG_PE_BINARY, line, len);
			return 0;
		}
	}
	if ((eq = memchr(line, '=', len)) == NULL || eq == line) {
		fail(pr, GG_PE_SYNTAX, line, len);
		return 0;
	}
	nlen = (size_t)(eq - line);
	for (size_t i = 0; i < GG_ARRAY_LEN(attrs); i++) {
		if (attrs[i].len != nlen || memcmp(attrs[i].name, line, nlen) != 0)
			continue;
		enum gg_status st = gg_request_set(&pr->req, attrs[i].field, eq + 1, len - nlen - 1);
		if (st == GG_EINVAL || (st != GG_OK && attrs[i].field == GG_RF_CLIENT_ADDRESS))
			fail(pr, GG_PE_VALUE, line, len);
		break;
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

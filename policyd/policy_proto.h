/*
 * policy_proto.h - Postfix policy delegation protocol: request parsing
 *
 * A request is a sequence of "name=value" lines ended by an empty line.
 * The connection layer frames lines (it enforces the line-length limit
 * without buffering an over-long line, and reports it here with
 * gg_policy_overlong()); this module applies the other limits, maps known
 * attributes onto a struct gg_request and ignores unknown ones, because
 * Postfix keeps adding attributes.
 *
 * A request with any problem is still read to its end so the stream stays
 * framed; the first problem is recorded and the caller answers DUNNO.
 */
#ifndef GG_POLICY_PROTO_H
#define GG_POLICY_PROTO_H

#include <stddef.h>
#include "engine/request.h"

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

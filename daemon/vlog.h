/*
 * vlog.h - the one log line per decision, the same from every front end
 *
 *   QUEUEID: client=NAME[ADDR] helo=<HELO> from=<SENDER> to=<RCPT>
 *     action=ACTION reason=REASON [score=S reasons=R] [delay=N|delayed=N] [(DETAIL)]
 *
 * greygate-policyd and greygate-milter write it, so an admin greps one
 * format for both.  Every field is sanitised and bounded.
 */
#ifndef GG_VLOG_H
#define GG_VLOG_H

#include "engine/engine.h"
#include "daemon/log.h"
#include "engine/request.h"

/* The decision line; batched (may wait for gg_log_flush()) when batched is 1. */
void gg_vlog_verdict(const struct gg_log *log, int batched, const struct gg_request *r,
		     const struct gg_verdict *v);
/* A recipient let through without a verdict (fail open): reason and why, as a warning. */
void gg_vlog_failopen(const struct gg_log *log, const struct gg_request *r, const char *reason,
		      const char *why);

#endif

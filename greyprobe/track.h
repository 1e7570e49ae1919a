/*
 * track.h - greyprobe listen: who is deferred, who came back, and when
 *
 * Decides each RCPT the test receiver sees and records it:
 *   - a recipient matching a --reject-rcpt pattern (fnmatch(3), case
 *     folded) is refused "550 5.1.1";
 *   - otherwise the triplet (client IP, sender, recipient), case folded,
 *     is deferred with the configured reply for its first defer_first
 *     attempts, or, with defer_for_ms > 0, until that long after its first
 *     attempt; from then on it is accepted, for good.
 * Every attempt is also recorded per flow, the pair (sender, recipient)
 * whatever client IP it came from, which is what the summary is about:
 * did the client retry after a deferral, after how long each time, from
 * the same IP or from several (a pool), was it accepted in the end, or did
 * it give up (never accepted, and no retry for at least twice its longest
 * interval, or at all, before the end).
 *
 * With a log stream every event is written as it happens, one JSON object
 * per line (JSONL): "start", "rcpt" (with the attempt number and the time
 * since the flow's first and previous attempt), "busy", "message",
 * "summary" (one per flow at the end) and "end".
 *
 * Limits: GG_TRACK_MAX_TRIPLETS triplets and GG_TRACK_MAX_FLOWS flows
 * (past them new ones are accepted at once and counted as untracked),
 * GG_TRACK_MAX_TIMES attempts and GG_TRACK_MAX_IPS client IPs kept per
 * flow (the counts stay exact).  Times are seconds since the receiver
 * started (monotonic); the log's "time" adds the wall clock of the start.
 */
#ifndef GG_TRACK_H
#define GG_TRACK_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "lib/status.h"

#define GG_TRACK_MAX_TRIPLETS 100000
#define GG_TRACK_MAX_FLOWS 10000
#define GG_TRACK_MAX_TIMES 64
#define GG_TRACK_MAX_IPS 16
#define GG_TRACK_MAX_REJECT 16
#define GG_TRACK_REPLY_MAX 512

enum gg_track_action {
	GG_TRACK_ACCEPT,
	GG_TRACK_DEFER,
	GG_TRACK_REJECT,
};

struct gg_track_params {
	long defer_first;		/* attempts to defer per triplet */
	long defer_for_ms;		/* > 0: defer for this long instead */
	const char *reply;		/* deferral reply, e.g. "451 4.7.1 ..." */
	const char *reject[GG_TRACK_MAX_REJECT];
	size_t nreject;
};

struct gg_track;

/* A tracker; log may be NULL.  t0_wall is the wall clock at time 0. */
enum gg_status gg_track_new(const struct gg_track_params *p, FILE *log, time_t t0_wall,
			    struct gg_track **out);
void gg_track_free(struct gg_track *t);

/*
 * Decide one RCPT at time now and record it; the reply line (no CRLF) is
 * written to reply[size].
 */
enum gg_track_action gg_track_rcpt(struct gg_track *t, double now, const char *client,
				   const char *helo, const char *from, const char *rcpt,
				   char *reply, size_t size);

/* A connection turned away with the busy reply. */
void gg_track_busy(struct gg_track *t, double now, const char *client, const char *reply,
		   unsigned long active);

/* A message accepted for the given recipients (saved: path or NULL). */
void gg_track_message(struct gg_track *t, double now, const char *client, const char *from,
		      char *const *rcpts, size_t nrcpts, size_t bytes, const char *queue_id,
		      const char *saved);

/* Count a connection (for the summary). */
void gg_track_connection(struct gg_track *t);

/* The human summary per sender, and the summary events in the log. */
void gg_track_summary(struct gg_track *t, double now, FILE *fp);

/* "accept", "defer", "reject" */
const char *gg_track_action_str(enum gg_track_action a);

/*
 * Check a reply line given on the command line: a 4xx or 5xx code, a
 * space, printable ASCII text, at most GG_TRACK_REPLY_MAX - 1 bytes.
 * want is the first digit required (4, 5) or 0 for either.
 */
enum gg_status gg_track_check_reply(const char *reply, int want);

#endif

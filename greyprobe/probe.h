/*
 * probe.h - greyprobe send: deliver one probe, retrying like an MTA
 *
 * gg_probe_start() runs rounds of delivery attempts until the recipient
 * is accepted, permanently refused, or time runs out:
 *   - a round tries the MX hosts in order (mx.c), each host's addresses
 *     in turn; a connection refused, a timeout, a closed connection, a
 *     protocol error, a 421, or any 4xx/5xx to the greeting or EHLO/HELO
 *     moves on to the next address; a 4xx or 5xx to MAIL, RCPT, DATA or
 *     the message ends the round with that answer;
 *   - 2xx (the message, or RCPT with verify_only) ends the run: delivered
 *     or verified; a 5xx ends it: refused; so do a null MX and a domain
 *     with neither MX nor address;
 *   - after a 4xx (or a round in which no server answered) the next round
 *     starts after the schedule's next delay, first on the host and
 *     address that answered the 4xx (greylisting remembers the client, so
 *     that is where the retry passes), then the others in MX order; the
 *     MX lookup is repeated only if it failed;
 *   - no round starts after max_time; when none is left the run ends
 *     deferred (the last answer was a 4xx) or unreachable.
 * Every attempt goes into the caller's report; the done callback runs
 * once, from the event loop, with the report finished.
 */
#ifndef GG_PROBE_H
#define GG_PROBE_H

#include <event2/event.h>

#include "greyprobe/mx.h"
#include "greyprobe/report.h"
#include "dns/resolver.h"
#include "greyprobe/schedule.h"
#include "greyprobe/send.h"

struct gg_probe_params {
	struct gg_send_params send;
	const char *domain;		/* the recipient's domain (MX mode) */
	const char *server;		/* --server host, or NULL for MX mode */
	unsigned server_port;		/* with server */
	unsigned port;			/* for MX hosts (25) */
	int family;			/* 0, 4 or 6 */
	struct gg_schedule schedule;
	long max_time_ms;
	gg_mx_rand rnd;			/* shuffles equal MX preferences */
	void *rarg;
	int live;			/* print each attempt to stderr as it ends */
};

struct gg_probe;
typedef void (*gg_probe_done)(struct gg_report *rep, void *arg);

/* Start a probe; rep must be initialised with the probe's description. */
enum gg_status gg_probe_start(struct event_base *base, struct gg_resolver *r,
			      const struct gg_probe_params *p, struct gg_report *rep,
			      gg_probe_done done, void *arg, struct gg_probe **out);

/* Stop a probe (interrupted): its report ends with what it has, outcome as
 * if time had run out; the done callback runs from the loop. */
void gg_probe_stop(struct gg_probe *pr);

/* Free a probe after its done callback. */
void gg_probe_free(struct gg_probe *pr);

#endif

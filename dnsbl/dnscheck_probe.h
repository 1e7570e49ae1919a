/*
 * dnscheck_probe.h - list hygiene: RFC 5782 test entries of every DNS list
 *
 * gg_dnscheck_probe_lists() asks each configured list (each distinct zone
 * once per kind) for its RFC 5782 test entries, bypassing the cache:
 *   DNSBL, DNSWL: 2.0.0.127.ZONE must be listed (an A answer in 127.0.0.0/8
 *                 that is not a 127.255.255.x error code), 1.0.0.127.ZONE
 *                 must not be (NXDOMAIN or NODATA);
 *   RHSBL:        test.ZONE must be listed, invalid.ZONE must not be.
 * A list that fails is marked GG_LIST_DEAD and the checker skips it until a
 * later probe passes (GG_LIST_ALIVE); a probe that times out or meets a DNS
 * error is inconclusive and leaves the state as it was.  Each entry's
 * state, state_changed, probed_at and probe_error (lists.h) tell the daemon
 * what to log loudly; it re-probes hourly (and after a reload).
 *
 * The callback runs exactly once, from the event loop (never from inside
 * gg_dnscheck_probe_lists()), when every list has been decided; each query
 * is bounded by the resolver's timeout.  One probe at a time per checker:
 * GG_EINVAL while one runs.  gg_dnscheck_free() cancels a running probe
 * (its callback never runs).
 */
#ifndef GG_DNSCHECK_PROBE_H
#define GG_DNSCHECK_PROBE_H

#include "dnsbl/dnscheck.h"

struct gg_dnscheck_probe_report {
	unsigned probed;	/* distinct list zones probed */
	unsigned alive;		/* passed */
	unsigned dead;		/* failed: now skipped */
	unsigned inconclusive;	/* timeout or DNS error: state unchanged */
	unsigned changed;	/* state differs from before this probe */
};

typedef void (*gg_dnscheck_probe_cb)(const struct gg_dnscheck_probe_report *rep, void *arg);

enum gg_status gg_dnscheck_probe_lists(struct gg_dnscheck *dc, gg_dnscheck_probe_cb cb, void *arg);

/* Abandon a running probe (its callback never runs); no-op if none. */
void gg_dnscheck_probe_cancel(struct gg_dnscheck *dc);

#endif

/*
 * checks.h - run a request's DNS and SPF checks in parallel, produce a score
 *
 * One struct gg_checks belongs to one event loop and one configuration
 * snapshot: it owns the c-ares resolver and answer cache, the DNS list
 * checker (DNSBL, DNSWL, RHSBL, reverse DNS, HELO) and the SPF worker pool,
 * all configured from greygate.conf.  gg_checks_start() runs whatever is
 * enabled for one request at once and calls back with a struct gg_score:
 * the weighted reasons, the SPF outcome and its Received-SPF value.
 *
 * The callback runs exactly once, from the loop, never from inside
 * gg_checks_start(), unless the job is cancelled first.  DNS trouble never
 * fails a job: what did not answer within dns_timeout adds no weight and
 * leaves a reason such as "dnsbl:zen.example(timeout)" (fail open).
 *
 * A reload builds a new gg_checks; the old one lives on, refcounted, until
 * its last job has called back.
 */
#ifndef GG_CHECKS_H
#define GG_CHECKS_H

#include <stddef.h>
#include "engine/config.h"
#include "engine/request.h"
#include "engine/score.h"
#include "lib/status.h"

struct event_base;
struct gg_checks;
struct gg_checks_job;

typedef void (*gg_checks_cb)(const struct gg_score *score, void *arg);

/*
 * Build the checks of a configuration snapshot (lists, weights, resolver,
 * SPF workers).  Errors name the setting and where it was given:
 * "greygate.conf:14: dnsbl_sites: ...".  Start SPF threads only after the
 * process has gone to the background and dropped privileges.
 */
enum gg_status gg_checks_new(struct event_base *base, const struct gg_config *cfg,
			     struct gg_checks **out, char *err, size_t errsize);
/* Only parse and check the settings, starting nothing (for -t and reload checks). */
enum gg_status gg_checks_validate(const struct gg_config *cfg, char *err, size_t errsize);
/* Is any check enabled?  If not, requests need not wait for gg_checks_start(). */
int gg_checks_enabled(const struct gg_checks *ck);
/* Start the checks for one request (the request is copied). */
enum gg_status gg_checks_start(struct gg_checks *ck, const struct gg_request *req,
			       gg_checks_cb cb, void *arg, struct gg_checks_job **job);
/*
 * The fast path: if the same inputs (client address and names, HELO,
 * sender domain) were checked recently and nothing behind that result has
 * expired, copy it into *out and return 1, without starting anything.
 * Otherwise 0: run gg_checks_start().  Results with DNS failures,
 * timeouts or SPF temperrors are never remembered.
 */
int gg_checks_cached(struct gg_checks *ck, const struct gg_request *req, struct gg_score *out);

struct gg_checks_stats {
	unsigned long started;		/* requests that went through the checks */
	unsigned long result_hits;	/* requests answered from remembered results */
	unsigned long result_misses;
	size_t result_entries;
	unsigned long dns_hits, dns_joined, dns_misses;	/* DNS answer cache */
	size_t dns_entries;
};
void gg_checks_stats(const struct gg_checks *ck, struct gg_checks_stats *out);
/* The caller lost interest: the callback will not run. */
void gg_checks_cancel(struct gg_checks_job *job);
/* Drop the caller's reference; freed when no job is left. */
void gg_checks_release(struct gg_checks *ck);
/*
 * Probe every list's RFC 5782 test entries now; dead lists are skipped by
 * later checks.  log (may be NULL) gets a line per list whose health
 * changed; done (may be NULL) runs once, from the loop, when the probe is
 * over.  Returns 0 if a probe started, -1 if there is nothing to probe.
 */
int gg_checks_probe(struct gg_checks *ck, void (*log)(void *arg, const char *line),
		    void (*done)(void *arg), void *arg);

#endif

/*
 * dnscheck.h - every DNS-based check for one SMTP client, scored with reasons
 *
 * gg_dnscheck_start() runs, in parallel, for one client:
 *   - DNSBL and DNSWL lookups of the client address (IPv4 reversed octets,
 *     IPv6 reversed nibbles) in every list that is not dead, with the TXT
 *     record of each listing fetched for reject texts;
 *   - RHSBL lookups of the sender domain, the HELO name and the verified
 *     client name (a domain is looked up once even if it is two of these);
 *   - reverse DNS: the PTR names, forward-confirmed (a PTR name's A/AAAA
 *     must contain the client address), or Postfix's reverse_client_name /
 *     client_name when given instead of asking DNS again; a generic-looking
 *     name (configured regular expressions, or the address's digits inside
 *     the name) counts as dynamic;
 *   - HELO: an address literal (or bare address) that is not the client's,
 *     a name that is one of ours, a name that is not a FQDN, a FQDN with no
 *     A or AAAA record.
 * Each finding is a reason {name, weight, txt}; the total is their sum.
 * Reason names: "dnsbl:ZONE", "dnswl:ZONE", "rhsbl:ZONE(sender|helo|client)",
 * "rdns:missing", "rdns:unconfirmed", "rdns:dynamic", "helo:ip-mismatch",
 * "helo:ours", "helo:not-fqdn", "helo:unresolvable".  A lookup that fails
 * adds weight 0 and a reason naming the check and the failure:
 * "dnsbl:ZONE(timeout)", "dnsbl:ZONE(error)", "rhsbl:ZONE(sender,timeout)",
 * "rdns(timeout)", "helo(error)"; a list answering an error code or an
 * address outside 127.0.0.0/8 gives "dnsbl:ZONE(list-error)".  A check
 * whose weight is 0 is not run.  Reasons come out in a fixed order
 * (DNSBL, DNSWL, RHSBL in configuration order, then rDNS, then HELO).
 *
 * Contract:
 *   - The whole check ends by params.timeout_ms after the start (the
 *     dns_timeout deadline) with what it has: lookups still outstanding
 *     become "(timeout)" reasons of weight 0.  Fail open.
 *   - The callback runs exactly once, from the event loop, never from inside
 *     gg_dnscheck_start() (not even when every answer is cached), unless
 *     gg_dnscheck_cancel() is called first.  The result is valid only
 *     during the callback.
 *   - Concurrent checks share queries for the same names (one query for the
 *     same client IP and list); answers are cached by TTL, clamped to
 *     [cache_min_ttl, cache_max_ttl], at most cache_size answers (LRU).
 *   - Lists are not copied: params.dnsbl/dnswl/rhsbl must outlive the
 *     checker; their hygiene state (see dnscheck_probe.h) is read at each
 *     start: dead lists are skipped.
 *
 * Threads: one checker belongs to one event loop and one resolver (on the
 * same loop).  Free the checker before the resolver.  No logging.
 */
#ifndef GG_DNSCHECK_H
#define GG_DNSCHECK_H

#include <stddef.h>
#include <stdint.h>
#include <event2/event.h>

#include "lib/addr.h"
#include "dnsbl/lists.h"
#include "dns/resolver.h"
#include "lib/status.h"

#define GG_DNSCHECK_MAX_REASONS 64
#define GG_DNSCHECK_MAX_PTR 4		/* PTR names forward-checked per client */
#define GG_DNSCHECK_MAX_PATTERNS 32
#define GG_DNSCHECK_MAX_OWN_NAMES 32

/* Which parts to run; 0 means all. */
#define GG_DNSCHECK_LISTS	0x1	/* DNSBL, DNSWL, RHSBL */
#define GG_DNSCHECK_RDNS	0x2
#define GG_DNSCHECK_HELO	0x4

struct gg_dnscheck;
struct gg_dnscheck_req;

struct gg_dnscheck_params {
	long timeout_ms;		/* dns_timeout: deadline of one whole check */
	size_t cache_size;		/* dns_cache_size: answers kept; 0 = no cache */
	unsigned cache_min_ttl;		/* dns_cache_min_ttl (seconds) */
	unsigned cache_max_ttl;		/* dns_cache_max_ttl (seconds) */
	struct gg_lists *dnsbl;		/* dnsbl_sites (NULL: none) */
	struct gg_lists *dnswl;		/* dnswl_sites */
	struct gg_lists *rhsbl;		/* rhsbl_sites */
	int rhsbl_sender;		/* RHSBL targets: sender domain, */
	int rhsbl_helo;			/* HELO name, */
	int rhsbl_client;		/* verified client name */
	double rdns_missing_weight;
	double rdns_unconfirmed_weight;
	double rdns_dynamic_weight;
	const char *rdns_generic_patterns; /* "/re/ /re/ ..." (POSIX ERE, case-insensitive);
					      NULL: GG_DNSCHECK_DEFAULT_PATTERNS; "": none */
	int rdns_generic_address;	/* the address's digits in the name count as dynamic */
	double helo_ip_mismatch_weight;
	double helo_ours_weight;
	double helo_not_fqdn_weight;
	double helo_unresolvable_weight;
	const char *helo_own_names;	/* names and [addresses] that are ours, comma/space list */
};

#define GG_DNSCHECK_DEFAULT_PATTERNS \
	"/(^|[.-])(dyn|dynamic|dhcp|dialup|dial-?in|ppp|pppoe|pool|dsl|adsl|vdsl|xdsl|" \
	"cable|cpe|broadband|customer|cust)[0-9]*([.-]|$)/"

struct gg_dnscheck_input {
	struct gg_addr client;
	const char *client_name;	 /* Postfix client_name (verified or "unknown"); NULL/"": not given */
	const char *reverse_client_name; /* Postfix reverse_client_name (PTR or "unknown"); NULL/"": not given */
	const char *helo;		 /* NULL/"": no HELO checks */
	const char *sender_domain;	 /* NULL/"": no sender RHSBL (null sender) */
	unsigned checks;		 /* GG_DNSCHECK_* bits; 0 = all */
};

struct gg_dnscheck_reason {
	char name[96];			/* "dnsbl:bl.test" */
	double weight;
	char txt[256];			/* TXT of a listing or an explanation; sanitised */
};

enum gg_rdns_state {
	GG_RDNS_UNKNOWN = 0,		/* not checked, or the lookups failed */
	GG_RDNS_MISSING,		/* no PTR */
	GG_RDNS_UNCONFIRMED,		/* PTR names, none resolving to the client */
	GG_RDNS_CONFIRMED,
};

struct gg_dnscheck_result {
	double total;			/* sum of every weight, dropped reasons included */
	size_t nreasons;
	struct gg_dnscheck_reason *reasons;	/* nreasons of them (at most GG_DNSCHECK_MAX_REASONS);
					   NULL when there are none */
	int reasons_truncated;		/* more than GG_DNSCHECK_MAX_REASONS, or out of memory */
	int timed_out;			/* the deadline ended the check */
	unsigned errors;		/* lookups that failed or timed out */
	enum gg_rdns_state rdns;
	char ptr_name[GG_DNS_NAME_MAX + 1];	/* the (first or confirmed) PTR name, or "" */
	char client_name[GG_DNS_NAME_MAX + 1];	/* the forward-confirmed name, or "" */
	long elapsed_ms;
	/* When the first answer behind this result leaves the cache
	 * (monotonic ms, see gg_dnscache_now_ms()); UINT64_MAX when no answer
	 * was needed, 0 when one was not cacheable (a failure). */
	uint64_t expires_ms;
};

typedef void (*gg_dnscheck_cb)(const struct gg_dnscheck_result *res, void *arg);

struct gg_dnscheck_stats {
	unsigned long started, completed, timed_out, cancelled;
	unsigned long skipped_dead;	/* list lookups skipped because the list is dead */
};

/*
 * Zero every field: no lists, every weight 0 (so no check runs), no cache,
 * timeout 0 (which gg_dnscheck_new() refuses).  The checker has no
 * defaults of its own: the caller sets the timeout and each weight, the
 * daemon from its configuration (whose table holds the documented
 * defaults).  Pointer members are NULL.
 */
void gg_dnscheck_params_init(struct gg_dnscheck_params *p);

/*
 * Create a checker on base using resolver r (not owned).  Patterns and own
 * names are parsed here; errors read
 * "rdns_generic_patterns: '/([/': bad regular expression: ...".
 */
enum gg_status gg_dnscheck_new(struct event_base *base, struct gg_resolver *r,
			       const struct gg_dnscheck_params *p, struct gg_dnscheck **out,
			       char *err, size_t errsize);

/* Cancel every check (their callbacks never run), any probe, and free. */
void gg_dnscheck_free(struct gg_dnscheck *dc);

/*
 * Start the checks for one client.  The input is copied.  GG_EINVAL for an
 * address that is neither IPv4 nor IPv6, GG_ENOMEM; then cb never runs.
 * *req (if req is not NULL) identifies the check for gg_dnscheck_cancel().
 */
enum gg_status gg_dnscheck_start(struct gg_dnscheck *dc, const struct gg_dnscheck_input *in,
				 gg_dnscheck_cb cb, void *arg, struct gg_dnscheck_req **req);

/* Abandon a check whose callback has not run: it never will. */
void gg_dnscheck_cancel(struct gg_dnscheck_req *req);

void gg_dnscheck_stats(const struct gg_dnscheck *dc, struct gg_dnscheck_stats *out);

/* The cache in front of the resolver (statistics, flushing, sharing). */
struct gg_dnscache *gg_dnscheck_cache(struct gg_dnscheck *dc);

/*
 * Is this name generic/dynamic-looking for this client address?  Returns 1
 * and a short explanation in why[] if so.  (Used by the checker; exposed
 * for tests and greygate-check.)
 */
int gg_dnscheck_is_dynamic(const struct gg_dnscheck *dc, const struct gg_addr *client,
			   const char *name, char *why, size_t whysize);

#endif

/*
 * dnscheck_int.h - what dnscheck.c and dnscheck_probe.c share; not public
 */
#ifndef GG_DNSCHECK_INT_H
#define GG_DNSCHECK_INT_H

#include <regex.h>

#include "dns/cache.h"
#include "dnsbl/dnscheck.h"

struct gg_dnscheck_probe;

struct gg_dnscheck_own {
	int is_addr;
	struct gg_addr addr;
	char name[GG_DNS_NAME_MAX + 1];
};

struct gg_dnscheck {
	struct event_base *base;
	struct gg_resolver *r;
	struct gg_dnscache *cache;
	struct gg_dnscheck_params p;	/* string members not kept (NULL) */
	regex_t patterns[GG_DNSCHECK_MAX_PATTERNS];
	char pattern_src[GG_DNSCHECK_MAX_PATTERNS][132];
	size_t npatterns;
	struct gg_dnscheck_own own[GG_DNSCHECK_MAX_OWN_NAMES];
	size_t nown;
	struct gg_dnscheck_req *reqs;	/* checks not yet called back */
	struct gg_dnscheck_probe *probe;	/* running probe, or NULL */
	struct gg_dnscheck_stats stats;
};

/* Free a running probe without calling back (dnscheck_probe.c). */
void gg_dnscheck_probe_free_(struct gg_dnscheck_probe *probe);

#endif

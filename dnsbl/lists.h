/*
 * lists.h - DNS list specifications in postscreen's syntax, and answer filters
 *
 * A setting such as
 *     dnsbl_sites = zen.example=127.0.0.[2..11]*3, bl.example*2
 *     dnswl_sites = wl.example=127.0.[0..255].[1..3]*-5
 *     rhsbl_sites = dbl.example=127.0.1.[2..99]
 * is a comma- and/or space-separated list of  zone[=filter][*weight]:
 *   zone    a domain name (letters, digits, '-', '_', labels of 1-63 bytes);
 *           case is folded and a trailing dot dropped; it must leave room
 *           for the longest query name (a nibble-reversed IPv6 address for
 *           DNSBL/DNSWL: zone at most 189 bytes).
 *   filter  which A answers count, as postscreen: four dot-separated
 *           fields, each a number 0-255 or a bracketed list of numbers and
 *           ranges ("[2..11]", "[2;4;8]", "[2;4..6]").  No filter: any
 *           answer counts.
 *   weight  a decimal number in [-1000, 1000] ("3", "-5", "0.5").  Default
 *           1, or -1 for DNSWL; a DNSWL weight must not be positive.
 * The same zone may appear several times with different filters; the
 * checker queries it once and adds every entry that matches.
 *
 * Whatever the filter says, an answer outside 127.0.0.0/8, or in
 * 127.255.255.0/24 (the error codes lists return to public-resolver users),
 * never counts: gg_lists_classify() reports it as GG_ANSWER_BOGUS so the
 * caller can show a list error.
 *
 * Each entry also carries its list-hygiene state (see dnscheck_probe.h),
 * which the probe updates and the checker reads: a dead list is skipped.
 *
 * Errors read "greygate.conf:12: dnsbl_sites: 'zen.example=127.0.0.[2..x]*3':
 * bad filter" (where = "greygate.conf:12").  No logging, no global state.
 */
#ifndef GG_LISTS_H
#define GG_LISTS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "lib/addr.h"
#include "lib/status.h"

#define GG_LISTS_MAX 32			/* entries per setting */
#define GG_LIST_ZONE_MAX 189		/* 253 - 64 bytes of reversed IPv6 nibbles */
#define GG_LIST_SPEC_MAX 300		/* longest zone=filter*weight item */
#define GG_LIST_WEIGHT_MAX 1000.0

enum gg_list_kind { GG_LIST_DNSBL, GG_LIST_DNSWL, GG_LIST_RHSBL };

enum gg_list_state {
	GG_LIST_UNPROBED = 0,	/* used; not probed yet */
	GG_LIST_ALIVE,		/* last probe passed */
	GG_LIST_DEAD,		/* last probe failed: skipped until one passes */
};

enum gg_answer_class {
	GG_ANSWER_MISS = 0,	/* a valid list answer the filter does not accept */
	GG_ANSWER_HIT,		/* counts */
	GG_ANSWER_BOGUS,	/* outside 127.0.0.0/8 or 127.255.255.0/24: a list error */
};

struct gg_list_filter {
	uint8_t octet[4][32];	/* bit n of octet[i] set: value n allowed in field i */
};

/* One entry of a setting (named so as not to clash with lib/list.h's struct gg_list). */
struct gg_lists_entry {
	enum gg_list_kind kind;
	char zone[GG_LIST_ZONE_MAX + 1];
	char spec[GG_LIST_SPEC_MAX + 1];	/* the item as written, for messages */
	int has_filter;
	struct gg_list_filter filter;
	double weight;
	/* List hygiene, updated by gg_dnscheck_probe_lists(). */
	enum gg_list_state state;
	int state_changed;			/* by the latest probe */
	time_t probed_at;			/* wall clock of the latest probe, 0 never */
	char probe_error[160];			/* why the latest probe failed, or "" */
};

struct gg_lists {
	enum gg_list_kind kind;
	size_t n;
	struct gg_lists_entry v[GG_LISTS_MAX];
};

/*
 * Parse a setting's value.  where ("greygate.conf:12") prefixes errors; the
 * setting name comes from kind (dnsbl_sites, dnswl_sites, rhsbl_sites).
 * An empty value gives an empty set.  *out is freed with gg_lists_free().
 */
enum gg_status gg_lists_parse(enum gg_list_kind kind, const char *value, const char *where,
			      struct gg_lists **out, char *err, size_t errsize);
void gg_lists_free(struct gg_lists *lists);

/*
 * The settings of this folder are items separated by commas and white
 * space: skip the separators at *pp and return the length of the item
 * that starts there (up to the next comma, blank, tab or newline), 0 at
 * the end of the value.
 */
size_t gg_lists_next_item(const char **pp);

/* Parse one filter "127.0.0.[2..11]" (no "=") into *f. */
enum gg_status gg_lists_parse_filter(const char *s, struct gg_list_filter *f);

/* Does the filter accept this IPv4 answer? */
int gg_lists_filter_match(const struct gg_list_filter *f, const struct gg_addr *answer);

/* Classify one A answer for one list entry. */
enum gg_answer_class gg_lists_classify(const struct gg_lists_entry *l,
				       const struct gg_addr *answer);

/* Is the answer a valid list answer at all (127.0.0.0/8, not 127.255.255.x)? */
int gg_lists_answer_valid(const struct gg_addr *answer);

/* "dnsbl", "dnswl", "rhsbl" */
const char *gg_lists_kind_str(enum gg_list_kind kind);
/* "dnsbl_sites", "dnswl_sites", "rhsbl_sites" */
const char *gg_lists_setting(enum gg_list_kind kind);
/* "unprobed", "alive", "dead" */
const char *gg_lists_state_str(enum gg_list_state state);

#endif

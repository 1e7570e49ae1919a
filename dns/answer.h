/*
 * answer.h - the one decoder of DNS answers (A, AAAA, TXT, PTR, MX)
 *
 * Both DNS layers, the resolver (dns/resolver.c, c-ares on libevent) and
 * the SPF workers' (spf/spf_dns.c, c-ares driven by poll()), get a raw
 * answer from c-ares and decode it here, through c-ares's bounds-checked
 * parsers, never by hand.  What each keeps differs (how many records, how
 * long a TXT record, duplicates), so the decoder hands every record to the
 * caller, in answer order, and the caller's sink decides:
 *   - addresses go into the caller's array of *n (no more are parsed);
 *   - TXT records come whole, the strings of each record joined
 *     (RFC 7208 3.3), however long;
 *   - PTR names: every name of the answer, in answer order;
 *   - MX: preference and exchange as c-ares expands it (the root of a
 *     null MX, RFC 7505, may come as "." or "": the caller decides).
 * A sink returns ARES_SUCCESS to go on; anything else stops the walk and
 * is returned.  Every function returns a c-ares status: ARES_SUCCESS, the
 * parser's error (ARES_ENODATA, ARES_EBADRESP, ...) or ARES_ENOMEM; none
 * checks that any record was found (the callers' rules differ).
 *
 * gg_answer_ttl() reads the TTLs c-ares 1.18 does not give (TXT, PTR, MX
 * and negative answers) with a bounded walk over the message.
 * No state; thread-safe (each call works on its own buffers).
 */
#ifndef GG_ANSWER_H
#define GG_ANSWER_H

#include <stddef.h>

#include "dns/resolver.h"
#include "lib/addr.h"
#include "lib/status.h"

struct gg_answer_addr {
	struct gg_addr addr;
	unsigned ttl;
};

typedef int (*gg_answer_text_fn)(const char *s, size_t len, void *arg);
typedef int (*gg_answer_mx_fn)(unsigned pref, const char *host, void *arg);

/* A (type ns_t_a) or AAAA records into out[*n]; *n gets how many. */
int gg_answer_addrs(const unsigned char *abuf, int alen, int type, struct gg_answer_addr *out,
		    size_t *n);

/* Every TXT record, its strings joined, to fn (s is NUL-terminated too). */
int gg_answer_txt(const unsigned char *abuf, int alen, gg_answer_text_fn fn, void *arg);

/* Every PTR name to fn. */
int gg_answer_ptr(const unsigned char *abuf, int alen, gg_answer_text_fn fn, void *arg);

/* Every MX record to fn. */
int gg_answer_mx(const unsigned char *abuf, int alen, gg_answer_mx_fn fn, void *arg);

/*
 * The lowest TTL among the answer records (CNAMEs included); for an
 * answer without records, min(SOA TTL, SOA MINIMUM) from the authority
 * section; 0 when unknown.  *count gets the number of records of qtype.
 */
unsigned gg_answer_ttl(const unsigned char *abuf, int alen, int qtype, size_t *count);

/*
 * The resolver's form: c-ares's outcome (status, and the answer when
 * there is one) of a query of type p->type into p, whose arrays are
 * allocated here (at most GG_DNS_MAX_RECORDS records, TXT records cut at
 * GG_DNS_TXT_MAX bytes, PTR names deduplicated, the root MX as ""; more
 * sets p->truncated), its TTL, st and error set.  GG_OK, or GG_ENOMEM
 * with p's arrays partly filled (the caller frees them).
 */
enum gg_status gg_answer_result(struct gg_dns_result *p, int status, const unsigned char *abuf,
				int alen);

/* Only st, error and cancelled of p, from a c-ares status. */
void gg_answer_status(struct gg_dns_result *p, int status);

#endif

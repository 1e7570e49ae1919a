/*
 * dnscheck_rdns.c - reverse DNS of one check: PTR names, forward
 *                   confirmation, generic-looking names
 *
 * The verdict comes from Postfix's client_name/reverse_client_name when
 * given, otherwise from a PTR lookup whose names (at most
 * GG_DNSCHECK_MAX_PTR) are forward-confirmed; one confirmed name is
 * enough.  The check (q->rdns) ends once, with the verdict (rdns_set())
 * or without one (gg_dnscheck_rdns_failed_()); then the dynamic-name check
 * and the RHSBL lookup of the confirmed name follow.  A name that does not
 * confirm only leaves its reason; gg_dnscheck_rdns_settle_() decides when
 * no forward lookup is left.  Also the rdns_generic_patterns
 * parser.
 */
#include <ctype.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dnsbl/dnscheck_int.h"
#include "dns/qname.h"
#include "lib/util.h"

/* digits_match - do four consecutive digit runs of name spell the octets? */
static int digits_match(const char *name, const uint8_t *o)
{
	int vals[GG_DNS_NAME_MAX];
	size_t n = 0, i;
	const char *p = name;

	while (*p) {
		if (isdigit((unsigned char)*p)) {
			int v = 0, len = 0;
			while (isdigit((unsigned char)*p)) {
				if (len < 4)
					v = v * 10 + (*p - '0');
				len++;
				p++;
			}
			if (n < GG_ARRAY_LEN(vals))
				vals[n++] = len <= 3 ? v : -1;
		} else {
			p++;
		}
	}
	for (i = 0; i + 4 <= n; i++) {
		if (vals[i] == o[0] && vals[i + 1] == o[1] && vals[i + 2] == o[2] &&
		    vals[i + 3] == o[3])
			return 1;
		if (vals[i] == o[3] && vals[i + 1] == o[2] && vals[i + 2] == o[1] &&
		    vals[i + 3] == o[0])
			return 1;
	}
	return 0;
}

/* name_has_address - does the name spell the client address in a common way? */
static int name_has_address(const struct gg_addr *a, const char *name)
{
	char buf[80];
	size_t i;

	if (a->family == AF_INET) {
		const uint8_t *o = a->bytes;
		if (digits_match(name, o))
			return 1;
		snprintf(buf, sizeof(buf), "%03u%03u%03u%03u", o[0], o[1], o[2], o[3]);
		if (strstr(name, buf) != NULL)
			return 1;
		snprintf(buf, sizeof(buf), "%03u%03u%03u%03u", o[3], o[2], o[1], o[0]);
		if (strstr(name, buf) != NULL)
			return 1;
		snprintf(buf, sizeof(buf), "%02x%02x%02x%02x", o[0], o[1], o[2], o[3]);
		return strstr(name, buf) != NULL;
	}
	for (i = 0; i < 16; i++)
		snprintf(buf + 2 * i, sizeof(buf) - 2 * i, "%02x", a->bytes[i]);
	if (strstr(name, buf) != NULL)
		return 1;
	gg_addr_format(a, buf, sizeof(buf));
	for (i = 0; buf[i]; i++)
		if (buf[i] == ':')
			buf[i] = '-';
	return strstr(name, buf) != NULL;
}

/* gg_dnscheck_is_dynamic - generic-looking host name? */
int gg_dnscheck_is_dynamic(const struct gg_dnscheck *dc, const struct gg_addr *client,
			   const char *name, char *why, size_t whysize)
{
	char lc[GG_DNS_NAME_MAX + 1];
	size_t i;

	gg_dnscheck_norm_name_(lc, sizeof(lc), name);
	if (lc[0] == '\0')
		return 0;
	if (dc->p.rdns_generic_address && client != NULL && name_has_address(client, lc)) {
		snprintf(why, whysize, "%s contains the client address", lc);
		return 1;
	}
	for (i = 0; i < dc->npatterns; i++)
		if (regexec(&dc->patterns[i], lc, 0, NULL, 0) == 0) {
			snprintf(why, whysize, "%s matches %s", lc, dc->pattern_src[i]);
			return 1;
		}
	return 0;
}

/*
 * rdns_set - the reverse DNS verdict: reasons, then what depends on it
 * (dynamic-name check, RHSBL of the verified client name).
 */
static void rdns_set(struct gg_dnscheck_req *q, enum gg_rdns_state st, const char *why)
{
	const struct gg_dnscheck_params *p = &q->dc->p;
	char buf[600];

	if (!gg_dnscheck_end_(&q->rdns, CK_ANSWERED))
		return;
	q->res.rdns = st;
	if (st == GG_RDNS_MISSING && q->want_rdns && p->rdns_missing_weight != 0) {
		snprintf(buf, sizeof(buf), "no PTR record for %s", q->addr_str);
		gg_dnscheck_add_reason_(q, KEY_RDNS, "rdns:missing", p->rdns_missing_weight, buf);
	}
	if (st == GG_RDNS_UNCONFIRMED && q->want_rdns && p->rdns_unconfirmed_weight != 0)
		gg_dnscheck_add_reason_(q, KEY_RDNS + 1, "rdns:unconfirmed", p->rdns_unconfirmed_weight, why);
	if ((st == GG_RDNS_CONFIRMED || st == GG_RDNS_UNCONFIRMED) && q->want_rdns &&
	    p->rdns_dynamic_weight != 0 &&
	    gg_dnscheck_is_dynamic(q->dc, &q->client, q->res.ptr_name, buf, sizeof(buf)))
		gg_dnscheck_add_reason_(q, KEY_RDNS + 2, "rdns:dynamic", p->rdns_dynamic_weight, buf);
	if (st == GG_RDNS_CONFIRMED)
		gg_dnscheck_start_rhsbl_(q, T_CLIENT, q->res.client_name);
}

/* rdns_failed - PTR or forward lookups failed: no verdict, no weight */
void gg_dnscheck_rdns_failed_(struct gg_dnscheck_req *q, enum gg_status st, const char *why)
{
	char name[32];

	if (!gg_dnscheck_end_(&q->rdns, st == GG_ETIMEOUT ? CK_TIMED_OUT : CK_FAILED))
		return;
	q->res.rdns = GG_RDNS_UNKNOWN;
	q->res.errors++;
	if (!q->want_rdns)
		return;
	snprintf(name, sizeof(name), "rdns(%s)", gg_dnscheck_st_word_(st));
	gg_dnscheck_add_reason_(q, KEY_RDNS + 3, name, 0, why);
}

/* has_client_addr - does the answer hold the client address? */
static int has_client_addr(const struct gg_dnscheck_req *q, const struct gg_dns_result *res)
{
	size_t i;

	for (i = 0; i < res->naddrs; i++)
		if (res->addrs[i].addr.family == q->client.family &&
		    memcmp(res->addrs[i].addr.bytes, q->client.bytes, 16) == 0)
			return 1;
	return 0;
}

/* start_fwd - forward-confirm one PTR name */
static void start_fwd(struct gg_dnscheck_req *q, const char *name)
{
	struct lookup *l = gg_dnscheck_lookup_new_(q, LK_FWD);

	gg_dnscheck_ask_(&q->rdns);
	if (l == NULL) {
		/* Counts as a failed forward lookup. */
		q->rdns.error = GG_EDNS;
		return;
	}
	gg_dnscheck_norm_name_(l->name, sizeof(l->name), name);
	memcpy(l->qname, l->name, sizeof(l->qname));
	gg_dnscheck_issue_(l, q->client.family == AF_INET ? ns_t_a : ns_t_aaaa);
}

/* fwd_answer - one PTR name's addresses */
void gg_dnscheck_fwd_answer_(struct lookup *l, const struct gg_dns_result *res)
{
	struct gg_dnscheck_req *q = l->q;
	char abuf[GG_ADDR_STRLEN];

	if (q->rdns.state != CK_ASKED)
		return;
	if (res->st == GG_OK && has_client_addr(q, res)) {
		gg_strcpy(q->res.client_name, sizeof(q->res.client_name), l->name);
		gg_strcpy(q->res.ptr_name, sizeof(q->res.ptr_name), l->name);
		/* One confirmed name is enough: ending the check withdraws the others. */
		rdns_set(q, GG_RDNS_CONFIRMED, NULL);
		return;
	}
	if (res->st == GG_OK) {
		if (q->fwd_why[0] == '\0') {
			gg_addr_format(&res->addrs[0].addr, abuf, sizeof(abuf));
			snprintf(q->fwd_why, sizeof(q->fwd_why),
				 "PTR %s resolves to %s, not to %s", l->name, abuf, q->addr_str);
		}
	} else if (res->st == GG_NOTFOUND) {
		if (q->fwd_why[0] == '\0')
			snprintf(q->fwd_why, sizeof(q->fwd_why), strcmp(res->error, "NXDOMAIN") == 0 ?
				 "PTR %s does not exist (dangling)" : "PTR %s has no address",
				 l->name);
	} else {
		q->rdns.error = res->st;
	}
}

/*
 * rdns_settle - no forward lookup left and none confirmed: unconfirmed, or
 * no verdict if one of them failed
 */
void gg_dnscheck_rdns_settle_(struct gg_dnscheck_req *q)
{
	if (q->rdns.state != CK_ASKED || gg_dnscheck_waiting_(&q->rdns))
		return;
	if (q->rdns.error != GG_OK)
		gg_dnscheck_rdns_failed_(q, q->rdns.error, "forward lookup of the PTR name failed");
	else
		rdns_set(q, GG_RDNS_UNCONFIRMED, q->fwd_why);
}

/* ptr_answer - the client's PTR names */
void gg_dnscheck_ptr_answer_(struct lookup *l, const struct gg_dns_result *res)
{
	struct gg_dnscheck_req *q = l->q;
	size_t i, n = 0;

	if (res->st == GG_NOTFOUND) {
		rdns_set(q, GG_RDNS_MISSING, NULL);
		return;
	}
	if (res->st != GG_OK) {
		gg_dnscheck_rdns_failed_(q, res->st, res->error);
		return;
	}
	gg_dnscheck_norm_name_(q->res.ptr_name, sizeof(q->res.ptr_name), res->names[0]);
	/*
	 * A cached forward answer is handled inside start_fwd(); one that does
	 * not confirm decides nothing yet: gg_dnscheck_rdns_settle_() weighs
	 * them all once this handler has returned.
	 */
	for (i = 0; i < res->nnames && n < GG_DNSCHECK_MAX_PTR && q->rdns.state == CK_ASKED; i++) {
		if (!gg_qname_valid_host(res->names[i], 0))
			continue;
		n++;
		start_fwd(q, res->names[i]);
	}
	if (n == 0)
		rdns_set(q, GG_RDNS_UNCONFIRMED, "PTR name is not a valid host name");
}

/* start_rdns - from Postfix's attributes if given, else PTR lookup */
void gg_dnscheck_start_rdns_(struct gg_dnscheck_req *q)
{
	const char *cn = q->pf_client_name, *rn = q->pf_reverse_name;
	struct lookup *l;

	if (cn[0] != '\0' && strcmp(cn, "unknown") != 0) {
		/* Postfix verified it: PTR and forward lookup agree. */
		gg_strcpy(q->res.client_name, sizeof(q->res.client_name), cn);
		gg_strcpy(q->res.ptr_name, sizeof(q->res.ptr_name),
			  rn[0] != '\0' && strcmp(rn, "unknown") != 0 ? rn : cn);
		rdns_set(q, GG_RDNS_CONFIRMED, NULL);
		return;
	}
	/*
	 * Postfix says "unknown" both for "no PTR" and for "lookup failed" or
	 * "peer name lookups are off": ask ourselves, so a temporary failure
	 * adds no weight (fail open) and a real absence is seen as such.
	 */
	if (rn[0] != '\0' && strcmp(rn, "unknown") != 0) {
		char why[600];
		gg_strcpy(q->res.ptr_name, sizeof(q->res.ptr_name), rn);
		if (cn[0] != '\0') {
			/* client_name "unknown" with a PTR name: not confirmed. */
			snprintf(why, sizeof(why), "PTR %s does not resolve to %s", rn, q->addr_str);
			rdns_set(q, GG_RDNS_UNCONFIRMED, why);
			return;
		}
		if (!gg_qname_valid_host(rn, 0)) {
			rdns_set(q, GG_RDNS_UNCONFIRMED, "PTR name is not a valid host name");
			return;
		}
		start_fwd(q, rn);
		return;
	}
	if ((l = gg_dnscheck_lookup_new_(q, LK_PTR)) == NULL) {
		gg_dnscheck_rdns_failed_(q, GG_ENOMEM, "out of memory");
		return;
	}
	gg_qname_addr(&q->client, NULL, l->qname, sizeof(l->qname));
	gg_dnscheck_issue_(l, ns_t_ptr);
}

/* parse_patterns - "/re/ /re/" into compiled expressions */
enum gg_status gg_dnscheck_parse_patterns_(struct gg_dnscheck *dc, const char *s, char *err,
				     size_t errsize)
{
	const char *p = s;
	char src[128], shown[80], msg[120];

	while (*p) {
		const char *start, *end;
		size_t i, o = 0;
		int rc;

		while (*p == ',' || isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		start = p;
		if (*p != '/') {
			gg_sanitize(shown, sizeof(shown), start, strcspn(start, ", \t"), 60);
			snprintf(err, errsize, "rdns_dynamic_patterns: '%s': expected /regex/", shown);
			return GG_EINVAL;
		}
		/* The closing '/' is the one followed by white space, a comma or the end. */
		for (end = p + 1; *end; end++) {
			if (*end == '\\' && end[1] != '\0') {
				end++;
				continue;
			}
			if (*end == '/' && (end[1] == '\0' || end[1] == ',' ||
					    isspace((unsigned char)end[1])))
				break;
		}
		gg_sanitize(shown, sizeof(shown), start, (size_t)(*end ? end + 1 - start : end - start), 60);
		if (*end != '/' || end == p + 1) {
			snprintf(err, errsize, "rdns_dynamic_patterns: '%s': expected /regex/", shown);
			return GG_EINVAL;
		}
		if (dc->npatterns == GG_DNSCHECK_MAX_PATTERNS ||
		    (size_t)(end - start) + 2 > sizeof(src)) {
			snprintf(err, errsize, "rdns_dynamic_patterns: '%s': %s", shown,
				 dc->npatterns == GG_DNSCHECK_MAX_PATTERNS ?
				 "too many patterns (at most 32)" : "pattern too long");
			return GG_ETOOBIG;
		}
		/* "\/" stands for a slash inside the expression. */
		for (i = 1; start + i < end; i++) {
			if (start[i] == '\\' && start[i + 1] == '/')
				continue;
			src[o++] = start[i];
		}
		src[o] = '\0';
		rc = regcomp(&dc->patterns[dc->npatterns], src, REG_EXTENDED | REG_ICASE | REG_NOSUB);
		if (rc != 0) {
			regerror(rc, &dc->patterns[dc->npatterns], msg, sizeof(msg));
			regfree(&dc->patterns[dc->npatterns]);
			snprintf(err, errsize, "rdns_dynamic_patterns: '%s': bad regular expression: %s",
				 shown, msg);
			return GG_EINVAL;
		}
		snprintf(dc->pattern_src[dc->npatterns], sizeof(dc->pattern_src[0]), "/%s/", src);
		dc->npatterns++;
		p = end + 1;
	}
	return GG_OK;
}

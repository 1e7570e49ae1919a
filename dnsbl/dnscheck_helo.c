/*
 * dnscheck_helo.c - HELO checks of one check
 *
 * Syntax checks run at once (an address literal that is not the client's,
 * one of our own names or addresses, not a FQDN); a FQDN is then looked up
 * (A, then AAAA unless A answered): no address at all is
 * "helo:unresolvable", a failed lookup a weight-0 "helo(...)" reason.
 * The lookups are one check (q->helo): an address ends it at once, else
 * gg_dnscheck_helo_settle_() decides when neither lookup is left.  Also
 * the helo_own_names parser.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dnsbl/dnscheck_int.h"
#include "dns/qname.h"
#include "lib/util.h"

/* helo_failed - the HELO name's lookups failed: no verdict, no weight (once) */
void gg_dnscheck_helo_failed_(struct gg_dnscheck_req *q, enum gg_status st, const char *why)
{
	char name[32];

	if (!gg_dnscheck_end_(&q->helo, st == GG_ETIMEOUT ? CK_TIMED_OUT : CK_FAILED))
		return;
	snprintf(name, sizeof(name), "helo(%s)", gg_dnscheck_st_word_(st));
	gg_dnscheck_add_reason_(q, KEY_HELO + 4, name, 0, why);
	q->res.errors++;
}

/* helo_answer - A or AAAA of the HELO name */
void gg_dnscheck_helo_answer_(struct lookup *l, const struct gg_dns_result *res)
{
	struct gg_dnscheck_req *q = l->q;

	if (q->helo.state != CK_ASKED)
		return;
	if (res->st == GG_OK && res->naddrs > 0)
		/* It resolves: ending the check withdraws the other lookup. */
		gg_dnscheck_end_(&q->helo, CK_ANSWERED);
	else if (res->st != GG_OK && res->st != GG_NOTFOUND)
		q->helo.error = res->st;
}

/* helo_settle - neither lookup left and no address: unresolvable, or no verdict on a failure */
void gg_dnscheck_helo_settle_(struct gg_dnscheck_req *q)
{
	char buf[600];

	if (q->helo.state != CK_ASKED || gg_dnscheck_waiting_(&q->helo))
		return;
	if (q->helo.error != GG_OK) {
		gg_dnscheck_helo_failed_(q, q->helo.error, "address lookup of the HELO name failed");
	} else if (gg_dnscheck_end_(&q->helo, CK_ANSWERED)) {
		snprintf(buf, sizeof(buf), "HELO %s has no A or AAAA record", q->helo_name);
		gg_dnscheck_add_reason_(q, KEY_HELO + 3, "helo:unresolvable", q->dc->p.helo_unresolvable_weight, buf);
	}
}

/* is_own - is the HELO (name, or address when a is not NULL) one of ours? */
static int is_own(const struct gg_dnscheck *dc, const char *name, const struct gg_addr *a)
{
	size_t i;

	for (i = 0; i < dc->nown; i++) {
		const struct gg_dnscheck_own *o = &dc->own[i];
		if (a != NULL && o->is_addr && o->addr.family == a->family &&
		    memcmp(o->addr.bytes, a->bytes, 16) == 0)
			return 1;
		if (a == NULL && !o->is_addr && strcmp(o->name, name) == 0)
			return 1;
	}
	return 0;
}

/* start_helo - syntax checks at once, then the address lookups */
void gg_dnscheck_start_helo_(struct gg_dnscheck_req *q)
{
	const struct gg_dnscheck_params *p = &q->dc->p;
	const char *h = q->helo_name;
	struct gg_addr a;
	char buf[600];
	int literal = 0, checks = (q->checks & GG_DNSCHECK_HELO) != 0;
	size_t len = strlen(h);

	if (h[0] == '\0')
		return;
	if (h[0] == '[' && len >= 2 && h[len - 1] == ']')
		literal = 1;
	if (literal || gg_addr_parse(h, &a) == GG_OK) {
		/* An address: the client's own is fine, anything else lies. */
		if (gg_addr_parse(h, &a) != GG_OK) {
			if (checks && p->helo_not_fqdn_weight != 0) {
				snprintf(buf, sizeof(buf), "HELO %s is a malformed address literal", h);
				gg_dnscheck_add_reason_(q, KEY_HELO + 2, "helo:not-fqdn", p->helo_not_fqdn_weight, buf);
			}
			return;
		}
		if (checks && p->helo_ours_weight != 0 && is_own(q->dc, NULL, &a)) {
			snprintf(buf, sizeof(buf), "HELO %s is our own address", h);
			gg_dnscheck_add_reason_(q, KEY_HELO + 1, "helo:ours", p->helo_ours_weight, buf);
		}
		if (checks && p->helo_ip_mismatch_weight != 0 &&
		    (a.family != q->client.family || memcmp(a.bytes, q->client.bytes, 16) != 0)) {
			snprintf(buf, sizeof(buf), "HELO %s is not the client address %s", h,
				 q->addr_str);
			gg_dnscheck_add_reason_(q, KEY_HELO, "helo:ip-mismatch", p->helo_ip_mismatch_weight, buf);
		}
		return;
	}
	if (checks && p->helo_ours_weight != 0 && is_own(q->dc, h, NULL)) {
		snprintf(buf, sizeof(buf), "HELO %s is our own name", h);
		gg_dnscheck_add_reason_(q, KEY_HELO + 1, "helo:ours", p->helo_ours_weight, buf);
	}
	if (!gg_qname_valid_host(h, 1)) {
		if (checks && p->helo_not_fqdn_weight != 0) {
			snprintf(buf, sizeof(buf), "HELO %s is not a fully qualified domain name", h);
			gg_dnscheck_add_reason_(q, KEY_HELO + 2, "helo:not-fqdn", p->helo_not_fqdn_weight, buf);
		}
		return;
	}
	gg_dnscheck_start_rhsbl_(q, T_HELO, h);
	if (checks && p->helo_unresolvable_weight != 0) {
		static const int types[2] = { ns_t_a, ns_t_aaaa };
		int i;
		gg_dnscheck_ask_(&q->helo);
		for (i = 0; i < 2 && q->helo.state == CK_ASKED; i++) {
			struct lookup *l = gg_dnscheck_lookup_new_(q, LK_HELO);
			if (l == NULL) {
				/* Counts as a failed lookup. */
				q->helo.error = GG_EDNS;
				continue;
			}
			memcpy(l->qname, h, len + 1);
			gg_dnscheck_issue_(l, types[i]);
		}
	}
}

/* parse_own - "name, [addr], addr ..." */
enum gg_status gg_dnscheck_parse_own_(struct gg_dnscheck *dc, const char *s, char *err, size_t errsize)
{
	const char *p = s != NULL ? s : "";
	char item[GG_DNS_NAME_MAX + 2], shown[80];
	size_t len;

	while ((len = gg_lists_next_item(&p)) > 0) {
		struct gg_dnscheck_own *o;

		gg_sanitize(shown, sizeof(shown), p, len, 60);
		if (dc->nown == GG_DNSCHECK_MAX_OWN_NAMES) {
			snprintf(err, errsize, "helo_own_names: '%s': too many names (at most %d)",
				 shown, GG_DNSCHECK_MAX_OWN_NAMES);
			return GG_ETOOBIG;
		}
		o = &dc->own[dc->nown];
		if (len >= sizeof(item)) {
			snprintf(err, errsize, "helo_own_names: '%s': name too long", shown);
			return GG_EINVAL;
		}
		memcpy(item, p, len);
		item[len] = '\0';
		p += len;
		if (gg_addr_parse(item, &o->addr) == GG_OK) {
			o->is_addr = 1;
		} else if (gg_qname_valid_host(item, 0)) {
			gg_dnscheck_norm_name_(o->name, sizeof(o->name), item);
		} else {
			snprintf(err, errsize, "helo_own_names: '%s': not a host name or address",
				 shown);
			return GG_EINVAL;
		}
		dc->nown++;
	}
	return GG_OK;
}

/*
 * dnscheck_lists.c - DNSBL, DNSWL and RHSBL lookups of one check
 *
 * One A query per zone (entries sharing a zone share it), skipping zones
 * whose every entry is dead; each matching entry adds its weight to one
 * reason per zone, and the TXT of a block listing becomes its text.  An
 * RHSBL domain that is also an earlier target (sender, HELO, client name)
 * is looked up once.  A failed lookup is a weight-0 reason naming it.
 * Each zone's lookup is its own check (struct lookup's list): answered or
 * failed by its answer, timed out by the deadline.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dnsbl/dnscheck_int.h"
#include "dns/qname.h"
#include "lib/util.h"

static const char *const target_name[T_COUNT] = { "sender", "helo", "client" };

/* list_set - the lists of one kind */
static struct gg_lists *list_set(const struct gg_dnscheck *dc, enum gg_list_kind kind)
{
	switch (kind) {
	case GG_LIST_DNSBL:	return dc->p.dnsbl;
	case GG_LIST_DNSWL:	return dc->p.dnswl;
	case GG_LIST_RHSBL:	return dc->p.rhsbl;
	}
	return NULL;
}

/* list_reason_name - "dnsbl:ZONE", "rhsbl:ZONE(helo)", with an optional note */
static void list_reason_name(char *buf, size_t size, enum gg_list_kind kind, const char *zone,
			     int target, const char *note)
{
	if (kind == GG_LIST_RHSBL)
		snprintf(buf, size, "rhsbl:%s(%s%s%s)", zone, target_name[target],
			 note ? "," : "", note ? note : "");
	else if (note != NULL)
		snprintf(buf, size, "%s:%s(%s)", gg_lists_kind_str(kind), zone, note);
	else
		snprintf(buf, size, "%s:%s", gg_lists_kind_str(kind), zone);
}

static int list_key(enum gg_list_kind kind, size_t li, int target)
{
	switch (kind) {
	case GG_LIST_DNSBL:	return KEY_DNSBL + (int)li * 8;
	case GG_LIST_DNSWL:	return KEY_DNSWL + (int)li * 8;
	case GG_LIST_RHSBL:	return KEY_RHSBL + (int)li * 8 + target * 2;
	}
	return 0;
}


/* list_failed - a list lookup that could not be done or was not answered */
void gg_dnscheck_list_failed_(struct gg_dnscheck_req *q, enum gg_list_kind kind, size_t li, int target,
			enum gg_status st, const char *why)
{
	struct gg_lists *ls = list_set(q->dc, kind);
	char name[96];

	list_reason_name(name, sizeof(name), kind, ls->v[li].zone, target, gg_dnscheck_st_word_(st));
	gg_dnscheck_add_reason_(q, list_key(kind, li, target) + 1, name, 0, why);
	q->res.errors++;
}

/* list_answer - an A answer from a list: add every entry of the zone that matches */
void gg_dnscheck_list_answer_(struct lookup *l, const struct gg_dns_result *res)
{
	struct gg_dnscheck_req *q = l->q;
	struct gg_lists *ls = list_set(q->dc, l->lkind);
	const char *zone = ls->v[l->li].zone;
	char name[96], why[160], abuf[GG_ADDR_STRLEN];
	double weight = 0;
	int hit = 0, bogus = 0, idx;
	size_t j, k;

	if (!gg_dnscheck_end_(l->check, res->st == GG_OK || res->st == GG_NOTFOUND ?
			      CK_ANSWERED : CK_FAILED))
		return;
	if (res->st == GG_NOTFOUND)
		return;
	if (res->st != GG_OK) {
		gg_dnscheck_list_failed_(q, l->lkind, l->li, l->target, res->st, res->error);
		return;
	}
	abuf[0] = '\0';
	for (j = l->li; j < ls->n; j++) {
		int entry_hit = 0;
		if (strcmp(ls->v[j].zone, zone) != 0 || ls->v[j].state == GG_LIST_DEAD)
			continue;
		for (k = 0; k < res->naddrs; k++) {
			switch (gg_lists_classify(&ls->v[j], &res->addrs[k].addr)) {
			case GG_ANSWER_HIT:
				entry_hit = 1;
				break;
			case GG_ANSWER_BOGUS:
				if (!bogus)
					gg_addr_format(&res->addrs[k].addr, abuf, sizeof(abuf));
				bogus = 1;
				break;
			case GG_ANSWER_MISS:
				break;
			}
		}
		if (entry_hit) {
			hit = 1;
			weight += ls->v[j].weight;
		}
	}
	if (bogus) {
		list_reason_name(name, sizeof(name), l->lkind, zone, l->target, "list-error");
		snprintf(why, sizeof(why), "answer %s is %s, not a listing", abuf,
			 strncmp(abuf, "127.255.255.", 12) == 0 ?
			 "an error code (queries refused?)" : "outside 127.0.0.0/8");
		gg_dnscheck_add_reason_(q, list_key(l->lkind, l->li, l->target) + 1, name, 0, why);
	}
	if (!hit)
		return;
	list_reason_name(name, sizeof(name), l->lkind, zone, l->target, NULL);
	idx = gg_dnscheck_add_reason_(q, list_key(l->lkind, l->li, l->target), name, weight, NULL);
	/* The TXT record is the reject text; an allow list needs none. */
	if (l->lkind != GG_LIST_DNSWL && idx >= 0) {
		struct lookup *t = gg_dnscheck_lookup_new_(q, LK_TXT);
		if (t == NULL)
			return;
		t->lkind = l->lkind;
		t->li = l->li;
		t->target = l->target;
		t->reason = idx;
		memcpy(t->qname, l->qname, sizeof(t->qname));
		gg_dnscheck_issue_(t, ns_t_txt);
	}
}

/* txt_answer - the reason text of a listing */
void gg_dnscheck_txt_answer_(struct lookup *l, const struct gg_dns_result *res)
{
	struct gg_dnscheck_reason *r;

	if (res->st != GG_OK || res->ntxt == 0 || l->reason < 0 ||
	    (size_t)l->reason >= l->q->res.nreasons)
		return;
	r = &l->q->res.reasons[l->reason];
	gg_sanitize(r->txt, sizeof(r->txt), res->txt[0], strlen(res->txt[0]), sizeof(r->txt) - 4);
}

/* zone_alive - is any entry with this zone (from li on) not dead? */
static int zone_alive(const struct gg_lists *ls, size_t li)
{
	size_t j;

	for (j = li; j < ls->n; j++)
		if (strcmp(ls->v[j].zone, ls->v[li].zone) == 0 && ls->v[j].state != GG_LIST_DEAD)
			return 1;
	return 0;
}

/* first_of_zone - is li the first entry with its zone? (one query per zone) */
static int first_of_zone(const struct gg_lists *ls, size_t li)
{
	size_t j;

	for (j = 0; j < li; j++)
		if (strcmp(ls->v[j].zone, ls->v[li].zone) == 0)
			return 0;
	return 1;
}

/*
 * start_zones - one A query per live zone of the lists of one kind, for
 * the client address (domain NULL) or for a domain in the role target
 */
static void start_zones(struct gg_dnscheck_req *q, enum gg_list_kind kind, int target,
			const char *domain)
{
	struct gg_lists *ls = list_set(q->dc, kind);
	size_t i;

	for (i = 0; i < ls->n; i++) {
		struct lookup *l;
		enum gg_status st;
		if (!first_of_zone(ls, i))
			continue;
		if (!zone_alive(ls, i)) {
			q->dc->stats.skipped_dead++;
			continue;
		}
		if ((l = gg_dnscheck_lookup_new_(q, LK_LIST)) == NULL) {
			gg_dnscheck_list_failed_(q, kind, i, target, GG_EDNS, "out of memory");
			continue;
		}
		l->lkind = kind;
		l->li = i;
		l->target = target;
		st = domain == NULL ?
		    gg_qname_addr(&q->client, ls->v[i].zone, l->qname, sizeof(l->qname)) :
		    gg_qname_domain(domain, ls->v[i].zone, l->qname, sizeof(l->qname));
		if (st != GG_OK) {
			/* Not a host name, or too long with this zone: nothing to ask. */
			free(l);
			continue;
		}
		gg_dnscheck_issue_(l, ns_t_a);
	}
}

/* start_addr_lists - DNSBL or DNSWL queries for the client address */
void gg_dnscheck_start_addr_lists_(struct gg_dnscheck_req *q, enum gg_list_kind kind)
{
	if (list_set(q->dc, kind) != NULL)
		start_zones(q, kind, 0, NULL);
}

/* start_rhsbl - RHSBL queries for one domain in the role target */
void gg_dnscheck_start_rhsbl_(struct gg_dnscheck_req *q, int target, const char *domain)
{
	struct gg_lists *ls = q->dc->p.rhsbl;
	int t;

	if (ls == NULL || ls->n == 0 || domain[0] == '\0' || !(q->checks & GG_DNSCHECK_LISTS))
		return;
	if ((target == T_SENDER && !q->dc->p.rhsbl_sender) ||
	    (target == T_HELO && !q->dc->p.rhsbl_helo) ||
	    (target == T_CLIENT && !q->dc->p.rhsbl_client))
		return;
	/* A domain that is also an earlier target counts once. */
	for (t = 0; t < T_COUNT; t++)
		if (strcmp(q->rhs_done[t], domain) == 0)
			return;
	gg_dnscheck_norm_name_(q->rhs_done[target], sizeof(q->rhs_done[target]), domain);
	start_zones(q, GG_LIST_RHSBL, target, domain);
}

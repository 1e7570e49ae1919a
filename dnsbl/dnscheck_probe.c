/*
 * dnscheck_probe.c - RFC 5782 test entries decide which lists are dead
 *                    (see dnscheck_probe.h)
 *
 * One struct zprobe per distinct (kind, zone); two resolver queries each,
 * sent directly (not through the cache: a stale cached answer must not
 * keep a dead list alive).  When every query has answered, the verdict of
 * each zone is copied to every list entry with that zone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dnsbl/dnscheck_int.h"
#include "dnsbl/dnscheck_probe.h"
#include "dns/qname.h"

enum verdict { V_PENDING, V_PASS, V_FAIL, V_INCONCLUSIVE };

struct zprobe;

struct pquery {
	struct zprobe *z;
	int listed;		/* 1: the entry that must be listed */
};

struct zprobe {
	struct gg_dnscheck_probe *pr;
	enum gg_list_kind kind;
	size_t li;
	enum verdict v[2];	/* [0] must-not-be-listed, [1] must-be-listed */
	char why[128];
	struct pquery q[2];
};

struct gg_dnscheck_probe {
	struct gg_dnscheck *dc;
	gg_dnscheck_probe_cb cb;
	void *arg;
	struct zprobe *z;
	size_t n;
	size_t outstanding;
	struct event *done_ev;
	struct gg_dnscheck_probe_report rep;
};

static struct gg_lists *lists_of(struct gg_dnscheck *dc, enum gg_list_kind kind)
{
	return kind == GG_LIST_DNSBL ? dc->p.dnsbl : kind == GG_LIST_DNSWL ? dc->p.dnswl : dc->p.rhsbl;
}

/* test_name - the RFC 5782 test query for a zone */
static int test_name(enum gg_list_kind kind, const char *zone, int listed, char *buf, size_t size)
{
	int n;

	if (kind == GG_LIST_RHSBL)
		n = snprintf(buf, size, "%s.%s", listed ? "test" : "invalid", zone);
	else
		n = snprintf(buf, size, "%s.0.0.127.%s", listed ? "2" : "1", zone);
	return n > 0 && (size_t)n < size ? 0 : -1;
}

/* apply - copy a zone's verdict to every entry with that zone */
static void apply(struct gg_dnscheck_probe *pr, struct zprobe *z)
{
	struct gg_lists *ls = lists_of(pr->dc, z->kind);
	enum gg_list_state ns;
	enum verdict v;
	time_t now = time(NULL);
	size_t j;
	int changed = 0;

	v = (z->v[0] == V_FAIL || z->v[1] == V_FAIL) ? V_FAIL :
	    (z->v[0] == V_PASS && z->v[1] == V_PASS) ? V_PASS : V_INCONCLUSIVE;
	for (j = z->li; j < ls->n; j++) {
		struct gg_lists_entry *l = &ls->v[j];
		if (strcmp(l->zone, ls->v[z->li].zone) != 0)
			continue;
		ns = v == V_PASS ? GG_LIST_ALIVE : v == V_FAIL ? GG_LIST_DEAD : l->state;
		l->state_changed = ns != l->state;
		changed |= l->state_changed;
		l->state = ns;
		l->probed_at = now;
		if (v == V_PASS)
			l->probe_error[0] = '\0';
		else
			snprintf(l->probe_error, sizeof(l->probe_error), "%s%s",
				 v == V_INCONCLUSIVE ? "probe inconclusive: " : "", z->why);
	}
	pr->rep.probed++;
	if (v == V_PASS)
		pr->rep.alive++;
	else if (v == V_FAIL)
		pr->rep.dead++;
	else
		pr->rep.inconclusive++;
	if (changed)
		pr->rep.changed++;
}

/* judge - one test answer */
static void judge(struct zprobe *z, int listed, const struct gg_dns_result *res)
{
	char abuf[16];		/* an A answer: IPv4 */
	const char *entry = z->kind == GG_LIST_RHSBL ? (listed ? "test" : "invalid") :
	    (listed ? "127.0.0.2" : "127.0.0.1");
	enum verdict v;
	size_t i;

	if (res->st == GG_ETIMEOUT || res->st == GG_EDNS) {
		v = V_INCONCLUSIVE;
		if (z->why[0] == '\0')
			snprintf(z->why, sizeof(z->why), "test entry %s: %s", entry,
				 res->error ? res->error : "DNS failure");
	} else if (listed) {
		/* Listed means a real list answer, not an error code. */
		v = V_FAIL;
		for (i = 0; i < res->naddrs; i++)
			if (gg_lists_answer_valid(&res->addrs[i].addr))
				v = V_PASS;
		if (v == V_FAIL) {
			if (res->naddrs > 0) {
				gg_addr_format(&res->addrs[0].addr, abuf, sizeof(abuf));
				snprintf(z->why, sizeof(z->why), "test entry %s answered %s, which is "
					 "not a listing (queries refused?)", entry, abuf);
			} else {
				snprintf(z->why, sizeof(z->why), "test entry %s is not listed", entry);
			}
		}
	} else if (res->st == GG_NOTFOUND) {
		v = V_PASS;
	} else {
		v = V_FAIL;
		snprintf(z->why, sizeof(z->why), "test entry %s is listed (the list answers "
			 "everything)", entry);
	}
	/* A failure explains itself best: let it overwrite an inconclusive note. */
	z->v[listed] = v;
}

/* done_cb - report once, from the loop */
static void done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gg_dnscheck_probe *pr = arg;
	gg_dnscheck_probe_cb cb = pr->cb;
	void *cbarg = pr->arg;
	struct gg_dnscheck_probe_report rep = pr->rep;

	(void)fd;
	(void)what;
	pr->dc->probe = NULL;
	gg_dnscheck_probe_free_(pr);
	cb(&rep, cbarg);
}

/* answer_cb - one test query answered */
static void answer_cb(const struct gg_dns_result *res, void *arg)
{
	struct pquery *pq = arg;
	struct zprobe *z = pq->z;
	struct gg_dnscheck_probe *pr = z->pr;

	judge(z, pq->listed, res);
	if (z->v[0] != V_PENDING && z->v[1] != V_PENDING)
		apply(pr, z);
	if (--pr->outstanding == 0)
		event_active(pr->done_ev, EV_TIMEOUT, 0);
}

/* gg_dnscheck_probe_lists - probe every distinct list zone */
enum gg_status gg_dnscheck_probe_lists(struct gg_dnscheck *dc, gg_dnscheck_probe_cb cb, void *arg)
{
	static const enum gg_list_kind kinds[] = { GG_LIST_DNSBL, GG_LIST_DNSWL, GG_LIST_RHSBL };
	struct gg_dnscheck_probe *pr;
	size_t total = 0, i, k, j;

	if (dc == NULL || cb == NULL || dc->probe != NULL)
		return GG_EINVAL;
	for (k = 0; k < 3; k++)
		if (lists_of(dc, kinds[k]) != NULL)
			total += lists_of(dc, kinds[k])->n;
	if ((pr = calloc(1, sizeof(*pr))) == NULL)
		return GG_ENOMEM;
	pr->dc = dc;
	pr->cb = cb;
	pr->arg = arg;
	if ((total > 0 && (pr->z = calloc(total, sizeof(*pr->z))) == NULL) ||
	    (pr->done_ev = event_new(dc->base, -1, 0, done_cb, pr)) == NULL) {
		gg_dnscheck_probe_free_(pr);
		return GG_ENOMEM;
	}
	/* One zprobe per distinct zone of each kind. */
	for (k = 0; k < 3; k++) {
		struct gg_lists *ls = lists_of(dc, kinds[k]);
		for (i = 0; ls != NULL && i < ls->n; i++) {
			int dup = 0;
			for (j = 0; j < i; j++)
				if (strcmp(ls->v[j].zone, ls->v[i].zone) == 0)
					dup = 1;
			if (dup)
				continue;
			pr->z[pr->n].pr = pr;
			pr->z[pr->n].kind = kinds[k];
			pr->z[pr->n].li = i;
			pr->n++;
		}
	}
	dc->probe = pr;
	for (i = 0; i < pr->n; i++) {
		struct zprobe *z = &pr->z[i];
		const char *zone = lists_of(dc, z->kind)->v[z->li].zone;
		char name[GG_DNS_NAME_MAX + 1];
		int listed;

		for (listed = 0; listed < 2; listed++) {
			z->q[listed].z = z;
			z->q[listed].listed = listed;
			if (test_name(z->kind, zone, listed, name, sizeof(name)) == 0 &&
			    gg_resolver_query(dc->r, name, ns_t_a, answer_cb, &z->q[listed]) == GG_OK) {
				pr->outstanding++;
				continue;
			}
			z->v[listed] = V_INCONCLUSIVE;
			snprintf(z->why, sizeof(z->why), "cannot send the test query");
		}
		if (z->v[0] != V_PENDING && z->v[1] != V_PENDING)
			apply(pr, z);
	}
	if (pr->outstanding == 0)
		event_active(pr->done_ev, EV_TIMEOUT, 0);
	return GG_OK;
}

/* gg_dnscheck_probe_free_ - withdraw the queries and free */
void gg_dnscheck_probe_free_(struct gg_dnscheck_probe *pr)
{
	size_t i;

	if (pr == NULL)
		return;
	for (i = 0; i < pr->n; i++) {
		gg_resolver_cancel(pr->dc->r, answer_cb, &pr->z[i].q[0]);
		gg_resolver_cancel(pr->dc->r, answer_cb, &pr->z[i].q[1]);
	}
	if (pr->done_ev != NULL)
		event_free(pr->done_ev);
	free(pr->z);
	free(pr);
}

/* gg_dnscheck_probe_cancel - abandon a running probe */
void gg_dnscheck_probe_cancel(struct gg_dnscheck *dc)
{
	if (dc == NULL || dc->probe == NULL)
		return;
	gg_dnscheck_probe_free_(dc->probe);
	dc->probe = NULL;
}

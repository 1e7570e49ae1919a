/*
 * dnscheck.c - DNS lists, reverse DNS and HELO checks for one client
 *             (see dnscheck.h)
 *
 * A check (struct gg_dnscheck_req) owns a list of outstanding lookups.
 * Each lookup goes through the cache (cache.h): a cached answer is handled
 * at once, otherwise the lookup waits for a shared query.  Handling an
 * answer may start further lookups (the TXT of a listing, the forward
 * confirmation of a PTR name, RHSBL of the verified client name).  When no
 * lookup is left, or at the deadline, the check is finished: outstanding
 * lookups become "(timeout)" reasons, the reasons are sorted, and done_ev
 * is activated so the callback runs on the next loop turn, never from
 * inside gg_dnscheck_start().
 */
#include <ctype.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "dnsbl/dnscheck.h"
#include "dnsbl/dnscheck_int.h"
#include "dnsbl/dnscheck_probe.h"
#include "dns/qname.h"
#include "lib/util.h"

enum lk_kind { LK_LIST, LK_TXT, LK_PTR, LK_FWD, LK_HELO };

/* RHSBL targets, in reason order. */
enum { T_SENDER, T_HELO, T_CLIENT, T_COUNT };
static const char *const target_name[T_COUNT] = { "sender", "helo", "client" };

/* Sort keys: reasons come out in this order whatever order answers arrive. */
#define KEY_DNSBL 1000
#define KEY_DNSWL 2000
#define KEY_RHSBL 3000
#define KEY_RDNS 5000
#define KEY_HELO 6000

struct lookup {
	struct lookup *prev, *next;	/* the check's outstanding lookups */
	struct gg_dnscheck_req *q;
	enum lk_kind kind;
	enum gg_list_kind lkind;	/* LK_LIST, LK_TXT */
	size_t li;			/* first list entry with this zone */
	int target;			/* RHSBL target */
	int reason;			/* LK_TXT: the reason to fill in */
	struct gg_dnscache_wait *wait;
	char qname[GG_DNS_NAME_MAX + 1];
	char name[GG_DNS_NAME_MAX + 1];	/* LK_FWD: the PTR name being confirmed */
};

struct gg_dnscheck_req {
	struct gg_dnscheck_req *prev, *next;	/* dc->reqs */
	struct gg_dnscheck *dc;
	gg_dnscheck_cb cb;
	void *arg;
	struct event *deadline;
	struct event *done_ev;
	struct lookup *pending;
	size_t npending;
	int starting;			/* inside gg_dnscheck_start() */
	int finished;			/* reasons final; done_ev activated */
	unsigned checks;
	struct timespec t0;
	struct gg_addr client;
	char addr_str[GG_ADDR_STRLEN];
	char pf_client_name[GG_DNS_NAME_MAX + 1];
	char pf_reverse_name[GG_DNS_NAME_MAX + 1];
	char helo[GG_DNS_NAME_MAX + 1];
	char sender[GG_DNS_NAME_MAX + 1];
	/* reverse DNS progress */
	int want_rdns;			/* rdns reasons wanted */
	int rdns_done;
	int fwd_pending, fwd_error;
	enum gg_status fwd_error_st;
	char fwd_why[600];
	/* HELO progress */
	int helo_pending, helo_resolves, helo_error, helo_reported;
	enum gg_status helo_error_st;
	/* RHSBL targets already looked up (a domain counts once) */
	char rhs_done[T_COUNT][GG_DNS_NAME_MAX + 1];
	/* Reasons grow as needed: most checks have none or one. */
	struct gg_dnscheck_reason *rv;
	int *keys;
	size_t cap;
	struct gg_dnscheck_result res;
};

static void lookup_cb(const struct gg_dns_result *res, void *arg);
static void rdns_set(struct gg_dnscheck_req *q, enum gg_rdns_state st, const char *why);

/* ------------------------------------------------------------ defaults */

/* gg_dnscheck_params_default - documented defaults */
void gg_dnscheck_params_default(struct gg_dnscheck_params *p)
{
	memset(p, 0, sizeof(*p));
	p->timeout_ms = 3000;
	p->cache_size = 10000;
	p->cache_min_ttl = 60;
	p->cache_max_ttl = 3600;
	p->rhsbl_sender = 1;
	p->rhsbl_helo = 1;
	p->rhsbl_client = 1;
	p->rdns_missing_weight = 1.0;
	p->rdns_unconfirmed_weight = 0.5;
	p->rdns_dynamic_weight = 1.0;
	p->rdns_generic_patterns = NULL;
	p->rdns_generic_address = 1;
	p->helo_ip_mismatch_weight = 1.0;
	p->helo_ours_weight = 2.0;
	p->helo_not_fqdn_weight = 0.5;
	p->helo_unresolvable_weight = 0.5;
	p->helo_own_names = "";
}

/* ------------------------------------------------------------ helpers */

static long ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

/* norm_name - lower-case copy without trailing dot; "" if it does not fit */
static void norm_name(char *dst, size_t size, const char *src)
{
	size_t len;

	if (src == NULL || gg_strcpy(dst, size, src) != GG_OK) {
		dst[0] = '\0';
		return;
	}
	len = strlen(dst);
	if (len > 0 && dst[len - 1] == '.')
		dst[len - 1] = '\0';
	gg_str_lower(dst);
}

static struct gg_lists *list_set(const struct gg_dnscheck *dc, enum gg_list_kind kind)
{
	switch (kind) {
	case GG_LIST_DNSBL:	return dc->p.dnsbl;
	case GG_LIST_DNSWL:	return dc->p.dnswl;
	case GG_LIST_RHSBL:	return dc->p.rhsbl;
	}
	return NULL;
}

static const char *st_word(enum gg_status st)
{
	return st == GG_ETIMEOUT ? "timeout" : "error";
}

/*
 * add_reason - append a reason, or add to the one of the same name.  The
 * total always counts the weight, even when the list of reasons is full.
 * Returns the reason's index or -1.
 */
static int add_reason(struct gg_dnscheck_req *q, int key, const char *name, double weight,
		      const char *txt)
{
	struct gg_dnscheck_result *r = &q->res;
	size_t i;

	r->total += weight;
	for (i = 0; i < r->nreasons; i++)
		if (strcmp(r->reasons[i].name, name) == 0) {
			r->reasons[i].weight += weight;
			if (r->reasons[i].txt[0] == '\0' && txt != NULL)
				gg_sanitize(r->reasons[i].txt, sizeof(r->reasons[i].txt), txt,
					    strlen(txt), sizeof(r->reasons[i].txt) - 4);
			return (int)i;
		}
	if (r->nreasons == q->cap) {
		size_t cap = q->cap ? 2 * q->cap : 4;
		struct gg_dnscheck_reason *rv;
		int *keys;
		if (cap > GG_DNSCHECK_MAX_REASONS ||
		    (rv = realloc(q->rv, cap * sizeof(*rv))) == NULL) {
			r->reasons_truncated = 1;
			return -1;
		}
		q->rv = r->reasons = rv;
		if ((keys = realloc(q->keys, cap * sizeof(*keys))) == NULL) {
			r->reasons_truncated = 1;
			return -1;
		}
		q->keys = keys;
		q->cap = cap;
	}
	i = r->nreasons++;
	gg_strcpy(r->reasons[i].name, sizeof(r->reasons[i].name), name);
	r->reasons[i].weight = weight;
	r->reasons[i].txt[0] = '\0';
	if (txt != NULL)
		gg_sanitize(r->reasons[i].txt, sizeof(r->reasons[i].txt), txt, strlen(txt),
			    sizeof(r->reasons[i].txt) - 4);
	q->keys[i] = key;
	return (int)i;
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

/* lookup_free - unlink (if pending), withdraw its wait and free */
static void lookup_free(struct lookup *l)
{
	struct gg_dnscheck_req *q = l->q;

	if (l->wait != NULL) {
		gg_dnscache_cancel(l->wait);
		l->wait = NULL;
	}
	if (l->prev != NULL || q->pending == l) {
		if (l->prev != NULL)
			l->prev->next = l->next;
		else
			q->pending = l->next;
		if (l->next != NULL)
			l->next->prev = l->prev;
		q->npending--;
	}
	free(l);
}

/* cancel_kind - drop every outstanding lookup of one kind (answer no longer needed) */
static void cancel_kind(struct gg_dnscheck_req *q, enum lk_kind kind)
{
	struct lookup *l, *next;

	for (l = q->pending; l != NULL; l = next) {
		next = l->next;
		if (l->kind == kind)
			lookup_free(l);
	}
}

static void process(struct lookup *l, const struct gg_dns_result *res);

/*
 * issue - start one lookup of l's qname.  A cached answer is processed at
 * once; a failure to even start is processed as a DNS error.  Consumes l.
 */
static void issue(struct lookup *l, int type)
{
	struct gg_dnscheck_req *q = l->q;
	const struct gg_dns_result *hit = NULL;
	enum gg_status st;

	uint64_t expires = 0;

	st = gg_dnscache_get(q->dc->cache, l->qname, type, lookup_cb, l, &hit, &expires, &l->wait);
	if (st == GG_OK && hit == NULL) {
		l->prev = NULL;
		l->next = q->pending;
		if (q->pending != NULL)
			q->pending->prev = l;
		q->pending = l;
		q->npending++;
		return;
	}
	if (expires < q->res.expires_ms)
		q->res.expires_ms = expires;	/* 0 for a lookup that could not start */
	if (st == GG_OK) {
		process(l, hit);
		gg_dns_result_unref(hit);
	} else {
		struct gg_dns_result fake;
		memset(&fake, 0, sizeof(fake));
		fake.st = GG_EDNS;
		fake.type = type;
		fake.qname = l->qname;
		fake.error = gg_status_str(st);
		process(l, &fake);
	}
	l->wait = NULL;
	lookup_free(l);
}

/* new_lookup - a zeroed lookup for q */
static struct lookup *new_lookup(struct gg_dnscheck_req *q, enum lk_kind kind)
{
	struct lookup *l = calloc(1, sizeof(*l));

	if (l != NULL) {
		l->q = q;
		l->kind = kind;
	}
	return l;
}

/* ------------------------------------------------------------ DNS lists */

/* list_failed - a list lookup that could not be done or was not answered */
static void list_failed(struct gg_dnscheck_req *q, enum gg_list_kind kind, size_t li, int target,
			enum gg_status st, const char *why)
{
	struct gg_lists *ls = list_set(q->dc, kind);
	char name[96];

	list_reason_name(name, sizeof(name), kind, ls->v[li].zone, target, st_word(st));
	add_reason(q, list_key(kind, li, target) + 1, name, 0, why);
	q->res.errors++;
}

/* list_answer - an A answer from a list: add every entry of the zone that matches */
static void list_answer(struct lookup *l, const struct gg_dns_result *res)
{
	struct gg_dnscheck_req *q = l->q;
	struct gg_lists *ls = list_set(q->dc, l->lkind);
	const char *zone = ls->v[l->li].zone;
	char name[96], why[160], abuf[GG_ADDR_STRLEN];
	double weight = 0;
	int hit = 0, bogus = 0, idx;
	size_t j, k;

	if (res->st == GG_NOTFOUND)
		return;
	if (res->st != GG_OK) {
		list_failed(q, l->lkind, l->li, l->target, res->st, res->error);
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
		add_reason(q, list_key(l->lkind, l->li, l->target) + 1, name, 0, why);
	}
	if (!hit)
		return;
	list_reason_name(name, sizeof(name), l->lkind, zone, l->target, NULL);
	idx = add_reason(q, list_key(l->lkind, l->li, l->target), name, weight, NULL);
	/* The TXT record is the reject text; an allow list needs none. */
	if (l->lkind != GG_LIST_DNSWL && idx >= 0) {
		struct lookup *t = new_lookup(q, LK_TXT);
		if (t == NULL)
			return;
		t->lkind = l->lkind;
		t->li = l->li;
		t->target = l->target;
		t->reason = idx;
		memcpy(t->qname, l->qname, sizeof(t->qname));
		issue(t, ns_t_txt);
	}
}

/* txt_answer - the reason text of a listing */
static void txt_answer(struct lookup *l, const struct gg_dns_result *res)
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

/* start_addr_lists - DNSBL or DNSWL queries for the client address */
static void start_addr_lists(struct gg_dnscheck_req *q, enum gg_list_kind kind)
{
	struct gg_lists *ls = list_set(q->dc, kind);
	size_t i;

	if (ls == NULL)
		return;
	for (i = 0; i < ls->n; i++) {
		struct lookup *l;
		if (!first_of_zone(ls, i))
			continue;
		if (!zone_alive(ls, i)) {
			q->dc->stats.skipped_dead++;
			continue;
		}
		if ((l = new_lookup(q, LK_LIST)) == NULL) {
			list_failed(q, kind, i, 0, GG_EDNS, "out of memory");
			continue;
		}
		l->lkind = kind;
		l->li = i;
		if (gg_qname_addr(&q->client, ls->v[i].zone, l->qname, sizeof(l->qname)) != GG_OK) {
			free(l);
			continue;
		}
		issue(l, ns_t_a);
	}
}

/* start_rhsbl - RHSBL queries for one domain in the role target */
static void start_rhsbl(struct gg_dnscheck_req *q, int target, const char *domain)
{
	struct gg_lists *ls = q->dc->p.rhsbl;
	int t;
	size_t i;

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
	norm_name(q->rhs_done[target], sizeof(q->rhs_done[target]), domain);
	for (i = 0; i < ls->n; i++) {
		struct lookup *l;
		if (!first_of_zone(ls, i))
			continue;
		if (!zone_alive(ls, i)) {
			q->dc->stats.skipped_dead++;
			continue;
		}
		if ((l = new_lookup(q, LK_LIST)) == NULL) {
			list_failed(q, GG_LIST_RHSBL, i, target, GG_EDNS, "out of memory");
			continue;
		}
		l->lkind = GG_LIST_RHSBL;
		l->li = i;
		l->target = target;
		if (gg_qname_domain(domain, ls->v[i].zone, l->qname, sizeof(l->qname)) != GG_OK) {
			/* Not a host name, or too long with this zone: nothing to ask. */
			free(l);
			continue;
		}
		issue(l, ns_t_a);
	}
}

/* ------------------------------------------------------------ reverse DNS */

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

	norm_name(lc, sizeof(lc), name);
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

	if (q->rdns_done)
		return;
	q->rdns_done = 1;
	q->res.rdns = st;
	if (st == GG_RDNS_MISSING && q->want_rdns && p->rdns_missing_weight != 0) {
		snprintf(buf, sizeof(buf), "no PTR record for %s", q->addr_str);
		add_reason(q, KEY_RDNS, "rdns:missing", p->rdns_missing_weight, buf);
	}
	if (st == GG_RDNS_UNCONFIRMED && q->want_rdns && p->rdns_unconfirmed_weight != 0)
		add_reason(q, KEY_RDNS + 1, "rdns:unconfirmed", p->rdns_unconfirmed_weight, why);
	if ((st == GG_RDNS_CONFIRMED || st == GG_RDNS_UNCONFIRMED) && q->want_rdns &&
	    p->rdns_dynamic_weight != 0 &&
	    gg_dnscheck_is_dynamic(q->dc, &q->client, q->res.ptr_name, buf, sizeof(buf)))
		add_reason(q, KEY_RDNS + 2, "rdns:dynamic", p->rdns_dynamic_weight, buf);
	if (st == GG_RDNS_CONFIRMED)
		start_rhsbl(q, T_CLIENT, q->res.client_name);
}

/* rdns_failed - PTR or forward lookups failed: no verdict, no weight */
static void rdns_failed(struct gg_dnscheck_req *q, enum gg_status st, const char *why)
{
	char name[32];

	if (q->rdns_done)
		return;
	q->rdns_done = 1;
	q->res.rdns = GG_RDNS_UNKNOWN;
	q->res.errors++;
	if (!q->want_rdns)
		return;
	snprintf(name, sizeof(name), "rdns(%s)", st_word(st));
	add_reason(q, KEY_RDNS + 3, name, 0, why);
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
static void fwd_answer(struct lookup *l, const struct gg_dns_result *res);

static void start_fwd(struct gg_dnscheck_req *q, const char *name)
{
	struct lookup *l = new_lookup(q, LK_FWD);

	q->fwd_pending++;
	if (l == NULL) {
		struct lookup stack = { .q = q, .kind = LK_FWD };
		struct gg_dns_result fake = { .st = GG_EDNS, .error = "out of memory", .qname = "" };
		fwd_answer(&stack, &fake);
		return;
	}
	norm_name(l->name, sizeof(l->name), name);
	memcpy(l->qname, l->name, sizeof(l->qname));
	issue(l, q->client.family == AF_INET ? ns_t_a : ns_t_aaaa);
}

/* fwd_answer - one PTR name's addresses */
static void fwd_answer(struct lookup *l, const struct gg_dns_result *res)
{
	struct gg_dnscheck_req *q = l->q;
	char abuf[GG_ADDR_STRLEN];

	q->fwd_pending--;
	if (q->rdns_done)
		return;
	if (res->st == GG_OK && has_client_addr(q, res)) {
		gg_strcpy(q->res.client_name, sizeof(q->res.client_name), l->name);
		gg_strcpy(q->res.ptr_name, sizeof(q->res.ptr_name), l->name);
		/* One confirmed name is enough: stop waiting for the others. */
		cancel_kind(q, LK_FWD);
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
		q->fwd_error = 1;
		q->fwd_error_st = res->st;
	}
	if (q->fwd_pending == 0) {
		if (q->fwd_error)
			rdns_failed(q, q->fwd_error_st, "forward lookup of the PTR name failed");
		else
			rdns_set(q, GG_RDNS_UNCONFIRMED, q->fwd_why);
	}
}

/* ptr_answer - the client's PTR names */
static void ptr_answer(struct lookup *l, const struct gg_dns_result *res)
{
	struct gg_dnscheck_req *q = l->q;
	size_t i, n = 0;

	if (res->st == GG_NOTFOUND) {
		rdns_set(q, GG_RDNS_MISSING, NULL);
		return;
	}
	if (res->st != GG_OK) {
		rdns_failed(q, res->st, res->error);
		return;
	}
	norm_name(q->res.ptr_name, sizeof(q->res.ptr_name), res->names[0]);
	/* Count first: a cached forward answer may settle it while we loop. */
	for (i = 0; i < res->nnames && n < GG_DNSCHECK_MAX_PTR; i++)
		if (gg_qname_valid_host(res->names[i], 0))
			n++;
	if (n == 0) {
		rdns_set(q, GG_RDNS_UNCONFIRMED, "PTR name is not a valid host name");
		return;
	}
	q->fwd_pending += (int)n;
	for (i = 0, n = 0; i < res->nnames && n < GG_DNSCHECK_MAX_PTR && !q->rdns_done; i++) {
		if (!gg_qname_valid_host(res->names[i], 0))
			continue;
		n++;
		q->fwd_pending--;	/* start_fwd counts it again */
		start_fwd(q, res->names[i]);
	}
}

/* start_rdns - from Postfix's attributes if given, else PTR lookup */
static void start_rdns(struct gg_dnscheck_req *q)
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
	if ((l = new_lookup(q, LK_PTR)) == NULL) {
		rdns_failed(q, GG_ENOMEM, "out of memory");
		return;
	}
	gg_qname_addr(&q->client, NULL, l->qname, sizeof(l->qname));
	issue(l, ns_t_ptr);
}

/* ------------------------------------------------------------ HELO */

/* helo_failed - the HELO name's lookups failed: no verdict, no weight (once) */
static void helo_failed(struct gg_dnscheck_req *q, enum gg_status st, const char *why)
{
	char name[32];

	if (q->helo_reported)
		return;
	q->helo_reported = 1;
	snprintf(name, sizeof(name), "helo(%s)", st_word(st));
	add_reason(q, KEY_HELO + 4, name, 0, why);
	q->res.errors++;
}

/* helo_answer - A or AAAA of the HELO name */
static void helo_answer(struct lookup *l, const struct gg_dns_result *res)
{
	struct gg_dnscheck_req *q = l->q;
	char buf[600];

	q->helo_pending--;
	if (q->helo_resolves)
		return;
	if (res->st == GG_OK && res->naddrs > 0) {
		q->helo_resolves = 1;
		cancel_kind(q, LK_HELO);
		return;
	}
	if (res->st != GG_OK && res->st != GG_NOTFOUND) {
		q->helo_error = 1;
		q->helo_error_st = res->st;
	}
	if (q->helo_pending > 0)
		return;
	if (q->helo_error) {
		helo_failed(q, q->helo_error_st, "address lookup of the HELO name failed");
	} else if (!q->helo_reported) {
		q->helo_reported = 1;
		snprintf(buf, sizeof(buf), "HELO %s has no A or AAAA record", q->helo);
		add_reason(q, KEY_HELO + 3, "helo:unresolvable", q->dc->p.helo_unresolvable_weight, buf);
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
static void start_helo(struct gg_dnscheck_req *q)
{
	const struct gg_dnscheck_params *p = &q->dc->p;
	const char *h = q->helo;
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
				add_reason(q, KEY_HELO + 2, "helo:not-fqdn", p->helo_not_fqdn_weight, buf);
			}
			return;
		}
		if (checks && p->helo_ours_weight != 0 && is_own(q->dc, NULL, &a)) {
			snprintf(buf, sizeof(buf), "HELO %s is our own address", h);
			add_reason(q, KEY_HELO + 1, "helo:ours", p->helo_ours_weight, buf);
		}
		if (checks && p->helo_ip_mismatch_weight != 0 &&
		    (a.family != q->client.family || memcmp(a.bytes, q->client.bytes, 16) != 0)) {
			snprintf(buf, sizeof(buf), "HELO %s is not the client address %s", h,
				 q->addr_str);
			add_reason(q, KEY_HELO, "helo:ip-mismatch", p->helo_ip_mismatch_weight, buf);
		}
		return;
	}
	if (checks && p->helo_ours_weight != 0 && is_own(q->dc, h, NULL)) {
		snprintf(buf, sizeof(buf), "HELO %s is our own name", h);
		add_reason(q, KEY_HELO + 1, "helo:ours", p->helo_ours_weight, buf);
	}
	if (!gg_qname_valid_host(h, 1)) {
		if (checks && p->helo_not_fqdn_weight != 0) {
			snprintf(buf, sizeof(buf), "HELO %s is not a fully qualified domain name", h);
			add_reason(q, KEY_HELO + 2, "helo:not-fqdn", p->helo_not_fqdn_weight, buf);
		}
		return;
	}
	start_rhsbl(q, T_HELO, h);
	if (checks && p->helo_unresolvable_weight != 0) {
		static const int types[2] = { ns_t_a, ns_t_aaaa };
		int i;
		q->helo_pending = 2;
		for (i = 0; i < 2 && !q->helo_resolves; i++) {
			struct lookup *l = new_lookup(q, LK_HELO);
			if (l == NULL) {
				struct lookup stack = { .q = q, .kind = LK_HELO };
				struct gg_dns_result fake = { .st = GG_EDNS, .error = "out of memory" };
				helo_answer(&stack, &fake);
				continue;
			}
			memcpy(l->qname, h, len + 1);
			issue(l, types[i]);
		}
	}
}

/* ------------------------------------------------------------ completion */

/* process - route an answer to its handler */
static void process(struct lookup *l, const struct gg_dns_result *res)
{
	switch (l->kind) {
	case LK_LIST:	list_answer(l, res); break;
	case LK_TXT:	txt_answer(l, res); break;
	case LK_PTR:	ptr_answer(l, res); break;
	case LK_FWD:	fwd_answer(l, res); break;
	case LK_HELO:	helo_answer(l, res); break;
	}
}

/* sort_reasons - stable insertion sort by key */
static void sort_reasons(struct gg_dnscheck_req *q)
{
	struct gg_dnscheck_result *r = &q->res;
	size_t i, j;

	for (i = 1; i < r->nreasons; i++) {
		struct gg_dnscheck_reason tmp = r->reasons[i];
		int key = q->keys[i];
		for (j = i; j > 0 && q->keys[j - 1] > key; j--) {
			r->reasons[j] = r->reasons[j - 1];
			q->keys[j] = q->keys[j - 1];
		}
		r->reasons[j] = tmp;
		q->keys[j] = key;
	}
}

/*
 * finish - make the result final: what is still outstanding becomes a
 * "(timeout)" reason; then let the loop call back.
 */
static void finish(struct gg_dnscheck_req *q)
{
	struct lookup *l;
	char why[64];

	if (q->finished)
		return;
	q->finished = 1;
	event_del(q->deadline);
	snprintf(why, sizeof(why), "no answer within %ld ms", q->dc->p.timeout_ms);
	if (q->npending > 0)
		q->res.timed_out = 1;
	while ((l = q->pending) != NULL) {
		switch (l->kind) {
		case LK_LIST:
			list_failed(q, l->lkind, l->li, l->target, GG_ETIMEOUT, why);
			break;
		case LK_PTR:
		case LK_FWD:
			rdns_failed(q, GG_ETIMEOUT, why);
			break;
		case LK_HELO:
			if (!q->helo_resolves)
				helo_failed(q, GG_ETIMEOUT, why);
			break;
		case LK_TXT:
			break;
		}
		lookup_free(l);
	}
	sort_reasons(q);
	q->res.elapsed_ms = ms_since(&q->t0);
	event_active(q->done_ev, EV_TIMEOUT, 0);
}

/* maybe_finish - nothing outstanding and not still starting: done */
static void maybe_finish(struct gg_dnscheck_req *q)
{
	if (!q->starting && !q->finished && q->npending == 0)
		finish(q);
}

/* lookup_cb - a shared query answered one of our lookups */
static void lookup_cb(const struct gg_dns_result *res, void *arg)
{
	struct lookup *l = arg;
	struct gg_dnscheck_req *q = l->q;
	uint64_t expires = gg_dnscache_expiry(q->dc->cache, res);

	if (expires < q->res.expires_ms)
		q->res.expires_ms = expires;
	/* The cache freed the wait before calling us. */
	l->wait = NULL;
	if (l->prev != NULL)
		l->prev->next = l->next;
	else
		q->pending = l->next;
	if (l->next != NULL)
		l->next->prev = l->prev;
	q->npending--;
	l->prev = l->next = NULL;
	process(l, res);
	free(l);
	maybe_finish(q);
}

/* deadline_cb - dns_timeout reached: complete with what we have */
static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	finish(arg);
}

/* req_free - unlink from the checker and free */
static void req_free(struct gg_dnscheck_req *q)
{
	struct gg_dnscheck *dc = q->dc;

	while (q->pending != NULL)
		lookup_free(q->pending);
	if (q->prev != NULL)
		q->prev->next = q->next;
	else
		dc->reqs = q->next;
	if (q->next != NULL)
		q->next->prev = q->prev;
	if (q->deadline != NULL)
		event_free(q->deadline);
	if (q->done_ev != NULL)
		event_free(q->done_ev);
	free(q->rv);
	free(q->keys);
	free(q);
}

/* done_cb - call back once, from the loop */
static void done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gg_dnscheck_req *q = arg;

	(void)fd;
	(void)what;
	q->dc->stats.completed++;
	if (q->res.timed_out)
		q->dc->stats.timed_out++;
	/* Unlink first, so the callback may free the checker itself. */
	if (q->prev != NULL)
		q->prev->next = q->next;
	else
		q->dc->reqs = q->next;
	if (q->next != NULL)
		q->next->prev = q->prev;
	q->prev = q->next = NULL;
	q->dc = NULL;
	q->cb(&q->res, q->arg);
	event_free(q->deadline);
	event_free(q->done_ev);
	free(q->rv);
	free(q->keys);
	free(q);
}

/* ------------------------------------------------------------ public */

/* gg_dnscheck_start - run every check for one client */
enum gg_status gg_dnscheck_start(struct gg_dnscheck *dc, const struct gg_dnscheck_input *in,
				 gg_dnscheck_cb cb, void *arg, struct gg_dnscheck_req **req)
{
	struct gg_dnscheck_req *q;
	struct timeval tv;
	const struct gg_dnscheck_params *p = &dc->p;

	if (req != NULL)
		*req = NULL;
	if (in == NULL || cb == NULL ||
	    (in->client.family != AF_INET && in->client.family != AF_INET6))
		return GG_EINVAL;
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return GG_ENOMEM;
	q->dc = dc;
	q->cb = cb;
	q->arg = arg;
	if ((q->deadline = evtimer_new(dc->base, deadline_cb, q)) == NULL ||
	    (q->done_ev = event_new(dc->base, -1, 0, done_cb, q)) == NULL) {
		if (q->deadline != NULL)
			event_free(q->deadline);
		free(q);
		return GG_ENOMEM;
	}
	q->checks = in->checks != 0 ? in->checks :
	    GG_DNSCHECK_LISTS | GG_DNSCHECK_RDNS | GG_DNSCHECK_HELO;
	q->client = in->client;
	q->res.expires_ms = UINT64_MAX;
	gg_addr_format(&q->client, q->addr_str, sizeof(q->addr_str));
	norm_name(q->pf_client_name, sizeof(q->pf_client_name), in->client_name);
	norm_name(q->pf_reverse_name, sizeof(q->pf_reverse_name), in->reverse_client_name);
	norm_name(q->helo, sizeof(q->helo), in->helo);
	norm_name(q->sender, sizeof(q->sender), in->sender_domain);
	clock_gettime(CLOCK_MONOTONIC, &q->t0);
	q->next = dc->reqs;
	if (dc->reqs != NULL)
		dc->reqs->prev = q;
	dc->reqs = q;
	dc->stats.started++;
	tv.tv_sec = p->timeout_ms / 1000;
	tv.tv_usec = (p->timeout_ms % 1000) * 1000;
	evtimer_add(q->deadline, &tv);

	q->starting = 1;
	if (q->checks & GG_DNSCHECK_LISTS) {
		start_addr_lists(q, GG_LIST_DNSBL);
		start_addr_lists(q, GG_LIST_DNSWL);
		start_rhsbl(q, T_SENDER, q->sender);
	}
	q->want_rdns = (q->checks & GG_DNSCHECK_RDNS) &&
	    (p->rdns_missing_weight != 0 || p->rdns_unconfirmed_weight != 0 ||
	     p->rdns_dynamic_weight != 0);
	if (q->want_rdns || ((q->checks & GG_DNSCHECK_LISTS) && p->rhsbl != NULL &&
			     p->rhsbl->n > 0 && p->rhsbl_client))
		start_rdns(q);
	start_helo(q);
	q->starting = 0;
	maybe_finish(q);
	if (req != NULL)
		*req = q;
	return GG_OK;
}

/* gg_dnscheck_cancel - abandon a check */
void gg_dnscheck_cancel(struct gg_dnscheck_req *req)
{
	if (req == NULL || req->dc == NULL)
		return;
	req->dc->stats.cancelled++;
	req_free(req);
}

/* parse_patterns - "/re/ /re/" into compiled expressions */
static enum gg_status parse_patterns(struct gg_dnscheck *dc, const char *s, char *err,
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

/* parse_own - "name, [addr], addr ..." */
static enum gg_status parse_own(struct gg_dnscheck *dc, const char *s, char *err, size_t errsize)
{
	const char *p = s != NULL ? s : "";
	char item[GG_DNS_NAME_MAX + 2], shown[80];

	for (;;) {
		struct gg_dnscheck_own *o;
		size_t len;

		while (*p == ',' || isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		len = strcspn(p, ", \t\r\n");
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
			norm_name(o->name, sizeof(o->name), item);
		} else {
			snprintf(err, errsize, "helo_own_names: '%s': not a host name or address",
				 shown);
			return GG_EINVAL;
		}
		dc->nown++;
	}
	return GG_OK;
}

/* gg_dnscheck_new - a checker on base and r */
enum gg_status gg_dnscheck_new(struct event_base *base, struct gg_resolver *r,
			       const struct gg_dnscheck_params *p, struct gg_dnscheck **out,
			       char *err, size_t errsize)
{
	struct gg_dnscheck *dc;
	enum gg_status st;

	*out = NULL;
	if (base == NULL || r == NULL || p == NULL) {
		snprintf(err, errsize, "dnscheck: missing event base, resolver or parameters");
		return GG_EINVAL;
	}
	if (p->timeout_ms < GG_RESOLVER_MIN_TIMEOUT_MS || p->timeout_ms > GG_RESOLVER_MAX_TIMEOUT_MS) {
		snprintf(err, errsize, "dns_timeout: %ld ms is outside %ld-%ld ms", p->timeout_ms,
			 GG_RESOLVER_MIN_TIMEOUT_MS, GG_RESOLVER_MAX_TIMEOUT_MS);
		return GG_EINVAL;
	}
	if (p->cache_min_ttl > p->cache_max_ttl) {
		snprintf(err, errsize, "dns_cache_min_ttl: %u is above dns_cache_max_ttl %u",
			 p->cache_min_ttl, p->cache_max_ttl);
		return GG_EINVAL;
	}
	if ((dc = calloc(1, sizeof(*dc))) == NULL) {
		snprintf(err, errsize, "dnscheck: out of memory");
		return GG_ENOMEM;
	}
	dc->base = base;
	dc->r = r;
	dc->p = *p;
	dc->p.rdns_generic_patterns = NULL;
	dc->p.helo_own_names = NULL;
	if ((st = parse_patterns(dc, p->rdns_generic_patterns != NULL ? p->rdns_generic_patterns :
				 GG_DNSCHECK_DEFAULT_PATTERNS, err, errsize)) != GG_OK ||
	    (st = parse_own(dc, p->helo_own_names, err, errsize)) != GG_OK)
		goto fail;
	if ((st = gg_dnscache_new(r, p->cache_size, p->cache_min_ttl, p->cache_max_ttl,
				  &dc->cache)) != GG_OK) {
		snprintf(err, errsize, "dnscheck: cannot create the DNS cache: %s", gg_status_str(st));
		goto fail;
	}
	*out = dc;
	return GG_OK;
fail:
	gg_dnscheck_free(dc);
	return st;
}

/* gg_dnscheck_free - cancel checks and probe, free everything */
void gg_dnscheck_free(struct gg_dnscheck *dc)
{
	size_t i;

	if (dc == NULL)
		return;
	gg_dnscheck_probe_cancel(dc);
	while (dc->reqs != NULL)
		req_free(dc->reqs);
	gg_dnscache_free(dc->cache);
	for (i = 0; i < dc->npatterns; i++)
		regfree(&dc->patterns[i]);
	free(dc);
}

/* gg_dnscheck_stats - counters */
void gg_dnscheck_stats(const struct gg_dnscheck *dc, struct gg_dnscheck_stats *out)
{
	*out = dc->stats;
}

/* gg_dnscheck_cache - the cache in front of the resolver */
struct gg_dnscache *gg_dnscheck_cache(struct gg_dnscheck *dc)
{
	return dc->cache;
}

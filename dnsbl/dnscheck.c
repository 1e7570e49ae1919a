/*
 * dnscheck.c - one check of a client: its lookups, reasons, deadline and
 *             callback; the checker's public API (see dnscheck.h)
 *
 * A check (struct gg_dnscheck_req) owns a list of outstanding lookups
 * (lib/list.h).  Each of its parts (a list lookup, the reverse DNS, the
 * HELO lookups) is a struct check whose state changes only through
 * gg_dnscheck_ask_() and gg_dnscheck_end_() here; a part that weighs
 * several answers is settled once none is outstanding (settle()).
 * Each lookup goes through the cache (cache.h): a cached answer is handled
 * at once, otherwise the lookup waits for a shared query.  Handling an
 * answer (dnscheck_lists.c, dnscheck_rdns.c, dnscheck_helo.c) may start
 * further lookups (the TXT of a listing, the forward confirmation of a PTR
 * name, RHSBL of the verified client name).  When no lookup is left, or at
 * the deadline, the check is finished: outstanding lookups become
 * "(timeout)" reasons, the reasons are sorted, and done_ev is activated so
 * the callback runs on the next loop turn, never from inside
 * gg_dnscheck_start().
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dnsbl/dnscheck.h"
#include "dnsbl/dnscheck_int.h"
#include "dnsbl/dnscheck_probe.h"
#include "lib/clock.h"
#include "lib/util.h"

static void lookup_cb(const struct gg_dns_result *res, void *arg);

/* ------------------------------------------------------------ parameters */

/*
 * gg_dnscheck_params_init - every field zero (no lists, every check off)
 *
 * The defaults of greygate.conf(5) live in one place, the configuration
 * table (engine/config.c); the caller sets every value it wants.
 */
void gg_dnscheck_params_init(struct gg_dnscheck_params *p)
{
	memset(p, 0, sizeof(*p));
	p->rdns_generic_patterns = NULL;
	p->helo_own_names = NULL;
}

/* ------------------------------------------------------------ helpers */

/* norm_name - lower-case copy without trailing dot; "" if it does not fit */
void gg_dnscheck_norm_name_(char *dst, size_t size, const char *src)
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

const char *gg_dnscheck_st_word_(enum gg_status st)
{
	return st == GG_ETIMEOUT ? "timeout" : "error";
}

/*
 * add_reason - append a reason, or add to the one of the same name.  The
 * total always counts the weight, even when the list of reasons is full.
 * Returns the reason's index or -1.
 */
int gg_dnscheck_add_reason_(struct gg_dnscheck_req *q, int key, const char *name, double weight,
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

/* lookup_unlink - l is no longer outstanding (nothing if it was not) */
static void lookup_unlink(struct lookup *l)
{
	gg_list_remove(&l->link);
	gg_list_remove(&l->peer);
}

/* lookup_free - unlink (if pending), withdraw its wait and free */
static void lookup_free(struct lookup *l)
{
	if (l->wait != NULL) {
		gg_dnscache_cancel(l->wait);
		l->wait = NULL;
	}
	lookup_unlink(l);
	free(l);
}

/* ask - a check starts asking (a check asks once) */
void gg_dnscheck_ask_(struct check *c)
{
	if (c->state == CK_IDLE)
		c->state = CK_ASKED;
}

/*
 * end - a check reaches its verdict, fails or times out, once: its lookups
 * still outstanding are withdrawn.  Returns 0 if it had already ended.
 */
int gg_dnscheck_end_(struct check *c, enum ck_state to)
{
	struct gg_list *l;

	if (c->state != CK_IDLE && c->state != CK_ASKED)
		return 0;
	c->state = to;
	while ((l = gg_list_first(&c->lookups)) != NULL)
		lookup_free(gg_list_entry(l, struct lookup, peer));
	return 1;
}

static void process(struct lookup *l, const struct gg_dns_result *res);

/*
 * issue - start one lookup of l's qname.  A cached answer is processed at
 * once; a failure to even start is processed as a DNS error.  Consumes l.
 */
void gg_dnscheck_issue_(struct lookup *l, int type)
{
	struct gg_dnscheck_req *q = l->q;
	const struct gg_dns_result *hit = NULL;
	enum gg_status st;

	uint64_t expires = 0;

	if (l->check != NULL)
		gg_dnscheck_ask_(l->check);
	st = gg_dnscache_get(q->dc->cache, l->qname, type, lookup_cb, l, &hit, &expires, &l->wait);
	if (st == GG_OK && hit == NULL) {
		gg_list_push_front(&q->pending, &l->link);
		if (l->check != NULL)
			gg_list_push_back(&l->check->lookups, &l->peer);
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
struct lookup *gg_dnscheck_lookup_new_(struct gg_dnscheck_req *q, enum lk_kind kind)
{
	struct lookup *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	gg_list_init(&l->link);
	gg_list_init(&l->peer);
	gg_list_init(&l->list.lookups);
	l->q = q;
	l->kind = kind;
	/* Which check the lookup serves follows from its kind. */
	switch (kind) {
	case LK_LIST:	l->check = &l->list; break;
	case LK_TXT:	l->check = NULL; break;
	case LK_PTR:
	case LK_FWD:	l->check = &q->rdns; break;
	case LK_HELO:	l->check = &q->helo; break;
	}
	return l;
}

/* ------------------------------------------------------------ completion */

/* process - route an answer to its handler */
static void process(struct lookup *l, const struct gg_dns_result *res)
{
	switch (l->kind) {
	case LK_LIST:	gg_dnscheck_list_answer_(l, res); break;
	case LK_TXT:	gg_dnscheck_txt_answer_(l, res); break;
	case LK_PTR:	gg_dnscheck_ptr_answer_(l, res); break;
	case LK_FWD:	gg_dnscheck_fwd_answer_(l, res); break;
	case LK_HELO:	gg_dnscheck_helo_answer_(l, res); break;
	}
}

/* settle - let the checks that weigh several answers decide, once none is outstanding */
static void settle(struct gg_dnscheck_req *q)
{
	gg_dnscheck_rdns_settle_(q);
	gg_dnscheck_helo_settle_(q);
}

/* timed_out - a check still asking at the deadline: its "(timeout)" reason */
static void timed_out(struct gg_dnscheck_req *q, struct lookup *l, const char *why)
{
	switch (l->kind) {
	case LK_LIST:
		gg_dnscheck_end_(l->check, CK_TIMED_OUT);
		gg_dnscheck_list_failed_(q, l->lkind, l->li, l->target, GG_ETIMEOUT, why);
		break;
	case LK_PTR:
	case LK_FWD:
		gg_dnscheck_rdns_failed_(q, GG_ETIMEOUT, why);
		break;
	case LK_HELO:
		gg_dnscheck_helo_failed_(q, GG_ETIMEOUT, why);
		break;
	case LK_TXT:
		break;
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
	struct gg_list *link;
	char why[64];

	if (q->state == RQ_FINISHED)
		return;
	q->state = RQ_FINISHED;
	event_del(q->deadline);
	snprintf(why, sizeof(why), "no answer within %ld ms", q->dc->p.timeout_ms);
	if (!gg_list_empty(&q->pending))
		q->res.timed_out = 1;
	while ((link = gg_list_first(&q->pending)) != NULL) {
		struct lookup *l = gg_list_entry(link, struct lookup, link);
		lookup_unlink(l);
		if (l->check != NULL && l->check->state == CK_ASKED)
			timed_out(q, l, why);
		lookup_free(l);
	}
	sort_reasons(q);
	q->res.elapsed_ms = gg_clock_since_ms(&q->t0);
	event_active(q->done_ev, EV_TIMEOUT, 0);
}

/* maybe_finish - nothing outstanding and not still starting: done */
static void maybe_finish(struct gg_dnscheck_req *q)
{
	if (q->state == RQ_RUNNING && gg_list_empty(&q->pending))
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
	lookup_unlink(l);
	process(l, res);
	free(l);
	settle(q);
	maybe_finish(q);
}

/* deadline_cb - dns_timeout reached: complete with what we have */
static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	finish(arg);
}

/* req_unlink - take q off the checker's checks */
static void req_unlink(struct gg_dnscheck_req *q)
{
	gg_list_remove(&q->link);
}

/* req_release - free an unlinked check with nothing outstanding */
static void req_release(struct gg_dnscheck_req *q)
{
	if (q->deadline != NULL)
		event_free(q->deadline);
	if (q->done_ev != NULL)
		event_free(q->done_ev);
	free(q->rv);
	free(q->keys);
	free(q);
}

/* req_free - withdraw its lookups, unlink from the checker and free */
static void req_free(struct gg_dnscheck_req *q)
{
	struct gg_list *l;

	while ((l = gg_list_first(&q->pending)) != NULL)
		lookup_free(gg_list_entry(l, struct lookup, link));
	req_unlink(q);
	req_release(q);
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
	req_unlink(q);
	q->dc = NULL;
	q->cb(&q->res, q->arg);
	req_release(q);
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
	gg_list_init(&q->link);
	gg_list_init(&q->pending);
	gg_list_init(&q->rdns.lookups);
	gg_list_init(&q->helo.lookups);
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
	gg_dnscheck_norm_name_(q->pf_client_name, sizeof(q->pf_client_name), in->client_name);
	gg_dnscheck_norm_name_(q->pf_reverse_name, sizeof(q->pf_reverse_name), in->reverse_client_name);
	gg_dnscheck_norm_name_(q->helo_name, sizeof(q->helo_name), in->helo);
	gg_dnscheck_norm_name_(q->sender, sizeof(q->sender), in->sender_domain);
	gg_clock_now(&q->t0);
	gg_list_push_front(&dc->reqs, &q->link);
	dc->stats.started++;
	tv.tv_sec = p->timeout_ms / 1000;
	tv.tv_usec = (p->timeout_ms % 1000) * 1000;
	evtimer_add(q->deadline, &tv);

	q->state = RQ_STARTING;
	if (q->checks & GG_DNSCHECK_LISTS) {
		gg_dnscheck_start_addr_lists_(q, GG_LIST_DNSBL);
		gg_dnscheck_start_addr_lists_(q, GG_LIST_DNSWL);
		gg_dnscheck_start_rhsbl_(q, T_SENDER, q->sender);
	}
	q->want_rdns = (q->checks & GG_DNSCHECK_RDNS) &&
	    (p->rdns_missing_weight != 0 || p->rdns_unconfirmed_weight != 0 ||
	     p->rdns_dynamic_weight != 0);
	if (q->want_rdns || ((q->checks & GG_DNSCHECK_LISTS) && p->rhsbl != NULL &&
			     p->rhsbl->n > 0 && p->rhsbl_client))
		gg_dnscheck_start_rdns_(q);
	gg_dnscheck_start_helo_(q);
	q->state = RQ_RUNNING;
	settle(q);
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
	gg_list_init(&dc->reqs);
	dc->base = base;
	dc->r = r;
	dc->p = *p;
	dc->p.rdns_generic_patterns = NULL;
	dc->p.helo_own_names = NULL;
	if ((st = gg_dnscheck_parse_patterns_(dc, p->rdns_generic_patterns != NULL ? p->rdns_generic_patterns :
				 GG_DNSCHECK_DEFAULT_PATTERNS, err, errsize)) != GG_OK ||
	    (st = gg_dnscheck_parse_own_(dc, p->helo_own_names, err, errsize)) != GG_OK)
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
	struct gg_list *l;
	size_t i;

	if (dc == NULL)
		return;
	gg_dnscheck_probe_cancel(dc);
	while ((l = gg_list_first(&dc->reqs)) != NULL)
		req_free(gg_list_entry(l, struct gg_dnscheck_req, link));
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

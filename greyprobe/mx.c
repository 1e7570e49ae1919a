/*
 * mx.c - MX hosts in order, with their addresses (see mx.h)
 *
 * One struct gg_mx_lookup per request.  The MX query's callback argument
 * is the lookup itself; each address query has its own struct aq slot
 * (host, type, result), so answers can arrive in any order and are merged
 * (AAAA first) only when the last one is in.  Results that need no DNS at
 * all are handed over by a zero-delay event, so the callback never runs
 * inside gg_mx_lookup().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "greyprobe/mx.h"
#include "lib/util.h"

struct aq {
	struct gg_mx_lookup *l;
	size_t host;
	int type;			/* ns_t_aaaa or ns_t_a */
	int busy;			/* query outstanding */
	enum gg_status st;
	char error[24];
	size_t naddrs;
	struct gg_addr addrs[GG_MX_MAX_ADDRS];
};

struct gg_mx_lookup {
	struct event_base *base;
	struct gg_resolver *r;
	int family;
	int host_mode;			/* gg_mx_lookup_host(): no MX step */
	gg_mx_rand rnd;
	void *rarg;
	gg_mx_cb cb;
	void *arg;
	struct gg_mx_list *list;
	int mx_busy;			/* MX query outstanding */
	int pending;			/* address queries outstanding */
	struct event *deliver_ev;
	struct aq q[GG_MX_MAX_HOSTS * 2];
	size_t nq;
	char domain[GG_DNS_NAME_MAX + 1];
};

/* gg_mx_parse_literal - "[192.0.2.1]", "[IPv6:...]" or a bare address */
enum gg_status gg_mx_parse_literal(const char *s, struct gg_addr *out)
{
	size_t len = strlen(s);

	if (len == 0 || len > GG_ADDR_STRLEN + 8)
		return GG_EINVAL;
	/* gg_addr_parse() takes the brackets and the "IPv6:" tag itself. */
	return gg_addr_parse(s, out);
}

/* gg_mx_sort - by preference, equal ones shuffled */
void gg_mx_sort(struct gg_mx_host *hosts, size_t n, gg_mx_rand rnd, void *rarg)
{
	size_t i, j, start;
	struct gg_mx_host tmp;

	/* Insertion sort: stable, and n is at most a few dozen. */
	for (i = 1; i < n; i++) {
		tmp = hosts[i];
		for (j = i; j > 0 && hosts[j - 1].pref > tmp.pref; j--)
			hosts[j] = hosts[j - 1];
		hosts[j] = tmp;
	}
	if (rnd == NULL)
		return;
	for (start = 0; start < n; start = j) {
		for (j = start + 1; j < n && hosts[j].pref == hosts[start].pref; j++)
			;
		/* Fisher-Yates over hosts[start..j). */
		for (i = j - 1; i > start; i--) {
			size_t k = start + (size_t)(rnd(rarg) % (unsigned long)(i - start + 1));
			if (k != i) {
				tmp = hosts[i];
				hosts[i] = hosts[k];
				hosts[k] = tmp;
			}
		}
	}
}

/* deliver - hand the list to the caller and free the lookup */
static void deliver(struct gg_mx_lookup *l)
{
	struct gg_mx_list *list = l->list;
	gg_mx_cb cb = l->cb;
	void *arg = l->arg;

	l->list = NULL;
	gg_mx_cancel(l);
	cb(list, arg);
}

/* deliver_cb - results that needed no (more) DNS */
static void deliver_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	deliver(arg);
}

/* merge - each host's addresses from its answers, AAAA first */
static void merge(struct gg_mx_lookup *l)
{
	struct gg_mx_list *list = l->list;
	size_t h, i, k;

	for (h = 0; h < list->nhosts; h++) {
		struct gg_mx_host *host = &list->hosts[h];
		int notfound = 0, asked = 0, timeout = 0;
		size_t elen = 0;

		if (host->naddrs > 0)
			continue;	/* a literal */
		for (k = 0; k < 2; k++) {
			for (i = 0; i < l->nq; i++) {
				struct aq *q = &l->q[i];
				size_t a;
				if (q->host != h || q->type != (k == 0 ? ns_t_aaaa : ns_t_a))
					continue;
				asked++;
				for (a = 0; a < q->naddrs && host->naddrs < GG_MX_MAX_ADDRS; a++)
					host->addrs[host->naddrs++] = q->addrs[a];
				if (q->st == GG_NOTFOUND)
					notfound++;
				else if (q->st == GG_ETIMEOUT)
					timeout++;
				if (q->st != GG_OK && elen < sizeof(host->error)) {
					int n = snprintf(host->error + elen, sizeof(host->error) - elen,
							 "%s%s: %s", elen ? ", " : "",
							 gg_dns_type_str(q->type), q->error);
					if (n > 0)
						elen += (size_t)n;
				}
			}
		}
		if (host->naddrs > 0)
			host->st = GG_OK;
		else if (notfound == asked)
			host->st = GG_NOTFOUND;
		else if (timeout > 0)
			host->st = GG_ETIMEOUT;
		else
			host->st = GG_EDNS;
	}
	if ((list->implicit || l->host_mode) && list->nhosts == 1 && list->hosts[0].naddrs == 0) {
		struct gg_mx_host *host = &list->hosts[0];
		if (host->st == GG_NOTFOUND) {
			list->result = GG_MX_NODOMAIN;
			/* A cut message is still the right message. */
			if (snprintf(list->error, sizeof(list->error), "%s has %sno address records (%s)",
				     host->name, l->host_mode ? "" : "no MX and ",
				     host->error) >= (int)sizeof(list->error))
				list->error[sizeof(list->error) - 1] = '\0';
		} else {
			list->result = GG_MX_TEMPFAIL;
			if (snprintf(list->error, sizeof(list->error), "%s%s: address lookup failed (%s)",
				     l->host_mode ? "" : "no MX for ", host->name,
				     host->error) >= (int)sizeof(list->error))
				list->error[sizeof(list->error) - 1] = '\0';
		}
	}
}

/* addr_cb - one AAAA or A answer */
static void addr_cb(const struct gg_dns_result *res, void *arg)
{
	struct aq *q = arg;
	struct gg_mx_lookup *l = q->l;
	size_t i;

	q->busy = 0;
	q->st = res->st;
	snprintf(q->error, sizeof(q->error), "%s", res->error != NULL ? res->error : "");
	for (i = 0; i < res->naddrs && q->naddrs < GG_MX_MAX_ADDRS; i++)
		q->addrs[q->naddrs++] = res->addrs[i].addr;
	if (q->naddrs == 0 && q->st == GG_OK) {
		q->st = GG_NOTFOUND;
		snprintf(q->error, sizeof(q->error), "no data");
	}
	if (--l->pending > 0)
		return;
	merge(l);
	deliver(l);
}

/* ask_addrs - AAAA and/or A queries for every host without addresses */
static void ask_addrs(struct gg_mx_lookup *l)
{
	struct gg_mx_list *list = l->list;
	size_t h, k;
	enum gg_status st;

	for (h = 0; h < list->nhosts; h++) {
		if (list->hosts[h].naddrs > 0)
			continue;
		for (k = 0; k < 2; k++) {
			int type = k == 0 ? ns_t_aaaa : ns_t_a;
			struct aq *q;
			if ((type == ns_t_aaaa && l->family == 4) || (type == ns_t_a && l->family == 6))
				continue;
			q = &l->q[l->nq++];
			memset(q, 0, sizeof(*q));
			q->l = l;
			q->host = h;
			q->type = type;
		}
	}
	for (k = 0; k < l->nq; k++) {
		struct aq *q = &l->q[k];
		st = gg_resolver_query(l->r, list->hosts[q->host].name, q->type, addr_cb, q);
		if (st != GG_OK) {
			/* A name the resolver refuses (too long...): a failed answer. */
			q->st = GG_EDNS;
			snprintf(q->error, sizeof(q->error), "%s", gg_status_str(st));
			continue;
		}
		q->busy = 1;
		l->pending++;
	}
	if (l->pending == 0) {
		merge(l);
		event_active(l->deliver_ev, EV_TIMEOUT, 0);
	}
}

/* add_host - append a host (name or literal) to the list */
static void add_host(struct gg_mx_list *list, const char *name, unsigned pref)
{
	struct gg_mx_host *h;
	struct gg_addr a;

	if (list->nhosts >= GG_MX_MAX_HOSTS)
		return;
	h = &list->hosts[list->nhosts++];
	memset(h, 0, sizeof(*h));
	gg_strcpy(h->name, sizeof(h->name), name);
	h->pref = pref;
	h->st = GG_NOTFOUND;
	if (gg_mx_parse_literal(name, &a) == GG_OK) {
		h->addrs[0] = a;
		h->naddrs = 1;
		h->st = GG_OK;
	}
}

/* mx_cb - the MX answer */
static void mx_cb(const struct gg_dns_result *res, void *arg)
{
	struct gg_mx_lookup *l = arg;
	struct gg_mx_list *list = l->list;
	struct gg_mx_host all[GG_DNS_MAX_RECORDS];
	size_t i, n = 0, nnull = 0;

	l->mx_busy = 0;
	if (res->st == GG_NOTFOUND) {
		list->implicit = 1;
		add_host(list, l->domain, 0);
		ask_addrs(l);
		return;
	}
	if (res->st != GG_OK) {
		list->result = GG_MX_TEMPFAIL;
		snprintf(list->error, sizeof(list->error), "MX lookup for %s failed: %s", l->domain,
			 res->error != NULL ? res->error : gg_status_str(res->st));
		deliver(l);
		return;
	}
	for (i = 0; i < res->nmx && n < GG_DNS_MAX_RECORDS; i++) {
		if (res->mx[i].host[0] == '\0' || strcmp(res->mx[i].host, ".") == 0) {
			nnull++;
			continue;
		}
		memset(&all[n], 0, sizeof(all[n]));
		gg_strcpy(all[n].name, sizeof(all[n].name), res->mx[i].host);
		all[n].pref = res->mx[i].pref;
		n++;
	}
	if (n == 0 && nnull > 0) {
		list->result = GG_MX_NULL;
		snprintf(list->error, sizeof(list->error),
			 "%s does not accept mail (null MX, RFC 7505)", l->domain);
		deliver(l);
		return;
	}
	gg_mx_sort(all, n, l->rnd, l->rarg);
	for (i = 0; i < n; i++)
		add_host(list, all[i].name, all[i].pref);
	ask_addrs(l);
}

/* lookup_new - common set-up */
static enum gg_status lookup_new(struct event_base *base, struct gg_resolver *r,
				 const char *name, int family, gg_mx_cb cb, void *arg,
				 struct gg_mx_lookup **out)
{
	struct gg_mx_lookup *l;
	size_t len = strlen(name);

	*out = NULL;
	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > GG_DNS_NAME_MAX || (family != 0 && family != 4 && family != 6))
		return GG_EINVAL;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return GG_ENOMEM;
	if ((l->list = calloc(1, sizeof(*l->list))) == NULL ||
	    (l->deliver_ev = event_new(base, -1, 0, deliver_cb, l)) == NULL) {
		free(l->list);
		free(l);
		return GG_ENOMEM;
	}
	l->base = base;
	l->r = r;
	l->family = family;
	l->cb = cb;
	l->arg = arg;
	memcpy(l->domain, name, len);
	l->domain[len] = '\0';
	*out = l;
	return GG_OK;
}

/* gg_mx_lookup - MX hosts of a domain, with addresses */
enum gg_status gg_mx_lookup(struct event_base *base, struct gg_resolver *r, const char *domain,
			    int family, gg_mx_rand rnd, void *rarg, gg_mx_cb cb, void *arg,
			    struct gg_mx_lookup **out)
{
	struct gg_mx_lookup *l;
	struct gg_addr a;
	enum gg_status st;

	if ((st = lookup_new(base, r, domain, family, cb, arg, &l)) != GG_OK)
		return st;
	l->rnd = rnd;
	l->rarg = rarg;
	if (gg_mx_parse_literal(domain, &a) == GG_OK) {
		l->list->literal = 1;
		add_host(l->list, domain, 0);
		event_active(l->deliver_ev, EV_TIMEOUT, 0);
	} else if (r == NULL) {
		gg_mx_cancel(l);
		return GG_EINVAL;
	} else if ((st = gg_resolver_query(r, l->domain, ns_t_mx, mx_cb, l)) != GG_OK) {
		gg_mx_cancel(l);
		return st;
	} else {
		l->mx_busy = 1;
	}
	*out = l;
	return GG_OK;
}

/* gg_mx_lookup_host - the addresses of one host */
enum gg_status gg_mx_lookup_host(struct event_base *base, struct gg_resolver *r,
				 const char *host, int family, gg_mx_cb cb, void *arg,
				 struct gg_mx_lookup **out)
{
	struct gg_mx_lookup *l;
	enum gg_status st;

	if ((st = lookup_new(base, r, host, family, cb, arg, &l)) != GG_OK)
		return st;
	l->host_mode = 1;
	add_host(l->list, l->domain, 0);
	if (l->list->hosts[0].naddrs > 0) {
		l->list->literal = 1;
		event_active(l->deliver_ev, EV_TIMEOUT, 0);
	} else if (r == NULL) {
		gg_mx_cancel(l);
		return GG_EINVAL;
	} else {
		ask_addrs(l);
	}
	*out = l;
	return GG_OK;
}

/* gg_mx_cancel - withdraw every query and free the lookup */
void gg_mx_cancel(struct gg_mx_lookup *l)
{
	size_t i;

	if (l == NULL)
		return;
	if (l->mx_busy && l->r != NULL)
		gg_resolver_cancel(l->r, mx_cb, l);
	for (i = 0; i < l->nq; i++)
		if (l->q[i].busy && l->r != NULL)
			gg_resolver_cancel(l->r, addr_cb, &l->q[i]);
	if (l->deliver_ev != NULL)
		event_free(l->deliver_ev);
	free(l->list);
	free(l);
}

/*
 * resolver.c - c-ares channel on a libevent loop (see resolver.h)
 *
 * Life of a query: gg_resolver_query() allocates a struct rquery, arms its
 * deadline timer and hands it to ares_query().  Exactly one of three things
 * then delivers the user's callback, and sets rq->done so the others do
 * nothing: c-ares's answer (ares_cb), the deadline (deadline_cb), or a
 * cancel.  The rquery itself lives until c-ares has let go of it too
 * (rq->in_ares == 0), because c-ares keeps our pointer until it calls back.
 *
 * c-ares can call back from inside ares_query() (a socket that cannot be
 * opened, out of memory, a name it rejects).  While r->submitting is set
 * such results are parked on r->deferred and delivered by r->defer_ev on
 * the next loop turn.
 *
 * Bursts.  c-ares 1.18 sends every UDP query to a server over one socket,
 * and a busy policy server sends hundreds of queries in one loop turn
 * (every check of every request that arrived) before the loop reads a
 * single answer.  A fast server's answers then pile up in that socket, as
 * they do whenever the loop is late (busy, or not scheduled): the kernel's
 * default receive buffer (net.core.rmem_default, 208 KiB) holds about 280
 * small answers and drops the rest, and each lost answer costs a c-ares
 * retry (a third of dns_timeout), two cost the whole budget.  So the
 * sockets ask for a larger receive buffer (GG_RESOLVER_RCVBUF; the kernel
 * grants at most twice net.core.rmem_max, 416 KiB on a stock system),
 * and while queries are being submitted outside c-ares's own processing,
 * every GG_RESOLVER_DRAIN_EVERY submissions the UDP sockets are read (drain()):
 * the answers found are parked on r->deferred like any synchronous result,
 * so nothing calls back from inside gg_resolver_query(), and a burst
 * leaves only a small backlog whatever the buffer size.
 */
#include <arpa/inet.h>
#include <ares.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netdb.h>

#include "dns/answer.h"
#include "dns/resolver.h"
#include "lib/list.h"
#include "lib/util.h"

/* A result plus its reference count; callers only ever see &box->pub. */
struct result_box {
	struct gg_dns_result pub;
	unsigned refs;
	char qname[GG_DNS_NAME_MAX + 1];
};

struct rquery {
	struct gg_list link;		/* on r->queries: every rquery not yet freed */
	struct gg_list queue_link;	/* on r->deferred while parked there */
	struct gg_resolver *r;
	gg_resolver_cb cb;
	void *arg;
	int type;
	int done;			/* callback delivered or withdrawn */
	int in_ares;			/* c-ares still holds this pointer */
	struct result_box *pending;	/* answered synchronously, awaiting defer_ev */
	struct event *deadline;
	char name[GG_DNS_NAME_MAX + 1];
};

/* Asked of SO_RCVBUF for c-ares's sockets; the kernel grants at most 2 x net.core.rmem_max. */
#define GG_RESOLVER_RCVBUF (1 << 20)
/* Read the UDP sockets after this many queries submitted in a row (see drain()). */
#define GG_RESOLVER_DRAIN_EVERY 32
/* At most this many sockets are drained at once (c-ares: one UDP socket per server). */
#define GG_RESOLVER_DRAIN_MAX (2 * GG_RESOLVER_MAX_SERVERS)

struct sockev {
	struct gg_list link;		/* on r->socks */
	ares_socket_t fd;
	short what;
	int udp;			/* a datagram socket (drain() reads only those) */
	struct event *ev;
};

struct gg_resolver {
	struct event_base *base;
	ares_channel channel;
	int channel_ok;
	long timeout_ms;
	struct event *timer;		/* ares_timeout() */
	struct event *defer_ev;		/* delivers r->deferred */
	struct gg_list socks;		/* struct sockev, newest first */
	struct gg_list queries;		/* struct rquery, newest first */
	struct gg_list deferred;	/* struct rquery, in the order answered */
	int submitting;			/* inside ares_query() */
	int processing;			/* inside ares_process_fd() */
	unsigned since_drain;		/* queries submitted since drain() last ran */
	struct gg_resolver_stats stats;
};

/* ------------------------------------------------------------ results */

/* box_new - an empty result for rq */
static struct result_box *box_new(const struct rquery *rq)
{
	struct result_box *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return NULL;
	b->refs = 1;
	memcpy(b->qname, rq->name, sizeof(b->qname));
	b->pub.qname = b->qname;
	b->pub.type = rq->type;
	return b;
}

/* box_free - release everything a result owns */
static void box_free(struct result_box *b)
{
	struct gg_dns_result *p = &b->pub;
	size_t i;

	for (i = 0; i < p->ntxt; i++)
		free(p->txt[i]);
	for (i = 0; i < p->nnames; i++)
		free(p->names[i]);
	for (i = 0; i < p->nmx; i++)
		free(p->mx[i].host);
	free(p->txt);
	free(p->names);
	free(p->mx);
	free(p->addrs);
	free(b);
}

/* gg_dns_result_ref - keep a result beyond its callback */
const struct gg_dns_result *gg_dns_result_ref(const struct gg_dns_result *res)
{
	struct result_box *b = (struct result_box *)(uintptr_t)res;

	b->refs++;
	return res;
}

/* gg_dns_result_unref - drop one reference */
void gg_dns_result_unref(const struct gg_dns_result *res)
{
	struct result_box *b;

	if (res == NULL)
		return;
	b = (struct result_box *)(uintptr_t)res;
	if (--b->refs == 0)
		box_free(b);
}

/* gg_dns_type_str - name of a query type */
const char *gg_dns_type_str(int type)
{
	switch (type) {
	case ns_t_a:	return "A";
	case ns_t_aaaa:	return "AAAA";
	case ns_t_txt:	return "TXT";
	case ns_t_ptr:	return "PTR";
	case ns_t_mx:	return "MX";
	}
	return "?";
}

/* build_result - parse c-ares's answer for rq; NULL only when out of memory */
static struct result_box *build_result(const struct rquery *rq, int status,
				       const unsigned char *abuf, int alen)
{
	struct result_box *b = box_new(rq);

	if (b == NULL)
		return NULL;
	if (gg_answer_result(&b->pub, status, abuf, alen) != GG_OK) {
		box_free(b);
		return NULL;
	}
	return b;
}

/* status_result - a record-less result carrying only a status */
static struct result_box *status_result(const struct rquery *rq, int status)
{
	struct result_box *b = box_new(rq);

	if (b != NULL)
		gg_answer_status(&b->pub, status);
	return b;
}

/* ------------------------------------------------------------ queries */

static void rearm_timer(struct gg_resolver *r);

/* rq_free - unlink and free an rquery nobody needs any more */
static void rq_free(struct rquery *rq)
{
	gg_list_remove(&rq->link);
	gg_list_remove(&rq->queue_link);
	if (rq->deadline != NULL)
		event_free(rq->deadline);
	if (rq->pending != NULL)
		gg_dns_result_unref(&rq->pending->pub);
	free(rq);
}

/* count - keep the statistics */
static void count(struct gg_resolver *r, const struct gg_dns_result *res)
{
	if (res->cancelled)
		return;
	switch (res->st) {
	case GG_OK:		r->stats.answers++; break;
	case GG_NOTFOUND:	r->stats.notfound++; break;
	case GG_ETIMEOUT:	r->stats.timeouts++; break;
	default:		r->stats.errors++; break;
	}
}

/*
 * deliver - run rq's callback with b (consumed).  If b is NULL (out of
 * memory) a static stand-in result says so.  rq is freed afterwards unless
 * c-ares still holds it.
 */
static void deliver(struct rquery *rq, struct result_box *b)
{
	static const struct gg_dns_result nomem = {
		.st = GG_EDNS, .error = "out of memory", .qname = "",
	};

	rq->done = 1;
	if (rq->deadline != NULL)
		event_del(rq->deadline);
	rq->r->stats.in_flight--;
	if (b != NULL) {
		count(rq->r, &b->pub);
		rq->cb(&b->pub, rq->arg);
		gg_dns_result_unref(&b->pub);
	} else {
		rq->r->stats.errors++;
		rq->cb(&nomem, rq->arg);
	}
	if (!rq->in_ares && !gg_list_linked(&rq->queue_link))
		rq_free(rq);
}

/* ares_cb - c-ares is done with a query */
static void ares_cb(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct rquery *rq = arg;
	struct gg_resolver *r = rq->r;
	struct result_box *b;

	(void)timeouts;
	rq->in_ares = 0;
	if (rq->done) {
		/* Already timed out, cancelled or withdrawn. */
		rq_free(rq);
		return;
	}
	b = build_result(rq, status, abuf, alen);
	if (r->submitting) {
		/* Never call back from inside gg_resolver_query(). */
		rq->pending = b != NULL ? b : status_result(rq, ARES_ENOMEM);
		gg_list_push_back(&r->deferred, &rq->queue_link);
		r->stats.deferred++;
		event_active(r->defer_ev, EV_TIMEOUT, 0);
		return;
	}
	deliver(rq, b);
}

/* defer_cb - deliver the answers c-ares gave synchronously */
static void defer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gg_resolver *r = arg;
	struct gg_list *l;

	(void)fd;
	(void)what;
	while ((l = gg_list_pop(&r->deferred)) != NULL) {
		struct rquery *rq = gg_list_entry(l, struct rquery, queue_link);
		struct result_box *b = rq->pending;
		rq->pending = NULL;
		if (rq->done) {
			/* Withdrawn or timed out while waiting: nothing to say. */
			if (b != NULL)
				gg_dns_result_unref(&b->pub);
			if (!rq->in_ares)
				rq_free(rq);
			continue;
		}
		deliver(rq, b);
	}
}

/* deadline_cb - the query ran out of time: answer GG_ETIMEOUT now */
static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rquery *rq = arg;

	(void)fd;
	(void)what;
	if (rq->done)
		return;
	/* c-ares keeps trying until its own schedule ends; we stop waiting. */
	deliver(rq, status_result(rq, ARES_ETIMEOUT));
}

/*
 * drain - read whatever answers already wait in the UDP sockets.  Only
 * from gg_resolver_query() (r->submitting is set, so answers are parked on
 * r->deferred), and never inside c-ares's own processing: c-ares 1.18 is
 * not reentrant.  The fds are copied first because the socket-state
 * callback may free sockevs while c-ares processes.
 */
static void drain(struct gg_resolver *r)
{
	ares_socket_t fds[GG_RESOLVER_DRAIN_MAX];
	struct gg_list *l;
	size_t n = 0, i;

	for (l = gg_list_first(&r->socks); l != NULL && n < GG_RESOLVER_DRAIN_MAX;
	     l = gg_list_next(&r->socks, l)) {
		struct sockev *s = gg_list_entry(l, struct sockev, link);
		if (s->udp && (s->what & EV_READ))
			fds[n++] = s->fd;
	}
	r->processing++;
	for (i = 0; i < n; i++)
		ares_process_fd(r->channel, fds[i], ARES_SOCKET_BAD);
	r->processing--;
}

/* gg_resolver_query - send one query */
enum gg_status gg_resolver_query(struct gg_resolver *r, const char *name, int type,
				 gg_resolver_cb cb, void *arg)
{
	struct rquery *rq;
	struct timeval tv;
	size_t len;

	if (r == NULL || name == NULL || cb == NULL)
		return GG_EINVAL;
	if (type != ns_t_a && type != ns_t_aaaa && type != ns_t_txt && type != ns_t_ptr &&
	    type != ns_t_mx)
		return GG_EINVAL;
	len = strlen(name);
	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > GG_DNS_NAME_MAX)
		return GG_EINVAL;
	if ((rq = calloc(1, sizeof(*rq))) == NULL)
		return GG_ENOMEM;
	memcpy(rq->name, name, len);
	rq->name[len] = '\0';
	gg_list_init(&rq->link);
	gg_list_init(&rq->queue_link);
	rq->r = r;
	rq->cb = cb;
	rq->arg = arg;
	rq->type = type;
	if ((rq->deadline = evtimer_new(r->base, deadline_cb, rq)) == NULL) {
		free(rq);
		return GG_ENOMEM;
	}
	tv.tv_sec = r->timeout_ms / 1000;
	tv.tv_usec = (r->timeout_ms % 1000) * 1000;
	if (evtimer_add(rq->deadline, &tv) < 0) {
		event_free(rq->deadline);
		free(rq);
		return GG_ENOMEM;
	}
	gg_list_push_front(&r->queries, &rq->link);
	rq->in_ares = 1;
	r->stats.queries++;
	r->stats.in_flight++;
	r->submitting++;
	ares_query(r->channel, rq->name, ns_c_in, type, ares_cb, rq);
	if (++r->since_drain >= GG_RESOLVER_DRAIN_EVERY && !r->processing) {
		r->since_drain = 0;
		drain(r);
	}
	r->submitting--;
	rearm_timer(r);
	return GG_OK;
}

/* gg_resolver_cancel - withdraw the queries of one owner */
size_t gg_resolver_cancel(struct gg_resolver *r, gg_resolver_cb cb, void *arg)
{
	struct gg_list *l, *next;
	size_t n = 0;

	for (l = gg_list_first(&r->queries); l != NULL; l = next) {
		struct rquery *rq = gg_list_entry(l, struct rquery, link);
		next = gg_list_next(&r->queries, l);
		if (rq->done || rq->cb != cb || rq->arg != arg)
			continue;
		rq->done = 1;
		r->stats.in_flight--;
		n++;
		if (rq->deadline != NULL)
			event_del(rq->deadline);
		/* A queued one is freed by defer_cb, which holds it in its queue. */
		if (!rq->in_ares && !gg_list_linked(&rq->queue_link))
			rq_free(rq);
	}
	return n;
}

/* first_live - the first query whose callback has not run, or NULL */
static struct rquery *first_live(struct gg_resolver *r)
{
	struct gg_list *l;

	for (l = gg_list_first(&r->queries); l != NULL; l = gg_list_next(&r->queries, l)) {
		struct rquery *rq = gg_list_entry(l, struct rquery, link);
		if (!rq->done)
			return rq;
	}
	return NULL;
}

/* gg_resolver_cancel_all - end every outstanding query now */
void gg_resolver_cancel_all(struct gg_resolver *r)
{
	struct rquery *rq;

	if (r == NULL)
		return;
	/*
	 * Deliver one at a time and restart the scan each time: a callback may
	 * withdraw other queries (which frees them) while we are in it.
	 */
	while ((rq = first_live(r)) != NULL) {
		if (rq->pending != NULL) {
			/* It stays in r->deferred; defer_cb frees it later. */
			gg_dns_result_unref(&rq->pending->pub);
			rq->pending = NULL;
		}
		deliver(rq, status_result(rq, ARES_ECANCELLED));
	}
	/* Let c-ares drop its copies too, unless we are inside its processing. */
	if (!r->processing && r->channel_ok)
		ares_cancel(r->channel);
	rearm_timer(r);
}

/* ------------------------------------------------------------ events */

/* rearm_timer - wake up when c-ares next needs to handle a timeout */
static void rearm_timer(struct gg_resolver *r)
{
	struct timeval tv, *tvp;

	if (!r->channel_ok)
		return;
	tvp = ares_timeout(r->channel, NULL, &tv);
	if (tvp != NULL)
		evtimer_add(r->timer, tvp);
	else
		evtimer_del(r->timer);
}

/* timer_cb - let c-ares retry or time out its queries */
static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gg_resolver *r = arg;

	(void)fd;
	(void)what;
	r->processing++;
	ares_process_fd(r->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	r->processing--;
	rearm_timer(r);
}

/* sock_cb - a c-ares socket is readable or writable */
static void sock_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gg_resolver *r = arg;

	/* The sock_state callback may free this socket's event in here. */
	r->since_drain = 0;
	r->processing++;
	ares_process_fd(r->channel, (what & EV_READ) ? fd : ARES_SOCKET_BAD,
			(what & EV_WRITE) ? fd : ARES_SOCKET_BAD);
	r->processing--;
	rearm_timer(r);
}

/* find_sock - the watched socket fd, or NULL */
static struct sockev *find_sock(struct gg_resolver *r, ares_socket_t fd)
{
	struct gg_list *l;

	for (l = gg_list_first(&r->socks); l != NULL; l = gg_list_next(&r->socks, l)) {
		struct sockev *s = gg_list_entry(l, struct sockev, link);
		if (s->fd == fd)
			return s;
	}
	return NULL;
}

/* sock_free - stop watching a socket */
static void sock_free(struct sockev *s)
{
	gg_list_remove(&s->link);
	event_free(s->ev);
	free(s);
}

/*
 * sock_state_cb - c-ares opened, changed or closed a socket.  There is no
 * way to report an allocation failure here; the socket then goes unwatched
 * and its queries end at their deadline.
 */
static void sock_state_cb(void *data, ares_socket_t fd, int readable, int writable)
{
	struct gg_resolver *r = data;
	struct sockev *s = find_sock(r, fd);
	short what = (short)((readable ? EV_READ : 0) | (writable ? EV_WRITE : 0));

	if (what == 0) {
		if (s != NULL)
			sock_free(s);
		return;
	}
	if (s == NULL) {
		int type = 0;
		socklen_t len = sizeof(type);
		if ((s = calloc(1, sizeof(*s))) == NULL)
			return;
		s->fd = fd;
		s->udp = getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_DGRAM;
		if ((s->ev = event_new(r->base, fd, what | EV_PERSIST, sock_cb, r)) == NULL) {
			free(s);
			return;
		}
		s->what = what;
		gg_list_push_front(&r->socks, &s->link);
	} else if (s->what != what) {
		event_del(s->ev);
		event_assign(s->ev, r->base, fd, what | EV_PERSIST, sock_cb, r);
		s->what = what;
	}
	event_add(s->ev, NULL);
}

/* ------------------------------------------------------------ setup */

/* gg_resolver_new - channel, events and servers */
enum gg_status gg_resolver_new(struct event_base *base, const char *servers, long timeout_ms,
			       struct gg_resolver **out, char *err, size_t errsize)
{
	struct gg_resolver *r = NULL;
	struct ares_options opts;
	char csv[GG_RESOLVER_MAX_SERVERS * (INET6_ADDRSTRLEN + 10) + 1];
	enum gg_status st;
	int rc;

	*out = NULL;
	if (base == NULL) {
		snprintf(err, errsize, "resolver: no event base");
		return GG_EINVAL;
	}
	if (timeout_ms < GG_RESOLVER_MIN_TIMEOUT_MS || timeout_ms > GG_RESOLVER_MAX_TIMEOUT_MS) {
		snprintf(err, errsize, "dns_timeout: %ld ms is outside %ld-%ld ms", timeout_ms,
			 GG_RESOLVER_MIN_TIMEOUT_MS, GG_RESOLVER_MAX_TIMEOUT_MS);
		return GG_EINVAL;
	}
	if ((st = gg_resolver_parse_servers(servers, csv, sizeof(csv), err, errsize)) != GG_OK)
		return st;
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		snprintf(err, errsize, "resolver: out of memory");
		return GG_ENOMEM;
	}
	r->base = base;
	r->timeout_ms = timeout_ms;
	gg_list_init(&r->socks);
	gg_list_init(&r->queries);
	gg_list_init(&r->deferred);
	if ((r->timer = evtimer_new(base, timer_cb, r)) == NULL ||
	    (r->defer_ev = event_new(base, -1, 0, defer_cb, r)) == NULL) {
		snprintf(err, errsize, "resolver: out of memory");
		st = GG_ENOMEM;
		goto out;
	}

	memset(&opts, 0, sizeof(opts));
	/* No search domains, no HOSTALIASES: names are always absolute here. */
	opts.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES | ARES_FLAG_EDNS;
	opts.ednspsz = 1232;
	/*
	 * Two tries; c-ares doubles the per-try timeout on the second round, so
	 * a third of the budget each lets one server answer a retry in time.
	 * Our own deadline per query makes the bound exact whatever the
	 * number of servers.  (A third try would make a lost datagram cheaper,
	 * but c-ares 1.18 then reports a closed port as a timeout: the ICMP
	 * error goes to whichever send comes next, and the query it belonged
	 * to waits for its retry.)
	 */
	opts.timeout = (int)(timeout_ms / 3 > 5 ? timeout_ms / 3 : 5);
	opts.tries = 2;
	/* Room for a burst of answers (see "Bursts" at the top). */
	opts.socket_receive_buffer_size = GG_RESOLVER_RCVBUF;
	opts.sock_state_cb = sock_state_cb;
	opts.sock_state_cb_data = r;
	rc = ares_init_options(&r->channel, &opts,
			       ARES_OPT_FLAGS | ARES_OPT_EDNSPSZ | ARES_OPT_TIMEOUTMS |
			       ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB | ARES_OPT_NOROTATE |
			       ARES_OPT_SOCK_RCVBUF);
	if (rc != ARES_SUCCESS) {
		snprintf(err, errsize, "resolver: c-ares initialisation failed: %s",
			 ares_strerror(rc));
		st = rc == ARES_ENOMEM ? GG_ENOMEM : GG_EDNS;
		goto out;
	}
	r->channel_ok = 1;
	/* Before any query: otherwise c-ares would use /etc/resolv.conf's servers. */
	if (csv[0] != '\0' && (rc = ares_set_servers_ports_csv(r->channel, csv)) != ARES_SUCCESS) {
		snprintf(err, errsize, "dns_servers: c-ares refused '%s': %s", csv,
			 ares_strerror(rc));
		st = rc == ARES_ENOMEM ? GG_ENOMEM : GG_EINVAL;
		goto out;
	}
	*out = r;
	return GG_OK;
out:
	gg_resolver_free(r);
	return st;
}

/* gg_resolver_free - cancel everything and release the channel */
void gg_resolver_free(struct gg_resolver *r)
{
	struct gg_list *l;

	if (r == NULL)
		return;
	gg_resolver_cancel_all(r);
	if (r->channel_ok) {
		/* Calls ares_cb for anything left (all done): they just free. */
		ares_destroy(r->channel);
		r->channel_ok = 0;
	}
	/* Anything withdrawn but still parked for defer_cb. */
	defer_cb(-1, 0, r);
	while ((l = gg_list_first(&r->queries)) != NULL)
		rq_free(gg_list_entry(l, struct rquery, link));
	while ((l = gg_list_first(&r->socks)) != NULL)
		sock_free(gg_list_entry(l, struct sockev, link));
	if (r->timer != NULL)
		event_free(r->timer);
	if (r->defer_ev != NULL)
		event_free(r->defer_ev);
	free(r);
}

/* gg_resolver_stats - counters */
void gg_resolver_stats(const struct gg_resolver *r, struct gg_resolver_stats *out)
{
	*out = r->stats;
}

/* gg_resolver_timeout_ms - the per-query bound */
long gg_resolver_timeout_ms(const struct gg_resolver *r)
{
	return r->timeout_ms;
}

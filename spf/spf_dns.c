/*
 * spf_dns.c - a libspf2 DNS layer on a private c-ares channel (see spf_dns.h)
 *
 * libspf2 asks for one name and type at a time and wants an SPF_dns_rr_t
 * back, filled through its exported SPF_dns_rr_* helpers.  We send the
 * query on this worker's own channel and drive that channel right here:
 * poll() on the sockets c-ares reports through its socket-state callback
 * plus the pool's stop pipe, with a timeout from ares_timeout() capped by
 * the check's deadline.  Answers are decoded by dns/answer.c, the decoder
 * the resolver uses too (c-ares's bounds-checked parsers, never by hand).
 *
 * Mapping of c-ares outcomes to what libspf2 expects in herrno:
 *   answer with records of the type       NETDB_SUCCESS
 *   no records of the type (NOERROR)      NO_DATA         -> "none" at top level
 *   NXDOMAIN, or a name c-ares refuses     HOST_NOT_FOUND  -> "none" at top level
 *   anything else (SERVFAIL, REFUSED, timeout, connection refused,
 *   malformed answer, out of memory, deadline, stop)   TRY_AGAIN -> temperror
 *
 * Threads: everything here runs on the one worker thread that owns it,
 * except gg_spf_dns_new()/gg_spf_dns_free(), which run before the thread
 * starts and after it is joined.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <ares.h>

#include "dns/answer.h"
#include "spf/spf_dns.h"

/* At most this many records of one answer are handed to libspf2. */
#define GG_SPF_DNS_MAXRR 256

struct gg_spf_dns {
	SPF_dns_server_t layer;		/* layer.hook points back here */
	ares_channel channel;
	struct pollfd *pfd;		/* [0] the stop pipe, then c-ares's sockets */
	size_t nsocks, cap;		/* sockets in pfd[1..], room for cap of them */
	struct pollfd *ready;		/* scratch copy of the ready sockets */
	struct timespec deadline;
	enum gg_status aborted;		/* GG_OK while lookups may run */
	unsigned queries;
	int track_failed;		/* a socket could not be tracked (no memory) */
};

/* One query in flight (there is never more than one per channel). */
struct pending {
	struct gg_spf_dns *d;
	const char *domain;
	ns_type type;
	int done;
	SPF_dns_rr_t *rr;
};

/* sock_state_cb - c-ares opens, closes or changes interest in a socket */
static void sock_state_cb(void *data, ares_socket_t fd, int readable, int writable)
{
	struct gg_spf_dns *d = data;
	short events = (short)((readable ? POLLIN : 0) | (writable ? POLLOUT : 0));
	size_t i;

	for (i = 1; i <= d->nsocks; i++)
		if (d->pfd[i].fd == fd)
			break;
	if (i <= d->nsocks) {
		if (events == 0) {
			/* Closed: move the last one into its place. */
			d->pfd[i] = d->pfd[d->nsocks];
			d->nsocks--;
		} else {
			d->pfd[i].events = events;
		}
		return;
	}
	if (events == 0)
		return;
	if (d->nsocks == d->cap) {
		size_t ncap = d->cap ? d->cap * 2 : 8;
		struct pollfd *np = realloc(d->pfd, (ncap + 1) * sizeof(*np));
		struct pollfd *nr;

		if (np == NULL) {
			/* Cannot watch it: the wait loop gives up (GG_ENOMEM). */
			d->track_failed = 1;
			return;
		}
		d->pfd = np;
		nr = realloc(d->ready, ncap * sizeof(*nr));
		if (nr == NULL) {
			d->track_failed = 1;
			return;
		}
		d->ready = nr;
		d->cap = ncap;
	}
	d->nsocks++;
	d->pfd[d->nsocks].fd = fd;
	d->pfd[d->nsocks].events = events;
	d->pfd[d->nsocks].revents = 0;
}

/* rr_new - an answer structure for libspf2 with the given herrno */
static SPF_dns_rr_t *rr_new(struct gg_spf_dns *d, const char *domain, ns_type type, int herrno)
{
	return SPF_dns_rr_new_init(&d->layer, domain, type, 0, herrno);
}

/* fill_addrs - A or AAAA records into rr; returns a c-ares status */
static int fill_addrs(SPF_dns_rr_t *rr, ns_type type, const unsigned char *abuf, int alen)
{
	struct gg_answer_addr at[GG_SPF_DNS_MAXRR];
	size_t n = GG_SPF_DNS_MAXRR, i;
	int rc;

	if ((rc = gg_answer_addrs(abuf, alen, type, at, &n)) != ARES_SUCCESS)
		return rc;
	for (i = 0; i < n; i++) {
		if (type == ns_t_a) {
			if (SPF_dns_rr_buf_realloc(rr, (int)i, sizeof(struct in_addr)) != SPF_E_SUCCESS)
				return ARES_ENOMEM;
			memcpy(&rr->rr[i]->a, at[i].addr.bytes, sizeof(struct in_addr));
		} else {
			if (SPF_dns_rr_buf_realloc(rr, (int)i, sizeof(struct in6_addr)) != SPF_E_SUCCESS)
				return ARES_ENOMEM;
			memcpy(&rr->rr[i]->aaaa, at[i].addr.bytes, sizeof(struct in6_addr));
		}
		rr->num_rr = (int)i + 1;
	}
	return ARES_SUCCESS;
}

/* put_name - store a host name as record idx */
static int put_name(SPF_dns_rr_t *rr, int idx, const char *name)
{
	size_t len = strlen(name) + 1;

	if (SPF_dns_rr_buf_realloc(rr, idx, len) != SPF_E_SUCCESS)
		return ARES_ENOMEM;
	/* ptr, mx and txt are the same bytes of the union. */
	memcpy(rr->rr[idx]->ptr, name, len);
	rr->num_rr = idx + 1;
	return ARES_SUCCESS;
}

/* The answer being filled by the decoder's sinks; records past GG_SPF_DNS_MAXRR are dropped. */
struct fill {
	SPF_dns_rr_t *rr;
	int idx;
};

/* mx_sink - one MX exchange name */
static int mx_sink(unsigned pref, const char *host, void *arg)
{
	struct fill *f = arg;

	(void)pref;
	if (f->idx >= GG_SPF_DNS_MAXRR)
		return ARES_SUCCESS;
	return put_name(f->rr, f->idx++, host);
}

/* name_sink - one PTR name */
static int name_sink(const char *name, size_t len, void *arg)
{
	struct fill *f = arg;

	(void)len;
	if (f->idx >= GG_SPF_DNS_MAXRR)
		return ARES_SUCCESS;
	return put_name(f->rr, f->idx++, name);
}

/* fill_mx - MX exchange names into rr */
static int fill_mx(SPF_dns_rr_t *rr, const unsigned char *abuf, int alen)
{
	struct fill f = { rr, 0 };

	return gg_answer_mx(abuf, alen, mx_sink, &f);
}

/* fill_ptr - every PTR name into rr */
static int fill_ptr(SPF_dns_rr_t *rr, const unsigned char *abuf, int alen)
{
	struct fill f = { rr, 0 };

	return gg_answer_ptr(abuf, alen, name_sink, &f);
}

/* is_spf_record - does a TXT record start "v=spf1" followed by a space or its end? */
static int is_spf_record(const char *s, size_t len)
{
	return len >= 6 && strncasecmp(s, "v=spf1", 6) == 0 && (len == 6 || s[6] == ' ');
}

/*
 * put_txt - store one whole TXT record as record idx
 *
 * libspf2 1.2.10 compiles an explanation (the TXT record exp= names)
 * wrongly when it holds literal spaces: they come out as '%' and the
 * macros after the first space are not expanded.  The macro "%_" is a
 * space and works, so every TXT record that is not an SPF record has its
 * spaces rewritten to "%_".  Only explanations are affected: libspf2
 * ignores non-SPF TXT records otherwise.
 */
static int put_txt(SPF_dns_rr_t *rr, int idx, const char *s, size_t len)
{
	size_t i, n = len, o = 0;
	int rewrite = !is_spf_record(s, len);
	char *d;

	if (rewrite)
		for (i = 0; i < len; i++)
			n += s[i] == ' ';
	if (SPF_dns_rr_buf_realloc(rr, idx, n + 1) != SPF_E_SUCCESS)
		return ARES_ENOMEM;
	d = rr->rr[idx]->txt;
	for (i = 0; i < len; i++) {
		if (rewrite && s[i] == ' ') {
			d[o++] = '%';
			d[o++] = '_';
		} else {
			d[o++] = s[i];
		}
	}
	d[o] = '\0';
	rr->num_rr = idx + 1;
	return ARES_SUCCESS;
}

/* txt_sink - one whole TXT record */
static int txt_sink(const char *s, size_t len, void *arg)
{
	struct fill *f = arg;

	if (f->idx >= GG_SPF_DNS_MAXRR)
		return ARES_SUCCESS;
	return put_txt(f->rr, f->idx++, s, len);
}

/* fill_txt - TXT records into rr, the strings of each record joined */
static int fill_txt(SPF_dns_rr_t *rr, const unsigned char *abuf, int alen)
{
	struct fill f = { rr, 0 };

	return gg_answer_txt(abuf, alen, txt_sink, &f);
}

/* build_rr - turn one c-ares outcome into libspf2's answer structure */
static SPF_dns_rr_t *build_rr(struct gg_spf_dns *d, const char *domain, ns_type type, int status,
			      const unsigned char *abuf, int alen)
{
	SPF_dns_rr_t *rr;
	int rc;

	switch (status) {
	case ARES_SUCCESS:
		break;
	case ARES_ENODATA:
		return rr_new(d, domain, type, NO_DATA);
	case ARES_ENOTFOUND:
	case ARES_EBADNAME:
		return rr_new(d, domain, type, HOST_NOT_FOUND);
	default:
		return rr_new(d, domain, type, TRY_AGAIN);
	}
	if ((rr = rr_new(d, domain, type, NETDB_SUCCESS)) == NULL)
		return NULL;
	switch (type) {
	case ns_t_a:
	case ns_t_aaaa:
		rc = fill_addrs(rr, type, abuf, alen);
		break;
	case ns_t_mx:
		rc = fill_mx(rr, abuf, alen);
		break;
	case ns_t_ptr:
		rc = fill_ptr(rr, abuf, alen);
		break;
	case ns_t_txt:
		rc = fill_txt(rr, abuf, alen);
		break;
	default:
		rc = ARES_ENODATA;
		break;
	}
	if (rc == ARES_ENODATA || (rc == ARES_SUCCESS && rr->num_rr == 0)) {
		rr->num_rr = 0;
		rr->herrno = NO_DATA;
	} else if (rc != ARES_SUCCESS) {
		/* Malformed answer or no memory: a DNS error, not an answer. */
		rr->num_rr = 0;
		rr->herrno = TRY_AGAIN;
	}
	return rr;
}

/* query_cb - c-ares has an outcome for the pending query */
static void query_cb(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct pending *p = arg;

	(void)timeouts;
	p->rr = build_rr(p->d, p->domain, p->type, status, abuf, alen);
	p->done = 1;
}

/* stop_all - give up on the current check */
static void stop_all(struct gg_spf_dns *d, enum gg_status why)
{
	if (d->aborted == GG_OK)
		d->aborted = why;
	/* Runs the pending callback with ARES_ECANCELLED. */
	ares_cancel(d->channel);
}

/* wait_for - drive the channel until p is answered, the deadline, or stop */
static void wait_for(struct gg_spf_dns *d, struct pending *p)
{
	while (!p->done) {
		struct timespec now;
		struct timeval maxtv, tvbuf, *tv;
		long left, wait_ms;
		size_t i, nready = 0;
		int n;

		if (d->track_failed) {
			stop_all(d, GG_ENOMEM);
			break;
		}
		gg_spf_clock(&now);
		left = gg_spf_clock_diff_ms(&now, &d->deadline);
		if (left <= 0) {
			stop_all(d, GG_ETIMEOUT);
			break;
		}
		maxtv.tv_sec = left / 1000;
		maxtv.tv_usec = (left % 1000) * 1000;
		tv = ares_timeout(d->channel, &maxtv, &tvbuf);
		wait_ms = (long)tv->tv_sec * 1000 + (tv->tv_usec + 999) / 1000;
		d->pfd[0].revents = 0;
		n = poll(d->pfd, d->nsocks + 1, (int)wait_ms);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			stop_all(d, errno == ENOMEM ? GG_ENOMEM : GG_EDNS);
			break;
		}
		if (d->pfd[0].revents != 0) {
			stop_all(d, GG_EIO);
			break;
		}
		/* Copy first: processing may open and close sockets. */
		for (i = 1; n > 0 && i <= d->nsocks; i++)
			if (d->pfd[i].revents != 0)
				d->ready[nready++] = d->pfd[i];
		for (i = 0; i < nready; i++) {
			short re = d->ready[i].revents;

			ares_process_fd(d->channel,
					(re & (POLLIN | POLLERR | POLLHUP)) ? d->ready[i].fd : ARES_SOCKET_BAD,
					(re & POLLOUT) ? d->ready[i].fd : ARES_SOCKET_BAD);
		}
		if (nready == 0)
			ares_process_fd(d->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	}
}

/* dns_lookup - libspf2's lookup entry point: one query, answered synchronously */
static SPF_dns_rr_t *dns_lookup(SPF_dns_server_t *layer, const char *domain, ns_type type,
				int should_cache)
{
	struct gg_spf_dns *d = layer->hook;
	struct pending p;
	struct timespec now;

	(void)should_cache;
	/* RFC 7208 retired type SPF; libspf2 then asks for TXT. */
	if (type == ns_t_spf)
		return rr_new(d, domain, type, NO_DATA);
	if (domain == NULL || domain[0] == '\0')
		return rr_new(d, domain, type, HOST_NOT_FOUND);
	gg_spf_clock(&now);
	if (d->aborted == GG_OK && gg_spf_clock_diff_ms(&now, &d->deadline) <= 0)
		d->aborted = GG_ETIMEOUT;
	if (d->aborted != GG_OK)
		return rr_new(d, domain, type, TRY_AGAIN);

	memset(&p, 0, sizeof(p));
	p.d = d;
	p.domain = domain;
	p.type = type;
	d->queries++;
	ares_query(d->channel, domain, ns_c_in, type, query_cb, &p);
	wait_for(d, &p);
	if (!p.done) {
		/* Not reached: ares_cancel() ran the callback. Be safe anyway. */
		stop_all(d, GG_EIO);
	}
	if (p.rr == NULL)
		p.rr = rr_new(d, domain, type, TRY_AGAIN);
	return p.rr;
}

/* gg_spf_dns_new - a channel on servers and the layer around it */
enum gg_status gg_spf_dns_new(const char *servers, long timeout_ms, int stop_fd,
			      struct gg_spf_dns **out, char *err, size_t errsize)
{
	struct gg_spf_dns *d;
	struct ares_options opts;
	int rc, optmask;
	long try_ms;

	*out = NULL;
	if ((d = calloc(1, sizeof(*d))) == NULL ||
	    (d->pfd = calloc(1, sizeof(*d->pfd))) == NULL) {
		free(d);
		snprintf(err, errsize, "SPF resolver: out of memory");
		return GG_ENOMEM;
	}
	d->pfd[0].fd = stop_fd;
	d->pfd[0].events = POLLIN;
	d->aborted = GG_OK;

	/*
	 * Two tries per query, the first after half the check's time; c-ares
	 * doubles the wait for the second, so a silent server always runs
	 * into our deadline (a clear "not finished within N ms") rather than
	 * into c-ares's own timeout just before it.  With several servers the
	 * first try moves on to the next server after half the time.
	 */
	try_ms = timeout_ms / 2;
	if (try_ms < 10)
		try_ms = 10;
	if (try_ms > 30000)
		try_ms = 30000;
	memset(&opts, 0, sizeof(opts));
	opts.flags = ARES_FLAG_EDNS;
	opts.ednspsz = 1232;
	opts.timeout = (int)try_ms;
	opts.tries = 2;
	opts.sock_state_cb = sock_state_cb;
	opts.sock_state_cb_data = d;
	optmask = ARES_OPT_FLAGS | ARES_OPT_EDNSPSZ | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
		  ARES_OPT_SOCK_STATE_CB;
	if ((rc = ares_init_options(&d->channel, &opts, optmask)) != ARES_SUCCESS) {
		snprintf(err, errsize, "SPF resolver: c-ares: %s", ares_strerror(rc));
		free(d->pfd);
		free(d);
		return rc == ARES_ENOMEM ? GG_ENOMEM : GG_EDNS;
	}
	/* Before any query: otherwise c-ares would use resolv.conf's servers. */
	if (servers != NULL && servers[0] != '\0' &&
	    (rc = ares_set_servers_ports_csv(d->channel, servers)) != ARES_SUCCESS) {
		snprintf(err, errsize, "SPF resolver: dns_servers '%.200s' is not a list of "
			 "ip or ip:port ([ipv6]:port) servers: %s", servers, ares_strerror(rc));
		ares_destroy(d->channel);
		free(d->pfd);
		free(d);
		return rc == ARES_ENOMEM ? GG_ENOMEM : GG_EINVAL;
	}

	/* destroy stays NULL: libspf2 must not free this layer, we do. */
	d->layer.lookup = dns_lookup;
	d->layer.name = "greygate-c-ares";
	d->layer.hook = d;
	*out = d;
	return GG_OK;
}

/* gg_spf_dns_layer - the SPF_dns_server_t to hand to libspf2 */
SPF_dns_server_t *gg_spf_dns_layer(struct gg_spf_dns *d)
{
	return &d->layer;
}

/* gg_spf_dns_begin - reset for a new check */
void gg_spf_dns_begin(struct gg_spf_dns *d, const struct timespec *deadline)
{
	d->deadline = *deadline;
	d->aborted = GG_OK;
	d->queries = 0;
	d->track_failed = 0;
}

/* gg_spf_dns_aborted - why lookups of the current check stopped, if they did */
enum gg_status gg_spf_dns_aborted(const struct gg_spf_dns *d)
{
	return d->aborted;
}

/* gg_spf_dns_queries - queries sent for the current check */
unsigned gg_spf_dns_queries(const struct gg_spf_dns *d)
{
	return d->queries;
}

/* gg_spf_dns_free - destroy the channel and the layer */
void gg_spf_dns_free(struct gg_spf_dns *d)
{
	if (d == NULL)
		return;
	ares_destroy(d->channel);
	free(d->pfd);
	free(d->ready);
	free(d);
}

/*
 * resolver.h - one c-ares channel driven by a libevent event loop
 *
 * gg_resolver_new() creates a c-ares 1.18 channel whose sockets are watched
 * by libevent (ARES_OPT_SOCK_STATE_CB keeps one struct event per socket,
 * ares_process_fd() runs on readiness, a timer is re-armed from
 * ares_timeout() after every operation).  The name servers come from the
 * caller ("127.0.0.1:5353, [::1]:53"), are validated, and are installed
 * with ares_set_servers_ports_csv() before any query can be sent; only an
 * empty list means /etc/resolv.conf.
 *
 * gg_resolver_query() sends one query (A, AAAA, TXT, PTR or MX) and later
 * calls back with a parsed, bounded result.  Contract:
 *   - GG_OK from gg_resolver_query(): the callback runs exactly once, from
 *     the event loop, never from inside gg_resolver_query() (answers that
 *     c-ares gives synchronously are deferred to the next loop turn),
 *     unless gg_resolver_cancel() withdraws it first.  Any other status:
 *     the callback never runs.
 *   - Every query ends within timeout_ms (GG_ETIMEOUT), whatever c-ares's
 *     own retry schedule does.
 *   - The result belongs to the resolver and is valid during the callback
 *     only; gg_dns_result_ref() keeps it longer (it is immutable).
 *   - gg_resolver_cancel_all() and gg_resolver_free() end every outstanding
 *     query: their callbacks run from inside that call with cancelled = 1
 *     and st = GG_EDNS, so owners can release per-query state; they must
 *     not start new queries from there.
 *
 * Status mapping: answer with records → GG_OK; NXDOMAIN or NODATA →
 * GG_NOTFOUND; no answer in time → GG_ETIMEOUT; anything else (SERVFAIL,
 * REFUSED, connection refused, malformed answer) → GG_EDNS.
 *
 * Threads: a resolver belongs to the thread that runs its event_base
 * (c-ares 1.18 channels are not locked).  gg_resolver_free() must not be
 * called from inside one of its own callbacks.  Libraries never log: error
 * details go to err[] or to the result's error text.
 */
#ifndef GG_RESOLVER_H
#define GG_RESOLVER_H

#include <stddef.h>
#include <arpa/nameser.h>	/* ns_t_a, ns_t_aaaa, ns_t_txt, ns_t_ptr, ns_t_mx */
#include <event2/event.h>

#include "lib/addr.h"
#include "lib/status.h"

#define GG_DNS_NAME_MAX 255		/* longest domain name in text form */
#define GG_DNS_MAX_RECORDS 64		/* records kept per answer; more set truncated */
#define GG_DNS_TXT_MAX 4096		/* longest TXT record kept (strings joined) */
#define GG_RESOLVER_MAX_SERVERS 8
#define GG_RESOLVER_MIN_TIMEOUT_MS 10L
#define GG_RESOLVER_MAX_TIMEOUT_MS 600000L

struct gg_resolver;

struct gg_dns_addr {
	struct gg_addr addr;
	unsigned ttl;
};

struct gg_dns_mx {
	unsigned pref;
	char *host;		/* "" for a null MX ("0 .", RFC 7505) */
};

/* One answer, parsed; only the arrays matching the query type are filled. */
struct gg_dns_result {
	enum gg_status st;	/* GG_OK, GG_NOTFOUND, GG_ETIMEOUT or GG_EDNS */
	int type;		/* the query type: ns_t_a, ... */
	const char *qname;	/* the name asked, without trailing dot */
	const char *error;	/* short text for st != GG_OK, e.g. "NXDOMAIN" */
	int cancelled;		/* ended by gg_resolver_cancel_all()/free() */
	unsigned ttl;		/* lowest TTL of the answer; for GG_NOTFOUND the
				   negative TTL from the SOA (RFC 2308); 0 unknown */
	int truncated;		/* records or text beyond the limits were dropped */
	size_t naddrs;		/* A or AAAA */
	struct gg_dns_addr *addrs;
	size_t ntxt;		/* TXT: one string per record, its strings joined */
	char **txt;
	size_t nnames;		/* PTR: every name (all of h_aliases), deduplicated */
	char **names;
	size_t nmx;		/* MX, in answer order */
	struct gg_dns_mx *mx;
};

typedef void (*gg_resolver_cb)(const struct gg_dns_result *res, void *arg);

struct gg_resolver_stats {
	unsigned long queries;		/* sent to c-ares */
	unsigned long answers;		/* GG_OK results */
	unsigned long notfound;		/* GG_NOTFOUND results */
	unsigned long timeouts;		/* GG_ETIMEOUT results */
	unsigned long errors;		/* GG_EDNS results (not counting cancels) */
	unsigned long deferred;		/* c-ares answered synchronously; delivered later */
	unsigned long in_flight;	/* queries whose callback is still due */
};

/*
 * Check a server list "ADDR[:PORT], [IPV6]:PORT, IPV6, ..." (commas and/or
 * white space; host names not allowed; port 1-65535, default 53; at most
 * GG_RESOLVER_MAX_SERVERS) and write its canonical c-ares CSV form to
 * csv[csvsize].  An empty list gives "" (meaning: use /etc/resolv.conf).
 * Errors read "dns_servers: '127.0.0.1:0': port must be 1-65535".
 */
enum gg_status gg_resolver_parse_servers(const char *servers, char *csv, size_t csvsize,
					 char *err, size_t errsize);

/*
 * Create a resolver on base.  servers as above; timeout_ms bounds every
 * query ([GG_RESOLVER_MIN_TIMEOUT_MS, GG_RESOLVER_MAX_TIMEOUT_MS]).
 */
enum gg_status gg_resolver_new(struct event_base *base, const char *servers, long timeout_ms,
			       struct gg_resolver **out, char *err, size_t errsize);

/*
 * Ask for name (no trailing dot needed) of type ns_t_a, ns_t_aaaa,
 * ns_t_txt, ns_t_ptr or ns_t_mx.  GG_EINVAL for another type or a name that
 * is empty or longer than GG_DNS_NAME_MAX; GG_ENOMEM.
 */
enum gg_status gg_resolver_query(struct gg_resolver *r, const char *name, int type,
				 gg_resolver_cb cb, void *arg);

/* Withdraw every outstanding query with this cb and arg: their callbacks
 * will not run.  Returns how many were withdrawn.  Safe from callbacks. */
size_t gg_resolver_cancel(struct gg_resolver *r, gg_resolver_cb cb, void *arg);

/* End every outstanding query now (callbacks run with cancelled = 1). */
void gg_resolver_cancel_all(struct gg_resolver *r);

/* Cancel everything (as above), then free the channel and its events. */
void gg_resolver_free(struct gg_resolver *r);

/* Counters since creation. */
void gg_resolver_stats(const struct gg_resolver *r, struct gg_resolver_stats *out);

/* The query timeout given at creation. */
long gg_resolver_timeout_ms(const struct gg_resolver *r);

/* Keep a result beyond its callback; release it with gg_dns_result_unref(). */
const struct gg_dns_result *gg_dns_result_ref(const struct gg_dns_result *res);
void gg_dns_result_unref(const struct gg_dns_result *res);

/* "A", "AAAA", "TXT", "PTR", "MX" or "?" */
const char *gg_dns_type_str(int type);

#endif

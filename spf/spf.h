/*
 * spf.h - SPF checks (RFC 7208) on a pool of worker threads
 *
 * libspf2's query call is synchronous, so a struct gg_spf owns a few
 * worker threads, each with its own SPF_server_t and its own c-ares
 * channel (spf_dns.c) that sends every SPF query to the configured
 * dns_servers.  libspf2's own resolver (res_query, /etc/resolv.conf) is
 * never used.
 *
 * gg_spf_check() queues one check of MAIL FROM (or of the HELO name when
 * the sender is the null sender) against the client address and returns
 * at once.  The callback runs exactly once per queued check, on the
 * thread that runs the event_base given to gg_spf_new(), from that loop:
 * never from inside gg_spf_check() and never on a worker thread, even
 * when the check is answered at once (queue full).  The reply and its
 * strings belong to this module and are valid only during the callback.
 *
 * Failure policy (fail open): every problem on the way - a full queue,
 * the per-check deadline, DNS failure, shutdown - is answered as
 * GG_SPF_TEMPERROR with a comment saying why, so mail keeps flowing.
 * Each check has one deadline, timeout_ms after gg_spf_check(); time
 * spent waiting in the queue counts.  The queue holds at most
 * GG_SPF_QUEUE_DEFAULT checks unless gg_spf_set_queue_max() says otherwise.
 *
 * Threads: gg_spf_new(), gg_spf_check(), gg_spf_stats() and gg_spf_free()
 * belong to the loop thread.  Create the pool after fork()ing into the
 * background and after dropping privileges (threads do not survive
 * fork()), and free it before its event_base.  gg_spf_free() must not be
 * called from inside a callback; it stops the workers (a DNS wait in
 * progress is cut short), joins them, and then runs the callback of every
 * check not yet answered, with shutdown set, before it returns.
 *
 * Client addresses in 127.0.0.0/8 and ::1 always pass (libspf2 gives
 * localhost a free ride without any query).
 */
#ifndef GG_SPF_H
#define GG_SPF_H

#include <stddef.h>
#include "lib/addr.h"
#include "lib/status.h"

struct event_base;

/* The seven results of RFC 7208 section 2.6, in this order. */
enum gg_spf_result {
	GG_SPF_PASS,
	GG_SPF_FAIL,
	GG_SPF_SOFTFAIL,
	GG_SPF_NEUTRAL,
	GG_SPF_NONE,
	GG_SPF_TEMPERROR,
	GG_SPF_PERMERROR,
};
#define GG_SPF_NRESULTS 7

/* Which identity was checked. */
enum gg_spf_identity {
	GG_SPF_MAILFROM,	/* the domain of the MAIL FROM address */
	GG_SPF_HELO,		/* the HELO/EHLO name (null sender) */
};

/* What a check found; valid only during the callback. */
struct gg_spf_reply {
	enum gg_spf_result result;
	enum gg_spf_identity identity;
	/*
	 * The domain that was checked, lower case, without a trailing dot;
	 * "" when there was none (null sender and no HELO).  When result is
	 * GG_SPF_PASS this domain vouches for the client, so it can stand
	 * for the client in the triplet key (pool-aware keying).
	 */
	const char *domain;
	/* Why, in one line (libspf2's header comment or our reason); never NULL. */
	const char *comment;
	/* The domain's explanation (its exp= text or our default), only for fail; else NULL. */
	const char *explanation;
	/*
	 * The value of a Received-SPF: header (without the "Received-SPF: "
	 * name), e.g. "pass (mx.example: domain of b.example designates
	 * 192.0.2.1 as permitted sender) client-ip=192.0.2.1;
	 * envelope-from=a@b.example; helo=mail.b.example;", one line of at
	 * most 700 bytes (fold it when writing the header).  Built by
	 * libspf2, or by us when libspf2 has none; NULL only if memory ran
	 * out.  All strings here are printable ASCII (untrusted bytes are
	 * replaced by '?'), so they are safe for a header and a log line.
	 */
	const char *received_spf;
	/*
	 * GG_OK when the check ran to its end.  Otherwise why the result is
	 * GG_SPF_TEMPERROR without a full check: GG_ETOOBIG the queue was
	 * full, GG_ETIMEOUT the deadline passed, GG_ENOMEM memory ran out,
	 * GG_EIO the check was stopped by gg_spf_free() (shutdown is also set).
	 * DNS failures are a normal temperror with status GG_OK.
	 */
	enum gg_status status;
	int shutdown;		/* cut short or never started because of gg_spf_free() */
	int worker;		/* index of the worker thread that ran it, -1 if none */
	long elapsed_ms;	/* from gg_spf_check() to the answer */
};

typedef void (*gg_spf_cb)(const struct gg_spf_reply *reply, void *arg);

struct gg_spf;

/* Counters, for the statistics log line and the tests. */
struct gg_spf_stats {
	unsigned long checks;		/* gg_spf_check() calls accepted */
	unsigned long answered;		/* callbacks run */
	unsigned long queue_full;	/* answered at once because the queue was full */
	unsigned long deadline;		/* answered temperror because the deadline passed */
	unsigned queued;		/* waiting for a worker now */
	unsigned running;		/* being evaluated now */
	unsigned queue_max;		/* the bound on queued */
};

#define GG_SPF_MAX_THREADS 64
#define GG_SPF_QUEUE_DEFAULT 256
#define GG_SPF_MAX_TIMEOUT_MS 600000L
/* Longer HELO or sender strings are not evaluated (result none). */
#define GG_SPF_MAX_INPUT 1024

/*
 * Start nthreads (1..GG_SPF_MAX_THREADS) workers whose SPF queries go to
 * dns_servers: c-ares's comma-separated "ip:port" list, IPv6 as
 * "[::1]:53", a port defaults to 53; NULL or "" means the servers of
 * /etc/resolv.conf.  timeout_ms (1..GG_SPF_MAX_TIMEOUT_MS) is the deadline
 * of each check.  receiver_hostname names us in comments and headers
 * (NULL: gethostname()).  Results are delivered through base.
 *
 * Side effect: libspf2's global warning, info and debug handlers are set
 * to NULL (this library does not log).  libspf2 itself calls abort() when
 * it cannot allocate its own structures; nothing here can prevent that.
 *
 * On failure returns GG_EINVAL (bad argument, e.g. a server list c-ares
 * rejects), GG_ENOMEM or GG_EIO (pipe, thread) with a message in err.
 */
enum gg_status gg_spf_new(struct event_base *base, int nthreads, const char *dns_servers,
			  long timeout_ms, const char *receiver_hostname, struct gg_spf **out,
			  char *err, size_t errsize);

/* Bound the number of queued checks (1..1000000); GG_EINVAL outside. */
enum gg_status gg_spf_set_queue_max(struct gg_spf *spf, unsigned max);

/*
 * Queue a check of sender (or of helo when sender is "" or NULL: the null
 * sender) for client.  helo may be NULL or "".  Returns GG_OK when cb will
 * run (even with the queue full: then with temperror), GG_EINVAL for a
 * NULL spf, client or cb, GG_ENOMEM if the check could not be queued;
 * on any error cb will not run.
 */
enum gg_status gg_spf_check(struct gg_spf *spf, const struct gg_addr *client, const char *helo,
			    const char *sender, gg_spf_cb cb, void *arg);

/* Copy the counters. */
void gg_spf_stats(struct gg_spf *spf, struct gg_spf_stats *out);

/* Stop and join the workers, answer what is left (shutdown = 1), free. NULL is fine. */
void gg_spf_free(struct gg_spf *spf);

/*
 * Result names and weights (spf_weights.c).
 *
 * gg_spf_result_str() gives "pass", "fail", "softfail", "neutral", "none",
 * "temperror", "permerror"; gg_spf_result_parse() reads them back (any case).
 *
 * Each result adds its weight to the request's score.  The defaults:
 *
 *   pass:-1       the domain vouches for this client: a little less suspicious
 *                 (and the triplet can be keyed on the domain, see above)
 *   fail:5        the domain says this host must not use its name: strong
 *                 evidence of forgery, alone enough to greylist
 *   softfail:1.5  "probably not ours": suspicious, weaker than fail
 *   neutral:0     the domain explicitly says nothing
 *   none:0.5      no SPF record at all: slightly unusual for real senders today
 *   temperror:0   DNS trouble says nothing about the sender: fail open
 *   permerror:1   a broken record: common among careless but real senders,
 *                 so only a little suspicious
 *
 * The config value lists result:weight items separated by commas and/or
 * white space, e.g. "pass:-1, fail:5, softfail:1.5"; results not listed
 * keep their defaults; an empty value means all defaults.  A weight is a
 * decimal number (no exponent) between -GG_SPF_WEIGHT_MAX and
 * GG_SPF_WEIGHT_MAX.
 */
#define GG_SPF_WEIGHT_MAX 1000.0

struct gg_spf_weights {
	double w[GG_SPF_NRESULTS];	/* indexed by enum gg_spf_result */
};

const char *gg_spf_result_str(enum gg_spf_result r);
enum gg_status gg_spf_result_parse(const char *s, enum gg_spf_result *out);
/* Fill in the defaults above. */
void gg_spf_weights_default(struct gg_spf_weights *out);
/*
 * Parse an spf_weights value.  On error *out is unchanged, GG_EINVAL is
 * returned and err says e.g. "greygate.conf:12: spf_weights: 'fial:5' is
 * not an SPF result" (where is "greygate.conf:12" or "-o"; NULL: no prefix).
 */
enum gg_status gg_spf_weights_parse(const char *value, const char *where,
				    struct gg_spf_weights *out, char *err, size_t errsize);

#endif

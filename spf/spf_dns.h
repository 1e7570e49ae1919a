/*
 * spf_dns.h - a libspf2 DNS layer on a private c-ares channel (internal)
 *
 * One struct gg_spf_dns belongs to one worker thread.  Its SPF_dns_server_t
 * (gg_spf_dns_layer()) is handed to SPF_server_new_dns(); libspf2 then calls
 * its lookup for every name it needs, and the lookup runs one c-ares query
 * to the configured servers and waits for it in that thread (poll() on the
 * channel's sockets), never longer than the current check's deadline.
 *
 * The channel's servers are set with ares_set_servers_ports_csv() before
 * its first query, so nothing goes to /etc/resolv.conf's servers unless
 * the server list is empty.  Queries for type SPF (99) are answered "no
 * data" without asking: RFC 7208 retired that type, and libspf2 asks for
 * it before TXT.
 *
 * A lookup never returns NULL (libspf2 would abort) unless the answer
 * structure itself cannot be allocated.  DNS failures become TRY_AGAIN,
 * which libspf2 turns into temperror.  Once the deadline has passed, or
 * stop_fd (a pipe shared by the pool) has become readable, or waiting
 * failed, every further lookup of the current check fails at once, so
 * libspf2 unwinds quickly; gg_spf_dns_aborted() says which happened.
 */
#ifndef GG_SPF_DNS_H
#define GG_SPF_DNS_H

#include <stddef.h>
#include <time.h>
#include <netinet/in.h>
#include <spf2/spf.h>

#include "lib/clock.h"
#include "lib/status.h"

struct gg_spf_dns;

/*
 * Create a channel for servers (NULL or "": /etc/resolv.conf).  Each try
 * of a query waits a fraction of timeout_ms.  stop_fd is polled by every
 * lookup.  GG_EINVAL if c-ares rejects the server list, GG_ENOMEM, GG_EDNS
 * if c-ares cannot start; err says why.
 */
enum gg_status gg_spf_dns_new(const char *servers, long timeout_ms, int stop_fd,
			      struct gg_spf_dns **out, char *err, size_t errsize);
/* The layer to give SPF_server_new_dns(); it stays ours (free it after the server). */
SPF_dns_server_t *gg_spf_dns_layer(struct gg_spf_dns *d);
/* Start a new check with this CLOCK_MONOTONIC deadline. */
void gg_spf_dns_begin(struct gg_spf_dns *d, const struct timespec *deadline);
/*
 * GG_OK, or why lookups of the current check stopped: GG_ETIMEOUT the
 * deadline, GG_EIO stop_fd, GG_ENOMEM no memory, GG_EDNS poll() failed.
 */
enum gg_status gg_spf_dns_aborted(const struct gg_spf_dns *d);
/* Number of queries sent since gg_spf_dns_begin(). */
unsigned gg_spf_dns_queries(const struct gg_spf_dns *d);
void gg_spf_dns_free(struct gg_spf_dns *d);

/*
 * CLOCK_MONOTONIC helpers of the pool: the names its files use, kept as
 * forwards to lib/clock.h, which holds the one clock.
 */
static inline void gg_spf_clock(struct timespec *now)
{
	gg_clock_now(now);
}

/* t plus ms milliseconds. */
static inline void gg_spf_clock_add(struct timespec *t, long ms)
{
	gg_clock_add_ms(t, ms);
}

/* Milliseconds from a to b (negative if b is earlier), a positive remainder rounded up. */
static inline long gg_spf_clock_diff_ms(const struct timespec *a, const struct timespec *b)
{
	return gg_clock_diff_ms(a, b);
}

#endif

/*
 * loadgen.c - gg-loadgen, a load generator for the Postfix policy protocol
 *
 * gg-loadgen opens CONNECTIONS TCP connections to one policy server and, on
 * each, keeps exactly one request outstanding, as Postfix's smtpd does: it
 * writes a complete smtpd_access_policy request (attributes, then an empty
 * line), waits for the "action=..." line and the empty line after it, and
 * sends the next request.  It reports throughput over the measuring window,
 * latency percentiles (every request's latency is stored in microseconds),
 * the kinds of action received and the errors seen.
 *
 * Workloads (-w):
 *   new        every request carries a triplet never seen before: client
 *              addresses spread over millions of /24 networks, senders and
 *              recipients made unique by a counter and a per-run random salt.
 *   repeat     first primes a warm set of -K triplets (send each once, wait
 *              -D seconds, send each again so the server passes it), then
 *              measures with 90 % of requests drawn from the warm set and
 *              10 % new (-p changes the share of new ones).
 *   whitelist  like new, but every client address comes from -W CIDR
 *              (default 127.0.0.0/8), a network the server whitelists.
 *
 * Before anything else each connection completes one unmeasured request
 * (a new triplet, or a whitelisted one), so the measuring window never
 * includes connection set-up: Postfix keeps its policy connections open,
 * and a server with a short listen backlog would otherwise show accept
 * stalls of a second or more as request latency.  Errors before a
 * connection's first reply are counted apart, as set-up errors.
 *
 * Counters and the salt are written as lower-case letters, never digits, so
 * that sender normalisations which fold numbers (postgrey replaces a bare
 * number in a local part with '#') cannot merge distinct triplets.
 *
 * Design: one thread, one epoll set, non-blocking sockets, level-triggered;
 * a request is assembled into the connection's own buffer from preformatted
 * constant pieces, so sending costs one write() and receiving one read().
 * The program talks only to the numeric address given with -s; it never
 * resolves names.
 *
 * Exit status: 0 when at least one reply was measured (and, with -n, all
 * of them), 1 on a usage or setup error, 2 otherwise.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/hostport.h"

#define REQ_MAX 2048		/* one request never exceeds this */
#define IN_MAX 1024		/* a reply longer than this is an error */
#define MAX_EVENTS 256
#define POOL_SIZE 4096		/* whitelisted client addresses per run */
#define TICK_NS 100000000LL	/* timeout and reconnect scan: 100 ms */
#define RETRY_NS 100000000LL	/* reconnect delay after an error */

enum workload { WL_NEW, WL_REPEAT, WL_WHITELIST };
enum phase { PH_WARMUP, PH_PRIME1, PH_WAIT, PH_PRIME2, PH_MEASURE, PH_DONE };
enum cstate { CS_DOWN, CS_CONNECTING, CS_IDLE, CS_SENDING, CS_WAITING };
enum act { ACT_DUNNO, ACT_DEFER, ACT_PREPEND, ACT_OTHER, ACT_COUNT };
enum tkind { TK_NEW, TK_WARM, TK_WHITE };

/* One connection: its socket, its request buffer and its reply buffer. */
struct conn {
    int fd;
    enum cstate state;
    uint32_t events;		/* current epoll interest */
    int64_t t_sent;		/* when the outstanding request was sent */
    int64_t retry_at;		/* CS_DOWN: reconnect at this time */
    int warmed;			/* completed its unmeasured first request */
    size_t out_len, out_off;
    size_t in_len;
    char out[REQ_MAX];
    char in[IN_MAX];
};

/* CPU time, in seconds, at one instant: the machine's busy time, the server's, ours. */
struct cpu_snap {
    double busy, server, self;
    int have_busy, have_server;
};

/* Counters for one phase of the run. */
struct counts {
    uint64_t sent, replies;
    uint64_t act[ACT_COUNT];
};

/* Everything the run needs; one instance, passed around explicitly. */
struct lg {
    /* options */
    struct sockaddr_storage addr;
    socklen_t addrlen;
    const char *target;
    int nconn;
    int64_t duration_ns;
    int duration_set;		/* -d given: also limits a -n run */
    uint64_t nreq;		/* 0: run for duration_ns */
    enum workload wl;
    int64_t delay_ns;
    uint32_t warm;
    uint32_t domains;		/* -S: distinct sender domains */
    unsigned new_pct;
    int64_t timeout_ns;
    int json;
    int quiet;
    const char *label;
    const char *cidr;
    long server_pid;		/* -P: measure this process's CPU use */

    /* run state */
    int ep;
    enum phase phase;
    struct conn *conns;
    uint64_t rng;		/* random stream: varies per request */
    uint64_t seed;		/* fixed per run: maps a triplet to its client */
    char salt[9];
    uint64_t next_new;		/* counter of new triplets */
    uint32_t prime_next;	/* next warm index to send while priming */
    uint32_t prime_done;	/* warm replies received in this prime phase */
    int warmed;			/* connections that completed their first request */
    int64_t wait_until;
    int64_t t_start, t_end, t_stop;
    int64_t last_progress;	/* last reply or phase change */
    int stalled;		/* gave up: no reply for timeout_ns */
    char pool[POOL_SIZE][INET6_ADDRSTRLEN];
    uint64_t pool_id[POOL_SIZE];	/* per address, so one name per address */
    unsigned pool_len;

    /* results */
    struct counts warmup, prime1, prime2, meas;
    uint64_t errors, err_connect, err_closed, err_timeout, err_proto;
    uint64_t setup_errors;	/* errors before each connection's first reply */
    uint32_t *lat;
    size_t lat_len, lat_cap;
    struct cpu_snap cpu0, cpu1;	/* at the start and end of the window */
};

static volatile sig_atomic_t interrupted;

/* Print a message and exit with status 1. */
static void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fatal(const char *fmt, ...)
{
    va_list ap;

    fputs("gg-loadgen: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* splitmix64 step: the per-run random stream. */
static uint64_t rnd(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A stateless 64-bit mix, so a triplet index always maps to the same client. */
static uint64_t mix(uint64_t x)
{
    uint64_t s = x;

    return rnd(&s);
}

/* ---- request assembly ------------------------------------------------ */

#define PUT_LIT(p, s) ((p) = (char *) memcpy((p), (s), sizeof(s) - 1) + sizeof(s) - 1)

/* Append a string. */
static char *put_str(char *p, const char *s)
{
    size_t n = strlen(s);

    memcpy(p, s, n);
    return p + n;
}

/* Append an unsigned number in decimal. */
static char *put_dec(char *p, uint64_t v)
{
    char tmp[20];
    int n = 0;

    do {
        tmp[n++] = (char) ('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

/* Append v as exactly width lower-case letters (base 26, most significant first). */
static char *put_letters(char *p, uint64_t v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char) ('a' + v % 26);
        v /= 26;
    }
    return p + width;
}

/*
 * First octets for generated public-looking IPv4 clients: 1..223 without
 * 0, 10, 100 (100.64/10), 127, 169 (169.254/16), 172 (172.16/12), 192, 198
 * (198.18/15) and 203 (203.0.113/24), so no address falls in a range a
 * greylister might treat specially.
 */
static unsigned char first_octets[223];
static unsigned n_first_octets;

/* Fill first_octets[]. */
static void init_octets(void)
{
    static const unsigned char skip[] = {10, 100, 127, 169, 172, 192, 198, 203};

    for (unsigned o = 1; o <= 223; o++) {
        int bad = 0;

        for (size_t i = 0; i < sizeof(skip); i++)
            bad |= (o == skip[i]);
        if (!bad)
            first_octets[n_first_octets++] = (unsigned char) o;
    }
}

/* Append the IPv4 client address for hash h: a pseudo-random /24 and host. */
static char *put_client_v4(char *p, uint64_t h)
{
    p = put_dec(p, first_octets[h % n_first_octets]);
    *p++ = '.';
    p = put_dec(p, (h >> 16) & 255);
    *p++ = '.';
    p = put_dec(p, (h >> 24) & 255);
    *p++ = '.';
    p = put_dec(p, 1 + (h >> 32) % 254);
    return p;
}

/*
 * Write one complete request for triplet (kind, idx) into c->out.
 * Everything that identifies the triplet derives from kind, idx and the
 * run's salt; the rest (instance, queue_id, port, size) varies per request.
 */
static void build_request(struct lg *lg, struct conn *c, enum tkind kind, uint64_t idx)
{
    char *p = c->out;
    uint64_t h = mix(idx ^ (kind == TK_WARM ? 0x5741524dULL : 0x4e455721ULL) ^ lg->seed);
    uint64_t r = rnd(&lg->rng);
    char name[32], *q;

    /* Client name: a stable per-client host name under example.net (for
     * pooled clients, one name per address, as a real MTA has). */
    q = name;
    PUT_LIT(q, "mx-");
    q = put_letters(q, kind == TK_WHITE ? lg->pool_id[r % lg->pool_len] >> 8 : h >> 8, 6);
    PUT_LIT(q, ".example.net");
    *q = 0;

    PUT_LIT(p, "request=smtpd_access_policy\n"
               "protocol_state=RCPT\n"
               "protocol_name=ESMTP\n"
               "client_address=");
    if (kind == TK_WHITE)
        p = put_str(p, lg->pool[r % lg->pool_len]);
    else
        p = put_client_v4(p, h);
    PUT_LIT(p, "\nclient_name=");
    p = put_str(p, name);
    PUT_LIT(p, "\nreverse_client_name=");
    p = put_str(p, name);
    PUT_LIT(p, "\nclient_port=");
    p = put_dec(p, 1024 + (r >> 8) % 64000);
    PUT_LIT(p, "\nhelo_name=");
    p = put_str(p, name);

    /* Sender: unique per triplet; w... for warm, u... for new. */
    PUT_LIT(p, "\nsender=");
    *p++ = (kind == TK_WARM) ? 'w' : 'u';
    memcpy(p, lg->salt, 8);
    p += 8;
    p = put_letters(p, idx, 8);
    PUT_LIT(p, "@");
    p = put_letters(p, idx % lg->domains, 3);
    PUT_LIT(p, ".sender.example.com");

    /* Recipient: a few thousand local users, salted per run. */
    PUT_LIT(p, "\nrecipient=r");
    memcpy(p, lg->salt, 8);
    p += 8;
    p = put_letters(p, idx % 4096, 3);
    PUT_LIT(p, "@example.org\nrecipient_count=0\nqueue_id=");
    p = put_letters(p, r >> 16, 10);
    PUT_LIT(p, "\ninstance=");
    p = put_letters(p, r >> 24, 12);
    PUT_LIT(p, "\nsize=");
    p = put_dec(p, (r >> 40) % 200000);
    PUT_LIT(p, "\netrn_domain=\n"
               "stress=\n"
               "sasl_method=\n"
               "sasl_username=\n"
               "sasl_sender=\n"
               "ccert_subject=\n"
               "ccert_issuer=\n"
               "ccert_fingerprint=\n"
               "ccert_pubkey_fingerprint=\n"
               "encryption_protocol=\n"
               "encryption_cipher=\n"
               "encryption_keysize=0\n"
               "policy_context=\n"
               "server_address=127.0.0.1\n"
               "server_port=25\n"
               "compatibility_level=3.6\n"
               "mail_version=3.7.11\n"
               "\n");
    c->out_len = (size_t) (p - c->out);
    c->out_off = 0;
}

/* ---- address parsing ------------------------------------------------- */

/* Parse HOST:PORT or [V6]:PORT (numeric only) into lg->addr. */
static void parse_target(struct lg *lg, const char *arg)
{
    struct gg_hostport hp;
    enum gg_hostport_fault why;

    if (gg_hostport_parse(arg, GG_HOSTPORT_PORT0, 0, &hp, &why) != GG_OK)
        fatal("-s %s: %s", arg, gg_hostport_fault_str(why, GG_HOSTPORT_PORT0));
    lg->addr = hp.ss;
    lg->addrlen = hp.sslen;
}

/* Fill the whitelisted-client pool with random addresses inside lg->cidr. */
static void init_pool(struct lg *lg)
{
    char net[INET6_ADDRSTRLEN];
    const char *slash = strchr(lg->cidr, '/');
    unsigned char base[16];
    int family, bits, len;
    char *end;
    size_t n = slash ? (size_t) (slash - lg->cidr) : strlen(lg->cidr);

    if (n >= sizeof(net))
        fatal("-W %s: bad network", lg->cidr);
    memcpy(net, lg->cidr, n);
    net[n] = 0;
    if (inet_pton(AF_INET, net, base) == 1)
        family = AF_INET, len = 4;
    else if (inet_pton(AF_INET6, net, base) == 1)
        family = AF_INET6, len = 16;
    else
        fatal("-W %s: bad network address", lg->cidr);
    bits = len * 8;
    if (slash) {
        long v;

        errno = 0;
        v = strtol(slash + 1, &end, 10);
        if (errno || *end || end == slash + 1 || v < 0 || v > len * 8)
            fatal("-W %s: bad prefix length", lg->cidr);
        bits = (int) v;
    }
    for (unsigned i = 0; i < POOL_SIZE; i++) {
        unsigned char a[16] = {0};

        for (int b = 0; b < len; b++) {
            int keep = bits - b * 8;	/* network bits in this byte */
            unsigned char m = keep >= 8 ? 0xff : keep <= 0 ? 0 : (unsigned char) (0xff << (8 - keep));

            a[b] = (unsigned char) ((base[b] & m) | ((unsigned char) rnd(&lg->rng) & ~m));
        }
        /* Keep IPv4 host parts off the network and broadcast addresses. */
        if (family == AF_INET && bits <= 24 && (a[3] == 0 || a[3] == 255))
            a[3] = 1;
        if (!inet_ntop(family, a, lg->pool[i], sizeof(lg->pool[i])))
            fatal("inet_ntop: %s", strerror(errno));
        /* The pool repeats addresses when the network is small; a client's
         * name (and HELO) must follow its address, as a real MTA's does. */
        lg->pool_id[i] = 0;
        for (int b = 0; b < len; b++)
            lg->pool_id[i] = mix(lg->pool_id[i] ^ a[b]);
    }
    lg->pool_len = POOL_SIZE;
}

/* ---- connections ----------------------------------------------------- */

/* Change a connection's epoll interest if it differs. */
static void want(struct lg *lg, struct conn *c, uint32_t events)
{
    struct epoll_event ev;

    if (c->events == events)
        return;
    ev.events = events;
    ev.data.ptr = c;
    if (epoll_ctl(lg->ep, EPOLL_CTL_MOD, c->fd, &ev) < 0)
        fatal("epoll_ctl: %s", strerror(errno));
    c->events = events;
}

/* Close a connection after an error; it is reopened RETRY_NS later. */
static void conn_fail(struct lg *lg, struct conn *c, uint64_t *what, int64_t now)
{
    if (lg->phase == PH_MEASURE) {
        /* With -n a lost request is sent again, so the count is still met. */
        if (lg->nreq && (c->state == CS_SENDING || c->state == CS_WAITING))
            lg->meas.sent--;
        lg->errors++;
        (*what)++;
    } else if (lg->phase == PH_WARMUP) {
        /* Kept apart: these belong to connection set-up, not to the load. */
        lg->setup_errors++;
        (*what)++;
    } else if (lg->phase != PH_WAIT && lg->phase != PH_DONE) {
        /* A warm triplet in flight is lost; count it so priming ends. */
        if ((lg->phase == PH_PRIME1 || lg->phase == PH_PRIME2)
            && (c->state == CS_SENDING || c->state == CS_WAITING))
            lg->prime_done++;
        lg->errors++;
        (*what)++;
    }
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->state = CS_DOWN;
    c->retry_at = now + RETRY_NS;
    c->in_len = 0;
}

/* Start a non-blocking connect. */
static void conn_open(struct lg *lg, struct conn *c, int64_t now)
{
    struct epoll_event ev;
    int one = 1;

    c->fd = socket(lg->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        fatal("socket: %s", strerror(errno));
    (void) setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->in_len = 0;
    if (connect(c->fd, (struct sockaddr *) &lg->addr, lg->addrlen) == 0)
        c->state = CS_IDLE;
    else if (errno == EINPROGRESS)
        c->state = CS_CONNECTING;
    else {
        close(c->fd);
        c->fd = -1;
        c->state = CS_DOWN;
        c->retry_at = now + RETRY_NS;
        lg->errors++;
        lg->err_connect++;
        return;
    }
    c->events = c->state == CS_CONNECTING ? EPOLLOUT : EPOLLIN;
    ev.events = c->events;
    ev.data.ptr = c;
    if (epoll_ctl(lg->ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
        fatal("epoll_ctl: %s", strerror(errno));
}

/* Write what is left of the request; returns 0, or -1 after an error. */
static int conn_flush(struct lg *lg, struct conn *c, int64_t now)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                c->state = CS_SENDING;
                want(lg, c, EPOLLIN | EPOLLOUT);
                return 0;
            }
            conn_fail(lg, c, &lg->err_closed, now);
            return -1;
        }
        c->out_off += (size_t) n;
    }
    c->state = CS_WAITING;
    want(lg, c, EPOLLIN);
    return 0;
}

/* Pick the next triplet for the current phase and send it, if there is one. */
static void conn_next(struct lg *lg, struct conn *c, int64_t now)
{
    struct counts *k;

    switch (lg->phase) {
    case PH_WARMUP:
        if (c->warmed) {
            c->state = CS_IDLE;
            return;
        }
        build_request(lg, c, lg->wl == WL_WHITELIST ? TK_WHITE : TK_NEW, lg->next_new++);
        k = &lg->warmup;
        break;
    case PH_PRIME1:
    case PH_PRIME2:
        if (lg->prime_next >= lg->warm) {
            c->state = CS_IDLE;
            return;
        }
        build_request(lg, c, TK_WARM, lg->prime_next++);
        k = lg->phase == PH_PRIME1 ? &lg->prime1 : &lg->prime2;
        break;
    case PH_MEASURE:
        if (lg->nreq && lg->meas.sent >= lg->nreq) {
            c->state = CS_IDLE;
            return;
        }
        if (lg->wl == WL_WHITELIST)
            build_request(lg, c, TK_WHITE, lg->next_new++);
        else if (lg->wl == WL_REPEAT && rnd(&lg->rng) % 100 >= lg->new_pct)
            build_request(lg, c, TK_WARM, rnd(&lg->rng) % lg->warm);
        else
            build_request(lg, c, TK_NEW, lg->next_new++);
        k = &lg->meas;
        break;
    default:
        c->state = CS_IDLE;
        return;
    }
    k->sent++;
    c->t_sent = now;
    (void) conn_flush(lg, c, now);
}

/* Sort an action value into one of the counted kinds. */
static enum act classify(const char *v, size_t n)
{
    size_t w = 0;

    while (w < n && v[w] != ' ' && v[w] != '\t' && v[w] != '\n')
        w++;
    if (w == 5 && strncasecmp(v, "dunno", 5) == 0)
        return ACT_DUNNO;
    if (w == 7 && strncasecmp(v, "prepend", 7) == 0)
        return ACT_PREPEND;
    if ((w == 15 && strncasecmp(v, "defer_if_permit", 15) == 0)
        || (w == 5 && strncasecmp(v, "defer", 5) == 0)
        || (w == 15 && strncasecmp(v, "defer_if_reject", 15) == 0)
        || (w == 3 && v[0] == '4' && v[1] >= '0' && v[1] <= '9' && v[2] >= '0' && v[2] <= '9'))
        return ACT_DEFER;
    return ACT_OTHER;
}

/* Record one latency sample (microseconds). */
static void lat_add(struct lg *lg, int64_t ns)
{
    int64_t us = ns / 1000;

    if (lg->lat_len == lg->lat_cap) {
        size_t cap = lg->lat_cap ? lg->lat_cap * 2 : 1 << 20;
        uint32_t *p = realloc(lg->lat, cap * sizeof(*p));

        if (!p)
            fatal("out of memory for %zu latency samples", cap);
        lg->lat = p;
        lg->lat_cap = cap;
    }
    lg->lat[lg->lat_len++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t) us;
}

/* Read from a connection; on a complete reply, account for it and send the next request. */
static void conn_read(struct lg *lg, struct conn *c, int64_t now)
{
    ssize_t n;
    char *end;
    struct counts *k;
    enum act a = ACT_OTHER;

    n = recv(c->fd, c->in + c->in_len, IN_MAX - c->in_len, 0);
    if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        conn_fail(lg, c, &lg->err_closed, now);
        return;
    }
    c->in_len += (size_t) n;
    if (c->state != CS_WAITING) {
        /* Bytes nobody asked for: the server is out of step with us. */
        conn_fail(lg, c, &lg->err_proto, now);
        return;
    }
    end = memmem(c->in, c->in_len, "\n\n", 2);
    if (!end) {
        /* A reply that is only "\n" would be an empty attribute list. */
        if (c->in_len == IN_MAX || (c->in_len == 1 && c->in[0] == '\n'))
            conn_fail(lg, c, &lg->err_proto, now);
        return;
    }
    if ((size_t) (end - c->in) + 2 != c->in_len) {
        conn_fail(lg, c, &lg->err_proto, now);
        return;
    }

    /* Find the action line among the reply's attribute lines. */
    for (char *line = c->in; line <= end;) {
        char *nl = memchr(line, '\n', (size_t) (end + 1 - line));

        if (nl - line >= 7 && memcmp(line, "action=", 7) == 0) {
            a = classify(line + 7, (size_t) (nl - line - 7));
            break;
        }
        line = nl + 1;
    }
    c->in_len = 0;
    lg->last_progress = now;

    switch (lg->phase) {
    case PH_WARMUP:
        k = &lg->warmup;
        c->warmed = 1;
        lg->warmed++;
        break;
    case PH_PRIME1:
        k = &lg->prime1;
        lg->prime_done++;
        break;
    case PH_PRIME2:
        k = &lg->prime2;
        lg->prime_done++;
        break;
    case PH_MEASURE:
        k = &lg->meas;
        lat_add(lg, now - c->t_sent);
        break;
    default:
        c->state = CS_IDLE;
        return;
    }
    k->replies++;
    k->act[a]++;
    conn_next(lg, c, now);
}

/* Handle one epoll event for a connection. */
static void conn_event(struct lg *lg, struct conn *c, uint32_t ev, int64_t now)
{
    if (c->state == CS_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof(err);

        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
            conn_fail(lg, c, &lg->err_connect, now);
            return;
        }
        c->state = CS_IDLE;
        want(lg, c, EPOLLIN);
        conn_next(lg, c, now);
        return;
    }
    if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP))
        conn_read(lg, c, now);
    if (c->state == CS_SENDING && (ev & EPOLLOUT))
        (void) conn_flush(lg, c, now);
}

/*
 * Scan for reconnects due, idle connections with work, and requests past
 * their timeout; give up when no reply at all has come for the timeout.
 */
static void tick(struct lg *lg, int64_t now)
{
    if (lg->phase != PH_WAIT && lg->phase != PH_DONE && now - lg->last_progress > lg->timeout_ns) {
        fprintf(stderr, "gg-loadgen: %s: no reply for %.1f s, giving up\n", lg->target,
                (double) lg->timeout_ns / 1e9);
        lg->stalled = 1;
        lg->t_stop = lg->phase == PH_MEASURE ? now : lg->t_start;
        lg->phase = PH_DONE;
        return;
    }
    for (int i = 0; i < lg->nconn; i++) {
        struct conn *c = &lg->conns[i];

        if (c->state == CS_DOWN && now >= c->retry_at) {
            conn_open(lg, c, now);
            if (c->state == CS_IDLE)
                conn_next(lg, c, now);
        } else if (c->state == CS_IDLE)
            conn_next(lg, c, now);
        else if ((c->state == CS_WAITING || c->state == CS_SENDING)
                 && now - c->t_sent > lg->timeout_ns)
            conn_fail(lg, c, &lg->err_timeout, now);
    }
}

/*
 * Take a CPU snapshot: the busy time of all CPUs (/proc/stat), the server's
 * user+system time (/proc/PID/stat, all its threads) and our own.
 */
static void cpu_snap(const struct lg *lg, struct cpu_snap *cs)
{
    double hz = (double) sysconf(_SC_CLK_TCK);
    unsigned long long v[8] = {0};
    struct rusage ru;
    char buf[1024], path[64];
    FILE *fp;

    memset(cs, 0, sizeof(*cs));
    if ((fp = fopen("/proc/stat", "r")) != NULL) {
        /* cpu user nice system idle iowait irq softirq steal */
        if (fscanf(fp, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                   &v[4], &v[5], &v[6], &v[7]) == 8) {
            cs->busy = (double) (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / hz;
            cs->have_busy = 1;
        }
        fclose(fp);
    }
    if (lg->server_pid > 0) {
        snprintf(path, sizeof(path), "/proc/%ld/stat", lg->server_pid);
        if ((fp = fopen(path, "r")) != NULL) {
            size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
            char *p;
            unsigned long long ut, st;

            buf[n] = 0;
            /* Fields after the command name, which may hold anything, ")" included. */
            if ((p = strrchr(buf, ')')) != NULL
                && sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) == 2) {
                cs->server = (double) (ut + st) / hz;
                cs->have_server = 1;
            }
            fclose(fp);
        }
    }
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        cs->self = (double) ru.ru_utime.tv_sec + (double) ru.ru_utime.tv_usec / 1e6
                   + (double) ru.ru_stime.tv_sec + (double) ru.ru_stime.tv_usec / 1e6;
}

/* Start the measuring window. */
static void enter_measure(struct lg *lg, int64_t now)
{
    cpu_snap(lg, &lg->cpu0);
    lg->phase = PH_MEASURE;
    lg->last_progress = now;
    lg->t_start = now;
    lg->t_end = now + lg->duration_ns;
    tick(lg, now);
}

/* Move to the next phase when the current one is complete. */
static void advance(struct lg *lg, int64_t now)
{
    switch (lg->phase) {
    case PH_WARMUP:
        if (lg->warmed < lg->nconn)
            return;
        lg->last_progress = now;
        if (lg->wl == WL_REPEAT) {
            lg->phase = PH_PRIME1;
            tick(lg, now);
        } else
            enter_measure(lg, now);
        return;
    case PH_PRIME1:
        if (lg->prime_done < lg->warm)
            return;
        lg->phase = PH_WAIT;
        /* Half a second beyond the delay absorbs servers that count whole seconds. */
        lg->wait_until = now + lg->delay_ns + 500000000LL;
        return;
    case PH_WAIT:
        if (now < lg->wait_until)
            return;
        lg->phase = PH_PRIME2;
        lg->prime_next = lg->prime_done = 0;
        lg->last_progress = now;
        tick(lg, now);
        return;
    case PH_PRIME2:
        if (lg->prime_done < lg->warm)
            return;
        enter_measure(lg, now);
        return;
    case PH_MEASURE:
        if (lg->nreq && lg->meas.replies >= lg->nreq) {
            lg->phase = PH_DONE;
            lg->t_stop = now;
        } else if ((!lg->nreq || lg->duration_set) && now >= lg->t_end) {
            lg->phase = PH_DONE;
            lg->t_stop = lg->t_end;
        }
        return;
    default:
        return;
    }
}

/* ---- reporting ------------------------------------------------------- */

/* qsort comparator for latencies. */
static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;

    return (x > y) - (x < y);
}

/* Nearest-rank percentile (per mille) of the sorted samples. */
static uint32_t pctl(const struct lg *lg, unsigned permille)
{
    size_t idx;

    if (lg->lat_len == 0)
        return 0;
    idx = (lg->lat_len * permille + 999) / 1000;
    return lg->lat[idx ? idx - 1 : 0];
}

/* Print a microsecond value for humans. */
static void fmt_us(char *buf, size_t len, uint32_t us)
{
    if (us < 10000)
        snprintf(buf, len, "%uus", us);
    else
        snprintf(buf, len, "%u.%ums", us / 1000, us % 1000 / 100);
}

/* Print the result line (human) or object (-j). */
static void report(struct lg *lg)
{
    static const char *const wl_name[] = {"new", "repeat", "whitelist"};
    double secs = (double) (lg->t_stop - lg->t_start) / 1e9;
    double rps = secs > 0 ? (double) lg->meas.replies / secs : 0;
    uint64_t sum = 0;
    uint32_t p50, p90, p99, p999, max;
    char b50[24], b99[24], bmax[24];

    double cpu_self = 0, cpu_server = -1, cpu_other = -1;

    /* CPU use over the window, in cores; "other" is everything else on the machine. */
    if (secs > 0) {
        cpu_self = (lg->cpu1.self - lg->cpu0.self) / secs;
        if (lg->cpu0.have_server && lg->cpu1.have_server)
            cpu_server = (lg->cpu1.server - lg->cpu0.server) / secs;
        if (lg->cpu0.have_busy && lg->cpu1.have_busy) {
            cpu_other = (lg->cpu1.busy - lg->cpu0.busy) / secs - cpu_self
                        - (cpu_server > 0 ? cpu_server : 0);
            if (cpu_other < 0)
                cpu_other = 0;
        }
    }
    if (lg->lat_len)
        qsort(lg->lat, lg->lat_len, sizeof(*lg->lat), cmp_u32);
    for (size_t i = 0; i < lg->lat_len; i++)
        sum += lg->lat[i];
    p50 = pctl(lg, 500);
    p90 = pctl(lg, 900);
    p99 = pctl(lg, 990);
    p999 = pctl(lg, 999);
    max = lg->lat_len ? lg->lat[lg->lat_len - 1] : 0;

    if (lg->json) {
        printf("{\"label\":\"%s\",\"target\":\"%s\",\"workload\":\"%s\",\"connections\":%d,"
               "\"seconds\":%.3f,\"requests\":%" PRIu64 ",\"rps\":%.1f,"
               "\"lat_mean_us\":%.1f,\"p50_us\":%u,\"p90_us\":%u,\"p99_us\":%u,\"p999_us\":%u,\"max_us\":%u,"
               "\"dunno\":%" PRIu64 ",\"defer\":%" PRIu64 ",\"prepend\":%" PRIu64 ",\"other\":%" PRIu64 ","
               "\"errors\":%" PRIu64 ",\"setup_errors\":%" PRIu64 ",\"err_connect\":%" PRIu64 ",\"err_closed\":%" PRIu64
               ",\"err_timeout\":%" PRIu64 ",\"err_proto\":%" PRIu64 ","
               "\"warm\":%u,\"new_pct\":%u,\"prime1_defer\":%" PRIu64 ",\"prime1_pass\":%" PRIu64
               ",\"prime2_defer\":%" PRIu64 ",\"prime2_pass\":%" PRIu64 ","
               "\"cpu_loadgen\":%.2f,\"cpu_server\":%.2f,\"cpu_other\":%.2f,"
               "\"stalled\":%s,\"salt\":\"%s\"}\n",
               lg->label ? lg->label : "", lg->target, wl_name[lg->wl], lg->nconn,
               secs, lg->meas.replies, rps,
               lg->lat_len ? (double) sum / (double) lg->lat_len : 0.0, p50, p90, p99, p999, max,
               lg->meas.act[ACT_DUNNO], lg->meas.act[ACT_DEFER], lg->meas.act[ACT_PREPEND],
               lg->meas.act[ACT_OTHER],
               lg->errors, lg->setup_errors, lg->err_connect, lg->err_closed, lg->err_timeout,
               lg->err_proto,
               lg->wl == WL_REPEAT ? lg->warm : 0, lg->wl == WL_REPEAT ? lg->new_pct : 0,
               lg->prime1.act[ACT_DEFER], lg->prime1.act[ACT_DUNNO] + lg->prime1.act[ACT_PREPEND],
               lg->prime2.act[ACT_DEFER], lg->prime2.act[ACT_DUNNO] + lg->prime2.act[ACT_PREPEND],
               cpu_self, cpu_server, cpu_other, lg->stalled ? "true" : "false", lg->salt);
        return;
    }
    fmt_us(b50, sizeof(b50), p50);
    fmt_us(b99, sizeof(b99), p99);
    fmt_us(bmax, sizeof(bmax), max);
    printf("%s%s%s %s c=%d %.2fs %.0f req/s n=%" PRIu64 " p50=%s p99=%s max=%s "
           "dunno=%" PRIu64 " defer=%" PRIu64 " prepend=%" PRIu64 " other=%" PRIu64 " errors=%" PRIu64,
           lg->label ? lg->label : "", lg->label ? " " : "", lg->target, wl_name[lg->wl],
           lg->nconn, secs, rps, lg->meas.replies, b50, b99, bmax,
           lg->meas.act[ACT_DUNNO], lg->meas.act[ACT_DEFER], lg->meas.act[ACT_PREPEND],
           lg->meas.act[ACT_OTHER], lg->errors);
    if (lg->wl == WL_REPEAT)
        printf(" warm=%u primed(defer=%" PRIu64 " pass=%" PRIu64 ") retried(defer=%" PRIu64
               " pass=%" PRIu64 ")",
               lg->warm, lg->prime1.act[ACT_DEFER],
               lg->prime1.act[ACT_DUNNO] + lg->prime1.act[ACT_PREPEND],
               lg->prime2.act[ACT_DEFER], lg->prime2.act[ACT_DUNNO] + lg->prime2.act[ACT_PREPEND]);
    if (lg->setup_errors)
        printf(" setup_errors=%" PRIu64, lg->setup_errors);
    if (cpu_server >= 0)
        printf(" cpu: loadgen=%.2f server=%.2f other=%.2f", cpu_self, cpu_server, cpu_other);
    puts(lg->stalled ? " STALLED" : "");
}

/* ---- main ------------------------------------------------------------ */

/* Print usage and exit with status 1. */
static void usage(void)
{
    fputs("usage: gg-loadgen -s HOST:PORT [-c CONNECTIONS] [-d SECONDS | -n REQUESTS]\n"
          "                  [-w new|repeat|whitelist] [-D DELAY] [-K WARM] [-p NEW_PCT]\n"
          "                  [-W CIDR] [-T TIMEOUT] [-L LABEL] [-P PID] [-j] [-q]\n"
          "  -s  policy server, numeric: 127.0.0.1:10023 or [::1]:10023\n"
          "  -c  connections, each with one outstanding request (default 64)\n"
          "  -d  measuring window in seconds (default 10)\n"
          "  -n  measure exactly this many requests (with -d: at most that long)\n"
          "  -w  workload: new (default), repeat, whitelist\n"
          "  -D  repeat: server's greylist delay in seconds (default 2)\n"
          "  -K  repeat: size of the warm triplet set (default 1000)\n"
          "  -p  repeat: percent of new triplets while measuring (default 10)\n"
          "  -W  whitelist: client network (default 127.0.0.0/8)\n"
          "  -S  distinct sender domains (default 9973)\n"
          "  -T  per-request timeout in seconds; no reply at all for this long\n"
          "      ends the run with status 2 (default 10)\n"
          "  -L  label to print with the result\n"
          "  -P  server's pid: report its CPU use over the window (cores)\n"
          "  -j  print one JSON object instead of the summary line\n"
          "  -q  print nothing, only set the exit status\n",
          stderr);
    exit(1);
}

/* Parse a number in [min, max] or exit. */
static double num(const char *opt, const char *s, double min, double max)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || *end || v < min || v > max)
        fatal("%s %s: expected a number in [%g, %g]", opt, s, min, max);
    return v;
}

/* Stop the run early on SIGINT/SIGTERM; the results so far are reported. */
static void on_signal(int sig)
{
    (void) sig;
    interrupted = 1;
}

/* set_defaults - what a run does when the command line says nothing */
static void set_defaults(struct lg *lg)
{
    lg->nconn = 64;
    lg->duration_ns = 10 * 1000000000LL;
    lg->wl = WL_NEW;
    lg->delay_ns = 2 * 1000000000LL;
    lg->warm = 1000;
    lg->domains = 9973;
    lg->new_pct = 10;
    lg->timeout_ns = 10 * 1000000000LL;
    lg->cidr = "127.0.0.0/8";
}

/* parse_args - the command line into *lg; -1 to go on, else the exit status */
static int parse_args(struct lg *lg, int argc, char **argv)
{
    int opt;

    set_defaults(lg);
    while ((opt = getopt(argc, argv, "s:c:d:n:w:D:K:p:W:T:L:P:S:jqh")) != -1) {
        switch (opt) {
        case 's':
            lg->target = optarg;
            parse_target(lg, optarg);
            break;
        case 'c':
            lg->nconn = (int) num("-c", optarg, 1, 100000);
            break;
        case 'd':
            lg->duration_ns = (int64_t) (num("-d", optarg, 0.001, 86400) * 1e9);
            lg->duration_set = 1;
            break;
        case 'n':
            lg->nreq = (uint64_t) num("-n", optarg, 1, 1e12);
            break;
        case 'w':
            if (strcmp(optarg, "new") == 0)
                lg->wl = WL_NEW;
            else if (strcmp(optarg, "repeat") == 0)
                lg->wl = WL_REPEAT;
            else if (strcmp(optarg, "whitelist") == 0)
                lg->wl = WL_WHITELIST;
            else
                fatal("-w %s: expected new, repeat or whitelist", optarg);
            break;
        case 'D':
            lg->delay_ns = (int64_t) (num("-D", optarg, 0, 86400) * 1e9);
            break;
        case 'S': {
            char *end;
            unsigned long v = strtoul(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || v < 1 || v > 1000000) {
                fprintf(stderr, "gg-loadgen: -S %s: expected 1..1000000\n", optarg);
                return 64;
            }
            lg->domains = (uint32_t)v;
            break;
        }
        case 'K':
            lg->warm = (uint32_t) num("-K", optarg, 1, 10000000);
            break;
        case 'p':
            lg->new_pct = (unsigned) num("-p", optarg, 0, 100);
            break;
        case 'W':
            lg->cidr = optarg;
            break;
        case 'T':
            lg->timeout_ns = (int64_t) (num("-T", optarg, 0.001, 86400) * 1e9);
            break;
        case 'L':
            /* The label goes into JSON unescaped: keep it to a safe alphabet. */
            if (optarg[strspn(optarg, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")])
                fatal("-L %s: use only letters, digits, '.', '_' and '-'", optarg);
            lg->label = optarg;
            break;
        case 'j':
            lg->json = 1;
            break;
        case 'q':
            lg->quiet = 1;
            break;
        case 'P':
            lg->server_pid = (long) num("-P", optarg, 1, 4194304);
            break;
        default:
            usage();
        }
    }
    if (!lg->target || optind != argc)
        usage();
    return -1;
}


/* setup - this run's salt, the pools, signals, epoll and every connection opened */
static void setup(struct lg *lg)
{
    struct sigaction sa;
    int64_t now;

    /* The salt makes this run's senders and recipients unlike any earlier run's. */
    if (getrandom(&lg->rng, sizeof(lg->rng), 0) != sizeof(lg->rng))
        lg->rng = (uint64_t) gg_clock_ns() ^ ((uint64_t) getpid() << 32);
    {
        uint64_t s = rnd(&lg->rng);

        lg->seed = rnd(&lg->rng);
        put_letters(lg->salt, s, 8);
        lg->salt[8] = 0;
    }
    init_octets();
    if (lg->wl == WL_WHITELIST)
        init_pool(lg);

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if ((lg->ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
        fatal("epoll_create1: %s", strerror(errno));
    if (!(lg->conns = calloc((size_t) lg->nconn, sizeof(*lg->conns))))
        fatal("out of memory");
    lg->phase = PH_WARMUP;
    now = gg_clock_ns();
    lg->t_start = lg->last_progress = now;
    lg->t_end = now + lg->duration_ns;
    for (int i = 0; i < lg->nconn; i++) {
        lg->conns[i].fd = -1;
        conn_open(lg, &lg->conns[i], now);
        if (lg->conns[i].state == CS_IDLE)
            conn_next(lg, &lg->conns[i], now);
    }
}

/* run - the event loop, until the last phase ends or a signal stops it */
static void run(struct lg *lg)
{
    struct epoll_event evs[MAX_EVENTS];
    int64_t now = gg_clock_ns(), next_tick;

    next_tick = now + TICK_NS;
    while (lg->phase != PH_DONE && !interrupted) {
        int timeout = next_tick > now ? (int) ((next_tick - now) / 1000000) + 1 : 0;
        int n = epoll_wait(lg->ep, evs, MAX_EVENTS, timeout);

        if (n < 0 && errno != EINTR)
            fatal("epoll_wait: %s", strerror(errno));
        for (int i = 0; i < n; i++) {
            now = gg_clock_ns();
            conn_event(lg, evs[i].data.ptr, evs[i].events, now);
        }
        now = gg_clock_ns();
        advance(lg, now);
        if (now >= next_tick) {
            tick(lg, now);
            next_tick = now + TICK_NS;
        }
    }
}

int main(int argc, char **argv)
{
    static struct lg lgs;
    struct lg *lg = &lgs;
    int64_t now;
    int rc;

    if ((rc = parse_args(lg, argc, argv)) >= 0)
        return rc;
    setup(lg);
    run(lg);
    now = gg_clock_ns();
    cpu_snap(lg, &lg->cpu1);
    if (lg->phase != PH_DONE)
        lg->t_stop = lg->phase == PH_MEASURE ? now : lg->t_start;

    if (!lg->quiet)
        report(lg);
    if (lg->stalled || lg->meas.replies == 0 || (lg->nreq && lg->meas.replies < lg->nreq))
        return 2;
    return 0;
}

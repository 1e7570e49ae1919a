/*
 * miltergen.c - gg-miltergen, a load generator for the milter protocol
 *
 * gg-miltergen plays the MTA's side of the Sendmail milter protocol
 * (version 6, libmilter's mfdef.h) against one milter on TCP, with
 * SESSIONS (-c) sessions running at once.  A session is one SMTP client
 * as Postfix presents it to a milter: a new TCP connection, option
 * negotiation (SMFIC_OPTNEG), then
 *
 *   macros + SMFIC_CONNECT   a new client address and its "[address]" name
 *   SMFIC_HELO               the client's HELO name
 *   macros + SMFIC_MAIL      a new sender
 *   macros + SMFIC_RCPT      a new recipient: a triplet never seen before
 *
 * and, after the milter's answer to RCPT, SMFIC_ABORT and SMFIC_QUIT and
 * the connection is closed; the session starts again on a new one.  A
 * greylister answers RCPT with 451 (SMFIR_REPLYCODE or SMFIR_TEMPFAIL):
 * that answer is the message's verdict and its latency (RCPT sent to
 * reply) is what the percentiles describe.  With -e the session goes on
 * to the end of the message when RCPT was continued - SMFIC_DATA, a few
 * headers, SMFIC_EOH, a short body and SMFIC_BODYEOB - and the verdict
 * and its latency are the answer to end of message (for milters that
 * greylist there, such as rspamd's).  Steps the milter declines at
 * negotiation (SMFIP_NO*) are not sent and steps it wants no reply for
 * (SMFIP_NR_*) are not waited for, as an MTA does.
 *
 * Client addresses are spread over millions of public-looking /24
 * networks (no private, loopback or link-local ones, which some milters
 * skip); senders and recipients carry a counter and a per-run salt in
 * lower-case letters.  Each session completes one unmeasured message
 * before the measuring window opens.
 *
 * Output: one summary line, or with -j one JSON object: msgs/s over the
 * window (-d seconds, or -n messages), verdict-latency and whole-session
 * percentiles, the verdicts (tempfail counts SMFIR_TEMPFAIL and 4xx
 * SMFIR_REPLYCODE), errors, and with -P PID the CPU the milter used.
 *
 * Design: one thread, one epoll set, non-blocking sockets; a step's
 * packets are assembled in the session's buffer and sent with one write.
 * It talks only to the numeric address given with -s and resolves
 * nothing.  Exit status: 0 when at least one verdict was measured (and,
 * with -n, all of them), 1 on a usage or setup error, 2 otherwise.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>

#include "lib/clock.h"
#include "lib/hostport.h"

#define OUT_MAX 4096		/* one step's packets never exceed this */
#define IN_MAX 4096		/* a reply packet longer than this is an error */
#define MAX_EVENTS 256
#define TICK_NS 100000000LL	/* timeout scan: 100 ms */
#define RETRY_NS 100000000LL	/* reconnect delay after an error */

/* The steps of a session, in order; a session waits for the reply to its step. */
enum step {
    ST_DOWN, ST_CONNECTING, ST_OPTNEG, ST_CONNECT, ST_HELO, ST_MAIL, ST_RCPT,
    ST_DATA, ST_HEADER, ST_EOH, ST_BODY, ST_EOM, ST_END
};

enum verdict { V_TEMPFAIL, V_CONTINUE, V_REJECT, V_ACCEPT, V_OTHER, V_N };
enum phase { PH_WARMUP, PH_MEASURE, PH_DONE };

struct sess {
    int fd;
    enum step step;
    int hdr;			/* ST_HEADER: which header */
    uint32_t events;
    unsigned long prot;		/* SMFIP_* the milter chose */
    uint64_t msg;		/* this message's number */
    int warmed;			/* one message done */
    int64_t t_conn, t_sent, retry_at;
    char out[OUT_MAX];
    size_t out_len, out_off;
    unsigned char in[IN_MAX + 5];
    size_t in_len;
};

struct cpu_snap {
    double busy, server, self;
    int have_busy, have_server;
};

struct mg {
    struct sockaddr_storage addr;
    socklen_t addrlen;
    const char *target, *label;
    int nsess, json, quiet, eom;
    double duration;
    uint64_t nmsg;
    int64_t timeout_ns, duration_ns;
    long server_pid;
    int ep;
    struct sess *sess;
    enum phase phase;
    int warmed;
    uint64_t next_msg;
    char salt[8];
    int64_t t_begin, t_start, t_end, t_stop, last_progress;
    int stalled;
    struct cpu_snap cpu0, cpu1;
    /* Measured: */
    uint64_t msgs, verdict[V_N], early, errors, err_connect, err_closed, err_timeout, err_proto;
    uint32_t *lat, *slat;	/* verdict and session latencies, microseconds */
    size_t lat_len, lat_cap;
};

static volatile sig_atomic_t stop_now;

static void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fatal(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "gg-miltergen: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* ---- packets --------------------------------------------------------- */

/* mix - a 64-bit hash (splitmix64's finaliser) */
static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* letters - v in lower-case letters, at least width of them */
static char *letters(char *p, uint64_t v, int width)
{
    char tmp[16];
    int n = 0;

    do {
        tmp[n++] = (char) ('a' + v % 26);
        v /= 26;
    } while (v && n < (int) sizeof(tmp));
    while (n < width)
        tmp[n++] = 'a';
    while (n)
        *p++ = tmp[--n];
    *p = '\0';
    return p;
}

/* client_v4 - message i's client: a public-looking address, a new /24 for every message */
static void client_v4(uint64_t i, char *buf, size_t size)
{
    uint64_t h = mix(i);
    unsigned a;

    /* 1-223 without 10, 100 (CGN), 127, 169 (link-local), 172 and 192 (private). */
    do {
        a = 1 + (unsigned) (h % 223);
        h = mix(h);
    } while (a == 10 || a == 100 || a == 127 || a == 169 || a == 172 || a == 192);
    snprintf(buf, size, "%u.%u.%u.%u", a, (unsigned) (i >> 8) % 256, (unsigned) i % 256,
             1 + (unsigned) (h % 254));
}

/* pkt_begin / pkt_end - one packet: 4-byte length, command, data */
static char *pkt_begin(struct sess *s, char cmd)
{
    char *p = s->out + s->out_len;

    p[4] = cmd;
    return p + 5;
}

static void pkt_end(struct sess *s, char *end)
{
    char *start = s->out + s->out_len;
    uint32_t len = htonl((uint32_t) (end - start - 4));

    memcpy(start, &len, 4);
    s->out_len = (size_t) (end - s->out);
}

/* put - a C string with its NUL */
static char *put(char *p, const char *v)
{
    size_t n = strlen(v) + 1;

    memcpy(p, v, n);
    return p + n;
}

/* put_macros - SMFIC_MACRO for one command: name, value, name, value ... (NULL ends) */
static void put_macros(struct sess *s, char cmd, ...)
{
    char *p = pkt_begin(s, SMFIC_MACRO);
    const char *v;
    va_list ap;

    *p++ = cmd;
    va_start(ap, cmd);
    while ((v = va_arg(ap, const char *)) != NULL)
        p = put(p, v);
    va_end(ap);
    pkt_end(s, p);
}

/* sender / recipient - this message's envelope addresses */
static void sender(const struct mg *mg, const struct sess *s, char *buf)
{
    char *p = buf;

    p += sprintf(p, "<s");
    p = letters(p, s->msg, 4);
    p += sprintf(p, ".%s@sender%c.test>", mg->salt, (char) ('a' + s->msg % 26));
}

static void recipient(const struct mg *mg, const struct sess *s, char *buf)
{
    char *p = buf;

    p += sprintf(p, "<r");
    p = letters(p, s->msg, 4);
    sprintf(p, ".%s@example.test>", mg->salt);
}

/* put_step - the packets of step st (macros first); nothing for a declined step */
static void put_step(const struct mg *mg, struct sess *s, enum step st)
{
    static const char *const hdr[][2] = {
        {"From", "Sender <sender@example.test>"},
        {"To", "Recipient <recipient@example.test>"},
        {"Subject", "bench message"},
        {"Date", "Tue, 8 Dec 2026 01:00:00 +0000"},
        {"Message-ID", NULL},
    };
    char a[128], b[128], *p;
    uint16_t port;

    switch (st) {
    case ST_OPTNEG: {
        uint32_t v[3] = {htonl(SMFI_PROT_VERSION), htonl(SMFI_CURR_ACTS), htonl(SMFI_CURR_PROT)};
        p = pkt_begin(s, SMFIC_OPTNEG);
        memcpy(p, v, sizeof(v));
        pkt_end(s, p + sizeof(v));
        return;
    }
    case ST_CONNECT:
        put_macros(s, SMFIC_CONNECT, "j", "mx.bench.test", "{daemon_name}", "smtpd",
                   "v", "Postfix 3.7.11", (char *)NULL);
        client_v4(s->msg, a, sizeof(a));
        snprintf(b, sizeof(b), "[%s]", a);
        p = pkt_begin(s, SMFIC_CONNECT);
        p = put(p, b);
        *p++ = SMFIA_INET;
        port = htons((uint16_t) (1024 + s->msg % 60000));
        memcpy(p, &port, 2);
        p = put(p + 2, a);
        pkt_end(s, p);
        return;
    case ST_HELO:
        p = pkt_begin(s, SMFIC_HELO);
        p = put(p, "mail.client.test");
        pkt_end(s, p);
        return;
    case ST_MAIL:
        sender(mg, s, a);
        put_macros(s, SMFIC_MAIL, "{mail_addr}", a, (char *)NULL);
        p = pkt_begin(s, SMFIC_MAIL);
        p = put(p, a);
        pkt_end(s, p);
        return;
    case ST_RCPT:
        recipient(mg, s, a);
        put_macros(s, SMFIC_RCPT, "{rcpt_addr}", a, (char *)NULL);
        p = pkt_begin(s, SMFIC_RCPT);
        p = put(p, a);
        pkt_end(s, p);
        return;
    case ST_DATA:
        p = pkt_begin(s, SMFIC_DATA);
        pkt_end(s, p);
        return;
    case ST_HEADER:
        p = pkt_begin(s, SMFIC_HEADER);
        p = put(p, hdr[s->hdr][0]);
        if (hdr[s->hdr][1] == NULL) {
            char *q = b;
            q += sprintf(q, "<m");
            q = letters(q, s->msg, 4);
            sprintf(q, ".%s@client.test>", mg->salt);
            p = put(p, b);
        } else
            p = put(p, hdr[s->hdr][1]);
        pkt_end(s, p);
        return;
    case ST_EOH:
        p = pkt_begin(s, SMFIC_EOH);
        pkt_end(s, p);
        return;
    case ST_BODY:
        p = pkt_begin(s, SMFIC_BODY);
        p += sprintf(p, "Hello,\r\n\r\nthis is message %" PRIu64 " of run %s.\r\n", s->msg,
                     mg->salt);
        pkt_end(s, p);
        return;
    case ST_EOM:
        snprintf(a, sizeof(a), "Q%" PRIx64, s->msg);
        put_macros(s, SMFIC_BODYEOB, "i", a, (char *)NULL);
        p = pkt_begin(s, SMFIC_BODYEOB);
        pkt_end(s, p);
        return;
    default:
        return;
    }
}

#define NHEADERS 5

/* declined / no_reply - what the milter chose at negotiation for a step */
static int declined(const struct sess *s, enum step st)
{
    static const unsigned long no[] = {
        [ST_CONNECT] = SMFIP_NOCONNECT, [ST_HELO] = SMFIP_NOHELO, [ST_MAIL] = SMFIP_NOMAIL,
        [ST_RCPT] = SMFIP_NORCPT, [ST_DATA] = SMFIP_NODATA, [ST_HEADER] = SMFIP_NOHDRS,
        [ST_EOH] = SMFIP_NOEOH, [ST_BODY] = SMFIP_NOBODY,
    };

    return st < sizeof(no) / sizeof(no[0]) && (s->prot & no[st]) != 0;
}

static int no_reply(const struct sess *s, enum step st)
{
    static const unsigned long nr[] = {
        [ST_CONNECT] = SMFIP_NR_CONN, [ST_HELO] = SMFIP_NR_HELO, [ST_MAIL] = SMFIP_NR_MAIL,
        [ST_RCPT] = SMFIP_NR_RCPT, [ST_DATA] = SMFIP_NR_DATA, [ST_HEADER] = SMFIP_NR_HDR,
        [ST_EOH] = SMFIP_NR_EOH, [ST_BODY] = SMFIP_NR_BODY,
    };

    return st < sizeof(nr) / sizeof(nr[0]) && (s->prot & nr[st]) != 0;
}

/* ---- sessions -------------------------------------------------------- */

static void want(struct mg *mg, struct sess *s, uint32_t events)
{
    struct epoll_event ev;

    if (s->events == events)
        return;
    ev.events = events;
    ev.data.ptr = s;
    if (epoll_ctl(mg->ep, EPOLL_CTL_MOD, s->fd, &ev) < 0)
        fatal("epoll_ctl: %s", strerror(errno));
    s->events = events;
}

/* sess_close - end the connection; a new one starts at once (or after an error, soon) */
static void sess_close(struct mg *mg, struct sess *s, uint64_t *err, int64_t now)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    s->step = ST_DOWN;
    s->retry_at = now;
    if (err != NULL) {
        s->retry_at = now + RETRY_NS;
        if (mg->phase == PH_MEASURE) {
            mg->errors++;
            (*err)++;
        }
    }
}

/* sess_open - a new connection for a new message */
static void sess_open(struct mg *mg, struct sess *s, int64_t now)
{
    struct epoll_event ev;
    int one = 1;

    s->fd = socket(mg->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0)
        fatal("socket: %s", strerror(errno));
    (void) setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    s->in_len = s->out_len = s->out_off = 0;
    s->msg = mg->next_msg++;
    s->t_conn = s->t_sent = now;
    if (connect(s->fd, (struct sockaddr *) &mg->addr, mg->addrlen) != 0 && errno != EINPROGRESS) {
        sess_close(mg, s, &mg->err_connect, now);
        return;
    }
    s->step = ST_CONNECTING;
    s->events = EPOLLOUT;
    ev.events = s->events;
    ev.data.ptr = s;
    if (epoll_ctl(mg->ep, EPOLL_CTL_ADD, s->fd, &ev) < 0)
        fatal("epoll_ctl: %s", strerror(errno));
}

/* sess_flush - write what is pending; 0, or -1 after closing on an error */
static int sess_flush(struct mg *mg, struct sess *s, int64_t now)
{
    while (s->out_off < s->out_len) {
        ssize_t n = write(s->fd, s->out + s->out_off, s->out_len - s->out_off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            want(mg, s, EPOLLIN | EPOLLOUT);
            return 0;
        }
        if (n <= 0) {
            sess_close(mg, s, &mg->err_closed, now);
            return -1;
        }
        s->out_off += (size_t) n;
    }
    s->out_len = s->out_off = 0;
    want(mg, s, EPOLLIN);
    return 0;
}

/* lat_add - one measured message */
static void lat_add(struct mg *mg, int64_t verdict_ns, int64_t session_ns)
{
    if (mg->lat_len == mg->lat_cap) {
        size_t cap = mg->lat_cap ? mg->lat_cap * 2 : 65536;
        uint32_t *a = realloc(mg->lat, cap * sizeof(*a)), *b;
        if (a == NULL)
            fatal("out of memory");
        mg->lat = a;
        if ((b = realloc(mg->slat, cap * sizeof(*b))) == NULL)
            fatal("out of memory");
        mg->slat = b;
        mg->lat_cap = cap;
    }
    mg->lat[mg->lat_len] = (uint32_t) (verdict_ns / 1000);
    mg->slat[mg->lat_len++] = (uint32_t) (session_ns / 1000);
}

/* finish - the message has its verdict: abort, quit, close, count */
static void finish(struct mg *mg, struct sess *s, enum verdict v, int early, int64_t now)
{
    char *p;

    /* No replies to these: the connection can close right after them. */
    p = pkt_begin(s, SMFIC_ABORT);
    pkt_end(s, p);
    p = pkt_begin(s, SMFIC_QUIT);
    pkt_end(s, p);
    (void) write(s->fd, s->out, s->out_len);
    s->out_len = 0;
    mg->last_progress = now;
    if (mg->phase == PH_MEASURE) {
        mg->msgs++;
        mg->verdict[v]++;
        mg->early += (uint64_t) early;
        lat_add(mg, now - s->t_sent, now - s->t_conn);
    } else if (mg->phase == PH_WARMUP && !s->warmed) {
        s->warmed = 1;
        mg->warmed++;
    }
    sess_close(mg, s, NULL, now);
}

/* step_after - the step that follows st in this session */
static enum step step_after(const struct mg *mg, const struct sess *s, enum step st)
{
    if (st == ST_HEADER && s->hdr + 1 < NHEADERS)
        return ST_HEADER;
    if (st == ST_RCPT && !mg->eom)
        return ST_END;
    return st + 1;
}

/* advance - send from step st on until one wants a reply (or the message ends) */
static void advance(struct mg *mg, struct sess *s, enum step st, int64_t now)
{
    for (;;) {
        if (st == ST_END) {
            /* Nothing decided: the milter continued everything. */
            s->t_sent = now;
            finish(mg, s, V_CONTINUE, 0, now);
            return;
        }
        if (st == ST_HEADER && s->step != ST_HEADER)
            s->hdr = 0;
        else if (st == ST_HEADER)
            s->hdr++;
        s->step = st;
        if (!declined(s, st)) {
            put_step(mg, s, st);
            if (st == ST_OPTNEG || st == ST_EOM || !no_reply(s, st))
                break;
        }
        st = step_after(mg, s, st);
    }
    s->t_sent = now;
    (void) sess_flush(mg, s, now);
}

/* classify - a final reply's verdict */
static enum verdict classify(int cmd, const unsigned char *data, size_t len)
{
    switch (cmd) {
    case SMFIR_CONTINUE:
        return V_CONTINUE;
    case SMFIR_TEMPFAIL:
        return V_TEMPFAIL;
    case SMFIR_REJECT:
        return V_REJECT;
    case SMFIR_ACCEPT:
        return V_ACCEPT;
    case SMFIR_REPLYCODE:
        if (len > 0 && data[0] == '4')
            return V_TEMPFAIL;
        if (len > 0 && data[0] == '5')
            return V_REJECT;
        return V_OTHER;
    default:
        return V_OTHER;
    }
}

/* on_reply - one packet from the milter; 0, or -1 if the session was closed */
static int on_reply(struct mg *mg, struct sess *s, int cmd, const unsigned char *data, size_t len,
                    int64_t now)
{
    enum verdict v;

    if (s->step == ST_OPTNEG) {
        uint32_t w[3];
        if (cmd != SMFIC_OPTNEG || len < sizeof(w)) {
            sess_close(mg, s, &mg->err_proto, now);
            return -1;
        }
        memcpy(w, data, sizeof(w));
        s->prot = ntohl(w[2]);
        advance(mg, s, ST_CONNECT, now);
        return s->fd < 0 ? -1 : 0;
    }
    /* Progress and, at end of message, modifications come before the answer. */
    if (cmd == SMFIR_PROGRESS)
        return 0;
    if (s->step == ST_EOM && strchr("+-2behimlq", cmd) != NULL)
        return 0;
    v = classify(cmd, data, len);
    if (v != V_CONTINUE || s->step == ST_EOM) {
        finish(mg, s, v, s->step != (mg->eom ? ST_EOM : ST_RCPT), now);
        return -1;
    }
    if (s->step == ST_RCPT && !mg->eom) {
        finish(mg, s, V_CONTINUE, 0, now);
        return -1;
    }
    advance(mg, s, step_after(mg, s, s->step), now);
    return s->fd < 0 ? -1 : 0;
}

/* sess_read - read and act on every complete packet */
static void sess_read(struct mg *mg, struct sess *s, int64_t now)
{
    size_t off = 0;
    ssize_t n = read(s->fd, s->in + s->in_len, sizeof(s->in) - s->in_len);

    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        sess_close(mg, s, &mg->err_closed, now);
        return;
    }
    s->in_len += (size_t) n;
    while (s->in_len - off >= 5) {
        uint32_t len;
        memcpy(&len, s->in + off, 4);
        len = ntohl(len);
        if (len == 0 || len > IN_MAX) {
            sess_close(mg, s, &mg->err_proto, now);
            return;
        }
        if (s->in_len - off < 4 + (size_t) len)
            break;
        if (on_reply(mg, s, s->in[off + 4], s->in + off + 5, len - 1, now) != 0)
            return;
        off += 4 + len;
    }
    memmove(s->in, s->in + off, s->in_len - off);
    s->in_len -= off;
}

/* sess_event - epoll says the socket is ready */
static void sess_event(struct mg *mg, struct sess *s, uint32_t ev, int64_t now)
{
    if (s->step == ST_CONNECTING) {
        int err = 0;
        socklen_t el = sizeof(err);
        if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err != 0) {
            sess_close(mg, s, &mg->err_connect, now);
            return;
        }
        advance(mg, s, ST_OPTNEG, now);
        return;
    }
    if ((ev & EPOLLOUT) && s->out_off < s->out_len && sess_flush(mg, s, now) != 0)
        return;
    if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR))
        sess_read(mg, s, now);
}

/* tick - start sessions that are down, time out the ones that hang, move phases */
static void tick(struct mg *mg, int64_t now)
{
    /* A session that cannot finish its first message does not hold the run up for ever. */
    if (mg->phase == PH_WARMUP && (mg->warmed >= mg->nsess ||
                                   now - mg->t_begin > 2 * mg->timeout_ns + 1000000000LL)) {
        mg->phase = PH_MEASURE;
        mg->last_progress = now;
        mg->t_start = now;
        mg->t_end = now + mg->duration_ns;
    }
    if (mg->phase == PH_MEASURE &&
        ((mg->nmsg && mg->msgs >= mg->nmsg) || (mg->duration_ns && now >= mg->t_end) || stop_now)) {
        mg->t_stop = mg->nmsg && mg->msgs >= mg->nmsg ? now : now < mg->t_end ? now : mg->t_end;
        mg->phase = PH_DONE;
        return;
    }
    if (mg->phase == PH_MEASURE && now - mg->last_progress > 2 * mg->timeout_ns) {
        /* Not one verdict for two timeouts: the milter is stuck; report what there is. */
        mg->stalled = 1;
        mg->t_stop = now;
        mg->phase = PH_DONE;
        return;
    }
    for (int i = 0; i < mg->nsess; i++) {
        struct sess *s = &mg->sess[i];
        if (s->step == ST_DOWN && now >= s->retry_at)
            sess_open(mg, s, now);
        else if (s->step != ST_DOWN && now - s->t_sent > mg->timeout_ns)
            sess_close(mg, s, &mg->err_timeout, now);
    }
}

/* ---- reporting ------------------------------------------------------- */

/* cpu_snap - all CPUs' busy time, the milter's (all threads) and our own */
static void cpu_snap(const struct mg *mg, struct cpu_snap *cs)
{
    double hz = (double) sysconf(_SC_CLK_TCK);
    unsigned long long v[8] = {0}, ut, st;
    struct rusage ru;
    char buf[1024], path[64], *p;
    FILE *fp;

    memset(cs, 0, sizeof(*cs));
    if ((fp = fopen("/proc/stat", "r")) != NULL) {
        if (fscanf(fp, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                   &v[4], &v[5], &v[6], &v[7]) == 8) {
            cs->busy = (double) (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / hz;
            cs->have_busy = 1;
        }
        fclose(fp);
    }
    if (mg->server_pid > 0) {
        snprintf(path, sizeof(path), "/proc/%ld/stat", mg->server_pid);
        if ((fp = fopen(path, "r")) != NULL) {
            size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
            buf[n] = 0;
            if ((p = strrchr(buf, ')')) != NULL
                && sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
                          &st) == 2) {
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

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;

    return (x > y) - (x < y);
}

/* pctl - nearest-rank percentile (per mille) of n sorted samples */
static uint32_t pctl(const uint32_t *v, size_t n, unsigned permille)
{
    size_t idx = (n * permille + 999) / 1000;

    return n == 0 ? 0 : v[idx ? idx - 1 : 0];
}

static void report(struct mg *mg)
{
    double secs = (double) (mg->t_stop - mg->t_start) / 1e9;
    double rate = secs > 0 ? (double) mg->msgs / secs : 0;
    double cpu_self = 0, cpu_server = -1, cpu_other = -1;
    size_t n = mg->lat_len;
    uint32_t p50, p90, p99, max, s50, s99;

    if (secs > 0) {
        cpu_self = (mg->cpu1.self - mg->cpu0.self) / secs;
        if (mg->cpu0.have_server && mg->cpu1.have_server)
            cpu_server = (mg->cpu1.server - mg->cpu0.server) / secs;
        if (mg->cpu0.have_busy && mg->cpu1.have_busy) {
            cpu_other = (mg->cpu1.busy - mg->cpu0.busy) / secs - cpu_self
                        - (cpu_server > 0 ? cpu_server : 0);
            if (cpu_other < 0)
                cpu_other = 0;
        }
    }
    if (n) {
        qsort(mg->lat, n, sizeof(*mg->lat), cmp_u32);
        qsort(mg->slat, n, sizeof(*mg->slat), cmp_u32);
    }
    p50 = pctl(mg->lat, n, 500);
    p90 = pctl(mg->lat, n, 900);
    p99 = pctl(mg->lat, n, 990);
    max = n ? mg->lat[n - 1] : 0;
    s50 = pctl(mg->slat, n, 500);
    s99 = pctl(mg->slat, n, 990);
    if (mg->json) {
        printf("{\"label\":\"%s\",\"target\":\"%s\",\"mode\":\"%s\",\"sessions\":%d,"
               "\"seconds\":%.3f,\"messages\":%" PRIu64 ",\"rps\":%.1f,"
               "\"p50_us\":%u,\"p90_us\":%u,\"p99_us\":%u,\"max_us\":%u,"
               "\"session_p50_us\":%u,\"session_p99_us\":%u,"
               "\"tempfail\":%" PRIu64 ",\"continue\":%" PRIu64 ",\"reject\":%" PRIu64
               ",\"accept\":%" PRIu64 ",\"other\":%" PRIu64 ",\"early\":%" PRIu64 ","
               "\"errors\":%" PRIu64 ",\"err_connect\":%" PRIu64 ",\"err_closed\":%" PRIu64
               ",\"err_timeout\":%" PRIu64 ",\"err_proto\":%" PRIu64 ","
               "\"cpu_loadgen\":%.2f,\"cpu_server\":%.2f,\"cpu_other\":%.2f,\"stalled\":%s,\"salt\":\"%s\"}\n",
               mg->label ? mg->label : "", mg->target, mg->eom ? "eom" : "rcpt", mg->nsess, secs,
               mg->msgs, rate, p50, p90, p99, max, s50, s99, mg->verdict[V_TEMPFAIL],
               mg->verdict[V_CONTINUE], mg->verdict[V_REJECT], mg->verdict[V_ACCEPT],
               mg->verdict[V_OTHER], mg->early, mg->errors, mg->err_connect, mg->err_closed,
               mg->err_timeout, mg->err_proto, cpu_self, cpu_server, cpu_other,
               mg->stalled ? "true" : "false", mg->salt);
        return;
    }
    printf("%s%s%s %s c=%d %.2fs %.0f msgs/s n=%" PRIu64 " p50=%uus p99=%uus max=%uus "
           "session p50=%uus p99=%uus tempfail=%" PRIu64 " continue=%" PRIu64 " reject=%" PRIu64
           " accept=%" PRIu64 " other=%" PRIu64 " errors=%" PRIu64,
           mg->label ? mg->label : "", mg->label ? " " : "", mg->target, mg->eom ? "eom" : "rcpt",
           mg->nsess, secs, rate, mg->msgs, p50, p99, max, s50, s99, mg->verdict[V_TEMPFAIL],
           mg->verdict[V_CONTINUE], mg->verdict[V_REJECT], mg->verdict[V_ACCEPT],
           mg->verdict[V_OTHER], mg->errors);
    if (cpu_server >= 0)
        printf(" cpu: miltergen=%.2f milter=%.2f other=%.2f", cpu_self, cpu_server, cpu_other);
    puts(mg->stalled ? " STALLED" : "");
}

/* ---- main ------------------------------------------------------------ */

static void usage(void)
{
    fprintf(stderr,
            "usage: gg-miltergen -s HOST:PORT [-c SESSIONS] [-d SECONDS | -n MESSAGES] [-e]\n"
            "                    [-T TIMEOUT] [-P PID] [-L LABEL] [-j] [-q]\n"
            "  -s  the milter (numeric: 127.0.0.1:10025, [::1]:10025)\n"
            "  -c  concurrent sessions (8)       -d  measuring window in seconds (10)\n"
            "  -n  measure this many messages     -e  go on to end of message after RCPT\n"
            "  -T  per-step timeout, seconds (5)  -P  report this process's CPU use\n"
            "  -L  label for the result           -j  one JSON object    -q  print nothing\n");
    exit(1);
}

static double num(const char *opt, const char *s, double min, double max)
{
    char *end;
    double v = strtod(s, &end);

    if (end == s || *end != '\0' || v < min || v > max)
        fatal("-%s %s: expected a number in [%g, %g]", opt, s, min, max);
    return v;
}

static void on_signal(int sig)
{
    (void) sig;
    stop_now = 1;
}

static void parse_args(struct mg *mg, int argc, char **argv)
{
    struct gg_hostport hp;
    enum gg_hostport_fault why;
    int opt;

    mg->nsess = 8;
    mg->duration = 10;
    mg->timeout_ns = 5000000000LL;
    while ((opt = getopt(argc, argv, "s:c:d:n:eT:P:L:jqh")) != -1) {
        switch (opt) {
        case 's':
            mg->target = optarg;
            if (gg_hostport_parse(optarg, 0, 0, &hp, &why) != GG_OK || hp.sslen == 0)
                fatal("-s %s: %s", optarg, gg_hostport_fault_str(why, 0));
            mg->addr = hp.ss;
            mg->addrlen = hp.sslen;
            break;
        case 'c': mg->nsess = (int) num("c", optarg, 1, 10000); break;
        case 'd': mg->duration = num("d", optarg, 0.1, 86400); break;
        case 'n': mg->nmsg = (uint64_t) num("n", optarg, 1, 1e12); mg->duration = 0; break;
        case 'e': mg->eom = 1; break;
        case 'T': mg->timeout_ns = (int64_t) (num("T", optarg, 0.01, 3600) * 1e9); break;
        case 'P': mg->server_pid = (long) num("P", optarg, 1, 4194304); break;
        case 'L': mg->label = optarg; break;
        case 'j': mg->json = 1; break;
        case 'q': mg->quiet = 1; break;
        default: usage();
        }
    }
    if (mg->target == NULL || optind != argc)
        usage();
    mg->duration_ns = (int64_t) (mg->duration * 1e9);
}

int main(int argc, char **argv)
{
    struct mg mg;
    struct epoll_event evs[MAX_EVENTS];
    unsigned char r[4];
    int64_t now, next_tick;

    memset(&mg, 0, sizeof(mg));
    parse_args(&mg, argc, argv);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    if (getrandom(r, sizeof(r), 0) != (ssize_t) sizeof(r))
        fatal("getrandom: %s", strerror(errno));
    letters(mg.salt, ((uint64_t) r[0] << 24 | (uint64_t) r[1] << 16 | r[2] << 8 | r[3]) % 308915776,
            6);
    mg.next_msg = mix(((uint64_t) r[0] << 8 | r[1]) ^ (uint64_t) time(NULL)) % (1ULL << 40);
    if ((mg.ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
        fatal("epoll_create1: %s", strerror(errno));
    if ((mg.sess = calloc((size_t) mg.nsess, sizeof(*mg.sess))) == NULL)
        fatal("out of memory");
    for (int i = 0; i < mg.nsess; i++)
        mg.sess[i].fd = -1;
    now = gg_clock_ns();
    mg.t_begin = next_tick = now;
    while (mg.phase != PH_DONE) {
        int n, ms;

        if (now >= next_tick) {
            int was = mg.phase;
            tick(&mg, now);
            if (was == PH_WARMUP && mg.phase == PH_MEASURE)
                cpu_snap(&mg, &mg.cpu0);
            next_tick = now + TICK_NS;
            if (mg.phase == PH_DONE)
                break;
        }
        ms = (int) ((next_tick - now) / 1000000) + 1;
        n = epoll_wait(mg.ep, evs, MAX_EVENTS, ms);
        if (n < 0 && errno != EINTR)
            fatal("epoll_wait: %s", strerror(errno));
        now = gg_clock_ns();
        for (int i = 0; i < n; i++)
            sess_event(&mg, evs[i].data.ptr, evs[i].events, now);
        /* Sessions that just ended start their next message without waiting for a tick. */
        for (int i = 0; i < mg.nsess; i++)
            if (mg.sess[i].step == ST_DOWN && now >= mg.sess[i].retry_at)
                sess_open(&mg, &mg.sess[i], now);
        if (mg.phase == PH_MEASURE && mg.nmsg && mg.msgs >= mg.nmsg)
            next_tick = now;
        if (mg.phase == PH_WARMUP && mg.warmed >= mg.nsess)
            next_tick = now;
    }
    cpu_snap(&mg, &mg.cpu1);
    if (!mg.quiet)
        report(&mg);
    fflush(stdout);
    for (int i = 0; i < mg.nsess; i++)
        if (mg.sess[i].fd >= 0)
            close(mg.sess[i].fd);
    close(mg.ep);
    free(mg.sess);
    free(mg.lat);
    free(mg.slat);
    if (mg.msgs == 0 || (mg.nmsg && mg.msgs < mg.nmsg))
        return 2;
    return 0;
}

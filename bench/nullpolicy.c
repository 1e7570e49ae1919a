/*
 * nullpolicy.c - gg-nullpolicy, a policy server that does no work at all
 *
 * gg-nullpolicy listens on one TCP address (-l 127.0.0.1:PORT or
 * -l [::1]:PORT) and answers every Postfix policy request with
 * "action=DUNNO" and an empty line as soon as the request's empty line
 * arrives.  It parses nothing, stores nothing and keeps no request text:
 * a connection's only state is whether the last byte seen ended a line and
 * how many reply bytes it is still owed.  Its throughput is the ceiling of
 * the protocol on this machine, against which real servers are compared.
 *
 * Design: one thread, one epoll set, non-blocking sockets, level-triggered.
 * Replies come from one preformatted buffer of repeated "action=DUNNO\n\n",
 * so a read that completes several pipelined requests costs one write.
 * A client that sends without reading stops being read once it is owed
 * OWED_MAX bytes.  No input is stored, so no line or request length
 * limit is needed.
 *
 * SIGINT/SIGTERM end the program; it prints the number of requests answered
 * to stderr first.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

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
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/hostport.h"

#define REPLY "action=DUNNO\n\n"
#define REPLY_LEN (sizeof(REPLY) - 1)
#define REPLY_COPIES 256
#define OWED_MAX (1 << 20)
#define MAX_EVENTS 256
#define READ_SIZE 65536

/* One client connection. */
struct client {
    int fd;
    int at_line_start;		/* the last byte read was '\n' */
    uint32_t events;		/* current epoll interest */
    size_t owed;		/* reply bytes not yet written */
    size_t phase;		/* bytes of the current reply already written */
};

static char replies[REPLY_LEN * REPLY_COPIES];
static char inbuf[READ_SIZE];
static uint64_t answered;
static volatile sig_atomic_t stop;

/* Print a message and exit with status 1. */
static void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fatal(const char *fmt, ...)
{
    va_list ap;

    fputs("gg-nullpolicy: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* Open, bind and listen on HOST:PORT or [V6]:PORT (numeric only). */
static int listen_on(const char *arg)
{
    struct gg_hostport hp;
    enum gg_hostport_fault why;
    int fd, one = 1;

    if (gg_hostport_parse(arg, GG_HOSTPORT_PORT0, 0, &hp, &why) != GG_OK)
        fatal("-l %s: %s", arg, gg_hostport_fault_str(why, GG_HOSTPORT_PORT0));
    fd = socket(hp.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        fatal("socket: %s", strerror(errno));
    (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *) &hp.ss, hp.sslen) < 0)
        fatal("bind %s: %s", arg, strerror(errno));
    if (listen(fd, 1024) < 0)
        fatal("listen: %s", strerror(errno));
    return fd;
}

/* Drop a client. */
static void client_close(struct client *cl)
{
    close(cl->fd);
    free(cl);
}

/* Set a client's epoll interest if it differs. */
static void client_want(int ep, struct client *cl, uint32_t events)
{
    struct epoll_event ev;

    if (cl->events == events)
        return;
    ev.events = events;
    ev.data.ptr = cl;
    if (epoll_ctl(ep, EPOLL_CTL_MOD, cl->fd, &ev) < 0)
        fatal("epoll_ctl: %s", strerror(errno));
    cl->events = events;
}

/* Write owed replies; returns -1 when the client is gone. */
static int client_flush(int ep, struct client *cl)
{
    while (cl->owed) {
        size_t len = sizeof(replies) - cl->phase;
        ssize_t n;

        if (len > cl->owed)
            len = cl->owed;
        n = send(cl->fd, replies + cl->phase, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            return -1;
        }
        cl->owed -= (size_t) n;
        cl->phase = (cl->phase + (size_t) n) % REPLY_LEN;
    }
    client_want(ep, cl, (cl->owed ? EPOLLOUT : 0) | (cl->owed < OWED_MAX ? EPOLLIN : 0));
    return 0;
}

/* Read what the client sent and count the requests it completes. */
static int client_read(struct client *cl)
{
    ssize_t n = recv(cl->fd, inbuf, sizeof(inbuf), 0);
    const char *p, *end, *after;
    int nl;

    if (n == 0)
        return -1;
    if (n < 0)
        return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? 0 : -1;
    /*
     * A request ends with an empty line: a '\n' right after a '\n' that
     * ended an attribute line.  nl says the last '\n' seen was such a one
     * and nothing has followed it yet; it carries over between reads.
     */
    nl = cl->at_line_start;
    p = after = inbuf;
    end = inbuf + n;
    while ((p = memchr(p, '\n', (size_t) (end - p))) != NULL) {
        if (nl && p == after) {
            cl->owed += REPLY_LEN;
            answered++;
            nl = 0;
        } else
            nl = 1;
        after = ++p;
    }
    cl->at_line_start = nl && after == end;
    return 0;
}

/* Accept every pending connection. */
static void accept_all(int ep, int lfd)
{
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), one = 1;
        struct epoll_event ev;
        struct client *cl;

        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
                fprintf(stderr, "gg-nullpolicy: accept: %s\n", strerror(errno));
            return;
        }
        if (!(cl = calloc(1, sizeof(*cl)))) {
            close(fd);
            return;
        }
        (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        cl->fd = fd;
        cl->events = EPOLLIN;
        ev.events = EPOLLIN;
        ev.data.ptr = cl;
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
            client_close(cl);
            return;
        }
    }
}

/* Ask the main loop to stop. */
static void on_signal(int sig)
{
    (void) sig;
    stop = 1;
}

int main(int argc, char **argv)
{
    struct epoll_event evs[MAX_EVENTS], ev;
    struct sigaction sa;
    const char *listen_arg = NULL;
    int lfd, ep, opt;
    static int listener_tag;

    while ((opt = getopt(argc, argv, "l:h")) != -1) {
        if (opt == 'l')
            listen_arg = optarg;
        else {
            fputs("usage: gg-nullpolicy -l 127.0.0.1:PORT | -l [::1]:PORT\n", stderr);
            return 1;
        }
    }
    if (!listen_arg || optind != argc) {
        fputs("usage: gg-nullpolicy -l 127.0.0.1:PORT | -l [::1]:PORT\n", stderr);
        return 1;
    }
    for (size_t i = 0; i < REPLY_COPIES; i++)
        memcpy(replies + i * REPLY_LEN, REPLY, REPLY_LEN);

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    lfd = listen_on(listen_arg);
    if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
        fatal("epoll_create1: %s", strerror(errno));
    ev.events = EPOLLIN;
    ev.data.ptr = &listener_tag;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0)
        fatal("epoll_ctl: %s", strerror(errno));

    while (!stop) {
        int n = epoll_wait(ep, evs, MAX_EVENTS, -1);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            fatal("epoll_wait: %s", strerror(errno));
        }
        for (int i = 0; i < n; i++) {
            struct client *cl = evs[i].data.ptr;

            if (evs[i].data.ptr == &listener_tag) {
                accept_all(ep, lfd);
                continue;
            }
            if ((evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) && client_read(cl) < 0) {
                client_close(cl);
                continue;
            }
            if (client_flush(ep, cl) < 0)
                client_close(cl);
        }
    }
    fprintf(stderr, "gg-nullpolicy: answered %" PRIu64 " requests\n", answered);
    return 0;
}

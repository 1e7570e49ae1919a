/*
 * hostport.c - numeric HOST:PORT and [V6]:PORT arguments (see hostport.h)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <netdb.h>
#include <stdio.h>
#include <string.h>

#include "lib/hostport.h"

int hostport_parse(const char *arg, int passive, struct sockaddr_storage *ss, socklen_t *len,
                   char *err, size_t errsize)
{
    char host[64];
    const char *port;
    struct addrinfo hints, *res;
    size_t n;
    int rc;

    if (arg[0] == '[') {
        const char *end = strchr(arg, ']');

        if (!end || end[1] != ':') {
            snprintf(err, errsize, "expected [ADDRESS]:PORT");
            return -1;
        }
        n = (size_t) (end - arg - 1);
        port = end + 2;
        arg++;
    } else {
        const char *colon = strrchr(arg, ':');

        if (!colon) {
            snprintf(err, errsize, "expected HOST:PORT");
            return -1;
        }
        n = (size_t) (colon - arg);
        port = colon + 1;
    }
    if (n == 0 || n >= sizeof(host)) {
        snprintf(err, errsize, "bad address");
        return -1;
    }
    memcpy(host, arg, n);
    host[n] = 0;
    memset(&hints, 0, sizeof(hints));
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
    hints.ai_socktype = SOCK_STREAM;
    if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
        snprintf(err, errsize, "%s (numeric address and port required)", gai_strerror(rc));
        return -1;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

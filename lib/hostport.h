/*
 * hostport.h - numeric HOST:PORT and [V6]:PORT arguments of the bench tools
 *
 * gg-loadgen's -s and gg-nullpolicy's -l take the same syntax; neither
 * ever resolves a name, so a benchmark cannot talk to anything but the
 * address it was given.
 */
#ifndef GG_BENCH_HOSTPORT_H
#define GG_BENCH_HOSTPORT_H

#include <stddef.h>
#include <sys/socket.h>

/*
 * Parse arg into *ss / *len (passive: for bind()).  Returns 0, or -1 with
 * a message in err ("expected [ADDRESS]:PORT", a getaddrinfo() error, ...).
 */
int hostport_parse(const char *arg, int passive, struct sockaddr_storage *ss, socklen_t *len,
                   char *err, size_t errsize);

#endif

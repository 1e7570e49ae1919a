/*
 * check_lists.h - greygate-check --lists-only: one address against every
 * configured DNSBL and DNSWL, one line (or one JSON object) per list
 *
 * A list that fails its RFC 5782 test entries (127.0.0.2 must be listed,
 * 127.0.0.1 must not) is reported dead, as the daemon's probes would mark
 * it, and counts for nothing.
 */
#ifndef CK_LISTS_H
#define CK_LISTS_H

#include "engine/config.h"

/*
 * Ask every list about client and print the answers on stdout.  Returns
 * the exit status: 0 listed on no DNSBL, 1 listed on one, 64 client is
 * not an address, 65 a list setting is wrong, 69 no resolver; the error
 * is on stderr, prefixed with prog.
 */
int ck_lists_run(const struct gg_config *cfg, const char *client, int json, const char *prog);

#endif

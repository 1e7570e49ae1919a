/*
 * wlist.h - static whitelists of clients, senders and recipients
 *
 * A list is built from a configuration value: items separated by commas or
 * white space, where "file:/path" reads more items from a file (one or more
 * per line, '#' starts a comment).  Item syntax:
 *
 *   client lists     192.0.2.7  192.0.2.0/24  2001:db8::/32   addresses, networks
 *                    mx.example.com                            exact host name
 *                    .example.com                              that name and any host under it
 *                    /^mail[0-9]+\.example\.net$/              extended regex on the name
 *   address lists    user@example.com                          exact address
 *                    @example.com  example.com                 that domain
 *                    .example.com  @.example.com               that domain and any subdomain
 *                    user@                                     that local part anywhere
 *                    /regex/                                   on the whole address
 * Matching is case-insensitive.  A client's host name is only compared when
 * the MTA verified it (Postfix's client_name is not "unknown").
 */
#ifndef GG_WLIST_H
#define GG_WLIST_H

#include <stddef.h>
#include "lib/addr.h"
#include "lib/status.h"

enum gg_wlist_kind { GG_WL_CLIENTS, GG_WL_ADDRESSES };

struct gg_wlist;

/*
 * Build a list from a value; where names the setting for error messages
 * ("greygate.conf:12").  On error returns non-OK with a message in err.
 */
enum gg_status gg_wlist_build(enum gg_wlist_kind kind, const char *value, const char *where,
			      struct gg_wlist **out, char *err, size_t errsize);
void gg_wlist_free(struct gg_wlist *wl);
/* Number of items. */
size_t gg_wlist_size(const struct gg_wlist *wl);
/* Client match by address and/or verified name (either may be NULL); returns the item or NULL. */
const char *gg_wlist_match_client(const struct gg_wlist *wl, const struct gg_addr *addr,
				  const char *name);
/* Address match; returns the item or NULL. */
const char *gg_wlist_match_address(const struct gg_wlist *wl, const char *address);

#endif

/*
 * resolver_servers.c - the dns_servers list, checked and turned into the
 *                      CSV form c-ares takes (see resolver.h)
 *
 * Only numeric addresses (never a resolver to find the resolver), at most
 * GG_RESOLVER_MAX_SERVERS of them, each written back canonically
 * ("192.0.2.1:53", "[2001:db8::1]:53") so c-ares parses what we checked.
 * Errors name the setting and the item: "dns_servers: '[::1:53': missing ']'".
 * No allocation, no state.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "dns/resolver.h"
#include "lib/hostport.h"
#include "lib/util.h"

/* server_one - check one "ADDR[:PORT]" item (lib/hostport) and append it to csv */
static enum gg_status server_one(const char *item, char *csv, size_t csvsize, char *err,
				 size_t errsize)
{
	const unsigned flags = GG_HOSTPORT_PORT_OPT | GG_HOSTPORT_BARE_V6;
	char shown[80], canon[GG_HOSTPORT_STRLEN];
	struct gg_hostport hp;
	enum gg_hostport_fault why;

	gg_sanitize(shown, sizeof(shown), item, strlen(item), 60);
	if (gg_hostport_parse(item, flags, 53, &hp, &why) != GG_OK) {
		/* An empty or over-long host is "not an IP address", as this setting always said. */
		snprintf(err, errsize, "dns_servers: '%s': %s", shown,
			 why == GG_HOSTPORT_NO_HOST || why == GG_HOSTPORT_HOST_TOO_LONG ?
			 "not an IP address" : gg_hostport_fault_str(why, flags));
		return GG_EINVAL;
	}
	if (gg_hostport_format(&hp, canon, sizeof(canon)) != GG_OK ||
	    strlen(csv) + strlen(canon) + 2 > csvsize) {
		snprintf(err, errsize, "dns_servers: list too long");
		return GG_ETOOBIG;
	}
	if (csv[0] != '\0')
		strcat(csv, ",");
	strcat(csv, canon);
	return GG_OK;
}

/* gg_resolver_parse_servers - validate a server list into c-ares CSV form */
enum gg_status gg_resolver_parse_servers(const char *servers, char *csv, size_t csvsize,
					 char *err, size_t errsize)
{
	char item[128], shown[80];
	const char *p = servers != NULL ? servers : "";
	int n = 0;
	enum gg_status st;

	if (csvsize == 0)
		return GG_EINVAL;
	csv[0] = '\0';
	for (;;) {
		size_t len;
		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		len = strcspn(p, ", \t");
		if (len >= sizeof(item)) {
			gg_sanitize(shown, sizeof(shown), p, len, 60);
			snprintf(err, errsize, "dns_servers: '%s': not an IP address", shown);
			return GG_EINVAL;
		}
		memcpy(item, p, len);
		item[len] = '\0';
		p += len;
		if (++n > GG_RESOLVER_MAX_SERVERS) {
			snprintf(err, errsize, "dns_servers: more than %d servers",
				 GG_RESOLVER_MAX_SERVERS);
			return GG_ETOOBIG;
		}
		if ((st = server_one(item, csv, csvsize, err, errsize)) != GG_OK)
			return st;
	}
	return GG_OK;
}

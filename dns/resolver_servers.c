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
#include "lib/util.h"

/* server_one - check one "ADDR[:PORT]" item and append it to csv */
static enum gg_status server_one(const char *item, char *csv, size_t csvsize, char *err,
				 size_t errsize)
{
	char host[INET6_ADDRSTRLEN + 2], shown[80], canon[INET6_ADDRSTRLEN + 16];
	const char *port = NULL;
	unsigned char bin[16];
	long portnum = 53;
	int v6 = 0;
	size_t len;

	gg_sanitize(shown, sizeof(shown), item, strlen(item), 60);
	if (item[0] == '[') {
		const char *close = strchr(item, ']');
		if (close == NULL) {
			snprintf(err, errsize, "dns_servers: '%s': missing ']'", shown);
			return GG_EINVAL;
		}
		len = (size_t)(close - item - 1);
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] != '\0') {
			snprintf(err, errsize, "dns_servers: '%s': expected ':PORT' after ']'", shown);
			return GG_EINVAL;
		}
		item++;
	} else {
		const char *colon = strchr(item, ':');
		len = strlen(item);
		/* One colon: IPv4:port.  More: a bare IPv6 address without port. */
		if (colon != NULL && strchr(colon + 1, ':') == NULL) {
			len = (size_t)(colon - item);
			port = colon + 1;
		}
	}
	if (len == 0 || len >= sizeof(host)) {
		snprintf(err, errsize, "dns_servers: '%s': not an IP address", shown);
		return GG_EINVAL;
	}
	memcpy(host, item, len);
	host[len] = '\0';
	if (inet_pton(AF_INET, host, bin) == 1) {
		v6 = 0;
	} else if (inet_pton(AF_INET6, host, bin) == 1) {
		v6 = 1;
	} else {
		snprintf(err, errsize, "dns_servers: '%s': not an IP address (host names are not "
			 "allowed)", shown);
		return GG_EINVAL;
	}
	if (port != NULL && gg_parse_long(port, 1, 65535, &portnum) != GG_OK) {
		snprintf(err, errsize, "dns_servers: '%s': port must be 1-65535", shown);
		return GG_EINVAL;
	}
	inet_ntop(v6 ? AF_INET6 : AF_INET, bin, host, sizeof(host));
	snprintf(canon, sizeof(canon), v6 ? "[%s]:%ld" : "%s:%ld", host, portnum);
	if (strlen(csv) + strlen(canon) + 2 > csvsize) {
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

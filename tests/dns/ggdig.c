/*
 * ggdig.c - ask one question through greygate's resolver and print the answer
 *
 * usage: ggdig SERVERS TYPE NAME [TIMEOUT_MS]
 *   SERVERS  "127.0.0.1:5300" or any dns_servers list (never empty here:
 *            this tool refuses to fall back to /etc/resolv.conf)
 *   TYPE     A, AAAA, TXT, PTR or MX
 *
 * Prints "status=<gg status> ttl=<n>" and one line per record.  Exit 0 on
 * an answer, 1 on NXDOMAIN/NODATA, 2 on timeout or DNS failure, 64 usage.
 * A debugging aid for the test zones; loopback servers only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns/resolver.h"

static int rc = 2;

static void done(const struct gg_dns_result *res, void *arg)
{
	char buf[GG_ADDR_STRLEN];
	size_t i;

	(void)arg;
	printf("status=%s ttl=%u%s%s%s\n", gg_status_str(res->st), res->ttl,
	       res->error ? " error=" : "", res->error ? res->error : "",
	       res->truncated ? " truncated" : "");
	for (i = 0; i < res->naddrs; i++) {
		gg_addr_format(&res->addrs[i].addr, buf, sizeof(buf));
		printf("%s %s %u\n", gg_dns_type_str(res->type), buf, res->addrs[i].ttl);
	}
	for (i = 0; i < res->ntxt; i++)
		printf("TXT \"%s\"\n", res->txt[i]);
	for (i = 0; i < res->nnames; i++)
		printf("PTR %s\n", res->names[i]);
	for (i = 0; i < res->nmx; i++)
		printf("MX %u %s\n", res->mx[i].pref, res->mx[i].host[0] ? res->mx[i].host : ".");
	rc = res->st == GG_OK ? 0 : res->st == GG_NOTFOUND ? 1 : 2;
}

int main(int argc, char **argv)
{
	static const struct { const char *name; int type; } types[] = {
		{ "A", ns_t_a }, { "AAAA", ns_t_aaaa }, { "TXT", ns_t_txt },
		{ "PTR", ns_t_ptr }, { "MX", ns_t_mx },
	};
	struct event_base *base;
	struct gg_resolver *r;
	char err[256];
	int type = -1;
	long timeout = 2000;
	size_t i;

	if (argc < 4 || argc > 5 || argv[1][0] == '\0') {
		fprintf(stderr, "usage: ggdig SERVERS TYPE NAME [TIMEOUT_MS]\n");
		return 64;
	}
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcasecmp(argv[2], types[i].name) == 0)
			type = types[i].type;
	if (type < 0 || (argc == 5 && (timeout = atol(argv[4])) <= 0)) {
		fprintf(stderr, "usage: ggdig SERVERS TYPE NAME [TIMEOUT_MS]\n");
		return 64;
	}
	base = event_base_new();
	if (base == NULL || gg_resolver_new(base, argv[1], timeout, &r, err, sizeof(err)) != GG_OK) {
		fprintf(stderr, "ggdig: %s\n", base ? err : "no event base");
		return 64;
	}
	if (gg_resolver_query(r, argv[3], type, done, NULL) != GG_OK) {
		fprintf(stderr, "ggdig: bad query\n");
		return 64;
	}
	event_base_dispatch(base);
	gg_resolver_free(r);
	event_base_free(base);
	return rc;
}

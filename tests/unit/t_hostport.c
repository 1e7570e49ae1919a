/*
 * t_hostport.c - unit tests for lib/hostport.c: every accepted form under
 * the flags of its callers, the first fault of bad input, the sockaddr
 * and the canonical text
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "unit.h"
#include "lib/hostport.h"
#include "lib/util.h"

#define NAME GG_HOSTPORT_NAME
#define OPT GG_HOSTPORT_PORT_OPT
#define BARE GG_HOSTPORT_BARE_V6
#define P0 GG_HOSTPORT_PORT0
#define B6 GG_HOSTPORT_BRACKET_V6

/* The flags of the callers the parser replaces. */
#define DNS (OPT | BARE)		/* dns_servers: ADDR[:PORT], default 53 */
#define REDIS (NAME | B6)		/* redis:HOST:PORT, redis:[IPV6]:PORT */
#define LISTEN 0			/* policyd listen = inet:ADDR:PORT */
#define GP_LISTEN (BARE | P0)		/* greyprobe --listen ADDR:PORT */
#define GP_SERVER (NAME | OPT | BARE)	/* greyprobe --server HOST[:PORT] */
#define BENCH P0			/* gg-loadgen -s, gg-nullpolicy -l */

struct hp_case {
	const char *label;
	const char *in;
	unsigned flags;
	enum gg_hostport_fault want;
	const char *host;		/* expected on success */
	unsigned port;
	int family;
	const char *canon;		/* gg_hostport_format() */
};

static const struct hp_case cases[] = {
	/* dns_servers */
	{ "dns: IPv4 with port", "127.0.0.1:5353", DNS, GG_HOSTPORT_OK, "127.0.0.1", 5353,
	  AF_INET, "127.0.0.1:5353" },
	{ "dns: IPv4, default port", "192.0.2.1", DNS, GG_HOSTPORT_OK, "192.0.2.1", 53, AF_INET,
	  "192.0.2.1:53" },
	{ "dns: bare IPv6, default port", "2001:db8::1", DNS, GG_HOSTPORT_OK, "2001:db8::1", 53,
	  AF_INET6, "[2001:db8::1]:53" },
	/* inet_ntop() spells ::1:53 as IPv4-compatible, as dns_servers always showed it. */
	{ "dns: bare ::1:53 is an address, not ::1 port 53", "::1:53", DNS, GG_HOSTPORT_OK,
	  "::1:53", 53, AF_INET6, "[::0.1.0.83]:53" },
	{ "dns: bracketed IPv6 with port", "[::1]:5353", DNS, GG_HOSTPORT_OK, "::1", 5353,
	  AF_INET6, "[::1]:5353" },
	{ "dns: bracketed IPv6, default port", "[::1]", DNS, GG_HOSTPORT_OK, "::1", 53, AF_INET6,
	  "[::1]:53" },
	{ "dns: bracketed IPv4", "[127.0.0.1]:53", DNS, GG_HOSTPORT_OK, "127.0.0.1", 53, AF_INET,
	  "127.0.0.1:53" },
	{ "dns: canonical text of a long IPv6 spelling", "[2001:0db8:0:0::0001]:53", DNS,
	  GG_HOSTPORT_OK, "2001:0db8:0:0::0001", 53, AF_INET6, "[2001:db8::1]:53" },
	{ "dns: host name refused", "localhost:53", DNS, GG_HOSTPORT_NOT_ADDRESS, NULL, 0, 0, NULL },
	{ "dns: host name refused without port", "resolver.example", DNS,
	  GG_HOSTPORT_NOT_ADDRESS, NULL, 0, 0, NULL },
	{ "dns: port 0", "127.0.0.1:0", DNS, GG_HOSTPORT_BAD_PORT, NULL, 0, 0, NULL },
	{ "dns: port 99999", "127.0.0.1:99999", DNS, GG_HOSTPORT_BAD_PORT, NULL, 0, 0, NULL },
	{ "dns: port 65536", "127.0.0.1:65536", DNS, GG_HOSTPORT_BAD_PORT, NULL, 0, 0, NULL },
	{ "dns: port 65535", "127.0.0.1:65535", DNS, GG_HOSTPORT_OK, "127.0.0.1", 65535, AF_INET,
	  "127.0.0.1:65535" },
	{ "dns: empty port", "127.0.0.1:", DNS, GG_HOSTPORT_BAD_PORT, NULL, 0, 0, NULL },
	{ "dns: missing ]", "[::1:53", DNS, GG_HOSTPORT_NO_BRACKET, NULL, 0, 0, NULL },
	{ "dns: junk after ]", "[::1]53", DNS, GG_HOSTPORT_AFTER_BRACKET, NULL, 0, 0, NULL },
	{ "dns: empty host", ":53", DNS, GG_HOSTPORT_NO_HOST, NULL, 0, 0, NULL },
	{ "dns: empty brackets", "[]:53", DNS, GG_HOSTPORT_NO_HOST, NULL, 0, 0, NULL },
	{ "dns: the host is checked before the port", "localhost:0", DNS,
	  GG_HOSTPORT_NOT_ADDRESS, NULL, 0, 0, NULL },
	/* Redis */
	{ "redis: IPv4", "127.0.0.1:6379", REDIS, GG_HOSTPORT_OK, "127.0.0.1", 6379, AF_INET,
	  "127.0.0.1:6379" },
	{ "redis: name", "redis.example:6379", REDIS, GG_HOSTPORT_OK, "redis.example", 6379,
	  AF_UNSPEC, "redis.example:6379" },
	{ "redis: localhost", "localhost:6379", REDIS, GG_HOSTPORT_OK, "localhost", 6379,
	  AF_UNSPEC, "localhost:6379" },
	{ "redis: IPv6", "[::1]:6379", REDIS, GG_HOSTPORT_OK, "::1", 6379, AF_INET6,
	  "[::1]:6379" },
	{ "redis: no port", "localhost", REDIS, GG_HOSTPORT_NO_PORT, NULL, 0, 0, NULL },
	{ "redis: empty port", "127.0.0.1:", REDIS, GG_HOSTPORT_BAD_PORT, NULL, 0, 0, NULL },
	{ "redis: port 0", "127.0.0.1:0", REDIS, GG_HOSTPORT_BAD_PORT, NULL, 0, 0, NULL },
	{ "redis: port with junk", "127.0.0.1:63x", REDIS, GG_HOSTPORT_BAD_PORT, NULL, 0, 0, NULL },
	{ "redis: port with a sign", "127.0.0.1:+6379", REDIS, GG_HOSTPORT_BAD_PORT, NULL, 0, 0, NULL },
	{ "redis: empty host", ":6379", REDIS, GG_HOSTPORT_NO_HOST, NULL, 0, 0, NULL },
	{ "redis: unbracketed IPv6", ":::1:6379", REDIS, GG_HOSTPORT_BAD_NAME, NULL, 0, 0, NULL },
	{ "redis: no colon after ]", "[::1]6379", REDIS, GG_HOSTPORT_AFTER_BRACKET, NULL, 0, 0, NULL },
	{ "redis: empty port after ]", "[::1]:", REDIS, GG_HOSTPORT_BAD_PORT, NULL, 0, 0, NULL },
	{ "redis: name in brackets", "[not-v6]:6379", REDIS, GG_HOSTPORT_NOT_V6, NULL, 0, 0, NULL },
	{ "redis: IPv4 in brackets", "[127.0.0.1]:6379", REDIS, GG_HOSTPORT_NOT_V6, NULL, 0, 0, NULL },
	{ "redis: missing ]", "[::1:6379", REDIS, GG_HOSTPORT_NO_BRACKET, NULL, 0, 0, NULL },
	{ "redis: space in the name", "ho st:6379", REDIS, GG_HOSTPORT_BAD_NAME, NULL, 0, 0, NULL },
	/* policyd listen = inet:... */
	{ "listen: IPv4", "127.0.0.1:10025", LISTEN, GG_HOSTPORT_OK, "127.0.0.1", 10025, AF_INET,
	  "127.0.0.1:10025" },
	{ "listen: IPv6", "[::1]:10025", LISTEN, GG_HOSTPORT_OK, "::1", 10025, AF_INET6,
	  "[::1]:10025" },
	{ "listen: unbracketed IPv6 splits at the last colon", "::1:10025", LISTEN,
	  GG_HOSTPORT_OK, "::1", 10025, AF_INET6, "[::1]:10025" },
	{ "listen: no port", "127.0.0.1", LISTEN, GG_HOSTPORT_NO_PORT, NULL, 0, 0, NULL },
	{ "listen: brackets without port", "[::1]", LISTEN, GG_HOSTPORT_NO_PORT, NULL, 0, 0, NULL },
	{ "listen: name refused", "localhost:10025", LISTEN, GG_HOSTPORT_NOT_ADDRESS,
	  NULL, 0, 0, NULL },
	/* greyprobe */
	{ "greyprobe listen: port 0 allowed", "127.0.0.1:0", GP_LISTEN, GG_HOSTPORT_OK,
	  "127.0.0.1", 0, AF_INET, "127.0.0.1:0" },
	{ "greyprobe listen: bare IPv6 needs brackets for a port", "::1:2525", GP_LISTEN,
	  GG_HOSTPORT_NO_PORT, NULL, 0, 0, NULL },
	{ "greyprobe server: name, no port", "mx.example", GP_SERVER, GG_HOSTPORT_OK,
	  "mx.example", 25, AF_UNSPEC, "mx.example:25" },
	{ "greyprobe server: name with trailing dot", "mx.example.:2525", GP_SERVER,
	  GG_HOSTPORT_OK, "mx.example.", 2525, AF_UNSPEC, "mx.example.:2525" },
	{ "greyprobe server: bracketed IPv6, no port", "[::1]", GP_SERVER, GG_HOSTPORT_OK, "::1",
	  25, AF_INET6, "[::1]:25" },
	{ "greyprobe server: bad name", "mx..example", GP_SERVER, GG_HOSTPORT_BAD_NAME,
	  NULL, 0, 0, NULL },
	/* bench */
	{ "bench: IPv4", "127.0.0.1:10030", BENCH, GG_HOSTPORT_OK, "127.0.0.1", 10030, AF_INET,
	  "127.0.0.1:10030" },
	{ "bench: port 0", "[::1]:0", BENCH, GG_HOSTPORT_OK, "::1", 0, AF_INET6, "[::1]:0" },
	{ "bench: no port", "127.0.0.1", BENCH, GG_HOSTPORT_NO_PORT, NULL, 0, 0, NULL },
	/* Limits */
	{ "an address over 47 bytes", "1111111111222222222233333333334444444444555555555:1", 0,
	  GG_HOSTPORT_HOST_TOO_LONG, NULL, 0, 0, NULL },
	{ "leading zeros in the port", "127.0.0.1:0053", DNS, GG_HOSTPORT_OK, "127.0.0.1", 53,
	  AF_INET, "127.0.0.1:53" },
	{ "a port of many digits", "127.0.0.1:000000000000000000053", DNS, GG_HOSTPORT_OK,
	  "127.0.0.1", 53, AF_INET, "127.0.0.1:53" },
	{ "a huge port", "127.0.0.1:99999999999999999999999", DNS, GG_HOSTPORT_BAD_PORT,
	  NULL, 0, 0, NULL },
	{ "empty", "", DNS, GG_HOSTPORT_NO_HOST, NULL, 0, 0, NULL },
};

static void test_parse(void **state)
{
	const struct hp_case *c = *state;
	struct gg_hostport hp;
	enum gg_hostport_fault why = (enum gg_hostport_fault)-1;
	enum gg_status st = gg_hostport_parse(c->in, c->flags, c->flags & OPT ? (c->flags & NAME
		? 25 : 53) : 0, &hp, &why);
	char buf[GG_HOSTPORT_STRLEN];

	assert_string_equal(gg_hostport_fault_str(why, c->flags),
			    gg_hostport_fault_str(c->want, c->flags));
	if (c->want != GG_HOSTPORT_OK) {
		assert_int_equal(st, c->want == GG_HOSTPORT_HOST_TOO_LONG ? GG_ETOOBIG : GG_EINVAL);
		return;
	}
	assert_int_equal(st, GG_OK);
	assert_string_equal(hp.host, c->host);
	assert_int_equal(hp.port, c->port);
	assert_int_equal(hp.family, c->family);
	assert_int_equal(gg_hostport_format(&hp, buf, sizeof(buf)), GG_OK);
	assert_string_equal(buf, c->canon);
	/* The sockaddr is ready for bind() or connect(). */
	if (c->family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&hp.ss;
		assert_int_equal(hp.sslen, sizeof(*sin));
		assert_int_equal(sin->sin_family, AF_INET);
		assert_int_equal(ntohs(sin->sin_port), c->port);
	} else if (c->family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&hp.ss;
		assert_int_equal(hp.sslen, sizeof(*sin6));
		assert_int_equal(sin6->sin6_family, AF_INET6);
		assert_int_equal(ntohs(sin6->sin6_port), c->port);
	} else {
		assert_int_equal(hp.sslen, 0);
	}
}

/* Reasons: the dns_servers wording, kept by the tests of that setting. */

struct msg_case {
	const char *label;
	enum gg_hostport_fault why;
	unsigned flags;
	const char *want;
};

static const struct msg_case msg_cases[] = {
	{ "missing ]", GG_HOSTPORT_NO_BRACKET, DNS, "missing ']'" },
	{ "after ]", GG_HOSTPORT_AFTER_BRACKET, DNS, "expected ':PORT' after ']'" },
	{ "not an address", GG_HOSTPORT_NOT_ADDRESS, DNS,
	  "not an IP address (host names are not allowed)" },
	{ "port range", GG_HOSTPORT_BAD_PORT, DNS, "port must be 1-65535" },
	{ "port range with PORT0", GG_HOSTPORT_BAD_PORT, P0, "port must be 0-65535" },
};

static void test_msg(void **state)
{
	const struct msg_case *c = *state;

	assert_string_equal(gg_hostport_fault_str(c->why, c->flags), c->want);
}

static void test_format_small(void **state)
{
	struct gg_hostport hp;
	char buf[8];

	(void)state;
	assert_int_equal(gg_hostport_parse("[2001:db8::1]:53", 0, 0, &hp, NULL), GG_OK);
	assert_int_equal(gg_hostport_format(&hp, buf, sizeof(buf)), GG_ETOOBIG);
}

int main(void)
{
	struct tu_suite s = { 0 };
	size_t i;

	for (i = 0; i < GG_ARRAY_LEN(cases); i++)
		tu_add(&s, test_parse, &cases[i], "parse: %s", cases[i].label);
	for (i = 0; i < GG_ARRAY_LEN(msg_cases); i++)
		tu_add(&s, test_msg, &msg_cases[i], "reason: %s", msg_cases[i].label);
	tu_add(&s, test_format_small, NULL, "format: too small a buffer is GG_ETOOBIG");
	return tu_run(&s, "t_hostport");
}

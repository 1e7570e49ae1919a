/*
 * t_dnsbl.c - tests of dnsbl/: resolver, list syntax, query names, cache,
 *             DNS checks and list hygiene, against real DNS servers
 *
 * Run by tests/dns/run.sh, which starts on loopback:
 *   NSD serving tests/dns/zones         port in GG_DNS_NSD_PORT (required)
 *   unbound with slow.test timing out   port in GG_DNS_UNBOUND_PORT (optional)
 * and passes a port where nothing listens in GG_DNS_CLOSED_PORT.  Silent
 * servers (bound, never answering) are sockets this program opens itself.
 *
 * Output: one "PASS: t_dnsbl <label>" or "FAIL: t_dnsbl <label> (why)"
 * line per check, "SKIP: ..." for checks whose server is missing, and a
 * last line "N passed, N failed".  Exit 1 if anything failed.
 * Nothing here talks to anything but 127.0.0.1 and ::1.
 */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dns/cache.h"
#include "dnsbl/dnscheck.h"
#include "dnsbl/dnscheck_probe.h"
#include "dnsbl/lists.h"
#include "dns/qname.h"
#include "dns/resolver.h"

static int npass, nfail;
static struct event_base *base;
static char nsd[64], unbound[64], closed[64];

/* ------------------------------------------------------------ reporting */

static void check(int ok, const char *label, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* check - one PASS/FAIL line; fmt explains a failure */
static void check(int ok, const char *label, const char *fmt, ...)
{
	char why[1024] = "";
	va_list ap;

	if (ok) {
		npass++;
		printf("PASS: t_dnsbl %s\n", label);
		return;
	}
	nfail++;
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(why, sizeof(why), fmt, ap);
		va_end(ap);
	}
	printf("FAIL: t_dnsbl %s (%s)\n", label, why);
}

static void check_str(const char *label, const char *want, const char *got)
{
	check(strcmp(want, got) == 0, label, "expected '%s', got '%s'", want, got);
}

static void skip(const char *label, const char *why)
{
	printf("SKIP: t_dnsbl %s (%s)\n", label, why);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* tick - keeps the loop blocking briefly even when nothing else is pending */
static void tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

/* run_until - turn the loop until *flag is set or max_ms pass */
static void run_until(const int *flag, long max_ms)
{
	long t0 = now_ms();

	while (!*flag && now_ms() - t0 < max_ms)
		event_base_loop(base, EVLOOP_ONCE);
}

/* run_for - turn the loop for ms */
static void run_for(long ms)
{
	int never = 0;

	run_until(&never, ms);
}

/* silent_socket - a UDP socket on 127.0.0.1 that never answers; its port */
static int silent_socket(int *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) < 0)
		return -1;
	*port = ntohs(sin.sin_port);
	return fd;
}

/* ------------------------------------------------------------ list syntax */

static void test_lists(void)
{
	static const struct { enum gg_list_kind kind; const char *value; const char *err; } bad[] = {
		{ GG_LIST_DNSBL, "zen.example=127.0.0.[2..x]*3",
		  "greygate.conf:12: dnsbl_sites: 'zen.example=127.0.0.[2..x]*3': bad filter" },
		{ GG_LIST_DNSBL, "ok.example, zen.example=127.0.0*3",
		  "greygate.conf:12: dnsbl_sites: 'zen.example=127.0.0*3': bad filter" },
		{ GG_LIST_DNSBL, "zen.example=127.0.0.256",
		  "greygate.conf:12: dnsbl_sites: 'zen.example=127.0.0.256': bad filter" },
		{ GG_LIST_DNSBL, "zen.example=127.0.0.[5..2]",
		  "greygate.conf:12: dnsbl_sites: 'zen.example=127.0.0.[5..2]': bad filter" },
		{ GG_LIST_DNSBL, "zen.example=127.0.0.[2;]",
		  "greygate.conf:12: dnsbl_sites: 'zen.example=127.0.0.[2;]': bad filter" },
		{ GG_LIST_DNSBL, "zen.example=127.0.0.2.",
		  "greygate.conf:12: dnsbl_sites: 'zen.example=127.0.0.2.': bad filter" },
		{ GG_LIST_DNSBL, "zen.example*x",
		  "greygate.conf:12: dnsbl_sites: 'zen.example*x': bad weight (a decimal number "
		  "from -1000 to 1000)" },
		{ GG_LIST_DNSBL, "zen.example*1e3",
		  "greygate.conf:12: dnsbl_sites: 'zen.example*1e3': bad weight (a decimal number "
		  "from -1000 to 1000)" },
		{ GG_LIST_DNSBL, "zen.example*nan",
		  "greygate.conf:12: dnsbl_sites: 'zen.example*nan': bad weight (a decimal number "
		  "from -1000 to 1000)" },
		{ GG_LIST_DNSBL, "zen.example*1001",
		  "greygate.conf:12: dnsbl_sites: 'zen.example*1001': bad weight (a decimal number "
		  "from -1000 to 1000)" },
		{ GG_LIST_DNSBL, "zen..example",
		  "greygate.conf:12: dnsbl_sites: 'zen..example': bad zone name" },
		{ GG_LIST_DNSBL, "=127.0.0.2",
		  "greygate.conf:12: dnsbl_sites: '=127.0.0.2': missing zone name" },
		{ GG_LIST_DNSBL, "zen.ex\001ample",
		  "greygate.conf:12: dnsbl_sites: 'zen.ex?ample': bad zone name" },
		{ GG_LIST_DNSWL, "wl.example*5",
		  "greygate.conf:12: dnswl_sites: 'wl.example*5': a DNSWL weight must not be positive" },
		{ GG_LIST_RHSBL, "dbl.example=127.0.1.[2..99]*x",
		  "greygate.conf:12: rhsbl_sites: 'dbl.example=127.0.1.[2..99]*x': bad weight (a "
		  "decimal number from -1000 to 1000)" },
	};
	struct gg_lists *ls;
	char err[512], label[160], longzone[300], many[2048];
	size_t i;
	enum gg_status st;
	struct gg_addr a;

	st = gg_lists_parse(GG_LIST_DNSBL, "zen.example=127.0.0.[2..11]*3,  Bl.Example.*2 \t"
			    "c.example=127.0.0.[2;4..6;8]*-0.5, d.example", "greygate.conf:3", &ls,
			    err, sizeof(err));
	check(st == GG_OK && ls != NULL && ls->n == 4, "lists: parse four DNSBL entries",
	      "status %s: %s", gg_status_str(st), err);
	if (st == GG_OK) {
		check_str("lists: zone as written", "zen.example", ls->v[0].zone);
		check_str("lists: zone lower-cased, trailing dot dropped", "bl.example", ls->v[1].zone);
		check(ls->v[0].weight == 3 && ls->v[1].weight == 2 && ls->v[2].weight == -0.5 &&
		      ls->v[3].weight == 1, "lists: weights 3, 2, -0.5, default 1", "got %g %g %g %g",
		      ls->v[0].weight, ls->v[1].weight, ls->v[2].weight, ls->v[3].weight);
		check(ls->v[0].has_filter && !ls->v[1].has_filter && !ls->v[3].has_filter,
		      "lists: filter present only where given", NULL);
		check_str("lists: spec kept for messages", "zen.example=127.0.0.[2..11]*3", ls->v[0].spec);
		gg_lists_free(ls);
	}
	st = gg_lists_parse(GG_LIST_DNSWL, "wl.example=127.0.[0..255].[1..3]*-5 wl2.example", NULL,
			    &ls, err, sizeof(err));
	check(st == GG_OK && ls->n == 2 && ls->v[0].weight == -5 && ls->v[1].weight == -1,
	      "lists: DNSWL weight -5 and default -1", "%s", err);
	if (st == GG_OK)
		gg_lists_free(ls);
	st = gg_lists_parse(GG_LIST_RHSBL, " , ", "x", &ls, err, sizeof(err));
	check(st == GG_OK && ls->n == 0, "lists: empty value is an empty set", "%s", err);
	if (st == GG_OK)
		gg_lists_free(ls);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ls = NULL;
		st = gg_lists_parse(bad[i].kind, bad[i].value, "greygate.conf:12", &ls, err, sizeof(err));
		snprintf(label, sizeof(label), "lists: rejects '%s'", bad[i].value);
		for (char *p = label; *p; p++)
			if (*p < 0x20)
				*p = '?';
		check(st == GG_EINVAL && ls == NULL && strcmp(err, bad[i].err) == 0, label,
		      "status %s, error '%s'", gg_status_str(st), err);
	}
	memset(longzone, 'a', 60);
	longzone[60] = '.';
	memset(longzone + 61, 'b', 60);
	longzone[121] = '.';
	memset(longzone + 122, 'c', 60);
	longzone[182] = '.';
	memcpy(longzone + 183, "example", 8);	/* 190 bytes */
	st = gg_lists_parse(GG_LIST_DNSBL, longzone, "f:1", &ls, err, sizeof(err));
	check(st == GG_EINVAL && strstr(err, "zone name too long") != NULL,
	      "lists: zone longer than 189 bytes rejected", "%s", err);
	longzone[189] = '\0';	/* 189 bytes: fits */
	st = gg_lists_parse(GG_LIST_DNSBL, longzone, "f:1", &ls, err, sizeof(err));
	check(st == GG_OK, "lists: zone of 189 bytes accepted", "%s", err);
	if (st == GG_OK)
		gg_lists_free(ls);
	many[0] = '\0';
	for (i = 0; i < GG_LISTS_MAX + 1; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "l%zu.example ", i);
	st = gg_lists_parse(GG_LIST_DNSBL, many, "f:1", &ls, err, sizeof(err));
	check(st == GG_EINVAL && strstr(err, "too many lists (at most 32)") != NULL,
	      "lists: more than 32 entries rejected", "%s", err);

	/* Filters. */
	{
		struct gg_list_filter f;
		static const struct { const char *filter, *addr; int match; } fm[] = {
			{ "127.0.0.[2..11]", "127.0.0.2", 1 },
			{ "127.0.0.[2..11]", "127.0.0.11", 1 },
			{ "127.0.0.[2..11]", "127.0.0.12", 0 },
			{ "127.0.0.[2..11]", "127.0.0.1", 0 },
			{ "127.0.0.[2;4;8]", "127.0.0.4", 1 },
			{ "127.0.0.[2;4;8]", "127.0.0.3", 0 },
			{ "127.0.0.[2;4..6;8]", "127.0.0.5", 1 },
			{ "127.0.0.2", "127.0.0.2", 1 },
			{ "127.0.0.2", "127.0.1.2", 0 },
			{ "127.0.[0..255].[1..3]", "127.0.10.3", 1 },
			{ "127.0.[0..255].[1..3]", "127.0.10.0", 0 },
			{ "[0..255].[0..255].[0..255].[0..255]", "10.1.2.3", 1 },
		};
		for (i = 0; i < sizeof(fm) / sizeof(fm[0]); i++) {
			snprintf(label, sizeof(label), "filter: %s %s %s", fm[i].filter,
				 fm[i].match ? "matches" : "does not match", fm[i].addr);
			gg_addr_parse(fm[i].addr, &a);
			check(gg_lists_parse_filter(fm[i].filter, &f) == GG_OK &&
			      gg_lists_filter_match(&f, &a) == fm[i].match, label, NULL);
		}
	}
	/* Answers that never count. */
	st = gg_lists_parse(GG_LIST_DNSBL, "bl.example=[0..255].[0..255].[0..255].[0..255], "
			    "bl.example=127.0.0.[2..3]", "f:1", &ls, err, sizeof(err));
	if (st == GG_OK) {
		gg_addr_parse("127.255.255.254", &a);
		check(gg_lists_classify(&ls->v[0], &a) == GG_ANSWER_BOGUS,
		      "classify: 127.255.255.254 is a list error even if the filter allows it", NULL);
		gg_addr_parse("192.0.2.1", &a);
		check(gg_lists_classify(&ls->v[0], &a) == GG_ANSWER_BOGUS,
		      "classify: an answer outside 127.0.0.0/8 is a list error", NULL);
		gg_addr_parse("127.0.0.4", &a);
		check(gg_lists_classify(&ls->v[1], &a) == GG_ANSWER_MISS,
		      "classify: a valid answer the filter rejects is a miss", NULL);
		gg_addr_parse("127.0.0.3", &a);
		check(gg_lists_classify(&ls->v[1], &a) == GG_ANSWER_HIT,
		      "classify: a valid answer the filter accepts is a hit", NULL);
		gg_lists_free(ls);
	}
}

/* ------------------------------------------------------------ query names */

static void test_qname(void)
{
	struct gg_addr a;
	char buf[300], zone[200];
	enum gg_status st;

	gg_addr_parse("192.0.2.66", &a);
	gg_qname_addr(&a, "bl.test", buf, sizeof(buf));
	check_str("qname: IPv4 reversed octets", "66.2.0.192.bl.test", buf);
	gg_qname_addr(&a, NULL, buf, sizeof(buf));
	check_str("qname: IPv4 PTR name", "66.2.0.192.in-addr.arpa", buf);
	gg_addr_parse("2001:db8::66", &a);
	gg_qname_addr(&a, "bl.test", buf, sizeof(buf));
	check_str("qname: IPv6 reversed nibbles",
		  "6.6.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.test", buf);
	gg_addr_parse("2001:DB8:ABCD:12::FE", &a);
	gg_qname_addr(&a, NULL, buf, sizeof(buf));
	check_str("qname: IPv6 PTR name, lower-case nibbles",
		  "e.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.1.0.0.d.c.b.a.8.b.d.0.1.0.0.2.ip6.arpa", buf);
	gg_addr_parse("::ffff:192.0.2.66", &a);
	gg_qname_addr(&a, "bl.test", buf, sizeof(buf));
	check_str("qname: IPv4-mapped IPv6 client queried as IPv4", "66.2.0.192.bl.test", buf);
	memset(zone, 'z', 189);
	zone[189] = '\0';
	gg_addr_parse("2001:db8::66", &a);
	st = gg_qname_addr(&a, zone, buf, sizeof(buf));
	check(st == GG_OK && strlen(buf) == 253, "qname: 189-byte zone fits an IPv6 name (253 bytes)",
	      "status %s", gg_status_str(st));
	zone[189] = 'z';
	zone[190] = '\0';
	st = gg_qname_addr(&a, zone, buf, sizeof(buf));
	check(st == GG_ETOOBIG, "qname: longer name refused", "status %s", gg_status_str(st));
	st = gg_qname_domain("Spammer.Example.", "rhs.test", buf, sizeof(buf));
	check(st == GG_OK && strcmp(buf, "spammer.example.rhs.test") == 0,
	      "qname: RHSBL name normalised", "got '%s'", buf);
	st = gg_qname_domain("bad domain", "rhs.test", buf, sizeof(buf));
	check(st == GG_EINVAL, "qname: RHSBL refuses a non-host-name", NULL);
	check(gg_qname_valid_host("mail.example.test", 1) && !gg_qname_valid_host("localhost", 1) &&
	      !gg_qname_valid_host("a..b", 0) && !gg_qname_valid_host("mail.123", 1) &&
	      gg_qname_valid_host("localhost", 0), "qname: FQDN syntax", NULL);
}

/* ------------------------------------------------------------ server lists */

static void test_servers(void)
{
	static const struct { const char *in, *csv, *err; } cases[] = {
		{ "127.0.0.1:5353, [::1]:53", "127.0.0.1:5353,[::1]:53", NULL },
		{ "::1", "[::1]:53", NULL },
		{ " 127.0.0.1 ", "127.0.0.1:53", NULL },
		{ "[127.0.0.1]:54", "127.0.0.1:54", NULL },
		{ "", "", NULL },
		{ "localhost:53", NULL,
		  "dns_servers: 'localhost:53': not an IP address (host names are not allowed)" },
		{ "127.0.0.1:0", NULL, "dns_servers: '127.0.0.1:0': port must be 1-65535" },
		{ "127.0.0.1:99999", NULL, "dns_servers: '127.0.0.1:99999': port must be 1-65535" },
		{ "[::1:53", NULL, "dns_servers: '[::1:53': missing ']'" },
		{ "[::1]53", NULL, "dns_servers: '[::1]53': expected ':PORT' after ']'" },
		{ "1.1.1.1,2.2.2.2,3.3.3.3,4.4.4.4,5.5.5.5,6.6.6.6,7.7.7.7,8.8.8.8,9.9.9.9", NULL,
		  "dns_servers: more than 8 servers" },
	};
	char csv[512], err[256], label[160];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum gg_status st;
		err[0] = '\0';
		st = gg_resolver_parse_servers(cases[i].in, csv, sizeof(csv), err, sizeof(err));
		snprintf(label, sizeof(label), "servers: '%.60s'", cases[i].in);
		if (cases[i].csv != NULL)
			check(st == GG_OK && strcmp(csv, cases[i].csv) == 0, label,
			      "status %s csv '%s' err '%s'", gg_status_str(st), csv, err);
		else
			check(st != GG_OK && strcmp(err, cases[i].err) == 0, label,
			      "status %s err '%s'", gg_status_str(st), err);
	}
}

/* ------------------------------------------------------------ resolver */

struct answer {
	int done;
	int calls;
	long at_ms;
	enum gg_status st;
	int cancelled;
	unsigned ttl;
	int truncated;
	size_t txtlen;		/* length of the first TXT record */
	char text[2048];	/* records, one per line */
};

static void answer_cb(const struct gg_dns_result *res, void *arg)
{
	struct answer *a = arg;
	char buf[GG_ADDR_STRLEN];
	size_t i;

	a->calls++;
	a->done = 1;
	a->at_ms = now_ms();
	a->st = res->st;
	a->cancelled = res->cancelled;
	a->ttl = res->ttl;
	a->truncated = res->truncated;
	a->txtlen = res->ntxt > 0 ? strlen(res->txt[0]) : 0;
	a->text[0] = '\0';
	for (i = 0; i < res->naddrs; i++) {
		gg_addr_format(&res->addrs[i].addr, buf, sizeof(buf));
		snprintf(a->text + strlen(a->text), sizeof(a->text) - strlen(a->text), "%s%s",
			 a->text[0] ? " " : "", buf);
	}
	for (i = 0; i < res->ntxt; i++)
		snprintf(a->text + strlen(a->text), sizeof(a->text) - strlen(a->text), "%s%s",
			 a->text[0] ? "|" : "", res->txt[i]);
	for (i = 0; i < res->nnames; i++)
		snprintf(a->text + strlen(a->text), sizeof(a->text) - strlen(a->text), "%s%s",
			 a->text[0] ? " " : "", res->names[i]);
	for (i = 0; i < res->nmx; i++)
		snprintf(a->text + strlen(a->text), sizeof(a->text) - strlen(a->text), "%s%u %s",
			 a->text[0] ? " " : "", res->mx[i].pref,
			 res->mx[i].host[0] ? res->mx[i].host : ".");
}

/* ask - one query, wait for the answer */
static void ask(struct gg_resolver *r, const char *name, int type, struct answer *a)
{
	memset(a, 0, sizeof(*a));
	if (gg_resolver_query(r, name, type, answer_cb, a) != GG_OK) {
		a->st = GG_EINVAL;
		return;
	}
	run_until(&a->done, 10000);
}

static void test_resolver(void)
{
	struct gg_resolver *r, *r2;
	struct gg_resolver_stats stats;
	struct answer a, b, c;
	char err[256], servers[300], label[200];
	long t0;
	int port, fd;
	enum gg_status st;

	st = gg_resolver_new(base, nsd, 2000, &r, err, sizeof(err));
	check(st == GG_OK, "resolver: created for NSD", "%s", err);
	if (st != GG_OK)
		return;

	ask(r, "66.2.0.192.bl.test", ns_t_a, &a);
	check(a.st == GG_OK && strcmp(a.text, "127.0.0.2") == 0 && a.ttl == 300,
	      "resolver: A record with TTL", "st %s text '%s' ttl %u", gg_status_str(a.st), a.text, a.ttl);
	ask(r, "68.2.0.192.BL.TEST.", ns_t_a, &a);
	check(a.st == GG_OK && strstr(a.text, "127.0.0.3") && strstr(a.text, "127.0.0.11"),
	      "resolver: two A records, name with upper case and trailing dot", "text '%s'", a.text);
	ask(r, "mail6.example.test", ns_t_aaaa, &a);
	check(a.st == GG_OK && strcmp(a.text, "2001:db8::10") == 0, "resolver: AAAA record",
	      "st %s text '%s'", gg_status_str(a.st), a.text);
	ask(r, "66.2.0.192.bl.test", ns_t_txt, &a);
	check(a.st == GG_OK && strcmp(a.text, "Listed: see http://bl.test/192.0.2.66") == 0,
	      "resolver: TXT record", "text '%s'", a.text);
	ask(r, "spf-multi.example.test", ns_t_txt, &a);
	check(strcmp(a.text, "v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.20 -all") == 0,
	      "resolver: TXT strings of one record joined", "text '%s'", a.text);
	ask(r, "spf-permerror.example.test", ns_t_txt, &a);
	check(strchr(a.text, '|') != NULL, "resolver: two TXT records kept apart", "text '%s'", a.text);
	ask(r, "14.2.0.192.in-addr.arpa", ns_t_ptr, &a);
	check(a.st == GG_OK && strstr(a.text, "a.example.test") && strstr(a.text, "b.example.test"),
	      "resolver: PTR with two names (every h_aliases entry)", "text '%s'", a.text);
	ask(r, "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", ns_t_ptr, &a);
	check(a.st == GG_OK && strcmp(a.text, "mail6.example.test") == 0, "resolver: IPv6 PTR",
	      "text '%s'", a.text);
	ask(r, "example.test", ns_t_mx, &a);
	check(a.st == GG_OK && strstr(a.text, "10 mx1.example.test") &&
	      strstr(a.text, "20 mx2.example.test"), "resolver: MX set with preferences",
	      "text '%s'", a.text);
	ask(r, "nullmx.example.test", ns_t_mx, &a);
	check(a.st == GG_OK && strcmp(a.text, "0 .") == 0, "resolver: null MX",
	      "st %s text '%s'", gg_status_str(a.st), a.text);
	ask(r, "nomx.example.test", ns_t_mx, &a);
	check(a.st == GG_NOTFOUND, "resolver: no MX (NODATA) is not found", "st %s", gg_status_str(a.st));
	ask(r, "1.0.0.127.bl.test", ns_t_a, &a);
	check(a.st == GG_NOTFOUND && a.ttl == 60, "resolver: NXDOMAIN, negative TTL from the SOA",
	      "st %s ttl %u", gg_status_str(a.st), a.ttl);
	/* Limits: records per answer, TXT length (the answer comes over TCP). */
	{
		struct answer big;
		ask(r, "many.example.test", ns_t_a, &big);
		check(big.st == GG_OK && strlen(big.text) > 0, "resolver: 70 A records answered", NULL);
		{
			size_t n = 1;
			for (const char *p = big.text; *p; p++)
				n += *p == ' ';
			check(n == GG_DNS_MAX_RECORDS && big.truncated, "resolver: at most 64 records kept, "
			      "truncation flagged", "%zu kept, truncated %d", n, big.truncated);
		}
		ask(r, "bigtxt.example.test", ns_t_txt, &big);
		check(big.st == GG_OK && big.txtlen == GG_DNS_TXT_MAX && big.truncated,
		      "resolver: 4200-byte TXT (over TCP) cut to 4096 bytes, truncation flagged",
		      "st %s len %zu truncated %d", gg_status_str(big.st), big.txtlen, big.truncated);
	}
	/* The zone data later testers rely on (SPF and MX cases) is served as written. */
	{
		static const struct { const char *name; int type; const char *text; } z[] = {
			{ "spf-pass.example.test", ns_t_txt, "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all" },
			{ "spf-fail.example.test", ns_t_txt, "v=spf1 ip4:192.0.2.0/24 -all" },
			{ "spf-softfail.example.test", ns_t_txt, "v=spf1 ip4:192.0.2.0/24 ~all" },
			{ "spf-neutral.example.test", ns_t_txt, "v=spf1 ?all" },
			{ "spf-none.example.test", ns_t_txt, "not an SPF record" },
			{ "spf-include.example.test", ns_t_txt, "v=spf1 include:spf-pass.example.test -all" },
			{ "spf-redirect.example.test", ns_t_txt, "v=spf1 redirect=spf-pass.example.test" },
			{ "spf-syntax.example.test", ns_t_txt, "v=spf1 ip4:192.0.2.0/33 bogus:mechanism -all" },
			{ "nomx.example.test", ns_t_a, "192.0.2.30" },
			{ "mx1.example.test", ns_t_a, "192.0.2.25" },
			{ "25.2.0.192.in-addr.arpa", ns_t_ptr, "mx1.example.test" },
		};
		size_t i;
		for (i = 0; i < sizeof(z) / sizeof(z[0]); i++) {
			snprintf(label, sizeof(label), "zones: %s %s", gg_dns_type_str(z[i].type), z[i].name);
			ask(r, z[i].name, z[i].type, &a);
			check(a.st == GG_OK && strcmp(a.text, z[i].text) == 0, label, "st %s text '%s'",
			      gg_status_str(a.st), a.text);
		}
	}
	ask(r, "www.not-served.example", ns_t_a, &a);
	check(a.st == GG_EDNS, "resolver: REFUSED is a DNS failure", "st %s", gg_status_str(a.st));

	/* Never synchronous, not even when c-ares rejects the name at once. */
	memset(&a, 0, sizeof(a));
	st = gg_resolver_query(r, "66.2.0.192.bl.test", ns_t_a, answer_cb, &a);
	check(st == GG_OK && a.calls == 0, "resolver: no callback from inside the query call", NULL);
	run_until(&a.done, 5000);
	memset(&b, 0, sizeof(b));
	gg_resolver_stats(r, &stats);
	{
		char longlabel[100];
		unsigned long deferred = stats.deferred;
		memset(longlabel, 'x', 70);
		strcpy(longlabel + 70, ".example.test");
		st = gg_resolver_query(r, longlabel, ns_t_a, answer_cb, &b);
		check(st == GG_OK && b.calls == 0,
		      "resolver: c-ares's synchronous failure (label > 63) is not delivered inside the call",
		      "st %s calls %d", gg_status_str(st), b.calls);
		run_until(&b.done, 5000);
		gg_resolver_stats(r, &stats);
		check(b.calls == 1 && b.st == GG_EDNS && stats.deferred == deferred + 1,
		      "resolver: ... but on the next loop turn, as a DNS failure",
		      "calls %d st %s deferred %lu", b.calls, gg_status_str(b.st), stats.deferred);
	}
	check(gg_resolver_query(r, "", ns_t_a, answer_cb, &b) == GG_EINVAL &&
	      gg_resolver_query(r, "x.test", ns_t_soa, answer_cb, &b) == GG_EINVAL,
	      "resolver: empty name and unsupported type refused", NULL);

	/* Cancel: withdrawn callbacks never run; cancel_all runs them at once. */
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	gg_resolver_query(r, "66.2.0.192.bl.test", ns_t_a, answer_cb, &a);
	gg_resolver_query(r, "67.2.0.192.bl.test", ns_t_a, answer_cb, &b);
	check(gg_resolver_cancel(r, answer_cb, &a) == 1, "resolver: cancel finds its query", NULL);
	run_until(&b.done, 5000);
	run_for(50);
	check(a.calls == 0 && b.calls == 1, "resolver: a cancelled query never calls back",
	      "calls %d %d", a.calls, b.calls);
	memset(&a, 0, sizeof(a));
	gg_resolver_query(r, "66.2.0.192.bl.test", ns_t_a, answer_cb, &a);
	gg_resolver_cancel_all(r);
	check(a.calls == 1 && a.cancelled == 1, "resolver: cancel_all ends queries with cancelled=1",
	      "calls %d cancelled %d", a.calls, a.cancelled);
	run_for(50);
	check(a.calls == 1, "resolver: ... exactly once", "calls %d", a.calls);
	gg_resolver_stats(r, &stats);
	check(stats.in_flight == 0, "resolver: nothing left in flight", "%lu", stats.in_flight);
	gg_resolver_free(r);

	/* Timeouts against a server that never answers. */
	fd = silent_socket(&port);
	snprintf(servers, sizeof(servers), "127.0.0.1:%d", port);
	st = gg_resolver_new(base, servers, 300, &r, err, sizeof(err));
	if (fd >= 0 && st == GG_OK) {
		t0 = now_ms();
		ask(r, "66.2.0.192.bl.test", ns_t_a, &a);
		snprintf(label, sizeof(label), "resolver: silent server times out at 300 ms (took %ld ms)",
			 a.at_ms - t0);
		check(a.st == GG_ETIMEOUT && a.at_ms - t0 >= 290 && a.at_ms - t0 < 600, label,
		      "st %s", gg_status_str(a.st));
		/* Freeing with queries outstanding: cancelled callbacks, no leaks. */
		memset(&c, 0, sizeof(c));
		gg_resolver_query(r, "x.bl.test", ns_t_a, answer_cb, &c);
		gg_resolver_free(r);
		check(c.calls == 1 && c.cancelled, "resolver: free cancels outstanding queries", NULL);
	} else {
		check(0, "resolver: silent server set-up", "%s", err);
	}
	if (fd >= 0)
		close(fd);

	/* A closed port fails fast (connection refused), not as a timeout. */
	st = gg_resolver_new(base, closed, 2000, &r2, err, sizeof(err));
	if (st == GG_OK) {
		t0 = now_ms();
		ask(r2, "66.2.0.192.bl.test", ns_t_a, &a);
		check(a.st == GG_EDNS && a.at_ms - t0 < 1000, "resolver: closed port is a fast DNS failure",
		      "st %s after %ld ms", gg_status_str(a.st), a.at_ms - t0);
		gg_resolver_free(r2);
	}

	/* IPv6 server syntax reaches NSD on ::1; a dead first server is skipped. */
	{
		const char *nsd_port = strrchr(nsd, ':') + 1;
		int fd6 = socket(AF_INET6, SOCK_DGRAM, 0);
		struct sockaddr_in6 sin6;

		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		sin6.sin6_addr = in6addr_loopback;
		if (fd6 >= 0 && bind(fd6, (struct sockaddr *)&sin6, sizeof(sin6)) == 0) {
			snprintf(servers, sizeof(servers), "[::1]:%s", nsd_port);
			if (gg_resolver_new(base, servers, 2000, &r2, err, sizeof(err)) == GG_OK) {
				ask(r2, "66.2.0.192.bl.test", ns_t_a, &a);
				check(a.st == GG_OK && strcmp(a.text, "127.0.0.2") == 0,
				      "resolver: server [::1]:PORT", "st %s", gg_status_str(a.st));
				gg_resolver_free(r2);
			}
		} else {
			skip("resolver: server [::1]:PORT", "no IPv6 loopback here");
		}
		if (fd6 >= 0)
			close(fd6);
		snprintf(servers, sizeof(servers), "%s, %s", closed, nsd);
		if (gg_resolver_new(base, servers, 2000, &r2, err, sizeof(err)) == GG_OK) {
			ask(r2, "66.2.0.192.bl.test", ns_t_a, &a);
			check(a.st == GG_OK, "resolver: second server answers when the first is down",
			      "st %s", gg_status_str(a.st));
			gg_resolver_free(r2);
		}
	}

	st = gg_resolver_new(base, "127.0.0.1:53, resolver.example", 2000, &r2, err, sizeof(err));
	check(st == GG_EINVAL && strcmp(err, "dns_servers: 'resolver.example': not an IP address "
					"(host names are not allowed)") == 0,
	      "resolver: bad server list refused with a clear error", "%s", err);
	st = gg_resolver_new(base, nsd, 0, &r2, err, sizeof(err));
	check(st == GG_EINVAL && strstr(err, "dns_timeout") != NULL, "resolver: timeout 0 refused",
	      "%s", err);
}

/* ------------------------------------------------------------ checks */

struct outcome {
	int done;
	int calls;
	struct gg_dnscheck_result res;		/* res.reasons points to reasons[] */
	struct gg_dnscheck_reason reasons[GG_DNSCHECK_MAX_REASONS];
};

/* outcome_cb - keep a copy: the result is valid only during the callback */
static void outcome_cb(const struct gg_dnscheck_result *res, void *arg)
{
	struct outcome *o = arg;

	o->calls++;
	o->done = 1;
	o->res = *res;
	if (res->nreasons > 0)
		memcpy(o->reasons, res->reasons, res->nreasons * sizeof(*res->reasons));
	o->res.reasons = o->reasons;
}

static const struct gg_dnscheck_reason *reason(const struct outcome *o, const char *name)
{
	size_t i;

	for (i = 0; i < o->res.nreasons; i++)
		if (strcmp(o->res.reasons[i].name, name) == 0)
			return &o->res.reasons[i];
	return NULL;
}

/* reasons_str - "a(1),b(0)" for messages */
static const char *reasons_str(const struct outcome *o)
{
	static char buf[4096];
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < o->res.nreasons; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s(%g)", i ? "," : "",
			 o->res.reasons[i].name, o->res.reasons[i].weight);
	return buf;
}

struct client {
	const char *addr, *client_name, *reverse_name, *helo, *sender;
	unsigned checks;
};

/* run_check - one check, to completion; also verifies "never synchronous" */
static void run_check(struct gg_dnscheck *dc, const struct client *c, struct outcome *o)
{
	struct gg_dnscheck_input in;
	enum gg_status st;

	memset(o, 0, sizeof(*o));
	memset(&in, 0, sizeof(in));
	gg_addr_parse(c->addr, &in.client);
	in.client_name = c->client_name;
	in.reverse_client_name = c->reverse_name;
	in.helo = c->helo;
	in.sender_domain = c->sender;
	in.checks = c->checks;
	st = gg_dnscheck_start(dc, &in, outcome_cb, o, NULL);
	if (st != GG_OK || o->calls != 0) {
		check(0, "check: start", "status %s, calls %d", gg_status_str(st), o->calls);
		return;
	}
	run_until(&o->done, 15000);
	run_for(5);
	if (o->calls != 1)
		check(0, "check: exactly one callback", "client %s: %d callbacks", c->addr, o->calls);
}

/* expect - a check's reasons, exactly, as "name(weight)" in order */
static void expect(struct gg_dnscheck *dc, const char *label, const struct client *c,
		   const char *want, struct outcome *o)
{
	char full[300];

	run_check(dc, c, o);
	snprintf(full, sizeof(full), "check: %s", label);
	check(strcmp(reasons_str(o), want) == 0, full, "expected '%s', got '%s'", want, reasons_str(o));
}

static void want_txt(const char *label, const struct outcome *o, const char *name, const char *txt)
{
	const struct gg_dnscheck_reason *r = reason(o, name);
	char full[300];

	snprintf(full, sizeof(full), "check: %s", label);
	check(r != NULL && strstr(r->txt, txt) != NULL, full, "reason %s txt '%s'", name,
	      r ? r->txt : "(no such reason)");
}

static struct gg_lists *lists(enum gg_list_kind kind, const char *value)
{
	struct gg_lists *ls = NULL;
	char err[256];

	if (gg_lists_parse(kind, value, "test", &ls, err, sizeof(err)) != GG_OK) {
		fprintf(stderr, "t_dnsbl: %s\n", err);
		exit(1);
	}
	return ls;
}

/*
 * test_params - the parameters every test here starts from, all explicit:
 * the checker has no defaults of its own (the daemon's come from the
 * configuration table).  These weights are the ones the expected scores
 * below were written for.
 */
static void test_params(struct gg_dnscheck_params *p)
{
	gg_dnscheck_params_init(p);
	p->timeout_ms = 3000;
	p->cache_size = 10000;
	p->cache_min_ttl = 60;
	p->cache_max_ttl = 3600;
	p->rhsbl_sender = 1;
	p->rhsbl_helo = 1;
	p->rhsbl_client = 1;
	p->rdns_missing_weight = 1.0;
	p->rdns_unconfirmed_weight = 0.5;
	p->rdns_dynamic_weight = 1.0;
	p->rdns_generic_address = 1;
	p->helo_ip_mismatch_weight = 1.0;
	p->helo_ours_weight = 2.0;
	p->helo_not_fqdn_weight = 0.5;
	p->helo_unresolvable_weight = 0.5;
	p->helo_own_names = "";
}

static unsigned long queries(struct gg_resolver *r)
{
	struct gg_resolver_stats s;

	gg_resolver_stats(r, &s);
	return s.queries;
}

static void test_checks(void)
{
	struct gg_resolver *r;
	struct gg_dnscheck *dc;
	struct gg_dnscheck_params p;
	struct gg_lists *bl, *wl, *rhs;
	struct outcome o, o2, o3;
	char err[256];
	enum gg_status st;
	unsigned long q0;

	if (gg_resolver_new(base, nsd, 2000, &r, err, sizeof(err)) != GG_OK) {
		check(0, "check: resolver", "%s", err);
		return;
	}
	bl = lists(GG_LIST_DNSBL, "bl.test=127.0.0.[2..10]*3, bl.test=127.0.0.11*0.5");
	wl = lists(GG_LIST_DNSWL, "wl.test=127.0.[0..255].[0..255]*-5");
	rhs = lists(GG_LIST_RHSBL, "rhs.test*2");
	test_params(&p);
	p.timeout_ms = 2000;
	p.dnsbl = bl;
	p.dnswl = wl;
	p.rhsbl = rhs;
	p.helo_own_names = "mx1.example.test, [192.0.2.200]";
	st = gg_dnscheck_new(base, r, &p, &dc, err, sizeof(err));
	check(st == GG_OK, "check: checker created", "%s", err);
	if (st != GG_OK)
		return;

	/* DNS lists. */
	expect(dc, "IPv4 listed on the DNSBL, no PTR",
	       &(struct client){ .addr = "192.0.2.66", .helo = "mail.example.test" },
	       "dnsbl:bl.test(3),rdns:missing(1)", &o);
	want_txt("DNSBL TXT reason fetched", &o, "dnsbl:bl.test", "Listed: see http://bl.test/192.0.2.66");
	check(o.res.total == 4 && o.res.errors == 0 && !o.res.timed_out, "check: total 4, no errors",
	      "total %g errors %u", o.res.total, o.res.errors);
	expect(dc, "IPv6 listed on the DNSBL (nibbles)", &(struct client){ .addr = "2001:db8::66" },
	       "dnsbl:bl.test(3),rdns:missing(1)", &o);
	want_txt("IPv6 TXT reason", &o, "dnsbl:bl.test", "Listed: see http://bl.test/2001:db8::66");
	expect(dc, "two strings of a TXT reason joined", &(struct client){ .addr = "192.0.2.67" },
	       "dnsbl:bl.test(3),rdns:missing(1)", &o);
	want_txt("joined TXT", &o, "dnsbl:bl.test", "Listed (code 4): see http://bl.test/192.0.2.67");
	expect(dc, "two entries of one zone both match (3 + 0.5)", &(struct client){ .addr = "192.0.2.68" },
	       "dnsbl:bl.test(3.5),rdns:missing(1)", &o);
	expect(dc, "127.255.255.254 answer ignored, reported as list error",
	       &(struct client){ .addr = "192.0.2.77" }, "dnsbl:bl.test(list-error)(0),rdns:missing(1)", &o);
	want_txt("list error explained", &o, "dnsbl:bl.test(list-error)", "127.255.255.254 is an error code");
	expect(dc, "answer outside 127.0.0.0/8 ignored, reported as list error",
	       &(struct client){ .addr = "192.0.2.78" }, "dnsbl:bl.test(list-error)(0),rdns:missing(1)", &o);
	expect(dc, "unlisted IPv4", &(struct client){ .addr = "198.51.100.20" }, "", &o);
	check(o.res.rdns == GG_RDNS_CONFIRMED && strcmp(o.res.client_name, "mx2.example.test") == 0,
	      "check: confirmed client name reported", "rdns %d name '%s'", o.res.rdns, o.res.client_name);
	expect(dc, "DNSWL negative weight, confirmed rDNS", &(struct client){ .addr = "192.0.2.10" },
	       "dnswl:wl.test(-5)", &o);
	check(o.res.total == -5, "check: total -5", "total %g", o.res.total);
	expect(dc, "DNSWL on IPv6", &(struct client){ .addr = "2001:db8::10" }, "dnswl:wl.test(-5)", &o);

	/* RHSBL. */
	expect(dc, "RHSBL on the sender domain",
	       &(struct client){ .addr = "192.0.2.10", .sender = "Spammer.Example" },
	       "dnswl:wl.test(-5),rhsbl:rhs.test(sender)(2)", &o);
	want_txt("RHSBL TXT reason", &o, "rhsbl:rhs.test(sender)", "spammer.example is listed");
	expect(dc, "RHSBL on the HELO name",
	       &(struct client){ .addr = "192.0.2.10", .helo = "badhelo.example.test" },
	       "dnswl:wl.test(-5),rhsbl:rhs.test(helo)(2)", &o);
	expect(dc, "RHSBL on the verified client name", &(struct client){ .addr = "192.0.2.50" },
	       "rhsbl:rhs.test(client)(2)", &o);

	/* Reverse DNS. */
	expect(dc, "rDNS unconfirmed (PTR name's A is elsewhere)", &(struct client){ .addr = "192.0.2.11" },
	       "rdns:unconfirmed(0.5)", &o);
	want_txt("unconfirmed explained", &o, "rdns:unconfirmed",
		 "PTR unconfirmed.example.test resolves to 198.51.100.11, not to 192.0.2.11");
	expect(dc, "rDNS missing", &(struct client){ .addr = "192.0.2.12" }, "rdns:missing(1)", &o);
	check(o.res.rdns == GG_RDNS_MISSING, "check: state missing", NULL);
	expect(dc, "rDNS dangling PTR", &(struct client){ .addr = "192.0.2.13" }, "rdns:unconfirmed(0.5)", &o);
	want_txt("dangling explained", &o, "rdns:unconfirmed", "dangling.example.test does not exist");
	expect(dc, "rDNS PTR to a name without address", &(struct client){ .addr = "192.0.2.16" },
	       "rdns:unconfirmed(0.5)", &o);
	expect(dc, "rDNS two PTRs, the second confirms", &(struct client){ .addr = "192.0.2.14" }, "", &o);
	check(strcmp(o.res.client_name, "b.example.test") == 0, "check: confirmed by b.example.test",
	      "name '%s'", o.res.client_name);
	expect(dc, "rDNS dynamic-looking (address digits)", &(struct client){ .addr = "192.0.2.45" },
	       "rdns:dynamic(1)", &o);
	want_txt("dynamic explained", &o, "rdns:dynamic", "contains the client address");
	expect(dc, "rDNS dynamic-looking (generic pattern)", &(struct client){ .addr = "192.0.2.47" },
	       "rdns:dynamic(1)", &o);
	expect(dc, "rDNS IPv6 unconfirmed", &(struct client){ .addr = "2001:db8::11" }, "rdns:unconfirmed(0.5)", &o);
	expect(dc, "rDNS IPv6 dynamic", &(struct client){ .addr = "2001:db8::45" }, "rdns:dynamic(1)", &o);

	expect(dc, "rDNS: only the first 4 PTR names are checked", &(struct client){ .addr = "192.0.2.17" },
	       "rdns:unconfirmed(0.5)", &o);

	/* "unknown" may mean a failed or disabled lookup: we ask ourselves. */
	q0 = queries(r);
	expect(dc, "Postfix reverse_client_name=unknown: our own PTR lookup says missing",
	       &(struct client){ .addr = "192.0.2.99", "unknown", "unknown", .checks = GG_DNSCHECK_RDNS },
	       "rdns:missing(1)", &o);
	check(queries(r) > q0, "check: reverse_client_name=unknown makes us ask DNS", "%lu queries",
	      queries(r) - q0);
	expect(dc, "Postfix reverse_client_name=unknown for a confirmed client: confirmed",
	       &(struct client){ .addr = "192.0.2.10", "unknown", "unknown", .checks = GG_DNSCHECK_RDNS },
	       "", &o);

	/* Postfix's real names replace our own lookups. */
	q0 = queries(r);
	expect(dc, "Postfix PTR name but client_name=unknown: unconfirmed, no query",
	       &(struct client){ .addr = "192.0.2.99", "unknown", "host.example.test", .checks = GG_DNSCHECK_RDNS },
	       "rdns:unconfirmed(0.5)", &o);
	expect(dc, "Postfix client_name given: confirmed, no query",
	       &(struct client){ .addr = "192.0.2.99", "Mail.Example.Test", "mail.example.test",
				 .checks = GG_DNSCHECK_RDNS }, "", &o);
	check(queries(r) == q0 && strcmp(o.res.client_name, "mail.example.test") == 0,
	      "check: no DNS query when Postfix gave the names", "%lu queries, name '%s'",
	      queries(r) - q0, o.res.client_name);
	q0 = queries(r);
	expect(dc, "Postfix PTR name only: forward-confirmed by us",
	       &(struct client){ .addr = "192.0.2.25", NULL, "mx1.example.test", .checks = GG_DNSCHECK_RDNS },
	       "", &o);
	check(o.res.rdns == GG_RDNS_CONFIRMED && queries(r) - q0 == 1,
	      "check: one forward query, confirmed", "rdns %d, %lu queries", o.res.rdns, queries(r) - q0);

	/* HELO. */
	{
		static const struct { const char *client, *helo, *want; } h[] = {
			{ "192.0.2.10", "mail.example.test", "" },
			{ "192.0.2.10", "[192.0.2.10]", "" },
			{ "192.0.2.10", "[192.0.2.99]", "helo:ip-mismatch(1)" },
			{ "192.0.2.10", "192.0.2.99", "helo:ip-mismatch(1)" },
			{ "192.0.2.10", "[192.0.2.200]", "helo:ip-mismatch(1),helo:ours(2)" },
			{ "192.0.2.10", "MX1.example.test.", "helo:ours(2)" },
			{ "192.0.2.10", "localhost", "helo:not-fqdn(0.5)" },
			{ "192.0.2.10", "foo..bar", "helo:not-fqdn(0.5)" },
			{ "192.0.2.10", "[192.0.2.300]", "helo:not-fqdn(0.5)" },
			{ "192.0.2.10", "nonexistent.example.test", "helo:unresolvable(0.5)" },
			{ "192.0.2.10", "helo6.example.test", "" },
			{ "2001:db8::10", "[IPv6:2001:db8::10]", "" },
			{ "2001:db8::10", "[IPv6:2001:db8::11]", "helo:ip-mismatch(1)" },
		};
		size_t i;
		char label[200];
		for (i = 0; i < sizeof(h) / sizeof(h[0]); i++) {
			snprintf(label, sizeof(label), "HELO %s from %s", h[i].helo, h[i].client);
			expect(dc, label, &(struct client){ .addr = h[i].client, .helo = h[i].helo,
							     .checks = GG_DNSCHECK_HELO }, h[i].want, &o);
		}
	}

	/* Order is fixed, however answers arrive. */
	expect(dc, "all kinds in one check, fixed order",
	       &(struct client){ .addr = "192.0.2.66", .helo = "localhost", .sender = "spammer.example" },
	       "dnsbl:bl.test(3),rhsbl:rhs.test(sender)(2),rdns:missing(1),helo:not-fqdn(0.5)", &o);

	/* Sharing and caching, on a fresh checker (empty cache). */
	{
		struct gg_dnscheck *dc2;
		struct gg_dnscheck_input in;
		struct gg_dnscache_stats cs;
		unsigned long single, both;

		gg_dnscheck_new(base, r, &p, &dc2, err, sizeof(err));
		q0 = queries(r);
		run_check(dc2, &(struct client){ .addr = "192.0.2.66", .checks = GG_DNSCHECK_LISTS }, &o);
		single = queries(r) - q0;
		gg_dnscheck_free(dc2);
		gg_dnscheck_new(base, r, &p, &dc2, err, sizeof(err));
		memset(&in, 0, sizeof(in));
		gg_addr_parse("192.0.2.66", &in.client);
		in.checks = GG_DNSCHECK_LISTS;
		memset(&o, 0, sizeof(o));
		memset(&o2, 0, sizeof(o2));
		q0 = queries(r);
		gg_dnscheck_start(dc2, &in, outcome_cb, &o, NULL);
		gg_dnscheck_start(dc2, &in, outcome_cb, &o2, NULL);
		run_until(&o.done, 10000);
		run_until(&o2.done, 10000);
		both = queries(r) - q0;
		gg_dnscache_stats(gg_dnscheck_cache(dc2), &cs);
		check(single == 4 && both == single && cs.joined >= 4,
		      "check: two concurrent checks of one IP share their queries",
		      "one check %lu queries, two checks %lu, joined %lu", single, both, cs.joined);
		check(strcmp(reasons_str(&o), reasons_str(&o2)) == 0 &&
		      strcmp(reasons_str(&o), "dnsbl:bl.test(3)") == 0 && o.calls == 1 && o2.calls == 1,
		      "check: ... and get the same result, once each", "'%s' / '%s'", reasons_str(&o),
		      reasons_str(&o2));
		q0 = queries(r);
		memset(&o3, 0, sizeof(o3));
		gg_dnscheck_start(dc2, &in, outcome_cb, &o3, NULL);
		check(o3.calls == 0, "check: a fully cached check still does not call back synchronously",
		      NULL);
		run_until(&o3.done, 10000);
		gg_dnscache_stats(gg_dnscheck_cache(dc2), &cs);
		check(queries(r) == q0 && cs.hits >= 2 && strcmp(reasons_str(&o3), "dnsbl:bl.test(3)") == 0,
		      "check: cache hit sends no query", "%lu queries, %lu hits, '%s'", queries(r) - q0,
		      cs.hits, reasons_str(&o3));
		want_txt("cached TXT reason", &o3, "dnsbl:bl.test", "Listed: see http://bl.test/192.0.2.66");
		/* Cancel: never calls back. */
		memset(&o3, 0, sizeof(o3));
		{
			struct gg_dnscheck_req *req;
			in.checks = 0;
			gg_addr_parse("192.0.2.14", &in.client);
			gg_dnscheck_start(dc2, &in, outcome_cb, &o3, &req);
			gg_dnscheck_cancel(req);
			run_for(300);
			check(o3.calls == 0, "check: a cancelled check never calls back", NULL);
			/* Freeing the checker with a check outstanding: never calls back either. */
			gg_dnscheck_start(dc2, &in, outcome_cb, &o3, NULL);
		}
		gg_dnscheck_free(dc2);
		run_for(300);
		check(o3.calls == 0, "check: freeing the checker drops outstanding checks silently", NULL);
	}

	/* TTL clamp and cache size. */
	{
		struct gg_dnscheck_params p2 = p;
		struct gg_dnscheck *dc2;
		struct gg_dnscache_stats cs;
		struct client c79 = { "192.0.2.79", .checks = GG_DNSCHECK_LISTS };

		p2.cache_min_ttl = 0;
		p2.cache_max_ttl = 1;
		gg_dnscheck_new(base, r, &p2, &dc2, err, sizeof(err));
		run_check(dc2, &c79, &o);
		q0 = queries(r);
		run_check(dc2, &c79, &o);
		check(queries(r) == q0, "check: within the TTL: cached", "%lu queries", queries(r) - q0);
		run_for(1100);
		run_check(dc2, &c79, &o);
		gg_dnscache_stats(gg_dnscheck_cache(dc2), &cs);
		check(queries(r) > q0 && cs.expired > 0, "check: after the TTL (clamped to 1 s): asked again",
		      "%lu queries, %lu expired", queries(r) - q0, cs.expired);
		gg_dnscheck_free(dc2);

		p2 = p;
		p2.cache_size = 2;
		gg_dnscheck_new(base, r, &p2, &dc2, err, sizeof(err));
		run_check(dc2, &(struct client){ .addr = "192.0.2.14" }, &o);
		gg_dnscache_stats(gg_dnscheck_cache(dc2), &cs);
		check(cs.entries <= 2 && cs.evicted > 0, "check: cache bounded by dns_cache_size",
		      "%zu entries, %lu evicted", cs.entries, cs.evicted);
		gg_dnscheck_free(dc2);
	}

	/* Bad parameters. */
	{
		struct gg_dnscheck_params p2 = p;
		struct gg_dnscheck *dc2;
		p2.rdns_generic_patterns = "/([/";
		st = gg_dnscheck_new(base, r, &p2, &dc2, err, sizeof(err));
		check(st == GG_EINVAL && strncmp(err, "rdns_dynamic_patterns: '/([/': bad regular "
						 "expression", 50) == 0,
		      "check: bad pattern refused with a clear error", "%s", err);
		p2.rdns_generic_patterns = "dyn";
		st = gg_dnscheck_new(base, r, &p2, &dc2, err, sizeof(err));
		check(st == GG_EINVAL && strcmp(err, "rdns_dynamic_patterns: 'dyn': expected /regex/") == 0,
		      "check: pattern without slashes refused", "%s", err);
		p2.rdns_generic_patterns = NULL;
		p2.helo_own_names = "mx.example.test, bad!name";
		st = gg_dnscheck_new(base, r, &p2, &dc2, err, sizeof(err));
		check(st == GG_EINVAL && strcmp(err, "helo_own_names: 'bad!name': not a host name or "
						 "address") == 0, "check: bad own name refused", "%s", err);
	}

	/* More reasons than GG_DNSCHECK_MAX_REASONS: dropped, flagged, still counted. */
	{
		char spec[2048];
		struct gg_lists *many_bl, *many_wl;
		struct gg_dnscheck_params p2 = p;
		struct gg_dnscheck *dc2;
		int i;

		spec[0] = '\0';
		for (i = 0; i < GG_LISTS_MAX; i++)
			snprintf(spec + strlen(spec), sizeof(spec) - strlen(spec), "b%d.dead.test ", i);
		many_bl = lists(GG_LIST_DNSBL, spec);
		spec[0] = '\0';
		for (i = 0; i < GG_LISTS_MAX; i++)
			snprintf(spec + strlen(spec), sizeof(spec) - strlen(spec), "w%d.dead.test ", i);
		many_wl = lists(GG_LIST_DNSWL, spec);
		p2.dnsbl = many_bl;
		p2.dnswl = many_wl;
		p2.rhsbl = NULL;
		gg_dnscheck_new(base, r, &p2, &dc2, err, sizeof(err));
		run_check(dc2, &(struct client){ .addr = "192.0.2.12" }, &o);
		check(o.res.nreasons == GG_DNSCHECK_MAX_REASONS && o.res.reasons_truncated &&
		      o.res.total == 1, "check: 65 reasons: 64 kept, truncation flagged, total counts all",
		      "%zu reasons, truncated %d, total %g", o.res.nreasons, o.res.reasons_truncated,
		      o.res.total);
		gg_dnscheck_free(dc2);
		gg_lists_free(many_bl);
		gg_lists_free(many_wl);
	}
	{
		char spec[2048];
		struct gg_dnscheck_params p2 = p;
		struct gg_dnscheck *dc2;
		int i;

		spec[0] = '\0';
		for (i = 0; i <= GG_DNSCHECK_MAX_PATTERNS; i++)
			snprintf(spec + strlen(spec), sizeof(spec) - strlen(spec), "/x%d/ ", i);
		p2.rdns_generic_patterns = spec;
		st = gg_dnscheck_new(base, r, &p2, &dc2, err, sizeof(err));
		check(st == GG_ETOOBIG && strstr(err, "too many patterns (at most 32)") != NULL,
		      "check: more than 32 patterns refused", "%s", err);
		spec[0] = '\0';
		for (i = 0; i <= GG_DNSCHECK_MAX_OWN_NAMES; i++)
			snprintf(spec + strlen(spec), sizeof(spec) - strlen(spec), "mx%d.example.test, ", i);
		p2.rdns_generic_patterns = NULL;
		p2.helo_own_names = spec;
		st = gg_dnscheck_new(base, r, &p2, &dc2, err, sizeof(err));
		check(st == GG_ETOOBIG && strstr(err, "too many names (at most 32)") != NULL,
		      "check: more than 32 own names refused", "%s", err);
	}

	/* Generic names. */
	{
		static const struct { const char *addr, *name; int dyn; } d[] = {
			{ "192.0.2.45", "192-0-2-45.dyn.isp.example", 1 },
			{ "192.0.2.45", "45.2.0.192.rev.isp.example", 1 },
			{ "192.0.2.45", "host192000002045.isp.example", 1 },
			{ "192.0.2.45", "c000022d.cust.example", 1 },
			{ "192.0.2.45", "mail.example.test", 0 },
			{ "192.0.2.45", "mx45.example.test", 0 },
			{ "192.0.2.45", "2-45.example.test", 0 },
			{ "192.0.2.47", "pool-47.dsl.isp.example", 1 },
			{ "192.0.2.47", "dhcp.example.test", 1 },
			{ "192.0.2.47", "dynamo.example.test", 0 },
			{ "2001:db8::45", "2001-db8--45.dyn.isp.example", 1 },
			{ "2001:db8::45", "mail6.example.test", 0 },
		};
		size_t i;
		char why[300], label[200];
		struct gg_addr a;
		for (i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
			gg_addr_parse(d[i].addr, &a);
			snprintf(label, sizeof(label), "dynamic: %s for %s: %s", d[i].name, d[i].addr,
				 d[i].dyn ? "yes" : "no");
			check(gg_dnscheck_is_dynamic(dc, &a, d[i].name, why, sizeof(why)) == d[i].dyn,
			      label, NULL);
		}
	}

	gg_dnscheck_free(dc);
	gg_resolver_free(r);
	gg_lists_free(bl);
	gg_lists_free(wl);
	gg_lists_free(rhs);
}

/* ------------------------------------------------------------ hygiene */

struct probe_out {
	int done, calls;
	struct gg_dnscheck_probe_report rep;
};

static void probe_cb(const struct gg_dnscheck_probe_report *rep, void *arg)
{
	struct probe_out *po = arg;

	po->calls++;
	po->done = 1;
	po->rep = *rep;
}

static void test_probe(void)
{
	struct gg_resolver *r;
	struct gg_dnscheck *dc;
	struct gg_dnscheck_params p;
	struct gg_lists *bl, *wl, *rhs;
	struct gg_dnscheck_stats ds;
	struct probe_out po;
	struct outcome o;
	char err[256];

	if (gg_resolver_new(base, nsd, 2000, &r, err, sizeof(err)) != GG_OK)
		return;
	bl = lists(GG_LIST_DNSBL, "dead.test*2, bl.test*3, dead.test=127.0.0.3*1");
	wl = lists(GG_LIST_DNSWL, "wl.test*-5");
	rhs = lists(GG_LIST_RHSBL, "rhs.test*2");
	test_params(&p);
	p.timeout_ms = 2000;
	p.dnsbl = bl;
	p.dnswl = wl;
	p.rhsbl = rhs;
	gg_dnscheck_new(base, r, &p, &dc, err, sizeof(err));

	expect(dc, "before the probe, the dead list (which lists everything) counts",
	       &(struct client){ .addr = "192.0.2.12", .checks = GG_DNSCHECK_LISTS }, "dnsbl:dead.test(2)", &o);
	memset(&po, 0, sizeof(po));
	check(gg_dnscheck_probe_lists(dc, probe_cb, &po) == GG_OK && po.calls == 0,
	      "probe: started, no synchronous callback", NULL);
	check(gg_dnscheck_probe_lists(dc, probe_cb, &po) == GG_EINVAL,
	      "probe: one at a time", NULL);
	run_until(&po.done, 10000);
	check(po.calls == 1 && po.rep.probed == 4 && po.rep.dead == 1 && po.rep.alive == 3 &&
	      po.rep.changed == 4, "probe: 4 zones, dead.test dead, bl/wl/rhs alive",
	      "calls %d probed %u dead %u alive %u inconclusive %u changed %u", po.calls,
	      po.rep.probed, po.rep.dead, po.rep.alive, po.rep.inconclusive, po.rep.changed);
	check(bl->v[0].state == GG_LIST_DEAD && bl->v[2].state == GG_LIST_DEAD &&
	      bl->v[0].state_changed && bl->v[1].state == GG_LIST_ALIVE &&
	      wl->v[0].state == GG_LIST_ALIVE && rhs->v[0].state == GG_LIST_ALIVE &&
	      bl->v[0].probed_at > 0, "probe: states recorded on every entry of the zone", NULL);
	check_str("probe: why dead.test is dead",
		  "test entry 127.0.0.1 is listed (the list answers everything)", bl->v[0].probe_error);
	expect(dc, "after the probe, the dead list is skipped",
	       &(struct client){ .addr = "192.0.2.13", .checks = GG_DNSCHECK_LISTS }, "", &o);
	expect(dc, "... and a live list still counts",
	       &(struct client){ .addr = "192.0.2.66", .checks = GG_DNSCHECK_LISTS }, "dnsbl:bl.test(3)", &o);
	gg_dnscheck_stats(dc, &ds);
	check(ds.skipped_dead >= 2, "probe: skipped lookups counted", "%lu", ds.skipped_dead);
	/* A second probe: nothing changes. */
	memset(&po, 0, sizeof(po));
	gg_dnscheck_probe_lists(dc, probe_cb, &po);
	run_until(&po.done, 10000);
	check(po.rep.changed == 0 && !bl->v[0].state_changed && bl->v[0].state == GG_LIST_DEAD,
	      "probe: re-probe keeps states, nothing changed", "changed %u", po.rep.changed);
	/* A probe freed with the checker never calls back. */
	memset(&po, 0, sizeof(po));
	gg_dnscheck_probe_lists(dc, probe_cb, &po);
	gg_dnscheck_free(dc);
	run_for(200);
	check(po.calls == 0, "probe: freed with the checker, never calls back", NULL);
	gg_resolver_free(r);
	gg_lists_free(bl);
	gg_lists_free(wl);
	gg_lists_free(rhs);
}

/* ------------------------------------------------------------ bursts */

/*
 * Many queries at once, as a busy policy server sends them: every check of
 * every client that arrived in one loop turn is sent before the loop reads
 * a single answer.  NSD answers at once, so the answers pile up in the
 * resolver's UDP socket; with the kernel's default receive buffer (about
 * 280 small datagrams) the rest were dropped, each lost answer cost a c-ares
 * retry (timeout/3 = 666 ms of a 2 s dns_timeout) and a second loss a
 * "(timeout)" reason.  Nothing here may need a retry: NSD on loopback
 * answers every query in well under a millisecond (nsd-start.sh turns off
 * NSD's response rate limiting, which would drop answers too).  Names out
 * of NSD's zones are REFUSED (c-ares: a connection-refused failure): they
 * must come back as fast DNS failures and stall no other query.
 */
#define BURST_QUERIES 500
#define BURST_CHECKS 150

struct burst_q {
	struct answer a;
	int refused;
};

static void test_bursts(void)
{
	struct gg_resolver *r;
	struct gg_resolver_stats stats;
	struct gg_dnscheck *dc;
	struct gg_dnscheck_params p;
	struct gg_lists *bl, *wl, *rhs;
	struct burst_q *bq;
	struct outcome *bo;
	char err[256], name[128], addr[64], helo[64], sender[64], label[200], why[300] = "";
	long t0, slow = 0, rslow = 0;
	int i, left, notok = 0, rbad = 0, nrefused = 0, timedout = 0, wrong = 0;

	bq = calloc(BURST_QUERIES, sizeof(*bq));
	bo = calloc(BURST_CHECKS, sizeof(*bo));
	if (bq == NULL || bo == NULL) {
		check(0, "burst: memory", NULL);
		free(bq);
		free(bo);
		return;
	}

	/* The resolver alone: a 10 s timeout puts c-ares's first retry past 1 s. */
	if (gg_resolver_new(base, nsd, 10000, &r, err, sizeof(err)) != GG_OK) {
		check(0, "burst: resolver", "%s", err);
		free(bq);
		free(bo);
		return;
	}
	t0 = now_ms();
	for (i = 0; i < BURST_QUERIES; i++) {
		bq[i].refused = i % 10 == 5;
		if (bq[i].refused)
			snprintf(name, sizeof(name), "b%d.not-served.example", i);
		else
			snprintf(name, sizeof(name), "b%d.dead.test", i);
		if (gg_resolver_query(r, name, ns_t_a, answer_cb, &bq[i].a) != GG_OK)
			bq[i].a.done = 1;
	}
	for (;;) {
		for (i = 0, left = 0; i < BURST_QUERIES; i++)
			left += !bq[i].a.done;
		if (left == 0 || now_ms() - t0 > 15000)
			break;
		event_base_loop(base, EVLOOP_ONCE);
	}
	for (i = 0; i < BURST_QUERIES; i++) {
		long took = bq[i].a.done ? bq[i].a.at_ms - t0 : now_ms() - t0;
		if (bq[i].refused) {
			nrefused++;
			rbad += bq[i].a.st != GG_EDNS || bq[i].a.calls != 1;
			if (took > rslow)
				rslow = took;
		} else {
			notok += bq[i].a.st != GG_OK || bq[i].a.calls != 1;
			if (took > slow)
				slow = took;
		}
	}
	gg_resolver_stats(r, &stats);
	snprintf(label, sizeof(label), "burst: %d queries sent at once, all answered without a "
		 "retry (slowest %ld ms)", BURST_QUERIES - nrefused, slow);
	check(notok == 0 && slow < 1000 && stats.timeouts == 0, label,
	      "%d not answered, %lu timeouts", notok, stats.timeouts);
	snprintf(label, sizeof(label), "burst: %d REFUSED among them: fast DNS failures "
		 "(slowest %ld ms)", nrefused, rslow);
	check(rbad == 0 && rslow < 1000, label, "%d not a DNS failure", rbad);
	/* Right after REFUSED answers, a new query is still answered at once. */
	t0 = now_ms();
	ask(r, "after-refused.dead.test", ns_t_a, &bq[0].a);
	check(bq[0].a.st == GG_OK && bq[0].a.at_ms - t0 < 500,
	      "burst: the server is not written off after REFUSED answers",
	      "st %s after %ld ms", gg_status_str(bq[0].a.st), bq[0].a.at_ms - t0);
	gg_resolver_free(r);

	/*
	 * Whole checks, as gg-loadgen's clients: random addresses, HELO =
	 * client name = a name that resolves, a sender domain; every third
	 * client without a name, so its PTR lookup is REFUSED (no reverse
	 * zone here).  Six or seven queries each, all at once.
	 */
	bl = lists(GG_LIST_DNSBL, "bl.test*3");
	wl = lists(GG_LIST_DNSWL, "wl.test*-3");
	rhs = lists(GG_LIST_RHSBL, "rhs.test*2");
	test_params(&p);
	p.timeout_ms = 2000;
	p.dnsbl = bl;
	p.dnswl = wl;
	p.rhsbl = rhs;
	if (gg_resolver_new(base, nsd, 2000, &r, err, sizeof(err)) != GG_OK ||
	    gg_dnscheck_new(base, r, &p, &dc, err, sizeof(err)) != GG_OK) {
		check(0, "burst: checker", "%s", err);
	} else {
		t0 = now_ms();
		for (i = 0; i < BURST_CHECKS; i++) {
			struct gg_dnscheck_input in;
			memset(&in, 0, sizeof(in));
			snprintf(addr, sizeof(addr), "198.18.%d.%d", i / 200, i % 200 + 1);
			snprintf(helo, sizeof(helo), "mx-%d.dead.test", i);
			snprintf(sender, sizeof(sender), "s%d.dead.test", i);
			gg_addr_parse(addr, &in.client);
			in.helo = helo;
			in.sender_domain = sender;
			if (i % 3 != 0)
				in.client_name = in.reverse_client_name = helo;
			if (gg_dnscheck_start(dc, &in, outcome_cb, &bo[i], NULL) != GG_OK)
				bo[i].done = 1;
		}
		for (;;) {
			for (i = 0, left = 0; i < BURST_CHECKS; i++)
				left += !bo[i].done;
			if (left == 0 || now_ms() - t0 > 15000)
				break;
			event_base_loop(base, EVLOOP_ONCE);
		}
		run_for(5);
		slow = 0;
		for (i = 0; i < BURST_CHECKS; i++) {
			const char *want = i % 3 != 0 ? "" : "rdns(error)(0)";
			if (bo[i].calls != 1 || bo[i].res.timed_out) {
				timedout++;
				snprintf(why, sizeof(why), "%s", reasons_str(&bo[i]));
			} else if (strcmp(reasons_str(&bo[i]), want) != 0) {
				wrong++;
				snprintf(why, sizeof(why), "%s", reasons_str(&bo[i]));
			}
			if (bo[i].res.elapsed_ms > slow)
				slow = bo[i].res.elapsed_ms;
		}
		snprintf(label, sizeof(label), "burst: %d checks at once, none timed out, all within "
			 "half of dns_timeout 2000 ms (slowest %ld ms)", BURST_CHECKS, slow);
		check(timedout == 0 && slow < 1000, label, "%d timed out or not called back, e.g. '%s'",
		      timedout, why);
		check(wrong == 0, "burst: ... with the right reasons (REFUSED PTR: rdns(error))",
		      "%d wrong, e.g. '%s'", wrong, why);
		gg_dnscheck_free(dc);
	}
	/*
	 * One name asked twice within one check: the forward confirmation of
	 * reverse_client_name and the HELO address lookup are the same A query
	 * (the HELO written differently).  The second lookup joins the first's
	 * query; both must be told, at once.
	 */
	if (r != NULL && gg_dnscheck_new(base, r, &p, &dc, err, sizeof(err)) == GG_OK) {
		struct gg_dnscache_stats cs;
		struct outcome o;
		t0 = now_ms();
		expect(dc, "one check asking one name twice (PTR confirmation and HELO) shares the query",
		       &(struct client){ .addr = "192.0.2.10", .reverse_name = "mail.example.test",
					 .helo = "MAIL.example.test." }, "dnswl:wl.test(-3)", &o);
		gg_dnscache_stats(gg_dnscheck_cache(dc), &cs);
		check(cs.joined == 1 && o.res.rdns == GG_RDNS_CONFIRMED && !o.res.timed_out &&
		      now_ms() - t0 < 1000, "check: ... and both lookups are answered at once",
		      "joined %lu rdns %d timed_out %d after %ld ms", cs.joined, (int)o.res.rdns,
		      o.res.timed_out, now_ms() - t0);
		gg_dnscheck_free(dc);
	}
	gg_resolver_free(r);
	gg_lists_free(bl);
	gg_lists_free(wl);
	gg_lists_free(rhs);
	free(bq);
	free(bo);
}

/* ------------------------------------------------------------ fail open */

static void test_fail_open(void)
{
	struct gg_resolver *r;
	struct gg_dnscheck *dc;
	struct gg_dnscheck_params p;
	struct gg_lists *bl, *rhs;
	struct outcome o;
	char err[256], servers[64], label[200];
	long t0;
	int fd, port;

	test_params(&p);
	bl = lists(GG_LIST_DNSBL, "bl.test*3");
	rhs = lists(GG_LIST_RHSBL, "rhs.test*2");
	p.dnsbl = bl;
	p.rhsbl = rhs;

	/* A dead server (closed port): fast failure, no weight. */
	p.timeout_ms = 2000;
	if (gg_resolver_new(base, closed, 2000, &r, err, sizeof(err)) == GG_OK &&
	    gg_dnscheck_new(base, r, &p, &dc, err, sizeof(err)) == GG_OK) {
		t0 = now_ms();
		expect(dc, "dead DNS server: fail open",
		       &(struct client){ .addr = "192.0.2.66", .helo = "mail.example.test", .sender = "spammer.example" },
		       "dnsbl:bl.test(error)(0),rhsbl:rhs.test(sender,error)(0),rhsbl:rhs.test(helo,error)(0),"
		       "rdns(error)(0),helo(error)(0)",
		       &o);
		check(o.res.total == 0 && o.res.errors == 5 && now_ms() - t0 < 1500,
		      "check: dead server fails fast with no weight", "total %g errors %u in %ld ms",
		      o.res.total, o.res.errors, now_ms() - t0);
		gg_dnscheck_free(dc);
		gg_resolver_free(r);
	}

	/* A server that never answers: everything times out at the deadline. */
	fd = silent_socket(&port);
	snprintf(servers, sizeof(servers), "127.0.0.1:%d", port);
	p.timeout_ms = 500;
	if (fd >= 0 && gg_resolver_new(base, servers, 500, &r, err, sizeof(err)) == GG_OK &&
	    gg_dnscheck_new(base, r, &p, &dc, err, sizeof(err)) == GG_OK) {
		t0 = now_ms();
		expect(dc, "silent DNS server: fail open at the deadline",
		       &(struct client){ .addr = "192.0.2.66", .helo = "mail.example.test" },
		       "dnsbl:bl.test(timeout)(0),rhsbl:rhs.test(helo,timeout)(0),rdns(timeout)(0),"
		       "helo(timeout)(0)", &o);
		snprintf(label, sizeof(label), "check: silent server: done within dns_timeout 500 ms "
			 "(took %ld ms)", now_ms() - t0);
		check(o.res.total == 0 && now_ms() - t0 >= 450 && now_ms() - t0 < 900, label,
		      "total %g", o.res.total);
		gg_dnscheck_free(dc);
		gg_resolver_free(r);
	}
	if (fd >= 0)
		close(fd);

	/* One zone times out (unbound stubs slow.test to a silent server). */
	if (unbound[0] == '\0') {
		skip("check: slow zone through unbound", "GG_DNS_UNBOUND_PORT not set");
	} else {
		struct gg_lists *bl2 = lists(GG_LIST_DNSBL, "bl.test*3, slow.test*2");
		p.dnsbl = bl2;
		p.timeout_ms = 1000;
		if (gg_resolver_new(base, unbound, 1000, &r, err, sizeof(err)) == GG_OK &&
		    gg_dnscheck_new(base, r, &p, &dc, err, sizeof(err)) == GG_OK) {
			struct probe_out po;
			t0 = now_ms();
			expect(dc, "slow zone times out, the others answer (through unbound)",
			       &(struct client){ .addr = "192.0.2.66", .helo = "mail.example.test" },
			       "dnsbl:bl.test(3),dnsbl:slow.test(timeout)(0),rdns:missing(1)", &o);
			want_txt("listing through unbound keeps its TXT", &o, "dnsbl:bl.test",
				 "Listed: see http://bl.test/192.0.2.66");
			snprintf(label, sizeof(label), "check: slow zone: done within dns_timeout 1000 ms "
				 "(took %ld ms)", now_ms() - t0);
			check(now_ms() - t0 >= 900 && now_ms() - t0 < 1500 && o.res.total == 4, label,
			      "total %g", o.res.total);
			memset(&po, 0, sizeof(po));
			gg_dnscheck_probe_lists(dc, probe_cb, &po);
			run_until(&po.done, 5000);
			check(po.rep.alive == 2 && po.rep.inconclusive == 1 && bl2->v[1].state == GG_LIST_UNPROBED &&
			      strncmp(bl2->v[1].probe_error, "probe inconclusive", 18) == 0,
			      "probe: a list that times out is inconclusive, state unchanged",
			      "alive %u inconclusive %u state %s error '%s'", po.rep.alive,
			      po.rep.inconclusive, gg_lists_state_str(bl2->v[1].state), bl2->v[1].probe_error);
			gg_dnscheck_free(dc);
			gg_resolver_free(r);
		} else {
			check(0, "check: unbound resolver", "%s", err);
		}
		gg_lists_free(bl2);
	}
	gg_lists_free(bl);
	gg_lists_free(rhs);
}

int main(void)
{
	const char *np = getenv("GG_DNS_NSD_PORT");
	const char *up = getenv("GG_DNS_UNBOUND_PORT");
	const char *cp = getenv("GG_DNS_CLOSED_PORT");
	struct event *t;
	struct timeval tv = { 0, 50000 };

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (np == NULL || *np == '\0' || cp == NULL || *cp == '\0') {
		fprintf(stderr, "t_dnsbl: set GG_DNS_NSD_PORT and GG_DNS_CLOSED_PORT (see tests/dns/run.sh)\n");
		return 2;
	}
	snprintf(nsd, sizeof(nsd), "127.0.0.1:%s", np);
	snprintf(closed, sizeof(closed), "127.0.0.1:%s", cp);
	if (up != NULL && *up != '\0')
		snprintf(unbound, sizeof(unbound), "127.0.0.1:%s", up);
	base = event_base_new();
	t = event_new(base, -1, EV_PERSIST, tick, NULL);
	event_add(t, &tv);

	test_lists();
	test_qname();
	test_servers();
	test_resolver();
	test_checks();
	test_probe();
	test_fail_open();
	test_bursts();

	event_free(t);
	event_base_free(base);
	printf("%d passed, %d failed\n", npass, nfail);
	return nfail > 0 ? 1 : 0;
}

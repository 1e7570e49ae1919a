/*
 * t_wlist.c - unit tests for engine/wlist.c: client and address
 * whitelists, file: items and error messages
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "lib/addr.h"
#include "lib/util.h"
#include "engine/wlist.h"

/* Client lists */

struct client_case {
	const char *label;
	const char *list;
	const char *addr;	/* NULL: no address given */
	const char *name;	/* NULL: no verified name */
	const char *want;	/* matching item, NULL: no match */
};

static const struct client_case client_cases[] = {
	{ "IPv4 address matches itself", "192.0.2.7", "192.0.2.7", NULL, "192.0.2.7" },
	{ "IPv4 address does not match its neighbour", "192.0.2.7", "192.0.2.8", NULL, NULL },
	{ "IPv4 network matches inside", "192.0.2.0/24", "192.0.2.200", NULL, "192.0.2.0/24" },
	{ "IPv4 network does not match outside", "192.0.2.0/24", "192.0.3.1", NULL, NULL },
	{ "IPv4 item matches a mapped client", "192.0.2.7", "::ffff:192.0.2.7", NULL, "192.0.2.7" },
	{ "IPv6 network matches inside", "2001:db8::/32", "2001:db8:1::5", NULL, "2001:db8::/32" },
	{ "IPv6 network does not match outside", "2001:db8::/32", "2001:db9::5", NULL, NULL },
	{ "IPv6 address item", "2001:db8::25", "2001:db8::25", NULL, "2001:db8::25" },
	{ "IPv4 network does not match IPv6", "0.0.0.0/0", "2001:db8::1", NULL, NULL },
	{ "exact name", "mx.example.com", "192.0.2.1", "mx.example.com", "mx.example.com" },
	{ "exact name, other case", "mx.example.com", "192.0.2.1", "MX.Example.COM", "mx.example.com" },
	{ "exact name item in upper case", "MX.Example.com", "192.0.2.1", "mx.example.com", "MX.Example.com" },
	{ "exact name is not a suffix", "mx.example.com", "192.0.2.1", "amx.example.com", NULL },
	{ "exact name is not a prefix", "mx.example.com", "192.0.2.1", "mx.example.com.evil.test", NULL },
	{ ".suffix matches a host under it", ".example.com", "192.0.2.1", "mx.example.com", ".example.com" },
	{ ".suffix matches deeper hosts", ".example.com", "192.0.2.1", "a.b.example.com", ".example.com" },
	{ ".suffix ignores case", ".example.com", "192.0.2.1", "MX.EXAMPLE.COM", ".example.com" },
	{ ".suffix needs a dot boundary", ".example.com", "192.0.2.1", "mxexample.com", NULL },
	{ ".suffix does not match another domain", ".example.com", "192.0.2.1", "example.org", NULL },
	{ "regex on the name", "/^mail[0-9]+\\.example\\.net$/", "192.0.2.1", "mail12.example.net",
	  "/^mail[0-9]+\\.example\\.net$/" },
	{ "regex ignores case", "/^mail[0-9]+\\.example\\.net$/", "192.0.2.1", "MAIL7.EXAMPLE.NET",
	  "/^mail[0-9]+\\.example\\.net$/" },
	{ "regex that does not match", "/^mail[0-9]+\\.example\\.net$/", "192.0.2.1", "mail.example.net", NULL },
	{ "regex is not applied to the address", "/^192/", "192.0.2.1", NULL, NULL },
	{ "unknown name never matches a name item", "unknown", "192.0.2.1", "unknown", NULL },
	{ "unknown name never matches a regex", "/.*/", "192.0.2.1", "unknown", NULL },
	{ "UNKNOWN in upper case never matches", "/.*/", "192.0.2.1", "UNKNOWN", NULL },
	{ "empty name never matches", "/.*/", "192.0.2.1", "", NULL },
	{ "no name: names are not compared", "mx.example.com", "192.0.2.1", NULL, NULL },
	{ "no address: networks are not compared", "0.0.0.0/0", NULL, "mx.example.com", NULL },
	{ "unknown name still matches by address", "unknown 192.0.2.0/24", "192.0.2.9", "unknown",
	  "192.0.2.0/24" },
	{ "first matching item wins", "192.0.2.0/24, .example.com", "192.0.2.9", "mx.example.com",
	  "192.0.2.0/24" },
	{ "items separated by commas and white space", "192.0.2.1,\t.example.org ,\n/^x/",
	  "198.51.100.1", "x.test", "/^x/" },
	{ "empty list matches nothing", "", "192.0.2.1", "mx.example.com", NULL },
};

static void test_client(void **state)
{
	const struct client_case *c = *state;
	struct gg_wlist *wl = NULL;
	struct gg_addr a;
	char err[256] = "";
	const char *m;

	if (gg_wlist_build(GG_WL_CLIENTS, c->list, "test", &wl, err, sizeof(err)) != GG_OK)
		fail_msg("building '%s' failed: %s", c->list, err);
	if (c->addr != NULL)
		assert_int_equal(gg_addr_parse(c->addr, &a), GG_OK);
	m = gg_wlist_match_client(wl, c->addr ? &a : NULL, c->name);
	if (c->want == NULL) {
		if (m != NULL)
			fail_msg("unexpected match '%s'", m);
	} else {
		if (m == NULL)
			fail_msg("'%s' did not match", c->want);
		assert_string_equal(m, c->want);
	}
	gg_wlist_free(wl);
}

/* Address lists */

struct addr_case {
	const char *label;
	const char *list;
	const char *address;
	const char *want;
};

static const struct addr_case addr_cases[] = {
	{ "exact address", "user@example.com", "user@example.com", "user@example.com" },
	{ "exact address, other case", "user@example.com", "User@Example.COM", "user@example.com" },
	{ "exact address item in upper case", "User@Example.com", "user@example.com", "User@Example.com" },
	{ "exact address, other domain", "user@example.com", "user@example.org", NULL },
	{ "exact address, longer local part", "user@example.com", "xuser@example.com", NULL },
	{ "exact address, subdomain", "user@example.com", "user@sub.example.com", NULL },
	{ "@domain", "@example.com", "anyone@example.com", "@example.com" },
	{ "@domain, other case", "@example.com", "anyone@EXAMPLE.COM", "@example.com" },
	{ "@domain does not match subdomains", "@example.com", "a@sub.example.com", NULL },
	{ "@domain does not match look-alikes", "@example.com", "a@badexample.com", NULL },
	{ "bare domain", "example.com", "anyone@example.com", "example.com" },
	{ "bare domain does not match subdomains", "example.com", "a@sub.example.com", NULL },
	{ ".domain matches a subdomain", ".example.com", "a@sub.example.com", ".example.com" },
	{ ".domain matches deeper subdomains", ".example.com", "a@x.y.example.com", ".example.com" },
	{ ".domain needs a dot boundary", ".example.com", "a@badexample.com", NULL },
	{ "@.domain matches a subdomain", "@.example.com", "a@sub.example.com", "@.example.com" },
	{ "@.domain, other case", "@.example.com", "a@SUB.Example.Com", "@.example.com" },
	{ "user@ matches that local part anywhere", "postmaster@", "postmaster@example.org", "postmaster@" },
	{ "user@, other case", "postmaster@", "PostMaster@Example.ORG", "postmaster@" },
	{ "user@ does not match a longer local part", "postmaster@", "postmaster2@example.org", NULL },
	{ "user@ does not match a suffix of the local part", "postmaster@", "xpostmaster@example.org", NULL },
	{ "user@ needs a domain in the address", "postmaster@", "postmaster", NULL },
	{ "regex on the whole address", "/^bounce-.*@lists\\./", "bounce-17@lists.example.org",
	  "/^bounce-.*@lists\\./" },
	{ "regex ignores case", "/^bounce-.*@lists\\./", "BOUNCE-17@LISTS.example.org",
	  "/^bounce-.*@lists\\./" },
	{ "regex that does not match", "/^bounce-.*@lists\\./", "alice@lists.example.org", NULL },
	{ "domain items need an @ in the address", "example.com", "example.com", NULL },
	{ "null sender matches no domain item", "example.com, .example.com, postmaster@", "", NULL },
	{ "several items, second matches", "user@example.com, @example.org", "x@example.org",
	  "@example.org" },
	{ "last @ separates the domain", "@example.com", "\"a@b\"@example.com", "@example.com" },
};

static void test_address(void **state)
{
	const struct addr_case *c = *state;
	struct gg_wlist *wl = NULL;
	char err[256] = "";
	const char *m;

	if (gg_wlist_build(GG_WL_ADDRESSES, c->list, "test", &wl, err, sizeof(err)) != GG_OK)
		fail_msg("building '%s' failed: %s", c->list, err);
	m = gg_wlist_match_address(wl, c->address);
	if (c->want == NULL) {
		if (m != NULL)
			fail_msg("unexpected match '%s'", m);
	} else {
		if (m == NULL)
			fail_msg("'%s' did not match", c->want);
		assert_string_equal(m, c->want);
	}
	gg_wlist_free(wl);
}

/* Bad items */

struct bad_case {
	const char *label;
	enum gg_wlist_kind kind;
	const char *list;
	const char *want;	/* substring of the message; "greygate.conf:12: " is checked too */
};

static const struct bad_case bad_cases[] = {
	{ "client: octet over 255", GG_WL_CLIENTS, "192.0.2.300",
	  "'192.0.2.300' is not an IP address, network, host name, .domain or /regex/" },
	{ "client: IPv4 prefix 33", GG_WL_CLIENTS, "192.0.2.0/33", "'192.0.2.0/33' is not" },
	{ "client: IPv6 prefix 129", GG_WL_CLIENTS, "2001:db8::/129", "'2001:db8::/129' is not" },
	{ "client: bad characters in a name", GG_WL_CLIENTS, "mx!.example.com", "'mx!.example.com' is not" },
	{ "client: bad item after good ones", GG_WL_CLIENTS, "192.0.2.1, .example.com, 10.0.0.0/xx",
	  "'10.0.0.0/xx' is not" },
	{ "client: lone dot", GG_WL_CLIENTS, ".", "'.' is not" },
	{ "client: broken regex", GG_WL_CLIENTS, "/[unclosed/",
	  "'/[unclosed/' is not a valid regular expression" },
	{ "address: lone @", GG_WL_ADDRESSES, "@",
	  "'@' is not an address, @domain, .domain, user@ or /regex/" },
	{ "address: bad domain", GG_WL_ADDRESSES, "user@bad!domain", "'user@bad!domain' is not" },
	{ "address: two @", GG_WL_ADDRESSES, "a@b@example.com", "'a@b@example.com' is not" },
	{ "address: bad bare domain", GG_WL_ADDRESSES, "exa mple.com!", "'mple.com!' is not" },
	{ "address: broken regex", GG_WL_ADDRESSES, "/(/", "is not a valid regular expression" },
};

static void test_bad(void **state)
{
	const struct bad_case *c = *state;
	struct gg_wlist *wl = (struct gg_wlist *)&wl;	/* must be reset to NULL */
	char err[256] = "";

	assert_int_not_equal(gg_wlist_build(c->kind, c->list, "greygate.conf:12", &wl, err,
					    sizeof(err)), GG_OK);
	assert_null(wl);
	assert_true(strncmp(err, "greygate.conf:12: ", 18) == 0);
	tu_assert_contains(err, c->want);
}

/* file: items */

static void test_file_items(void **state)
{
	static const char content[] =
		"# whitelisted clients\n"
		"192.0.2.0/24   # our network\n"
		"\n"
		"   \t\n"
		"mx.example.com, .example.org\n"
		"2001:db8::/32 /^mail[0-9]+\\.example\\.net$/   # two on one line\n"
		"# trailing comment without newline";
	char *dir = tu_mkdtemp(), *path, *value, err[512] = "";
	struct gg_wlist *wl = NULL;
	struct gg_addr a;

	(void)state;
	path = tu_write_file(dir, "clients", content, sizeof(content) - 1);
	value = tu_subst("10.1.1.1 file:@@ .example.net", path);
	if (gg_wlist_build(GG_WL_CLIENTS, value, "test", &wl, err, sizeof(err)) != GG_OK)
		fail_msg("%s", err);
	assert_int_equal(gg_wlist_size(wl), 7);
	assert_int_equal(gg_addr_parse("192.0.2.99", &a), GG_OK);
	assert_string_equal(gg_wlist_match_client(wl, &a, NULL), "192.0.2.0/24");
	assert_int_equal(gg_addr_parse("198.51.100.1", &a), GG_OK);
	assert_string_equal(gg_wlist_match_client(wl, &a, "mail3.example.net"),
			    "/^mail[0-9]+\\.example\\.net$/");
	assert_string_equal(gg_wlist_match_client(wl, &a, "a.example.org"), ".example.org");
	assert_string_equal(gg_wlist_match_client(wl, &a, "b.example.net"), ".example.net");
	assert_null(gg_wlist_match_client(wl, &a, "our.network"));
	gg_wlist_free(wl);
	free(value);
	free(path);
	tu_rmtree(dir);
	free(dir);
}

static void test_file_address_items(void **state)
{
	static const char content[] = "postmaster@\n@example.com # partner\n.example.net\n";
	char *dir = tu_mkdtemp(), *path, *value, err[512] = "";
	struct gg_wlist *wl = NULL;

	(void)state;
	path = tu_write_file(dir, "senders", content, sizeof(content) - 1);
	value = tu_subst("file:@@", path);
	if (gg_wlist_build(GG_WL_ADDRESSES, value, "test", &wl, err, sizeof(err)) != GG_OK)
		fail_msg("%s", err);
	assert_int_equal(gg_wlist_size(wl), 3);
	assert_string_equal(gg_wlist_match_address(wl, "x@example.com"), "@example.com");
	assert_string_equal(gg_wlist_match_address(wl, "x@a.example.net"), ".example.net");
	assert_null(gg_wlist_match_address(wl, "x@example.org"));
	gg_wlist_free(wl);
	free(value);
	free(path);
	tu_rmtree(dir);
	free(dir);
}

static void test_file_error_has_line(void **state)
{
	static const char content[] = "# comment\n192.0.2.1\n\n192.0.2.999 # typo\n";
	char *dir = tu_mkdtemp(), *path, *value, *want, err[512] = "";
	struct gg_wlist *wl = NULL;

	(void)state;
	path = tu_write_file(dir, "clients", content, sizeof(content) - 1);
	value = tu_subst("file:@@", path);
	assert_int_equal(gg_wlist_build(GG_WL_CLIENTS, value, "greygate.conf:3", &wl, err, sizeof(err)),
			 GG_EFORMAT);
	assert_null(wl);
	want = tu_subst("@@:4: '192.0.2.999' is not", path);
	tu_assert_contains(err, want);
	free(want);
	free(value);
	free(path);
	tu_rmtree(dir);
	free(dir);
}

static void test_file_missing(void **state)
{
	char *dir = tu_mkdtemp(), *value, *want, err[512] = "";
	struct gg_wlist *wl = NULL;

	(void)state;
	value = tu_subst("file:@@/does-not-exist", dir);
	assert_int_equal(gg_wlist_build(GG_WL_CLIENTS, value, "greygate.conf:7", &wl, err, sizeof(err)),
			 GG_EIO);
	assert_null(wl);
	tu_assert_contains(err, "greygate.conf:7: ");
	want = tu_subst("@@/does-not-exist", dir);
	tu_assert_contains(err, want);
	tu_assert_contains(err, "No such file");
	free(want);
	free(value);
	tu_rmtree(dir);
	free(dir);
}

static void test_file_nested(void **state)
{
	char *dir = tu_mkdtemp(), *inner, *outer, *value, *content, err[512] = "";
	struct gg_wlist *wl = NULL;

	(void)state;
	inner = tu_write_file(dir, "inner", "192.0.2.1\n", 10);
	content = tu_subst("192.0.2.2\nfile:@@\n", inner);
	outer = tu_write_file(dir, "outer", content, strlen(content));
	value = tu_subst("file:@@", outer);
	assert_int_not_equal(gg_wlist_build(GG_WL_CLIENTS, value, "test", &wl, err, sizeof(err)), GG_OK);
	assert_null(wl);
	tu_assert_contains(err, "cannot include other files");
	free(value);
	free(content);
	free(outer);
	free(inner);
	tu_rmtree(dir);
	free(dir);
}

static void test_null_and_sizes(void **state)
{
	struct gg_wlist *wl = NULL;
	struct gg_addr a;
	char err[256];

	(void)state;
	assert_int_equal(gg_addr_parse("192.0.2.1", &a), GG_OK);
	assert_null(gg_wlist_match_client(NULL, &a, "x.example"));
	assert_null(gg_wlist_match_address(NULL, "a@b"));
	assert_int_equal(gg_wlist_size(NULL), 0);
	assert_int_equal(gg_wlist_build(GG_WL_ADDRESSES, " , \t\n", "test", &wl, err, sizeof(err)), GG_OK);
	assert_int_equal(gg_wlist_size(wl), 0);
	assert_null(gg_wlist_match_address(wl, NULL));
	gg_wlist_free(wl);
	gg_wlist_free(NULL);
}

static void test_many_items(void **state)
{
	/* Enough items to grow the array several times. */
	char value[200 * 20], *p = value;
	struct gg_wlist *wl = NULL;
	struct gg_addr a;
	char err[256];

	(void)state;
	for (int i = 0; i < 200; i++)
		p += sprintf(p, "10.%d.%d.0/24 ", i / 256, i % 256);
	assert_int_equal(gg_wlist_build(GG_WL_CLIENTS, value, "test", &wl, err, sizeof(err)), GG_OK);
	assert_int_equal(gg_wlist_size(wl), 200);
	assert_int_equal(gg_addr_parse("10.0.199.7", &a), GG_OK);
	assert_string_equal(gg_wlist_match_client(wl, &a, NULL), "10.0.199.0/24");
	assert_int_equal(gg_addr_parse("10.0.200.7", &a), GG_OK);
	assert_null(gg_wlist_match_client(wl, &a, NULL));
	gg_wlist_free(wl);
}

int main(void)
{
	struct tu_suite s = { 0 };
	size_t i;

	for (i = 0; i < GG_ARRAY_LEN(client_cases); i++)
		tu_add(&s, test_client, &client_cases[i], "clients: %s", client_cases[i].label);
	for (i = 0; i < GG_ARRAY_LEN(addr_cases); i++)
		tu_add(&s, test_address, &addr_cases[i], "addresses: %s", addr_cases[i].label);
	for (i = 0; i < GG_ARRAY_LEN(bad_cases); i++)
		tu_add(&s, test_bad, &bad_cases[i], "bad item: %s", bad_cases[i].label);
	tu_add(&s, test_file_items, NULL, "file: client items with comments and blank lines");
	tu_add(&s, test_file_address_items, NULL, "file: address items");
	tu_add(&s, test_file_error_has_line, NULL, "file: an error names path:line");
	tu_add(&s, test_file_missing, NULL, "file: a missing file names the setting and the path");
	tu_add(&s, test_file_nested, NULL, "file: files cannot include files");
	tu_add(&s, test_null_and_sizes, NULL, "NULL lists, empty lists and sizes");
	tu_add(&s, test_many_items, NULL, "a list of 200 networks");
	return tu_run(&s, "t_wlist");
}

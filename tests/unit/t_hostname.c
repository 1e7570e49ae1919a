/*
 * t_hostname.c - unit tests for lib/hostname.c: names against each flag,
 * the length limits, and the fault reported first
 */
#include <string.h>

#include "unit.h"
#include "lib/hostname.h"
#include "lib/util.h"

#define D GG_HOSTNAME_DOT
#define M GG_HOSTNAME_MULTI
#define A GG_HOSTNAME_ALPHA_TLD

struct name_case {
	const char *label;
	const char *name;
	unsigned flags;
	enum gg_hostname_fault want;
};

static const struct name_case cases[] = {
	{ "a single label", "localhost", 0, GG_HOSTNAME_OK },
	{ "two labels", "mail.example", 0, GG_HOSTNAME_OK },
	{ "letters, digits, hyphen, underscore", "_spf.Mx-1.example9", 0, GG_HOSTNAME_OK },
	{ "all-digit labels without flags", "192.0.2.1", 0, GG_HOSTNAME_OK },
	{ "empty", "", 0, GG_HOSTNAME_EMPTY },
	{ "empty with every flag", "", D | M | A, GG_HOSTNAME_EMPTY },
	{ "a lone dot", ".", D, GG_HOSTNAME_EMPTY_LABEL },
	{ "leading dot", ".example", 0, GG_HOSTNAME_EMPTY_LABEL },
	{ "two dots inside", "a..b", D, GG_HOSTNAME_EMPTY_LABEL },
	{ "trailing dot refused without DOT", "example.com.", 0, GG_HOSTNAME_EMPTY_LABEL },
	{ "trailing dot accepted with DOT", "example.com.", D, GG_HOSTNAME_OK },
	{ "two trailing dots even with DOT", "example.com..", D, GG_HOSTNAME_EMPTY_LABEL },
	{ "space", "mail example", 0, GG_HOSTNAME_BAD_CHAR },
	{ "question mark", "zen.ex?ample", 0, GG_HOSTNAME_BAD_CHAR },
	{ "UTF-8 byte", "caf\303\251.example", 0, GG_HOSTNAME_BAD_CHAR },
	{ "slash", "a/b", 0, GG_HOSTNAME_BAD_CHAR },
	{ "colon (an IPv6 address)", "2001:db8::1", 0, GG_HOSTNAME_BAD_CHAR },
	{ "bracket", "[192.0.2.1]", 0, GG_HOSTNAME_BAD_CHAR },
	{ "63-byte label", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example",
	  0, GG_HOSTNAME_OK },
	{ "64-byte label", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example",
	  0, GG_HOSTNAME_LONG_LABEL },
	{ "MULTI refuses one label", "localhost", M, GG_HOSTNAME_ONE_LABEL },
	{ "MULTI refuses one label with a dot", "localhost.", D | M, GG_HOSTNAME_ONE_LABEL },
	{ "MULTI takes two", "mail.example", M, GG_HOSTNAME_OK },
	{ "ALPHA_TLD refuses a numeric TLD", "mail.123", M | A, GG_HOSTNAME_NUMERIC_TLD },
	{ "ALPHA_TLD refuses an IPv4 address", "192.0.2.1", M | A, GG_HOSTNAME_NUMERIC_TLD },
	{ "ALPHA_TLD takes a mixed TLD", "mail.1a", M | A, GG_HOSTNAME_OK },
	{ "ALPHA_TLD looks past a trailing dot", "mail.example.", D | M | A, GG_HOSTNAME_OK },
	{ "ALPHA_TLD: numeric TLD before a trailing dot", "mail.123.", D | M | A,
	  GG_HOSTNAME_NUMERIC_TLD },
	{ "ALPHA_TLD: only the last label counts", "123.example", M | A, GG_HOSTNAME_OK },
	{ "the first fault wins: bad byte before an empty label", "a?..b", 0, GG_HOSTNAME_BAD_CHAR },
	{ "the first fault wins: empty label before a bad byte", "a..?b", 0,
	  GG_HOSTNAME_EMPTY_LABEL },
	{ "the first fault wins: long label before a bad byte",
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa?", 0,
	  GG_HOSTNAME_LONG_LABEL },
};

static void test_name(void **state)
{
	const struct name_case *c = *state;
	enum gg_hostname_fault why = (enum gg_hostname_fault)-1;
	enum gg_status st = gg_hostname_check(c->name, strlen(c->name), GG_HOSTNAME_MAX,
					      c->flags, &why);

	assert_string_equal(gg_hostname_fault_str(why), gg_hostname_fault_str(c->want));
	if (c->want == GG_HOSTNAME_OK)
		assert_int_equal(st, GG_OK);
	else if (c->want == GG_HOSTNAME_TOOLONG || c->want == GG_HOSTNAME_LONG_LABEL)
		assert_int_equal(st, GG_ETOOBIG);
	else
		assert_int_equal(st, GG_EINVAL);
	assert_int_equal(gg_hostname_valid(c->name, c->flags), c->want == GG_HOSTNAME_OK);
	/* why may be NULL. */
	assert_int_equal(gg_hostname_check(c->name, strlen(c->name), GG_HOSTNAME_MAX, c->flags,
					   NULL), st);
}

/* Lengths: max counts every byte passed in; only len bytes are read. */

struct len_case {
	const char *label;
	size_t total;			/* bytes of "a.a.a..." (ends with 'a') */
	size_t max;
	enum gg_hostname_fault want;
};

static const struct len_case len_cases[] = {
	{ "253 bytes, max 253", 253, 253, GG_HOSTNAME_OK },
	{ "255 bytes, max 253", 255, 253, GG_HOSTNAME_TOOLONG },
	{ "189 bytes, max 189 (a DNSBL zone)", 189, 189, GG_HOSTNAME_OK },
	{ "191 bytes, max 189", 191, 189, GG_HOSTNAME_TOOLONG },
	{ "1 byte, max 1", 1, 1, GG_HOSTNAME_OK },
};

static void test_len(void **state)
{
	const struct len_case *c = *state;
	char name[400];
	enum gg_hostname_fault why;
	size_t i;

	for (i = 0; i < c->total; i++)
		name[i] = i % 2 ? '.' : 'a';
	name[c->total] = '?';		/* past len: never read */
	(void)gg_hostname_check(name, c->total, c->max, 0, &why);
	assert_string_equal(gg_hostname_fault_str(why), gg_hostname_fault_str(c->want));
}

static void test_prefix(void **state)
{
	enum gg_hostname_fault why;

	(void)state;
	/* A caller that drops a trailing dot passes a shorter len. */
	assert_int_equal(gg_hostname_check("mail.example.", 12, GG_HOSTNAME_MAX, 0, &why), GG_OK);
	assert_int_equal(gg_hostname_check("mail.example.", 13, GG_HOSTNAME_MAX, 0, &why),
			 GG_EINVAL);
	assert_int_equal(why, GG_HOSTNAME_EMPTY_LABEL);
	assert_int_equal(gg_hostname_check("mail", 0, GG_HOSTNAME_MAX, 0, &why), GG_EINVAL);
	assert_int_equal(why, GG_HOSTNAME_EMPTY);
}

int main(void)
{
	struct tu_suite s = { 0 };
	size_t i;

	for (i = 0; i < GG_ARRAY_LEN(cases); i++)
		tu_add(&s, test_name, &cases[i], "name: %s", cases[i].label);
	for (i = 0; i < GG_ARRAY_LEN(len_cases); i++)
		tu_add(&s, test_len, &len_cases[i], "length: %s", len_cases[i].label);
	tu_add(&s, test_prefix, NULL, "length: only len bytes are checked");
	return tu_run(&s, "t_hostname");
}

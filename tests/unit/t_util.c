/*
 * t_util.c - unit tests for engine/util.c: durations, numbers, booleans,
 * bounded copies and the log sanitiser
 */
#include <limits.h>
#include <string.h>

#include "unit.h"
#include "lib/status.h"
#include "lib/util.h"

/* Durations */

struct dur_case {
	const char *label;
	const char *in;
	long max;
	enum gg_status st;
	long want;
};

static const struct dur_case dur_cases[] = {
	{ "seconds suffix 300s", "300s", LONG_MAX, GG_OK, 300 },
	{ "plain seconds 300", "300", LONG_MAX, GG_OK, 300 },
	{ "minutes 5m", "5m", LONG_MAX, GG_OK, 300 },
	{ "hours 2h", "2h", LONG_MAX, GG_OK, 7200 },
	{ "days 2d", "2d", LONG_MAX, GG_OK, 172800 },
	{ "weeks 1w", "1w", LONG_MAX, GG_OK, 604800 },
	{ "zero 0", "0", LONG_MAX, GG_OK, 0 },
	{ "zero with suffix 0d", "0d", LONG_MAX, GG_OK, 0 },
	{ "exactly the maximum 1d <= 86400", "1d", 86400, GG_OK, 86400 },
	{ "over the maximum 2d > 86400", "2d", 86400, GG_ETOOBIG, 0 },
	{ "over the maximum 86401 > 86400", "86401", 86400, GG_ETOOBIG, 0 },
	{ "unknown suffix 5x", "5x", LONG_MAX, GG_EINVAL, 0 },
	{ "empty string", "", LONG_MAX, GG_EINVAL, 0 },
	{ "negative -1", "-1", LONG_MAX, GG_EINVAL, 0 },
	{ "negative with suffix -5m", "-5m", LONG_MAX, GG_EINVAL, 0 },
	{ "explicit plus +5", "+5", LONG_MAX, GG_EINVAL, 0 },
	{ "fraction 1.5h", "1.5h", LONG_MAX, GG_EINVAL, 0 },
	{ "suffix alone m", "m", LONG_MAX, GG_EINVAL, 0 },
	{ "suffix first m5", "m5", LONG_MAX, GG_EINVAL, 0 },
	{ "two suffixes 5mm", "5mm", LONG_MAX, GG_EINVAL, 0 },
	{ "leading space", " 5m", LONG_MAX, GG_EINVAL, 0 },
	{ "trailing space", "5m ", LONG_MAX, GG_EINVAL, 0 },
	{ "space before suffix", "5 m", LONG_MAX, GG_EINVAL, 0 },
	{ "hexadecimal 0x10", "0x10", LONG_MAX, GG_EINVAL, 0 },
	{ "overflow of long 99999999999999999999", "99999999999999999999", LONG_MAX, GG_ETOOBIG, 0 },
	{ "overflow by multiplication 9223372036854775807w", "9223372036854775807w", LONG_MAX,
	  GG_ETOOBIG, 0 },
	{ "overflow by multiplication 100000000000000000d", "100000000000000000d", LONG_MAX,
	  GG_ETOOBIG, 0 },
};

static void test_duration(void **state)
{
	const struct dur_case *c = *state;
	long v = -12345;
	enum gg_status st = gg_parse_duration(c->in, c->max, &v);

	assert_string_equal(gg_status_str(st), gg_status_str(c->st));
	if (c->st == GG_OK)
		assert_int_equal(v, c->want);
	else
		assert_int_equal(v, -12345);	/* untouched on error */
}

/* Integers */

struct long_case {
	const char *label;
	const char *in;
	long min, max;
	enum gg_status st;
	long want;
};

static const struct long_case long_cases[] = {
	{ "in range 42", "42", 0, 100, GG_OK, 42 },
	{ "lower bound 0", "0", 0, 100, GG_OK, 0 },
	{ "upper bound 100", "100", 0, 100, GG_OK, 100 },
	{ "negative in range", "-5", -10, 10, GG_OK, -5 },
	{ "above max", "101", 0, 100, GG_ETOOBIG, 0 },
	{ "below min", "-1", 0, 100, GG_ETOOBIG, 0 },
	{ "overflow", "99999999999999999999", 0, LONG_MAX, GG_ETOOBIG, 0 },
	{ "empty", "", 0, 100, GG_EINVAL, 0 },
	{ "leading space", " 1", 0, 100, GG_EINVAL, 0 },
	{ "trailing space", "1 ", 0, 100, GG_EINVAL, 0 },
	{ "trailing junk", "12abc", 0, 100, GG_EINVAL, 0 },
	{ "not a number", "abc", 0, 100, GG_EINVAL, 0 },
	{ "hex is not decimal", "0x10", 0, 100, GG_EINVAL, 0 },
};

static void test_long(void **state)
{
	const struct long_case *c = *state;
	long v = -12345;
	enum gg_status st = gg_parse_long(c->in, c->min, c->max, &v);

	assert_string_equal(gg_status_str(st), gg_status_str(c->st));
	if (c->st == GG_OK)
		assert_int_equal(v, c->want);
}

/* Booleans */

struct bool_case {
	const char *label;
	const char *in;
	enum gg_status st;
	int want;
};

static const struct bool_case bool_cases[] = {
	{ "yes", "yes", GG_OK, 1 },
	{ "true", "true", GG_OK, 1 },
	{ "on", "on", GG_OK, 1 },
	{ "1", "1", GG_OK, 1 },
	{ "YES (case-insensitive)", "YES", GG_OK, 1 },
	{ "no", "no", GG_OK, 0 },
	{ "false", "false", GG_OK, 0 },
	{ "off", "off", GG_OK, 0 },
	{ "0", "0", GG_OK, 0 },
	{ "empty", "", GG_EINVAL, 0 },
	{ "y is not enough", "y", GG_EINVAL, 0 },
	{ "2", "2", GG_EINVAL, 0 },
	{ "trailing space", "yes ", GG_EINVAL, 0 },
	{ "maybe", "maybe", GG_EINVAL, 0 },
};

static void test_bool(void **state)
{
	const struct bool_case *c = *state;
	int v = -1;
	enum gg_status st = gg_parse_bool(c->in, &v);

	assert_string_equal(gg_status_str(st), gg_status_str(c->st));
	if (c->st == GG_OK)
		assert_int_equal(v, c->want);
	else
		assert_int_equal(v, -1);
}

/* Sanitiser */

struct san_case {
	const char *label;
	const char *src;
	size_t srclen;
	size_t dstsize;
	size_t max;
	const char *want;
};

#define S(lit) lit, sizeof(lit) - 1

static const struct san_case san_cases[] = {
	{ "printable text is kept", S("hello world"), 80, 60, "hello world" },
	{ "empty input", S(""), 80, 60, "" },
	{ "tab, newline and CR become ?", S("a\tb\nc\rd"), 80, 60, "a?b?c?d" },
	{ "other control bytes become ?", S("\x01x\x1by\x7f"), 80, 60, "?x?y?" },
	{ "NUL inside the counted length becomes ?", S("a\0b"), 80, 60, "a?b" },
	{ "non-ASCII bytes become ?", S("caf\xc3\xa9"), 80, 60, "caf??" },
	{ "exactly max bytes: no ellipsis", S("abcd"), 80, 4, "abcd" },
	{ "one over max: cut with ...", S("abcde"), 80, 4, "abcd..." },
	{ "long input cut at max", S("0123456789abcdefghij"), 80, 10, "0123456789..." },
	{ "max 0 shows only the ellipsis", S("abc"), 80, 0, "..." },
	{ "small destination lowers max", S("0123456789abcdefghij"), 8, 60, "0123..." },
	{ "destination of exactly max + 4", S("0123456789"), 9, 5, "01234..." },
	{ "srclen shorter than the string", "abcdef", 3, 80, 60, "abc" },
	{ "controls in the cut-off part do not matter", S("ab\x01\x02"), 80, 2, "ab..." },
};

static void test_sanitize(void **state)
{
	const struct san_case *c = *state;
	char buf[128];
	char *r;

	memset(buf, 'Z', sizeof(buf));
	r = gg_sanitize(buf, c->dstsize, c->src, c->srclen, c->max);
	assert_ptr_equal(r, buf);
	assert_string_equal(buf, c->want);
	/* Nothing written past dstsize. */
	for (size_t i = c->dstsize; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 'Z');
}

static void test_sanitize_zero_size(void **state)
{
	char buf[4] = { 'Z', 'Z', 'Z', 'Z' };

	(void)state;
	assert_ptr_equal(gg_sanitize(buf, 0, "abc", 3, 10), buf);
	assert_memory_equal(buf, "ZZZZ", 4);
}

/* Bounded copies */

struct copy_case {
	const char *label;
	const char *src;
	size_t len;	/* for gg_strbcpy */
	size_t size;
	enum gg_status st;
	const char *want;
};

static const struct copy_case copy_cases[] = {
	{ "fits", "abc", 3, 8, GG_OK, "abc" },
	{ "exact fit with the NUL", "abcdefg", 7, 8, GG_OK, "abcdefg" },
	{ "one byte too long is cut and reported", "abcdefgh", 8, 8, GG_ETOOBIG, "abcdefg" },
	{ "len limits the copy", "abcdef", 2, 8, GG_OK, "ab" },
	{ "a NUL before len ends the copy", "ab\0cd", 5, 8, GG_OK, "ab" },
	{ "size 1 holds only the NUL", "a", 1, 1, GG_ETOOBIG, "" },
};

static void test_strbcpy(void **state)
{
	const struct copy_case *c = *state;
	char buf[16];

	memset(buf, 'Z', sizeof(buf));
	assert_string_equal(gg_status_str(gg_strbcpy(buf, c->size, c->src, c->len)),
			    gg_status_str(c->st));
	assert_string_equal(buf, c->want);
	for (size_t i = c->size; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 'Z');
}

static void test_strbcpy_size_zero(void **state)
{
	char buf[2] = { 'Z', 'Z' };

	(void)state;
	assert_int_equal(gg_strbcpy(buf, 0, "abc", 3), GG_ETOOBIG);
	assert_memory_equal(buf, "ZZ", 2);
}

static void test_strcpy(void **state)
{
	char buf[4];

	(void)state;
	assert_int_equal(gg_strcpy(buf, sizeof(buf), "abc"), GG_OK);
	assert_string_equal(buf, "abc");
	assert_int_equal(gg_strcpy(buf, sizeof(buf), "abcd"), GG_ETOOBIG);
	assert_string_equal(buf, "abc");
}

/* Small string helpers */

static void test_lower_caseeq_trim(void **state)
{
	char s[] = "MiXeD-Case.EXAMPLE_1\xc3\x89";
	char t1[] = "  \t padded \r\n";
	char t2[] = " \t ";
	char t3[] = "none";

	(void)state;
	gg_str_lower(s);
	assert_string_equal(s, "mixed-case.example_1\xc3\x89");	/* ASCII only */
	assert_true(gg_str_caseeq("Example.COM", "example.com"));
	assert_false(gg_str_caseeq("example.com", "example.co"));
	assert_string_equal(gg_str_trim(t1), "padded");
	assert_string_equal(gg_str_trim(t2), "");
	assert_string_equal(gg_str_trim(t3), "none");
}

static void test_status_names(void **state)
{
	static const enum gg_status all[] = { GG_OK, GG_NOTFOUND, GG_EINVAL, GG_EFORMAT, GG_ENOMEM,
		GG_ETOOBIG, GG_ETIMEOUT, GG_EDNS, GG_EDB, GG_EIO, GG_EPERM };

	(void)state;
	for (size_t i = 0; i < GG_ARRAY_LEN(all); i++) {
		assert_string_not_equal(gg_status_str(all[i]), "unknown status");
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(gg_status_str(all[i]), gg_status_str(all[j]));
	}
	assert_string_equal(gg_status_str((enum gg_status)999), "unknown status");
}

int main(void)
{
	struct tu_suite s = { 0 };
	size_t i;

	for (i = 0; i < GG_ARRAY_LEN(dur_cases); i++)
		tu_add(&s, test_duration, &dur_cases[i], "duration: %s", dur_cases[i].label);
	for (i = 0; i < GG_ARRAY_LEN(long_cases); i++)
		tu_add(&s, test_long, &long_cases[i], "integer: %s", long_cases[i].label);
	for (i = 0; i < GG_ARRAY_LEN(bool_cases); i++)
		tu_add(&s, test_bool, &bool_cases[i], "bool: %s", bool_cases[i].label);
	for (i = 0; i < GG_ARRAY_LEN(san_cases); i++)
		tu_add(&s, test_sanitize, &san_cases[i], "sanitize: %s", san_cases[i].label);
	tu_add(&s, test_sanitize_zero_size, NULL, "sanitize: zero-size destination is untouched");
	for (i = 0; i < GG_ARRAY_LEN(copy_cases); i++)
		tu_add(&s, test_strbcpy, &copy_cases[i], "strbcpy: %s", copy_cases[i].label);
	tu_add(&s, test_strbcpy_size_zero, NULL, "strbcpy: size 0 is refused");
	tu_add(&s, test_strcpy, NULL, "strcpy: fits and reports truncation");
	tu_add(&s, test_lower_caseeq_trim, NULL, "lower, caseeq and trim");
	tu_add(&s, test_status_names, NULL, "status: every status has its own name");
	return tu_run(&s, "t_util");
}

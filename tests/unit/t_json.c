/*
 * t_json.c - unit tests for lib/json.c: string literals from the stream
 * and the buffer writer (the same bytes), invalid UTF-8 of every kind,
 * control characters, truncation, numbers
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "lib/json.h"
#include "lib/util.h"

struct str_case {
	const char *label;
	const char *in;
	const char *out;
};

static const struct str_case cases[] = {
	{ "NULL is null", NULL, "null" },
	{ "empty string", "", "\"\"" },
	{ "plain ASCII", "mx.example", "\"mx.example\"" },
	{ "quote and backslash", "a\"b\\c", "\"a\\\"b\\\\c\"" },
	{ "newline, return, tab", "a\nb\rc\td", "\"a\\nb\\rc\\td\"" },
	{ "control characters as \\u00XX", "\001\037\033", "\"\\u0001\\u001f\\u001b\"" },
	{ "DEL as \\u007f", "a\177b", "\"a\\u007fb\"" },
	{ "slash passes", "a/b", "\"a/b\"" },
	{ "valid 2-byte (U+00E9)", "caf\303\251", "\"caf\303\251\"" },
	{ "valid 3-byte (U+20AC)", "\342\202\254", "\"\342\202\254\"" },
	{ "valid 4-byte (U+1F600)", "\360\237\230\200", "\"\360\237\230\200\"" },
	{ "highest code point U+10FFFF", "\364\217\277\277", "\"\364\217\277\277\"" },
	{ "lowest 3-byte U+0800", "\340\240\200", "\"\340\240\200\"" },
	{ "U+FFFD itself passes", "\357\277\275", "\"\357\277\275\"" },
	{ "byte 0xff", "x\377y", "\"x\\ufffdy\"" },
	{ "bytes 0xf5-0xfe", "\365\370\376", "\"\\ufffd\\ufffd\\ufffd\"" },
	{ "lone continuation byte", "a\200b", "\"a\\ufffdb\"" },
	{ "overlong 2-byte '/' (C0 AF)", "\300\257", "\"\\ufffd\\ufffd\"" },
	{ "overlong 2-byte NUL (C1 80)", "\301\200", "\"\\ufffd\\ufffd\"" },
	{ "overlong 3-byte '/' (E0 80 AF)", "\340\200\257", "\"\\ufffd\\ufffd\\ufffd\"" },
	{ "overlong 4-byte '/' (F0 80 80 AF)", "\360\200\200\257",
	  "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" },
	{ "high surrogate U+D800", "\355\240\200", "\"\\ufffd\\ufffd\\ufffd\"" },
	{ "low surrogate U+DFFF", "\355\277\277", "\"\\ufffd\\ufffd\\ufffd\"" },
	{ "past U+10FFFF (F4 90 80 80)", "\364\220\200\200", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" },
	{ "truncated 3-byte at the end", "a\342\202", "\"a\\ufffd\\ufffd\"" },
	{ "truncated 4-byte at the end", "\360\237\230", "\"\\ufffd\\ufffd\\ufffd\"" },
	{ "truncated 2-byte before ASCII", "\303x", "\"\\ufffdx\"" },
	{ "truncated 3-byte before a quote", "\342\202\"", "\"\\ufffd\\ufffd\\\"\"" },
	{ "lead byte followed by another lead byte", "\303\303\251", "\"\\ufffd\303\251\"" },
	{ "valid after invalid", "\377\342\202\254", "\"\\ufffd\342\202\254\"" },
};

/* via_stream - what gg_json_str() writes (malloc'd) */
static char *via_stream(const char *in)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	assert_non_null(fp);
	gg_json_str(fp, in);
	assert_int_equal(fclose(fp), 0);
	return buf;
}

static void test_str(void **state)
{
	const struct str_case *c = *state;
	char *got = via_stream(c->in), buf[128];
	size_t n = gg_json_escape(buf, sizeof(buf), c->in);

	assert_string_equal(got, c->out);
	assert_string_equal(buf, c->out);
	assert_int_equal(n, strlen(c->out));
	free(got);
}

/* Truncation: the length of the whole literal, a NUL-terminated prefix. */

struct trunc_case {
	const char *label;
	const char *in;
	size_t size;
	const char *want;		/* what buf holds */
	size_t want_len;
};

static const struct trunc_case trunc_cases[] = {
	{ "fits exactly", "ab", 5, "\"ab\"", 4 },
	{ "one byte short", "ab", 4, "\"ab", 4 },
	{ "cut inside an escape", "\001", 4, "\"\\u", 8 },
	{ "size 1 holds only the NUL", "ab", 1, "", 4 },
};

static void test_trunc(void **state)
{
	const struct trunc_case *c = *state;
	char buf[16];

	memset(buf, 'X', sizeof(buf));
	assert_int_equal(gg_json_escape(buf, c->size, c->in), c->want_len);
	assert_string_equal(buf, c->want);
	assert_int_equal(buf[c->size], 'X');	/* nothing written past size */
}

static void test_size0(void **state)
{
	char buf[1] = { 'X' };

	(void)state;
	assert_int_equal(gg_json_escape(buf, 0, "abc"), 5);
	assert_int_equal(buf[0], 'X');
	assert_int_equal(gg_json_escape(NULL, 0, "\377"), 8);
}

/* Numbers */

struct num_case {
	const char *label;
	double v;
	const char *out;
};

static const struct num_case num_cases[] = {
	{ "zero", 0.0, "0.000" },
	{ "milliseconds", 1.2345, "1.234" },
	{ "negative", -2.5, "-2.500" },
	{ "NaN is null", NAN, "null" },
	{ "infinity is null", INFINITY, "null" },
};

static void test_num(void **state)
{
	const struct num_case *c = *state;
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	assert_non_null(fp);
	gg_json_num(fp, c->v);
	assert_int_equal(fclose(fp), 0);
	assert_string_equal(buf, c->out);
	free(buf);
}

int main(void)
{
	struct tu_suite s = { 0 };
	size_t i;

	for (i = 0; i < GG_ARRAY_LEN(cases); i++)
		tu_add(&s, test_str, &cases[i], "str: %s", cases[i].label);
	for (i = 0; i < GG_ARRAY_LEN(trunc_cases); i++)
		tu_add(&s, test_trunc, &trunc_cases[i], "escape: %s", trunc_cases[i].label);
	tu_add(&s, test_size0, NULL, "escape: size 0 writes nothing, still counts");
	for (i = 0; i < GG_ARRAY_LEN(num_cases); i++)
		tu_add(&s, test_num, &num_cases[i], "num: %s", num_cases[i].label);
	return tu_run(&s, "t_json");
}

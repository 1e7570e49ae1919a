/*
 * t_policy_proto.c - unit tests for policyd/policy_proto.c: Postfix policy
 * delegation requests, every limit exceeded, and error recovery (a bad
 * request is read to its empty line and its first problem is reported)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "policyd/policy_proto.h"
#include "lib/util.h"

static const struct gg_policy_limits deflim = { 4096, 128, 65536 };

/*
 * feed - split text on '\n' and feed the lines until one ends the request;
 * returns the number of lines fed (so 0 if text ran out first)
 */
static size_t feed(struct gg_policy_req *pr, const struct gg_policy_limits *lim, const char *text,
		   size_t len, int *ended)
{
	size_t pos = 0, lines = 0;

	*ended = 0;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t l;

		if (nl == NULL)
			break;		/* an unfinished line: the connection layer waits */
		l = (size_t)(nl - (text + pos));
		lines++;
		if (gg_policy_line(pr, lim, text + pos, l)) {
			*ended = 1;
			break;
		}
		pos += l + 1;
	}
	return lines;
}

static void parse(struct gg_policy_req *pr, const struct gg_policy_limits *lim, const char *text,
		  size_t len)
{
	int ended;

	gg_policy_begin(pr);
	feed(pr, lim, text, len, &ended);
	if (!ended)
		fail_msg("the request did not end at its empty line");
}

#define POSTFIX_REQUEST \
	"request=smtpd_access_policy\n" \
	"protocol_state=RCPT\n" \
	"protocol_name=ESMTP\n" \
	"helo_name=mx.example.org\n" \
	"queue_id=8045F2AB23\n" \
	"sender=alice@example.org\n" \
	"recipient=bob@example.com\n" \
	"recipient_count=0\n" \
	"client_address=192.0.2.7\n" \
	"client_name=mx.example.org\n" \
	"reverse_client_name=mx.example.org\n" \
	"instance=123.456.7\n" \
	"sasl_method=plain\n" \
	"sasl_username=you\n" \
	"sasl_sender=\n" \
	"size=12345\n" \
	"ccert_subject=solaris9.porcupine.org\n" \
	"ccert_issuer=Wietse+20Venema\n" \
	"ccert_fingerprint=C2:9D:F4:87:71:73:73:D9:18:E7:C2:F3:C1:DA:6E:04\n" \
	"ccert_pubkey_fingerprint=68:B3:29:DA:98:93:E3:40:99:C7:D8:AD:5C:B9:C9:40\n" \
	"encryption_protocol=TLSv1.3\n" \
	"encryption_cipher=TLS_AES_256_GCM_SHA384\n" \
	"encryption_keysize=256\n" \
	"etrn_domain=\n" \
	"stress=\n" \
	"policy_context=submission\n" \
	"server_address=10.3.2.1\n" \
	"server_port=54321\n" \
	"compatibility_level=3.6\n" \
	"mail_version=3.7.6\n" \
	"x_attribute_from_the_future=a=b=c\n" \
	"\n"

static void test_full_request(void **state)
{
	static const char text[] = POSTFIX_REQUEST;
	struct gg_policy_req pr;

	(void)state;
	parse(&pr, &deflim, text, sizeof(text) - 1);
	assert_int_equal(pr.error, GG_PE_NONE);
	assert_string_equal(pr.errdetail, "");
	assert_string_equal(pr.req.request, "smtpd_access_policy");
	assert_string_equal(pr.req.protocol_state, "RCPT");
	assert_int_equal(pr.req.stage, GG_STAGE_RCPT);
	assert_string_equal(pr.req.helo_name, "mx.example.org");
	assert_string_equal(pr.req.queue_id, "8045F2AB23");
	assert_string_equal(pr.req.sender, "alice@example.org");
	assert_string_equal(pr.req.recipient, "bob@example.com");
	assert_string_equal(pr.req.client_address, "192.0.2.7");
	assert_string_equal(pr.req.client_name, "mx.example.org");
	assert_string_equal(pr.req.reverse_client_name, "mx.example.org");
	assert_string_equal(pr.req.instance, "123.456.7");
	assert_string_equal(pr.req.sasl_username, "you");
	assert_int_equal(pr.req.truncated, 0);
	assert_int_equal(pr.nattrs, 31);
	assert_int_equal(pr.size, sizeof(text) - 1);
	assert_int_equal(pr.req.seen, (1u << GG_RF_COUNT) - 1);	/* every known field */
}

static void test_two_requests_on_one_stream(void **state)
{
	static const char text[] =
		"request=smtpd_access_policy\nprotocol_state=RCPT\nsender=a@x\n\n"
		"request=smtpd_access_policy\nprotocol_state=DATA\n\n";
	struct gg_policy_req pr;
	int ended;
	size_t n;

	(void)state;
	gg_policy_begin(&pr);
	n = feed(&pr, &deflim, text, sizeof(text) - 1, &ended);
	assert_true(ended);
	assert_string_equal(pr.req.sender, "a@x");
	/* The next request starts clean. */
	gg_policy_begin(&pr);
	{
		const char *rest = text;
		for (size_t i = 0; i < n; i++)
			rest = strchr(rest, '\n') + 1;
		feed(&pr, &deflim, rest, strlen(rest), &ended);
	}
	assert_true(ended);
	assert_string_equal(pr.req.sender, "");
	assert_int_equal(pr.req.stage, GG_STAGE_DATA);
	assert_int_equal(pr.nattrs, 2);
}

static void test_crlf(void **state)
{
	static const char text[] =
		"request=smtpd_access_policy\r\nprotocol_state=RCPT\r\nsender=a@example.org\r\n"
		"recipient=b@example.com\r\nclient_address=192.0.2.1\r\n\r\n";
	struct gg_policy_req pr;

	(void)state;
	parse(&pr, &deflim, text, sizeof(text) - 1);
	assert_int_equal(pr.error, GG_PE_NONE);
	assert_string_equal(pr.req.request, "smtpd_access_policy");
	assert_string_equal(pr.req.sender, "a@example.org");
	assert_string_equal(pr.req.client_address, "192.0.2.1");
	assert_int_equal(pr.req.stage, GG_STAGE_RCPT);
}

static void test_empty_values(void **state)
{
	static const char text[] = "sender=\nrecipient=b@x\nclient_name=\n\n";
	struct gg_policy_req pr;

	(void)state;
	parse(&pr, &deflim, text, sizeof(text) - 1);
	assert_int_equal(pr.error, GG_PE_NONE);
	assert_string_equal(pr.req.sender, "");
	assert_true(pr.req.seen & (1u << GG_RF_SENDER));
}

static void test_empty_request(void **state)
{
	struct gg_policy_req pr;

	(void)state;
	parse(&pr, &deflim, "\n", 1);
	assert_int_equal(pr.error, GG_PE_NONE);
	assert_int_equal(pr.nattrs, 0);
	assert_int_equal(pr.req.seen, 0);
}

/* Problems: each request must still end at its empty line, with the first problem recorded. */

struct err_case {
	const char *label;
	const char *text;
	size_t len;		/* 0: strlen(text) */
	struct gg_policy_limits lim;
	enum gg_policy_error want;
	const char *detail;	/* substring of errdetail, or NULL */
};

#define SMALL { 64, 8, 256 }
#define DEF { 4096, 128, 65536 }

static const struct err_case err_cases[] = {
	{ "missing '='", "request=smtpd_access_policy\nsender\nrecipient=b@x\n\n", 0, DEF,
	  GG_PE_SYNTAX, "sender" },
	{ "empty name", "request=smtpd_access_policy\n=value\n\n", 0, DEF, GG_PE_SYNTAX, "=value" },
	{ "lone '='", "=\n\n", 0, DEF, GG_PE_SYNTAX, NULL },
	{ "control byte", "sender=a\001b@example.org\n\n", 0, DEF, GG_PE_BINARY, "sender=a?b@example.org" },
	{ "escape sequence", "helo_name=\033[2J\n\n", 0, DEF, GG_PE_BINARY, "helo_name=?[2J" },
	{ "NUL byte", "sender=a\0b@example.org\n\n", 24, DEF, GG_PE_BINARY, NULL },
	{ "carriage return inside a line", "sender=a\rb\n\n", 0, DEF, GG_PE_BINARY, NULL },
	{ "client_address too long for its field",
	  "client_address=2001:0db8:0000:0000:0000:0000:0000:0001:2001:0db8:0000:0000:0000:0000\n\n", 0,
	  DEF, GG_PE_VALUE, "client_address=" },
	{ "too many attributes",
	  "a=1\nb=2\nc=3\nd=4\ne=5\nf=6\ng=7\nh=8\ni=9\nj=10\n\n", 0, SMALL, GG_PE_ATTRIBUTES, "i=9" },
	{ "request too large",
	  "a=0123456789012345678901234567890123456789012345678901234567\n"
	  "b=0123456789012345678901234567890123456789012345678901234567\n"
	  "c=0123456789012345678901234567890123456789012345678901234567\n"
	  "d=0123456789012345678901234567890123456789012345678901234567\n"
	  "e=0123456789012345678901234567890123456789012345678901234567\n\n", 0, SMALL,
	  GG_PE_SIZE, "e=" },
	{ "line over max_line",
	  "sender=01234567890123456789012345678901234567890123456789012345678\n\n", 0, SMALL,
	  GG_PE_LINE, "sender=" },
	{ "first problem wins: syntax, then binary",
	  "request=smtpd_access_policy\nbroken\nsender=\001\n\n", 0, DEF, GG_PE_SYNTAX, "broken" },
	{ "first problem wins: binary, then syntax",
	  "sender=\001\nbroken\n\n", 0, DEF, GG_PE_BINARY, NULL },
	{ "first problem wins: line, then attributes",
	  "x=01234567890123456789012345678901234567890123456789012345678901234\n"
	  "a=1\nb=2\nc=3\nd=4\ne=5\nf=6\ng=7\nh=8\n\n", 0, SMALL, GG_PE_LINE, "x=" },
	{ "errdetail is sanitised and cut",
	  "\001aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n\n",
	  0, DEF, GG_PE_BINARY, "?aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa..." },
};

static void test_error(void **state)
{
	const struct err_case *c = *state;
	struct gg_policy_req pr;
	size_t len = c->len ? c->len : strlen(c->text);
	size_t lines = 0;
	int ended;

	for (size_t i = 0; i < len; i++)
		lines += c->text[i] == '\n';
	gg_policy_begin(&pr);
	/* Every line is consumed: the request ends at the empty line, not before. */
	assert_int_equal(feed(&pr, &c->lim, c->text, len, &ended), lines);
	assert_true(ended);
	if (pr.error != c->want)
		fail_msg("error %s, expected %s", gg_policy_error_str(pr.error),
			 gg_policy_error_str(c->want));
	if (c->detail != NULL)
		tu_assert_contains(pr.errdetail, c->detail);
	for (const char *p = pr.errdetail; *p; p++)
		assert_true(*p >= 0x20 && *p < 0x7f);
	assert_true(strlen(pr.errdetail) <= 63);
}

/* Limits: exactly at the limit is fine, one over is not. */

static void test_limit_attributes(void **state)
{
	struct gg_policy_limits lim = SMALL;
	struct gg_policy_req pr;

	(void)state;
	{
		static const char t8[] = "a=1\nb=2\nc=3\nd=4\ne=5\nf=6\ng=7\nh=8\n\n";
		parse(&pr, &lim, t8, sizeof(t8) - 1);
	}
	assert_int_equal(pr.error, GG_PE_NONE);
	assert_int_equal(pr.nattrs, 8);
	{
		static const char t9[] = "a=1\nb=2\nc=3\nd=4\ne=5\nf=6\ng=7\nh=8\ni=9\n\n";
		parse(&pr, &lim, t9, sizeof(t9) - 1);
	}
	assert_int_equal(pr.error, GG_PE_ATTRIBUTES);
}

static void test_limit_line(void **state)
{
	struct gg_policy_limits lim = SMALL;
	struct gg_policy_req pr;
	char line[80];

	(void)state;
	memset(line, 'x', sizeof(line));
	memcpy(line, "sender=", 7);
	line[64] = '\n';
	line[65] = '\n';
	parse(&pr, &lim, line, 66);		/* 64 bytes */
	assert_int_equal(pr.error, GG_PE_NONE);
	assert_int_equal(strlen(pr.req.sender), 64 - 7);
	line[64] = 'x';
	line[65] = '\n';
	line[66] = '\n';
	parse(&pr, &lim, line, 67);		/* 65 bytes */
	assert_int_equal(pr.error, GG_PE_LINE);
	/* 64 bytes plus a CR are still 64 bytes of line. */
	line[64] = '\r';
	line[65] = '\n';
	line[66] = '\n';
	parse(&pr, &lim, line, 67);
	assert_int_equal(pr.error, GG_PE_NONE);
}

static void test_limit_size(void **state)
{
	struct gg_policy_limits lim = { 4096, 128, 256 };
	struct gg_policy_req pr;
	char text[600];
	size_t pos = 0;

	(void)state;
	/* 8 lines of 31 bytes + '\n' = 256 bytes exactly, then the empty line. */
	for (int i = 0; i < 8; i++) {
		memcpy(text + pos, "x_attribute=0123456789012345678", 31);
		pos += 31;
		text[pos++] = '\n';
	}
	text[pos++] = '\n';
	parse(&pr, &lim, text, pos);
	assert_int_equal(pr.error, GG_PE_NONE);
	/* One byte more is over. */
	memmove(text + 1, text, pos);
	text[0] = 'y';
	parse(&pr, &lim, text, pos + 1);
	assert_int_equal(pr.error, GG_PE_SIZE);
}

static void test_overlong_reported(void **state)
{
	struct gg_policy_req pr;
	int ended;

	(void)state;
	gg_policy_begin(&pr);
	assert_int_equal(gg_policy_line(&pr, &deflim, "request=smtpd_access_policy", 27), 0);
	gg_policy_overlong(&pr, 100000);	/* the framing layer dropped a line */
	assert_int_equal(pr.error, GG_PE_LINE);
	tu_assert_contains(pr.errdetail, "line discarded");
	/* Reading goes on to the end of the request, and the first error stays. */
	feed(&pr, &deflim, "sender\nsender=a@b\n\n", 19, &ended);
	assert_true(ended);
	assert_int_equal(pr.error, GG_PE_LINE);
}

static void test_after_size_error_lines_are_skipped(void **state)
{
	struct gg_policy_limits lim = { 4096, 128, 256 };
	struct gg_policy_req pr;
	char text[1024];
	size_t pos = 0;

	(void)state;
	for (int i = 0; i < 10; i++)
		pos += (size_t)sprintf(text + pos, "x_attribute=%038d\n", i);
	pos += (size_t)sprintf(text + pos, "sender=late@example.org\n\n");
	parse(&pr, &lim, text, pos);
	assert_int_equal(pr.error, GG_PE_SIZE);
	assert_string_equal(pr.req.sender, "");		/* not parsed after the refusal */
}

static void test_long_values_truncated_not_refused(void **state)
{
	/* Over-long sender/recipient/helo values are cut and flagged, not errors. */
	struct gg_policy_req pr;
	char text[2048];
	size_t pos = 0;

	(void)state;
	pos += (size_t)sprintf(text + pos, "sender=");
	memset(text + pos, 's', 400);
	pos += 400;
	pos += (size_t)sprintf(text + pos, "@example.org\nhelo_name=");
	memset(text + pos, 'h', 300);
	pos += 300;
	pos += (size_t)sprintf(text + pos, "\nrecipient=b@example.com\n\n");
	parse(&pr, &deflim, text, pos);
	assert_int_equal(pr.error, GG_PE_NONE);
	assert_true(pr.req.truncated & (1u << GG_RF_SENDER));
	assert_true(pr.req.truncated & (1u << GG_RF_HELO_NAME));
	assert_false(pr.req.truncated & (1u << GG_RF_RECIPIENT));
	assert_int_equal(strlen(pr.req.sender), sizeof(pr.req.sender) - 1);
}

static void test_names_are_exact(void **state)
{
	/* Prefixes and case variants of known names are unknown attributes. */
	static const char text[] = "send=x\nsenders=y\nSender=z\nsender =w\n\n";
	struct gg_policy_req pr;

	(void)state;
	parse(&pr, &deflim, text, sizeof(text) - 1);
	assert_int_equal(pr.error, GG_PE_NONE);
	assert_string_equal(pr.req.sender, "");
	assert_int_equal(pr.req.seen, 0);
}

static void test_tab_allowed(void **state)
{
	static const char text[] = "helo_name=a\tb\n\n";
	struct gg_policy_req pr;

	(void)state;
	parse(&pr, &deflim, text, sizeof(text) - 1);
	assert_int_equal(pr.error, GG_PE_NONE);
	assert_string_equal(pr.req.helo_name, "a\tb");
}

static void test_error_strings(void **state)
{
	static const enum gg_policy_error all[] = { GG_PE_NONE, GG_PE_SYNTAX, GG_PE_BINARY, GG_PE_LINE,
		GG_PE_ATTRIBUTES, GG_PE_SIZE, GG_PE_VALUE };

	(void)state;
	for (size_t i = 0; i < GG_ARRAY_LEN(all); i++) {
		assert_string_not_equal(gg_policy_error_str(all[i]), "unknown error");
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(gg_policy_error_str(all[i]), gg_policy_error_str(all[j]));
	}
	assert_string_equal(gg_policy_error_str((enum gg_policy_error)77), "unknown error");
}

int main(void)
{
	struct tu_suite s = { 0 };

	tu_add(&s, test_full_request, NULL, "a full Postfix 3.x request with unknown attributes");
	tu_add(&s, test_two_requests_on_one_stream, NULL, "two requests on one stream");
	tu_add(&s, test_crlf, NULL, "CRLF line ends are tolerated");
	tu_add(&s, test_empty_values, NULL, "empty values (null sender)");
	tu_add(&s, test_empty_request, NULL, "a request with no attributes");
	for (size_t i = 0; i < GG_ARRAY_LEN(err_cases); i++)
		tu_add(&s, test_error, &err_cases[i], "refused: %s", err_cases[i].label);
	tu_add(&s, test_limit_attributes, NULL, "limit: max_attributes exactly, and one more");
	tu_add(&s, test_limit_line, NULL, "limit: max_line exactly, one more, and a CR");
	tu_add(&s, test_limit_size, NULL, "limit: max_request exactly, and one byte more");
	tu_add(&s, test_overlong_reported, NULL, "limit: an over-long line dropped by the framing layer");
	tu_add(&s, test_after_size_error_lines_are_skipped, NULL,
	       "limit: after a size error the rest is only framed");
	tu_add(&s, test_long_values_truncated_not_refused, NULL,
	       "long sender and helo values are cut and flagged, not refused");
	tu_add(&s, test_names_are_exact, NULL, "attribute names match exactly");
	tu_add(&s, test_tab_allowed, NULL, "a tab inside a value is allowed");
	tu_add(&s, test_error_strings, NULL, "error strings");
	return tu_run(&s, "t_policy_proto");
}

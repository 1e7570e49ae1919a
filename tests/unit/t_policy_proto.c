/*
 * t_policy_proto.c - unit tests for policyd/policy_proto.c: Postfix policy
 * delegation requests, every limit exceeded, and error recovery (a bad
 * request is read to its empty line and its first problem is reported);
 * the pool of input buffers and request structs (growth up to the cap,
 * return when empty, the pool's bound, a stream framed through a buffer)
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

/*
 * The attribute scanner against a plain model: ref_line() is the parser as
 * it was before it scanned eight bytes at a time and looked names up with a
 * switch (a byte loop, then a linear compare against the table), and every
 * case below must leave the same request, error and detail in both.
 */

static const struct { const char *name; enum gg_req_field field; size_t size; } known[] = {
	{ "request", GG_RF_REQUEST, sizeof(((struct gg_request *)0)->request) },
	{ "protocol_state", GG_RF_PROTOCOL_STATE, sizeof(((struct gg_request *)0)->protocol_state) },
	{ "client_address", GG_RF_CLIENT_ADDRESS, sizeof(((struct gg_request *)0)->client_address) },
	{ "client_name", GG_RF_CLIENT_NAME, sizeof(((struct gg_request *)0)->client_name) },
	{ "reverse_client_name", GG_RF_REVERSE_CLIENT_NAME,
	  sizeof(((struct gg_request *)0)->reverse_client_name) },
	{ "helo_name", GG_RF_HELO_NAME, sizeof(((struct gg_request *)0)->helo_name) },
	{ "sender", GG_RF_SENDER, sizeof(((struct gg_request *)0)->sender) },
	{ "recipient", GG_RF_RECIPIENT, sizeof(((struct gg_request *)0)->recipient) },
	{ "instance", GG_RF_INSTANCE, sizeof(((struct gg_request *)0)->instance) },
	{ "queue_id", GG_RF_QUEUE_ID, sizeof(((struct gg_request *)0)->queue_id) },
	{ "sasl_username", GG_RF_SASL_USERNAME, sizeof(((struct gg_request *)0)->sasl_username) },
};

static void ref_fail(struct gg_policy_req *pr, enum gg_policy_error e, const char *what, size_t len)
{
	if (pr->error != GG_PE_NONE)
		return;
	pr->error = e;
	gg_sanitize(pr->errdetail, sizeof(pr->errdetail), what, len, 60);
}

static int ref_line(struct gg_policy_req *pr, const struct gg_policy_limits *lim,
		    const char *line, size_t len)
{
	const char *eq;
	size_t nlen;

	pr->size += len + 1;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0)
		return 1;
	if (pr->error == GG_PE_SIZE || pr->error == GG_PE_ATTRIBUTES)
		return 0;
	if (pr->size > lim->max_request) {
		ref_fail(pr, GG_PE_SIZE, line, len);
		return 0;
	}
	if (++pr->nattrs > lim->max_attributes) {
		ref_fail(pr, GG_PE_ATTRIBUTES, line, len);
		return 0;
	}
	if (len > lim->max_line) {
		ref_fail(pr, GG_PE_LINE, line, len);
		return 0;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			ref_fail(pr, GG_PE_BINARY, line, len);
			return 0;
		}
	}
	if ((eq = memchr(line, '=', len)) == NULL || eq == line) {
		ref_fail(pr, GG_PE_SYNTAX, line, len);
		return 0;
	}
	nlen = (size_t)(eq - line);
	for (size_t i = 0; i < GG_ARRAY_LEN(known); i++) {
		if (strlen(known[i].name) != nlen || memcmp(known[i].name, line, nlen) != 0)
			continue;
		enum gg_status st = gg_request_set(&pr->req, known[i].field, eq + 1, len - nlen - 1);
		if (st == GG_EINVAL || (st != GG_OK && known[i].field == GG_RF_CLIENT_ADDRESS))
			ref_fail(pr, GG_PE_VALUE, line, len);
		break;
	}
	return 0;
}

/* field_of - a request's field by its enum (the test's own map) */
static const char *field_of(const struct gg_request *r, enum gg_req_field f)
{
	switch (f) {
	case GG_RF_CLIENT_ADDRESS:	return r->client_address;
	case GG_RF_CLIENT_NAME:		return r->client_name;
	case GG_RF_REVERSE_CLIENT_NAME:	return r->reverse_client_name;
	case GG_RF_HELO_NAME:		return r->helo_name;
	case GG_RF_SENDER:		return r->sender;
	case GG_RF_RECIPIENT:		return r->recipient;
	case GG_RF_INSTANCE:		return r->instance;
	case GG_RF_QUEUE_ID:		return r->queue_id;
	case GG_RF_SASL_USERNAME:	return r->sasl_username;
	case GG_RF_PROTOCOL_STATE:	return r->protocol_state;
	case GG_RF_REQUEST:		return r->request;
	default:			return NULL;
	}
}

/*
 * same_as_ref - feed lines (n of them, with lengths) to the parser and to
 * the model; fail with label unless both end alike in every observable way
 */
static void same_as_ref(const char *label, const struct gg_policy_limits *lim,
			const char *const *lines, const size_t *lens, size_t n)
{
	struct gg_policy_req a, b;

	gg_policy_begin(&a);
	gg_policy_begin(&b);
	for (size_t i = 0; i < n; i++) {
		int ea = gg_policy_line(&a, lim, lines[i], lens[i]);
		int eb = ref_line(&b, lim, lines[i], lens[i]);
		if (ea != eb)
			fail_msg("%s: line %zu: end of request %d, model %d", label, i, ea, eb);
	}
	if (a.error != b.error || strcmp(a.errdetail, b.errdetail) != 0)
		fail_msg("%s: error %s '%s', model %s '%s'", label, gg_policy_error_str(a.error),
			 a.errdetail, gg_policy_error_str(b.error), b.errdetail);
	if (a.nattrs != b.nattrs || a.size != b.size)
		fail_msg("%s: %zu attributes %zu bytes, model %zu %zu", label, a.nattrs, a.size,
			 b.nattrs, b.size);
	if (a.req.seen != b.req.seen || a.req.truncated != b.req.truncated ||
	    a.req.stage != b.req.stage)
		fail_msg("%s: seen %#x truncated %#x stage %d, model %#x %#x %d", label, a.req.seen,
			 a.req.truncated, (int)a.req.stage, b.req.seen, b.req.truncated,
			 (int)b.req.stage);
	for (int f = 0; f < GG_RF_COUNT; f++)
		if (strcmp(field_of(&a.req, (enum gg_req_field)f),
			   field_of(&b.req, (enum gg_req_field)f)) != 0)
			fail_msg("%s: field %d '%s', model '%s'", label, f,
				 field_of(&a.req, (enum gg_req_field)f),
				 field_of(&b.req, (enum gg_req_field)f));
}

/* one_as_ref - a single line, alone in its request */
static void one_as_ref(const char *label, const struct gg_policy_limits *lim, const char *line,
		       size_t len)
{
	const char *lines[] = { line };
	size_t lens[] = { len };

	same_as_ref(label, lim, lines, lens, 1);
}

static void test_every_byte_everywhere(void **state)
{
	/*
	 * Each byte value at each offset of lines of 1 to 40 bytes (every
	 * alignment of the 8-byte scan and of its tail), in the name and in
	 * the value of a known and of an unknown attribute.
	 */
	static const char *const bases[] = {
		"sender=alice@example.org.example.org.example.org",
		"x_unknown_attribute=some value of some length here",
		"client_address=192.0.2.7 2001:db8::1 and more bytes",
	};
	char line[64], label[96];

	(void)state;
	for (size_t k = 0; k < GG_ARRAY_LEN(bases); k++)
		for (size_t len = 1; len <= 40; len++)
			for (size_t pos = 0; pos < len; pos++)
				for (int c = 0; c < 256; c++) {
					memcpy(line, bases[k], len);
					line[pos] = (char)c;
					snprintf(label, sizeof(label), "base %zu len %zu byte %#x at %zu",
						 k, len, c, pos);
					one_as_ref(label, &deflim, line, len);
				}
}

static void test_bad_byte_results(void **state)
{
	/* Not only the same as the model: exactly the bytes below 0x20 but tab, and DEL. */
	char line[32];
	struct gg_policy_req pr;

	(void)state;
	for (int c = 0; c < 256; c++) {
		int bad = (c < 0x20 && c != '\t') || c == 0x7f;
		for (size_t pos = 7; pos < 24; pos++) {
			memcpy(line, "sender=abcdefghijklmnopqrstuv", 24);
			line[pos] = (char)c;
			gg_policy_begin(&pr);
			/* A CR at the very end is the line end's, not the line's. */
			(void)gg_policy_line(&pr, &deflim, line, 24);
			if (c == '\r' && pos == 23)
				assert_int_equal(pr.error, GG_PE_NONE);
			else if (pr.error != (bad ? GG_PE_BINARY : GG_PE_NONE))
				fail_msg("byte %#x at %zu: %s", c, pos, gg_policy_error_str(pr.error));
		}
	}
}

static void test_names_one_char_off(void **state)
{
	/*
	 * Every known name with one byte replaced by every other value, one
	 * byte cut from either end, and one byte added at either end: all
	 * unknown (so nothing set), and the same as the model.
	 */
	char line[64], label[96];
	struct gg_policy_req pr;

	(void)state;
	for (size_t k = 0; k < GG_ARRAY_LEN(known); k++) {
		const char *name = known[k].name;
		size_t nl = strlen(name);

		for (size_t pos = 0; pos < nl; pos++)
			for (int c = 0x20; c < 256; c++) {
				if (c == (unsigned char)name[pos] || c == 0x7f || c == '=')
					continue;
				memcpy(line, name, nl);
				line[pos] = (char)c;
				memcpy(line + nl, "=v", 2);
				snprintf(label, sizeof(label), "%s with %#x at %zu", name, c, pos);
				one_as_ref(label, &deflim, line, nl + 2);
				gg_policy_begin(&pr);
				(void)gg_policy_line(&pr, &deflim, line, nl + 2);
				if (pr.req.seen != 0 || pr.error != GG_PE_NONE)
					fail_msg("%s: taken as known", label);
			}
		for (int cut = 0; cut < 2; cut++) {
			size_t l = (size_t)sprintf(line, "%.*s=v", (int)(nl - 1), name + (cut ? 1 : 0));
			one_as_ref(name, &deflim, line, l);
			gg_policy_begin(&pr);
			(void)gg_policy_line(&pr, &deflim, line, l);
			assert_int_equal(pr.req.seen, 0);
		}
		for (int add = 0; add < 2; add++) {
			size_t l = (size_t)sprintf(line, add ? "%sx=v" : "x%s=v", name);
			one_as_ref(name, &deflim, line, l);
			gg_policy_begin(&pr);
			(void)gg_policy_line(&pr, &deflim, line, l);
			assert_int_equal(pr.req.seen, 0);
		}
		/* And the name itself is known. */
		{
			size_t l = (size_t)sprintf(line, "%s=v", name);
			gg_policy_begin(&pr);
			(void)gg_policy_line(&pr, &deflim, line, l);
			assert_int_equal(pr.req.seen, 1u << known[k].field);
			assert_string_equal(field_of(&pr.req, known[k].field), "v");
		}
	}
}

static void test_duplicates_last_wins(void **state)
{
	static const char *const lines[] = {
		"sender=first@example.org", "sender=second@example.org", "helo_name=a",
		"helo_name=", "protocol_state=RCPT", "protocol_state=DATA", "queue_id=Q1",
		"queue_id=Q2", "sender=third@example.org",
	};
	size_t lens[GG_ARRAY_LEN(lines)];
	struct gg_policy_req pr;

	(void)state;
	gg_policy_begin(&pr);
	for (size_t i = 0; i < GG_ARRAY_LEN(lines); i++) {
		lens[i] = strlen(lines[i]);
		assert_int_equal(gg_policy_line(&pr, &deflim, lines[i], lens[i]), 0);
	}
	assert_int_equal(pr.error, GG_PE_NONE);
	assert_string_equal(pr.req.sender, "third@example.org");
	assert_string_equal(pr.req.helo_name, "");
	assert_true(pr.req.seen & (1u << GG_RF_HELO_NAME));
	assert_int_equal(pr.req.stage, GG_STAGE_DATA);
	assert_string_equal(pr.req.queue_id, "Q2");
	assert_int_equal(pr.nattrs, GG_ARRAY_LEN(lines));
	same_as_ref("duplicates", &deflim, lines, lens, GG_ARRAY_LEN(lines));
}

static void test_empty_value_every_known(void **state)
{
	char line[64];
	struct gg_policy_req pr;

	(void)state;
	for (size_t k = 0; k < GG_ARRAY_LEN(known); k++) {
		size_t l = (size_t)sprintf(line, "%s=", known[k].name);
		gg_policy_begin(&pr);
		(void)gg_policy_line(&pr, &deflim, line, l);
		assert_int_equal(pr.error, GG_PE_NONE);
		assert_int_equal(pr.req.seen, 1u << known[k].field);
		assert_string_equal(field_of(&pr.req, known[k].field), "");
		one_as_ref(known[k].name, &deflim, line, l);
	}
}

static void test_field_sizes_exactly(void **state)
{
	/* A value of the field's size - 1 fits; one byte more is cut (client_address: refused). */
	char line[1200];
	struct gg_policy_req pr;

	(void)state;
	for (size_t k = 0; k < GG_ARRAY_LEN(known); k++) {
		size_t nl = (size_t)sprintf(line, "%s=", known[k].name);
		for (size_t vl = known[k].size - 2; vl <= known[k].size + 1; vl++) {
			int over = vl >= known[k].size;
			memset(line + nl, 'v', vl);
			gg_policy_begin(&pr);
			(void)gg_policy_line(&pr, &deflim, line, nl + vl);
			if (known[k].field == GG_RF_CLIENT_ADDRESS)
				assert_int_equal(pr.error, over ? GG_PE_VALUE : GG_PE_NONE);
			else
				assert_int_equal(pr.error, GG_PE_NONE);
			assert_int_equal(!!(pr.req.truncated & (1u << known[k].field)), over);
			assert_int_equal(strlen(field_of(&pr.req, known[k].field)),
					 over ? known[k].size - 1 : vl);
			one_as_ref(known[k].name, &deflim, line, nl + vl);
		}
	}
}

static void test_limits_like_ref(void **state)
{
	/*
	 * max_line of every length from 1 to 40 (each alignment of the scan),
	 * lines exactly at it and one past, with and without a CR, with a bad
	 * byte last; max_attributes and max_request exactly and one past.
	 */
	char line[64], label[96];

	(void)state;
	for (size_t max = 1; max <= 40; max++) {
		struct gg_policy_limits lim = { max, 128, 65536 };
		for (size_t len = max - 1 + (max == 1); len <= max + 1; len++)
			for (int v = 0; v < 3; v++) {
				memset(line, 'a', sizeof(line));
				line[0] = 's';
				if (len > 1)
					line[len / 2] = '=';
				if (v == 1)
					line[len - 1] = '\r';
				if (v == 2)
					line[len - 1] = '\001';
				snprintf(label, sizeof(label), "max_line %zu len %zu variant %d", max, len, v);
				one_as_ref(label, &lim, line, len);
			}
	}
	{
		static const char *const lines[] = { "a=1", "sender=x", "c=3", "recipient=y", "e=5", "" };
		size_t lens[GG_ARRAY_LEN(lines)];

		for (size_t i = 0; i < GG_ARRAY_LEN(lines); i++)
			lens[i] = strlen(lines[i]);
		for (size_t maxa = 3; maxa <= 6; maxa++) {
			struct gg_policy_limits lim = { 64, maxa, 65536 };
			snprintf(label, sizeof(label), "max_attributes %zu", maxa);
			same_as_ref(label, &lim, lines, lens, GG_ARRAY_LEN(lines));
		}
		for (size_t maxr = 30; maxr <= 45; maxr++) {
			struct gg_policy_limits lim = { 64, 128, maxr };
			snprintf(label, sizeof(label), "max_request %zu", maxr);
			same_as_ref(label, &lim, lines, lens, GG_ARRAY_LEN(lines));
		}
	}
}

static void test_postfix_request_like_ref(void **state)
{
	/* The whole Postfix request, line by line, in plain LF and in CRLF. */
	static const char text[] = POSTFIX_REQUEST;
	const char *lines[64];
	size_t lens[64], n = 0;
	char crlf[sizeof(text) * 2];
	const char *p = text;

	(void)state;
	while (*p) {
		const char *nl = strchr(p, '\n');
		lines[n] = p;
		lens[n++] = (size_t)(nl - p);
		p = nl + 1;
	}
	same_as_ref("Postfix request", &deflim, lines, lens, n);
	{
		char *q = crlf;
		for (size_t i = 0; i < n; i++) {
			memcpy(q, lines[i], lens[i]);
			q[lens[i]] = '\r';
			lines[i] = q;
			lens[i]++;
			q += lens[i];
		}
	}
	same_as_ref("Postfix request, CRLF", &deflim, lines, lens, n);
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

/* fill - write a pattern into the room a buffer offers */
static void fill(struct gg_policy_inbuf *b, char *at, size_t room)
{
	for (size_t i = 0; i < room; i++)
		at[i] = (char)('a' + (b->len + i) % 26);
	b->len += room;
}

static void check_pattern(const struct gg_policy_inbuf *b, size_t from)
{
	for (size_t i = 0; i < b->len; i++)
		if (b->data[i] != (char)('a' + (from + i) % 26))
			fail_msg("byte %zu is '%c'", i, b->data[i]);
}

static void test_inbuf_grows(void **state)
{
	struct gg_policy_pool pool;
	struct gg_policy_inbuf b = { 0 };
	const size_t max = 4096 + 2;
	static const size_t caps[] = { GG_POLICY_INBUF_MIN, 2 * GG_POLICY_INBUF_MIN, 4098 };
	char *at;
	size_t room;

	(void)state;
	gg_policy_pool_init(&pool);
	for (size_t i = 0; i < GG_ARRAY_LEN(caps); i++) {
		assert_int_equal(gg_policy_inbuf_room(&pool, &b, max, &at, &room), GG_OK);
		assert_int_equal(b.cap, caps[i]);
		assert_ptr_equal(at, b.data + b.len);
		assert_int_equal(room, b.cap - b.len);
		assert_int_equal(pool.bufs_used, 1);
		assert_int_equal(pool.buf_bytes, b.cap);
		fill(&b, at, room);
		check_pattern(&b, 0);	/* what was buffered survives the growth */
	}
	/* Full at the cap: the framing layer should have drained the line. */
	assert_int_equal(gg_policy_inbuf_room(&pool, &b, max, &at, &room), GG_EINVAL);
	assert_int_equal(b.len, 4098);
	gg_policy_inbuf_release(&pool, &b);
	assert_null(b.data);
	assert_int_equal(pool.bufs_used, 0);
	assert_int_equal(pool.buf_bytes, 0);
	assert_int_equal(pool.nbufs, 0);	/* a grown buffer is freed, not kept */
	gg_policy_pool_free(&pool);
}

static void test_inbuf_small_cap(void **state)
{
	struct gg_policy_pool pool;
	struct gg_policy_inbuf b = { 0 };
	char *at;
	size_t room;

	(void)state;
	gg_policy_pool_init(&pool);
	/* A line limit below the first size: the first size is the cap. */
	assert_int_equal(gg_policy_inbuf_room(&pool, &b, 100, &at, &room), GG_OK);
	assert_int_equal(room, GG_POLICY_INBUF_MIN);
	fill(&b, at, room);
	assert_int_equal(gg_policy_inbuf_room(&pool, &b, 100, &at, &room), GG_EINVAL);
	/* A limit raised by a reload lets the same buffer grow. */
	assert_int_equal(gg_policy_inbuf_room(&pool, &b, 3000, &at, &room), GG_OK);
	assert_int_equal(b.cap, 3000);
	assert_int_equal(room, 3000 - GG_POLICY_INBUF_MIN);
	gg_policy_inbuf_release(&pool, &b);
	gg_policy_pool_free(&pool);
}

static void test_inbuf_consume(void **state)
{
	struct gg_policy_pool pool;
	struct gg_policy_inbuf b = { 0 };
	char *at, *first;
	size_t room;

	(void)state;
	gg_policy_pool_init(&pool);
	assert_int_equal(gg_policy_inbuf_room(&pool, &b, 4098, &at, &room), GG_OK);
	first = b.data;
	fill(&b, at, 100);
	gg_policy_inbuf_consume(&pool, &b, 0);		/* nothing framed: all kept */
	assert_int_equal(b.len, 100);
	gg_policy_inbuf_consume(&pool, &b, 30);		/* the rest moves to the front */
	assert_int_equal(b.len, 70);
	check_pattern(&b, 30);
	assert_int_equal(pool.bufs_used, 1);
	gg_policy_inbuf_consume(&pool, &b, 70);		/* empty: back to the pool */
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	assert_int_equal(pool.bufs_used, 0);
	assert_int_equal(pool.buf_bytes, 0);
	assert_int_equal(pool.nbufs, 1);
	/* The next reader gets the same memory back, with nothing in it. */
	assert_int_equal(gg_policy_inbuf_room(&pool, &b, 4098, &at, &room), GG_OK);
	assert_ptr_equal(b.data, first);
	assert_int_equal(room, GG_POLICY_INBUF_MIN);
	assert_int_equal(pool.nbufs, 0);
	/* A read that found nothing (EAGAIN) gives the empty buffer back at once. */
	gg_policy_inbuf_consume(&pool, &b, 0);
	assert_null(b.data);
	assert_int_equal(pool.nbufs, 1);
	gg_policy_inbuf_release(&pool, &b);		/* none held: nothing happens */
	assert_int_equal(pool.nbufs, 1);
	gg_policy_pool_free(&pool);
	assert_int_equal(pool.nbufs, 0);
}

static void test_pool_bounded(void **state)
{
	struct gg_policy_pool pool;
	struct gg_policy_inbuf b[GG_POLICY_POOL_MAX + 5];
	struct gg_policy_req *pr[GG_POLICY_POOL_MAX + 5];
	char *at;
	size_t room;

	(void)state;
	memset(b, 0, sizeof(b));
	gg_policy_pool_init(&pool);
	for (size_t i = 0; i < GG_ARRAY_LEN(b); i++) {
		assert_int_equal(gg_policy_inbuf_room(&pool, &b[i], 4098, &at, &room), GG_OK);
		assert_non_null(pr[i] = gg_policy_req_take(&pool));
	}
	assert_int_equal(pool.bufs_used, GG_ARRAY_LEN(b));
	assert_int_equal(pool.buf_bytes, GG_ARRAY_LEN(b) * GG_POLICY_INBUF_MIN);
	assert_int_equal(pool.reqs_used, GG_ARRAY_LEN(pr));
	for (size_t i = 0; i < GG_ARRAY_LEN(b); i++) {
		gg_policy_inbuf_release(&pool, &b[i]);
		gg_policy_req_give(&pool, pr[i]);
	}
	/* At most GG_POLICY_POOL_MAX of each are kept; the rest were freed. */
	assert_int_equal(pool.nbufs, GG_POLICY_POOL_MAX);
	assert_int_equal(pool.nreqs, GG_POLICY_POOL_MAX);
	assert_int_equal(pool.bufs_used, 0);
	assert_int_equal(pool.reqs_used, 0);
	gg_policy_req_give(&pool, NULL);
	assert_int_equal(pool.reqs_used, 0);
	gg_policy_pool_free(&pool);	/* the leak checker sees the rest go */
}

static void test_req_reused_clean(void **state)
{
	struct gg_policy_pool pool;
	struct gg_policy_req *pr, *again;
	int ended;

	(void)state;
	gg_policy_pool_init(&pool);
	pr = gg_policy_req_take(&pool);
	assert_non_null(pr);
	feed(pr, &deflim, "client_address=192.0.2.1\nno equals sign\n", 41, &ended);
	assert_int_equal(pr->error, GG_PE_SYNTAX);
	assert_int_equal(pr->nattrs, 2);
	gg_policy_req_give(&pool, pr);
	again = gg_policy_req_take(&pool);
	assert_ptr_equal(again, pr);
	/* Taken is begun: nothing of the last request is left. */
	assert_int_equal(again->error, GG_PE_NONE);
	assert_int_equal(again->nattrs, 0);
	assert_int_equal(again->size, 0);
	assert_string_equal(again->req.client_address, "");
	assert_string_equal(again->errdetail, "");
	assert_int_equal(pool.reqs_used, 1);
	gg_policy_req_give(&pool, again);
	gg_policy_pool_free(&pool);
}

/*
 * test_stream_through_buffer - the connection layer's use, in miniature:
 * a stream with a line of exactly max_line bytes and an over-long one
 * arrives in chunks of 1 to 3997 bytes; lines are framed
 * out of the buffer as conn.c does.  Every request ends where it should,
 * the buffer never exceeds its cap, and it is given back whenever empty.
 */
static void test_stream_through_buffer(void **state)
{
	const struct gg_policy_limits lim = { 3000, 128, 65536 };
	const size_t cap = lim.max_line + 2;
	char stream[16384], v[4000];
	size_t slen = 0;
	static const enum gg_policy_error want[] = { GG_PE_NONE, GG_PE_NONE, GG_PE_LINE, GG_PE_NONE };

	(void)state;
	memset(v, 'v', sizeof(v));
	slen += (size_t)snprintf(stream + slen, sizeof(stream) - slen, "%s", POSTFIX_REQUEST);
	/* "x=" and 2998 bytes: max_line exactly, and a CR (the buffer's cap with its LF). */
	slen += (size_t)snprintf(stream + slen, sizeof(stream) - slen,
				 "client_address=192.0.2.9\nx=%.*s\r\n\n", 2998, v);
	slen += (size_t)snprintf(stream + slen, sizeof(stream) - slen,
				 "client_address=192.0.2.9\nx=%.*s\n\n", 4000, v);
	slen += (size_t)snprintf(stream + slen, sizeof(stream) - slen, "%s", POSTFIX_REQUEST);
	for (size_t chunk = 1; chunk < 4000; chunk += 37) {
		struct gg_policy_pool pool;
		struct gg_policy_inbuf b = { 0 };
		struct gg_policy_req pr;
		size_t pos = 0, nreq = 0, discarded = 0;
		int discarding = 0;

		gg_policy_pool_init(&pool);
		gg_policy_begin(&pr);
		while (pos < slen) {
			char *at, *p, *end, *nl;
			size_t room, n;

			assert_int_equal(gg_policy_inbuf_room(&pool, &b, cap, &at, &room), GG_OK);
			assert_true(b.cap <= cap);
			n = slen - pos < chunk ? slen - pos : chunk;
			n = n < room ? n : room;
			memcpy(at, stream + pos, n);
			pos += n;
			b.len += n;
			for (p = b.data, end = b.data + b.len; p < end; p = nl + 1) {
				if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL) {
					if (discarding || (size_t)(end - p) > lim.max_line + 1) {
						discarding = 1;
						discarded += (size_t)(end - p);
						p = end;
					}
					break;
				}
				if (discarding) {
					gg_policy_overlong(&pr, discarded + (size_t)(nl + 1 - p));
					discarding = 0;
					discarded = 0;
				} else if ((size_t)(nl - p) > lim.max_line + 1) {
					gg_policy_overlong(&pr, (size_t)(nl + 1 - p));
				} else if (gg_policy_line(&pr, &lim, p, (size_t)(nl - p))) {
					assert_true(nreq < GG_ARRAY_LEN(want));
					if (pr.error != want[nreq])
						fail_msg("chunk %zu: request %zu: %s", chunk, nreq,
							 gg_policy_error_str(pr.error));
					nreq++;
					gg_policy_begin(&pr);
				}
			}
			gg_policy_inbuf_consume(&pool, &b, (size_t)(p - b.data));
			assert_true(b.data == NULL || b.len > 0);
		}
		if (nreq != GG_ARRAY_LEN(want))
			fail_msg("chunk %zu: %zu requests ended", chunk, nreq);
		assert_null(b.data);
		assert_int_equal(pool.bufs_used, 0);
		gg_policy_pool_free(&pool);
	}
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
	tu_add(&s, test_every_byte_everywhere, NULL,
	       "scanner: every byte value at every offset of lines of 1 to 40 bytes, as the model");
	tu_add(&s, test_bad_byte_results, NULL, "scanner: exactly control bytes but tab, and DEL, refused");
	tu_add(&s, test_names_one_char_off, NULL,
	       "names: one byte changed, cut or added is unknown, as the model");
	tu_add(&s, test_duplicates_last_wins, NULL, "names: a repeated attribute, the last one counts");
	tu_add(&s, test_empty_value_every_known, NULL, "names: an empty value for every known attribute");
	tu_add(&s, test_field_sizes_exactly, NULL,
	       "limit: every field's size exactly, and one byte more, as the model");
	tu_add(&s, test_limits_like_ref, NULL,
	       "limit: max_line 1 to 40, max_attributes and max_request at and past, as the model");
	tu_add(&s, test_postfix_request_like_ref, NULL, "a full Postfix request, LF and CRLF, as the model");
	tu_add(&s, test_inbuf_grows, NULL, "buffer: doubles when full, up to the cap, keeping its bytes");
	tu_add(&s, test_inbuf_small_cap, NULL, "buffer: a cap below the first size, then raised");
	tu_add(&s, test_inbuf_consume, NULL, "buffer: framed bytes dropped, an empty buffer given back");
	tu_add(&s, test_pool_bounded, NULL, "pool: keeps at most GG_POLICY_POOL_MAX of each");
	tu_add(&s, test_req_reused_clean, NULL, "pool: a request struct comes back begun");
	tu_add(&s, test_stream_through_buffer, NULL,
	       "buffer: a stream framed in chunks of 1 to 3997 bytes");
	return tu_run(&s, "t_policy_proto");
}

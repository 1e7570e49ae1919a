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
	tu_add(&s, test_inbuf_grows, NULL, "buffer: doubles when full, up to the cap, keeping its bytes");
	tu_add(&s, test_inbuf_small_cap, NULL, "buffer: a cap below the first size, then raised");
	tu_add(&s, test_inbuf_consume, NULL, "buffer: framed bytes dropped, an empty buffer given back");
	tu_add(&s, test_pool_bounded, NULL, "pool: keeps at most GG_POLICY_POOL_MAX of each");
	tu_add(&s, test_req_reused_clean, NULL, "pool: a request struct comes back begun");
	tu_add(&s, test_stream_through_buffer, NULL,
	       "buffer: a stream framed in chunks of 1 to 3997 bytes");
	return tu_run(&s, "t_policy_proto");
}

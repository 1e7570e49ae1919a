/*
 * t_greyprobe.c - unit tests of greyprobe's modules, and golden files
 *
 *   t_greyprobe GOLDEN_DIR
 *
 * Table-driven cases for the SMTP reply parser and classifier, durations,
 * retry schedules, dot-stuffing and the probe message, MX ordering and
 * shuffling, address literals, JSON strings and the receiver's deferral
 * decisions; then the human report, the JSON report and the receiver's
 * summary rendered from fixed inputs and compared with GOLDEN_DIR/<name>
 * (GP_UPDATE_GOLDEN=1 rewrites them instead).  One "PASS: name" or
 * "FAIL: name (why)" line per case, then "# N passed, N failed"; the exit
 * status is 1 if any case failed.  No network, no clock: every time is
 * given.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "greyprobe/dur.h"
#include "lib/json.h"
#include "greyprobe/message.h"
#include "greyprobe/mx.h"
#include "greyprobe/reply.h"
#include "greyprobe/report.h"
#include "greyprobe/schedule.h"
#include "greyprobe/track.h"

static int npass, nfail;
static const char *golden_dir;

/* check - one case */
static void check(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(int ok, const char *fmt, ...)
{
	va_list ap;

	printf(ok ? "PASS: " : "FAIL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (ok)
		npass++;
	else
		nfail++;
}

/* ---------------------------------------------------------------- reply */

struct reply_case {
	const char *label;
	const char *in;
	size_t len;			/* 0: strlen(in) */
	enum gg_reply_feed want;
	int code;
	const char *enh;
	const char *text;		/* NULL: not checked */
	enum gg_reply_kind kind;
	const char *list;
};

static const struct reply_case reply_cases[] = {
	{ "single line 250", "250 OK\r\n", 0, GG_REPLY_DONE, 250, "", "OK", GG_KIND_ACCEPTED, "" },
	{ "bare 250 without text", "250\r\n", 0, GG_REPLY_DONE, 250, "", "", GG_KIND_ACCEPTED, "" },
	{ "LF-only line end", "220 mx ESMTP\n", 0, GG_REPLY_DONE, 220, "", "mx ESMTP",
	  GG_KIND_ACCEPTED, "" },
	{ "multi-line EHLO reply joined", "250-mx.example\r\n250-PIPELINING\r\n250 8BITMIME\r\n",
	  0, GG_REPLY_DONE, 250, "", "mx.example PIPELINING 8BITMIME", GG_KIND_ACCEPTED, "" },
	{ "354 is accepted", "354 End data with <CR><LF>.<CR><LF>\r\n", 0, GG_REPLY_DONE, 354,
	  "", NULL, GG_KIND_ACCEPTED, "" },
	{ "greygate 450 4.7.1 is greylisting",
	  "450 4.7.1 <bob@example.test>: Recipient address rejected: Greylisted, please try "
	  "again in 300 seconds\r\n", 0, GG_REPLY_DONE, 450, "4.7.1",
	  "<bob@example.test>: Recipient address rejected: Greylisted, please try again in 300 "
	  "seconds", GG_KIND_GREYLISTED, "" },
	{ "postgrey 450 4.2.0 Greylisted wording",
	  "450 4.2.0 <b@x.test>: Recipient address rejected: Greylisted, see "
	  "http://postgrey.schweikert.ch/help/x.test.html\r\n", 0, GG_REPLY_DONE, 450, "4.2.0",
	  NULL, GG_KIND_GREYLISTED, "" },
	{ "451 4.7.1 without wording is greylisting", "451 4.7.1 Please try again later\r\n", 0,
	  GG_REPLY_DONE, 451, "4.7.1", "Please try again later", GG_KIND_GREYLISTED, "" },
	{ "451 graylisted (US spelling)", "451 You are graylisted, come back later\r\n", 0,
	  GG_REPLY_DONE, 451, "", NULL, GG_KIND_GREYLISTED, "" },
	{ "451 without 4.7 or wording is only temporary",
	  "451 Temporary failure, please try again later\r\n", 0, GG_REPLY_DONE, 451, "", NULL,
	  GG_KIND_TEMPORARY, "" },
	{ "452 greylist wording is not greylisting (not 450/451)",
	  "452 4.7.1 greylisted but out of space\r\n", 0, GG_REPLY_DONE, 452, "4.7.1", NULL,
	  GG_KIND_STORAGE, "" },
	{ "421 busy", "421 4.7.0 mx.example Error: too many connections\r\n", 0, GG_REPLY_DONE,
	  421, "4.7.0", NULL, GG_KIND_BUSY, "" },
	{ "421 with greylist wording stays busy", "421 4.7.1 greylisted, closing\r\n", 0,
	  GG_REPLY_DONE, 421, "4.7.1", NULL, GG_KIND_BUSY, "" },
	{ "452 storage", "452 4.3.1 Insufficient system storage\r\n", 0, GG_REPLY_DONE, 452,
	  "4.3.1", NULL, GG_KIND_STORAGE, "" },
	{ "450 4.2.2 mailbox full is storage", "450 4.2.2 Mailbox full\r\n", 0, GG_REPLY_DONE,
	  450, "4.2.2", NULL, GG_KIND_STORAGE, "" },
	{ "450 4.1.1 unverified is temporary",
	  "450 4.1.1 <x@y.test>: Recipient address rejected: unverified address\r\n", 0,
	  GG_REPLY_DONE, 450, "4.1.1", NULL, GG_KIND_TEMPORARY, "" },
	{ "Postfix 550 5.1.1 user unknown",
	  "550 5.1.1 <nobody@example.test>: Recipient address rejected: User unknown in virtual "
	  "mailbox table\r\n", 0, GG_REPLY_DONE, 550, "5.1.1", NULL, GG_KIND_NO_USER, "" },
	{ "550 without enhanced code, 'no such user' wording", "550 No such user here\r\n", 0,
	  GG_REPLY_DONE, 550, "", "No such user here", GG_KIND_NO_USER, "" },
	{ "Gmail-style three-line 550-5.1.1, code stripped from every line",
	  "550-5.1.1 The email account that you tried to reach does not exist.\r\n"
	  "550-5.1.1 Please try double-checking the recipient's email address.\r\n"
	  "550 5.1.1 https://support.example/mail/?p=NoSuchUser\r\n", 0, GG_REPLY_DONE, 550,
	  "5.1.1",
	  "The email account that you tried to reach does not exist. Please try double-checking "
	  "the recipient's email address. https://support.example/mail/?p=NoSuchUser",
	  GG_KIND_NO_USER, "" },
	{ "553 malformed address", "553 5.1.3 Bad recipient address syntax\r\n", 0,
	  GG_REPLY_DONE, 553, "5.1.3", NULL, GG_KIND_BAD_ADDRESS, "" },
	{ "553 without enhanced code", "553 sorry, that domain isn't in my list\r\n", 0,
	  GG_REPLY_DONE, 553, "", NULL, GG_KIND_BAD_ADDRESS, "" },
	{ "Postfix reject_rbl_client: list name extracted",
	  "554 5.7.1 Service unavailable; Client host [192.0.2.66] blocked using bl.test; "
	  "Listed: see http://bl.test/192.0.2.66\r\n", 0, GG_REPLY_DONE, 554, "5.7.1", NULL,
	  GG_KIND_BLOCKLIST, "bl.test" },
	{ "greygate score rejection names dnsbl:LIST",
	  "550 5.7.1 Rejected by greygate (score 5): dnsbl:zen.example \"Listed\"\r\n", 0,
	  GG_REPLY_DONE, 550, "5.7.1", NULL, GG_KIND_BLOCKLIST, "zen.example" },
	{ "'listed on X.' trailing dot dropped",
	  "554 5.7.0 Your IP 192.0.2.1 is listed on b.barracuda.example.\r\n", 0, GG_REPLY_DONE,
	  554, "5.7.0", NULL, GG_KIND_BLOCKLIST, "b.barracuda.example" },
	{ "5.7.1 without a list is policy",
	  "550 5.7.1 Message rejected due to content restrictions\r\n", 0, GG_REPLY_DONE, 550,
	  "5.7.1", NULL, GG_KIND_POLICY, "" },
	{ "'listed in' a word without a dot is no list",
	  "550 5.7.1 you are listed in our records\r\n", 0, GG_REPLY_DONE, 550, "5.7.1", NULL,
	  GG_KIND_POLICY, "" },
	{ "other 5xx is permanent", "550 5.2.1 Mailbox disabled\r\n", 0, GG_REPLY_DONE, 550,
	  "5.2.1", NULL, GG_KIND_PERMANENT, "" },
	{ "enhanced class must match the code", "250 5.1.1 odd\r\n", 0, GG_REPLY_DONE, 250, "",
	  "5.1.1 odd", GG_KIND_ACCEPTED, "" },
	{ "enhanced code needs a space after it", "550 5.1.1x text\r\n", 0, GG_REPLY_DONE, 550,
	  "", "5.1.1x text", GG_KIND_PERMANENT, "" },
	{ "enhanced detail of three digits", "451 4.7.500 Server busy\r\n", 0, GG_REPLY_DONE,
	  451, "4.7.500", "Server busy", GG_KIND_GREYLISTED, "" },
	{ "control and 8-bit bytes sanitised", "250 a\001b\377c\r\n", 0, GG_REPLY_DONE, 250, "",
	  "a?b?c", GG_KIND_ACCEPTED, "" },
	{ "NUL byte in the text sanitised", "250 a\0b\r\n", 9, GG_REPLY_DONE, 250, "", "a?b",
	  GG_KIND_ACCEPTED, "" },
	{ "unterminated last line is incomplete", "451-4.7.1 greylisted\r\n451 4.7.1 later", 0,
	  GG_REPLY_MORE, 0, NULL, NULL, 0, NULL },
	{ "continuation without the last line is incomplete", "250-a\r\n250-b\r\n", 0,
	  GG_REPLY_MORE, 0, NULL, NULL, 0, NULL },
	{ "continuation with another code is refused", "250-first\r\n251 second\r\n", 0,
	  GG_REPLY_BAD, 0, NULL, NULL, 0, NULL },
	{ "letter in the code is refused", "25O ok\r\n", 0, GG_REPLY_BAD, 0, NULL, NULL, 0, NULL },
	{ "code 600 is refused", "600 what\r\n", 0, GG_REPLY_BAD, 0, NULL, NULL, 0, NULL },
	{ "code 199 is refused", "199 what\r\n", 0, GG_REPLY_BAD, 0, NULL, NULL, 0, NULL },
	{ "code 260 is refused (second digit 0-5)", "260 what\r\n", 0, GG_REPLY_BAD, 0, NULL,
	  NULL, 0, NULL },
	{ "four digits are refused", "2501 ok\r\n", 0, GG_REPLY_BAD, 0, NULL, NULL, 0, NULL },
	{ "empty line is refused", "\r\n", 0, GG_REPLY_BAD, 0, NULL, NULL, 0, NULL },
	{ "HTTP response is refused", "HTTP/1.1 400 Bad Request\r\n", 0, GG_REPLY_BAD, 0, NULL,
	  NULL, 0, NULL },
};

/* run_reply_case - one table row */
static void run_reply_case(const struct reply_case *c)
{
	struct gg_reply r;
	size_t used = 0, len = c->len ? c->len : strlen(c->in);
	char err[96], why[2600] = "";
	enum gg_reply_feed f = gg_reply_parse(c->in, len, &r, &used, err, sizeof(err));

	if (f != c->want)
		snprintf(why, sizeof(why), "result %d, want %d (%s)", f, c->want, err);
	else if (f == GG_REPLY_DONE) {
		if (r.code != c->code)
			snprintf(why, sizeof(why), "code %d, want %d", r.code, c->code);
		else if (strcmp(r.enhanced, c->enh) != 0)
			snprintf(why, sizeof(why), "enhanced '%s', want '%s'", r.enhanced, c->enh);
		else if (c->text != NULL && strcmp(r.text, c->text) != 0)
			snprintf(why, sizeof(why), "text '%s', want '%s'", r.text, c->text);
		else if (r.kind != c->kind)
			snprintf(why, sizeof(why), "kind %s, want %s", gg_reply_kind_str(r.kind),
				 gg_reply_kind_str(c->kind));
		else if (strcmp(r.list, c->list) != 0)
			snprintf(why, sizeof(why), "list '%s', want '%s'", r.list, c->list);
		else if (used != len)
			snprintf(why, sizeof(why), "used %zu of %zu bytes", used, len);
	}
	check(why[0] == '\0', "reply: %s%s%s%s", c->label, why[0] ? " (" : "", why,
	      why[0] ? ")" : "");
}

/* reply_limits - the limits of reply.h, each exceeded */
static void reply_limits(void)
{
	static char buf[200000];
	struct gg_reply_parser p;
	struct gg_reply r;
	size_t used, n = 0, i;
	char err[96];
	enum gg_reply_feed f;

	/* A line of exactly GG_REPLY_LINE_MAX bytes is fine, one more is not. */
	memcpy(buf, "250 ", 4);
	memset(buf + 4, 'a', GG_REPLY_LINE_MAX - 4);
	memcpy(buf + GG_REPLY_LINE_MAX, "\r\n", 2);
	f = gg_reply_parse(buf, GG_REPLY_LINE_MAX + 2, &r, &used, err, sizeof(err));
	check(f == GG_REPLY_DONE && strlen(r.text) == GG_REPLY_LINE_MAX - 4,
	      "reply limit: a line of GG_REPLY_LINE_MAX (%d) bytes is accepted", GG_REPLY_LINE_MAX);
	memcpy(buf, "250 ", 4);
	memset(buf + 4, 'a', GG_REPLY_LINE_MAX - 3);
	memcpy(buf + GG_REPLY_LINE_MAX + 1, "\r\n", 2);
	f = gg_reply_parse(buf, GG_REPLY_LINE_MAX + 3, &r, &used, err, sizeof(err));
	check(f == GG_REPLY_BAD && strstr(err, "too long") != NULL,
	      "reply limit: a line of GG_REPLY_LINE_MAX + 1 bytes is refused (%s)", err);
	/* An unterminated over-long line is refused without waiting for its end. */
	f = gg_reply_parse(buf, GG_REPLY_LINE_MAX + 2, &r, &used, err, sizeof(err));
	check(f == GG_REPLY_BAD, "reply limit: an unterminated over-long line is refused early");
	/* GG_REPLY_LINES_MAX lines are fine, one more is not. */
	for (i = 0; i < GG_REPLY_LINES_MAX; i++)
		n += (size_t)sprintf(buf + n, i + 1 < GG_REPLY_LINES_MAX ? "250-x\r\n" : "250 x\r\n");
	f = gg_reply_parse(buf, n, &r, &used, err, sizeof(err));
	check(f == GG_REPLY_DONE && r.nlines == GG_REPLY_LINES_MAX,
	      "reply limit: %d lines are accepted", GG_REPLY_LINES_MAX);
	n = 0;
	for (i = 0; i <= GG_REPLY_LINES_MAX; i++)
		n += (size_t)sprintf(buf + n, i < GG_REPLY_LINES_MAX ? "250-x\r\n" : "250 x\r\n");
	f = gg_reply_parse(buf, n, &r, &used, err, sizeof(err));
	check(f == GG_REPLY_BAD && strstr(err, "too many lines") != NULL,
	      "reply limit: %d lines are refused", GG_REPLY_LINES_MAX + 1);
	/* Text beyond GG_REPLY_TEXT_MAX is cut and flagged, never overflows. */
	n = 0;
	for (i = 0; i < 20; i++) {
		n += (size_t)sprintf(buf + n, i < 19 ? "550-" : "550 ");
		memset(buf + n, 'b', 900);
		n += 900;
		memcpy(buf + n, "\r\n", 2);
		n += 2;
	}
	f = gg_reply_parse(buf, n, &r, &used, err, sizeof(err));
	check(f == GG_REPLY_DONE && r.truncated && strlen(r.text) == GG_REPLY_TEXT_MAX - 1,
	      "reply limit: text over %d bytes is cut and flagged", GG_REPLY_TEXT_MAX - 1);
	/* Two replies in one buffer: the first is returned, used stops after it. */
	f = gg_reply_parse("220 hi\r\n221 bye\r\n", 17, &r, &used, err, sizeof(err));
	check(f == GG_REPLY_DONE && r.code == 220 && used == 8,
	      "reply: two replies in a buffer, the first is taken (used %zu)", used);
	/* The line feeder starts afresh after a bad line. */
	gg_reply_parser_init(&p);
	f = gg_reply_feed(&p, "garbage", 7);
	f = f == GG_REPLY_BAD ? gg_reply_feed(&p, "250 ok", 6) : f;
	check(f == GG_REPLY_DONE && p.r.code == 250, "reply: the parser recovers after a bad line");
}

/* reply_kinds - names and classes */
static void reply_kinds(void)
{
	check(strcmp(gg_reply_kind_str(GG_KIND_NO_USER), "no-such-user") == 0 &&
	      strcmp(gg_reply_kind_str(GG_KIND_GREYLISTED), "greylisted") == 0 &&
	      strcmp(gg_reply_kind_str(GG_KIND_REFUSED), "refused") == 0,
	      "reply: kind names are the documented ones");
	check(gg_reply_kind_class(GG_KIND_BUSY) == GG_CLASS_TEMP &&
	      gg_reply_kind_class(GG_KIND_BLOCKLIST) == GG_CLASS_PERM &&
	      gg_reply_kind_class(GG_KIND_TIMEOUT) == GG_CLASS_NET &&
	      gg_reply_kind_class(GG_KIND_ACCEPTED) == GG_CLASS_OK,
	      "reply: kind classes (busy temp, blocklist perm, timeout net, accepted ok)");
}

/* ---------------------------------------------------------------- durations */

static void dur_tests(void)
{
	static const struct { const char *in; long max; enum gg_status st; long ms; } p[] = {
		{ "0", GG_DUR_MAX_MS, GG_OK, 0 },
		{ "30", GG_DUR_MAX_MS, GG_OK, 30000 },
		{ "500ms", GG_DUR_MAX_MS, GG_OK, 500 },
		{ "1s", GG_DUR_MAX_MS, GG_OK, 1000 },
		{ "5m12s", GG_DUR_MAX_MS, GG_OK, 312000 },
		{ "1h30m", GG_DUR_MAX_MS, GG_OK, 5400000 },
		{ "2d", GG_DUR_MAX_MS, GG_OK, 172800000 },
		{ "1w", GG_DUR_MAX_MS, GG_OK, 604800000 },
		{ "1s500ms", GG_DUR_MAX_MS, GG_OK, 1500 },
		{ "", GG_DUR_MAX_MS, GG_EINVAL, 0 },
		{ "5x", GG_DUR_MAX_MS, GG_EINVAL, 0 },
		{ "m", GG_DUR_MAX_MS, GG_EINVAL, 0 },
		{ "-1s", GG_DUR_MAX_MS, GG_EINVAL, 0 },
		{ "1s5m", GG_DUR_MAX_MS, GG_EINVAL, 0 },
		{ "5m5m", GG_DUR_MAX_MS, GG_EINVAL, 0 },
		{ "5m 2s", GG_DUR_MAX_MS, GG_EINVAL, 0 },
		{ "1.5s", GG_DUR_MAX_MS, GG_EINVAL, 0 },
		{ "10s5", GG_DUR_MAX_MS, GG_EINVAL, 0 },
		{ "99999999999999999999s", GG_DUR_MAX_MS, GG_ETOOBIG, 0 },
		{ "2d", 86400000L, GG_ETOOBIG, 0 },
	};
	static const struct { double s; const char *out; } f[] = {
		{ 0.004, "0.004s" }, { 2.04, "2.0s" }, { 59.9, "59.9s" }, { 312, "5m12s" },
		{ 3720, "1h2m" }, { 90000, "1d1h" }, { -1, "0.000s" },
	};
	size_t i;
	char buf[GG_DUR_BUFSIZE];

	for (i = 0; i < sizeof(p) / sizeof(p[0]); i++) {
		long ms = -1;
		enum gg_status st = gg_dur_parse(p[i].in, p[i].max, &ms);
		check(st == p[i].st && (st != GG_OK || ms == p[i].ms),
		      "dur: parse '%s' -> %s %ld", p[i].in, gg_status_str(st), st == GG_OK ? ms : 0);
	}
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		gg_dur_format(f[i].s, buf, sizeof(buf));
		check(strcmp(buf, f[i].out) == 0, "dur: format %g -> '%s' (want '%s')", f[i].s, buf,
		      f[i].out);
	}
}

/* ---------------------------------------------------------------- schedule */

static void schedule_tests(void)
{
	static const char *const bad[] = {
		"", "...", "0,...,1s", "0,0", "0,,1s", "0,2d", "0,5x", "1s,... ,2s",
	};
	struct gg_schedule s;
	char err[128], buf[256], big[1024];
	size_t i, n = 0;
	enum gg_status st;

	st = gg_schedule_parse("0,1s,1s,...", &s, err, sizeof(err));
	check(st == GG_OK && s.n == 3 && s.repeat && gg_schedule_delay(&s, 0) == 0 &&
	      gg_schedule_delay(&s, 1) == 1000 && gg_schedule_delay(&s, 50) == 1000,
	      "schedule: '0,1s,1s,...' repeats its last delay");
	st = gg_schedule_parse("0, 1m, 5m", &s, err, sizeof(err));
	check(st == GG_OK && gg_schedule_delay(&s, 2) == 300000 && gg_schedule_delay(&s, 3) == -1,
	      "schedule: '0, 1m, 5m' ends after three rounds");
	st = gg_schedule_parse(GG_SCHEDULE_DEFAULT, &s, err, sizeof(err));
	gg_schedule_format(&s, buf, sizeof(buf));
	check(st == GG_OK && strcmp(buf, GG_SCHEDULE_DEFAULT) == 0 &&
	      gg_schedule_delay(&s, 1) == 300000 && gg_schedule_delay(&s, 9) == 4000000,
	      "schedule: default '%s' round-trips as '%s'", GG_SCHEDULE_DEFAULT, buf);
	st = gg_schedule_parse("500ms,90s,2h", &s, err, sizeof(err));
	gg_schedule_format(&s, buf, sizeof(buf));
	check(st == GG_OK && strcmp(buf, "500ms,90s,2h") == 0, "schedule: canonical form '%s'",
	      buf);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		st = gg_schedule_parse(bad[i], &s, err, sizeof(err));
		check(st != GG_OK && strncmp(err, "--schedule: ", 12) == 0,
		      "schedule: '%s' refused (%s)", bad[i], err);
	}
	n += (size_t)sprintf(big, "0");
	for (i = 1; i <= GG_SCHEDULE_MAX; i++)
		n += (size_t)sprintf(big + n, ",1s");
	st = gg_schedule_parse(big, &s, err, sizeof(err));
	check(st == GG_ETOOBIG, "schedule limit: %d entries refused (%s)", GG_SCHEDULE_MAX + 1, err);
}

/* ---------------------------------------------------------------- message */

static void message_tests(void)
{
	static const struct { const char *label, *in, *out; } c[] = {
		{ "leading dots doubled, LF to CRLF", ".hi\nthere\n.\n", "..hi\r\nthere\r\n..\r\n" },
		{ "final line gets CRLF", "a\r\nb", "a\r\nb\r\n" },
		{ "lone CR ends a line", "a\rb\r\n", "a\r\nb\r\n" },
		{ "dot inside a line untouched", "a.b\n", "a.b\r\n" },
		{ "empty message stays empty", "", "" },
	};
	char *out = NULL, *p;
	size_t len, i;
	int bare = 0;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		enum gg_status st = gg_message_stuff(c[i].in, strlen(c[i].in), &out, &len);
		check(st == GG_OK && len == strlen(c[i].out) && memcmp(out, c[i].out, len) == 0,
		      "message: %s", c[i].label);
		free(out);
	}
	check(gg_message_stuff("x", (size_t)GG_MESSAGE_MAX + 1, &out, &len) == GG_ETOOBIG,
	      "message limit: more than %ld bytes refused", GG_MESSAGE_MAX);
	gg_message_probe("alice@sender.test", "bob@example.test", "0123456789abcdef",
			 "probe.test", 1796083200, &out, &len);
	p = out;
	for (i = 0; i < len; i++)
		if (out[i] == '\n' && (i == 0 || out[i - 1] != '\r'))
			bare = 1;
	check(out != NULL && strstr(p, "X-Greyprobe-Id: 0123456789abcdef\r\n") != NULL &&
	      strstr(p, "Message-ID: <greyprobe.0123456789abcdef@probe.test>\r\n") != NULL &&
	      strstr(p, "Date: Tue, 01 Dec 2026 00:00:00 +0000\r\n") != NULL && !bare &&
	      len >= 2 && memcmp(out + len - 2, "\r\n", 2) == 0,
	      "message: probe has Date, Message-ID, X-Greyprobe-Id, CRLF lines only");
	free(out);
}

/* ---------------------------------------------------------------- mx */

struct seq {
	unsigned long v;
};

static unsigned long seq_rand(void *arg)
{
	struct seq *s = arg;

	s->v = s->v * 6364136223846793005UL + 1442695040888963407UL;
	return s->v >> 33;
}

static void mx_tests(void)
{
	static const struct { unsigned pref; const char *name; } in[] = {
		{ 20, "b20" }, { 10, "a" }, { 10, "b" }, { 30, "c30" }, { 10, "c" },
	};
	struct gg_mx_host h[5];
	struct gg_addr a;
	int seen[6] = { 0 }, ok = 1, perms = 0;
	size_t i, k;

	memset(h, 0, sizeof(h));
	for (i = 0; i < 5; i++) {
		h[i].pref = in[i].pref;
		strcpy(h[i].name, in[i].name);
	}
	gg_mx_sort(h, 5, NULL, NULL);
	check(strcmp(h[0].name, "a") == 0 && strcmp(h[1].name, "b") == 0 &&
	      strcmp(h[2].name, "c") == 0 && strcmp(h[3].name, "b20") == 0 &&
	      strcmp(h[4].name, "c30") == 0, "mx: sorted by preference, stable without shuffling");
	for (k = 0; k < 300; k++) {
		struct seq s = { k * 7919 + 1 };
		int code;
		for (i = 0; i < 5; i++) {
			h[i].pref = in[i].pref;
			strcpy(h[i].name, in[i].name);
		}
		gg_mx_sort(h, 5, seq_rand, &s);
		for (i = 1; i < 5; i++)
			if (h[i - 1].pref > h[i].pref)
				ok = 0;
		if (strcmp(h[3].name, "b20") != 0 || strcmp(h[4].name, "c30") != 0)
			ok = 0;
		/* Which of the six orders of a, b, c? */
		code = (h[0].name[0] - 'a') * 2 + (h[1].name[0] - 'a' > h[2].name[0] - 'a');
		if (code >= 0 && code < 6)
			seen[code] = 1;
	}
	for (i = 0; i < 6; i++)
		perms += seen[i];
	check(ok, "mx: shuffling keeps preference order and unequal hosts in place");
	check(perms == 6, "mx: equal preferences are shuffled (%d of 6 orders seen)", perms);
	check(gg_mx_parse_literal("[192.0.2.1]", &a) == GG_OK && a.family == AF_INET,
	      "mx: literal [192.0.2.1]");
	check(gg_mx_parse_literal("[IPv6:2001:db8::1]", &a) == GG_OK && a.family == AF_INET6,
	      "mx: literal [IPv6:2001:db8::1]");
	check(gg_mx_parse_literal("::1", &a) == GG_OK && a.family == AF_INET6, "mx: bare ::1");
	check(gg_mx_parse_literal("example.test", &a) != GG_OK &&
	      gg_mx_parse_literal("[1.2.3]", &a) != GG_OK && gg_mx_parse_literal("", &a) != GG_OK,
	      "mx: names and broken literals are not literals");
}

/* ---------------------------------------------------------------- json */

static void json_tests(void)
{
	static const struct { const char *label, *in, *out; } c[] = {
		{ "quotes, backslash, newline, control", "a\"b\\c\n\001",
		  "\"a\\\"b\\\\c\\n\\u0001\"" },
		{ "valid UTF-8 passes", "caf\303\251", "\"caf\303\251\"" },
		{ "invalid byte becomes U+FFFD", "x\377y", "\"x\\ufffdy\"" },
		{ "overlong form rejected", "\300\257", "\"\\ufffd\\ufffd\"" },
		{ "surrogate rejected", "\355\240\200", "\"\\ufffd\\ufffd\\ufffd\"" },
		{ "truncated sequence at the end", "a\342\202", "\"a\\ufffd\\ufffd\"" },
	};
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		char *buf = NULL;
		size_t len = 0;
		FILE *fp = open_memstream(&buf, &len);
		gg_json_str(fp, c[i].in);
		fclose(fp);
		check(strcmp(buf, c[i].out) == 0, "json: %s (got %s)", c[i].label, buf);
		free(buf);
	}
}

/* ---------------------------------------------------------------- track */

static void track_tests(void)
{
	struct gg_track_params p;
	struct gg_track *t = NULL;
	char r[GG_TRACK_REPLY_MAX];
	enum gg_track_action a1, a2, a3, a4, a5, a6;

	memset(&p, 0, sizeof(p));
	p.defer_first = 2;
	p.reject[p.nreject++] = "nobody@*";
	gg_track_new(&p, NULL, 0, &t);
	a1 = gg_track_rcpt(t, 0, "127.0.0.1", "h", "a@x.test", "b@y.test", r, sizeof(r));
	a2 = gg_track_rcpt(t, 1, "127.0.0.1", "h", "A@X.test", "b@Y.TEST", r, sizeof(r));
	a3 = gg_track_rcpt(t, 2, "127.0.0.1", "h", "a@x.test", "b@y.test", r, sizeof(r));
	a4 = gg_track_rcpt(t, 3, "127.0.0.1", "h", "a@x.test", "b@y.test", r, sizeof(r));
	check(a1 == GG_TRACK_DEFER && a2 == GG_TRACK_DEFER && a3 == GG_TRACK_ACCEPT &&
	      a4 == GG_TRACK_ACCEPT, "track: --defer-first 2 defers two attempts (case folded)");
	a5 = gg_track_rcpt(t, 4, "127.0.0.2", "h", "a@x.test", "b@y.test", r, sizeof(r));
	check(a5 == GG_TRACK_DEFER && strncmp(r, "451 4.7.1 ", 10) == 0,
	      "track: another client IP is a new triplet, deferred with the default reply");
	a6 = gg_track_rcpt(t, 5, "127.0.0.1", "h", "a@x.test", "NoBody@y.test", r, sizeof(r));
	check(a6 == GG_TRACK_REJECT && strncmp(r, "550 5.1.1 ", 10) == 0,
	      "track: --reject-rcpt 'nobody@*' answers 550 5.1.1 (case folded)");
	gg_track_free(t);

	memset(&p, 0, sizeof(p));
	p.defer_for_ms = 2000;
	p.reply = "450 4.7.1 come back in 2s";
	gg_track_new(&p, NULL, 0, &t);
	a1 = gg_track_rcpt(t, 10.0, "::1", "h", "", "b@y.test", r, sizeof(r));
	a2 = gg_track_rcpt(t, 11.9, "::1", "h", "", "b@y.test", r, sizeof(r));
	a3 = gg_track_rcpt(t, 12.0, "::1", "h", "", "b@y.test", r, sizeof(r));
	check(a1 == GG_TRACK_DEFER && a2 == GG_TRACK_DEFER && a3 == GG_TRACK_ACCEPT,
	      "track: --defer-for 2s defers until 2 s after the first attempt (null sender)");
	gg_track_free(t);

	check(gg_track_check_reply("451 4.7.1 x", 0) == GG_OK &&
	      gg_track_check_reply("550 no", 5) == GG_OK &&
	      gg_track_check_reply("250 ok", 0) != GG_OK &&
	      gg_track_check_reply("451", 0) != GG_OK &&
	      gg_track_check_reply("451 a\r\nb", 0) != GG_OK &&
	      gg_track_check_reply("550 x", 4) != GG_OK &&
	      gg_track_check_reply("4511 x", 0) != GG_OK,
	      "track: reply lines given on the command line are checked");
	p.defer_first = -1;
	check(gg_track_new(&p, NULL, 0, &t) == GG_EINVAL, "track: negative --defer-first refused");
}

/* ---------------------------------------------------------------- golden */

/* golden - compare text with GOLDEN_DIR/name (or rewrite it) */
static void golden(const char *name, const char *text, size_t len)
{
	char path[4096], *want = NULL;
	FILE *fp;
	long n = -1;

	snprintf(path, sizeof(path), "%s/%s", golden_dir, name);
	if (getenv("GP_UPDATE_GOLDEN") != NULL) {
		int ok;

		fp = fopen(path, "w");
		ok = fp != NULL && fwrite(text, 1, len, fp) == len;
		/* Close the file whether or not the write worked. */
		if (fp != NULL && fclose(fp) != 0)
			ok = 0;
		check(ok, "golden: wrote %s", path);
		return;
	}
	if ((fp = fopen(path, "rb")) != NULL && fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 &&
	    fseek(fp, 0, SEEK_SET) == 0 && (want = malloc((size_t)n + 1)) != NULL &&
	    fread(want, 1, (size_t)n, fp) == (size_t)n) {
		want[n] = '\0';
	} else {
		n = -1;
	}
	if (fp != NULL)
		fclose(fp);
	if (n >= 0 && (size_t)n == len && memcmp(want, text, len) == 0) {
		check(1, "golden: %s", name);
	} else {
		size_t i = 0;
		while (n >= 0 && i < len && i < (size_t)n && want[i] == text[i])
			i++;
		check(0, "golden: %s (%s at byte %zu; got:)", name, n < 0 ? "missing" : "differs", i);
		fwrite(text, 1, len, stdout);
	}
	free(want);
}

/* attempt - add one hand-made attempt */
static void attempt(struct gg_report *r, unsigned round, double offset, const char *host,
		    const char *addr, unsigned port, enum gg_stage stage, int code, const char *enh,
		    const char *text, enum gg_reply_kind kind, const char *list, double duration,
		    const char *dialogue)
{
	struct gg_attempt a;

	memset(&a, 0, sizeof(a));
	a.round = round;
	a.offset = offset;
	snprintf(a.host, sizeof(a.host), "%s", host);
	snprintf(a.addr, sizeof(a.addr), "%s", addr);
	a.port = port;
	a.stage = stage;
	a.code = code;
	snprintf(a.enhanced, sizeof(a.enhanced), "%s", enh);
	snprintf(a.text, sizeof(a.text), "%s", text);
	a.kind = kind;
	snprintf(a.list, sizeof(a.list), "%s", list);
	a.duration = duration;
	if (dialogue != NULL) {
		a.dialogue = strdup(dialogue);
		a.dialogue_len = strlen(dialogue);
	}
	gg_report_add(r, &a);
}

/* base_report - the common description */
static void base_report(struct gg_report *r, const char *to, const char *domain)
{
	gg_report_init(r);
	snprintf(r->from, sizeof(r->from), "alice@sender.test");
	snprintf(r->to, sizeof(r->to), "%s", to);
	snprintf(r->id, sizeof(r->id), "0123456789abcdef");
	snprintf(r->domain, sizeof(r->domain), "%s", domain);
	snprintf(r->schedule, sizeof(r->schedule), "0,1s,1s,...");
	r->max_time = 60;
	r->start = 1796083200;	/* 2026-12-01 00:00:00 UTC */
	r->port = 2525;
}

/* mx2 - two MX hosts, the first without a server */
static void mx2(struct gg_report *r)
{
	r->mx_known = 1;
	r->nmx = 2;
	snprintf(r->mx[0].name, sizeof(r->mx[0].name), "mx1.probe.test");
	r->mx[0].pref = 10;
	r->mx[0].naddrs = 1;
	snprintf(r->mx[0].addrs[0], sizeof(r->mx[0].addrs[0]), "127.0.0.2");
	snprintf(r->mx[1].name, sizeof(r->mx[1].name), "mx2.probe.test");
	r->mx[1].pref = 20;
	r->mx[1].naddrs = 2;
	snprintf(r->mx[1].addrs[0], sizeof(r->mx[1].addrs[0]), "::1");
	snprintf(r->mx[1].addrs[1], sizeof(r->mx[1].addrs[1]), "127.0.0.1");
}

/* render - print or JSON into a string */
static char *render(const struct gg_report *r, int json, int verbose, size_t *len)
{
	char *buf = NULL;
	FILE *fp = open_memstream(&buf, len);

	if (json)
		gg_report_json(fp, r, verbose);
	else
		gg_report_print(fp, r, verbose);
	fclose(fp);
	return buf;
}

static void golden_report(const char *name, const struct gg_report *r, int json, int verbose)
{
	size_t len;
	char *s = render(r, json, verbose, &len);

	golden(name, s, len);
	free(s);
}

static void golden_tests(void)
{
	static const char grey[] = "<bob@fallback.probe.test>: Recipient address rejected: "
				   "Greylisted, please try again in 2 seconds";
	struct gg_report r;
	char *out;
	size_t len;

	/* MX fallback, greylisted twice, then accepted by the MX that deferred. */
	base_report(&r, "bob@fallback.probe.test", "fallback.probe.test");
	mx2(&r);
	attempt(&r, 1, 0.0, "mx1.probe.test", "127.0.0.2", 2525, GG_STAGE_CONNECT, 0, "",
		"connection refused", GG_KIND_REFUSED, "", 0.0004, "0.000 ** connection refused\n");
	attempt(&r, 1, 0.0012, "mx2.probe.test", "::1", 2525, GG_STAGE_CONNECT, 0, "",
		"connect failed: Cannot assign requested address", GG_KIND_NETWORK, "", 0.0001, NULL);
	attempt(&r, 1, 0.0015, "mx2.probe.test", "127.0.0.1", 2525, GG_STAGE_RCPT, 450, "4.7.1",
		grey, GG_KIND_GREYLISTED, "", 0.031,
		"0.000 -- connected\n0.004 <- 220 mx.greygate.test ESMTP Postfix\n"
		"0.004 -> EHLO probe.greygate.test\n0.005 <- 250-mx.greygate.test\n"
		"0.005 <- 250 8BITMIME\n0.005 -> MAIL FROM:<alice@sender.test>\n"
		"0.006 <- 250 2.1.0 Ok\n0.006 -> RCPT TO:<bob@fallback.probe.test>\n"
		"0.030 <- 450 4.7.1 <bob@fallback.probe.test>: Recipient address rejected: "
		"Greylisted, please try again in 2 seconds\n0.030 -> QUIT\n0.031 <- 221 2.0.0 Bye\n");
	attempt(&r, 2, 1.035, "mx2.probe.test", "127.0.0.1", 2525, GG_STAGE_RCPT, 450, "4.7.1",
		grey, GG_KIND_GREYLISTED, "", 0.012, NULL);
	attempt(&r, 3, 2.049, "mx2.probe.test", "127.0.0.1", 2525, GG_STAGE_MESSAGE, 250, "2.0.0",
		"Ok: queued as 4XyZ1", GG_KIND_ACCEPTED, "", 0.052, NULL);
	gg_report_finish(&r, GG_OUT_DELIVERED, 2.101, "");
	check(r.ndeferred == 2 && r.greylisted && r.delay > 2.04 && r.delay < 2.05 &&
	      strcmp(r.deferred_by, "mx2.probe.test") == 0 && gg_report_exit_code(&r) == 0,
	      "report: greylisting delay measured from the first deferral to the acceptance "
	      "(%.4f s)", r.delay);
	check(strcmp(r.summary, "deferred by mx2.probe.test for 2.0s over 2 attempts, then "
		     "accepted") == 0, "report: summary line '%s'", r.summary);
	golden_report("greylisted-mx.txt", &r, 0, 0);
	golden_report("greylisted-mx-v.txt", &r, 0, 1);
	golden_report("greylisted-mx.json", &r, 1, 0);
	gg_report_free(&r);

	/* Refused: 550 5.1.1 at RCPT, through --server. */
	base_report(&r, "nosuchuser@example.test", "example.test");
	snprintf(r.server, sizeof(r.server), "127.0.0.1:2525");
	attempt(&r, 1, 0.0, "127.0.0.1", "127.0.0.1", 2525, GG_STAGE_RCPT, 550, "5.1.1",
		"<nosuchuser@example.test>: Recipient address rejected: User unknown in virtual "
		"mailbox table", GG_KIND_NO_USER, "", 0.021, NULL);
	gg_report_finish(&r, GG_OUT_REFUSED, 0.022, "");
	check(gg_report_exit_code(&r) == 1, "report: refused exits 1");
	golden_report("refused-nouser.txt", &r, 0, 0);
	gg_report_free(&r);

	/* Blocklisted at the greeting of the only MX. */
	base_report(&r, "bob@example.test", "example.test");
	r.mx_known = 1;
	r.nmx = 1;
	snprintf(r.mx[0].name, sizeof(r.mx[0].name), "mx.example.test");
	r.mx[0].pref = 0;
	r.mx[0].naddrs = 1;
	snprintf(r.mx[0].addrs[0], sizeof(r.mx[0].addrs[0]), "127.0.0.1");
	attempt(&r, 1, 0.0, "mx.example.test", "127.0.0.1", 2525, GG_STAGE_RCPT, 554, "5.7.1",
		"Service unavailable; Client host [127.0.0.1] blocked using zen.example; see "
		"http://zen.example/q", GG_KIND_BLOCKLIST, "zen.example", 0.01, NULL);
	gg_report_finish(&r, GG_OUT_REFUSED, 0.011, "");
	golden_report("refused-blocklist.txt", &r, 0, 0);
	gg_report_free(&r);

	/* Still greylisted when --max-time ran out. */
	base_report(&r, "bob@example.test", "example.test");
	snprintf(r.server, sizeof(r.server), "127.0.0.1:2525");
	r.max_time = 1;
	attempt(&r, 1, 0.0, "127.0.0.1", "127.0.0.1", 2525, GG_STAGE_RCPT, 450, "4.7.1",
		"Greylisted", GG_KIND_GREYLISTED, "", 0.01, NULL);
	attempt(&r, 2, 0.5, "127.0.0.1", "127.0.0.1", 2525, GG_STAGE_RCPT, 450, "4.7.1",
		"Greylisted", GG_KIND_GREYLISTED, "", 0.01, NULL);
	gg_report_finish(&r, GG_OUT_DEFERRED, 0.52,
			 "gave up: the next retry would be after --max-time 1.0s");
	check(gg_report_exit_code(&r) == 2, "report: still deferred exits 2");
	golden_report("deferred-maxtime.txt", &r, 0, 0);
	golden_report("deferred-maxtime.json", &r, 1, 0);
	gg_report_free(&r);

	/* Null MX: refused before any connection. */
	base_report(&r, "x@nullmx.example.test", "nullmx.example.test");
	r.mx_known = 1;
	r.null_mx = 1;
	gg_report_finish(&r, GG_OUT_REFUSED, 0.003,
			 "nullmx.example.test does not accept mail (null MX, RFC 7505)");
	golden_report("null-mx.txt", &r, 0, 0);
	gg_report_free(&r);

	/* Nothing reachable: refused, timeout, a host without address. */
	base_report(&r, "bob@slow.probe.test", "slow.probe.test");
	r.mx_known = 1;
	r.nmx = 2;
	snprintf(r.mx[0].name, sizeof(r.mx[0].name), "mxslow.probe.test");
	r.mx[0].pref = 10;
	r.mx[0].naddrs = 1;
	snprintf(r.mx[0].addrs[0], sizeof(r.mx[0].addrs[0]), "127.0.0.4");
	snprintf(r.mx[1].name, sizeof(r.mx[1].name), "nowhere.probe.test");
	r.mx[1].pref = 20;
	snprintf(r.mx[1].error, sizeof(r.mx[1].error), "AAAA: NXDOMAIN, A: NXDOMAIN");
	attempt(&r, 1, 0.0, "mxslow.probe.test", "127.0.0.4", 2525, GG_STAGE_GREETING, 0, "",
		"timed out after 1s waiting for the greeting",
		GG_KIND_TIMEOUT, "", 1.0, NULL);
	attempt(&r, 1, 1.001, "nowhere.probe.test", "", 2525, GG_STAGE_DNS, 0, "",
		"no address: AAAA: NXDOMAIN, A: NXDOMAIN", GG_KIND_DNS, "", 0.0, NULL);
	gg_report_finish(&r, GG_OUT_UNREACHABLE, 1.002, "the schedule has no more retries");
	check(gg_report_exit_code(&r) == 3, "report: unreachable exits 3");
	golden_report("unreachable.txt", &r, 0, 0);
	gg_report_free(&r);

	/* --verify-only, implicit MX, EHLO refused and HELO used. */
	base_report(&r, "verify@implicit.probe.test", "implicit.probe.test");
	r.verify_only = 1;
	r.mx_known = 1;
	r.implicit_mx = 1;
	r.nmx = 1;
	snprintf(r.mx[0].name, sizeof(r.mx[0].name), "implicit.probe.test");
	r.mx[0].naddrs = 1;
	snprintf(r.mx[0].addrs[0], sizeof(r.mx[0].addrs[0]), "127.0.0.1");
	attempt(&r, 1, 0.0, "implicit.probe.test", "127.0.0.1", 2525, GG_STAGE_RCPT, 250,
		"2.1.5", "Ok", GG_KIND_ACCEPTED, "", 0.008, NULL);
	r.attempts[0].helo_fallback = 1;
	gg_report_finish(&r, GG_OUT_VERIFIED, 0.009, "");
	golden_report("verified.txt", &r, 0, 0);
	gg_report_free(&r);

	/* The report keeps at most GG_REPORT_MAX_ATTEMPTS attempts. */
	base_report(&r, "bob@example.test", "example.test");
	for (len = 0; len < GG_REPORT_MAX_ATTEMPTS + 5; len++)
		attempt(&r, 1, 0.0, "h", "127.0.0.1", 25, GG_STAGE_CONNECT, 0, "", "refused",
			GG_KIND_REFUSED, "", 0, NULL);
	check(r.nattempts == GG_REPORT_MAX_ATTEMPTS && r.dropped == 5,
	      "report limit: %d attempts kept, the rest counted", GG_REPORT_MAX_ATTEMPTS);
	gg_report_free(&r);

	/* Dialogue is bounded per attempt. */
	{
		struct gg_attempt a;
		size_t i;

		memset(&a, 0, sizeof(a));
		static const char line[] = "250-a line of about one hundred bytes "
					   "...........................................................";
		for (i = 0; i < 1000; i++)
			gg_report_dialogue(&a, 0.1, "<-", line, strlen(line));
		for (i = 0; i < 2000; i++)
			gg_report_dialogue(&a, 0.1, "<-", "x", 1);
		check(a.dialogue_len <= GG_REPORT_DIALOGUE_MAX &&
		      strstr(a.dialogue, "[dialogue cut]") != NULL,
		      "report limit: dialogue cut at %d bytes", GG_REPORT_DIALOGUE_MAX);
		free(a.dialogue);
	}

	/* The receiver's summary and JSONL log for a scripted session. */
	{
		struct gg_track_params p;
		struct gg_track *t = NULL;
		char rr[GG_TRACK_REPLY_MAX], *log = NULL, *rcpts[1];
		size_t loglen = 0;
		FILE *lfp = open_memstream(&log, &loglen);
		FILE *ofp;

		memset(&p, 0, sizeof(p));
		p.defer_first = 1;
		p.reject[p.nreject++] = "nobody@*";
		gg_track_new(&p, lfp, 1796083200, &t);
		gg_track_connection(t);
		gg_track_rcpt(t, 0.5, "127.0.0.1", "mx.sender.test", "alice@sender.test",
			      "bob@example.test", rr, sizeof(rr));
		gg_track_connection(t);
		gg_track_rcpt(t, 61.5, "127.0.0.1", "mx.sender.test", "alice@sender.test",
			      "bob@example.test", rr, sizeof(rr));
		rcpts[0] = "bob@example.test";
		gg_track_message(t, 61.6, "127.0.0.1", "alice@sender.test", rcpts, 1, 512,
				 "GP1", NULL);
		gg_track_connection(t);
		gg_track_rcpt(t, 2.0, "127.0.0.10", "pool1.sender.test", "alice@sender.test",
			      "carol@example.test", rr, sizeof(rr));
		gg_track_connection(t);
		gg_track_rcpt(t, 302.0, "127.0.0.11", "pool2.sender.test", "alice@sender.test",
			      "carol@example.test", rr, sizeof(rr));
		gg_track_connection(t);
		gg_track_rcpt(t, 5.0, "127.0.0.66", "bot", "bot@spam.test", "dave@example.test", rr,
			      sizeof(rr));
		gg_track_connection(t);
		gg_track_rcpt(t, 6.0, "127.0.0.66", "bot", "bot@spam.test", "nobody@example.test",
			      rr, sizeof(rr));
		gg_track_busy(t, 7.0, "127.0.0.67", "421 4.7.0 Too many connections", 5);
		ofp = open_memstream(&out, &len);
		gg_track_summary(t, 600.0, ofp);
		fclose(ofp);
		fclose(lfp);
		golden("listen-summary.txt", out, len);
		golden("listen-log.jsonl", log, loglen);
		free(out);
		free(log);
		gg_track_free(t);
	}
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc != 2) {
		fprintf(stderr, "usage: %s GOLDEN_DIR\n", argv[0]);
		return 2;
	}
	golden_dir = argv[1];
	for (i = 0; i < sizeof(reply_cases) / sizeof(reply_cases[0]); i++)
		run_reply_case(&reply_cases[i]);
	reply_limits();
	reply_kinds();
	dur_tests();
	schedule_tests();
	message_tests();
	mx_tests();
	json_tests();
	track_tests();
	golden_tests();
	printf("# %d passed, %d failed\n", npass, nfail);
	return nfail > 0;
}

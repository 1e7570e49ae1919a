/*
 * fuzz_reply.c - libFuzzer target for greyprobe's SMTP reply parser
 *
 * The input is what a hostile server might send.  It is parsed three
 * ways: reply after reply with gg_reply_parse() over the whole buffer (as
 * a stream of replies), line by line with gg_reply_feed() (split at LF,
 * every line, even over-long ones), and as a reply text for
 * gg_reply_find_list().  Every finished reply must hold the invariants
 * reply.h promises: a code in 200-559, a printable NUL-terminated text
 * within GG_REPLY_TEXT_MAX, an enhanced code that is empty or of the form
 * d.ddd.ddd with the code's class, a known kind, a list name only for the
 * blocklist kind, and forward progress through the buffer.  The same
 * bytes are also given to the duration and schedule parsers, which read
 * command-line text.
 *
 * Built with clang -fsanitize=fuzzer by tests/greyprobe/run.sh when
 * GP_FUZZ_SECONDS is set, and always with tests/fuzz/replay.c as a replay
 * program over tests/greyprobe/corpus/reply/.
 */
#include <stdlib.h>
#include <string.h>

#include "greyprobe/dur.h"
#include "fuzz.h"
#include "greyprobe/reply.h"
#include "greyprobe/schedule.h"

/* check_reply - the invariants of one finished reply */
static void check_reply(const struct gg_reply *r)
{
	size_t i, n = strnlen(r->text, sizeof(r->text));

	fuzz_check(r->code >= 200 && r->code <= 559 && r->code % 100 <= 59);
	fuzz_check(n < sizeof(r->text));
	for (i = 0; i < n; i++)
		fuzz_check(r->text[i] >= 0x20 && r->text[i] < 0x7f);
	n = strnlen(r->enhanced, sizeof(r->enhanced));
	fuzz_check(n < sizeof(r->enhanced));
	if (n > 0) {
		fuzz_check(n >= 5 && r->enhanced[0] - '0' == r->code / 100 && r->enhanced[1] == '.');
		for (i = 2; i < n; i++)
			fuzz_check(r->enhanced[i] == '.' || (r->enhanced[i] >= '0' && r->enhanced[i] <= '9'));
	}
	fuzz_check(r->kind <= GG_KIND_PERMANENT);
	fuzz_check(strcmp(gg_reply_kind_str(r->kind), "?") != 0);
	fuzz_check(strnlen(r->list, sizeof(r->list)) < sizeof(r->list));
	fuzz_check(r->list[0] == '\0' || r->kind == GG_KIND_BLOCKLIST);
	fuzz_check(r->nlines >= 1 && r->nlines <= GG_REPLY_LINES_MAX);
	fuzz_check((r->code / 100 <= 3) == (gg_reply_kind_class(r->kind) == GG_CLASS_OK));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct gg_reply_parser p;
	struct gg_reply r;
	size_t pos = 0, used;
	char err[96], *text, list[GG_REPLY_LIST_MAX];
	struct gg_schedule s;
	long ms;

	/* A stream of replies. */
	while (pos < size) {
		enum gg_reply_feed f = gg_reply_parse(buf + pos, size - pos, &r, &used, err, sizeof(err));
		if (f != GG_REPLY_DONE) {
			fuzz_check(f == GG_REPLY_MORE || err[0] != '\0');
			break;
		}
		check_reply(&r);
		fuzz_check(used > 0 && used <= size - pos);
		pos += used;
	}

	/* Line by line, every line fed, over-long ones included. */
	gg_reply_parser_init(&p);
	for (pos = 0; pos < size;) {
		const char *nl = memchr(buf + pos, '\n', size - pos);
		size_t len = nl ? (size_t)(nl - (buf + pos)) : size - pos;
		enum gg_reply_feed f = gg_reply_feed(&p, buf + pos, len);
		if (f == GG_REPLY_DONE)
			check_reply(&p.r);
		else if (f == GG_REPLY_BAD)
			fuzz_check(p.err[0] != '\0');
		pos += len + (nl ? 1 : 0);
	}

	/* The bytes as a C string: list names, durations, schedules. */
	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (gg_reply_find_list(text, list, sizeof(list)))
		fuzz_check(strlen(list) >= 3 && strchr(list, '.') != NULL);
	if (gg_dur_parse(text, GG_DUR_MAX_MS, &ms) == GG_OK)
		fuzz_check(ms >= 0 && ms <= GG_DUR_MAX_MS);
	if (gg_schedule_parse(text, &s, err, sizeof(err)) == GG_OK) {
		size_t i;
		fuzz_check(s.n >= 1 && s.n <= GG_SCHEDULE_MAX);
		for (i = 0; i < s.n; i++)
			fuzz_check(s.delay_ms[i] >= 0 && s.delay_ms[i] <= GG_SCHEDULE_STEP_MAX_MS);
	} else {
		fuzz_check(err[0] != '\0');
	}
	free(text);
	return 0;
}

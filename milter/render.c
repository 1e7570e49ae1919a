/*
 * render.c - a verdict in the milter's terms: SMTP reply, headers, log line
 *
 * mlt_render_reply() gives the three parts smfi_setreply() takes: the
 * reply code (451 for greylist, 550 for reject), the enhanced status code
 * (the one the engine's text starts with, such as 4.7.1 or 4.3.0, when its
 * class fits, else 4.7.1 or 5.7.1) and the text.  libmilter drops a reply
 * whose text holds a lone '%' or a line break and refuses one longer than
 * its MAXREPLYLEN (980 bytes), so the text keeps printable ASCII only,
 * doubles '%', and is cut at a whole character to stay well below that.
 *
 * mlt_render_header() splits one "Name: value" line for smfi_insheader(),
 * with control characters in the value turned into spaces.
 *
 * The log lines use greygate-policyd's format, so one grep finds both
 * daemons' decisions:
 *   QUEUEID: client=NAME[ADDR] helo=<..> from=<..> to=<..> action=.. reason=.. [score=.. reasons=..] [delay=N|delayed=N] [(detail)]
 * Every value is sanitised and truncated (gg_sanitize) before it is logged.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "milter.h"
#include "util.h"

#define REPLY_TEXT_MAX 900	/* escaped text; rcode and xcode fit in the rest of 980 */

/* enhanced_code - length of a leading "D.DDD.DDD " status code of class cls, else 0 */
static size_t enhanced_code(const char *s, char cls)
{
	size_t i = 0;

	if (s[0] != cls || s[1] != '.')
		return 0;
	i = 2;
	for (int part = 0; part < 2; part++) {
		size_t start = i;
		while (isdigit((unsigned char)s[i]) && i - start < 3)
			i++;
		if (i == start)
			return 0;
		if (part == 0) {
			if (s[i] != '.')
				return 0;
			i++;
		}
	}
	return s[i] == ' ' || s[i] == '\0' ? i : 0;
}

/* escape_text - printable ASCII, '%' doubled, at most size - 1 bytes */
static void escape_text(char *out, size_t size, const char *in)
{
	size_t o = 0;

	for (; *in != '\0'; in++) {
		unsigned char ch = (unsigned char)*in;
		size_t need = ch == '%' ? 2 : 1;

		if (o + need >= size)
			break;
		if (ch == '%') {
			out[o++] = '%';
			out[o++] = '%';
		} else {
			out[o++] = ch >= 0x20 && ch < 0x7f ? (char)ch : ' ';
		}
	}
	out[o] = '\0';
}

/* mlt_render_reply - the SMTP reply for a greylist or reject verdict */
void mlt_render_reply(const struct gg_verdict *v, struct mlt_reply *r)
{
	int reject = v->action == GG_ACTION_REJECT;
	const char *text = v->text;
	size_t n;

	(void)gg_strcpy(r->rcode, sizeof(r->rcode), reject ? "550" : "451");
	(void)gg_strcpy(r->xcode, sizeof(r->xcode), reject ? "5.7.1" : "4.7.1");
	if ((n = enhanced_code(text, reject ? '5' : '4')) > 0) {
		(void)gg_strbcpy(r->xcode, sizeof(r->xcode), text, n);
		text += n;
	}
	while (*text == ' ')
		text++;
	if (*text == '\0')
		text = reject ? "Rejected by greygate" : "Greylisted, please try again later";
	escape_text(r->text, sizeof(r->text) < REPLY_TEXT_MAX ? sizeof(r->text) : REPLY_TEXT_MAX,
		    text);
}

/* mlt_render_header - "Name: value" into its parts; 0 if not a header line */
int mlt_render_header(const char *line, char *name, size_t nsize, char *value, size_t vsize)
{
	const char *colon = strchr(line, ':');
	size_t nlen, o = 0;

	if (colon == NULL || colon == line)
		return 0;
	nlen = (size_t)(colon - line);
	for (size_t i = 0; i < nlen; i++)
		if ((unsigned char)line[i] <= 0x20 || (unsigned char)line[i] >= 0x7f)
			return 0;
	if (gg_strbcpy(name, nsize, line, nlen) != GG_OK)
		return 0;
	for (colon++; *colon == ' '; colon++)
		;
	for (; *colon != '\0' && o + 1 < vsize; colon++) {
		unsigned char ch = (unsigned char)*colon;
		value[o++] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
	}
	value[o] = '\0';
	return 1;
}

/* request_parts - the sanitised fields every line shows */
struct parts {
	char name[80], addr[80], helo[80], from[120], to[120], qid[80];
};

static void request_parts(const struct gg_request *r, struct parts *p)
{
	gg_sanitize(p->name, sizeof(p->name), r->client_name, strlen(r->client_name), 64);
	gg_sanitize(p->addr, sizeof(p->addr), r->client_address, strlen(r->client_address), 64);
	gg_sanitize(p->helo, sizeof(p->helo), r->helo_name, strlen(r->helo_name), 64);
	gg_sanitize(p->from, sizeof(p->from), r->sender, strlen(r->sender), 100);
	gg_sanitize(p->to, sizeof(p->to), r->recipient, strlen(r->recipient), 100);
	gg_sanitize(p->qid, sizeof(p->qid), r->queue_id, strlen(r->queue_id), 60);
}

/* mlt_log_verdict - the one line per recipient decision */
void mlt_log_verdict(const struct gg_log *log, const struct gg_request *r, const struct gg_verdict *v)
{
	struct parts p;
	char detail[200], extra[600];

	request_parts(r, &p);
	gg_sanitize(detail, sizeof(detail), v->detail, strlen(v->detail), 150);
	extra[0] = '\0';
	if (v->scored) {
		char reasons[420];
		gg_sanitize(reasons, sizeof(reasons), v->reasons, strlen(v->reasons), 400);
		snprintf(extra, sizeof(extra), " score=%g reasons=%s", v->score,
			 reasons[0] ? reasons : "-");
	}
	if (v->action == GG_ACTION_GREYLIST && !v->db_error)
		snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra), " delay=%ld", v->remaining);
	else if (v->delayed > 0)
		snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra), " delayed=%ld", v->delayed);
	gg_log_msg(log, v->db_error ? LOG_WARNING : LOG_INFO,
		   "%s%sclient=%s[%s] helo=<%s> from=<%s> to=<%s> action=%s reason=%s%s%s%s%s",
		   p.qid, p.qid[0] ? ": " : "", p.name[0] ? p.name : "unknown", p.addr, p.helo,
		   p.from, p.to, gg_engine_action_str(v->action), v->reason, extra,
		   detail[0] ? " (" : "", detail, detail[0] ? ")" : "");
}

/* mlt_log_failopen - a recipient let through without a verdict, and why */
void mlt_log_failopen(const struct gg_log *log, const struct gg_request *r, const char *reason,
		      const char *why)
{
	struct parts p;

	request_parts(r, &p);
	gg_log_msg(log, LOG_WARNING,
		   "%s%sclient=%s[%s] helo=<%s> from=<%s> to=<%s> action=accept reason=%s (%s)",
		   p.qid, p.qid[0] ? ": " : "", p.name[0] ? p.name : "unknown", p.addr, p.helo,
		   p.from, p.to, reason, why);
}

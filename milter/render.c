/*
 * render.c - a verdict in the milter's terms: SMTP reply and headers
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
 * The log lines are the engine's (vlog.h), the same as greygate-policyd's.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "milter/milter.h"
#include "lib/util.h"

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

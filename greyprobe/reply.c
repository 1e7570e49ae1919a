/*
 * reply.c - SMTP reply parser and classifier (see reply.h)
 *
 * Every index into a line is checked against its length; the text buffer
 * is appended to through one bounded helper.  Matching of wording is ASCII
 * case-insensitive over the already sanitised text.
 */
#include <stdio.h>
#include <string.h>

#include "greyprobe/reply.h"

/* gg_reply_parser_init - an empty parser */
void gg_reply_parser_init(struct gg_reply_parser *p)
{
	memset(p, 0, sizeof(*p));
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* ci_find - ASCII case-insensitive strstr; needle is lower case */
static const char *ci_find(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay != '\0'; hay++) {
		size_t i;
		for (i = 0; i < n && hay[i] != '\0' && lower(hay[i]) == needle[i]; i++)
			;
		if (i == n)
			return hay;
	}
	return NULL;
}

/*
 * enhanced_len - length of an RFC 3463 code at s[0..len) ("4.7.1"), which
 * must be followed by a space or the end; 0 if there is none.  The class
 * must be 2, 4 or 5; subject and detail have 1-3 digits.
 */
static size_t enhanced_len(const char *s, size_t len)
{
	size_t i = 0, part, digits;

	if (len < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.')
		return 0;
	i = 2;
	for (part = 0; part < 2; part++) {
		for (digits = 0; i < len && is_digit(s[i]); i++)
			if (++digits > 3)
				return 0;
		if (digits == 0)
			return 0;
		if (part == 0) {
			if (i >= len || s[i] != '.')
				return 0;
			i++;
		}
	}
	if (i < len && s[i] != ' ')
		return 0;
	return i;
}

/* add_text - append sanitised bytes to the reply text, marking a cut */
static void add_text(struct gg_reply_parser *p, const char *s, size_t len)
{
	struct gg_reply *r = &p->r;
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (p->textlen + 1 >= sizeof(r->text)) {
			r->truncated = 1;
			break;
		}
		r->text[p->textlen++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	r->text[p->textlen] = '\0';
}

/* bad - record why a line was refused and reset for the next reply */
static enum gg_reply_feed bad(struct gg_reply_parser *p, const char *why)
{
	snprintf(p->err, sizeof(p->err), "%s", why);
	p->started = 0;
	return GG_REPLY_BAD;
}

/* gg_reply_feed - one line of a reply */
enum gg_reply_feed gg_reply_feed(struct gg_reply_parser *p, const char *line, size_t len)
{
	struct gg_reply *r = &p->r;
	int code, last;
	size_t off, elen;

	if (len > GG_REPLY_LINE_MAX)
		return bad(p, "reply line too long");
	if (len < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '5' ||
	    !is_digit(line[2]))
		return bad(p, "reply line does not start with a reply code");
	if (len > 3 && line[3] != ' ' && line[3] != '-')
		return bad(p, "reply code not followed by ' ' or '-'");
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	last = len == 3 || line[3] == ' ';
	if (!p->started) {
		/* A new reply: forget the previous one. */
		memset(r, 0, sizeof(*r));
		p->textlen = 0;
		p->err[0] = '\0';
		p->started = 1;
		r->code = code;
	} else if (code != r->code) {
		return bad(p, "continuation line with a different reply code");
	}
	if (++r->nlines > GG_REPLY_LINES_MAX)
		return bad(p, "reply has too many lines");
	off = len > 3 ? 4 : 3;
	elen = enhanced_len(line + off, len - off);
	if (elen > 0 && line[off] - '0' == code / 100) {
		if (r->nlines == 1) {
			memcpy(r->enhanced, line + off, elen);
			r->enhanced[elen] = '\0';
		}
		/* Drop the code from the text of every line that repeats it. */
		if (strlen(r->enhanced) == elen && memcmp(r->enhanced, line + off, elen) == 0) {
			off += elen;
			if (off < len && line[off] == ' ')
				off++;
		}
	}
	if (off < len) {
		if (p->textlen > 0)
			add_text(p, " ", 1);
		add_text(p, line + off, len - off);
	}
	if (!last)
		return GG_REPLY_MORE;
	p->started = 0;
	gg_reply_classify(r);
	return GG_REPLY_DONE;
}

/* gg_reply_parse - one reply from a buffer of lines */
enum gg_reply_feed gg_reply_parse(const char *buf, size_t len, struct gg_reply *out,
				  size_t *used, char *err, size_t errsize)
{
	struct gg_reply_parser p;
	size_t pos = 0;

	gg_reply_parser_init(&p);
	*used = 0;
	if (errsize > 0)
		err[0] = '\0';
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t llen, next;
		enum gg_reply_feed f;

		if (nl == NULL) {
			if (len - pos > GG_REPLY_LINE_MAX + 1) {
				snprintf(err, errsize, "reply line too long");
				return GG_REPLY_BAD;
			}
			return GG_REPLY_MORE;
		}
		llen = (size_t)(nl - (buf + pos));
		next = pos + llen + 1;
		if (llen > 0 && buf[pos + llen - 1] == '\r')
			llen--;
		f = gg_reply_feed(&p, buf + pos, llen);
		pos = next;
		if (f == GG_REPLY_BAD) {
			snprintf(err, errsize, "%s", p.err);
			return GG_REPLY_BAD;
		}
		if (f == GG_REPLY_DONE) {
			*out = p.r;
			*used = pos;
			return GG_REPLY_DONE;
		}
	}
	return GG_REPLY_MORE;
}

/* is_list_char - may appear in a DNS list name */
static int is_list_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '.' ||
	       c == '-' || c == '_';
}

/* gg_reply_find_list - the DNS list a rejection names, if any */
int gg_reply_find_list(const char *text, char *list, size_t size)
{
	static const char *const markers[] = {
		"blocked using ", "listed on ", "listed in ", "listed at ", "listed by ",
		"blacklisted by ", "blocklisted by ", "blacklisted at ", "blocklisted at ",
		"dnsbl:", "rhsbl:", "rbl:",
	};
	size_t m;

	for (m = 0; m < sizeof(markers) / sizeof(markers[0]); m++) {
		const char *at = text;

		while ((at = ci_find(at, markers[m])) != NULL) {
			const char *s = at + strlen(markers[m]);
			size_t n = 0, i;
			int dot = 0;

			at++;
			while (*s == ' ')
				s++;
			while (is_list_char(s[n]))
				n++;
			/* Trailing dots and dashes are punctuation, not the name. */
			while (n > 0 && (s[n - 1] == '.' || s[n - 1] == '-'))
				n--;
			if (n < 3 || s[0] == '.' || s[0] == '-' || n >= size)
				continue;
			for (i = 0; i < n; i++)
				if (s[i] == '.' && i + 1 < n)
					dot = 1;
			if (!dot)
				continue;
			memcpy(list, s, n);
			list[n] = '\0';
			return 1;
		}
	}
	return 0;
}

/* enh_is - does the enhanced code start with prefix ("4.7.") or equal it ("5.1.1")? */
static int enh_is(const struct gg_reply *r, const char *code, int prefix)
{
	size_t n = strlen(code);

	if (prefix)
		return strncmp(r->enhanced, code, n) == 0;
	return strcmp(r->enhanced, code) == 0;
}

/* has_any - does the text contain one of the (lower-case) phrases? */
static int has_any(const char *text, const char *const *phrases, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ci_find(text, phrases[i]) != NULL)
			return 1;
	return 0;
}

/* gg_reply_classify - the kind of a finished reply */
void gg_reply_classify(struct gg_reply *r)
{
	static const char *const grey[] = {
		"greylist", "graylist", "grey-list", "gray-list", "grey list", "gray list",
		"postgrey",
	};
	static const char *const nouser[] = {
		"user unknown", "unknown user", "no such user", "does not exist",
		"unknown recipient", "recipient unknown", "no such recipient",
	};

	r->list[0] = '\0';
	switch (r->code / 100) {
	case 2:
	case 3:
		r->kind = GG_KIND_ACCEPTED;
		return;
	case 4:
		if (r->code == 421)
			r->kind = GG_KIND_BUSY;
		else if ((r->code == 450 || r->code == 451) &&
			 (enh_is(r, "4.7.", 1) || has_any(r->text, grey, sizeof(grey) / sizeof(grey[0]))))
			r->kind = GG_KIND_GREYLISTED;
		else if (r->code == 452 || enh_is(r, "4.2.2", 0) || enh_is(r, "4.3.1", 0))
			r->kind = GG_KIND_STORAGE;
		else
			r->kind = GG_KIND_TEMPORARY;
		return;
	default:
		break;
	}
	if (enh_is(r, "5.1.1", 0) ||
	    (r->code == 550 && r->enhanced[0] == '\0' &&
	     has_any(r->text, nouser, sizeof(nouser) / sizeof(nouser[0]))))
		r->kind = GG_KIND_NO_USER;
	else if (r->code == 553 || enh_is(r, "5.1.3", 0))
		r->kind = GG_KIND_BAD_ADDRESS;
	else if (gg_reply_find_list(r->text, r->list, sizeof(r->list)))
		r->kind = GG_KIND_BLOCKLIST;
	else if (enh_is(r, "5.7.", 1))
		r->kind = GG_KIND_POLICY;
	else
		r->kind = GG_KIND_PERMANENT;
}

/* gg_reply_kind_str - stable kind names */
const char *gg_reply_kind_str(enum gg_reply_kind kind)
{
	switch (kind) {
	case GG_KIND_ACCEPTED:		return "accepted";
	case GG_KIND_GREYLISTED:	return "greylisted";
	case GG_KIND_BUSY:		return "busy";
	case GG_KIND_STORAGE:		return "storage";
	case GG_KIND_TEMPORARY:		return "temporary";
	case GG_KIND_NO_USER:		return "no-such-user";
	case GG_KIND_BAD_ADDRESS:	return "bad-address";
	case GG_KIND_BLOCKLIST:		return "blocklist";
	case GG_KIND_POLICY:		return "policy";
	case GG_KIND_PERMANENT:		return "permanent";
	case GG_KIND_REFUSED:		return "refused";
	case GG_KIND_TIMEOUT:		return "timeout";
	case GG_KIND_CLOSED:		return "closed";
	case GG_KIND_NETWORK:		return "network";
	case GG_KIND_PROTOCOL:		return "protocol";
	case GG_KIND_DNS:		return "dns";
	}
	return "?";
}

/* gg_reply_kind_class - what a kind means for retrying */
enum gg_reply_class gg_reply_kind_class(enum gg_reply_kind kind)
{
	switch (kind) {
	case GG_KIND_ACCEPTED:
		return GG_CLASS_OK;
	case GG_KIND_GREYLISTED:
	case GG_KIND_BUSY:
	case GG_KIND_STORAGE:
	case GG_KIND_TEMPORARY:
		return GG_CLASS_TEMP;
	case GG_KIND_NO_USER:
	case GG_KIND_BAD_ADDRESS:
	case GG_KIND_BLOCKLIST:
	case GG_KIND_POLICY:
	case GG_KIND_PERMANENT:
		return GG_CLASS_PERM;
	default:
		return GG_CLASS_NET;
	}
}

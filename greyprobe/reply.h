/*
 * reply.h - SMTP reply parser and classifier
 *
 * gg_reply_feed() takes a server's reply one line at a time (without the
 * line ending) and says when a whole reply, single- or multi-line
 * (RFC 5321 4.2), has arrived; gg_reply_parse() does the same over a
 * buffer of CRLF- or LF-terminated lines.  A finished reply has its code,
 * its enhanced status code (RFC 3463 "4.7.1", when the first line has one
 * whose class matches the code), its text (every line's text after the
 * code and enhanced code, joined by one space, control and non-ASCII
 * bytes replaced by '?', cut at GG_REPLY_TEXT_MAX - 1 bytes), and a kind.
 *
 * Limits, all enforced here: a line longer than GG_REPLY_LINE_MAX bytes, a
 * reply of more than GG_REPLY_LINES_MAX lines, a line that does not start
 * with a valid reply code (2-5, 0-5, 0-9) followed by ' ', '-' or the end
 * of the line, and continuation lines whose code differs from the first
 * are errors (GG_REPLY_BAD, with a reason in the parser's err[]).  Nothing
 * is allocated; any byte sequence is safe input.
 *
 * Kinds (gg_reply_classify(), run on every finished reply):
 *   2xx, 3xx                    accepted
 *   450/451 + 4.7.x, or a 450/451 whose text says greylist / graylist /
 *   grey list / postgrey        greylisted
 *   421                         busy (closing: connection or rate limit)
 *   452, 4.2.2, 4.3.1           storage (mailbox full, insufficient storage)
 *   other 4xx                   temporary
 *   5.1.1, or 550 whose text says user unknown / no such user / unknown
 *   user / does not exist       no-such-user
 *   553, 5.1.3                  bad-address
 *   5xx naming a DNS list ("blocked using zen.example", "listed on/in/at/by
 *   X", greygate's "dnsbl:X")   blocklist, with the list name in list[]
 *   other 5.7.x                 policy
 *   other 5xx                   permanent
 * The kinds after GG_KIND_PERMANENT describe attempts that ended without a
 * usable reply; the SMTP client (send.c) sets them, never the parser.
 */
#ifndef GG_REPLY_H
#define GG_REPLY_H

#include <stddef.h>

#define GG_REPLY_LINE_MAX 1000	/* bytes per reply line, line ending excluded
				   (RFC 5321 says 512; real servers go beyond) */
#define GG_REPLY_LINES_MAX 100	/* lines per multi-line reply */
#define GG_REPLY_TEXT_MAX 1024	/* text kept per reply, NUL included */
#define GG_REPLY_ENH_MAX 16	/* "5.123.123" and NUL */
#define GG_REPLY_LIST_MAX 128	/* a DNS list name */

enum gg_reply_kind {
	GG_KIND_ACCEPTED,
	GG_KIND_GREYLISTED,
	GG_KIND_BUSY,
	GG_KIND_STORAGE,
	GG_KIND_TEMPORARY,
	GG_KIND_NO_USER,
	GG_KIND_BAD_ADDRESS,
	GG_KIND_BLOCKLIST,
	GG_KIND_POLICY,
	GG_KIND_PERMANENT,
	/* Attempts without a usable reply (set by send.c and probe.c). */
	GG_KIND_REFUSED,	/* connection refused */
	GG_KIND_TIMEOUT,	/* connect or reply timed out */
	GG_KIND_CLOSED,		/* the server closed the connection */
	GG_KIND_NETWORK,	/* another socket error (unreachable, reset...) */
	GG_KIND_PROTOCOL,	/* the server broke the protocol (bad reply) */
	GG_KIND_DNS,		/* the host's addresses could not be looked up */
};

/* What an attempt's kind means for the retry logic. */
enum gg_reply_class {
	GG_CLASS_OK,		/* accepted */
	GG_CLASS_TEMP,		/* an SMTP 4xx: retry later */
	GG_CLASS_PERM,		/* an SMTP 5xx: give up */
	GG_CLASS_NET,		/* no usable reply: try the next address */
};

struct gg_reply {
	int code;				/* 200..559 */
	char enhanced[GG_REPLY_ENH_MAX];	/* "4.7.1", or "" */
	char text[GG_REPLY_TEXT_MAX];		/* sanitised, lines joined by ' ' */
	unsigned nlines;
	int truncated;				/* text was cut */
	enum gg_reply_kind kind;
	char list[GG_REPLY_LIST_MAX];		/* blocklist name, or "" */
};

struct gg_reply_parser {
	struct gg_reply r;
	size_t textlen;
	int started;			/* a multi-line reply is in progress */
	char err[96];			/* why the last feed said GG_REPLY_BAD */
};

enum gg_reply_feed {
	GG_REPLY_MORE,		/* a continuation line: feed the next one */
	GG_REPLY_DONE,		/* parser->r holds a whole, classified reply */
	GG_REPLY_BAD,		/* malformed or over a limit: see parser->err */
};

/* Start (or restart after DONE/BAD) a parser. */
void gg_reply_parser_init(struct gg_reply_parser *p);

/* Feed one line, without CR LF. */
enum gg_reply_feed gg_reply_feed(struct gg_reply_parser *p, const char *line, size_t len);

/*
 * Parse one reply from the start of buf[len] (lines end in LF, optionally
 * preceded by CR).  DONE: *out is the reply and *used the bytes it took.
 * MORE: buf ends before the reply does (an unterminated last line counts
 * as incomplete).  BAD: err[] says why.
 */
enum gg_reply_feed gg_reply_parse(const char *buf, size_t len, struct gg_reply *out,
				  size_t *used, char *err, size_t errsize);

/* Set r->kind and r->list from r->code, r->enhanced and r->text. */
void gg_reply_classify(struct gg_reply *r);

/* "accepted", "greylisted", ..., "dns": stable names for reports and JSON. */
const char *gg_reply_kind_str(enum gg_reply_kind kind);

/* The class of a kind. */
enum gg_reply_class gg_reply_kind_class(enum gg_reply_kind kind);

/*
 * Find a DNS list name in a reply text (see the blocklist kind above);
 * copies it to list[size] and returns 1, or returns 0.
 */
int gg_reply_find_list(const char *text, char *list, size_t size);

#endif

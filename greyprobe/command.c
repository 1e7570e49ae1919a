/*
 * command.c - greyprobe listen's SMTP command table and handlers (see command.h)
 *
 * As OpenSMTPD's smtp_session.c does it: the session's state is an enum,
 * and each command is one row of a table { verb, states it is allowed in,
 * reply when it is not, takes an argument or not, fixed reply, handler },
 * so the sequence rules are read in one place instead of in a chain of
 * string compares.  The checks run in a fixed order, which is what the client
 * sees: a DATA with an argument is a syntax error (501) before it is out
 * of sequence (503); MAIL and RCPT are out of sequence before their
 * syntax is looked at.  Handlers check their own syntax.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "greyprobe/command.h"
#include "greyprobe/dur.h"
#include "lib/util.h"

#define IN(st) (1u << (st))
#define ANY_STATE (IN(GG_SESSION_IDLE) | IN(GG_SESSION_MAIL) | IN(GG_SESSION_RCPT))

struct command {
	const char *verb;
	unsigned states;		/* IN() the states it is allowed in */
	const char *out_of_sequence;	/* the reply in any other state */
	int no_arg;			/* an argument is a syntax error */
	const char *reply;		/* a fixed reply, written before run (if any) runs */
	/* line is the command as the client spelled it; arg its argument */
	void (*run)(struct gg_session *s, const char *line, const char *arg);
};

/* parse_path - "<addr>" (or a bare addr) after FROM:/TO:; 0 ok, -1 bad */
static int parse_path(const char *arg, char *out, size_t size, const char **rest)
{
	const char *p = arg, *end;
	size_t n, i;

	while (*p == ' ')
		p++;
	if (*p == '<') {
		p++;
		if ((end = strchr(p, '>')) == NULL)
			return -1;
		*rest = end + 1;
	} else {
		end = p + strcspn(p, " ");
		*rest = end;
	}
	n = (size_t)(end - p);
	if (n >= size)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c <= 0x20 || c == 0x7f || c == '<' || c == '>')
			return -1;
	}
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

/* size_param - the SIZE= value among MAIL parameters, or -1 */
static long size_param(const char *rest)
{
	const char *p;

	for (p = rest; *p != '\0'; p++) {
		if (strncasecmp(p, "SIZE=", 5) == 0 && (p == rest || p[-1] == ' ')) {
			long v;
			char num[24];
			size_t n = strspn(p + 5, "0123456789");
			if (n == 0 || n >= sizeof(num))
				return n == 0 ? -1 : LONG_MAX;
			memcpy(num, p + 5, n);
			num[n] = '\0';
			if (gg_parse_long(num, 0, LONG_MAX, &v) != GG_OK)
				return LONG_MAX;
			return v;
		}
	}
	return -1;
}

/* live - one line per RCPT on stderr */
static void live(struct gg_session *s, const char *rcpt, const char *r)
{
	char d[GG_DUR_BUFSIZE], f[120], t[120];

	if (s->srv->p->quiet)
		return;
	gg_sanitize(f, sizeof(f), s->from, strlen(s->from), 100);
	gg_sanitize(t, sizeof(t), rcpt, strlen(rcpt), 100);
	fprintf(stderr, "greyprobe listen: +%s %s from=<%s> to=<%s>: %s\n",
		gg_dur_format(gg_session_now(s->srv), d, sizeof(d)), s->client, f, t, r);
}

/* syntax - a 501 reply, counted as a protocol error */
static void syntax(struct gg_session *s, const char *what)
{
	gg_session_reply(s, "501 5.5.4 Syntax: %s", what);
	gg_session_bad_command(s);
}

/* helo - EHLO or HELO: a new start, the hostname remembered */
static int helo(struct gg_session *s, const char *line, const char *arg)
{
	if (*arg == '\0') {
		gg_session_reply(s, "501 5.5.4 Syntax: %.4s hostname", line);
		gg_session_bad_command(s);
		return -1;
	}
	gg_sanitize(s->helo, sizeof(s->helo), arg, strlen(arg), sizeof(s->helo) - 4);
	gg_session_reset(s);
	return 0;
}

/* cmd_ehlo - EHLO name: the extensions we have */
static void cmd_ehlo(struct gg_session *s, const char *line, const char *arg)
{
	if (helo(s, line, arg) != 0)
		return;
	gg_session_reply(s, "250-%s", s->srv->hostname);
	gg_session_reply(s, "250-SIZE %ld", s->srv->p->max_size);
	gg_session_reply(s, "250-8BITMIME");
	gg_session_reply(s, "250 ENHANCEDSTATUSCODES");
}

/* cmd_helo - HELO name */
static void cmd_helo(struct gg_session *s, const char *line, const char *arg)
{
	if (helo(s, line, arg) == 0)
		gg_session_reply(s, "250 %s", s->srv->hostname);
}

/* cmd_mail - MAIL FROM:<addr> [params] */
static void cmd_mail(struct gg_session *s, const char *line, const char *arg)
{
	const char *rest;

	(void)line;
	if (strncasecmp(arg, "FROM:", 5) != 0 ||
	    parse_path(arg + 5, s->from, sizeof(s->from), &rest) != 0) {
		syntax(s, "MAIL FROM:<address>");
		return;
	}
	if (size_param(rest) > s->srv->p->max_size) {
		gg_session_reply(s, "552 5.3.4 Message size exceeds fixed limit");
		return;
	}
	s->state = GG_SESSION_MAIL;
	gg_session_reply(s, "250 2.1.0 Ok");
}

/* cmd_rcpt - RCPT TO:<addr>: the decision */
static void cmd_rcpt(struct gg_session *s, const char *line, const char *arg)
{
	struct gg_listen_server *srv = s->srv;
	char rcpt[GG_SESSION_ADDR_MAX], r[GG_TRACK_REPLY_MAX];
	const char *rest;
	enum gg_track_action a;

	(void)line;
	if (strncasecmp(arg, "TO:", 3) != 0 || parse_path(arg + 3, rcpt, sizeof(rcpt), &rest) != 0 ||
	    rcpt[0] == '\0') {
		syntax(s, "RCPT TO:<address>");
		return;
	}
	if (s->ntried >= GG_LISTEN_MAX_RCPT) {
		gg_session_reply(s, "452 4.5.3 Error: too many recipients");
		return;
	}
	s->ntried++;
	a = gg_track_rcpt(srv->track, gg_session_now(srv), s->client, s->helo, s->from, rcpt, r,
			  sizeof(r));
	if (a == GG_TRACK_ACCEPT) {
		char *copy = strdup(rcpt);
		if (copy == NULL) {
			gg_session_reply(s, "451 4.3.0 Error: out of memory");
			return;
		}
		s->rcpts[s->nrcpts++] = copy;
		s->state = GG_SESSION_RCPT;
	}
	gg_session_reply(s, "%s", r);
	live(s, rcpt, r);
}

/* cmd_data - DATA: the message follows, if anyone is to receive it */
static void cmd_data(struct gg_session *s, const char *line, const char *arg)
{
	(void)line;
	(void)arg;
	/* Not a protocol error: every recipient may have been deferred. */
	if (s->state != GG_SESSION_RCPT) {
		gg_session_reply(s, "554 5.5.1 Error: no valid recipients");
		return;
	}
	gg_session_reply(s, "354 End data with <CR><LF>.<CR><LF>");
	gg_session_start_data(s);
}

/* cmd_rset - RSET: forget the transaction (the table's reply says so) */
static void cmd_rset(struct gg_session *s, const char *line, const char *arg)
{
	(void)line;
	(void)arg;
	gg_session_reset(s);
}

/* cmd_quit - QUIT: close once the table's reply is written */
static void cmd_quit(struct gg_session *s, const char *line, const char *arg)
{
	(void)line;
	(void)arg;
	gg_session_close_after(s);
}

static const struct command commands[] = {
	{ "EHLO", ANY_STATE, NULL, 0, NULL, cmd_ehlo },
	{ "HELO", ANY_STATE, NULL, 0, NULL, cmd_helo },
	{ "MAIL", IN(GG_SESSION_IDLE), "503 5.5.1 Error: nested MAIL command", 0, NULL, cmd_mail },
	{ "RCPT", IN(GG_SESSION_MAIL) | IN(GG_SESSION_RCPT), "503 5.5.1 Error: need MAIL command",
	  0, NULL, cmd_rcpt },
	{ "DATA", IN(GG_SESSION_MAIL) | IN(GG_SESSION_RCPT), "503 5.5.1 Error: need MAIL command",
	  1, NULL, cmd_data },
	{ "RSET", ANY_STATE, NULL, 0, "250 2.0.0 Ok", cmd_rset },
	{ "NOOP", ANY_STATE, NULL, 0, "250 2.0.0 Ok", NULL },
	{ "VRFY", ANY_STATE, NULL, 0, "252 2.0.0 Send some mail, I'll try my best", NULL },
	{ "HELP", ANY_STATE, NULL, 0, "214 2.0.0 EHLO HELO MAIL RCPT DATA RSET NOOP VRFY HELP QUIT",
	  NULL },
	{ "QUIT", ANY_STATE, NULL, 0, "221 2.0.0 Bye", cmd_quit },
};

/* lookup - the command whose verb starts the line (then a space or the end) */
static const struct command *lookup(const char *line)
{
	size_t n = strcspn(line, " "), i;

	for (i = 0; i < GG_ARRAY_LEN(commands); i++)
		if (strlen(commands[i].verb) == n && strncasecmp(line, commands[i].verb, n) == 0)
			return &commands[i];
	return NULL;
}

/* gg_command_run - one SMTP command line */
void gg_command_run(struct gg_session *s, const char *line, size_t len)
{
	const struct command *c;
	const char *arg;

	if (strlen(line) != len) {
		gg_session_reply(s, "500 5.5.2 Error: bad characters in command");
		gg_session_bad_command(s);
		return;
	}
	if ((c = lookup(line)) == NULL) {
		gg_session_reply(s, "500 5.5.2 Error: command not recognized");
		gg_session_bad_command(s);
		return;
	}
	arg = line + strlen(c->verb);
	while (*arg == ' ')
		arg++;
	if (c->no_arg && *arg != '\0') {
		syntax(s, c->verb);
		return;
	}
	if (!(c->states & IN(s->state))) {
		gg_session_reply(s, "%s", c->out_of_sequence);
		gg_session_bad_command(s);
		return;
	}
	if (c->reply != NULL)
		gg_session_reply(s, "%s", c->reply);
	if (c->run != NULL)
		c->run(s, line, arg);
}

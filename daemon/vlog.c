/*
 * vlog.c - the one log line per decision (see vlog.h)
 */
#include <stdio.h>
#include <string.h>

#include "lib/util.h"
#include "daemon/vlog.h"

/* The sanitised request fields every line shows. */
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

/*
 * A bounded string being built: like one snprintf() of all the pieces,
 * what does not fit is cut and buf stays NUL-terminated.
 */
struct out {
	char *buf;
	size_t len, size;
};

static void put(struct out *o, const char *s, size_t n)
{
	size_t room = o->size - 1 - o->len;

	if (n > room)
		n = room;
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void put_str(struct out *o, const char *s)
{
	if (s == NULL)
		s = "(null)";	/* what glibc's printf gives for %s */
	put(o, s, strlen(s));
}

/* put_long - as "%ld" */
static void put_long(struct out *o, long v)
{
	char tmp[24];
	size_t i = sizeof(tmp);
	unsigned long u = v < 0 ? 0UL - (unsigned long)v : (unsigned long)v;

	do
		tmp[--i] = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		tmp[--i] = '-';
	put(o, tmp + i, sizeof(tmp) - i);
}

/*
 * gg_vlog_verdict - the decision line
 *
 * Built piece by piece rather than with snprintf(), which cost more than
 * everything else in it at one line per request; the text is the same
 * (see vlog.h), and so is where a line too long for its buffer is cut.
 */
void gg_vlog_verdict(const struct gg_log *log, int batched, const struct gg_request *r,
		     const struct gg_verdict *v)
{
	struct parts p;
	char detail[200], extra[600], line[1600];
	struct out e = { extra, 0, sizeof(extra) }, l = { line, 0, sizeof(line) };
	int prio = v->db_error ? LOG_WARNING : LOG_INFO;

	request_parts(r, &p);
	gg_sanitize(detail, sizeof(detail), v->detail, strlen(v->detail), 150);
	extra[0] = '\0';
	if (v->scored) {
		char reasons[420];
		gg_sanitize(reasons, sizeof(reasons), v->reasons, strlen(v->reasons), 400);
		snprintf(extra, sizeof(extra), " score=%g reasons=%s", v->score,
			 reasons[0] ? reasons : "-");
		e.len = strlen(extra);
	}
	if (v->action == GG_ACTION_GREYLIST && !v->db_error) {
		put(&e, " delay=", 7);
		put_long(&e, v->remaining);
	} else if (v->delayed > 0) {
		put(&e, " delayed=", 9);
		put_long(&e, v->delayed);
	}
	line[0] = '\0';
	if (p.qid[0]) {
		put_str(&l, p.qid);
		put(&l, ": ", 2);
	}
	put(&l, "client=", 7);
	put_str(&l, p.name[0] ? p.name : "unknown");
	put(&l, "[", 1);
	put_str(&l, p.addr);
	put(&l, "] helo=<", 8);
	put_str(&l, p.helo);
	put(&l, "> from=<", 8);
	put_str(&l, p.from);
	put(&l, "> to=<", 6);
	put_str(&l, p.to);
	put(&l, "> action=", 9);
	put_str(&l, gg_engine_action_str(v->action));
	put(&l, " reason=", 8);
	put_str(&l, v->reason);
	put(&l, extra, e.len);
	if (detail[0]) {
		put(&l, " (", 2);
		put_str(&l, detail);
		put(&l, ")", 1);
	}
	if (batched)
		gg_log_batched(log, prio, "%s", line);
	else
		gg_log_msg(log, prio, "%s", line);
}

void gg_vlog_failopen(const struct gg_log *log, const struct gg_request *r, const char *reason,
		      const char *why)
{
	struct parts p;

	request_parts(r, &p);
	gg_log_msg(log, LOG_WARNING,
		   "%s%sclient=%s[%s] helo=<%s> from=<%s> to=<%s> action=accept reason=%s (%s)",
		   p.qid, p.qid[0] ? ": " : "", p.name[0] ? p.name : "unknown", p.addr, p.helo,
		   p.from, p.to, reason, why);
}

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

void gg_vlog_verdict(const struct gg_log *log, int batched, const struct gg_request *r,
		     const struct gg_verdict *v)
{
	struct parts p;
	char detail[200], extra[600], line[1600];
	int prio = v->db_error ? LOG_WARNING : LOG_INFO;

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
	snprintf(line, sizeof(line),
		 "%s%sclient=%s[%s] helo=<%s> from=<%s> to=<%s> action=%s reason=%s%s%s%s%s",
		 p.qid, p.qid[0] ? ": " : "", p.name[0] ? p.name : "unknown", p.addr, p.helo,
		 p.from, p.to, gg_engine_action_str(v->action), v->reason, extra,
		 detail[0] ? " (" : "", detail, detail[0] ? ")" : "");
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

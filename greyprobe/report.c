/*
 * report.c - collect attempts, derive the outcome, print it (see report.h)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "greyprobe/dur.h"
#include "lib/json.h"
#include "greyprobe/report.h"
#include "lib/util.h"

/* gg_report_init - an empty report */
void gg_report_init(struct gg_report *r)
{
	memset(r, 0, sizeof(*r));
	r->port = 25;
}

/* gg_report_free - attempts and dialogue */
void gg_report_free(struct gg_report *r)
{
	size_t i;

	for (i = 0; i < r->nattempts; i++)
		free(r->attempts[i].dialogue);
	free(r->attempts);
	r->attempts = NULL;
	r->nattempts = r->cap = 0;
}

/* gg_report_set_mx - copy the hosts and addresses that were found */
void gg_report_set_mx(struct gg_report *r, const struct gg_mx_list *list)
{
	size_t h, a;

	r->mx_known = 1;
	r->implicit_mx = list->implicit;
	r->literal = list->literal;
	r->null_mx = list->result == GG_MX_NULL;
	r->nmx = 0;
	for (h = 0; h < list->nhosts && h < GG_MX_MAX_HOSTS; h++) {
		struct gg_report_mx *m = &r->mx[r->nmx++];
		const struct gg_mx_host *host = &list->hosts[h];
		gg_strcpy(m->name, sizeof(m->name), host->name);
		m->pref = host->pref;
		m->naddrs = 0;
		for (a = 0; a < host->naddrs && a < GG_MX_MAX_ADDRS; a++)
			gg_addr_format(&host->addrs[a], m->addrs[m->naddrs++], GG_ADDR_STRLEN);
		gg_strcpy(m->error, sizeof(m->error), host->naddrs > 0 ? "" : host->error);
	}
}

/* gg_report_add - keep one attempt */
enum gg_status gg_report_add(struct gg_report *r, struct gg_attempt *a)
{
	if (r->nattempts >= GG_REPORT_MAX_ATTEMPTS) {
		r->dropped++;
		free(a->dialogue);
		a->dialogue = NULL;
		return GG_ETOOBIG;
	}
	if (r->nattempts == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		struct gg_attempt *n = realloc(r->attempts, cap * sizeof(*n));
		if (n == NULL) {
			free(a->dialogue);
			a->dialogue = NULL;
			r->dropped++;
			return GG_ENOMEM;
		}
		r->attempts = n;
		r->cap = cap;
	}
	r->attempts[r->nattempts++] = *a;
	a->dialogue = NULL;
	a->dialogue_len = 0;
	return GG_OK;
}

/* gg_report_dialogue - one line of the transcript, bounded */
void gg_report_dialogue(struct gg_attempt *a, double t, const char *dir, const char *line,
			size_t len)
{
	char clean[GG_REPLY_LINE_MAX + 8], head[48];
	size_t need, hlen;
	char *n;

	if (a->dialogue_len >= GG_REPORT_DIALOGUE_MAX)
		return;
	gg_sanitize(clean, sizeof(clean), line, len, GG_REPLY_LINE_MAX);
	hlen = (size_t)snprintf(head, sizeof(head), "%.3f %s ", t < 0 ? 0.0 : t, dir);
	need = hlen + strlen(clean) + 1;
	if (a->dialogue_len + need + 1 > GG_REPORT_DIALOGUE_MAX) {
		static const char cut[] = "[dialogue cut]\n";
		if ((n = realloc(a->dialogue, a->dialogue_len + sizeof(cut))) == NULL)
			return;
		memcpy(n + a->dialogue_len, cut, sizeof(cut));
		a->dialogue = n;
		a->dialogue_len = GG_REPORT_DIALOGUE_MAX;
		return;
	}
	if ((n = realloc(a->dialogue, a->dialogue_len + need + 1)) == NULL)
		return;
	a->dialogue = n;
	snprintf(n + a->dialogue_len, need + 1, "%s%s\n", head, clean);
	a->dialogue_len += need;
}

/* gg_report_outcome_str - stable outcome names */
const char *gg_report_outcome_str(enum gg_outcome o)
{
	switch (o) {
	case GG_OUT_NONE:		return "none";
	case GG_OUT_DELIVERED:		return "delivered";
	case GG_OUT_VERIFIED:		return "verified";
	case GG_OUT_REFUSED:		return "refused";
	case GG_OUT_DEFERRED:		return "deferred";
	case GG_OUT_UNREACHABLE:	return "unreachable";
	}
	return "?";
}

/* Each stage as a human reads it and as a JSON value. */
static const struct {
	const char *str, *key;
} stage_names[] = {
	[GG_STAGE_DNS] =	{ "DNS", "dns" },
	[GG_STAGE_CONNECT] =	{ "connect", "connect" },
	[GG_STAGE_GREETING] =	{ "greeting", "greeting" },
	[GG_STAGE_EHLO] =	{ "EHLO", "ehlo" },
	[GG_STAGE_HELO] =	{ "HELO", "helo" },
	[GG_STAGE_MAIL] =	{ "MAIL", "mail" },
	[GG_STAGE_RCPT] =	{ "RCPT", "rcpt" },
	[GG_STAGE_DATA] =	{ "DATA", "data" },
	[GG_STAGE_MESSAGE] =	{ "end of data", "message" },
	[GG_STAGE_RSET] =	{ "RSET", "rset" },
	[GG_STAGE_QUIT] =	{ "QUIT", "quit" },
};

/* gg_report_stage_str - stage as a human reads it */
const char *gg_report_stage_str(enum gg_stage st)
{
	return (size_t)st < GG_ARRAY_LEN(stage_names) ? stage_names[st].str : "?";
}

/* gg_report_stage_key - stage as a JSON value */
const char *gg_report_stage_key(enum gg_stage st)
{
	return (size_t)st < GG_ARRAY_LEN(stage_names) ? stage_names[st].key : "?";
}

/* gg_report_exit_code - the documented exit status */
int gg_report_exit_code(const struct gg_report *r)
{
	switch (r->outcome) {
	case GG_OUT_DELIVERED:
	case GG_OUT_VERIFIED:
		return 0;
	case GG_OUT_REFUSED:
		return 1;
	case GG_OUT_DEFERRED:
		return 2;
	case GG_OUT_UNREACHABLE:
		return 3;
	default:
		return 70;
	}
}

/* reply_line - "450 4.7.1 text" or the network error, into buf */
static void reply_line(const struct gg_attempt *a, char *buf, size_t size)
{
	if (a->code > 0)
		snprintf(buf, size, "%d%s%s%s%s", a->code, a->enhanced[0] ? " " : "", a->enhanced,
			 a->text[0] ? " " : "", a->text);
	else
		snprintf(buf, size, "%s", a->text);
}

/* add_host_name - append name to a " and "-separated list, once */
static void add_host_name(char *list, size_t size, const char *name)
{
	const char *p = list;
	size_t n = strlen(name), len = strlen(list);

	while ((p = strstr(p, name)) != NULL) {
		if ((p == list || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
			return;
		p += n;
	}
	if (len > 0 && len + 5 < size) {
		memcpy(list + len, " and ", 6);
		len += 5;
	}
	if (len + n < size) {
		memcpy(list + len, name, n + 1);
	}
}

/* What a run's attempts add up to, for its summary. */
struct tally {
	const struct gg_attempt *last;		/* the last attempt, NULL if none */
	const struct gg_attempt *first_temp;	/* the first and last deferral */
	const struct gg_attempt *last_temp;
	size_t nnet;				/* attempts that failed on the network */
};

/* tally - count the deferrals (and who deferred) into r, the rest into *t */
static void tally(struct gg_report *r, struct tally *t)
{
	memset(t, 0, sizeof(*t));
	t->last = r->nattempts ? &r->attempts[r->nattempts - 1] : NULL;
	r->ndeferred = 0;
	r->greylisted = 0;
	r->delay = 0;
	r->deferred_by[0] = '\0';
	for (size_t i = 0; i < r->nattempts; i++) {
		const struct gg_attempt *a = &r->attempts[i];
		enum gg_reply_class c = gg_reply_kind_class(a->kind);
		if (c == GG_CLASS_TEMP) {
			r->ndeferred++;
			if (t->first_temp == NULL)
				t->first_temp = a;
			t->last_temp = a;
			if (a->kind == GG_KIND_GREYLISTED)
				r->greylisted = 1;
			add_host_name(r->deferred_by, sizeof(r->deferred_by), a->host);
		} else if (c == GG_CLASS_NET) {
			t->nnet++;
		}
	}
}

/* summarize - the one-line summary of r's outcome */
static void summarize(struct gg_report *r, const struct tally *t)
{
	const struct gg_attempt *last = t->last, *first_temp = t->first_temp;
	const struct gg_attempt *last_temp = t->last_temp;
	char d[GG_DUR_BUFSIZE], line[GG_REPLY_TEXT_MAX + 32];
	enum gg_outcome outcome = r->outcome;
	double elapsed = r->elapsed;
	size_t nnet = t->nnet;

	switch (outcome) {
	case GG_OUT_DELIVERED:
	case GG_OUT_VERIFIED: {
		const char *what = outcome == GG_OUT_DELIVERED ? "accepted" : "verified";
		if (first_temp != NULL && last != NULL) {
			r->delay = last->offset - first_temp->offset;
			snprintf(r->summary, sizeof(r->summary),
				 "deferred by %s for %s over %zu attempt%s, then %s%s%s",
				 r->deferred_by, gg_dur_format(r->delay, d, sizeof(d)), r->ndeferred,
				 r->ndeferred == 1 ? "" : "s", what,
				 last != NULL && strcmp(last->host, last_temp->host) != 0 ? " by " : "",
				 last != NULL && strcmp(last->host, last_temp->host) != 0 ? last->host
				 : "");
		} else if (last != NULL) {
			snprintf(r->summary, sizeof(r->summary), "%s by %s without delay%s", what,
				 last->host, nnet > 0 ? " (after failed connection attempts)" : "");
		} else {
			snprintf(r->summary, sizeof(r->summary), "%s", what);
		}
		break;
	}
	case GG_OUT_REFUSED:
		if (last != NULL && gg_reply_kind_class(last->kind) == GG_CLASS_PERM) {
			reply_line(last, line, sizeof(line));
			snprintf(r->summary, sizeof(r->summary), "refused permanently by %s at %s: %s (%s%s%s)",
				 last->host, gg_report_stage_str(last->stage), line,
				 gg_reply_kind_str(last->kind), last->list[0] ? " " : "", last->list);
		} else {
			snprintf(r->summary, sizeof(r->summary), "refused permanently: %s",
				 r->reason[0] ? r->reason : "no reason given");
		}
		break;
	case GG_OUT_DEFERRED:
		if (last_temp != NULL) {
			reply_line(last_temp, line, sizeof(line));
			snprintf(r->summary, sizeof(r->summary),
				 "still deferred by %s after %s over %zu attempt%s (last: %s)%s%s",
				 r->deferred_by, gg_dur_format(elapsed, d, sizeof(d)), r->ndeferred,
				 r->ndeferred == 1 ? "" : "s", line, r->reason[0] ? "; " : "", r->reason);
		} else {
			snprintf(r->summary, sizeof(r->summary), "still deferred after %s%s%s",
				 gg_dur_format(elapsed, d, sizeof(d)), r->reason[0] ? "; " : "",
				 r->reason);
		}
		break;
	case GG_OUT_UNREACHABLE:
		if (last != NULL) {
			reply_line(last, line, sizeof(line));
			snprintf(r->summary, sizeof(r->summary),
				 "no mail server reachable in %zu attempt%s over %s (last: %s %s: %s)%s%s",
				 r->nattempts, r->nattempts == 1 ? "" : "s",
				 gg_dur_format(elapsed, d, sizeof(d)), last->host,
				 gg_report_stage_str(last->stage), line, r->reason[0] ? "; " : "",
				 r->reason);
		} else {
			snprintf(r->summary, sizeof(r->summary), "no mail server reachable%s%s",
				 r->reason[0] ? ": " : "", r->reason);
		}
		break;
	case GG_OUT_NONE:
		snprintf(r->summary, sizeof(r->summary), "not finished");
		break;
	}
}

/* gg_report_finish - outcome and summary */
void gg_report_finish(struct gg_report *r, enum gg_outcome outcome, double elapsed,
		      const char *reason)
{
	struct tally t;

	r->outcome = outcome;
	r->elapsed = elapsed;
	gg_strcpy(r->reason, sizeof(r->reason), reason != NULL ? reason : "");
	tally(r, &t);
	summarize(r, &t);
}

/* fmt_start - the start time in UTC */
static void fmt_start(time_t t, char *buf, size_t size, int iso)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, size, iso ? "%Y-%m-%dT%H:%M:%SZ" :
						  "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(buf, size, "%lld", (long long)t);
}

/* addr_port - "[2001:db8::1]:25" or "192.0.2.1:25" */
static void addr_port(const char *addr, unsigned port, char *buf, size_t size)
{
	if (addr[0] == '\0')
		snprintf(buf, size, "-");
	else if (strchr(addr, ':') != NULL)
		snprintf(buf, size, "[%s]:%u", addr, port);
	else
		snprintf(buf, size, "%s:%u", addr, port);
}

/* print_mx - where mail goes, one line */
static void print_mx(FILE *fp, const struct gg_report *r)
{
	size_t h, a;

	if (r->server[0] != '\0') {
		fprintf(fp, "server:  %s (no MX lookup)\n", r->server);
		return;
	}
	if (!r->mx_known) {
		fprintf(fp, "mx:      %s: not found\n", r->domain);
		return;
	}
	if (r->null_mx) {
		fprintf(fp, "mx:      %s: null MX (RFC 7505): the domain accepts no mail\n", r->domain);
		return;
	}
	fprintf(fp, "mx:      %s:", r->domain);
	if (r->literal)
		fprintf(fp, " an address literal,");
	else if (r->implicit_mx)
		fprintf(fp, " no MX, implicit MX (the domain's own address),");
	for (h = 0; h < r->nmx; h++) {
		const struct gg_report_mx *m = &r->mx[h];
		fprintf(fp, "%s", h ? "," : "");
		if (!r->implicit_mx && !r->literal)
			fprintf(fp, " %u", m->pref);
		fprintf(fp, " %s", m->name);
		if (m->naddrs == 0)
			fprintf(fp, " (%s)", m->error[0] ? m->error : "no address");
		for (a = 0; a < m->naddrs; a++)
			fprintf(fp, "%s%s%s", a ? " " : " [", m->addrs[a], a + 1 == m->naddrs ? "]" : "");
	}
	fputc('\n', fp);
}

/* print_dialogue - each line indented */
static void print_dialogue(FILE *fp, const char *d)
{
	while (d != NULL && *d != '\0') {
		const char *nl = strchr(d, '\n');
		size_t n = nl ? (size_t)(nl - d) : strlen(d);
		fprintf(fp, "      %.*s\n", (int)n, d);
		d += n + (nl ? 1 : 0);
	}
}

/* gg_report_print - the human transcript */
void gg_report_print(FILE *fp, const struct gg_report *r, int verbose)
{
	char when[40], d1[GG_DUR_BUFSIZE], ap[GG_ADDR_STRLEN + 10], line[GG_REPLY_TEXT_MAX + 32];
	size_t i;

	fmt_start(r->start, when, sizeof(when), 0);
	fprintf(fp, "probe:   <%s> -> <%s>%s, id %s\n", r->from, r->to,
		r->verify_only ? " (verify only)" : "", r->id);
	fprintf(fp, "start:   %s, schedule %s, max time %s\n", when, r->schedule,
		gg_dur_format(r->max_time, d1, sizeof(d1)));
	print_mx(fp, r);
	for (i = 0; i < r->nattempts; i++) {
		const struct gg_attempt *a = &r->attempts[i];
		addr_port(a->addr, a->port, ap, sizeof(ap));
		reply_line(a, line, sizeof(line));
		/* A host given as an address is not shown twice. */
		fprintf(fp, "\nattempt %zu  +%s  %s%s%s  (round %u, %s)\n", i + 1,
			gg_dur_format(a->offset, d1, sizeof(d1)),
			strcmp(a->host, a->addr) == 0 ? "" : a->host,
			strcmp(a->host, a->addr) == 0 ? "" : " ", ap, a->round,
			gg_reply_kind_str(a->kind));
		fprintf(fp, "    %s: %s", gg_report_stage_str(a->stage), line);
		if (a->list[0] != '\0')
			fprintf(fp, "  [list %s]", a->list);
		if (a->helo_fallback)
			fprintf(fp, "  [EHLO refused, HELO used]");
		fprintf(fp, "  (%s)\n", gg_dur_format(a->duration, d1, sizeof(d1)));
		if (verbose && a->dialogue != NULL)
			print_dialogue(fp, a->dialogue);
	}
	if (r->dropped > 0)
		fprintf(fp, "\n(%zu more attempts not recorded)\n", r->dropped);
	fprintf(fp, "\noutcome: %s (exit %d) after %s\n", gg_report_outcome_str(r->outcome),
		gg_report_exit_code(r), gg_dur_format(r->elapsed, d1, sizeof(d1)));
	fprintf(fp, "summary: %s\n", r->summary);
	if (r->ndeferred > 0 && (r->outcome == GG_OUT_DELIVERED || r->outcome == GG_OUT_VERIFIED))
		fprintf(fp, "delay:   %s%s\n", gg_dur_format(r->delay, d1, sizeof(d1)),
			r->greylisted ? " (greylisting)" : " (temporary failures)");
}

/* json_kv_str - ,"key":"value" */
static void json_kv_str(FILE *fp, const char *key, const char *value, int first)
{
	fprintf(fp, "%s\"%s\":", first ? "" : ",", key);
	gg_json_str(fp, value);
}

/* json_dialogue - the dialogue as an array of lines */
static void json_dialogue(FILE *fp, const char *d)
{
	char line[GG_REPLY_LINE_MAX + 64];
	int first = 1;

	fputc('[', fp);
	while (d != NULL && *d != '\0') {
		const char *nl = strchr(d, '\n');
		size_t n = nl ? (size_t)(nl - d) : strlen(d);
		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		memcpy(line, d, n);
		line[n] = '\0';
		if (!first)
			fputc(',', fp);
		gg_json_str(fp, line);
		first = 0;
		d = nl ? nl + 1 : d + strlen(d);
	}
	fputc(']', fp);
}

/* gg_report_json - one JSON object */
void gg_report_json(FILE *fp, const struct gg_report *r, int verbose)
{
	char when[40];
	size_t i, a;

	fmt_start(r->start, when, sizeof(when), 1);
	fputc('{', fp);
	json_kv_str(fp, "from", r->from, 1);
	json_kv_str(fp, "to", r->to, 0);
	json_kv_str(fp, "id", r->id, 0);
	json_kv_str(fp, "start", when, 0);
	json_kv_str(fp, "schedule", r->schedule, 0);
	fprintf(fp, ",\"max_time\":");
	gg_json_num(fp, r->max_time);
	fprintf(fp, ",\"verify_only\":%s", r->verify_only ? "true" : "false");
	json_kv_str(fp, "domain", r->domain, 0);
	fprintf(fp, ",\"server\":");
	gg_json_str(fp, r->server[0] ? r->server : NULL);
	fprintf(fp, ",\"implicit_mx\":%s,\"null_mx\":%s,\"mx\":[", r->implicit_mx ? "true" : "false",
		r->null_mx ? "true" : "false");
	for (i = 0; i < r->nmx; i++) {
		const struct gg_report_mx *m = &r->mx[i];
		fprintf(fp, "%s{", i ? "," : "");
		json_kv_str(fp, "host", m->name, 1);
		fprintf(fp, ",\"pref\":%u,\"addresses\":[", m->pref);
		for (a = 0; a < m->naddrs; a++) {
			if (a)
				fputc(',', fp);
			gg_json_str(fp, m->addrs[a]);
		}
		fputc(']', fp);
		if (m->naddrs == 0)
			json_kv_str(fp, "error", m->error, 0);
		fputc('}', fp);
	}
	fprintf(fp, "],\"attempts\":[");
	for (i = 0; i < r->nattempts; i++) {
		const struct gg_attempt *t = &r->attempts[i];
		fprintf(fp, "%s{\"n\":%zu,\"round\":%u,\"offset\":", i ? "," : "", i + 1, t->round);
		gg_json_num(fp, t->offset);
		json_kv_str(fp, "host", t->host, 0);
		fprintf(fp, ",\"address\":");
		gg_json_str(fp, t->addr[0] ? t->addr : NULL);
		fprintf(fp, ",\"port\":%u", t->port);
		json_kv_str(fp, "stage", gg_report_stage_key(t->stage), 0);
		if (t->code > 0)
			fprintf(fp, ",\"code\":%d", t->code);
		else
			fprintf(fp, ",\"code\":null");
		fprintf(fp, ",\"enhanced\":");
		gg_json_str(fp, t->enhanced[0] ? t->enhanced : NULL);
		json_kv_str(fp, "text", t->text, 0);
		json_kv_str(fp, "kind", gg_reply_kind_str(t->kind), 0);
		fprintf(fp, ",\"list\":");
		gg_json_str(fp, t->list[0] ? t->list : NULL);
		fprintf(fp, ",\"helo_fallback\":%s,\"duration\":", t->helo_fallback ? "true" : "false");
		gg_json_num(fp, t->duration);
		if (verbose) {
			fprintf(fp, ",\"dialogue\":");
			json_dialogue(fp, t->dialogue);
		}
		fputc('}', fp);
	}
	fprintf(fp, "],\"attempts_dropped\":%zu", r->dropped);
	json_kv_str(fp, "outcome", gg_report_outcome_str(r->outcome), 0);
	fprintf(fp, ",\"exit\":%d,\"elapsed\":", gg_report_exit_code(r));
	gg_json_num(fp, r->elapsed);
	fprintf(fp, ",\"deferrals\":%zu,\"greylisted\":%s,\"delay\":", r->ndeferred,
		r->greylisted ? "true" : "false");
	gg_json_num(fp, r->delay);
	fprintf(fp, ",\"deferred_by\":");
	gg_json_str(fp, r->deferred_by[0] ? r->deferred_by : NULL);
	json_kv_str(fp, "summary", r->summary, 0);
	fprintf(fp, "}\n");
}

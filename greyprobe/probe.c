/*
 * probe.c - rounds of delivery attempts on a retry schedule (see probe.h)
 *
 * States: waiting for the round timer, looking up MX hosts, or running
 * one SMTP session; exactly one of pr->timer (pending), pr->lookup and
 * pr->send is active at any time until the run is finished.  A round is a
 * list of targets (host, address) built from the MX list, with the host
 * and address of the last temporary refusal moved to the front.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "greyprobe/dur.h"
#include "greyprobe/probe.h"
#include "lib/clock.h"
#include "lib/util.h"

#define MAX_TARGETS (GG_MX_MAX_HOSTS * GG_MX_MAX_ADDRS)

struct target {
	size_t host;
	long addr;			/* index into the host's addrs, -1: none */
};

struct gg_probe {
	struct event_base *base;
	struct gg_resolver *r;
	struct gg_probe_params p;
	struct gg_report *rep;
	gg_probe_done done;
	void *arg;
	double t0;
	struct gg_mx_list *mx;
	struct gg_mx_lookup *lookup;
	struct gg_send *send;
	struct gg_attempt cur;
	struct event *timer;
	struct event *done_ev;
	size_t rounds;			/* rounds started */
	struct target targets[MAX_TARGETS];
	size_t ntargets, next;
	size_t round_first;		/* report index of the round's first attempt */
	long decider;			/* report index that ended the round, -1 */
	int have_pref;
	char pref_host[GG_DNS_NAME_MAX + 1];
	char pref_addr[GG_ADDR_STRLEN];
	int last_temp;			/* the last round ended with a 4xx */
	int finished;
};

static void next_target(struct gg_probe *pr);

/* elapsed - seconds since the run started */
static double elapsed(const struct gg_probe *pr)
{
	return gg_clock_sec() - pr->t0;
}

/* done_cb - the run is over: tell the caller from the loop */
static void done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gg_probe *pr = arg;

	(void)fd;
	(void)what;
	pr->done(pr->rep, pr->arg);
}

/* finish - set the outcome once */
static void finish(struct gg_probe *pr, enum gg_outcome o, const char *reason)
{
	if (pr->finished)
		return;
	pr->finished = 1;
	evtimer_del(pr->timer);
	gg_report_finish(pr->rep, o, elapsed(pr), reason);
	event_active(pr->done_ev, EV_TIMEOUT, 0);
}

/* live - one line per attempt on stderr while the probe runs */
static void live(const struct gg_probe *pr, const struct gg_attempt *a)
{
	char d[GG_DUR_BUFSIZE];

	if (!pr->p.live)
		return;
	fprintf(stderr, "greyprobe: attempt %zu +%s %s", pr->rep->nattempts,
		gg_dur_format(a->offset, d, sizeof(d)), a->host);
	if (a->addr[0] != '\0' && strcmp(a->addr, a->host) != 0)
		fprintf(stderr, " [%s]", a->addr);
	fprintf(stderr, ": %s", gg_report_stage_str(a->stage));
	if (a->code > 0)
		fprintf(stderr, " %d%s%s", a->code, a->enhanced[0] ? " " : "", a->enhanced);
	fprintf(stderr, " (%s)\n", gg_reply_kind_str(a->kind));
}

/* record - keep the current attempt in the report; returns its index or -1 */
static long record(struct gg_probe *pr, struct gg_attempt *a)
{
	if (gg_report_add(pr->rep, a) != GG_OK)
		return -1;
	live(pr, &pr->rep->attempts[pr->rep->nattempts - 1]);
	return (long)pr->rep->nattempts - 1;
}

/* new_attempt - reset pr->cur for host */
static void new_attempt(struct gg_probe *pr, const char *host)
{
	free(pr->cur.dialogue);
	memset(&pr->cur, 0, sizeof(pr->cur));
	pr->cur.round = (unsigned)pr->rounds;
	pr->cur.offset = elapsed(pr);
	gg_strcpy(pr->cur.host, sizeof(pr->cur.host), host);
	pr->cur.port = pr->p.server != NULL ? pr->p.server_port : pr->p.port;
}

/* round_timer_cb / schedule_next - wait for the next round, if any */
static void round_start(struct gg_probe *pr);

static void round_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	round_start(arg);
}

static void schedule_next(struct gg_probe *pr)
{
	long delay = gg_schedule_delay(&pr->p.schedule, pr->rounds);
	enum gg_outcome o = pr->last_temp ? GG_OUT_DEFERRED : GG_OUT_UNREACHABLE;
	char why[96], d[GG_DUR_BUFSIZE];
	struct timeval tv;

	if (delay < 0) {
		finish(pr, o, "the schedule has no more retries");
		return;
	}
	if (elapsed(pr) * 1000.0 + (double)delay > (double)pr->p.max_time_ms) {
		snprintf(why, sizeof(why), "gave up: the next retry would be after --max-time %s",
			 gg_dur_format((double)pr->p.max_time_ms / 1000.0, d, sizeof(d)));
		finish(pr, o, why);
		return;
	}
	tv.tv_sec = delay / 1000;
	tv.tv_usec = (delay % 1000) * 1000;
	evtimer_add(pr->timer, &tv);
}

/* round_end - a round is over: stop, or wait for the next */
static void round_end(struct gg_probe *pr)
{
	const struct gg_attempt *a = NULL;
	size_t i;

	if (pr->decider >= 0) {
		a = &pr->rep->attempts[pr->decider];
	} else {
		/* No MAIL/RCPT/DATA answer: the last reply of the round, else its last failure. */
		for (i = pr->rep->nattempts; i > pr->round_first; i--) {
			const struct gg_attempt *t = &pr->rep->attempts[i - 1];
			if (t->code > 0) {
				a = t;
				break;
			}
		}
		if (a == NULL && pr->rep->nattempts > pr->round_first)
			a = &pr->rep->attempts[pr->rep->nattempts - 1];
	}
	if (a != NULL && gg_reply_kind_class(a->kind) == GG_CLASS_PERM) {
		finish(pr, GG_OUT_REFUSED, "");
		return;
	}
	pr->last_temp = a != NULL && gg_reply_kind_class(a->kind) == GG_CLASS_TEMP;
	if (pr->last_temp && a->addr[0] != '\0') {
		pr->have_pref = 1;
		gg_strcpy(pr->pref_host, sizeof(pr->pref_host), a->host);
		gg_strcpy(pr->pref_addr, sizeof(pr->pref_addr), a->addr);
	}
	schedule_next(pr);
}

/* on_attempt - one SMTP session ended */
static void on_attempt(struct gg_attempt *a, void *arg)
{
	struct gg_probe *pr = arg;
	enum gg_reply_class c = gg_reply_kind_class(a->kind);
	long idx;

	pr->send = NULL;
	idx = record(pr, a);
	if (c == GG_CLASS_OK) {
		finish(pr, pr->p.send.verify_only ? GG_OUT_VERIFIED : GG_OUT_DELIVERED, "");
		return;
	}
	/* The domain's answer to this message: the round ends with it. */
	if ((c == GG_CLASS_TEMP || c == GG_CLASS_PERM) && a->kind != GG_KIND_BUSY &&
	    a->stage >= GG_STAGE_MAIL) {
		pr->decider = idx;
		if (idx < 0)
			pr->decider = -1;
		round_end(pr);
		return;
	}
	next_target(pr);
}

/* build_targets - this round's (host, address) order */
static void build_targets(struct gg_probe *pr)
{
	const struct gg_mx_list *mx = pr->mx;
	size_t h, a, pass;

	pr->ntargets = 0;
	pr->next = 0;
	/* Pass 0: the host that deferred last (its address first); pass 1: the rest. */
	for (pass = 0; pass < 2; pass++) {
		for (h = 0; h < mx->nhosts; h++) {
			const struct gg_mx_host *host = &mx->hosts[h];
			int pref = pr->have_pref && strcmp(host->name, pr->pref_host) == 0;
			if ((pass == 0) != pref)
				continue;
			if (host->naddrs == 0) {
				if (pr->ntargets < MAX_TARGETS)
					pr->targets[pr->ntargets++] = (struct target){ h, -1 };
				continue;
			}
			for (a = 0; a < host->naddrs; a++) {
				char s[GG_ADDR_STRLEN];
				if (pr->ntargets >= MAX_TARGETS)
					break;
				gg_addr_format(&host->addrs[a], s, sizeof(s));
				if (pref && strcmp(s, pr->pref_addr) == 0 && pr->ntargets > 0) {
					/* Move it in front of this host's other addresses. */
					size_t first = pr->ntargets;
					while (first > 0 && pr->targets[first - 1].host == h)
						first--;
					memmove(&pr->targets[first + 1], &pr->targets[first],
						(pr->ntargets - first) * sizeof(pr->targets[0]));
					pr->targets[first] = (struct target){ h, (long)a };
					pr->ntargets++;
					continue;
				}
				pr->targets[pr->ntargets++] = (struct target){ h, (long)a };
			}
		}
	}
}

/* next_target - the next address of the round, or the end of the round */
static void next_target(struct gg_probe *pr)
{
	while (!pr->finished && pr->next < pr->ntargets) {
		struct target t = pr->targets[pr->next++];
		const struct gg_mx_host *host = &pr->mx->hosts[t.host];
		enum gg_status st;

		new_attempt(pr, host->name);
		if (t.addr < 0) {
			pr->cur.stage = GG_STAGE_DNS;
			pr->cur.kind = GG_KIND_DNS;
			snprintf(pr->cur.text, sizeof(pr->cur.text), "no address: %s",
				 host->error[0] ? host->error : "not found");
			record(pr, &pr->cur);
			continue;
		}
		st = gg_send_start(pr->base, &pr->p.send, &host->addrs[t.addr], pr->cur.port,
				   &pr->cur, on_attempt, pr, &pr->send);
		if (st == GG_OK)
			return;
		pr->cur.stage = GG_STAGE_CONNECT;
		pr->cur.kind = GG_KIND_NETWORK;
		snprintf(pr->cur.text, sizeof(pr->cur.text), "cannot start a session: %s",
			 gg_status_str(st));
		record(pr, &pr->cur);
	}
	if (!pr->finished)
		round_end(pr);
}

/* mx_cb - the hosts for this run */
static void mx_cb(struct gg_mx_list *list, void *arg)
{
	struct gg_probe *pr = arg;

	pr->lookup = NULL;
	free(pr->mx);
	pr->mx = list;
	gg_report_set_mx(pr->rep, list);
	switch (list->result) {
	case GG_MX_NULL:
	case GG_MX_NODOMAIN:
		finish(pr, GG_OUT_REFUSED, list->error);
		return;
	case GG_MX_TEMPFAIL:
		new_attempt(pr, pr->p.server != NULL ? pr->p.server : pr->p.domain);
		pr->cur.stage = GG_STAGE_DNS;
		pr->cur.kind = GG_KIND_DNS;
		gg_strcpy(pr->cur.text, sizeof(pr->cur.text), list->error);
		record(pr, &pr->cur);
		round_end(pr);
		return;
	case GG_MX_OK:
		break;
	}
	build_targets(pr);
	next_target(pr);
}

/* round_start - look up the hosts if needed, then try them */
static void round_start(struct gg_probe *pr)
{
	enum gg_status st;

	pr->rounds++;
	pr->decider = -1;
	pr->round_first = pr->rep->nattempts;
	if (pr->mx != NULL && pr->mx->result == GG_MX_OK) {
		build_targets(pr);
		next_target(pr);
		return;
	}
	if (pr->p.server != NULL)
		st = gg_mx_lookup_host(pr->base, pr->r, pr->p.server, pr->p.family, mx_cb, pr,
				       &pr->lookup);
	else
		st = gg_mx_lookup(pr->base, pr->r, pr->p.domain, pr->p.family, pr->p.rnd,
				  pr->p.rarg, mx_cb, pr, &pr->lookup);
	if (st != GG_OK) {
		new_attempt(pr, pr->p.server != NULL ? pr->p.server : pr->p.domain);
		pr->cur.stage = GG_STAGE_DNS;
		pr->cur.kind = GG_KIND_DNS;
		snprintf(pr->cur.text, sizeof(pr->cur.text), "cannot look up: %s", gg_status_str(st));
		record(pr, &pr->cur);
		round_end(pr);
	}
}

/* gg_probe_start - the first round after the schedule's first delay */
enum gg_status gg_probe_start(struct event_base *base, struct gg_resolver *r,
			      const struct gg_probe_params *p, struct gg_report *rep,
			      gg_probe_done done, void *arg, struct gg_probe **out)
{
	struct gg_probe *pr;
	long first = gg_schedule_delay(&p->schedule, 0);
	struct timeval tv;

	*out = NULL;
	if (first < 0 || (p->server == NULL && p->domain == NULL))
		return GG_EINVAL;
	if ((pr = calloc(1, sizeof(*pr))) == NULL)
		return GG_ENOMEM;
	pr->base = base;
	pr->r = r;
	pr->p = *p;
	pr->rep = rep;
	pr->done = done;
	pr->arg = arg;
	pr->decider = -1;
	pr->t0 = gg_clock_sec();
	if ((pr->timer = evtimer_new(base, round_timer_cb, pr)) == NULL ||
	    (pr->done_ev = event_new(base, -1, 0, done_cb, pr)) == NULL) {
		gg_probe_free(pr);
		return GG_ENOMEM;
	}
	tv.tv_sec = first / 1000;
	tv.tv_usec = (first % 1000) * 1000;
	evtimer_add(pr->timer, &tv);
	*out = pr;
	return GG_OK;
}

/* gg_probe_stop - interrupted: end with what we have */
void gg_probe_stop(struct gg_probe *pr)
{
	if (pr->finished)
		return;
	if (pr->send != NULL) {
		gg_send_abort(pr->send);
		pr->send = NULL;
	}
	if (pr->lookup != NULL) {
		gg_mx_cancel(pr->lookup);
		pr->lookup = NULL;
	}
	finish(pr, pr->last_temp ? GG_OUT_DEFERRED : GG_OUT_UNREACHABLE, "interrupted");
}

/* gg_probe_free - release everything */
void gg_probe_free(struct gg_probe *pr)
{
	if (pr == NULL)
		return;
	if (pr->send != NULL)
		gg_send_abort(pr->send);
	if (pr->lookup != NULL)
		gg_mx_cancel(pr->lookup);
	if (pr->timer != NULL)
		event_free(pr->timer);
	if (pr->done_ev != NULL)
		event_free(pr->done_ev);
	free(pr->cur.dialogue);
	free(pr->mx);
	free(pr);
}

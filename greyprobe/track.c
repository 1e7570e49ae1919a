/*
 * track.c - deferral decisions and retry records (see track.h)
 *
 * Triplets and flows live in two lib/htable tables (NBUCKETS buckets
 * each) keyed by their case-folded strings.  Flows are also kept in arrival order, which the
 * summary sorts by sender.  All strings that came from a client are
 * sanitised before they reach a terminal, and JSON-escaped in the log.
 */
#include <fnmatch.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "greyprobe/dur.h"
#include "greyprobe/track.h"
#include "lib/htable.h"
#include "lib/json.h"
#include "lib/util.h"

#define NBUCKETS 4096
#define HELO_KEEP 64
#define SAN_MAX 208		/* a sanitised address for the terminal */

struct triplet {
	struct gg_hlink link;
	double first;
	unsigned long attempts;
	int passed;
	char key[];			/* "ip\nfrom\nrcpt", lower case */
};

struct ftime {
	double t;
	enum gg_track_action action;
	int code;
	char client[48];
	char helo[HELO_KEEP];
};

struct flow {
	struct gg_hlink link;		/* in the flow table */
	char *from, *rcpt;		/* as first seen */
	double first, last;
	unsigned long attempts, deferred, accepted, rejected, messages;
	double max_interval;
	size_t ntimes;
	struct ftime times[GG_TRACK_MAX_TIMES];
	size_t nips;
	unsigned long more_ips;		/* distinct IPs beyond GG_TRACK_MAX_IPS (approximate) */
	char ips[GG_TRACK_MAX_IPS][48];
	char key[];			/* "from\nrcpt", lower case */
};

struct gg_track {
	struct gg_track_params p;
	char reply[GG_TRACK_REPLY_MAX];
	FILE *log;
	time_t t0_wall;
	struct gg_htable triplets, flowtab;
	struct flow **flows;		/* arrival order */
	size_t nflows, capflows, ntriplets;
	unsigned long connections, busy, rcpts, untracked, messages;
};

/* hash - FNV-1a of a key */
static uint32_t hash(const char *s)
{
	return gg_fnv1a_str(GG_FNV1A_INIT, s);
}

/* make_key - "a\nb[\nc]" lower-cased, malloc'd */
static char *make_key(const char *a, const char *b, const char *c)
{
	size_t n = strlen(a) + strlen(b) + (c ? strlen(c) + 1 : 0) + 2;
	char *k = malloc(n);

	if (k == NULL)
		return NULL;
	snprintf(k, n, c ? "%s\n%s\n%s" : "%s\n%s", a, b, c ? c : "");
	gg_str_lower(k);
	return k;
}

/* gg_track_check_reply - a sane reply line for the command line */
enum gg_status gg_track_check_reply(const char *reply, int want)
{
	size_t i, len = strlen(reply);

	if (len < 5 || len >= GG_TRACK_REPLY_MAX)
		return GG_EINVAL;
	if ((reply[0] != '4' && reply[0] != '5') || (want && reply[0] - '0' != want) ||
	    reply[1] < '0' || reply[1] > '5' || reply[2] < '0' || reply[2] > '9' || reply[3] != ' ')
		return GG_EINVAL;
	for (i = 4; i < len; i++)
		if ((unsigned char)reply[i] < 0x20 || (unsigned char)reply[i] >= 0x7f)
			return GG_EINVAL;
	return GG_OK;
}

/* gg_track_new - an empty tracker */
enum gg_status gg_track_new(const struct gg_track_params *p, FILE *log, time_t t0_wall,
			    struct gg_track **out)
{
	struct gg_track *t;

	*out = NULL;
	if (p->reply != NULL && gg_track_check_reply(p->reply, 0) != GG_OK)
		return GG_EINVAL;
	if (p->nreject > GG_TRACK_MAX_REJECT || p->defer_first < 0 || p->defer_for_ms < 0)
		return GG_EINVAL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return GG_ENOMEM;
	if (gg_htable_init(&t->triplets, NBUCKETS) != GG_OK ||
	    gg_htable_init(&t->flowtab, NBUCKETS) != GG_OK) {
		gg_track_free(t);
		return GG_ENOMEM;
	}
	t->p = *p;
	gg_strcpy(t->reply, sizeof(t->reply), p->reply != NULL ? p->reply :
		  "451 4.7.1 Greylisted by greyprobe, please try again later");
	t->p.reply = t->reply;
	t->log = log;
	t->t0_wall = t0_wall;
	*out = t;
	return GG_OK;
}

/* gg_track_free - everything */
void gg_track_free(struct gg_track *t)
{
	struct gg_hlink *l;
	size_t i;

	if (t == NULL)
		return;
	while ((l = gg_htable_pop(&t->triplets)) != NULL)
		free(gg_htable_entry(l, struct triplet, link));
	gg_htable_fini(&t->triplets);
	/* Flows are freed through the arrival array, which holds them all. */
	gg_htable_fini(&t->flowtab);
	for (i = 0; i < t->nflows; i++) {
		free(t->flows[i]->from);
		free(t->flows[i]->rcpt);
		free(t->flows[i]);
	}
	free(t->flows);
	free(t);
}

/* gg_track_action_str - stable names */
const char *gg_track_action_str(enum gg_track_action a)
{
	switch (a) {
	case GG_TRACK_ACCEPT:	return "accept";
	case GG_TRACK_DEFER:	return "defer";
	case GG_TRACK_REJECT:	return "reject";
	}
	return "?";
}

/* log_head - start one JSONL event */
static void log_head(struct gg_track *t, double now, const char *event)
{
	time_t sec = t->t0_wall + (time_t)now;
	int ms = (int)((now - (double)(long long)now) * 1000.0);
	struct tm tm;
	char when[40] = "";

	if (gmtime_r(&sec, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(t->log, "{\"time\":\"%s.%03dZ\",\"t\":", when, ms < 0 ? 0 : ms > 999 ? 999 : ms);
	gg_json_num(t->log, now);
	fprintf(t->log, ",\"event\":\"%s\"", event);
}

/* log_kv - ,"key":"value" */
static void log_kv(struct gg_track *t, const char *key, const char *value)
{
	fprintf(t->log, ",\"%s\":", key);
	gg_json_str(t->log, value);
}

static void log_end(struct gg_track *t)
{
	fputs("}\n", t->log);
	fflush(t->log);
}

/* KEYOFF - where a member's key lies, counted from its table link */
#define KEYOFF(type) (offsetof(type, key) - offsetof(type, link))

/* lookup - the link whose member's key (keyoff bytes past it) is key; *h its hash */
static struct gg_hlink *lookup(const struct gg_htable *tab, size_t keyoff, const char *key,
			       uint32_t *h)
{
	struct gg_hlink *l;

	*h = hash(key);
	for (l = gg_htable_first(tab, *h); l != NULL; l = gg_htable_next(l))
		if (strcmp((const char *)l + keyoff, key) == 0)
			return l;
	return NULL;
}

/* find_triplet - look up or create; NULL when full or out of memory */
static struct triplet *find_triplet(struct gg_track *t, const char *client, const char *from,
				    const char *rcpt, double now)
{
	char *key = make_key(client, from, rcpt);
	struct triplet *x = NULL;
	struct gg_hlink *l;
	uint32_t h;
	size_t n;

	if (key == NULL)
		return NULL;
	if ((l = lookup(&t->triplets, KEYOFF(struct triplet), key, &h)) != NULL)
		x = gg_htable_entry(l, struct triplet, link);
	else if (t->ntriplets < GG_TRACK_MAX_TRIPLETS) {
		n = strlen(key) + 1;
		if ((x = calloc(1, sizeof(*x) + n)) != NULL) {
			memcpy(x->key, key, n);
			x->first = now;
			gg_htable_insert(&t->triplets, &x->link, h);
			t->ntriplets++;
		}
	}
	free(key);
	return x;
}

/* find_flow - look up or create; NULL when full or out of memory */
static struct flow *find_flow(struct gg_track *t, const char *from, const char *rcpt, double now)
{
	char *key = make_key(from, rcpt, NULL);
	struct flow *f = NULL;
	struct gg_hlink *l;
	uint32_t h;
	size_t n;

	if (key == NULL)
		return NULL;
	if ((l = lookup(&t->flowtab, KEYOFF(struct flow), key, &h)) != NULL)
		f = gg_htable_entry(l, struct flow, link);
	else if (t->nflows < GG_TRACK_MAX_FLOWS) {
		n = strlen(key) + 1;
		if (t->nflows == t->capflows) {
			size_t cap = t->capflows ? t->capflows * 2 : 64;
			struct flow **nf = realloc(t->flows, cap * sizeof(*nf));
			if (nf == NULL) {
				free(key);
				return NULL;
			}
			t->flows = nf;
			t->capflows = cap;
		}
		if ((f = calloc(1, sizeof(*f) + n)) != NULL) {
			memcpy(f->key, key, n);
			f->from = strdup(from);
			f->rcpt = strdup(rcpt);
			if (f->from == NULL || f->rcpt == NULL) {
				free(f->from);
				free(f->rcpt);
				free(f);
				f = NULL;
			} else {
				f->first = now;
				gg_htable_insert(&t->flowtab, &f->link, h);
				t->flows[t->nflows++] = f;
			}
		}
	}
	free(key);
	return f;
}

/* flow_add - one attempt in a flow; returns whether the IP was seen before */
static int flow_add(struct flow *f, double now, const char *client, const char *helo,
		    enum gg_track_action a, int code)
{
	size_t i;
	int seen = 0;

	if (f->attempts > 0 && now - f->last > f->max_interval)
		f->max_interval = now - f->last;
	f->attempts++;
	f->last = now;
	if (a == GG_TRACK_DEFER)
		f->deferred++;
	else if (a == GG_TRACK_ACCEPT)
		f->accepted++;
	else
		f->rejected++;
	if (f->ntimes < GG_TRACK_MAX_TIMES) {
		struct ftime *x = &f->times[f->ntimes++];
		x->t = now;
		x->action = a;
		x->code = code;
		gg_strcpy(x->client, sizeof(x->client), client);
		gg_sanitize(x->helo, sizeof(x->helo), helo, strlen(helo), sizeof(x->helo) - 4);
	}
	for (i = 0; i < f->nips; i++)
		if (strcmp(f->ips[i], client) == 0)
			seen = 1;
	if (!seen) {
		if (f->nips < GG_TRACK_MAX_IPS)
			gg_strcpy(f->ips[f->nips++], sizeof(f->ips[0]), client);
		else
			f->more_ips++;
	}
	return seen;
}

/* rejected_rcpt - does a --reject-rcpt pattern match? */
static int rejected_rcpt(const struct gg_track *t, const char *rcpt)
{
	size_t i;

	for (i = 0; i < t->p.nreject; i++)
		if (fnmatch(t->p.reject[i], rcpt, FNM_CASEFOLD) == 0)
			return 1;
	return 0;
}

/* gg_track_rcpt - decide and record one RCPT */
enum gg_track_action gg_track_rcpt(struct gg_track *t, double now, const char *client,
				   const char *helo, const char *from, const char *rcpt,
				   char *reply, size_t size)
{
	enum gg_track_action a;
	struct triplet *x;
	struct flow *f;
	double prev = 0;
	int same_ip = 0, code;
	unsigned long n = 0;

	t->rcpts++;
	if (rejected_rcpt(t, rcpt)) {
		a = GG_TRACK_REJECT;
		snprintf(reply, size, "550 5.1.1 Recipient address rejected: user unknown "
			 "(greyprobe --reject-rcpt)");
	} else if ((x = find_triplet(t, client, from, rcpt, now)) == NULL) {
		/* Over the limit: fail open, as a greylisting server should. */
		t->untracked++;
		a = GG_TRACK_ACCEPT;
	} else {
		x->attempts++;
		if (!x->passed) {
			if (t->p.defer_for_ms > 0)
				x->passed = (now - x->first) * 1000.0 >= (double)t->p.defer_for_ms;
			else
				x->passed = x->attempts > (unsigned long)t->p.defer_first;
		}
		a = x->passed ? GG_TRACK_ACCEPT : GG_TRACK_DEFER;
	}
	if (a == GG_TRACK_DEFER)
		snprintf(reply, size, "%s", t->p.reply);
	else if (a == GG_TRACK_ACCEPT)
		snprintf(reply, size, "250 2.1.5 Ok");
	code = atoi(reply);
	if ((f = find_flow(t, from, rcpt, now)) != NULL) {
		prev = f->attempts > 0 ? f->last : now;
		same_ip = flow_add(f, now, client, helo, a, code);
		n = f->attempts;
	}
	if (t->log != NULL) {
		log_head(t, now, "rcpt");
		log_kv(t, "client", client);
		log_kv(t, "helo", helo);
		log_kv(t, "from", from);
		log_kv(t, "rcpt", rcpt);
		log_kv(t, "action", gg_track_action_str(a));
		log_kv(t, "reply", reply);
		if (f != NULL) {
			fprintf(t->log, ",\"attempt\":%lu,\"since_first\":", n);
			gg_json_num(t->log, now - f->first);
			fprintf(t->log, ",\"since_last\":");
			if (n > 1)
				gg_json_num(t->log, now - prev);
			else
				fputs("null", t->log);
			fprintf(t->log, ",\"same_ip\":%s", n > 1 ? (same_ip ? "true" : "false") : "null");
		}
		log_end(t);
	}
	return a;
}

/* gg_track_busy - a connection over the cap */
void gg_track_busy(struct gg_track *t, double now, const char *client, const char *reply,
		   unsigned long active)
{
	t->busy++;
	if (t->log == NULL)
		return;
	log_head(t, now, "busy");
	log_kv(t, "client", client);
	log_kv(t, "reply", reply);
	fprintf(t->log, ",\"connections\":%lu", active);
	log_end(t);
}

/* gg_track_connection - count one accepted connection */
void gg_track_connection(struct gg_track *t)
{
	t->connections++;
}

/* gg_track_message - a message accepted */
void gg_track_message(struct gg_track *t, double now, const char *client, const char *from,
		      char *const *rcpts, size_t nrcpts, size_t bytes, const char *queue_id,
		      const char *saved)
{
	size_t i;

	t->messages++;
	for (i = 0; i < nrcpts; i++) {
		struct flow *f = find_flow(t, from, rcpts[i], now);
		if (f != NULL)
			f->messages++;
	}
	if (t->log == NULL)
		return;
	log_head(t, now, "message");
	log_kv(t, "client", client);
	log_kv(t, "from", from);
	fprintf(t->log, ",\"rcpts\":[");
	for (i = 0; i < nrcpts; i++) {
		if (i)
			fputc(',', t->log);
		gg_json_str(t->log, rcpts[i]);
	}
	fprintf(t->log, "],\"size\":%zu", bytes);
	log_kv(t, "queue_id", queue_id);
	fprintf(t->log, ",\"saved\":");
	gg_json_str(t->log, saved);
	log_end(t);
}

/* verdict - what the flow says about the client */
static const char *verdict(const struct flow *f, double now, int *gave_up)
{
	int retried = f->attempts > 1;

	*gave_up = 0;
	if (f->accepted > 0 && f->deferred == 0)
		return "accepted at once: nothing was deferred";
	if (f->accepted > 0)
		return "retried after the deferral and was accepted: behaves like an MTA";
	if (f->rejected > 0 && f->deferred == 0)
		return f->rejected > 1 ? "refused with 550 and tried again anyway: ignores permanent errors"
				       : "refused with 550 and did not try again";
	/* Never accepted.  No retry for twice its longest wait: it gave up. */
	if (!retried || now - f->last >= 2 * f->max_interval) {
		*gave_up = 1;
		return retried ? "retried, then gave up before it was accepted"
			       : "gave up: never came back after the deferral (a one-shot client or a bot)";
	}
	return "still retrying: not accepted yet";
}

/* by_sender - summary order: sender, then first attempt */
static int by_sender(const void *a, const void *b)
{
	const struct flow *x = *(const struct flow *const *)a, *y = *(const struct flow *const *)b;
	int c;
	size_t lx = strcspn(x->key, "\n"), ly = strcspn(y->key, "\n");

	/* Compare the sender part first, then arrival. */
	c = strncmp(x->key, y->key, lx < ly ? lx : ly);
	if (c == 0 && lx != ly)
		c = lx < ly ? -1 : 1;
	if (c != 0)
		return c;
	return x->first < y->first ? -1 : x->first > y->first ? 1 : 0;
}

/* same_sender - do two flows have the same (case-folded) sender? */
static int same_sender(const struct flow *x, const struct flow *y)
{
	size_t lx = strcspn(x->key, "\n"), ly = strcspn(y->key, "\n");

	return lx == ly && strncmp(x->key, y->key, lx) == 0;
}

/* print_flow - one flow of the human summary */
static void print_flow(FILE *fp, const struct flow *f, double now)
{
	char d[GG_DUR_BUFSIZE], s[SAN_MAX], helo[HELO_KEEP + 4];
	size_t i;
	int gave_up;
	const char *v = verdict(f, now, &gave_up);

	gg_sanitize(s, sizeof(s), f->rcpt, strlen(f->rcpt), 200);
	fprintf(fp, "  to <%s>: %lu attempt%s (%lu deferred, %lu accepted, %lu refused), "
		"%lu message%s\n", s, f->attempts, f->attempts == 1 ? "" : "s", f->deferred,
		f->accepted, f->rejected, f->messages, f->messages == 1 ? "" : "s");
	for (i = 0; i < f->ntimes; i++) {
		const struct ftime *x = &f->times[i];
		fprintf(fp, "    +%-8s %-15s ", gg_dur_format(x->t, d, sizeof(d)), x->client);
		if (i > 0)
			fprintf(fp, "after %-7s ", gg_dur_format(x->t - f->times[i - 1].t, d, sizeof(d)));
		else
			fprintf(fp, "%-13s ", "first");
		gg_sanitize(helo, sizeof(helo), x->helo, strlen(x->helo), HELO_KEEP);
		fprintf(fp, "%-7s %d  helo %s\n", gg_track_action_str(x->action), x->code,
			helo[0] ? helo : "-");
	}
	if (f->attempts > f->ntimes)
		fprintf(fp, "    (%zu later attempts not listed)\n", (size_t)(f->attempts - f->ntimes));
	if (f->attempts > 1) {
		fprintf(fp, "    retried: yes, intervals");
		for (i = 1; i < f->ntimes; i++)
			fprintf(fp, "%s %s", i > 1 ? "," : "",
				gg_dur_format(f->times[i].t - f->times[i - 1].t, d, sizeof(d)));
		fputc('\n', fp);
	} else {
		fprintf(fp, "    retried: no (%s since the attempt)\n",
			gg_dur_format(now - f->last, d, sizeof(d)));
	}
	if (f->nips == 1 && f->more_ips == 0)
		fprintf(fp, "    clients: the same IP every time (%s)\n", f->ips[0]);
	else {
		fprintf(fp, "    clients: %zu%s addresses (a pool):", f->nips,
			f->more_ips ? "+" : "");
		for (i = 0; i < f->nips; i++)
			fprintf(fp, "%s %s", i ? "," : "", f->ips[i]);
		fputc('\n', fp);
	}
	if (f->accepted > 0) {
		/* The first accepted attempt among those kept. */
		double at = f->first;
		for (i = 0; i < f->ntimes; i++)
			if (f->times[i].action == GG_TRACK_ACCEPT) {
				at = f->times[i].t;
				break;
			}
		fprintf(fp, "    delivered: yes, accepted %s after the first attempt\n",
			gg_dur_format(at - f->first, d, sizeof(d)));
	} else {
		fprintf(fp, "    delivered: no\n");
	}
	fprintf(fp, "    gave up: %s\n", gave_up ? "yes" : "no");
	fprintf(fp, "    verdict: %s\n", v);
}

/* log_flow - one "summary" event */
static void log_flow(struct gg_track *t, const struct flow *f, double now)
{
	size_t i;
	int gave_up;
	const char *v = verdict(f, now, &gave_up);

	log_head(t, now, "summary");
	log_kv(t, "from", f->from);
	log_kv(t, "rcpt", f->rcpt);
	fprintf(t->log, ",\"attempts\":%lu,\"deferred\":%lu,\"accepted\":%lu,\"rejected\":%lu,"
		"\"messages\":%lu,\"times\":[", f->attempts, f->deferred, f->accepted, f->rejected,
		f->messages);
	for (i = 0; i < f->ntimes; i++) {
		if (i)
			fputc(',', t->log);
		gg_json_num(t->log, f->times[i].t);
	}
	fprintf(t->log, "],\"intervals\":[");
	for (i = 1; i < f->ntimes; i++) {
		if (i > 1)
			fputc(',', t->log);
		gg_json_num(t->log, f->times[i].t - f->times[i - 1].t);
	}
	fprintf(t->log, "],\"clients\":[");
	for (i = 0; i < f->nips; i++) {
		if (i)
			fputc(',', t->log);
		gg_json_str(t->log, f->ips[i]);
	}
	fprintf(t->log, "],\"same_ip\":%s,\"retried\":%s,\"delivered\":%s,\"gave_up\":%s",
		f->nips == 1 && f->more_ips == 0 ? "true" : "false",
		f->attempts > 1 ? "true" : "false", f->accepted > 0 ? "true" : "false",
		gave_up ? "true" : "false");
	log_kv(t, "verdict", v);
	log_end(t);
}

/* gg_track_summary - per sender, on fp and in the log */
void gg_track_summary(struct gg_track *t, double now, FILE *fp)
{
	char d[GG_DUR_BUFSIZE], s[SAN_MAX];
	const struct flow *last = NULL;
	size_t i, nsenders = 0;
	struct flow **sorted = NULL;

	if (t->nflows > 0 && (sorted = malloc(t->nflows * sizeof(*sorted))) != NULL) {
		memcpy(sorted, t->flows, t->nflows * sizeof(*sorted));
		qsort(sorted, t->nflows, sizeof(*sorted), by_sender);
		for (i = 0; i < t->nflows; i++)
			if (i == 0 || !same_sender(sorted[i - 1], sorted[i]))
				nsenders++;
	}
	fprintf(fp, "greyprobe listen: summary after %s: %lu connection%s, %lu turned away busy, "
		"%lu RCPT attempt%s, %lu message%s, %zu sender%s\n",
		gg_dur_format(now, d, sizeof(d)), t->connections, t->connections == 1 ? "" : "s",
		t->busy, t->rcpts, t->rcpts == 1 ? "" : "s", t->messages,
		t->messages == 1 ? "" : "s", nsenders, nsenders == 1 ? "" : "s");
	if (t->untracked > 0)
		fprintf(fp, "(%lu attempts over the tracking limits were accepted untracked)\n",
			t->untracked);
	for (i = 0; sorted != NULL && i < t->nflows; i++) {
		const struct flow *f = sorted[i];
		if (last == NULL || !same_sender(last, f)) {
			gg_sanitize(s, sizeof(s), f->from, strlen(f->from), 200);
			fprintf(fp, "\nsender <%s>\n", s);
			last = f;
		}
		print_flow(fp, f, now);
		if (t->log != NULL)
			log_flow(t, f, now);
	}
	fflush(fp);
	if (t->log != NULL) {
		log_head(t, now, "end");
		fprintf(t->log, ",\"connections\":%lu,\"busy\":%lu,\"rcpts\":%lu,\"messages\":%lu",
			t->connections, t->busy, t->rcpts, t->messages);
		log_end(t);
	}
	free(sorted);
}

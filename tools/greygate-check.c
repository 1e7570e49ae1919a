/*
 * greygate-check.c - explain what greygate decides for one client, and why
 *
 *   greygate-check [-c FILE] [-o name=value]... --client IP [--helo NAME]
 *                  [--sender ADDR] [--rcpt ADDR] [--client-name NAME]
 *                  [--reverse-client-name NAME] [--json] [--commit]
 *   greygate-check [-c FILE] --client IP --lists-only [--json]
 *
 * The first form runs the very checks greygate-policyd runs (DNS lists,
 * reverse DNS, HELO, SPF, with the same configuration) and prints every
 * reason with its weight and TXT text, the total, the thresholds and the
 * action.  The triplet database is read, never written, unless --commit:
 * then the request counts as a real delivery attempt.  The second form is
 * a block-list check of one address against every configured DNSBL and
 * DNSWL, one line per list.
 *
 * Exit status: 0 accept, 1 tag, 2 greylist, 3 reject; for --lists-only 0
 * not listed anywhere, 1 listed on a DNSBL; 64 usage, 65 configuration
 * error, 69 database or DNS set-up failure.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "checks/checks.h"
#include "checks/eval.h"
#include "daemon/privs.h"
#include "dns/qname.h"
#include "dns/resolver.h"
#include "dnsbl/lists.h"
#include "engine/config.h"
#include "engine/engine.h"
#include "engine/score.h"
#include "lib/json.h"
#include "lib/util.h"
#include "store/store.h"

#define DEFAULT_CONFIG "/etc/greygate/greygate.conf"
#define PROG "greygate-check"
#define EX_USAGE 64
#define EX_CONFIG 65
#define EX_UNAVAILABLE 69

/* The command line. */
struct args {
	const char *path, *overrides[64];
	int noverrides;
	const char *client, *helo, *sender, *rcpt, *cname, *rname;
	int json, commit, listsonly;
};

/* What the pipeline answered for the request. */
struct outcome {
	struct event_base *base;
	int done;
	struct gg_verdict verdict;
	int scored;
	struct gg_score score;
	int have_explain;
	struct gg_explain explain;
	enum gg_status explain_status;
};

static void usage(FILE *fp)
{
	fprintf(fp, "usage: %s [-c FILE] [-o name=value]... --client IP [--helo NAME] "
		"[--sender ADDR]\n"
		"       [--rcpt ADDR] [--client-name NAME] [--reverse-client-name NAME] "
		"[--json] [--commit]\n"
		"       %s [-c FILE] --client IP --lists-only [--json]\n", PROG, PROG);
}

static void on_probed(void *arg)
{
	struct outcome *o = arg;

	event_base_loopexit(o->base, NULL);
}

static void on_probe_line(void *arg, const char *line)
{
	(void)arg;
	if (strstr(line, "DEAD") != NULL)
		fprintf(stderr, "%s: warning: %s\n", PROG, line);
}

/* on_decided - the pipeline's answer: keep it for printing */
static void on_decided(void *arg, const struct gg_eval_result *r)
{
	struct outcome *o = arg;

	o->done = 1;
	if (r->verdict != NULL)
		o->verdict = *r->verdict;
	if ((o->scored = r->score != NULL))
		o->score = *r->score;
	if ((o->have_explain = r->explain != NULL)) {
		o->explain = *r->explain;
		o->explain_status = r->explain_status;
	}
	event_base_loopexit(o->base, NULL);
}

/* One list lookup of --lists-only. */
struct list_query {
	const struct gg_list *list;
	struct event_base *base;
	int *pending;
	int state;		/* 0 waiting, 1 not listed, 2 listed, 3 error, 4 ignored answer */
	int dead;		/* fails its RFC 5782 test entries */
	int probe_ok2;		/* 127.0.0.2 is listed, as it must be */
	char answer[64];
	char txt[300];
	char error[80];
	char qname[300];
};

static void on_txt(const struct gg_dns_result *res, void *arg)
{
	struct list_query *q = arg;

	if (res->st == GG_OK && res->ntxt > 0)
		gg_sanitize(q->txt, sizeof(q->txt), res->txt[0], strlen(res->txt[0]), 250);
	if (--*q->pending == 0)
		event_base_loopexit(q->base, NULL);
}

static void on_a(const struct gg_dns_result *res, void *arg)
{
	struct list_query *q = arg;
	struct gg_resolver *r = NULL;

	if (res->st == GG_NOTFOUND) {
		q->state = 1;
	} else if (res->st != GG_OK) {
		q->state = 3;
		snprintf(q->error, sizeof(q->error), "%s", res->error ? res->error : "DNS error");
	} else {
		q->state = 1;
		for (size_t i = 0; i < res->naddrs; i++) {
			const struct gg_addr *a = &res->addrs[i].addr;
			enum gg_answer_class cls = gg_lists_classify(q->list, a);
			gg_addr_format(a, q->answer, sizeof(q->answer));
			if (cls == GG_ANSWER_HIT) {
				q->state = 2;
				break;
			}
			if (cls == GG_ANSWER_BOGUS)
				q->state = 4;
		}
	}
	(void)r;
	if (--*q->pending == 0)
		event_base_loopexit(q->base, NULL);
}

/* on_probe2 - RFC 5782: 127.0.0.2 must be listed */
static void on_probe2(const struct gg_dns_result *res, void *arg)
{
	struct list_query *q = arg;

	for (size_t i = 0; res->st == GG_OK && i < res->naddrs; i++)
		if (gg_lists_classify(q->list, &res->addrs[i].addr) == GG_ANSWER_HIT)
			q->probe_ok2 = 1;
	if (res->st != GG_OK && res->st != GG_NOTFOUND)
		q->probe_ok2 = 1;	/* no verdict on a DNS failure */
	if (!q->probe_ok2)
		q->dead = 1;
	if (--*q->pending == 0)
		event_base_loopexit(q->base, NULL);
}

/* on_probe1 - RFC 5782: 127.0.0.1 must not be listed */
static void on_probe1(const struct gg_dns_result *res, void *arg)
{
	struct list_query *q = arg;

	for (size_t i = 0; res->st == GG_OK && i < res->naddrs; i++)
		if (gg_lists_classify(q->list, &res->addrs[i].addr) == GG_ANSWER_HIT)
			q->dead = 1;
	if (--*q->pending == 0)
		event_base_loopexit(q->base, NULL);
}

/* probe - ask a list about its test entries, like the daemon's probes */
static void probe(struct gg_resolver *res, struct list_query *q)
{
	static const char *entries[2] = { "127.0.0.2", "127.0.0.1" };
	gg_resolver_cb cbs[2] = { on_probe2, on_probe1 };
	struct gg_addr a;
	char name[300];

	for (int i = 0; i < 2; i++) {
		if (gg_addr_parse(entries[i], &a) != GG_OK ||
		    gg_qname_addr(&a, q->list->zone, name, sizeof(name)) != GG_OK)
			continue;
		(*q->pending)++;
		if (gg_resolver_query(res, name, ns_t_a, cbs[i], q) != GG_OK)
			(*q->pending)--;
	}
}

/* lists_only - the client against every DNSBL and DNSWL */
static int lists_only(const struct gg_config *cfg, const char *client, int json)
{
	struct gg_lists *bl = NULL, *wl = NULL;
	struct gg_resolver *res = NULL;
	struct event_base *base = event_base_new();
	struct list_query q[2 * GG_LISTS_MAX];
	struct gg_addr addr;
	char err[512];
	int n = 0, pending = 0, listed = 0, rc = 0;

	if (base == NULL || gg_addr_parse(client, &addr) != GG_OK) {
		fprintf(stderr, "%s: --client %s: not an IP address\n", PROG, client);
		rc = EX_USAGE;
		goto out;
	}
	if (gg_lists_parse(GG_LIST_DNSBL, cfg->dnsbl_sites, gg_config_where(cfg, "dnsbl_sites"), &bl,
			   err, sizeof(err)) != GG_OK ||
	    gg_lists_parse(GG_LIST_DNSWL, cfg->dnswl_sites, gg_config_where(cfg, "dnswl_sites"), &wl,
			   err, sizeof(err)) != GG_OK) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		rc = EX_CONFIG;
		goto out;
	}
	if (gg_resolver_new(base, cfg->dns_servers, cfg->dns_timeout * 1000, &res, err,
			    sizeof(err)) != GG_OK) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		rc = EX_UNAVAILABLE;
		goto out;
	}
	for (int s = 0; s < 2; s++) {
		const struct gg_lists *ls = s == 0 ? bl : wl;
		for (size_t i = 0; i < ls->n; i++, n++) {
			memset(&q[n], 0, sizeof(q[n]));
			q[n].list = &ls->v[i];
			q[n].base = base;
			q[n].pending = &pending;
			if (gg_qname_addr(&addr, ls->v[i].zone, q[n].qname, sizeof(q[n].qname)) != GG_OK) {
				q[n].state = 3;
				snprintf(q[n].error, sizeof(q[n].error), "name too long");
				continue;
			}
			pending += 2;
			if (gg_resolver_query(res, q[n].qname, ns_t_a, on_a, &q[n]) != GG_OK)
				pending--;
			probe(res, &q[n]);
			if (gg_resolver_query(res, q[n].qname, ns_t_txt, on_txt, &q[n]) != GG_OK)
				pending--;
		}
	}
	if (pending > 0)
		event_base_dispatch(base);
	if (json)
		printf("{\"client\":");
	if (json)
		gg_json_str(stdout, client);
	if (json)
		printf(",\"lists\":[");
	for (int i = 0; i < n; i++) {
		static const char *states[] = { "no-answer", "not-listed", "listed", "error",
						"ignored-answer", "dead-list" };
		const struct gg_list *l = q[i].list;
		int is_bl = l->kind == GG_LIST_DNSBL;
		/* A list that fails its own test entries says nothing about anyone. */
		if (q[i].dead) {
			q[i].state = 5;
			snprintf(q[i].error, sizeof(q[i].error), "fails its RFC 5782 test entries");
		}
		if (q[i].state == 2 && is_bl)
			listed = 1;
		if (json) {
			printf("%s{\"list\":", i ? "," : "");
			gg_json_str(stdout, l->zone);
			printf(",\"kind\":\"%s\",\"weight\":%g,\"result\":\"%s\",\"answer\":",
			       is_bl ? "dnsbl" : "dnswl", l->weight, states[q[i].state]);
			gg_json_str(stdout, q[i].state == 2 || q[i].state == 4 ? q[i].answer : "");
			printf(",\"txt\":");
			gg_json_str(stdout, q[i].state == 2 ? q[i].txt : "");
			printf(",\"error\":");
			gg_json_str(stdout, q[i].error);
			printf("}");
		} else {
			printf("%-6s %-32s %-14s %s%s%s%s\n", is_bl ? "dnsbl" : "dnswl", l->zone,
			       states[q[i].state], q[i].state == 2 || q[i].state == 4 ? q[i].answer : "",
			       q[i].state == 2 && q[i].txt[0] ? " \"" : "",
			       q[i].state == 2 ? q[i].txt : q[i].error, q[i].state == 2 && q[i].txt[0] ? "\"" : "");
		}
	}
	if (json)
		printf("],\"listed\":%s}\n", listed ? "true" : "false");
	else if (n == 0)
		printf("no dnsbl_sites or dnswl_sites configured\n");
	rc = listed;
out:
	gg_resolver_free(res);
	gg_lists_free(bl);
	gg_lists_free(wl);
	if (base)
		event_base_free(base);
	return rc;
}

/* parse_args - the command line into *a; -1 to go on, else the exit status */
static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "client", required_argument, NULL, 'a' },
		{ "helo", required_argument, NULL, 'H' },
		{ "sender", required_argument, NULL, 's' },
		{ "rcpt", required_argument, NULL, 'r' },
		{ "client-name", required_argument, NULL, 'n' },
		{ "reverse-client-name", required_argument, NULL, 'R' },
		{ "json", no_argument, NULL, 'j' },
		{ "commit", no_argument, NULL, 'C' },
		{ "lists-only", no_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	memset(a, 0, sizeof(*a));
	a->path = DEFAULT_CONFIG;
	a->helo = a->sender = a->cname = a->rname = "";
	a->rcpt = "postmaster-check@invalid";
	while ((opt = getopt_long(argc, argv, "c:o:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': a->path = optarg; break;
		case 'o':
			if (a->noverrides == 64) {
				fprintf(stderr, "%s: too many -o options\n", PROG);
				return EX_USAGE;
			}
			a->overrides[a->noverrides++] = optarg;
			break;
		case 'a': a->client = optarg; break;
		case 'H': a->helo = optarg; break;
		case 's': a->sender = optarg; break;
		case 'r': a->rcpt = optarg; break;
		case 'n': a->cname = optarg; break;
		case 'R': a->rname = optarg; break;
		case 'j': a->json = 1; break;
		case 'C': a->commit = 1; break;
		case 'L': a->listsonly = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EX_USAGE;
		}
	}
	if (a->client == NULL || optind != argc) {
		usage(stderr);
		return EX_USAGE;
	}
	return -1;
}

/* load_config - the file, the overrides, the checks' settings; NULL after a message */
static struct gg_config *load_config(const struct args *a)
{
	struct gg_config *cfg = gg_config_new();
	char err[1024];

	if (cfg == NULL)
		return NULL;
	if (gg_config_load(cfg, a->path, err, sizeof(err)) != GG_OK)
		goto fail;
	for (int i = 0; i < a->noverrides; i++)
		if (gg_config_override(cfg, a->overrides[i], err, sizeof(err)) != GG_OK)
			goto fail;
	if (gg_config_finish(cfg, err, sizeof(err)) != GG_OK ||
	    gg_checks_validate(cfg, err, sizeof(err)) != GG_OK)
		goto fail;
	return cfg;
fail:
	fprintf(stderr, "%s: %s\n", PROG, err);
	gg_config_free(cfg);
	return NULL;
}

/* build_request - the RCPT-stage request the options describe; -1 to go on, else exit status */
static int build_request(const struct args *a, struct gg_request *req)
{
	struct gg_addr probe_addr;

	gg_request_init(req);
	if (gg_addr_parse(a->client, &probe_addr) != GG_OK) {
		fprintf(stderr, "%s: --client %s: not an IP address\n", PROG, a->client);
		return EX_USAGE;
	}
	if (gg_request_set(req, GG_RF_CLIENT_ADDRESS, a->client, strlen(a->client)) != GG_OK) {
		fprintf(stderr, "%s: --client: value too long\n", PROG);
		return EX_USAGE;
	}
	gg_request_set(req, GG_RF_HELO_NAME, a->helo, strlen(a->helo));
	gg_request_set(req, GG_RF_SENDER, a->sender, strlen(a->sender));
	gg_request_set(req, GG_RF_RECIPIENT, a->rcpt, strlen(a->rcpt));
	gg_request_set(req, GG_RF_CLIENT_NAME, a->cname, strlen(a->cname));
	gg_request_set(req, GG_RF_REVERSE_CLIENT_NAME, a->rname, strlen(a->rname));
	gg_request_set(req, GG_RF_PROTOCOL_STATE, "RCPT", 4);
	gg_request_set(req, GG_RF_REQUEST, "smtpd_access_policy", 19);
	gg_request_set(req, GG_RF_INSTANCE, "greygate-check", 14);
	return -1;
}

/* open_store - as the daemon's user; without it the answer stops at the band */
static int open_store(const struct gg_config *cfg, int commit, struct gg_store **store)
{
	char err[1024];

	*store = NULL;
	if (gg_privs_drop(cfg->user, gg_store_bdb_dir(cfg->database), err, sizeof(err)) != GG_OK ||
	    gg_store_open(cfg->database, (size_t)cfg->database_cache_size, store, err,
			  sizeof(err)) != GG_OK) {
		*store = NULL;
		if (commit) {
			fprintf(stderr, "%s: --commit: %s\n", PROG, err);
			return EX_UNAVAILABLE;
		}
		fprintf(stderr, "%s: warning: database not consulted: %s\n", PROG, err);
	}
	return -1;
}

/*
 * evaluate - the daemon's pipeline for one request: list probes first (dead
 * lists are skipped, as at the daemon's start-up), then the request, read
 * only unless commit.  -1 to go on, else the exit status.
 */
static int evaluate(const struct gg_config *cfg, struct gg_store *store, const struct gg_request *req,
		    int commit, struct outcome *o, int *checks_enabled)
{
	struct gg_eval_options opt = { .received_spf = GG_RSPF_ALWAYS, .explain = !commit };
	static const struct gg_eval_ops ops = { .done = on_decided, .wanted = NULL };
	struct gg_eval *ev = NULL;
	char err[1024];
	int rc = -1;

	memset(o, 0, sizeof(*o));
	if ((o->base = event_base_new()) == NULL ||
	    gg_eval_new(o->base, cfg, store, &opt, &ev, err, sizeof(err)) != GG_OK) {
		fprintf(stderr, "%s: %s\n", PROG, o->base ? err : "cannot create an event loop");
		rc = EX_UNAVAILABLE;
		goto out;
	}
	*checks_enabled = gg_eval_checks_enabled(ev);
	if (gg_eval_probe(ev, on_probe_line, on_probed, o) == 0)
		event_base_dispatch(o->base);
	if (gg_eval_start(ev, req, &ops, o, NULL) != GG_OK) {
		fprintf(stderr, "%s: out of memory\n", PROG);
		rc = EX_UNAVAILABLE;
		goto out;
	}
	while (!o->done && event_base_dispatch(o->base) == 0)
		;
	if (o->have_explain && o->explain_status != GG_OK)
		fprintf(stderr, "%s: database error: %s\n", PROG, gg_store_error(store));
out:
	gg_eval_free(ev);
	if (o->base)
		event_base_free(o->base);
	o->base = NULL;
	return rc;
}

/* print_json - the outcome as one JSON object */
static void print_json(const struct args *a, const struct gg_config *cfg, const struct outcome *o)
{
	const struct gg_verdict *v = &o->verdict;
	const struct gg_score *sc = o->scored ? &o->score : NULL;

	printf("{\"client\":");
	gg_json_str(stdout, a->client);
	printf(",\"helo\":");
	gg_json_str(stdout, a->helo);
	printf(",\"sender\":");
	gg_json_str(stdout, a->sender);
	printf(",\"recipient\":");
	gg_json_str(stdout, a->rcpt);
	printf(",\"checks\":[");
	for (size_t i = 0; sc && i < sc->n; i++) {
		printf("%s{\"name\":", i ? "," : "");
		gg_json_str(stdout, sc->r[i].name);
		printf(",\"weight\":%g,\"txt\":", sc->r[i].weight);
		gg_json_str(stdout, sc->r[i].txt);
		printf("}");
	}
	printf("],\"score\":%g,\"thresholds\":{\"greylist\":%g,\"tag\":%g,\"reject\":%g}",
	       sc ? sc->total : 0.0, cfg->greylist_threshold, cfg->tag_threshold,
	       cfg->reject_threshold);
	printf(",\"action\":\"%s\",\"reason\":", gg_engine_action_str(v->action));
	gg_json_str(stdout, v->reason ? v->reason : "");
	printf(",\"detail\":");
	gg_json_str(stdout, v->detail);
	printf(",\"reply\":");
	gg_json_str(stdout, v->text);
	printf(",\"header\":");
	gg_json_str(stdout, v->header);
	printf(",\"key\":");
	gg_json_str(stdout, v->key);
	printf(",\"spf_domain\":");
	gg_json_str(stdout, sc && sc->spf_pass ? sc->spf_domain : "");
	printf(",\"received_spf\":");
	gg_json_str(stdout, v->received_spf + (v->received_spf[0] ? strlen("Received-SPF: ") : 0));
	printf(",\"committed\":%s}\n", a->commit ? "true" : "false");
}

/* print_text - the outcome, a line per reason */
static void print_text(const struct args *a, const struct gg_config *cfg, const struct outcome *o,
		       int checks_enabled)
{
	const struct gg_verdict *v = &o->verdict;
	const struct gg_score *sc = o->scored ? &o->score : NULL;

	printf("client %s helo <%s> from <%s> to <%s>\n", a->client, a->helo, a->sender, a->rcpt);
	if (sc == NULL)
		printf("  (no DNS or SPF checks ran: %s)\n", checks_enabled ?
		       "decided before the checks" : "none are enabled");
	for (size_t i = 0; sc && i < sc->n; i++)
		printf("  %-36s %+6g  %s\n", sc->r[i].name, sc->r[i].weight, sc->r[i].txt);
	printf("score %g (greylist >= %g, tag >= %g, reject >= %g)\n", sc ? sc->total : 0.0,
	       cfg->greylist_threshold, cfg->tag_threshold, cfg->reject_threshold);
	if (v->received_spf[0])
		printf("%s\n", v->received_spf);
	if (v->key[0])
		printf("triplet %s\n", v->key);
	printf("action %s (%s%s%s%s)%s\n", gg_engine_action_str(v->action),
	       v->reason ? v->reason : "", v->detail[0] ? ": " : "", v->detail,
	       v->action == GG_ACTION_GREYLIST && v->remaining ? ", retry later" : "",
	       a->commit ? " [committed]" : "");
	if (v->text[0])
		printf("reply %s\n", v->text);
	if (v->header[0])
		printf("header %s\n", v->header);
}

int main(int argc, char **argv)
{
	struct args a;
	struct gg_config *cfg;
	struct gg_store *store = NULL;
	struct gg_request req;
	struct outcome *o = NULL;
	int rc, checks_enabled = 0;

	/* A Redis server that closes the connection must give an error, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	if ((rc = parse_args(argc, argv, &a)) >= 0)
		return rc;
	if ((cfg = load_config(&a)) == NULL)
		return EX_CONFIG;
	if (a.listsonly) {
		rc = lists_only(cfg, a.client, a.json);
		gg_config_free(cfg);
		return rc;
	}
	if ((rc = build_request(&a, &req)) >= 0 || (rc = open_store(cfg, a.commit, &store)) >= 0)
		goto out;
	if ((o = malloc(sizeof(*o))) == NULL) {
		rc = EX_UNAVAILABLE;
		goto out;
	}
	if ((rc = evaluate(cfg, store, &req, a.commit, o, &checks_enabled)) >= 0)
		goto out;
	if (a.json)
		print_json(&a, cfg, o);
	else
		print_text(&a, cfg, o, checks_enabled);
	rc = o->verdict.action == GG_ACTION_REJECT ? 3 : o->verdict.action == GG_ACTION_GREYLIST ? 2 :
	     o->verdict.action == GG_ACTION_TAG ? 1 : 0;
out:
	free(o);
	gg_store_close(store);
	gg_config_free(cfg);
	return rc;
}

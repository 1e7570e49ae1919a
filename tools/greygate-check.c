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
#include "engine/config.h"
#include "engine/engine.h"
#include "dnsbl/lists.h"
#include "daemon/privs.h"
#include "dns/qname.h"
#include "dns/resolver.h"
#include "engine/score.h"
#include "store/store.h"
#include "lib/util.h"

#define DEFAULT_CONFIG "/etc/greygate/greygate.conf"
#define PROG "greygate-check"
#define EX_USAGE 64
#define EX_CONFIG 65
#define EX_UNAVAILABLE 69

struct run {
	struct event_base *base;
	struct gg_score score;
	int done;
};

static void usage(FILE *fp)
{
	fprintf(fp, "usage: %s [-c FILE] [-o name=value]... --client IP [--helo NAME] "
		"[--sender ADDR]\n"
		"       [--rcpt ADDR] [--client-name NAME] [--reverse-client-name NAME] "
		"[--json] [--commit]\n"
		"       %s [-c FILE] --client IP --lists-only [--json]\n", PROG, PROG);
}

/* json_str - a JSON string literal of s */
static void json_str(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(fp, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(fp, "\\u%04x", c);
		else
			fputc(c, fp);
	}
	fputc('"', fp);
}

static void on_probed(void *arg)
{
	struct run *r = arg;

	event_base_loopexit(r->base, NULL);
}

static void on_probe_line(void *arg, const char *line)
{
	(void)arg;
	if (strstr(line, "DEAD") != NULL)
		fprintf(stderr, "%s: warning: %s\n", PROG, line);
}

static void on_checked(const struct gg_score *score, void *arg)
{
	struct run *r = arg;

	r->score = *score;
	r->done = 1;
	event_base_loopexit(r->base, NULL);
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
		json_str(stdout, client);
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
			json_str(stdout, l->zone);
			printf(",\"kind\":\"%s\",\"weight\":%g,\"result\":\"%s\",\"answer\":",
			       is_bl ? "dnsbl" : "dnswl", l->weight, states[q[i].state]);
			json_str(stdout, q[i].state == 2 || q[i].state == 4 ? q[i].answer : "");
			printf(",\"txt\":");
			json_str(stdout, q[i].state == 2 ? q[i].txt : "");
			printf(",\"error\":");
			json_str(stdout, q[i].error);
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

int main(int argc, char **argv)
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
	const char *path = DEFAULT_CONFIG, *overrides[64];
	const char *client = NULL, *helo = "", *sender = "", *rcpt = "postmaster-check@invalid";
	const char *cname = "", *rname = "";
	int nover = 0, opt, json = 0, commit = 0, listsonly = 0, rc;
	struct gg_config *cfg;
	struct gg_store *store = NULL;
	struct gg_checks *ck = NULL;
	struct gg_engine engine;
	struct gg_request req;
	struct gg_explain x;
	struct run run;
	char err[1024];

	/* A Redis server that closes the connection must give an error, not kill us. */
	signal(SIGPIPE, SIG_IGN);

	while ((opt = getopt_long(argc, argv, "c:o:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': path = optarg; break;
		case 'o':
			if (nover == 64) {
				fprintf(stderr, "%s: too many -o options\n", PROG);
				return EX_USAGE;
			}
			overrides[nover++] = optarg;
			break;
		case 'a': client = optarg; break;
		case 'H': helo = optarg; break;
		case 's': sender = optarg; break;
		case 'r': rcpt = optarg; break;
		case 'n': cname = optarg; break;
		case 'R': rname = optarg; break;
		case 'j': json = 1; break;
		case 'C': commit = 1; break;
		case 'L': listsonly = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EX_USAGE;
		}
	}
	if (client == NULL || optind != argc) {
		usage(stderr);
		return EX_USAGE;
	}
	if ((cfg = gg_config_new()) == NULL)
		return EX_UNAVAILABLE;
	if (gg_config_load(cfg, path, err, sizeof(err)) != GG_OK)
		goto config_error;
	for (int i = 0; i < nover; i++)
		if (gg_config_override(cfg, overrides[i], err, sizeof(err)) != GG_OK)
			goto config_error;
	if (gg_config_finish(cfg, err, sizeof(err)) != GG_OK ||
	    gg_checks_validate(cfg, err, sizeof(err)) != GG_OK)
		goto config_error;
	if (listsonly) {
		rc = lists_only(cfg, client, json);
		gg_config_free(cfg);
		return rc;
	}

	gg_request_init(&req);
	{
		struct gg_addr probe_addr;
		if (gg_addr_parse(client, &probe_addr) != GG_OK) {
			fprintf(stderr, "%s: --client %s: not an IP address\n", PROG, client);
			gg_config_free(cfg);
			return EX_USAGE;
		}
	}
	if (gg_request_set(&req, GG_RF_CLIENT_ADDRESS, client, strlen(client)) != GG_OK) {
		fprintf(stderr, "%s: --client: value too long\n", PROG);
		gg_config_free(cfg);
		return EX_USAGE;
	}
	gg_request_set(&req, GG_RF_HELO_NAME, helo, strlen(helo));
	gg_request_set(&req, GG_RF_SENDER, sender, strlen(sender));
	gg_request_set(&req, GG_RF_RECIPIENT, rcpt, strlen(rcpt));
	gg_request_set(&req, GG_RF_CLIENT_NAME, cname, strlen(cname));
	gg_request_set(&req, GG_RF_REVERSE_CLIENT_NAME, rname, strlen(rname));
	gg_request_set(&req, GG_RF_PROTOCOL_STATE, "RCPT", 4);
	gg_request_set(&req, GG_RF_REQUEST, "smtpd_access_policy", 19);
	gg_request_set(&req, GG_RF_INSTANCE, "greygate-check", 14);

	/* The database: as the daemon's user; without it the answer stops at the band. */
	if (gg_privs_drop(cfg->user, gg_store_bdb_dir(cfg->database), err, sizeof(err)) != GG_OK ||
	    gg_store_open(cfg->database, (size_t)cfg->database_cache_size, &store, err,
			  sizeof(err)) != GG_OK) {
		if (commit) {
			fprintf(stderr, "%s: --commit: %s\n", PROG, err);
			gg_config_free(cfg);
			return EX_UNAVAILABLE;
		}
		fprintf(stderr, "%s: warning: database not consulted: %s\n", PROG, err);
		store = NULL;
	}
	memset(&run, 0, sizeof(run));
	gg_score_init(&run.score);
	if ((run.base = event_base_new()) == NULL ||
	    gg_checks_new(run.base, cfg, &ck, err, sizeof(err)) != GG_OK) {
		fprintf(stderr, "%s: %s\n", PROG, run.base ? err : "cannot create an event loop");
		gg_store_close(store);
		gg_config_free(cfg);
		return EX_UNAVAILABLE;
	}
	gg_engine_init(&engine, cfg, store);
	/* Like the daemon at start-up: lists that fail their test entries are skipped. */
	if (gg_checks_probe(ck, on_probe_line, on_probed, &run) == 0)
		event_base_dispatch(run.base);
	if (gg_checks_enabled(ck) && gg_engine_needs_checks(&engine, &req)) {
		if (gg_checks_start(ck, &req, on_checked, &run, NULL) == GG_OK)
			event_base_dispatch(run.base);
		req.score = &run.score;
	}
	if (commit) {
		gg_engine_eval(&engine, &req, (uint64_t)time(NULL), &x.verdict);
		x.have_triplet = x.have_client = x.trusted_client = 0;
	} else if (gg_engine_explain(&engine, &req, (uint64_t)time(NULL), &x) != GG_OK) {
		fprintf(stderr, "%s: database error: %s\n", PROG, gg_store_error(store));
	}
	const struct gg_verdict *v = &x.verdict;
	/* The header the daemon adds at the DATA stage (spf_header). */
	char received[1024] = "";
	if (req.score != NULL)
		(void)gg_score_received_spf(&run.score, req.client_address, req.sender, req.helo_name,
					    cfg->myhostname, received,
					    sizeof(received));
	if (json) {
		printf("{\"client\":");
		json_str(stdout, client);
		printf(",\"helo\":");
		json_str(stdout, helo);
		printf(",\"sender\":");
		json_str(stdout, sender);
		printf(",\"recipient\":");
		json_str(stdout, rcpt);
		printf(",\"checks\":[");
		for (size_t i = 0; req.score && i < run.score.n; i++) {
			printf("%s{\"name\":", i ? "," : "");
			json_str(stdout, run.score.r[i].name);
			printf(",\"weight\":%g,\"txt\":", run.score.r[i].weight);
			json_str(stdout, run.score.r[i].txt);
			printf("}");
		}
		printf("],\"score\":%g,\"thresholds\":{\"greylist\":%g,\"tag\":%g,\"reject\":%g}",
		       req.score ? run.score.total : 0.0, cfg->greylist_threshold, cfg->tag_threshold,
		       cfg->reject_threshold);
		printf(",\"action\":\"%s\",\"reason\":", gg_engine_action_str(v->action));
		json_str(stdout, v->reason ? v->reason : "");
		printf(",\"detail\":");
		json_str(stdout, v->detail);
		printf(",\"reply\":");
		json_str(stdout, v->text);
		printf(",\"header\":");
		json_str(stdout, v->header);
		printf(",\"key\":");
		json_str(stdout, v->key);
		printf(",\"spf_domain\":");
		json_str(stdout, req.score && run.score.spf_pass ? run.score.spf_domain : "");
		printf(",\"received_spf\":");
		json_str(stdout, received + (received[0] ? strlen("Received-SPF: ") : 0));
		printf(",\"committed\":%s}\n", commit ? "true" : "false");
	} else {
		printf("client %s helo <%s> from <%s> to <%s>\n", client, helo, sender, rcpt);
		if (req.score == NULL)
			printf("  (no DNS or SPF checks ran: %s)\n", gg_checks_enabled(ck) ?
			       "decided before the checks" : "none are enabled");
		for (size_t i = 0; req.score && i < run.score.n; i++)
			printf("  %-36s %+6g  %s\n", run.score.r[i].name, run.score.r[i].weight,
			       run.score.r[i].txt);
		printf("score %g (greylist >= %g, tag >= %g, reject >= %g)\n",
		       req.score ? run.score.total : 0.0, cfg->greylist_threshold, cfg->tag_threshold,
		       cfg->reject_threshold);
		if (received[0])
			printf("%s\n", received);
		if (v->key[0])
			printf("triplet %s\n", v->key);
		printf("action %s (%s%s%s%s)%s\n", gg_engine_action_str(v->action),
		       v->reason ? v->reason : "", v->detail[0] ? ": " : "", v->detail,
		       v->action == GG_ACTION_GREYLIST && v->remaining ? ", retry later" : "",
		       commit ? " [committed]" : "");
		if (v->text[0])
			printf("reply %s\n", v->text);
		if (v->header[0])
			printf("header %s\n", v->header);
	}
	rc = v->action == GG_ACTION_REJECT ? 3 : v->action == GG_ACTION_GREYLIST ? 2 :
	    v->action == GG_ACTION_TAG ? 1 : 0;
	gg_checks_release(ck);
	event_base_free(run.base);
	gg_store_close(store);
	gg_config_free(cfg);
	return rc;
config_error:
	fprintf(stderr, "%s: %s\n", PROG, err);
	gg_config_free(cfg);
	return EX_CONFIG;
}

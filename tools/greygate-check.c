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

#include "checks/eval.h"
#include "daemon/privs.h"
#include "dns/resolver.h"
#include "engine/config.h"
#include "engine/engine.h"
#include "engine/score.h"
#include "lib/json.h"
#include "lib/util.h"
#include "store/store.h"
#include "tools/check_lists.h"

#define PROG "greygate-check"
#define EX_USAGE 64
#define EX_CONFIG 65
#define EX_UNAVAILABLE 69

/* The command line. */
struct args {
	struct gg_config_source config;		/* -c, -o */
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
	char err[128];
	int opt;

	memset(a, 0, sizeof(*a));
	gg_config_source_init(&a->config);
	a->helo = a->sender = a->cname = a->rname = "";
	a->rcpt = "postmaster-check@invalid";
	while ((opt = getopt_long(argc, argv, "c:o:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
		case 'o':
			if (gg_config_source_option(&a->config, opt, optarg, err, sizeof(err)) != GG_OK) {
				fprintf(stderr, "%s: %s\n", PROG, err);
				return EX_USAGE;
			}
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
	char err[1024];
	struct gg_config *cfg = gg_config_read(&a->config, err, sizeof(err));

	if (cfg != NULL && gg_eval_validate(cfg, err, sizeof(err)) != GG_OK) {
		gg_config_free(cfg);
		cfg = NULL;
	}
	if (cfg == NULL)
		fprintf(stderr, "%s: %s\n", PROG, err);
	return cfg;
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
	} else if ((*store)->notice[0] != '\0') {
		fprintf(stderr, "%s: %s\n", PROG, (*store)->notice);
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

/* json_members - ,"name":"value" for each pair, in order */
static void json_members(const char *const (*kv)[2], size_t n)
{
	for (size_t i = 0; i < n; i++) {
		printf(",\"%s\":", kv[i][0]);
		gg_json_str(stdout, kv[i][1]);
	}
}

/* print_json - the outcome as one JSON object */
static void print_json(const struct args *a, const struct gg_config *cfg, const struct outcome *o)
{
	const struct gg_verdict *v = &o->verdict;
	const struct gg_score *sc = o->scored ? &o->score : NULL;
	const char *const request[][2] = {
		{ "helo", a->helo }, { "sender", a->sender }, { "recipient", a->rcpt },
	};
	const char *const verdict[][2] = {
		{ "detail", v->detail }, { "reply", v->text }, { "header", v->header },
		{ "key", v->key }, { "spf_domain", sc && sc->spf_pass ? sc->spf_domain : "" },
		{ "received_spf",
		  v->received_spf + (v->received_spf[0] ? strlen("Received-SPF: ") : 0) },
	};

	printf("{\"client\":");
	gg_json_str(stdout, a->client);
	json_members(request, GG_ARRAY_LEN(request));
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
	json_members(verdict, GG_ARRAY_LEN(verdict));
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
		rc = ck_lists_run(cfg, a.client, a.json, PROG);
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

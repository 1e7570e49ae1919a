/*
 * check_lists.c - greygate-check --lists-only (see check_lists.h)
 *
 * Every list gets four queries at once: the client's A and TXT records and
 * the two RFC 5782 test entries; one event loop runs until all have
 * answered (the resolver's timeout bounds it).
 */
#include <stdio.h>
#include <string.h>

#include <arpa/nameser.h>
#include <event2/event.h>

#include "tools/check_lists.h"
#include "dns/qname.h"
#include "dns/resolver.h"
#include "dnsbl/lists.h"
#include "lib/json.h"
#include "lib/util.h"

#define EX_USAGE 64
#define EX_CONFIG 65
#define EX_UNAVAILABLE 69

/* What one list said about the client. */
enum lq_state {
	LQ_WAITING,	/* no answer came */
	LQ_CLEAN,	/* not listed */
	LQ_LISTED,
	LQ_ERROR,	/* DNS failure or a name too long */
	LQ_IGNORED,	/* an answer the list's filter does not count */
	LQ_DEAD,	/* fails its RFC 5782 test entries */
};

static const char *const lq_names[] = { "no-answer", "not-listed", "listed", "error",
					"ignored-answer", "dead-list" };

struct list_query;

/* One RFC 5782 test entry of a list and what it must answer. */
struct test_entry {
	struct list_query *q;
	const char *addr;
	int must_list;
};

/* One list's lookups. */
struct list_query {
	const struct gg_lists_entry *list;
	struct event_base *base;
	int *pending;
	enum lq_state state;
	int dead;
	struct test_entry tests[2];
	char answer[64];
	char txt[300];
	char error[80];
	char qname[300];
};

/* answered - one query less to wait for */
static void answered(struct list_query *q)
{
	if (--*q->pending == 0)
		event_base_loopexit(q->base, NULL);
}

static void on_txt(const struct gg_dns_result *res, void *arg)
{
	struct list_query *q = arg;

	if (res->st == GG_OK && res->ntxt > 0)
		gg_sanitize(q->txt, sizeof(q->txt), res->txt[0], strlen(res->txt[0]), 250);
	answered(q);
}

static void on_a(const struct gg_dns_result *res, void *arg)
{
	struct list_query *q = arg;

	if (res->st == GG_NOTFOUND) {
		q->state = LQ_CLEAN;
	} else if (res->st != GG_OK) {
		q->state = LQ_ERROR;
		snprintf(q->error, sizeof(q->error), "%s", res->error ? res->error : "DNS error");
	} else {
		q->state = LQ_CLEAN;
		for (size_t i = 0; i < res->naddrs; i++) {
			const struct gg_addr *a = &res->addrs[i].addr;
			enum gg_answer_class cls = gg_lists_classify(q->list, a);
			gg_addr_format(a, q->answer, sizeof(q->answer));
			if (cls == GG_ANSWER_HIT) {
				q->state = LQ_LISTED;
				break;
			}
			if (cls == GG_ANSWER_BOGUS)
				q->state = LQ_IGNORED;
		}
	}
	answered(q);
}

/* on_test - a test entry's answer; a DNS failure gives no verdict */
static void on_test(const struct gg_dns_result *res, void *arg)
{
	struct test_entry *t = arg;
	int hit = 0;

	for (size_t i = 0; res->st == GG_OK && i < res->naddrs; i++)
		hit |= gg_lists_classify(t->q->list, &res->addrs[i].addr) == GG_ANSWER_HIT;
	if (t->must_list ? !hit && (res->st == GG_OK || res->st == GG_NOTFOUND) : hit)
		t->q->dead = 1;
	answered(t->q);
}

/* query - one query for q; counted only when it was sent */
static void query(struct gg_resolver *res, struct list_query *q, const char *name, int type,
		  gg_resolver_cb cb, void *arg)
{
	(*q->pending)++;
	if (gg_resolver_query(res, name, type, cb, arg) != GG_OK)
		(*q->pending)--;
}

/* start - the four queries of one list */
static void start(struct gg_resolver *res, struct list_query *q, const struct gg_addr *client)
{
	char name[300];
	struct gg_addr a;

	if (gg_qname_addr(client, q->list->zone, q->qname, sizeof(q->qname)) != GG_OK) {
		q->state = LQ_ERROR;
		snprintf(q->error, sizeof(q->error), "name too long");
		return;
	}
	query(res, q, q->qname, ns_t_a, on_a, q);
	q->tests[0] = (struct test_entry){ q, "127.0.0.2", 1 };
	q->tests[1] = (struct test_entry){ q, "127.0.0.1", 0 };
	for (int i = 0; i < 2; i++)
		if (gg_addr_parse(q->tests[i].addr, &a) == GG_OK &&
		    gg_qname_addr(&a, q->list->zone, name, sizeof(name)) == GG_OK)
			query(res, q, name, ns_t_a, on_test, &q->tests[i]);
	query(res, q, q->qname, ns_t_txt, on_txt, q);
}

/* print_json - {"client":..,"lists":[..],"listed":..} */
static void print_json(const char *client, const struct list_query *q, int n, int listed)
{
	printf("{\"client\":");
	gg_json_str(stdout, client);
	printf(",\"lists\":[");
	for (int i = 0; i < n; i++) {
		const struct gg_lists_entry *l = q[i].list;
		enum lq_state s = q[i].state;
		printf("%s{\"list\":", i ? "," : "");
		gg_json_str(stdout, l->zone);
		printf(",\"kind\":\"%s\",\"weight\":%g,\"result\":\"%s\",\"answer\":",
		       l->kind == GG_LIST_DNSBL ? "dnsbl" : "dnswl", l->weight, lq_names[s]);
		gg_json_str(stdout, s == LQ_LISTED || s == LQ_IGNORED ? q[i].answer : "");
		printf(",\"txt\":");
		gg_json_str(stdout, s == LQ_LISTED ? q[i].txt : "");
		printf(",\"error\":");
		gg_json_str(stdout, q[i].error);
		printf("}");
	}
	printf("],\"listed\":%s}\n", listed ? "true" : "false");
}

/* print_text - a line per list: kind, zone, result, answer and TXT or error */
static void print_text(const struct list_query *q, int n)
{
	for (int i = 0; i < n; i++) {
		const struct gg_lists_entry *l = q[i].list;
		enum lq_state s = q[i].state;
		int quote = s == LQ_LISTED && q[i].txt[0];
		printf("%-6s %-32s %-14s %s%s%s%s\n", l->kind == GG_LIST_DNSBL ? "dnsbl" : "dnswl",
		       l->zone, lq_names[s], s == LQ_LISTED || s == LQ_IGNORED ? q[i].answer : "",
		       quote ? " \"" : "", s == LQ_LISTED ? q[i].txt : q[i].error, quote ? "\"" : "");
	}
	if (n == 0)
		printf("no dnsbl_sites or dnswl_sites configured\n");
}

/* ask - every list of ls about client; returns the number of queries set up */
static int ask(struct gg_resolver *res, struct event_base *base, const struct gg_lists *ls,
	       const struct gg_addr *client, int *pending, struct list_query *q)
{
	for (size_t i = 0; i < ls->n; i++) {
		memset(&q[i], 0, sizeof(q[i]));
		q[i].list = &ls->v[i];
		q[i].base = base;
		q[i].pending = pending;
		start(res, &q[i], client);
	}
	return (int)ls->n;
}

/* ck_lists_run - see check_lists.h */
int ck_lists_run(const struct gg_config *cfg, const char *client, int json, const char *prog)
{
	struct gg_lists *bl = NULL, *wl = NULL;
	struct gg_resolver *res = NULL;
	struct event_base *base = event_base_new();
	struct list_query q[2 * GG_LISTS_MAX];
	struct gg_addr addr;
	char err[512];
	int n = 0, pending = 0, listed = 0, rc = EX_USAGE;

	if (base == NULL || gg_addr_parse(client, &addr) != GG_OK) {
		fprintf(stderr, "%s: --client %s: not an IP address\n", prog, client);
		goto out;
	}
	rc = EX_CONFIG;
	if (gg_lists_parse(GG_LIST_DNSBL, cfg->dnsbl_sites, gg_config_where(cfg, "dnsbl_sites"), &bl,
			   err, sizeof(err)) != GG_OK ||
	    gg_lists_parse(GG_LIST_DNSWL, cfg->dnswl_sites, gg_config_where(cfg, "dnswl_sites"), &wl,
			   err, sizeof(err)) != GG_OK)
		goto fail;
	rc = EX_UNAVAILABLE;
	if (gg_resolver_new(base, cfg->dns_servers, cfg->dns_timeout * 1000, &res, err,
			    sizeof(err)) != GG_OK)
		goto fail;
	n = ask(res, base, bl, &addr, &pending, q);
	n += ask(res, base, wl, &addr, &pending, q + n);
	if (pending > 0)
		event_base_dispatch(base);
	for (int i = 0; i < n; i++) {
		/* A list that fails its own test entries says nothing about anyone. */
		if (q[i].dead) {
			q[i].state = LQ_DEAD;
			snprintf(q[i].error, sizeof(q[i].error), "fails its RFC 5782 test entries");
		}
		listed |= q[i].state == LQ_LISTED && q[i].list->kind == GG_LIST_DNSBL;
	}
	if (json)
		print_json(client, q, n, listed);
	else
		print_text(q, n);
	rc = listed;
	goto out;
fail:
	fprintf(stderr, "%s: %s\n", prog, err);
out:
	gg_resolver_free(res);
	gg_lists_free(bl);
	gg_lists_free(wl);
	if (base)
		event_base_free(base);
	return rc;
}

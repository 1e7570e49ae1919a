/*
 * checks.c - DNS lists, reverse DNS, HELO and SPF for one request (see checks.h)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>

#include <event2/event.h>

#include "checks/checkcache.h"
#include "checks/checks.h"
#include "dnsbl/dnscheck.h"
#include "dnsbl/dnscheck_probe.h"
#include "dnsbl/lists.h"
#include "dns/cache.h"
#include "dns/resolver.h"
#include "spf/spf.h"
#include "spf/spfcache.h"
#include "lib/clock.h"
#include "lib/util.h"

struct gg_checks {
	struct event_base *base;
	struct gg_resolver *resolver;
	struct gg_dnscheck *dns;	/* NULL: no DNS checks */
	unsigned dns_bits;
	struct gg_lists *dnsbl, *dnswl, *rhsbl;
	struct gg_spf *spf;		/* NULL: SPF off */
	struct gg_spf_weights spfw;
	struct gg_spfcache *spfcache;	/* recent SPF results */
	struct gg_checkcache *results;	/* recent complete results */
	int refs;			/* the owner's plus one per job */
	unsigned long started;		/* jobs started */
	void (*probe_log)(void *, const char *);
	void (*probe_done)(void *);
	void *probe_arg;
};

struct gg_checks_job {
	struct gg_checks *ck;
	gg_checks_cb cb;
	void *arg;
	struct gg_dnscheck_req *dreq;
	int pending;			/* sub-checks still to call back */
	int cancelled;
	char spfkey[GG_SPFCACHE_KEY_MAX];	/* "" when not cacheable */
	/* The complete result is remembered unless something failed. */
	char rkey[GG_CHECKCACHE_KEY_MAX];
	size_t rkeylen;			/* 0: not cacheable */
	uint64_t expires_ms;		/* first answer behind it expires */
	/* The SPF outcome waits here so it is always the last reason. */
	int have_spf;
	enum gg_spf_result spf;
	char spf_domain[256], spf_text[200];
	struct gg_score score;
};

/* release - one reference fewer */
void gg_checks_release(struct gg_checks *ck)
{
	if (ck == NULL || --ck->refs > 0)
		return;
	gg_dnscheck_free(ck->dns);
	gg_spf_free(ck->spf);
	gg_spfcache_free(ck->spfcache);
	gg_checkcache_free(ck->results);
	gg_resolver_free(ck->resolver);
	gg_lists_free(ck->dnsbl);
	gg_lists_free(ck->dnswl);
	gg_lists_free(ck->rhsbl);
	free(ck);
}

/* parse_settings - lists and SPF weights, with file:line errors */
static enum gg_status parse_settings(const struct gg_config *cfg, struct gg_lists **bl,
				     struct gg_lists **wl, struct gg_lists **rhs,
				     struct gg_spf_weights *w, char *err, size_t errsize)
{
	enum gg_status st;
	char csv[512];

	*bl = *wl = *rhs = NULL;
	if ((st = gg_lists_parse(GG_LIST_DNSBL, cfg->dnsbl_sites, gg_config_where(cfg, "dnsbl_sites"),
				 bl, err, errsize)) != GG_OK ||
	    (st = gg_lists_parse(GG_LIST_DNSWL, cfg->dnswl_sites, gg_config_where(cfg, "dnswl_sites"),
				 wl, err, errsize)) != GG_OK ||
	    (st = gg_lists_parse(GG_LIST_RHSBL, cfg->rhsbl_sites, gg_config_where(cfg, "rhsbl_sites"),
				 rhs, err, errsize)) != GG_OK)
		goto fail;
	gg_spf_weights_default(w);
	if ((st = gg_spf_weights_parse(cfg->spf_weights, gg_config_where(cfg, "spf_weights"), w,
				       err, errsize)) != GG_OK)
		goto fail;
	if ((st = gg_resolver_parse_servers(cfg->dns_servers, csv, sizeof(csv), err, errsize)) != GG_OK) {
		char msg[512];
		snprintf(msg, sizeof(msg), "%s: %s", gg_config_where(cfg, "dns_servers"), err);
		snprintf(err, errsize, "%s", msg);
		goto fail;
	}
	return GG_OK;
fail:
	gg_lists_free(*bl);
	gg_lists_free(*wl);
	gg_lists_free(*rhs);
	*bl = *wl = *rhs = NULL;
	return st;
}

/* dns_params - the list checker's parameters from the configuration */
static void dns_params(const struct gg_config *cfg, struct gg_checks *ck, struct gg_dnscheck_params *p)
{
	gg_dnscheck_params_init(p);
	p->timeout_ms = cfg->dns_timeout * 1000;
	p->cache_size = (size_t)cfg->dns_cache_size;
	p->cache_min_ttl = (unsigned)cfg->dns_cache_min_ttl;
	p->cache_max_ttl = (unsigned)cfg->dns_cache_max_ttl;
	p->dnsbl = ck->dnsbl;
	p->dnswl = ck->dnswl;
	p->rhsbl = ck->rhsbl;
	p->rhsbl_sender = (cfg->rhsbl_targets & GG_CONFIG_RHSBL_SENDER) != 0;
	p->rhsbl_helo = (cfg->rhsbl_targets & GG_CONFIG_RHSBL_HELO) != 0;
	p->rhsbl_client = (cfg->rhsbl_targets & GG_CONFIG_RHSBL_CLIENT) != 0;
	p->rdns_missing_weight = cfg->rdns_missing_weight;
	p->rdns_unconfirmed_weight = cfg->rdns_unconfirmed_weight;
	p->rdns_dynamic_weight = cfg->rdns_dynamic_weight;
	p->rdns_generic_patterns = cfg->rdns_dynamic_patterns[0] ? cfg->rdns_dynamic_patterns : NULL;
	p->rdns_generic_address = cfg->rdns_dynamic_address;
	p->helo_ip_mismatch_weight = cfg->helo_ip_mismatch_weight;
	p->helo_ours_weight = cfg->helo_ours_weight;
	p->helo_not_fqdn_weight = cfg->helo_not_fqdn_weight;
	p->helo_unresolvable_weight = cfg->helo_unresolvable_weight;
	p->helo_own_names = cfg->helo_own_names[0] ? cfg->helo_own_names : cfg->myhostname;
}

/* gg_checks_validate - settings only, including the patterns the list checker compiles */
enum gg_status gg_checks_validate(const struct gg_config *cfg, char *err, size_t errsize)
{
	struct gg_checks ck;
	struct gg_dnscheck_params p;
	struct gg_dnscheck *dc = NULL;
	struct gg_resolver *r = NULL;
	struct event_base *base = NULL;
	enum gg_status st;
	char msg[600];

	memset(&ck, 0, sizeof(ck));
	if ((st = parse_settings(cfg, &ck.dnsbl, &ck.dnswl, &ck.rhsbl, &ck.spfw, err,
				 errsize)) != GG_OK)
		return st;
	/* Building a checker compiles rdns_dynamic_patterns and helo_own_names; no query is sent. */
	if (cfg->rdns_check || cfg->helo_check) {
		dns_params(cfg, &ck, &p);
		if ((base = event_base_new()) == NULL) {
			st = GG_ENOMEM;
			snprintf(err, errsize, "out of memory");
		} else if ((st = gg_resolver_new(base, cfg->dns_servers, cfg->dns_timeout * 1000, &r,
						 err, errsize)) == GG_OK &&
			   (st = gg_dnscheck_new(base, r, &p, &dc, msg, sizeof(msg))) != GG_OK) {
			const char *name = strstr(msg, "helo_own_names") ? "helo_own_names" :
			    "rdns_dynamic_patterns";
			snprintf(err, errsize, "%s: %s", gg_config_where(cfg, name), msg);
		}
	}
	gg_dnscheck_free(dc);
	gg_resolver_free(r);
	if (base != NULL)
		event_base_free(base);
	gg_lists_free(ck.dnsbl);
	gg_lists_free(ck.dnswl);
	gg_lists_free(ck.rhsbl);
	return st;
}

/* gg_checks_new - everything the configuration enables */
enum gg_status gg_checks_new(struct event_base *base, const struct gg_config *cfg,
			     struct gg_checks **out, char *err, size_t errsize)
{
	struct gg_checks *ck = calloc(1, sizeof(*ck));
	struct gg_dnscheck_params p;
	enum gg_status st;
	int lists;

	*out = NULL;
	if (ck == NULL)
		return GG_ENOMEM;
	ck->base = base;
	ck->refs = 1;
	if ((st = parse_settings(cfg, &ck->dnsbl, &ck->dnswl, &ck->rhsbl, &ck->spfw, err,
				 errsize)) != GG_OK)
		goto fail;
	lists = ck->dnsbl->n + ck->dnswl->n + ck->rhsbl->n > 0;
	ck->dns_bits = (lists ? GG_DNSCHECK_LISTS : 0) | (cfg->rdns_check ? GG_DNSCHECK_RDNS : 0) |
	    (cfg->helo_check ? GG_DNSCHECK_HELO : 0);
	if (ck->dns_bits != 0) {
		if ((st = gg_resolver_new(base, cfg->dns_servers, cfg->dns_timeout * 1000, &ck->resolver,
					  err, errsize)) != GG_OK)
			goto fail;
		dns_params(cfg, ck, &p);
		if ((st = gg_dnscheck_new(base, ck->resolver, &p, &ck->dns, err, errsize)) != GG_OK)
			goto fail;
	}
	if (cfg->spf_check) {
		if ((st = gg_spf_new(base, (int)cfg->spf_workers, cfg->dns_servers,
				     cfg->dns_timeout * 1000, cfg->myhostname, &ck->spf, err,
				     errsize)) != GG_OK)
			goto fail;
		if ((ck->spfcache = gg_spfcache_new((size_t)cfg->dns_cache_size)) == NULL) {
			snprintf(err, errsize, "out of memory for the SPF result cache");
			st = GG_ENOMEM;
			goto fail;
		}
	}
	if (gg_checks_enabled(ck) && cfg->dns_cache_size > 0 &&
	    (ck->results = gg_checkcache_new((size_t)cfg->dns_cache_size)) == NULL) {
		snprintf(err, errsize, "out of memory for the check result cache");
		st = GG_ENOMEM;
		goto fail;
	}
	*out = ck;
	return GG_OK;
fail:
	gg_checks_release(ck);
	return st;
}

int gg_checks_enabled(const struct gg_checks *ck)
{
	return ck != NULL && (ck->dns != NULL || ck->spf != NULL);
}

static void spf_result(struct gg_checks_job *job);

/* no_cache - something failed: this result must not be remembered */
static void no_cache(struct gg_checks_job *job)
{
	job->rkeylen = 0;
}

/* expire_by - the result is good until t at most */
static void expire_by(struct gg_checks_job *job, uint64_t t)
{
	if (t < job->expires_ms)
		job->expires_ms = t;
}

/* job_done - one sub-check finished; the last one calls back */
static void job_done(struct gg_checks_job *job)
{
	struct gg_checks *ck = job->ck;

	if (--job->pending > 0)
		return;
	if (job->have_spf)
		spf_result(job);
	if (job->rkeylen > 0 && !job->cancelled) {
		uint64_t now = gg_clock_ms();
		/* Asked again after GG_SPFCACHE_TTL at the latest, like SPF alone. */
		expire_by(job, now + (uint64_t)GG_SPFCACHE_TTL * 1000);
		if (job->expires_ms > now)
			gg_checkcache_put(ck->results, job->rkey, job->rkeylen, job->expires_ms,
					  &job->score);
	}
	if (!job->cancelled)
		job->cb(&job->score, job->arg);
	free(job);
	gg_checks_release(ck);
}

static void on_dns(const struct gg_dnscheck_result *res, void *arg)
{
	struct gg_checks_job *job = arg;

	job->dreq = NULL;
	if (res->errors > 0 || res->timed_out || res->reasons_truncated || res->expires_ms == 0)
		no_cache(job);
	else
		expire_by(job, res->expires_ms);
	for (size_t i = 0; i < res->nreasons; i++)
		gg_score_add(&job->score, res->reasons[i].name, res->reasons[i].weight,
			     res->reasons[i].txt);
	job_done(job);
}

/* keep_spf - hold an SPF outcome until the job completes */
static void keep_spf(struct gg_checks_job *job, enum gg_spf_result result, const char *domain,
		     const char *text)
{
	job->have_spf = 1;
	job->spf = result;
	(void)gg_strcpy(job->spf_domain, sizeof(job->spf_domain), domain ? domain : "");
	(void)gg_strcpy(job->spf_text, sizeof(job->spf_text), text ? text : "");
}

/* spf_result - the SPF outcome into the job's score, after the DNS reasons */
static void spf_result(struct gg_checks_job *job)
{
	char name[64];

	snprintf(name, sizeof(name), "spf:%s", gg_spf_result_str(job->spf));
	gg_score_add(&job->score, name, job->ck->spfw.w[job->spf], job->spf_text);
	(void)gg_strcpy(job->score.spf_result, sizeof(job->score.spf_result),
			gg_spf_result_str(job->spf));
	if (job->spf == GG_SPF_PASS && job->spf_domain[0] != '\0') {
		job->score.spf_pass = 1;
		(void)gg_strcpy(job->score.spf_domain, sizeof(job->score.spf_domain), job->spf_domain);
	}
}

static void on_spf(const struct gg_spf_reply *r, void *arg)
{
	struct gg_checks_job *job = arg;
	const char *text = r->explanation ? r->explanation : r->comment;

	keep_spf(job, r->result, r->domain, text);
	/* Remember definite answers; a temporary error must be asked again. */
	if (job->spfkey[0] != '\0' && r->result != GG_SPF_TEMPERROR && r->status == GG_OK)
		gg_spfcache_put(job->ck->spfcache, job->spfkey, (uint64_t)time(NULL), r->result,
				r->domain, text);
	else
		no_cache(job);
	job_done(job);
}

/* on_spf_cached - a cached SPF answer, delivered from the loop */
static void on_spf_cached(evutil_socket_t fd, short what, void *arg)
{
	struct gg_checks_job *job = arg;
	const struct gg_spfcache_entry *e;

	(void)fd;
	(void)what;
	e = gg_spfcache_get(job->ck->spfcache, job->spfkey, 0);
	if (e != NULL) {
		uint64_t now = (uint64_t)time(NULL);
		keep_spf(job, (enum gg_spf_result)e->result, e->domain, e->text);
		expire_by(job, gg_clock_ms() + (e->expires > now ? e->expires - now : 0) * 1000);
	} else {
		no_cache(job);
		gg_score_add(&job->score, "spf:error(cache)", 0, NULL);
	}
	job_done(job);
}

/* on_nothing - a job whose sub-checks could not start still calls back later */
static void on_nothing(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	job_done(arg);
}

/* sender_domain - the part after the last '@', or "" */
static const char *sender_domain(const char *sender)
{
	const char *at = strrchr(sender, '@');

	return at ? at + 1 : "";
}

/* gg_checks_start - run every enabled check for one request */
enum gg_status gg_checks_start(struct gg_checks *ck, const struct gg_request *req,
			       gg_checks_cb cb, void *arg, struct gg_checks_job **jobp)
{
	struct gg_checks_job *job = calloc(1, sizeof(*job));
	struct gg_addr addr;
	struct timeval now = { 0, 0 };

	if (jobp)
		*jobp = job;
	if (job == NULL)
		return GG_ENOMEM;
	job->ck = ck;
	job->cb = cb;
	job->arg = arg;
	ck->started++;
	job->pending = 1;	/* our own, dropped at the end of this function */
	gg_score_init(&job->score);
	job->expires_ms = UINT64_MAX;
	if (ck->results != NULL)
		job->rkeylen = gg_checkcache_key(job->rkey, req);
	ck->refs++;
	if (gg_addr_parse(req->client_address, &addr) != GG_OK) {
		no_cache(job);
		gg_score_add(&job->score, "checks:bad-client-address", 0, NULL);
	} else {
		if (ck->dns != NULL) {
			struct gg_dnscheck_input in = {
				.client = addr,
				.client_name = req->client_name,
				.reverse_client_name = req->reverse_client_name,
				.helo = req->helo_name,
				.sender_domain = sender_domain(req->sender),
				.checks = ck->dns_bits,
			};
			job->pending++;
			if (gg_dnscheck_start(ck->dns, &in, on_dns, job, &job->dreq) != GG_OK) {
				job->pending--;
				no_cache(job);
				gg_score_add(&job->score, "dns:error(no-memory)", 0, NULL);
			}
		}
		if (ck->spf != NULL) {
			struct timeval now0 = { 0, 0 };
			job->pending++;
			if (!gg_spfcache_key(job->spfkey, req->client_address,
					     req->sender[0] ? sender_domain(req->sender) : "<>",
					     req->helo_name))
				job->spfkey[0] = '\0';
			if (job->spfkey[0] != '\0' &&
			    gg_spfcache_get(ck->spfcache, job->spfkey, (uint64_t)time(NULL)) != NULL) {
				/* A cached answer still comes back from the loop, not from here. */
				if (event_base_once(ck->base, -1, EV_TIMEOUT, on_spf_cached, job,
						    &now0) != 0) {
					job->pending--;
					no_cache(job);
					gg_score_add(&job->score, "spf:error", 0, NULL);
				}
			} else if (gg_spf_check(ck->spf, &addr, req->helo_name, req->sender, on_spf,
						job) != GG_OK) {
				job->pending--;
				no_cache(job);
				gg_score_add(&job->score, "spf:error", 0, NULL);
			}
		}
	}
	if (job->pending > 1) {
		job->pending--;
		return GG_OK;
	}
	/* Nothing started: call back from the loop, never from here. */
	if (event_base_once(ck->base, -1, EV_TIMEOUT, on_nothing, job, &now) != 0) {
		ck->refs--;
		free(job);
		if (jobp)
			*jobp = NULL;
		return GG_ENOMEM;
	}
	return GG_OK;
}

/* gg_checks_cached - a recent complete result for the same inputs */
int gg_checks_cached(struct gg_checks *ck, const struct gg_request *req, struct gg_score *out)
{
	char key[GG_CHECKCACHE_KEY_MAX];
	size_t len;

	if (ck == NULL || ck->results == NULL || (len = gg_checkcache_key(key, req)) == 0)
		return 0;
	return gg_checkcache_get(ck->results, key, len, gg_clock_ms(), out);
}

/* gg_checks_stats - counters for the statistics line */
void gg_checks_stats(const struct gg_checks *ck, struct gg_checks_stats *out)
{
	struct gg_checkcache_stats rs;
	struct gg_dnscache_stats ds;

	memset(out, 0, sizeof(*out));
	if (ck == NULL)
		return;
	out->started = ck->started;
	gg_checkcache_stats(ck->results, &rs);
	out->result_hits = rs.hits;
	out->result_misses = rs.misses;
	out->result_entries = rs.entries;
	if (ck->dns != NULL) {
		gg_dnscache_stats(gg_dnscheck_cache(ck->dns), &ds);
		out->dns_hits = ds.hits;
		out->dns_joined = ds.joined;
		out->dns_misses = ds.misses;
		out->dns_entries = ds.entries;
	}
}

/* gg_checks_cancel - the callback will not run */
void gg_checks_cancel(struct gg_checks_job *job)
{
	if (job == NULL || job->cancelled)
		return;
	job->cancelled = 1;
	/* DNS checks can be withdrawn; an SPF job in a worker cannot, it finishes unseen. */
	if (job->dreq != NULL) {
		gg_dnscheck_cancel(job->dreq);
		job->dreq = NULL;
		job_done(job);
	}
}

/* on_probe - log each list whose state changed */
static void on_probe(const struct gg_dnscheck_probe_report *rep, void *arg)
{
	struct gg_checks *ck = arg;
	struct gg_lists *sets[3] = { ck->dnsbl, ck->dnswl, ck->rhsbl };

	(void)rep;
	/* Remembered results may count a list that is now dead, or miss one that recovered. */
	for (size_t s = 0, changed = 0; s < GG_ARRAY_LEN(sets) && !changed; s++)
		for (size_t i = 0; i < sets[s]->n && !changed; i++)
			if ((changed = sets[s]->v[i].state_changed) != 0)
				gg_checkcache_flush(ck->results);
	for (size_t s = 0; s < GG_ARRAY_LEN(sets) && ck->probe_log != NULL; s++) {
		const struct gg_lists *ls = sets[s];
		for (size_t i = 0; i < ls->n; i++) {
			char line[400];
			const struct gg_lists_entry *l = &ls->v[i];
			if (l->state == GG_LIST_DEAD)
				snprintf(line, sizeof(line), "DNS list %s is DEAD and skipped: %s",
					 l->zone, l->probe_error);
			else if (l->state_changed)
				snprintf(line, sizeof(line), "DNS list %s passes its RFC 5782 test entries",
					 l->zone);
			else
				continue;
			ck->probe_log(ck->probe_arg, line);
		}
	}
	if (ck->probe_done != NULL)
		ck->probe_done(ck->probe_arg);
}

/* gg_checks_probe - RFC 5782 test entries of every list */
int gg_checks_probe(struct gg_checks *ck, void (*log)(void *arg, const char *line),
		    void (*done)(void *arg), void *arg)
{
	if (ck == NULL || ck->dns == NULL || !(ck->dns_bits & GG_DNSCHECK_LISTS))
		return -1;
	ck->probe_log = log;
	ck->probe_done = done;
	ck->probe_arg = arg;
	return gg_dnscheck_probe_lists(ck->dns, on_probe, ck) == GG_OK ? 0 : -1;
}

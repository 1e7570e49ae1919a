/*
 * host.c - signals, reload, statistics, list probes and database timers (see host.h)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/host.h"
#include "daemon/maint.h"

/* The signals the host takes, as indexes into its table of events. */
enum host_signal { HOST_SIGHUP, HOST_SIGUSR1, HOST_SIGTERM, HOST_SIGINT, HOST_NSIGNALS };

struct gg_host {
	struct gg_host_params p;
	struct gg_maint *maint;
	struct event *ev_signal[HOST_NSIGNALS];	/* NULL: not taken */
	struct event *ev_probe;
	int stopping;
};

/* socket_of - the front end's socket setting (the two greygate has) */
static const char *socket_of(const struct gg_host *h, const struct gg_config *cfg)
{
	return strcmp(h->p.socket_setting, "milter_socket") == 0 ? cfg->milter_socket : cfg->listen;
}

/* changed - a string setting differs */
static int changed(const char *a, const char *b)
{
	return strcmp(a, b) != 0;
}

/* warn_restart - one warning for the settings only a restart applies */
static void warn_restart(const struct gg_host *h, const struct gg_config *n,
			 const struct gg_config *o)
{
	if (changed(socket_of(h, n), socket_of(h, o)) || changed(n->database, o->database) ||
	    changed(n->user, o->user) || changed(n->pid_file, o->pid_file) ||
	    n->database_cache_size != o->database_cache_size ||
	    n->listen_unix_mode != o->listen_unix_mode)
		gg_log_warn(h->p.log, "reload: changes to %s, listen_unix_mode, database, "
			    "database_cache_size, user or pid_file take effect only after a restart",
			    h->p.socket_setting);
}

/* log_probe - one line per DNS list whose health changed */
static void log_probe(void *arg, const char *line)
{
	struct gg_host *h = arg;

	if (strstr(line, "DEAD") != NULL)
		gg_log_err(h->p.log, "%s", line);
	else
		gg_log_info(h->p.log, "%s", line);
}

/* on_probe - probe the DNS lists' RFC 5782 test entries */
static void on_probe(evutil_socket_t fd, short what, void *arg)
{
	struct gg_host *h = arg;

	(void)fd;
	(void)what;
	(void)gg_eval_probe(h->p.eval, log_probe, NULL, h);
}

/* probe_now - probe at once, then every dnsbl_probe_interval */
static void probe_now(struct gg_host *h, const struct gg_config *cfg)
{
	struct timeval pi = { cfg->dnsbl_probe_interval, 0 };

	event_add(h->ev_probe, &pi);
	event_active(h->ev_probe, EV_TIMEOUT, 0);
}

/* on_hup - reload configuration, whitelists and checks; a bad file keeps the old ones */
static void on_hup(evutil_socket_t sig, short what, void *arg)
{
	struct gg_host *h = arg;
	const struct gg_host_ops *ops = h->p.ops;
	struct gg_config *ncfg, *old = *h->p.cfg;
	struct gg_log *log = h->p.log;
	enum gg_status st;
	char err[1024];

	(void)sig;
	(void)what;
	err[0] = '\0';
	if ((ncfg = gg_daemon_config(h->p.args, h->p.validate, err, sizeof(err))) == NULL) {
		gg_log_err(log, "reload refused, keeping the running configuration: %s", err);
		return;
	}
	if (ops->threads_begin != NULL)
		ops->threads_begin(h->p.arg);
	st = gg_eval_reload(h->p.eval, ncfg, err, sizeof(err));
	if (ops->threads_end != NULL)
		ops->threads_end(h->p.arg);
	if (st != GG_OK) {
		gg_log_err(log, "reload refused, keeping the running configuration: %s", err);
		gg_config_free(ncfg);
		return;
	}
	warn_restart(h, ncfg, old);
	if (!log->use_stderr && (changed(ncfg->syslog_name, old->syslog_name) ||
				 changed(ncfg->syslog_facility, old->syslog_facility)))
		(void)gg_log_reopen(log, ncfg->syslog_name[0] ? ncfg->syslog_name : h->p.prog,
				    ncfg->syslog_facility);
	*h->p.cfg = ncfg;
	log->verbose = ncfg->log_verbose;
	if (ops->reloaded != NULL)
		ops->reloaded(h->p.arg, ncfg, old);
	/* Redis keeps each record greylist_max_age (plus a margin); BDB ignores this. */
	if (ncfg->greylist_max_age != old->greylist_max_age)
		(void)gg_store_set_lifetime(h->p.store, ncfg->greylist_max_age);
	if (!h->stopping) {
		probe_now(h, ncfg);		/* new lists: probe them now */
		gg_maint_reload(h->maint, ncfg, old);
	} else {
		gg_maint_reload(h->maint, ncfg, old);
		gg_maint_halt(h->maint);
	}
	/*
	 * Nothing refers to the old snapshot now: decisions are synchronous on
	 * this thread and the old checks hold their own parsed copies of lists
	 * and weights.
	 */
	gg_config_free(old);
	gg_log_info(log, "configuration reloaded from %s", h->p.args->config.path);
}

/* on_usr1 - statistics lines */
static void on_usr1(evutil_socket_t sig, short what, void *arg)
{
	struct gg_host *h = arg;
	struct gg_eval_stats es;

	(void)sig;
	(void)what;
	gg_eval_stats(h->p.eval, &es);
	if (h->p.ops->stats != NULL)
		h->p.ops->stats(h->p.arg, &es.engine);
	if (es.checks_enabled) {
		const struct gg_checks_stats *cs = &es.checks;
		gg_log_info(h->p.log, "check statistics: checked=%lu remembered=%lu results_kept=%zu "
			    "dns_cache_hits=%lu dns_shared=%lu dns_queries=%lu dns_answers_kept=%zu",
			    cs->started, cs->result_hits, cs->result_entries, cs->dns_hits,
			    cs->dns_joined, cs->dns_misses, cs->dns_entries);
	}
}

/* on_term - stop the timers and the probes, then let the front end stop */
static void on_term(evutil_socket_t sig, short what, void *arg)
{
	struct gg_host *h = arg;

	(void)what;
	if (h->stopping)
		return;
	h->stopping = 1;
	gg_log_info(h->p.log, "received %s, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
	gg_maint_halt(h->maint);
	event_del(h->ev_probe);
	if (h->p.ops->term != NULL)
		h->p.ops->term(h->p.arg, (int)sig);
}

/* Each signal, its handler, and whether only GG_HOST_TERM takes it. */
static const struct {
	int signo;
	event_callback_fn handler;
	int term_only;
} host_signals[HOST_NSIGNALS] = {
	[HOST_SIGHUP] = { SIGHUP, on_hup, 0 },
	[HOST_SIGUSR1] = { SIGUSR1, on_usr1, 0 },
	[HOST_SIGTERM] = { SIGTERM, on_term, 1 },
	[HOST_SIGINT] = { SIGINT, on_term, 1 },
};

/* gg_host_start - every event, armed; the probes fire at once */
enum gg_status gg_host_start(const struct gg_host_params *p, struct gg_host **out, char *err,
			     size_t errsize)
{
	struct gg_host *h = calloc(1, sizeof(*h));
	int term = (p->flags & GG_HOST_TERM) != 0;

	if (h == NULL)
		goto nomem;
	h->p = *p;
	for (int i = 0; i < HOST_NSIGNALS; i++) {
		if (host_signals[i].term_only && !term)
			continue;
		h->ev_signal[i] = evsignal_new(p->base, host_signals[i].signo, host_signals[i].handler, h);
		if (h->ev_signal[i] == NULL || evsignal_add(h->ev_signal[i], NULL) != 0)
			goto nomem;
	}
	if ((h->ev_probe = event_new(p->base, -1, EV_PERSIST, on_probe, h)) == NULL)
		goto nomem;
	if ((h->maint = gg_maint_start(p->base, p->store, *p->cfg, p->log)) == NULL)
		goto nomem;
	probe_now(h, *p->cfg);		/* probe at start-up */
	*out = h;
	return GG_OK;
nomem:
	gg_host_free(h);
	snprintf(err, errsize, "out of memory setting up events");
	return GG_ENOMEM;
}

/* gg_host_free - every event; the loop no longer runs them */
void gg_host_free(struct gg_host *h)
{
	if (h == NULL)
		return;
	for (int i = 0; i < HOST_NSIGNALS; i++)
		if (h->ev_signal[i] != NULL)
			event_free(h->ev_signal[i]);
	if (h->ev_probe)
		event_free(h->ev_probe);
	gg_maint_free(h->maint);
	free(h);
}

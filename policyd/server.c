/*
 * server.c - greygate-policyd's event loop: listeners, signals, timers
 *
 * Listening sockets, signals and database timers; the connections
 * themselves live in conn.c.  Connections over policy_max_connections are
 * closed at once with a warning (rate-limited).  SIGHUP swaps in a new
 * configuration snapshot, SIGTERM stops accepting and lets answers already
 * decided reach their clients before the database is closed.
 *
 * Timers drive the database: a checkpoint every database_checkpoint_interval
 * and an expiry walk every database_expire_interval, done in slices of
 * database_expire_slice records every 20 ms so requests never stall.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "policyd/policyd.h"
#include "lib/util.h"

#define STOP_GRACE_SECONDS 5		/* SIGTERM: time to flush answers */
#define EXPIRE_STEP_USEC 20000

/* format_peer - "127.0.0.1:34567" or "unix" for log lines */
static void format_peer(const struct sockaddr *sa, char *buf, size_t size)
{
	char host[64] = "";

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		evutil_inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(buf, size, "%s:%u", host, ntohs(sin->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		evutil_inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(buf, size, "[%s]:%u", host, ntohs(sin6->sin6_port));
	} else {
		snprintf(buf, size, "unix-socket");
	}
}

/* on_accept - a new client connection */
static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *arg)
{
	struct policyd *pd = arg;
	char peer[80];

	(void)l;
	(void)salen;
	format_peer(sa, peer, sizeof(peer));
	if (pd->stopping || pd->nconns >= pd->cfg->policy_max_connections) {
		/* Warn on the first refusal and then every 1000th, not per connection. */
		if (pd->refused_conns++ % 1000 == 0)
			gg_log_warn(&pd->log, "%s: refusing connection: %ld connections open, "
				    "policy_max_connections is %ld (%lu refused so far)", peer,
				    pd->nconns, pd->cfg->policy_max_connections, pd->refused_conns);
		evutil_closesocket(fd);
		return;
	}
	if (policyd_conn_new(pd, fd, peer) != 0) {
		gg_log_err(&pd->log, "%s: out of memory accepting a connection; closing it", peer);
		evutil_closesocket(fd);
		return;
	}
	gg_log_debug(&pd->log, "%s: connected (%ld open)", peer, pd->nconns);
}

/* on_accept_error - e.g. out of file descriptors: log, keep listening */
static void on_accept_error(struct evconnlistener *l, void *arg)
{
	struct policyd *pd = arg;
	int err = EVUTIL_SOCKET_ERROR();

	(void)l;
	gg_log_err(&pd->log, "accept failed: %s (raise the file descriptor limit or lower "
		   "policy_max_connections)", strerror(err));
}

/* log_probe - one line per DNS list whose health changed */
static void log_probe(void *arg, const char *line)
{
	struct policyd *pd = arg;

	if (strstr(line, "DEAD") != NULL)
		gg_log_err(&pd->log, "%s", line);
	else
		gg_log_info(&pd->log, "%s", line);
}

/* on_probe - probe the DNS lists' RFC 5782 test entries */
static void on_probe(evutil_socket_t fd, short what, void *arg)
{
	struct policyd *pd = arg;

	(void)fd;
	(void)what;
	(void)gg_eval_probe(pd->eval, log_probe, NULL, pd);
}

/* on_hup - reload configuration and whitelists; a bad file keeps the old one */
static void on_hup(evutil_socket_t sig, short what, void *arg)
{
	struct policyd *pd = arg;
	struct gg_config *ncfg, *old = pd->cfg;
	char err[1024];

	(void)sig;
	(void)what;
	if ((ncfg = policyd_load_config(pd, err, sizeof(err))) == NULL) {
		gg_log_err(&pd->log, "reload refused, keeping the running configuration: %s", err);
		return;
	}
	if (gg_eval_reload(pd->eval, ncfg, err, sizeof(err)) != GG_OK) {
		gg_log_err(&pd->log, "reload refused, keeping the running configuration: %s", err);
		gg_config_free(ncfg);
		return;
	}
	if (strcmp(ncfg->listen, old->listen) != 0 || strcmp(ncfg->database, old->database) != 0 ||
	    strcmp(ncfg->user, old->user) != 0 || strcmp(ncfg->pid_file, old->pid_file) != 0 ||
	    ncfg->database_cache_size != old->database_cache_size ||
	    ncfg->listen_unix_mode != old->listen_unix_mode)
		gg_log_warn(&pd->log, "reload: changes to listen, listen_unix_mode, database, "
			    "database_cache_size, user or pid_file take effect only after a restart");
	if (!pd->log.use_stderr && (strcmp(ncfg->syslog_name, old->syslog_name) != 0 ||
				    strcmp(ncfg->syslog_facility, old->syslog_facility) != 0)) {
		gg_log_close(&pd->log);
		(void)gg_log_open(&pd->log, ncfg->syslog_name[0] ? ncfg->syslog_name : "greygate-policyd",
				  ncfg->syslog_facility,
				  pd->log.use_stderr);
	}
	pd->cfg = ncfg;
	pd->log.verbose = ncfg->log_verbose;
	/* Redis keeps each record greylist_max_age (plus a margin); BDB ignores this. */
	if (ncfg->greylist_max_age != old->greylist_max_age)
		(void)gg_store_set_lifetime(pd->store, ncfg->greylist_max_age);
	{
		/* New lists: probe them now, then every dnsbl_probe_interval. */
		struct timeval pi = { ncfg->dnsbl_probe_interval, 0 };
		event_add(pd->ev_probe, &pi);
		event_active(pd->ev_probe, EV_TIMEOUT, 0);
	}
	if (ncfg->database_checkpoint_interval != old->database_checkpoint_interval) {
		struct timeval cp = { ncfg->database_checkpoint_interval, 0 };
		event_add(pd->ev_checkpoint, &cp);
	}
	if (ncfg->database_expire_interval != old->database_expire_interval) {
		struct timeval ex = { ncfg->database_expire_interval, 0 };
		event_add(pd->ev_expire, &ex);
	}
	/*
	 * Nothing refers to the old snapshot now: decisions are synchronous and
	 * the old checks only hold their own parsed copies of lists and weights.
	 */
	gg_config_free(old);
	gg_log_info(&pd->log, "configuration reloaded from %s", pd->args.config_path);
}

/* on_usr1 - statistics line */
static void on_usr1(evutil_socket_t sig, short what, void *arg)
{
	struct policyd *pd = arg;
	struct gg_eval_stats es;
	const struct gg_engine_stats *s = &es.engine;

	(void)sig;
	(void)what;
	gg_eval_stats(pd->eval, &es);
	gg_log_info(&pd->log, "statistics: connections=%ld refused=%lu requests=%lu accepted=%lu "
		    "greylisted=%lu tagged=%lu rejected=%lu whitelisted=%lu db_errors=%lu "
		    "corrupt_records=%lu", pd->nconns, pd->refused_conns, s->requests, s->accepted,
		    s->greylisted, s->tagged, s->rejected, s->whitelisted, s->db_errors,
		    s->corrupt_records);
	if (es.checks_enabled) {
		const struct gg_checks_stats *cs = &es.checks;
		gg_log_info(&pd->log, "check statistics: checked=%lu remembered=%lu results_kept=%zu "
			    "dns_cache_hits=%lu dns_shared=%lu dns_queries=%lu dns_answers_kept=%zu",
			    cs->started, cs->result_hits, cs->result_entries, cs->dns_hits,
			    cs->dns_joined, cs->dns_misses, cs->dns_entries);
	}
}

/* on_stop_deadline - SIGTERM grace period is over */
static void on_stop_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct policyd *pd = arg;

	(void)fd;
	(void)what;
	gg_log_warn(&pd->log, "stopping: %ld connections still had unsent answers after %ds",
		    pd->nconns, STOP_GRACE_SECONDS);
	event_base_loopexit(pd->base, NULL);
}

/* on_term - stop accepting, flush answers already decided, then exit */
static void on_term(evutil_socket_t sig, short what, void *arg)
{
	struct policyd *pd = arg;
	struct timeval grace = { STOP_GRACE_SECONDS, 0 };

	(void)what;
	if (pd->stopping)
		return;
	pd->stopping = 1;
	gg_log_info(&pd->log, "received %s, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
	for (int i = 0; i < pd->nlisten; i++)
		if (pd->listener[i])
			evconnlistener_disable(pd->listener[i]);
	policyd_conn_stop_all(pd);
	event_del(pd->ev_checkpoint);
	event_del(pd->ev_expire);
	event_del(pd->ev_expire_step);
	event_del(pd->ev_probe);
	if (pd->nconns == 0)
		event_base_loopexit(pd->base, NULL);
	else
		evtimer_add(pd->ev_stop_deadline, &grace);
}

/* on_checkpoint - bound the database log */
static void on_checkpoint(evutil_socket_t fd, short what, void *arg)
{
	struct policyd *pd = arg;
	char err[256];

	(void)fd;
	(void)what;
	if (pd->maintained) {
		/* The store's own thread checkpoints; report what went wrong there. */
		if (pd->store->ops->maintain_error(pd->store, err, sizeof(err)))
			gg_log_err(&pd->log, "database maintenance (checkpoint) failed: %s", err);
		return;
	}
	if (gg_store_checkpoint_now(pd->store) != GG_OK)
		gg_log_err(&pd->log, "database checkpoint failed: %s", gg_store_error(pd->store));
}

/* on_expire_step - one bounded slice of the expiry walk */
static void on_expire_step(evutil_socket_t fd, short what, void *arg)
{
	struct policyd *pd = arg;
	struct timeval step = { 0, EXPIRE_STEP_USEC };
	uint64_t before = (uint64_t)time(NULL) - (uint64_t)pd->cfg->greylist_max_age;
	int done = 0;

	(void)fd;
	(void)what;
	if (pd->store->ops->expire_slice(pd->store, before, (unsigned)pd->cfg->database_expire_slice,
					 &pd->expire_stats, &done) != GG_OK) {
		gg_log_err(&pd->log, "database expiry step failed: %s; will retry at the next "
			   "expiry run", gg_store_error(pd->store));
		done = 1;
	}
	if (!done) {
		evtimer_add(pd->ev_expire_step, &step);
		return;
	}
	pd->expire_running = 0;
	gg_log_msg(&pd->log, pd->expire_stats.expired || pd->expire_stats.corrupt ? LOG_INFO : LOG_DEBUG,
		   "database expiry: examined=%lu expired=%lu corrupt_deleted=%lu",
		   pd->expire_stats.examined, pd->expire_stats.expired, pd->expire_stats.corrupt);
}

/* on_expire - start an expiry walk unless one is running */
static void on_expire(evutil_socket_t fd, short what, void *arg)
{
	struct policyd *pd = arg;
	struct timeval now = { 0, 0 };

	(void)fd;
	(void)what;
	if (pd->expire_running)
		return;
	pd->expire_running = 1;
	memset(&pd->expire_stats, 0, sizeof(pd->expire_stats));
	evtimer_add(pd->ev_expire_step, &now);
}

/* policyd_run - the daemon's main loop */
int policyd_run(struct policyd *pd)
{
	struct timeval cp = { pd->cfg->database_checkpoint_interval, 0 };
	struct timeval ex = { pd->cfg->database_expire_interval, 0 };
	/* The first walk soon after start-up: a daemon restarted often still expires. */
	struct timeval first_expire = { pd->cfg->database_expire_interval < 10 ?
					pd->cfg->database_expire_interval : 10, 0 };

	char err[1024];

	/* Checkpoints off the event loop when the store can; else from the timer. */
	if (pd->store->ops->maintain != NULL && pd->store->ops->maintain_error != NULL) {
		if (pd->store->ops->maintain(pd->store, pd->cfg->database_checkpoint_interval) == GG_OK)
			pd->maintained = 1;
		else
			gg_log_warn(&pd->log, "%s; checkpointing from the event loop instead",
				    gg_store_error(pd->store));
	}
	if (gg_eval_new(pd->base, pd->cfg, pd->store, NULL, &pd->eval, err, sizeof(err)) != GG_OK) {
		gg_log_err(&pd->log, "fatal: %s", err);
		return 1;
	}
	policyd_conn_init(pd);
	for (int i = 0; i < pd->nlisten; i++) {
		pd->listener[i] = evconnlistener_new(pd->base, on_accept, pd,
						     LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
						     1024, pd->listen_fd[i]);
		if (pd->listener[i] == NULL) {
			gg_log_err(&pd->log, "cannot listen on %s: %s", pd->listen_name[i],
				   strerror(errno));
			return 1;
		}
		evconnlistener_set_error_cb(pd->listener[i], on_accept_error);
	}
	pd->ev_hup = evsignal_new(pd->base, SIGHUP, on_hup, pd);
	pd->ev_term = evsignal_new(pd->base, SIGTERM, on_term, pd);
	pd->ev_int = evsignal_new(pd->base, SIGINT, on_term, pd);
	pd->ev_usr1 = evsignal_new(pd->base, SIGUSR1, on_usr1, pd);
	pd->ev_checkpoint = event_new(pd->base, -1, EV_PERSIST, on_checkpoint, pd);
	pd->ev_expire = event_new(pd->base, -1, EV_PERSIST, on_expire, pd);
	pd->ev_expire_step = evtimer_new(pd->base, on_expire_step, pd);
	pd->ev_stop_deadline = evtimer_new(pd->base, on_stop_deadline, pd);
	pd->ev_probe = event_new(pd->base, -1, EV_PERSIST, on_probe, pd);
	if (!pd->ev_hup || !pd->ev_term || !pd->ev_int || !pd->ev_usr1 || !pd->ev_checkpoint ||
	    !pd->ev_expire || !pd->ev_expire_step || !pd->ev_stop_deadline || !pd->ev_probe) {
		gg_log_err(&pd->log, "out of memory setting up events");
		return 1;
	}
	evsignal_add(pd->ev_hup, NULL);
	evsignal_add(pd->ev_term, NULL);
	evsignal_add(pd->ev_int, NULL);
	evsignal_add(pd->ev_usr1, NULL);
	event_add(pd->ev_checkpoint, &cp);
	event_add(pd->ev_expire, &ex);
	evtimer_add(pd->ev_expire_step, &first_expire);
	{
		struct timeval pi = { pd->cfg->dnsbl_probe_interval, 0 };
		event_add(pd->ev_probe, &pi);
		event_active(pd->ev_probe, EV_TIMEOUT, 0);	/* probe at start-up */
	}
	pd->expire_running = 1;

	event_base_dispatch(pd->base);

	policyd_conn_free_all(pd);
	gg_eval_free(pd->eval);
	pd->eval = NULL;
	event_free(pd->ev_probe);
	for (int i = 0; i < pd->nlisten; i++)
		if (pd->listener[i])
			evconnlistener_free(pd->listener[i]);
	event_free(pd->ev_hup);
	event_free(pd->ev_term);
	event_free(pd->ev_int);
	event_free(pd->ev_usr1);
	event_free(pd->ev_checkpoint);
	event_free(pd->ev_expire);
	event_free(pd->ev_expire_step);
	event_free(pd->ev_stop_deadline);
	return 0;
}

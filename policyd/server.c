/*
 * server.c - greygate-policyd's event loop: listeners and what SIGTERM does to them
 *
 * Listening sockets here, the connections themselves in conn.c; the rest
 * of the running daemon - SIGHUP reload, SIGUSR1 statistics, list probes,
 * database timers, taking SIGTERM and SIGINT - is the host both daemons
 * share (daemon/host.h).  Connections over policy_max_connections are
 * closed at once with a warning (rate-limited).  On SIGTERM policyd stops
 * accepting and lets answers already decided reach their clients (for at
 * most STOP_GRACE_SECONDS) before the database is closed.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "checks/eval.h"
#include "daemon/host.h"
#include "policyd/policyd.h"
#include "lib/util.h"

#define STOP_GRACE_SECONDS 5		/* SIGTERM: time to flush answers */

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

/* stats - the SIGUSR1 line: connections, their memory, and the engine's counters */
static void stats(void *arg, const struct gg_engine_stats *s)
{
	struct policyd *pd = arg;

	gg_log_info(&pd->log, "statistics: connections=%ld refused=%lu requests=%lu accepted=%lu "
		    "greylisted=%lu tagged=%lu rejected=%lu whitelisted=%lu db_errors=%lu "
		    "corrupt_records=%lu input_buffers=%zu input_bytes=%zu parsing=%zu "
		    "output_bytes=%zu", pd->nconns, pd->refused_conns, s->requests, s->accepted,
		    s->greylisted, s->tagged, s->rejected, s->whitelisted, s->db_errors,
		    s->corrupt_records, pd->pool.bufs_used, pd->pool.buf_bytes, pd->pool.reqs_used,
		    pd->out_bytes);
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

/* term - SIGTERM/SIGINT (the host logged it): stop accepting, flush answers, then exit */
static void term(void *arg, int sig)
{
	struct policyd *pd = arg;
	struct timeval grace = { STOP_GRACE_SECONDS, 0 };

	(void)sig;
	pd->stopping = 1;
	for (int i = 0; i < pd->nlisten; i++)
		if (pd->listener[i])
			evconnlistener_disable(pd->listener[i]);
	policyd_conn_stop_all(pd);
	if (pd->nconns == 0)
		event_base_loopexit(pd->base, NULL);
	else
		evtimer_add(pd->ev_stop_deadline, &grace);
}

static const struct gg_host_ops policyd_host_ops = { .stats = stats, .term = term };

/* policyd_run - the daemon's main loop */
int policyd_run(struct policyd *pd)
{
	struct gg_host_params hp = {
		.prog = "greygate-policyd", .socket_setting = "listen", .flags = GG_HOST_TERM,
		.base = pd->base, .log = &pd->log, .args = &pd->args, .validate = gg_eval_validate,
		.cfg = &pd->cfg, .store = pd->store, .ops = &policyd_host_ops, .arg = pd,
	};
	char err[1024];
	int rc = 1;

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
			goto out;
		}
		evconnlistener_set_error_cb(pd->listener[i], on_accept_error);
	}
	hp.eval = pd->eval;
	if ((pd->ev_stop_deadline = evtimer_new(pd->base, on_stop_deadline, pd)) == NULL) {
		gg_log_err(&pd->log, "out of memory setting up events");
		goto out;
	}
	if (gg_host_start(&hp, &pd->host, err, sizeof(err)) != GG_OK) {
		gg_log_err(&pd->log, "%s", err);
		goto out;
	}

	event_base_dispatch(pd->base);
	rc = 0;
out:
	policyd_conn_free_all(pd);
	gg_host_free(pd->host);
	pd->host = NULL;
	gg_eval_free(pd->eval);
	pd->eval = NULL;
	for (int i = 0; i < pd->nlisten; i++)
		if (pd->listener[i])
			evconnlistener_free(pd->listener[i]);
	if (pd->ev_stop_deadline)
		event_free(pd->ev_stop_deadline);
	return rc;
}

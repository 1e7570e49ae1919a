/*
 * server.c - greygate-policyd's event loop: connections, requests, signals
 *
 * Every client connection is a libevent bufferevent on the one loop; no
 * thread or process per connection.  Lines are framed here so the limits
 * hold without ever buffering more than policy_max_line_length plus one
 * read: an over-long line is drained as it arrives and the request it
 * belongs to is answered DUNNO once its empty line comes.  A connection
 * that goes quiet is closed after policy_idle_timeout (between requests)
 * or policy_request_timeout (inside one).  Connections over
 * policy_max_connections are closed at once with a warning.
 *
 * The verdict for a request is computed synchronously by the engine (the
 * database transaction has committed before the answer is queued), so an
 * answered decision is never lost, and SIGTERM only has to flush output.
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

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "policy_proto.h"
#include "policyd.h"
#include "util.h"

#define READ_CHUNK 16384		/* read high-water mark beyond the line limit */
#define OUTPUT_HIGH_WATER 65536		/* stop reading from a client that does not read */
#define STOP_GRACE_SECONDS 5		/* SIGTERM: time to flush answers */
#define EXPIRE_STEP_USEC 20000

struct conn {
	struct policyd *pd;
	struct bufferevent *bev;
	struct conn *prev, *next;
	char peer[80];
	struct gg_policy_req pr;
	int in_request;			/* some bytes of a request have arrived */
	int discarding;			/* inside an over-long line */
	size_t discarded;
	char header_instance[128];	/* message that already got X-Greylist */
	unsigned long requests;
};

static void conn_free(struct conn *c)
{
	struct policyd *pd = c->pd;

	if (c->prev)
		c->prev->next = c->next;
	else
		pd->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pd->nconns--;
	bufferevent_free(c->bev);
	free(c);
	if (pd->stopping && pd->nconns == 0)
		event_base_loopexit(pd->base, NULL);
}

/* set_timeout - idle between requests, request timeout inside one */
static void set_timeout(struct conn *c)
{
	const struct gg_config *cfg = c->pd->cfg;
	struct timeval tv = { c->in_request ? cfg->policy_request_timeout : cfg->policy_idle_timeout, 0 };

	bufferevent_set_timeouts(c->bev, &tv, NULL);
}

/* log_verdict - the one line per decision an admin reads */
static void log_verdict(struct conn *c, const struct gg_request *r, const struct gg_verdict *v)
{
	char name[80], addr[80], helo[80], from[120], to[120], detail[200], extra[64];

	gg_sanitize(name, sizeof(name), r->client_name, strlen(r->client_name), 64);
	gg_sanitize(addr, sizeof(addr), r->client_address, strlen(r->client_address), 64);
	gg_sanitize(helo, sizeof(helo), r->helo_name, strlen(r->helo_name), 64);
	gg_sanitize(from, sizeof(from), r->sender, strlen(r->sender), 100);
	gg_sanitize(to, sizeof(to), r->recipient, strlen(r->recipient), 100);
	gg_sanitize(detail, sizeof(detail), v->detail, strlen(v->detail), 150);
	extra[0] = '\0';
	if (v->action == GG_ACTION_GREYLIST && !v->db_error)
		snprintf(extra, sizeof(extra), " delay=%ld", v->remaining);
	else if (v->delayed > 0)
		snprintf(extra, sizeof(extra), " delayed=%ld", v->delayed);
	gg_log_msg(&c->pd->log, v->db_error ? LOG_WARNING : LOG_INFO,
		   "%s%sclient=%s[%s] helo=<%s> from=<%s> to=<%s> action=%s reason=%s%s%s%s%s",
		   r->queue_id[0] ? r->queue_id : "", r->queue_id[0] ? ": " : "",
		   name[0] ? name : "unknown", addr, helo, from, to,
		   gg_engine_action_str(v->action), v->reason, extra,
		   detail[0] ? " (" : "", detail, detail[0] ? ")" : "");
}

/* answer - evaluate a complete request and queue the reply */
static void answer(struct conn *c)
{
	struct policyd *pd = c->pd;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	struct gg_policy_req *pr = &c->pr;
	struct gg_verdict v;

	c->requests++;
	if (pr->error != GG_PE_NONE) {
		gg_log_warn(&pd->log, "%s: request refused: %s: '%s'; answering DUNNO",
			    c->peer, gg_policy_error_str(pr->error), pr->errdetail);
		evbuffer_add(out, "action=DUNNO\n\n", 14);
		return;
	}
	if (strcmp(pr->req.request, "smtpd_access_policy") != 0) {
		char what[80];
		gg_sanitize(what, sizeof(what), pr->req.request, strlen(pr->req.request), 60);
		gg_log_warn(&pd->log, "%s: unsupported request type '%s' (expected "
			    "request=smtpd_access_policy); answering DUNNO", c->peer, what);
		evbuffer_add(out, "action=DUNNO\n\n", 14);
		return;
	}
	gg_engine_eval(&pd->engine, &pr->req, (uint64_t)time(NULL), &v);
	if (v.action != GG_ACTION_ACCEPT || v.delayed > 0 || v.db_error ||
	    pr->req.stage == GG_STAGE_RCPT)
		log_verdict(c, &pr->req, &v);
	switch (v.action) {
	case GG_ACTION_GREYLIST:
		evbuffer_add_printf(out, "action=DEFER_IF_PERMIT %s\n\n", v.text);
		break;
	case GG_ACTION_REJECT:
		evbuffer_add_printf(out, "action=REJECT %s\n\n", v.text);
		break;
	case GG_ACTION_ACCEPT:
	case GG_ACTION_TAG:
		/* One X-Greylist per message, however many recipients were delayed. */
		if (v.header[0] != '\0' &&
		    (pr->req.instance[0] == '\0' || strcmp(c->header_instance, pr->req.instance) != 0)) {
			(void)gg_strcpy(c->header_instance, sizeof(c->header_instance), pr->req.instance);
			evbuffer_add_printf(out, "action=PREPEND %s\n\n", v.header);
		} else {
			evbuffer_add(out, "action=DUNNO\n\n", 14);
		}
		break;
	}
}

/* on_read - frame lines and answer complete requests */
static void on_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	const struct gg_config *cfg = c->pd->cfg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct gg_policy_limits lim = {
		.max_line = (size_t)cfg->policy_max_line_length,
		.max_attributes = (size_t)cfg->policy_max_attributes,
		.max_request = (size_t)cfg->policy_max_request_size,
	};
	int was_in_request = c->in_request;

	for (;;) {
		size_t eol_len = 0, avail = evbuffer_get_length(in);
		struct evbuffer_ptr eol;

		if (avail == 0)
			break;
		if (!c->in_request) {
			gg_policy_begin(&c->pr);
			c->in_request = 1;
		}
		eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);
		if (eol.pos < 0) {
			/* No end of line yet: keep at most one line's worth. */
			if (c->discarding || avail > lim.max_line + 1) {
				if (!c->discarding)
					gg_log_warn(&c->pd->log, "%s: attribute line longer than "
						    "policy_max_line_length (%zu); discarding it",
						    c->peer, lim.max_line);
				c->discarding = 1;
				c->discarded += avail;
				evbuffer_drain(in, avail);
			}
			break;
		}
		if (c->discarding) {
			c->discarded += (size_t)eol.pos + 1;
			evbuffer_drain(in, (size_t)eol.pos + 1);
			gg_policy_overlong(&c->pr, c->discarded);
			c->discarding = 0;
			c->discarded = 0;
			continue;
		}
		if ((size_t)eol.pos > lim.max_line + 1) {
			gg_log_warn(&c->pd->log, "%s: attribute line of %zu bytes is longer than "
				    "policy_max_line_length (%zu); discarding it", c->peer,
				    (size_t)eol.pos, lim.max_line);
			gg_policy_overlong(&c->pr, (size_t)eol.pos + 1);
			evbuffer_drain(in, (size_t)eol.pos + 1);
			continue;
		}
		{
			const char *line = (const char *)evbuffer_pullup(in, eol.pos + 1);
			int done = gg_policy_line(&c->pr, &lim, line, (size_t)eol.pos);

			evbuffer_drain(in, (size_t)eol.pos + 1);
			if (done) {
				answer(c);
				c->in_request = 0;
			}
		}
	}
	/* Apply back-pressure to a client that sends but does not read. */
	if (evbuffer_get_length(bufferevent_get_output(bev)) > OUTPUT_HIGH_WATER)
		bufferevent_disable(bev, EV_READ);
	if (was_in_request != c->in_request)
		set_timeout(c);
}

/* on_write - output drained: resume reading, or finish a closing connection */
static void on_write(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	if (c->pd->stopping) {
		conn_free(c);
		return;
	}
	if (!(bufferevent_get_enabled(bev) & EV_READ))
		bufferevent_enable(bev, EV_READ);
}

/* on_event - end of file, errors and timeouts */
static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	struct policyd *pd = c->pd;

	(void)bev;
	if (what & BEV_EVENT_TIMEOUT) {
		if (c->in_request)
			gg_log_warn(&pd->log, "%s: request not completed within "
				    "policy_request_timeout (%lds); closing connection",
				    c->peer, pd->cfg->policy_request_timeout);
		else
			gg_log_debug(&pd->log, "%s: idle for policy_idle_timeout (%lds); closing",
				     c->peer, pd->cfg->policy_idle_timeout);
	} else if (what & BEV_EVENT_EOF) {
		if (c->in_request)
			gg_log_warn(&pd->log, "%s: client disconnected in the middle of a request "
				    "(%zu attributes read); nothing was decided", c->peer, c->pr.nattrs);
		else
			gg_log_debug(&pd->log, "%s: disconnected after %lu requests", c->peer, c->requests);
	} else if (what & BEV_EVENT_ERROR) {
		gg_log_warn(&pd->log, "%s: connection error: %s; closing", c->peer,
			    strerror(EVUTIL_SOCKET_ERROR()));
	}
	conn_free(c);
}

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
	struct conn *c;
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
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->bev = bufferevent_socket_new(pd->base, fd, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		gg_log_err(&pd->log, "%s: out of memory accepting a connection; closing it", peer);
		free(c);
		evutil_closesocket(fd);
		return;
	}
	c->pd = pd;
	memcpy(c->peer, peer, sizeof(c->peer));
	c->next = pd->conns;
	if (pd->conns)
		pd->conns->prev = c;
	pd->conns = c;
	pd->nconns++;
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0,
				 (size_t)pd->cfg->policy_max_line_length + READ_CHUNK);
	set_timeout(c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
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
	if (strcmp(ncfg->listen, old->listen) != 0 || strcmp(ncfg->database, old->database) != 0 ||
	    strcmp(ncfg->user, old->user) != 0 || ncfg->database_cache_size != old->database_cache_size)
		gg_log_warn(&pd->log, "reload: changes to listen, database, database_cache_size "
			    "or user take effect only after a restart");
	pd->cfg = ncfg;
	pd->engine.cfg = ncfg;
	pd->log.verbose = ncfg->log_verbose;
	/* Requests are answered synchronously, so nothing refers to the old snapshot now. */
	gg_config_free(old);
	gg_log_info(&pd->log, "configuration reloaded from %s", pd->config_path);
}

/* on_usr1 - statistics line */
static void on_usr1(evutil_socket_t sig, short what, void *arg)
{
	struct policyd *pd = arg;
	const struct gg_engine_stats *s = &pd->engine.stats;

	(void)sig;
	(void)what;
	gg_log_info(&pd->log, "statistics: connections=%ld refused=%lu requests=%lu accepted=%lu "
		    "greylisted=%lu whitelisted=%lu db_errors=%lu corrupt_records=%lu",
		    pd->nconns, pd->refused_conns, s->requests, s->accepted, s->greylisted,
		    s->whitelisted, s->db_errors, s->corrupt_records);
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
	struct conn *c, *next;
	struct timeval grace = { STOP_GRACE_SECONDS, 0 };

	(void)what;
	if (pd->stopping)
		return;
	pd->stopping = 1;
	gg_log_info(&pd->log, "received %s, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
	for (int i = 0; i < pd->nlisten; i++)
		if (pd->listener[i])
			evconnlistener_disable(pd->listener[i]);
	for (c = pd->conns; c != NULL; c = next) {
		next = c->next;
		if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
			conn_free(c);
		else
			bufferevent_disable(c->bev, EV_READ);
	}
	event_del(pd->ev_checkpoint);
	event_del(pd->ev_expire);
	event_del(pd->ev_expire_step);
	if (pd->nconns == 0)
		event_base_loopexit(pd->base, NULL);
	else
		evtimer_add(pd->ev_stop_deadline, &grace);
}

/* on_checkpoint - bound the database log */
static void on_checkpoint(evutil_socket_t fd, short what, void *arg)
{
	struct policyd *pd = arg;

	(void)fd;
	(void)what;
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
	gg_log_info(&pd->log, "database expiry: examined=%lu expired=%lu corrupt_deleted=%lu",
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
	struct timeval first_expire = { 10, 0 };
	struct conn *c;

	gg_engine_init(&pd->engine, pd->cfg, pd->store);
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
	if (!pd->ev_hup || !pd->ev_term || !pd->ev_int || !pd->ev_usr1 || !pd->ev_checkpoint ||
	    !pd->ev_expire || !pd->ev_expire_step || !pd->ev_stop_deadline) {
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
	pd->expire_running = 1;

	event_base_dispatch(pd->base);

	while ((c = pd->conns) != NULL) {
		pd->stopping = 0;	/* no loopexit from conn_free now */
		conn_free(c);
	}
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

/*
 * policyd.h - greygate-policyd internals shared by main.c and server.c
 *
 * main.c owns start-up: arguments, configuration, sockets, daemon mode,
 * database and privileges.  server.c owns the running daemon: the event
 * loop, connections, the protocol exchange, signals and database timers.
 */
#ifndef GG_POLICYD_H
#define GG_POLICYD_H

#include <event2/event.h>
#include <event2/listener.h>

#include "config.h"
#include "engine.h"
#include "log.h"
#include "store.h"

#define POLICYD_MAX_LISTENERS 16
#define POLICYD_MAX_OVERRIDES 64

struct conn;

struct policyd {
	struct event_base *base;
	struct gg_log log;
	struct gg_config *cfg;
	struct gg_store *store;
	struct gg_engine engine;
	const char *config_path;
	const char *overrides[POLICYD_MAX_OVERRIDES];
	int noverrides;

	int listen_fd[POLICYD_MAX_LISTENERS];
	char listen_name[POLICYD_MAX_LISTENERS][128];
	int nlisten;
	struct evconnlistener *listener[POLICYD_MAX_LISTENERS];

	struct conn *conns;		/* doubly linked list of open connections */
	long nconns;
	unsigned long refused_conns;	/* over policy_max_connections */
	int stopping;

	struct event *ev_hup, *ev_term, *ev_int, *ev_usr1;
	struct event *ev_checkpoint, *ev_expire, *ev_expire_step, *ev_stop_deadline;
	struct gg_expire_stats expire_stats;
	int expire_running;
};

/* Load, override and check a configuration snapshot; NULL with err set on failure. */
struct gg_config *policyd_load_config(struct policyd *pd, char *err, size_t errsize);
/* Bind every listen= socket (before privileges are dropped). */
int policyd_bind(struct policyd *pd, char *err, size_t errsize);
/* Run the event loop until SIGTERM; returns the exit status. */
int policyd_run(struct policyd *pd);

#endif

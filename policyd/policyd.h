/*
 * policyd.h - greygate-policyd internals shared by main.c and server.c
 *
 * main.c owns start-up: arguments, configuration, sockets, daemon mode,
 * database and privileges.  server.c owns the running daemon: the event
 * loop and the listeners, daemon/host.c the signals, reload and timers;
 * conn.c owns each client connection and the protocol exchange, and the
 * memory of connections: their input buffers and requests come from `pool`
 * and go back to it while they idle.
 */
#ifndef GG_POLICYD_H
#define GG_POLICYD_H

#include <event2/event.h>
#include <event2/listener.h>

#include "checks/eval.h"
#include "engine/config.h"
#include "daemon/daemon.h"
#include "daemon/host.h"
#include "engine/engine.h"
#include "daemon/log.h"
#include "lib/list.h"
#include "policyd/policy_proto.h"
#include "store/store.h"

#define POLICYD_MAX_LISTENERS 16
struct conn;

struct policyd {
	struct event_base *base;
	struct gg_log log;
	struct gg_config *cfg;
	struct gg_store *store;
	struct gg_daemon_args args;	/* command line: -c, -o, ... */

	int listen_fd[POLICYD_MAX_LISTENERS];
	char listen_name[POLICYD_MAX_LISTENERS][128];
	int nlisten;
	struct evconnlistener *listener[POLICYD_MAX_LISTENERS];

	struct gg_list conns;		/* open connections (conn.c's struct conn) */
	long nconns;
	struct gg_policy_pool pool;	/* input buffers and requests being parsed */
	size_t out_bytes;		/* answers queued for clients that do not read */
	unsigned long refused_conns;	/* over policy_max_connections */
	int stopping;

	struct gg_eval *eval;		/* the pipeline: engine, checks, batch */
	struct gg_host *host;		/* signals, reload, probes, database timers */
	struct event *ev_stop_deadline;	/* SIGTERM: the grace period for unsent answers */
};

/* Load, override and check a configuration snapshot; NULL with err set on failure. */
struct gg_config *policyd_load_config(const struct policyd *pd, char *err, size_t errsize);
/* Bind every listen= socket (before privileges are dropped). */
int policyd_bind(struct policyd *pd, char *err, size_t errsize);
/* Adopt an accepted client socket (conn.c); -1 if out of memory. */
int policyd_conn_new(struct policyd *pd, int fd, const char *peer);
/* Connections take their answers from the pipeline (once pd->eval exists). */
void policyd_conn_init(struct policyd *pd);
/* SIGTERM: close idle connections, stop reading from the others. */
void policyd_conn_stop_all(struct policyd *pd);
/* Close every connection. */
void policyd_conn_free_all(struct policyd *pd);
/* Run the event loop until SIGTERM; returns the exit status. */
int policyd_run(struct policyd *pd);

#endif

/*
 * policyd.h - greygate-policyd internals shared by main.c and server.c
 *
 * main.c owns start-up: arguments, configuration, sockets, daemon mode,
 * database and privileges.  server.c owns the running daemon: the event
 * loop, listeners, signals and database timers; conn.c owns each client
 * connection and the protocol exchange.
 */
#ifndef GG_POLICYD_H
#define GG_POLICYD_H

#include <event2/event.h>
#include <event2/listener.h>

#include "checks/checks.h"
#include "engine/config.h"
#include "daemon/daemon.h"
#include "engine/engine.h"
#include "daemon/log.h"
#include "store/store.h"

#define POLICYD_MAX_LISTENERS 16
#define POLICYD_BATCH_MAX 256	/* requests decided per database commit, at most */

struct conn;

/*
 * Requests completed during one turn of the event loop, decided together
 * with one database commit at the end of the turn (conn.c).
 */
struct policyd_batch {
	struct conn *conn[POLICYD_BATCH_MAX];		/* NULL once the connection closed */
	int refused[POLICYD_BATCH_MAX];			/* answer DUNNO, already logged */
	struct gg_request req[POLICYD_BATCH_MAX];
	struct gg_score score[POLICYD_BATCH_MAX];	/* checks' results, when run */
	const struct gg_request *reqp[POLICYD_BATCH_MAX];
	struct gg_verdict verdict[POLICYD_BATCH_MAX];
	struct gg_greylist_result res[POLICYD_BATCH_MAX];
	size_t n;
};

struct policyd {
	struct event_base *base;
	struct gg_log log;
	struct gg_config *cfg;
	struct gg_store *store;
	struct gg_engine engine;
	struct gg_daemon_args args;	/* command line: -c, -o, ... */

	int listen_fd[POLICYD_MAX_LISTENERS];
	char listen_name[POLICYD_MAX_LISTENERS][128];
	int nlisten;
	struct evconnlistener *listener[POLICYD_MAX_LISTENERS];

	struct conn *conns;		/* doubly linked list of open connections */
	long nconns;
	unsigned long refused_conns;	/* over policy_max_connections */
	int stopping;

	struct gg_checks *checks;	/* DNS/SPF checks of the running configuration */
	struct event *ev_probe;		/* RFC 5782 probes of the DNS lists */
	struct policyd_batch *batch;
	struct event *ev_flush;		/* runs after the turn's reads: decide the batch */
	struct event *ev_hup, *ev_term, *ev_int, *ev_usr1;
	struct event *ev_checkpoint, *ev_expire, *ev_expire_step, *ev_stop_deadline;
	struct gg_expire_stats expire_stats;
	int expire_running;
	int maintained;			/* the store checkpoints on its own thread */
};

/* Load, override and check a configuration snapshot; NULL with err set on failure. */
struct gg_config *policyd_load_config(const struct policyd *pd, char *err, size_t errsize);
/* Bind every listen= socket (before privileges are dropped). */
int policyd_bind(struct policyd *pd, char *err, size_t errsize);
/* Adopt an accepted client socket (conn.c); -1 if out of memory. */
int policyd_conn_new(struct policyd *pd, int fd, const char *peer);
/* Set up and tear down the request batch (after the event base exists). */
int policyd_conn_init(struct policyd *pd);
void policyd_conn_fini(struct policyd *pd);
/* Decide and answer every request waiting in the batch. */
void policyd_conn_flush(struct policyd *pd);
/* SIGTERM: close idle connections, stop reading from the others. */
void policyd_conn_stop_all(struct policyd *pd);
/* Close every connection. */
void policyd_conn_free_all(struct policyd *pd);
/* Run the event loop until SIGTERM; returns the exit status. */
int policyd_run(struct policyd *pd);

#endif

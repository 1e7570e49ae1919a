/*
 * host.h - the running daemon both front ends share: signals, reload, timers
 *
 * A gg_host lives on one event loop, the loop of the thread that owns the
 * pipeline (gg_eval), the store and the configuration snapshot, and does
 * there what greygate-policyd and greygate-milter do alike:
 *
 *   SIGHUP   reload: the file again with the same -o overrides, the front
 *            end's validate(), gg_eval_reload(); a bad file keeps the
 *            running configuration ("reload refused, keeping the running
 *            configuration: ...").  Applied at once: every setting the
 *            pipeline reads, syslog_name and syslog_facility (syslog is
 *            reopened; not when logging to stderr), log_verbose,
 *            greylist_max_age (the store's record lifetime), the list
 *            probes (run at once for the new lists) and the database
 *            timers whose interval changed.  One warning names what needs
 *            a restart: the front end's socket setting, listen_unix_mode,
 *            database, database_cache_size, user and pid_file.
 *   SIGUSR1  statistics: the front end's own line (ops->stats), then the
 *            checks' line when checks are enabled.
 *   SIGTERM, SIGINT   only with GG_HOST_TERM: "received SIGTERM, stopping",
 *            the probes and database timers stop, then ops->term() (which
 *            ends the loop when it is ready).
 *
 * plus the RFC 5782 list probes every dnsbl_probe_interval (and at once
 * at start-up) and the database checkpoint and expiry timers
 * (daemon/maint.h).
 *
 * The host never exits and never touches the front end's sockets; the
 * front end owns the loop, the store and the pipeline and frees them
 * after gg_host_free().  All callbacks run on the loop's thread.
 */
#ifndef GG_DAEMON_HOST_H
#define GG_DAEMON_HOST_H

#include <stddef.h>

#include <event2/event.h>

#include "checks/eval.h"
#include "daemon/daemon.h"
#include "daemon/log.h"
#include "engine/config.h"
#include "store/store.h"

#define GG_HOST_TERM 0x01u		/* take SIGTERM and SIGINT (else the front end's) */

/* What only the front end knows; any member may be NULL. */
struct gg_host_ops {
	/* SIGUSR1: log the front end's "statistics: ..." line from the engine's counters. */
	void (*stats)(void *arg, const struct gg_engine_stats *s);
	/* SIGTERM/SIGINT (GG_HOST_TERM): stop; end the loop when done. */
	void (*term)(void *arg, int sig);
	/*
	 * Around gg_eval_reload(), which may start threads (SPF workers): they
	 * inherit the calling thread's signal mask, so a front end that keeps
	 * signals for this thread blocks them in begin and restores them in end.
	 */
	void (*threads_begin)(void *arg);
	void (*threads_end)(void *arg);
	/* A reload succeeded: *cfg is the new snapshot (old is freed after this returns). */
	void (*reloaded)(void *arg, const struct gg_config *cfg, const struct gg_config *old);
};

/* The front end's daemon, as the host sees it. */
struct gg_host_params {
	const char *prog;		/* syslog ident when syslog_name is empty */
	const char *socket_setting;	/* "listen" or "milter_socket": named in the restart warning */
	unsigned flags;			/* GG_HOST_* */
	struct event_base *base;
	struct gg_log *log;		/* reopened and re-levelled on reload */
	const struct gg_daemon_args *args;	/* -c and -o, read again on reload */
	/* The front end's checks of a snapshot (as for gg_daemon_config()). */
	enum gg_status (*validate)(const struct gg_config *cfg, char *err, size_t errsize);
	struct gg_config **cfg;		/* the running snapshot: replaced (old one freed) on reload */
	struct gg_store *store;
	struct gg_eval *eval;
	const struct gg_host_ops *ops;
	void *arg;			/* for ops */
};

struct gg_host;

/*
 * Set up the signals, the probes and the database timers on p->base and
 * arm them.  GG_OK with *out; GG_ENOMEM with err set.  *p is copied.
 */
enum gg_status gg_host_start(const struct gg_host_params *p, struct gg_host **out, char *err,
			     size_t errsize);
/* Free every event (after the loop has ended, or instead of running it); NULL is a no-op. */
void gg_host_free(struct gg_host *h);

#endif

/*
 * maint.c - checkpoint and expiry timers of the triplet database (see maint.h)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/maint.h"

#define EXPIRE_STEP_USEC 20000
#define FIRST_EXPIRE_MAX 10		/* seconds after start-up, at most */

struct gg_maint {
	struct gg_store *store;
	const struct gg_config *cfg;
	const struct gg_log *log;
	struct event *ev_checkpoint, *ev_expire, *ev_expire_step;
	struct gg_expire_stats stats;
	int running;			/* an expiry walk is under way */
	int maintained;			/* the store checkpoints on its own thread */
};

/* on_checkpoint - bound the database log */
static void on_checkpoint(evutil_socket_t fd, short what, void *arg)
{
	struct gg_maint *mt = arg;
	char err[256];

	(void)fd;
	(void)what;
	if (mt->maintained) {
		/* The store's own thread checkpoints; report what went wrong there. */
		if (mt->store->ops->maintain_error(mt->store, err, sizeof(err)))
			gg_log_err(mt->log, "database maintenance (checkpoint) failed: %s", err);
		return;
	}
	if (gg_store_checkpoint_now(mt->store) != GG_OK)
		gg_log_err(mt->log, "database checkpoint failed: %s", gg_store_error(mt->store));
}

/* on_expire_step - one bounded slice of the expiry walk */
static void on_expire_step(evutil_socket_t fd, short what, void *arg)
{
	struct gg_maint *mt = arg;
	struct timeval step = { 0, EXPIRE_STEP_USEC };
	uint64_t before = (uint64_t)time(NULL) - (uint64_t)mt->cfg->greylist_max_age;
	int done = 0;

	(void)fd;
	(void)what;
	if (mt->store->ops->expire_slice(mt->store, before, (unsigned)mt->cfg->database_expire_slice,
					 &mt->stats, &done) != GG_OK) {
		gg_log_err(mt->log, "database expiry step failed: %s; will retry at the next "
			   "expiry run", gg_store_error(mt->store));
		done = 1;
	}
	if (!done) {
		evtimer_add(mt->ev_expire_step, &step);
		return;
	}
	mt->running = 0;
	gg_log_msg(mt->log, mt->stats.expired || mt->stats.corrupt ? LOG_INFO : LOG_DEBUG,
		   "database expiry: examined=%lu expired=%lu corrupt_deleted=%lu",
		   mt->stats.examined, mt->stats.expired, mt->stats.corrupt);
}

/* on_expire - start an expiry walk unless one is running */
static void on_expire(evutil_socket_t fd, short what, void *arg)
{
	struct gg_maint *mt = arg;
	struct timeval now = { 0, 0 };

	(void)fd;
	(void)what;
	if (mt->running)
		return;
	mt->running = 1;
	memset(&mt->stats, 0, sizeof(mt->stats));
	evtimer_add(mt->ev_expire_step, &now);
}

/* gg_maint_start - the timers, armed; the first walk within FIRST_EXPIRE_MAX seconds */
struct gg_maint *gg_maint_start(struct event_base *base, struct gg_store *store,
				const struct gg_config *cfg, const struct gg_log *log)
{
	struct gg_maint *mt = calloc(1, sizeof(*mt));
	struct timeval cp = { cfg->database_checkpoint_interval, 0 };
	struct timeval ex = { cfg->database_expire_interval, 0 };
	struct timeval first = { cfg->database_expire_interval < FIRST_EXPIRE_MAX ?
				 cfg->database_expire_interval : FIRST_EXPIRE_MAX, 0 };

	if (mt == NULL)
		return NULL;
	mt->store = store;
	mt->cfg = cfg;
	mt->log = log;
	mt->ev_checkpoint = event_new(base, -1, EV_PERSIST, on_checkpoint, mt);
	mt->ev_expire = event_new(base, -1, EV_PERSIST, on_expire, mt);
	mt->ev_expire_step = evtimer_new(base, on_expire_step, mt);
	if (!mt->ev_checkpoint || !mt->ev_expire || !mt->ev_expire_step) {
		gg_maint_free(mt);
		return NULL;
	}
	/* Checkpoints off the loop when the store can; else from the timer. */
	if (store->ops->maintain != NULL && store->ops->maintain_error != NULL) {
		if (store->ops->maintain(store, cfg->database_checkpoint_interval) == GG_OK)
			mt->maintained = 1;
		else
			gg_log_warn(log, "%s; checkpointing from the event loop instead",
				    gg_store_error(store));
	}
	event_add(mt->ev_checkpoint, &cp);
	event_add(mt->ev_expire, &ex);
	mt->running = 1;
	evtimer_add(mt->ev_expire_step, &first);
	return mt;
}

/* gg_maint_reload - the new snapshot; re-arm the timers whose interval changed */
void gg_maint_reload(struct gg_maint *mt, const struct gg_config *cfg,
		     const struct gg_config *old)
{
	mt->cfg = cfg;
	if (cfg->database_checkpoint_interval != old->database_checkpoint_interval) {
		struct timeval cp = { cfg->database_checkpoint_interval, 0 };
		event_add(mt->ev_checkpoint, &cp);
	}
	if (cfg->database_expire_interval != old->database_expire_interval) {
		struct timeval ex = { cfg->database_expire_interval, 0 };
		event_add(mt->ev_expire, &ex);
	}
}

/* gg_maint_halt - no more checkpoints or expiry steps */
void gg_maint_halt(struct gg_maint *mt)
{
	event_del(mt->ev_checkpoint);
	event_del(mt->ev_expire);
	event_del(mt->ev_expire_step);
}

/* gg_maint_free - the loop has ended (or never ran) */
void gg_maint_free(struct gg_maint *mt)
{
	if (mt == NULL)
		return;
	if (mt->ev_checkpoint)
		event_free(mt->ev_checkpoint);
	if (mt->ev_expire)
		event_free(mt->ev_expire);
	if (mt->ev_expire_step)
		event_free(mt->ev_expire_step);
	free(mt);
}

/*
 * maint.c - the triplet database's upkeep on the engine thread's loop
 *
 * The same schedule as greygate-policyd: a checkpoint every
 * database_checkpoint_interval (on the store's own thread when it has one,
 * else from a timer here), and an expiry walk every
 * database_expire_interval, done in slices of database_expire_slice records
 * every 20 ms so recipients waiting for a verdict never stall behind it.
 * The first walk starts soon after start-up, so a milter restarted often
 * still expires.  Everything here runs on the engine thread: the store
 * belongs to it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "milter/milter.h"

#define EXPIRE_STEP_USEC 20000

struct mlt_maint {
	struct milter *m;
	struct event *ev_checkpoint, *ev_expire, *ev_expire_step;
	struct gg_expire_stats stats;
	int running;			/* an expiry walk is under way */
	int maintained;			/* the store checkpoints on its own thread */
};

/* on_checkpoint - bound the database log */
static void on_checkpoint(evutil_socket_t fd, short what, void *arg)
{
	struct mlt_maint *mt = arg;
	struct gg_store *store = mt->m->store;
	char err[256];

	(void)fd;
	(void)what;
	if (mt->maintained) {
		/* The store's own thread checkpoints; report what went wrong there. */
		if (store->ops->maintain_error(store, err, sizeof(err)))
			gg_log_err(&mt->m->log, "database maintenance (checkpoint) failed: %s", err);
		return;
	}
	if (gg_store_checkpoint_now(store) != GG_OK)
		gg_log_err(&mt->m->log, "database checkpoint failed: %s", gg_store_error(store));
}

/* on_expire_step - one bounded slice of the expiry walk */
static void on_expire_step(evutil_socket_t fd, short what, void *arg)
{
	struct mlt_maint *mt = arg;
	struct gg_store *store = mt->m->store;
	struct timeval step = { 0, EXPIRE_STEP_USEC };
	uint64_t before = (uint64_t)time(NULL) - (uint64_t)mt->m->cfg->greylist_max_age;
	int done = 0;

	(void)fd;
	(void)what;
	if (store->ops->expire_slice(store, before, (unsigned)mt->m->cfg->database_expire_slice,
				     &mt->stats, &done) != GG_OK) {
		gg_log_err(&mt->m->log, "database expiry step failed: %s; will retry at the next "
			   "expiry run", gg_store_error(store));
		done = 1;
	}
	if (!done) {
		evtimer_add(mt->ev_expire_step, &step);
		return;
	}
	mt->running = 0;
	gg_log_msg(&mt->m->log, mt->stats.expired || mt->stats.corrupt ? LOG_INFO : LOG_DEBUG,
		   "database expiry: examined=%lu expired=%lu corrupt_deleted=%lu",
		   mt->stats.examined, mt->stats.expired, mt->stats.corrupt);
}

/* on_expire - start an expiry walk unless one is running */
static void on_expire(evutil_socket_t fd, short what, void *arg)
{
	struct mlt_maint *mt = arg;
	struct timeval now = { 0, 0 };

	(void)fd;
	(void)what;
	if (mt->running)
		return;
	mt->running = 1;
	memset(&mt->stats, 0, sizeof(mt->stats));
	evtimer_add(mt->ev_expire_step, &now);
}

/* mlt_maint_start - timers on base; NULL if out of memory */
struct mlt_maint *mlt_maint_start(struct event_base *base, struct milter *m)
{
	struct mlt_maint *mt = calloc(1, sizeof(*mt));
	const struct gg_config *cfg = m->cfg;
	struct gg_store *store = m->store;
	struct timeval cp = { cfg->database_checkpoint_interval, 0 };
	struct timeval ex = { cfg->database_expire_interval, 0 };
	struct timeval first = { cfg->database_expire_interval < 10 ? cfg->database_expire_interval : 10, 0 };

	if (mt == NULL)
		return NULL;
	mt->m = m;
	mt->ev_checkpoint = event_new(base, -1, EV_PERSIST, on_checkpoint, mt);
	mt->ev_expire = event_new(base, -1, EV_PERSIST, on_expire, mt);
	mt->ev_expire_step = evtimer_new(base, on_expire_step, mt);
	if (!mt->ev_checkpoint || !mt->ev_expire || !mt->ev_expire_step) {
		mlt_maint_stop(mt);
		return NULL;
	}
	/* Checkpoints off the loop when the store can; else from the timer. */
	if (store->ops->maintain != NULL && store->ops->maintain_error != NULL) {
		if (store->ops->maintain(store, cfg->database_checkpoint_interval) == GG_OK)
			mt->maintained = 1;
		else
			gg_log_warn(&m->log, "%s; checkpointing from the event loop instead",
				    gg_store_error(store));
	}
	event_add(mt->ev_checkpoint, &cp);
	event_add(mt->ev_expire, &ex);
	mt->running = 1;
	evtimer_add(mt->ev_expire_step, &first);
	return mt;
}

/* mlt_maint_reload - re-arm the timers whose interval changed */
void mlt_maint_reload(struct mlt_maint *mt, const struct gg_config *old)
{
	const struct gg_config *cfg = mt->m->cfg;

	if (cfg->database_checkpoint_interval != old->database_checkpoint_interval) {
		struct timeval cp = { cfg->database_checkpoint_interval, 0 };
		event_add(mt->ev_checkpoint, &cp);
	}
	if (cfg->database_expire_interval != old->database_expire_interval) {
		struct timeval ex = { cfg->database_expire_interval, 0 };
		event_add(mt->ev_expire, &ex);
	}
}

/* mlt_maint_stop - the loop has ended (or never ran) */
void mlt_maint_stop(struct mlt_maint *mt)
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

/*
 * maint.h - the triplet database's upkeep on a daemon's event loop
 *
 * A checkpoint every database_checkpoint_interval (on the store's own
 * thread when it has one, else from a timer here; a failure of the
 * store's thread is reported at the same interval), and an expiry walk
 * every database_expire_interval, done in slices of database_expire_slice
 * records every 20 ms so requests never stall behind it.  The first walk
 * starts soon after start-up, so a daemon restarted often still expires.
 *
 * Everything runs on the thread of the loop the timers live on, which must
 * be the thread that owns the store.  Failures are logged here (this is
 * daemon code), never returned.
 */
#ifndef GG_DAEMON_MAINT_H
#define GG_DAEMON_MAINT_H

#include <event2/event.h>

#include "daemon/log.h"
#include "engine/config.h"
#include "store/store.h"

struct gg_maint;

/* Timers on base for store under cfg (kept until gg_maint_reload); NULL if out of memory. */
struct gg_maint *gg_maint_start(struct event_base *base, struct gg_store *store,
				const struct gg_config *cfg, const struct gg_log *log);
/* A new snapshot: read cfg from now on, re-arm the timers whose interval changed since old. */
void gg_maint_reload(struct gg_maint *mt, const struct gg_config *cfg,
		     const struct gg_config *old);
/* Stop every timer (a daemon that is stopping); gg_maint_free() still follows. */
void gg_maint_halt(struct gg_maint *mt);
/* Free the timers (the loop has ended or never ran); NULL is a no-op. */
void gg_maint_free(struct gg_maint *mt);

#endif

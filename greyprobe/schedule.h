/*
 * schedule.h - when greyprobe retries a temporarily refused delivery
 *
 * A schedule is a list of delays: the first is the wait before the first
 * attempt (normally 0), each later one the wait between one round of
 * attempts and the next, as an MTA's queue would space them.  A final
 * "..." repeats the last delay until --max-time runs out; without it the
 * schedule ends after its last entry.  Each delay is a duration as read by
 * gg_dur_parse() ("0", "500ms", "1s", "5m", "1h30m").
 *
 * The default, GG_SCHEDULE_DEFAULT, follows Postfix's defaults: the first
 * retry after minimal_backoff_time (300 s), each later one after twice the
 * previous wait, up to maximal_backoff_time (4000 s), then every 4000 s.
 * With the default --max-time of 1h that is attempts at 0, 5m, 15m and 35m:
 * enough for any greylisting delay up to half an hour.
 *
 * Limits: at most GG_SCHEDULE_MAX entries, each at most a day.  No
 * allocation; errors read "--schedule: '5x': not a duration".
 */
#ifndef GG_SCHEDULE_H
#define GG_SCHEDULE_H

#include <stddef.h>
#include "lib/status.h"

#define GG_SCHEDULE_MAX 64
#define GG_SCHEDULE_STEP_MAX_MS (86400L * 1000L)
#define GG_SCHEDULE_DEFAULT "0,5m,10m,20m,40m,4000s,..."

struct gg_schedule {
	size_t n;
	long delay_ms[GG_SCHEDULE_MAX];
	int repeat;		/* ended in "...": the last delay repeats */
};

/* Parse "0,1m,5m,..." into *out. */
enum gg_status gg_schedule_parse(const char *s, struct gg_schedule *out, char *err,
				 size_t errsize);

/* The wait before round i (0-based) in ms, or -1 when there is none. */
long gg_schedule_delay(const struct gg_schedule *s, size_t round);

/* The canonical text form ("0,1s,1s,...") into buf[size]; returns buf. */
char *gg_schedule_format(const struct gg_schedule *s, char *buf, size_t size);

#endif

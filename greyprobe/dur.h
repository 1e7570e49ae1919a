/*
 * dur.h - durations on greyprobe's command line and in its reports
 *
 * gg_dur_parse() reads "500ms", "30s", "5m", "1h30m", "2d" or a plain
 * number of seconds into milliseconds, range-checked against a maximum;
 * units may be combined in decreasing order ("5m12s") and each number is
 * a whole decimal.  gg_dur_format() writes a duration the way the report
 * shows it: "0.004s" below a second, "2.1s" below a minute, then "5m12s",
 * "1h2m", "3d4h".  No allocation, no global state.
 */
#ifndef GG_DUR_H
#define GG_DUR_H

#include <stddef.h>
#include "lib/status.h"

#define GG_DUR_BUFSIZE 32	/* enough for any gg_dur_format() result */
#define GG_DUR_MAX_MS (366L * 86400L * 1000L)	/* a year: more is a typo */

/* Parse a duration into *out_ms, in [0, max_ms]; GG_EINVAL or GG_ETOOBIG. */
enum gg_status gg_dur_parse(const char *s, long max_ms, long *out_ms);

/* Format seconds (negative values are shown as 0) into buf[size]; returns buf. */
char *gg_dur_format(double seconds, char *buf, size_t size);

#endif

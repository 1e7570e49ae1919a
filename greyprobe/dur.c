/*
 * dur.c - parse and format durations (see dur.h)
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "greyprobe/dur.h"

struct unit {
	const char *name;
	long ms;
};

/* Longest names first, so "ms" is not read as "m" followed by junk. */
static const struct unit units[] = {
	{ "ms", 1L },
	{ "w", 7L * 86400L * 1000L },
	{ "d", 86400L * 1000L },
	{ "h", 3600L * 1000L },
	{ "m", 60L * 1000L },
	{ "s", 1000L },
};

/* gg_dur_parse - "1h30m", "500ms", "30" (seconds) into milliseconds */
enum gg_status gg_dur_parse(const char *s, long max_ms, long *out_ms)
{
	const char *p = s;
	long total = 0, last_unit = LONG_MAX;
	int nparts = 0;

	if (s == NULL || *s == '\0')
		return GG_EINVAL;
	while (*p != '\0') {
		long v = 0, mult = 0;
		size_t i, ndigits = 0;

		while (*p >= '0' && *p <= '9') {
			if (v > (LONG_MAX - 9) / 10)
				return GG_ETOOBIG;
			v = v * 10 + (*p - '0');
			p++;
			if (++ndigits > 15)
				return GG_ETOOBIG;
		}
		if (ndigits == 0)
			return GG_EINVAL;
		if (*p == '\0') {
			/* A bare number: seconds, and only as the whole string. */
			if (nparts > 0)
				return GG_EINVAL;
			mult = 1000;
		} else {
			for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
				size_t n = strlen(units[i].name);
				if (strncmp(p, units[i].name, n) == 0) {
					mult = units[i].ms;
					p += n;
					break;
				}
			}
			if (mult == 0)
				return GG_EINVAL;
			/* "5m12s" yes, "12s5m" and "5m5m" no. */
			if (mult >= last_unit)
				return GG_EINVAL;
			last_unit = mult;
		}
		if (v > (LONG_MAX - total) / mult)
			return GG_ETOOBIG;
		total += v * mult;
		nparts++;
	}
	if (total > max_ms)
		return GG_ETOOBIG;
	*out_ms = total;
	return GG_OK;
}

/* gg_dur_format - a short human form of a duration in seconds */
char *gg_dur_format(double seconds, char *buf, size_t size)
{
	long long t, d, h, m, sec;

	if (size == 0)
		return buf;
	if (!(seconds > 0) || !isfinite(seconds))
		seconds = 0;
	if (seconds < 1.0) {
		snprintf(buf, size, "%.3fs", seconds);
		return buf;
	}
	if (seconds < 59.95) {
		snprintf(buf, size, "%.1fs", seconds);
		return buf;
	}
	if (seconds > 1e12)
		seconds = 1e12;
	t = (long long)(seconds + 0.5);
	d = t / 86400;
	h = t % 86400 / 3600;
	m = t % 3600 / 60;
	sec = t % 60;
	if (d > 0)
		snprintf(buf, size, "%lldd%lldh", d, h);
	else if (h > 0)
		snprintf(buf, size, "%lldh%lldm", h, m);
	else
		snprintf(buf, size, "%lldm%llds", m, sec);
	return buf;
}

/*
 * schedule.c - retry schedules (see schedule.h)
 */
#include <stdio.h>
#include <string.h>

#include "greyprobe/dur.h"
#include "greyprobe/schedule.h"
#include "lib/util.h"

/* gg_schedule_parse - comma-separated delays, optionally ending in "..." */
enum gg_status gg_schedule_parse(const char *s, struct gg_schedule *out, char *err,
				 size_t errsize)
{
	char item[32], shown[40];
	const char *p = s;
	enum gg_status st;

	memset(out, 0, sizeof(*out));
	if (s == NULL || *s == '\0') {
		snprintf(err, errsize, "--schedule: empty");
		return GG_EINVAL;
	}
	for (;;) {
		size_t len;
		long ms;

		while (*p == ' ')
			p++;
		len = strcspn(p, ",");
		while (len > 0 && p[len - 1] == ' ')
			len--;
		gg_sanitize(shown, sizeof(shown), p, len, 30);
		if (len == 0) {
			snprintf(err, errsize, "--schedule: empty entry");
			return GG_EINVAL;
		}
		if (len == 3 && strncmp(p, "...", 3) == 0) {
			p += strcspn(p, ",");
			while (*p == ' ')
				p++;
			if (*p != '\0') {
				snprintf(err, errsize, "--schedule: '...' must come last");
				return GG_EINVAL;
			}
			if (out->n == 0) {
				snprintf(err, errsize, "--schedule: '...' needs a delay to repeat");
				return GG_EINVAL;
			}
			out->repeat = 1;
			return GG_OK;
		}
		if (len >= sizeof(item)) {
			snprintf(err, errsize, "--schedule: '%s': not a duration", shown);
			return GG_EINVAL;
		}
		memcpy(item, p, len);
		item[len] = '\0';
		if ((st = gg_dur_parse(item, GG_SCHEDULE_STEP_MAX_MS, &ms)) != GG_OK) {
			snprintf(err, errsize, st == GG_ETOOBIG ? "--schedule: '%s': longer than a day"
				 : "--schedule: '%s': not a duration", shown);
			return st;
		}
		if (out->n >= GG_SCHEDULE_MAX) {
			snprintf(err, errsize, "--schedule: more than %d entries", GG_SCHEDULE_MAX);
			return GG_ETOOBIG;
		}
		/* Repeated back-to-back attempts with no wait would only hammer the server. */
		if (out->n > 0 && ms == 0) {
			snprintf(err, errsize, "--schedule: '%s': only the first delay may be 0", shown);
			return GG_EINVAL;
		}
		out->delay_ms[out->n++] = ms;
		p += strcspn(p, ",");
		if (*p == '\0')
			return GG_OK;
		p++;
	}
}

/* gg_schedule_delay - wait before round i, -1 past the end */
long gg_schedule_delay(const struct gg_schedule *s, size_t round)
{
	if (s->n == 0)
		return -1;
	if (round < s->n)
		return s->delay_ms[round];
	return s->repeat ? s->delay_ms[s->n - 1] : -1;
}

/* fmt_ms - one delay in its shortest exact form */
static void fmt_ms(long ms, char *buf, size_t size)
{
	if (ms == 0)
		snprintf(buf, size, "0");
	else if (ms % 1000 != 0)
		snprintf(buf, size, "%ldms", ms);
	else if (ms % 3600000 == 0)
		snprintf(buf, size, "%ldh", ms / 3600000);
	else if (ms % 60000 == 0)
		snprintf(buf, size, "%ldm", ms / 60000);
	else
		snprintf(buf, size, "%lds", ms / 1000);
}

/* gg_schedule_format - canonical text */
char *gg_schedule_format(const struct gg_schedule *s, char *buf, size_t size)
{
	size_t i, pos = 0;
	char one[32];

	if (size == 0)
		return buf;
	buf[0] = '\0';
	for (i = 0; i < s->n && pos < size; i++) {
		int n;
		fmt_ms(s->delay_ms[i], one, sizeof(one));
		n = snprintf(buf + pos, size - pos, "%s%s", i ? "," : "", one);
		if (n < 0)
			break;
		pos += (size_t)n;
	}
	if (s->repeat && pos < size)
		snprintf(buf + pos, size - pos, ",...");
	return buf;
}

/*
 * util.c - string and number helpers (see util.h)
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/util.h"

/* gg_strbcpy - bounded copy of at most len bytes, reports truncation */
enum gg_status gg_strbcpy(char *dst, size_t size, const char *src, size_t len)
{
	size_t n;

	if (size == 0)
		return GG_ETOOBIG;
	n = strnlen(src, len);
	if (n >= size) {
		memcpy(dst, src, size - 1);
		dst[size - 1] = '\0';
		return GG_ETOOBIG;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
	return GG_OK;
}

/* gg_strcpy - bounded copy of a C string, reports truncation */
enum gg_status gg_strcpy(char *dst, size_t size, const char *src)
{
	return gg_strbcpy(dst, size, src, strlen(src));
}

/* gg_str_lower - ASCII lower-case in place */
void gg_str_lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* gg_str_caseeq - ASCII case-insensitive equality */
int gg_str_caseeq(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

/* gg_str_trim - strip white space at both ends */
char *gg_str_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

/* gg_parse_long - whole-string decimal integer within [min, max] */
enum gg_status gg_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (*s == '\0' || isspace((unsigned char)*s))
		return GG_EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno == ERANGE)
		return GG_ETOOBIG;
	if (*end != '\0' || end == s)
		return GG_EINVAL;
	if (v < min || v > max)
		return GG_ETOOBIG;
	*out = v;
	return GG_OK;
}

/* gg_parse_duration - seconds with an optional s/m/h/d/w suffix */
enum gg_status gg_parse_duration(const char *s, long max, long *out)
{
	char num[32];
	size_t len = strlen(s);
	long mult = 1, v;
	enum gg_status st;

	if (len == 0 || len >= sizeof(num))
		return GG_EINVAL;
	memcpy(num, s, len + 1);
	switch (num[len - 1]) {
	case 's': mult = 1; break;
	case 'm': mult = 60; break;
	case 'h': mult = 3600; break;
	case 'd': mult = 86400; break;
	case 'w': mult = 7 * 86400; break;
	default:  mult = 0; break;
	}
	if (mult != 0)
		num[len - 1] = '\0';
	else
		mult = 1;
	if (num[0] == '-' || num[0] == '+')
		return GG_EINVAL;
	if ((st = gg_parse_long(num, 0, LONG_MAX, &v)) != GG_OK)
		return st;
	if (v > max / mult)
		return GG_ETOOBIG;
	*out = v * mult;
	return GG_OK;
}

/* gg_parse_bool - yes/no style boolean */
enum gg_status gg_parse_bool(const char *s, int *out)
{
	static const char *yes[] = { "yes", "true", "on", "1" };
	static const char *no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < GG_ARRAY_LEN(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return GG_OK;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return GG_OK;
		}
	}
	return GG_EINVAL;
}

/* gg_sanitize - log-safe, truncated copy of untrusted bytes */
char *gg_sanitize(char *dst, size_t dstsize, const char *src, size_t srclen, size_t max)
{
	size_t i, o = 0;

	if (dstsize == 0)
		return dst;
	if (dstsize < 4)
		max = 0;
	else if (max > dstsize - 4)
		max = dstsize - 4;
	for (i = 0; i < srclen && o < max; i++) {
		unsigned char c = (unsigned char)src[i];
		dst[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (i < srclen && dstsize >= o + 4) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
	return dst;
}

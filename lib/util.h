/*
 * util.h - small string and number helpers shared by every greygate module
 *
 * Bounded copies that report truncation, range-checked number parsing,
 * duration parsing ("300s", "5m", "2d" or plain seconds), and a sanitiser
 * that makes untrusted text safe to put in a log line.  No allocation, no
 * global state.
 */
#ifndef GG_UTIL_H
#define GG_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include "lib/status.h"

#define GG_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Copy at most len bytes of src (stopping at NUL) into dst[size], NUL-terminated. */
enum gg_status gg_strbcpy(char *dst, size_t size, const char *src, size_t len);
/* Copy the C string src into dst[size]; GG_ETOOBIG (and a truncated copy) if it did not fit. */
enum gg_status gg_strcpy(char *dst, size_t size, const char *src);
/* Lower-case ASCII in place. */
void gg_str_lower(char *s);
/* Case-insensitive ASCII comparison of two C strings. */
int gg_str_caseeq(const char *a, const char *b);
/* Strip leading and trailing white space in place; returns the new start. */
char *gg_str_trim(char *s);

/* Parse a decimal integer in [min, max]; the whole string must be used. */
enum gg_status gg_parse_long(const char *s, long min, long max, long *out);
/* Parse a duration with optional s/m/h/d/w suffix into seconds, in [0, max]. */
enum gg_status gg_parse_duration(const char *s, long max, long *out);
/* Parse yes/no/true/false/on/off/1/0. */
enum gg_status gg_parse_bool(const char *s, int *out);

/*
 * Copy untrusted text for a log line: control and non-ASCII bytes become
 * '?', at most max visible bytes are kept and "..." marks truncation.
 * dst must hold max + 4 bytes.  Returns dst.
 */
char *gg_sanitize(char *dst, size_t dstsize, const char *src, size_t srclen, size_t max);

#endif

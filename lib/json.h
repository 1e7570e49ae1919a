/*
 * json.h - writing JSON values to a stdio stream
 *
 * gg_json_str() writes any byte string as a JSON string literal: quotes,
 * backslashes and control characters are escaped, valid UTF-8 passes
 * through, and every byte that is not part of valid UTF-8 becomes U+FFFD,
 * so the output is always valid JSON whatever a peer sent.
 * gg_json_num() writes a finite number with millisecond precision (null
 * otherwise).  Write errors are left for the caller to see with ferror().
 */
#ifndef GG_JSON_H
#define GG_JSON_H

#include <stdio.h>

/* A JSON string literal of s (NULL is written as null). */
void gg_json_str(FILE *fp, const char *s);

/* A number of seconds, "%.3f"; NaN and infinities as null. */
void gg_json_num(FILE *fp, double v);

#endif

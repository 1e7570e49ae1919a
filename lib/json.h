/*
 * json.h - writing JSON values to a stdio stream or a buffer
 *
 * gg_json_str() writes any byte string as a JSON string literal: '"' and
 * '\' are escaped, \n \r \t get their short escapes, every other control
 * character and DEL become \u00XX, valid UTF-8 passes through, and every
 * byte that is not part of valid UTF-8 (a stray continuation byte, an
 * overlong form, a surrogate, a value past U+10FFFF, a sequence cut
 * short) becomes \ufffd, one per byte.  So the output is always valid
 * JSON, and valid UTF-8, whatever a peer sent.  gg_json_escape() writes
 * the same literal into a buffer, snprintf()-style.
 *
 * gg_json_num() writes a finite number with millisecond precision (null
 * otherwise).  Stream write errors are left for the caller to see with
 * ferror().  No allocation, no state.
 */
#ifndef GG_JSON_H
#define GG_JSON_H

#include <stddef.h>
#include <stdio.h>

/* A JSON string literal of s (NULL is written as null). */
void gg_json_str(FILE *fp, const char *s);

/*
 * The same literal into buf[size], always NUL-terminated when size > 0.
 * Returns the length of the whole literal; a result >= size means it was
 * cut short (and the text in buf is not valid JSON).
 */
size_t gg_json_escape(char *buf, size_t size, const char *s);

/* A number of seconds, "%.3f"; NaN and infinities as null. */
void gg_json_num(FILE *fp, double v);

#endif

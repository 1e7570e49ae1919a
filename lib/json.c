/*
 * json.c - JSON string and number output (see json.h)
 *
 * One escaper walks the string and hands its output in pieces to a sink:
 * a stdio stream or a bounded buffer, so both writers give the same bytes.
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "lib/json.h"

struct sink {
	FILE *fp;			/* a stream, or NULL for the buffer */
	char *buf;
	size_t size, len;		/* len counts what did not fit too */
};

/* put - append n bytes to the sink */
static void put(struct sink *k, const char *p, size_t n)
{
	if (k->fp != NULL) {
		fwrite(p, 1, n, k->fp);
		return;
	}
	if (k->len < k->size) {
		size_t room = k->size - k->len;
		memcpy(k->buf + k->len, p, n < room ? n : room);
	}
	k->len += n;
}

/* utf8_len - length of the valid UTF-8 sequence at s, or 0 */
static size_t utf8_len(const unsigned char *s)
{
	size_t n, i;
	unsigned long cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		/* The NUL terminator fails this test, so no read goes past it. */
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF are invalid. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* escape - the literal of s into k */
static void escape(struct sink *k, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;

	if (s == NULL) {
		put(k, "null", 4);
		return;
	}
	put(k, "\"", 1);
	while (*p != '\0') {
		size_t n;
		switch (*p) {
		case '"':  put(k, "\\\"", 2); p++; continue;
		case '\\': put(k, "\\\\", 2); p++; continue;
		case '\n': put(k, "\\n", 2); p++; continue;
		case '\r': put(k, "\\r", 2); p++; continue;
		case '\t': put(k, "\\t", 2); p++; continue;
		default: break;
		}
		if (*p < 0x20 || *p == 0x7f) {
			char u[6] = { '\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 0xf] };
			put(k, u, sizeof(u));
			p++;
			continue;
		}
		if ((n = utf8_len(p)) == 0) {
			put(k, "\\ufffd", 6);
			p++;
			continue;
		}
		put(k, (const char *)p, n);
		p += n;
	}
	put(k, "\"", 1);
}

/* gg_json_str - escaped string literal on a stream */
void gg_json_str(FILE *fp, const char *s)
{
	struct sink k = { .fp = fp };

	escape(&k, s);
}

/* gg_json_escape - escaped string literal into a buffer */
size_t gg_json_escape(char *buf, size_t size, const char *s)
{
	struct sink k = { .buf = buf, .size = size };

	escape(&k, s);
	if (size > 0)
		buf[k.len < size ? k.len : size - 1] = '\0';
	return k.len;
}

/* gg_json_num - seconds with millisecond precision */
void gg_json_num(FILE *fp, double v)
{
	if (!isfinite(v))
		fputs("null", fp);
	else
		fprintf(fp, "%.3f", v);
}

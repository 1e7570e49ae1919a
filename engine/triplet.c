/*
 * triplet.c - normalised greylisting keys (see triplet.h)
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "engine/triplet.h"
#include "lib/util.h"

/* is_tag_char - may this byte be part of a one-time tag? */
static int is_tag_char(int c)
{
	return isalnum(c);
}

/*
 * fold_tags - replace stand-alone digit runs and long hex runs with '#'
 *
 * A "word" is a maximal run of alphanumerics; it is folded when it is all
 * digits, or when it is at least 8 hex digits with at least one digit in it
 * (message ids, bounce cookies), which real user names almost never are.
 */
static void fold_tags(char *local)
{
	char *r = local, *w = local;

	while (*r) {
		if (!is_tag_char((unsigned char)*r)) {
			*w++ = *r++;
			continue;
		}
		char *start = r;
		int digits = 0, hex = 1;
		while (*r && is_tag_char((unsigned char)*r)) {
			if (isdigit((unsigned char)*r))
				digits++;
			if (!isxdigit((unsigned char)*r))
				hex = 0;
			r++;
		}
		size_t n = (size_t)(r - start);
		if (digits == (int)n || (hex && digits > 0 && n >= 8)) {
			*w++ = '#';
		} else {
			memmove(w, start, n);
			w += n;
		}
	}
	*w = '\0';
}

/* strip_batv - "prvs=TAG=user" / "btv1==TAG==user" -> "user" */
static void strip_batv(char *local)
{
	char *p;

	if (strncasecmp(local, "prvs=", 5) == 0 && (p = strchr(local + 5, '=')) != NULL) {
		/* RFC draft order is prvs=TAG=user; some senders wrote prvs=user=TAG. */
		char *tag = local + 5;
		size_t taglen = (size_t)(p - tag);
		int tag_first = taglen == 10 && isdigit((unsigned char)tag[0]);
		if (tag_first) {
			memmove(local, p + 1, strlen(p + 1) + 1);
		} else {
			memmove(local, tag, taglen);
			local[taglen] = '\0';
		}
	} else if (strncasecmp(local, "btv1==", 6) == 0 &&
		   (p = strstr(local + 6, "==")) != NULL) {
		memmove(local, p + 2, strlen(p + 2) + 1);
	}
}

/*
 * strip_srs - keep only the original domain and local part of an SRS
 * address: "SRS0=HHH=TT=orig.example=user" -> "srs0=orig.example=user",
 * "SRS1=HHH=fwd.example==HHH=TT=orig.example=user" -> same shape "srs1=...".
 */
static void strip_srs(char *local)
{
	char *p, *q;
	int srs1;

	if (strncasecmp(local, "srs0=", 5) != 0 && strncasecmp(local, "srs1=", 5) != 0)
		return;
	srs1 = local[3] == '1';
	/* The original domain and local part are the last two '='-separated fields. */
	q = strrchr(local, '=');
	if (q == NULL || q == local + 4)
		return;
	p = q - 1;
	while (p > local + 4 && *p != '=')
		p--;
	if (p == local + 4)
		return;
	memmove(local, srs1 ? "srs1" : "srs0", 4);
	memmove(local + 4, p, strlen(p) + 1);
}

/* gg_triplet_sender - normalised sender */
enum gg_status gg_triplet_sender(const char *sender, char *out, size_t size)
{
	char local[GG_ADDRESS_MAX + 1];
	const char *at;
	size_t llen;
	char *plus;
	int n;

	if (sender[0] == '\0')
		return size > 0 ? (out[0] = '\0', GG_OK) : GG_ETOOBIG;
	if (strlen(sender) > GG_ADDRESS_MAX)
		return GG_ETOOBIG;
	at = strrchr(sender, '@');
	llen = at ? (size_t)(at - sender) : strlen(sender);
	memcpy(local, sender, llen);
	local[llen] = '\0';
	strip_batv(local);
	strip_srs(local);
	gg_str_lower(local);
	/* VERP and sub-addressing: drop "+anything" (but keep a leading '+'). */
	if (local[0] != '\0' && (plus = strchr(local + 1, '+')) != NULL)
		*plus = '\0';
	fold_tags(local);
	n = snprintf(out, size, "%s%s", local, at ? at : "");
	if (n < 0 || (size_t)n >= size)
		return GG_ETOOBIG;
	gg_str_lower(out);
	return GG_OK;
}

/* gg_triplet_recipient - normalised recipient */
enum gg_status gg_triplet_recipient(const char *rcpt, char *out, size_t size)
{
	if (strlen(rcpt) > GG_ADDRESS_MAX)
		return GG_ETOOBIG;
	if (gg_strcpy(out, size, rcpt) != GG_OK)
		return GG_ETOOBIG;
	gg_str_lower(out);
	return GG_OK;
}

/* gg_triplet_client_net - masked client network text */
void gg_triplet_client_net(const struct gg_addr *a, int v4prefix, int v6prefix,
			   char *out, size_t size)
{
	gg_addr_format_net(a, a->family == AF_INET ? v4prefix : v6prefix, out, size);
}

/* append_part - copy one key part, neutralising controls (and '/' in addresses) */
static size_t append_part(char *key, size_t pos, const char *part, int slash_ok)
{
	for (; *part; part++) {
		unsigned char c = (unsigned char)*part;
		key[pos++] = (c <= 0x20 || c >= 0x7f || (c == '/' && !slash_ok)) ? '?' : (char)c;
	}
	return pos;
}

/* gg_triplet_key - "t/client/sender/rcpt" */
enum gg_status gg_triplet_key(const char *client, const char *sender,
			      const char *rcpt, char *key, size_t size, size_t *len)
{
	size_t need = 2 + strlen(client) + 1 + strlen(sender) + 1 + strlen(rcpt) + 1;
	size_t pos = 0;

	if (need > size || need > GG_KEY_MAX)
		return GG_ETOOBIG;
	key[pos++] = 't';
	key[pos++] = '/';
	pos = append_part(key, pos, client, 1);
	key[pos++] = '/';
	pos = append_part(key, pos, sender, 0);
	key[pos++] = '/';
	pos = append_part(key, pos, rcpt, 0);
	key[pos] = '\0';
	*len = pos;
	return GG_OK;
}

/* gg_triplet_client_key - "c/client" */
enum gg_status gg_triplet_client_key(const char *client, char *key, size_t size,
				     size_t *len)
{
	size_t need = 2 + strlen(client) + 1;
	size_t pos;

	if (need > size || need > GG_KEY_MAX)
		return GG_ETOOBIG;
	key[0] = 'c';
	key[1] = '/';
	pos = append_part(key, 2, client, 1);
	key[pos] = '\0';
	*len = pos;
	return GG_OK;
}

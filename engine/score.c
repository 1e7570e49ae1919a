/*
 * score.c - reasons, totals and bands (see score.h)
 */
#include <stdio.h>
#include <string.h>

#include "engine/config.h"
#include "engine/score.h"
#include "lib/util.h"

void gg_score_init(struct gg_score *s)
{
	s->total = 0;
	s->n = 0;
	s->spf_pass = 0;
	s->spf_domain[0] = '\0';
	s->spf_result[0] = '\0';
}

/* gg_score_add - one more reason; beyond the array the weight still counts */
void gg_score_add(struct gg_score *s, const char *name, double weight, const char *txt)
{
	s->total += weight;
	if (s->n == GG_SCORE_MAX_REASONS)
		return;
	(void)gg_strcpy(s->r[s->n].name, sizeof(s->r[0].name), name);
	s->r[s->n].weight = weight;
	gg_sanitize(s->r[s->n].txt, sizeof(s->r[0].txt), txt ? txt : "", txt ? strlen(txt) : 0,
		    sizeof(s->r[0].txt) - 4);
	s->n++;
}

enum gg_band gg_score_band(const struct gg_config *cfg, double total)
{
	if (total >= cfg->reject_threshold)
		return GG_BAND_REJECT;
	if (total >= cfg->tag_threshold)
		return GG_BAND_TAG;
	if (total >= cfg->greylist_threshold)
		return GG_BAND_GREYLIST;
	return GG_BAND_ACCEPT;
}

const char *gg_score_band_str(enum gg_band b)
{
	switch (b) {
	case GG_BAND_ACCEPT:	return "accept";
	case GG_BAND_GREYLIST:	return "greylist";
	case GG_BAND_TAG:	return "tag";
	case GG_BAND_REJECT:	return "reject";
	}
	return "unknown";
}

/* gg_score_reasons - compact list for log lines and headers */
char *gg_score_reasons(const struct gg_score *s, char *buf, size_t size)
{
	size_t pos = 0;

	if (size == 0)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; i < s->n && pos < size; i++) {
		int n = snprintf(buf + pos, size - pos, "%s%s(%g)", i ? "," : "", s->r[i].name,
				 s->r[i].weight);
		if (n < 0)
			break;
		pos += (size_t)n;
	}
	return buf;
}

/* gg_score_reject_text - positive reasons with their TXT, for the 5.7.1 reply */
char *gg_score_reject_text(const struct gg_score *s, char *buf, size_t size)
{
	size_t pos = 0;
	int n;

	if (size == 0)
		return buf;
	n = snprintf(buf, size, "5.7.1 Rejected by greygate (score %g):", s->total);
	pos = n > 0 ? (size_t)n : 0;
	for (size_t i = 0; i < s->n && pos < size; i++) {
		if (s->r[i].weight <= 0)
			continue;
		n = snprintf(buf + pos, size - pos, " %s%s%s%s", s->r[i].name,
			     s->r[i].txt[0] ? " \"" : "", s->r[i].txt, s->r[i].txt[0] ? "\";" : ";");
		if (n < 0)
			break;
		pos += (size_t)n;
	}
	if (pos >= size)
		pos = size - 1;
	if (pos > 0 && buf[pos - 1] == ';')
		buf[--pos] = '\0';
	return buf;
}

/* header_value - a value as a token, or quoted when it holds anything else */
static void header_value(char *dst, size_t size, const char *v)
{
	size_t i, o = 0;
	int plain = v[0] != '\0';

	for (i = 0; v[i] && plain; i++)
		plain = (v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
		    (v[i] >= '0' && v[i] <= '9') || strchr(".-_+@:[]", v[i]) != NULL;
	if (plain && strlen(v) < size) {
		(void)gg_strcpy(dst, size, v);
		return;
	}
	/* Quoted string: no control characters, quotes and backslashes escaped. */
	if (size < 3) {
		dst[0] = '\0';
		return;
	}
	dst[o++] = '"';
	for (i = 0; v[i] && o + 3 < size; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c < 0x20 || c >= 0x7f)
			c = '?';
		if (c == '"' || c == '\\')
			dst[o++] = '\\';
		dst[o++] = (char)c;
	}
	dst[o++] = '"';
	dst[o] = '\0';
}

/* gg_score_received_spf - RFC 7208 section 9.1, for this message */
int gg_score_received_spf(const struct gg_score *s, const char *client_ip, const char *sender,
			  const char *helo, const char *receiver, char *buf, size_t size)
{
	const char *r = s->spf_result;
	/* Each part bounded, so the whole header always fits 1 KB untruncated. */
	char who[140], ip[64], from[140], hl[140], rcv[140], comment[320];
	int mailfrom = sender[0] != '\0';

	if (size == 0)
		return 0;
	buf[0] = '\0';
	if (r[0] == '\0')
		return 0;
	/* The identity checked: MAIL FROM, or postmaster@HELO for the null sender. */
	if (mailfrom)
		gg_sanitize(who, sizeof(who), sender, strlen(sender), 128);
	else
		snprintf(who, sizeof(who), "postmaster@%.120s", helo);
	gg_sanitize(ip, sizeof(ip), client_ip, strlen(client_ip), 50);
	if (strcmp(r, "pass") == 0)
		snprintf(comment, sizeof(comment), "domain of %s designates %s as permitted sender", who, ip);
	else if (strcmp(r, "fail") == 0)
		snprintf(comment, sizeof(comment), "domain of %s does not designate %s as permitted sender",
			 who, ip);
	else if (strcmp(r, "softfail") == 0)
		snprintf(comment, sizeof(comment), "domain of transitioning %s does not designate %s as "
			 "permitted sender", who, ip);
	else if (strcmp(r, "neutral") == 0)
		snprintf(comment, sizeof(comment), "%s is neither permitted nor denied by domain of %s",
			 ip, who);
	else if (strcmp(r, "none") == 0)
		snprintf(comment, sizeof(comment), "domain of %s does not designate permitted sender hosts",
			 who);
	else if (strcmp(r, "temperror") == 0)
		snprintf(comment, sizeof(comment), "temporary error looking up the SPF record of %s", who);
	else
		snprintf(comment, sizeof(comment), "permanent error in the SPF record of %s", who);
	/* A comment may not hold unbalanced parentheses. */
	for (char *p = comment; *p; p++)
		if (*p == '(' || *p == ')' || *p == '\\')
			*p = ' ';
	header_value(from, sizeof(from), mailfrom ? sender : "");
	header_value(hl, sizeof(hl), helo);
	header_value(rcv, sizeof(rcv), receiver);
	snprintf(buf, size, "Received-SPF: %s (%s: %s) client-ip=%s; envelope-from=%s; helo=%s; "
		 "receiver=%s; identity=%s;", r, rcv, comment, ip, from, hl, rcv,
		 mailfrom ? "mailfrom" : "helo");
	return 1;
}

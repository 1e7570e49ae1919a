/*
 * score.c - reasons, totals and bands (see score.h)
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "score.h"
#include "util.h"

void gg_score_init(struct gg_score *s)
{
	s->total = 0;
	s->n = 0;
	s->spf_pass = 0;
	s->spf_domain[0] = '\0';
	s->received_spf[0] = '\0';
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

/*
 * score.h - weighted reasons from the checks, and the band they fall in
 *
 * Every check that fires adds a reason with its weight ("dnsbl:bl.test",
 * 3.0, "Listed: see http://bl.test/..."); the score is their sum.  The
 * thresholds of greygate.conf turn the score into a band:
 *
 *   score >= reject_threshold    reject   (5.7.1 with the reasons)
 *   score >= tag_threshold       tag      (accept with X-Spam-Score)
 *   score >= greylist_threshold  greylist (the triplet store decides)
 *   otherwise                    accept at once
 *
 * A struct gg_score also carries the SPF outcome, which the engine uses
 * for pool-aware keying and the Received-SPF header.  Fixed size, no allocation.
 */
#ifndef GG_SCORE_H
#define GG_SCORE_H

#include <stddef.h>

#define GG_SCORE_MAX_REASONS 24

struct gg_config;

struct gg_reason {
	char name[80];		/* "dnsbl:bl.test", "rdns:missing", "spf:fail", ... */
	double weight;
	char txt[200];		/* list TXT or SPF explanation, may be empty */
};

enum gg_band { GG_BAND_ACCEPT, GG_BAND_GREYLIST, GG_BAND_TAG, GG_BAND_REJECT };

struct gg_score {
	double total;
	size_t n;
	struct gg_reason r[GG_SCORE_MAX_REASONS];
	int spf_pass;			/* SPF passed for spf_domain */
	char spf_domain[256];
	char spf_result[16];		/* "pass", "fail", ... or "" if SPF was not run */
};

void gg_score_init(struct gg_score *s);
/* Add a reason (weight 0 reasons are kept: they explain, e.g. a timeout). */
void gg_score_add(struct gg_score *s, const char *name, double weight, const char *txt);
/* The band of a total under a configuration's thresholds. */
enum gg_band gg_score_band(const struct gg_config *cfg, double total);
const char *gg_score_band_str(enum gg_band b);
/* "dnsbl:bl.test(3),rdns:missing(1.5)" into buf; returns buf. */
char *gg_score_reasons(const struct gg_score *s, char *buf, size_t size);
/* Reasons with their TXT texts, for a reject reply; returns buf. */
char *gg_score_reject_text(const struct gg_score *s, char *buf, size_t size);
/*
 * The Received-SPF header (RFC 7208 section 9.1) for this message: the
 * SPF result of the score with this message's own sender, client address
 * and HELO, "receiver" being our host name.  "Received-SPF: pass (...)
 * client-ip=...; envelope-from=...; helo=...; receiver=...; identity=...",
 * or "" (returns 0) when SPF was not run.  Returns 1 when written.
 */
int gg_score_received_spf(const struct gg_score *s, const char *client_ip, const char *sender,
			  const char *helo, const char *receiver, char *buf, size_t size);

#endif

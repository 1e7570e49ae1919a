/*
 * greylist.c - greylisting state machine (see greylist.h)
 */
#include <string.h>

#include "engine/greylist.h"

/* count_pass - credit a passed triplet to its client, once per hour */
static void count_pass(const struct gg_greylist_params *p, uint64_t now,
		       struct gg_client_rec *crec, int have_c,
		       struct gg_greylist_result *res)
{
	if (p->auto_whitelist <= 0)
		return;
	if (!have_c || now - crec->last_seen > (uint64_t)p->max_age) {
		memset(crec, 0, sizeof(*crec));
		crec->first_seen = now;
	}
	crec->last_seen = now;
	if (crec->pass_count == 0 || now - crec->last_counted >= GG_AWL_COUNT_INTERVAL) {
		crec->pass_count++;
		crec->last_counted = now;
	}
	res->write_client = 1;
}

/* start_over - a triplet seen for the first time (again) */
static void start_over(const struct gg_greylist_params *p, uint64_t now,
		       struct gg_triplet_rec *trec, struct gg_greylist_result *res)
{
	memset(trec, 0, sizeof(*trec));
	trec->first_seen = now;
	trec->last_seen = now;
	trec->defer_count = 1;
	res->outcome = GG_GL_DEFER_NEW;
	res->remaining = p->delay;
	res->write_triplet = 1;
}

/* gg_greylist_step - decide one triplet */
void gg_greylist_step(const struct gg_greylist_params *p, uint64_t now,
		      struct gg_triplet_rec *trec, int have_t,
		      struct gg_client_rec *crec, int have_c,
		      struct gg_greylist_result *res)
{
	memset(res, 0, sizeof(*res));

	/* A clock that went backwards must not make records look younger than zero. */
	if (have_t && trec->last_seen > now)
		now = trec->last_seen;
	if (have_c && crec->last_seen > now)
		now = crec->last_seen;

	if (p->auto_whitelist > 0 && have_c && crec->pass_count >= (uint32_t)p->auto_whitelist &&
	    now >= crec->last_seen && now - crec->last_seen <= (uint64_t)p->max_age) {
		res->outcome = GG_GL_PASS_AWL;
		/* Keep the trust alive while the client keeps sending. */
		crec->last_seen = now;
		res->write_client = 1;
		return;
	}

	if (!have_t || now - trec->last_seen > (uint64_t)p->max_age) {
		start_over(p, now, trec, res);
		return;
	}

	if (trec->passed_at != 0) {
		trec->last_seen = now;
		trec->pass_count++;
		res->outcome = GG_GL_PASS_KNOWN;
		res->write_triplet = 1;
		count_pass(p, now, crec, have_c, res);
		return;
	}

	if (now - trec->first_seen < (uint64_t)p->delay) {
		trec->last_seen = now;
		trec->defer_count++;
		res->outcome = GG_GL_DEFER_EARLY;
		res->remaining = p->delay - (long)(now - trec->first_seen);
		res->write_triplet = 1;
		return;
	}

	if (now - trec->first_seen > (uint64_t)p->retry_window) {
		start_over(p, now, trec, res);
		return;
	}

	trec->last_seen = now;
	trec->passed_at = now;
	trec->pass_count++;
	res->outcome = GG_GL_PASS_FIRST;
	res->delayed = (long)(now - trec->first_seen);
	res->write_triplet = 1;
	count_pass(p, now, crec, have_c, res);
}

/* gg_greylist_outcome_str - log name */
const char *gg_greylist_outcome_str(enum gg_greylist_outcome o)
{
	switch (o) {
	case GG_GL_DEFER_NEW:	return "new";
	case GG_GL_DEFER_EARLY:	return "early-retry";
	case GG_GL_PASS_FIRST:	return "delay-passed";
	case GG_GL_PASS_KNOWN:	return "known";
	case GG_GL_PASS_AWL:	return "auto-whitelist";
	}
	return "unknown";
}

/* gg_greylist_is_defer - deferral outcomes */
int gg_greylist_is_defer(enum gg_greylist_outcome o)
{
	return o == GG_GL_DEFER_NEW || o == GG_GL_DEFER_EARLY;
}

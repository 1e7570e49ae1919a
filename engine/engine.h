/*
 * engine.h - the verdict engine shared by every front end
 *
 * gg_engine_eval() answers one request: static whitelists first, then the
 * score of the checks that ran for it (reject, tag, accept at once, or
 * greylist), then the triplet store through the greylisting
 * state machine.  When SPF passed and greylist_key_spf_domain is set, the
 * triplet's client part is "spf:DOMAIN", so a provider's pool is one client.  The verdict says
 * what to do, why (reason and detail for the log line), and carries the
 * reply text and the header to add, already formatted.  The Received-SPF
 * header of a request is built here and nowhere else: as the header of a
 * DATA-stage verdict, and in received_spf for front ends that add it with
 * their own headers (e.received_spf).
 *
 * Front ends do not call this directly: checks/eval.c runs the pipeline
 * (prefilter, remembered outcomes, checks, batch) and calls the engine.
 *
 * The engine owns neither the configuration nor the store: the caller
 * opens them, hands them in, and may swap the configuration between
 * requests (SIGHUP).  Storage trouble never escapes as an error: the
 * verdict is then what on_db_error says (by default accept), with
 * db_error set so the caller logs it.
 *
 * Threads: an engine belongs to one thread.
 */
#ifndef GG_ENGINE_H
#define GG_ENGINE_H

#include <stdint.h>
#include "engine/config.h"
#include "engine/greylist.h"
#include "engine/request.h"
#include "store/store.h"

struct gg_score;

enum gg_action {
	GG_ACTION_ACCEPT,	/* no objection (DUNNO) */
	GG_ACTION_GREYLIST,	/* temporary refusal (DEFER_IF_PERMIT 4.7.1) */
	GG_ACTION_TAG,		/* accept and add headers */
	GG_ACTION_REJECT,	/* permanent refusal */
};

struct gg_verdict {
	/* Fields up to text are cleared for each request. */
	enum gg_action action;
	const char *reason;	/* "new", "early-retry", "whitelist", "not-rcpt", "db-error", ... */
	char detail[160];	/* e.g. the whitelist item that matched, or the DB error */
	long remaining;		/* seconds until a retry passes (greylist) */
	long delayed;		/* seconds a passing message was held (0 if none) */
	int db_error;		/* the store failed; detail says how */
	int scored;		/* checks ran: score and reasons are set */
	double score;
	char reasons[400];	/* "dnsbl:bl.test(3),rdns:missing(1.5)" */
	char text[512];		/* reply text ("4.7.1 Greylisted ...") for refusals */
	char header[1024];	/* "X-Greylist: ..." or "Received-SPF: ..." to add, or "" */
	char received_spf[1024];	/* "Received-SPF: ..." (see received_spf below), or "" */
	char key[GG_KEY_MAX];	/* the triplet key used, or "" */
};

/* When a verdict carries received_spf besides a DATA-stage header. */
enum gg_engine_rspf {
	GG_RSPF_DATA,		/* only as the header of a DATA-stage verdict (policy protocol) */
	GG_RSPF_SETTING,	/* also at RCPT when spf_check and spf_header are on (milter) */
	GG_RSPF_ALWAYS,		/* whenever SPF ran (greygate-check) */
};

/* One request of a batch, with what the pipeline found out about it. */
struct gg_engine_item {
	const struct gg_request *req;
	const struct gg_score *score;	/* the checks' result; NULL when none ran */
	int prefiltered;		/* gg_engine_needs_checks() said 1 under this configuration */
	struct gg_verdict *verdict;	/* filled in */
};

struct gg_engine_stats {
	unsigned long requests, accepted, greylisted, whitelisted, tagged, rejected, db_errors,
		corrupt_records;
	unsigned long commits;		/* store transactions committed (batches and single requests) */
};

struct gg_engine {
	const struct gg_config *cfg;
	struct gg_store *store;
	enum gg_engine_rspf received_spf;	/* GG_RSPF_DATA after gg_engine_init() */
	struct gg_engine_stats stats;
};

void gg_engine_init(struct gg_engine *e, const struct gg_config *cfg, struct gg_store *store);
/*
 * Would the DNS/SPF checks matter for this request?  0 when stage, address
 * or a static whitelist already decide it, so a front end skips the checks.
 * A caller that got 1 sets prefiltered in its gg_engine_item, so the
 * evaluation does not scan the whitelists a second time.
 */
int gg_engine_needs_checks(struct gg_engine *e, const struct gg_request *req);
/*
 * Decide one request at time now (seconds since the epoch); score is the
 * checks' result, NULL when none ran.
 */
void gg_engine_eval(struct gg_engine *e, const struct gg_request *req, const struct gg_score *score,
		    uint64_t now, struct gg_verdict *v);
/*
 * Decide n requests in one database transaction (group commit): fewer log
 * writes under load, same answers.  If the batch fails as a whole it is
 * rolled back and every request is decided on its own, so one bad request
 * cannot take others down with it.
 */
void gg_engine_eval_batch(struct gg_engine *e, const struct gg_engine_item *items, size_t n,
			  uint64_t now);
/* What the store holds for a request, and what would be answered (read-only). */
struct gg_explain {
	struct gg_verdict verdict;	/* the answer if the request came now */
	char client_key[GG_KEY_MAX];	/* the client (auto-whitelist) record's key, or "" */
	int have_triplet, have_client;
	struct gg_triplet_rec triplet;	/* as stored */
	struct gg_client_rec client;	/* as stored */
	int trusted_client;		/* the client network is auto-whitelisted */
};

/*
 * Explain a request without changing anything: whitelists, keys, stored
 * records and the verdict the daemon would give at time now.  Returns the
 * store's status (GG_OK also when nothing is stored).
 */
enum gg_status gg_engine_explain(struct gg_engine *e, const struct gg_request *req,
				 const struct gg_score *score, uint64_t now, struct gg_explain *x);
/* Name of an action for log lines. */
const char *gg_engine_action_str(enum gg_action a);

#endif

/*
 * spf_job.h - one SPF check: its inputs, its answer, its reply (internal)
 *
 * A job is made on the loop thread by gg_spf_check(), evaluated by one
 * worker (spf_eval.c) or answered at once by the pool (queue full, no
 * domain to check, shutdown), and turned into a struct gg_spf_reply on
 * the loop thread.  Only one thread touches a job at a time; the pool's
 * lock hands it over.
 *
 * Every string a job hands out is printable ASCII and bounded: untrusted
 * bytes (HELO, sender, DNS text) become '?'.
 */
#ifndef GG_SPF_JOB_H
#define GG_SPF_JOB_H

#include <time.h>
#include "lib/list.h"
#include "spf/spf.h"

#define GG_SPF_DOMAIN_MAX 253
#define GG_SPF_COMMENT_MAX 300
#define GG_SPF_HEADER_MAX 700

struct gg_spf_job {
	struct gg_list link;		/* in the pool's queue or done list */
	gg_spf_cb cb;
	void *arg;

	/* What to check. */
	struct gg_addr client;
	char *helo;			/* "" when none */
	char *sender;			/* "" for the null sender */
	enum gg_spf_identity identity;
	char domain[GG_SPF_DOMAIN_MAX + 1];	/* lower case, no trailing dot */
	int checkable;			/* domain is a valid multi-label name */
	const char *receiver;		/* our host name (the pool's string) */
	struct timespec start, deadline;	/* CLOCK_MONOTONIC */

	/* The answer. */
	int answered;
	enum gg_spf_result result;
	enum gg_status status;
	int shutdown;
	int worker;
	char *comment;
	char *explanation;
	char *received_spf;
};

/*
 * A job for these inputs with deadline timeout_ms from now; NULL if out of
 * memory.  Picks the identity and domain; if there is none to check, or
 * it is malformed (RFC 7208 section 4.3) or the input is too long, the job
 * is already answered "none".
 */
struct gg_spf_job *gg_spf_job_new(const struct gg_addr *client, const char *helo,
				  const char *sender, const char *receiver, long timeout_ms,
				  gg_spf_cb cb, void *arg);
/*
 * Answer the job.  comment may be NULL (then a standard one), explanation
 * and received_spf may be NULL; received_spf NULL means build one here.
 * Copies and cleans every string.  A second answer is ignored.
 */
void gg_spf_job_answer(struct gg_spf_job *job, enum gg_spf_result result, enum gg_status status,
		       const char *comment, const char *explanation, const char *received_spf);
/* Answer temperror with a formatted comment (queue full, deadline, shutdown). */
void gg_spf_job_fail(struct gg_spf_job *job, enum gg_status status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Run the callback with the job's reply; now is the delivery time. */
void gg_spf_job_deliver(struct gg_spf_job *job, const struct timespec *now);
void gg_spf_job_free(struct gg_spf_job *job);

/* Is s a domain SPF can check: 1..253 bytes, 2+ labels of 1..63 [A-Za-z0-9_-]? */
int gg_spf_domain_ok(const char *s);

#endif

/*
 * spf_job.c - one SPF check: inputs, answer and reply (see spf_job.h)
 *
 * The identity rule follows RFC 7208 section 2.4: MAIL FROM's domain, or
 * for the null sender the HELO name (libspf2 then checks
 * "postmaster@HELO").  The domain is taken from the sender exactly as
 * libspf2 takes it (after the last '@'; a sender without '@' is a
 * domain), so the domain we report is the one libspf2 checked.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "spf/spf_dns.h"
#include "spf/spf_job.h"
#include "lib/hostname.h"
#include "lib/util.h"

/* clean_dup - printable, bounded heap copy of untrusted text; NULL if no memory */
static char *clean_dup(const char *s, size_t max)
{
	size_t len = strnlen(s, max + 1), i;
	char *d;

	if (len > max)
		len = max;
	if ((d = malloc(len + 1)) == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		d[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	d[len] = '\0';
	return d;
}

/* input_dup - a copy of one input (NULL is ""), cut at GG_SPF_MAX_INPUT; *too_long set if cut */
static char *input_dup(const char *s, int *too_long)
{
	if (s == NULL)
		s = "";
	if (strnlen(s, GG_SPF_MAX_INPUT + 1) > GG_SPF_MAX_INPUT)
		*too_long = 1;
	return strndup(s, GG_SPF_MAX_INPUT);
}

/* gg_spf_domain_ok - RFC 7208 4.3: a multi-label name with sane labels */
int gg_spf_domain_ok(const char *s)
{
	return gg_hostname_check(s, strlen(s), GG_SPF_DOMAIN_MAX, GG_HOSTNAME_MULTI, NULL) == GG_OK;
}

/* pick_domain - the identity and domain to check; 0 if there is none */
static int pick_domain(struct gg_spf_job *job)
{
	const char *from, *at;
	size_t len;

	if (job->sender[0] != '\0') {
		job->identity = GG_SPF_MAILFROM;
		from = job->sender;
		at = strrchr(from, '@');
		if (at != NULL)
			from = at + 1;
	} else {
		job->identity = GG_SPF_HELO;
		from = job->helo;
	}
	len = strlen(from);
	/* One trailing dot is the root, not an empty label. */
	if (len > 0 && from[len - 1] == '.')
		len--;
	if (len == 0 || len > GG_SPF_DOMAIN_MAX)
		return 0;
	memcpy(job->domain, from, len);
	job->domain[len] = '\0';
	gg_str_lower(job->domain);
	return 1;
}

/* gg_spf_job_new - a job with its identity chosen and its deadline set */
struct gg_spf_job *gg_spf_job_new(const struct gg_addr *client, const char *helo,
				  const char *sender, const char *receiver, long timeout_ms,
				  gg_spf_cb cb, void *arg)
{
	struct gg_spf_job *job;
	int too_long = 0;
	char shown[64 + 4];

	if ((job = calloc(1, sizeof(*job))) == NULL)
		return NULL;
	job->cb = cb;
	job->arg = arg;
	job->client = *client;
	job->receiver = receiver;
	job->worker = -1;
	job->status = GG_OK;
	job->helo = input_dup(helo, &too_long);
	job->sender = input_dup(sender, &too_long);
	if (job->helo == NULL || job->sender == NULL) {
		gg_spf_job_free(job);
		return NULL;
	}
	gg_spf_clock(&job->start);
	job->deadline = job->start;
	gg_spf_clock_add(&job->deadline, timeout_ms);

	if (too_long) {
		job->identity = job->sender[0] ? GG_SPF_MAILFROM : GG_SPF_HELO;
		gg_spf_job_answer(job, GG_SPF_NONE, GG_OK,
				  job->sender[0] ? "sender too long to check" : "HELO too long to check",
				  NULL, NULL);
	} else if (!pick_domain(job)) {
		gg_spf_job_answer(job, GG_SPF_NONE, GG_OK,
				  job->identity == GG_SPF_HELO ? "null sender and no HELO name to check"
							       : "sender has no domain to check",
				  NULL, NULL);
	} else if (!gg_spf_domain_ok(job->domain)) {
		char comment[128];

		gg_sanitize(shown, sizeof(shown), job->domain, strlen(job->domain), 64);
		snprintf(comment, sizeof(comment), "'%s' is not a domain SPF can check", shown);
		job->domain[0] = '\0';
		gg_spf_job_answer(job, GG_SPF_NONE, GG_OK, comment, NULL, NULL);
	} else {
		job->checkable = 1;
	}
	return job;
}

/* build_received - a Received-SPF value in libspf2's style */
static char *build_received(const struct gg_spf_job *job)
{
	char ip[GG_ADDR_STRLEN], buf[GG_SPF_HEADER_MAX + 1];
	int n;

	gg_addr_format(&job->client, ip, sizeof(ip));
	n = snprintf(buf, sizeof(buf), "%s (%s: %s) client-ip=%s;", gg_spf_result_str(job->result),
		     job->receiver, job->comment ? job->comment : "", ip);
	if (n > 0 && (size_t)n < sizeof(buf) && job->sender[0] != '\0')
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, " envelope-from=%s;", job->sender);
	if (n > 0 && (size_t)n < sizeof(buf) && job->helo[0] != '\0')
		snprintf(buf + n, sizeof(buf) - (size_t)n, " helo=%s;", job->helo);
	return clean_dup(buf, GG_SPF_HEADER_MAX);
}

/* gg_spf_job_answer - record the answer, cleaned copies of every string */
void gg_spf_job_answer(struct gg_spf_job *job, enum gg_spf_result result, enum gg_status status,
		       const char *comment, const char *explanation, const char *received_spf)
{
	char std[64];

	if (job->answered)
		return;
	job->answered = 1;
	job->result = result;
	job->status = status;
	if (comment == NULL) {
		snprintf(std, sizeof(std), "SPF result %s", gg_spf_result_str(result));
		comment = std;
	}
	job->comment = clean_dup(comment, GG_SPF_COMMENT_MAX);
	if (explanation != NULL)
		job->explanation = clean_dup(explanation, GG_SPF_COMMENT_MAX);
	if (received_spf != NULL)
		job->received_spf = clean_dup(received_spf, GG_SPF_HEADER_MAX);
	else
		job->received_spf = build_received(job);
	if (job->comment == NULL && job->status == GG_OK)
		job->status = GG_ENOMEM;
}

/* gg_spf_job_fail - answer temperror with a formatted reason */
void gg_spf_job_fail(struct gg_spf_job *job, enum gg_status status, const char *fmt, ...)
{
	char comment[GG_SPF_COMMENT_MAX + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(comment, sizeof(comment), fmt, ap);
	va_end(ap);
	gg_spf_job_answer(job, GG_SPF_TEMPERROR, status, comment, NULL, NULL);
}

/* gg_spf_job_deliver - build the reply and run the callback */
void gg_spf_job_deliver(struct gg_spf_job *job, const struct timespec *now)
{
	struct gg_spf_reply r;

	if (!job->answered)	/* not reached: the pool answers every job */
		gg_spf_job_fail(job, GG_EIO, "SPF check was not answered");
	memset(&r, 0, sizeof(r));
	r.result = job->result;
	r.identity = job->identity;
	r.domain = job->domain;
	r.comment = job->comment ? job->comment : "out of memory";
	r.explanation = job->explanation;
	r.received_spf = job->received_spf;
	r.status = job->status;
	r.shutdown = job->shutdown;
	r.worker = job->worker;
	r.elapsed_ms = gg_spf_clock_diff_ms(&job->start, now);
	if (r.elapsed_ms < 0)
		r.elapsed_ms = 0;
	job->cb(&r, job->arg);
}

/* gg_spf_job_free - release a job and its strings */
void gg_spf_job_free(struct gg_spf_job *job)
{
	if (job == NULL)
		return;
	free(job->helo);
	free(job->sender);
	free(job->comment);
	free(job->explanation);
	free(job->received_spf);
	free(job);
}

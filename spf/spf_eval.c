/*
 * spf_eval.c - evaluate one SPF check with libspf2 (see spf_eval.h)
 *
 * SPF_request_query_mailfrom() gives a result, or SPF_RESULT_INVALID when
 * the top-level record could not be fetched or compiled.  We map:
 *
 *   libspf2 result PASS..PERMERROR      the same result
 *   INVALID with SPF_E_DNS_ERROR        temperror
 *   INVALID with SPF_E_NO_MEMORY        temperror (status GG_ENOMEM)
 *   INVALID, only "not SPF" errors      none: the domain has TXT records but
 *                                       none starting "v=spf1" (RFC 7208 4.5)
 *   INVALID otherwise                   permerror (a record that does not compile)
 *
 * and a temperror caused by our deadline or by shutdown carries status
 * GG_ETIMEOUT or GG_EIO and a comment saying so.
 *
 * The default explanation (for fail without exp=) is ours, "DOMAIN does
 * not designate IP as a permitted sender": libspf2's points at
 * www.openspf.org, which is gone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "spf/spf_dns.h"
#include "spf/spf_eval.h"

/* "%_" is a space: libspf2 1.2.10 mangles literal spaces in explanations. */
#define GG_SPF_DEFAULT_EXP "%{o}%_does%_not%_designate%_%{c}%_as%_a%_permitted%_sender"

struct gg_spf_eval {
	SPF_server_t *server;
	struct gg_spf_dns *dns;
};

/* gg_spf_eval_new - an SPF server on a private c-ares layer */
enum gg_status gg_spf_eval_new(const char *servers, long timeout_ms, const char *receiver,
			       int stop_fd, struct gg_spf_eval **out, char *err, size_t errsize)
{
	struct gg_spf_eval *ev;
	SPF_response_t *resp = NULL;
	enum gg_status st;

	*out = NULL;
	if ((ev = calloc(1, sizeof(*ev))) == NULL) {
		snprintf(err, errsize, "SPF: out of memory");
		return GG_ENOMEM;
	}
	if ((st = gg_spf_dns_new(servers, timeout_ms, stop_fd, &ev->dns, err, errsize)) != GG_OK) {
		free(ev);
		return st;
	}
	if ((ev->server = SPF_server_new_dns(gg_spf_dns_layer(ev->dns), 0)) == NULL) {
		st = GG_ENOMEM;
		goto out;
	}
	if (receiver != NULL && receiver[0] != '\0' &&
	    SPF_server_set_rec_dom(ev->server, receiver) != SPF_E_SUCCESS) {
		st = GG_ENOMEM;
		goto out;
	}
	/* Non-printable bytes in comments and headers become '?'. */
	SPF_server_set_sanitize(ev->server, 1);
	if (SPF_server_set_explanation(ev->server, GG_SPF_DEFAULT_EXP, &resp) != SPF_E_SUCCESS) {
		st = GG_ENOMEM;
		goto out;
	}
	st = GG_OK;
out:
	if (resp != NULL)
		SPF_response_free(resp);
	if (st != GG_OK) {
		snprintf(err, errsize, "SPF: cannot set up libspf2: %s", gg_status_str(st));
		gg_spf_eval_free(ev);
		return st;
	}
	*out = ev;
	return GG_OK;
}

/* gg_spf_eval_receiver - our name as libspf2 writes it */
const char *gg_spf_eval_receiver(const struct gg_spf_eval *ev)
{
	return ev->server->rec_dom ? ev->server->rec_dom : "localhost";
}

/* map_result - libspf2's result to ours; INVALID handled by the caller */
static enum gg_spf_result map_result(SPF_result_t r)
{
	switch (r) {
	case SPF_RESULT_PASS:		return GG_SPF_PASS;
	case SPF_RESULT_FAIL:		return GG_SPF_FAIL;
	case SPF_RESULT_SOFTFAIL:	return GG_SPF_SOFTFAIL;
	case SPF_RESULT_NEUTRAL:	return GG_SPF_NEUTRAL;
	case SPF_RESULT_NONE:		return GG_SPF_NONE;
	case SPF_RESULT_TEMPERROR:	return GG_SPF_TEMPERROR;
	case SPF_RESULT_PERMERROR:
	case SPF_RESULT_INVALID:
	default:			return GG_SPF_PERMERROR;
	}
}

/* only_not_spf - did the lookup fail only because no TXT record is SPF? */
static int only_not_spf(SPF_response_t *resp)
{
	int i, n = SPF_response_messages(resp);

	for (i = 0; i < n; i++) {
		SPF_error_t *e = SPF_response_message(resp, i);

		if (SPF_error_errorp(e) && SPF_error_code(e) != SPF_E_NOT_SPF)
			return 0;
	}
	return 1;
}

/* first_error - the first error message of a response, or NULL */
static const char *first_error(SPF_response_t *resp)
{
	int i, n = SPF_response_messages(resp);

	for (i = 0; i < n; i++) {
		SPF_error_t *e = SPF_response_message(resp, i);

		if (SPF_error_errorp(e) && SPF_error_message(e) != NULL)
			return SPF_error_message(e);
	}
	return NULL;
}

/* request_new - libspf2's request for the job's client, HELO and sender; NULL: no memory */
static SPF_request_t *request_new(struct gg_spf_eval *ev, const struct gg_spf_job *job)
{
	static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	SPF_request_t *req = SPF_request_new(ev->server);

	if (req == NULL)
		return NULL;
	if (job->client.family == AF_INET) {
		struct in_addr a;

		memcpy(&a, job->client.bytes, sizeof(a));
		SPF_request_set_ipv4(req, a);
	} else if (memcmp(job->client.bytes, v4mapped, sizeof(v4mapped)) == 0) {
		/* ::ffff:192.0.2.1 is an IPv4 client: ip4: mechanisms must match it. */
		struct in_addr a;

		memcpy(&a, job->client.bytes + sizeof(v4mapped), sizeof(a));
		SPF_request_set_ipv4(req, a);
	} else {
		struct in6_addr a;

		memcpy(&a, job->client.bytes, sizeof(a));
		SPF_request_set_ipv6(req, a);
	}
	/* For the null sender libspf2 checks postmaster@HELO. */
	if ((job->helo[0] != '\0' && SPF_request_set_helo_dom(req, job->helo) != SPF_E_SUCCESS) ||
	    (job->sender[0] != '\0' && SPF_request_set_env_from(req, job->sender) != 0)) {
		SPF_request_free(req);
		return NULL;
	}
	return req;
}

/* result_of - our result for libspf2's answer; *status GG_ENOMEM when memory ran out */
static enum gg_spf_result result_of(SPF_response_t *resp, SPF_errcode_t rc, SPF_result_t sr,
				    enum gg_status *status)
{
	if (resp == NULL || (sr == SPF_RESULT_INVALID && rc == SPF_E_NO_MEMORY)) {
		*status = GG_ENOMEM;
		return GG_SPF_TEMPERROR;
	}
	if (sr != SPF_RESULT_INVALID)
		return map_result(sr);
	if (rc == SPF_E_DNS_ERROR)
		return GG_SPF_TEMPERROR;
	if (rc == SPF_E_NOT_SPF && only_not_spf(resp))
		return GG_SPF_NONE;
	return GG_SPF_PERMERROR;
}

/* gg_spf_eval_run - evaluate and answer one job */
void gg_spf_eval_run(struct gg_spf_eval *ev, struct gg_spf_job *job)
{
	SPF_request_t *req;
	SPF_response_t *resp = NULL;
	SPF_errcode_t rc;
	SPF_result_t sr;
	enum gg_spf_result result;
	enum gg_status status = GG_OK, aborted;
	const char *comment, *received = NULL, *explanation = NULL;
	char why[GG_SPF_COMMENT_MAX + 1];

	if ((req = request_new(ev, job)) == NULL) {
		gg_spf_job_fail(job, GG_ENOMEM, "SPF check of %s: out of memory", job->domain);
		return;
	}
	gg_spf_dns_begin(ev->dns, &job->deadline);
	rc = SPF_request_query_mailfrom(req, &resp);
	aborted = gg_spf_dns_aborted(ev->dns);
	sr = resp ? SPF_response_result(resp) : SPF_RESULT_INVALID;

	result = result_of(resp, rc, sr, &status);

	comment = NULL;
	if (resp != NULL) {
		comment = SPF_response_get_header_comment(resp);
		if (comment == NULL || sr == SPF_RESULT_INVALID || sr == SPF_RESULT_NONE)
			comment = first_error(resp) ? first_error(resp) : comment;
		/* libspf2's header matches only results it produced itself. */
		if (sr != SPF_RESULT_INVALID && map_result(sr) == result)
			received = SPF_response_get_received_spf_value(resp);
		if (result == GG_SPF_FAIL)
			explanation = SPF_response_get_explanation(resp);
	}
	/* A temperror we caused ourselves says so (a failed poll() is just DNS trouble). */
	if (result == GG_SPF_TEMPERROR && aborted != GG_OK && aborted != GG_EDNS) {
		status = aborted;
		received = NULL;
		if (aborted == GG_ETIMEOUT) {
			snprintf(why, sizeof(why), "SPF check of %s not finished within %ld ms",
				 job->domain, gg_spf_clock_diff_ms(&job->start, &job->deadline));
		} else if (aborted == GG_EIO) {
			job->shutdown = 1;
			snprintf(why, sizeof(why), "SPF check of %s stopped: shutting down",
				 job->domain);
		} else {
			snprintf(why, sizeof(why), "SPF check of %s: %s", job->domain,
				 gg_status_str(aborted));
		}
		comment = why;
	}
	gg_spf_job_answer(job, result, status, comment, explanation, received);
	if (resp != NULL)
		SPF_response_free(resp);
	SPF_request_free(req);
}

/* gg_spf_eval_free - server first: it still points at the layer */
void gg_spf_eval_free(struct gg_spf_eval *ev)
{
	if (ev == NULL)
		return;
	if (ev->server != NULL)
		SPF_server_free(ev->server);
	gg_spf_dns_free(ev->dns);
	free(ev);
}

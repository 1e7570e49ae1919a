/*
 * spf_eval.h - evaluate one SPF check with libspf2 (internal)
 *
 * A struct gg_spf_eval is what one worker thread owns: an SPF_server_t
 * whose DNS layer is a private c-ares channel (spf_dns.c).  It is made
 * and freed outside the thread and used only by that thread.
 */
#ifndef GG_SPF_EVAL_H
#define GG_SPF_EVAL_H

#include <stddef.h>
#include "spf/spf_job.h"

struct gg_spf_eval;

/*
 * An evaluator sending its queries to servers (see gg_spf_dns_new()),
 * naming itself receiver in comments (NULL: gethostname()), giving up
 * when stop_fd becomes readable.  Errors as gg_spf_dns_new(); err says why.
 */
enum gg_status gg_spf_eval_new(const char *servers, long timeout_ms, const char *receiver,
			       int stop_fd, struct gg_spf_eval **out, char *err, size_t errsize);
/* The receiver name libspf2 uses (ours, or gethostname()'s). */
const char *gg_spf_eval_receiver(const struct gg_spf_eval *ev);
/* Evaluate a checkable job before its deadline and answer it. */
void gg_spf_eval_run(struct gg_spf_eval *ev, struct gg_spf_job *job);
/* Free the SPF server, then its DNS layer. */
void gg_spf_eval_free(struct gg_spf_eval *ev);

#endif

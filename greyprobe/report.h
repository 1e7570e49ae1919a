/*
 * report.h - what one greyprobe send run did, and how it ended
 *
 * A report collects the run's parameters, where the mail was meant to go
 * (MX hosts and addresses), and every attempt: one connection to one
 * address, or one host whose addresses could not be found, with its
 * offset from the start of the run, MX host, address, the SMTP stage that
 * decided it, the reply (code, enhanced code, text, kind) or the network
 * error, and its duration.  gg_report_finish() sets the outcome and works
 * out the summary line, e.g.
 *     deferred by mx1.example.com for 5m12s over 3 attempts, then accepted
 * whose delay is measured from the start of the first temporarily refused
 * attempt to the start of the accepted one.
 *
 * gg_report_print() writes the human transcript (with each attempt's
 * dialogue when verbose), gg_report_json() one JSON object with the same
 * facts.  Both depend only on the report's fields, so tests fill a report
 * by hand and compare the output with golden files.
 *
 * Limits: at most GG_REPORT_MAX_ATTEMPTS attempts are kept (later ones are
 * counted in dropped); the report owns each attempt's dialogue.  Exit
 * statuses: delivered or verified 0, refused 1, still deferred when time
 * ran out 2, no MX reachable 3.
 */
#ifndef GG_REPORT_H
#define GG_REPORT_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "lib/addr.h"
#include "greyprobe/mx.h"
#include "greyprobe/reply.h"
#include "lib/status.h"

#define GG_REPORT_MAX_ATTEMPTS 1000
#define GG_REPORT_ADDR_MAX 320		/* an e-mail address (RFC 5321: 256) */
#define GG_REPORT_DIALOGUE_MAX 65536	/* bytes of dialogue kept per attempt */

/* The SMTP stage an attempt reached (the one whose reply decided it). */
enum gg_stage {
	GG_STAGE_DNS,
	GG_STAGE_CONNECT,
	GG_STAGE_GREETING,
	GG_STAGE_EHLO,
	GG_STAGE_HELO,
	GG_STAGE_MAIL,
	GG_STAGE_RCPT,
	GG_STAGE_DATA,
	GG_STAGE_MESSAGE,	/* the reply after the message's final "." */
	GG_STAGE_RSET,
	GG_STAGE_QUIT,
};

struct gg_attempt {
	unsigned round;				/* 1-based retry round */
	double offset;				/* s since the run started */
	double duration;			/* s from connect to close */
	char host[GG_DNS_NAME_MAX + 1];		/* MX host (or --server) */
	char addr[GG_ADDR_STRLEN];		/* "" when there was none */
	unsigned port;
	enum gg_stage stage;
	int code;				/* 0: no reply */
	char enhanced[GG_REPLY_ENH_MAX];
	char text[GG_REPLY_TEXT_MAX];		/* reply text, or the error */
	enum gg_reply_kind kind;
	char list[GG_REPLY_LIST_MAX];
	int helo_fallback;			/* EHLO refused, HELO used */
	char *dialogue;				/* malloc'd lines, or NULL */
	size_t dialogue_len;
};

enum gg_outcome {
	GG_OUT_NONE,
	GG_OUT_DELIVERED,	/* message accepted after DATA */
	GG_OUT_VERIFIED,	/* --verify-only: recipient accepted */
	GG_OUT_REFUSED,		/* permanently refused (or null MX, no domain) */
	GG_OUT_DEFERRED,	/* still temporarily refused when time ran out */
	GG_OUT_UNREACHABLE,	/* no MX host could be reached */
};

struct gg_report_mx {
	char name[GG_DNS_NAME_MAX + 1];
	unsigned pref;
	size_t naddrs;
	char addrs[GG_MX_MAX_ADDRS][GG_ADDR_STRLEN];
	char error[64];
};

struct gg_report {
	/* The probe (set by the caller). */
	char from[GG_REPORT_ADDR_MAX];
	char to[GG_REPORT_ADDR_MAX];
	char id[24];
	char domain[GG_DNS_NAME_MAX + 3];	/* the recipient's domain */
	char server[GG_DNS_NAME_MAX + 16];	/* --server as given, or "" */
	unsigned port;				/* port for MX hosts */
	char schedule[256];
	double max_time;			/* s */
	int verify_only;
	time_t start;				/* wall clock */
	/* Where the mail was meant to go (gg_report_set_mx). */
	int mx_known;
	int implicit_mx, literal, null_mx;
	size_t nmx;
	struct gg_report_mx mx[GG_MX_MAX_HOSTS];
	/* Every attempt. */
	size_t nattempts, cap, dropped;
	struct gg_attempt *attempts;
	/* The end (gg_report_finish). */
	enum gg_outcome outcome;
	char reason[256];			/* why it stopped, for the summary */
	double elapsed;				/* s from start to the end */
	size_t ndeferred;			/* SMTP 4xx attempts before the end */
	int greylisted;				/* one of them was greylisting */
	double delay;				/* s, see above; 0 if none */
	char deferred_by[GG_DNS_NAME_MAX * 2 + 16];
	char summary[4096];
};

/* An empty report. */
void gg_report_init(struct gg_report *r);
/* Release the attempts and their dialogue. */
void gg_report_free(struct gg_report *r);

/* Record where mail goes, from an MX lookup. */
void gg_report_set_mx(struct gg_report *r, const struct gg_mx_list *list);

/* Append a copy of *a; the report takes over a->dialogue (a->dialogue is set to NULL). */
enum gg_status gg_report_add(struct gg_report *r, struct gg_attempt *a);

/* Set the outcome and derive the summary; reason says why it stopped (may be ""). */
void gg_report_finish(struct gg_report *r, enum gg_outcome outcome, double elapsed,
		      const char *reason);

/* 0, 1, 2 or 3 (see above); 70 for a report that was never finished. */
int gg_report_exit_code(const struct gg_report *r);

/* "delivered", "verified", "refused", "deferred", "unreachable" */
const char *gg_report_outcome_str(enum gg_outcome o);

/* "connect", "RCPT", "end of data", ... (human) and "rcpt", "message" (JSON). */
const char *gg_report_stage_str(enum gg_stage st);
const char *gg_report_stage_key(enum gg_stage st);

/* Append one line to an attempt's dialogue ("0.012 <- 250 ok"), bounded. */
void gg_report_dialogue(struct gg_attempt *a, double t, const char *dir, const char *line,
			size_t len);

/* The human transcript. */
void gg_report_print(FILE *fp, const struct gg_report *r, int verbose);
/* One JSON object and a newline. */
void gg_report_json(FILE *fp, const struct gg_report *r, int verbose);

#endif

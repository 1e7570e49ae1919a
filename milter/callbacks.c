/*
 * callbacks.c - libmilter's callbacks: one SMTP session, recipient by recipient
 *
 * Per connection (smfi_setpriv) a struct mlt_conn keeps a template request
 * with what the session has told so far - client address and name at
 * connect, HELO, sender at MAIL - every value bounded by gg_request_set(),
 * plus the current message's state.  Each RCPT copies the template, adds
 * the recipient, the queue id ({i}) and the instance, and asks the engine
 * thread (queue.c), waiting at most dns_timeout plus two seconds:
 *
 *   greylist  451 with the verdict's status (4.7.1) and text  SMFIS_TEMPFAIL
 *   reject    550 5.7.1 with the reasons and the lists' TXT   SMFIS_REJECT
 *   accept    SMFIS_CONTINUE; a passing retry leaves X-Greylist for EOM
 *   tag       SMFIS_CONTINUE; X-Spam-Score for EOM
 *
 * and logs one line in greygate-policyd's format.  At end of message the
 * remembered headers are inserted at the top (smfi_insheader index 0, the
 * place Postfix's PREPEND gives them): X-Greylist and X-Spam-Score once
 * per message however many recipients carried one, and, when SPF ran and
 * spf_header is on, Received-SPF - the milter, unlike the policy protocol,
 * can add several headers at once.
 *
 * The instance is the queue id {i} if the MTA sends it by the first
 * recipient (Sendmail does; Postfix opens its queue file only after the
 * first accepted recipient), else "conn.msg" from per-process and
 * per-connection counters; it is fixed at the message's first recipient.
 *
 * Fail open everywhere: no memory, a client that is not IPv4 or IPv6
 * (a local submission or a unix socket: every step of that connection is
 * answered CONTINUE), the queue full, the engine thread late or stopping -
 * CONTINUE and one log line that says why.  Steps greygate does not use
 * (headers, end of headers, body, DATA, unknown commands) are negotiated
 * away, so the MTA does not send them.
 *
 * Global state: libmilter calls back with nothing but its context, so the
 * daemon is found through the_milter, the one static pointer of
 * greygate-milter, set once by mlt_callbacks_register() before
 * smfi_main() starts any thread and never changed after.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <libmilter/mfapi.h>

#include "milter/milter.h"
#include "lib/util.h"
#include "daemon/vlog.h"

static struct milter *the_milter;

struct mlt_conn {
	int passthrough;		/* not an IP client: CONTINUE to everything */
	unsigned long serial;		/* this connection's number */
	unsigned long msgno;		/* messages begun on it */
	struct gg_request tmpl;		/* client, HELO, sender so far */
	/* The current message: */
	char instance[128];		/* fixed at its first recipient, "" before */
	char hdr_greylist[MLT_HEADER_MAX];	/* X-Greylist to add at EOM, or "" */
	char hdr_score[MLT_HEADER_MAX];		/* X-Spam-Score */
	char hdr_spf[MLT_HEADER_MAX];		/* Received-SPF */
	/*
	 * The recipient being asked about and its answer (6 KB), here rather
	 * than on the stack: libmilter runs every connection on a new thread,
	 * and glibc gives each new thread stack pages it has to fault in
	 * again, while this heap block is reused warm from connection to
	 * connection.
	 */
	struct gg_request req;
	struct mlt_answer ans;
};

/* set - a bounded request field from a C string */
static void set(struct gg_request *r, enum gg_req_field f, const char *v)
{
	/* GG_ETOOBIG leaves the prefix and flags it; the engine decides what that means. */
	(void)gg_request_set(r, f, v, strlen(v));
}

/* reset_message - forget the current message's instance and headers */
static void reset_message(struct mlt_conn *c)
{
	c->instance[0] = '\0';
	c->hdr_greylist[0] = c->hdr_score[0] = c->hdr_spf[0] = '\0';
}

/* strip_address - "<a@b>" or "a@b" into dst, without the angle brackets */
static void strip_address(struct gg_request *r, enum gg_req_field f, const char *arg)
{
	size_t len;

	if (arg == NULL)
		arg = "";
	while (*arg == ' ' || *arg == '\t')
		arg++;
	len = strlen(arg);
	while (len > 0 && (arg[len - 1] == ' ' || arg[len - 1] == '\t'))
		len--;
	if (len >= 2 && arg[0] == '<' && arg[len - 1] == '>') {
		arg++;
		len -= 2;
	}
	(void)gg_request_set(r, f, arg, len);
}

/* symval - a macro's value, or NULL when the MTA did not send it (or sent it empty) */
static const char *symval(SMFICTX *ctx, const char *name)
{
	const char *v = smfi_getsymval(ctx, (char *)name);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

/* mlt_negotiate - ask for header changes; skip the steps we do not use */
static sfsistat mlt_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
			      unsigned long f3, unsigned long *pf0, unsigned long *pf1,
			      unsigned long *pf2, unsigned long *pf3)
{
	const unsigned long skip = SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NOBODY | SMFIP_NOUNKNOWN |
				   SMFIP_NODATA;

	(void)ctx;
	(void)f2;
	(void)f3;
	if ((f0 & SMFIF_ADDHDRS) == 0)
		gg_log_warn(&the_milter->log, "the MTA does not let milters add headers: "
			    "no X-Greylist, X-Spam-Score or Received-SPF on this connection");
	*pf0 = f0 & SMFIF_ADDHDRS;
	*pf1 = f1 & skip;
	*pf2 = 0;
	*pf3 = 0;
	return SMFIS_CONTINUE;
}

/* mlt_connect - a new SMTP client: its address and name */
static sfsistat mlt_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	struct milter *m = the_milter;
	struct mlt_conn *c = smfi_getpriv(ctx);
	char addr[INET6_ADDRSTRLEN];
	const char *resolve;

	/* A second connect on one context (an MTA that re-announces the client) starts afresh. */
	if (c != NULL) {
		(void)smfi_setpriv(ctx, NULL);
		free(c);
	}
	/*
	 * malloc, not calloc: the struct is 12 KB, mostly buffers that are
	 * NUL-terminated at offset 0 below; zeroing all of it for every
	 * connection was 6 % of the milter's instructions per message.
	 */
	if ((c = malloc(sizeof(*c))) == NULL) {
		gg_log_err(&m->log, "out of memory for a new connection; letting it through "
			   "unchecked");
		return SMFIS_CONTINUE;
	}
	c->passthrough = 0;
	c->msgno = 0;
	reset_message(c);
	if (smfi_setpriv(ctx, c) != MI_SUCCESS) {
		gg_log_err(&m->log, "smfi_setpriv failed; letting the connection through unchecked");
		free(c);
		return SMFIS_CONTINUE;
	}
	c->serial = __atomic_add_fetch(&m->conn_serial, 1, __ATOMIC_RELAXED);
	gg_request_init(&c->tmpl);
	if (hostaddr != NULL && hostaddr->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)hostaddr;
		inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof(addr));
	} else if (hostaddr != NULL && hostaddr->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)hostaddr;
		/* ::ffff:192.0.2.1 is an IPv4 client: say so in logs and Received-SPF. */
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
			inet_ntop(AF_INET, &sin6->sin6_addr.s6_addr[12], addr, sizeof(addr));
		else
			inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof(addr));
	} else {
		char name[80];
		c->passthrough = 1;
		gg_sanitize(name, sizeof(name), hostname ? hostname : "", hostname ? strlen(hostname) : 0,
			    64);
		gg_log_debug(&m->log, "connection from %s is not IPv4 or IPv6 (family %d): "
			     "every step answered CONTINUE", name[0] ? name : "unknown",
			     hostaddr ? hostaddr->sa_family : -1);
		return SMFIS_CONTINUE;
	}
	set(&c->tmpl, GG_RF_CLIENT_ADDRESS, addr);
	/*
	 * A verified name, or the address in brackets when there is none
	 * (Postfix turns its "unknown" into "[addr]" for Sendmail's sake).
	 * Sendmail's {client_resolve} says whether its name was confirmed; an
	 * unconfirmed one is only the PTR name.
	 */
	resolve = symval(ctx, "{client_resolve}");
	if (hostname == NULL || hostname[0] == '\0' || hostname[0] == '[' ||
	    strcasecmp(hostname, "unknown") == 0) {
		set(&c->tmpl, GG_RF_CLIENT_NAME, "unknown");
	} else if (resolve != NULL && strcasecmp(resolve, "OK") != 0) {
		set(&c->tmpl, GG_RF_CLIENT_NAME, "unknown");
		set(&c->tmpl, GG_RF_REVERSE_CLIENT_NAME, hostname);
	} else {
		set(&c->tmpl, GG_RF_CLIENT_NAME, hostname);
	}
	return SMFIS_CONTINUE;
}

/* mlt_helo - HELO/EHLO name (the last one counts) */
static sfsistat mlt_helo(SMFICTX *ctx, char *helohost)
{
	struct mlt_conn *c = smfi_getpriv(ctx);

	if (c == NULL || c->passthrough)
		return SMFIS_CONTINUE;
	set(&c->tmpl, GG_RF_HELO_NAME, helohost ? helohost : "");
	return SMFIS_CONTINUE;
}

/* mlt_envfrom - a new message: its sender (null sender: "") */
static sfsistat mlt_envfrom(SMFICTX *ctx, char **argv)
{
	struct mlt_conn *c = smfi_getpriv(ctx);
	const char *sasl;

	if (c == NULL || c->passthrough)
		return SMFIS_CONTINUE;
	reset_message(c);
	c->msgno++;
	strip_address(&c->tmpl, GG_RF_SENDER, argv != NULL ? argv[0] : NULL);
	sasl = symval(ctx, "{auth_authen}");
	set(&c->tmpl, GG_RF_SASL_USERNAME, sasl ? sasl : "");
	return SMFIS_CONTINUE;
}

/* remember - keep a header for EOM unless this message has one of its kind */
static void remember(char *slot, const char *line)
{
	if (slot[0] == '\0' && line[0] != '\0')
		(void)gg_strcpy(slot, MLT_HEADER_MAX, line);
}

/* set_reply - the SMTP reply for a refusal; logs if libmilter refuses it */
static void set_reply(SMFICTX *ctx, const struct gg_request *r, const struct gg_verdict *v)
{
	struct mlt_reply rep;

	mlt_render_reply(v, &rep);
	if (smfi_setreply(ctx, rep.rcode, rep.xcode, rep.text) != MI_SUCCESS) {
		char to[120];
		gg_sanitize(to, sizeof(to), r->recipient, strlen(r->recipient), 100);
		gg_log_warn(&the_milter->log, "to=<%s>: smfi_setreply(%s %s) failed; the MTA "
			    "answers with its default text", to, rep.rcode, rep.xcode);
	}
}

/* mlt_envrcpt - one recipient: ask the engine, answer its verdict */
static sfsistat mlt_envrcpt(SMFICTX *ctx, char **argv)
{
	struct milter *m = the_milter;
	struct mlt_conn *c = smfi_getpriv(ctx);
	struct gg_request *req;
	struct mlt_answer *ans;
	enum mlt_outcome o;
	const char *qid;
	char why[120];

	if (c == NULL || c->passthrough)
		return SMFIS_CONTINUE;
	req = &c->req;
	ans = &c->ans;
	*req = c->tmpl;
	strip_address(req, GG_RF_RECIPIENT, argv != NULL ? argv[0] : NULL);
	set(req, GG_RF_PROTOCOL_STATE, "RCPT");
	qid = symval(ctx, "i");
	set(req, GG_RF_QUEUE_ID, qid ? qid : "");
	if (c->instance[0] == '\0') {
		if (qid != NULL)
			(void)gg_strcpy(c->instance, sizeof(c->instance), qid);
		else
			snprintf(c->instance, sizeof(c->instance), "milter.%lu.%lu", c->serial, c->msgno);
	}
	set(req, GG_RF_INSTANCE, c->instance);

	o = mlt_queue_ask(&m->queue, req, ans);
	if (o != MLT_DECIDED) {
		switch (o) {
		case MLT_TIMEOUT:
			snprintf(why, sizeof(why), "no verdict within dns_timeout + %ds; failing open",
				 MLT_WAIT_SLACK_MS / 1000);
			break;
		case MLT_FULL:
			snprintf(why, sizeof(why), "%d recipients already wait for the engine; "
				 "failing open", MLT_QUEUE_MAX);
			break;
		case MLT_STOPPING:
			snprintf(why, sizeof(why), "greygate-milter is stopping; failing open");
			break;
		default:
			snprintf(why, sizeof(why), "out of memory; failing open");
			break;
		}
		gg_vlog_failopen(&m->log, req, mlt_outcome_str(o), why);
		return SMFIS_CONTINUE;
	}
	gg_vlog_verdict(&m->log, 0, req, &ans->verdict);
	remember(c->hdr_spf, ans->verdict.received_spf);
	switch (ans->verdict.action) {
	case GG_ACTION_GREYLIST:
		set_reply(ctx, req, &ans->verdict);
		return SMFIS_TEMPFAIL;
	case GG_ACTION_REJECT:
		set_reply(ctx, req, &ans->verdict);
		return SMFIS_REJECT;
	case GG_ACTION_TAG:
		remember(c->hdr_score, ans->verdict.header);
		return SMFIS_CONTINUE;
	case GG_ACTION_ACCEPT:
		if (strncasecmp(ans->verdict.header, "X-Greylist:", 11) == 0)
			remember(c->hdr_greylist, ans->verdict.header);
		return SMFIS_CONTINUE;
	}
	return SMFIS_CONTINUE;
}

/* insert - one remembered header at the top of the message */
static void insert(SMFICTX *ctx, const char *line)
{
	char name[128], value[MLT_HEADER_MAX];

	if (line[0] == '\0')
		return;
	if (!mlt_render_header(line, name, sizeof(name), value, sizeof(value))) {
		gg_log_warn(&the_milter->log, "not a header line, not added: %.60s", line);
		return;
	}
	if (smfi_insheader(ctx, 0, name, value) != MI_SUCCESS)
		gg_log_warn(&the_milter->log, "smfi_insheader(%s) failed; the message goes on "
			    "without it", name);
}

/* mlt_eom - end of message: add the remembered headers */
static sfsistat mlt_eom(SMFICTX *ctx)
{
	struct mlt_conn *c = smfi_getpriv(ctx);

	if (c == NULL || c->passthrough)
		return SMFIS_CONTINUE;
	/* Inserted at index 0 one after the other: the last one ends up on top. */
	insert(ctx, c->hdr_score);
	insert(ctx, c->hdr_greylist);
	insert(ctx, c->hdr_spf);
	reset_message(c);
	return SMFIS_CONTINUE;
}

/* mlt_abort - the message was abandoned (RSET, or refused) */
static sfsistat mlt_abort(SMFICTX *ctx)
{
	struct mlt_conn *c = smfi_getpriv(ctx);

	if (c != NULL)
		reset_message(c);
	return SMFIS_CONTINUE;
}

/* mlt_close - the connection is over */
static sfsistat mlt_close(SMFICTX *ctx)
{
	struct mlt_conn *c = smfi_getpriv(ctx);

	if (c != NULL) {
		(void)smfi_setpriv(ctx, NULL);
		free(c);
	}
	return SMFIS_CONTINUE;
}

/* mlt_callbacks_register - hand the filter to libmilter */
int mlt_callbacks_register(struct milter *m)
{
	struct smfiDesc desc = {
		.xxfi_name = (char *)MLT_PROG,
		.xxfi_version = SMFI_VERSION,
		.xxfi_flags = SMFIF_ADDHDRS,
		.xxfi_connect = mlt_connect,
		.xxfi_helo = mlt_helo,
		.xxfi_envfrom = mlt_envfrom,
		.xxfi_envrcpt = mlt_envrcpt,
		.xxfi_eom = mlt_eom,
		.xxfi_abort = mlt_abort,
		.xxfi_close = mlt_close,
		.xxfi_negotiate = mlt_negotiate,
	};

	the_milter = m;
	return smfi_register(desc) == MI_SUCCESS ? 0 : -1;
}

/*
 * conn.c - one Postfix policy client connection: framing, limits, answers
 *
 * Each connection is a persistent read event on the daemon's one loop, with
 * its own fixed input buffer of policy_max_line_length plus a read's worth,
 * so no client can make the daemon buffer more than that: an over-long line
 * is drained as it arrives and its request is answered DUNNO once its empty
 * line comes.  Answers are written straight to the socket; only when the
 * client does not read them are they queued, and while more than
 * OUTPUT_HIGH_WATER bytes wait, its input is not read (back-pressure).
 *
 * Checks: when DNS lists, reverse DNS, HELO or SPF checks are enabled, a
 * complete request that no static whitelist decides first goes through
 * gg_checks_start(); its connection reads no further request until the
 * answer is out (Postfix sends one at a time anyway), so answers keep
 * their order.  The score then joins the request in the batch.  A request
 * whose inputs were checked recently takes the remembered score at once
 * (gg_checks_cached()) and is decided in the same turn, like one without
 * checks.
 *
 * Group commit: a complete request joins the daemon's batch; after every
 * socket that was ready in this turn of the loop has been read, one event
 * decides the whole batch in one database transaction and only then writes
 * the answers.  An answer the MTA has seen is never lost, and under load
 * the database log is written once per turn instead of once per request.
 * A quiet connection is closed after policy_idle_timeout between requests,
 * or policy_request_timeout inside one.  Per request in the common case:
 * one read and one write.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "policyd/policy_proto.h"
#include "policyd/policyd.h"
#include "lib/util.h"
#include "daemon/vlog.h"

#define READ_SLACK 4096			/* input buffer beyond the line limit */
#define OUTPUT_HIGH_WATER 65536		/* stop reading from a client that does not read */
#define DUNNO "action=DUNNO\n\n"

struct conn {
	struct policyd *pd;
	int fd;
	struct event *rev, *wev;
	struct conn *prev, *next;
	char peer[80];
	struct gg_policy_req pr;
	int in_request;			/* some bytes of a request have arrived */
	int discarding;			/* inside an over-long line */
	int reading;			/* rev is armed */
	int dead;			/* broken; freed from its own write event */
	int busy;			/* a request is waiting for its checks */
	int resume;			/* frame buffered input before reading more */
	struct gg_checks_job *job;	/* the checks running for it */
	struct gg_request pending;	/* the request being checked */
	size_t discarded;
	char *in;			/* input buffer */
	size_t inlen, incap;
	char *out;			/* answers the client has not read yet */
	size_t outlen, outcap;
	char header_instance[128];	/* message that already got X-Greylist */
	unsigned long requests;
};

/* conn_free - close and forget a connection */
static void conn_free(struct conn *c)
{
	struct policyd *pd = c->pd;

	if (c->prev)
		c->prev->next = c->next;
	else
		pd->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pd->nconns--;
	if (c->job != NULL)
		gg_checks_cancel(c->job);
	for (size_t i = 0; i < pd->batch->n; i++)
		if (pd->batch->conn[i] == c)
			pd->batch->conn[i] = NULL;
	event_free(c->rev);
	event_free(c->wev);
	close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
	if (pd->stopping && pd->nconns == 0)
		event_base_loopexit(pd->base, NULL);
}

/*
 * conn_kill - a connection broke while answering a batch: free it later,
 * from its own event, because the code that noticed may still be using it.
 */
static void conn_kill(struct conn *c)
{
	if (c->dead)
		return;
	c->dead = 1;
	event_del(c->rev);
	c->reading = 0;
	event_del(c->wev);
	event_active(c->wev, EV_WRITE, 0);
}

/* arm_read - (re)arm the read event with the timeout for the current state */
static void arm_read(struct conn *c)
{
	const struct gg_config *cfg = c->pd->cfg;
	struct timeval tv = { c->in_request ? cfg->policy_request_timeout : cfg->policy_idle_timeout, 0 };

	event_add(c->rev, &tv);
	c->reading = 1;
}

/* send_bytes - write now if we can, queue the rest; -1 if the connection broke */
static int send_bytes(struct conn *c, const char *data, size_t len)
{
	ssize_t n = 0;

	if (c->outlen == 0) {
		n = write(c->fd, data, len);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
				gg_log_debug(&c->pd->log, "%s: write failed: %s", c->peer, strerror(errno));
				return -1;
			}
			n = 0;
		}
		if ((size_t)n == len)
			return 0;
	}
	data += n;
	len -= (size_t)n;
	if (c->outlen + len > c->outcap) {
		size_t ncap = c->outcap ? c->outcap : 1024;
		char *no;
		while (ncap < c->outlen + len)
			ncap *= 2;
		if ((no = realloc(c->out, ncap)) == NULL) {
			gg_log_err(&c->pd->log, "%s: out of memory queueing an answer; closing", c->peer);
			return -1;
		}
		c->out = no;
		c->outcap = ncap;
	}
	memcpy(c->out + c->outlen, data, len);
	c->outlen += len;
	event_add(c->wev, NULL);
	if (c->outlen > OUTPUT_HIGH_WATER && c->reading) {
		event_del(c->rev);
		c->reading = 0;
	}
	return 0;
}

/* batch_add - a request (refused if req is NULL) joins the batch of this turn */
static void batch_add(struct conn *c, const struct gg_request *req, const struct gg_score *score)
{
	struct policyd *pd = c->pd;
	struct policyd_batch *b = pd->batch;
	size_t i = b->n;

	b->conn[i] = c;
	b->refused[i] = req == NULL;
	if (req != NULL) {
		b->req[i] = *req;
		b->req[i].score = NULL;
		if (score != NULL) {
			if (score != &b->score[i])
				b->score[i] = *score;
			b->req[i].score = &b->score[i];
		}
	}
	if (b->n++ == 0)
		event_active(pd->ev_flush, EV_TIMEOUT, 0);
	if (b->n == POLICYD_BATCH_MAX)
		policyd_conn_flush(pd);
}

/* on_checked - the checks of the pending request are done */
static void on_checked(const struct gg_score *score, void *arg)
{
	struct conn *c = arg;

	c->job = NULL;
	batch_add(c, &c->pending, score);
}

/* enqueue - a complete request: refuse it, check it, or decide it this turn */
static void enqueue(struct conn *c)
{
	struct policyd *pd = c->pd;
	struct gg_policy_req *pr = &c->pr;
	int refused = 1;

	c->requests++;
	if (pr->error != GG_PE_NONE) {
		gg_log_warn(&pd->log, "%s: request refused: %s: '%s'; answering DUNNO",
			    c->peer, gg_policy_error_str(pr->error), pr->errdetail);
	} else if (strcmp(pr->req.request, "smtpd_access_policy") != 0) {
		char what[80];
		gg_sanitize(what, sizeof(what), pr->req.request, strlen(pr->req.request), 60);
		gg_log_warn(&pd->log, "%s: unsupported request type '%s' (expected "
			    "request=smtpd_access_policy); answering DUNNO", c->peer, what);
	} else {
		refused = 0;
	}
	if (!refused && gg_checks_enabled(pd->checks) &&
	    gg_engine_needs_checks(&pd->engine, &pr->req)) {
		pr->req.prefiltered = 1;
		/* The same client, HELO and sender domain checked recently: decide this turn. */
		struct gg_score *slot = &pd->batch->score[pd->batch->n];
		if (gg_checks_cached(pd->checks, &pr->req, slot)) {
			batch_add(c, &pr->req, slot);
			return;
		}
		c->pending = pr->req;
		if (gg_checks_start(pd->checks, &c->pending, on_checked, c, &c->job) == GG_OK) {
			c->busy = 1;
			return;
		}
		gg_log_warn(&pd->log, "%s: cannot start the DNS/SPF checks (out of memory); "
			    "deciding without them", c->peer);
	}
	batch_add(c, refused ? NULL : &pr->req, NULL);
}

/* render - the policy protocol answer for a verdict */
static int render(struct conn *c, const struct gg_request *req, const struct gg_verdict *v)
{
	char buf[1100];
	int n;

	if (req->stage == GG_STAGE_RCPT || v->action != GG_ACTION_ACCEPT || v->db_error)
		gg_vlog_verdict(&c->pd->log, 1, req, v);
	switch (v->action) {
	case GG_ACTION_GREYLIST:
		n = snprintf(buf, sizeof(buf), "action=DEFER_IF_PERMIT %s\n\n", v->text);
		break;
	case GG_ACTION_REJECT:
		n = snprintf(buf, sizeof(buf), "action=REJECT %s\n\n", v->text);
		break;
	default:
		/*
		 * One X-Greylist (or X-Spam-Score) per message, however many
		 * recipients were delayed; the DATA stage's Received-SPF comes once
		 * anyway.
		 */
		if (v->header[0] != '\0' &&
		    (req->stage != GG_STAGE_RCPT || req->instance[0] == '\0' ||
		     strcmp(c->header_instance, req->instance) != 0)) {
			if (req->stage == GG_STAGE_RCPT)
				(void)gg_strcpy(c->header_instance, sizeof(c->header_instance),
						req->instance);
			n = snprintf(buf, sizeof(buf), "action=PREPEND %s\n\n", v->header);
		} else {
			return send_bytes(c, DUNNO, sizeof(DUNNO) - 1);
		}
		break;
	}
	if (n < 0 || (size_t)n >= sizeof(buf))
		return send_bytes(c, DUNNO, sizeof(DUNNO) - 1);
	return send_bytes(c, buf, (size_t)n);
}

/* policyd_conn_flush - decide the batch with one commit, then answer in order */
void policyd_conn_flush(struct policyd *pd)
{
	struct policyd_batch *b = pd->batch;
	size_t i, k, n = b->n;
	struct gg_verdict *v = b->verdict;

	if (n == 0)
		return;
	for (i = k = 0; i < n; i++)
		if (!b->refused[i])
			b->reqp[k++] = &b->req[i];
	gg_engine_eval_batch(&pd->engine, b->reqp, k, (uint64_t)time(NULL), v, b->res);
	for (i = k = 0; i < n; i++) {
		struct conn *c = b->conn[i];
		int rc;

		if (b->refused[i]) {
			if (c != NULL && !c->dead && send_bytes(c, DUNNO, sizeof(DUNNO) - 1) != 0)
				conn_kill(c);
			continue;
		}
		k++;
		if (c == NULL || c->dead)
			continue;	/* decided, but its client has gone */
		rc = render(c, b->reqp[k - 1], &v[k - 1]);
		if (rc != 0) {
			conn_kill(c);
		} else if (c->busy) {
			/* Its checked request is answered: go on with what it sent since. */
			c->busy = 0;
			c->resume = 1;
			event_active(c->rev, EV_READ, 0);
		}
	}
	b->n = 0;
	gg_log_flush(&pd->log);
}

/* on_flush - the end of a loop turn: decide what arrived during it */
static void on_flush(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	policyd_conn_flush(arg);
}

/* policyd_conn_init - batch and its flush event */
int policyd_conn_init(struct policyd *pd)
{
	if ((pd->batch = calloc(1, sizeof(*pd->batch))) == NULL ||
	    (pd->ev_flush = event_new(pd->base, -1, 0, on_flush, pd)) == NULL) {
		free(pd->batch);
		pd->batch = NULL;
		return -1;
	}
	return 0;
}

/* policyd_conn_fini - release the batch (connections are gone) */
void policyd_conn_fini(struct policyd *pd)
{
	if (pd->ev_flush)
		event_free(pd->ev_flush);
	free(pd->batch);
	pd->ev_flush = NULL;
	pd->batch = NULL;
}

/*
 * frame - feed every complete line in the input buffer to the parser and
 * queue complete requests; keeps a partial line; drains over-long ones.
 */
static void frame(struct conn *c)
{
	const struct gg_config *cfg = c->pd->cfg;
	struct gg_policy_limits lim = {
		.max_line = (size_t)cfg->policy_max_line_length,
		.max_attributes = (size_t)cfg->policy_max_attributes,
		.max_request = (size_t)cfg->policy_max_request_size,
	};
	char *p = c->in, *end = c->in + c->inlen;

	/* A reload may raise the limit; this connection's buffer stays as it is. */
	if (lim.max_line > c->incap - 2)
		lim.max_line = c->incap - 2;
	while (p < end && !c->busy) {
		char *nl = memchr(p, '\n', (size_t)(end - p));

		if (!c->in_request) {
			gg_policy_begin(&c->pr);
			c->in_request = 1;
		}
		if (c->discarding) {
			if (nl == NULL) {
				c->discarded += (size_t)(end - p);
				p = end;
				break;
			}
			c->discarded += (size_t)(nl + 1 - p);
			gg_policy_overlong(&c->pr, c->discarded);
			c->discarding = 0;
			c->discarded = 0;
			p = nl + 1;
			continue;
		}
		if (nl == NULL) {
			if ((size_t)(end - p) > lim.max_line + 1) {
				gg_log_warn(&c->pd->log, "%s: attribute line longer than "
					    "policy_max_line_length (%zu); discarding it", c->peer,
					    lim.max_line);
				c->discarding = 1;
				c->discarded = (size_t)(end - p);
				p = end;
			}
			break;
		}
		if ((size_t)(nl - p) > lim.max_line + 1) {
			gg_log_warn(&c->pd->log, "%s: attribute line of %zu bytes is longer than "
				    "policy_max_line_length (%zu); discarding it", c->peer,
				    (size_t)(nl - p), lim.max_line);
			gg_policy_overlong(&c->pr, (size_t)(nl + 1 - p));
		} else if (gg_policy_line(&c->pr, &lim, p, (size_t)(nl - p))) {
			c->in_request = 0;
			enqueue(c);
		}
		p = nl + 1;
	}
	c->inlen = (size_t)(end - p);
	if (c->inlen > 0 && p != c->in)
		memmove(c->in, p, c->inlen);
}

/* on_readable - input, end of file, or a timeout */
static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct policyd *pd = c->pd;
	int was_in_request = c->in_request;
	ssize_t n;

	if (c->resume) {
		c->resume = 0;
		frame(c);
		if (!c->dead && !c->busy && c->outlen <= OUTPUT_HIGH_WATER)
			arm_read(c);
		return;
	}
	if (what & EV_TIMEOUT) {
		if (c->in_request)
			gg_log_warn(&pd->log, "%s: request not completed within "
				    "policy_request_timeout (%lds); closing connection",
				    c->peer, pd->cfg->policy_request_timeout);
		else
			gg_log_debug(&pd->log, "%s: idle for policy_idle_timeout (%lds); closing",
				     c->peer, pd->cfg->policy_idle_timeout);
		conn_free(c);
		return;
	}
	n = read(fd, c->in + c->inlen, c->incap - c->inlen);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		if (n < 0)
			gg_log_warn(&pd->log, "%s: read error: %s; closing", c->peer, strerror(errno));
		else if (c->in_request || c->inlen > 0)
			gg_log_warn(&pd->log, "%s: client disconnected in the middle of a request "
				    "(%zu attributes read); nothing was decided", c->peer, c->pr.nattrs);
		else
			gg_log_debug(&pd->log, "%s: disconnected after %lu requests", c->peer, c->requests);
		conn_free(c);
		return;
	}
	c->inlen += (size_t)n;
	frame(c);
	if (c->dead)
		return;
	if (c->busy || c->outlen > OUTPUT_HIGH_WATER) {
		/* Read no more while a request is being checked or answers pile up. */
		event_del(c->rev);
		c->reading = 0;
	} else if (was_in_request != c->in_request) {
		arm_read(c);
	}
}

/* on_writable - flush queued answers; resume reading; finish a stopping daemon */
static void on_writable(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	ssize_t n;

	(void)what;
	if (c->dead) {
		conn_free(c);
		return;
	}
	n = write(fd, c->out, c->outlen);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
		event_add(c->wev, NULL);
		return;
	}
	if (n <= 0) {
		conn_free(c);
		return;
	}
	c->outlen -= (size_t)n;
	memmove(c->out, c->out + n, c->outlen);
	if (c->outlen > 0) {
		event_add(c->wev, NULL);
		return;
	}
	if (c->pd->stopping) {
		conn_free(c);
		return;
	}
	if (!c->reading && !c->busy)
		arm_read(c);
}

/* policyd_conn_new - adopt an accepted socket */
int policyd_conn_new(struct policyd *pd, int fd, const char *peer)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return -1;
	c->pd = pd;
	c->fd = fd;
	c->incap = (size_t)pd->cfg->policy_max_line_length + 2 + READ_SLACK;
	c->in = malloc(c->incap);
	c->rev = event_new(pd->base, fd, EV_READ | EV_PERSIST, on_readable, c);
	c->wev = event_new(pd->base, fd, EV_WRITE, on_writable, c);
	if (c->in == NULL || c->rev == NULL || c->wev == NULL) {
		if (c->rev)
			event_free(c->rev);
		if (c->wev)
			event_free(c->wev);
		free(c->in);
		free(c);
		return -1;
	}
	(void)gg_strcpy(c->peer, sizeof(c->peer), peer);
	c->next = pd->conns;
	if (pd->conns)
		pd->conns->prev = c;
	pd->conns = c;
	pd->nconns++;
	arm_read(c);
	return 0;
}

/* policyd_conn_stop_all - SIGTERM: close idle connections, let others flush */
void policyd_conn_stop_all(struct policyd *pd)
{
	struct conn *c, *next;

	/* Requests already complete are decided and answered first. */
	policyd_conn_flush(pd);
	for (c = pd->conns; c != NULL; c = next) {
		next = c->next;
		if (c->outlen == 0) {
			conn_free(c);
		} else {
			event_del(c->rev);
			c->reading = 0;
		}
	}
}

/* policyd_conn_free_all - the loop has ended */
void policyd_conn_free_all(struct policyd *pd)
{
	policyd_conn_flush(pd);
	pd->stopping = 0;	/* no loopexit from conn_free now */
	while (pd->conns != NULL)
		conn_free(pd->conns);
}

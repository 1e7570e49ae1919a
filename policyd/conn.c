/*
 * conn.c - one Postfix policy client connection: framing, limits, answers
 *
 * Each connection is a persistent read event on the daemon's one loop.  Its
 * memory is sized to what it uses and returned while it idles: the input
 * buffer and the request being parsed come from the daemon's pool
 * (policy_proto.h) when bytes arrive and go back when nothing is buffered
 * and when the request is queued (the pipeline copies it), and the output
 * queue is freed once it drains.  An idle connection holds only its struct
 * conn and two events, about a kilobyte.  The input buffer starts at
 * GG_POLICY_INBUF_MIN and doubles up to policy_max_line_length + 2, so no
 * client can make the daemon buffer more than that: an over-long line is
 * drained as it arrives and its request is answered DUNNO once its empty
 * line comes.  Answers are written straight to the socket; only when the
 * client does not read them are they queued, and while more than
 * OUTPUT_HIGH_WATER bytes wait, its input is not read (back-pressure).
 *
 * Every complete request goes to the evaluation pipeline (checks/eval.h),
 * a refused one as a place holder, so answers keep their order.  While a
 * request waits for its DNS/SPF checks its connection reads no further
 * request (Postfix sends one at a time anyway).  The pipeline decides what
 * became ready in one turn of the loop with one database commit and only
 * then are the answers written: an answer the MTA has seen is never lost,
 * and under load the database log is written once per turn instead of
 * once per request.
 * A quiet connection is closed after policy_idle_timeout between requests,
 * or policy_request_timeout inside one.  Per request in the common case:
 * one read and one write.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "policyd/policy_proto.h"
#include "policyd/policyd.h"
#include "lib/list.h"
#include "lib/util.h"
#include "daemon/vlog.h"

#define OUTPUT_HIGH_WATER 65536		/* stop reading from a client that does not read */
#define DUNNO "action=DUNNO\n\n"

struct conn {
	struct policyd *pd;
	int fd;
	struct event *rev, *wev;
	struct gg_list link;		/* on pd->conns */
	char peer[80];
	struct gg_policy_req *pr;	/* the request being parsed (pool), or NULL */
	int in_request;			/* some bytes of a request have arrived */
	int discarding;			/* inside an over-long line */
	int reading;			/* rev is armed */
	int dead;			/* broken; freed from its own write event */
	int busy;			/* a request is waiting for its checks */
	int resume;			/* frame buffered input before reading more */
	unsigned long evals;		/* requests in the pipeline */
	size_t discarded;
	struct gg_policy_inbuf in;	/* buffered input (pool), none while empty */
	char *out;			/* answers the client has not read yet */
	size_t outlen, outcap;
	char header_instance[128];	/* message that already got X-Greylist */
	unsigned long requests;
};

/* out_free - the drained (or abandoned) output queue */
static void out_free(struct conn *c)
{
	c->pd->out_bytes -= c->outcap;
	free(c->out);
	c->out = NULL;
	c->outlen = c->outcap = 0;
}

/* conn_release - the memory and events of a connection (not its socket) */
static void conn_release(struct conn *c)
{
	if (c->rev != NULL)
		event_free(c->rev);
	if (c->wev != NULL)
		event_free(c->wev);
	gg_policy_inbuf_release(&c->pd->pool, &c->in);
	gg_policy_req_give(&c->pd->pool, c->pr);
	out_free(c);
	free(c);
}

/* conn_free - close and forget a connection */
static void conn_free(struct conn *c)
{
	struct policyd *pd = c->pd;

	gg_list_remove(&c->link);
	pd->nconns--;
	if (c->evals > 0)
		gg_eval_cancel_arg(pd->eval, c);
	close(c->fd);
	conn_release(c);
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
		c->pd->out_bytes += ncap - c->outcap;
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

static void on_decided(void *arg, const struct gg_eval_result *r);
static const struct gg_eval_ops policy_ops = { .done = on_decided, .wanted = NULL };

/* enqueue - a complete request: into the pipeline, refused ones as place holders */
static void enqueue(struct conn *c)
{
	struct policyd *pd = c->pd;
	struct gg_policy_req *pr = c->pr;
	int refused = 1;
	struct gg_eval_job *job;
	enum gg_status st;

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
	/* The pipeline copies the request: its struct goes back to the pool now. */
	st = gg_eval_start(pd->eval, refused ? NULL : &pr->req, &policy_ops, c, &job);
	gg_policy_req_give(&pd->pool, pr);
	c->pr = NULL;
	if (st != GG_OK) {
		gg_log_err(&pd->log, "%s: out of memory queueing a request; closing", c->peer);
		conn_kill(c);
		return;
	}
	c->evals++;
	/* A request that waits for its checks holds up the ones behind it. */
	if (!refused && gg_eval_job_checking(job))
		c->busy = 1;
}

/*
 * send_action - "action=VERB TEXT" and the empty line, copied rather than
 * printed (one per request); DUNNO if it would not fit in 1100 bytes, which
 * a verdict's text and header always do
 */
static int send_action(struct conn *c, const char *verb, size_t vlen, const char *text)
{
	char buf[1100];
	size_t tlen = strlen(text);

	if (vlen + tlen + 2 >= sizeof(buf))
		return send_bytes(c, DUNNO, sizeof(DUNNO) - 1);
	memcpy(buf, verb, vlen);
	memcpy(buf + vlen, text, tlen);
	memcpy(buf + vlen + tlen, "\n\n", 2);
	return send_bytes(c, buf, vlen + tlen + 2);
}

#define VERB(s) s, sizeof(s) - 1

/* render - the policy protocol answer for a verdict */
static int render(struct conn *c, const struct gg_request *req, const struct gg_verdict *v)
{
	if (req->stage == GG_STAGE_RCPT || v->action != GG_ACTION_ACCEPT || v->db_error)
		gg_vlog_verdict(&c->pd->log, 1, req, v);
	switch (v->action) {
	case GG_ACTION_GREYLIST:
		return send_action(c, VERB("action=DEFER_IF_PERMIT "), v->text);
	case GG_ACTION_REJECT:
		return send_action(c, VERB("action=REJECT "), v->text);
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
			return send_action(c, VERB("action=PREPEND "), v->header);
		}
		return send_bytes(c, DUNNO, sizeof(DUNNO) - 1);
	}
}

/* on_decided - the pipeline is done with one request of c: answer it */
static void on_decided(void *arg, const struct gg_eval_result *r)
{
	struct conn *c = arg;
	int rc;

	c->evals--;
	if (c->dead)
		return;
	if (r->checks_error)
		gg_log_warn(&c->pd->log, "%s: cannot start the DNS/SPF checks (out of memory); "
			    "decided without them", c->peer);
	if (r->outcome != GG_EVAL_DECIDED)
		rc = send_bytes(c, DUNNO, sizeof(DUNNO) - 1);
	else
		rc = render(c, r->req, r->verdict);
	if (rc != 0) {
		conn_kill(c);
	} else if (c->busy && c->evals == 0) {
		/* Its checked request is answered: go on with what it sent since. */
		c->busy = 0;
		c->resume = 1;
		event_active(c->rev, EV_READ, 0);
	}
}

/* on_flushed - after each batch's answers: one write of the batched log lines */
static void on_flushed(void *arg)
{
	struct policyd *pd = arg;

	gg_log_flush(&pd->log);
}

/* policyd_conn_init - answers come from the pipeline */
void policyd_conn_init(struct policyd *pd)
{
	gg_list_init(&pd->conns);
	gg_policy_pool_init(&pd->pool);
	gg_eval_on_flush(pd->eval, on_flushed, pd);
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
	char *p = c->in.data, *end;

	if (p == NULL)
		return;		/* nothing buffered */
	end = p + c->in.len;
	while (p < end && !c->busy) {
		char *nl = memchr(p, '\n', (size_t)(end - p));

		if (!c->in_request) {
			if ((c->pr = gg_policy_req_take(&c->pd->pool)) == NULL) {
				gg_log_err(&c->pd->log, "%s: out of memory reading a request; closing",
					   c->peer);
				conn_kill(c);
				break;
			}
			c->in_request = 1;
		}
		if (c->discarding) {
			if (nl == NULL) {
				c->discarded += (size_t)(end - p);
				p = end;
				break;
			}
			c->discarded += (size_t)(nl + 1 - p);
			gg_policy_overlong(c->pr, c->discarded);
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
			gg_policy_overlong(c->pr, (size_t)(nl + 1 - p));
		} else if (gg_policy_line(c->pr, &lim, p, (size_t)(nl - p))) {
			c->in_request = 0;
			enqueue(c);
			if (c->dead) {
				p = nl + 1;
				break;		/* out of memory: frame no more */
			}
		}
		p = nl + 1;
	}
	/* Keep a partial line (or what waits behind a checked request); else return the buffer. */
	gg_policy_inbuf_consume(&c->pd->pool, &c->in, (size_t)(p - c->in.data));
}

/* on_readable - input, end of file, or a timeout */
static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct policyd *pd = c->pd;
	int was_in_request = c->in_request;
	size_t max = (size_t)pd->cfg->policy_max_line_length + 2, room;
	char *at;
	enum gg_status st;
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
	if ((st = gg_policy_inbuf_room(&pd->pool, &c->in, max, &at, &room)) != GG_OK) {
		if (st == GG_ENOMEM)
			gg_log_err(&pd->log, "%s: out of memory reading a request; closing", c->peer);
		else
			gg_log_err(&pd->log, "%s: internal error: input buffer full at %zu bytes "
				   "without a line to frame; closing", c->peer, c->in.cap);
		conn_free(c);
		return;
	}
	n = read(fd, at, room);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
		gg_policy_inbuf_consume(&pd->pool, &c->in, 0);
		return;
	}
	if (n <= 0) {
		if (n < 0)
			gg_log_warn(&pd->log, "%s: read error: %s; closing", c->peer, strerror(errno));
		else if (c->in_request || c->in.len > 0)
			gg_log_warn(&pd->log, "%s: client disconnected in the middle of a request "
				    "(%zu attributes read); nothing was decided", c->peer,
				    c->pr != NULL ? c->pr->nattrs : 0);
		else
			gg_log_debug(&pd->log, "%s: disconnected after %lu requests", c->peer, c->requests);
		conn_free(c);
		return;
	}
	c->in.len += (size_t)n;
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
	if (c->outlen > 0) {
		memmove(c->out, c->out + n, c->outlen);
		event_add(c->wev, NULL);
		return;
	}
	out_free(c);
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
	c->rev = event_new(pd->base, fd, EV_READ | EV_PERSIST, on_readable, c);
	c->wev = event_new(pd->base, fd, EV_WRITE, on_writable, c);
	if (c->rev == NULL || c->wev == NULL) {
		conn_release(c);
		return -1;
	}
	(void)gg_strcpy(c->peer, sizeof(c->peer), peer);
	gg_list_push_front(&pd->conns, &c->link);
	pd->nconns++;
	arm_read(c);
	return 0;
}

/* policyd_conn_stop_all - SIGTERM: close idle connections, let others flush */
void policyd_conn_stop_all(struct policyd *pd)
{
	struct gg_list *l, *next;

	/* Requests already complete are decided and answered first. */
	gg_eval_flush(pd->eval);
	for (l = gg_list_first(&pd->conns); l != NULL; l = next) {
		struct conn *c = gg_list_entry(l, struct conn, link);

		next = gg_list_next(&pd->conns, l);
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
	struct gg_list *l;

	gg_eval_flush(pd->eval);
	pd->stopping = 0;	/* no loopexit from conn_free now */
	while ((l = gg_list_first(&pd->conns)) != NULL)
		conn_free(gg_list_entry(l, struct conn, link));
	gg_policy_pool_free(&pd->pool);
}

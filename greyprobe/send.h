/*
 * send.h - one SMTP client session: connect, dialogue, result
 *
 * gg_send_start() connects to one address and runs the dialogue of
 * RFC 5321 on a libevent bufferevent: greeting, EHLO (HELO when EHLO is
 * refused with a 5xx), MAIL FROM, RCPT TO, DATA, the message and its
 * final ".", QUIT; with verify_only it stops after RCPT with RSET and
 * QUIT.  Nothing is pipelined.  The first reply that is not the expected
 * one decides the attempt: its stage, code, enhanced code, text and kind
 * go into the caller's struct gg_attempt, and the session ends politely
 * (QUIT, except after a 421, which closes the connection).  Failures
 * without a reply are kinds refused, timeout, closed, network and
 * protocol, with the stage at which they happened.
 *
 * Limits: each reply must complete within timeout_ms of the command being
 * written (the connect as well); a reply line longer than
 * GG_REPLY_LINE_MAX or a reply of more than GG_REPLY_LINES_MAX lines is a
 * protocol error; the input buffer is bounded by a read watermark.  The
 * dialogue is kept (bounded) when keep_dialogue is set; the message body
 * itself is summarised as one line.
 *
 * The callback runs exactly once, from the event loop, never from inside
 * gg_send_start(), unless gg_send_abort() is called first.  The session
 * frees itself after the callback; the attempt belongs to the caller.
 */
#ifndef GG_SEND_H
#define GG_SEND_H

#include <stddef.h>
#include <sys/socket.h>
#include <event2/event.h>

#include "lib/addr.h"
#include "greyprobe/report.h"
#include "lib/status.h"

struct gg_send_params {
	const char *helo;
	const char *from;		/* "" for the null sender */
	const char *to;
	const char *msg;		/* DATA form (see message.h) */
	size_t msglen;
	int verify_only;
	long timeout_ms;
	int keep_dialogue;
};

struct gg_send;
typedef void (*gg_send_cb)(struct gg_attempt *a, void *arg);

/*
 * Start a session to addr:port.  a must stay valid until the callback;
 * its host, round and offset are the caller's, the rest is filled in
 * (dialogue times are seconds since this call).
 */
enum gg_status gg_send_start(struct event_base *base, const struct gg_send_params *p,
			     const struct gg_addr *addr, unsigned port, struct gg_attempt *a,
			     gg_send_cb cb, void *arg, struct gg_send **out);

/* Close the session now; the callback never runs. */
void gg_send_abort(struct gg_send *s);

#endif

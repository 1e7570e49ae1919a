/*
 * command.h - greyprobe listen's SMTP commands: a table, not a chain
 *
 * gg_command_run() answers one command line of a session (RFC 5321:
 * EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, VRFY, HELP, QUIT).  The verb
 * is looked up in a table that says, for every command, in which session
 * states it is allowed, what it answers elsewhere (503, counted as a
 * protocol error), whether it takes an argument, and which handler runs
 * it.  An unknown verb, or a line with a NUL byte, gets 500 and counts as
 * an error too.  RCPT's decision is track.c's.
 */
#ifndef GG_COMMAND_H
#define GG_COMMAND_H

#include <stddef.h>
#include "greyprobe/session.h"

/* Run one command line of len bytes (NUL-terminated at len). */
void gg_command_run(struct gg_session *s, const char *line, size_t len);

#endif

/*
 * message.h - the message greyprobe sends after DATA
 *
 * gg_message_probe() writes the generated probe message: Date, From, To,
 * Subject, Message-ID and X-Greyprobe-Id headers and a short body saying
 * what the message is, with CRLF line ends.  gg_message_stuff() turns any
 * text (a --data file) into SMTP DATA form: LF, CRLF or a lone CR end a
 * line and become CRLF, a line that starts with '.' gets a second '.'
 * (RFC 5321 4.5.2), and the text ends with CRLF.  Neither adds the final
 * ".": the SMTP client sends it.
 *
 * Limits: GG_MESSAGE_MAX bytes of input.  The result is malloc'd and
 * belongs to the caller.  gg_message_id() makes a random 16-hex-digit id
 * from /dev/urandom (or the clock and pid if that cannot be read).
 */
#ifndef GG_MESSAGE_H
#define GG_MESSAGE_H

#include <stddef.h>
#include <time.h>
#include "lib/status.h"

#define GG_MESSAGE_MAX (10L * 1024 * 1024)
#define GG_MESSAGE_ID_LEN 16

/* A fresh probe id: GG_MESSAGE_ID_LEN hex digits and a NUL. */
void gg_message_id(char id[GG_MESSAGE_ID_LEN + 1]);

/* The generated probe message, stuffed, in *out (*outlen bytes). */
enum gg_status gg_message_probe(const char *from, const char *to, const char *id,
				const char *helo, time_t date, char **out, size_t *outlen);

/* in[len] in SMTP DATA form (see above) in *out; GG_ETOOBIG over the limit. */
enum gg_status gg_message_stuff(const char *in, size_t len, char **out, size_t *outlen);

/* Read a file (at most GG_MESSAGE_MAX bytes) and stuff it. */
enum gg_status gg_message_file(const char *path, char **out, size_t *outlen, char *err,
			       size_t errsize);

#endif

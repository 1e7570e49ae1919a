/*
 * message.c - probe message and dot-stuffing (see message.h)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "greyprobe/message.h"

/* gg_message_id - 64 random bits in hex */
void gg_message_id(char id[GG_MESSAGE_ID_LEN + 1])
{
	unsigned char b[GG_MESSAGE_ID_LEN / 2];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	size_t i;

	if (fd < 0 || read(fd, b, sizeof(b)) != (ssize_t)sizeof(b)) {
		/* No entropy device: the id only has to be unique enough to find. */
		struct timespec ts;
		unsigned long long v;
		clock_gettime(CLOCK_REALTIME, &ts);
		v = (unsigned long long)ts.tv_sec * 1000000007ULL ^ (unsigned long long)ts.tv_nsec ^
		    ((unsigned long long)getpid() << 40);
		for (i = 0; i < sizeof(b); i++)
			b[i] = (unsigned char)(v >> (8 * i));
	}
	if (fd >= 0)
		close(fd);
	for (i = 0; i < sizeof(b); i++)
		snprintf(id + 2 * i, 3, "%02x", b[i]);
}

/* gg_message_stuff - CRLF line ends and dot-stuffing */
enum gg_status gg_message_stuff(const char *in, size_t len, char **out, size_t *outlen)
{
	size_t i, o = 0, cap;
	int bol = 1;
	char *buf;

	*out = NULL;
	*outlen = 0;
	if (len > (size_t)GG_MESSAGE_MAX)
		return GG_ETOOBIG;
	/* Worst case: every byte a line of its own, "." doubled, plus CRLF. */
	cap = 3 * len + 3;
	if ((buf = malloc(cap)) == NULL)
		return GG_ENOMEM;
	for (i = 0; i < len; i++) {
		char c = in[i];
		if (bol && c == '.')
			buf[o++] = '.';
		if (c == '\r' || c == '\n') {
			if (c == '\r' && i + 1 < len && in[i + 1] == '\n')
				i++;
			buf[o++] = '\r';
			buf[o++] = '\n';
			bol = 1;
			continue;
		}
		buf[o++] = c;
		bol = 0;
	}
	if (!bol) {
		buf[o++] = '\r';
		buf[o++] = '\n';
	}
	*out = buf;
	*outlen = o;
	return GG_OK;
}

/* gg_message_probe - the generated test message */
enum gg_status gg_message_probe(const char *from, const char *to, const char *id,
				const char *helo, time_t date, char **out, size_t *outlen)
{
	char datestr[64], *text;
	struct tm tm;
	size_t size;
	int n;
	enum gg_status st;

	if (gmtime_r(&date, &tm) == NULL ||
	    strftime(datestr, sizeof(datestr), "%a, %d %b %Y %H:%M:%S +0000", &tm) == 0)
		return GG_EINVAL;
	/* A null sender (MAIL FROM:<>) still needs a From: header. */
	size = strlen(from) + strlen(to) + 3 * strlen(id) + strlen(helo) + 1024;
	if ((text = malloc(size)) == NULL)
		return GG_ENOMEM;
	n = snprintf(text, size,
		     "Date: %s\n"
		     "From: <%s>\n"
		     "To: <%s>\n"
		     "Subject: greyprobe test message %s\n"
		     "Message-ID: <greyprobe.%s@%s>\n"
		     "X-Greyprobe-Id: %s\n"
		     "MIME-Version: 1.0\n"
		     "Content-Type: text/plain; charset=us-ascii\n"
		     "\n"
		     "This is a test message sent by greyprobe(1) to measure how this\n"
		     "domain's mail servers delay and accept mail (greylisting).\n"
		     "It needs no reply and can be deleted.\n",
		     datestr, from[0] != '\0' ? from : "MAILER-DAEMON", to, id, id, helo, id);
	if (n < 0 || (size_t)n >= size) {
		free(text);
		return GG_EINVAL;
	}
	st = gg_message_stuff(text, (size_t)n, out, outlen);
	free(text);
	return st;
}

/* gg_message_file - a --data file in DATA form */
enum gg_status gg_message_file(const char *path, char **out, size_t *outlen, char *err,
			       size_t errsize)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, n;
	enum gg_status st;

	*out = NULL;
	if (fp == NULL) {
		snprintf(err, errsize, "--data %s: %s", path, strerror(errno));
		return GG_EIO;
	}
	if ((buf = malloc((size_t)GG_MESSAGE_MAX + 1)) == NULL) {
		fclose(fp);
		snprintf(err, errsize, "--data %s: out of memory", path);
		return GG_ENOMEM;
	}
	while ((n = fread(buf + len, 1, (size_t)GG_MESSAGE_MAX + 1 - len, fp)) > 0) {
		len += n;
		if (len > (size_t)GG_MESSAGE_MAX)
			break;
	}
	if (ferror(fp)) {
		snprintf(err, errsize, "--data %s: read error", path);
		st = GG_EIO;
	} else if (len > (size_t)GG_MESSAGE_MAX) {
		snprintf(err, errsize, "--data %s: larger than %ld bytes", path, GG_MESSAGE_MAX);
		st = GG_ETOOBIG;
	} else if ((st = gg_message_stuff(buf, len, out, outlen)) != GG_OK) {
		snprintf(err, errsize, "--data %s: %s", path, gg_status_str(st));
	}
	fclose(fp);
	free(buf);
	return st;
}

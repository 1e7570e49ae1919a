/*
 * syslog.c - greygate's own /dev/log client (see syslog.h)
 *
 * The queue is one arena of message bytes and a table of lines (offset,
 * length, PRI, time).  Headers are built at send time, one per run of
 * lines with the same PRI and second, so a turn's lines usually share one
 * header; each datagram is an iovec of header and message (and the NUL of
 * a stream socket).  The time of day is cached per second: localtime_r()
 * runs once a second at most.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>

#include "daemon/syslog.h"
#include "lib/util.h"

#define PREFIX_MAX 32
#define HDR_MAX 128		/* "<191>Mmm dd hh:mm:ss " + ident (63) + "[pid]: " */
#define WARN_MAX 256

struct line {
	uint32_t off, len;
	int pri;
	time_t when;
};

struct gg_syslog {
	pthread_mutex_t lock;
	struct sockaddr_un sun;
	int fd;				/* -1: not connected */
	int type;			/* SOCK_DGRAM, or SOCK_STREAM since an EPROTOTYPE */
	int facility;
	char ident[64];
	size_t n, used;			/* lines and bytes queued */
	unsigned long unreported;	/* lines lost since the last warning got through */
	struct gg_syslog_stats st;
	time_t ts_sec;			/* the second ts shows */
	char ts[64];			/* "Mmm dd hh:mm:ss" */
	char warn[WARN_MAX];
	struct line lines[GG_SYSLOG_BATCH_LINES];
	/* Built by send_queue(): slot 0 is the lost-lines warning. */
	struct mmsghdr msgs[GG_SYSLOG_BATCH_LINES + 1];
	struct iovec iov[GG_SYSLOG_BATCH_LINES + 1][3];
	char hdr[GG_SYSLOG_BATCH_LINES + 1][HDR_MAX];
	char buf[GG_SYSLOG_BATCH_BYTES];
};

static const char nul_byte[1] = "";

/* gg_syslog_new - a client, not connected yet */
enum gg_status gg_syslog_new(const char *path, const char *ident, int facility,
			     struct gg_syslog **out)
{
	struct gg_syslog *sl;

	*out = NULL;
	if (path == NULL || path[0] == '\0')
		path = GG_SYSLOG_PATH;
	if (strlen(path) >= sizeof(sl->sun.sun_path))
		return GG_EINVAL;
	if ((sl = calloc(1, sizeof(*sl))) == NULL)
		return GG_ENOMEM;
	if (pthread_mutex_init(&sl->lock, NULL) != 0) {
		free(sl);
		return GG_ENOMEM;
	}
	sl->sun.sun_family = AF_UNIX;
	memcpy(sl->sun.sun_path, path, strlen(path) + 1);
	sl->fd = -1;
	sl->type = SOCK_DGRAM;
	sl->facility = facility & LOG_FACMASK;
	(void)gg_strcpy(sl->ident, sizeof(sl->ident), ident);
	sl->ts_sec = (time_t)-1;
	*out = sl;
	return GG_OK;
}

/* disconnect - forget the socket; the next send connects again */
static void disconnect(struct gg_syslog *sl)
{
	if (sl->fd >= 0)
		close(sl->fd);
	sl->fd = -1;
}

/* connect_socket - the path as the type that worked last, else the other (EPROTOTYPE) */
static int connect_socket(struct gg_syslog *sl)
{
	int types[2] = { sl->type, sl->type == SOCK_DGRAM ? SOCK_STREAM : SOCK_DGRAM };
	struct timeval tv = { 0, GG_SYSLOG_WAIT_MS * 1000 };

	for (int i = 0; i < 2; i++) {
		int fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0), e;

		if (fd < 0)
			return -1;
		/* The bound on every wait for room, in the kernel: no poll() per batch. */
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, (const struct sockaddr *)&sl->sun, sizeof(sl->sun)) == 0) {
			sl->fd = fd;
			sl->type = types[i];
			sl->st.connects++;
			return 0;
		}
		e = errno;
		close(fd);
		if (e != EPROTOTYPE)
			return -1;
	}
	return -1;
}

/* timestamp - "Mmm dd hh:mm:ss" of t in local time, as glibc's "%h %e %T" in the C locale */
static const char *timestamp(struct gg_syslog *sl, time_t t)
{
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;

	if (t == sl->ts_sec)
		return sl->ts;
	if (localtime_r(&t, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	snprintf(sl->ts, sizeof(sl->ts), "%s %2d %02d:%02d:%02d", months[(unsigned)tm.tm_mon % 12],
		 tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100, tm.tm_sec % 100);
	sl->ts_sec = t;
	return sl->ts;
}

/* set_msg - datagram k: header h (its length hlen) and body */
static void set_msg(struct gg_syslog *sl, size_t k, size_t h, size_t hlen, const char *body,
		    size_t len)
{
	struct msghdr *m = &sl->msgs[k].msg_hdr;

	sl->iov[k][0].iov_base = sl->hdr[h];
	sl->iov[k][0].iov_len = hlen;
	sl->iov[k][1].iov_base = (void *)body;
	sl->iov[k][1].iov_len = len;
	sl->iov[k][2].iov_base = (void *)nul_byte;
	sl->iov[k][2].iov_len = 1;
	memset(m, 0, sizeof(*m));
	m->msg_iov = sl->iov[k];
	m->msg_iovlen = sl->type == SOCK_STREAM ? 3 : 2;
	sl->msgs[k].msg_len = 0;
}

/* msg_size - the bytes of datagram k */
static size_t msg_size(const struct gg_syslog *sl, size_t k)
{
	size_t n = 0;

	for (size_t i = 0; i < sl->msgs[k].msg_hdr.msg_iovlen; i++)
		n += sl->iov[k][i].iov_len;
	return n;
}

/* build - the datagrams of the queue, after the warning when lines were lost; first slot */
static size_t build(struct gg_syslog *sl, long pid)
{
	size_t first = 1, hlen = 0, h = 0;
	int last_pri = -1;
	time_t last_when = (time_t)-1;

	if (sl->unreported > 0) {
		int wl = snprintf(sl->warn, sizeof(sl->warn),
				  "warning: %lu log lines lost: syslog (%s) was not reachable or "
				  "had no room for them within %d ms; the syslog daemon was not "
				  "running, restarting or overloaded", sl->unreported,
				  sl->sun.sun_path, GG_SYSLOG_WAIT_MS);
		int hl = snprintf(sl->hdr[0], HDR_MAX, "<%d>%s %s[%ld]: ",
				  sl->facility | LOG_WARNING, timestamp(sl, time(NULL)),
				  sl->ident, pid);

		if (wl >= (int)sizeof(sl->warn))
			wl = (int)sizeof(sl->warn) - 1;
		if (hl >= HDR_MAX)
			hl = HDR_MAX - 1;
		set_msg(sl, 0, 0, (size_t)hl, sl->warn, (size_t)wl);
		first = 0;
	}
	for (size_t i = 0; i < sl->n; i++) {
		const struct line *l = &sl->lines[i];

		/* Lines of one turn share a header: one snprintf per level and second. */
		if (l->pri != last_pri || l->when != last_when) {
			h = i + 1;
			hlen = (size_t)snprintf(sl->hdr[h], HDR_MAX, "<%d>%s %s[%ld]: ", l->pri,
						timestamp(sl, l->when), sl->ident, pid);
			if (hlen >= HDR_MAX)
				hlen = HDR_MAX - 1;
			last_pri = l->pri;
			last_when = l->when;
		}
		set_msg(sl, i + 1, h, hlen, sl->buf + l->off, l->len);
	}
	return first;
}

/* torn - a stream send wrote part of datagram k only */
static int torn(const struct gg_syslog *sl, size_t k)
{
	return sl->type == SOCK_STREAM && sl->msgs[k].msg_len < msg_size(sl, k);
}

/* reconnectable - the errors of a syslog daemon that went away or restarted */
static int reconnectable(int e)
{
	return e == ECONNREFUSED || e == ENOTCONN || e == ENOENT || e == ECONNRESET ||
	       e == EPIPE;
}

/* send_queue - every queued line (after the warning, if lines were lost), then an empty queue */
static void send_queue(struct gg_syslog *sl)
{
	size_t end = sl->n + 1, k = 0, sent = 0, lines = sl->n;
	int dontwait = sl->st.stalled, reconnected = 0, again = 0, warned = 0;

	if (lines == 0)
		return;
	if (sl->fd < 0 && connect_socket(sl) != 0)
		goto out;
	k = build(sl, (long)getpid());
	warned = k == 0;
	while (k < end) {
		int r = sendmmsg(sl->fd, sl->msgs + k, (unsigned int)(end - k),
				 MSG_NOSIGNAL | (dontwait ? MSG_DONTWAIT : 0));

		sl->st.sends++;
		if (r > 0) {
			size_t j = k;

			/* sendmmsg goes on after a short write: on a stream, look at each. */
			while (j < k + (size_t)r && !torn(sl, j))
				j++;
			sent += j - k;
			if (j < k + (size_t)r) {
				/* Half a line on a stream: drop the rest, start clean on a new connection. */
				disconnect(sl);
				break;
			}
			k = j;
			/* Short: a line waited its bound (or failed); the rest must not wait again. */
			dontwait = 1;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			again = 1;
			break;
		}
		if (errno == EMSGSIZE) {
			k++;	/* this one line is too big for the socket */
			continue;
		}
		if (reconnectable(errno) && !reconnected) {
			reconnected = 1;
			disconnect(sl);
			if (connect_socket(sl) != 0)
				break;
			/* A new daemon has an empty queue: wait for room again.  The type may differ. */
			dontwait = 0;
			for (size_t j = k; j < end; j++)
				sl->msgs[j].msg_hdr.msg_iovlen = sl->type == SOCK_STREAM ? 3 : 2;
			continue;
		}
		disconnect(sl);
		break;
	}
out:
	/* Nothing got through for want of room: later flushes do not wait until something does. */
	sl->st.stalled = again && sent == 0;
	/* The warning (slot 0) goes first, so it got through if anything did. */
	if (warned && sent > 0) {
		sent--;
		sl->unreported = 0;
	}
	sl->st.lines += sent;
	sl->st.dropped += lines - sent;
	sl->unreported += lines - sent;
	sl->n = 0;
	sl->used = 0;
}

/* gg_syslog_vline - queue one line; send the queue when full before, or unbatched after */
void gg_syslog_vline(struct gg_syslog *sl, int prio, int batched, const char *prefix,
		     const char *fmt, va_list ap)
{
	size_t plen = strlen(prefix);
	struct line *l;
	char *p;
	int len;

	if (plen >= PREFIX_MAX)
		plen = PREFIX_MAX - 1;
	pthread_mutex_lock(&sl->lock);
	if (sl->n == GG_SYSLOG_BATCH_LINES ||
	    sizeof(sl->buf) - sl->used < PREFIX_MAX + GG_SYSLOG_LINE_MAX)
		send_queue(sl);
	l = &sl->lines[sl->n++];
	p = sl->buf + sl->used;
	memcpy(p, prefix, plen);
	len = vsnprintf(p + plen, GG_SYSLOG_LINE_MAX, fmt, ap);
	if (len < 0)
		len = 0;
	else if (len >= GG_SYSLOG_LINE_MAX)
		len = GG_SYSLOG_LINE_MAX - 1;
	l->off = (uint32_t)sl->used;
	l->len = (uint32_t)(plen + (size_t)len);
	l->pri = sl->facility | (prio & LOG_PRIMASK);
	l->when = time(NULL);
	sl->used += l->len;
	if (!batched)
		send_queue(sl);
	pthread_mutex_unlock(&sl->lock);
}

/* gg_syslog_flush - the queue, now */
void gg_syslog_flush(struct gg_syslog *sl)
{
	pthread_mutex_lock(&sl->lock);
	send_queue(sl);
	pthread_mutex_unlock(&sl->lock);
}

/* gg_syslog_set_ident - what was queued goes under the old ident, later lines under the new */
void gg_syslog_set_ident(struct gg_syslog *sl, const char *ident, int facility)
{
	pthread_mutex_lock(&sl->lock);
	send_queue(sl);
	(void)gg_strcpy(sl->ident, sizeof(sl->ident), ident);
	sl->facility = facility & LOG_FACMASK;
	pthread_mutex_unlock(&sl->lock);
}

/* gg_syslog_stats - a copy of the counters */
void gg_syslog_stats(struct gg_syslog *sl, struct gg_syslog_stats *st)
{
	pthread_mutex_lock(&sl->lock);
	*st = sl->st;
	pthread_mutex_unlock(&sl->lock);
}

/* gg_syslog_free - the last lines, then nothing */
void gg_syslog_free(struct gg_syslog *sl)
{
	if (sl == NULL)
		return;
	pthread_mutex_lock(&sl->lock);
	send_queue(sl);
	disconnect(sl);
	pthread_mutex_unlock(&sl->lock);
	pthread_mutex_destroy(&sl->lock);
	free(sl);
}

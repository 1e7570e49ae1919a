/*
 * answer.c - the one decoder of DNS answers (see answer.h)
 *
 * c-ares's parsers do the bounds checking; this file only turns what they
 * return into records for a sink, and walks the message itself only for
 * TTLs, with every read checked against the message length.
 */
#include <ares.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "dns/answer.h"
#include "dns/resolver.h"
#include "lib/util.h"

/* At most this many address records are parsed per answer. */
#define GG_ANSWER_ADDRS_MAX 256

/* put_addr - one address of an A or AAAA answer, a negative TTL as 0 */
static void put_addr(struct gg_answer_addr *o, int family, const void *bytes, size_t len, int ttl)
{
	memset(&o->addr, 0, sizeof(o->addr));
	o->addr.family = family;
	memcpy(o->addr.bytes, bytes, len);
	o->ttl = ttl < 0 ? 0 : (unsigned)ttl;
}

/* gg_answer_addrs - A or AAAA records */
int gg_answer_addrs(const unsigned char *abuf, int alen, int type, struct gg_answer_addr *out,
		    size_t *n)
{
	int max = *n < GG_ANSWER_ADDRS_MAX ? (int)*n : GG_ANSWER_ADDRS_MAX, st, i;

	*n = 0;
	if (type == ns_t_a) {
		struct ares_addrttl at[GG_ANSWER_ADDRS_MAX];
		if ((st = ares_parse_a_reply(abuf, alen, NULL, at, &max)) != ARES_SUCCESS)
			return st;
		for (i = 0; i < max; i++)
			put_addr(&out[i], AF_INET, &at[i].ipaddr, 4, at[i].ttl);
	} else {
		struct ares_addr6ttl at[GG_ANSWER_ADDRS_MAX];
		if ((st = ares_parse_aaaa_reply(abuf, alen, NULL, at, &max)) != ARES_SUCCESS)
			return st;
		for (i = 0; i < max; i++)
			put_addr(&out[i], AF_INET6, &at[i].ip6addr, 16, at[i].ttl);
	}
	*n = (size_t)max;
	return ARES_SUCCESS;
}

/* gg_answer_txt - every TXT record, its strings joined */
int gg_answer_txt(const unsigned char *abuf, int alen, gg_answer_text_fn fn, void *arg)
{
	struct ares_txt_ext *list = NULL, *t;
	char *buf = NULL, *nb;
	size_t used = 0, cap = 0;
	int st, have = 0;

	if ((st = ares_parse_txt_reply_ext(abuf, alen, &list)) != ARES_SUCCESS)
		return st;
	for (t = list; ; t = t->next) {
		if (have && (t == NULL || t->record_start)) {
			buf[used] = '\0';
			if ((st = fn(buf, used, arg)) != ARES_SUCCESS)
				goto out;
			used = 0;
			have = 0;
		}
		if (t == NULL)
			break;
		have = 1;
		if (used + t->length + 1 > cap) {
			cap = used + t->length + 256;
			if ((nb = realloc(buf, cap)) == NULL) {
				st = ARES_ENOMEM;
				goto out;
			}
			buf = nb;
		}
		if (t->length > 0) {
			memcpy(buf + used, t->txt, t->length);
			used += t->length;
		}
	}
	st = ARES_SUCCESS;
out:
	free(buf);
	ares_free_data(list);
	return st;
}

/* gg_answer_ptr - every PTR name */
int gg_answer_ptr(const unsigned char *abuf, int alen, gg_answer_text_fn fn, void *arg)
{
	/*
	 * ares_parse_ptr_reply() wants the address the PTR name stands for;
	 * it only copies it into the hostent, so any address will do.
	 */
	static const unsigned char any[4];
	struct hostent *he = NULL;
	size_t i;
	int st;

	if ((st = ares_parse_ptr_reply(abuf, alen, any, sizeof(any), AF_INET, &he)) != ARES_SUCCESS)
		return st;
	/*
	 * c-ares 1.18 lists every PTR name in h_aliases, in answer order, and
	 * h_name is one of them; h_name alone only when there are no aliases.
	 */
	if (he->h_aliases == NULL || he->h_aliases[0] == NULL) {
		if (he->h_name != NULL)
			st = fn(he->h_name, strlen(he->h_name), arg);
	} else {
		for (i = 0; he->h_aliases[i] != NULL && st == ARES_SUCCESS; i++)
			st = fn(he->h_aliases[i], strlen(he->h_aliases[i]), arg);
	}
	ares_free_hostent(he);
	return st;
}

/* gg_answer_mx - every MX record */
int gg_answer_mx(const unsigned char *abuf, int alen, gg_answer_mx_fn fn, void *arg)
{
	struct ares_mx_reply *list = NULL, *m;
	int st;

	if ((st = ares_parse_mx_reply(abuf, alen, &list)) != ARES_SUCCESS)
		return st;
	for (m = list; m != NULL && st == ARES_SUCCESS; m = m->next)
		st = fn(m->priority, m->host != NULL ? m->host : "", arg);
	ares_free_data(list);
	return st;
}

/*
 * A bounded walk over a DNS message, only to learn TTLs, which c-ares 1.18
 * gives for A and AAAA but not for TXT, PTR, MX or negative answers.
 */
struct walk {
	const unsigned char *p;
	size_t len, off;
};

static int walk_u16(struct walk *w, unsigned *v)
{
	if (w->len - w->off < 2)
		return -1;
	*v = (unsigned)w->p[w->off] << 8 | w->p[w->off + 1];
	w->off += 2;
	return 0;
}

static int walk_u32(struct walk *w, uint32_t *v)
{
	if (w->len - w->off < 4)
		return -1;
	*v = (uint32_t)w->p[w->off] << 24 | (uint32_t)w->p[w->off + 1] << 16 |
	    (uint32_t)w->p[w->off + 2] << 8 | w->p[w->off + 3];
	w->off += 4;
	return 0;
}

/* walk_name - skip one (possibly compressed) name */
static int walk_name(struct walk *w)
{
	unsigned n = 0;

	while (w->off < w->len && n++ < 128) {
		unsigned c = w->p[w->off];
		if (c == 0) {
			w->off++;
			return 0;
		}
		if ((c & 0xc0) == 0xc0) {
			if (w->len - w->off < 2)
				return -1;
			w->off += 2;
			return 0;
		}
		if ((c & 0xc0) != 0 || w->len - w->off < c + 1)
			return -1;
		w->off += c + 1;
	}
	return -1;
}

/* ttl_clean - RFC 2181: a TTL with the top bit set means zero */
static unsigned ttl_clean(uint32_t t)
{
	return t > 0x7fffffffu ? 0 : (unsigned)t;
}

/* gg_answer_ttl - lowest TTL of an answer, or its negative TTL (see answer.h) */
unsigned gg_answer_ttl(const unsigned char *abuf, int alen, int qtype, size_t *count)
{
	struct walk w = { abuf, alen > 0 ? (size_t)alen : 0, 12 };
	unsigned qd, an, ns, i, type, klass, rdlen;
	uint32_t ttl, best = UINT32_MAX;

	*count = 0;
	if (abuf == NULL || w.len < 12)
		return 0;
	qd = (unsigned)abuf[4] << 8 | abuf[5];
	an = (unsigned)abuf[6] << 8 | abuf[7];
	ns = (unsigned)abuf[8] << 8 | abuf[9];
	for (i = 0; i < qd; i++)
		if (walk_name(&w) < 0 || walk_u16(&w, &type) < 0 || walk_u16(&w, &klass) < 0)
			return 0;
	for (i = 0; i < an + ns; i++) {
		size_t rdata;
		if (walk_name(&w) < 0 || walk_u16(&w, &type) < 0 || walk_u16(&w, &klass) < 0 ||
		    walk_u32(&w, &ttl) < 0 || walk_u16(&w, &rdlen) < 0 || w.len - w.off < rdlen)
			break;
		rdata = w.off;
		w.off += rdlen;
		if (i < an) {
			if ((int)type == qtype)
				(*count)++;
			if (ttl < best)
				best = ttl;
		} else if (an == 0 && type == ns_t_soa) {
			/* The SOA MINIMUM is the last 32 bits of its RDATA. */
			struct walk s = { abuf, rdata + rdlen, rdata + rdlen - 4 };
			uint32_t min;
			if (rdlen >= 22 && walk_u32(&s, &min) == 0) {
				if (min < ttl)
					ttl = min;
				if (ttl < best)
					best = ttl;
			}
		}
	}
	return best == UINT32_MAX ? 0 : ttl_clean(best);
}

/* ------------------------------------------------------------ struct gg_dns_result */

/* take_text - a NUL-terminated copy of at most max bytes; sets truncation */
static char *take_text(struct gg_dns_result *p, const char *s, size_t len, size_t max)
{
	char *t;

	if (len > max) {
		len = max;
		p->truncated = 1;
	}
	if ((t = malloc(len + 1)) == NULL)
		return NULL;
	memcpy(t, s, len);
	t[len] = '\0';
	return t;
}

/* parse_addrs - A or AAAA answer */
static int parse_addrs(struct gg_dns_result *p, const unsigned char *abuf, int alen, size_t count)
{
	struct gg_answer_addr at[GG_DNS_MAX_RECORDS];
	size_t n = GG_DNS_MAX_RECORDS, i;
	int st;

	if ((p->addrs = calloc(GG_DNS_MAX_RECORDS, sizeof(*p->addrs))) == NULL)
		return ARES_ENOMEM;
	if ((st = gg_answer_addrs(abuf, alen, p->type, at, &n)) != ARES_SUCCESS)
		return st;
	for (i = 0; i < n; i++) {
		p->addrs[i].addr = at[i].addr;
		p->addrs[i].ttl = at[i].ttl;
	}
	p->naddrs = n;
	if (count > n)
		p->truncated = 1;
	return n > 0 ? ARES_SUCCESS : ARES_ENODATA;
}

/* room - may one more record be kept after n?  If not, the result is truncated. */
static int room(struct gg_dns_result *p, size_t n)
{
	if (n < GG_DNS_MAX_RECORDS)
		return 1;
	p->truncated = 1;
	return 0;
}

/* kept - a walker's status, or ENODATA when it kept no record (*n, read after the walk) */
static int kept(int st, const size_t *n)
{
	if (st != ARES_SUCCESS)
		return st;
	return *n > 0 ? ARES_SUCCESS : ARES_ENODATA;
}

/* keep_text - append a copy of one string (at most max bytes) to v[*n] */
static int keep_text(struct gg_dns_result *p, char **v, size_t *n, const char *s, size_t len,
		     size_t max)
{
	if (!room(p, *n))
		return ARES_SUCCESS;
	if ((v[*n] = take_text(p, s, len, max)) == NULL)
		return ARES_ENOMEM;
	(*n)++;
	return ARES_SUCCESS;
}

/* add_txt - keep one TXT record, at most GG_DNS_TXT_MAX bytes of it */
static int add_txt(const char *s, size_t len, void *arg)
{
	struct gg_dns_result *p = arg;

	return keep_text(p, p->txt, &p->ntxt, s, len, GG_DNS_TXT_MAX);
}

/* parse_txt - TXT answer: the strings of each record joined (RFC 7208 3.3) */
static int parse_txt(struct gg_dns_result *p, const unsigned char *abuf, int alen)
{
	if ((p->txt = calloc(GG_DNS_MAX_RECORDS, sizeof(*p->txt))) == NULL)
		return ARES_ENOMEM;
	return kept(gg_answer_txt(abuf, alen, add_txt, p), &p->ntxt);
}

/* add_name - append a PTR name unless already there */
static int add_name(const char *name, size_t len, void *arg)
{
	struct gg_dns_result *p = arg;
	size_t i;

	if (len == 0)
		return ARES_SUCCESS;
	for (i = 0; i < p->nnames; i++)
		if (strcasecmp(p->names[i], name) == 0)
			return ARES_SUCCESS;
	return keep_text(p, p->names, &p->nnames, name, len, GG_DNS_NAME_MAX);
}

/* parse_ptr - PTR answer: every name, deduplicated, in answer order */
static int parse_ptr(struct gg_dns_result *p, const unsigned char *abuf, int alen)
{
	if ((p->names = calloc(GG_DNS_MAX_RECORDS, sizeof(*p->names))) == NULL)
		return ARES_ENOMEM;
	return kept(gg_answer_ptr(abuf, alen, add_name, p), &p->nnames);
}

/* add_mx - keep one MX record; the root as "" */
static int add_mx(unsigned pref, const char *h, void *arg)
{
	struct gg_dns_result *p = arg;

	if (!room(p, p->nmx))
		return ARES_SUCCESS;
	/* The root is "." or "" depending on how the name was expanded. */
	if (strcmp(h, ".") == 0)
		h = "";
	if ((p->mx[p->nmx].host = take_text(p, h, strlen(h), GG_DNS_NAME_MAX)) == NULL)
		return ARES_ENOMEM;
	p->mx[p->nmx].pref = pref;
	p->nmx++;
	return ARES_SUCCESS;
}

/* parse_mx - MX answer */
static int parse_mx(struct gg_dns_result *p, const unsigned char *abuf, int alen)
{
	if ((p->mx = calloc(GG_DNS_MAX_RECORDS, sizeof(*p->mx))) == NULL)
		return ARES_ENOMEM;
	return kept(gg_answer_mx(abuf, alen, add_mx, p), &p->nmx);
}

/* What each c-ares status means for a result; anything else is a DNS error. */
static const struct {
	int ares;
	enum gg_status st;
	const char *error;
} status_map[] = {
	{ ARES_SUCCESS, GG_OK, NULL },
	{ ARES_ENOTFOUND, GG_NOTFOUND, "NXDOMAIN" },
	{ ARES_ENODATA, GG_NOTFOUND, "no data" },
	{ ARES_ETIMEOUT, GG_ETIMEOUT, "timeout" },
	{ ARES_ECANCELLED, GG_EDNS, "cancelled" },
	{ ARES_EDESTRUCTION, GG_EDNS, "cancelled" },
	/* c-ares 1.18 also reports REFUSED answers this way. */
	{ ARES_ECONNREFUSED, GG_EDNS, "refused or unreachable" },
	{ ARES_ESERVFAIL, GG_EDNS, "SERVFAIL" },
	{ ARES_EBADRESP, GG_EDNS, "malformed answer" },
	{ ARES_EFORMERR, GG_EDNS, "malformed answer" },
};

/* gg_answer_status - map a c-ares status onto the result */
void gg_answer_status(struct gg_dns_result *p, int status)
{
	size_t i;

	p->st = GG_EDNS;
	p->error = ares_strerror(status);
	for (i = 0; i < GG_ARRAY_LEN(status_map); i++)
		if (status_map[i].ares == status) {
			p->st = status_map[i].st;
			p->error = status_map[i].error;
			break;
		}
	if (status == ARES_ECANCELLED || status == ARES_EDESTRUCTION)
		p->cancelled = 1;
}

/* gg_answer_result - c-ares's outcome of one query into p (see answer.h) */
enum gg_status gg_answer_result(struct gg_dns_result *p, int status, const unsigned char *abuf,
				int alen)
{
	size_t count = 0;

	if (abuf != NULL && alen > 0 &&
	    (status == ARES_SUCCESS || status == ARES_ENOTFOUND || status == ARES_ENODATA))
		p->ttl = gg_answer_ttl(abuf, alen, p->type, &count);
	if (status == ARES_SUCCESS) {
		switch (p->type) {
		case ns_t_a:
		case ns_t_aaaa:
			status = parse_addrs(p, abuf, alen, count);
			break;
		case ns_t_txt:
			status = parse_txt(p, abuf, alen);
			break;
		case ns_t_ptr:
			status = parse_ptr(p, abuf, alen);
			break;
		case ns_t_mx:
			status = parse_mx(p, abuf, alen);
			break;
		}
		if (status == ARES_ENOMEM)
			return GG_ENOMEM;
	}
	gg_answer_status(p, status);
	return GG_OK;
}

/*
 * fuzz_policy.c - the policy delegation parser, fed like the connection
 * layer feeds it, and each complete request evaluated by the engine
 *
 * The input is a byte stream from a Postfix (or hostile) client.  It is
 * split on '\n' and framed exactly as policyd/server.c does: a line longer
 * than max_line + 1 bytes is reported with gg_policy_overlong() instead of
 * being passed on, and an unfinished last line is dropped (the connection
 * closes).  Each line is handed over in a heap buffer of its exact length.
 * The stream is parsed twice: with the default limits and with the
 * smallest limits the configuration allows.
 *
 * Invariants: the parser's fields stay NUL-terminated within their size,
 * a request without error respected every limit, errdetail is printable;
 * then a request without error goes through gg_engine_eval() against an
 * in-memory store, and the verdict's texts are printable and bounded.
 */
#include <string.h>

#include "fuzz.h"
#include "engine/config.h"
#include "engine/engine.h"
#include "policyd/policy_proto.h"
#include "store/record.h"
#include "store/store.h"
#include "lib/util.h"

/* A one-slot-per-key in-memory store, just enough for the engine. */
#define MEM_SLOTS 64

struct mem_store {
	struct gg_store base;
	struct { char key[GG_KEY_MAX]; size_t klen; uint8_t val[GG_RECORD_MAX]; size_t vlen; } s[MEM_SLOTS];
	size_t n;
};

static int mem_find(struct mem_store *m, const void *key, size_t klen)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->s[i].klen == klen && memcmp(m->s[i].key, key, klen) == 0)
			return (int)i;
	return -1;
}

static enum gg_status mem_begin(struct gg_store *s) { (void)s; return GG_OK; }
static enum gg_status mem_commit(struct gg_store *s) { (void)s; return GG_OK; }
static void mem_abort(struct gg_store *s) { (void)s; }

static enum gg_status mem_get(struct gg_store *gs, const void *key, size_t klen, void *val,
			      size_t vsize, size_t *vlen)
{
	struct mem_store *m = (struct mem_store *)gs;
	int i = mem_find(m, key, klen);

	if (i < 0)
		return GG_NOTFOUND;
	if (m->s[i].vlen > vsize)
		return GG_EFORMAT;
	memcpy(val, m->s[i].val, m->s[i].vlen);
	*vlen = m->s[i].vlen;
	return GG_OK;
}

static enum gg_status mem_put(struct gg_store *gs, const void *key, size_t klen, const void *val,
			      size_t vlen)
{
	struct mem_store *m = (struct mem_store *)gs;
	int i = mem_find(m, key, klen);

	fuzz_check(klen < GG_KEY_MAX && vlen <= GG_RECORD_MAX);
	if (i < 0) {
		if (m->n == MEM_SLOTS)
			m->n = 0;	/* forget everything: it is only a test store */
		i = (int)m->n++;
	}
	memcpy(m->s[i].key, key, klen);
	m->s[i].klen = klen;
	memcpy(m->s[i].val, val, vlen);
	m->s[i].vlen = vlen;
	return GG_OK;
}

static enum gg_status mem_del(struct gg_store *gs, const void *key, size_t klen)
{
	struct mem_store *m = (struct mem_store *)gs;
	int i = mem_find(m, key, klen);

	if (i < 0)
		return GG_NOTFOUND;
	m->s[i] = m->s[--m->n];
	return GG_OK;
}

static const struct gg_store_ops mem_ops = {
	.name = "mem", .begin = mem_begin, .commit = mem_commit, .abort = mem_abort,
	.get = mem_get, .put = mem_put, .del = mem_del,
};

static struct mem_store store;
static struct gg_config *cfg;

/* setup - one configuration for every input, with every reply escape and each list kind */
static void setup(void)
{
	static const char *const set[][2] = {
		{ "greylist_reply", "Greylisted %s/%d for %c <%f> <%r> by %h 100%%" },
		{ "greylist_auto_whitelist", "2" },
		{ "myhostname", "mx.fuzz" },
		{ "whitelist_clients", "198.51.100.0/24 2001:db8:ffff::/48 .trusted.example /^relay[0-9]+\\./" },
		{ "whitelist_senders", "@friends.example .partner.example news@ /^bounce-/" },
		{ "whitelist_recipients", "postmaster@ abuse@example.com" },
	};
	char err[512];

	cfg = gg_config_new();
	fuzz_check(cfg != NULL);
	for (size_t i = 0; i < GG_ARRAY_LEN(set); i++)
		fuzz_check(gg_config_set(cfg, set[i][0], set[i][1], "fuzz", err, sizeof(err)) == GG_OK);
	fuzz_check(gg_config_finish(cfg, err, sizeof(err)) == GG_OK);
	store.base.ops = &mem_ops;
}

static int printable(const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	if (n == max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

#define TERMINATED(f) fuzz_check(strnlen((f), sizeof(f)) < sizeof(f))

/* finished - invariants of one complete request, then the engine */
static void finished(const struct gg_policy_req *pr, const struct gg_policy_limits *lim,
		     uint64_t now)
{
	const struct gg_request *r = &pr->req;
	struct gg_engine e;
	struct gg_verdict v;

	TERMINATED(r->client_address);
	TERMINATED(r->client_name);
	TERMINATED(r->reverse_client_name);
	TERMINATED(r->helo_name);
	TERMINATED(r->sender);
	TERMINATED(r->recipient);
	TERMINATED(r->instance);
	TERMINATED(r->queue_id);
	TERMINATED(r->sasl_username);
	TERMINATED(r->protocol_state);
	TERMINATED(r->request);
	fuzz_check(printable(pr->errdetail, sizeof(pr->errdetail)));
	fuzz_check(strlen(pr->errdetail) <= 63);
	fuzz_check(gg_policy_error_str(pr->error) != NULL);
	fuzz_check((r->truncated & ~r->seen) == 0);
	if (pr->error != GG_PE_NONE)
		return;
	fuzz_check(pr->nattrs <= lim->max_attributes);
	fuzz_check(pr->size <= lim->max_request + 2);	/* + the empty line, maybe with CR */
	fuzz_check(!(r->truncated & (1u << GG_RF_CLIENT_ADDRESS)));

	gg_engine_init(&e, cfg, &store.base);
	gg_engine_eval(&e, r, NULL, now, &v);
	fuzz_check(v.reason != NULL);
	fuzz_check(printable(v.text, sizeof(v.text)));
	fuzz_check(printable(v.header, sizeof(v.header)));
	fuzz_check(strnlen(v.detail, sizeof(v.detail)) < sizeof(v.detail));
	fuzz_check(strnlen(v.key, sizeof(v.key)) < sizeof(v.key));
	if (v.action == GG_ACTION_GREYLIST)
		fuzz_check(strncmp(v.text, "4.", 2) == 0);
	if (r->stage != GG_STAGE_RCPT)
		fuzz_check(v.action == GG_ACTION_ACCEPT && v.key[0] == '\0');
}

/* run - frame the stream into lines as the connection layer does */
static void run(const uint8_t *data, size_t size, const struct gg_policy_limits *lim)
{
	struct gg_policy_req pr;
	int in_request = 0;
	size_t pos = 0;
	uint64_t now = 1700000000;

	while (pos < size) {
		const uint8_t *nl;
		size_t len;
		char *line;

		if (!in_request) {
			gg_policy_begin(&pr);
			in_request = 1;
		}
		nl = memchr(data + pos, '\n', size - pos);
		if (nl == NULL) {
			/* The peer went away mid-line; an over-long tail was being discarded. */
			if (size - pos > lim->max_line + 1)
				gg_policy_overlong(&pr, size - pos);
			break;
		}
		len = (size_t)(nl - (data + pos));
		if (len > lim->max_line + 1) {
			gg_policy_overlong(&pr, len + 1);
			pos += len + 1;
			continue;
		}
		line = malloc(len ? len : 1);
		fuzz_check(line != NULL);
		memcpy(line, data + pos, len);
		if (gg_policy_line(&pr, lim, line, len)) {
			finished(&pr, lim, now);
			now += 150;	/* later requests are retries, some after the delay */
			in_request = 0;
		}
		free(line);
		pos += len + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct gg_policy_limits limits[] = {
		{ 4096, 128, 65536 },	/* the defaults */
		{ 64, 8, 256 },		/* the smallest allowed */
	};

	if (cfg == NULL)
		setup();
	for (size_t i = 0; i < GG_ARRAY_LEN(limits); i++) {
		store.n = 0;
		run(data, size, &limits[i]);
	}
	return 0;
}

/*
 * engine.c - verdicts: whitelists, then greylisting (see engine.h)
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/engine.h"
#include "engine/score.h"
#include "lib/util.h"
#include "engine/wlist.h"

#define DEADLOCK_RETRIES 3

/* What the engine keeps of one request while deciding it. */
struct work {
	const struct gg_request *req;
	const struct gg_score *score;
	struct gg_verdict *v;
	char ckey[GG_KEY_MAX];		/* the client record's key */
	size_t klen, cklen;
	int pending;			/* the triplet store must decide */
	struct gg_greylist_result res;
};

/* gg_engine_init - bind configuration and store */
void gg_engine_init(struct gg_engine *e, const struct gg_config *cfg, struct gg_store *store)
{
	memset(e, 0, sizeof(*e));
	e->cfg = cfg;
	e->store = store;
}

const char *gg_engine_action_str(enum gg_action a)
{
	static const char *const names[] = {
		[GG_ACTION_ACCEPT] = "accept", [GG_ACTION_GREYLIST] = "greylist",
		[GG_ACTION_TAG] = "tag", [GG_ACTION_REJECT] = "reject",
	};

	return (unsigned)a < GG_ARRAY_LEN(names) ? names[a] : "unknown";
}

/* append_clean - copy MTA-supplied text into a reply, dropping control bytes */
static size_t append_clean(char *out, size_t pos, size_t size, const char *s)
{
	for (; *s && pos + 1 < size; s++)
		if ((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f)
			out[pos++] = *s;
	return pos;
}

/* format_reply - expand greylist_reply escapes */
static void format_reply(const struct gg_config *cfg, const struct gg_request *req, long remaining,
			 char *out, size_t size)
{
	size_t pos = 0;
	char num[32];

	pos = append_clean(out, pos, size, "4.7.1 ");
	for (const char *p = cfg->greylist_reply; *p && pos + 1 < size; p++) {
		if (*p != '%' || p[1] == '\0') {
			out[pos++] = *p;
			continue;
		}
		switch (*++p) {
		case 's':
			snprintf(num, sizeof(num), "%ld", remaining);
			pos = append_clean(out, pos, size, num);
			break;
		case 'd':
			snprintf(num, sizeof(num), "%ld", cfg->greylist_delay);
			pos = append_clean(out, pos, size, num);
			break;
		case 'c':
			pos = append_clean(out, pos, size, req->client_address);
			break;
		case 'f':
			pos = append_clean(out, pos, size, req->sender[0] ? req->sender : "<>");
			break;
		case 'r':
			pos = append_clean(out, pos, size, req->recipient);
			break;
		case 'h':
			pos = append_clean(out, pos, size, cfg->myhostname);
			break;
		default:
			out[pos++] = *p;
			break;
		}
	}
	out[pos] = '\0';
}

/* format_header - "X-Greylist: delayed N seconds by greygate at HOST; DATE" */
static void format_header(const struct gg_config *cfg, long delayed, uint64_t now, char *out,
			  size_t size)
{
	char date[64];
	time_t t = (time_t)now;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	snprintf(out, size, "X-Greylist: delayed %ld seconds by greygate at %s; %s",
		 delayed, cfg->myhostname, date);
}

/* read_rec - get a record; junk is deleted and reported as absent */
static enum gg_status read_rec(struct gg_engine *e, const char *key, size_t klen,
			       uint8_t *buf, size_t *len)
{
	enum gg_status st = e->store->ops->get(e->store, key, klen, buf, GG_RECORD_MAX, len);

	if (st == GG_EFORMAT) {
		e->stats.corrupt_records++;
		st = e->store->ops->del(e->store, key, klen);
		return st == GG_OK || st == GG_NOTFOUND ? GG_NOTFOUND : st;
	}
	return st;
}

/*
 * load_rec - a triplet or client record into *rec (*have set) or absent;
 * a record that does not decode is counted, deleted and taken as absent
 */
static enum gg_status load_rec(struct gg_engine *e, const char *key, size_t klen, int client,
			       void *rec, int *have)
{
	uint8_t buf[GG_RECORD_MAX];
	size_t len;
	enum gg_status st = read_rec(e, key, klen, buf, &len);

	*have = 0;
	if (st == GG_NOTFOUND)
		return GG_OK;
	if (st != GG_OK)
		return st;
	st = client ? gg_record_client_decode(buf, len, rec) :
		      gg_record_triplet_decode(buf, len, rec);
	if (st == GG_OK) {
		*have = 1;
		return GG_OK;
	}
	e->stats.corrupt_records++;
	return e->store->ops->del(e->store, key, klen);
}

/* greylist_ops - read, decide and write one triplet inside the open transaction */
static enum gg_status greylist_ops(struct gg_engine *e, const struct gg_greylist_params *p,
				   uint64_t now, struct work *w)
{
	struct gg_verdict *v = w->v;
	struct gg_greylist_result *res = &w->res;
	struct gg_triplet_rec trec;
	struct gg_client_rec crec;
	uint8_t buf[GG_RECORD_MAX];
	size_t len;
	int have_t = 0, have_c = 0;
	enum gg_status st;

	memset(&trec, 0, sizeof(trec));
	memset(&crec, 0, sizeof(crec));
	if (p->auto_whitelist > 0 &&
	    (st = load_rec(e, w->ckey, w->cklen, 1, &crec, &have_c)) != GG_OK)
		return st;
	if ((st = load_rec(e, v->key, w->klen, 0, &trec, &have_t)) != GG_OK)
		return st;
	gg_greylist_step(p, now, &trec, have_t, &crec, have_c, res);
	if (res->write_triplet) {
		len = gg_record_triplet_encode(&trec, buf);
		if ((st = e->store->ops->put(e->store, v->key, w->klen, buf, len)) != GG_OK)
			return st;
	}
	if (res->write_client) {
		len = gg_record_client_encode(&crec, buf);
		if ((st = e->store->ops->put(e->store, w->ckey, w->cklen, buf, len)) != GG_OK)
			return st;
	}
	return GG_OK;
}

/* params - greylisting parameters from the configuration */
static void params(const struct gg_config *cfg, struct gg_greylist_params *p)
{
	p->delay = cfg->greylist_delay;
	p->retry_window = cfg->greylist_retry_window;
	p->max_age = cfg->greylist_max_age;
	p->auto_whitelist = cfg->greylist_auto_whitelist;
}

/* verdict_accept - a verdict with no objection */
static void verdict_accept(struct gg_engine *e, struct gg_verdict *v, const char *reason,
			   const char *detail)
{
	v->action = GG_ACTION_ACCEPT;
	v->reason = reason;
	if (detail != NULL)
		(void)gg_strcpy(v->detail, sizeof(v->detail), detail);
	e->stats.accepted++;
}

/*
 * score_band - apply the checks' score; returns 1 if the triplet store must
 * decide (greylist band), 0 when the verdict is final.
 */
static int score_band(struct gg_engine *e, const struct gg_score *sc, struct gg_verdict *v)
{
	enum gg_band band = gg_score_band(e->cfg, sc->total);

	v->scored = 1;
	v->score = sc->total;
	gg_score_reasons(sc, v->reasons, sizeof(v->reasons));
	switch (band) {
	case GG_BAND_REJECT:
		v->action = GG_ACTION_REJECT;
		v->reason = "score";
		gg_score_reject_text(sc, v->text, sizeof(v->text));
		e->stats.rejected++;
		return 0;
	case GG_BAND_TAG:
		v->action = GG_ACTION_TAG;
		v->reason = "score";
		snprintf(v->header, sizeof(v->header), "X-Spam-Score: %g (%s)", sc->total,
			 v->reasons[0] ? v->reasons : "no reasons");
		e->stats.tagged++;
		return 0;
	case GG_BAND_ACCEPT:
		verdict_accept(e, v, "low-score", NULL);
		return 0;
	case GG_BAND_GREYLIST:
		break;
	}
	return 1;
}

/*
 * prefilter - decisions that need neither checks nor the database: stage,
 * client address, static whitelists.  Returns 1 if the request goes on,
 * 0 when the verdict is final.  Counts nothing.
 */
static int prefilter(struct gg_engine *e, const struct gg_request *req, struct gg_addr *addr,
		     struct gg_verdict *v)
{
	const struct gg_config *cfg = e->cfg;
	const char *wl;

	/* DATA is only of interest for its Received-SPF header (spf_header). */
	if (req->stage != GG_STAGE_RCPT &&
	    !(req->stage == GG_STAGE_DATA && cfg->spf_check && cfg->spf_header)) {
		v->reason = "not-rcpt-stage";
		(void)gg_strcpy(v->detail, sizeof(v->detail), req->protocol_state);
		return 0;
	}
	if (gg_addr_parse(req->client_address, addr) != GG_OK) {
		v->reason = "bad-client-address";
		return 0;
	}
	if ((wl = gg_wlist_match_client(cfg->wl_clients, addr, req->client_name)) != NULL)
		v->reason = "whitelist-client";
	else if ((wl = gg_wlist_match_address(cfg->wl_recipients, req->recipient)) != NULL)
		v->reason = "whitelist-recipient";
	else if (req->sender[0] != '\0' &&
		 (wl = gg_wlist_match_address(cfg->wl_senders, req->sender)) != NULL)
		v->reason = "whitelist-sender";
	if (wl != NULL) {
		(void)gg_strcpy(v->detail, sizeof(v->detail), wl);
		return 0;
	}
	if (req->recipient[0] == '\0' && req->stage == GG_STAGE_RCPT) {
		v->reason = "no-recipient";
		return 0;
	}
	return 1;
}

/* gg_engine_needs_checks - would the checks' score matter for this request? */
int gg_engine_needs_checks(struct gg_engine *e, const struct gg_request *req)
{
	struct gg_verdict v;
	struct gg_addr addr;

	v.detail[0] = '\0';
	return prefilter(e, req, &addr, &v);
}

/* received_spf - the one place a Received-SPF header is built */
static void received_spf(const struct gg_engine *e, const struct gg_request *req,
			 const struct gg_score *sc, char *out, size_t size)
{
	(void)gg_score_received_spf(sc, req->client_address, req->sender, req->helo_name,
				    e->cfg->myhostname, out, size);
}

/*
 * prepare - everything that needs no database: stage, whitelists, score,
 * keys.  Returns 1 when the triplet store must decide (keys are in w), 0
 * when the verdict is already final.
 */
static int prepare(struct gg_engine *e, struct work *w, int prefiltered)
{
	const struct gg_config *cfg = e->cfg;
	const struct gg_request *req = w->req;
	const struct gg_score *sc = w->score;
	struct gg_verdict *v = w->v;
	struct gg_addr addr;
	char net[GG_ADDRESS_MAX + 8], sender[GG_ADDRESS_MAX + 1], rcpt[GG_ADDRESS_MAX + 1];

	memset(v, 0, offsetof(struct gg_verdict, text));
	v->text[0] = v->header[0] = v->received_spf[0] = v->key[0] = w->ckey[0] = '\0';
	e->stats.requests++;
	if (!(prefiltered && gg_addr_parse(req->client_address, &addr) == GG_OK) &&
	    !prefilter(e, req, &addr, v)) {
		if (strncmp(v->reason, "whitelist-", 10) == 0)
			e->stats.whitelisted++;
		verdict_accept(e, v, v->reason, NULL);
		return 0;
	}
	if (req->stage == GG_STAGE_DATA) {
		/* The RCPT stage decided; the DATA stage adds the SPF header. */
		if (sc != NULL)
			received_spf(e, req, sc, v->header, sizeof(v->header));
		verdict_accept(e, v, "data-stage", NULL);
		return 0;
	}
	if (sc != NULL && (e->received_spf == GG_RSPF_ALWAYS ||
			   (e->received_spf == GG_RSPF_SETTING && cfg->spf_check && cfg->spf_header)))
		received_spf(e, req, sc, v->received_spf, sizeof(v->received_spf));
	if (sc != NULL && !score_band(e, sc, v))
		return 0;
	if (sc != NULL && sc->spf_pass && cfg->greylist_key_spf_domain && sc->spf_domain[0] &&
	    strlen(sc->spf_domain) + 5 <= sizeof(net))
		snprintf(net, sizeof(net), "spf:%s", sc->spf_domain);
	else
		gg_triplet_client_net(&addr, (int)cfg->greylist_ipv4_prefix,
				      (int)cfg->greylist_ipv6_prefix, net, sizeof(net));
	if (gg_triplet_sender(req->sender, sender, sizeof(sender)) != GG_OK ||
	    gg_triplet_recipient(req->recipient, rcpt, sizeof(rcpt)) != GG_OK ||
	    gg_triplet_key(net, sender, rcpt, v->key, sizeof(v->key), &w->klen) != GG_OK ||
	    gg_triplet_client_key(net, w->ckey, sizeof(w->ckey), &w->cklen) != GG_OK) {
		verdict_accept(e, v, "address-too-long", NULL);
		return 0;
	}
	return 1;
}

/* db_failed - the store could not decide: on_db_error says what to answer */
static void db_failed(struct gg_engine *e, struct gg_verdict *v)
{
	e->stats.db_errors++;
	v->db_error = 1;
	(void)gg_strcpy(v->detail, sizeof(v->detail), gg_store_error(e->store));
	if (e->cfg->on_db_error_kind == GG_ON_DB_ERROR_DEFER) {
		v->action = GG_ACTION_GREYLIST;
		v->reason = "db-error";
		snprintf(v->text, sizeof(v->text), "4.3.0 Temporary failure, please try again later");
		e->stats.greylisted++;
	} else {
		verdict_accept(e, v, "db-error", NULL);
	}
}

/* finish - turn the state machine's result into the verdict */
static void finish(struct gg_engine *e, const struct gg_request *req, uint64_t now,
		   const struct gg_greylist_result *res, struct gg_verdict *v)
{
	const struct gg_config *cfg = e->cfg;

	v->reason = gg_greylist_outcome_str(res->outcome);
	if (gg_greylist_is_defer(res->outcome)) {
		v->action = GG_ACTION_GREYLIST;
		v->remaining = res->remaining;
		format_reply(cfg, req, res->remaining, v->text, sizeof(v->text));
		e->stats.greylisted++;
		return;
	}
	v->action = GG_ACTION_ACCEPT;
	e->stats.accepted++;
	if (res->outcome == GG_GL_PASS_FIRST) {
		v->delayed = res->delayed;
		if (cfg->greylist_header)
			format_header(cfg, res->delayed, now, v->header, sizeof(v->header));
	}
}

/* prefetch_keys - the keys greylist_ops() reads for w, in its order; returns how many */
static size_t prefetch_keys(const struct gg_greylist_params *p, const struct work *w,
			    const void **keys, size_t *lens)
{
	size_t k = 0;

	if (p->auto_whitelist > 0) {
		keys[k] = w->ckey;
		lens[k++] = w->cklen;
	}
	keys[k] = w->v->key;
	lens[k++] = w->klen;
	return k;
}

/*
 * prefetch - a store with server round trips (Redis) reads every key the
 * batch will read in one go, in the order greylist_ops() reads them.
 */
static void prefetch(struct gg_engine *e, const struct gg_greylist_params *p,
		     const struct work *w, size_t n)
{
	const void **keys;
	size_t *lens, k = 0;

	if (!gg_store_can_prefetch(e->store) || (keys = calloc(2 * n, sizeof(*keys))) == NULL)
		return;
	if ((lens = calloc(2 * n, sizeof(*lens))) == NULL) {
		free(keys);
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (w[i].pending)
			k += prefetch_keys(p, &w[i], keys + k, lens + k);
	gg_store_prefetch(e->store, k, (const void *const *)keys, lens);
	free(keys);
	free(lens);
}

/* decide_alone - one request in its own transaction, retried on deadlock */
static void decide_alone(struct gg_engine *e, struct work *w, uint64_t now)
{
	struct gg_greylist_params p;
	enum gg_status st = GG_OK;

	params(e->cfg, &p);
	for (int attempt = 0; attempt < DEADLOCK_RETRIES; attempt++) {
		if ((st = gg_store_begin(e->store)) != GG_OK)
			continue;
		if (gg_store_can_prefetch(e->store)) {
			const void *keys[2];
			size_t lens[2], k = prefetch_keys(&p, w, keys, lens);
			gg_store_prefetch(e->store, k, keys, lens);
		}
		if ((st = greylist_ops(e, &p, now, w)) == GG_OK &&
		    (st = gg_store_commit(e->store)) == GG_OK) {
			e->stats.commits++;
			break;
		}
		gg_store_abort(e->store);
	}
	if (st != GG_OK)
		db_failed(e, w->v);
	else
		finish(e, w->req, now, &w->res, w->v);
}

/* work_init - the engine's working state for one request */
static void work_init(struct work *w, const struct gg_request *req, const struct gg_score *score,
		      struct gg_verdict *v)
{
	w->req = req;
	w->score = score;
	w->v = v;
	w->pending = 0;
}

/* gg_engine_eval - decide one request */
void gg_engine_eval(struct gg_engine *e, const struct gg_request *req, const struct gg_score *score,
		    uint64_t now, struct gg_verdict *v)
{
	struct work w;

	work_init(&w, req, score, v);
	if (prepare(e, &w, 0))
		decide_alone(e, &w, now);
}

/* gg_engine_eval_batch - decide n requests with one commit */
void gg_engine_eval_batch(struct gg_engine *e, const struct gg_engine_item *items, size_t n,
			  uint64_t now)
{
	struct gg_greylist_params p;
	struct work *w;
	enum gg_status st;
	size_t i, ndb = 0;

	if (n == 0)
		return;
	if ((w = malloc(n * sizeof(*w))) == NULL) {
		/* No room to hold the batch: each request in its own transaction. */
		struct work one;
		for (i = 0; i < n; i++) {
			work_init(&one, items[i].req, items[i].score, items[i].verdict);
			if (prepare(e, &one, items[i].prefiltered))
				decide_alone(e, &one, now);
		}
		return;
	}
	for (i = 0; i < n; i++) {
		work_init(&w[i], items[i].req, items[i].score, items[i].verdict);
		w[i].pending = prepare(e, &w[i], items[i].prefiltered);
		ndb += (size_t)w[i].pending;
	}
	if (ndb == 0)
		goto out;
	params(e->cfg, &p);
	if ((st = gg_store_begin(e->store)) == GG_OK) {
		prefetch(e, &p, w, n);
		for (i = 0; i < n && st == GG_OK; i++)
			if (w[i].pending)
				st = greylist_ops(e, &p, now, &w[i]);
		if (st == GG_OK) {
			if ((st = gg_store_commit(e->store)) == GG_OK)
				e->stats.commits++;
		} else {
			gg_store_abort(e->store);
		}
	}
	for (i = 0; i < n; i++) {
		if (!w[i].pending)
			continue;
		/* The batch was rolled back as a whole: decide each on its own. */
		if (st != GG_OK)
			decide_alone(e, &w[i], now);
		else
			finish(e, w[i].req, now, &w[i].res, w[i].v);
	}
out:
	free(w);
}

/* gg_engine_explain - the read-only twin of gg_engine_eval */
enum gg_status gg_engine_explain(struct gg_engine *e, const struct gg_request *req,
				 const struct gg_score *score, uint64_t now, struct gg_explain *x)
{
	struct gg_greylist_params p;
	struct gg_greylist_result res;
	struct gg_triplet_rec t;
	struct gg_client_rec c;
	struct work w;
	uint8_t buf[GG_RECORD_MAX];
	size_t len;
	enum gg_status st;

	x->have_triplet = x->have_client = x->trusted_client = 0;
	x->client_key[0] = '\0';
	work_init(&w, req, score, &x->verdict);
	if (!prepare(e, &w, 0))
		return GG_OK;
	(void)gg_strcpy(x->client_key, sizeof(x->client_key), w.ckey);
	if (e->store == NULL) {
		/* No database to ask: say which band it is and stop there. */
		x->verdict.action = GG_ACTION_GREYLIST;
		x->verdict.reason = "greylist-band";
		return GG_OK;
	}
	st = e->store->ops->get(e->store, w.ckey, w.cklen, buf, sizeof(buf), &len);
	if (st == GG_OK && gg_record_client_decode(buf, len, &x->client) == GG_OK)
		x->have_client = 1;
	else if (st != GG_OK && st != GG_NOTFOUND && st != GG_EFORMAT)
		return st;
	st = e->store->ops->get(e->store, x->verdict.key, w.klen, buf, sizeof(buf), &len);
	if (st == GG_OK && gg_record_triplet_decode(buf, len, &x->triplet) == GG_OK)
		x->have_triplet = 1;
	else if (st != GG_OK && st != GG_NOTFOUND && st != GG_EFORMAT)
		return st;
	params(e->cfg, &p);
	t = x->triplet;
	c = x->client;
	gg_greylist_step(&p, now, &t, x->have_triplet, &c, x->have_client, &res);
	x->trusted_client = res.outcome == GG_GL_PASS_AWL;
	finish(e, req, now, &res, &x->verdict);
	return GG_OK;
}

/*
 * engine.c - verdicts: whitelists, then greylisting (see engine.h)
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "util.h"
#include "wlist.h"

#define DEADLOCK_RETRIES 3

/* gg_engine_init - bind configuration and store */
void gg_engine_init(struct gg_engine *e, const struct gg_config *cfg, struct gg_store *store)
{
	memset(e, 0, sizeof(*e));
	e->cfg = cfg;
	e->store = store;
}

const char *gg_engine_action_str(enum gg_action a)
{
	switch (a) {
	case GG_ACTION_ACCEPT:		return "accept";
	case GG_ACTION_GREYLIST:	return "greylist";
	case GG_ACTION_TAG:		return "tag";
	case GG_ACTION_REJECT:		return "reject";
	}
	return "unknown";
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

/* greylist_txn - one attempt at the read-decide-write transaction */
static enum gg_status greylist_txn(struct gg_engine *e, const struct gg_greylist_params *p,
				   uint64_t now, const char *tkey, size_t tklen,
				   const char *ckey, size_t cklen, struct gg_greylist_result *res)
{
	struct gg_triplet_rec trec;
	struct gg_client_rec crec;
	uint8_t buf[GG_RECORD_MAX];
	size_t len;
	int have_t = 0, have_c = 0;
	enum gg_status st;

	memset(&trec, 0, sizeof(trec));
	memset(&crec, 0, sizeof(crec));
	if ((st = gg_store_begin(e->store)) != GG_OK)
		return st;
	if (p->auto_whitelist > 0) {
		st = read_rec(e, ckey, cklen, buf, &len);
		if (st == GG_OK) {
			if (gg_record_client_decode(buf, len, &crec) == GG_OK) {
				have_c = 1;
			} else {
				e->stats.corrupt_records++;
				if ((st = e->store->ops->del(e->store, ckey, cklen)) != GG_OK)
					goto fail;
			}
		} else if (st != GG_NOTFOUND) {
			goto fail;
		}
	}
	st = read_rec(e, tkey, tklen, buf, &len);
	if (st == GG_OK) {
		if (gg_record_triplet_decode(buf, len, &trec) == GG_OK) {
			have_t = 1;
		} else {
			e->stats.corrupt_records++;
			if ((st = e->store->ops->del(e->store, tkey, tklen)) != GG_OK)
				goto fail;
		}
	} else if (st != GG_NOTFOUND) {
		goto fail;
	}
	gg_greylist_step(p, now, &trec, have_t, &crec, have_c, res);
	if (res->write_triplet) {
		len = gg_record_triplet_encode(&trec, buf);
		if ((st = e->store->ops->put(e->store, tkey, tklen, buf, len)) != GG_OK)
			goto fail;
	}
	if (res->write_client) {
		len = gg_record_client_encode(&crec, buf);
		if ((st = e->store->ops->put(e->store, ckey, cklen, buf, len)) != GG_OK)
			goto fail;
	}
	return gg_store_commit(e->store);
fail:
	gg_store_abort(e->store);
	return st;
}

/* verdict_accept - a verdict with no objection */
static void verdict_accept(struct gg_engine *e, struct gg_verdict *v, const char *reason, const char *detail)
{
	v->action = GG_ACTION_ACCEPT;
	v->reason = reason;
	if (detail != NULL)
		(void)gg_strcpy(v->detail, sizeof(v->detail), detail);
	e->stats.accepted++;
}

/* gg_engine_eval - decide one request */
void gg_engine_eval(struct gg_engine *e, const struct gg_request *req, uint64_t now,
		    struct gg_verdict *v)
{
	const struct gg_config *cfg = e->cfg;
	struct gg_greylist_params p;
	struct gg_greylist_result res;
	struct gg_addr addr;
	char net[GG_ADDR_STRLEN], sender[GG_ADDRESS_MAX + 1], rcpt[GG_ADDRESS_MAX + 1];
	char ckey[GG_KEY_MAX];
	size_t tklen, cklen;
	const char *wl;
	enum gg_status st = GG_OK;

	memset(v, 0, sizeof(*v));
	e->stats.requests++;
	if (req->stage != GG_STAGE_RCPT) {
		verdict_accept(e, v, "not-rcpt-stage", req->protocol_state);
		return;
	}
	if (gg_addr_parse(req->client_address, &addr) != GG_OK) {
		verdict_accept(e, v, "bad-client-address", NULL);
		return;
	}
	if ((wl = gg_wlist_match_client(cfg->wl_clients, &addr, req->client_name)) != NULL) {
		e->stats.whitelisted++;
		verdict_accept(e, v, "whitelist-client", wl);
		return;
	}
	if ((wl = gg_wlist_match_address(cfg->wl_recipients, req->recipient)) != NULL) {
		e->stats.whitelisted++;
		verdict_accept(e, v, "whitelist-recipient", wl);
		return;
	}
	if (req->sender[0] != '\0' &&
	    (wl = gg_wlist_match_address(cfg->wl_senders, req->sender)) != NULL) {
		e->stats.whitelisted++;
		verdict_accept(e, v, "whitelist-sender", wl);
		return;
	}
	if (req->recipient[0] == '\0') {
		verdict_accept(e, v, "no-recipient", NULL);
		return;
	}
	gg_triplet_client_net(&addr, (int)cfg->greylist_ipv4_prefix, (int)cfg->greylist_ipv6_prefix,
			      net, sizeof(net));
	if (gg_triplet_sender(req->sender, sender, sizeof(sender)) != GG_OK ||
	    gg_triplet_recipient(req->recipient, rcpt, sizeof(rcpt)) != GG_OK ||
	    gg_triplet_key(net, sender, rcpt, v->key, sizeof(v->key), &tklen) != GG_OK ||
	    gg_triplet_client_key(net, ckey, sizeof(ckey), &cklen) != GG_OK) {
		verdict_accept(e, v, "address-too-long", NULL);
		return;
	}
	p.delay = cfg->greylist_delay;
	p.retry_window = cfg->greylist_retry_window;
	p.max_age = cfg->greylist_max_age;
	p.auto_whitelist = cfg->greylist_auto_whitelist;
	for (int attempt = 0; attempt < DEADLOCK_RETRIES; attempt++) {
		st = greylist_txn(e, &p, now, v->key, tklen, ckey, cklen, &res);
		if (st == GG_OK)
			break;
	}
	if (st != GG_OK) {
		e->stats.db_errors++;
		v->db_error = 1;
		(void)gg_strcpy(v->detail, sizeof(v->detail), gg_store_error(e->store));
		if (strcmp(cfg->on_db_error, "defer") == 0) {
			v->action = GG_ACTION_GREYLIST;
			v->reason = "db-error";
			snprintf(v->text, sizeof(v->text), "4.3.0 Temporary failure, please try again later");
			e->stats.greylisted++;
		} else {
			verdict_accept(e, v, "db-error", NULL);
		}
		return;
	}
	v->reason = gg_greylist_outcome_str(res.outcome);
	if (gg_greylist_is_defer(res.outcome)) {
		v->action = GG_ACTION_GREYLIST;
		v->remaining = res.remaining;
		format_reply(cfg, req, res.remaining, v->text, sizeof(v->text));
		e->stats.greylisted++;
		return;
	}
	v->action = GG_ACTION_ACCEPT;
	e->stats.accepted++;
	if (res.outcome == GG_GL_PASS_FIRST) {
		v->delayed = res.delayed;
		if (cfg->greylist_header)
			format_header(cfg, res.delayed, now, v->header, sizeof(v->header));
	}
}

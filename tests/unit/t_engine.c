/*
 * t_engine.c - unit tests for engine/engine.c: gg_engine_eval() over a
 * real Berkeley DB store in a private directory, with a configuration
 * built through gg_config_new/gg_config_set/gg_config_finish, plus a
 * failing test store for on_db_error
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "engine/config.h"
#include "engine/engine.h"
#include "store/record.h"
#include "store/store.h"
#include "store/store_bdb.h"
#include "engine/triplet.h"
#include "lib/util.h"

#define T0 1700000000ULL	/* Tue, 14 Nov 2023 22:13:20 +0000 */

struct fx {
	char *dir;
	struct gg_store *store;
	struct gg_config *cfg;
	struct gg_engine e;
	struct gg_verdict v;
	const void *row;	/* the table row of a table-driven test */
};

/* Settings every engine test shares; a test may add its own before finish. */
static const char *const base_settings[][2] = {
	{ "greylist_delay", "300s" },
	{ "greylist_retry_window", "2d" },
	{ "greylist_max_age", "35d" },
	{ "greylist_auto_whitelist", "0" },
	{ "myhostname", "mx.test" },
	{ "whitelist_clients", "198.51.100.0/24 .trusted.example /^relay[0-9]+\\.partner\\.example$/" },
	{ "whitelist_senders", "@friends.example" },
	{ "whitelist_recipients", "postmaster@ abuse@example.com" },
};

static void cfg_set(struct fx *f, const char *name, const char *value)
{
	char err[512] = "";

	if (gg_config_set(f->cfg, name, value, "test", err, sizeof(err)) != GG_OK)
		fail_msg("%s", err);
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[512] = "", *dbdir;

	if (f == NULL)
		return -1;
	f->dir = tu_mkdtemp();
	dbdir = tu_subst("@@/db", f->dir);
	if (gg_store_bdb_open(dbdir, 1, &f->store, err, sizeof(err)) != GG_OK) {
		fprintf(stderr, "store: %s\n", err);
		free(dbdir);
		return -1;
	}
	free(dbdir);
	if ((f->cfg = gg_config_new()) == NULL)
		return -1;
	for (size_t i = 0; i < GG_ARRAY_LEN(base_settings); i++)
		if (gg_config_set(f->cfg, base_settings[i][0], base_settings[i][1], "test", err,
				  sizeof(err)) != GG_OK) {
			fprintf(stderr, "config: %s\n", err);
			return -1;
		}
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	gg_store_close(f->store);
	gg_config_free(f->cfg);
	tu_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* finish - check the configuration and bind the engine */
static void finish(struct fx *f)
{
	char err[512] = "";

	if (gg_config_finish(f->cfg, err, sizeof(err)) != GG_OK)
		fail_msg("gg_config_finish: %s", err);
	gg_engine_init(&f->e, f->cfg, f->store);
}

/* eval - one request at T0 + at */
static const struct gg_verdict *eval(struct fx *f, const char *state_, const char *client,
				     const char *name, const char *sender, const char *rcpt, long at)
{
	struct gg_request r;

	gg_request_init(&r);
	if (state_)
		(void)gg_request_set(&r, GG_RF_PROTOCOL_STATE, state_, strlen(state_));
	if (client)
		(void)gg_request_set(&r, GG_RF_CLIENT_ADDRESS, client, strlen(client));
	if (name)
		(void)gg_request_set(&r, GG_RF_CLIENT_NAME, name, strlen(name));
	if (sender)
		(void)gg_request_set(&r, GG_RF_SENDER, sender, strlen(sender));
	if (rcpt)
		(void)gg_request_set(&r, GG_RF_RECIPIENT, rcpt, strlen(rcpt));
	gg_engine_eval(&f->e, &r, NULL, (uint64_t)((long long)T0 + at), &f->v);
	return &f->v;
}

static const struct gg_verdict *rcpt(struct fx *f, const char *client, const char *sender,
				     const char *to, long at)
{
	return eval(f, "RCPT", client, "unknown", sender, to, at);
}

/* assert_verdict - action and reason, with a readable failure (evaluates v once) */
#define assert_verdict(v, act, why) check_verdict((v), (act), (why), __FILE__, __LINE__)
static void check_verdict(const struct gg_verdict *v, enum gg_action act, const char *why,
			  const char *file, int line)
{
	if (v->action != act || strcmp(v->reason ? v->reason : "(null)", why) != 0) {
		print_error("verdict %s/%s (%s), expected %s/%s\n", gg_engine_action_str(v->action),
			    v->reason ? v->reason : "(null)", v->detail, gg_engine_action_str(act), why);
		_fail(file, line);
	}
}

static size_t store_records(struct gg_store *s)
{
	struct gg_expire_stats st;
	int done = 0;

	/* A walk that expires nothing counts what is there. */
	memset(&st, 0, sizeof(st));
	while (!done)
		assert_int_equal(s->ops->expire_slice(s, 0, 1000, &st, &done), GG_OK);
	return st.examined;
}

/* Stages and whitelists */

static void test_not_rcpt(void **state)
{
	static const char *stages[] = { "CONNECT", "EHLO", "MAIL", "DATA", "END-OF-MESSAGE", "VRFY", NULL };
	struct fx *f = *state;

	finish(f);
	for (size_t i = 0; i < GG_ARRAY_LEN(stages); i++) {
		const struct gg_verdict *v = eval(f, stages[i], "192.0.2.1", "unknown", "a@example.org",
						  "b@example.com", 0);
		assert_verdict(v, GG_ACTION_ACCEPT, "not-rcpt-stage");
		assert_string_equal(v->key, "");
		assert_string_equal(v->text, "");
	}
	assert_int_equal(store_records(f->store), 0);	/* nothing stored */
	assert_int_equal(f->e.stats.requests, GG_ARRAY_LEN(stages));
	assert_int_equal(f->e.stats.accepted, GG_ARRAY_LEN(stages));
}

struct wl_case {
	const char *label;
	const char *client, *name, *sender, *rcpt;
	const char *reason, *detail;
};

static const struct wl_case wl_cases[] = {
	{ "client network", "198.51.100.77", "unknown", "a@example.org", "b@example.com",
	  "whitelist-client", "198.51.100.0/24" },
	{ "client name suffix", "192.0.2.1", "mx1.trusted.example", "a@example.org", "b@example.com",
	  "whitelist-client", ".trusted.example" },
	{ "client name regex", "192.0.2.1", "relay12.partner.example", "a@example.org", "b@example.com",
	  "whitelist-client", "/^relay[0-9]+\\.partner\\.example$/" },
	{ "mapped client address", "::ffff:198.51.100.9", "unknown", "a@example.org", "b@example.com",
	  "whitelist-client", "198.51.100.0/24" },
	{ "recipient local part", "192.0.2.1", "unknown", "a@example.org", "Postmaster@example.com",
	  "whitelist-recipient", "postmaster@" },
	{ "recipient address", "192.0.2.1", "unknown", "a@example.org", "abuse@example.com",
	  "whitelist-recipient", "abuse@example.com" },
	{ "recipient wins for the null sender too", "192.0.2.1", "unknown", "", "postmaster@x.example",
	  "whitelist-recipient", "postmaster@" },
	{ "sender domain", "192.0.2.1", "unknown", "news@Friends.Example", "b@example.com",
	  "whitelist-sender", "@friends.example" },
};

static void test_whitelist(void **state)
{
	struct fx *f = *state;
	const struct wl_case *c = f->row;
	const struct gg_verdict *v;

	finish(f);
	v = eval(f, "RCPT", c->client, c->name, c->sender, c->rcpt, 0);
	assert_verdict(v, GG_ACTION_ACCEPT, c->reason);
	assert_string_equal(v->detail, c->detail);
	assert_string_equal(v->text, "");
	assert_int_equal(store_records(f->store), 0);
	assert_int_equal(f->e.stats.whitelisted, 1);
}

/* Greylisting through the store */

static void test_new_then_pass(void **state)
{
	struct fx *f = *state;
	const struct gg_verdict *v;
	const char *key = "t/192.0.2.0/24/alice@example.org/bob@example.com";

	cfg_set(f, "greylist_reply", "Greylisted for %s seconds (delay %d) at %h: %c <%f> <%r> 100%%");
	finish(f);

	v = rcpt(f, "192.0.2.7", "Alice@Example.ORG", "Bob@Example.COM", 0);
	assert_verdict(v, GG_ACTION_GREYLIST, "new");
	assert_int_equal(v->remaining, 300);
	assert_string_equal(v->text, "4.7.1 Greylisted for 300 seconds (delay 300) at mx.test: "
			    "192.0.2.7 <Alice@Example.ORG> <Bob@Example.COM> 100%");
	assert_string_equal(v->key, key);
	assert_string_equal(v->header, "");
	assert_false(v->db_error);

	v = rcpt(f, "192.0.2.7", "alice@example.org", "bob@example.com", 60);
	assert_verdict(v, GG_ACTION_GREYLIST, "early-retry");
	assert_int_equal(v->remaining, 240);
	tu_assert_contains(v->text, "Greylisted for 240 seconds");

	/* The retry comes from another host of the same /24. */
	v = rcpt(f, "192.0.2.200", "alice@example.org", "bob@example.com", 300);
	assert_verdict(v, GG_ACTION_ACCEPT, "delay-passed");
	assert_int_equal(v->delayed, 300);
	assert_string_equal(v->text, "");
	assert_string_equal(v->header, "X-Greylist: delayed 300 seconds by greygate at mx.test; "
			    "Tue, 14 Nov 2023 22:18:20 +0000");

	v = rcpt(f, "192.0.2.7", "alice@example.org", "bob@example.com", 3600);
	assert_verdict(v, GG_ACTION_ACCEPT, "known");
	assert_int_equal(v->delayed, 0);
	assert_string_equal(v->header, "");

	assert_int_equal(f->e.stats.requests, 4);
	assert_int_equal(f->e.stats.greylisted, 2);
	assert_int_equal(f->e.stats.accepted, 2);
	assert_int_equal(store_records(f->store), 1);
}

static void test_null_sender_reply(void **state)
{
	struct fx *f = *state;
	const struct gg_verdict *v;

	cfg_set(f, "greylist_reply", "from <%f> to <%r>, retry in %s s");
	finish(f);
	v = rcpt(f, "192.0.2.7", "", "bob@example.com", 0);
	assert_verdict(v, GG_ACTION_GREYLIST, "new");
	assert_string_equal(v->text, "4.7.1 from <<>> to <bob@example.com>, retry in 300 s");
	assert_string_equal(v->key, "t/192.0.2.0/24//bob@example.com");
}

static void test_default_reply(void **state)
{
	struct fx *f = *state;
	const struct gg_verdict *v;

	finish(f);
	v = rcpt(f, "192.0.2.7", "a@example.org", "b@example.com", 0);
	assert_string_equal(v->text, "4.7.1 Greylisted, please try again in 300 seconds");
}

static void test_no_header_when_off(void **state)
{
	struct fx *f = *state;
	const struct gg_verdict *v;

	cfg_set(f, "greylist_header", "no");
	finish(f);
	rcpt(f, "192.0.2.7", "a@example.org", "b@example.com", 0);
	v = rcpt(f, "192.0.2.7", "a@example.org", "b@example.com", 400);
	assert_verdict(v, GG_ACTION_ACCEPT, "delay-passed");
	assert_int_equal(v->delayed, 400);
	assert_string_equal(v->header, "");
}

static void test_networks(void **state)
{
	struct fx *f = *state;
	const struct gg_verdict *v;

	finish(f);
	rcpt(f, "192.0.2.7", "a@example.org", "b@example.com", 0);
	assert_verdict(rcpt(f, "192.0.2.7", "a@example.org", "b@example.com", 300), GG_ACTION_ACCEPT,
		       "delay-passed");
	/* Same /24: known. */
	assert_verdict(rcpt(f, "192.0.2.250", "a@example.org", "b@example.com", 400), GG_ACTION_ACCEPT,
		       "known");
	assert_verdict(rcpt(f, "::ffff:192.0.2.1", "a@example.org", "b@example.com", 410),
		       GG_ACTION_ACCEPT, "known");
	/* The next /24 is another client. */
	v = rcpt(f, "192.0.3.7", "a@example.org", "b@example.com", 500);
	assert_verdict(v, GG_ACTION_GREYLIST, "new");
	assert_string_equal(v->key, "t/192.0.3.0/24/a@example.org/b@example.com");
	/* Other sender or recipient: other triplets. */
	assert_verdict(rcpt(f, "192.0.2.7", "x@example.org", "b@example.com", 600), GG_ACTION_GREYLIST,
		       "new");
	assert_verdict(rcpt(f, "192.0.2.7", "a@example.org", "c@example.com", 600), GG_ACTION_GREYLIST,
		       "new");
}

static void test_ipv6_64(void **state)
{
	struct fx *f = *state;
	const struct gg_verdict *v;

	finish(f);
	v = rcpt(f, "2001:db8:1:2::10", "a@example.org", "b@example.com", 0);
	assert_verdict(v, GG_ACTION_GREYLIST, "new");
	assert_string_equal(v->key, "t/2001:db8:1:2::/64/a@example.org/b@example.com");
	v = rcpt(f, "2001:db8:1:2:ffff:ffff:ffff:fffe", "a@example.org", "b@example.com", 300);
	assert_verdict(v, GG_ACTION_ACCEPT, "delay-passed");
	v = rcpt(f, "2001:db8:1:3::10", "a@example.org", "b@example.com", 400);
	assert_verdict(v, GG_ACTION_GREYLIST, "new");
	assert_string_equal(v->key, "t/2001:db8:1:3::/64/a@example.org/b@example.com");
}

static void test_prefix_settings(void **state)
{
	struct fx *f = *state;
	const struct gg_verdict *v;

	cfg_set(f, "greylist_ipv4_prefix", "32");
	cfg_set(f, "greylist_ipv6_prefix", "48");
	finish(f);
	v = rcpt(f, "192.0.2.7", "a@example.org", "b@example.com", 0);
	assert_string_equal(v->key, "t/192.0.2.7/32/a@example.org/b@example.com");
	v = rcpt(f, "2001:db8:1:2::10", "a@example.org", "b@example.com", 0);
	assert_string_equal(v->key, "t/2001:db8:1::/48/a@example.org/b@example.com");
}

static void test_sender_normalised(void **state)
{
	struct fx *f = *state;

	finish(f);
	assert_verdict(rcpt(f, "192.0.2.7", "prvs=1234abcdef=alice@example.org", "b@example.com", 0),
		       GG_ACTION_GREYLIST, "new");
	/* The retry carries a new BATV tag and a VERP extension. */
	assert_verdict(rcpt(f, "192.0.2.8", "prvs=9876fedcba=Alice+x@Example.org", "B@example.com", 300),
		       GG_ACTION_ACCEPT, "delay-passed");
}

static void test_retry_window_and_max_age(void **state)
{
	struct fx *f = *state;

	finish(f);
	rcpt(f, "192.0.2.7", "a@example.org", "b@example.com", 0);
	assert_verdict(rcpt(f, "192.0.2.7", "a@example.org", "b@example.com", 2 * 86400 + 1),
		       GG_ACTION_GREYLIST, "new");
	assert_verdict(rcpt(f, "192.0.2.7", "a@example.org", "b@example.com", 2 * 86400 + 301),
		       GG_ACTION_ACCEPT, "delay-passed");
	assert_verdict(rcpt(f, "192.0.2.7", "a@example.org", "b@example.com", 2 * 86400 + 302 + 35 * 86400),
		       GG_ACTION_GREYLIST, "new");
}

static void test_auto_whitelist(void **state)
{
	struct fx *f = *state;
	const struct gg_verdict *v;

	cfg_set(f, "greylist_auto_whitelist", "2");
	finish(f);
	rcpt(f, "192.0.2.7", "a@example.org", "r1@example.com", 0);
	rcpt(f, "192.0.2.7", "a@example.org", "r1@example.com", 300);		/* counted: 1 */
	rcpt(f, "192.0.2.7", "a@example.org", "r2@example.com", 3600);
	assert_verdict(rcpt(f, "192.0.2.7", "a@example.org", "r2@example.com", 3900), GG_ACTION_ACCEPT,
		       "delay-passed");					/* counted: 2 */
	v = rcpt(f, "192.0.2.99", "new@example.net", "r3@example.com", 4000);
	assert_verdict(v, GG_ACTION_ACCEPT, "auto-whitelist");
	assert_string_equal(v->text, "");
	/* Another network is not trusted. */
	assert_verdict(rcpt(f, "192.0.3.1", "new@example.net", "r3@example.com", 4000),
		       GG_ACTION_GREYLIST, "new");
}

static void test_no_recipient_and_bad_client(void **state)
{
	struct fx *f = *state;

	finish(f);
	assert_verdict(rcpt(f, "192.0.2.7", "a@example.org", "", 0), GG_ACTION_ACCEPT, "no-recipient");
	assert_verdict(rcpt(f, "unknown", "a@example.org", "b@example.com", 0), GG_ACTION_ACCEPT,
		       "bad-client-address");
	assert_verdict(rcpt(f, NULL, "a@example.org", "b@example.com", 0), GG_ACTION_ACCEPT,
		       "bad-client-address");
	assert_int_equal(store_records(f->store), 0);
}

/* Corrupt records in the store */

static void put_raw(struct gg_store *s, const char *key, const void *val, size_t len)
{
	assert_int_equal(gg_store_begin(s), GG_OK);
	assert_int_equal(s->ops->put(s, key, strlen(key), val, len), GG_OK);
	assert_int_equal(gg_store_commit(s), GG_OK);
}

static void check_fresh_triplet(struct gg_store *s, const char *key, uint64_t now)
{
	uint8_t buf[GG_RECORD_MAX];
	size_t n;
	struct gg_triplet_rec r;

	assert_int_equal(gg_store_begin(s), GG_OK);
	assert_int_equal(s->ops->get(s, key, strlen(key), buf, sizeof(buf), &n), GG_OK);
	assert_int_equal(gg_store_commit(s), GG_OK);
	assert_int_equal(gg_record_triplet_decode(buf, n, &r), GG_OK);
	assert_true(r.first_seen == now);
	assert_true(r.passed_at == 0);
}

struct junk_case {
	const char *label;
	const uint8_t *val;
	size_t len;
};

static const uint8_t junk_big[200] = { 'T', 1 };
static const uint8_t junk_version[GG_TRIPLET_REC_V1_LEN] = { 'T', 7 };
static const uint8_t junk_client_tag[GG_CLIENT_REC_V1_LEN] = { 'C', 1, 0, 0, 0, 0, 0, 0, 0, 1,
	0, 0, 0, 0, 0, 0, 0, 1 };

static const struct junk_case junk_cases[] = {
	{ "text", (const uint8_t *)"not a record", 12 },
	{ "empty value", (const uint8_t *)"", 0 },
	{ "unknown version", junk_version, sizeof(junk_version) },
	{ "a client record under a triplet key", junk_client_tag, sizeof(junk_client_tag) },
	{ "oversized value", junk_big, sizeof(junk_big) },
};

static void test_corrupt_triplet(void **state)
{
	struct fx *f = *state;
	const struct junk_case *c = f->row;
	const char *key = "t/192.0.2.0/24/a@example.org/b@example.com";
	const struct gg_verdict *v;

	finish(f);
	put_raw(f->store, key, c->val, c->len);
	v = rcpt(f, "192.0.2.7", "a@example.org", "b@example.com", 0);
	assert_verdict(v, GG_ACTION_GREYLIST, "new");
	assert_false(v->db_error);
	assert_true(f->e.stats.corrupt_records >= 1);
	/* The junk was replaced by a fresh record. */
	check_fresh_triplet(f->store, key, T0);
	assert_verdict(rcpt(f, "192.0.2.7", "a@example.org", "b@example.com", 300), GG_ACTION_ACCEPT,
		       "delay-passed");
}

static void test_corrupt_client(void **state)
{
	struct fx *f = *state;
	const struct gg_verdict *v;

	cfg_set(f, "greylist_auto_whitelist", "1");
	finish(f);
	put_raw(f->store, "c/192.0.2.0/24", "junk", 4);
	v = rcpt(f, "192.0.2.7", "a@example.org", "b@example.com", 0);
	assert_verdict(v, GG_ACTION_GREYLIST, "new");
	assert_int_equal(f->e.stats.corrupt_records, 1);
	assert_verdict(rcpt(f, "192.0.2.7", "a@example.org", "b@example.com", 300), GG_ACTION_ACCEPT,
		       "delay-passed");
	/* The client record was rebuilt: one pass trusts it now. */
	assert_verdict(rcpt(f, "192.0.2.7", "z@example.org", "y@example.com", 400), GG_ACTION_ACCEPT,
		       "auto-whitelist");
}

/* A store that fails on demand, for on_db_error */

struct fail_store {
	struct gg_store base;
	int fail_get, fail_put, fail_commit, fail_begin;	/* failures left to inject */
	int begins, commits, aborts, in_txn;
};

static enum gg_status fs_fail(struct fail_store *fs, const char *what)
{
	snprintf(fs->base.error, sizeof(fs->base.error), "%s: injected failure", what);
	return GG_EDB;
}

static enum gg_status fs_begin(struct gg_store *s)
{
	struct fail_store *fs = (struct fail_store *)s;

	fs->begins++;
	if (fs->fail_begin > 0 && fs->fail_begin--)
		return fs_fail(fs, "begin");
	fs->in_txn = 1;
	return GG_OK;
}

static enum gg_status fs_commit(struct gg_store *s)
{
	struct fail_store *fs = (struct fail_store *)s;

	fs->commits++;
	fs->in_txn = 0;
	if (fs->fail_commit > 0 && fs->fail_commit--)
		return fs_fail(fs, "commit");
	return GG_OK;
}

static void fs_abort(struct gg_store *s)
{
	struct fail_store *fs = (struct fail_store *)s;

	fs->aborts++;
	fs->in_txn = 0;
}

static enum gg_status fs_get(struct gg_store *s, const void *k, size_t kl, void *v, size_t vs, size_t *vl)
{
	struct fail_store *fs = (struct fail_store *)s;

	(void)k; (void)kl; (void)v; (void)vs; (void)vl;
	if (fs->fail_get > 0 && fs->fail_get--)
		return fs_fail(fs, "get");
	return GG_NOTFOUND;
}

static enum gg_status fs_put(struct gg_store *s, const void *k, size_t kl, const void *v, size_t vl)
{
	struct fail_store *fs = (struct fail_store *)s;

	(void)k; (void)kl; (void)v; (void)vl;
	if (fs->fail_put > 0 && fs->fail_put--)
		return fs_fail(fs, "put");
	return GG_OK;
}

static enum gg_status fs_del(struct gg_store *s, const void *k, size_t kl)
{
	(void)s; (void)k; (void)kl;
	return GG_NOTFOUND;
}

static const struct gg_store_ops fail_ops = {
	.name = "fail", .begin = fs_begin, .commit = fs_commit, .abort = fs_abort, .get = fs_get,
	.put = fs_put, .del = fs_del,
};

struct dberr_case {
	const char *label;
	const char *on_db_error;
	int fail_get, fail_put, fail_commit, fail_begin;
	enum gg_action action;
	const char *reason;
	const char *detail;	/* substring, or NULL when no error is expected */
};

static const struct dberr_case dberr_cases[] = {
	{ "get fails, dunno: accept", "dunno", 99, 0, 0, 0, GG_ACTION_ACCEPT, "db-error", "get: injected" },
	{ "get fails, defer: 4.3.0", "defer", 99, 0, 0, 0, GG_ACTION_GREYLIST, "db-error", "get: injected" },
	{ "put fails, dunno: accept", "dunno", 0, 99, 0, 0, GG_ACTION_ACCEPT, "db-error", "put: injected" },
	{ "commit fails, defer", "defer", 0, 0, 99, 0, GG_ACTION_GREYLIST, "db-error", "commit: injected" },
	{ "begin fails, dunno", "dunno", 0, 0, 0, 99, GG_ACTION_ACCEPT, "db-error", "begin: injected" },
	{ "one transient failure is retried", "defer", 1, 0, 0, 0, GG_ACTION_GREYLIST, "new", NULL },
	{ "two transient failures are retried", "defer", 0, 2, 0, 0, GG_ACTION_GREYLIST, "new", NULL },
};

static void test_db_error(void **state)
{
	struct fx *f = *state;
	const struct dberr_case *c = f->row;
	struct fail_store fs;
	const struct gg_verdict *v;

	memset(&fs, 0, sizeof(fs));
	fs.base.ops = &fail_ops;
	fs.fail_get = c->fail_get;
	fs.fail_put = c->fail_put;
	fs.fail_commit = c->fail_commit;
	fs.fail_begin = c->fail_begin;
	cfg_set(f, "on_db_error", c->on_db_error);
	finish(f);
	gg_engine_init(&f->e, f->cfg, &fs.base);
	v = rcpt(f, "192.0.2.7", "a@example.org", "b@example.com", 0);
	assert_verdict(v, c->action, c->reason);
	if (c->detail != NULL) {
		assert_true(v->db_error);
		tu_assert_contains(v->detail, c->detail);
		assert_int_equal(f->e.stats.db_errors, 1);
		if (c->action == GG_ACTION_GREYLIST)
			assert_string_equal(v->text, "4.3.0 Temporary failure, please try again later");
	} else {
		assert_false(v->db_error);
		assert_int_equal(f->e.stats.db_errors, 0);
	}
	/* Whatever happened, no transaction is left open. */
	assert_false(fs.in_txn);
}

static void test_stats(void **state)
{
	struct fx *f = *state;

	finish(f);
	eval(f, "CONNECT", "192.0.2.7", NULL, NULL, NULL, 0);
	rcpt(f, "198.51.100.1", "a@example.org", "b@example.com", 0);	/* whitelisted */
	rcpt(f, "192.0.2.7", "a@example.org", "b@example.com", 0);	/* greylisted */
	rcpt(f, "192.0.2.7", "a@example.org", "b@example.com", 400);	/* passed */
	assert_int_equal(f->e.stats.requests, 4);
	assert_int_equal(f->e.stats.whitelisted, 1);
	assert_int_equal(f->e.stats.greylisted, 1);
	assert_int_equal(f->e.stats.accepted, 3);
	assert_int_equal(f->e.stats.db_errors, 0);
	assert_int_equal(f->e.stats.corrupt_records, 0);
	assert_string_equal(gg_engine_action_str(GG_ACTION_ACCEPT), "accept");
	assert_string_equal(gg_engine_action_str(GG_ACTION_GREYLIST), "greylist");
	assert_string_equal(gg_engine_action_str(GG_ACTION_TAG), "tag");
	assert_string_equal(gg_engine_action_str(GG_ACTION_REJECT), "reject");
}

/* Group commit and explain */

static void make_req(struct gg_request *r, const char *state_, const char *client, const char *name,
		     const char *sender, const char *to)
{
	gg_request_init(r);
	(void)gg_request_set(r, GG_RF_PROTOCOL_STATE, state_, strlen(state_));
	(void)gg_request_set(r, GG_RF_CLIENT_ADDRESS, client, strlen(client));
	(void)gg_request_set(r, GG_RF_CLIENT_NAME, name, strlen(name));
	(void)gg_request_set(r, GG_RF_SENDER, sender, strlen(sender));
	(void)gg_request_set(r, GG_RF_RECIPIENT, to, strlen(to));
}

/* eval_batch - n requests through gg_engine_eval_batch(), no checks */
static void eval_batch(struct gg_engine *e, const struct gg_request *const *rp, size_t n,
		       uint64_t now, struct gg_verdict *v)
{
	struct gg_engine_item it[16];

	assert_true(n <= GG_ARRAY_LEN(it));
	for (size_t i = 0; i < n; i++) {
		it[i].req = rp[i];
		it[i].score = NULL;
		it[i].prefiltered = 0;
		it[i].verdict = &v[i];
	}
	gg_engine_eval_batch(e, it, n, now);
}

static void test_batch_same_answers(void **state)
{
	/* Rounds of requests, each round one batch; duplicates inside a batch on purpose. */
	static const struct { const char *st, *client, *name, *from, *to; } reqs[] = {
		{ "RCPT", "192.0.2.7", "unknown", "a@example.org", "b@example.com" },
		{ "RCPT", "192.0.2.8", "unknown", "a@example.org", "b@example.com" },	/* same triplet */
		{ "RCPT", "192.0.2.7", "unknown", "a@example.org", "c@example.com" },
		{ "RCPT", "198.51.100.1", "unknown", "a@example.org", "b@example.com" },	/* whitelisted */
		{ "DATA", "192.0.2.7", "unknown", "a@example.org", "" },
		{ "RCPT", "2001:db8::1", "unknown", "", "b@example.com" },
		{ "RCPT", "192.0.2.7", "unknown", "a@example.org", "postmaster@example.com" },
		{ "RCPT", "192.0.3.7", "unknown", "x@example.org", "b@example.com" },
	};
	static const long rounds[] = { 0, 60, 300, 301, 4000, 3 * 86400 };
	struct fx *f = *state;
	struct gg_store *s2;
	struct gg_engine e2;
	struct gg_request r[GG_ARRAY_LEN(reqs)];
	const struct gg_request *rp[GG_ARRAY_LEN(reqs)];
	struct gg_verdict vb[GG_ARRAY_LEN(reqs)], vs;
	char err[512], *dbdir = tu_subst("@@/db2", f->dir);

	cfg_set(f, "greylist_auto_whitelist", "2");
	finish(f);
	if (gg_store_bdb_open(dbdir, 1, &s2, err, sizeof(err)) != GG_OK)
		fail_msg("%s", err);
	free(dbdir);
	gg_engine_init(&e2, f->cfg, s2);
	for (size_t i = 0; i < GG_ARRAY_LEN(reqs); i++) {
		make_req(&r[i], reqs[i].st, reqs[i].client, reqs[i].name, reqs[i].from, reqs[i].to);
		rp[i] = &r[i];
	}
	for (size_t k = 0; k < GG_ARRAY_LEN(rounds); k++) {
		uint64_t now = T0 + (uint64_t)rounds[k];
		eval_batch(&e2, rp, GG_ARRAY_LEN(reqs), now, vb);
		for (size_t i = 0; i < GG_ARRAY_LEN(reqs); i++) {
			gg_engine_eval(&f->e, &r[i], NULL, now, &vs);
			if (vs.action != vb[i].action || strcmp(vs.reason, vb[i].reason) != 0 ||
			    vs.remaining != vb[i].remaining || vs.delayed != vb[i].delayed ||
			    strcmp(vs.text, vb[i].text) != 0 || strcmp(vs.header, vb[i].header) != 0 ||
			    strcmp(vs.key, vb[i].key) != 0)
				fail_msg("round %zu request %zu: one by one %s/%s (%ld), batch %s/%s (%ld)",
					 k, i, gg_engine_action_str(vs.action), vs.reason, vs.remaining,
					 gg_engine_action_str(vb[i].action), vb[i].reason, vb[i].remaining);
		}
	}
	assert_int_equal(e2.stats.requests, f->e.stats.requests);
	assert_int_equal(e2.stats.greylisted, f->e.stats.greylisted);
	assert_int_equal(e2.stats.accepted, f->e.stats.accepted);
	assert_int_equal(e2.stats.whitelisted, f->e.stats.whitelisted);
	gg_store_close(s2);
}

static void test_batch_falls_back(void **state)
{
	struct fx *f = *state;
	struct fail_store fs;
	struct gg_request r[3];
	const struct gg_request *rp[3] = { &r[0], &r[1], &r[2] };
	struct gg_verdict v[3];

	memset(&fs, 0, sizeof(fs));
	fs.base.ops = &fail_ops;
	fs.fail_commit = 1;	/* the batch's commit fails, the single ones work */
	finish(f);
	gg_engine_init(&f->e, f->cfg, &fs.base);
	make_req(&r[0], "RCPT", "192.0.2.7", "unknown", "a@example.org", "b@example.com");
	make_req(&r[1], "RCPT", "192.0.2.7", "unknown", "a@example.org", "c@example.com");
	make_req(&r[2], "CONNECT", "192.0.2.7", "unknown", "", "");
	eval_batch(&f->e, rp, 3, T0, v);
	assert_verdict(&v[0], GG_ACTION_GREYLIST, "new");
	assert_verdict(&v[1], GG_ACTION_GREYLIST, "new");
	assert_verdict(&v[2], GG_ACTION_ACCEPT, "not-rcpt-stage");
	assert_false(v[0].db_error || v[1].db_error);
	assert_int_equal(f->e.stats.db_errors, 0);
	assert_int_equal(fs.commits, 3);	/* the failed batch, then one each */
	assert_false(fs.in_txn);
	/* When the single ones fail too, on_db_error decides each. */
	fs.fail_commit = 99;
	eval_batch(&f->e, rp, 3, T0, v);
	assert_verdict(&v[0], GG_ACTION_ACCEPT, "db-error");
	assert_verdict(&v[1], GG_ACTION_ACCEPT, "db-error");
	assert_verdict(&v[2], GG_ACTION_ACCEPT, "not-rcpt-stage");
	assert_true(v[0].db_error && v[1].db_error && !v[2].db_error);
	assert_false(fs.in_txn);
}

static void test_explain(void **state)
{
	struct fx *f = *state;
	struct gg_request r;
	struct gg_explain x;
	const struct gg_verdict *v;

	cfg_set(f, "greylist_auto_whitelist", "1");
	finish(f);
	make_req(&r, "RCPT", "192.0.2.7", "unknown", "a@example.org", "b@example.com");
	/* Nothing stored: explains "new" and stores nothing. */
	assert_int_equal(gg_engine_explain(&f->e, &r, NULL, T0, &x), GG_OK);
	assert_false(x.have_triplet || x.have_client || x.trusted_client);
	assert_verdict(&x.verdict, GG_ACTION_GREYLIST, "new");
	assert_string_equal(x.verdict.key, "t/192.0.2.0/24/a@example.org/b@example.com");
	assert_int_equal(store_records(f->store), 0);
	v = rcpt(f, "192.0.2.7", "a@example.org", "b@example.com", 0);
	assert_verdict(v, GG_ACTION_GREYLIST, "new");
	/* The stored triplet, and the verdict a retry would get, without changing it. */
	assert_int_equal(gg_engine_explain(&f->e, &r, NULL, T0 + 400, &x), GG_OK);
	assert_true(x.have_triplet);
	assert_true(x.triplet.first_seen == T0 && x.triplet.passed_at == 0);
	assert_verdict(&x.verdict, GG_ACTION_ACCEPT, "delay-passed");
	assert_int_equal(x.verdict.delayed, 400);
	assert_int_equal(gg_engine_explain(&f->e, &r, NULL, T0 + 400, &x), GG_OK);
	assert_true(x.triplet.passed_at == 0);		/* still not passed in the store */
	assert_verdict(rcpt(f, "192.0.2.7", "a@example.org", "b@example.com", 400), GG_ACTION_ACCEPT,
		       "delay-passed");
	/* The client network is now trusted. */
	make_req(&r, "RCPT", "192.0.2.9", "unknown", "new@example.net", "z@example.com");
	assert_int_equal(gg_engine_explain(&f->e, &r, NULL, T0 + 500, &x), GG_OK);
	assert_true(x.have_client);
	assert_true(x.trusted_client);
	assert_verdict(&x.verdict, GG_ACTION_ACCEPT, "auto-whitelist");
	/* Whitelisted requests are explained without the store. */
	make_req(&r, "RCPT", "198.51.100.1", "unknown", "a@example.org", "b@example.com");
	assert_int_equal(gg_engine_explain(&f->e, &r, NULL, T0, &x), GG_OK);
	assert_verdict(&x.verdict, GG_ACTION_ACCEPT, "whitelist-client");
	assert_int_equal(store_records(f->store), 2);
}

/* fx_setup_row - the fixture for a table row: the row travels in f->row */
static int fx_setup_row(void **state)
{
	const void *row = *state;
	int rc = fx_setup(state);

	if (rc == 0)
		((struct fx *)*state)->row = row;
	return rc;
}

int main(void)
{
	struct tu_suite s = { 0 };
	size_t i;

#define T(fn, label) tu_add_fixture(&s, fn, fx_setup, fx_teardown, NULL, "%s", label)
#define R(fn, prefix, row) tu_add_fixture(&s, fn, fx_setup_row, fx_teardown, &(row), \
					  prefix "%s", (row).label)
	T(test_not_rcpt, "stage: anything but RCPT is accepted untouched");
	for (i = 0; i < GG_ARRAY_LEN(wl_cases); i++)
		R(test_whitelist, "whitelist: ", wl_cases[i]);
	T(test_new_then_pass, "greylist: new, early retry, pass with X-Greylist, known; escapes expanded");
	T(test_null_sender_reply, "greylist: the null sender in the reply and the key");
	T(test_default_reply, "greylist: the default reply text");
	T(test_no_header_when_off, "greylist: greylist_header = no adds no header");
	T(test_networks, "greylist: same /24 passes, the next /24 and other addresses are new");
	T(test_ipv6_64, "greylist: IPv6 clients keyed by /64");
	T(test_prefix_settings, "greylist: greylist_ipv4_prefix and greylist_ipv6_prefix");
	T(test_sender_normalised, "greylist: BATV and VERP retries match");
	T(test_retry_window_and_max_age, "greylist: retry window missed, max_age forgotten");
	T(test_auto_whitelist, "greylist: auto-whitelisted client network");
	T(test_no_recipient_and_bad_client, "accept: no recipient, unparsable client address");
	for (i = 0; i < GG_ARRAY_LEN(junk_cases); i++)
		R(test_corrupt_triplet, "corrupt triplet record deleted and treated as new: ", junk_cases[i]);
	T(test_corrupt_client, "corrupt client record deleted and rebuilt");
	for (i = 0; i < GG_ARRAY_LEN(dberr_cases); i++)
		R(test_db_error, "on_db_error: ", dberr_cases[i]);
	T(test_stats, "statistics and action names");
	T(test_batch_same_answers, "batch: group commit gives the same answers as one by one");
	T(test_batch_falls_back, "batch: a failed batch is decided request by request");
	T(test_explain, "explain: stored records and the would-be verdict, read-only");
#undef T
#undef R
	return tu_run(&s, "t_engine");
}

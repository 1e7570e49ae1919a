/*
 * t_score.c - score bands, reason texts, and the engine's use of a score
 *
 * The thresholds turn a score into reject / tag / greylist / accept; the
 * engine applies the band after the static whitelists, keys the triplet on
 * the SPF domain when SPF passed, and reports score and reasons.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "engine/config.h"
#include "engine/engine.h"
#include "engine/score.h"
#include "store/store_bdb.h"
#include "lib/util.h"

#define T0 1700000000ULL

struct band_row {
	const char *label;
	double total;
	enum gg_band band;
};

static const struct band_row band_rows[] = {
	{ "well below greylist", -5, GG_BAND_ACCEPT },
	{ "just below greylist", 0.99, GG_BAND_ACCEPT },
	{ "exactly greylist", 1, GG_BAND_GREYLIST },
	{ "between greylist and tag", 4.5, GG_BAND_GREYLIST },
	{ "exactly tag", 5, GG_BAND_TAG },
	{ "between tag and reject", 9.99, GG_BAND_TAG },
	{ "exactly reject", 10, GG_BAND_REJECT },
	{ "far above reject", 100, GG_BAND_REJECT },
};

static struct gg_config *band_config(void)
{
	struct gg_config *cfg = gg_config_new();
	char err[256];

	assert_non_null(cfg);
	assert_int_equal(gg_config_set(cfg, "greylist_threshold", "1", "t", err, sizeof(err)), GG_OK);
	assert_int_equal(gg_config_set(cfg, "tag_threshold", "5", "t", err, sizeof(err)), GG_OK);
	assert_int_equal(gg_config_set(cfg, "reject_threshold", "10", "t", err, sizeof(err)), GG_OK);
	return cfg;
}

static void test_band(void **state)
{
	const struct band_row *row = *state;
	struct gg_config *cfg = band_config();

	assert_int_equal(gg_score_band(cfg, row->total), row->band);
	gg_config_free(cfg);
}

static void test_reasons_text(void **state)
{
	struct gg_score s;
	char buf[400];

	(void)state;
	gg_score_init(&s);
	gg_score_add(&s, "dnsbl:bl.test", 3, "Listed: see http://bl.test/x");
	gg_score_add(&s, "rdns:missing", 0.5, NULL);
	gg_score_add(&s, "dnswl:wl.test", -5, "trusted");
	gg_score_add(&s, "dnsbl:slow.test(timeout)", 0, NULL);
	assert_true(s.total > -1.51 && s.total < -1.49);
	assert_string_equal(gg_score_reasons(&s, buf, sizeof(buf)),
			    "dnsbl:bl.test(3),rdns:missing(0.5),dnswl:wl.test(-5),dnsbl:slow.test(timeout)(0)");
	gg_score_reject_text(&s, buf, sizeof(buf));
	tu_assert_contains(buf, "5.7.1 ");
	tu_assert_contains(buf, "dnsbl:bl.test \"Listed: see http://bl.test/x\"");
	tu_assert_contains(buf, "rdns:missing");
	/* Negative and zero weights are not reasons to reject. */
	assert_null(strstr(buf, "dnswl"));
	assert_null(strstr(buf, "timeout"));
}

static void test_reason_overflow(void **state)
{
	struct gg_score s;
	char buf[8];

	(void)state;
	gg_score_init(&s);
	for (int i = 0; i < GG_SCORE_MAX_REASONS + 5; i++)
		gg_score_add(&s, "x:y", 1, "control\x01chars\n");
	/* Reasons beyond the array still count; texts are sanitised; small buffers are safe. */
	assert_int_equal(s.n, GG_SCORE_MAX_REASONS);
	assert_true(s.total > GG_SCORE_MAX_REASONS + 4.9);
	assert_null(strchr(s.r[0].txt, '\n'));
	gg_score_reasons(&s, buf, sizeof(buf));
	assert_true(strlen(buf) < sizeof(buf));
	gg_score_reject_text(&s, buf, sizeof(buf));
	assert_true(strlen(buf) < sizeof(buf));
}

static void test_received_spf(void **state)
{
	struct gg_score s;
	char buf[1024], longs[400], longh[300];
	static const char *const results[] = { "pass", "fail", "softfail", "neutral", "none",
					       "temperror", "permerror" };

	(void)state;
	gg_score_init(&s);
	assert_int_equal(gg_score_received_spf(&s, "192.0.2.1", "a@b.example", "mx.b.example",
					       "mx.here.example", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	(void)gg_strcpy(s.spf_result, sizeof(s.spf_result), "pass");
	assert_int_equal(gg_score_received_spf(&s, "192.0.2.1", "alice@spf.example", "mx.spf.example",
					       "mx.here.example", buf, sizeof(buf)), 1);
	assert_string_equal(buf, "Received-SPF: pass (mx.here.example: domain of alice@spf.example "
			    "designates 192.0.2.1 as permitted sender) client-ip=192.0.2.1; "
			    "envelope-from=alice@spf.example; helo=mx.spf.example; "
			    "receiver=mx.here.example; identity=mailfrom;");
	/* The null sender: the HELO identity, an empty envelope-from. */
	(void)gg_strcpy(s.spf_result, sizeof(s.spf_result), "fail");
	gg_score_received_spf(&s, "2001:db8::1", "", "mx.spf.example", "mx.here.example", buf,
			      sizeof(buf));
	tu_assert_contains(buf, "Received-SPF: fail (mx.here.example: domain of "
			   "postmaster@mx.spf.example does not designate 2001:db8::1 as permitted sender)");
	tu_assert_contains(buf, "envelope-from=\"\"; helo=mx.spf.example;");
	tu_assert_contains(buf, "identity=helo;");
	/* Every result has its own phrase and the result word first. */
	for (size_t i = 0; i < GG_ARRAY_LEN(results); i++) {
		char want[40];
		(void)gg_strcpy(s.spf_result, sizeof(s.spf_result), results[i]);
		gg_score_received_spf(&s, "192.0.2.1", "a@b.example", "h.example", "r.example", buf,
				      sizeof(buf));
		snprintf(want, sizeof(want), "Received-SPF: %s (r.example: ", results[i]);
		assert_memory_equal(buf, want, strlen(want));
	}
	/* Odd characters are quoted, never break the header. */
	(void)gg_strcpy(s.spf_result, sizeof(s.spf_result), "neutral");
	gg_score_received_spf(&s, "192.0.2.1", "\"we;ird\"(x)@b.example", "h\r\nX: y", "r.example",
			      buf, sizeof(buf));
	assert_null(strchr(buf, '\r'));
	assert_null(strchr(buf, '\n'));
	tu_assert_contains(buf, "envelope-from=\"\\\"we;ird\\\"(x)@b.example\";");
	tu_assert_contains(buf, "helo=\"h??X: y\";");
	/* Longest inputs: bounded, the quoted values closed, the header complete. */
	memset(longs, 'a', sizeof(longs) - 1);
	longs[sizeof(longs) - 1] = '\0';
	longs[100] = '@';
	longs[150] = ' ';
	memset(longh, 'h', sizeof(longh) - 1);
	longh[sizeof(longh) - 1] = '\0';
	gg_score_received_spf(&s, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", longs, longh, longh, buf,
			      sizeof(buf));
	assert_true(strlen(buf) < sizeof(buf) - 1);
	assert_int_equal(buf[strlen(buf) - 1], ';');
	tu_assert_contains(buf, "identity=mailfrom;");
}

/* Engine fixture: a real store in a temporary directory. */
struct fx {
	char *dir;
	struct gg_store *store;
	struct gg_config *cfg;
	struct gg_engine e;
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[512], *db;

	if (f == NULL)
		return -1;
	f->dir = tu_mkdtemp();
	db = tu_subst("@@/db", f->dir);
	if (gg_store_bdb_open(db, 1, &f->store, err, sizeof(err)) != GG_OK)
		return -1;
	free(db);
	f->cfg = band_config();
	assert_int_equal(gg_config_set(f->cfg, "greylist_delay", "60", "t", err, sizeof(err)), GG_OK);
	assert_int_equal(gg_config_set(f->cfg, "whitelist_clients", "203.0.113.0/24", "t", err,
				       sizeof(err)), GG_OK);
	assert_int_equal(gg_config_finish(f->cfg, err, sizeof(err)), GG_OK);
	gg_engine_init(&f->e, f->cfg, f->store);
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

/*
 * The checks' result that goes with the request request() built last: the
 * engine takes it beside the request (tests only; one test at a time).
 */
static const struct gg_score *req_score;

static void request(struct gg_request *r, const char *client, const char *sender,
		    const struct gg_score *sc)
{
	gg_request_init(r);
	(void)gg_request_set(r, GG_RF_PROTOCOL_STATE, "RCPT", 4);
	(void)gg_request_set(r, GG_RF_CLIENT_ADDRESS, client, strlen(client));
	(void)gg_request_set(r, GG_RF_SENDER, sender, strlen(sender));
	(void)gg_request_set(r, GG_RF_RECIPIENT, "bob@rcpt.example", 16);
	(void)gg_request_set(r, GG_RF_INSTANCE, "i1", 2);
	req_score = sc;
}

static void test_engine_bands(void **state)
{
	struct fx *f = *state;
	struct gg_score s;
	struct gg_request r;
	struct gg_verdict v;

	gg_score_init(&s);
	gg_score_add(&s, "dnsbl:bl.test", 12, "Listed");
	request(&r, "192.0.2.1", "a@b.example", &s);
	gg_engine_eval(&f->e, &r, req_score, T0, &v);
	assert_int_equal(v.action, GG_ACTION_REJECT);
	tu_assert_contains(v.text, "5.7.1");
	tu_assert_contains(v.text, "Listed");
	assert_true(v.scored);
	assert_string_equal(v.reasons, "dnsbl:bl.test(12)");

	gg_score_init(&s);
	gg_score_add(&s, "rdns:missing", 6, NULL);
	gg_engine_eval(&f->e, &r, req_score, T0, &v);
	assert_int_equal(v.action, GG_ACTION_TAG);
	tu_assert_contains(v.header, "X-Spam-Score: 6 (rdns:missing(6))");
	assert_string_equal(v.key, "");	/* no triplet for tagged mail */

	gg_score_init(&s);
	gg_score_add(&s, "spf:pass", -1, NULL);
	gg_engine_eval(&f->e, &r, req_score, T0, &v);
	assert_int_equal(v.action, GG_ACTION_ACCEPT);
	assert_string_equal(v.reason, "low-score");

	gg_score_init(&s);
	gg_score_add(&s, "rdns:missing", 2, NULL);
	gg_engine_eval(&f->e, &r, req_score, T0, &v);
	assert_int_equal(v.action, GG_ACTION_GREYLIST);
	assert_string_equal(v.reason, "new");
	tu_assert_contains(v.key, "t/192.0.2.0/24/");
}

static void test_whitelist_beats_score(void **state)
{
	struct fx *f = *state;
	struct gg_score s;
	struct gg_request r;
	struct gg_verdict v;

	gg_score_init(&s);
	gg_score_add(&s, "dnsbl:bl.test", 50, "Listed");
	request(&r, "203.0.113.5", "a@b.example", &s);
	gg_engine_eval(&f->e, &r, req_score, T0, &v);
	assert_int_equal(v.action, GG_ACTION_ACCEPT);
	assert_string_equal(v.reason, "whitelist-client");
	assert_int_equal(gg_engine_needs_checks(&f->e, &r), 0);
	request(&r, "192.0.2.9", "a@b.example", NULL);
	assert_int_equal(gg_engine_needs_checks(&f->e, &r), 1);
}

static void test_spf_pool_key(void **state)
{
	struct fx *f = *state;
	struct gg_score s;
	struct gg_request r;
	struct gg_verdict v;

	/* Greylist band with an SPF pass: the client part is the SPF domain. */
	gg_score_init(&s);
	gg_score_add(&s, "rdns:missing", 2, NULL);
	gg_score_add(&s, "spf:pass", 0, NULL);
	s.spf_pass = 1;
	strcpy(s.spf_domain, "pool.example");
	request(&r, "192.0.2.1", "a@pool.example", &s);
	gg_engine_eval(&f->e, &r, req_score, T0, &v);
	assert_int_equal(v.action, GG_ACTION_GREYLIST);
	assert_string_equal(v.key, "t/spf:pool.example/a@pool.example/bob@rcpt.example");
	/* The retry comes from another network of the pool: it passes after the delay. */
	request(&r, "198.51.100.7", "a@pool.example", &s);
	gg_engine_eval(&f->e, &r, req_score, T0 + 61, &v);
	assert_int_equal(v.action, GG_ACTION_ACCEPT);
	assert_string_equal(v.reason, "delay-passed");
	tu_assert_contains(v.header, "X-Greylist: delayed 61 seconds");

	/* With the setting off, the network keys the triplet again. */
	char err[256];
	assert_int_equal(gg_config_set(f->cfg, "greylist_key_spf_domain", "no", "t", err, sizeof(err)),
			 GG_OK);
	request(&r, "198.51.100.7", "c@pool.example", &s);
	gg_engine_eval(&f->e, &r, req_score, T0 + 100, &v);
	assert_string_equal(v.key, "t/198.51.100.0/24/c@pool.example/bob@rcpt.example");
}

static void test_data_stage_header(void **state)
{
	struct fx *f = *state;
	struct gg_score s;
	struct gg_request r;
	struct gg_verdict v;
	char err[256];

	gg_score_init(&s);
	gg_score_add(&s, "dnsbl:bl.test", 20, "Listed");	/* would reject at RCPT */
	(void)gg_strcpy(s.spf_result, sizeof(s.spf_result), "softfail");
	request(&r, "192.0.2.1", "a@soft.example", &s);
	(void)gg_request_set(&r, GG_RF_PROTOCOL_STATE, "DATA", 4);
	r.recipient[0] = '\0';
	(void)gg_request_set(&r, GG_RF_HELO_NAME, "mx.soft.example", 15);
	/* SPF off: DATA is not our business. */
	assert_int_equal(gg_engine_needs_checks(&f->e, &r), 0);
	gg_engine_eval(&f->e, &r, req_score, T0, &v);
	assert_int_equal(v.action, GG_ACTION_ACCEPT);
	assert_string_equal(v.reason, "not-rcpt-stage");
	assert_string_equal(v.header, "");
	/* SPF on: the checks run, and the answer is the header, never a rejection. */
	assert_int_equal(gg_config_set(f->cfg, "spf_check", "yes", "t", err, sizeof(err)), GG_OK);
	assert_int_equal(gg_config_set(f->cfg, "myhostname", "mx.here.example", "t", err, sizeof(err)),
			 GG_OK);
	assert_int_equal(gg_engine_needs_checks(&f->e, &r), 1);
	gg_engine_eval(&f->e, &r, req_score, T0, &v);
	assert_int_equal(v.action, GG_ACTION_ACCEPT);
	assert_string_equal(v.reason, "data-stage");
	tu_assert_contains(v.header, "Received-SPF: softfail (mx.here.example: domain of transitioning "
			   "a@soft.example does not designate 192.0.2.1 as permitted sender)");
	tu_assert_contains(v.header, "envelope-from=a@soft.example; helo=mx.soft.example;");
	assert_string_equal(v.key, "");
	/* A whitelisted client gets no header. */
	assert_int_equal(gg_config_set(f->cfg, "whitelist_clients", "192.0.2.0/24", "t", err,
				       sizeof(err)), GG_OK);
	assert_int_equal(gg_config_finish(f->cfg, err, sizeof(err)), GG_OK);
	assert_int_equal(gg_engine_needs_checks(&f->e, &r), 0);
	gg_engine_eval(&f->e, &r, req_score, T0, &v);
	assert_string_equal(v.reason, "whitelist-client");
	assert_string_equal(v.header, "");
	/* spf_header = no: DATA is ignored again. */
	assert_int_equal(gg_config_set(f->cfg, "whitelist_clients", "", "t", err, sizeof(err)), GG_OK);
	assert_int_equal(gg_config_set(f->cfg, "spf_header", "no", "t", err, sizeof(err)), GG_OK);
	assert_int_equal(gg_config_finish(f->cfg, err, sizeof(err)), GG_OK);
	assert_int_equal(gg_engine_needs_checks(&f->e, &r), 0);
	gg_engine_eval(&f->e, &r, req_score, T0, &v);
	assert_string_equal(v.reason, "not-rcpt-stage");
	assert_string_equal(v.header, "");
}

static void test_threshold_order(void **state)
{
	struct gg_config *cfg = gg_config_new();
	char err[256];

	(void)state;
	assert_int_equal(gg_config_set(cfg, "tag_threshold", "12", "f.conf:3", err, sizeof(err)), GG_OK);
	assert_int_not_equal(gg_config_finish(cfg, err, sizeof(err)), GG_OK);
	tu_assert_contains(err, "f.conf:3: thresholds must rise");
	gg_config_free(cfg);
	cfg = gg_config_new();
	assert_int_not_equal(gg_config_set(cfg, "reject_threshold", "ten", "f.conf:4", err,
					   sizeof(err)), GG_OK);
	tu_assert_contains(err, "f.conf:4: reject_threshold: 'ten' is not a number");
	assert_int_not_equal(gg_config_set(cfg, "tag_threshold", "1e9", "f.conf:5", err, sizeof(err)),
			     GG_OK);
	tu_assert_contains(err, "out of range");
	gg_config_free(cfg);
}

int main(void)
{
	struct tu_suite s = { 0 };

	for (size_t i = 0; i < GG_ARRAY_LEN(band_rows); i++)
		tu_add(&s, test_band, &band_rows[i], "band: %s", band_rows[i].label);
	tu_add(&s, test_reasons_text, NULL, "reasons and reject text");
	tu_add(&s, test_reason_overflow, NULL, "reason overflow and sanitising");
	tu_add(&s, test_received_spf, NULL, "Received-SPF header for the message");
	tu_add(&s, test_threshold_order, NULL, "threshold settings are checked");
	tu_add_fixture(&s, test_engine_bands, fx_setup, fx_teardown, NULL, "engine: each band");
	tu_add_fixture(&s, test_whitelist_beats_score, fx_setup, fx_teardown, NULL,
		       "engine: static whitelist wins over any score");
	tu_add_fixture(&s, test_spf_pool_key, fx_setup, fx_teardown, NULL,
		       "engine: SPF pass keys the triplet on the domain");
	tu_add_fixture(&s, test_data_stage_header, fx_setup, fx_teardown, NULL,
		       "engine: DATA stage answers Received-SPF");
	return tu_run(&s, "score");
}

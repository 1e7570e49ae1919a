/*
 * t_config.c - unit tests for engine/config.c: defaults, the file syntax
 * (comments, continuation lines, every type), "file:line: name: ..." error
 * messages, -o overrides, cross-checks in gg_config_finish() and printing
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "engine/config.h"
#include "lib/util.h"
#include "engine/wlist.h"

#define DAY 86400L

/* One private directory for all the files of this program. */
static char *tmpdir;

/* load_text - write text to a fresh file and load it into a new config */
static enum gg_status load_text(const char *text, size_t len, struct gg_config **cfgp,
				char **pathp, char *err, size_t errsize)
{
	static int serial;
	char name[32];
	struct gg_config *cfg = gg_config_new();
	enum gg_status st;

	assert_non_null(cfg);
	snprintf(name, sizeof(name), "greygate-%d.conf", ++serial);
	*pathp = tu_write_file(tmpdir, name, text, len);
	st = gg_config_load(cfg, *pathp, err, errsize);
	*cfgp = cfg;
	return st;
}

/* Defaults */

static void test_defaults(void **state)
{
	struct gg_config *cfg = gg_config_new();
	char err[512] = "";

	(void)state;
	assert_non_null(cfg);
	assert_string_equal(cfg->listen, "inet:127.0.0.1:10023");
	assert_int_equal(cfg->listen_unix_mode, 0666);
	assert_string_equal(cfg->user, "greygate");
	assert_string_equal(cfg->pid_file, "");
	assert_string_equal(cfg->syslog_name, "greygate");
	assert_string_equal(cfg->syslog_facility, "mail");
	assert_int_equal(cfg->log_verbose, 0);
	assert_string_equal(cfg->database, "bdb:/var/lib/greygate");
	assert_int_equal(cfg->database_cache_size, 0);		/* auto */
	assert_int_equal(cfg->database_checkpoint_interval, 60);
	assert_int_equal(cfg->database_expire_interval, 3600);
	assert_int_equal(cfg->database_expire_slice, 500);
	assert_string_equal(cfg->on_db_error, "dunno");
	assert_int_equal(cfg->on_db_error_kind, GG_ON_DB_ERROR_DUNNO);
	assert_int_equal(cfg->syslog_facility_kind, GG_SYSLOG_MAIL);
	assert_int_equal(cfg->greylist_delay, 300);
	assert_int_equal(cfg->greylist_retry_window, 2 * DAY);
	assert_int_equal(cfg->greylist_max_age, 35 * DAY);
	assert_int_equal(cfg->greylist_auto_whitelist, 5);
	assert_int_equal(cfg->greylist_ipv4_prefix, 24);
	assert_int_equal(cfg->greylist_ipv6_prefix, 64);
	assert_string_equal(cfg->greylist_reply, "Greylisted, please try again in %s seconds");
	assert_int_equal(cfg->greylist_header, 1);
	assert_string_equal(cfg->whitelist_clients, "");
	assert_int_equal(cfg->policy_max_line_length, 4096);
	assert_int_equal(cfg->policy_max_attributes, 128);
	assert_int_equal(cfg->policy_max_request_size, 65536);
	assert_int_equal(cfg->policy_max_connections, 4096);
	assert_int_equal(cfg->policy_idle_timeout, 330);
	assert_int_equal(cfg->policy_request_timeout, 30);
	assert_int_equal(cfg->dns_cache_min_ttl, 60);
	assert_int_equal(cfg->dns_cache_max_ttl, 3600);
	assert_int_equal(cfg->rhsbl_targets,
			 GG_CONFIG_RHSBL_SENDER | GG_CONFIG_RHSBL_HELO | GG_CONFIG_RHSBL_CLIENT);
	assert_int_equal(cfg->rdns_dynamic_address, 1);
	assert_string_equal(cfg->path, "");
	/* The defaults pass their own cross-checks. */
	if (gg_config_finish(cfg, err, sizeof(err)) != GG_OK)
		fail_msg("defaults do not finish: %s", err);
	assert_non_null(cfg->wl_clients);
	assert_non_null(cfg->wl_senders);
	assert_non_null(cfg->wl_recipients);
	assert_int_equal(gg_wlist_size(cfg->wl_clients), 0);
	assert_true(cfg->myhostname[0] != '\0');	/* filled from the system */
	gg_config_free(cfg);
	gg_config_free(NULL);
}

/* A full file */

static void test_full_file(void **state)
{
	static const char text[] =
		"# greygate.conf for the unit test\n"
		"\n"
		"listen = inet:127.0.0.1:10025,\n"
		"    unix:/run/greygate/policy.sock\n"
		"listen_unix_mode = 0660\n"
		"user =\n"
		"pid_file = /run/greygate.pid\n"
		"syslog_facility = local3\n"
		"myhostname = mx.test\n"
		"log_verbose = yes\n"
		"   # an indented comment does not continue anything\n"
		"database = bdb:/var/tmp/gg\n"
		"database_cache_size = 64\n"
		"database_checkpoint_interval = 2m\n"
		"database_expire_slice = 1000\n"
		"on_db_error = defer\n"
		"greylist_delay = 5m\n"
		"greylist_retry_window = 1d\n"
		"greylist_max_age = 1w\n"
		"greylist_auto_whitelist = 0\n"
		"greylist_ipv4_prefix = 32\n"
		"greylist_ipv6_prefix = 48\n"
		"greylist_reply = Greylisted by %h for %s seconds (%d) %c %f %r 100%%\n"
		"greylist_header = no\n"
		"whitelist_clients = 192.0.2.0/24\n"
		"\t.example.com\n"
		"\t/^mail[0-9]+\\.example\\.net$/\n"
		"whitelist_senders = @partner.example\n"
		"whitelist_recipients = postmaster@, abuse@\n"
		"policy_max_line_length = 1024\n"
		"policy_max_attributes = 64\n"
		"policy_max_request_size = 8192\n"
		"policy_max_connections = 100\n"
		"policy_idle_timeout = 1h\n"
		"policy_request_timeout = 10\n"
		"dns_cache_min_ttl = 0\n"
		"dns_cache_max_ttl = 2d\n"
		"rhsbl_targets = sender,\n"
		"\tclient\n"
		"rdns_dynamic_address = no\n"
		"   \t   \n";
	struct gg_config *cfg;
	char *path, err[512] = "";

	(void)state;
	if (load_text(text, sizeof(text) - 1, &cfg, &path, err, sizeof(err)) != GG_OK)
		fail_msg("%s", err);
	assert_true(strncmp(cfg->listen, "inet:127.0.0.1:10025,", 21) == 0);
	assert_non_null(strstr(cfg->listen, "unix:/run/greygate/policy.sock"));
	assert_int_equal(cfg->listen_unix_mode, 0660);
	assert_string_equal(cfg->user, "");
	assert_string_equal(cfg->pid_file, "/run/greygate.pid");
	assert_string_equal(cfg->syslog_facility, "local3");
	assert_string_equal(cfg->myhostname, "mx.test");
	assert_int_equal(cfg->log_verbose, 1);
	assert_string_equal(cfg->database, "bdb:/var/tmp/gg");
	assert_int_equal(cfg->database_cache_size, 64);
	assert_int_equal(cfg->database_checkpoint_interval, 120);
	assert_int_equal(cfg->database_expire_slice, 1000);
	assert_string_equal(cfg->on_db_error, "defer");
	assert_int_equal(cfg->on_db_error_kind, GG_ON_DB_ERROR_DEFER);
	assert_int_equal(cfg->syslog_facility_kind, GG_SYSLOG_LOCAL3);
	assert_int_equal(cfg->greylist_delay, 300);
	assert_int_equal(cfg->greylist_retry_window, DAY);
	assert_int_equal(cfg->greylist_max_age, 7 * DAY);
	assert_int_equal(cfg->greylist_auto_whitelist, 0);
	assert_int_equal(cfg->greylist_ipv4_prefix, 32);
	assert_int_equal(cfg->greylist_ipv6_prefix, 48);
	assert_string_equal(cfg->greylist_reply,
			    "Greylisted by %h for %s seconds (%d) %c %f %r 100%%");
	assert_int_equal(cfg->greylist_header, 0);
	assert_int_equal(cfg->policy_max_line_length, 1024);
	assert_int_equal(cfg->policy_max_attributes, 64);
	assert_int_equal(cfg->policy_max_request_size, 8192);
	assert_int_equal(cfg->policy_max_connections, 100);
	assert_int_equal(cfg->policy_idle_timeout, 3600);
	assert_int_equal(cfg->policy_request_timeout, 10);
	assert_int_equal(cfg->dns_cache_min_ttl, 0);
	assert_int_equal(cfg->dns_cache_max_ttl, 2 * DAY);
	assert_int_equal(cfg->rhsbl_targets, GG_CONFIG_RHSBL_SENDER | GG_CONFIG_RHSBL_CLIENT);
	assert_int_equal(cfg->rdns_dynamic_address, 0);
	assert_string_equal(cfg->path, path);
	if (gg_config_finish(cfg, err, sizeof(err)) != GG_OK)
		fail_msg("%s", err);
	assert_int_equal(gg_wlist_size(cfg->wl_clients), 3);
	assert_int_equal(gg_wlist_size(cfg->wl_senders), 1);
	assert_int_equal(gg_wlist_size(cfg->wl_recipients), 2);
	assert_string_equal(cfg->myhostname, "mx.test");	/* not replaced */
	gg_config_free(cfg);
	free(path);
}

static void test_crlf_and_no_final_newline(void **state)
{
	static const char text[] = "greylist_delay = 10m\r\nlog_verbose = on\r\ngreylist_max_age = 40d";
	struct gg_config *cfg;
	char *path, err[512] = "";

	(void)state;
	if (load_text(text, sizeof(text) - 1, &cfg, &path, err, sizeof(err)) != GG_OK)
		fail_msg("%s", err);
	assert_int_equal(cfg->greylist_delay, 600);
	assert_int_equal(cfg->log_verbose, 1);
	assert_int_equal(cfg->greylist_max_age, 40 * DAY);
	gg_config_free(cfg);
	free(path);
}

static void test_later_setting_wins(void **state)
{
	static const char text[] = "greylist_delay = 10m\ngreylist_delay = 20m\n";
	struct gg_config *cfg;
	char *path, err[512] = "";

	(void)state;
	assert_int_equal(load_text(text, sizeof(text) - 1, &cfg, &path, err, sizeof(err)), GG_OK);
	assert_int_equal(cfg->greylist_delay, 1200);
	gg_config_free(cfg);
	free(path);
}

/* rhsbl_targets: a list of words as bits, and how -n prints it */

struct words_case {
	const char *label;
	const char *value;
	unsigned bits;
	const char *printed;	/* the -n line; NULL: the default, not printed */
};

#define RHS_S GG_CONFIG_RHSBL_SENDER
#define RHS_H GG_CONFIG_RHSBL_HELO
#define RHS_C GG_CONFIG_RHSBL_CLIENT

static const struct words_case words_cases[] = {
	{ "one word", "sender", RHS_S, "rhsbl_targets = sender\n" },
	{ "two words with a comma", "helo, client", RHS_H | RHS_C, "rhsbl_targets = helo, client\n" },
	{ "any order, printed in table order", "client helo", RHS_H | RHS_C,
	  "rhsbl_targets = helo, client\n" },
	{ "commas, tabs and spaces mixed", " ,client,\tsender ,", RHS_S | RHS_C,
	  "rhsbl_targets = sender, client\n" },
	{ "a word twice counts once", "helo,helo", RHS_H, "rhsbl_targets = helo\n" },
	{ "all three in another order is the default", "client,helo,sender", RHS_S | RHS_H | RHS_C, NULL },
	{ "empty: none", "", 0, "rhsbl_targets = \n" },
	{ "only separators: none", " , ,", 0, "rhsbl_targets = \n" },
};

static char *print_to_string(const struct gg_config *cfg, int only_changed);

static void test_words(void **state)
{
	const struct words_case *c = *state;
	struct gg_config *cfg = gg_config_new(), *again;
	char err[512] = "", *out, *path;

	assert_non_null(cfg);
	if (gg_config_set(cfg, "rhsbl_targets", c->value, "x.conf:3", err, sizeof(err)) != GG_OK)
		fail_msg("%s", err);
	assert_int_equal(cfg->rhsbl_targets, c->bits);
	out = print_to_string(cfg, 1);
	if (c->printed == NULL)
		assert_string_equal(out, "");
	else
		assert_string_equal(out, c->printed);
	free(out);
	/* What -n prints loads back to the same bits. */
	out = print_to_string(cfg, 0);
	tu_assert_contains(out, "\nrhsbl_targets = ");
	assert_int_equal(load_text(out, strlen(out), &again, &path, err, sizeof(err)), GG_OK);
	assert_int_equal(again->rhsbl_targets, c->bits);
	free(out);
	free(path);
	gg_config_free(again);
	gg_config_free(cfg);
}

static void test_cache_ttl_bounds(void **state)
{
	static const char text[] = "dns_cache_min_ttl = 10m\ndns_cache_max_ttl = 600\n";
	struct gg_config *cfg;
	char *path, err[512] = "";

	(void)state;
	/* Equal bounds are allowed: every answer is kept exactly that long. */
	if (load_text(text, sizeof(text) - 1, &cfg, &path, err, sizeof(err)) != GG_OK)
		fail_msg("%s", err);
	assert_int_equal(cfg->dns_cache_min_ttl, 600);
	assert_int_equal(cfg->dns_cache_max_ttl, 600);
	if (gg_config_finish(cfg, err, sizeof(err)) != GG_OK)
		fail_msg("%s", err);
	gg_config_free(cfg);
	free(path);
	/* The extremes of both ranges. */
	cfg = gg_config_new();
	assert_int_equal(gg_config_override(cfg, "dns_cache_min_ttl=0", err, sizeof(err)), GG_OK);
	assert_int_equal(gg_config_override(cfg, "dns_cache_max_ttl=1", err, sizeof(err)), GG_OK);
	if (gg_config_finish(cfg, err, sizeof(err)) != GG_OK)
		fail_msg("%s", err);
	gg_config_free(cfg);
	cfg = gg_config_new();
	assert_int_equal(gg_config_override(cfg, "dns_cache_min_ttl=1d", err, sizeof(err)), GG_OK);
	assert_int_equal(gg_config_override(cfg, "dns_cache_max_ttl=7d", err, sizeof(err)), GG_OK);
	assert_int_equal(cfg->dns_cache_min_ttl, DAY);
	assert_int_equal(cfg->dns_cache_max_ttl, 7 * DAY);
	if (gg_config_finish(cfg, err, sizeof(err)) != GG_OK)
		fail_msg("%s", err);
	gg_config_free(cfg);
}

static void test_empty_file(void **state)
{
	struct gg_config *cfg;
	char *path, err[512] = "";

	(void)state;
	assert_int_equal(load_text("", 0, &cfg, &path, err, sizeof(err)), GG_OK);
	assert_int_equal(cfg->greylist_delay, 300);
	gg_config_free(cfg);
	free(path);
}

/* Errors: "@@" in want is replaced by the file's path. */

struct err_case {
	const char *label;
	const char *text;
	int at_finish;		/* the error comes from gg_config_finish() */
	const char *want;
};

static const struct err_case err_cases[] = {
	{ "database: relative bdb directory", "log_verbose = no\ndatabase = bdb:var/db\n", 1,
	  "@@:2: database = bdb:var/db: the directory must be an absolute path" },
	{ "database: unknown backend", "database = mysql:x\n", 1,
	  "@@:1: database = mysql:x: unknown backend" },
	{ "database: redis without a port", "database = redis:localhost\n", 1,
	  "@@:1: database = redis:localhost: not a Redis address" },
	{ "database: redis port out of range", "database = redis:[::1]:65536\n", 1,
	  "@@:1: database = redis:[::1]:65536: the port must be a number from 1 to 65535" },
	{ "unknown setting", "# c\ngreylist_dealy = 5m\n", 0,
	  "@@:2: unknown setting 'greylist_dealy'" },
	{ "missing '='", "greylist_delay = 5m\n\ngreylist_delay 5m\n", 0,
	  "@@:3: missing '=' in 'greylist_delay 5m'" },
	{ "empty name", "= 5m\n", 0, "@@:1: missing setting name before '='" },
	{ "bad duration", "log_verbose = no\ngreylist_delay = 5x\n", 0,
	  "@@:2: greylist_delay: '5x' is not a duration" },
	{ "negative duration", "greylist_delay = -5m\n", 0, "@@:1: greylist_delay: '-5m' is not a duration" },
	{ "fractional duration", "greylist_delay = 1.5h\n", 0,
	  "@@:1: greylist_delay: '1.5h' is not a duration" },
	{ "duration out of range", "greylist_delay = 31d\n", 0,
	  "@@:1: greylist_delay: '31d' is out of range (0..2592000 seconds)" },
	{ "duration below its minimum", "greylist_retry_window = 0\n", 0,
	  "@@:1: greylist_retry_window: '0' is out of range" },
	{ "duration overflow", "greylist_max_age = 99999999999999999999w\n", 0,
	  "@@:1: greylist_max_age: '99999999999999999999w' is out of range" },
	{ "integer out of range", "greylist_ipv4_prefix = 33\n", 0,
	  "@@:1: greylist_ipv4_prefix: '33' is out of range (0..32)" },
	{ "integer below its minimum", "policy_max_line_length = 63\n", 0,
	  "@@:1: policy_max_line_length: '63' is out of range (64..1048576)" },
	{ "not a number", "database_cache_size = lots\n", 0,
	  "@@:1: database_cache_size: 'lots' is not a number or auto" },
	{ "empty number", "database_cache_size =\n", 0, "@@:1: database_cache_size: '' is not a number or auto" },
	{ "bad bool", "greylist_header = maybe\n", 0, "@@:1: greylist_header: 'maybe' is not yes or no" },
	{ "bad enum", "on_db_error = reject\n", 0,
	  "@@:1: on_db_error: 'reject' is not one of dunno|defer" },
	{ "enum is case-sensitive prefix check", "syslog_facility = mai\n", 0,
	  "@@:1: syslog_facility: 'mai' is not one of" },
	{ "bad octal mode", "listen_unix_mode = 0999\n", 0,
	  "@@:1: listen_unix_mode: '0999' is not an octal mode" },
	{ "mode out of range", "listen_unix_mode = 077777\n", 0,
	  "@@:1: listen_unix_mode: '077777' is out of range" },
	{ "continuation without a setting", "  greylist_delay = 5m\n", 0,
	  "@@:1: continuation line without a setting" },
	{ "error in a continued setting names its first line",
	  "log_verbose = no\n\ngreylist_delay =\n  5x\n", 0,
	  "@@:3: greylist_delay: '5x' is not a duration" },
	{ "line numbers count continuation lines",
	  "whitelist_clients = 192.0.2.1\n  192.0.2.2\n  192.0.2.3\ngreylist_delay = x\n", 0,
	  "@@:4: greylist_delay: 'x' is not a duration" },
	{ "control bytes in a value are shown sanitised", "greylist_delay = 5\033[31m\n", 0,
	  "@@:1: greylist_delay: '5?[31m' is not a duration" },
	{ "bad greylist_reply escape", "greylist_reply = try again in %x seconds\n", 1,
	  "@@:1: greylist_reply: unknown escape '%x'" },
	{ "greylist_reply ending in %", "log_verbose = no\ngreylist_reply = 100%\n", 1,
	  "@@:2: greylist_reply: unknown escape" },
	{ "control character in greylist_reply", "greylist_reply = a\tb\n", 1,
	  "@@:1: greylist_reply: control characters are not allowed" },
	{ "retry_window equal to delay", "greylist_delay = 1h\ngreylist_retry_window = 1h\n", 1,
	  "@@:2: greylist_retry_window (3600s) must be longer than greylist_delay (3600s)" },
	{ "retry_window shorter than delay", "greylist_retry_window = 10m\ngreylist_delay = 1h\n", 1,
	  "@@:1: greylist_retry_window (600s) must be longer than greylist_delay (3600s)" },
	/*
	 * When only one side of a cross-check is in the file, the message must
	 * still point at the line that broke it ("file:line: name: ...").
	 */
	{ "delay beyond the default retry window names the delay's line",
	  "log_verbose = no\ngreylist_delay = 3d\n", 1, "@@:2: greylist_" },
	{ "retry window beyond the default max_age names its line",
	  "log_verbose = no\n\ngreylist_retry_window = 40d\n", 1, "@@:3: greylist_" },
	{ "max_age shorter than retry_window", "greylist_max_age = 1d\n", 1,
	  "@@:1: greylist_max_age (86400s) must not be shorter than greylist_retry_window" },
	{ "request size below line length",
	  "policy_max_line_length = 8192\npolicy_max_request_size = 4096\n", 1,
	  "@@:2: policy_max_request_size (4096) must be at least policy_max_line_length (8192)" },
	{ "empty listen", "listen = ,\n", 1, "@@:1: listen: no socket given" },
	{ "bad whitelist item", "log_verbose = no\nwhitelist_clients = 192.0.2.0/24 192.0.2.300\n", 1,
	  "@@:2: '192.0.2.300' is not an IP address" },
	{ "bad sender whitelist item", "whitelist_senders = a@b@c\n", 1, "@@:1: 'a@b@c' is not an address" },
	/* DNS cache TTL bounds */
	{ "dns_cache_min_ttl out of range", "dns_cache_min_ttl = 2d\n", 0,
	  "@@:1: dns_cache_min_ttl: '2d' is out of range (0..86400 seconds)" },
	{ "dns_cache_max_ttl of 0", "log_verbose = no\ndns_cache_max_ttl = 0\n", 0,
	  "@@:2: dns_cache_max_ttl: '0' is out of range (1..604800 seconds)" },
	{ "dns_cache_max_ttl above 7d", "dns_cache_max_ttl = 8d\n", 0,
	  "@@:1: dns_cache_max_ttl: '8d' is out of range (1..604800 seconds)" },
	{ "dns_cache_min_ttl not a duration", "dns_cache_min_ttl = a minute\n", 0,
	  "@@:1: dns_cache_min_ttl: 'a minute' is not a duration" },
	{ "dns_cache_min_ttl above dns_cache_max_ttl",
	  "log_verbose = no\ndns_cache_min_ttl = 2h\ndns_cache_max_ttl = 1h\n", 1,
	  "@@:2: dns_cache_min_ttl (7200s) must not be longer than dns_cache_max_ttl (3600s)" },
	{ "dns_cache_max_ttl below the default min names the max's line",
	  "log_verbose = no\n\ndns_cache_max_ttl = 30\n", 1,
	  "@@:3: dns_cache_min_ttl (60s) must not be longer than dns_cache_max_ttl (30s)" },
	{ "dns_cache_min_ttl above the default max names the min's line",
	  "log_verbose = no\ndns_cache_min_ttl = 2h\n", 1,
	  "@@:2: dns_cache_min_ttl (7200s) must not be longer than dns_cache_max_ttl (3600s)" },
	/* rdns_dynamic_address, rhsbl_targets */
	{ "bad rdns_dynamic_address", "rdns_dynamic_address = sometimes\n", 0,
	  "@@:1: rdns_dynamic_address: 'sometimes' is not yes or no" },
	{ "unknown rhsbl_targets word", "log_verbose = no\nrhsbl_targets = sender, foo\n", 0,
	  "@@:2: rhsbl_targets: 'foo': expected sender, helo or client" },
	{ "rhsbl_targets words are lower case", "rhsbl_targets = Sender\n", 0,
	  "@@:1: rhsbl_targets: 'Sender': expected sender, helo or client" },
	{ "rhsbl_targets prefix of a word", "rhsbl_targets = send\n", 0,
	  "@@:1: rhsbl_targets: 'send': expected sender, helo or client" },
	{ "rhsbl_targets word on a continuation line names the first line",
	  "rhsbl_targets = helo,\n  sender;client\n", 0,
	  "@@:1: rhsbl_targets: 'sender;client': expected sender, helo or client" },
	{ "rhsbl_targets word with control bytes is shown sanitised", "rhsbl_targets = he\033lo\n", 0,
	  "@@:1: rhsbl_targets: 'he?lo': expected sender, helo or client" },
};

static void test_error(void **state)
{
	const struct err_case *c = *state;
	struct gg_config *cfg;
	char *path, *want, err[512] = "";
	enum gg_status st;
	int found, at_path;

	st = load_text(c->text, strlen(c->text), &cfg, &path, err, sizeof(err));
	if (c->at_finish && st == GG_OK)
		st = gg_config_finish(cfg, err, sizeof(err));
	want = tu_subst(c->want, path);
	found = strstr(err, want) != NULL;
	at_path = strncmp(err, path, strlen(path)) == 0;	/* messages start with the location */
	/* Free before asserting: a failed assertion must not also report leaks. */
	free(want);
	free(path);
	gg_config_free(cfg);
	assert_int_not_equal(st, GG_OK);
	if (!found)
		fail_msg("message \"%s\" does not contain \"%s\" (with @@ = the file)", err, c->want);
	assert_true(at_path);
}

static void test_nul_byte(void **state)
{
	static const char text[] = "log_verbose = no\ngreylist_delay = 5\0m\n";
	struct gg_config *cfg;
	char *path, *want, err[512] = "";

	(void)state;
	assert_int_equal(load_text(text, sizeof(text) - 1, &cfg, &path, err, sizeof(err)), GG_EFORMAT);
	want = tu_subst("@@:2: NUL byte", path);
	tu_assert_contains(err, want);
	free(want);
	gg_config_free(cfg);
	free(path);
}

static void test_missing_file(void **state)
{
	struct gg_config *cfg = gg_config_new();
	char *path, err[512] = "";

	(void)state;
	path = tu_subst("@@/no-such.conf", tmpdir);
	assert_int_equal(gg_config_load(cfg, path, err, sizeof(err)), GG_EIO);
	tu_assert_contains(err, path);
	tu_assert_contains(err, "No such file");
	free(path);
	gg_config_free(cfg);
}

/* -o overrides and gg_config_set */

struct ovr_case {
	const char *label;
	const char *arg;
	enum gg_status st;
	const char *want;	/* error substring */
};

static const struct ovr_case ovr_cases[] = {
	{ "duration", "greylist_delay=10m", GG_OK, NULL },
	{ "white space around name and value", "  greylist_delay =  10m ", GG_OK, NULL },
	{ "value with '='", "greylist_reply=a=b %s", GG_OK, NULL },
	{ "no '='", "greylist_delay", GG_EINVAL, "-o greylist_delay: expected name=value" },
	{ "unknown setting", "no_such_setting=1", GG_EINVAL, "-o: unknown setting 'no_such_setting'" },
	{ "bad duration", "greylist_delay=5x", GG_EINVAL, "-o: greylist_delay: '5x' is not a duration" },
	{ "out of range", "greylist_ipv6_prefix=129", GG_ETOOBIG,
	  "-o: greylist_ipv6_prefix: '129' is out of range (0..128)" },
	{ "bad bool", "log_verbose=sometimes", GG_EINVAL, "-o: log_verbose: 'sometimes' is not yes or no" },
	{ "bad enum", "on_db_error=tempfail", GG_EINVAL, "-o: on_db_error: 'tempfail' is not one of dunno|defer" },
	{ "word list", "rhsbl_targets = helo client", GG_OK, NULL },
	{ "empty word list", "rhsbl_targets=", GG_OK, NULL },
	{ "bad word in a list", "rhsbl_targets=sender,mx", GG_EINVAL,
	  "-o: rhsbl_targets: 'mx': expected sender, helo or client" },
	{ "cache ttl out of range", "dns_cache_max_ttl=1y", GG_EINVAL,
	  "-o: dns_cache_max_ttl: '1y' is not a duration" },
};

static void test_override(void **state)
{
	const struct ovr_case *c = *state;
	struct gg_config *cfg = gg_config_new();
	char err[512] = "";
	enum gg_status st = gg_config_override(cfg, c->arg, err, sizeof(err));

	if (st != c->st)
		fail_msg("status %s, expected %s (%s)", gg_status_str(st), gg_status_str(c->st), err);
	if (c->want != NULL)
		tu_assert_contains(err, c->want);
	gg_config_free(cfg);
}

static void test_override_after_file(void **state)
{
	static const char text[] = "greylist_delay = 5m\ngreylist_reply = from file\n";
	struct gg_config *cfg;
	char *path, err[512] = "";

	(void)state;
	assert_int_equal(load_text(text, sizeof(text) - 1, &cfg, &path, err, sizeof(err)), GG_OK);
	assert_int_equal(gg_config_override(cfg, "greylist_delay=15m", err, sizeof(err)), GG_OK);
	assert_int_equal(gg_config_override(cfg, "greylist_reply = wait %s seconds ", err, sizeof(err)),
			 GG_OK);
	assert_int_equal(cfg->greylist_delay, 900);
	assert_string_equal(cfg->greylist_reply, "wait %s seconds");
	/* A cross-check error for an overridden value names "-o". */
	assert_int_equal(gg_config_override(cfg, "greylist_reply=%q", err, sizeof(err)), GG_OK);
	assert_int_not_equal(gg_config_finish(cfg, err, sizeof(err)), GG_OK);
	tu_assert_contains(err, "-o: greylist_reply: unknown escape '%q'");
	gg_config_free(cfg);
	free(path);
}

static void test_override_ttl_cross_check(void **state)
{
	static const char text[] = "dns_cache_min_ttl = 5m\n";
	struct gg_config *cfg;
	char *path, *want, err[512] = "";

	(void)state;
	assert_int_equal(load_text(text, sizeof(text) - 1, &cfg, &path, err, sizeof(err)), GG_OK);
	/* The file's min is fine with the default max ... */
	assert_int_equal(gg_config_override(cfg, "dns_cache_max_ttl=1m", err, sizeof(err)), GG_OK);
	assert_int_not_equal(gg_config_finish(cfg, err, sizeof(err)), GG_OK);
	/* ... so the file's line is named, where the min was set. */
	want = tu_subst("@@:1: dns_cache_min_ttl (300s) must not be longer than dns_cache_max_ttl (60s)",
			path);
	tu_assert_contains(err, want);
	free(want);
	gg_config_free(cfg);
	free(path);
	/* Both from -o: "-o". */
	cfg = gg_config_new();
	assert_int_equal(gg_config_override(cfg, "dns_cache_max_ttl=10", err, sizeof(err)), GG_OK);
	assert_int_not_equal(gg_config_finish(cfg, err, sizeof(err)), GG_OK);
	tu_assert_contains(err, "-o: dns_cache_min_ttl (60s) must not be longer than dns_cache_max_ttl (10s)");
	gg_config_free(cfg);
}

static void test_set_where(void **state)
{
	struct gg_config *cfg = gg_config_new();
	char err[512] = "";

	(void)state;
	assert_int_equal(gg_config_set(cfg, "greylist_delay", "2m", "x.conf:7", err, sizeof(err)), GG_OK);
	assert_int_equal(cfg->greylist_delay, 120);
	assert_int_not_equal(gg_config_set(cfg, "greylist_delay", "soon", "x.conf:8", err, sizeof(err)),
			     GG_OK);
	tu_assert_contains(err, "x.conf:8: greylist_delay: 'soon' is not a duration");
	assert_int_equal(cfg->greylist_delay, 120);	/* a failed set changes nothing */
	assert_int_not_equal(gg_config_set(cfg, "on_db_error", "panic", "x.conf:9", err, sizeof(err)),
			     GG_OK);
	assert_string_equal(cfg->on_db_error, "dunno");
	assert_int_equal(cfg->on_db_error_kind, GG_ON_DB_ERROR_DUNNO);
	gg_config_free(cfg);
}

/* Enumerated settings: every choice has its enum value, in the table's order */

struct enum_case {
	const char *name, *value;
	size_t field;	/* offset of the enum field in struct gg_config */
	int kind;
};

#define KIND(f) offsetof(struct gg_config, f)
static const struct enum_case enum_cases[] = {
	{ "on_db_error", "dunno", KIND(on_db_error_kind), GG_ON_DB_ERROR_DUNNO },
	{ "on_db_error", "defer", KIND(on_db_error_kind), GG_ON_DB_ERROR_DEFER },
	{ "syslog_facility", "mail", KIND(syslog_facility_kind), GG_SYSLOG_MAIL },
	{ "syslog_facility", "daemon", KIND(syslog_facility_kind), GG_SYSLOG_DAEMON },
	{ "syslog_facility", "local0", KIND(syslog_facility_kind), GG_SYSLOG_LOCAL0 },
	{ "syslog_facility", "local1", KIND(syslog_facility_kind), GG_SYSLOG_LOCAL1 },
	{ "syslog_facility", "local2", KIND(syslog_facility_kind), GG_SYSLOG_LOCAL2 },
	{ "syslog_facility", "local3", KIND(syslog_facility_kind), GG_SYSLOG_LOCAL3 },
	{ "syslog_facility", "local4", KIND(syslog_facility_kind), GG_SYSLOG_LOCAL4 },
	{ "syslog_facility", "local5", KIND(syslog_facility_kind), GG_SYSLOG_LOCAL5 },
	{ "syslog_facility", "local6", KIND(syslog_facility_kind), GG_SYSLOG_LOCAL6 },
	{ "syslog_facility", "local7", KIND(syslog_facility_kind), GG_SYSLOG_LOCAL7 },
};

static void test_enum(void **state)
{
	const struct enum_case *c = *state;
	struct gg_config *cfg = gg_config_new();
	char err[512] = "";

	assert_non_null(cfg);
	/* Start from another choice, so a field that is never set fails. */
	*(int *)((char *)cfg + c->field) = -1;
	if (gg_config_set(cfg, c->name, c->value, "-o", err, sizeof(err)) != GG_OK)
		fail_msg("%s = %s: %s", c->name, c->value, err);
	assert_int_equal(*(int *)((char *)cfg + c->field), c->kind);
	gg_config_free(cfg);
}

/* Printing */

static char *print_to_string(const struct gg_config *cfg, int only_changed)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	assert_non_null(fp);
	gg_config_print(cfg, fp, only_changed);
	fclose(fp);
	return buf;
}

static void test_print_only_changed(void **state)
{
	struct gg_config *cfg = gg_config_new();
	char err[512] = "", *out;

	(void)state;
	out = print_to_string(cfg, 1);
	assert_string_equal(out, "");
	free(out);
	assert_int_equal(gg_config_override(cfg, "greylist_delay=10m", err, sizeof(err)), GG_OK);
	assert_int_equal(gg_config_override(cfg, "log_verbose=true", err, sizeof(err)), GG_OK);
	assert_int_equal(gg_config_override(cfg, "listen_unix_mode=660", err, sizeof(err)), GG_OK);
	/* Set to the default value: not a change. */
	assert_int_equal(gg_config_override(cfg, "greylist_ipv4_prefix=24", err, sizeof(err)), GG_OK);
	assert_int_equal(gg_config_override(cfg, "greylist_retry_window=48h", err, sizeof(err)), GG_OK);
	out = print_to_string(cfg, 1);
	assert_string_equal(out,
			    "listen_unix_mode = 0660\n"
			    "log_verbose = yes\n"
			    "greylist_delay = 600s\n");
	free(out);
	gg_config_free(cfg);
}

static void test_print_all_round_trip(void **state)
{
	struct gg_config *cfg = gg_config_new(), *again;
	char err[512] = "", *out, *out2, *path;
	size_t lines = 0;

	(void)state;
	assert_int_equal(gg_config_override(cfg, "greylist_delay=10m", err, sizeof(err)), GG_OK);
	assert_int_equal(gg_config_override(cfg, "whitelist_clients=192.0.2.0/24 .example.com", err,
					    sizeof(err)), GG_OK);
	out = print_to_string(cfg, 0);
	for (const char *p = out; *p; p++)
		lines += *p == '\n';
	assert_true(lines >= 30);
	tu_assert_contains(out, "greylist_delay = 600s\n");
	tu_assert_contains(out, "greylist_retry_window = 172800s\n");
	tu_assert_contains(out, "listen_unix_mode = 0666\n");
	tu_assert_contains(out, "greylist_header = yes\n");
	tu_assert_contains(out, "pid_file = \n");
	/* What -n prints must load back to the same settings. */
	assert_int_equal(load_text(out, strlen(out), &again, &path, err, sizeof(err)), GG_OK);
	out2 = print_to_string(again, 0);
	assert_string_equal(out2, out);
	free(out2);
	free(out);
	free(path);
	gg_config_free(again);
	gg_config_free(cfg);
}

static void test_print_table(void **state)
{
	char *buf = NULL, *line, *save = NULL;
	size_t len = 0, rows = 0;
	FILE *fp = open_memstream(&buf, &len);
	struct gg_config *cfg = gg_config_new();
	char *all = print_to_string(cfg, 0);
	size_t settings = 0;

	(void)state;
	for (const char *p = all; *p; p++)
		settings += *p == '\n';
	gg_config_print_table(fp);
	fclose(fp);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t bars = 0;
		for (const char *p = line; *p; p++)
			bars += *p == '|';
		if (bars < 3)
			fail_msg("table row without name|type|default|description: %s", line);
		rows++;
	}
	assert_int_equal(rows, settings);	/* every setting is documented */
	free(buf);
	free(all);
	gg_config_free(cfg);
}

int main(void)
{
	struct tu_suite s = { 0 };
	size_t i;
	int failed;

	tmpdir = tu_mkdtemp();
	tu_add(&s, test_defaults, NULL, "defaults: every setting, and they finish");
	tu_add(&s, test_full_file, NULL, "file: comments, continuation lines and every type");
	tu_add(&s, test_crlf_and_no_final_newline, NULL, "file: CRLF lines and no final newline");
	tu_add(&s, test_later_setting_wins, NULL, "file: a later line overrides an earlier one");
	tu_add(&s, test_empty_file, NULL, "file: an empty file keeps the defaults");
	for (i = 0; i < GG_ARRAY_LEN(words_cases); i++)
		tu_add(&s, test_words, &words_cases[i], "rhsbl_targets: %s", words_cases[i].label);
	tu_add(&s, test_cache_ttl_bounds, NULL, "dns_cache_*_ttl: equal bounds and both extremes finish");
	for (i = 0; i < GG_ARRAY_LEN(err_cases); i++)
		tu_add(&s, test_error, &err_cases[i], "error: %s", err_cases[i].label);
	tu_add(&s, test_nul_byte, NULL, "error: NUL byte in a line");
	tu_add(&s, test_missing_file, NULL, "error: missing file");
	for (i = 0; i < GG_ARRAY_LEN(ovr_cases); i++)
		tu_add(&s, test_override, &ovr_cases[i], "override: %s", ovr_cases[i].label);
	tu_add(&s, test_override_after_file, NULL, "override: -o wins over the file; errors say -o");
	tu_add(&s, test_override_ttl_cross_check, NULL,
	       "override: the TTL cross-check names the min's line, or -o");
	for (i = 0; i < GG_ARRAY_LEN(enum_cases); i++)
		tu_add(&s, test_enum, &enum_cases[i], "enum: %s = %s", enum_cases[i].name,
		       enum_cases[i].value);
	tu_add(&s, test_set_where, NULL, "set: errors carry the caller's location; failures change nothing");
	tu_add(&s, test_print_only_changed, NULL, "print: only_changed lists non-default values");
	tu_add(&s, test_print_all_round_trip, NULL, "print: everything, and it loads back identically");
	tu_add(&s, test_print_table, NULL, "print_table: one documented row per setting");
	failed = tu_run(&s, "t_config");
	tu_rmtree(tmpdir);
	free(tmpdir);
	return failed;
}

/*
 * fuzz_config.c - the configuration file parser and its cross-checks
 *
 * The input is written to a private temporary file (gg_config_load() takes
 * a path) and loaded; a file that loads is finished (which builds the
 * whitelists) and printed both ways.  The input, cut at its first NUL, is
 * also tried as a "-o" override.
 *
 * "file:" whitelist items would make the fuzzer read any file on the host
 * (/dev/zero never ends), so a whitelist setting that mentions "file:" is
 * replaced by one that includes a fixture file written here instead; the
 * file: code path is still exercised.
 */
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "engine/config.h"
#include "lib/util.h"
#include "engine/wlist.h"

static char dir[256], conf[300], fixture[300];
static FILE *devnull;

static void cleanup(void)
{
	unlink(conf);
	unlink(fixture);
	rmdir(dir);
}

static void setup(void)
{
	static const char items[] =
		"# fixture whitelist\n192.0.2.0/24 .example.org\nmx.example.net # host\n/^mx[0-9]+\\./\n";
	const char *tmp = getenv("TMPDIR");
	FILE *fp;

	snprintf(dir, sizeof(dir), "%s/gg-fuzz-config.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	fuzz_check(mkdtemp(dir) != NULL);
	snprintf(conf, sizeof(conf), "%s/greygate.conf", dir);
	snprintf(fixture, sizeof(fixture), "%s/whitelist", dir);
	fuzz_check((fp = fopen(fixture, "w")) != NULL);
	fputs(items, fp);
	fclose(fp);
	fuzz_check((devnull = fopen("/dev/null", "w")) != NULL);
	atexit(cleanup);
}

/* defuse - keep file: items inside our own fixture */
static void defuse(struct gg_config *cfg, const char *name, const char *value)
{
	char repl[400], err[512];

	if (strstr(value, "file:") == NULL)
		return;
	snprintf(repl, sizeof(repl), "file:%s 192.0.2.1", fixture);
	fuzz_check(gg_config_set(cfg, name, repl, "fuzz", err, sizeof(err)) == GG_OK);
}

static void check_err(const char *err, size_t size)
{
	fuzz_check(strnlen(err, size) < size);
	fuzz_check(err[0] != '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gg_config *cfg;
	char err[512];
	FILE *fp;
	char *arg;
	enum gg_status st;

	if (dir[0] == '\0')
		setup();
	fuzz_check((fp = fopen(conf, "wb")) != NULL);
	if (size > 0)
		fuzz_check(fwrite(data, 1, size, fp) == size);
	fuzz_check(fclose(fp) == 0);

	fuzz_check((cfg = gg_config_new()) != NULL);
	err[0] = '\0';
	st = gg_config_load(cfg, conf, err, sizeof(err));
	if (st != GG_OK) {
		check_err(err, sizeof(err));
	} else {
		defuse(cfg, "whitelist_clients", cfg->whitelist_clients);
		defuse(cfg, "whitelist_senders", cfg->whitelist_senders);
		defuse(cfg, "whitelist_recipients", cfg->whitelist_recipients);
		err[0] = '\0';
		st = gg_config_finish(cfg, err, sizeof(err));
		if (st != GG_OK) {
			check_err(err, sizeof(err));
		} else {
			/* The cross-checks hold for every finished snapshot. */
			fuzz_check(cfg->greylist_retry_window > cfg->greylist_delay);
			fuzz_check(cfg->greylist_max_age >= cfg->greylist_retry_window);
			fuzz_check(cfg->policy_max_request_size >= cfg->policy_max_line_length);
			fuzz_check(cfg->greylist_ipv4_prefix >= 0 && cfg->greylist_ipv4_prefix <= 32);
			fuzz_check(cfg->greylist_ipv6_prefix >= 0 && cfg->greylist_ipv6_prefix <= 128);
			fuzz_check(cfg->wl_clients && cfg->wl_senders && cfg->wl_recipients);
			fuzz_check(cfg->myhostname[0] != '\0');
			gg_config_print(cfg, devnull, 0);
			gg_config_print(cfg, devnull, 1);
		}
	}
	gg_config_free(cfg);

	/* The same bytes as one -o argument. */
	if ((arg = malloc(size + 1)) != NULL) {
		memcpy(arg, data, size);
		arg[size] = '\0';
		fuzz_check((cfg = gg_config_new()) != NULL);
		err[0] = '\0';
		if (gg_config_override(cfg, arg, err, sizeof(err)) != GG_OK)
			check_err(err, sizeof(err));
		gg_config_free(cfg);
		free(arg);
	}
	return 0;
}

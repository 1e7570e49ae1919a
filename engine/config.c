/*
 * config.c - the settings table and the greygate.conf parser (see config.h)
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/config.h"
#include "lib/util.h"
#include "engine/wlist.h"
#include "store/store.h"

enum ctype { CT_STR, CT_INT, CT_DURATION, CT_BOOL, CT_MODE, CT_ENUM, CT_DOUBLE, CT_WORDS };

struct setting {
	const char *name;
	enum ctype type;
	const char *def;
	long min, max;
	size_t offset;
	const char *choices;	/* CT_ENUM, CT_WORDS: "a|b|c" (CT_WORDS: bit i = word i) */
	const char *doc;
};

#define OFF(f) offsetof(struct gg_config, f)
#define DAY 86400L
#define YEAR (366 * DAY)

static const struct setting settings[] = {
	{ "listen", CT_STR, "inet:127.0.0.1:10023", 0, 0, OFF(listen), NULL,
	  "Comma-separated sockets: inet:ADDR:PORT, inet:[IPV6]:PORT, unix:/path" },
	{ "listen_unix_mode", CT_MODE, "0666", 0, 07777, OFF(listen_unix_mode), NULL,
	  "Permissions of unix: sockets (octal)" },
	{ "milter_socket", CT_STR, "inet:10024@127.0.0.1", 0, 0, OFF(milter_socket), NULL,
	  "greygate-milter's socket, libmilter syntax: inet:PORT@ADDR, inet6:PORT@ADDR, unix:/path" },
	{ "user", CT_STR, "greygate", 0, 0, OFF(user), NULL,
	  "User to switch to after binding and opening the database when started as root; empty: stay" },
	{ "pid_file", CT_STR, "", 0, 0, OFF(pid_file), NULL,
	  "Write the daemon's pid here (empty: none)" },
	{ "syslog_name", CT_STR, "greygate", 0, 0, OFF(syslog_name), NULL,
	  "Syslog identity" },
	{ "syslog_facility", CT_ENUM, "mail", 0, 0, OFF(syslog_facility),
	  "mail|daemon|local0|local1|local2|local3|local4|local5|local6|local7", "Syslog facility" },
	{ "myhostname", CT_STR, "", 0, 0, OFF(myhostname), NULL,
	  "Host name used in X-Greylist headers and replies (empty: the system's)" },
	{ "log_verbose", CT_BOOL, "no", 0, 0, OFF(log_verbose), NULL,
	  "Log connection events and protocol details too" },
	{ "database", CT_STR, "bdb:/var/lib/greygate", 0, 0, OFF(database), NULL,
	  "Triplet store: bdb:DIRECTORY (Berkeley DB) or redis:HOST:PORT[/DB] (shared by MX hosts)" },
	{ "database_cache_size", CT_INT, "32", 1, 4096, OFF(database_cache_size), NULL,
	  "Berkeley DB cache in MB" },
	{ "database_checkpoint_interval", CT_DURATION, "60s", 1, DAY, OFF(database_checkpoint_interval), NULL,
	  "How often the database log is checkpointed and old log files removed" },
	{ "database_expire_interval", CT_DURATION, "1h", 1, 30 * DAY, OFF(database_expire_interval), NULL,
	  "How often a walk over the database deletes expired and corrupt records" },
	{ "database_expire_slice", CT_INT, "500", 1, 1000000, OFF(database_expire_slice), NULL,
	  "Records examined per expiry step (one step every 20 ms while a walk runs)" },
	{ "on_db_error", CT_ENUM, "dunno", 0, 0, OFF(on_db_error), "dunno|defer",
	  "Answer when the database fails during a request: dunno (fail open) or defer" },
	{ "greylist_delay", CT_DURATION, "300s", 0, 30 * DAY, OFF(greylist_delay), NULL,
	  "How long a new triplet is deferred" },
	{ "greylist_retry_window", CT_DURATION, "2d", 1, YEAR, OFF(greylist_retry_window), NULL,
	  "A retry must come within this time after the first attempt, else it starts over" },
	{ "greylist_max_age", CT_DURATION, "35d", 1, 10 * YEAR, OFF(greylist_max_age), NULL,
	  "Records unused this long are forgotten" },
	{ "greylist_auto_whitelist", CT_INT, "5", 0, 1000000, OFF(greylist_auto_whitelist), NULL,
	  "Passed deliveries (at most one counted per hour) after which a client network is trusted; 0 disables" },
	{ "greylist_ipv4_prefix", CT_INT, "24", 0, 32, OFF(greylist_ipv4_prefix), NULL,
	  "IPv4 client network prefix in triplets" },
	{ "greylist_ipv6_prefix", CT_INT, "64", 0, 128, OFF(greylist_ipv6_prefix), NULL,
	  "IPv6 client network prefix in triplets" },
	{ "greylist_reply", CT_STR, "Greylisted, please try again in %s seconds", 0, 0,
	  OFF(greylist_reply), NULL,
	  "Text after DEFER_IF_PERMIT 4.7.1; escapes %s %d %c %f %r %h %%" },
	{ "greylist_header", CT_BOOL, "yes", 0, 0, OFF(greylist_header), NULL,
	  "Add X-Greylist to a delayed message when it passes, once per message" },
	{ "whitelist_clients", CT_STR, "", 0, 0, OFF(whitelist_clients), NULL,
	  "Clients never greylisted: addresses, networks, host names, .domains, /regex/, file:/path" },
	{ "whitelist_senders", CT_STR, "", 0, 0, OFF(whitelist_senders), NULL,
	  "Senders never greylisted: address, @domain, .domain, user@, /regex/, file:/path" },
	{ "whitelist_recipients", CT_STR, "", 0, 0, OFF(whitelist_recipients), NULL,
	  "Recipients never greylisted: address, @domain, .domain, user@, /regex/, file:/path" },
	/* DNS checks, SPF and scoring (all off by default: no DNS query at all) */
	{ "dns_servers", CT_STR, "", 0, 0, OFF(dns_servers), NULL,
	  "Resolvers for every DNS check: 127.0.0.1:53, [::1]:5353, ...; empty: /etc/resolv.conf" },
	{ "dns_timeout", CT_DURATION, "3s", 1, 60, OFF(dns_timeout), NULL,
	  "Deadline for all DNS checks of one request; what has not answered by then adds nothing" },
	{ "dns_cache_size", CT_INT, "10000", 0, 10000000, OFF(dns_cache_size), NULL,
	  "Most DNS answers kept in the cache (by TTL)" },
	{ "dns_cache_min_ttl", CT_DURATION, "60s", 0, DAY, OFF(dns_cache_min_ttl), NULL,
	  "Shortest time a DNS answer is cached, whatever its TTL" },
	{ "dns_cache_max_ttl", CT_DURATION, "1h", 1, 7 * DAY, OFF(dns_cache_max_ttl), NULL,
	  "Longest time a DNS answer is cached, whatever its TTL" },
	{ "dnsbl_sites", CT_STR, "", 0, 0, OFF(dnsbl_sites), NULL,
	  "Client IP block lists, postscreen syntax: zone[=filter]*weight, ..." },
	{ "dnswl_sites", CT_STR, "", 0, 0, OFF(dnswl_sites), NULL,
	  "Client IP allow lists (usually negative weights), same syntax" },
	{ "rhsbl_sites", CT_STR, "", 0, 0, OFF(rhsbl_sites), NULL,
	  "Domain block lists for the sender domain, HELO name and client name, same syntax" },
	/* The words' order is the bit order of GG_CONFIG_RHSBL_SENDER, _HELO, _CLIENT. */
	{ "rhsbl_targets", CT_WORDS, "sender, helo, client", 0, 0, OFF(rhsbl_targets),
	  "sender|helo|client",
	  "Names looked up in rhsbl_sites: sender (domain), helo, client (verified name); empty: none" },
	{ "dnsbl_probe_interval", CT_DURATION, "1h", 60, 7 * DAY, OFF(dnsbl_probe_interval), NULL,
	  "How often every list is checked against its RFC 5782 test entries" },
	{ "rdns_check", CT_BOOL, "no", 0, 0, OFF(rdns_check), NULL,
	  "Score the client's reverse DNS (missing, unconfirmed, dynamic-looking)" },
	{ "rdns_missing_weight", CT_DOUBLE, "1.5", -1000, 1000, OFF(rdns_missing_weight), NULL,
	  "Weight when the client address has no PTR record" },
	{ "rdns_unconfirmed_weight", CT_DOUBLE, "1", -1000, 1000, OFF(rdns_unconfirmed_weight), NULL,
	  "Weight when no PTR name resolves back to the client address" },
	{ "rdns_dynamic_weight", CT_DOUBLE, "1", -1000, 1000, OFF(rdns_dynamic_weight), NULL,
	  "Weight when the client name looks generic or dynamic" },
	{ "rdns_dynamic_patterns", CT_STR, "", 0, 0, OFF(rdns_dynamic_patterns), NULL,
	  "/regex/ patterns of generic names, replacing the built-in one" },
	{ "rdns_dynamic_address", CT_BOOL, "yes", 0, 0, OFF(rdns_dynamic_address), NULL,
	  "A host name that contains the client address's digits counts as dynamic" },
	{ "helo_check", CT_BOOL, "no", 0, 0, OFF(helo_check), NULL,
	  "Score the HELO name (IP literal mismatch, our own name, not a FQDN, unresolvable)" },
	{ "helo_ip_mismatch_weight", CT_DOUBLE, "2", -1000, 1000, OFF(helo_ip_mismatch_weight), NULL,
	  "Weight when the HELO is an address literal other than the client's" },
	{ "helo_ours_weight", CT_DOUBLE, "3", -1000, 1000, OFF(helo_ours_weight), NULL,
	  "Weight when the HELO claims one of helo_own_names" },
	{ "helo_not_fqdn_weight", CT_DOUBLE, "1", -1000, 1000, OFF(helo_not_fqdn_weight), NULL,
	  "Weight when the HELO is not a fully qualified domain name" },
	{ "helo_unresolvable_weight", CT_DOUBLE, "0.5", -1000, 1000, OFF(helo_unresolvable_weight), NULL,
	  "Weight when the HELO name has no A or AAAA record" },
	{ "helo_own_names", CT_STR, "", 0, 0, OFF(helo_own_names), NULL,
	  "Names and addresses that only we may use in HELO (empty: myhostname)" },
	{ "spf_check", CT_BOOL, "no", 0, 0, OFF(spf_check), NULL,
	  "Evaluate SPF for MAIL FROM (HELO for the null sender) with libspf2" },
	{ "spf_weights", CT_STR, "pass:-1, fail:5, softfail:1.5, neutral:0, none:0.5, temperror:0, permerror:1",
	  0, 0, OFF(spf_weights), NULL, "Weight of each SPF result" },
	{ "spf_workers", CT_INT, "4", 1, 64, OFF(spf_workers), NULL,
	  "SPF worker threads (libspf2 is synchronous)" },
	{ "spf_header", CT_BOOL, "yes", 0, 0, OFF(spf_header), NULL,
	  "Answer a DATA-stage policy request with PREPEND Received-SPF (needs spf_check)" },
	{ "greylist_key_spf_domain", CT_BOOL, "yes", 0, 0, OFF(greylist_key_spf_domain), NULL,
	  "When SPF passes, key the triplet by the SPF domain instead of the client network" },
	{ "greylist_threshold", CT_DOUBLE, "0", -1000, 1000, OFF(greylist_threshold), NULL,
	  "Score from which the triplet store decides (below: accepted at once)" },
	{ "tag_threshold", CT_DOUBLE, "5", -1000, 1000, OFF(tag_threshold), NULL,
	  "Score from which mail is accepted with an X-Spam-Score header, without greylisting" },
	{ "reject_threshold", CT_DOUBLE, "10", -1000, 1000, OFF(reject_threshold), NULL,
	  "Score from which mail is rejected with 5.7.1 and the reasons" },
	{ "policy_max_line_length", CT_INT, "4096", 64, 1048576, OFF(policy_max_line_length), NULL,
	  "Longest attribute line accepted" },
	{ "policy_max_attributes", CT_INT, "128", 8, 100000, OFF(policy_max_attributes), NULL,
	  "Most attributes in one request" },
	{ "policy_max_request_size", CT_INT, "65536", 256, 16777216, OFF(policy_max_request_size), NULL,
	  "Largest request in bytes" },
	{ "policy_max_connections", CT_INT, "4096", 1, 1000000, OFF(policy_max_connections), NULL,
	  "Most simultaneous client connections; more are closed at once" },
	{ "policy_idle_timeout", CT_DURATION, "330s", 1, DAY, OFF(policy_idle_timeout), NULL,
	  "Close a connection idle between requests this long" },
	{ "policy_request_timeout", CT_DURATION, "30s", 1, DAY, OFF(policy_request_timeout), NULL,
	  "Close a connection that leaves a request unfinished this long" },
};

#define NSETTINGS GG_ARRAY_LEN(settings)

/* The enum field of each CT_ENUM setting: it gets the index of the choice. */
static const struct {
	const char *name;
	size_t offset;
} kinds[] = {
	{ "syslog_facility", OFF(syslog_facility_kind) },
	{ "on_db_error", OFF(on_db_error_kind) },
};

/* kind_field - the enum field of a CT_ENUM setting, NULL if it has none */
static int *kind_field(struct gg_config *cfg, const struct setting *s)
{
	for (size_t i = 0; i < GG_ARRAY_LEN(kinds); i++)
		if (strcmp(kinds[i].name, s->name) == 0)
			return (int *)((char *)cfg + kinds[i].offset);
	return NULL;
}

static char **str_field(struct gg_config *cfg, const struct setting *s)
{
	return (char **)((char *)cfg + s->offset);
}

static long *long_field(struct gg_config *cfg, const struct setting *s)
{
	return (long *)((char *)cfg + s->offset);
}

static double *double_field(struct gg_config *cfg, const struct setting *s)
{
	return (double *)((char *)cfg + s->offset);
}

static int *int_field(struct gg_config *cfg, const struct setting *s)
{
	return (int *)((char *)cfg + s->offset);
}

static unsigned *words_field(struct gg_config *cfg, const struct setting *s)
{
	return (unsigned *)((char *)cfg + s->offset);
}

static const struct setting *find(const char *name)
{
	for (size_t i = 0; i < NSETTINGS; i++)
		if (strcmp(settings[i].name, name) == 0)
			return &settings[i];
	return NULL;
}

/* word_bit - the bit of word (len bytes) among "a|b|c", 0 if it is none of them */
static unsigned word_bit(const char *choices, const char *word, size_t len)
{
	const char *p = choices;
	unsigned bit = 1;

	while (*p) {
		const char *e = strchr(p, '|');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l == len && strncmp(p, word, l) == 0)
			return bit;
		if (e == NULL)
			break;
		p = e + 1;
		bit <<= 1;
	}
	return 0;
}

/* choice_index - the index of value among "a|b|c", -1 if it is none of them */
static int choice_index(const char *choices, const char *value)
{
	unsigned bit = word_bit(choices, value, strlen(value));
	int i = 0;

	if (bit == 0)
		return -1;
	while (bit >>= 1)
		i++;
	return i;
}

/* choices_text - "a|b|c" as "a, b or c" for messages */
static void choices_text(const char *choices, char *buf, size_t size)
{
	size_t n = 0, words = 1;

	for (const char *p = choices; *p; p++)
		words += *p == '|';
	buf[0] = '\0';
	for (const char *p = choices; *p && n + 1 < size; words--) {
		size_t l = strcspn(p, "|");
		int w = snprintf(buf + n, size - n, "%.*s%s", (int)l, p,
				 words > 2 ? ", " : words == 2 ? " or " : "");
		if (w < 0 || (size_t)w >= size - n)
			break;
		n += (size_t)w;
		p += l + (p[l] == '|');
	}
}

/* parse_words - a comma/space list of words from s->choices as bits; "" is none */
static enum gg_status parse_words(const struct setting *s, const char *value, unsigned *bits,
				  const char *where, char *err, size_t errsize)
{
	const char *p = value;
	unsigned b = 0, bit;

	for (;;) {
		size_t len;
		p += strspn(p, ", \t");
		if (*p == '\0')
			break;
		len = strcspn(p, ", \t");
		if ((bit = word_bit(s->choices, p, len)) == 0) {
			char shown[80], expected[200];
			gg_sanitize(shown, sizeof(shown), p, len, 60);
			choices_text(s->choices, expected, sizeof(expected));
			snprintf(err, errsize, "%s: %s: '%s': expected %s", where, s->name, shown,
				 expected);
			return GG_EINVAL;
		}
		b |= bit;
		p += len;
	}
	*bits = b;
	return GG_OK;
}

/* set_one - parse value into its typed field */
static enum gg_status set_one(struct gg_config *cfg, const struct setting *s, const char *value,
			      const char *where, char *err, size_t errsize)
{
	long v;
	int b;
	enum gg_status st;
	char shown[80];

	gg_sanitize(shown, sizeof(shown), value, strlen(value), 60);
	switch (s->type) {
	case CT_STR:
	case CT_ENUM: {
		char *copy;
		int kind = s->type == CT_ENUM ? choice_index(s->choices, value) : 0;
		if (kind < 0) {
			snprintf(err, errsize, "%s: %s: '%s' is not one of %s", where, s->name,
				 shown, s->choices);
			return GG_EINVAL;
		}
		if ((copy = strdup(value)) == NULL) {
			snprintf(err, errsize, "%s: out of memory", where);
			return GG_ENOMEM;
		}
		free(*str_field(cfg, s));
		*str_field(cfg, s) = copy;
		if (s->type == CT_ENUM && kind_field(cfg, s) != NULL)
			*kind_field(cfg, s) = kind;
		return GG_OK;
	}
	case CT_INT:
		st = gg_parse_long(value, s->min, s->max, &v);
		if (st == GG_EINVAL) {
			snprintf(err, errsize, "%s: %s: '%s' is not a number", where, s->name, shown);
			return st;
		}
		break;
	case CT_DURATION:
		st = gg_parse_duration(value, LONG_MAX / 2, &v);
		if (st == GG_EINVAL) {
			snprintf(err, errsize, "%s: %s: '%s' is not a duration (a number with an "
				 "optional s, m, h, d or w suffix)", where, s->name, shown);
			return st;
		}
		if (st == GG_OK && (v < s->min || v > s->max))
			st = GG_ETOOBIG;
		break;
	case CT_MODE: {
		char *end;
		errno = 0;
		v = strtol(value, &end, 8);
		st = (*value == '\0' || *end != '\0' || errno) ? GG_EINVAL :
		    (v < s->min || v > s->max) ? GG_ETOOBIG : GG_OK;
		if (st == GG_EINVAL) {
			snprintf(err, errsize, "%s: %s: '%s' is not an octal mode", where, s->name, shown);
			return st;
		}
		break;
	}
	case CT_DOUBLE: {
		char *end;
		double d;
		errno = 0;
		d = strtod(value, &end);
		if (*value == '\0' || *end != '\0' || errno != 0 || d != d) {
			snprintf(err, errsize, "%s: %s: '%s' is not a number", where, s->name, shown);
			return GG_EINVAL;
		}
		if (d < (double)s->min || d > (double)s->max) {
			snprintf(err, errsize, "%s: %s: '%s' is out of range (%ld..%ld)", where, s->name,
				 shown, s->min, s->max);
			return GG_ETOOBIG;
		}
		*double_field(cfg, s) = d;
		return GG_OK;
	}
	case CT_BOOL:
		if (gg_parse_bool(value, &b) != GG_OK) {
			snprintf(err, errsize, "%s: %s: '%s' is not yes or no", where, s->name, shown);
			return GG_EINVAL;
		}
		*int_field(cfg, s) = b;
		return GG_OK;
	case CT_WORDS: {
		unsigned bits;
		if ((st = parse_words(s, value, &bits, where, err, errsize)) != GG_OK)
			return st;
		*words_field(cfg, s) = bits;
		return GG_OK;
	}
	default:
		return GG_EINVAL;
	}
	if (st != GG_OK) {
		snprintf(err, errsize, "%s: %s: '%s' is out of range (%ld..%ld%s)", where, s->name,
			 shown, s->min, s->max, s->type == CT_DURATION ? " seconds" : "");
		return st;
	}
	*long_field(cfg, s) = v;
	return GG_OK;
}

/* gg_config_new - a snapshot with every default */
struct gg_config *gg_config_new(void)
{
	struct gg_config *cfg = calloc(1, sizeof(*cfg));
	char err[256];

	if (cfg == NULL)
		return NULL;
	if ((cfg->where = calloc(NSETTINGS, sizeof(char *))) == NULL ||
	    (cfg->path = strdup("")) == NULL)
		goto fail;
	for (size_t i = 0; i < NSETTINGS; i++)
		if (set_one(cfg, &settings[i], settings[i].def, "default", err, sizeof(err)) != GG_OK)
			goto fail;
	return cfg;
fail:
	gg_config_free(cfg);
	return NULL;
}

/* gg_config_free - release a snapshot */
void gg_config_free(struct gg_config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < NSETTINGS; i++) {
		if (settings[i].type == CT_STR || settings[i].type == CT_ENUM)
			free(*str_field(cfg, &settings[i]));
		if (cfg->where)
			free(cfg->where[i]);
	}
	free(cfg->where);
	free(cfg->path);
	gg_wlist_free(cfg->wl_clients);
	gg_wlist_free(cfg->wl_senders);
	gg_wlist_free(cfg->wl_recipients);
	free(cfg);
}

/* gg_config_set - one setting by name */
enum gg_status gg_config_set(struct gg_config *cfg, const char *name, const char *value,
			     const char *where, char *err, size_t errsize)
{
	const struct setting *s = find(name);
	enum gg_status st;
	size_t idx;
	char shown[80];

	if (s == NULL) {
		gg_sanitize(shown, sizeof(shown), name, strlen(name), 60);
		snprintf(err, errsize, "%s: unknown setting '%s'", where, shown);
		return GG_EINVAL;
	}
	if ((st = set_one(cfg, s, value, where, err, errsize)) != GG_OK)
		return st;
	idx = (size_t)(s - settings);
	free(cfg->where[idx]);
	cfg->where[idx] = strdup(where);
	return GG_OK;
}

/* apply_line - one logical "name = value" line */
static enum gg_status apply_line(struct gg_config *cfg, char *line, const char *where,
				 char *err, size_t errsize)
{
	char *eq = strchr(line, '='), *name, *value;

	if (eq == NULL) {
		char shown[80];
		gg_sanitize(shown, sizeof(shown), line, strlen(line), 60);
		snprintf(err, errsize, "%s: missing '=' in '%s' (expected name = value)", where, shown);
		return GG_EFORMAT;
	}
	*eq = '\0';
	name = gg_str_trim(line);
	value = gg_str_trim(eq + 1);
	if (*name == '\0') {
		snprintf(err, errsize, "%s: missing setting name before '='", where);
		return GG_EFORMAT;
	}
	return gg_config_set(cfg, name, value, where, err, errsize);
}

/* gg_config_load - read a file of settings */
enum gg_status gg_config_load(struct gg_config *cfg, const char *path, char *err, size_t errsize)
{
	FILE *fp;
	char *line = NULL, *logical = NULL, where[600];
	size_t cap = 0, llen = 0;
	ssize_t n;
	long lineno = 0, startline = 0;
	enum gg_status st = GG_OK;

	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errsize, "cannot open configuration file %s: %s", path, strerror(errno));
		return GG_EIO;
	}
	free(cfg->path);
	cfg->path = strdup(path);
	for (;;) {
		n = getline(&line, &cap, fp);
		if (n >= 0) {
			lineno++;
			while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
				line[--n] = '\0';
		}
		if (n >= 0 && memchr(line, '\0', (size_t)n) != NULL) {
			snprintf(err, errsize, "%s:%ld: NUL byte in configuration line", path, lineno);
			st = GG_EFORMAT;
			break;
		}
		int blank = n >= 0 && line[strspn(line, " \t")] == '\0';
		int comment = n >= 0 && line[strspn(line, " \t")] == '#';
		int cont = n >= 0 && !blank && !comment && (line[0] == ' ' || line[0] == '\t');
		if (blank || comment)
			continue;
		if (cont) {
			if (logical == NULL) {
				snprintf(err, errsize, "%s:%ld: continuation line without a setting "
					 "before it (settings start in the first column)", path, lineno);
				st = GG_EFORMAT;
				break;
			}
			char *nl = realloc(logical, llen + (size_t)n + 2);
			if (nl == NULL) {
				st = GG_ENOMEM;
				break;
			}
			logical = nl;
			logical[llen++] = ' ';
			memcpy(logical + llen, line, (size_t)n + 1);
			llen += (size_t)n;
			continue;
		}
		if (logical != NULL) {
			snprintf(where, sizeof(where), "%s:%ld", path, startline);
			st = apply_line(cfg, logical, where, err, errsize);
			free(logical);
			logical = NULL;
			if (st != GG_OK)
				break;
		}
		if (n < 0)
			break;
		if ((logical = strdup(line)) == NULL) {
			st = GG_ENOMEM;
			break;
		}
		llen = (size_t)n;
		startline = lineno;
	}
	if (st == GG_ENOMEM)
		snprintf(err, errsize, "%s:%ld: out of memory", path, lineno);
	else if (st == GG_OK && ferror(fp)) {
		snprintf(err, errsize, "%s: read error: %s", path, strerror(errno));
		st = GG_EIO;
	}
	free(logical);
	free(line);
	fclose(fp);
	return st;
}

/* gg_config_override - "-o name=value" */
enum gg_status gg_config_override(struct gg_config *cfg, const char *arg, char *err, size_t errsize)
{
	char *copy = strdup(arg), *eq;
	enum gg_status st;

	if (copy == NULL)
		return GG_ENOMEM;
	if ((eq = strchr(copy, '=')) == NULL) {
		snprintf(err, errsize, "-o %s: expected name=value", arg);
		free(copy);
		return GG_EINVAL;
	}
	*eq = '\0';
	st = gg_config_set(cfg, gg_str_trim(copy), gg_str_trim(eq + 1), "-o", err, errsize);
	free(copy);
	return st;
}

/* where_of - where a setting was given, for cross-check messages */
static const char *where_of(const struct gg_config *cfg, const char *name)
{
	const struct setting *s = find(name);
	const char *w = s ? cfg->where[s - settings] : NULL;

	return w ? w : (cfg->path[0] ? cfg->path : "default");
}

/* gg_config_where - where a setting was given ("file:line", "-o", or the file) */
const char *gg_config_where(const struct gg_config *cfg, const char *name)
{
	return where_of(cfg, name);
}

/* where_pair - where either of two related settings was given, preferring one set explicitly */
static const char *where_pair(const struct gg_config *cfg, const char *a, const char *b)
{
	const struct setting *sa = find(a), *sb = find(b);
	const char *wa = sa ? cfg->where[sa - settings] : NULL;
	const char *wb = sb ? cfg->where[sb - settings] : NULL;

	if (wa != NULL)
		return wa;
	if (wb != NULL)
		return wb;
	return cfg->path[0] ? cfg->path : "default";
}

/* check_reply - only documented escapes in greylist_reply */
static enum gg_status check_reply(const struct gg_config *cfg, char *err, size_t errsize)
{
	for (const char *p = cfg->greylist_reply; *p; p++) {
		if (*p != '%')
			continue;
		if (p[1] == '\0' || strchr("sdcfrh%", p[1]) == NULL) {
			snprintf(err, errsize, "%s: greylist_reply: unknown escape '%%%c' (use %%s %%d "
				 "%%c %%f %%r %%h or %%%%)", where_of(cfg, "greylist_reply"),
				 p[1] ? p[1] : ' ');
			return GG_EINVAL;
		}
		p++;
	}
	for (const char *p = cfg->greylist_reply; *p; p++)
		if ((unsigned char)*p < 0x20) {
			snprintf(err, errsize, "%s: greylist_reply: control characters are not allowed",
				 where_of(cfg, "greylist_reply"));
			return GG_EINVAL;
		}
	return GG_OK;
}

/* gg_config_finish - cross-checks and derived data */
enum gg_status gg_config_finish(struct gg_config *cfg, char *err, size_t errsize)
{
	enum gg_status st;

	if (cfg->greylist_retry_window <= cfg->greylist_delay) {
		snprintf(err, errsize, "%s: greylist_retry_window (%lds) must be longer than "
			 "greylist_delay (%lds)", where_pair(cfg, "greylist_retry_window", "greylist_delay"),
			 cfg->greylist_retry_window, cfg->greylist_delay);
		return GG_EINVAL;
	}
	if (cfg->greylist_max_age < cfg->greylist_retry_window) {
		snprintf(err, errsize, "%s: greylist_max_age (%lds) must not be shorter than "
			 "greylist_retry_window (%lds)", where_pair(cfg, "greylist_max_age", "greylist_retry_window"),
			 cfg->greylist_max_age, cfg->greylist_retry_window);
		return GG_EINVAL;
	}
	if (cfg->policy_max_request_size < cfg->policy_max_line_length) {
		snprintf(err, errsize, "%s: policy_max_request_size (%ld) must be at least "
			 "policy_max_line_length (%ld)",
			 where_pair(cfg, "policy_max_request_size", "policy_max_line_length"),
			 cfg->policy_max_request_size, cfg->policy_max_line_length);
		return GG_EINVAL;
	}
	if (cfg->listen[strspn(cfg->listen, " \t,")] == '\0') {
		snprintf(err, errsize, "%s: listen: no socket given", where_of(cfg, "listen"));
		return GG_EINVAL;
	}
	if ((st = check_reply(cfg, err, errsize)) != GG_OK)
		return st;
	if (cfg->dns_cache_min_ttl > cfg->dns_cache_max_ttl) {
		snprintf(err, errsize, "%s: dns_cache_min_ttl (%lds) must not be longer than "
			 "dns_cache_max_ttl (%lds)", where_pair(cfg, "dns_cache_min_ttl", "dns_cache_max_ttl"),
			 cfg->dns_cache_min_ttl, cfg->dns_cache_max_ttl);
		return GG_EINVAL;
	}
	if (!(cfg->greylist_threshold <= cfg->tag_threshold && cfg->tag_threshold <= cfg->reject_threshold)) {
		snprintf(err, errsize, "%s: thresholds must rise: greylist_threshold (%g) <= "
			 "tag_threshold (%g) <= reject_threshold (%g)",
			 where_pair(cfg, "tag_threshold", "reject_threshold"), cfg->greylist_threshold,
			 cfg->tag_threshold, cfg->reject_threshold);
		return GG_EINVAL;
	}
	if (cfg->myhostname[0] == '\0') {
		char host[256];
		if (gethostname(host, sizeof(host)) != 0)
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		free(cfg->myhostname);
		if ((cfg->myhostname = strdup(host)) == NULL)
			return GG_ENOMEM;
	}
	/* Built aside and swapped in, so finishing twice (or failing) leaks nothing. */
	{
		struct gg_wlist *c = NULL, *snd = NULL, *rcp = NULL;

		if ((st = gg_wlist_build(GG_WL_CLIENTS, cfg->whitelist_clients,
					 where_of(cfg, "whitelist_clients"), &c, err, errsize)) != GG_OK ||
		    (st = gg_wlist_build(GG_WL_ADDRESSES, cfg->whitelist_senders,
					 where_of(cfg, "whitelist_senders"), &snd, err, errsize)) != GG_OK ||
		    (st = gg_wlist_build(GG_WL_ADDRESSES, cfg->whitelist_recipients,
					 where_of(cfg, "whitelist_recipients"), &rcp, err,
					 errsize)) != GG_OK) {
			gg_wlist_free(c);
			gg_wlist_free(snd);
			gg_wlist_free(rcp);
			return st;
		}
		gg_wlist_free(cfg->wl_clients);
		gg_wlist_free(cfg->wl_senders);
		gg_wlist_free(cfg->wl_recipients);
		cfg->wl_clients = c;
		cfg->wl_senders = snd;
		cfg->wl_recipients = rcp;
	}
	/* The database setting, read by the store's own parser, so -t and a reload catch it. */
	{
		char msg[512];

		if ((st = gg_store_check_spec(cfg->database, msg, sizeof(msg))) != GG_OK) {
			snprintf(err, errsize, "%s: %s", where_of(cfg, "database"), msg);
			return st;
		}
	}
	return GG_OK;
}

/* format_value - current value of a setting as text */
static void format_value(const struct gg_config *cfg, const struct setting *s, char *buf,
			 size_t size)
{
	struct gg_config *c = (struct gg_config *)cfg;

	switch (s->type) {
	case CT_STR:
	case CT_ENUM:
		snprintf(buf, size, "%s", *str_field(c, s));
		break;
	case CT_INT:
		snprintf(buf, size, "%ld", *long_field(c, s));
		break;
	case CT_DURATION:
		snprintf(buf, size, "%lds", *long_field(c, s));
		break;
	case CT_MODE:
		snprintf(buf, size, "%04lo", *long_field(c, s));
		break;
	case CT_BOOL:
		snprintf(buf, size, "%s", *int_field(c, s) ? "yes" : "no");
		break;
	case CT_DOUBLE:
		snprintf(buf, size, "%g", *double_field(c, s));
		break;
	case CT_WORDS: {
		/* The words set, in table order, as the default writes them. */
		unsigned bits = *words_field(c, s), bit = 1;
		size_t n = 0;
		buf[0] = '\0';
		for (const char *p = s->choices; *p; bit <<= 1) {
			size_t l = strcspn(p, "|");
			if ((bits & bit) && n < size) {
				int w = snprintf(buf + n, size - n, "%s%.*s", n ? ", " : "", (int)l, p);
				n = w < 0 ? size : n + (size_t)w;
			}
			p += l + (p[l] == '|');
		}
		break;
	}
	}
}

/* gg_config_read - defaults, file, overrides, finish: what every program starts with */
struct gg_config *gg_config_read(const char *path, const char *const *overrides, int noverrides,
				 char *err, size_t errsize)
{
	struct gg_config *cfg = gg_config_new();

	if (cfg == NULL) {
		snprintf(err, errsize, "out of memory");
		return NULL;
	}
	if (gg_config_load(cfg, path, err, errsize) != GG_OK)
		goto fail;
	for (int i = 0; i < noverrides; i++)
		if (gg_config_override(cfg, overrides[i], err, errsize) != GG_OK)
			goto fail;
	if (gg_config_finish(cfg, err, errsize) != GG_OK)
		goto fail;
	return cfg;
fail:
	gg_config_free(cfg);
	return NULL;
}

/* gg_config_print - effective settings */
void gg_config_print(const struct gg_config *cfg, FILE *fp, int only_changed)
{
	struct gg_config *defaults = only_changed ? gg_config_new() : NULL;

	for (size_t i = 0; i < NSETTINGS; i++) {
		char val[4096], dval[4096];
		format_value(cfg, &settings[i], val, sizeof(val));
		if (defaults != NULL) {
			format_value(defaults, &settings[i], dval, sizeof(dval));
			if (strcmp(val, dval) == 0)
				continue;
		}
		fprintf(fp, "%s = %s\n", settings[i].name, val);
	}
	gg_config_free(defaults);
}

/* gg_config_print_table - documentation rows */
void gg_config_print_table(FILE *fp)
{
	static const char *tn[] = { "string", "integer", "duration", "boolean", "mode", "choice",
				    "number", "list" };

	for (size_t i = 0; i < NSETTINGS; i++)
		fprintf(fp, "%s|%s|%s|%s\n", settings[i].name, tn[settings[i].type],
			settings[i].def, settings[i].doc);
}

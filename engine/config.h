/*
 * config.h - greygate.conf: typed settings, parsing, checking and printing
 *
 * The file is Postfix-style: "name = value" lines, '#' at the start of a
 * line begins a comment, a line that starts with white space continues the
 * previous one.  One table (config.c) lists every setting with its type,
 * default and range; it drives parsing, "-o name=value" overrides, "-n"
 * printing and the documentation in greygate.conf(5).
 *
 * A struct gg_config is an immutable snapshot once gg_config_finish() has
 * checked it and built its whitelists; SIGHUP builds a new one and swaps it
 * in.  Errors read "greygate.conf:12: greylist_delay: '5x' is not a duration".
 */
#ifndef GG_CONFIG_H
#define GG_CONFIG_H

#include <stddef.h>
#include <stdio.h>
#include "lib/status.h"

struct gg_wlist;

/* rhsbl_targets: which names the RHSBL lists are asked about. */
/* Where every program looks for the configuration unless -c says otherwise. */
#define GG_CONFIG_PATH "/etc/greygate/greygate.conf"

#define GG_CONFIG_RHSBL_SENDER	0x1	/* the envelope sender's domain */
#define GG_CONFIG_RHSBL_HELO	0x2	/* the HELO name */
#define GG_CONFIG_RHSBL_CLIENT	0x4	/* the verified client name */

/*
 * Enumerated settings: each is kept as its text (printed by -n) and as one
 * of these, set when the value is parsed, so code that runs per request
 * compares numbers, not strings.  The order is the order of the choices in
 * the table (config.c); t_config checks that they agree.
 */
enum gg_on_db_error {
	GG_ON_DB_ERROR_DUNNO,	/* fail open: the mail passes */
	GG_ON_DB_ERROR_DEFER,	/* answer 451 4.3.0: try again later */
};

enum gg_syslog_facility {
	GG_SYSLOG_MAIL, GG_SYSLOG_DAEMON,
	GG_SYSLOG_LOCAL0, GG_SYSLOG_LOCAL1, GG_SYSLOG_LOCAL2, GG_SYSLOG_LOCAL3,
	GG_SYSLOG_LOCAL4, GG_SYSLOG_LOCAL5, GG_SYSLOG_LOCAL6, GG_SYSLOG_LOCAL7,
};

struct gg_config {
	/* daemon */
	char *listen;
	long listen_unix_mode;
	char *milter_socket;	/* greygate-milter only, libmilter syntax */
	char *user;
	char *pid_file;
	char *syslog_name;
	char *syslog_facility;
	enum gg_syslog_facility syslog_facility_kind;
	char *myhostname;
	int log_verbose;
	/* database */
	char *database;
	long database_cache_size;	/* MB; 0: auto */
	long database_checkpoint_interval;
	long database_expire_interval;
	long database_expire_slice;
	char *on_db_error;
	enum gg_on_db_error on_db_error_kind;
	/* greylisting */
	long greylist_delay;
	long greylist_retry_window;
	long greylist_max_age;
	long greylist_auto_whitelist;
	long greylist_ipv4_prefix;
	long greylist_ipv6_prefix;
	char *greylist_reply;
	int greylist_header;
	char *whitelist_clients;
	char *whitelist_senders;
	char *whitelist_recipients;
	/* DNS checks, SPF, scoring */
	char *dns_servers;
	long dns_timeout;
	long dns_cache_size;
	long dns_cache_min_ttl;
	long dns_cache_max_ttl;
	char *dnsbl_sites;
	char *dnswl_sites;
	char *rhsbl_sites;
	unsigned rhsbl_targets;		/* GG_CONFIG_RHSBL_* bits */
	long dnsbl_probe_interval;
	int rdns_check;
	double rdns_missing_weight;
	double rdns_unconfirmed_weight;
	double rdns_dynamic_weight;
	char *rdns_dynamic_patterns;
	int rdns_dynamic_address;
	int helo_check;
	double helo_ip_mismatch_weight;
	double helo_ours_weight;
	double helo_not_fqdn_weight;
	double helo_unresolvable_weight;
	char *helo_own_names;
	int spf_check;
	int spf_header;		/* Received-SPF at the DATA stage */
	char *spf_weights;
	long spf_workers;
	int greylist_key_spf_domain;
	double greylist_threshold;
	double tag_threshold;
	double reject_threshold;
	/* policy protocol limits */
	long policy_max_line_length;
	long policy_max_attributes;
	long policy_max_request_size;
	long policy_max_connections;
	long policy_idle_timeout;
	long policy_request_timeout;

	/* Built by gg_config_finish(). */
	struct gg_wlist *wl_clients;
	struct gg_wlist *wl_senders;
	struct gg_wlist *wl_recipients;
	char *path;		/* file it was read from, "" if none */
	/* Where each string setting was set, for later error messages (index = table row). */
	char **where;
};

/* A new snapshot holding every default. */
struct gg_config *gg_config_new(void);
void gg_config_free(struct gg_config *cfg);

/* Read a file; errors as "path:line: message". */
enum gg_status gg_config_load(struct gg_config *cfg, const char *path, char *err, size_t errsize);
/* Set one value; where is used for the error prefix ("-o" or "file:line"). */
enum gg_status gg_config_set(struct gg_config *cfg, const char *name, const char *value,
			     const char *where, char *err, size_t errsize);
/* Apply "name=value". */
enum gg_status gg_config_override(struct gg_config *cfg, const char *arg, char *err, size_t errsize);
/*
 * Cross-check settings, build whitelists and check the database setting
 * with the store's parser; the snapshot is usable after this.
 */
enum gg_status gg_config_finish(struct gg_config *cfg, char *err, size_t errsize);
/*
 * Where a program's configuration comes from: the file (-c FILE, else
 * GG_CONFIG_PATH) and the "name=value" overrides (-o), in order.  Every
 * program takes -c and -o alike.
 */
#define GG_CONFIG_MAX_OVERRIDES 64
struct gg_config_source {
	const char *path;
	const char *overrides[GG_CONFIG_MAX_OVERRIDES];
	int noverrides;
};
/* path = GG_CONFIG_PATH, no overrides. */
void gg_config_source_init(struct gg_config_source *src);
/*
 * Take the command line's -c (opt 'c') or -o (opt 'o') with its argument:
 * GG_OK; GG_ETOOBIG for an -o beyond GG_CONFIG_MAX_OVERRIDES (err says
 * so); GG_EINVAL for any other opt (not ours, nothing said).
 */
enum gg_status gg_config_source_option(struct gg_config_source *src, int opt, const char *arg,
				       char *err, size_t errsize);
/*
 * The configuration a program runs on: the defaults, the file, then the
 * overrides in order, then gg_config_finish().  NULL with "file:line: ..."
 * (or "-o: ...") in err; "out of memory" too.
 */
struct gg_config *gg_config_read(const struct gg_config_source *src, char *err, size_t errsize);
/* Where a setting was given, for error messages of modules that parse it later. */
const char *gg_config_where(const struct gg_config *cfg, const char *name);
/* Print "name = value" lines; all of them, or only those not at their default. */
void gg_config_print(const struct gg_config *cfg, FILE *fp, int only_changed);
/* Print the table as documentation rows: "name|type|default|description". */
void gg_config_print_table(FILE *fp);

#endif

/*
 * config_table.c - the table of settings: every setting's name, type,
 * default, range and field, the one source of every default (see
 * config_table.h); tests/unit/t_settings holds it against greygate.conf(5)
 */
#include <stddef.h>
#include <string.h>

#include "engine/config_table.h"
#include "lib/util.h"

#define OFF(f) offsetof(struct gg_config, f)
#define DAY 86400L
#define YEAR (366 * DAY)

const struct gg_setting gg_settings[] = {
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
	{ "database_cache_size", CT_INT, "auto", 1, 65536, OFF(database_cache_size), "auto",
	  "Berkeley DB cache in MB, or auto: sized from the database and the machine's memory" },
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

const size_t gg_nsettings = GG_ARRAY_LEN(gg_settings);

/* The enum field of each CT_ENUM setting: it gets the index of the choice. */
static const struct {
	const char *name;
	size_t offset;
} kinds[] = {
	{ "syslog_facility", OFF(syslog_facility_kind) },
	{ "on_db_error", OFF(on_db_error_kind) },
};

/* gg_setting_kind - the enum field of a CT_ENUM setting, NULL if it has none */
int *gg_setting_kind(struct gg_config *cfg, const struct gg_setting *s)
{
	for (size_t i = 0; i < GG_ARRAY_LEN(kinds); i++)
		if (strcmp(kinds[i].name, s->name) == 0)
			return (int *)((char *)cfg + kinds[i].offset);
	return NULL;
}

char **gg_setting_str(struct gg_config *cfg, const struct gg_setting *s)
{
	return (char **)((char *)cfg + s->offset);
}

long *gg_setting_long(struct gg_config *cfg, const struct gg_setting *s)
{
	return (long *)((char *)cfg + s->offset);
}

double *gg_setting_double(struct gg_config *cfg, const struct gg_setting *s)
{
	return (double *)((char *)cfg + s->offset);
}

int *gg_setting_int(struct gg_config *cfg, const struct gg_setting *s)
{
	return (int *)((char *)cfg + s->offset);
}

unsigned *gg_setting_words(struct gg_config *cfg, const struct gg_setting *s)
{
	return (unsigned *)((char *)cfg + s->offset);
}

/* gg_setting_find - a setting by name, NULL if there is none */
const struct gg_setting *gg_setting_find(const char *name)
{
	for (size_t i = 0; i < gg_nsettings; i++)
		if (strcmp(gg_settings[i].name, name) == 0)
			return &gg_settings[i];
	return NULL;
}


/*
 * dnscheck_int.h - what the files of the DNS checker share; not public
 *
 * dnscheck.c owns a check (struct gg_dnscheck_req): its lookups, its
 * reasons, its deadline and its one callback.  dnscheck_lists.c (DNSBL,
 * DNSWL, RHSBL), dnscheck_rdns.c (PTR and forward confirmation) and
 * dnscheck_helo.c (HELO) start lookups through gg_dnscheck_issue_() and
 * get their answers back through the *_answer_() handlers, which
 * dnscheck.c routes by lookup kind.  dnscheck_probe.c decides which lists
 * are dead.  Names ending in '_' are private to these files.
 */
#ifndef GG_DNSCHECK_INT_H
#define GG_DNSCHECK_INT_H

#include <regex.h>
#include <time.h>

#include "dns/cache.h"
#include "dnsbl/dnscheck.h"

struct gg_dnscheck_probe;

struct gg_dnscheck_own {
	int is_addr;
	struct gg_addr addr;
	char name[GG_DNS_NAME_MAX + 1];
};

struct gg_dnscheck {
	struct event_base *base;
	struct gg_resolver *r;
	struct gg_dnscache *cache;
	struct gg_dnscheck_params p;	/* string members not kept (NULL) */
	regex_t patterns[GG_DNSCHECK_MAX_PATTERNS];
	char pattern_src[GG_DNSCHECK_MAX_PATTERNS][132];
	size_t npatterns;
	struct gg_dnscheck_own own[GG_DNSCHECK_MAX_OWN_NAMES];
	size_t nown;
	struct gg_dnscheck_req *reqs;	/* checks not yet called back */
	struct gg_dnscheck_probe *probe;	/* running probe, or NULL */
	struct gg_dnscheck_stats stats;
};

enum lk_kind { LK_LIST, LK_TXT, LK_PTR, LK_FWD, LK_HELO };

/* RHSBL targets, in reason order. */
enum { T_SENDER, T_HELO, T_CLIENT, T_COUNT };

/* Sort keys: reasons come out in this order whatever order answers arrive. */
#define KEY_DNSBL 1000
#define KEY_DNSWL 2000
#define KEY_RHSBL 3000
#define KEY_RDNS 5000
#define KEY_HELO 6000

struct lookup {
	struct lookup *prev, *next;	/* the check's outstanding lookups */
	struct gg_dnscheck_req *q;
	enum lk_kind kind;
	enum gg_list_kind lkind;	/* LK_LIST, LK_TXT */
	size_t li;			/* first list entry with this zone */
	int target;			/* RHSBL target */
	int reason;			/* LK_TXT: the reason to fill in */
	struct gg_dnscache_wait *wait;
	char qname[GG_DNS_NAME_MAX + 1];
	char name[GG_DNS_NAME_MAX + 1];	/* LK_FWD: the PTR name being confirmed */
};

struct gg_dnscheck_req {
	struct gg_dnscheck_req *prev, *next;	/* dc->reqs */
	struct gg_dnscheck *dc;
	gg_dnscheck_cb cb;
	void *arg;
	struct event *deadline;
	struct event *done_ev;
	struct lookup *pending;
	size_t npending;
	int starting;			/* inside gg_dnscheck_start() */
	int finished;			/* reasons final; done_ev activated */
	unsigned checks;
	struct timespec t0;
	struct gg_addr client;
	char addr_str[GG_ADDR_STRLEN];
	char pf_client_name[GG_DNS_NAME_MAX + 1];
	char pf_reverse_name[GG_DNS_NAME_MAX + 1];
	char helo[GG_DNS_NAME_MAX + 1];
	char sender[GG_DNS_NAME_MAX + 1];
	/* reverse DNS progress */
	int want_rdns;			/* rdns reasons wanted */
	int rdns_done;
	int fwd_pending, fwd_error;
	enum gg_status fwd_error_st;
	char fwd_why[600];
	/* HELO progress */
	int helo_pending, helo_resolves, helo_error, helo_reported;
	enum gg_status helo_error_st;
	/* RHSBL targets already looked up (a domain counts once) */
	char rhs_done[T_COUNT][GG_DNS_NAME_MAX + 1];
	/* Reasons grow as needed: most checks have none or one. */
	struct gg_dnscheck_reason *rv;
	int *keys;
	size_t cap;
	struct gg_dnscheck_result res;
};
/* Free a running probe without calling back (dnscheck_probe.c). */
void gg_dnscheck_probe_free_(struct gg_dnscheck_probe *probe);

/* dnscheck.c: what every check part uses */
void gg_dnscheck_norm_name_(char *dst, size_t size, const char *src);
const char *gg_dnscheck_st_word_(enum gg_status st);
int gg_dnscheck_add_reason_(struct gg_dnscheck_req *q, int key, const char *name, double weight,
			    const char *txt);
struct lookup *gg_dnscheck_lookup_new_(struct gg_dnscheck_req *q, enum lk_kind kind);
void gg_dnscheck_issue_(struct lookup *l, int type);
void gg_dnscheck_cancel_kind_(struct gg_dnscheck_req *q, enum lk_kind kind);

/* dnscheck_lists.c */
void gg_dnscheck_start_addr_lists_(struct gg_dnscheck_req *q, enum gg_list_kind kind);
void gg_dnscheck_start_rhsbl_(struct gg_dnscheck_req *q, int target, const char *domain);
void gg_dnscheck_list_answer_(struct lookup *l, const struct gg_dns_result *res);
void gg_dnscheck_txt_answer_(struct lookup *l, const struct gg_dns_result *res);
void gg_dnscheck_list_failed_(struct gg_dnscheck_req *q, enum gg_list_kind kind, size_t li,
			      int target, enum gg_status st, const char *why);

/* dnscheck_rdns.c */
void gg_dnscheck_start_rdns_(struct gg_dnscheck_req *q);
void gg_dnscheck_ptr_answer_(struct lookup *l, const struct gg_dns_result *res);
void gg_dnscheck_fwd_answer_(struct lookup *l, const struct gg_dns_result *res);
void gg_dnscheck_rdns_failed_(struct gg_dnscheck_req *q, enum gg_status st, const char *why);
enum gg_status gg_dnscheck_parse_patterns_(struct gg_dnscheck *dc, const char *s, char *err,
					   size_t errsize);

/* dnscheck_helo.c */
void gg_dnscheck_start_helo_(struct gg_dnscheck_req *q);
void gg_dnscheck_helo_answer_(struct lookup *l, const struct gg_dns_result *res);
void gg_dnscheck_helo_failed_(struct gg_dnscheck_req *q, enum gg_status st, const char *why);
enum gg_status gg_dnscheck_parse_own_(struct gg_dnscheck *dc, const char *s, char *err,
				      size_t errsize);

#endif

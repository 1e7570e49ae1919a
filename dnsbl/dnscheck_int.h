/*
 * dnscheck_int.h - what the files of the DNS checker share; not public
 *
 * dnscheck.c owns a check (struct gg_dnscheck_req): its lookups, its
 * reasons, its deadline and its one callback.  dnscheck_lists.c (DNSBL,
 * DNSWL, RHSBL), dnscheck_rdns.c (PTR and forward confirmation) and
 * dnscheck_helo.c (HELO) start lookups through gg_dnscheck_issue_() and
 * get their answers back through the *_answer_() handlers, which
 * dnscheck.c routes by lookup kind.  Each check has a small state (enum
 * ck_state); a handler records what one answer says, and a check that
 * weighs several answers (the forward confirmations, the HELO A and AAAA)
 * is settled by its *_settle_() once none is outstanding.  dnscheck_probe.c
 * decides which lists are dead.  Names ending in '_' are private to these
 * files.
 */
#ifndef GG_DNSCHECK_INT_H
#define GG_DNSCHECK_INT_H

#include <regex.h>
#include <time.h>

#include "dns/cache.h"
#include "dnsbl/dnscheck.h"
#include "lib/list.h"

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
	struct gg_list reqs;		/* struct gg_dnscheck_req not yet called back */
	struct gg_dnscheck_probe *probe;	/* running probe, or NULL */
	struct gg_dnscheck_stats stats;
};

enum lk_kind { LK_LIST, LK_TXT, LK_PTR, LK_FWD, LK_HELO };

/*
 * Where one check stands.  A check is one list lookup (a DNSBL, DNSWL or
 * RHSBL zone for one target), the reverse DNS (the PTR lookup and the
 * forward confirmation of its names) or the HELO name's A and AAAA.  It
 * leaves CK_IDLE when it starts asking (gg_dnscheck_ask_()) and ends once
 * (gg_dnscheck_end_()), which withdraws its lookups still outstanding.
 * Both transitions are in dnscheck.c; nothing else writes state.
 * gg_dnscheck_waiting_() tells whether any of its lookups is outstanding.
 */
enum ck_state {
	CK_IDLE = 0,		/* not started (or nothing to ask) */
	CK_ASKED,		/* lookups outstanding or answers still to weigh */
	CK_ANSWERED,		/* a verdict from the answers */
	CK_FAILED,		/* a lookup failed: no verdict, weight 0 */
	CK_TIMED_OUT,		/* the deadline came first */
};

struct check {
	enum ck_state state;
	struct gg_list lookups;	/* its outstanding lookups (struct lookup's peer) */
	enum gg_status error;	/* GG_OK, or how its latest failed lookup failed */
};

/* Where the whole check of one client stands. */
enum rq_state {
	RQ_STARTING = 0,	/* inside gg_dnscheck_start(): never finish here */
	RQ_RUNNING,
	RQ_FINISHED,		/* reasons final; done_ev activated */
};

/* RHSBL targets, in reason order. */
enum { T_SENDER, T_HELO, T_CLIENT, T_COUNT };

/* Sort keys: reasons come out in this order whatever order answers arrive. */
#define KEY_DNSBL 1000
#define KEY_DNSWL 2000
#define KEY_RHSBL 3000
#define KEY_RDNS 5000
#define KEY_HELO 6000

struct lookup {
	struct gg_list link;		/* on q->pending while outstanding */
	struct gg_list peer;		/* on check->lookups while outstanding */
	struct gg_dnscheck_req *q;
	enum lk_kind kind;
	struct check *check;		/* the check it serves (NULL: a TXT, which adds text only) */
	struct check list;		/* LK_LIST: a list lookup is its own check */
	enum gg_list_kind lkind;	/* LK_LIST, LK_TXT */
	size_t li;			/* first list entry with this zone */
	int target;			/* RHSBL target */
	int reason;			/* LK_TXT: the reason to fill in */
	struct gg_dnscache_wait *wait;
	char qname[GG_DNS_NAME_MAX + 1];
	char name[GG_DNS_NAME_MAX + 1];	/* LK_FWD: the PTR name being confirmed */
};

struct gg_dnscheck_req {
	struct gg_list link;		/* on dc->reqs */
	struct gg_dnscheck *dc;
	gg_dnscheck_cb cb;
	void *arg;
	struct event *deadline;
	struct event *done_ev;
	struct gg_list pending;		/* outstanding lookups (struct lookup's link), newest first */
	enum rq_state state;
	unsigned checks;
	struct timespec t0;
	struct gg_addr client;
	char addr_str[GG_ADDR_STRLEN];
	char pf_client_name[GG_DNS_NAME_MAX + 1];
	char pf_reverse_name[GG_DNS_NAME_MAX + 1];
	char helo_name[GG_DNS_NAME_MAX + 1];
	char sender[GG_DNS_NAME_MAX + 1];
	/* reverse DNS */
	int want_rdns;			/* rdns reasons wanted (else only for RHSBL) */
	struct check rdns;
	char fwd_why[600];		/* why the first PTR name did not confirm */
	/* HELO name's addresses */
	struct check helo;
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
void gg_dnscheck_ask_(struct check *c);
int gg_dnscheck_end_(struct check *c, enum ck_state to);

/* waiting - has the check lookups outstanding? */
static inline int gg_dnscheck_waiting_(const struct check *c)
{
	return !gg_list_empty(&c->lookups);
}

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
void gg_dnscheck_rdns_settle_(struct gg_dnscheck_req *q);
enum gg_status gg_dnscheck_parse_patterns_(struct gg_dnscheck *dc, const char *s, char *err,
					   size_t errsize);

/* dnscheck_helo.c */
void gg_dnscheck_start_helo_(struct gg_dnscheck_req *q);
void gg_dnscheck_helo_answer_(struct lookup *l, const struct gg_dns_result *res);
void gg_dnscheck_helo_failed_(struct gg_dnscheck_req *q, enum gg_status st, const char *why);
void gg_dnscheck_helo_settle_(struct gg_dnscheck_req *q);
enum gg_status gg_dnscheck_parse_own_(struct gg_dnscheck *dc, const char *s, char *err,
				      size_t errsize);

#endif

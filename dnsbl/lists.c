/*
 * lists.c - postscreen-style DNS list specifications (see lists.h)
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dnsbl/lists.h"
#include "lib/hostname.h"
#include "lib/util.h"

/* The names of each kind, indexed by enum gg_list_kind. */
static const struct {
	const char *str;		/* in reasons */
	const char *setting;		/* the configuration key */
} kind_names[] = {
	[GG_LIST_DNSBL] = { "dnsbl", "dnsbl_sites" },
	[GG_LIST_DNSWL] = { "dnswl", "dnswl_sites" },
	[GG_LIST_RHSBL] = { "rhsbl", "rhsbl_sites" },
};

/* Hygiene state names, indexed by enum gg_list_state. */
static const char *const state_names[] = {
	[GG_LIST_UNPROBED] = "unprobed",
	[GG_LIST_ALIVE] = "alive",
	[GG_LIST_DEAD] = "dead",
};

/* gg_lists_kind_str - short name used in reasons */
const char *gg_lists_kind_str(enum gg_list_kind kind)
{
	return (size_t)kind < GG_ARRAY_LEN(kind_names) ? kind_names[kind].str : "?";
}

/* gg_lists_setting - the configuration key of a kind */
const char *gg_lists_setting(enum gg_list_kind kind)
{
	return (size_t)kind < GG_ARRAY_LEN(kind_names) ? kind_names[kind].setting : "?";
}

/* gg_lists_state_str - hygiene state name */
const char *gg_lists_state_str(enum gg_list_state state)
{
	return (size_t)state < GG_ARRAY_LEN(state_names) ? state_names[state] : "?";
}

/* set_bit - allow value v in field i */
static void set_bit(struct gg_list_filter *f, int i, unsigned v)
{
	f->octet[i][v / 8] |= (uint8_t)(1u << (v % 8));
}

/* parse_octet - 1 to 3 decimal digits, 0-255; advances *pp */
static int parse_octet(const char **pp, unsigned *out)
{
	const char *p = *pp;
	unsigned v = 0;
	int n = 0;

	while (isdigit((unsigned char)*p) && n < 4) {
		v = v * 10 + (unsigned)(*p - '0');
		p++;
		n++;
	}
	if (n == 0 || n > 3 || v > 255)
		return -1;
	*pp = p;
	*out = v;
	return 0;
}

/* gg_lists_parse_filter - "d.d.d.d" where each d is N or [N;N..M;...] */
enum gg_status gg_lists_parse_filter(const char *s, struct gg_list_filter *f)
{
	const char *p = s;
	unsigned a, b, v;
	int i;

	memset(f, 0, sizeof(*f));
	for (i = 0; i < 4; i++) {
		if (*p == '[') {
			p++;
			for (;;) {
				if (parse_octet(&p, &a) < 0)
					return GG_EINVAL;
				b = a;
				if (p[0] == '.' && p[1] == '.') {
					p += 2;
					if (parse_octet(&p, &b) < 0 || b < a)
						return GG_EINVAL;
				}
				for (v = a; v <= b; v++)
					set_bit(f, i, v);
				if (*p == ';') {
					p++;
					continue;
				}
				if (*p == ']') {
					p++;
					break;
				}
				return GG_EINVAL;
			}
		} else {
			if (parse_octet(&p, &a) < 0)
				return GG_EINVAL;
			set_bit(f, i, a);
		}
		if (i < 3) {
			if (*p != '.')
				return GG_EINVAL;
			p++;
		}
	}
	return *p == '\0' ? GG_OK : GG_EINVAL;
}

/* gg_lists_filter_match - every field of the answer allowed? */
int gg_lists_filter_match(const struct gg_list_filter *f, const struct gg_addr *answer)
{
	int i;

	if (answer->family != AF_INET)
		return 0;
	for (i = 0; i < 4; i++) {
		unsigned v = answer->bytes[i];
		if (!(f->octet[i][v / 8] & (1u << (v % 8))))
			return 0;
	}
	return 1;
}

/* gg_lists_answer_valid - inside 127.0.0.0/8 and not a 127.255.255.x error code */
int gg_lists_answer_valid(const struct gg_addr *answer)
{
	if (answer->family != AF_INET || answer->bytes[0] != 127)
		return 0;
	return !(answer->bytes[1] == 255 && answer->bytes[2] == 255);
}

/* gg_lists_classify - does this answer count for this entry? */
enum gg_answer_class gg_lists_classify(const struct gg_lists_entry *l,
				       const struct gg_addr *answer)
{
	if (!gg_lists_answer_valid(answer))
		return GG_ANSWER_BOGUS;
	if (l->has_filter && !gg_lists_filter_match(&l->filter, answer))
		return GG_ANSWER_MISS;
	return GG_ANSWER_HIT;
}

/* check_zone - a plausible domain name (one trailing dot dropped); lower-cases it in place */
static const char *check_zone(char *zone)
{
	size_t len = strlen(zone);
	enum gg_hostname_fault why;

	if (len > 0 && zone[len - 1] == '.')
		zone[--len] = '\0';
	/* A second trailing dot ("bl.test..") has always been let through. */
	if (gg_hostname_check(zone, len, GG_LIST_ZONE_MAX, GG_HOSTNAME_DOT, &why) != GG_OK) {
		switch (why) {
		case GG_HOSTNAME_EMPTY:		return "missing zone name";
		case GG_HOSTNAME_TOOLONG:	return "zone name too long";
		case GG_HOSTNAME_LONG_LABEL:	return "bad zone name (label longer than 63 bytes)";
		default:			return "bad zone name";
		}
	}
	gg_str_lower(zone);
	return NULL;
}

/* parse_weight - plain decimal: [+-]digits[.digits] or [+-].digits */
static int parse_weight(const char *s, double *out)
{
	const char *p = s;
	char *end;
	int digits = 0;
	double v;

	if (*p == '+' || *p == '-')
		p++;
	while (isdigit((unsigned char)*p)) {
		p++;
		digits++;
	}
	if (*p == '.') {
		p++;
		while (isdigit((unsigned char)*p)) {
			p++;
			digits++;
		}
	}
	if (digits == 0 || *p != '\0' || p - s > 20)
		return -1;
	v = strtod(s, &end);
	if (*end != '\0' || !isfinite(v) || fabs(v) > GG_LIST_WEIGHT_MAX)
		return -1;
	*out = v;
	return 0;
}

/* parse_item - one zone[=filter][*weight] */
static const char *parse_item(enum gg_list_kind kind, const char *item, struct gg_lists_entry *l)
{
	char buf[GG_LIST_SPEC_MAX + 1];
	char *filter = NULL, *weight = NULL, *star, *eq;
	const char *why;

	if (gg_strcpy(buf, sizeof(buf), item) != GG_OK)
		return "entry too long";
	memset(l, 0, sizeof(*l));
	l->kind = kind;
	memcpy(l->spec, buf, sizeof(l->spec));
	l->weight = kind == GG_LIST_DNSWL ? -1.0 : 1.0;
	if ((star = strchr(buf, '*')) != NULL) {
		*star = '\0';
		weight = star + 1;
	}
	if ((eq = strchr(buf, '=')) != NULL) {
		*eq = '\0';
		filter = eq + 1;
	}
	if ((why = check_zone(buf)) != NULL)
		return why;
	memcpy(l->zone, buf, strlen(buf) + 1);
	if (filter != NULL) {
		if (gg_lists_parse_filter(filter, &l->filter) != GG_OK)
			return "bad filter";
		l->has_filter = 1;
	}
	if (weight != NULL) {
		if (parse_weight(weight, &l->weight) < 0)
			return "bad weight (a decimal number from -1000 to 1000)";
		if (kind == GG_LIST_DNSWL && l->weight > 0)
			return "a DNSWL weight must not be positive";
	}
	return NULL;
}

/* gg_lists_next_item - skip separators; the length of the item at *pp, 0 at the end */
size_t gg_lists_next_item(const char **pp)
{
	const char *p = *pp;

	while (*p == ',' || isspace((unsigned char)*p))
		p++;
	*pp = p;
	return strcspn(p, ", \t\r\n");
}

/* gg_lists_parse - a whole dnsbl_sites / dnswl_sites / rhsbl_sites value */
enum gg_status gg_lists_parse(enum gg_list_kind kind, const char *value, const char *where,
			      struct gg_lists **out, char *err, size_t errsize)
{
	struct gg_lists *ls;
	const char *p = value != NULL ? value : "";
	const char *pre = where != NULL && where[0] != '\0' ? where : NULL;
	char item[GG_LIST_SPEC_MAX + 2], shown[120];
	size_t len;

	*out = NULL;
	if ((ls = calloc(1, sizeof(*ls))) == NULL) {
		snprintf(err, errsize, "%s%s%s: out of memory", pre ? pre : "", pre ? ": " : "",
			 gg_lists_setting(kind));
		return GG_ENOMEM;
	}
	ls->kind = kind;
	while ((len = gg_lists_next_item(&p)) > 0) {
		const char *why = NULL;

		gg_sanitize(shown, sizeof(shown), p, len, 100);
		if (len > GG_LIST_SPEC_MAX)
			why = "entry too long";
		else if (ls->n == GG_LISTS_MAX)
			why = "too many lists (at most 32)";
		if (why == NULL) {
			memcpy(item, p, len);
			item[len] = '\0';
			why = parse_item(kind, item, &ls->v[ls->n]);
		}
		if (why != NULL) {
			snprintf(err, errsize, "%s%s%s: '%s': %s", pre ? pre : "", pre ? ": " : "",
				 gg_lists_setting(kind), shown, why);
			free(ls);
			return GG_EINVAL;
		}
		ls->n++;
		p += len;
	}
	*out = ls;
	return GG_OK;
}

/* gg_lists_free - release a parsed set */
void gg_lists_free(struct gg_lists *lists)
{
	free(lists);
}

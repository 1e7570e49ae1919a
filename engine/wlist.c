/*
 * wlist.c - static whitelists (see wlist.h)
 *
 * Lists are small (hundreds of items) and looked up once per request, so a
 * linear scan over a compact array beats anything cleverer in practice.
 */
#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/util.h"
#include "engine/wlist.h"

#define MAX_FILE_DEPTH 1	/* files may not include files */

enum item_type { IT_CIDR, IT_NAME, IT_SUFFIX, IT_REGEX, IT_ADDR, IT_DOMAIN, IT_LOCAL };

struct item {
	enum item_type type;
	char *text;		/* as written, for reasons in log lines */
	char *match;		/* lower-cased comparison form */
	struct gg_cidr cidr;
	regex_t re;
};

struct gg_wlist {
	enum gg_wlist_kind kind;
	struct item *items;
	size_t n, cap;
};

/* valid_name - host name or domain characters only */
static int valid_name(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != '-' && *s != '_')
			return 0;
	return 1;
}

/* parse_regex - "/pattern/", compiled case-insensitively */
static enum gg_status parse_regex(const char *tok, size_t len, const char *where,
				  struct item *it, char *err, size_t errsize)
{
	char *pat = strndup(tok + 1, len - 2);
	int rc;

	if (pat == NULL)
		return GG_ENOMEM;
	rc = regcomp(&it->re, pat, REG_EXTENDED | REG_ICASE | REG_NOSUB);
	free(pat);
	if (rc != 0) {
		char msg[128];
		regerror(rc, &it->re, msg, sizeof(msg));
		snprintf(err, errsize, "%s: '%s' is not a valid regular expression: %s", where,
			 tok, msg);
		return GG_EFORMAT;
	}
	it->type = IT_REGEX;
	return GG_OK;
}

/* parse_client - an address or network, .domain, or a host name */
static enum gg_status parse_client(const char *tok, size_t len, const char *where,
				   struct item *it, char *err, size_t errsize)
{
	if (gg_cidr_parse(tok, &it->cidr) == GG_OK) {
		it->type = IT_CIDR;
	} else if (tok[0] == '.' && valid_name(tok + 1)) {
		it->type = IT_SUFFIX;
	} else if (valid_name(tok) && strchr(tok, '/') == NULL &&
		   strspn(tok, "0123456789.") != len) {
		it->type = IT_NAME;
	} else {
		snprintf(err, errsize, "%s: '%s' is not an IP address, network, host name, "
			 ".domain or /regex/", where, tok);
		return GG_EFORMAT;
	}
	return GG_OK;
}

/* parse_address - user@domain, @domain or domain, .domain, or user@ */
static enum gg_status parse_address(const char *tok, const char *where, struct item *it,
				    char *err, size_t errsize)
{
	const char *at = strchr(tok, '@'), *match = tok;

	if (at == NULL || at == tok) {
		match = at ? at + 1 : tok;
		if (match[0] == '.' && valid_name(match + 1))
			it->type = IT_SUFFIX;
		else if (valid_name(match))
			it->type = IT_DOMAIN;
		else
			match = NULL;
	} else if (at[1] == '\0') {
		it->type = IT_LOCAL;	/* "user@" */
	} else if (valid_name(at + 1) && strchr(tok, ' ') == NULL) {
		it->type = IT_ADDR;
	} else {
		match = NULL;
	}
	if (match == NULL) {
		snprintf(err, errsize, "%s: '%s' is not an address, @domain, .domain, user@ or "
			 "/regex/", where, tok);
		return GG_EFORMAT;
	}
	if ((it->match = strdup(match)) == NULL)
		return GG_ENOMEM;
	return GG_OK;
}

/* append - one more item; GG_ENOMEM leaves the list as it was */
static enum gg_status append(struct gg_wlist *wl, const struct item *it)
{
	if (wl->n == wl->cap) {
		size_t ncap = wl->cap ? wl->cap * 2 : 16;
		struct item *ni = realloc(wl->items, ncap * sizeof(*ni));
		if (ni == NULL)
			return GG_ENOMEM;
		wl->items = ni;
		wl->cap = ncap;
	}
	wl->items[wl->n++] = *it;
	return GG_OK;
}

/* add_item - classify and append one item */
static enum gg_status add_item(struct gg_wlist *wl, const char *tok, const char *where,
			       char *err, size_t errsize)
{
	struct item it;
	size_t len = strlen(tok);
	enum gg_status st;

	memset(&it, 0, sizeof(it));
	if (len >= 2 && tok[0] == '/' && tok[len - 1] == '/')
		st = parse_regex(tok, len, where, &it, err, errsize);
	else if (wl->kind == GG_WL_CLIENTS)
		st = parse_client(tok, len, where, &it, err, errsize);
	else
		st = parse_address(tok, where, &it, err, errsize);
	if (st == GG_EFORMAT)
		return st;
	if (st == GG_OK && it.match == NULL && it.type != IT_CIDR && it.type != IT_REGEX &&
	    (it.match = strdup(tok)) == NULL)
		st = GG_ENOMEM;
	if (it.match != NULL)
		gg_str_lower(it.match);
	if (st == GG_OK && (it.text = strdup(tok)) == NULL)
		st = GG_ENOMEM;
	if (st == GG_OK && (st = append(wl, &it)) == GG_OK)
		return GG_OK;
	free(it.match);
	free(it.text);
	if (it.type == IT_REGEX)
		regfree(&it.re);
	snprintf(err, errsize, "%s: out of memory", where);
	return GG_ENOMEM;
}

static enum gg_status add_value(struct gg_wlist *wl, const char *value, const char *where,
				int depth, char *err, size_t errsize);

/* add_file - items from a file, errors as file:line */
static enum gg_status add_file(struct gg_wlist *wl, const char *path, const char *where,
			       int depth, char *err, size_t errsize)
{
	FILE *fp;
	char *line = NULL, loc[512];
	size_t cap = 0;
	long lineno = 0;
	enum gg_status st = GG_OK;

	if (depth >= MAX_FILE_DEPTH) {
		snprintf(err, errsize, "%s: file:%s: whitelist files cannot include other files",
			 where, path);
		return GG_EFORMAT;
	}
	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errsize, "%s: cannot open whitelist file %s: %s", where, path,
			 strerror(errno));
		return GG_EIO;
	}
	while (getline(&line, &cap, fp) != -1) {
		char *hash;
		lineno++;
		if ((hash = strchr(line, '#')) != NULL)
			*hash = '\0';
		snprintf(loc, sizeof(loc), "%s:%ld", path, lineno);
		if ((st = add_value(wl, line, loc, depth + 1, err, errsize)) != GG_OK)
			break;
	}
	if (st == GG_OK && ferror(fp)) {
		snprintf(err, errsize, "%s: error reading %s: %s", where, path, strerror(errno));
		st = GG_EIO;
	}
	free(line);
	fclose(fp);
	return st;
}

/* add_value - split a value into items */
static enum gg_status add_value(struct gg_wlist *wl, const char *value, const char *where,
				int depth, char *err, size_t errsize)
{
	char *copy = strdup(value), *save = NULL, *tok;
	enum gg_status st = GG_OK;

	if (copy == NULL)
		return GG_ENOMEM;
	for (tok = strtok_r(copy, ", \t\r\n", &save); tok != NULL && st == GG_OK;
	     tok = strtok_r(NULL, ", \t\r\n", &save)) {
		if (strncmp(tok, "file:", 5) == 0)
			st = add_file(wl, tok + 5, where, depth, err, errsize);
		else
			st = add_item(wl, tok, where, err, errsize);
	}
	free(copy);
	return st;
}

/* gg_wlist_build - parse a configuration value */
enum gg_status gg_wlist_build(enum gg_wlist_kind kind, const char *value, const char *where,
			      struct gg_wlist **out, char *err, size_t errsize)
{
	struct gg_wlist *wl = calloc(1, sizeof(*wl));
	enum gg_status st;

	*out = NULL;
	if (wl == NULL)
		return GG_ENOMEM;
	wl->kind = kind;
	if ((st = add_value(wl, value, where, 0, err, errsize)) != GG_OK) {
		gg_wlist_free(wl);
		return st;
	}
	*out = wl;
	return GG_OK;
}

/* gg_wlist_free - release a list */
void gg_wlist_free(struct gg_wlist *wl)
{
	if (wl == NULL)
		return;
	for (size_t i = 0; i < wl->n; i++) {
		if (wl->items[i].type == IT_REGEX)
			regfree(&wl->items[i].re);
		free(wl->items[i].text);
		free(wl->items[i].match);
	}
	free(wl->items);
	free(wl);
}

size_t gg_wlist_size(const struct gg_wlist *wl)
{
	return wl ? wl->n : 0;
}

/* suffix_match - name equals dom or ends with "." dom; dom is ".x.y" */
static int suffix_match(const char *name, const char *dotdom)
{
	size_t nl = strlen(name), dl = strlen(dotdom);

	if (nl > dl && strcasecmp(name + nl - dl, dotdom) == 0)
		return 1;
	return strcasecmp(name, dotdom + 1) == 0;
}

/* gg_wlist_match_client - first item matching the client */
const char *gg_wlist_match_client(const struct gg_wlist *wl, const struct gg_addr *addr,
				  const char *name)
{
	if (wl == NULL)
		return NULL;
	if (name != NULL && (name[0] == '\0' || strcasecmp(name, "unknown") == 0))
		name = NULL;
	for (size_t i = 0; i < wl->n; i++) {
		const struct item *it = &wl->items[i];
		switch (it->type) {
		case IT_CIDR:
			if (addr != NULL && gg_cidr_match(&it->cidr, addr))
				return it->text;
			break;
		case IT_NAME:
			if (name != NULL && strcasecmp(name, it->match) == 0)
				return it->text;
			break;
		case IT_SUFFIX:
			if (name != NULL && suffix_match(name, it->match))
				return it->text;
			break;
		case IT_REGEX:
			if (name != NULL && regexec(&it->re, name, 0, NULL, 0) == 0)
				return it->text;
			break;
		default:
			break;
		}
	}
	return NULL;
}

/* gg_wlist_match_address - first item matching the address */
const char *gg_wlist_match_address(const struct gg_wlist *wl, const char *address)
{
	const char *at;
	size_t llen;

	if (wl == NULL || address == NULL)
		return NULL;
	at = strrchr(address, '@');
	llen = at ? (size_t)(at - address) : strlen(address);
	for (size_t i = 0; i < wl->n; i++) {
		const struct item *it = &wl->items[i];
		switch (it->type) {
		case IT_ADDR:
			if (strcasecmp(address, it->match) == 0)
				return it->text;
			break;
		case IT_DOMAIN:
			if (at != NULL && strcasecmp(at + 1, it->match) == 0)
				return it->text;
			break;
		case IT_SUFFIX:
			if (at != NULL && suffix_match(at + 1, it->match))
				return it->text;
			break;
		case IT_LOCAL:
			/* it->match is "user@" */
			if (at != NULL && strlen(it->match) == llen + 1 &&
			    strncasecmp(address, it->match, llen) == 0)
				return it->text;
			break;
		case IT_REGEX:
			if (regexec(&it->re, address, 0, NULL, 0) == 0)
				return it->text;
			break;
		default:
			break;
		}
	}
	return NULL;
}

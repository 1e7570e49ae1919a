/*
 * config.c - the greygate.conf parser and the checks of a finished
 *            configuration (see config.h); the table is config_table.c
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/config.h"
#include "engine/config_table.h"
#include "lib/util.h"
#include "engine/wlist.h"
#include "store/store_spec.h"

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
static enum gg_status parse_words(const struct gg_setting *s, const char *value, unsigned *bits,
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

/* The setter of one type: value is checked and stored; shown is value made printable. */
struct set_ctx {
	struct gg_config *cfg;
	const struct gg_setting *s;
	const char *value, *where, *shown;
	char *err;
	size_t errsize;
};

/* set_str - CT_STR, and CT_ENUM with its choice's index in the kind field */
static enum gg_status set_str(const struct set_ctx *c)
{
	const struct gg_setting *s = c->s;
	int kind = s->type == CT_ENUM ? choice_index(s->choices, c->value) : 0;
	char *copy;

	if (kind < 0) {
		snprintf(c->err, c->errsize, "%s: %s: '%s' is not one of %s", c->where, s->name,
			 c->shown, s->choices);
		return GG_EINVAL;
	}
	if ((copy = strdup(c->value)) == NULL) {
		snprintf(c->err, c->errsize, "%s: out of memory", c->where);
		return GG_ENOMEM;
	}
	free(*gg_setting_str(c->cfg, s));
	*gg_setting_str(c->cfg, s) = copy;
	if (s->type == CT_ENUM && gg_setting_kind(c->cfg, s) != NULL)
		*gg_setting_kind(c->cfg, s) = kind;
	return GG_OK;
}

/* parse_mode - an octal number */
static enum gg_status parse_mode(const char *value, long min, long max, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(value, &end, 8);
	if (*value == '\0' || *end != '\0' || errno)
		return GG_EINVAL;
	return *v < min || *v > max ? GG_ETOOBIG : GG_OK;
}

/* set_long - CT_INT, CT_DURATION and CT_MODE: a syntax error, then the range */
static enum gg_status set_long(const struct set_ctx *c)
{
	static const char *const what[] = {
		[CT_INT] = "a number",
		[CT_DURATION] = "a duration (a number with an optional s, m, h, d or w suffix)",
		[CT_MODE] = "an octal mode",
	};
	const struct gg_setting *s = c->s;
	enum gg_status st;
	long v;

	if (s->type == CT_INT && s->choices != NULL && strcmp(c->value, s->choices) == 0) {
		st = GG_OK;
		v = 0;
	} else if (s->type == CT_INT) {
		st = gg_parse_long(c->value, s->min, s->max, &v);
	} else if (s->type == CT_MODE) {
		st = parse_mode(c->value, s->min, s->max, &v);
	} else {
		st = gg_parse_duration(c->value, LONG_MAX / 2, &v);
		if (st == GG_OK && (v < s->min || v > s->max))
			st = GG_ETOOBIG;
	}
	if (st == GG_EINVAL) {
		snprintf(c->err, c->errsize, "%s: %s: '%s' is not %s%s%s", c->where, s->name,
			 c->shown, what[s->type], s->type == CT_INT && s->choices ? " or " : "",
			 s->type == CT_INT && s->choices ? s->choices : "");
		return st;
	}
	if (st != GG_OK) {
		snprintf(c->err, c->errsize, "%s: %s: '%s' is out of range (%ld..%ld%s)", c->where,
			 s->name, c->shown, s->min, s->max,
			 s->type == CT_DURATION ? " seconds" : "");
		return st;
	}
	*gg_setting_long(c->cfg, s) = v;
	return GG_OK;
}

/* set_double - CT_DOUBLE, a finite number in range */
static enum gg_status set_double(const struct set_ctx *c)
{
	const struct gg_setting *s = c->s;
	char *end;
	double d;

	errno = 0;
	d = strtod(c->value, &end);
	if (*c->value == '\0' || *end != '\0' || errno != 0 || d != d) {
		snprintf(c->err, c->errsize, "%s: %s: '%s' is not a number", c->where, s->name,
			 c->shown);
		return GG_EINVAL;
	}
	if (d < (double)s->min || d > (double)s->max) {
		snprintf(c->err, c->errsize, "%s: %s: '%s' is out of range (%ld..%ld)", c->where,
			 s->name, c->shown, s->min, s->max);
		return GG_ETOOBIG;
	}
	*gg_setting_double(c->cfg, s) = d;
	return GG_OK;
}

/* set_bool - CT_BOOL */
static enum gg_status set_bool(const struct set_ctx *c)
{
	int b;

	if (gg_parse_bool(c->value, &b) != GG_OK) {
		snprintf(c->err, c->errsize, "%s: %s: '%s' is not yes or no", c->where, c->s->name,
			 c->shown);
		return GG_EINVAL;
	}
	*gg_setting_int(c->cfg, c->s) = b;
	return GG_OK;
}

/* set_words - CT_WORDS, a set of words as bits */
static enum gg_status set_words(const struct set_ctx *c)
{
	unsigned bits;
	enum gg_status st = parse_words(c->s, c->value, &bits, c->where, c->err, c->errsize);

	if (st == GG_OK)
		*gg_setting_words(c->cfg, c->s) = bits;
	return st;
}

static enum gg_status (*const setters[])(const struct set_ctx *c) = {
	[CT_STR] = set_str, [CT_ENUM] = set_str, [CT_INT] = set_long, [CT_DURATION] = set_long,
	[CT_MODE] = set_long, [CT_DOUBLE] = set_double, [CT_BOOL] = set_bool,
	[CT_WORDS] = set_words,
};

/* set_one - parse value into its typed field */
static enum gg_status set_one(struct gg_config *cfg, const struct gg_setting *s, const char *value,
			      const char *where, char *err, size_t errsize)
{
	char shown[80];
	struct set_ctx c = { cfg, s, value, where, shown, err, errsize };

	gg_sanitize(shown, sizeof(shown), value, strlen(value), 60);
	if ((size_t)s->type >= GG_ARRAY_LEN(setters) || setters[s->type] == NULL)
		return GG_EINVAL;
	return setters[s->type](&c);
}

/* gg_config_new - a snapshot with every default */
struct gg_config *gg_config_new(void)
{
	struct gg_config *cfg = calloc(1, sizeof(*cfg));
	char err[256];

	if (cfg == NULL)
		return NULL;
	if ((cfg->where = calloc(gg_nsettings, sizeof(char *))) == NULL ||
	    (cfg->path = strdup("")) == NULL)
		goto fail;
	for (size_t i = 0; i < gg_nsettings; i++)
		if (set_one(cfg, &gg_settings[i], gg_settings[i].def, "default", err, sizeof(err)) != GG_OK)
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
	for (size_t i = 0; i < gg_nsettings; i++) {
		if (gg_settings[i].type == CT_STR || gg_settings[i].type == CT_ENUM)
			free(*gg_setting_str(cfg, &gg_settings[i]));
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
	const struct gg_setting *s = gg_setting_find(name);
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
	idx = (size_t)(s - gg_settings);
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
	const struct gg_setting *s = gg_setting_find(name);
	const char *w = s ? cfg->where[s - gg_settings] : NULL;

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
	const struct gg_setting *sa = gg_setting_find(a), *sb = gg_setting_find(b);
	const char *wa = sa ? cfg->where[sa - gg_settings] : NULL;
	const char *wb = sb ? cfg->where[sb - gg_settings] : NULL;

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

/* check_pairs - the settings that must agree with each other */
static enum gg_status check_pairs(const struct gg_config *cfg, char *err, size_t errsize)
{
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
	return GG_OK;
}

/* default_hostname - myhostname empty: the machine's name */
static enum gg_status default_hostname(struct gg_config *cfg)
{
	char host[256];

	if (cfg->myhostname[0] != '\0')
		return GG_OK;
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	free(cfg->myhostname);
	if ((cfg->myhostname = strdup(host)) == NULL)
		return GG_ENOMEM;
	return GG_OK;
}

/* build_wlists - built aside and swapped in, so finishing twice (or failing) leaks nothing */
static enum gg_status build_wlists(struct gg_config *cfg, char *err, size_t errsize)
{
	struct gg_wlist *c = NULL, *snd = NULL, *rcp = NULL;
	enum gg_status st;

	if ((st = gg_wlist_build(GG_WL_CLIENTS, cfg->whitelist_clients,
				 where_of(cfg, "whitelist_clients"), &c, err, errsize)) != GG_OK ||
	    (st = gg_wlist_build(GG_WL_ADDRESSES, cfg->whitelist_senders,
				 where_of(cfg, "whitelist_senders"), &snd, err, errsize)) != GG_OK ||
	    (st = gg_wlist_build(GG_WL_ADDRESSES, cfg->whitelist_recipients,
				 where_of(cfg, "whitelist_recipients"), &rcp, err, errsize)) != GG_OK) {
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
	return GG_OK;
}

/* gg_config_finish - cross-checks and derived data */
enum gg_status gg_config_finish(struct gg_config *cfg, char *err, size_t errsize)
{
	enum gg_status st;
	struct gg_store_spec spec;
	char msg[512];

	if ((st = check_pairs(cfg, err, errsize)) != GG_OK)
		return st;
	if (cfg->listen[strspn(cfg->listen, " \t,")] == '\0') {
		snprintf(err, errsize, "%s: listen: no socket given", where_of(cfg, "listen"));
		return GG_EINVAL;
	}
	if ((st = check_reply(cfg, err, errsize)) != GG_OK ||
	    (st = default_hostname(cfg)) != GG_OK ||
	    (st = build_wlists(cfg, err, errsize)) != GG_OK)
		return st;
	/* The database setting, read by the store's own parser, so -t and a reload catch it. */
	if ((st = gg_store_spec_parse(cfg->database, &spec, msg, sizeof(msg))) != GG_OK) {
		snprintf(err, errsize, "%s: %s", where_of(cfg, "database"), msg);
		return st;
	}
	return GG_OK;
}

/* format_value - current value of a setting as text */
static void format_value(const struct gg_config *cfg, const struct gg_setting *s, char *buf,
			 size_t size)
{
	struct gg_config *c = (struct gg_config *)cfg;

	switch (s->type) {
	case CT_STR:
	case CT_ENUM:
		snprintf(buf, size, "%s", *gg_setting_str(c, s));
		break;
	case CT_INT:
		if (s->choices != NULL && *gg_setting_long(c, s) == 0)
			snprintf(buf, size, "%s", s->choices);
		else
			snprintf(buf, size, "%ld", *gg_setting_long(c, s));
		break;
	case CT_DURATION:
		snprintf(buf, size, "%lds", *gg_setting_long(c, s));
		break;
	case CT_MODE:
		snprintf(buf, size, "%04lo", *gg_setting_long(c, s));
		break;
	case CT_BOOL:
		snprintf(buf, size, "%s", *gg_setting_int(c, s) ? "yes" : "no");
		break;
	case CT_DOUBLE:
		snprintf(buf, size, "%g", *gg_setting_double(c, s));
		break;
	case CT_WORDS: {
		/* The words set, in table order, as the default writes them. */
		unsigned bits = *gg_setting_words(c, s), bit = 1;
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

/* gg_config_source_init - the default file, no overrides */
void gg_config_source_init(struct gg_config_source *src)
{
	memset(src, 0, sizeof(*src));
	src->path = GG_CONFIG_PATH;
}

/* gg_config_source_option - -c FILE or -o name=value */
enum gg_status gg_config_source_option(struct gg_config_source *src, int opt, const char *arg,
				       char *err, size_t errsize)
{
	if (opt == 'c') {
		src->path = arg;
		return GG_OK;
	}
	if (opt != 'o')
		return GG_EINVAL;
	if (src->noverrides == GG_CONFIG_MAX_OVERRIDES) {
		snprintf(err, errsize, "more than %d -o options", GG_CONFIG_MAX_OVERRIDES);
		return GG_ETOOBIG;
	}
	src->overrides[src->noverrides++] = arg;
	return GG_OK;
}

/* gg_config_read - defaults, file, overrides, finish: what every program starts with */
struct gg_config *gg_config_read(const struct gg_config_source *src, char *err, size_t errsize)
{
	struct gg_config *cfg = gg_config_new();

	if (cfg == NULL) {
		snprintf(err, errsize, "out of memory");
		return NULL;
	}
	if (gg_config_load(cfg, src->path, err, errsize) != GG_OK)
		goto fail;
	for (int i = 0; i < src->noverrides; i++)
		if (gg_config_override(cfg, src->overrides[i], err, errsize) != GG_OK)
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

	for (size_t i = 0; i < gg_nsettings; i++) {
		char val[4096], dval[4096];
		format_value(cfg, &gg_settings[i], val, sizeof(val));
		if (defaults != NULL) {
			format_value(defaults, &gg_settings[i], dval, sizeof(dval));
			if (strcmp(val, dval) == 0)
				continue;
		}
		fprintf(fp, "%s = %s\n", gg_settings[i].name, val);
	}
	gg_config_free(defaults);
}

/* gg_config_print_table - documentation rows */
void gg_config_print_table(FILE *fp)
{
	static const char *tn[] = { "string", "integer", "duration", "boolean", "mode", "choice",
				    "number", "list" };

	for (size_t i = 0; i < gg_nsettings; i++)
		fprintf(fp, "%s|%s|%s|%s\n", gg_settings[i].name, tn[gg_settings[i].type],
			gg_settings[i].def, gg_settings[i].doc);
}

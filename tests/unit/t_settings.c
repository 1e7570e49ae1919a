/*
 * t_settings.c - the settings table of engine/config.c against what
 * greygate.conf(5) tells the admin
 *
 * The table is the one source of every default; the man page must say
 * the same.  The table is read at run time (gg_config_print_table), not
 * from the source text, and values are compared after the config's own
 * parser has read them: the page's "(default: 1h)" is set on a fresh
 * configuration, which must then print exactly as the defaults do (so
 * "3600s" and "1h", or "1.50" and "1.5", are the same value, and a
 * default the parser refuses is an error).  Checked:
 *   - every setting has a SETTINGS entry '.BR name " (default: VALUE)"'
 *     followed by its type ('.IR integer ,'), and the type is the table's;
 *   - every SETTINGS entry is a setting of the table, documented once;
 *   - the thresholds' "(default N)" in SCORING and the SPF results'
 *     '.BR pass " (\-1)"' weights agree with the table too.
 * The page is $GG_DOC_DIR/greygate.conf.5 (set by tests/Makefile.am).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "engine/config.h"
#include "lib/util.h"

#ifndef GG_DOC_DIR
#define GG_DOC_DIR "doc"
#endif

#define MAX_ROWS 256

struct row {
	char *name, *type, *def;
};

/* One documented setting of the page. */
struct entry {
	char *name, *def, *type;	/* def NULL: the tag gives none; type NULL: no type line */
	int line;
};

/* One "(default N)" or "(N)" mention outside SETTINGS. */
struct mention {
	char *setting;	/* the setting it belongs to */
	char *key;	/* spf_weights: the result; else NULL */
	char *value;
	int line;
};

struct world {
	struct row rows[MAX_ROWS];
	size_t nrows;
	struct entry entries[MAX_ROWS];
	size_t nentries;
	struct mention mentions[32];
	size_t nmentions;
	char page[4096];
};

static struct world W;

/* unroff - undo the escapes a default may need in roff, in place */
static void unroff(char *s)
{
	char *w = s;

	for (const char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] == '-') {
			*w++ = '-';
			r++;
		} else if (r[0] == '\\' && r[1] == '&') {
			r++;
		} else if (r[0] == '\\' && r[1] == 'e') {
			*w++ = '\\';
			r++;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

/* xstrndup - strndup that fails the run instead of returning NULL */
static char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (p == NULL) {
		perror("t_settings");
		exit(1);
	}
	return p;
}

/* load_table - the table's rows, name|type|default|doc, as the program has them */
static void load_table(void)
{
	char *buf = NULL, *save = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	if (fp == NULL)
		exit(1);
	gg_config_print_table(fp);
	fclose(fp);
	for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *b1 = strchr(l, '|'), *b2 = b1 ? strchr(b1 + 1, '|') : NULL;
		char *b3 = b2 ? strchr(b2 + 1, '|') : NULL;

		if (b3 == NULL || W.nrows == MAX_ROWS) {
			fprintf(stderr, "t_settings: bad table row: %s\n", l);
			exit(1);
		}
		W.rows[W.nrows].name = xstrndup(l, (size_t)(b1 - l));
		W.rows[W.nrows].type = xstrndup(b1 + 1, (size_t)(b2 - b1 - 1));
		W.rows[W.nrows].def = xstrndup(b2 + 1, (size_t)(b3 - b2 - 1));
		W.nrows++;
	}
	free(buf);
}

/* parse_tag - '.BR name " (default: VALUE)"' or '.B name' into an entry */
static int parse_tag(const char *line, struct entry *e)
{
	const char *p, *q, *d;

	if (strncmp(line, ".BR ", 4) == 0)
		p = line + 4;
	else if (strncmp(line, ".B ", 3) == 0)
		p = line + 3;
	else
		return 0;
	q = p + strcspn(p, " \t\"");
	if (q == p)
		return 0;
	e->name = xstrndup(p, (size_t)(q - p));
	e->def = NULL;
	d = strstr(q, "(default: ");
	if (d != NULL) {
		const char *end = strrchr(d, ')');
		if (end != NULL && end > d + 10) {
			e->def = xstrndup(d + 10, (size_t)(end - d - 10));
			unroff(e->def);
		}
	}
	return 1;
}

/* parse_type - '.IR integer ,' (or '.I list') into the type word */
static char *parse_type(const char *line)
{
	const char *p;

	if (strncmp(line, ".IR ", 4) == 0)
		p = line + 4;
	else if (strncmp(line, ".I ", 3) == 0)
		p = line + 3;
	else
		return NULL;
	return xstrndup(p, strcspn(p, " \t,.:;"));
}

/* add_mention - remember a value the page gives for a setting outside SETTINGS */
static void add_mention(const char *setting, const char *key, const char *v, size_t n, int lineno)
{
	struct mention *m;

	if (W.nmentions == GG_ARRAY_LEN(W.mentions))
		return;
	m = &W.mentions[W.nmentions++];
	m->setting = xstrndup(setting, strlen(setting));
	m->key = key ? xstrndup(key, strlen(key)) : NULL;
	m->value = xstrndup(v, n);
	unroff(m->value);
	m->line = lineno;
}

/* scan_mentions - thresholds' "(default N)" and the SPF results' '.BR pass " (\-1)"' */
static void scan_mention_line(const char *line, const char *prev, int lineno, int in_spf)
{
	const char *p;

	/* '.IB score " >= reject_threshold"' then '(default 10):' */
	if (prev != NULL && (p = strstr(prev, "\" >= ")) != NULL && strncmp(line, "(default ", 9) == 0) {
		char name[64];
		size_t n = strcspn(p + 5, "\" ");
		const char *v = line + 9;
		if (n > 0 && n < sizeof(name)) {
			memcpy(name, p + 5, n);
			name[n] = '\0';
			add_mention(name, NULL, v, strcspn(v, ")"), lineno);
		}
	}
	/* '.BR fail " (5)"' inside the SPF section */
	if (in_spf && strncmp(line, ".BR ", 4) == 0 && (p = strstr(line, " \" (")) != NULL) {
		char key[32];
		size_t n = (size_t)(p - (line + 4));
		const char *v = p + 4;
		if (n > 0 && n < sizeof(key)) {
			memcpy(key, line + 4, n);
			key[n] = '\0';
			add_mention("spf_weights", key, v, strcspn(v, ")"), lineno);
		}
	}
}

/* load_page - the SETTINGS entries and the other mentions of greygate.conf(5) */
static void load_page(void)
{
	char line[4096], prev[4096] = "";
	int lineno = 0, insec = 0, in_spf = 0, want_tag = 0, want_type = 0;
	FILE *fp;

	snprintf(W.page, sizeof(W.page), "%s/greygate.conf.5",
		 getenv("GG_DOC_DIR") ? getenv("GG_DOC_DIR") : GG_DOC_DIR);
	fp = fopen(W.page, "r");
	if (fp == NULL) {
		perror(W.page);
		exit(1);
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		lineno++;
		if (strncmp(line, ".SH", 3) == 0) {
			insec = strstr(line, "SETTINGS") != NULL;
			in_spf = strstr(line, "SPF") != NULL;
			want_tag = want_type = 0;
		} else if (insec && strncmp(line, ".TP", 3) == 0) {
			want_tag = 1;
		} else if (insec && want_tag) {
			want_tag = 0;
			if (W.nentries < MAX_ROWS && parse_tag(line, &W.entries[W.nentries])) {
				W.entries[W.nentries].line = lineno;
				W.entries[W.nentries].type = NULL;
				W.nentries++;
				want_type = 1;
			}
		} else if (insec && want_type) {
			want_type = 0;
			W.entries[W.nentries - 1].type = parse_type(line);
		} else if (!insec) {
			scan_mention_line(line, prev, lineno, in_spf);
		}
		memcpy(prev, line, sizeof(prev));
	}
	fclose(fp);
}

/* find_entry - the page's entry for a setting, NULL if none */
static const struct entry *find_entry(const char *name)
{
	for (size_t i = 0; i < W.nentries; i++)
		if (strcmp(W.entries[i].name, name) == 0)
			return &W.entries[i];
	return NULL;
}

/* find_row - the table's row for a setting, NULL if none */
static const struct row *find_row(const char *name)
{
	for (size_t i = 0; i < W.nrows; i++)
		if (strcmp(W.rows[i].name, name) == 0)
			return &W.rows[i];
	return NULL;
}

/* changed - the "name = value" lines a config prints that differ from the defaults */
static char *changed(const struct gg_config *cfg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	assert_non_null(fp);
	gg_config_print(cfg, fp, 1);
	fclose(fp);
	return buf;
}

/* assert_is_default - setting name to value must leave the configuration at its defaults */
static void assert_is_default(const char *name, const char *value, int line)
{
	struct gg_config *cfg = gg_config_new();
	char err[512], *diff;

	assert_non_null(cfg);
	if (gg_config_set(cfg, name, value, "page", err, sizeof(err)) != GG_OK)
		fail_msg("%s:%d: %s: the page's default '%s' is not a valid value: %s", W.page,
			 line, name, value, err);
	diff = changed(cfg);
	if (diff[0] != '\0')
		fail_msg("%s:%d: %s: the page says '%s', the table's default differs (as set: %s)",
			 W.page, line, name, value, diff);
	free(diff);
	gg_config_free(cfg);
}

/* A setting of the table is documented, with its type and its default. */
static void test_setting(void **state)
{
	const struct row *r = *state;
	const struct entry *e = find_entry(r->name);
	const char *want;

	if (e == NULL)
		fail_msg("%s: no SETTINGS entry in %s", r->name, W.page);
	if (e->def == NULL)
		fail_msg("%s:%d: %s: the tag gives no (default: ...); the table says '%s'", W.page,
			 e->line, r->name, r->def);
	if (e->type == NULL || strcmp(e->type, r->type) != 0)
		fail_msg("%s:%d: %s: the page's type is '%s', the table's '%s'", W.page, e->line,
			 r->name, e->type ? e->type : "(none)", r->type);
	want = strcmp(e->def, "empty") == 0 ? "" : e->def;
	assert_is_default(r->name, want, e->line);
}

/* Every entry of SETTINGS is a setting, and documented once. */
static void test_no_stray_entries(void **state)
{
	(void)state;
	assert_true(W.nentries > 0);
	for (size_t i = 0; i < W.nentries; i++) {
		if (find_row(W.entries[i].name) == NULL)
			fail_msg("%s:%d: '%s' is documented but not a setting", W.page,
				 W.entries[i].line, W.entries[i].name);
		for (size_t j = 0; j < i; j++)
			if (strcmp(W.entries[i].name, W.entries[j].name) == 0)
				fail_msg("%s:%d: '%s' is documented twice", W.page,
					 W.entries[i].line, W.entries[i].name);
	}
}

/* spf_weight_default - one result's weight in the table's spf_weights default */
static char *spf_weight_default(const char *result)
{
	const struct row *r = find_row("spf_weights");
	size_t n = strlen(result);

	assert_non_null(r);
	for (const char *p = r->def; p != NULL && *p; p = strchr(p, ',')) {
		p += strspn(p, ", ");
		if (strncmp(p, result, n) == 0 && p[n] == ':')
			return xstrndup(p + n + 1, strcspn(p + n + 1, ","));
	}
	return NULL;
}

/* The values the page gives outside SETTINGS agree with the table. */
static void test_mentions(void **state)
{
	size_t thresholds = 0, spf = 0;

	(void)state;
	for (size_t i = 0; i < W.nmentions; i++) {
		const struct mention *m = &W.mentions[i];
		if (m->key == NULL) {
			if (find_row(m->setting) == NULL)
				fail_msg("%s:%d: '%s' is not a setting", W.page, m->line, m->setting);
			assert_is_default(m->setting, m->value, m->line);
			thresholds++;
		} else {
			char *want = spf_weight_default(m->key);
			if (want == NULL)
				fail_msg("%s:%d: SPF result '%s' has no weight in the table's spf_weights",
					 W.page, m->line, m->key);
			if (strtod(want, NULL) != strtod(m->value, NULL))
				fail_msg("%s:%d: SPF result %s: the page says (%s), the table %s",
					 W.page, m->line, m->key, m->value, want);
			free(want);
			spf++;
		}
	}
	/* the three thresholds and the seven SPF results are there to check */
	assert_int_equal(thresholds, 3);
	assert_int_equal(spf, 7);
}

int main(void)
{
	struct tu_suite s = { 0 };

	load_table();
	load_page();
	for (size_t i = 0; i < W.nrows; i++)
		tu_add(&s, test_setting, &W.rows[i], "%s: documented with the table's type and default",
		       W.rows[i].name);
	tu_add(&s, test_no_stray_entries, NULL, "page: every SETTINGS entry is a setting, once");
	tu_add(&s, test_mentions, NULL, "page: thresholds and SPF result weights match the table");
	return tu_run(&s, "t_settings");
}

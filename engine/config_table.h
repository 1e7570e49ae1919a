/*
 * config_table.h - the table of settings, shared by the parser
 * (config.c) and nothing outside engine/
 *
 * Each row names a field of struct gg_config by offset; the accessors
 * below turn a row into a pointer to that field of one snapshot.  The
 * rows are in the order greygate-policyd -n prints them.
 */
#ifndef GG_CONFIG_TABLE_H
#define GG_CONFIG_TABLE_H

#include <stddef.h>

#include "engine/config.h"

enum gg_setting_type { CT_STR, CT_INT, CT_DURATION, CT_BOOL, CT_MODE, CT_ENUM, CT_DOUBLE, CT_WORDS };

struct gg_setting {
	const char *name;
	enum gg_setting_type type;
	const char *def;	/* the default, as the file would say it */
	long min, max;		/* numbers, durations (seconds), modes */
	size_t offset;		/* of the field in struct gg_config */
	const char *choices;	/* CT_ENUM, CT_WORDS: "a|b|c" (CT_WORDS: bit i = word i);
				 * CT_INT: a word that stands for 0 ("auto") */
	const char *doc;
};

extern const struct gg_setting gg_settings[];
extern const size_t gg_nsettings;

/* A setting by name, NULL if there is none. */
const struct gg_setting *gg_setting_find(const char *name);
/* The enum field of a CT_ENUM setting (the choice's index), NULL if it has none. */
int *gg_setting_kind(struct gg_config *cfg, const struct gg_setting *s);
/* The field of a setting by its type: CT_STR/CT_ENUM, CT_INT/DURATION/MODE, CT_DOUBLE, CT_BOOL, CT_WORDS. */
char **gg_setting_str(struct gg_config *cfg, const struct gg_setting *s);
long *gg_setting_long(struct gg_config *cfg, const struct gg_setting *s);
double *gg_setting_double(struct gg_config *cfg, const struct gg_setting *s);
int *gg_setting_int(struct gg_config *cfg, const struct gg_setting *s);
unsigned *gg_setting_words(struct gg_config *cfg, const struct gg_setting *s);

#endif

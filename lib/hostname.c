/*
 * hostname.c - host and domain name syntax (see hostname.h)
 */
#include <string.h>

#include "lib/hostname.h"

/* ldh - a letter, digit, '-' or '_' (ASCII, whatever the locale) */
static int ldh(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

/* fault - record why, and map it to a status */
static enum gg_status fault(enum gg_hostname_fault f, enum gg_hostname_fault *why)
{
	if (why != NULL)
		*why = f;
	if (f == GG_HOSTNAME_OK)
		return GG_OK;
	return f == GG_HOSTNAME_TOOLONG || f == GG_HOSTNAME_LONG_LABEL ? GG_ETOOBIG : GG_EINVAL;
}

/* gg_hostname_check - labels of 1-63 LDH/_ bytes, at most max bytes, flags */
enum gg_status gg_hostname_check(const char *name, size_t len, size_t max, unsigned flags,
				 enum gg_hostname_fault *why)
{
	size_t label = 0, labels = 0, i;
	int tld_alpha = 0;

	if (len == 0)
		return fault(GG_HOSTNAME_EMPTY, why);
	if (len > max)
		return fault(GG_HOSTNAME_TOOLONG, why);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c == '.') {
			if (label == 0)
				return fault(GG_HOSTNAME_EMPTY_LABEL, why);
			label = 0;
			continue;
		}
		if (!ldh(c))
			return fault(GG_HOSTNAME_BAD_CHAR, why);
		if (label == 0) {
			labels++;
			tld_alpha = 0;
		}
		if (c < '0' || c > '9')
			tld_alpha = 1;
		if (++label > GG_HOSTNAME_LABEL_MAX)
			return fault(GG_HOSTNAME_LONG_LABEL, why);
	}
	/* label == 0 here: the name ends with a dot (it is not empty). */
	if (label == 0 && !(flags & GG_HOSTNAME_DOT))
		return fault(GG_HOSTNAME_EMPTY_LABEL, why);
	if ((flags & GG_HOSTNAME_MULTI) && labels < 2)
		return fault(GG_HOSTNAME_ONE_LABEL, why);
	if ((flags & GG_HOSTNAME_ALPHA_TLD) && !tld_alpha)
		return fault(GG_HOSTNAME_NUMERIC_TLD, why);
	return fault(GG_HOSTNAME_OK, why);
}

/* gg_hostname_valid - a C string of at most GG_HOSTNAME_MAX bytes */
int gg_hostname_valid(const char *name, unsigned flags)
{
	return gg_hostname_check(name, strlen(name), GG_HOSTNAME_MAX, flags, NULL) == GG_OK;
}

/* gg_hostname_fault_str - stable English descriptions */
const char *gg_hostname_fault_str(enum gg_hostname_fault why)
{
	switch (why) {
	case GG_HOSTNAME_OK:		return "valid";
	case GG_HOSTNAME_EMPTY:		return "empty name";
	case GG_HOSTNAME_TOOLONG:	return "name too long";
	case GG_HOSTNAME_EMPTY_LABEL:	return "empty label";
	case GG_HOSTNAME_BAD_CHAR:	return "bad character";
	case GG_HOSTNAME_LONG_LABEL:	return "label longer than 63 bytes";
	case GG_HOSTNAME_ONE_LABEL:	return "only one label";
	case GG_HOSTNAME_NUMERIC_TLD:	return "all-digit top-level label";
	}
	return "?";
}

/*
 * hostname.h - the one syntax check for host and domain names
 *
 * A name is labels separated by dots; a label is 1-63 bytes of ASCII
 * letters, digits, '-' and '_' (underscores appear in real DNS names, e.g.
 * _spf or _dmarc, so every caller accepts them).  The name is at most `max`
 * bytes, counting everything passed in (a caller that drops a trailing dot
 * first does not count it).  Beyond that the callers differ, and the
 * differences are flags:
 *
 *   GG_HOSTNAME_DOT        the name may end with one dot (an empty last
 *                          label, "example.com."); without it that is an
 *                          empty label
 *   GG_HOSTNAME_MULTI      at least two labels: "localhost" is refused
 *   GG_HOSTNAME_ALPHA_TLD  the last label is not all digits: "mail.123"
 *                          is refused (what an FQDN in HELO must look like)
 *
 * Faults are reported in the order the bytes are scanned, so a caller that
 * prints them points at the first problem; the name is never modified.
 * No allocation, no state, no locale (isalnum() is not used).
 */
#ifndef GG_HOSTNAME_H
#define GG_HOSTNAME_H

#include <stddef.h>

#include "lib/status.h"

#define GG_HOSTNAME_MAX 253		/* longest name in text form, no trailing dot */
#define GG_HOSTNAME_LABEL_MAX 63

#define GG_HOSTNAME_DOT		0x1u
#define GG_HOSTNAME_MULTI	0x2u
#define GG_HOSTNAME_ALPHA_TLD	0x4u

enum gg_hostname_fault {
	GG_HOSTNAME_OK = 0,
	GG_HOSTNAME_EMPTY,		/* no bytes at all */
	GG_HOSTNAME_TOOLONG,		/* more than max bytes */
	GG_HOSTNAME_EMPTY_LABEL,	/* a leading dot, "..", or a trailing dot without _DOT */
	GG_HOSTNAME_BAD_CHAR,		/* a byte outside letters, digits, '-', '_' and '.' */
	GG_HOSTNAME_LONG_LABEL,		/* a label over 63 bytes */
	GG_HOSTNAME_ONE_LABEL,		/* _MULTI and a single label */
	GG_HOSTNAME_NUMERIC_TLD,	/* _ALPHA_TLD and an all-digit last label */
};

/*
 * Check the first len bytes of name (no NUL needed within them) against
 * max and flags.  GG_OK; GG_ETOOBIG for _TOOLONG and _LONG_LABEL; GG_EINVAL
 * for the rest.  *why (if why is not NULL) gets the fault, GG_HOSTNAME_OK
 * on success.
 */
enum gg_status gg_hostname_check(const char *name, size_t len, size_t max, unsigned flags,
				 enum gg_hostname_fault *why);

/* The same for a C string with max GG_HOSTNAME_MAX: 1 if valid, else 0. */
int gg_hostname_valid(const char *name, unsigned flags);

/* A short English description of a fault ("label longer than 63 bytes"). */
const char *gg_hostname_fault_str(enum gg_hostname_fault why);

#endif

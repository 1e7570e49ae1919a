/*
 * spf_weights.c - SPF result names and the spf_weights setting (see spf.h)
 *
 * The parser reads "result:weight" items separated by commas and/or white
 * space.  Numbers are read by hand (optional sign, digits, optional
 * fraction) so the locale cannot change what "1.5" means, and so "inf",
 * "nan", hex and exponents are refused.  No allocation, no global state.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "spf/spf.h"
#include "lib/util.h"

static const char *const result_names[GG_SPF_NRESULTS] = {
	[GG_SPF_PASS] = "pass",
	[GG_SPF_FAIL] = "fail",
	[GG_SPF_SOFTFAIL] = "softfail",
	[GG_SPF_NEUTRAL] = "neutral",
	[GG_SPF_NONE] = "none",
	[GG_SPF_TEMPERROR] = "temperror",
	[GG_SPF_PERMERROR] = "permerror",
};

/* The documented defaults (spf.h explains each). */
static const double default_weights[GG_SPF_NRESULTS] = {
	[GG_SPF_PASS] = -1.0,
	[GG_SPF_FAIL] = 5.0,
	[GG_SPF_SOFTFAIL] = 1.5,
	[GG_SPF_NEUTRAL] = 0.0,
	[GG_SPF_NONE] = 0.5,
	[GG_SPF_TEMPERROR] = 0.0,
	[GG_SPF_PERMERROR] = 1.0,
};

/* gg_spf_result_str - stable lower-case name of a result */
const char *gg_spf_result_str(enum gg_spf_result r)
{
	if ((unsigned)r < GG_SPF_NRESULTS)
		return result_names[r];
	return "unknown";
}

/* gg_spf_result_parse - result from its name, any case */
enum gg_status gg_spf_result_parse(const char *s, enum gg_spf_result *out)
{
	int i;

	for (i = 0; i < GG_SPF_NRESULTS; i++) {
		if (strcasecmp(s, result_names[i]) == 0) {
			*out = (enum gg_spf_result)i;
			return GG_OK;
		}
	}
	return GG_EINVAL;
}

/* gg_spf_weights_default - the documented default weights */
void gg_spf_weights_default(struct gg_spf_weights *out)
{
	memcpy(out->w, default_weights, sizeof(out->w));
}

/* parse_weight - locale-free decimal number [+-]digits[.digits] of len bytes */
static int parse_weight(const char *s, size_t len, double *out)
{
	double v = 0.0, scale = 1.0;
	size_t i = 0;
	int neg = 0, digits = 0, frac = 0;

	if (i < len && (s[i] == '+' || s[i] == '-'))
		neg = s[i++] == '-';
	for (; i < len; i++) {
		if (s[i] >= '0' && s[i] <= '9') {
			if (frac) {
				scale /= 10.0;
				v += (s[i] - '0') * scale;
			} else {
				v = v * 10.0 + (s[i] - '0');
			}
			digits++;
			/* Enough to be out of range; stops absurd inputs early. */
			if (!frac && v > 10 * GG_SPF_WEIGHT_MAX)
				return -1;
		} else if (s[i] == '.' && !frac) {
			frac = 1;
		} else {
			return -1;
		}
	}
	if (digits == 0 || v > GG_SPF_WEIGHT_MAX)
		return -1;
	*out = neg ? -v : v;
	return 0;
}

/* is_sep - item separators: comma and white space */
static int is_sep(char c)
{
	return c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* werr - format "where: spf_weights: ..." */
static enum gg_status werr(char *err, size_t errsize, const char *where, const char *what,
			   const char *item, size_t itemlen)
{
	char shown[64 + 4];

	gg_sanitize(shown, sizeof(shown), item, itemlen, 64);
	if (err != NULL && errsize > 0)
		snprintf(err, errsize, "%s%sspf_weights: '%s' %s", where ? where : "",
			 where ? ": " : "", shown, what);
	return GG_EINVAL;
}

/* gg_spf_weights_parse - read "result:weight, ..." over the defaults */
enum gg_status gg_spf_weights_parse(const char *value, const char *where,
				    struct gg_spf_weights *out, char *err, size_t errsize)
{
	struct gg_spf_weights w;
	int seen[GG_SPF_NRESULTS] = { 0 };
	const char *p = value ? value : "";

	gg_spf_weights_default(&w);
	for (;;) {
		const char *item, *name_end, *num, *num_end;
		char name[16];
		enum gg_spf_result r;
		double v;

		while (*p != '\0' && is_sep(*p))
			p++;
		if (*p == '\0')
			break;
		item = p;
		while (*p != '\0' && *p != ':' && !is_sep(*p))
			p++;
		name_end = p;
		/* Allow white space around the colon: "fail : 5". */
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == ':') {
			p++;
			while (*p == ' ' || *p == '\t')
				p++;
			num = p;
			while (*p != '\0' && !is_sep(*p))
				p++;
		} else {
			p = name_end;
			num = p;
		}
		num_end = p;

		if ((size_t)(name_end - item) >= sizeof(name) ||
		    gg_strbcpy(name, sizeof(name), item, (size_t)(name_end - item)) != GG_OK ||
		    gg_spf_result_parse(name, &r) != GG_OK)
			return werr(err, errsize, where, "is not an SPF result", item,
				    (size_t)(num_end - item));
		if (num == num_end)
			return werr(err, errsize, where, "needs a weight (result:weight)", item,
				    (size_t)(num_end - item));
		if (parse_weight(num, (size_t)(num_end - num), &v) != 0)
			return werr(err, errsize, where,
				    "is not a weight (a number from -1000 to 1000, such as 5 or -1.5)",
				    item, (size_t)(num_end - item));
		if (seen[r])
			return werr(err, errsize, where, "sets a result a second time", item,
				    (size_t)(num_end - item));
		seen[r] = 1;
		w.w[r] = v;
	}
	*out = w;
	return GG_OK;
}

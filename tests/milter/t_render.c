/*
 * t_render.c - verdicts into SMTP replies and header lines (milter/render.c)
 *
 * Table-driven: the reply code and enhanced status code each verdict gets,
 * the text made safe for smfi_setreply() (printable, '%' doubled, below
 * libmilter's 980-byte limit even when every byte is a '%'), and header
 * lines split for smfi_insheader().  Prints one "ok"/"not ok" line per case
 * and "# N passed, N failed".
 */
#include <stdio.h>
#include <string.h>

#include "milter/milter.h"
#include "lib/util.h"

static int npass, nfail;

static void check(int cond, const char *what, const char *got)
{
	if (cond) {
		printf("ok %s\n", what);
		npass++;
	} else {
		printf("not ok %s (got '%s')\n", what, got);
		nfail++;
	}
}

static const struct {
	const char *label;
	enum gg_action action;
	const char *text;
	const char *rcode, *xcode, *out;
} replies[] = {
	{ "greylist: 451 and the text's 4.7.1", GG_ACTION_GREYLIST,
	  "4.7.1 Greylisted, please try again in 300 seconds",
	  "451", "4.7.1", "Greylisted, please try again in 300 seconds" },
	{ "a '%' in the text is doubled", GG_ACTION_GREYLIST, "4.7.1 Greylisted, 100% sure",
	  "451", "4.7.1", "Greylisted, 100%% sure" },
	{ "on_db_error = defer: 451 4.3.0", GG_ACTION_GREYLIST,
	  "4.3.0 Temporary failure, please try again later",
	  "451", "4.3.0", "Temporary failure, please try again later" },
	{ "reject: 550 5.7.1 with the reasons", GG_ACTION_REJECT,
	  "5.7.1 Rejected by greygate (score 14): dnsbl:bl.test \"Listed: see http://bl.test/\"",
	  "550", "5.7.1", "Rejected by greygate (score 14): dnsbl:bl.test \"Listed: see http://bl.test/\"" },
	{ "a status of the wrong class stays in the text", GG_ACTION_GREYLIST, "5.7.1 odd",
	  "451", "4.7.1", "5.7.1 odd" },
	{ "no status code: the default one", GG_ACTION_REJECT, "Go away",
	  "550", "5.7.1", "Go away" },
	{ "a malformed status code is text", GG_ACTION_GREYLIST, "4.7. x",
	  "451", "4.7.1", "4.7. x" },
	{ "line breaks and control bytes become spaces", GG_ACTION_REJECT, "5.7.1 a\r\nb\tc\x01" "d",
	  "550", "5.7.1", "a  b c d" },
	{ "empty text: a default text", GG_ACTION_GREYLIST, "",
	  "451", "4.7.1", "Greylisted, please try again later" },
	{ "only a status code: a default text", GG_ACTION_REJECT, "5.7.1",
	  "550", "5.7.1", "Rejected by greygate" },
};

static const struct {
	const char *label, *line, *name, *value;
	int ok;
} headers[] = {
	{ "X-Greylist splits at the colon", "X-Greylist: delayed 3 seconds by greygate at mx; date",
	  "X-Greylist", "delayed 3 seconds by greygate at mx; date", 1 },
	{ "Received-SPF keeps its value", "Received-SPF: pass (mx: ok) client-ip=192.0.2.1;",
	  "Received-SPF", "pass (mx: ok) client-ip=192.0.2.1;", 1 },
	{ "no space after the colon", "X-Spam-Score:8 (dnsbl)", "X-Spam-Score", "8 (dnsbl)", 1 },
	{ "control bytes in the value become spaces", "X-A: a\r\nb", "X-A", "a  b", 1 },
	{ "no colon: not a header", "X-Greylist delayed", "", "", 0 },
	{ "empty name: not a header", ": value", "", "", 0 },
	{ "a space in the name: not a header", "X A: value", "", "", 0 },
};

int main(void)
{
	struct gg_verdict v;
	struct mlt_reply r;
	char name[64], value[256], label[200];
	size_t i;

	for (i = 0; i < sizeof(replies) / sizeof(replies[0]); i++) {
		memset(&v, 0, sizeof(v));
		v.action = replies[i].action;
		(void)gg_strcpy(v.text, sizeof(v.text), replies[i].text);
		mlt_render_reply(&v, &r);
		snprintf(label, sizeof(label), "%s: code", replies[i].label);
		check(strcmp(r.rcode, replies[i].rcode) == 0, label, r.rcode);
		snprintf(label, sizeof(label), "%s: status", replies[i].label);
		check(strcmp(r.xcode, replies[i].xcode) == 0, label, r.xcode);
		snprintf(label, sizeof(label), "%s: text", replies[i].label);
		check(strcmp(r.text, replies[i].out) == 0, label, r.text);
	}

	/* The longest text: every byte a '%'. */
	memset(&v, 0, sizeof(v));
	v.action = GG_ACTION_GREYLIST;
	memset(v.text, '%', sizeof(v.text) - 1);
	v.text[sizeof(v.text) - 1] = '\0';
	mlt_render_reply(&v, &r);
	{
		size_t n = strlen(r.text);
		int pairs = n % 2 == 0 && strspn(r.text, "%") == n;
		char got[32];
		snprintf(got, sizeof(got), "%zu bytes", n);
		check(n > 0 && n + strlen(r.rcode) + strlen(r.xcode) + 4 < 980,
		      "a text of 511 '%' stays below libmilter's 980-byte reply limit", got);
		check(pairs, "and is never cut inside a doubled '%'", got);
	}

	for (i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
		int ok = mlt_render_header(headers[i].line, name, sizeof(name), value, sizeof(value));
		snprintf(label, sizeof(label), "header: %s", headers[i].label);
		if (!headers[i].ok) {
			check(ok == 0, label, name);
			continue;
		}
		check(ok && strcmp(name, headers[i].name) == 0 && strcmp(value, headers[i].value) == 0,
		      label, value);
	}
	{
		char small[8];
		int ok = mlt_render_header("X-A: 0123456789", name, sizeof(name), small, sizeof(small));
		check(ok && strcmp(small, "0123456") == 0, "header: a value longer than its buffer is cut",
		      small);
		ok = mlt_render_header("X-A-very-long-name: v", small, sizeof(small), value, sizeof(value));
		check(!ok, "header: a name longer than its buffer is refused", small);
	}

	printf("# %d passed, %d failed\n", npass, nfail);
	return nfail == 0 ? 0 : 1;
}

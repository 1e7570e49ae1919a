/*
 * fuzz_lists.c - the postscreen-style DNS list syntax and the score text
 *
 * The input is parsed as the value of dnsbl_sites, dnswl_sites and
 * rhsbl_sites, and as a single filter.  Whatever parses must hold only
 * sane entries: a non-empty zone, a finite weight, and a filter that can
 * be asked about any answer.  The reasons of a score built from the
 * parsed lists must format into bounded buffers.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "dnsbl/lists.h"
#include "engine/score.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum gg_list_kind kinds[] = { GG_LIST_DNSBL, GG_LIST_DNSWL, GG_LIST_RHSBL };
	char *value = malloc(size + 1), err[512], buf[64];
	struct gg_list_filter f;
	struct gg_addr answer;

	if (value == NULL)
		return 0;
	memcpy(value, data, size);
	value[size] = '\0';
	memset(&answer, 0, sizeof(answer));
	answer.family = AF_INET;
	answer.bytes[0] = 127;
	answer.bytes[3] = size > 0 ? data[0] : 2;
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		struct gg_lists *ls = NULL;
		struct gg_score sc;

		if (gg_lists_parse(kinds[k], value, "fuzz:1", &ls, err, sizeof(err)) != GG_OK) {
			fuzz_check(err[0] != '\0');	/* every refusal says why */
			continue;
		}
		gg_score_init(&sc);
		for (size_t i = 0; i < ls->n; i++) {
			const struct gg_lists_entry *l = &ls->v[i];
			fuzz_check(l->zone[0] != '\0' && isfinite(l->weight));
			(void)gg_lists_classify(l, &answer);
			gg_score_add(&sc, l->zone, l->weight, l->spec);
		}
		gg_score_reasons(&sc, buf, sizeof(buf));
		gg_score_reject_text(&sc, buf, sizeof(buf));
		fuzz_check(strlen(buf) < sizeof(buf));
		gg_lists_free(ls);
	}
	if (gg_lists_parse_filter(value, &f) == GG_OK)
		(void)gg_lists_filter_match(&f, &answer);
	free(value);
	return 0;
}

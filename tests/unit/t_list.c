/*
 * t_list.c - unit tests for lib/list.h: each case is a script of list
 * operations on members 0..9 and two heads, checked after every step for
 * the member order (both directions) and the linked state of each member
 */
#include <stdio.h>
#include <string.h>

#include "unit.h"
#include "lib/list.h"
#include "lib/util.h"

#define NMEMBERS 10

struct member {
	int id;
	struct gg_list link;
};

/*
 * Script words: fN/bN push member N to the front/back of list a, FN/BN
 * of list b; rN remove member N; p pop a (the popped id is recorded as
 * "pN"); m move all of b to the end of a; M move a to the end of b.
 */
struct list_case {
	const char *label;
	const char *script;
	const char *want_a;		/* ids front to back, space separated */
	const char *want_b;
	const char *want_popped;
};

static const struct list_case cases[] = {
	{ "empty", "", "", "", "" },
	{ "push back keeps order", "b1 b2 b3", "1 2 3", "", "" },
	{ "push front reverses", "f1 f2 f3", "3 2 1", "", "" },
	{ "mixed fronts and backs", "b1 f0 b2 f9", "9 0 1 2", "", "" },
	{ "remove the middle", "b1 b2 b3 r2", "1 3", "", "" },
	{ "remove the first", "b1 b2 b3 r1", "2 3", "", "" },
	{ "remove the last", "b1 b2 b3 r3", "1 2", "", "" },
	{ "remove the only member", "b1 r1", "", "", "" },
	{ "remove twice is harmless", "b1 b2 r1 r1", "2", "", "" },
	{ "remove an unlinked member", "r4 b1", "1", "", "" },
	{ "re-insert after remove", "b1 b2 r1 b1", "2 1", "", "" },
	{ "pop front to back", "b1 b2 b3 p p", "3", "", "p1 p2" },
	{ "pop an empty list", "p b1 p p", "", "", "p- p1 p-" },
	{ "two lists", "b1 B2 b3 B4", "1 3", "2 4", "" },
	{ "remove from either list without its head", "b1 B2 b3 B4 r2 r3", "1", "4", "" },
	{ "move b to the end of a", "b1 b2 B3 B4 m", "1 2 3 4", "", "" },
	{ "move into an empty list", "B3 B4 m", "3 4", "", "" },
	{ "move an empty list", "b1 m", "1", "", "" },
	{ "move a to b, then use a again", "b1 b2 M b5", "5", "1 2", "" },
	{ "members stay removable after a move", "B1 B2 B3 m r2 p", "3", "", "p1" },
};

struct world {
	struct gg_list a, b;
	struct member m[NMEMBERS];
	char popped[128];
};

/* ids - a list's ids front to back; checks the back links agree */
static void ids(const struct gg_list *head, char *out, size_t size)
{
	const struct gg_list *l;
	int fwd[NMEMBERS + 1], n = 0, i;
	size_t len = 0;

	out[0] = '\0';
	for (l = gg_list_first(head); l != NULL; l = gg_list_next(head, l)) {
		assert_true(n < NMEMBERS);
		fwd[n++] = gg_list_entry(l, const struct member, link)->id;
		len += (size_t)snprintf(out + len, size - len, "%s%d", len ? " " : "",
					fwd[n - 1]);
	}
	/* Backwards gives the same members in reverse. */
	i = n;
	for (l = gg_list_last(head); l != NULL; l = gg_list_prev(head, l))
		assert_int_equal(gg_list_entry(l, const struct member, link)->id, fwd[--i]);
	assert_int_equal(i, 0);
	assert_int_equal(gg_list_empty(head), n == 0);
}

static void run_script(struct world *w, const char *script)
{
	const char *p = script;
	struct gg_list *l;
	size_t len;

	while (*p != '\0') {
		char op = *p++;
		int id = -1;
		if (*p >= '0' && *p <= '9')
			id = *p++ - '0';
		switch (op) {
		case 'f': gg_list_push_front(&w->a, &w->m[id].link); break;
		case 'b': gg_list_push_back(&w->a, &w->m[id].link); break;
		case 'F': gg_list_push_front(&w->b, &w->m[id].link); break;
		case 'B': gg_list_push_back(&w->b, &w->m[id].link); break;
		case 'r': gg_list_remove(&w->m[id].link); break;
		case 'm': gg_list_move(&w->a, &w->b); break;
		case 'M': gg_list_move(&w->b, &w->a); break;
		case 'p':
			l = gg_list_pop(&w->a);
			len = strlen(w->popped);
			if (l == NULL)
				snprintf(w->popped + len, sizeof(w->popped) - len, "%sp-",
					 len ? " " : "");
			else {
				snprintf(w->popped + len, sizeof(w->popped) - len, "%sp%d",
					 len ? " " : "", gg_list_entry(l, struct member, link)->id);
				assert_false(gg_list_linked(l));
			}
			break;
		default:
			fail_msg("bad script word '%c'", op);
		}
		while (*p == ' ')
			p++;
	}
}

static void test_script(void **state)
{
	const struct list_case *c = *state;
	struct world w;
	char got[128];
	int i, on_a = 0, on_b = 0, linked = 0;

	memset(&w, 0, sizeof(w));
	gg_list_init(&w.a);
	gg_list_init(&w.b);
	for (i = 0; i < NMEMBERS; i++) {
		w.m[i].id = i;
		gg_list_init(&w.m[i].link);
		assert_false(gg_list_linked(&w.m[i].link));
	}
	run_script(&w, c->script);
	ids(&w.a, got, sizeof(got));
	assert_string_equal(got, c->want_a);
	ids(&w.b, got, sizeof(got));
	assert_string_equal(got, c->want_b);
	assert_string_equal(w.popped, c->want_popped);
	/* Exactly the members on a list say they are linked. */
	for (i = 0; i < NMEMBERS; i++)
		linked += gg_list_linked(&w.m[i].link);
	for (struct gg_list *l = gg_list_first(&w.a); l != NULL; l = gg_list_next(&w.a, l))
		on_a++;
	for (struct gg_list *l = gg_list_first(&w.b); l != NULL; l = gg_list_next(&w.b, l))
		on_b++;
	assert_int_equal(linked, on_a + on_b);
}

int main(void)
{
	struct tu_suite s = { 0 };
	size_t i;

	for (i = 0; i < GG_ARRAY_LEN(cases); i++)
		tu_add(&s, test_script, &cases[i], "list: %s", cases[i].label);
	return tu_run(&s, "t_list");
}

/*
 * unit.c - shared helpers for the unit tests (see unit.h)
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"

/* die - a helper could not do its job: the test program cannot go on */
static void die(const char *what)
{
	fprintf(stderr, "unit test setup failed: %s: %s\n", what, strerror(errno));
	exit(99);	/* automake: hard error */
}

/* add - append one labelled test */
__attribute__((format(printf, 6, 0)))
static void add(struct tu_suite *s, CMUnitTestFunction fn, CMFixtureFunction setup,
		CMFixtureFunction teardown, const void *state, const char *fmt, va_list ap)
{
	char *name;

	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 32;
		struct CMUnitTest *nt = realloc(s->tests, ncap * sizeof(*nt));
		if (nt == NULL)
			die("realloc");
		s->tests = nt;
		s->cap = ncap;
	}
	if (vasprintf(&name, fmt, ap) < 0)
		die("vasprintf");
	memset(&s->tests[s->n], 0, sizeof(s->tests[s->n]));
	s->tests[s->n].name = name;
	s->tests[s->n].test_func = fn;
	s->tests[s->n].setup_func = setup;
	s->tests[s->n].teardown_func = teardown;
	s->tests[s->n].initial_state = (void *)(uintptr_t)state;
	s->n++;
}

/* tu_add - one labelled test */
void tu_add(struct tu_suite *s, CMUnitTestFunction fn, const void *state, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add(s, fn, NULL, NULL, state, fmt, ap);
	va_end(ap);
}

/* tu_add_fixture - one labelled test with setup and teardown */
void tu_add_fixture(struct tu_suite *s, CMUnitTestFunction fn, CMFixtureFunction setup,
		    CMFixtureFunction teardown, const void *state, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add(s, fn, setup, teardown, state, fmt, ap);
	va_end(ap);
}

/* tu_run - run the group and release the list */
int tu_run(struct tu_suite *s, const char *group)
{
	int failed = _cmocka_run_group_tests(group, s->tests, s->n, NULL, NULL);

	for (size_t i = 0; i < s->n; i++)
		free((char *)(uintptr_t)s->tests[i].name);
	free(s->tests);
	s->tests = NULL;
	s->n = s->cap = 0;
	return failed;
}

/* tu_mkdtemp - private scratch directory */
char *tu_mkdtemp(void)
{
	const char *base = getenv("TMPDIR");
	char *path;

	if (base == NULL || base[0] == '\0')
		base = "/tmp";
	if (asprintf(&path, "%s/gg-unit.XXXXXX", base) < 0)
		die("asprintf");
	if (mkdtemp(path) == NULL)
		die(path);
	return path;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* tu_rmtree - remove a scratch directory and its contents */
void tu_rmtree(const char *path)
{
	if (path != NULL)
		(void)nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* tu_write_file - create dir/name with the given bytes */
char *tu_write_file(const char *dir, const char *name, const void *content, size_t len)
{
	char *path;
	int fd;

	if (asprintf(&path, "%s/%s", dir, name) < 0)
		die("asprintf");
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0)
		die(path);
	if (len > 0 && write(fd, content, len) != (ssize_t)len)
		die(path);
	if (close(fd) != 0)
		die(path);
	return path;
}

/* tu_subst - replace every "@@" */
char *tu_subst(const char *s, const char *rep)
{
	size_t cap = strlen(s) + 1, rl = strlen(rep), o = 0;
	char *out;

	for (const char *p = strstr(s, "@@"); p != NULL; p = strstr(p + 2, "@@"))
		cap += rl;
	if ((out = malloc(cap)) == NULL)
		die("malloc");
	while (*s) {
		if (s[0] == '@' && s[1] == '@') {
			memcpy(out + o, rep, rl);
			o += rl;
			s += 2;
		} else {
			out[o++] = *s++;
		}
	}
	out[o] = '\0';
	return out;
}

/* tu_assert_contains_at - substring check with a readable failure */
void tu_assert_contains_at(const char *haystack, const char *needle, const char *file, int line)
{
	if (haystack == NULL || needle == NULL || strstr(haystack, needle) == NULL) {
		print_error("expected \"%s\" to contain \"%s\"\n", haystack ? haystack : "(null)",
			    needle ? needle : "(null)");
		_fail(file, line);
	}
}

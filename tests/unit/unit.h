/*
 * unit.h - shared helpers for the cmocka unit tests in tests/unit/
 *
 * Tests are table-driven: every table row becomes one cmocka test named
 * by the row's readable label, so the output says which case failed and
 * the suite counts cases, not tables.  tu_add() collects tests, tu_run()
 * runs them as one group (one "[  PASSED  ] N test(s)" line per binary).
 *
 * Files and directories: tu_mkdtemp() makes a private directory under
 * $TMPDIR (or /tmp), tu_rmtree() removes it with its contents, and
 * tu_write_file() writes a file there.  Helpers that fail end the program
 * with a message: a test that cannot set itself up must not pass.
 */
#ifndef GG_TESTS_UNIT_H
#define GG_TESTS_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

struct tu_suite {
	struct CMUnitTest *tests;
	size_t n, cap;
};

/* Add one test named by a printf-style label; state is handed to fn as *state. */
void tu_add(struct tu_suite *s, CMUnitTestFunction fn, const void *state, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The same with per-test setup and teardown (cmocka fixtures); either may be NULL. */
void tu_add_fixture(struct tu_suite *s, CMUnitTestFunction fn, CMFixtureFunction setup,
		    CMFixtureFunction teardown, const void *state, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
/* Run every added test as one group; returns the number of failures. */
int tu_run(struct tu_suite *s, const char *group);

/* A new private directory (malloc'd path). */
char *tu_mkdtemp(void);
/* Remove a directory tree. */
void tu_rmtree(const char *path);
/* Write len bytes to dir/name; returns the malloc'd path. */
char *tu_write_file(const char *dir, const char *name, const void *content, size_t len);
/* Copy of s with every "@@" replaced by rep (malloc'd). */
char *tu_subst(const char *s, const char *rep);

/* Fail the current test unless haystack contains needle, showing both. */
#define tu_assert_contains(haystack, needle) \
	tu_assert_contains_at((haystack), (needle), __FILE__, __LINE__)
void tu_assert_contains_at(const char *haystack, const char *needle, const char *file, int line);

#endif

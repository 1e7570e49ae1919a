/*
 * fuzz.h - the libFuzzer entry point every tests/fuzz/fuzz_*.c defines
 *
 * Each target is built twice: with clang -fsanitize=fuzzer by build.sh for
 * real fuzzing, and with the normal compiler plus replay.c for `make check`,
 * which runs it over the committed corpus.  A target reports a broken
 * invariant with fuzz_check(), which aborts so both drivers see a crash.
 */
#ifndef GG_TESTS_FUZZ_H
#define GG_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_fail_at - report a broken invariant and abort */
__attribute__((noreturn)) static inline void fuzz_fail_at(const char *file, int line,
							   const char *what)
{
	fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
	abort();
}

#define fuzz_check(cond) do { if (!(cond)) fuzz_fail_at(__FILE__, __LINE__, #cond); } while (0)

#endif

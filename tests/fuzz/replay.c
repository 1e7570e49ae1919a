/*
 * replay.c - run a fuzz target's LLVMFuzzerTestOneInput over files
 *
 * Usage: replay_TARGET PATH...   where each PATH is a corpus directory
 * (every regular file in it, in name order) or a single file.  Each input
 * is copied into a heap buffer of exactly its size, as libFuzzer does, so
 * AddressSanitizer sees any read past its end.  Exit status: 0 when every
 * input ran, 1 when a path could not be read or held no inputs (a missing
 * corpus must not look like a pass).  A crash is, of course, a crash.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* run_file - feed one file to the target; returns 0 on success */
static int run_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf = NULL;
	long len;

	if (fp == NULL || fseek(fp, 0, SEEK_END) != 0 || (len = ftell(fp)) < 0 ||
	    fseek(fp, 0, SEEK_SET) != 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		if (fp)
			fclose(fp);
		return -1;
	}
	/* malloc(0) may return NULL: keep one spare byte but pass the exact size. */
	if ((buf = malloc((size_t)len + 1)) == NULL ||
	    (len > 0 && fread(buf, 1, (size_t)len, fp) != (size_t)len)) {
		fprintf(stderr, "replay: %s: read failed\n", path);
		free(buf);
		fclose(fp);
		return -1;
	}
	fclose(fp);
	if (len > 0) {
		/* Exactly len bytes, so an over-read hits the redzone. */
		uint8_t *exact = malloc((size_t)len);
		if (exact == NULL) {
			free(buf);
			return -1;
		}
		memcpy(exact, buf, (size_t)len);
		free(buf);
		buf = exact;
	}
	fprintf(stderr, "replay: %s (%ld bytes)\n", path, len);
	(void)LLVMFuzzerTestOneInput(buf, (size_t)len);
	free(buf);
	return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* run_dir - every regular file of a directory; returns the count or -1 */
static long run_dir(const char *dir)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, by_name);
	long count = 0;

	if (n < 0) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char path[4096];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
		if (ents[i]->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			if (run_file(path) != 0)
				count = -1;
			else if (count >= 0)
				count++;
		}
		free(ents[i]);
	}
	free(ents);
	return count;
}

int main(int argc, char **argv)
{
	long total = 0;
	int bad = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;
		long n;

		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			bad = 1;
			continue;
		}
		n = S_ISDIR(st.st_mode) ? run_dir(argv[i]) : (run_file(argv[i]) == 0 ? 1 : -1);
		if (n <= 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], n == 0 ? "no inputs" : "failed");
			bad = 1;
			continue;
		}
		total += n;
	}
	printf("replay: %ld inputs ran without a crash\n", total);
	return bad;
}

/* Runs a fuzz target on every file of its folder tests/fuzz/<name>/ (seeds
 * and the crashes fuzzing found), without libFuzzer: `make test` runs these
 * as unit tests, so a fixed crash stays fixed. Closing line as every unit
 * test: "N passed, N failed" (a crash aborts the binary, which fails it). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_FILE_MAX	(4 * 1024 * 1024)

int
main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "tests/fuzz/" FUZZ_NAME;
	int passed = 0, failed = 0;
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) == NULL) {
		perror(dir);
		printf("fuzz %s: 0 passed, 1 failed\n", FUZZ_NAME);
		return 1;
	}
	while ((de = readdir(d)) != NULL) {
		char path[4096], *data;
		size_t len;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		if ((data = fs_read_file(path, REPLAY_FILE_MAX, &len)) == NULL) {
			fprintf(stderr, "FAIL cannot read %s\n", path);
			failed++;
			continue;
		}
		LLVMFuzzerTestOneInput((const uint8_t *)data, len);
		free(data);
		passed++;
	}
	closedir(d);
	printf("fuzz %s: %d passed, %d failed\n", FUZZ_NAME, passed, failed);
	return failed ? 1 : 0;
}

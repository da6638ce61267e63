/* libFuzzer target: exercise.json as course_load_exercise() reads it from a
 * course folder (a scratch one in /dev/shm, made once), and due dates
 * (course_parse_time). A teacher's typo must give a sentence, never a crash. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "course.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char root[64];

static int
put(const char *name, const void *data, size_t len)
{
	char path[256];
	FILE *f;
	int rc;

	snprintf(path, sizeof path, "%s/%s", root, name);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	rc = fwrite(data, 1, len, f) == len ? 0 : -1;
	return fclose(f) == 0 ? rc : -1;
}

/* Leave nothing in /dev/shm: libFuzzer ends with exit(). */
static void
cleanup(void)
{
	static const char *const paths[] = { "exercises/ex/exercise.json", "exercises/ex/ex.py",
		"hidden/ex/test_ex.py", "hidden/ex", "hidden", "exercises/ex", "exercises", "" };
	char path[256];

	for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
		snprintf(path, sizeof path, "%s%s%s", root, *paths[i] ? "/" : "", paths[i]);
		remove(path);
	}
}

static int
setup(void)
{
	static const char scaffold[] = "import marimo\napp = marimo.App()\n\n"
	    "@app.function\ndef f():\n    return None\n";
	static const char test[] = "from submission import f\n\ndef test_f():\n"
	    "    \"\"\"f works.\"\"\"\n    assert f() == 1\n";
	char path[256];

	snprintf(root, sizeof root, "/dev/shm/markbook-fuzz-%d", (int)getpid());
	atexit(cleanup);
	for (const char *d = "\0exercises\0exercises/ex\0hidden\0hidden/ex\0"; ; d += strlen(d) + 1) {
		snprintf(path, sizeof path, "%s%s%s", root, *d ? "/" : "", d);
		if (mkdir(path, 0700) < 0)
			return -1;
		if (strcmp(d, "hidden/ex") == 0)
			break;
	}
	return put("exercises/ex/ex.py", scaffold, sizeof scaffold - 1) < 0 ||
	    put("hidden/ex/test_ex.py", test, sizeof test - 1) < 0 ? -1 : 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct exercise ex;
	char err[1024], *text;
	time_t t;

	if (!ready && setup() < 0)
		abort();
	ready = 1;
	if (put("exercises/ex/exercise.json", data, size) < 0)
		abort();
	err[0] = '\0';
	if (course_load_exercise(root, "ex", &ex, err, sizeof err) < 0 && err[0] == '\0')
		abort();	/* a refusal always says why */
	course_exercise_free(&ex);
	if ((text = strndup((const char *)data, size)) != NULL) {
		course_parse_time(text, &t);
		free(text);
	}
	return 0;
}

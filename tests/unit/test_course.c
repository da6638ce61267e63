#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "course.h"
#include "fsutil.h"
#include "unit.h"

static char root[64];

static void
put(const char *rel, const char *text)
{
	char path[512];

	snprintf(path, sizeof path, "%s/%s", root, rel);
	unlink(path);
	if (fs_write_file(path, text, strlen(text), 0644) < 0)
		perror(path);
}

static void
folder(const char *rel)
{
	char path[512];

	snprintf(path, sizeof path, "%s/%s", root, rel);
	mkdir(path, 0755);
}

/* A valid exercise "ex1", which each test then breaks in one way. */
static void
fresh_course(void)
{
	if (root[0])
		fs_remove_tree(root);
	snprintf(root, sizeof root, "/tmp/markbook-course-XXXXXX");
	if (mkdtemp(root) == NULL)
		perror("mkdtemp");
	folder("exercises");
	folder("hidden");
	folder("exercises/ex1");
	folder("hidden/ex1");
	put("exercises/ex1/exercise.json", "{\"title\": \"One\", \"phase\": 1, \"max_points\": 10}");
	put("exercises/ex1/ex1.py", "import marimo\napp = marimo.App()\n");
	put("exercises/ex1/data.csv", "a,b\n1,2\n");
	put("hidden/ex1/test_one.py", "from submission import f\ndef test_a(): assert f()\n");
	put("hidden/ex1/solution.py", "def f(): return 1\n");
}

static int
load(struct exercise *ex, char *err, size_t len)
{
	return course_load_exercise(root, "ex1", ex, err, len);
}

#define EXPECT_ERROR(what) do {						\
	struct exercise ex_;						\
	char err_[512];							\
	CHECK(load(&ex_, err_, sizeof err_) < 0);			\
	CHECK(strstr(err_, (what)) != NULL);				\
	if (strstr(err_, (what)) == NULL)				\
		fprintf(stderr, "  got: %s\n", err_);			\
	course_exercise_free(&ex_);					\
} while (0)

int
main(void)
{
	struct exercise ex;
	char err[512];
	time_t t;
	size_t bad;

	TEST("course_parse_time reads offsets and Z") {
		CHECK(course_parse_time("2026-12-01T23:59:00+01:00", &t) == 0 && t == 1796165940);
		CHECK(course_parse_time("2026-12-01T22:59:00Z", &t) == 0 && t == 1796165940);
		CHECK(course_parse_time("2026-12-01T22:59Z", &t) == 0 && t == 1796165940);
		CHECK(course_parse_time("2026-12-01T22:59:00.250Z", &t) == 0 && t == 1796165940);
	}
	TEST("course_parse_time refuses a time without offset or an impossible date") {
		CHECK(course_parse_time("2026-12-01T23:59:00", &t) < 0);
		CHECK(course_parse_time("2026-02-31T10:00:00Z", &t) < 0);
		CHECK(course_parse_time("2026-13-01T10:00:00Z", &t) < 0);
		CHECK(course_parse_time("tomorrow", &t) < 0);
		CHECK(course_parse_time("2026-12-01T10:00:00Zjunk", &t) < 0);
	}
	TEST("course_valid_slug allows a-z, 0-9 and - only") {
		CHECK(course_valid_slug("cp1-functions"));
		CHECK(!course_valid_slug("CP1"));
		CHECK(!course_valid_slug("a_b"));
		CHECK(!course_valid_slug("../x"));
		CHECK(!course_valid_slug(""));
	}
	TEST("fs_valid_utf8 accepts text and finds the first bad byte") {
		CHECK(fs_valid_utf8("h\xc3\xa9llo \xe2\x82\xac", 10, &bad));
		CHECK(!fs_valid_utf8("ab\xff", 3, &bad) && bad == 2);
		CHECK(!fs_valid_utf8("a\0b", 3, &bad) && bad == 1);
		CHECK(!fs_valid_utf8("\xc0\xaf", 2, &bad) && bad == 0);	/* overlong */
		CHECK(!fs_valid_utf8("\xed\xa0\x80", 3, &bad));		/* surrogate */
		CHECK(!fs_valid_utf8("ok\xe2\x82", 4, &bad) && bad == 2);	/* cut short */
	}

	fresh_course();
	TEST("course_load_exercise loads a valid exercise with its defaults") {
		CHECK(load(&ex, err, sizeof err) == 0);
		CHECK_STR(ex.title, "One");
		CHECK(ex.phase == 1 && ex.max_points == 1000 && ex.timeout_s == 30 &&
		    ex.test_timeout_s == 10 && ex.memory_mb == 512 && ex.due_at == NULL);
		CHECK(ex.feedback == COURSE_FEEDBACK_AFTER_DUE);
		CHECK(ex.n_data_files == 1 && strcmp(ex.data_files[0], "data.csv") == 0);
		CHECK(ex.n_test_files == 1 && strcmp(ex.test_files[0], "test_one.py") == 0);
		CHECK(ex.n_hidden_files == 1 && strcmp(ex.hidden_files[0], "test_one.py") == 0);
		course_exercise_free(&ex);
	}
	TEST("course_load_exercise takes max_points with two decimals, in hundredths") {
		put("exercises/ex1/exercise.json", "{\"title\": \"One\", \"phase\": 1, "
		    "\"max_points\": 7.5}");
		CHECK(load(&ex, err, sizeof err) == 0 && ex.max_points == 750);
		course_exercise_free(&ex);
		put("exercises/ex1/exercise.json", "{\"title\": \"One\", \"phase\": 1, "
		    "\"max_points\": 0.29}");
		CHECK(load(&ex, err, sizeof err) == 0 && ex.max_points == 29);
		course_exercise_free(&ex);
	}
	fresh_course();
	TEST("course_load_exercise names an unknown key") {
		put("exercises/ex1/exercise.json", "{\"title\": \"One\", \"phase\": 1, "
		    "\"max_points\": 10, \"points\": 3}");
		EXPECT_ERROR("exercises/ex1/exercise.json: unknown key \"points\"");
	}
	fresh_course();
	TEST("course_load_exercise gives the line of invalid JSON") {
		put("exercises/ex1/exercise.json", "{\"title\": \"One\",\n\"phase\": 1,\n"
		    "\"max_points\": 10,\n}");
		EXPECT_ERROR("invalid JSON near line 4");
	}
	fresh_course();
	TEST("course_load_exercise refuses an exercise.json nested more than 64 deep") {
		char text[2200];
		size_t n = (size_t)snprintf(text, sizeof text, "{\"title\": \"One\", \"phase\": 1, "
		    "\"max_points\": 10, \"late\": ");

		memset(text + n, '[', 1000);
		memset(text + n + 1000, ']', 1000);
		strcpy(text + n + 2000, "}");
		put("exercises/ex1/exercise.json", text);
		EXPECT_ERROR("exercises/ex1/exercise.json: nested more than 64 levels deep");
	}
	fresh_course();
	TEST("course_load_exercise refuses a missing or wrong title, phase and points") {
		put("exercises/ex1/exercise.json", "{\"phase\": 1, \"max_points\": 10}");
		EXPECT_ERROR("\"title\" is required");
		put("exercises/ex1/exercise.json", "{\"title\": \"x\", \"phase\": 3, \"max_points\": 10}");
		EXPECT_ERROR("\"phase\" must be a whole number from 1 to 2");
		put("exercises/ex1/exercise.json", "{\"title\": \"x\", \"phase\": 1, \"max_points\": 2.555}");
		EXPECT_ERROR("\"max_points\" must be a number of points above 0 and up to 10000, with "
		    "at most two decimals (such as 10 or 7.5).");
		put("exercises/ex1/exercise.json", "{\"title\": \"x\", \"phase\": 1, \"max_points\": 0}");
		EXPECT_ERROR("\"max_points\" must be a number of points above 0");
		put("exercises/ex1/exercise.json", "{\"title\": \"x\", \"phase\": 1, \"max_points\": \"10\"}");
		EXPECT_ERROR("\"max_points\" must be a number of points above 0");
		put("exercises/ex1/exercise.json", "{\"title\": \"x\", \"phase\": 1, \"max_points\": 1e9}");
		EXPECT_ERROR("\"max_points\" must be a number of points above 0");
		put("exercises/ex1/exercise.json", "{\"title\": \"x\", \"phase\": 1}");
		EXPECT_ERROR("\"max_points\" are required");
		put("exercises/ex1/exercise.json", "[1, 2]");
		EXPECT_ERROR("must be a JSON object");
	}
	fresh_course();
	TEST("course_load_exercise refuses a per-test limit above the whole-run limit") {
		put("exercises/ex1/exercise.json", "{\"title\": \"x\", \"phase\": 1, \"max_points\": 5, "
		    "\"timeout_s\": 5, \"test_timeout_s\": 9}");
		EXPECT_ERROR("\"test_timeout_s\" must be a whole number from 1 to 5");
	}
	fresh_course();
	TEST("course_load_exercise refuses a due date without its offset") {
		put("exercises/ex1/exercise.json", "{\"title\": \"x\", \"phase\": 1, \"max_points\": 5, "
		    "\"due_at\": \"2026-12-01 10:00\"}");
		EXPECT_ERROR("\"due_at\" must be a date and time with its offset");
	}
	fresh_course();
	TEST("course_load_exercise reads \"feedback\" and refuses an unknown value") {
		put("exercises/ex1/exercise.json", "{\"title\": \"x\", \"phase\": 1, \"max_points\": 5, "
		    "\"feedback\": \"always\"}");
		CHECK(load(&ex, err, sizeof err) == 0);
		CHECK(ex.feedback == COURSE_FEEDBACK_ALWAYS);
		course_exercise_free(&ex);
		put("exercises/ex1/exercise.json", "{\"title\": \"x\", \"phase\": 1, \"max_points\": 5, "
		    "\"feedback\": \"never\"}");
		CHECK(load(&ex, err, sizeof err) == 0);
		CHECK(ex.feedback == COURSE_FEEDBACK_NEVER);
		course_exercise_free(&ex);
		put("exercises/ex1/exercise.json", "{\"title\": \"x\", \"phase\": 1, \"max_points\": 5, "
		    "\"feedback\": \"sometimes\"}");
		EXPECT_ERROR("\"feedback\" must be \"after_due\"");
	}
	fresh_course();
	TEST("course_load_exercise isolates by process unless the exercise says shared") {
		CHECK(load(&ex, err, sizeof err) == 0 && ex.isolation == COURSE_ISOLATION_PROCESS);
		course_exercise_free(&ex);
		put("exercises/ex1/exercise.json", "{\"title\": \"x\", \"phase\": 1, \"max_points\": 5, "
		    "\"isolation\": \"shared\"}");
		CHECK(load(&ex, err, sizeof err) == 0 && ex.isolation == COURSE_ISOLATION_SHARED);
		course_exercise_free(&ex);
		put("exercises/ex1/exercise.json", "{\"title\": \"x\", \"phase\": 1, \"max_points\": 5, "
		    "\"isolation\": \"docker\"}");
		EXPECT_ERROR("\"isolation\" must be \"process\"");
	}
	fresh_course();
	TEST("course_load_exercise reads a late policy and has none by default") {
		CHECK(load(&ex, err, sizeof err) == 0 && !ex.late);
		course_exercise_free(&ex);
		put("exercises/ex1/exercise.json", "{\"title\": \"x\", \"phase\": 1, \"max_points\": 5, "
		    "\"due_at\": \"2026-12-01T10:00:00Z\", \"late\": {\"penalty_per_day\": 10, "
		    "\"max_days\": 7}}");
		CHECK(load(&ex, err, sizeof err) == 0);
		CHECK(ex.late && ex.late_penalty == 10 && ex.late_max_days == 7);
		course_exercise_free(&ex);
	}
	TEST("course_load_exercise refuses a late policy that is incomplete, out of range or "
	    "without a due date") {
		put("exercises/ex1/exercise.json", "{\"title\": \"x\", \"phase\": 1, \"max_points\": 5, "
		    "\"due_at\": \"2026-12-01T10:00:00Z\", \"late\": {\"penalty_per_day\": 10}}");
		EXPECT_ERROR("\"late\" must look like {\"penalty_per_day\": 10, \"max_days\": 7}");
		put("exercises/ex1/exercise.json", "{\"title\": \"x\", \"phase\": 1, \"max_points\": 5, "
		    "\"due_at\": \"2026-12-01T10:00:00Z\", \"late\": {\"penalty_per_day\": 120, "
		    "\"max_days\": 7}}");
		EXPECT_ERROR("\"penalty_per_day\" must be a whole number from 0 to 100");
		put("exercises/ex1/exercise.json", "{\"title\": \"x\", \"phase\": 1, \"max_points\": 5, "
		    "\"due_at\": \"2026-12-01T10:00:00Z\", \"late\": {\"penalty_per_day\": 10, "
		    "\"max_days\": 7, \"grace_hours\": 2}}");
		EXPECT_ERROR("unknown key \"grace_hours\" in \"late\"");
		put("exercises/ex1/exercise.json", "{\"title\": \"x\", \"phase\": 1, \"max_points\": 5, "
		    "\"late\": 10}");
		EXPECT_ERROR("\"late\" must look like");
		put("exercises/ex1/exercise.json", "{\"title\": \"x\", \"phase\": 1, \"max_points\": 5, "
		    "\"late\": {\"penalty_per_day\": 10, \"max_days\": 7}}");
		EXPECT_ERROR("\"late\" needs a \"due_at\"");
	}
	fresh_course();
	TEST("course_load_exercise names a missing scaffold, exercise.json and hidden tests") {
		char p[256];

		snprintf(p, sizeof p, "%s/exercises/ex1/ex1.py", root);
		unlink(p);
		EXPECT_ERROR("exercises/ex1/ex1.py: missing");
		fresh_course();
		snprintf(p, sizeof p, "%s/hidden/ex1/test_one.py", root);
		unlink(p);
		EXPECT_ERROR("hidden/ex1: no test file. Name the hidden tests test_*.py or *_test.py");
		fresh_course();
		snprintf(p, sizeof p, "%s/hidden/ex1", root);
		fs_remove_tree(p);
		EXPECT_ERROR("hidden/ex1: missing");
		fresh_course();
		snprintf(p, sizeof p, "%s/exercises/ex1/exercise.json", root);
		unlink(p);
		EXPECT_ERROR("exercises/ex1/exercise.json: missing");
	}
	fresh_course();
	TEST("course_load_exercise refuses a slug outside [a-z0-9-]") {
		CHECK(course_load_exercise(root, "Ex_1", &ex, err, sizeof err) < 0);
		CHECK(strstr(err, "may only contain a-z, 0-9 and -") != NULL);
		course_exercise_free(&ex);
	}
	TEST("course_load_exercise refuses a data file named like a hidden test") {
		put("exercises/ex1/test_one.py", "x = 1\n");
		EXPECT_ERROR("may not have the name of a hidden test");
	}
	fresh_course();
	TEST("course_load_exercise hands out data in subfolders by their relative paths, but "
	    "not practice/, dot files, __pycache__ or links") {
		folder("exercises/ex1/data");
		folder("exercises/ex1/data/raw");
		folder("exercises/ex1/practice");
		folder("exercises/ex1/.git");
		folder("exercises/ex1/__pycache__");
		put("exercises/ex1/data/canucks.csv", "player,goals\n");
		put("exercises/ex1/data/raw/2024.csv", "x\n");
		put("exercises/ex1/data/.DS_Store", "junk");
		put("exercises/ex1/practice/index.html", "<html>");
		put("exercises/ex1/.git/config", "[core]");
		put("exercises/ex1/.notes.md", "mine");
		put("exercises/ex1/__pycache__/ex1.cpython-311.pyc", "x");
		folder("exercises/ex1/data/practice");	/* only the top-level practice/ is left out */
		put("exercises/ex1/data/practice/a.txt", "a");
		{
			char target[512], link[512];

			snprintf(target, sizeof target, "%s/hidden/ex1/solution.py", root);
			snprintf(link, sizeof link, "%s/exercises/ex1/data/answers.py", root);
			CHECK(symlink(target, link) == 0);
		}
		CHECK(load(&ex, err, sizeof err) == 0);
		CHECK(ex.n_data_files == 4);
		if (ex.n_data_files == 4) {
			CHECK_STR(ex.data_files[0], "data.csv");
			CHECK_STR(ex.data_files[1], "data/canucks.csv");
			CHECK_STR(ex.data_files[2], "data/practice/a.txt");
			CHECK_STR(ex.data_files[3], "data/raw/2024.csv");
		}
		course_exercise_free(&ex);
	}
	fresh_course();
	TEST("course_is_test_file takes pytest's default names, test_*.py and *_test.py") {
		CHECK(course_is_test_file("test_one.py"));
		CHECK(course_is_test_file("nth_prime_test.py"));
		CHECK(course_is_test_file("unit/test_two.py"));
		CHECK(!course_is_test_file("conftest.py"));
		CHECK(!course_is_test_file("helpers.py"));
		CHECK(!course_is_test_file("testing.py"));
		CHECK(!course_is_test_file("test_data.csv"));
		CHECK(!course_is_test_file("test_dir/helpers.py"));
	}
	TEST("course_load_exercise accepts an Exercism-style nth_prime_test.py alone") {
		char p[256];

		snprintf(p, sizeof p, "%s/hidden/ex1/test_one.py", root);
		unlink(p);
		put("hidden/ex1/nth_prime_test.py", "from submission import prime\n");
		CHECK(load(&ex, err, sizeof err) == 0);
		CHECK(ex.n_test_files == 1 && strcmp(ex.test_files[0], "nth_prime_test.py") == 0);
		course_exercise_free(&ex);
	}
	fresh_course();
	TEST("course_load_exercise stages hidden helpers, conftest.py and data but takes only "
	    "test files as tests") {
		folder("hidden/ex1/data");
		folder("hidden/ex1/helpers");
		folder("hidden/ex1/__pycache__");
		put("hidden/ex1/conftest.py", "import pytest\n");
		put("hidden/ex1/checks.py", "def near(a, b): return abs(a - b) < 1e-9\n");
		put("hidden/ex1/helpers/frames.py", "X = 1\n");
		put("hidden/ex1/data/expected.csv", "a\n1\n");
		put("hidden/ex1/.pytest_cache", "x");
		put("hidden/ex1/__pycache__/checks.cpython-311.pyc", "x");
		put("hidden/ex1/more_test.py", "def test_b(): pass\n");
		CHECK(load(&ex, err, sizeof err) == 0);
		CHECK(ex.n_hidden_files == 6);
		if (ex.n_hidden_files == 6) {
			CHECK_STR(ex.hidden_files[0], "checks.py");
			CHECK_STR(ex.hidden_files[1], "conftest.py");
			CHECK_STR(ex.hidden_files[2], "data/expected.csv");
			CHECK_STR(ex.hidden_files[3], "helpers/frames.py");
			CHECK_STR(ex.hidden_files[4], "more_test.py");
			CHECK_STR(ex.hidden_files[5], "test_one.py");
		}
		CHECK(ex.n_test_files == 2);
		if (ex.n_test_files == 2) {
			CHECK_STR(ex.test_files[0], "more_test.py");
			CHECK_STR(ex.test_files[1], "test_one.py");
		}
		course_exercise_free(&ex);
	}
	fresh_course();
	TEST("course_load_exercise refuses more files than it stages, naming the first too many") {
		char name[64];

		folder("exercises/ex1/data");
		for (int i = 0; i < COURSE_FILES_MAX; i++) {
			snprintf(name, sizeof name, "exercises/ex1/data/f%02d.csv", i);
			put(name, "x\n");
		}
		/* 64 in data/, walked first, then data.csv: one too many. */
		EXPECT_ERROR("exercises/ex1: more than 64 files to hand out with the scaffold "
		    "(data.csv is one too many). Combine some");
		fresh_course();
		folder("hidden/ex1/data");
		for (int i = 0; i < COURSE_FILES_MAX; i++) {
			snprintf(name, sizeof name, "hidden/ex1/data/h%02d.csv", i);
			put(name, "x\n");
		}
		EXPECT_ERROR("hidden/ex1: more than 64 files to stage beside the tests "
		    "(test_one.py is one too many)");
	}
	fresh_course();
	TEST("course_load_exercise refuses a file over its size limit, naming it") {
		char p[256];
		int fd;

		folder("exercises/ex1/data");
		snprintf(p, sizeof p, "%s/exercises/ex1/data/big.bin", root);
		fd = open(p, O_WRONLY | O_CREAT, 0644);
		CHECK(fd >= 0 && ftruncate(fd, COURSE_DATA_MAX + 1) == 0);	/* sparse */
		close(fd);
		EXPECT_ERROR("exercises/ex1/data/big.bin: 64.0 MiB; markbook copies it for every "
		    "grading and takes files of at most 64 MiB");
		fresh_course();
		snprintf(p, sizeof p, "%s/hidden/ex1/helper.py", root);
		fd = open(p, O_WRONLY | O_CREAT, 0644);
		CHECK(fd >= 0 && ftruncate(fd, COURSE_FILE_MAX + 1) == 0);
		close(fd);
		EXPECT_ERROR("hidden/ex1/helper.py: 1.0 MiB; markbook copies it");
		EXPECT_ERROR("(a .py file of hidden/ at most 1 MiB)");
	}
	fresh_course();
	TEST("course_load_exercise refuses folders nested too deep") {
		char rel[256] = "exercises/ex1";

		for (int i = 0; i <= COURSE_DEPTH_MAX; i++) {
			strcat(rel, "/d");
			folder(rel);
		}
		strcat(rel, "/x.csv");
		put(rel, "x");
		EXPECT_ERROR("folders nested more than 8 deep");
	}
	fresh_course();
	TEST("course_load_exercise refuses names the staging folder gives a meaning") {
		put("hidden/ex1/submission.py", "x = 1\n");
		EXPECT_ERROR("hidden/ex1/submission.py: markbook puts the student's notebook there");
		fresh_course();
		put("exercises/ex1/submission.py", "x = 1\n");
		EXPECT_ERROR("exercises/ex1/submission.py: markbook puts the student's notebook");
		fresh_course();
		folder("exercises/ex1/hidden");
		put("exercises/ex1/hidden/answers.csv", "x\n");
		EXPECT_ERROR("exercises/ex1/hidden/answers.csv: markbook puts");
		fresh_course();
		put("hidden/ex1/checks.py", "X = 1\n");
		put("exercises/ex1/checks.py", "X = 2\n");
		EXPECT_ERROR("exercises/ex1/checks.py: a data file may not have the name of a hidden "
		    "test or helper module");
		fresh_course();
		folder("exercises/ex1/data");
		folder("hidden/ex1/data");
		put("exercises/ex1/data/x.csv", "public\n");
		put("hidden/ex1/data/x.csv", "hidden\n");
		CHECK(load(&ex, err, sizeof err) == 0);	/* different folders when staged */
		course_exercise_free(&ex);
	}
	fresh_course();
	TEST("course_load lists every exercise and stops at a broken one") {
		struct course c;

		CHECK(course_load(root, &c, err, sizeof err) == 0 && c.n_exercises == 1);
		course_free(&c);
		folder("exercises/Bad_Name");
		CHECK(course_load(root, &c, err, sizeof err) < 0 && strstr(err, "Bad_Name"));
		course_free(&c);
	}
	fs_remove_tree(root);
	return unit_done("course");
}

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
		CHECK(!ex.has_hidden_data);
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
		EXPECT_ERROR("hidden/ex1: no test_*.py file");
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

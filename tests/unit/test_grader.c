#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "grader.h"
#include "unit.h"

static struct plan_test plan_tests[] = {
	{ "test_x.py::test_small", "test_small", "Small numbers.", 425 },
	{ "test_x.py::test_edge", "test_edge", "Edge cases.", 575 },
};
static const struct test_plan plan = { plan_tests, 2, 1000, "is_prime" };

/* Points in hundredths; the kept text has them in points (4.25). */
static struct grader_check_test verdict_tests[] = {
	{ "test_small", 425, 1, 0, "", "" },
	{ "test_edge", 575, 0, 0, "assert \"quoted\" == 1\nsecond line", "fails on the reference solution" },
};
static const struct grader_check verdict = {
	0, 425, 0, 1000, 0.734, "test_edge fails on the reference solution: assert\n", "", verdict_tests, 2,
};

/* Read `text` as a kept verdict of "cp1" on `plan`: 0 or -1. */
static int
read_back(const char *text, struct grader_check *c)
{
	return grader_check_from_json(text, strlen(text), "cp1", &plan, c);
}

/* The kept text of `verdict` with `from` replaced by `to` (once), or NULL. */
static char *
altered(const char *from, const char *to)
{
	char *text = grader_check_to_json(&verdict, "cp1"), *at, *out = NULL;

	if (text && (at = strstr(text, from)) != NULL &&
	    asprintf(&out, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from)) < 0)
		out = NULL;
	free(text);
	return out;
}

static int
rejects(const char *from, const char *to)
{
	char *text = altered(from, to);
	struct grader_check c;
	int rc;

	if (text == NULL)
		return 0;
	rc = read_back(text, &c);
	free(text);
	return rc < 0 && c.tests == NULL && c.problems == NULL;
}

int
main(void)
{
	struct grader_check c;
	char *text;

	TEST("grader_check_from_json reads back what grader_check_to_json wrote") {
		text = grader_check_to_json(&verdict, "cp1");
		CHECK(text != NULL && read_back(text, &c) == 0);
		CHECK(c.ok == 0 && c.solution_score == 425 && c.scaffold_score == 0 &&
		    c.max_points == 1000 && c.solution_seconds == 0.734);
		CHECK_STR(c.problems, verdict.problems);
		CHECK_STR(c.warnings, "");
		CHECK(c.n_tests == 2);
		for (size_t i = 0; i < c.n_tests && i < 2; i++) {
			CHECK_STR(c.tests[i].name, verdict_tests[i].name);
			CHECK(c.tests[i].points == verdict_tests[i].points);
			CHECK(c.tests[i].solution_passed == verdict_tests[i].solution_passed);
			CHECK(c.tests[i].scaffold_passed == verdict_tests[i].scaffold_passed);
			CHECK_STR(c.tests[i].solution_message, verdict_tests[i].solution_message);
			CHECK_STR(c.tests[i].problem, verdict_tests[i].problem);
		}
		grader_check_free(&c);
		free(text);
	}
	TEST("grader_check_from_json refuses a verdict kept for another exercise") {
		text = grader_check_to_json(&verdict, "cp2");
		CHECK(text != NULL && read_back(text, &c) < 0);
		free(text);
	}
	TEST("grader_check_from_json refuses tests that are not the plan's") {
		CHECK(rejects("\"test_edge\"", "\"test_other\""));
		CHECK(rejects("\"points\":5.75", "\"points\":5.74"));
		CHECK(rejects("{\"name\":\"test_small\"", "{\"name\":\"test_small\",\"x\":0},"
		    "{\"name\":\"test_small\""));
	}
	TEST("grader_check_from_json refuses wrong types and values") {
		CHECK(rejects("\"ok\":false", "\"ok\":0"));
		CHECK(rejects("\"solution_score\":4.25", "\"solution_score\":4.255"));
		CHECK(rejects("\"scaffold_score\":0", "\"scaffold_score\":-1"));
		CHECK(rejects("\"max_points\":10", "\"max_points\":1e300"));
		CHECK(rejects("\"solution_seconds\":0.734", "\"solution_seconds\":\"0.734\""));
		CHECK(rejects("\"warnings\":\"\"", "\"warnings\":null"));
		CHECK(rejects("\"solution_passed\":true", "\"solution_passed\":1"));
		CHECK(rejects("\"problem\":\"\"", "\"problem\":[]"));
		CHECK(rejects("\"tests\":[", "\"tests\":1,\"t\":["));
	}
	TEST("grader_check_from_json refuses text that does not parse") {
		text = grader_check_to_json(&verdict, "cp1");
		CHECK(text != NULL);
		if (text) {
			CHECK(grader_check_from_json(text, strlen(text) / 2, "cp1", &plan, &c) < 0);
			CHECK(c.tests == NULL && c.problems == NULL);
		}
		CHECK(read_back("", &c) < 0);
		CHECK(read_back("[]", &c) < 0);
		free(text);
	}
	TEST("grader_stat_digest changes when a package folder comes or goes, and only then") {
		char dir[] = "/tmp/markbook-stat-XXXXXX", pkg[64], a[65], b[65], added[65];
		char removed[65];
		const char *paths[] = { dir, "/nonexistent/markbook", NULL };

		CHECK(mkdtemp(dir) != NULL);
		snprintf(pkg, sizeof pkg, "%s/pandas-2.0.dist-info", dir);
		grader_stat_digest(paths, a);
		grader_stat_digest(paths, b);
		CHECK(strlen(a) == 64 && strcmp(a, b) == 0);
		CHECK(mkdir(pkg, 0755) == 0);
		grader_stat_digest(paths, added);
		CHECK(strcmp(added, a) != 0);
		CHECK(rmdir(pkg) == 0);
		grader_stat_digest(paths, removed);
		CHECK(strcmp(removed, added) != 0);
		rmdir(dir);
	}
	return unit_done("grader");
}

#include <stdlib.h>

#include "report.h"
#include "unit.h"

#define NONCE "00112233445566778899aabbccddeeff"
#define REC(kind, rest) "{\"nonce\":\"" NONCE "\",\"kind\":\"" kind "\"" rest "}\n"
#define SANDBOX REC("sandbox", ",\"uid\":999,\"no_new_privs\":1,\"seccomp\":2,\"interfaces\":[\"lo\"]")
#define PARSED REC("parse", ",\"ok\":true,\"message\":\"\",\"flags\":[\"eval\"]")
#define LOADED REC("load", ",\"ok\":true,\"message\":\"\"")
#define TESTREC(id, outcome) REC("test", ",\"nodeid\":\"" id "\",\"name\":\"" id "\"," \
	"\"outcome\":\"" outcome "\",\"message\":\"m\",\"detail\":\"d\",\"duration\":0.1")
/* A test item `id` of test function `fn`, with the marker `points` (JSON). */
#define PLANFN(id, fn, points) REC("plan", ",\"nodeid\":\"" id "\",\"name\":\"" id "\"," \
	"\"function\":\"" fn "\",\"description\":\"about " id "\",\"points\":" points)
#define PLANREC(id, points) PLANFN(id, id, points)

static int
parse(const char *text, struct report *r)
{
	return report_parse(text, strlen(text), NONCE, r);
}

/* Append `n` items of test function `fn` (ids fn[0], fn[1], ...) marked with
 * `points` (JSON) to the JSON lines in `buf`. */
static void
add_cases(char *buf, size_t cap, const char *fn, int n, const char *points)
{
	for (int i = 0; i < n; i++) {
		size_t used = strlen(buf);

		snprintf(buf + used, cap - used, "{\"nonce\":\"" NONCE "\",\"kind\":\"plan\","
		    "\"nodeid\":\"%s[%d]\",\"name\":\"%s[%d]\",\"function\":\"%s\","
		    "\"description\":\"\",\"points\":%s}\n", fn, i, fn, i, fn, points);
	}
}

/* The points of the items of function `fn` in plan `p`, added up. */
static int
function_points(const struct test_plan *p, const char *fn)
{
	int sum = 0;
	size_t len = strlen(fn);

	for (size_t i = 0; i < p->n; i++)
		if (strncmp(p->tests[i].nodeid, fn, len) == 0 && p->tests[i].nodeid[len] == '[')
			sum += p->tests[i].points;
	return sum;
}

/* A run in which the items of `p` whose index `passes` says passed. */
static int
score_where(const struct test_plan *p, int (*passes)(size_t i), char *buf, size_t cap)
{
	struct report_outcome *out = calloc(p->n + 1, sizeof *out);
	struct report run;
	int total;

	snprintf(buf, cap, "%s", SANDBOX PARSED LOADED);
	for (size_t i = 0; i < p->n; i++) {
		size_t used = strlen(buf);

		snprintf(buf + used, cap - used, "{\"nonce\":\"" NONCE "\",\"kind\":\"test\","
		    "\"nodeid\":\"%s\",\"name\":\"x\",\"outcome\":\"%s\",\"message\":\"\","
		    "\"detail\":\"\",\"duration\":0}\n", p->tests[i].nodeid,
		    passes(i) ? "passed" : "failed");
	}
	parse(buf, &run);
	total = report_score(p, &run, out);
	report_free(&run);
	free(out);
	return total;
}

static int first_115(size_t i) { return i < 115; }
static int first_18(size_t i) { return i < 18; }
static int first_102(size_t i) { return i < 102; }

static struct test_plan
plan_of(const char *text, int max, int *rc, char *err, size_t errlen)
{
	struct test_plan p;
	struct report r;

	parse(text, &r);
	*rc = report_make_plan(&r, max, &p, err, errlen);
	report_free(&r);
	return p;
}

int
main(void)
{
	struct report r;
	struct test_plan p;
	struct report_outcome out[8];
	char err[256], why[128];
	int rc;

	TEST("report_parse reads a complete run") {
		CHECK(parse(SANDBOX PARSED LOADED TESTREC("t::a", "passed")
		    REC("end", ",\"exitstatus\":0"), &r) == 0);
		CHECK(r.has_sandbox && r.has_parse && r.parse_ok && r.has_load && r.load_ok);
		CHECK(r.n_tests == 1 && r.has_end && r.exitstatus == 0);
		CHECK(r.n_flags == 1);
		CHECK_STR(r.n_flags ? r.flags[0] : NULL, "eval");
		CHECK(report_sandbox_ok(&r, why, sizeof why));
		CHECK(r.n_ignored == 0);
		report_free(&r);
	}
	TEST("report_parse ignores records with a wrong or missing nonce") {
		parse("{\"nonce\":\"forged\",\"kind\":\"test\",\"nodeid\":\"t::a\",\"name\":\"a\","
		    "\"outcome\":\"passed\",\"message\":\"\",\"detail\":\"\",\"duration\":0}\n"
		    "{\"kind\":\"end\",\"exitstatus\":0}\n", &r);
		CHECK(r.n_tests == 0 && !r.has_end && r.n_ignored == 2);
		report_free(&r);
	}
	TEST("report_parse ignores a truncated last line") {
		const char *text = SANDBOX "{\"nonce\":\"" NONCE "\",\"kind\":\"par";

		parse(text, &r);
		CHECK(r.has_sandbox && !r.has_parse && r.n_ignored == 1);
		report_free(&r);
	}
	TEST("report_parse ignores a line over the record limit") {
		size_t big = REPORT_RECORD_MAX + 100;
		size_t cap = big + sizeof(SANDBOX) + 256, n = 0;
		char *text = malloc(cap);

		n += (size_t)snprintf(text, cap, "{\"nonce\":\"%s\",\"kind\":\"tamper\",\"message\":\"", NONCE);
		memset(text + n, 'x', big);
		n += big;
		n += (size_t)snprintf(text + n, cap - n, "\"}\n%s", SANDBOX);
		report_parse(text, n, NONCE, &r);
		CHECK(!r.tampered && r.has_sandbox && r.n_ignored == 1);
		report_free(&r);
		free(text);
	}
	TEST("report_parse refuses records with duplicate keys") {
		parse("{\"nonce\":\"" NONCE "\",\"kind\":\"test\",\"nodeid\":\"t::a\",\"name\":\"a\","
		    "\"outcome\":\"failed\",\"outcome\":\"passed\",\"message\":\"\",\"detail\":\"\","
		    "\"duration\":0}\n", &r);
		CHECK(r.n_tests == 0 && r.n_ignored == 1);
		report_free(&r);
	}
	TEST("report_parse refuses fields of the wrong type") {
		parse(REC("sandbox", ",\"uid\":\"999\",\"no_new_privs\":1,\"seccomp\":2,"
		    "\"interfaces\":[\"lo\"]")
		    REC("parse", ",\"ok\":1,\"message\":\"\",\"flags\":[]")
		    REC("test", ",\"nodeid\":\"t::a\",\"name\":\"a\",\"outcome\":\"won\","
		    "\"message\":\"\",\"detail\":\"\",\"duration\":0")
		    REC("end", ",\"exitstatus\":0.5"), &r);
		CHECK(!r.has_sandbox && !r.has_parse && r.n_tests == 0 && !r.has_end);
		CHECK(r.n_ignored == 4);
		report_free(&r);
	}
	TEST("report_parse keeps the first record of a test and of each kind") {
		parse(SANDBOX TESTREC("t::a", "failed") TESTREC("t::a", "passed")
		    REC("sandbox", ",\"uid\":0,\"no_new_privs\":0,\"seccomp\":0,\"interfaces\":[]"),
		    &r);
		CHECK(r.n_tests == 1);
		CHECK_STR(r.n_tests ? r.tests[0].outcome : NULL, "failed");
		CHECK(r.uid == 999);
		report_free(&r);
	}
	TEST("report_parse caps long messages") {
		char text[8192];

		snprintf(text, sizeof text, "{\"nonce\":\"%s\",\"kind\":\"test\",\"nodeid\":\"t::a\","
		    "\"name\":\"a\",\"outcome\":\"failed\",\"message\":\"%0900d\",\"detail\":\"\","
		    "\"duration\":0}\n", NONCE, 7);
		parse(text, &r);
		CHECK(r.n_tests == 1 && strlen(r.tests[0].message) == REPORT_MESSAGE_MAX);
		report_free(&r);
	}
	TEST("report_parse survives bytes that are not JSON") {
		const char junk[] = "\x01\x02\xff\n{]\n\n" SANDBOX;

		report_parse(junk, sizeof junk - 1, NONCE, &r);
		CHECK(r.has_sandbox && r.n_ignored == 2);
		report_free(&r);
	}
	TEST("report_sandbox_ok refuses root, missing seccomp and a network") {
		parse(REC("sandbox", ",\"uid\":0,\"no_new_privs\":1,\"seccomp\":2,\"interfaces\":[\"lo\"]"), &r);
		CHECK(!report_sandbox_ok(&r, why, sizeof why) && strstr(why, "root"));
		report_free(&r);
		parse(REC("sandbox", ",\"uid\":9,\"no_new_privs\":1,\"seccomp\":0,\"interfaces\":[\"lo\"]"), &r);
		CHECK(!report_sandbox_ok(&r, why, sizeof why) && strstr(why, "seccomp"));
		report_free(&r);
		parse(REC("sandbox", ",\"uid\":9,\"no_new_privs\":1,\"seccomp\":2,\"interfaces\":[\"lo\",\"eth0\"]"), &r);
		CHECK(!report_sandbox_ok(&r, why, sizeof why) && strstr(why, "network"));
		report_free(&r);
		parse("", &r);
		CHECK(!report_sandbox_ok(&r, why, sizeof why));
		report_free(&r);
	}
	TEST("report_make_plan splits 10 points over 3 unmarked tests as 3.34, 3.33, 3.33") {
		p = plan_of(PLANREC("t::a", "null") PLANREC("t::b", "null") PLANREC("t::c", "null"),
		    1000, &rc, err, sizeof err);
		CHECK(rc == 0 && p.n == 3);
		CHECK(p.n == 3 && p.tests[0].points == 334 && p.tests[1].points == 333 &&
		    p.tests[2].points == 333);
		report_plan_free(&p);
	}
	TEST("report_make_plan gives marked tests their points and shares the rest") {
		p = plan_of(PLANREC("t::a", "6") PLANREC("t::b", "null") PLANREC("t::c", "null"),
		    1100, &rc, err, sizeof err);
		CHECK(rc == 0 && p.n == 3);
		CHECK(p.n == 3 && p.tests[0].points == 600 && p.tests[1].points == 250 &&
		    p.tests[2].points == 250);
		report_plan_free(&p);
	}
	TEST("report_make_plan refuses marked points over max_points, naming the tests") {
		p = plan_of(PLANREC("t::a", "8") PLANREC("t::b", "5") PLANREC("t::c", "null"), 1000,
		    &rc, err, sizeof err);
		CHECK(rc < 0 && strstr(err, "add up to 13, more than max_points (10)") &&
		    strstr(err, "t::a (8), t::b (5)") && strstr(err, "raise max_points"));
		report_plan_free(&p);
		p = plan_of(PLANREC("t::a", "7.5") PLANREC("t::b", "2.51"), 1000, &rc, err, sizeof err);
		CHECK(rc < 0 && strstr(err, "add up to 10.01, more than max_points (10)"));
		report_plan_free(&p);
	}
	TEST("report_make_plan refuses marked points short of max_points") {
		p = plan_of(PLANREC("t::a", "3") PLANREC("t::b", "5"), 1000, &rc, err, sizeof err);
		CHECK(rc < 0 && strstr(err, "add up to 8 but max_points is 10"));
		report_plan_free(&p);
	}
	TEST("report_make_plan takes points(0.5) and refuses more than two decimals, naming the test") {
		p = plan_of(PLANREC("t::a", "0.5") PLANREC("t::b", "null"), 1000, &rc, err, sizeof err);
		CHECK(rc == 0 && p.n == 2 && p.tests[0].points == 50 && p.tests[1].points == 950);
		report_plan_free(&p);
		p = plan_of(PLANREC("t::a", "0.333") PLANREC("t::b", "null"), 1000, &rc, err, sizeof err);
		CHECK(rc < 0 && strstr(err, "t::a: @pytest.mark.points needs a number of points above "
		    "0 with at most two decimals") && strstr(err, "not points(0.333)"));
		report_plan_free(&p);
	}
	TEST("report_make_plan refuses points markers of 0, below 0 or written as text") {
		p = plan_of(PLANREC("t::a", "0") PLANREC("t::b", "null"), 1000, &rc, err, sizeof err);
		CHECK(rc < 0 && strstr(err, "t::a: ") && strstr(err, "not points(0)"));
		report_plan_free(&p);
		p = plan_of(PLANREC("t::a", "-1") PLANREC("t::b", "null"), 1000, &rc, err, sizeof err);
		CHECK(rc < 0 && strstr(err, "not points(-1)"));
		report_plan_free(&p);
		p = plan_of(PLANREC("t::a", "\"'3'\"") PLANREC("t::b", "true"), 1000, &rc, err,
		    sizeof err);
		CHECK(rc < 0 && strstr(err, "t::a: ") && strstr(err, "not points('3')") &&
		    strstr(err, "t::b: "));
		report_plan_free(&p);
	}
	TEST("report_make_plan splits by largest remainder: the items add up to max_points exactly") {
		static const int maxes[] = { 7, 99, 100, 333, 750, 1000, 1001, 12345, 1000000 };
		char *text = malloc(200000);
		int ok = 1;

		for (size_t m = 0; m < sizeof maxes / sizeof *maxes; m++)
			for (int fns = 1; fns <= 5; fns++) {
				long long sum = 0;

				text[0] = '\0';
				for (int f = 0; f < fns; f++) {
					char fn[16];

					snprintf(fn, sizeof fn, "t::f%d", f);
					add_cases(text, 200000, fn, 1 + f % 3, f == 1 ? "0.07" : "null");
				}
				p = plan_of(text, maxes[m], &rc, err, sizeof err);
				for (size_t i = 0; rc == 0 && i < p.n; i++) {
					sum += p.tests[i].points;
					/* Within a function, earlier cases get the extra hundredth. */
					if (i > 0 && p.tests[i].nodeid[4] == p.tests[i - 1].nodeid[4] &&
					    (p.tests[i].points > p.tests[i - 1].points ||
					    p.tests[i - 1].points - p.tests[i].points > 1))
						ok = 0;
				}
				if (rc == 0 && sum != maxes[m])
					ok = 0;
				/* With 0.07 marked, 7 hundredths leave the others nothing. */
				if ((rc == 0) != (maxes[m] >= 99 || fns == 1))
					ok = 0;
				report_plan_free(&p);
			}
		CHECK(ok);
		free(text);
	}
	TEST("report_make_plan gives a 230-case function worth 10 points 0.05 for 80 cases, 0.04 for 150") {
		char *text = calloc(1, 200000), *run = calloc(1, 400000);
		size_t fives = 0, fours = 0;

		add_cases(text, 200000, "t::target_sum", 230, "null");
		p = plan_of(text, 1000, &rc, err, sizeof err);
		CHECK(rc == 0 && p.n == 230);
		for (size_t i = 0; i < p.n; i++) {
			fives += p.tests[i].points == 5 && i < 80;
			fours += p.tests[i].points == 4 && i >= 80;
		}
		CHECK(fives == 80 && fours == 150);
		CHECK(function_points(&p, "t::target_sum") == 1000);
		/* Half the cases right is about half the points, not 10/10. */
		CHECK(score_where(&p, first_115, run, 400000) == 80 * 5 + 35 * 4);
		report_plan_free(&p);
		free(text);
		free(run);
	}
	TEST("report_make_plan shares points per function in a mix of marked and unmarked ones") {
		char *text = calloc(1, 200000), *run = calloc(1, 400000);

		/* Like a Money class: construction marked 2, then addition and
		 * comparison with many cases each. */
		add_cases(text, 200000, "t::test_init", 6, "2");
		add_cases(text, 200000, "t::test_add", 40, "null");
		add_cases(text, 200000, "t::test_eq", 80, "null");
		p = plan_of(text, 1000, &rc, err, sizeof err);
		CHECK(rc == 0 && p.n == 126);
		CHECK(function_points(&p, "t::test_init") == 200);
		CHECK(function_points(&p, "t::test_add") == 400);
		CHECK(function_points(&p, "t::test_eq") == 400);
		CHECK(p.n == 126 && p.tests[0].points == 34 && p.tests[1].points == 34 &&
		    p.tests[2].points == 33 && p.tests[6].points == 10 && p.tests[46].points == 5);
		/* 18 of 126 cases: 6 of init, 12 of add; 102: 6, 40 and 56 of eq. */
		CHECK(score_where(&p, first_18, run, 400000) == 200 + 120);
		CHECK(score_where(&p, first_102, run, 400000) == 200 + 400 + 280);
		report_plan_free(&p);
		free(text);
		free(run);
	}
	TEST("report_make_plan applies a marker to the function, shared by its cases") {
		p = plan_of(PLANFN("t::f[1]", "t::f", "0.5") PLANFN("t::f[2]", "t::f", "0.5")
		    PLANFN("t::f[3]", "t::f", "0.5") PLANREC("t::g", "null"), 1000, &rc, err, sizeof err);
		CHECK(rc == 0 && p.n == 4 && p.tests[0].points == 17 && p.tests[1].points == 17 &&
		    p.tests[2].points == 16 && p.tests[3].points == 950);
		report_plan_free(&p);
	}
	TEST("report_make_plan refuses cases of one function with different markers") {
		p = plan_of(PLANFN("t::f[1]", "t::f", "1") PLANFN("t::f[2]", "t::f", "2")
		    PLANREC("t::g", "null"), 1000, &rc, err, sizeof err);
		CHECK(rc < 0 && strstr(err, "t::f: its cases have different points markers"));
		report_plan_free(&p);
	}
	TEST("report_make_plan refuses a split that gives a case 0 points, naming the test") {
		char *text = calloc(1, 200000);

		add_cases(text, 200000, "t::target_sum", 230, "1");
		add_cases(text, 200000, "t::other", 1, "null");
		p = plan_of(text, 1000, &rc, err, sizeof err);
		CHECK(rc < 0 && strstr(err, "t::target_sum has 230 cases sharing 1 point: each "
		    "would get 0.0043; give it more points (@pytest.mark.points) or fewer cases."));
		report_plan_free(&p);
		text[0] = '\0';
		add_cases(text, 200000, "t::target_sum", 150, "null");
		p = plan_of(text, 100, &rc, err, sizeof err);
		CHECK(rc < 0 && strstr(err, "t::target_sum has 150 cases sharing 1 point: each "
		    "would get 0.0067"));
		report_plan_free(&p);
		free(text);
		p = plan_of(PLANREC("t::a", "10") PLANREC("t::b", "null"), 1000, &rc, err, sizeof err);
		CHECK(rc < 0 && strstr(err, "t::b has no points marker, but the markers already "
		    "add up to max_points (10), so it would get 0 points"));
		report_plan_free(&p);
		p = plan_of(PLANREC("t::a", "null") PLANREC("t::b", "null") PLANREC("t::c", "null"),
		    2, &rc, err, sizeof err);
		CHECK(rc < 0 && strstr(err, "t::c would get 0 points: the 3 tests without a points "
		    "marker share 0.02 points"));
		report_plan_free(&p);
	}
	TEST("report_make_plan shares a fractional max_points") {
		p = plan_of(PLANREC("t::a", "null") PLANREC("t::b", "null"), 750, &rc, err, sizeof err);
		CHECK(rc == 0 && p.n == 2 && p.tests[0].points == 375 && p.tests[1].points == 375);
		report_plan_free(&p);
		p = plan_of(PLANREC("t::a", "2.25") PLANREC("t::b", "null") PLANREC("t::c", "null"),
		    750, &rc, err, sizeof err);
		CHECK(rc == 0 && p.n == 3 && p.tests[0].points == 225 && p.tests[1].points == 263 &&
		    p.tests[2].points == 262);
		report_plan_free(&p);
	}
	TEST("report_make_plan refuses a plan with tests it could not read or past the limit") {
		char *text = calloc(1, 400000);

		p = plan_of(PLANREC("t::a", "null") REC("plan", ",\"nodeid\":\"t::b\",\"name\":\"b\","
		    "\"description\":\"\",\"points\":null"), 1000, &rc, err, sizeof err);
		CHECK(rc < 0 && strstr(err, "1 of the collected tests could not be planned"));
		report_plan_free(&p);
		add_cases(text, 400000, "t::f", REPORT_TESTS_MAX + 2, "null");
		p = plan_of(text, 1000000, &rc, err, sizeof err);
		CHECK(rc < 0 && strstr(err, "2 of the collected tests could not be planned") &&
		    strstr(err, "at most 1000 tests"));
		report_plan_free(&p);
		free(text);
	}
	TEST("report_make_plan refuses a plan with no tests") {
		p = plan_of(SANDBOX, 1000, &rc, err, sizeof err);
		CHECK(rc < 0 && strstr(err, "No tests were collected"));
		report_plan_free(&p);
	}
	TEST("report_make_plan keeps one entry per node id") {
		p = plan_of(PLANREC("t::a", "null") PLANREC("t::a", "null"), 1000, &rc, err, sizeof err);
		CHECK(rc == 0 && p.n == 1 && p.n == 1 && p.tests[0].points == 1000);
		report_plan_free(&p);
	}

	p = plan_of(PLANREC("t::a", "null") PLANREC("t::b", "null") PLANREC("t::c", "null"),
	    1000, &rc, err, sizeof err);
	TEST("report_score counts passed tests only, and missing ones as 0") {
		parse(SANDBOX PARSED LOADED TESTREC("t::a", "passed") TESTREC("t::b", "failed"), &r);
		CHECK(report_score(&p, &r, out) == 334);
		CHECK(out[0].passed && out[0].points == 334);
		CHECK(!out[1].passed && out[1].points == 0);
		CHECK(out[2].outcome == NULL && out[2].points == 0);
		report_free(&r);
	}
	TEST("report_score counts skipped, xfailed and xpassed as failed") {
		parse(SANDBOX PARSED LOADED TESTREC("t::a", "skipped") TESTREC("t::b", "xfailed")
		    TESTREC("t::c", "xpassed"), &r);
		CHECK(report_score(&p, &r, out) == 0);
		report_free(&r);
	}
	TEST("report_score ignores tests the plan does not have") {
		parse(SANDBOX PARSED LOADED TESTREC("t::z", "passed") TESTREC("t::c", "passed"), &r);
		CHECK(report_score(&p, &r, out) == 333);
		report_free(&r);
	}
	TEST("report_score gives 0 when the run was tampered with") {
		parse(SANDBOX PARSED LOADED TESTREC("t::a", "passed") TESTREC("t::b", "passed")
		    REC("tamper", ",\"message\":\"TestReport replaced\""), &r);
		CHECK(report_score(&p, &r, out) == 0 && !out[0].passed);
		report_free(&r);
	}
	TEST("report_score gives 0 when the notebook did not load") {
		parse(SANDBOX PARSED REC("load", ",\"ok\":false,\"message\":\"x\"")
		    TESTREC("t::a", "passed"), &r);
		CHECK(report_score(&p, &r, out) == 0);
		report_free(&r);
		parse(SANDBOX PARSED TESTREC("t::a", "passed"), &r);
		CHECK(report_score(&p, &r, out) == 0);
		report_free(&r);
	}
	report_plan_free(&p);

	TEST("report_make_plan keeps the names the scaffold defines") {
		p = plan_of(PLANREC("t::a", "null") REC("names", ",\"names\":[\"is_prime\",\"Helper\"]"),
		    1000, &rc, err, sizeof err);
		CHECK(rc == 0);
		CHECK_STR(p.names, "is_prime,Helper");
		report_plan_free(&p);
	}
	TEST("report_parse refuses names that are not Python identifiers") {
		parse(REC("names", ",\"names\":[\"is_prime\",\"a,b\"]")
		    REC("names", ",\"names\":[\"x; import os\"]"), &r);
		CHECK(!r.has_names && r.n_ignored == 2);
		report_free(&r);
	}
	TEST("report_adopt_student takes parse, load and flags from the student's side") {
		struct report student;

		parse(SANDBOX REC("parse", ",\"ok\":true,\"message\":\"\",\"flags\":[\"gc\",\"eval\"]")
		    REC("load", ",\"ok\":false,\"message\":\"boom\""), &student);
		parse(SANDBOX TESTREC("t::a", "passed"), &r);
		CHECK(report_adopt_student(&r, &student) == 0);
		CHECK(r.has_parse && r.parse_ok && r.has_load && !r.load_ok);
		CHECK_STR(r.load_message, "boom");
		CHECK(r.n_flags == 2);
		report_free(&r);
		report_free(&student);
	}
	TEST("report_plan_from_json reads back what report_plan_to_json wrote") {
		struct test_plan back;
		char *text;

		p = plan_of(PLANREC("t::a", "6.5") PLANREC("t::b", "null") REC("names", ",\"names\":[\"f\"]"),
		    1000, &rc, err, sizeof err);
		text = report_plan_to_json(&p);
		CHECK(text != NULL && report_plan_from_json(text, strlen(text), &back) == 0);
		CHECK(back.n == 2 && back.max_points == 1000);
		CHECK(back.n == 2 && back.tests[0].points == 650 && back.tests[1].points == 350);
		CHECK_STR(back.n == 2 ? back.tests[1].nodeid : NULL, "t::b");
		CHECK_STR(back.names, "f");
		report_plan_free(&back);
		report_plan_free(&p);
		free(text);
	}
	TEST("report_plan_from_json refuses points that do not add up or bad shapes") {
		struct test_plan back;
#define PLAN_HEAD "{\"points\":\"hundredths\",\"max_points\":10,\"names\":\"\","
		const char *bad[] = {
			PLAN_HEAD "\"tests\":[{\"nodeid\":\"a\",\"name\":\"a\","
			    "\"description\":\"\",\"points\":9}]}",
			PLAN_HEAD "\"tests\":[]}",
			PLAN_HEAD "\"tests\":[{\"nodeid\":\"a\",\"points\":10}]}",
			"[1]", "", PLAN_HEAD "\"tests\":[{\"nodeid\":\"a\","
			    "\"name\":\"a\",\"description\":\"\",\"points\":-1},{\"nodeid\":\"b\","
			    "\"name\":\"b\",\"description\":\"\",\"points\":11}]}",
			PLAN_HEAD "\"tests\":[{\"nodeid\":\"a\",\"name\":\"a\","
			    "\"description\":\"\",\"points\":0},{\"nodeid\":\"b\","
			    "\"name\":\"b\",\"description\":\"\",\"points\":10}]}",
			/* A plan kept before points were hundredths. */
			("{\"max_points\":10,\"names\":\"\",\"tests\":[{\"nodeid\":\"a\",\"name\":\"a\","
			    "\"description\":\"\",\"points\":10}]}"),
		};

		for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
			CHECK(report_plan_from_json(bad[i], strlen(bad[i]), &back) < 0);
			CHECK(back.n == 0 && back.tests == NULL);
		}
	}
	return unit_done("report");
}

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
#define PLANREC(id, points) REC("plan", ",\"nodeid\":\"" id "\",\"name\":\"" id "\"," \
	"\"description\":\"about " id "\",\"points\":" points)

static int
parse(const char *text, struct report *r)
{
	return report_parse(text, strlen(text), NONCE, r);
}

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
	TEST("report_make_plan splits 10 points over 3 unmarked tests as 4, 3, 3") {
		p = plan_of(PLANREC("t::a", "null") PLANREC("t::b", "null") PLANREC("t::c", "null"),
		    10, &rc, err, sizeof err);
		CHECK(rc == 0 && p.n == 3);
		CHECK(p.n == 3 && p.tests[0].points == 4 && p.tests[1].points == 3 &&
		    p.tests[2].points == 3);
		report_plan_free(&p);
	}
	TEST("report_make_plan gives marked tests their points and shares the rest") {
		p = plan_of(PLANREC("t::a", "6") PLANREC("t::b", "null") PLANREC("t::c", "null"),
		    11, &rc, err, sizeof err);
		CHECK(rc == 0 && p.n == 3);
		CHECK(p.n == 3 && p.tests[0].points == 6 && p.tests[1].points == 3 &&
		    p.tests[2].points == 2);
		report_plan_free(&p);
	}
	TEST("report_make_plan refuses marked points over max_points") {
		p = plan_of(PLANREC("t::a", "8") PLANREC("t::b", "5"), 10, &rc, err, sizeof err);
		CHECK(rc < 0 && strstr(err, "13"));
		report_plan_free(&p);
	}
	TEST("report_make_plan refuses marked points short of max_points") {
		p = plan_of(PLANREC("t::a", "3") PLANREC("t::b", "5"), 10, &rc, err, sizeof err);
		CHECK(rc < 0 && strstr(err, "add up to 8"));
		report_plan_free(&p);
	}
	TEST("report_make_plan refuses a points marker that is not a whole number") {
		p = plan_of(PLANREC("t::a", "2.5") PLANREC("t::b", "null"), 10, &rc, err, sizeof err);
		CHECK(rc < 0 && strstr(err, "t::a"));
		report_plan_free(&p);
		p = plan_of(PLANREC("t::a", "-1") PLANREC("t::b", "null"), 10, &rc, err, sizeof err);
		CHECK(rc < 0);
		report_plan_free(&p);
	}
	TEST("report_make_plan refuses a plan with no tests") {
		p = plan_of(SANDBOX, 10, &rc, err, sizeof err);
		CHECK(rc < 0 && strstr(err, "no hidden tests"));
		report_plan_free(&p);
	}
	TEST("report_make_plan keeps one entry per node id") {
		p = plan_of(PLANREC("t::a", "null") PLANREC("t::a", "null"), 10, &rc, err, sizeof err);
		CHECK(rc == 0 && p.n == 1 && p.n == 1 && p.tests[0].points == 10);
		report_plan_free(&p);
	}

	p = plan_of(PLANREC("t::a", "null") PLANREC("t::b", "null") PLANREC("t::c", "null"),
	    10, &rc, err, sizeof err);
	TEST("report_score counts passed tests only, and missing ones as 0") {
		parse(SANDBOX PARSED LOADED TESTREC("t::a", "passed") TESTREC("t::b", "failed"), &r);
		CHECK(report_score(&p, &r, out) == 4);
		CHECK(out[0].passed && out[0].points == 4);
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
		CHECK(report_score(&p, &r, out) == 3);
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
		    10, &rc, err, sizeof err);
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

		p = plan_of(PLANREC("t::a", "6") PLANREC("t::b", "null") REC("names", ",\"names\":[\"f\"]"),
		    10, &rc, err, sizeof err);
		text = report_plan_to_json(&p);
		CHECK(text != NULL && report_plan_from_json(text, strlen(text), &back) == 0);
		CHECK(back.n == 2 && back.max_points == 10);
		CHECK(back.n == 2 && back.tests[0].points == 6 && back.tests[1].points == 4);
		CHECK_STR(back.n == 2 ? back.tests[1].nodeid : NULL, "t::b");
		CHECK_STR(back.names, "f");
		report_plan_free(&back);
		report_plan_free(&p);
		free(text);
	}
	TEST("report_plan_from_json refuses points that do not add up or bad shapes") {
		struct test_plan back;
		const char *bad[] = {
			"{\"max_points\":10,\"names\":\"\",\"tests\":[{\"nodeid\":\"a\",\"name\":\"a\","
			    "\"description\":\"\",\"points\":9}]}",
			"{\"max_points\":10,\"names\":\"\",\"tests\":[]}",
			"{\"max_points\":10,\"names\":\"\",\"tests\":[{\"nodeid\":\"a\",\"points\":10}]}",
			"[1]", "", "{\"max_points\":10,\"names\":\"\",\"tests\":[{\"nodeid\":\"a\","
			    "\"name\":\"a\",\"description\":\"\",\"points\":-1},{\"nodeid\":\"b\","
			    "\"name\":\"b\",\"description\":\"\",\"points\":11}]}",
		};

		for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
			CHECK(report_plan_from_json(bad[i], strlen(bad[i]), &back) < 0);
			CHECK(back.n == 0 && back.tests == NULL);
		}
	}
	return unit_done("report");
}

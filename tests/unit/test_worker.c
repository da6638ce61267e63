/* The grading child's protocol (worker.c): a request and a result survive
 * their round trip field for field, and a result that is cut short, padded,
 * reordered or inconsistent with the plan is refused with a reason. Starting
 * grading processes is tested end to end (tests/e2e/test_server_crash.py). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "worker.h"

static struct plan_test plan_tests[2] = {
	{ "t.py::test_a", "test_a", "A is right.", 4 },
	{ "t.py::test_b", "test_b", "", 6 },
};
static struct test_plan plan = { plan_tests, 2, 10, "is_prime,total" };

static char *flags[] = { "eval", "frame-access", NULL };

/* A result with every kind of field: texts with newlines, spaces that look
 * like the format's own and bytes above 127. */
static struct grade_result
sample_result(struct grade_test tests[2])
{
	tests[0] = (struct grade_test){ "test_a", "A is right.", 1, 4, 4, "passed", "", "",
		0.125 };
	tests[1] = (struct grade_test){ "test_b", "", 0, 0, 6, "failed",
		"assert 3 == 4\nend 0\n", "Traceback \xc3\xa9\n  line 2", 0 };
	return (struct grade_result){ GRADE_DONE, 4, 10, "Loaded.\nresult 1\n", flags, 2,
		tests, 2, "printed\n\xff\x01 out", 1.25, 1 };
}

static int
same_text(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static int
same_result(const struct grade_result *a, const struct grade_result *b)
{
	if (a->status != b->status || a->score != b->score || a->max_points != b->max_points ||
	    a->seconds != b->seconds || a->advice != b->advice ||
	    !same_text(a->message, b->message) ||
	    !same_text(a->output, b->output) || a->n_flags != b->n_flags ||
	    a->n_tests != b->n_tests)
		return 0;
	for (size_t i = 0; i < a->n_flags; i++)
		if (!same_text(a->flags[i], b->flags[i]))
			return 0;
	for (size_t i = 0; i < a->n_tests; i++) {
		const struct grade_test *x = &a->tests[i], *y = &b->tests[i];

		if (!same_text(x->name, y->name) || !same_text(x->description, y->description) ||
		    x->passed != y->passed || x->points != y->points ||
		    x->max_points != y->max_points || !same_text(x->outcome, y->outcome) ||
		    !same_text(x->message, y->message) || !same_text(x->detail, y->detail) ||
		    x->seconds != y->seconds)
			return 0;
	}
	return 1;
}

/* Decode `len` bytes of `buf` as a result for `plan`; 0 when accepted. */
static int
decode(const char *buf, size_t len, char *why, size_t whylen)
{
	struct grade_result r;
	int rc = worker_result_decode(buf, len, &plan, &r, why, whylen);

	grader_result_free(&r);
	return rc;
}

/* `text` with the first `from` replaced by `to`; owned. */
static char *
replaced(const char *text, size_t len, const char *from, const char *to, size_t *outlen)
{
	const char *at = memmem(text, len, from, strlen(from));
	size_t head = at ? (size_t)(at - text) : len, fl = strlen(from), tl = strlen(to);
	char *out = malloc(len + tl + 1);

	memcpy(out, text, head);
	if (at) {
		memcpy(out + head, to, tl);
		memcpy(out + head + tl, at + fl, len - head - fl);
		*outlen = len - fl + tl;
	} else
		*outlen = len;
	out[*outlen] = '\0';
	return out;
}

static void
exercise_sample(struct exercise *ex)
{
	static char *data[] = { "primes.txt", "sales data.csv" };
	static char *tests[] = { "test_a.py" };
	static char *hidden[] = { "data/sales_hidden.csv", "helpers/util.py", "test_a.py" };

	memset(ex, 0, sizeof *ex);
	snprintf(ex->slug, sizeof ex->slug, "cp1-functions");
	ex->title = "Functions: is_prime\nline two";
	ex->phase = 2;
	ex->max_points = 10;
	ex->due_at = "2026-12-01T23:59:00+01:00";
	ex->due = 1796165940;
	ex->timeout_s = 30;
	ex->test_timeout_s = 10;
	ex->memory_mb = 4096;
	ex->feedback = COURSE_FEEDBACK_NEVER;
	ex->isolation = COURSE_ISOLATION_SHARED;
	ex->late = 1;
	ex->late_penalty = 20;
	ex->late_max_days = 3;
	ex->dir = "/course/exercises/cp1-functions";
	ex->hidden_dir = "/course/hidden/cp1-functions";
	ex->scaffold = "import marimo\n\0after a NUL";
	ex->scaffold_len = 26;
	ex->data_files = data;
	ex->n_data_files = 2;
	ex->hidden_files = hidden;
	ex->n_hidden_files = 3;
	ex->test_files = tests;
	ex->n_test_files = 1;
}

static int
same_exercise(const struct exercise *a, const struct exercise *b)
{
	if (strcmp(a->slug, b->slug) != 0 || !same_text(a->title, b->title) ||
	    a->phase != b->phase || a->max_points != b->max_points ||
	    (a->due_at == NULL) != (b->due_at == NULL) ||
	    (a->due_at && !same_text(a->due_at, b->due_at)) || a->due != b->due ||
	    a->timeout_s != b->timeout_s || a->test_timeout_s != b->test_timeout_s ||
	    a->memory_mb != b->memory_mb || a->feedback != b->feedback ||
	    a->isolation != b->isolation || a->late != b->late ||
	    a->late_penalty != b->late_penalty || a->late_max_days != b->late_max_days ||
	    !same_text(a->dir, b->dir) || !same_text(a->hidden_dir, b->hidden_dir) ||
	    a->scaffold_len != b->scaffold_len ||
	    memcmp(a->scaffold, b->scaffold, a->scaffold_len) != 0 ||
	    a->n_data_files != b->n_data_files || a->n_test_files != b->n_test_files ||
	    a->n_hidden_files != b->n_hidden_files)
		return 0;
	for (size_t i = 0; i < a->n_data_files; i++)
		if (!same_text(a->data_files[i], b->data_files[i]))
			return 0;
	for (size_t i = 0; i < a->n_hidden_files; i++)
		if (!same_text(a->hidden_files[i], b->hidden_files[i]))
			return 0;
	for (size_t i = 0; i < a->n_test_files; i++)
		if (!same_text(a->test_files[i], b->test_files[i]))
			return 0;
	return 1;
}

int
main(void)
{
	struct grade_test tests[2];
	struct grade_result sample = sample_result(tests), back;
	char *buf = NULL, why[256];
	size_t len = 0;

	TEST("a result survives its round trip field for field") {
		CHECK(worker_result_encode(&sample, &buf, &len) == 0);
		CHECK(worker_result_decode(buf, len, &plan, &back, why, sizeof why) == 0);
		CHECK(same_result(&sample, &back));
		grader_result_free(&back);
	}

	TEST("a result with no tests and no flags (a grading that failed early) is read") {
		struct grade_result empty = { GRADE_ERROR, 0, 10, "The sandbox failed.", NULL, 0,
			NULL, 0, "", 0, 0 };
		char *e;
		size_t elen;

		CHECK(worker_result_encode(&empty, &e, &elen) == 0);
		CHECK(worker_result_decode(e, elen, &plan, &back, why, sizeof why) == 0);
		CHECK(same_result(&empty, &back));
		grader_result_free(&back);
		free(e);
	}

	TEST("every result cut short is refused, never read in part") {
		size_t accepted = 0;

		for (size_t cut = 0; cut < len; cut++)
			if (decode(buf, cut, why, sizeof why) == 0)
				accepted++;
		CHECK(accepted == 0);
		decode(buf, len / 2, why, sizeof why);
		CHECK(strstr(why, "field \"") != NULL);
	}

	TEST("a result followed by anything is refused") {
		char *more = malloc(len + 2);

		memcpy(more, buf, len);
		more[len] = '\n';
		CHECK(decode(more, len + 1, why, sizeof why) < 0);
		CHECK_STR(why, "field \"end\" is followed by more data");
		free(more);
	}

	TEST("a field out of place, repeated, renamed or malformed is refused") {
		static const char *const cases[][2] = {
			{ "result 1\n1\n", "result 1\n2\n" },		/* another version */
			{ "score 1\n4\n", "points 1\n4\n" },		/* renamed */
			{ "score 1\n4\n", "score 2\n04\n" },		/* leading zero */
			{ "score 1\n4\n", "score 2\n-4\n" },		/* below its bound */
			{ "score 1\n4\n", "score 1\nx\n" },		/* not a number */
			{ "score 1\n4\n", "score 01\n4\n" },		/* its length */
			{ "score 1\n4\n", "score 1\n4\nscore 1\n4\n" },	/* twice */
			{ "status 1\n0\n", "status 1\n7\n" },		/* no such status */
			{ "seconds 4\n1.25\n", "seconds 3\nnan\n" },
			{ "seconds 4\n1.25\n", "seconds 4\n-1.5\n" },
			{ "tests 1\n2\n", "tests 4\n1001\n" },
			{ "tests 1\n2\n", "tests 1\n3\n" },		/* fewer follow */
			{ "passed 1\n1\n", "passed 1\n2\n" },
			{ "flags 1\n2\n", "flags 2\n33\n" },		/* over REPORT_FLAGS_MAX */
			{ "end 0\n\n", "end 1\nx\n" },
			{ "message 17\n", "message 99999999999999999999\n" },
		};

		for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
			size_t blen;
			char *bad = replaced(buf, len, cases[i][0], cases[i][1], &blen);

			if (blen == len && memcmp(bad, buf, len) == 0)
				fprintf(stderr, "  case %zu: \"%s\" not in the sample\n", i, cases[i][0]);
			CHECK(blen != len || memcmp(bad, buf, len) != 0);
			CHECK(decode(bad, blen, why, sizeof why) < 0);
			free(bad);
		}
	}

	TEST("a text holding a NUL byte is refused") {
		char *bad = malloc(len), *at;

		memcpy(bad, buf, len);
		at = memmem(bad, len, "printed", 7);
		CHECK(at != NULL);
		if (at)
			at[6] = '\0';
		CHECK(decode(bad, len, why, sizeof why) < 0);
		CHECK(strstr(why, "NUL") != NULL);
		free(bad);
	}

	TEST("a result that does not fit the plan is refused") {
		struct grade_test t2[2];
		struct grade_result r;
		char *e;
		size_t elen;

		r = sample_result(t2);
		r.score = 11;		/* more than max_points */
		worker_result_encode(&r, &e, &elen);
		CHECK(decode(e, elen, why, sizeof why) < 0);
		free(e);

		r = sample_result(t2);
		t2[1].name = "test_c";	/* not the plan's test */
		worker_result_encode(&r, &e, &elen);
		CHECK(decode(e, elen, why, sizeof why) < 0);
		CHECK(strstr(why, "test_b") != NULL);
		free(e);

		r = sample_result(t2);
		t2[0].points = 5;	/* more than its own maximum */
		worker_result_encode(&r, &e, &elen);
		CHECK(decode(e, elen, why, sizeof why) < 0);
		free(e);

		r = sample_result(t2);
		plan.n = 1;		/* more tests than planned */
		worker_result_encode(&r, &e, &elen);
		CHECK(decode(e, elen, why, sizeof why) < 0);
		plan.n = 2;
		free(e);
	}

	TEST("garbage and an empty buffer are refused with a reason") {
		CHECK(decode("", 0, why, sizeof why) < 0);
		CHECK_STR(why, "field \"result\" is missing (the data ends early)");
		CHECK(decode("\x01\x02garbage", 9, why, sizeof why) < 0);
		CHECK_STR(why, "field \"result\" is missing or out of place");
	}

	TEST("a request carries the exercise, the folders, the plan and the notebook") {
		struct exercise ex;
		struct grader g;
		struct worker_request req;
		char *r;
		size_t rlen;

		exercise_sample(&ex);
		memset(&g, 0, sizeof g);
		g.ex = &ex;
		g.plan = plan;
		snprintf(g.course_dir, sizeof g.course_dir, "/course");
		snprintf(g.private_dir, sizeof g.private_dir, "/var/lib/db");
		CHECK(worker_request_encode(&g, "print(1)\n", 9, &r, &rlen) == 0);
		CHECK(worker_request_decode(r, rlen, &req, why, sizeof why) == 0);
		CHECK(same_exercise(&ex, &req.ex));
		CHECK_STR(req.course_dir, "/course");
		CHECK_STR(req.private_dir, "/var/lib/db");
		CHECK(req.len == 9 && req.source && memcmp(req.source, "print(1)\n", 9) == 0);
		CHECK(req.plan && strstr(req.plan, "t.py::test_a") != NULL);
		worker_request_free(&req);
		free(r);

		ex.due_at = NULL;	/* none, which is not "" */
		g.private_dir[0] = '\0';
		CHECK(worker_request_encode(&g, NULL, GRADER_SUBMISSION_MAX + 5, &r, &rlen) == 0);
		CHECK(worker_request_decode(r, rlen, &req, why, sizeof why) == 0);
		CHECK(same_exercise(&ex, &req.ex) && req.ex.due_at == NULL);
		CHECK(req.source == NULL && req.len == GRADER_SUBMISSION_MAX + 5);
		CHECK_STR(req.private_dir, "");
		worker_request_free(&req);

		for (size_t cut = 0; cut < rlen; cut += 7) {
			CHECK(worker_request_decode(r, cut, &req, why, sizeof why) < 0);
			worker_request_free(&req);
		}
		free(r);
	}

	free(buf);
	return unit_done("worker");
}

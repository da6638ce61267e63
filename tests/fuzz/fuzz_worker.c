/* libFuzzer target: what a grading process hands back (worker_result_decode)
 * and what it is handed (worker_request_decode). A grading child that
 * crashed may have written anything; markbook must read it as a failure or
 * as a result that stays within the plan, never crash on it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "worker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct plan_test tests[2] = {
	{ "t.py::test_a", "test_a", "A.", 4 },
	{ "t.py::test_b", "test_b", "", 6 },
};
static const struct test_plan plan = { tests, 2, 10, "f" };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct worker_request req;
	struct grade_result r, again;
	char why[256], *text;
	size_t len;

	if (worker_result_decode((const char *)data, size, &plan, &r, why, sizeof why) == 0) {
		/* Within the plan, and the same once written and read again. */
		if (r.score > r.max_points || r.n_tests > plan.n || r.message == NULL ||
		    r.output == NULL)
			abort();
		for (size_t i = 0; i < r.n_tests; i++)
			if (strcmp(r.tests[i].name, tests[i].name) != 0 ||
			    r.tests[i].points > r.tests[i].max_points)
				abort();
		if (worker_result_encode(&r, &text, &len) == 0) {
			if (worker_result_decode(text, len, &plan, &again, why, sizeof why) != 0 ||
			    again.n_tests != r.n_tests || again.n_flags != r.n_flags ||
			    again.score != r.score || strcmp(again.output, r.output) != 0)
				abort();
			grader_result_free(&again);
		}
		free(text);
	} else if (r.n_tests != 0 || r.message != NULL)
		abort();	/* a refused result is left empty */
	grader_result_free(&r);
	if (worker_request_decode((const char *)data, size, &req, why, sizeof why) == 0 &&
	    req.source != NULL && strlen(req.source) > req.len)
		abort();
	worker_request_free(&req);
	return 0;
}

/* libFuzzer target: the harness report (report_parse), what markbook makes of
 * it (the sandbox proof, the plan, the score) and the cached plan's JSON
 * (report_plan_from_json). The report is the one text a submission can try to
 * forge from inside the sandbox. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

#define NONCE	"0123456789abcdef0123456789abcdef"
#define MAX_POINTS	1000	/* 10 points, in hundredths */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The points (hundredths) add up to max_points, every test is worth some, a
 * score stays within them, and the plan survives its own round trip through
 * JSON. */
static void
check_plan(const struct report *r, const struct test_plan *plan)
{
	struct report_outcome *out;
	struct test_plan again;
	int sum = 0, total;
	char *text;

	for (size_t i = 0; i < plan->n; i++) {
		if (plan->tests[i].points <= 0)
			abort();
		sum += plan->tests[i].points;
	}
	if (plan->n > 0 && sum != MAX_POINTS)
		abort();
	if ((out = calloc(plan->n + 1, sizeof *out)) == NULL)
		return;
	total = report_score(plan, r, out);
	if (total < 0 || total > MAX_POINTS)
		abort();
	free(out);
	if (plan->n == 0 || (text = report_plan_to_json(plan)) == NULL)
		return;
	if (report_plan_from_json(text, strlen(text), &again) != 0 || again.n != plan->n)
		abort();
	report_plan_free(&again);
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct report r;
	struct test_plan plan;
	char why[1024];

	if (report_parse((const char *)data, size, NONCE, &r) == 0) {
		report_sandbox_ok(&r, why, sizeof why);
		memset(&plan, 0, sizeof plan);
		if (report_make_plan(&r, MAX_POINTS, &plan, why, sizeof why) == 0)
			check_plan(&r, &plan);
		report_plan_free(&plan);
	}
	report_free(&r);
	if (report_plan_from_json((const char *)data, size, &plan) == 0)
		report_plan_free(&plan);
	else if (plan.n != 0)
		abort();	/* a refused plan comes back empty */
	return 0;
}

#ifndef MARKBOOK_REPORT_H
#define MARKBOOK_REPORT_H

#include <stddef.h>

/* The harness report (JSON lines, see CONTRIBUTING.md), the test plan made
 * from it, and the score of a run against that plan. Nothing here runs
 * anything: it reads bytes and counts points. Points are in hundredths
 * (points.h) everywhere below. */

#define REPORT_RECORD_MAX	(64 * 1024)	/* longer lines are ignored */
#define REPORT_TESTS_MAX	1000		/* tests in a plan or a run */
#define REPORT_FLAGS_MAX	32
#define REPORT_NAMES_MAX	64		/* functions a scaffold defines */
#define REPORT_FIELD_MAX	128		/* names, flags, what a marker said */
#define REPORT_NODEID_MAX	512		/* a test's node id and name (parametrized
						 * ids carry their arguments) */
#define REPORT_MESSAGE_MAX	500		/* a test's failure line */
#define REPORT_DETAIL_MAX	8192		/* a test's traceback, teacher only */
#define REPORT_TEXT_MAX		4096		/* load, parse and tamper messages */

struct report_test {
	char *nodeid;
	char *name;
	char *outcome;		/* passed, failed, error, skipped, xfailed, xpassed */
	char *message;
	char *detail;
	double duration;
};

struct report_plan_item {
	char *nodeid;
	char *name;
	char *function;		/* the test function: nodeid without [parameters] */
	char *description;
	int points;		/* the marker's; -1 when the test has none */
	char *bad_points;	/* what a marker markbook does not take said
				 * ("0.333", "'3'"); NULL when it is fine */
};

struct report {
	int has_sandbox;
	long long uid, no_new_privs, seccomp;
	int only_loopback;	/* the one network interface is lo */

	int has_parse, parse_ok;
	char *parse_message;
	char **flags;
	size_t n_flags;

	int has_load, load_ok;
	char *load_message;

	struct report_plan_item *plan;
	size_t n_plan;
	size_t n_plan_refused;	/* plan records past REPORT_TESTS_MAX or malformed */

	int has_names;		/* collect: what the scaffold defines */
	char **names;
	size_t n_names;

	int has_notebook;	/* notebook: the scaffold's shape, for the gate */
	int marimo;		/* it has app = marimo.App(...) */
	char **outside;		/* tested names it defines only inside cells */
	size_t n_outside;

	struct report_test *tests;
	size_t n_tests;

	int tampered;
	char *tamper_message;

	int has_end;
	long long exitstatus;

	size_t n_ignored;	/* lines that were not valid records */
};

/* Parse `len` bytes of JSON lines, keeping only records that carry `nonce`,
 * the first of each kind (and of each test node id), and only fields of the
 * right type and size. Bad lines are counted in n_ignored, never fatal.
 * Returns 0, or -1 when out of memory. Free `r` with report_free(). */
int report_parse(const char *buf, size_t len, const char *nonce, struct report *r);

void report_free(struct report *r);

/* Nonzero when the sandbox record proves the sandbox was in force: not uid 0,
 * no_new_privs 1, seccomp 2 (filter), only the loopback interface. Otherwise
 * 0 and a sentence for the teacher in `why`. */
int report_sandbox_ok(const struct report *r, char *why, size_t whylen);

struct plan_test {
	char *nodeid;
	char *name;
	char *description;
	int points;		/* hundredths, more than 0 */
};

/* What a submission is graded against: fixed once per exercise from a
 * trusted collection of the hidden tests against the scaffold. */
struct test_plan {
	struct plan_test *tests;
	size_t n;
	int max_points;		/* hundredths; the tests' points add up to it */
	char *names;		/* the scaffold's functions, comma-separated: all
				 * the tests may call in process isolation */
};

/* Copy what only the student's sandbox knows (parse, load, flags) from
 * `student` into `tests`, the report of the tests' sandbox, so that one report
 * describes a run in process isolation. Returns 0, or -1 when out of memory. */
int report_adopt_student(struct report *tests, const struct report *student);

/* Make the plan from a `collect` report. Points belong to test functions: a
 * function marked @pytest.mark.points(p) is worth p, the unmarked functions
 * share what is left of `max_points` equally, and a function's items (the
 * cases of a parametrized function) share its points equally. Each split is
 * in hundredths by largest remainder (the quotas are equal, so the first in
 * collection order take the hundredths left over), so the items add up to
 * max_points exactly. Returns 0, or -1 with the problems in `err`, one
 * sentence a line, naming the test and what to change: a marker that is not
 * a number above 0 with at most two decimals, markers past max_points or
 * short of it with nothing unmarked, a split that leaves an item 0 points.
 * Free with report_plan_free(), also after a failure. */
int report_make_plan(const struct report *r, int max_points, struct test_plan *plan,
    char *err, size_t errlen);

void report_plan_free(struct test_plan *plan);

/* The plan as JSON text, to keep it between runs. The caller frees the
 * result; NULL when out of memory. */
char *report_plan_to_json(const struct test_plan *plan);

/* Read a plan written by report_plan_to_json(). Returns 0, or -1 when the text
 * is not such a plan (`plan` is then empty). Free with report_plan_free(). */
int report_plan_from_json(const char *text, size_t len, struct test_plan *plan);

/* One planned test's outcome; strings are borrowed from the report. */
struct report_outcome {
	int passed;
	int points;		/* earned, hundredths */
	const char *outcome;	/* NULL when the test did not report */
	const char *message;
	const char *detail;
	double duration;	/* seconds the test took, 0 when it did not report */
};

/* Score report `r` against `plan`, filling `out[plan->n]`. A test scores its
 * points only when its first record says passed, the notebook loaded, and the
 * run was not tampered with. Returns the total. */
int report_score(const struct test_plan *plan, const struct report *r,
    struct report_outcome *out);

#endif

#ifndef MARKBOOK_GRADER_H
#define MARKBOOK_GRADER_H

#include <limits.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "course.h"
#include "report.h"
#include "sandbox.h"

/* Grade one submission of one exercise: stage it with the hidden tests and
 * the harness, run it in the sandbox, read the report, score it against the
 * exercise's test plan. No database, no HTTP. */

#define GRADER_SUBMISSION_MAX	(1024 * 1024)	/* bytes of a notebook */
#define GRADER_FILE_MB		16		/* any one file the run writes */
#define GRADER_WRITE_MB		64		/* all files the run writes */
#define GRADER_ENTRIES_MAX	10000		/* files it may create */
#define GRADER_NOFILE		256
#define GRADER_NPROC		64
#define GRADER_OUTPUT_SHOWN	2000		/* output quoted in a system error */
#define GRADER_KEPT_MAX		(REPORT_TESTS_MAX * 4096)	/* a kept plan or gate verdict */
/* The interpreter every sandbox runs: Debian's, with the packages installed
 * for it (apt, or pip as root into /usr/local). */
#define GRADER_PYTHON	"/usr/bin/python3"
/* Hidden from the student's sandbox in process isolation: it has no use for
 * pytest, and a notebook must not be able to import it to learn how tests
 * are run or to fake their outcomes. */
#define GRADER_PYTEST_DIRS \
	"/usr/lib/python3/dist-packages/pytest", "/usr/lib/python3/dist-packages/_pytest", \
	"/usr/lib/python3/dist-packages/pytest_timeout.py"

enum grade_status {
	GRADE_DONE,	/* graded; the score may be 0, `message` says why */
	GRADE_ERROR,	/* the grading system failed; nobody is given a 0 */
};

/* Points and scores are in hundredths of a point (points.h). */
struct grade_test {
	char *name;
	char *description;
	int passed;
	int points;		/* earned */
	int max_points;		/* what the test is worth */
	char *outcome;		/* passed, failed, ..., or "not run" */
	char *message;		/* short failure line, "" when passed */
	char *detail;		/* traceback for the teacher, "" when none */
	double seconds;		/* how long it ran (setup, call, teardown); 0 when not */
};

struct grade_result {
	enum grade_status status;
	int score;
	int max_points;
	char *message;		/* "" when there is nothing to explain */
	char **flags;		/* integrity flags for the teacher */
	size_t n_flags;
	struct grade_test *tests;
	size_t n_tests;
	char *output;		/* what the run printed, for the teacher */
	double seconds;
	int advice;		/* `message` is advice only (a function found by running
				 * the notebook's cells): nothing stopped the grading */
};

/* What every run of one exercise shares. */
struct grader {
	const struct exercise *ex;
	struct sandbox_identity id;
	char course_dir[PATH_MAX];	/* absolute; hidden inside the sandbox */
	char private_dir[PATH_MAX];	/* absolute or ""; hidden inside the sandbox */
	struct test_plan plan;
};

#define GRADER_ESYSTEM	(-1)	/* the sandbox or the machine failed */
#define GRADER_ECOURSE	(-2)	/* the exercise's scaffold or tests are at fault */

/* Prepare to grade exercise `ex` of the course at `course_dir`: find the
 * sandbox user and fix the test plan by collecting the hidden tests against
 * the scaffold in the sandbox. `private_dir` (may be NULL) is another folder
 * no sandbox may see, such as the database's. Returns 0, or GRADER_ESYSTEM
 * or GRADER_ECOURSE with a sentence in `err`.
 * `ex` must outlive `g`; free `g` with grader_free(), also after a failure. */
int grader_init(struct grader *g, const struct exercise *ex, const char *course_dir,
    const char *private_dir, char *err, size_t errlen);

/* Prepare to grade exercise `ex` as grader_init() does, with the test plan
 * `plan` (`plan_len` bytes of report_plan_to_json() text: the plan another
 * markbook process fixed) instead of collecting one: for the grading child
 * (worker.c). Returns 0, or GRADER_ESYSTEM with a sentence in `err`. Free `g`
 * with grader_free(), also after a failure. */
int grader_init_planned(struct grader *g, const struct exercise *ex, const char *course_dir,
    const char *private_dir, const char *plan, size_t plan_len, char *err, size_t errlen);

/* Grade the `len` bytes of `source` (which may be NULL when `len` is over
 * GRADER_SUBMISSION_MAX: the file is refused unread). Always fills `res` (status done or
 * error); returns 0 when graded, -1 when the grading system failed. Safe to
 * call from several threads at once. Free `res` with grader_result_free(). */
int grader_grade(const struct grader *g, const char *source, size_t len,
    struct grade_result *res);

/* Prove that the sandbox is in force on this machine: run the harness's
 * self-test in firejail, as a grading would, and check its report. Returns 1
 * when it is, 0 with a sentence for the teacher in `why` when it is not. */
int grader_selftest(char *why, size_t whylen);

/* The publish gate's verdict on one planned test. */
struct grader_check_test {
	char *name;
	int points;
	int solution_passed;		/* on hidden/<slug>/solution.py */
	int scaffold_passed;		/* on the unchanged scaffold: free points */
	char *solution_message;		/* why it failed on the solution, "" */
	char *problem;			/* a sentence when the test fails the gate, "" */
};

/* Whether an exercise may be published (README.md, "markbook check"). */
struct grader_check {
	int ok;				/* passes the gate */
	int solution_score, scaffold_score, max_points;	/* hundredths */
	double solution_seconds;	/* the reference solution's run */
	char *problems;			/* why not, a sentence a line; "" when ok */
	char *warnings;			/* advice that does not fail the gate, "" */
	struct grader_check_test *tests;	/* one per planned test */
	size_t n_tests;
};

/* Run the publish gate on the exercise `g` was prepared for: grade its
 * reference solution (full marks) and its unchanged scaffold (0, every test
 * failing), check the plan adds up to max_points, and that the scaffold is a
 * marimo notebook whose tested names are @app.functions. Returns 0 with the
 * verdict in `c`, or -1 when the sandbox failed (`c->problems` says how).
 * Free `c` with grader_check_free(), also after a failure. */
int grader_check(const struct grader *g, struct grader_check *c);

/* The publish gate's verdict as grader_check() gives it, kept between runs
 * (for `markbook serve`; `markbook check` always runs the gate afresh). A
 * verdict is kept in $XDG_CACHE_HOME/markbook (or ~/.cache/markbook) under
 * the SHA-256 of everything that decides it: the markbook binary, the
 * harness, exercise.json, the scaffold, the data files, every file of
 * hidden/<slug>/ (solution.py too), the plan's inputs and the Python the
 * sandbox runs (grader_stat_digest() of the interpreter and the folders it
 * imports from, so installing, removing or upgrading a Python package with
 * apt or pip makes the gate run again). A kept verdict that
 * reads as a pass on `g->plan` is given without running the sandbox;
 * otherwise the gate runs and only a pass is kept, so a teacher who fixes
 * what failed sees the gate run again. Returns and fills `c` as
 * grader_check() does; free `c` with grader_check_free(). */
int grader_check_kept(const struct grader *g, struct grader_check *c);

/* What the files or folders `paths` (NULL-terminated) are now, as hex SHA-256
 * of each one's inode, size and change time ("missing" when it is not
 * there): a folder's changes when an entry is added, removed or renamed,
 * which a package install, removal or upgrade (a new versioned .dist-info
 * or .egg-info folder) always does. Fills `out` (65 bytes). */
void grader_stat_digest(const char *const *paths, char *out);

/* The verdict `c` as a JSON object (problems and warnings as text, scores
 * and points in points: 7.5), for the teacher's page and to keep it. The caller frees it with cJSON_Delete(); NULL
 * when out of memory. */
cJSON *grader_check_json(const struct grader_check *c);

/* The verdict `c` on exercise `slug` as JSON text, to keep it. The caller
 * frees the result; NULL when out of memory. */
char *grader_check_to_json(const struct grader_check *c, const char *slug);

/* Read a verdict written by grader_check_to_json() for exercise `slug`.
 * Returns 0, or -1 (`c` then empty) when the text is not such a verdict:
 * it does not parse, a field is missing or of the wrong type, or its tests
 * are not those of `plan` (same count, names and points, in order). Reads a
 * failing verdict too; deciding whether to trust it is the caller's. Free
 * `c` with grader_check_free(). */
int grader_check_from_json(const char *text, size_t len, const char *slug,
    const struct test_plan *plan, struct grader_check *c);

void grader_check_free(struct grader_check *c);

void grader_result_free(struct grade_result *res);
void grader_free(struct grader *g);

#endif

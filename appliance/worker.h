#ifndef MARKBOOK_WORKER_H
#define MARKBOOK_WORKER_H

#include <stddef.h>

#include "course.h"
#include "grader.h"
#include "report.h"

/* Grading one submission in a child process of markbook, so that a crash
 * while grading it (a bug in markbook's C, a signal, an abort, a stack
 * overflow) ends that grading only, never the web server or a batch of
 * `markbook grade`.
 *
 * worker_grade() starts the markbook binary that is running (held open since
 * worker_init(), so a binary rebuilt on disk does not change it) as
 * `markbook __grade SECONDS SLUG`, the *supervisor*. The supervisor forks the
 * *grading child*, which reads one request on its standard input (a socket),
 * grades with grader_grade() exactly as a thread of markbook did, writes the
 * result on the same socket and exits 0. The supervisor is a subreaper: when
 * the grading child dies, the sandboxes it had started become the
 * supervisor's, which kills and reaps them; it also stops a grading child
 * that runs past the exercise's timeout_s plus WORKER_SLACK_S. Its exit
 * status tells how the grading child ended (WORKER_EXIT_*, or 128 + the
 * signal that killed it). The supervisor has a stage root (and as root a
 * mount namespace) of its own, from sandbox_init(): whatever a grading child
 * that died left staged goes with it. CONTRIBUTING.md ("The grading process") has
 * the details.
 *
 * Request and result are wire.h messages with a fixed order of fields: the
 * reader expects exactly the next field and refuses anything else, so a
 * grading child that crashed half-way or wrote garbage gives a failure,
 * never a partial result. */

#define WORKER_COMMAND		"__grade"
#define WORKER_REQUEST_MAX	(8 * 1024 * 1024)	/* source, scaffold, plan */
#define WORKER_RESULT_MAX	(16 * 1024 * 1024)	/* 1000 tests' tracebacks */
#define WORKER_TEXT_MAX		(256 * 1024)	/* one text of a result (output) */
#define WORKER_SLACK_S		30	/* staging and start-up beyond timeout_s */
#define WORKER_BACKSTOP_S	30	/* the supervisor itself beyond that */

/* The supervisor's exit status: the grading child's own when it exited
 * with less than WORKER_EXIT_OTHER, 128 + N when signal N killed it, or: */
#define WORKER_EXIT_OK		0	/* the result was written */
#define WORKER_EXIT_REQUEST	2	/* the request was unreadable */
#define WORKER_EXIT_OTHER	99	/* the child exited with another status */
#define WORKER_EXIT_TIMEOUT	100	/* stopped after its time ran out */
#define WORKER_EXIT_STOPPED	101	/* stopped: markbook went away or asked */
#define WORKER_EXIT_START	102	/* the grading child could not start */

/* Open the running binary to start grading children from. Call once at
 * start, before any thread; later calls do nothing. Returns 0, or -1 with a
 * sentence in `err`. */
int worker_init(char *err, size_t errlen);

#define WORKER_EFAILED	(-2)	/* worker_grade(): the grading process failed */

/* Grade the `len` bytes of `source` as grader_grade() does, in a child
 * process. Always fills `res`. Returns 0 when graded, -1 when the grading
 * system failed as grader_grade() says, or WORKER_EFAILED when the grading
 * process failed (killed, crashed, stopped, a malformed or missing result,
 * or it could not start): then status GRADE_ERROR, every planned test "not
 * run", and markbook's own sentence saying what happened. Safe from several
 * threads at once. Free `res` with grader_result_free(). */
int worker_grade(const struct grader *g, const char *source, size_t len,
    struct grade_result *res);

/* `markbook __grade SECONDS SLUG` (`argv[0]` is "__grade"): the
 * supervisor and the grading child, as above. Returns the supervisor's exit
 * status. */
int worker_main(int argc, char **argv);

/* The protocol, for the grading child and for the tests. */

/* What a grading child needs: the exercise and folders the parent's grader
 * was prepared with, its test plan, and the notebook. */
struct worker_request {
	struct exercise ex;
	char course_dir[PATH_MAX];
	char private_dir[PATH_MAX];	/* "" when none */
	char *plan;			/* report_plan_to_json() text */
	size_t plan_len;
	char *source;			/* NULL when refused unread (len too large) */
	size_t len;
};

/* Encode a request for grading `source` with grader `g` into `*out` (owned,
 * `*outlen` bytes). Returns 0, or -1 when out of memory. */
int worker_request_encode(const struct grader *g, const char *source, size_t len,
    char **out, size_t *outlen);

/* Decode a request. Returns 0, or -1 with a reason in `err` (`req` is then
 * empty). Free `req` with worker_request_free(), also after a failure. */
int worker_request_decode(const char *buf, size_t len, struct worker_request *req,
    char *err, size_t errlen);

void worker_request_free(struct worker_request *req);

/* Encode `res` into `*out` (owned, `*outlen` bytes). Returns 0, or -1 when
 * out of memory. */
int worker_result_encode(const struct grade_result *res, char **out, size_t *outlen);

/* Decode a result and check it against `plan`: every field in its place and
 * bounds, no NUL inside a text, at most the planned tests with their names
 * and points, scores within their maxima. Returns 0, or -1 with what was
 * wrong in `err` (`res` is then empty). Free `res` with grader_result_free(),
 * also after a failure. */
int worker_result_decode(const char *buf, size_t len, const struct test_plan *plan,
    struct grade_result *res, char *err, size_t errlen);

#endif

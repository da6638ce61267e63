#ifndef MARKBOOK_COURSE_H
#define MARKBOOK_COURSE_H

#include <stddef.h>
#include <time.h>

/* A course folder: exercises/<slug>/ (exercise.json, the scaffold <slug>.py,
 * data files handed to students, in subfolders too) and hidden/<slug>/ (the
 * tests, test_*.py or *_test.py, with what they read: conftest.py, helper
 * modules, data; and solution.py), as CONTRIBUTING.md describes. */

#define COURSE_SLUG_MAX		64
#define COURSE_JSON_MAX		(64 * 1024)	/* exercise.json */
#define COURSE_FILE_MAX		(1024 * 1024)	/* scaffold, each .py of hidden/<slug> */
#define COURSE_FILES_MAX	64		/* exercises; files staged from each side */
#define COURSE_DATA_MAX		(64 * 1024 * 1024)	/* each other file staged */
#define COURSE_DEPTH_MAX	8		/* folders below exercises/<slug>, hidden/<slug> */

#define COURSE_TIMEOUT_DEFAULT		30
#define COURSE_TEST_TIMEOUT_DEFAULT	10
#define COURSE_MEMORY_DEFAULT		512
#define COURSE_LATE_DAYS_MAX		365	/* "late": {"max_days"} */

/* When students see the failure messages of the hidden tests. */
enum course_feedback {
	COURSE_FEEDBACK_AFTER_DUE,	/* once the due date has passed (default) */
	COURSE_FEEDBACK_ALWAYS,
	COURSE_FEEDBACK_NEVER,
};

/* How the submission and the hidden tests are kept apart while grading. */
enum course_isolation {
	COURSE_ISOLATION_PROCESS,	/* two sandboxes, values cross as data (default) */
	COURSE_ISOLATION_SHARED,	/* one Python process: tests get real objects */
};

/* What the teacher is told wherever a `shared` exercise is listed (markbook
 * check, the exercise list, the health page): no check can make one process
 * trustworthy, so a determined submission can score what it likes. */
#define COURSE_SHARED_RISK	"Isolation \"shared\": students can fake their results " \
	"in this exercise, as their notebook runs in the same Python process as the " \
	"hidden tests; use it only where the tests need the notebook's real objects (a " \
	"figure, an instance of the student's class), and check surprising scores."

struct exercise {
	char slug[COURSE_SLUG_MAX + 1];
	char *title;
	int phase;			/* 1 or 2 */
	int max_points;			/* hundredths of a point (points.h) */
	char *due_at;			/* as written, or NULL */
	time_t due;			/* 0 when there is no due date */
	unsigned timeout_s;		/* whole run */
	unsigned test_timeout_s;	/* each test */
	unsigned memory_mb;		/* address space of the sandbox */
	enum course_feedback feedback;
	enum course_isolation isolation;
	int late;			/* "late" is set: late submissions are penalised */
	unsigned late_penalty;		/* percent of the earned score per started day */
	unsigned late_max_days;		/* later than this: 0 */
	char *dir;			/* <course>/exercises/<slug> */
	char *hidden_dir;		/* <course>/hidden/<slug> */
	char *scaffold;			/* the scaffold's text */
	size_t scaffold_len;
	/* Paths relative to `dir` (data/canucks.csv), sorted: every regular
	 * file but exercise.json, the scaffold, practice/, __pycache__ and dot
	 * files. Handed to students and staged beside the notebook as laid out. */
	char **data_files;
	size_t n_data_files;
	/* Paths relative to `hidden_dir`, sorted: every regular file staged in
	 * hidden/ for the tests (tests, conftest.py, helpers, data), all but
	 * solution.py, __pycache__ and dot files. */
	char **hidden_files;
	size_t n_hidden_files;
	/* Those of `hidden_files` pytest collects as tests (course_is_test_file). */
	char **test_files;
	size_t n_test_files;
};

struct course {
	char *dir;			/* absolute */
	struct exercise *exercises;	/* sorted by slug */
	size_t n_exercises;
};

/* Nonzero when `slug` is 1..COURSE_SLUG_MAX characters of [a-z0-9-]. */
int course_valid_slug(const char *slug);

/* Nonzero when `path`'s last part is a name pytest collects tests from by
 * default: test_*.py or *_test.py. */
int course_is_test_file(const char *path);

/* Load and check exercise `slug` of the course at `dir`. Returns 0, or -1
 * with a sentence naming the file and the problem in `err`. The caller frees
 * `*ex` with course_exercise_free(), also after a failure. */
int course_load_exercise(const char *dir, const char *slug, struct exercise *ex,
    char *err, size_t errlen);

/* Load every exercise of the course at `dir`. Returns 0, or -1 with the first
 * problem in `err`. The caller frees `*c` with course_free(), also after a
 * failure. */
int course_load(const char *dir, struct course *c, char *err, size_t errlen);

/* Parse an ISO 8601 date-time with an offset ("2026-12-01T23:59:00+01:00" or
 * "...Z"). Returns 0 and the time in `*out`, or -1. */
int course_parse_time(const char *s, time_t *out);

void course_exercise_free(struct exercise *ex);
void course_free(struct course *c);

#endif

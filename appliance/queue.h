#ifndef MARKBOOK_QUEUE_H
#define MARKBOOK_QUEUE_H

#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <time.h>

#include "course.h"
#include "grader.h"
#include "sha256.h"
#include "store.h"

/* The grading pool: the course's exercises ready to grade, and N threads that
 * take the oldest queued submission from the database, grade it and write the
 * result back. Web threads only queue rows and call queue_notify(); they never
 * wait on a grading. */

#define QUEUE_WORKERS_MAX	64
#define QUEUE_EXERCISES_MAX	256
#define QUEUE_POLL_S		2	/* look at the database this often anyway */
#define QUEUE_PROBLEM_MAX	1024
#define QUEUE_SELFTEST_S	5	/* while the sandbox fails, test it this often */

struct queue_exercise {
	struct exercise ex;
	struct grader g;
	int loaded;			/* course_load_exercise succeeded */
	int ready;			/* grader_init and the gate passed: published */
	int checked;			/* `check` holds the publish gate's verdict */
	struct grader_check check;
	long long id;			/* in the database; 0 when not stored */
	char tests_hash[SHA256_HEX_LEN + 1];	/* of the hidden tests loaded */
	char problem[QUEUE_PROBLEM_MAX];	/* why it is not published */
	char *hidden_text;		/* the hidden tests, to keep them out of
					 * what students see */
};

/* One load of the course folder. A reload builds a new set beside the
 * current one and swaps them; older sets stay until queue_free(), because a
 * web thread or a grading may still hold one of their exercises. */
struct queue_set {
	struct queue_exercise *exercises;	/* sorted by slug */
	size_t n;
	struct queue_set *older;
};

struct queue {
	char course_dir[PATH_MAX];
	char db_path[PATH_MAX];
	char db_dir[PATH_MAX];		/* its folder, hidden from the sandbox */
	struct queue_set *set;		/* the course now: read with queue_course() */
	/* The last sandbox self-test passed (at start, after a grading failed
	 * for a system reason, and every QUEUE_SELFTEST_S while it fails);
	 * otherwise why not. Written under `lock` once the threads run: read
	 * them with queue_sandbox(). */
	int sandbox_ok;
	char sandbox_message[QUEUE_PROBLEM_MAX];
	time_t selftest_at;

	pthread_t threads[QUEUE_WORKERS_MAX];
	size_t n_threads;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	unsigned long generation;	/* bumped by queue_notify() */
	int stopping;
	int busy;			/* threads grading right now */

	/* Reloading the course folder, on its own thread; under `lock`. */
	pthread_t reloader;
	int has_reloader;
	pthread_cond_t reload_wake;
	int reload_wanted, reloading;
	time_t reloaded_at;		/* 0: not reloaded since the start */
	unsigned long reloads;		/* ended since the start */
	char reload_message[QUEUE_PROBLEM_MAX];
};

/* What queue_reload_status() reports. */
struct queue_reload {
	int reloading;			/* a reload is under way or asked for */
	time_t reloaded_at;		/* when the last one ended; 0: none yet */
	unsigned long reloads;		/* how many ended since the start */
	char message[QUEUE_PROBLEM_MAX];	/* what it found, or why it failed */
};

/* Whether the sandbox works, and when not, why (copied into `why`). Safe to
 * call from any thread. */
int queue_sandbox(struct queue *q, char *why, size_t whylen);

/* Load every exercise of the course at `course_dir`, prepare a grader for
 * each (the test plan, run in the sandbox; the folder of `db_path` hidden from
 * it) and record them in `s`: an
 * exercise that fails to load or prepare is kept unpublished with the reason
 * in `problem`. Returns 0, or -1 with a sentence in `err` when the course
 * folder cannot be read at all. Free `q` with queue_free(), also after a
 * failure. */
int queue_load(struct queue *q, const char *course_dir, const char *db_path,
    struct store *s, char *err, size_t errlen);

/* Start `workers` grading threads and the course reloader, each with its
 * own connection to the database at `db_path`. Returns 0, or -1 with a
 * sentence in `err`. */
int queue_start(struct queue *q, const char *db_path, unsigned workers,
    char *err, size_t errlen);

/* Tell the grading threads a submission was queued. */
void queue_notify(struct queue *q);

/* Stop taking submissions and wait for the gradings in progress to be
 * written. */
void queue_stop(struct queue *q);

/* The course as loaded now. The set and its exercises stay valid until
 * queue_free(), even after a reload replaced them. */
const struct queue_set *queue_course(struct queue *q);

/* Print a line per exercise of `set` on stdout: ready, with its tests and
 * points, or NOT PUBLISHED and why; with `problems_only`, only the latter. */
void queue_print_course(const struct queue_set *set, int problems_only);

/* The exercise with `slug` or database id `id` in the course now, or NULL. */
const struct queue_exercise *queue_find(struct queue *q, const char *slug);
const struct queue_exercise *queue_find_id(struct queue *q, long long id);

/* Ask the reloader to read the course folder again (the teacher's button,
 * SIGHUP): new and changed exercises go through the publish gate while the
 * current ones keep grading, then the new course replaces the old in one
 * step. A course folder that cannot be read leaves the current course in
 * place. Returns 1 when a reload was already under way (it will run again
 * once more after it), 0 otherwise. Safe from any thread. */
int queue_reload(struct queue *q);

/* How reloading went, for the teacher. Safe from any thread. */
void queue_reload_status(struct queue *q, struct queue_reload *st);

/* Threads grading right now. */
int queue_busy(struct queue *q);

void queue_free(struct queue *q);

#endif

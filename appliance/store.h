#ifndef MARKBOOK_STORE_H
#define MARKBOOK_STORE_H

#include <stddef.h>

#include "course.h"
#include "grader.h"
#include "report.h"

/* Everything markbook keeps, in one SQLite file: users, sessions, exercises
 * with their test plans, submissions and their test results. This is the only
 * module with SQL. One `struct store` is one connection: use it from one
 * thread at a time (every thread opens its own). Every score, points and
 * max_points here is in hundredths of a point (points.h), as in the file. */

#define STORE_APPLICATION_ID	0x6d6b626b	/* "mkbk" in the file header */
#define STORE_USERNAME_MAX	64
#define STORE_NAME_MAX		128
#define STORE_HASH_MAX		128		/* a bcrypt hash is 60 */
#define STORE_TOKEN_MAX		64		/* hex SHA-256, CSRF tokens */
#define STORE_EMAIL_MAX		254
#define STORE_BUSY_MS		10000
#define STORE_ATTEMPTS_MAX	3		/* gradings started of one submission */

#define STORE_OK		0
#define STORE_ERROR		(-1)	/* SQLite failed; the connection says why */
#define STORE_NOTFOUND		(-2)
#define STORE_EXISTS		(-3)	/* a unique name is taken */
#define STORE_LIMIT		(-4)	/* too many submissions waiting */
#define STORE_FULL		(-5)	/* the disk under the database is full */
#define STORE_UNPUBLISHED	(-6)	/* the exercise is not published */

struct store;

/* Open the markbook database at `path`, creating it when the file is missing
 * or empty and migrating it to the current version. Refuses (NULL and a
 * sentence in `err`) a file that is not a markbook database or comes from a
 * newer markbook. The caller closes the result with store_close(). */
struct store *store_open(const char *path, char *err, size_t errlen);

void store_close(struct store *s);

/* The last SQLite error of this connection, for logs. Static or owned by `s`. */
const char *store_errmsg(struct store *s);

/* One row of the audit table: who changed what, from which value to which. */
struct store_audit {
	long long at;
	long long actor_id;		/* 0: the command line */
	const char *action;		/* override, regrade, roster-add, ... */
	const char *subject;		/* "submission 12", "user ada", ... */
	const char *old_value;
	const char *new_value;
	const char *comment;
};

/* Add `a` to the audit table, inside the caller's transaction when there is
 * one. Returns STORE_OK or STORE_ERROR. */
int store_add_audit(struct store *s, const struct store_audit *a);

struct store_user {
	long long id;
	char username[STORE_USERNAME_MAX + 1];
	char name[STORE_NAME_MAX + 1];
	char role[16];			/* teacher, student */
	char password_hash[STORE_HASH_MAX + 1];
	int must_change;		/* may only set a password (roster import) */
};

/* Add a user. Returns STORE_OK and the new id in `*id` (may be NULL),
 * STORE_EXISTS when the username is taken, or STORE_ERROR. */
int store_add_user(struct store *s, const char *username, const char *name,
    const char *role, const char *password_hash, long long now, long long *id);

/* Find a user by username. Returns STORE_OK, STORE_NOTFOUND or STORE_ERROR. */
int store_get_user(struct store *s, const char *username, struct store_user *u);

/* Count users with `role`. Returns STORE_OK or STORE_ERROR. */
int store_count_users(struct store *s, const char *role, long long *n);

/* Keep a session: the SHA-256 of its token (hex), its CSRF token and expiry. */
int store_add_session(struct store *s, const char *token_hash, long long user_id,
    const char *csrf_token, long long now, long long expires_at);

/* The user and CSRF token of the unexpired session whose token hashes to
 * `token_hash`. Returns STORE_OK, STORE_NOTFOUND or STORE_ERROR. */
int store_get_session(struct store *s, const char *token_hash, long long now,
    struct store_user *u, char csrf_token[STORE_TOKEN_MAX + 1]);

/* End one session, and every expired one. Returns STORE_OK or STORE_ERROR. */
int store_delete_session(struct store *s, const char *token_hash, long long now);

/* Mark every stored exercise not named in `slugs` (`n` of them) as
 * unpublished ("no longer in the course folder"), after store_put_exercise()
 * recorded the ones loaded now: students never see a present exercise
 * vanish while the course reloads. Returns STORE_OK or STORE_ERROR. */
int store_unpublish_except(struct store *s, const char *const *slugs, size_t n);

/* Record exercise `ex` as loaded now, with its test plan when `plan` is not
 * NULL (published), or unpublished with `problem` saying why. `feedback` is
 * "always", "after_due" or "never". Returns STORE_OK and its id in `*id`. */
int store_put_exercise(struct store *s, const struct exercise *ex, const char *feedback,
    const char *tests_hash, const struct test_plan *plan, const char *problem,
    long long now, long long *id);

struct store_exercise {
	long long id;
	char slug[COURSE_SLUG_MAX + 1];
	const char *title;
	int phase;
	int max_points;
	const char *due_at;		/* NULL when none */
	int published;
	const char *problem;
	int best_score;			/* of the user asked about; -1 when none */
	long long waiting;		/* all queued and grading submissions */
	long long stale;		/* graded with other hidden tests than now */
};

/* Call `cb` for every stored exercise (only published ones unless `all`),
 * by slug, with the best score of `user_id`. Strings live for the call only.
 * Returns STORE_OK, STORE_ERROR, or what a nonzero `cb` returned. */
int store_list_exercises(struct store *s, long long user_id, int all,
    int (*cb)(const struct store_exercise *e, void *arg), void *arg);

/* Queue a submission of `len` bytes of `source` unless the student already
 * has `max_waiting` uploads queued or grading (STORE_LIMIT; one the teacher
 * grades again does not count). The row is committed
 * when it returns STORE_OK with its id in `*id`; STORE_FULL when the disk is
 * full (nothing is written), STORE_ERROR otherwise. */
int store_add_submission(struct store *s, long long user_id, long long exercise_id,
    int max_points, const char *source, size_t len, int max_waiting, long long now,
    long long *id);

struct store_claim {
	long long id;
	long long exercise_id;
	char *source;			/* owned; free with store_claim_free() */
	size_t len;
	int attempts;			/* counting this one */
	long long regrade_id;		/* 0: an upload; else an item of this regrade */
};

/* Take the oldest queued submission for grading, atomically: two threads
 * never claim the same one. When no upload waits, take a waiting item of a
 * running regrade instead (`regrade_id` set). The same statement counts the
 * attempt, so a grading that never ends (markbook stopped in it) counts
 * too. Returns STORE_OK, STORE_NOTFOUND when both queues are empty, or
 * STORE_ERROR. */
int store_claim_submission(struct store *s, struct store_claim *c);

void store_claim_free(struct store_claim *c);

/* What becomes of a grading that failed for the system's reason. */
#define STORE_FINAL		0	/* the result stands, even an error */
#define STORE_RETRY		1	/* back to the queue; the attempt counts */
#define STORE_RETRY_UNCOUNTED	2	/* back to the queue, the attempt given back
					 * (the sandbox was broken, not the grading) */

/* Write the grading of submission `id` in one transaction: status, score,
 * message, flags, output and every test. With `retry` STORE_RETRY or
 * STORE_RETRY_UNCOUNTED the submission goes back to the queue instead, with
 * the result's message (a system error worth another attempt). */
int store_finish_submission(struct store *s, long long id, const struct grade_result *r,
    const char *tests_hash, int retry, long long now);

/* Keep the grading of a regrade's item (submission `submission_id` of regrade
 * `regrade_id`), graded with the hidden tests `tests_hash`, until the regrade
 * is applied; with `retry` (as for store_finish_submission()) it waits again. Applying gives each submission the
 * hash of the tests that graded it, so one graded after the teacher changed
 * the tests again mid-regrade counts as graded with older tests or not, truly. */
int store_finish_regrade_item(struct store *s, long long regrade_id, long long submission_id,
    const struct grade_result *r, const char *tests_hash, int retry);

/* Start regrading exercise `exercise_id` with its current hidden tests: every
 * graded submission when `all`, else those graded with other tests. Returns
 * STORE_OK with the regrade's id and how many submissions it grades,
 * STORE_EXISTS when one is already running, STORE_NOTFOUND when there is
 * nothing to regrade, or STORE_ERROR. Audited as `actor_id`. */
int store_start_regrade(struct store *s, long long exercise_id, int all, long long actor_id,
    long long now, long long *id, long long *n);

struct store_regrade {
	long long id;
	char status[16];		/* running, applied, discarded */
	long long created_at;
	long long total, graded, errors;	/* items; graded counts errors too */
};

/* The latest regrade of exercise `exercise_id`. Returns STORE_OK,
 * STORE_NOTFOUND or STORE_ERROR. */
int store_get_regrade(struct store *s, long long exercise_id, struct store_regrade *r);

struct store_regrade_row {
	const char *username, *name;
	int old_best, new_best;		/* final scores; -1 when none */
};

/* Call `cb` for each student of regrade `id`, by username: the best score
 * now and with the regrade applied. Strings live for the call only. Returns
 * STORE_OK, STORE_ERROR or what a nonzero `cb` returned. */
int store_regrade_preview(struct store *s, long long id,
    int (*cb)(const struct store_regrade_row *row, void *arg), void *arg);

/* Apply (`apply`) or discard running regrade `id` in one transaction: applied
 * results replace the submissions' scores, messages and tests; each student's
 * old and new best go into the audit table as `actor_id`. Returns STORE_OK,
 * STORE_NOTFOUND (no such running regrade), STORE_LIMIT (apply while items
 * still wait) or STORE_ERROR. */
int store_finish_regrade(struct store *s, long long id, int apply, long long actor_id,
    long long now);

/* At start: put every submission and regrade item left `grading` (by a crash
 * or a stop) back in the queue, except those whose gradings were started
 * STORE_ATTEMPTS_MAX times already (the attempt that never ended counts):
 * they become `error` with the sentence `gave_up`, graded at `now`, and are
 * never taken again by themselves. `*requeued` and `*failed` (each may be
 * NULL) say how many. One transaction. */
int store_requeue_grading(struct store *s, const char *gave_up, long long now,
    long long *requeued, long long *failed);

/* Submissions queued or grading. */
int store_queue_length(struct store *s, long long *n);

struct store_test {
	char *name, *description, *outcome, *message, *detail;
	int passed, points, max_points;
};

struct store_submission {
	long long id;
	long long user_id;
	char username[STORE_USERNAME_MAX + 1];
	long long exercise_id;
	char slug[COURSE_SLUG_MAX + 1];
	char status[16];
	int has_score;
	int score;
	int max_points;
	char *message;
	char *flags;			/* comma-separated */
	char *output;
	long long created_at;
	long long graded_at;		/* 0 when not graded */
	int attempts;
	long long position;		/* 1 = next in the queue; 0 when not queued */
	int late;			/* handed in after the due date */
	int days_late;			/* started days after it; 0 when on time */
	int penalised_score;		/* score less the late penalty; -1: none */
	int final_score;		/* what counts: the override or the
					 * penalised score; -1 when nothing counts */
	int override_score;		/* set by the teacher; -1 when none */
	char *override_comment;		/* "" when none; shown to the student */
	long long override_at;
	char override_by[STORE_USERNAME_MAX + 1];
	char tests_hash[STORE_TOKEN_MAX + 1];	/* the hidden tests it was graded with */
	struct store_test *tests;
	size_t n_tests;
};

/* Read submission `id` with its tests. Returns STORE_OK, STORE_NOTFOUND or
 * STORE_ERROR. Free with store_submission_free(), also after a failure. */
int store_get_submission(struct store *s, long long id, struct store_submission *sub);

void store_submission_free(struct store_submission *sub);

/* Call `cb` for each submission, newest first, of `user_id` and `exercise_id`
 * (0: any). The row has no tests or output; strings live for the call only.
 * Returns STORE_OK, STORE_ERROR or what a nonzero `cb` returned. */
int store_list_submissions(struct store *s, long long user_id, long long exercise_id,
    int (*cb)(const struct store_submission *sub, void *arg), void *arg);

#define STORE_COMMENT_MAX	2000	/* an override's comment, in bytes */

/* Set the score of submission `id` by hand to `score` (hundredths, 0 to its
 * max_points), or remove the override when `score` is -1, with `comment` for
 * the student, as teacher `actor_id`; the change (old -> new final score, in
 * points) goes into the audit table in the same transaction. Returns STORE_OK, STORE_NOTFOUND, STORE_LIMIT
 * (the score is above the submission's max_points) or STORE_ERROR. */
int store_override_submission(struct store *s, long long id, int score, const char *comment,
    long long actor_id, long long now);

struct store_grade_again {
	long long exercise_id;		/* of the submission; 0 when not found */
	long long waiting_id;		/* STORE_LIMIT: the one graded again that waits */
	char slug[COURSE_SLUG_MAX + 1];	/* of the exercise */
};

/* Put submission `id` back in the queue, as teacher `actor_id`, to be graded
 * with its exercise's current hidden tests; store_finish_submission() then
 * replaces its score, message, flags, output, tests and tests_hash as for a
 * first grading, and a teacher's override stays in force. Its attempts start
 * over. The queue is in id order, so it is graded before the uploads waiting
 * now: to keep that fair, at most one submission graded again waits at a
 * time (a published exercise's; STORE_LIMIT, `waiting_id` says which). The
 * graded score (old -> "graded again") goes into the audit table in the same
 * transaction. Returns STORE_OK, STORE_NOTFOUND, STORE_EXISTS (queued or
 * grading already), STORE_UNPUBLISHED, STORE_LIMIT or STORE_ERROR; `g` says
 * the submission's exercise whenever it exists. */
int store_grade_again(struct store *s, long long id, long long actor_id, long long now,
    struct store_grade_again *g);

struct store_grade {
	long long user_id;
	const char *username, *name, *email;
	const char *slug;
	int max_points;
	int best_score;			/* -1 when nothing graded */
	long long submitted_at;		/* of the best submission; 0 when none */
	int late;			/* the best was late: 1, 0; -1 when nothing graded */
	long long attempts;		/* every upload, graded or not */
	long long total;
};

/* Call `cb` for every row of the gradebook view, by username then slug.
 * Returns STORE_OK, STORE_ERROR or what a nonzero `cb` returned. */
int store_gradebook(struct store *s, int (*cb)(const struct store_grade *g, void *arg),
    void *arg);

/* One row of a roster import. `name` and `email` NULL: keep what is stored
 * (a new student's name is then the username). `password` and
 * `password_hash` are the one-time password of a student not yet stored. */
struct store_roster_row {
	size_t line;			/* in the file, for errors */
	const char *username, *name, *email;
	const char *password, *password_hash;
};

struct store_roster_counts {
	size_t added, updated, unchanged;
};

/* Apply a roster in one transaction: add the students not yet stored with
 * their one-time password, update the names and emails of the others, and
 * write each change to the audit table as `actor_id` (0: the command line).
 * Nothing is deleted and no password is reset. Returns STORE_OK, STORE_EXISTS
 * (a row names a teacher; `*bad_line` says which), STORE_NOTFOUND (a new
 * student without a password: the roster changed meanwhile), or
 * STORE_ERROR; on failure nothing is changed. */
int store_import_roster(struct store *s, const struct store_roster_row *rows, size_t n,
    long long actor_id, long long now, struct store_roster_counts *counts,
    size_t *bad_line);

struct store_student {
	const char *username, *name, *email;
	const char *initial_password;	/* NULL once the student chose one */
	int must_change;
};

/* Call `cb` for every student, by username. Strings live for the call only.
 * Returns STORE_OK, STORE_ERROR or what a nonzero `cb` returned. */
int store_list_students(struct store *s,
    int (*cb)(const struct store_student *st, void *arg), void *arg);

/* Give student `username` a new one-time password (`password`, hashed as
 * `password_hash`), end their sessions and audit it as `actor_id`. Returns
 * STORE_OK, STORE_NOTFOUND (no such student) or STORE_ERROR. */
int store_reset_password(struct store *s, const char *username, const char *password,
    const char *password_hash, long long actor_id, long long now);

/* Set the password a user chose: forgets the one-time password and lets
 * the user do everything again. Returns STORE_OK or STORE_ERROR. */
int store_set_password(struct store *s, long long user_id, const char *password_hash);

/* Write a consistent copy of the database to `path`, which must not exist or
 * be empty, while other connections go on writing (VACUUM INTO). Returns
 * STORE_OK or STORE_ERROR (store_errmsg() says why). */
int store_backup(struct store *s, const char *path);

/* The database file this connection uses. Owned by `s`. */
const char *store_filename(struct store *s);

/* The source of submission `id` and the id of its student. Returns STORE_OK
 * with `*source` (NUL-terminated, `*len` bytes; the caller frees it),
 * STORE_NOTFOUND or STORE_ERROR. */
int store_get_source(struct store *s, long long id, long long *user_id, char **source,
    size_t *len);

/* Uploads in each of the `minutes` minutes before `now`: counts[0] is the
 * last minute, counts[minutes - 1] the oldest. Returns STORE_OK or STORE_ERROR. */
int store_recent_uploads(struct store *s, long long now, int minutes, long long *counts);

struct store_pass_rate {
	const char *slug, *title;
	int position;			/* in the exercise's test plan */
	const char *name, *description;
	long long passed;		/* students whose latest graded submission passed */
	long long attempted;		/* students whose latest graded submission ran it */
};

/* Call `cb` for every test of every published exercise, by slug and plan
 * position, with how the class's latest graded submissions fared on it.
 * Strings live for the call only. Returns STORE_OK, STORE_ERROR or what a
 * nonzero `cb` returned. */
int store_pass_rates(struct store *s, int (*cb)(const struct store_pass_rate *p, void *arg),
    void *arg);

/* Call `cb` for at most `max` submissions queued or grading: those grading
 * first, then the queue in order. Rows as store_list_submissions() gives them. */
int store_list_waiting(struct store *s, int max,
    int (*cb)(const struct store_submission *sub, void *arg), void *arg);

/* The database's size in bytes (its pages, used and free). */
int store_size(struct store *s, long long *bytes);

#endif

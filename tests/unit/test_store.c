#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"
#include "store.h"
#include "unit.h"

static char dir[64];
static char path[128];

static struct store *
fresh(void)
{
	char err[512];
	struct store *s;

	unlink(path);
	snprintf(err, sizeof err, "%s-wal", path);
	unlink(err);
	snprintf(err, sizeof err, "%s-shm", path);
	unlink(err);
	if ((s = store_open(path, err, sizeof err)) == NULL)
		fprintf(stderr, "store_open: %s\n", err);
	return s;
}

static long long
pragma(const char *file, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long long v = -1;

	if (sqlite3_open(file, &db) != SQLITE_OK)
		return -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* Rows of best_scores (kept by triggers) that differ from best_of (computed
 * now from every submission), counted both ways: 0 when the triggers kept up. */
static long long
stale_best_scores(void)
{
	return pragma(path, "SELECT (SELECT count(*) FROM (SELECT * FROM best_scores EXCEPT "
	    "SELECT * FROM best_of)) + (SELECT count(*) FROM (SELECT * FROM best_of EXCEPT "
	    "SELECT * FROM best_scores))");
}

static void
sql(const char *file, const char *text)
{
	sqlite3 *db;

	if (sqlite3_open(file, &db) != SQLITE_OK ||
	    sqlite3_exec(db, text, NULL, NULL, NULL) != SQLITE_OK)
		fprintf(stderr, "sql: %s\n", sqlite3_errmsg(db));
	sqlite3_close(db);
}

/* A published exercise with a two-test plan, due at `due` (0: never) with a
 * late policy (`penalty` -1: none). */
static long long
add_exercise(struct store *s, const char *slug, int max_points, long long due, int penalty,
    int max_days)
{
	struct plan_test tests[2] = {
		{ "t.py::test_a", "test_a", "A.", max_points / 2 },
		{ "t.py::test_b", "test_b", "", max_points - max_points / 2 },
	};
	struct test_plan plan = { .tests = tests, .n = 2, .max_points = max_points };
	struct exercise ex;
	long long id = 0;

	memset(&ex, 0, sizeof ex);
	snprintf(ex.slug, sizeof ex.slug, "%s", slug);
	ex.title = (char *)"An exercise";
	ex.phase = 1;
	ex.max_points = max_points;
	ex.due_at = due ? (char *)"(due)" : NULL;
	ex.due = (time_t)due;
	ex.late = penalty >= 0;
	ex.late_penalty = penalty >= 0 ? (unsigned)penalty : 0;
	ex.late_max_days = (unsigned)max_days;
	ex.scaffold = (char *)"import marimo\n";
	ex.scaffold_len = strlen(ex.scaffold);
	if (store_put_exercise(s, &ex, "after_due", "abc", &plan, NULL, 1, &id) != STORE_OK)
		fprintf(stderr, "store_put_exercise: %s\n", store_errmsg(s));
	return id;
}

static long long
exercise(struct store *s, const char *slug, int max_points)
{
	return add_exercise(s, slug, max_points, 0, -1, 0);
}

static long long
late_exercise(struct store *s, const char *slug, long long due, int penalty, int max_days)
{
	return add_exercise(s, slug, 10, due, penalty, max_days);
}

static long long
student(struct store *s, const char *name)
{
	long long id = 0;

	store_add_user(s, name, name, "student", "$2b$11$x", 1, &id);
	return id;
}

/* Grade submission `id` as done with `score`. */
static void
grade(struct store *s, long long id, int score, int max, enum grade_status status)
{
	struct grade_test t = { (char *)"test_a", (char *)"A.", score > 0, score, max,
		(char *)"failed", (char *)"assert False", (char *)"Traceback", 0 };
	char *flags[] = { (char *)"eval", (char *)"frame" };
	struct grade_result r = { status, score, max, (char *)"", flags, 2, &t, 1,
		(char *)"output", 0.1, 0 };

	if (store_finish_submission(s, id, &r, "abc", 0, 2) != STORE_OK)
		fprintf(stderr, "store_finish_submission: %s\n", store_errmsg(s));
}

static long long
submit(struct store *s, long long user, long long ex)
{
	long long id = 0;

	if (store_add_submission(s, user, ex, 10, "x = 1\n", 6, 1000, 1, &id) != STORE_OK)
		fprintf(stderr, "store_add_submission: %s\n", store_errmsg(s));
	return id;
}

struct claimer {
	int claimed[200];
	int n;
	int errors;
};

static void *
claim_all(void *arg)
{
	struct claimer *c = arg;
	struct store_claim cl;
	char err[256];
	struct store *s = store_open(path, err, sizeof err);
	int rc;

	if (s == NULL) {
		c->errors++;
		return NULL;
	}
	while ((rc = store_claim_submission(s, &cl)) != STORE_NOTFOUND) {
		if (rc != STORE_OK) {
			c->errors++;
			break;
		}
		if (c->n < 200)
			c->claimed[c->n++] = (int)cl.id;
		store_claim_free(&cl);
	}
	store_close(s);
	return NULL;
}

struct rows {
	char text[2048];
};

static int
gradebook_row(const struct store_grade *g, void *arg)
{
	struct rows *r = arg;
	size_t n = strlen(r->text);

	snprintf(r->text + n, sizeof r->text - n, "%s/%s=%d/%lld;", g->username, g->slug,
	    g->best_score, g->total);
	return 0;
}

static int
preview_row(const struct store_regrade_row *row, void *arg)
{
	struct rows *r = arg;
	size_t n = strlen(r->text);

	snprintf(r->text + n, sizeof r->text - n, "%s:%d->%d;", row->username, row->old_best,
	    row->new_best);
	return 0;
}

int
main(void)
{
	struct store *s;
	char err[512];

	snprintf(dir, sizeof dir, "/tmp/markbook-store-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof path, "%s/markbook.db", dir);

	TEST("store_open creates a markbook database at the current version") {
		s = fresh();
		CHECK(s != NULL);
		store_close(s);
		CHECK(pragma(path, "PRAGMA application_id") == STORE_APPLICATION_ID);
		CHECK(pragma(path, "PRAGMA user_version") == 2);
		CHECK(pragma(path, "SELECT journal_mode = 'wal' FROM pragma_journal_mode") == 1);
		CHECK(pragma(path, "SELECT count(*) FROM sqlite_schema WHERE name = 'gradebook'") == 1);
	}
	TEST("store_open opens an existing database and keeps its rows") {
		s = fresh();
		CHECK(student(s, "ada") > 0);
		store_close(s);
		s = store_open(path, err, sizeof err);
		CHECK(s != NULL);
		if (s) {
			struct store_user u;

			CHECK(store_get_user(s, "ada", &u) == STORE_OK);
			CHECK_STR(u.role, "student");
			store_close(s);
		}
	}
	TEST("store_open refuses a file that is not SQLite, and says so") {
		unlink(path);
		fs_write_file(path, "name,score\nada,10\n", 18, 0644);
		s = store_open(path, err, sizeof err);
		CHECK(s == NULL);
		CHECK(strstr(err, "not a markbook database") != NULL);
		store_close(s);
	}
	TEST("store_open refuses another program's SQLite database and leaves it alone") {
		unlink(path);
		sql(path, "CREATE TABLE photos (id INTEGER)");
		s = store_open(path, err, sizeof err);
		CHECK(s == NULL);
		CHECK(strstr(err, "another program") != NULL);
		CHECK(pragma(path, "PRAGMA application_id") == 0);
		CHECK(pragma(path, "SELECT count(*) FROM sqlite_schema") == 1);
		store_close(s);
	}
	TEST("store_open refuses a database from a newer markbook") {
		s = fresh();
		store_close(s);
		sql(path, "PRAGMA user_version = 99");
		s = store_open(path, err, sizeof err);
		CHECK(s == NULL);
		CHECK(strstr(err, "newer markbook") != NULL);
		store_close(s);
	}
	TEST("store_add_user refuses a taken username") {
		s = fresh();
		CHECK(store_add_user(s, "ada", "Ada", "student", "h", 1, NULL) == STORE_OK);
		CHECK(store_add_user(s, "ada", "Other", "teacher", "h", 1, NULL) == STORE_EXISTS);
		CHECK(store_add_user(s, "bob", "Bob", "admin", "h", 1, NULL) == STORE_ERROR);
		store_close(s);
	}
	TEST("store_get_session finds an unexpired session only") {
		struct store_user u;
		char csrf[STORE_TOKEN_MAX + 1];
		long long id = student(s = fresh(), "ada");

		CHECK(store_add_session(s, "h1", id, "c1", 100, 200) == STORE_OK);
		CHECK(store_get_session(s, "h1", 150, &u, csrf) == STORE_OK);
		CHECK_STR(u.username, "ada");
		CHECK_STR(csrf, "c1");
		CHECK(store_get_session(s, "h1", 200, &u, csrf) == STORE_NOTFOUND);
		CHECK(store_get_session(s, "h2", 150, &u, csrf) == STORE_NOTFOUND);
		CHECK(store_delete_session(s, "h1", 150) == STORE_OK);
		CHECK(store_get_session(s, "h1", 150, &u, csrf) == STORE_NOTFOUND);
		store_close(s);
	}
	TEST("store_add_submission refuses a fourth waiting submission") {
		long long ex, ada, id;

		s = fresh();
		ex = exercise(s, "ex1", 10);
		ada = student(s, "ada");
		for (int i = 0; i < 3; i++)
			CHECK(store_add_submission(s, ada, ex, 10, "x", 1, 3, 1, &id) == STORE_OK);
		CHECK(store_add_submission(s, ada, ex, 10, "x", 1, 3, 1, &id) == STORE_LIMIT);
		CHECK(pragma(path, "SELECT count(*) FROM submissions") == 3);
		grade(s, 1, 5, 10, GRADE_DONE);
		CHECK(store_add_submission(s, ada, ex, 10, "x", 1, 3, 1, &id) == STORE_OK);
		store_close(s);
	}
	TEST("store_claim_submission takes the oldest queued submission with its source") {
		struct store_claim c;
		long long ex, ada;

		s = fresh();
		ex = exercise(s, "ex1", 10);
		ada = student(s, "ada");
		submit(s, ada, ex);
		submit(s, ada, ex);
		CHECK(store_claim_submission(s, &c) == STORE_OK);
		CHECK(c.id == 1 && c.exercise_id == ex && c.attempts == 1);
		CHECK_STR(c.source, "x = 1\n");
		store_claim_free(&c);
		CHECK(store_claim_submission(s, &c) == STORE_OK);
		CHECK(c.id == 2);
		store_claim_free(&c);
		CHECK(store_claim_submission(s, &c) == STORE_NOTFOUND);
		store_close(s);
	}
	TEST("store_claim_submission gives each submission to one of four threads") {
		struct claimer cl[4];
		pthread_t th[4];
		int seen[121] = { 0 }, total = 0, dup = 0, errors = 0;
		long long ex, ada;

		s = fresh();
		ex = exercise(s, "ex1", 10);
		ada = student(s, "ada");
		for (int i = 0; i < 120; i++)
			submit(s, ada, ex);
		memset(cl, 0, sizeof cl);
		for (int i = 0; i < 4; i++)
			pthread_create(&th[i], NULL, claim_all, &cl[i]);
		for (int i = 0; i < 4; i++) {
			pthread_join(th[i], NULL);
			errors += cl[i].errors;
			for (int k = 0; k < cl[i].n; k++) {
				total++;
				if (cl[i].claimed[k] < 1 || cl[i].claimed[k] > 120 ||
				    seen[cl[i].claimed[k]]++)
					dup++;
			}
		}
		CHECK(errors == 0);
		CHECK(total == 120);
		CHECK(dup == 0);
		store_close(s);
	}
	TEST("store_requeue_grading puts claimed submissions back in the queue") {
		struct store_claim c;
		long long n = 0, ex, ada;

		s = fresh();
		ex = exercise(s, "ex1", 10);
		ada = student(s, "ada");
		submit(s, ada, ex);
		submit(s, ada, ex);
		store_claim_submission(s, &c);
		store_claim_free(&c);
		CHECK(store_requeue_grading(s, "gave up", 5, &n, NULL) == STORE_OK);
		CHECK(n == 1);
		CHECK(pragma(path, "SELECT count(*) FROM submissions WHERE status = 'queued'") == 2);
		CHECK(store_claim_submission(s, &c) == STORE_OK);
		CHECK(c.id == 1 && c.attempts == 2);
		store_claim_free(&c);
		store_close(s);
	}
	TEST("a grading interrupted at every start ends as error at its third attempt") {
		struct store_submission sub;
		struct store_claim c;
		long long n = 0, failed = 0, ex, ada, id, other;

		s = fresh();
		ex = exercise(s, "ex1", 10);
		ada = student(s, "ada");
		id = submit(s, ada, ex);
		for (int start = 1; start <= 3; start++) {
			/* markbook starts, takes it, and dies while grading it. */
			CHECK(store_requeue_grading(s, "gave up", 5, &n, &failed) == STORE_OK);
			CHECK(n == (start > 1) && failed == 0);
			CHECK(store_claim_submission(s, &c) == STORE_OK);
			CHECK(c.id == id && c.attempts == start);
			store_claim_free(&c);
		}
		other = submit(s, ada, ex);
		CHECK(store_requeue_grading(s, "markbook stopped 3 times.", 7, &n, &failed) ==
		    STORE_OK);
		CHECK(n == 0 && failed == 1);
		CHECK(store_get_submission(s, id, &sub) == STORE_OK);
		CHECK_STR(sub.status, "error");
		CHECK_STR(sub.message, "markbook stopped 3 times.");
		CHECK(sub.score == 0 && sub.attempts == 3 && sub.graded_at == 7);
		store_submission_free(&sub);
		/* Never taken again at a start; the next upload is. */
		CHECK(store_requeue_grading(s, "gave up", 8, &n, &failed) == STORE_OK);
		CHECK(n == 0 && failed == 0);
		CHECK(store_claim_submission(s, &c) == STORE_OK && c.id == other);
		store_claim_free(&c);
		CHECK(store_claim_submission(s, &c) == STORE_NOTFOUND);
		/* Grade again gives it three attempts anew. */
		{
			struct store_grade_again ga;

			CHECK(store_grade_again(s, id, 0, 9, &ga) == STORE_OK);
		}
		CHECK(store_claim_submission(s, &c) == STORE_OK && c.id == id && c.attempts == 1);
		store_claim_free(&c);
		store_close(s);
	}
	TEST("attempts count failures and interruptions together, not a broken sandbox") {
		struct grade_result r = { GRADE_ERROR, 0, 10, (char *)"The grading process was "
			"killed by signal 11 (SIGSEGV).", NULL, 0, NULL, 0, NULL, 0, 0 };
		struct store_submission sub;
		struct store_claim c;
		long long n, failed, ex, ada, id;

		s = fresh();
		ex = exercise(s, "ex1", 10);
		ada = student(s, "ada");
		id = submit(s, ada, ex);
		store_claim_submission(s, &c);
		store_claim_free(&c);
		CHECK(store_finish_submission(s, id, &r, "", STORE_RETRY_UNCOUNTED, 2) == STORE_OK);
		store_claim_submission(s, &c);
		CHECK(c.attempts == 1);		/* the broken sandbox's attempt was given back */
		store_claim_free(&c);
		CHECK(store_finish_submission(s, id, &r, "", STORE_RETRY, 3) == STORE_OK);
		store_claim_submission(s, &c);
		CHECK(c.attempts == 2);
		store_claim_free(&c);
		/* markbook stops in the second; the third is the last. */
		CHECK(store_requeue_grading(s, "gave up", 4, &n, &failed) == STORE_OK);
		CHECK(n == 1 && failed == 0);
		CHECK(store_get_submission(s, id, &sub) == STORE_OK);
		CHECK_STR(sub.message, "The grading process was killed by signal 11 (SIGSEGV).");
		store_submission_free(&sub);
		store_claim_submission(s, &c);
		CHECK(c.attempts == 3);
		store_claim_free(&c);
		CHECK(store_requeue_grading(s, "gave up", 5, &n, &failed) == STORE_OK);
		CHECK(n == 0 && failed == 1);
		CHECK(pragma(path, "SELECT count(*) FROM submissions WHERE status = 'error' AND "
		    "message = 'gave up'") == 1);
		store_close(s);
	}
	TEST("store_get_submission reads the grading back with tests and queue position") {
		struct store_submission sub;
		long long ex, ada, a, b;

		s = fresh();
		ex = exercise(s, "ex1", 10);
		ada = student(s, "ada");
		a = submit(s, ada, ex);
		b = submit(s, ada, ex);
		CHECK(store_get_submission(s, b, &sub) == STORE_OK);
		CHECK(sub.position == 2);
		CHECK_STR(sub.status, "queued");
		CHECK(!sub.has_score);
		store_submission_free(&sub);
		grade(s, a, 5, 10, GRADE_DONE);
		CHECK(store_get_submission(s, a, &sub) == STORE_OK);
		CHECK_STR(sub.status, "done");
		CHECK(sub.has_score && sub.score == 5 && sub.max_points == 10);
		CHECK_STR(sub.flags, "eval,frame");
		CHECK_STR(sub.output, "output");
		CHECK_STR(sub.username, "ada");
		CHECK_STR(sub.slug, "ex1");
		CHECK(sub.n_tests == 1 && sub.tests[0].points == 5);
		CHECK(sub.n_tests == 1 && strcmp(sub.tests[0].detail, "Traceback") == 0);
		CHECK(sub.position == 0 && sub.graded_at == 2);
		store_submission_free(&sub);
		CHECK(store_get_submission(s, b, &sub) == STORE_OK);
		CHECK(sub.position == 1);
		store_submission_free(&sub);
		CHECK(store_get_submission(s, 99, &sub) == STORE_NOTFOUND);
		store_submission_free(&sub);
		store_close(s);
	}
	TEST("the gradebook view keeps the best done score per student and adds them up") {
		struct rows r = { "" };
		long long e1, e2, ada, bob;
		struct store_claim c;

		s = fresh();
		e1 = exercise(s, "ex1", 10);
		e2 = exercise(s, "ex2", 20);
		ada = student(s, "ada");
		bob = student(s, "bob");
		store_add_user(s, "teacher", "T", "teacher", "h", 1, NULL);
		grade(s, submit(s, ada, e1), 4, 10, GRADE_DONE);
		grade(s, submit(s, ada, e1), 9, 10, GRADE_DONE);
		grade(s, submit(s, ada, e1), 6, 10, GRADE_DONE);
		grade(s, submit(s, ada, e2), 20, 20, GRADE_ERROR);	/* not graded */
		grade(s, submit(s, ada, e2), 7, 20, GRADE_DONE);
		grade(s, submit(s, bob, e2), 0, 20, GRADE_DONE);
		submit(s, bob, e1);					/* still queued */
		store_claim_submission(s, &c);
		store_claim_free(&c);
		CHECK(store_gradebook(s, gradebook_row, &r) == STORE_OK);
		CHECK_STR(r.text, "ada/ex1=9/16;ada/ex2=7/16;bob/ex1=-1/0;bob/ex2=0/0;");
		store_close(s);
		CHECK(stale_best_scores() == 0);
	}
	TEST("the gradebook keeps scores of an exercise no longer in the course") {
		struct rows r = { "" };
		long long e1, ada;

		s = fresh();
		e1 = exercise(s, "ex1", 10);
		exercise(s, "ex2", 10);
		ada = student(s, "ada");
		grade(s, submit(s, ada, e1), 4, 10, GRADE_DONE);
		CHECK(store_unpublish_except(s, NULL, 0) == STORE_OK);
		CHECK(store_gradebook(s, gradebook_row, &r) == STORE_OK);
		CHECK_STR(r.text, "ada/ex1=4/4;");
		store_close(s);
		CHECK(stale_best_scores() == 0);
	}
	TEST("a reload unpublishes only what is gone, and only published work is claimed") {
		const char *keep[] = { "ex2" };
		struct store_claim c;
		long long e1, e2, ada, first, second;

		s = fresh();
		e1 = exercise(s, "ex1", 10);
		e2 = exercise(s, "ex2", 10);
		ada = student(s, "ada");
		first = submit(s, ada, e1);
		second = submit(s, ada, e2);
		CHECK(store_unpublish_except(s, keep, 1) == STORE_OK);
		CHECK(pragma(path, "SELECT published FROM exercises WHERE slug = 'ex2'") == 1);
		CHECK(pragma(path, "SELECT published FROM exercises WHERE slug = 'ex1'") == 0);
		/* ex1's upload is older but waits: its exercise is not published. */
		CHECK(store_claim_submission(s, &c) == STORE_OK && c.id == second);
		store_claim_free(&c);
		CHECK(store_claim_submission(s, &c) == STORE_NOTFOUND);
		CHECK(pragma(path, "SELECT count(*) FROM submissions WHERE status = 'queued'") == 1);
		CHECK(first > 0);
		store_close(s);
	}
	TEST("store_finish_submission with retry requeues without a score") {
		struct store_submission sub;
		struct store_claim c;
		long long ex, ada, id;

		s = fresh();
		ex = exercise(s, "ex1", 10);
		ada = student(s, "ada");
		id = submit(s, ada, ex);
		store_claim_submission(s, &c);
		store_claim_free(&c);
		{
			struct grade_result r = { GRADE_ERROR, 0, 10, (char *)"sandbox down",
				NULL, 0, NULL, 0, NULL, 0, 0 };

			CHECK(store_finish_submission(s, id, &r, "abc", STORE_RETRY, 3) == STORE_OK);
		}
		CHECK(store_get_submission(s, id, &sub) == STORE_OK);
		CHECK_STR(sub.status, "queued");
		CHECK(!sub.has_score && sub.attempts == 1);
		store_submission_free(&sub);
		store_close(s);
	}
	TEST("store_add_audit keeps who changed what, from which value to which") {
		struct store_audit a = { .at = 1000, .action = "override", .subject = "submission 7",
			.old_value = "4", .new_value = "9", .comment = "partial credit" };
		long long teacher;

		s = fresh();
		teacher = student(s, "tina");
		a.actor_id = teacher;
		CHECK(store_add_audit(s, &a) == STORE_OK);
		a.actor_id = 0;
		a.comment = NULL;
		CHECK(store_add_audit(s, &a) == STORE_OK);
		store_close(s);
		CHECK(pragma(path, "SELECT count(*) FROM audit WHERE action = 'override' AND "
		    "subject = 'submission 7' AND old_value = '4' AND new_value = '9'") == 2);
		CHECK(pragma(path, "SELECT count(*) FROM audit WHERE actor_id IS NULL AND "
		    "comment = ''") == 1);
		CHECK(pragma(path, "SELECT actor_id FROM audit WHERE comment = 'partial credit'") ==
		    teacher);
	}
	TEST("submission_scores takes the late penalty per started day, and 0 after max_days") {
		struct store_submission sub;
		/* Handed in on time, 1 s late, a day late, a day and 1 s, 7 days, 7 days and 1 s. */
		long long at[] = { 1000, 1001, 1000 + 86400, 1001 + 86400, 1000 + 7 * 86400,
			1001 + 7 * 86400 };
		int days[] = { 0, 1, 1, 2, 7, 8 }, score[] = { 10, 9, 9, 8, 3, 0 };
		long long ex, ada, id;

		s = fresh();
		ex = late_exercise(s, "ex1", 1000, 10, 7);
		ada = student(s, "ada");
		for (int i = 0; i < 6; i++) {
			CHECK(store_add_submission(s, ada, ex, 10, "x", 1, 100, at[i], &id) == STORE_OK);
			grade(s, id, 10, 10, GRADE_DONE);
			CHECK(store_get_submission(s, id, &sub) == STORE_OK);
			CHECK(sub.late == (i > 0) && sub.days_late == days[i]);
			CHECK(sub.score == 10 && sub.penalised_score == score[i] &&
			    sub.final_score == score[i]);
			store_submission_free(&sub);
		}
		store_close(s);
	}
	TEST("submission_scores rounds a penalty to the nearest hundredth of a point and marks late "
	    "without a policy") {
		struct store_submission sub;
		long long ex, ex2, ada, id;

		s = fresh();
		ex = late_exercise(s, "ex1", 1000, 15, 7);
		ex2 = late_exercise(s, "ex2", 1000, -1, 0);
		ada = student(s, "ada");
		store_add_submission(s, ada, ex, 10, "x", 1, 100, 2000, &id);
		grade(s, id, 7, 10, GRADE_DONE);		/* 0.07 * 0.85 = 0.0595 */
		CHECK(store_get_submission(s, id, &sub) == STORE_OK);
		CHECK(sub.late && sub.penalised_score == 6);
		store_submission_free(&sub);
		store_add_submission(s, ada, ex, 10, "x", 1, 100, 2000, &id);
		grade(s, id, 733, 1000, GRADE_DONE);		/* 7.33 * 0.85 = 6.2305 */
		CHECK(store_get_submission(s, id, &sub) == STORE_OK);
		CHECK(sub.late && sub.penalised_score == 623);
		store_submission_free(&sub);
		store_add_submission(s, ada, ex2, 10, "x", 1, 100, 2000, &id);
		grade(s, id, 7, 10, GRADE_DONE);
		CHECK(store_get_submission(s, id, &sub) == STORE_OK);
		CHECK(sub.late && sub.days_late == 1 && sub.penalised_score == 7);
		store_submission_free(&sub);
		store_close(s);
	}
	TEST("store_override_submission replaces the score, audits old and new, and can be "
	    "removed") {
		struct store_submission sub;
		struct rows r = { "" };
		long long ex, ada, tina, id;

		s = fresh();
		ex = late_exercise(s, "ex1", 1000, 50, 7);
		ada = student(s, "ada");
		tina = student(s, "tina");
		store_add_submission(s, ada, ex, 1000, "x", 1, 100, 2000, &id);
		grade(s, id, 800, 1000, GRADE_DONE);		/* late: 4 points */
		CHECK(store_override_submission(s, id, 1001, "too much", tina, 5000) == STORE_LIMIT);
		CHECK(store_override_submission(s, 99, 500, "nobody", tina, 5000) == STORE_NOTFOUND);
		CHECK(store_override_submission(s, id, 750, "Ill that day", tina, 5000) == STORE_OK);
		CHECK(store_get_submission(s, id, &sub) == STORE_OK);
		CHECK(sub.score == 800 && sub.penalised_score == 400 && sub.final_score == 750 &&
		    sub.override_score == 750 && sub.override_at == 5000);
		CHECK_STR(sub.override_comment, "Ill that day");
		CHECK_STR(sub.override_by, "tina");
		store_submission_free(&sub);
		CHECK(store_gradebook(s, gradebook_row, &r) == STORE_OK);
		CHECK(strstr(r.text, "ada/ex1=750/750;") != NULL);
		CHECK(store_override_submission(s, id, -1, "back to the graded score", tina, 6000) ==
		    STORE_OK);
		CHECK(store_get_submission(s, id, &sub) == STORE_OK);
		CHECK(sub.override_score == -1 && sub.final_score == 400);
		CHECK_STR(sub.override_comment, "");
		store_submission_free(&sub);
		store_close(s);
		CHECK(stale_best_scores() == 0);
		CHECK(pragma(path, "SELECT count(*) FROM audit WHERE action = 'override' AND "
		    "subject = 'submission 1 (ada, ex1)' AND old_value = '4/10' AND "
		    "new_value = '7.5/10' AND comment = 'Ill that day' AND at = 5000") == 1);
		CHECK(pragma(path, "SELECT count(*) FROM audit WHERE action = 'override-removed' AND "
		    "old_value = '7.5/10' AND new_value = '4/10'") == 1);
		CHECK(pragma(path, "SELECT count(*) FROM audit") == 2);
	}
	TEST("store_grade_again queues one graded submission next, one at a time, keeping the "
	    "override") {
		struct store_grade_again g;
		struct store_submission sub;
		struct store_claim c;
		struct grade_test gt = { (char *)"test_b", (char *)"B.", 1, 900, 1000,
			(char *)"passed", (char *)"", (char *)"", 0 };
		struct grade_result res = { GRADE_DONE, 900, 1000, (char *)"again", NULL, 0, &gt, 1,
			(char *)"out", 0.1, 0 };
		long long e1, ada, bob, tina, a1, b1, q, id;

		s = fresh();
		e1 = exercise(s, "ex1", 1000);
		ada = student(s, "ada");
		bob = student(s, "bob");
		tina = student(s, "tina");
		grade(s, a1 = submit(s, ada, e1), 425, 1000, GRADE_DONE);
		grade(s, b1 = submit(s, bob, e1), 600, 1000, GRADE_DONE);
		CHECK(store_override_submission(s, a1, 700, "Ill that day", tina, 5) == STORE_OK);
		CHECK(store_grade_again(s, 99, tina, 10, &g) == STORE_NOTFOUND);
		q = submit(s, bob, e1);
		CHECK(store_grade_again(s, q, tina, 10, &g) == STORE_EXISTS);
		CHECK(store_grade_again(s, a1, tina, 10, &g) == STORE_OK && g.exercise_id == e1);
		CHECK_STR(g.slug, "ex1");
		CHECK(store_grade_again(s, a1, tina, 10, &g) == STORE_EXISTS);
		CHECK(store_grade_again(s, b1, tina, 10, &g) == STORE_LIMIT && g.waiting_id == a1);
		/* The teacher's request is not one of the student's waiting uploads. */
		CHECK(store_add_submission(s, ada, e1, 10, "x", 1, 1, 11, &id) == STORE_OK);
		CHECK(store_claim_submission(s, &c) == STORE_OK && c.id == a1 && c.attempts == 1);
		store_claim_free(&c);
		CHECK(store_grade_again(s, b1, tina, 12, &g) == STORE_OK);
		CHECK(store_finish_submission(s, a1, &res, "new", 0, 20) == STORE_OK);
		CHECK(store_get_submission(s, a1, &sub) == STORE_OK);
		CHECK(sub.score == 900 && sub.final_score == 700 && sub.override_score == 700 &&
		    sub.n_tests == 1 && sub.tests[0].points == 900 && sub.graded_at == 20);
		CHECK_STR(sub.status, "done");
		CHECK_STR(sub.tests[0].name, "test_b");
		CHECK_STR(sub.tests_hash, "new");
		store_submission_free(&sub);
		CHECK(store_unpublish_except(s, NULL, 0) == STORE_OK);
		CHECK(store_grade_again(s, a1, tina, 30, &g) == STORE_UNPUBLISHED);
		store_close(s);
		CHECK(stale_best_scores() == 0);
		CHECK(pragma(path, "SELECT count(*) FROM audit WHERE action = 'grade-again' AND "
		    "subject = 'submission 1 (ada, ex1)' AND old_value = '4.25/10' AND "
		    "new_value = 'graded again' AND at = 10 AND actor_id = 3") == 1);
		CHECK(pragma(path, "SELECT count(*) FROM audit WHERE action = 'grade-again'") == 2);
		CHECK(pragma(path, "SELECT attempts FROM submissions WHERE id = 2") == 0);
	}
	TEST("the gradebook takes the best penalised score, which may be an earlier on-time one") {
		struct rows r = { "" };
		long long ex, ada, id;

		s = fresh();
		ex = late_exercise(s, "ex1", 1000, 50, 7);
		ada = student(s, "ada");
		store_add_submission(s, ada, ex, 10, "x", 1, 100, 900, &id);
		grade(s, id, 6, 10, GRADE_DONE);
		store_add_submission(s, ada, ex, 10, "x", 1, 100, 2000, &id);
		grade(s, id, 10, 10, GRADE_DONE);		/* late: 5 */
		CHECK(store_gradebook(s, gradebook_row, &r) == STORE_OK);
		CHECK_STR(r.text, "ada/ex1=6/6;");
		store_close(s);
		CHECK(stale_best_scores() == 0);
	}
	TEST("a changed due date or late policy scores the exercise's best again") {
		/* A full score handed in at 2000, a day late when due at 1000. */
		static const struct { long long due; int penalty, max_days; const char *row; }
		    policy[] = {
			{ 1000, 50, 7, "ada/ex1=5/5;" },
			{ 3000, 50, 7, "ada/ex1=10/10;" },	/* due later: on time */
			{ 1000, 20, 7, "ada/ex1=8/8;" },	/* a smaller penalty */
			{ 1000, 20, 0, "ada/ex1=0/0;" },	/* nothing after the due date */
			{ 1000, -1, 0, "ada/ex1=10/10;" },	/* no late policy */
		};
		struct rows r;
		long long ex, ada, id;

		s = fresh();
		ex = late_exercise(s, "ex1", 1000, 50, 7);
		ada = student(s, "ada");
		store_add_submission(s, ada, ex, 10, "x", 1, 100, 2000, &id);
		grade(s, id, 10, 10, GRADE_DONE);
		for (size_t i = 0; i < sizeof policy / sizeof policy[0]; i++) {
			late_exercise(s, "ex1", policy[i].due, policy[i].penalty, policy[i].max_days);
			r.text[0] = '\0';
			CHECK(store_gradebook(s, gradebook_row, &r) == STORE_OK);
			CHECK_STR(r.text, policy[i].row);
		}
		store_close(s);
		CHECK(stale_best_scores() == 0);
	}
	TEST("a regrade grades after uploads, previews old and new best, and applies with audit") {
		struct store_regrade g;
		struct store_claim c;
		struct store_submission sub;
		struct rows r = { "" };
		struct plan_test t = { "t.py::test_a", "test_a", "A.", 10 };
		struct test_plan plan = { .tests = &t, .n = 1, .max_points = 10 };
		struct exercise ex;
		long long e1, ada, bob, a1, b1, b2, id, n, waiting;

		s = fresh();
		e1 = exercise(s, "ex1", 10);
		ada = student(s, "ada");
		bob = student(s, "bob");
		grade(s, a1 = submit(s, ada, e1), 4, 10, GRADE_DONE);
		grade(s, b1 = submit(s, bob, e1), 650, 1000, GRADE_DONE);
		CHECK(store_start_regrade(s, e1, 0, 0, 10, &id, &n) == STORE_NOTFOUND);
		/* The tests change: both submissions were graded with the old ones. */
		memset(&ex, 0, sizeof ex);
		snprintf(ex.slug, sizeof ex.slug, "ex1");
		ex.title = (char *)"An exercise";
		ex.phase = 1;
		ex.max_points = 10;
		ex.scaffold = (char *)"";
		CHECK(store_put_exercise(s, &ex, "after_due", "new", &plan, NULL, 5, NULL) ==
		    STORE_OK);
		CHECK(store_start_regrade(s, e1, 0, 0, 10, &id, &n) == STORE_OK && n == 2);
		CHECK(store_start_regrade(s, e1, 1, 0, 10, &id, &n) == STORE_EXISTS);
		b2 = submit(s, bob, e1);
		CHECK(store_claim_submission(s, &c) == STORE_OK);
		CHECK(c.id == b2 && c.regrade_id == 0);
		store_claim_free(&c);
		CHECK(store_claim_submission(s, &c) == STORE_OK);
		CHECK(c.id == a1 && c.regrade_id == id && c.exercise_id == e1);
		CHECK_STR(c.source, "x = 1\n");
		store_claim_free(&c);
		{
			struct grade_test gt = { (char *)"test_a", (char *)"A.", 1, 9, 10,
				(char *)"passed", (char *)"", (char *)"", 0 };
			struct grade_result res = { GRADE_DONE, 9, 10, (char *)"regraded", NULL, 0,
				&gt, 1, (char *)"out", 0.1, 0 };

			CHECK(store_finish_regrade_item(s, id, a1, &res, "new", 0) == STORE_OK);
			CHECK(store_finish_regrade(s, id, 1, 0, 20) == STORE_LIMIT);
			CHECK(store_claim_submission(s, &c) == STORE_OK && c.id == b1);
			store_claim_free(&c);
			res.score = 3;
			gt.points = 3;
			/* The teacher changed the tests again while the regrade ran. */
			CHECK(store_finish_regrade_item(s, id, b1, &res, "newer", 0) == STORE_OK);
		}
		CHECK(store_get_regrade(s, e1, &g) == STORE_OK);
		CHECK(g.id == id && g.total == 2 && g.graded == 2 && g.errors == 0);
		CHECK_STR(g.status, "running");
		CHECK(store_regrade_preview(s, id, preview_row, &r) == STORE_OK);
		CHECK_STR(r.text, "ada:4->9;bob:650->3;");
		CHECK(store_queue_length(s, &waiting) == STORE_OK && waiting == 1);
		CHECK(store_finish_regrade(s, id, 1, 0, 30) == STORE_OK);
		CHECK(store_finish_regrade(s, id, 0, 0, 30) == STORE_NOTFOUND);
		CHECK(store_get_submission(s, a1, &sub) == STORE_OK);
		CHECK(sub.score == 9 && sub.n_tests == 1 && sub.tests[0].points == 9 &&
		    sub.tests[0].passed && sub.graded_at == 30);
		CHECK_STR(sub.message, "regraded");
		CHECK_STR(sub.tests_hash, "new");
		store_submission_free(&sub);
		CHECK(store_get_submission(s, b1, &sub) == STORE_OK);
		CHECK(sub.score == 3);
		CHECK_STR(sub.tests_hash, "newer");
		store_submission_free(&sub);
		r.text[0] = '\0';
		CHECK(store_gradebook(s, gradebook_row, &r) == STORE_OK);
		CHECK_STR(r.text, "ada/ex1=9/9;bob/ex1=3/3;");
		store_close(s);
		CHECK(stale_best_scores() == 0);
		CHECK(pragma(path, "SELECT count(*) FROM audit WHERE action = 'regrade' AND "
		    "subject = 'user bob, regrade 1' AND old_value = '6.5' AND new_value = '0.03'") == 1);
		CHECK(pragma(path, "SELECT count(*) FROM audit WHERE action = 'regrade-applied'") == 1);
	}
	TEST("a discarded regrade changes no score and its items are not graded") {
		struct store_claim c;
		struct store_regrade g;
		long long e1, ada, id, n;

		s = fresh();
		e1 = exercise(s, "ex1", 10);
		ada = student(s, "ada");
		grade(s, submit(s, ada, e1), 4, 10, GRADE_DONE);
		CHECK(store_start_regrade(s, e1, 1, 0, 10, &id, &n) == STORE_OK && n == 1);
		CHECK(store_finish_regrade(s, id, 0, 0, 20) == STORE_OK);
		CHECK(store_claim_submission(s, &c) == STORE_NOTFOUND);
		CHECK(store_get_regrade(s, e1, &g) == STORE_OK);
		CHECK_STR(g.status, "discarded");
		store_close(s);
		CHECK(stale_best_scores() == 0);
		CHECK(pragma(path, "SELECT score FROM submissions") == 4);
		CHECK(pragma(path, "SELECT count(*) FROM audit WHERE action = 'regrade-discarded'") ==
		    1);
	}
	fs_remove_tree(dir);
	return unit_done("store");
}

#include "queue.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fsutil.h"
#include "points.h"
#include "sha256.h"
#include "term.h"
#include "worker.h"

static const char *
feedback_name(enum course_feedback f)
{
	return f == COURSE_FEEDBACK_ALWAYS ? "always" : f == COURSE_FEEDBACK_NEVER ? "never" :
	    "after_due";
}

static int
cmp_slug(const void *a, const void *b)
{
	return strcmp(((const struct queue_exercise *)a)->ex.slug,
	    ((const struct queue_exercise *)b)->ex.slug);
}

/* Hash every file staged for the tests of `qe` (tests, conftest.py, helpers,
 * data), and keep the text of its Python files, which a student must never
 * see quoted. */
static int
read_hidden(struct queue_exercise *qe, char hash[SHA256_HEX_LEN + 1])
{
	struct sha256 c;
	unsigned char d[SHA256_LEN];
	size_t total = 0;

	sha256_init(&c);
	for (size_t i = 0; i < qe->ex.n_hidden_files; i++) {
		const char *name = qe->ex.hidden_files[i];
		char path[PATH_MAX], *text, *grown;
		size_t len, n = strlen(name);

		if (snprintf(path, sizeof path, "%s/%s", qe->ex.hidden_dir, name) >=
		    (int)sizeof path) {
			errno = ENAMETOOLONG;
			return -1;
		}
		if ((text = fs_read_file(path, COURSE_DATA_MAX, &len)) == NULL)
			return -1;
		sha256_update(&c, name, n + 1);
		sha256_update(&c, text, len);
		if (n < 3 || strcmp(name + n - 3, ".py") != 0) {
			free(text);
			continue;
		}
		if ((grown = realloc(qe->hidden_text, total + len + 2)) == NULL) {
			free(text);
			return -1;
		}
		qe->hidden_text = grown;
		memcpy(qe->hidden_text + total, text, len);
		total += len;
		qe->hidden_text[total++] = '\n';
		qe->hidden_text[total] = '\0';
		free(text);
	}
	sha256_final(&c, d);
	for (int i = 0; i < SHA256_LEN; i++)
		snprintf(hash + 2 * i, 3, "%02x", d[i]);
	return 0;
}

/* Prepare one loaded exercise: its hidden tests, its plan and the publish
 * gate, in the sandbox. The grading threads may be running. */
static void
prepare_exercise(struct queue *q, struct queue_exercise *qe)
{
	char err[QUEUE_PROBLEM_MAX];
	int rc;

	if (read_hidden(qe, qe->tests_hash) < 0) {
		snprintf(qe->problem, sizeof qe->problem, "hidden/%s: cannot read the hidden "
		    "tests: %s.", qe->ex.slug, strerror(errno));
	} else if ((rc = grader_init(&qe->g, &qe->ex, q->course_dir, q->db_dir, err, sizeof err)) < 0) {
		snprintf(qe->problem, sizeof qe->problem, "%s", err);
		if (rc == GRADER_ESYSTEM) {
			pthread_mutex_lock(&q->lock);
			q->sandbox_ok = 0;
			snprintf(q->sandbox_message, sizeof q->sandbox_message, "%s", err);
			pthread_mutex_unlock(&q->lock);
		}
	} else if (grader_check_kept(&qe->g, &qe->check) < 0) {
		snprintf(qe->problem, sizeof qe->problem, "The publish gate could not run: %s",
		    qe->check.problems);
	} else if (!qe->check.ok) {
		qe->checked = 1;
		snprintf(qe->problem, sizeof qe->problem, "Fails the publish gate: %.*s",
		    (int)strcspn(qe->check.problems, "\n"), qe->check.problems);
	} else
		qe->checked = qe->ready = 1;
}

/* Record a prepared exercise in the database: published with its plan when
 * it is ready, otherwise unpublished with the reason. */
static void
record_exercise(struct store *s, struct queue_exercise *qe, long long now)
{
	if (store_put_exercise(s, &qe->ex, feedback_name(qe->ex.feedback), qe->tests_hash,
	    qe->ready ? &qe->g.plan : NULL, qe->problem, now, &qe->id) < 0) {
		snprintf(qe->problem, sizeof qe->problem, "Cannot record the exercise in the "
		    "database: %s.", store_errmsg(s));
		qe->ready = 0;
	}
}

static int
stopping(struct queue *q)
{
	int stop;

	pthread_mutex_lock(&q->lock);
	stop = q->stopping;
	pthread_mutex_unlock(&q->lock);
	return stop;
}

static void
set_free(struct queue_set *set)
{
	for (size_t i = 0; set && i < set->n; i++) {
		grader_free(&set->exercises[i].g);
		grader_check_free(&set->exercises[i].check);
		course_exercise_free(&set->exercises[i].ex);
		free(set->exercises[i].hidden_text);
	}
	if (set)
		free(set->exercises);
	free(set);
}

/* Read the course folder into a new set: load every exercise, prepare it in
 * the sandbox, then record them all in `s` at once. Returns the set, or NULL
 * with a sentence in `err` when the folder cannot be read, memory runs out
 * or markbook is stopping. */
static struct queue_set *
set_load(struct queue *q, struct store *s, char *err, size_t errlen)
{
	struct queue_set *set = calloc(1, sizeof *set);
	const char **slugs = NULL;
	char exdir[PATH_MAX];
	struct dirent *de;
	DIR *d = NULL;
	size_t n_slugs = 0;
	long long now = (long long)time(NULL);

	if (set == NULL || (set->exercises = calloc(QUEUE_EXERCISES_MAX,
	    sizeof *set->exercises)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (snprintf(exdir, sizeof exdir, "%s/exercises", q->course_dir) >= (int)sizeof exdir ||
	    (d = opendir(exdir)) == NULL) {
		snprintf(err, errlen, "%s: %s (a course folder holds exercises/ and hidden/).",
		    exdir, errno == ENOENT ? "missing" : strerror(errno));
		goto fail;
	}
	while ((de = readdir(d)) != NULL && set->n < QUEUE_EXERCISES_MAX) {
		struct queue_exercise *qe = &set->exercises[set->n];
		char path[PATH_MAX];

		if (de->d_name[0] == '.' || snprintf(path, sizeof path, "%s/%s", exdir,
		    de->d_name) >= (int)sizeof path || !fs_is_dir(path))
			continue;
		set->n++;
		if (course_load_exercise(q->course_dir, de->d_name, &qe->ex, qe->problem,
		    sizeof qe->problem) < 0) {
			/* Keep the name for the teacher's list of problems. */
			snprintf(qe->ex.slug, sizeof qe->ex.slug, "%.*s", COURSE_SLUG_MAX,
			    de->d_name);
			continue;
		}
		qe->loaded = 1;
	}
	closedir(d);
	qsort(set->exercises, set->n, sizeof *set->exercises, cmp_slug);
	for (size_t i = 0; i < set->n; i++) {
		if (stopping(q)) {
			snprintf(err, errlen, "markbook is stopping.");
			goto fail;
		}
		if (set->exercises[i].loaded)
			prepare_exercise(q, &set->exercises[i]);
	}
	if ((slugs = calloc(set->n + 1, sizeof *slugs)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < set->n; i++)
		if (set->exercises[i].loaded) {
			record_exercise(s, &set->exercises[i], now);
			slugs[n_slugs++] = set->exercises[i].ex.slug;
		}
	if (store_unpublish_except(s, slugs, n_slugs) < 0) {
		snprintf(err, errlen, "the database: %s.", store_errmsg(s));
		goto fail;
	}
	free(slugs);
	return set;
fail:
	free(slugs);
	set_free(set);
	return NULL;
}

int
queue_load(struct queue *q, const char *course_dir, const char *db_path, struct store *s,
    char *err, size_t errlen)
{
	char *abs;

	memset(q, 0, sizeof *q);
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->wake, NULL);
	pthread_cond_init(&q->reload_wake, NULL);
	/* A kept test plan spares the sandbox at start-up, so prove it works. */
	if ((q->sandbox_ok = grader_selftest(q->sandbox_message, sizeof q->sandbox_message)))
		q->sandbox_message[0] = '\0';
	if ((abs = realpath(course_dir, NULL)) == NULL) {
		snprintf(err, errlen, "%s: %s.", course_dir, strerror(errno));
		return -1;
	}
	snprintf(q->course_dir, sizeof q->course_dir, "%s", abs);
	free(abs);
	/* The database's folder is hidden from every sandbox, like the course. */
	snprintf(q->db_dir, sizeof q->db_dir, "%s", db_path);
	if (strrchr(q->db_dir, '/'))
		*strrchr(q->db_dir, '/') = '\0';
	else
		snprintf(q->db_dir, sizeof q->db_dir, ".");
	return (q->set = set_load(q, s, err, errlen)) == NULL ? -1 : 0;
}

const struct queue_set *
queue_course(struct queue *q)
{
	const struct queue_set *set;

	pthread_mutex_lock(&q->lock);
	set = q->set;
	pthread_mutex_unlock(&q->lock);
	return set;
}

const struct queue_exercise *
queue_find(struct queue *q, const char *slug)
{
	const struct queue_set *set = queue_course(q);

	for (size_t i = 0; set && i < set->n; i++)
		if (strcmp(set->exercises[i].ex.slug, slug) == 0)
			return &set->exercises[i];
	return NULL;
}

const struct queue_exercise *
queue_find_id(struct queue *q, long long id)
{
	const struct queue_set *set = queue_course(q);

	for (size_t i = 0; set && id != 0 && i < set->n; i++)
		if (set->exercises[i].id == id)
			return &set->exercises[i];
	return NULL;
}

void
queue_print_course(const struct queue_set *set, int problems_only)
{
	char points[POINTS_TEXT_MAX];

	for (size_t i = 0; i < set->n; i++) {
		const struct queue_exercise *qe = &set->exercises[i];

		if (qe->ready && !problems_only)
			printf("  %-24s ready: %zu hidden test%s, %s points\n", term_safe(qe->ex.slug),
			    qe->g.plan.n, qe->g.plan.n == 1 ? "" : "s",
			    points_format(qe->ex.max_points, points));
		else if (!qe->ready)
			printf("  %-24s NOT PUBLISHED: %s\n", term_safe(qe->ex.slug),
			    term_safe(qe->problem));
	}
}

/* What changed from `old` to `now`, for the teacher: counts, and the
 * exercises whose hidden tests changed (their submissions want a regrade),
 * that are new, or that are gone. */
static void
describe_reload(const struct queue_set *old, const struct queue_set *now, char *out,
    size_t outlen)
{
	size_t published = 0, len;
	char changed[QUEUE_PROBLEM_MAX / 3] = "", added[QUEUE_PROBLEM_MAX / 6] = "",
	    gone[QUEUE_PROBLEM_MAX / 6] = "";

	for (size_t i = 0; i < now->n; i++) {
		const struct queue_exercise *e = &now->exercises[i], *o = NULL;

		published += e->ready;
		for (size_t j = 0; j < old->n && o == NULL; j++)
			if (strcmp(old->exercises[j].ex.slug, e->ex.slug) == 0)
				o = &old->exercises[j];
		if (o == NULL) {
			len = strlen(added);
			snprintf(added + len, sizeof added - len, "%s%s", len ? ", " : "", e->ex.slug);
		} else if (e->loaded && o->loaded && strcmp(e->tests_hash, o->tests_hash) != 0) {
			len = strlen(changed);
			snprintf(changed + len, sizeof changed - len, "%s%s", len ? ", " : "",
			    e->ex.slug);
		}
	}
	for (size_t j = 0; j < old->n; j++) {
		int found = 0;

		for (size_t i = 0; i < now->n && !found; i++)
			found = strcmp(old->exercises[j].ex.slug, now->exercises[i].ex.slug) == 0;
		if (!found) {
			len = strlen(gone);
			snprintf(gone + len, sizeof gone - len, "%s%s", len ? ", " : "",
			    old->exercises[j].ex.slug);
		}
	}
	snprintf(out, outlen, "%zu exercise%s, %zu published.%s%s%s%s%s%s%s", now->n,
	    now->n == 1 ? "" : "s", published,
	    *changed ? " Hidden tests changed: " : "", changed,
	    *changed ? " (submissions graded with the old tests can be regraded)." : "",
	    *added ? " New: " : "", added, *gone ? ". No longer in the folder: " : "", gone);
}

/* The reloader thread: reads the course folder again each time it is asked
 * to, one reload at a time, while the graders go on with the course they
 * have. */
static void *
reloader(void *arg)
{
	struct queue *q = arg;
	struct store *s;
	char err[QUEUE_PROBLEM_MAX], said[QUEUE_PROBLEM_MAX];

	s = store_open(q->db_path, err, sizeof err);
	pthread_mutex_lock(&q->lock);
	for (;;) {
		struct queue_set *set;

		while (!q->stopping && !q->reload_wanted)
			pthread_cond_wait(&q->reload_wake, &q->lock);
		if (q->stopping)
			break;
		q->reload_wanted = 0;
		q->reloading = 1;
		pthread_mutex_unlock(&q->lock);

		err[0] = '\0';
		set = s ? set_load(q, s, err, sizeof err) : NULL;
		if (s == NULL)
			snprintf(err, sizeof err, "the reloader cannot open the database.");

		pthread_mutex_lock(&q->lock);
		if (set) {
			describe_reload(q->set, set, q->reload_message, sizeof q->reload_message);
			set->older = q->set;
			q->set = set;
			/* Submissions that waited for an exercise it now has. */
			q->generation++;
			pthread_cond_broadcast(&q->wake);
		} else
			snprintf(q->reload_message, sizeof q->reload_message, "The course folder "
			    "could not be reloaded, so the course stays as it was: %s", err);
		q->reloaded_at = time(NULL);
		q->reloads++;
		q->reloading = 0;
		snprintf(said, sizeof said, "%s", q->reload_message);
		pthread_mutex_unlock(&q->lock);

		/* The terminal markbook runs in shows it too, with each problem;
		 * not under the lock, which every web request takes. */
		printf("Reloaded the course folder: %s\n", term_safe(said));
		if (set)
			queue_print_course(set, 1);
		fflush(stdout);
		pthread_mutex_lock(&q->lock);
	}
	pthread_mutex_unlock(&q->lock);
	store_close(s);
	return NULL;
}

int
queue_reload(struct queue *q)
{
	int busy;

	pthread_mutex_lock(&q->lock);
	busy = q->reloading || q->reload_wanted;
	q->reload_wanted = 1;
	pthread_cond_signal(&q->reload_wake);
	pthread_mutex_unlock(&q->lock);
	return busy;
}

void
queue_reload_status(struct queue *q, struct queue_reload *st)
{
	pthread_mutex_lock(&q->lock);
	st->reloading = q->reloading || q->reload_wanted;
	st->reloaded_at = q->reloaded_at;
	st->reloads = q->reloads;
	snprintf(st->message, sizeof st->message, "%s", q->reload_message);
	pthread_mutex_unlock(&q->lock);
}

int
queue_sandbox(struct queue *q, char *why, size_t whylen)
{
	int ok;

	pthread_mutex_lock(&q->lock);
	ok = q->sandbox_ok;
	snprintf(why, whylen, "%s", q->sandbox_message);
	pthread_mutex_unlock(&q->lock);
	return ok;
}

/* Run the sandbox self-test now and record what it found. */
static int
sandbox_retest(struct queue *q)
{
	char why[QUEUE_PROBLEM_MAX] = "";
	int ok = grader_selftest(why, sizeof why);

	pthread_mutex_lock(&q->lock);
	if (ok != q->sandbox_ok)
		fprintf(stderr, "markbook: %s%s\n", ok ? "the sandbox works again; grading "
		    "resumes." : "the sandbox stopped working, so uploads wait in the queue: ",
		    ok ? "" : term_safe(why));
	q->sandbox_ok = ok;
	snprintf(q->sandbox_message, sizeof q->sandbox_message, "%s", ok ? "" : why);
	q->selftest_at = time(NULL);
	pthread_mutex_unlock(&q->lock);
	return ok;
}

/* Whether a worker may take a submission: not while the sandbox fails, so a
 * broken firejail leaves uploads waiting instead of failing them. */
static int
sandbox_usable(struct queue *q)
{
	int ok, due;

	pthread_mutex_lock(&q->lock);
	ok = q->sandbox_ok;
	due = !ok && time(NULL) - q->selftest_at >= QUEUE_SELFTEST_S;
	if (due)
		q->selftest_at = time(NULL);	/* one thread tests; the others wait */
	pthread_mutex_unlock(&q->lock);
	return ok || (due && sandbox_retest(q));
}

/* Grade the claimed submission `c` in a grading process and write the
 * result. A failure for the system's reason goes back to the queue until
 * its STORE_ATTEMPTS_MAX-th attempt, which stands as `error`. */
static void
grade_one(struct queue *q, struct store *s, struct store_claim *c)
{
	const struct queue_exercise *qe = queue_find_id(q, c->exercise_id);
	struct grade_result res;
	int retry = STORE_FINAL, rc = 0;
	char *said;

	memset(&res, 0, sizeof res);
	/* Only published exercises are claimed, but a reload may have taken
	 * this one away since: the submission waits for it in the queue. */
	if (qe == NULL || !qe->ready) {
		res.status = GRADE_ERROR;
		if (asprintf(&res.message, "The exercise is not available for grading: %s "
		    "Fix the course folder and reload it (Exercises page).", qe ? qe->problem :
		    "it is no longer in the course folder.") < 0)
			res.message = NULL;
	} else
		rc = worker_grade(&qe->g, c->source, c->len, &res);
	if (res.status == GRADE_ERROR) {
		/* Not the notebook's fault when the sandbox itself is broken: back
		 * to the queue until it works again, and the attempt is given back. */
		if (qe && qe->ready && !sandbox_retest(q))
			retry = STORE_RETRY_UNCOUNTED;
		else if (c->attempts < STORE_ATTEMPTS_MAX)
			retry = STORE_RETRY;
		else if (asprintf(&said, "%s That was attempt %d of %d, so it is not graded "
		    "again by itself: use Grade again once the cause is fixed.", res.message ?
		    res.message : "", c->attempts, STORE_ATTEMPTS_MAX) >= 0) {
			free(res.message);
			res.message = said;
		}
		/* The grading process's own sentences are markbook's, not the
		 * notebook's, and short: worth the console. */
		fprintf(stderr, "markbook: grading submission %lld failed (attempt %d of %d)%s%s\n",
		    c->id, c->attempts, STORE_ATTEMPTS_MAX, rc == WORKER_EFAILED ? ": " : "; the "
		    "teacher's page says why.", rc == WORKER_EFAILED ? term_safe(res.message) : "");
	}
	if ((c->regrade_id ? store_finish_regrade_item(s, c->regrade_id, c->id, &res,
	    qe ? qe->tests_hash : "", retry) : store_finish_submission(s, c->id, &res,
	    qe ? qe->tests_hash : "", retry, (long long)time(NULL))) < 0)
		fprintf(stderr, "markbook: cannot record the grading of submission %lld: %s\n",
		    c->id, store_errmsg(s));
	grader_result_free(&res);
}

static void *
worker(void *arg)
{
	struct queue *q = arg;
	struct store_claim c;
	struct store *s;
	char err[512];

	if ((s = store_open(q->db_path, err, sizeof err)) == NULL) {
		fprintf(stderr, "markbook: a grading thread cannot open the database: %s\n", err);
		return NULL;
	}
	for (;;) {
		unsigned long gen;
		int rc;

		pthread_mutex_lock(&q->lock);
		if (q->stopping) {
			pthread_mutex_unlock(&q->lock);
			break;
		}
		gen = q->generation;
		pthread_mutex_unlock(&q->lock);

		rc = sandbox_usable(q) ? store_claim_submission(s, &c) : STORE_NOTFOUND;
		if (rc == STORE_OK) {
			pthread_mutex_lock(&q->lock);
			q->busy++;
			pthread_mutex_unlock(&q->lock);
			grade_one(q, s, &c);
			store_claim_free(&c);
			pthread_mutex_lock(&q->lock);
			q->busy--;
			pthread_mutex_unlock(&q->lock);
		} else if (rc == STORE_ERROR)
			fprintf(stderr, "markbook: cannot take a submission from the queue: %s\n",
			    store_errmsg(s));

		pthread_mutex_lock(&q->lock);
		if (rc != STORE_OK && !q->stopping && gen == q->generation) {
			struct timespec until;

			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += QUEUE_POLL_S;
			pthread_cond_timedwait(&q->wake, &q->lock, &until);
		}
		pthread_mutex_unlock(&q->lock);
	}
	store_close(s);
	return NULL;
}

int
queue_start(struct queue *q, const char *db_path, unsigned workers, char *err, size_t errlen)
{
	snprintf(q->db_path, sizeof q->db_path, "%s", db_path);
	if (workers > QUEUE_WORKERS_MAX)
		workers = QUEUE_WORKERS_MAX;
	if (pthread_create(&q->reloader, NULL, reloader, q) != 0) {
		snprintf(err, errlen, "cannot start the course reloader: %s.", strerror(errno));
		return -1;
	}
	q->has_reloader = 1;
	for (unsigned i = 0; i < workers; i++) {
		if (pthread_create(&q->threads[i], NULL, worker, q) != 0) {
			snprintf(err, errlen, "cannot start grading thread %u: %s.", i + 1,
			    strerror(errno));
			queue_stop(q);
			return -1;
		}
		q->n_threads++;
	}
	return 0;
}

void
queue_notify(struct queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->generation++;
	pthread_cond_broadcast(&q->wake);
	pthread_mutex_unlock(&q->lock);
}

void
queue_stop(struct queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->stopping = 1;
	pthread_cond_broadcast(&q->wake);
	pthread_cond_broadcast(&q->reload_wake);
	pthread_mutex_unlock(&q->lock);
	for (size_t i = 0; i < q->n_threads; i++)
		pthread_join(q->threads[i], NULL);
	q->n_threads = 0;
	if (q->has_reloader)
		pthread_join(q->reloader, NULL);
	q->has_reloader = 0;
}

int
queue_busy(struct queue *q)
{
	int n;

	pthread_mutex_lock(&q->lock);
	n = q->busy;
	pthread_mutex_unlock(&q->lock);
	return n;
}

void
queue_free(struct queue *q)
{
	while (q->set) {
		struct queue_set *older = q->set->older;

		set_free(q->set);
		q->set = older;
	}
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->wake);
	pthread_cond_destroy(&q->reload_wake);
	memset(q, 0, sizeof *q);
}

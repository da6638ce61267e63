/* markbook: a classroom autograder for marimo notebooks in one binary.
 * This file only reads the command line and prints; the work is in the
 * modules it calls (course, grader and worker; store, queue, web, auth, csv
 * for the server). */

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <limits.h>
#include <net/if.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "course.h"
#include "csv.h"
#include "fsutil.h"
#include "grader.h"
#include "points.h"
#include "queue.h"
#include "roster.h"
#include "sandbox.h"
#include "store.h"
#include "term.h"
#include "web.h"
#include "worker.h"

#define EXIT_GRADED	0
#define EXIT_SYSTEM	1
#define EXIT_USAGE	2
#define JOBS_MAX	64

static const char usage_text[] =
"usage: markbook grade [--course DIR] --exercise SLUG [--json] [--jobs N] FILE...\n"
"       markbook check [--course DIR] [SLUG...]\n"
"       markbook regrade [--db FILE] [--all] [--apply|--discard] SLUG\n"
"       markbook serve [--course DIR] [--db FILE] [--listen ADDR:PORT] [--workers N]\n"
"                      [--connections N] [--tls CERT.pem]\n"
"       markbook user add [--db FILE] --role teacher|student [--name NAME] USERNAME\n"
"       markbook export [--db FILE] [--format wide|long|canvas|moodle] > grades.csv\n"
"       markbook roster import [--db FILE] ROSTER.csv\n"
"       markbook roster reset [--db FILE] USERNAME...\n"
"       markbook backup [--db FILE] OUT.db\n"
"\n"
"  grade     grade each FILE (a student's notebook) against the exercise's\n"
"            hidden tests in the sandbox and print the scores\n"
"  check     the publish gate: the reference solution scores full marks, the\n"
"            scaffold 0 and fails every test; exits 1 when an exercise fails.\n"
"            Always run afresh (serve remembers a pass until a file changes)\n"
"  regrade   grade SLUG's submissions again with its current hidden tests (the\n"
"            running markbook serve grades them), print each student's old and\n"
"            new best score, then apply or discard (asks on a terminal)\n"
"  serve     serve the class: students upload, the teacher sees the gradebook\n"
"  user add  add a teacher or a student; the password is read from stdin when\n"
"            it is not a terminal, otherwise one is made and printed\n"
"  export    print the gradebook as CSV: wide (a column per exercise), long (a\n"
"            row per student and exercise), or for Canvas or Moodle to import\n"
"  roster    import add students from a CSV file (username, name, email) and\n"
"            print their one-time passwords; update names and emails of others\n"
"  roster    reset give students new one-time passwords\n"
"  backup    copy the database to OUT.db, also while markbook serves\n"
"\n"
"  --course DIR     the course folder (exercises/, hidden/); default .\n"
"  --exercise SLUG  the exercise, a folder name under exercises/\n"
"  --json           print a JSON array, one object per FILE\n"
"  --jobs N         grade N files at once; default: the number of CPUs\n"
"  --db FILE        the database; default ./markbook.db (created when missing)\n"
"  --listen A:P     IPv4 address and port to serve on (or a port); default\n"
"                   0.0.0.0:8080, every network of this computer\n"
"  --workers N      grading threads; default: the number of CPUs\n"
"  --connections N  browser connections served at once; default 384\n"
"  --tls CERT.pem   serve HTTPS with this key and certificate (tools/make-cert)\n";

#define DB_DEFAULT	"markbook.db"
#define LISTEN_DEFAULT	"0.0.0.0:8080"
#define PASSWORD_LINE	1024

struct batch {
	const struct grader *g;
	char **files;
	size_t n;
	struct grade_result *results;
	size_t next, done;
	int progress;		/* stderr is a terminal */
	pthread_mutex_t lock;
};

/* Say what bounds a submission's memory, processes and files on this
 * machine (sandbox_describe): always when `always`, otherwise only when a
 * total is not bounded. */
static void
print_limits(FILE *f, int always)
{
	char text[2048];
	int weak;

	sandbox_describe(text, sizeof text, &weak);
	if (always || weak)
		fputs(text, f);
}

/* Grade one file in a grading process of its own (worker.c), so that a
 * file that crashes its grading fails alone and the batch goes on. */
static void
grade_file(const struct grader *g, const char *file, struct grade_result *res)
{
	struct stat st;
	size_t len = 0;
	char *src = NULL;

	if (stat(file, &st) == 0 && (size_t)st.st_size > GRADER_SUBMISSION_MAX) {
		worker_grade(g, NULL, (size_t)st.st_size, res);
		return;
	}
	if ((src = fs_read_file(file, GRADER_SUBMISSION_MAX, &len)) == NULL &&
	    errno == EFBIG) {
		/* It grew since the stat. */
		worker_grade(g, NULL, GRADER_SUBMISSION_MAX + 1, res);
		return;
	}
	if (src == NULL) {
		memset(res, 0, sizeof *res);
		res->status = GRADE_ERROR;
		res->max_points = g->ex->max_points;
		if (asprintf(&res->message, "Cannot read %s: %s.", file, strerror(errno)) < 0)
			res->message = NULL;
		return;
	}
	worker_grade(g, src, len, res);
	free(src);
}

static void *
worker(void *arg)
{
	struct batch *b = arg;

	for (;;) {
		size_t i;

		pthread_mutex_lock(&b->lock);
		i = b->next < b->n ? b->next++ : b->n;
		pthread_mutex_unlock(&b->lock);
		if (i == b->n)
			return NULL;
		grade_file(b->g, b->files[i], &b->results[i]);
		pthread_mutex_lock(&b->lock);
		b->done++;
		if (b->progress)
			fprintf(stderr, "\rgraded %zu of %zu", b->done, b->n);
		pthread_mutex_unlock(&b->lock);
	}
}

static cJSON *
result_json(const char *file, const struct grade_result *r)
{
	cJSON *o = cJSON_CreateObject(), *flags, *tests;

	cJSON_AddStringToObject(o, "file", file);
	cJSON_AddStringToObject(o, "status", r->status == GRADE_DONE ? "done" : "error");
	cJSON_AddNumberToObject(o, "score", points_number(r->score));
	cJSON_AddNumberToObject(o, "max_points", points_number(r->max_points));
	cJSON_AddStringToObject(o, "message", r->message ? r->message : "");
	flags = cJSON_AddArrayToObject(o, "flags");
	for (size_t i = 0; i < r->n_flags; i++)
		cJSON_AddItemToArray(flags, cJSON_CreateString(r->flags[i]));
	tests = cJSON_AddArrayToObject(o, "tests");
	for (size_t i = 0; i < r->n_tests; i++) {
		const struct grade_test *t = &r->tests[i];
		cJSON *jt = cJSON_CreateObject();

		cJSON_AddStringToObject(jt, "name", t->name);
		cJSON_AddStringToObject(jt, "description", t->description);
		cJSON_AddBoolToObject(jt, "passed", t->passed);
		cJSON_AddNumberToObject(jt, "points", points_number(t->points));
		cJSON_AddNumberToObject(jt, "max_points", points_number(t->max_points));
		cJSON_AddStringToObject(jt, "message", t->message);
		cJSON_AddItemToArray(tests, jt);
	}
	return o;
}

static int
print_json(char **files, size_t n, const struct grade_result *results)
{
	cJSON *arr = cJSON_CreateArray();
	char *text;

	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, result_json(files[i], &results[i]));
	text = cJSON_Print(arr);
	cJSON_Delete(arr);
	if (text == NULL)
		return -1;
	puts(text);
	free(text);
	return 0;
}

/* A message of several lines: the first after `first`, the rest under it,
 * each `indent` in, so that no line of a message starts where markbook's own
 * lines do; controls within each line are shown escaped (term_safe). */
static void
print_indented(const char *first, const char *indent, const char *msg)
{
	fputs(first, stdout);
	for (;;) {
		size_t n = strcspn(msg, "\n");

		printf("%s\n", term_safe_n(msg, n));
		if (msg[n] == '\0' || msg[n + 1] == '\0')
			break;
		fputs(indent, stdout);
		msg += n + 1;
	}
}

/* Each line of `text` after `prefix`, its controls shown escaped (term_safe). */
static void
print_lines(FILE *f, const char *prefix, const char *text)
{
	do {
		size_t n = strcspn(text, "\n");

		fprintf(f, "%s%s\n", prefix, term_safe_n(text, n));
		text += n + (text[n] == '\n');
	} while (*text);
}

static void
print_human(char **files, size_t n, const struct grade_result *results)
{
	char a[POINTS_TEXT_MAX], b[POINTS_TEXT_MAX];
	size_t errors = 0;
	long long total = 0;
	int max = n ? results[0].max_points : 0;

	for (size_t i = 0; i < n; i++) {
		const struct grade_result *r = &results[i];

		printf("%s  %s/%s  ", term_safe(files[i]), points_format(r->score, a),
		    points_format(r->max_points, b));
		if (r->status == GRADE_DONE)
			printf("done\n");
		else
			print_indented("error: ", "      ", r->message ? r->message : "");
		for (size_t k = 0; k < r->n_tests; k++) {
			const struct grade_test *t = &r->tests[k];

			printf("    %s  %-24s %s/%s", t->passed ? "pass" : "FAIL", term_safe(t->name),
			    points_format(t->points, a), points_format(t->max_points, b));
			print_indented(*t->message ? "  " : "", "            ", t->message);
		}
		if (r->status == GRADE_DONE && r->message && *r->message)
			print_indented("    ", "      ", r->message);
		if (r->n_flags > 0) {
			printf("    flags:");
			for (size_t k = 0; k < r->n_flags; k++)
				printf(" %s", term_safe(r->flags[k]));
			printf("\n");
		}
		errors += r->status != GRADE_DONE;
		total += r->score;
	}
	/* The mean to the nearest hundredth, like every score. */
	printf("%zu file%s graded, mean score %s/%s, %zu system error%s\n", n - errors,
	    n - errors == 1 ? "" : "s", points_format(n > errors ? (total +
	    (long long)(n - errors) / 2) / (long long)(n - errors) : 0, a),
	    points_format(max, b), errors, errors == 1 ? "" : "s");
}

static int
cmd_grade(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "course", required_argument, NULL, 'c' },
		{ "exercise", required_argument, NULL, 'e' },
		{ "json", no_argument, NULL, 'J' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *course = ".", *slug = NULL;
	long jobs = sysconf(_SC_NPROCESSORS_ONLN);
	pthread_t threads[JOBS_MAX];
	struct exercise ex;
	struct grader g;
	struct batch b;
	char err[4096], *end;
	int json = 0, c, rc = EXIT_USAGE, init;
	size_t nthreads = 0, i;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			course = optarg;
			break;
		case 'e':
			slug = optarg;
			break;
		case 'J':
			json = 1;
			break;
		case 'j':
			errno = 0;
			jobs = strtol(optarg, &end, 10);
			if (errno || *end || jobs < 1 || jobs > JOBS_MAX) {
				fprintf(stderr, "markbook: --jobs takes a number from 1 to %d.\n",
				    JOBS_MAX);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_GRADED;
		default:
			fputs(usage_text, stderr);
			return EXIT_USAGE;
		}
	}
	if (slug == NULL || optind == argc) {
		fprintf(stderr, "markbook: %s\n%s", slug == NULL ? "--exercise SLUG is required." :
		    "name at least one FILE to grade.", usage_text);
		return EXIT_USAGE;
	}
	for (int k = optind; k < argc; k++) {
		struct stat st;

		if (stat(argv[k], &st) < 0 || !S_ISREG(st.st_mode)) {
			fprintf(stderr, "markbook: %s: %s.\n", term_safe(argv[k]),
			    errno == ENOENT ? "no such file" : "not a regular file");
			return EXIT_USAGE;
		}
	}
	if (jobs < 1)
		jobs = 1;
	if (jobs > JOBS_MAX)
		jobs = JOBS_MAX;
	if (worker_init(err, sizeof err) < 0) {
		fprintf(stderr, "markbook: %s\n", err);
		return EXIT_SYSTEM;
	}
	if (course_load_exercise(course, slug, &ex, err, sizeof err) < 0) {
		fprintf(stderr, "markbook: %s\n", term_safe(err));
		course_exercise_free(&ex);
		return EXIT_USAGE;
	}
	if ((init = grader_init(&g, &ex, course, NULL, err, sizeof err)) < 0) {
		print_lines(stderr, "markbook: ", err);
		rc = init == GRADER_ECOURSE ? EXIT_USAGE : EXIT_SYSTEM;
		goto out;
	}
	print_limits(stderr, 0);
	memset(&b, 0, sizeof b);
	b.g = &g;
	b.files = argv + optind;
	b.n = (size_t)(argc - optind);
	b.progress = isatty(2);
	pthread_mutex_init(&b.lock, NULL);
	if ((b.results = calloc(b.n, sizeof *b.results)) == NULL) {
		fprintf(stderr, "markbook: out of memory\n");
		rc = EXIT_SYSTEM;
		goto out;
	}
	for (i = 0; i < (size_t)jobs && i < b.n; i++) {
		if (pthread_create(&threads[i], NULL, worker, &b) != 0)
			break;
		nthreads++;
	}
	if (nthreads == 0)
		worker(&b);
	for (i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	if (b.progress)
		fprintf(stderr, "\r\033[K");
	rc = EXIT_GRADED;
	for (i = 0; i < b.n; i++)
		if (b.results[i].status != GRADE_DONE)
			rc = EXIT_SYSTEM;
	if (json) {
		if (print_json(b.files, b.n, b.results) < 0)
			rc = EXIT_SYSTEM;
	} else
		print_human(b.files, b.n, b.results);
	for (i = 0; i < b.n; i++)
		grader_result_free(&b.results[i]);
	free(b.results);
	pthread_mutex_destroy(&b.lock);
out:
	grader_free(&g);
	course_exercise_free(&ex);
	return rc;
}

/* Print the gate's verdict on one exercise, test by test. */
static void
print_check(const char *slug, const struct grader_check *c)
{
	char a[POINTS_TEXT_MAX], b[POINTS_TEXT_MAX], m[POINTS_TEXT_MAX];

	printf("%s  %s  reference solution %s/%s in %.1f s, scaffold %s/%s\n",
	    term_safe(slug), c->ok ? "PASS" : "FAIL", points_format(c->solution_score, a),
	    points_format(c->max_points, m), c->solution_seconds,
	    points_format(c->scaffold_score, b), m);
	for (size_t i = 0; i < c->n_tests; i++) {
		const struct grader_check_test *t = &c->tests[i];

		printf("    %s  %-24s %s point%s  solution %s, scaffold %s%s%s\n",
		    *t->problem ? "FAIL" : "ok  ", term_safe(t->name), points_format(t->points, a),
		    t->points == POINTS_SCALE ? "" : "s",
		    t->solution_passed ? "passes" : "FAILS", t->scaffold_passed ? "PASSES" :
		    "fails", *t->problem ? ": " : "", term_safe(t->problem));
	}
	if (c->problems && *c->problems)
		print_lines(stdout, "    problem: ", c->problems);
	if (c->warnings && *c->warnings)
		print_lines(stdout, "    warning: ", c->warnings);
}

static int
cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "course", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *course = ".";
	struct course all;
	char err[4096];
	size_t failed = 0, n;
	int c, rc = EXIT_GRADED;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage_text, stdout);
			return EXIT_GRADED;
		}
		if (c != 'c') {
			fputs(usage_text, stderr);
			return EXIT_USAGE;
		}
		course = optarg;
	}
	memset(&all, 0, sizeof all);
	print_limits(stdout, 0);
	/* The named exercises, or every folder under exercises/. */
	if (optind == argc && course_load(course, &all, err, sizeof err) < 0) {
		fprintf(stderr, "markbook: %s\n", term_safe(err));
		course_free(&all);
		return EXIT_USAGE;
	}
	n = optind < argc ? (size_t)(argc - optind) : all.n_exercises;
	for (size_t i = 0; i < n; i++) {
		struct exercise one, *ex = optind < argc ? &one : &all.exercises[i];
		struct grader_check verdict;
		struct grader g;
		int init;

		memset(&one, 0, sizeof one);
		memset(&verdict, 0, sizeof verdict);
		memset(&g, 0, sizeof g);
		if (optind < argc && course_load_exercise(course, argv[optind + (int)i], &one, err,
		    sizeof err) < 0) {
			printf("%s  FAIL\n    problem: %s\n", term_safe(argv[optind + (int)i]),
			    term_safe(err));
			failed++;
		} else if ((init = grader_init(&g, ex, course, NULL, err, sizeof err)) < 0) {
			printf("%s  FAIL\n", term_safe(ex->slug));
			print_lines(stdout, "    problem: ", err);
			failed++;
			if (init == GRADER_ESYSTEM)
				rc = EXIT_SYSTEM;
		} else if (grader_check(&g, &verdict) < 0) {
			printf("%s  ERROR\n", term_safe(ex->slug));
			print_indented("    ", "    ", verdict.problems ? verdict.problems :
			    "out of memory");
			failed++;
			rc = EXIT_SYSTEM;
		} else {
			print_check(ex->slug, &verdict);
			failed += !verdict.ok;
		}
		if (ex->isolation == COURSE_ISOLATION_SHARED && ex->slug[0])
			printf("    warning: %s\n", COURSE_SHARED_RISK);
		fflush(stdout);
		grader_check_free(&verdict);
		grader_free(&g);
		course_exercise_free(&one);
	}
	course_free(&all);
	printf("%zu exercise%s checked, %zu failed the gate\n", n, n == 1 ? "" : "s", failed);
	return rc != EXIT_GRADED ? rc : failed ? EXIT_SYSTEM : EXIT_GRADED;
}

struct find_exercise {
	const char *slug;
	long long id;
};

static int
find_exercise(const struct store_exercise *e, void *arg)
{
	struct find_exercise *f = arg;

	if (strcmp(e->slug, f->slug) == 0)
		f->id = e->id;
	return 0;
}

static int
print_preview(const struct store_regrade_row *row, void *arg)
{
	char before[POINTS_TEXT_MAX] = "-", after[POINTS_TEXT_MAX] = "-";

	(void)arg;
	if (row->old_best >= 0)
		points_format(row->old_best, before);
	if (row->new_best >= 0)
		points_format(row->new_best, after);
	printf("    %-24s %4s -> %-4s%s\n", term_safe(row->username), before, after,
	    row->old_best != row->new_best ? "  changed" : "");
	return 0;
}

static struct store *open_db(const char *path);

static int
cmd_regrade(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "all", no_argument, NULL, 'a' },
		{ "apply", no_argument, NULL, 'y' },
		{ "discard", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = DB_DEFAULT;
	struct find_exercise f = { NULL, 0 };
	struct store_regrade g;
	struct store *s;
	long long id, n;
	int c, all = 0, decide = 0, rc = EXIT_SYSTEM, started;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'a': all = 1; break;
		case 'y': decide = 'y'; break;
		case 'n': decide = 'n'; break;
		default: fputs(usage_text, stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "markbook: regrade takes one exercise (SLUG).\n");
		return EXIT_USAGE;
	}
	f.slug = argv[optind];
	if ((s = open_db(db)) == NULL)
		return EXIT_SYSTEM;
	if (store_list_exercises(s, 0, 1, find_exercise, &f) != STORE_OK)
		goto dberr;
	if (f.id == 0) {
		fprintf(stderr, "markbook: the database has no exercise \"%s\" (markbook serve "
		    "records the course's exercises).\n", term_safe(f.slug));
		rc = EXIT_USAGE;
		goto out;
	}
	started = store_start_regrade(s, f.id, all, 0, (long long)time(NULL), &id, &n);
	if (started == STORE_NOTFOUND) {
		printf("No submission of %s was graded with other hidden tests than the current "
		    "ones; --all regrades every graded submission.\n", term_safe(f.slug));
		rc = 0;
		goto out;
	}
	if (started != STORE_OK && started != STORE_EXISTS)
		goto dberr;
	if (store_get_regrade(s, f.id, &g) != STORE_OK)
		goto dberr;
	printf("%s regrade %lld of %s: %lld submission%s. markbook serve grades them after "
	    "new uploads.\n", started == STORE_OK ? "Started" : "Following the running",
	    g.id, term_safe(f.slug), g.total, g.total == 1 ? "" : "s");
	fflush(stdout);
	while (g.graded < g.total) {
		if (isatty(1))
			printf("\rgraded %lld of %lld", g.graded, g.total);
		fflush(stdout);
		usleep(500 * 1000);
		if (store_get_regrade(s, f.id, &g) != STORE_OK)
			goto dberr;
	}
	printf("%sgraded %lld of %lld (%lld could not be graded and keep their score)\n",
	    isatty(1) ? "\r" : "", g.graded, g.total, g.errors);
	if (store_regrade_preview(s, g.id, print_preview, NULL) != STORE_OK)
		goto dberr;
	if (decide == 0 && isatty(0)) {
		char line[16] = "";

		printf("Apply these scores? [y/N] ");
		fflush(stdout);
		decide = fgets(line, sizeof line, stdin) && (line[0] == 'y' || line[0] == 'Y') ?
		    'y' : 'n';
	}
	if (decide == 0) {
		printf("Not applied: apply or discard it in the teacher's page, or run again with "
		    "--apply or --discard.\n");
		rc = 0;
		goto out;
	}
	if (store_finish_regrade(s, g.id, decide == 'y', 0, (long long)time(NULL)) != STORE_OK)
		goto dberr;
	printf("%s.\n", decide == 'y' ? "Applied: the gradebook has the new scores" :
	    "Discarded: no score changed");
	rc = 0;
	goto out;
dberr:
	fprintf(stderr, "markbook: the database: %s\n", store_errmsg(s));
out:
	store_close(s);
	return rc;
}

/* Open (creating when needed) the database at `path`, readable by its owner
 * only: the sandbox user must never read it. */
static struct store *
open_db(const char *path)
{
	char err[1024];
	struct store *s;
	int fd;

	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) >= 0)
		close(fd);
	if ((s = store_open(path, err, sizeof err)) == NULL)
		fprintf(stderr, "markbook: %s\n", term_safe(err));
	return s;
}

/* Add user `username` with a password made here, printed once. */
static int
add_user_generated(struct store *s, const char *username, const char *name, const char *role)
{
	char pw[AUTH_GENERATED_LEN + 1], hash[AUTH_HASH_MAX];
	int rc;

	if (auth_new_password(pw) < 0 || auth_hash_password(pw, hash, sizeof hash) < 0) {
		fprintf(stderr, "markbook: cannot make a password.\n");
		return -1;
	}
	rc = store_add_user(s, username, name, role, hash, (long long)time(NULL), NULL);
	if (rc == STORE_OK)
		printf("New %s \"%s\": password %s (shown only now: write it down)\n", role, username, pw);
	explicit_bzero(pw, sizeof pw);
	return rc;
}

static int
cmd_user(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "role", required_argument, NULL, 'r' },
		{ "name", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = DB_DEFAULT, *role = NULL, *name = NULL, *username;
	char line[PASSWORD_LINE], hash[AUTH_HASH_MAX];
	struct store *s;
	int c, rc;

	if (argc < 2 || strcmp(argv[1], "add") != 0) {
		fprintf(stderr, "markbook: say \"markbook user add ...\".\n%s", usage_text);
		return EXIT_USAGE;
	}
	argc--;
	argv++;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'r': role = optarg; break;
		case 'n': name = optarg; break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: fputs(usage_text, stderr); return EXIT_USAGE;
		}
	}
	if (role == NULL || (strcmp(role, "teacher") != 0 && strcmp(role, "student") != 0) ||
	    optind != argc - 1) {
		fprintf(stderr, "markbook: user add needs --role teacher or --role student and "
		    "one USERNAME.\n");
		return EXIT_USAGE;
	}
	username = argv[optind];
	if (!roster_valid_username(username)) {
		fprintf(stderr, "markbook: a username is 1 to %d letters, digits and . _ @ -.\n",
		    STORE_USERNAME_MAX);
		return EXIT_USAGE;
	}
	if (name && strlen(name) > STORE_NAME_MAX) {
		fprintf(stderr, "markbook: --name is at most %d bytes.\n", STORE_NAME_MAX);
		return EXIT_USAGE;
	}
	if ((s = open_db(db)) == NULL)
		return EXIT_SYSTEM;
	if (isatty(0)) {
		rc = add_user_generated(s, username, name ? name : username, role);
	} else {
		size_t n;

		if (fgets(line, sizeof line, stdin) == NULL)
			line[0] = '\0';
		n = strcspn(line, "\r\n");
		line[n] = '\0';
		if (n == 0 || n > AUTH_PASSWORD_MAX) {
			fprintf(stderr, "markbook: the password on stdin must be 1 to %d bytes.\n",
			    AUTH_PASSWORD_MAX);
			explicit_bzero(line, sizeof line);
			store_close(s);
			return EXIT_USAGE;
		}
		rc = auth_hash_password(line, hash, sizeof hash) < 0 ? STORE_ERROR :
		    store_add_user(s, username, name ? name : username, role, hash,
		    (long long)time(NULL), NULL);
		explicit_bzero(line, sizeof line);
		if (rc == STORE_OK)
			printf("%s %s added\n", role, username);
	}
	if (rc == STORE_EXISTS)
		fprintf(stderr, "markbook: there is already a user \"%s\".\n", username);
	else if (rc != STORE_OK)
		fprintf(stderr, "markbook: cannot add the user: %s\n", store_errmsg(s));
	store_close(s);
	return rc == STORE_OK ? 0 : rc == STORE_EXISTS ? EXIT_USAGE : EXIT_SYSTEM;
}

/* Read the options of a command that takes --db and, when `format` is not
 * NULL, --format. Returns the index of the first operand, or -1 after
 * printing the usage. */
static int
db_options(int argc, char **argv, const char **db, const char **format)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "format", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'd')
			*db = optarg;
		else if (c == 'f' && format)
			*format = optarg;
		else {
			fputs(usage_text, stderr);
			return -1;
		}
	}
	return optind;
}

/* Open the database at `path` only when it exists: a command that reads
 * one must not make an empty one from a mistyped name. */
static struct store *
open_existing_db(const char *path)
{
	if (access(path, F_OK) < 0) {
		fprintf(stderr, "markbook: there is no database %s. Name it with --db FILE.\n",
		    term_safe(path));
		return NULL;
	}
	return open_db(path);
}

static int
cmd_export(int argc, char **argv)
{
	const char *db = DB_DEFAULT, *format = "wide";
	enum csv_format f;
	struct csv out;
	struct store *s;
	int rc = EXIT_SYSTEM;

	if (db_options(argc, argv, &db, &format) != argc)
		return EXIT_USAGE;
	if (csv_format_parse(format, &f) < 0) {
		fprintf(stderr, "markbook: unknown --format \"%s\": use wide, long, canvas or "
		    "moodle.\n", term_safe(format));
		return EXIT_USAGE;
	}
	if ((s = open_db(db)) == NULL)
		return EXIT_SYSTEM;
	memset(&out, 0, sizeof out);
	if (csv_export(s, f, &out) < 0)
		fprintf(stderr, "markbook: cannot read the gradebook: %s\n", store_errmsg(s));
	else if (fwrite(out.buf, 1, out.len, stdout) != out.len || fflush(stdout) != 0)
		perror("markbook: stdout");
	else
		rc = 0;
	csv_free(&out);
	store_close(s);
	return rc;
}

static int
cmd_backup(int argc, char **argv)
{
	const char *db = DB_DEFAULT;
	struct store *s = NULL;
	int first, fd = -1, rc = EXIT_SYSTEM;

	if ((first = db_options(argc, argv, &db, NULL)) < 0)
		return EXIT_USAGE;
	if (first != argc - 1) {
		fprintf(stderr, "markbook: name the one file to write the backup to: markbook "
		    "backup [--db FILE] OUT.db\n");
		return EXIT_USAGE;
	}
	/* A new file readable by its owner only: it holds the same secrets. */
	if ((fd = open(argv[first], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
		fprintf(stderr, "markbook: cannot create %s: %s. Name a new file.\n",
		    term_safe(argv[first]),
		    strerror(errno));
		return errno == EEXIST ? EXIT_USAGE : EXIT_SYSTEM;
	}
	if ((s = open_existing_db(db)) == NULL)
		goto out;
	if (store_backup(s, argv[first]) != STORE_OK) {
		fprintf(stderr, "markbook: the backup failed: %s\n", store_errmsg(s));
		goto out;
	}
	printf("Backed up %s to %s.\n", term_safe(db), term_safe(argv[first]));
	rc = 0;
out:
	close(fd);
	if (rc != 0)
		unlink(argv[first]);
	store_close(s);
	return rc;
}

static int
roster_import_file(struct store *s, const char *file)
{
	struct roster_result *res = NULL;
	char *data = NULL;
	size_t len = 0;
	int rc = EXIT_SYSTEM;

	if ((data = fs_read_file(file, ROSTER_FILE_MAX, &len)) == NULL) {
		fprintf(stderr, "markbook: cannot read %s: %s.\n", term_safe(file), errno == EFBIG ?
		    "it is larger than 1 MiB; keep only the username, name and email columns" :
		    strerror(errno));
		return EXIT_USAGE;
	}
	if ((res = calloc(1, sizeof *res)) == NULL)
		goto out;
	if (roster_import(s, data, len, 0, res) < 0) {
		fprintf(stderr, "markbook: %s: nothing was imported, because:\n", term_safe(file));
		for (size_t i = 0; i < res->n_errors && i < ROSTER_ERRORS_MAX; i++)
			fprintf(stderr, "  %s\n", term_safe(res->errors[i]));
		if (res->n_errors > ROSTER_ERRORS_MAX)
			fprintf(stderr, "  ... and %zu more.\n", res->n_errors - ROSTER_ERRORS_MAX);
		fprintf(stderr, "Correct the file and import it again.\n");
		rc = EXIT_USAGE;
		goto out;
	}
	printf("%zu student%s added, %zu updated, %zu unchanged.\n", res->counts.added,
	    res->counts.added == 1 ? "" : "s", res->counts.updated, res->counts.unchanged);
	if (res->n_added > 0)
		printf("One-time passwords (the login slips page of the teacher's web page shows "
		    "them until each student has chosen a password):\n");
	for (size_t i = 0; i < res->n_added; i++)
		printf("  %-24s %-16s %s\n", term_safe(res->added[i].username),
		    res->added[i].password, term_safe(res->added[i].name));
	rc = 0;
out:
	if (res)
		roster_result_free(res);
	free(res);
	free(data);
	return rc;
}

static int
cmd_roster(int argc, char **argv)
{
	const char *db = DB_DEFAULT, *verb = argc > 1 ? argv[1] : "";
	char pw[AUTH_GENERATED_LEN + 1];
	struct store *s;
	int first, rc = 0;

	if (strcmp(verb, "import") != 0 && strcmp(verb, "reset") != 0) {
		fprintf(stderr, "markbook: say \"markbook roster import FILE\" or \"markbook "
		    "roster reset USERNAME\".\n%s", usage_text);
		return EXIT_USAGE;
	}
	if ((first = db_options(argc - 1, argv + 1, &db, NULL)) < 0)
		return EXIT_USAGE;
	first++;
	if (first == argc || (verb[0] == 'i' && first != argc - 1)) {
		fprintf(stderr, "markbook: roster %s needs %s.\n", verb, verb[0] == 'i' ?
		    "one CSV file" : "at least one USERNAME");
		return EXIT_USAGE;
	}
	if ((s = open_existing_db(db)) == NULL)
		return EXIT_SYSTEM;
	if (verb[0] == 'i') {
		rc = roster_import_file(s, argv[first]);
		store_close(s);
		return rc;
	}
	for (int i = first; i < argc; i++) {
		switch (roster_reset(s, argv[i], 0, pw)) {
		case STORE_OK:
			printf("  %-24s %s\n", term_safe(argv[i]), pw);
			explicit_bzero(pw, sizeof pw);
			break;
		case STORE_NOTFOUND:
			fprintf(stderr, "markbook: there is no student \"%s\".\n", term_safe(argv[i]));
			rc = EXIT_USAGE;
			break;
		default:
			fprintf(stderr, "markbook: cannot reset %s: %s\n", term_safe(argv[i]),
			    store_errmsg(s));
			rc = EXIT_SYSTEM;
		}
	}
	store_close(s);
	return rc;
}

/* Print the address of every non-loopback IPv4 interface, as URLs. */
static void
print_urls(const char *listen, int tls)
{
	const char *scheme = tls ? "https" : "http";
	const char *colon = strrchr(listen, ':');
	const char *port = colon ? colon + 1 : listen;
	struct ifaddrs *ifa, *i;
	int any = 0;

	if (strncmp(listen, "0.0.0.0:", 8) != 0 && colon && colon != listen) {
		printf("Students open: %s://%s/\n", scheme, listen);
		return;
	}
	if (getifaddrs(&ifa) == 0) {
		for (i = ifa; i; i = i->ifa_next) {
			char host[NI_MAXHOST];

			if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET ||
			    (i->ifa_flags & IFF_LOOPBACK) || getnameinfo(i->ifa_addr,
			    sizeof(struct sockaddr_in), host, sizeof host, NULL, 0, NI_NUMERICHOST))
				continue;
			printf("%s %s://%s:%s/   (%s)\n", any ? "              " :
			    "Students open:", scheme, host, port, i->ifa_name);
			any = 1;
		}
		freeifaddrs(ifa);
	}
	if (!any)
		printf("No network address found: students cannot reach this computer. "
		    "Connect it to the class network and restart.\n");
	printf("On this computer: %s://127.0.0.1:%s/\n", scheme, port);
}

static int
cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "course", required_argument, NULL, 'c' },
		{ "db", required_argument, NULL, 'd' },
		{ "listen", required_argument, NULL, 'l' },
		{ "workers", required_argument, NULL, 'w' },
		{ "tls", required_argument, NULL, 't' },
		{ "connections", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *course = ".", *db = DB_DEFAULT, *listen = LISTEN_DEFAULT, *tls = NULL;
	long workers = sysconf(_SC_NPROCESSORS_ONLN), conns = WEB_THREADS_DEFAULT;
	struct web_config wc;
	struct web *web = NULL;
	struct sockaddr_in addr;
	struct store *s = NULL;
	struct queue q;
	long long n = 0, failed = 0;
	char err[4096], dbabs[PATH_MAX], *end;
	sigset_t stop;
	int c, sig, rc = EXIT_SYSTEM;

	memset(&q, 0, sizeof q);
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c': course = optarg; break;
		case 'd': db = optarg; break;
		case 'l': listen = optarg; break;
		case 't': tls = optarg; break;
		case 'w':
			errno = 0;
			workers = strtol(optarg, &end, 10);
			if (errno || *end || workers < 1 || workers > QUEUE_WORKERS_MAX) {
				fprintf(stderr, "markbook: --workers takes a number from 1 to %d.\n",
				    QUEUE_WORKERS_MAX);
				return EXIT_USAGE;
			}
			break;
		case 'n':
			errno = 0;
			conns = strtol(optarg, &end, 10);
			if (errno || *end || conns < WEB_THREADS_MIN || conns > WEB_THREADS_MAX) {
				fprintf(stderr, "markbook: --connections takes a number from %d "
				    "to %d.\n", WEB_THREADS_MIN, WEB_THREADS_MAX);
				return EXIT_USAGE;
			}
			break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: fputs(usage_text, stderr); return EXIT_USAGE;
		}
	}
	if (web_parse_listen(listen, &addr) < 0) {
		fprintf(stderr, "markbook: --listen takes PORT or IPV4-ADDRESS:PORT, such as "
		    "0.0.0.0:8080 (every network of this computer) or 127.0.0.1:8080 (this "
		    "computer only); \"%s\" is neither.\n", listen);
		return EXIT_USAGE;
	}
	if (workers < 1)
		workers = 1;
	if (workers > QUEUE_WORKERS_MAX)
		workers = QUEUE_WORKERS_MAX;
	if (worker_init(err, sizeof err) < 0) {
		fprintf(stderr, "markbook: %s\n", err);
		return EXIT_SYSTEM;
	}
	if ((s = open_db(db)) == NULL)
		return EXIT_SYSTEM;
	/* Worker threads open the same file even if the folder changes. */
	if (realpath(db, dbabs) == NULL) {
		perror(db);
		goto out;
	}
	/* What the teacher reads on a submission whose last grading never ended. */
	snprintf(err, sizeof err, "markbook stopped (a crash, a kill or a power cut) while "
	    "grading this submission, and that was attempt %d of %d, so it is not graded "
	    "again by itself: use Grade again once the cause is fixed.", STORE_ATTEMPTS_MAX,
	    STORE_ATTEMPTS_MAX);
	if (store_requeue_grading(s, err, (long long)time(NULL), &n, &failed) != STORE_OK)
		goto dberr;
	if (n > 0)
		printf("%lld submission%s interrupted by the last stop %s back in the queue.\n", n,
		    n == 1 ? "" : "s", n == 1 ? "is" : "are");
	if (failed > 0)
		printf("%lld submission%s whose grading started %d times without a result %s "
		    "marked error, not graded again by itself (Grade again on its page).\n",
		    failed, failed == 1 ? "" : "s", STORE_ATTEMPTS_MAX, failed == 1 ? "is" : "are");
	if (store_count_users(s, "teacher", &n) != STORE_OK)
		goto dberr;
	if (n == 0 && add_user_generated(s, "teacher", "Teacher", "teacher") != STORE_OK)
		goto dberr;
	printf("Preparing the exercises in the sandbox...\n");
	fflush(stdout);
	if (queue_load(&q, course, dbabs, s, err, sizeof err) < 0) {
		fprintf(stderr, "markbook: %s\n", term_safe(err));
		rc = EXIT_USAGE;
		goto out;
	}
	queue_print_course(q.set, 0);
	print_limits(stdout, 1);
	if (!q.sandbox_ok)
		printf("The sandbox does not work, so nothing can be graded: %s\n",
		    term_safe(q.sandbox_message));
	/* Every thread started from here on leaves these to sigwait. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	if (queue_start(&q, dbabs, (unsigned)workers, err, sizeof err) < 0) {
		fprintf(stderr, "markbook: %s\n", term_safe(err));
		goto out;
	}
	memset(&wc, 0, sizeof wc);
	wc.listen = listen;
	wc.db_path = dbabs;
	wc.threads = (unsigned)conns;
	wc.queue = &q;
	wc.tls_cert = tls;
	if ((web = web_start(&wc, err, sizeof err)) == NULL) {
		fprintf(stderr, "markbook: %s\n", term_safe(err));
		goto out;
	}
	printf("markbook is serving %s with %ld grading thread%s. Stop it with Ctrl-C.\n",
	    term_safe(q.course_dir), workers, workers == 1 ? "" : "s");
	print_urls(listen, tls != NULL);
	fflush(stdout);
	/* SIGHUP reloads the course folder, like the button on the Exercises page. */
	while (sigwait(&stop, &sig) == 0 && sig == SIGHUP) {
		printf("Reloading the course folder (SIGHUP)...\n");
		fflush(stdout);
		queue_reload(&q);
	}
	printf("\nStopping: finishing the gradings in progress...\n");
	fflush(stdout);
	rc = 0;
	goto out;
dberr:
	fprintf(stderr, "markbook: the database: %s\n", store_errmsg(s));
out:
	web_stop(web);
	queue_stop(&q);
	store_close(s);
	queue_free(&q);
	return rc;
}

int
main(int argc, char **argv)
{
	char err[512];

	/* A reader that goes away (markbook grade ... | head) should end us
	 * quietly; the sandbox child resets this before exec. */
	signal(SIGPIPE, SIG_DFL);
	if (sandbox_init(err, sizeof err) < 0) {
		fprintf(stderr, "markbook: %s\n", err);
		return EXIT_SYSTEM;
	}
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		fputs(usage_text, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_GRADED;
	}
	if (strcmp(argv[1], "grade") == 0)
		return cmd_grade(argc - 1, argv + 1);
	if (strcmp(argv[1], WORKER_COMMAND) == 0)
		return worker_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	if (strcmp(argv[1], "regrade") == 0)
		return cmd_regrade(argc - 1, argv + 1);
	if (strcmp(argv[1], "serve") == 0)
		return cmd_serve(argc - 1, argv + 1);
	if (strcmp(argv[1], "user") == 0)
		return cmd_user(argc - 1, argv + 1);
	if (strcmp(argv[1], "export") == 0)
		return cmd_export(argc - 1, argv + 1);
	if (strcmp(argv[1], "roster") == 0)
		return cmd_roster(argc - 1, argv + 1);
	if (strcmp(argv[1], "backup") == 0)
		return cmd_backup(argc - 1, argv + 1);
	fprintf(stderr, "markbook: unknown command \"%s\".\n%s", term_safe(argv[1]), usage_text);
	return EXIT_USAGE;
}

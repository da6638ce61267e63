#include "course.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "json.h"
#include "msg.h"
#include "points.h"

static const char *const allowed_keys[] = {
	"title", "phase", "max_points", "due_at", "timeout_s",
	"test_timeout_s", "memory_mb", "feedback", "isolation", "late", NULL
};

int
course_valid_slug(const char *slug)
{
	size_t n = strlen(slug);

	if (n == 0 || n > COURSE_SLUG_MAX)
		return 0;
	for (; *slug; slug++)
		if (!((*slug >= 'a' && *slug <= 'z') ||
		    (*slug >= '0' && *slug <= '9') || *slug == '-'))
			return 0;
	return 1;
}

static int
digits(const char **p, int n, int *out)
{
	int v = 0;

	while (n-- > 0) {
		if (!isdigit((unsigned char)**p))
			return -1;
		v = v * 10 + (*(*p)++ - '0');
	}
	*out = v;
	return 0;
}

int
course_parse_time(const char *s, time_t *out)
{
	struct tm tm = { 0 };
	int y, mo, d, h, mi, sec = 0, oh = 0, om = 0, sign = 1;
	time_t t;

	if (digits(&s, 4, &y) || *s++ != '-' || digits(&s, 2, &mo) ||
	    *s++ != '-' || digits(&s, 2, &d) || (*s != 'T' && *s != ' '))
		return -1;
	s++;
	if (digits(&s, 2, &h) || *s++ != ':' || digits(&s, 2, &mi))
		return -1;
	if (*s == ':') {
		s++;
		if (digits(&s, 2, &sec))
			return -1;
		if (*s == '.')	/* fractions of a second do not matter for a due date */
			for (s++; isdigit((unsigned char)*s); s++)
				;
	}
	if (*s == 'Z')
		s++;
	else if (*s == '+' || *s == '-') {
		sign = *s++ == '-' ? -1 : 1;
		if (digits(&s, 2, &oh) || *s++ != ':' || digits(&s, 2, &om))
			return -1;
	} else
		return -1;
	if (*s != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || sec > 60 || oh > 23 || om > 59)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	/* timegm normalises 31 February into March: refuse it instead. */
	if (tm.tm_mday != d || tm.tm_mon != mo - 1)
		return -1;
	*out = t - sign * (oh * 3600 + om * 60);
	return 0;
}

static int
json_error_line(const char *text, const char *at)
{
	int line = 1;

	for (; text < at && *text; text++)
		if (*text == '\n')
			line++;
	return line;
}

/* Read an optional whole number in [lo, hi]; `*out` keeps its default when
 * the key is absent. */
static int
get_int(const cJSON *obj, const char *key, int lo, int hi, int *out,
    const char *file, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (v == NULL)
		return 0;
	/* The range first: casting a double beyond long long (1e300, NaN) is
	 * undefined behaviour. */
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo && v->valuedouble <= hi) ||
	    v->valuedouble != (double)(int)v->valuedouble)
		return msg_fail(err, errlen, "%s: \"%s\" must be a whole number from %d to %d.",
		    file, key, lo, hi);
	*out = (int)v->valuedouble;
	return 0;
}

/* "late": {"penalty_per_day": P, "max_days": D}: both keys, nothing else, and a
 * due date to be late for. */
static int
get_late(const cJSON *obj, struct exercise *ex, const char *file, char *err, size_t errlen)
{
	static const char shape[] = "\"late\" must look like {\"penalty_per_day\": 10, "
	    "\"max_days\": 7}: the percent of the earned score taken per started day after "
	    "due_at, and the days after which a late submission scores 0";
	const cJSON *late = cJSON_GetObjectItemCaseSensitive(obj, "late"), *it;
	int penalty = -1, days = -1;

	if (late == NULL || cJSON_IsNull(late))
		return 0;
	if (!cJSON_IsObject(late))
		return msg_fail(err, errlen, "%s: %s.", file, shape);
	cJSON_ArrayForEach(it, late)
		if (strcmp(it->string, "penalty_per_day") != 0 && strcmp(it->string, "max_days") != 0)
			return msg_fail(err, errlen, "%s: unknown key \"%s\" in \"late\"; %s.", file,
			    it->string, shape);
	if (get_int(late, "penalty_per_day", 0, 100, &penalty, file, err, errlen) < 0 ||
	    get_int(late, "max_days", 0, COURSE_LATE_DAYS_MAX, &days, file, err, errlen) < 0)
		return -1;
	if (penalty < 0 || days < 0)
		return msg_fail(err, errlen, "%s: %s.", file, shape);
	if (ex->due_at == NULL)
		return msg_fail(err, errlen, "%s: \"late\" needs a \"due_at\" to count the days "
		    "from.", file);
	ex->late = 1;
	ex->late_penalty = (unsigned)penalty;
	ex->late_max_days = (unsigned)days;
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Collect the names in folder `dir` accepted by `keep` into a sorted array. */
static int
list_dir(const char *dir, int (*keep)(const char *dir, const char *name, void *arg),
    void *arg, char ***out, size_t *n)
{
	struct dirent *de;
	DIR *d;

	*out = NULL;
	*n = 0;
	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		char **grown;

		if (!keep(dir, de->d_name, arg))
			continue;
		if (*n == COURSE_FILES_MAX) {
			closedir(d);
			errno = E2BIG;
			return -1;
		}
		if ((grown = realloc(*out, (*n + 1) * sizeof *grown)) == NULL ||
		    (grown[*n] = strdup(de->d_name)) == NULL) {
			if (grown)
				*out = grown;
			closedir(d);
			return -1;
		}
		*out = grown;
		(*n)++;
	}
	closedir(d);
	if (*n > 0)
		qsort(*out, *n, sizeof **out, cmp_str);
	return 0;
}

int
course_is_test_file(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	/* pytest's default python_files, matched as it does on the last part. */
	return fnmatch("test_*.py", base, 0) == 0 || fnmatch("*_test.py", base, 0) == 0;
}

static int
ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), k = strlen(tail);

	return n >= k && strcmp(s + n - k, tail) == 0;
}

/* The files of one side of an exercise being listed: exercises/<slug>
 * (handed to students) or hidden/<slug> (staged for the tests). */
struct listing {
	const char *top;	/* the folder, as markbook opens it */
	const char *shown;	/* the folder as the teacher names it, for messages */
	const char *what;	/* what its files are for, for messages */
	const char *scaffold;	/* exercises/<slug>: the scaffold's name; NULL for hidden */
	char **files;		/* paths relative to `top` */
	size_t n;
};

/* Whether entry `name` of folder `rel` ("" at the top) is left out: never
 * dot files (editors' and git's) or __pycache__; at the top, exercise.json,
 * the scaffold and practice/ (served to browsers as it is), or solution.py. */
static int
left_out(const struct listing *l, const char *rel, const char *name, int is_dir)
{
	if (name[0] == '.' || strcmp(name, "__pycache__") == 0)
		return 1;
	if (*rel != '\0')
		return 0;
	if (l->scaffold != NULL)
		return is_dir ? strcmp(name, "practice") == 0 :
		    strcmp(name, "exercise.json") == 0 || strcmp(name, l->scaffold) == 0;
	return !is_dir && strcmp(name, "solution.py") == 0;
}

static int list_folder(struct listing *l, const char *rel, int depth, char *err,
    size_t errlen);

/* Add entry `name` of folder `rel` to `l`: a regular file within the limits,
 * or a folder's files. Links are never followed (one may lead anywhere). */
static int
list_entry(struct listing *l, const char *rel, const char *name, int depth, char *err,
    size_t errlen)
{
	char *sub = NULL, *path = NULL, **grown;
	size_t limit;
	struct stat st;
	int fd, rc = -1;

	if (asprintf(&sub, "%s%s%s", rel, *rel ? "/" : "", name) < 0) {
		sub = NULL;
		goto oom;
	}
	if (asprintf(&path, "%s/%s", l->top, sub) < 0) {
		path = NULL;
		goto oom;
	}
	if (strlen(path) >= PATH_MAX) {
		msg_fail(err, errlen, "%s/%s: the path is too long; shorten its names.", l->shown, sub);
		goto out;
	}
	if (lstat(path, &st) < 0) {
		msg_fail(err, errlen, "%s/%s: %s.", l->shown, sub, strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode) && !left_out(l, rel, name, 1)) {
		if (depth == COURSE_DEPTH_MAX) {
			msg_fail(err, errlen, "%s/%s: folders nested more than %d deep; move its files "
			    "up.", l->shown, sub, COURSE_DEPTH_MAX);
			goto out;
		}
		rc = list_folder(l, sub, depth + 1, err, errlen);
		goto out;
	}
	rc = 0;
	if (!S_ISREG(st.st_mode) || left_out(l, rel, name, 0))
		goto out;
	rc = -1;
	limit = l->scaffold == NULL && ends_with(name, ".py") ? COURSE_FILE_MAX : COURSE_DATA_MAX;
	if ((unsigned long long)st.st_size > limit) {
		msg_fail(err, errlen, "%s/%s: %.1f MiB; markbook copies it for every grading and "
		    "takes files of at most %d MiB (a .py file of hidden/ at most %d MiB). Make it "
		    "smaller.", l->shown, sub, (double)st.st_size / (1024 * 1024),
		    COURSE_DATA_MAX >> 20, COURSE_FILE_MAX >> 20);
		goto out;
	}
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		msg_fail(err, errlen, "%s/%s cannot be read: %s.", l->shown, sub, strerror(errno));
		goto out;
	}
	close(fd);
	if (l->n == COURSE_FILES_MAX) {
		msg_fail(err, errlen, "%s: more than %d files %s (%s is one too many). Combine some "
		    "(a .zip the notebook unpacks) or remove those that are not needed.", l->shown,
		    COURSE_FILES_MAX, l->what, sub);
		goto out;
	}
	if ((grown = realloc(l->files, (l->n + 1) * sizeof *grown)) == NULL)
		goto oom;
	l->files = grown;
	l->files[l->n++] = sub;
	sub = NULL;
	rc = 0;
	goto out;
oom:
	msg_fail(err, errlen, "out of memory");
out:
	free(sub);
	free(path);
	return rc;
}

/* Add the files of folder `rel` of `l` ("" for the top), `depth` folders down. */
static int
list_folder(struct listing *l, const char *rel, int depth, char *err, size_t errlen)
{
	struct dirent **names = NULL;
	char *dir = NULL;
	int n, i, rc = 0;

	if (asprintf(&dir, "%s%s%s", l->top, *rel ? "/" : "", rel) < 0)
		return msg_fail(err, errlen, "out of memory");
	if ((n = scandir(dir, &names, NULL, alphasort)) < 0)
		rc = msg_fail(err, errlen, "%s%s%s: %s.", l->shown, *rel ? "/" : "", rel,
		    strerror(errno));
	for (i = 0; i < n; i++) {
		if (rc == 0 && strcmp(names[i]->d_name, ".") != 0 &&
		    strcmp(names[i]->d_name, "..") != 0)
			rc = list_entry(l, rel, names[i]->d_name, depth, err, errlen);
		free(names[i]);
	}
	free(names);
	free(dir);
	return rc;
}

/* Every file of `l` into `*files` (sorted, relative paths), within the limits.
 * Returns 0, or -1 with a sentence naming the file in `err`; `*files` is the
 * caller's to free either way. */
static int
list_files(struct listing *l, char ***files, size_t *n, char *err, size_t errlen)
{
	int rc = list_folder(l, "", 0, err, errlen);

	*files = l->files;
	*n = l->n;
	if (rc == 0 && l->n > 0)
		qsort(l->files, l->n, sizeof *l->files, cmp_str);
	return rc;
}

static char *
path_join(const char *a, const char *b)
{
	char *p;

	return asprintf(&p, "%s/%s", a, b) < 0 ? NULL : p;
}

/* The course folder as the teacher typed it, for messages. */
static const char *
shown(const char *dir)
{
	return strcmp(dir, ".") == 0 ? "" : dir;
}

/* The tests among the hidden files: at least one, as pytest names them. */
static int
pick_tests(struct exercise *ex, const char *shown_hidden, char *err, size_t errlen)
{
	if ((ex->test_files = calloc(ex->n_hidden_files + 1, sizeof *ex->test_files)) == NULL)
		return msg_fail(err, errlen, "out of memory");
	for (size_t i = 0; i < ex->n_hidden_files; i++) {
		if (!course_is_test_file(ex->hidden_files[i]))
			continue;
		if ((ex->test_files[ex->n_test_files] = strdup(ex->hidden_files[i])) == NULL)
			return msg_fail(err, errlen, "out of memory");
		ex->n_test_files++;
	}
	if (ex->n_test_files == 0)
		return msg_fail(err, errlen, "%s: no test file. Name the hidden tests test_*.py or "
		    "*_test.py (pytest's names for test files); other .py files there are helpers.",
		    shown_hidden);
	return 0;
}

/* Names the staging folder gives a meaning (CONTRIBUTING.md): the
 * submission's copies, the hidden/ folder, and modules the tests import. */
static int
check_names(const struct exercise *ex, const char *shown_ex, const char *shown_hidden,
    char *err, size_t errlen)
{
	for (size_t i = 0; i < ex->n_hidden_files; i++)
		if (strcmp(ex->hidden_files[i], "submission.py") == 0)
			return msg_fail(err, errlen, "%s/submission.py: markbook puts the student's "
			    "notebook there while grading (tests may read it); rename this file.",
			    shown_hidden);
	for (size_t i = 0; i < ex->n_data_files; i++) {
		const char *name = ex->data_files[i];

		if (strcmp(name, "submission.py") == 0 || strcmp(name, "hidden") == 0 ||
		    strncmp(name, "hidden/", 7) == 0)
			return msg_fail(err, errlen, "%s/%s: markbook puts the student's notebook "
			    "(submission.py) and the hidden tests (hidden/) there while grading; rename "
			    "it.", shown_ex, name);
		if (strchr(name, '/') == NULL && ends_with(name, ".py") &&
		    bsearch(&name, ex->hidden_files, ex->n_hidden_files, sizeof(char *),
		    cmp_str) != NULL)
			return msg_fail(err, errlen, "%s/%s: a data file may not have the name of a "
			    "hidden test or helper module (the tests would import the wrong one); "
			    "rename it.", shown_ex, name);
	}
	return 0;
}

int
course_load_exercise(const char *dir, const char *slug, struct exercise *ex,
    char *err, size_t errlen)
{
	char file[PATH_MAX], scaffold_name[COURSE_SLUG_MAX + 4];
	const char *pre = shown(dir), *sep = *shown(dir) ? "/" : "";
	char *text = NULL, *jpath = NULL, *spath = NULL, *shown_ex = NULL, *shown_hidden = NULL;
	struct listing exl = { 0 }, hl = { 0 };
	const char *parse_end = NULL;
	cJSON *json = NULL, *it;
	size_t len;
	int rc = -1, v, too_deep;

	memset(ex, 0, sizeof *ex);
	if (!course_valid_slug(slug))
		return msg_fail(err, errlen, "%s%sexercises/%s: the exercise name \"%s\" may only "
		    "contain a-z, 0-9 and - (rename the folder).", pre, sep, slug, slug);
	snprintf(ex->slug, sizeof ex->slug, "%s", slug);
	snprintf(file, sizeof file, "%s%sexercises/%s/exercise.json", pre, sep, slug);
	if (asprintf(&ex->dir, "%s/exercises/%s", dir, slug) < 0 ||
	    asprintf(&ex->hidden_dir, "%s/hidden/%s", dir, slug) < 0) {
		ex->dir = ex->hidden_dir = NULL;
		return msg_fail(err, errlen, "out of memory");
	}
	if (!fs_is_dir(ex->dir)) {
		msg_fail(err, errlen, "%s%sexercises/%s: no such exercise folder.", pre, sep, slug);
		goto out;
	}
	if ((jpath = path_join(ex->dir, "exercise.json")) == NULL)
		goto oom;
	if ((text = fs_read_file(jpath, COURSE_JSON_MAX, &len)) == NULL) {
		msg_fail(err, errlen, "%s: %s.", file, errno == ENOENT ? "missing (every exercise "
		    "needs an exercise.json with title, phase and max_points)" : strerror(errno));
		goto out;
	}
	json = json_parse(text, len, &too_deep, &parse_end);
	if (json == NULL && too_deep) {
		msg_fail(err, errlen, "%s: nested more than %d levels deep; an exercise.json is "
		    "one object of plain settings.", file, JSON_DEPTH_MAX);
		goto out;
	}
	if (json == NULL) {
		msg_fail(err, errlen, "%s: invalid JSON near line %d.", file,
		    json_error_line(text, parse_end ? parse_end : text + len));
		goto out;
	}
	if (!cJSON_IsObject(json)) {
		msg_fail(err, errlen, "%s: must be a JSON object like {\"title\": ..., "
		    "\"phase\": 1, \"max_points\": 10}.", file);
		goto out;
	}
	cJSON_ArrayForEach(it, json) {
		const char *const *k;

		for (k = allowed_keys; *k && strcmp(*k, it->string) != 0; k++)
			;
		if (*k == NULL) {
			msg_fail(err, errlen, "%s: unknown key \"%s\" (allowed: title, phase, "
			    "max_points, due_at, timeout_s, test_timeout_s, memory_mb, feedback, isolation, "
			    "late).",
			    file, it->string);
			goto out;
		}
	}
	it = cJSON_GetObjectItemCaseSensitive(json, "title");
	if (!cJSON_IsString(it) || it->valuestring[0] == '\0') {
		msg_fail(err, errlen, "%s: \"title\" is required and must be a non-empty string.", file);
		goto out;
	}
	if ((ex->title = strdup(it->valuestring)) == NULL)
		goto oom;
	if (cJSON_GetObjectItemCaseSensitive(json, "phase") == NULL ||
	    cJSON_GetObjectItemCaseSensitive(json, "max_points") == NULL) {
		msg_fail(err, errlen, "%s: \"phase\" and \"max_points\" are required.", file);
		goto out;
	}
	if (get_int(json, "phase", 1, 2, &ex->phase, file, err, errlen) < 0)
		goto out;
	it = cJSON_GetObjectItemCaseSensitive(json, "max_points");
	if (!cJSON_IsNumber(it) ||
	    points_from_number(it->valuedouble, POINTS_MAX, &ex->max_points) < 0 ||
	    ex->max_points == 0) {
		msg_fail(err, errlen, "%s: \"max_points\" must be a number of points above 0 and "
		    "up to %d, with at most two decimals (such as 10 or 7.5).", file,
		    POINTS_MAX / POINTS_SCALE);
		goto out;
	}
	v = COURSE_TIMEOUT_DEFAULT;
	if (get_int(json, "timeout_s", 1, 3600, &v, file, err, errlen) < 0)
		goto out;
	ex->timeout_s = (unsigned)v;
	v = COURSE_TEST_TIMEOUT_DEFAULT < ex->timeout_s ? COURSE_TEST_TIMEOUT_DEFAULT : (int)ex->timeout_s;
	if (get_int(json, "test_timeout_s", 1, (int)ex->timeout_s, &v, file, err, errlen) < 0)
		goto out;
	ex->test_timeout_s = (unsigned)v;
	v = COURSE_MEMORY_DEFAULT;
	if (get_int(json, "memory_mb", 64, 16384, &v, file, err, errlen) < 0)
		goto out;
	ex->memory_mb = (unsigned)v;
	it = cJSON_GetObjectItemCaseSensitive(json, "feedback");
	if (it != NULL) {
		if (cJSON_IsString(it) && strcmp(it->valuestring, "always") == 0)
			ex->feedback = COURSE_FEEDBACK_ALWAYS;
		else if (cJSON_IsString(it) && strcmp(it->valuestring, "never") == 0)
			ex->feedback = COURSE_FEEDBACK_NEVER;
		else if (!cJSON_IsString(it) || strcmp(it->valuestring, "after_due") != 0) {
			msg_fail(err, errlen, "%s: \"feedback\" must be \"after_due\" (students see "
			    "why a test failed once the due date has passed), \"always\" or "
			    "\"never\".", file);
			goto out;
		}
	}
	it = cJSON_GetObjectItemCaseSensitive(json, "isolation");
	if (it != NULL) {
		if (cJSON_IsString(it) && strcmp(it->valuestring, "shared") == 0)
			ex->isolation = COURSE_ISOLATION_SHARED;
		else if (!cJSON_IsString(it) || strcmp(it->valuestring, "process") != 0) {
			msg_fail(err, errlen, "%s: \"isolation\" must be \"process\" (the notebook and "
			    "the tests run in separate sandboxes and exchange plain values) or "
			    "\"shared\" (one process, for tests that need real objects).", file);
			goto out;
		}
	}
	it = cJSON_GetObjectItemCaseSensitive(json, "due_at");
	if (it != NULL && !cJSON_IsNull(it)) {
		if (!cJSON_IsString(it) || course_parse_time(it->valuestring, &ex->due) < 0) {
			msg_fail(err, errlen, "%s: \"due_at\" must be a date and time with its offset, "
			    "like \"2026-12-01T23:59:00+01:00\".", file);
			goto out;
		}
		if ((ex->due_at = strdup(it->valuestring)) == NULL)
			goto oom;
	}
	if (get_late(json, ex, file, err, errlen) < 0)
		goto out;

	snprintf(scaffold_name, sizeof scaffold_name, "%s.py", slug);
	if ((spath = path_join(ex->dir, scaffold_name)) == NULL)
		goto oom;
	if ((ex->scaffold = fs_read_file(spath, COURSE_FILE_MAX, &ex->scaffold_len)) == NULL) {
		msg_fail(err, errlen, "%s%sexercises/%s/%s: %s.", pre, sep, slug, scaffold_name,
		    errno == ENOENT ? "missing (the scaffold students download)" :
		    errno == EFBIG ? "larger than 1 MiB" : strerror(errno));
		goto out;
	}
	if (asprintf(&shown_ex, "%s%sexercises/%s", pre, sep, slug) < 0) {
		shown_ex = NULL;
		goto oom;
	}
	if (asprintf(&shown_hidden, "%s%shidden/%s", pre, sep, slug) < 0) {
		shown_hidden = NULL;
		goto oom;
	}
	exl.top = ex->dir;
	exl.shown = shown_ex;
	exl.what = "to hand out with the scaffold";
	exl.scaffold = scaffold_name;
	if (list_files(&exl, &ex->data_files, &ex->n_data_files, err, errlen) < 0)
		goto out;
	if (!fs_is_dir(ex->hidden_dir)) {
		msg_fail(err, errlen, "%s: missing (the hidden tests of %s go there, as test_*.py "
		    "or *_test.py files).", shown_hidden, slug);
		goto out;
	}
	hl.top = ex->hidden_dir;
	hl.shown = shown_hidden;
	hl.what = "to stage beside the tests";
	if (list_files(&hl, &ex->hidden_files, &ex->n_hidden_files, err, errlen) < 0 ||
	    pick_tests(ex, shown_hidden, err, errlen) < 0 ||
	    check_names(ex, shown_ex, shown_hidden, err, errlen) < 0)
		goto out;
	rc = 0;
	goto out;
oom:
	msg_fail(err, errlen, "out of memory");
out:
	cJSON_Delete(json);
	free(text);
	free(jpath);
	free(spath);
	free(shown_ex);
	free(shown_hidden);
	return rc;
}

static int
keep_exercise(const char *dir, const char *name, void *arg)
{
	char path[PATH_MAX];

	(void)arg;
	if (name[0] == '.')
		return 0;
	if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
		return 0;
	return fs_is_dir(path);
}

int
course_load(const char *dir, struct course *c, char *err, size_t errlen)
{
	char *exdir = NULL, **names = NULL, *abs = NULL;
	size_t n = 0, i;
	int rc = -1;

	memset(c, 0, sizeof *c);
	if ((abs = realpath(dir, NULL)) == NULL)
		return msg_fail(err, errlen, "%s: %s.", dir, strerror(errno));
	c->dir = abs;
	if ((exdir = path_join(dir, "exercises")) == NULL)
		return msg_fail(err, errlen, "out of memory");
	if (list_dir(exdir, keep_exercise, NULL, &names, &n) < 0) {
		msg_fail(err, errlen, "%s: %s (a course folder holds exercises/ and hidden/).",
		    exdir, errno == ENOENT ? "missing" : strerror(errno));
		goto out;
	}
	if ((c->exercises = calloc(n ? n : 1, sizeof *c->exercises)) == NULL) {
		msg_fail(err, errlen, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		c->n_exercises++;
		if (course_load_exercise(dir, names[i], &c->exercises[i], err, errlen) < 0)
			goto out;
	}
	rc = 0;
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(exdir);
	return rc;
}

static void
free_list(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

void
course_exercise_free(struct exercise *ex)
{
	free(ex->title);
	free(ex->due_at);
	free(ex->dir);
	free(ex->hidden_dir);
	free(ex->scaffold);
	free_list(ex->data_files, ex->n_data_files);
	free_list(ex->hidden_files, ex->n_hidden_files);
	free_list(ex->test_files, ex->n_test_files);
	memset(ex, 0, sizeof *ex);
}

void
course_free(struct course *c)
{
	for (size_t i = 0; i < c->n_exercises; i++)
		course_exercise_free(&c->exercises[i]);
	free(c->exercises);
	free(c->dir);
	memset(c, 0, sizeof *c);
}

#include "course.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

static int
is_regular(const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
		return 0;
	return lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Data files handed to students: every regular file but the scaffold and
 * exercise.json, and no dot files. */
static int
keep_data(const char *dir, const char *name, void *arg)
{
	const char *scaffold = arg;

	return name[0] != '.' && strcmp(name, "exercise.json") != 0 &&
	    strcmp(name, scaffold) != 0 && is_regular(dir, name);
}

/* Hidden files staged for a run: every .py but the reference solution. */
static int
keep_test(const char *dir, const char *name, void *arg)
{
	size_t n = strlen(name);

	(void)arg;
	return name[0] != '.' && n > 3 && strcmp(name + n - 3, ".py") == 0 &&
	    strcmp(name, "solution.py") != 0 && is_regular(dir, name);
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

int
course_load_exercise(const char *dir, const char *slug, struct exercise *ex,
    char *err, size_t errlen)
{
	char file[PATH_MAX], scaffold_name[COURSE_SLUG_MAX + 4];
	const char *pre = shown(dir), *sep = *shown(dir) ? "/" : "";
	char *text = NULL, *jpath = NULL, *spath = NULL;
	const char *parse_end = NULL;
	cJSON *json = NULL, *it;
	size_t len, i;
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
	if (list_dir(ex->dir, keep_data, scaffold_name, &ex->data_files, &ex->n_data_files) < 0) {
		msg_fail(err, errlen, "%s%sexercises/%s: %s.", pre, sep, slug,
		    errno == E2BIG ? "too many data files" : strerror(errno));
		goto out;
	}
	if (!fs_is_dir(ex->hidden_dir)) {
		msg_fail(err, errlen, "%s%shidden/%s: missing (the hidden tests of %s go there, "
		    "as test_*.py files).", pre, sep, slug, slug);
		goto out;
	}
	if (list_dir(ex->hidden_dir, keep_test, NULL, &ex->test_files, &ex->n_test_files) < 0) {
		msg_fail(err, errlen, "%s%shidden/%s: %s.", pre, sep, slug,
		    errno == E2BIG ? "too many files" : strerror(errno));
		goto out;
	}
	for (i = 0; i < ex->n_test_files; i++)
		if (strncmp(ex->test_files[i], "test_", 5) == 0)
			break;
	if (i == ex->n_test_files) {
		msg_fail(err, errlen, "%s%shidden/%s: no test_*.py file (write the hidden tests "
		    "there).", pre, sep, slug);
		goto out;
	}
	for (i = 0; i < ex->n_data_files; i++)
		if (bsearch(&ex->data_files[i], ex->test_files, ex->n_test_files,
		    sizeof(char *), cmp_str) != NULL ||
		    strcmp(ex->data_files[i], "submission.py") == 0) {
			msg_fail(err, errlen, "%s%sexercises/%s/%s: a data file may not have the name "
			    "of a hidden test or submission.py (rename it).", pre, sep, slug,
			    ex->data_files[i]);
			goto out;
		}
	{
		char *data = path_join(ex->hidden_dir, "data");

		if (data == NULL)
			goto oom;
		ex->has_hidden_data = fs_is_dir(data);
		free(data);
	}
	rc = 0;
	goto out;
oom:
	msg_fail(err, errlen, "out of memory");
out:
	cJSON_Delete(json);
	free(text);
	free(jpath);
	free(spath);
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

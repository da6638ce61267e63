#include "report.h"

#include <assert.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "msg.h"
#include "points.h"

static const char *const outcomes[] = {
	"passed", "failed", "error", "skipped", "xfailed", "xpassed", NULL
};

/* A copy of at most `max` bytes, cut at a UTF-8 character boundary. */
static char *
copy_capped(const char *s, size_t max)
{
	size_t n = strlen(s);
	char *c;

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	if ((c = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(c, s, n);
	c[n] = '\0';
	return c;
}

static int
has_duplicate_keys(const cJSON *obj)
{
	const cJSON *a, *b;

	for (a = obj->child; a; a = a->next)
		for (b = a->next; b; b = b->next)
			if (strcmp(a->string, b->string) == 0)
				return 1;
	return 0;
}

static const char *
get_str(const cJSON *obj, const char *key, size_t max)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!cJSON_IsString(v) || strlen(v->valuestring) > max)
		return NULL;
	return v->valuestring;
}

/* A string field that may be long: capped rather than refused. */
static const char *
get_text(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int
get_int(const cJSON *obj, const char *key, long long *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) ||
	    v->valuedouble != floor(v->valuedouble) || fabs(v->valuedouble) > 1e15)
		return -1;
	*out = (long long)v->valuedouble;
	return 0;
}

static int
get_bool(const cJSON *obj, const char *key, int *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!cJSON_IsBool(v))
		return -1;
	*out = cJSON_IsTrue(v);
	return 0;
}

static int
known_outcome(const char *s)
{
	for (const char *const *o = outcomes; *o; o++)
		if (strcmp(*o, s) == 0)
			return 1;
	return 0;
}

/* Each take_* returns 1 when the record was kept, 0 when it was refused,
 * -1 when out of memory. */
static int
take_sandbox(struct report *r, const cJSON *j)
{
	const cJSON *ifs = cJSON_GetObjectItemCaseSensitive(j, "interfaces"), *i;
	long long uid, nnp, sec;
	int n = 0, lo = 0;

	if (r->has_sandbox || get_int(j, "uid", &uid) || get_int(j, "no_new_privs", &nnp) ||
	    get_int(j, "seccomp", &sec) || !cJSON_IsArray(ifs))
		return 0;
	cJSON_ArrayForEach(i, ifs) {
		if (!cJSON_IsString(i))
			return 0;
		n++;
		lo += strcmp(i->valuestring, "lo") == 0;
	}
	r->has_sandbox = 1;
	r->uid = uid;
	r->no_new_privs = nnp;
	r->seccomp = sec;
	r->only_loopback = n == 1 && lo == 1;
	return 1;
}

static int
take_parse(struct report *r, const cJSON *j)
{
	const cJSON *flags = cJSON_GetObjectItemCaseSensitive(j, "flags"), *f;
	const char *msg = get_text(j, "message");
	int ok, n = 0;

	if (r->has_parse || get_bool(j, "ok", &ok) || msg == NULL || !cJSON_IsArray(flags) ||
	    cJSON_GetArraySize(flags) > REPORT_FLAGS_MAX)
		return 0;
	cJSON_ArrayForEach(f, flags)
		if (!cJSON_IsString(f) || strlen(f->valuestring) > REPORT_FIELD_MAX)
			return 0;
	if ((r->parse_message = copy_capped(msg, REPORT_TEXT_MAX)) == NULL ||
	    (r->flags = calloc((size_t)cJSON_GetArraySize(flags) + 1, sizeof *r->flags)) == NULL)
		return -1;
	cJSON_ArrayForEach(f, flags) {
		if ((r->flags[n] = strdup(f->valuestring)) == NULL)
			return -1;
		r->n_flags = (size_t)++n;
	}
	r->has_parse = 1;
	r->parse_ok = ok;
	return 1;
}

static int
take_load(struct report *r, const cJSON *j)
{
	const char *msg = get_text(j, "message");
	int ok;

	if (r->has_load || get_bool(j, "ok", &ok) || msg == NULL)
		return 0;
	if ((r->load_message = copy_capped(msg, REPORT_TEXT_MAX)) == NULL)
		return -1;
	r->has_load = 1;
	r->load_ok = ok;
	return 1;
}

static int
valid_identifier(const char *s)
{
	if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
		return 0;
	for (; *s; s++)
		if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9')))
			return 0;
	return 1;
}

/* Copy a JSON array of Python names into `*out`. Returns 1, 0 when it is not
 * such an array, or -1 when out of memory. */
static int
take_name_list(const cJSON *names, char ***out, size_t *n)
{
	const cJSON *it;
	size_t k = 0;

	if (!cJSON_IsArray(names) || cJSON_GetArraySize(names) > REPORT_NAMES_MAX)
		return 0;
	cJSON_ArrayForEach(it, names)
		if (!cJSON_IsString(it) || strlen(it->valuestring) > REPORT_FIELD_MAX ||
		    !valid_identifier(it->valuestring))
			return 0;
	if ((*out = calloc((size_t)cJSON_GetArraySize(names) + 1, sizeof **out)) == NULL)
		return -1;
	cJSON_ArrayForEach(it, names) {
		if (((*out)[k] = strdup(it->valuestring)) == NULL)
			return -1;
		*n = ++k;
	}
	return 1;
}

static int
take_names(struct report *r, const cJSON *j)
{
	int rc;

	if (r->has_names)
		return 0;
	rc = take_name_list(cJSON_GetObjectItemCaseSensitive(j, "names"), &r->names, &r->n_names);
	if (rc == 1)
		r->has_names = 1;
	return rc;
}

static int
take_notebook(struct report *r, const cJSON *j)
{
	int marimo, rc;

	if (r->has_notebook || get_bool(j, "marimo", &marimo))
		return 0;
	rc = take_name_list(cJSON_GetObjectItemCaseSensitive(j, "outside"), &r->outside,
	    &r->n_outside);
	if (rc == 1) {
		r->has_notebook = 1;
		r->marimo = marimo;
	}
	return rc;
}

/* What a points marker markbook does not take said, as text for the
 * teacher: the harness sends such a marker as text ("'3'"); anything else is
 * shown as JSON. NULL when out of memory. */
static char *
marker_text(const cJSON *pts)
{
	char *json, *text;

	if (cJSON_IsString(pts))
		return copy_capped(pts->valuestring, REPORT_FIELD_MAX);
	if ((json = cJSON_PrintUnformatted(pts)) == NULL)
		return NULL;
	text = copy_capped(json, REPORT_FIELD_MAX);
	cJSON_free(json);
	return text;
}

static int
take_plan(struct report *r, const cJSON *j)
{
	const char *nodeid = get_str(j, "nodeid", REPORT_NODEID_MAX);
	const char *name = get_str(j, "name", REPORT_NODEID_MAX);
	const char *function = get_str(j, "function", REPORT_NODEID_MAX);
	const char *desc = get_text(j, "description");
	const cJSON *pts = cJSON_GetObjectItemCaseSensitive(j, "points");
	struct report_plan_item *grown, *it;
	int p = -1, bad;

	for (size_t i = 0; nodeid && i < r->n_plan; i++)
		if (strcmp(r->plan[i].nodeid, nodeid) == 0)
			return 0;
	/* A test left out of the plan would be graded as worth nothing, so
	 * every refusal is counted and the plan refused. */
	if (nodeid == NULL || name == NULL || function == NULL || desc == NULL || pts == NULL ||
	    r->n_plan == REPORT_TESTS_MAX) {
		r->n_plan_refused++;
		return 0;
	}
	/* A marker is a number of points above 0 with at most two decimals. */
	bad = !cJSON_IsNull(pts) && (!cJSON_IsNumber(pts) ||
	    points_from_number(pts->valuedouble, POINTS_MAX, &p) < 0 || p == 0);
	if ((grown = realloc(r->plan, (r->n_plan + 1) * sizeof *grown)) == NULL)
		return -1;
	r->plan = grown;
	it = &r->plan[r->n_plan];
	memset(it, 0, sizeof *it);
	r->n_plan++;
	it->points = bad ? -1 : p;
	if ((bad && (it->bad_points = marker_text(pts)) == NULL) ||
	    (it->nodeid = strdup(nodeid)) == NULL || (it->name = strdup(name)) == NULL ||
	    (it->function = strdup(function)) == NULL ||
	    (it->description = copy_capped(desc, REPORT_MESSAGE_MAX)) == NULL)
		return -1;
	return 1;
}

static int
take_test(struct report *r, const cJSON *j)
{
	const char *nodeid = get_str(j, "nodeid", REPORT_NODEID_MAX);
	const char *name = get_str(j, "name", REPORT_NODEID_MAX);
	const char *outcome = get_str(j, "outcome", 16);
	const char *msg = get_text(j, "message"), *detail = get_text(j, "detail");
	const cJSON *dur = cJSON_GetObjectItemCaseSensitive(j, "duration");
	struct report_test *grown, *t;

	if (nodeid == NULL || name == NULL || outcome == NULL || !known_outcome(outcome) ||
	    msg == NULL || detail == NULL || !cJSON_IsNumber(dur) ||
	    r->n_tests == REPORT_TESTS_MAX)
		return 0;
	for (size_t i = 0; i < r->n_tests; i++)
		if (strcmp(r->tests[i].nodeid, nodeid) == 0)
			return 0;
	if ((grown = realloc(r->tests, (r->n_tests + 1) * sizeof *grown)) == NULL)
		return -1;
	r->tests = grown;
	t = &r->tests[r->n_tests];
	memset(t, 0, sizeof *t);
	r->n_tests++;
	t->duration = dur->valuedouble;
	if ((t->nodeid = strdup(nodeid)) == NULL || (t->name = strdup(name)) == NULL ||
	    (t->outcome = strdup(outcome)) == NULL ||
	    (t->message = copy_capped(msg, REPORT_MESSAGE_MAX)) == NULL ||
	    (t->detail = copy_capped(detail, REPORT_DETAIL_MAX)) == NULL)
		return -1;
	return 1;
}

static int
take_tamper(struct report *r, const cJSON *j)
{
	const char *msg = get_text(j, "message");

	if (r->tampered || msg == NULL)
		return 0;
	if ((r->tamper_message = copy_capped(msg, REPORT_TEXT_MAX)) == NULL)
		return -1;
	r->tampered = 1;
	return 1;
}

static int
take_end(struct report *r, const cJSON *j)
{
	if (r->has_end || get_int(j, "exitstatus", &r->exitstatus))
		return 0;
	r->has_end = 1;
	return 1;
}

static int
take_line(struct report *r, const char *line, size_t len, const char *nonce)
{
	static const struct {
		const char *kind;
		int (*take)(struct report *, const cJSON *);
	} kinds[] = {
		{ "sandbox", take_sandbox }, { "parse", take_parse }, { "load", take_load },
		{ "plan", take_plan }, { "names", take_names }, { "test", take_test }, { "tamper", take_tamper },
		{ "notebook", take_notebook }, { "end", take_end },
	};
	const char *kind, *n;
	cJSON *j;
	int kept = 0;

	if (len > REPORT_RECORD_MAX || (j = json_parse(line, len, NULL, NULL)) == NULL)
		return 0;
	if (!cJSON_IsObject(j) || has_duplicate_keys(j) ||
	    (n = get_str(j, "nonce", 128)) == NULL || strcmp(n, nonce) != 0 ||
	    (kind = get_str(j, "kind", 16)) == NULL)
		goto out;
	for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
		if (strcmp(kinds[i].kind, kind) == 0) {
			kept = kinds[i].take(r, j);
			break;
		}
out:
	cJSON_Delete(j);
	return kept;
}

int
report_parse(const char *buf, size_t len, const char *nonce, struct report *r)
{
	const char *p = buf, *end = buf + len;

	memset(r, 0, sizeof *r);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		int kept;

		/* A last line without its newline was cut off mid-write. */
		if (nl == NULL) {
			r->n_ignored++;
			break;
		}
		if (nl > p) {
			if ((kept = take_line(r, p, (size_t)(nl - p), nonce)) < 0)
				return -1;
			if (kept == 0)
				r->n_ignored++;
		}
		p = nl + 1;
	}
	return 0;
}

void
report_free(struct report *r)
{
	size_t i;

	free(r->parse_message);
	for (i = 0; i < r->n_flags; i++)
		free(r->flags[i]);
	free(r->flags);
	free(r->load_message);
	for (i = 0; i < r->n_plan; i++) {
		free(r->plan[i].nodeid);
		free(r->plan[i].name);
		free(r->plan[i].function);
		free(r->plan[i].description);
		free(r->plan[i].bad_points);
	}
	free(r->plan);
	for (i = 0; i < r->n_outside; i++)
		free(r->outside[i]);
	free(r->outside);
	for (i = 0; i < r->n_names; i++)
		free(r->names[i]);
	free(r->names);
	for (i = 0; i < r->n_tests; i++) {
		free(r->tests[i].nodeid);
		free(r->tests[i].name);
		free(r->tests[i].outcome);
		free(r->tests[i].message);
		free(r->tests[i].detail);
	}
	free(r->tests);
	free(r->tamper_message);
	memset(r, 0, sizeof *r);
}

int
report_sandbox_ok(const struct report *r, char *why, size_t whylen)
{
	if (!r->has_sandbox)
		snprintf(why, whylen, "the harness did not report from inside the sandbox");
	else if (r->uid == 0)
		snprintf(why, whylen, "the sandbox ran as root (uid 0)");
	else if (r->no_new_privs != 1)
		snprintf(why, whylen, "no_new_privs was not set in the sandbox");
	else if (r->seccomp != 2)
		snprintf(why, whylen, "the seccomp filter was not in force in the sandbox");
	else if (!r->only_loopback)
		snprintf(why, whylen, "the sandbox had a network interface other than lo");
	else
		return 1;
	return 0;
}

int
report_adopt_student(struct report *tests, const struct report *student)
{
	free(tests->parse_message);
	free(tests->load_message);
	for (size_t i = 0; i < tests->n_flags; i++)
		free(tests->flags[i]);
	free(tests->flags);
	tests->parse_message = tests->load_message = NULL;
	tests->flags = NULL;
	tests->n_flags = 0;
	tests->has_parse = student->has_parse;
	tests->parse_ok = student->parse_ok;
	tests->has_load = student->has_load;
	tests->load_ok = student->load_ok;
	if ((student->parse_message && (tests->parse_message = strdup(student->parse_message)) == NULL) ||
	    (student->load_message && (tests->load_message = strdup(student->load_message)) == NULL) ||
	    (tests->flags = calloc(student->n_flags + 1, sizeof *tests->flags)) == NULL)
		return -1;
	for (size_t i = 0; i < student->n_flags; i++) {
		if ((tests->flags[i] = strdup(student->flags[i])) == NULL)
			return -1;
		tests->n_flags = i + 1;
	}
	return 0;
}

/* Append a sentence and a newline to the problems in `err`, when the whole
 * line still fits (the first problems are the ones shown). */
static void __attribute__((format(printf, 3, 4)))
add_problem(char *err, size_t errlen, const char *fmt, ...)
{
	size_t used = strlen(err);
	va_list ap;
	int n;

	if (used + 2 >= errlen)
		return;
	va_start(ap, fmt);
	n = vsnprintf(err + used, errlen - used - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= errlen - used - 1)
		err[used] = '\0';
	else
		strcpy(err + used + n, "\n");
}

/* One test function of a plan: its items share its points. */
struct plan_function {
	const char *id;		/* borrowed from the report */
	size_t n;		/* its items */
	int marker;		/* hundredths; -1 when unmarked */
	int total;		/* its points, hundredths */
	int mixed;		/* its items disagree on the marker */
};

/* The report's items grouped by function, in collection order, into `*out`
 * (`*n_out` of them). Returns 0, or -1 when out of memory. */
static int
group_functions(const struct report *r, struct plan_function **out, size_t *n_out)
{
	struct plan_function *fn = calloc(r->n_plan ? r->n_plan : 1, sizeof *fn);
	size_t n = 0, k;

	if (fn == NULL)
		return -1;
	for (size_t i = 0; i < r->n_plan; i++) {
		const struct report_plan_item *it = &r->plan[i];

		for (k = 0; k < n && strcmp(fn[k].id, it->function) != 0; k++)
			;
		if (k == n) {
			fn[n].id = it->function;
			fn[n++].marker = it->points;
		} else if (fn[k].marker != it->points)
			fn[k].mixed = 1;
		fn[k].n++;
	}
	*out = fn;
	*n_out = n;
	return 0;
}

/* Check the markers and give each function its points, or say in `err` what
 * is wrong. Returns 0 or -1. */
static int
share_points(const struct report *r, struct plan_function *fn, size_t n_fn, int max_points,
    char *err, size_t errlen)
{
	char a[POINTS_TEXT_MAX], b[POINTS_TEXT_MAX], listed[512] = "";
	long long marked = 0;
	size_t unmarked = 0, k, u;
	int rest;

	for (size_t i = 0; i < r->n_plan; i++)
		if (r->plan[i].bad_points)
			add_problem(err, errlen, "%s: @pytest.mark.points needs a number of points above "
			    "0 with at most two decimals (such as 2 or 0.5), not points(%s).",
			    r->plan[i].nodeid, r->plan[i].bad_points);
	if (*err)
		return -1;
	for (k = 0; k < n_fn; k++)
		if (fn[k].mixed)
			add_problem(err, errlen, "%s: its cases have different points markers; points "
			    "belong to the test function, so mark the function (its cases share "
			    "its points), not single cases.", fn[k].id);
	if (*err)
		return -1;
	for (k = 0; k < n_fn; k++) {
		if (fn[k].marker < 0) {
			unmarked++;
			continue;
		}
		marked += fn[k].marker;
		if (strlen(listed) + strlen(fn[k].id) + POINTS_TEXT_MAX + 8 < sizeof listed)
			snprintf(listed + strlen(listed), sizeof listed - strlen(listed), "%s%s (%s)",
			    *listed ? ", " : "", fn[k].id, points_format(fn[k].marker, a));
	}
	if (marked > max_points)
		return msg_fail(err, errlen, "The tests marked with points add up to %s, more than "
		    "max_points (%s): %s. Lower their markers or raise max_points in exercise.json.",
		    points_format(marked, a), points_format(max_points, b), listed);
	if (unmarked == 0 && marked != max_points)
		return msg_fail(err, errlen, "The tests' points add up to %s but max_points is %s: "
		    "change a marker or max_points in exercise.json, or leave a test unmarked to "
		    "take the rest.", points_format(marked, a), points_format(max_points, b));
	/* Largest remainder over equal quotas: the first unmarked functions in
	 * collection order take the hundredths left over. */
	rest = max_points - (int)marked;
	for (k = 0, u = 0; k < n_fn; k++)
		fn[k].total = fn[k].marker >= 0 ? fn[k].marker :
		    rest / (int)unmarked + ((int)u++ < rest % (int)unmarked);
	for (k = 0; k < n_fn; k++) {
		if ((size_t)fn[k].total >= fn[k].n)
			continue;
		if (fn[k].marker < 0 && rest == 0)
			add_problem(err, errlen, "%s has no points marker, but the markers already add "
			    "up to max_points (%s), so it would get 0 points. Lower a marker, raise "
			    "max_points in exercise.json, or remove the test.", fn[k].id,
			    points_format(max_points, a));
		else if (fn[k].n == 1)
			add_problem(err, errlen, "%s would get 0 points: the %zu tests without a "
			    "points marker share %s points, less than 0.01 each. Mark them with "
			    "points, lower the other markers or raise max_points in exercise.json.",
			    fn[k].id, unmarked, points_format(rest, a));
		else
			add_problem(err, errlen, "%s has %zu cases sharing %s point%s: each would "
			    "get %.2g; give it more points (@pytest.mark.points) or fewer cases.",
			    fn[k].id, fn[k].n, points_format(fn[k].total, a),
			    fn[k].total == POINTS_SCALE ? "" : "s",
			    (double)fn[k].total / POINTS_SCALE / (double)fn[k].n);
	}
	return *err ? -1 : 0;
}

/* The scaffold's names, comma-separated, into `plan->names`. */
static int
join_names(const struct report *r, struct test_plan *plan)
{
	size_t len = 1;

	for (size_t i = 0; i < r->n_names; i++)
		len += strlen(r->names[i]) + 1;
	if ((plan->names = calloc(1, len)) == NULL)
		return -1;
	for (size_t i = 0; i < r->n_names; i++) {
		if (i > 0)
			strcat(plan->names, ",");
		strcat(plan->names, r->names[i]);
	}
	return 0;
}

int
report_make_plan(const struct report *r, int max_points, struct test_plan *plan,
    char *err, size_t errlen)
{
	struct plan_function *fn = NULL;
	size_t n_fn = 0, *seen = NULL;
	long long sum = 0;
	int rc = -1;

	memset(plan, 0, sizeof *plan);
	plan->max_points = max_points;
	if (errlen > 0)
		*err = '\0';
	if (r->n_plan_refused > 0) {
		msg_fail(err, errlen, "%zu of the collected tests could not be planned: markbook "
		    "grades at most %d tests an exercise, with node ids of at most %d bytes. Use "
		    "fewer or shorter parametrized cases (pytest.mark.parametrize(..., ids=...)).",
		    r->n_plan_refused, REPORT_TESTS_MAX, REPORT_NODEID_MAX);
		goto out;
	}
	if (r->n_plan == 0) {
		msg_fail(err, errlen, "No tests were collected: write test functions in "
		    "test_*.py files.");
		goto out;
	}
	if (group_functions(r, &fn, &n_fn) < 0 ||
	    (seen = calloc(n_fn, sizeof *seen)) == NULL) {
		msg_fail(err, errlen, "Out of memory.");
		goto out;
	}
	if (share_points(r, fn, n_fn, max_points, err, errlen) < 0)
		goto out;
	if ((r->has_names && join_names(r, plan) < 0) ||
	    (plan->tests = calloc(r->n_plan, sizeof *plan->tests)) == NULL) {
		msg_fail(err, errlen, "Out of memory.");
		goto out;
	}
	for (size_t i = 0; i < r->n_plan; i++) {
		struct plan_test *t = &plan->tests[i];
		size_t k;

		for (k = 0; strcmp(fn[k].id, r->plan[i].function) != 0; k++)
			;
		plan->n++;
		if ((t->nodeid = strdup(r->plan[i].nodeid)) == NULL ||
		    (t->name = strdup(r->plan[i].name)) == NULL ||
		    (t->description = strdup(r->plan[i].description)) == NULL) {
			msg_fail(err, errlen, "Out of memory.");
			goto out;
		}
		/* The function's points over its items, largest remainder again. */
		t->points = fn[k].total / (int)fn[k].n + (seen[k]++ < (size_t)fn[k].total % fn[k].n);
		assert(t->points > 0);
		sum += t->points;
	}
	assert(sum == max_points);
	rc = 0;
out:
	free(fn);
	free(seen);
	return rc;
}

void
report_plan_free(struct test_plan *plan)
{
	for (size_t i = 0; i < plan->n; i++) {
		free(plan->tests[i].nodeid);
		free(plan->tests[i].name);
		free(plan->tests[i].description);
	}
	free(plan->tests);
	free(plan->names);
	memset(plan, 0, sizeof *plan);
}

int
report_score(const struct test_plan *plan, const struct report *r,
    struct report_outcome *out)
{
	int counts = r->has_parse && r->parse_ok && r->has_load && r->load_ok && !r->tampered;
	int total = 0;

	for (size_t i = 0; i < plan->n; i++) {
		const struct report_test *t = NULL;

		memset(&out[i], 0, sizeof out[i]);
		for (size_t k = 0; k < r->n_tests && t == NULL; k++)
			if (strcmp(r->tests[k].nodeid, plan->tests[i].nodeid) == 0)
				t = &r->tests[k];
		if (t == NULL)
			continue;
		out[i].outcome = t->outcome;
		out[i].message = t->message;
		out[i].detail = t->detail;
		out[i].duration = t->duration;
		out[i].passed = counts && strcmp(t->outcome, "passed") == 0;
		out[i].points = out[i].passed ? plan->tests[i].points : 0;
		total += out[i].points;
	}
	return total;
}

char *
report_plan_to_json(const struct test_plan *plan)
{
	cJSON *o = cJSON_CreateObject(), *tests;
	char *text = NULL;

	if (o == NULL)
		return NULL;
	/* Points in hundredths; a plan kept before they were says nothing. */
	cJSON_AddStringToObject(o, "points", "hundredths");
	cJSON_AddNumberToObject(o, "max_points", plan->max_points);
	cJSON_AddStringToObject(o, "names", plan->names ? plan->names : "");
	tests = cJSON_AddArrayToObject(o, "tests");
	for (size_t i = 0; tests && i < plan->n; i++) {
		cJSON *t = cJSON_CreateObject();

		cJSON_AddItemToArray(tests, t);
		cJSON_AddStringToObject(t, "nodeid", plan->tests[i].nodeid);
		cJSON_AddStringToObject(t, "name", plan->tests[i].name);
		cJSON_AddStringToObject(t, "description", plan->tests[i].description);
		cJSON_AddNumberToObject(t, "points", plan->tests[i].points);
	}
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

int
report_plan_from_json(const char *text, size_t len, struct test_plan *plan)
{
	cJSON *o = json_parse(text, len, NULL, NULL), *tests, *t;
	const char *names, *unit;
	long long max, points;
	int rc = -1;

	memset(plan, 0, sizeof *plan);
	if (o == NULL || (unit = get_str(o, "points", 16)) == NULL ||
	    strcmp(unit, "hundredths") != 0 ||
	    get_int(o, "max_points", &max) < 0 || max <= 0 || max > POINTS_MAX ||
	    (names = get_str(o, "names", REPORT_NAMES_MAX * (REPORT_FIELD_MAX + 1))) == NULL ||
	    !cJSON_IsArray(tests = cJSON_GetObjectItemCaseSensitive(o, "tests")) ||
	    cJSON_GetArraySize(tests) < 1 || cJSON_GetArraySize(tests) > REPORT_TESTS_MAX)
		goto out;
	plan->max_points = (int)max;
	if ((plan->names = strdup(names)) == NULL ||
	    (plan->tests = calloc((size_t)cJSON_GetArraySize(tests), sizeof *plan->tests)) == NULL)
		goto out;
	cJSON_ArrayForEach(t, tests) {
		struct plan_test *pt = &plan->tests[plan->n];
		const char *nodeid = get_str(t, "nodeid", REPORT_NODEID_MAX);
		const char *name = get_str(t, "name", REPORT_NODEID_MAX);
		const char *desc = get_str(t, "description", REPORT_MESSAGE_MAX);

		if (nodeid == NULL || name == NULL || desc == NULL ||
		    get_int(t, "points", &points) < 0 || points <= 0 || points > max)
			goto out;
		plan->n++;
		if ((pt->nodeid = strdup(nodeid)) == NULL || (pt->name = strdup(name)) == NULL ||
		    (pt->description = strdup(desc)) == NULL)
			goto out;
		pt->points = (int)points;
	}
	for (size_t i = 0; i < plan->n; i++)
		max -= plan->tests[i].points;
	rc = max == 0 ? 0 : -1;	/* the points add up to max_points */
out:
	if (rc < 0)
		report_plan_free(plan);
	cJSON_Delete(o);
	return rc;
}

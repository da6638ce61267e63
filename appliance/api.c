#include "api.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "csv.h"
#include "embedded.h"
#include "fsutil.h"
#include "points.h"
#include "request.h"

#define HIDDEN_LINE_MIN	12	/* shorter lines of a hidden test are too common to hide */

static const char msg_login[] = "Log in first: your session is missing or has expired.";
static const char msg_csrf[] = "This request lacks the X-CSRF-Token header of your session. "
    "Reload the page and try again.";
static const char msg_teacher[] = "Only the teacher may see this.";

static int
is_method(struct web_request *r, const char *m)
{
	return strcmp(r->method, m) == 0 || (strcmp(m, "GET") == 0 &&
	    strcmp(r->method, "HEAD") == 0);
}

static int
not_allowed(struct web_request *r, const char *allow)
{
	char extra[64];

	snprintf(extra, sizeof extra, "Allow: %s\r\n", allow);
	web_error(r, 405, extra, "%s is not allowed here; use %s.", r->method, allow);
	return 405;
}

static int
is_teacher(const struct web_request *r)
{
	return strcmp(r->user.role, "teacher") == 0;
}

static void
iso_time(long long t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
add_time(cJSON *o, const char *key, long long t)
{
	char buf[32];

	if (t <= 0) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	iso_time(t, buf);
	cJSON_AddStringToObject(o, key, buf);
}

static cJSON *
user_json(const struct store_user *u)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "username", u->username);
	cJSON_AddStringToObject(o, "name", u->name);
	cJSON_AddStringToObject(o, "role", u->role);
	cJSON_AddBoolToObject(o, "must_change_password", u->must_change);
	return o;
}

/* Find the session named by the request's cookie, if any. */
static void
load_session(struct web_request *r)
{
	char token[AUTH_TOKEN_HEX + 2];

	if (web_cookie(r, WEB_COOKIE, token, sizeof token) < 0 ||
	    strlen(token) != AUTH_TOKEN_HEX)
		return;
	auth_token_hash(token, r->token_hash);
	explicit_bzero(token, sizeof token);
	if (store_get_session(r->store, r->token_hash, (long long)time(NULL), &r->user,
	    r->csrf) == STORE_OK)
		r->logged_in = 1;
}

static int
csrf_ok(struct web_request *r)
{
	return auth_equal(web_header(r, "X-CSRF-Token"), r->csrf);
}

static int
post_login(struct web_request *r)
{
	const char *msg;
	struct request_login in = { NULL, NULL };
	char *body = NULL, token[AUTH_TOKEN_HEX + 1], hash[AUTH_TOKEN_HEX + 1];
	char csrf[AUTH_TOKEN_HEX + 1], cookie[256];
	struct store_user u;
	cJSON *doc = NULL, *out;
	time_t now = time(NULL);
	size_t len;
	int wait, found, status;

	if (!is_method(r, "POST"))
		return not_allowed(r, "POST");
	if ((status = web_read_json_body(r, API_LOGIN_BODY_MAX, "Send the login as JSON: "
	    "{\"username\": ..., \"password\": ...}.", "The login request is too large or "
	    "incomplete. Reload the page and try again.", &body, &len, &doc)) != 0)
		return status;
	if (request_login(doc, &in, &msg) < 0) {
		status = 400;
		web_error(r, status, NULL, "%s", msg);
		goto done;
	}
	found = strlen(in.username) <= STORE_USERNAME_MAX &&
	    store_get_user(r->store, in.username, &u) == STORE_OK;
	if ((wait = auth_throttle_wait(in.username, r->ri->remote_addr, found, now)) > 0) {
		char extra[64];

		snprintf(extra, sizeof extra, "Retry-After: %d\r\n", wait);
		status = 429;
		web_error(r, status, extra, "Too many failed logins. Wait %d minute%s, then try "
		    "again; your teacher can reset your password.", (wait + 59) / 60,
		    (wait + 59) / 60 == 1 ? "" : "s");
		goto done;
	}
	if (!auth_check_password(in.password, found ? u.password_hash : NULL)) {
		auth_throttle_fail(in.username, r->ri->remote_addr, found, now);
		status = 401;
		web_error(r, status, NULL, "Wrong username or password. Check both and try again.");
		goto done;
	}
	auth_throttle_clear(in.username, r->ri->remote_addr);
	if (auth_random_hex(token, AUTH_TOKEN_BYTES) < 0 ||
	    auth_random_hex(csrf, AUTH_TOKEN_BYTES) < 0) {
		status = 500;
		web_error(r, status, NULL, "The server could not make a session. Try again.");
		goto done;
	}
	auth_token_hash(token, hash);
	if (store_add_session(r->store, hash, u.id, csrf, (long long)now,
	    (long long)now + AUTH_SESSION_S) != STORE_OK) {
		status = 500;
		web_error(r, status, NULL, "The server could not save your session. Try again.");
		goto done;
	}
	/* Under TLS the browser never sends the cookie over plain HTTP. */
	snprintf(cookie, sizeof cookie, "Set-Cookie: %s=%s; HttpOnly; SameSite=Strict; "
	    "Path=/; Max-Age=%d%s\r\n", WEB_COOKIE, token, AUTH_SESSION_S,
	    r->ri->is_ssl ? "; Secure" : "");
	out = cJSON_CreateObject();
	cJSON_AddItemToObject(out, "user", user_json(&u));
	cJSON_AddStringToObject(out, "csrf_token", csrf);
	{
		char *text = cJSON_PrintUnformatted(out);

		cJSON_Delete(out);
		status = 200;
		web_reply(r, status, "application/json", text ? text : "{}",
		    text ? strlen(text) : 2, cookie);
		free(text);
	}
	explicit_bzero(token, sizeof token);
	explicit_bzero(cookie, sizeof cookie);
done:
	if (in.password)
		explicit_bzero((char *)in.password, strlen(in.password));
	cJSON_Delete(doc);
	if (body)
		explicit_bzero(body, len);
	free(body);
	return status;
}

static int
post_logout(struct web_request *r)
{
	char extra[160];

	if (store_delete_session(r->store, r->token_hash, (long long)time(NULL)) != STORE_OK) {
		web_error(r, 500, NULL, "The server could not end the session. Try again.");
		return 500;
	}
	snprintf(extra, sizeof extra, "Set-Cookie: %s=; HttpOnly; SameSite=Strict; Path=/; "
	    "Max-Age=0%s\r\n", WEB_COOKIE, r->ri->is_ssl ? "; Secure" : "");
	web_reply(r, 200, "application/json", "{}", 2, extra);
	return 200;
}

static int
get_me(struct web_request *r)
{
	cJSON *out = cJSON_CreateObject();

	cJSON_AddItemToObject(out, "user", user_json(&r->user));
	cJSON_AddStringToObject(out, "csrf_token", r->csrf);
	web_reply_json(r, 200, out);
	return 200;
}

struct exercise_list {
	struct web_request *r;
	cJSON *arr;
};

static const char *
feedback_name(enum course_feedback f)
{
	return f == COURSE_FEEDBACK_ALWAYS ? "always" : f == COURSE_FEEDBACK_NEVER ? "never" :
	    "after_due";
}

/* Whether the teacher put a `marimo export html-wasm` of the exercise in
 * exercises/<slug>/practice/. */
static int
has_practice(const struct queue_exercise *qe)
{
	char path[PATH_MAX];

	snprintf(path, sizeof path, "%s/practice/index.html", qe->ex.dir);
	return access(path, R_OK) == 0;
}

/* Lines of `text` as a JSON array. */
static cJSON *
lines_json(const char *text)
{
	cJSON *arr = cJSON_CreateArray();

	while (text && *text) {
		size_t n = strcspn(text, "\n");
		char *line = strndup(text, n);

		if (line)
			cJSON_AddItemToArray(arr, cJSON_CreateString(line));
		free(line);
		text += n + (text[n] == '\n');
	}
	return arr;
}

/* A score or points at `key` as a JSON number in points (7.5); null when
 * there is none (a negative `hundredths`). */
static void
add_score(cJSON *o, const char *key, long long hundredths)
{
	if (hundredths >= 0)
		cJSON_AddNumberToObject(o, key, points_number(hundredths));
	else
		cJSON_AddNullToObject(o, key);
}

/* The publish gate's verdict, test by test, for the teacher: problems and
 * warnings a line each. */
static cJSON *
check_json(const struct grader_check *c)
{
	cJSON *o = grader_check_json(c);

	if (o == NULL)
		return NULL;
	cJSON_ReplaceItemInObjectCaseSensitive(o, "problems", lines_json(c->problems));
	cJSON_ReplaceItemInObjectCaseSensitive(o, "warnings", lines_json(c->warnings));
	return o;
}

/* The download URL of data file `rel` (a path such as data/canucks.csv) of
 * exercise `slug`, its bytes percent-encoded but for letters, digits, "/"
 * and "-._~", as a JSON string; NULL when out of memory. */
static cJSON *
data_url(const char *slug, const char *rel)
{
	static const char hex[] = "0123456789ABCDEF";
	char *url, *p;
	cJSON *s;

	/* At most three bytes for each one of the path. */
	if ((url = malloc(strlen("/exercises//") + strlen(slug) + 3 * strlen(rel) + 1)) == NULL)
		return NULL;
	p = url + sprintf(url, "/exercises/%s/", slug);
	for (const unsigned char *c = (const unsigned char *)rel; *c; c++)
		if (isalnum(*c) || strchr("/-._~", *c))
			*p++ = (char)*c;
		else {
			*p++ = '%';
			*p++ = hex[*c >> 4];
			*p++ = hex[*c & 15];
		}
	*p = '\0';
	s = cJSON_CreateString(url);
	free(url);
	return s;
}

static int
exercise_row(const struct store_exercise *e, void *arg)
{
	struct exercise_list *l = arg;
	const struct queue_exercise *qe = queue_find(l->r->queue, e->slug);
	cJSON *o = cJSON_CreateObject(), *files;
	char url[COURSE_SLUG_MAX + 300];

	cJSON_AddStringToObject(o, "slug", e->slug);
	cJSON_AddStringToObject(o, "title", e->title);
	cJSON_AddNumberToObject(o, "phase", e->phase);
	cJSON_AddNumberToObject(o, "max_points", points_number(e->max_points));
	if (e->due_at)
		cJSON_AddStringToObject(o, "due_at", e->due_at);
	else
		cJSON_AddNullToObject(o, "due_at");
	add_score(o, "best_score", e->best_score);
	snprintf(url, sizeof url, "/exercises/%s.py", e->slug);
	cJSON_AddStringToObject(o, "scaffold", url);
	files = cJSON_AddArrayToObject(o, "data_files");
	for (size_t i = 0; qe && qe->loaded && i < qe->ex.n_data_files; i++)
		cJSON_AddItemToArray(files, data_url(e->slug, qe->ex.data_files[i]));
	if (qe && qe->loaded)
		cJSON_AddStringToObject(o, "feedback", feedback_name(qe->ex.feedback));
	if (qe && qe->loaded && has_practice(qe)) {
		snprintf(url, sizeof url, "/practice/%s/", e->slug);
		cJSON_AddStringToObject(o, "practice", url);
	}
	if (qe && qe->loaded && qe->ex.late) {
		cJSON *late = cJSON_AddObjectToObject(o, "late");

		cJSON_AddNumberToObject(late, "penalty_per_day", qe->ex.late_penalty);
		cJSON_AddNumberToObject(late, "max_days", qe->ex.late_max_days);
	} else
		cJSON_AddNullToObject(o, "late");
	if (is_teacher(l->r)) {
		if (qe && qe->loaded) {
			int shared = qe->ex.isolation == COURSE_ISOLATION_SHARED;

			cJSON_AddStringToObject(o, "isolation", shared ? "shared" : "process");
			if (shared)
				cJSON_AddStringToObject(o, "isolation_warning", COURSE_SHARED_RISK);
		}
		cJSON_AddBoolToObject(o, "published", e->published && qe && qe->ready);
		cJSON_AddStringToObject(o, "problem", qe && qe->problem[0] ? qe->problem :
		    e->problem);
		cJSON_AddNumberToObject(o, "waiting", (double)e->waiting);
		cJSON_AddNumberToObject(o, "stale", (double)e->stale);
		if (qe && qe->checked)
			cJSON_AddItemToObject(o, "check", check_json(&qe->check));
		else
			cJSON_AddNullToObject(o, "check");
	}
	cJSON_AddItemToArray(l->arr, o);
	return 0;
}

static int
get_exercises(struct web_request *r)
{
	struct exercise_list l = { r, cJSON_CreateArray() };
	const struct queue_set *course = queue_course(r->queue);
	int teacher = is_teacher(r);

	if (store_list_exercises(r->store, r->user.id, teacher, exercise_row, &l) != STORE_OK) {
		cJSON_Delete(l.arr);
		web_error(r, 500, NULL, "The server could not read the exercises. Try again.");
		return 500;
	}
	/* Exercises whose exercise.json could not be read have no row. */
	for (size_t i = 0; teacher && i < course->n; i++) {
		const struct queue_exercise *qe = &course->exercises[i];
		cJSON *o;

		if (qe->loaded)
			continue;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "slug", qe->ex.slug);
		cJSON_AddBoolToObject(o, "published", 0);
		cJSON_AddStringToObject(o, "problem", qe->problem);
		cJSON_AddItemToArray(l.arr, o);
	}
	web_reply_json(r, 200, l.arr);
	return 200;
}

/* GET /exercises/<slug>.py and /exercises/<slug>/<data file>. Only names
 * the course lists are served; the URL never becomes a path. */
static int
get_download(struct web_request *r)
{
	const char *rest = r->path + strlen("/exercises/"), *slash = strchr(rest, '/');
	char slug[COURSE_SLUG_MAX + 1], extra[512];
	const struct queue_exercise *qe;
	size_t n = slash ? (size_t)(slash - rest) : strlen(rest);

	if (!is_method(r, "GET"))
		return not_allowed(r, "GET");
	if (slash == NULL && n > 3 && strcmp(rest + n - 3, ".py") == 0)
		n -= 3;
	if (n == 0 || n > COURSE_SLUG_MAX)
		goto notfound;
	memcpy(slug, rest, n);
	slug[n] = '\0';
	qe = queue_find(r->queue, slug);
	if (qe == NULL || !qe->loaded || (!qe->ready && !is_teacher(r)))
		goto notfound;
	if (slash == NULL) {
		snprintf(extra, sizeof extra, "Content-Disposition: attachment; "
		    "filename=\"%s.py\"\r\n", qe->ex.slug);
		web_reply(r, 200, "text/x-python; charset=utf-8", qe->ex.scaffold,
		    qe->ex.scaffold_len, extra);
		return 200;
	}
	/* A data file in a subfolder (data/canucks.csv) is found by its whole
	 * relative path, exactly as the course lists it. */
	for (size_t i = 0; i < qe->ex.n_data_files; i++) {
		const char *name = qe->ex.data_files[i], *base = strrchr(name, '/');
		char path[PATH_MAX], *data;
		size_t len;

		if (strcmp(name, slash + 1) != 0)
			continue;
		base = base ? base + 1 : name;
		snprintf(path, sizeof path, "%s/%s", qe->ex.dir, name);
		if ((data = fs_read_file(path, COURSE_DATA_MAX, &len)) == NULL) {
			web_error(r, 500, NULL, "The server cannot read %s: %s. Tell your teacher.",
			    name, strerror(errno));
			return 500;
		}
		if (strpbrk(base, "\"\\\r\n") == NULL && strlen(base) < sizeof extra - 64)
			snprintf(extra, sizeof extra, "Content-Disposition: attachment; "
			    "filename=\"%s\"\r\n", base);
		else
			snprintf(extra, sizeof extra, "Content-Disposition: attachment\r\n");
		web_reply(r, 200, "application/octet-stream", data, len, extra);
		free(data);
		return 200;
	}
notfound:
	web_error(r, 404, NULL, "There is no such exercise or file. Pick one from the list "
	    "of exercises.");
	return 404;
}

static int
post_submission(struct web_request *r)
{
	const char *ctype = web_header(r, "Content-Type"), *msg;
	int multipart = ctype && strncasecmp(ctype, "multipart/form-data", 19) == 0;
	int json = ctype && strncasecmp(ctype, "application/json", 16) == 0;
	char *body = NULL, reply[64];
	const struct queue_exercise *qe;
	struct request_upload up;
	size_t len;
	cJSON *doc = NULL;
	long long id;
	int rc, status;

	if (!multipart && !json) {
		web_error(r, 415, NULL, "Send the notebook as multipart/form-data (fields "
		    "\"exercise\" and \"notebook\") or as JSON {\"exercise\", \"source\"}.");
		return 415;
	}
	rc = web_read_body(r, multipart ? API_FORM_BODY_MAX : API_JSON_BODY_MAX, &body, &len);
	if (rc == WEB_ETOOBIG)
		goto toobig;
	if (rc < 0)
		return web_body_error(r, rc, "", "The upload did not arrive whole. Try again.");
	if (!multipart && (status = web_parse_json(r, body, len, &doc)) != 0)
		goto done;
	if (request_upload(ctype, body, len, doc, &up, &msg) < 0) {
		status = 400;
		web_error(r, status, NULL, "%s", msg);
		goto done;
	}
	if (up.source_len > GRADER_SUBMISSION_MAX)
		goto toobig;
	qe = course_valid_slug(up.exercise) ? queue_find(r->queue, up.exercise) : NULL;
	if (qe == NULL || !qe->ready) {
		status = 404;
		web_error(r, status, NULL, "There is no exercise \"%.64s\" to hand in. Pick one "
		    "from the list of exercises.", up.exercise);
		goto done;
	}
	if (!request_upload_text(&up, body, len, json)) {
		status = 422;
		web_error(r, status, NULL, "The notebook is not UTF-8 text or contains a NUL "
		    "byte. Save it from marimo as a .py file and upload that.");
		goto done;
	}
	rc = store_add_submission(r->store, r->user.id, qe->id, qe->ex.max_points, up.source,
	    up.source_len, API_WAITING_MAX, (long long)time(NULL), &id);
	if (rc == STORE_LIMIT) {
		status = 429;
		web_error(r, status, "Retry-After: 10\r\n", "You already have %d submissions "
		    "waiting to be graded. Wait until one is graded, then upload again.",
		    API_WAITING_MAX);
		goto done;
	}
	if (rc == STORE_FULL) {
		fprintf(stderr, "markbook: the disk under the database is full: an upload was "
		    "refused. Free some space.\n");
		status = 507;
		web_error(r, status, NULL, "The disk of the teacher's computer is full, so your "
		    "notebook was not saved. Tell your teacher, and upload again once they "
		    "have freed some space.");
		goto done;
	}
	if (rc != STORE_OK) {
		status = 500;
		web_error(r, status, NULL, "The server could not save the submission. Try again.");
		goto done;
	}
	queue_notify(r->queue);
	snprintf(reply, sizeof reply, "{\"id\":%lld,\"status\":\"queued\"}", id);
	status = 202;
	web_reply(r, status, "application/json", reply, strlen(reply), NULL);
	goto done;
toobig:
	status = 413;
	web_error(r, status, "Connection: close\r\n", "The upload is larger than 1 MiB, the "
	    "limit. Clear the notebook's outputs or remove large data from it, then upload "
	    "again.");
done:
	cJSON_Delete(doc);
	free(body);
	return status;
}

/* Nonzero when `msg` quotes a line of the exercise's hidden tests. */
static int
quotes_hidden(const struct queue_exercise *qe, const char *msg)
{
	const char *p;

	if (qe == NULL || qe->hidden_text == NULL || msg == NULL || *msg == '\0')
		return qe == NULL && msg && *msg;
	for (p = qe->hidden_text; *p; ) {
		const char *end = strchr(p, '\n'), *a = p, *b;
		char line[512];

		if (end == NULL)
			end = p + strlen(p);
		while (a < end && (*a == ' ' || *a == '\t'))
			a++;
		for (b = end; b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\r'); b--)
			;
		if (b - a >= HIDDEN_LINE_MIN) {
			size_t n = (size_t)(b - a) < sizeof line - 1 ? (size_t)(b - a) :
			    sizeof line - 1;

			memcpy(line, a, n);
			line[n] = '\0';
			if (strstr(msg, line) != NULL)
				return 1;
		}
		p = *end ? end + 1 : end;
	}
	return 0;
}

static int
feedback_shown(const struct queue_exercise *qe, time_t now)
{
	if (qe == NULL || !qe->loaded)
		return 0;
	switch (qe->ex.feedback) {
	case COURSE_FEEDBACK_ALWAYS:
		return 1;
	case COURSE_FEEDBACK_NEVER:
		return 0;
	default:
		return qe->ex.due != 0 && now >= qe->ex.due;
	}
}

static const char *
student_message(const struct store_submission *s, const struct queue_exercise *qe)
{
	if (strcmp(s->status, "error") == 0)
		return "markbook could not grade this submission because of a problem on the "
		    "teacher's side. Your teacher can see why and can have it graded again.";
	if (strcmp(s->status, "done") != 0)
		return "";
	if (quotes_hidden(qe, s->message))
		return "The explanation is hidden because it quotes the hidden tests.";
	return s->message;
}


/* What counts for the gradebook: the late penalty and the teacher's override,
 * whose comment is meant for the student. */
static void
add_late_and_override(cJSON *o, const struct store_submission *s, int teacher)
{
	cJSON *ov;

	cJSON_AddBoolToObject(o, "late", s->late);
	cJSON_AddNumberToObject(o, "days_late", s->days_late);
	add_score(o, "penalised_score", s->penalised_score);
	add_score(o, "final_score", s->final_score);
	if (s->override_score < 0) {
		cJSON_AddNullToObject(o, "override");
		return;
	}
	ov = cJSON_AddObjectToObject(o, "override");
	cJSON_AddNumberToObject(ov, "score", points_number(s->override_score));
	cJSON_AddStringToObject(ov, "comment", s->override_comment ? s->override_comment : "");
	add_time(ov, "at", s->override_at);
	if (teacher)
		cJSON_AddStringToObject(ov, "by", s->override_by);
}

static cJSON *
submission_json(struct web_request *r, const struct store_submission *s, int full)
{
	const struct queue_exercise *qe = queue_find_id(r->queue, s->exercise_id);
	int teacher = is_teacher(r), shown = teacher || feedback_shown(qe, time(NULL));
	cJSON *o = cJSON_CreateObject(), *tests;

	cJSON_AddNumberToObject(o, "id", (double)s->id);
	cJSON_AddStringToObject(o, "exercise", s->slug);
	cJSON_AddStringToObject(o, "student", s->username);
	cJSON_AddStringToObject(o, "status", s->status);
	add_score(o, "score", s->has_score ? s->score : -1);
	cJSON_AddNumberToObject(o, "max_points", points_number(s->max_points));
	add_time(o, "created_at", s->created_at);
	add_time(o, "graded_at", s->graded_at);
	if (s->position > 0)
		cJSON_AddNumberToObject(o, "position", (double)s->position);
	else
		cJSON_AddNullToObject(o, "position");
	add_late_and_override(o, s, teacher);
	if (!full)
		return o;
	cJSON_AddStringToObject(o, "message", teacher ? s->message : student_message(s, qe));
	tests = cJSON_AddArrayToObject(o, "tests");
	for (size_t i = 0; i < s->n_tests; i++) {
		const struct store_test *t = &s->tests[i];
		cJSON *jt = cJSON_CreateObject();

		cJSON_AddStringToObject(jt, "name", t->name);
		cJSON_AddStringToObject(jt, "description", t->description);
		cJSON_AddBoolToObject(jt, "passed", t->passed);
		cJSON_AddNumberToObject(jt, "points", points_number(t->points));
		cJSON_AddNumberToObject(jt, "max_points", points_number(t->max_points));
		cJSON_AddStringToObject(jt, "message", teacher ? t->message :
		    shown && !quotes_hidden(qe, t->message) ? t->message : "");
		if (teacher) {
			cJSON_AddStringToObject(jt, "outcome", t->outcome);
			cJSON_AddStringToObject(jt, "detail", t->detail);
		}
		cJSON_AddItemToArray(tests, jt);
	}
	if (teacher) {
		cJSON *flags = cJSON_AddArrayToObject(o, "flags");
		const char *f = s->flags;

		while (f && *f) {
			size_t n = strcspn(f, ",");
			char *one = strndup(f, n);

			if (one)
				cJSON_AddItemToArray(flags, cJSON_CreateString(one));
			free(one);
			f += n + (f[n] == ',');
		}
		cJSON_AddStringToObject(o, "output", s->output ? s->output : "");
		cJSON_AddNumberToObject(o, "attempts", s->attempts);
	}
	return o;
}

static int
get_submission(struct web_request *r, const char *idtext)
{
	struct store_submission s;
	char *end;
	long long id;
	int rc;

	errno = 0;
	id = strtoll(idtext, &end, 10);
	if (errno || *end || end == idtext || id <= 0)
		goto notfound;
	rc = store_get_submission(r->store, id, &s);
	if (rc == STORE_NOTFOUND || (rc == STORE_OK && !is_teacher(r) && s.user_id != r->user.id)) {
		store_submission_free(&s);
		goto notfound;
	}
	if (rc != STORE_OK) {
		store_submission_free(&s);
		web_error(r, 500, NULL, "The server could not read the submission. Try again.");
		return 500;
	}
	web_reply_json(r, 200, submission_json(r, &s, 1));
	store_submission_free(&s);
	return 200;
notfound:
	web_error(r, 404, NULL, "There is no submission %.20s of yours.", idtext);
	return 404;
}

/* The id in /api/submissions/<id><suffix> (`idtext` is what follows the
 * last slash of /api/submissions/) when the teacher asks. Returns 0, or the
 * status of the refusal it sent: 403 for a student, 404 for a bad id. */
static int
teacher_submission_id(struct web_request *r, const char *idtext, const char *suffix,
    long long *id)
{
	char *end;

	if (!is_teacher(r)) {
		web_error(r, 403, NULL, "%s", msg_teacher);
		return 403;
	}
	errno = 0;
	*id = strtoll(idtext, &end, 10);
	if (errno || strcmp(end, suffix) != 0 || end == idtext || *id <= 0) {
		web_error(r, 404, NULL, "There is no such submission.");
		return 404;
	}
	return 0;
}

/* Answer `status` with submission `id` in full, or 500 with the sentence
 * `unread` when it cannot be read back. Returns the status sent. */
static int
reply_submission(struct web_request *r, long long id, int status, const char *unread)
{
	struct store_submission sub;

	if (store_get_submission(r->store, id, &sub) != STORE_OK) {
		store_submission_free(&sub);
		web_error(r, 500, NULL, "%s", unread);
		return 500;
	}
	web_reply_json(r, status, submission_json(r, &sub, 1));
	store_submission_free(&sub);
	return status;
}

/* POST /api/submissions/<id>/override {"score": n or null, "comment": text}:
 * the teacher sets (or with null removes) a submission's score by hand. */
static int
post_override(struct web_request *r, const char *idtext)
{
	struct request_override in;
	cJSON *doc = NULL;
	char *body = NULL, msg[256];
	long long id;
	size_t len;
	int rc, status;

	if ((status = teacher_submission_id(r, idtext, "/override", &id)) != 0)
		return status;
	snprintf(msg, sizeof msg, "The override is too large or incomplete; the comment may "
	    "be %d bytes.", STORE_COMMENT_MAX);
	if ((status = web_read_json_body(r, API_OVERRIDE_BODY_MAX, "Send the override as JSON: "
	    "{\"score\": 7, \"comment\": \"...\"}.", msg, &body, &len, &doc)) != 0)
		return status;
	status = 422;
	if (request_override(doc, body, len, &in, msg, sizeof msg) < 0) {
		web_error(r, status, NULL, "%s", msg);
		goto done;
	}
	rc = store_override_submission(r->store, id, in.score, in.comment, r->user.id,
	    (long long)time(NULL));
	if (rc == STORE_NOTFOUND) {
		status = 404;
		web_error(r, status, NULL, "There is no submission %lld.", id);
		goto done;
	}
	if (rc == STORE_LIMIT) {
		char text[POINTS_TEXT_MAX];

		web_error(r, status, NULL, "%s points is more than the exercise is worth.",
		    points_format(in.score, text));
		goto done;
	}
	if (rc != STORE_OK) {
		status = 500;
		web_error(r, status, NULL, "The server could not save the override. Try again.");
		goto done;
	}
	status = reply_submission(r, id, 200, "The override is saved, but the server could not "
	    "read the submission back. Reload the page.");
done:
	cJSON_Delete(doc);
	free(body);
	return status;
}

/* POST /api/submissions/<id>/regrade {}: the teacher has one submission
 * graded again with its exercise's current hidden tests (store_grade_again()
 * says what that keeps and how it waits its turn). */
static int
post_grade_again(struct web_request *r, const char *idtext)
{
	const struct queue_exercise *qe;
	struct store_grade_again g;
	cJSON *doc = NULL;
	char *body = NULL;
	long long id;
	size_t len;
	int rc, status;

	if ((status = teacher_submission_id(r, idtext, "/regrade", &id)) != 0)
		return status;
	if ((status = web_read_json_body(r, API_LOGIN_BODY_MAX, "Send {} as JSON to grade the "
	    "submission again.", "The request is too large or incomplete. Send {} as JSON to "
	    "grade the submission again.", &body, &len, &doc)) != 0)
		return status;
	if (len == 0)
		doc = cJSON_CreateObject();
	if (!cJSON_IsObject(doc)) {
		status = 400;
		web_error(r, status, NULL, "Send {} as JSON to grade the submission again.");
		goto done;
	}
	rc = store_grade_again(r->store, id, r->user.id, (long long)time(NULL), &g);
	status = 409;
	switch (rc) {
	case STORE_OK:
		break;
	case STORE_NOTFOUND:
		status = 404;
		web_error(r, status, NULL, "There is no submission %lld.", id);
		goto done;
	case STORE_EXISTS:
		web_error(r, status, NULL, "Submission %lld is already waiting or being graded; "
		    "its new result shows when it is graded.", id);
		goto done;
	case STORE_UNPUBLISHED:
		qe = queue_find(r->queue, g.slug);
		web_error(r, status, NULL, "%s is not published (%s), so submission %lld cannot "
		    "be graded. Fix the course folder and reload it (Exercises page), then try "
		    "again.", g.slug, qe && qe->problem[0] ? qe->problem : "it could not be "
		    "prepared", id);
		goto done;
	case STORE_LIMIT:
		web_error(r, status, NULL, "Submission %lld, which you asked to grade again, "
		    "still waits ahead of the students' uploads; one goes at a time. Try again "
		    "once it is being graded, or regrade the whole exercise from the Exercises "
		    "page, which lets the students' uploads go first.", g.waiting_id);
		goto done;
	default:
		status = 500;
		web_error(r, status, NULL, "The server could not queue the submission. Try again.");
		goto done;
	}
	queue_notify(r->queue);
	status = reply_submission(r, id, 202, "The submission is queued, but the server could "
	    "not read it back. Reload the page.");
done:
	cJSON_Delete(doc);
	free(body);
	return status;
}

static int
preview_row(const struct store_regrade_row *row, void *arg)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "username", row->username);
	cJSON_AddStringToObject(o, "name", row->name);
	add_score(o, "old_best", row->old_best);
	add_score(o, "new_best", row->new_best);
	cJSON_AddItemToArray(arg, o);
	return 0;
}

/* The latest regrade of `qe`: progress, and per student old best -> new best. */
static int
reply_regrade(struct web_request *r, const struct queue_exercise *qe, int status)
{
	struct store_regrade g;
	cJSON *o;
	int rc = store_get_regrade(r->store, qe->id, &g);

	if (rc == STORE_NOTFOUND) {
		web_error(r, 404, NULL, "%s has not been regraded. Start a regrade first.",
		    qe->ex.slug);
		return 404;
	}
	o = cJSON_CreateObject();
	if (rc == STORE_OK) {
		cJSON_AddNumberToObject(o, "id", (double)g.id);
		cJSON_AddStringToObject(o, "exercise", qe->ex.slug);
		cJSON_AddStringToObject(o, "status", g.status);
		add_time(o, "created_at", g.created_at);
		cJSON_AddNumberToObject(o, "total", (double)g.total);
		cJSON_AddNumberToObject(o, "graded", (double)g.graded);
		cJSON_AddNumberToObject(o, "errors", (double)g.errors);
		rc = store_regrade_preview(r->store, g.id, preview_row,
		    cJSON_AddArrayToObject(o, "students"));
	}
	if (rc != STORE_OK) {
		cJSON_Delete(o);
		web_error(r, 500, NULL, "The server could not read the regrade. Try again.");
		return 500;
	}
	web_reply_json(r, status, o);
	return status;
}

/* /api/exercises/<slug>/regrade[/apply|/discard]: GET the progress and
 * preview; POST starts one ({"all": true}: every graded submission, not only
 * those graded with other tests), applies or discards it. Teacher only. */
static int
handle_regrade(struct web_request *r, const char *rest)
{
	const char *action = strchr(rest, '/');
	char slug[COURSE_SLUG_MAX + 1], *body = NULL;
	const struct queue_exercise *qe;
	struct store_regrade g;
	long long id, n;
	size_t len = (size_t)(action - rest);
	int rc, all = 0;

	if (!is_teacher(r)) {
		web_error(r, 403, NULL, "%s", msg_teacher);
		return 403;
	}
	snprintf(slug, sizeof slug, "%.*s", len <= COURSE_SLUG_MAX ? (int)len : 0, rest);
	if (strncmp(action, "/regrade", 8) != 0 || (qe = queue_find(r->queue, slug)) == NULL ||
	    qe->id == 0) {
		web_error(r, 404, NULL, "There is no exercise \"%s\".", slug);
		return 404;
	}
	action += strlen("/regrade");
	if (*action == '\0' && is_method(r, "GET"))
		return reply_regrade(r, qe, 200);
	if (!is_method(r, "POST"))
		return not_allowed(r, *action ? "POST" : "GET, POST");
	if (*action == '\0') {
		if ((rc = web_read_body(r, API_LOGIN_BODY_MAX, &body, &len)) < 0)
			return web_body_error(r, rc, "Send {} or {\"all\": true} as JSON to regrade.",
			    "The request did not arrive whole. Try again.");
		if (len > 0) {
			cJSON *doc;
			int status = web_parse_json(r, body, len, &doc);

			all = request_regrade_all(doc);
			cJSON_Delete(doc);
			if (status != 0) {
				free(body);
				return status;
			}
		}
		free(body);
		if (!qe->ready) {
			web_error(r, 409, NULL, "%s is not published (%s), so it cannot be regraded.",
			    slug, qe->problem);
			return 409;
		}
		rc = store_start_regrade(r->store, qe->id, all, r->user.id, (long long)time(NULL),
		    &id, &n);
		if (rc == STORE_EXISTS || rc == STORE_NOTFOUND) {
			web_error(r, 409, NULL, rc == STORE_EXISTS ? "A regrade of %s is running: "
			    "apply or discard it first." : "No submission of %s was graded with "
			    "other hidden tests than the current ones; send {\"all\": true} to "
			    "regrade every graded submission.", slug);
			return 409;
		}
		if (rc == STORE_OK)
			queue_notify(r->queue);
	} else if (strcmp(action, "/apply") == 0 || strcmp(action, "/discard") == 0) {
		rc = store_get_regrade(r->store, qe->id, &g);
		if (rc == STORE_OK)
			rc = store_finish_regrade(r->store, g.id, action[1] == 'a', r->user.id,
			    (long long)time(NULL));
		if (rc == STORE_NOTFOUND || rc == STORE_LIMIT) {
			web_error(r, 409, NULL, rc == STORE_LIMIT ? "The regrade of %s is still "
			    "grading; apply it once every submission is graded." : "There is no "
			    "running regrade of %s to apply or discard.", slug);
			return 409;
		}
	} else {
		web_error(r, 404, NULL, "There is no %.200s in markbook's API.", r->path);
		return 404;
	}
	if (rc != STORE_OK) {
		web_error(r, 500, NULL, "The server could not change the regrade. Try again.");
		return 500;
	}
	return reply_regrade(r, qe, *action ? 200 : 202);
}

struct submission_list {
	struct web_request *r;
	cJSON *arr;
	int n;
};

static int
submission_row(const struct store_submission *s, void *arg)
{
	struct submission_list *l = arg;

	cJSON_AddItemToArray(l->arr, submission_json(l->r, s, 0));
	return ++l->n >= API_LIST_MAX;
}

static int
get_submissions(struct web_request *r)
{
	struct submission_list l = { r, NULL, 0 };
	char slug[COURSE_SLUG_MAX + 2], who[STORE_USERNAME_MAX + 2];
	long long user_id = r->user.id, exercise_id = 0;
	int rc;

	if (web_query(r, "exercise", slug, sizeof slug) == 0 && slug[0]) {
		const struct queue_exercise *qe = queue_find(r->queue, slug);

		if (qe == NULL || qe->id == 0) {
			web_error(r, 404, NULL, "There is no exercise \"%s\".", slug);
			return 404;
		}
		exercise_id = qe->id;
	}
	if (is_teacher(r)) {
		struct store_user u;

		user_id = 0;
		if (web_query(r, "student", who, sizeof who) == 0 && who[0]) {
			if (store_get_user(r->store, who, &u) != STORE_OK) {
				web_error(r, 404, NULL, "There is no user \"%s\".", who);
				return 404;
			}
			user_id = u.id;
		}
	}
	l.arr = cJSON_CreateArray();
	rc = store_list_submissions(r->store, user_id, exercise_id, submission_row, &l);
	if (rc < 0) {
		cJSON_Delete(l.arr);
		web_error(r, 500, NULL, "The server could not list the submissions. Try again.");
		return 500;
	}
	web_reply_json(r, 200, l.arr);
	return 200;
}

struct gradebook_doc {
	cJSON *exercises, *students, *student, *scores, *late;
	long long user_id;
	int all_exercises;	/* every student has the same ones: known after the first */
};

static int
gradebook_row(const struct store_grade *g, void *arg)
{
	struct gradebook_doc *d = arg;
	const cJSON *e;
	int known = 0;

	if (d->student && d->user_id != g->user_id)
		d->all_exercises = 1;
	known = d->all_exercises;
	cJSON_ArrayForEach(e, d->exercises)
		if (!known && strcmp(cJSON_GetObjectItem(e, "slug")->valuestring, g->slug) == 0)
			known = 1;
	if (!known) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "slug", g->slug);
		cJSON_AddNumberToObject(o, "max_points", points_number(g->max_points));
		cJSON_AddItemToArray(d->exercises, o);
	}
	if (d->student == NULL || d->user_id != g->user_id) {
		d->student = cJSON_CreateObject();
		d->user_id = g->user_id;
		cJSON_AddStringToObject(d->student, "username", g->username);
		cJSON_AddStringToObject(d->student, "name", g->name);
		d->scores = cJSON_AddObjectToObject(d->student, "scores");
		/* The exercises whose best counted score was handed in late. */
		d->late = cJSON_AddArrayToObject(d->student, "late");
		cJSON_AddNumberToObject(d->student, "total", points_number(g->total));
		cJSON_AddItemToArray(d->students, d->student);
	}
	add_score(d->scores, g->slug, g->best_score);
	if (g->best_score >= 0 && g->late == 1)
		cJSON_AddItemToArray(d->late, cJSON_CreateString(g->slug));
	return 0;
}

static int
get_gradebook(struct web_request *r, int as_csv)
{
	struct csv c;
	cJSON *doc;
	struct gradebook_doc d;

	if (!is_teacher(r)) {
		web_error(r, 403, NULL, "%s", msg_teacher);
		return 403;
	}
	if (as_csv) {
		memset(&c, 0, sizeof c);
		if (csv_export_gradebook(r->store, &c) < 0) {
			csv_free(&c);
			web_error(r, 500, NULL, "The server could not make the gradebook. Try again.");
			return 500;
		}
		web_reply(r, 200, "text/csv; charset=utf-8", c.buf ? c.buf : "", c.len,
		    "Content-Disposition: attachment; filename=\"grades.csv\"\r\n");
		csv_free(&c);
		return 200;
	}
	memset(&d, 0, sizeof d);
	doc = cJSON_CreateObject();
	d.exercises = cJSON_AddArrayToObject(doc, "exercises");
	d.students = cJSON_AddArrayToObject(doc, "students");
	if (store_gradebook(r->store, gradebook_row, &d) != STORE_OK) {
		cJSON_Delete(doc);
		web_error(r, 500, NULL, "The server could not read the gradebook. Try again.");
		return 500;
	}
	web_reply_json(r, 200, doc);
	return 200;
}

/* The exercises graded in `shared` isolation, and what that risks, for the
 * teacher's health page: {"shared_exercises": [slug...], "shared_warning"}. */
static void
add_shared(cJSON *o, const struct queue_set *course)
{
	cJSON *arr = cJSON_AddArrayToObject(o, "shared_exercises");

	for (size_t i = 0; i < course->n; i++) {
		const struct queue_exercise *qe = &course->exercises[i];

		if (qe->loaded && qe->ex.isolation == COURSE_ISOLATION_SHARED)
			cJSON_AddItemToArray(arr, cJSON_CreateString(qe->ex.slug));
	}
	if (cJSON_GetArraySize(arr) > 0)
		cJSON_AddStringToObject(o, "shared_warning", COURSE_SHARED_RISK);
}

/* What bounds a submission on this machine (SECURITY.md), for the teacher:
 * `limits` with `cgroup` ("v1", "v2" or "none"), `files` ("tmpfs" or
 * "measured"), `bounded` (false when a total is not) and `message`. */
static void
health_limits(cJSON *o)
{
	const struct sandbox_host *h = sandbox_host();
	cJSON *l = cJSON_AddObjectToObject(o, "limits");
	char text[2048];
	int weak;

	sandbox_describe(text, sizeof text, &weak);
	cJSON_AddStringToObject(l, "cgroup", h->cgroup == SANDBOX_CGROUP_V1 ? "v1" :
	    h->cgroup == SANDBOX_CGROUP_V2 ? "v2" : "none");
	cJSON_AddStringToObject(l, "files", h->tmpfs ? "tmpfs" : "measured");
	cJSON_AddBoolToObject(l, "bounded", !weak);
	cJSON_AddStringToObject(l, "message", text);
}

static int
get_health(struct web_request *r)
{
	struct queue *q = r->queue;
	cJSON *o = cJSON_CreateObject();
	long long waiting = -1;
	int db = store_queue_length(r->store, &waiting) == STORE_OK;
	char why[QUEUE_PROBLEM_MAX];
	int sandbox = queue_sandbox(q, why, sizeof why);

	cJSON_AddBoolToObject(o, "ok", db && sandbox && q->n_threads > 0);
	cJSON_AddNumberToObject(o, "workers", (double)q->n_threads);
	cJSON_AddNumberToObject(o, "grading", queue_busy(q));
	cJSON_AddNumberToObject(o, "queue_length", (double)waiting);
	cJSON_AddBoolToObject(o, "database", db);
	cJSON_AddStringToObject(o, "sandbox", sandbox ? "ok" : "failed");
	if (r->logged_in && is_teacher(r)) {
		struct statvfs vfs;
		long long size;

		cJSON_AddStringToObject(o, "sandbox_message", why);
		health_limits(o);
		if (statvfs(q->db_dir, &vfs) == 0)
			cJSON_AddNumberToObject(o, "disk_free_bytes",
			    (double)vfs.f_bavail * (double)vfs.f_frsize);
		if (store_size(r->store, &size) == STORE_OK)
			cJSON_AddNumberToObject(o, "db_size_bytes", (double)size);
		add_shared(o, queue_course(q));
	}
	web_reply_json(r, 200, o);
	return 200;
}

static const struct {
	const char *ext, *type;
} content_types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".mjs", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".json", "application/json" },
	{ ".map", "application/json" },
	{ ".wasm", "application/wasm" },
	{ ".whl", "application/zip" },
	{ ".zip", "application/zip" },
	{ ".txt", "text/plain; charset=utf-8" },
	{ ".py", "text/x-python; charset=utf-8" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".ico", "image/x-icon" },
	{ ".woff2", "font/woff2" },
	{ ".ttf", "font/ttf" },
};

/* The Content-Type of a file served by name (the UI, practice files); .data
 * and anything unknown are bytes. */
static const char *
content_type(const char *path)
{
	const char *dot = strrchr(path, '.');

	for (size_t i = 0; dot && i < sizeof content_types / sizeof content_types[0]; i++)
		if (strcmp(dot, content_types[i].ext) == 0)
			return content_types[i].type;
	return "application/octet-stream";
}

/* The web UI, from the copy built into the binary. */
static int
get_static(struct web_request *r)
{
	const char *want = strcmp(r->path, "/") == 0 ? "index.html" : r->path + 1;

	if (!is_method(r, "GET"))
		return not_allowed(r, "GET");
	for (const struct embedded_file *f = embedded_static; f->path; f++)
		if (strcmp(f->path, want) == 0) {
			web_reply(r, 200, content_type(f->path), f->data, f->len, NULL);
			return 200;
		}
	web_error(r, 404, NULL, "There is nothing at %.200s.", r->path);
	return 404;
}

/* GET /api/submissions/<id>/source: the notebook as handed in, to its
 * student and the teacher. */
static int
get_source(struct web_request *r, const char *idtext)
{
	char *src = NULL, *end, extra[96];
	long long id, owner = 0;
	size_t len;
	int rc;

	errno = 0;
	id = strtoll(idtext, &end, 10);
	if (errno || end == idtext || strcmp(end, "/source") != 0 || id <= 0)
		goto notfound;
	rc = store_get_source(r->store, id, &owner, &src, &len);
	if (rc == STORE_OK && (is_teacher(r) || owner == r->user.id)) {
		snprintf(extra, sizeof extra, "Content-Disposition: inline; "
		    "filename=\"submission-%lld.py\"\r\n", id);
		web_reply(r, 200, "text/plain; charset=utf-8", src, len, extra);
		free(src);
		return 200;
	}
	free(src);
	if (rc == STORE_ERROR) {
		web_error(r, 500, NULL, "The server could not read the submission. Try again.");
		return 500;
	}
notfound:
	web_error(r, 404, NULL, "There is no such submission of yours.");
	return 404;
}

struct dashboard_doc {
	struct web_request *r;
	cJSON *arr, *exercise, *tests;
	char slug[COURSE_SLUG_MAX + 1];
	long long students;
};

static int
waiting_row(const struct store_submission *s, void *arg)
{
	struct dashboard_doc *d = arg;

	cJSON_AddItemToArray(d->arr, submission_json(d->r, s, 0));
	return 0;
}

static void
end_exercise(struct dashboard_doc *d)
{
	if (d->exercise)
		cJSON_AddNumberToObject(d->exercise, "students", (double)d->students);
}

static int
pass_rate_row(const struct store_pass_rate *p, void *arg)
{
	struct dashboard_doc *d = arg;
	cJSON *t;

	if (d->exercise == NULL || strcmp(d->slug, p->slug) != 0) {
		end_exercise(d);
		d->exercise = cJSON_CreateObject();
		cJSON_AddStringToObject(d->exercise, "slug", p->slug);
		cJSON_AddStringToObject(d->exercise, "title", p->title);
		d->tests = cJSON_AddArrayToObject(d->exercise, "tests");
		cJSON_AddItemToArray(d->arr, d->exercise);
		snprintf(d->slug, sizeof d->slug, "%s", p->slug);
		d->students = 0;
	}
	t = cJSON_CreateObject();
	cJSON_AddStringToObject(t, "name", p->name);
	cJSON_AddStringToObject(t, "description", p->description);
	cJSON_AddNumberToObject(t, "passed", (double)p->passed);
	cJSON_AddNumberToObject(t, "attempted", (double)p->attempted);
	cJSON_AddItemToArray(d->tests, t);
	if (p->attempted > d->students)
		d->students = p->attempted;
	return 0;
}

/* GET /api/dashboard: what the class is doing, for the teacher during a
 * lesson. */
static int
get_dashboard(struct web_request *r)
{
	long long counts[API_DASH_MINUTES], waiting = 0;
	struct dashboard_doc d;
	cJSON *o, *up;

	if (!is_teacher(r)) {
		web_error(r, 403, NULL, "%s", msg_teacher);
		return 403;
	}
	memset(&d, 0, sizeof d);
	d.r = r;
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "workers", (double)r->queue->n_threads);
	cJSON_AddNumberToObject(o, "grading", queue_busy(r->queue));
	d.arr = cJSON_AddArrayToObject(o, "waiting");
	up = cJSON_AddArrayToObject(o, "uploads_per_minute");
	if (store_queue_length(r->store, &waiting) != STORE_OK ||
	    store_recent_uploads(r->store, (long long)time(NULL), API_DASH_MINUTES,
	    counts) != STORE_OK ||
	    store_list_waiting(r->store, API_DASH_WAITING, waiting_row, &d) != STORE_OK)
		goto fail;
	cJSON_AddNumberToObject(o, "queue_length", (double)waiting);
	for (int i = 0; i < API_DASH_MINUTES; i++)
		cJSON_AddItemToArray(up, cJSON_CreateNumber((double)counts[i]));
	d.arr = cJSON_AddArrayToObject(o, "exercises");
	if (store_pass_rates(r->store, pass_rate_row, &d) != STORE_OK)
		goto fail;
	end_exercise(&d);
	web_reply_json(r, 200, o);
	return 200;
fail:
	cJSON_Delete(o);
	web_error(r, 500, NULL, "The server could not read the class's activity. Try again.");
	return 500;
}

/* Whether `rel`, a path under an exercise's practice/ folder from a URL, is
 * one markbook serves: plain names, no empty, hidden, "." or ".." part. */
static int
practice_path_ok(const char *rel)
{
	size_t n = strlen(rel);

	if (n == 0 || n > API_PRACTICE_PATH_MAX || rel[n - 1] == '/')
		return 0;
	for (const char *c = rel; *c; c++)
		if (!isalnum((unsigned char)*c) && strchr("._-+@/", *c) == NULL)
			return 0;
	for (const char *part = rel; part; part = strchr(part, '/') ? strchr(part, '/') + 1 :
	    NULL)
		if (*part == '.' || *part == '/')
			return 0;
	return 1;
}

/* GET /practice/<slug>/<path>: the teacher's `marimo export html-wasm` of
 * the exercise, from exercises/<slug>/practice/. Pyodide needs inline script,
 * eval and WebAssembly, so these replies relax the CSP for script, still
 * allowing no connection but to markbook itself. */
static int
get_practice(struct web_request *r)
{
	static const char csp[] = "default-src 'self'; script-src 'self' 'unsafe-inline' "
	    "'unsafe-eval' 'wasm-unsafe-eval' blob:; worker-src 'self' blob:; style-src 'self' "
	    "'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; connect-src "
	    "'self' data: blob:; object-src 'none'; base-uri 'self'; form-action 'self'; "
	    "frame-ancestors 'none'";
	const char *rest = r->path + strlen("/practice/"), *slash = strchr(rest, '/');
	char slug[COURSE_SLUG_MAX + 1], path[PATH_MAX], dir[PATH_MAX], base[PATH_MAX];
	char real[PATH_MAX];
	const struct queue_exercise *qe;
	size_t n = slash ? (size_t)(slash - rest) : strlen(rest);
	const char *rel;
	struct stat st;
	int fd = -1, status = 404;

	if (!is_method(r, "GET"))
		return not_allowed(r, "GET");
	if (n == 0 || n > COURSE_SLUG_MAX)
		goto notfound;
	memcpy(slug, rest, n);
	slug[n] = '\0';
	qe = queue_find(r->queue, slug);
	if (qe == NULL || !qe->loaded || (!qe->ready && !is_teacher(r)))
		goto notfound;
	if (slash == NULL) {
		char extra[COURSE_SLUG_MAX + 64];

		snprintf(extra, sizeof extra, "Location: /practice/%s/\r\n", slug);
		web_reply(r, 302, "text/plain; charset=utf-8", "", 0, extra);
		return 302;
	}
	rel = slash[1] ? slash + 1 : "index.html";
	if (!practice_path_ok(rel))
		goto notfound;
	snprintf(dir, sizeof dir, "%s/practice", qe->ex.dir);
	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, rel) >= sizeof path)
		goto notfound;
	/* A symbolic link may not lead out of practice/ (to hidden/, say). */
	if (realpath(dir, base) == NULL || realpath(path, real) == NULL ||
	    strncmp(real, base, strlen(base)) != 0 || real[strlen(base)] != '/')
		goto notfound;
	if ((fd = open(real, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0 ||
	    !S_ISREG(st.st_mode))
		goto notfound;
	r->csp = csp;
	r->cache = "private, max-age=3600";
	status = web_reply_file(r, content_type(real), fd, (size_t)st.st_size, NULL) == 0 ?
	    200 : 500;
	close(fd);
	return status;
notfound:
	if (fd >= 0)
		close(fd);
	web_error(r, 404, NULL, "There is no such practice file. Ask your teacher to export "
	    "the practice notebook again.");
	return 404;
}

/* The routes that need a session. */
static int
handle_logged_in(struct web_request *r)
{
	const char *p = r->path;
	int get = is_method(r, "GET"), status;

	if (!get && !csrf_ok(r)) {
		web_error(r, 403, NULL, "%s", msg_csrf);
		return 403;
	}
	if ((status = api_admin_handle(r)) != 0)
		return status;
	if (strncmp(p, "/exercises/", 11) == 0)
		return get_download(r);
	if (strcmp(p, "/api/logout") == 0)
		return is_method(r, "POST") ? post_logout(r) : not_allowed(r, "POST");
	if (strcmp(p, "/api/me") == 0)
		return get ? get_me(r) : not_allowed(r, "GET");
	if (strncmp(p, "/api/exercises/", 15) == 0 && strstr(p + 15, "/regrade"))
		return handle_regrade(r, p + 15);
	if (strcmp(p, "/api/exercises") == 0)
		return get ? get_exercises(r) : not_allowed(r, "GET");
	if (strcmp(p, "/api/submissions") == 0) {
		if (is_method(r, "POST"))
			return post_submission(r);
		return get ? get_submissions(r) : not_allowed(r, "GET, POST");
	}
	if (strncmp(p, "/api/submissions/", 17) == 0 && strstr(p + 17, "/override"))
		return is_method(r, "POST") ? post_override(r, p + 17) : not_allowed(r, "POST");
	if (strncmp(p, "/api/submissions/", 17) == 0 && strstr(p + 17, "/regrade"))
		return is_method(r, "POST") ? post_grade_again(r, p + 17) : not_allowed(r, "POST");
	if (strncmp(p, "/api/submissions/", 17) == 0 && strstr(p + 17, "/source"))
		return get ? get_source(r, p + 17) : not_allowed(r, "GET");
	if (strncmp(p, "/api/submissions/", 17) == 0)
		return get ? get_submission(r, p + 17) : not_allowed(r, "GET");
	if (strcmp(p, "/api/dashboard") == 0)
		return get ? get_dashboard(r) : not_allowed(r, "GET");
	if (strncmp(p, "/practice/", 10) == 0)
		return get_practice(r);
	if (strcmp(p, "/api/gradebook") == 0)
		return get ? get_gradebook(r, 0) : not_allowed(r, "GET");
	if (strcmp(p, "/api/gradebook.csv") == 0)
		return get ? get_gradebook(r, 1) : not_allowed(r, "GET");
	web_error(r, 404, NULL, "There is no %.200s in markbook's API.", p);
	return 404;
}

int
api_handle(struct web_request *r)
{
	const char *p = r->path;

	load_session(r);
	if (strcmp(p, "/api/health") == 0)
		return is_method(r, "GET") ? get_health(r) : not_allowed(r, "GET");
	if (strcmp(p, "/api/login") == 0)
		return post_login(r);
	if (strncmp(p, "/api/", 5) == 0 || strncmp(p, "/exercises/", 11) == 0 ||
	    strncmp(p, "/practice/", 10) == 0) {
		if (!r->logged_in) {
			web_error(r, 401, NULL, "%s", msg_login);
			return 401;
		}
		return handle_logged_in(r);
	}
	return get_static(r);
}

/* The teacher's workflows over HTTP: the roster and login slips, exports,
 * backups; and the password a student chooses at first login. api.c hands
 * each logged-in request here first (api_admin_handle()). */

#include "api.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "csv.h"
#include "request.h"
#include "roster.h"

#define API_URLS_MAX		8

/* A student who logged in with a one-time password may do only this. */
static const char *const first_login_paths[] = { "/api/me", "/api/logout", "/api/password" };

static cJSON *
parse_json_body(struct web_request *r, int *status)
{
	char *body = NULL;
	cJSON *doc = NULL;
	size_t len;

	if ((*status = web_read_json_body(r, API_LOGIN_BODY_MAX, "Send this request as JSON.",
	    "The request is too large or incomplete. Reload the page and try again.", &body,
	    &len, &doc)) != 0)
		return NULL;
	if (doc == NULL)
		web_error(r, *status = 400, NULL, "The request is not valid JSON.");
	explicit_bzero(body, len);
	free(body);
	return doc;
}

/* POST /api/password {"password", "current"}: "current" only when the user
 * has chosen a password before (the one-time password was just typed). */
static int
post_password(struct web_request *r)
{
	char hash[AUTH_HASH_MAX], msg[128];
	struct request_password in;
	const char *pw, *current;
	cJSON *doc;
	int status, rc;

	if ((doc = parse_json_body(r, &status)) == NULL)
		return status;
	rc = request_password(doc, &in, msg, sizeof msg);
	pw = in.password;
	current = in.current;
	if (rc < 0) {
		web_error(r, status = 422, NULL, "%s", msg);
		goto done;
	}
	if (!r->user.must_change && (current == NULL ||
	    !auth_check_password(current, r->user.password_hash))) {
		web_error(r, status = 403, NULL, "Your current password is wrong. Type it again.");
		goto done;
	}
	if (r->user.must_change && auth_check_password(pw, r->user.password_hash)) {
		web_error(r, status = 422, NULL, "That is the password on your login slip. Choose "
		    "one of your own.");
		goto done;
	}
	if (auth_hash_password(pw, hash, sizeof hash) < 0 ||
	    store_set_password(r->store, r->user.id, hash) != STORE_OK) {
		web_error(r, status = 500, NULL, "The server could not save your password. Try "
		    "again.");
		goto done;
	}
	web_reply(r, status = 200, "application/json", "{}", 2, NULL);
done:
	if (pw)
		explicit_bzero((char *)pw, strlen(pw));
	if (current)
		explicit_bzero((char *)current, strlen(current));
	cJSON_Delete(doc);
	return status;
}

static int
student_row(const struct store_student *st, void *arg)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "username", st->username);
	cJSON_AddStringToObject(o, "name", st->name);
	cJSON_AddStringToObject(o, "email", st->email);
	if (st->initial_password)
		cJSON_AddStringToObject(o, "one_time_password", st->initial_password);
	else
		cJSON_AddNullToObject(o, "one_time_password");
	cJSON_AddBoolToObject(o, "password_set", !st->must_change);
	cJSON_AddItemToArray(arg, o);
	return 0;
}

/* The addresses students can open: every non-loopback IPv4 address of this
 * computer, with the port this request came in on. */
static cJSON *
lan_urls(struct web_request *r)
{
	cJSON *urls = cJSON_CreateArray();
	struct ifaddrs *ifa;
	int n = 0;

	if (getifaddrs(&ifa) < 0)
		return urls;
	for (struct ifaddrs *i = ifa; i && n < API_URLS_MAX; i = i->ifa_next) {
		char host[INET_ADDRSTRLEN], url[INET_ADDRSTRLEN + 32];

		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET ||
		    (i->ifa_flags & IFF_LOOPBACK) || inet_ntop(AF_INET,
		    &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, host, sizeof host) == NULL)
			continue;
		snprintf(url, sizeof url, "http://%s:%d/", host, r->ri->server_port);
		cJSON_AddItemToArray(urls, cJSON_CreateString(url));
		n++;
	}
	freeifaddrs(ifa);
	return urls;
}

/* GET /api/roster: every student, with the one-time password of those who
 * have not chosen theirs yet (for the login slips). */
static int
get_roster(struct web_request *r)
{
	cJSON *doc = cJSON_CreateObject();
	cJSON *list = cJSON_AddArrayToObject(doc, "students");

	if (store_list_students(r->store, student_row, list) != STORE_OK) {
		cJSON_Delete(doc);
		web_error(r, 500, NULL, "The server could not read the class list. Try again.");
		return 500;
	}
	cJSON_AddItemToObject(doc, "urls", lan_urls(r));
	web_reply_json(r, 200, doc);
	return 200;
}

/* POST /api/roster: the CSV file itself is the body. */
static int
post_roster(struct web_request *r)
{
	const char *ctype = web_header(r, "Content-Type");
	struct roster_result *res = NULL;
	char *body = NULL;
	cJSON *doc, *arr;
	size_t len;
	int rc, status;

	if (ctype && strncasecmp(ctype, "multipart/", 10) == 0) {
		web_error(r, 415, NULL, "Send the roster file itself as the body (Content-Type "
		    "text/csv), not as a form.");
		return 415;
	}
	rc = web_read_body(r, ROSTER_FILE_MAX, &body, &len);
	if (rc == WEB_ETOOBIG) {
		web_error(r, 413, "Connection: close\r\n", "The roster is larger than %d KiB. "
		    "Keep only the username, name and email columns.", ROSTER_FILE_MAX / 1024);
		return 413;
	}
	if (rc < 0)
		return web_body_error(r, rc, "", "The roster did not arrive whole. Try again.");
	if ((res = calloc(1, sizeof *res)) == NULL) {
		free(body);
		web_error(r, 500, NULL, "The server is out of memory. Try again.");
		return 500;
	}
	rc = roster_import(r->store, body, len, r->user.id, res);
	doc = cJSON_CreateObject();
	if (rc < 0) {
		status = 422;
		cJSON_AddStringToObject(doc, "error", res->n_errors > ROSTER_ERRORS_MAX ?
		    "The roster has errors (the first ones are listed); nothing was imported. "
		    "Correct the file and import it again." : "The roster has errors; nothing was "
		    "imported. Correct the file and import it again.");
		arr = cJSON_AddArrayToObject(doc, "errors");
		for (size_t i = 0; i < res->n_errors && i < ROSTER_ERRORS_MAX; i++)
			cJSON_AddItemToArray(arr, cJSON_CreateString(res->errors[i]));
		cJSON_AddNumberToObject(doc, "error_count", (double)res->n_errors);
	} else {
		status = 200;
		cJSON_AddNumberToObject(doc, "added", (double)res->counts.added);
		cJSON_AddNumberToObject(doc, "updated", (double)res->counts.updated);
		cJSON_AddNumberToObject(doc, "unchanged", (double)res->counts.unchanged);
		arr = cJSON_AddArrayToObject(doc, "new_students");
		for (size_t i = 0; i < res->n_added; i++) {
			cJSON *o = cJSON_CreateObject();

			cJSON_AddStringToObject(o, "username", res->added[i].username);
			cJSON_AddStringToObject(o, "name", res->added[i].name);
			cJSON_AddStringToObject(o, "one_time_password", res->added[i].password);
			cJSON_AddItemToArray(arr, o);
		}
	}
	roster_result_free(res);
	free(res);
	free(body);
	web_reply_json(r, status, doc);
	return status;
}

/* POST /api/roster/reset {"username"}: a new one-time password. */
static int
post_reset(struct web_request *r)
{
	char pw[AUTH_GENERATED_LEN + 1];
	const char *who;
	cJSON *doc, *out;
	int status, rc;

	if ((doc = parse_json_body(r, &status)) == NULL)
		return status;
	rc = request_username(doc, &who) == 0 ? roster_reset(r->store, who, r->user.id, pw) :
	    STORE_NOTFOUND;
	if (rc == STORE_NOTFOUND) {
		web_error(r, status = 404, NULL, "There is no student \"%.64s\". Check the "
		    "username in the class list.", who ? who : "");
	} else if (rc != STORE_OK) {
		web_error(r, status = 500, NULL, "The server could not reset the password. Try "
		    "again.");
	} else {
		auth_throttle_forget(who);
		out = cJSON_CreateObject();
		cJSON_AddStringToObject(out, "username", who);
		cJSON_AddStringToObject(out, "one_time_password", pw);
		explicit_bzero(pw, sizeof pw);
		web_reply_json(r, status = 200, out);
	}
	cJSON_Delete(doc);
	return status;
}

/* GET /api/export.csv?format=wide|long|canvas|moodle */
static int
get_export(struct web_request *r)
{
	char name[16] = "wide", extra[128];
	enum csv_format f;
	struct csv c;

	if ((web_query(r, "format", name, sizeof name) == 0 && name[0] == '\0') ||
	    csv_format_parse(name, &f) < 0) {
		web_error(r, 400, NULL, "Unknown export format \"%.16s\": use wide, long, canvas "
		    "or moodle.", name);
		return 400;
	}
	memset(&c, 0, sizeof c);
	if (csv_export(r->store, f, &c) < 0) {
		csv_free(&c);
		web_error(r, 500, NULL, "The server could not make the export. Try again.");
		return 500;
	}
	snprintf(extra, sizeof extra, "Content-Disposition: attachment; "
	    "filename=\"grades-%s.csv\"\r\n", name);
	web_reply(r, 200, "text/csv; charset=utf-8", c.buf ? c.buf : "", c.len, extra);
	csv_free(&c);
	return 200;
}

/* GET /api/backup: a consistent copy made beside the database (a folder
 * the sandbox never sees), sent, then removed. */
static int
get_backup(struct web_request *r)
{
	char path[PATH_MAX], extra[160], stamp[32];
	time_t now = time(NULL);
	struct stat st;
	struct tm tm;
	int fd, status = 500;

	if (snprintf(path, sizeof path, "%s.backup-XXXXXX", store_filename(r->store)) >=
	    (int)sizeof path || (fd = mkstemp(path)) < 0) {
		web_error(r, 500, NULL, "The server cannot write beside its database (%s). Free "
		    "some disk space and try again.", strerror(errno));
		return 500;
	}
	if (store_backup(r->store, path) != STORE_OK || fstat(fd, &st) < 0) {
		web_error(r, 500, NULL, "The backup failed: %s. Try again.",
		    store_errmsg(r->store));
		goto out;
	}
	/* Gone from the folder before the first byte leaves: the open file
	 * is all the download needs, and nothing is left behind if it fails. */
	unlink(path);
	path[0] = '\0';
	localtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
	snprintf(extra, sizeof extra, "Content-Disposition: attachment; "
	    "filename=\"markbook-%s.db\"\r\n", stamp);
	status = 200;
	web_reply_file(r, "application/vnd.sqlite3", fd, (size_t)st.st_size, extra);
out:
	if (path[0])
		unlink(path);
	close(fd);
	return status;
}

/* GET /api/course/reload: whether a reload runs, when the last one ended
 * and what it found. */
static int
reply_reload(struct web_request *r, int status)
{
	struct queue_reload st;
	cJSON *o = cJSON_CreateObject();
	char when[32];

	queue_reload_status(r->queue, &st);
	/* A reload that fails at once may have ended already; the one just
	 * asked for still shows as started, and `reloads` tells when it ended. */
	cJSON_AddBoolToObject(o, "reloading", st.reloading || status == 202);
	cJSON_AddNumberToObject(o, "reloads", (double)st.reloads);
	if (st.reloaded_at) {
		struct tm tm;

		gmtime_r(&st.reloaded_at, &tm);
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
		cJSON_AddStringToObject(o, "reloaded_at", when);
	} else
		cJSON_AddNullToObject(o, "reloaded_at");
	cJSON_AddStringToObject(o, "message", st.message);
	web_reply_json(r, status, o);
	return status;
}

static int
get_reload(struct web_request *r)
{
	return reply_reload(r, 200);
}

/* POST /api/course/reload: read the course folder again, in the
 * background (202); GET the same URL to follow it. */
static int
post_reload(struct web_request *r)
{
	queue_reload(r->queue);
	return reply_reload(r, 202);
}

static const struct route {
	const char *method, *path;
	int teacher;
	int (*fn)(struct web_request *r);
} routes[] = {
	{ "POST", "/api/password", 0, post_password },
	{ "GET", "/api/roster", 1, get_roster },
	{ "POST", "/api/roster", 1, post_roster },
	{ "POST", "/api/roster/reset", 1, post_reset },
	{ "GET", "/api/export.csv", 1, get_export },
	{ "GET", "/api/backup", 1, get_backup },
	{ "GET", "/api/course/reload", 1, get_reload },
	{ "POST", "/api/course/reload", 1, post_reload },
};

int
api_admin_handle(struct web_request *r)
{
	char allow[64] = "";
	size_t i;

	for (i = 0; i < sizeof first_login_paths / sizeof first_login_paths[0] &&
	    strcmp(r->path, first_login_paths[i]) != 0; i++)
		;
	if (r->user.must_change && i == sizeof first_login_paths / sizeof first_login_paths[0]) {
		web_error(r, 403, NULL, "Choose your own password first: you logged in with the "
		    "one-time password from your login slip.");
		return 403;
	}
	for (i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		const struct route *rt = &routes[i];

		if (strcmp(r->path, rt->path) != 0)
			continue;
		if (strcmp(r->method, rt->method) != 0 && !(strcmp(rt->method, "GET") == 0 &&
		    strcmp(r->method, "HEAD") == 0)) {
			snprintf(allow + strlen(allow), sizeof allow - strlen(allow), "%s%s",
			    allow[0] ? ", " : "", rt->method);
			continue;
		}
		if (rt->teacher && strcmp(r->user.role, "teacher") != 0) {
			web_error(r, 403, NULL, "Only the teacher may do this.");
			return 403;
		}
		return rt->fn(r);
	}
	if (allow[0]) {
		char extra[96];

		snprintf(extra, sizeof extra, "Allow: %s\r\n", allow);
		web_error(r, 405, extra, "%s is not allowed here; use %s.", r->method, allow);
		return 405;
	}
	return 0;
}

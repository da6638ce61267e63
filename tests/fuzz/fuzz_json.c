/* libFuzzer target: request bodies as the API reads them. The body is parsed
 * as the handlers parse it (json_parse() on a buffer of exactly its length:
 * the nesting bound, then Debian's cJSON 1.7.15), then handed to each of request.c's
 * readers: login, password, roster reset, a JSON upload, an override and a
 * regrade. Whatever the bytes, a reader accepts fields within their bounds or
 * refuses with a sentence; and what cJSON prints, it reads back. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "auth.h"
#include "fsutil.h"
#include "json.h"
#include "request.h"
#include "roster.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A string the reader took must be one cJSON decoded from the body: no
 * longer than the body itself. */
static void
check_string(const char *s, size_t size)
{
	if (s != NULL && strlen(s) > size)
		abort();
}

static void
check_readers(const cJSON *doc, const char *body, size_t size)
{
	struct request_login login;
	struct request_password pw;
	struct request_upload up;
	struct request_override ov;
	const char *msg = NULL, *who = NULL;
	char err[256];
	size_t bad;

	if (request_login(doc, &login, &msg) == 0) {
		if (login.username == NULL || login.password == NULL)
			abort();
		check_string(login.username, size);
		check_string(login.password, size);
	} else if (msg == NULL || msg[0] == '\0')
		abort();	/* a refusal always says what to send */

	err[0] = '\0';
	if (request_password(doc, &pw, err, sizeof err) == 0) {
		if (pw.password == NULL || strlen(pw.password) < REQUEST_PASSWORD_MIN ||
		    strlen(pw.password) > AUTH_PASSWORD_MAX)
			abort();
		check_string(pw.current, size);
	} else if (err[0] == '\0')
		abort();

	if (request_username(doc, &who) == 0) {
		if (who == NULL || strlen(who) > STORE_USERNAME_MAX || !roster_valid_username(who))
			abort();
	} else
		check_string(who, size);

	msg = NULL;
	if (request_upload("application/json", body, size, doc, &up, &msg) == 0) {
		if (up.exercise[0] == '\0' || strlen(up.exercise) > WEB_FIELD_MAX ||
		    up.source == NULL || up.source_len != strlen(up.source) || up.source_len > size)
			abort();
		/* Text that passes is what the database gets: UTF-8 without NUL. */
		if (request_upload_text(&up, body, size, 1) &&
		    !fs_valid_utf8(up.source, up.source_len, &bad))
			abort();
	} else if (msg == NULL || msg[0] == '\0')
		abort();

	err[0] = '\0';
	if (request_override(doc, body, size, &ov, err, sizeof err) == 0) {
		if (ov.score < -1 || ov.score > REQUEST_SCORE_MAX || ov.comment == NULL ||
		    ov.comment[0] == '\0' || strlen(ov.comment) > STORE_COMMENT_MAX ||
		    !fs_valid_utf8(ov.comment, strlen(ov.comment), &bad))
			abort();
	} else if (err[0] == '\0' || ov.comment != NULL)
		abort();

	if (request_regrade_all(doc) != 0 && !cJSON_IsObject(doc))
		abort();
}

/* How deep `doc` nests: arrays and objects inside each other, walked with
 * a stack of the item at each level (no recursion to overflow either). */
static int
depth_of(const cJSON *doc)
{
	const cJSON *at[JSON_DEPTH_MAX + 2];
	int level = 0, deepest = 0;

	at[0] = doc;
	while (doc != NULL) {
		const cJSON *it = at[level];
		int container = cJSON_IsArray(it) || cJSON_IsObject(it);

		if (level + container > deepest)
			deepest = level + container;
		if (container && it->child != NULL) {
			if (level + 1 >= (int)(sizeof at / sizeof *at))
				return deepest + 1;	/* deeper than allowed */
			at[++level] = it->child;
			continue;
		}
		while (level >= 0 && at[level]->next == NULL)
			level--;
		if (level < 0)
			break;
		at[level] = at[level]->next;
	}
	return deepest;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = malloc(size ? size : 1), *text;
	int too_deep;
	cJSON *doc;

	if (body == NULL)
		return 0;
	memcpy(body, data, size);
	doc = json_parse(body, size, &too_deep, NULL);
	/* A text too deep never reaches cJSON; what parses is within the bound. */
	if ((too_deep && (doc != NULL || json_depth_ok(body, size, JSON_DEPTH_MAX))) ||
	    depth_of(doc) > JSON_DEPTH_MAX)
		abort();
	check_readers(doc, body, size);
	if (doc && (text = cJSON_PrintUnformatted(doc)) != NULL) {
		cJSON *again = json_parse(text, strlen(text), NULL, NULL);

		if (again == NULL)
			abort();	/* what we print, we can read */
		cJSON_Delete(again);
		free(text);
	}
	cJSON_Delete(doc);
	free(body);
	return 0;
}

#include "request.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "fsutil.h"
#include "msg.h"
#include "points.h"
#include "roster.h"
#include "store.h"

static const char *
string_field(const cJSON *doc, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Whether a JSON text has a \u0000 escape, which cJSON would decode into a
 * string that silently ends early. */
static int
json_has_nul(const char *s, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (s[i] != '\\')
			continue;
		if (s[i + 1] == 'u' && i + 5 < len && strncmp(s + i + 2, "0000", 4) == 0)
			return 1;
		i++;	/* skip the escaped character */
	}
	return 0;
}

int
request_login(const cJSON *doc, struct request_login *out, const char **err)
{
	out->username = string_field(doc, "username");
	out->password = string_field(doc, "password");
	if (out->username == NULL || out->password == NULL) {
		*err = "Send {\"username\": ..., \"password\": ...} as JSON.";
		return -1;
	}
	return 0;
}

int
request_password(const cJSON *doc, struct request_password *out, char *err, size_t errlen)
{
	const char *pw = string_field(doc, "password");

	out->password = pw;
	out->current = string_field(doc, "current");
	if (pw == NULL || strlen(pw) < REQUEST_PASSWORD_MIN || strlen(pw) > AUTH_PASSWORD_MAX)
		return msg_fail(err, errlen, "Choose a password of %d to %d characters.",
		    REQUEST_PASSWORD_MIN, AUTH_PASSWORD_MAX);
	return 0;
}

int
request_username(const cJSON *doc, const char **who)
{
	*who = string_field(doc, "username");
	return *who && roster_valid_username(*who) ? 0 : -1;
}

int
request_upload(const char *ctype, const char *body, size_t len, const cJSON *doc,
    struct request_upload *up, const char **err)
{
	const char *v, *exercise;
	size_t vlen;

	memset(up, 0, sizeof *up);
	if (ctype && strncasecmp(ctype, "multipart/form-data", 19) == 0) {
		if (web_multipart_field(ctype, body, len, "exercise", &v, &vlen) == 0 &&
		    vlen <= WEB_FIELD_MAX) {
			memcpy(up->exercise, v, vlen);
			up->exercise[vlen] = '\0';
		}
		if (web_multipart_field(ctype, body, len, "notebook", &up->source,
		    &up->source_len) < 0)
			up->source = NULL;
	} else {
		exercise = string_field(doc, "exercise");
		if (exercise && strlen(exercise) <= WEB_FIELD_MAX)
			snprintf(up->exercise, sizeof up->exercise, "%s", exercise);
		if ((up->source = string_field(doc, "source")) != NULL)
			up->source_len = strlen(up->source);
	}
	if (up->exercise[0] == '\0' || up->source == NULL) {
		*err = "Name the exercise and attach the notebook: fields \"exercise\" and "
		    "\"notebook\" (a form) or \"exercise\" and \"source\" (JSON).";
		return -1;
	}
	return 0;
}

int
request_upload_text(const struct request_upload *up, const char *body, size_t len, int json)
{
	size_t bad;

	return fs_valid_utf8(up->source, up->source_len, &bad) && !(json && json_has_nul(body, len));
}

int
request_override(const cJSON *doc, const char *body, size_t len,
    struct request_override *out, char *err, size_t errlen)
{
	const cJSON *js = cJSON_GetObjectItemCaseSensitive(doc, "score");
	const char *comment = string_field(doc, "comment");
	size_t bad;
	int score = -1;

	out->score = -1;
	out->comment = NULL;
	/* Hundredths, as every score: 7.5 is taken, 7.555 refused, not rounded. */
	if (!cJSON_IsObject(doc) || js == NULL || (!cJSON_IsNull(js) && (!cJSON_IsNumber(js) ||
	    points_from_number(js->valuedouble, REQUEST_SCORE_MAX, &score) < 0)))
		return msg_fail(err, errlen, "\"score\" must be a number of points from 0 to the "
		    "exercise's maximum with at most two decimals (such as 7 or 7.5), or null to "
		    "remove the override.");
	if (comment == NULL || comment[0] == '\0' || strlen(comment) > STORE_COMMENT_MAX ||
	    json_has_nul(body, len) || !fs_valid_utf8(comment, strlen(comment), &bad))
		return msg_fail(err, errlen, "Say why in \"comment\" (1 to %d bytes of text): the "
		    "student sees it beside the score.", STORE_COMMENT_MAX);
	out->score = score;
	out->comment = comment;
	return 0;
}

int
request_regrade_all(const cJSON *doc)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "all"));
}

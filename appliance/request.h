#ifndef MARKBOOK_REQUEST_H
#define MARKBOOK_REQUEST_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "points.h"
#include "web.h"

/* The fields API requests take from their bodies, checked, or the sentence
 * that tells the person what to send. No HTTP and no database: api.c and
 * api_admin.c read the body, parse it (cJSON_ParseWithLength, `doc` below:
 * NULL when the body is not JSON) and reply; these decide. Strings returned
 * point into `doc` or `body` and live as long as they do. */

#define REQUEST_PASSWORD_MIN	8
#define REQUEST_SCORE_MAX	POINTS_MAX	/* an override in hundredths, before the
						 * exercise's max */

struct request_login {
	const char *username, *password;
};

/* POST /api/login: {"username", "password"}, both strings. Returns 0, or -1
 * with `*err` (static). The caller erases the password. */
int request_login(const cJSON *doc, struct request_login *out, const char **err);

struct request_password {
	const char *password;		/* REQUEST_PASSWORD_MIN to AUTH_PASSWORD_MAX bytes */
	const char *current;		/* NULL when not sent */
};

/* POST /api/password: {"password", "current"}; whether "current" is needed
 * is the caller's to decide. Returns 0, or -1 with a sentence in `err`. The
 * caller erases both. */
int request_password(const cJSON *doc, struct request_password *out, char *err, size_t errlen);

/* POST /api/roster/reset: {"username"}. Returns 0 when `*who` can be a
 * username (roster_valid_username()), else -1 with `*who` the string sent
 * or NULL, for the reply. */
int request_username(const cJSON *doc, const char **who);

struct request_upload {
	char exercise[WEB_FIELD_MAX + 1];	/* "" when missing or too long */
	const char *source;			/* NULL when missing */
	size_t source_len;
};

/* POST /api/submissions: the fields "exercise" and "notebook" of a form whose
 * Content-Type is `ctype` (multipart/form-data), or "exercise" and "source"
 * of JSON (`doc`, used when `ctype` is not a form). Returns 0, or -1 with
 * `*err` (static) when either is missing; the size and the text of the
 * source are request_upload_text()'s. */
int request_upload(const char *ctype, const char *body, size_t len, const cJSON *doc,
    struct request_upload *up, const char **err);

/* 1 when the upload's source is UTF-8 text: no invalid byte, no NUL (for
 * JSON, `json`, also no \u0000 escape in the `len` bytes of `body`, which
 * cJSON would decode into a string that ends early); else 0. */
int request_upload_text(const struct request_upload *up, const char *body, size_t len, int json);

struct request_override {
	int score;			/* hundredths, 0 to REQUEST_SCORE_MAX; -1
					 * removes the override */
	const char *comment;		/* 1 to STORE_COMMENT_MAX bytes of UTF-8 */
};

/* POST /api/submissions/<id>/override: {"score": n or null, "comment"} in
 * the `len` bytes of `body`, parsed as `doc`. Returns 0, or -1 with a
 * sentence in `err`. Whether the score fits the exercise is the store's. */
int request_override(const cJSON *doc, const char *body, size_t len,
    struct request_override *out, char *err, size_t errlen);

/* POST /api/exercises/<slug>/regrade: 1 for {"all": true}, else 0. */
int request_regrade_all(const cJSON *doc);

#endif

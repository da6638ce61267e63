#ifndef MARKBOOK_API_H
#define MARKBOOK_API_H

#include "web.h"

/* What each URL does: login and sessions, exercises and their downloads,
 * submissions, the gradebook, health, and the embedded web UI. Every reply
 * goes through web.c; every row through store.c. */

#define API_WAITING_MAX		3	/* queued or grading per student */
#define API_LOGIN_BODY_MAX	4096
#define API_JSON_BODY_MAX	(4 * GRADER_SUBMISSION_MAX + 65536)	/* escapes */
#define API_FORM_BODY_MAX	(GRADER_SUBMISSION_MAX + 65536)
#define API_LIST_MAX		1000	/* submissions in one listing */
#define API_DASH_MINUTES	10	/* the dashboard's uploads per minute */
#define API_DASH_WAITING	50	/* queued submissions the dashboard lists */
#define API_PRACTICE_PATH_MAX	512	/* a path under exercises/<slug>/practice/ */
#define API_OVERRIDE_BODY_MAX	(4 * STORE_COMMENT_MAX + 256)	/* escapes */

/* Answer request `r`. Returns the HTTP status sent, for civetweb's log. */
int api_handle(struct web_request *r);

/* The teacher's workflows (roster, slips, exports, backup) and the password
 * a student chooses at first login, for a logged-in request whose CSRF token
 * was checked; refuses a student who still has a one-time password anything
 * else. Returns the HTTP status sent, or 0 when `r` is not one of these. */
int api_admin_handle(struct web_request *r);

#endif

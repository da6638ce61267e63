#ifndef MARKBOOK_JSON_H
#define MARKBOOK_JSON_H

#include <cjson/cJSON.h>
#include <stddef.h>

/* Every JSON text markbook reads (request bodies, the harness's report, the
 * kept plan and gate files, exercise.json) is parsed here and nowhere else.
 * cJSON parses by recursion, up to 1,000 levels: deep enough to overflow a
 * civetweb worker's small stack. So the nesting is counted first, without
 * recursion, and a text deeper than JSON_DEPTH_MAX never reaches cJSON. */

#define JSON_DEPTH_MAX	64	/* arrays and objects inside each other */

/* 1 when no point of the `len` bytes of `text` lies inside more than `max`
 * arrays and objects, else 0. Brackets are counted outside strings, valid
 * JSON or not, so the count bounds the recursion of any parser on it. */
int json_depth_ok(const char *text, size_t len, int max);

/* Parse the `len` bytes of `text` (no NUL needed) as one JSON value nested
 * at most JSON_DEPTH_MAX deep. Returns the document, which the caller frees
 * with cJSON_Delete(), or NULL when the text is not JSON or is too deep; then
 * `*too_deep` (when not NULL) says which, and `*error_at` (when not NULL)
 * points where cJSON stopped (the start for a text too deep). */
cJSON *json_parse(const char *text, size_t len, int *too_deep, const char **error_at);

#endif

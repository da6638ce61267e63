#include "json.h"

int
json_depth_ok(const char *text, size_t len, int max)
{
	int depth = 0, in_string = 0;

	for (size_t i = 0; i < len; i++) {
		char c = text[i];

		if (in_string) {
			if (c == '\\')
				i++;	/* whatever is escaped, a quote too */
			else if (c == '"')
				in_string = 0;
		} else if (c == '"') {
			in_string = 1;
		} else if (c == '[' || c == '{') {
			if (++depth > max)
				return 0;
		} else if ((c == ']' || c == '}') && depth > 0) {
			/* Never below 0: a stray closer must not buy openers. */
			depth--;
		}
	}
	return 1;
}

cJSON *
json_parse(const char *text, size_t len, int *too_deep, const char **error_at)
{
	const char *end = text;
	cJSON *doc = NULL;
	int deep = !json_depth_ok(text, len, JSON_DEPTH_MAX);

	if (!deep)
		doc = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (too_deep)
		*too_deep = deep;
	if (error_at)
		*error_at = doc ? NULL : end;
	return doc;
}

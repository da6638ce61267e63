#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "unit.h"

/* `n` openers of `open`, then `inner`, then `n` of `close`, as a new string. */
static char *
nested(int n, const char *open, const char *inner, const char *close)
{
	size_t lo = strlen(open), li = strlen(inner), lc = strlen(close);
	char *s = malloc((size_t)n * (lo + lc) + li + 1), *p = s;

	for (int i = 0; i < n; i++, p += lo)
		memcpy(p, open, lo);
	memcpy(p, inner, li);
	p += li;
	for (int i = 0; i < n; i++, p += lc)
		memcpy(p, close, lc);
	*p = '\0';
	return s;
}

int
main(void)
{
	TEST("json_parse reads 64 nested arrays and objects and refuses 65") {
		char *a64 = nested(64, "[", "", "]"), *a65 = nested(65, "[", "", "]");
		char *o64 = nested(64, "{\"a\":", "1", "}"), *o65 = nested(65, "{\"a\":", "1", "}");
		cJSON *doc;
		int deep = -1;

		CHECK((doc = json_parse(a64, strlen(a64), &deep, NULL)) != NULL && deep == 0);
		cJSON_Delete(doc);
		CHECK((doc = json_parse(o64, strlen(o64), &deep, NULL)) != NULL && deep == 0);
		cJSON_Delete(doc);
		CHECK(json_parse(a65, strlen(a65), &deep, NULL) == NULL && deep == 1);
		CHECK(json_parse(o65, strlen(o65), &deep, NULL) == NULL && deep == 1);
		free(a64);
		free(a65);
		free(o64);
		free(o65);
	}
	TEST("json_parse refuses 1,000 nested arrays before cJSON recurses into them") {
		char *a = nested(1000, "[", "", "]");
		const char *at = NULL;
		int deep = 0;

		CHECK(json_parse(a, strlen(a), &deep, &at) == NULL && deep == 1 && at == a);
		free(a);
	}
	TEST("json_depth_ok does not count brackets inside strings, escaped quotes too") {
		char *inner = nested(200, "[", "", "{");
		char text[1024];

		snprintf(text, sizeof text, "{\"a\": \"%s\", \"b\": \"x\\\"[[[[\"}", inner);
		CHECK(json_depth_ok(text, strlen(text), 1));
		CHECK(!json_depth_ok(text, strlen(text), 0));
		free(inner);
	}
	TEST("json_depth_ok counts a stray closer as nothing: it buys no opener") {
		const char *text = "]]]]]][[[";

		CHECK(json_depth_ok(text, strlen(text), 3));
		CHECK(!json_depth_ok(text, strlen(text), 2));
	}
	TEST("json_depth_ok counts an unclosed string's brackets as inside it") {
		const char *text = "[\"[[[[[[";

		CHECK(json_depth_ok(text, strlen(text), 1));
	}
	TEST("json_parse reads only `len` bytes and says where invalid JSON stops") {
		const char *text = "{\"a\": 1}garbage";
		const char *bad = "{\"a\": nope}";
		const char *at = NULL;
		int deep = -1;
		cJSON *doc;

		CHECK((doc = json_parse(text, 8, &deep, &at)) != NULL && at == NULL);
		CHECK(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(doc, "a")));
		cJSON_Delete(doc);
		CHECK(json_parse(bad, strlen(bad), &deep, &at) == NULL && deep == 0);
		CHECK(at == bad + 6);
	}
	return unit_done("json");
}

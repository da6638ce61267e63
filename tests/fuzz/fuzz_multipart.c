/* libFuzzer target: the multipart upload path (web_multipart_field), as
 * post_submission() calls it on an upload's body. The first line of the input
 * is the Content-Type header; the rest is the body, read into a buffer of
 * exactly its length (no terminating NUL to lean on). A field found must lie
 * inside the body; an upload request_upload() accepts names an exercise and
 * has a notebook inside the body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"
#include "web.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	static const char *const names[] = { "exercise", "notebook", "" };
	struct request_upload up;
	const char *msg = NULL;
	char *ctype, *body;
	size_t clen, blen;

	if (nl == NULL)
		return 0;
	clen = (size_t)(nl - data);
	blen = size - clen - 1;
	if ((ctype = strndup((const char *)data, clen)) == NULL)
		return 0;
	if ((body = malloc(blen ? blen : 1)) == NULL) {
		free(ctype);
		return 0;
	}
	memcpy(body, nl + 1, blen);
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		const char *v = NULL;
		size_t vlen = 0;

		if (web_multipart_field(ctype, body, blen, names[i], &v, &vlen) == 0 &&
		    (v < body || vlen > blen || v + vlen > body + blen))
			abort();
	}
	if (request_upload(ctype, body, blen, NULL, &up, &msg) == 0) {
		if (up.exercise[0] == '\0' || strlen(up.exercise) > WEB_FIELD_MAX ||
		    up.source < body || up.source_len > blen || up.source + up.source_len > body + blen)
			abort();
	} else if (msg == NULL || msg[0] == '\0')
		abort();
	free(body);
	free(ctype);
	return 0;
}

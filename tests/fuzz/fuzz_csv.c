/* libFuzzer target: the roster CSV reader (csv_parse) on any bytes, and the
 * CSV writer's quoting: fields cut from the input, written with csv_field()
 * and read back with csv_parse(), must come back as they went in (with the
 * formula guard's quote in front of = + - @ tab CR). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

#define FIELDS_MAX	16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
roundtrip(const uint8_t *data, size_t size)
{
	char *fields[FIELDS_MAX], err[256];
	size_t n = 0, start = 0;
	struct csv_table t;
	struct csv c;

	/* Fields are the input's pieces between NUL bytes (C strings cannot hold
	 * one); a header of three fields fixes the separator the reader guesses. */
	for (size_t i = 0; i <= size && n < FIELDS_MAX; i++)
		if (i == size || data[i] == 0) {
			fields[n++] = strndup((const char *)data + start, i - start);
			start = i + 1;
		}
	memset(&c, 0, sizeof c);
	csv_field(&c, "h1");
	csv_field(&c, "h2");
	csv_field(&c, "h3");
	csv_end_row(&c);
	csv_field(&c, "row");
	for (size_t i = 0; i < n; i++)
		csv_field(&c, fields[i] ? fields[i] : "");
	csv_end_row(&c);
	if (!c.failed) {
		if (csv_parse(c.buf, c.len, &t, err, sizeof err) != 0)
			abort();
		if (t.n != 2 || t.rows[1].n != n + 1)
			abort();
		for (size_t i = 0; i < n; i++) {
			const char *want = fields[i] ? fields[i] : "", *got = t.rows[1].fields[i + 1];

			if (want[0] && strchr("=+-@\t\r", want[0])) {
				if (got[0] != '\'')
					abort();
				got++;
			}
			if (strcmp(want, got) != 0)
				abort();
		}
		csv_table_free(&t);
	}
	csv_free(&c);
	for (size_t i = 0; i < n; i++)
		free(fields[i]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct csv_table t;
	char err[256];

	if (csv_parse((const char *)data, size, &t, err, sizeof err) == 0) {
		for (size_t i = 0; i < t.n; i++)
			if (t.rows[i].n == 0 || t.rows[i].line == 0)
				abort();
	}
	csv_table_free(&t);
	if (size <= 4096)
		roundtrip(data, size);
	return 0;
}

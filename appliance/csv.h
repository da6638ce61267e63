#ifndef MARKBOOK_CSV_H
#define MARKBOOK_CSV_H

#include <stddef.h>

/* Writing CSV (RFC 4180: comma, CRLF, quotes doubled) for the teacher's
 * spreadsheet. A field that a spreadsheet would run as a formula (=, +, -, @
 * first) is prefixed with ' so that a name cannot become a formula. And
 * reading it (rosters): what spreadsheets save, commas or semicolons. */

#define CSV_MAX		(64 * 1024 * 1024)	/* a whole export */
#define CSV_COLUMNS_MAX	512			/* exercises in an export */
#define CSV_READ_ROWS_MAX	10000		/* rows of a file read */
#define CSV_READ_FIELDS_MAX	256		/* fields of a row read */

struct csv {
	char *buf;		/* owned; NUL-terminated */
	size_t len, cap;
	int row_started;
	int failed;		/* out of memory or over CSV_MAX: drop the result */
};

/* Append a text field, a number, or points given in hundredths (written
 * with at most two decimals: 7.5), to the current row. */
void csv_field(struct csv *c, const char *text);
void csv_number(struct csv *c, long long n);
void csv_points(struct csv *c, long long hundredths);

/* End the current row. */
void csv_end_row(struct csv *c);

void csv_free(struct csv *c);

struct store;

/* Write the gradebook into `c`: a header row "username,name,<slug>...,total"
 * and one row per student with the best score of each exercise (empty when
 * nothing is graded). Returns 0, or -1 when the database or memory failed. */
int csv_export_gradebook(struct store *s, struct csv *c);

enum csv_format {
	CSV_WIDE,	/* csv_export_gradebook() */
	CSV_LONG,	/* a row per student and exercise, also when nothing was handed in */
	CSV_CANVAS,	/* Canvas's gradebook import: Student, ID, SIS User ID, ... */
	CSV_MOODLE,	/* Moodle's "Import grades: CSV file" */
};

/* The format called `name` (wide, long, canvas, moodle). Returns 0 or -1. */
int csv_format_parse(const char *name, enum csv_format *f);

/* Write the gradebook into `c` in format `f`. Returns 0 or -1 as
 * csv_export_gradebook(). */
int csv_export(struct store *s, enum csv_format f, struct csv *c);

struct csv_row {
	size_t line;		/* where the row starts in the file, from 1 */
	char **fields;		/* owned by the table */
	size_t n;
};

struct csv_table {
	struct csv_row *rows;	/* blank lines are left out */
	size_t n;
	char separator;		/* ',' or ';', as guessed from the first line */
};

/* Read `len` bytes of CSV: a UTF-8 byte order mark is skipped, the
 * separator is ',' or ';' (whichever the first line has more of), quotes as
 * in RFC 4180, lines end in CRLF, LF or CR. Returns 0, or -1 with a sentence
 * that names the line in `err` (a quote never closed, too many rows or
 * fields, out of memory). Free `t` with csv_table_free(), also after -1. */
int csv_parse(const char *data, size_t len, struct csv_table *t, char *err, size_t errlen);

void csv_table_free(struct csv_table *t);

#endif

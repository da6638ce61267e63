#include "csv.h"

#include "points.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void
put(struct csv *c, const char *s, size_t n)
{
	if (c->failed)
		return;
	if (c->len + n + 1 > c->cap) {
		size_t want = c->cap ? c->cap : 4096;
		char *grown;

		while (want < c->len + n + 1)
			want *= 2;
		if (want > CSV_MAX || (grown = realloc(c->buf, want)) == NULL) {
			c->failed = 1;
			return;
		}
		c->buf = grown;
		c->cap = want;
	}
	memcpy(c->buf + c->len, s, n);
	c->len += n;
	c->buf[c->len] = '\0';
}

static void
separate(struct csv *c)
{
	if (c->row_started)
		put(c, ",", 1);
	c->row_started = 1;
}

void
csv_field(struct csv *c, const char *text)
{
	int quote = strpbrk(text, ",\"\r\n") != NULL;

	separate(c);
	if (quote)
		put(c, "\"", 1);
	if (text[0] != '\0' && strchr("=+-@\t\r", text[0]) != NULL)
		put(c, "'", 1);
	for (const char *p = text; *p; p++) {
		if (*p == '"')
			put(c, "\"\"", 2);
		else
			put(c, p, 1);
	}
	if (quote)
		put(c, "\"", 1);
}

void
csv_number(struct csv *c, long long n)
{
	char buf[32];

	separate(c);
	put(c, buf, (size_t)snprintf(buf, sizeof buf, "%lld", n));
}

void
csv_points(struct csv *c, long long hundredths)
{
	char buf[POINTS_TEXT_MAX];

	separate(c);
	points_format(hundredths, buf);
	put(c, buf, strlen(buf));
}

void
csv_end_row(struct csv *c)
{
	put(c, "\r\n", 2);
	c->row_started = 0;
}

void
csv_free(struct csv *c)
{
	free(c->buf);
	memset(c, 0, sizeof *c);
}

struct grade_row {
	long long user_id;
	char *username, *name, *email, *slug;
	int best, max_points;
	long long total;
};

struct grades {
	struct grade_row *rows;
	size_t n, cap;
	const char *columns[CSV_COLUMNS_MAX];	/* borrowed from rows */
	size_t n_columns;
	int failed;
};

static int
keep_row(const struct store_grade *g, void *arg)
{
	struct grades *gr = arg;
	struct grade_row *row;
	size_t i;

	if (gr->n == gr->cap) {
		size_t want = gr->cap ? 2 * gr->cap : 256;
		struct grade_row *grown = realloc(gr->rows, want * sizeof *grown);

		if (grown == NULL)
			return gr->failed = 1;
		gr->rows = grown;
		gr->cap = want;
	}
	row = &gr->rows[gr->n];
	row->user_id = g->user_id;
	row->best = g->best_score;
	row->total = g->total;
	row->max_points = g->max_points;
	row->username = strdup(g->username);
	row->name = strdup(g->name);
	row->email = strdup(g->email);
	row->slug = strdup(g->slug);
	gr->n++;
	if (!row->username || !row->name || !row->email || !row->slug)
		return gr->failed = 1;
	for (i = 0; i < gr->n_columns && strcmp(gr->columns[i], row->slug) != 0; i++)
		;
	if (i == gr->n_columns && gr->n_columns < CSV_COLUMNS_MAX)
		gr->columns[gr->n_columns++] = row->slug;
	return 0;
}

static int
cmp_column(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The first cells of a student's row, and of the header, in format `f`. */
static void
student_cells(struct csv *c, enum csv_format f, const struct grade_row *row)
{
	switch (f) {
	case CSV_CANVAS:
		/* Canvas finds the student by SIS Login ID when ID is empty. */
		csv_field(c, row ? row->name : "Student");
		csv_field(c, row ? "" : "ID");
		csv_field(c, row ? "" : "SIS User ID");
		csv_field(c, row ? row->username : "SIS Login ID");
		csv_field(c, row ? "" : "Section");
		break;
	case CSV_MOODLE:
		csv_field(c, row ? row->username : "Username");
		csv_field(c, row ? row->email : "Email address");
		csv_field(c, row ? row->name : "Full name");
		break;
	default:
		csv_field(c, row ? row->username : "username");
		csv_field(c, row ? row->name : "name");
	}
}

/* A column per exercise: wide, canvas and moodle. */
static void
write_columns(struct grades *gr, enum csv_format f, struct csv *c)
{
	qsort(gr->columns, gr->n_columns, sizeof gr->columns[0], cmp_column);
	student_cells(c, f, NULL);
	for (size_t i = 0; i < gr->n_columns; i++)
		csv_field(c, gr->columns[i]);
	if (f == CSV_WIDE)
		csv_field(c, "total");
	csv_end_row(c);
	if (f == CSV_CANVAS) {
		/* Canvas reads this row as the points of a new assignment. */
		csv_field(c, "Points Possible");
		for (int k = 0; k < 4; k++)
			csv_field(c, "");
		for (size_t k = 0; k < gr->n_columns; k++) {
			size_t j;

			for (j = 0; j < gr->n && strcmp(gr->rows[j].slug, gr->columns[k]) != 0; j++)
				;
			csv_points(c, gr->rows[j].max_points);
		}
		csv_end_row(c);
	}
	/* Rows come by username then slug: one student's rows are together. */
	for (size_t i = 0; i < gr->n; ) {
		size_t end = i;

		while (end < gr->n && gr->rows[end].user_id == gr->rows[i].user_id)
			end++;
		student_cells(c, f, &gr->rows[i]);
		for (size_t k = 0; k < gr->n_columns; k++) {
			size_t j;

			for (j = i; j < end && strcmp(gr->rows[j].slug, gr->columns[k]) != 0; j++)
				;
			if (j < end && gr->rows[j].best >= 0)
				csv_points(c, gr->rows[j].best);
			else
				csv_field(c, "");
		}
		if (f == CSV_WIDE)
			csv_points(c, gr->rows[i].total);
		csv_end_row(c);
		i = end;
	}
}

/* The long format needs no grouping: a row of the view is a row of the file. */
static int
long_row(const struct store_grade *g, void *arg)
{
	struct csv *c = arg;
	char when[32] = "";

	if (g->submitted_at > 0) {
		time_t t = (time_t)g->submitted_at;
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	csv_field(c, g->username);
	csv_field(c, g->name);
	csv_field(c, g->slug);
	if (g->best_score >= 0)
		csv_points(c, g->best_score);
	else
		csv_field(c, "");
	csv_points(c, g->max_points);
	csv_field(c, when);
	csv_field(c, g->late < 0 ? "" : g->late ? "yes" : "no");
	csv_number(c, g->attempts);
	csv_end_row(c);
	return c->failed;
}

int
csv_format_parse(const char *name, enum csv_format *f)
{
	static const char *const names[] = { "wide", "long", "canvas", "moodle" };

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(name, names[i]) == 0) {
			*f = (enum csv_format)i;
			return 0;
		}
	return -1;
}

int
csv_export(struct store *s, enum csv_format f, struct csv *c)
{
	struct grades gr;
	int rc = -1;

	memset(&gr, 0, sizeof gr);
	if (f == CSV_LONG) {
		csv_field(c, "username");
		csv_field(c, "name");
		csv_field(c, "exercise");
		csv_field(c, "best_score");
		csv_field(c, "max_points");
		csv_field(c, "submitted_at");
		csv_field(c, "late");
		csv_field(c, "attempts");
		csv_end_row(c);
		if (store_gradebook(s, long_row, c) != STORE_OK)
			goto fail;
		rc = c->failed ? -1 : 0;
		goto fail;
	}
	if (store_gradebook(s, keep_row, &gr) != STORE_OK || gr.failed)
		goto fail;
	write_columns(&gr, f, c);
	rc = c->failed ? -1 : 0;
fail:
	for (size_t i = 0; i < gr.n; i++) {
		free(gr.rows[i].username);
		free(gr.rows[i].name);
		free(gr.rows[i].email);
		free(gr.rows[i].slug);
	}
	free(gr.rows);
	return rc;
}

int
csv_export_gradebook(struct store *s, struct csv *c)
{
	return csv_export(s, CSV_WIDE, c);
}

struct reader {
	struct csv_table *t;
	char *field;		/* the field being read */
	size_t flen, fcap;
	char **fields;		/* of the row being read */
	size_t nf;
	int failed;
};

static void
field_put(struct reader *r, char ch)
{
	if (r->flen + 2 > r->fcap) {
		size_t want = r->fcap ? 2 * r->fcap : 64;
		char *grown = realloc(r->field, want);

		if (grown == NULL) {
			r->failed = 1;
			return;
		}
		r->field = grown;
		r->fcap = want;
	}
	r->field[r->flen++] = ch;
	r->field[r->flen] = '\0';
}

static int
field_end(struct reader *r)
{
	char *copy;

	if (r->nf == CSV_READ_FIELDS_MAX)
		return -1;
	if (r->fields == NULL && (r->fields = calloc(CSV_READ_FIELDS_MAX,
	    sizeof *r->fields)) == NULL)
		return r->failed = 1, -1;
	if ((copy = strndup(r->field ? r->field : "", r->flen)) == NULL)
		return r->failed = 1, -1;
	r->fields[r->nf++] = copy;
	r->flen = 0;
	return 0;
}

/* Keep the row read, unless it is blank. */
static int
row_end(struct reader *r, size_t line)
{
	struct csv_table *t = r->t;
	struct csv_row *grown;
	char **fields;
	size_t i;

	for (i = 0; i < r->nf && r->fields[i][0] == '\0'; i++)
		;
	if (i == r->nf) {
		while (r->nf > 0)
			free(r->fields[--r->nf]);
		return 0;
	}
	if (t->n == CSV_READ_ROWS_MAX)
		return -1;
	if ((grown = realloc(t->rows, (t->n + 1) * sizeof *grown)) == NULL ||
	    (fields = realloc(r->fields, r->nf * sizeof *fields)) == NULL) {
		if (grown)
			t->rows = grown;
		return r->failed = 1, -1;
	}
	t->rows = grown;
	t->rows[t->n].line = line;
	t->rows[t->n].fields = fields;
	t->rows[t->n].n = r->nf;
	t->n++;
	r->fields = NULL;
	r->nf = 0;
	return 0;
}

/* ';' when the first line has more semicolons than commas outside quotes. */
static char
guess_separator(const char *p, const char *end)
{
	size_t commas = 0, semicolons = 0;
	int quoted = 0;

	for (; p < end && (quoted || (*p != '\n' && *p != '\r')); p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (!quoted)
			commas += *p == ',', semicolons += *p == ';';
	}
	return semicolons > commas ? ';' : ',';
}

int
csv_parse(const char *data, size_t len, struct csv_table *t, char *err, size_t errlen)
{
	const char *p = data, *end = data + len;
	struct reader r;
	size_t line = 1, row_line = 1;
	int rc = -1;

	memset(t, 0, sizeof *t);
	memset(&r, 0, sizeof r);
	r.t = t;
	if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	t->separator = guess_separator(p, end);
	while (p < end) {
		row_line = line;
		for (;;) {
			/* One field. */
			if (p < end && *p == '"') {
				size_t open_line = line;

				for (p++;; p++) {
					if (p == end) {
						snprintf(err, errlen, "line %zu: a quoted field is never "
						    "closed. Add the missing \" or remove the stray one.",
						    open_line);
						goto fail;
					}
					if (*p == '"' && p + 1 < end && p[1] == '"')
						p++;
					else if (*p == '"')
						break;
					line += *p == '\n';
					field_put(&r, *p);
				}
				p++;
				if (p < end && *p != t->separator && *p != '\n' && *p != '\r') {
					snprintf(err, errlen, "line %zu: there is text after a closing "
					    "quote. Inside quotes write a quote as \"\".", line);
					goto fail;
				}
			} else {
				for (; p < end && *p != t->separator && *p != '\n' && *p != '\r'; p++)
					field_put(&r, *p);
			}
			if (r.failed || field_end(&r) < 0) {
				if (!r.failed)
					snprintf(err, errlen, "line %zu has more than %d fields.", line,
					    CSV_READ_FIELDS_MAX);
				goto fail;
			}
			if (p < end && *p == t->separator) {
				p++;
				continue;
			}
			break;
		}
		if (p < end && *p == '\r')
			p++;
		if (p < end && *p == '\n')
			p++;
		line++;
		if (row_end(&r, row_line) < 0) {
			if (!r.failed)
				snprintf(err, errlen, "line %zu: the file has more than %d rows; "
				    "split it.", row_line, CSV_READ_ROWS_MAX);
			goto fail;
		}
	}
	rc = 0;
fail:
	if (r.failed)
		snprintf(err, errlen, "out of memory reading the file.");
	for (size_t i = 0; i < r.nf; i++)
		free(r.fields[i]);
	free(r.fields);
	free(r.field);
	return rc;
}

void
csv_table_free(struct csv_table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		for (size_t k = 0; k < t->rows[i].n; k++)
			free(t->rows[i].fields[k]);
		free(t->rows[i].fields);
	}
	free(t->rows);
	memset(t, 0, sizeof *t);
}

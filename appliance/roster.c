#include "roster.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "csv.h"
#include "fsutil.h"

enum column { COL_USERNAME, COL_NAME, COL_FIRST, COL_LAST, COL_EMAIL, COL_COUNT };

/* Header names, after lowercasing and '_' to ' ': ours, Canvas's gradebook
 * export (Student, SIS Login ID), Moodle's participants and user uploads
 * (First name, Last name or Surname, Email address, Username). */
static const struct {
	const char *header;
	enum column col;
} headers[] = {
	{ "username", COL_USERNAME }, { "user name", COL_USERNAME },
	{ "login", COL_USERNAME }, { "login id", COL_USERNAME },
	{ "sis login id", COL_USERNAME },
	{ "name", COL_NAME }, { "full name", COL_NAME }, { "student", COL_NAME },
	{ "student name", COL_NAME },
	{ "first name", COL_FIRST }, { "firstname", COL_FIRST }, { "given name", COL_FIRST },
	{ "last name", COL_LAST }, { "lastname", COL_LAST }, { "surname", COL_LAST },
	{ "family name", COL_LAST },
	{ "email", COL_EMAIL }, { "e-mail", COL_EMAIL }, { "email address", COL_EMAIL },
	{ "e-mail address", COL_EMAIL },
};

/* Rows of a Canvas export that are not students: they have no login. */
static const char *const not_students[] = { "Points Possible", "Student, Test", "Test Student" };

int
roster_valid_username(const char *u)
{
	size_t n = strlen(u);

	if (n == 0 || n > STORE_USERNAME_MAX)
		return 0;
	return strspn(u, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@-") == n;
}

static void
add_error(struct roster_result *res, const char *fmt, ...)
{
	va_list ap;

	if (res->n_errors < ROSTER_ERRORS_MAX) {
		va_start(ap, fmt);
		vsnprintf(res->errors[res->n_errors], ROSTER_ERROR_LEN, fmt, ap);
		va_end(ap);
	}
	res->n_errors++;
}

/* Trim spaces in place. */
static char *
trim(char *s)
{
	char *end = s + strlen(s);

	while (*s == ' ' || *s == '\t')
		s++;
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	return s;
}

static int
find_column(const char *cell, enum column *col)
{
	char norm[64];
	size_t n = 0;

	for (const char *p = cell; *p && n < sizeof norm - 1; p++)
		norm[n++] = *p == '_' ? ' ' : (*p >= 'A' && *p <= 'Z') ? (char)(*p + 32) : *p;
	norm[n] = '\0';
	for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++)
		if (strcmp(trim(norm), headers[i].header) == 0) {
			*col = headers[i].col;
			return 0;
		}
	return -1;
}

static int
has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

static int
valid_email(const char *e)
{
	const char *at = strchr(e, '@');

	return strlen(e) <= STORE_EMAIL_MAX && at && at != e && at[1] && !strchr(at + 1, '@') &&
	    strpbrk(e, " \t,;<>\"") == NULL && !has_control(e);
}

/* A row's cell of `col`, "" when the row is short, NULL when there is no
 * such column. */
static char *
cell(const struct csv_row *row, const int at[COL_COUNT], enum column col)
{
	if (at[col] < 0)
		return NULL;
	return (size_t)at[col] < row->n ? trim(row->fields[at[col]]) : (char *)"";
}

/* Check one data row into `out`; `name` is room for a joined first and last
 * name. Returns 1 for a student, 0 for a row to skip, -1 after an error. */
static int
check_row(const struct csv_row *row, const int at[COL_COUNT], struct store_roster_row *out,
    char name[STORE_NAME_MAX + 2], struct roster_result *res)
{
	const char *user = cell(row, at, at[COL_USERNAME] >= 0 ? COL_USERNAME : COL_EMAIL);
	const char *full = cell(row, at, COL_NAME), *email = cell(row, at, COL_EMAIL);
	const char *first = cell(row, at, COL_FIRST), *last = cell(row, at, COL_LAST);
	size_t line = row->line;

	if (full == NULL && (first || last))
		snprintf(name, STORE_NAME_MAX + 2, "%s%s%s", first ? first : "",
		    first && *first && last && *last ? " " : "", last ? last : "");
	else
		snprintf(name, STORE_NAME_MAX + 2, "%s", full ? full : "");
	if (*user == '\0') {
		for (size_t i = 0; i < sizeof not_students / sizeof not_students[0]; i++)
			if (strcmp(name, not_students[i]) == 0)
				return 0;
		add_error(res, "line %zu: no username. Fill it in or delete the row.", line);
		return -1;
	}
	if (!roster_valid_username(user)) {
		add_error(res, "line %zu: \"%.80s\" cannot be a username: use 1 to %d letters, "
		    "digits and . _ @ -.", line, user, STORE_USERNAME_MAX);
		return -1;
	}
	if (strlen(name) > STORE_NAME_MAX || has_control(name)) {
		add_error(res, "line %zu: the name of \"%s\" is longer than %d bytes or holds a "
		    "line break. Shorten it.", line, user, STORE_NAME_MAX);
		return -1;
	}
	if (email && *email && !valid_email(email)) {
		add_error(res, "line %zu: \"%.80s\" is not an email address. Correct it or leave "
		    "the cell empty.", line, email);
		return -1;
	}
	out->line = line;
	out->username = user;
	out->name = full || first || last ? name : NULL;
	out->email = email;
	return 1;
}

/* Read the header row into `at` (the field index of each column, or -1). */
static int
read_header(const struct csv_row *h, int at[COL_COUNT], struct roster_result *res)
{
	for (int i = 0; i < COL_COUNT; i++)
		at[i] = -1;
	for (size_t i = 0; i < h->n; i++) {
		enum column col;

		if (find_column(h->fields[i], &col) == 0 && at[col] < 0)
			at[col] = (int)i;
	}
	if (at[COL_USERNAME] < 0 && at[COL_EMAIL] < 0) {
		add_error(res, "line %zu: the header row has no username column. Name the column "
		    "of usernames \"username\" (or \"email\"), and name and email, if any, "
		    "\"name\" and \"email\".", h->line);
		return -1;
	}
	return 0;
}

/* Make the one-time password of every row whose student is not stored yet. */
static int
make_passwords(struct store *s, struct store_roster_row *rows, size_t n, char (*hashes)[AUTH_HASH_MAX],
    struct roster_result *res)
{
	for (size_t i = 0; i < n; i++) {
		struct roster_student *st;
		struct store_user u;
		int rc = store_get_user(s, rows[i].username, &u);

		if (rc == STORE_OK && strcmp(u.role, "student") != 0) {
			add_error(res, "line %zu: \"%s\" is a teacher's account. A roster lists "
			    "students only: delete the row.", rows[i].line, rows[i].username);
			continue;
		}
		if (rc == STORE_OK)
			continue;
		if (rc != STORE_NOTFOUND) {
			add_error(res, "The database could not be read: %s.", store_errmsg(s));
			return -1;
		}
		st = &res->added[res->n_added++];
		snprintf(st->username, sizeof st->username, "%s", rows[i].username);
		snprintf(st->name, sizeof st->name, "%s", rows[i].name && *rows[i].name ?
		    rows[i].name : rows[i].username);
		if (auth_new_password(st->password) < 0 ||
		    auth_hash_one_time(st->password, hashes[i], AUTH_HASH_MAX) < 0) {
			add_error(res, "The server could not make a password. Try again.");
			return -1;
		}
		rows[i].password = st->password;
		rows[i].password_hash = hashes[i];
	}
	return res->n_errors ? -1 : 0;
}

int
roster_read(const char *data, size_t len, struct roster_file *f, struct roster_result *res)
{
	struct csv_table *t = &f->table;
	char err[ROSTER_ERROR_LEN];
	int at[COL_COUNT];
	size_t bad = 0;

	memset(f, 0, sizeof *f);
	if (len > ROSTER_FILE_MAX) {
		add_error(res, "The roster is larger than %d KiB. Remove columns other than "
		    "username, name and email.", ROSTER_FILE_MAX / 1024);
		return -1;
	}
	if (!fs_valid_utf8(data, len, &bad)) {
		size_t line = 1;

		for (size_t i = 0; i < bad; i++)
			line += data[i] == '\n';
		add_error(res, "line %zu: the file is not UTF-8 text (or holds a NUL byte). Save "
		    "it from your spreadsheet as \"CSV UTF-8\" and import that.", line);
		return -1;
	}
	if (csv_parse(data, len, t, err, sizeof err) < 0) {
		add_error(res, "%s", err);
		return -1;
	}
	if (t->n == 0) {
		add_error(res, "The file is empty. A roster has a header row (username, name, "
		    "email) and one row per student.");
		return -1;
	}
	if (read_header(&t->rows[0], at, res) < 0)
		return -1;
	if ((f->rows = calloc(t->n, sizeof *f->rows)) == NULL ||
	    (f->names = calloc(t->n, sizeof *f->names)) == NULL) {
		add_error(res, "The server is out of memory. Try again.");
		return -1;
	}
	for (size_t i = 1; i < t->n; i++) {
		struct store_roster_row *row = &f->rows[f->n];
		int ok = check_row(&t->rows[i], at, row, f->names[f->n], res);

		for (size_t k = 0; ok > 0 && k < f->n; k++)
			if (strcmp(f->rows[k].username, row->username) == 0) {
				add_error(res, "line %zu: \"%s\" is also on line %zu. Keep one of "
				    "the two rows.", row->line, row->username, f->rows[k].line);
				ok = -1;
			}
		f->n += ok > 0;
	}
	return res->n_errors ? -1 : 0;
}

void
roster_file_free(struct roster_file *f)
{
	free(f->names);
	free(f->rows);
	csv_table_free(&f->table);
	memset(f, 0, sizeof *f);
}

int
roster_import(struct store *s, const char *data, size_t len, long long actor_id,
    struct roster_result *res)
{
	char (*hashes)[AUTH_HASH_MAX] = NULL;
	struct roster_file f;
	size_t bad_line = 0;
	int rc = -1;

	memset(res, 0, sizeof *res);
	if (roster_read(data, len, &f, res) < 0)
		goto out;
	/* One more than the rows: a roster of only a header is no error. */
	if ((hashes = calloc(f.n + 1, sizeof *hashes)) == NULL ||
	    (res->added = calloc(f.n + 1, sizeof *res->added)) == NULL) {
		add_error(res, "The server is out of memory. Try again.");
		goto out;
	}
	if (make_passwords(s, f.rows, f.n, hashes, res) < 0)
		goto out;
	switch (store_import_roster(s, f.rows, f.n, actor_id, (long long)time(NULL),
	    &res->counts, &bad_line)) {
	case STORE_OK:
		rc = 0;
		break;
	case STORE_EXISTS:
		add_error(res, "line %zu: this is a teacher's account. A roster lists students "
		    "only: delete the row.", bad_line);
		break;
	case STORE_NOTFOUND:
		add_error(res, "Someone changed the class list during the import. Import the "
		    "file again.");
		break;
	default:
		add_error(res, "The database could not save the roster: %s.", store_errmsg(s));
	}
out:
	if (rc < 0) {
		/* Nothing was stored: the passwords made are nobody's. */
		for (size_t i = 0; i < res->n_added; i++)
			explicit_bzero(res->added[i].password, sizeof res->added[i].password);
		res->n_added = 0;
	}
	if (hashes)
		explicit_bzero(hashes, (f.n + 1) * sizeof *hashes);
	free(hashes);
	roster_file_free(&f);
	return rc;
}

void
roster_result_free(struct roster_result *res)
{
	if (res->added)
		explicit_bzero(res->added, res->n_added * sizeof *res->added);
	free(res->added);
	res->added = NULL;
	res->n_added = 0;
}

int
roster_reset(struct store *s, const char *username, long long actor_id,
    char password[AUTH_GENERATED_LEN + 1])
{
	char hash[AUTH_HASH_MAX];
	int rc;

	if (auth_new_password(password) < 0 || auth_hash_one_time(password, hash, sizeof hash) < 0)
		return STORE_ERROR;
	rc = store_reset_password(s, username, password, hash, actor_id, (long long)time(NULL));
	if (rc != STORE_OK)
		explicit_bzero(password, AUTH_GENERATED_LEN + 1);
	return rc;
}

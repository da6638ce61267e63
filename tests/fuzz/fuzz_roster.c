/* libFuzzer target: the roster import on any bytes, as a teacher's file (a
 * spreadsheet's CSV, Canvas's or Moodle's export) reaches it. First the
 * column mapping and row checks alone (roster_read): every row it accepts is
 * a student markbook can store, and a refusal names its reasons. Then
 * roster_import() against a real database (a scratch file in /dev/shm, made
 * once per process with a teacher and two students): all or nothing. When
 * it reports errors the users (and the audit table) are as they were; when
 * it succeeds, every new student it reports exists, must choose a password,
 * and logs in with the one-time password it reported. */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "roster.h"
#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define IMPORT_ROWS_MAX	16	/* ~6 ms of bcrypt per new student: larger files are only read */
#define SNAPSHOT_MAX	(64 * 1024)
/* What a stored name or email may not hold (NUL ends the string anyway). */
#define CONTROLS	"\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10" \
			"\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f"

static char dir[64], path[128];
static struct store *db;
static sqlite3 *peek;		/* a second connection: what is committed */
static char base[SNAPSHOT_MAX];

static void
cleanup(void)
{
	static const char *const suffix[] = { "", "-wal", "-shm" };
	char file[160];

	store_close(db);
	sqlite3_close(peek);
	for (size_t i = 0; i < sizeof suffix / sizeof *suffix; i++) {
		snprintf(file, sizeof file, "%s%s", path, suffix[i]);
		unlink(file);
	}
	rmdir(dir);
}

/* Every user and the audit table's size, as one string in `out`. */
static void
snapshot(char out[SNAPSHOT_MAX])
{
	sqlite3_stmt *st;
	size_t used = 0;
	int rc;

	if (sqlite3_prepare_v2(peek, "SELECT username, name, role, password_hash, email, "
	    "must_change_password, ifnull(initial_password, '-'), (SELECT count(*) FROM audit) "
	    "FROM users ORDER BY id", -1, &st, NULL) != SQLITE_OK)
		abort();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		for (int c = 0; c < 8; c++) {
			int n = snprintf(out + used, SNAPSHOT_MAX - used, "%s%c",
			    (const char *)sqlite3_column_text(st, c), c == 7 ? '\n' : '|');

			if (n < 0 || (size_t)n >= SNAPSHOT_MAX - used)
				abort();	/* IMPORT_ROWS_MAX rows fit */
			used += (size_t)n;
		}
	if (rc != SQLITE_DONE)
		abort();
	sqlite3_finalize(st);
	out[used] = '\0';
}

/* Back to the teacher and the two students, as setup() made them. */
static void
reset(void)
{
	static char now[SNAPSHOT_MAX];

	if (sqlite3_exec(peek, "DELETE FROM audit; DELETE FROM users WHERE username NOT IN "
	    "('teacher', 'ada', 'bob'); UPDATE users SET email = '', name = CASE username "
	    "WHEN 'ada' THEN 'Ada Lovelace' WHEN 'bob' THEN 'Bob' ELSE 'Teacher' END",
	    NULL, NULL, NULL) != SQLITE_OK)
		abort();
	snapshot(now);
	if (strcmp(now, base) != 0)
		abort();
}

static void
setup(void)
{
	static const char *const users[][3] = { { "teacher", "Teacher", "teacher" },
		{ "ada", "Ada Lovelace", "student" }, { "bob", "Bob", "student" } };
	char err[512], hash[AUTH_HASH_MAX];

	snprintf(dir, sizeof dir, "/dev/shm/markbook-fuzz-roster-%d", (int)getpid());
	snprintf(path, sizeof path, "%s/markbook.db", dir);
	if (mkdir(dir, 0700) < 0 || auth_hash_password("a password", hash, sizeof hash) < 0)
		abort();
	atexit(cleanup);
	if ((db = store_open(path, err, sizeof err)) == NULL) {
		fprintf(stderr, "store_open: %s\n", err);
		abort();
	}
	for (size_t i = 0; i < sizeof users / sizeof *users; i++)
		if (store_add_user(db, users[i][0], users[i][1], users[i][2], hash, 0, NULL) !=
		    STORE_OK)
			abort();
	if (sqlite3_open(path, &peek) != SQLITE_OK)
		abort();
	snapshot(base);
}

/* A refusal names its reasons: at least one, each a sentence. */
static void
check_errors(const struct roster_result *res)
{
	if (res->n_errors == 0)
		abort();
	for (size_t i = 0; i < res->n_errors && i < ROSTER_ERRORS_MAX; i++)
		if (res->errors[i][0] == '\0' || memchr(res->errors[i], '\0', ROSTER_ERROR_LEN) == NULL)
			abort();
}

/* The rows roster_read() accepted: students markbook can store, each once,
 * below the header. Returns how many. */
static size_t
check_read(const uint8_t *data, size_t size, struct roster_result *res)
{
	struct roster_file f;
	size_t n = 0;

	memset(res, 0, sizeof *res);
	if (roster_read((const char *)data, size, &f, res) < 0) {
		check_errors(res);
		roster_file_free(&f);
		return SIZE_MAX;
	}
	if (res->n_errors != 0 || f.table.n < 1 || f.n > f.table.n - 1)
		abort();
	for (size_t i = 0; i < f.n; i++) {
		const struct store_roster_row *row = &f.rows[i];

		if (!roster_valid_username(row->username) || row->line <= f.table.rows[0].line ||
		    (row->name && (strlen(row->name) > STORE_NAME_MAX || strpbrk(row->name, CONTROLS))) ||
		    (row->email && *row->email && (strlen(row->email) > STORE_EMAIL_MAX ||
		    strchr(row->email, '@') == NULL || strpbrk(row->email, CONTROLS))) ||
		    row->password || row->password_hash)
			abort();
		for (size_t k = 0; k < i; k++)
			if (strcmp(f.rows[k].username, row->username) == 0)
				abort();
	}
	n = f.n;
	roster_file_free(&f);
	return n;
}

/* A new student: stored, held to the password page, with the reported
 * one-time password kept for the slips and logging in. */
static void
check_added(const struct roster_student *st)
{
	struct store_user u;
	sqlite3_stmt *q;
	int same;

	if (store_get_user(db, st->username, &u) != STORE_OK || strcmp(u.role, "student") != 0 ||
	    !u.must_change || strlen(st->password) != AUTH_GENERATED_LEN ||
	    !auth_check_password(st->password, u.password_hash))
		abort();
	if (sqlite3_prepare_v2(peek, "SELECT initial_password = ? FROM users WHERE username = ?",
	    -1, &q, NULL) != SQLITE_OK)
		abort();
	sqlite3_bind_text(q, 1, st->password, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, st->username, -1, SQLITE_STATIC);
	same = sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int(q, 0) == 1;
	sqlite3_finalize(q);
	if (!same)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct roster_result mapped, res;
	static char before[SNAPSHOT_MAX], after[SNAPSHOT_MAX];
	size_t rows;
	int rc;

	if (db == NULL)
		setup();
	rows = check_read(data, size, &mapped);
	if (rows != SIZE_MAX && rows > IMPORT_ROWS_MAX)
		return 0;
	snapshot(before);
	rc = roster_import(db, (const char *)data, size, 0, &res);
	snapshot(after);
	if (rc < 0) {
		check_errors(&res);
		if (res.n_added != 0 || strcmp(before, after) != 0)
			abort();	/* all or nothing */
		/* A file roster_read() refused is refused for the same reasons. */
		if (rows == SIZE_MAX && (res.n_errors != mapped.n_errors ||
		    strcmp(res.errors[0], mapped.errors[0]) != 0))
			abort();
	} else {
		if (rows == SIZE_MAX || res.n_errors != 0 || res.n_added != res.counts.added ||
		    res.counts.added + res.counts.updated + res.counts.unchanged != rows)
			abort();
		for (size_t i = 0; i < res.n_added; i++)
			check_added(&res.added[i]);
		reset();
	}
	roster_result_free(&res);
	return 0;
}

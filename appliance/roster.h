#ifndef MARKBOOK_ROSTER_H
#define MARKBOOK_ROSTER_H

#include <stddef.h>

#include "auth.h"
#include "csv.h"
#include "store.h"

/* The class list: reading a roster CSV (ours, or an export from Canvas or
 * Moodle as it comes), checking every row before anything is stored, making
 * the one-time passwords of new students, and resetting one on request. */

#define ROSTER_FILE_MAX		(1024 * 1024)
#define ROSTER_ERRORS_MAX	20		/* reported; the count says the rest */
#define ROSTER_ERROR_LEN	320

struct roster_student {
	char username[STORE_USERNAME_MAX + 1];
	char name[STORE_NAME_MAX + 1];
	char password[AUTH_GENERATED_LEN + 1];	/* one-time */
};

struct roster_result {
	struct store_roster_counts counts;
	struct roster_student *added;	/* owned; free with roster_result_free() */
	size_t n_added;
	char errors[ROSTER_ERRORS_MAX][ROSTER_ERROR_LEN];	/* sentences naming the line */
	size_t n_errors;		/* all found, also beyond ROSTER_ERRORS_MAX */
};

/* 1 when `u` can be a username: 1 to STORE_USERNAME_MAX letters, digits and
 * . _ @ - (so an email address is one). */
int roster_valid_username(const char *u);

/* A roster file read and checked, before anything is stored: one row per
 * student, in the file's order, pointing into `table` and `names`. */
struct roster_file {
	struct csv_table table;
	struct store_roster_row *rows;		/* owned; no password yet */
	char (*names)[STORE_NAME_MAX + 2];	/* owned: first and last names joined */
	size_t n;
};

/* Read the roster CSV in `data`: find the columns (ours, Canvas's, Moodle's
 * names; ',' or ';'; a byte order mark), check every row (a username, a
 * name and an email that can be stored) and that no username comes twice.
 * Returns 0, or -1 with the reasons in res->errors (which the caller
 * zeroed). Free `f` with roster_file_free() either way. */
int roster_read(const char *data, size_t len, struct roster_file *f, struct roster_result *res);

void roster_file_free(struct roster_file *f);

/* Import the roster CSV in `data` as `actor_id` (0: the command line): add
 * new students with a one-time password each, update names and emails of the
 * others. A file with any bad row changes nothing. Returns 0, or -1 with the
 * reasons in res->errors. Free `res` with roster_result_free() either way. */
int roster_import(struct store *s, const char *data, size_t len, long long actor_id,
    struct roster_result *res);

void roster_result_free(struct roster_result *res);

/* Give student `username` a new one-time password, written to `password`;
 * their sessions end. Returns STORE_OK, STORE_NOTFOUND or STORE_ERROR. */
int roster_reset(struct store *s, const char *username, long long actor_id,
    char password[AUTH_GENERATED_LEN + 1]);

#endif

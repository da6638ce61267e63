#include "store.h"

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embedded.h"
#include "msg.h"
#include "points.h"

struct store {
	sqlite3 *db;
};

/* Database versions: user_version is the version a file is at. A new file
 * gets schema.sql, which is always the newest version; a file an older
 * markbook made gets migrations[v] to go from version v to v + 1. Append a
 * step (and make schema.sql its result), never edit one that has shipped. */
static const char *const migrations[] = {
	NULL,		/* 0 -> 1: the first schema.sql, for new files only */
	/* 1 -> 2: scores and points in hundredths of a point, not whole points.
	 * Every stored score is multiplied by 100 (the same points); the audit
	 * keeps its text ("7/10" is still true). Updating submissions fires the
	 * best_scores triggers row by row; rebuilding it afterwards in one go
	 * makes it hold best_of whatever order they fired in. Late-penalised
	 * scores are computed, not stored: from now on they round to the nearest
	 * hundredth instead of the nearest point. */
	"UPDATE exercises SET max_points = max_points * 100;"
	"UPDATE plan_tests SET points = points * 100;"
	"UPDATE submissions SET score = score * 100, max_points = max_points * 100, "
	"override_score = override_score * 100;"
	"UPDATE test_results SET points = points * 100, max_points = max_points * 100;"
	"UPDATE regrade_items SET score = score * 100, tests = (SELECT json_group_array("
	"json_set(t.value, '$.points', (t.value ->> 'points') * 100, '$.max_points', "
	"(t.value ->> 'max_points') * 100)) FROM json_each(regrade_items.tests) t);"
	"DELETE FROM best_scores;"
	"INSERT INTO best_scores SELECT * FROM best_of;",
};
#define STORE_VERSION	((int)(sizeof migrations / sizeof migrations[0]))

static const char *
schema_sql(void)
{
	for (const struct embedded_file *f = embedded_schema; f->path; f++)
		if (strcmp(f->path, "schema.sql") == 0)
			return (const char *)f->data;
	return NULL;
}

/* Prepare `sql` and bind arguments described by `types`: 'i' long long,
 * 'n' int, 't' NUL-terminated text (NULL binds NULL), 'T' text and its
 * size_t length. Returns NULL on failure. */
static sqlite3_stmt *
vprepare(struct store *s, const char *sql, const char *types, va_list ap)
{
	sqlite3_stmt *st = NULL;
	int i = 1, rc = SQLITE_OK;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	for (; *types && rc == SQLITE_OK; types++, i++) {
		switch (*types) {
		case 'i':
			rc = sqlite3_bind_int64(st, i, va_arg(ap, long long));
			break;
		case 'n':
			rc = sqlite3_bind_int(st, i, va_arg(ap, int));
			break;
		case 't': {
			const char *t = va_arg(ap, const char *);

			rc = t ? sqlite3_bind_text(st, i, t, -1, SQLITE_TRANSIENT) :
			    sqlite3_bind_null(st, i);
			break;
		}
		case 'T': {
			const char *t = va_arg(ap, const char *);
			size_t len = va_arg(ap, size_t);

			rc = sqlite3_bind_text64(st, i, t, len, SQLITE_TRANSIENT, SQLITE_UTF8);
			break;
		}
		default:
			rc = SQLITE_MISUSE;
		}
	}
	if (rc != SQLITE_OK) {
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

static sqlite3_stmt *
prepare(struct store *s, const char *sql, const char *types, ...)
{
	sqlite3_stmt *st;
	va_list ap;

	va_start(ap, types);
	st = vprepare(s, sql, types, ap);
	va_end(ap);
	return st;
}

/* Run a statement that returns no rows (or whose rows do not matter). */
static int
exec(struct store *s, const char *sql, const char *types, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int rc;

	va_start(ap, types);
	st = vprepare(s, sql, types, ap);
	va_end(ap);
	if (st == NULL)
		return STORE_ERROR;
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? STORE_OK : STORE_ERROR;
}

static int
begin(struct store *s)
{
	return sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK ?
	    STORE_OK : STORE_ERROR;
}

static int
commit(struct store *s)
{
	return sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ?
	    STORE_OK : STORE_ERROR;
}

static void
rollback(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

static int
pragma_int(struct store *s, const char *sql, long long *out)
{
	sqlite3_stmt *st = NULL;
	int rc = STORE_ERROR;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		goto fail;
	if (sqlite3_step(st) != SQLITE_ROW)
		goto fail;
	*out = sqlite3_column_int64(st, 0);
	rc = STORE_OK;
fail:
	sqlite3_finalize(st);
	return rc;
}

/* Create or migrate the database inside one write transaction, so two
 * markbook processes starting at once cannot both create it. */
static int
migrate(struct store *s, const char *path, char *err, size_t errlen)
{
	long long app_id, version, objects;
	char sql[64];

	/* Already current, as for every connection after the first: no write
	 * transaction, so the server's hundreds of threads open at once without
	 * queueing on the write lock (and timing out under load). */
	if (pragma_int(s, "PRAGMA application_id", &app_id) == 0 &&
	    pragma_int(s, "PRAGMA user_version", &version) == 0 &&
	    app_id == STORE_APPLICATION_ID && version == STORE_VERSION)
		return 0;
	if (begin(s) < 0) {
		if (sqlite3_errcode(s->db) == SQLITE_NOTADB)
			return msg_fail(err, errlen, "%s is not a markbook database (it is not an "
			    "SQLite file). Name a new file with --db.", path);
		return msg_fail(err, errlen, "%s: %s.", path, sqlite3_errmsg(s->db));
	}
	if (pragma_int(s, "PRAGMA application_id", &app_id) < 0 ||
	    pragma_int(s, "PRAGMA user_version", &version) < 0 ||
	    pragma_int(s, "SELECT count(*) FROM sqlite_schema", &objects) < 0) {
		if (sqlite3_errcode(s->db) == SQLITE_NOTADB) {
			msg_fail(err, errlen, "%s is not a markbook database (it is not an SQLite "
			    "file). Name a new file with --db.", path);
			goto fail;
		}
		msg_fail(err, errlen, "%s: %s.", path, sqlite3_errmsg(s->db));
		goto fail;
	}
	if (app_id != STORE_APPLICATION_ID && (app_id != 0 || objects != 0)) {
		msg_fail(err, errlen, "%s is an SQLite database of another program, not markbook's. "
		    "Name a new file with --db.", path);
		goto fail;
	}
	if (version > STORE_VERSION) {
		msg_fail(err, errlen, "%s was made by a newer markbook (database version %lld; this "
		    "markbook knows up to %d). Use the newer markbook.", path, version,
		    STORE_VERSION);
		goto fail;
	}
	if (version == 0) {
		const char *schema = schema_sql();

		if (schema == NULL || sqlite3_exec(s->db, schema, NULL, NULL, NULL) != SQLITE_OK) {
			msg_fail(err, errlen, "%s: cannot create the database: %s.", path,
			    schema ? sqlite3_errmsg(s->db) : "no schema");
			goto fail;
		}
		version = STORE_VERSION;
	}
	for (; version < STORE_VERSION; version++) {
		const char *step = migrations[version];

		if (step == NULL || sqlite3_exec(s->db, step, NULL, NULL, NULL) != SQLITE_OK) {
			msg_fail(err, errlen, "%s: cannot upgrade the database to version %lld: %s.",
			    path, version + 1, step ? sqlite3_errmsg(s->db) : "no step");
			goto fail;
		}
	}
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", STORE_VERSION);
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		goto sqlfail;
	snprintf(sql, sizeof sql, "PRAGMA application_id = %d", STORE_APPLICATION_ID);
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		goto sqlfail;
	if (commit(s) < 0)
		goto sqlfail;
	return 0;
sqlfail:
	msg_fail(err, errlen, "%s: %s.", path, sqlite3_errmsg(s->db));
fail:
	rollback(s);
	return -1;
}

struct store *
store_open(const char *path, char *err, size_t errlen)
{
	struct store *s;
	char *mode = NULL;

	if ((s = calloc(1, sizeof *s)) == NULL) {
		msg_fail(err, errlen, "out of memory");
		return NULL;
	}
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		msg_fail(err, errlen, "cannot open the database %s: %s.", path,
		    s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 0);
	sqlite3_busy_timeout(s->db, STORE_BUSY_MS);
	if (migrate(s, path, err, errlen) < 0)
		goto fail;
	/* After the check: WAL would rewrite another program's file. */
	if (sqlite3_exec(s->db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; "
	    "PRAGMA foreign_keys = ON", NULL, NULL, &mode) != SQLITE_OK) {
		msg_fail(err, errlen, "%s: %s.", path, mode ? mode : "cannot set up the database");
		sqlite3_free(mode);
		goto fail;
	}
	return s;
fail:
	store_close(s);
	return NULL;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	sqlite3_close(s->db);
	free(s);
}

const char *
store_errmsg(struct store *s)
{
	return s && s->db ? sqlite3_errmsg(s->db) : "no database";
}

static void
copy_text(char *dst, size_t size, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(dst, size, "%s", t ? (const char *)t : "");
}

static char *
dup_text(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return strdup(t ? (const char *)t : "");
}

static const char *
text(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t ? (const char *)t : "";
}

int
store_add_user(struct store *s, const char *username, const char *name, const char *role,
    const char *password_hash, long long now, long long *id)
{
	sqlite3_stmt *st;
	int rc;

	st = prepare(s, "INSERT INTO users (username, name, role, password_hash, created_at) "
	    "VALUES (?, ?, ?, ?, ?)", "tttti", username, name, role, password_hash, now);
	if (st == NULL)
		return STORE_ERROR;
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_CONSTRAINT && sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_UNIQUE)
		return STORE_EXISTS;
	if (rc != SQLITE_DONE)
		return STORE_ERROR;
	if (id)
		*id = sqlite3_last_insert_rowid(s->db);
	return STORE_OK;
}

int
store_add_audit(struct store *s, const struct store_audit *a)
{
	sqlite3_stmt *st;
	int rc;

	st = prepare(s, "INSERT INTO audit (at, actor_id, action, subject, old_value, new_value, "
	    "comment) VALUES (?, NULLIF(?, 0), ?, ?, ?, ?, ?)", "iittttt", a->at, a->actor_id,
	    a->action, a->subject, a->old_value ? a->old_value : "",
	    a->new_value ? a->new_value : "", a->comment ? a->comment : "");
	if (st == NULL)
		return STORE_ERROR;
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? STORE_OK : STORE_ERROR;
}

static void
read_user(sqlite3_stmt *st, int col, struct store_user *u)
{
	u->id = sqlite3_column_int64(st, col);
	copy_text(u->username, sizeof u->username, st, col + 1);
	copy_text(u->name, sizeof u->name, st, col + 2);
	copy_text(u->role, sizeof u->role, st, col + 3);
	copy_text(u->password_hash, sizeof u->password_hash, st, col + 4);
	u->must_change = sqlite3_column_int(st, col + 5);
}

int
store_get_user(struct store *s, const char *username, struct store_user *u)
{
	sqlite3_stmt *st;
	int rc;

	st = prepare(s, "SELECT id, username, name, role, password_hash, must_change_password "
	    "FROM users WHERE username = ?", "t", username);
	if (st == NULL)
		return STORE_ERROR;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_user(st, 0, u);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? STORE_OK : rc == SQLITE_DONE ? STORE_NOTFOUND : STORE_ERROR;
}

int
store_count_users(struct store *s, const char *role, long long *n)
{
	sqlite3_stmt *st;
	int rc;

	if ((st = prepare(s, "SELECT count(*) FROM users WHERE role = ?", "t", role)) == NULL)
		return STORE_ERROR;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? STORE_OK : STORE_ERROR;
}

int
store_add_session(struct store *s, const char *token_hash, long long user_id,
    const char *csrf_token, long long now, long long expires_at)
{
	return exec(s, "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, "
	    "expires_at) VALUES (?, ?, ?, ?, ?)", "titii", token_hash, user_id, csrf_token,
	    now, expires_at);
}

int
store_get_session(struct store *s, const char *token_hash, long long now,
    struct store_user *u, char csrf_token[STORE_TOKEN_MAX + 1])
{
	sqlite3_stmt *st;
	int rc;

	st = prepare(s, "SELECT u.id, u.username, u.name, u.role, u.password_hash, "
	    "u.must_change_password, s.csrf_token FROM sessions s JOIN users u ON "
	    "u.id = s.user_id WHERE s.token_hash = ? AND s.expires_at > ?", "ti", token_hash, now);
	if (st == NULL)
		return STORE_ERROR;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		read_user(st, 0, u);
		copy_text(csrf_token, STORE_TOKEN_MAX + 1, st, 6);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? STORE_OK : rc == SQLITE_DONE ? STORE_NOTFOUND : STORE_ERROR;
}

int
store_delete_session(struct store *s, const char *token_hash, long long now)
{
	return exec(s, "DELETE FROM sessions WHERE token_hash = ? OR expires_at <= ?", "ti",
	    token_hash, now);
}

int
store_unpublish_except(struct store *s, const char *const *slugs, size_t n)
{
	cJSON *list = cJSON_CreateArray();
	char *json = NULL;
	int rc = STORE_ERROR;

	for (size_t i = 0; list && i < n; i++)
		if (!cJSON_AddItemToArray(list, cJSON_CreateString(slugs[i])))
			goto out;
	if (list == NULL || (json = cJSON_PrintUnformatted(list)) == NULL)
		goto out;
	rc = exec(s, "UPDATE exercises SET published = 0, problem = "
	    "'The exercise is no longer in the course folder.' "
	    "WHERE slug NOT IN (SELECT value FROM json_each(?))", "t", json);
out:
	cJSON_Delete(list);
	free(json);
	return rc;
}

int
store_put_exercise(struct store *s, const struct exercise *ex, const char *feedback,
    const char *tests_hash, const struct test_plan *plan, const char *problem,
    long long now, long long *id)
{
	sqlite3_stmt *st = NULL;
	long long eid;

	if (begin(s) < 0)
		return STORE_ERROR;
	st = prepare(s, "INSERT INTO exercises (slug, title, phase, max_points, due_at, due, "
	    "feedback, scaffold, tests_hash, published, problem, loaded_at, late_penalty, "
	    "late_max_days) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
	    "ON CONFLICT (slug) DO UPDATE SET "
	    "title = excluded.title, phase = excluded.phase, max_points = excluded.max_points, "
	    "due_at = excluded.due_at, due = excluded.due, feedback = excluded.feedback, "
	    "scaffold = excluded.scaffold, tests_hash = excluded.tests_hash, "
	    "published = excluded.published, problem = excluded.problem, "
	    "loaded_at = excluded.loaded_at, late_penalty = excluded.late_penalty, "
	    "late_max_days = excluded.late_max_days RETURNING id",
	    "ttnnttt", ex->slug, ex->title, ex->phase, ex->max_points, ex->due_at, NULL, feedback);
	if (st == NULL)
		goto fail;
	if ((ex->due_at && sqlite3_bind_int64(st, 6, (long long)ex->due) != SQLITE_OK) ||
	    sqlite3_bind_text64(st, 8, ex->scaffold ? ex->scaffold : "", ex->scaffold_len,
	    SQLITE_TRANSIENT, SQLITE_UTF8) != SQLITE_OK ||
	    sqlite3_bind_text(st, 9, tests_hash, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
	    sqlite3_bind_int(st, 10, plan != NULL) != SQLITE_OK ||
	    sqlite3_bind_text(st, 11, problem ? problem : "", -1, SQLITE_TRANSIENT) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 12, now) != SQLITE_OK ||
	    (ex->late && (sqlite3_bind_int(st, 13, (int)ex->late_penalty) != SQLITE_OK ||
	    sqlite3_bind_int(st, 14, (int)ex->late_max_days) != SQLITE_OK)))
		goto fail;
	if (sqlite3_step(st) != SQLITE_ROW)
		goto fail;
	eid = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	if (exec(s, "DELETE FROM plan_tests WHERE exercise_id = ?", "i", eid) < 0)
		goto fail;
	for (size_t i = 0; plan && i < plan->n; i++)
		if (exec(s, "INSERT INTO plan_tests (exercise_id, position, nodeid, name, "
		    "description, points) VALUES (?, ?, ?, ?, ?, ?)", "iitttn", eid, (long long)i,
		    plan->tests[i].nodeid, plan->tests[i].name, plan->tests[i].description,
		    plan->tests[i].points) < 0)
			goto fail;
	if (commit(s) < 0)
		goto fail;
	if (id)
		*id = eid;
	return STORE_OK;
fail:
	sqlite3_finalize(st);
	rollback(s);
	return STORE_ERROR;
}

int
store_list_exercises(struct store *s, long long user_id, int all,
    int (*cb)(const struct store_exercise *e, void *arg), void *arg)
{
	sqlite3_stmt *st;
	int rc, r = STORE_OK;

	st = prepare(s, "SELECT e.id, e.slug, e.title, e.phase, e.max_points, e.due_at, "
	    "e.published, e.problem, (SELECT max(final_score) FROM submission_scores WHERE "
	    "user_id = ? AND exercise_id = e.id), (SELECT count(*) FROM submissions "
	    "WHERE exercise_id = e.id AND status IN ('queued', 'grading')), (SELECT count(*) "
	    "FROM submissions WHERE exercise_id = e.id AND status = 'done' AND "
	    "tests_hash <> e.tests_hash) "
	    "FROM exercises e WHERE e.published = 1 OR ? ORDER BY e.slug", "in", user_id, all);
	if (st == NULL)
		return STORE_ERROR;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_exercise e;

		memset(&e, 0, sizeof e);
		e.id = sqlite3_column_int64(st, 0);
		copy_text(e.slug, sizeof e.slug, st, 1);
		e.title = text(st, 2);
		e.phase = sqlite3_column_int(st, 3);
		e.max_points = sqlite3_column_int(st, 4);
		e.due_at = sqlite3_column_type(st, 5) == SQLITE_NULL ? NULL : text(st, 5);
		e.published = sqlite3_column_int(st, 6);
		e.problem = text(st, 7);
		e.best_score = sqlite3_column_type(st, 8) == SQLITE_NULL ? -1 :
		    sqlite3_column_int(st, 8);
		e.waiting = sqlite3_column_int64(st, 9);
		e.stale = sqlite3_column_int64(st, 10);
		if ((r = cb(&e, arg)) != 0)
			break;
	}
	if (r == STORE_OK && rc != SQLITE_DONE)
		r = STORE_ERROR;
	sqlite3_finalize(st);
	return r;
}

int
store_add_submission(struct store *s, long long user_id, long long exercise_id,
    int max_points, const char *source, size_t len, int max_waiting, long long now,
    long long *id)
{
	sqlite3_stmt *st = NULL;
	long long waiting = 0;
	int full;

	if (begin(s) < 0)
		return sqlite3_errcode(s->db) == SQLITE_FULL ? STORE_FULL : STORE_ERROR;
	/* A submission the teacher has graded again (graded_at set) is not
	 * the student's to wait for. */
	st = prepare(s, "SELECT count(*) FROM submissions WHERE user_id = ? AND "
	    "status IN ('queued', 'grading') AND graded_at IS NULL", "i", user_id);
	if (st == NULL || sqlite3_step(st) != SQLITE_ROW)
		goto fail;
	waiting = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	if (waiting >= max_waiting) {
		rollback(s);
		return STORE_LIMIT;
	}
	st = prepare(s, "INSERT INTO submissions (user_id, exercise_id, max_points, source, "
	    "created_at) VALUES (?, ?, ?, ?, ?)", "iinTi", user_id, exercise_id, max_points,
	    source, len, now);
	if (st == NULL || sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	st = NULL;
	*id = sqlite3_last_insert_rowid(s->db);
	if (commit(s) < 0)
		goto fail;
	return STORE_OK;
fail:
	full = sqlite3_errcode(s->db) == SQLITE_FULL;
	sqlite3_finalize(st);
	rollback(s);
	return full ? STORE_FULL : STORE_ERROR;
}

int
store_claim_submission(struct store *s, struct store_claim *c)
{
	sqlite3_stmt *st;
	const void *src;
	int rc, r = STORE_ERROR;

	memset(c, 0, sizeof *c);
	st = prepare(s, "UPDATE submissions SET status = 'grading', attempts = attempts + 1 "
	    "WHERE id = (SELECT id FROM submissions WHERE status = 'queued' AND exercise_id IN "
	    "(SELECT id FROM exercises WHERE published = 1) ORDER BY id LIMIT 1) "
	    "RETURNING id, exercise_id, source, attempts, 0", "");
	if (st == NULL)
		return STORE_ERROR;
	rc = sqlite3_step(st);
	/* Uploads first; a regrade's items only when no upload waits. */
	if (rc == SQLITE_DONE) {
		sqlite3_finalize(st);
		st = prepare(s, "UPDATE regrade_items SET status = 'grading', attempts = attempts + 1 "
		    "WHERE rowid = (SELECT i.rowid FROM regrade_items i JOIN regrades r ON "
		    "r.id = i.regrade_id WHERE i.status = 'queued' AND r.status = 'running' AND "
		    "r.exercise_id IN (SELECT id FROM exercises WHERE published = 1) "
		    "ORDER BY i.regrade_id, i.submission_id LIMIT 1) RETURNING submission_id, "
		    "(SELECT exercise_id FROM submissions WHERE id = submission_id), "
		    "(SELECT source FROM submissions WHERE id = submission_id), attempts, regrade_id",
		    "");
		if (st == NULL)
			return STORE_ERROR;
		rc = sqlite3_step(st);
	}
	if (rc == SQLITE_DONE) {
		r = STORE_NOTFOUND;
		goto out;
	}
	if (rc != SQLITE_ROW)
		goto out;
	c->id = sqlite3_column_int64(st, 0);
	c->exercise_id = sqlite3_column_int64(st, 1);
	src = sqlite3_column_text(st, 2);
	c->len = (size_t)sqlite3_column_bytes(st, 2);
	c->attempts = sqlite3_column_int(st, 3);
	c->regrade_id = sqlite3_column_int64(st, 4);
	if ((c->source = malloc(c->len + 1)) == NULL)
		goto out;
	memcpy(c->source, src ? src : "", c->len);
	c->source[c->len] = '\0';
	/* The change is made by the first step; finish the statement so its
	 * implicit transaction commits now. */
	if (sqlite3_step(st) != SQLITE_DONE)
		goto out;
	r = STORE_OK;
out:
	sqlite3_finalize(st);
	if (r != STORE_OK)
		store_claim_free(c);
	return r;
}

void
store_claim_free(struct store_claim *c)
{
	free(c->source);
	memset(c, 0, sizeof *c);
}

static char *
join_flags(const struct grade_result *r)
{
	size_t len = 1;
	char *out;

	for (size_t i = 0; i < r->n_flags; i++)
		len += strlen(r->flags[i]) + 1;
	if ((out = malloc(len)) == NULL)
		return NULL;
	out[0] = '\0';
	for (size_t i = 0; i < r->n_flags; i++) {
		if (i > 0)
			strcat(out, ",");
		strcat(out, r->flags[i]);
	}
	return out;
}

int
store_finish_submission(struct store *s, long long id, const struct grade_result *r,
    const char *tests_hash, int retry, long long now)
{
	char *flags = NULL;

	if ((flags = join_flags(r)) == NULL)
		return STORE_ERROR;
	if (begin(s) < 0)
		goto fail;
	if (retry != STORE_FINAL) {
		if (exec(s, "UPDATE submissions SET status = 'queued', message = ?, "
		    "attempts = attempts - ? WHERE id = ?", "tni", r->message ? r->message : "",
		    retry == STORE_RETRY_UNCOUNTED, id) < 0)
			goto fail;
		goto done;
	}
	if (exec(s, "UPDATE submissions SET status = ?, score = ?, max_points = ?, message = ?, "
	    "flags = ?, output = ?, graded_at = ?, tests_hash = ? WHERE id = ?", "tnntttiti",
	    r->status == GRADE_DONE ? "done" : "error", r->score, r->max_points,
	    r->message ? r->message : "", flags, r->output ? r->output : "", now,
	    tests_hash ? tests_hash : "", id) < 0)
		goto fail;
	if (exec(s, "DELETE FROM test_results WHERE submission_id = ?", "i", id) < 0)
		goto fail;
	for (size_t i = 0; i < r->n_tests; i++) {
		const struct grade_test *t = &r->tests[i];

		if (exec(s, "INSERT INTO test_results (submission_id, position, name, description, "
		    "passed, points, max_points, outcome, message, detail) "
		    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "iittnnnttt", id, (long long)i,
		    t->name, t->description, t->passed != 0, t->points, t->max_points,
		    t->outcome ? t->outcome : "", t->message ? t->message : "",
		    t->detail ? t->detail : "") < 0)
			goto fail;
	}
done:
	if (commit(s) < 0)
		goto fail;
	free(flags);
	return STORE_OK;
fail:
	rollback(s);
	free(flags);
	return STORE_ERROR;
}

int
store_requeue_grading(struct store *s, const char *gave_up, long long now,
    long long *requeued, long long *failed)
{
	long long n_failed, n_requeued;

	if (begin(s) < 0)
		return STORE_ERROR;
	/* Gradings started STORE_ATTEMPTS_MAX times already end here, whether
	 * the last one failed or never ended: a submission that stopped
	 * markbook while it was graded would otherwise stop it again at every
	 * start. */
	if (exec(s, "DELETE FROM test_results WHERE submission_id IN (SELECT id FROM "
	    "submissions WHERE status IN ('queued', 'grading') AND attempts >= ?)", "n",
	    STORE_ATTEMPTS_MAX) < 0 ||
	    exec(s, "UPDATE submissions SET status = 'error', score = 0, message = ?, "
	    "graded_at = ? WHERE status IN ('queued', 'grading') AND attempts >= ?", "tin",
	    gave_up, now, STORE_ATTEMPTS_MAX) < 0)
		goto fail;
	n_failed = sqlite3_changes(s->db);
	if (exec(s, "UPDATE regrade_items SET status = 'error', score = 0, message = ?, "
	    "tests = '[]' WHERE status IN ('queued', 'grading') AND attempts >= ?", "tn",
	    gave_up, STORE_ATTEMPTS_MAX) < 0)
		goto fail;
	n_failed += sqlite3_changes(s->db);
	if (exec(s, "UPDATE submissions SET status = 'queued' WHERE status = 'grading'", "") < 0)
		goto fail;
	n_requeued = sqlite3_changes(s->db);
	if (exec(s, "UPDATE regrade_items SET status = 'queued' WHERE status = 'grading'", "") < 0)
		goto fail;
	n_requeued += sqlite3_changes(s->db);
	if (commit(s) < 0)
		goto fail;
	if (requeued)
		*requeued = n_requeued;
	if (failed)
		*failed = n_failed;
	return STORE_OK;
fail:
	rollback(s);
	return STORE_ERROR;
}

int
store_queue_length(struct store *s, long long *n)
{
	return pragma_int(s, "SELECT count(*) FROM submissions WHERE status IN "
	    "('queued', 'grading')", n);
}

#define SUBMISSION_COLUMNS \
	"s.id, s.user_id, u.username, s.exercise_id, e.slug, s.status, s.score, " \
	"s.max_points, s.message, s.flags, s.created_at, s.graded_at, s.attempts, " \
	"CASE WHEN s.status = 'queued' THEN (SELECT count(*) FROM submissions q " \
	"WHERE q.status = 'queued' AND q.id <= s.id) ELSE 0 END, " \
	"v.late, v.days_late, v.penalised_score, v.final_score, s.override_score, " \
	"s.override_comment, s.override_at, COALESCE(ob.username, ''), s.tests_hash"
#define SUBMISSION_COLUMNS_N	23
/* Where SUBMISSION_COLUMNS come from. */
#define SUBMISSION_FROM \
	" FROM submissions s JOIN users u ON u.id = s.user_id " \
	"JOIN exercises e ON e.id = s.exercise_id " \
	"JOIN submission_scores v ON v.submission_id = s.id " \
	"LEFT JOIN users ob ON ob.id = s.override_by "

/* Fill `sub` from a row of SUBMISSION_COLUMNS, borrowing or copying the
 * strings. */
static int
read_submission(sqlite3_stmt *st, struct store_submission *sub, int copy)
{
	sub->id = sqlite3_column_int64(st, 0);
	sub->user_id = sqlite3_column_int64(st, 1);
	copy_text(sub->username, sizeof sub->username, st, 2);
	sub->exercise_id = sqlite3_column_int64(st, 3);
	copy_text(sub->slug, sizeof sub->slug, st, 4);
	copy_text(sub->status, sizeof sub->status, st, 5);
	sub->has_score = sqlite3_column_type(st, 6) != SQLITE_NULL;
	sub->score = sqlite3_column_int(st, 6);
	sub->max_points = sqlite3_column_int(st, 7);
	if (copy) {
		if ((sub->message = dup_text(st, 8)) == NULL ||
		    (sub->flags = dup_text(st, 9)) == NULL ||
		    (sub->override_comment = dup_text(st, 19)) == NULL)
			return -1;
	} else {
		sub->message = (char *)text(st, 8);
		sub->flags = (char *)text(st, 9);
		sub->override_comment = (char *)text(st, 19);
	}
	sub->created_at = sqlite3_column_int64(st, 10);
	sub->graded_at = sqlite3_column_int64(st, 11);
	sub->attempts = sqlite3_column_int(st, 12);
	sub->position = sqlite3_column_int64(st, 13);
	sub->late = sqlite3_column_int(st, 14);
	sub->days_late = sqlite3_column_int(st, 15);
	sub->penalised_score = sqlite3_column_type(st, 16) == SQLITE_NULL ? -1 :
	    sqlite3_column_int(st, 16);
	sub->final_score = sqlite3_column_type(st, 17) == SQLITE_NULL ? -1 :
	    sqlite3_column_int(st, 17);
	sub->override_score = sqlite3_column_type(st, 18) == SQLITE_NULL ? -1 :
	    sqlite3_column_int(st, 18);
	sub->override_at = sqlite3_column_int64(st, 20);
	copy_text(sub->override_by, sizeof sub->override_by, st, 21);
	copy_text(sub->tests_hash, sizeof sub->tests_hash, st, 22);
	return 0;
}

int
store_get_submission(struct store *s, long long id, struct store_submission *sub)
{
	sqlite3_stmt *st = NULL;
	int rc, r = STORE_ERROR;

	memset(sub, 0, sizeof *sub);
	/* One read transaction, so the row and its tests agree. */
	if (sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return STORE_ERROR;
	st = prepare(s, "SELECT " SUBMISSION_COLUMNS ", s.output" SUBMISSION_FROM
	    "WHERE s.id = ?", "i", id);
	if (st == NULL)
		goto out;
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		r = STORE_NOTFOUND;
		goto out;
	}
	if (rc != SQLITE_ROW || read_submission(st, sub, 1) < 0 ||
	    (sub->output = dup_text(st, SUBMISSION_COLUMNS_N)) == NULL)
		goto out;
	sqlite3_finalize(st);
	st = prepare(s, "SELECT name, description, passed, points, max_points, outcome, "
	    "message, detail FROM test_results WHERE submission_id = ? ORDER BY position",
	    "i", id);
	if (st == NULL)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_test *grown, *t;

		if (sub->n_tests == REPORT_TESTS_MAX)
			break;
		if ((grown = realloc(sub->tests, (sub->n_tests + 1) * sizeof *grown)) == NULL)
			goto out;
		sub->tests = grown;
		t = &sub->tests[sub->n_tests++];
		memset(t, 0, sizeof *t);
		t->name = dup_text(st, 0);
		t->description = dup_text(st, 1);
		t->passed = sqlite3_column_int(st, 2);
		t->points = sqlite3_column_int(st, 3);
		t->max_points = sqlite3_column_int(st, 4);
		t->outcome = dup_text(st, 5);
		t->message = dup_text(st, 6);
		t->detail = dup_text(st, 7);
		if (!t->name || !t->description || !t->outcome || !t->message || !t->detail)
			goto out;
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		goto out;
	r = STORE_OK;
out:
	sqlite3_finalize(st);
	sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	return r;
}

void
store_submission_free(struct store_submission *sub)
{
	for (size_t i = 0; i < sub->n_tests; i++) {
		free(sub->tests[i].name);
		free(sub->tests[i].description);
		free(sub->tests[i].outcome);
		free(sub->tests[i].message);
		free(sub->tests[i].detail);
	}
	free(sub->tests);
	free(sub->message);
	free(sub->flags);
	free(sub->output);
	free(sub->override_comment);
	memset(sub, 0, sizeof *sub);
}

/* Call `cb` for each row of `st` (SUBMISSION_COLUMNS), then finalize it. */
static int
each_submission(sqlite3_stmt *st, int (*cb)(const struct store_submission *sub, void *arg),
    void *arg)
{
	int rc, r = STORE_OK;

	if (st == NULL)
		return STORE_ERROR;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_submission sub;

		memset(&sub, 0, sizeof sub);
		read_submission(st, &sub, 0);
		if ((r = cb(&sub, arg)) != 0)
			break;
	}
	if (r == STORE_OK && rc != SQLITE_DONE)
		r = STORE_ERROR;
	sqlite3_finalize(st);
	return r;
}

int
store_list_submissions(struct store *s, long long user_id, long long exercise_id,
    int (*cb)(const struct store_submission *sub, void *arg), void *arg)
{
	return each_submission(prepare(s, "SELECT " SUBMISSION_COLUMNS SUBMISSION_FROM
	    "WHERE (? = 0 OR s.user_id = ?) AND (? = 0 OR s.exercise_id = ?) "
	    "ORDER BY s.id DESC", "iiii", user_id, user_id, exercise_id, exercise_id), cb, arg);
}

int
store_finish_regrade_item(struct store *s, long long regrade_id, long long submission_id,
    const struct grade_result *r, const char *tests_hash, int retry)
{
	char *flags = NULL;

	if ((flags = join_flags(r)) == NULL)
		return STORE_ERROR;
	if (begin(s) < 0)
		goto fail;
	if (exec(s, "UPDATE regrade_items SET status = ?, score = ?, message = ?, flags = ?, "
	    "output = ?, tests = '[]', tests_hash = ?, attempts = attempts - ? "
	    "WHERE regrade_id = ? AND submission_id = ?", "tnttttnii", retry != STORE_FINAL ?
	    "queued" : r->status == GRADE_DONE ? "done" : "error", r->score,
	    r->message ? r->message : "", flags, r->output ? r->output : "",
	    tests_hash ? tests_hash : "", retry == STORE_RETRY_UNCOUNTED, regrade_id,
	    submission_id) < 0)
		goto fail;
	for (size_t i = 0; retry == STORE_FINAL && i < r->n_tests; i++) {
		const struct grade_test *t = &r->tests[i];

		if (exec(s, "UPDATE regrade_items SET tests = json_insert(tests, '$[#]', "
		    "json_object('name', ?, 'description', ?, 'passed', ?, 'points', ?, "
		    "'max_points', ?, 'outcome', ?, 'message', ?, 'detail', ?)) "
		    "WHERE regrade_id = ? AND submission_id = ?", "ttnnntttii", t->name,
		    t->description, t->passed != 0, t->points, t->max_points,
		    t->outcome ? t->outcome : "", t->message ? t->message : "",
		    t->detail ? t->detail : "", regrade_id, submission_id) < 0)
			goto fail;
	}
	if (commit(s) < 0)
		goto fail;
	free(flags);
	return STORE_OK;
fail:
	rollback(s);
	free(flags);
	return STORE_ERROR;
}

int
store_start_regrade(struct store *s, long long exercise_id, int all, long long actor_id,
    long long now, long long *id, long long *n)
{
	char subject[64];
	struct store_audit a = { .at = now, .actor_id = actor_id, .action = "regrade-started",
		.subject = subject };
	sqlite3_stmt *st = NULL;
	int rc = STORE_ERROR;

	if (begin(s) < 0)
		return STORE_ERROR;
	st = prepare(s, "SELECT count(*) FROM regrades WHERE exercise_id = ? AND "
	    "status = 'running'", "i", exercise_id);
	if (st == NULL || sqlite3_step(st) != SQLITE_ROW)
		goto fail;
	if (sqlite3_column_int64(st, 0) > 0) {
		rc = STORE_EXISTS;
		goto fail;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (exec(s, "INSERT INTO regrades (exercise_id, tests_hash, actor_id, created_at) "
	    "SELECT id, tests_hash, NULLIF(?, 0), ? FROM exercises WHERE id = ?", "iii",
	    actor_id, now, exercise_id) < 0 || sqlite3_changes(s->db) != 1)
		goto fail;
	*id = sqlite3_last_insert_rowid(s->db);
	if (exec(s, "INSERT INTO regrade_items (regrade_id, submission_id) SELECT ?, s.id "
	    "FROM submissions s JOIN exercises e ON e.id = s.exercise_id WHERE e.id = ? AND "
	    "s.status = 'done' AND (? OR s.tests_hash <> e.tests_hash)", "iin", *id,
	    exercise_id, all) < 0)
		goto fail;
	if ((*n = sqlite3_changes(s->db)) == 0) {
		rc = STORE_NOTFOUND;
		goto fail;
	}
	snprintf(subject, sizeof subject, "regrade %lld", *id);
	if (store_add_audit(s, &a) < 0 || commit(s) < 0)
		goto fail;
	return STORE_OK;
fail:
	sqlite3_finalize(st);
	rollback(s);
	return rc;
}

int
store_get_regrade(struct store *s, long long exercise_id, struct store_regrade *r)
{
	sqlite3_stmt *st;
	int rc;

	memset(r, 0, sizeof *r);
	st = prepare(s, "SELECT g.id, g.status, g.created_at, count(i.submission_id), "
	    "count(*) FILTER (WHERE i.status IN ('done', 'error')), "
	    "count(*) FILTER (WHERE i.status = 'error') FROM regrades g "
	    "LEFT JOIN regrade_items i ON i.regrade_id = g.id WHERE g.id = (SELECT max(id) "
	    "FROM regrades WHERE exercise_id = ?) GROUP BY g.id", "i", exercise_id);
	if (st == NULL)
		return STORE_ERROR;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		r->id = sqlite3_column_int64(st, 0);
		copy_text(r->status, sizeof r->status, st, 1);
		r->created_at = sqlite3_column_int64(st, 2);
		r->total = sqlite3_column_int64(st, 3);
		r->graded = sqlite3_column_int64(st, 4);
		r->errors = sqlite3_column_int64(st, 5);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? STORE_OK : rc == SQLITE_DONE ? STORE_NOTFOUND : STORE_ERROR;
}

/* A score for the audit table, in points: "7.5/10" (without the maximum
 * when `max_points` is -1: "7.5"), or "none". The audit keeps text people
 * read, so rows written before scores were kept in hundredths stay true. */
static void
score_text(char *out, size_t len, sqlite3_stmt *st, int col, int max_points)
{
	char score[POINTS_TEXT_MAX], max[POINTS_TEXT_MAX];

	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		snprintf(out, len, "none");
	else if (max_points < 0)
		snprintf(out, len, "%s", points_format(sqlite3_column_int64(st, col), score));
	else
		snprintf(out, len, "%s/%s", points_format(sqlite3_column_int64(st, col), score),
		    points_format(max_points, max));
}

/* Per student of regrade `id`: the best final score now, and what it would be
 * with the regrade's results (an item that failed keeps the old score). */
#define REGRADE_PREVIEW_SQL \
	"SELECT u.username, u.name, (SELECT max(v.final_score) FROM submission_scores v " \
	"WHERE v.user_id = u.id AND v.exercise_id = g.exercise_id), " \
	"(SELECT max(COALESCE(v.override_score, CASE WHEN v.status = 'done' THEN " \
	"(COALESCE(i.score, v.score) * v.kept_percent + 50) / 100 END)) " \
	"FROM submission_scores v LEFT JOIN regrade_items i ON i.regrade_id = g.id AND " \
	"i.submission_id = v.submission_id AND i.status = 'done' " \
	"WHERE v.user_id = u.id AND v.exercise_id = g.exercise_id), g.exercise_id " \
	"FROM regrades g JOIN users u ON u.id IN (SELECT s.user_id FROM regrade_items i " \
	"JOIN submissions s ON s.id = i.submission_id WHERE i.regrade_id = g.id) " \
	"WHERE g.id = ? ORDER BY u.username"

int
store_regrade_preview(struct store *s, long long id,
    int (*cb)(const struct store_regrade_row *row, void *arg), void *arg)
{
	sqlite3_stmt *st;
	int rc, r = STORE_OK;

	if ((st = prepare(s, REGRADE_PREVIEW_SQL, "i", id)) == NULL)
		return STORE_ERROR;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_regrade_row row;

		row.username = text(st, 0);
		row.name = text(st, 1);
		row.old_best = sqlite3_column_type(st, 2) == SQLITE_NULL ? -1 :
		    sqlite3_column_int(st, 2);
		row.new_best = sqlite3_column_type(st, 3) == SQLITE_NULL ? -1 :
		    sqlite3_column_int(st, 3);
		if ((r = cb(&row, arg)) != 0)
			break;
	}
	if (r == STORE_OK && rc != SQLITE_DONE)
		r = STORE_ERROR;
	sqlite3_finalize(st);
	return r;
}

/* Audit one student's change of best score by regrade `id`. */
static int
audit_regrade_rows(struct store *s, long long id, long long actor_id, long long now)
{
	sqlite3_stmt *st;
	int rc, r = STORE_OK;

	if ((st = prepare(s, REGRADE_PREVIEW_SQL, "i", id)) == NULL)
		return STORE_ERROR;
	while (r == STORE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		char subject[STORE_USERNAME_MAX + 64], before[32], after[32];
		struct store_audit a = { .at = now, .actor_id = actor_id, .action = "regrade",
			.subject = subject, .old_value = before, .new_value = after };

		snprintf(subject, sizeof subject, "user %s, regrade %lld", text(st, 0), id);
		score_text(before, sizeof before, st, 2, -1);
		score_text(after, sizeof after, st, 3, -1);
		r = store_add_audit(s, &a);
	}
	if (r == STORE_OK && rc != SQLITE_DONE)
		r = STORE_ERROR;
	sqlite3_finalize(st);
	return r;
}

int
store_finish_regrade(struct store *s, long long id, int apply, long long actor_id,
    long long now)
{
	char subject[64];
	struct store_audit a = { .at = now, .actor_id = actor_id, .subject = subject,
		.action = apply ? "regrade-applied" : "regrade-discarded" };
	sqlite3_stmt *st = NULL;
	int rc = STORE_ERROR;

	if (begin(s) < 0)
		return STORE_ERROR;
	st = prepare(s, "SELECT (SELECT status FROM regrades WHERE id = ?), count(*) FROM "
	    "regrade_items WHERE regrade_id = ? AND status IN ('queued', 'grading')", "ii", id, id);
	if (st == NULL || sqlite3_step(st) != SQLITE_ROW)
		goto fail;
	if (sqlite3_column_type(st, 0) == SQLITE_NULL ||
	    strcmp(text(st, 0), "running") != 0) {
		rc = STORE_NOTFOUND;
		goto fail;
	}
	if (apply && sqlite3_column_int64(st, 1) > 0) {
		rc = STORE_LIMIT;
		goto fail;
	}
	sqlite3_finalize(st);
	st = NULL;
	snprintf(subject, sizeof subject, "regrade %lld", id);
	if (apply && (audit_regrade_rows(s, id, actor_id, now) < 0 ||
	    exec(s, "UPDATE submissions SET score = i.score, message = i.message, "
	    "flags = i.flags, output = i.output, tests_hash = i.tests_hash, graded_at = ? "
	    "FROM regrade_items i "
	    "WHERE i.regrade_id = ? AND i.status = 'done' AND submissions.id = i.submission_id",
	    "ii", now, id) < 0 ||
	    exec(s, "DELETE FROM test_results WHERE submission_id IN (SELECT submission_id "
	    "FROM regrade_items WHERE regrade_id = ? AND status = 'done')", "i", id) < 0 ||
	    exec(s, "INSERT INTO test_results (submission_id, position, name, description, "
	    "passed, points, max_points, outcome, message, detail) SELECT i.submission_id, "
	    "t.key, t.value ->> 'name', t.value ->> 'description', t.value ->> 'passed', "
	    "t.value ->> 'points', t.value ->> 'max_points', t.value ->> 'outcome', "
	    "t.value ->> 'message', t.value ->> 'detail' FROM regrade_items i, "
	    "json_each(i.tests) t WHERE i.regrade_id = ? AND i.status = 'done'", "i", id) < 0))
		goto fail;
	if (exec(s, "UPDATE regrades SET status = ?, finished_at = ? WHERE id = ?", "tii",
	    apply ? "applied" : "discarded", now, id) < 0 || store_add_audit(s, &a) < 0 ||
	    commit(s) < 0)
		goto fail;
	return STORE_OK;
fail:
	sqlite3_finalize(st);
	rollback(s);
	return rc;
}

/* Step `st` (NULL: its prepare failed) to the one row it is about: STORE_OK,
 * STORE_NOTFOUND when there is none, or STORE_ERROR. */
static int
step_row(sqlite3_stmt *st)
{
	int rc = st ? sqlite3_step(st) : SQLITE_ERROR;

	return rc == SQLITE_ROW ? STORE_OK : rc == SQLITE_DONE ? STORE_NOTFOUND : STORE_ERROR;
}

int
store_override_submission(struct store *s, long long id, int score, const char *comment,
    long long actor_id, long long now)
{
	char subject[64 + STORE_USERNAME_MAX + COURSE_SLUG_MAX], before[32], after[32];
	struct store_audit a = { .at = now, .actor_id = actor_id, .action = "override",
		.subject = subject, .old_value = before, .new_value = after,
		.comment = comment };
	sqlite3_stmt *st = NULL;
	int max_points, rc = STORE_ERROR;

	if (begin(s) < 0)
		return STORE_ERROR;
	st = prepare(s, "SELECT v.final_score, v.max_points, u.username, e.slug "
	    "FROM submission_scores v JOIN users u ON u.id = v.user_id "
	    "JOIN exercises e ON e.id = v.exercise_id WHERE v.submission_id = ?", "i", id);
	if ((rc = step_row(st)) != STORE_OK)
		goto fail;
	max_points = sqlite3_column_int(st, 1);
	if (score > max_points) {
		rc = STORE_LIMIT;
		goto fail;
	}
	score_text(before, sizeof before, st, 0, max_points);
	snprintf(subject, sizeof subject, "submission %lld (%s, %s)", id, text(st, 2),
	    text(st, 3));
	sqlite3_finalize(st);
	st = NULL;
	rc = STORE_ERROR;
	if (score >= 0 ? exec(s, "UPDATE submissions SET override_score = ?, "
	    "override_comment = ?, override_by = NULLIF(?, 0), override_at = ? WHERE id = ?",
	    "ntiii", score, comment, actor_id, now, id) < 0 :
	    exec(s, "UPDATE submissions SET override_score = NULL, override_comment = '', "
	    "override_by = NULL, override_at = NULL WHERE id = ?", "i", id) < 0)
		goto fail;
	if ((st = prepare(s, "SELECT final_score FROM submission_scores WHERE submission_id = ?",
	    "i", id)) == NULL || sqlite3_step(st) != SQLITE_ROW)
		goto fail;
	score_text(after, sizeof after, st, 0, max_points);
	if (score < 0)
		a.action = "override-removed";
	if (store_add_audit(s, &a) < 0 || commit(s) < 0)
		goto fail;
	sqlite3_finalize(st);
	return STORE_OK;
fail:
	sqlite3_finalize(st);
	rollback(s);
	return rc;
}

int
store_grade_again(struct store *s, long long id, long long actor_id, long long now,
    struct store_grade_again *g)
{
	char subject[64 + STORE_USERNAME_MAX + COURSE_SLUG_MAX], before[32];
	struct store_audit a = { .at = now, .actor_id = actor_id, .action = "grade-again",
		.subject = subject, .old_value = before, .new_value = "graded again" };
	sqlite3_stmt *st = NULL;
	int rc = STORE_ERROR;

	memset(g, 0, sizeof *g);
	if (begin(s) < 0)
		return STORE_ERROR;
	st = prepare(s, "SELECT s.exercise_id, s.status, e.published, s.score, s.max_points, "
	    "u.username, e.slug, (SELECT min(q.id) FROM submissions q JOIN exercises qe ON "
	    "qe.id = q.exercise_id WHERE q.status = 'queued' AND q.graded_at IS NOT NULL AND "
	    "qe.published = 1) FROM submissions s JOIN users u ON u.id = s.user_id "
	    "JOIN exercises e ON e.id = s.exercise_id WHERE s.id = ?", "i", id);
	if ((rc = step_row(st)) != STORE_OK)
		goto fail;
	g->exercise_id = sqlite3_column_int64(st, 0);
	g->waiting_id = sqlite3_column_int64(st, 7);
	copy_text(g->slug, sizeof g->slug, st, 6);
	if (strcmp(text(st, 1), "queued") == 0 || strcmp(text(st, 1), "grading") == 0) {
		rc = STORE_EXISTS;
		goto fail;
	}
	if (sqlite3_column_int(st, 2) != 1) {
		rc = STORE_UNPUBLISHED;
		goto fail;
	}
	if (g->waiting_id != 0) {
		rc = STORE_LIMIT;
		goto fail;
	}
	score_text(before, sizeof before, st, 3, sqlite3_column_int(st, 4));
	snprintf(subject, sizeof subject, "submission %lld (%s, %s)", id, text(st, 5),
	    text(st, 6));
	sqlite3_finalize(st);
	st = NULL;
	rc = STORE_ERROR;
	/* graded_at stays: it marks the row as graded before, which is what
	 * the one-at-a-time check above looks for. */
	if (exec(s, "UPDATE submissions SET status = 'queued', attempts = 0 WHERE id = ?", "i",
	    id) < 0 || store_add_audit(s, &a) < 0 || commit(s) < 0)
		goto fail;
	return STORE_OK;
fail:
	sqlite3_finalize(st);
	rollback(s);
	return rc;
}

int
store_gradebook(struct store *s, int (*cb)(const struct store_grade *g, void *arg), void *arg)
{
	sqlite3_stmt *st;
	int rc, r = STORE_OK;

	st = prepare(s, "SELECT user_id, username, name, email, slug, max_points, best_score, "
	    "submitted_at, attempts, total, late FROM gradebook ORDER BY username, slug", "");
	if (st == NULL)
		return STORE_ERROR;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_grade g;

		g.user_id = sqlite3_column_int64(st, 0);
		g.username = text(st, 1);
		g.name = text(st, 2);
		g.email = text(st, 3);
		g.slug = text(st, 4);
		g.max_points = sqlite3_column_int(st, 5);
		g.best_score = sqlite3_column_type(st, 6) == SQLITE_NULL ? -1 :
		    sqlite3_column_int(st, 6);
		g.submitted_at = sqlite3_column_int64(st, 7);
		g.late = sqlite3_column_type(st, 10) == SQLITE_NULL ? -1 :
		    sqlite3_column_int(st, 10);
		g.attempts = sqlite3_column_int64(st, 8);
		g.total = sqlite3_column_int64(st, 9);
		if ((r = cb(&g, arg)) != 0)
			break;
	}
	if (r == STORE_OK && rc != SQLITE_DONE)
		r = STORE_ERROR;
	sqlite3_finalize(st);
	return r;
}

/* The audit row of one roster change to user `username`. */
static int
audit_user(struct store *s, long long actor_id, long long now, const char *action,
    const char *username, const char *old_value, const char *new_value)
{
	struct store_audit a = { now, actor_id, action, NULL, old_value, new_value, NULL };
	char subject[STORE_USERNAME_MAX + 8];

	snprintf(subject, sizeof subject, "user %s", username);
	a.subject = subject;
	return store_add_audit(s, &a);
}

/* "Name <email>", as the audit table shows a student. */
static char *
describe(const char *name, const char *email)
{
	char *out;

	if (asprintf(&out, *email ? "%s <%s>" : "%s", name, email) < 0)
		return NULL;
	return out;
}

/* One row of store_import_roster(), inside its transaction. */
static int
import_row(struct store *s, const struct store_roster_row *row, long long actor_id,
    long long now, struct store_roster_counts *counts)
{
	sqlite3_stmt *st = NULL;
	char *was = NULL, *now_is = NULL;
	const char *name, *email;
	int rc, r = STORE_ERROR;

	st = prepare(s, "SELECT role, name, email FROM users WHERE username = ?", "t",
	    row->username);
	if (st == NULL)
		return STORE_ERROR;
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		if (row->password == NULL || row->password_hash == NULL) {
			r = STORE_NOTFOUND;
			goto out;
		}
		name = row->name && *row->name ? row->name : row->username;
		email = row->email ? row->email : "";
		if (exec(s, "INSERT INTO users (username, name, role, password_hash, created_at, "
		    "email, must_change_password, initial_password) VALUES (?, ?, 'student', ?, "
		    "?, ?, 1, ?)", "tttitt", row->username, name, row->password_hash, now, email,
		    row->password) < 0 || (now_is = describe(name, email)) == NULL ||
		    audit_user(s, actor_id, now, "roster-add", row->username, "", now_is) < 0)
			goto out;
		counts->added++;
		r = STORE_OK;
		goto out;
	}
	if (rc != SQLITE_ROW)
		goto out;
	if (strcmp(text(st, 0), "student") != 0) {
		r = STORE_EXISTS;
		goto out;
	}
	/* An empty cell keeps what is stored: a spreadsheet with a gap must not
	 * wipe a name. */
	name = row->name && *row->name ? row->name : text(st, 1);
	email = row->email && *row->email ? row->email : text(st, 2);
	if (strcmp(name, text(st, 1)) == 0 && strcmp(email, text(st, 2)) == 0) {
		counts->unchanged++;
		r = STORE_OK;
		goto out;
	}
	if ((was = describe(text(st, 1), text(st, 2))) == NULL ||
	    (now_is = describe(name, email)) == NULL)
		goto out;
	if (exec(s, "UPDATE users SET name = ?, email = ? WHERE username = ?", "ttt", name,
	    email, row->username) < 0 ||
	    audit_user(s, actor_id, now, "roster-update", row->username, was, now_is) < 0)
		goto out;
	counts->updated++;
	r = STORE_OK;
out:
	sqlite3_finalize(st);
	free(was);
	free(now_is);
	return r;
}

int
store_import_roster(struct store *s, const struct store_roster_row *rows, size_t n,
    long long actor_id, long long now, struct store_roster_counts *counts, size_t *bad_line)
{
	int rc = STORE_ERROR;

	memset(counts, 0, sizeof *counts);
	if (begin(s) < 0)
		return STORE_ERROR;
	for (size_t i = 0; i < n; i++) {
		if ((rc = import_row(s, &rows[i], actor_id, now, counts)) != STORE_OK) {
			if (bad_line)
				*bad_line = rows[i].line;
			goto fail;
		}
	}
	if ((rc = commit(s)) == STORE_OK)
		return STORE_OK;
fail:
	rollback(s);
	memset(counts, 0, sizeof *counts);
	return rc;
}

int
store_list_students(struct store *s, int (*cb)(const struct store_student *st, void *arg),
    void *arg)
{
	sqlite3_stmt *st;
	int rc, r = STORE_OK;

	st = prepare(s, "SELECT username, name, email, initial_password, must_change_password "
	    "FROM users WHERE role = 'student' ORDER BY username", "");
	if (st == NULL)
		return STORE_ERROR;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_student one;

		one.username = text(st, 0);
		one.name = text(st, 1);
		one.email = text(st, 2);
		one.initial_password = sqlite3_column_type(st, 3) == SQLITE_NULL ? NULL :
		    text(st, 3);
		one.must_change = sqlite3_column_int(st, 4);
		if ((r = cb(&one, arg)) != 0)
			break;
	}
	if (r == STORE_OK && rc != SQLITE_DONE)
		r = STORE_ERROR;
	sqlite3_finalize(st);
	return r;
}

int
store_reset_password(struct store *s, const char *username, const char *password,
    const char *password_hash, long long actor_id, long long now)
{
	long long id = 0;
	sqlite3_stmt *st;
	int rc;

	if (begin(s) < 0)
		return STORE_ERROR;
	st = prepare(s, "UPDATE users SET password_hash = ?, initial_password = ?, "
	    "must_change_password = 1 WHERE username = ? AND role = 'student' RETURNING id",
	    "ttt", password_hash, password, username);
	if (st == NULL)
		goto fail;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	if (rc == SQLITE_ROW && sqlite3_step(st) != SQLITE_DONE)
		rc = SQLITE_ERROR;
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE) {
		rollback(s);
		return STORE_NOTFOUND;
	}
	if (rc != SQLITE_ROW)
		goto fail;
	if (exec(s, "DELETE FROM sessions WHERE user_id = ?", "i", id) < 0 ||
	    audit_user(s, actor_id, now, "roster-reset", username, "", "a new one-time password")
	    < 0 || commit(s) < 0)
		goto fail;
	return STORE_OK;
fail:
	rollback(s);
	return STORE_ERROR;
}

int
store_set_password(struct store *s, long long user_id, const char *password_hash)
{
	return exec(s, "UPDATE users SET password_hash = ?, initial_password = NULL, "
	    "must_change_password = 0 WHERE id = ?", "ti", password_hash, user_id);
}

int
store_backup(struct store *s, const char *path)
{
	return exec(s, "VACUUM INTO ?", "t", path);
}

const char *
store_filename(struct store *s)
{
	const char *f = sqlite3_db_filename(s->db, "main");

	return f ? f : "";
}

int
store_get_source(struct store *s, long long id, long long *user_id, char **source, size_t *len)
{
	sqlite3_stmt *st;
	int rc, r = STORE_ERROR;

	*source = NULL;
	*len = 0;
	st = prepare(s, "SELECT user_id, source FROM submissions WHERE id = ?", "i", id);
	if (st == NULL)
		return STORE_ERROR;
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		r = STORE_NOTFOUND;
	else if (rc == SQLITE_ROW && (*source = dup_text(st, 1)) != NULL) {
		*user_id = sqlite3_column_int64(st, 0);
		*len = (size_t)sqlite3_column_bytes(st, 1);
		r = STORE_OK;
	}
	sqlite3_finalize(st);
	return r;
}

int
store_recent_uploads(struct store *s, long long now, int minutes, long long *counts)
{
	sqlite3_stmt *st;
	int rc;

	for (int i = 0; i < minutes; i++)
		counts[i] = 0;
	st = prepare(s, "SELECT (? - created_at) / 60, count(*) FROM submissions "
	    "WHERE created_at > ? GROUP BY 1", "ii", now, now - 60LL * minutes);
	if (st == NULL)
		return STORE_ERROR;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		long long m = sqlite3_column_int64(st, 0);

		if (m >= 0 && m < minutes)
			counts[m] += sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? STORE_OK : STORE_ERROR;
}

int
store_pass_rates(struct store *s, int (*cb)(const struct store_pass_rate *p, void *arg),
    void *arg)
{
	sqlite3_stmt *st;
	int rc, r = STORE_OK;

	/* Results are matched to the plan by test name: a result graded with
	 * an older plan still counts for the tests both plans have. */
	/* "+status": read the covering index submissions_scores in its order,
	 * not the rows (notebooks and all) that submissions_queue points to. */
	st = prepare(s, "WITH latest AS (SELECT exercise_id, max(id) AS id FROM submissions "
	    "WHERE +status = 'done' GROUP BY user_id, exercise_id), "
	    "results AS (SELECT l.exercise_id, t.name, t.passed FROM latest l "
	    "JOIN test_results t ON t.submission_id = l.id) "
	    "SELECT e.slug, e.title, p.position, p.name, p.description, "
	    "coalesce(sum(r.passed), 0), count(r.passed) FROM exercises e "
	    "JOIN plan_tests p ON p.exercise_id = e.id "
	    "LEFT JOIN results r ON r.exercise_id = e.id AND r.name = p.name "
	    "WHERE e.published = 1 GROUP BY e.id, p.position ORDER BY e.slug, p.position", "");
	if (st == NULL)
		return STORE_ERROR;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_pass_rate p;

		p.slug = text(st, 0);
		p.title = text(st, 1);
		p.position = sqlite3_column_int(st, 2);
		p.name = text(st, 3);
		p.description = text(st, 4);
		p.passed = sqlite3_column_int64(st, 5);
		p.attempted = sqlite3_column_int64(st, 6);
		if ((r = cb(&p, arg)) != 0)
			break;
	}
	if (r == STORE_OK && rc != SQLITE_DONE)
		r = STORE_ERROR;
	sqlite3_finalize(st);
	return r;
}

int
store_list_waiting(struct store *s, int max,
    int (*cb)(const struct store_submission *sub, void *arg), void *arg)
{
	sqlite3_stmt *st;

	st = prepare(s, "SELECT " SUBMISSION_COLUMNS SUBMISSION_FROM
	    "WHERE s.status IN ('queued', 'grading') ORDER BY s.status = 'queued', s.id "
	    "LIMIT ?", "n", max);
	return each_submission(st, cb, arg);
}

int
store_size(struct store *s, long long *bytes)
{
	long long pages, size;

	if (pragma_int(s, "PRAGMA page_count", &pages) != STORE_OK ||
	    pragma_int(s, "PRAGMA page_size", &size) != STORE_OK)
		return STORE_ERROR;
	*bytes = pages * size;
	return STORE_OK;
}

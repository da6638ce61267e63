#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "roster.h"
#include "store.h"
#include "unit.h"

static char dir[64];
static char path[128];

static struct store *
fresh(void)
{
	char err[512];
	struct store *s;

	snprintf(err, sizeof err, "rm -f %s/*", dir);
	if (system(err) != 0)
		fprintf(stderr, "cannot empty %s\n", dir);
	if ((s = store_open(path, err, sizeof err)) == NULL)
		fprintf(stderr, "store_open: %s\n", err);
	return s;
}

/* The first column of the first row of `sql`, as text ("" when none). */
static const char *
query(const char *sql)
{
	static char out[512];
	sqlite3_stmt *st;
	sqlite3 *db;

	out[0] = '\0';
	if (sqlite3_open(path, &db) != SQLITE_OK)
		return out;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(out, sizeof out, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return out;
}

static int
import(struct store *s, const char *csv, struct roster_result *res)
{
	return roster_import(s, csv, strlen(csv), 0, res);
}

static int
has_error(const struct roster_result *res, const char *text)
{
	for (size_t i = 0; i < res->n_errors && i < ROSTER_ERRORS_MAX; i++)
		if (strstr(res->errors[i], text))
			return 1;
	return 0;
}

int
main(void)
{
	struct roster_result res;
	struct store_user u;
	struct store *s;

	snprintf(dir, sizeof dir, "/tmp/markbook-roster-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof path, "%s/markbook.db", dir);

	TEST("roster_import adds each student with a one-time password that logs in once") {
		s = fresh();
		CHECK(import(s, "username,name,email\nada,Ada Lovelace,ada@example.org\n"
		    "bob,,\n", &res) == 0);
		CHECK(res.counts.added == 2 && res.n_added == 2);
		CHECK(store_get_user(s, "ada", &u) == STORE_OK);
		CHECK_STR(u.name, "Ada Lovelace");
		CHECK(u.must_change == 1);
		CHECK(auth_check_password(res.added[0].password, u.password_hash));
		CHECK_STR(query("SELECT initial_password FROM users WHERE username = 'ada'"),
		    res.added[0].password);
		CHECK_STR(query("SELECT name FROM users WHERE username = 'bob'"), "bob");
		CHECK_STR(query("SELECT email FROM users WHERE username = 'ada'"), "ada@example.org");
		CHECK_STR(query("SELECT count(*) FROM audit WHERE action = 'roster-add'"), "2");
		CHECK_STR(query("SELECT new_value FROM audit WHERE subject = 'user ada'"),
		    "Ada Lovelace <ada@example.org>");
		CHECK(store_set_password(s, u.id, "$2b$11$chosen") == STORE_OK);
		CHECK_STR(query("SELECT quote(initial_password) || must_change_password FROM users "
		    "WHERE username = 'ada'"), "NULL0");
		roster_result_free(&res);
		store_close(s);
	}
	TEST("roster_import reads a Canvas gradebook export as it comes") {
		s = fresh();
		CHECK(import(s, "\xEF\xBB\xBF\"Student\",\"ID\",\"SIS User ID\",\"SIS Login ID\","
		    "\"Section\",\"Lab 1 (1234)\"\n"
		    "\"    Points Possible\",,,,,10\n"
		    "\"Lovelace, Ada\",101,S1,ada,Period 1,8\n"
		    "\"Student, Test\",999,,,Period 1,\n"
		    "\"Byron, George\",102,S2,gbyron,Period 1,\n", &res) == 0);
		CHECK(res.counts.added == 2);
		CHECK_STR(query("SELECT group_concat(username || '=' || name, ';') FROM (SELECT * "
		    "FROM users ORDER BY username)"), "ada=Lovelace, Ada;gbyron=Byron, George");
		roster_result_free(&res);
		store_close(s);
	}
	TEST("roster_import reads a Moodle participants export: semicolons, no username column") {
		s = fresh();
		CHECK(import(s, "First name;Last name;Email address;Roles;Groups;Last access to "
		    "course\nAda;Lovelace;ada@example.org;Student;No groups;Never\n"
		    "Grace;Hopper;grace@example.org;Student;No groups;Never\n", &res) == 0);
		CHECK(res.counts.added == 2);
		CHECK_STR(query("SELECT name || ' ' || email FROM users WHERE username = "
		    "'grace@example.org'"), "Grace Hopper grace@example.org");
		roster_result_free(&res);
		store_close(s);
	}
	TEST("roster_import changes nothing from a file with bad rows and names every line") {
		s = fresh();
		CHECK(import(s, "username,name,email\nada,Ada,\n", &res) == 0);
		roster_result_free(&res);
		CHECK(import(s, "username,name,email\nnew1,New,\nbad name,X,\nada,Ada 2,\n"
		    ",Nobody,\nnew1,Again,\ncy,Cy,not-an-email\n", &res) < 0);
		CHECK(res.n_errors == 4);
		CHECK(has_error(&res, "line 3: \"bad name\" cannot be a username"));
		CHECK(has_error(&res, "line 5: no username"));
		CHECK(has_error(&res, "line 6: \"new1\" is also on line 2"));
		CHECK(has_error(&res, "line 7: \"not-an-email\" is not an email address"));
		CHECK(res.n_added == 0);
		CHECK_STR(query("SELECT group_concat(username || ':' || name) FROM users"), "ada:Ada");
		CHECK_STR(query("SELECT count(*) FROM audit"), "1");
		roster_result_free(&res);
		store_close(s);
	}
	TEST("roster_import refuses a file that is not UTF-8 or has no username column") {
		s = fresh();
		CHECK(import(s, "username\nok\nJos\xe9\n", &res) < 0);
		CHECK(has_error(&res, "line 3: the file is not UTF-8"));
		roster_result_free(&res);
		CHECK(import(s, "student id,grade\n1,2\n", &res) < 0);
		CHECK(has_error(&res, "line 1: the header row has no username column"));
		roster_result_free(&res);
		CHECK(import(s, "", &res) < 0);
		CHECK(has_error(&res, "empty"));
		roster_result_free(&res);
		CHECK_STR(query("SELECT count(*) FROM users"), "0");
		store_close(s);
	}
	TEST("roster_import again updates names and emails, adds, and keeps every password") {
		char hash[STORE_HASH_MAX + 1];

		s = fresh();
		CHECK(import(s, "username,name,email\nada,Ada,\nbob,Bob,bob@example.org\n",
		    &res) == 0);
		roster_result_free(&res);
		snprintf(hash, sizeof hash, "%s", query("SELECT password_hash FROM users WHERE "
		    "username = 'ada'"));
		CHECK(import(s, "username,name,email\nada,Ada Lovelace,ada@example.org\n"
		    "bob,,\ncy,Cy,\n", &res) == 0);
		CHECK(res.counts.added == 1 && res.counts.updated == 1 && res.counts.unchanged == 1);
		CHECK(res.n_added == 1 && strcmp(res.added[0].username, "cy") == 0);
		CHECK_STR(query("SELECT password_hash FROM users WHERE username = 'ada'"), hash);
		CHECK_STR(query("SELECT name || ' ' || email FROM users WHERE username = 'bob'"),
		    "Bob bob@example.org");
		CHECK_STR(query("SELECT old_value || ' -> ' || new_value FROM audit WHERE action = "
		    "'roster-update'"), "Ada -> Ada Lovelace <ada@example.org>");
		roster_result_free(&res);
		CHECK(import(s, "username\ncy\n", &res) == 0);
		CHECK_STR(query("SELECT count(*) FROM users"), "3");
		roster_result_free(&res);
		store_close(s);
	}
	TEST("roster_import refuses a row that names a teacher's account") {
		s = fresh();
		CHECK(store_add_user(s, "teacher", "T", "teacher", "$2b$11$x", 1, NULL) == STORE_OK);
		CHECK(import(s, "username\nada\nteacher\n", &res) < 0);
		CHECK(has_error(&res, "line 3: \"teacher\" is a teacher's account"));
		CHECK_STR(query("SELECT count(*) FROM users"), "1");
		roster_result_free(&res);
		store_close(s);
	}
	TEST("roster_reset gives a new one-time password, ends sessions and is audited") {
		char pw[AUTH_GENERATED_LEN + 1], old[STORE_HASH_MAX + 1];

		s = fresh();
		CHECK(import(s, "username\nada\n", &res) == 0);
		roster_result_free(&res);
		CHECK(store_get_user(s, "ada", &u) == STORE_OK);
		CHECK(store_set_password(s, u.id, "$2b$11$chosen") == STORE_OK);
		CHECK(store_add_session(s, "h", u.id, "c", 1, 4102444800LL) == STORE_OK);
		snprintf(old, sizeof old, "%s", u.password_hash);
		CHECK(roster_reset(s, "ada", 0, pw) == STORE_OK);
		CHECK(store_get_user(s, "ada", &u) == STORE_OK);
		CHECK(u.must_change == 1 && auth_check_password(pw, u.password_hash));
		CHECK_STR(query("SELECT initial_password FROM users WHERE username = 'ada'"), pw);
		CHECK_STR(query("SELECT count(*) FROM sessions"), "0");
		CHECK_STR(query("SELECT count(*) FROM audit WHERE action = 'roster-reset'"), "1");
		CHECK(roster_reset(s, "nobody", 0, pw) == STORE_NOTFOUND);
		store_close(s);
	}
	snprintf(path, sizeof path, "rm -rf %s", dir);
	if (system(path) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return unit_done("roster");
}

-- schema.sql as markbook shipped it at database version 1 (whole points), kept
-- unchanged to make files of that version for tests/e2e/test_migration.py.
-- markbook's database, version 1. store.c runs this once, inside the
-- transaction that sets PRAGMA user_version to 1; later versions are steps
-- in store.c. Times are Unix seconds (UTC).

CREATE TABLE users (
	id		INTEGER PRIMARY KEY,
	username	TEXT NOT NULL UNIQUE,
	name		TEXT NOT NULL,
	role		TEXT NOT NULL CHECK (role IN ('teacher', 'student')),
	password_hash	TEXT NOT NULL,		-- bcrypt, $2b$
	created_at	INTEGER NOT NULL,
	email		TEXT NOT NULL DEFAULT '',
	-- A student made by a roster import logs in first with a one-time
	-- password and must then choose one. The teacher prints login slips
	-- from `initial_password` until the student has chosen: it is the
	-- only password kept in clear, it opens only an account that can do
	-- nothing but set a password, and it is gone (NULL) once it is used.
	must_change_password INTEGER NOT NULL DEFAULT 0
			CHECK (must_change_password IN (0, 1)),
	initial_password TEXT
) STRICT;

-- A login. The token itself is only in the browser's cookie; we keep its
-- SHA-256, so a copy of the database opens no session.
CREATE TABLE sessions (
	id		INTEGER PRIMARY KEY,
	token_hash	TEXT NOT NULL UNIQUE,
	user_id		INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	csrf_token	TEXT NOT NULL,
	created_at	INTEGER NOT NULL,
	expires_at	INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_expiry ON sessions(expires_at);

-- An exercise as last loaded from the course folder. `published` is 0 when
-- it could not be prepared; `problem` then tells the teacher why.
CREATE TABLE exercises (
	id		INTEGER PRIMARY KEY,
	slug		TEXT NOT NULL UNIQUE,
	title		TEXT NOT NULL,
	phase		INTEGER NOT NULL CHECK (phase IN (1, 2)),
	max_points	INTEGER NOT NULL CHECK (max_points > 0),
	due_at		TEXT,			-- as the teacher wrote it
	due		INTEGER,		-- the same instant, NULL when none
	feedback	TEXT NOT NULL CHECK (feedback IN ('always', 'after_due', 'never')),
	-- "late" of exercise.json: percent of the earned score taken per
	-- started day after `due`, and the days after which it scores 0. NULL:
	-- no late policy (late submissions are marked, not penalised).
	late_penalty	INTEGER CHECK (late_penalty BETWEEN 0 AND 100),
	late_max_days	INTEGER CHECK (late_max_days >= 0),
	scaffold	TEXT NOT NULL,
	tests_hash	TEXT NOT NULL,		-- SHA-256 of the hidden tests
	published	INTEGER NOT NULL CHECK (published IN (0, 1)),
	problem		TEXT NOT NULL DEFAULT '',
	loaded_at	INTEGER NOT NULL
) STRICT;

-- The test plan each submission of an exercise is graded against.
CREATE TABLE plan_tests (
	exercise_id	INTEGER NOT NULL REFERENCES exercises(id) ON DELETE CASCADE,
	position	INTEGER NOT NULL,
	nodeid		TEXT NOT NULL,
	name		TEXT NOT NULL,
	description	TEXT NOT NULL,
	points		INTEGER NOT NULL,
	PRIMARY KEY (exercise_id, position)
) STRICT;

CREATE TABLE submissions (
	id		INTEGER PRIMARY KEY,
	user_id		INTEGER NOT NULL REFERENCES users(id),
	exercise_id	INTEGER NOT NULL REFERENCES exercises(id),
	source		TEXT NOT NULL,
	status		TEXT NOT NULL DEFAULT 'queued'
			CHECK (status IN ('queued', 'grading', 'done', 'error')),
	score		INTEGER,
	max_points	INTEGER NOT NULL,
	message		TEXT NOT NULL DEFAULT '',
	flags		TEXT NOT NULL DEFAULT '',	-- comma-separated, teacher only
	output		TEXT NOT NULL DEFAULT '',	-- what the run printed, teacher only
	created_at	INTEGER NOT NULL,
	graded_at	INTEGER,
	attempts	INTEGER NOT NULL DEFAULT 0,
	tests_hash	TEXT NOT NULL DEFAULT '',	-- the hidden tests it was graded with
	-- A score the teacher set by hand; it replaces the graded (and late
	-- penalised) score. The comment is shown to the student.
	override_score	INTEGER CHECK (override_score >= 0),
	override_comment TEXT NOT NULL DEFAULT '',
	override_by	INTEGER REFERENCES users(id),
	override_at	INTEGER
) STRICT;
CREATE INDEX submissions_queue ON submissions(status, id);
CREATE INDEX submissions_student ON submissions(user_id, exercise_id);
-- Everything the gradebook reads of a submission, so that it never reads the
-- rows themselves, whose notebooks make a term's table tens of megabytes.
CREATE INDEX submissions_scores ON submissions(user_id, exercise_id, status, score,
	created_at, override_score);
-- The teacher's exercise list counts, per exercise, the submissions waiting
-- and those graded with older tests; the dashboard counts recent uploads.
-- Without these each count read the whole table.
CREATE INDEX submissions_exercise ON submissions(exercise_id, status, tests_hash);
CREATE INDEX submissions_recent ON submissions(created_at);

CREATE TABLE test_results (
	submission_id	INTEGER NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
	position	INTEGER NOT NULL,
	name		TEXT NOT NULL,
	description	TEXT NOT NULL,
	passed		INTEGER NOT NULL CHECK (passed IN (0, 1)),
	points		INTEGER NOT NULL,
	max_points	INTEGER NOT NULL,
	outcome		TEXT NOT NULL,
	message		TEXT NOT NULL,		-- students see it only as feedback allows
	detail		TEXT NOT NULL,		-- traceback, teacher only
	PRIMARY KEY (submission_id, position)
) STRICT;

-- Grading an exercise's submissions again after its hidden tests changed.
-- The new results wait in regrade_items until the teacher applies them
-- (status 'applied': they replace the submissions' results) or discards
-- them. Grading threads take items only when no upload is queued.
CREATE TABLE regrades (
	id		INTEGER PRIMARY KEY,
	exercise_id	INTEGER NOT NULL REFERENCES exercises(id),
	tests_hash	TEXT NOT NULL,		-- the tests it started with
	status		TEXT NOT NULL DEFAULT 'running'
			CHECK (status IN ('running', 'applied', 'discarded')),
	actor_id	INTEGER REFERENCES users(id),	-- NULL: the command line
	created_at	INTEGER NOT NULL,
	finished_at	INTEGER
) STRICT;

CREATE TABLE regrade_items (
	regrade_id	INTEGER NOT NULL REFERENCES regrades(id) ON DELETE CASCADE,
	submission_id	INTEGER NOT NULL REFERENCES submissions(id),
	status		TEXT NOT NULL DEFAULT 'queued'
			CHECK (status IN ('queued', 'grading', 'done', 'error')),
	score		INTEGER,
	message		TEXT NOT NULL DEFAULT '',
	flags		TEXT NOT NULL DEFAULT '',
	output		TEXT NOT NULL DEFAULT '',
	tests		TEXT NOT NULL DEFAULT '[]',	-- JSON: test_results rows
	attempts	INTEGER NOT NULL DEFAULT 0,
	-- The hidden tests that graded it: the regrade's own, unless the
	-- teacher changed them again while it ran.
	tests_hash	TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (regrade_id, submission_id)
) STRICT;
CREATE INDEX regrade_items_queue ON regrade_items(status, regrade_id);

-- What a teacher changed by hand or in bulk: overrides, regrades, roster
-- changes. Rows are only ever added.
CREATE TABLE audit (
	id		INTEGER PRIMARY KEY,
	at		INTEGER NOT NULL,
	actor_id	INTEGER REFERENCES users(id),	-- NULL: the command line
	action		TEXT NOT NULL,		-- override, regrade, roster-add, ...
	subject		TEXT NOT NULL,		-- what it was done to, e.g. "submission 12"
	old_value	TEXT NOT NULL DEFAULT '',
	new_value	TEXT NOT NULL DEFAULT '',
	comment		TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX audit_at ON audit(at);

-- Every submission with the score that counts: `late` when it was handed in
-- after the exercise's due date, `days_late` started days after it,
-- `kept_percent` what the late policy leaves of a score, `penalised_score`
-- the graded score less the late penalty (rounded to the nearest point; 0
-- after late_max_days), `final_score` the teacher's override when there is
-- one, else the penalised score (NULL: nothing counts yet).
CREATE VIEW submission_scores AS
SELECT *, COALESCE(override_score, penalised_score) AS final_score
FROM (
	SELECT *, CASE WHEN status = 'done' THEN (score * kept_percent + 50) / 100 END
		AS penalised_score
	FROM (
	SELECT *, CASE
		WHEN days_late = 0 OR late_penalty IS NULL THEN 100
		WHEN days_late > late_max_days THEN 0
		ELSE MAX(0, 100 - late_penalty * days_late)
	END AS kept_percent
	FROM (
		SELECT s.id AS submission_id, s.user_id, s.exercise_id, s.status, s.score,
			s.max_points, s.created_at, s.override_score, e.late_penalty,
			e.late_max_days,
			e.due IS NOT NULL AND s.created_at > e.due AS late,
			CASE WHEN e.due IS NOT NULL AND s.created_at > e.due
				THEN (s.created_at - e.due + 86399) / 86400 ELSE 0 END AS days_late
		FROM submissions s JOIN exercises e ON e.id = s.exercise_id
	)
	)
);

-- Each student's best final score (submission_scores) per exercise, from
-- every submission they handed in: NULL when none counts yet. `submitted_at`
-- and `late` are of the best submission (SQLite takes a bare column from the
-- row that gave MAX()); `attempts` counts every upload. Reading it for one
-- student and exercise reads only their submissions (the WHERE reaches the
-- covering index submissions_scores).
CREATE VIEW best_of AS
SELECT user_id, exercise_id, MAX(final_score) AS score,
	CASE WHEN MAX(final_score) IS NOT NULL THEN created_at END AS submitted_at,
	CASE WHEN MAX(final_score) IS NOT NULL THEN late END AS late,
	count(*) AS attempts
FROM submission_scores
GROUP BY user_id, exercise_id;

-- best_of, kept as rows: the triggers below write a student's row again
-- whenever one of their submissions is added or its score changes, and an
-- exercise's rows whenever its due date or late policy changes. The gradebook
-- then reads one row per student and exercise instead of aggregating the
-- term's submissions at every request (200 students x 30 exercises x 5
-- uploads: 51 -> 18 ms). Nothing else writes it. The triggers delete and
-- insert rather than INSERT OR REPLACE: a trigger takes the conflict policy
-- of the statement that fired it, and store.c writes exercises with an upsert.
CREATE TABLE best_scores (
	user_id		INTEGER NOT NULL REFERENCES users(id),
	exercise_id	INTEGER NOT NULL REFERENCES exercises(id),
	score		INTEGER,
	submitted_at	INTEGER,
	late		INTEGER,
	attempts	INTEGER NOT NULL,
	PRIMARY KEY (user_id, exercise_id)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER best_scores_submission_added AFTER INSERT ON submissions
BEGIN
	DELETE FROM best_scores WHERE user_id = NEW.user_id AND exercise_id = NEW.exercise_id;
	INSERT INTO best_scores SELECT * FROM best_of
	WHERE user_id = NEW.user_id AND exercise_id = NEW.exercise_id;
END;

CREATE TRIGGER best_scores_submission_scored
AFTER UPDATE OF status, score, override_score ON submissions
WHEN OLD.status IS NOT NEW.status OR OLD.score IS NOT NEW.score
	OR OLD.override_score IS NOT NEW.override_score
BEGIN
	DELETE FROM best_scores WHERE user_id = NEW.user_id AND exercise_id = NEW.exercise_id;
	INSERT INTO best_scores SELECT * FROM best_of
	WHERE user_id = NEW.user_id AND exercise_id = NEW.exercise_id;
END;

CREATE TRIGGER best_scores_late_policy
AFTER UPDATE OF due, late_penalty, late_max_days ON exercises
WHEN OLD.due IS NOT NEW.due OR OLD.late_penalty IS NOT NEW.late_penalty
	OR OLD.late_max_days IS NOT NEW.late_max_days
BEGIN
	DELETE FROM best_scores WHERE exercise_id = NEW.id;
	INSERT INTO best_scores SELECT * FROM best_of WHERE exercise_id = NEW.id;
END;

-- One row per student and exercise (published, or with a graded submission):
-- best_scores, NULL when there is none, and the student's total over all
-- exercises.
CREATE VIEW gradebook AS
SELECT u.id AS user_id, u.username, u.name, u.email,
	e.id AS exercise_id, e.slug, e.max_points,
	b.score AS best_score, b.submitted_at, b.late, COALESCE(b.attempts, 0) AS attempts,
	SUM(COALESCE(b.score, 0)) OVER (PARTITION BY u.id) AS total
FROM users u
CROSS JOIN exercises e
LEFT JOIN best_scores b ON b.user_id = u.id AND b.exercise_id = e.id
WHERE u.role = 'student'
	AND (e.published = 1
		OR e.id IN (SELECT exercise_id FROM best_scores WHERE score IS NOT NULL));

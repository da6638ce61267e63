#include "grader.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "embedded.h"
#include "fsutil.h"
#include "json.h"
#include "msg.h"
#include "points.h"
#include "sha256.h"

#define NONCE_BYTES	16
#define SELF_CHUNK	(64 * 1024)	/* bytes read at a time to hash the binary */

enum mode { MODE_COLLECT, MODE_RUN, MODE_NOTEBOOK };
static const char *const mode_names[] = { "collect", "run", "notebook" };

/* One sandbox of a run: its staging folder and what came back. */
struct side {
	char dir[1024];		/* the staging folder; short enough to join */
	struct sandbox_home home;	/* how it was made (sandbox_home_make) */
	char nonce[2 * NONCE_BYTES + 2];
	char done[2 * NONCE_BYTES + 40];	/* how its end record begins */
	struct sandbox_result sb;
	struct report report;
};

/* A staged run: the tests' side, and in process isolation the student's. */
struct run {
	struct side tests;
	struct side student;
	int isolated;		/* process isolation: `student` is in use */
};

/* Whether `side` of a process-isolated run never reported at all because
 * the run was stopped at a limit first: the student's side can fill the
 * disk before the tests' side has even started. Such a side ran no student
 * code and earned no points, so its missing sandbox proof is not a failed
 * one, provided the other side proved the sandbox. */
static int
unstarted_in_limited_run(const struct run *run, const struct side *side)
{
	const struct side *other = side == &run->tests ? &run->student : &run->tests;
	char why[160];

	return run->isolated && side->sb.report_len == 0 &&
	    (run->tests.sb.end == SANDBOX_DISK_FULL || run->tests.sb.end == SANDBOX_TIMED_OUT ||
	    run->tests.sb.end == SANDBOX_MEMORY_FULL) &&
	    report_sandbox_ok(&other->report, why, sizeof why);
}

/* What a staging folder holds besides the harness (CONTRIBUTING.md). */
enum { STAGE_SUBMISSION = 1, STAGE_HIDDEN = 2 };

static int
make_nonce(char *out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[NONCE_BYTES];
	size_t got = 0;

	while (got < sizeof raw) {
		ssize_t n = getrandom(raw + got, sizeof raw - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		got += (size_t)n;
	}
	for (size_t i = 0; i < sizeof raw; i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[2 * NONCE_BYTES] = '\n';
	out[2 * NONCE_BYTES + 1] = '\0';
	return 0;
}

/* Write `len` bytes as `dir`/`rel` with `mode`, making the folders of `rel`
 * on the way (0755; given to `owner` when it is not NULL, so that the
 * notebook may write beside its data files as it could in the course folder).
 * Returns 0, or -1 with errno set. */
static int
write_in(const char *dir, const char *rel, const void *data, size_t len, mode_t mode,
    const struct sandbox_identity *owner)
{
	char path[PATH_MAX], *slash;

	if (snprintf(path, sizeof path, "%s/%s", dir, rel) >= (int)sizeof path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (slash = strchr(path + strlen(dir) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (mkdir(path, 0755) == 0) {
			if (owner && chown(path, owner->uid, owner->gid) < 0)
				return -1;
		} else if (errno != EEXIST)
			return -1;
		*slash = '/';
	}
	return fs_write_file(path, data, len, mode);
}

/* Write the embedded harness into dir/.markbook, making its sub-folders. */
static int
stage_harness(const char *dir)
{
	char rel[PATH_MAX];

	for (const struct embedded_file *f = embedded_harness; f->path; f++)
		if (snprintf(rel, sizeof rel, ".markbook/%s", f->path) >= (int)sizeof rel ||
		    write_in(dir, rel, f->data, f->len, 0644, NULL) < 0)
			return -1;
	return 0;
}

/* Copy the course's file `rel` of `from` (`shown` to the teacher) into the
 * staging folder `to`, keeping its relative path. */
static int
stage_copy(const char *from, const char *shown, const char *rel, const char *to,
    const struct sandbox_identity *owner, char *err, size_t errlen)
{
	char path[PATH_MAX], *data;
	size_t len;
	int w;

	snprintf(path, sizeof path, "%s/%s", from, rel);
	if ((data = fs_read_file(path, COURSE_DATA_MAX, &len)) == NULL)
		return msg_fail(err, errlen, "%s/%s cannot be read for grading: %s. Put it back "
		    "(or reload the course folder if you removed it on purpose).", shown, rel,
		    errno == EFBIG ? "it grew past the limit of a staged file" : strerror(errno));
	w = write_in(to, rel, data, len, 0644, owner);
	free(data);
	if (w < 0)
		return msg_fail(err, errlen, "Cannot stage the submission in %s: %s.", to,
		    strerror(errno));
	return 0;
}

/* Make the staging folder described in CONTRIBUTING.md: the exercise's data
 * files as the scaffold lays them out; with STAGE_SUBMISSION the submission's
 * text as submission.py; with STAGE_HIDDEN the hidden files in hidden/, and
 * the submission's text there too. */
static int
stage(const struct grader *g, int what, const char *source, size_t len,
    struct side *run, char *err, size_t errlen)
{
	const struct exercise *ex = g->ex;
	const struct sandbox_identity *owner = g->id.drop ? &g->id : NULL;
	char shown[COURSE_SLUG_MAX + 16], to[PATH_MAX];

	if (sandbox_home_make(&run->home, &g->id, run->dir, sizeof run->dir, err, errlen) < 0)
		return -1;
	/* The submission's text is read-only everywhere: tests may read it (a
	 * source check), nothing may change it. */
	if ((what & STAGE_SUBMISSION) &&
	    write_in(run->dir, "submission.py", source, len, 0444, NULL) < 0)
		goto fail;
	snprintf(shown, sizeof shown, "exercises/%s", ex->slug);
	for (size_t i = 0; i < ex->n_data_files; i++)
		if (stage_copy(ex->dir, shown, ex->data_files[i], run->dir, owner, err,
		    errlen) < 0)
			return -1;
	snprintf(to, sizeof to, "%s/hidden", run->dir);
	if ((what & STAGE_HIDDEN) && (mkdir(to, 0755) < 0 ||
	    write_in(to, "submission.py", source, len, 0444, NULL) < 0))
		goto fail;
	snprintf(shown, sizeof shown, "hidden/%s", ex->slug);
	for (size_t i = 0; (what & STAGE_HIDDEN) && i < ex->n_hidden_files; i++)
		if (stage_copy(ex->hidden_dir, shown, ex->hidden_files[i], to, NULL, err,
		    errlen) < 0)
			return -1;
	if (stage_harness(run->dir) < 0)
		goto fail;
	/* The home folder (sandbox_home_make) and its .tmp belong to the
	 * sandbox user; what markbook staged stays root's and read-only (firejail
	 * also mounts it so). */
	if (mkdirat(run->home.fd, ".tmp", 0700) < 0 || (g->id.drop &&
	    fchownat(run->home.fd, ".tmp", g->id.uid, g->id.gid, AT_SYMLINK_NOFOLLOW) < 0))
		goto fail;
	return 0;
fail:
	return msg_fail(err, errlen, "Cannot stage the submission in %s: %s.", run->dir,
	    strerror(errno));
}

static void
side_free(struct side *side)
{
	sandbox_home_remove(&side->home, side->dir);
	sandbox_result_free(&side->sb);
	report_free(&side->report);
}

static void
run_free(struct run *run)
{
	side_free(&run->tests);
	side_free(&run->student);
}

/* Stage one side of a run and describe its sandbox's folder, key and limits
 * in `job`. */
static int
prepare_side(const struct grader *g, int what, const char *source, size_t len,
    struct side *side, struct sandbox_job *job, char *err, size_t errlen)
{
	if (make_nonce(side->nonce) < 0)
		return msg_fail(err, errlen, "No randomness for the report key: %s.",
		    strerror(errno));
	if (stage(g, what, source, len, side, err, errlen) < 0 ||
	    sandbox_home_limit(&side->home, side->dir, GRADER_WRITE_MB, GRADER_ENTRIES_MAX, err,
	    errlen) < 0)
		return -1;
	/* The harness's end record begins so (CONTRIBUTING.md); once markbook
	 * reads it, the run is over, whatever the notebook left running. */
	snprintf(side->done, sizeof side->done, "{\"nonce\":\"%.*s\",\"kind\":\"end\"",
	    2 * NONCE_BYTES, side->nonce);
	job->dir = side->dir;
	job->home = &side->home;
	job->secret = side->nonce;
	job->done = side->done;
	job->limits.wall_s = g->ex->timeout_s;
	job->limits.memory_mb = g->ex->memory_mb;
	job->limits.file_mb = GRADER_FILE_MB;
	job->limits.nofile = GRADER_NOFILE;
	job->limits.nproc = GRADER_NPROC;
	return 0;
}

/* Read one side's report; the nonce went in with its newline and records
 * carry it without. */
static int
read_side(struct side *side, char *err, size_t errlen)
{
	side->nonce[2 * NONCE_BYTES] = '\0';
	if (report_parse(side->sb.report, side->sb.report_len, side->nonce, &side->report) < 0)
		return msg_fail(err, errlen, "Out of memory reading the report.");
	return 0;
}

/* Stage `source` and run the harness on it in `mode`: in one sandbox, or for
 * a run in process isolation, the tests and the notebook in two linked ones.
 * Returns 0 when the sandboxes ran (see run->tests: in process isolation its
 * report also holds the student side's parse and load records), -1 with
 * `err` otherwise. */
static int
run_harness(const struct grader *g, enum mode mode, const char *source, size_t len,
    struct run *run, char *err, size_t errlen)
{
	const struct exercise *ex = g->ex;
	int isolated = mode == MODE_RUN && ex->isolation == COURSE_ISOLATION_PROCESS;
	char timeout[16], env_home[PATH_MAX + 8], env_tmp[PATH_MAX + 16],
	    env_mpl[PATH_MAX + 32], ro_hidden[PATH_MAX], ro_harness[PATH_MAX];
	const char *names = g->plan.names ? g->plan.names : "";
	const char *argv[] = {
		GRADER_PYTHON, "-I", "-B", ".markbook/run.py",
		mode_names[mode], "--test-timeout", timeout,
		"--isolation", isolated ? "process" : "shared", "--names", names, NULL
	};
	const char *student_argv[] = {
		GRADER_PYTHON, "-I", "-B", ".markbook/run.py", "student", "--test-timeout",
		timeout, "--names", names, NULL
	};
	const char *env[] = {
		env_home, "PATH=/usr/bin:/bin", "LANG=C.UTF-8", env_tmp, "MPLBACKEND=Agg",
		env_mpl, "OPENBLAS_NUM_THREADS=1", "OMP_NUM_THREADS=1", NULL
	};
	/* The student's sandbox has no pytest to patch or to learn the tests from. */
	const char *private_dir = g->private_dir[0] ? g->private_dir : NULL;
	const char *hide[] = { g->course_dir, private_dir, NULL };
	const char *student_hide[] = { g->course_dir, GRADER_PYTEST_DIRS, private_dir, NULL };
	const char *readonly[] = { ro_hidden, ro_harness, NULL };
	const char *student_readonly[] = { ro_harness, NULL };
	struct sandbox_job job = { 0 }, peer = { 0 };

	memset(run, 0, sizeof *run);
	run->isolated = isolated;
	snprintf(timeout, sizeof timeout, "%u", ex->test_timeout_s);
	snprintf(env_home, sizeof env_home, "HOME=%s", g->id.home);
	snprintf(env_tmp, sizeof env_tmp, "TMPDIR=%s/.tmp", g->id.home);
	snprintf(env_mpl, sizeof env_mpl, "MPLCONFIGDIR=%s/.tmp/matplotlib", g->id.home);
	snprintf(ro_hidden, sizeof ro_hidden, "%s/hidden", g->id.home);
	snprintf(ro_harness, sizeof ro_harness, "%s/.markbook", g->id.home);
	/* The tests' side holds the submission's text in both isolations (source
	 * checks); in process isolation nothing there runs it. */
	if (prepare_side(g, STAGE_HIDDEN | STAGE_SUBMISSION, source, len, &run->tests, &job,
	    err, errlen) < 0)
		return -1;
	job.argv = argv;
	job.env = env;
	job.hide = hide;
	job.readonly = readonly;
	if (!isolated) {
		if (sandbox_run(&job, &g->id, &run->tests.sb, err, errlen) < 0)
			return -1;
		return read_side(&run->tests, err, errlen);
	}
	if (prepare_side(g, STAGE_SUBMISSION, source, len, &run->student, &peer, err,
	    errlen) < 0)
		return -1;
	peer.argv = student_argv;
	peer.env = env;
	peer.hide = student_hide;
	peer.readonly = student_readonly;
	job.linked = peer.linked = 1;
	if (sandbox_run_pair(&job, &peer, &g->id, &run->tests.sb, &run->student.sb, err,
	    errlen) < 0)
		return -1;
	if (read_side(&run->tests, err, errlen) < 0 || read_side(&run->student, err, errlen) < 0)
		return -1;
	if (report_adopt_student(&run->tests.report, &run->student.report) < 0)
		return msg_fail(err, errlen, "Out of memory reading the report.");
	return 0;
}

/* The last `max` bytes of the run's output, for a message to the teacher. */
static const char *
output_tail(const struct side *side, size_t max)
{
	size_t len = side->sb.output_len;

	if (len == 0)
		return "(no output)";
	return side->sb.output + (len > max ? len - max : 0);
}

/* Hash one input of a cache key: what it is, its name, its length and its
 * bytes, so that no two different courses hash alike. */
static void
hash_item(struct sha256 *c, const char *what, const char *name, const void *data, size_t len)
{
	char head[32];
	int n = snprintf(head, sizeof head, "%zu\n", len);

	sha256_update(c, what, strlen(what) + 1);
	sha256_update(c, name, strlen(name) + 1);
	sha256_update(c, head, (size_t)n);
	sha256_update(c, data, len);
}

void
grader_stat_digest(const char *const *paths, char *out)
{
	unsigned char digest[SHA256_LEN];
	struct sha256 c;

	sha256_init(&c);
	for (size_t i = 0; paths[i]; i++) {
		struct stat st;
		char text[96];
		int n = stat(paths[i], &st) < 0 ? snprintf(text, sizeof text, "missing") :
		    snprintf(text, sizeof text, "%llu %lld %lld.%09ld",
		    (unsigned long long)st.st_ino, (long long)st.st_size,
		    (long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);

		hash_item(&c, "stat", paths[i], text, (size_t)n);
	}
	sha256_final(&c, digest);
	for (int i = 0; i < SHA256_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

/* grader_stat_digest() of the Python the sandbox runs: the interpreter
 * /usr/bin/python3 points to (python3.11) and the folders of its sys.path. */
static void
python_digest(char *out)
{
	static const char *const dirs[] = { "/usr/lib/python%s", "/usr/lib/python%s/lib-dynload",
		"/usr/local/lib/python%s/dist-packages", "/usr/lib/python3/dist-packages",
		"/usr/lib/python%s/dist-packages" };
	char exe[PATH_MAX], paths[sizeof dirs / sizeof dirs[0]][96];
	const char *list[sizeof dirs / sizeof dirs[0] + 2], *version = "3", *base;
	size_t n = 0;

	if (realpath(GRADER_PYTHON, exe) == NULL)
		snprintf(exe, sizeof exe, "%s", GRADER_PYTHON);
	base = strrchr(exe, '/');
	if (base && strncmp(base, "/python", 7) == 0 && base[7] != '\0')
		version = base + 7;
	list[n++] = exe;
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		snprintf(paths[i], sizeof paths[i], dirs[i], version);
		list[n++] = paths[i];
	}
	list[n] = NULL;
	grader_stat_digest(list, out);
}

/* Hash every folder and regular file below `dir` (dot files aside): names
 * relative to the top folder (`path + base`), and contents, in sorted order.
 * Returns 0, or -1 (no kept file then) also for folders more than
 * HASH_TREE_DEPTH deep: each level holds a path on the stack. */
#define HASH_TREE_DEPTH	32
static int
hash_tree(struct sha256 *c, const char *dir, size_t base, int depth)
{
	struct dirent **names = NULL;
	int n, i, rc = 0;

	if (depth > HASH_TREE_DEPTH)
		return -1;
	if ((n = scandir(dir, &names, NULL, alphasort)) < 0)
		return errno == ENOENT ? 0 : -1;
	for (i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		char path[PATH_MAX];
		struct stat st;

		if (rc == 0 && name[0] != '.' &&
		    snprintf(path, sizeof path, "%s/%s", dir, name) < (int)sizeof path &&
		    lstat(path, &st) == 0) {
			if (S_ISDIR(st.st_mode)) {
				hash_item(c, "folder", path + base, "", 0);
				rc = hash_tree(c, path, base, depth + 1);
			} else if (S_ISREG(st.st_mode)) {
				size_t len;
				char *data = fs_read_file(path, COURSE_DATA_MAX, &len);

				if (data == NULL)
					rc = -1;
				else
					hash_item(c, "hidden", path + base, data, len);
				free(data);
			}
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

/* The markbook binary's own bytes, hashed once per process: the grading logic
 * in C changes between versions, and what another build decided must not
 * serve this one. */
static pthread_once_t self_once = PTHREAD_ONCE_INIT;
static unsigned char self_digest[SHA256_LEN];
static int self_hashed;

static void
hash_self(void)
{
	/* On the heap: civetweb's threads have small stacks. */
	char *buf = malloc(SELF_CHUNK);
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	struct sha256 c;
	ssize_t n;

	if (buf == NULL || fd < 0)
		goto out;
	sha256_init(&c);
	while ((n = read(fd, buf, SELF_CHUNK)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out;
		sha256_update(&c, buf, (size_t)n);
	}
	sha256_final(&c, self_digest);
	self_hashed = 1;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
}

/* Where the kept `kind` ("plan" or "gate") of exercise `ex` lives: a file
 * named by the hash of everything that decides either (CONTRIBUTING.md lists
 * it), so that a change to any of it makes a new file. Returns 0, or -1 when
 * there is no cache folder or an input cannot be read. */
static int
cache_path(const struct exercise *ex, const char *kind, char *out, size_t outlen)
{
	const char *base = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	unsigned char digest[SHA256_LEN];
	char dir[PATH_MAX], head[COURSE_SLUG_MAX + 96], path[PATH_MAX];
	char python[2 * SHA256_LEN + 1];
	struct sha256 c;
	size_t len;
	char *data;
	int n;

	pthread_once(&self_once, hash_self);
	if (!self_hashed || ((base == NULL || *base != '/') && (home == NULL || *home != '/')))
		return -1;
	sha256_init(&c);
	/* exercise.json's text is hashed below; these are what was read from it. */
	n = snprintf(head, sizeof head, "markbook cache 3\n%s\n%d\n%u\n%u\n%u\n%d\n", ex->slug,
	    ex->max_points, ex->test_timeout_s, ex->timeout_s, ex->memory_mb,
	    (int)ex->isolation);
	hash_item(&c, "exercise", "", head, (size_t)n);
	hash_item(&c, "markbook", "/proc/self/exe", self_digest, sizeof self_digest);
	python_digest(python);
	hash_item(&c, "python", GRADER_PYTHON, python, strlen(python));
	for (const struct embedded_file *f = embedded_harness; f->path; f++)
		hash_item(&c, "harness", f->path, f->data, f->len);
	snprintf(path, sizeof path, "%s/exercise.json", ex->dir);
	if ((data = fs_read_file(path, COURSE_JSON_MAX, &len)) == NULL)
		return -1;
	hash_item(&c, "exercise.json", "", data, len);
	free(data);
	hash_item(&c, "scaffold", ex->slug, ex->scaffold, ex->scaffold_len);
	for (size_t i = 0; i < ex->n_data_files; i++) {
		snprintf(path, sizeof path, "%s/%s", ex->dir, ex->data_files[i]);
		if ((data = fs_read_file(path, COURSE_DATA_MAX, &len)) == NULL)
			return -1;
		hash_item(&c, "data", ex->data_files[i], data, len);
		free(data);
	}
	if (hash_tree(&c, ex->hidden_dir, strlen(ex->hidden_dir), 0) < 0)
		return -1;
	sha256_final(&c, digest);
	if (base && *base == '/')
		n = snprintf(dir, sizeof dir, "%s/markbook", base);
	else
		n = snprintf(dir, sizeof dir, "%s/.cache/markbook", home);
	if (n < 0 || (size_t)n >= sizeof dir)
		return -1;
	n = snprintf(out, outlen, "%s/%s-", dir, kind);
	for (int i = 0; i < SHA256_LEN && n > 0 && (size_t)n + 3 < outlen; i++)
		n += snprintf(out + n, outlen - (size_t)n, "%02x", digest[i]);
	if (n < 0 || (size_t)n + 6 >= outlen)
		return -1;
	strcat(out, ".json");
	return 0;
}

/* Read a kept plan. Returns 0, or -1 when there is none to trust. */
static int
plan_cache_read(const char *path, const struct exercise *ex, struct test_plan *plan)
{
	size_t len;
	char *text = fs_read_file(path, GRADER_KEPT_MAX, &len);
	int rc = -1;

	if (text != NULL && report_plan_from_json(text, len, plan) == 0 &&
	    plan->max_points == ex->max_points)
		rc = 0;
	else if (text != NULL)
		report_plan_free(plan);
	free(text);
	return rc;
}

/* Keep `text` at `path` for the next run, in a private file. A failure is
 * ignored: what is not kept is only made again next time. */
static void
cache_write(const char *path, const char *text)
{
	char dir[PATH_MAX], tmp[PATH_MAX + 16], *slash;

	if (text == NULL)
		return;
	snprintf(dir, sizeof dir, "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL)
		return;
	*slash = '\0';
	/* ~/.cache may not exist yet; create both levels, private. */
	if ((slash = strrchr(dir, '/')) != NULL) {
		*slash = '\0';
		mkdir(dir, 0700);
		*slash = '/';
	}
	mkdir(dir, 0700);
	/* Write then rename: a reader never sees half a file. The name is this
	 * thread's, so what is there already is a crashed writer's leftover. */
	snprintf(tmp, sizeof tmp, "%s.%ld", path, (long)gettid());
	if (fs_write_file(tmp, text, strlen(text), 0600) < 0 || rename(tmp, path) < 0)
		unlink(tmp);
}

/* Everything of a grader but its plan: the folders and the sandbox's user. */
static int
grader_setup(struct grader *g, const struct exercise *ex, const char *course_dir,
    const char *private_dir, char *err, size_t errlen)
{
	memset(g, 0, sizeof *g);
	g->ex = ex;
	if (realpath(course_dir, g->course_dir) == NULL)
		return msg_fail(err, errlen, "%s: %s.", course_dir, strerror(errno));
	/* /tmp is private in every sandbox already, and / cannot be hidden. */
	if (private_dir && (realpath(private_dir, g->private_dir) == NULL ||
	    strcmp(g->private_dir, "/") == 0 || strcmp(g->private_dir, "/tmp") == 0))
		g->private_dir[0] = '\0';
	return sandbox_identity(&g->id, err, errlen);
}

int
grader_init_planned(struct grader *g, const struct exercise *ex, const char *course_dir,
    const char *private_dir, const char *plan, size_t plan_len, char *err, size_t errlen)
{
	if (grader_setup(g, ex, course_dir, private_dir, err, errlen) < 0)
		return GRADER_ESYSTEM;
	if (report_plan_from_json(plan, plan_len, &g->plan) < 0 ||
	    g->plan.max_points != ex->max_points)
		return msg_fail(err, errlen, "The test plan of %s handed to the grading process "
		    "is not a plan for it.", ex->slug);
	return 0;
}

int
grader_init(struct grader *g, const struct exercise *ex, const char *course_dir,
    const char *private_dir, char *err, size_t errlen)
{
	char why[1024], cache[PATH_MAX];
	struct run run;
	int have_cache;
	int rc = GRADER_ESYSTEM;

	if (grader_setup(g, ex, course_dir, private_dir, err, errlen) < 0)
		return GRADER_ESYSTEM;
	memset(&run, 0, sizeof run);
	have_cache = cache_path(ex, "plan", cache, sizeof cache) == 0;
	if (have_cache && plan_cache_read(cache, ex, &g->plan) == 0)
		return 0;
	if (run_harness(g, MODE_COLLECT, ex->scaffold, ex->scaffold_len, &run, err,
	    errlen) < 0)
		goto out;
	rc = GRADER_ECOURSE;
	if (!report_sandbox_ok(&run.tests.report, why, sizeof why)) {
		msg_fail(err, errlen, "The sandbox is not working (%s), so nothing can be graded. "
		    "Run tools/install-deps.sh; firejail said: %s", why, output_tail(&run.tests, 600));
		rc = GRADER_ESYSTEM;
		goto out;
	}
	if (run.tests.sb.end == SANDBOX_TIMED_OUT) {
		msg_fail(err, errlen, "hidden/%s: collecting the tests against the scaffold took "
		    "longer than timeout_s (%u s).", ex->slug, ex->timeout_s);
		goto out;
	}
	if (!run.tests.report.parse_ok || !run.tests.report.has_load || !run.tests.report.load_ok) {
		msg_fail(err, errlen, "exercises/%s/%s.py: the scaffold does not load: %s", ex->slug,
		    ex->slug, run.tests.report.has_load ? run.tests.report.load_message :
		    run.tests.report.has_parse ? run.tests.report.parse_message : output_tail(&run.tests, 600));
		goto out;
	}
	if (!run.tests.report.has_end || run.tests.report.exitstatus != 0) {
		msg_fail(err, errlen, "hidden/%s: pytest could not collect the tests:\n%s", ex->slug,
		    output_tail(&run.tests, GRADER_OUTPUT_SHOWN));
		goto out;
	}
	if (report_make_plan(&run.tests.report, ex->max_points, &g->plan, why, sizeof why) < 0) {
		/* A sentence a line, each naming where it is; whole lines only. */
		*err = '\0';
		for (char *line = why, *nl; *line; line = nl + (*nl != '\0')) {
			size_t used = strlen(err);
			int n;

			nl = line + strcspn(line, "\n");
			n = snprintf(err + used, errlen - used, "%shidden/%s: %.*s", used ? "\n" : "",
			    ex->slug, (int)(nl - line), line);
			if (used > 0 && (n < 0 || (size_t)n >= errlen - used)) {
				err[used] = '\0';
				break;
			}
		}
		goto out;
	}
	if (have_cache) {
		char *text = report_plan_to_json(&g->plan);

		cache_write(cache, text);
		free(text);
	}
	rc = 0;
out:
	run_free(&run);
	return rc;
}

int
grader_selftest(char *why, size_t whylen)
{
	const char *argv[] = { GRADER_PYTHON, "-I", "-B", ".markbook/run.py", "selftest",
		"--test-timeout", "1", NULL };
	const char *env[] = { "PATH=/usr/bin:/bin", "LANG=C.UTF-8", NULL };
	struct exercise ex = { .timeout_s = 30, .memory_mb = 256 };
	struct sandbox_job job = { 0 };
	struct grader g = { .ex = &ex };
	struct side side;
	char err[512], reason[256];
	int ok = 0;

	memset(&side, 0, sizeof side);
	if (sandbox_identity(&g.id, why, whylen) < 0)
		return 0;
	if (prepare_side(&g, 0, NULL, 0, &side, &job, err, sizeof err) < 0 ||
	    (job.argv = argv, job.env = env, sandbox_run(&job, &g.id, &side.sb, err,
	    sizeof err) < 0) || read_side(&side, err, sizeof err) < 0)
		snprintf(why, whylen, "The sandbox could not be started: %s", err);
	else if (!report_sandbox_ok(&side.report, reason, sizeof reason))
		snprintf(why, whylen, "The sandbox is not in force (%s). Run "
		    "tools/install-deps.sh and check firejail; it said: %s", reason,
		    output_tail(&side, 400));
	else
		ok = 1;
	side_free(&side);
	return ok;
}

static char *
xstrdup(const char *s)
{
	return strdup(s ? s : "");
}

static int
set_message(struct grade_result *res, const char *fmt, ...)
{
	va_list ap;
	int n;

	free(res->message);
	va_start(ap, fmt);
	n = vasprintf(&res->message, fmt, ap);
	va_end(ap);
	if (n < 0)
		res->message = NULL;
	return n < 0 ? -1 : 0;
}

/* Fill the per-test rows: every planned test, with what the run said. */
static int
fill_tests(const struct grader *g, const struct run *run, struct grade_result *res,
    const char *not_run)
{
	const struct test_plan *plan = &g->plan;
	struct report_outcome *out;

	if ((out = calloc(plan->n ? plan->n : 1, sizeof *out)) == NULL ||
	    (res->tests = calloc(plan->n ? plan->n : 1, sizeof *res->tests)) == NULL) {
		free(out);
		return -1;
	}
	res->score = report_score(plan, &run->tests.report, out);
	for (size_t i = 0; i < plan->n; i++) {
		struct grade_test *t = &res->tests[i];

		res->n_tests++;
		t->passed = out[i].passed;
		t->points = out[i].points;
		t->max_points = plan->tests[i].points;
		t->outcome = xstrdup(out[i].outcome ? out[i].outcome : "not run");
		t->message = xstrdup(out[i].outcome ? (t->passed ? "" : out[i].message) : not_run);
		t->detail = xstrdup(out[i].detail);
		t->seconds = out[i].duration;
		t->name = xstrdup(plan->tests[i].name);
		t->description = xstrdup(plan->tests[i].description);
		if (!t->outcome || !t->message || !t->detail || !t->name || !t->description) {
			free(out);
			return -1;
		}
	}
	free(out);
	return 0;
}

/* What the run printed, for the teacher: in process isolation the notebook's
 * side first, since that is where a student's prints went. */
static int
collect_output(const struct run *run, struct grade_result *res)
{
	const struct sandbox_result *t = &run->tests.sb, *st = &run->student.sb;
	int n;

	if (!run->isolated)
		n = asprintf(&res->output, "%.*s", (int)t->output_len, t->output);
	else
		n = asprintf(&res->output, "--- the notebook's sandbox ---\n%.*s\n"
		    "--- the tests' sandbox ---\n%.*s", (int)st->output_len, st->output,
		    (int)t->output_len, t->output);
	if (n < 0)
		res->output = NULL;
	return n < 0 ? -1 : 0;
}

static const char *
ended_how(const struct sandbox_result *sb, char *buf, size_t len)
{
	if (sb->end == SANDBOX_SIGNALED)
		snprintf(buf, len, "killed by signal %d", sb->code);
	else
		snprintf(buf, len, "exit status %d", sb->code);
	return buf;
}

/* Explain in `res->message` why a run that was graded scored what it did,
 * when something other than the tests decided. */
static int
explain(const struct grader *g, const struct run *run, struct grade_result *res)
{
	const struct report *r = &run->tests.report;
	const struct sandbox_result *sb = &run->tests.sb;
	char how[64];

	if (!r->parse_ok)
		return set_message(res, "%s", r->parse_message);
	if (sb->end == SANDBOX_DISK_FULL)
		return set_message(res, "The notebook wrote more than %d MiB of files (or more "
		    "than %d files); grading was stopped. Tests that had not finished score 0.",
		    GRADER_WRITE_MB, GRADER_ENTRIES_MAX);
	if (sb->end == SANDBOX_MEMORY_FULL)
		return set_message(res, "The notebook used more than %u MB of memory (all its "
		    "processes together), so grading was stopped. Tests that had not finished "
		    "score 0.", g->ex->memory_mb);
	if (sb->end == SANDBOX_TIMED_OUT)
		return set_message(res, r->has_load ? "Time limit: grading stopped after %u s. "
		    "Tests that had not finished score 0." : "Time limit: the notebook was still "
		    "loading after %u s. Look for an endless loop outside the functions.",
		    g->ex->timeout_s);
	if (!r->has_load)
		return set_message(res, "The notebook stopped the Python process while loading "
		    "(%s). Remove calls such as exit() or os._exit() from the notebook.",
		    ended_how(sb, how, sizeof how));
	if (!r->load_ok)
		return set_message(res, "%s", r->load_message);
	if (r->tampered)
		return set_message(res, "The submission tampered with the test run (%s), so it "
		    "scores 0.", r->tamper_message);
	if (!r->has_end)
		return set_message(res, "The notebook stopped the test run before all tests had "
		    "finished (%s). Tests that had not finished score 0.",
		    ended_how(sb, how, sizeof how));
	/* The loader's advice on a notebook that loaded (a tested function that
	 * only running its cells found), shown beside the score it does not
	 * change. */
	res->advice = r->load_message != NULL && *r->load_message != '\0';
	return set_message(res, "%s", res->advice ? r->load_message : "");
}

int
grader_grade(const struct grader *g, const char *source, size_t len,
    struct grade_result *res)
{
	const char *not_run = "did not run";
	char err[512], why[256];
	size_t bad;
	struct run run;
	int rc = -1;

	memset(res, 0, sizeof *res);
	memset(&run, 0, sizeof run);
	res->status = GRADE_DONE;
	res->max_points = g->ex->max_points;
	/* Refusals that need no sandbox: the file itself is unusable. */
	if (len > GRADER_SUBMISSION_MAX) {
		set_message(res, "The file is %.1f MiB; the limit is 1 MiB. Clear the "
		    "notebook's outputs or remove large data from it and submit again.",
		    (double)len / (1024 * 1024));
		goto unscored;
	}
	if (!fs_valid_utf8(source, len, &bad)) {
		set_message(res, "The file is not UTF-8 text (a bad byte at offset %zu). Save "
		    "the notebook from marimo as a .py file and submit that.", bad);
		goto unscored;
	}
	if (run_harness(g, MODE_RUN, source, len, &run, err, sizeof err) < 0) {
		res->status = GRADE_ERROR;
		set_message(res, "%s", err);
		goto unscored;
	}
	res->seconds = run.tests.sb.seconds;
	if (collect_output(&run, res) < 0)
		goto oom;
	for (int k = 0; k < 1 + run.isolated; k++) {
		const struct side *side = k == 0 ? &run.tests : &run.student;

		if (unstarted_in_limited_run(&run, side))
			continue;
		if (!report_sandbox_ok(&side->report, why, sizeof why)) {
			res->status = GRADE_ERROR;
			set_message(res, "The sandbox was not in force (%s), so the submission was "
			    "not graded. Run tools/install-deps.sh and check firejail. Output: %s",
			    why, output_tail(side, 600));
			goto unscored;
		}
	}
	if (!run.tests.report.has_parse) {
		res->status = GRADE_ERROR;
		set_message(res, "The grading harness failed before the notebook ran. "
		    "Output: %s", output_tail(run.isolated ? &run.student : &run.tests, 600));
		goto unscored;
	}
	res->flags = calloc(run.tests.report.n_flags + 1, sizeof *res->flags);
	for (size_t i = 0; res->flags && i < run.tests.report.n_flags; i++)
		if ((res->flags[res->n_flags++] = strdup(run.tests.report.flags[i])) == NULL)
			goto oom;
	if (res->flags == NULL)
		goto oom;
	if (run.tests.sb.end == SANDBOX_TIMED_OUT)
		not_run = "did not finish before the time limit";
	else if (run.tests.sb.end == SANDBOX_DISK_FULL)
		not_run = "did not finish: the notebook wrote too much";
	else if (run.tests.sb.end == SANDBOX_MEMORY_FULL)
		not_run = "did not finish: the notebook used too much memory";
	if (explain(g, &run, res) < 0 || fill_tests(g, &run, res, not_run) < 0)
		goto oom;
	rc = 0;
	goto out;
oom:
	res->status = GRADE_ERROR;
	set_message(res, "Out of memory while grading.");
	goto out;
unscored:
	/* Every planned test is listed, none passed. */
	if (fill_tests(g, &run, res, "not run") == 0)
		rc = res->status == GRADE_DONE ? 0 : -1;
	res->score = 0;
out:
	if (res->message == NULL)
		res->message = strdup("");
	run_free(&run);
	return rc;
}

/* Append a formatted sentence and a newline to `*text` (owned). */
static int
append_line(char **text, const char *fmt, ...)
{
	char *line = NULL, *joined = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	n = asprintf(&joined, "%s%s\n", *text ? *text : "", line);
	free(line);
	if (n < 0)
		return -1;
	free(*text);
	*text = joined;
	return 0;
}

/* What the harness says, and only says, when a value cannot cross between
 * the two sandboxes of process isolation: an ordinary exception of the
 * notebook's code never carries it. */
#define GRADER_CANNOT_CROSS	"cannot be sent between the sandboxes"

/* Whether a test's failure line says a file was not there. */
static int
file_missing(const struct grade_test *t)
{
	return strstr(t->message, "FileNotFoundError") != NULL ||
	    strstr(t->message, "No such file or directory") != NULL;
}

/* Judge one test's run on the reference solution: why it failed, with what
 * to do when a value could not cross between the sandboxes or a file was
 * missing, and a warning when it used more than half its time limit. */
static int
check_solution_test(const struct grader *g, const struct grade_test *t, struct grader_check *c)
{
	const struct exercise *ex = g->ex;

	if (t->seconds > ex->test_timeout_s / 2.0 && append_line(&c->warnings, "%s took %.1f s "
	    "on the reference solution, more than half of its time limit (test_timeout_s: %u "
	    "s): a correct but slower answer, or a busier machine, may run out of time. Raise "
	    "test_timeout_s in exercise.json or make the test do less.", t->name, t->seconds,
	    ex->test_timeout_s) < 0)
		return -1;
	if (t->passed)
		return 0;
	if (append_line(&c->problems, "%s fails on the reference solution: %s", t->name,
	    *t->message ? t->message : t->outcome) < 0)
		return -1;
	if (ex->isolation == COURSE_ISOLATION_PROCESS &&
	    (strstr(t->message, GRADER_CANNOT_CROSS) || strstr(t->detail, GRADER_CANNOT_CROSS)))
		return append_line(&c->warnings, "%s uses a value the two sandboxes cannot "
		    "exchange: set \"isolation\": \"shared\" in exercise.json, or make the "
		    "functions take and return plain values (numbers, strings, lists, dicts, "
		    "arrays, DataFrames).", t->name);
	if (file_missing(t))
		return append_line(&c->warnings, "%s: the reference solution did not find a file. "
		    "Files the notebook reads go in exercises/%s/ (subfolders kept: data/x.csv is "
		    "read as \"data/x.csv\"); files only the tests read go in hidden/%s/ (read "
		    "them with Path(__file__).parent / \"data\" / \"x.csv\"). Dot files, "
		    "__pycache__ and symbolic links are not staged.", t->name, ex->slug, ex->slug);
	return 0;
}

/* The scaffold's shape, from the harness's `notebook` record. */
static int
check_notebook(const struct grader *g, struct grader_check *c)
{
	const struct exercise *ex = g->ex;
	struct run run;
	char err[512];
	int rc = -1;

	if (run_harness(g, MODE_NOTEBOOK, ex->scaffold, ex->scaffold_len, &run, err,
	    sizeof err) < 0) {
		append_line(&c->problems, "%s", err);
		goto out;
	}
	if (!run.tests.report.has_notebook) {
		append_line(&c->problems, "The sandbox did not report on the scaffold: %s",
		    output_tail(&run.tests, 600));
		goto out;
	}
	rc = 0;
	if (!run.tests.report.marimo)
		rc = append_line(&c->problems, "exercises/%s/%s.py is not a marimo notebook: it "
		    "has no \"app = marimo.App(...)\". Save it from marimo (marimo edit).",
		    ex->slug, ex->slug);
	for (size_t i = 0; rc == 0 && i < run.tests.report.n_outside; i++)
		rc = append_line(&c->problems, "exercises/%s/%s.py: %s, which the tests import, "
		    "is not an @app.function (or @app.class_definition) of the scaffold, so "
		    "students' notebooks will not export it.", ex->slug, ex->slug,
		    run.tests.report.outside[i]);
out:
	run_free(&run);
	return rc;
}

int
grader_check(const struct grader *g, struct grader_check *c)
{
	const struct exercise *ex = g->ex;
	struct grade_result sol, scaf;
	char path[PATH_MAX], *source = NULL, a[POINTS_TEXT_MAX], b[POINTS_TEXT_MAX];
	size_t len = 0;
	int sum = 0, rc = -1;

	memset(c, 0, sizeof *c);
	memset(&sol, 0, sizeof sol);
	memset(&scaf, 0, sizeof scaf);
	c->max_points = ex->max_points;
	if ((c->problems = strdup("")) == NULL || (c->warnings = strdup("")) == NULL)
		goto out;
	snprintf(path, sizeof path, "%s/solution.py", ex->hidden_dir);
	if ((source = fs_read_file(path, GRADER_SUBMISSION_MAX, &len)) == NULL) {
		rc = append_line(&c->problems, "hidden/%s/solution.py: %s; write the reference "
		    "solution there, so markbook can check the tests against it.", ex->slug,
		    errno == ENOENT ? "missing" : strerror(errno));
		goto out;
	}
	if (grader_grade(g, source, len, &sol) < 0 || grader_grade(g, ex->scaffold,
	    ex->scaffold_len, &scaf) < 0) {
		append_line(&c->problems, "%s", sol.status == GRADE_ERROR ? sol.message :
		    scaf.message);
		goto out;
	}
	c->solution_score = sol.score;
	c->scaffold_score = scaf.score;
	c->solution_seconds = sol.seconds;
	if (*sol.message && append_line(sol.advice ? &c->warnings : &c->problems,
	    "The reference solution: %s", sol.message) < 0)
		goto out;
	if ((c->tests = calloc(g->plan.n ? g->plan.n : 1, sizeof *c->tests)) == NULL)
		goto out;
	for (size_t i = 0; i < g->plan.n && i < sol.n_tests && i < scaf.n_tests; i++) {
		struct grader_check_test *t = &c->tests[c->n_tests++];

		sum += g->plan.tests[i].points;
		t->points = g->plan.tests[i].points;
		t->solution_passed = sol.tests[i].passed;
		t->scaffold_passed = scaf.tests[i].passed;
		if ((t->name = strdup(g->plan.tests[i].name)) == NULL ||
		    (t->solution_message = strdup(sol.tests[i].message)) == NULL ||
		    asprintf(&t->problem, "%s", !t->solution_passed ? "fails on the reference "
		    "solution" : t->scaffold_passed ? "passes on the unchanged scaffold: it hands "
		    "out free points" : "") < 0 || check_solution_test(g, &sol.tests[i], c) < 0)
			goto out;
		if (t->scaffold_passed && append_line(&c->problems, "%s passes on the unchanged "
		    "scaffold: it hands out %s free points. Make it fail on the stub.", t->name,
		    points_format(t->points, a)) < 0)
			goto out;
		if (t->points <= 0 && append_line(&c->problems, "%s is worth no points: give its "
		    "function more points (@pytest.mark.points) or fewer cases.", t->name) < 0)
			goto out;
	}
	if (sum != ex->max_points && append_line(&c->problems, "The tests' points add up to "
	    "%s, not max_points (%s): change the markers or max_points in exercise.json.",
	    points_format(sum, a), points_format(ex->max_points, b)) < 0)
		goto out;
	if (check_notebook(g, c) < 0)
		goto out;
	c->ok = *c->problems == '\0';
	rc = 0;
out:
	free(source);
	grader_result_free(&sol);
	grader_result_free(&scaf);
	return rc;
}

void
grader_check_free(struct grader_check *c)
{
	for (size_t i = 0; i < c->n_tests; i++) {
		free(c->tests[i].name);
		free(c->tests[i].solution_message);
		free(c->tests[i].problem);
	}
	free(c->tests);
	free(c->problems);
	free(c->warnings);
	memset(c, 0, sizeof *c);
}

cJSON *
grader_check_json(const struct grader_check *c)
{
	cJSON *o = cJSON_CreateObject(), *tests;

	cJSON_AddBoolToObject(o, "ok", c->ok);
	cJSON_AddNumberToObject(o, "solution_score", points_number(c->solution_score));
	cJSON_AddNumberToObject(o, "scaffold_score", points_number(c->scaffold_score));
	cJSON_AddNumberToObject(o, "max_points", points_number(c->max_points));
	cJSON_AddNumberToObject(o, "solution_seconds", c->solution_seconds);
	cJSON_AddStringToObject(o, "problems", c->problems ? c->problems : "");
	cJSON_AddStringToObject(o, "warnings", c->warnings ? c->warnings : "");
	tests = cJSON_AddArrayToObject(o, "tests");
	for (size_t i = 0; tests && i < c->n_tests; i++) {
		const struct grader_check_test *t = &c->tests[i];
		cJSON *jt = cJSON_CreateObject();

		cJSON_AddItemToArray(tests, jt);
		cJSON_AddStringToObject(jt, "name", t->name);
		cJSON_AddNumberToObject(jt, "points", points_number(t->points));
		cJSON_AddBoolToObject(jt, "solution_passed", t->solution_passed);
		cJSON_AddBoolToObject(jt, "scaffold_passed", t->scaffold_passed);
		cJSON_AddStringToObject(jt, "solution_message", t->solution_message);
		cJSON_AddStringToObject(jt, "problem", t->problem);
	}
	return o;
}

char *
grader_check_to_json(const struct grader_check *c, const char *slug)
{
	cJSON *o = grader_check_json(c);
	char *text = NULL;

	if (o != NULL && cJSON_AddStringToObject(o, "slug", slug) != NULL)
		text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

/* The number at `key` of `o` when there is one in [lo, hi]. Returns 0 or -1. */
static int
json_number(const cJSON *o, const char *key, double lo, double hi, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo && v->valuedouble <= hi))
		return -1;
	*out = v->valuedouble;
	return 0;
}

/* Points or a score, written in points (7.5) with at most two decimals, as
 * hundredths. Returns 0 or -1. */
static int
json_points(const cJSON *o, const char *key, int *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) && points_from_number(v->valuedouble, POINTS_MAX, out) == 0 ?
	    0 : -1;
}

static int
json_bool(const cJSON *o, const char *key, int *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	*out = cJSON_IsTrue(v);
	return cJSON_IsBool(v) ? 0 : -1;
}

/* A copy of the string at `key` of `o`. Returns 0, or -1 when there is no
 * string there or no memory. */
static int
json_strdup(const cJSON *o, const char *key, char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) && (*out = strdup(v->valuestring)) != NULL ? 0 : -1;
}

int
grader_check_from_json(const char *text, size_t len, const char *slug,
    const struct test_plan *plan, struct grader_check *c)
{
	cJSON *o = json_parse(text, len, NULL, NULL), *tests, *it;
	const cJSON *kept_slug = cJSON_GetObjectItemCaseSensitive(o, "slug");
	const struct plan_test *p = plan->tests;
	int rc = -1;

	memset(c, 0, sizeof *c);
	tests = cJSON_GetObjectItemCaseSensitive(o, "tests");
	if (!cJSON_IsObject(o) || !cJSON_IsString(kept_slug) ||
	    strcmp(kept_slug->valuestring, slug) != 0 || json_bool(o, "ok", &c->ok) < 0 ||
	    json_points(o, "solution_score", &c->solution_score) < 0 ||
	    json_points(o, "scaffold_score", &c->scaffold_score) < 0 ||
	    json_points(o, "max_points", &c->max_points) < 0 ||
	    json_number(o, "solution_seconds", 0, 1e9, &c->solution_seconds) < 0 ||
	    json_strdup(o, "problems", &c->problems) < 0 ||
	    json_strdup(o, "warnings", &c->warnings) < 0 || !cJSON_IsArray(tests) ||
	    (size_t)cJSON_GetArraySize(tests) != plan->n ||
	    (c->tests = calloc(plan->n ? plan->n : 1, sizeof *c->tests)) == NULL)
		goto out;
	cJSON_ArrayForEach(it, tests) {
		struct grader_check_test *t = &c->tests[c->n_tests++];

		if (json_strdup(it, "name", &t->name) < 0 || strcmp(t->name, p->name) != 0 ||
		    json_points(it, "points", &t->points) < 0 || t->points != p->points ||
		    json_bool(it, "solution_passed", &t->solution_passed) < 0 ||
		    json_bool(it, "scaffold_passed", &t->scaffold_passed) < 0 ||
		    json_strdup(it, "solution_message", &t->solution_message) < 0 ||
		    json_strdup(it, "problem", &t->problem) < 0)
			goto out;
		p++;
	}
	rc = 0;
out:
	if (rc < 0)
		grader_check_free(c);
	cJSON_Delete(o);
	return rc;
}

/* Whether a kept verdict is one grader_check() gives as a pass on this
 * exercise. Only passes are kept, and a pass fixes every field but the
 * solution's run time, so anything else is a damaged or altered file. */
static int
kept_pass(const struct grader *g, const struct grader_check *c)
{
	if (!c->ok || *c->problems || c->max_points != g->ex->max_points ||
	    c->solution_score != c->max_points || c->scaffold_score != 0)
		return 0;
	for (size_t i = 0; i < c->n_tests; i++)
		if (!c->tests[i].solution_passed || c->tests[i].scaffold_passed ||
		    *c->tests[i].problem)
			return 0;
	return 1;
}

int
grader_check_kept(const struct grader *g, struct grader_check *c)
{
	char path[PATH_MAX], after[PATH_MAX], *text;
	size_t len;
	int rc;

	if (cache_path(g->ex, "gate", path, sizeof path) < 0)
		return grader_check(g, c);
	if ((text = fs_read_file(path, GRADER_KEPT_MAX, &len)) != NULL) {
		rc = grader_check_from_json(text, len, g->ex->slug, &g->plan, c);
		free(text);
		if (rc == 0 && kept_pass(g, c))
			return 0;
		grader_check_free(c);
	}
	if ((rc = grader_check(g, c)) < 0 || !c->ok)
		return rc;
	/* A file the teacher changed while the gate ran: the verdict may be on
	 * either version, so it is not kept under either. */
	if (cache_path(g->ex, "gate", after, sizeof after) < 0 || strcmp(path, after) != 0)
		return rc;
	text = grader_check_to_json(c, g->ex->slug);
	cache_write(path, text);
	free(text);
	return rc;
}

void
grader_result_free(struct grade_result *res)
{
	for (size_t i = 0; i < res->n_flags; i++)
		free(res->flags[i]);
	free(res->flags);
	for (size_t i = 0; i < res->n_tests; i++) {
		struct grade_test *t = &res->tests[i];

		free(t->name);
		free(t->description);
		free(t->outcome);
		free(t->message);
		free(t->detail);
	}
	free(res->tests);
	free(res->message);
	free(res->output);
	memset(res, 0, sizeof *res);
}

void
grader_free(struct grader *g)
{
	report_plan_free(&g->plan);
	memset(g, 0, sizeof *g);
}

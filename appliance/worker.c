#include "worker.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "msg.h"
#include "sandbox.h"
#include "wire.h"

#ifdef MARKBOOK_FAULTS
#include <alloca.h>
#include <pthread.h>
#endif

extern char **environ;

#define EXE_FD		3	/* the binary, in the supervisor until it execs */
#define FD_FLOOR	10	/* our descriptors stay above what the spawn places */
#define CHUNK		(64 * 1024)
#define REAP_POLL_MS	100

/* The binary markbook was started from, open since worker_init(). */
static int exe_fd = -1;

/* Every member of struct exercise: the grading child grades with exactly the
 * exercise the server loaded. A new member of the struct needs its line. */
static const struct wire_field exercise_fields[] = {
	WIRE_FIELD_CHARS(struct exercise, slug),
	WIRE_FIELD_TEXT(struct exercise, title, COURSE_JSON_MAX),
	WIRE_FIELD_INT(struct exercise, phase, 1, 2),
	WIRE_FIELD_INT(struct exercise, max_points, 0, INT_MAX),
	WIRE_FIELD_NULLABLE(struct exercise, due_at, COURSE_JSON_MAX),
	WIRE_FIELD_INT(struct exercise, due, LLONG_MIN / 2, LLONG_MAX / 2),
	WIRE_FIELD_INT(struct exercise, timeout_s, 0, UINT_MAX),
	WIRE_FIELD_INT(struct exercise, test_timeout_s, 0, UINT_MAX),
	WIRE_FIELD_INT(struct exercise, memory_mb, 0, UINT_MAX),
	WIRE_FIELD_INT(struct exercise, feedback, 0, COURSE_FEEDBACK_NEVER),
	WIRE_FIELD_INT(struct exercise, isolation, 0, COURSE_ISOLATION_SHARED),
	WIRE_FIELD_INT(struct exercise, late, 0, 1),
	WIRE_FIELD_INT(struct exercise, late_penalty, 0, 100),
	WIRE_FIELD_INT(struct exercise, late_max_days, 0, UINT_MAX),
	WIRE_FIELD_TEXT(struct exercise, dir, PATH_MAX),
	WIRE_FIELD_TEXT(struct exercise, hidden_dir, PATH_MAX),
	WIRE_FIELD_BYTES(struct exercise, scaffold, scaffold_len, COURSE_FILE_MAX),
	WIRE_FIELD_LIST(struct exercise, data_files, n_data_files, COURSE_FILES_MAX, PATH_MAX),
	WIRE_FIELD_LIST(struct exercise, hidden_files, n_hidden_files, COURSE_FILES_MAX, PATH_MAX),
	WIRE_FIELD_LIST(struct exercise, test_files, n_test_files, COURSE_FILES_MAX, PATH_MAX),
};

static const struct wire_field request_fields[] = {
	WIRE_FIELD_CHARS(struct worker_request, course_dir),
	WIRE_FIELD_CHARS(struct worker_request, private_dir),
	WIRE_FIELD_BYTES(struct worker_request, plan, plan_len, REPORT_TESTS_MAX * 4096),
};

/* Every member of struct grade_result but its flags and tests, which follow
 * as lists. Scores are only bounded here; worker_result_decode() checks
 * them against each other and the plan. */
static const struct wire_field result_fields[] = {
	WIRE_FIELD_INT(struct grade_result, status, GRADE_DONE, GRADE_ERROR),
	WIRE_FIELD_INT(struct grade_result, score, 0, INT_MAX),
	WIRE_FIELD_INT(struct grade_result, max_points, 0, INT_MAX),
	WIRE_FIELD_DOUBLE(struct grade_result, seconds, 0, 1e9),
	WIRE_FIELD_TEXT(struct grade_result, message, WORKER_TEXT_MAX),
	WIRE_FIELD_TEXT(struct grade_result, output, WORKER_TEXT_MAX),
	WIRE_FIELD_INT(struct grade_result, advice, 0, 1),
	WIRE_FIELD_LIST(struct grade_result, flags, n_flags, REPORT_FLAGS_MAX, WORKER_TEXT_MAX),
};

static const struct wire_field test_fields[] = {
	WIRE_FIELD_TEXT(struct grade_test, name, WORKER_TEXT_MAX),
	WIRE_FIELD_TEXT(struct grade_test, description, WORKER_TEXT_MAX),
	WIRE_FIELD_INT(struct grade_test, passed, 0, 1),
	WIRE_FIELD_INT(struct grade_test, points, 0, INT_MAX),
	WIRE_FIELD_INT(struct grade_test, max_points, 0, INT_MAX),
	WIRE_FIELD_TEXT(struct grade_test, outcome, WORKER_TEXT_MAX),
	WIRE_FIELD_TEXT(struct grade_test, message, WORKER_TEXT_MAX),
	WIRE_FIELD_TEXT(struct grade_test, detail, WORKER_TEXT_MAX),
	WIRE_FIELD_DOUBLE(struct grade_test, seconds, 0, 1e9),
};

#define N_OF(a)	(sizeof (a) / sizeof (a)[0])

int
worker_request_encode(const struct grader *g, const char *source, size_t len, char **out,
    size_t *outlen)
{
	struct worker_request req;
	struct wire_buf b = { 0 };
	char *plan = report_plan_to_json(&g->plan);

	*out = NULL;
	*outlen = 0;
	if (plan == NULL)
		return -1;
	memset(&req, 0, sizeof req);
	snprintf(req.course_dir, sizeof req.course_dir, "%s", g->course_dir);
	snprintf(req.private_dir, sizeof req.private_dir, "%s", g->private_dir);
	req.plan = plan;
	req.plan_len = strlen(plan);
	wire_put_header(&b, "request");
	wire_put_struct(&b, exercise_fields, N_OF(exercise_fields), g->ex);
	wire_put_struct(&b, request_fields, N_OF(request_fields), &req);
	/* A file over the limit is refused unread, so only its size goes. */
	wire_put_int(&b, "len", (long long)len);
	wire_put_field(&b, "source", source && len <= GRADER_SUBMISSION_MAX ? source : "",
	    source && len <= GRADER_SUBMISSION_MAX ? len : 0);
	wire_put_end(&b);
	free(plan);
	if (b.failed)
		return -1;
	*out = b.data;
	*outlen = b.len;
	return 0;
}

int
worker_request_decode(const char *buf, size_t len, struct worker_request *req, char *err,
    size_t errlen)
{
	struct wire_reader r = { buf, buf + len, err, errlen, 0 };
	const char *src;
	size_t srclen;
	long long n;

	memset(req, 0, sizeof *req);
	if (wire_get_header(&r, "request") < 0 ||
	    wire_get_struct(&r, exercise_fields, N_OF(exercise_fields), &req->ex) < 0 ||
	    wire_get_struct(&r, request_fields, N_OF(request_fields), req) < 0 ||
	    wire_get_int(&r, "len", 0, LLONG_MAX / 2, &n) < 0 ||
	    wire_get_field(&r, "source", GRADER_SUBMISSION_MAX, &src, &srclen) < 0 ||
	    wire_get_end(&r) < 0)
		goto fail;
	req->len = (size_t)n;
	if (req->len <= GRADER_SUBMISSION_MAX) {
		if (srclen != req->len) {
			wire_fail(&r, "source", "is not as long as \"len\" says");
			goto fail;
		}
		if ((req->source = malloc(srclen + 1)) == NULL) {
			wire_fail(&r, "source", "does not fit in memory");
			goto fail;
		}
		memcpy(req->source, src, srclen);
		req->source[srclen] = '\0';
	}
	return 0;
fail:
	worker_request_free(req);
	return -1;
}

void
worker_request_free(struct worker_request *req)
{
	course_exercise_free(&req->ex);
	free(req->plan);
	free(req->source);
	memset(req, 0, sizeof *req);
}

int
worker_result_encode(const struct grade_result *res, char **out, size_t *outlen)
{
	struct wire_buf b = { 0 };

	wire_put_header(&b, "result");
	wire_put_struct(&b, result_fields, N_OF(result_fields), res);
	wire_put_int(&b, "tests", (long long)res->n_tests);
	for (size_t i = 0; i < res->n_tests; i++)
		wire_put_struct(&b, test_fields, N_OF(test_fields), &res->tests[i]);
	wire_put_end(&b);
	*out = b.data;
	*outlen = b.len;
	return b.failed ? -1 : 0;
}

/* What a whole result must be beyond its fields' own bounds. */
static int
result_consistent(const struct grade_result *res, const struct test_plan *plan, char *err,
    size_t errlen)
{
	if (res->score > res->max_points)
		return msg_fail(err, errlen, "a score of %lld out of %lld",
		    (long long)res->score, (long long)res->max_points);
	if (res->n_tests > plan->n)
		return msg_fail(err, errlen, "%zu tests where the plan has %zu", res->n_tests,
		    plan->n);
	for (size_t i = 0; i < res->n_tests; i++) {
		const struct grade_test *t = &res->tests[i];

		if (strcmp(t->name, plan->tests[i].name) != 0)
			return msg_fail(err, errlen, "test %zu is not the plan's %s", i + 1,
			    plan->tests[i].name);
		if (t->points > t->max_points)
			return msg_fail(err, errlen, "test %zu scores %lld of %lld", i + 1,
			    (long long)t->points, (long long)t->max_points);
	}
	return 0;
}

int
worker_result_decode(const char *buf, size_t len, const struct test_plan *plan,
    struct grade_result *res, char *err, size_t errlen)
{
	struct wire_reader r = { buf, buf + len, err, errlen, 0 };
	long long n;

	memset(res, 0, sizeof *res);
	if (wire_get_header(&r, "result") < 0 ||
	    wire_get_struct(&r, result_fields, N_OF(result_fields), res) < 0 ||
	    wire_get_int(&r, "tests", 0, REPORT_TESTS_MAX, &n) < 0)
		goto fail;
	if ((res->tests = calloc((size_t)n + 1, sizeof *res->tests)) == NULL) {
		wire_fail(&r, "tests", "do not fit in memory");
		goto fail;
	}
	for (res->n_tests = 0; res->n_tests < (size_t)n; res->n_tests++)
		if (wire_get_struct(&r, test_fields, N_OF(test_fields), &res->tests[res->n_tests]) < 0) {
			res->n_tests++;	/* what it holds is freed with the rest */
			goto fail;
		}
	if (wire_get_end(&r) < 0 || result_consistent(res, plan, err, errlen) < 0)
		goto fail;
	return 0;
fail:
	grader_result_free(res);
	return -1;
}

int
worker_init(char *err, size_t errlen)
{
	int fd;

	if (exe_fd >= 0)
		return 0;
	/* /proc/self/exe is the file this process runs even when a new build
	 * replaced it on disk: grading children run the same code as markbook. */
	if ((fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC)) < 0)
		return msg_fail(err, errlen, "Cannot open markbook's own program file "
		    "(/proc/self/exe) to start grading processes: %s.", strerror(errno));
	if ((exe_fd = fcntl(fd, F_DUPFD_CLOEXEC, FD_FLOOR)) < 0) {
		msg_fail(err, errlen, "Cannot keep markbook's own program file open: %s.",
		    strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* "signal 11 (SIGSEGV)" */
static const char *
signal_text(int sig, char *buf, size_t len)
{
	const char *abbrev = sigabbrev_np(sig);

	if (abbrev)
		snprintf(buf, len, "signal %d (SIG%s)", sig, abbrev);
	else
		snprintf(buf, len, "signal %d", sig);
	return buf;
}

/* A failed grading: every planned test not run, and why in a sentence. */
static void
fail_result(const struct grader *g, struct grade_result *res, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
fail_result(const struct grader *g, struct grade_result *res, const char *fmt, ...)
{
	va_list ap;

	grader_result_free(res);
	res->status = GRADE_ERROR;
	res->max_points = g->ex->max_points;
	va_start(ap, fmt);
	if (vasprintf(&res->message, fmt, ap) < 0)
		res->message = NULL;
	va_end(ap);
	res->output = strdup("");
	if ((res->tests = calloc(g->plan.n + 1, sizeof *res->tests)) == NULL)
		return;
	for (size_t i = 0; i < g->plan.n; i++) {
		struct grade_test *t = &res->tests[res->n_tests++];

		t->max_points = g->plan.tests[i].points;
		t->name = strdup(g->plan.tests[i].name);
		t->description = strdup(g->plan.tests[i].description);
		t->outcome = strdup("not run");
		t->message = strdup("not run");
		t->detail = strdup("");
		if (!t->name || !t->description || !t->outcome || !t->message || !t->detail)
			break;	/* out of memory: the sentence alone must do */
	}
	if (res->n_tests < g->plan.n) {
		struct grade_result keep = { .message = res->message, .output = res->output };

		res->message = res->output = NULL;
		grader_result_free(res);
		res->status = GRADE_ERROR;
		res->max_points = g->ex->max_points;
		res->message = keep.message;
		res->output = keep.output;
	}
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Start the supervisor on `sock` (its standard input and output).
 * Returns 0 or an errno value. */
static int
spawn(const struct grader *g, int sock, unsigned seconds, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	char path[32], secs[16], slug[COURSE_SLUG_MAX + 1];
	char *argv[] = { "markbook", WORKER_COMMAND, secs, slug, NULL };
	int rc;

	if (exe_fd < 0)
		return EBADF;
	snprintf(path, sizeof path, "/proc/self/fd/%d", EXE_FD);
	snprintf(secs, sizeof secs, "%u", seconds);
	snprintf(slug, sizeof slug, "%s", g->ex->slug);
	sigemptyset(&none);
	sigfillset(&all);
	if ((rc = posix_spawn_file_actions_init(&fa)) != 0)
		return rc;
	if ((rc = posix_spawnattr_init(&at)) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return rc;
	}
	/* Both descriptors are above FD_FLOOR, so no dup2 here overwrites the
	 * other before it is placed; nothing else of the server's is inherited. */
	if ((rc = posix_spawn_file_actions_adddup2(&fa, sock, 0)) != 0 ||
	    (rc = posix_spawn_file_actions_adddup2(&fa, sock, 1)) != 0 ||
	    (rc = posix_spawn_file_actions_adddup2(&fa, exe_fd, EXE_FD)) != 0 ||
	    (rc = posix_spawn_file_actions_addclosefrom_np(&fa, EXE_FD + 1)) != 0 ||
	    /* Its own process group: Ctrl-C in markbook's terminal stops the
	     * server, which lets gradings in progress finish. The web server
	     * ignores SIGPIPE and blocks SIGINT and friends: not the child. */
	    (rc = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF)) != 0 ||
	    (rc = posix_spawnattr_setpgroup(&at, 0)) != 0 ||
	    (rc = posix_spawnattr_setsigmask(&at, &none)) != 0 ||
	    (rc = posix_spawnattr_setsigdefault(&at, &all)) != 0)
		goto out;
	/* posix_spawn() starts the child with vfork semantics, not by copying
	 * the server's memory (sandbox.c says why that matters). */
	rc = posix_spawn(pid, path, &fa, &at, argv, environ);
out:
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	return rc;
}

/* Send the request and read the result until the child closes the socket,
 * or until `deadline`. Returns 0, or -1 when the deadline passed or the
 * result grew past WORKER_RESULT_MAX (`why` says which). */
static int
exchange(int sock, const char *req, size_t reqlen, struct wire_buf *result, double deadline,
    const char **why)
{
	size_t sent = 0;
	char *chunk = malloc(CHUNK);
	int rc = -1;

	*why = "out of memory";
	if (chunk == NULL)
		return -1;
	for (;;) {
		struct pollfd pfd = { .fd = sock, .events = POLLIN };
		double left = deadline - now_s();
		ssize_t n;

		if (sent < reqlen)
			pfd.events |= POLLOUT;
		if (left <= 0) {
			*why = "timeout";
			goto out;
		}
		if (poll(&pfd, 1, (int)(left * 1000) + 1) < 0) {
			if (errno == EINTR)
				continue;
			*why = strerror(errno);
			goto out;
		}
		if ((pfd.revents & POLLOUT) && sent < reqlen) {
			n = send(sock, req + sent, reqlen - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n > 0)
				sent += (size_t)n;
			else if (n < 0 && errno != EAGAIN && errno != EINTR)
				sent = reqlen;	/* the child is gone: read what it left */
			if (sent == reqlen)
				shutdown(sock, SHUT_WR);
		}
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			n = recv(sock, chunk, CHUNK, MSG_DONTWAIT);
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
				break;
			if (n > 0) {
				if (result->len + (size_t)n > WORKER_RESULT_MAX) {
					*why = "too large";
					goto out;
				}
				wire_put(result, chunk, (size_t)n);
				if (result->failed)
					goto out;
			}
		}
	}
	rc = 0;
out:
	free(chunk);
	return rc;
}

/* Reap the supervisor `pid`, then, when it was killed, whatever of its
 * process group became ours: a grading child whose supervisor was killed
 * ends its grading on its own clock, which cleans up its sandboxes. At
 * `deadline` whatever is left of the group is killed. Returns the
 * supervisor's wait status. */
static int
reap(pid_t pid, double deadline)
{
	int status = 0, pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	siginfo_t si;

	/* The supervisor keeps its own clock; this one is for a supervisor
	 * that does not (without a pidfd, as under valgrind, it is trusted). */
	if (pidfd >= 0) {
		struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
		double left;

		while ((left = deadline - now_s()) > 0 &&
		    poll(&pfd, 1, (int)(left * 1000) + 1) <= 0)
			;
		if (left <= 0)
			kill(-pid, SIGKILL);
		close(pidfd);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	/* A supervisor that exited reaped everything below it. (The group's
	 * number stays its own only while a member lives.) */
	while (WIFSIGNALED(status)) {
		memset(&si, 0, sizeof si);
		if (waitid(P_PGID, (id_t)pid, &si, WEXITED | WNOHANG) < 0) {
			if (errno == EINTR)
				continue;
			break;		/* ECHILD: nothing of it is left */
		}
		if (si.si_pid != 0)
			continue;
		if (now_s() >= deadline) {
			kill(-pid, SIGKILL);
			while (waitid(P_PGID, (id_t)pid, &si, WEXITED) == 0 || errno == EINTR)
				;
			break;
		}
		poll(NULL, 0, REAP_POLL_MS);
	}
	return status;
}

/* How the supervisor's exit `status` and the `result` it left read, into
 * `res`. Returns 0, or WORKER_EFAILED when they tell a failure. */
static int
interpret(const struct grader *g, int status, const struct wire_buf *result, unsigned seconds,
    struct grade_result *res)
{
	char how[64], why[256];
	int code;

	if (WIFSIGNALED(status)) {
		fail_result(g, res, "The grading process was killed by %s, so the submission "
		    "was not graded.", signal_text(WTERMSIG(status), how, sizeof how));
		return WORKER_EFAILED;
	}
	code = WEXITSTATUS(status);
	if (code > 128) {
		fail_result(g, res, "The grading process was killed by %s, so the submission "
		    "was not graded.", signal_text(code - 128, how, sizeof how));
	} else if (code == WORKER_EXIT_TIMEOUT) {
		fail_result(g, res, "The grading process did not finish within %u s, so it was "
		    "stopped and the submission was not graded.", seconds);
	} else if (code == WORKER_EXIT_START) {
		fail_result(g, res, "The grading process could not start (out of processes or "
		    "memory?), so the submission was not graded.");
	} else if (code != WORKER_EXIT_OK) {
		fail_result(g, res, "The grading process stopped with exit status %d, so the "
		    "submission was not graded.", code);
	} else if (result->len == 0) {
		fail_result(g, res, "The grading process ended without writing a result, so "
		    "the submission was not graded.");
	} else if (worker_result_decode(result->data, result->len, &g->plan, res, why,
	    sizeof why) < 0) {
		fail_result(g, res, "The grading process wrote a malformed result (%s), so the "
		    "submission was not graded.", why);
	} else
		return 0;
	return WORKER_EFAILED;
}

int
worker_grade(const struct grader *g, const char *source, size_t len,
    struct grade_result *res)
{
	unsigned seconds = g->ex->timeout_s + WORKER_SLACK_S;
	double deadline = now_s() + seconds + WORKER_BACKSTOP_S;
	struct wire_buf result = { 0 };
	char *req = NULL;
	const char *why = NULL;
	size_t reqlen = 0;
	int sv[2] = { -1, -1 }, fd, rc = WORKER_EFAILED, err, status;
	pid_t pid;

	memset(res, 0, sizeof *res);
	if (worker_request_encode(g, source, len, &req, &reqlen) < 0) {
		fail_result(g, res, "Out of memory while grading.");
		goto out;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		fail_result(g, res, "Cannot start a grading process: %s.", strerror(errno));
		goto out;
	}
	for (int i = 0; i < 2; i++) {
		if ((fd = fcntl(sv[i], F_DUPFD_CLOEXEC, FD_FLOOR)) < 0) {
			fail_result(g, res, "Cannot start a grading process: %s.", strerror(errno));
			goto out;
		}
		close(sv[i]);
		sv[i] = fd;
	}
	if ((err = spawn(g, sv[1], seconds, &pid)) != 0) {
		fail_result(g, res, "Cannot start a grading process: %s.", strerror(err));
		goto out;
	}
	close(sv[1]);
	sv[1] = -1;
	if (exchange(sv[0], req, reqlen, &result, deadline, &why) < 0) {
		/* Past the supervisor's own clock, or a result no grading makes:
		 * the supervisor stops the grading child and its sandboxes. */
		kill(pid, SIGTERM);
		reap(pid, now_s() + WORKER_BACKSTOP_S);
		fail_result(g, res, "The grading process %s, so the submission was not graded.",
		    strcmp(why, "timeout") == 0 ? "did not answer in time and was stopped" :
		    strcmp(why, "too large") == 0 ? "wrote a result larger than any grading "
		    "makes" : "could not be read from");
		goto out;
	}
	status = reap(pid, deadline);
	if ((rc = interpret(g, status, &result, seconds, res)) == 0)
		rc = res->status == GRADE_DONE ? 0 : -1;
out:
	if (res->message == NULL)
		res->message = strdup("");
	for (int i = 0; i < 2; i++)
		if (sv[i] >= 0)
			close(sv[i]);
	free(req);
	free(result.data);
	return rc;
}

/* The supervisor's side, from here on. */

/* Kill every child of this process and its process group (a sandbox: each
 * is a session of its own). Only the supervisor calls this, whose only
 * child of its own, the grading child, is gone: every other child is a
 * sandbox process the grading child left behind. */
static void
kill_children(void)
{
	pid_t me = getpid();
	struct dirent *de;
	DIR *d = opendir("/proc");

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char path[64], stat[512], *close_paren;
		long pid = strtol(de->d_name, NULL, 10);
		long ppid;
		ssize_t n;
		int fd;

		if (pid <= 0)
			continue;
		snprintf(path, sizeof path, "/proc/%ld/stat", pid);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		n = read(fd, stat, sizeof stat - 1);
		close(fd);
		if (n <= 0)
			continue;
		stat[n] = '\0';
		/* pid (comm) state ppid ...; comm may hold anything, even ")". */
		if ((close_paren = strrchr(stat, ')')) == NULL ||
		    sscanf(close_paren + 1, " %*c %ld", &ppid) != 1 || ppid != (long)me)
			continue;
		kill(-(pid_t)pid, SIGKILL);
		kill((pid_t)pid, SIGKILL);
	}
	closedir(d);
}

/* Kill and reap everything left below the supervisor. */
static void
sweep(void)
{
	for (;;) {
		pid_t p;
		int st;

		while ((p = waitpid(-1, &st, WNOHANG)) > 0)
			;
		if (p < 0 && errno != EINTR)
			return;		/* ECHILD */
		if (p == 0)
			kill_children();
		if (waitpid(-1, &st, 0) < 0 && errno == ECHILD)
			return;
	}
}

static int
exit_code(int status)
{
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	if (WIFEXITED(status) && WEXITSTATUS(status) < WORKER_EXIT_OTHER)
		return WEXITSTATUS(status);
	return WORKER_EXIT_OTHER;
}

/* Wait for the grading child `pid` for at most `seconds`, or until markbook
 * goes away (SIGTERM: the parent-death signal) or asks us to stop. Returns
 * the supervisor's exit status. Signals in `set` are blocked. */
static int
supervise(pid_t pid, unsigned seconds, const sigset_t *set)
{
	double deadline = now_s() + seconds;
	int status, code;

	for (;;) {
		double left = deadline - now_s();
		struct timespec ts;
		siginfo_t si;
		pid_t p;
		int sig;

		if (left <= 0) {
			code = WORKER_EXIT_TIMEOUT;
			break;
		}
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		if ((sig = sigtimedwait(set, &si, &ts)) < 0)
			continue;	/* EAGAIN: look at the clock; EINTR */
		if (sig != SIGCHLD) {
			code = WORKER_EXIT_STOPPED;
			break;
		}
		while ((p = waitpid(-1, &status, WNOHANG)) > 0)
			if (p == pid)
				return exit_code(status);
	}
	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return code;
}

static int grading_child(void);

int
worker_main(int argc, char **argv)
{
	sigset_t set, none;
	struct stat st;
	unsigned long seconds;
	char *end;
	pid_t pid;
	int code, null;

	if (argc != 3 || fstat(0, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		fprintf(stderr, "markbook: \"%s\" is markbook's own command for grading one "
		    "submission; markbook serve and markbook grade run it.\n", WORKER_COMMAND);
		return 2;
	}
	errno = 0;
	seconds = strtoul(argv[1], &end, 10);
	if (errno || *end || seconds == 0 || seconds > 24 * 3600)
		return WORKER_EXIT_REQUEST;
	close(EXE_FD);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	/* markbook went away: stop grading for it. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if ((pid = fork()) < 0)
		return WORKER_EXIT_START;
	if (pid == 0) {
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		exit(grading_child());
	}
	/* The socket is the grading child's alone: its end of file is the
	 * parent's end of the result. */
	if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		close(null);
	}
	code = supervise(pid, (unsigned)seconds, &set);
	sweep();
	/* Returning ends the supervisor, and with it (sandbox_init() made them
	 * for this process) its stage root and mount namespace: whatever a
	 * grading child that died left staged or mounted goes with them. */
	return code;
}

#ifdef MARKBOOK_FAULTS
/* Test builds only (make $(BUILD)/markbook-faults): a notebook holding the
 * text "markbook-fault: KIND [MS]" makes its grading child fail as KIND says,
 * MS milliseconds after its grading started (or as soon as it ended, when
 * sooner). A normal build has none of this. */
static struct fault {
	char kind[16];
	long ms;
	int armed;
} fault;

static void
fault_fire(const char *kind)
{
	/* An address no process has mapped, hidden from the compiler. */
	int *volatile wild = (int *)(uintptr_t)64;
	volatile char *stack;

	/* Past the sanitizers' handlers: the kernel's own kill, as in a
	 * normal build. */
	signal(SIGSEGV, SIG_DFL);
	signal(SIGBUS, SIG_DFL);
	if (strcmp(kind, "segv") == 0)
		*wild = 1;
	if (strcmp(kind, "abort") == 0)
		abort();
	if (strcmp(kind, "exit") == 0)
		_exit(3);
	if (strcmp(kind, "hang") == 0)
		for (;;)
			pause();
	if (strcmp(kind, "stack") == 0)
		for (;;) {
			stack = alloca(64 * 1024);
			stack[0] = 1;
		}
}

static void *
fault_later(void *arg)
{
	struct timespec ts = { fault.ms / 1000, (fault.ms % 1000) * 1000000 };

	(void)arg;
	nanosleep(&ts, NULL);
	fault_fire(fault.kind);
	return NULL;
}

static void
fault_arm(const char *source, size_t len)
{
	static const char marker[] = "markbook-fault: ";
	const char *at = source ? memmem(source, len, marker, sizeof marker - 1) : NULL;
	pthread_t th;

	if (at == NULL || sscanf(at + sizeof marker - 1, "%15[a-z] %ld", fault.kind,
	    &fault.ms) < 1)
		return;
	fault.armed = 1;
	if (fault.ms > 0 && pthread_create(&th, NULL, fault_later, NULL) == 0)
		pthread_detach(th);
}
#endif

/* Write all of `buf` to `fd`. */
static int
send_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read `fd` to its end, at most `max` bytes. NULL when more came, on an
 * error, or when out of memory. */
static char *
read_all(int fd, size_t max, size_t *len)
{
	struct wire_buf b = { 0 };
	char *chunk = malloc(CHUNK);
	ssize_t n = -1;

	while (chunk != NULL) {
		if ((n = read(fd, chunk, CHUNK)) < 0 && errno == EINTR)
			continue;
		if (n <= 0 || b.len + (size_t)n > max)
			break;
		wire_put(&b, chunk, (size_t)n);
		if (b.failed)
			break;
	}
	free(chunk);
	if (n != 0 || b.failed) {
		free(b.data);
		return NULL;
	}
	*len = b.len;
	return b.data ? b.data : calloc(1, 1);
}

/* The grading child: one request in, one result out, on the socket that is
 * its standard input. Returns its exit status. */
static int
grading_child(void)
{
	struct worker_request req;
	struct grade_result res;
	struct grader g;
	char err[1024], *in = NULL, *out = NULL;
	size_t inlen = 0, outlen = 0;
	int sock = -1, rc = WORKER_EXIT_REQUEST;

	memset(&req, 0, sizeof req);
	memset(&res, 0, sizeof res);
	memset(&g, 0, sizeof g);
	/* A subreaper like markbook itself, for what firejail leaves behind;
	 * stray prints go to markbook's standard error, not into the result. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0 ||
	    (sock = fcntl(0, F_DUPFD_CLOEXEC, EXE_FD)) < 0 ||
	    dup2(2, 1) < 0) {
		perror("markbook: the grading process");
		return WORKER_EXIT_REQUEST;
	}
	if ((in = read_all(sock, WORKER_REQUEST_MAX, &inlen)) == NULL) {
		fprintf(stderr, "markbook: the grading process could not read its request.\n");
		goto out;
	}
	if (worker_request_decode(in, inlen, &req, err, sizeof err) < 0) {
		fprintf(stderr, "markbook: the grading process got a malformed request: %s.\n",
		    err);
		goto out;
	}
	rc = 0;
	if (grader_init_planned(&g, &req.ex, req.course_dir, req.private_dir[0] ?
	    req.private_dir : NULL, req.plan, req.plan_len, err, sizeof err) < 0) {
		res.status = GRADE_ERROR;
		res.max_points = req.ex.max_points;
		res.message = strdup(err);
		res.output = strdup("");
	} else {
#ifdef MARKBOOK_FAULTS
		fault_arm(req.source, req.len);
#endif
		grader_grade(&g, req.source, req.len, &res);
#ifdef MARKBOOK_FAULTS
		if (fault.armed)
			fault_fire(fault.kind);
		if (fault.armed && strcmp(fault.kind, "silent") == 0)
			goto out;
#endif
	}
	if (worker_result_encode(&res, &out, &outlen) < 0) {
		fprintf(stderr, "markbook: the grading process ran out of memory.\n");
		rc = WORKER_EXIT_OTHER;
		goto out;
	}
#ifdef MARKBOOK_FAULTS
	/* Half a result and then noise: a child that crashed mid-write. */
	if (fault.armed && strcmp(fault.kind, "garbage") == 0) {
		outlen /= 2;
		memcpy(out + outlen / 2, "\n\x01garbage 99\n", 13);
	}
#endif
	if (send_all(sock, out, outlen) < 0)
		rc = WORKER_EXIT_OTHER;
out:
	if (sock >= 0)
		close(sock);
	free(out);
	grader_result_free(&res);
	grader_free(&g);
	worker_request_free(&req);
	free(in);
	return rc;
}

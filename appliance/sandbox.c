#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"
#include "msg.h"

/* SANDBOX_NICE as text, for /proc/self/autogroup. */
#define TEXT_OF(x)	#x
#define NUMBER_TEXT(x)	TEXT_OF(x)
#define NICE_TEXT	NUMBER_TEXT(SANDBOX_NICE)

#define DISK_CHECK_MS	200
/* How often a sandbox without a pidfd is looked at: kernels before 5.3 have
 * no pidfd_open(), nor has Debian 12's valgrind 3.19, under which
 * tests/e2e/test_server_valgrind.py runs the server. */
#define EXIT_CHECK_MS	20

/* Folders every user may write to outside home; made read-only so that the
 * staging folder, whose size markbook watches, is the only writable place. */
static const char *const shared_writable[] = {
	"/tmp", "/var/tmp", "/dev/shm", "/run/lock", NULL
};

int
sandbox_init(void)
{
	return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}

/* Reap the run's process group: firejail's own children become ours when it
 * is killed (we are a subreaper), and a PID namespace is gone only once its
 * first process is reaped. */
static void
reap_group(pid_t pgid)
{
	int st;

	while (waitpid(-pgid, &st, 0) > 0 || errno == EINTR)
		;
}

int
sandbox_identity(struct sandbox_identity *id, char *err, size_t errlen)
{
	struct passwd *pw;

	memset(id, 0, sizeof *id);
	if (geteuid() == 0) {
		if ((pw = getpwnam(SANDBOX_USER)) == NULL)
			return msg_fail(err, errlen, "The sandbox user %s does not exist, and "
			    "markbook runs as root, so it cannot grade safely. Run "
			    "tools/install-deps.sh as root to create it.", SANDBOX_USER);
		if (pw->pw_uid == 0)
			return msg_fail(err, errlen, "The sandbox user %s has uid 0; it must be an "
			    "unprivileged user.", SANDBOX_USER);
		id->drop = 1;
	} else if ((pw = getpwuid(getuid())) == NULL)
		return msg_fail(err, errlen, "Cannot find the current user in the password "
		    "database.");
	if (!fs_is_dir(pw->pw_dir))
		return msg_fail(err, errlen, "The home folder %s of user %s does not exist; "
		    "firejail needs it. Run tools/install-deps.sh.", pw->pw_dir, pw->pw_name);
	if (snprintf(id->home, sizeof id->home, "%s", pw->pw_dir) >= (int)sizeof id->home)
		return msg_fail(err, errlen, "The home folder path of %s is too long.", pw->pw_name);
	id->uid = pw->pw_uid;
	id->gid = pw->pw_gid;
	return 0;
}

/* firejail splits some options at commas and cannot take a newline. */
static int
safe_path(const char *p)
{
	return p[0] == '/' && strpbrk(p, ",\n\r") == NULL;
}

int
sandbox_build_argv(const struct sandbox_job *job, const struct sandbox_identity *id,
    const char **argv, size_t max, char *buf, size_t buflen)
{
	static const char *const fixed[] = {
		"--quiet", "--noprofile", "--net=none", "--noroot", "--caps.drop=all",
		"--nonewprivs", "--seccomp", "--private-cwd", "--private-tmp",
		"--private-dev", "--dbus-user=none", "--dbus-system=none",
		"--deterministic-shutdown", "--blacklist=/root", NULL
	};
	const struct sandbox_limits *l = &job->limits;
	size_t n = 0, used = 0;
	const char *const *s;

/* Append a formatted argument kept in buf. */
#define PUSHF(...) do {							\
	int w_ = snprintf(buf + used, buflen - used, __VA_ARGS__);	\
	if (w_ < 0 || (size_t)w_ >= buflen - used || n + 1 >= max)	\
		return -1;						\
	argv[n++] = buf + used;						\
	used += (size_t)w_ + 1;						\
} while (0)
#define PUSH(str) do {							\
	if (n + 1 >= max)						\
		return -1;						\
	argv[n++] = (str);						\
} while (0)

	if (!safe_path(job->dir) || job->argv == NULL || job->argv[0] == NULL)
		return -1;
	PUSH(SANDBOX_FIREJAIL);
	for (s = fixed; *s; s++)
		PUSH(*s);
	PUSH(job->linked ? "--keep-fd=3,4,5" : "--keep-fd=3,4");
	PUSHF("--private=%s", job->dir);
	for (s = shared_writable; *s; s++)
		PUSHF("--read-only=%s", *s);
	/* Other users' homes: the sandbox user could read the ones that are
	 * world-readable. A teacher running markbook as themselves has their
	 * own home replaced by --private. */
	if (id->drop)
		PUSH("--blacklist=/home");
	for (s = job->hide; s && *s; s++) {
		if (!safe_path(*s))
			return -1;
		PUSHF("--blacklist=%s", *s);
	}
	for (s = job->readonly; s && *s; s++) {
		if (!safe_path(*s))
			return -1;
		PUSHF("--read-only=%s", *s);
	}
	PUSHF("--rlimit-as=%llu", (unsigned long long)l->memory_mb << 20);
	PUSHF("--rlimit-fsize=%llu", (unsigned long long)l->file_mb << 20);
	PUSHF("--rlimit-nofile=%u", l->nofile);
	PUSHF("--rlimit-nproc=%u", l->nproc);
	for (s = job->argv; *s; s++)
		PUSH(*s);
	argv[n] = NULL;
	return (int)n;
#undef PUSH
#undef PUSHF
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Everything from here to child_main() runs in the child of proc_start(),
 * which shares markbook's memory until execve(): plain system calls only
 * (no malloc, no locks), and credentials changed by raw syscalls, because
 * glibc's setuid() would try to change those of every markbook thread. */
static void
child_die(const char *what)
{
	const char *e = strerror(errno);	/* glibc: a static table lookup */

	(void)!write(2, "markbook sandbox: ", 18);
	(void)!write(2, what, strlen(what));
	(void)!write(2, ": ", 2);
	(void)!write(2, e, strlen(e));
	(void)!write(2, "\n", 1);
	_exit(127);
}

static void
child_exec(const char *const *argv, const char *const *env,
    const struct sandbox_identity *id, int out, int rep, int sec, int link)
{
	sigset_t none;
	int fd, sig, last = link >= 0 ? SANDBOX_LINK_FD : SANDBOX_SECRET_FD;

	if (setsid() < 0)
		child_die("setsid");
	/* The new session is a scheduler autogroup of its own, and the CPUs are
	 * shared between autogroups before nice values count: each sandbox got
	 * as much CPU as the whole web server, and pages took hundreds of ms
	 * while two gradings ran. The autogroup gets the sandbox's nice value.
	 * Best effort: a kernel without autogroups has no such file. */
	if ((fd = open("/proc/self/autogroup", O_WRONLY | O_CLOEXEC)) >= 0) {
		(void)!write(fd, NICE_TEXT, sizeof NICE_TEXT - 1);
		close(fd);
	}
	/* Move the pipe ends above the target numbers before placing them, so
	 * no dup2 overwrites one we still need. */
	if ((out = fcntl(out, F_DUPFD, 10)) < 0 || (rep = fcntl(rep, F_DUPFD, 10)) < 0 ||
	    (sec = fcntl(sec, F_DUPFD, 10)) < 0 || (link >= 0 && (link = fcntl(link, F_DUPFD, 10)) < 0))
		child_die("fcntl");
	if ((fd = open("/dev/null", O_RDONLY)) < 0 || dup2(fd, 0) < 0)
		child_die("stdin");
	if (dup2(out, 1) < 0 || dup2(out, 2) < 0 || dup2(rep, SANDBOX_REPORT_FD) < 0 ||
	    dup2(sec, SANDBOX_SECRET_FD) < 0 || (link >= 0 && dup2(link, SANDBOX_LINK_FD) < 0))
		child_die("dup2");
	if (syscall(SYS_close_range, last + 1, ~0U, 0) < 0)
		for (fd = last + 1; fd < 1024; fd++)
			close(fd);
	/* Ignored signals survive exec (the web server ignores SIGPIPE). */
	for (sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (setpriority(PRIO_PROCESS, 0, SANDBOX_NICE) < 0)
		child_die("setpriority");
	if (id->drop) {
		if (syscall(SYS_setgroups, 0, NULL) < 0 || syscall(SYS_setgid, id->gid) < 0 ||
		    syscall(SYS_setuid, id->uid) < 0)
			child_die("dropping to the sandbox user");
		if (syscall(SYS_setuid, 0) == 0 || getuid() == 0 || geteuid() == 0)
			child_die("root could be regained");
	}
	execve(argv[0], (char *const *)argv, (char *const *)env);
	child_die(argv[0]);
}

struct child_args {
	const char *const *argv, *const *env;
	const struct sandbox_identity *id;
	int out, rep, sec, link;
};

static int
child_main(void *arg)
{
	const struct child_args *a = arg;

	child_exec(a->argv, a->env, a->id, a->out, a->rep, a->sec, a->link);
	return 127;	/* not reached: child_exec() execs or exits */
}

/* Append what is readable on `fd` to `*buf`, keeping at most `max` bytes.
 * Returns 1 at end of file, 0 when more may come, -1 on error. */
static int
drain(int fd, char **buf, size_t *len, size_t max, int *truncated)
{
	char chunk[16384];

	for (;;) {
		ssize_t n = read(fd, chunk, sizeof chunk);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		if (n == 0)
			return 1;
		size_t keep = (size_t)n < max - *len ? (size_t)n : max - *len;

		memcpy(*buf + *len, chunk, keep);
		*len += keep;
		(*buf)[*len] = '\0';
		if ((size_t)n > keep)
			*truncated = 1;
	}
}

static int
over_disk(const struct sandbox_job *job)
{
	unsigned long long bytes = 0;
	unsigned long entries = 0;

	if (fs_tree_usage(job->dir, &bytes, &entries) < 0)
		return 0;
	return bytes > ((unsigned long long)job->limits.disk_mb << 20) ||
	    entries > job->limits.max_entries;
}

/* Whether the report, which held `before` bytes before the last read, now
 * holds `marker`: look only where the new bytes could complete it. */
static int
finished(const struct sandbox_result *res, size_t before, const char *marker)
{
	size_t m = strlen(marker), from = before > m ? before - m : 0;

	return memmem(res->report + from, res->report_len - from, marker, m) != NULL;
}

/* One running sandbox of a sandbox_run_pair() call. */
struct proc {
	const struct sandbox_job *job;
	struct sandbox_result *res;
	const char *argv[SANDBOX_ARGV_MAX + 32];
	char argbuf[8192];
	pid_t pid;
	int pidfd, out, rep, out_eof, rep_eof, exited, status;
};

/* Start `p` with `link` (or -1) as its SANDBOX_LINK_FD. Returns 0, or -1
 * with `err`. */
static int
proc_start(struct proc *p, const struct sandbox_identity *id, int link,
    char *err, size_t errlen)
{
	int out[2] = { -1, -1 }, rep[2] = { -1, -1 }, sec[2] = { -1, -1 };
	struct child_args args;
	char *stack = NULL;
	const char *secret = p->job->secret ? p->job->secret : "";
	size_t slen = strlen(secret);
	int rc = -1;

	if (sandbox_build_argv(p->job, id, p->argv, sizeof p->argv / sizeof *p->argv,
	    p->argbuf, sizeof p->argbuf) < 0)
		return msg_fail(err, errlen, "The sandbox command could not be built (a path "
		    "contains a comma or newline, or is too long).");
	if ((p->res->output = malloc(SANDBOX_OUTPUT_MAX + 1)) == NULL ||
	    (p->res->report = malloc(SANDBOX_REPORT_MAX + 1)) == NULL)
		return msg_fail(err, errlen, "Out of memory starting the sandbox.");
	p->res->output[0] = p->res->report[0] = '\0';
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(rep, O_CLOEXEC) < 0 ||
	    pipe2(sec, O_CLOEXEC) < 0) {
		msg_fail(err, errlen, "Cannot create pipes for the sandbox: %s.", strerror(errno));
		goto out;
	}
	/* Not fork(): copying the page tables of a server with hundreds of
	 * threads, and the copy-on-write faults and TLB flushes in every thread
	 * after it, stalled the web threads for tens of milliseconds at each
	 * grading. The child borrows markbook's memory (on a stack of its own)
	 * and markbook's thread waits until it has exec'd. */
	if ((stack = malloc(SANDBOX_CHILD_STACK)) == NULL) {
		msg_fail(err, errlen, "Out of memory starting the sandbox.");
		goto out;
	}
	args = (struct child_args){ (const char *const *)p->argv, p->job->env, id, out[1],
	    rep[1], sec[0], link };
	if ((p->pid = clone(child_main, stack + SANDBOX_CHILD_STACK,
	    CLONE_VM | CLONE_VFORK | SIGCHLD, &args)) < 0) {
		msg_fail(err, errlen, "Cannot start the sandbox: %s.", strerror(errno));
		goto out;
	}
	/* The child holds sec[0] until it exits, so this write cannot hit a
	 * closed pipe; the secret is far below the pipe's capacity. */
	if (slen > 0 && write(sec[1], secret, slen) != (ssize_t)slen) {
		msg_fail(err, errlen, "Cannot pass the report key to the sandbox: %s.",
		    strerror(errno));
		goto out;
	}
	if ((p->pidfd = (int)syscall(SYS_pidfd_open, p->pid, 0)) < 0 && errno != ENOSYS) {
		msg_fail(err, errlen, "Cannot watch the sandbox: %s.", strerror(errno));
		goto out;
	}
	p->out = out[0];
	p->rep = rep[0];
	out[0] = rep[0] = -1;
	fcntl(p->out, F_SETFL, O_NONBLOCK);
	fcntl(p->rep, F_SETFL, O_NONBLOCK);
	rc = 0;
out:
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (rep[i] >= 0)
			close(rep[i]);
		if (sec[i] >= 0)
			close(sec[i]);
	}
	free(stack);
	return rc;
}

/* Whether `p`, watched without a pidfd, has exited; it stays a zombie for
 * proc_finish() to reap. */
static int
proc_exited(const struct proc *p)
{
	siginfo_t si;

	memset(&si, 0, sizeof si);
	return waitid(P_PID, (id_t)p->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
	    si.si_pid == p->pid;
}

/* Kill `p`'s whole process group (firejail, and with it the sandbox's PID
 * namespace, whatever a submission left running), reap it and read what
 * it wrote just before it ended, without waiting for processes that may
 * hold a copy of the pipes. */
static void
proc_finish(struct proc *p)
{
	if (p->pid > 0) {
		kill(-p->pid, SIGKILL);
		kill(p->pid, SIGKILL);
		while (waitpid(p->pid, &p->status, 0) < 0 && errno == EINTR)
			;
		reap_group(p->pid);
		p->pid = -1;
	}
	if (p->out >= 0 && !p->out_eof)
		drain(p->out, &p->res->output, &p->res->output_len, SANDBOX_OUTPUT_MAX,
		    &p->res->output_truncated);
	if (p->rep >= 0 && !p->rep_eof)
		drain(p->rep, &p->res->report, &p->res->report_len, SANDBOX_REPORT_MAX,
		    &p->res->report_truncated);
	if (p->out >= 0)
		close(p->out);
	if (p->rep >= 0)
		close(p->rep);
	if (p->pidfd >= 0)
		close(p->pidfd);
	p->out = p->rep = p->pidfd = -1;
}

/* How `p` ended, given how the run as a whole ended. */
static void
proc_result(struct proc *p, enum sandbox_end end, double seconds)
{
	struct sandbox_result *res = p->res;

	res->seconds = seconds;
	res->end = end;
	if (end == SANDBOX_EXITED) {
		if (WIFSIGNALED(p->status)) {
			res->end = SANDBOX_SIGNALED;
			res->code = WTERMSIG(p->status);
		} else
			res->code = WEXITSTATUS(p->status);
	}
}

int
sandbox_run_pair(const struct sandbox_job *job, const struct sandbox_job *peer,
    const struct sandbox_identity *id, struct sandbox_result *res,
    struct sandbox_result *peer_res, char *err, size_t errlen)
{
	struct proc procs[2];
	size_t n = peer ? 2 : 1, i;
	int link[2] = { -1, -1 }, rc = -1, done = 0;
	enum sandbox_end end = SANDBOX_EXITED;
	double start = now(), deadline, next_disk;

	memset(procs, 0, sizeof procs);
	memset(res, 0, sizeof *res);
	if (peer_res)
		memset(peer_res, 0, sizeof *peer_res);
	for (i = 0; i < 2; i++) {
		procs[i].pid = procs[i].pidfd = procs[i].out = procs[i].rep = -1;
		procs[i].job = i == 0 ? job : peer;
		procs[i].res = i == 0 ? res : peer_res;
	}
	if (peer && (peer_res == NULL ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, link) < 0)) {
		msg_fail(err, errlen, "Cannot link the two sandboxes: %s.", strerror(errno));
		goto out;
	}
	/* The peer first: the main command talks to it from its first step. */
	for (i = n; i-- > 0;)
		if (proc_start(&procs[i], id, link[i], err, errlen) < 0)
			goto out;
	for (i = 0; i < 2; i++)
		if (link[i] >= 0) {
			close(link[i]);
			link[i] = -1;
		}

	deadline = start + job->limits.wall_s;
	next_disk = start + DISK_CHECK_MS / 1000.0;
	while (!procs[0].exited && !done) {
		struct pollfd pfd[6];
		double t = now(), wait = (next_disk < deadline ? next_disk : deadline) - t;
		int ready;

		if (t >= deadline) {
			end = SANDBOX_TIMED_OUT;
			break;
		}
		if (t >= next_disk) {
			for (i = 0; i < n; i++)
				if (over_disk(procs[i].job))
					end = SANDBOX_DISK_FULL;
			if (end == SANDBOX_DISK_FULL)
				break;
			next_disk = t + DISK_CHECK_MS / 1000.0;
			continue;
		}
		for (i = 0; i < n; i++) {
			struct proc *p = &procs[i];

			if (p->pidfd < 0 && !p->exited && wait > EXIT_CHECK_MS / 1000.0)
				wait = EXIT_CHECK_MS / 1000.0;
			pfd[3 * i] = (struct pollfd){ .fd = p->out_eof ? -1 : p->out, .events = POLLIN };
			pfd[3 * i + 1] = (struct pollfd){ .fd = p->rep_eof ? -1 : p->rep, .events = POLLIN };
			pfd[3 * i + 2] = (struct pollfd){ .fd = p->exited ? -1 : p->pidfd, .events = POLLIN };
		}
		ready = poll(pfd, (nfds_t)(3 * n), (int)(wait * 1000) + 1);
		if (ready < 0 && errno != EINTR) {
			msg_fail(err, errlen, "Waiting for the sandbox failed: %s.", strerror(errno));
			goto out;
		}
		for (i = 0; ready > 0 && i < n; i++) {
			struct proc *p = &procs[i];

			if (pfd[3 * i].revents && drain(p->out, &p->res->output,
			    &p->res->output_len, SANDBOX_OUTPUT_MAX, &p->res->output_truncated) != 0)
				p->out_eof = 1;
			if (pfd[3 * i + 1].revents) {
				size_t before = p->res->report_len;

				if (drain(p->rep, &p->res->report, &p->res->report_len,
				    SANDBOX_REPORT_MAX, &p->res->report_truncated) != 0)
					p->rep_eof = 1;
				if (i == 0 && job->done)
					done = finished(p->res, before, job->done);
			}
			if (pfd[3 * i + 2].revents)
				p->exited = 1;
		}
		for (i = 0; i < n; i++)
			if (procs[i].pidfd < 0 && !procs[i].exited && proc_exited(&procs[i]))
				procs[i].exited = 1;
	}
	for (i = 0; i < n; i++)
		proc_finish(&procs[i]);
	/* A last look: the run may have filled the disk just before it exited,
	 * and what it wrote still counts. */
	for (i = 0; end == SANDBOX_EXITED && i < n; i++)
		if (over_disk(procs[i].job))
			end = SANDBOX_DISK_FULL;
	proc_result(&procs[0], end, now() - start);
	if (done && end == SANDBOX_EXITED) {
		res->end = SANDBOX_EXITED;	/* finished its work; we killed what was left */
		res->code = 0;
	}
	/* The peer ends with the run: a time limit or a full disk is the
	 * run's, otherwise it shows how the peer itself ended (usually killed
	 * once the main command was done). */
	if (n == 2)
		proc_result(&procs[1], end, now() - start);
	rc = 0;
out:
	for (i = 0; i < n; i++)
		proc_finish(&procs[i]);
	for (i = 0; i < 2; i++)
		if (link[i] >= 0)
			close(link[i]);
	return rc;
}

int
sandbox_run(const struct sandbox_job *job, const struct sandbox_identity *id,
    struct sandbox_result *res, char *err, size_t errlen)
{
	return sandbox_run_pair(job, NULL, id, res, NULL, err, errlen);
}

void
sandbox_result_free(struct sandbox_result *res)
{
	free(res->output);
	free(res->report);
	memset(res, 0, sizeof *res);
}

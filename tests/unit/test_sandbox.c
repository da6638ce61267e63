#include <fcntl.h>
#include <mqueue.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "sandbox.h"
#include "unit.h"

static int
has(const char **argv, const char *arg)
{
	for (; *argv; argv++)
		if (strcmp(*argv, arg) == 0)
			return 1;
	return 0;
}

/* Whether `text` has the line `want`. */
static int
line(const char *text, const char *want)
{
	size_t n = strlen(want);

	for (const char *p = text; (p = strstr(p, want)) != NULL; p += n)
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return 1;
	return 0;
}

/* Index of `arg` in argv, or -1. */
static int
pos(const char **argv, const char *arg)
{
	for (int i = 0; argv[i]; i++)
		if (strcmp(argv[i], arg) == 0)
			return i;
	return -1;
}

static struct sandbox_job
job_in(const char *dir, const char *const *cmd)
{
	static const char *const env[] = { "PATH=/usr/bin:/bin", NULL };
	struct sandbox_job job = { 0 };

	job.dir = dir;
	job.argv = cmd;
	job.env = env;
	job.limits.wall_s = 10;
	job.limits.memory_mb = 256;
	job.limits.file_mb = 4;
	job.limits.nofile = 64;
	job.limits.nproc = 32;
	return job;
}

/* A home as the grader makes them: 8 MiB and 100 entries to write. */
struct home {
	struct sandbox_home h;
	char path[1024];
};

static int
home_for(const struct sandbox_identity *id, struct home *home)
{
	char err[256];

	if (sandbox_home_make(&home->h, id, home->path, sizeof home->path, err,
	    sizeof err) < 0 || sandbox_home_limit(&home->h, home->path, 8, 100, err,
	    sizeof err) < 0) {
		fprintf(stderr, "sandbox_home: %s\n", err);
		sandbox_home_remove(&home->h, home->path);
		return -1;
	}
	return 0;
}

/* Run `code` in a fresh home with `memory_mb`. */
static int
run_py_in(const struct sandbox_identity *id, const char *code, unsigned wall_s,
    unsigned memory_mb, const char *secret, struct sandbox_result *res)
{
	const char *cmd[] = { "/usr/bin/python3", "-I", "-c", code, NULL };
	char err[256];
	struct sandbox_job job;
	struct home home;
	int rc;

	if (home_for(id, &home) < 0)
		return -1;
	job = job_in(home.path, cmd);
	job.home = &home.h;
	job.limits.wall_s = wall_s;
	job.limits.memory_mb = memory_mb;
	job.secret = secret;
	rc = sandbox_run(&job, id, res, err, sizeof err);
	if (rc < 0)
		fprintf(stderr, "sandbox_run: %s\n", err);
	sandbox_home_remove(&home.h, home.path);
	return rc;
}

static int
run_py(const struct sandbox_identity *id, const char *code, unsigned wall_s,
    const char *secret, struct sandbox_result *res)
{
	return run_py_in(id, code, wall_s, 256, secret, res);
}

int
main(void)
{
	const char *const cmd[] = { "/usr/bin/python3", "-c", "pass", NULL };
	const char *const hide[] = { "/srv/course", NULL };
	const char *const ro[] = { "/home/x/hidden", NULL };
	struct sandbox_identity id = { .uid = 999, .gid = 999, .home = "/h", .drop = 1 };
	struct sandbox_job job = job_in("/tmp/stage", cmd);
	struct sandbox_result res;
	const char *argv[128];
	char buf[4096], err[256];
	static char profile[SANDBOX_PROFILE_MAX];
	int n;

	job.hide = hide;
	job.readonly = ro;
	TEST("sandbox_build_argv closes the network, privileges and writable places") {
		n = sandbox_build_argv(&job, &id, "/p/profile", argv, 128, buf, sizeof buf);
		CHECK(n > 0);
		CHECK_STR(argv[0], SANDBOX_FIREJAIL);
		CHECK(has(argv, "--net=none") && has(argv, "--nonewprivs") && has(argv, "--seccomp"));
		CHECK(has(argv, "--caps.drop=all") && has(argv, "--noroot"));
		CHECK(has(argv, "--private=/tmp/stage") && has(argv, "--private-tmp"));
		CHECK(has(argv, "--private-dev") && has(argv, "--ipc-namespace"));
		CHECK(has(argv, "--profile=/p/profile") && !has(argv, "--noprofile"));
		CHECK(has(argv, "--dbus-user=none") && has(argv, "--dbus-system=none"));
		CHECK(has(argv, "--deterministic-shutdown"));
		CHECK(has(argv, "--rlimit-as=268435456") && has(argv, "--rlimit-fsize=4194304"));
		CHECK(has(argv, "--rlimit-nofile=64"));
		CHECK(!has(argv, "--timeout"));
	}
	TEST("sandbox_build_argv puts the command last, unchanged") {
		n = sandbox_build_argv(&job, &id, "/p/profile", argv, 128, buf, sizeof buf);
		CHECK(n >= 3 && pos(argv, "/usr/bin/python3") == n - 3);
		CHECK(n >= 3 && strcmp(argv[n - 1], "pass") == 0 && argv[n] == NULL);
	}
	TEST("sandbox_build_argv allows half the processes to all sandboxes without a cgroup") {
		n = sandbox_build_argv(&job, &id, "/p/profile", argv, 128, buf, sizeof buf);
		CHECK(n > 0 && has(argv, "--rlimit-nproc=16"));
	}
	TEST("sandbox_build_argv refuses paths firejail would split or misread") {
		struct sandbox_job j = job;

		CHECK(sandbox_build_argv(&job, &id, "/p/a,b", argv, 128, buf, sizeof buf) < 0);
		j.dir = "/tmp/a\nb";
		CHECK(sandbox_build_argv(&j, &id, "/p/profile", argv, 128, buf, sizeof buf) < 0);
	}
	TEST("sandbox_build_argv refuses when the argument room runs out") {
		CHECK(sandbox_build_argv(&job, &id, "/p/profile", argv, 10, buf, sizeof buf) < 0);
		CHECK(sandbox_build_argv(&job, &id, "/p/profile", argv, 128, buf, 40) < 0);
	}
	TEST("sandbox_build_profile hides the course, makes shared places read-only") {
		CHECK(sandbox_build_profile(&job, &id, profile, sizeof profile) > 0);
		CHECK(line(profile, "blacklist /srv/course") && line(profile, "blacklist /root"));
		CHECK(line(profile, "read-only /home/x/hidden"));
		CHECK(line(profile, "read-only /tmp") && line(profile, "read-only /dev/shm"));
		CHECK(line(profile, "blacklist /home"));
	}
	TEST("sandbox_build_profile hides every entry of /, /run and /etc but the allow-list") {
		char top[] = "/markbook-unit-top-XXXXXX", want[64];

		CHECK(mkdtemp(top) != NULL);
		snprintf(want, sizeof want, "blacklist %s", top);
		CHECK(sandbox_build_profile(&job, &id, profile, sizeof profile) > 0);
		CHECK(line(profile, want));
		rmdir(top);
		CHECK(line(profile, "blacklist /srv") || access("/srv", F_OK) < 0);
		CHECK(line(profile, "blacklist /opt") || access("/opt", F_OK) < 0);
		CHECK(line(profile, "blacklist /mnt") || access("/mnt", F_OK) < 0);
		CHECK(line(profile, "blacklist /media") || access("/media", F_OK) < 0);
		CHECK(line(profile, "blacklist /var") || access("/var", F_OK) < 0);
		CHECK(line(profile, "blacklist /run/lock") || access("/run/lock", F_OK) < 0);
		CHECK(line(profile, "blacklist /etc/shadow") && line(profile, "blacklist /etc/hostname"));
		CHECK(!line(profile, "blacklist /usr") && !line(profile, "blacklist /proc"));
		CHECK(!line(profile, "blacklist /run") && !line(profile, "blacklist /run/firejail"));
		CHECK(!line(profile, "blacklist /bin") && !line(profile, "blacklist /lib"));
		CHECK(!line(profile, "blacklist /etc/ld.so.cache") &&
		    !line(profile, "blacklist /etc/alternatives"));
		CHECK(!line(profile, "blacklist /etc/python3") &&
		    !line(profile, "blacklist /etc/python3.11"));
	}
	TEST("sandbox_build_profile shows the home's top folder as the home alone") {
		struct sandbox_identity var = id;

		snprintf(var.home, sizeof var.home, "/var/lib/markbook-sandbox");
		CHECK(sandbox_build_profile(&job, &var, profile, sizeof profile) > 0);
		CHECK(line(profile, "whitelist /var/lib/markbook-sandbox"));
		CHECK(!line(profile, "blacklist /var"));
		snprintf(var.home, sizeof var.home, "/home/teacher");
		CHECK(sandbox_build_profile(&job, &var, profile, sizeof profile) > 0);
		/* firejail's --private leaves only this home in /home */
		CHECK(!line(profile, "blacklist /home") && line(profile, "blacklist /var"));
	}
	TEST("sandbox_build_profile refuses names firejail would misread, and no room") {
		const char *const bad[] = { "/srv/a,b", NULL };
		const char *const rel[] = { "course", NULL };
		struct sandbox_job j = job;

		j.hide = bad;
		CHECK(sandbox_build_profile(&j, &id, profile, sizeof profile) < 0);
		j.hide = rel;
		CHECK(sandbox_build_profile(&j, &id, profile, sizeof profile) < 0);
		CHECK(sandbox_build_profile(&job, &id, profile, 64) < 0);
	}

	/* Real runs in firejail, as the grader makes them. */
	if (sandbox_init(err, sizeof err) < 0) {
		fprintf(stderr, "FAIL sandbox_init: %s\n", err);
		return 1;
	}
	if (sandbox_identity(&id, err, sizeof err) < 0) {
		fprintf(stderr, "FAIL sandbox_identity: %s\n", err);
		unit_failed++;
		return unit_done("sandbox");
	}
	TEST("sandbox_run passes the secret on fd 4 and reads the report from fd 3") {
		CHECK(run_py(&id, "import os\n"
		    "s = os.read(4, 100)\n"
		    "os.write(3, b'got ' + s)\n"
		    "print('hello')\n", 10, "k3y\n", &res) == 0);
		CHECK(res.end == SANDBOX_EXITED && res.code == 0);
		CHECK_STR(res.report, "got k3y\n");
		CHECK(strstr(res.output, "hello") != NULL);
		sandbox_result_free(&res);
	}
	TEST("sandbox_run runs the command as an unprivileged user without network") {
		CHECK(run_py(&id, "import os, socket\n"
		    "print('uid', os.getuid())\n"
		    "s = socket.socket()\n"
		    "try:\n    s.connect(('127.0.0.1', 22)); print('connected')\n"
		    "except OSError: print('no network')\n", 10, NULL, &res) == 0);
		CHECK(strstr(res.output, "uid 0") == NULL && strstr(res.output, "no network"));
		sandbox_result_free(&res);
	}
	TEST("sandbox_run gives way to the web server: nice 10, also for its autogroup") {
		CHECK(run_py(&id, "import os\n"
		    "print('niceness', os.nice(0))\n"
		    "try:\n    print(open('/proc/self/autogroup').read().strip())\n"
		    "except OSError: print('no autogroup')\n", 10, NULL, &res) == 0);
		CHECK(strstr(res.output, "niceness 10\n") != NULL);
		/* A kernel without autogroups has no file; with them, the
		 * sandbox's session must not weigh as much as the server. */
		CHECK(strstr(res.output, "no autogroup") != NULL ||
		    strstr(res.output, "autogroup-") != NULL);
		CHECK(strstr(res.output, "no autogroup") != NULL ||
		    strstr(res.output, " nice 10") != NULL);
		sandbox_result_free(&res);
	}
	TEST("sandbox_run kills a run at its wall clock") {
		CHECK(run_py(&id, "while True: pass", 2, NULL, &res) == 0);
		CHECK(res.end == SANDBOX_TIMED_OUT);
		CHECK(res.seconds >= 2.0 && res.seconds < 5.0);
		sandbox_result_free(&res);
	}
	TEST("sandbox_run keeps only the first 64 KiB of output") {
		CHECK(run_py(&id, "import sys\nfor i in range(20000): sys.stdout.write('x' * 99 + '\\n')\n",
		    20, NULL, &res) == 0);
		CHECK(res.output_len == SANDBOX_OUTPUT_MAX && res.output_truncated);
		CHECK(res.end == SANDBOX_EXITED);
		sandbox_result_free(&res);
	}
	TEST("sandbox_run stops a run that fills its folder") {
		CHECK(run_py(&id, "import os\n"
		    "for i in range(1000):\n"
		    "    with open(f'f{i}', 'wb') as f: f.write(b'x' * (1 << 21))\n"
		    "import time; time.sleep(30)\n", 20, NULL, &res) == 0);
		CHECK(res.end == SANDBOX_DISK_FULL);
		CHECK(res.seconds < 10.0);
		sandbox_result_free(&res);
	}
	TEST("sandbox_run leaves no process behind") {
		char code[512], probe[128];

		/* The daemon becomes a `sleep` whose argument only this test uses,
		 * so other runs on the machine cannot confuse the check. */
		snprintf(code, sizeof code, "import os\n"
		    "if os.fork() == 0:\n"
		    "    os.setsid()\n"
		    "    if os.fork() == 0:\n"
		    "        os.execv('/bin/sleep', ['sleep', '600.%d'])\n"
		    "    os._exit(0)\n"
		    "import time; time.sleep(1)\n"
		    "print('parent done')\n", (int)getpid());
		snprintf(probe, sizeof probe, "pgrep -f 'slee[p] 600.%d' >/dev/null", (int)getpid());
		CHECK(run_py(&id, code, 10, NULL, &res) == 0);
		CHECK(strstr(res.output, "parent done") != NULL);
		CHECK(res.seconds < 8.0);
		sandbox_result_free(&res);
		CHECK(system(probe) != 0);
	}
	TEST("sandbox_run cannot write outside its folder") {
		CHECK(run_py(&id, "import os\n"
		    "for p in ['/tmp/markbook-unit-escape', '/var/tmp/markbook-unit-escape',\n"
		    "          '/dev/shm/markbook-unit-escape']:\n"
		    "    try:\n        open(p, 'w').write('x'); print('wrote', p)\n"
		    "    except OSError: pass\n", 10, NULL, &res) == 0);
		CHECK(strstr(res.output, "wrote") == NULL);
		CHECK(access("/var/tmp/markbook-unit-escape", F_OK) != 0);
		CHECK(access("/dev/shm/markbook-unit-escape", F_OK) != 0);
		sandbox_result_free(&res);
	}
	TEST("sandbox_run ends the run once the report says the work is done") {
		const char *cmd[] = { "/usr/bin/python3", "-I", "-c",
		    "import os, time\n"
		    "print('before', flush=True)\n"
		    "os.write(3, b'{\"kind\":\"end\"}\\n')\n"
		    "time.sleep(30)\n", NULL };
		struct home home;
		struct sandbox_job j;

		CHECK(home_for(&id, &home) == 0);
		j = job_in(home.path, cmd);
		j.done = "{\"kind\":\"end\"";
		CHECK(sandbox_run(&j, &id, &res, err, sizeof err) == 0);
		CHECK(res.end == SANDBOX_EXITED && res.code == 0);
		CHECK(res.seconds < 5.0);
		CHECK(strstr(res.output, "before") != NULL);
		sandbox_result_free(&res);
		sandbox_home_remove(&home.h, home.path);
	}
	TEST("sandbox_run_pair links two sandboxes by a socket and stops the peer with the run") {
		const char *main_cmd[] = { "/usr/bin/python3", "-I", "-c",
		    "import os, socket\n"
		    "s = socket.socket(fileno=5)\n"
		    "s.sendall(b'ping')\n"
		    "os.write(3, b'main got ' + s.recv(100) + b'\\n')\n"
		    "print('sees peer files:', os.path.exists('peer-only'))\n", NULL };
		const char *peer_cmd[] = { "/usr/bin/python3", "-I", "-c",
		    "import os, socket, time\n"
		    "s = socket.socket(fileno=5)\n"
		    "s.sendall(s.recv(100) + b'-pong')\n"
		    "time.sleep(60)\n", NULL };
		struct home h1, h2;
		char marker[1100];
		struct sandbox_job a, b;
		struct sandbox_result ra, rb;

		CHECK(home_for(&id, &h1) == 0 && home_for(&id, &h2) == 0);
		a = job_in(h1.path, main_cmd);
		b = job_in(h2.path, peer_cmd);
		snprintf(marker, sizeof marker, "%s/peer-only", h2.path);
		fs_write_file(marker, "x", 1, 0644);
		a.linked = b.linked = 1;
		CHECK(sandbox_run_pair(&a, &b, &id, &ra, &rb, err, sizeof err) == 0);
		CHECK_STR(ra.report, "main got ping-pong\n");
		CHECK(strstr(ra.output, "sees peer files: False") != NULL);
		CHECK(ra.end == SANDBOX_EXITED && ra.code == 0);
		CHECK(ra.seconds < 8.0);
		sandbox_result_free(&ra);
		sandbox_result_free(&rb);
		sandbox_home_remove(&h1.h, h1.path);
		sandbox_home_remove(&h2.h, h2.path);
	}
	TEST("sandbox_run sees nothing of the host outside the allow-list") {
		/* Files planted where data is often kept, and in a top folder made
		 * now; the sandbox lists / and tries each. */
		static const char *const dirs[] = { "/srv", "/opt", "/var/tmp", "/mnt", "/media" };
		char planted[6][256], top[] = "/markbook-unit-data-XXXXXX", code[4096], list[2048];
		size_t k, used = 0;

		CHECK(mkdtemp(top) != NULL && chmod(top, 0755) == 0);
		for (k = 0; k < 6; k++) {
			snprintf(planted[k], sizeof planted[k], "%s/markbook-unit-planted-%d",
			    k < 5 ? dirs[k] : top, (int)getpid());
			if (fs_write_file(planted[k], "secret", 6, 0644) < 0)
				planted[k][0] = '\0';
			used += (size_t)snprintf(list + used, sizeof list - used, "'%s', ", planted[k]);
		}
		snprintf(code, sizeof code, "import os\nseen = []\n"
		    "for p in [%s]:\n"
		    "    try:\n        open(p).read(); seen.append(p)\n    except OSError: pass\n"
		    "for d in os.listdir('/'):\n"
		    "    try:\n        n = os.listdir('/' + d)\n    except OSError: continue\n"
		    "    print('listed', d)\n"
		    "etc = []\n"
		    "for n in sorted(os.listdir('/etc')):\n"
		    "    try:\n        open('/etc/' + n, 'rb').read(1); etc.append(n)\n"
		    "    except OSError: pass\n"
		    "print('etc', etc)\n"
		    "print('seen', seen)\n", list);
		CHECK(run_py(&id, code, 20, NULL, &res) == 0);
		CHECK(strstr(res.output, "seen []") != NULL);
		CHECK(strstr(res.output, "listed usr") != NULL && strstr(res.output, "listed srv") == NULL);
		CHECK(strstr(res.output, "listed opt") == NULL && strstr(res.output, "listed mnt") == NULL);
		CHECK(strstr(res.output, "listed markbook-unit-data") == NULL);
		CHECK(strstr(res.output, "'shadow'") == NULL && strstr(res.output, "'hostname'") == NULL);
		CHECK(strstr(res.output, "'ld.so.cache'") && strstr(res.output, "'passwd'"));
		if (strstr(res.output, "seen []") == NULL)
			fprintf(stderr, "%s\n", res.output);
		sandbox_result_free(&res);
		for (k = 0; k < 6; k++)
			if (planted[k][0])
				unlink(planted[k]);
		rmdir(top);
	}
	TEST("sandbox_run gives each sandbox IPC of its own, gone with it") {
		char code[1024], key[32], line[256], queue[64];
		int found = 0;
		mqd_t q;
		FILE *f;

		/* A SysV segment and a POSIX message queue with this test's key. */
		snprintf(key, sizeof key, "%d", 0x5a000000 + (int)getpid());
		snprintf(code, sizeof code, "import ctypes, ctypes.util\n"
		    "c = ctypes.CDLL(None, use_errno=True)\n"
		    "shm = c.shmget(%s, 1 << 20, 0o1600)\n"
		    "rt = ctypes.CDLL(ctypes.util.find_library('rt') or 'librt.so.1')\n"
		    "q = rt.mq_open(b'/markbook-unit-%d', 0o100 | 0o2, 0o600, None)\n"
		    "print('made', shm >= 0, q >= 0)\n", key, (int)getpid());
		CHECK(run_py(&id, code, 20, NULL, &res) == 0);
		CHECK(strstr(res.output, "made True True") != NULL);
		sandbox_result_free(&res);
		if ((f = fopen("/proc/sysvipc/shm", "r")) != NULL) {
			while (fgets(line, sizeof line, f))
				found |= strtol(line, NULL, 10) == strtol(key, NULL, 10);
			fclose(f);
		}
		CHECK(!found);
		snprintf(queue, sizeof queue, "/markbook-unit-%d", (int)getpid());
		CHECK((q = mq_open(queue, O_RDONLY)) == (mqd_t)-1);
		if (q != (mqd_t)-1) {
			mq_close(q);
			mq_unlink(queue);
		}
	}
	TEST("sandbox_run stops a run whose processes together pass memory_mb") {
		if (sandbox_host()->cgroup == SANDBOX_CGROUP_NONE) {
			fprintf(stderr, "  (no control group here: %s)\n", sandbox_host()->cgroup_why);
			continue;
		}
		/* Three children of 100 MiB each: each is within its address
		 * space, together they are over 200 MB. */
		CHECK(run_py_in(&id, "import os, time\n"
		    "for _ in range(3):\n"
		    "    if os.fork() == 0:\n"
		    "        b = bytearray(100 << 20)\n"
		    "        for i in range(0, len(b), 4096): b[i] = 1\n"
		    "        time.sleep(60)\n"
		    "time.sleep(60)\n", 30, 200, NULL, &res) == 0);
		CHECK(res.end == SANDBOX_MEMORY_FULL);
		CHECK(res.seconds < 20.0);
		sandbox_result_free(&res);
	}
	TEST("sandbox_run lets an honest run use memory_mb in one process") {
		CHECK(run_py_in(&id, "b = bytearray(120 << 20)\n"
		    "for i in range(0, len(b), 4096): b[i] = 1\n"
		    "print('held')\n", 30, 200, NULL, &res) == 0);
		CHECK(res.end == SANDBOX_EXITED && strstr(res.output, "held") != NULL);
		sandbox_result_free(&res);
	}
	return unit_done("sandbox");
}

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
	job.limits.disk_mb = 8;
	job.limits.max_entries = 100;
	job.limits.nofile = 64;
	job.limits.nproc = 32;
	return job;
}

/* A fresh folder the sandbox identity owns, as the grader makes them. */
static char *
home_for(const struct sandbox_identity *id)
{
	char *dir = strdup("/tmp/markbook-unit-XXXXXX");

	if (mkdtemp(dir) == NULL || (id->drop && chown(dir, id->uid, id->gid) < 0))
		return NULL;
	return dir;
}

static int
run_py(const struct sandbox_identity *id, const char *code, unsigned wall_s,
    const char *secret, struct sandbox_result *res)
{
	const char *cmd[] = { "/usr/bin/python3", "-I", "-c", code, NULL };
	char err[256], *dir = home_for(id);
	struct sandbox_job job;
	int rc;

	if (dir == NULL)
		return -1;
	job = job_in(dir, cmd);
	job.limits.wall_s = wall_s;
	job.secret = secret;
	rc = sandbox_run(&job, id, res, err, sizeof err);
	if (rc < 0)
		fprintf(stderr, "sandbox_run: %s\n", err);
	fs_remove_tree(dir);
	free(dir);
	return rc;
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
	int n;

	job.hide = hide;
	job.readonly = ro;
	TEST("sandbox_build_argv closes the network, privileges and writable places") {
		n = sandbox_build_argv(&job, &id, argv, 128, buf, sizeof buf);
		CHECK(n > 0);
		CHECK_STR(argv[0], SANDBOX_FIREJAIL);
		CHECK(has(argv, "--net=none") && has(argv, "--nonewprivs") && has(argv, "--seccomp"));
		CHECK(has(argv, "--caps.drop=all") && has(argv, "--noroot"));
		CHECK(has(argv, "--private=/tmp/stage") && has(argv, "--private-tmp"));
		CHECK(has(argv, "--read-only=/tmp") && has(argv, "--read-only=/var/tmp") &&
		    has(argv, "--read-only=/dev/shm"));
		CHECK(has(argv, "--dbus-user=none") && has(argv, "--dbus-system=none"));
		CHECK(has(argv, "--deterministic-shutdown"));
		CHECK(has(argv, "--blacklist=/srv/course") && has(argv, "--blacklist=/root"));
		CHECK(has(argv, "--blacklist=/home"));
		CHECK(has(argv, "--read-only=/home/x/hidden"));
		CHECK(has(argv, "--rlimit-as=268435456") && has(argv, "--rlimit-fsize=4194304"));
		CHECK(has(argv, "--rlimit-nproc=32") && has(argv, "--rlimit-nofile=64"));
		CHECK(!has(argv, "--timeout"));
	}
	TEST("sandbox_build_argv puts the command last, unchanged") {
		n = sandbox_build_argv(&job, &id, argv, 128, buf, sizeof buf);
		CHECK(n >= 3 && pos(argv, "/usr/bin/python3") == n - 3);
		CHECK(n >= 3 && strcmp(argv[n - 1], "pass") == 0 && argv[n] == NULL);
	}
	TEST("sandbox_build_argv keeps /home visible to a teacher running as themselves") {
		struct sandbox_identity self = id;

		self.drop = 0;
		n = sandbox_build_argv(&job, &self, argv, 128, buf, sizeof buf);
		CHECK(n > 0 && !has(argv, "--blacklist=/home"));
	}
	TEST("sandbox_build_argv refuses paths firejail would split or misread") {
		const char *const bad[] = { "/srv/a,b", NULL };
		const char *const rel[] = { "course", NULL };
		struct sandbox_job j = job;

		j.hide = bad;
		CHECK(sandbox_build_argv(&j, &id, argv, 128, buf, sizeof buf) < 0);
		j.hide = rel;
		CHECK(sandbox_build_argv(&j, &id, argv, 128, buf, sizeof buf) < 0);
		j = job;
		j.dir = "/tmp/a\nb";
		CHECK(sandbox_build_argv(&j, &id, argv, 128, buf, sizeof buf) < 0);
	}
	TEST("sandbox_build_argv refuses when the argument room runs out") {
		CHECK(sandbox_build_argv(&job, &id, argv, 10, buf, sizeof buf) < 0);
		CHECK(sandbox_build_argv(&job, &id, argv, 128, buf, 40) < 0);
	}

	/* Real runs in firejail, as the grader makes them. */
	sandbox_init();
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
		char *dir = home_for(&id);
		struct sandbox_job j = job_in(dir, cmd);

		j.done = "{\"kind\":\"end\"";
		CHECK(sandbox_run(&j, &id, &res, err, sizeof err) == 0);
		CHECK(res.end == SANDBOX_EXITED && res.code == 0);
		CHECK(res.seconds < 5.0);
		CHECK(strstr(res.output, "before") != NULL);
		sandbox_result_free(&res);
		fs_remove_tree(dir);
		free(dir);
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
		char *d1 = home_for(&id), *d2 = home_for(&id), marker[256];
		struct sandbox_job a = job_in(d1, main_cmd), b = job_in(d2, peer_cmd);
		struct sandbox_result ra, rb;

		snprintf(marker, sizeof marker, "%s/peer-only", d2);
		fs_write_file(marker, "x", 1, 0644);
		a.linked = b.linked = 1;
		CHECK(sandbox_run_pair(&a, &b, &id, &ra, &rb, err, sizeof err) == 0);
		CHECK_STR(ra.report, "main got ping-pong\n");
		CHECK(strstr(ra.output, "sees peer files: False") != NULL);
		CHECK(ra.end == SANDBOX_EXITED && ra.code == 0);
		CHECK(ra.seconds < 8.0);
		sandbox_result_free(&ra);
		sandbox_result_free(&rb);
		fs_remove_tree(d1);
		fs_remove_tree(d2);
		free(d1);
		free(d2);
	}
	return unit_done("sandbox");
}

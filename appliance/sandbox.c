#include "sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
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

#define LIMITS_CHECK_MS	200	/* how often a run's home and memory are looked at */
/* How often a sandbox without a pidfd is looked at: kernels before 5.3 have
 * no pidfd_open(), nor has Debian 12's valgrind 3.19, under which
 * tests/e2e/test_server_valgrind.py runs the server. */
#define EXIT_CHECK_MS	20
#define CGROUP_FILE_MAX	4096	/* bytes read of a control group's file */
/* A control group lets go of its processes a moment after they are killed;
 * removing it is tried this often, this many times, before it is left. */
#define CGROUP_RMDIR_MS		10
#define CGROUP_RMDIR_TRIES	300
/* The stage root holds the homes' mount points and the sandboxes' profiles. */
#define STAGE_ROOT_OPTS	"mode=0711,size=8m,nr_inodes=65536"

/* Folders every user may write to outside home; made read-only so that the
 * home, whose size is bounded, is the only writable place. */
static const char *const shared_writable[] = { "/tmp", "/dev/shm", NULL };

/* Entries of / a sandbox sees. Everything else in /, /run and /etc is
 * blacklisted at each start, so a folder made tomorrow is hidden too. /dev
 * and /tmp are firejail's private ones; /proc and /sys are the kernel's
 * (firejail masks what is sensitive in them); /home holds only the sandbox's
 * home under --private. */
static const char *const top_allowed[] = {
	"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc", "dev", "tmp",
	"proc", "sys", "run", NULL
};

/* In /run, firejail's own folder: firejail needs it (blacklisting /run whole
 * makes it fail: "disable_file: No such file or directory"). */
static const char *const run_allowed[] = { "firejail", NULL };

/* In /etc, what Python, numpy (BLAS through alternatives), pandas and
 * matplotlib (matplotlibrc, fontconfig) read, found with strace, and
 * python3* (Debian's sitecustomize). Blacklisting the rest costs a few ms at
 * each start; firejail's --private-etc copy of the same took 60 ms. */
static const char *const etc_allowed[] = {
	"alternatives", "fonts", "group", "ld.so.cache", "ld.so.conf", "ld.so.conf.d",
	"localtime", "matplotlibrc", "nsswitch.conf", "passwd", NULL
};

/* Folders firejail mounts over before it binds a sandbox's home: a home made
 * below one of them cannot be found (firejail's fs_home.c: "Error opening
 * private directory"). */
static const char *const firejail_covers[] = {
	"/var", "/run", "/home", "/root", "/dev", "/proc", "/sys", "/etc", NULL
};

/* What sandbox_init() found, and who may undo what it made. */
static struct sandbox_host host;
static pid_t host_owner;
static char cg_v1_pids[PATH_MAX];	/* v1: the pids folder beside host.cgroup's */
static char cg_base[PATH_MAX];		/* where sandboxes' control groups are made */
static atomic_ulong cg_serial;

const struct sandbox_host *
sandbox_host(void)
{
	return &host;
}

/* Write `text` to the control file `dir`/`name`. Returns 0 or -1 (errno). */
static int
write_file_in(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX];
	size_t len = strlen(text);
	int fd, rc = -1;

	if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
		return -1;
	if (write(fd, text, len) == (ssize_t)len)
		rc = 0;
	if (close(fd) < 0)
		rc = -1;
	return rc;
}

/* Read the start of `dir`/`name` into `buf` (NUL-terminated). Returns the
 * length or -1. */
static ssize_t
read_file_in(const char *dir, const char *name, char *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	while ((n = read(fd, buf, len - 1)) < 0 && errno == EINTR)
		;
	close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

/* The number after `key` and a space at the start of a line of `text`, or -1. */
static long long
field_of(const char *text, const char *key)
{
	size_t k = strlen(key);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, key, k) == 0 && p[k] == ' ')
			return strtoll(p + k + 1, NULL, 10);
	return -1;
}

/* SIGKILL every process in the control group `dir`. */
static void
cg_kill(const char *dir)
{
	char *text = malloc(CGROUP_FILE_MAX * 4);

	if (text && read_file_in(dir, "cgroup.procs", text, CGROUP_FILE_MAX * 4) > 0)
		for (char *p = text; *p; p += strcspn(p, "\n"), p += *p == '\n') {
			long pid = strtol(p, NULL, 10);

			if (pid > 0)
				kill((pid_t)pid, SIGKILL);
		}
	free(text);
}

/* Remove the control group `dir`, killing what is in it: a group goes only
 * once its last process has left it, a moment after it died. */
static void
cg_dir_remove(const char *dir)
{
	for (int tries = 0; rmdir(dir) < 0 && errno == EBUSY && tries < CGROUP_RMDIR_TRIES;
	    tries++) {
		cg_kill(dir);
		poll(NULL, 0, CGROUP_RMDIR_MS);
	}
}

/* Whether the name `name` is "markbook-PID-..." of a process that is gone. */
static int
left_by_dead_process(const char *name)
{
	char *end;
	long pid;

	if (strncmp(name, "markbook-", 9) != 0)
		return 0;
	pid = strtol(name + 9, &end, 10);
	return pid > 0 && *end == '-' && pid != getpid() && kill((pid_t)pid, 0) < 0 &&
	    errno == ESRCH;
}

/* Remove what markbook processes killed before their end (kill -9, a power
 * cut) left in `dir`: stage roots (through descriptors, as always) or control
 * groups, with whatever still runs in them. */
static void
sweep(const char *dir, int groups)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	char path[PATH_MAX];
	struct stat st;

	while (d && (de = readdir(d)) != NULL) {
		if (!left_by_dead_process(de->d_name) ||
		    snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= (int)sizeof path)
			continue;
		if (groups)
			cg_dir_remove(path);
		else if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid())
			fs_remove_tree(path);
	}
	if (d)
		closedir(d);
}

/* The folder sandboxes' homes are made in, $TMPDIR/markbook-PID-XXXXXX. As
 * root it is root's, 0711 (the sandbox user may pass through to its home but
 * not list the others), and a small tmpfs: the homes' mount points are then
 * unseen by the host too, and a markbook killed leaves an empty folder. */
static void
stage_root_make(void)
{
	const char *tmp = getenv("TMPDIR");
	char real[PATH_MAX];
	int fd = -1, made = 0, saved;

	if (tmp == NULL || *tmp != '/')
		tmp = "/tmp";
	if (realpath(tmp, real) == NULL) {
		snprintf(host.stage_why, sizeof host.stage_why, "The folder for staging "
		    "submissions, %.120s: %s. Set TMPDIR to an existing folder.", tmp, strerror(errno));
		return;
	}
	/* firejail mounts over these before it binds the home, which then
	 * cannot be found: measured with /var/tmp, which it always replaces. */
	for (const char *const *f = firejail_covers; *f; f++)
		if (strncmp(real, *f, strlen(*f)) == 0 &&
		    (real[strlen(*f)] == '/' || real[strlen(*f)] == '\0')) {
			snprintf(host.stage_moved, sizeof host.stage_moved, "%.120s", real);
			snprintf(real, sizeof real, "/tmp");
			break;
		}
	sweep(real, 0);
	if (snprintf(host.stage_root, sizeof host.stage_root, "%s/markbook-%ld-XXXXXX", real,
	    (long)getpid()) >= (int)sizeof host.stage_root || mkdtemp(host.stage_root) == NULL)
		goto fail;
	made = 1;
	if ((fd = open(host.stage_root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    fchmod(fd, geteuid() == 0 ? 0711 : 0700) < 0)
		goto fail;
	close(fd);
	if (host.tmpfs && mount("markbook", host.stage_root, "tmpfs", MS_NOSUID | MS_NODEV |
	    MS_NOEXEC, STAGE_ROOT_OPTS) < 0) {
		host.tmpfs = 0;
		snprintf(host.tmpfs_why, sizeof host.tmpfs_why, "markbook could not mount a "
		    "tmpfs (%s)", strerror(errno));
	}
	return;
fail:
	saved = errno;
	snprintf(host.stage_why, sizeof host.stage_why, "Cannot make a folder for staging "
	    "submissions in %.120s: %s. Set TMPDIR to a folder markbook may write to.", real,
	    strerror(saved));
	if (fd >= 0)
		close(fd);
	if (made)
		rmdir(host.stage_root);
	host.stage_root[0] = '\0';
}

/* Where the hierarchy with `controller` ("memory", "pids"; NULL for the
 * unified one) is mounted, into `mnt`, and that joined with this process's
 * place in it, into `out` (both PATH_MAX). Returns 0 or -1. */
static int
own_cgroup(const char *controller, char *out, char *mnt)
{
	char line[1024], mine[PATH_MAX] = "", root[PATH_MAX] = "";
	FILE *f = fopen("/proc/self/cgroup", "re");
	int found = 0;

	while (f && !found && fgets(line, sizeof line, f)) {
		char *ctl = strchr(line, ':'), *path = ctl ? strchr(ctl + 1, ':') : NULL;

		if (path == NULL)
			continue;
		*path++ = '\0';
		path[strcspn(path, "\n")] = '\0';
		ctl++;
		if (controller == NULL ? strcmp(line, "0") == 0 && *ctl == '\0' :
		    strstr(ctl, controller) != NULL) {
			snprintf(mine, sizeof mine, "%s", path);
			found = 1;
		}
	}
	if (f)
		fclose(f);
	if (!found || (f = fopen("/proc/self/mountinfo", "re")) == NULL)
		return -1;
	found = 0;
	while (!found && fgets(line, sizeof line, f)) {
		char r[PATH_MAX], m[PATH_MAX], type[64], opts[512], *dash = strstr(line, " - ");

		if (dash == NULL || sscanf(line, "%*s %*s %*s %4095s %4095s", r, m) != 2 ||
		    sscanf(dash + 3, "%63s %*s %511s", type, opts) != 2 || strchr(m, '\\'))
			continue;
		if (controller == NULL ? strcmp(type, "cgroup2") == 0 :
		    strcmp(type, "cgroup") == 0 && strstr(opts, controller) != NULL) {
			snprintf(mnt, PATH_MAX, "%s", m);
			snprintf(root, sizeof root, "%s", r);
			found = 1;
		}
	}
	fclose(f);
	if (!found)
		return -1;
	/* A mount of a part of the hierarchy (a container's) starts at its root. */
	if (strcmp(root, "/") != 0 && strncmp(mine, root, strlen(root)) == 0)
		memmove(mine, mine + strlen(root), strlen(mine + strlen(root)) + 1);
	return snprintf(out, PATH_MAX, "%s%s", mnt, strcmp(mine, "/") == 0 ? "" : mine) <
	    PATH_MAX ? 0 : -1;
}

/* Whether a control group for sandboxes can be made below `base` (and, for
 * v1, `pids`) and given limits. */
static int
cgroup_probe(enum sandbox_cgroup kind, const char *base, const char *pids)
{
	char dir[PATH_MAX], pdir[PATH_MAX];
	int ok;

	if (snprintf(dir, sizeof dir, "%s/markbook-%ld-probe", base, (long)getpid()) >=
	    (int)sizeof dir || snprintf(pdir, sizeof pdir, "%s/markbook-%ld-probe",
	    pids ? pids : "", (long)getpid()) >= (int)sizeof pdir || mkdir(dir, 0700) < 0)
		return 0;
	if (kind == SANDBOX_CGROUP_V1)
		ok = write_file_in(dir, "memory.limit_in_bytes", "268435456") == 0 &&
		    mkdir(pdir, 0700) == 0 && write_file_in(pdir, "pids.max", "64") == 0;
	else
		ok = write_file_in(dir, "memory.max", "268435456") == 0 &&
		    write_file_in(dir, "pids.max", "64") == 0;
	rmdir(dir);
	if (kind == SANDBOX_CGROUP_V1)
		rmdir(pdir);
	return ok;
}

/* Whether the controllers listed in the file `dir`/`name` include memory and
 * pids. */
static int
memory_and_pids(const char *dir, const char *name)
{
	char text[CGROUP_FILE_MAX];

	return read_file_in(dir, name, text, sizeof text) >= 0 && strstr(text, "memory") &&
	    strstr(text, "pids");
}

/* Choose the control groups. The unified hierarchy when it has the memory and
 * pids controllers: a group "markbook" at its top, since a group with
 * processes in it, such as markbook's own, cannot hand controllers down.
 * Otherwise v1 memory and pids hierarchies, below markbook's own groups. Root
 * only: the hierarchies are root's. */
static void
cgroup_init(void)
{
	char own[PATH_MAX], mnt[PATH_MAX], base[PATH_MAX], pmnt[PATH_MAX];

	if (geteuid() != 0) {
		snprintf(host.cgroup_why, sizeof host.cgroup_why, "markbook does not run as root, "
		    "so it cannot make control groups");
		return;
	}
	if (own_cgroup(NULL, own, mnt) == 0 && memory_and_pids(mnt, "cgroup.controllers")) {
		if (snprintf(base, sizeof base, "%s/markbook", mnt) < (int)sizeof base &&
		    (memory_and_pids(mnt, "cgroup.subtree_control") ||
		    write_file_in(mnt, "cgroup.subtree_control", "+memory +pids") == 0) &&
		    (mkdir(base, 0755) == 0 || errno == EEXIST) &&
		    (memory_and_pids(base, "cgroup.subtree_control") ||
		    write_file_in(base, "cgroup.subtree_control", "+memory +pids") == 0) &&
		    cgroup_probe(SANDBOX_CGROUP_V2, base, NULL)) {
			snprintf(cg_base, sizeof cg_base, "%s", base);
			host.cgroup = SANDBOX_CGROUP_V2;
			sweep(cg_base, 1);
			return;
		}
	}
	if (own_cgroup("memory", cg_base, mnt) == 0 &&
	    own_cgroup("pids", cg_v1_pids, pmnt) == 0 &&
	    cgroup_probe(SANDBOX_CGROUP_V1, cg_base, cg_v1_pids)) {
		host.cgroup = SANDBOX_CGROUP_V1;
		sweep(cg_base, 1);
		sweep(cg_v1_pids, 1);
		return;
	}
	cg_base[0] = cg_v1_pids[0] = '\0';
	snprintf(host.cgroup_why, sizeof host.cgroup_why, "this machine has no control "
	    "groups with the memory and pids controllers that markbook may use");
}

/* At exit, in the process that made them: the stage_root and its tmpfs. A
 * grading process started from markbook (which inherits all this) must not
 * take them away from the others. */
static void
sandbox_cleanup(void)
{
	if (getpid() != host_owner || host.stage_root[0] == '\0')
		return;
	if (host.tmpfs)
		umount2(host.stage_root, MNT_DETACH | UMOUNT_NOFOLLOW);
	fs_remove_tree(host.stage_root);
	host.stage_root[0] = '\0';
}

int
sandbox_init(char *err, size_t errlen)
{
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		return msg_fail(err, errlen, "Cannot become the reaper of the sandboxes' "
		    "processes: %s.", strerror(errno));
	host_owner = getpid();
	/* Mounts made from now on (each home's tmpfs) are markbook's alone, and
	 * the kernel takes them away with its last process, kill -9 too. */
	if (geteuid() != 0)
		snprintf(host.tmpfs_why, sizeof host.tmpfs_why, "markbook does not run as root");
	else if (unshare(CLONE_NEWNS) < 0 ||
	    mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0)
		snprintf(host.tmpfs_why, sizeof host.tmpfs_why, "markbook could not make a mount "
		    "namespace of its own (%s)", strerror(errno));
	else
		host.tmpfs = 1;
	stage_root_make();
	cgroup_init();
	if (atexit(sandbox_cleanup) != 0)
		return msg_fail(err, errlen, "Cannot arrange the clean-up at exit.");
	return 0;
}

void
sandbox_describe(char *out, size_t len, int *weak)
{
	int n;

	*weak = host.cgroup == SANDBOX_CGROUP_NONE || !host.tmpfs || !host.stage_root[0];
	if (host.cgroup != SANDBOX_CGROUP_NONE)
		n = snprintf(out, len, "Memory and processes: each sandbox's processes together "
		    "get at most the exercise's memory_mb, no swap, and a fixed number of "
		    "processes (cgroup %s).\n", host.cgroup == SANDBOX_CGROUP_V1 ? "v1" : "v2");
	else
		n = snprintf(out, len, "Memory and processes: NOT bounded in total, because %s; "
		    "each process gets at most memory_mb of address space and the sandbox user a "
		    "small number of processes, but a submission that starts several processes can "
		    "use more. Run markbook as root on a machine with cgroups to bound the total.\n",
		    host.cgroup_why);
	if (n < 0 || (size_t)n >= len)
		return;
	if (host.stage_moved[0] && n > 0 && (size_t)n < len)
		n += snprintf(out + n, len - (size_t)n, "Staging: TMPDIR (%s) is where firejail "
		    "cannot reach a sandbox's folder, so markbook stages in /tmp.\n",
		    host.stage_moved);
	if (n < 0 || (size_t)n >= len)
		return;
	if (!host.stage_root[0])
		snprintf(out + n, len - (size_t)n, "Files: %s\n", host.stage_why);
	else if (host.tmpfs)
		snprintf(out + n, len - (size_t)n, "Files: each sandbox's folder is a tmpfs of its "
		    "own whose size and number of files the kernel bounds, mounted where only "
		    "markbook sees it.\n");
	else
		snprintf(out + n, len - (size_t)n, "Files: each sandbox's folder is measured while "
		    "it runs and the run stopped when it holds too much; between two looks a "
		    "submission can write more (%s, so there is no tmpfs of its own).\n",
		    host.tmpfs_why);
}

int
sandbox_home_make(struct sandbox_home *h, const struct sandbox_identity *id, char *path,
    size_t pathlen, char *err, size_t errlen)
{
	char opts[96];
	int saved;

	memset(h, 0, sizeof *h);
	h->fd = -1;
	path[0] = '\0';
	if (!host.stage_root[0])
		return msg_fail(err, errlen, "%s", host.stage_why[0] ? host.stage_why :
		    "markbook did not prepare the sandbox (sandbox_init).");
	if (snprintf(path, pathlen, "%s/XXXXXX", host.stage_root) >= (int)pathlen ||
	    mkdtemp(path) == NULL) {
		saved = errno;
		path[0] = '\0';
		goto fail;
	}
	/* noexec: nothing in a home is a program to run. */
	snprintf(opts, sizeof opts, "mode=0700,uid=%u,gid=%u", (unsigned)id->uid,
	    (unsigned)id->gid);
	if (host.tmpfs && mount("markbook", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	    opts) < 0) {
		saved = errno;
		goto fail;
	}
	h->tmpfs = host.tmpfs;
	if ((h->fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    (!h->tmpfs && id->drop && fchown(h->fd, id->uid, id->gid) < 0)) {
		saved = errno;
		goto fail;
	}
	return 0;
fail:
	sandbox_home_remove(h, path);
	return msg_fail(err, errlen, "Cannot make a folder for the sandbox in %s: %s.",
	    host.stage_root, strerror(saved));
}

int
sandbox_home_limit(struct sandbox_home *h, const char *path, unsigned write_mb,
    unsigned entries, char *err, size_t errlen)
{
	unsigned long long bytes = 0;
	unsigned long used = 0;
	struct statfs sf;
	char opts[96];

	if (h->tmpfs) {
		if (fstatfs(h->fd, &sf) < 0)
			goto fail;
		bytes = (unsigned long long)(sf.f_blocks - sf.f_bfree) * (unsigned long long)sf.f_bsize;
		used = (unsigned long)(sf.f_files - sf.f_ffree);
	} else if (fs_tree_usage(path, &bytes, &used) < 0)
		goto fail;
	h->max_bytes = bytes + ((unsigned long long)write_mb << 20);
	h->max_entries = used + entries;
	snprintf(opts, sizeof opts, "size=%llu,nr_inodes=%lu", h->max_bytes, h->max_entries);
	if (h->tmpfs && mount("markbook", path, "tmpfs", MS_REMOUNT | MS_NOSUID | MS_NODEV |
	    MS_NOEXEC, opts) < 0)
		goto fail;
	return 0;
fail:
	return msg_fail(err, errlen, "Cannot set the size of the sandbox's folder %s: %s.",
	    path, strerror(errno));
}

/* Whether the home of `job` is full: its tmpfs has no room left (a write
 * failed with ENOSPC, or is about to), or, as a plain folder, it holds more
 * than its limits. */
static int
home_full(const struct sandbox_job *job)
{
	const struct sandbox_home *h = job->home;
	unsigned long long bytes = 0;
	unsigned long entries = 0;
	struct statfs sf;

	if (h == NULL || h->fd < 0 || job->dir == NULL)
		return 0;
	if (h->tmpfs)
		return fstatfs(h->fd, &sf) == 0 && (sf.f_bfree == 0 || sf.f_ffree == 0);
	if (fs_tree_usage(job->dir, &bytes, &entries) < 0)
		return 0;
	return bytes > h->max_bytes || entries > h->max_entries;
}

void
sandbox_home_remove(struct sandbox_home *h, char *path)
{
	if (path[0] == '\0')
		return;
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
	/* Detached, the tmpfs and all it holds go at once: nothing is walked. */
	if (h->tmpfs)
		umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW);
	fs_remove_tree(path);
	h->tmpfs = 0;
	path[0] = '\0';
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
	if (id->home[0] != '/' || strcmp(id->home, "/") == 0)
		return msg_fail(err, errlen, "The home folder of %s is %s; the sandbox needs one "
		    "of its own, such as /var/lib/%s (tools/install-deps.sh makes it).",
		    pw->pw_name, id->home, SANDBOX_USER);
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

/* Whether `path` leads (through links) into what a sandbox sees anyway, or
 * nowhere: a link such as /bin to /usr/bin or /run/shm to /dev/shm is left
 * alone (hiding it would hide what it leads to). */
static int
link_harmless(const char *path)
{
	char target[PATH_MAX];

	if (realpath(path, target) == NULL)
		return 1;	/* leads nowhere: nothing to see */
	for (const char *const *a = top_allowed; *a; a++) {
		size_t n = strlen(*a);

		if (target[0] == '/' && strncmp(target + 1, *a, n) == 0 &&
		    (target[n + 1] == '/' || target[n + 1] == '\0') && strcmp(*a, "etc") != 0)
			return 1;
	}
	return 0;
}

/* Whether the entry `name` of `dir` ("/", "/run" or "/etc") is seen by a
 * sandbox as it is: the allow-list, and links into what is seen anyway. */
static int
entry_seen(const char *dir, const char *name)
{
	const char *const *allowed = strcmp(dir, "/") == 0 ? top_allowed :
	    strcmp(dir, "/etc") == 0 ? etc_allowed : run_allowed;
	char path[PATH_MAX];
	struct stat st;

	for (const char *const *a = allowed; *a; a++)
		if (strcmp(name, *a) == 0)
			return 1;
	/* Python's own settings, whatever its version: /etc/python3.11 ... */
	if (strcmp(dir, "/etc") == 0 && strncmp(name, "python3", 7) == 0 &&
	    (name[7] == '\0' || name[7] == '.'))
		return 1;
	snprintf(path, sizeof path, "%s/%s", strcmp(dir, "/") == 0 ? "" : dir, name);
	return lstat(path, &st) == 0 && S_ISLNK(st.st_mode) && link_harmless(path);
}

int
sandbox_build_profile(const struct sandbox_job *job, const struct sandbox_identity *id,
    char *text, size_t len)
{
	static const char *const listed[] = { "/", "/run", "/etc" };
	size_t used = 0, home_top = strcspn(id->home + 1, "/");
	const char *const *s;
	struct dirent *de;
	DIR *d = NULL;

/* Append one line to the profile. */
#define LINE(...) do {							\
	int w_ = snprintf(text + used, len - used, __VA_ARGS__);	\
	if (w_ < 0 || (size_t)w_ >= len - used)				\
		goto fail;						\
	used += (size_t)w_;						\
} while (0)

	if (len == 0 || !safe_path(id->home))
		return -1;
	text[0] = '\0';
	for (s = shared_writable; *s; s++)
		LINE("read-only %s\n", *s);
	/* The allow-list: whatever else is in /, /run and /etc now, hidden. The
	 * home's top folder shows the home alone (a home in /home is the only
	 * one firejail's --private leaves there). */
	for (size_t k = 0; k < sizeof listed / sizeof *listed; k++) {
		if ((d = opendir(listed[k])) == NULL) {
			if (k == 0)
				goto fail;
			continue;
		}
		while ((de = readdir(d)) != NULL) {
			const char *name = de->d_name;

			if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
			    entry_seen(listed[k], name))
				continue;
			if (k == 0 && strlen(name) == home_top &&
			    strncmp(name, id->home + 1, home_top) == 0) {
				if (strcmp(name, "home") != 0 && id->home[home_top + 1] == '/')
					LINE("whitelist %s\n", id->home);
				continue;
			}
			if (strpbrk(name, ",\n\r") != NULL)
				goto fail;	/* cannot be hidden: refuse to run */
			LINE("blacklist %s/%s\n", k == 0 ? "" : listed[k], name);
		}
		closedir(d);
		d = NULL;
	}
	/* Seen nowhere in a sandbox already (a private /tmp, a hidden top
	 * folder) unless TMPDIR is somewhere odd: hidden by name as well. */
	if (host.stage_root[0] && safe_path(host.stage_root))
		LINE("blacklist %s\n", host.stage_root);
	for (s = job->hide; s && *s; s++) {
		if (!safe_path(*s))
			goto fail;
		LINE("blacklist %s\n", *s);
	}
	for (s = job->readonly; s && *s; s++) {
		if (!safe_path(*s))
			goto fail;
		LINE("read-only %s\n", *s);
	}
	return (int)used;
fail:
	if (d)
		closedir(d);
	return -1;
#undef LINE
}

int
sandbox_build_argv(const struct sandbox_job *job, const struct sandbox_identity *id,
    const char *profile, const char **argv, size_t max, char *buf, size_t buflen)
{
	static const char *const fixed[] = {
		"--quiet", "--net=none", "--noroot", "--caps.drop=all", "--nonewprivs",
		"--seccomp", "--private-cwd", "--private-tmp", "--private-dev",
		"--ipc-namespace", "--dbus-user=none", "--dbus-system=none",
		"--deterministic-shutdown", NULL
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

	(void)id;
	if (!safe_path(job->dir) || !safe_path(profile) || job->argv == NULL ||
	    job->argv[0] == NULL)
		return -1;
	PUSH(SANDBOX_FIREJAIL);
	for (s = fixed; *s; s++)
		PUSH(*s);
	PUSHF("--profile=%s", profile);
	PUSH(job->linked ? "--keep-fd=3,4,5" : "--keep-fd=3,4");
	PUSHF("--private=%s", job->dir);
	PUSHF("--rlimit-as=%llu", (unsigned long long)l->memory_mb << 20);
	PUSHF("--rlimit-fsize=%llu", (unsigned long long)l->file_mb << 20);
	PUSHF("--rlimit-nofile=%u", l->nofile);
	PUSHF("--rlimit-nproc=%u", host.cgroup != SANDBOX_CGROUP_NONE ? SANDBOX_NPROC_SHARED :
	    l->nproc / 2 ? l->nproc / 2 : 1);
	for (s = job->argv; *s; s++)
		PUSH(*s);
	/* firejail 0.9.72 refuses 128 arguments or more ("too many
	 * arguments"): what grows with the host is in the profile. */
	if (n >= SANDBOX_FIREJAIL_ARGS)
		return -1;
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
    const struct sandbox_identity *id, int out, int rep, int sec, int link, const int *groups)
{
	sigset_t none;
	int fd, sig, last = link >= 0 ? SANDBOX_LINK_FD : SANDBOX_SECRET_FD;

	/* Into the sandbox's control groups before anything runs, while still
	 * root: everything firejail and the command start is counted there. */
	for (int i = 0; i < 2; i++)
		if (groups[i] >= 0 && write(groups[i], "0", 1) != 1)
			child_die("joining the sandbox's control group");
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
	const int *groups;
};

static int
child_main(void *arg)
{
	const struct child_args *a = arg;

	child_exec(a->argv, a->env, a->id, a->out, a->rep, a->sec, a->link, a->groups);
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

/* One sandbox's control groups: v1 has one per controller (memory, pids),
 * v2 one for both. */
struct cg {
	char dir[2][PATH_MAX];	/* "" when not in use */
	int procs[2];		/* their cgroup.procs, open for the child to join */
};

/* Make the control groups of one sandbox with `l`'s limits: memory_mb for
 * all its processes together, no swap, nproc processes (and firejail's). The
 * name carries this process's id, so that a markbook killed before removing
 * them is known at the next start. Returns 0 or -1 (errno). */
static int
cg_make(struct cg *c, const struct sandbox_limits *l)
{
	char name[64], mem[32], pids[32];
	int v1 = host.cgroup == SANDBOX_CGROUP_V1;

	c->procs[0] = c->procs[1] = -1;
	c->dir[0][0] = c->dir[1][0] = '\0';
	if (host.cgroup == SANDBOX_CGROUP_NONE)
		return 0;
	snprintf(name, sizeof name, "markbook-%ld-%lu", (long)getpid(),
	    atomic_fetch_add(&cg_serial, 1));
	snprintf(mem, sizeof mem, "%llu", (unsigned long long)l->memory_mb << 20);
	snprintf(pids, sizeof pids, "%u", l->nproc + SANDBOX_PIDS_FIREJAIL);
	for (int i = 0; i < 1 + v1; i++) {
		if (snprintf(c->dir[i], PATH_MAX, "%s/%s", i == 0 ? cg_base : cg_v1_pids, name) >=
		    PATH_MAX) {
			c->dir[i][0] = '\0';
			errno = ENAMETOOLONG;
			return -1;
		}
		if (mkdir(c->dir[i], 0700) < 0) {
			c->dir[i][0] = '\0';
			return -1;
		}
	}
	if (v1 ? write_file_in(c->dir[0], "memory.limit_in_bytes", mem) < 0 ||
	    /* no swap: absent when the kernel does not account it (then there is
	     * no swap to count either, or the swappiness below holds it off) */
	    (write_file_in(c->dir[0], "memory.memsw.limit_in_bytes", mem) < 0 && errno != ENOENT) ||
	    (write_file_in(c->dir[0], "memory.swappiness", "0") < 0 && errno != ENOENT) ||
	    write_file_in(c->dir[1], "pids.max", pids) < 0 :
	    write_file_in(c->dir[0], "memory.max", mem) < 0 ||
	    (write_file_in(c->dir[0], "memory.swap.max", "0") < 0 && errno != ENOENT) ||
	    write_file_in(c->dir[0], "pids.max", pids) < 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		char path[PATH_MAX + 16];

		if (c->dir[i][0] == '\0')
			continue;
		snprintf(path, sizeof path, "%s/cgroup.procs", c->dir[i]);
		if ((c->procs[i] = open(path, O_WRONLY | O_CLOEXEC)) < 0)
			return -1;
	}
	return 0;
}

/* Whether the kernel killed a process of the sandbox for its memory limit. */
static int
cg_out_of_memory(const struct cg *c)
{
	char text[CGROUP_FILE_MAX];
	const char *file = host.cgroup == SANDBOX_CGROUP_V1 ? "memory.oom_control" :
	    "memory.events";

	return c->dir[0][0] && read_file_in(c->dir[0], file, text, sizeof text) > 0 &&
	    field_of(text, "oom_kill") > 0;
}

/* Kill what is left in the sandbox's control groups and remove them. */
static void
cg_remove(struct cg *c)
{
	for (int i = 0; i < 2; i++) {
		if (c->procs[i] >= 0)
			close(c->procs[i]);
		c->procs[i] = -1;
		if (c->dir[i][0])
			cg_dir_remove(c->dir[i]);
		c->dir[i][0] = '\0';
	}
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
	const char *argv[SANDBOX_FIREJAIL_ARGS];
	char argbuf[8192];
	char profile[PATH_MAX];	/* its firejail profile, "" when none */
	struct cg cg;
	pid_t pid;
	int pidfd, out, rep, out_eof, rep_eof, exited, status;
	int oom_killed;		/* the kernel killed a process of it for memory */
};

/* Write `p`'s firejail profile (sandbox_build_profile) to a file of its own in
 * the stage root: root's when markbook is, readable by firejail, which reads
 * it as the sandbox user, and out of every sandbox's sight. Returns 0, or -1
 * with `err`. */
static int
profile_write(struct proc *p, const struct sandbox_identity *id, char *err, size_t errlen)
{
	char *text = malloc(SANDBOX_PROFILE_MAX);
	int fd = -1, n, rc = -1;

	if (text == NULL)
		return msg_fail(err, errlen, "Out of memory starting the sandbox.");
	if ((n = sandbox_build_profile(p->job, id, text, SANDBOX_PROFILE_MAX)) < 0) {
		msg_fail(err, errlen, "The sandbox could not be set up: a folder or file in /, "
		    "/run or /etc has a comma or a newline in its name, which firejail cannot "
		    "hide (or there are too many). Rename it.");
		goto out;
	}
	if (snprintf(p->profile, sizeof p->profile, "%s/profile-XXXXXX", host.stage_root[0] ?
	    host.stage_root : "/tmp") >= (int)sizeof p->profile ||
	    (fd = mkostemp(p->profile, O_CLOEXEC)) < 0) {
		p->profile[0] = '\0';
		msg_fail(err, errlen, "Cannot write the sandbox's profile: %s.", strerror(errno));
		goto out;
	}
	if (fchmod(fd, 0644) < 0 || write(fd, text, (size_t)n) != n) {
		msg_fail(err, errlen, "Cannot write the sandbox's profile %s: %s.", p->profile,
		    strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(text);
	return rc;
}

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

	if (profile_write(p, id, err, errlen) < 0)
		return -1;
	if (sandbox_build_argv(p->job, id, p->profile, p->argv, sizeof p->argv / sizeof *p->argv,
	    p->argbuf, sizeof p->argbuf) < 0)
		return msg_fail(err, errlen, "The sandbox command could not be built (a path "
		    "contains a comma or newline, or is too long).");
	if ((p->res->output = malloc(SANDBOX_OUTPUT_MAX + 1)) == NULL ||
	    (p->res->report = malloc(SANDBOX_REPORT_MAX + 1)) == NULL)
		return msg_fail(err, errlen, "Out of memory starting the sandbox.");
	if (cg_make(&p->cg, &p->job->limits) < 0)
		return msg_fail(err, errlen, "Cannot make the sandbox's control group: %s.",
		    strerror(errno));
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
	    rep[1], sec[0], link, p->cg.procs };
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
		for (int i = 0; i < 2; i++)
			if (p->cg.dir[i][0])
				cg_kill(p->cg.dir[i]);
		while (waitpid(p->pid, &p->status, 0) < 0 && errno == EINTR)
			;
		reap_group(p->pid);
		p->pid = -1;
	}
	p->oom_killed = p->oom_killed || cg_out_of_memory(&p->cg);
	cg_remove(&p->cg);
	if (p->profile[0])
		unlink(p->profile);
	p->profile[0] = '\0';
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

/* How the run of `procs` must end now: a process killed for memory in any of
 * them, or a home that is full, or SANDBOX_EXITED when neither. */
static enum sandbox_end
over_limits(const struct proc *procs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (procs[i].oom_killed || cg_out_of_memory(&procs[i].cg))
			return SANDBOX_MEMORY_FULL;
	for (size_t i = 0; i < n; i++)
		if (home_full(procs[i].job))
			return SANDBOX_DISK_FULL;
	return SANDBOX_EXITED;
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
	double start = now(), deadline, next_check;

	memset(procs, 0, sizeof procs);
	memset(res, 0, sizeof *res);
	if (peer_res)
		memset(peer_res, 0, sizeof *peer_res);
	for (i = 0; i < 2; i++) {
		procs[i].pid = procs[i].pidfd = procs[i].out = procs[i].rep = -1;
		procs[i].cg.procs[0] = procs[i].cg.procs[1] = -1;
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
	next_check = start + LIMITS_CHECK_MS / 1000.0;
	while (!procs[0].exited && !done) {
		struct pollfd pfd[6];
		double t = now(), wait = (next_check < deadline ? next_check : deadline) - t;
		int ready;

		if (t >= deadline) {
			end = SANDBOX_TIMED_OUT;
			break;
		}
		if (t >= next_check) {
			if ((end = over_limits(procs, n)) != SANDBOX_EXITED)
				break;
			next_check = t + LIMITS_CHECK_MS / 1000.0;
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
	/* A last look: the run may have filled its home, or had a process
	 * killed for memory, just before it exited, and that still counts. The
	 * control groups are gone by now, but not what the kernel counted:
	 * proc_finish() kept it. */
	if (end == SANDBOX_EXITED)
		end = over_limits(procs, n);
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

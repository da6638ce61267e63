#ifndef MARKBOOK_SANDBOX_H
#define MARKBOOK_SANDBOX_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

/* Run one command inside firejail with no network, a filesystem made from an
 * allow-list (the interpreter and its libraries, a few files of /etc, a
 * private /dev and /tmp, its own home folder and nothing else of the host),
 * an IPC namespace of its own, a control group bounding the memory and the
 * processes of all its processes together where the machine has one, and a
 * wall clock kept by markbook. When markbook runs as root the command runs as
 * SANDBOX_USER instead, because firejail keeps uid 0 inside the sandbox.
 * SECURITY.md says what each part holds off. */

#define SANDBOX_USER		"markbook-sandbox"
#define SANDBOX_FIREJAIL	"/usr/bin/firejail"
#define SANDBOX_OUTPUT_MAX	(64 * 1024)		/* stdout+stderr kept */
#define SANDBOX_REPORT_MAX	(4 * 1024 * 1024)	/* report channel kept */
#define SANDBOX_REPORT_FD	3
#define SANDBOX_SECRET_FD	4
#define SANDBOX_LINK_FD		5	/* the socket between two linked sandboxes */
#define SANDBOX_ARGV_MAX	64
#define SANDBOX_HIDE_MAX	16
#define SANDBOX_NICE		10	/* below the web server and the teacher */
#define SANDBOX_CHILD_STACK	(64 * 1024)	/* the child until it execs */
/* firejail's own processes in a sandbox's control group, besides the
 * command's: its parent and the sandbox's first process. */
#define SANDBOX_PIDS_FIREJAIL	4
/* RLIMIT_NPROC of the sandbox user when each sandbox's processes are counted
 * by a control group: only a backstop, shared by every sandbox at once. */
#define SANDBOX_NPROC_SHARED	4096
/* firejail 0.9.72 refuses to start with this many arguments or more. */
#define SANDBOX_FIREJAIL_ARGS	128
#define SANDBOX_PROFILE_MAX	(64 * 1024)	/* a sandbox's firejail profile */

/* What bounds the memory and processes of one sandbox on this machine. */
enum sandbox_cgroup {
	SANDBOX_CGROUP_NONE,	/* rlimits per process only: the total is not bounded */
	SANDBOX_CGROUP_V1,	/* a memory and a pids control group per sandbox (v1) */
	SANDBOX_CGROUP_V2,	/* one control group per sandbox in the unified hierarchy */
};

/* What sandbox_init() found and made. */
struct sandbox_host {
	enum sandbox_cgroup cgroup;
	int tmpfs;		/* homes are size-limited tmpfs mounts in markbook's own
				 * mount namespace, which the host does not see */
	char stage_root[PATH_MAX];	/* where homes are made: markbook's own, 0711
					 * (0700 when not root), hidden from every sandbox;
					 * "" when it could not be made */
	char cgroup_why[256];	/* why no control group is in force, "" */
	char tmpfs_why[256];	/* why homes are plain folders, "" */
	char stage_why[256];	/* why there is no stage_root, "" */
	char stage_moved[128];	/* TMPDIR when it is where firejail cannot reach
				 * a home, so /tmp is used instead; "" */
};

struct sandbox_limits {
	unsigned wall_s;	/* whole run; SIGKILL when over */
	unsigned memory_mb;	/* all the sandbox's processes together (control
				 * group), and the address space of each process */
	unsigned file_mb;	/* size of any one file */
	unsigned nofile;	/* open files per process */
	unsigned nproc;		/* processes of the sandbox (control group); without
				 * one, half as many for the sandbox user in all */
};

/* A sandbox's home folder, made in the host's stage_root. As root it is a
 * tmpfs of its own that the kernel keeps within its size and entries; not as
 * root, a folder measured while the run goes on. Either way nothing markbook
 * does in it after a sandbox ran follows a path the sandbox could change. */
struct sandbox_home {
	int fd;			/* the folder (O_DIRECTORY|O_NOFOLLOW) */
	int tmpfs;
	unsigned long long max_bytes;	/* what it may hold in all */
	unsigned long max_entries;	/* files and folders it may hold, itself included */
};

/* Who the sandboxed command runs as. */
struct sandbox_identity {
	uid_t uid;
	gid_t gid;
	char home[256];		/* the home path inside the sandbox */
	int drop;		/* markbook is root and must switch to uid/gid */
};

struct sandbox_job {
	const char *dir;		/* folder that becomes the sandbox's home and
					 * working directory; owned by the identity */
	const struct sandbox_home *home;	/* `dir` as sandbox_home_make() made it:
					 * the run is stopped when it is full; may be NULL */
	const char *const *argv;	/* command inside, NULL-terminated */
	const char *const *env;		/* its whole environment, NULL-terminated */
	const char *const *hide;	/* absolute paths made invisible, NULL-terminated,
					 * may be NULL */
	const char *const *readonly;	/* paths inside the sandbox made read-only,
					 * NULL-terminated, may be NULL */
	const char *secret;		/* written to SANDBOX_SECRET_FD, then closed */
	int linked;			/* one of a sandbox_run_pair(): keep SANDBOX_LINK_FD */
	const char *done;		/* when the report holds this text the command has
					 * finished its work and the run ends at once,
					 * whatever it left running; may be NULL */
	struct sandbox_limits limits;
};

enum sandbox_end {
	SANDBOX_EXITED,		/* code = exit status of firejail */
	SANDBOX_SIGNALED,	/* code = signal */
	SANDBOX_TIMED_OUT,	/* killed at limits.wall_s */
	SANDBOX_DISK_FULL,	/* killed: its home reached max_bytes or max_entries */
	SANDBOX_MEMORY_FULL,	/* killed: its processes together reached memory_mb */
};

struct sandbox_result {
	enum sandbox_end end;
	int code;
	double seconds;
	char *output;		/* stdout and stderr as they came, NUL-terminated */
	size_t output_len;
	int output_truncated;
	char *report;		/* what the command wrote to SANDBOX_REPORT_FD */
	size_t report_len;
	int report_truncated;
};

/* Call once at start, before any thread. Makes this process the reaper of
 * every sandbox process that firejail leaves behind when it is killed; as
 * root, moves it into a mount namespace of its own (mounts made from here on
 * stay unseen by the host and go with the process); makes the stage_root; and
 * finds the control groups to use. What it could not do weakens the sandbox
 * (sandbox_host() says how) but is not an error. Returns 0, or -1 with a
 * sentence in `err`. At exit the stage_root goes, in the process that made it. */
int sandbox_init(char *err, size_t errlen);

/* What sandbox_init() found; zeros before it ran. */
const struct sandbox_host *sandbox_host(void);

/* Sentences for the teacher (one a line, ending in a newline) on what bounds
 * a submission's memory, processes and files on this machine, and what does
 * not. `weak` is set when a total is not bounded. */
void sandbox_describe(char *out, size_t len, int *weak);

/* Make a fresh home folder for `id` in the stage_root and write its path into
 * `path` (`pathlen` bytes). Returns 0, or -1 with a sentence in `err` (then
 * nothing is left). Undo with sandbox_home_remove(). */
int sandbox_home_make(struct sandbox_home *h, const struct sandbox_identity *id, char *path,
    size_t pathlen, char *err, size_t errlen);

/* Once markbook has put in `h` what a run needs: let the run add at most
 * `write_mb` MiB and `entries` files and folders to that. Returns 0, or -1
 * with a sentence in `err`. */
int sandbox_home_limit(struct sandbox_home *h, const char *path, unsigned write_mb,
    unsigned entries, char *err, size_t errlen);

/* Remove the home at `path` and everything in it (a tmpfs is unmounted, so
 * nothing is walked), then empty `path`. Does nothing when `path` is "": a
 * home is in use exactly while its path is not empty, so a zeroed struct
 * with an empty path is a home not made. */
void sandbox_home_remove(struct sandbox_home *h, char *path);

/* Find who sandboxed commands run as: SANDBOX_USER when markbook is root,
 * otherwise the current user. Returns 0, or -1 with a sentence in `err`. */
int sandbox_identity(struct sandbox_identity *id, char *err, size_t errlen);

/* Write into `text` (`len` bytes) the firejail profile of `job`: the
 * allow-list (a blacklist line for each entry of /, /run and /etc, as they are
 * now, that a sandbox may not see; the home's top folder whitelisted down to
 * the home), the folders made read-only, and `job`'s hide and readonly lists.
 * Returns its length, or -1 when it does not fit or a name could confuse
 * firejail (a comma, a newline): then the run must not start. */
int sandbox_build_profile(const struct sandbox_job *job, const struct sandbox_identity *id,
    char *text, size_t len);

/* Build firejail's argument vector for `job`, with the profile at `profile`,
 * into `argv` (room for `max` pointers, NULL-terminated). Strings it formats
 * are kept in `buf` of size `buflen`. Returns the number of arguments, or -1
 * when something does not fit (firejail takes fewer than
 * SANDBOX_FIREJAIL_ARGS) or a path could confuse firejail. */
int sandbox_build_argv(const struct sandbox_job *job, const struct sandbox_identity *id,
    const char *profile, const char **argv, size_t max, char *buf, size_t buflen);

/* Run `job`. Returns 0 when the command ran (whatever it did: see `res`), or
 * -1 with a sentence in `err` when the sandbox could not be started. No
 * process of the run is left when it returns. The caller frees `res` with
 * sandbox_result_free(), also after a failure. */
int sandbox_run(const struct sandbox_job *job, const struct sandbox_identity *id,
    struct sandbox_result *res, char *err, size_t errlen);

/* Run `job` and `peer` at once, each in its own sandbox, connected by a
 * socket on SANDBOX_LINK_FD in both. The run is `job`'s: its wall clock
 * counts, and the peer is stopped when it ends. Either folder growing past
 * its limits stops both. Returns as sandbox_run() does; free both results,
 * also after a failure. */
int sandbox_run_pair(const struct sandbox_job *job, const struct sandbox_job *peer,
    const struct sandbox_identity *id, struct sandbox_result *res,
    struct sandbox_result *peer_res, char *err, size_t errlen);

void sandbox_result_free(struct sandbox_result *res);

#endif

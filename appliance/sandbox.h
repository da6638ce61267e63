#ifndef MARKBOOK_SANDBOX_H
#define MARKBOOK_SANDBOX_H

#include <stddef.h>
#include <sys/types.h>

/* Run one command inside firejail with no network, nothing writable but its
 * own home folder, resource limits and a wall clock kept by markbook.
 * When markbook runs as root the command runs as SANDBOX_USER instead,
 * because firejail keeps uid 0 inside the sandbox. */

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

struct sandbox_limits {
	unsigned wall_s;	/* whole run; SIGKILL when over */
	unsigned memory_mb;	/* address space of each process */
	unsigned file_mb;	/* size of any one file */
	unsigned disk_mb;	/* everything in the home folder; run killed when over */
	unsigned max_entries;	/* files and folders in the home folder */
	unsigned nofile;	/* open files per process */
	unsigned nproc;		/* processes of the sandbox user */
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
	SANDBOX_DISK_FULL,	/* killed for writing more than disk_mb/max_entries */
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

/* Make this process the reaper of every sandbox process that firejail
 * leaves behind when it is killed. Call once at start, before any thread.
 * Returns 0 or -1. */
int sandbox_init(void);

/* Find who sandboxed commands run as: SANDBOX_USER when markbook is root,
 * otherwise the current user. Returns 0, or -1 with a sentence in `err`. */
int sandbox_identity(struct sandbox_identity *id, char *err, size_t errlen);

/* Build firejail's argument vector for `job` into `argv` (room for `max`
 * pointers, NULL-terminated). Strings it formats are kept in `buf` of size
 * `buflen`. Returns the number of arguments, or -1 when something does not
 * fit or a path could confuse firejail (a comma, a newline). */
int sandbox_build_argv(const struct sandbox_job *job, const struct sandbox_identity *id,
    const char **argv, size_t max, char *buf, size_t buflen);

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

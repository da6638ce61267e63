#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fsutil.h"
#include "unit.h"

#define DEEP	3000	/* folders: far past what a recursive walk's stack held */

/* Make `levels` nested folders "d" below `top` with a file at the bottom,
 * using descriptors (the path would be far past PATH_MAX). */
static int
make_deep(const char *top, int levels)
{
	int fd = open(top, O_RDONLY | O_DIRECTORY), next, f;

	for (int i = 0; fd >= 0 && i < levels; i++) {
		if (mkdirat(fd, "d", 0755) < 0 ||
		    (next = openat(fd, "d", O_RDONLY | O_DIRECTORY)) < 0) {
			close(fd);
			return -1;
		}
		close(fd);
		fd = next;
	}
	if (fd < 0 || (f = openat(fd, "bottom", O_WRONLY | O_CREAT, 0644)) < 0)
		return -1;
	close(f);
	close(fd);
	return 0;
}

int
main(void)
{
	char top[] = "/tmp/markbook-fsutil-XXXXXX", victim[] = "/tmp/markbook-victim-XXXXXX";
	char path[4096], keep[4200];
	unsigned long long bytes = 0;
	unsigned long entries = 0;
	struct rlimit small = { 64 * 1024, 64 * 1024 }, saved;
	struct stat st;

	if (mkdtemp(top) == NULL || mkdtemp(victim) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(keep, sizeof keep, "%s/keep-me", victim);
	fs_write_file(keep, "x", 1, 0644);
	chmod(victim, 0755);
	/* A stack far smaller than the tree is deep, to show no walk recurses. */
	getrlimit(RLIMIT_STACK, &saved);
	TEST("fs_tree_usage counts a tree thousands of folders deep") {
		snprintf(path, sizeof path, "%s/tree", top);
		CHECK(mkdir(path, 0755) == 0 && make_deep(path, DEEP) == 0);
		setrlimit(RLIMIT_STACK, &small);
		CHECK(fs_tree_usage(path, &bytes, &entries) == 0);
		CHECK(entries == DEEP + 2);	/* tree, the folders, the file */
		CHECK(bytes > 0);
	}
	TEST("fs_remove_tree removes a tree thousands of folders deep") {
		CHECK(fs_remove_tree(path) == 0);
		CHECK(lstat(path, &st) < 0 && errno == ENOENT);
	}
	TEST("fs_remove_tree removes links to folders outside, never what they name") {
		char link[4200], inner[4200];

		snprintf(path, sizeof path, "%s/links", top);
		snprintf(link, sizeof link, "%s/victim-link", path);
		CHECK(mkdir(path, 0755) == 0 && symlink(victim, link) == 0);
		snprintf(inner, sizeof inner, "%s/a", path);
		CHECK(mkdir(inner, 0755) == 0);
		snprintf(inner, sizeof inner, "%s/a/b", path);
		CHECK(mkdir(inner, 0) == 0);
		snprintf(link, sizeof link, "%s/a/b/up", path);
		CHECK(symlink(victim, link) == 0);
		snprintf(inner, sizeof inner, "%s/a", path);
		CHECK(chmod(inner, 0) == 0);
		bytes = entries = 0;
		CHECK(fs_tree_usage(path, &bytes, &entries) == 0 && entries == 5);
		CHECK(fs_remove_tree(path) == 0);
		CHECK(lstat(path, &st) < 0 && access(keep, F_OK) == 0);
		CHECK(stat(victim, &st) == 0 && (st.st_mode & 07777) == 0755);
	}
	TEST("fs_tree_usage and fs_remove_tree refuse a top that is a link") {
		snprintf(path, sizeof path, "%s/top-link", top);
		CHECK(symlink(victim, path) == 0);
		bytes = entries = 0;
		CHECK(fs_tree_usage(path, &bytes, &entries) < 0);
		CHECK(fs_remove_tree(path) == 0);	/* the link itself goes */
		CHECK(access(keep, F_OK) == 0);
	}
	setrlimit(RLIMIT_STACK, &saved);
	TEST("fs_copy_tree copies files and folders and skips links") {
		char src[4200], dst[4200], f[4300];
		size_t len;
		char *data;

		snprintf(src, sizeof src, "%s/src", top);
		snprintf(dst, sizeof dst, "%s/dst", top);
		snprintf(f, sizeof f, "%s/sub", src);
		CHECK(mkdir(src, 0755) == 0 && mkdir(f, 0755) == 0);
		snprintf(f, sizeof f, "%s/sub/data.csv", src);
		CHECK(fs_write_file(f, "a,b\n", 4, 0644) == 0);
		snprintf(f, sizeof f, "%s/link", src);
		CHECK(symlink(keep, f) == 0);
		CHECK(fs_copy_tree(src, dst) == 0);
		snprintf(f, sizeof f, "%s/sub/data.csv", dst);
		data = fs_read_file(f, 100, &len);
		CHECK(data != NULL && len == 4 && memcmp(data, "a,b\n", 4) == 0);
		free(data);
		snprintf(f, sizeof f, "%s/link", dst);
		CHECK(lstat(f, &st) < 0);
	}
	TEST("fs_copy_tree stops at FS_COPY_DEPTH folders with ELOOP") {
		char src[4200], dst[4200];

		snprintf(src, sizeof src, "%s/deep-src", top);
		snprintf(dst, sizeof dst, "%s/deep-dst", top);
		CHECK(mkdir(src, 0755) == 0 && make_deep(src, FS_COPY_DEPTH + 1) == 0);
		errno = 0;
		CHECK(fs_copy_tree(src, dst) < 0 && errno == ELOOP);
	}
	TEST("not as root, fs_remove_tree removes folders their owner locked") {
		struct passwd *pw = getpwnam("markbook-sandbox");
		char inner[4200];
		pid_t pid;
		int status = -1;

		snprintf(path, sizeof path, "%s/mine/locked", top);
		snprintf(inner, sizeof inner, "%s/mine", top);
		if (geteuid() != 0 || pw == NULL)
			fprintf(stderr, "  (not root or no sandbox user: run as this user)\n");
		else if ((pid = fork()) == 0) {
			if (chmod(top, 0755) < 0 || mkdir(inner, 0700) < 0 ||
			    chown(inner, pw->pw_uid, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
			    setuid(pw->pw_uid) < 0)
				_exit(2);
			snprintf(inner, sizeof inner, "%s/mine/locked/in", top);
			if (mkdir(path, 0700) < 0 || mkdir(inner, 0700) < 0 ||
			    make_deep(inner, 50) < 0 || chmod(inner, 0) < 0 || chmod(path, 0500) < 0)
				_exit(3);
			_exit(fs_remove_tree(path) == 0 && access(path, F_OK) < 0 ? 0 : 1);
		} else
			waitpid(pid, &status, 0);
		CHECK(geteuid() != 0 || pw == NULL || (WIFEXITED(status) && WEXITSTATUS(status) == 0));
	}
	TEST("fs_remove_tree leaves nothing of the test's folder") {
		CHECK(fs_remove_tree(top) == 0 && access(top, F_OK) < 0);
	}
	fs_remove_tree(victim);
	return unit_done("fsutil");
}

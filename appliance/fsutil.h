#ifndef MARKBOOK_FSUTIL_H
#define MARKBOOK_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

/* Small file helpers shared by the course loader and the grader. The tree
 * walks hold one folder open at a time and keep their way back on the heap,
 * never on the stack: a tree a sandbox made can be any depth. */

#define FS_DEPTH_MAX	(1 << 20)	/* folders deep a walk goes before giving up */
#define FS_COPY_DEPTH	32		/* folders deep fs_copy_tree() copies */
#define FS_COPY_CHUNK	(64 * 1024)	/* bytes copied at a time (on the heap) */

/* Read the whole regular file at `path`, refusing files larger than `max`
 * bytes. Returns a NUL-terminated buffer the caller frees, with its length in
 * `*len`; NULL with errno set on failure (EFBIG when over `max`). */
char *fs_read_file(const char *path, size_t max, size_t *len);

/* Create `path` with `mode` and write `len` bytes, failing if it exists.
 * Returns 0, or -1 with errno set. */
int fs_write_file(const char *path, const void *data, size_t len, mode_t mode);

/* Copy the tree at `src` (regular files and folders only; links are skipped)
 * into the new folder `dst`. Returns 0, or -1 with errno set (ELOOP when
 * folders nest deeper than FS_COPY_DEPTH). */
int fs_copy_tree(const char *src, const char *dst);

/* Remove `path` and everything below it. Below `path` everything goes by
 * descriptors (unlinkat, openat with O_NOFOLLOW), so a link swapped in is
 * removed, never followed. Not as root, a folder made read-only is made
 * writable through a descriptor first. Returns 0, or -1 when something stays
 * (also when a folder is moved while the walk is in it). */
int fs_remove_tree(const char *path);

/* Add the bytes in use (st_blocks) and the number of entries of `path` and
 * everything below it to `*bytes` and `*entries`, through descriptors as
 * fs_remove_tree() does. A tree that changes while it is walked may be
 * counted in part. Returns 0 or -1. */
int fs_tree_usage(const char *path, unsigned long long *bytes, unsigned long *entries);

/* Nonzero when `path` names an existing folder. */
int fs_is_dir(const char *path);

/* Nonzero when the `len` bytes at `s` are valid UTF-8 without NUL bytes;
 * otherwise 0 and `*bad` is the offset of the first bad byte. */
int fs_valid_utf8(const char *s, size_t len, size_t *bad);

#endif

#ifndef MARKBOOK_FSUTIL_H
#define MARKBOOK_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

/* Small file helpers shared by the course loader and the grader. */

/* Read the whole regular file at `path`, refusing files larger than `max`
 * bytes. Returns a NUL-terminated buffer the caller frees, with its length in
 * `*len`; NULL with errno set on failure (EFBIG when over `max`). */
char *fs_read_file(const char *path, size_t max, size_t *len);

/* Create `path` with `mode` and write `len` bytes, failing if it exists.
 * Returns 0, or -1 with errno set. */
int fs_write_file(const char *path, const void *data, size_t len, mode_t mode);

/* Copy the tree at `src` (regular files and folders only; links are skipped)
 * into the new folder `dst`. Returns 0, or -1 with errno set. */
int fs_copy_tree(const char *src, const char *dst);

/* Remove `path` and everything below it, making folders writable first so a
 * submission that chmods its files cannot keep them. Returns 0 or -1. */
int fs_remove_tree(const char *path);

/* Change the owner of `path` and everything below it. Returns 0 or -1. */
int fs_chown_tree(const char *path, uid_t uid, gid_t gid);

/* Bytes in use (st_blocks) and number of entries below `path`.
 * Returns 0 or -1. */
int fs_tree_usage(const char *path, unsigned long long *bytes, unsigned long *entries);

/* Nonzero when `path` names an existing folder. */
int fs_is_dir(const char *path);

/* Nonzero when the `len` bytes at `s` are valid UTF-8 without NUL bytes;
 * otherwise 0 and `*bad` is the offset of the first bad byte. */
int fs_valid_utf8(const char *s, size_t len, size_t *bad);

#endif

#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *
fs_read_file(const char *path, size_t max, size_t *len)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return NULL;
	if (fstat(fd, &st) < 0)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = EISDIR;
		goto fail;
	}
	if ((size_t)st.st_size > max) {
		errno = EFBIG;
		goto fail;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		goto fail;
	/* Read to EOF, not to st_size: the file may change while we read. */
	for (;;) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > (size_t)st.st_size) {
			errno = EFBIG;
			goto fail;
		}
	}
	buf[got] = '\0';
	*len = got;
	close(fd);
	return buf;
fail:
	{
		int saved = errno;
		free(buf);
		close(fd);
		errno = saved;
	}
	return NULL;
}

int
fs_write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	const char *p = data;
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)) < 0)
		return -1;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int saved = errno;
			close(fd);
			errno = saved;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return close(fd);
}

/* The folders a walk has gone down through, by device and inode, and where
 * reading each had got to. On the heap and grown as needed: a deep tree costs
 * memory in proportion, never stack, and the walk holds one folder open. */
struct fs_walk {
	struct fs_level {
		dev_t dev;
		ino_t ino;
		long pos;
	} *v;
	size_t n, cap;
};

/* Remember the folder open on `fd`, read up to `pos`, before going below it.
 * Returns 0, or -1 (ELOOP past FS_DEPTH_MAX, ENOMEM). */
static int
walk_push(struct fs_walk *w, int fd, long pos)
{
	struct stat st;

	if (w->n == FS_DEPTH_MAX) {
		errno = ELOOP;
		return -1;
	}
	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 64;
		struct fs_level *v = realloc(w->v, cap * sizeof *v);

		if (v == NULL)
			return -1;
		w->v = v;
		w->cap = cap;
	}
	if (fstat(fd, &st) < 0)
		return -1;
	w->v[w->n++] = (struct fs_level){ st.st_dev, st.st_ino, pos };
	return 0;
}

/* Go from the folder open on `fd` up to the last one pushed: by "..", which
 * must be that very folder (one moved meanwhile ends the walk with ESTALE
 * rather than taking it somewhere else). Replaces `*fd`; returns the pushed
 * reading position, or -1. */
static long
walk_up(struct fs_walk *w, int *fd)
{
	const struct fs_level *top = &w->v[w->n - 1];
	struct stat st;
	int up = openat(*fd, "..", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (up < 0)
		return -1;
	if (fstat(up, &st) < 0 || st.st_dev != top->dev || st.st_ino != top->ino) {
		close(up);
		errno = ESTALE;
		return -1;
	}
	close(*fd);
	*fd = up;
	w->n--;
	return top->pos;
}

/* Open the folder `name` in the folder `dirfd`, never through a symbolic
 * link. Not as root, a folder the sandbox made unreadable is made readable
 * first: by a descriptor, so a link swapped in is never followed (root needs
 * no mode to read). Returns the descriptor or -1. */
static int
open_dir_at(int dirfd, const char *name)
{
	int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	int fd = openat(dirfd, name, flags);

	if (fd < 0 && errno == EACCES && geteuid() != 0 &&
	    fchmodat(dirfd, name, 0700, AT_SYMLINK_NOFOLLOW) == 0)
		fd = openat(dirfd, name, flags);
	return fd;
}

/* A new reader of the folder open on `fd`, from its first entry, leaving `fd`
 * as it is. NULL on failure. */
static DIR *
read_dir(int fd)
{
	int own = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = own < 0 ? NULL : fdopendir(own);

	if (d == NULL && own >= 0)
		close(own);
	return d;
}

static int
dot_or_dotdot(const char *name)
{
	return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

/* Copy the regular file `name` of folder `from` into folder `to`. */
static int
copy_file_at(int from, int to, const char *name, char *buf, size_t buflen)
{
	int in = openat(from, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), out = -1, rc = -1;
	ssize_t n;

	if (in < 0 || (out = openat(to, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0644)) < 0)
		goto out;
	while ((n = read(in, buf, buflen)) != 0) {
		char *p = buf;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out;
		while (n > 0) {
			ssize_t w = write(out, p, (size_t)n);

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				goto out;
			p += w;
			n -= w;
		}
	}
	rc = 0;
out:
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out) < 0)
		rc = -1;
	return rc;
}

int
fs_copy_tree(const char *src, const char *dst)
{
	struct {
		DIR *from;
		int to;
	} level[FS_COPY_DEPTH];
	struct dirent *de;
	struct stat st;
	char *buf = malloc(FS_COPY_CHUNK);
	int depth = 0, fd, saved;

	if (buf == NULL || mkdir(dst, 0755) < 0)
		goto fail;
	level[0].to = open(dst, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	level[0].from = (fd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ? NULL :
	    fdopendir(fd);
	if (level[0].from == NULL && fd >= 0)
		close(fd);
	if (level[0].to < 0 || level[0].from == NULL) {
		depth = 1;
		goto fail;
	}
	depth = 1;
	while (depth > 0) {
		DIR *from = level[depth - 1].from;
		int to = level[depth - 1].to;

		if ((de = readdir(from)) == NULL) {
			closedir(from);
			close(to);
			depth--;
			continue;
		}
		if (dot_or_dotdot(de->d_name) ||
		    fstatat(dirfd(from), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISREG(st.st_mode)) {
			if (copy_file_at(dirfd(from), to, de->d_name, buf, FS_COPY_CHUNK) < 0)
				goto fail;
		} else if (S_ISDIR(st.st_mode)) {
			if (depth == FS_COPY_DEPTH) {
				errno = ELOOP;
				goto fail;
			}
			if (mkdirat(to, de->d_name, 0755) < 0)
				goto fail;
			level[depth].to = openat(to, de->d_name, O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);
			fd = openat(dirfd(from), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			    O_CLOEXEC);
			level[depth].from = fd < 0 ? NULL : fdopendir(fd);
			if (level[depth].from == NULL && fd >= 0)
				close(fd);
			depth++;
			if (level[depth - 1].to < 0 || level[depth - 1].from == NULL)
				goto fail;
		}
	}
	free(buf);
	return 0;
fail:
	saved = errno;
	while (depth-- > 0) {
		if (level[depth].from)
			closedir(level[depth].from);
		if (level[depth].to >= 0)
			close(level[depth].to);
	}
	free(buf);
	errno = saved;
	return -1;
}

/* Empty the folder open on `fd` (owned: closed here) and everything below it,
 * one folder open at a time: each folder is read from its start again after
 * coming back up to it, and by then what was below is gone, so no reading
 * position has to survive. Returns 0, or -1 when something stays. */
static int
empty_dir(int fd)
{
	struct fs_walk w = { 0 };
	struct dirent *de;
	int rc = -1;

	for (;;) {
		DIR *d = read_dir(fd);
		int below = -1, fixed = 0, stuck = 0;

		if (d == NULL)
			goto out;
		while ((de = readdir(d)) != NULL) {
			const char *name = de->d_name;

			if (dot_or_dotdot(name) || unlinkat(fd, name, 0) == 0)
				continue;
			if (errno == EISDIR || errno == EPERM) {
				if (unlinkat(fd, name, AT_REMOVEDIR) == 0)
					continue;
				if (errno == ENOTEMPTY || errno == EEXIST) {
					stuck = (below = open_dir_at(fd, name)) < 0;
					break;
				}
			}
			/* Not as root: a folder the sandbox made read-only. Its
			 * mode is changed through our descriptor, never a path. */
			if (errno == EACCES && !fixed && geteuid() != 0 && fchmod(fd, 0700) == 0) {
				fixed = 1;
				rewinddir(d);
				continue;
			}
			closedir(d);
			goto out;
		}
		closedir(d);
		if (stuck)
			goto out;	/* a folder below could not be opened */
		if (below >= 0) {
			if (walk_push(&w, fd, 0) < 0) {
				close(below);
				goto out;
			}
			close(fd);
			fd = below;
			continue;
		}
		if (w.n == 0)
			break;
		if (walk_up(&w, &fd) < 0)
			goto out;
	}
	rc = 0;
out:
	close(fd);
	free(w.v);
	return rc;
}

int
fs_remove_tree(const char *path)
{
	char parent[PATH_MAX], *slash;
	const char *base = path;
	struct stat st;
	int pfd = -1, fd, rc = -1;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlink(path);
	if (snprintf(parent, sizeof parent, "%s", path) >= (int)sizeof parent) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((slash = strrchr(parent, '/')) == NULL)
		snprintf(parent, sizeof parent, ".");
	else {
		base = path + (slash - parent) + 1;
		slash[slash == parent] = '\0';	/* "/x" keeps its "/" */
	}
	if ((pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (fd = open_dir_at(pfd, base)) < 0)
		goto out;
	if (empty_dir(fd) == 0 && unlinkat(pfd, base, AT_REMOVEDIR) == 0)
		rc = 0;
out:
	if (pfd >= 0)
		close(pfd);
	return rc;
}

int
fs_tree_usage(const char *path, unsigned long long *bytes, unsigned long *entries)
{
	struct fs_walk w = { 0 };
	struct dirent *de;
	struct stat st;
	DIR *d = NULL;
	long resume = 0;
	int fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    fstat(fd, &st) < 0)
		goto out;
	*bytes += (unsigned long long)st.st_blocks * 512;
	*entries += 1;
	for (;;) {
		if ((d = read_dir(fd)) == NULL)
			goto out;
		if (resume > 0)
			seekdir(d, resume);
		resume = 0;
		while ((de = readdir(d)) != NULL) {
			int below;

			if (dot_or_dotdot(de->d_name) ||
			    fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			*bytes += (unsigned long long)st.st_blocks * 512;
			*entries += 1;
			if (!S_ISDIR(st.st_mode) || (below = open_dir_at(fd, de->d_name)) < 0)
				continue;
			if (walk_push(&w, fd, telldir(d)) < 0) {
				close(below);
				goto out;
			}
			close(fd);
			fd = below;
			break;
		}
		if (de != NULL) {
			closedir(d);
			d = NULL;
			continue;
		}
		closedir(d);
		d = NULL;
		if (w.n == 0)
			break;
		if ((resume = walk_up(&w, &fd)) < 0)
			goto out;
	}
	rc = 0;
out:
	if (d)
		closedir(d);
	if (fd >= 0)
		close(fd);
	free(w.v);
	return rc;
}

int
fs_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int
fs_valid_utf8(const char *s, size_t len, size_t *bad)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		unsigned c = p[i];
		size_t need, k;
		unsigned cp;

		if (c == 0)
			goto bad;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			cp = c & 0x07;
		} else
			goto bad;
		for (k = 1; k <= need; k++) {
			if (i + k >= len || (p[i + k] & 0xc0) != 0x80)
				goto bad;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		/* Overlong forms, surrogates and code points past U+10FFFF. */
		if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			goto bad;
		i += need + 1;
	}
	return 1;
bad:
	*bad = i;
	return 0;
}

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

static int
join(char *out, size_t size, const char *a, const char *b)
{
	int n = snprintf(out, size, "%s/%s", a, b);

	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
fs_copy_tree(const char *src, const char *dst)
{
	char from[PATH_MAX], to[PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *d;
	int rc = -1;

	if (mkdir(dst, 0755) < 0)
		return -1;
	if ((d = opendir(src)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (join(from, sizeof from, src, de->d_name) < 0 ||
		    join(to, sizeof to, dst, de->d_name) < 0)
			goto out;
		if (lstat(from, &st) < 0)
			goto out;
		if (S_ISDIR(st.st_mode)) {
			if (fs_copy_tree(from, to) < 0)
				goto out;
		} else if (S_ISREG(st.st_mode)) {
			size_t len;
			char *data = fs_read_file(from, (size_t)st.st_size, &len);
			int w;

			if (data == NULL)
				goto out;
			w = fs_write_file(to, data, len, 0644);
			free(data);
			if (w < 0)
				goto out;
		}
	}
	rc = 0;
out:
	closedir(d);
	return rc;
}

int
fs_remove_tree(const char *path)
{
	char child[PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *d;
	int rc = 0;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlink(path);
	chmod(path, 0700);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (join(child, sizeof child, path, de->d_name) < 0 ||
		    fs_remove_tree(child) < 0)
			rc = -1;
	}
	closedir(d);
	if (rmdir(path) < 0)
		rc = -1;
	return rc;
}

int
fs_chown_tree(const char *path, uid_t uid, gid_t gid)
{
	char child[PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *d;
	int rc = 0;

	if (lchown(path, uid, gid) < 0 || lstat(path, &st) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode))
		return 0;
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (join(child, sizeof child, path, de->d_name) < 0 ||
		    fs_chown_tree(child, uid, gid) < 0)
			rc = -1;
	}
	closedir(d);
	return rc;
}

int
fs_tree_usage(const char *path, unsigned long long *bytes, unsigned long *entries)
{
	char child[PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *d;

	if (lstat(path, &st) < 0)
		return -1;
	*bytes += (unsigned long long)st.st_blocks * 512;
	*entries += 1;
	if (!S_ISDIR(st.st_mode))
		return 0;
	/* A folder the sandbox made unreadable must not hide what is in it;
	 * markbook runs as root or as the folder's owner, so it can open it. */
	if ((d = opendir(path)) == NULL &&
	    (chmod(path, 0700) < 0 || (d = opendir(path)) == NULL))
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (join(child, sizeof child, path, de->d_name) < 0)
			continue;
		fs_tree_usage(child, bytes, entries);
	}
	closedir(d);
	return 0;
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

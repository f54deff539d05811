/*
 * maildir: Maildir++ names, creation, durable delivery and size accounting
 * (see maildir.h).  Used by local delivery as the mailbox owner; later by
 * POP3 and IMAP.  Trusts the caller's paths, nothing in the directories.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "maildir.h"
#include "util.h"

#define COPY_CHUNK	65536

int
maildir_name(char *out, size_t outsize, int64_t secs, long usec, long pid,
    unsigned long count, const char *host, uint64_t size)
{
	struct buf h = BUF_INIT(MAILDIR_NAME_MAX);
	int r = 0;

	for (const char *p = host; *p != '\0' && r == 0; p++) {
		if (*p == '/')
			r = buf_puts(&h, "\\057");
		else if (*p == ':')
			r = buf_puts(&h, "\\072");
		else if (*p == ',')
			r = buf_puts(&h, "\\054");
		else
			r = buf_putc(&h, *p);
	}
	if (r == 0)
		r = str_format(out, outsize, "%" PRId64 ".M%ldP%ldQ%lu.%s,S=%" PRIu64,
		    secs, usec, pid, count, buf_cstr(&h), size);
	if (r == 0 && strlen(out) > MAILDIR_NAME_MAX)
		r = -1;
	buf_free(&h);
	return r;
}

int
maildir_name_size(const char *name, uint64_t *size)
{
	const char *info = strstr(name, ":2,"), *p = name, *s = NULL;
	uint64_t v = 0;

	/* the last ",S=" before the info part */
	while ((p = strstr(p, ",S=")) != NULL && (info == NULL || p < info))
		s = p++;
	if (s == NULL)
		return 0;
	s += 3;
	if (*s < '0' || *s > '9')
		return 0;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - 9) / 10)
			return 0;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (*s != '\0' && *s != ',' && *s != ':')
		return 0;
	*size = v;
	return 1;
}

int
maildir_folder_valid(const char *name, size_t len)
{
	size_t i;

	if (len == 0 || len > MAILDIR_FOLDER_MAX || name[0] == '.' || name[len - 1] == '.')
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c < 0x21 || c > 0x7e || c == '/')
			return 0;
		if (c == '.' && name[i + 1] == '.')
			return 0;
	}
	return 1;
}

/* mkdir that accepts an existing directory (not a symlink).  0/-1. */
static int
make_dir(const char *path)
{
	struct stat st;

	if (mkdir(path, 0700) == 0)
		return 0;
	if (errno != EEXIST)
		return -1;
	if (lstat(path, &st) == -1)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

int
maildir_make(const char *dir, int is_folder)
{
	static const char *const subs[] = { "tmp", "new", "cur" };
	char path[PATH_MAX];
	size_t i;
	int fd;

	if (make_dir(dir) == -1)
		return -1;
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		if (str_format(path, sizeof(path), "%s/%s", dir, subs[i]) == -1) {
			errno = ENAMETOOLONG;
			return -1;
		}
		if (make_dir(path) == -1)
			return -1;
	}
	if (is_folder) {
		if (str_format(path, sizeof(path), "%s/maildirfolder", dir) == -1) {
			errno = ENAMETOOLONG;
			return -1;
		}
		fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd == -1 || close(fd) == -1)
			return -1;
	}
	if (fsync_dir(dir) == -1 || fsync_parent(dir) == -1)
		return -1;
	return 0;
}

int
maildir_make_virtual(const char *dir)
{
	char parent[PATH_MAX];
	const char *slash = strrchr(dir, '/');
	size_t n = slash != NULL ? (size_t)(slash - dir) : 0;

	if (n > 0) {
		if (n >= sizeof(parent)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(parent, dir, n);
		parent[n] = '\0';
		if (mkdir(parent, 0700) == 0) {
			if (fsync_parent(parent) == -1)
				return -1;
		} else if (errno != EEXIST)
			return -1;
	}
	return maildir_make(dir, 0);
}

int
maildir_exists(const char *path)
{
	static const char *const subs[] = { "tmp", "new", "cur" };
	char sub[PATH_MAX];
	struct stat st;
	size_t i;

	if (lstat(path, &st) == -1)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return 0;
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		if (str_format(sub, sizeof(sub), "%s/%s", path, subs[i]) == -1)
			return errno = ENAMETOOLONG, -1;
		if (lstat(sub, &st) == -1)
			return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
		if (!S_ISDIR(st.st_mode))
			return 0;
	}
	return 1;
}

/* Write prefix then msglen octets of msgfd to fd and fsync it.  0/-1. */
static int
copy_message(int fd, const void *prefix, size_t prefixlen, int msgfd, uint64_t msglen)
{
	char *chunk = malloc(COPY_CHUNK);
	uint64_t off = 0;
	ssize_t n;
	int rc = -1;

	if (chunk == NULL)
		return -1;
	if (write_all(fd, prefix, prefixlen) == -1)
		goto out;
	while (off < msglen) {
		size_t want = msglen - off < COPY_CHUNK ? (size_t)(msglen - off) : COPY_CHUNK;

		n = pread(msgfd, chunk, want, (off_t)off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EPIPE;	/* the message is shorter than promised */
			goto out;
		}
		if (write_all(fd, chunk, (size_t)n) == -1)
			goto out;
		off += (uint64_t)n;
	}
	rc = fsync(fd);
out:
	free(chunk);
	return rc;
}

/* One process can deliver several messages in the same microsecond. */
static unsigned long maildir_count;

int
maildir_deliver(const char *dir, const char *host, const void *prefix,
    size_t prefixlen, int msgfd, uint64_t msglen, char *name_out, size_t name_size)
{
	char tmp[PATH_MAX], new[PATH_MAX], newdir[PATH_MAX];
	struct timespec ts;
	int fd, saved;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1 ||
	    maildir_name(name_out, name_size, (int64_t)ts.tv_sec, ts.tv_nsec / 1000,
	    (long)getpid(), ++maildir_count, host, prefixlen + msglen) == -1 ||
	    str_format(tmp, sizeof(tmp), "%s/tmp/%s", dir, name_out) == -1 ||
	    str_format(new, sizeof(new), "%s/new/%s", dir, name_out) == -1 ||
	    str_format(newdir, sizeof(newdir), "%s/new", dir) == -1)
		return errno = ENAMETOOLONG, -1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1)
		return -1;
	if (copy_message(fd, prefix, prefixlen, msgfd, msglen) == -1) {
		saved = errno;
		(void)close(fd);
		goto fail;
	}
	if (close(fd) == -1) {
		saved = errno;
		goto fail;
	}
	if (link(tmp, new) == -1) {
		if (errno != EPERM && errno != ENOSYS && errno != EXDEV) {
			saved = errno;
			goto fail;
		}
		/* no hard links here (some network file systems): rename */
		if (rename(tmp, new) == -1) {
			saved = errno;
			goto fail;
		}
	} else if (unlink(tmp) == -1 && errno != ENOENT) {
		/* the message is in new/; a stale tmp/ file is harmless */
	}
	if (fsync_dir(newdir) == -1) {
		saved = errno;
		(void)unlink(new);
		(void)unlink(tmp);
		errno = saved;
		return -1;
	}
	return 0;
fail:
	(void)unlink(tmp);
	errno = saved;
	return -1;
}

/* Add the sizes of the messages in dir (a cur/ or new/) to *size.  0/-1. */
static int
sum_dir(const char *dir, uint64_t *size)
{
	char path[PATH_MAX];
	struct dirent *de;
	struct stat st;
	uint64_t s;
	int saved;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (!maildir_name_size(de->d_name, &s)) {
			if (str_format(path, sizeof(path), "%s/%s", dir, de->d_name) == -1 ||
			    lstat(path, &st) == -1 || !S_ISREG(st.st_mode))
				continue;	/* gone, or not a message */
			s = (uint64_t)st.st_size;
		}
		*size = *size + s < *size ? UINT64_MAX : *size + s;
	}
	saved = errno;
	closedir(d);
	errno = saved;
	return saved != 0 ? -1 : 0;
}

/* cur/ and new/ of one Maildir into *size.  0/-1. */
static int
sum_maildir(const char *dir, uint64_t *size)
{
	char path[PATH_MAX];

	if (str_format(path, sizeof(path), "%s/cur", dir) == -1 || sum_dir(path, size) == -1 ||
	    str_format(path, sizeof(path), "%s/new", dir) == -1 || sum_dir(path, size) == -1)
		return -1;
	return 0;
}

int
maildir_size(const char *dir, uint64_t *size)
{
	char path[PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *d;
	int saved;

	*size = 0;
	if (sum_maildir(dir, size) == -1)
		return -1;
	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.' || strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (str_format(path, sizeof(path), "%s/%s", dir, de->d_name) == -1 ||
		    lstat(path, &st) == -1 || !S_ISDIR(st.st_mode))
			continue;
		if (sum_maildir(path, size) == -1)
			break;
	}
	saved = errno;
	closedir(d);
	errno = saved;
	return saved != 0 ? -1 : 0;
}

int
maildir_over_quota(uint64_t cur, uint64_t add, uint64_t quota)
{
	if (quota == 0)
		return 0;
	return cur > quota || add > quota - cur;
}

/*
 * util: number/duration/size parsers, durable file writes and descriptor
 * helpers used by every postern process.  Parsers trust nothing: strict
 * syntax, overflow-checked.  File helpers trust only the caller's path.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <bsd/stdlib.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

/* Largest duration accepted: its value in milliseconds still fits int64_t. */
#define DURATION_MAX ((uint64_t)INT64_MAX / 1000)

/* Parse leading decimal digits of s (at least one); *end after them. */
static int
parse_digits(const char *s, uint64_t *out, const char **end)
{
	uint64_t v = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	*end = p;
	return 0;
}

int
parse_duration(const char *s, time_t *out)
{
	uint64_t v, mult = 1;
	const char *end;

	if (s == NULL || parse_digits(s, &v, &end) == -1)
		return -1;
	switch (*end) {
	case '\0':
		break;
	case 's': mult = 1; end++; break;
	case 'm': mult = 60; end++; break;
	case 'h': mult = 3600; end++; break;
	case 'd': mult = 86400; end++; break;
	case 'w': mult = 7 * 86400; end++; break;
	default:
		return -1;
	}
	if (*end != '\0' || v > DURATION_MAX / mult)
		return -1;
	*out = (time_t)(v * mult);
	return 0;
}

int
parse_size(const char *s, uint64_t *out)
{
	uint64_t v, mult = 1;
	const char *end;

	if (s == NULL || parse_digits(s, &v, &end) == -1)
		return -1;
	switch (*end) {
	case '\0':
		break;
	case 'k': case 'K': mult = 1024; end++; break;
	case 'm': case 'M': mult = 1024 * 1024; end++; break;
	case 'g': case 'G': mult = 1024 * 1024 * 1024; end++; break;
	default:
		return -1;
	}
	if (*end != '\0' || v > UINT64_MAX / mult)
		return -1;
	*out = v * mult;
	return 0;
}

int
parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v;
	const char *end;

	if (s == NULL || parse_digits(s, &v, &end) == -1 || *end != '\0')
		return -1;
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
parse_bool(const char *s)
{
	if (s == NULL)
		return -1;
	if (strcmp(s, "yes") == 0)
		return 1;
	if (strcmp(s, "no") == 0)
		return 0;
	return -1;
}

int
write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);

		if (w == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int
fsync_dir(const char *dirpath)
{
	int fd, r, saved;

	fd = open(dirpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	r = fsync(fd);
	saved = errno;
	if (close(fd) == -1 && r == 0)
		return -1;
	errno = saved;
	return r == -1 ? -1 : 0;
}

int
fsync_parent(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n;

	if (slash == NULL)
		return fsync_dir(".");
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(dir, path, n);
	dir[n] = '\0';
	return fsync_dir(dir);
}

int
atomic_begin(const char *path, char *tmp, size_t tmpsize)
{
	if (str_format(tmp, tmpsize, "%s.tmp.%ld.%08x", path, (long)getpid(),
	    arc4random()) == -1) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return open(tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
}

int
atomic_end(int fd, const char *tmp, const char *path, int ok)
{
	int saved = 0;

	if (!ok)
		saved = errno ? errno : EIO;
	else if (fsync(fd) == -1)
		saved = errno;
	if (close(fd) == -1 && saved == 0)
		saved = errno;
	if (saved == 0 && rename(tmp, path) == -1)
		saved = errno;
	if (saved != 0) {
		if (unlink(tmp) == -1) {
			/* best effort; the first error is the one that matters */
		}
		errno = saved;
		return -1;
	}
	return fsync_parent(path);
}

int
write_file_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	int fd;

	if ((fd = atomic_begin(path, tmp, sizeof(tmp))) == -1)
		return -1;
	return atomic_end(fd, tmp, path,
	    fchmod(fd, mode) == 0 && write_all(fd, data, len) == 0);
}

int
read_file(const char *path, struct buf *b, size_t max)
{
	char chunk[8192];
	size_t start = b->len, got = 0;
	int fd, saved;
	ssize_t r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd == -1)
		return -1;
	for (;;) {
		r = read(fd, chunk, sizeof(chunk));
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if ((size_t)r > max - got) {
			errno = EFBIG;
			r = -1;
			break;
		}
		if (buf_append(b, chunk, (size_t)r) == -1) {
			errno = ENOBUFS;
			r = -1;
			break;
		}
		got += (size_t)r;
	}
	saved = errno;
	if (close(fd) == -1 && r == 0)
		saved = errno, r = -1;
	if (r == -1) {
		buf_truncate(b, start);
		errno = saved;
		return -1;
	}
	return 0;
}

int64_t
now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
timeout_left_ms(int64_t per_wait_ms, int64_t deadline_ms)
{
	int64_t now = now_ms(), t = per_wait_ms;

	if (deadline_ms <= now)
		return 1;
	if (deadline_ms - now < t)
		t = deadline_ms - now;
	if (t < 1)
		t = 1;
	if (t > INT_MAX)
		t = INT_MAX;
	return (int)t;
}

static int
is_kept(int fd, const int *keep, int nkeep)
{
	for (int i = 0; i < nkeep; i++)
		if (keep[i] == fd)
			return 1;
	return 0;
}

/* Fallback without close_range: walk /proc/self/fd, or every possible fd. */
static void
close_fds_slow(int lowfd, const int *keep, int nkeep)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	long max;

	if (d != NULL) {
		int dfd = dirfd(d);

		while ((de = readdir(d)) != NULL) {
			char *end;
			long fd = strtol(de->d_name, &end, 10);

			if (*end != '\0' || end == de->d_name || fd < lowfd ||
			    fd == dfd || fd > INT_MAX || is_kept((int)fd, keep, nkeep))
				continue;
			if (close((int)fd) == -1) {
				/* EBADF: already gone */
			}
		}
		if (closedir(d) == -1) {
			/* nothing to do */
		}
		return;
	}
	max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > INT_MAX)
		max = 65536;
	for (long fd = lowfd; fd < max; fd++)
		if (!is_kept((int)fd, keep, nkeep) && close((int)fd) == -1) {
			/* EBADF: not open */
		}
}

void
close_fds_from(int lowfd, const int *keep, int nkeep)
{
	unsigned start = lowfd < 0 ? 0 : (unsigned)lowfd;

	/* Close the gaps between kept descriptors, lowest gap first. */
	for (;;) {
		unsigned next = UINT_MAX;

		for (int i = 0; i < nkeep; i++)
			if (keep[i] >= 0 && (unsigned)keep[i] >= start &&
			    (unsigned)keep[i] < next)
				next = (unsigned)keep[i];
		if (next > start && close_range(start, next - 1, 0) == -1) {
			close_fds_slow((int)start, keep, nkeep);
			return;
		}
		if (next == UINT_MAX)
			return;
		start = next + 1;
	}
}

int
fd_set_nonblock(int fd, int on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl == -1)
		return -1;
	fl = on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
	return fcntl(fd, F_SETFL, fl) == -1 ? -1 : 0;
}

int
fd_set_cloexec(int fd, int on)
{
	int fl = fcntl(fd, F_GETFD);

	if (fl == -1)
		return -1;
	fl = on ? fl | FD_CLOEXEC : fl & ~FD_CLOEXEC;
	return fcntl(fd, F_SETFD, fl) == -1 ? -1 : 0;
}

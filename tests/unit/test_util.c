/*
 * Unit tests for common/util: duration/size/uint/bool parsers (table
 * driven), atomic file writes, read_file limits, descriptor helpers.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "util.h"

static const struct { const char *s; int ok; time_t v; } durations[] = {
	{ "0", 1, 0 }, { "30", 1, 30 }, { "30s", 1, 30 }, { "5m", 1, 300 },
	{ "4h", 1, 14400 }, { "5d", 1, 432000 }, { "2w", 1, 1209600 },
	{ "0s", 1, 0 }, { "007m", 1, 420 },
	{ "9223372036854775s", 1, 9223372036854775 },	/* INT64_MAX / 1000 */
	{ "9223372036854776s", 0, 0 }, { "106751991167301d", 0, 0 },
	{ "99999999999999999999", 0, 0 }, { "18446744073709551616", 0, 0 },
	{ "", 0, 0 }, { "s", 0, 0 }, { "m5", 0, 0 }, { "5x", 0, 0 },
	{ "5ms", 0, 0 }, { "5 m", 0, 0 }, { " 5m", 0, 0 }, { "5m ", 0, 0 },
	{ "-5", 0, 0 }, { "+5", 0, 0 }, { "5M", 0, 0 }, { "1.5h", 0, 0 },
	{ "0x10", 0, 0 },
};

static const struct { const char *s; int ok; uint64_t v; } sizes[] = {
	{ "0", 1, 0 }, { "512", 1, 512 }, { "512K", 1, 524288 },
	{ "512k", 1, 524288 }, { "35M", 1, 36700160 }, { "1G", 1, 1073741824 },
	{ "1g", 1, 1073741824 }, { "18446744073709551615", 1, UINT64_MAX },
	{ "18446744073709551616", 0, 0 }, { "17179869184G", 0, 0 },
	{ "17179869183G", 1, 17179869183ULL << 30 },
	{ "", 0, 0 }, { "K", 0, 0 }, { "1KB", 0, 0 }, { "1T", 0, 0 },
	{ "-1", 0, 0 }, { "+1", 0, 0 }, { " 1", 0, 0 }, { "1 ", 0, 0 },
	{ "1.5M", 0, 0 },
};

static const struct { const char *s; uint64_t min, max; int ok; uint64_t v; } uints[] = {
	{ "0", 0, 10, 1, 0 }, { "10", 0, 10, 1, 10 }, { "11", 0, 10, 0, 0 },
	{ "0", 1, 10, 0, 0 }, { "1", 1, 10, 1, 1 },
	{ "18446744073709551615", 0, UINT64_MAX, 1, UINT64_MAX },
	{ "18446744073709551616", 0, UINT64_MAX, 0, 0 },
	{ "", 0, 10, 0, 0 }, { "-1", 0, 10, 0, 0 }, { "+1", 0, 10, 0, 0 },
	{ "1a", 0, 10, 0, 0 }, { " 1", 0, 10, 0, 0 }, { "1K", 0, 10000, 0, 0 },
};

static void
test_parsers(void)
{
	for (size_t i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
		time_t t = -7;
		int r = parse_duration(durations[i].s, &t);

		if (durations[i].ok)
			CHECK(r == 0 && t == durations[i].v);
		else
			CHECK(r == -1 && t == -7);
		if ((r == 0) != durations[i].ok)
			fprintf(stderr, "  duration '%s'\n", durations[i].s);
	}
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t v = 7;
		int r = parse_size(sizes[i].s, &v);

		if (sizes[i].ok)
			CHECK(r == 0 && v == sizes[i].v);
		else
			CHECK(r == -1 && v == 7);
		if ((r == 0) != sizes[i].ok)
			fprintf(stderr, "  size '%s'\n", sizes[i].s);
	}
	for (size_t i = 0; i < sizeof(uints) / sizeof(uints[0]); i++) {
		uint64_t v = 7;
		int r = parse_uint(uints[i].s, uints[i].min, uints[i].max, &v);

		if (uints[i].ok)
			CHECK(r == 0 && v == uints[i].v);
		else
			CHECK(r == -1 && v == 7);
	}
	CHECK(parse_bool("yes") == 1);
	CHECK(parse_bool("no") == 0);
	CHECK(parse_bool("") == -1);
	CHECK(parse_bool("YES") == -1);
	CHECK(parse_bool("1") == -1);
	CHECK(parse_bool("yes ") == -1);
}

/* Number of entries in dir whose name starts with prefix. */
static int
count_prefix(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(d);
	return n;
}

static void
test_atomic(const char *dir)
{
	char path[512], sub[512];
	struct buf b = BUF_INIT(1 << 20);
	struct stat sb;

	CHECK(str_format(path, sizeof(path), "%s/file", dir) == 0);
	CHECK(write_file_atomic(path, "hello\n", 6, 0640) == 0);
	CHECK(read_file(path, &b, 100) == 0);
	CHECK(b.len == 6 && memcmp(b.data, "hello\n", 6) == 0);
	CHECK(stat(path, &sb) == 0 && (sb.st_mode & 07777) == 0640);

	/* Replacing: new content and mode, old content gone. */
	CHECK(write_file_atomic(path, "x", 1, 0600) == 0);
	buf_reset(&b);
	CHECK(read_file(path, &b, 100) == 0);
	CHECK(buf_eq(&b, "x"));
	CHECK(stat(path, &sb) == 0 && (sb.st_mode & 07777) == 0600);

	/* Empty content. */
	CHECK(write_file_atomic(path, "", 0, 0644) == 0);
	CHECK(stat(path, &sb) == 0 && sb.st_size == 0);
	CHECK(count_prefix(dir, "file") == 1);	/* no file.tmp.* left over */

	/* Failure: the target is a directory, so rename fails; temp removed. */
	CHECK(str_format(sub, sizeof(sub), "%s/adir", dir) == 0);
	CHECK(mkdir(sub, 0700) == 0);
	CHECK(str_format(path, sizeof(path), "%s/adir/inner", dir) == 0);
	CHECK(mkdir(path, 0700) == 0);
	CHECK(write_file_atomic(sub, "data", 4, 0600) == -1);
	CHECK(count_prefix(dir, "adir") == 1);
	CHECK(rmdir(path) == 0);
	CHECK(rmdir(sub) == 0);
	/* Failure: missing directory. */
	CHECK(str_format(path, sizeof(path), "%s/nodir/file", dir) == 0);
	CHECK(write_file_atomic(path, "data", 4, 0600) == -1 && errno == ENOENT);

	/* read_file: limits, appending, missing file, buffer left intact. */
	CHECK(str_format(path, sizeof(path), "%s/big", dir) == 0);
	CHECK(write_file_atomic(path, "0123456789", 10, 0600) == 0);
	buf_reset(&b);
	CHECK(buf_puts(&b, "pre:") == 0);
	CHECK(read_file(path, &b, 10) == 0);
	CHECK(buf_eq(&b, "pre:0123456789"));
	CHECK(read_file(path, &b, 9) == -1 && errno == EFBIG);
	CHECK(buf_eq(&b, "pre:0123456789"));
	CHECK(read_file("/nonexistent/x", &b, 10) == -1 && errno == ENOENT);
	CHECK(b.len == 14);
	CHECK(unlink(path) == 0);
	CHECK(str_format(path, sizeof(path), "%s/file", dir) == 0);
	CHECK(unlink(path) == 0);

	CHECK(fsync_dir(dir) == 0);
	CHECK(fsync_parent("relative-name") == 0);
	CHECK(fsync_parent("/etc/passwd") == 0);
	CHECK(fsync_dir("/nonexistent") == -1);
	buf_free(&b);
}

static void
test_fds(void)
{
	int p[2], q[2], keep[2];
	int64_t t0, t1;

	CHECK(pipe(p) == 0);
	CHECK(pipe(q) == 0);
	CHECK(fd_set_nonblock(p[0], 1) == 0);
	CHECK(fcntl(p[0], F_GETFL) & O_NONBLOCK);
	CHECK(fd_set_nonblock(p[0], 0) == 0);
	CHECK(!(fcntl(p[0], F_GETFL) & O_NONBLOCK));
	CHECK(fd_set_cloexec(p[1], 1) == 0);
	CHECK(fcntl(p[1], F_GETFD) & FD_CLOEXEC);
	CHECK(fd_set_cloexec(p[1], 0) == 0);
	CHECK(!(fcntl(p[1], F_GETFD) & FD_CLOEXEC));
	CHECK(fd_set_nonblock(-1, 1) == -1);

	CHECK(write_all(p[1], "abc", 3) == 0);
	CHECK(write_all(-1, "abc", 3) == -1);

	/* Keep p[1] and q[0] (out of order); close everything else above 2. */
	keep[0] = q[0];
	keep[1] = p[1];
	close_fds_from(3, keep, 2);
	CHECK(fcntl(p[0], F_GETFD) == -1 && errno == EBADF);
	CHECK(fcntl(q[1], F_GETFD) == -1 && errno == EBADF);
	CHECK(fcntl(p[1], F_GETFD) != -1);
	CHECK(fcntl(q[0], F_GETFD) != -1);
	CHECK(fcntl(2, F_GETFD) != -1);
	close_fds_from(3, NULL, 0);
	CHECK(fcntl(p[1], F_GETFD) == -1 && fcntl(q[0], F_GETFD) == -1);

	t0 = now_ms();
	usleep(20000);
	t1 = now_ms();
	CHECK(t0 > 0 && t1 - t0 >= 19 && t1 - t0 < 5000);
}

/* Far deadlines leave the per-wait value, near ones cap it, passed ones
 * give 1 ms, and the result always fits an int. */
static void
test_timeout_left(void)
{
	int64_t now = now_ms();
	int t;

	CHECK(timeout_left_ms(30000, now + 3600000) == 30000);
	CHECK(timeout_left_ms(30000, INT64_MAX) == 30000);
	t = timeout_left_ms(3600000, now + 60000);
	CHECK(t > 0 && t <= 60000);
	CHECK(timeout_left_ms(30000, now) == 1);
	CHECK(timeout_left_ms(30000, now - 5000) == 1);
	CHECK(timeout_left_ms(30000, INT64_MIN) == 1);
	CHECK(timeout_left_ms(0, now + 60000) == 1);
	CHECK(timeout_left_ms(-5, now + 60000) == 1);
	CHECK(timeout_left_ms(INT64_MAX, INT64_MAX) == INT_MAX);
	CHECK(timeout_left_ms((int64_t)INT_MAX + 1, INT64_MAX) == INT_MAX);
	CHECK(timeout_left_ms(INT_MAX, INT64_MAX) == INT_MAX);
}

int
main(void)
{
	char dir[] = "/tmp/test_util.XXXXXX";

	test_parsers();
	test_timeout_left();
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_atomic(dir);
	CHECK(count_prefix(dir, "") == 2);	/* only "." and ".." are left */
	CHECK(rmdir(dir) == 0);
	test_fds();
	return UNIT_DONE();
}

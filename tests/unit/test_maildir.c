/* Unit tests for common/maildir: unique names and their ",S=" sizes, folder
 * names, creating a Maildir and a folder, durable delivery into a temp dir
 * (content, names, nothing left in tmp/), size accounting and quota
 * arithmetic. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maildir.h"
#include "util.h"
#include "unit.h"

static char dir[] = "/tmp/test_maildir.XXXXXX";

static void
test_names(void)
{
	char n[MAILDIR_NAME_MAX + 1], small[20];
	uint64_t s = 0;

	CHECK(maildir_name(n, sizeof(n), 1700000000, 123456, 4242, 7, "mail.example.org",
	    309) == 0);
	CHECK_STR(n, "1700000000.M123456P4242Q7.mail.example.org,S=309");
	CHECK(maildir_name(n, sizeof(n), 1, 0, 1, 1, "a/b:c,d", 0) == 0);
	CHECK_STR(n, "1.M0P1Q1.a\\057b\\072c\\054d,S=0");
	CHECK(maildir_name(small, sizeof(small), 1700000000, 123456, 4242, 7, "host", 1) == -1);
	CHECK(maildir_name_size("1.M0P1Q1.host,S=309", &s) == 1 && s == 309);
	CHECK(maildir_name_size("1.M0P1Q1.host,S=309:2,FS", &s) == 1 && s == 309);
	CHECK(maildir_name_size("1.M0P1Q1.host,S=12,W=14:2,", &s) == 1 && s == 12);
	CHECK(maildir_name_size("1.M0P1Q1.host:2,S", &s) == 0);
	CHECK(maildir_name_size("1.M0P1Q1.host", &s) == 0);
	CHECK(maildir_name_size("1.M0P1Q1.host,S=", &s) == 0);
	CHECK(maildir_name_size("1.M0P1Q1.host,S=12x", &s) == 0);
	CHECK(maildir_name_size("1.host,S=99999999999999999999999", &s) == 0);
	/* a ",S=" in the info part does not count */
	CHECK(maildir_name_size("1.host:2,S=5", &s) == 0);
}

static void
test_folders(void)
{
	static const struct {
		const char *name;
		int ok;
	} t[] = {
		{ "work", 1 }, { "a.b", 1 }, { "Work-2024_x", 1 }, { "", 0 }, { ".hidden", 0 },
		{ "a..b", 0 }, { "a.", 0 }, { "a/b", 0 }, { "..", 0 }, { "a b", 0 },
		{ "a\tb", 0 }, { "caf\xc3\xa9", 0 }, { "a\x7f", 0 },
	};
	char longname[MAILDIR_FOLDER_MAX + 2];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		CHECK(maildir_folder_valid(t[i].name, strlen(t[i].name)) == t[i].ok);
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	CHECK(maildir_folder_valid(longname, MAILDIR_FOLDER_MAX) == 1);
	CHECK(maildir_folder_valid(longname, MAILDIR_FOLDER_MAX + 1) == 0);
}

/* Number of entries (not . and ..) in dir/sub. */
static int
count(const char *sub)
{
	char path[512];
	struct dirent *e;
	int n = 0;
	DIR *d;

	if (str_format(path, sizeof(path), "%s/%s", dir, sub) == -1 ||
	    (d = opendir(path)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void
test_make(void)
{
	char md[256], folder[256], path[512];
	struct stat st;

	CHECK(str_format(md, sizeof(md), "%s/box", dir) == 0);
	CHECK(maildir_exists(md) == 0);
	CHECK(maildir_make(md, 0) == 0);
	CHECK(maildir_exists(md) == 1);
	CHECK(stat(md, &st) == 0 && (st.st_mode & 07777) == 0700);
	CHECK(maildir_make(md, 0) == 0);	/* existing: fine */
	CHECK(count("box/new") == 0 && count("box/cur") == 0 && count("box/tmp") == 0);
	CHECK(str_format(folder, sizeof(folder), "%s/.work", md) == 0);
	CHECK(maildir_make(folder, 1) == 0);
	CHECK(str_format(path, sizeof(path), "%s/maildirfolder", folder) == 0);
	CHECK(stat(path, &st) == 0 && S_ISREG(st.st_mode));
	/* a symlink or a file is not a Maildir */
	CHECK(str_format(path, sizeof(path), "%s/link", dir) == 0);
	CHECK(symlink(md, path) == 0);
	CHECK(maildir_exists(path) == 0);
	CHECK(maildir_make(path, 0) == -1 && errno == ENOTDIR);
}

/* A message file with n octets of text. */
static int
message(size_t n)
{
	char path[256];
	int fd;

	if (str_format(path, sizeof(path), "%s/msg", dir) == -1)
		return -1;
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	for (size_t i = 0; fd != -1 && i < n; i++)
		if (write(fd, i % 80 == 79 ? "\n" : "x", 1) != 1)
			return -1;
	return fd;
}

static void
test_deliver(void)
{
	char md[256], name[MAILDIR_NAME_MAX + 1], name2[MAILDIR_NAME_MAX + 1], path[600];
	struct buf got = BUF_INIT(1 << 20);
	const char prefix[] = "Delivered-To: a@b\r\n";
	uint64_t size = 0, s;
	struct stat st;
	int fd = message(100000);

	CHECK(fd != -1);
	CHECK(str_format(md, sizeof(md), "%s/box", dir) == 0);
	CHECK(maildir_deliver(md, "host", prefix, strlen(prefix), fd, 100000, name,
	    sizeof(name)) == 0);
	CHECK(maildir_name_size(name, &s) == 1 && s == 100000 + strlen(prefix));
	CHECK(str_format(path, sizeof(path), "%s/new/%s", md, name) == 0);
	CHECK(stat(path, &st) == 0 && (uint64_t)st.st_size == s && (st.st_mode & 07777) == 0600);
	CHECK(read_file(path, &got, 1 << 20) == 0 && got.len == s &&
	    memcmp(got.data, prefix, strlen(prefix)) == 0 && got.data[got.len - 1] == '\n' &&
	    got.data[got.len - 2] == 'x');
	CHECK(count("box/tmp") == 0 && count("box/new") == 1);
	CHECK(maildir_deliver(md, "host", "", 0, fd, 10, name2, sizeof(name2)) == 0);
	CHECK(strcmp(name, name2) != 0);
	CHECK(count("box/new") == 2);
	/* the message is shorter than promised: nothing is left anywhere */
	CHECK(maildir_deliver(md, "host", "", 0, fd, 100001, name2, sizeof(name2)) == -1 &&
	    errno == EPIPE);
	CHECK(count("box/tmp") == 0 && count("box/new") == 2);
	/* sizes: both messages, a cur/ file without S= (stat), a folder */
	CHECK(str_format(path, sizeof(path), "%s/cur/1.M1P1Q1.host:2,S", md) == 0);
	CHECK(write_file_atomic(path, "12345", 5, 0600) == 0);
	CHECK(str_format(path, sizeof(path), "%s/.work/new/2.M1P1Q1.host,S=1000", md) == 0);
	CHECK(write_file_atomic(path, "1", 1, 0600) == 0);	/* S= wins over stat */
	CHECK(str_format(path, sizeof(path), "%s/tmp/3.M1P1Q1.host,S=7777", md) == 0);
	CHECK(write_file_atomic(path, "1", 1, 0600) == 0);	/* tmp/ never counts */
	CHECK(maildir_size(md, &size) == 0);
	CHECK(size == s + 10 + 5 + 1000);
	buf_free(&got);
	close(fd);
}

static void
test_quota(void)
{
	CHECK(maildir_over_quota(0, 1000000, 0) == 0);		/* no quota */
	CHECK(maildir_over_quota(10, 5, 15) == 0);		/* exactly full */
	CHECK(maildir_over_quota(10, 6, 15) == 1);
	CHECK(maildir_over_quota(20, 0, 15) == 1);		/* already over */
	CHECK(maildir_over_quota(UINT64_MAX - 1, 5, UINT64_MAX) == 1);	/* no wrap */
	CHECK(maildir_over_quota(0, UINT64_MAX, UINT64_MAX) == 0);
}

int
main(void)
{
	char cmd[128];

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_names();
	test_folders();
	test_make();
	test_deliver();
	test_quota();
	if (str_format(cmd, sizeof(cmd), "rm -rf %s", dir) == 0 && system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return UNIT_DONE();
}

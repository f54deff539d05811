/* Unit tests for pop3d/pop3_box.c (compiled in): the wire form for
 * RETR/TOP at every chunk split, wire sizes equal to the octets sent, and
 * the Maildir view on temp dirs: ordering, LF/CRLF/mixed sizes, skipped
 * entries, UIDL stability (reopen, flag change, over-long names), DELE/RSET,
 * durable commit, no commit = no change, messages moved or removed by
 * another process. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../pop3d/pop3_box.c"
#include "util.h"
#include "unit.h"

static char root[] = "/tmp/test_pop3_box.XXXXXX";
static char md[PATH_MAX];
static int mdcount;

/* ---- wire form ---------------------------------------------------------- */

struct stuff_case {
	const char *in;
	int top;
	uint64_t lines;
	const char *out;
};

static const struct stuff_case stuff_cases[] = {
	{ "a\nb\n", 0, 0, "a\r\nb\r\n.\r\n" },
	{ "a\r\nb\r\n", 0, 0, "a\r\nb\r\n.\r\n" },
	{ "a\r\nb\n\n", 0, 0, "a\r\nb\r\n\r\n.\r\n" },
	{ ".x\n..y\n", 0, 0, "..x\r\n...y\r\n.\r\n" },
	{ "a\n.\n", 0, 0, "a\r\n..\r\n.\r\n" },
	{ ".", 0, 0, "..\r\n.\r\n" },
	{ "abc", 0, 0, "abc\r\n.\r\n" },
	{ "", 0, 0, ".\r\n" },
	{ "a\rb\n", 0, 0, "a\rb\r\n.\r\n" },
	{ "x\r", 0, 0, "x\r\r\n.\r\n" },
	{ "\n\n", 0, 0, "\r\n\r\n.\r\n" },
	{ "a.b\n x.\n", 0, 0, "a.b\r\n x.\r\n.\r\n" },
	{ "H: 1\nH: 2\n\nb1\nb2\n.b3\n", 1, 0, "H: 1\r\nH: 2\r\n\r\n.\r\n" },
	{ "H: 1\nH: 2\n\nb1\nb2\n.b3\n", 1, 2, "H: 1\r\nH: 2\r\n\r\nb1\r\nb2\r\n.\r\n" },
	{ "H: 1\nH: 2\n\nb1\nb2\n.b3\n", 1, 3,
	  "H: 1\r\nH: 2\r\n\r\nb1\r\nb2\r\n..b3\r\n.\r\n" },
	{ "H: 1\nH: 2\n\nb1\nb2\n.b3\n", 1, 99,
	  "H: 1\r\nH: 2\r\n\r\nb1\r\nb2\r\n..b3\r\n.\r\n" },
	{ "H: 1\r\n\r\nb\r\nc", 1, 5, "H: 1\r\n\r\nb\r\nc\r\n.\r\n" },
	{ "H: 1\r\n\r\nb\r\nc", 1, 1, "H: 1\r\n\r\nb\r\n.\r\n" },
	{ "H: 1\nH: 2", 1, 0, "H: 1\r\nH: 2\r\n.\r\n" },
	{ "H: 1\n \n\r\r\n\r\nb\n", 1, 0, "H: 1\r\n \r\n\r\r\n\r\n.\r\n" },
	{ "\nbody\n", 1, 0, "\r\n.\r\n" },
	{ ".H\n\n.b\n", 1, 1, "..H\r\n\r\n..b\r\n.\r\n" },
};

/* Stuff in[0..n) split at k (and byte by byte when k == SIZE_MAX). */
static int
stuff_split(const struct stuff_case *c, size_t k, struct buf *out, uint64_t *octets)
{
	struct pop3_stuff_state st;
	size_t n = strlen(c->in), i;
	int r = 0;

	pop3_stuff_init(&st, c->top, c->lines);
	if (k == SIZE_MAX) {
		for (i = 0; i < n && r == 0; i++)
			r = pop3_stuff(c->in + i, 1, &st, out);
	} else {
		r = pop3_stuff(c->in, k, &st, out);
		if (r == 0)
			r = pop3_stuff(c->in + k, n - k, &st, out);
	}
	if (r == -1 || (r == 1) != (st.done != 0) || pop3_stuff_end(&st, out) == -1)
		return -1;
	*octets = st.octets;
	return 0;
}

/* Wire size of data via pop3_wire_size on a pipe. */
static uint64_t
wire_size_of(const char *data, size_t n)
{
	uint64_t size = UINT64_MAX;
	int p[2];

	if (pipe(p) == -1)
		return UINT64_MAX;
	if (write_all(p[1], data, n) == -1 || close(p[1]) == -1 ||
	    pop3_wire_size(p[0], &size) == -1)
		size = UINT64_MAX;
	(void)close(p[0]);
	return size;
}

/* Count the '.'s stuffing added: the octets sent minus the message octets. */
static size_t
dots_added(const char *wire, size_t len)
{
	size_t d = 0;

	for (size_t i = 0; i + 3 < len; i++)
		if ((i == 0 || wire[i - 1] == '\n') && wire[i] == '.' && wire[i + 1] == '.')
			d++;
	return d;
}

static void
test_stuff(void)
{
	struct buf out = BUF_INIT(4096);
	uint64_t octets = 0;

	for (size_t c = 0; c < sizeof(stuff_cases) / sizeof(stuff_cases[0]); c++) {
		const struct stuff_case *t = &stuff_cases[c];
		size_t n = strlen(t->in);

		for (size_t k = 0; k <= n + 1; k++) {
			buf_reset(&out);
			CHECK(stuff_split(t, k > n ? SIZE_MAX : k, &out, &octets) == 0);
			CHECK(buf_eq(&out, t->out));
			/* the size is what is sent minus stuffing dots and ".\r\n" */
			CHECK(octets == out.len - 3 - dots_added(out.data, out.len));
			if (!t->top)
				CHECK(wire_size_of(t->in, n) == octets);
		}
	}
	buf_free(&out);
}

static void
test_stuff_limits(void)
{
	struct pop3_stuff_state st;
	struct buf small = BUF_INIT(4);

	pop3_stuff_init(&st, 0, 0);
	CHECK(pop3_stuff("abc\n", 4, &st, &small) == -1);
	buf_free(&small);
	/* after TOP's limit further input is ignored */
	buf_init(&small, 100);
	pop3_stuff_init(&st, 1, 0);
	CHECK(pop3_stuff("a\n\n", 3, &st, &small) == 1);
	CHECK(pop3_stuff("more\n", 5, &st, &small) == 1);
	CHECK(buf_eq(&small, "a\r\n\r\n"));
	buf_free(&small);
	CHECK(wire_size_of("", 0) == 0);
}

/* ---- Maildir fixtures --------------------------------------------------- */

static int
put_file(const char *sub, const char *name, const char *data)
{
	char path[PATH_MAX];
	int fd;

	if (str_format(path, sizeof(path), "%s/%s/%s", md, sub, name) == -1)
		return -1;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1)
		return -1;
	if (write_all(fd, data, strlen(data)) == -1) {
		(void)close(fd);
		return -1;
	}
	return close(fd);
}

static int
exists(const char *sub, const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	if (str_format(path, sizeof(path), "%s/%s/%s", md, sub, name) == -1)
		return -1;
	return lstat(path, &st) == 0;
}

static int
do_rename(const char *from, const char *to)
{
	char a[PATH_MAX], b[PATH_MAX];

	if (str_format(a, sizeof(a), "%s/%s", md, from) == -1 ||
	    str_format(b, sizeof(b), "%s/%s", md, to) == -1)
		return -1;
	return rename(a, b);
}

static int
count_dir(const char *sub)
{
	char path[PATH_MAX];
	struct dirent *de;
	int n = 0;
	DIR *d;

	if (str_format(path, sizeof(path), "%s/%s", md, sub) == -1 ||
	    (d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* A fresh Maildir md under root. */
static int
new_maildir(void)
{
	if (str_format(md, sizeof(md), "%s/m%d", root, ++mdcount) == -1)
		return -1;
	return maildir_make(md, 0);
}

/* Read all of fd into b and close it. */
static int
slurp(int fd, struct buf *b)
{
	char chunk[512];
	ssize_t r;

	while ((r = read(fd, chunk, sizeof(chunk))) > 0)
		if (buf_append(b, chunk, (size_t)r) == -1)
			r = -1;
	if (close(fd) == -1)
		return -1;
	return r == 0 ? 0 : -1;
}

/* The octets pop3_stuff counts for message n of b (a full RETR). */
static uint64_t
retr_octets(struct pop3_box *b, size_t n)
{
	struct pop3_stuff_state st;
	struct buf in = BUF_INIT(1 << 20), out = BUF_INIT(1 << 20);
	uint64_t o = UINT64_MAX;
	int fd;

	if (pop3_box_open_msg(b, n, 0, &fd) == 1 && slurp(fd, &in) == 0) {
		pop3_stuff_init(&st, 0, 0);
		if (pop3_stuff(in.data, in.len, &st, &out) == 0 &&
		    pop3_stuff_end(&st, &out) == 0)
			o = st.octets;
	}
	buf_free(&in);
	buf_free(&out);
	return o;
}

/* ---- the view ----------------------------------------------------------- */

static void
test_empty(void)
{
	struct pop3_box b;
	uint64_t size = 1;
	size_t count = 1, failed = 1;
	int fd;

	CHECK(new_maildir() == 0);
	CHECK(pop3_box_open(&b, md) == 0);
	pop3_box_stat(&b, &count, &size);
	CHECK(count == 0 && size == 0);
	CHECK(pop3_box_get(&b, 1) == NULL && pop3_box_get(&b, 0) == NULL);
	CHECK(pop3_box_dele(&b, 1) == 0);
	CHECK(pop3_box_open_msg(&b, 1, 1, &fd) == 0);
	CHECK(pop3_box_commit(&b, &failed) == 0 && failed == 0);
	pop3_box_close(&b);
	pop3_box_close(&b);	/* safe twice */
	CHECK(pop3_box_open(&b, "/nonexistent/maildir") == -1 && errno == ENOENT);
	pop3_box_close(&b);
}

static void
test_order_sizes_skip(void)
{
	struct pop3_box b;
	const struct pop3_msg *m;
	char path[PATH_MAX];
	uint64_t size;
	size_t count;

	CHECK(new_maildir() == 0);
	CHECK(put_file("new", "1700000002.M5P1Q1.h,S=3", "LF\nonly\n") == 0);
	CHECK(put_file("cur", "1700000001.M100000P1Q1.h:2,S", "CR\r\nLF\r\n") == 0);
	CHECK(put_file("new", "1700000001.M99P1Q1.h", "mixed\r\nx\n\nend") == 0);
	CHECK(put_file("cur", "zzz-not-numeric:2,", "") == 0);
	CHECK(put_file("new", ".hidden", "x\n") == 0);
	CHECK(put_file("tmp", "1600000000.M1P1Q1.h", "tmp\n") == 0);
	CHECK(str_format(path, sizeof(path), "%s/new/1600000000.M2P1Q1.dir", md) == 0 &&
	    mkdir(path, 0700) == 0);
	CHECK(str_format(path, sizeof(path), "%s/new/1600000000.M3P1Q1.fifo", md) == 0 &&
	    mkfifo(path, 0600) == 0);
	CHECK(str_format(path, sizeof(path), "%s/cur/1600000000.M4P1Q1.link:2,", md) == 0 &&
	    symlink("/etc/passwd", path) == 0);
	CHECK(pop3_box_open(&b, md) == 0);
	CHECK(b.n == 4);
	CHECK((m = pop3_box_get(&b, 1)) != NULL && strcmp(m->uidl, "1700000001.M99P1Q1.h") == 0 &&
	    m->size == 17 && !m->in_cur);	/* 15 octets, 2 bare LFs */
	CHECK((m = pop3_box_get(&b, 2)) != NULL &&
	    strcmp(m->uidl, "1700000001.M100000P1Q1.h") == 0 && m->size == 8 && m->in_cur);
	CHECK((m = pop3_box_get(&b, 3)) != NULL &&
	    strcmp(m->uidl, "1700000002.M5P1Q1.h,S=3") == 0 && m->size == 10);
	CHECK((m = pop3_box_get(&b, 4)) != NULL && strcmp(m->uidl, "zzz-not-numeric") == 0 &&
	    m->size == 0);
	CHECK(pop3_box_get(&b, 5) == NULL);
	for (size_t i = 1; i <= b.n; i++)
		CHECK(retr_octets(&b, i) == pop3_box_get(&b, i)->size);
	pop3_box_stat(&b, &count, &size);
	CHECK(count == 4 && size == 17 + 8 + 10);
	/* a message delivered during the session is not seen */
	CHECK(put_file("new", "1700000003.M1P1Q1.h", "late\n") == 0);
	CHECK(b.n == 4 && pop3_box_get(&b, 5) == NULL);
	pop3_box_close(&b);
}

static void
test_uidl(void)
{
	static const char longname[] = "1700000002.M123456P4242Q7.a-rather-long-host-name"
	    ".mail.example.org,S=1234";
	struct pop3_box b;
	char u1[PATH_MAX], path[PATH_MAX], u2[POP3_UIDL_MAX + 1], u3[POP3_UIDL_MAX + 1];
	const struct pop3_msg *m;

	CHECK(new_maildir() == 0);
	CHECK(strlen(longname) > POP3_UIDL_MAX);
	CHECK(put_file("cur", "1700000001.M1P1Q1.h:2,", "a\n") == 0);
	CHECK(put_file("new", longname, "b\n") == 0);
	CHECK(put_file("new", "1700000003.M1P1Q1.h w", "c\n") == 0);	/* a space */
	CHECK(pop3_box_open(&b, md) == 0 && b.n == 3);
	CHECK((m = pop3_box_get(&b, 1)) != NULL && strcmp(m->uidl, "1700000001.M1P1Q1.h") == 0);
	CHECK((m = pop3_box_get(&b, 2)) != NULL && m->uidl[0] == 'H' && strlen(m->uidl) == 65);
	CHECK(m != NULL && str_copy(u2, sizeof(u2), m->uidl) == 0);
	CHECK((m = pop3_box_get(&b, 3)) != NULL && m->uidl[0] == 'H' && strlen(m->uidl) == 65);
	CHECK(m != NULL && str_copy(u3, sizeof(u3), m->uidl) == 0);
	CHECK(strcmp(u2, u3) != 0);
	for (size_t i = 0; i < b.n; i++)
		for (const char *p = b.msgs[i].uidl; *p != '\0'; p++)
			CHECK(*p >= 0x21 && *p <= 0x7e);
	pop3_box_close(&b);
	/* another client (IMAP) changes flags and moves new -> cur */
	CHECK(do_rename("cur/1700000001.M1P1Q1.h:2,", "cur/1700000001.M1P1Q1.h:2,S") == 0);
	CHECK(str_format(u1, sizeof(u1), "cur/%s:2,FS", longname) == 0);
	CHECK(str_format(path, sizeof(path), "new/%s", longname) == 0);
	CHECK(do_rename(path, u1) == 0);
	CHECK(pop3_box_open(&b, md) == 0 && b.n == 3);
	CHECK((m = pop3_box_get(&b, 1)) != NULL && strcmp(m->uidl, "1700000001.M1P1Q1.h") == 0);
	CHECK((m = pop3_box_get(&b, 2)) != NULL && strcmp(m->uidl, u2) == 0 && m->in_cur);
	CHECK((m = pop3_box_get(&b, 3)) != NULL && strcmp(m->uidl, u3) == 0);
	pop3_box_close(&b);
}

static void
test_dele_rset_no_commit(void)
{
	struct pop3_box b;
	uint64_t size;
	size_t count;
	int fd;

	CHECK(new_maildir() == 0);
	CHECK(put_file("new", "1700000001.M1P1Q1.h", "one\n") == 0);
	CHECK(put_file("new", "1700000002.M1P1Q1.h", "two\n") == 0);
	CHECK(put_file("cur", "1700000003.M1P1Q1.h:2,", "three\n") == 0);
	CHECK(pop3_box_open(&b, md) == 0 && b.n == 3);
	CHECK(pop3_box_dele(&b, 0) == 0 && pop3_box_dele(&b, 4) == 0);
	CHECK(pop3_box_dele(&b, 2) == 1);
	CHECK(pop3_box_dele(&b, 2) == 0);	/* already deleted */
	CHECK(pop3_box_get(&b, 2) == NULL && pop3_box_get(&b, 3) != NULL);
	CHECK(pop3_box_open_msg(&b, 2, 1, &fd) == 0);
	pop3_box_stat(&b, &count, &size);
	CHECK(count == 2 && size == 5 + 7);
	pop3_box_rset(&b);
	pop3_box_stat(&b, &count, &size);
	CHECK(count == 3 && size == 5 + 5 + 7);
	CHECK(pop3_box_dele(&b, 1) == 1 && pop3_box_dele(&b, 3) == 1);
	CHECK(pop3_box_open_msg(&b, 2, 1, &fd) == 1 && close(fd) == 0);
	/* the connection drops: no commit */
	pop3_box_close(&b);
	CHECK(count_dir("new") == 2 && count_dir("cur") == 1);
	CHECK(exists("new", "1700000002.M1P1Q1.h") == 1);
}

static void
test_commit(void)
{
	struct pop3_box b;
	struct buf got = BUF_INIT(100);
	size_t failed = 99;
	int fd;

	CHECK(new_maildir() == 0);
	CHECK(put_file("new", "1700000001.M1P1Q1.h", "del\n") == 0);
	CHECK(put_file("new", "1700000002.M1P1Q1.h", "seen\n") == 0);
	CHECK(put_file("cur", "1700000003.M1P1Q1.h:2,RT", "flags\n") == 0);
	CHECK(put_file("new", "1700000004.M1P1Q1.h", "untouched\n") == 0);
	CHECK(put_file("cur", "1700000005.M1P1Q1.h:2,FS", "already\n") == 0);
	CHECK(pop3_box_open(&b, md) == 0 && b.n == 5);
	CHECK(pop3_box_dele(&b, 1) == 1);
	CHECK(pop3_box_open_msg(&b, 2, 1, &fd) == 1 && slurp(fd, &got) == 0);
	CHECK(buf_eq(&got, "seen\n"));
	CHECK(pop3_box_open_msg(&b, 3, 1, &fd) == 1 && close(fd) == 0);
	CHECK(pop3_box_open_msg(&b, 4, 0, &fd) == 1 && close(fd) == 0);	/* TOP */
	CHECK(pop3_box_open_msg(&b, 5, 1, &fd) == 1 && close(fd) == 0);
	CHECK(pop3_box_commit(&b, &failed) == 0 && failed == 0);
	pop3_box_close(&b);
	CHECK(exists("new", "1700000001.M1P1Q1.h") == 0);
	CHECK(exists("new", "1700000002.M1P1Q1.h") == 0);
	CHECK(exists("cur", "1700000002.M1P1Q1.h:2,S") == 1);
	CHECK(exists("cur", "1700000003.M1P1Q1.h:2,RST") == 1);
	CHECK(exists("new", "1700000004.M1P1Q1.h") == 1);
	CHECK(exists("cur", "1700000005.M1P1Q1.h:2,FS") == 1);
	CHECK(count_dir("new") == 1 && count_dir("cur") == 3);
	/* the next session sees the result, same UIDLs */
	CHECK(pop3_box_open(&b, md) == 0 && b.n == 4);
	CHECK(pop3_box_get(&b, 1) != NULL &&
	    strcmp(pop3_box_get(&b, 1)->uidl, "1700000002.M1P1Q1.h") == 0);
	pop3_box_close(&b);
	buf_free(&got);
}

static void
test_others(void)
{
	struct pop3_box b;
	struct buf got = BUF_INIT(100);
	size_t failed = 99;
	int fd = -1;

	CHECK(new_maildir() == 0);
	CHECK(put_file("new", "1700000001.M1P1Q1.h", "gone\n") == 0);
	CHECK(put_file("cur", "1700000002.M1P1Q1.h:2,", "flagged\n") == 0);
	CHECK(put_file("new", "1700000003.M1P1Q1.h", "moved\n") == 0);
	CHECK(put_file("new", "1700000004.M1P1Q1.h", "deleted twice\n") == 0);
	CHECK(pop3_box_open(&b, md) == 0 && b.n == 4);
	/* someone else expunges 1 and 4, flags 2, moves 3 to cur/ */
	CHECK(do_rename("new/1700000001.M1P1Q1.h", "tmp/x") == 0);
	CHECK(do_rename("new/1700000004.M1P1Q1.h", "tmp/y") == 0);
	CHECK(do_rename("cur/1700000002.M1P1Q1.h:2,", "cur/1700000002.M1P1Q1.h:2,F") == 0);
	CHECK(pop3_box_open_msg(&b, 1, 1, &fd) == POP3_BOX_GONE);
	CHECK(pop3_box_open_msg(&b, 2, 1, &fd) == 1 && slurp(fd, &got) == 0);
	CHECK(buf_eq(&got, "flagged\n"));
	CHECK(pop3_box_open_msg(&b, 3, 1, &fd) == 1 && close(fd) == 0);
	CHECK(do_rename("new/1700000003.M1P1Q1.h", "cur/1700000003.M1P1Q1.h:2,R") == 0);
	CHECK(pop3_box_dele(&b, 4) == 1);
	CHECK(pop3_box_commit(&b, &failed) == 0 && failed == 0);
	pop3_box_close(&b);
	CHECK(exists("cur", "1700000002.M1P1Q1.h:2,FS") == 1);
	CHECK(exists("cur", "1700000003.M1P1Q1.h:2,RS") == 1);
	CHECK(count_dir("new") == 0 && count_dir("cur") == 2);
	/* the same unique name in new/ and cur/ (moved during the scan): once */
	CHECK(put_file("new", "1700000002.M1P1Q1.h", "flagged\n") == 0);
	CHECK(pop3_box_open(&b, md) == 0 && b.n == 2);
	CHECK(b.n == 2 && b.msgs[0].in_cur && strcmp(b.msgs[0].name,
	    "1700000002.M1P1Q1.h:2,FS") == 0);
	pop3_box_close(&b);
	buf_free(&got);
}

/* A change that cannot be made leaves the message in place, counted. */
static void
test_commit_failure(void)
{
	char name[254];
	struct pop3_box b;
	size_t failed = 0;
	int fd;

	CHECK(new_maildir() == 0);
	memset(name, 'x', sizeof(name) - 1);
	memcpy(name, "1700000009.", 11);
	name[sizeof(name) - 1] = '\0';		/* 253 octets: no room for ":2,S" */
	CHECK(put_file("new", name, "long\n") == 0);
	CHECK(put_file("new", "1700000010.M1P1Q1.h", "fine\n") == 0);
	CHECK(pop3_box_open(&b, md) == 0 && b.n == 2);
	CHECK(b.n == 2 && b.msgs[0].uidl[0] == 'H');
	CHECK(pop3_box_open_msg(&b, 1, 1, &fd) == 1 && close(fd) == 0);
	CHECK(pop3_box_dele(&b, 2) == 1);
	CHECK(pop3_box_commit(&b, &failed) == -1 && failed == 1 && errno == ENAMETOOLONG);
	pop3_box_close(&b);
	CHECK(exists("new", name) == 1);
	CHECK(count_dir("new") == 1 && count_dir("cur") == 0);
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

int
main(void)
{
	test_stuff();
	test_stuff_limits();
	if (mkdtemp(root) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_empty();
	test_order_sizes_skip();
	test_uidl();
	test_dele_rset_no_commit();
	test_commit();
	test_others();
	test_commit_failure();
	if (nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == -1)
		perror("cleanup");
	return UNIT_DONE();
}

/* Unit tests for queue/queue_spool.c: ids, the commit protocol's result
 * on disk, refusal and discard leaving nothing, the start-up sweep.  Runs
 * in a fresh temporary directory (the module uses relative paths). */
#define _GNU_SOURCE
#include "../../queue/queue_spool.c"
#include <ftw.h>
#include <stdlib.h>
#include "unit.h"

/* Does a/b/c (or a/b when c is "") exist? */
static int
exists(const char *a, const char *b, const char *c)
{
	char path[256];
	struct stat st;

	if (str_format(path, sizeof(path), "%s/%s%s%s", a, b, *c ? "/" : "", c) == -1)
		return 0;
	return lstat(path, &st) == 0;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int
empty_dir(const char *path)
{
	struct dirent *d;
	DIR *dh = opendir(path);
	int n = 0;

	if (dh == NULL)
		return 0;
	while ((d = readdir(dh)) != NULL)
		if (strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0)
			n++;
	closedir(dh);
	return n == 0;
}

static void
make_env(struct envelope *e, const char *id)
{
	envelope_init(e);
	CHECK(str_copy(e->id, sizeof(e->id), id) == 0);
	e->arrival = 1;
	envelope_set(&e->sender, "a@example.org");
	envelope_add_rcpt(e, "b@example.test", NULL, 0);
}

static void
test_commit(void)
{
	struct spool_msg m;
	struct envelope e;
	const char *err = NULL;
	char xx[3], id[QUEUE_ID_LEN + 1], other[QUEUE_ID_LEN + 1], name[64];

	CHECK(spool_begin(&m, 100) == 0);
	CHECK(spool_id_ok(m.id));
	CHECK(str_format(name, sizeof(name), "%s.msg", m.id) == 0);
	CHECK(exists("incoming", name, ""));
	spool_write(&m, "hello\r\n", 7);
	make_env(&e, m.id);
	CHECK(str_copy(id, sizeof(id), m.id) == 0);
	spool_subdir(id, xx);
	CHECK(strlen(xx) == 2 && strspn(xx, "0123456789ABCDEF") == 2);
	CHECK(spool_commit(&m, &e, &err) == 1);
	CHECK(exists("msg", xx, id) && exists("env", xx, id));
	CHECK(empty_dir("incoming"));
	envelope_free(&e);

	/* over the limit: refused, nothing left */
	CHECK(spool_begin(&m, 10) == 0);
	CHECK(str_copy(other, sizeof(other), m.id) == 0);
	CHECK(strcmp(other, id) != 0);
	spool_write(&m, "0123456789", 10);
	spool_write(&m, "x", 1);
	make_env(&e, m.id);
	CHECK(spool_commit(&m, &e, &err) == 0);
	CHECK_STR(err, "message too big");
	spool_subdir(other, xx);
	CHECK(!exists("msg", xx, other) && !exists("env", xx, other));
	CHECK(empty_dir("incoming"));
	envelope_free(&e);

	/* discard */
	CHECK(spool_begin(&m, 10) == 0);
	spool_discard(&m);
	CHECK(empty_dir("incoming"));
}

static void
test_sweep(void)
{
	const char *orphan = "0000000000001BBBBBBBB", *lonely = "0000000000002CCCCCCCC";
	int fd;

	CHECK(mkdir("msg/7F", 0700) == 0 || errno == EEXIST);
	CHECK(mkdir("env/80", 0700) == 0 || errno == EEXIST);
	CHECK((fd = open("incoming/junk.msg", O_CREAT | O_WRONLY, 0600)) != -1);
	close(fd);
	CHECK((fd = open("msg/7F/0000000000001BBBBBBBB", O_CREAT | O_WRONLY, 0600)) != -1);
	close(fd);
	CHECK((fd = open("env/80/0000000000002CCCCCCCC", O_CREAT | O_WRONLY, 0600)) != -1);
	close(fd);
	CHECK((fd = open("msg/7F/not-an-id.tmp", O_CREAT | O_WRONLY, 0600)) != -1);
	close(fd);
	CHECK(spool_init() == 0);
	CHECK(empty_dir("incoming"));
	CHECK(!exists("msg", "7F", orphan));
	CHECK(!exists("env", "80", lonely));
	CHECK(exists("msg", "7F", "not-an-id.tmp"));
}

/* Commit one message with a recipient; returns its id in id[]. */
static void
commit_one(char id[QUEUE_ID_LEN + 1], const char *body)
{
	struct spool_msg m;
	struct envelope e;
	const char *err;

	envelope_init(&e);
	envelope_set(&e.sender, "a@example.org");
	envelope_add_rcpt(&e, "b@example.test", NULL, 0);
	CHECK(spool_begin(&m, 1000) == 0);
	CHECK(str_copy(e.id, sizeof(e.id), m.id) == 0);
	CHECK(str_copy(id, QUEUE_ID_LEN + 1, m.id) == 0);
	spool_write(&m, body, strlen(body));
	CHECK(spool_commit(&m, &e, &err) == 1);
	envelope_free(&e);
}

struct loaded {
	const char *want;	/* count only this id (and any other as "others") */
	int n, others;
};

static int
count_one(struct envelope *e, uint64_t size, void *arg)
{
	struct loaded *l = arg;

	if (strcmp(e->id, l->want) == 0) {
		l->n++;
		CHECK(size == 5);
	} else
		l->others++;
	envelope_free(e);
	return 0;
}

/* The scheduler's side: rewrite, the temp-file sweep, loading, removal. */
static void
test_scheduler_files(void)
{
	char id[QUEUE_ID_LEN + 1], xx[3], tmp[64], path[64];
	struct buf text = BUF_INIT(ENVELOPE_SIZE_MAX);
	struct envelope e;
	struct loaded l = { id, 0, 0 };
	int fd, others;

	commit_one(id, "hello");
	spool_subdir(id, xx);
	CHECK(spool_id_valid(id) && !spool_id_valid("../x") && !spool_id_valid(""));
	CHECK((fd = spool_open_msg(id)) != -1);
	if (fd != -1)
		close(fd);
	CHECK(spool_open_msg("0000000000000NOTTHERE") == -1);
	/* rewrite: the new state replaces the old one, no temp file stays */
	envelope_init(&e);
	CHECK(str_format(path, sizeof(path), "env/%s/%s", xx, id) == 0);
	CHECK(read_file(path, &text, ENVELOPE_SIZE_MAX) == 0);
	CHECK(envelope_parse(buf_cstr(&text), text.len, &e, NULL) == 0);
	e.rcpt[0].state = ENV_RCPT_DEFERRED;
	e.rcpt[0].attempts = 3;
	envelope_set(&e.rcpt[0].status, "4.4.1 timeout");
	e.hold = 1;
	CHECK(spool_env_rewrite(&e) == 0);
	CHECK(str_format(tmp, sizeof(tmp), ".%s", id) == 0);
	CHECK(!exists("env", xx, tmp));
	buf_reset(&text);
	envelope_free(&e);
	CHECK(read_file(path, &text, ENVELOPE_SIZE_MAX) == 0);
	CHECK(envelope_parse(buf_cstr(&text), text.len, &e, NULL) == 0);
	CHECK(e.rcpt[0].state == ENV_RCPT_DEFERRED && e.rcpt[0].attempts == 3 && e.hold == 1);
	CHECK_STR(e.rcpt[0].status, "4.4.1 timeout");
	/* a crash before the rename leaves .ID: swept, the old state stays */
	CHECK(str_format(path, sizeof(path), "env/%s/.%s", xx, id) == 0);
	CHECK((fd = open(path, O_CREAT | O_WRONLY, 0600)) != -1);
	CHECK(write(fd, "garbage", 7) == 7);
	close(fd);
	CHECK(spool_init() == 0);
	CHECK(!exists("env", xx, tmp) && exists("env", xx, id) && exists("msg", xx, id));
	/* loading: every envelope that parses, with its message's size */
	CHECK(spool_load_each(count_one, &l) == 1 + l.others && l.n == 1);
	others = l.others;
	/* an envelope whose id does not match its file name is not loaded */
	CHECK(str_format(path, sizeof(path), "env/%s/0000000000000AAAAAAAA", xx) == 0);
	buf_reset(&text);
	CHECK(envelope_serialize(&e, &text) == 0);
	CHECK(write_file_atomic(path, text.data, text.len, 0600) == 0);
	l.n = l.others = 0;
	CHECK(spool_load_each(count_one, &l) == 1 + others && l.n == 1 && l.others == others);
	CHECK(unlink(path) == 0);
	/* removal: envelope and message gone */
	CHECK(spool_remove(id) == 0);
	CHECK(!exists("env", xx, id) && !exists("msg", xx, id));
	l.n = l.others = 0;
	CHECK(spool_load_each(count_one, &l) == others && l.n == 0);
	CHECK(spool_remove(id) == 0);	/* already gone: fine */
	envelope_free(&e);
	buf_free(&text);
}

int
main(void)
{
	char dir[] = "/tmp/test_queue_spool.XXXXXX";

	log_init("test_queue_spool", LOGDEST_STDERR);
	CHECK(mkdtemp(dir) != NULL);
	CHECK(chdir(dir) == 0);
	CHECK(spool_init() == 0);
	CHECK(exists(".", "bounce", "") && exists(".", "env", ""));
	test_commit();
	test_sweep();
	test_scheduler_files();
	if (chdir("/") == -1 || nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) == -1)
		fprintf(stderr, "cleanup of %s failed\n", dir);
	return UNIT_DONE();
}

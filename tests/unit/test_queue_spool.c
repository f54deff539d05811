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
	if (chdir("/") == -1 || nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) == -1)
		fprintf(stderr, "cleanup of %s failed\n", dir);
	return UNIT_DONE();
}

/*
 * What the IMAP store's unit tests (test_imap_store.c, test_imap_store_log.c)
 * share: the store compiled in, a Maildir in a mkdtemp directory (root,
 * inside top), and helpers that put files and read the UID list behind
 * the store's back.  Helpers are static inline: each test uses some.
 */
#ifndef POSTERN_IMAP_STORE_FIXTURE_H
#define POSTERN_IMAP_STORE_FIXTURE_H
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "../../imapd/imap_mutf7.c"
#include "../../imapd/imap_store_name.c"
#include "../../imapd/imap_store_list.c"
#include "../../imapd/imap_store_sync.c"
#include "../../imapd/imap_store_change.c"
#include "../../imapd/imap_store_append.c"
#include "../../imapd/imap_store_folder.c"
#include "../../imapd/imap_store_subs.c"
#include "../../imapd/imap_store_watch.c"
#include "../../imapd/imap_store_view.c"
#include "unit.h"

static char top[] = "/tmp/test_imap_store.XXXXXX";
static char root[PATH_MAX];

/* Write content to root-relative path rel (a message file). */
static inline void
put(const char *rel, const char *content)
{
	char path[PATH_MAX];

	CHECK(str_format(path, sizeof(path), "%s/%s", root, rel) == 0);
	CHECK(write_file_atomic(path, content, strlen(content), 0600) == 0);
}

static inline int
exists(const char *rel)
{
	char path[PATH_MAX];
	struct stat st;

	if (str_format(path, sizeof(path), "%s/%s", root, rel) == -1)
		return 0;
	return lstat(path, &st) == 0;
}

/* Regular files (not dot-files) in root-relative dir. */
static inline size_t
nfiles(const char *rel)
{
	char path[PATH_MAX];
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	if (str_format(path, sizeof(path), "%s/%s", root, rel) == -1 ||
	    (d = opendir(path)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Entries in the directory above the Maildir (only "mail" is expected). */
static inline size_t
top_entries(void)
{
	struct dirent *de;
	size_t n = 0;
	DIR *d = opendir(top);

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	closedir(d);
	return n;
}

static inline ino_t
list_ino(const char *folder_rel)
{
	char path[PATH_MAX];
	struct stat st;

	if (str_format(path, sizeof(path), "%s/%s/%s", root, folder_rel,
	    STORE_LIST_FILE) == -1 || stat(path, &st) == -1)
		return 0;
	return st.st_ino;
}

/* The list file of folder dir rel into b (malloc'd text, *len). */
static inline char *
list_text(const char *rel, size_t *len)
{
	struct buf b = BUF_INIT(IMAP_STORE_LIST_MAX);
	char path[PATH_MAX];

	*len = 0;
	if (str_format(path, sizeof(path), "%s/%s/%s", root, rel, STORE_LIST_FILE) == -1 ||
	    read_file(path, &b, IMAP_STORE_LIST_MAX) == -1) {
		buf_free(&b);
		return xstrdup("");
	}
	*len = b.len;
	if (b.data == NULL)
		return xstrdup("");
	return buf_release(&b);
}

static inline void
list_put(const char *rel, const char *text, size_t len)
{
	char path[PATH_MAX];

	CHECK(str_format(path, sizeof(path), "%s/%s/%s", root, rel, STORE_LIST_FILE) == 0);
	CHECK(write_file_atomic(path, text, len, 0600) == 0);
}

static inline int
has_commit(const char *rel)
{
	size_t len;
	char *t = list_text(rel, &len);
	int r = has_log(t, len);

	free(t);
	return r;
}

/* Two views agree message by message. */
static inline int
same_view(const struct imap_folder *a, const struct imap_folder *b)
{
	if (a->n != b->n || a->uidnext != b->uidnext || a->uidvalidity != b->uidvalidity ||
	    a->highestmodseq != b->highestmodseq)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (a->msgs[i].uid != b->msgs[i].uid || a->msgs[i].modseq != b->msgs[i].modseq ||
		    strcmp(a->msgs[i].name, b->msgs[i].name) != 0)
			return 0;
	for (int i = 0; i < IMAP_STORE_KEYWORDS; i++)
		if ((a->keywords[i] == NULL) != (b->keywords[i] == NULL) ||
		    (a->keywords[i] != NULL && strcmp(a->keywords[i], b->keywords[i]) != 0))
			return 0;
	return 1;
}

static inline void
store_one(struct imap_folder *f, uint32_t uid, enum imap_flag_op op, uint32_t sys,
    const char *kw)
{
	const char *kws[1] = { kw };
	struct imap_flag_change ch = { op, sys, kws, kw != NULL, 0 };
	enum imap_change_res res;

	CHECK(imap_folder_store(f, &uid, 1, &ch, &res) == IMAP_STORE_OK);
	CHECK(res == IMAP_CHANGE_DONE);
}

/* Set the mtime of root-relative path rel to t. */
static inline void
set_mtime(const char *rel, time_t t)
{
	struct timespec ts[2] = { { t, 0 }, { t, 0 } };
	char path[PATH_MAX];

	CHECK(str_format(path, sizeof(path), "%s/%s", root, rel) == 0 &&
	    utimensat(AT_FDCWD, path, ts, 0) == 0);
}

/* The message file of uid in f, read whole into out ("" if none). */
static inline void
read_msg(struct imap_folder *f, uint32_t uid, struct buf *out)
{
	char chunk[256];
	ssize_t n;
	int fd;

	buf_reset(out);
	if (imap_folder_open_msg(f, uid, &fd) != IMAP_STORE_OK)
		return;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		CHECK(buf_append(out, chunk, (size_t)n) == 0);
	close(fd);
}

/* A fresh Maildir at root for store s; exits on failure. */
static inline void
fixture_begin(struct imap_store *s)
{
	if (mkdtemp(top) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	if (str_format(root, sizeof(root), "%s/mail", top) == -1 || maildir_make(root, 0) == -1 ||
	    imap_store_init(s, root, "host.example") == -1) {
		perror(root);
		exit(1);
	}
}

/* Free s and remove the directory. */
static inline void
fixture_end(struct imap_store *s)
{
	char cmd[PATH_MAX + 16];

	imap_store_free(s);
	if (str_format(cmd, sizeof(cmd), "rm -rf %s", top) == 0 && system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", top);
}
#endif

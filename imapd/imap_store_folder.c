/*
 * imap_store_folder: the folders of a Maildir++ (LIST, CREATE, DELETE,
 * RENAME) and the first-login special-use folders.  Names come from the
 * client and are checked by imap_store_name before any path is made;
 * directory entries found on disk are listed only if they pass the same
 * check.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "imap_store_int.h"
#include "log.h"
#include "util.h"
#include "xmalloc.h"

static int
cmp_entry(const void *a, const void *b)
{
	const struct imap_list_entry *x = a, *y = b;
	int xi = strcmp(x->name, "INBOX") == 0, yi = strcmp(y->name, "INBOX") == 0;

	if (xi != yi)
		return yi - xi;
	return strcmp(x->name, y->name);
}

static void
list_add(struct imap_list *l, const char *name, size_t len, unsigned flags)
{
	struct imap_list_entry *e;

	l->e = xreallocarray(l->e, l->n + 1, sizeof(*l->e));
	e = &l->e[l->n++];
	e->name = xstrndup(name, len);
	e->flags = flags;
	e->special = imap_store_special_use(e->name);
}

void
imap_list_free(struct imap_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->e[i].name);
	free(l->e);
	l->e = NULL;
	l->n = 0;
}

static struct imap_list_entry *
list_find(const struct imap_list *l, const char *name)
{
	struct imap_list_entry key = { (char *)name, 0, NULL };

	if (l->n == 0)
		return NULL;
	return bsearch(&key, l->e, l->n, sizeof(*l->e), cmp_entry);
}

/* The folder directories of the root (".NAME" that pass the name check
 * with exactly this spelling) into l, unsorted. */
static enum imap_store_err
read_folders(struct imap_store *s, struct imap_list *l)
{
	char canon[STORE_NAME_SIZE], dir[STORE_NAME_SIZE];
	struct dirent *de;
	struct stat st;
	int dfd;
	DIR *d;

	if ((dfd = open(s->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return store_io("open", s->root);
	if ((d = fdopendir(dfd)) == NULL) {
		(void)close(dfd);
		return store_io("open", s->root);
	}
	while ((de = readdir(d)) != NULL) {
		const char *n = de->d_name + 1;

		if (de->d_name[0] != '.' ||
		    !imap_store_name(n, strlen(n), canon, dir, sizeof(canon)) ||
		    strcmp(canon, n) != 0 || strcmp(dir, de->d_name) != 0 ||
		    fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    !S_ISDIR(st.st_mode))
			continue;
		list_add(l, n, strlen(n), 0);
	}
	(void)closedir(d);
	return IMAP_STORE_OK;
}

/* Add the missing parent levels of every name (NONEXISTENT) and mark
 * parents HASCHILDREN.  l sorted on entry and on return. */
static void
add_parents(struct imap_list *l)
{
	size_t n = l->n, k;

	for (size_t i = 0; i < n; i++) {
		for (const char *p = strchr(l->e[i].name, IMAP_STORE_DELIM); p != NULL;
		    p = strchr(p + 1, IMAP_STORE_DELIM)) {
			struct imap_list old = { l->e, n };
			size_t len = (size_t)(p - l->e[i].name);
			char *lvl = xstrndup(l->e[i].name, len);

			if (list_find(&old, lvl) == NULL)
				list_add(l, lvl, len, IMAP_LIST_NONEXISTENT);
			free(lvl);
		}
	}
	qsort(l->e, l->n, sizeof(*l->e), cmp_entry);
	for (k = 0, n = 0; k < l->n; k++) {
		if (n > 0 && strcmp(l->e[n - 1].name, l->e[k].name) == 0)
			free(l->e[k].name);
		else
			l->e[n++] = l->e[k];
	}
	l->n = n;
	for (size_t i = 0; i < l->n; i++) {
		const char *p = strrchr(l->e[i].name, IMAP_STORE_DELIM);
		struct imap_list_entry *parent;
		char *lvl;

		if (p == NULL)
			continue;
		lvl = xstrndup(l->e[i].name, (size_t)(p - l->e[i].name));
		if ((parent = list_find(l, lvl)) != NULL)
			parent->flags |= IMAP_LIST_HASCHILDREN;
		free(lvl);
	}
}

enum imap_store_err
imap_store_list(struct imap_store *s, struct imap_list *l)
{
	struct imap_list subs = { NULL, 0 };
	enum imap_store_err err;

	memset(l, 0, sizeof(*l));
	if ((err = read_folders(s, l)) != IMAP_STORE_OK)
		return err;
	list_add(l, "INBOX", 5, 0);
	qsort(l->e, l->n, sizeof(*l->e), cmp_entry);
	add_parents(l);
	if ((err = imap_store_lsub(s, &subs)) != IMAP_STORE_OK) {
		imap_list_free(l);
		return err;
	}
	for (size_t i = 0; i < subs.n; i++) {
		struct imap_list_entry *e = list_find(l, subs.e[i].name);

		if (e != NULL)
			e->flags |= IMAP_LIST_SUBSCRIBED;
	}
	imap_list_free(&subs);
	return IMAP_STORE_OK;
}

/* Make the parent levels of canon (not INBOX) as folders.  0/-1. */
static int
make_parents(struct imap_store *s, const char *canon)
{
	char path[PATH_MAX];

	for (const char *p = strchr(canon, IMAP_STORE_DELIM); p != NULL;
	    p = strchr(p + 1, IMAP_STORE_DELIM)) {
		int len = (int)(p - canon);

		if (len == 5 && strncmp(canon, "INBOX", 5) == 0)
			continue;
		if (str_format(path, sizeof(path), "%s/.%.*s", s->root, len, canon) == -1 ||
		    maildir_make(path, 1) == -1)
			return -1;
	}
	return 0;
}

enum imap_store_err
imap_store_create(struct imap_store *s, const char *name)
{
	char nm[STORE_NAME_SIZE], canon[STORE_NAME_SIZE], path[PATH_MAX];
	size_t len = strlen(name);
	enum imap_store_err err;
	int r;

	/* "a.b." asks for a.b, noting it will have children */
	if (len > 1 && name[len - 1] == IMAP_STORE_DELIM)
		len--;
	if (len >= sizeof(nm))
		return IMAP_STORE_BADNAME;
	memcpy(nm, name, len);
	nm[len] = '\0';
	if ((err = store_resolve(s, nm, canon, path)) != IMAP_STORE_OK)
		return err;
	if (imap_store_is_inbox(canon))
		return IMAP_STORE_EXISTS;
	if ((r = maildir_exists(path)) != 0)
		return r == 1 ? IMAP_STORE_EXISTS : store_io("check", path);
	if (make_parents(s, canon) == -1 || maildir_make(path, 1) == -1)
		return store_io("create", path);
	return IMAP_STORE_OK;
}

/* Remove dfd/name and, for a directory, what it holds (at most depth
 * levels further).  Symlinks are removed, never followed.  0/-1. */
static int
remove_at(int dfd, const char *name, int depth)
{
	struct dirent *de;
	struct stat st;
	int fd, r = 0;
	DIR *d;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dfd, name, 0) == -1 && errno != ENOENT ? -1 : 0;
	if (depth == 0)
		return errno = ENOTEMPTY, -1;
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			(void)close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
		    remove_at(fd, de->d_name, depth - 1) == -1)
			r = -1;
	(void)closedir(d);
	return r == 0 ? unlinkat(dfd, name, AT_REMOVEDIR) : -1;
}

/* Remove the root's entry name (a deleted folder); log on failure. */
static void
remove_deleted(struct imap_store *s, const char *name)
{
	int dfd = open(s->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd == -1 || remove_at(dfd, name, 3) == -1)
		log_warn("imap store: remove %s/%s: %s", s->root, name, strerror(errno));
	if (dfd != -1)
		(void)close(dfd);
}

/* The folders under canon ("canon.x..."), from the disk.  1 if any. */
static int
children(struct imap_store *s, const char *canon, struct imap_list *kids,
    enum imap_store_err *err)
{
	struct imap_list all = { NULL, 0 };
	size_t len = strlen(canon);

	memset(kids, 0, sizeof(*kids));
	if ((*err = read_folders(s, &all)) != IMAP_STORE_OK)
		return 0;
	for (size_t i = 0; i < all.n; i++)
		if (strncmp(all.e[i].name, canon, len) == 0 &&
		    all.e[i].name[len] == IMAP_STORE_DELIM)
			list_add(kids, all.e[i].name, strlen(all.e[i].name), 0);
	imap_list_free(&all);
	return kids->n > 0;
}

enum imap_store_err
imap_store_delete(struct imap_store *s, const char *name)
{
	char canon[STORE_NAME_SIZE], path[PATH_MAX], gone[64], to[PATH_MAX];
	struct imap_list kids;
	enum imap_store_err err;
	int r;

	if ((err = store_resolve(s, name, canon, path)) != IMAP_STORE_OK)
		return err;
	if (imap_store_is_inbox(canon))
		return IMAP_STORE_INBOX;
	if ((r = maildir_exists(path)) != 1)
		return r == 0 ? IMAP_STORE_NONEXISTENT : store_io("check", path);
	r = children(s, canon, &kids, &err);
	imap_list_free(&kids);
	if (err != IMAP_STORE_OK)
		return err;
	if (r)
		return IMAP_STORE_HASCHILDREN;
	/* hidden at once (listing skips "..*"), removed after */
	if (str_format(gone, sizeof(gone), STORE_DELETED_PREFIX "%lld.%ld.%lu",
	    (long long)time(NULL), (long)getpid(), store_next_count()) == -1 ||
	    str_format(to, sizeof(to), "%s/%s", s->root, gone) == -1)
		return IMAP_STORE_IO;
	if (rename(path, to) == -1)
		return errno == ENOENT ? IMAP_STORE_NONEXISTENT : store_io("rename", path);
	if (fsync_dir(s->root) == -1)
		return store_io("fsync", s->root);
	remove_deleted(s, gone);
	return IMAP_STORE_OK;
}

/* Move every message of INBOX's sub/ into the folder at tp.  0/-1. */
static int
move_all(struct imap_store *s, const char *tp, const char *sub)
{
	char from[PATH_MAX], to[PATH_MAX];
	int sfd = -1, dfd = -1, r = 0;
	struct dirent *de;
	DIR *d = NULL;

	if (str_format(from, sizeof(from), "%s/%s", s->root, sub) == -1 ||
	    str_format(to, sizeof(to), "%s/%s", tp, sub) == -1 ||
	    (sfd = open(from, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)) == -1 ||
	    (dfd = open(to, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)) == -1 ||
	    (d = opendir(from)) == NULL)
		r = -1;
	while (r == 0 && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (renameat(sfd, de->d_name, dfd, de->d_name) == -1 && errno != ENOENT)
			r = -1;
	}
	if (d != NULL)
		(void)closedir(d);
	if (r == 0 && (fsync(dfd) == -1 || fsync(sfd) == -1))
		r = -1;
	if (sfd != -1)
		(void)close(sfd);
	if (dfd != -1)
		(void)close(dfd);
	return r;
}

/* RENAME INBOX to: a new folder gets all INBOX messages (RFC 3501 6.3.5). */
static enum imap_store_err
rename_inbox(struct imap_store *s, const char *to)
{
	char canon[STORE_NAME_SIZE], tp[PATH_MAX];
	enum imap_store_err err;
	int lockfd;

	if ((err = store_resolve(s, to, canon, tp)) != IMAP_STORE_OK)
		return err;
	if ((err = imap_store_create(s, canon)) != IMAP_STORE_OK)
		return err;
	if ((lockfd = store_lock(s->root)) == -1)
		return store_io("lock", s->root);
	if (move_all(s, tp, "cur") == -1 || move_all(s, tp, "new") == -1)
		err = store_io("move INBOX messages to", tp);
	store_unlock(lockfd);
	return err;
}

/* Rename the children kids of from to the same names under to. */
static enum imap_store_err
rename_kids(struct imap_store *s, const struct imap_list *kids, const char *from,
    const char *to, int doit)
{
	char nm[PATH_MAX], canon[STORE_NAME_SIZE], op[PATH_MAX], np[PATH_MAX];
	enum imap_store_err err;
	struct stat st;

	for (size_t i = 0; i < kids->n; i++) {
		if (str_format(nm, sizeof(nm), "%s%s", to,
		    kids->e[i].name + strlen(from)) == -1)
			return IMAP_STORE_BADNAME;
		if ((err = store_resolve(s, nm, canon, np)) != IMAP_STORE_OK ||
		    (err = store_resolve(s, kids->e[i].name, canon, op)) != IMAP_STORE_OK)
			return err;
		if (!doit && lstat(np, &st) == 0)
			return IMAP_STORE_EXISTS;
		if (doit && rename(op, np) == -1)
			return store_io("rename", op);
	}
	return IMAP_STORE_OK;
}

enum imap_store_err
imap_store_rename(struct imap_store *s, const char *from, const char *to)
{
	char fc[STORE_NAME_SIZE], fp[PATH_MAX], tc[STORE_NAME_SIZE], tp[PATH_MAX];
	struct imap_list kids;
	enum imap_store_err err;
	size_t fl;
	struct stat st;
	int r;

	if ((err = store_resolve(s, from, fc, fp)) != IMAP_STORE_OK ||
	    (err = store_resolve(s, to, tc, tp)) != IMAP_STORE_OK)
		return err;
	if (imap_store_is_inbox(fc))
		return imap_store_is_inbox(tc) ? IMAP_STORE_EXISTS : rename_inbox(s, tc);
	if ((r = maildir_exists(fp)) != 1)
		return r == 0 ? IMAP_STORE_NONEXISTENT : store_io("check", fp);
	if (imap_store_is_inbox(tc) || lstat(tp, &st) == 0)
		return IMAP_STORE_EXISTS;
	fl = strlen(fc);
	if (strncmp(tc, fc, fl) == 0 && tc[fl] == IMAP_STORE_DELIM)
		return IMAP_STORE_BADNAME;	/* into itself */
	(void)children(s, fc, &kids, &err);
	if (err == IMAP_STORE_OK)
		err = rename_kids(s, &kids, fc, tc, 0);
	if (err == IMAP_STORE_OK && make_parents(s, tc) == -1)
		err = store_io("create parents of", tp);
	if (err == IMAP_STORE_OK && rename(fp, tp) == -1)
		err = store_io("rename", fp);
	if (err == IMAP_STORE_OK)
		err = rename_kids(s, &kids, fc, tc, 1);
	if (err == IMAP_STORE_OK && fsync_dir(s->root) == -1)
		err = store_io("fsync", s->root);
	imap_list_free(&kids);
	return err;
}

/* Remove files older than 36 hours from the folder dir's tmp/ (what a
 * crashed writer left; the Maildir rule). */
static void
sweep_tmp(int rootfd, const char *dir)
{
	char sub[STORE_NAME_SIZE + 8];
	time_t old = time(NULL) - 36 * 3600;
	struct dirent *de;
	struct stat st;
	int dfd;
	DIR *d;

	if (str_format(sub, sizeof(sub), "%s/tmp", dir) == -1 ||
	    (dfd = openat(rootfd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return;
	if ((d = fdopendir(dfd)) == NULL) {
		(void)close(dfd);
		return;
	}
	while ((de = readdir(d)) != NULL)
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    !S_ISDIR(st.st_mode) && st.st_mtime < old &&
		    unlinkat(dfd, de->d_name, 0) == -1)
			log_warn("imap store: unlink %s/%s: %s", sub, de->d_name,
			    strerror(errno));
	(void)closedir(d);
}

/* Finish deletions a crash interrupted; clean every tmp/. */
static void
sweep(struct imap_store *s)
{
	struct imap_list l;
	struct dirent *de;
	DIR *d;

	if ((d = opendir(s->root)) == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, STORE_DELETED_PREFIX,
		    strlen(STORE_DELETED_PREFIX)) == 0)
			remove_deleted(s, de->d_name);
	sweep_tmp(dirfd(d), ".");
	memset(&l, 0, sizeof(l));
	if (read_folders(s, &l) == IMAP_STORE_OK) {
		for (size_t i = 0; i < l.n; i++) {
			char dir[STORE_NAME_SIZE + 2];

			if (str_format(dir, sizeof(dir), ".%s", l.e[i].name) == 0)
				sweep_tmp(dirfd(d), dir);
		}
	}
	imap_list_free(&l);
	(void)closedir(d);
}

enum imap_store_err
imap_store_login(struct imap_store *s)
{
	static const char *const special[] = { "Sent", "Drafts", "Trash", "Junk",
	    "Archive" };
	char marker[PATH_MAX];
	enum imap_store_err err;

	sweep(s);
	if (str_format(marker, sizeof(marker), "%s/%s", s->root,
	    STORE_MARKER_FILE) == -1)
		return IMAP_STORE_IO;
	if (access(marker, F_OK) == 0)
		return IMAP_STORE_OK;
	if (errno != ENOENT)
		return store_io("check", marker);
	for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++) {
		err = imap_store_create(s, special[i]);
		if (err != IMAP_STORE_OK && err != IMAP_STORE_EXISTS)
			return err;
		if ((err = imap_store_subscribe(s, special[i], 1)) != IMAP_STORE_OK)
			return err;
	}
	if (write_file_atomic(marker, "", 0, 0600) == -1)
		return store_io("write", marker);
	return IMAP_STORE_OK;
}

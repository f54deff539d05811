/*
 * imap_store_view: a folder view's life (open with its watch, release
 * while idle and reload, close), message lookup, STATUS.  The imap mail
 * process; reads the folder and its list through imap_store_sync.c and
 * imap_store_list.c, which trust nothing on disk.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imap_store_int.h"
#include "util.h"
#include "xmalloc.h"

uint32_t *
store_recent_uids(struct imap_folder *f, size_t *n)
{
	uint32_t *recent = xreallocarray(NULL, f->n + f->nheld + 1, sizeof(*recent));

	*n = 0;
	for (size_t i = 0; i < f->n; i++)
		if (f->msgs[i].recent)
			recent[(*n)++] = f->msgs[i].uid;
	for (size_t i = 0; f->released && i < f->nheld; i++)
		recent[(*n)++] = f->held_recent[i];
	free(f->held_recent);
	f->held_recent = NULL;
	f->nheld = 0;
	return recent;
}

int
store_reload(struct imap_folder *f)
{
	if (store_list_read(f) != 1)
		return 0;
	for (size_t i = 0; i < f->nheld; i++) {
		struct imap_msg *m = imap_folder_find(f, f->held_recent[i]);

		if (m != NULL)
			m->recent = 1;
	}
	for (size_t i = 0; f->readonly && i < f->n; i++)
		if (strncmp(f->msgs[i].name, "new/", 4) == 0)
			f->msgs[i].recent = 1;
	free(f->held_recent);
	f->held_recent = NULL;
	f->nheld = 0;
	f->released = 0;
	return 1;
}

void
store_view_clear(struct imap_folder *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->msgs[i].name);
	free(f->msgs);
	f->msgs = NULL;
	f->n = 0;
	for (int i = 0; i < IMAP_STORE_KEYWORDS; i++) {
		free(f->keywords[i]);
		f->keywords[i] = NULL;
	}
}

enum imap_store_err
store_folder_begin(struct imap_store *s, const char *name, int readonly, int lock,
    struct imap_folder *f, int *lockfd)
{
	char canon[STORE_NAME_SIZE], path[PATH_MAX];
	enum imap_store_err err;
	int r;

	memset(f, 0, sizeof(*f));
	*lockfd = -1;
	if ((err = store_resolve(s, name, canon, path)) != IMAP_STORE_OK)
		return err;
	if ((r = maildir_exists(path)) != 1)
		return r == 0 ? IMAP_STORE_NONEXISTENT : store_io("check", path);
	f->store = s;
	f->name = xstrdup(canon);
	f->path = xstrdup(path);
	f->readonly = readonly;
	if (!lock)
		return IMAP_STORE_OK;
	if ((*lockfd = store_lock(path)) == -1)
		err = errno == ENOENT ? IMAP_STORE_NONEXISTENT : store_io("lock", path);
	else
		err = store_sync_locked(f);
	if (err != IMAP_STORE_OK) {
		store_unlock(*lockfd);
		*lockfd = -1;
		imap_folder_close(f);
	}
	return err;
}

/* Open name into f; watch: with an inotify watch, started before the
 * first scan so that nothing can slip between them. */
static enum imap_store_err
folder_open(struct imap_store *s, const char *name, int readonly, int watch,
    struct imap_folder *f)
{
	enum imap_store_err err;
	int lockfd;

	if ((err = store_folder_begin(s, name, readonly, 0, f, &lockfd)) != IMAP_STORE_OK)
		return err;
	if (watch)
		(void)store_watch_start(f);	/* without: mtimes, as before */
	if ((lockfd = store_lock(f->path)) == -1)
		err = errno == ENOENT ? IMAP_STORE_NONEXISTENT : store_io("lock", f->path);
	else
		err = store_sync_locked(f);
	store_unlock(lockfd);
	if (err != IMAP_STORE_OK)
		imap_folder_close(f);
	else if (f->watch != NULL)
		s->sel = f;
	return err;
}

enum imap_store_err
imap_folder_open(struct imap_store *s, const char *name, int readonly,
    struct imap_folder *f)
{
	return folder_open(s, name, readonly, 1, f);
}

void
imap_folder_close(struct imap_folder *f)
{
	if (f->store != NULL && f->store->sel == f)
		f->store->sel = NULL;
	store_watch_free(f);
	store_view_clear(f);
	free(f->held_recent);
	free(f->name);
	free(f->path);
	memset(f, 0, sizeof(*f));
}

void
imap_folder_release(struct imap_folder *f)
{
	size_t n;
	uint32_t *recent;

	if (f->path == NULL)
		return;
	recent = store_recent_uids(f, &n);
	for (size_t i = 0; i < f->n; i++)
		free(f->msgs[i].name);
	free(f->msgs);
	f->msgs = NULL;
	f->n = 0;
	f->held_recent = n > 0 ? recent : NULL;
	f->nheld = n;
	if (n == 0)
		free(recent);
	f->released = 1;
	f->stamp.valid = 0;
}

struct imap_msg *
imap_folder_find(const struct imap_folder *f, uint32_t uid)
{
	size_t lo = 0, hi = f->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (f->msgs[mid].uid == uid)
			return &f->msgs[mid];
		if (f->msgs[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

enum imap_store_err
imap_folder_open_msg(struct imap_folder *f, uint32_t uid, int *fd)
{
	struct imap_msg *m = imap_folder_find(f, uid);
	char path[PATH_MAX], cur[300];
	const char *base;
	size_t bl;
	int r;

	*fd = -1;
	if (m == NULL)
		return IMAP_STORE_NONEXISTENT;
	for (int tries = 0; tries < 2; tries++) {
		if (str_format(path, sizeof(path), "%s/%s", f->path, m->name) == -1)
			return IMAP_STORE_IO;
		*fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
		if (*fd != -1)
			return IMAP_STORE_OK;
		if (errno != ENOENT)
			return store_io("open", path);
		/* renamed by someone: find it by its unique part */
		base = store_msg_file(m->name, &bl);
		if ((r = store_find_base(f->path, base, bl, cur, sizeof(cur))) == -1)
			return store_io("scan", f->path);
		if (r == 0)
			return IMAP_STORE_NONEXISTENT;
		free(m->name);
		m->name = xstrdup(cur);
	}
	return IMAP_STORE_NONEXISTENT;
}

enum imap_store_err
imap_store_status(struct imap_store *s, const char *name, struct imap_status *st)
{
	struct imap_folder f;
	enum imap_store_err err;

	memset(st, 0, sizeof(*st));
	if ((err = folder_open(s, name, 1, 0, &f)) != IMAP_STORE_OK)
		return err;
	st->messages = (uint32_t)f.n;
	for (size_t i = 0; i < f.n; i++) {
		st->recent += strncmp(f.msgs[i].name, "new/", 4) == 0;
		st->unseen += (f.msgs[i].sys & IMAP_F_SEEN) == 0;
	}
	st->uidnext = f.uidnext;
	st->uidvalidity = f.uidvalidity;
	st->highestmodseq = f.highestmodseq;
	imap_folder_close(&f);
	return IMAP_STORE_OK;
}

unsigned long
store_next_count(void)
{
	static unsigned long count;

	return ++count;
}

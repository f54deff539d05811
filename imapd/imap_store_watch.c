/*
 * imap_store_watch: the proof that a folder view is still current without
 * reading the folder again.  An inotify watch on cur/ and new/ reports
 * every link, rename and unlink there, by anyone (POP3, local MUAs and
 * deliveries take no lock), in the order they happened; this process
 * announces the ones it makes itself.  While every queued event is an
 * announced one, in order, nothing else changed the folder.  Anything
 * else (an unknown event, a lost or coalesced one, a queue overflow, the
 * watch removed) means "scan again".  Used by the imap mail process.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imap_store_int.h"
#include "util.h"
#include "xmalloc.h"

#define WATCH_EVENTS	(IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | \
			 IN_DELETE_SELF | IN_MOVE_SELF)
#define WATCH_EXPECT_MAX 4096	/* more announced events: just scan again */

struct watch_ev {
	int wd;
	uint32_t mask;
	char *name;		/* FILE (owned) */
};

struct store_watch {
	int fd;			/* inotify, non-blocking */
	int wd_cur, wd_new;
	int current;		/* the view matched the folder at the last check */
	struct watch_ev *exp;	/* announced, not yet seen, in order */
	size_t nexp, cap, pos;
	int too_many;		/* announcements dropped: not current */
	ino_t ino;		/* the list file as f last saw it */
	off_t size;
	struct timespec mtime, ctime;
	int have_list;
};

static void
expect_clear(struct store_watch *w)
{
	for (size_t i = 0; i < w->nexp; i++)
		free(w->exp[i].name);
	free(w->exp);
	w->exp = NULL;
	w->nexp = w->cap = w->pos = 0;
	w->too_many = 0;
}

int
store_watch_start(struct imap_folder *f)
{
	struct store_watch *w;
	char path[PATH_MAX];

	if (f->watch != NULL)
		return 0;
	w = xcalloc(1, sizeof(*w));
	if ((w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1) {
		free(w);
		return -1;
	}
	if (str_format(path, sizeof(path), "%s/cur", f->path) == -1 ||
	    (w->wd_cur = inotify_add_watch(w->fd, path, WATCH_EVENTS)) == -1 ||
	    str_format(path, sizeof(path), "%s/new", f->path) == -1 ||
	    (w->wd_new = inotify_add_watch(w->fd, path, WATCH_EVENTS)) == -1) {
		(void)close(w->fd);
		free(w);
		return -1;
	}
	f->watch = w;
	return 0;
}

void
store_watch_free(struct imap_folder *f)
{
	if (f->watch == NULL)
		return;
	expect_clear(f->watch);
	(void)close(f->watch->fd);
	free(f->watch);
	f->watch = NULL;
}

void
store_watch_dirty(struct imap_folder *f)
{
	if (f->watch != NULL)
		f->watch->current = 0;
}

void
store_watch_expect(struct imap_folder *f, int ev, const char *name)
{
	struct store_watch *w = f->watch;
	struct watch_ev *e;

	if (w == NULL || w->too_many)
		return;
	if (w->nexp >= WATCH_EXPECT_MAX) {
		w->too_many = 1;
		return;
	}
	if (w->nexp == w->cap) {
		w->cap = w->cap == 0 ? 64 : w->cap * 2;
		w->exp = xreallocarray(w->exp, w->cap, sizeof(*w->exp));
	}
	e = &w->exp[w->nexp++];
	e->wd = strncmp(name, "new/", 4) == 0 ? w->wd_new : w->wd_cur;
	e->mask = ev == STORE_EV_FROM ? IN_MOVED_FROM : ev == STORE_EV_TO ? IN_MOVED_TO :
	    IN_DELETE;
	e->name = xstrdup(name + 4);
}

/* Read every queued event: 1 if each was the next announced one, 0 if
 * anything else came (the queue is emptied either way). */
static int
drain(struct store_watch *w)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	int ok = !w->too_many;
	ssize_t n;

	while ((n = read(w->fd, buf, sizeof(buf))) > 0 || (n == -1 && errno == EINTR)) {
		for (char *p = buf; n > 0 && p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			const struct watch_ev *e = w->pos < w->nexp ? &w->exp[w->pos] : NULL;

			p += sizeof(*ev) + ev->len;
			if (ok && e != NULL && ev->wd == e->wd && ev->len > 0 &&
			    (ev->mask & (IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
			    IN_CREATE | IN_Q_OVERFLOW | IN_IGNORED)) == e->mask &&
			    strcmp(ev->name, e->name) == 0)
				w->pos++;
			else
				ok = 0;
		}
	}
	return ok;
}

/* 1 if the list file is the one f last read or wrote. */
static int
list_same(const struct imap_folder *f)
{
	const struct store_watch *w = f->watch;
	char path[PATH_MAX];
	struct stat st;

	if (!w->have_list || str_format(path, sizeof(path), "%s/%s", f->path,
	    STORE_LIST_FILE) == -1 || stat(path, &st) == -1)
		return 0;
	return st.st_ino == w->ino && st.st_size == w->size &&
	    st.st_mtim.tv_sec == w->mtime.tv_sec && st.st_mtim.tv_nsec == w->mtime.tv_nsec &&
	    st.st_ctim.tv_sec == w->ctime.tv_sec && st.st_ctim.tv_nsec == w->ctime.tv_nsec;
}

int
store_watch_current(struct imap_folder *f)
{
	struct store_watch *w = f->watch;

	if (w == NULL)
		return 0;
	if (!drain(w) || w->pos != w->nexp)
		w->current = 0;		/* stays so until a full scan */
	expect_clear(w);
	return w->current && list_same(f);
}

void
store_watch_scan_begin(struct imap_folder *f)
{
	if (f->watch == NULL)
		return;
	(void)drain(f->watch);	/* the scan that follows sees all of it */
	expect_clear(f->watch);
	f->watch->current = 0;
}

void
store_watch_scan_end(struct imap_folder *f)
{
	struct store_watch *w = f->watch;

	if (w == NULL)
		return;
	/* only our own moves from new/ may have come during the scan */
	w->current = drain(w) && w->pos == w->nexp;
	expect_clear(w);
}

void
store_watch_list_seen(struct imap_folder *f)
{
	struct store_watch *w = f->watch;
	char path[PATH_MAX];
	struct stat st;

	if (w == NULL)
		return;
	w->have_list = 0;
	if (str_format(path, sizeof(path), "%s/%s", f->path, STORE_LIST_FILE) == -1 ||
	    stat(path, &st) == -1)
		return;
	w->ino = st.st_ino;
	w->size = st.st_size;
	w->mtime = st.st_mtim;
	w->ctime = st.st_ctim;
	w->have_list = 1;
}

int
imap_folder_watch_fd(const struct imap_folder *f)
{
	return f->watch != NULL ? f->watch->fd : -1;
}

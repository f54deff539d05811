/*
 * imap_store_sync: a folder's view against the disk: scan new/ and cur/,
 * reconcile with the UID list under the folder lock, hand out UIDs and
 * modseqs, move new/ to cur/ (\Recent).  Trusts nothing in the folder.
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
#include <unistd.h>

#include "imap_store_int.h"
#include "log.h"
#include "util.h"
#include "xmalloc.h"

struct scan_ent {
	char *name;		/* "cur/FILE" or "new/FILE" (owned) */
	const char *base;	/* FILE, inside name */
	size_t baselen;		/* unique part of FILE */
	int64_t secs;		/* delivery time from the name */
	long usec;
	int recent;		/* moved from new/ by this sync */
};

struct scan {
	struct scan_ent *e;
	size_t n, cap;
	char **moved;		/* unique parts this sync moved to cur/ */
	size_t nmoved;
	struct buf log;		/* the sync's changes as log records */
	int nolog;		/* ... unless the list must be written whole */
};

/* Scan and listing views may not expose these names as messages. */
static int
file_ok(const char *f)
{
	size_t len = strlen(f);

	if (len == 0 || len > 255 || f[0] == '.')
		return 0;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)f[i] < 0x20 || (unsigned char)f[i] > 0x7e)
			return 0;
	return 1;
}

/* 1 if the entry of dir fd is a regular file (not a symlink). */
static int
is_file(int dfd, const struct dirent *de)
{
	struct stat st;

	if (de->d_type == DT_REG)
		return 1;
	if (de->d_type != DT_UNKNOWN)
		return 0;
	return fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode);
}

static void
name_time(const char *f, int64_t *secs, long *usec)
{
	int64_t s = 0;
	long u = 0;

	for (; *f >= '0' && *f <= '9' && s < INT64_MAX / 10 - 9; f++)
		s = s * 10 + (*f - '0');
	if (f[0] == '.' && f[1] == 'M')
		for (f += 2; *f >= '0' && *f <= '9' && u < 100000000; f++)
			u = u * 10 + (*f - '0');
	*secs = s;
	*usec = u;
}

static void
scan_add(struct scan *sc, const char *dir, const char *file, int recent)
{
	struct scan_ent *e;
	size_t len;

	if (sc->n == sc->cap) {
		sc->cap = sc->cap ? sc->cap * 2 : 64;
		sc->e = xreallocarray(sc->e, sc->cap, sizeof(*sc->e));
	}
	e = &sc->e[sc->n++];
	memset(e, 0, sizeof(*e));
	len = strlen(file);
	e->name = xmalloc(len + 5);
	memcpy(e->name, dir, 3);
	e->name[3] = '/';
	memcpy(e->name + 4, file, len + 1);
	e->base = store_msg_file(e->name, &e->baselen);
	e->recent = recent;
	name_time(file, &e->secs, &e->usec);
}

static void
scan_free(struct scan *sc, int all)
{
	for (size_t i = 0; i < sc->n; i++)
		free(sc->e[i].name);
	free(sc->e);
	sc->e = NULL;
	sc->n = sc->cap = 0;
	buf_reset(&sc->log);
	sc->nolog = 0;
	if (all) {
		buf_free(&sc->log);
		for (size_t i = 0; i < sc->nmoved; i++)
			free(sc->moved[i]);
		free(sc->moved);
		sc->moved = NULL;
		sc->nmoved = 0;
	}
}

/* Open fpath/sub as a directory (never a symlink): fd or -1. */
static int
open_sub(const char *fpath, const char *sub)
{
	char path[PATH_MAX];

	if (str_format(path, sizeof(path), "%s/%s", fpath, sub) == -1)
		return errno = ENAMETOOLONG, -1;
	return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
}

/* Read-write sync: every file of new/ to cur/ ("X" -> "X:2,"); those moved
 * are \Recent for this view.  A file gone meanwhile (POP3 took it) is
 * found in cur/ by the scan.  0/-1. */
static int
move_new(struct imap_folder *f, struct scan *sc)
{
	const char *fpath = f->path;
	char target[PATH_MAX], path[PATH_MAX];
	int nfd, cfd, dfd = -1, moved = 0, r = 0;
	struct dirent *de;
	DIR *d = NULL;

	if ((nfd = open_sub(fpath, "new")) == -1)
		return -1;
	if ((cfd = open_sub(fpath, "cur")) == -1 || (dfd = dup(nfd)) == -1 ||
	    (d = fdopendir(dfd)) == NULL) {
		if (dfd != -1)
			(void)close(dfd);
		r = -1;
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		size_t bl;

		if (!file_ok(de->d_name) || !is_file(nfd, de) ||
		    str_format(target, sizeof(target), "%s%s", de->d_name,
		    strchr(de->d_name, ':') != NULL ? "" : ":2,") == -1)
			continue;
		if (renameat(nfd, de->d_name, cfd, target) == -1) {
			if (errno != ENOENT)
				log_warn("imap store: rename %s/new/%s: %s", fpath,
				    de->d_name, strerror(errno));
			continue;
		}
		moved = 1;
		if (f->watch != NULL && str_format(path, sizeof(path), "new/%s",
		    de->d_name) == 0) {
			store_watch_expect(f, STORE_EV_FROM, path);
			if (str_format(path, sizeof(path), "cur/%s", target) == 0)
				store_watch_expect(f, STORE_EV_TO, path);
		}
		bl = strcspn(target, ":");
		sc->moved = xreallocarray(sc->moved, sc->nmoved + 1, sizeof(char *));
		sc->moved[sc->nmoved++] = xstrndup(target, bl);
	}
	(void)closedir(d);
	if (moved && (fsync(cfd) == -1 || fsync(nfd) == -1))
		r = -1;
out:
	if (cfd != -1)
		(void)close(cfd);
	(void)close(nfd);
	return r;
}

static int
scan_dir(const char *fpath, const char *sub, struct scan *sc)
{
	struct dirent *de;
	int dfd;
	DIR *d;

	if ((dfd = open_sub(fpath, sub)) == -1)
		return -1;
	if ((d = fdopendir(dfd)) == NULL) {
		(void)close(dfd);
		return -1;
	}
	while ((errno = 0, de = readdir(d)) != NULL)
		if (file_ok(de->d_name) && is_file(dfd, de))
			scan_add(sc, sub, de->d_name, 0);
	(void)closedir(d);
	return 0;
}

static int
cmp_moved(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
basecmp(const char *a, size_t al, const char *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);

	return c != 0 ? c : (al > bl) - (al < bl);
}

/* By unique part, then cur/ before new/, then name. */
static int
cmp_scan_base(const void *a, const void *b)
{
	const struct scan_ent *x = a, *y = b;
	int c = basecmp(x->base, x->baselen, y->base, y->baselen);

	return c != 0 ? c : strcmp(x->name, y->name);
}

/* Unknown files: by the time in the name, then by name. */
static int
cmp_scan_new(const void *a, const void *b)
{
	const struct scan_ent *x = *(struct scan_ent *const *)a;
	const struct scan_ent *y = *(struct scan_ent *const *)b;

	if (x->secs != y->secs)
		return x->secs < y->secs ? -1 : 1;
	if (x->usec != y->usec)
		return x->usec < y->usec ? -1 : 1;
	return strcmp(x->base, y->base);
}

/* Scan new/ and cur/ into sc, sorted by unique part, one entry per unique
 * part, recent marks from sc->moved.  0/-1. */
static int
scan_folder(const char *fpath, struct scan *sc)
{
	size_t i, k;

	if (scan_dir(fpath, "cur", sc) == -1 || scan_dir(fpath, "new", sc) == -1)
		return -1;
	if (sc->n > 0)
		qsort(sc->e, sc->n, sizeof(*sc->e), cmp_scan_base);
	for (i = 0, k = 0; i < sc->n; i++) {
		struct scan_ent *e = &sc->e[i];

		if (k > 0 && basecmp(sc->e[k - 1].base, sc->e[k - 1].baselen,
		    e->base, e->baselen) == 0) {
			free(e->name);	/* a second file with this unique part */
			continue;
		}
		sc->e[k++] = *e;
	}
	sc->n = k;
	for (i = 0; i < sc->n; i++) {
		char key[256];
		char *kp = key;

		if (sc->nmoved == 0 || sc->e[i].baselen >= sizeof(key))
			continue;
		memcpy(key, sc->e[i].base, sc->e[i].baselen);
		key[sc->e[i].baselen] = '\0';
		sc->e[i].recent = bsearch(&kp, sc->moved, sc->nmoved, sizeof(char *),
		    cmp_moved) != NULL;
	}
	return 0;
}

static int
cmp_msgp_base(const void *a, const void *b)
{
	const struct imap_msg *x = *(struct imap_msg *const *)a;
	const struct imap_msg *y = *(struct imap_msg *const *)b;
	size_t xl, yl;
	const char *xb = store_msg_file(x->name, &xl), *yb = store_msg_file(y->name, &yl);

	return basecmp(xb, xl, yb, yl);
}

/* Match the list (f->msgs) with the scan by unique part: a renamed
 * message takes the file's name and a new modseq, one without a file
 * gets uid 0; matched scan entries lose their name (taken or freed).
 * The number of messages without a file, or -1 (nothing changed) if
 * two list entries share a unique part. */
static long
merge(struct imap_folder *f, struct scan *sc, int *changed)
{
	struct imap_msg **idx = xreallocarray(NULL, f->n + 1, sizeof(*idx));
	size_t i, j = 0, ml;
	long drops = 0;

	for (i = 0; i < f->n; i++)
		idx[i] = &f->msgs[i];
	qsort(idx, f->n, sizeof(*idx), cmp_msgp_base);
	for (i = 1; i < f->n; i++)
		if (cmp_msgp_base(&idx[i - 1], &idx[i]) == 0) {
			free(idx);
			return -1;
		}
	for (i = 0; i < f->n; i++) {
		struct imap_msg *m = idx[i];
		const char *mb = store_msg_file(m->name, &ml);
		struct scan_ent *e;

		while (j < sc->n && basecmp(sc->e[j].base, sc->e[j].baselen, mb, ml) < 0)
			j++;
		if (j == sc->n || basecmp(sc->e[j].base, sc->e[j].baselen, mb, ml) != 0) {
			sc->nolog |= store_log_put(&sc->log, 'X', m) == -1;
			m->uid = 0;
			drops++;
			continue;
		}
		e = &sc->e[j++];
		if (strcmp(m->name, e->name) != 0) {
			free(m->name);
			m->name = e->name;
			m->modseq = ++f->highestmodseq;
			store_msg_flags(m);
			sc->nolog |= store_log_put(&sc->log, 'U', m) == -1;
			*changed = 1;
		} else
			free(e->name);
		e->name = NULL;
		m->recent = e->recent;
	}
	free(idx);
	return drops;
}

void
store_compact(struct imap_folder *f)
{
	size_t i, k;

	for (i = 0, k = 0; i < f->n; i++) {
		if (f->msgs[i].uid == 0)
			free(f->msgs[i].name);
		else
			f->msgs[k++] = f->msgs[i];
	}
	f->n = k;
}

/* UIDs for the files no list entry matched, appended to f->msgs. */
static enum imap_store_err
assign(struct imap_folder *f, struct scan *sc, int *changed)
{
	struct scan_ent **u = xreallocarray(NULL, sc->n + 1, sizeof(*u));
	size_t nu = 0;

	for (size_t i = 0; i < sc->n; i++)
		if (sc->e[i].name != NULL)
			u[nu++] = &sc->e[i];
	if (nu > (size_t)(UINT32_MAX - f->uidnext)) {
		free(u);
		log_warn("imap store: %s: UIDs exhausted", f->path);
		return IMAP_STORE_IO;
	}
	qsort(u, nu, sizeof(*u), cmp_scan_new);
	f->msgs = xreallocarray(f->msgs, f->n + nu + 1, sizeof(*f->msgs));
	for (size_t i = 0; i < nu; i++) {
		struct imap_msg *m = &f->msgs[f->n++];

		memset(m, 0, sizeof(*m));
		m->uid = f->uidnext++;
		m->modseq = ++f->highestmodseq;
		m->name = u[i]->name;
		m->recent = u[i]->recent;
		u[i]->name = NULL;
		store_msg_flags(m);
		sc->nolog |= store_log_put(&sc->log, 'A', m) == -1;
		*changed = 1;
	}
	free(u);
	return IMAP_STORE_OK;
}

uint32_t
store_add_msg(struct imap_folder *f, const char *name)
{
	struct imap_msg *m;

	if (f->uidnext == UINT32_MAX)
		return 0;
	f->msgs = xreallocarray(f->msgs, f->n + 1, sizeof(*f->msgs));
	m = &f->msgs[f->n++];
	memset(m, 0, sizeof(*m));
	m->uid = f->uidnext++;
	m->modseq = ++f->highestmodseq;
	m->name = xstrdup(name);
	store_msg_flags(m);
	return m->uid;
}

/* A new, empty list (the old one is missing or broken). */
static enum imap_store_err
fresh_list(struct imap_folder *f, uint32_t old)
{
	store_view_clear(f);
	if (store_uidvalidity_next(f->store, old < UINT32_MAX ? old + 1 : 0,
	    &f->uidvalidity) == -1)
		return store_io("new UIDVALIDITY for", f->path);
	f->uidnext = 1;
	f->highestmodseq = 1;
	return IMAP_STORE_OK;
}

/* Read the list and scan; a message missing from the scan is looked for
 * once more (readdir may miss a file renamed while it runs). */
static enum imap_store_err
load(struct imap_folder *f, struct scan *sc, int *changed)
{
	uint32_t old = f->uidvalidity;	/* the view's, if any */
	long drops = 0;
	int r;

	for (int tries = 0; tries < 2; tries++) {
		*changed = 0;
		scan_free(sc, 0);
		if ((r = store_list_read(f)) == -1)
			return store_io("read UID list of", f->path);
		if (scan_folder(f->path, sc) == -1)
			return errno == ENOENT ? IMAP_STORE_NONEXISTENT :
			    store_io("scan", f->path);
		if (r == 1 && (drops = merge(f, sc, changed)) == -1)
			log_warn("imap store: %s: duplicate names in UID list", f->path);
		if (r == 0 || drops == -1) {
			/* above the view's and the broken list's values */
			*changed = 1;
			sc->nolog = 1;
			return fresh_list(f, f->uidvalidity > old ? f->uidvalidity : old);
		}
		if (drops == 0)
			break;
	}
	if (drops > 0) {
		store_compact(f);
		f->highestmodseq++;
		*changed = 1;
	}
	return IMAP_STORE_OK;
}

/* The folder's stamp now: 0, or -1 if something cannot be stat'ed. */
static int
stamp_take(const char *fpath, struct imap_stamp *st)
{
	char path[PATH_MAX];
	struct stat sb;

	memset(st, 0, sizeof(*st));
	if (str_format(path, sizeof(path), "%s/cur", fpath) == -1 || stat(path, &sb) == -1)
		return -1;
	st->cur = sb.st_mtim;
	if (str_format(path, sizeof(path), "%s/new", fpath) == -1 || stat(path, &sb) == -1)
		return -1;
	st->new_ = sb.st_mtim;
	if (str_format(path, sizeof(path), "%s/%s", fpath, STORE_LIST_FILE) == -1 ||
	    stat(path, &sb) == -1)
		return -1;
	st->list_mtime = sb.st_mtim;
	st->list_ctime = sb.st_ctim;
	st->list_ino = sb.st_ino;
	st->list_size = sb.st_size;
	return 0;
}

static int
ts_eq(struct timespec a, struct timespec b)
{
	return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

static int
stamp_eq(const struct imap_stamp *a, const struct imap_stamp *b)
{
	return ts_eq(a->cur, b->cur) && ts_eq(a->new_, b->new_) &&
	    ts_eq(a->list_mtime, b->list_mtime) && ts_eq(a->list_ctime, b->list_ctime) &&
	    a->list_ino == b->list_ino && a->list_size == b->list_size;
}

/* Record what a full sync saw: dirs as stat'ed before the scan (dirs),
 * the list as it is now (lock held).  Trusted only if the dirs' times are
 * over a second old: a change later in the same clock tick would not move
 * them.  The list is replaced by rename (a new inode) or appended to (a
 * larger size): either moves its part of the stamp. */
static void
stamp_record(struct imap_folder *f, const struct imap_stamp *dirs, time_t before)
{
	struct imap_stamp now;

	f->stamp.valid = 0;
	if (stamp_take(f->path, &now) == -1)
		return;
	now.cur = dirs->cur;
	now.new_ = dirs->new_;
	now.valid = now.cur.tv_sec < before - 1 && now.new_.tv_sec < before - 1;
	f->stamp = now;
}

static unsigned long store_full_syncs;	/* scans of a folder (the tests') */

enum imap_store_err
store_sync_locked(struct imap_folder *f)
{
	struct scan sc = { .log = BUF_INIT(IMAP_STORE_LIST_MAX) };
	uint32_t *recent, old_uv = f->uidvalidity;
	size_t nrecent = 0;
	enum imap_store_err err;
	struct imap_stamp dirs;
	int changed = 0;
	time_t before;

	/* the lock is held: nobody else writes the list, and the watch
	 * shows whether anyone touched the files */
	if (f->watch != NULL && store_watch_current(f)) {
		if (!f->released || store_reload(f) == 1)
			return IMAP_STORE_OK;
		store_watch_dirty(f);
	}
	store_full_syncs++;
	recent = store_recent_uids(f, &nrecent);
	f->released = 0;
	store_watch_scan_begin(f);
	if (!f->readonly && move_new(f, &sc) == -1) {
		err = errno == ENOENT ? IMAP_STORE_NONEXISTENT :
		    store_io("move new/ to cur/ in", f->path);
		goto out;
	}
	if (sc.nmoved > 0)
		qsort(sc.moved, sc.nmoved, sizeof(char *), cmp_moved);
	before = time(NULL);
	if (stamp_take(f->path, &dirs) == -1)
		dirs.valid = -1;
	f->stamp.valid = 0;
	if ((err = load(f, &sc, &changed)) != IMAP_STORE_OK)
		goto out;
	if ((err = assign(f, &sc, &changed)) != IMAP_STORE_OK)
		goto out;
	for (size_t i = 0; old_uv == f->uidvalidity && i < nrecent; i++) {
		struct imap_msg *m = imap_folder_find(f, recent[i]);

		if (m != NULL)
			m->recent = 1;
	}
	/* EXAMINE moves nothing: what still waits in new/ is recent, as no
	 * session has claimed it (RFC 3501 2.3.2) */
	for (size_t i = 0; f->readonly && i < f->n; i++)
		if (strncmp(f->msgs[i].name, "new/", 4) == 0)
			f->msgs[i].recent = 1;
	/* new UIDs, others' renames and removals: logged like any change */
	if (changed && (sc.nolog ? store_list_write(f) : store_log_write(f, &sc.log)) == -1)
		err = store_io("write UID list of", f->path);
	if (err == IMAP_STORE_OK && dirs.valid == 0)
		stamp_record(f, &dirs, before);
	if (err == IMAP_STORE_OK)
		store_watch_scan_end(f);
out:
	scan_free(&sc, 1);
	free(recent);
	return err;
}

/* Look for base in fpath/sub; 1 found (name into out), 0, -1. */
static int
find_in(const char *fpath, const char *sub, const char *base, size_t baselen,
    char *out, size_t size)
{
	struct dirent *de;
	int dfd, found = 0;
	DIR *d;

	if ((dfd = open_sub(fpath, sub)) == -1)
		return errno == ENOENT ? 0 : -1;
	if ((d = fdopendir(dfd)) == NULL) {
		(void)close(dfd);
		return -1;
	}
	while (!found && (de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, base, baselen) != 0 ||
		    (de->d_name[baselen] != '\0' && de->d_name[baselen] != ':') ||
		    !file_ok(de->d_name))
			continue;
		found = str_format(out, size, "%s/%s", sub, de->d_name) == 0;
	}
	(void)closedir(d);
	return found;
}

int
store_find_base(const char *fpath, const char *base, size_t baselen, char *out,
    size_t size)
{
	int r = find_in(fpath, "cur", base, baselen, out, size);

	return r != 0 ? r : find_in(fpath, "new", base, baselen, out, size);
}

enum imap_store_err
imap_folder_sync(struct imap_folder *f)
{
	enum imap_store_err err;
	struct imap_stamp now;
	int lockfd;

	/* only here: paths that write the list always read it under the lock */
	if (f->watch != NULL) {
		if (store_watch_current(f) && !f->released)
			return IMAP_STORE_OK;
	} else if (f->stamp.valid && !f->released && stamp_take(f->path, &now) == 0 &&
	    stamp_eq(&now, &f->stamp))
		return IMAP_STORE_OK;

	if ((lockfd = store_lock(f->path)) == -1)
		return errno == ENOENT ? IMAP_STORE_NONEXISTENT :
		    store_io("lock", f->path);
	err = store_sync_locked(f);
	store_unlock(lockfd);
	return err;
}

/*
 * imap_store_change: changes to messages (STORE flags and keywords,
 * EXPUNGE, APPEND, COPY, MOVE), each under the folder lock and durable
 * (file and directory fsync) before it reports success.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
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

int
imap_modseq_ok(uint64_t m, uint64_t u)
{
	return u == 0 || m <= u;
}

/* fsync fpath/cur and fpath/new.  0/-1. */
static int
sync_dirs(const char *fpath)
{
	char path[PATH_MAX];

	if (str_format(path, sizeof(path), "%s/cur", fpath) == -1 ||
	    fsync_dir(path) == -1 ||
	    str_format(path, sizeof(path), "%s/new", fpath) == -1 ||
	    fsync_dir(path) == -1)
		return -1;
	return 0;
}

/* Keyword names -> letter bits of f (adding letters if create).  0, or
 * LIMIT / BADNAME. */
static enum imap_store_err
keyword_bits(struct imap_folder *f, const char *const *kws, size_t n, int create,
    uint32_t *bits, int *added)
{
	*bits = 0;
	for (size_t i = 0; i < n; i++) {
		int k = store_keyword(f, kws[i], create, added);

		if (k >= 0)
			*bits |= 1u << k;
		else if (create)
			return store_keyword_valid(kws[i]) ? IMAP_STORE_LIMIT :
			    IMAP_STORE_BADNAME;
	}
	return IMAP_STORE_OK;
}

/* Rename message m of f to the name for (sys, kw); a file renamed by
 * someone else meanwhile is found by its unique part.  1 done, 0 gone,
 * -1 error. */
static int
rename_msg(struct imap_folder *f, struct imap_msg *m, uint32_t sys, uint32_t kw)
{
	char from[PATH_MAX], to[PATH_MAX], nname[300], cur[300];
	size_t bl;
	const char *base = store_msg_file(m->name, &bl);

	if (store_flag_name(nname, sizeof(nname), base, bl, sys, kw) == -1 ||
	    str_format(to, sizeof(to), "%s/%s", f->path, nname) == -1)
		return errno = ENAMETOOLONG, -1;
	for (int tries = 0; tries < 2; tries++) {
		int r;

		if (str_format(from, sizeof(from), "%s/%s", f->path, m->name) == -1)
			return errno = ENAMETOOLONG, -1;
		if (rename(from, to) == 0) {
			store_watch_expect(f, STORE_EV_FROM, m->name);
			store_watch_expect(f, STORE_EV_TO, nname);
			free(m->name);
			m->name = xstrdup(nname);
			m->sys = sys;
			m->kw = kw;
			m->modseq = ++f->highestmodseq;
			return 1;
		}
		if (errno != ENOENT)
			return -1;
		if ((r = store_find_base(f->path, base, bl, cur, sizeof(cur))) <= 0)
			return r;
		free(m->name);
		m->name = xstrdup(cur);
		base = store_msg_file(m->name, &bl);
	}
	return 0;
}

/* The flags message m gets from change ch (kw: the change's letters). */
static void
new_flags(const struct imap_msg *m, const struct imap_flag_change *ch, uint32_t kw,
    uint32_t *nsys, uint32_t *nkw)
{
	uint32_t sys = ch->sys & IMAP_F_IMAP;

	switch (ch->op) {
	case IMAP_FLAGS_SET:
		*nsys = (m->sys & ~IMAP_F_IMAP) | sys;
		*nkw = kw;
		break;
	case IMAP_FLAGS_ADD:
		*nsys = m->sys | sys;
		*nkw = m->kw | kw;
		break;
	default:
		*nsys = m->sys & ~sys;
		*nkw = m->kw & ~kw;
		break;
	}
}

/* The batch of a STORE, lock held and view synced; its log records into
 * log. */
static enum imap_store_err
store_batch(struct imap_folder *f, const uint32_t *uids, size_t n,
    const struct imap_flag_change *ch, enum imap_change_res *res, int *changed,
    struct buf *log)
{
	char *had[IMAP_STORE_KEYWORDS];
	uint32_t kw, nsys, nkw;
	enum imap_store_err err;
	int added = 0;

	memcpy(had, f->keywords, sizeof(had));
	err = keyword_bits(f, ch->keywords, ch->nkeywords, ch->op != IMAP_FLAGS_REMOVE,
	    &kw, &added);
	if (err != IMAP_STORE_OK)
		return err;
	if (added && store_log_keywords(f, had, log) == -1)
		return errno = EFBIG, store_io("log a change of", f->path);
	*changed = added;
	for (size_t i = 0; i < n; i++) {
		struct imap_msg *m = imap_folder_find(f, uids[i]);
		int r;

		res[i] = IMAP_CHANGE_DONE;
		if (m == NULL) {
			res[i] = IMAP_CHANGE_GONE;
			continue;
		}
		if (!imap_modseq_ok(m->modseq, ch->unchangedsince)) {
			res[i] = IMAP_CHANGE_MODIFIED;
			continue;
		}
		new_flags(m, ch, kw, &nsys, &nkw);
		if (nsys == m->sys && nkw == m->kw && strncmp(m->name, "cur/", 4) == 0)
			continue;
		if ((r = rename_msg(f, m, nsys, nkw)) == -1)
			return store_io("rename a message in", f->path);
		if (r == 0)
			res[i] = IMAP_CHANGE_GONE;
		else if (store_log_put(log, 'U', m) == -1)
			return errno = EFBIG, store_io("log a change of", f->path);
		else
			*changed = 1;
	}
	return IMAP_STORE_OK;
}

enum imap_store_err
imap_folder_store(struct imap_folder *f, const uint32_t *uids, size_t n,
    const struct imap_flag_change *ch, enum imap_change_res *res)
{
	struct buf log = BUF_INIT(IMAP_STORE_LIST_MAX);
	enum imap_store_err err;
	int lockfd, changed = 0;

	if ((lockfd = store_lock(f->path)) == -1)
		return errno == ENOENT ? IMAP_STORE_NONEXISTENT : store_io("lock", f->path);
	if ((err = store_sync_locked(f)) == IMAP_STORE_OK)
		err = store_batch(f, uids, n, ch, res, &changed, &log);
	/* renames first, durable; then the log that names them */
	if (err == IMAP_STORE_OK && changed &&
	    (sync_dirs(f->path) == -1 || store_log_write(f, &log) == -1))
		err = store_io("write UID list of", f->path);
	buf_free(&log);
	if (err != IMAP_STORE_OK) {
		/* the view may hold what the disk does not: read it again */
		store_watch_dirty(f);
		f->stamp.valid = 0;
		if (store_sync_locked(f) != IMAP_STORE_OK) {
			/* the view is re-read at the next sync */
		}
	}
	store_unlock(lockfd);
	return err;
}

/* Unlink message m of f (renamed by someone meanwhile: under its new
 * name; gone already: fine) and log it.  OK or IO. */
static enum imap_store_err
expunge_one(struct imap_folder *f, const struct imap_msg *m, struct buf *log)
{
	char path[PATH_MAX], cur[300];
	size_t bl;
	const char *base = store_msg_file(m->name, &bl);
	int r;

	if (str_format(path, sizeof(path), "%s/%s", f->path, m->name) == -1)
		return IMAP_STORE_IO;
	r = unlink(path);
	if (r == -1 && errno == ENOENT &&
	    store_find_base(f->path, base, bl, cur, sizeof(cur)) == 1 &&
	    str_format(path, sizeof(path), "%s/%s", f->path, cur) == 0)
		r = unlink(path);
	if (r == -1 && errno != ENOENT)
		return store_io("unlink", path);
	if (r == 0)
		store_watch_expect(f, STORE_EV_GONE, path + strlen(f->path) + 1);
	if (store_log_put(log, 'X', m) == -1)
		return errno = EFBIG, store_io("log a change of", f->path);
	return IMAP_STORE_OK;
}

/* Unlink the messages of uids[n] (all with \Deleted if uids is NULL;
 * only those still \Deleted if deleted_only), under the lock. */
static enum imap_store_err
expunge(struct imap_folder *f, const uint32_t *uids, size_t n, int deleted_only)
{
	struct buf log = BUF_INIT(IMAP_STORE_LIST_MAX);
	enum imap_store_err err;
	size_t removed = 0;
	int lockfd;
	char *gone;

	if ((lockfd = store_lock(f->path)) == -1)
		return errno == ENOENT ? IMAP_STORE_NONEXISTENT : store_io("lock", f->path);
	if ((err = store_sync_locked(f)) != IMAP_STORE_OK)
		goto out;
	if (uids == NULL)
		n = f->n;
	/* marks, not uid 0 yet: imap_folder_find needs the order intact */
	gone = xcalloc(f->n + 1, 1);
	for (size_t i = 0; i < n && err == IMAP_STORE_OK; i++) {
		struct imap_msg *m = uids != NULL ? imap_folder_find(f, uids[i]) : &f->msgs[i];

		if (m == NULL || gone[m - f->msgs] ||
		    (deleted_only && !(m->sys & IMAP_F_DELETED)))
			continue;
		if ((err = expunge_one(f, m, &log)) == IMAP_STORE_OK) {
			gone[m - f->msgs] = 1;
			removed++;
		}
	}
	for (size_t i = 0; i < f->n; i++)
		if (gone[i])
			f->msgs[i].uid = 0;
	free(gone);
	if (removed > 0) {
		store_compact(f);
		f->highestmodseq++;
		/* unlinks first, durable; then the log that names them */
		if (sync_dirs(f->path) == -1 || store_log_write(f, &log) == -1)
			err = store_io("write UID list of", f->path);
	}
	if (err != IMAP_STORE_OK) {
		store_watch_dirty(f);
		f->stamp.valid = 0;
	}
out:
	buf_free(&log);
	store_unlock(lockfd);
	return err;
}

enum imap_store_err
imap_folder_expunge(struct imap_folder *f, const uint32_t *uids, size_t n)
{
	return expunge(f, uids, n, 0);
}

enum imap_store_err
imap_folder_expunge_deleted(struct imap_folder *f, const uint32_t *uids, size_t n)
{
	return expunge(f, uids, n, 1);
}

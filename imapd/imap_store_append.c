/*
 * imap_store_append: new messages in a folder (APPEND; COPY and MOVE from
 * another folder): written or linked into tmp/, made durable, then moved
 * into cur/ and given their UIDs under the destination's lock.
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

#define CHUNK	65536

/* One message waiting in the destination's tmp/. */
struct pending {
	char *tmp;		/* its path in tmp/ (owned) */
	char base[256];		/* unique name it gets in cur/ */
	char final[300];	/* its name in the folder once in cur/ */
	uint32_t src_uid;
	uint32_t sys;
	uint32_t src_kw;	/* source letters (COPY) */
};

/* A unique base name now, for size octets. */
static int
unique_name(struct imap_store *s, uint64_t size, char *out, size_t outsize)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		return -1;
	return maildir_name(out, outsize, (int64_t)ts.tv_sec, ts.tv_nsec / 1000,
	    (long)getpid(), store_next_count(), s->host, size);
}

/* Copy fd to EOF into out (at most limit octets, 0 = none).  1 ok,
 * 0 over the limit, -1 error. */
static int
copy_fd(int in, int out, uint64_t limit, uint64_t *total)
{
	char *chunk = xmalloc(CHUNK);
	ssize_t n;
	int r = 1;

	*total = 0;
	for (;;) {
		n = read(in, chunk, CHUNK);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n == 0 ? 1 : -1;
			break;
		}
		*total += (uint64_t)n;
		if (limit != 0 && *total > limit) {
			r = 0;
			break;
		}
		if (write_all(out, chunk, (size_t)n) == -1) {
			r = -1;
			break;
		}
	}
	free(chunk);
	return r;
}

/* Write the message of a into tmp/ of folder fpath, mtime = internal
 * date, fsynced; its path and final base name into p. */
static enum imap_store_err
write_tmp(struct imap_store *s, const char *fpath, const struct imap_append *a,
    struct pending *p)
{
	struct timespec t[2];
	uint64_t size = a->len;
	char name[256], path[PATH_MAX];
	int fd, r = 1;

	if (a->fd < 0 && a->limit != 0 && a->len > a->limit)
		return IMAP_STORE_TOOBIG;
	if (unique_name(s, 0, name, sizeof(name)) == -1 ||
	    str_format(path, sizeof(path), "%s/tmp/%s", fpath, name) == -1)
		return IMAP_STORE_IO;
	p->tmp = xstrdup(path);
	fd = open(p->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1)
		return store_io("create", p->tmp);
	if (a->fd >= 0)
		r = copy_fd(a->fd, fd, a->limit, &size);
	else if (write_all(fd, a->data, a->len) == -1)
		r = -1;
	t[0].tv_sec = t[1].tv_sec = a->internaldate != 0 ? a->internaldate : time(NULL);
	t[0].tv_nsec = t[1].tv_nsec = 0;
	if (r == 1 && (futimens(fd, t) == -1 || fsync(fd) == -1))
		r = -1;
	if (close(fd) == -1 && r == 1)
		r = -1;
	/* same time, pid and count: still unique, now with the size */
	name[strcspn(name, ",")] = '\0';
	if (r == 1 && str_format(p->base, sizeof(p->base), "%s,S=%llu", name,
	    (unsigned long long)size) == -1)
		r = -1;
	if (r != 1) {
		enum imap_store_err err = r == 0 ? IMAP_STORE_TOOBIG :
		    store_io("write", p->tmp);

		(void)unlink(p->tmp);
		free(p->tmp);
		p->tmp = NULL;
		return err;
	}
	return IMAP_STORE_OK;
}

/* Move the pending messages into cur/ of d (lock held, view synced) with
 * their flags (kw: destination letters per message; had: d's keywords
 * before), UIDs in order into uids[], fsync cur/, log the change.  On
 * error nothing is left in cur/. */
static enum imap_store_err
commit(struct imap_folder *d, struct pending *p, char *const *had, const uint32_t *kw,
    size_t n, uint32_t *uids)
{
	struct buf log = BUF_INIT(IMAP_STORE_LIST_MAX);
	char path[PATH_MAX], cur[PATH_MAX];
	enum imap_store_err err = IMAP_STORE_OK;
	size_t done;

	if (store_log_keywords(d, had, &log) == -1) {
		buf_free(&log);
		store_watch_dirty(d);
		return errno = EFBIG, store_io("log a change of", d->path);
	}
	for (done = 0; done < n; done++) {
		if (store_flag_name(p[done].final, sizeof(p[done].final), p[done].base,
		    strlen(p[done].base), p[done].sys, kw[done]) == -1 ||
		    str_format(path, sizeof(path), "%s/%s", d->path, p[done].final) == -1 ||
		    rename(p[done].tmp, path) == -1) {
			err = store_io("move into cur/", p[done].tmp);
			break;
		}
		store_watch_expect(d, STORE_EV_TO, p[done].final);
		if ((uids[done] = store_add_msg(d, p[done].final)) == 0) {
			err = IMAP_STORE_IO;
			done++;
			break;
		}
		if (store_log_put(&log, 'A', &d->msgs[d->n - 1]) == -1) {
			err = (errno = EFBIG, store_io("log a change of", d->path));
			done++;
			break;
		}
	}
	if (str_format(cur, sizeof(cur), "%s/cur", d->path) == -1)
		err = IMAP_STORE_IO;
	/* the files first, durable; then the log that names them */
	if (err == IMAP_STORE_OK && (fsync_dir(cur) == -1 || store_log_write(d, &log) == -1))
		err = store_io("write UID list of", d->path);
	buf_free(&log);
	if (err != IMAP_STORE_OK) {
		/* the view holds what the disk may not: a full sync next */
		store_watch_dirty(d);
		d->stamp.valid = 0;
		/* undo: a NO must not leave a message behind */
		for (size_t i = 0; i < done; i++)
			if (str_format(path, sizeof(path), "%s/%s", d->path,
			    p[i].final) == 0)
				(void)unlink(path);
		if (fsync_dir(cur) == -1)
			log_warn("imap store: fsync %s: %s", cur, strerror(errno));
	}
	return err;
}

/* The view to add to: the session's own view of that folder (so that its
 * watch knows these files are ours) or the fresh one *tmp. */
static struct imap_folder *
dest_view(struct imap_store *s, struct imap_folder *tmp)
{
	if (s->sel != NULL && s->sel->path != NULL && strcmp(s->sel->path, tmp->path) == 0)
		return s->sel;
	return tmp;
}

/* Keyword names -> letters of d (added as needed) into *kw.  0, LIMIT or
 * BADNAME. */
static enum imap_store_err
append_keywords(struct imap_folder *d, const struct imap_append *a, uint32_t *kw)
{
	int added = 0;

	*kw = 0;
	for (size_t i = 0; i < a->nkeywords; i++) {
		int k = store_keyword(d, a->keywords[i], 1, &added);

		if (k < 0)
			return store_keyword_valid(a->keywords[i]) ? IMAP_STORE_LIMIT :
			    IMAP_STORE_BADNAME;
		*kw |= 1u << k;
	}
	return IMAP_STORE_OK;
}

enum imap_store_err
imap_store_append(struct imap_store *s, const char *name, const struct imap_append *a,
    uint32_t *uidvalidity, uint32_t *uid)
{
	struct imap_folder tmpd, *d;
	char *had[IMAP_STORE_KEYWORDS];
	struct pending p;
	enum imap_store_err err;
	uint32_t kw;
	int lockfd;

	*uidvalidity = *uid = 0;
	if ((err = store_folder_begin(s, name, 1, 0, &tmpd, &lockfd)) != IMAP_STORE_OK)
		return err;
	d = dest_view(s, &tmpd);
	memset(&p, 0, sizeof(p));
	p.sys = a->sys & IMAP_F_IMAP;
	if ((err = write_tmp(s, d->path, a, &p)) != IMAP_STORE_OK) {
		imap_folder_close(&tmpd);
		return err;
	}
	if ((lockfd = store_lock(d->path)) == -1)
		err = store_io("lock", d->path);
	else if ((err = store_sync_locked(d)) == IMAP_STORE_OK) {
		memcpy(had, d->keywords, sizeof(had));
		if ((err = append_keywords(d, a, &kw)) == IMAP_STORE_OK)
			err = commit(d, &p, had, &kw, 1, uid);
		else
			store_watch_dirty(d);	/* letters taken in the view only */
	}
	(void)unlink(p.tmp);	/* gone already unless something failed */
	free(p.tmp);
	*uidvalidity = d->uidvalidity;
	store_unlock(lockfd);
	imap_folder_close(&tmpd);
	return err;
}

/* Copy the file src to the new file dst with src's mtime, fsynced.
 * 0/-1. */
static int
copy_file(const char *src, const char *dst)
{
	struct timespec t[2];
	struct stat st;
	uint64_t total;
	int in, out, r;

	if ((in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY)) == -1)
		return -1;
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (out == -1) {
		(void)close(in);
		return -1;
	}
	r = fstat(in, &st) == 0 && copy_fd(in, out, 0, &total) == 1 ? 0 : -1;
	t[0] = st.st_atim;
	t[1] = st.st_mtim;
	if (r == 0 && (futimens(out, t) == -1 || fsync(out) == -1))
		r = -1;
	(void)close(in);
	if (close(out) == -1)
		r = -1;
	if (r == -1)
		(void)unlink(dst);
	return r;
}

/* Hard-link (else copy) message m of f into tmp/ of d as p.  1 staged,
 * 0 the message is gone, -1 error. */
static int
stage(struct imap_folder *f, struct imap_msg *m, struct imap_folder *d,
    struct pending *p)
{
	char src[PATH_MAX], dst[PATH_MAX], cur[300];
	struct stat st;
	const char *base;
	uint64_t size;
	size_t bl;
	int r;

	for (int tries = 0; tries < 2; tries++) {
		if (str_format(src, sizeof(src), "%s/%s", f->path, m->name) == -1)
			return errno = ENAMETOOLONG, -1;
		base = store_msg_file(m->name, &bl);
		if (!maildir_name_size(base, &size))
			size = stat(src, &st) == 0 ? (uint64_t)st.st_size : 0;
		if (unique_name(d->store, size, p->base, sizeof(p->base)) == -1 ||
		    str_format(dst, sizeof(dst), "%s/tmp/%s", d->path, p->base) == -1)
			return errno = ENAMETOOLONG, -1;
		if (link(src, dst) == 0 || ((errno == EXDEV || errno == EPERM ||
		    errno == EMLINK || errno == ENOTSUP || errno == ENOSYS) &&
		    copy_file(src, dst) == 0)) {
			p->tmp = xstrdup(dst);
			p->sys = m->sys;
			p->src_kw = m->kw;
			return 1;
		}
		if (errno != ENOENT)
			return -1;
		if ((r = store_find_base(f->path, base, bl, cur, sizeof(cur))) <= 0)
			return r;
		free(m->name);
		m->name = xstrdup(cur);
	}
	return 0;
}

/* Stage the messages of uids[n] of f for d: *np pending, in order. */
static enum imap_store_err
stage_all(struct imap_folder *f, const uint32_t *uids, size_t n,
    struct imap_folder *d, struct pending *p, size_t *np)
{
	*np = 0;
	for (size_t i = 0; i < n; i++) {
		struct imap_msg *m = imap_folder_find(f, uids[i]);
		int r;

		if (m == NULL)
			continue;
		memset(&p[*np], 0, sizeof(p[*np]));
		if ((r = stage(f, m, d, &p[*np])) == -1)
			return store_io("copy a message from", f->path);
		if (r == 1)
			p[(*np)++].src_uid = uids[i];
	}
	return IMAP_STORE_OK;
}

/* The destination letters for the source letters of p. */
static uint32_t
map_keywords(struct imap_folder *f, struct imap_folder *d, uint32_t src_kw)
{
	uint32_t kw = 0;
	int added = 0;

	for (int b = 0; b < IMAP_STORE_KEYWORDS; b++) {
		int k;

		if (!(src_kw & (1u << b)) || f->keywords[b] == NULL)
			continue;
		if ((k = store_keyword(d, f->keywords[b], 1, &added)) >= 0)
			kw |= 1u << k;
		else
			log_warn("imap store: %s: no letter left for keyword %s",
			    d->path, f->keywords[b]);
	}
	return kw;
}

enum imap_store_err
imap_folder_copy(struct imap_folder *f, const uint32_t *uids, size_t n,
    const char *dest, uint32_t *uidvalidity, uint32_t *src_uids,
    uint32_t *dst_uids, size_t *nout)
{
	struct pending *p = xcalloc(n + 1, sizeof(*p));
	uint32_t *kw = xcalloc(n + 1, sizeof(*kw));
	char *had[IMAP_STORE_KEYWORDS];
	enum imap_store_err err;
	struct imap_folder tmpd, *d = &tmpd;
	size_t np = 0;
	int lockfd = -1;

	*nout = 0;
	*uidvalidity = 0;
	if ((err = store_folder_begin(f->store, dest, 1, 0, &tmpd, &lockfd)) != IMAP_STORE_OK)
		goto out_free;
	d = dest_view(f->store, &tmpd);
	if ((err = stage_all(f, uids, n, d, p, &np)) != IMAP_STORE_OK)
		goto out;
	if ((lockfd = store_lock(d->path)) == -1) {
		err = store_io("lock", d->path);
		goto out;
	}
	if ((err = store_sync_locked(d)) != IMAP_STORE_OK)
		goto out;
	memcpy(had, d->keywords, sizeof(had));
	for (size_t i = 0; i < np; i++)
		kw[i] = map_keywords(f, d, p[i].src_kw);
	if ((err = commit(d, p, had, kw, np, dst_uids)) != IMAP_STORE_OK)
		goto out;
	for (size_t i = 0; i < np; i++)
		src_uids[i] = p[i].src_uid;
	*nout = np;
	*uidvalidity = d->uidvalidity;
out:
	store_unlock(lockfd);
	for (size_t i = 0; i < np; i++)
		if (p[i].tmp != NULL)
			(void)unlink(p[i].tmp);	/* left only on errors */
	imap_folder_close(&tmpd);
out_free:
	for (size_t i = 0; i < np; i++)
		free(p[i].tmp);
	free(p);
	free(kw);
	return err;
}

enum imap_store_err
imap_folder_move(struct imap_folder *f, const uint32_t *uids, size_t n,
    const char *dest, uint32_t *uidvalidity, uint32_t *src_uids,
    uint32_t *dst_uids, size_t *nout)
{
	enum imap_store_err err;

	err = imap_folder_copy(f, uids, n, dest, uidvalidity, src_uids, dst_uids, nout);
	if (err != IMAP_STORE_OK)
		return err;
	return imap_folder_expunge(f, src_uids, *nout);
}

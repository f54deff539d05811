/*
 * queue_spool: writes new messages into the spool with the commit protocol
 * of DESIGN.md and sweeps crash leftovers at start.  Runs inside the queue
 * process with the spool as its root (or cwd); trusts only its own files.
 *
 * Invariant after every step: env/XX/ID exists => msg/XX/ID exists and is
 * durable; only a durable env/XX/ID is ever acknowledged.
 */
#include <bsd/stdlib.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "log.h"
#include "queue_spool.h"
#include "util.h"

static const char *const spool_dirs[] = { "incoming", "msg", "env", "bounce" };

void
spool_subdir(const char *id, char out[3])
{
	static const char hex[] = "0123456789ABCDEF";
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (; *id != '\0'; id++)
		h = (h ^ (unsigned char)*id) * 16777619u;
	out[0] = hex[(h >> 4) & 15];
	out[1] = hex[h & 15];
	out[2] = '\0';
}

/* A name we could have made: [0-9A-Z], QUEUE_ID_LEN long. */
static int
spool_id_ok(const char *s)
{
	size_t n = strlen(s);

	return n == QUEUE_ID_LEN &&
	    strspn(s, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") == n;
}

static void
spool_new_id(char id[QUEUE_ID_LEN + 1])
{
	static const char b32[] = "0123456789BCDFGHJKLMNPQRSTVWXYZA";
	struct timeval tv;
	unsigned long long us;
	uint64_t r = ((uint64_t)arc4random() << 32) | arc4random();
	int i;

	if (gettimeofday(&tv, NULL) == -1)
		log_panic("gettimeofday: %s", strerror(errno));
	us = (unsigned long long)tv.tv_sec * 1000000ull + (unsigned long long)tv.tv_usec;
	if (snprintf(id, 14, "%013llX", us & 0xFFFFFFFFFFFFFull) != 13)
		log_panic("queue id");
	for (i = 0; i < 8; i++, r >>= 5)
		id[13 + i] = b32[r & 31];
	id[QUEUE_ID_LEN] = '\0';
}

/* Path "dir/XX/ID" (or "dir/XX" when id is NULL) for the id's subdir. */
static void
spool_path(char *out, size_t size, const char *dir, const char *xx, const char *id)
{
	int r = id != NULL ? str_format(out, size, "%s/%s/%s", dir, xx, id) :
	    str_format(out, size, "%s/%s", dir, xx);

	if (r == -1)
		log_panic("spool path too long");
}

static void
spool_incoming(char *out, size_t size, const char *id, const char *ext)
{
	if (str_format(out, size, "incoming/%s.%s", id, ext) == -1)
		log_panic("spool path too long");
}

/* mkdir dir/XX if missing; a new one is made durable in its parent. */
static int
spool_mksub(const char *dir, const char *xx)
{
	char path[64];

	spool_path(path, sizeof(path), dir, xx, NULL);
	if (mkdir(path, 0700) == 0)
		return fsync_dir(dir);
	return errno == EEXIST ? 0 : -1;
}

/* ---- start-up sweep ---------------------------------------------------- */

static void
spool_unlink(const char *path, const char *why)
{
	if (unlink(path) == -1 && errno != ENOENT)
		log_warn("cannot remove %s: %s", path, strerror(errno));
	else
		log_info("removed %s (%s)", path, why);
}

static void
spool_sweep_incoming(void)
{
	char path[512];
	struct dirent *d;
	DIR *dir;

	if ((dir = opendir("incoming")) == NULL)
		log_fatal("incoming: %s", strerror(errno));
	while ((d = readdir(dir)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		if (str_format(path, sizeof(path), "incoming/%s", d->d_name) == -1)
			continue;
		spool_unlink(path, "unfinished message");
	}
	closedir(dir);
}

/* In dir/XX: remove every ID whose counterpart other/XX/ID is missing. */
static void
spool_sweep_sub(const char *dir, const char *other, const char *xx, const char *why)
{
	char path[512], twin[512];
	struct dirent *d;
	struct stat st;
	DIR *dh;

	spool_path(path, sizeof(path), dir, xx, NULL);
	if ((dh = opendir(path)) == NULL) {
		log_warn("%s: %s", path, strerror(errno));
		return;
	}
	while ((d = readdir(dh)) != NULL) {
		if (d->d_name[0] == '.' && spool_id_ok(d->d_name + 1)) {
			/* a rewrite's temp file (.ID): the rename never happened,
			 * so ID still holds the state before the update */
			spool_path(path, sizeof(path), dir, xx, d->d_name);
			spool_unlink(path, "unfinished envelope update");
			continue;
		}
		if (!spool_id_ok(d->d_name))
			continue;	/* not ours to judge */
		spool_path(path, sizeof(path), dir, xx, d->d_name);
		spool_path(twin, sizeof(twin), other, xx, d->d_name);
		if (lstat(twin, &st) == -1 && errno == ENOENT)
			spool_unlink(path, why);
	}
	closedir(dh);
}

static void
spool_sweep(const char *dir, const char *other, const char *why)
{
	struct dirent *d;
	DIR *dh;

	if ((dh = opendir(dir)) == NULL)
		log_fatal("%s: %s", dir, strerror(errno));
	while ((d = readdir(dh)) != NULL)
		if (strlen(d->d_name) == 2 && d->d_name[0] != '.')
			spool_sweep_sub(dir, other, d->d_name, why);
	closedir(dh);
}

int
spool_init(void)
{
	size_t i;

	for (i = 0; i < sizeof(spool_dirs) / sizeof(spool_dirs[0]); i++)
		if (mkdir(spool_dirs[i], 0700) == 0)
			log_info("created %s/", spool_dirs[i]);
		else if (errno != EEXIST) {
			log_warn("mkdir %s: %s", spool_dirs[i], strerror(errno));
			return -1;
		}
	spool_sweep_incoming();
	/* a message without envelope was never acknowledged */
	spool_sweep("msg", "env", "message without envelope");
	/* cannot happen with this protocol (env is renamed after msg is
	 * durable), but an envelope without message must never be scheduled */
	spool_sweep("env", "msg", "envelope without message");
	if (fsync_dir("incoming") == -1 || fsync_dir(".") == -1) {
		log_warn("fsync spool: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- one message ----------------------------------------------------- */

int
spool_begin(struct spool_msg *m, uint64_t limit)
{
	char path[128];
	int tries;

	memset(m, 0, sizeof(*m));
	m->limit = limit;
	for (tries = 0; tries < 10; tries++) {
		spool_new_id(m->id);
		spool_incoming(path, sizeof(path), m->id, "msg");
		m->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (m->fd != -1)
			return 0;
		if (errno != EEXIST)
			break;
	}
	log_warn("cannot create %s: %s", path, strerror(errno));
	m->id[0] = '\0';
	m->fd = -1;
	return -1;
}

void
spool_write(struct spool_msg *m, const void *p, size_t n)
{
	if (m->fd == -1)
		return;
	m->size += n;
	if (m->failed || m->size > m->limit)
		return;		/* keep counting; refused at END */
	if (write_all(m->fd, p, n) == -1) {
		log_warn("%s: write: %s", m->id, strerror(errno));
		m->failed = 1;
	}
}

/* Remove every file the message may have in the spool. */
static void
spool_remove_all(const char *id)
{
	char path[128], xx[3];

	spool_subdir(id, xx);
	spool_incoming(path, sizeof(path), id, "msg");
	if (unlink(path) == -1 && errno != ENOENT)
		log_warn("unlink %s: %s", path, strerror(errno));
	spool_incoming(path, sizeof(path), id, "env");
	if (unlink(path) == -1 && errno != ENOENT)
		log_warn("unlink %s: %s", path, strerror(errno));
	spool_path(path, sizeof(path), "env", xx, id);
	if (unlink(path) == -1 && errno != ENOENT)
		log_warn("unlink %s: %s", path, strerror(errno));
	spool_path(path, sizeof(path), "msg", xx, id);
	if (unlink(path) == -1 && errno != ENOENT)
		log_warn("unlink %s: %s", path, strerror(errno));
}

void
spool_discard(struct spool_msg *m)
{
	if (m->fd != -1)
		close(m->fd);
	m->fd = -1;
	if (m->id[0] != '\0')
		spool_remove_all(m->id);
	m->id[0] = '\0';
}

/* Write incoming/ID.env with e's text form, fsync'ed.  0/-1. */
static int
spool_write_env(const char *id, const struct envelope *e)
{
	struct buf text = BUF_INIT(ENVELOPE_SIZE_MAX);
	char path[128];
	int fd, r = -1;

	if (envelope_serialize(e, &text) == -1) {
		log_warn("envelope does not serialize");
		buf_free(&text);
		errno = EINVAL;
		return -1;
	}
	spool_incoming(path, sizeof(path), id, "env");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd != -1) {
		r = write_all(fd, text.data, text.len) == -1 || fsync(fd) == -1 ? -1 : 0;
		if (close(fd) == -1)
			r = -1;
	}
	buf_free(&text);
	return r;
}

/* The protocol's steps after the data: see docs/queue.md. */
static int
spool_commit_files(struct spool_msg *m, const struct envelope *e)
{
	char inc[128], path[128], xx[3];

	spool_subdir(m->id, xx);
	if (fsync(m->fd) == -1 || close(m->fd) == -1) {
		m->fd = -1;
		return -1;
	}
	m->fd = -1;
	if (spool_write_env(m->id, e) == -1 ||
	    spool_mksub("msg", xx) == -1 || spool_mksub("env", xx) == -1)
		return -1;
	spool_incoming(inc, sizeof(inc), m->id, "msg");
	spool_path(path, sizeof(path), "msg", xx, m->id);
	if (rename(inc, path) == -1)
		return -1;
	/* the message must be durable in msg/ before the envelope appears */
	spool_path(path, sizeof(path), "msg", xx, NULL);
	if (fsync_dir(path) == -1)
		return -1;
	spool_incoming(inc, sizeof(inc), m->id, "env");
	spool_path(path, sizeof(path), "env", xx, m->id);
	if (rename(inc, path) == -1)	/* the commit point */
		return -1;
	spool_path(path, sizeof(path), "env", xx, NULL);
	if (fsync_dir(path) == -1 || fsync_dir("incoming") == -1)
		return -1;
	return 0;
}

int
spool_commit(struct spool_msg *m, const struct envelope *e, const char **err)
{
	if (m->fd == -1 || strcmp(e->id, m->id) != 0)
		log_panic("spool_commit without a message");
	if (m->size > m->limit) {
		*err = "message too big";
		spool_discard(m);
		return 0;
	}
	if (m->failed || spool_commit_files(m, e) == -1) {
		if (!m->failed)
			log_warn("%s: commit: %s", m->id, strerror(errno));
		*err = "cannot write message";
		spool_discard(m);
		return -1;
	}
	m->id[0] = '\0';
	return 1;
}

/* ---- committed messages (the scheduler) ------------------------------- */

int
spool_id_valid(const char *id)
{
	return spool_id_ok(id);
}

int
spool_open_msg(const char *id)
{
	char path[128], xx[3];

	spool_subdir(id, xx);
	spool_path(path, sizeof(path), "msg", xx, id);
	return open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
}

int
spool_env_rewrite(const struct envelope *e)
{
	struct buf text = BUF_INIT(ENVELOPE_SIZE_MAX);
	char tmp[128], path[128], dir[64], xx[3], dot[QUEUE_ID_LEN + 2];
	int fd, r = -1;

	if (envelope_serialize(e, &text) == -1) {
		log_warn("%s: envelope does not serialize", e->id);
		buf_free(&text);
		errno = EINVAL;
		return -1;
	}
	spool_subdir(e->id, xx);
	if (str_format(dot, sizeof(dot), ".%s", e->id) == -1)
		log_panic("queue id length");
	spool_path(tmp, sizeof(tmp), "env", xx, dot);
	spool_path(path, sizeof(path), "env", xx, e->id);
	spool_path(dir, sizeof(dir), "env", xx, NULL);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd != -1) {
		r = write_all(fd, text.data, text.len) == -1 || fsync(fd) == -1 ? -1 : 0;
		if (close(fd) == -1)
			r = -1;
		if (r == 0 && (rename(tmp, path) == -1 || fsync_dir(dir) == -1))
			r = -1;
		if (r == -1 && unlink(tmp) == -1 && errno != ENOENT)
			log_warn("unlink %s: %s", tmp, strerror(errno));
	}
	if (r == -1)
		log_warn("%s: cannot update the envelope: %s", e->id, strerror(errno));
	buf_free(&text);
	return r;
}

int
spool_remove(const char *id)
{
	char path[128], dir[64], xx[3];

	spool_subdir(id, xx);
	spool_path(path, sizeof(path), "env", xx, id);
	spool_path(dir, sizeof(dir), "env", xx, NULL);
	/* envelope first: a message without envelope is swept at start */
	if ((unlink(path) == -1 && errno != ENOENT) || fsync_dir(dir) == -1) {
		log_warn("%s: cannot remove the envelope: %s", id, strerror(errno));
		return -1;
	}
	/* No fsync for the message: if its removal is lost, the start-up sweep
	 * removes a message without envelope. */
	spool_path(path, sizeof(path), "msg", xx, id);
	if (unlink(path) == -1 && errno != ENOENT)
		log_warn("%s: cannot remove the message: %s", id, strerror(errno));
	return 0;
}

int
spool_load_each(int (*fn)(struct envelope *e, uint64_t size, void *arg), void *arg)
{
	struct buf text = BUF_INIT(ENVELOPE_SIZE_MAX);
	char path[128], sub[16];
	struct dirent *d, *s;
	struct envelope e;
	const char *err;
	struct stat st;
	DIR *top, *dh;
	int n = 0;

	if ((top = opendir("env")) == NULL)
		return -1;
	while ((d = readdir(top)) != NULL) {
		if (strlen(d->d_name) != 2 || d->d_name[0] == '.' ||
		    str_format(sub, sizeof(sub), "env/%s", d->d_name) == -1 ||
		    (dh = opendir(sub)) == NULL)
			continue;
		while ((s = readdir(dh)) != NULL) {
			if (!spool_id_ok(s->d_name))
				continue;
			spool_path(path, sizeof(path), "env", d->d_name, s->d_name);
			buf_reset(&text);
			envelope_init(&e);
			err = NULL;
			if (read_file(path, &text, ENVELOPE_SIZE_MAX) == -1)
				err = strerror(errno);
			else if (envelope_parse(buf_cstr(&text), text.len, &e, &err) == -1)
				err = err != NULL ? err : "does not parse";
			else if (strcmp(e.id, s->d_name) != 0)
				err = "id does not match the file name";
			if (err != NULL) {
				log_warn("%s: not scheduled: %s", path, err);
				envelope_free(&e);
				continue;
			}
			spool_path(path, sizeof(path), "msg", d->d_name, s->d_name);
			if (stat(path, &st) == -1 || fn(&e, (uint64_t)st.st_size, arg) == -1)
				envelope_free(&e);
			else
				n++;
		}
		closedir(dh);
	}
	closedir(top);
	buf_free(&text);
	return n;
}

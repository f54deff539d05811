/*
 * imap_cache: the per-folder FETCH cache of the imap mail process (file
 * format, locking and rules in imap_cache.h).  Trusts nothing in the
 * file: every record is bounds-checked and checksummed before it is
 * indexed, and an entry is only handed out when uid, unique name and file
 * size match what the caller has.
 */
#include <bsd/stdlib.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imap_cache.h"
#include "log.h"
#include "util.h"
#include "xmalloc.h"

#define CACHE_MAGIC	"PSTNCACH"
#define CACHE_VERSION	2
#define CACHE_HDR	32		/* octets of the header */
#define REC_MAGIC	0x32524350u	/* "PCR2" little-endian */
#define REC_FIXED	52		/* octets before the unique name */
#define REC_PARTS_OK	(IMAP_CACHE_STRUCT | IMAP_CACHE_HEADER | IMAP_CACHE_FIELD_BITS)
#define REC_MIN		(REC_FIXED + 8)	/* ... and the checksum after all */

struct imap_cache {
	char path[PATH_MAX];
	char lockpath[PATH_MAX];
	int lockfd;		/* -1 until the first write */
	struct buf pending;	/* records of imap_cache_add_later, not written */
	uint32_t uidvalidity;
	int fd;			/* -1: no file (yet) */
	dev_t dev;		/* of fd, to see a replaced file */
	ino_t ino;
	int disabled;		/* I/O trouble: every lookup misses */
	int hdr;		/* 1 valid, 0 none yet (short file), -1 bad */
	char *data;		/* the file's valid prefix: header, records */
	size_t len, cap;
	uint64_t fsize;		/* file size at the last read */
	size_t nrec;		/* records in data, replaced ones included */
	uint32_t *keys;		/* hash index: uid (0: empty slot) ... */
	uint32_t *offs;		/* ... -> offset of its record in data */
	size_t nslots, nkeys;
	size_t file_max;	/* IMAP_CACHE_FILE_MAX (tests lower it) */
	size_t record_max;	/* IMAP_CACHE_RECORD_MAX */
};

/* ---- encoding ---- */

static void
put32(char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (char)(v >> (8 * i));
}

static void
put64(char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (char)(v >> (8 * i));
}

static uint32_t
get32(const char *p)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = v << 8 | (unsigned char)p[i];
	return v;
}

static uint64_t
get64(const char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | (unsigned char)p[i];
	return v;
}

/* FNV-1a 64 seeded with the UIDVALIDITY: catches torn writes and stray
 * damage (not an attacker: only the mailbox owner can write the file, and
 * the strings go back to that owner). */
static uint64_t
cache_sum(uint32_t seed, const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull ^ seed;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static int
cache_sum_ok(uint32_t seed, const char *p, size_t n, uint64_t want)
{
#ifdef IMAP_CACHE_FUZZ
	/* the fuzz target reaches what lies behind the checksums */
	(void)seed, (void)p, (void)n, (void)want;
	return 1;
#else
	return cache_sum(seed, p, n) == want;
#endif
}

static void
cache_hdr_make(const struct imap_cache *c, char *p)
{
	memcpy(p, CACHE_MAGIC, 8);
	put32(p + 8, CACHE_VERSION);
	put32(p + 12, c->uidvalidity);
	put64(p + 16, (uint64_t)arc4random() << 32 | arc4random());
	put64(p + 24, cache_sum(c->uidvalidity, p, 24));
}

/* 1 our header, 0 too short to tell, -1 bad or another UIDVALIDITY. */
static int
cache_hdr_check(const struct imap_cache *c, const char *p, size_t n)
{
	if (n < CACHE_HDR)
		return 0;
	if (memcmp(p, CACHE_MAGIC, 8) != 0 || get32(p + 8) != CACHE_VERSION ||
	    get32(p + 12) != c->uidvalidity ||
	    !cache_sum_ok(c->uidvalidity, p, 24, get64(p + 24)))
		return -1;
	return 1;
}

/* The length of the valid record at p (avail octets there), or 0. */
static size_t
cache_rec_check(const struct imap_cache *c, const char *p, size_t avail)
{
	uint64_t total, want;
	uint32_t parts;

	if (avail < REC_MIN || get32(p) != REC_MAGIC)
		return 0;
	total = get32(p + 4);
	if (total < REC_MIN || total > avail || total > c->record_max)
		return 0;
	if (get32(p + 8) == 0 || get32(p + 12) == 0 ||
	    get32(p + 12) > IMAP_CACHE_UNIQUE_MAX)
		return 0;
	parts = get32(p + 32);
	if ((parts & ~REC_PARTS_OK) != 0 ||
	    (!(parts & IMAP_CACHE_STRUCT) && (get32(p + 36) | get32(p + 40) | get32(p + 44)) != 0) ||
	    (!(parts & IMAP_CACHE_HEADER) && ((parts & IMAP_CACHE_FIELD_BITS) != 0 ||
	    get32(p + 48) != 0)))
		return 0;
	want = (uint64_t)REC_MIN + get32(p + 12) + get32(p + 36) + get32(p + 40) +
	    get32(p + 44) + get32(p + 48);
	if (want != total || !cache_sum_ok(c->uidvalidity, p, (size_t)total - 8,
	    get64(p + total - 8)))
		return 0;
	return (size_t)total;
}

/* ---- index ---- */

static size_t
cache_slot(const struct imap_cache *c, uint32_t uid)
{
	size_t mask = c->nslots - 1, h = (uid * 2654435769u) & mask;

	while (c->keys[h] != 0 && c->keys[h] != uid)
		h = (h + 1) & mask;
	return h;
}

static void
cache_grow_index(struct imap_cache *c)
{
	uint32_t *keys = c->keys, *offs = c->offs;
	size_t old = c->nslots;

	c->nslots = old == 0 ? 64 : old * 2;
	c->keys = xcalloc(c->nslots, sizeof(*c->keys));
	c->offs = xcalloc(c->nslots, sizeof(*c->offs));
	for (size_t i = 0; i < old; i++)
		if (keys[i] != 0) {
			size_t h = cache_slot(c, keys[i]);

			c->keys[h] = keys[i];
			c->offs[h] = offs[i];
		}
	free(keys);
	free(offs);
}

/* uid's record is at off (a later record replaces an earlier one). */
static void
cache_index(struct imap_cache *c, uint32_t uid, size_t off)
{
	size_t h;

	if ((c->nkeys + 1) * 2 > c->nslots)
		cache_grow_index(c);
	h = cache_slot(c, uid);
	if (c->keys[h] == 0)
		c->nkeys++;
	c->keys[h] = uid;
	c->offs[h] = (uint32_t)off;	/* off < file_max < 4 GiB */
}

/* Index the records of data from offset from (0: header first); data is
 * cut after the last valid one. */
static void
cache_parse(struct imap_cache *c, size_t from)
{
	size_t off = from, n;

	if (off == 0) {
		c->hdr = c->data != NULL ? cache_hdr_check(c, c->data, c->len) : 0;
		if (c->hdr != 1) {
			c->len = 0;
			return;
		}
		off = CACHE_HDR;
	}
	while ((n = cache_rec_check(c, c->data + off, c->len - off)) > 0) {
		cache_index(c, get32(c->data + off + 8), off);
		c->nrec++;
		off += n;
	}
	c->len = off;
}

/* Forget what was read (keeping the memory). */
static void
cache_forget(struct imap_cache *c)
{
	c->len = 0;
	c->hdr = 0;
	c->nrec = 0;
	c->fsize = 0;
	c->nkeys = 0;
	if (c->nslots > 0)
		memset(c->keys, 0, c->nslots * sizeof(*c->keys));
}

static void
cache_reserve(struct imap_cache *c, size_t need)
{
	size_t cap = c->cap < 4096 ? 4096 : c->cap;

	if (need <= c->cap)
		return;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	c->data = xrealloc(c->data, cap);
	c->cap = cap;
}

/* ---- file ---- */

static int
cache_pwrite(int fd, const char *p, size_t n, size_t off)
{
	while (n > 0) {
		ssize_t r = pwrite(fd, p, n, (off_t)off);

		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r, n -= (size_t)r, off += (size_t)r;
	}
	return 0;
}

/* Read what the file holds past data (at most file_max octets in all,
 * in one read when the file does not grow meanwhile) and index it. */
static int
cache_read(struct imap_cache *c)
{
	struct stat st;
	size_t from = c->len, want, got = 0;

	if (fstat(c->fd, &st) == -1)
		return -1;
	c->fsize = (uint64_t)st.st_size;
	want = c->fsize > c->file_max ? c->file_max : (size_t)c->fsize;
	if (want <= from)
		return 0;
	cache_reserve(c, want);
	while (from + got < want) {
		ssize_t r = pread(c->fd, c->data + from + got, want - from - got,
		    (off_t)(from + got));

		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	c->len = from + got;
	cache_parse(c, from);
	return 0;
}

/* Catch up with the file (under its lock): what others appended; all of
 * it again if it shrank or its header changed. */
static int
cache_sync(struct imap_cache *c)
{
	struct stat st;
	char hdr[CACHE_HDR];
	ssize_t r = 0;

	if (fstat(c->fd, &st) == -1)
		return -1;
	if (c->len >= CACHE_HDR)
		while ((r = pread(c->fd, hdr, sizeof(hdr), 0)) == -1 && errno == EINTR)
			;
	if (r == -1)
		return -1;
	if ((uint64_t)st.st_size < c->len || (c->len >= CACHE_HDR &&
	    (r != CACHE_HDR || memcmp(hdr, c->data, CACHE_HDR) != 0)))
		cache_forget(c);
	return cache_read(c);
}

static void
cache_close_fd(struct imap_cache *c)
{
	if (c->fd != -1)
		(void)close(c->fd);
	c->fd = -1;
	cache_forget(c);
}

/* Open the file (creating it if create) and read it.  0 (also when it is
 * missing and !create), -1 error. */
static int
cache_open_fd(struct imap_cache *c, int create)
{
	struct stat st;
	int fd;

	cache_close_fd(c);
	fd = open(c->path, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
	    (create ? O_CREAT : 0), 0600);
	if (fd == -1)
		return !create && errno == ENOENT ? 0 : -1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		(void)close(fd);
		errno = EINVAL;
		return -1;
	}
	c->fd = fd;
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	return cache_read(c);
}

/* Log, disable the cache for this session (dropping the lock): -1. */
static int
cache_fail(struct imap_cache *c, const char *what)
{
	log_warn("%s: %s: %s (cache disabled)", c->path, what, strerror(errno));
	cache_close_fd(c);
	if (c->lockfd != -1)
		(void)close(c->lockfd);
	c->lockfd = -1;
	c->disabled = 1;
	buf_reset(&c->pending);
	return -1;
}

/* Take the lock (flock of the lock file, never replaced) and bring data
 * up to date with the file the name leads to (created if missing).
 * 0/-1 (errno; the lock may be held: cache_fail drops it). */
static int
cache_lock(struct imap_cache *c)
{
	struct stat st;

	if (c->lockfd == -1) {
		c->lockfd = open(c->lockpath, O_RDWR | O_CREAT | O_NOFOLLOW |
		    O_CLOEXEC | O_NOCTTY, 0600);
		if (c->lockfd == -1)
			return -1;
	}
	while (flock(c->lockfd, LOCK_EX) == -1)
		if (errno != EINTR)
			return -1;
	if (c->fd != -1 && stat(c->path, &st) == 0 && st.st_dev == c->dev &&
	    st.st_ino == c->ino)
		return cache_sync(c);
	return cache_open_fd(c, 1);	/* replaced, removed, or not open yet */
}

static void
cache_unlock(struct imap_cache *c)
{
	(void)flock(c->lockfd, LOCK_UN);
}

/* ---- public ---- */

struct imap_cache *
imap_cache_open(const char *dir, uint32_t uidvalidity)
{
	struct imap_cache *c = xcalloc(1, sizeof(*c));

	c->fd = -1;
	c->lockfd = -1;
	c->uidvalidity = uidvalidity;
	c->file_max = IMAP_CACHE_FILE_MAX;
	c->record_max = IMAP_CACHE_RECORD_MAX;
	buf_init(&c->pending, IMAP_CACHE_PENDING_MAX);
	if (str_format(c->path, sizeof(c->path), "%s/%s", dir, IMAP_CACHE_FILE) == -1 ||
	    str_format(c->lockpath, sizeof(c->lockpath), "%s/%s", dir,
	    IMAP_CACHE_LOCK) == -1) {
		c->disabled = 1;
		return c;
	}
	if (cache_open_fd(c, 0) == -1)
		(void)cache_fail(c, "open");
	return c;
}

void
imap_cache_close(struct imap_cache *c)
{
	if (c == NULL)
		return;
	(void)imap_cache_flush(c);
	cache_close_fd(c);
	if (c->lockfd != -1)
		(void)close(c->lockfd);
	buf_free(&c->pending);
	free(c->data);
	free(c->keys);
	free(c->offs);
	free(c);
}

const char *
imap_cache_unique(const char *name, size_t *len)
{
	const char *s = strrchr(name, '/'), *colon;

	s = s != NULL ? s + 1 : name;
	colon = strchr(s, ':');
	*len = colon != NULL ? (size_t)(colon - s) : strlen(s);
	return s;
}

/* The record of uid whose unique name is u[ulen], or NULL. */
static const char *
cache_find(const struct imap_cache *c, uint32_t uid, const char *u, size_t ulen)
{
	const char *p;
	size_t h;

	if (c->disabled || c->hdr != 1 || c->nkeys == 0 || uid == 0)
		return NULL;
	h = cache_slot(c, uid);
	if (c->keys[h] != uid)
		return NULL;
	p = c->data + c->offs[h];
	if (get32(p + 12) != ulen || memcmp(p + REC_FIXED, u, ulen) != 0)
		return NULL;
	return p;
}

int
imap_cache_lookup(struct imap_cache *c, uint32_t uid, const char *name,
    uint64_t file_size, struct imap_cache_entry *e)
{
	size_t ulen;
	const char *u = imap_cache_unique(name, &ulen);
	const char *p = cache_find(c, uid, u, ulen);

	if (p == NULL || get64(p + 16) != file_size)
		return 0;
	e->wire_size = get64(p + 24);
	e->parts = get32(p + 32);
	e->envelope_len = get32(p + 36);
	e->body_len = get32(p + 40);
	e->bodystructure_len = get32(p + 44);
	e->fields_len = get32(p + 48);
	e->envelope = p + REC_FIXED + ulen;
	e->body = e->envelope + e->envelope_len;
	e->bodystructure = e->body + e->body_len;
	e->fields = e->bodystructure + e->bodystructure_len;
	return 1;
}

/* Copy n octets of s to *q (advanced). */
static void
cache_put_str(char **q, const char *s, size_t n)
{
	if (n > 0)
		memcpy(*q, s, n);
	*q += n;
}

/* The record for uid, or NULL if it is over the record cap or *e is not
 * consistent (parts absent but their strings given, unknown parts). */
static char *
cache_rec_make(const struct imap_cache *c, uint32_t uid, const char *u,
    size_t ulen, uint64_t file_size, const struct imap_cache_entry *e,
    size_t *total)
{
	uint64_t want = (uint64_t)REC_MIN + ulen + e->envelope_len + e->body_len +
	    e->bodystructure_len + e->fields_len;
	char *p, *q;

	if (e->envelope_len > c->record_max || e->body_len > c->record_max ||
	    e->bodystructure_len > c->record_max || e->fields_len > c->record_max ||
	    want > c->record_max || (e->parts & ~REC_PARTS_OK) != 0 ||
	    (!(e->parts & IMAP_CACHE_STRUCT) &&
	    (e->envelope_len | e->body_len | e->bodystructure_len) != 0) ||
	    (!(e->parts & IMAP_CACHE_HEADER) &&
	    ((e->parts & IMAP_CACHE_FIELD_BITS) != 0 || e->fields_len != 0)))
		return NULL;
	p = xmalloc((size_t)want);
	put32(p, REC_MAGIC);
	put32(p + 4, (uint32_t)want);
	put32(p + 8, uid);
	put32(p + 12, (uint32_t)ulen);
	put64(p + 16, file_size);
	put64(p + 24, e->wire_size);
	put32(p + 32, e->parts);
	put32(p + 36, (uint32_t)e->envelope_len);
	put32(p + 40, (uint32_t)e->body_len);
	put32(p + 44, (uint32_t)e->bodystructure_len);
	put32(p + 48, (uint32_t)e->fields_len);
	q = p + REC_FIXED;
	cache_put_str(&q, u, ulen);
	cache_put_str(&q, e->envelope, e->envelope_len);
	cache_put_str(&q, e->body, e->body_len);
	cache_put_str(&q, e->bodystructure, e->bodystructure_len);
	cache_put_str(&q, e->fields, e->fields_len);
	put64(p + want - 8, cache_sum(c->uidvalidity, p, (size_t)want - 8));
	*total = (size_t)want;
	return p;
}

/* Add record rec to data and the index after the file's valid prefix
 * (under the lock, data in sync): 1 done (or already there), 0 over the
 * file cap. */
static int
cache_put_rec(struct imap_cache *c, const char *rec, size_t total)
{
	const char *p = cache_find(c, get32(rec + 8), rec + REC_FIXED, get32(rec + 12));

	if (p != NULL && get32(p + 4) == total && memcmp(p, rec, total) == 0)
		return 1;	/* another session stored it meanwhile */
	if (c->len + total > c->file_max)
		return 0;
	cache_reserve(c, c->len + total);
	memcpy(c->data + c->len, rec, total);
	cache_index(c, get32(rec + 8), c->len);
	c->nrec++;
	c->len += total;
	return 1;
}

/* Append the records recs[0..len) (under the lock, data in sync, header
 * valid or file empty) with one write: 1 all done, 0 some over the file
 * cap, -1 error. */
static int
cache_append(struct imap_cache *c, const char *recs, size_t len)
{
	size_t start = c->len, total;
	int r = 1, saved;

	/* past our valid prefix: the torn tail of a crashed writer, or junk */
	if (c->fsize > start && ftruncate(c->fd, (off_t)start) == -1)
		return -1;
	c->fsize = start;
	if (start == 0) {
		if (CACHE_HDR > c->file_max)
			return 0;
		cache_reserve(c, CACHE_HDR);
		cache_hdr_make(c, c->data);
		c->len = CACHE_HDR;
		c->hdr = 1;
	}
	for (size_t off = 0; off < len && r == 1; off += total) {
		total = get32(recs + off + 4);
		r = cache_put_rec(c, recs + off, total);
	}
	if (c->len > start && cache_pwrite(c->fd, c->data + start, c->len - start, start) == -1) {
		saved = errno;
		if (ftruncate(c->fd, (off_t)start) == -1) {
			/* the next writer cuts the torn records */
		}
		errno = saved;
		return -1;	/* the caller disables the cache (index and all) */
	}
	c->fsize = c->len;
	return r;
}

/* Is the record at off the current one for its uid and (filter) of a
 * message among msgs[n] with the same unique name? */
static int
cache_rec_live(const struct imap_cache *c, size_t off, const struct imap_msg *msgs,
    size_t n, int filter)
{
	const char *p = c->data + off, *u;
	uint32_t uid = get32(p + 8);
	size_t lo = 0, hi = n, ulen;

	if (c->offs[cache_slot(c, uid)] != off)
		return 0;
	if (!filter)
		return 1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (msgs[mid].uid == uid) {
			u = imap_cache_unique(msgs[mid].name, &ulen);
			return ulen == get32(p + 12) && memcmp(u, p + REC_FIXED, ulen) == 0;
		}
		if (msgs[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* Replace the file atomically (under the lock) with a fresh header and
 * the live records (all current ones unless filter), then read it back.
 * 0/-1. */
static int
cache_rewrite(struct imap_cache *c, const struct imap_msg *msgs, size_t n,
    int filter)
{
	char tmp[PATH_MAX];
	char *out = xmalloc(c->len > CACHE_HDR ? c->len : CACHE_HDR);
	size_t olen = CACHE_HDR, total;
	int fd, ok;

	cache_hdr_make(c, out);
	for (size_t off = CACHE_HDR; c->hdr == 1 && off < c->len; off += total) {
		total = get32(c->data + off + 4);
		if (cache_rec_live(c, off, msgs, n, filter)) {
			memcpy(out + olen, c->data + off, total);
			olen += total;
		}
	}
	if ((fd = atomic_begin(c->path, tmp, sizeof(tmp))) == -1) {
		free(out);
		return -1;
	}
	ok = write_all(fd, out, olen) == 0;
	free(out);
	if (atomic_end(fd, tmp, c->path, ok) == -1)
		return -1;
	return cache_open_fd(c, 0);
}

/* Append the records recs[0..len) under the lock: 1 all stored, 0 some
 * not (the file's cap), -1 error (the cache is then disabled). */
static int
cache_write(struct imap_cache *c, const char *recs, size_t len)
{
	int r;

	if (cache_lock(c) == -1)
		return cache_fail(c, "lock");
	/* a bad header (another UIDVALIDITY, junk, a crash): a fresh file */
	if (c->hdr != 1 && c->fsize > 0 && cache_rewrite(c, NULL, 0, 0) == -1)
		return cache_fail(c, "rewrite");
	r = cache_append(c, recs, len);
	if (r == -1)
		return cache_fail(c, "append");
	cache_unlock(c);
	return r;
}

/* The record for *e, or NULL if it is not to be cached. */
static char *
cache_rec_for(const struct imap_cache *c, uint32_t uid, const char *name,
    uint64_t file_size, const struct imap_cache_entry *e, size_t *total)
{
	size_t ulen;
	const char *u = imap_cache_unique(name, &ulen);

	if (c->disabled || uid == 0 || ulen == 0 || ulen > IMAP_CACHE_UNIQUE_MAX)
		return NULL;
	return cache_rec_make(c, uid, u, ulen, file_size, e, total);
}

int
imap_cache_add(struct imap_cache *c, uint32_t uid, const char *name,
    uint64_t file_size, const struct imap_cache_entry *e)
{
	size_t total;
	char *rec = cache_rec_for(c, uid, name, file_size, e, &total);
	int r;

	if (rec == NULL)
		return 0;
	r = cache_write(c, rec, total);
	free(rec);
	return r;
}

int
imap_cache_add_later(struct imap_cache *c, uint32_t uid, const char *name,
    uint64_t file_size, const struct imap_cache_entry *e)
{
	size_t total;
	char *rec = cache_rec_for(c, uid, name, file_size, e, &total);
	int r = 1;

	if (rec == NULL)
		return 0;
	if (c->pending.len + total > IMAP_CACHE_PENDING_MAX &&
	    imap_cache_flush(c) == -1)
		r = -1;
	else if (c->disabled || buf_append(&c->pending, rec, total) == -1)
		r = 0;
	free(rec);
	return r;
}

int
imap_cache_flush(struct imap_cache *c)
{
	int r;

	if (c->pending.len == 0)
		return 1;
	r = c->disabled ? 0 : cache_write(c, c->pending.data, c->pending.len);
	buf_reset(&c->pending);
	return r;
}

/* Do dead records dominate (or is the header bad)? */
static int
cache_worth(const struct imap_cache *c, const struct imap_msg *msgs, size_t n)
{
	size_t live = 0, total;

	if (c->hdr != 1)
		return c->fsize > 0;
	for (size_t off = CACHE_HDR; off < c->len; off += total) {
		total = get32(c->data + off + 4);
		live += cache_rec_live(c, off, msgs, n, 1);
	}
	return c->nrec - live >= IMAP_CACHE_COMPACT_MIN && c->nrec - live > live;
}

int
imap_cache_compact(struct imap_cache *c, const struct imap_msg *msgs, size_t n)
{
	if (c->disabled || c->fd == -1 || !cache_worth(c, msgs, n))
		return 0;
	if (cache_lock(c) == -1)
		return cache_fail(c, "lock");
	if (!cache_worth(c, msgs, n)) {
		cache_unlock(c);
		return 0;
	}
	if (cache_rewrite(c, msgs, n, 1) == -1)
		return cache_fail(c, "compaction");
	cache_unlock(c);
	return 1;
}

/*
 * pop3_box: the session-long view of one Maildir INBOX and its UPDATE
 * state, plus the stored-to-wire conversion for RETR/TOP (see pop3_box.h).
 * Used by the pop3 mail process as the mailbox owner; trusts nothing found
 * in the Maildir.  I/O: readdir, openat/read, renameat, unlinkat, fsync.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "pop3_box.h"
#include "maildir.h"
#include "util.h"
#include "xmalloc.h"

#define READ_CHUNK	65536
#define INFO_SEP	":2,"

/* ---- wire form ---------------------------------------------------------- */

void
pop3_stuff_init(struct pop3_stuff_state *st, int top, uint64_t top_lines)
{
	memset(st, 0, sizeof(*st));
	st->top = top;
	st->top_lines = top_lines;
	st->bol = 1;
}

/* A line end was sent: track the header/body boundary and TOP's count. */
static void
stuff_line_end(struct pop3_stuff_state *st, int blank)
{
	if (st->in_body)
		st->body_lines++;
	else if (blank)
		st->in_body = 1;
	if (st->top && st->in_body && st->body_lines >= st->top_lines)
		st->done = 1;
	st->bol = 1;
	st->cr = 0;
	st->linelen = 0;
}

int
pop3_stuff(const char *in, size_t n, struct pop3_stuff_state *st, struct buf *out)
{
	size_t i = 0, end, run;
	const char *lf;
	int blank;

	while (i < n && !st->done) {
		if (st->bol && in[i] == '.' && buf_putc(out, '.') == -1)
			return -1;
		lf = memchr(in + i, '\n', n - i);
		end = lf != NULL ? (size_t)(lf - in) : n;
		run = end - i;
		if (run > 0) {
			if (buf_append(out, in + i, run) == -1)
				return -1;
			st->octets += run;
			st->linelen = st->linelen + run > 2 ? 2 : st->linelen + run;
			st->cr = in[end - 1] == '\r';
			st->bol = 0;
		}
		if (lf == NULL)
			break;
		if (buf_append(out, &"\r\n"[st->cr], 2 - (size_t)st->cr) == -1)
			return -1;
		st->octets += 2 - (uint64_t)st->cr;
		blank = st->linelen == 0 || (st->linelen == 1 && st->cr);
		stuff_line_end(st, blank);
		i = end + 1;
	}
	return st->done ? 1 : 0;
}

int
pop3_stuff_end(struct pop3_stuff_state *st, struct buf *out)
{
	if (!st->bol) {
		if (buf_puts(out, "\r\n") == -1)
			return -1;
		st->octets += 2;
		st->bol = 1;
	}
	return buf_puts(out, ".\r\n");
}

int
pop3_wire_size(int fd, uint64_t *size)
{
	char *chunk = xmalloc(READ_CHUNK);
	uint64_t total = 0;
	int last = '\n', prev = 0;
	ssize_t r;

	for (;;) {
		r = read(fd, chunk, READ_CHUNK);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		for (ssize_t i = 0; i < r; i++) {
			if (chunk[i] == '\n' && prev != '\r')
				total++;
			prev = (unsigned char)chunk[i];
		}
		total += (uint64_t)r;
		last = prev;
	}
	free(chunk);
	if (r == -1)
		return -1;
	*size = total + (last != '\n' ? 2 : 0);
	return 0;
}

/* ---- names -------------------------------------------------------------- */

/* Octets of name before the ":2," info (the Maildir unique name). */
static size_t
base_len(const char *name)
{
	const char *info = strstr(name, INFO_SEP);

	return info != NULL ? (size_t)(info - name) : strlen(name);
}

/* The UIDL for unique name base[0..len): itself when RFC 1939 allows it,
 * else "H" + 64 hex digits of its SHA-256.  0/-1. */
static int
make_uidl(const char *base, size_t len, char *uidl)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t i, ok = len >= 1 && len <= POP3_UIDL_MAX;

	for (i = 0; ok && i < len; i++)
		ok = (unsigned char)base[i] >= 0x21 && (unsigned char)base[i] <= 0x7e;
	if (ok) {
		memcpy(uidl, base, len);
		uidl[len] = '\0';
		return 0;
	}
	if (EVP_Digest(base, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen < 32)
		return -1;
	uidl[0] = 'H';
	for (i = 0; i < 32; i++) {
		uidl[1 + 2 * i] = "0123456789abcdef"[md[i] >> 4];
		uidl[2 + 2 * i] = "0123456789abcdef"[md[i] & 15];
	}
	uidl[65] = '\0';
	return 0;
}

/* Delivery time from "SECS.M<usec>...": non-numeric names sort last. */
static void
name_time(const char *name, int64_t *secs, long *usec)
{
	char *end;
	long long s;

	*secs = INT64_MAX;
	*usec = 0;
	errno = 0;
	s = strtoll(name, &end, 10);
	if (end == name || errno != 0 || s < 0 || name[0] < '0' || name[0] > '9')
		return;
	*secs = s;
	if (end[0] == '.' && end[1] == 'M' && end[2] >= '0' && end[2] <= '9') {
		errno = 0;
		*usec = strtol(end + 2, NULL, 10);
		if (errno != 0)
			*usec = LONG_MAX;
	}
}

/* Delivery time, then unique name, then new/ before cur/. */
static int
msg_cmp(const void *a, const void *b)
{
	const struct pop3_msg *x = a, *y = b;
	size_t l = x->baselen < y->baselen ? x->baselen : y->baselen;
	int c;

	if (x->secs != y->secs)
		return x->secs < y->secs ? -1 : 1;
	if (x->usec != y->usec)
		return x->usec < y->usec ? -1 : 1;
	if ((c = memcmp(x->name, y->name, l)) != 0)
		return c;
	if (x->baselen != y->baselen)
		return x->baselen < y->baselen ? -1 : 1;
	return x->in_cur - y->in_cur;
}

/* After sorting, a unique name seen twice (moved from new/ to cur/ while
 * we scanned) is adjacent: keep the later (cur/) entry. */
static void
drop_duplicates(struct pop3_box *b)
{
	size_t i, k = 0;

	for (i = 0; i < b->n; i++) {
		if (i + 1 < b->n && b->msgs[i].baselen == b->msgs[i + 1].baselen &&
		    memcmp(b->msgs[i].name, b->msgs[i + 1].name, b->msgs[i].baselen) == 0) {
			free(b->msgs[i].name);
			continue;
		}
		b->msgs[k++] = b->msgs[i];
	}
	b->n = k;
}

/* ---- scanning ----------------------------------------------------------- */

/* Open dfd/name read-only if it is a regular file.  The fd, or -1 (errno;
 * EINVAL for a file that is not regular, ELOOP for a symlink). */
static int
open_regular(int dfd, const char *name)
{
	struct stat st;
	int fd, saved;

	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		saved = errno;
	else if (!S_ISREG(st.st_mode))
		saved = EINVAL;
	else if (fd_set_nonblock(fd, 0) == -1)	/* O_NONBLOCK was for FIFOs */
		saved = errno;
	else
		return fd;
	(void)close(fd);
	errno = saved;
	return -1;
}

/* Add the message name of directory where (0 new, 1 cur) to b.  1 added,
 * 0 skipped (gone, or not a regular file), -1 error. */
static int
add_msg(struct pop3_box *b, size_t *cap, int where, const char *name)
{
	struct pop3_msg *m;
	size_t blen = base_len(name);
	uint64_t size;
	int fd, r;

	if ((fd = open_regular(b->dfd[where], name)) == -1)
		return errno == ENOENT || errno == ELOOP || errno == EINVAL || errno == ENXIO ?
		    0 : -1;
	r = pop3_wire_size(fd, &size);
	if (close(fd) == -1 || r == -1)
		return -1;
	if (b->n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		b->msgs = xreallocarray(b->msgs, *cap, sizeof(*b->msgs));
	}
	m = &b->msgs[b->n++];
	memset(m, 0, sizeof(*m));
	m->name = xstrdup(name);
	m->baselen = blen;
	m->size = size;
	m->in_cur = where;
	name_time(name, &m->secs, &m->usec);
	return make_uidl(name, blen, m->uidl) == -1 ? -1 : 1;
}

/* A DIR stream over a copy of the directory descriptor dfd, from its
 * start.  NULL (errno). */
static DIR *
dir_open(int dfd)
{
	int fd, saved;
	DIR *d;

	if ((fd = dup(dfd)) == -1)
		return NULL;
	if ((d = fdopendir(fd)) == NULL) {
		saved = errno;
		(void)close(fd);
		errno = saved;
		return NULL;
	}
	rewinddir(d);
	return d;
}

/* Add every regular, non-dot file of directory where to b.  0/-1. */
static int
scan_dir(struct pop3_box *b, size_t *cap, int where)
{
	struct dirent *de;
	int saved = 0;
	DIR *d;

	if ((d = dir_open(b->dfd[where])) == NULL)
		return -1;
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (add_msg(b, cap, where, de->d_name) == -1) {
			saved = errno != 0 ? errno : EIO;
			break;
		}
	}
	if (saved == 0)
		saved = errno;
	(void)closedir(d);
	errno = saved;
	return saved != 0 ? -1 : 0;
}

/* Open maildir/sub as a directory (no symlink).  fd or -1. */
static int
open_sub(const char *maildir, const char *sub)
{
	char path[PATH_MAX];

	if (str_format(path, sizeof(path), "%s/%s", maildir, sub) == -1) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

int
pop3_box_open(struct pop3_box *b, const char *maildir)
{
	size_t cap = 0;
	int saved;

	memset(b, 0, sizeof(*b));
	b->dfd[0] = open_sub(maildir, "new");
	b->dfd[1] = b->dfd[0] == -1 ? -1 : open_sub(maildir, "cur");
	/* new/ first: a message moved to cur/ meanwhile is seen again there */
	if (b->dfd[1] == -1 || scan_dir(b, &cap, 0) == -1 || scan_dir(b, &cap, 1) == -1) {
		saved = errno;
		pop3_box_close(b);
		errno = saved;
		return -1;
	}
	if (b->n > 0) {
		qsort(b->msgs, b->n, sizeof(*b->msgs), msg_cmp);
		drop_duplicates(b);
	}
	return 0;
}

void
pop3_box_close(struct pop3_box *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->msgs[i].name);
	free(b->msgs);
	for (int i = 0; i < 2; i++)
		if (b->dfd[i] >= 0)
			(void)close(b->dfd[i]);
	memset(b, 0, sizeof(*b));
	b->dfd[0] = b->dfd[1] = -1;
}

/* ---- transaction state -------------------------------------------------- */

void
pop3_box_stat(const struct pop3_box *b, size_t *count, uint64_t *size)
{
	*count = 0;
	*size = 0;
	for (size_t i = 0; i < b->n; i++)
		if (!b->msgs[i].deleted) {
			(*count)++;
			*size += b->msgs[i].size;
		}
}

const struct pop3_msg *
pop3_box_get(const struct pop3_box *b, size_t n)
{
	if (n < 1 || n > b->n || b->msgs[n - 1].deleted)
		return NULL;
	return &b->msgs[n - 1];
}

int
pop3_box_dele(struct pop3_box *b, size_t n)
{
	if (pop3_box_get(b, n) == NULL)
		return 0;
	b->msgs[n - 1].deleted = 1;
	return 1;
}

void
pop3_box_rset(struct pop3_box *b)
{
	for (size_t i = 0; i < b->n; i++)
		b->msgs[i].deleted = 0;
}

/* Look for m's unique name again in cur/ then new/ (another process
 * changed its flags or moved it).  1 found (m updated), 0 gone, -1 error. */
static int
relocate(struct pop3_box *b, struct pop3_msg *m)
{
	struct dirent *de;
	int where, found = 0, saved;
	DIR *d;

	for (where = 1; where >= 0 && !found; where--) {
		if ((d = dir_open(b->dfd[where])) == NULL)
			return -1;
		while (!found && (errno = 0, de = readdir(d)) != NULL)
			if (de->d_name[0] != '.' && base_len(de->d_name) == m->baselen &&
			    memcmp(de->d_name, m->name, m->baselen) == 0) {
				free(m->name);
				m->name = xstrdup(de->d_name);
				m->in_cur = where;
				found = 1;
			}
		saved = found ? 0 : errno;
		(void)closedir(d);
		if (saved != 0)
			return errno = saved, -1;
	}
	return found;
}

int
pop3_box_open_msg(struct pop3_box *b, size_t n, int retr, int *fd)
{
	struct pop3_msg *m;
	int r;

	if (pop3_box_get(b, n) == NULL)
		return 0;
	m = &b->msgs[n - 1];
	*fd = open_regular(b->dfd[m->in_cur], m->name);
	if (*fd == -1 && errno == ENOENT) {
		if ((r = relocate(b, m)) != 1)
			return r == 0 ? POP3_BOX_GONE : -1;
		*fd = open_regular(b->dfd[m->in_cur], m->name);
		if (*fd == -1 && errno == ENOENT)
			return POP3_BOX_GONE;
	}
	if (*fd == -1)
		return -1;
	if (retr)
		m->retrieved = 1;
	return 1;
}

/* ---- update state ------------------------------------------------------- */

/* The name of m with the S flag: base ":2," flags with S added, in ASCII
 * order.  0, or -1 if it does not fit. */
static int
seen_name(const struct pop3_msg *m, char *out, size_t outsize)
{
	const char *flags = m->name[m->baselen] != '\0' ? m->name + m->baselen + 3 : "";
	char sorted[MAILDIR_NAME_MAX + 1];
	size_t k = 0;

	/* flags are letters; an odd info part is kept as it is, S added */
	for (int c = 1; c < 256; c++) {
		if (c == 'S' || memchr(flags, c, strlen(flags)) != NULL) {
			if (k + 1 >= sizeof(sorted))
				return -1;
			sorted[k++] = (char)c;
		}
	}
	sorted[k] = '\0';
	return str_format(out, outsize, "%.*s" INFO_SEP "%s", (int)m->baselen, m->name,
	    sorted);
}

/* 1 if the name already carries the S flag in cur/. */
static int
is_seen(const struct pop3_msg *m)
{
	return m->in_cur && m->name[m->baselen] != '\0' &&
	    strchr(m->name + m->baselen + 3, 'S') != NULL;
}

/* Apply one message's change: unlink, or rename with S.  0 done (or
 * already gone), -1 failed. */
static int
commit_one(struct pop3_box *b, struct pop3_msg *m)
{
	char to[MAILDIR_NAME_MAX + 1] = "";
	int r, tries;

	for (tries = 0; tries < 2; tries++) {
		if (m->deleted)
			r = unlinkat(b->dfd[m->in_cur], m->name, 0);
		else if (is_seen(m))
			return 0;
		else if (seen_name(m, to, sizeof(to)) == -1)
			return errno = ENAMETOOLONG, -1;
		else
			r = renameat(b->dfd[m->in_cur], m->name, b->dfd[1], to);
		if (r == 0)
			break;
		if (errno != ENOENT || tries > 0)
			return -1;
		if ((r = relocate(b, m)) != 1)
			return r == 0 ? 0 : -1;
	}
	if (!m->deleted) {
		free(m->name);
		m->name = xstrdup(to);
		m->in_cur = 1;
	}
	return 0;
}

int
pop3_box_commit(struct pop3_box *b, size_t *failed)
{
	int saved = 0;

	*failed = 0;
	for (size_t i = 0; i < b->n; i++) {
		struct pop3_msg *m = &b->msgs[i];

		if (!m->deleted && !m->retrieved)
			continue;
		if (commit_one(b, m) == -1) {
			(*failed)++;
			saved = errno != 0 ? errno : EIO;
		}
	}
	if (fsync(b->dfd[1]) == -1 || fsync(b->dfd[0]) == -1)
		saved = errno;
	errno = saved;
	return saved != 0 || *failed > 0 ? -1 : 0;
}

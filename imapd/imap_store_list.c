/*
 * imap_store_list: the per-folder UID list file (format in imap_store.h),
 * the per-Maildir UIDVALIDITY counter, flag letters and keywords.  The
 * list is untrusted: anyone with the user's rights may have written it,
 * so every field is checked and any fault means "rebuild".
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "imap_store_int.h"
#include "util.h"
#include "xmalloc.h"

#define LIST_MAGIC	"postern-uidlist 1 "
#ifndef IMAP_STORE_FUZZ
#define IMAP_STORE_FUZZ	0	/* 1: the fuzz target skips the log's hash */
#endif
#define MODSEQ_MAX	((uint64_t)INT64_MAX)

int
store_lock_file(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd == -1)
		return -1;
	while (flock(fd, LOCK_EX) == -1) {
		if (errno != EINTR) {
			int saved = errno;

			(void)close(fd);
			errno = saved;
			return -1;
		}
	}
	return fd;
}

int
store_lock(const char *fpath)
{
	char path[PATH_MAX];

	if (str_format(path, sizeof(path), "%s/%s", fpath, STORE_LOCK_FILE) == -1)
		return errno = ENAMETOOLONG, -1;
	return store_lock_file(path);
}

void
store_unlock(int fd)
{
	if (fd >= 0)
		(void)close(fd);	/* drops the flock */
}

const char *
store_msg_file(const char *name, size_t *baselen)
{
	const char *file = name + 4;	/* after "cur/" or "new/" */
	const char *colon = strchr(file, ':');

	*baselen = colon != NULL ? (size_t)(colon - file) : strlen(file);
	return file;
}

void
store_msg_flags(struct imap_msg *m)
{
	size_t bl;
	const char *file = store_msg_file(m->name, &bl), *p;

	m->sys = m->kw = 0;
	if (strncmp(file + bl, ":2,", 3) != 0)
		return;
	for (p = file + bl + 3; *p != '\0'; p++) {
		if (*p >= 'A' && *p <= 'Z')
			m->sys |= IMAP_FLAG(*p);
		else if (*p >= 'a' && *p <= 'z')
			m->kw |= 1u << (*p - 'a');
	}
}

int
store_flag_name(char *out, size_t size, const char *base, size_t baselen,
    uint32_t sys, uint32_t kw)
{
	char letters[53];
	size_t n = 0;

	for (int i = 0; i < 26; i++)
		if (sys & (1u << i))
			letters[n++] = (char)('A' + i);
	for (int i = 0; i < 26; i++)
		if (kw & (1u << i))
			letters[n++] = (char)('a' + i);
	letters[n] = '\0';
	if (baselen > INT_MAX)
		return -1;
	return str_format(out, size, "cur/%.*s:2,%s", (int)baselen, base, letters);
}

int
store_keyword_valid(const char *kw)
{
	size_t len = strlen(kw);

	if (len == 0 || len > IMAP_STORE_KEYWORD_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)kw[i];

		/* ATOM-CHAR (RFC 3501 9) without "\" and "]" */
		if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c) != NULL)
			return 0;
	}
	return 1;
}

int
store_keyword(struct imap_folder *f, const char *kw, int create, int *added)
{
	int free_slot = -1;

	for (int i = 0; i < IMAP_STORE_KEYWORDS; i++) {
		if (f->keywords[i] == NULL) {
			if (free_slot == -1)
				free_slot = i;
		} else if (strcasecmp(f->keywords[i], kw) == 0)
			return i;
	}
	if (!create || free_slot == -1 || !store_keyword_valid(kw))
		return -1;
	f->keywords[free_slot] = xstrdup(kw);
	*added = 1;
	return free_slot;
}

/* Decimal in [min, max] at *p, followed by stop; advances *p.  0/-1. */
static int
num(const char **p, uint64_t min, uint64_t max, char stop, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;

	if (*s < '0' || *s > '9' || (*s == '0' && s[1] >= '0' && s[1] <= '9'))
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		/* v * 10 + digit > max, without wrapping (digit > max too) */
		if ((uint64_t)(*s - '0') > max || v > (max - (uint64_t)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (*s != stop || v < min)
		return -1;
	*p = s + (stop != '\0');
	*out = v;
	return 0;
}

/* A message line's name: "new/" or "cur/" then a file name of printable
 * ASCII, no "/", not starting with ".". */
static int
list_name_ok(const char *n)
{
	size_t len = strlen(n);

	if (len < 5 || len > 4 + 255 || (strncmp(n, "new/", 4) != 0 &&
	    strncmp(n, "cur/", 4) != 0) || n[4] == '.')
		return 0;
	for (size_t i = 4; i < len; i++)
		if ((unsigned char)n[i] < 0x20 || (unsigned char)n[i] > 0x7e || n[i] == '/')
			return 0;
	return 1;
}

/* The header line into f.  0/-1. */
static int
parse_header(struct imap_folder *f, const char *line)
{
	const char *p = line + strlen(LIST_MAGIC);
	uint64_t uv, un, hm;

	if (strncmp(line, LIST_MAGIC, strlen(LIST_MAGIC)) != 0 ||
	    num(&p, 1, UINT32_MAX, ' ', &uv) == -1 ||
	    num(&p, 1, UINT32_MAX, ' ', &un) == -1 ||
	    num(&p, 1, MODSEQ_MAX, '\0', &hm) == -1)
		return -1;
	f->uidvalidity = (uint32_t)uv;
	f->uidnext = (uint32_t)un;
	f->highestmodseq = hm;
	return 0;
}

/* "k LETTER NAME" into f.  0/-1. */
static int
parse_keyword(struct imap_folder *f, const char *line)
{
	int i;

	if (line[0] != 'k' || line[1] != ' ' || line[2] < 'a' || line[2] > 'z' ||
	    line[3] != ' ' || !store_keyword_valid(line + 4))
		return -1;
	i = line[2] - 'a';
	if (f->keywords[i] != NULL)
		return -1;
	for (int j = 0; j < IMAP_STORE_KEYWORDS; j++)
		if (f->keywords[j] != NULL && strcasecmp(f->keywords[j], line + 4) == 0)
			return -1;
	f->keywords[i] = xstrdup(line + 4);
	return 0;
}

/* "UID MODSEQ NAME" appended to f->msgs (room for it is there).  0/-1. */
static int
parse_msg(struct imap_folder *f, const char *line)
{
	const char *p = line;
	uint64_t uid, ms;
	struct imap_msg *m;

	if (num(&p, 1, UINT32_MAX, ' ', &uid) == -1 ||
	    num(&p, 1, f->highestmodseq, ' ', &ms) == -1 || !list_name_ok(p))
		return -1;
	if (uid >= f->uidnext || (f->n > 0 && uid <= f->msgs[f->n - 1].uid))
		return -1;
	m = &f->msgs[f->n++];
	memset(m, 0, sizeof(*m));
	m->uid = (uint32_t)uid;
	m->modseq = ms;
	m->name = xstrdup(p);
	store_msg_flags(m);
	return 0;
}

/* The base part of the list text (NUL-terminated, len octets) into f:
 * header, keywords, messages, up to the first log record (a line that
 * starts with a capital letter or NUL; the header line starts with
 * "p"); its length into *base.  0/-1. */
static int
parse_base(struct imap_folder *f, char *text, size_t len, size_t *base)
{
	size_t lines = 0, i, end;
	char *line, *nl;

	for (end = 0; end < len; end++) {
		if (text[end] == '\0')
			return -1;
		/* the log starts at a capital; zeros are a torn tail (what
		 * some file systems show of data lost in a crash) */
		if (text[end] == '\n' && end + 1 < len && ((text[end + 1] >= 'A' &&
		    text[end + 1] <= 'Z') || text[end + 1] == '\0')) {
			end++;
			break;
		}
	}
	if (end == 0 || text[end - 1] != '\n')
		return -1;
	for (i = 0; i < len; i++)
		lines += text[i] == '\n';
	f->msgs = xreallocarray(NULL, lines, sizeof(*f->msgs));
	for (line = text, i = 0; line < text + end; line = nl + 1, i++) {
		nl = strchr(line, '\n');
		*nl = '\0';
		if (i == 0) {
			if (parse_header(f, line) == -1)
				return -1;
		} else if (line[0] == 'k') {
			if (f->n > 0 || parse_keyword(f, line) == -1)
				return -1;
		} else if (parse_msg(f, line) == -1)
			return -1;
		*nl = '\n';
	}
	*base = (size_t)(line - text);
	return 0;
}

uint64_t
store_log_hash(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 0xcbf29ce484222325ULL;	/* FNV-1a 64 */

	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 0x100000001b3ULL;
	return h;
}

/* The listed (not expunged: modseq 0) message uid of f, or NULL. */
static struct imap_msg *
log_find(struct imap_folder *f, uint64_t uid)
{
	struct imap_msg *m = uid <= UINT32_MAX ? imap_folder_find(f, (uint32_t)uid) : NULL;

	return m != NULL && m->modseq != 0 ? m : NULL;
}

/* One log record (NUL-terminated line) of a batch committed with uidnext
 * un and highestmodseq hm, applied to f.  0, -1 invalid. */
static int
log_record(struct imap_folder *f, char *line, uint64_t un, uint64_t hm)
{
	const char *p = line + 2, *ob, *nb;
	uint64_t uid, ms;
	struct imap_msg *m;
	size_t ol, nl;

	if (line[0] == 'K' && line[1] == ' ') {
		line[0] = 'k';
		return parse_keyword(f, line);
	}
	if (line[1] != ' ' || num(&p, 1, UINT32_MAX, line[0] == 'X' ? '\0' : ' ', &uid) == -1)
		return -1;
	if (line[0] == 'X') {
		if ((m = log_find(f, uid)) == NULL)
			return -1;
		m->modseq = 0;	/* gone; dropped once the log is applied */
		return 0;
	}
	if (num(&p, 1, hm, ' ', &ms) == -1 || !list_name_ok(p))
		return -1;
	if (line[0] == 'A') {
		if (uid < f->uidnext || uid >= un)
			return -1;
		f->uidnext = (uint32_t)uid;	/* parse_msg wants uid < uidnext */
		f->uidnext++;
		f->highestmodseq = hm;
		return parse_msg(f, line + 2);
	}
	if (line[0] != 'U' || (m = log_find(f, uid)) == NULL)
		return -1;
	ob = store_msg_file(m->name, &ol);
	nb = store_msg_file(p, &nl);
	if (ol != nl || memcmp(ob, nb, ol) != 0)	/* a rename keeps the unique part */
		return -1;
	free(m->name);
	m->name = xstrdup(p);
	m->modseq = ms;
	store_msg_flags(m);
	return 0;
}

/* The batch at text[0..len) (NUL-terminated): 1 applied (its length into
 * *used), 0 torn (no commit line, or LEN/HASH do not match), -1 a
 * complete batch that does not fit the list. */
static int
log_batch(struct imap_folder *f, char *text, size_t len, size_t *used)
{
	char *c = text, *nl, *line;
	uint64_t un, hm, blen, hash;
	const char *p;

	while (c < text + len && !(c[0] == 'C' && c[1] == ' ')) {
		if ((nl = memchr(c, '\n', (size_t)(text + len - c))) == NULL)
			return 0;
		c = nl + 1;
	}
	if (c >= text + len || (nl = memchr(c, '\n', (size_t)(text + len - c))) == NULL)
		return 0;
	*nl = '\0';
	p = c + 2;
	if (num(&p, 1, UINT32_MAX, ' ', &un) == -1 || num(&p, 1, MODSEQ_MAX, ' ', &hm) == -1 ||
	    num(&p, 0, IMAP_STORE_LIST_MAX, ' ', &blen) == -1 || strlen(p) != 16 ||
	    strspn(p, "0123456789abcdef") != 16 || blen != (uint64_t)(c - text))
		return 0;
	hash = strtoull(p, NULL, 16);
	if (store_log_hash(text, (size_t)blen) != hash && !IMAP_STORE_FUZZ)
		return 0;
	if (un < f->uidnext || hm < f->highestmodseq || memchr(text, '\0', blen) != NULL)
		return -1;
	for (line = text; line < c; line = nl + 1) {
		nl = strchr(line, '\n');
		*nl = '\0';
		if (log_record(f, line, un, hm) == -1)
			return -1;
	}
	f->uidnext = (uint32_t)un;
	f->highestmodseq = hm;
	*used = (size_t)(c - text) + strlen(c) + 1;
	return 1;
}

/* Parse the list text (NUL-terminated, len octets) into f: the base,
 * then the log (list_base, list_end, list_torn set).  0/-1. */
static int
parse_list(struct imap_folder *f, char *text, size_t len)
{
	size_t off, used, k = 0;
	int r = 1;

	if (parse_base(f, text, len, &off) == -1)
		return -1;
	f->list_base = (off_t)off;
	while (off < len && (r = log_batch(f, text + off, len - off, &used)) == 1)
		off += used;
	if (r == -1)
		return -1;
	f->list_end = (off_t)off;
	f->list_torn = off < len;
	for (size_t i = 0; i < f->n; i++) {
		if (f->msgs[i].modseq == 0)
			free(f->msgs[i].name);
		else
			f->msgs[k++] = f->msgs[i];
	}
	f->n = k;
	return 0;
}

/* 1 if the list text holds a log record (a line starting with a capital). */
static int
has_log(const char *text, size_t len)
{
	const char *p = text, *end = text + len;

	while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL && ++p < end)
		if (*p >= 'A' && *p <= 'Z')
			return 1;
	return 0;
}

/* Read the list at path into *text (malloc'd, NUL-terminated, *len
 * octets; the caller frees).  A log part is fdatasync()ed first: its
 * writer may have died before doing so, and what the caller reports must
 * be on disk.  0, -1 (errno). */
static int
list_load(const char *path, char **text, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY), r = 0;
	struct stat st;
	size_t size = 0;

	*text = NULL;
	*len = 0;
	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		r = -1;
	else if (!S_ISREG(st.st_mode))
		r = (errno = EISDIR, -1);
	else if (st.st_size > (off_t)IMAP_STORE_LIST_MAX)
		r = (errno = EFBIG, -1);
	else
		*text = xmalloc((size = (size_t)st.st_size) + 1);
	while (r == 0 && *len < size) {
		ssize_t n = read(fd, *text + *len, size - *len);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n == 0 ? 0 : -1;
			break;
		}
		*len += (size_t)n;
	}
	if (*text != NULL)
		(*text)[*len] = '\0';
	if (r == 0 && has_log(*text, *len) && fdatasync(fd) == -1)
		r = -1;
	if (close(fd) == -1)
		r = -1;
	return r;
}

int
store_list_read(struct imap_folder *f)
{
	char path[PATH_MAX], *text;
	size_t len;
	int r;

	store_view_clear(f);
	f->list_base = f->list_end = 0;
	f->list_torn = 0;
	if (str_format(path, sizeof(path), "%s/%s", f->path, STORE_LIST_FILE) == -1)
		return errno = ENAMETOOLONG, -1;
	if (list_load(path, &text, &len) == -1) {
		free(text);
		if (errno == ENOENT || errno == EFBIG || errno == EISDIR ||
		    errno == ELOOP)
			return 0;
		return -1;
	}
	r = len > 0 && parse_list(f, text, len) == 0;
	free(text);
	if (!r) {
		store_view_clear(f);
		f->list_base = f->list_end = 0;
		f->list_torn = 0;
	}
	store_watch_list_seen(f);
	return r;
}

int
store_list_write(struct imap_folder *f)
{
	struct buf b = BUF_INIT(IMAP_STORE_LIST_MAX);
	char path[PATH_MAX], tmp[PATH_MAX];
	int fd, ok;

	ok = buf_printf(&b, LIST_MAGIC "%" PRIu32 " %" PRIu32 " %" PRIu64 "\n",
	    f->uidvalidity, f->uidnext, f->highestmodseq) == 0;
	for (int i = 0; ok && i < IMAP_STORE_KEYWORDS; i++)
		if (f->keywords[i] != NULL)
			ok = buf_printf(&b, "k %c %s\n", 'a' + i, f->keywords[i]) == 0;
	for (size_t i = 0; ok && i < f->n; i++)
		ok = buf_printf(&b, "%" PRIu32 " %" PRIu64 " %s\n", f->msgs[i].uid,
		    f->msgs[i].modseq, f->msgs[i].name) == 0;
	if (!ok || str_format(path, sizeof(path), "%s/%s", f->path,
	    STORE_LIST_FILE) == -1) {
		buf_free(&b);
		return errno = EFBIG, -1;
	}
	if ((fd = atomic_begin(path, tmp, sizeof(tmp))) == -1) {
		buf_free(&b);
		return -1;
	}
	ok = write_all(fd, b.data, b.len) == 0;
	f->list_base = f->list_end = (off_t)b.len;
	buf_free(&b);
	if (atomic_end(fd, tmp, path, ok) == -1) {
		f->list_base = f->list_end = 0;
		f->list_torn = 1;	/* unknown: the next writer rewrites */
		return -1;
	}
	f->list_torn = 0;
	store_watch_list_seen(f);
	return 0;
}

static unsigned long store_log_appends;	/* batches appended (the tests') */

/* Append the batch in log (records; the commit line is added here) to the
 * list file at f->list_end: one write, fdatasync.  0, 1 (cannot append
 * here: rewrite instead), -1 error (f->list_torn set). */
static int
log_append(struct imap_folder *f, struct buf *log)
{
	char path[PATH_MAX];
	struct stat st;
	size_t blen = log->len;
	int fd, r = 0;

	if (buf_printf(log, "C %" PRIu32 " %" PRIu64 " %zu %016" PRIx64 "\n", f->uidnext,
	    f->highestmodseq, blen, store_log_hash(log->data, blen)) == -1 ||
	    str_format(path, sizeof(path), "%s/%s", f->path, STORE_LIST_FILE) == -1)
		return 1;
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return errno == ENOENT ? 1 : -1;
	if (fstat(fd, &st) == -1 || st.st_size != f->list_end) {
		(void)close(fd);
		return 1;
	}
	if (write_all(fd, log->data, log->len) == -1 || fdatasync(fd) == -1) {
		/* maybe a partial batch: cut it off, else the next writer
		 * replaces the file */
		r = -1;
		f->list_torn = ftruncate(fd, f->list_end) == -1 || fdatasync(fd) == -1;
	}
	if (close(fd) == -1 && r == 0) {
		r = -1;
		f->list_torn = 1;
	}
	if (r == 0) {
		store_log_appends++;
		f->list_end += (off_t)log->len;
		store_watch_list_seen(f);
	}
	return r;
}

int
store_log_write(struct imap_folder *f, struct buf *log)
{
	off_t loglen = f->list_end - f->list_base;
	int r = 1;

	if (!f->list_torn && f->list_end > 0 && (loglen < 8192 || loglen < f->list_base / 2))
		r = log_append(f, log);
	if (r == 1)
		r = store_list_write(f);
	buf_free(log);
	return r;
}

int
store_log_keywords(const struct imap_folder *f, char *const *had, struct buf *log)
{
	for (int i = 0; i < IMAP_STORE_KEYWORDS; i++)
		if (had[i] == NULL && f->keywords[i] != NULL &&
		    buf_printf(log, "K %c %s\n", 'a' + i, f->keywords[i]) == -1)
			return -1;
	return 0;
}

int
store_log_put(struct buf *log, char kind, const struct imap_msg *m)
{
	if (kind == 'X')
		return buf_printf(log, "X %" PRIu32 "\n", m->uid);
	return buf_printf(log, "%c %" PRIu32 " %" PRIu64 " %s\n", kind, m->uid, m->modseq,
	    m->name);
}

/* Read the last value from fd (0 if none or garbage). */
static uint32_t
uv_last(int fd)
{
	char text[32];
	const char *p = text;
	uint64_t v;
	ssize_t n = pread(fd, text, sizeof(text) - 1, 0);

	if (n <= 0)
		return 0;
	text[n] = '\0';
	if (n > 0 && text[n - 1] == '\n')
		text[n - 1] = '\0';
	return num(&p, 1, UINT32_MAX, '\0', &v) == 0 ? (uint32_t)v : 0;
}

int
store_uidvalidity_next(struct imap_store *s, uint32_t min, uint32_t *v)
{
	char path[PATH_MAX], text[32];
	uint32_t last, now = (uint32_t)time(NULL);
	int fd, len, saved;

	if (str_format(path, sizeof(path), "%s/%s", s->root, STORE_UV_FILE) == -1)
		return errno = ENAMETOOLONG, -1;
	if ((fd = store_lock_file(path)) == -1)
		return -1;
	last = uv_last(fd);
	*v = last >= now && last < UINT32_MAX ? last + 1 : now;
	if (*v < min)
		*v = min;
	if (*v == 0)
		*v = 1;
	len = snprintf(text, sizeof(text), "%" PRIu32 "\n", *v);
	if (len < 0 || pwrite(fd, text, (size_t)len, 0) != len ||
	    ftruncate(fd, len) == -1 || fsync(fd) == -1) {
		saved = errno;
		(void)close(fd);
		errno = saved ? saved : EIO;
		return -1;
	}
	if (close(fd) == -1)
		return -1;
	return last == 0 ? fsync_dir(s->root) : 0;
}

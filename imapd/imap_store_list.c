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
#include <time.h>
#include <unistd.h>

#include "imap_store_int.h"
#include "util.h"
#include "xmalloc.h"

#define LIST_MAGIC	"postern-uidlist 1 "
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
		if (v > (max - (uint64_t)(*s - '0')) / 10)
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

/* Parse the list text (NUL-terminated, len octets) into f.  0/-1. */
static int
parse_list(struct imap_folder *f, char *text, size_t len)
{
	size_t lines = 0, i;
	char *line, *nl;

	if (len == 0 || text[len - 1] != '\n' || memchr(text, '\0', len) != NULL)
		return -1;
	for (i = 0; i < len; i++)
		lines += text[i] == '\n';
	f->msgs = xreallocarray(NULL, lines, sizeof(*f->msgs));
	for (line = text, i = 0; line < text + len; line = nl + 1, i++) {
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
	}
	return 0;
}

int
store_list_read(struct imap_folder *f)
{
	struct buf b = BUF_INIT(IMAP_STORE_LIST_MAX);
	char path[PATH_MAX];
	int r;

	store_view_clear(f);
	if (str_format(path, sizeof(path), "%s/%s", f->path, STORE_LIST_FILE) == -1)
		return errno = ENAMETOOLONG, -1;
	if (read_file(path, &b, IMAP_STORE_LIST_MAX) == -1) {
		buf_free(&b);
		if (errno == ENOENT || errno == EFBIG || errno == EISDIR ||
		    errno == ELOOP)
			return 0;
		return -1;
	}
	r = b.len > 0 && parse_list(f, b.data, b.len) == 0;
	buf_free(&b);
	if (!r)
		store_view_clear(f);
	return r;
}

int
store_list_write(const struct imap_folder *f)
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
	buf_free(&b);
	return atomic_end(fd, tmp, path, ok);
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
